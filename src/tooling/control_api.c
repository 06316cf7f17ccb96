/*
 * The control API: the test controls over HTTP, for a test in another
 * process or language (ecrmock-server's clients), as moto's /moto-api/ and
 * LocalStack's /_localstack/ are.  Every request under /_ecrmock, once
 * ecrmock_http_control_set() turned it on; JSON in and out, in the forms the
 * C API already reads and writes (fixtures and snapshots, fault rules, the
 * journal and its scenario recording, options), each endpoint a call of the
 * public function it names.  A failure is the control's ecrmock_err as
 * {"__type": "<its code's name>", "message": text, "path": "body: $.x"} with
 * the code's status (400; 500 out of memory); a path or method the API has
 * not, 404 or 405.  With SigV4 credentials set, a control request must be
 * signed with them as an API request is (curl --aws-sigv4 does it).
 *
 * Here in tooling/ because it drives fixtures, snapshots and the recorder;
 * http.c reaches it through m->control, set by ecrmock_http_control_set().
 */
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tooling/tooling.h"

#define JSON_TYPE "application/json"
#define SOURCE "body" /* what an error's path names the request body */

/* One request, as the endpoints see it. */
typedef struct ctl {
    ecrmock *m;
    const ecrmock_http_request *req;
    const char *method;
    const char *rest;  /* the path after /_ecrmock ("" or "/clock", ...) */
    const char *query;
    json_t *body;      /* the body parsed (NULL: none was sent) */
    ecrmock_http_response *resp;
} ctl;

/* ---- answers ------------------------------------------------------------------ */

/* 200 and `doc` (taken); NULL (no memory making it): -1. */
static int ok(ctl *c, json_t *doc)
{
    return em_http_respond_json(c->resp, 200, JSON_TYPE, doc);
}

/* 200 {}. */
static int done(ctl *c)
{
    return ok(c, json_object());
}

/* The error document of a control's failure: ECR's error shape and the
 * ecrmock_err's path. */
static int fail(ctl *c, int status, const char *type, const char *path, const char *text)
{
    char *clean = em_utf8_copy(text);
    json_t *doc = clean ? json_pack("{s:s, s:s}", "__type", type, "message", clean) : NULL;
    em_free(clean);
    if (doc && path && *path && em_set(doc, "path", json_string(path)) < 0) {
        json_decref(doc);
        doc = NULL;
    }
    return em_http_respond_json(c->resp, status, JSON_TYPE, doc);
}

static int fail_err(ctl *c, const ecrmock_err *err)
{
    const char *name = ecrmock_error_name(err->code);
    int status = ecrmock_error_status(err->code);
    return fail(c, status >= 400 ? status : 400, name && *name ? name : "InvalidParameterException", err->path,
                err->text);
}

static int fail_arg(ctl *c, const char *path, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail_arg(ctl *c, const char *path, const char *fmt, ...)
{
    ecrmock_err err;
    va_list ap;
    va_start(ap, fmt);
    char text[sizeof err.text];
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    em_err_set(&err, ECRMOCK_ERR_INVALID_PARAMETER, path, "%s", text);
    return fail_err(c, &err);
}

/* A control's answer: `doc` (taken; NULL: {}) when rc is 0, else its error. */
static int answer(ctl *c, int rc, json_t *doc, const ecrmock_err *err)
{
    if (rc < 0) {
        json_decref(doc);
        return fail_err(c, err);
    }
    return doc ? ok(c, doc) : done(c);
}

/* ---- the body ---------------------------------------------------------------------- */

/* The body, which must be a JSON object with only the members `allowed`
 * (NULL: any).  0; otherwise the refusal is answered, and its status (-1:
 * no memory) returned.  So are int_member's and signed_ok's. */
static int want_object(ctl *c, const char *const *allowed)
{
    if (!c->body)
        return fail_arg(c, SOURCE ": $", "the body must be a JSON object; none was sent");
    if (!json_is_object(c->body))
        return fail_arg(c, SOURCE ": $", "the body must be a JSON object");
    const char *key;
    json_t *v;
    json_object_foreach(c->body, key, v) {
        size_t i = 0;
        while (allowed && allowed[i] && strcmp(allowed[i], key) != 0)
            i++;
        if (allowed && !allowed[i]) {
            char names[256] = "", path[160];
            for (size_t k = 0; allowed[k]; k++)
                snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", k ? ", " : "", allowed[k]);
            snprintf(path, sizeof path, SOURCE ": $.%.100s", key);
            return fail_arg(c, path, "unknown member: this endpoint takes %s", names);
        }
    }
    return 0;
}

/* Member `key` of the body as an integer from lo to hi into *out (*has:
 * whether it is there; NULL: it must be). */
static int int_member(ctl *c, const char *key, int64_t lo, int64_t hi, bool *has, int64_t *out)
{
    json_t *v = json_object_get(c->body, key);
    char path[64];
    snprintf(path, sizeof path, SOURCE ": $.%s", key);
    if (has)
        *has = v != NULL;
    if (!v && has)
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
        return fail_arg(c, path, "must be an integer from %" PRId64 " to %" PRId64, lo, hi);
    *out = json_integer_value(v);
    return 0;
}

/* ---- the endpoints ------------------------------------------------------------------- */

static int version(ctl *c)
{
    return ok(c, json_pack("{s:s}", "version", ecrmock_version()));
}

static int reset(ctl *c)
{
    ecrmock_reset(c->m);
    return done(c);
}

static int fixture(ctl *c)
{
    int st = want_object(c, NULL);
    if (st)
        return st;
    ecrmock_err err;
    int rc = ecrmock_fixture_load(c->m, c->body, SOURCE, &err);
    return answer(c, rc, NULL, &err);
}

static int snapshot(ctl *c)
{
    ecrmock_err err;
    json_t *snap = ecrmock_snapshot(c->m, &err);
    return answer(c, snap ? 0 : -1, snap, &err);
}

/* {"mode": "wall" | "pinned", "now": ms, "offsetMs": ms (wall only)}, read as one. */
static json_t *clock_json(ecrmock *m)
{
    em_lock(m);
    bool wall = m->clock_wall;
    int64_t now = m->clock_ms, offset = m->clock_offset_ms;
    em_unlock(m);
    json_t *o = json_pack("{s:s, s:I}", "mode", wall ? "wall" : "pinned", "now", (json_int_t)now);
    if (o && wall && em_set(o, "offsetMs", json_integer((json_int_t)offset)) < 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static int clock_get(ctl *c)
{
    return ok(c, clock_json(c->m));
}

/* {"mode"?, "now"?}: the mode first, then the time (in it). */
static int clock_set(ctl *c)
{
    static const char *const members[] = {"mode", "now", NULL};
    int st = want_object(c, members);
    if (st)
        return st;
    json_t *mode = json_object_get(c->body, "mode");
    ecrmock_clock_mode to = ECRMOCK_CLOCK_PINNED;
    if (mode) {
        const char *s = json_string_value(mode);
        if (!s || (strcmp(s, "wall") != 0 && strcmp(s, "pinned") != 0))
            return fail_arg(c, SOURCE ": $.mode", "must be \"wall\" or \"pinned\"");
        to = strcmp(s, "wall") == 0 ? ECRMOCK_CLOCK_WALL : ECRMOCK_CLOCK_PINNED;
    }
    int64_t now = 0;
    bool has_now;
    if ((st = int_member(c, "now", 0, ECRMOCK_CLOCK_MAX_MS, &has_now, &now)))
        return st;
    if (!mode && !has_now)
        return fail_arg(c, SOURCE ": $", "give \"mode\" (\"wall\" or \"pinned\"), \"now\" (ms since the epoch), or both");
    ecrmock_err err;
    /* Checked before: neither can fail now but for a NULL instance. */
    if ((mode && ecrmock_clock_mode_set(c->m, to, &err) < 0) || (has_now && ecrmock_clock_set(c->m, now, &err) < 0))
        return fail_err(c, &err);
    return ok(c, clock_json(c->m));
}

static int clock_advance(ctl *c)
{
    static const char *const members[] = {"ms", NULL};
    int64_t ms = 0;
    int st = want_object(c, members);
    if (st || (st = int_member(c, "ms", -ECRMOCK_CLOCK_MAX_MS, ECRMOCK_CLOCK_MAX_MS, NULL, &ms)))
        return st;
    ecrmock_err err;
    if (ecrmock_clock_advance(c->m, ms, &err) < 0) {
        snprintf(err.path, sizeof err.path, SOURCE ": $.ms");
        return fail_err(c, &err);
    }
    return ok(c, clock_json(c->m));
}

static int faults_list(ctl *c)
{
    ecrmock_err err;
    json_t *list = ecrmock_faults_json(c->m, &err);
    return answer(c, list ? 0 : -1, list, &err);
}

static int faults_add(ctl *c)
{
    int st = want_object(c, NULL);
    if (st)
        return st;
    ecrmock_err err;
    long id = ecrmock_fault_add_json(c->m, c->body, &err);
    if (id < 0) {
        snprintf(err.path, sizeof err.path, SOURCE ": $");
        return fail_err(c, &err);
    }
    if ((st = ok(c, json_pack("{s:I}", "id", (json_int_t)id))) != 200)
        ecrmock_fault_remove(c->m, id, NULL); /* no answer (no memory): no rule either */
    return st;
}

static int faults_clear(ctl *c)
{
    ecrmock_fault_clear(c->m);
    return done(c);
}

/* The id of /faults/<id>, or 0: not a rule id's form. */
static long fault_id(ctl *c)
{
    const char *s = c->rest + strlen("/faults/");
    char *end = NULL;
    long id = *s >= '1' && *s <= '9' ? strtol(s, &end, 10) : 0;
    return id > 0 && end && !*end && id < LONG_MAX ? id : 0;
}

static int no_rule(ctl *c)
{
    char text[200];
    snprintf(text, sizeof text, "no fault rule has the id '%.64s'", c->rest + strlen("/faults/"));
    return fail(c, 404, "InvalidParameterException", "", text);
}

static int fault_get(ctl *c)
{
    long id = fault_id(c);
    if (!id)
        return no_rule(c);
    ecrmock_err err;
    json_t *list = ecrmock_faults_json(c->m, &err);
    if (!list)
        return fail_err(c, &err);
    json_t *v;
    size_t i;
    json_array_foreach(list, i, v) {
        if (json_integer_value(json_object_get(v, "id")) == id) {
            json_incref(v);
            json_decref(list);
            return ok(c, v);
        }
    }
    json_decref(list);
    return no_rule(c);
}

static int fault_remove(ctl *c)
{
    long id = fault_id(c);
    if (!id || ecrmock_fault_remove(c->m, id, NULL) < 0)
        return no_rule(c);
    return done(c);
}

static int journal_get(ctl *c)
{
    ecrmock_err err;
    json_t *j = ecrmock_journal_json(c->m, &err);
    return answer(c, j ? 0 : -1, j, &err);
}

static int journal_clear(ctl *c)
{
    ecrmock_journal_clear(c->m);
    return done(c);
}

static int journal_enable(ctl *c)
{
    static const char *const members[] = {"enabled", NULL};
    int st = want_object(c, members);
    if (st)
        return st;
    json_t *on = json_object_get(c->body, "enabled");
    if (!json_is_boolean(on))
        return fail_arg(c, SOURCE ": $.enabled", "must be true or false");
    ecrmock_journal_enable(c->m, json_is_true(on));
    return done(c);
}

/* ?fixture=PATH, percent-decoded (em_query_param()): a %00 in it is
 * refused, not cut there. */
static int journal_scenario(ctl *c)
{
    char *fx = NULL;
    size_t len = 0;
    int has = em_query_param(c->query, "fixture", true, &fx, &len);
    if (has > 0 && len != strlen(fx)) {
        em_free(fx);
        return fail_arg(c, "query: fixture", "a path holds no NUL (%%00)");
    }
    ecrmock_err err;
    json_t *sc = has < 0 ? NULL : ecrmock_scenario_record(c->m, fx, &err);
    em_free(fx);
    if (has < 0)
        em_err_nomem(&err);
    return answer(c, sc ? 0 : -1, sc, &err);
}

/* {"total": n, "calls": {"PutImage": n, ...}, "runs": {...}, "journal":
 * {"length": n, "dropped": n}}: the actions called at least once. */
static int counts(ctl *c)
{
    ecrmock *m = c->m;
    json_t *calls = json_object(), *runs = json_object();
    bool oom = !calls || !runs;
    em_lock(m); /* one moment's counts */
    unsigned long total = ecrmock_call_count(m, NULL);
    for (size_t i = 0; i < em_action_count && !oom; i++) {
        const char *a = em_actions[i].name;
        unsigned long n = ecrmock_call_count(m, a), r = ecrmock_run_count(m, a);
        oom = (n && em_set(calls, a, json_integer((json_int_t)n)) < 0) ||
              (r && em_set(runs, a, json_integer((json_int_t)r)) < 0);
    }
    size_t length = ecrmock_journal_length(m), dropped = ecrmock_journal_dropped(m);
    em_unlock(m);
    json_t *doc = oom ? NULL
                      : json_pack("{s:I, s:o, s:o, s:{s:I, s:I}}", "total", (json_int_t)total, "calls", calls, "runs",
                                  runs, "journal", "length", (json_int_t)length, "dropped", (json_int_t)dropped);
    if (oom) {
        json_decref(calls);
        json_decref(runs);
    }
    return ok(c, doc);
}

static int scan_findings(ctl *c)
{
    static const char *const members[] = {"registryId", "repositoryName", "imageDigest", "findings", NULL};
    int st = want_object(c, members);
    if (st)
        return st;
    static const char *const strings[] = {"registryId", "repositoryName", "imageDigest"};
    const char *s[3];
    for (int i = 0; i < 3; i++) {
        json_t *v = json_object_get(c->body, strings[i]);
        s[i] = json_string_value(v);
        if ((v || i > 0) && !s[i]) {
            char path[64];
            snprintf(path, sizeof path, SOURCE ": $.%s", strings[i]);
            return fail_arg(c, path, "must be a string");
        }
    }
    ecrmock_err err;
    int rc = ecrmock_scan_findings_set(c->m, s[0], s[1], s[2], json_object_get(c->body, "findings"), &err);
    /* the findings' own path, "findings: $[0].severity", within the body */
    if (rc < 0 && strncmp(err.path, "findings: $", 11) == 0) {
        char path[sizeof err.path + 16];
        snprintf(path, sizeof path, SOURCE ": $.findings%.148s", err.path + 11);
        snprintf(err.path, sizeof err.path, "%.150s", path);
    }
    return answer(c, rc, NULL, &err);
}

static int scan_duration(ctl *c)
{
    static const char *const members[] = {"ms", NULL};
    int64_t ms = 0;
    int st = want_object(c, members);
    if (st || (st = int_member(c, "ms", 0, ECRMOCK_CLOCK_MAX_MS, NULL, &ms)))
        return st;
    ecrmock_err err;
    return answer(c, ecrmock_scan_duration_set(c->m, ms, &err), NULL, &err);
}

static int principal(ctl *c)
{
    static const char *const members[] = {"principalArn", NULL};
    int st = want_object(c, members);
    if (st)
        return st;
    json_t *v = json_object_get(c->body, "principalArn");
    if (!json_is_null(v) && !json_is_string(v))
        return fail_arg(c, SOURCE ": $.principalArn", "must be a string (an IAM principal's ARN) or null (none)");
    ecrmock_err err;
    return answer(c, ecrmock_principal_set(c->m, json_string_value(v), &err), NULL, &err);
}

static int options(ctl *c)
{
    em_lock(c->m);
    ecrmock_options o = c->m->opts;
    em_unlock(c->m);
    json_t *j = ecrmock_options_json(&o);
    return j ? ok(c, j) : fail(c, 500, "ServerException", "", "out of memory");
}

/* The members given change the instance's options (ecrmock_options_set());
 * those left out stay. */
static int options_set(ctl *c)
{
    int st = want_object(c, NULL);
    if (st)
        return st;
    em_lock(c->m);
    ecrmock_options o = c->m->opts, before = o;
    em_unlock(c->m);
    ecrmock_err err;
    if (ecrmock_options_from_json(c->body, &o, &err) < 0) {
        /* "$.options.tokenLength": the body is the options object */
        char path[sizeof err.path + 8];
        snprintf(path, sizeof path, SOURCE ": $%.140s", strncmp(err.path, "$.options", 9) == 0 ? err.path + 9 : "");
        snprintf(err.path, sizeof err.path, "%.150s", path);
        return fail_err(c, &err);
    }
    if (em_options_update(c->m, &o, SOURCE, &err) < 0)
        return fail_err(c, &err);
    if ((st = options(c)) != 200)
        em_options_update(c->m, &before, SOURCE, NULL); /* no answer (no memory): no change either */
    return st;
}

/* ---- routing ---------------------------------------------------------------------- */

typedef struct route {
    const char *method, *path; /* a path ending in '/' takes an id after it */
    int (*run)(ctl *c);
} route;

static const route routes[] = {
    {"GET", "", version},
    {"POST", "/reset", reset},
    {"POST", "/fixture", fixture},
    {"GET", "/snapshot", snapshot},
    {"GET", "/clock", clock_get},
    {"POST", "/clock", clock_set},
    {"POST", "/clock/advance", clock_advance},
    {"GET", "/faults", faults_list},
    {"POST", "/faults", faults_add},
    {"DELETE", "/faults", faults_clear},
    {"GET", "/faults/", fault_get},
    {"DELETE", "/faults/", fault_remove},
    {"GET", "/journal", journal_get},
    {"DELETE", "/journal", journal_clear},
    {"POST", "/journal", journal_enable},
    {"GET", "/journal/scenario", journal_scenario},
    {"GET", "/counts", counts},
    {"POST", "/scan/findings", scan_findings},
    {"POST", "/scan/duration", scan_duration},
    {"POST", "/principal", principal},
    {"GET", "/options", options},
    {"POST", "/options", options_set},
};

static bool path_is(const route *r, const char *rest)
{
    size_t n = strlen(r->path);
    if (n && r->path[n - 1] == '/')
        return strncmp(rest, r->path, n) == 0 && rest[n] && !strchr(rest + n, '/');
    return strcmp(rest, r->path) == 0 || (!*r->path && strcmp(rest, "/") == 0);
}

/* With SigV4 checks on, the request's signature, as the API's (see
 * want_object for what it returns). */
static int signed_ok(ctl *c, const char *path)
{
    const ecrmock_http_request *q = c->req;
    em_sigv4_input in = {q->method, path, c->query, q->headers, q->n_headers, q->body, q->body_len};
    const char *type = NULL;
    char *message = NULL;
    em_lock(c->m);
    int rc = c->m->http_secret_key ? em_sigv4_verify(c->m, &in, &type, &message) : 0;
    em_unlock(c->m);
    if (rc == 0)
        return 0;
    if (!message)
        return -1;
    int st = fail(c, 400, type, "", message);
    em_free(message);
    return st;
}

static int control(ecrmock *m, const ecrmock_http_request *req, const char *path, const char *query,
                   ecrmock_http_response *resp)
{
    ctl c = {m, req, req->method, path + strlen(EM_CONTROL_PREFIX), query, NULL, resp};
    int st = signed_ok(&c, path);
    if (st)
        return st;
    const route *hit = NULL;
    char allow[64] = "";
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        if (!path_is(&routes[i], c.rest))
            continue;
        if (strcmp(routes[i].method, req->method) == 0)
            hit = &routes[i];
        else
            snprintf(allow + strlen(allow), sizeof allow - strlen(allow), "%s%s", *allow ? ", " : "",
                     routes[i].method);
    }
    char text[320];
    if (!hit && !*allow) {
        snprintf(text, sizeof text, "no control endpoint %.32s %.160s (README.md, \"The control API\", lists them)",
                 req->method, path);
        return fail(&c, 404, "UnknownOperationException", "", text);
    }
    if (!hit) {
        snprintf(text, sizeof text, "%.160s takes %s, not %.32s", path, allow, req->method);
        st = fail(&c, 405, "UnknownOperationException", "", text);
        return st < 0 || em_http_add_header(resp, "Allow", allow) < 0 ? -1 : st;
    }
    if (req->body_len) {
        json_error_t je;
        c.body = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &je);
        if (!c.body) {
            char where[64];
            snprintf(where, sizeof where, SOURCE ": line %d, column %d", je.line, je.column);
            return fail_arg(&c, where, "%s", je.text);
        }
    }
    st = hit->run(&c);
    json_decref(c.body);
    return st;
}

int ecrmock_http_control_set(ecrmock *m, int on, ecrmock_err *err)
{
    em_err_clear(err);
    if (!m)
        return em_err_arg(err, "no instance (m is NULL)");
    em_lock(m);
    m->control = on ? control : NULL;
    em_unlock(m);
    return 0;
}
