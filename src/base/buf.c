/*
 * Byte buffers that grow, and UTF-8: the length of a sequence, a check, a copy
 * with U+FFFD for what is not UTF-8.
 */
#include <string.h>

#include "base/base.h"

/* ---- buffers ------------------------------------------------------------------ */

int em_buf_grow(em_buf *b, size_t extra)
{
    if (extra <= b->cap - b->len)
        return 0;
    if (extra > SIZE_MAX / 2 - b->len)
        return -1;
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->len < extra)
        cap *= 2;
    unsigned char *p = em_realloc(b->data, cap);
    if (!p)
        return -1;
    b->data = p;
    b->cap = cap;
    return 0;
}

void em_buf_release(em_buf *b)
{
    em_free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

/* The length of the valid UTF-8 sequence at p (its lead byte >= 0x80), or 0
 * (the rules of jansson's utf8_check_full: no overlong forms, no
 * surrogates, nothing above U+10FFFF). */
char *em_ascii_lower(char *dst, const char *src, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = (char)(src[i] >= 'A' && src[i] <= 'Z' ? src[i] - 'A' + 'a' : src[i]);
    return dst;
}

size_t em_utf8_seq(const unsigned char *p, const unsigned char *end)
{
    unsigned char c = p[0];
    size_t n;
    uint32_t cp;
    if (c >= 0xc2 && c <= 0xdf)
        n = 2, cp = c & 0x1f;
    else if (c >= 0xe0 && c <= 0xef)
        n = 3, cp = c & 0x0f;
    else if (c >= 0xf0 && c <= 0xf4)
        n = 4, cp = c & 0x07;
    else
        return 0;
    if ((size_t)(end - p) < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3f);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

bool em_utf8_ok(const char *s)
{
    return em_utf8_okn(s, strlen(s));
}

bool em_utf8_okn(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    while (p < end) {
        uint64_t x; /* eight ASCII bytes at a time */
        if (end - p >= 8 && (memcpy(&x, p, 8), !(x & UINT64_C(0x8080808080808080)))) {
            p += 8;
            continue;
        }
        size_t n = *p < 0x80 ? 1 : em_utf8_seq(p, end);
        if (!n)
            return false;
        p += n;
    }
    return true;
}

char *em_utf8_copy(const char *s)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + strlen(s);
    em_buf b = {0};
    while (p < end) {
        const unsigned char *run = p;
        while (p < end && *p < 0x80)
            p++;
        size_t n = p < end ? em_utf8_seq(p, end) : 0;
        if (em_buf_append(&b, run, (size_t)(p - run)) < 0 || (p < end && n && em_buf_append(&b, p, n) < 0) ||
            (p < end && !n && em_buf_append(&b, "\xef\xbf\xbd", 3) < 0)) {
            em_buf_release(&b);
            return NULL;
        }
        p += p < end ? (n ? n : 1) : 0;
    }
    if (em_buf_append(&b, "", 1) < 0) {
        em_buf_release(&b);
        return NULL;
    }
    return (char *)b.data;
}
