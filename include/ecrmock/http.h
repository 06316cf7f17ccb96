/*
 * ecrmock/http.h: the HTTP level, for code that talks HTTP to ECR rather than
 * calling ecrmock_call(): whole requests in (the API's POST, the GET of a
 * layer download URL), whole responses out, SigV4 checks on demand, and the
 * download URLs' base.  include/ecrmock_server.h (a loopback server) and
 * include/ecrmock_curl.h (libcurl's easy interface) are built on it.
 *
 * Included by <ecrmock.h>; it may also be included on its own.  Ownership and
 * threads as <ecrmock.h> says.
 */
#ifndef ECRMOCK_HTTP_H
#define ECRMOCK_HTTP_H

#include <stddef.h>

/* The everyday contract: the instance, errors, ECRMOCK_API.  It includes this
 * header back at its end, where this guard stops the loop. */
#include "../ecrmock.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* The HTTP level                                                            */
/* ------------------------------------------------------------------------ */

/* A header: name (compared case-insensitively) and value. */
typedef struct ecrmock_http_header {
    const char *name;
    const char *value;
} ecrmock_http_header;

#define ECRMOCK_HTTP_REQUEST_VERSION 1

/*
 * An HTTP request, as a client would send it.  Initialise with
 * ECRMOCK_HTTP_REQUEST_INIT; fields are only ever appended.
 */
typedef struct ecrmock_http_request {
    unsigned int version;               /* ECRMOCK_HTTP_REQUEST_VERSION */
    const char *method;                 /* "POST", "GET", ... */
    const char *target;                 /* the request target as sent: a path with
                                           its query ("/", "/123.../web/sha256:..?X-Amz-...")
                                           or an absolute URL ("https://host/path?query") */
    const ecrmock_http_header *headers; /* n_headers entries; repeated names allowed */
    size_t n_headers;
    const void *body;                   /* may be NULL when body_len is 0 */
    size_t body_len;
} ecrmock_http_request;

#define ECRMOCK_HTTP_REQUEST_INIT {ECRMOCK_HTTP_REQUEST_VERSION, NULL, NULL, NULL, 0, NULL, 0}

/* An HTTP response: everything in it belongs to the response (release it
 * with ecrmock_http_response_release(), never piece by piece). */
typedef struct ecrmock_http_response {
    int status;
    ecrmock_http_header *headers;       /* names and values the response's */
    size_t n_headers;
    char *body;                         /* the response's, NUL-terminated (the NUL not counted) */
    size_t body_len;
} ecrmock_http_response;

/*
 * Answers one HTTP request the way ECR (and, for layer downloads, S3) does.
 *
 *  - POST / with X-Amz-Target: the wire level (ecrmock_call_raw), so the
 *    action table, the journal, fault rules (TRUNCATE and MALFORM damage
 *    the HTTP body too) and hooks all apply.  The answer has Content-Type
 *    (the request's JSON type; application/x-amz-json-1.1 by default),
 *    x-amzn-RequestId (a UUID from a seeded stream of its own, so that HTTP
 *    answers never move the ids the actions hand out) and Content-Length.
 *    No X-Amz-Target, or one that is not ECR's: 400
 *    {"__type":"UnknownOperationException"}.  A body without a JSON
 *    Content-Type (application/x-amz-json-1.1, -1.0 or application/json), or
 *    any method but POST on "/": 404 "<UnknownOperationException/>\n", as
 *    AWS's JSON front end answers.  A request sent to one of ECR's API
 *    endpoints (the host of an absolute target, else the Host header:
 *    api.ecr.<region>.amazonaws.com and the other forms listed in
 *    ecrmock_curl.h, any case, a port or the root's trailing dot allowed)
 *    acts in the region that host names, as ecrmock_call_as() does, and
 *    its signature is checked against that region; any other host (a
 *    loopback server's) is the instance's region.  With credentials set
 *    (ecrmock_http_credentials_set()), the request's SigV4 signature is
 *    checked first: see there.
 *  - GET (or HEAD) of a URL GetDownloadUrlForLayer handed out, path-only
 *    (its Host header naming the host) or absolute: the
 *    layer's bytes, 200 with Content-Type application/octet-stream; a Range
 *    header "bytes=a-b", "bytes=a-" or "bytes=-n" gives 206 with
 *    Content-Range, or 416 (S3's InvalidRange) when it is past the end; 403
 *    with S3's XML error (AccessDenied "Request has expired") once the URL
 *    has expired on the virtual clock, SignatureDoesNotMatch when it was
 *    changed: as S3's presigned URLs, the signature covers the host it was
 *    issued for (compared case-insensitively, without :80 or :443; a
 *    path-only request without Host fails it), the path and every query
 *    parameter; 404 NoSuchKey for a URL this instance never issued or
 *    whose layer is gone from the region it was issued in.  A download
 *    changes nothing (no region is made) and is not journaled (S3 is not
 *    ECR).  HEAD carries the Content-Length of the GET, with no body.
 *  - The registry plane, the OCI Distribution API as ECR serves it: any
 *    request to a registry host (<12 digits>.dkr.ecr[-fips].<region>.
 *    amazonaws.com[.cn], any case, a port or the root's dot allowed), and
 *    /v2 and below on a host that is none of ECR's (a loopback base).
 *    HTTP Basic, user AWS, the password of a GetAuthorizationToken token of
 *    that registry and region, before its expiry on the virtual clock; each
 *    request runs as the ECR action that authorizes it (journaled, counted,
 *    fault rules and hooks apply).  README.md "The registry plane" lists
 *    the endpoints, the action of each, the answers and the errors.
 *  - With the control API on (ecrmock_http_control_set()), any request
 *    whose path is /_ecrmock or below it, on any host: the test controls.
 *
 * `req` is borrowed.  Returns the status (also in resp->status), or -1 when
 * an argument is NULL, req->version is unknown, a required field is NULL (a
 * header's name or value among them), or memory ran out (then *resp is
 * empty).  `*resp` is always initialised.
 */
ECRMOCK_API int ecrmock_http_handle(ecrmock *m, const ecrmock_http_request *req, ecrmock_http_response *resp);

/* Releases what a response ecrmock_http_handle() filled holds and empties
 * it.  NULL, or an empty (zeroed) response, is a no-op. */
ECRMOCK_API void ecrmock_http_response_release(ecrmock_http_response *resp);

/* The value of a response header (case-insensitive name), borrowed from
 * `resp`, or NULL. */
ECRMOCK_API const char *ecrmock_http_response_header(const ecrmock_http_response *resp, const char *name);

/*
 * Turns SigV4 checks on (both strings set) or off (both NULL; the default).
 * Strings are copied; kept by ecrmock_reset().  When on, every API request
 * to ecrmock_http_handle() must carry an Authorization header signed, AWS
 * Signature Version 4, with that secret for that access key id, credential
 * scope <YYYYMMDD>/<the instance's region, or the region of the ECR
 * endpoint called: see ecrmock_http_handle()>/ecr/aws4_request, host and
 * x-amz-date among the signed headers, the SHA-256 of the body as payload
 * hash, and an X-Amz-Date within 5 minutes of the virtual clock (the system
 * clock in wall mode, or with ecrmock_http_sigv4_system_clock_set()).  The
 * answers are AWS's (all status 400, never journaled: the call never reaches
 * ECR):
 *   MissingAuthenticationTokenException  no Authorization header, or not AWS4-
 *   IncompleteSignatureException         a malformed header (missing
 *                                        Credential, SignedHeaders, Signature or
 *                                        X-Amz-Date; host not signed; ...)
 *   UnrecognizedClientException          an access key id other than this one,
 *                                        or a session token refused (see
 *                                        ecrmock_http_session_token_set())
 *   InvalidSignatureException            a wrong credential scope, "Signature
 *                                        expired: ..." / "Signature not yet
 *                                        current: ...", or a signature that
 *                                        does not match, with the canonical
 *                                        request and string to sign expected
 * A header that is not UTF-8 is quoted back in the message with each bad
 * byte as U+FFFD.  X-Amz-Date must be a real date and time (years 0001 to
 * 9999).  Download URLs are presigned and need no Authorization header.
 * Returns 0, or -1 with `*err` filled (the ecrmock_err convention of
 * <ecrmock/testing.h>) when only one string is given or `m` is NULL
 * (ECRMOCK_ERR_INVALID_PARAMETER) or memory ran out (ECRMOCK_ERR_SERVER).
 */
ECRMOCK_API int ecrmock_http_credentials_set(ecrmock *m, const char *access_key_id, const char *secret_key,
                                             ecrmock_err *err);

/*
 * The session token of temporary credentials (copied; NULL: none, the
 * default; kept by ecrmock_reset()).  With SigV4 checks on, a request's
 * X-Amz-Security-Token header must then be this token; without one set, a
 * temporary access key id (one that starts "ASIA") needs some token and a
 * long-term one (any other) must send none.  Otherwise AWS's answer, 400
 * UnrecognizedClientException "The security token included in the request
 * is invalid.".  The token may be signed or not, as AWS allows (strict
 * checks want it signed).  Returns 0, or -1 with `*err` filled when `m` is
 * NULL (ECRMOCK_ERR_INVALID_PARAMETER) or memory ran out (ECRMOCK_ERR_SERVER).
 */
ECRMOCK_API int ecrmock_http_session_token_set(ecrmock *m, const char *session_token, ecrmock_err *err);

/*
 * Strict signed headers (non-zero) or AWS's rule (0, the default; kept by
 * ecrmock_reset()).  AWS's rule wants only host and x-amz-date signed: a
 * signer that leaves X-Amz-Target unsigned passes, against ECR as here,
 * and a captured request replayed with another target would run it.  Strict
 * checks also want every x-amz-* header the request carries (X-Amz-Target,
 * X-Amz-Security-Token, ...) and Content-Type signed, as the AWS SDKs sign
 * them; one left out is 400 IncompleteSignatureException "'X-Amz-Target'
 * must be a 'SignedHeader' in the AWS Authorization." (the name as sent).
 * Returns 0, or -1 with `*err` filled (ECRMOCK_ERR_INVALID_PARAMETER) when
 * `m` is NULL.
 */
ECRMOCK_API int ecrmock_http_sigv4_strict_set(ecrmock *m, int strict, ecrmock_err *err);

/*
 * Where SigV4's 5 minutes are counted from: the clock's mode decides (0, the
 * default; kept by ecrmock_reset()): in wall mode the system clock, whatever
 * the offset; pinned, the virtual clock (a test signs with its time).  On
 * (non-zero): the system clock in either mode, so that real clients, which
 * sign with the real time, pass against a pinned clock (ecrmock-server sets
 * it).  Returns 0, or -1 with `*err` filled (ECRMOCK_ERR_INVALID_PARAMETER)
 * when `m` is NULL.
 */
ECRMOCK_API int ecrmock_http_sigv4_system_clock_set(ecrmock *m, int on, ecrmock_err *err);

/*
 * Makes GetDownloadUrlForLayer hand out URLs on `base_url` (e.g.
 * "http://127.0.0.1:8080", no trailing slash) instead of S3's bucket host,
 * so that a client that follows the URL reaches the fake: what a loopback
 * server needs (ecrmock-server sets it to its own address).  The path and
 * presigned query stay the same; ecrmock_fetch_url() and
 * ecrmock_http_handle() accept both forms.  NULL goes back to S3's host.
 * Copied; kept by ecrmock_reset().  Returns 0, or -1 with `*err` filled when
 * `m` is NULL or the URL does not start with http:// or https://
 * (ECRMOCK_ERR_INVALID_PARAMETER), or memory ran out (ECRMOCK_ERR_SERVER).
 */
ECRMOCK_API int ecrmock_http_base_url_set(ecrmock *m, const char *base_url, ecrmock_err *err);

/*
 * The control API: the test controls over HTTP, for a test that drives the
 * fake from another process or language (ecrmock-server turns it on; its
 * --no-control turns it off).  Off by default; on (`on` non-zero), every
 * request to ecrmock_http_handle() whose path is /_ecrmock or under it, on
 * any host, is a control request (no ECR, S3 or registry request has such a
 * path); off, such a path is answered as any other unknown one.  Kept by
 * ecrmock_reset().  JSON in and out (Content-Type application/json), in the
 * forms of the C API named beside each endpoint; README.md, "The control
 * API", has a curl session:
 *
 *   GET    /_ecrmock                  {"version": "0.1.0"}
 *   POST   /_ecrmock/reset            ecrmock_reset(); {}
 *   POST   /_ecrmock/fixture          body: a fixture; ecrmock_fixture_load(); {}
 *   GET    /_ecrmock/snapshot         ecrmock_snapshot()
 *   GET    /_ecrmock/clock            {"mode": "wall"|"pinned", "now": ms, "offsetMs": ms (wall only)}
 *   POST   /_ecrmock/clock            {"mode"?, "now"?}: ecrmock_clock_mode_set() then
 *                                     ecrmock_clock_set(); the clock as GET says it
 *   POST   /_ecrmock/clock/advance    {"ms": ms}: ecrmock_clock_advance(); the clock
 *   GET    /_ecrmock/faults           ecrmock_faults_json()
 *   POST   /_ecrmock/faults           body: a rule; ecrmock_fault_add_json(); {"id": 1}
 *   DELETE /_ecrmock/faults           ecrmock_fault_clear(); {}
 *   GET    /_ecrmock/faults/<id>      that rule's entry of ecrmock_faults_json()
 *   DELETE /_ecrmock/faults/<id>      ecrmock_fault_remove(); {}
 *   GET    /_ecrmock/journal          ecrmock_journal_json()
 *   DELETE /_ecrmock/journal          ecrmock_journal_clear(); {}
 *   POST   /_ecrmock/journal          {"enabled": bool}: ecrmock_journal_enable(); {}
 *   GET    /_ecrmock/journal/scenario ecrmock_scenario_record(), ?fixture=PATH its fixture
 *   GET    /_ecrmock/counts           {"total": n, "calls": {"PutImage": n}, "runs": {...},
 *                                      "journal": {"length": n, "dropped": n}}
 *                                     (ecrmock_call_count(), ecrmock_run_count(): actions
 *                                     called at least once)
 *   POST   /_ecrmock/scan/findings    {"registryId"?, "repositoryName", "imageDigest",
 *                                      "findings"}: ecrmock_scan_findings_set(); {}
 *   POST   /_ecrmock/scan/duration    {"ms": ms}: ecrmock_scan_duration_set(); {}
 *   POST   /_ecrmock/principal        {"principalArn": "arn:..." | null}: ecrmock_principal_set(); {}
 *   GET    /_ecrmock/options          ecrmock_options_json() of the instance's options
 *   POST   /_ecrmock/options          the options to change, as ecrmock_options_from_json()
 *                                     reads them (members left out stay):
 *                                     ecrmock_options_set(); the options as GET says them
 *
 * A refusal is the control's ecrmock_err as ECR's error document with the
 * path: {"__type": "InvalidParameterException", "message": err.text, "path":
 * "body: $.registries[0].name"} ("path" absent when there is none), status
 * 400 (500 ServerException: out of memory); a body that does not parse:
 * path "body: line L, column C"; an unknown member: path "body: $.<member>".
 * An unknown fault rule id: 404.  A path the API has not: 404
 * UnknownOperationException; a method the path does not take: 405, with an
 * Allow header.  With SigV4 checks on (ecrmock_http_credentials_set()),
 * control requests must be signed with the same credentials, scope
 * <date>/<the instance's region>/ecr/aws4_request, and are refused as API
 * requests are (curl signs them: --aws-sigv4 "aws:amz:us-east-1:ecr"
 * --user ID:SECRET).  Returns 0, or -1 with `*err` filled
 * (ECRMOCK_ERR_INVALID_PARAMETER) when `m` is NULL.
 */
ECRMOCK_API int ecrmock_http_control_set(ecrmock *m, int on, ecrmock_err *err);

/*
 * Fetches a URL that GetDownloadUrlForLayer handed out, as an HTTP GET of
 * it would.  Returns the HTTP status: 200 with `*bytes_out` a new copy of
 * the layer (ecrmock_buffer_free() it) and `*len_out` its length; 403 once the URL
 * has expired on the virtual clock or was changed (its host, path or any
 * query parameter: see ecrmock_http_handle()); 404 for a URL
 * this instance never issued or whose layer is gone; 501 for a layer a
 * fixture declared by its digest and size only (ecrmock holds no bytes for
 * it); -1 for NULL arguments or no memory.
 */
ECRMOCK_API int ecrmock_fetch_url(ecrmock *m, const char *url, void **bytes_out, size_t *len_out);

/* What ecrmock_http_host_kind() says a host is. */
typedef enum ecrmock_host_kind {
    ECRMOCK_HOST_OTHER,   /* none of ECR's (NULL too) */
    ECRMOCK_HOST_API,     /* an API endpoint: api.ecr.<region>.amazonaws.com, ecr.<region>...,
                             the FIPS and dual-stack forms */
    ECRMOCK_HOST_BUCKET,  /* the S3 host of the layer download URLs */
    ECRMOCK_HOST_REGISTRY /* a registry: <12 digits>.dkr.ecr.<region>.amazonaws.com */
} ecrmock_host_kind;

/*
 * Which of ECR's hosts `host` is (any case, an optional ":port" and
 * trailing dot), as ecrmock_http_handle() routes by it; writes the region
 * it names into `region` (cap bytes, cut to fit; "" for another host) when
 * `region` is not NULL and cap > 0.  A pure function: no instance.
 */
ECRMOCK_API ecrmock_host_kind ecrmock_http_host_kind(const char *host, char *region, size_t cap);

#ifdef __cplusplus
}
#endif

#endif /* ECRMOCK_HTTP_H */
