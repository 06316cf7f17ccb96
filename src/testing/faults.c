/*
 * Fault injection: rules that make a call fail, fail after applying, take
 * virtual time, or come back with a broken body.
 *
 * Rules are kept in the order they were added.  Each call that reaches an
 * action is offered to every rule: a rule that matches counts the call, and
 * fires when its window (nth, count) and its probability say so.  Latency
 * rules add up; of the other rules, the first to fire decides the call.
 * Probabilities are drawn from a stream of the seeded generator kept apart
 * from the one that makes ids, so adding a rule never changes an upload id.
 *
 * A rule is counted: the instance's list holds one reference, and the call
 * it decides holds another until it is done with the rule's error, message
 * and body, so that a hook or another thread may remove the rule meanwhile.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "testing/testing.h"

struct em_fault {
    long id;
    char *action, *repository;
    json_t *match;
    json_t *headers; /* {"lower-case name": "value" | true | false}, or NULL */
    unsigned long nth, count;
    double probability;
    ecrmock_fault_effect effect;
    char *error, *message, *body;
    int status;
    int64_t latency_ms;
    size_t truncate_at;
    unsigned long seen, fired;
    atomic_uint refs; /* the list's, and each deciding call's (no lock needed) */
    em_fault *next;
};

/* Drops a reference; the last one frees the rule. */
static void fault_free(em_fault *f)
{
    if (!f || atomic_fetch_sub(&f->refs, 1) > 1)
        return;
    em_free(f->action);
    em_free(f->repository);
    json_decref(f->match);
    json_decref(f->headers);
    em_free(f->error);
    em_free(f->message);
    em_free(f->body);
    em_free(f);
}

void em_faults_free(ecrmock *m)
{
    em_fault *f = m->faults;
    while (f) {
        em_fault *next = f->next;
        fault_free(f);
        f = next;
    }
    m->faults = NULL;
}

/* ---- adding rules -------------------------------------------------------------- */

static long refuse(ecrmock_err *err, const char *why)
{
    return em_err_set(err, ECRMOCK_ERR_INVALID_PARAMETER, NULL, "%s", why);
}

static long refuse_nomem(ecrmock_err *err)
{
    return em_err_set(err, ECRMOCK_ERR_SERVER, NULL, "fault rule: out of memory");
}

static char *dup_or_null(const char *s, bool *oom)
{
    if (!s)
        return NULL;
    char *d = em_strdup(s);
    if (!d)
        *oom = true;
    return d;
}

/* 0 when `h` is a headers_match ({name: "value" | true | false}), else -1
 * with *err saying why. */
static int headers_check(json_t *h, ecrmock_err *err)
{
    char why[256];
    const char *key;
    json_t *v;
    if (!json_is_object(h))
        return refuse(err, "fault rule: headers_match must be a JSON object");
    json_object_foreach(h, key, v) {
        bool token = *key != '\0';
        for (const char *p = key; *p; p++)
            token = token && *p > ' ' && *p < 0x7f && *p != ':';
        if (!token) {
            snprintf(why, sizeof why, "fault rule: headers_match: '%.64s' is not an HTTP header name", key);
            return refuse(err, why);
        }
        if (!json_is_string(v) && !json_is_boolean(v)) {
            snprintf(why, sizeof why,
                     "fault rule: headers_match: '%.64s' must be a string (the value), true (present) or false (absent)",
                     key);
            return refuse(err, why);
        }
        /* Compared as a C string, "a\u0000b" would match the header "a". */
        if (json_is_string(v) && strlen(json_string_value(v)) != json_string_length(v)) {
            snprintf(why, sizeof why, "fault rule: headers_match: '%.64s' must not hold a NUL character (\\u0000)",
                     key);
            return refuse(err, why);
        }
    }
    return 0;
}

/* A copy of a checked headers_match with lower-case names (new reference). */
static json_t *headers_lower(json_t *h)
{
    json_t *o = json_object();
    const char *key;
    json_t *v;
    json_object_foreach(h, key, v) {
        char *name = em_strdup(key);
        if (name)
            em_ascii_lower(name, name, strlen(name));
        if (!o || !name || json_object_set(o, name, v) < 0) {
            em_free(name);
            json_decref(o);
            return NULL;
        }
        em_free(name);
    }
    return o;
}

static const char *const effect_names[] = {"error",    "apply-then-error", "latency",   "truncate",
                                           "malform",  "connect-refused",  "timeout",   "recv-error"};
#define N_EFFECTS (sizeof effect_names / sizeof effect_names[0])

const char *em_fault_effect_name(ecrmock_fault_effect effect)
{
    return (unsigned)effect < N_EFFECTS ? effect_names[effect] : NULL;
}

/* The members that only some effects use, as bits; their C and JSON names
 * and the effects they are for, by bit number. */
enum { M_ERROR = 1, M_MESSAGE = 2, M_STATUS = 4, M_LATENCY = 8, M_TRUNCATE = 16, M_BODY = 32 };
static const struct {
    const char *c, *json, *used_by;
} members[] = {
    {"error", "error", "error, apply-then-error, connect-refused, timeout and recv-error rules"},
    {"message", "message", "error, apply-then-error, connect-refused, timeout and recv-error rules"},
    {"status", "status", "every effect but latency"},
    {"latency_ms", "latencyMs", "latency rules"},
    {"truncate_at", "truncateAt", "truncate rules"},
    {"body", "body", "malform rules"},
};

/* Which of those members an effect gives a meaning to. */
static unsigned effect_members(ecrmock_fault_effect effect)
{
    switch (effect) {
    case ECRMOCK_FAULT_LATENCY:
        return M_LATENCY;
    case ECRMOCK_FAULT_TRUNCATE:
        return M_TRUNCATE | M_STATUS; /* the status sent with the cut body */
    case ECRMOCK_FAULT_MALFORM:
        return M_BODY | M_STATUS; /* the status sent with the other body */
    default:
        return M_ERROR | M_MESSAGE | M_STATUS;
    }
}

/* Checks and adds rule `r`.  `json`: the rule came as JSON, so messages name
 * its members as JSON does; `given`: the M_ bits of the members it sets. */
static long add_rule(ecrmock *m, const ecrmock_fault *r, bool json, unsigned given, ecrmock_err *err)
{
#define NAME(bit) (json ? members[bit].json : members[bit].c)
    char why[256];
    if (r->version < 1 || r->version > ECRMOCK_FAULT_VERSION)
        return refuse(err, "fault rule: version is not one this library knows: initialise it with ECRMOCK_FAULT_INIT");
    if (r->action && strcmp(r->action, "*") != 0 && !em_action_find(r->action))
        return refuse(err, "fault rule: action is not an ECR action ecrmock serves (or \"*\" for any)");
    if (r->request_match && !json_is_object(r->request_match))
        return refuse(err, "fault rule: request_match must be a JSON object");
    json_t *headers = r->version >= 2 ? r->headers_match : NULL;
    if (headers && headers_check(headers, err) < 0)
        return -1;
    if (!(r->probability >= 0.0 && r->probability <= 1.0))
        return refuse(err, "fault rule: probability must be between 0 and 1");
    if ((unsigned)r->effect >= N_EFFECTS)
        return refuse(err, "fault rule: effect is not an ecrmock_fault_effect");
    unsigned stray = given & ~effect_members(r->effect);
    for (unsigned bit = 0; stray; bit++) {
        if (stray & 1u << bit) {
            snprintf(why, sizeof why, "fault rule: %s has no effect with the effect \"%s\" (it is for %s)", NAME(bit),
                     effect_names[r->effect], members[bit].used_by);
            return refuse(err, why);
        }
    }
    /* Bounded so that the clock's moves stay far from int64's end. */
    if (r->effect == ECRMOCK_FAULT_LATENCY && (r->latency_ms < 1 || r->latency_ms > ECRMOCK_FAULT_MAX_LATENCY_MS)) {
        snprintf(why, sizeof why, "fault rule: a latency rule needs %s from 1 to %lld (100 years)", NAME(3),
                 (long long)ECRMOCK_FAULT_MAX_LATENCY_MS);
        return refuse(err, why);
    }
    if (r->error && !*r->error)
        return refuse(err, "fault rule: error must be an error name such as \"ThrottlingException\"");
    /* They go into the error document (body, sent as bytes, may be anything). */
    if ((r->error && !em_utf8_ok(r->error)) || (r->message && !em_utf8_ok(r->message)))
        return refuse(err, r->error && !em_utf8_ok(r->error) ? "fault rule: error must be UTF-8"
                                                          : "fault rule: message must be UTF-8");
    if (r->status && (r->status < 400 || r->status > 599))
        return refuse(err, "fault rule: status must be an HTTP error status, 400 to 599");
    /* a tree a caller built: its copy (json_deep_copy) and match recurse */
    if (r->request_match && em_json_too_deep(r->request_match, EM_JSON_MAX_DEPTH))
        return refuse(err, json ? "fault rule: request is nested more than 2048 levels deep, which no request can be"
                                : "fault rule: request_match is nested more than 2048 levels deep, which no request "
                                  "can be");
#undef NAME

    em_fault *f = em_calloc(1, sizeof *f);
    if (!f)
        return refuse_nomem(err);
    atomic_init(&f->refs, 1);
    bool oom = false;
    f->action = r->action && strcmp(r->action, "*") != 0 ? dup_or_null(r->action, &oom) : NULL;
    f->repository = dup_or_null(r->repository, &oom);
    if (effect_members(r->effect) & M_ERROR) {
        bool transport = EM_FAULT_IS_TRANSPORT(r->effect);
        f->error = dup_or_null(r->error ? r->error : transport ? "ServerException" : "ThrottlingException", &oom);
    }
    f->message = dup_or_null(r->message, &oom);
    f->body = dup_or_null(r->body, &oom);
    if (r->request_match && !(f->match = json_deep_copy(r->request_match)))
        oom = true;
    if (headers && !(f->headers = headers_lower(headers)))
        oom = true;
    if (oom) {
        fault_free(f);
        return refuse_nomem(err);
    }
    f->nth = r->nth ? r->nth : 1;
    f->count = r->count;
    f->probability = r->probability;
    f->effect = r->effect;
    f->status = r->status;
    f->latency_ms = r->latency_ms;
    f->truncate_at = r->truncate_at;

    em_lock(m);
    long id = f->id = ++m->fault_ids;
    em_fault **tail = &m->faults;
    while (*tail)
        tail = &(*tail)->next;
    *tail = f;
    em_unlock(m);
    return id; /* not f->id: another thread may have removed the rule, and freed it */
}

long ecrmock_fault_add(ecrmock *m, const ecrmock_fault *r, ecrmock_err *err)
{
    em_err_clear(err);
    if (!m || !r)
        return refuse(err, "ecrmock_fault_add: the instance and the rule must not be NULL");
    if (r->version < 1 || r->version > ECRMOCK_FAULT_VERSION)
        return add_rule(m, r, false, 0, err); /* refused; the other fields may not be there */
    /* The C struct cannot tell a member left out from one set to 0 or NULL. */
    unsigned given = (r->error ? M_ERROR : 0) | (r->message ? M_MESSAGE : 0) | (r->status ? M_STATUS : 0) |
                     (r->latency_ms ? M_LATENCY : 0) | (r->truncate_at ? M_TRUNCATE : 0) | (r->body ? M_BODY : 0);
    return add_rule(m, r, false, given, err);
}

long ecrmock_fault_add_json(ecrmock *m, json_t *rule, ecrmock_err *err)
{
    em_err_clear(err);
    if (!json_is_object(rule))
        return refuse(err, "fault rule: must be a JSON object");
    if (!m)
        return refuse(err, "ecrmock_fault_add_json: the instance must not be NULL");
    ecrmock_fault f = ECRMOCK_FAULT_INIT;
    unsigned given = 0;
    const char *key;
    json_t *v;
    char why[256];
    json_object_foreach(rule, key, v) {
        bool ok = true;
        if (strcmp(key, "action") == 0 || strcmp(key, "repository") == 0 || strcmp(key, "error") == 0 ||
            strcmp(key, "message") == 0 || strcmp(key, "body") == 0) {
            ok = json_is_string(v);
            const char *s = json_string_value(v);
            if (ok && strlen(s) != json_string_length(v)) {
                snprintf(why, sizeof why, "fault rule: %s must not hold a NUL character (\\u0000)", key);
                return refuse(err, why);
            }
            if (key[0] == 'a')
                f.action = s;
            else if (key[0] == 'r')
                f.repository = s;
            else if (key[0] == 'e')
                f.error = s, given |= M_ERROR;
            else if (key[0] == 'm')
                f.message = s, given |= M_MESSAGE;
            else
                f.body = s, given |= M_BODY;
        } else if (strcmp(key, "request") == 0) {
            ok = json_is_object(v);
            f.request_match = v;
        } else if (strcmp(key, "headers") == 0) {
            ok = json_is_object(v);
            f.headers_match = v;
        } else if (strcmp(key, "nth") == 0 || strcmp(key, "count") == 0 || strcmp(key, "status") == 0 ||
                   strcmp(key, "latencyMs") == 0 || strcmp(key, "truncateAt") == 0) {
            ok = json_is_integer(v);
            json_int_t n = json_integer_value(v);
            if (ok && n < 0) {
                snprintf(why, sizeof why, "fault rule: %s must not be negative", key);
                return refuse(err, why);
            }
            if (strcmp(key, "nth") == 0) {
                f.nth = (unsigned long)n;
            } else if (strcmp(key, "count") == 0) {
                f.count = (unsigned long)n;
            } else if (strcmp(key, "status") == 0) {
                f.status = n > 999 ? 1000 : (int)n; /* 1000: refused as any other non-error status */
                given |= M_STATUS;
            } else if (strcmp(key, "latencyMs") == 0) {
                f.latency_ms = n;
                given |= M_LATENCY;
            } else {
                f.truncate_at = (size_t)n;
                given |= M_TRUNCATE;
            }
        } else if (strcmp(key, "probability") == 0) {
            ok = json_is_number(v);
            f.probability = json_number_value(v);
        } else if (strcmp(key, "effect") == 0) {
            ok = false;
            for (size_t i = 0; i < N_EFFECTS && json_is_string(v); i++)
                if (strcmp(json_string_value(v), effect_names[i]) == 0) {
                    f.effect = (ecrmock_fault_effect)i;
                    ok = true;
                }
            if (!ok)
                return refuse(err, "fault rule: effect must be one of \"error\", \"apply-then-error\", \"latency\", "
                                   "\"truncate\", \"malform\", \"connect-refused\", \"timeout\", \"recv-error\"");
        } else {
            snprintf(why, sizeof why, "fault rule: unknown member '%.64s'", key);
            return refuse(err, why);
        }
        if (!ok) {
            snprintf(why, sizeof why, "fault rule: member '%s' has the wrong type", key);
            return refuse(err, why);
        }
    }
    return add_rule(m, &f, true, given, err);
}

int ecrmock_fault_remove(ecrmock *m, long id, ecrmock_err *err)
{
    em_err_clear(err);
    if (!m)
        return em_err_arg(err, "no instance (m is NULL)");
    em_lock(m);
    int rc = -1;
    for (em_fault **p = &m->faults; *p; p = &(*p)->next) {
        if ((*p)->id == id) {
            em_fault *f = *p;
            *p = f->next;
            fault_free(f);
            rc = 0;
            break;
        }
    }
    em_unlock(m);
    return rc == 0 ? 0 : em_err_arg(err, "no fault rule has the id %ld", id);
}

void ecrmock_fault_clear(ecrmock *m)
{
    if (!m)
        return;
    em_lock(m);
    em_faults_free(m);
    em_unlock(m);
}

/* Rule `id`, or NULL (the instance locked). */
static em_fault *find_rule(ecrmock *m, long id)
{
    em_fault *f = m->faults;
    while (f && f->id != id)
        f = f->next;
    return f;
}

unsigned long ecrmock_fault_fired(ecrmock *m, long id)
{
    if (!m)
        return 0;
    em_lock(m);
    em_fault *f = find_rule(m, id);
    unsigned long n = f ? f->fired : 0;
    em_unlock(m);
    return n;
}

/* A rule's string as JSON: a C rule's repository or body may hold bytes
 * that start no UTF-8 sequence, read as U+FFFD (new reference; NULL: no memory). */
static json_t *text(const char *s)
{
    char *clean = em_utf8_copy(s);
    json_t *v = clean ? json_string(clean) : NULL;
    em_free(clean);
    return v;
}

/* Rule f as ecrmock_fault_add_json() takes it (new reference; NULL: no
 * memory): the members it was given, the defaults it was filled with. */
static json_t *rule_json(const em_fault *f)
{
    json_t *o = json_object();
    unsigned used = effect_members(f->effect);
    bool ok = o && em_set(o, "action", json_string(f->action ? f->action : "*")) == 0 &&
              (!f->repository || em_set(o, "repository", text(f->repository)) == 0) &&
              (!f->match || em_set(o, "request", json_deep_copy(f->match)) == 0) &&
              (!f->headers || em_set(o, "headers", json_deep_copy(f->headers)) == 0) &&
              em_set(o, "nth", json_integer((json_int_t)f->nth)) == 0 &&
              (!f->count || em_set(o, "count", json_integer((json_int_t)f->count)) == 0) &&
              (f->probability <= 0 || em_set(o, "probability", json_real(f->probability)) == 0) &&
              em_set(o, "effect", json_string(effect_names[f->effect])) == 0 &&
              (!f->error || em_set(o, "error", json_string(f->error)) == 0) &&
              (!f->message || em_set(o, "message", json_string(f->message)) == 0) &&
              (!f->status || em_set(o, "status", json_integer(f->status)) == 0) &&
              (!(used & M_LATENCY) || em_set(o, "latencyMs", json_integer((json_int_t)f->latency_ms)) == 0) &&
              (!(used & M_TRUNCATE) || em_set(o, "truncateAt", json_integer((json_int_t)f->truncate_at)) == 0) &&
              (!f->body || em_set(o, "body", text(f->body)) == 0);
    if (!ok) {
        json_decref(o);
        return NULL;
    }
    return o;
}

json_t *ecrmock_faults_json(ecrmock *m, ecrmock_err *err)
{
    em_err_clear(err);
    if (!m) {
        em_err_arg(err, "no instance (m is NULL)");
        return NULL;
    }
    json_t *list = json_array();
    em_lock(m);
    for (em_fault *f = m->faults; f && list; f = f->next) {
        json_t *rule = rule_json(f);
        /* "o" takes the rule, even when the pack fails */
        json_t *one = rule ? json_pack("{s:I, s:I, s:I, s:o}", "id", (json_int_t)f->id, "fired",
                                       (json_int_t)f->fired, "seen", (json_int_t)f->seen, "rule", rule)
                           : NULL;
        if (!one || json_array_append_new(list, one) < 0) { /* appending takes `one`, even when it fails */
            json_decref(list);
            list = NULL;
        }
    }
    em_unlock(m);
    if (!list)
        em_err_nomem(err);
    return list;
}

/* ---- deciding a call ---------------------------------------------------------------- */

/* Whether every member of `want` equals the one in `have` (objects: subset). */
static bool subset(json_t *want, json_t *have)
{
    if (!json_is_object(want) || !json_is_object(have))
        return json_equal(want, have);
    const char *key;
    json_t *v;
    json_object_foreach(want, key, v) {
        if (!subset(v, json_object_get(have, key)))
            return false;
    }
    return true;
}

/* A uniform draw in [0, 1) from the fault stream: SHA-256 of a label, the
 * seed and the draw's number. */
static double draw(ecrmock *m)
{
    unsigned char out[32];
    em_seeded_draw("ecrmock faults", m->seed, m->fault_draws++, out);
    uint64_t r = 0;
    for (int i = 0; i < 8; i++)
        r = r << 8 | out[i];
    return (double)(r >> 11) / 9007199254740992.0; /* 53 bits */
}

/* Whether the call's headers (em_headers_json(); NULL: no HTTP) satisfy a
 * rule's headers: each named one equal to its string, present (true) or
 * absent (false). */
static bool headers_match(json_t *want, json_t *have)
{
    if (!have)
        return false;
    const char *key;
    json_t *v;
    json_object_foreach(want, key, v) {
        json_t *h = json_object_get(have, key);
        if (json_is_string(v) ? !json_equal(v, h) : json_is_true(v) != (h != NULL))
            return false;
    }
    return true;
}

void em_faults_decide(ecrmock *m, const em_action *a, json_t *req, json_t *headers, em_fault_decision *d)
{
    memset(d, 0, sizeof *d);
    const char *repo = json_is_object(req) ? em_get_str(req, "repositoryName") : NULL;
    for (em_fault *f = m->faults; f; f = f->next) {
        if (f->action && strcmp(f->action, a->name) != 0)
            continue;
        if (f->repository && (!repo || strcmp(f->repository, repo) != 0))
            continue;
        if (f->match && !subset(f->match, req))
            continue;
        if (f->headers && !headers_match(f->headers, headers))
            continue;
        f->seen++;
        if (f->seen < f->nth || (f->count && f->fired >= f->count))
            continue;
        if (f->effect != ECRMOCK_FAULT_LATENCY && d->rule)
            continue; /* another rule decides this call; this one waits */
        if (f->probability > 0 && draw(m) >= f->probability)
            continue;
        f->fired++;
        if (f->effect == ECRMOCK_FAULT_LATENCY) {
            /* latency_ms is at most ECRMOCK_FAULT_MAX_LATENCY_MS; the clock stops at its end */
            em_clock_put(m, m->clock_ms > ECRMOCK_CLOCK_MAX_MS - f->latency_ms ? ECRMOCK_CLOCK_MAX_MS
                                                                                : m->clock_ms + f->latency_ms);
            if (!d->rule_id)
                d->rule_id = f->id;
            continue;
        }
        atomic_fetch_add(&f->refs, 1); /* the call's, dropped by em_fault_decision_release() */
        d->rule = f;
        d->rule_id = f->id;
        d->effect = f->effect;
        d->error = f->error;
        d->message = f->message;
        /* truncate and malform (no error): 0 unless set, the action's own status */
        d->status = f->status ? f->status : f->error ? em_error_status(f->error) : 0;
        d->truncate_at = f->truncate_at;
        d->body = f->body;
    }
}

void em_fault_decision_release(em_fault_decision *d)
{
    fault_free(d->rule);
    memset(d, 0, sizeof *d);
}
