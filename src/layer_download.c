/*
 * GetDownloadUrlForLayer, and the fetch of the URLs it hands out.
 *
 * ECR answers with a presigned S3 URL that is good for an hour
 * (X-Amz-Expires=3600).  ecrmock's URL has the same host form and query
 * parameters; its path names the registry, repository and layer, and its
 * signature is an HMAC under the instance's key, so ecrmock_fetch_url() (and
 * the HTTP level) can serve it, and refuse it once the virtual clock has
 * passed its expiry, as S3 does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "actions.h"

#define URL_LIFETIME_S 3600

static int url_signature(ecrmock *m, const char *path, const char *date, char *hex)
{
    char buf[2048];
    int n = snprintf(buf, sizeof buf, "%s\n%s\n%d", path, date, URL_LIFETIME_S);
    unsigned char mac[32];
    if (em_mac(m, buf, (size_t)(n < (int)sizeof buf ? n : (int)sizeof buf - 1), mac) < 0)
        return -1;
    em_hex(mac, 32, hex);
    return 0;
}

static char *layer_url(ecrmock *m, em_repo *repo, const char *digest)
{
    char date[32], sig[65], path[1024];
    em_amz_date(m->clock_ms / 1000, date);
    snprintf(path, sizeof path, "/%s/%s/%s", repo->registry->id, repo->name, digest);
    if (url_signature(m, path, date, sig) < 0)
        return NULL;
    char *host = m->http_base_url ? em_strdup(m->http_base_url)
                                  : em_sprintf("https://prod-%s-starport-layer-bucket.s3.%s.amazonaws.com",
                                               m->region, m->region);
    if (!host)
        return NULL;
    char *url = em_sprintf("%s%s"
                           "?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=%s&X-Amz-SignedHeaders=host"
                           "&X-Amz-Expires=%d&X-Amz-Credential=ASIAECRMOCKEXAMPLE%%2F%.8s%%2F%s%%2Fs3%%2Faws4_request"
                           "&X-Amz-Signature=%s",
                           host, path, date, URL_LIFETIME_S, date, m->region, sig);
    em_free(host);
    return url;
}

int em_GetDownloadUrlForLayer(em_call *c)
{
    em_repo *repo = em_repo_lookup(c);
    if (!repo)
        return -1;
    const char *digest = em_str(c->req, "layerDigest");
    em_layer *l = em_layer_get(repo, digest);
    if (!l)
        return em_fail(c, ECRMOCK_ERR_LAYERS_NOT_FOUND,
                       "The layer with digest '%s' does not exist within the repository with name '%s' in the "
                       "registry with id '%s'",
                       digest, repo->name, repo->registry->id);
    if (l->image_refs == 0)
        return em_fail(c, ECRMOCK_ERR_LAYER_INACCESSIBLE,
                       "The layer with digest '%s' is not associated with an image in the repository with name '%s' "
                       "in the registry with id '%s'",
                       digest, repo->name, repo->registry->id);
    char *url = layer_url(c->m, repo, digest);
    if (!url)
        return em_fail_nomem(c);
    int rc = em_set(c->out, "downloadUrl", em_jstr(url));
    em_free(url);
    if (rc < 0 || em_set(c->out, "layerDigest", em_jstr(digest)) < 0)
        return em_fail_nomem(c);
    return 0;
}

/* The value of query parameter `name` in `query`, copied into out. */
static bool query_param(const char *query, const char *name, char *out, size_t cap)
{
    size_t n = strlen(name);
    for (const char *p = query; p && *p; p = strchr(p, '&') ? strchr(p, '&') + 1 : NULL) {
        if (strncmp(p, name, n) == 0 && p[n] == '=') {
            const char *v = p + n + 1;
            size_t len = strcspn(v, "&");
            if (len >= cap)
                return false;
            memcpy(out, v, len);
            out[len] = '\0';
            return true;
        }
    }
    return false;
}

bool em_download_url_split(ecrmock *m, const char *url, const char **rest, char *region)
{
    /* S3's bucket host names the region the URL was handed out in; a
     * presigned URL works from anywhere, so any region's host is ours. */
    const char *prefix = "https://prod-", *mid = "-starport-layer-bucket.s3.";
    region[0] = '\0';
    if (strncmp(url, prefix, strlen(prefix)) == 0) {
        const char *rs = url + strlen(prefix), *re = strstr(rs, mid);
        if (re && (size_t)(re - rs) < 64) {
            char host[256];
            snprintf(region, 64, "%.*s", (int)(re - rs), rs);
            int n = snprintf(host, sizeof host, "https://prod-%s-starport-layer-bucket.s3.%s.amazonaws.com/", region,
                             region);
            if (n > 0 && (size_t)n < sizeof host && strncmp(url, host, (size_t)n) == 0) {
                *rest = url + n - 1;
                return true;
            }
        }
        region[0] = '\0';
    }
    if (!m->http_base_url)
        return false;
    size_t n = strlen(m->http_base_url);
    if (strncmp(url, m->http_base_url, n) != 0 || url[n] != '/')
        return false;
    *rest = url + n;
    return true;
}

/* The shared core of ecrmock_fetch_url() and the HTTP level's GET.  The
 * caller holds the lock. */
static int fetch_locked(ecrmock *m, const char *path_query, const char *region, em_fetch *out)
{
    const char *q = strchr(path_query, '?');
    size_t plen = q ? (size_t)(q - path_query) : strlen(path_query);
    char p[1024], date[32], sig[80], want[65];
    out->refusal = EM_FETCH_NOT_FOUND;
    if (path_query[0] != '/' || plen >= sizeof p)
        return 404;
    memcpy(p, path_query, plen);
    p[plen] = '\0';
    out->refusal = EM_FETCH_BAD_SIGNATURE;
    if (!q || !query_param(q + 1, "X-Amz-Date", date, sizeof date) ||
        !query_param(q + 1, "X-Amz-Signature", sig, sizeof sig))
        return 403;
    if (url_signature(m, p, date, want) < 0)
        return -1;
    int64_t signed_at;
    if (strcmp(sig, want) != 0 || !em_amz_date_parse(date, &signed_at))
        return 403;
    if (m->clock_ms / 1000 > signed_at + URL_LIFETIME_S) {
        out->refusal = EM_FETCH_EXPIRED;
        out->expires_s = signed_at + URL_LIFETIME_S;
        return 403;
    }
    /* /<registry>/<repository name, may hold '/'>/<algorithm>:<hex> */
    char *reg = p + 1, *slash = strchr(reg, '/'), *last = strrchr(p, '/');
    out->refusal = EM_FETCH_NOT_FOUND;
    if (!slash || last == slash)
        return 404;
    *slash = '\0';
    *last = '\0';
    em_view v;
    if (em_view_enter(m, NULL, region && *region ? region : NULL, &v) < 0)
        return -1;
    em_repo *repo = em_repo_get(em_registry_get(m, reg), slash + 1);
    em_layer *l = repo ? em_layer_get(repo, last + 1) : NULL;
    em_blob *b = l ? l->blob : NULL; /* blobs are instance-wide: they outlive the view */
    em_view_leave(m, &v);
    if (!b)
        return 404;
    if (b->len) {
        out->bytes = em_malloc(b->len);
        if (!out->bytes)
            return -1;
        memcpy(out->bytes, b->data, b->len);
    }
    out->len = b->len;
    out->refusal = EM_FETCH_OK;
    return 200;
}

int em_layer_fetch(ecrmock *m, const char *path_query, const char *region, em_fetch *out)
{
    memset(out, 0, sizeof *out);
    em_lock(m);
    int status = fetch_locked(m, path_query, region, out);
    em_unlock(m);
    return status;
}

int ecrmock_fetch_url(ecrmock *m, const char *url, void **bytes_out, size_t *len_out)
{
    if (!m || !url || !bytes_out || !len_out)
        return -1;
    *bytes_out = NULL;
    *len_out = 0;
    const char *rest;
    char region[64];
    em_lock(m); /* the base URL is read under the lock, like the rest */
    bool ours = em_download_url_split(m, url, &rest, region);
    em_unlock(m);
    if (!ours)
        return 404;
    em_fetch f;
    int status = em_layer_fetch(m, rest, region, &f);
    if (status == 200) {
        *bytes_out = f.bytes;
        *len_out = f.len;
    }
    return status;
}
