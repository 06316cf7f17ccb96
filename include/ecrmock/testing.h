/*
 * ecrmock/testing.h: the test controls, for a test that arranges what ECR
 * holds and checks what the code under test did, in ways ECR's actions
 * cannot: calls as another account or region, the virtual clock, layers,
 * images, lifecycle runs, Secrets Manager and scanning states, the IAM
 * principal; fault rules and hooks; the call journal and the call and run
 * counters.  None of it is reachable through an ECR action.
 *
 * Included by <ecrmock.h>; it may also be included on its own.  Ownership and
 * threads as <ecrmock.h> says.
 *
 * The ecrmock_err convention, shared by these controls, those of
 * <ecrmock/fixtures.h> and the setters of <ecrmock/http.h> (as jansson's
 * json_error_t): `ecrmock_err *err` (<ecrmock.h>) is the last parameter; a
 * control returns 0, or the value it yields (a fault rule's id, a count of
 * failed steps), or an object (a new reference), and -1 or NULL on failure,
 * with *err filled when `err` is not NULL.  On success err->code is
 * ECRMOCK_ERR_OK and err->path and err->text "".  The getters
 * (ecrmock_clock_now, the counts) and the void functions have no err; the
 * calls (ecrmock_call_as here) answer with the HTTP status.
 */
#ifndef ECRMOCK_TESTING_H
#define ECRMOCK_TESTING_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* The everyday contract: the instance, errors, ECRMOCK_API.  It includes this
 * header back at its end, where this guard stops the loop. */
#include "../ecrmock.h"

#ifdef __cplusplus
extern "C" {
#endif

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

/* The virtual clock, in milliseconds since the epoch: every timestamp and
 * every expiry (uploads, download URLs, tokens, scans, previews) is read
 * from it.  ecrmock_clock_set() puts it at `ms`; ecrmock_clock_advance()
 * moves it by `ms` (back when negative); in wall mode (below) both move the
 * offset, and the clock runs on from there.  Both return 0, or -1 leaving
 * the clock as it was, with `*err` filled (ECRMOCK_ERR_INVALID_PARAMETER),
 * when `m` is NULL or the time would be outside 0..ECRMOCK_CLOCK_MAX_MS. */
ECRMOCK_API int64_t ecrmock_clock_now(ecrmock *m);
ECRMOCK_API int ecrmock_clock_set(ecrmock *m, int64_t ms, ecrmock_err *err);
ECRMOCK_API int ecrmock_clock_advance(ecrmock *m, int64_t ms, ecrmock_err *err);

/*
 * How the clock moves.
 *  - ECRMOCK_CLOCK_PINNED (ecrmock_new()'s): it never moves on its own;
 *    only ecrmock_clock_set(), ecrmock_clock_advance(), latency fault rules
 *    and fixtures move it.  Scans stay IN_PROGRESS and uploads, URLs and
 *    tokens never expire until a test moves it: what a unit test wants.
 *    A SigV4 X-Amz-Date is checked against it (sign with its time).
 *  - ECRMOCK_CLOCK_WALL: the system clock (CLOCK_REALTIME) plus an offset,
 *    read once each time a call takes the instance (so one call sees one
 *    time); set, advance, latency rules and a fixture's clock move the
 *    offset, and the clock runs on from where they put it, clamped to
 *    0..ECRMOCK_CLOCK_MAX_MS.  A SigV4 X-Amz-Date is checked against the
 *    system clock alone, whatever the offset: real clients sign with the
 *    real time, and moving the fake's clock must not make them fail.  What
 *    ecrmock-server uses.
 * ecrmock_clock_mode_set() to WALL puts the offset at 0 (the clock jumps to
 * the system's time); to PINNED it pins the clock where it is now.  The
 * mode is kept by ecrmock_reset(), which puts a pinned clock back at the
 * options' clock_start_ms and a wall clock's offset back to 0.
 * ecrmock_clock_mode_set() returns 0, or -1 with `*err` filled
 * (ECRMOCK_ERR_INVALID_PARAMETER) when `m` is NULL or `mode` is neither;
 * ecrmock_clock_mode_get() answers PINNED for a NULL `m`.
 */
typedef enum ecrmock_clock_mode {
    ECRMOCK_CLOCK_PINNED = 0,
    ECRMOCK_CLOCK_WALL = 1
} ecrmock_clock_mode;
ECRMOCK_API ecrmock_clock_mode ecrmock_clock_mode_get(ecrmock *m);
ECRMOCK_API int ecrmock_clock_mode_set(ecrmock *m, ecrmock_clock_mode mode, ecrmock_err *err);

/*
 * Puts `len` bytes as a layer (blob) into a repository, as a completed
 * upload would, without the wire.  `registry_id` may be NULL for the
 * caller's account.  `bytes` is borrowed (copied).  On success writes
 * "sha256:<hex>" into `digest_out` (ECRMOCK_DIGEST_SIZE bytes) when it is
 * not NULL.  A layer already present is not an error here.
 * Returns 0, or -1 with `*err` filled (the ecrmock_err convention of
 * <ecrmock/testing.h>): ECRMOCK_ERR_REPOSITORY_NOT_FOUND,
 * ECRMOCK_ERR_INVALID_PARAMETER (m or repository NULL, an empty repository
 * name, a registry_id that is not 12 digits, bytes NULL with len > 0) or
 * ECRMOCK_ERR_SERVER (out of memory).
 */
ECRMOCK_API int ecrmock_put_layer(ecrmock *m, const char *registry_id, const char *repository, const void *bytes,
                                  size_t len, char *digest_out, ecrmock_err *err);

/*
 * Reads a layer's bytes back.  `*bytes_out` receives a new copy (release
 * with ecrmock_buffer_free(); NULL for an empty layer) and `*len_out` its
 * length.
 * Returns 0, or -1 with `*err` filled: ECRMOCK_ERR_REPOSITORY_NOT_FOUND,
 * ECRMOCK_ERR_LAYERS_NOT_FOUND, ECRMOCK_ERR_LAYER_INACCESSIBLE (a layer a
 * fixture declared by its digest and size only: there are no bytes to
 * read), ECRMOCK_ERR_INVALID_PARAMETER (a NULL
 * argument, names as for ecrmock_put_layer(), a digest not of the form
 * "algorithm:hex") or ECRMOCK_ERR_SERVER (out of memory).
 */
ECRMOCK_API int ecrmock_get_layer(ecrmock *m, const char *registry_id, const char *repository, const char *digest,
                                  void **bytes_out, size_t *len_out, ecrmock_err *err);

/*
 * The images of a repository, for assertions, without a call (nothing is
 * journaled or counted): a new reference to an array, in push order, of
 *   {"imageDigest": "sha256:...", "imageTags": ["v1", ...]}
 * (tags sorted), or NULL with `*err` filled: ECRMOCK_ERR_REPOSITORY_NOT_FOUND
 * (no such repository), ECRMOCK_ERR_INVALID_PARAMETER (m or repository NULL,
 * a registry_id that is not 12 digits) or ECRMOCK_ERR_SERVER (out of memory).
 */
ECRMOCK_API json_t *ecrmock_images(ecrmock *m, const char *registry_id, const char *repository, ecrmock_err *err);

/*
 * Names the IAM principal the following calls come from, e.g.
 * "arn:aws:iam::123456789012:role/ci".  ecrmock has no caller identity of
 * its own; this one decides only whether a pull is recorded: BatchGetImage
 * leaves lastRecordedPullTime alone when the principal is on the pulled
 * registry's pull time update exclusion list
 * (RegisterPullTimeUpdateExclusion).  NULL (the default, and after
 * ecrmock_reset()) means no principal: every pull is recorded.
 * `principal_arn` is borrowed (copied); it is not checked.
 * Returns 0, or -1 with `*err` filled when m is NULL
 * (ECRMOCK_ERR_INVALID_PARAMETER) or out of memory (ECRMOCK_ERR_SERVER);
 * nothing changed then.
 */
ECRMOCK_API int ecrmock_principal_set(ecrmock *m, const char *principal_arn, ecrmock_err *err);

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
 * Returns 0, or -1 with `*err` filled: ECRMOCK_ERR_REPOSITORY_NOT_FOUND,
 * ECRMOCK_ERR_LIFECYCLE_POLICY_NOT_FOUND (the repository has none),
 * ECRMOCK_ERR_INVALID_PARAMETER (m or repository NULL, an empty repository
 * name, a registry_id that is not 12 digits, or a stored policy the
 * evaluation refuses: only a repository creation template can store one) or
 * ECRMOCK_ERR_SERVER (out of memory); on failure nothing was expired or archived.
 */
ECRMOCK_API int ecrmock_lifecycle_apply(ecrmock *m, const char *registry_id, const char *repository,
                                        json_t **expired, ecrmock_err *err);

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
 * ecrmock_reset() forgets every state.  Returns 0, or -1 with `*err` filled
 * when an argument is NULL or `state` is not one of the above
 * (ECRMOCK_ERR_INVALID_PARAMETER), or memory ran out (ECRMOCK_ERR_SERVER).
 */
ECRMOCK_API int ecrmock_secret_set(ecrmock *m, const char *credential_arn, ecrmock_secret_state state,
                                   ecrmock_err *err);

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
 * Returns 0, or -1 with `*err` filled (its text ECR's error name and
 * message): ECRMOCK_ERR_REPOSITORY_ALREADY_EXISTS,
 * ECRMOCK_ERR_LIMIT_EXCEEDED (the registry is full),
 * ECRMOCK_ERR_INVALID_PARAMETER (m, repository or applied_for NULL, a name
 * or registry id the model refuses, an unknown use) or ECRMOCK_ERR_SERVER
 * (out of memory); on failure nothing changed.
 */
ECRMOCK_API int ecrmock_create_repository_for(ecrmock *m, const char *registry_id, const char *repository,
                                              const char *applied_for, json_t **repository_out, ecrmock_err *err);

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
 * ECRMOCK_DEFAULT_SCAN_DURATION_MS.  Returns 0, or -1 with `*err` filled
 * (ECRMOCK_ERR_INVALID_PARAMETER) when `m` is NULL or `ms` is negative or
 * more than ECRMOCK_CLOCK_MAX_MS.
 */
ECRMOCK_API int ecrmock_scan_duration_set(ecrmock *m, int64_t ms, ecrmock_err *err);

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
 * Returns 0, or -1 with `*err` filled: ECRMOCK_ERR_REPOSITORY_NOT_FOUND,
 * ECRMOCK_ERR_IMAGE_NOT_FOUND, ECRMOCK_ERR_INVALID_PARAMETER (a NULL `m`,
 * `repository` or `digest`, a registry_id that is not 12 digits, findings
 * not of that shape: nothing is changed) or ECRMOCK_ERR_SERVER (out of
 * memory).
 */
ECRMOCK_API int ecrmock_scan_findings_set(ecrmock *m, const char *registry_id, const char *repository,
                                          const char *digest, json_t *findings, ecrmock_err *err);

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
 * id (> 0), or -1 with `*err` filled when the rule is invalid
 * (ECRMOCK_ERR_INVALID_PARAMETER, the text saying what is wrong) or memory
 * ran out (ECRMOCK_ERR_SERVER).
 */
ECRMOCK_API long ecrmock_fault_add(ecrmock *m, const ecrmock_fault *rule, ecrmock_err *err);

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
 * message that names the member.  Same return and `err` as
 * ecrmock_fault_add().
 */
ECRMOCK_API long ecrmock_fault_add_json(ecrmock *m, json_t *rule, ecrmock_err *err);

/* Removes one rule; 0, or -1 with `*err` filled
 * (ECRMOCK_ERR_INVALID_PARAMETER) when no rule has that id.  A call the rule has
 * already decided (on another thread, or the call whose hook removes it)
 * still ends as the rule said: error, message, status and body included. */
ECRMOCK_API int ecrmock_fault_remove(ecrmock *m, long id, ecrmock_err *err);

/* Removes every rule (calls they already decided end as they said). */
ECRMOCK_API void ecrmock_fault_clear(ecrmock *m);

/* How many times rule `id` has fired (0 for an unknown id). */
ECRMOCK_API unsigned long ecrmock_fault_fired(ecrmock *m, long id);

/*
 * The rules, in the order they were added, as a new reference to an array:
 *   [{"id": 1, "fired": 2, "seen": 3, "rule": {"action": "UploadLayerPart",
 *     "nth": 1, "effect": "error", "error": "ThrottlingException"}}]
 * "seen": the matching calls offered to it so far; "rule": the rule as
 * ecrmock_fault_add_json() takes it (what it was given, and the defaults it
 * was filled with: "action" "*" for any, "nth" 1, the error name), so that
 * adding it again makes the same rule (a C rule's repository or body bytes
 * that start no UTF-8 sequence read as U+FFFD).  NULL with `*err` filled
 * when `m` is NULL (ECRMOCK_ERR_INVALID_PARAMETER) or memory ran out
 * (ECRMOCK_ERR_SERVER).
 */
ECRMOCK_API json_t *ecrmock_faults_json(ecrmock *m, ecrmock_err *err);

/* ------------------------------------------------------------------------ */
/* Hooks: anything rules cannot express                                      */
/* ------------------------------------------------------------------------ */

/* What a before-hook may set to answer with an error instead of running the
 * action (error NULL: let the call through). */
typedef struct ecrmock_injection {
    const char *error;   /* __type; the string must live until the hook returns */
    const char *message; /* NULL: ECR's text for that error */
    int status;          /* 400 to 599, or 0: the error's status.  An empty
                            error name or another status is answered as 500
                            ServerException, its message saying so */
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
 * last `journal_limit` entries (option; 10,000 by default), holding at
 * most `journal_max_bytes` of request, response and header text (option; 64 MiB:
 * the oldest entries go first; the texts lie in one ring, made twice their
 * bytes when it grows and smaller once it is 8 times them), and counts
 * those it dropped.  Counters are kept even when the journal is off, by this
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
 * JSON (the wire and HTTP levels) or, at the JSON level, no JSON body could
 * be (see ecrmock_call()).  "ran": whether the action ran (false when
 * an error, connect-refused or timeout rule answered, the request was
 * refused before the action, or a before-hook answered).  "fault" names the
 * rule id that fired, if any (the deciding rule, else the first latency
 * rule), and "effect" its effect ("error", "apply-then-error", "latency",
 * "truncate", "malform", "connect-refused", "timeout", "recv-error").
 * "plane": "registry" for a call the registry plane (/v2/) made for a
 * request, absent for the API; the Basic credentials of its Authorization
 * header read "Basic <elided>".
 * "dropped", only for a call whose request, response and headers were,
 * alone, more than `journal_max_bytes` (a large UploadLayerPart): the entry
 * is kept, its headers too, the request's body dropped ("request": null)
 * and, if that was not enough, the response's too ("response": null;
 * "error" still names the error), and "dropped" says how many bytes of
 * each were dropped:
 * {"request": 17825830} or {"request": 17825830, "response": 120}.
 * "headers", only for a call that came over HTTP (ecrmock_http_handle(),
 * the server, the libcurl level): each header by its lower-case name, the
 * values of a repeated one joined by ", ", the Signature of Authorization
 * elided, any byte that starts no UTF-8 sequence as U+FFFD.  NULL with
 * `*err` filled when there is no such entry (ECRMOCK_ERR_INVALID_PARAMETER)
 * or memory ran out (ECRMOCK_ERR_SERVER).  The entry is independent of
 * the journal: its objects are copies, which the caller may change, keep
 * or release on any thread while other threads use the instance.
 */
ECRMOCK_API json_t *ecrmock_journal_entry(ecrmock *m, long index, ecrmock_err *err);
/* The whole journal as a JSON array of entries (new reference), each as
 * independent of the journal as ecrmock_journal_entry()'s; NULL with `*err`
 * filled when m is NULL or memory ran out. */
ECRMOCK_API json_t *ecrmock_journal_json(ecrmock *m, ecrmock_err *err);
/* Calls of `action` made so far (NULL: of every action, unknown ones
 * included), journal on or off, since ecrmock_new() or ecrmock_reset():
 * requests that reached ECR, whatever it answered (a connect-refused or
 * timeout fault stops a request before, and is not counted). */
ECRMOCK_API unsigned long ecrmock_call_count(ecrmock *m, const char *action);
/* Of those calls, the ones whose action ran (see above), so that "exactly
 * one CompleteLayerUpload ran" is ecrmock_run_count(m, "CompleteLayerUpload")
 * == 1 however many a retry loop sent, throttled or refused. */
ECRMOCK_API unsigned long ecrmock_run_count(ecrmock *m, const char *action);

#ifdef __cplusplus
}
#endif

#endif /* ECRMOCK_TESTING_H */
