/*
 * GetDownloadUrlForLayer: a presigned URL of the layer (its form and
 * signature: download_url.c; its fetch: s3.c).
 */
#include <string.h>

#include "areas/areas.h"

int em_GetDownloadUrlForLayer(em_call *c)
{
    em_repo *repo = em_repo_lookup(c);
    if (!repo)
        return -1;
    const char *digest = em_get_str(c->req, "layerDigest");
    em_layer *l = em_layer_get(repo, digest);
    if (!l)
        return em_fail_text(c, EM_MSG_LAYER_NOT_FOUND, digest, repo->name, repo->registry->id);
    if (l->image_refs == 0)
        return em_fail_text(c, EM_MSG_LAYER_INACCESSIBLE, digest, repo->name, repo->registry->id);

    char *url = em_download_url(c->m, repo->registry->id, repo->name, digest);
    if (!url)
        return em_fail_nomem(c);
    int rc = em_set(c->out, "downloadUrl", em_json_string(url));
    em_free(url);
    if (rc < 0 || em_set(c->out, "layerDigest", em_json_string(digest)) < 0)
        return em_fail_nomem(c);
    return 0;
}
