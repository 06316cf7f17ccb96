/*
 * ecrmock: an in-process fake of Amazon ECR for the unit tests of C code.
 *
 * An ecrmock instance holds an in-memory ECR (registries, repositories, layers,
 * uploads, images, tags and repository policies) and answers ECR API calls the
 * way ECR does: same validation, same error codes and messages, same field
 * names, with digests, sizes and tag moves computed for real.
 *
 * Three ways in:
 *   ecrmock_call()      the JSON level: an action name and a json_t request.
 *   ecrmock_call_raw()  the wire level: X-Amz-Target and the AWS JSON 1.1 body,
 *                       bytes in and bytes out exactly as ECR sends them.
 *   ecrmock_http_handle() the HTTP level: whole HTTP requests (the API's POST and
 *                       the GET of a layer download URL), SigV4 checks on
 *                       demand; include/ecrmock_server.h serves it on a
 *                       loopback port (libecrmock_server), and
 *                       include/ecrmock_curl.h answers libcurl's easy
 *                       interface with it (libecrmock_curl).
 *
 * Ownership follows jansson's words: a "new reference" is yours to release
 * (json_decref() for json_t, free() for malloc'd bytes); a "borrowed
 * reference" stays owned by ecrmock; arguments are borrowed and never kept
 * (ecrmock copies what it stores).
 *
 * Threads: every function may be called from several threads on one
 * instance; each call is atomic.  Instances are independent of each other;
 * the library has no global mutable state of its own.
 */
#ifndef ECRMOCK_H
#define ECRMOCK_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h> /* FILE, for the scenario runner's report */

#include <jansson.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What the shared library exports: the public API and nothing else. */
#if defined(__GNUC__) || defined(__clang__)
#define ECRMOCK_API __attribute__((visibility("default")))
#else
#define ECRMOCK_API
#endif

#define ECRMOCK_VERSION_MAJOR 0
#define ECRMOCK_VERSION_MINOR 1
#define ECRMOCK_VERSION_PATCH 0
#define ECRMOCK_VERSION_STRING "0.1.0"

/* The library's version, "MAJOR.MINOR.PATCH" (a static string). */
ECRMOCK_API const char *ecrmock_version(void);

/* ------------------------------------------------------------------------ */
/* Error codes                                                               */
/* ------------------------------------------------------------------------ */

/*
 * Every error ecrmock can answer with, as X(ENUM, "__type", http_status).
 * The list generates ecrmock_error, ecrmock_error_name() and
 * ecrmock_error_status(); values are never renumbered or reused, new ones
 * are appended.
 */
#define ECRMOCK_ERROR_LIST(X)                                                  \
    X(OK, "", 200)                                                             \
    X(SERVER, "ServerException", 500)                                          \
    X(INVALID_PARAMETER, "InvalidParameterException", 400)                     \
    X(SERIALIZATION, "SerializationException", 400)                            \
    X(UNKNOWN_OPERATION, "UnknownOperationException", 400)                     \
    X(REPOSITORY_NOT_FOUND, "RepositoryNotFoundException", 400)                \
    X(REPOSITORY_ALREADY_EXISTS, "RepositoryAlreadyExistsException", 400)      \
    X(REPOSITORY_NOT_EMPTY, "RepositoryNotEmptyException", 400)                \
    X(REPOSITORY_POLICY_NOT_FOUND, "RepositoryPolicyNotFoundException", 400)   \
    X(LIMIT_EXCEEDED, "LimitExceededException", 400)                           \
    X(INVALID_TAG_PARAMETER, "InvalidTagParameterException", 400)              \
    X(TOO_MANY_TAGS, "TooManyTagsException", 400)                              \
    X(KMS, "KmsException", 400)                                                \
    X(UPLOAD_NOT_FOUND, "UploadNotFoundException", 400)                        \
    X(INVALID_LAYER_PART, "InvalidLayerPartException", 400)                    \
    X(INVALID_LAYER, "InvalidLayerException", 400)                             \
    X(LAYER_PART_TOO_SMALL, "LayerPartTooSmallException", 400)                 \
    X(LAYER_ALREADY_EXISTS, "LayerAlreadyExistsException", 400)                \
    X(EMPTY_UPLOAD, "EmptyUploadException", 400)                               \
    X(LAYERS_NOT_FOUND, "LayersNotFoundException", 400)                        \
    X(LAYER_INACCESSIBLE, "LayerInaccessibleException", 400)                   \
    X(IMAGE_NOT_FOUND, "ImageNotFoundException", 400)                          \
    X(IMAGE_ALREADY_EXISTS, "ImageAlreadyExistsException", 400)                \
    X(IMAGE_TAG_ALREADY_EXISTS, "ImageTagAlreadyExistsException", 400)         \
    X(IMAGE_DIGEST_DOES_NOT_MATCH, "ImageDigestDoesNotMatchException", 400)    \
    X(REFERENCED_IMAGES_NOT_FOUND, "ReferencedImagesNotFoundException", 400)   \
    X(UNABLE_TO_GET_UPSTREAM_IMAGE, "UnableToGetUpstreamImageException", 400)  \
    X(UNABLE_TO_GET_UPSTREAM_LAYER, "UnableToGetUpstreamLayerException", 400)  \
    X(VALIDATION, "ValidationException", 400)                                  \
    X(THROTTLING, "ThrottlingException", 400)                                  \
    X(SERVICE_UNAVAILABLE, "ServiceUnavailableException", 503)                 \
    X(BLOCKED_BY_ORGANIZATION_POLICY, "BlockedByOrganizationPolicyException", 400) \
    X(EXCLUSION_ALREADY_EXISTS, "ExclusionAlreadyExistsException", 400)        \
    X(EXCLUSION_NOT_FOUND, "ExclusionNotFoundException", 400)                  \
    X(IMAGE_ARCHIVED, "ImageArchivedException", 400)                           \
    X(IMAGE_STORAGE_CLASS_UPDATE_NOT_SUPPORTED, "ImageStorageClassUpdateNotSupportedException", 400) \
    X(LIFECYCLE_POLICY_NOT_FOUND, "LifecyclePolicyNotFoundException", 400)     \
    X(LIFECYCLE_POLICY_PREVIEW_IN_PROGRESS, "LifecyclePolicyPreviewInProgressException", 400) \
    X(LIFECYCLE_POLICY_PREVIEW_NOT_FOUND, "LifecyclePolicyPreviewNotFoundException", 400) \
    X(PULL_THROUGH_CACHE_RULE_ALREADY_EXISTS, "PullThroughCacheRuleAlreadyExistsException", 400) \
    X(PULL_THROUGH_CACHE_RULE_NOT_FOUND, "PullThroughCacheRuleNotFoundException", 400) \
    X(REGISTRY_POLICY_NOT_FOUND, "RegistryPolicyNotFoundException", 400)       \
    X(SCAN_NOT_FOUND, "ScanNotFoundException", 400)                            \
    X(SECRET_NOT_FOUND, "SecretNotFoundException", 400)                        \
    X(SIGNING_CONFIGURATION_NOT_FOUND, "SigningConfigurationNotFoundException", 400) \
    X(TEMPLATE_ALREADY_EXISTS, "TemplateAlreadyExistsException", 400)          \
    X(TEMPLATE_NOT_FOUND, "TemplateNotFoundException", 400)                    \
    X(UNABLE_TO_ACCESS_SECRET, "UnableToAccessSecretException", 400)           \
    X(UNABLE_TO_DECRYPT_SECRET_VALUE, "UnableToDecryptSecretValueException", 400) \
    X(UNABLE_TO_LIST_UPSTREAM_IMAGE_REFERRERS, "UnableToListUpstreamImageReferrersException", 400) \
    X(UNSUPPORTED_IMAGE_TYPE, "UnsupportedImageTypeException", 400)            \
    X(UNSUPPORTED_UPSTREAM_REGISTRY, "UnsupportedUpstreamRegistryException", 400)

typedef enum ecrmock_error {
#define ECRMOCK__ERROR_ENUM(e, name, status) ECRMOCK_ERR_##e,
    ECRMOCK_ERROR_LIST(ECRMOCK__ERROR_ENUM)
#undef ECRMOCK__ERROR_ENUM
    ECRMOCK_ERR__COUNT
} ecrmock_error;

/* The AWS error name ("RepositoryNotFoundException"); "" for ECRMOCK_ERR_OK,
 * NULL for a value outside the list.  A static string. */
ECRMOCK_API const char *ecrmock_error_name(ecrmock_error code);

/* The HTTP status ECR sends with this error (200 for OK, 400 for client
 * errors, 500 for ServerException); 0 for a value outside the list. */
ECRMOCK_API int ecrmock_error_status(ecrmock_error code);

/* The code whose AWS name is `name`; ECRMOCK_ERR__COUNT if none is. */
ECRMOCK_API ecrmock_error ecrmock_error_from_name(const char *name);

/* ------------------------------------------------------------------------ */
/* Instances                                                                 */
/* ------------------------------------------------------------------------ */

typedef struct ecrmock ecrmock;

#define ECRMOCK_OPTIONS_VERSION 1

/*
 * Options for ecrmock_new().  Initialise with ECRMOCK_OPTIONS_INIT, then set
 * what you need: fields are only ever appended, and a zero (or NULL) field
 * means "the default" given beside it.
 */
typedef struct ecrmock_options {
    unsigned int version;         /* ECRMOCK_OPTIONS_VERSION */
    const char *account_id;       /* the caller's registry: "123456789012" */
    const char *region;           /* "us-east-1" */
    int64_t clock_start_ms;       /* virtual clock start, ms since the epoch,
                                     at most ECRMOCK_CLOCK_MAX_MS:
                                     ECRMOCK_DEFAULT_CLOCK_MS (2024-01-01) */
    uint64_t seed;                /* drives every generated id and token: 0 */
    uint64_t min_part_size;       /* smallest non-final layer part, bytes:
                                     ECR's 5 MiB (5242880).  InitiateLayerUpload's
                                     partSize is twice it (ECR: 10485760), at
                                     most 20,971,520 unless it is larger */
    int64_t upload_lifetime_ms;   /* an upload id unused this long is gone:
                                     ECRMOCK_DEFAULT_UPLOAD_LIFETIME_MS */
    uint64_t max_repositories;    /* repositories per registry: 10,000 */
    uint64_t max_images;          /* images per repository: 100,000 */
    uint64_t max_layer_parts;     /* parts per layer upload: 4,200 */
    size_t journal_limit;         /* call journal entries kept: 10,000 */
    uint64_t max_layer_bytes;     /* the largest layer: 52,000 MiB */
    uint64_t max_layers_per_image;/* layers in one image manifest: 127 */
    uint64_t max_tags_per_image;  /* tags on one image: 1,000 */
    uint64_t max_resource_tags;   /* resource tags on a repository: 50 */
    uint64_t token_length;        /* GetAuthorizationToken's authorizationToken,
                                     characters: ECRMOCK_DEFAULT_TOKEN_LENGTH;
                                     512 to 65,536, rounded up to a length
                                     the token's base64 allows (at most 11
                                     more) */
    uint64_t max_synth_bytes;     /* the bytes one fixture load may synthesise
                                     ({"size", "seed"} layers, each pair
                                     counted once): 4 GiB */
} ecrmock_options;

#define ECRMOCK_OPTIONS_INIT {ECRMOCK_OPTIONS_VERSION, NULL, NULL, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}

#define ECRMOCK_DEFAULT_ACCOUNT "123456789012"
#define ECRMOCK_DEFAULT_REGION "us-east-1"
#define ECRMOCK_DEFAULT_CLOCK_MS INT64_C(1704067200000) /* 2024-01-01T00:00:00Z */
#define ECRMOCK_DEFAULT_MIN_PART_SIZE UINT64_C(5242880)
#define ECRMOCK_DEFAULT_UPLOAD_LIFETIME_MS INT64_C(86400000) /* 24 hours */
#define ECRMOCK_DEFAULT_TOKEN_LENGTH 2368 /* a token ECR gave an IAM user (README.md) */

/*
 * Checks options without creating anything.  Returns NULL when `opts` (or
 * NULL, the defaults) would be accepted by ecrmock_new(), otherwise a static
 * sentence saying which field is wrong and why.
 */
ECRMOCK_API const char *ecrmock_options_check(const ecrmock_options *opts);

/*
 * Creates an instance: an empty ECR whose caller is `opts->account_id` in
 * `opts->region`.  `opts` is borrowed (strings are copied) and may be NULL
 * for every default.  Returns a new instance to release with ecrmock_free(),
 * or NULL when the options are invalid (ecrmock_options_check() says why)
 * or memory ran out.
 */
ECRMOCK_API ecrmock *ecrmock_new(const ecrmock_options *opts);

/* Releases an instance and everything it holds.  NULL is a harmless no-op.
 * No other call on `m` may be running or follow. */
ECRMOCK_API void ecrmock_free(ecrmock *m);

/* Empties the instance (registries of every region, layers, uploads, fault
 * rules, the journal and the call counters, the principal, the Secrets
 * Manager secrets and the scanning state) and puts the clock and the id
 * generator back to where ecrmock_new() left them; the options, the hooks
 * and the HTTP level's credentials and base URL are kept. */
ECRMOCK_API void ecrmock_reset(ecrmock *m);

/* ------------------------------------------------------------------------ */
/* Calls                                                                     */
/* ------------------------------------------------------------------------ */

/*
 * The JSON level.  `action` is the bare operation name ("PutImage");
 * `request` is borrowed and may be NULL for {} (it is the request object as
 * the AWS JSON 1.1 body carries it: blobs as base64 strings, timestamps as
 * epoch seconds).  Returns the HTTP status ECR would send: 200 on success,
 * 400 for a client error, 500 for ServerException.  `*response` receives a
 * new reference: the operation's output object on success, otherwise ECR's
 * error document {"__type": "...", "message": "..."} with the error shape's
 * extra members.  On a failed call the instance is unchanged.
 * Returns -1 (and sets *response to NULL) only when `m`, `action` or
 * `response` is NULL.
 */
ECRMOCK_API int ecrmock_call(ecrmock *m, const char *action, json_t *request, json_t **response);

/*
 * The wire level.  `target` is the X-Amz-Target header's value
 * ("AmazonEC2ContainerRegistry_V20150921.PutImage") or the bare action name;
 * `body`/`body_len` the request body (NULL or empty means {}).  `*response`
 * receives a new malloc'd, NUL-terminated body (release with free()) and
 * `*response_len` its length without the NUL.  Same return value as
 * ecrmock_call(); -1 when an argument is NULL or memory ran out before a
 * body could be made.  Timestamps, like every real, are written as ECR's
 * Java front end writes a double: "createdAt":1.7040672E9 (see README.md).
 */
ECRMOCK_API int ecrmock_call_raw(ecrmock *m, const char *target, const char *body, size_t body_len,
                     char **response, size_t *response_len);

/* The X-Amz-Target prefix of ECR's operations. */
#define ECRMOCK_TARGET_PREFIX "AmazonEC2ContainerRegistry_V20150921."

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
 * with ecrmock_http_response_release()). */
typedef struct ecrmock_http_response {
    int status;
    ecrmock_http_header *headers;       /* names and values malloc'd */
    size_t n_headers;
    char *body;                         /* malloc'd, NUL-terminated (the NUL not counted) */
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
 *
 * `req` is borrowed.  Returns the status (also in resp->status), or -1 when
 * an argument is NULL, req->version is unknown, a required field is NULL, or
 * memory ran out (then *resp is empty).  `*resp` is always initialised.
 */
ECRMOCK_API int ecrmock_http_handle(ecrmock *m, const ecrmock_http_request *req, ecrmock_http_response *resp);

/* Releases what a response holds and empties it.  NULL is a no-op. */
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
 * hash, and an X-Amz-Date within 5 minutes of the virtual clock.  The
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
 * Returns 0, or -1 when only one string is given, `m` is NULL or memory ran out.
 */
ECRMOCK_API int ecrmock_http_credentials_set(ecrmock *m, const char *access_key_id, const char *secret_key);

/*
 * The session token of temporary credentials (copied; NULL: none, the
 * default; kept by ecrmock_reset()).  With SigV4 checks on, a request's
 * X-Amz-Security-Token header must then be this token; without one set, a
 * temporary access key id (one that starts "ASIA") needs some token and a
 * long-term one (any other) must send none.  Otherwise AWS's answer, 400
 * UnrecognizedClientException "The security token included in the request
 * is invalid.".  The token may be signed or not, as AWS allows (strict
 * checks want it signed).  Returns 0, or -1 when `m` is NULL or memory ran out.
 */
ECRMOCK_API int ecrmock_http_session_token_set(ecrmock *m, const char *session_token);

/*
 * Strict signed headers (non-zero) or AWS's rule (0, the default; kept by
 * ecrmock_reset()).  AWS's rule wants only host and x-amz-date signed: a
 * signer that leaves X-Amz-Target unsigned passes, against ECR as here,
 * and a captured request replayed with another target would run it.  Strict
 * checks also want every x-amz-* header the request carries (X-Amz-Target,
 * X-Amz-Security-Token, ...) and Content-Type signed, as the AWS SDKs sign
 * them; one left out is 400 IncompleteSignatureException "'X-Amz-Target'
 * must be a 'SignedHeader' in the AWS Authorization." (the name as sent).
 * Returns 0, or -1 when `m` is NULL.
 */
ECRMOCK_API int ecrmock_http_sigv4_strict_set(ecrmock *m, int strict);

/*
 * Makes GetDownloadUrlForLayer hand out URLs on `base_url` (e.g.
 * "http://127.0.0.1:8080", no trailing slash) instead of S3's bucket host,
 * so that a client that follows the URL reaches the fake: what a loopback
 * server needs (ecrmock-server sets it to its own address).  The path and
 * presigned query stay the same; ecrmock_fetch_url() and
 * ecrmock_http_handle() accept both forms.  NULL goes back to S3's host.
 * Copied; kept by ecrmock_reset().  Returns 0, or -1 when `m` is NULL, the
 * URL does not start with http:// or https:// or memory ran out.
 */
ECRMOCK_API int ecrmock_http_base_url_set(ecrmock *m, const char *base_url);

/* ------------------------------------------------------------------------ */
/* Test controls: never reachable through ECR actions                        */
/* ------------------------------------------------------------------------ */

/*
 * ecrmock_call(), made by a caller of another account and/or at another
 * region's endpoint.  One instance holds every region: each region has its
 * own registries (repositories, images, registry policy and replication
 * configuration), and repository ARNs and URIs name the region they are in.
 * `account_id` (12 digits) replaces the instance's account as the caller
 * (what an omitted registryId means, and the registry that DescribeRegistry,
 * the registry policy and replication actions act on); `region` (1 to 63
 * characters of a-z, 0-9 and '-') replaces the instance's region.  Either
 * may be NULL for the instance's own.  Replication writes into the other
 * regions, and this is how a test reads them:
 *   ecrmock_call_as(m, NULL, "eu-west-1", "BatchGetImage", req, &resp);
 * Layer URLs handed out in any region are served by ecrmock_fetch_url().
 * `request` is borrowed, `*response` a new reference, and the return value
 * is ecrmock_call()'s; -1 (and *response NULL) also for an account or region
 * of the wrong form, or no memory to set the region up.  The call is
 * journaled and counted as any other; the other test controls
 * (ecrmock_put_layer, ecrmock_images, fixtures, snapshots) see the
 * instance's own region only.
 */
ECRMOCK_API int ecrmock_call_as(ecrmock *m, const char *account_id, const char *region, const char *action,
                                json_t *request, json_t **response);

/* The virtual clock's latest time, 9999-12-31T23:59:59.999Z in ms since the
 * epoch (the last a four-digit year, as X-Amz-Date and ECR's dates write it,
 * can say).  The clock is always from 0 (1970-01-01) to this. */
#define ECRMOCK_CLOCK_MAX_MS INT64_C(253402300799999)

/* The virtual clock, in milliseconds since the epoch.  It never moves on its
 * own: every timestamp and every expiry (uploads, download URLs, tokens) is
 * read from it.  ecrmock_clock_set() puts it at `ms`; ecrmock_clock_advance()
 * moves it by `ms` (back when negative).  Both return 0, or -1 leaving the
 * clock as it was when `m` is NULL or the time would be outside
 * 0..ECRMOCK_CLOCK_MAX_MS. */
ECRMOCK_API int64_t ecrmock_clock_now(ecrmock *m);
ECRMOCK_API int ecrmock_clock_set(ecrmock *m, int64_t ms);
ECRMOCK_API int ecrmock_clock_advance(ecrmock *m, int64_t ms);

/* The longest digest string, "sha256:" and 64 hex digits, with its NUL. */
#define ECRMOCK_DIGEST_SIZE 72

/*
 * Puts `len` bytes as a layer (blob) into a repository, as a completed
 * upload would, without the wire.  `registry_id` may be NULL for the
 * caller's account.  `bytes` is borrowed (copied).  On success writes
 * "sha256:<hex>" into `digest_out` (ECRMOCK_DIGEST_SIZE bytes) when it is
 * not NULL.  A layer already present is not an error here.
 * Returns ECRMOCK_ERR_OK, ECRMOCK_ERR_REPOSITORY_NOT_FOUND,
 * ECRMOCK_ERR_INVALID_PARAMETER (m or repository NULL, an empty repository
 * name, a registry_id that is not 12 digits, bytes NULL with len > 0) or
 * ECRMOCK_ERR_SERVER (out of memory).
 */
ECRMOCK_API ecrmock_error ecrmock_put_layer(ecrmock *m, const char *registry_id, const char *repository,
                                const void *bytes, size_t len, char *digest_out);

/*
 * Reads a layer's bytes back.  `*bytes_out` receives a new malloc'd copy
 * (release with free(); NULL for an empty layer) and `*len_out` its length.
 * Returns ECRMOCK_ERR_OK, ECRMOCK_ERR_REPOSITORY_NOT_FOUND,
 * ECRMOCK_ERR_LAYERS_NOT_FOUND, ECRMOCK_ERR_INVALID_PARAMETER (a NULL
 * argument, names as for ecrmock_put_layer(), a digest not of the form
 * "algorithm:hex") or ECRMOCK_ERR_SERVER (out of memory).
 */
ECRMOCK_API ecrmock_error ecrmock_get_layer(ecrmock *m, const char *registry_id, const char *repository,
                                const char *digest, void **bytes_out, size_t *len_out);

/*
 * Fetches a URL that GetDownloadUrlForLayer handed out, as an HTTP GET of
 * it would.  Returns the HTTP status: 200 with `*bytes_out` a new malloc'd
 * copy of the layer (free() it) and `*len_out` its length; 403 once the URL
 * has expired on the virtual clock or was changed (its host, path or any
 * query parameter: see ecrmock_http_handle()); 404 for a URL
 * this instance never issued or whose layer is gone; -1 for NULL arguments
 * or no memory.
 */
ECRMOCK_API int ecrmock_fetch_url(ecrmock *m, const char *url, void **bytes_out, size_t *len_out);

/*
 * The images of a repository, for assertions, without a call (nothing is
 * journaled or counted): a new reference to an array, in push order, of
 *   {"imageDigest": "sha256:...", "imageTags": ["v1", ...]}
 * (tags sorted), or NULL when the repository does not exist.
 */
ECRMOCK_API json_t *ecrmock_images(ecrmock *m, const char *registry_id, const char *repository);

/*
 * Names the IAM principal the following calls come from, e.g.
 * "arn:aws:iam::123456789012:role/ci".  ecrmock has no caller identity of
 * its own; this one decides only whether a pull is recorded: BatchGetImage
 * leaves lastRecordedPullTime alone when the principal is on the pulled
 * registry's pull time update exclusion list
 * (RegisterPullTimeUpdateExclusion).  NULL (the default, and after
 * ecrmock_reset()) means no principal: every pull is recorded.
 * `principal_arn` is borrowed (copied); it is not checked.
 * Returns 0, or -1 when m is NULL or out of memory (nothing changed).
 */
ECRMOCK_API int ecrmock_principal_set(ecrmock *m, const char *principal_arn);

/*
 * Runs the repository's lifecycle policy now, on the virtual clock, as ECR
 * runs it on its own schedule: the images an expire rule selects are
 * deleted (with their tags), those a transition rule selects are moved to
 * the archive storage class (lastArchivedAt now; a manifest list with the
 * images it references, as UpdateImageStorageClass moves it), and
 * GetLifecyclePolicy's lastEvaluatedAt becomes the clock's now.  The evaluation is the one
 * StartLifecyclePolicyPreview shows: rules in rulePriority order; each
 * rule identifies every image its selection fits, those a higher priority
 * rule identified included; imageCountMoreThan keeps the countNumber most
 * recently pushed of them, sinceImagePushed marks those pushed more than
 * countNumber days before now; a rule expires only the images it marks that
 * no higher priority rule identified (one rule or none per image); images
 * referenced by a manifest list are never expired or archived on their own;
 * a rule sees only the images of its storageClass; sinceImagePulled and
 * sinceImageTransitioned count from lastRecordedPullTime (or the restore,
 * or the push) and lastArchivedAt.
 *
 * `registry_id` may be NULL for the caller's account.  When `expired` is
 * not NULL, *expired receives a new reference to an array of the images
 * acted on, expired and archived, in the preview's order (rule by rule,
 * oldest first), as GetLifecyclePolicyPreview shows them:
 *   {"imageDigest": "sha256:...", "imageTags": ["v1"], "imagePushedAt": 1704067200.0,
 *    "action": {"type": "EXPIRE"}, "appliedRulePriority": 1, "storageClass": "STANDARD"}
 * ("imageTags" absent for an untagged image; "action" {"type": "TRANSITION",
 * "targetStorageClass": "ARCHIVE"} for an archived one; "storageClass" the
 * class the image was in), or NULL when the call fails.
 * Nothing is journaled or counted.
 * Returns ECRMOCK_ERR_OK, ECRMOCK_ERR_REPOSITORY_NOT_FOUND,
 * ECRMOCK_ERR_LIFECYCLE_POLICY_NOT_FOUND (the repository has none),
 * ECRMOCK_ERR_INVALID_PARAMETER (m or repository NULL, an empty repository
 * name, a registry_id that is not 12 digits, or a stored policy the
 * evaluation refuses: only a repository creation template can store one) or
 * ECRMOCK_ERR_SERVER (out of memory); on failure nothing was expired or archived.
 */
ECRMOCK_API ecrmock_error ecrmock_lifecycle_apply(ecrmock *m, const char *registry_id, const char *repository,
                                                  json_t **expired);

/*
 * Secrets Manager, as pull-through cache rules see it.  ecrmock has no
 * Secrets Manager: by default every credentialArn that matches the model's
 * pattern (a secret whose name starts with "ecr-pullthroughcache/") exists,
 * can be read and decrypted, and holds credentials the upstream registry
 * accepts.  ecrmock_secret_set() gives one ARN another state, which
 * CreatePullThroughCacheRule, UpdatePullThroughCacheRule and
 * ValidatePullThroughCacheRule then see:
 */
typedef enum ecrmock_secret_state {
    ECRMOCK_SECRET_VALID = 0,         /* the default: exists, readable, accepted upstream */
    ECRMOCK_SECRET_NOT_FOUND = 1,     /* Create/Update: SecretNotFoundException */
    ECRMOCK_SECRET_NO_ACCESS = 2,     /* Create/Update: UnableToAccessSecretException */
    ECRMOCK_SECRET_UNDECRYPTABLE = 3, /* Create/Update: UnableToDecryptSecretValueException */
    ECRMOCK_SECRET_REJECTED = 4       /* readable, but the upstream refuses the credentials:
                                         Create/Update succeed, Validate answers isValid false */
} ecrmock_secret_state;

/*
 * Sets the state of the secret `credential_arn` (borrowed, copied) for every
 * registry of the instance; ECRMOCK_SECRET_VALID puts it back to the default.
 * A rule already holding the ARN sees the new state from its next call.
 * ecrmock_reset() forgets every state.  Returns 0, or -1 when an argument is
 * NULL, `state` is not one of the above, or memory ran out.
 */
ECRMOCK_API int ecrmock_secret_set(ecrmock *m, const char *credential_arn, ecrmock_secret_state state);

/*
 * Creates a repository the way ECR does on the user's behalf for one of the
 * uses a repository creation template names, "PULL_THROUGH_CACHE",
 * "REPLICATION" or "CREATE_ON_PUSH" (ecrmock performs none of these
 * itself): with ECR's defaults, then the settings of the template that
 * applies (the longest prefix p whose template lists that use and such that
 * `repository` starts with p + "/", else the ROOT template): tag
 * mutability and exclusion filters, encryption, resource tags, repository
 * policy and lifecycle policy.  Nothing is journaled or counted.
 * `registry_id` may be NULL for the caller's account.  When `repository_out`
 * is not NULL it receives a new reference to the repository as
 * DescribeRepositories shows it (NULL on failure).
 * Returns ECRMOCK_ERR_OK, ECRMOCK_ERR_REPOSITORY_ALREADY_EXISTS,
 * ECRMOCK_ERR_LIMIT_EXCEEDED (the registry is full),
 * ECRMOCK_ERR_INVALID_PARAMETER (m, repository or applied_for NULL, a name
 * or registry id the model refuses, an unknown use) or ECRMOCK_ERR_SERVER
 * (out of memory); on failure nothing changed.
 */
ECRMOCK_API ecrmock_error ecrmock_create_repository_for(ecrmock *m, const char *registry_id, const char *repository,
                                                        const char *applied_for, json_t **repository_out);

/*
 * Image scanning.  A basic scan (StartImageScan, or scan on push) stays
 * IN_PROGRESS until the virtual clock has advanced by the scan duration from
 * its start, then it is COMPLETE and reports the findings set here for the
 * image (none by default).  Findings are the image's: setting them again
 * changes what its completed scan reports from then on.
 */

/* The default scan duration: 5 seconds of virtual time. */
#define ECRMOCK_DEFAULT_SCAN_DURATION_MS INT64_C(5000)

/*
 * Sets how long scans started from now on stay IN_PROGRESS, in milliseconds
 * of virtual time (0: a scan is COMPLETE at once); ecrmock_reset() restores
 * ECRMOCK_DEFAULT_SCAN_DURATION_MS.  Returns ECRMOCK_ERR_OK, or
 * ECRMOCK_ERR_INVALID_PARAMETER when `m` is NULL or `ms` is negative or
 * more than ECRMOCK_CLOCK_MAX_MS.
 */
ECRMOCK_API ecrmock_error ecrmock_scan_duration_set(ecrmock *m, int64_t ms);

/*
 * Sets the findings the scans of image `digest` report (as its vulnerability
 * database would): `findings` is borrowed (copied) and is a JSON array of
 * ImageScanFinding objects,
 *   [{"name": "CVE-2024-1234", "description": "...", "uri": "https://...",
 *     "severity": "HIGH", "attributes": [{"key": "package_name", "value": "openssl"}]}]
 * where "severity" is required and one of INFORMATIONAL, LOW, MEDIUM, HIGH,
 * CRITICAL, UNDEFINED, the other members optional strings (attributes: a list
 * of at most 50 {key, value} objects); NULL or [] means no findings.
 * DescribeImageScanFindings pages over them in this order and counts them by
 * severity for findingSeverityCounts.  `registry_id` may be NULL for the
 * caller's account.  The image must exist; it need not have been scanned yet.
 * Returns ECRMOCK_ERR_OK, ECRMOCK_ERR_REPOSITORY_NOT_FOUND,
 * ECRMOCK_ERR_IMAGE_NOT_FOUND, ECRMOCK_ERR_INVALID_PARAMETER (a NULL `m`,
 * `repository` or `digest`, a registry_id that is not 12 digits, findings
 * not of that shape: nothing is changed) or ECRMOCK_ERR_SERVER (out of
 * memory).
 */
ECRMOCK_API ecrmock_error ecrmock_scan_findings_set(ecrmock *m, const char *registry_id, const char *repository,
                                                    const char *digest, json_t *findings);

/* ------------------------------------------------------------------------ */
/* Fault injection: deterministic failure paths                              */
/* ------------------------------------------------------------------------ */

/* What a fault rule does when it fires. */
typedef enum ecrmock_fault_effect {
    /* Answer with an error; the action does not run. */
    ECRMOCK_FAULT_ERROR = 0,
    /* Run the action (its changes stay), then answer with the error: the
     * "PutImage succeeded but the response was lost" case.  When the action
     * itself fails, its own error is answered. */
    ECRMOCK_FAULT_APPLY_THEN_ERROR = 1,
    /* Advance the virtual clock by latency_ms, then run the action (so that
     * uploads, URLs and tokens can expire mid-flow).  Latency rules add up:
     * several may fire on one call, with one other rule.  The clock stops at
     * ECRMOCK_CLOCK_MAX_MS rather than pass it. */
    ECRMOCK_FAULT_LATENCY = 2,
    /* The action runs; at the wire (and HTTP) level the response body is cut
     * after truncate_at bytes, sent with `status` when set (else the action's
     * own status).  The JSON level is unaffected. */
    ECRMOCK_FAULT_TRUNCATE = 3,
    /* The action runs; at the wire (and HTTP) level the response body is
     * replaced by `body` (default: an HTML error page, which no JSON parser
     * accepts), sent with `status` when set (else the action's own status,
     * 200 when it succeeded).  The JSON level is unaffected. */
    ECRMOCK_FAULT_MALFORM = 4,
    /* Transport faults, for the libcurl level (include/ecrmock_curl.h), where
     * curl_easy_perform() returns CURLE_COULDNT_CONNECT,
     * CURLE_OPERATION_TIMEDOUT or CURLE_RECV_ERROR with no HTTP response.
     * CONNECT_REFUSED and TIMEOUT: the request never reaches ECR, the action
     * does not run.  RECV_ERROR: the action runs (its changes stay) and the
     * response is lost, like APPLY_THEN_ERROR.  The JSON and wire levels,
     * which have no transport, answer the rule's error (ServerException, 500,
     * by default); ecrmock_http_handle() answers the same and adds the header
     * "x-ecrmock-transport-fault" naming the effect ("connect-refused",
     * "timeout", "recv-error"), which the libcurl interposer turns into the
     * CURLcode.  No time passes: add a latency rule for that. */
    ECRMOCK_FAULT_CONNECT_REFUSED = 5,
    ECRMOCK_FAULT_TIMEOUT = 6,
    ECRMOCK_FAULT_RECV_ERROR = 7
} ecrmock_fault_effect;

/* The response header by which ecrmock_http_handle() reports a transport
 * fault (see ECRMOCK_FAULT_CONNECT_REFUSED). */
#define ECRMOCK_HTTP_TRANSPORT_FAULT_HEADER "x-ecrmock-transport-fault"

#define ECRMOCK_FAULT_VERSION 2

/* The longest latency a rule may add to a call: 100 years of 365 days. */
#define ECRMOCK_FAULT_MAX_LATENCY_MS INT64_C(3153600000000)

/*
 * A fault rule.  Initialise with ECRMOCK_FAULT_INIT; fields are only ever
 * appended.  A call matches when its action, repository and request all
 * match; the rule fires on the `nth` matching call and the `count` - 1 after
 * it (count 0: every one from the nth on), each time only with `probability`
 * when that is above 0, drawn from the instance's seeded generator (a stream
 * of its own, so rules never change the ids the fake generates).
 *
 * error, message, status, latency_ms, truncate_at and body each mean
 * something only for some effects (below); a rule that sets one its effect
 * does not use is refused, so that no member is silently ignored.  error and
 * message must be UTF-8 (they go into a JSON error document); body may hold
 * any bytes but NUL.
 */
typedef struct ecrmock_fault {
    unsigned int version;        /* ECRMOCK_FAULT_VERSION */
    const char *action;          /* "UploadLayerPart"; NULL or "*": any action */
    const char *repository;      /* the request's repositoryName; NULL: any */
    json_t *request_match;       /* borrowed, copied: an object whose members must
                                    all equal the request's (objects compared as
                                    subsets, recursively); NULL: any request */
    unsigned long nth;           /* the first matching call that fires, from 1; 0 means 1 */
    unsigned long count;         /* how many calls fire; 0: all from the nth on */
    double probability;          /* 0: always; otherwise 0 < p <= 1 */
    ecrmock_fault_effect effect;
    const char *error;           /* ERROR, APPLY_THEN_ERROR and the transport effects:
                                    error __type, "ThrottlingException" by default
                                    ("ServerException" for the transport effects);
                                    any name is allowed (e.g. "AccessDeniedException") */
    const char *message;         /* the same effects; NULL: ECR's text for that error
                                    ("Rate exceeded", ...) */
    int status;                  /* every effect but LATENCY: 400 to 599, or 0: the
                                    error's status (400, 500 ServerException, 503
                                    ServiceUnavailableException); TRUNCATE, MALFORM:
                                    the action's own status */
    int64_t latency_ms;          /* ECRMOCK_FAULT_LATENCY: 1 to ECRMOCK_FAULT_MAX_LATENCY_MS */
    size_t truncate_at;          /* ECRMOCK_FAULT_TRUNCATE: bytes kept */
    const char *body;            /* ECRMOCK_FAULT_MALFORM: the body sent instead */
    /* Version 2: */
    json_t *headers_match;       /* borrowed, copied: an object of HTTP request
                                    headers the call must carry, by name (any
                                    case): "value" (exactly, repeated headers'
                                    values joined by ", "), true (present) or
                                    false (absent), compared with the headers as
                                    the journal shows them; only calls that came
                                    over HTTP (ecrmock_http_handle(), the
                                    server, the libcurl level) match.  NULL:
                                    any call */
} ecrmock_fault;

#define ECRMOCK_FAULT_INIT                                                                                        \
    {ECRMOCK_FAULT_VERSION, NULL, NULL, NULL, 0, 0, 0.0, ECRMOCK_FAULT_ERROR, NULL, NULL, 0, 0, 0, NULL, NULL}

/*
 * Adds a rule; `rule` is borrowed (everything copied).  Returns the rule's
 * id (> 0), or -1 when the rule is invalid or memory ran out; then, when
 * `err` is not NULL, *err receives a new malloc'd sentence saying what is
 * wrong (free() it).
 */
ECRMOCK_API long ecrmock_fault_add(ecrmock *m, const ecrmock_fault *rule, char **err);

/*
 * The same rule as a JSON object (borrowed), for fixtures and scenarios:
 *   {"action": "UploadLayerPart", "repository": "web", "request": {...},
 *    "headers": {"x-amz-security-token": false, "user-agent": "my-agent/1.0"},
 *    "nth": 3, "count": 1, "probability": 0.5,
 *    "effect": "error" | "apply-then-error" | "latency" | "truncate" | "malform"
 *              | "connect-refused" | "timeout" | "recv-error",
 *    "error": "ThrottlingException", "message": "...", "status": 400,
 *    "latencyMs": 90000, "truncateAt": 10, "body": "..."}
 * Every member is optional; unknown members, members of the wrong type,
 * negative integers and members the effect does not use are refused, with a
 * message that names the member.  Same return and `err` as ecrmock_fault_add().
 */
ECRMOCK_API long ecrmock_fault_add_json(ecrmock *m, json_t *rule, char **err);

/* Removes one rule; 0, or -1 when no rule has that id.  A call the rule has
 * already decided (on another thread, or the call whose hook removes it)
 * still ends as the rule said: error, message, status and body included. */
ECRMOCK_API int ecrmock_fault_remove(ecrmock *m, long id);

/* Removes every rule (calls they already decided end as they said). */
ECRMOCK_API void ecrmock_fault_clear(ecrmock *m);

/* How many times rule `id` has fired (0 for an unknown id). */
ECRMOCK_API unsigned long ecrmock_fault_fired(ecrmock *m, long id);

/* ------------------------------------------------------------------------ */
/* Hooks: anything rules cannot express                                      */
/* ------------------------------------------------------------------------ */

/* What a before-hook may set to answer with an error instead of running the
 * action (error NULL: let the call through). */
typedef struct ecrmock_injection {
    const char *error;   /* __type; the string must live until the hook returns */
    const char *message; /* NULL: ECR's text for that error */
    int status;          /* 0: the error's status */
} ecrmock_injection;

/* Called before each action, after validation; `request` is borrowed and
 * must not be changed. */
typedef void (*ecrmock_before_hook)(void *user, const char *action, json_t *request, ecrmock_injection *inject);
/* Called after each action with what the caller gets; borrowed arguments. */
typedef void (*ecrmock_after_hook)(void *user, const char *action, json_t *request, int status, json_t *response);

/* Sets (or, with NULLs, removes) the hooks.  Hooks run with the instance
 * locked, in the calling thread; they may call ecrmock functions on the
 * same instance (the lock is recursive). */
ECRMOCK_API void ecrmock_hooks_set(ecrmock *m, ecrmock_before_hook before, ecrmock_after_hook after, void *user);

/* ------------------------------------------------------------------------ */
/* The call journal                                                          */
/* ------------------------------------------------------------------------ */

/*
 * Every call (ecrmock_call and ecrmock_call_raw alike) is recorded in order:
 * action, request, status (the one the caller got: at the wire level, a
 * malform or truncate rule's status when it sets one), error code, response
 * and the virtual time,
 * whether the action ran, the fault rule that fired and its effect, and, for
 * a call that came over HTTP, the request's headers.  The journal keeps the
 * last `journal_limit` entries (option; 10,000 by default) and counts those
 * it dropped.  Counters are kept even when the journal is off, by this
 * rule: a call of an action is a request that reached ECR (every journaled
 * call but those a connect-refused or timeout fault stopped on the way);
 * a run of an action is a call whose action ran (it passed the fault rules,
 * validation and the before-hook: what it changes, it changed, even when an
 * apply-then-error or recv-error rule then lost its answer).  Whatever came in, the journal stays
 * JSON: an action name (an X-Amz-Target) is recorded as sent, except that
 * each byte of it that starts no UTF-8 sequence reads as U+FFFD.
 */

/* Turns recording on (the default) or off; entries already held stay. */
ECRMOCK_API void ecrmock_journal_enable(ecrmock *m, int on);
/* Forgets every entry and the dropped count (not the call counters). */
ECRMOCK_API void ecrmock_journal_clear(ecrmock *m);
/* Entries held now. */
ECRMOCK_API size_t ecrmock_journal_length(ecrmock *m);
/* Entries dropped since the last clear: because the journal was full, or
 * because there was no memory to record them. */
ECRMOCK_API size_t ecrmock_journal_dropped(ecrmock *m);
/*
 * Entry `index` (0 = oldest held; -1 = the newest, -2 the one before...), as
 * a new reference:
 *   {"seq": 7, "action": "PutImage", "request": {...}, "status": 400,
 *    "error": "ImageAlreadyExistsException", "response": {...}, "time": 1704067200.0,
 *    "ran": true, "fault": 2, "effect": "apply-then-error",
 *    "headers": {"content-type": "application/x-amz-json-1.1", "user-agent": "...",
 *                "authorization": "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=<elided>"}}
 * "error" is absent on success; "request" is null when the body was not
 * JSON (the wire and HTTP levels).  "ran": whether the action ran (false when
 * an error, connect-refused or timeout rule answered, the request was
 * refused before the action, or a before-hook answered).  "fault" names the
 * rule id that fired, if any (the deciding rule, else the first latency
 * rule), and "effect" its effect ("error", "apply-then-error", "latency",
 * "truncate", "malform", "connect-refused", "timeout", "recv-error").
 * "headers", only for a call that came over HTTP (ecrmock_http_handle(),
 * the server, the libcurl level): each header by its lower-case name, the
 * values of a repeated one joined by ", ", the Signature of Authorization
 * elided, any byte that starts no UTF-8 sequence as U+FFFD.  NULL when there
 * is no such entry.  The entry is independent of
 * the journal: its objects are copies, which the caller may change, keep
 * or release on any thread while other threads use the instance.
 */
ECRMOCK_API json_t *ecrmock_journal_entry(ecrmock *m, long index);
/* The whole journal as a JSON array of entries (new reference), each as
 * independent of the journal as ecrmock_journal_entry()'s. */
ECRMOCK_API json_t *ecrmock_journal_json(ecrmock *m);
/* Calls of `action` made so far (NULL: of every action, unknown ones
 * included), journal on or off, since ecrmock_new() or ecrmock_reset():
 * requests that reached ECR, whatever it answered (a connect-refused or
 * timeout fault stops a request before, and is not counted). */
ECRMOCK_API unsigned long ecrmock_call_count(ecrmock *m, const char *action);
/* Of those calls, the ones whose action ran (see above), so that "exactly
 * one CompleteLayerUpload ran" is ecrmock_run_count(m, "CompleteLayerUpload")
 * == 1 however many a retry loop sent, throttled or refused. */
ECRMOCK_API unsigned long ecrmock_run_count(ecrmock *m, const char *action);

/* ------------------------------------------------------------------------ */
/* Allocation (process-wide; for tests of out-of-memory paths)               */
/* ------------------------------------------------------------------------ */

typedef void *(*ecrmock_malloc_fn)(size_t size);
typedef void *(*ecrmock_realloc_fn)(void *ptr, size_t size);
typedef void (*ecrmock_free_fn)(void *ptr);

/*
 * Sets the functions ecrmock allocates its own memory with (NULL: the C
 * library's).  Process-wide, like jansson's json_set_alloc_funcs() (which
 * ecrmock's JSON goes through): call it before any instance exists, from
 * one thread.  Memory ecrmock hands to the caller to free() (response
 * bodies, layer copies, error messages) comes from these functions too:
 * with others installed, release it with their free.  When an allocation
 * fails, a call answers 500 ServerException and changes nothing (or
 * returns -1 when not even the error document could be made).
 */
ECRMOCK_API void ecrmock_set_alloc_funcs(ecrmock_malloc_fn malloc_fn, ecrmock_realloc_fn realloc_fn,
                                         ecrmock_free_fn free_fn);

/* ------------------------------------------------------------------------ */
/* Fixtures and snapshots (fixtures/README.md documents the format)          */
/* ------------------------------------------------------------------------ */

/*
 * Replaces the instance's state (the registries of every region and their
 * settings, rules and templates, repositories, layers, images, policies,
 * the clock, fault rules) with a fixture's, built for the instance's own
 * account and region (never those of a view ecrmock_call_as() has open).
 * `fixture` is borrowed; `source` names it in error messages (a file name; may be NULL).
 * Returns 0, or -1 with nothing changed when the fixture is refused; then,
 * when `err` is not NULL, *err receives a new malloc'd message naming the
 * source, the JSON path and the rule broken (free() it):
 *   fixtures/x.json: $.registries[0].repositories[2].name: Invalid parameter
 *   at 'repositoryName' failed to satisfy constraint: 'must satisfy regular
 *   expression ...'
 */
ECRMOCK_API int ecrmock_fixture_load(ecrmock *m, json_t *fixture, const char *source, char **err);
/* The same from a file (its name is the source) or from JSON text. */
ECRMOCK_API int ecrmock_fixture_load_file(ecrmock *m, const char *path, char **err);
ECRMOCK_API int ecrmock_fixture_load_string(ecrmock *m, const char *text, const char *source, char **err);

/*
 * The instance's state in the fixture format (a new reference): every
 * registry (the instance's own region's, and in "regions" the other
 * regions'), repository (settings, resource tags, policy), layer (bytes as
 * base64) and image (manifest text verbatim, tags, push and pull times,
 * replication statuses, signing profiles, storage class), and the clock.  Loading it into a fresh
 * instance gives the same state, and dumping that gives the same JSON.
 * Registry policies, replication, scanning and signing configurations,
 * account settings, pull time update exclusions, pull-through cache rules
 * and repository creation templates are part of it; what is not (in-flight
 * uploads, fault rules, scan results, ...) is listed in
 * fixtures/README.md.  NULL when memory ran out.
 */
ECRMOCK_API json_t *ecrmock_snapshot(ecrmock *m);

/* ------------------------------------------------------------------------ */
/* Contract scenarios (fixtures/README.md, "Scenarios", documents the format) */
/* ------------------------------------------------------------------------ */

/*
 * Runs a scenario: a JSON object whose steps each make one call (through
 * ecrmock_call()) and check its answer.  `scenario` is borrowed.  `m` is the
 * instance to run on (the scenario's fixture, when it has one, is loaded
 * into it; its options are checked but not used; fault rules the steps add
 * stay), or NULL for a fresh instance made from the scenario's options and
 * freed before returning.  `base_dir` is where a relative fixture path
 * starts (NULL: the current directory).  `out`, when not NULL, receives a
 * line per step ("ok 1 CreateRepository", "FAIL 3 PutImage \"push v1\": at
 * $.image.imageId.imageTag: expected \"v1\", got \"v2\"") and a summary line.
 * Steps after a failed one still run.
 * Returns the number of failed steps (0: all passed), or -1 when the
 * scenario itself is invalid (nothing is run then), its fixture is refused
 * or memory ran out before a step could run; then, when `err` is not NULL,
 * *err receives a new malloc'd message naming the source ("scenario" here),
 * the JSON path and the problem (free() it):
 *   scenario: $.steps[2].action: must be a non-empty string
 * On success *err is set to NULL.
 */
ECRMOCK_API int ecrmock_scenario_run(ecrmock *m, json_t *scenario, const char *base_dir, FILE *out, char **err);

/* The same from a file: its name is the source in messages and its
 * directory the base of a relative fixture path. */
ECRMOCK_API int ecrmock_scenario_run_file(ecrmock *m, const char *path, FILE *out, char **err);

/*
 * The journal as a scenario (a new reference; NULL when memory ran out or m
 * is NULL): one step per journaled call with its request and an expect of
 * its status, error and whole response, and the clock moves between calls
 * as advanceClockMs.  String values of at least 16 characters that a
 * response returned and a later request sends (upload ids, image digests,
 * page tokens; not what a request sent first) become captures and ${...}
 * references (the step that handed one out expects "${*}" there), so the
 * scenario replays on a fresh instance, whatever level the calls came
 * through.  A call answered by an error or apply-then-error fault rule, or
 * whose body was not JSON, gets a one-shot rule giving the same answer.  `fixture` (borrowed; may be
 * NULL) is stored as the scenario's "fixture" path; when the file can be
 * read from the current directory, the clock it sets is where the first
 * step's advanceClockMs starts from.  The instance's options (account,
 * region, seed, clock start, part size, limits) go in "options".
 * Replays faithfully when the journal holds every call since ecrmock_new()
 * (or since the fixture was loaded) and nothing changed the instance
 * outside calls, except the clock.
 */
ECRMOCK_API json_t *ecrmock_scenario_record(ecrmock *m, const char *fixture);

#ifdef __cplusplus
}
#endif

#endif /* ECRMOCK_H */
