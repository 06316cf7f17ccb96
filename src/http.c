/*
 * The HTTP level: whole HTTP requests in, whole responses out.
 *
 * Two things arrive over HTTP.  The API: POST / with X-Amz-Target and an AWS
 * JSON 1.1 body, checked the way AWS's JSON front end checks it (method,
 * content type, target, then the SigV4 signature when credentials are set),
 * then handed to the wire level, ecrmock_call_raw(), which does the rest.
 * And the GET of a presigned layer URL, answered as S3 answers it (bytes,
 * ranges, and S3's XML errors), by the same code as ecrmock_fetch_url().
 *
 * Framework answers follow what AWS's JSON services send (dynalite's tests,
 * checked against DynamoDB, record them): any method but POST, or a body
 * whose Content-Type is not a JSON one, is 404 "<UnknownOperationException/>";
 * no target or an unknown one is 400 {"__type":"UnknownOperationException"},
 * before any signature check.
 */
#define _GNU_SOURCE /* strcasecmp, strncasecmp */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "internal.h"

#define MAX_HEADERS 8
#define UNKNOWN_OPERATION_PAGE "<UnknownOperationException/>\n"

/* ---- responses ------------------------------------------------------------------- */

static int add_header(ecrmock_http_response *r, const char *name, const char *value)
{
    char *n = em_strdup(name), *v = em_strdup(value);
    if (!n || !v || r->n_headers == MAX_HEADERS) {
        em_free(n);
        em_free(v);
        return -1;
    }
    r->headers[r->n_headers].name = n;
    r->headers[r->n_headers].value = v;
    r->n_headers++;
    return 0;
}

/* Takes `body` (em_malloc'd, NUL-terminated) into the response, with its
 * Content-Type (NULL: none) and Content-Length. */
static int respond(ecrmock_http_response *r, int status, const char *type, char *body, size_t len)
{
    char n[32];
    r->status = status;
    r->body = body;
    r->body_len = len;
    snprintf(n, sizeof n, "%zu", len);
    if (!body || (type && add_header(r, "Content-Type", type) < 0) || add_header(r, "Content-Length", n) < 0)
        return -1;
    return status;
}

static int respond_text(ecrmock_http_response *r, int status, const char *type, const char *text)
{
    return respond(r, status, type, em_strdup(text), strlen(text));
}

void ecrmock_http_response_release(ecrmock_http_response *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n_headers; i++) {
        em_free((char *)r->headers[i].name);
        em_free((char *)r->headers[i].value);
    }
    em_free(r->headers);
    em_free(r->body);
    memset(r, 0, sizeof *r);
}

const char *ecrmock_http_response_header(const ecrmock_http_response *r, const char *name)
{
    return r && name ? em_header(r->headers, r->n_headers, name) : NULL;
}

/* ---- settings ---------------------------------------------------------------------- */

int ecrmock_http_credentials_set(ecrmock *m, const char *access_key_id, const char *secret_key)
{
    if (!m || !access_key_id != !secret_key)
        return -1;
    char *a = access_key_id ? em_strdup(access_key_id) : NULL;
    char *s = secret_key ? em_strdup(secret_key) : NULL;
    if (access_key_id && (!a || !s)) {
        em_free(a);
        em_free(s);
        return -1;
    }
    em_lock(m);
    em_free(m->http_access_key);
    em_free(m->http_secret_key);
    m->http_access_key = a;
    m->http_secret_key = s;
    em_unlock(m);
    return 0;
}

int ecrmock_http_session_token_set(ecrmock *m, const char *session_token)
{
    if (!m)
        return -1;
    char *t = session_token ? em_strdup(session_token) : NULL;
    if (session_token && !t)
        return -1;
    em_lock(m);
    em_free(m->http_session_token);
    m->http_session_token = t;
    em_unlock(m);
    return 0;
}

int ecrmock_http_sigv4_strict_set(ecrmock *m, int strict)
{
    if (!m)
        return -1;
    em_lock(m);
    m->http_sigv4_strict = strict != 0;
    em_unlock(m);
    return 0;
}

int ecrmock_http_base_url_set(ecrmock *m, const char *base_url)
{
    if (!m)
        return -1;
    char *copy = NULL;
    if (base_url) {
        if (strncmp(base_url, "http://", 7) != 0 && strncmp(base_url, "https://", 8) != 0)
            return -1;
        size_t n = strlen(base_url);
        while (n > 8 && base_url[n - 1] == '/')
            n--;
        if (!(copy = em_strndup(base_url, n)))
            return -1;
    }
    em_lock(m);
    em_free(m->http_base_url);
    m->http_base_url = copy;
    em_unlock(m);
    return 0;
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

static int s3_error(ecrmock *m, ecrmock_http_response *r, int status, const char *code, const char *message,
                    const char *extra)
{
    char id[17];
    s3_request_id(m, id);
    char *body = em_sprintf("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>%s</Code><Message>%s</Message>%s"
                            "<RequestId>%s</RequestId><HostId>ecrmock/%s</HostId></Error>",
                            code, message, extra ? extra : "", id, id);
    if (add_header(r, "x-amz-request-id", id) < 0) {
        em_free(body);
        return -1;
    }
    return respond(r, status, "application/xml", body, body ? strlen(body) : 0);
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

static int download(ecrmock *m, const ecrmock_http_request *req, const char *host, const char *path_query,
                    bool head, ecrmock_http_response *r)
{
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
        return s3_error(m, r, 403, "AccessDenied", "Request has expired", extra);
    }
    if (f.refusal == EM_FETCH_BAD_SIGNATURE)
        return s3_error(m, r, 403, "SignatureDoesNotMatch",
                        "The request signature we calculated does not match the signature you provided. Check your "
                        "key and signing method.",
                        NULL);
    if (f.refusal == EM_FETCH_NOT_FOUND)
        return s3_error(m, r, 404, "NoSuchKey", "The specified key does not exist.", NULL);

    const char *range = em_header(req->headers, req->n_headers, "Range");
    size_t first = 0, last = 0;
    int ranged = parse_range(range, f.len, &first, &last);
    if (ranged < 0) {
        char extra[512], cr[64];
        snprintf(extra, sizeof extra, "<RangeRequested>%.200s</RangeRequested><ActualObjectSize>%zu</ActualObjectSize>",
                 range, f.len);
        snprintf(cr, sizeof cr, "bytes */%zu", f.len);
        em_free(f.bytes);
        if (add_header(r, "Content-Range", cr) < 0)
            return -1;
        return s3_error(m, r, 416, "InvalidRange", "The requested range is not satisfiable", extra);
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
    if (add_header(r, "x-amz-request-id", id) < 0 || add_header(r, "Accept-Ranges", "bytes") < 0) {
        em_free(body);
        return -1;
    }
    if (ranged) {
        snprintf(cr, sizeof cr, "bytes %zu-%zu/%zu", first, last, f.len);
        if (add_header(r, "Content-Range", cr) < 0) {
            em_free(body);
            return -1;
        }
    }
    if (respond(r, ranged ? 206 : 200, "application/octet-stream", body, n) < 0)
        return -1;
    if (head) { /* the headers of a GET, no body */
        r->body[0] = '\0';
        r->body_len = 0;
    }
    return r->status;
}

/* ---- the API (ECR's side) ------------------------------------------------------------------- */

/* The request's JSON content type (parameters dropped) in out, or false. */
static bool json_content_type(const char *h, char *out, size_t cap)
{
    if (!h)
        return false;
    while (*h == ' ')
        h++;
    size_t n = strcspn(h, "; ");
    static const char *const types[] = {"application/x-amz-json-1.1", "application/x-amz-json-1.0",
                                        "application/json"};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        if (strlen(types[i]) == n && strncasecmp(h, types[i], n) == 0) {
            snprintf(out, cap, "%s", types[i]);
            return true;
        }
    }
    return false;
}

static int append(const char *p, size_t n, void *data)
{
    return em_buf_append(data, p, n);
}

static int api_error(ecrmock_http_response *r, const char *type, const char *ct, const char *message)
{
    char *clean = em_utf8_copy(message);
    json_t *doc = clean ? json_pack("{s:s, s:s}", "__type", type, "message", clean) : NULL;
    em_free(clean);
    em_buf b = {0};
    if (!doc || json_dump_callback(doc, append, &b, JSON_COMPACT) != 0 || em_buf_append(&b, "", 1) < 0) {
        json_decref(doc);
        em_buf_release(&b);
        return -1;
    }
    json_decref(doc);
    return respond(r, 400, ct, (char *)b.data, b.len - 1);
}

static int api(ecrmock *m, const ecrmock_http_request *req, const char *path, const char *query,
               ecrmock_http_response *r)
{
    char ct[64];
    bool json = json_content_type(em_header(req->headers, req->n_headers, "Content-Type"), ct, sizeof ct);
    if (req->body_len && !json)
        return respond_text(r, 404, NULL, UNKNOWN_OPERATION_PAGE);
    if (!json)
        snprintf(ct, sizeof ct, "application/x-amz-json-1.1");

    const char *target = em_header(req->headers, req->n_headers, "X-Amz-Target");
    size_t plen = strlen(ECRMOCK_TARGET_PREFIX);
    /* The wire level also takes a bare action name; HTTP does not. */
    bool ours = target && strncmp(target, ECRMOCK_TARGET_PREFIX, plen) == 0;
    if (!ours)
        target = target && strchr(target, '.') ? target : "";
    bool known = ours && em_action_find(target + plen);

    em_lock(m);
    bool check = known && m->http_secret_key;
    em_unlock(m);
    if (check) {
        const char *type;
        char *message;
        em_sigv4_input in = {req->method, path, query, req->headers, req->n_headers, req->body, req->body_len};
        em_lock(m); /* the credentials and the clock, read as one */
        int rc = em_sigv4_verify(m, &in, &type, &message);
        em_unlock(m);
        if (rc < 0) {
            if (!message)
                return -1;
            int st = api_error(r, type, ct, message);
            em_free(message);
            return st;
        }
    }
    char *body = NULL;
    size_t len = 0;
    ecrmock_fault_effect transport;
    int status = em_call_raw(m, target, req->body, req->body_len, &body, &len, req, &transport);
    if (status < 0)
        return -1;
    /* A transport fault rule: the error document, and the header that tells
     * the libcurl interposer which CURLcode to return instead. */
    if (EM_FAULT_IS_TRANSPORT(transport) &&
        add_header(r, ECRMOCK_HTTP_TRANSPORT_FAULT_HEADER, em_fault_effect_name(transport)) < 0) {
        em_free(body);
        return -1;
    }
    return respond(r, status, ct, body, len);
}

/* The region of the ECR API endpoint the request was sent to (the host of
 * an absolute target, else the Host header), or false for another host. */
static bool endpoint_region(const ecrmock_http_request *req, char region[EM_REGION_SIZE])
{
    const char *host = NULL;
    size_t len = 0;
    const char *scheme_end = strstr(req->target, "://");
    if (scheme_end && (strncmp(req->target, "http://", 7) == 0 || strncmp(req->target, "https://", 8) == 0)) {
        host = scheme_end + 3;
        len = strcspn(host, "/?#");
    } else if ((host = em_header(req->headers, req->n_headers, "Host"))) {
        len = strlen(host);
    }
    return host && em_ecr_host(host, len, region) == EM_HOST_API;
}

/* api() in the region of the endpoint called, as ecrmock_call_as() does:
 * the region's view is entered for the signature check and the call, the
 * instance's lock held throughout (no other caller sees the view). */
static int api_at_endpoint(ecrmock *m, const ecrmock_http_request *req, const char *path, const char *query,
                           ecrmock_http_response *r)
{
    char region[EM_REGION_SIZE];
    if (!endpoint_region(req, region))
        return api(m, req, path, query, r);
    em_lock(m);
    em_view v;
    int status = -1;
    if (strcmp(region, m->region) == 0) {
        em_unlock(m); /* the instance's own region: nothing to enter */
        return api(m, req, path, query, r);
    }
    if (em_view_enter(m, NULL, region, &v) == 0) {
        status = api(m, req, path, query, r);
        em_view_leave(m, &v);
    }
    em_unlock(m);
    return status;
}

/* ---- the front door ------------------------------------------------------------------ */

int ecrmock_http_handle(ecrmock *m, const ecrmock_http_request *req, ecrmock_http_response *resp)
{
    if (!resp)
        return -1;
    memset(resp, 0, sizeof *resp);
    if (!m || !req || req->version < 1 || req->version > ECRMOCK_HTTP_REQUEST_VERSION || !req->method ||
        !req->target || (req->n_headers && !req->headers) || (req->body_len && !req->body))
        return -1;
    resp->headers = em_calloc(MAX_HEADERS, sizeof *resp->headers);
    if (!resp->headers)
        return -1;

    char id[37];
    unsigned char r[32];
    em_lock(m);
    em_request_random(m, r);
    em_unlock(m);
    em_uuid_of(r, id);
    if (add_header(resp, "x-amzn-RequestId", id) < 0)
        goto nomem;

    /* An absolute URL: what follows its host is the path and query. */
    const char *pq = req->target;
    bool absolute = strncmp(pq, "http://", 7) == 0 || strncmp(pq, "https://", 8) == 0;
    if (absolute) {
        const char *slash = strchr(strstr(pq, "//") + 2, '/');
        pq = slash ? slash : "/";
    }
    const char *q = strchr(pq, '?');
    char *path = q ? em_strndup(pq, (size_t)(q - pq)) : em_strdup(pq);
    if (!path)
        goto nomem;
    const char *query = q ? q + 1 : "";

    int status;
    bool get = strcmp(req->method, "GET") == 0, head = strcmp(req->method, "HEAD") == 0;
    if ((get || head) && strcmp(path, "/") != 0) {
        /* The host the URL was asked of: an absolute target's, or the Host header's. */
        const char *rest = pq, *host = em_header(req->headers, req->n_headers, "Host");
        char authority[256];
        em_lock(m);
        bool ours = !absolute || em_download_url_split(m, req->target, &rest, authority);
        em_unlock(m);
        status = ours ? download(m, req, absolute ? authority : host, rest, head, resp)
                      : s3_error(m, resp, 404, "NoSuchKey", "The specified key does not exist.", NULL);
    } else if (strcmp(req->method, "POST") != 0) {
        status = respond_text(resp, 404, NULL, UNKNOWN_OPERATION_PAGE);
    } else {
        status = api_at_endpoint(m, req, path, query, resp);
    }
    em_free(path);
    if (status < 0)
        goto nomem;
    return status;
nomem:
    ecrmock_http_response_release(resp);
    return -1;
}
