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
#define _GNU_SOURCE /* timegm */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "actions.h"

#define URL_LIFETIME_S 3600

static void amz_date(int64_t ms, char *out, size_t cap)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, cap, "%Y%m%dT%H%M%SZ", &tm);
}

static void url_signature(ecrmock *m, const char *path, const char *date, char *hex)
{
    char buf[2048];
    int n = snprintf(buf, sizeof buf, "%s\n%s\n%d", path, date, URL_LIFETIME_S);
    unsigned char mac[32];
    em_hmac_sha256(m->key, sizeof m->key, buf, (size_t)(n < (int)sizeof buf ? n : (int)sizeof buf - 1), mac);
    em_hex(mac, 32, hex);
}

static char *layer_url(ecrmock *m, em_repo *repo, const char *digest)
{
    char date[32], sig[65], path[1024];
    amz_date(m->clock_ms, date, sizeof date);
    snprintf(path, sizeof path, "/%s/%s/%s", repo->registry->id, repo->name, digest);
    url_signature(m, path, date, sig);
    return em_sprintf("https://prod-%s-starport-layer-bucket.s3.%s.amazonaws.com%s"
                      "?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=%s&X-Amz-SignedHeaders=host"
                      "&X-Amz-Expires=%d&X-Amz-Credential=ASIAECRMOCKEXAMPLE%%2F%.8s%%2F%s%%2Fs3%%2Faws4_request"
                      "&X-Amz-Signature=%s",
                      m->region, m->region, path, date, URL_LIFETIME_S, date, m->region, sig);
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
    int rc = em_set(c->out, "downloadUrl", json_string(url));
    em_free(url);
    if (rc < 0 || em_set(c->out, "layerDigest", json_string(digest)) < 0)
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

static int64_t parse_amz_date(const char *s)
{
    struct tm tm = {0};
    if (strlen(s) != 16 || sscanf(s, "%4d%2d%2dT%2d%2d%2dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                                  &tm.tm_min, &tm.tm_sec) != 6)
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (int64_t)timegm(&tm);
}

int ecrmock_fetch_url(ecrmock *m, const char *url, void **bytes_out, size_t *len_out)
{
    if (!m || !url || !bytes_out || !len_out)
        return -1;
    *bytes_out = NULL;
    *len_out = 0;
    const char *scheme = "https://";
    if (strncmp(url, scheme, strlen(scheme)) != 0)
        return 404;
    const char *path = strchr(url + strlen(scheme), '/');
    if (!path)
        return 404;
    const char *q = strchr(path, '?');
    size_t plen = q ? (size_t)(q - path) : strlen(path);
    char p[1024], date[32], sig[80], want[65];
    if (plen >= sizeof p)
        return 404;
    memcpy(p, path, plen);
    p[plen] = '\0';

    em_lock(m);
    int status = 403;
    /* The URL's own region, whatever the caller's: a presigned URL works from anywhere. */
    char host[256], region[64];
    const char *rs = url + strlen("https://prod-");
    const char *re = strncmp(url, "https://prod-", strlen("https://prod-")) == 0
                         ? strstr(rs, "-starport-layer-bucket.s3.") : NULL;
    if (re && (size_t)(re - rs) < sizeof region) {
        memcpy(region, rs, (size_t)(re - rs));
        region[re - rs] = '\0';
        snprintf(host, sizeof host, "https://prod-%s-starport-layer-bucket.s3.%s.amazonaws.com/", region, region);
    }
    if (!re || (size_t)(re - rs) >= sizeof region || strncmp(url, host, strlen(host)) != 0) {
        status = 404;
        goto out;
    }
    if (!q || !query_param(q + 1, "X-Amz-Date", date, sizeof date) ||
        !query_param(q + 1, "X-Amz-Signature", sig, sizeof sig))
        goto out;
    url_signature(m, p, date, want);
    int64_t signed_at = parse_amz_date(date);
    if (strcmp(sig, want) != 0 || signed_at < 0 || m->clock_ms / 1000 > signed_at + URL_LIFETIME_S)
        goto out;
    /* /<registry>/<repository name, may hold '/'>/<algorithm>:<hex> */
    char *reg = p + 1, *slash = strchr(reg, '/'), *last = strrchr(p, '/');
    status = 404;
    if (!slash || last == slash)
        goto out;
    *slash = '\0';
    *last = '\0';
    em_view v;
    if (em_view_enter(m, NULL, region, &v) < 0) {
        status = -1;
        goto out;
    }
    em_repo *repo = em_repo_get(em_registry_get(m, reg), slash + 1);
    em_layer *l = repo ? em_layer_get(repo, last + 1) : NULL;
    em_blob *b = l ? l->blob : NULL; /* blobs are instance-wide: they outlive the view */
    em_view_leave(m, &v);
    if (!b)
        goto out;
    status = -1;
    void *copy = em_malloc(b->len);
    if (copy) {
        if (b->len)
            memcpy(copy, b->data, b->len);
        *bytes_out = b->len ? copy : NULL;
        if (!b->len)
            em_free(copy);
        *len_out = b->len;
        status = 200;
    }
out:
    em_unlock(m);
    return status;
}
