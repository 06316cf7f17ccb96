/*
 * The wire level: AWS JSON 1.1 bodies in and out, exactly as ECR sends them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/*
 * The response serialiser.  Its bytes are exactly those of jansson's
 * json_dump_callback(doc, ..., JSON_COMPACT | JSON_REAL_PRECISION(15)):
 * members in the order they were set, no spaces, '"', '\\' and control
 * characters escaped as jansson escapes them ("\n", "\u001F"), '/' and
 * non-ASCII characters as they are, and reals formatted by jansson itself.
 * It is ecrmock's own because jansson's encoder spends most of its time on
 * things a response never needs: a cycle check that formats each object's
 * address with snprintf and puts it in a hash table, and a code-point
 * iteration of every string.  Like jansson's, it fails on a string that is
 * not UTF-8 (jansson's own strings never are; json_stringn_nocheck's may be).
 */
#define DUMP_MAX_DEPTH 2048

static int dump_string(em_buf *b, const char *str, size_t len)
{
    const unsigned char *p = (const unsigned char *)str, *end = p + len;
    /* Room for the text as it is and both quotes: plain runs and UTF-8
     * sequences take as many bytes as they read, so only an escape needs
     * more (reserved when one comes).  Invariant: the room left is at least
     * what is left to read, plus one for the closing quote. */
    /* a short text gets room for the worst case (every byte a \u00XX)
     * at once, and no escape has to ask for more */
    bool roomy = len <= 4096;
    if (em_buf_reserve(b, roomy ? 6 * len + 2 : len + 2) < 0)
        return -1;
    unsigned char *o = b->data + b->len;
    *o++ = '"';
    while (p < end) {
        const unsigned char *run = p;
        p = em_plain_run(p, end);
        memcpy(o, run, (size_t)(p - run));
        o += p - run;
        if (p == end)
            break;
        if (*p >= 0x80) {
            size_t n = em_utf8_seq(p, end);
            if (!n)
                return -1;
            memcpy(o, p, n);
            o += n;
            p += n;
            continue;
        }
        if (!roomy) {
            b->len = (size_t)(o - b->data);
            if (em_buf_reserve(b, (size_t)(end - p) + 6 + 1) < 0)
                return -1;
            o = b->data + b->len;
        }
        *o++ = '\\';
        switch (*p) {
        case '\\': *o++ = '\\'; break;
        case '"': *o++ = '"'; break;
        case '\b': *o++ = 'b'; break;
        case '\f': *o++ = 'f'; break;
        case '\n': *o++ = 'n'; break;
        case '\r': *o++ = 'r'; break;
        case '\t': *o++ = 't'; break;
        default:
            /* jansson's \u00XX, upper-case hex */
            memcpy(o, "u00", 3);
            o[3] = "0123456789ABCDEF"[*p >> 4];
            o[4] = "0123456789ABCDEF"[*p & 15];
            o += 5;
            break;
        }
        p++;
    }
    *o++ = '"';
    b->len = (size_t)(o - b->data);
    return 0;
}

/* em_buf_append, with the room check inline: the encoder appends a byte of
 * punctuation at a time. */
static inline int put(em_buf *b, const char *p, size_t n)
{
    if (b->cap - b->len < n && em_buf_reserve(b, n) < 0)
        return -1;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

/* An integer as "%" JSON_INTEGER_FORMAT writes it. */
static int put_integer(em_buf *b, json_int_t v)
{
    char text[24], *e = text + sizeof text, *s = e;
    unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
    do
        *--s = (char)('0' + u % 10);
    while (u /= 10);
    if (v < 0)
        *--s = '-';
    return put(b, s, (size_t)(e - s));
}

static int dump_value(em_buf *b, json_t *v, int depth)
{
    if (depth > DUMP_MAX_DEPTH)
        return -1;
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        if (put(b, "{", 1) < 0)
            return -1;
        for (void *it = json_object_iter(v), *first = it; it; it = json_object_iter_next(v, it)) {
            if ((it != first && put(b, ",", 1) < 0) ||
                dump_string(b, json_object_iter_key(it), json_object_iter_key_len(it)) < 0 ||
                put(b, ":", 1) < 0 || dump_value(b, json_object_iter_value(it), depth + 1) < 0)
                return -1;
        }
        return put(b, "}", 1);
    }
    case JSON_ARRAY: {
        size_t i;
        json_t *item;
        if (put(b, "[", 1) < 0)
            return -1;
        json_array_foreach(v, i, item) {
            if ((i && put(b, ",", 1) < 0) || dump_value(b, item, depth + 1) < 0)
                return -1;
        }
        return put(b, "]", 1);
    }
    case JSON_STRING: return dump_string(b, json_string_value(v), json_string_length(v));
    case JSON_INTEGER: return put_integer(b, json_integer_value(v));
    case JSON_REAL: {
        /* jansson's own formatting (%.15g, ".0" added, exponent trimmed) */
        char text[128];
        size_t n = json_dumpb(v, text, sizeof text, JSON_ENCODE_ANY | JSON_COMPACT | JSON_REAL_PRECISION(15));
        return n && n <= sizeof text ? put(b, text, n) : -1;
    }
    case JSON_TRUE: return put(b, "true", 4);
    case JSON_FALSE: return put(b, "false", 5);
    case JSON_NULL: return put(b, "null", 4);
    }
    return -1;
}

/* Serialises a response the way the service does (see above).  The body is
 * malloc'd by ecrmock (not by jansson, whose allocator a program may have
 * replaced), so that free() is always right. */
int em_wire_dump(json_t *doc, char **out, size_t *out_len)
{
    em_buf b = {0};
    if (!json_is_object(doc) && !json_is_array(doc))
        return -1;
    /* 1000 bytes: most responses fit, and glibc serves a request this size
     * from its per-thread cache; starting at 512 cost three allocations (and
     * a consolidation of the heap's free lists) for a 1.5 KB response */
    if (em_buf_reserve(&b, 1000) < 0 || dump_value(&b, doc, 0) < 0 || em_buf_append(&b, "", 1) < 0) {
        em_buf_release(&b);
        return -1;
    }
    *out_len = b.len - 1;
    *out = (char *)b.data;
    return 0;
}

/* A framework-level error document, for what never reaches an action. */
static json_t *framework_error(const char *type, const char *message)
{
    if (!message)
        return json_pack("{s:s}", "__type", type);
    return json_pack("{s:s, s:s}", "__type", type, "Message", message);
}

/* A fault rule's damage to the bytes: a cut body, or another body. */
static int apply_wire_fault(const em_fault_decision *fx, char **body, size_t *len)
{
    if (fx->effect == ECRMOCK_FAULT_TRUNCATE) {
        if (fx->truncate_at < *len) {
            *len = fx->truncate_at;
            (*body)[*len] = '\0';
        }
        return 0;
    }
    const char *text = fx->body ? fx->body : "<html><body><h1>502 Bad Gateway</h1></body></html>";
    char *copy = em_strdup(text);
    if (!copy)
        return -1;
    em_free(*body);
    *body = copy;
    *len = strlen(copy);
    return 0;
}

int ecrmock_call_raw(ecrmock *m, const char *target, const char *body, size_t body_len, char **response,
                     size_t *response_len)
{
    return em_call_raw(m, target, body, body_len, response, response_len, NULL, NULL);
}

int em_call_raw(ecrmock *m, const char *target, const char *body, size_t body_len, char **response,
                size_t *response_len, const ecrmock_http_request *http, ecrmock_fault_effect *transport)
{
    if (transport)
        *transport = ECRMOCK_FAULT_ERROR;
    if (response)
        *response = NULL;
    if (response_len)
        *response_len = 0;
    if (!response || !response_len)
        return -1;
    if (!m || !target)
        return -1;

    const char *action = target;
    size_t plen = strlen(ECRMOCK_TARGET_PREFIX);
    if (strncmp(target, ECRMOCK_TARGET_PREFIX, plen) == 0)
        action = target + plen;
    else if (strchr(target, '.'))
        action = ""; /* another service's target: no such operation here */

    json_t *req = NULL, *resp = NULL;
    int status;
    em_fault_decision fx = {0};
    if (!em_action_find(action)) {
        status = em_dispatch_http(m, action, NULL, &resp, NULL, http); /* journaled like any call */
    } else if (body && body_len) {
        json_error_t jerr;
        /* Any JSON value: a top-level string or number is valid JSON, and
         * the validator words its type mismatch like any other. */
        bool oom = false;
        req = em_json_parse(body, body_len, &oom); /* json_parse.c: jansson's tree, sooner */
        if (!req && !oom)
            req = json_loadb(body, body_len, JSON_DECODE_ANY, &jerr);
        if (!req && (oom || json_error_code(&jerr) == json_error_out_of_memory)) {
            resp = json_pack("{s:s, s:s}", "__type", "ServerException", "message",
                             "ecrmock ran out of memory while handling the request");
            status = 500;
        } else if (!req) {
            char msg[128];
            if (json_error_code(&jerr) == json_error_numeric_overflow)
                snprintf(msg, sizeof msg, "Numeric value out of range of long (at character %d)", jerr.position);
            else
                snprintf(msg, sizeof msg, "The request body is not valid JSON (at character %d)", jerr.position);
            resp = framework_error("SerializationException", msg);
            status = 400;
            em_journal_note note = {.effect = -1, .headers = http ? em_headers_json(http) : NULL};
            if (http && !note.headers) {
                json_decref(resp);
                resp = NULL; /* no memory */
            } else {
                em_lock(m);
                em_journal_record(m, action, json_null(), status, resp, &note); /* no JSON request */
                em_unlock(m);
            }
            json_decref(note.headers);
        } else {
            status = em_dispatch_http(m, action, req, &resp, &fx, http);
        }
    } else {
        status = em_dispatch_http(m, action, NULL, &resp, &fx, http);
    }
    json_decref(req);
    if (status < 0 || !resp || em_wire_dump(resp, response, response_len) < 0) {
        json_decref(resp);
        return -1;
    }
    json_decref(resp);
    if (fx.rule && EM_FAULT_IS_TRANSPORT(fx.effect)) {
        if (transport)
            *transport = fx.effect;
    } else if (fx.rule && apply_wire_fault(&fx, response, response_len) < 0) {
        em_free(*response);
        *response = NULL;
        *response_len = 0;
        return -1;
    }
    return status;
}
