/*
 * core: the plumbing.  The instance and its lock, options, clock, key and
 * seeded ids; one call and its failure (em_call, em_fail); ECR's error
 * table; the model tables and validation; page tokens; the download URL's
 * form and signature.
 */
#ifndef EM_CORE_H
#define EM_CORE_H

#include <pthread.h>

#include "base/base.h"
#include "core/model.h"

#pragma GCC visibility push(hidden)

/* Types of the layers above, named here only through pointers. */
typedef struct em_registry em_registry;
typedef struct em_region em_region;
typedef struct em_blob em_blob;
typedef struct em_fault em_fault;
typedef struct em_journal_entry em_journal_entry;

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
    int64_t clock_ms;
    uint64_t seed;
    uint64_t draws;            /* ids generated so far */
    uint64_t seq;              /* creation order of repositories and images */
    em_registry *registries;   /* hash by id */
    em_region *regions;        /* other regions' registries, by name (store/regions.c) */
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

    /* The registry plane: the tokens GetAuthorizationToken handed out, a
     * ring of the last EM_MAX_TOKENS (auth_token.c); kept by ecrmock_reset(). */
    struct em_token *tokens;
    size_t n_tokens, tokens_next;
    /* The plane the calls now running came in on, as the journal names it:
     * "registry" while registry.c answers a request (it holds the lock
     * throughout); NULL: the API. */
    const char *plane;
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

/* Validates `req` against the model's shape; 0 or -1 with c's error set. */
int em_validate(em_call *c, int shape, json_t *req);
/* Moves m's clock by ms (the caller holds the lock): 0, or -1 leaving it
 * as it was when the time would be outside 0..ECRMOCK_CLOCK_MAX_MS. */
int em_clock_move(ecrmock *m, int64_t ms);

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
/* ---- download URLs (download_url.c) --------------------------------------- */
/* Why a download URL was refused. */
typedef enum em_fetch_refusal {
    EM_FETCH_OK = 0,
    EM_FETCH_EXPIRED,        /* 403 AccessDenied, "Request has expired" */
    EM_FETCH_BAD_SIGNATURE,  /* 403 SignatureDoesNotMatch / missing parameters */
    EM_FETCH_NOT_FOUND       /* 404: not a URL of this instance, or the layer is gone */
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
