/*
 * The request parser's fast path.
 *
 * jansson's json_loadb reads a body one character at a time through a
 * stream abstraction, and costs about ten times what building the same tree
 * costs (1.4 us against 0.13 us for a 130-byte DescribeImages request; see
 * bench/PROFILE.md): on the wire level it was a quarter of every call, and
 * PutImage paid it again for the manifest.  em_json_parse builds the same
 * jansson tree in one pass over the bytes, for the JSON that clients send:
 * objects, arrays, strings, integers, true, false and null.
 *
 * It never decides anything jansson would decide differently, because it
 * decides nothing hard: on anything it does not take (a real number, a
 * surrogate escape, \u0000, an integer of 19 digits or more, nesting deeper
 * than FAST_MAX_DEPTH, a syntax error, invalid UTF-8, anything after the
 * value) it returns NULL and the caller parses the body with json_loadb,
 * whose result and error text are then the answer.  When an allocation
 * fails it says so (*oom), so that the caller answers "out of memory" as it
 * would for jansson, and does not parse the body a second time.
 *
 * What it does take, it builds exactly as json_loadb does: the same values
 * and types, members in the same order, a repeated key's last value in its
 * first place (json_object_set's rule).  tests/fuzz/fuzz_json.c checks that
 * on every input it accepts, and tests/unit/test_json_parse.c pins the edges.
 */
#include <string.h>

#include "base/base.h"

#define FAST_MAX_DEPTH 64

typedef struct parser {
    const unsigned char *p, *end;
    unsigned char small[1024]; /* a short string's text after unescaping */
    em_buf scratch;            /* a longer one's */
    bool oom;                  /* an allocation failed (not "not taken") */
} parser;

/* v, or NULL with ps->oom set when the allocation that made it failed */
static json_t *made(parser *ps, json_t *v)
{
    if (!v)
        ps->oom = true;
    return v;
}

static json_t *value(parser *ps, int depth);

static inline void skip_ws(parser *ps)
{
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\n' || *ps->p == '\r' || *ps->p == '\t'))
        ps->p++;
}

static int hex4(const unsigned char *p, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned char c = p[i];
        unsigned d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            d = c - 'A' + 10;
        else
            return -1;
        v = v << 4 | d;
    }
    *out = v;
    return 0;
}

/* The string at ps->p (just past its opening quote): its text, in place when
 * it has no escapes, else unescaped into ps->small or ps->scratch (*copied
 * set: the text lives until the next string).  NULL when the fast path does
 * not take it. */
static const char *string(parser *ps, size_t *len, bool *copied)
{
    const unsigned char *start = ps->p, *p = ps->p, *end = ps->end;
    *copied = false;
    /* the common case: plain ASCII up to the closing quote */
    p = em_plain_run(p, end);
    if (p < end && *p == '"') {
        ps->p = p + 1;
        *len = (size_t)(p - start);
        return (const char *)start;
    }
    /* Unescaped, the text is never longer than what is left of the body:
     * room for that once (on the stack when it is small), then every byte
     * is written without asking again. */
    size_t room = (size_t)(end - start) + 1;
    unsigned char *buf = ps->small;
    if (room > sizeof ps->small) {
        if (em_buf_reserve(&ps->scratch, room) < 0) {
            ps->oom = true;
            return NULL;
        }
        buf = ps->scratch.data;
    }
    unsigned char *o = buf;
    memcpy(o, start, (size_t)(p - start));
    o += p - start;
    while (p < end && *p != '"') {
        const unsigned char *run = p;
        p = em_plain_run(p, end);
        memcpy(o, run, (size_t)(p - run));
        o += p - run;
        if (p == end || *p == '"')
            break;
        if (*p >= 0x80) {
            size_t n = em_utf8_seq(p, end);
            if (!n)
                return NULL;
            memcpy(o, p, n);
            o += n;
            p += n;
            continue;
        }
        if (*p < 0x20 || end - p < 2)
            return NULL; /* a control character: jansson's error */
        switch (p[1]) {
        case '"': *o++ = '"'; break;
        case '\\': *o++ = '\\'; break;
        case '/': *o++ = '/'; break;
        case 'b': *o++ = '\b'; break;
        case 'f': *o++ = '\f'; break;
        case 'n': *o++ = '\n'; break;
        case 'r': *o++ = '\r'; break;
        case 't': *o++ = '\t'; break;
        case 'u': {
            unsigned cp;
            if (end - p < 6 || hex4(p + 2, &cp) < 0 || cp == 0 || (cp >= 0xd800 && cp <= 0xdfff))
                return NULL; /* \u0000 and surrogates: jansson's rules */
            if (cp < 0x80) {
                *o++ = (unsigned char)cp;
            } else if (cp < 0x800) {
                *o++ = (unsigned char)(0xc0 | cp >> 6);
                *o++ = (unsigned char)(0x80 | (cp & 0x3f));
            } else {
                *o++ = (unsigned char)(0xe0 | cp >> 12);
                *o++ = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
                *o++ = (unsigned char)(0x80 | (cp & 0x3f));
            }
            p += 6;
            continue;
        }
        default: return NULL;
        }
        p += 2;
    }
    if (p == end)
        return NULL;
    ps->p = p + 1;
    *len = (size_t)(o - buf);
    *copied = true;
    return (const char *)buf;
}

static json_t *number(parser *ps)
{
    const unsigned char *p = ps->p, *end = ps->end;
    bool neg = p < end && *p == '-';
    if (neg)
        p++;
    const unsigned char *digits = p;
    while (p < end && *p >= '0' && *p <= '9')
        p++;
    size_t n = (size_t)(p - digits);
    /* none, a leading zero, a real, or a value strtoll might not hold: jansson decides */
    if (n == 0 || n > 18 || (n > 1 && *digits == '0') || (p < end && (*p == '.' || *p == 'e' || *p == 'E')))
        return NULL;
    json_int_t v = 0;
    for (const unsigned char *d = digits; d < p; d++)
        v = v * 10 + (*d - '0');
    ps->p = p;
    return made(ps, json_integer(neg ? -v : v));
}

static bool literal(parser *ps, const char *word, size_t n)
{
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
        return false;
    ps->p += n;
    return true;
}

static json_t *object(parser *ps, int depth)
{
    json_t *obj = made(ps, json_object());
    if (!obj)
        return NULL;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == '}') {
        ps->p++;
        return obj;
    }
    for (;;) {
        if (ps->p == ps->end || *ps->p != '"')
            goto fail;
        ps->p++;
        size_t klen;
        bool copied;
        const char *key = string(ps, &klen, &copied);
        if (!key)
            goto fail;
        /* a key unescaped into the parser's buffers is copied out before the
         * value's strings reuse them */
        char kbuf[128], *kcopy = NULL;
        if (copied) {
            kcopy = klen < sizeof kbuf ? kbuf : em_malloc(klen + 1);
            if (!kcopy) {
                ps->oom = true;
                goto fail;
            }
            memcpy(kcopy, key, klen);
            key = kcopy;
        }
        skip_ws(ps);
        json_t *v = NULL;
        if (ps->p < ps->end && *ps->p == ':') {
            ps->p++;
            skip_ws(ps);
            v = value(ps, depth + 1);
        }
        int rc = v ? json_object_setn_new_nocheck(obj, key, klen, v) : -1;
        if (v && rc < 0)
            ps->oom = true;
        if (kcopy && kcopy != kbuf)
            em_free(kcopy);
        if (rc < 0)
            goto fail;
        skip_ws(ps);
        if (ps->p == ps->end)
            goto fail;
        if (*ps->p == '}') {
            ps->p++;
            return obj;
        }
        if (*ps->p != ',')
            goto fail;
        ps->p++;
        skip_ws(ps);
    }
fail:
    json_decref(obj);
    return NULL;
}

static json_t *array(parser *ps, int depth)
{
    json_t *arr = made(ps, json_array());
    if (!arr)
        return NULL;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == ']') {
        ps->p++;
        return arr;
    }
    for (;;) {
        json_t *v = value(ps, depth + 1);
        if (!v)
            goto fail;
        if (json_array_append_new(arr, v) < 0) {
            ps->oom = true;
            goto fail;
        }
        skip_ws(ps);
        if (ps->p == ps->end)
            goto fail;
        if (*ps->p == ']') {
            ps->p++;
            return arr;
        }
        if (*ps->p != ',')
            goto fail;
        ps->p++;
        skip_ws(ps);
    }
fail:
    json_decref(arr);
    return NULL;
}

/* The value at ps->p (no whitespace before it), or NULL. */
static json_t *value(parser *ps, int depth)
{
    if (ps->p == ps->end || depth > FAST_MAX_DEPTH)
        return NULL;
    switch (*ps->p) {
    case '{': ps->p++; return object(ps, depth);
    case '[': ps->p++; return array(ps, depth);
    case '"': {
        ps->p++;
        size_t len;
        bool copied;
        const char *s = string(ps, &len, &copied);
        return s ? made(ps, json_stringn_nocheck(s, len)) : NULL;
    }
    case 't': return literal(ps, "true", 4) ? json_true() : NULL;
    case 'f': return literal(ps, "false", 5) ? json_false() : NULL;
    case 'n': return literal(ps, "null", 4) ? json_null() : NULL;
    default: return number(ps);
    }
}

json_t *em_json_parse(const char *text, size_t len, bool *oom)
{
    parser ps;
    ps.p = (const unsigned char *)text;
    ps.end = ps.p + len;
    ps.scratch = (em_buf){0};
    ps.oom = false;
    skip_ws(&ps);
    /* an object or an array at the top, as json_loadb takes without
     * JSON_DECODE_ANY; any other top-level value is jansson's to read */
    json_t *doc = ps.p < ps.end && (*ps.p == '{' || *ps.p == '[') ? value(&ps, 0) : NULL;
    em_buf_release(&ps.scratch);
    skip_ws(&ps);
    if (doc && ps.p != ps.end) {
        json_decref(doc);
        doc = NULL;
    }
    *oom = !doc && ps.oom;
    return doc;
}
