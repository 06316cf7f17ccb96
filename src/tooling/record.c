/*
 * The scenario recorder: the call journal turned into a scenario that
 * replays it (fixtures/README.md, "Recording").
 *
 * Each journaled call becomes a step expecting exactly what was answered.
 * Replaying on a fresh instance with the same options gives the same
 * answers because everything ecrmock generates comes from the seed and the
 * virtual clock; the clock moves between calls are recorded as
 * advanceClockMs.  Values a response handed out and a later request sends
 * back (upload ids, image digests, page tokens), not values the client sent
 * first (the digests of its own layers), are captured and referenced by name,
 * which makes the flow readable and keeps it working when a step is edited.
 */
#include <string.h>

#include "tooling.h"

/* Shorter strings ("MUTABLE", "v1", repository names) are not captured:
 * they are what the client chose, not what ECR handed out. */
#define CAPTURE_MIN 16

typedef struct recorder {
    json_t *captured; /* value -> variable name */
    json_t *names;    /* variable names in use */
    json_t *first;    /* string a request sends -> the first step sending it */
} recorder;

/* A string the maps can key on (no NUL inside). */
static bool keyable(json_t *s)
{
    return json_is_string(s) && strlen(json_string_value(s)) == json_string_length(s);
}

/* Escapes "${" as "$${" so the runner sends the text as it is. */
static json_t *escape(json_t *s)
{
    const char *p = json_string_value(s);
    size_t n = json_string_length(s);
    em_buf b = {0};
    size_t lit = 0;
    for (size_t i = 0; i + 1 < n; i++) {
        if (p[i] == '$' && p[i + 1] == '{') {
            if (em_buf_append(&b, p + lit, i - lit) < 0 || em_buf_append(&b, "$", 1) < 0)
                goto nomem;
            lit = i;
        }
    }
    if (em_buf_append(&b, p + lit, n - lit) < 0)
        goto nomem;
    json_t *r = json_stringn((const char *)b.data, b.len);
    em_buf_release(&b);
    return r;
nomem:
    em_buf_release(&b);
    return NULL;
}

/* A copy of v for the scenario (new reference): strings that a response
 * handed out become "${name}", others are escaped.  Those that this step
 * hands out (`fresh`: the step's capture, name -> path; may be NULL) become
 * "${*}": the step captures them, and pins no value that another seed, or
 * another order of draws, would give differently. */
static json_t *rewrite(recorder *rc, json_t *v, json_t *fresh)
{
    if (json_is_string(v)) {
        json_t *name = keyable(v) ? json_object_get(rc->captured, json_string_value(v)) : NULL;
        if (name && json_object_get(fresh, json_string_value(name)))
            return json_string("${*}");
        if (name)
            return json_sprintf("${%s}", json_string_value(name));
        return memchr(json_string_value(v), '$', json_string_length(v)) ? escape(v) : json_incref(v);
    }
    if (json_is_object(v)) {
        json_t *o = json_object();
        const char *key;
        size_t key_len;
        json_t *item;
        json_object_keylen_foreach(v, key, key_len, item) { /* a name with a NUL in it kept whole */
            if (!o || json_object_setn_new(o, key, key_len, rewrite(rc, item, fresh)) < 0) {
                json_decref(o);
                return NULL;
            }
        }
        return o;
    }
    if (json_is_array(v)) {
        json_t *a = json_array();
        size_t i;
        json_t *item;
        json_array_foreach(v, i, item) {
            if (!a || json_array_append_new(a, rewrite(rc, item, fresh)) < 0) {
                json_decref(a);
                return NULL;
            }
        }
        return a;
    }
    return json_incref(v);
}

/* Whether every member name and string of v is UTF-8: a JSON-level
 * request may hold others (jansson's _nocheck functions), which no JSON
 * text, a scenario, can. */
static bool all_text(json_t *v)
{
    const char *key;
    size_t key_len, i;
    json_t *item;
    if (json_is_string(v))
        return em_utf8_okn(json_string_value(v), json_string_length(v));
    if (json_is_object(v)) {
        json_object_keylen_foreach(v, key, key_len, item) {
            if (!em_utf8_okn(key, key_len) || !all_text(item))
                return false;
        }
    } else if (json_is_array(v)) {
        json_array_foreach(v, i, item) {
            if (!all_text(item))
                return false;
        }
    }
    return true;
}

/* Notes the long strings of request k that no earlier request sent. */
static int note_sent(recorder *rc, json_t *v, size_t k)
{
    if (json_is_string(v)) {
        if (json_string_length(v) < CAPTURE_MIN || !keyable(v))
            return 0;
        if (json_object_get(rc->first, json_string_value(v)))
            return 0;
        return json_object_set_new(rc->first, json_string_value(v), json_integer((json_int_t)k));
    }
    const char *key;
    size_t i;
    json_t *item;
    if (json_is_object(v)) {
        json_object_foreach(v, key, item) {
            if (note_sent(rc, item, k) < 0)
                return -1;
        }
    } else if (json_is_array(v)) {
        json_array_foreach(v, i, item) {
            if (note_sent(rc, item, k) < 0)
                return -1;
        }
    }
    return 0;
}

/* A fresh variable name from a member name: "uploadId", "imageDigest2"... */
static json_t *new_name(recorder *rc, const char *member)
{
    char base[48];
    size_t n = 0;
    for (const char *p = member ? member : "value"; *p && n < sizeof base - 8; p++) {
        char ch = *p;
        bool ok = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || ch == '_' || (ch >= '0' && ch <= '9');
        base[n++] = ok ? ch : '_';
    }
    base[n] = '\0';
    if (n == 0 || (base[0] >= '0' && base[0] <= '9'))
        memcpy(base, "value", 6);
    char name[64];
    snprintf(name, sizeof name, "%s", base);
    for (int i = 2; json_object_get(rc->names, name); i++)
        snprintf(name, sizeof name, "%s%d", base, i);
    if (json_object_set_new(rc->names, name, json_true()) < 0)
        return NULL;
    return json_string(name);
}

/* Paths can only say ".member" for names free of '.', '[' and ']'. */
static bool plain_key(const char *key)
{
    return key[0] && !strpbrk(key, ".[]");
}

/*
 * Walks response k: each long string that a later request sends, and no
 * request sent before, gets a variable (once); `capture` receives name -> path.  `path` holds the
 * NUL-terminated path of v; `member` the nearest member name above it.
 */
static int find_captures(recorder *rc, json_t *v, size_t k, em_buf *path, const char *member, json_t *capture)
{
    if (json_is_string(v)) {
        if (json_string_length(v) < CAPTURE_MIN || !keyable(v))
            return 0;
        const char *s = json_string_value(v);
        /* Only what ECR handed out: not what the client sent first. */
        json_t *first = json_object_get(rc->first, s);
        if (!first || json_integer_value(first) <= (json_int_t)k || json_object_get(rc->captured, s))
            return 0;
        json_t *name = new_name(rc, member);
        int r = name && json_object_set(rc->captured, s, name) == 0 &&
                        json_object_set_new(capture, json_string_value(name), json_string((const char *)path->data)) == 0
                    ? 0
                    : -1;
        json_decref(name);
        return r;
    }
    size_t mark = path->len;
    if (json_is_object(v)) {
        const char *key;
        json_t *item;
        json_object_foreach(v, key, item) {
            if (!plain_key(key))
                continue;
            path->len = mark - 1;
            if (em_buf_append(path, ".", 1) < 0 || em_buf_append(path, key, strlen(key) + 1) < 0 ||
                find_captures(rc, item, k, path, key, capture) < 0)
                return -1;
        }
    } else if (json_is_array(v)) {
        size_t i;
        json_t *item;
        json_array_foreach(v, i, item) {
            char idx[32];
            int n = snprintf(idx, sizeof idx, "[%zu]", i);
            path->len = mark - 1;
            if (em_buf_append(path, idx, (size_t)n + 1) < 0 || find_captures(rc, item, k, path, member, capture) < 0)
                return -1;
        }
    }
    path->len = mark;
    path->data[mark - 1] = '\0';
    return 0;
}

/* The message of an error document ("Message" in framework errors), or NULL. */
static json_t *error_message(json_t *resp)
{
    json_t *msg = json_object_get(resp, "message");
    return json_is_string(msg) ? msg : json_object_get(resp, "Message");
}

/* A one-shot rule answering what an error or apply-then-error rule answered
 * on this call, or what was answered to a body that was not JSON (which a
 * scenario cannot send); NULL (and *none) when neither happened. */
static json_t *fault_rule(json_t *entry, bool *none)
{
    static const char *const effects[] = {"error", "apply-then-error"};
    int status = (int)json_integer_value(json_object_get(entry, "status"));
    json_t *resp = json_object_get(entry, "response");
    const char *type = json_string_value(json_object_get(resp, "__type"));
    *none = true;
    if (status == 200 || !type)
        return NULL;
    /* The effect the journal saw fire (the rule may be gone since).
     * Transport faults answer at the JSON level as an error rule (refused,
     * timed out: the action did not run) or an apply-then-error rule does. */
    const char *name = json_string_value(json_object_get(entry, "effect"));
    if (json_is_null(json_object_get(entry, "request")))
        name = "error"; /* the body was not JSON: the action never ran */
    int effect;
    if (!name)
        return NULL;
    if (strcmp(name, "error") == 0 || strcmp(name, "connect-refused") == 0 || strcmp(name, "timeout") == 0)
        effect = ECRMOCK_FAULT_ERROR;
    else if (strcmp(name, "apply-then-error") == 0 || strcmp(name, "recv-error") == 0)
        effect = ECRMOCK_FAULT_APPLY_THEN_ERROR;
    else
        return NULL; /* latency: the clock move is recorded; truncate, malform: the JSON is whole */
    *none = false;
    json_t *rule = json_pack("{s:O, s:i, s:i, s:s, s:s, s:i}", "action", json_object_get(entry, "action"), "nth", 1,
                             "count", 1, "effect", effects[effect], "error", type, "status", status);
    json_t *msg = error_message(resp);
    if (rule && json_is_string(msg) && json_object_set(rule, "message", msg) < 0) {
        json_decref(rule);
        return NULL;
    }
    return rule;
}

static json_t *options_json(ecrmock *m)
{
    em_lock(m);
    ecrmock_options o = m->opts; /* its strings live as long as m */
    em_unlock(m);
    return ecrmock_options_json(&o);
}

/* The clock a replay starts from when it loads `fixture` (a fixture may set
 * the clock), or -1 when there is none or it cannot be loaded from here. */
static int64_t fixture_clock(ecrmock *m, const char *fixture)
{
    if (!fixture)
        return -1;
    em_lock(m);
    ecrmock_options o = m->opts; /* its strings live as long as m */
    em_unlock(m);
    ecrmock *scratch = ecrmock_new(&o);
    int64_t clock = -1;
    if (scratch && ecrmock_fixture_load_file(scratch, fixture, NULL) == 0)
        clock = ecrmock_clock_now(scratch);
    ecrmock_free(scratch);
    return clock;
}

static int64_t entry_ms(json_t *entry)
{
    double t = json_number_value(json_object_get(entry, "time")) * 1000.0;
    return (int64_t)(t < 0 ? t - 0.5 : t + 0.5);
}

/* Step k of the recording (new reference). */
static json_t *record_step(recorder *rc, json_t *entry, size_t k, int64_t *clock)
{
    json_t *step = json_object(), *expect = NULL, *capture = NULL;
    em_buf path = {0};
    if (!step)
        return NULL;
    int64_t at = entry_ms(entry);
    if (at != *clock && em_set(step, "advanceClockMs", json_integer((json_int_t)(at - *clock))) < 0)
        goto fail;
    *clock = at;
    bool none;
    json_t *rule = fault_rule(entry, &none);
    if (!none && (!rule || em_set(step, "faults", json_pack("[o]", rule)) < 0))
        goto fail;
    json_t *resp = json_object_get(entry, "response");
    int status = (int)json_integer_value(json_object_get(entry, "status"));
    /* A body that was not JSON (request null): the rule above answers an
     * empty request as it was answered; its type and message are expected. */
    bool not_json = json_is_null(json_object_get(entry, "request"));
    if (em_set(step, "action", json_incref(json_object_get(entry, "action"))) < 0 ||
        em_set(step, "request", not_json ? json_object() : rewrite(rc, json_object_get(entry, "request"), NULL)) < 0)
        goto fail;
    capture = json_object();
    if (!capture || em_buf_append(&path, "$", 2) < 0 || find_captures(rc, resp, k, &path, NULL, capture) < 0)
        goto fail;
    expect = json_pack("{s:i}", "status", status);
    json_t *error = json_object_get(entry, "error"), *msg = error_message(resp);
    if (!expect || (error && json_object_set(expect, "error", error) < 0) ||
        (not_json && json_is_string(msg) && json_object_set(expect, "message", msg) < 0) ||
        (!not_json && em_set(expect, "response", rewrite(rc, resp, capture)) < 0))
        goto fail;
    if (json_object_set(step, "expect", expect) < 0)
        goto fail;
    if (json_object_size(capture) && json_object_set(step, "capture", capture) < 0)
        goto fail;
    em_buf_release(&path);
    json_decref(expect);
    json_decref(capture);
    return step;
fail:
    em_buf_release(&path);
    json_decref(expect);
    json_decref(capture);
    json_decref(step);
    return NULL;
}

static size_t max_bytes(ecrmock *m)
{
    em_lock(m);
    size_t n = m->opts.journal_max_bytes;
    em_unlock(m);
    return n;
}

json_t *ecrmock_scenario_record(ecrmock *m, const char *fixture, ecrmock_err *err)
{
    em_err_clear(err);
    if (!m) {
        em_err_arg(err, "no instance (m is NULL)");
        return NULL;
    }
    if (fixture && !em_utf8_ok(fixture)) {
        em_err_arg(err, "the fixture's path is not UTF-8: a scenario, JSON text, cannot hold it");
        return NULL;
    }
    recorder rc = {json_object(), json_object(), json_object()};
    int refused = 0;
    json_t *journal = ecrmock_journal_json(m, NULL);
    json_t *sc = NULL, *steps = json_array();
    size_t dropped = ecrmock_journal_dropped(m);
    if (!rc.captured || !rc.names || !rc.first || !journal || !steps)
        goto fail;
    size_t k;
    json_t *entry;
    json_array_foreach(journal, k, entry) {
        /* a call whose bodies the journal dropped cannot be replayed */
        if (json_object_get(entry, "dropped")) {
            refused = em_err_arg(err, "journal entry %zu (seq %" JSON_INTEGER_FORMAT ", %s) dropped its %s: the call "
                                      "was larger than journal_max_bytes (%zu); raise that option to record it",
                                 k, json_integer_value(json_object_get(entry, "seq")),
                                 json_string_value(json_object_get(entry, "action")),
                                 json_is_null(json_object_get(entry, "response")) ? "request and response" : "request",
                                 max_bytes(m));
            goto fail;
        }
        if (!all_text(json_object_get(entry, "request"))) {
            refused = em_err_arg(err, "journal entry %zu (seq %" JSON_INTEGER_FORMAT ", %s) has a member name or a "
                                      "string that is not UTF-8 in its request (a JSON-level call's): a scenario, "
                                      "JSON text, cannot hold it",
                                 k, json_integer_value(json_object_get(entry, "seq")),
                                 json_string_value(json_object_get(entry, "action")));
            goto fail;
        }
        if (note_sent(&rc, json_object_get(entry, "request"), k) < 0)
            goto fail;
    }
    json_t *options = options_json(m);
    if (!options)
        goto fail;
    int64_t clock = fixture_clock(m, fixture);
    if (clock < 0)
        clock = (int64_t)json_integer_value(json_object_get(options, "clockStartMs"));
    json_array_foreach(journal, k, entry) {
        if (json_array_append_new(steps, record_step(&rc, entry, k, &clock)) < 0) {
            json_decref(options);
            goto fail;
        }
    }
    json_t *desc = dropped ? json_sprintf("Recorded from the journal: %zu calls (the %zu before them were "
                                          "dropped: the replay starts later than the recording did)",
                                          json_array_size(journal), dropped)
                           : json_sprintf("Recorded from the journal: %zu calls", json_array_size(journal));
    sc = json_pack("{s:o}", "description", desc);
    if (!sc || (fixture && em_set(sc, "fixture", json_string(fixture)) < 0)) {
        json_decref(options); /* not taken by em_set below */
        json_decref(sc);
        sc = NULL;
    } else if (em_set(sc, "options", options) < 0 || json_object_set(sc, "steps", steps) < 0) {
        json_decref(sc);
        sc = NULL;
    }
fail:
    json_decref(steps);
    json_decref(journal);
    json_decref(rc.captured);
    json_decref(rc.names);
    json_decref(rc.first);
    if (!sc && !refused)
        em_err_nomem(err);
    return sc;
}
