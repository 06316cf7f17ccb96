/*
 * The S3 side: the GET (or HEAD) of a presigned layer URL, answered as S3
 * answers it (bytes, ranges, S3's XML errors), over HTTP and through
 * ecrmock_fetch_url().
 */
#define _GNU_SOURCE /* strcasecmp, strncasecmp */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "fronts/fronts.h"

/* The shared core of ecrmock_fetch_url() and the HTTP level's GET.  The
 * caller holds the lock. */
static int fetch_locked(ecrmock *m, const char *host, const char *path_query, em_fetch *out)
{
    char p[1024], region[64];
    int verdict = em_download_url_check(m, host, path_query, p, region, &out->expires_s);
    if (verdict < 0)
        return -1;
    out->refusal = (em_fetch_refusal)verdict;
    if (verdict != EM_FETCH_OK)
        return verdict == EM_FETCH_NOT_FOUND ? 404 : 403;
    /* /<registry>/<repository name, may hold '/'>/<algorithm>:<hex> */
    char *reg = p + 1, *slash = strchr(reg, '/'), *last = strrchr(p, '/');
    out->refusal = EM_FETCH_NOT_FOUND;
    if (!slash || last == slash || !em_region_exists(m, region))
        return 404;
    *slash = '\0';
    *last = '\0';
    em_view v;
    if (em_view_enter(m, NULL, region, &v) < 0)
        return -1;
    em_repo *repo = em_repo_get(em_registry_get(m, reg), slash + 1);
    em_layer *l = repo ? em_layer_get(repo, last + 1) : NULL;
    em_blob *b = l ? l->blob : NULL; /* blobs are instance-wide: they outlive the view */
    em_view_leave(m, &v);
    if (!b)
        return 404;
    if (em_blob_declared(b)) {
        out->refusal = EM_FETCH_DECLARED;
        out->len = b->len;
        return 501;
    }
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

int em_layer_fetch(ecrmock *m, const char *host, const char *path_query, em_fetch *out)
{
    memset(out, 0, sizeof *out);
    em_lock(m);
    int status = fetch_locked(m, host, path_query, out);
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
    char host[256];
    em_lock(m); /* the base URL is read under the lock, like the rest */
    bool ours = em_download_url_split(m, url, &rest, host);
    em_unlock(m);
    if (!ours)
        return 404;
    em_fetch f;
    int status = em_layer_fetch(m, host, rest, &f);
    if (status == 200) {
        *bytes_out = f.bytes;
        *len_out = f.len;
    }
    return status;
}

/* ---- layer downloads (S3's side) ------------------------------------------------------ */

static void iso_time(int64_t s, char *out, size_t cap)
{
    time_t t = (time_t)s;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* S3's request id: 16 upper-case hex digits from the request id stream. */
static void s3_request_id(ecrmock *m, char *out)
{
    unsigned char r[32];
    em_lock(m);
    em_request_random(m, r);
    em_unlock(m);
    em_hex(r, 8, out);
    for (char *p = out; *p; p++)
        if (*p >= 'a' && *p <= 'f')
            *p = (char)(*p - 'a' + 'A');
}

int em_s3_error(ecrmock *m, ecrmock_http_response *r, int status, const char *code, const char *message,
                const char *extra)
{
    char id[17];
    s3_request_id(m, id);
    char *body = em_sprintf("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>%s</Code><Message>%s</Message>%s"
                            "<RequestId>%s</RequestId><HostId>ecrmock/%s</HostId></Error>",
                            code, message, extra ? extra : "", id, id);
    if (em_http_add_header(r, "x-amz-request-id", id) < 0) {
        em_free(body);
        return -1;
    }
    return em_http_respond(r, status, "application/xml", body, body ? strlen(body) : 0);
}

/* A single byte range of a `len`-byte object: 1 and [*first, *last] when
 * satisfiable, 0 when the header is absent or not one range we read (it is
 * then ignored, as RFC 9110 says), -1 when unsatisfiable. */
static int parse_range(const char *h, size_t len, size_t *first, size_t *last)
{
    if (!h || strncmp(h, "bytes=", 6) != 0 || strchr(h, ','))
        return 0;
    const char *p = h + 6;
    char *end;
    if (*p == '-') {
        if (p[1] < '0' || p[1] > '9')
            return 0;
        unsigned long long n = strtoull(p + 1, &end, 10);
        if (*end)
            return 0;
        if (n == 0 || len == 0)
            return -1;
        *first = n >= len ? 0 : len - (size_t)n;
        *last = len - 1;
        return 1;
    }
    if (*p < '0' || *p > '9')
        return 0;
    unsigned long long a = strtoull(p, &end, 10), b = UINT64_MAX;
    if (*end != '-')
        return 0;
    if (end[1]) {
        if (end[1] < '0' || end[1] > '9')
            return 0;
        b = strtoull(end + 1, &end, 10);
        if (*end || b < a)
            return 0;
    }
    if (a >= len)
        return -1;
    *first = (size_t)a;
    *last = b >= len ? len - 1 : (size_t)b;
    return 1;
}

/* S3's refusal of a pre-signed URL asked with an Authorization header too
 * (what a client that follows ECR's blob redirect with the registry's
 * credentials gets): 400 InvalidArgument, the header echoed, XML-escaped. */
static int two_auth_mechanisms(ecrmock *m, ecrmock_http_response *r, const char *auth)
{
    static const char head[] = "<ArgumentName>Authorization</ArgumentName><ArgumentValue>",
                      tail[] = "</ArgumentValue>";
    size_t n = strlen(auth);
    char *extra = em_malloc(sizeof head + 6 * n + sizeof tail);
    if (!extra)
        return -1;
    char *p = extra + sizeof head - 1;
    memcpy(extra, head, sizeof head - 1);
    for (const char *a = auth; *a; a++) {
        const char *e = *a == '<' ? "&lt;" : *a == '>' ? "&gt;" : *a == '&' ? "&amp;" : *a == '"' ? "&quot;" : NULL;
        if (e) {
            memcpy(p, e, strlen(e));
            p += strlen(e);
        } else {
            *p++ = *a;
        }
    }
    memcpy(p, tail, sizeof tail);
    int st = em_s3_error(m, r, 400, "InvalidArgument",
                         "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query "
                         "string parameter or the Authorization header should be specified",
                         extra);
    em_free(extra);
    return st;
}

int em_s3_download(ecrmock *m, const ecrmock_http_request *req, const char *host, const char *path_query,
                   bool head, ecrmock_http_response *r)
{
    /* On S3's own host (not a loopback base, whose URLs share the registry's
     * host, so that a client keeps its credentials on the redirect). */
    char region[EM_REGION_SIZE];
    const char *auth = em_header(req->headers, req->n_headers, "Authorization");
    if (auth && host && em_ecr_host(host, strlen(host), region) == EM_HOST_BUCKET)
        return two_auth_mechanisms(m, r, auth);
    em_fetch f;
    int status = em_layer_fetch(m, host, path_query, &f);
    if (status < 0)
        return -1;
    if (f.refusal == EM_FETCH_EXPIRED) {
        char exp[32], now[32], extra[160];
        iso_time(f.expires_s, exp, sizeof exp);
        iso_time(ecrmock_clock_now(m) / 1000, now, sizeof now);
        snprintf(extra, sizeof extra, "<X-Amz-Expires>3600</X-Amz-Expires><Expires>%s</Expires><ServerTime>%s</ServerTime>",
                 exp, now);
        return em_s3_error(m, r, 403, "AccessDenied", "Request has expired", extra);
    }
    if (f.refusal == EM_FETCH_BAD_SIGNATURE)
        return em_s3_error(m, r, 403, "SignatureDoesNotMatch",
                        "The request signature we calculated does not match the signature you provided. Check your "
                        "key and signing method.",
                        NULL);
    if (f.refusal == EM_FETCH_NOT_FOUND)
        return em_s3_error(m, r, 404, "NoSuchKey", "The specified key does not exist.", NULL);
    if (f.refusal == EM_FETCH_DECLARED) /* ecrmock's own answer: S3's NotImplemented, saying why */
        return em_s3_error(m, r, 501, "NotImplemented",
                           "ecrmock holds no bytes for this layer: a fixture declared it by its digest and size only",
                           NULL);

    const char *range = em_header(req->headers, req->n_headers, "Range");
    size_t first = 0, last = 0;
    int ranged = parse_range(range, f.len, &first, &last);
    if (ranged < 0) {
        char extra[512], cr[64];
        snprintf(extra, sizeof extra, "<RangeRequested>%.200s</RangeRequested><ActualObjectSize>%zu</ActualObjectSize>",
                 range, f.len);
        snprintf(cr, sizeof cr, "bytes */%zu", f.len);
        em_free(f.bytes);
        if (em_http_add_header(r, "Content-Range", cr) < 0)
            return -1;
        return em_s3_error(m, r, 416, "InvalidRange", "The requested range is not satisfiable", extra);
    }
    size_t n = ranged ? last - first + 1 : f.len;
    char *body = em_malloc(n + 1);
    if (!body) {
        em_free(f.bytes);
        return -1;
    }
    if (n)
        memcpy(body, f.bytes + first, n);
    body[n] = '\0';
    em_free(f.bytes);
    char id[17], cr[96];
    s3_request_id(m, id);
    if (em_http_add_header(r, "x-amz-request-id", id) < 0 || em_http_add_header(r, "Accept-Ranges", "bytes") < 0) {
        em_free(body);
        return -1;
    }
    if (ranged) {
        snprintf(cr, sizeof cr, "bytes %zu-%zu/%zu", first, last, f.len);
        if (em_http_add_header(r, "Content-Range", cr) < 0) {
            em_free(body);
            return -1;
        }
    }
    if (em_http_respond(r, ranged ? 206 : 200, "application/octet-stream", body, n) < 0)
        return -1;
    if (head) { /* the headers of a GET, no body */
        r->body[0] = '\0';
        r->body_len = 0;
    }
    return r->status;
}
