/*
 * ECR's JSON of stored objects: a repository, an imageId, an image's tags.
 */
#include <stdio.h>
#include <string.h>

#include "store/store.h"

json_t *em_repo_json(ecrmock *m, em_repo *repo)
{
    (void)m;
    /* Each member is owned by the object as soon as it is made: one release
     * on any failure frees them all. */
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:o, s:s}", "repositoryArn", repo->arn, "registryId",
                          repo->registry->id, "repositoryName", repo->name, "repositoryUri", repo->uri,
                          "createdAt", em_time(repo->created_ms), "imageTagMutability", repo->tag_mutability);
    if (!o)
        return NULL;
    if ((repo->mutability_filters &&
         em_set(o, "imageTagMutabilityExclusionFilters", json_deep_copy(repo->mutability_filters)) < 0) ||
        em_set(o, "imageScanningConfiguration", json_pack("{s:b}", "scanOnPush", repo->scan_on_push)) < 0 ||
        em_set(o, "encryptionConfiguration", json_pack("{s:s}", "encryptionType", repo->encryption_type)) < 0 ||
        (repo->kms_key &&
         em_set(json_object_get(o, "encryptionConfiguration"), "kmsKey", em_json_string(repo->kms_key)) < 0)) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* ---- the writers: each tree's bytes as em_wire_dump() writes them, with
 * nothing allocated but b's growth; a member's name and its punctuation
 * are one literal ("{\"name\":", ",\"name\":"). */

int em_repo_write(em_buf *b, ecrmock *m, em_repo *repo)
{
    (void)m;
    if (EM_JW_STR_AFTER(b, "{\"repositoryArn\":", repo->arn) < 0 ||
        EM_JW_STR_AFTER(b, ",\"registryId\":", repo->registry->id) < 0 ||
        EM_JW_STR_AFTER(b, ",\"repositoryName\":", repo->name) < 0 ||
        EM_JW_STR_AFTER(b, ",\"repositoryUri\":", repo->uri) < 0 ||
        EM_JW_LIT(b, ",\"createdAt\":") < 0 || em_jw_time(b, repo->created_ms) < 0 ||
        EM_JW_STR_AFTER(b, ",\"imageTagMutability\":", repo->tag_mutability) < 0)
        return -1;
    /* rare: written from the stored tree, as its deep copy would be */
    if (repo->mutability_filters &&
        (EM_JW_LIT(b, ",\"imageTagMutabilityExclusionFilters\":") < 0 || em_jw_value(b, repo->mutability_filters) < 0))
        return -1;
    if ((repo->scan_on_push ? EM_JW_LIT(b, ",\"imageScanningConfiguration\":{\"scanOnPush\":true}")
                            : EM_JW_LIT(b, ",\"imageScanningConfiguration\":{\"scanOnPush\":false}")) < 0 ||
        EM_JW_STR_AFTER(b, ",\"encryptionConfiguration\":{\"encryptionType\":", repo->encryption_type) < 0 ||
        (repo->kms_key && EM_JW_STR_AFTER(b, ",\"kmsKey\":", repo->kms_key) < 0))
        return -1;
    return EM_JW_LIT(b, "}}");
}

int em_image_id_write(em_buf *b, const char *digest, const char *tag)
{
    if (EM_JW_LIT(b, "{") < 0 || (digest && EM_JW_STR_AFTER(b, "\"imageDigest\":", digest) < 0) ||
        (tag && digest && EM_JW_LIT(b, ",") < 0) || (tag && EM_JW_STR_AFTER(b, "\"imageTag\":", tag) < 0))
        return -1;
    return EM_JW_LIT(b, "}");
}

json_t *em_image_id_json(const char *digest, const char *tag)
{
    json_t *id = json_object();
    if (!id || em_set(id, "imageDigest", em_json_string(digest)) < 0 ||
        (tag && em_set(id, "imageTag", em_json_string(tag)) < 0)) {
        json_decref(id);
        return NULL;
    }
    return id;
}

json_t *em_image_tags_json(const em_image *img)
{
    json_t *tags = json_array();
    for (size_t k = 0; tags && k < img->n_tags; k++)
        if (json_array_append_new(tags, em_json_string(img->tags[k]->name)) < 0) {
            json_decref(tags);
            return NULL;
        }
    return tags;
}

json_t *em_image_json(em_repo *repo, em_image *img, const char *tag)
{
    json_t *o = json_object();
    if (!o || em_set(o, "registryId", em_json_string(repo->registry->id)) < 0 ||
        em_set(o, "repositoryName", em_json_string(repo->name)) < 0 ||
        em_set(o, "imageId", em_image_id_json(img->digest, tag)) < 0 ||
        em_set(o, "imageManifest", em_manifest_string(img->manifest, img->manifest_len)) < 0 ||
        em_set(o, "imageManifestMediaType", em_json_string(img->media_type)) < 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* em_image_write_as(); at (may be NULL): where the manifest's string went. */
static int image_write(em_buf *b, em_repo *repo, em_image *img, const char *tag, const char *manifest_text,
                       size_t manifest_text_len, size_t at[2])
{
    if (EM_JW_STR_AFTER(b, "{\"registryId\":", repo->registry->id) < 0 ||
        EM_JW_STR_AFTER(b, ",\"repositoryName\":", repo->name) < 0 || EM_JW_LIT(b, ",\"imageId\":") < 0 ||
        em_image_id_write(b, img->digest, tag) < 0 || EM_JW_LIT(b, ",\"imageManifest\":") < 0)
        return -1;
    size_t start = b->len;
    if ((manifest_text ? EM_JW_LIT(b, "\"") < 0 || em_buf_append(b, manifest_text, manifest_text_len) < 0 ||
                             EM_JW_LIT(b, "\"") < 0
                       : em_jw_string(b, img->manifest, img->manifest_len) < 0))
        return -1;
    if (at) {
        at[0] = start;
        at[1] = b->len;
    }
    if (EM_JW_STR_AFTER(b, ",\"imageManifestMediaType\":", img->media_type) < 0)
        return -1;
    return EM_JW_LIT(b, "}");
}

int em_image_write(em_buf *b, em_repo *repo, em_image *img, const char *tag, size_t at[2])
{
    return image_write(b, repo, img, tag, NULL, 0, at);
}

int em_image_write_as(em_buf *b, em_repo *repo, em_image *img, const char *tag, const char *manifest_text,
                      size_t manifest_text_len)
{
    return image_write(b, repo, img, tag, manifest_text, manifest_text_len, NULL);
}
