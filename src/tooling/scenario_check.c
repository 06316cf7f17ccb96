/*
 * The scenario checker: a scenario checked whole (members, types, capture
 * paths, the ${...} it uses, its fault rules) before anything runs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tooling.h"

/* ---- checking a scenario --------------------------------------------------------- */

/* Members of `o` must be among `allowed` (NULL-terminated). */
static int only_members(em_sc_checker *ck, json_t *o, const char *path, const char *const *allowed)
{
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v) {
        bool ok = false;
        for (int i = 0; allowed[i] && !ok; i++)
            ok = strcmp(key, allowed[i]) == 0;
        if (!ok)
            return em_sc_invalid(ck->err, ck->source, path, "unknown member '%.64s'", key);
    }
    return 0;
}

/* The scenario's options, by the options table (core/options.c). */
static int check_options(em_sc_checker *ck, json_t *o, ecrmock_options *opts)
{
    ecrmock_err e;
    if (ecrmock_options_from_json(o, opts, &e) < 0 || ecrmock_options_check(opts, &e) < 0)
        return em_sc_invalid(ck->err, ck->source, e.path[0] ? e.path : "$.options", "%s", e.text);
    return 0;
}

/* Checks the ${...} of every string under v against the names in `vars`. */
static int check_strings(em_sc_checker *ck, json_t *v, const char *root, json_t *vars, bool wildcard_ok)
{
    em_sc_expander x = {.vars = vars, .checking = true, .wildcard_ok = wildcard_ok};
    em_buf path = {0};
    char *why = NULL;
    if (em_sc_path_start(&path, root) < 0)
        return em_sc_nomem(ck->err, ck->source, root);
    json_t *r = em_sc_expand(&x, v, &path, &why);
    int rc = 0;
    if (!r) {
        const char *at = path.data ? (const char *)path.data : root;
        rc = why ? em_sc_invalid(ck->err, ck->source, at, "%s", why) : em_sc_nomem(ck->err, ck->source, at);
    }
    json_decref(r);
    em_free(why);
    em_buf_release(&path);
    return rc;
}

/* Whether string `s` holds a NUL (\u0000): compared or called as a C
 * string, it would end there ("Describe\u0000Registry" ran "Describe"). */
static bool has_nul(json_t *s)
{
    return strlen(json_string_value(s)) != json_string_length(s);
}
#define NUL_TEXT "must not contain NUL (\\u0000)"

static int check_expect(em_sc_checker *ck, json_t *e, const char *sp, json_t *vars)
{
    static const char *const members[] = {"status", "error", "message", "response", NULL};
    char path[128];
    snprintf(path, sizeof path, "%s.expect", sp);
    if (!json_is_object(e))
        return em_sc_invalid(ck->err, ck->source, path, "must be an object");
    if (only_members(ck, e, path, members) < 0)
        return -1;
    json_t *st = json_object_get(e, "status");
    if (st && (!json_is_integer(st) || json_integer_value(st) < 100 || json_integer_value(st) > 599))
        return em_sc_invalid(ck->err, ck->source, path, "status must be an HTTP status, an integer from 100 to 599");
    const char *const texts[] = {"error", "message"};
    for (int i = 0; i < 2; i++) {
        json_t *t = json_object_get(e, texts[i]);
        if (t && !json_is_string(t)) {
            snprintf(path, sizeof path, "%s.expect.%s", sp, texts[i]);
            return em_sc_invalid(ck->err, ck->source, path, "must be a string");
        }
        if (t && has_nul(t)) {
            snprintf(path, sizeof path, "%s.expect.%s", sp, texts[i]);
            return em_sc_invalid(ck->err, ck->source, path, NUL_TEXT);
        }
    }
    /* ${*} is a pattern of expect.response only. */
    json_t *plain = json_object();
    if (!plain)
        return em_sc_nomem(ck->err, ck->source, path);
    json_object_set(plain, "error", json_object_get(e, "error"));
    json_object_set(plain, "message", json_object_get(e, "message"));
    snprintf(path, sizeof path, "%s.expect", sp);
    int rc = check_strings(ck, plain, path, vars, false);
    json_decref(plain);
    if (rc == 0 && json_object_get(e, "response")) {
        snprintf(path, sizeof path, "%s.expect.response", sp);
        rc = check_strings(ck, json_object_get(e, "response"), path, vars, true);
    }
    return rc;
}

static int check_step(em_sc_checker *ck, json_t *step, size_t i, json_t *vars)
{
    static const char *const members[] = {"name",   "advanceClockMs", "faults", "action",
                                          "request", "expect",        "capture", NULL};
    char sp[64], path[192];
    snprintf(sp, sizeof sp, "$.steps[%zu]", i);
    if (!json_is_object(step))
        return em_sc_invalid(ck->err, ck->source, sp, "must be an object");
    if (only_members(ck, step, sp, members) < 0)
        return -1;
    json_t *v = json_object_get(step, "action");
    snprintf(path, sizeof path, "%s.action", sp);
    if (!json_is_string(v) || json_string_length(v) == 0)
        return em_sc_invalid(ck->err, ck->source, path, "must be a non-empty string, the action's name (\"PutImage\")");
    if (has_nul(v))
        return em_sc_invalid(ck->err, ck->source, path, NUL_TEXT);
    v = json_object_get(step, "name");
    snprintf(path, sizeof path, "%s.name", sp);
    if (v && !json_is_string(v))
        return em_sc_invalid(ck->err, ck->source, path, "must be a string");
    v = json_object_get(step, "advanceClockMs");
    snprintf(path, sizeof path, "%s.advanceClockMs", sp);
    if (v && (!json_is_integer(v) || json_integer_value(v) < -ECRMOCK_CLOCK_MAX_MS ||
              json_integer_value(v) > ECRMOCK_CLOCK_MAX_MS))
        return em_sc_invalid(ck->err, ck->source, path,
                       "must be an integer (milliseconds) from -253402300799999 to 253402300799999, the "
                       "virtual clock's range");
    v = json_object_get(step, "faults");
    if (v) {
        snprintf(path, sizeof path, "%s.faults", sp);
        if (!json_is_array(v))
            return em_sc_invalid(ck->err, ck->source, path, "must be an array of fault rules");
        size_t k;
        json_t *rule;
        json_array_foreach(v, k, rule) {
            if (!ck->scratch && !(ck->scratch = ecrmock_new(NULL)))
                return em_sc_nomem(ck->err, ck->source, path);
            ecrmock_err why;
            long id = ecrmock_fault_add_json(ck->scratch, rule, &why);
            if (id < 0) {
                snprintf(path, sizeof path, "%s.faults[%zu]", sp, k);
                return why.code == ECRMOCK_ERR_SERVER ? em_sc_nomem(ck->err, ck->source, path)
                                                      : em_sc_invalid(ck->err, ck->source, path, "%s", why.text);
            }
            ecrmock_fault_remove(ck->scratch, id, NULL);
        }
    }
    v = json_object_get(step, "request");
    snprintf(path, sizeof path, "%s.request", sp);
    if (v && !json_is_object(v))
        return em_sc_invalid(ck->err, ck->source, path, "must be an object");
    if (v && check_strings(ck, v, path, vars, false) < 0)
        return -1;
    v = json_object_get(step, "expect");
    if (v && check_expect(ck, v, sp, vars) < 0)
        return -1;
    v = json_object_get(step, "capture");
    if (v) {
        snprintf(path, sizeof path, "%s.capture", sp);
        if (!json_is_object(v))
            return em_sc_invalid(ck->err, ck->source, path, "must be an object of name: path");
        const char *name;
        json_t *p;
        json_object_foreach(v, name, p) {
            snprintf(path, sizeof path, "%s.capture.%.64s", sp, name);
            const char *why = NULL;
            if (!em_sc_is_var_name(name, strlen(name)))
                return em_sc_invalid(ck->err, ck->source, path,
                               "a variable name is a letter or '_' followed by letters, digits and '_'");
            if (!json_is_string(p))
                return em_sc_invalid(ck->err, ck->source, path, "must be a path string like \"$.image.imageId\"");
            if (has_nul(p))
                return em_sc_invalid(ck->err, ck->source, path, NUL_TEXT);
            if (em_sc_path_check(json_string_value(p), &why) < 0)
                return em_sc_invalid(ck->err, ck->source, path, "bad path \"%.100s\": %s", json_string_value(p), why);
        }
    }
    return 0;
}

/* Checks the whole scenario; fills opts from its options. */
int em_sc_check(em_sc_checker *ck, json_t *sc, ecrmock_options *opts)
{
    static const char *const members[] = {"$schema", "description", "fixture", "options", "steps", NULL};
    if (!json_is_object(sc))
        return em_sc_invalid(ck->err, ck->source, "$", "a scenario must be a JSON object");
    /* A tree a caller built may nest as deep as it likes; the walks recurse. */
    if (em_json_too_deep(sc, EM_JSON_MAX_DEPTH))
        return em_sc_invalid(ck->err, ck->source, "$", "is nested more than %d levels deep, which no JSON text can be",
                             EM_JSON_MAX_DEPTH);
    if (only_members(ck, sc, "$", members) < 0)
        return -1;
    json_t *v = json_object_get(sc, "description");
    if (v && !json_is_string(v))
        return em_sc_invalid(ck->err, ck->source, "$.description", "must be a string");
    v = json_object_get(sc, "$schema");
    if (v && !json_is_string(v))
        return em_sc_invalid(ck->err, ck->source, "$.$schema", "must be a string");
    v = json_object_get(sc, "fixture");
    if (v && !json_is_object(v) && !(json_is_string(v) && json_string_length(v) > 0))
        return em_sc_invalid(ck->err, ck->source, "$.fixture",
                       "must be a path (relative to the scenario file) or a fixture object");
    if (json_is_string(v) && has_nul(v))
        return em_sc_invalid(ck->err, ck->source, "$.fixture", NUL_TEXT);
    v = json_object_get(sc, "options");
    if (v && check_options(ck, v, opts) < 0)
        return -1;
    json_t *steps = json_object_get(sc, "steps");
    if (!json_is_array(steps) || json_array_size(steps) == 0)
        return em_sc_invalid(ck->err, ck->source, "$.steps", "must be a non-empty array of steps");
    json_t *vars = json_object();
    if (!vars)
        return em_sc_nomem(ck->err, ck->source, "$");
    size_t i;
    json_t *step;
    int rc = 0;
    json_array_foreach(steps, i, step) {
        if ((rc = check_step(ck, step, i, vars)) < 0)
            break;
        const char *name;
        json_t *p;
        json_object_foreach(json_object_get(step, "capture"), name, p) {
            if (json_object_set_new(vars, name, json_null()) < 0) {
                rc = em_sc_nomem(ck->err, ck->source, "$");
                break;
            }
        }
        if (rc < 0)
            break;
    }
    json_decref(vars);
    return rc;
}
