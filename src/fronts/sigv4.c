/*
 * AWS Signature Version 4, as the service side checks it: rebuild the
 * canonical request and the string to sign from what arrived, sign them with
 * the secret the test configured, and compare.  The answers (error names,
 * statuses and texts) are those AWS's JSON front end gives; a signature that
 * does not match is answered with the canonical request and string to sign
 * the service expected, which is what a developer needs to fix a signer.
 *
 * Reference: docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html
 * (canonical URI encoded once more for services other than S3; query
 * parameters decoded, re-encoded with the unreserved set and sorted; header
 * values trimmed with inner runs of spaces folded).
 */
#define _GNU_SOURCE /* timegm, strcasecmp */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/evp.h>

#include "fronts/fronts.h"

#define SKEW_S 300 /* X-Amz-Date may be this far from the clock, either way */
#define SERVICE "ecr"

static void sha256_hex(const void *p, size_t n, char *hex)
{
    unsigned char md[32];
    EVP_Digest(p, n, md, NULL, EVP_sha256(), NULL);
    em_hex(md, 32, hex);
}

/* A header value as SigV4 canonicalises it: trimmed, runs of spaces folded. */
static int put_trimmed(em_buf *b, const char *v)
{
    while (*v == ' ' || *v == '\t')
        v++;
    size_t n = strlen(v);
    while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
        n--;
    for (size_t i = 0; i < n; i++) {
        bool space = v[i] == ' ' || v[i] == '\t';
        if (space && i && (v[i - 1] == ' ' || v[i - 1] == '\t'))
            continue;
        if (em_buf_append(b, space ? " " : &v[i], 1) < 0)
            return -1;
    }
    return 0;
}

/* "name:value[,value...]\n" for each signed header, in the order given. */
static int canonical_headers(em_buf *b, const em_sigv4_input *in, const char *signed_headers)
{
    for (const char *p = signed_headers; *p;) {
        size_t len = strcspn(p, ";");
        char name[256];
        if (len && len < sizeof name) {
            memcpy(name, p, len);
            name[len] = '\0';
            if (em_buf_append(b, name, len) < 0 || em_buf_append(b, ":", 1) < 0)
                return -1;
            bool first = true;
            for (size_t i = 0; i < in->n_headers; i++) {
                if (!in->headers[i].name || !in->headers[i].value || strcasecmp(in->headers[i].name, name) != 0)
                    continue;
                if ((!first && em_buf_append(b, ",", 1) < 0) || put_trimmed(b, in->headers[i].value) < 0)
                    return -1;
                first = false;
            }
            if (em_buf_append(b, "\n", 1) < 0)
                return -1;
        }
        p += len;
        if (*p == ';')
            p++;
    }
    return 0;
}

static void hmac(const void *key, size_t key_len, const char *msg, unsigned char out[32])
{
    em_hmac_sha256(key, key_len, msg, strlen(msg), out);
}

int em_sigv4_sign(const em_sigv4_input *in, const char *signed_headers, const char *amz_date, const char *region,
                  const char *service, const char *secret, char **canonical, char **string_to_sign, char *sig)
{
    em_buf cr = {0};
    char payload[EM_SHA256_HEX + 1], cr_hash[EM_SHA256_HEX + 1];
    *canonical = *string_to_sign = NULL;
    sha256_hex(in->body ? in->body : "", in->body ? in->body_len : 0, payload);
    const char *path = in->path && *in->path ? in->path : "/";
    if (em_buf_append(&cr, in->method, strlen(in->method)) < 0 || em_buf_append(&cr, "\n", 1) < 0 ||
        em_uri_encode(&cr, path, strlen(path), true) < 0 || em_buf_append(&cr, "\n", 1) < 0 ||
        em_sigv4_canonical_query(&cr, in->query) < 0 || em_buf_append(&cr, "\n", 1) < 0 ||
        canonical_headers(&cr, in, signed_headers) < 0 || em_buf_append(&cr, "\n", 1) < 0 ||
        em_buf_append(&cr, signed_headers, strlen(signed_headers)) < 0 || em_buf_append(&cr, "\n", 1) < 0 ||
        em_buf_append(&cr, payload, EM_SHA256_HEX) < 0 || em_buf_append(&cr, "", 1) < 0) {
        em_buf_release(&cr);
        return -1;
    }
    sha256_hex(cr.data, cr.len - 1, cr_hash);
    char *sts = em_sprintf("AWS4-HMAC-SHA256\n%s\n%.8s/%s/%s/aws4_request\n%s", amz_date, amz_date, region, service,
                           cr_hash);
    char *k = em_sprintf("AWS4%s", secret);
    if (!sts || !k) {
        em_free(sts);
        em_free(k);
        em_buf_release(&cr);
        return -1;
    }
    char day[9];
    snprintf(day, sizeof day, "%.8s", amz_date);
    unsigned char k_date[32], k_region[32], k_service[32], k_signing[32], mac[32];
    hmac(k, strlen(k), day, k_date);
    hmac(k_date, 32, region, k_region);
    hmac(k_region, 32, service, k_service);
    hmac(k_service, 32, "aws4_request", k_signing);
    hmac(k_signing, 32, sts, mac);
    em_hex(mac, 32, sig);
    em_free(k);
    *canonical = (char *)cr.data;
    *string_to_sign = sts;
    return 0;
}

/* ---- the checks ------------------------------------------------------------------ */

static int refuse(const char **type, char **message, const char *t, char *text)
{
    *type = t;
    *message = text;
    return -1;
}

/* A copy of the value of `key=` among the comma-separated parts, or NULL. */
typedef struct auth_parts {
    char *credential, *signed_headers, *signature;
} auth_parts;

static void auth_parts_release(auth_parts *a)
{
    em_free(a->credential);
    em_free(a->signed_headers);
    em_free(a->signature);
}

/* Parses "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...".
 * Returns 0, or -1 with the IncompleteSignatureException text set. */
static int parse_auth(const char *header, const char *params, auth_parts *a, const char **type, char **message)
{
    for (const char *p = params; *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        size_t len = strcspn(p, ",");
        size_t n = len;
        while (n && p[n - 1] == ' ')
            n--;
        if (!n)
            break;
        const char *eq = memchr(p, '=', n);
        if (!eq)
            return refuse(type, message, "IncompleteSignatureException",
                          em_sprintf("'%.*s' not a valid key=value pair (missing equal-sign) in Authorization header: "
                                     "'%s'.",
                                     (int)n, p, header));
        size_t klen = (size_t)(eq - p);
        char **slot = NULL;
        if (klen == 10 && strncmp(p, "Credential", 10) == 0)
            slot = &a->credential;
        else if (klen == 13 && strncmp(p, "SignedHeaders", 13) == 0)
            slot = &a->signed_headers;
        else if (klen == 9 && strncmp(p, "Signature", 9) == 0)
            slot = &a->signature;
        if (slot) {
            em_free(*slot);
            *slot = em_strndup(eq + 1, n - klen - 1);
            if (!*slot)
                return refuse(type, message, "ServerException", NULL);
        }
        p += len;
    }
    return 0;
}

static bool signed_has(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; *p;) {
        size_t len = strcspn(p, ";");
        if (len == n && strncmp(p, name, n) == 0)
            return true;
        p += len;
        if (*p == ';')
            p++;
    }
    return false;
}

static int check_date(ecrmock *m, const char *date, const char **type, char **message)
{
    int64_t t = 0, now = em_clock_signing_ms(m) / 1000;
    em_amz_date_parse(date, &t); /* checked before */
    char a[17], b[17];
    if (t < now - SKEW_S) {
        em_amz_date(now - SKEW_S, a);
        em_amz_date(now, b);
        return refuse(type, message, "InvalidSignatureException",
                      em_sprintf("Signature expired: %s is now earlier than %s (%s - 5 min.)", date, a, b));
    }
    if (t > now + SKEW_S) {
        em_amz_date(now + SKEW_S, a);
        em_amz_date(now, b);
        return refuse(type, message, "InvalidSignatureException",
                      em_sprintf("Signature not yet current: %s is still later than %s (%s + 5 min.)", date, a, b));
    }
    return 0;
}

/* The session token (X-Amz-Security-Token, `sent`): the instance's when it
 * has one; otherwise any with a temporary access key (ASIA...), none with a
 * long-term one.  AWS refuses a temporary key without its token, a token
 * that is not the key's, and a token sent with a long-term key alike. */
static bool token_ok(const ecrmock *m, const char *sent)
{
    if (m->http_session_token)
        return sent && strcmp(sent, m->http_session_token) == 0;
    return strncmp(m->http_access_key, "ASIA", 4) == 0 ? sent != NULL : sent == NULL;
}

/* Credential=<key>/<YYYYMMDD>/<region>/<service>/aws4_request */
static int check_scope(ecrmock *m, const char *cred, const char *date, const char *token, const char **type,
                       char **message)
{
    char *parts[5] = {0};
    char *copy = em_strdup(cred);
    if (!copy)
        return refuse(type, message, "ServerException", NULL);
    int n = 0;
    char *p = copy;
    for (; p && n < 5; n++) {
        parts[n] = p;
        p = strchr(p, '/');
        if (p)
            *p++ = '\0';
        else if (n < 4)
            break;
    }
    int rc = 0;
    bool five = n == 5 && !p;
    for (int i = 0; five && i < 5; i++)
        five = *parts[i] != '\0';
    if (!five) {
        rc = refuse(type, message, "IncompleteSignatureException",
                    em_sprintf("Credential must have exactly 5 slash-delimited elements, e.g. "
                               "keyid/date/region/service/term, got '%s'",
                               cred));
    } else if (strcmp(parts[0], m->http_access_key) != 0 || !token_ok(m, token)) {
        rc = refuse(type, message, "UnrecognizedClientException",
                    em_strdup("The security token included in the request is invalid."));
    } else if (check_date(m, date, type, message) < 0) {
        rc = -1;
    } else if (strncmp(parts[1], date, 8) != 0 || strlen(parts[1]) != 8) {
        rc = refuse(type, message, "InvalidSignatureException",
                    em_sprintf("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from "
                               "HTTP: '%s' != '%.8s', from '%s'.",
                               parts[1], date, date));
    } else if (strcmp(parts[2], m->region) != 0) {
        rc = refuse(type, message, "InvalidSignatureException",
                    em_sprintf("Credential should be scoped to a valid region, not '%s'.", parts[2]));
    } else if (strcmp(parts[3], SERVICE) != 0) {
        rc = refuse(type, message, "InvalidSignatureException",
                    em_strdup("Credential should be scoped to correct service: '" SERVICE "'."));
    } else if (strcmp(parts[4], "aws4_request") != 0) {
        rc = refuse(type, message, "InvalidSignatureException",
                    em_sprintf("Credential should be scoped with a valid terminator: 'aws4_request', not '%s'.",
                               parts[4]));
    }
    em_free(copy);
    return rc;
}

/* The strict check: every x-amz-* header the request carries, and its
 * Content-Type, among the signed headers (what the AWS SDKs sign). */
static int check_all_signed(const em_sigv4_input *in, const char *signed_headers, const char **type, char **message)
{
    for (size_t i = 0; i < in->n_headers; i++) {
        const char *name = in->headers[i].name;
        if (!name || !in->headers[i].value ||
            (strncasecmp(name, "x-amz-", 6) != 0 && strcasecmp(name, "content-type") != 0))
            continue;
        char lower[256];
        size_t n = strlen(name);
        if (n < sizeof lower) {
            for (size_t k = 0; k <= n; k++)
                lower[k] = (char)tolower((unsigned char)name[k]);
            if (signed_has(signed_headers, lower))
                continue;
        }
        return refuse(type, message, "IncompleteSignatureException",
                      em_sprintf("'%s' must be a 'SignedHeader' in the AWS Authorization.", name));
    }
    return 0;
}

/* The IncompleteSignatureException sentence for missing parts. */
static int refuse_missing(const char *header, const auth_parts *a, const char *date, const char **type,
                          char **message)
{
    const char *needs[] = {
        a->credential ? "" : "Authorization header requires 'Credential' parameter. ",
        a->signature ? "" : "Authorization header requires 'Signature' parameter. ",
        a->signed_headers ? "" : "Authorization header requires 'SignedHeaders' parameter. ",
        date ? "" : "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ",
    };
    return refuse(type, message, "IncompleteSignatureException",
                  em_sprintf("%s%s%s%sAuthorization=%s", needs[0], needs[1], needs[2], needs[3], header));
}

int em_sigv4_verify(ecrmock *m, const em_sigv4_input *in, const char **type, char **message)
{
    *type = NULL;
    *message = NULL;
    auth_parts a = {0};
    const char *header = em_header(in->headers, in->n_headers, "Authorization");
    const char *date = em_header(in->headers, in->n_headers, "X-Amz-Date");
    if (!header || strncmp(header, "AWS4-", 5) != 0)
        return refuse(type, message, "MissingAuthenticationTokenException",
                      em_strdup("Request is missing Authentication Token"));
    size_t alen = strcspn(header, " ");
    if (!header[alen])
        return refuse_missing(header, &a, date, type, message);
    if (alen != 16 || strncmp(header, "AWS4-HMAC-SHA256", 16) != 0)
        return refuse(type, message, "IncompleteSignatureException",
                      em_sprintf("Unsupported AWS 'algorithm': '%.*s'.", (int)alen, header));
    if (parse_auth(header, header + alen, &a, type, message) < 0) {
        auth_parts_release(&a);
        return -1;
    }
    if (!a.credential || !a.signature || !a.signed_headers || !date) {
        refuse_missing(header, &a, date, type, message);
        auth_parts_release(&a);
        return -1;
    }
    int rc = -1;
    char *canonical = NULL, *sts = NULL, sig[EM_SHA256_HEX + 1];
    int64_t when;
    if (!em_amz_date_parse(date, &when)) {
        refuse(type, message, "IncompleteSignatureException",
               em_sprintf("Date must be in ISO-8601 'basic format'. Got '%s'. See "
                          "http://en.wikipedia.org/wiki/ISO_8601",
                          date));
        goto out;
    }
    if (!signed_has(a.signed_headers, "host")) {
        refuse(type, message, "IncompleteSignatureException",
               em_strdup("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."));
        goto out;
    }
    if (!signed_has(a.signed_headers, "x-amz-date")) {
        refuse(type, message, "IncompleteSignatureException",
               em_strdup("'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization."));
        goto out;
    }
    if (m->http_sigv4_strict && check_all_signed(in, a.signed_headers, type, message) < 0)
        goto out;
    if (check_scope(m, a.credential, date, em_header(in->headers, in->n_headers, "X-Amz-Security-Token"), type,
                    message) < 0)
        goto out;
    if (em_sigv4_sign(in, a.signed_headers, date, m->region, SERVICE, m->http_secret_key, &canonical, &sts, sig) <
        0) {
        refuse(type, message, "ServerException", NULL);
        goto out;
    }
    if (strcmp(sig, a.signature) != 0) {
        refuse(type, message, "InvalidSignatureException",
               em_sprintf("The request signature we calculated does not match the signature you provided. Check "
                          "your AWS Secret Access Key and signing method. Consult the service documentation for "
                          "details.\n\nThe Canonical String for this request should have been\n'%s'\n\nThe "
                          "String-to-Sign should have been\n'%s'\n",
                          canonical, sts));
        goto out;
    }
    rc = 0;
out:
    em_free(canonical);
    em_free(sts);
    auth_parts_release(&a);
    return rc;
}
