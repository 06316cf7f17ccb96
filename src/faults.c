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
 */
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "internal.h"

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
    em_fault *next;
};

static void fault_free(em_fault *f)
{
    if (!f)
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

static long refuse(char **err, const char *why)
{
    if (err)
        *err = em_strdup(why);
    return -1;
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
static int headers_check(json_t *h, char **err)
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
        for (char *p = name; p && *p; p++)
            if (*p >= 'A' && *p <= 'Z')
                *p = (char)(*p - 'A' + 'a');
        if (!o || !name || json_object_set(o, name, v) < 0) {
            em_free(name);
            json_decref(o);
            return NULL;
        }
        em_free(name);
    }
    return o;
}

long ecrmock_fault_add(ecrmock *m, const ecrmock_fault *r, char **err)
{
    if (err)
        *err = NULL;
    if (!m || !r)
        return refuse(err, "ecrmock_fault_add: the instance and the rule must not be NULL");
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
    if ((unsigned)r->effect > ECRMOCK_FAULT_RECV_ERROR)
        return refuse(err, "fault rule: effect is not an ecrmock_fault_effect");
    if (r->effect == ECRMOCK_FAULT_LATENCY && r->latency_ms <= 0)
        return refuse(err, "fault rule: a latency rule needs latency_ms > 0");
    if (r->error && !*r->error)
        return refuse(err, "fault rule: error must be an error name such as \"ThrottlingException\"");
    if (r->status && (r->status < 400 || r->status > 599))
        return refuse(err, "fault rule: status must be an HTTP error status, 400 to 599");

    em_fault *f = em_calloc(1, sizeof *f);
    if (!f)
        return refuse(err, "fault rule: out of memory");
    bool oom = false;
    f->action = r->action && strcmp(r->action, "*") != 0 ? dup_or_null(r->action, &oom) : NULL;
    f->repository = dup_or_null(r->repository, &oom);
    bool transport = r->effect >= ECRMOCK_FAULT_CONNECT_REFUSED;
    f->error = dup_or_null(r->error ? r->error : transport ? "ServerException" : "ThrottlingException", &oom);
    f->message = dup_or_null(r->message, &oom);
    f->body = dup_or_null(r->body, &oom);
    if (r->request_match && !(f->match = json_deep_copy(r->request_match)))
        oom = true;
    if (headers && !(f->headers = headers_lower(headers)))
        oom = true;
    if (oom) {
        fault_free(f);
        return refuse(err, "fault rule: out of memory");
    }
    f->nth = r->nth ? r->nth : 1;
    f->count = r->count;
    f->probability = r->probability;
    f->effect = r->effect;
    f->status = r->status;
    f->latency_ms = r->latency_ms;
    f->truncate_at = r->truncate_at;

    em_lock(m);
    f->id = ++m->fault_ids;
    em_fault **tail = &m->faults;
    while (*tail)
        tail = &(*tail)->next;
    *tail = f;
    em_unlock(m);
    return f->id;
}

static const char *const effect_names[] = {"error",    "apply-then-error", "latency",   "truncate",
                                           "malform",  "connect-refused",  "timeout",   "recv-error"};
#define N_EFFECTS (sizeof effect_names / sizeof effect_names[0])

const char *em_fault_effect_name(ecrmock_fault_effect effect)
{
    return (unsigned)effect < N_EFFECTS ? effect_names[effect] : NULL;
}

long ecrmock_fault_add_json(ecrmock *m, json_t *rule, char **err)
{
    if (err)
        *err = NULL;
    if (!json_is_object(rule))
        return refuse(err, "fault rule: must be a JSON object");
    ecrmock_fault f = ECRMOCK_FAULT_INIT;
    const char *key;
    json_t *v;
    char why[256];
    json_object_foreach(rule, key, v) {
        bool ok = true;
        if (strcmp(key, "action") == 0 || strcmp(key, "repository") == 0 || strcmp(key, "error") == 0 ||
            strcmp(key, "message") == 0 || strcmp(key, "body") == 0) {
            ok = json_is_string(v);
            const char *s = json_string_value(v);
            if (key[0] == 'a')
                f.action = s;
            else if (key[0] == 'r')
                f.repository = s;
            else if (key[0] == 'e')
                f.error = s;
            else if (key[0] == 'm')
                f.message = s;
            else
                f.body = s;
        } else if (strcmp(key, "request") == 0) {
            ok = json_is_object(v);
            f.request_match = v;
        } else if (strcmp(key, "headers") == 0) {
            ok = json_is_object(v);
            f.headers_match = v;
        } else if (strcmp(key, "nth") == 0 || strcmp(key, "count") == 0 || strcmp(key, "status") == 0 ||
                   strcmp(key, "latencyMs") == 0 || strcmp(key, "truncateAt") == 0) {
            ok = json_is_integer(v) && json_integer_value(v) >= 0;
            json_int_t n = json_integer_value(v);
            if (strcmp(key, "nth") == 0)
                f.nth = (unsigned long)n;
            else if (strcmp(key, "count") == 0)
                f.count = (unsigned long)n;
            else if (strcmp(key, "status") == 0)
                f.status = n > 999 ? 1000 : (int)n;
            else if (strcmp(key, "latencyMs") == 0)
                f.latency_ms = n;
            else
                f.truncate_at = (size_t)n;
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
    return ecrmock_fault_add(m, &f, err);
}

int ecrmock_fault_remove(ecrmock *m, long id)
{
    if (!m)
        return -1;
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
    return rc;
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
    unsigned char in[32] = "ecrmock faults", out[32];
    uint64_t s = m->seed, c = m->fault_draws++;
    for (int i = 0; i < 8; i++) {
        in[16 + i] = (unsigned char)(s >> (8 * i));
        in[24 + i] = (unsigned char)(c >> (8 * i));
    }
    EVP_Digest(in, sizeof in, out, NULL, EVP_sha256(), NULL);
    uint64_t r = 0;
    for (int i = 0; i < 8; i++)
        r = r << 8 | out[i];
    return (double)(r >> 11) / 9007199254740992.0; /* 53 bits */
}

static const char *default_message(const char *error)
{
    if (strcmp(error, "ThrottlingException") == 0)
        return "Rate exceeded";
    if (strcmp(error, "ServerException") == 0)
        return "We encountered an internal error. Please try again.";
    if (strcmp(error, "ServiceUnavailableException") == 0)
        return "Service Unavailable";
    return "The request failed: injected by an ecrmock fault rule";
}

int em_error_status(const char *error)
{
    ecrmock_error code = ecrmock_error_from_name(error);
    return code == ECRMOCK_ERR__COUNT ? 400 : ecrmock_error_status(code);
}

json_t *em_injected_error(const char *error, const char *message)
{
    return json_pack("{s:s, s:s}", "__type", error, "message", message ? message : default_message(error));
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

void em_faults_decide(ecrmock *m, const char *action, json_t *req, json_t *headers, em_fault_decision *d)
{
    memset(d, 0, sizeof *d);
    const char *repo = json_is_object(req) ? em_str(req, "repositoryName") : NULL;
    for (em_fault *f = m->faults; f; f = f->next) {
        if (f->action && strcmp(f->action, action) != 0)
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
            m->clock_ms += f->latency_ms;
            if (!d->rule_id)
                d->rule_id = f->id;
            continue;
        }
        d->rule = f;
        d->rule_id = f->id;
        d->effect = f->effect;
        d->error = f->error;
        d->message = f->message;
        d->status = f->status ? f->status : em_error_status(f->error);
        d->truncate_at = f->truncate_at;
        d->body = f->body;
    }
}
