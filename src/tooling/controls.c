/*
 * Test controls that act on an instance from outside the API: seed a
 * repository's layers without the wire and read them back, call as another
 * account or region (ecrmock_call_as), create a repository as a creation
 * template would (ecrmock_create_repository_for).
 */
#include <string.h>

#include "tooling.h"

/* What the model allows: a RegistryId is 12 digits; a repository name is
 * not empty (the store finds no other).  0, or -1 with *err saying which. */
static int check_names(ecrmock_err *err, const char *registry_id, const char *repository)
{
    if (!repository || !*repository)
        return em_err_arg(err, "the repository name must be a non-empty string");
    return em_err_registry_id(err, registry_id);
}

static em_repo *find_repo(ecrmock *m, const char *registry_id, const char *repository)
{
    return em_repo_get(em_registry_get(m, registry_id ? registry_id : m->account), repository);
}

int ecrmock_put_layer(ecrmock *m, const char *registry_id, const char *repository, const void *bytes, size_t len,
                      char *digest_out, ecrmock_err *err)
{
    em_err_clear(err);
    if (!m)
        return em_err_arg(err, "no instance (m is NULL)");
    if (check_names(err, registry_id, repository) < 0)
        return -1;
    if (!bytes && len)
        return em_err_arg(err, "bytes is NULL but len is %zu", len);
    char digest[ECRMOCK_DIGEST_SIZE];
    em_sha256_digest(bytes ? bytes : "", len, digest);
    unsigned char *data = em_malloc(len);
    if (!data)
        return em_err_nomem(err);
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
    if (rc == ECRMOCK_ERR_REPOSITORY_NOT_FOUND)
        return em_err_no_repo(err, m, registry_id, repository);
    if (rc != ECRMOCK_ERR_OK)
        return em_err_nomem(err);
    if (digest_out)
        memcpy(digest_out, digest, sizeof digest);
    return 0;
}

int ecrmock_get_layer(ecrmock *m, const char *registry_id, const char *repository, const char *digest,
                      void **bytes_out, size_t *len_out, ecrmock_err *err)
{
    em_err_clear(err);
    if (!bytes_out || !len_out)
        return em_err_arg(err, "bytes_out and len_out must not be NULL");
    *bytes_out = NULL;
    *len_out = 0;
    if (!m)
        return em_err_arg(err, "no instance (m is NULL)");
    if (check_names(err, registry_id, repository) < 0)
        return -1;
    if (!digest || !em_digest_ok(digest))
        return em_err_arg(err, "digest '%.100s' is not of the form \"algorithm:hex\"", digest ? digest : "(null)");
    ecrmock_error rc = ECRMOCK_ERR_OK;
    em_lock(m);
    em_repo *repo = find_repo(m, registry_id, repository);
    em_layer *l = repo ? em_layer_get(repo, digest) : NULL;
    if (!repo) {
        rc = ECRMOCK_ERR_REPOSITORY_NOT_FOUND;
    } else if (!l) {
        rc = ECRMOCK_ERR_LAYERS_NOT_FOUND;
    } else if (em_blob_declared(l->blob)) {
        rc = ECRMOCK_ERR_LAYER_INACCESSIBLE;
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
    if (rc == ECRMOCK_ERR_REPOSITORY_NOT_FOUND)
        return em_err_no_repo(err, m, registry_id, repository);
    if (rc == ECRMOCK_ERR_LAYERS_NOT_FOUND)
        return em_err_set(err, rc, NULL, "no layer '%.100s' in the repository '%.256s'", digest, repository);
    if (rc == ECRMOCK_ERR_LAYER_INACCESSIBLE)
        return em_err_set(err, rc, NULL,
                          "the layer '%.100s' of the repository '%.256s' is declared (a digest and a size, from a "
                          "fixture): ecrmock holds no bytes for it",
                          digest, repository);
    return rc == ECRMOCK_ERR_OK ? 0 : em_err_nomem(err);
}

json_t *ecrmock_images(ecrmock *m, const char *registry_id, const char *repository, ecrmock_err *err)
{
    em_err_clear(err);
    if (!m) {
        em_err_arg(err, "no instance (m is NULL)");
        return NULL;
    }
    if (check_names(err, registry_id, repository) < 0)
        return NULL;
    bool nomem = false;
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
            nomem = true;
        }
    }
    nomem = nomem || (repo && !list);
    em_unlock(m);
    if (nomem)
        em_err_nomem(err);
    else if (!repo)
        em_err_no_repo(err, m, registry_id, repository);
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

int ecrmock_create_repository_for(ecrmock *m, const char *registry_id, const char *repository,
                                  const char *applied_for, json_t **repository_out, ecrmock_err *err)
{
    em_err_clear(err);
    if (repository_out)
        *repository_out = NULL;
    if (!m || !repository)
        return em_err_arg(err, "m and repository must not be NULL");
    if (!applied_for || !known_use(applied_for))
        return em_err_arg(err, "applied_for '%.64s' is none of PULL_THROUGH_CACHE, REPLICATION, CREATE_ON_PUSH",
                          applied_for ? applied_for : "(null)");
    /* json_pack() refuses a string that is not UTF-8, which is no lack of memory. */
    if (!em_utf8_ok(repository) || (registry_id && !em_utf8_ok(registry_id)))
        return em_err_arg(err, "the %s '%.256s' is not UTF-8", em_utf8_ok(repository) ? "registry id" : "repository name",
                          em_utf8_ok(repository) ? registry_id : repository);
    /* not json_pack's "s*", which leaves registryId out (the caller's registry!) when making it runs out of memory */
    json_t *req = json_pack("{s:s}", "repositoryName", repository);
    if (req && registry_id && em_set(req, "registryId", json_string(registry_id)) < 0) {
        json_decref(req);
        req = NULL;
    }
    if (!req)
        return em_err_nomem(err);
    em_call c = {.m = m, .req = req, .err = ECRMOCK_ERR_OK};
    em_lock(m);
    em_repo *repo = NULL;
    em_registry_mark mark = em_registry_mark_of(m, registry_id ? registry_id : m->account);
    if (em_repo_create_for(&c, applied_for, false, &repo) > 0 && repository_out &&
        !(*repository_out = em_repo_json(m, repo))) {
        em_repo_remove(m, repo);
        em_registry_abandon(&mark); /* a registry made for this call goes again */
        em_fail_nomem(&c);
    }
    em_unlock(m);
    int rc = c.err == ECRMOCK_ERR_OK ? 0 : em_err_from_call(err, &c);
    json_decref(c.out);
    json_decref(c.errdoc);
    json_decref(req);
    return rc;
}
