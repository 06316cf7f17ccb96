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

#include "fronts/fronts.h"

#define UNKNOWN_OPERATION_PAGE "<UnknownOperationException/>\n"

/* ---- settings ---------------------------------------------------------------------- */

int ecrmock_http_credentials_set(ecrmock *m, const char *access_key_id, const char *secret_key, ecrmock_err *err)
{
    em_err_clear(err);
    if (!m)
        return em_err_arg(err, "no instance (m is NULL)");
    if (!access_key_id != !secret_key)
        return em_err_arg(err, "give both the access key id and the secret key, or neither");
    char *a = access_key_id ? em_strdup(access_key_id) : NULL;
    char *s = secret_key ? em_strdup(secret_key) : NULL;
    if (access_key_id && (!a || !s)) {
        em_free(a);
        em_free(s);
        return em_err_nomem(err);
    }
    em_lock(m);
    em_free(m->http_access_key);
    em_free(m->http_secret_key);
    m->http_access_key = a;
    m->http_secret_key = s;
    em_unlock(m);
    return 0;
}

int ecrmock_http_session_token_set(ecrmock *m, const char *session_token, ecrmock_err *err)
{
    em_err_clear(err);
    if (!m)
        return em_err_arg(err, "no instance (m is NULL)");
    char *t = session_token ? em_strdup(session_token) : NULL;
    if (session_token && !t)
        return em_err_nomem(err);
    em_lock(m);
    em_free(m->http_session_token);
    m->http_session_token = t;
    em_unlock(m);
    return 0;
}

int ecrmock_http_sigv4_strict_set(ecrmock *m, int strict, ecrmock_err *err)
{
    em_err_clear(err);
    if (!m)
        return em_err_arg(err, "no instance (m is NULL)");
    em_lock(m);
    m->http_sigv4_strict = strict != 0;
    em_unlock(m);
    return 0;
}

int ecrmock_http_sigv4_system_clock_set(ecrmock *m, int on, ecrmock_err *err)
{
    em_err_clear(err);
    if (!m)
        return em_err_arg(err, "no instance (m is NULL)");
    em_lock(m);
    m->http_sigv4_system_clock = on != 0;
    em_unlock(m);
    return 0;
}

int ecrmock_http_base_url_set(ecrmock *m, const char *base_url, ecrmock_err *err)
{
    em_err_clear(err);
    if (!m)
        return em_err_arg(err, "no instance (m is NULL)");
    char *copy = NULL;
    if (base_url) {
        if (strncmp(base_url, "http://", 7) != 0 && strncmp(base_url, "https://", 8) != 0)
            return em_err_arg(err, "base URL '%.200s' does not start with http:// or https://", base_url);
        size_t n = strlen(base_url);
        while (n > 8 && base_url[n - 1] == '/')
            n--;
        if (!(copy = em_strndup(base_url, n)))
            return em_err_nomem(err);
    }
    em_lock(m);
    em_free(m->http_base_url);
    m->http_base_url = copy;
    em_unlock(m);
    return 0;
}

/* ---- the API (ECR's side) ------------------------------------------------------------------- */

/* The request's JSON content type (parameters dropped, as written here), or
 * NULL. */
static const char *json_content_type(const char *h)
{
    if (!h)
        return NULL;
    while (*h == ' ')
        h++;
    size_t n = strcspn(h, "; ");
    static const char *const types[] = {"application/x-amz-json-1.1", "application/x-amz-json-1.0",
                                        "application/json"};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (strlen(types[i]) == n && strncasecmp(h, types[i], n) == 0)
            return types[i];
    return NULL;
}

static int api_error(ecrmock_http_response *r, const char *type, const char *ct, const char *message)
{
    char *clean = em_utf8_copy(message);
    json_t *doc = clean ? json_pack("{s:s, s:s}", "__type", type, "message", clean) : NULL;
    em_free(clean);
    return em_http_respond_json(r, 400, ct, doc);
}

static int api(ecrmock *m, const ecrmock_http_request *req, const char *path, const char *query,
               ecrmock_http_response *r)
{
    const char *ct = json_content_type(em_header(req->headers, req->n_headers, "Content-Type"));
    if (req->body_len && !ct)
        return em_http_respond_text(r, 404, NULL, UNKNOWN_OPERATION_PAGE);
    if (!ct)
        ct = "application/x-amz-json-1.1";

    const char *target = em_header(req->headers, req->n_headers, "X-Amz-Target");
    size_t plen = strlen(ECRMOCK_TARGET_PREFIX);
    /* The wire level also takes a bare action name; HTTP does not. */
    bool ours = target && strncmp(target, ECRMOCK_TARGET_PREFIX, plen) == 0;
    if (!ours)
        target = target && strchr(target, '.') ? target : "";

    const char *type;
    char *message;
    em_sigv4_input in = {req->method, path, query, req->headers, req->n_headers, req->body, req->body_len};
    /* Whether checks are on, the credentials and the clock, read as one:
     * another thread may turn the checks off in between.  Only a known
     * action's request is checked (the action looked up only then). */
    em_lock(m);
    int rc = m->http_secret_key && ours && em_action_find(target + plen) ? em_sigv4_verify(m, &in, &type, &message)
                                                                            : 0;
    em_unlock(m);
    if (rc < 0) {
        if (!message)
            return -1;
        int st = api_error(r, type, ct, message);
        em_free(message);
        return st;
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
        em_http_add_header(r, ECRMOCK_HTTP_TRANSPORT_FAULT_HEADER, em_fault_effect_name(transport)) < 0) {
        em_free(body);
        return -1;
    }
    return em_http_respond(r, status, ct, body, len);
}

/* api() in the region of the endpoint called, as ecrmock_call_as() does:
 * the host asked (an absolute target's, else the Host header's; NULL:
 * none), when it is one of ECR's API endpoints, names the region; its view
 * is entered for the signature check and the call, the instance's lock
 * held throughout (no other caller sees the view). */
static int api_at_endpoint(ecrmock *m, const ecrmock_http_request *req, const char *asked, size_t asked_len,
                           const char *path, const char *query, ecrmock_http_response *r)
{
    char region[EM_REGION_SIZE];
    if (!asked || em_ecr_host(asked, asked_len, region) != EM_HOST_API)
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
    for (size_t i = 0; i < req->n_headers; i++)
        if (!req->headers[i].name || !req->headers[i].value)
            return -1; /* every reader takes them for strings */
    if (em_http_headers_new(resp) < 0)
        return -1;

    char id[37];
    unsigned char r[32];
    em_lock(m); /* the request id's draw, and whether the control API is on */
    em_request_random(m, r);
    int (*control)(ecrmock *, const ecrmock_http_request *, const char *, const char *, ecrmock_http_response *) =
        m->control;
    em_unlock(m);
    em_uuid_of(r, id);
    if (em_http_add_header(resp, "x-amzn-RequestId", id) < 0)
        goto nomem;

    /* An absolute URL: what follows its host is the path and query. */
    const char *pq = req->target;
    bool absolute = strncmp(pq, "http://", 7) == 0 || strncmp(pq, "https://", 8) == 0;
    if (absolute) {
        const char *slash = strchr(strstr(pq, "//") + 2, '/');
        pq = slash ? slash : "/";
    }
    /* The path, NUL-terminated: on the stack when it fits (nearly every
     * one), else on the heap. */
    const char *q = strchr(pq, '?');
    size_t plen = q ? (size_t)(q - pq) : strlen(pq);
    char short_path[512], *long_path = NULL, *path = short_path;
    if (plen < sizeof short_path) {
        memcpy(short_path, pq, plen);
        short_path[plen] = '\0';
    } else if (!(path = long_path = em_strndup(pq, plen))) {
        goto nomem;
    }
    const char *query = q ? q + 1 : "";

    int status;
    bool get = strcmp(req->method, "GET") == 0, head = strcmp(req->method, "HEAD") == 0;
    /* The host asked: an absolute target's, or the Host header's. */
    const char *asked = absolute ? strstr(req->target, "//") + 2 : em_header(req->headers, req->n_headers, "Host");
    size_t asked_len = !asked ? 0 : absolute ? strcspn(asked, "/?#") : strlen(asked);
    if (control && strncmp(path, EM_CONTROL_PREFIX, strlen(EM_CONTROL_PREFIX)) == 0 &&
        (path[strlen(EM_CONTROL_PREFIX)] == '\0' || path[strlen(EM_CONTROL_PREFIX)] == '/')) {
        status = control(m, req, path, query, resp);
    } else if (em_registry_wants(m, asked, asked_len, path)) {
        status = em_registry_handle(m, req, asked, asked_len, path, query, resp);
    } else if ((get || head) && strcmp(path, "/") != 0) {
        const char *rest = pq;
        char authority[256];
        em_lock(m);
        bool ours = !absolute || em_download_url_split(m, req->target, &rest, authority);
        em_unlock(m);
        status = ours ? em_s3_download(m, req, absolute ? authority : asked, rest, head, resp)
                      : em_s3_error(m, resp, 404, "NoSuchKey", "The specified key does not exist.", NULL);
    } else if (strcmp(req->method, "POST") != 0) {
        status = em_http_respond_text(resp, 404, NULL, UNKNOWN_OPERATION_PAGE);
    } else {
        status = api_at_endpoint(m, req, asked, asked_len, path, query, resp);
    }
    em_free(long_path);
    if (status < 0)
        goto nomem;
    return status;
nomem:
    ecrmock_http_response_release(resp);
    return -1;
}
