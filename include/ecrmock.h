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
 * This header is the everyday contract: the version, the errors, the
 * instance and its options, ecrmock_call() and ecrmock_call_raw().  The rest
 * is in headers by audience, which it includes at its end (so including it
 * is all a program needs):
 *   <ecrmock/http.h>       the HTTP level: ecrmock_http_*, ecrmock_fetch_url()
 *   <ecrmock/testing.h>    the test controls: ecrmock_call_as(), the clock,
 *                          layers and images, lifecycle, secrets, scanning,
 *                          the principal, fault rules, hooks, the journal
 *                          and the call and run counters
 *   <ecrmock/fixtures.h>   fixtures, snapshots, scenarios and the recorder
 *   <ecrmock/sys/alloc.h>  the process-wide allocator hook
 *
 * Ownership follows jansson's words: a "new reference" is yours to release
 * (json_decref() for json_t, ecrmock_buffer_free() for bytes and messages
 * the library made); a "borrowed reference" stays owned by ecrmock;
 * arguments are borrowed and never kept (ecrmock copies what it stores).
 *
 * Threads: every function may be called from several threads on one
 * instance; each call is atomic.  Instances are independent of each other;
 * the library has no global mutable state of its own.
 */
#ifndef ECRMOCK_H
#define ECRMOCK_H

#include <stddef.h>
#include <stdint.h>

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
    ECRMOCK_ERR_UNKNOWN = -1, /* no error of the list: ecrmock_error_from_name() of
                                 a name it does not know */
#define ECRMOCK__ERROR_ENUM(e, name, status) ECRMOCK_ERR_##e,
    ECRMOCK_ERROR_LIST(ECRMOCK__ERROR_ENUM)
#undef ECRMOCK__ERROR_ENUM
} ecrmock_error;

/* The AWS error name ("RepositoryNotFoundException"); "" for ECRMOCK_ERR_OK,
 * NULL for a value outside the list.  A static string. */
ECRMOCK_API const char *ecrmock_error_name(ecrmock_error code);

/* The HTTP status ECR sends with this error (200 for OK, 400 for client
 * errors, 500 for ServerException); 0 for a value outside the list. */
ECRMOCK_API int ecrmock_error_status(ecrmock_error code);

/* The code whose AWS name is `name`; ECRMOCK_ERR_UNKNOWN if none is (or
 * `name` is NULL).  A later version may know more names. */
ECRMOCK_API ecrmock_error ecrmock_error_from_name(const char *name);

/* What a failed control says (ecrmock.h, beside ecrmock_error).  Caller-owned, filled on
 * failure when the pointer is not NULL, never allocated: safe on any thread. */
typedef struct ecrmock_err {
    ecrmock_error code;  /* ECRMOCK_ERR_OK when nothing failed; else the ECR error the control
                            met (ECRMOCK_ERR_REPOSITORY_NOT_FOUND ...), ECRMOCK_ERR_INVALID_PARAMETER
                            for a bad argument or a bad document, ECRMOCK_ERR_SERVER when out of
                            memory */
    char path[160];      /* where, when a document was at fault: "team.json: $.registries[0].name"
                            (source, colon, JSON path), else ""; a source too long to fit
                            keeps its end, after "...", so that the JSON path stays whole */
    char text[352];      /* a sentence a person can act on; NUL-terminated, cut to fit.
                            Both are UTF-8, cut between characters (a byte of a caller's
                            string that starts no UTF-8 sequence reads as U+FFFD) */
} ecrmock_err;

/* ------------------------------------------------------------------------ */
/* Instances                                                                 */
/* ------------------------------------------------------------------------ */

typedef struct ecrmock ecrmock;

/* 2: token_length and max_synth_bytes (version 1 ends at max_resource_tags);
 * 3: journal_max_bytes. */
#define ECRMOCK_OPTIONS_VERSION 3

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
    /* Version 2: */
    uint64_t token_length;        /* GetAuthorizationToken's authorizationToken,
                                     characters: ECRMOCK_DEFAULT_TOKEN_LENGTH;
                                     512 to 65,536, rounded up to a length
                                     the token's base64 allows (at most 11
                                     more) */
    uint64_t max_synth_bytes;     /* the bytes one fixture load may synthesise
                                     ({"size", "seed"} layers, each pair
                                     counted once): 4 GiB */
    /* Version 3: */
    size_t journal_max_bytes;     /* the call journal's bytes: its entries'
                                     request and response texts (compact
                                     JSON) and headers, at most this many:
                                     the oldest go first; 64 MiB (an entry
                                     larger than this alone is kept with
                                     its bodies dropped: see ecrmock_journal_entry) */
} ecrmock_options;

#define ECRMOCK_OPTIONS_INIT {ECRMOCK_OPTIONS_VERSION, NULL, NULL, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}

#define ECRMOCK_DEFAULT_ACCOUNT "123456789012"
#define ECRMOCK_DEFAULT_REGION "us-east-1"
#define ECRMOCK_DEFAULT_CLOCK_MS INT64_C(1704067200000) /* 2024-01-01T00:00:00Z */
#define ECRMOCK_DEFAULT_MIN_PART_SIZE UINT64_C(5242880)
#define ECRMOCK_DEFAULT_UPLOAD_LIFETIME_MS INT64_C(86400000) /* 24 hours */
#define ECRMOCK_DEFAULT_TOKEN_LENGTH 2368 /* a token ECR gave an IAM user (README.md) */
#define ECRMOCK_DEFAULT_JOURNAL_MAX_BYTES ((size_t)64 << 20) /* 64 MiB */

/*
 * Checks options without creating anything.  Returns 0 when `opts` (or NULL,
 * the defaults) would be accepted by ecrmock_new(); otherwise -1 with *err
 * (when `err` is not NULL) saying which field is wrong and why: code
 * ECRMOCK_ERR_INVALID_PARAMETER, path "", text "ecrmock_options.region must
 * be ...".  Only the fields of `opts->version` are read (a program built
 * against version 1 passes a shorter struct; the later fields are their
 * defaults); a version this library does not know is refused.
 */
ECRMOCK_API int ecrmock_options_check(const ecrmock_options *opts, ecrmock_err *err);

/*
 * The options of a JSON object, by the names scenarios, recordings and
 * fixtures use ({"accountId": "123456789012", "tokenLength": 4096, ...}: the
 * list is in README.md, "Options").  Each member present sets its field of
 * `*opts` (which the caller initialised, ECRMOCK_OPTIONS_INIT); members left
 * out leave theirs.  Strings are borrowed from `o`: keep it while *opts is
 * used.  Returns 0, or -1 with `*opts` unchanged and *err filled (when not
 * NULL): path "$.options.<member>" (or "$.options"), text what is wrong; an
 * unknown member's text lists the known names.  A member the caller's
 * opts->version lacks is refused too.
 */
ECRMOCK_API int ecrmock_options_from_json(const json_t *o, ecrmock_options *opts, ecrmock_err *err);

/*
 * The options as the JSON object ecrmock_options_from_json() reads: every
 * member, each 0 or NULL resolved to its default (so the object says what an
 * instance made from it does, whatever later versions choose as defaults).
 * A limit above INT64_MAX, which JSON integers cannot hold, is written as
 * INT64_MAX; the seed, any 64 bits, as the signed integer of the same bits.
 * `opts` is borrowed; NULL: the defaults.  Returns a new reference, or NULL
 * when the options are refused by ecrmock_options_check() or memory ran out.
 */
ECRMOCK_API json_t *ecrmock_options_json(const ecrmock_options *opts);

/*
 * Creates an instance: an empty ECR whose caller is `opts->account_id` in
 * `opts->region`.  `opts` is borrowed (strings are copied) and may be NULL
 * for every default.  Returns a new instance to release with ecrmock_free(),
 * or NULL when the options are invalid (ecrmock_options_check() says why)
 * or memory ran out.
 */
ECRMOCK_API ecrmock *ecrmock_new(const ecrmock_options *opts);

/*
 * Changes the options of a running instance that may change, from its next
 * call on: the limits and sizes (min_part_size, upload_lifetime_ms,
 * max_repositories, max_images, max_layer_parts, max_layer_bytes,
 * max_layers_per_image, max_tags_per_image, max_resource_tags, token_length,
 * max_synth_bytes), each 0 meaning its default as for ecrmock_new().  The
 * others are fixed when the instance is made: account_id, region,
 * clock_start_ms, seed and journal_limit left 0 (NULL) keep the instance's,
 * and any other value than the instance's is refused.  What is already
 * stored stays (a repository past a lowered max_repositories is kept; the
 * next CreateRepository is refused).  `o` is borrowed.  Returns 0, or -1
 * with nothing changed and `*err` filled (ECRMOCK_ERR_INVALID_PARAMETER:
 * NULL arguments, options ecrmock_options_check() refuses, a fixed field
 * changed).
 */
ECRMOCK_API int ecrmock_options_set(ecrmock *m, const ecrmock_options *o, ecrmock_err *err);

/* Releases an instance and everything it holds.  NULL is a harmless no-op.
 * No other call on `m` may be running or follow. */
ECRMOCK_API void ecrmock_free(ecrmock *m);

/* Empties the instance (registries of every region, layers, uploads, fault
 * rules, the journal and the call counters, the principal, the Secrets
 * Manager secrets and the scanning state) and puts the clock and the id
 * generator back to where ecrmock_new() left them (the clock's mode is
 * kept: a wall clock's offset goes back to 0); the options, the hooks and
 * the HTTP level's settings (credentials, base URL, the control API's
 * switch) are kept. */
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
 * extra members.  On a failed call the instance is unchanged.  A request
 * no JSON body can be, nested deeper than 2048 levels (the wire level's
 * parser's limit) or holding a member name or a string that is not UTF-8
 * (jansson's _nocheck functions), is 400 SerializationException, as a body
 * that is not JSON.
 * Returns -1 (and sets *response to NULL) only when `m`, `action` or
 * `response` is NULL.
 */
ECRMOCK_API int ecrmock_call(ecrmock *m, const char *action, json_t *request, json_t **response);

/*
 * The wire level.  `target` is the X-Amz-Target header's value
 * ("AmazonEC2ContainerRegistry_V20150921.PutImage") or the bare action name;
 * `body`/`body_len` the request body (NULL or empty means {}).  `*response`
 * receives a new NUL-terminated body (release with ecrmock_buffer_free()) and
 * `*response_len` its length without the NUL.  Same return value as
 * ecrmock_call(); -1 when an argument is NULL or memory ran out before a
 * body could be made.  Timestamps, like every real, are written as ECR's
 * Java front end writes a double: "createdAt":1.7040672E9 (see README.md).
 */
ECRMOCK_API int ecrmock_call_raw(ecrmock *m, const char *target, const char *body, size_t body_len,
                     char **response, size_t *response_len);

/* The X-Amz-Target prefix of ECR's operations. */
#define ECRMOCK_TARGET_PREFIX "AmazonEC2ContainerRegistry_V20150921."

/* The longest digest string, "sha256:" and 64 hex digits, with its NUL. */
#define ECRMOCK_DIGEST_SIZE 72

#ifdef __cplusplus
}
#endif

/*
 * The rest of the API, by audience.  Each of these headers includes this one
 * first and relies on nothing but it (never on another of them), so that any
 * one of them may come first in a file.
 */
#include "ecrmock/http.h"
#include "ecrmock/testing.h"
#include "ecrmock/fixtures.h"
#include "ecrmock/sys/alloc.h"

#endif /* ECRMOCK_H */
