/*
 * Layer downloads: GetDownloadUrlForLayer and the fetch of its URLs
 * (ecrmock_fetch_url), the test controls ecrmock_put_layer and
 * ecrmock_get_layer, and the content-addressed blob store shared between
 * repositories.
 */
#include "helpers.h"

#include "fronts/fronts.h" /* em_region_exists: that a GET makes no region */

#define ACCOUNT "123456789012"
#define REPO "layers/app"
#define HOST "https://prod-us-east-1-starport-layer-bucket.s3.us-east-1.amazonaws.com/"
#define EMPTY_DIGEST "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static int get_url(ecrmock *m, json_t **resp, const char *repo, const char *digest)
{
    return call(m, resp, "GetDownloadUrlForLayer", "{\"repositoryName\": \"%s\", \"layerDigest\": \"%s\"}", repo,
                digest);
}

/* Gets a download URL that must be handed out; returns it (malloc'd). */
static char *url_for(ecrmock *m, const char *repo, const char *digest)
{
    json_t *r = NULL;
    assert_ok(get_url(m, &r, repo, digest), r);
    assert_string_equal(json_string_value(json_object_get(r, "layerDigest")), digest);
    assert_int_equal(json_object_size(r), 2);
    const char *url = json_string_value(json_object_get(r, "downloadUrl"));
    assert_non_null(url);
    char *copy = strdup(url);
    json_decref(r);
    return copy;
}

/* Fetches url and asserts the status and, for 200, the exact bytes. */
static void assert_fetch(ecrmock *m, const char *url, int want_status, const void *bytes, size_t len)
{
    void *got = (void *)1;
    size_t got_len = 99;
    int st = ecrmock_fetch_url(m, url, &got, &got_len);
    assert_int_equal(st, want_status);
    if (want_status == 200) {
        assert_int_equal(got_len, len);
        if (len)
            assert_memory_equal(got, bytes, len);
    } else {
        assert_null(got);
        assert_int_equal(got_len, 0);
    }
    free(got);
}

/* A repository with one tagged image whose only layer is "layer 0 of image
 * <salt>"; writes that layer's digest. */
static void image_with_layer(ecrmock *m, const char *repo, int salt, char *layer_digest)
{
    char text[64];
    int n = snprintf(text, sizeof text, "layer 0 of image %d", salt);
    sha256_digest(text, (size_t)n, layer_digest);
    free(push_new_image(m, repo, 1, salt, "v1"));
}

/* Creates REPO with image_with_layer(salt), writes the layer's digest and
 * returns a download URL for it (malloc'd). */
static char *new_layer_url(ecrmock *m, int salt, char *layer_digest)
{
    create_repo(m, REPO);
    image_with_layer(m, REPO, salt, layer_digest);
    return url_for(m, REPO, layer_digest);
}

/* ---- GetDownloadUrlForLayer ----------------------------------------------------- */

static void test_get_download_url_for_layer_layers_not_found(void **state)
{
    ecrmock *m = *state;
    create_repo(m, REPO);
    create_repo(m, "other");
    char digest[ECRMOCK_DIGEST_SIZE], elsewhere[ECRMOCK_DIGEST_SIZE];
    sha256_digest("never pushed", 12, digest);
    json_t *r = NULL;
    int st = get_url(m, &r, REPO, digest);
    char want[512];
    snprintf(want, sizeof want,
             "The layer with digest '%s' does not exist within the repository with name '" REPO
             "' in the registry with id '" ACCOUNT "'",
             digest);
    assert_fail_msg(st, &r, "LayersNotFoundException", want);
    /* A layer of another repository is not this repository's. */
    image_with_layer(m, "other", 1, elsewhere);
    st = get_url(m, &r, REPO, elsewhere);
    assert_error(st, r, 400, "LayersNotFoundException");
}

static void test_get_download_url_for_layer_inaccessible(void **state)
{
    ecrmock *m = *state;
    create_repo(m, REPO);
    char digest[ECRMOCK_DIGEST_SIZE];
    push_layer(m, REPO, "orphan bytes", 12, digest);
    json_t *r = NULL;
    int st = get_url(m, &r, REPO, digest);
    char want[512];
    snprintf(want, sizeof want,
             "The layer with digest '%s' is not associated with an image in the repository with name '" REPO
             "' in the registry with id '" ACCOUNT "'",
             digest);
    assert_fail_msg(st, &r, "LayerInaccessibleException", want);
}

static void test_get_download_url_for_layer_fetch_returns_bytes(void **state)
{
    ecrmock *m = *state;
    char layer[ECRMOCK_DIGEST_SIZE];
    char *url = new_layer_url(m, 3, layer);
    assert_true(strncmp(url, HOST, strlen(HOST)) == 0);
    assert_non_null(strstr(url, "X-Amz-Algorithm=AWS4-HMAC-SHA256&"));
    assert_non_null(strstr(url, "&X-Amz-Expires=3600&"));
    assert_non_null(strstr(url, "&X-Amz-Date=20240101T000000Z&"));
    assert_non_null(strstr(url, "&X-Amz-Signature="));
    assert_fetch(m, url, 200, "layer 0 of image 3", 18);
    /* Fetching does not use the URL up. */
    assert_fetch(m, url, 200, "layer 0 of image 3", 18);
    free(url);

    /* The config blob is referenced by the image too. */
    char config[128], config_digest[ECRMOCK_DIGEST_SIZE];
    int n = snprintf(config, sizeof config, "{\"architecture\":\"amd64\",\"os\":\"linux\",\"salt\":%d}", 3);
    sha256_digest(config, (size_t)n, config_digest);
    url = url_for(m, REPO, config_digest);
    assert_fetch(m, url, 200, config, (size_t)n);
    free(url);
}

static void test_get_download_url_for_layer_url_expires(void **state)
{
    ecrmock *m = *state;
    char layer[ECRMOCK_DIGEST_SIZE];
    char *url = new_layer_url(m, 4, layer);
    ecrmock_clock_advance(m, 3600 * 1000, NULL);
    assert_fetch(m, url, 200, "layer 0 of image 4", 18);
    ecrmock_clock_advance(m, 1000, NULL);
    assert_fetch(m, url, 403, NULL, 0);
    /* A new URL, signed now, works again. */
    char *fresh = url_for(m, REPO, layer);
    assert_string_not_equal(fresh, url);
    assert_fetch(m, fresh, 200, "layer 0 of image 4", 18);
    free(fresh);
    free(url);
}

static void test_get_download_url_for_layer_tampered_signature(void **state)
{
    ecrmock *m = *state;
    char layer[ECRMOCK_DIGEST_SIZE];
    char *url = new_layer_url(m, 5, layer);
    char *sig = strstr(url, "X-Amz-Signature=");
    assert_non_null(sig);
    char *last = url + strlen(url) - 1;
    *last = *last == '0' ? '1' : '0';
    assert_fetch(m, url, 403, NULL, 0);
    free(url);

    /* The signature covers the path: pointing it at another layer fails. */
    url = url_for(m, REPO, layer);
    char *d = strstr(url, "/sha256:");
    assert_non_null(d);
    d[8] = d[8] == 'a' ? 'b' : 'a';
    assert_fetch(m, url, 403, NULL, 0);
    free(url);

    /* ... and so does the signing date. */
    url = url_for(m, REPO, layer);
    char *date = strstr(url, "X-Amz-Date=2024");
    assert_non_null(date);
    date[11 + 3] = '5'; /* 2024 -> 2025 */
    assert_fetch(m, url, 403, NULL, 0);
    free(url);
}

static void test_get_download_url_for_layer_other_host(void **state)
{
    ecrmock *m = *state;
    char layer[ECRMOCK_DIGEST_SIZE];
    char *url = new_layer_url(m, 6, layer);
    const char *path = url + strlen(HOST) - 1;
    char other[2048];
    /* another region's bucket: not the host the URL was signed for */
    snprintf(other, sizeof other, "https://prod-eu-west-1-starport-layer-bucket.s3.eu-west-1.amazonaws.com%s", path);
    assert_fetch(m, other, 403, NULL, 0);
    snprintf(other, sizeof other, "https://example.com%s", path);
    assert_fetch(m, other, 404, NULL, 0);
    snprintf(other, sizeof other, "http://prod-us-east-1-starport-layer-bucket.s3.us-east-1.amazonaws.com%s", path);
    assert_fetch(m, other, 404, NULL, 0);
    assert_fetch(m, url, 200, "layer 0 of image 6", 18);
    free(url);
}

/* url with the first `from` replaced by `to` (malloc'd). */
static char *replaced(const char *url, const char *from, const char *to)
{
    const char *at = strstr(url, from);
    assert_non_null(at);
    size_t n = strlen(url) - strlen(from) + strlen(to) + 1;
    char *out = malloc(n);
    snprintf(out, n, "%.*s%s%s", (int)(at - url), url, to, at + strlen(from));
    return out;
}

static void test_get_download_url_for_layer_every_parameter_signed(void **state)
{
    ecrmock *m = *state;
    char layer[ECRMOCK_DIGEST_SIZE];
    char *url = new_layer_url(m, 9, layer);
    static const char *const changes[][2] = {
        {"X-Amz-Expires=3600", "X-Amz-Expires=360000"},
        {"X-Amz-Credential=ASIAECRMOCKEXAMPLE", "X-Amz-Credential=ASIAECRMOCKEXAMPLF"},
        {"%2Fus-east-1%2F", "%2Feu-west-1%2F"},
        {"X-Amz-Algorithm=AWS4-HMAC-SHA256", "X-Amz-Algorithm=AWS4-HMAC-SHA512"},
        {"X-Amz-SignedHeaders=host", "X-Amz-SignedHeaders=host%3Brange"},
        {"X-Amz-Date=", "x-id=GetObject&X-Amz-Date="},          /* a parameter added */
        {"&X-Amz-Expires=3600", ""},                            /* one taken away */
        {"X-Amz-Signature=", "X-Amz-Signature=0&X-Amz-Signature="}, /* two signatures */
    };
    for (size_t i = 0; i < sizeof changes / sizeof changes[0]; i++) {
        char *bad = replaced(url, changes[i][0], changes[i][1]);
        assert_fetch(m, bad, 403, NULL, 0);
        free(bad);
    }
    /* the same parameters in another order, or encoded otherwise, are the same URL */
    char *same = replaced(url, "X-Amz-Credential=ASIAECRMOCKEXAMPLE%2F", "X-Amz-Credential=ASIAECRMOCKEXAMPLE%2f");
    assert_fetch(m, same, 200, "layer 0 of image 9", 18);
    free(same);
    assert_fetch(m, url, 200, "layer 0 of image 9", 18);
    free(url);
}

#define US_BUCKET "prod-us-east-1-starport-layer-bucket.s3.us-east-1.amazonaws.com"
#define EU_BUCKET "prod-eu-west-1-starport-layer-bucket.s3.eu-west-1.amazonaws.com"

static void test_get_download_url_for_layer_host_of_issue(void **state)
{
    ecrmock *m = *state;
    /* the image in us-east-1, replicated to eu-west-1 */
    call_ok(m, "PutReplicationConfiguration",
            "{\"replicationConfiguration\":{\"rules\":[{\"destinations\":[{\"region\":\"eu-west-1\","
            "\"registryId\":\"" ACCOUNT "\"}]}]}}");
    char layer[ECRMOCK_DIGEST_SIZE];
    char *home = new_layer_url(m, 10, layer);
    json_t *req = json_pack("{s:s, s:s}", "repositoryName", REPO, "layerDigest", layer), *r = NULL;
    assert_ok(ecrmock_call_as(m, NULL, "eu-west-1", "GetDownloadUrlForLayer", req, &r), r);
    json_decref(req);
    char *eu = strdup(json_string_value(json_object_get(r, "downloadUrl")));
    json_decref(r);
    assert_true(strncmp(eu, "https://" EU_BUCKET "/", strlen("https://" EU_BUCKET "/")) == 0);
    assert_fetch(m, eu, 200, "layer 0 of image 10", 19);
    /* gone where it was issued: not served from another region's bucket */
    req = json_pack("{s:s, s:b}", "repositoryName", REPO, "force", 1);
    assert_ok(ecrmock_call_as(m, NULL, "eu-west-1", "DeleteRepository", req, &r), r);
    json_decref(req);
    json_decref(r);
    assert_fetch(m, eu, 404, NULL, 0);
    char *moved = replaced(eu, EU_BUCKET, US_BUCKET);
    assert_fetch(m, moved, 403, NULL, 0);
    free(moved);
    assert_fetch(m, home, 200, "layer 0 of image 10", 19);
    free(home);
    free(eu);
}

static void test_get_download_url_for_layer_get_makes_no_region(void **state)
{
    ecrmock *m = *state;
    char layer[ECRMOCK_DIGEST_SIZE];
    char *url = new_layer_url(m, 11, layer);
    json_t *before = ecrmock_snapshot(m, NULL);
    static const char *const regions[] = {"ap-south-2", "zz-nowhere-9", "a", "x%2Fy", "..", ""};
    enum { N = sizeof regions / sizeof regions[0] };
    int status[N];
    for (size_t i = 0; i < N; i++) {
        char host[256];
        snprintf(host, sizeof host, "prod-%s-starport-layer-bucket.s3.%s.amazonaws.com", regions[i], regions[i]);
        char *other = replaced(url, US_BUCKET, host);
        void *got = NULL;
        size_t len = 0;
        status[i] = ecrmock_fetch_url(m, other, &got, &len);
        free(got);
        free(other);
    }
    for (size_t i = 0; i < N; i++) /* the instance never heard of them */
        assert_false(em_region_exists(m, regions[i]));
    for (size_t i = 0; i < N; i++) /* 403: signed for another host; 404: not a bucket host form */
        assert_true(status[i] == 403 || status[i] == 404);
    /* nothing was made: no region, and the state is as it was */
    json_t *after = ecrmock_snapshot(m, NULL);
    assert_true(json_equal(before, after));
    json_decref(before);
    json_decref(after);
    json_t *r = NULL;
    json_t *empty = json_object();
    assert_int_equal(ecrmock_call_as(m, NULL, "ap-south-2", "DescribeRepositories", empty, &r), 200);
    json_decref(empty);
    assert_int_equal(json_array_size(json_object_get(r, "repositories")), 0);
    json_decref(r);
    free(url);
}

static void test_get_download_url_for_layer_gone_after_delete(void **state)
{
    ecrmock *m = *state;
    char layer[ECRMOCK_DIGEST_SIZE];
    char *url = new_layer_url(m, 8, layer);
    assert_fetch(m, url, 200, "layer 0 of image 8", 18);
    json_t *r = NULL;
    assert_ok(call(m, &r, "BatchDeleteImage", "{\"repositoryName\": \"" REPO "\", \"imageIds\": [{\"imageTag\": \"v1\"}]}"),
              r);
    assert_int_equal(json_array_size(json_object_get(r, "imageIds")), 1);
    json_decref(r);
    /* With no image left, no new URL is handed out for the layer. */
    int st = get_url(m, &r, REPO, layer);
    assert_error(st, r, 400, "LayerInaccessibleException");
    call_ok(m, "DeleteRepository", "{\"repositoryName\": \"" REPO "\"}");
    assert_fetch(m, url, 404, NULL, 0);
    /* A repository of the same name made again does not bring it back. */
    create_repo(m, REPO);
    assert_fetch(m, url, 404, NULL, 0);
    free(url);
}

static void test_get_download_url_for_layer_repository_not_found(void **state)
{
    ecrmock *m = *state;
    json_t *r = NULL;
    int st = get_url(m, &r, "missing", EMPTY_DIGEST);
    assert_repo_not_found(st, &r, "missing", ACCOUNT);
}

static void test_get_download_url_for_layer_invalid_digest(void **state)
{
    ecrmock *m = *state;
    create_repo(m, REPO);
    const char *bad[] = {"not-a-digest", "sha256:", "sha256:xyz", ":abc"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        json_t *r = NULL;
        int st = get_url(m, &r, REPO, bad[i]);
        assert_fail_msg(st, &r, "InvalidParameterException",
                        "Invalid parameter at 'layerDigest' failed to satisfy constraint: "
                        "'must satisfy regular expression '[a-zA-Z0-9-_+.]+:[a-fA-F0-9]+''");
    }
}

/* ---- ecrmock_put_layer / ecrmock_get_layer --------------------------------------- */

static void test_put_layer_computes_digest(void **state)
{
    ecrmock *m = *state;
    create_repo(m, REPO);
    const char bytes[] = "some layer bytes\0with a NUL inside";
    size_t len = sizeof bytes - 1;
    char digest[ECRMOCK_DIGEST_SIZE], want[ECRMOCK_DIGEST_SIZE];
    memset(digest, 'x', sizeof digest);
    sha256_digest(bytes, len, want);
    assert_int_equal(ecrmock_put_layer(m, NULL, REPO, bytes, len, digest, NULL), ECRMOCK_ERR_OK);
    assert_string_equal(digest, want);
    void *got = NULL;
    size_t got_len = 0;
    assert_int_equal(ecrmock_get_layer(m, NULL, REPO, want, &got, &got_len, NULL), ECRMOCK_ERR_OK);
    assert_int_equal(got_len, len);
    assert_memory_equal(got, bytes, len);
    free(got);
    /* The caller's account named explicitly; a layer present again is no error. */
    assert_int_equal(ecrmock_put_layer(m, ACCOUNT, REPO, bytes, len, NULL, NULL), ECRMOCK_ERR_OK);
    assert_int_equal(ecrmock_get_layer(m, ACCOUNT, REPO, want, &got, &got_len, NULL), ECRMOCK_ERR_OK);
    assert_int_equal(got_len, len);
    assert_memory_equal(got, bytes, len);
    free(got);
}

static void test_put_layer_invalid_arguments(void **state)
{
    ecrmock *m = *state;
    create_repo(m, REPO);
    char digest[ECRMOCK_DIGEST_SIZE];
    assert_int_equal(ERR_CODE(ecrmock_put_layer(NULL, NULL, REPO, "a", 1, digest, &test_err)), ECRMOCK_ERR_INVALID_PARAMETER);
    assert_int_equal(ERR_CODE(ecrmock_put_layer(m, NULL, NULL, "a", 1, digest, &test_err)), ECRMOCK_ERR_INVALID_PARAMETER);
    assert_int_equal(ERR_CODE(ecrmock_put_layer(m, NULL, REPO, NULL, 1, digest, &test_err)), ECRMOCK_ERR_INVALID_PARAMETER);
    assert_int_equal(ERR_CODE(ecrmock_put_layer(m, NULL, "", "a", 1, digest, &test_err)), ECRMOCK_ERR_INVALID_PARAMETER);
    assert_int_equal(ERR_CODE(ecrmock_put_layer(m, "", REPO, "a", 1, digest, &test_err)), ECRMOCK_ERR_INVALID_PARAMETER);
    assert_int_equal(ERR_CODE(ecrmock_put_layer(m, "12345678901", REPO, "a", 1, digest, &test_err)), ECRMOCK_ERR_INVALID_PARAMETER);
    assert_int_equal(ERR_CODE(ecrmock_put_layer(m, "12345678901x", REPO, "a", 1, digest, &test_err)), ECRMOCK_ERR_INVALID_PARAMETER);
    /* None of them stored anything. */
    char want[ECRMOCK_DIGEST_SIZE];
    sha256_digest("a", 1, want);
    void *got = NULL;
    size_t got_len = 0;
    assert_int_equal(ERR_CODE(ecrmock_get_layer(m, NULL, REPO, want, &got, &got_len, &test_err)), ECRMOCK_ERR_LAYERS_NOT_FOUND);
}

static void test_put_layer_repository_not_found(void **state)
{
    ecrmock *m = *state;
    create_repo(m, REPO);
    char digest[ECRMOCK_DIGEST_SIZE] = "untouched";
    assert_int_equal(ERR_CODE(ecrmock_put_layer(m, NULL, "missing", "a", 1, digest, &test_err)), ECRMOCK_ERR_REPOSITORY_NOT_FOUND);
    assert_string_equal(digest, "untouched");
    /* The same name in another registry is another repository. */
    assert_int_equal(ERR_CODE(ecrmock_put_layer(m, "210987654321", REPO, "a", 1, digest, &test_err)), ECRMOCK_ERR_REPOSITORY_NOT_FOUND);
}

static void test_get_layer_invalid_arguments(void **state)
{
    ecrmock *m = *state;
    create_repo(m, REPO);
    char digest[ECRMOCK_DIGEST_SIZE];
    push_layer(m, REPO, "abc", 3, digest);
    void *got = NULL;
    size_t got_len = 0;
    assert_int_equal(ERR_CODE(ecrmock_get_layer(NULL, NULL, REPO, digest, &got, &got_len, &test_err)), ECRMOCK_ERR_INVALID_PARAMETER);
    assert_int_equal(ERR_CODE(ecrmock_get_layer(m, NULL, NULL, digest, &got, &got_len, &test_err)), ECRMOCK_ERR_INVALID_PARAMETER);
    assert_int_equal(ERR_CODE(ecrmock_get_layer(m, NULL, REPO, NULL, &got, &got_len, &test_err)), ECRMOCK_ERR_INVALID_PARAMETER);
    assert_int_equal(ERR_CODE(ecrmock_get_layer(m, NULL, REPO, digest, NULL, &got_len, &test_err)), ECRMOCK_ERR_INVALID_PARAMETER);
    assert_int_equal(ERR_CODE(ecrmock_get_layer(m, NULL, REPO, digest, &got, NULL, &test_err)), ECRMOCK_ERR_INVALID_PARAMETER);
    assert_int_equal(ERR_CODE(ecrmock_get_layer(m, NULL, "", digest, &got, &got_len, &test_err)), ECRMOCK_ERR_INVALID_PARAMETER);
    assert_int_equal(ERR_CODE(ecrmock_get_layer(m, "", REPO, digest, &got, &got_len, &test_err)), ECRMOCK_ERR_INVALID_PARAMETER);
    assert_int_equal(ERR_CODE(ecrmock_get_layer(m, NULL, REPO, "", &got, &got_len, &test_err)), ECRMOCK_ERR_INVALID_PARAMETER);
    const char *bad[] = {"not-a-digest", "sha256:", ":abc", "sha256:xyz", "sha256:abc/def"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(ERR_CODE(ecrmock_get_layer(m, NULL, REPO, bad[i], &got, &got_len, &test_err)), ECRMOCK_ERR_INVALID_PARAMETER);
    assert_int_equal(ERR_CODE(ecrmock_get_layer(m, "1234567890123", REPO, digest, &got, &got_len, &test_err)),
                     ECRMOCK_ERR_INVALID_PARAMETER);
    assert_null(got);
    assert_int_equal(got_len, 0);
}

static void test_get_layer_not_found(void **state)
{
    ecrmock *m = *state;
    create_repo(m, REPO);
    create_repo(m, "other");
    char digest[ECRMOCK_DIGEST_SIZE], absent[ECRMOCK_DIGEST_SIZE];
    push_layer(m, "other", "abc", 3, digest);
    sha256_digest("absent", 6, absent);
    void *got = (void *)1;
    size_t got_len = 7;
    assert_int_equal(ERR_CODE(ecrmock_get_layer(m, NULL, "missing", digest, &got, &got_len, &test_err)), ECRMOCK_ERR_REPOSITORY_NOT_FOUND);
    assert_null(got);
    assert_int_equal(got_len, 0);
    got = (void *)1;
    assert_int_equal(ERR_CODE(ecrmock_get_layer(m, NULL, REPO, absent, &got, &got_len, &test_err)), ECRMOCK_ERR_LAYERS_NOT_FOUND);
    assert_null(got);
    /* The layer of "other" is not in REPO. */
    assert_int_equal(ERR_CODE(ecrmock_get_layer(m, NULL, REPO, digest, &got, &got_len, &test_err)), ECRMOCK_ERR_LAYERS_NOT_FOUND);
    assert_int_equal(ERR_CODE(ecrmock_get_layer(m, "210987654321", "other", digest, &got, &got_len, &test_err)),
                     ECRMOCK_ERR_REPOSITORY_NOT_FOUND);
}

static void test_put_layer_empty_layer(void **state)
{
    ecrmock *m = *state;
    create_repo(m, REPO);
    char digest[ECRMOCK_DIGEST_SIZE], want[ECRMOCK_DIGEST_SIZE];
    sha256_digest("", 0, want);
    assert_string_equal(want, EMPTY_DIGEST);
    assert_int_equal(ecrmock_put_layer(m, NULL, REPO, NULL, 0, digest, NULL), ECRMOCK_ERR_OK);
    assert_string_equal(digest, EMPTY_DIGEST);
    void *got = (void *)1;
    size_t got_len = 7;
    assert_int_equal(ecrmock_get_layer(m, NULL, REPO, EMPTY_DIGEST, &got, &got_len, NULL), ECRMOCK_ERR_OK);
    assert_null(got);
    assert_int_equal(got_len, 0);
    json_t *r = NULL;
    assert_ok(call(m, &r, "BatchCheckLayerAvailability",
                   "{\"repositoryName\": \"" REPO "\", \"layerDigests\": [\"" EMPTY_DIGEST "\"]}"),
              r);
    json_t *l = json_array_get(json_object_get(r, "layers"), 0);
    assert_string_equal(json_string_value(json_object_get(l, "layerAvailability")), "AVAILABLE");
    assert_int_equal(json_integer_value(json_object_get(l, "layerSize")), 0);
    json_decref(r);
}

/* ---- content-addressed storage ---------------------------------------------------- */

static void test_layers_shared_between_repositories(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "first");
    create_repo(m, "second");
    const char bytes[] = "shared layer bytes";
    size_t len = sizeof bytes - 1;
    char d1[ECRMOCK_DIGEST_SIZE], d2[ECRMOCK_DIGEST_SIZE], want[ECRMOCK_DIGEST_SIZE];
    sha256_digest(bytes, len, want);
    push_layer(m, "first", bytes, len, d1);
    /* The second copy arrives through the upload flow. */
    json_t *r = NULL;
    char id[37];
    initiate_upload(m, "second", id);
    call_ok(m, "UploadLayerPart",
            "{\"repositoryName\": \"second\", \"uploadId\": \"%s\", \"partFirstByte\": 0, "
            "\"partLastByte\": %zu, \"layerPartBlob\": \"c2hhcmVkIGxheWVyIGJ5dGVz\"}",
            id, len - 1);
    assert_ok(call(m, &r, "CompleteLayerUpload",
                   "{\"repositoryName\": \"second\", \"uploadId\": \"%s\", \"layerDigests\": [\"%s\"]}", id, want),
              r);
    snprintf(d2, sizeof d2, "%s", json_string_value(json_object_get(r, "layerDigest")));
    json_decref(r);
    assert_string_equal(d1, want);
    assert_string_equal(d2, want);

    call_ok(m, "DeleteRepository", "{\"repositoryName\": \"first\"}");
    void *got = NULL;
    size_t got_len = 0;
    assert_int_equal(ERR_CODE(ecrmock_get_layer(m, NULL, "first", want, &got, &got_len, &test_err)), ECRMOCK_ERR_REPOSITORY_NOT_FOUND);
    assert_int_equal(ecrmock_get_layer(m, NULL, "second", want, &got, &got_len, NULL), ECRMOCK_ERR_OK);
    assert_int_equal(got_len, len);
    assert_memory_equal(got, bytes, len);
    free(got);
}

/* Deleting a repository with an image keeps the other repository's copy
 * downloadable, through its own URL. */
static void test_layers_shared_download_survives_delete(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "first");
    create_repo(m, "second");
    char l1[ECRMOCK_DIGEST_SIZE], l2[ECRMOCK_DIGEST_SIZE];
    image_with_layer(m, "first", 9, l1);
    image_with_layer(m, "second", 9, l2); /* the same manifest, the same blobs */
    assert_string_equal(l1, l2);
    char *url1 = url_for(m, "first", l1), *url2 = url_for(m, "second", l2);
    assert_string_not_equal(url1, url2);
    call_ok(m, "DeleteRepository", "{\"repositoryName\": \"first\", \"force\": true}");
    assert_fetch(m, url1, 404, NULL, 0);
    assert_fetch(m, url2, 200, "layer 0 of image 9", 18);
    void *got = NULL;
    size_t got_len = 0;
    assert_int_equal(ecrmock_get_layer(m, NULL, "second", l2, &got, &got_len, NULL), ECRMOCK_ERR_OK);
    assert_int_equal(got_len, 18);
    assert_memory_equal(got, "layer 0 of image 9", 18);
    free(got);
    free(url1);
    free(url2);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup_mock, teardown_mock)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_get_download_url_for_layer_layers_not_found),
        T(test_get_download_url_for_layer_inaccessible),
        T(test_get_download_url_for_layer_fetch_returns_bytes),
        T(test_get_download_url_for_layer_url_expires),
        T(test_get_download_url_for_layer_tampered_signature),
        T(test_get_download_url_for_layer_other_host),
        T(test_get_download_url_for_layer_every_parameter_signed),
        T(test_get_download_url_for_layer_host_of_issue),
        T(test_get_download_url_for_layer_get_makes_no_region),
        T(test_get_download_url_for_layer_gone_after_delete),
        T(test_get_download_url_for_layer_repository_not_found),
        T(test_get_download_url_for_layer_invalid_digest),
        T(test_put_layer_computes_digest),
        T(test_put_layer_invalid_arguments),
        T(test_put_layer_repository_not_found),
        T(test_get_layer_invalid_arguments),
        T(test_get_layer_not_found),
        T(test_put_layer_empty_layer),
        T(test_layers_shared_between_repositories),
        T(test_layers_shared_download_survives_delete),
    };
    return cmocka_run_group_tests_name("layer download", tests, NULL, NULL);
}
