/*
 * Hashes and encodings (libcrypto): hex, SHA-256 digests, HMAC-SHA256,
 * base64 both ways, and a UUID of random bytes.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "base/base.h"

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

void em_seeded_draw_in(struct evp_md_ctx_st *ctx, const struct evp_md_st *md, const char *label, uint64_t seed,
                       uint64_t n, unsigned char out[32])
{
    unsigned char in[32] = {0};
    size_t at = 0;
    if (label) {
        memcpy(in, label, strnlen(label, 16));
        at = 16;
    }
    for (int i = 0; i < 8; i++) {
        in[at + i] = (unsigned char)(seed >> (8 * i));
        in[at + 8 + i] = (unsigned char)(n >> (8 * i));
    }
    if (!ctx || EVP_DigestInit_ex2(ctx, md ? md : EVP_sha256(), NULL) != 1 || EVP_DigestUpdate(ctx, in, at + 16) != 1 ||
        EVP_DigestFinal_ex(ctx, out, NULL) != 1)
        EVP_Digest(in, at + 16, out, NULL, md ? md : EVP_sha256(), NULL);
}

void em_seeded_draw(const char *label, uint64_t seed, uint64_t n, unsigned char out[32])
{
    em_seeded_draw_in(NULL, NULL, label, seed, n, out);
}

void em_sha256_digest_by(const EVP_MD *md, const void *p, size_t n, char *out)
{
    unsigned char sum[32];
    EVP_Digest(p, n, sum, NULL, md ? md : EVP_sha256(), NULL);
    memcpy(out, "sha256:", 7);
    em_hex(sum, 32, out + 7);
}

void em_sha256_digest_in(EVP_MD_CTX *ctx, const EVP_MD *md, const void *p, size_t n, char *out)
{
    unsigned char sum[32];
    if (!ctx || EVP_DigestInit_ex2(ctx, md ? md : EVP_sha256(), NULL) != 1 || EVP_DigestUpdate(ctx, p, n) != 1 ||
        EVP_DigestFinal_ex(ctx, sum, NULL) != 1) {
        em_sha256_digest_by(md, p, n, out);
        return;
    }
    memcpy(out, "sha256:", 7);
    em_hex(sum, 32, out + 7);
}

void em_sha256_digest(const void *p, size_t n, char *out)
{
    em_sha256_digest_by(NULL, p, n, out);
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

/*
 * Base64 decoded 32 characters a step with AVX2 (Wojciech Mula and
 * Daniel Lemire's method): each character's value is the character plus an
 * offset chosen by its high nibble ('/' told from '+' apart), then the
 * 6-bit values are packed by two multiply-adds and a byte shuffle.  Valid
 * text only: it checks nothing (the caller's text passed
 * em_base64_decoded_len or the validator).  Decodes the whole 32-character
 * blocks of s[0..n) that are followed by at least 4 more characters (the
 * padding stays for libcrypto); returns the characters consumed, 3/4 of
 * which were written to out.  Several times libcrypto's EVP_DecodeBlock,
 * which was the largest cost of a layer part after SHA-256 (bench/PROFILE.md,
 * section 3).
 */
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

__attribute__((target("avx2"))) static size_t b64_decode_avx2(const unsigned char *s, size_t n, unsigned char *out)
{
    const __m256i roll = _mm256_setr_epi8(0, 16, 19, 4, -65, -65, -71, -71, 0, 0, 0, 0, 0, 0, 0, 0, 0, 16, 19, 4, -65,
                                          -65, -71, -71, 0, 0, 0, 0, 0, 0, 0, 0);
    const __m256i nibble = _mm256_set1_epi8(0x0f), slash = _mm256_set1_epi8('/');
    const __m256i pack = _mm256_setr_epi8(2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1, 2, 1, 0, 6, 5, 4, 10,
                                          9, 8, 14, 13, 12, -1, -1, -1, -1);
    const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 4, 5, 6, 7, 7);
    size_t i = 0;
    for (; n - i >= 36; i += 32, out += 24) {
        __m256i in = _mm256_loadu_si256((const __m256i *)(s + i));
        __m256i hi = _mm256_and_si256(_mm256_srli_epi32(in, 4), nibble);
        __m256i v = _mm256_add_epi8(in, _mm256_shuffle_epi8(roll, _mm256_add_epi8(_mm256_cmpeq_epi8(in, slash), hi)));
        v = _mm256_maddubs_epi16(v, _mm256_set1_epi32(0x01400140));
        v = _mm256_madd_epi16(v, _mm256_set1_epi32(0x00011000));
        v = _mm256_permutevar8x32_epi32(_mm256_shuffle_epi8(v, pack), lanes);
        _mm_storeu_si128((__m128i *)out, _mm256_castsi256_si128(v));
        _mm_storel_epi64((__m128i *)(out + 16), _mm256_extracti128_si256(v, 1));
    }
    return i;
}

static size_t b64_decode_fast(const unsigned char *s, size_t n, unsigned char *out)
{
    return __builtin_cpu_supports("avx2") ? b64_decode_avx2(s, n, out) : 0;
}

/* The alphabet check the same way: a character's low and high nibbles each
 * pick a class mask, and only the alphabet's characters have no class in
 * common (checked against b64_bad for all 256 bytes).  Checks the whole
 * 32-character blocks of s[0..n), setting *bad when one holds a character
 * outside the alphabet; returns the characters checked. */
__attribute__((target("avx2"))) static size_t b64_check_avx2(const unsigned char *s, size_t n, unsigned *bad)
{
    const __m256i lut_lo = _mm256_setr_epi8(0x15, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x13, 0x1a,
                                            0x1b, 0x1b, 0x1b, 0x1a, 0x15, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
                                            0x11, 0x11, 0x13, 0x1a, 0x1b, 0x1b, 0x1b, 0x1a);
    const __m256i lut_hi = _mm256_setr_epi8(0x10, 0x10, 0x01, 0x02, 0x04, 0x08, 0x04, 0x08, 0x10, 0x10, 0x10, 0x10,
                                            0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x01, 0x02, 0x04, 0x08, 0x04, 0x08,
                                            0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10);
    const __m256i nibble = _mm256_set1_epi8(0x0f);
    __m256i acc = _mm256_setzero_si256();
    size_t i = 0;
    for (; n - i >= 32; i += 32) {
        __m256i in = _mm256_loadu_si256((const __m256i *)(s + i));
        __m256i lo = _mm256_shuffle_epi8(lut_lo, _mm256_and_si256(in, nibble));
        __m256i hi = _mm256_shuffle_epi8(lut_hi, _mm256_and_si256(_mm256_srli_epi32(in, 4), nibble));
        acc = _mm256_or_si256(acc, _mm256_and_si256(lo, hi));
    }
    if (!_mm256_testz_si256(acc, acc))
        *bad = 1;
    return i;
}

static size_t b64_check_fast(const unsigned char *s, size_t n, unsigned *bad)
{
    return __builtin_cpu_supports("avx2") ? b64_check_avx2(s, n, bad) : 0;
}
#else
static size_t b64_check_fast(const unsigned char *s, size_t n, unsigned *bad)
{
    (void)s;
    (void)n;
    (void)bad;
    return 0;
}

static size_t b64_decode_fast(const unsigned char *s, size_t n, unsigned char *out)
{
    (void)s;
    (void)n;
    (void)out;
    return 0;
}
#endif

size_t em_base64_decoded_len(const char *s, size_t n)
{
    if (n % 4)
        return SIZE_MAX;
    size_t pad = 0;
    if (n && s[n - 1] == '=')
        pad = (n > 1 && s[n - 2] == '=') ? 2 : 1;
    /* One branch-free pass, 32 bytes a step with AVX2, else eight: a layer
     * part is 28 MB of text, and this runs once per blob. */
    const unsigned char *p = (const unsigned char *)s;
    size_t body = n - pad;
    unsigned bad = 0;
    size_t i = b64_check_fast(p, body, &bad);
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
    size_t done = b64_decode_fast((const unsigned char *)s, n, out), w = done / 4 * 3;
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

void em_uuid_of(unsigned char r[32], char *out)
{
    r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);
    r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
    /* 8-4-4-4-12 hex digits: a dash before bytes 4, 6, 8 and 10 */
    static const char hex[] = "0123456789abcdef";
    char *o = out;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            *o++ = '-';
        *o++ = hex[r[i] >> 4];
        *o++ = hex[r[i] & 15];
    }
    *o = '\0';
}
