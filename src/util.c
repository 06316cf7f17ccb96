/*
 * Small mechanisms every area uses: allocation, byte buffers, SHA-256,
 * base64 and HMAC (all from libcrypto), and the seeded id generator.
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

static bool is_b64(unsigned char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
           ch == '+' || ch == '/';
}

int em_unbase64(const char *s, size_t n, unsigned char **out, size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    if (n == 0)
        return 0;
    if (n % 4 != 0)
        return -1;
    size_t pad = 0;
    if (s[n - 1] == '=')
        pad = s[n - 2] == '=' ? 2 : 1;
    for (size_t i = 0; i < n - pad; i++)
        if (!is_b64((unsigned char)s[i]))
            return -1;
    size_t len = n / 4 * 3 - pad;
    /* EVP_DecodeBlock writes whole triples, padding included. */
    unsigned char *d = em_malloc(n / 4 * 3);
    if (!d)
        return -2;
    size_t done = 0, w = 0;
    while (done < n) {
        size_t chunk = n - done;
        if (chunk > (size_t)4 << 28)
            chunk = (size_t)4 << 28;
        int r = EVP_DecodeBlock(d + w, (const unsigned char *)s + done, (int)chunk);
        if (r < 0) {
            em_free(d);
            return -1;
        }
        w += (size_t)r;
        done += chunk;
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

/* ---- seeded ids ----------------------------------------------------------------- */

/*
 * Every id the fake makes (upload ids, tokens, passwords) comes from
 * SHA-256(seed || counter): the same seed and the same calls give the same
 * ids, run after run, and instances never share a sequence.
 */
void em_random(ecrmock *m, unsigned char out[32])
{
    unsigned char in[16];
    uint64_t s = m->seed, c = m->draws++;
    for (int i = 0; i < 8; i++) {
        in[i] = (unsigned char)(s >> (8 * i));
        in[8 + i] = (unsigned char)(c >> (8 * i));
    }
    EVP_Digest(in, sizeof in, out, NULL, EVP_sha256(), NULL);
}

void em_uuid(ecrmock *m, char *out)
{
    unsigned char r[32];
    em_random(m, r);
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
    return v && json_object_set_new(o, key, v) == 0 ? 0 : -1;
}
