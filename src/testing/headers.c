/*
 * An HTTP request's headers as the journal shows them and fault rules match
 * them: as a jansson tree (em_headers_json), and as that tree's JSON text
 * written straight from the request with no tree and no allocation
 * (em_headers_plan_make, em_headers_text), which the journal keeps in its
 * byte ring (journal.c).  Names lower-cased, a repeated name's values joined
 * by ", ", bytes that start no UTF-8 sequence as U+FFFD, Authorization's
 * credential elided.
 */
#define _GNU_SOURCE /* strncasecmp */
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "testing/testing.h"

/* Where an Authorization value's credential lies: v[cut..rest) is replaced
 * by "<elided>" (the Basic token of the registry plane: the rest of the
 * value; the value of the component named Signature, after a space or a
 * comma, to the next ',' or the end: not the text "Signature=" inside
 * another one, "Credential=Signature=...").  False: none to elide. */
static bool credential_span(const char *v, size_t *cut, size_t *rest)
{
    if (strncasecmp(v, "Basic ", 6) == 0) {
        *cut = 6;
        *rest = strlen(v);
        return true;
    }
    const char *sig = strstr(v, "Signature=");
    while (sig && sig > v && sig[-1] != ' ' && sig[-1] != ',')
        sig = strstr(sig + 1, "Signature=");
    if (!sig)
        return false;
    *cut = (size_t)(sig - v) + strlen("Signature=");
    *rest = *cut + strcspn(v + *cut, ",");
    return true;
}

/* v (em_malloc'd, taken) with its credential elided (credential_span);
 * NULL: no memory. */
static char *elide_signature(char *v)
{
    size_t cut, rest;
    if (!credential_span(v, &cut, &rest))
        return v;
    char *e = em_sprintf("%.*s<elided>%s", (int)cut, v, v + rest);
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

/* ---- the headers as JSON text, no tree (em_journal_note.http) ---------------------
 *
 * What em_headers_json() gives, written straight as JSON text into the
 * journal's byte ring: a sizing pass (em_headers_plan_make) for ring_take, then
 * the bytes in place (hdr_text); no allocation.  The names are grouped by
 * comparing them pairwise, hence at most EM_HEADERS_TEXT_MAX headers: more
 * take the tree (em_headers_note). */


/* The next character of s[0..end) as em_utf8_copy() makes it (a byte that
 * starts no valid sequence: U+FFFD), ASCII letters lower-cased when `lower`,
 * into out; its bytes, 0 at the end. */
static size_t hdr_char(const unsigned char **s, const unsigned char *end, bool lower, unsigned char out[4])
{
    const unsigned char *p = *s;
    if (p == end)
        return 0;
    if (*p < 0x80) {
        out[0] = lower && *p >= 'A' && *p <= 'Z' ? (unsigned char)(*p - 'A' + 'a') : *p;
        *s = p + 1;
        return 1;
    }
    size_t n = em_utf8_seq(p, end);
    if (!n) {
        memcpy(out, "\xef\xbf\xbd", 3);
        *s = p + 1;
        return 3;
    }
    memcpy(out, p, n);
    *s = p + n;
    return n;
}

/* Whether names a and b are the same member's: the same characters once
 * made UTF-8 and lower-cased (each character is one code point, so equal
 * texts are equal character by character). */
static bool hdr_same_name(const char *a, size_t alen, const char *b, size_t blen)
{
    const unsigned char *p = (const unsigned char *)a, *pe = p + alen, *q = (const unsigned char *)b, *qe = q + blen;
    unsigned char x[4], y[4];
    for (;;) {
        size_t n = hdr_char(&p, pe, true, x), k = hdr_char(&q, qe, true, y);
        if (n != k || memcmp(x, y, n) != 0)
            return false;
        if (!n)
            return true;
    }
}

/* The letter of c's two-byte JSON escape ('"', '\\', \b \f \n \r \t), or 0. */
static char hdr_escape(unsigned char c)
{
    switch (c) {
    case '"': return '"';
    case '\\': return '\\';
    case '\b': return 'b';
    case '\f': return 'f';
    case '\n': return 'n';
    case '\r': return 'r';
    case '\t': return 't';
    default: return 0;
    }
}

/* n ASCII bytes of src lower-cased into dst, eight a step: a byte is upper
 * case when adding 0x3f sets its high bit ('A' and above) and adding 0x25
 * does not ('Z' and below); no carry crosses a byte below 0x80. */
static void hdr_lower(char *dst, const unsigned char *src, size_t n)
{
    const uint64_t ones = 0x0101010101010101u, high = 0x8080808080808080u;
    for (; n >= 8; n -= 8, src += 8, dst += 8) {
        uint64_t x;
        memcpy(&x, src, 8);
        x |= ((x + ones * 0x3f) & ~(x + ones * 0x25) & high) >> 2;
        memcpy(dst, &x, 8);
    }
    em_ascii_lower(dst, (const char *)src, n);
}

/* s[0..len) as the inside of a JSON string, its characters made UTF-8 as
 * hdr_char() makes them (lower-cased when `lower`), escaped as jansson's
 * json_dumps() escapes them (hdr_escape, other control characters as
 * \u00XX): written at out when out is not NULL; its bytes.  Runs of bytes
 * that stay as they are go eight a step (em_plain_run). */
static size_t hdr_put(char *out, const char *s, size_t len, bool lower)
{
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    size_t w = 0;
    while (p < end) {
        const unsigned char *run = p;
        p = em_plain_run(p, end);
        size_t n = (size_t)(p - run);
        if (out && n)
            lower ? hdr_lower(out + w, run, n) : (void)memcpy(out + w, run, n);
        w += n;
        if (p == end)
            break;
        unsigned char c[4];
        n = hdr_char(&p, end, lower, c);
        char e = n == 1 ? hdr_escape(c[0]) : 0;
        if (e) {
            if (out) {
                out[w] = '\\';
                out[w + 1] = e;
            }
            w += 2;
        } else if (n == 1) { /* a control character */
            if (out) {
                memcpy(out + w, "\\u00", 4);
                out[w + 4] = hex[c[0] >> 4];
                out[w + 5] = hex[c[0] & 15];
            }
            w += 6;
        } else {
            if (out)
                memcpy(out + w, c, n);
            w += n;
        }
    }
    return w;
}

/* Header i's value as the inside of a JSON string (its credential elided
 * as elide_signature() does, credential_span() found in the value as sent,
 * since a byte em_utf8_copy() replaces is never ASCII and every ASCII byte
 * stays itself); written at out when out is not NULL; its bytes. */
static size_t hdr_value(char *out, const em_headers_plan *p, size_t i)
{
    static const char elided[] = "<elided>";
    const char *v = p->h[i].value;
    size_t len = p->value_len[i], cut = len, rest = len;
    bool elide = p->auth[i] && credential_span(v, &cut, &rest);
    size_t w = hdr_put(out, v, cut, false);
    if (!elide)
        return w;
    if (out)
        memcpy(out + w, elided, sizeof elided - 1);
    w += sizeof elided - 1;
    return w + hdr_put(out ? out + w : NULL, v + rest, len - rest, false);
}

/* The object's text (one member a name, in the order each name first
 * appears, its values joined by ", "), written at out when out is not
 * NULL; its bytes. */
size_t em_headers_text(char *out, const em_headers_plan *p)
{
    size_t w = 0;
#define HDR_LIT(lit)                                                                                                   \
    do {                                                                                                               \
        if (out)                                                                                                       \
            memcpy(out + w, lit, sizeof lit - 1);                                                                      \
        w += sizeof lit - 1;                                                                                           \
    } while (0)
    HDR_LIT("{");
    for (size_t i = 0; i < p->n; i++) {
        if (p->first[i] != i)
            continue;
        if (w > 1)
            HDR_LIT(",");
        HDR_LIT("\"");
        w += hdr_put(out ? out + w : NULL, p->h[i].name, p->name_len[i], true);
        HDR_LIT("\":\"");
        for (size_t j = i; j < p->n; j++) {
            if (p->first[j] != i)
                continue;
            if (j > i)
                HDR_LIT(", ");
            w += hdr_value(out ? out + w : NULL, p, j);
        }
        HDR_LIT("\"");
    }
    HDR_LIT("}");
#undef HDR_LIT
    return w;
}

/* Plans http's headers' text (p->len its bytes); false: more headers than
 * the plan holds (the tree then: em_headers_json()). */
bool em_headers_plan_make(em_headers_plan *p, const ecrmock_http_request *http)
{
    if (!em_headers_as_text(http))
        return false;
    p->h = http->headers;
    p->n = http->n_headers;
    for (size_t i = 0; i < p->n; i++) {
        const char *name = p->h[i].name;
        p->name_len[i] = strlen(name);
        p->value_len[i] = strlen(p->h[i].value);
        p->first[i] = (unsigned char)i;
        for (size_t k = 0; k < i; k++) {
            if (p->first[k] == k && hdr_same_name(p->h[k].name, p->name_len[k], name, p->name_len[i])) {
                p->first[i] = (unsigned char)k;
                break;
            }
        }
        p->auth[i] = p->name_len[i] == 13 && hdr_same_name(name, 13, "authorization", 13);
    }
    p->len = em_headers_text(NULL, p);
    return true;
}

bool em_headers_as_text(const ecrmock_http_request *http)
{
    return http->n_headers <= EM_HEADERS_TEXT_MAX;
}

int em_headers_note(const ecrmock_http_request *http, json_t **headers)
{
    *headers = NULL;
    if (!http || em_headers_as_text(http))
        return 0;
    return (*headers = em_headers_json(http)) != NULL ? 0 : -1;
}
