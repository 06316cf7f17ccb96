/*
 * Request names to stored objects, with ECR's not-found errors: the
 * registry id, the repository, the image of an imageId.
 */
#include <stdio.h>
#include <string.h>

#include "store/store.h"

const char *em_registry_id(em_call *c)
{
    const char *id = em_get_str(c->req, "registryId");
    return id ? id : c->m->account;
}

em_repo *em_repo_lookup(em_call *c)
{
    const char *reg = em_registry_id(c);
    const char *name = em_get_str(c->req, "repositoryName");
    em_repo *repo = em_repo_get(em_registry_get(c->m, reg), name);
    if (!repo)
        em_fail_text(c, EM_MSG_REPOSITORY_NOT_FOUND, name, reg);
    return repo;
}

int em_image_not_found(em_call *c, em_repo *repo, const char *digest, const char *tag)
{
    return em_fail_text(c, EM_MSG_IMAGE_NOT_FOUND, digest ? digest : "null", tag ? tag : "null", repo->name,
                        repo->registry->id);
}

em_id_result em_image_resolve(em_repo *repo, json_t *id, em_image **img_out, em_tag **tag_out)
{
    return em_image_resolve_by(repo, em_get_str(id, "imageDigest"), em_get_str(id, "imageTag"), img_out, tag_out);
}

em_id_result em_image_resolve_by(em_repo *repo, const char *digest, const char *tag, em_image **img_out,
                                 em_tag **tag_out)
{
    *img_out = NULL;
    *tag_out = NULL;
    if (!digest && !tag)
        return EM_ID_MISSING_DIGEST_AND_TAG;
    if (digest && !em_digest_ok(digest))
        return EM_ID_INVALID_DIGEST;
    em_tag *t = tag ? em_tag_get(repo, tag) : NULL;
    if (tag && !t)
        return EM_ID_NOT_FOUND;
    em_image *img = digest ? em_image_get(repo, digest) : t->image;
    if (t && digest && t->image != img)
        return img ? EM_ID_TAG_DOES_NOT_MATCH : EM_ID_NOT_FOUND;
    if (!img)
        return EM_ID_NOT_FOUND;
    *img_out = img;
    *tag_out = t;
    return EM_ID_FOUND;
}

em_image *em_request_image(em_call *c, em_repo **repo_out)
{
    em_repo *repo = em_repo_lookup(c);
    *repo_out = repo;
    return repo ? em_image_lookup(c, repo, json_object_get(c->req, "imageId")) : NULL;
}

em_image *em_image_lookup(em_call *c, em_repo *repo, json_t *id)
{
    em_image *img;
    em_tag *t;
    if (em_image_resolve(repo, id, &img, &t) != EM_ID_FOUND) {
        em_image_not_found(c, repo, em_get_str(id, "imageDigest"), em_get_str(id, "imageTag"));
        return NULL;
    }
    return img;
}
