/*
 * Layer uploads: InitiateLayerUpload, UploadLayerPart, CompleteLayerUpload
 * and BatchCheckLayerAvailability, each checked against what ECR answers
 * (status, __type, message, the error document's extra members) and against
 * the state left behind (the bytes a completed layer holds, an upload that
 * survives a failed call).
 */
#include "helpers.h"

#include <stdbool.h>

#include <openssl/evp.h>

#define ACCOUNT "123456789012"
#define REPO "layers/app"
#define MAX_PART 20971520 /* the model's LayerPartBlob max, in decoded bytes */

/* ---- local helpers ---------------------------------------------------------- */

/* Fills buf with bytes that depend on `seed` (so that layers differ). */
static void fill(unsigned char *buf, size_t n, uint32_t seed)
{
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        buf[i] = (unsigned char)(x >> 16);
    }
}

static char *b64(const void *p, size_t n)
{
    char *out = malloc(4 * ((n + 2) / 3) + 1);
    assert_non_null(out);
    EVP_EncodeBlock((unsigned char *)out, p, (int)n);
    return out;
}

/* UploadLayerPart with `len` bytes (base64-encoded here); returns the status. */
static int upload_part(ecrmock *m, json_t **resp, const char *repo, const char *id, long long first, long long last,
                       const void *bytes, size_t len)
{
    char *text = b64(bytes, len);
    json_t *req = json_pack("{s:s, s:s, s:I, s:I, s:s}", "repositoryName", repo, "uploadId", id, "partFirstByte",
                            (json_int_t)first, "partLastByte", (json_int_t)last, "layerPartBlob", text);
    free(text);
    assert_non_null(req);
    int st = ecrmock_call(m, "UploadLayerPart", req, resp);
    json_decref(req);
    return st;
}

/* Uploads one part that must be accepted, and checks the response. */
static void part_ok(ecrmock *m, const char *repo, const char *id, long long first, const void *bytes, size_t len)
{
    json_t *r = NULL;
    long long last = first + (long long)len - 1;
    assert_ok(upload_part(m, &r, repo, id, first, last, bytes, len), r);
    assert_string_equal(json_string_value(json_object_get(r, "registryId")), ACCOUNT);
    assert_string_equal(json_string_value(json_object_get(r, "repositoryName")), repo);
    assert_string_equal(json_string_value(json_object_get(r, "uploadId")), id);
    assert_int_equal(json_integer_value(json_object_get(r, "lastByteReceived")), last);
    assert_int_equal(json_object_size(r), 4);
    json_decref(r);
}

static int complete(ecrmock *m, json_t **resp, const char *repo, const char *id, const char *digest)
{
    return call(m, resp, "CompleteLayerUpload",
                "{\"repositoryName\": \"%s\", \"uploadId\": \"%s\", \"layerDigests\": [\"%s\"]}", repo, id, digest);
}

static void complete_ok(ecrmock *m, const char *repo, const char *id, const char *digest)
{
    json_t *r = NULL;
    assert_ok(complete(m, &r, repo, id, digest), r);
    assert_string_equal(json_string_value(json_object_get(r, "layerDigest")), digest);
    json_decref(r);
}

/* Asserts the layer `digest` of `repo` holds exactly bytes[0..len). */
static void assert_layer_bytes(ecrmock *m, const char *repo, const char *digest, const void *bytes, size_t len)
{
    void *got = NULL;
    size_t got_len = 0;
    assert_int_equal(ecrmock_get_layer(m, NULL, repo, digest, &got, &got_len, NULL), ECRMOCK_ERR_OK);
    assert_int_equal(got_len, len);
    if (len)
        assert_memory_equal(got, bytes, len);
    free(got);
}

static void assert_layer_absent(ecrmock *m, const char *repo, const char *digest)
{
    void *got = NULL;
    size_t got_len = 0;
    assert_int_equal(ERR_CODE(ecrmock_get_layer(m, NULL, repo, digest, &got, &got_len, &test_err)), ECRMOCK_ERR_LAYERS_NOT_FOUND);
    assert_null(got);
}

/* Asserts an InvalidLayerPartException with its message and members. */
static void assert_invalid_part(int st, json_t *r, const char *repo, const char *id, const char *message,
                                long long last_valid)
{
    assert_int_equal(st, 400);
    assert_string_equal(err_type(r), "InvalidLayerPartException");
    assert_string_equal(err_message(r), message);
    assert_string_equal(json_string_value(json_object_get(r, "registryId")), ACCOUNT);
    assert_string_equal(json_string_value(json_object_get(r, "repositoryName")), repo);
    assert_string_equal(json_string_value(json_object_get(r, "uploadId")), id);
    json_t *lv = json_object_get(r, "lastValidByteReceived");
    assert_true(json_is_integer(lv));
    assert_int_equal(json_integer_value(lv), last_valid);
    json_decref(r);
}

static void assert_upload_not_found(int st, json_t *r, const char *repo, const char *id)
{
    char want[512];
    snprintf(want, sizeof want,
             "The upload with id '%s' does not exist in the repository with name '%s' in registry with id '" ACCOUNT
             "'",
             id, repo);
    assert_fail_msg(st, &r, "UploadNotFoundException", want);
}

static bool is_lower_uuid(const char *s)
{
    if (strlen(s) != 36)
        return false;
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return false;
        } else if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
            return false;
        }
    }
    return true;
}

static ecrmock *new_mock(uint64_t seed)
{
    ecrmock_options o = ECRMOCK_OPTIONS_INIT;
    o.seed = seed;
    o.min_part_size = 1024;
    ecrmock *m = ecrmock_new(&o);
    assert_non_null(m);
    return m;
}

/* ---- InitiateLayerUpload ------------------------------------------------------ */

static void test_initiate_layer_upload_returns_uuid_and_part_size(void **state)
{
    ecrmock *m = *state;
    create_repo(m, REPO);
    json_t *r = NULL;
    assert_ok(call(m, &r, "InitiateLayerUpload", "{\"repositoryName\": \"" REPO "\"}"), r);
    const char *id = json_string_value(json_object_get(r, "uploadId"));
    assert_non_null(id);
    if (!is_lower_uuid(id))
        fail_msg("uploadId '%s' is not a lower-case UUID", id);
    json_t *ps = json_object_get(r, "partSize");
    assert_true(json_is_integer(ps));
    assert_int_equal(json_integer_value(ps), 2048); /* twice the 1 KiB minimum of setup_mock */
    assert_int_equal(json_object_size(r), 2);
    json_decref(r);

    /* With an explicit registryId (the caller's) as well. */
    assert_ok(call(m, &r, "InitiateLayerUpload", "{\"registryId\": \"" ACCOUNT "\", \"repositoryName\": \"" REPO "\"}"),
              r);
    assert_true(is_lower_uuid(json_string_value(json_object_get(r, "uploadId"))));
    json_decref(r);
}

static int64_t part_size_for(uint64_t min_part_size)
{
    ecrmock_options o = ECRMOCK_OPTIONS_INIT;
    o.min_part_size = min_part_size;
    ecrmock *m = ecrmock_new(&o);
    assert_non_null(m);
    create_repo(m, REPO);
    json_t *r = NULL;
    assert_ok(call(m, &r, "InitiateLayerUpload", "{\"repositoryName\": \"" REPO "\"}"), r);
    int64_t size = json_integer_value(json_object_get(r, "partSize"));
    json_decref(r);
    ecrmock_free(m);
    return size;
}

/* partSize follows min_part_size: twice it, as ECR's 10485760 is twice its
 * 5 MiB minimum, at most the largest blob (20,971,520 bytes) unless the
 * minimum is larger; it used to be 10485760 whatever the minimum, so that
 * a client honouring it never went multi-part in a test. */
static void test_initiate_layer_upload_part_size_follows_min_part_size(void **state)
{
    (void)state;
    assert_int_equal(part_size_for(0), 10485760); /* ECR's */
    assert_int_equal(part_size_for(5242880), 10485760);
    assert_int_equal(part_size_for(1), 2);
    assert_int_equal(part_size_for(1024), 2048);
    assert_int_equal(part_size_for(10485760), 20971520);
    assert_int_equal(part_size_for(15 << 20), 20971520);
    assert_int_equal(part_size_for(20971521), 20971521);
    assert_true(part_size_for(UINT64_C(1) << 62) == INT64_C(1) << 62);
    assert_true(part_size_for(UINT64_MAX) == INT64_MAX);

    /* A client that sends parts of partSize: 5000 bytes go as 2048 + 2048 + 904 */
    ecrmock *m = new_mock(0);
    create_repo(m, REPO);
    json_t *r = NULL;
    assert_ok(call(m, &r, "InitiateLayerUpload", "{\"repositoryName\": \"" REPO "\"}"), r);
    size_t part = (size_t)json_integer_value(json_object_get(r, "partSize"));
    char id[37];
    snprintf(id, sizeof id, "%s", json_string_value(json_object_get(r, "uploadId")));
    json_decref(r);
    unsigned char data[5000];
    fill(data, sizeof data, 11);
    int parts = 0;
    for (size_t at = 0; at < sizeof data; at += part, parts++)
        part_ok(m, REPO, id, (long long)at, data + at, sizeof data - at < part ? sizeof data - at : part);
    assert_int_equal(parts, 3);
    char digest[ECRMOCK_DIGEST_SIZE];
    sha256_digest(data, sizeof data, digest);
    complete_ok(m, REPO, id, digest);
    assert_layer_bytes(m, REPO, digest, data, sizeof data);
    ecrmock_free(m);
}

static void test_initiate_layer_upload_repository_not_found(void **state)
{
    ecrmock *m = *state;
    json_t *r = NULL;
    int st = call(m, &r, "InitiateLayerUpload", "{\"repositoryName\": \"missing\"}");
    assert_repo_not_found(st, &r, "missing", ACCOUNT);

    st = call(m, &r, "InitiateLayerUpload", "{\"registryId\": \"210987654321\", \"repositoryName\": \"missing\"}");
    assert_repo_not_found(st, &r, "missing", "210987654321");
}

static void test_initiate_layer_upload_ids_deterministic(void **state)
{
    (void)state;
    ecrmock *a = new_mock(42), *b = new_mock(42), *c = new_mock(43);
    create_repo(a, REPO);
    create_repo(b, REPO);
    create_repo(c, REPO);
    char a1[37], a2[37], b1[37], b2[37], c1[37], r1[37];
    initiate_upload(a, REPO, a1);
    initiate_upload(a, REPO, a2);
    initiate_upload(b, REPO, b1);
    initiate_upload(b, REPO, b2);
    initiate_upload(c, REPO, c1);
    assert_string_equal(a1, b1);
    assert_string_equal(a2, b2);
    assert_string_not_equal(a1, a2);
    assert_string_not_equal(a1, c1);
    /* A reset puts the generator back where ecrmock_new() left it. */
    ecrmock_reset(a);
    create_repo(a, REPO);
    initiate_upload(a, REPO, r1);
    assert_string_equal(r1, b1);
    ecrmock_free(a);
    ecrmock_free(b);
    ecrmock_free(c);
}

/* ---- UploadLayerPart ---------------------------------------------------------- */

static void test_upload_layer_part_multi_part_round_trip(void **state)
{
    ecrmock *m = *state;
    create_repo(m, REPO);
    enum { N = 1024 + 1500 + 100 };
    unsigned char data[N];
    fill(data, N, 1);
    char id[37], digest[ECRMOCK_DIGEST_SIZE];
    sha256_digest(data, N, digest);
    initiate_upload(m, REPO, id);
    part_ok(m, REPO, id, 0, data, 1024);
    part_ok(m, REPO, id, 1024, data + 1024, 1500);
    part_ok(m, REPO, id, 2524, data + 2524, 100);
    assert_layer_absent(m, REPO, digest); /* not a layer before it is completed */
    complete_ok(m, REPO, id, digest);
    assert_layer_bytes(m, REPO, digest, data, N);
}

/* An upload of `n` bytes (fill() with `seed`): the first `sent` of them go in
 * as one part, then UploadLayerPart of `len` bytes from offset `off` as the
 * range first..last is refused with `message` and lastValidByteReceived
 * `last_valid`; the rest still goes in as one part, and the completed layer
 * holds exactly the bytes, nothing of the refused part. */
static void assert_part_refused_then_upload_completes(ecrmock *m, size_t n, uint32_t seed, size_t sent,
                                                      long long first, long long last, size_t off, size_t len,
                                                      const char *message, long long last_valid)
{
    unsigned char data[2048];
    assert_true(n <= sizeof data && sent <= n && off + len <= n);
    fill(data, n, seed);
    char id[37], digest[ECRMOCK_DIGEST_SIZE];
    sha256_digest(data, n, digest);
    create_repo(m, REPO);
    initiate_upload(m, REPO, id);
    if (sent)
        part_ok(m, REPO, id, 0, data, sent);
    json_t *r = NULL;
    int st = upload_part(m, &r, REPO, id, first, last, data + off, len);
    assert_invalid_part(st, r, REPO, id, message, last_valid);
    part_ok(m, REPO, id, (long long)sent, data + sent, n - sent);
    complete_ok(m, REPO, id, digest);
    assert_layer_bytes(m, REPO, digest, data, n);
}

static void test_upload_layer_part_gap(void **state)
{
    assert_part_refused_then_upload_completes(*state, 2048, 2, 1024, 1025, 2047, 1025, 1023,
                                              "First byte of the layer part is 1025 instead of 1024", 1023);
}

static void test_upload_layer_part_overlap(void **state)
{
    ecrmock *m = *state;
    create_repo(m, REPO);
    unsigned char data[2048];
    fill(data, sizeof data, 3);
    char id[37], digest[ECRMOCK_DIGEST_SIZE];
    sha256_digest(data, sizeof data, digest);
    initiate_upload(m, REPO, id);
    part_ok(m, REPO, id, 0, data, 1024);
    json_t *r = NULL;
    int st = upload_part(m, &r, REPO, id, 1000, 2047, data + 1000, 1048);
    assert_invalid_part(st, r, REPO, id, "First byte of the layer part is 1000 instead of 1024", 1023);
    /* Sending the first part again is an overlap too. */
    st = upload_part(m, &r, REPO, id, 0, 1023, data, 1024);
    assert_invalid_part(st, r, REPO, id, "First byte of the layer part is 0 instead of 1024", 1023);
    part_ok(m, REPO, id, 1024, data + 1024, 1024);
    complete_ok(m, REPO, id, digest);
    assert_layer_bytes(m, REPO, digest, data, sizeof data);
}

static void test_upload_layer_part_first_part_not_at_zero(void **state)
{
    assert_part_refused_then_upload_completes(*state, 100, 4, 0, 5, 104, 0, 100,
                                              "First byte of the layer part is 5 instead of 0", -1);
}

static void test_upload_layer_part_last_before_first(void **state)
{
    assert_part_refused_then_upload_completes(*state, 1124, 5, 1024, 1024, 1000, 1024, 100,
                                              "Last byte of the layer part is 1000, before its first byte 1024", 1023);
}

static void test_upload_layer_part_range_length_differs_from_blob(void **state)
{
    ecrmock *m = *state;
    create_repo(m, REPO);
    unsigned char data[10];
    fill(data, sizeof data, 6);
    char id[37], digest[ECRMOCK_DIGEST_SIZE];
    sha256_digest(data, sizeof data, digest);
    initiate_upload(m, REPO, id);
    json_t *r = NULL;
    /* A range of 10 bytes carrying 5. */
    int st = upload_part(m, &r, REPO, id, 0, 9, data, 5);
    assert_invalid_part(st, r, REPO, id, "The layer part's byte range holds 10 bytes but its blob has 5", -1);
    /* A range of 3 bytes carrying 10. */
    st = upload_part(m, &r, REPO, id, 0, 2, data, 10);
    assert_invalid_part(st, r, REPO, id, "The layer part's byte range holds 3 bytes but its blob has 10", -1);
    /* An empty blob: the inclusive range 0..0 is one byte. */
    st = upload_part(m, &r, REPO, id, 0, 0, data, 0);
    assert_invalid_part(st, r, REPO, id, "The layer part's byte range holds 1 bytes but its blob has 0", -1);
    part_ok(m, REPO, id, 0, data, 10);
    complete_ok(m, REPO, id, digest);
    assert_layer_bytes(m, REPO, digest, data, sizeof data);
}

/* partFirstByte and partLastByte at the ends of their range (0 to INT64_MAX,
 * a Long of minimum 0): ECR's InvalidLayerPartException with the sizes as
 * they are (the range 0..INT64_MAX holds 2^63 bytes), never a wrapped
 * negative count; below 0, the validation error.  The upload is untouched. */
static void test_upload_layer_part_int64_edges(void **state)
{
    ecrmock *m = *state;
    create_repo(m, REPO);
    unsigned char data[1029];
    fill(data, sizeof data, 9);
    char id[37], digest[ECRMOCK_DIGEST_SIZE];
    initiate_upload(m, REPO, id);
    json_t *r = NULL;
    int st = upload_part(m, &r, REPO, id, 0, INT64_MAX, data, 5);
    assert_invalid_part(st, r, REPO, id,
                        "The layer part's byte range holds 9223372036854775808 bytes but its blob has 5", -1);
    st = upload_part(m, &r, REPO, id, INT64_MAX, INT64_MAX, data, 1);
    assert_invalid_part(st, r, REPO, id, "First byte of the layer part is 9223372036854775807 instead of 0", -1);
    part_ok(m, REPO, id, 0, data, 1024);
    st = upload_part(m, &r, REPO, id, 1024, INT64_MAX, data + 1024, 5);
    assert_invalid_part(st, r, REPO, id,
                        "The layer part's byte range holds 9223372036854774784 bytes but its blob has 5", 1023);
    st = upload_part(m, &r, REPO, id, INT64_MIN, 1028, data + 1024, 5);
    assert_fail_msg(st, &r, "InvalidParameterException",
                    "Invalid parameter at 'partFirstByte' failed to satisfy constraint: 'Member must have value greater "
                    "than or equal to 0'");
    st = upload_part(m, &r, REPO, id, 1024, INT64_MIN, data + 1024, 5);
    assert_fail_msg(st, &r, "InvalidParameterException",
                    "Invalid parameter at 'partLastByte' failed to satisfy constraint: 'Member must have value greater "
                    "than or equal to 0'");
    part_ok(m, REPO, id, 1024, data + 1024, 5);
    sha256_digest(data, sizeof data, digest);
    complete_ok(m, REPO, id, digest);
    assert_layer_bytes(m, REPO, digest, data, sizeof data);
}

static void test_upload_layer_part_unknown_upload_id(void **state)
{
    ecrmock *m = *state;
    create_repo(m, REPO);
    const char *id = "0b7c2a6e-3f41-4d2a-9e8b-5c1d0f2a3b4c";
    json_t *r = NULL;
    int st = upload_part(m, &r, REPO, id, 0, 3, "abcd", 4);
    assert_upload_not_found(st, r, REPO, id);
}

static void test_upload_layer_part_upload_of_other_repository(void **state)
{
    ecrmock *m = *state;
    create_repo(m, REPO);
    create_repo(m, "other");
    char id[37], digest[ECRMOCK_DIGEST_SIZE];
    initiate_upload(m, REPO, id);
    json_t *r = NULL;
    int st = upload_part(m, &r, "other", id, 0, 3, "abcd", 4);
    assert_upload_not_found(st, r, "other", id);
    st = complete(m, &r, "other", id, "sha256:88d4266fd4e6338d13b845fcf289579d209c897823b9217da3e161936f031589");
    assert_upload_not_found(st, r, "other", id);
    /* The upload is still there in its own repository. */
    part_ok(m, REPO, id, 0, "abcd", 4);
    sha256_digest("abcd", 4, digest);
    complete_ok(m, REPO, id, digest);
    assert_layer_bytes(m, REPO, digest, "abcd", 4);
    assert_layer_absent(m, "other", digest);
}

static void test_upload_layer_part_after_complete(void **state)
{
    ecrmock *m = *state;
    create_repo(m, REPO);
    char id[37], digest[ECRMOCK_DIGEST_SIZE];
    sha256_digest("abcd", 4, digest);
    initiate_upload(m, REPO, id);
    part_ok(m, REPO, id, 0, "abcd", 4);
    complete_ok(m, REPO, id, digest);
    json_t *r = NULL;
    int st = upload_part(m, &r, REPO, id, 4, 7, "efgh", 4);
    assert_upload_not_found(st, r, REPO, id);
    st = complete(m, &r, REPO, id, digest);
    assert_upload_not_found(st, r, REPO, id);
    assert_layer_bytes(m, REPO, digest, "abcd", 4);
}

static void test_upload_layer_part_expired_upload(void **state)
{
    (void)state;
    ecrmock_options o = ECRMOCK_OPTIONS_INIT;
    o.upload_lifetime_ms = 60000;
    o.min_part_size = 1024;
    ecrmock *m = ecrmock_new(&o);
    assert_non_null(m);
    create_repo(m, REPO);
    char idle[37], busy[37], edge[37], digest[ECRMOCK_DIGEST_SIZE];
    unsigned char data[2048];
    fill(data, sizeof data, 7);
    sha256_digest(data, sizeof data, digest);
    initiate_upload(m, REPO, idle);
    initiate_upload(m, REPO, busy);
    initiate_upload(m, REPO, edge);
    ecrmock_clock_advance(m, 40000, NULL);
    part_ok(m, REPO, busy, 0, data, 1024); /* touched: its hour starts again */
    ecrmock_clock_advance(m, 20000, NULL);
    /* Exactly the lifetime unused: not longer than it, still there. */
    part_ok(m, REPO, edge, 0, "x", 1);
    ecrmock_clock_advance(m, 1, NULL);
    /* `idle` has now been unused for 60,001 ms. */
    json_t *r = NULL;
    int st = upload_part(m, &r, REPO, idle, 0, 3, "abcd", 4);
    assert_upload_not_found(st, r, REPO, idle);
    st = complete(m, &r, REPO, idle, digest);
    assert_upload_not_found(st, r, REPO, idle);
    part_ok(m, REPO, busy, 1024, data + 1024, 1024);
    complete_ok(m, REPO, busy, digest);
    assert_layer_bytes(m, REPO, digest, data, sizeof data);
    /* An expired upload that held parts is gone for good, even for Complete. */
    ecrmock_clock_advance(m, 60001, NULL);
    char edge_digest[ECRMOCK_DIGEST_SIZE];
    sha256_digest("x", 1, edge_digest);
    st = complete(m, &r, REPO, edge, edge_digest);
    assert_upload_not_found(st, r, REPO, edge);
    assert_layer_absent(m, REPO, edge_digest);
    ecrmock_free(m);
}

static void test_upload_layer_part_limit_exceeded(void **state)
{
    (void)state;
    ecrmock_options o = ECRMOCK_OPTIONS_INIT;
    o.max_layer_parts = 3;
    o.min_part_size = 1024;
    ecrmock *m = ecrmock_new(&o);
    assert_non_null(m);
    create_repo(m, REPO);
    unsigned char data[4096];
    fill(data, sizeof data, 8);
    char id[37], digest[ECRMOCK_DIGEST_SIZE];
    initiate_upload(m, REPO, id);
    part_ok(m, REPO, id, 0, data, 1024);
    part_ok(m, REPO, id, 1024, data + 1024, 1024);
    part_ok(m, REPO, id, 2048, data + 2048, 1024);
    json_t *r = NULL;
    int st = upload_part(m, &r, REPO, id, 3072, 4095, data + 3072, 1024);
    char want[512];
    snprintf(want, sizeof want,
             "The upload with id '%s' in the repository with name '" REPO "' in registry with id '" ACCOUNT
             "' has exceeded the maximum allowed number of layer parts which is '3'",
             id);
    assert_fail_msg(st, &r, "LimitExceededException", want);
    /* The three parts stand: the upload completes with exactly them. */
    sha256_digest(data, 3072, digest);
    complete_ok(m, REPO, id, digest);
    assert_layer_bytes(m, REPO, digest, data, 3072);
    ecrmock_free(m);
}

static void test_upload_layer_part_blob_not_base64(void **state)
{
    ecrmock *m = *state;
    create_repo(m, REPO);
    char id[37];
    initiate_upload(m, REPO, id);
    json_t *r = NULL;
    int st = call(m, &r, "UploadLayerPart",
                  "{\"repositoryName\": \"" REPO "\", \"uploadId\": \"%s\", \"partFirstByte\": 0, "
                  "\"partLastByte\": 3, \"layerPartBlob\": \"ab!d\"}",
                  id);
    assert_int_equal(st, 400);
    assert_string_equal(err_type(r), "SerializationException");
    assert_string_equal(json_string_value(json_object_get(r, "Message")), "Base64 encoded value is not valid");
    json_decref(r);
    /* Nothing was taken: the first part still starts at 0. */
    part_ok(m, REPO, id, 0, "abc", 3);
}

static void test_upload_layer_part_blob_too_large(void **state)
{
    ecrmock *m = *state;
    create_repo(m, REPO);
    char id[37];
    initiate_upload(m, REPO, id);
    unsigned char *data = malloc(MAX_PART + 1);
    assert_non_null(data);
    fill(data, MAX_PART + 1, 9);

    json_t *r = NULL;
    int st = upload_part(m, &r, REPO, id, 0, MAX_PART, data, MAX_PART + 1);
    assert_fail_msg(st, &r, "InvalidParameterException",
                    "Invalid parameter at 'layerPartBlob' failed to satisfy constraint: "
                    "'must have length less than or equal to 20971520'");

    /* The largest part the model allows is accepted and stored exactly. */
    char digest[ECRMOCK_DIGEST_SIZE];
    sha256_digest(data, MAX_PART, digest);
    part_ok(m, REPO, id, 0, data, MAX_PART);
    free(data);
    complete_ok(m, REPO, id, digest);
    void *got = NULL;
    size_t got_len = 0;
    assert_int_equal(ecrmock_get_layer(m, NULL, REPO, digest, &got, &got_len, NULL), ECRMOCK_ERR_OK);
    assert_int_equal(got_len, MAX_PART);
    char got_digest[ECRMOCK_DIGEST_SIZE];
    sha256_digest(got, got_len, got_digest);
    assert_string_equal(got_digest, digest);
    free(got);
}

static void test_upload_layer_part_repository_not_found(void **state)
{
    ecrmock *m = *state;
    create_repo(m, REPO);
    char id[37];
    initiate_upload(m, REPO, id);
    json_t *r = NULL;
    int st = upload_part(m, &r, "missing", id, 0, 3, "abcd", 4);
    assert_repo_not_found(st, &r, "missing", ACCOUNT);
}

/* ---- CompleteLayerUpload ------------------------------------------------------- */

static void test_complete_layer_upload_empty_upload(void **state)
{
    ecrmock *m = *state;
    create_repo(m, REPO);
    char id[37];
    initiate_upload(m, REPO, id);
    json_t *r = NULL;
    int st = complete(m, &r, REPO, id, "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    char want[512];
    snprintf(want, sizeof want,
             "The upload with id '%s' in the repository with name '" REPO "' in registry with id '" ACCOUNT
             "' cannot be completed because it does not have any parts",
             id);
    assert_fail_msg(st, &r, "EmptyUploadException", want);
    /* The upload stays open. */
    part_ok(m, REPO, id, 0, "abcd", 4);
}

static void test_complete_layer_upload_part_too_small(void **state)
{
    ecrmock *m = *state;
    create_repo(m, REPO);
    unsigned char data[2048];
    fill(data, sizeof data, 10);
    char id[37], digest[ECRMOCK_DIGEST_SIZE];
    initiate_upload(m, REPO, id);
    part_ok(m, REPO, id, 0, data, 1023); /* one byte under the 1,024 minimum */
    part_ok(m, REPO, id, 1023, data + 1023, 1025);
    sha256_digest(data, sizeof data, digest);
    json_t *r = NULL;
    int st = complete(m, &r, REPO, id, digest);
    assert_fail_msg(st, &r, "LayerPartTooSmallException",
                    "All layer parts except the last part should be at least 1024 bytes");
    assert_layer_absent(m, REPO, digest);
}

/* With ECR's own 5 MiB minimum, the message is ECR's text. */
static void test_complete_layer_upload_part_too_small_default_minimum(void **state)
{
    (void)state;
    ecrmock *m = ecrmock_new(NULL);
    assert_non_null(m);
    create_repo(m, REPO);
    char id[37], digest[ECRMOCK_DIGEST_SIZE];
    initiate_upload(m, REPO, id);
    part_ok(m, REPO, id, 0, "first", 5);
    part_ok(m, REPO, id, 5, "second", 6);
    sha256_digest("firstsecond", 11, digest);
    json_t *r = NULL;
    int st = complete(m, &r, REPO, id, digest);
    assert_fail_msg(st, &r, "LayerPartTooSmallException",
                    "All layer parts except the last part should be at least 5MB");
    assert_layer_absent(m, REPO, digest);
    ecrmock_free(m);
}

static void test_complete_layer_upload_small_last_part(void **state)
{
    ecrmock *m = *state;
    create_repo(m, REPO);
    unsigned char data[2049];
    fill(data, sizeof data, 11);
    char id[37], digest[ECRMOCK_DIGEST_SIZE];
    /* Parts of exactly the minimum, then a 1-byte last part. */
    initiate_upload(m, REPO, id);
    part_ok(m, REPO, id, 0, data, 1024);
    part_ok(m, REPO, id, 1024, data + 1024, 1024);
    part_ok(m, REPO, id, 2048, data + 2048, 1);
    sha256_digest(data, sizeof data, digest);
    complete_ok(m, REPO, id, digest);
    assert_layer_bytes(m, REPO, digest, data, sizeof data);
    /* A single small part is the last part. */
    initiate_upload(m, REPO, id);
    part_ok(m, REPO, id, 0, "tiny", 4);
    sha256_digest("tiny", 4, digest);
    complete_ok(m, REPO, id, digest);
    assert_layer_bytes(m, REPO, digest, "tiny", 4);
}

static void test_complete_layer_upload_digest_mismatch(void **state)
{
    ecrmock *m = *state;
    create_repo(m, REPO);
    char id[37], digest[ECRMOCK_DIGEST_SIZE], wrong[ECRMOCK_DIGEST_SIZE];
    sha256_digest("payload", 7, digest);
    sha256_digest("payloaD", 7, wrong);
    initiate_upload(m, REPO, id);
    part_ok(m, REPO, id, 0, "payload", 7);
    json_t *r = NULL;
    int st = complete(m, &r, REPO, id, wrong);
    assert_fail_msg(st, &r, "InvalidLayerException",
                    "None of the provided layer digests match the calculated layer digest");
    assert_layer_absent(m, REPO, digest);
    assert_layer_absent(m, REPO, wrong);
    /* The upload survives; one matching digest among several completes it. */
    assert_ok(call(m, &r, "CompleteLayerUpload",
                   "{\"repositoryName\": \"" REPO "\", \"uploadId\": \"%s\", \"layerDigests\": [\"%s\", \"%s\"]}", id,
                   wrong, digest),
              r);
    assert_string_equal(json_string_value(json_object_get(r, "layerDigest")), digest);
    json_decref(r);
    assert_layer_bytes(m, REPO, digest, "payload", 7);
}

static void test_complete_layer_upload_layer_already_exists(void **state)
{
    ecrmock *m = *state;
    create_repo(m, REPO);
    char id[37], digest[ECRMOCK_DIGEST_SIZE];
    sha256_digest("same bytes", 10, digest);
    initiate_upload(m, REPO, id);
    part_ok(m, REPO, id, 0, "same bytes", 10);
    complete_ok(m, REPO, id, digest);
    initiate_upload(m, REPO, id);
    part_ok(m, REPO, id, 0, "same bytes", 10);
    json_t *r = NULL;
    int st = complete(m, &r, REPO, id, digest);
    char want[512];
    snprintf(want, sizeof want,
             "The layer with digest '%s' already exists in the repository with name '" REPO
             "' in registry with id '" ACCOUNT "'",
             digest);
    assert_fail_msg(st, &r, "LayerAlreadyExistsException", want);
    assert_layer_bytes(m, REPO, digest, "same bytes", 10);
}

static void test_complete_layer_upload_upload_not_found(void **state)
{
    ecrmock *m = *state;
    create_repo(m, REPO);
    const char *id = "6f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b";
    json_t *r = NULL;
    int st = complete(m, &r, REPO, id, "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    assert_upload_not_found(st, r, REPO, id);
}

static void test_complete_layer_upload_repository_not_found(void **state)
{
    ecrmock *m = *state;
    create_repo(m, REPO);
    char id[37];
    initiate_upload(m, REPO, id);
    part_ok(m, REPO, id, 0, "abcd", 4);
    json_t *r = NULL;
    int st = complete(m, &r, "missing", id, "sha256:88d4266fd4e6338d13b845fcf289579d209c897823b9217da3e161936f031589");
    assert_repo_not_found(st, &r, "missing", ACCOUNT);
}

static void test_complete_layer_upload_response_fields(void **state)
{
    ecrmock *m = *state;
    create_repo(m, REPO);
    char id[37], digest[ECRMOCK_DIGEST_SIZE];
    sha256_digest("hello layer", 11, digest);
    initiate_upload(m, REPO, id);
    part_ok(m, REPO, id, 0, "hello layer", 11);
    json_t *r = NULL;
    assert_ok(call(m, &r, "CompleteLayerUpload",
                   "{\"registryId\": \"" ACCOUNT "\", \"repositoryName\": \"" REPO
                   "\", \"uploadId\": \"%s\", \"layerDigests\": [\"%s\"]}",
                   id, digest),
              r);
    assert_string_equal(json_string_value(json_object_get(r, "registryId")), ACCOUNT);
    assert_string_equal(json_string_value(json_object_get(r, "repositoryName")), REPO);
    assert_string_equal(json_string_value(json_object_get(r, "uploadId")), id);
    assert_string_equal(json_string_value(json_object_get(r, "layerDigest")), digest);
    assert_int_equal(json_object_size(r), 4);
    json_decref(r);
    assert_layer_bytes(m, REPO, digest, "hello layer", 11);
}

/* ---- BatchCheckLayerAvailability ------------------------------------------------ */

static int check_layers(ecrmock *m, json_t **resp, const char *repo, json_t *digests)
{
    json_t *req = json_pack("{s:s, s:o}", "repositoryName", repo, "layerDigests", digests);
    assert_non_null(req);
    int st = ecrmock_call(m, "BatchCheckLayerAvailability", req, resp);
    json_decref(req);
    return st;
}

static void test_batch_check_layer_availability_present_layers(void **state)
{
    ecrmock *m = *state;
    create_repo(m, REPO);
    char d1[ECRMOCK_DIGEST_SIZE], d2[ECRMOCK_DIGEST_SIZE], want1[ECRMOCK_DIGEST_SIZE];
    unsigned char big[3000];
    fill(big, sizeof big, 12);
    sha256_digest("one", 3, want1);
    push_layer(m, REPO, "one", 3, d1);
    assert_string_equal(d1, want1);
    /* The second layer through the upload flow. */
    char id[37];
    initiate_upload(m, REPO, id);
    part_ok(m, REPO, id, 0, big, sizeof big);
    sha256_digest(big, sizeof big, d2);
    complete_ok(m, REPO, id, d2);

    json_t *r = NULL;
    assert_ok(check_layers(m, &r, REPO, json_pack("[s, s]", d1, d2)), r);
    json_t *layers = json_object_get(r, "layers");
    assert_int_equal(json_array_size(layers), 2);
    assert_int_equal(json_array_size(json_object_get(r, "failures")), 0);
    json_t *l = json_array_get(layers, 0);
    assert_string_equal(json_string_value(json_object_get(l, "layerDigest")), d1);
    assert_string_equal(json_string_value(json_object_get(l, "layerAvailability")), "AVAILABLE");
    assert_int_equal(json_integer_value(json_object_get(l, "layerSize")), 3);
    assert_null(json_object_get(l, "mediaType")); /* no manifest lists it yet */
    l = json_array_get(layers, 1);
    assert_string_equal(json_string_value(json_object_get(l, "layerDigest")), d2);
    assert_string_equal(json_string_value(json_object_get(l, "layerAvailability")), "AVAILABLE");
    assert_int_equal(json_integer_value(json_object_get(l, "layerSize")), 3000);
    json_decref(r);
}

static void test_batch_check_layer_availability_media_type_after_put_image(void **state)
{
    ecrmock *m = *state;
    create_repo(m, REPO);
    char *manifest = make_manifest(m, REPO, 1, 7);
    char layer[ECRMOCK_DIGEST_SIZE];
    sha256_digest("layer 0 of image 7", 18, layer);

    json_t *r = NULL;
    assert_ok(check_layers(m, &r, REPO, json_pack("[s]", layer)), r);
    assert_null(json_object_get(json_array_get(json_object_get(r, "layers"), 0), "mediaType"));
    json_decref(r);

    free(put_image(m, REPO, manifest, "v1"));
    free(manifest);
    assert_ok(check_layers(m, &r, REPO, json_pack("[s]", layer)), r);
    json_t *l = json_array_get(json_object_get(r, "layers"), 0);
    assert_string_equal(json_string_value(json_object_get(l, "layerDigest")), layer);
    assert_string_equal(json_string_value(json_object_get(l, "layerAvailability")), "AVAILABLE");
    assert_int_equal(json_integer_value(json_object_get(l, "layerSize")), 18);
    assert_string_equal(json_string_value(json_object_get(l, "mediaType")),
                        "application/vnd.docker.image.rootfs.diff.tar.gzip");
    json_decref(r);
}

static void assert_failure(json_t *f, const char *digest, const char *code, const char *reason)
{
    assert_string_equal(json_string_value(json_object_get(f, "layerDigest")), digest);
    assert_string_equal(json_string_value(json_object_get(f, "failureCode")), code);
    assert_string_equal(json_string_value(json_object_get(f, "failureReason")), reason);
    assert_int_equal(json_object_size(f), 3);
}

static void test_batch_check_layer_availability_missing_and_invalid(void **state)
{
    ecrmock *m = *state;
    create_repo(m, REPO);
    create_repo(m, "other");
    char present[ECRMOCK_DIGEST_SIZE], absent[ECRMOCK_DIGEST_SIZE], elsewhere[ECRMOCK_DIGEST_SIZE],
        pending[ECRMOCK_DIGEST_SIZE];
    push_layer(m, REPO, "here", 4, present);
    sha256_digest("nowhere", 7, absent);
    push_layer(m, "other", "elsewhere", 9, elsewhere); /* layers belong to one repository */
    /* An upload that was never completed is no layer. */
    char id[37];
    initiate_upload(m, REPO, id);
    part_ok(m, REPO, id, 0, "pending", 7);
    sha256_digest("pending", 7, pending);

    json_t *r = NULL;
    assert_ok(check_layers(m, &r, REPO, json_pack("[s, s, s, s, s, s]", absent, "", present, "sha256:xyz", elsewhere,
                                                  pending)),
              r);
    json_t *layers = json_object_get(r, "layers"), *failures = json_object_get(r, "failures");
    assert_int_equal(json_array_size(layers), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(layers, 0), "layerDigest")), present);
    assert_int_equal(json_array_size(failures), 5);
    assert_failure(json_array_get(failures, 0), absent, "MissingLayerDigest", "Could not find layer");
    assert_failure(json_array_get(failures, 1), "", "MissingLayerDigest", "Missing layer digest");
    assert_failure(json_array_get(failures, 2), "sha256:xyz", "InvalidLayerDigest", "Invalid layer digest");
    assert_failure(json_array_get(failures, 3), elsewhere, "MissingLayerDigest", "Could not find layer");
    assert_failure(json_array_get(failures, 4), pending, "MissingLayerDigest", "Could not find layer");
    json_decref(r);
}

static void test_batch_check_layer_availability_too_many_digests(void **state)
{
    ecrmock *m = *state;
    create_repo(m, REPO);
    char digest[ECRMOCK_DIGEST_SIZE];
    push_layer(m, REPO, "x", 1, digest);
    json_t *list = json_array();
    for (int i = 0; i < 100; i++)
        json_array_append_new(list, json_string(digest));
    json_t *r = NULL;
    assert_ok(check_layers(m, &r, REPO, json_incref(list)), r); /* 100 is the limit */
    assert_int_equal(json_array_size(json_object_get(r, "layers")), 100);
    json_decref(r);
    json_array_append_new(list, json_string(digest));
    int st = check_layers(m, &r, REPO, list);
    assert_fail_msg(st, &r, "InvalidParameterException",
                    "Invalid parameter at 'layerDigests' failed to satisfy constraint: "
                    "'Member must have length less than or equal to 100'");
}

static void test_batch_check_layer_availability_repository_not_found(void **state)
{
    ecrmock *m = *state;
    json_t *r = NULL;
    int st = check_layers(m, &r, "missing",
                          json_pack("[s]", "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
    assert_repo_not_found(st, &r, "missing", ACCOUNT);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup_mock, teardown_mock)

/* A part's base64 decodes to exactly its bytes, at every length and across
 * the decoder's blocks (32 characters) and the upload's 64 KiB pieces: every
 * base64 character, '+' and '/' among them, and each padding. */
static void test_upload_part_base64_exact(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "b64");
    static const size_t lens[] = {1, 2, 3, 4, 5, 20, 23, 24, 25, 26, 27, 47, 48, 49, 50, 71, 72, 73, 95, 96, 97, 1000,
                                  49151, 49152, 49153, 65535, 65536, 65537, 3 * 65536 + 7};
    size_t max = 3 * 65536 + 7;
    unsigned char *bytes = malloc(max);
    char *text = malloc(4 * (max / 3 + 1) + 1);
    uint32_t x = 12345;
    for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++) {
        size_t n = lens[k];
        for (size_t i = 0; i < n; i++) {
            x = x * 1103515245u + 12345u;
            bytes[i] = (unsigned char)(x >> 16);
        }
        if (n > 200) /* runs of '/' and '+' */
            memset(bytes + 100, 0xff, 60), memset(bytes + 160, 0xfb, 30);
        int tlen = EVP_EncodeBlock((unsigned char *)text, bytes, (int)n);
        char id[64], digest[ECRMOCK_DIGEST_SIZE];
        initiate_upload(m, "b64", id);
        json_t *req = json_pack("{s:s, s:s, s:I, s:I, s:s%}", "repositoryName", "b64", "uploadId", id, "partFirstByte",
                                (json_int_t)0, "partLastByte", (json_int_t)n - 1, "layerPartBlob", text, (size_t)tlen);
        json_t *r = NULL;
        assert_int_equal(ecrmock_call(m, "UploadLayerPart", req, &r), 200);
        json_decref(req);
        json_decref(r);
        sha256_digest(bytes, n, digest);
        call_ok(m, "CompleteLayerUpload", "{\"repositoryName\": \"b64\", \"uploadId\": \"%s\", \"layerDigests\": [\"%s\"]}",
                id, digest);
        assert_layer_bytes(m, "b64", digest, bytes, n);
    }
    free(text);
    free(bytes);
}

/* One character outside the alphabet anywhere in a long blob (every place
 * of the checker's 32-character blocks, and its tail) is refused, and
 * nothing is taken; the alphabet's neighbours in ASCII are not in it. */
static void test_upload_part_base64_bad_anywhere(void **state)
{
    ecrmock *m = *state;
    create_repo(m, REPO);
    char id[37];
    initiate_upload(m, REPO, id);
    static const char bad[] = "*,-.:@[`{_~ \x7f";
    char text[101];
    for (size_t pos = 0; pos < 100; pos++) {
        memset(text, 'A', 100);
        text[100] = '\0';
        text[pos] = bad[pos % (sizeof bad - 1)];
        json_t *r = NULL;
        int st = call(m, &r, "UploadLayerPart",
                      "{\"repositoryName\": \"" REPO "\", \"uploadId\": \"%s\", \"partFirstByte\": 0, "
                      "\"partLastByte\": 74, \"layerPartBlob\": \"%s\"}",
                      id, text);
        assert_int_equal(st, 400);
        assert_string_equal(err_type(r), "SerializationException");
        json_decref(r);
    }
    part_ok(m, REPO, id, 0, "abc", 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_initiate_layer_upload_returns_uuid_and_part_size),
        T(test_initiate_layer_upload_part_size_follows_min_part_size),
        T(test_initiate_layer_upload_repository_not_found),
        T(test_initiate_layer_upload_ids_deterministic),
        T(test_upload_layer_part_multi_part_round_trip),
        T(test_upload_part_base64_exact),
        T(test_upload_layer_part_gap),
        T(test_upload_layer_part_overlap),
        T(test_upload_layer_part_first_part_not_at_zero),
        T(test_upload_layer_part_last_before_first),
        T(test_upload_layer_part_range_length_differs_from_blob),
        T(test_upload_layer_part_int64_edges),
        T(test_upload_layer_part_unknown_upload_id),
        T(test_upload_layer_part_upload_of_other_repository),
        T(test_upload_layer_part_after_complete),
        T(test_upload_layer_part_expired_upload),
        T(test_upload_layer_part_limit_exceeded),
        T(test_upload_layer_part_blob_not_base64),
        T(test_upload_part_base64_bad_anywhere),
        T(test_upload_layer_part_blob_too_large),
        T(test_upload_layer_part_repository_not_found),
        T(test_complete_layer_upload_empty_upload),
        T(test_complete_layer_upload_part_too_small),
        T(test_complete_layer_upload_part_too_small_default_minimum),
        T(test_complete_layer_upload_small_last_part),
        T(test_complete_layer_upload_digest_mismatch),
        T(test_complete_layer_upload_layer_already_exists),
        T(test_complete_layer_upload_upload_not_found),
        T(test_complete_layer_upload_repository_not_found),
        T(test_complete_layer_upload_response_fields),
        T(test_batch_check_layer_availability_present_layers),
        T(test_batch_check_layer_availability_media_type_after_put_image),
        T(test_batch_check_layer_availability_missing_and_invalid),
        T(test_batch_check_layer_availability_too_many_digests),
        T(test_batch_check_layer_availability_repository_not_found),
    };
    return cmocka_run_group_tests_name("layer upload", tests, NULL, NULL);
}
