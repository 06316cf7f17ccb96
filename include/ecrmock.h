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
 *   (the HTTP level comes with a later release)
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
    X(SERVICE_UNAVAILABLE, "ServiceUnavailableException", 503)

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
    int64_t clock_start_ms;       /* virtual clock start, ms since the epoch:
                                     ECRMOCK_DEFAULT_CLOCK_MS (2024-01-01) */
    uint64_t seed;                /* drives every generated id and token: 0 */
    uint64_t min_part_size;       /* smallest non-final layer part, bytes:
                                     ECR's 5 MiB (5242880) */
    int64_t upload_lifetime_ms;   /* an upload id unused this long is gone:
                                     ECRMOCK_DEFAULT_UPLOAD_LIFETIME_MS */
    uint64_t max_repositories;    /* repositories per registry: 10,000 */
    uint64_t max_images;          /* images per repository: 100,000 */
    uint64_t max_layer_parts;     /* parts per layer upload: 4,200 */
} ecrmock_options;

#define ECRMOCK_OPTIONS_INIT {ECRMOCK_OPTIONS_VERSION, NULL, NULL, 0, 0, 0, 0, 0, 0, 0}

#define ECRMOCK_DEFAULT_ACCOUNT "123456789012"
#define ECRMOCK_DEFAULT_REGION "us-east-1"
#define ECRMOCK_DEFAULT_CLOCK_MS INT64_C(1704067200000) /* 2024-01-01T00:00:00Z */
#define ECRMOCK_DEFAULT_MIN_PART_SIZE UINT64_C(5242880)
#define ECRMOCK_DEFAULT_UPLOAD_LIFETIME_MS INT64_C(86400000) /* 24 hours */

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

/* Empties the instance (registries, uploads, ...) and puts the clock and the
 * id generator back to where ecrmock_new() left them; options are kept. */
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
 * body could be made.
 */
ECRMOCK_API int ecrmock_call_raw(ecrmock *m, const char *target, const char *body, size_t body_len,
                     char **response, size_t *response_len);

/* The X-Amz-Target prefix of ECR's operations. */
#define ECRMOCK_TARGET_PREFIX "AmazonEC2ContainerRegistry_V20150921."

/* ------------------------------------------------------------------------ */
/* Test controls: never reachable through ECR actions                        */
/* ------------------------------------------------------------------------ */

/* The virtual clock, in milliseconds since the epoch.  It never moves on its
 * own: every timestamp and every expiry (uploads, download URLs, tokens) is
 * read from it. */
ECRMOCK_API int64_t ecrmock_clock_now(ecrmock *m);
ECRMOCK_API void ecrmock_clock_set(ecrmock *m, int64_t ms);
ECRMOCK_API void ecrmock_clock_advance(ecrmock *m, int64_t ms);

/* The longest digest string, "sha256:" and 64 hex digits, with its NUL. */
#define ECRMOCK_DIGEST_SIZE 72

/*
 * Puts `len` bytes as a layer (blob) into a repository, as a completed
 * upload would, without the wire.  `registry_id` may be NULL for the
 * caller's account.  `bytes` is borrowed (copied).  On success writes
 * "sha256:<hex>" into `digest_out` (ECRMOCK_DIGEST_SIZE bytes) when it is
 * not NULL.  A layer already present is not an error here.
 * Returns ECRMOCK_ERR_OK, ECRMOCK_ERR_REPOSITORY_NOT_FOUND,
 * ECRMOCK_ERR_INVALID_PARAMETER (NULL or empty arguments) or
 * ECRMOCK_ERR_SERVER (out of memory).
 */
ECRMOCK_API ecrmock_error ecrmock_put_layer(ecrmock *m, const char *registry_id, const char *repository,
                                const void *bytes, size_t len, char *digest_out);

/*
 * Reads a layer's bytes back.  `*bytes_out` receives a new malloc'd copy
 * (release with free(); NULL for an empty layer) and `*len_out` its length.
 * Returns ECRMOCK_ERR_OK, ECRMOCK_ERR_REPOSITORY_NOT_FOUND,
 * ECRMOCK_ERR_LAYERS_NOT_FOUND, ECRMOCK_ERR_INVALID_PARAMETER or
 * ECRMOCK_ERR_SERVER.
 */
ECRMOCK_API ecrmock_error ecrmock_get_layer(ecrmock *m, const char *registry_id, const char *repository,
                                const char *digest, void **bytes_out, size_t *len_out);

/*
 * Fetches a URL that GetDownloadUrlForLayer handed out, as an HTTP GET of
 * it would.  Returns the HTTP status: 200 with `*bytes_out` a new malloc'd
 * copy of the layer (free() it) and `*len_out` its length; 403 once the URL
 * has expired on the virtual clock or its signature is wrong; 404 for a URL
 * this instance never issued or whose layer is gone; -1 for NULL arguments
 * or no memory.
 */
ECRMOCK_API int ecrmock_fetch_url(ecrmock *m, const char *url, void **bytes_out, size_t *len_out);

#ifdef __cplusplus
}
#endif

#endif /* ECRMOCK_H */
