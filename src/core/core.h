/*
 * core: the plumbing.  The instance and its lock, options, clock, key and
 * seeded ids; one call and its failure (em_call, em_fail); ECR's error
 * table; the model tables and validation; page tokens; the download URL's
 * form and signature.
 */
#ifndef EM_CORE_H
#define EM_CORE_H

#include <pthread.h>
#include <stdio.h>

#include "base/base.h"
#include "core/model.h"

#pragma GCC visibility push(hidden)

/* Types of the layers above, named here only through pointers. */
typedef struct em_registry em_registry;
typedef struct em_region em_region;
typedef struct em_blob em_blob;
typedef struct em_fault em_fault;
typedef struct em_journal_entry em_journal_entry;

/* How many errors ECRMOCK_ERROR_LIST holds (not public: it grows). */
#define EM__ERROR_ONE(e, name, status) +1
enum { EM_ERR_COUNT = 0 ECRMOCK_ERROR_LIST(EM__ERROR_ONE) };
#undef EM__ERROR_ONE

/* The HTTP status of an error name: the list's, else 400. */
int em_error_status(const char *error);
/* {"__type": error, "message": message or the default text} (new reference). */
json_t *em_injected_error(const char *error, const char *message);

#define EM_MAX_ACTIONS 64 /* room in the call counters; the model has 58 operations */

/* ---- the instance ------------------------------------------------------- */
struct ecrmock {
    const struct em_area *areas; /* em_areas: the hooks the store and ecrmock.c call */
    pthread_mutex_t lock;
    ecrmock_options opts;      /* strings point into home_account and home_region */
    char home_account[13];     /* the instance's own account and region: never change */
    char home_region[64];
    char account[13];          /* the current view's (ecrmock_call_as switches them) */
    char region[64];
    int64_t clock_ms;          /* now: read it with the lock held (em_lock refreshes it in wall mode) */
    bool clock_wall;           /* wall mode: clock_ms is clock_wall_ms + clock_offset_ms */
    int64_t clock_wall_ms;     /* wall mode: the system clock, read when the lock was taken */
    int64_t clock_offset_ms;   /* wall mode: what set and advance moved the clock by */
    unsigned lock_depth;       /* the recursive lock's depth (under the lock) */
    uint64_t seed;
    uint64_t draws;            /* ids generated so far */
    uint64_t seq;              /* creation order of repositories and images */
    em_registry *registries;   /* hash by id */
    em_region *regions;        /* other regions' registries, by name (store/regions.c) */
    int replicating;           /* a replication copy is under way: it replicates no further */
    em_index blobs;            /* em_blob by digest (em_blob_get) */
    void *patterns[EM_PATTERN_COUNT]; /* pcre2_code *, compiled when first used */
    void *match_data;
    void *pattern_memo[EM_PATTERN_COUNT]; /* the last text each pattern accepted (validate.c) */
    bool tree_only;            /* the hot actions' tree-free forms are off (tests compare the two) */
    unsigned long fast_answered; /* calls a tree-free form answered (tests check they ran) */
    unsigned char key[32];     /* signs page tokens and download URLs */
    void *mac_states[3];       /* EVP_MD_CTX *: the key's HMAC inner and outer states, and a work one (em_mac) */
    struct evp_md_st *sha256;  /* SHA-256 fetched once by ecrmock_new (NULL: none, EVP_sha256() then): a digest
                                  with it skips OpenSSL's lookup of the algorithm (em_sha256_digest_by) */
    struct evp_md_ctx_st *sha256_ctx; /* a context for it (em_sha256_digest_in), with the lock; NULL: none */

    em_fault *faults;          /* rules, in the order they were added */
    long fault_ids;
    uint64_t fault_draws;      /* the probability stream's position */
    uint64_t request_draws;    /* the request id stream's position (em_request_random) */
    ecrmock_before_hook before;
    ecrmock_after_hook after;
    void *hook_user;

    bool journal_on;
    em_journal_entry *journal; /* a ring of journal_cap entries */
    size_t journal_cap, journal_head, journal_len, journal_dropped;
    size_t journal_bytes;      /* what the entries held count against journal_max_bytes */
    char *journal_text;        /* the entries' texts, a byte ring in their order (journal.c) */
    size_t journal_text_cap, journal_text_end, journal_text_live; /* its size, where the next text goes, the bytes held */
    uint64_t journal_seq;
    struct em_image *let_go;   /* images let go whose manifest the journal may keep (em_image_let_go) */
    size_t journal_owning;     /* held entries that own something besides their ring bytes (journal.c) */
    bool journal_general;      /* tests: every record by the general path, none by record_texts */
    unsigned long calls[EM_MAX_ACTIONS + 1]; /* per action; the last: unknown actions */
    unsigned long runs[EM_MAX_ACTIONS];      /* per action: calls whose handler ran */
    uint32_t journal_last[EM_MAX_ACTIONS];   /* per action: the ring bytes of its last record (em_journal_prefetch) */
    struct em_secret *secrets; /* Secrets Manager as the fake sees it (pull_through_cache.c) */
    char *principal;           /* the caller's IAM principal ARN (ecrmock_principal_set), or NULL */

    json_t *scan_config;       /* the caller's registry scanning configuration
                                  {scanType, rules}; NULL: never put (BASIC, no rules) */
    int64_t scan_duration_ms;  /* how long a basic scan stays IN_PROGRESS */

    /* The HTTP level (http.c): settings, kept across ecrmock_reset(). */
    char *http_access_key;     /* SigV4 checks are on when set */
    char *http_secret_key;
    char *http_base_url;       /* download URLs on this base instead of S3's host */
    char *http_session_token;  /* SigV4: the X-Amz-Security-Token requests must carry */
    bool http_sigv4_strict;    /* SigV4: every x-amz-* header and content-type signed */
    bool http_sigv4_system_clock; /* SigV4: dates checked against the system clock in any mode */
    /* The control API (tooling/control_api.c), on when set: http.c hands
     * it every request under /_ecrmock, by this pointer (a call up the
     * layers no include or symbol shows); ecrmock_http_control_set() sets
     * it, and ecrmock_reset() keeps it. */
    int (*control)(ecrmock *m, const ecrmock_http_request *req, const char *path, const char *query,
                   ecrmock_http_response *resp);

    /* The registry plane: the tokens GetAuthorizationToken handed out, a
     * ring of the last EM_MAX_TOKENS (auth_token.c); kept by ecrmock_reset(). */
    struct em_token *tokens;
    size_t n_tokens, tokens_next;
};

/* One token GetAuthorizationToken handed out: the SHA-256 of its password,
 * the registry and region it is good for, and its expiry (virtual clock). */
#define EM_MAX_TOKENS 256
typedef struct em_token {
    char sha[ECRMOCK_DIGEST_SIZE]; /* "sha256:<hex>" */
    char registry[13];
    char region[64];
    int64_t expires_ms;
} em_token;

/* The instance lock (recursive: a hook may call back into the instance). */
void em_lock(ecrmock *m);
/* HMAC-SHA256 under the instance key (page tokens, download URLs), under
 * the lock.  0, or -1: no memory (out undefined). */
int em_mac(ecrmock *m, const void *p, size_t n, unsigned char out[32]);
void em_unlock(ecrmock *m);
/* The key's MAC states dropped (a new key, or the instance freed). */
void em_mac_free(ecrmock *m);
/* m->opts and the home account and region from the caller's options (NULL:
 * the defaults) with every 0 replaced by its default. */
void em_options_apply(ecrmock *m, const ecrmock_options *o);

/* ---- the options table (options.c) -------------------------------------- */
typedef enum em_opt_type { EM_OPT_STRING, EM_OPT_INT64, EM_OPT_UINT64, EM_OPT_SIZE } em_opt_type;
/* One field of ecrmock_options: its C name, its JSON name (scenarios,
 * recordings, fixtures), the suffix of its environment variable
 * (ECRMOCK_CURL_<env>), its type, the options version that has it, where it
 * is, what 0 means (integers; strings: ECRMOCK_DEFAULT_ACCOUNT/REGION), and
 * what it is, in a few words (ecrmock-server --help). */
typedef struct em_option {
    const char *field, *json, *env;
    em_opt_type type;
    unsigned version;
    size_t offset;
    uint64_t dflt;
    const char *help;
} em_option;
extern const em_option em_option_table[];
extern const size_t em_option_count;
/* The row of a JSON name, or NULL. */
const em_option *em_option_named(const char *json_name);
/* Why the row's field of `o` is refused ("must be ...", static), or NULL. */
const char *em_option_why(const em_option *r, const ecrmock_options *o);
/* What the row's field must be: "a string", "an integer", "an integer of at least 0 (0: the default)". */
const char *em_option_kind(const em_option *r);
/* Sets the row's field from text (an environment variable's value: decimal
 * digits, a '-' for the signed ones; a string borrowed).  NULL, or what the
 * text must be (em_option_kind()), the field unchanged. */
const char *em_option_set_text(const em_option *r, ecrmock_options *o, const char *text);
/* The JSON name of the first option that differs between two applied
 * option sets (m->opts: no NULL string), or NULL when they are equal. */
const char *em_options_diff(const ecrmock_options *a, const ecrmock_options *b);
/* The caller's options of any version it may have been built against into a
 * whole current struct (NULL: ECRMOCK_OPTIONS_INIT; the fields its version
 * lacks 0).  0, or -1: a version this library does not know. */
int em_options_read(const ecrmock_options *in, ecrmock_options *out);
/* Each 0 (or NULL) field of *o replaced by its default. */
void em_options_defaults(ecrmock_options *o);
/* Options o merged into *cur (options.c): the fields that may change on a
 * running instance take o's values (defaults for 0); a fixed one o gives
 * with another value is refused, named as `source`'s JSON member (path
 * "<source>: $.accountId") when source is not NULL, as the C field
 * otherwise, with *cur unchanged. */
int em_options_merge(ecrmock_options *cur, const ecrmock_options *o, const char *source, ecrmock_err *err);
/* em_options_merge() into m's options under m's lock (instance.c):
 * ecrmock_options_set(), and the control API's. */
int em_options_update(ecrmock *m, const ecrmock_options *o, const char *source, ecrmock_err *err);

/* ---- deterministic ids (seeded) ------------------------------------------ */
/* 32 fresh bytes: SHA-256 of the seed and a counter. */
void em_random(ecrmock *m, unsigned char out[32]);
/* A lower-case UUID (version 4 layout) and a NUL in out[37]. */
void em_uuid(ecrmock *m, char *out);
/* 32 fresh bytes of the request id stream (x-amzn-RequestId, S3's
 * x-amz-request-id): SHA-256 of a label, the seed and a counter of its own,
 * so that answering over HTTP never moves the ids the actions hand out, and
 * a run at any level gives the same upload ids. */
void em_request_random(ecrmock *m, unsigned char out[32]);

/* ---- one call ------------------------------------------------------------ */
#define EM_MEMBER_SIZE 160
typedef struct em_call {
    ecrmock *m;
    json_t *req;          /* the validated request (borrowed) */
    json_t *out;          /* the output object being built */
    ecrmock_error err;
    json_t *errdoc;       /* set by em_fail() */
    /* The registry plane's UploadLayerPart bytes, raw, or NULL: its request
     * carries their length (layerPartLength) instead of a base64
     * layerPartBlob.  The call's own (em_via, fronts.h), not the instance's. */
    const unsigned char *raw_part;
    size_t raw_part_len;
    /* A tree-free form's answer (areas.h), or NULL: where em_image_push
     * writes PutImage's answer instead of c->out, before the tag moves. */
    em_buf *answer;
    /* With answer: the manifest as its JSON string's text (no quotes), when
     * the request's is what the writer writes (em_jstr_decode_canonical), or NULL. */
    const char *answer_manifest;
    size_t answer_manifest_len;
    char member[EM_MEMBER_SIZE]; /* the request member the error is about, as a JSON path
                                    ("$.repositoryName", "$.rules[0].destinations"), or "";
                                    set by em_fail_param(), validation (validate.c) and
                                    em_fail_member(), cleared by every other em_fail() */

} em_call;

/* A call of instance m with nothing in it yet, member by member: an
 * initializer clears em_call's 232 bytes first with rep stos, which the
 * tree-free PutImage felt (bench/PROFILE.md, session 8).  Keep it to every
 * member of em_call. */
static inline void em_call_init(em_call *c, ecrmock *m)
{
    c->m = m;
    c->req = NULL;
    c->out = NULL;
    c->err = ECRMOCK_ERR_OK;
    c->errdoc = NULL;
    c->raw_part = NULL;
    c->raw_part_len = 0;
    c->answer = NULL;
    c->answer_manifest = NULL;
    c->answer_manifest_len = 0;
    c->member[0] = '\0';
}

/* Sets the call's error to `code` with a printf-style message; returns -1
 * so that a handler can `return em_fail(...)`.  Extra members go on
 * c->errdoc afterwards. */
int em_fail(em_call *c, ecrmock_error code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int em_fail_nomem(em_call *c);
/* "Invalid parameter at '<where>' failed to satisfy constraint: '<rule>'",
 * with c->member the JSON path of `where` (ECR's "rules.1.member.x" is
 * "$.rules[0].x"). */
int em_fail_param(em_call *c, const char *where, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* em_fail_param() for a member ECR names otherwise in its text ("PolicyText"
 * for policyText): c->member is `member` (a JSON path), the text says `where`. */
int em_fail_param_at(em_call *c, const char *member, const char *where, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Sets c->member to `member` (a JSON path, cut to fit; "" when the call ran
 * out of memory) and returns rc: `return em_fail_member(em_fail_text(...),
 * c, "$.tags")`. */

int em_fail_member(int rc, em_call *c, const char *member);
/* ECR's name of a member ("rules.1.member.destinations": Coral's list items
 * count from 1) as a JSON path ("$.rules[0].destinations") in out[size]. */
void em_member_path(char *out, size_t size, const char *where);

/* ---- ECR's error texts ----------------------------------------------------
 * Each text an area answers with, once, by name, with its arguments typed:
 *   return em_fail_text(c, EM_MSG_REPOSITORY_NOT_FOUND, name, registry_id);
 *   return em_fail_rule(c, "PolicyText", EM_RULE_INVALID_REPOSITORY_POLICY);
 * (each text is a printf format the compiler checks against its parameters).
 * The comment before an entry names where the text comes from. */

/* X(ID, ERROR (the ECRMOCK_ERR_ suffix), (, parameters), (, arguments), text) */
#define EM_MESSAGE_LIST(X) \
    /* ECR-BEHAVIOUR.md (plexsystems/sinker#55) */ \
    X(REPOSITORY_NOT_FOUND, REPOSITORY_NOT_FOUND, (, const char *name, const char *registry), (, name, registry), \
      "The repository with name '%s' does not exist in the registry with id '%s'") \
    /* ECR-BEHAVIOUR.md (metaps/genova#164) */ \
    X(REPOSITORY_ALREADY_EXISTS, REPOSITORY_ALREADY_EXISTS, (, const char *name, const char *registry), \
      (, name, registry), "The repository with name '%s' already exists in the registry with id '%s'") \
    /* ECR-BEHAVIOUR.md (user logs) */ \
    X(REPOSITORY_NOT_EMPTY, REPOSITORY_NOT_EMPTY, (, const char *name, const char *registry), (, name, registry), \
      "The repository with name '%s' in registry with id '%s' cannot be deleted because it still contains images") \
    /* no public source: our choice, worded as RepositoryAlreadyExists */ \
    X(REPOSITORY_LIMIT, LIMIT_EXCEEDED, (, const char *registry, unsigned long long max), (, registry, max), \
      "The registry with id '%s' already has the maximum allowed number of repositories which is '%llu'") \
    /* ECR-BEHAVIOUR.md (snyk/driftctl#1549) */ \
    X(REPOSITORY_POLICY_NOT_FOUND, REPOSITORY_POLICY_NOT_FOUND, (, const char *name, const char *registry), \
      (, name, registry), \
      "Repository policy does not exist for the repository with name '%s' in the registry with id '%s'") \
    /* no public source: our choice, worded as RepositoryPolicyNotFound */ \
    X(REGISTRY_POLICY_NOT_FOUND, REGISTRY_POLICY_NOT_FOUND, (, const char *registry), (, registry), \
      "Registry policy does not exist in the registry with id '%s'") \
    /* ECR-BEHAVIOUR.md (iann0036/former2#16) */ \
    X(LIFECYCLE_POLICY_NOT_FOUND, LIFECYCLE_POLICY_NOT_FOUND, (, const char *name, const char *registry), \
      (, name, registry), \
      "Lifecycle policy does not exist for the repository with name '%s' in the registry with id '%s'") \
    /* no public source: our choice */ \
    X(LIFECYCLE_POLICY_PREVIEW_IN_PROGRESS, LIFECYCLE_POLICY_PREVIEW_IN_PROGRESS, \
      (, const char *name, const char *registry), (, name, registry), \
      "The previous lifecycle policy preview request has not completed for the repository with name '%s' in the " \
      "registry with id '%s'. Please try again later.") \
    /* no public source: our choice */ \
    X(LIFECYCLE_POLICY_PREVIEW_NOT_FOUND, LIFECYCLE_POLICY_PREVIEW_NOT_FOUND, (, const char *name, const char *registry), \
      (, name, registry), \
      "Lifecycle policy preview does not exist for the repository with name '%s' in the registry with id '%s'") \
    /* ECR-BEHAVIOUR.md (hashicorp/terraform-provider-aws); "null" for a missing digest or tag */ \
    X(IMAGE_NOT_FOUND, IMAGE_NOT_FOUND, (, const char *digest, const char *tag, const char *name, const char *registry), \
      (, digest, tag, name, registry), \
      "The image with imageId {imageDigest:'%s', imageTag:'%s'} does not exist within the repository with name '%s' " \
      "in the registry with id '%s'") \
    /* ECR-BEHAVIOUR.md (buildkite-plugins/ecr-buildkite-plugin#111) */ \
    X(IMAGE_ALREADY_EXISTS, IMAGE_ALREADY_EXISTS, \
      (, const char *digest, const char *tag, const char *name, const char *registry), (, digest, tag, name, registry), \
      "Image with digest '%s' and tag '%s' already exists in the repository with name '%s' in registry with id '%s'") \
    /* ECR-BEHAVIOUR.md (moby/buildkit#3776) */ \
    X(IMAGE_TAG_ALREADY_EXISTS, IMAGE_TAG_ALREADY_EXISTS, (, const char *tag, const char *name), (, tag, name), \
      "The image tag '%s' already exists in the '%s' repository and cannot be overwritten because the repository is " \
      "immutable.") \
    /* no public source: our choice */ \
    X(IMAGE_DIGEST_DOES_NOT_MATCH, IMAGE_DIGEST_DOES_NOT_MATCH, (, const char *given, const char *digest), \
      (, given, digest), "Provided digest '%s' does not match the digest '%s' calculated for the image manifest") \
    /* no public source: our choice; `list` is the digests, comma-separated */ \
    X(LAYERS_NOT_FOUND_FOR_PUSH, LAYERS_NOT_FOUND, (, const char *list, const char *name, const char *registry), \
      (, list, name, registry), \
      "Layers with digests '[%s]' required for pushing image into repository with name '%s' in the registry with id " \
      "'%s' do not exist") \
    /* no public source: our choice */ \
    X(REFERENCED_IMAGES_NOT_FOUND, REFERENCED_IMAGES_NOT_FOUND, (, const char *name, const char *registry, const char *list), \
      (, name, registry, list), \
      "The manifest list references images that do not exist in the repository with name '%s' in the registry with " \
      "id '%s': [%s]") \
    /* no public source: our choice */ \
    X(IMAGE_LIMIT, LIMIT_EXCEEDED, (, const char *name, const char *registry, unsigned long long max), \
      (, name, registry, max), \
      "The repository with name '%s' in registry with id '%s' already has the maximum allowed number of images which " \
      "is '%llu'") \
    /* no public source: our choice */ \
    X(TAGS_PER_IMAGE_LIMIT, LIMIT_EXCEEDED, (, const char *tag, const char *name, const char *registry, unsigned long long max), \
      (, tag, name, registry, max), \
      "Adding tag '%s' to an image in the repository with name '%s' in registry with id '%s' exceeds the maximum " \
      "allowed number of tags per image which is '%llu'") \
    /* no public source: our choice */ \
    X(LAYER_NOT_FOUND, LAYERS_NOT_FOUND, (, const char *digest, const char *name, const char *registry), \
      (, digest, name, registry), \
      "The layer with digest '%s' does not exist within the repository with name '%s' in the registry with id '%s'") \
    /* no public source: our choice */ \
    X(LAYER_INACCESSIBLE, LAYER_INACCESSIBLE, (, const char *digest, const char *name, const char *registry), \
      (, digest, name, registry), \
      "The layer with digest '%s' is not associated with an image in the repository with name '%s' in the registry " \
      "with id '%s'") \
    /* no public source: our choice */ \
    X(LAYER_ALREADY_EXISTS, LAYER_ALREADY_EXISTS, (, const char *digest, const char *name, const char *registry), \
      (, digest, name, registry), \
      "The layer with digest '%s' already exists in the repository with name '%s' in registry with id '%s'") \
    /* no public source: our choice */ \
    X(UPLOAD_NOT_FOUND, UPLOAD_NOT_FOUND, (, const char *id, const char *name, const char *registry), (, id, name, registry), \
      "The upload with id '%s' does not exist in the repository with name '%s' in registry with id '%s'") \
    /* no public source: our choice */ \
    X(EMPTY_UPLOAD, EMPTY_UPLOAD, (, const char *id, const char *name, const char *registry), (, id, name, registry), \
      "The upload with id '%s' in the repository with name '%s' in registry with id '%s' cannot be completed because " \
      "it does not have any parts") \
    /* no public source: our choice */ \
    X(LAYER_PART_LIMIT, LIMIT_EXCEEDED, (, const char *id, const char *name, const char *registry, unsigned long long max), \
      (, id, name, registry, max), \
      "The upload with id '%s' in the repository with name '%s' in registry with id '%s' has exceeded the maximum " \
      "allowed number of layer parts which is '%llu'") \
    /* no public source: our choice */ \
    X(LAYER_TOO_LARGE, LIMIT_EXCEEDED, (, unsigned long long max), (, max), \
      "The layer exceeds the maximum layer size of %llu bytes") \
    /* no public source: our choice (three situations of InvalidLayerPartException) */ \
    X(LAYER_PART_FIRST_BYTE, INVALID_LAYER_PART, (, unsigned long long first, unsigned long long expected), \
      (, first, expected), "First byte of the layer part is %llu instead of %llu") \
    X(LAYER_PART_LAST_BYTE, INVALID_LAYER_PART, (, unsigned long long last, unsigned long long first), (, last, first), \
      "Last byte of the layer part is %llu, before its first byte %llu") \
    X(LAYER_PART_SIZE, INVALID_LAYER_PART, (, unsigned long long span, unsigned long long blob), (, span, blob), \
      "The layer part's byte range holds %llu bytes but its blob has %llu") \
    /* no public source: our choice (a minimum of whole MiB, or of bytes) */ \
    X(LAYER_PART_TOO_SMALL_MB, LAYER_PART_TOO_SMALL, (, unsigned long long mb), (, mb), \
      "All layer parts except the last part should be at least %lluMB") \
    X(LAYER_PART_TOO_SMALL_BYTES, LAYER_PART_TOO_SMALL, (, unsigned long long bytes), (, bytes), \
      "All layer parts except the last part should be at least %llu bytes") \
    /* no public source: our choice */ \
    X(INVALID_LAYER, INVALID_LAYER, (), (), "None of the provided layer digests match the calculated layer digest") \
    /* Coral's deserialiser, for a blob that is not base64 */ \
    X(BASE64_INVALID, SERIALIZATION, (), (), "Base64 encoded value is not valid") \
    /* no public source: our choice */ \
    X(SIGNING_CONFIGURATION_NOT_FOUND, SIGNING_CONFIGURATION_NOT_FOUND, (, const char *registry), (, registry), \
      "Signing configuration does not exist in the registry with id '%s'") \
    /* no public source: our choice */ \
    X(UNSUPPORTED_IMAGE_TYPE, UNSUPPORTED_IMAGE_TYPE, (, const char *media_type), (, media_type), \
      "An artifact with media type '%s' cannot be scanned.") \
    /* no public source: our choice */ \
    X(IMAGE_ARCHIVED_SCAN, IMAGE_ARCHIVED, (, const char *digest, const char *name, const char *registry), \
      (, digest, name, registry), \
      "The image with digest '%s' in the repository with name '%s' in the registry with id '%s' is archived and " \
      "cannot be scanned") \
    /* no public source: our choice */ \
    X(SCAN_QUOTA, LIMIT_EXCEEDED, (), (), "The scan quota per image has been exceeded. Wait and try again.") \
    /* no public source: our choice, worded as ImageNotFound; "null" for a missing digest or tag */ \
    X(SCAN_NOT_FOUND, SCAN_NOT_FOUND, (, const char *digest, const char *tag, const char *name, const char *registry), \
      (, digest, tag, name, registry), \
      "Image scan does not exist for the image with '{imageDigest:'%s', imageTag:'%s'}' in the repository with name " \
      "'%s' in the registry with id '%s'") \
    /* no public source: our choice (two situations of ImageStorageClassUpdateNotSupportedException) */ \
    X(STORAGE_CLASS_LIST_CHILD, IMAGE_STORAGE_CLASS_UPDATE_NOT_SUPPORTED, \
      (, const char *digest, const char *list, const char *name, const char *registry), (, digest, list, name, registry), \
      "The image with digest '%s' is referenced by the manifest list with digest '%s' in the repository with name " \
      "'%s' in the registry with id '%s': transition the manifest list instead") \
    X(STORAGE_CLASS_RESTORING, IMAGE_STORAGE_CLASS_UPDATE_NOT_SUPPORTED, \
      (, const char *digest, const char *name, const char *registry), (, digest, name, registry), \
      "The image with digest '%s' in the repository with name '%s' in the registry with id '%s' cannot be archived " \
      "while it is being restored") \
    /* no public source: our choice (five situations of InvalidTagParameterException and TooManyTagsException) */ \
    X(TAG_KEY_LENGTH, INVALID_TAG_PARAMETER, (, const char *key), (, key), \
      "Tag key '%s' must be between 1 and 128 characters long") \
    X(TAG_KEY_RESERVED, INVALID_TAG_PARAMETER, (, const char *key), (, key), \
      "Tag key '%s' is reserved: keys prefixed with 'aws:' are for AWS use") \
    X(TAG_VALUE_LENGTH, INVALID_TAG_PARAMETER, (, const char *key), (, key), \
      "The value of tag '%s' must be at most 256 characters long") \
    X(TAG_KEY_TWICE, INVALID_TAG_PARAMETER, (, const char *key), (, key), "Tag key '%s' is given more than once") \
    X(TOO_MANY_TAGS_GIVEN, TOO_MANY_TAGS, (, unsigned long long max, size_t given), (, max, given), \
      "A resource can have at most %llu tags; the request gives %zu") \
    X(TOO_MANY_TAGS_AFTER, TOO_MANY_TAGS, (, unsigned long long max, size_t after), (, max, after), \
      "A resource can have at most %llu tags; with these the resource would have %zu") \
    /* no public source: our choice, worded as RepositoryNotFound */ \
    X(TEMPLATE_NOT_FOUND, TEMPLATE_NOT_FOUND, (, const char *prefix, const char *registry), (, prefix, registry), \
      "The repository creation template with the prefix '%s' does not exist in the registry with id '%s'") \
    X(TEMPLATE_ALREADY_EXISTS, TEMPLATE_ALREADY_EXISTS, (, const char *prefix, const char *registry), (, prefix, registry), \
      "The repository creation template with the prefix '%s' already exists in the registry with id '%s'") \
    X(TEMPLATE_LIMIT, LIMIT_EXCEEDED, (, const char *registry, int max), (, registry, max), \
      "The registry with id '%s' already has the maximum allowed number of repository creation templates which is " \
      "'%d'") \
    /* no public source: our choice, worded as RepositoryNotFound */ \
    X(PULL_THROUGH_CACHE_RULE_NOT_FOUND, PULL_THROUGH_CACHE_RULE_NOT_FOUND, (, const char *prefix, const char *registry), \
      (, prefix, registry), \
      "The pull through cache rule with Amazon ECR repository prefix '%s' does not exist in the registry with id '%s'") \
    X(PULL_THROUGH_CACHE_RULE_ALREADY_EXISTS, PULL_THROUGH_CACHE_RULE_ALREADY_EXISTS, \
      (, const char *prefix, const char *registry), (, prefix, registry), \
      "The pull through cache rule with Amazon ECR repository prefix '%s' already exists in the registry with id '%s'") \
    X(PULL_THROUGH_CACHE_RULE_LIMIT, LIMIT_EXCEEDED, (, const char *registry, int max), (, registry, max), \
      "The registry with id '%s' already has the maximum allowed number of pull through cache rules which is '%d'") \
    /* ECR's text, as seen in goharbor/harbor#20174 */ \
    X(UPSTREAM_URL_INVALID, UNSUPPORTED_UPSTREAM_REGISTRY, (, const char *url), (, url), \
      "The upstream registry URL %s is invalid. Specify a valid upstream registry URL and try again") \
    /* ECR's text, as seen in aws-controllers-k8s/community#2589 */ \
    X(UPSTREAM_NEEDS_SECRET, UNSUPPORTED_UPSTREAM_REGISTRY, (), (), \
      "The specified upstream registry requires authentication. Specify a valid Secrets Manager ARN containing the " \
      "upstream registry credentials.") \
    /* no public source: our choice, worded as the one before */ \
    X(UPSTREAM_TAKES_NO_SECRET, UNSUPPORTED_UPSTREAM_REGISTRY, (), (), \
      "The specified upstream registry does not support authentication with a Secrets Manager secret. Remove the " \
      "credentialArn and try again.") \
    /* the model's documentation of the three exceptions (its typo "permisisons" kept) */ \
    X(SECRET_NOT_FOUND, SECRET_NOT_FOUND, (), (), \
      "The ARN of the secret specified in the pull through cache rule was not found. Update the pull through cache " \
      "rule with a valid secret ARN and try again.") \
    X(UNABLE_TO_ACCESS_SECRET, UNABLE_TO_ACCESS_SECRET, (), (), \
      "The secret is unable to be accessed. Verify the resource permissions for the secret and try again.") \
    X(UNABLE_TO_DECRYPT_SECRET_VALUE, UNABLE_TO_DECRYPT_SECRET_VALUE, (), (), \
      "The secret is accessible but is unable to be decrypted. Verify the resource permisisons and try again.") \
    /* ValidatePullThroughCacheRule's failure (no error): seen as "The authentication to the upstream registry \
       failed. Verify that the credenti..." in aws/containers-roadmap#2354, the end inferred */ \
    X(UPSTREAM_AUTHENTICATION_FAILED, OK, (), (), \
      "The authentication to the upstream registry failed. Verify that the credentials in the secret are valid and " \
      "try again.") \
    /* no public source: our choice */ \
    X(EXCLUSION_ALREADY_EXISTS, EXCLUSION_ALREADY_EXISTS, (, const char *arn, const char *registry), (, arn, registry), \
      "The principal '%s' is already excluded from pull time updates in the registry with id '%s'") \
    X(EXCLUSION_NOT_FOUND, EXCLUSION_NOT_FOUND, (, const char *arn, const char *registry), (, arn, registry), \
      "The principal '%s' is not excluded from pull time updates in the registry with id '%s'") \
    X(EXCLUSION_LIMIT, LIMIT_EXCEEDED, (, const char *registry, int max), (, registry, max), \
      "The registry with id '%s' already has the maximum allowed number of pull time update exclusions which is '%d'") \
    /* ECR-BEHAVIOUR.md (stelligent/mu#323 and the rows after it): the frame of every constraint below */ \
    X(INVALID_PARAMETER, INVALID_PARAMETER, (, const char *where, const char *rule), (, where, rule), \
      "Invalid parameter at '%s' failed to satisfy constraint: '%s'") \
    /* Coral's deserialiser: a JSON value where another kind was expected (`type`: "a String", "a List"...) */ \
    X(FOUND_STRUCTURE, SERIALIZATION, (), (), "Start of structure or map found where not expected.") \
    X(FOUND_LIST, SERIALIZATION, (), (), "Start of list found where not expected") \
    X(FOUND_STRING, SERIALIZATION, (, const char *type), (, type), "STRING_VALUE can not be converted to %s") \
    X(FOUND_NUMBER, SERIALIZATION, (, const char *type), (, type), "NUMBER_VALUE can not be converted to %s") \
    X(FOUND_BOOLEAN, SERIALIZATION, (, const char *type), (, type), "BOOLEAN_VALUE can not be converted to %s") \
    X(FOUND_OTHER, SERIALIZATION, (), (), "Unexpected value") \
    /* the framework's, for a body that is no JSON (wire.c; "Message"): Jackson's words for a number too big, \
       ours for the rest (`at`: the character jansson stopped at) */ \
    X(BODY_NUMBER_RANGE, SERIALIZATION, (, int at), (, at), "Numeric value out of range of long (at character %d)") \
    X(BODY_NOT_JSON, SERIALIZATION, (, int at), (, at), "The request body is not valid JSON (at character %d)") \
    /* An error a fault rule or a hook names without a message (errors.c): AWS's common texts for the first \
       three (no source cited in the code), our choice for any other name */ \
    X(INJECTED_THROTTLING, THROTTLING, (), (), "Rate exceeded") \
    X(INJECTED_SERVER, SERVER, (), (), "We encountered an internal error. Please try again.") \
    X(INJECTED_SERVICE_UNAVAILABLE, SERVICE_UNAVAILABLE, (), (), "Service Unavailable") \
    X(INJECTED_OTHER, OK, (), (), "The request failed: injected by an ecrmock fault rule") \
    /* ecrmock's own: no memory while handling a call */ \
    X(OUT_OF_MEMORY, SERVER, (), (), "ecrmock ran out of memory while handling the request")

/* The constraints of InvalidParameterException (the '<rule>' of its text).
 * X(ID, (, parameters), (, arguments), text) */
#define EM_RULE_LIST(X) \
    /* ECR-BEHAVIOUR.md (stelligent/mu#323, aws/aws-dotnet-deploy#549): the model's string constraints */ \
    X(PATTERN, (, const char *regex), (, regex), "must satisfy regular expression '%s'") \
    X(LENGTH_MIN, (, long long min), (, min), "must have length greater than or equal to %lld") \
    X(LENGTH_MAX, (, long long max), (, max), "must have length less than or equal to %lld") \
    /* ECR-BEHAVIOUR.md (fujiwara/ecrm#3): Coral's words, for lists, maps, numbers, enums, nulls */ \
    X(MEMBER_LENGTH_MIN, (, long long min), (, min), "Member must have length greater than or equal to %lld") \
    X(MEMBER_LENGTH_MAX, (, long long max), (, max), "Member must have length less than or equal to %lld") \
    X(MEMBER_VALUE_MIN, (, long long min), (, min), "Member must have value greater than or equal to %lld") \
    X(MEMBER_VALUE_MAX, (, long long max), (, max), "Member must have value less than or equal to %lld") \
    X(MEMBER_ENUM, (, const char *set), (, set), "Member must satisfy enum value set: [%s]") \
    X(MEMBER_NOT_NULL, (), (), "Member must not be null") \
    X(MEMBER_PATTERN, (, const char *regex), (, regex), "Member must satisfy regular expression pattern: %s") \
    /* Coral's wrapping of a rule of a list's scalar item, said at the list */ \
    X(MEMBER_CONSTRAINT, (, const char *rule), (, rule), "Member must satisfy constraint: [%s]") \
    /* no public source: our choice (paging: a list given with nextToken or maxResults) */ \
    X(NOT_WITH, (, const char *member, const char *list), (, member, list), "%s cannot be specified with %s") \
    /* no public source: our choice */ \
    X(INVALID_NEXT_TOKEN, (), (), "Invalid next token provided") \
    /* ECR-BEHAVIOUR.md (terraform-aws-modules/terraform-aws-ecr#19) */ \
    X(INVALID_REPOSITORY_POLICY, (), (), "Invalid repository policy provided") \
    /* no public source: our choice, worded as the repository's */ \
    X(INVALID_REGISTRY_POLICY, (), (), "Invalid registry policy provided") \
    /* ECR-BEHAVIOUR.md (boto/boto3#3295) */ \
    X(INVALID_JSON_SYNTAX, (), (), "Invalid JSON syntax") \
    /* no public source: our choice (PutImage's manifest, said at 'ImageManifest'; `what`: "config", "layer") */ \
    X(MANIFEST_BLOB, (, const char *what), (, what), \
      "Invalid %s descriptor: it needs a digest like sha256:<hex> and a size") \
    X(MANIFEST_SUBJECT, (), (), "Invalid subject descriptor: it needs a digest like sha256:<hex>") \
    X(MANIFEST_DESCRIPTOR, (), (), "Invalid manifest descriptor: it needs a digest like sha256:<hex>") \
    X(MANIFEST_FS_LAYER, (), (), "Invalid fsLayers entry: it needs a blobSum like sha256:<hex>") \
    X(MANIFEST_LAYER_LIMIT, (), (), "Limit on number of layers per image exceeded") \
    /* no public source: our choice (PutImage's manifest media type) */ \
    X(MEDIA_TYPE_MISMATCH, (, const char *given, const char *in_manifest), (, given, in_manifest), \
      "Media type '%s' does not match the mediaType '%s' of the image manifest") \
    X(MEDIA_TYPE_UNSUPPORTED, (, const char *media_type), (, media_type), "Unsupported manifest media type '%s'") \
    /* no public source: our choice */ \
    X(KMS_KEY_WITHOUT_KMS, (), (), "can only be provided when encryptionType is KMS or KMS_DSSE") \
    X(IMAGE_ID_EMPTY, (), (), "both tag and digest cannot be null") \
    X(CONTINUOUS_SCAN_BASIC, (), (), "CONTINUOUS_SCAN is not supported for the BASIC scan type") \
    X(INVALID_ARN, (), (), "Invalid ARN") \
    X(ROLE_OTHER_ACCOUNT, (, const char *registry), (, registry), \
      "The role must be in the same account as the registry '%s'") \
    X(EXCLUSION_FILTERS_REQUIRED, (, const char *mutability), (, mutability), \
      "must be provided when imageTagMutability is %s") \
    X(EXCLUSION_FILTERS_UNWANTED, (), (), \
      "can only be provided when imageTagMutability is IMMUTABLE_WITH_EXCLUSION or MUTABLE_WITH_EXCLUSION") \
    X(ACCOUNT_SETTING_NAME, (), (), \
      "Account setting name must be one of [BASIC_SCAN_TYPE_VERSION, REGISTRY_POLICY_SCOPE, BLOB_MOUNTING]") \
    X(ACCOUNT_SETTING_VALUE, (, const char *name, const char *values), (, name, values), \
      "Account setting value for %s must be one of [%s]") \
    X(REPLICATION_TO_SELF, (), (), "Replication destination cannot be the same as the source registry") \
    X(ROLE_ONLY_FOR_ECR, (), (), "customRoleArn can only be specified when upstreamRegistry is ecr") \
    X(ROLE_REQUIRED, (), (), "customRoleArn must be specified when the upstream registry belongs to another account") \
    X(UPSTREAM_PREFIX_AT_ROOT, (), (), \
      "upstreamRepositoryPrefix can only be specified when ecrRepositoryPrefix is not ROOT") \
    X(CREDENTIAL_OR_ROLE, (), (), "Either credentialArn or customRoleArn must be specified") \
    /* A lifecycle policy's checks (lifecycle_policy.c), said at 'LifecyclePolicyText'.  No source is cited \
       in the code for these: the JSON-schema validator's words (its types, members, enums, minimums, \
       one-of shapes), then ECR's own rules */ \
    X(LC_WRONG_TYPE, (, const char *found, const char *want), (, found, want), \
      EM__LC "instance type (%s) does not match any allowed primitive type (allowed: [\"%s\"])") \
    X(LC_MISSING, (, const char *list), (, list), EM__LC "object has missing required properties ([%s])") \
    X(LC_NOT_ALLOWED, (, const char *list), (, list), \
      EM__LC "object instance has properties which are not allowed by the schema: ([%s])") \
    X(LC_ENUM, (, const char *value, const char *values), (, value, values), \
      EM__LC "instance value (%.200s) not found in enum :(possible values: %s)") \
    X(LC_MINIMUM, (, long long found), (, found), \
      EM__LC "numeric instance is lower than the required minimum (minimum: 1, found: %lld)") \
    X(LC_EMPTY_ARRAY, (), (), EM__LC "array is too short: must have at least 1 elements but instance has 0 elements") \
    X(LC_ONE_SCHEMA, (), (), EM__LC "instance failed to match exactly one schema (matched 0 out of 2)") \
    X(LC_NOT_AN_OBJECT, (), (), EM__LC "Could not map policyString into LifecyclePolicy.") \
    X(LC_WILDCARDS, (, int max, const char *pattern), (, max, pattern), \
      EM__LC "tagPatternList can have at most %d wildcards (*) per pattern: '%.200s'.") \
    X(LC_TAGGED_NEEDS_LIST, (), (), EM__LC "Must specify tagPrefixList or tagPatternList when tagStatus=TAGGED.") \
    X(LC_ONE_LIST, (), (), EM__LC "Only one of tagPrefixList and tagPatternList can be specified in a rule.") \
    X(LC_LIST_ONLY_TAGGED, (), (), EM__LC "tagPrefixList and tagPatternList can only be specified when tagStatus=TAGGED.") \
    X(LC_PRIORITY_TWICE, (, long long priority), (, priority), \
      EM__LC "Lifecycle policy rules must have unique rulePriority values: %lld is used twice.") \
    X(LC_UNTAGGED_TWICE, (), (), EM__LC "Only one rule can select Untagged images per storage class.") \
    X(LC_ANY_LAST, (), (), EM__LC "Rule for tagStatus=ANY must have the lowest priority per storage class") \
    /* no public source: our choice, in the style of the above (storage classes, count types and actions that \
       go together: the user guide's "Lifecycle policy properties") */ \
    X(LC_TRANSITIONED_NEEDS_ARCHIVE, (), (), \
      EM__LC "Must specify storageClass=ARCHIVE when countType=SINCE_IMAGE_TRANSITIONED.") \
    X(LC_ARCHIVE_ONLY_TRANSITIONED, (), (), \
      EM__LC "storageClass=ARCHIVE can only be specified when countType=SINCE_IMAGE_TRANSITIONED.") \
    X(LC_PULLED_ONLY_TRANSITION, (), (), \
      EM__LC "countType=SINCE_IMAGE_PULLED can only be used with action type=TRANSITION.") \
    X(LC_TRANSITIONED_ONLY_EXPIRE, (), (), \
      EM__LC "countType=SINCE_IMAGE_TRANSITIONED can only be used with action type=EXPIRE.") \
    X(LC_ARCHIVE_DAYS, (, int min, long long found), (, min, min, found), \
      EM__LC "countNumber must be at least %d when countType=SINCE_IMAGE_TRANSITIONED: archived images have a " \
             "minimum storage duration of %d days (found: %lld).")
/* The frame of every lifecycle policy rule. */
#define EM__LC "Lifecycle policy validation failure: "

#define EM__PARAMS(...) __VA_ARGS__
typedef enum em_msg {
#define EM__MSG_ENUM(id, code, params, args, text) EM_MSG_##id,
    EM_MESSAGE_LIST(EM__MSG_ENUM)
#undef EM__MSG_ENUM
    EM_MSG__COUNT
} em_msg;
typedef enum em_rule {
#define EM__RULE_ENUM(id, params, args, text) EM_RULE_##id,
    EM_RULE_LIST(EM__RULE_ENUM)
#undef EM__RULE_ENUM
    EM_RULE__COUNT
} em_rule;

/* The table behind them (errors.c): a message's error, and each text as
 * a format, for a test or a listing. */
ecrmock_error em_message_error(em_msg id);
const char *em_message_format(em_msg id);
const char *em_rule_format(em_rule id);

/* em_fail_EM_MSG_<ID>(c, ...) and em_text_EM_MSG_<ID>(buf, size, ...) (snprintf's
 * return), typed by the list; em_fail_EM_RULE_<ID>(c, member, where, ...) and
 * em_text_EM_RULE_<ID>(buf, size, ...). */
#define EM__MSG_FN(id, code, params, args, text) \
    static inline int em_fail_EM_MSG_##id(em_call *c EM__PARAMS params) \
    { \
        return em_fail(c, ECRMOCK_ERR_##code, text EM__PARAMS args); \
    } \
    static inline int em_text_EM_MSG_##id(char *buf, size_t size EM__PARAMS params) \
    { \
        return snprintf(buf, size, text EM__PARAMS args); \
    }
EM_MESSAGE_LIST(EM__MSG_FN)
#undef EM__MSG_FN
#define EM__RULE_FN(id, params, args, text) \
    static inline int em_fail_EM_RULE_##id(em_call *c, const char *em__member, const char *em__where EM__PARAMS params) \
    { \
        return em_fail_param_at(c, em__member, em__where, text EM__PARAMS args); \
    } \
    static inline int em_text_EM_RULE_##id(char *buf, size_t size EM__PARAMS params) \
    { \
        return snprintf(buf, size, text EM__PARAMS args); \
    }
EM_RULE_LIST(EM__RULE_FN)
#undef EM__RULE_FN

/* Fails the call with message `id` (EM_MSG_...) and its arguments. */
#define em_fail_text(c, id, ...) em_fail_##id(c, ##__VA_ARGS__)
/* The text of `id` (EM_MSG_... or EM_RULE_...) into buf[size], as snprintf. */
#define em_format_text(buf, size, id, ...) em_text_##id(buf, size, ##__VA_ARGS__)
/* InvalidParameterException with rule `id` (EM_RULE_...) at `where`, ECR's
 * name of the member (c->member: its JSON path). */
#define em_fail_rule(c, where, id, ...) em_fail_##id(c, NULL, where, ##__VA_ARGS__)
/* The same for a member ECR's text names otherwise: c->member is `member`. */
#define em_fail_rule_at(c, member, where, id, ...) em_fail_##id(c, member, where, ##__VA_ARGS__)

/* Validates `req` against the model's shape; 0 or -1 with c's error set. */
int em_validate(em_call *c, int shape, json_t *req);
/* Whether em_validate() surely accepts the request the tokens describe
 * (token 0 an object); false also when this check cannot tell (a null, a
 * member named twice, a blob, ...): the caller then takes the tree path.
 * May compile and remember patterns, as em_validate() does; with the lock. */
bool em_validate_tokens(ecrmock *m, int shape, const em_jdoc *d);
/* Moves m's clock by ms (the caller holds the lock): 0, or -1 leaving it
 * as it was when the time would be outside 0..ECRMOCK_CLOCK_MAX_MS. */
int em_clock_move(ecrmock *m, int64_t ms);
/* Puts m's clock at ms (0..ECRMOCK_CLOCK_MAX_MS; the caller holds the lock):
 * pinned there, or in wall mode the offset that makes now ms. */
void em_clock_put(ecrmock *m, int64_t ms);
/* The time a SigV4 X-Amz-Date is checked against, ms (the caller holds the
 * lock): the system clock in wall mode, whatever the offset (a real client
 * signs with its own clock), or when ecrmock_http_sigv4_system_clock_set()
 * asked for it; the pinned clock otherwise. */
int64_t em_clock_signing_ms(ecrmock *m);
/* The system clock, ms since the epoch. */
int64_t em_wall_ms(void);

/* ---- the test controls' errors (err.c) ------------------------------------ */
/* Each fills `err` when it is not NULL.  em_err_clear: code OK, path and
 * text "" (returns 0).  em_err_set: `code`, `path` (NULL: "") and the
 * printf-style text, cut to fit (returns -1).  em_err_at: the same with the
 * path "<source>: <json path>".  em_err_arg: a bad argument
 * (ECRMOCK_ERR_INVALID_PARAMETER, no path).  em_err_nomem: ECRMOCK_ERR_SERVER, "out of
 * memory".  em_err_from_call: a failed call's error, its text
 * "<ErrorName>: <ECR's message>". */
int em_err_clear(ecrmock_err *err);
int em_err_set(ecrmock_err *err, ecrmock_error code, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int em_err_at(ecrmock_err *err, ecrmock_error code, const char *source, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
int em_err_arg(ecrmock_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int em_err_nomem(ecrmock_err *err);
/* A control's registry id: 0 when it is NULL (m's account) or 12 digits,
 * else -1 with em_err_arg's "registry id '<id>' is not 12 digits". */
int em_err_registry_id(ecrmock_err *err, const char *registry_id);
int em_err_from_call(ecrmock_err *err, const em_call *c);
/* ECRMOCK_ERR_REPOSITORY_NOT_FOUND for a control's (registry_id: NULL for
 * m's account, repository) */
int em_err_no_repo(ecrmock_err *err, ecrmock *m, const char *registry_id, const char *repository);

/* ---- page tokens (paging.c) ---------------------------------------------- */
#define EM_TAG_BYTES 1201 /* 300 characters of up to 4 UTF-8 bytes, and a NUL */
typedef struct em_page_pos {
    uint64_t seq;               /* the first item of the next page */
    char tag[EM_TAG_BYTES];     /* ListImages: the first tag of that image to list */
} em_page_pos;
/* A new token (json string) for a page that resumes at `pos` in the listing
 * `scope` (e.g. action + repository + filter). */
json_t *em_page_token(ecrmock *m, const char *scope, const em_page_pos *pos);
/* 0 and pos filled; -1 with InvalidParameterException set. */
int em_page_parse(em_call *c, const char *scope, const char *token, em_page_pos *pos);
/* 0 when the request has neither nextToken nor maxResults; else -1 with the
 * error ECR gives when one comes with the list `with` (e.g. "imageIds"). */
int em_page_refuse(em_call *c, const char *with);
/* ---- download URLs (download_url.c) --------------------------------------- */
/* Why a download URL was refused. */
typedef enum em_fetch_refusal {
    EM_FETCH_OK = 0,
    EM_FETCH_EXPIRED,        /* 403 AccessDenied, "Request has expired" */
    EM_FETCH_BAD_SIGNATURE,  /* 403 SignatureDoesNotMatch / missing parameters */
    EM_FETCH_NOT_FOUND,      /* 404: not a URL of this instance, or the layer is gone */
    EM_FETCH_DECLARED        /* 501: the layer is declared (a digest and a size), the fake has no bytes */
} em_fetch_refusal;
/* Whether `url` starts with the host part of this instance's download URLs
 * (S3's bucket host of any region, or the HTTP base URL when one is set);
 * *rest receives the path and query after it, host[256] its authority. */
bool em_download_url_split(ecrmock *m, const char *url, const char **rest, char *host);
/* A download URL of layer `digest` of repository registry_id/repository in
 * the current view's region, signed under the instance key now (new
 * em_malloc'd string; NULL: no memory). */
char *em_download_url(ecrmock *m, const char *registry_id, const char *repository, const char *digest);
/* Reads a download URL's path and query as requested of `host` (NULL:
 * none): EM_FETCH_OK with path[1024] its path and region[64] the region its
 * signed credential scope names; EM_FETCH_NOT_FOUND (no path),
 * EM_FETCH_BAD_SIGNATURE (a parameter missing, a signature that does not
 * match), EM_FETCH_EXPIRED (*expires_s: when, epoch seconds); -1: no memory. */
int em_download_url_check(ecrmock *m, const char *host, const char *path_query, char path[1024], char region[64],
                          int64_t *expires_s);

#pragma GCC visibility pop

#endif
