/*
 * Small mechanisms every area uses: allocation, byte buffers, SHA-256,
 * base64 and HMAC (all from libcrypto).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "internal.h"

/* ---- allocation -----------------------------------------------------------
 *
 * Every allocation of ecrmock's own goes through these, so that a test can
 * make the Nth one fail (ecrmock_set_alloc_funcs).  The functions are
 * process-wide, like jansson's json_set_alloc_funcs(): the one exception to
 * "no global mutable state", for tests of out-of-memory paths, set before
 * any instance exists.
 */
static ecrmock_malloc_fn alloc_malloc = malloc;
static ecrmock_realloc_fn alloc_realloc = realloc;
static ecrmock_free_fn alloc_free = free;

void ecrmock_set_alloc_funcs(ecrmock_malloc_fn malloc_fn, ecrmock_realloc_fn realloc_fn, ecrmock_free_fn free_fn)
{
    alloc_malloc = malloc_fn ? malloc_fn : malloc;
    alloc_realloc = realloc_fn ? realloc_fn : realloc;
    alloc_free = free_fn ? free_fn : free;
}

void *em_malloc(size_t n)
{
    return alloc_malloc(n ? n : 1);
}

void *em_calloc(size_t count, size_t n)
{
    if (count && n > SIZE_MAX / count)
        return NULL;
    size_t total = (count ? count : 1) * (n ? n : 1);
    void *p = alloc_malloc(total);
    if (p)
        memset(p, 0, total);
    return p;
}

void *em_realloc(void *p, size_t n)
{
    return alloc_realloc(p, n ? n : 1);
}

void em_free(void *p)
{
    alloc_free(p);
}

void em_json_free(void *p)
{
    json_malloc_t m;
    json_free_t f;
    json_get_alloc_funcs(&m, &f);
    f(p);
}

char *em_strndup(const char *s, size_t n)
{
    char *d = em_malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

char *em_strdup(const char *s)
{
    return s ? em_strndup(s, strlen(s)) : NULL;
}

char *em_sprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    char *s = em_malloc((size_t)n + 1);
    if (!s)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

/* ---- buffers ------------------------------------------------------------------ */

int em_buf_reserve(em_buf *b, size_t extra)
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

int em_buf_append(em_buf *b, const void *p, size_t n)
{
    if (n == 0)
        return 0;
    if (em_buf_reserve(b, n) < 0)
        return -1;
    memcpy(b->data + b->len, p, n);
    b->len += n;
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
    const unsigned char *p = (const unsigned char *)s, *end = p + strlen(s);
    while (p < end) {
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

/* ---- digests and encodings ------------------------------------------------- */

void em_hex(const unsigned char *p, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * n] = '\0';
}

void em_sha256_digest(const void *p, size_t n, char *out)
{
    unsigned char md[32];
    EVP_Digest(p, n, md, NULL, EVP_sha256(), NULL);
    memcpy(out, "sha256:", 7);
    em_hex(md, 32, out + 7);
}

void em_hmac_sha256(const void *key, size_t key_len, const void *p, size_t n, unsigned char out[32])
{
    unsigned int len = 32;
    HMAC(EVP_sha256(), key, (int)key_len, p, n, out, &len);
}

char *em_base64(const void *p, size_t n, size_t *out_len)
{
    if (n > (SIZE_MAX / 4) * 3 - 3)
        return NULL;
    size_t len = 4 * ((n + 2) / 3);
    char *s = em_malloc(len + 1);
    if (!s)
        return NULL;
    /* EVP_EncodeBlock takes an int length: go in chunks of 3 * 2^28 bytes. */
    size_t done = 0, w = 0;
    while (done < n) {
        size_t chunk = n - done;
        if (chunk > (size_t)3 << 28)
            chunk = (size_t)3 << 28;
        w += (size_t)EVP_EncodeBlock((unsigned char *)s + w, (const unsigned char *)p + done, (int)chunk);
        done += chunk;
    }
    s[w] = '\0';
    if (out_len)
        *out_len = w;
    return s;
}

/* 1 for a byte that is not of the standard base64 alphabet (padding aside). */
static const unsigned char b64_bad[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1,
    1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1,
    1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
};

size_t em_base64_decoded_len(const char *s, size_t n)
{
    if (n % 4)
        return SIZE_MAX;
    size_t pad = 0;
    if (n && s[n - 1] == '=')
        pad = (n > 1 && s[n - 2] == '=') ? 2 : 1;
    /* One branch-free pass, eight bytes a step: a layer part is 28 MB of
     * text, and this runs once per blob. */
    const unsigned char *p = (const unsigned char *)s;
    size_t body = n - pad, i = 0;
    unsigned bad = 0;
    for (; i + 8 <= body; i += 8)
        bad |= b64_bad[p[i]] | b64_bad[p[i + 1]] | b64_bad[p[i + 2]] | b64_bad[p[i + 3]] | b64_bad[p[i + 4]] |
               b64_bad[p[i + 5]] | b64_bad[p[i + 6]] | b64_bad[p[i + 7]];
    for (; i < body; i++)
        bad |= b64_bad[p[i]];
    return bad ? SIZE_MAX : n / 4 * 3 - pad;
}

size_t em_base64_valid_len(const char *s, size_t n)
{
    return n / 4 * 3 - (n && s[n - 1] == '=' ? (s[n - 2] == '=' ? 2 : 1) : 0);
}

size_t em_base64_decode_valid(const char *s, size_t n, unsigned char *out)
{
    size_t pad = n / 4 * 3 - em_base64_valid_len(s, n);
    size_t done = 0, w = 0;
    while (done < n) {
        /* EVP_DecodeBlock takes an int length, and writes whole triples */
        size_t chunk = n - done;
        if (chunk > (size_t)4 << 28)
            chunk = (size_t)4 << 28;
        int r = EVP_DecodeBlock(out + w, (const unsigned char *)s + done, (int)chunk);
        if (r < 0)
            return SIZE_MAX;
        w += (size_t)r;
        done += chunk;
    }
    return w - pad;
}

int em_unbase64(const char *s, size_t n, unsigned char **out, size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    if (n == 0)
        return 0;
    size_t len = em_base64_decoded_len(s, n);
    if (len == SIZE_MAX)
        return -1;
    /* EVP_DecodeBlock writes whole triples, padding included. */
    unsigned char *d = em_malloc(n / 4 * 3);
    if (!d)
        return -2;
    if (em_base64_decode_valid(s, n, d) != len) {
        em_free(d);
        return -1;
    }
    *out = d;
    *out_len = len;
    return 0;
}

/* The model's digest pattern, [a-zA-Z0-9-_+.]+:[a-fA-F0-9]+ (whole string). */
bool em_digest_ok(const char *d)
{
    if (!d)
        return false;
    size_t a = strspn(d, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_+.");
    if (a == 0 || d[a] != ':')
        return false;
    size_t h = strspn(d + a + 1, "0123456789abcdefABCDEF");
    return h > 0 && d[a + 1 + h] == '\0';
}

/*
 * Wildcard matching as ECR's filters do it: '*' matches any run of
 * characters (none included), everything else itself.  With `iam`, as IAM
 * matches action names: '?' matches one character, and case is ignored.
 */
bool em_wildcard_match(const char *pat, const char *s, bool iam)
{
    const char *star = NULL, *resume = NULL;
    while (*s) {
        bool same = iam ? (*pat == '?' || tolower((unsigned char)*pat) == tolower((unsigned char)*s)) : *pat == *s;
        if (*pat == '*') {
            star = pat++;
            resume = s;
        } else if (*pat && same) {
            pat++;
            s++;
        } else if (star) {
            pat = star + 1;
            s = ++resume;
        } else {
            return false;
        }
    }
    while (*pat == '*')
        pat++;
    return *pat == '\0';
}

void em_uuid_of(unsigned char r[32], char *out)
{
    r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);
    r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
    char hex[33];
    em_hex(r, 16, hex);
    snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
}

/* ---- JSON helpers ------------------------------------------------------------- */

const char *em_str(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

bool em_bool(json_t *o, const char *key, bool dflt)
{
    json_t *v = json_object_get(o, key);
    return json_is_boolean(v) ? json_is_true(v) : dflt;
}

int64_t em_int(json_t *o, const char *key, int64_t dflt)
{
    json_t *v = json_object_get(o, key);
    return json_is_integer(v) ? (int64_t)json_integer_value(v) : dflt;
}

/* AWS JSON 1.1 sends timestamps as epoch seconds, a JSON number with a
 * fraction (ECR: 1.688712875E9); always a real, so a client sees one type. */
json_t *em_time(int64_t ms)
{
    return json_real((double)ms / 1000.0);
}

int em_set(json_t *o, const char *key, json_t *v)
{
    return v && json_object_set_new_nocheck(o, key, v) == 0 ? 0 : -1;
}

json_t *em_jstr(const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s);
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    uint64_t high = 0;
    for (; end - p >= 8; p += 8) {
        uint64_t x;
        memcpy(&x, p, 8);
        high |= x;
    }
    for (; p < end; p++)
        high |= *p;
    return high & 0x8080808080808080u ? json_stringn(s, n) : json_stringn_nocheck(s, n);
}

bool em_account_id_ok(const char *id)
{
    size_t n = id ? strspn(id, "0123456789") : 0;
    return n == 12 && id[n] == '\0';
}

const char *em_dns_suffix(const char *region)
{
    return strncmp(region, "cn-", 3) == 0 ? "amazonaws.com.cn" : "amazonaws.com";
}

json_t *em_manifest_string(const char *text, size_t len)
{
    return json_stringn_nocheck(text, len);
}
