/*
 * ecrmock's private header: what one source file offers another.  Names
 * here carry the em_ prefix and are hidden from the shared library (see the
 * visibility pragma below and tests/check-exports.sh); everything else in a
 * .c file is static.
 */
#ifndef ECRMOCK_INTERNAL_H
#define ECRMOCK_INTERNAL_H

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <jansson.h>

#include "ecrmock.h"
#include "core/model.h"

/* uthash, with ecrmock's allocator and without its exit() on no memory: an
 * add that cannot allocate sets `oom` (a local of the caller) instead. */
#define uthash_malloc(sz) em_malloc(sz)
#define uthash_free(ptr, sz) em_free(ptr)
#define HASH_NONFATAL_OOM 1
#define uthash_nonfatal_oom(elt) (oom = 1)
#include <uthash.h>

#pragma GCC visibility push(hidden)

/* ---- allocation: one indirection, so a test can fail the Nth allocation -- */
void *em_malloc(size_t n);
void *em_calloc(size_t count, size_t n);
void *em_realloc(void *p, size_t n);
void em_free(void *p);
/* Frees what jansson allocated (json_dumps' text), with jansson's free. */
void em_json_free(void *p);
char *em_strdup(const char *s);
char *em_strndup(const char *s, size_t n);
char *em_sprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- growable byte buffer ----------------------------------------------- */
typedef struct em_buf {
    unsigned char *data;
    size_t len, cap;
} em_buf;
int em_buf_reserve(em_buf *b, size_t extra);             /* 0, or -1: no memory */
int em_buf_append(em_buf *b, const void *p, size_t n);   /* 0, or -1: no memory, b unchanged */
void em_buf_release(em_buf *b);
/* The length of the valid UTF-8 sequence at p (lead byte >= 0x80), or 0:
 * jansson's rules (no overlong forms, no surrogates, nothing above U+10FFFF). */
size_t em_utf8_seq(const unsigned char *p, const unsigned char *end);
/* Whether the C string s is UTF-8 as a JSON string must be. */
bool em_utf8_ok(const char *s);
/* A copy of s that is UTF-8: each byte that starts no valid sequence becomes
 * U+FFFD, so that what a client sent (a header, an action name) can be held
 * and quoted in JSON.  New em_malloc'd, or NULL: no memory. */
char *em_utf8_copy(const char *s);
/* The first byte from p on that a JSON string cannot hold as it is (a
 * control character, '"', '\\') or that starts a UTF-8 sequence (>= 0x80),
 * or end.  Eight bytes a step while none of them is one. */
static inline const unsigned char *em_plain_run(const unsigned char *p, const unsigned char *end)
{
    const uint64_t ones = 0x0101010101010101u, high = 0x8080808080808080u;
    while (end - p >= 8) {
        uint64_t x;
        memcpy(&x, p, 8);
        uint64_t q = x ^ (ones * '"'), s = x ^ (ones * '\\');
        /* a byte below 0x20, a zero byte of q or s, or a high bit */
        if ((((x - ones * 0x20) & ~x) | ((q - ones) & ~q) | ((s - ones) & ~s) | x) & high)
            break;
        p += 8;
    }
    while (p < end && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\')
        p++;
    return p;
}
/* json_parse.c: a request body as json_loadb(text, len, 0) would read it
 * (new reference), or NULL: with *oom set when an allocation failed, else
 * when the fast path does not take the text (then ask json_loadb, whose
 * answer is the one). */
json_t *em_json_parse(const char *text, size_t len, bool *oom);
/* wire.c: doc (an object or array) as the wire level writes it, jansson's
 * compact bytes; *out malloc'd (free it).  0, or -1: no memory, or a string
 * that is not UTF-8. */
int em_wire_dump(json_t *doc, char **out, size_t *out_len);

/* ---- crypto and encodings (libcrypto) ------------------------------------ */
#define EM_SHA256_HEX 64
/* A day of the virtual clock, in milliseconds. */
#define EM_DAY_MS INT64_C(86400000)
/* Writes "sha256:<64 hex>" and a NUL into out[ECRMOCK_DIGEST_SIZE]. */
void em_sha256_digest(const void *p, size_t n, char *out);
void em_hex(const unsigned char *p, size_t n, char *out); /* 2n chars and a NUL */
/* Standard padded base64.  Returns a new em_malloc'd NUL-terminated string,
 * or NULL (no memory). */
char *em_base64(const void *p, size_t n, size_t *out_len);
/* Decodes standard padded base64; returns 0 and a new em_malloc'd buffer
 * (NULL for empty), -1 for text that is not base64, -2 for no memory. */
int em_unbase64(const char *s, size_t n, unsigned char **out, size_t *out_len);
/* The length standard padded base64 text decodes to, or SIZE_MAX when it is
 * not such text. */
size_t em_base64_decoded_len(const char *s, size_t n);
/* The same for text already known to be base64 (it reads only the end). */
size_t em_base64_valid_len(const char *s, size_t n);
/* Decodes text em_base64_decoded_len accepted into out, which has room for
 * n / 4 * 3 bytes; returns the decoded length (SIZE_MAX: not base64). */
size_t em_base64_decode_valid(const char *s, size_t n, unsigned char *out);
/* ECR's wildcard filters: '*' matches any run; with `iam`, also '?' for one
 * character, case ignored (IAM action names). */
bool em_wildcard_match(const char *pat, const char *s, bool iam);
/* Whether `d` matches the model's digest pattern, algorithm ':' hex. */
bool em_digest_ok(const char *d);
void em_hmac_sha256(const void *key, size_t key_len, const void *p, size_t n,
                    unsigned char out[32]);

/* ---- the registry's data ---------------------------------------------------
 * A registry (an account) holds repositories; a repository holds its layer
 * set, its images and tags, its uploads and its policy.  Layer bytes live
 * once per instance in a content-addressed blob store (em_blob), shared by
 * every repository that has the layer.  Lookups by name, digest, tag and
 * upload id are hash lookups; listings walk an em_seqvec, which keeps items
 * in creation order so that a page token can resume in O(log n).
 */
typedef struct em_seqslot {
    uint64_t seq;
    void *item; /* NULL once removed */
} em_seqslot;

typedef struct em_seqvec {
    em_seqslot *v;
    size_t n, cap, live;
} em_seqvec;

typedef struct em_blob em_blob;
typedef struct em_layer em_layer;
typedef struct em_image em_image;
typedef struct em_tag em_tag;
typedef struct em_upload em_upload;
typedef struct em_repo em_repo;
typedef struct em_registry em_registry;
typedef struct em_lc_preview em_lc_preview;
typedef struct em_region em_region;

struct em_blob {
    char digest[ECRMOCK_DIGEST_SIZE];
    unsigned char *data;
    size_t len;
    size_t refs; /* repositories holding it */
    UT_hash_handle hh;
};

struct em_layer {
    em_blob *blob;
    char *media_type;    /* learnt from a manifest that lists it; may be NULL */
    size_t image_refs;   /* images of the repository that reference it */
    UT_hash_handle hh;
};

struct em_tag {
    char *name;
    em_image *image;
    UT_hash_handle hh;
};

struct em_image {
    char digest[ECRMOCK_DIGEST_SIZE];
    char *manifest;
    size_t manifest_len;
    char *media_type;          /* imageManifestMediaType */
    char *artifact_media_type; /* the config's mediaType, when there is one */
    char *subject;             /* subject digest, when there is one */
    int64_t pushed_at_ms;
    int64_t pulled_at_ms;      /* 0: never pulled */
    int64_t size;
    uint64_t seq;
    size_t slot;
    em_tag **tags;             /* sorted by name */
    size_t n_tags;
    em_layer **layers;         /* distinct layers referenced (config included) */
    size_t n_layers;
    char (*children)[ECRMOCK_DIGEST_SIZE]; /* a list's/index's manifests */
    size_t n_children;
    size_t parents;            /* lists/indexes in the repository that reference it */
    json_t *replication;       /* replication statuses (replication.c), or NULL */
    bool scanned;              /* a basic scan was started (scanning.c) */
    int64_t scan_started_ms;   /* the last scan's start and completion, virtual clock */
    int64_t scan_done_ms;
    json_t *scan_findings;     /* ecrmock_scan_findings_set(): array, or NULL for none */
    bool archived;             /* in the archival storage class (storage_class.c) */
    int64_t archived_at_ms;    /* lastArchivedAt; 0: never archived */
    int64_t activated_at_ms;   /* when the latest restore completes (ahead of the clock: ACTIVATING); 0: never */
    json_t *signing;           /* signing profile ARNs matched at push (signing.c), or NULL */
    UT_hash_handle hh;
};

struct em_upload {
    char id[37];
    em_buf bytes;
    void *sha; /* EVP_MD_CTX *, updated part by part */
    uint64_t parts;
    uint64_t last_part_len;
    bool small_part; /* a part other than the latest was under the minimum */
    int64_t touched_ms;
    UT_hash_handle hh;
};

typedef struct em_policy {
    char *text;
} em_policy;

struct em_repo {
    char *name;
    em_registry *registry;
    char *arn, *uri;
    int64_t created_ms;
    char *tag_mutability;          /* "MUTABLE" / "IMMUTABLE" / ... */
    json_t *mutability_filters;    /* array, or NULL */
    bool scan_on_push;
    char *encryption_type;         /* "AES256" / "KMS" / "KMS_DSSE" */
    char *kms_key;                 /* may be NULL */
    json_t *tags;                  /* resource tags: array of {Key, Value} */
    char *policy;                  /* repository policy text, or NULL */
    char *lifecycle_policy;        /* lifecycle policy text, or NULL (lifecycle.c) */
    int64_t lifecycle_evaluated_ms; /* when that policy last ran; 0: never */
    struct em_lc_preview *lifecycle_preview; /* the latest preview, or NULL */
    uint64_t seq;
    size_t slot;
    em_layer *layers;   /* hash by digest */
    em_image *images;   /* hash by digest */
    em_tag *tag_index;  /* hash by name */
    em_upload *uploads; /* hash by id */
    em_seqvec order;    /* images in push order */
    UT_hash_handle hh;
};

typedef struct em_exclusion {
    char *principal;    /* an IAM principal ARN */
    int64_t created_ms;
    uint64_t seq;
} em_exclusion;

struct em_registry {
    char id[13];
    em_repo *repos;     /* hash by name */
    em_seqvec order;    /* repositories in creation order */
    struct em_ptc_rules *ptc;       /* pull-through cache rules (pull_through_cache.c), or NULL */
    struct em_templates *templates; /* repository creation templates (creation_templates.c), or NULL */
    char *policy;       /* registry policy text (registry.c), or NULL */
    json_t *replication; /* replication configuration (replication.c), or NULL */
    json_t *account_settings;   /* {name: value} set by PutAccountSetting, or NULL */
    json_t *signing_config;     /* PutSigningConfiguration's signingConfiguration, or NULL */
    em_exclusion *exclusions;   /* pull time update exclusions, in registration order */
    size_t n_exclusions;
    UT_hash_handle hh;
};

/* ---- faults and the journal (faults.c, journal.c) -------------------------- */
typedef struct em_fault em_fault;
typedef struct em_journal_entry em_journal_entry;

/* What the fault rules decided for one call.  The call owns it: `rule` is a
 * counted reference, so error, message and body (which point into the rule)
 * stay valid until em_fault_decision_release(), even when a hook or another
 * thread removes the rule meanwhile. */
typedef struct em_fault_decision {
    em_fault *rule;           /* the deciding rule (a reference), or NULL (latency rules only decide time) */
    long rule_id;             /* the deciding rule's id, else the first latency rule's, else 0 */
    ecrmock_fault_effect effect;
    const char *error, *message, *body;
    int status;               /* truncate, malform: 0 (the action's status) unless the rule sets it */
    size_t truncate_at;
} em_fault_decision;

/* Offers a call to the rules (advancing the clock for latency rules); the
 * instance locked.  `headers`: the HTTP request's headers as em_headers_json()
 * gives them, or NULL for a call that came without HTTP (rules matching on a
 * header never fire on it).  Release *d with em_fault_decision_release(). */
typedef struct em_action em_action;
void em_faults_decide(ecrmock *m, const em_action *a, json_t *req, json_t *headers, em_fault_decision *d);
/* Drops the decision's reference to its rule and clears it; locked or not. */
void em_fault_decision_release(em_fault_decision *d);
void em_faults_free(ecrmock *m);
/* The JSON name of an effect ("connect-refused"), or NULL. */
const char *em_fault_effect_name(ecrmock_fault_effect effect);
/* Whether a decided effect stands for a transport failure (connect refused,
 * timeout, receive error). */
#define EM_FAULT_IS_TRANSPORT(e) ((e) >= ECRMOCK_FAULT_CONNECT_REFUSED)
/* ecrmock_call_raw(), also saying (when `transport` is not NULL) which
 * transport effect decided the call, or ECRMOCK_FAULT_ERROR for none;
 * `http` (borrowed; may be NULL) is the HTTP request the call came in, whose
 * headers the journal keeps and fault rules may match on. */
int em_call_raw(ecrmock *m, const char *target, const char *body, size_t body_len, char **response,
                size_t *response_len, const ecrmock_http_request *http, ecrmock_fault_effect *transport);
/* The HTTP status of an error name: the list's, else 400. */
int em_error_status(const char *error);
/* {"__type": error, "message": message or the default text} (new reference). */
json_t *em_injected_error(const char *error, const char *message);

/* What happened to a call, besides its request and answer. */
typedef struct em_journal_note {
    long fault;      /* the deciding rule's id (em_fault_decision.rule_id), or 0 */
    int effect;      /* its effect (ECRMOCK_FAULT_LATENCY when only latency
                        rules fired), or -1: no rule fired */
    bool ran;        /* the action's handler ran */
    json_t *headers; /* borrowed: em_headers_json() of the HTTP request, or NULL */
} em_journal_note;

/* Counts the call (a call: it reached ECR; a run: its handler ran) and,
 * when the journal is on, records it (copies).  `a`: the action, or NULL
 * for a name that is none (then `action` is the name the caller sent).
 * `note` may be NULL: no rule fired, the action did not run, no HTTP. */
void em_journal_record(ecrmock *m, const em_action *a, const char *action, json_t *req, int status, json_t *resp,
                       const em_journal_note *note);
/* The headers of an HTTP request as the journal shows them and fault rules
 * match them (new reference; NULL: no memory): {"lower-case name": "value"},
 * the values of a repeated name joined by ", " in the order sent, each byte
 * of a name or value that starts no UTF-8 sequence as U+FFFD, and the
 * Signature of an Authorization header as "<elided>". */
json_t *em_headers_json(const ecrmock_http_request *http);
void em_journal_free(ecrmock *m);

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
    int64_t clock_ms;
    uint64_t seed;
    uint64_t draws;            /* ids generated so far */
    uint64_t seq;              /* creation order of repositories and images */
    em_registry *registries;   /* hash by id */
    em_region *regions;        /* other regions' registries, by name (replication.c) */
    int replicating;           /* a replication copy is under way: it replicates no further */
    em_blob *blobs;            /* hash by digest */
    void *patterns[EM_PATTERN_COUNT]; /* pcre2_code *, compiled when first used */
    void *match_data;
    void *pattern_memo[EM_PATTERN_COUNT]; /* the last text each pattern accepted (validate.c) */
    unsigned char key[32];     /* signs page tokens and download URLs */
    void *mac_states[3];       /* EVP_MD_CTX *: the key's HMAC inner and outer states, and a work one (em_mac) */

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
    uint64_t journal_seq;
    unsigned long calls[EM_MAX_ACTIONS + 1]; /* per action; the last: unknown actions */
    unsigned long runs[EM_MAX_ACTIONS];      /* per action: calls whose handler ran */
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
};

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
/* The UUID (version 4 layout) of 32 random bytes, and a NUL, in out[37]. */
void em_uuid_of(unsigned char r[32], char *out);

/* ---- one call ------------------------------------------------------------ */
typedef struct em_call {
    ecrmock *m;
    json_t *req;          /* the validated request (borrowed) */
    json_t *out;          /* the output object being built */
    ecrmock_error err;
    json_t *errdoc;       /* set by em_fail() */
} em_call;

/* Sets the call's error to `code` with a printf-style message; returns -1
 * so that a handler can `return em_fail(...)`.  Extra members go on
 * c->errdoc afterwards. */
int em_fail(em_call *c, ecrmock_error code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int em_fail_nomem(em_call *c);
/* "Invalid parameter at '<where>' failed to satisfy constraint: '<rule>'" */
int em_fail_param(em_call *c, const char *where, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

typedef int (*em_handler)(em_call *c);

typedef struct em_action {
    const char *name;
    em_handler handler;
    int input_shape;
} em_action;

extern const em_action em_actions[];
extern const size_t em_action_count;
const em_action *em_action_find(const char *name);

/* What an area of ECR frees or resets when the instance, a registry or a
 * repository goes: the store and ecrmock.c call these through m->areas
 * (actions.c's em_areas[], ended by a row without a name), never an area
 * by name.  Any hook may be NULL. */
typedef struct em_area {
    const char *name;
    void (*reset)(ecrmock *m);              /* ecrmock_new, _reset, _free: the area's instance-wide state */
    void (*registry_free)(em_registry *r);  /* a registry being freed: the area's data in it */
    void (*repo_free)(em_repo *repo);       /* a repository being freed: the area's data in it */
} em_area;
extern const em_area em_areas[];

/* Validates `req` against the model's shape; 0 or -1 with c's error set. */
int em_validate(em_call *c, int shape, json_t *req);

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

/* ---- request accessors (after validation, types are right) --------------- */
const char *em_str(json_t *o, const char *key);            /* NULL when absent */
bool em_bool(json_t *o, const char *key, bool dflt);
int64_t em_int(json_t *o, const char *key, int64_t dflt);

/* ---- output helpers --------------------------------------------------------- */
json_t *em_time(int64_t ms);   /* epoch seconds as a JSON number (new reference) */
/* json_object_set_new that reports failure: 0, or -1 (value released).
 * key is a member name from the code (ASCII): it is not UTF-8 checked. */
int em_set(json_t *o, const char *key, json_t *v);
/* The text of a stored manifest as a JSON string (new reference): not
 * UTF-8 checked again, as every stored manifest came from a JSON string. */
json_t *em_manifest_string(const char *text, size_t len);
/* json_string(s) (new reference; NULL for NULL or no memory), without
 * jansson's character-by-character UTF-8 check when s is ASCII, which is
 * what names, tags, digests and ids are: the check was a tenth of a call. */
json_t *em_jstr(const char *s);
/* Whether id is an AWS account id (a registry id): exactly 12 digits. */
bool em_account_id_ok(const char *id);
/* Moves m's clock by ms (the caller holds the lock): 0, or -1 leaving it
 * as it was when the time would be outside 0..ECRMOCK_CLOCK_MAX_MS. */
int em_clock_move(ecrmock *m, int64_t ms);
/* The DNS suffix of a region's endpoints: amazonaws.com.cn in China, else amazonaws.com. */
const char *em_dns_suffix(const char *region);

/* ---- store (store.c) ----------------------------------------------------- */
em_registry *em_registry_get(ecrmock *m, const char *id);
em_registry *em_registry_ensure(ecrmock *m, const char *id); /* NULL: no memory */
/* Forgets a registry that holds no repository (undoing an em_registry_ensure). */
void em_registry_drop_if_empty(ecrmock *m, em_registry *r);
/* The registry id a request names, or the caller's account. */
const char *em_registry_id(em_call *c);
em_repo *em_repo_get(em_registry *r, const char *name);
/* Looks up the request's repositoryName in its registry; on a miss sets
 * RepositoryNotFoundException and returns NULL. */
em_repo *em_repo_lookup(em_call *c);
int em_repo_insert(em_registry *r, em_repo *repo);
/* A new repository's settings (NULL members: ECR's defaults). */
typedef struct em_repo_settings {
    const char *tag_mutability;  /* NULL: "MUTABLE" */
    json_t *mutability_filters;  /* borrowed (copied); NULL: none */
    bool scan_on_push;
    const char *encryption_type; /* NULL: "AES256" */
    const char *kms_key;         /* NULL: none */
    json_t *tags;                /* borrowed (copied); NULL: [] */
} em_repo_settings;
/* Creates repository `name` in registry reg_id of the current view with
 * `set` (NULL: ECR's defaults) and links it in; when c->out is set, its
 * "repository" member is the new repository's JSON (CreateRepository's
 * answer).  Returns the repository (borrowed: the registry owns it), or NULL
 * with c's error set (RepositoryAlreadyExists, LimitExceeded, no memory) and
 * nothing changed. */
em_repo *em_repo_create(em_call *c, const char *reg_id, const char *name, const em_repo_settings *set);
void em_repo_remove(ecrmock *m, em_repo *repo); /* unlinks and frees */
void em_repo_free(ecrmock *m, em_repo *repo);
void em_registries_free(ecrmock *m);
void em_blobs_free(ecrmock *m);

em_blob *em_blob_get(ecrmock *m, const char *digest);
void em_blob_unref(ecrmock *m, em_blob *b);

em_layer *em_layer_get(em_repo *repo, const char *digest);
/* Adds the layer `digest` to the repository, its bytes `*data` (em_malloc'd,
 * `len` long) going to the blob store when the store does not have them yet:
 * then *data is taken and set to NULL; otherwise it is left to the caller.
 * Returns the layer (an existing one unchanged), or NULL when out of memory,
 * with nothing changed. */
em_layer *em_layer_add(ecrmock *m, em_repo *repo, const char *digest, unsigned char **data, size_t len);

em_image *em_image_get(em_repo *repo, const char *digest);
/* The next manifest list or index of repo, in push order from *pos on, that
 * references img (borrowed), or NULL; *pos moves past it (start at 0). */
em_image *em_next_parent(em_repo *repo, const em_image *img, size_t *pos);
em_tag *em_tag_get(em_repo *repo, const char *name);
int em_image_insert(ecrmock *m, em_repo *repo, em_image *img);
/* Removes an image, its tags and its layer references; frees it. */
void em_image_remove(em_repo *repo, em_image *img);
void em_image_free(em_image *img);
/* Puts tag `name` on img (moving it from another image if need be: an image
 * left with no tag stays, untagged).  -1: no memory, nothing changed. */
int em_tag_set(em_repo *repo, em_image *img, const char *name);
/* Removes one tag from its image; the image stays. */
void em_tag_remove(em_repo *repo, em_tag *t);
size_t em_repo_image_count(em_repo *repo);
/* The image's tags, sorted, as a JSON array (new reference; NULL: no memory). */
json_t *em_image_tags_json(const em_image *img);

em_upload *em_upload_get(ecrmock *m, em_repo *repo, const char *id); /* drops expired ones */
int em_upload_insert(em_repo *repo, em_upload *u);
void em_upload_remove(em_repo *repo, em_upload *u);

/* seq vectors */
int em_seqvec_push(em_seqvec *v, uint64_t seq, void *item, size_t *slot);
size_t em_seqvec_lower_bound(const em_seqvec *v, uint64_t seq); /* first slot with seq >= */
void em_seqvec_release(em_seqvec *v);

/* ---- lifecycle policies (lifecycle_policy.c) ------------------------------- */
/* A lifecycle policy, parsed: its rules (tagStatus, countType, ...). */
typedef enum { EM_LC_TS_TAGGED, EM_LC_TS_UNTAGGED, EM_LC_TS_ANY } em_lc_tag_status;

/* countType; the order of COUNT_TYPES. */
typedef enum { EM_LC_CT_COUNT, EM_LC_CT_PUSHED, EM_LC_CT_PULLED, EM_LC_CT_TRANSITIONED } em_lc_count_type;

typedef struct em_lc_rule {
    int64_t priority;
    em_lc_tag_status status;
    json_t *prefixes; /* borrowed from the document; NULL when absent */
    json_t *patterns; /* borrowed from the document; NULL when absent */
    em_lc_count_type type;
    int64_t count;
    bool archive;     /* selection.storageClass "archive": selects archived images */
    bool transition;  /* action "transition" to the archive; otherwise "expire" */
} em_lc_rule;

typedef struct em_lc_policy {
    json_t *doc;
    em_lc_rule *rules; /* sorted by priority */
    size_t n;
} em_lc_policy;
/* Parses and checks `text`; 0 and *p filled (release it), or -1 with the
 * call's error set and *p empty. */
int em_lc_policy_parse(em_call *c, const char *text, em_lc_policy *p);
void em_lc_policy_release(em_lc_policy *p);
/* Whether `text` is a lifecycle policy ECR accepts: 0, or -1 with
 * InvalidParameterException set in ECR's words. */
int em_lifecycle_policy_check(em_call *c, const char *text);
/* Frees a repository's lifecycle policy and preview (em_repo_free). */
void em_lifecycle_free(em_repo *repo);
/* ---- regions and replication (replication.c) ------------------------------- */
/* The instance serves one (account, region) view at a time: m->account,
 * m->region and m->registries.  The registries of the other regions wait in
 * m->regions; entering a view swaps them in (constant time). */
typedef struct em_view {
    char region[64];
    char account[13];
    bool moved;
} em_view;
/* Makes `account` (NULL: unchanged) in `region` (NULL: unchanged) the
 * current view, saving the old one in *saved; -1 when out of memory, with
 * nothing changed. */
int em_view_enter(ecrmock *m, const char *account, const char *region, em_view *saved);
void em_view_leave(ecrmock *m, const em_view *saved);
void em_regions_free(ecrmock *m);
/* Whether the instance has region `name` (its own, or one a view made):
 * asks without making one. */
bool em_region_exists(ecrmock *m, const char *name);
/* ---- ECR's host names (hosts.c) --------------------------------------------- */
#define EM_REGION_SIZE 64
typedef enum { EM_HOST_OTHER, EM_HOST_API, EM_HOST_BUCKET } em_host_kind;
/* What the host host[0..len) (any case, an optional ":port" and trailing
 * dot) is: one of ECR's API endpoints, the S3 host of its layer download
 * URLs, or another; the region it names into `region` ("" for another). */
em_host_kind em_ecr_host(const char *host, size_t len, char region[EM_REGION_SIZE]);
/* Whether `s` is a region name ecrmock takes: 1 to 63 of a-z, 0-9 and '-'. */
bool em_region_name_ok(const char *s);
/* The registries of region `name` (borrowed), whatever the current view. */
em_registry *em_region_registries(ecrmock *m, const char *name);
/* The regions that hold a registry, the current view's among them, sorted
 * by name: *names, a new em_malloc'd array of *n names borrowed from m
 * (valid until a view is entered).  0, or -1: no memory. */
int em_region_names(ecrmock *m, const char ***names, size_t *n);
/* Makes the current view of `s` (an instance about to swap its registries
 * and regions with m's) m's region, and gives `s` an entry for each region
 * m has, so that the views open in m (a hook inside ecrmock_call_as) find
 * theirs after the swap.  0, or -1: no memory (s's registries unchanged). */
int em_view_mirror(ecrmock *s, const ecrmock *m);
/* Copies an image PutImage just stored (with `tag`, may be NULL) to the
 * destinations of its registry's replication rules, recording each outcome
 * on the image.  Never fails the push. */
void em_replicate(ecrmock *m, em_repo *repo, em_image *img, const char *tag);

/* ---- policies (repository_policy.c) ---------------------------------------- */
/* Whether `text` is an IAM policy document ECR accepts as a resource policy. */
bool em_policy_ok(const char *text);

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

/* ---- manifests (manifest.c) ------------------------------------------------ */
typedef struct em_manifest {
    json_t *doc;
    const char *media_type;          /* borrowed from doc or the request */
    const char *config_digest;       /* may be NULL */
    const char *config_media_type;   /* may be NULL */
    const char *subject;             /* may be NULL */
    json_t *layers;                  /* array of {digest, mediaType, size} (new reference) */
    json_t *children;                /* array of digests for lists/indexes (new reference) */
    bool is_list;
} em_manifest;
/* Parses manifest bytes; on a problem sets InvalidParameterException
 * (ECR's texts) and returns -1. */
int em_manifest_parse(em_call *c, const char *bytes, size_t len, const char *req_media_type,
                      em_manifest *out);
void em_manifest_release(em_manifest *mf);
bool em_media_type_is_list(const char *mt);

/* ---- image scanning (scanning.c) ----------------------------------------------- */
/* Puts the scanning state back to ecrmock_new()'s: no registry scanning
 * configuration, the default scan duration. */
void em_scanning_reset(ecrmock *m);
/* PutImage's hook for a newly stored image: starts a scan when the
 * repository scans on push (its own flag or a registry rule).  Cannot fail. */
void em_scan_on_push(ecrmock *m, em_repo *repo, em_image *img);
/* DescribeImages' hook: adds imageScanStatus and imageScanFindingsSummary to
 * an image detail when the image was scanned.  0, or -1 when out of memory. */
int em_scan_detail(ecrmock *m, em_image *img, json_t *detail);
/* ---- layer downloads (layer_download.c) ------------------------------------ */
/* Why a download URL was refused. */
typedef enum em_fetch_refusal {
    EM_FETCH_OK = 0,
    EM_FETCH_EXPIRED,        /* 403 AccessDenied, "Request has expired" */
    EM_FETCH_BAD_SIGNATURE,  /* 403 SignatureDoesNotMatch / missing parameters */
    EM_FETCH_NOT_FOUND       /* 404: not a URL of this instance, or the layer is gone */
} em_fetch_refusal;
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

/* ---- SigV4 (sigv4.c) --------------------------------------------------------- */
/* Epoch seconds as SigV4's X-Amz-Date (YYYYMMDDTHHMMSSZ, UTC), and back:
 * false for anything but exactly that form with a real date and time (years
 * 0001 to 9999, before 1970 too).  Also the download URLs' date. */
void em_amz_date(int64_t s, char out[17]);
bool em_amz_date_parse(const char *s, int64_t *out);
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
/* Appends SigV4's canonical form of a query string (each name and value
 * decoded, encoded again with the unreserved set, sorted) to b.  -1: no memory. */
int em_sigv4_canonical_query(em_buf *b, const char *query);
/* Appends s[0..n) to b percent-encoded as AWS signs it (the unreserved set
 * kept; '/' kept too when keep_slash).  -1: no memory. */
int em_uri_encode(em_buf *b, const char *s, size_t n, bool keep_slash);
/* The value of header `name` (case-insensitive), or NULL. */
const char *em_header(const ecrmock_http_header *h, size_t n, const char *name);

/* ---- HTTP messages (http_message.c) and the S3 side (s3.c) ----------------- */
#define EM_HTTP_MAX_HEADERS 8 /* headers of a response */
/* Adds a header (copies); -1: no memory or no room. */
int em_http_add_header(ecrmock_http_response *r, const char *name, const char *value);
/* Takes `body` (em_malloc'd, NUL-terminated; NULL: no memory) into the
 * response, with its Content-Type (NULL: none) and Content-Length; returns
 * `status`, or -1 (no memory). */
int em_http_respond(ecrmock_http_response *r, int status, const char *type, char *body, size_t len);
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

/* ---- shared action helpers ------------------------------------------------- */
/* ECR's repository JSON for DescribeRepositories, CreateRepository, ... */
json_t *em_repo_json(ecrmock *m, em_repo *repo);
json_t *em_image_id_json(const char *digest, const char *tag);
/* The ARN partition of a region: "aws", "aws-cn" or "aws-us-gov" (repositories.c). */
const char *em_partition(const char *region);
/* ---- rules several areas apply (checks.c) ---------------------------------- */
#define EM_LOWER_ALNUM "abcdefghijklmnopqrstuvwxyz0123456789"
/* Whether s[0..n) is n > 0 bytes, each of `set`. */
bool em_all_of(const char *s, size_t n, const char *set);
/* A resource tag's key: 1 to 128 characters, not "aws:..."; 0, or -1 with
 * InvalidTagParameterException set. */
int em_tag_key_check(em_call *c, const char *k);
/* The tag of `tags` (a TagList) with key `k` (borrowed), or NULL. */
json_t *em_tag_find(json_t *tags, const char *k);
/* ECR's rules for resource tags: keys of 1 to 128
 * characters not starting with "aws:", values of at most 256, no key twice,
 * at most 50 tags once the request's `tags` are merged into `current` (the
 * resource's tags, NULL for a new resource).  `tags` is a validated TagList.
 * 0, or -1 with InvalidTagParameterException or TooManyTagsException set. */
int em_resource_tags_check(em_call *c, json_t *tags, json_t *current);
/* ECR's rules for imageTagMutabilityExclusionFilters: given
 * exactly when `mutability` is one of the *_WITH_EXCLUSION settings.  0, or
 * -1 with InvalidParameterException set. */
int em_tag_mutability_check(em_call *c, const char *mutability, json_t *filters);

/* ---- pull-through cache rules and creation templates ------------------------ */
void em_ptc_rules_free(em_registry *r);   /* pull_through_cache.c */
/* The registry's pull-through cache rules as DescribePullThroughCacheRules
 * shows them, without registryId, in creation order (snapshots): a new
 * reference, an empty array when there are none; NULL: no memory. */
json_t *em_ptc_rules_json(const em_registry *r);
void em_secrets_free(ecrmock *m);
/* An IAM role ARN (arn:<partition>:iam::<account>:role/<name>) in the
 * account `registry_id`; 0, or -1 with InvalidParameterException set. */
int em_role_arn_check(em_call *c, const char *arn, const char *registry_id);
void em_templates_free(em_registry *r);   /* creation_templates.c */
/* The registry's repository creation templates as
 * DescribeRepositoryCreationTemplates shows them, in creation order
 * (snapshots): a new reference, an empty array when there are none; NULL:
 * no memory. */
json_t *em_templates_json(const em_registry *r);
/*
 * Gives `repo`, a repository ECR is creating on the user's behalf in
 * `registry_id` under the name `repo_name` for the use `applied_for`
 * ("PULL_THROUGH_CACHE", "REPLICATION" or "CREATE_ON_PUSH"), the settings of
 * the repository creation template that applies, as ECR does: among the
 * registry's templates whose appliedFor holds that use, the one with the
 * longest prefix p such that repo_name starts with p + "/", else the ROOT
 * template.  The settings replace repo's tag mutability and exclusion
 * filters, encryption type and KMS key, resource tags, repository policy and
 * lifecycle policy; what the template leaves out gets ECR's defaults
 * (MUTABLE, AES256, no tags, no policies).  Call it before the repository is
 * shown to anyone (it may already be linked into its registry).
 * Returns 1 when a template applied, 0 when none did (repo unchanged), -1 when
 * memory ran out (c's error set, repo unchanged).
 */
int em_template_apply(em_call *c, const char *registry_id, const char *repo_name, const char *applied_for,
                      em_repo *repo);

/* The image an ImageIdentifier names; on a miss (or an id naming none) sets
 * ImageNotFoundException with ECR's text and returns NULL. */
em_image *em_image_lookup(em_call *c, em_repo *repo, json_t *id);
/* What an ImageIdentifier names in repo (BatchGetImage, BatchDeleteImage). */
typedef enum {
    EM_ID_FOUND,
    EM_ID_MISSING_DIGEST_AND_TAG,
    EM_ID_INVALID_DIGEST,
    EM_ID_TAG_DOES_NOT_MATCH,
    EM_ID_NOT_FOUND,
    EM_ID_ARCHIVED
} em_id_result;
/* Resolves an ImageIdentifier: EM_ID_FOUND with *img_out and *tag_out (NULL
 * when the id named no tag), or why not (both NULL). */
em_id_result em_image_resolve(em_repo *repo, json_t *id, em_image **img_out, em_tag **tag_out);
/* Sets ImageNotFoundException with ECR's text for digest/tag ("null" when
 * NULL) in repo; returns -1. */
int em_image_not_found(em_call *c, em_repo *repo, const char *digest, const char *tag);

/* ECR's Image (registryId, repositoryName, imageId with `tag`, the manifest
 * and its media type); new reference, NULL: no memory. */
json_t *em_image_json(em_repo *repo, em_image *img, const char *tag);
/* Stores manifest bytes[0..len) as an image of `repo`, tagged `tag` (may be
 * NULL), with every check PutImage makes after validation: the manifest and
 * its media type, `given` (the digest the caller claims, or NULL), layers
 * and referenced images present, tag immutability, limits.  A re-push of an
 * archived image restores it.  When c->out is set it becomes PutImage's
 * answer.  Returns the image (borrowed), or NULL with c's error set and
 * nothing changed.  Replicates nothing (em_replicate is the caller's). */
em_image *em_image_push(em_call *c, em_repo *repo, const char *bytes, size_t len, const char *media_type,
                        const char *given, const char *tag);

/* ---- storage classes (archive.c) -------------------------------------- */
/* How long a restore from the archive takes, virtual time (ECR: "restore the
 * image within 20 minutes"). */
#define EM_RESTORE_MS (20 * 60 * 1000)
/* "ACTIVE", "ARCHIVED" or "ACTIVATING" on the instance's clock. */
const char *em_image_status(ecrmock *m, const em_image *img);
/* Whether the image can be pulled (ACTIVE). */
bool em_image_active(ecrmock *m, const em_image *img);
/* A re-push of an archived image: it is ACTIVE again at once. */
void em_image_reactivate(ecrmock *m, em_image *img);
/* Moves an image to the archive now (lastArchivedAt the clock's now), with
 * the images it lists that no other standard list of `repo` references.
 * Cannot fail; the caller has checked the move is allowed. */
void em_image_archive(ecrmock *m, em_repo *repo, em_image *img);
/* Starts the restore of an archived image (ACTIVATING for EM_RESTORE_MS);
 * nothing when it is not archived. */
void em_image_restore(ecrmock *m, em_image *img);
/* Adds lastArchivedAt / lastActivatedAt to an image detail: 0, or -1 (no memory). */
int em_image_storage_json(ecrmock *m, const em_image *img, json_t *detail);

/* ---- signing and pull time exclusions (signing.c, pull_time_exclusions.c) ---- */
/* Records on a newly pushed image the signing profiles its repository
 * matches now: 0, or -1 (no memory, image unchanged). */
int em_signing_on_push(em_repo *repo, em_image *img);
/* Whether the caller's principal is excluded from pull time updates in `r`. */
bool em_pull_time_excluded(ecrmock *m, em_registry *r);
void em_registry_settings_free(em_registry *r);

#pragma GCC visibility pop

#endif
