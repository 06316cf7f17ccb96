/*
 * Test controls that act on an instance from outside the API: seed a
 * repository's layers without the wire and read them back, call as another
 * account or region (ecrmock_call_as), create a repository as a creation
 * template would (ecrmock_create_repository_for).
 */
#include <string.h>

#include "tooling.h"

/* What the model allows: a RegistryId is 12 digits; a repository name is
 * not empty (the store finds no other). */
static bool names_ok(const char *registry_id, const char *repository)
{
    if (!repository || !*repository)
        return false;
    return !registry_id || em_account_id_ok(registry_id);
}


static em_repo *find_repo(ecrmock *m, const char *registry_id, const char *repository)
{
    return em_repo_get(em_registry_get(m, registry_id ? registry_id : m->account), repository);
}

ecrmock_error ecrmock_put_layer(ecrmock *m, const char *registry_id, const char *repository, const void *bytes,
                                size_t len, char *digest_out)
{
    if (!m || !names_ok(registry_id, repository) || (!bytes && len))
        return ECRMOCK_ERR_INVALID_PARAMETER;
    char digest[ECRMOCK_DIGEST_SIZE];
    em_sha256_digest(bytes ? bytes : "", len, digest);
    unsigned char *data = em_malloc(len);
    if (!data)
        return ECRMOCK_ERR_SERVER;
    if (len)
        memcpy(data, bytes, len);
    ecrmock_error rc = ECRMOCK_ERR_OK;
    em_lock(m);
    em_repo *repo = find_repo(m, registry_id, repository);
    if (!repo)
        rc = ECRMOCK_ERR_REPOSITORY_NOT_FOUND;
    else if (!em_layer_add(m, repo, digest, &data, len))
        rc = ECRMOCK_ERR_SERVER;
    em_unlock(m);
    em_free(data); /* NULL when the blob store took it */
    if (rc == ECRMOCK_ERR_OK && digest_out)
        memcpy(digest_out, digest, sizeof digest);
    return rc;
}

ecrmock_error ecrmock_get_layer(ecrmock *m, const char *registry_id, const char *repository, const char *digest,
                                void **bytes_out, size_t *len_out)
{
    if (!bytes_out || !len_out)
        return ECRMOCK_ERR_INVALID_PARAMETER;
    *bytes_out = NULL;
    *len_out = 0;
    if (!m || !names_ok(registry_id, repository) || !digest || !em_digest_ok(digest))
        return ECRMOCK_ERR_INVALID_PARAMETER;
    ecrmock_error rc = ECRMOCK_ERR_OK;
    em_lock(m);
    em_repo *repo = find_repo(m, registry_id, repository);
    em_layer *l = repo ? em_layer_get(repo, digest) : NULL;
    if (!repo) {
        rc = ECRMOCK_ERR_REPOSITORY_NOT_FOUND;
    } else if (!l) {
        rc = ECRMOCK_ERR_LAYERS_NOT_FOUND;
    } else if (l->blob->len) {
        void *copy = em_malloc(l->blob->len);
        if (copy) {
            memcpy(copy, l->blob->data, l->blob->len);
            *bytes_out = copy;
            *len_out = l->blob->len;
        } else {
            rc = ECRMOCK_ERR_SERVER;
        }
    }
    em_unlock(m);
    return rc;
}

json_t *ecrmock_images(ecrmock *m, const char *registry_id, const char *repository)
{
    if (!m || !repository)
        return NULL;
    em_lock(m);
    em_repo *repo = find_repo(m, registry_id, repository);
    json_t *list = repo ? json_array() : NULL;
    for (size_t i = 0; list && i < repo->order.n; i++) {
        em_image *img = repo->order.v[i].item;
        if (!img)
            continue;
        json_t *tags = em_image_tags_json(img);
        json_t *item = tags ? json_pack("{s:s, s:o}", "imageDigest", img->digest, "imageTags", tags) : NULL;
        if (json_array_append_new(list, item) < 0) {
            json_decref(list);
            list = NULL;
        }
    }
    em_unlock(m);
    return list;
}

int ecrmock_call_as(ecrmock *m, const char *account_id, const char *region, const char *action, json_t *request,
                    json_t **response)
{
    if (!response)
        return -1;
    *response = NULL;
    if (!m || !action || (account_id && !em_account_id_ok(account_id)) || (region && !em_region_name_ok(region)))
        return -1;
    em_lock(m);
    em_view v;
    int status = -1;
    if (em_view_enter(m, account_id, region, &v) == 0) {
        status = em_dispatch(m, action, request, response, NULL);
        em_view_leave(m, &v);
    }
    em_unlock(m);
    return status;
}

/* ---- the test control ------------------------------------------------------------------- */

static bool known_use(const char *use)
{
    return strcmp(use, "PULL_THROUGH_CACHE") == 0 || strcmp(use, "REPLICATION") == 0 ||
           strcmp(use, "CREATE_ON_PUSH") == 0;
}

ecrmock_error ecrmock_create_repository_for(ecrmock *m, const char *registry_id, const char *repository,
                                            const char *applied_for, json_t **repository_out)
{
    if (repository_out)
        *repository_out = NULL;
    if (!m || !repository || !applied_for || !known_use(applied_for))
        return ECRMOCK_ERR_INVALID_PARAMETER;
    json_t *req = json_pack("{s:s, s:s*}", "repositoryName", repository, "registryId", registry_id);
    if (!req)
        return ECRMOCK_ERR_SERVER;
    em_call c = {.m = m, .req = req, .err = ECRMOCK_ERR_OK};
    em_lock(m);
    /* CreateRepository's own checks and defaults, then the template's settings. */
    if (em_validate(&c, EM_SHAPE_CreateRepositoryRequest, req) == 0) {
        bool fresh = !em_registry_get(m, em_registry_id(&c));
        c.out = json_object();
        if (!c.out || em_CreateRepository(&c) < 0) {
            if (!c.out)
                em_fail_nomem(&c);
        } else {
            const char *reg_id = em_registry_id(&c);
            em_repo *repo = em_repo_get(em_registry_get(m, reg_id), repository);
            json_t *shown = NULL;
            if (em_template_apply(&c, reg_id, repository, applied_for, repo) < 0 ||
                (repository_out && !(shown = em_repo_json(m, repo)))) {
                em_registry *reg = repo->registry;
                em_repo_remove(m, repo);
                if (fresh)
                    em_registry_drop_if_empty(m, reg);
                if (c.err == ECRMOCK_ERR_OK)
                    em_fail_nomem(&c);
            } else if (repository_out) {
                *repository_out = shown;
            }
        }
    }
    em_unlock(m);
    json_decref(c.out);
    json_decref(c.errdoc);
    json_decref(req);
    return c.err;
}
