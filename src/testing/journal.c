/*
 * The call journal and the per-action call counters.
 *
 * The journal is a ring of the last `journal_limit` calls; each entry holds
 * its own copies of the request and the response, so what a caller does
 * with its objects afterwards cannot change the record, and hands out
 * copies again, so that an entry held is the holder's alone.
 */
#define _GNU_SOURCE /* strncasecmp */
#include <string.h>
#include <strings.h>

#include "testing/testing.h"

struct em_journal_entry {
    uint64_t seq;
    char *action;
    json_t *request, *response;
    json_t *headers; /* the HTTP request's (em_headers_json), or NULL */
    int status;
    long fault;
    int effect;      /* the effect that fired, or -1 */
    bool ran;
    int64_t at_ms;
    const char *plane; /* static; NULL: the API */
};

static void entry_release(em_journal_entry *e)
{
    em_free(e->action);
    json_decref(e->request);
    json_decref(e->response);
    json_decref(e->headers);
    memset(e, 0, sizeof *e);
}

void em_journal_free(ecrmock *m)
{
    for (size_t i = 0; i < m->journal_len; i++)
        entry_release(&m->journal[(m->journal_head + i) % m->journal_cap]);
    em_free(m->journal);
    m->journal = NULL;
    m->journal_len = m->journal_head = m->journal_cap = 0;
    m->journal_dropped = 0;
}

/* v (em_malloc'd, taken) with its credential elided: a Basic token whole, or the value
 * of its Signature component
 * ',' or the end) replaced by "<elided>"; NULL: no memory. */
static char *elide_signature(char *v)
{
    /* The registry plane's Basic credentials: the token, elided too. */
    if (strncasecmp(v, "Basic ", 6) == 0) {
        char *e = em_sprintf("%.6s<elided>", v);
        em_free(v);
        return e;
    }
    /* The component named Signature (after a space or a comma), not the
     * text "Signature=" inside another one ("Credential=Signature=..."). */
    char *sig = strstr(v, "Signature=");
    while (sig && sig > v && sig[-1] != ' ' && sig[-1] != ',')
        sig = strstr(sig + 1, "Signature=");
    if (!sig)
        return v;
    sig += strlen("Signature=");
    char *e = em_sprintf("%.*s<elided>%s", (int)(sig - v), v, sig + strcspn(sig, ","));
    em_free(v);
    return e;
}

/* The values of a repeated header joined by ", " (new reference). */
static json_t *joined(json_t *values)
{
    em_buf b = {0};
    size_t i;
    json_t *v;
    json_array_foreach(values, i, v) {
        if ((i && em_buf_append(&b, ", ", 2) < 0) || em_buf_append(&b, json_string_value(v), json_string_length(v)) < 0) {
            em_buf_release(&b);
            return NULL;
        }
    }
    json_t *r = json_stringn_nocheck(b.len ? (const char *)b.data : "", b.len); /* UTF-8 pieces */
    em_buf_release(&b);
    return r;
}

json_t *em_headers_json(const ecrmock_http_request *http)
{
    /* name -> [values, in the order sent], then each list as one string:
     * linear however often a name repeats */
    json_t *o = json_object();
    for (size_t i = 0; o && i < http->n_headers; i++) {
        char *name = em_utf8_copy(http->headers[i].name), *value = em_utf8_copy(http->headers[i].value);
        for (char *p = name; p && *p; p++)
            if (*p >= 'A' && *p <= 'Z')
                *p = (char)(*p - 'A' + 'a');
        if (value && name && strcmp(name, "authorization") == 0)
            value = elide_signature(value);
        json_t *values = name ? json_object_get(o, name) : NULL;
        if (!values && name && em_set(o, name, values = json_array()) < 0)
            values = NULL;
        if (!value || !values || json_array_append_new(values, json_string(value)) < 0) {
            json_decref(o);
            o = NULL;
        }
        em_free(name);
        em_free(value);
    }
    const char *key;
    json_t *values;
    json_object_foreach(o, key, values) {
        json_t *one = json_array_size(values) == 1 ? json_incref(json_array_get(values, 0)) : joined(values);
        if (!one || json_object_set_new_nocheck(o, key, one) < 0) {
            json_decref(o);
            return NULL;
        }
    }
    return o;
}

/* A registry-plane UploadLayerPart's request (copied, in the entry):
 * layerPartLength becomes the part's bytes as the JSON level sends them,
 * base64 layerPartBlob, so that the entry is the call a recording replays.
 * -1: no memory. */
static int registry_part(json_t *req, const unsigned char *part, size_t len)
{
    size_t n;
    char *b64 = em_base64(part, len, &n);
    json_t *blob = b64 ? json_stringn_nocheck(b64, n) : NULL;
    em_free(b64);
    if (!blob || json_object_set_new_nocheck(req, "layerPartBlob", blob) < 0)
        return -1;
    json_object_del(req, "layerPartLength");
    return 0;
}

void em_journal_record(ecrmock *m, const em_action *a, const char *action, json_t *req, int status, json_t *resp,
                       const em_journal_note *note)
{
    static const em_journal_note nothing = {.effect = -1};
    if (!note)
        note = &nothing;
    int idx = -1;
    if (a) {
        idx = (int)(a - em_actions);
        action = a->name;
    }
    /* A refused connection or a timeout never reached ECR: not a call. */
    if (note->effect != ECRMOCK_FAULT_CONNECT_REFUSED && note->effect != ECRMOCK_FAULT_TIMEOUT)
        m->calls[idx < 0 ? EM_MAX_ACTIONS : idx]++;
    if (note->ran && idx >= 0)
        m->runs[idx]++;
    if (!m->journal_on || m->opts.journal_limit == 0)
        return;
    if (!m->journal) {
        size_t cap = m->opts.journal_limit < 64 ? m->opts.journal_limit : 64;
        m->journal = em_calloc(cap, sizeof *m->journal);
        if (!m->journal) {
            m->journal_dropped++; /* the journal is a test aid: a record lost to memory is counted */
            return;
        }
        m->journal_cap = cap;
    } else if (m->journal_len == m->journal_cap && m->journal_cap < m->opts.journal_limit) {
        size_t cap = m->journal_cap * 2 < m->opts.journal_limit ? m->journal_cap * 2 : m->opts.journal_limit;
        em_journal_entry *j = em_calloc(cap, sizeof *j);
        if (j) {
            for (size_t i = 0; i < m->journal_len; i++)
                j[i] = m->journal[(m->journal_head + i) % m->journal_cap];
            em_free(m->journal);
            m->journal = j;
            m->journal_cap = cap;
            m->journal_head = 0;
        }
    }
    em_journal_entry e = {.seq = ++m->journal_seq, .status = status, .fault = note->fault, .effect = note->effect,
                          .ran = note->ran, .at_ms = m->clock_ms};
    e.action = em_utf8_copy(action);
    e.request = req ? json_deep_copy(req) : json_object();
    e.response = resp ? json_deep_copy(resp) : json_null();
    e.headers = note->headers ? json_deep_copy(note->headers) : NULL;
    e.plane = note->plane;
    if (!e.action || !e.request || !e.response || (note->headers && !e.headers) ||
        (note->raw_part && registry_part(e.request, note->raw_part, note->raw_part_len) < 0)) {
        entry_release(&e);
        m->journal_dropped++;
        return;
    }
    if (m->journal_len == m->journal_cap) {
        entry_release(&m->journal[m->journal_head]);
        m->journal[m->journal_head] = e;
        m->journal_head = (m->journal_head + 1) % m->journal_cap;
        m->journal_dropped++;
    } else {
        m->journal[(m->journal_head + m->journal_len) % m->journal_cap] = e;
        m->journal_len++;
    }
}

/* Entry e as the caller gets it (new reference): its request and response
 * are copies, so that the caller may change them, or drop them on another
 * thread, without touching the journal's (jansson's reference counts are
 * not a lock). */
static json_t *entry_json(const em_journal_entry *e)
{
    json_t *o = json_pack("{s:I, s:s, s:o, s:i}", "seq", (json_int_t)e->seq, "action", e->action, "request",
                          json_deep_copy(e->request), "status", e->status);
    if (!o)
        return NULL;
    const char *type = json_string_value(json_object_get(e->response, "__type"));
    if ((e->status != 200 && type && em_set(o, "error", json_string(type)) < 0) ||
        em_set(o, "response", json_deep_copy(e->response)) < 0 || em_set(o, "time", em_time(e->at_ms)) < 0 ||
        em_set(o, "ran", json_boolean(e->ran)) < 0 || (e->fault && em_set(o, "fault", json_integer(e->fault)) < 0) ||
        (e->effect >= 0 && em_set(o, "effect", json_string(em_fault_effect_name(e->effect))) < 0) ||
        (e->headers && em_set(o, "headers", json_deep_copy(e->headers)) < 0) ||
        (e->plane && em_set(o, "plane", json_string(e->plane)) < 0)) {
        json_decref(o);
        return NULL;
    }
    return o;
}

void ecrmock_journal_enable(ecrmock *m, int on)
{
    if (!m)
        return;
    em_lock(m);
    m->journal_on = on != 0;
    em_unlock(m);
}

void ecrmock_journal_clear(ecrmock *m)
{
    if (!m)
        return;
    em_lock(m);
    em_journal_free(m);
    em_unlock(m);
}

size_t ecrmock_journal_length(ecrmock *m)
{
    if (!m)
        return 0;
    em_lock(m);
    size_t n = m->journal_len;
    em_unlock(m);
    return n;
}

size_t ecrmock_journal_dropped(ecrmock *m)
{
    if (!m)
        return 0;
    em_lock(m);
    size_t n = m->journal_dropped;
    em_unlock(m);
    return n;
}

json_t *ecrmock_journal_entry(ecrmock *m, long index, ecrmock_err *err)
{
    em_err_clear(err);
    if (!m) {
        em_err_arg(err, "no instance (m is NULL)");
        return NULL;
    }
    em_lock(m);
    json_t *o = NULL;
    long len = (long)m->journal_len;
    long at = index < 0 ? index + len : index;
    bool held = at >= 0 && at < len;
    if (held)
        o = entry_json(&m->journal[(m->journal_head + (size_t)at) % m->journal_cap]);
    em_unlock(m);
    if (!held)
        em_err_arg(err, "no journal entry %ld: the journal holds %ld", index, len);
    else if (!o)
        em_err_nomem(err);
    return o;
}

json_t *ecrmock_journal_json(ecrmock *m, ecrmock_err *err)
{
    em_err_clear(err);
    if (!m) {
        em_err_arg(err, "no instance (m is NULL)");
        return NULL;
    }
    json_t *list = json_array();
    em_lock(m);
    for (size_t i = 0; list && i < m->journal_len; i++) {
        if (json_array_append_new(list, entry_json(&m->journal[(m->journal_head + i) % m->journal_cap])) < 0) {
            json_decref(list);
            list = NULL;
        }
    }
    em_unlock(m);
    if (!list)
        em_err_nomem(err);
    return list;
}

/* counters[action], or (action NULL) the sum of the first n, read under the lock. */
static unsigned long count(ecrmock *m, const char *action, const unsigned long *counters, size_t n)
{
    unsigned long sum = 0;
    em_lock(m);
    if (!action) {
        for (size_t i = 0; i < n; i++)
            sum += counters[i];
    } else {
        const em_action *a = em_action_find(action);
        if (a)
            sum = counters[a - em_actions];
    }
    em_unlock(m);
    return sum;
}

unsigned long ecrmock_call_count(ecrmock *m, const char *action)
{
    return m ? count(m, action, m->calls, EM_MAX_ACTIONS + 1) : 0;
}

unsigned long ecrmock_run_count(ecrmock *m, const char *action)
{
    return m ? count(m, action, m->runs, EM_MAX_ACTIONS) : 0;
}
