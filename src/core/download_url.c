/*
 * A download URL's form and signature under the instance key: made by
 * GetDownloadUrlForLayer, read back by the S3 side (s3.c).
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

#include "core/core.h"

#define URL_LIFETIME_S 3600

#define SIGNATURE_PARAM "X-Amz-Signature"

/* A URL's authority as signed and compared: lower case, without the
 * scheme's default port (":80", ":443"), into out[256]; false when longer. */
static bool authority(const char *h, size_t n, char *out)
{
    if (n >= 256)
        return false;
    em_ascii_lower(out, h, n)[n] = '\0';
    size_t len = n;
    if (len > 3 && strcmp(out + len - 3, ":80") == 0)
        out[len - 3] = '\0';
    else if (len > 4 && strcmp(out + len - 4, ":443") == 0)
        out[len - 4] = '\0';
    return true;
}

/* The signature of a download URL, as S3's presigned URLs have it: over its
 * host, its path and every query parameter but X-Amz-Signature itself, in
 * SigV4's canonical form.  `query` holds no signature; hex[65].  -1: no
 * memory. */
static int url_signature(ecrmock *m, const char *host, const char *path, const char *query, char *hex)
{
    em_buf b = {0};
    unsigned char mac[32];
    int rc = -1;
    if (em_buf_append(&b, host, strlen(host)) == 0 && em_buf_append(&b, "\n", 1) == 0 &&
        em_buf_append(&b, path, strlen(path)) == 0 && em_buf_append(&b, "\n", 1) == 0 &&
        em_sigv4_canonical_query(&b, query) == 0 && em_mac(m, b.data, b.len, mac) == 0) {
        em_hex(mac, 32, hex);
        rc = 0;
    }
    em_buf_release(&b);
    return rc;
}

char *em_download_url(ecrmock *m, const char *registry_id, const char *repository, const char *digest)
{
    char date[32], sig[65], path[1024], host[256];
    em_amz_date(m->clock_ms / 1000, date);
    snprintf(path, sizeof path, "/%s/%s/%s", registry_id, repository, digest);
    char *base = m->http_base_url ? em_strdup(m->http_base_url)
                                  : em_sprintf("https://prod-%s-starport-layer-bucket.s3.%s.amazonaws.com",
                                               m->region, m->region);
    char *query = em_sprintf("X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=%s&X-Amz-SignedHeaders=host"
                             "&X-Amz-Expires=%d&X-Amz-Credential=ASIAECRMOCKEXAMPLE%%2F%.8s%%2F%s%%2Fs3%%2Faws4_request",
                             date, URL_LIFETIME_S, date, m->region);
    char *url = NULL;
    if (base && query) {
        const char *h = strstr(base, "//") + 2;
        if (authority(h, strcspn(h, "/"), host) && url_signature(m, host, path, query, sig) == 0)
            url = em_sprintf("%s%s?%s&" SIGNATURE_PARAM "=%s", base, path, query, sig);
    }
    em_free(base);
    em_free(query);
    return url;
}

/* The value of query parameter `name` in `query`, percent-decoded, copied
 * into out[cap]: 1; 0 when absent, longer, or holding a NUL; -1: no memory. */
static int query_param(const char *query, const char *name, char *out, size_t cap)
{
    char *v;
    size_t len;
    int rc = em_query_param(query, name, false, &v, &len);
    if (rc > 0 && (len >= cap || memchr(v, '\0', len)))
        rc = 0;
    if (rc > 0)
        memcpy(out, v, len + 1);
    em_free(v);
    return rc;
}

/* `query` without its X-Amz-Signature parameter, new em_malloc'd (NULL: no
 * memory); *signatures counts them. */
static char *unsigned_query(const char *query, int *signatures)
{
    em_buf b = {0};
    size_t n = strlen(SIGNATURE_PARAM);
    *signatures = 0;
    for (const char *p = query; *p;) {
        size_t len = strcspn(p, "&");
        if (len > n && strncmp(p, SIGNATURE_PARAM, n) == 0 && p[n] == '=') {
            ++*signatures;
        } else if (len && ((b.len && em_buf_append(&b, "&", 1) < 0) || em_buf_append(&b, p, len) < 0)) {
            em_buf_release(&b);
            return NULL;
        }
        p += len;
        if (*p == '&')
            p++;
    }
    if (em_buf_append(&b, "", 1) < 0) {
        em_buf_release(&b);
        return NULL;
    }
    return (char *)b.data;
}

bool em_download_url_split(ecrmock *m, const char *url, const char **rest, char *host)
{
    /* S3's bucket host names the region the URL was handed out in; a
     * presigned URL works from anywhere, so any region's host is ours (its
     * signature says whether it is the one the URL was issued for). */
    const char *prefix = "https://prod-", *mid = "-starport-layer-bucket.s3.";
    if (strncmp(url, prefix, strlen(prefix)) == 0) {
        const char *rs = url + strlen(prefix), *re = strstr(rs, mid);
        if (re && (size_t)(re - rs) < 64) {
            char want[256];
            int n = snprintf(want, sizeof want, "https://prod-%.*s-starport-layer-bucket.s3.%.*s.amazonaws.com/",
                             (int)(re - rs), rs, (int)(re - rs), rs);
            if (n > 0 && (size_t)n < sizeof want && strncmp(url, want, (size_t)n) == 0 &&
                authority(url + 8, (size_t)n - 9, host)) {
                *rest = url + n - 1;
                return true;
            }
        }
    }
    if (!m->http_base_url)
        return false;
    size_t n = strlen(m->http_base_url);
    if (strncmp(url, m->http_base_url, n) != 0 || url[n] != '/')
        return false;
    const char *h = strstr(m->http_base_url, "//") + 2;
    if (!authority(h, strcspn(h, "/"), host))
        return false;
    *rest = url + n;
    return true;
}

/* The region of a download URL's credential scope
 * (<key>/<date>/<region>/s3/aws4_request, its slashes encoded or not), into
 * region[64]: 1; 0 when it has none; -1: no memory. */
static int credential_region(const char *query, char *region)
{
    char plain[512];
    int rc = query_param(query, "X-Amz-Credential", plain, sizeof plain);
    if (rc <= 0)
        return rc;
    const char *r = strchr(plain, '/');
    r = r ? strchr(r + 1, '/') : NULL;
    const char *e = r ? strchr(r + 1, '/') : NULL;
    if (!e || e == r + 1 || e - r - 1 >= 64)
        return 0;
    snprintf(region, 64, "%.*s", (int)(e - r - 1), r + 1);
    return 1;
}

int em_download_url_check(ecrmock *m, const char *host, const char *path_query, char path[1024], char region[64],
                          int64_t *expires_s)
{
    const char *q = strchr(path_query, '?');
    size_t plen = q ? (size_t)(q - path_query) : strlen(path_query);
    char date[32], sig[80], want[65], h[256];
    if (path_query[0] != '/' || plen >= 1024)
        return EM_FETCH_NOT_FOUND;
    memcpy(path, path_query, plen);
    path[plen] = '\0';
    if (!q || !host || !authority(host, strlen(host), h))
        return EM_FETCH_BAD_SIGNATURE;
    int got_date = query_param(q + 1, "X-Amz-Date", date, sizeof date);
    int got_sig = got_date > 0 ? query_param(q + 1, SIGNATURE_PARAM, sig, sizeof sig) : 0;
    if (got_date < 0 || got_sig < 0)
        return -1;
    if (!got_sig)
        return EM_FETCH_BAD_SIGNATURE;
    int signatures = 0;
    char *rest = unsigned_query(q + 1, &signatures);
    if (!rest)
        return -1;
    int rc = url_signature(m, h, path, rest, want);
    em_free(rest);
    if (rc < 0)
        return -1;
    int64_t signed_at;
    if (signatures != 1 || strcmp(sig, want) != 0 || !em_amz_date_parse(date, &signed_at))
        return EM_FETCH_BAD_SIGNATURE;
    int got_region = credential_region(q + 1, region);
    if (got_region <= 0)
        return got_region < 0 ? -1 : EM_FETCH_BAD_SIGNATURE;
    if (m->clock_ms / 1000 > signed_at + URL_LIFETIME_S) {
        *expires_s = signed_at + URL_LIFETIME_S;
        return EM_FETCH_EXPIRED;
    }
    return EM_FETCH_OK;
}
