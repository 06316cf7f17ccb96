/*
 * fronts: the ways in.  The JSON level (dispatch.c), the wire (wire.c),
 * HTTP (http.c, http_message.c), SigV4 (sigv4.c), the S3 download side
 * (s3.c), ECR's host names (hosts.c) and the registry plane (registry.c,
 * with manifest_schema1.c).
 */
#ifndef EM_FRONTS_H
#define EM_FRONTS_H

#include "testing/testing.h"

#pragma GCC visibility push(hidden)

/* ecrmock_call_raw(), also saying (when `transport` is not NULL) which
 * transport effect decided the call, or ECRMOCK_FAULT_ERROR for none;
 * `http` (borrowed; may be NULL) is the HTTP request the call came in, whose
 * headers the journal keeps and fault rules may match on. */
int em_call_raw(ecrmock *m, const char *target, const char *body, size_t body_len, char **response,
                size_t *response_len, const ecrmock_http_request *http, ecrmock_fault_effect *transport);

/* Runs one action on a JSON request with the instance locked; returns the
 * HTTP status and a new reference in *response (never NULL unless out of
 * memory, then -1).  When `wire` is not NULL it receives what a fault rule
 * does to the bytes of the response (effect TRUNCATE or MALFORM) or to the
 * transport; the caller then owns it: em_fault_decision_release() it. */
int em_dispatch(ecrmock *m, const char *action, json_t *req, json_t **response, em_fault_decision *wire);
/* em_dispatch() of action `a` (em_action_find(action), looked up once by
 * the caller; NULL: UnknownOperationException) for a call that came in HTTP
 * request `http` (borrowed; may be NULL): its headers go in the journal and
 * before the fault rules. */
int em_dispatch_http(ecrmock *m, const em_action *a, const char *action, json_t *req, json_t **response,
                     em_fault_decision *wire, const ecrmock_http_request *http);
/* What one call carries besides its request, from the front it came in on;
 * all borrowed, for the call alone (a call a hook makes meanwhile has its
 * own), never kept on the instance. */
typedef struct em_via {
    const ecrmock_http_request *http; /* the HTTP request, or NULL */
    const char *plane;                /* the journal's "plane" (static): "registry"; NULL: the API */
    const unsigned char *raw_part;    /* UploadLayerPart's bytes, raw (em_call.raw_part), or NULL */
    size_t raw_part_len;
} em_via;
/* em_dispatch_http() of a call that came in by `via` (may be NULL: none). */
int em_dispatch_via(ecrmock *m, const em_action *a, const char *action, json_t *req, json_t **response,
                    em_fault_decision *wire, const em_via *via);
/* The wire level's first try for a hot action (areas.h, "tree-free forms"):
 * 200 with *response (em_malloc'd, NUL-terminated) and *response_len, the
 * call journaled and counted; or EM_FAST_DECLINED, nothing done (the tree
 * path runs). */
int em_dispatch_fast(ecrmock *m, const em_action *a, const char *body, size_t len, const ecrmock_http_request *http,
                     char **response, size_t *response_len);
/* The bytes of a wire-level call (em_dispatch_wire): its body as sent
 * (borrowed; NULL: none), which parsed as the request; and, when the call
 * made them for its journal entry, the response's bytes as em_wire_dump()
 * writes them (the caller's then: em_free them), else NULL. */
typedef struct em_wire_io {
    const char *body;
    size_t body_len;
    char *text;
    size_t text_len;
} em_wire_io;
/* em_dispatch_http() for the wire level: the journal keeps io->body as the
 * request, and io->text, when set, is the response already written. */
int em_dispatch_wire(ecrmock *m, const em_action *a, const char *action, json_t *req, json_t **response,
                     em_fault_decision *wire, const ecrmock_http_request *http, em_wire_io *io);
/* em_dispatch() that also tells, into member[EM_MEMBER_SIZE], the request
 * member a failed call is about: a JSON path ("$.repositoryName"), or ""
 * when the error names none (the fixture loader points at it). */
int em_dispatch_member(ecrmock *m, const char *action, json_t *req, json_t **response, char member[EM_MEMBER_SIZE]);
/* ---- ECR's host names (hosts.c) --------------------------------------------- */
#define EM_REGION_SIZE 64
typedef enum { EM_HOST_OTHER, EM_HOST_API, EM_HOST_BUCKET, EM_HOST_REGISTRY } em_host_kind;
/* What the host host[0..len) (any case, an optional ":port" and trailing
 * dot) is: one of ECR's API endpoints, the S3 host of its layer download
 * URLs, or another; the region it names into `region` ("" for another). */
em_host_kind em_ecr_host(const char *host, size_t len, char region[EM_REGION_SIZE]);
/* Whether host[0..len) (any case, optional ":port" and trailing dot) is a
 * registry host, <12 digits>.dkr.ecr[-fips].<region>.amazonaws.com(.cn): its
 * account into `account` and region into `region` (EM_HOST_REGISTRY of
 * em_ecr_host()). */
bool em_registry_host(const char *host, size_t len, char account[13], char region[EM_REGION_SIZE]);
typedef struct em_fetch {
    em_fetch_refusal refusal;
    int64_t expires_s;       /* EM_FETCH_EXPIRED: when the URL expired, epoch seconds */
    unsigned char *bytes;    /* 200: a new em_malloc'd copy (NULL when empty) */
    size_t len;
} em_fetch;
/* Serves `path_query` (a download URL's path and query, from the '/' after
 * its host) as requested of `host` (the authority the request named: the
 * URL's, or its Host header; NULL: none) with the instance locked: returns
 * 200, 403 or 404 with *out filled, or -1 (no memory).  The URL's signature
 * covers the host, the path and every query parameter; the region served is
 * the one its (signed) credential scope names, and a region the instance
 * does not have is a 404: a GET never makes one. */
int em_layer_fetch(ecrmock *m, const char *host, const char *path_query, em_fetch *out);
/* One request as SigV4 sees it. */
typedef struct em_sigv4_input {
    const char *method;
    const char *path;        /* as sent (still percent-encoded), without the query */
    const char *query;       /* after '?', or "" */
    const ecrmock_http_header *headers;
    size_t n_headers;
    const void *body;
    size_t body_len;
} em_sigv4_input;
/* Checks the request's Authorization header against `access_key`/`secret`
 * (and the session token when one is set), service "ecr" in m's region,
 * X-Amz-Date within 5 minutes of the virtual clock, the signed headers
 * m->http_sigv4_strict asks for.  Returns 0 when it verifies; otherwise -1 with *type (a static AWS
 * error name) and *message (new em_malloc'd text, NULL when out of memory). */
int em_sigv4_verify(ecrmock *m, const em_sigv4_input *in, const char **type, char **message);
/* The SigV4 pieces for a request signed with `signed_headers` (";"-joined,
 * lower case): new em_malloc'd canonical request and string to sign, and
 * the hex signature in sig[65].  -1 when out of memory. */
int em_sigv4_sign(const em_sigv4_input *in, const char *signed_headers, const char *amz_date,
                  const char *region, const char *service, const char *secret, char **canonical,
                  char **string_to_sign, char *sig);
/* The value of header `name` (case-insensitive), or NULL. */
const char *em_header(const ecrmock_http_header *h, size_t n, const char *name);

/* The control API's path prefix (tooling/control_api.c): no ECR, S3 or
 * registry request has a path under it. */
#define EM_CONTROL_PREFIX "/_ecrmock"

/* ---- HTTP messages (http_message.c) and the S3 side (s3.c) ----------------- */
#define EM_HTTP_MAX_HEADERS 12 /* headers of a response */
/* Gives an empty response its headers' block (the array and room for the
 * strings; ecrmock_http_response_release() frees it); -1: no memory. */
int em_http_headers_new(ecrmock_http_response *r);
/* Adds a header (copies); -1: no memory or no room. */
int em_http_add_header(ecrmock_http_response *r, const char *name, const char *value);
/* Takes `body` (em_malloc'd, NUL-terminated; NULL: no memory) into the
 * response, with its Content-Type (NULL: none) and Content-Length; returns
 * `status`, or -1 (no memory). */
int em_http_respond(ecrmock_http_response *r, int status, const char *type, char *body, size_t len);
/* em_http_respond() of `doc` (taken: released) as compact JSON; -1: no
 * memory, or `doc` NULL. */
int em_http_respond_json(ecrmock_http_response *r, int status, const char *type, json_t *doc);
/* em_http_respond() of a copy of `text`. */
int em_http_respond_text(ecrmock_http_response *r, int status, const char *type, const char *text);
/* S3's XML error document (`extra`: more elements, or NULL) with its
 * x-amz-request-id; returns `status`, or -1 (no memory). */
int em_s3_error(ecrmock *m, ecrmock_http_response *r, int status, const char *code, const char *message,
                const char *extra);
/* The GET (HEAD: `head`) of a download URL's path and query as asked of
 * `host`, answered as S3 answers it (bytes, a Range, S3's errors); returns
 * the status, or -1 (no memory). */
int em_s3_download(ecrmock *m, const ecrmock_http_request *req, const char *host, const char *path_query,
                   bool head, ecrmock_http_response *r);

/* ---- the registry plane (registry.c) ------------------------------------------ */
/* Whether a request for `path` asked of `host` (NULL: none) is the
 * registry's: a registry host, or /v2 and below on a host that is none of
 * ECR's (a loopback base). */
bool em_registry_wants(ecrmock *m, const char *host, size_t host_len, const char *path);
/* Answers one /v2/ request (the OCI Distribution API as ECR serves it);
 * returns the status, or -1 (no memory). */
int em_registry_handle(ecrmock *m, const ecrmock_http_request *req, const char *host, size_t host_len,
                       const char *path, const char *query, ecrmock_http_response *r);

/* ---- Docker v2 schema 1 on pull (manifest_schema1.c) ---------------------------- */
#define EM_MT_SCHEMA1 "application/vnd.docker.distribution.manifest.v1+json"
#define EM_MT_SCHEMA1_SIGNED "application/vnd.docker.distribution.manifest.v1+prettyjws"
/* Docker v2 schema 2 image `img` of `repo`, pulled by `tag`, as the signed
 * schema 1 manifest Docker's distribution registry made of one (its config
 * from the repository's layers), signed with ecrmock's own key at the
 * virtual clock's time; with the instance locked.  Returns the text (new
 * em_malloc'd, NUL-terminated, *len bytes) with the digest of its unsigned
 * payload in `digest`; NULL when the image does not convert, or (then
 * *nomem is set) memory ran out. */
char *em_manifest_schema1(ecrmock *m, em_repo *repo, const em_image *img, const char *tag, size_t *len,
                          char digest[ECRMOCK_DIGEST_SIZE], bool *nomem);

#pragma GCC visibility pop

#endif
