/*
 * The scenario runner: a JSON list of calls, each with what ECR must
 * answer, run against an instance (fixtures/README.md, "Scenarios").
 *
 * A scenario is checked whole before anything runs (members, types, capture
 * paths, the ${...} it uses, its fault rules), so that a typo is an invalid
 * scenario with a JSON path rather than a failed step in the middle of a
 * run.  Then each step: move the clock, add its fault rules, expand its
 * request, call, compare the answer with its expectation, capture values
 * for the steps after it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tooling.h"

static const char *error_message(json_t *resp)
{
    json_t *msg = json_object_get(resp, "message");
    if (!msg)
        msg = json_object_get(resp, "Message");
    return json_string_value(msg);
}

/* What the call answered, for a status or error mismatch: "400
 * ImageAlreadyExistsException: <message>" or "200". */
static char *answer_text(int status, json_t *resp)
{
    const char *type = json_string_value(json_object_get(resp, "__type"));
    const char *msg = error_message(resp);
    if (status == 200 || !type)
        return em_sprintf("%d", status);
    return msg ? em_sprintf("%d %s: %s", status, type, msg) : em_sprintf("%d %s", status, type);
}

/* NULL when the answer meets `expect` (NULL: status 200), else a new reason. */
static char *check_answer(json_t *expect, int status, json_t *resp, bool *nomem)
{
    json_t *st = json_object_get(expect, "status");
    const char *error = json_string_value(json_object_get(expect, "error"));
    const char *message = json_string_value(json_object_get(expect, "message"));
    json_t *want = json_object_get(expect, "response");
    const char *type = status == 200 ? NULL : json_string_value(json_object_get(resp, "__type"));
    char *r = NULL, *ans = NULL;
    int want_status = st ? (int)json_integer_value(st) : error ? -1 : 200;

    if (want_status != -1 && status != want_status) {
        ans = answer_text(status, resp);
        r = ans ? em_sprintf("expected status %d, got %s", want_status, ans) : NULL;
    } else if (error && (!type || strcmp(type, error) != 0)) {
        ans = answer_text(status, resp);
        r = ans ? em_sprintf("expected error %s, got %s", error, ans) : NULL;
    } else if (message && (!error_message(resp) || strcmp(error_message(resp), message) != 0)) {
        const char *key = json_object_get(resp, "Message") ? "Message" : "message";
        char at[16];
        snprintf(at, sizeof at, "$.%s", key);
        json_t *w = json_string(message);
        r = w ? em_sc_mismatch(at, w, json_object_get(resp, key), error_message(resp) ? NULL : "no message") : NULL;
        json_decref(w);
    } else if (want) {
        em_buf path = {0};
        if (em_sc_path_start(&path, "$") < 0) {
            *nomem = true;
            return NULL;
        }
        r = em_sc_match(want, resp, &path, nomem);
        em_buf_release(&path);
        return r;
    } else {
        return NULL;
    }
    em_free(ans);
    if (!r)
        *nomem = true;
    return r;
}

/* ---- running ------------------------------------------------------------------------- */

/* Request members given as JSON where the model says string (imageManifest,
 * policyText) are sent as their compact JSON text. */
static int stringify_members(const char *action, json_t *req)
{
    const em_action *a = em_action_find(action);
    if (!a)
        return 0;
    const em_shape *sh = &em_shapes[a->input_shape];
    for (int i = 0; i < sh->n_members; i++) {
        json_t *v = json_object_get(req, sh->members[i].name);
        if (em_shapes[sh->members[i].shape].type != EM_T_STRING || !(json_is_object(v) || json_is_array(v)))
            continue;
        char *text = json_dumps(v, JSON_COMPACT);
        int rc = text ? json_object_set_new(req, sh->members[i].name, json_string(text)) : -1;
        em_json_free(text);
        if (rc < 0)
            return -1;
    }
    return 0;
}

typedef struct runner {
    ecrmock *m;
    json_t *vars; /* captured values */
    FILE *out;
} runner;

/* Runs one step; returns a new reason when it failed, NULL when it passed
 * (*nomem set when memory ran out). */
static char *run_step(runner *rn, json_t *step, size_t i)
{
    const char *action = json_string_value(json_object_get(step, "action"));
    json_t *v = json_object_get(step, "advanceClockMs");
    em_sc_expander x = {.vars = rn->vars, .checking = false};
    char *why = NULL, *reason = NULL;
    json_t *req = NULL, *resp = NULL, *expect = NULL;
    em_buf path = {0};
    bool nomem = false;

    if (v && ecrmock_clock_advance(rn->m, (int64_t)json_integer_value(v), NULL) < 0) {
        reason = em_sprintf("advanceClockMs: %lld ms from %lld would take the clock outside 0 to "
                            "253402300799999 (9999-12-31T23:59:59.999Z); the clock did not move",
                            (long long)json_integer_value(v), (long long)ecrmock_clock_now(rn->m));
        if (!reason)
            goto nomem;
        goto done;
    }
    size_t k;
    json_t *rule;
    json_array_foreach(json_object_get(step, "faults"), k, rule) {
        ecrmock_err e;
        if (ecrmock_fault_add_json(rn->m, rule, &e) < 0) {
            reason = em_sprintf("faults[%zu]: %s", k, e.text);
            if (!reason)
                goto nomem;
            goto done;
        }
    }
    char root[64];
    snprintf(root, sizeof root, "$.steps[%zu].request", i);
    if (em_sc_path_start(&path, root) < 0)
        goto nomem;
    json_t *raw = json_object_get(step, "request");
    req = raw ? em_sc_expand(&x, raw, &path, &why) : json_object();
    if (!req)
        goto expand_failed;
    if (stringify_members(action, req) < 0)
        goto nomem;
    int status = ecrmock_call(rn->m, action, req, &resp);
    if (status < 0)
        goto nomem;
    raw = json_object_get(step, "expect");
    if (raw) {
        x.wildcard_ok = true;
        x.spent = 0;
        snprintf(root, sizeof root, "$.steps[%zu].expect", i);
        if (em_sc_path_start(&path, root) < 0)
            goto nomem;
        if (!(expect = em_sc_expand(&x, raw, &path, &why)))
            goto expand_failed;
    }
    reason = check_answer(expect, status, resp, &nomem);
    if (nomem)
        goto nomem;
    /* Captures are taken even from a failed step, so that one mismatch does
     * not make every later step fail too. */
    const char *name;
    json_t *p;
    json_object_foreach(json_object_get(step, "capture"), name, p) {
        json_t *val = em_sc_path_get(resp, json_string_value(p));
        if (!val) {
            if (!reason && !(reason = em_sprintf("capture '%s': %s is not in the response", name,
                                                 json_string_value(p))))
                goto nomem;
            json_object_del(rn->vars, name);
            continue;
        }
        if (json_object_set_new(rn->vars, name, json_deep_copy(val)) < 0)
            goto nomem;
    }
    goto done;
expand_failed:
    if (why)
        reason = em_sprintf("%s: %s", (const char *)path.data, why);
    if (reason)
        goto done;
nomem:
    em_free(reason);
    reason = em_strdup("ecrmock ran out of memory running the step");
done:
    em_free(why);
    em_buf_release(&path);
    json_decref(req);
    json_decref(resp);
    json_decref(expect);
    return reason;
}

static void print_label(FILE *out, json_t *step)
{
    const char *name = json_string_value(json_object_get(step, "name"));
    fputs(json_string_value(json_object_get(step, "action")), out);
    if (name)
        fprintf(out, " \"%s\"", name);
}

static int load_fixture(ecrmock *m, json_t *fixture, const char *base_dir, const char *source, ecrmock_err *err)
{
    ecrmock_err e;
    int rc;
    if (json_is_string(fixture)) {
        const char *p = json_string_value(fixture);
        char *full = (p[0] == '/' || !base_dir) ? em_strdup(p) : em_sprintf("%s/%s", base_dir, p);
        if (!full)
            return em_sc_nomem(err, source, "$.fixture");
        rc = ecrmock_fixture_load_file(m, full, &e);
        em_free(full);
    } else {
        rc = ecrmock_fixture_load(m, fixture, source, &e);
    }
    if (rc < 0) {
        /* the fixture's own "path: text" as the text, at the scenario's $.fixture */
        int code = e.code;
        em_sc_invalid(err, source, "$.fixture", "%s%s%s", e.path, e.path[0] ? ": " : "", e.text);
        if (err)
            err->code = code;
    }
    return rc < 0 ? -1 : 0;
}

static int run_scenario(ecrmock *m, json_t *sc, const char *base_dir, const char *source, FILE *out,
                        ecrmock_err *err)
{
    ecrmock_options opts = ECRMOCK_OPTIONS_INIT;
    em_sc_checker ck = {.source = source, .err = err};
    int rc = em_sc_check(&ck, sc, &opts);
    ecrmock_free(ck.scratch);
    if (rc < 0)
        return -1;

    ecrmock *own = NULL;
    if (!m && !(m = own = ecrmock_new(&opts)))
        return em_sc_nomem(err, source, "$");
    runner rn = {.m = m, .out = out, .vars = json_object()};
    if (!rn.vars) {
        ecrmock_free(own);
        return em_sc_nomem(err, source, "$");
    }
    json_t *fixture = json_object_get(sc, "fixture");
    if (fixture && load_fixture(m, fixture, base_dir, source, err) < 0) {
        json_decref(rn.vars);
        ecrmock_free(own);
        return -1;
    }

    json_t *steps = json_object_get(sc, "steps");
    size_t i;
    json_t *step;
    int failed = 0;
    json_array_foreach(steps, i, step) {
        char *reason = run_step(&rn, step, i);
        if (reason)
            failed++;
        if (out) {
            fprintf(out, "%s %zu ", reason ? "FAIL" : "ok", i + 1);
            print_label(out, step);
            if (reason)
                fprintf(out, ": %s", reason);
            fputc('\n', out);
        }
        em_free(reason);
    }
    if (out) {
        size_t n = json_array_size(steps);
        if (failed)
            fprintf(out, "%s: %d of %zu step%s failed\n", source, failed, n, n == 1 ? "" : "s");
        else
            fprintf(out, "%s: all %zu step%s passed\n", source, n, n == 1 ? "" : "s");
    }
    json_decref(rn.vars);
    ecrmock_free(own);
    return failed;
}

int ecrmock_scenario_run(ecrmock *m, json_t *scenario, const char *base_dir, FILE *out, ecrmock_err *err)
{
    em_err_clear(err);
    return run_scenario(m, scenario, base_dir, "scenario", out, err);
}

int ecrmock_scenario_run_file(ecrmock *m, const char *path, FILE *out, ecrmock_err *err)
{
    em_err_clear(err);
    if (!path)
        return em_sc_invalid(err, "scenario", "$", "no file name given");
    FILE *f = fopen(path, "rb");
    if (!f)
        return em_sc_invalid(err, path, "$", "cannot open the file: %s", strerror(errno));
    json_error_t jerr;
    json_t *sc = json_loadf(f, JSON_REJECT_DUPLICATES, &jerr);
    fclose(f);
    if (!sc)
        /* Not jansson's text: it changed between versions. */
        return em_sc_invalid(err, path, "$", "not valid JSON (line %d, column %d)", jerr.line, jerr.column);
    char *dir = em_strdup(path);
    if (!dir) {
        json_decref(sc);
        return em_sc_nomem(err, path, "$");
    }
    char *slash = strrchr(dir, '/');
    if (slash)
        slash[slash == dir ? 1 : 0] = '\0';
    int rc = run_scenario(m, sc, slash ? dir : ".", path, out, err);
    em_free(dir);
    json_decref(sc);
    return rc;
}
