/*
 * tooling: what drives an instance from outside, for tests: fixtures
 * (fixtures.c, fixture_check.c, fixture_images.c), snapshots (snapshot.c),
 * scenarios (scenario.c and scenario_*.c), the recorder (record.c), test
 * controls (controls.c).  This header holds what those files share: the
 * fixture loader's state and helpers, the scenario checker and expander.
 */
#ifndef EM_TOOLING_H
#define EM_TOOLING_H

#include "fronts/fronts.h"

#pragma GCC visibility push(hidden)

/* ---- the fixture loader (fixture_check.c, fixture_images.c) ---------------- */
/* A layer synthesised in this load: {"size", "seed"} and its digest. */
typedef struct em_synth_key {
    uint64_t size, seed;
} em_synth_key;

typedef struct em_synth_made {
    em_synth_key key;
    char digest[ECRMOCK_DIGEST_SIZE];
    UT_hash_handle hh;
} em_synth_made;

typedef struct em_loader {
    ecrmock *s;          /* the scratch instance being built */
    const char *source;
    char path[512];
    ecrmock_err err;        /* the first refusal (code OK: none yet) */
    em_synth_made *made;    /* each (size, seed) once per load, by key */
    uint64_t synth_bytes; /* what they came to: at most opts.max_synth_bytes */
} em_loader;

/* Refuses the fixture: ld->err (the first refusal only) has the code
 * ECRMOCK_ERR_INVALID_PARAMETER, the path "<source>: <JSON path>" and the
 * text; returns -1. */
int em_fx_refuse(em_loader *ld, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The same for memory running out: code ECRMOCK_ERR_SERVER, text "out of
 * memory"; returns -1. */
int em_fx_nomem(em_loader *ld);
/* Appends ".name" or "[i]" to the path; returns the old length to restore. */
size_t em_fx_push_key(em_loader *ld, const char *key);
size_t em_fx_push_index(em_loader *ld, size_t i);
void em_fx_pop(em_loader *ld, size_t n);
/* Refuses the member `key` of the current object; returns -1. */
int em_fx_refuse_at(em_loader *ld, const char *key, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The fixture `doc` against fixtures/fixture.schema.json (the generated
 * fixture_schema_gen.c; the path at `doc`): 0, or -1 refused at the first
 * member the schema does not allow. */
int em_fx_schema_check(em_loader *ld, json_t *doc);

/* What the generated checks call (fixture_schema.c).  An em_fxs is one
 * check's state: the loader, the compiled patterns, whether refusals are
 * quiet (inside a oneOf). */
typedef struct em_fxs em_fxs;
/* Runs `root` on doc with the patterns `patterns[0..n)`: 0, or -1 refused. */
int em_fxs_run(em_loader *ld, json_t *doc, int (*root)(em_fxs *, json_t *), const char *const *patterns, size_t n);
/* Refuse at the path (or its member `key`), unless quiet; -1. */
int em_fxs_fail(em_fxs *c, const char *msg);
int em_fxs_fail_at(em_fxs *c, const char *key, const char *msg);
/* `check` on v's member `key` (absent: 0) or item i, the path at it. */
int em_fxs_at_key(em_fxs *c, json_t *v, const char *key, int (*check)(em_fxs *, json_t *));
int em_fxs_at_index(em_fxs *c, json_t *v, size_t i, int (*check)(em_fxs *, json_t *));
/* v is a string equal to one of values[0..n). */
bool em_fxs_enum(json_t *v, const char *const *values, size_t n);
/* A member the schema names ("properties"), and its check. */
typedef struct em_fxs_member {
    const char *name;
    int (*check)(em_fxs *, json_t *);
} em_fxs_member;
/* An object v (anything else: 0): members other than members[0..n) refused
 * when `closed` ("additionalProperties": false), then each named member
 * through its check, then required[0..n_required) present, then the other
 * members through `other` (NULL: any is fine). */
int em_fxs_object(em_fxs *c, json_t *v, const em_fxs_member *members, size_t n, bool closed,
                  int (*other)(em_fxs *, json_t *), const char *const *required, size_t n_required);
/* A string's length in characters (code points), as JSON Schema counts. */
size_t em_fxs_length(json_t *v);
/* A number against an integer bound: <0, 0, >0. */
int em_fxs_cmp(json_t *v, int64_t bound);
/* The string v matches pattern i (ECMA-262's "$": the very end). */
bool em_fxs_match(em_fxs *c, size_t i, json_t *v);
/* How many of the alternatives v passes, refusing nothing; -1 out of memory. */
int em_fxs_one_of(em_fxs *c, json_t *v, int (*const *alts)(em_fxs *, json_t *), size_t n);
/* A time: epoch seconds (a number) or "YYYY-MM-DDTHH:MM:SS[.fff]Z", from
 * 1970 to the end of 9999 (any other number, 1e300 say, is refused: its
 * milliseconds would not fit an int64).  The schema checks the form; this
 * adds what it cannot say (a real calendar date and time) and converts. */
int em_fx_parse_time(em_loader *ld, json_t *o, const char *key, int64_t *ms);
/* Runs an action on the scratch instance; on an error, refuses with ECR's
 * message at the caller's path, or at the member of `src` (the fixture
 * object the request was made from; may be NULL) that the error names. */
int em_fx_act(em_loader *ld, const char *action, json_t *req, json_t *src, json_t **out);
/* em_fx_act()'s refusal for a call that failed with the error document
 * `resp` (stolen; NULL: out of memory) about the request member `member`
 * ("" for none).  Returns -1. */
int em_fx_act_failed(em_loader *ld, json_t *resp, json_t *src, const char *member);
/* Runs an action at virtual time `ms` (the time the action stamps on what it
 * makes: createdAt, updatedAt, lastArchivedAt...), then puts the scratch
 * clock back. */
int em_fx_act_at(em_loader *ld, int64_t ms, const char *action, json_t *req, json_t *src, json_t **out);
void em_fx_synth_forget(em_loader *ld);
/* An image's replicationStatuses, as DescribeImageReplicationStatus shows
 * them ({"region", "registryId", "status", "failureCode"}): what its
 * replication rules did when it was pushed (the rules themselves are set
 * after every image, so a load copies nothing).  Stored as given, each in
 * that member order.  0, or -1 refused. */
int em_fx_load_replication_statuses(em_loader *ld, json_t *img, em_image *stored);
/* Adds a layer to the repository; writes its digest into digest_out. */
int em_fx_add_layer(em_loader *ld, em_repo *repo, json_t *spec, char *digest_out);
/* A document as compact JSON (new em_malloc'd string; NULL: no memory). */
char *em_fx_dump_compact(json_t *doc);
/* A member given as its text or as an object (a policy, a manifest): the
 * text, em_malloc'd (NULL: out of memory). */
char *em_fx_policy_text(json_t *v);
int em_fx_load_image(em_loader *ld, em_repo *repo, json_t *img, bool child, char *digest_out);
/* Moves the scratch instance's state into m, and m's old state into the
 * scratch instance, to be freed with it: the registries of every region
 * and the layer store they share, the fault rules, the scanning
 * configuration and (clock: the fixture has one) the clock, whatever view
 * m is in (a hook inside ecrmock_call_as may load a fixture).  m's old
 * registries are freed here, under m's lock, and the images m's journal
 * may keep are handed back to m (em_image_let_go).  Called with m locked.  -1 when out
 * of memory, with nothing changed (fixtures.c). */
int em_fx_swap_state(ecrmock *m, ecrmock *s, bool clock);
/* A fixture file's JSON (a new reference), or NULL with *err filled as
 * ecrmock_fixture_load_file() fills it (fixtures.c). */
json_t *em_fx_read_file(const char *path, ecrmock_err *err);

/* ---- scenarios (scenario_path.c, scenario_expand.c, scenario_check.c, scenario_match.c) */
typedef struct em_sc_expander {
    json_t *vars;
    bool checking;
    bool wildcard_ok; /* "${*}" is allowed (expect.response) */
    int depth;        /* functions open around the text being expanded */
    size_t spent;     /* bytes functions and variables produced so far */
} em_sc_expander;

typedef struct em_sc_checker {
    const char *source;
    ecrmock_err *err;
    ecrmock *scratch; /* fault rules are tried on it */
} em_sc_checker;

/* Fills *err (when err is not NULL): code ECRMOCK_ERR_INVALID_PARAMETER,
 * path "<source>: <path>", text <why>; returns -1. */
int em_sc_invalid(ecrmock_err *err, const char *source, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The same for memory running out: code ECRMOCK_ERR_SERVER, text "out of
 * memory"; returns -1. */
int em_sc_nomem(ecrmock_err *err, const char *source, const char *path);
/* A JSON value as compact text for a message, cut after 160 bytes (a new
 * em_malloc'd string, or NULL when out of memory). */
char *em_sc_describe(json_t *v);
/* 0 when `path` is well formed, else -1 with a reason in why. */
int em_sc_path_check(const char *path, const char **why);
/* The value at a checked path (borrowed), or NULL. */
json_t *em_sc_path_get(json_t *root, const char *path);
/* Starts a path buffer at `root` ("$.steps[2].request"). 0, or -1. */
int em_sc_path_start(em_buf *path, const char *root);
/*
 * A deep copy of v with every string expanded (a new reference), or NULL
 * with *why set (a new em_malloc'd reason; left NULL when memory ran out)
 * and `path` (an em_buf holding a NUL-terminated JSON path) naming the
 * string at fault.
 */
json_t *em_sc_expand(em_sc_expander *x, json_t *v, em_buf *path, char **why);
/* Whether s[0..n) is a variable's name. */
bool em_sc_is_var_name(const char *s, size_t n);
/* Checks the whole scenario; fills opts from its options. */
int em_sc_check(em_sc_checker *ck, json_t *sc, ecrmock_options *opts);
/* "at <path>: expected <want>, got <have>" (malloc'd; NULL if out of memory). */
char *em_sc_mismatch(const char *path, json_t *want, json_t *have, const char *what);
/*
 * Compares `have` with the subset `want`; NULL when it matches, else a new
 * em_malloc'd reason.  *nomem is set when memory ran out.
 */
char *em_sc_match(json_t *want, json_t *have, em_buf *path, bool *nomem);

#pragma GCC visibility pop

#endif
