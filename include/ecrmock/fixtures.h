/*
 * ecrmock/fixtures.h: state and flows as data, for tests that keep them in
 * files: fixtures (load a registry's state), snapshots (dump it), contract
 * scenarios (run steps and check their answers) and the recorder (the
 * journal as a scenario).  fixtures/README.md documents both formats, and
 * fixtures/fixture.schema.json and fixtures/scenario.schema.json are their
 * JSON Schemas.
 *
 * Included by <ecrmock.h>; it may also be included on its own.  Ownership and
 * threads as <ecrmock.h> says.
 */
#ifndef ECRMOCK_FIXTURES_H
#define ECRMOCK_FIXTURES_H

#include <stdio.h> /* FILE, for the scenario runner's report */

#include <jansson.h>

/* The everyday contract: the instance, errors, ECRMOCK_API.  It includes this
 * header back at its end, where this guard stops the loop. */
#include "../ecrmock.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Fixtures and snapshots (fixtures/README.md documents the format)          */
/* ------------------------------------------------------------------------ */

/*
 * Replaces the instance's state (the registries of every region and their
 * settings, rules and templates, repositories, layers, images, policies,
 * the clock, fault rules) with a fixture's, built for the instance's own
 * account and region (never those of a view ecrmock_call_as() has open).
 * A fixture's "clock" wins over the instance's: a pinned clock is pinned
 * there, a wall clock's offset moved to make it now (it runs on from it);
 * a fixture without one leaves the clock alone.
 * `fixture` is borrowed; `source` names it in error messages (a file name; may be NULL).
 * Returns 0, or -1 with nothing changed when the fixture is refused; then
 * `*err` (the ecrmock_err convention of <ecrmock/testing.h>) has the code
 * ECRMOCK_ERR_INVALID_PARAMETER (ECRMOCK_ERR_SERVER: out of memory), the
 * path the source and the JSON path, and the text the rule broken:
 *   path "fixtures/x.json: $.registries[0].repositories[2].name",
 *   text "Invalid parameter at 'repositoryName' failed to satisfy
 *   constraint: 'must satisfy regular expression ...'"
 */
ECRMOCK_API int ecrmock_fixture_load(ecrmock *m, json_t *fixture, const char *source, ecrmock_err *err);
/* The same from a file (its name is the source) or from JSON text; JSON
 * that does not parse has the path "<source>: line L, column C" and the
 * text "not valid JSON: <what the parser met there>"; a file that cannot be
 * opened or read has the path its name and the text "cannot be read:
 * <the system's reason>" ("No such file or directory", "Is a directory"). */
ECRMOCK_API int ecrmock_fixture_load_file(ecrmock *m, const char *path, ecrmock_err *err);
ECRMOCK_API int ecrmock_fixture_load_string(ecrmock *m, const char *text, const char *source, ecrmock_err *err);

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
 * fixtures/README.md.  NULL with `*err` filled when m is NULL
 * (ECRMOCK_ERR_INVALID_PARAMETER) or memory ran out (ECRMOCK_ERR_SERVER).
 */
ECRMOCK_API json_t *ecrmock_snapshot(ecrmock *m, ecrmock_err *err);

/* ------------------------------------------------------------------------ */
/* Prepared fixtures: load once, start many instances from it               */
/* ------------------------------------------------------------------------ */

/*
 * A fixture loaded once (checked, its layers made, its manifests hashed),
 * from which new instances take the same state by copying it: a test suite
 * prepares its fixture in a group setup and starts every test from it
 * (<ecrmock_cmocka.h>'s ecrmock_cmocka_setup_from_fixture).  Opaque.
 * A prepared fixture never changes once made: any number of threads may
 * apply the same one at once.  Free it after the last apply has returned.
 */
typedef struct ecrmock_fixture ecrmock_fixture;

/*
 * Loads `fixture` (borrowed) as ecrmock_fixture_load() does into a fresh
 * instance made with `opts` (NULL: the defaults; copied), and keeps the
 * result.  `source` names it in error messages (may be NULL).  Returns a
 * new prepared fixture the caller owns (ecrmock_fixture_free), or NULL with
 * `*err` filled: a refused fixture exactly as ecrmock_fixture_load() refuses
 * it (code ECRMOCK_ERR_INVALID_PARAMETER, path "<source>: <JSON path>"),
 * options ecrmock_options_check() refuses, or out of memory (ECRMOCK_ERR_SERVER).
 */
ECRMOCK_API ecrmock_fixture *ecrmock_fixture_prepare(json_t *fixture, const ecrmock_options *opts, const char *source,
                                                     ecrmock_err *err);
/* The same from a file (its name is the source), with ecrmock_fixture_load_file()'s errors. */
ECRMOCK_API ecrmock_fixture *ecrmock_fixture_prepare_file(const char *path, const ecrmock_options *opts,
                                                          ecrmock_err *err);

/*
 * Gives m the prepared fixture's state, as ecrmock_fixture_load() of the
 * same fixture into a fresh instance would (the same snapshot, byte for
 * byte; fault rules with ids after m's own), by copying it.  The clock as a
 * load treats it: a fixture's "clock" sets m's, a fixture without one
 * leaves m's alone, and the times of what it makes are then those of the
 * instance it was prepared in (opts' clock_start_ms; give the fixture a
 * "clock" for times that depend on nothing else).  m then owns its copy,
 * and nothing m does reaches `fx` (borrowed, only read) or another instance.
 * m's options must be those the fixture was prepared with (what the state
 * is made of: account, region, clock, quotas).  Returns 0, or -1 with
 * nothing changed and `*err` filled: m or fx NULL, or m's options differ
 * (ECRMOCK_ERR_INVALID_PARAMETER, the text naming the first that differs,
 * "the instance's option region differs from the prepared fixture's"),
 * or out of memory (ECRMOCK_ERR_SERVER).
 */
ECRMOCK_API int ecrmock_fixture_apply(ecrmock *m, const ecrmock_fixture *fx, ecrmock_err *err);

/* A new instance (the caller owns it: ecrmock_free) with the prepared
 * fixture's options and state: ecrmock_new() then ecrmock_fixture_apply().
 * NULL with `*err` filled (fx NULL, out of memory). */
ECRMOCK_API ecrmock *ecrmock_new_from_fixture(const ecrmock_fixture *fx, ecrmock_err *err);

/* Frees a prepared fixture (NULL: nothing); every instance made from it
 * keeps its own state. */
ECRMOCK_API void ecrmock_fixture_free(ecrmock_fixture *fx);

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
 * or memory ran out before a step could run; then `*err` is filled: code
 * ECRMOCK_ERR_INVALID_PARAMETER (ECRMOCK_ERR_SERVER: out of memory), path
 * the source ("scenario" here) and the JSON path, text the problem:
 *   path "scenario: $.steps[2].action", text "must be a non-empty string"
 * (a refused fixture: path "scenario: $.fixture", text the fixture's own
 * "path: text").  Failed steps are not an error: err->code stays OK.
 */
ECRMOCK_API int ecrmock_scenario_run(ecrmock *m, json_t *scenario, const char *base_dir, FILE *out,
                                     ecrmock_err *err);

/* The same from a file: its name is the source in messages and its
 * directory the base of a relative fixture path. */
ECRMOCK_API int ecrmock_scenario_run_file(ecrmock *m, const char *path, FILE *out, ecrmock_err *err);

/*
 * The journal as a scenario (a new reference; NULL with `*err` filled when
 * memory ran out, m is NULL, or, ECRMOCK_ERR_INVALID_PARAMETER, an entry's
 * request or response was dropped over journal_max_bytes, or a JSON-level
 * request held a member name or string that is not UTF-8, which no JSON
 * text can): one step per journaled call with its request and an expect of
 * its status, error and whole response, and the clock moves between calls
 * as advanceClockMs.  String values of at least 16 characters that a
 * response returned and a later request sends (upload ids, image digests,
 * page tokens; not what a request sent first) become captures and ${...}
 * references (the step that handed one out expects "${*}" there), so the
 * scenario replays on a fresh instance, whatever level the calls came
 * through.  A call answered by an error or apply-then-error fault rule, or
 * whose body was not JSON, gets a one-shot rule giving the same answer.  `fixture` (borrowed; may be
 * NULL) is stored as the scenario's "fixture" path (not UTF-8: refused); when the file can be
 * read from the current directory, the clock it sets is where the first
 * step's advanceClockMs starts from.  The instance's options (every one,
 * as ecrmock_options_json() writes them) go in "options".
 * Replays faithfully when the journal holds every call since ecrmock_new()
 * (or since the fixture was loaded) and nothing changed the instance
 * outside calls, except the clock.
 */
ECRMOCK_API json_t *ecrmock_scenario_record(ecrmock *m, const char *fixture, ecrmock_err *err);

#ifdef __cplusplus
}
#endif

#endif /* ECRMOCK_FIXTURES_H */
