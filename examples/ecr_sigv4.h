/*
 * The SigV4 signing the libcurl examples (curl_client.c, registry_pull.c)
 * do with OpenSSL, as such programs carry it: no AWS SDK, no ecrmock.
 * Header-only (static functions), included by each example.
 */
#ifndef ECR_SIGV4_H
#define ECR_SIGV4_H

#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

static void hex(const unsigned char *p, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * n] = '\0';
}

static void sha256_hex(const void *p, size_t n, char out[65])
{
    unsigned char md[32];
    EVP_Digest(p, n, md, NULL, EVP_sha256(), NULL);
    hex(md, 32, out);
}

static void hmac(const void *key, size_t klen, const char *msg, unsigned char out[32])
{
    unsigned int len = 32;
    HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)msg, strlen(msg), out, &len);
}

/* The Authorization header line of an ECR call to `host` in `region`:
 * SigV4 over content-type, host, x-amz-date and x-amz-target. */
static void ecr_sign(const char *host, const char *region, const char *access_key, const char *secret_key,
                     const char *target, const char *body, const char *amz_date, char *auth, size_t cap)
{
    char payload[65], canonical_hash[65], canonical[2048], sts[512], day[9], key[256], sig[65];
    sha256_hex(body, strlen(body), payload);
    snprintf(canonical, sizeof canonical,
             "POST\n/\n\ncontent-type:application/x-amz-json-1.1\nhost:%s\nx-amz-date:%s\nx-amz-target:%s\n\n"
             "content-type;host;x-amz-date;x-amz-target\n%s",
             host, amz_date, target, payload);
    sha256_hex(canonical, strlen(canonical), canonical_hash);
    snprintf(day, sizeof day, "%.8s", amz_date);
    snprintf(sts, sizeof sts, "AWS4-HMAC-SHA256\n%s\n%s/%s/ecr/aws4_request\n%s", amz_date, day, region,
             canonical_hash);
    unsigned char k1[32], k2[32];
    snprintf(key, sizeof key, "AWS4%s", secret_key);
    hmac(key, strlen(key), day, k1);
    hmac(k1, 32, region, k2);
    hmac(k2, 32, "ecr", k1);
    hmac(k1, 32, "aws4_request", k2);
    hmac(k2, 32, sts, k1);
    hex(k1, 32, sig);
    snprintf(auth, cap,
             "Authorization: AWS4-HMAC-SHA256 Credential=%s/%s/%s/ecr/aws4_request, "
             "SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=%s",
             access_key, day, region, sig);
}

#endif
