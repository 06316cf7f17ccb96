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

void em_seeded_draw(const char *label, uint64_t seed, uint64_t n, unsigned char out[32])
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
    EVP_Digest(in, at + 16, out, NULL, EVP_sha256(), NULL);
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

void em_uuid_of(unsigned char r[32], char *out)
{
    r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);
    r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
    char hex[33];
    em_hex(r, 16, hex);
    snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
}
