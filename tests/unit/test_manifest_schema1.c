/*
 * Docker v2 schema 1 on a pull by tag (src/fronts/manifest_schema1.c,
 * through registry.c's negotiation): the manifest distribution's
 * configManifestBuilder makes of a schema 2 image and its config, signed as
 * libtrust signs (JWS RS256 in the pretty form), checked here byte for byte
 * and with OpenSSL against the key the signature names.
 */
#include "helpers.h"

#include <stdbool.h>

#include <openssl/core_names.h>
#include <openssl/param_build.h>

#define REPO "web"
#define HOST "123456789012.dkr.ecr.us-east-1.amazonaws.com"
#define V2 "application/vnd.docker.distribution.manifest.v2+json"
#define OCI "application/vnd.oci.image.manifest.v1+json"
#define S1 "application/vnd.docker.distribution.manifest.v1+json"
#define S1_SIGNED "application/vnd.docker.distribution.manifest.v1+prettyjws"
#define DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"
#define DOCKER_LAYER "application/vnd.docker.image.rootfs.diff.tar.gzip"
#define EMPTY_TAR "sha256:a3ed95caeb02ffe68cdd9fd84406680ae93d633cb16422d00e8a7c22955b46d4"

/* ---- requests ------------------------------------------------------------------------ */

/* GET or HEAD of /v2/REPO/manifests/<ref> with one Accept line (NULL: none). */
static int pull(ecrmock *m, ecrmock_http_response *r, const char *auth, const char *method, const char *ref,
                const char *accept)
{
    char path[300];
    snprintf(path, sizeof path, "/v2/" REPO "/manifests/%s", ref);
    ecrmock_http_header h[3] = {{"Host", HOST}, {"Authorization", auth}, {"Accept", accept}};
    ecrmock_http_request req = ECRMOCK_HTTP_REQUEST_INIT;
    req.method = method;
    req.target = path;
    req.headers = h;
    req.n_headers = accept ? 3 : 2;
    int st = ecrmock_http_handle(m, &req, r);
    assert_int_equal(st, st < 0 ? -1 : r->status);
    return st;
}

static void assert_manifest_unknown(ecrmock_http_response *r)
{
    assert_int_equal(r->status, 404);
    assert_string_equal(r->body, "{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\",\"message\":\"Requested image not found\"}]}");
    ecrmock_http_response_release(r);
}

/* Pushes `config` and one layer per `layers` text; puts a schema 2 manifest
 * under `tag`.  Returns the image digest (malloc'd); the layers' digests in
 * ld (room for n). */
static char *push_image(ecrmock *m, const char *config, const char *const *layers, size_t n, const char *tag,
                        char (*ld)[ECRMOCK_DIGEST_SIZE])
{
    char cd[ECRMOCK_DIGEST_SIZE];
    push_layer(m, REPO, config, strlen(config), cd);
    json_t *mf = json_pack("{s:i, s:s, s:{s:s, s:I, s:s}, s:[]}", "schemaVersion", 2, "mediaType", V2, "config",
                           "mediaType", DOCKER_CONFIG, "size", (json_int_t)strlen(config), "digest", cd, "layers");
    for (size_t i = 0; i < n; i++) {
        push_layer(m, REPO, layers[i], strlen(layers[i]), ld[i]);
        json_array_append_new(json_object_get(mf, "layers"), json_pack("{s:s, s:I, s:s}", "mediaType", DOCKER_LAYER,
                                                                       "size", (json_int_t)strlen(layers[i]),
                                                                       "digest", ld[i]));
    }
    char *text = json_dumps(mf, JSON_COMPACT);
    char *digest = put_image(m, REPO, text, tag);
    free(text);
    json_decref(mf);
    return digest;
}

/* ---- an independent reading of the JWS ------------------------------------------------- */

static size_t b64url_decode(const char *s, unsigned char *out)
{
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    unsigned v = 0, bits = 0;
    size_t n = 0;
    for (; *s; s++) {
        const char *p = strchr(a, *s);
        assert_non_null(p);
        v = v << 6 | (unsigned)(p - a);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[n++] = (unsigned char)(v >> bits);
            v &= (1u << bits) - 1;
        }
    }
    return n;
}

static void sha256_hex(const void *p, size_t n, char out[65])
{
    char d[ECRMOCK_DIGEST_SIZE];
    sha256_digest(p, n, d);
    memcpy(out, d + 7, 65);
}

/* The payload a pretty signature stands for (libtrust's ParsePrettySignature:
 * the text up to formatLength, then formatTail), malloc'd, its length in
 * *len; asserts the JWS over it verifies with the JWK it carries, RS256,
 * and that the protected header's time is `when`. */
static char *verified_payload(const char *body, size_t body_len, const char *when, size_t *len)
{
    json_t *doc = json_loads(body, 0, NULL);
    assert_non_null(doc);
    json_t *sigs = json_object_get(doc, "signatures");
    assert_int_equal(json_array_size(sigs), 1);
    json_t *sig = json_array_get(sigs, 0), *header = json_object_get(sig, "header");
    assert_int_equal(json_object_size(sig), 3);
    assert_int_equal(json_object_size(header), 2);
    assert_string_equal(jstr(header, "alg"), "RS256");
    json_t *jwk = json_object_get(header, "jwk");
    assert_int_equal(json_object_size(jwk), 4);
    assert_string_equal(jstr(jwk, "kty"), "RSA");
    assert_string_equal(jstr(jwk, "e"), "AQAB");

    unsigned char prot[512], n_bytes[600], e_bytes[8], sigb[600];
    size_t plen = b64url_decode(jstr(sig, "protected"), prot);
    prot[plen] = '\0';
    char want_prot[200];
    json_t *p = json_loads((const char *)prot, 0, NULL);
    long long format_len = json_integer_value(json_object_get(p, "formatLength"));
    snprintf(want_prot, sizeof want_prot, "{\"formatLength\":%lld,\"formatTail\":\"Cn0\",\"time\":\"%s\"}",
             format_len, when);
    assert_string_equal((const char *)prot, want_prot); /* Go's map order: the names sorted */
    json_decref(p);
    unsigned char tail[8];
    assert_int_equal(b64url_decode("Cn0", tail), 2);
    assert_true(format_len > 0 && (size_t)format_len < body_len);

    *len = (size_t)format_len + 2;
    char *payload = malloc(*len + 1);
    memcpy(payload, body, (size_t)format_len);
    memcpy(payload + format_len, tail, 2);
    payload[*len] = '\0';

    /* The signing input: protected "." base64url(payload). */
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const char *protected_b64 = jstr(sig, "protected");
    size_t cap = strlen(protected_b64) + 2 + (*len + 2) / 3 * 4 + 1, k = 0;
    char *input = malloc(cap);
    k = (size_t)snprintf(input, cap, "%s.", protected_b64);
    const unsigned char *q = (const unsigned char *)payload;
    size_t i = 0;
    for (; i + 3 <= *len; i += 3) {
        unsigned v = (unsigned)q[i] << 16 | (unsigned)q[i + 1] << 8 | q[i + 2];
        input[k++] = a[v >> 18];
        input[k++] = a[v >> 12 & 63];
        input[k++] = a[v >> 6 & 63];
        input[k++] = a[v & 63];
    }
    if (*len - i == 1) {
        input[k++] = a[q[i] >> 2];
        input[k++] = a[(q[i] & 3) << 4];
    } else if (*len - i == 2) {
        unsigned v = (unsigned)q[i] << 8 | q[i + 1];
        input[k++] = a[v >> 10];
        input[k++] = a[v >> 4 & 63];
        input[k++] = a[(v & 15) << 2];
    }

    /* The key from the JWK; its kid is libtrust's fingerprint of it. */
    size_t nl = b64url_decode(jstr(jwk, "n"), n_bytes), el = b64url_decode(jstr(jwk, "e"), e_bytes);
    assert_int_equal(nl, 256);
    unsigned char fp_in[600], md[32];
    memcpy(fp_in, "RSA", 3);
    memcpy(fp_in + 3, n_bytes, nl);
    memcpy(fp_in + 3 + nl, e_bytes, el);
    EVP_Digest(fp_in, 3 + nl + el, md, NULL, EVP_sha256(), NULL);
    static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    char kid[64];
    size_t kl = 0;
    for (size_t bit = 0; bit < 240; bit += 5) {
        unsigned idx = 0;
        for (size_t j = 0; j < 5; j++)
            idx = idx << 1 | ((md[(bit + j) / 8] >> (7 - (bit + j) % 8)) & 1);
        if (bit && bit % 20 == 0)
            kid[kl++] = ':';
        kid[kl++] = b32[idx];
    }
    kid[kl] = '\0';
    assert_string_equal(jstr(jwk, "kid"), kid);

    BIGNUM *bn_n = BN_bin2bn(n_bytes, (int)nl, NULL), *bn_e = BN_bin2bn(e_bytes, (int)el, NULL);
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n);
    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e);
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX *kctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    EVP_PKEY *key = NULL;
    assert_int_equal(EVP_PKEY_fromdata_init(kctx), 1);
    assert_int_equal(EVP_PKEY_fromdata(kctx, &key, EVP_PKEY_PUBLIC_KEY, params), 1);
    size_t sl = b64url_decode(jstr(sig, "signature"), sigb);
    assert_int_equal(sl, 256);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    assert_int_equal(EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, key), 1);
    assert_int_equal(EVP_DigestVerify(ctx, sigb, sl, (const unsigned char *)input, k), 1);
    /* and not over another payload */
    input[k - 1] = input[k - 1] == 'A' ? 'B' : 'A';
    assert_int_equal(EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, key), 1);
    assert_int_not_equal(EVP_DigestVerify(ctx, sigb, sl, (const unsigned char *)input, k), 1);
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(key);
    EVP_PKEY_CTX_free(kctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn_n);
    BN_free(bn_e);
    free(input);

    /* libtrust's pretty form: the payload less "\n}", the signatures
     * indented three spaces a level, "\n}". */
    char want_tail[2048];
    snprintf(want_tail, sizeof want_tail,
             ",\n   \"signatures\": [\n      {\n         \"header\": {\n            \"jwk\": {\n"
             "               \"e\": \"AQAB\",\n               \"kid\": \"%s\",\n               \"kty\": \"RSA\",\n"
             "               \"n\": \"%s\"\n            },\n            \"alg\": \"RS256\"\n         },\n"
             "         \"signature\": \"%s\",\n         \"protected\": \"%s\"\n      }\n   ]\n}",
             kid, jstr(jwk, "n"), jstr(sig, "signature"), protected_b64);
    assert_string_equal(body + format_len, want_tail);
    assert_int_equal(body_len, (size_t)format_len + strlen(want_tail));
    json_decref(doc);
    return payload;
}

/* s with '"' and '\\' escaped, in a JSON string's quotes (what the
 * v1Compatibility texts below need). */
static void quoted(char *out, size_t cap, const char *s)
{
    size_t k = 0;
    out[k++] = '"';
    for (; *s && k + 3 < cap; s++) {
        if (*s == '"' || *s == '\\')
            out[k++] = '\\';
        out[k++] = *s;
    }
    out[k++] = '"';
    out[k] = '\0';
}

/* ---- the tests ---------------------------------------------------------------------------- */

/* The config of a two-layer image with an ENV-like step between them: the
 * members out of order and spaced, a fraction of 12 digits and a +02:00
 * offset, a command with "&&" and "<>". */
static const char config_text[] =
    "{\"os\": \"linux\", \"architecture\": \"amd64\",\n"
    " \"config\": {\"Env\": [\"PATH=/usr/bin\"], \"Cmd\": [\"sh\"]},\n"
    " \"created\": \"2024-05-06T07:08:10Z\",\n"
    " \"history\": [\n"
    "  {\"created\": \"2024-05-06T07:08:09.123456789012Z\", \"created_by\": \"/bin/sh -c a && b <c>\"},\n"
    "  {\"created\": \"2024-05-06T09:08:09.100+02:00\", \"created_by\": \"/bin/sh -c #(nop)  CMD [\\\"sh\\\"]\",\n"
    "   \"comment\": \"c\", \"empty_layer\": true, \"author\": \"me\"},\n"
    "  {\"created\": \"2024-05-06T07:08:10Z\", \"created_by\": \"RUN top\"}],\n"
    " \"rootfs\": {\"type\": \"layers\", \"diff_ids\": [\"sha256:11\", \"sha256:22\"]}}";

/* Schema 2 by tag to a client of schema 1 alone: the exact manifest
 * (fsLayers and history newest first, the empty layer's blob, v1 ids
 * chained, the config as the newest entry), a JWS that verifies over the
 * payload formatLength and formatTail give, at the virtual clock's time; the
 * digest on HEAD is the payload's, as distribution's; the pull is recorded. */
static void test_schema1_from_schema2_by_tag(void **state)
{
    ecrmock *m = *state;
    create_repo(m, REPO);
    const char *layers[] = {"bottom layer", "top layer"};
    char ld[2][ECRMOCK_DIGEST_SIZE];
    char *digest = push_image(m, config_text, layers, 2, "v1", ld);
    assert_int_equal(ecrmock_clock_set(m, INT64_C(1767225600000) + 61500, NULL), 0); /* 2026-01-01T00:01:01.5Z */
    char *auth = login(m);
    ecrmock_journal_enable(m, 1);
    ecrmock_journal_clear(m);
    ecrmock_http_response r;
    assert_int_equal(pull(m, &r, auth, "GET", "v1", S1_SIGNED), 200);
    assert_header(&r, "Content-Type", S1_SIGNED);
    assert_header(&r, "Docker-Content-Digest", NULL); /* on a HEAD, as for any manifest */

    size_t plen;
    char *payload = verified_payload(r.body, r.body_len, "2026-01-01T00:01:01Z", &plen);

    /* The v1 images: ids chained from the oldest. */
    char id0[65], id1[65], id2[65], in[4096];
    snprintf(in, sizeof in, "%s ", ld[0] + 7);
    sha256_hex(in, strlen(in), id0);
    snprintf(in, sizeof in, "%s %s", EMPTY_TAR + 7, id0);
    sha256_hex(in, strlen(in), id1);
    snprintf(in, sizeof in, "%s %s %s", ld[1] + 7, id1, config_text);
    sha256_hex(in, strlen(in), id2);
    char v0[512], v1[512], v2[512], q0[600], q1[600], q2[600];
    snprintf(v0, sizeof v0,
             "{\"id\":\"%s\",\"created\":\"2024-05-06T07:08:09.123456789Z\",\"container_config\":{\"Cmd\":"
             "[\"/bin/sh -c a \\u0026\\u0026 b \\u003cc\\u003e\"]}}",
             id0);
    snprintf(v1, sizeof v1,
             "{\"id\":\"%s\",\"parent\":\"%s\",\"comment\":\"c\",\"created\":\"2024-05-06T09:08:09.1+02:00\","
             "\"container_config\":{\"Cmd\":[\"/bin/sh -c #(nop)  CMD [\\\"sh\\\"]\"]},\"author\":\"me\","
             "\"throwaway\":true}",
             id1, id0);
    snprintf(v2, sizeof v2,
             "{\"architecture\":\"amd64\",\"config\":{\"Env\":[\"PATH=/usr/bin\"],\"Cmd\":[\"sh\"]},"
             "\"created\":\"2024-05-06T07:08:10Z\",\"id\":\"%s\",\"os\":\"linux\",\"parent\":\"%s\"}",
             id2, id1);
    quoted(q0, sizeof q0, v0);
    quoted(q1, sizeof q1, v1);
    quoted(q2, sizeof q2, v2);
    char want[8192];
    snprintf(want, sizeof want,
             "{\n   \"schemaVersion\": 1,\n   \"name\": \"" REPO "\",\n   \"tag\": \"v1\",\n"
             "   \"architecture\": \"amd64\",\n   \"fsLayers\": [\n"
             "      {\n         \"blobSum\": \"%s\"\n      },\n"
             "      {\n         \"blobSum\": \"" EMPTY_TAR "\"\n      },\n"
             "      {\n         \"blobSum\": \"%s\"\n      }\n   ],\n   \"history\": [\n"
             "      {\n         \"v1Compatibility\": %s\n      },\n"
             "      {\n         \"v1Compatibility\": %s\n      },\n"
             "      {\n         \"v1Compatibility\": %s\n      }\n   ]\n}",
             ld[1], ld[0], q2, q1, q0);
    assert_string_equal(payload, want);
    assert_int_equal(plen, strlen(want));
    ecrmock_http_response_release(&r);

    /* The BatchGetImage asked for schema 1 and the stored type. */
    json_t *e = ecrmock_journal_entry(m, 0, NULL);
    json_t *asked = json_object_get(json_object_get(e, "request"), "acceptedMediaTypes");
    assert_int_equal(json_array_size(asked), 2);
    assert_string_equal(json_string_value(json_array_get(asked, 0)), S1_SIGNED);
    assert_string_equal(json_string_value(json_array_get(asked, 1)), V2);
    json_decref(e);

    /* HEAD: the digest of the payload without its signatures. */
    char want_digest[ECRMOCK_DIGEST_SIZE], len[32];
    sha256_digest(payload, plen, want_digest);
    assert_int_equal(pull(m, &r, auth, "GET", "v1", S1_SIGNED), 200);
    snprintf(len, sizeof len, "%zu", r.body_len);
    ecrmock_http_response_release(&r);
    assert_int_equal(pull(m, &r, auth, "HEAD", "v1", S1_SIGNED), 200);
    assert_header(&r, "Docker-Content-Digest", want_digest);
    assert_header(&r, "Content-Length", len);
    assert_header(&r, "Content-Type", S1_SIGNED);
    assert_int_equal(r.body_len, 0);
    ecrmock_http_response_release(&r);

    /* The unsigned type alone gets the same signed manifest. */
    assert_int_equal(pull(m, &r, auth, "GET", "v1", S1), 200);
    assert_header(&r, "Content-Type", S1_SIGNED);
    free(verified_payload(r.body, r.body_len, "2026-01-01T00:01:01Z", &plen));
    ecrmock_http_response_release(&r);

    /* The empty tar is named, not stored: its blob is unknown here. */
    ecrmock_http_header h[2] = {{"Host", HOST}, {"Authorization", auth}};
    ecrmock_http_request req = ECRMOCK_HTTP_REQUEST_INIT;
    req.method = "GET";
    req.target = "/v2/" REPO "/blobs/" EMPTY_TAR;
    req.headers = h;
    req.n_headers = 2;
    assert_int_equal(ecrmock_http_handle(m, &req, &r), 404);
    assert_non_null(strstr(r.body, "\"BLOB_UNKNOWN\""));
    ecrmock_http_response_release(&r);

    /* Nothing stored changed; the pull was recorded. */
    json_t *d = describe_image(m, REPO, digest);
    assert_string_equal(jstr(d, "imageManifestMediaType"), V2);
    assert_non_null(json_object_get(d, "lastRecordedPullTime"));
    json_decref(d);
    free(payload);
    free(digest);
    free(auth);
}

/* No conversion by digest, nor when the client takes the stored type (or
 * sends no Accept), nor from OCI or a manifest list; a config that cannot
 * make a schema 1 manifest answers as an Accept ECR cannot meet. */
static void test_schema1_only_when_it_can(void **state)
{
    ecrmock *m = *state;
    create_repo(m, REPO);
    const char *layers[] = {"bottom layer", "top layer"};
    char ld[2][ECRMOCK_DIGEST_SIZE];
    char *digest = push_image(m, config_text, layers, 2, "v1", ld);
    char *auth = login(m);
    ecrmock_http_response r;
    assert_int_equal(pull(m, &r, auth, "GET", digest, S1_SIGNED), 404);
    assert_manifest_unknown(&r);
    assert_int_equal(pull(m, &r, auth, "GET", "v1", S1_SIGNED ", " V2), 200);
    assert_header(&r, "Content-Type", V2);
    ecrmock_http_response_release(&r);
    assert_int_equal(pull(m, &r, auth, "GET", "v1", NULL), 200);
    assert_header(&r, "Content-Type", V2);
    ecrmock_http_response_release(&r);
    /* OCI before schema 1 when both are asked for. */
    assert_int_equal(pull(m, &r, auth, "GET", "v1", S1_SIGNED ", " OCI), 200);
    assert_header(&r, "Content-Type", OCI);
    ecrmock_http_response_release(&r);
    free(digest);

    /* An OCI image, a manifest list: no schema 1. */
    char cd[ECRMOCK_DIGEST_SIZE];
    push_layer(m, REPO, config_text, strlen(config_text), cd);
    char oci[1024];
    snprintf(oci, sizeof oci,
             "{\"schemaVersion\":2,\"mediaType\":\"" OCI "\",\"config\":{\"mediaType\":\"application/vnd.oci.image."
             "config.v1+json\",\"digest\":\"%s\",\"size\":%zu},\"layers\":[{\"mediaType\":\"application/vnd.oci.image."
             "layer.v1.tar+gzip\",\"digest\":\"%s\",\"size\":12},{\"mediaType\":\"application/vnd.oci.image."
             "layer.v1.tar+gzip\",\"digest\":\"%s\",\"size\":9}]}",
             cd, strlen(config_text), ld[0], ld[1]);
    char *d_oci = put_image(m, REPO, oci, "oci");
    assert_int_equal(pull(m, &r, auth, "GET", "oci", S1_SIGNED), 404);
    assert_manifest_unknown(&r);
    char *child = strdup(d_oci);
    char *d_list = put_manifest_list(m, REPO, 1, &child, "list");
    assert_int_equal(pull(m, &r, auth, "GET", "list", S1_SIGNED), 404);
    assert_manifest_unknown(&r);

    /* Configs distribution's builder refuses, and ones jansson cannot read. */
    static const char *const bad[] = {
        "{\"architecture\":\"amd64\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"a\",\"b\"]}}", /* no history */
        "{\"history\":[{},{}]}",                                                             /* no rootfs */
        "{\"history\":[{},{}],\"rootfs\":{\"diff_ids\":[\"a\"]}}",                           /* one diff_id, two layers */
        "{\"history\":[{\"created\":\"2024-13-01T00:00:00Z\"},{}],\"rootfs\":{\"diff_ids\":[\"a\",\"b\"]}}",
        "{\"history\":[{\"created\":\"yesterday\"},{}],\"rootfs\":{\"diff_ids\":[\"a\",\"b\"]}}",
        "{\"history\":[{\"empty_layer\":\"yes\"},{}],\"rootfs\":{\"diff_ids\":[\"a\",\"b\"]}}", /* a string for a bool */
        "{\"history\":[{},{}],\"architecture\":64,\"rootfs\":{\"diff_ids\":[\"a\",\"b\"]}}",
        "{\"history\":[{},{},{}],\"rootfs\":{\"diff_ids\":[\"a\",\"b\"]}}",                  /* three layers' history */
        "{\"history\":[{}],\"rootfs\":{\"diff_ids\":[\"a\",\"b\"]}}",                        /* fine: one layer dropped */
        "{\"history\":[{},{}],\"rootfs\":{\"diff_ids\":[\"a\",\"b\"]},\"x\":\"\xff\"}",      /* not UTF-8 */
        "{\"history\":[{},{}],\"rootfs\":{\"diff_ids\":[\"a\",\"b\"]},\"x\":99999999999999999999}",
        "[1]",
        "not json",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char tag[16];
        snprintf(tag, sizeof tag, "bad%zu", i);
        free(push_image(m, bad[i], layers, 2, tag, ld));
        int st = pull(m, &r, auth, "GET", tag, S1_SIGNED);
        if (i == 8) { /* History[:n-1] is empty: the one entry takes the first layer */
            assert_int_equal(st, 200);
            json_t *doc = json_loads(r.body, 0, NULL);
            assert_int_equal(json_array_size(json_object_get(doc, "fsLayers")), 1);
            assert_string_equal(jstr(json_array_get(json_object_get(doc, "fsLayers"), 0), "blobSum"), ld[0]);
            json_decref(doc);
            ecrmock_http_response_release(&r);
            continue;
        }
        if (st != 404)
            fail_msg("config %zu converted: %s", i, r.body);
        assert_manifest_unknown(&r);
    }
    free(child);
    free(d_oci);
    free(d_list);
    free(auth);
}

/* The newest entry is the config as Go's map writes it: each member as
 * written but compacted and HTML-escaped, a repeated name's last value,
 * the names sorted byte-wise; Go's field names match in any case; a Windows
 * base layer parents the oldest entry.  Signed at the clock's last second. */
static void test_schema1_config_members(void **state)
{
    ecrmock *m = *state;
    create_repo(m, REPO);
    const char *layers[] = {"only layer", "second"};
    char ld[2][ECRMOCK_DIGEST_SIZE];
    const char *cfg = "{\"os\":\"a\", \"Architecture\":\"arm64\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":"
                      "[\"x\",\"y\"],\"base_layer\":\"base\"},\"History\":[{\"created_by\":\"b\"},"
                      "{\"created\":null}],\"os\":\"linux\",\"Zed\":1.50e0,\"a\":{\"z\" : [ 1, 2 ],\"b\":"
                      "\"<&>\\u003c \xe2\x80\xa8\"},\"id\":\"mine\"}";
    free(push_image(m, cfg, layers, 2, "t", ld));
    assert_int_equal(ecrmock_clock_set(m, ECRMOCK_CLOCK_MAX_MS, NULL), 0); /* the clock's last second */
    char *auth = login(m);
    ecrmock_http_response r;
    assert_int_equal(pull(m, &r, auth, "GET", "t", S1), 200);
    size_t plen;
    free(verified_payload(r.body, r.body_len, "9999-12-31T23:59:59Z", &plen));
    json_t *doc = json_loads(r.body, 0, NULL);
    assert_string_equal(jstr(doc, "architecture"), "arm64");
    json_t *h = json_object_get(doc, "history");
    char id0[65], id1[65], base[65], in[1024];
    snprintf(in, sizeof in, "%s ", ld[0] + 7);
    sha256_hex(in, strlen(in), id0);
    unsigned char md[48];
    EVP_Digest("base", 4, md, NULL, EVP_sha384(), NULL);
    for (int i = 0; i < 32; i++)
        snprintf(base + 2 * i, 3, "%02x", md[i]);
    snprintf(in, sizeof in, "%s %s %s", ld[1] + 7, id0, cfg);
    sha256_hex(in, strlen(in), id1);
    char want[1024];
    snprintf(want, sizeof want,
             "{\"id\":\"%s\",\"parent\":\"%s\",\"created\":\"0001-01-01T00:00:00Z\",\"container_config\":"
             "{\"Cmd\":[\"b\"]}}",
             id0, base);
    assert_string_equal(jstr(json_array_get(h, 1), "v1Compatibility"), want);
    snprintf(want, sizeof want,
             "{\"Architecture\":\"arm64\",\"History\":[{\"created_by\":\"b\"},{\"created\":null}],\"Zed\":1.50e0,"
             "\"a\":{\"z\":[1,2],\"b\":\"\\u003c\\u0026\\u003e\\u003c \\u2028\"},\"id\":\"%s\",\"os\":\"linux\","
             "\"parent\":\"%s\"}",
             id1, id0);
    assert_string_equal(jstr(json_array_get(h, 0), "v1Compatibility"), want);
    json_decref(doc);
    ecrmock_http_response_release(&r);
    free(auth);
}

/* Same seed, same steps, same clock: the same bytes; a later clock: another
 * protected time and signature over the same payload and digest. */
static void test_schema1_deterministic(void **state)
{
    (void)state;
    char *bodies[3];
    char digests[3][ECRMOCK_DIGEST_SIZE];
    for (int k = 0; k < 3; k++) {
        ecrmock *m = ecrmock_new(NULL);
        assert_non_null(m);
        create_repo(m, REPO);
        const char *layers[] = {"bottom layer", "top layer"};
        char ld[2][ECRMOCK_DIGEST_SIZE];
        free(push_image(m, config_text, layers, 2, "v1", ld));
        char *auth = login(m);
        if (k == 2)
            assert_int_equal(ecrmock_clock_advance(m, 1000, NULL), 0);
        ecrmock_http_response r;
        assert_int_equal(pull(m, &r, auth, "GET", "v1", S1_SIGNED), 200);
        bodies[k] = strdup(r.body);
        ecrmock_http_response_release(&r);
        assert_int_equal(pull(m, &r, auth, "HEAD", "v1", S1_SIGNED), 200);
        snprintf(digests[k], sizeof digests[k], "%s", ecrmock_http_response_header(&r, "Docker-Content-Digest"));
        ecrmock_http_response_release(&r);
        free(auth);
        ecrmock_free(m);
    }
    assert_string_equal(bodies[0], bodies[1]);
    assert_string_not_equal(bodies[0], bodies[2]);
    assert_string_equal(digests[0], digests[1]);
    assert_string_equal(digests[0], digests[2]);
    for (int k = 0; k < 3; k++)
        free(bodies[k]);
}

/* Pushes, tagged `tag`, an image of one layer whose config has a label of
 * `big` characters `c`. */
static void push_labelled(ecrmock *m, const char *tag, char c, size_t big)
{
    const char *head = "{\"history\":[{}],\"rootfs\":{\"diff_ids\":[\"x\"]},\"label\":\"";
    char *cfg = malloc(strlen(head) + big + 3);
    strcpy(cfg, head);
    memset(cfg + strlen(head), c, big);
    strcpy(cfg + strlen(head) + big, "\"}");
    const char *layers[] = {"one"};
    char ld[1][ECRMOCK_DIGEST_SIZE];
    free(push_image(m, cfg, layers, 1, tag, ld));
    free(cfg);
}

/* A config of 1 MiB (a label of 1 MiB of "<"): converted whole, each "<"
 * as \u003c in v1Compatibility (so \\u003c in the manifest). */
static void test_schema1_huge_config(void **state)
{
    ecrmock *m = *state;
    create_repo(m, REPO);
    size_t big = (size_t)1 << 20;
    push_labelled(m, "big", '<', big);
    char *auth = login(m);
    ecrmock_http_response r;
    assert_int_equal(pull(m, &r, auth, "GET", "big", S1_SIGNED), 200);
    json_t *doc = json_loads(r.body, 0, NULL);
    const char *v1 = jstr(json_array_get(json_object_get(doc, "history"), 0), "v1Compatibility");
    assert_int_equal(strlen(v1), big * 6 + strlen("{\"id\":\"\",\"label\":\"\"}") + 64);
    assert_memory_equal(v1, "{\"id\":\"", 7);
    assert_memory_equal(v1 + 7 + 64, "\",\"label\":\"\\u003c\\u003c", 22);
    size_t plen;
    free(verified_payload(r.body, r.body_len, "2024-01-01T00:00:00Z", &plen)); /* the default clock */
    json_decref(doc);
    ecrmock_http_response_release(&r);
    free(auth);
}

/* A config of 50,000 members, each written twice (the second value
 * counts): the newest entry holds each once, in name order. */
static void test_schema1_many_members(void **state)
{
    ecrmock *m = *state;
    create_repo(m, REPO);
    enum { N = 50000 };
    size_t cap = (size_t)N * 40 + 100, k = 0;
    char *cfg = malloc(cap);
    k += (size_t)snprintf(cfg + k, cap - k, "{\"history\":[{}],\"rootfs\":{\"diff_ids\":[\"x\"]}");
    for (int round = 0; round < 2; round++)
        for (int i = N - 1; i >= 0; i--)
            k += (size_t)snprintf(cfg + k, cap - k, ",\"m%05d\": %d", i, round);
    snprintf(cfg + k, cap - k, "}");
    const char *layers[] = {"one"};
    char ld[1][ECRMOCK_DIGEST_SIZE];
    free(push_image(m, cfg, layers, 1, "many", ld));
    char *auth = login(m);
    ecrmock_http_response r;
    assert_int_equal(pull(m, &r, auth, "GET", "many", S1_SIGNED), 200);
    json_t *doc = json_loads(r.body, 0, NULL);
    const char *v1 = jstr(json_array_get(json_object_get(doc, "history"), 0), "v1Compatibility");
    char id[65], *in = malloc(strlen(cfg) + 100);
    sprintf(in, "%s  %s", ld[0] + 7, cfg);
    sha256_hex(in, strlen(in), id);
    char *want = malloc((size_t)N * 12 + 100);
    k = (size_t)sprintf(want, "{\"id\":\"%s\"", id);
    for (int i = 0; i < N; i++)
        k += (size_t)sprintf(want + k, ",\"m%05d\":1", i);
    strcpy(want + k, "}");
    assert_string_equal(v1, want);
    json_decref(doc);
    ecrmock_http_response_release(&r);
    free(want);
    free(in);
    free(cfg);
    free(auth);
}

/* A before-hook that moves tag v1 to another image while the pull's
 * BatchGetImage runs (once). */
typedef struct retag {
    ecrmock *m;
    char *manifest;
    int calls;
} retag;

static void retag_hook(void *user, const char *action, json_t *request, ecrmock_injection *inject)
{
    (void)request;
    (void)inject;
    retag *rt = user;
    if (strcmp(action, "BatchGetImage") != 0 || rt->calls++)
        return;
    free(put_image(rt->m, REPO, rt->manifest, "v1"));
}

/* The tag moved by a hook between the conversion and the action: the
 * converted text of the image the tag left is not sent for the one the
 * action found (which the client does not take): MANIFEST_UNKNOWN, as
 * without a conversion; the next pull converts the new image. */
static void test_schema1_tag_moved_by_a_hook(void **state)
{
    ecrmock *m = *state;
    create_repo(m, REPO);
    const char *layers[] = {"bottom layer", "top layer"}, *others[] = {"other bottom", "other top"};
    char ld[2][ECRMOCK_DIGEST_SIZE];
    free(push_image(m, config_text, layers, 2, "v1", ld));
    char *moved_to = push_image(m, config_text, others, 2, "b", ld);
    json_t *out = NULL;
    assert_int_equal(call(m, &out, "BatchGetImage", "{\"repositoryName\": \"" REPO "\", \"imageIds\": "
                                                   "[{\"imageTag\": \"b\"}]}"),
                     200);
    retag rt = {m, strdup(jstr(json_array_get(json_object_get(out, "images"), 0), "imageManifest")), 0};
    json_decref(out);
    char *auth = login(m);
    ecrmock_http_response r;
    ecrmock_hooks_set(m, retag_hook, NULL, &rt);
    assert_int_equal(pull(m, &r, auth, "GET", "v1", S1_SIGNED), 404);
    assert_manifest_unknown(&r);
    ecrmock_hooks_set(m, NULL, NULL, NULL);
    assert_int_equal(rt.calls, 1);
    assert_int_equal(pull(m, &r, auth, "GET", "v1", S1_SIGNED), 200);
    json_t *doc = json_loads(r.body, 0, NULL);
    assert_string_equal(jstr(json_array_get(json_object_get(doc, "fsLayers"), 0), "blobSum"), ld[1]);
    json_decref(doc);
    ecrmock_http_response_release(&r);
    json_t *d = describe_image(m, REPO, moved_to);
    assert_int_equal(json_array_size(json_object_get(d, "imageTags")), 2);
    json_decref(d);
    free(rt.manifest);
    free(moved_to);
    free(auth);
}

/* Attack: an expansion that asks for gigabytes.  Each history entry of the
 * config, 3 bytes of "{}," with "empty_layer", is an entry of about 400
 * bytes in the schema 1 text (an id, a parent, a created time and the
 * fsLayers line), all made in memory under the instance's lock: a 20 MiB
 * config asked for 2.8 GB, its RSS five times more.  The payload is
 * bounded, 32 MiB (eight times ECR's largest manifest, 4,194,304
 * characters): past it, no conversion (404 MANIFEST_UNKNOWN, as any Accept
 * ECR cannot meet); the image's own manifest is still served to a client
 * that accepts it. */
static char *empty_history(size_t n)
{
    const char *head = "{\"rootfs\":{\"diff_ids\":[\"x\"]},\"history\":[";
    size_t k = strlen(head);
    char *cfg = malloc(k + n * 21 + 8);
    memcpy(cfg, head, k);
    for (size_t i = 0; i < n; i++, k += 21)
        memcpy(cfg + k, "{\"empty_layer\":true},", 21);
    strcpy(cfg + k, "{}]}");
    return cfg;
}

static void test_schema1_payload_bounded(void **state)
{
    ecrmock *m = *state;
    create_repo(m, REPO);
    const char *layers[] = {"one"};
    char ld[1][ECRMOCK_DIGEST_SIZE];
    /* 85,000 entries: about 34.9 MB of payload, just past the bound (33.5 MB) */
    char *cfg = empty_history(85000);
    free(push_image(m, cfg, layers, 1, "huge", ld));
    free(cfg);
    /* 75,000: about 30.7 MB, under it */
    cfg = empty_history(75000);
    free(push_image(m, cfg, layers, 1, "big", ld));
    free(cfg);
    char *auth = login(m);
    ecrmock_http_response r;
    assert_int_equal(pull(m, &r, auth, "GET", "huge", S1_SIGNED), 404);
    assert_manifest_unknown(&r);
    assert_int_equal(pull(m, &r, auth, "GET", "huge", S1_SIGNED ", " V2), 200);
    assert_header(&r, "Content-Type", V2);
    ecrmock_http_response_release(&r);
    assert_int_equal(pull(m, &r, auth, "GET", "big", S1_SIGNED), 200);
    assert_header(&r, "Content-Type", S1_SIGNED);
    json_t *doc = json_loadb(r.body, r.body_len, 0, NULL);
    assert_int_equal(json_array_size(json_object_get(doc, "history")), 75001);
    json_decref(doc);
    ecrmock_http_response_release(&r);
    free(auth);
}

/* ---- out of memory ------------------------------------------------------------------------ */

static long oom_at = -1, oom_count;
static size_t largest_alloc; /* the largest block asked for so far */

static void *oom_malloc(size_t n)
{
    largest_alloc = n > largest_alloc ? n : largest_alloc;
    return oom_at >= 0 && ++oom_count == oom_at ? NULL : malloc(n);
}

static void *oom_realloc(void *p, size_t n)
{
    largest_alloc = n > largest_alloc ? n : largest_alloc;
    return oom_at >= 0 && ++oom_count == oom_at ? NULL : realloc(p, n);
}

/* Each of ecrmock's allocations of a schema 1 pull failing in turn: an empty
 * response (-1), the action's 500, or the whole manifest; never
 * MANIFEST_UNKNOWN for an image that converts, and no leak. */
static void test_schema1_out_of_memory(void **state)
{
    ecrmock *m = *state;
    create_repo(m, REPO);
    const char *layers[] = {"bottom layer", "top layer"};
    char ld[2][ECRMOCK_DIGEST_SIZE];
    free(push_image(m, config_text, layers, 2, "v1", ld));
    char *auth = login(m);
    ecrmock_http_response r;
    assert_int_equal(pull(m, &r, auth, "GET", "v1", S1_SIGNED), 200);
    char *want = strdup(r.body);
    ecrmock_http_response_release(&r);
    for (int k = 0; k < 2; k++) {
        const char *method = k ? "HEAD" : "GET";
        for (long n = 1;; n++) {
            oom_count = 0;
            oom_at = n;
            int st = pull(m, &r, auth, method, "v1", S1_SIGNED);
            bool met = oom_count >= n;
            oom_at = -1;
            if (st < 0) {
                assert_null(r.headers);
                assert_null(r.body);
            } else if (st != 500 || !met) {
                assert_int_equal(st, 200);
                if (!k)
                    assert_string_equal(r.body, want);
            }
            ecrmock_http_response_release(&r);
            if (!met)
                break;
        }
    }
    free(want);
    free(auth);
}

/* Attack: the config's members were counted by its ':' characters, a ':'
 * inside a string too, and an array of 40 bytes each made and zeroed: a
 * config with a label of 8 MiB of ':' asked for 335 MB at once to convert. */
static void test_schema1_colons_in_a_string(void **state)
{
    ecrmock *m = *state;
    create_repo(m, REPO);
    push_labelled(m, "colons", ':', (size_t)8 << 20);
    char *auth = login(m);
    ecrmock_http_response r;
    largest_alloc = 0;
    assert_int_equal(pull(m, &r, auth, "GET", "colons", S1_SIGNED), 200);
    /* the texts' buffers (the config's 8 MiB, twice over in the payload and the JWS input) */
    if (largest_alloc > (size_t)64 << 20)
        fail_msg("the conversion asked for %zu bytes at once", largest_alloc);
    ecrmock_http_response_release(&r);
    free(auth);
}

/* Attack: the config is read whole as a tree before anything is bounded:
 * 33 MiB of "1," made 17 million integers (about 900 MB).  A config
 * larger than the payload's bound (its text goes into the payload) does
 * not convert, unread: 404 MANIFEST_UNKNOWN, as the payload's own bound. */
static size_t jansson_bytes;

static void *counting_json_malloc(size_t n)
{
    jansson_bytes += n;
    return malloc(n);
}

static void test_schema1_config_past_the_bound_unread(void **state)
{
    ecrmock *m = *state;
    create_repo(m, REPO);
    size_t n = ((size_t)33 << 20) / 2;
    const char *head = "{\"history\":[{}],\"rootfs\":{\"diff_ids\":[\"x\"]},\"a\":[";
    char *cfg = malloc(strlen(head) + 2 * n + 8);
    size_t k = strlen(head);
    memcpy(cfg, head, k);
    for (size_t i = 0; i < n; i++, k += 2)
        memcpy(cfg + k, "1,", 2);
    strcpy(cfg + k, "1]}");
    const char *layers[] = {"one"};
    char ld[1][ECRMOCK_DIGEST_SIZE];
    free(push_image(m, cfg, layers, 1, "ints", ld));
    free(cfg);
    char *auth = login(m);
    ecrmock_http_response r;
    jansson_bytes = 0;
    json_set_alloc_funcs(counting_json_malloc, free);
    int st = pull(m, &r, auth, "GET", "ints", S1_SIGNED);
    json_set_alloc_funcs(malloc, free);
    assert_int_equal(st, 404);
    assert_manifest_unknown(&r);
    if (jansson_bytes > (size_t)16 << 20)
        fail_msg("the pull made %zu bytes of JSON trees", jansson_bytes);
    free(auth);
}

/* An image whose config a fixture declared (a digest and a size, no bytes):
 * nothing to build the history from, so no schema 1 (MANIFEST_UNKNOWN), and
 * nothing read from the bytes it does not have. */
static void test_schema1_declared_config(void **state)
{
    ecrmock *m = *state;
    const char *cfg = "sha256:3333333333333333333333333333333333333333333333333333333333333333";
    const char *lay = "sha256:4444444444444444444444444444444444444444444444444444444444444444";
    char manifest[1024], fixture[2048], quoted_manifest[1200];
    snprintf(manifest, sizeof manifest,
             "{\"schemaVersion\":2,\"mediaType\":\"" V2 "\",\"config\":{\"mediaType\":\"" DOCKER_CONFIG
             "\",\"size\":4096,\"digest\":\"%s\"},\"layers\":[{\"mediaType\":\"" DOCKER_LAYER
             "\",\"size\":1048576,\"digest\":\"%s\"}]}",
             cfg, lay);
    quoted(quoted_manifest, sizeof quoted_manifest, manifest);
    snprintf(fixture, sizeof fixture,
             "{\"registries\": [{\"repositories\": [{\"name\": \"" REPO "\", \"layers\": ["
             "{\"declaredSize\": 4096, \"digest\": \"%s\"}, {\"declaredSize\": 1048576, \"digest\": \"%s\"}], "
             "\"images\": [{\"tags\": [\"v1\"], \"manifest\": %s}]}]}]}",
             cfg, lay, quoted_manifest);
    ecrmock_err err;
    if (ecrmock_fixture_load_string(m, fixture, "declared.json", &err) != 0)
        fail_msg("%s: %s", err.path, err.text);
    char *auth = login(m);
    ecrmock_http_response r;
    assert_int_equal(pull(m, &r, auth, "GET", "v1", S1_SIGNED), 404);
    assert_manifest_unknown(&r);
    assert_int_equal(pull(m, &r, auth, "GET", "v1", V2), 200);
    assert_int_equal(r.body_len, strlen(manifest));
    assert_memory_equal(r.body, manifest, r.body_len);
    ecrmock_http_response_release(&r);
    free(auth);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_schema1_from_schema2_by_tag, setup_mock, teardown_mock),
        cmocka_unit_test_setup_teardown(test_schema1_only_when_it_can, setup_mock, teardown_mock),
        cmocka_unit_test_setup_teardown(test_schema1_config_members, setup_mock, teardown_mock),
        cmocka_unit_test(test_schema1_deterministic),
        cmocka_unit_test_setup_teardown(test_schema1_huge_config, setup_mock, teardown_mock),
        cmocka_unit_test_setup_teardown(test_schema1_many_members, setup_mock, teardown_mock),
        cmocka_unit_test_setup_teardown(test_schema1_tag_moved_by_a_hook, setup_mock, teardown_mock),
        cmocka_unit_test_setup_teardown(test_schema1_payload_bounded, setup_mock, teardown_mock),
        cmocka_unit_test_setup_teardown(test_schema1_colons_in_a_string, setup_mock, teardown_mock),
        cmocka_unit_test_setup_teardown(test_schema1_config_past_the_bound_unread, setup_mock, teardown_mock),
        cmocka_unit_test_setup_teardown(test_schema1_out_of_memory, setup_mock, teardown_mock),
        cmocka_unit_test_setup_teardown(test_schema1_declared_config, setup_mock, teardown_mock),
    };
    ecrmock_set_alloc_funcs(oom_malloc, oom_realloc, free);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
