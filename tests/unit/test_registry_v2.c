/*
 * The registry plane (/v2/, src/fronts/registry.c) through
 * ecrmock_http_handle: ECR's Basic authentication, manifests, blobs,
 * uploads, listings and errors, on the same store as the API.
 */
#include "helpers.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <stdbool.h>

#include "base/base.h" /* em_query_param: the one query walker */

#define REPO "web"
#define HOST "123456789012.dkr.ecr.us-east-1.amazonaws.com"
#define BASE "https://" HOST
#define V2 "application/vnd.docker.distribution.manifest.v2+json"
#define ERR_TYPE "application/json; charset=utf-8"
/* sha256 of "Basic <token>" from the default instance's first GetAuthorizationToken on main 31bd50b. */
#define TOKEN_SHA_MAIN "sha256:0aaeb41a2fc4ad5ce86c17d02a2ee87d37a17a77a9770970dfb54fb4e112505a"

static json_t *journal_at(ecrmock *m, long i)
{
    return ecrmock_journal_entry(m, i, NULL);
}

static int advance(ecrmock *m, int64_t ms)
{
    return ecrmock_clock_advance(m, ms, NULL);
}

/* One request to the registry host; `auth` NULL: none; extra header (name, value) or NULL. */
static int reg(ecrmock *m, ecrmock_http_response *r, const char *auth, const char *method, const char *path,
               const char *hname, const char *hvalue, const void *body, size_t len)
{
    ecrmock_http_header h[3];
    size_t n = 0;
    h[n++] = (ecrmock_http_header){"Host", HOST};
    if (auth)
        h[n++] = (ecrmock_http_header){"Authorization", auth};
    if (hname)
        h[n++] = (ecrmock_http_header){hname, hvalue};
    ecrmock_http_request req = ECRMOCK_HTTP_REQUEST_INIT;
    req.method = method;
    req.target = path;
    req.headers = h;
    req.n_headers = n;
    req.body = body;
    req.body_len = len;
    int st = ecrmock_http_handle(m, &req, r);
    assert_int_equal(st, st < 0 ? -1 : r->status); /* -1: out of memory, an empty response */
    return st;
}

/* Asserts the registry's error form, then releases r. */
static void assert_reg_error(ecrmock_http_response *r, int status, const char *code, const char *message)
{
    char want[1024];
    snprintf(want, sizeof want, "{\"errors\": [{\"code\": \"%s\", \"message\": \"%s\"}]}", code, message);
    json_t *w = json_loads(want, 0, NULL), *got = json_loads(r->body, 0, NULL);
    assert_non_null(w);
    if (!got || !json_equal(w, got))
        fail_msg("status %d body %s, want %d %s", r->status, r->body, status, want);
    assert_int_equal(r->status, status);
    assert_header(r, "Content-Type", ERR_TYPE);
    assert_header(r, "Docker-Distribution-Api-Version", "registry/2.0");
    json_decref(w);
    json_decref(got);
    ecrmock_http_response_release(r);
}

/* ---- the query walker (src/base/uri.c) ---------------------------------------------- */

/* em_query_param's answer for `name` in `query`: "<absent>", or the value. */
static void assert_param(const char *query, const char *name, bool plus, const char *want, size_t want_len)
{
    char *v = (char *)1;
    size_t len = 12345;
    int rc = em_query_param(query, name, plus, &v, &len);
    if (!want) {
        assert_int_equal(rc, 0);
        assert_null(v);
        return;
    }
    assert_int_equal(rc, 1);
    assert_non_null(v);
    assert_int_equal(len, want_len);
    assert_memory_equal(v, want, want_len);
    assert_int_equal(v[len], '\0');
    em_free(v);
}

static void test_query_walker_edges(void **state)
{
    (void)state;
    assert_param(NULL, "a", true, NULL, 0);
    assert_param("", "a", true, NULL, 0);
    assert_param("&", "", true, NULL, 0); /* an empty piece is no parameter */
    assert_param("a&&b=2", "b", true, "2", 1);
    assert_param("a&&b=2", "a", true, "", 0); /* no '=': the empty value */
    assert_param("=x", "", true, "x", 1);     /* the empty name */
    assert_param("=x", "x", true, NULL, 0);
    assert_param("ab=1", "a", true, NULL, 0); /* a whole name, not a prefix */
    assert_param("a=1&a=2", "a", true, "1", 1); /* the first counts */
    assert_param("a=b=c", "a", true, "b=c", 3); /* split at the first '=' */
    assert_param("%6E=5", "n", true, "5", 1); /* the name is decoded too */
    assert_param("last=a%2Bb+c", "last", true, "a+b c", 5);
    assert_param("last=a%2Bb+c", "last", false, "a+b+c", 5);
    /* Escapes that are none stay as sent: "%", "%4", "%zz", "%g1". */
    assert_param("v=%&w=%4&x=%zz&y=%g1", "v", true, "%", 1);
    assert_param("v=%&w=%4&x=%zz&y=%g1", "w", true, "%4", 2);
    assert_param("v=%&w=%4&x=%zz&y=%g1", "x", true, "%zz", 3);
    assert_param("v=%&w=%4&x=%zz&y=%g1", "y", true, "%g1", 3);
    assert_param("v=%4a%4A", "v", true, "JJ", 2);
    /* A decoded NUL is in the value and its length. */
    assert_param("v=a%00b", "v", true, "a\0b", 3);
    assert_param("v=%ff", "v", true, "\xff", 1);
}

/* ---- authentication ---------------------------------------------------------------- */

static void test_ping_without_credentials_is_challenged(void **state)
{
    ecrmock *m = *state;
    ecrmock_http_response r;
    assert_int_equal(reg(m, &r, NULL, "GET", "/v2/", NULL, NULL, NULL, 0), 401);
    assert_header(&r, "WWW-Authenticate", "Basic realm=\"" BASE "/\",service=\"ecr.amazonaws.com\"");
    assert_header(&r, "Docker-Distribution-Api-Version", "registry/2.0");
    assert_header(&r, "Sizes", "");
    assert_string_equal(r.body, "Not Authorized");
    ecrmock_http_response_release(&r);
    /* Bearer is not ECR's scheme: the same challenge. */
    assert_int_equal(reg(m, &r, "Bearer abc", "GET", "/v2/" REPO "/tags/list", NULL, NULL, NULL, 0), 401);
    ecrmock_http_response_release(&r);
}

static void test_ping_with_token(void **state)
{
    ecrmock *m = *state;
    char *auth = login(m);
    ecrmock_http_response r;
    assert_int_equal(reg(m, &r, auth, "GET", "/v2/", NULL, NULL, NULL, 0), 200);
    assert_string_equal(r.body, "{}");
    assert_header(&r, "Docker-Distribution-Api-Version", "registry/2.0");
    ecrmock_http_response_release(&r);
    free(auth);
}

static void test_token_invalid_wrong_user_and_region(void **state)
{
    ecrmock *m = *state;
    ecrmock_http_response r;
    const char *msg = "Your Authorization Token is invalid.";
    reg(m, &r, "Basic !!!not-base64", "GET", "/v2/", NULL, NULL, NULL, 0);
    assert_reg_error(&r, 400, "DENIED", msg);
    /* base64("AWS:never-issued") */
    reg(m, &r, "Basic QVdTOm5ldmVyLWlzc3VlZA==", "GET", "/v2/", NULL, NULL, NULL, 0);
    assert_reg_error(&r, 400, "DENIED", msg);
    /* A real password under another user name. */
    char *auth = login(m);
    unsigned char plain[4096], other[6000];
    int plen = EVP_DecodeBlock(plain, (const unsigned char *)auth + 6, (int)strlen(auth + 6));
    assert_true(plen > 4 && memcmp(plain, "AWS:", 4) == 0);
    while (plen > 0 && plain[plen - 1] == '\0') /* EVP_DecodeBlock counts the padding */
        plen--;
    unsigned char bob[4100];
    memcpy(bob, "bob", 3);
    memcpy(bob + 3, plain + 3, (size_t)plen - 3);
    memcpy(other, "Basic ", 6);
    EVP_EncodeBlock(other + 6, bob, plen);
    reg(m, &r, (const char *)other, "GET", "/v2/", NULL, NULL, NULL, 0);
    assert_reg_error(&r, 400, "DENIED", msg);
    /* A token of us-east-1 at eu-west-1's registry host. */
    ecrmock_http_header h[2] = {{"Host", "123456789012.dkr.ecr.eu-west-1.amazonaws.com"}, {"Authorization", auth}};
    ecrmock_http_request req = ECRMOCK_HTTP_REQUEST_INIT;
    req.method = "GET";
    req.target = "/v2/";
    req.headers = h;
    req.n_headers = 2;
    assert_int_equal(ecrmock_http_handle(m, &req, &r), 400);
    assert_reg_error(&r, 400, "DENIED", msg);
    /* Another account's registry host. */
    h[0].value = "210987654321.dkr.ecr.us-east-1.amazonaws.com";
    assert_int_equal(ecrmock_http_handle(m, &req, &r), 400);
    assert_reg_error(&r, 400, "DENIED", msg);
    free(auth);
}

static void test_token_expires_after_12_hours(void **state)
{
    ecrmock *m = *state;
    char *auth = login(m);
    ecrmock_http_response r;
    assert_int_equal(advance(m, 12 * 3600 * INT64_C(1000) - 1), 0);
    assert_int_equal(reg(m, &r, auth, "GET", "/v2/", NULL, NULL, NULL, 0), 200);
    ecrmock_http_response_release(&r);
    assert_int_equal(advance(m, 1), 0);
    reg(m, &r, auth, "GET", "/v2/", NULL, NULL, NULL, 0);
    assert_reg_error(&r, 403, "DENIED", "Your authorization token has expired. Reauthenticate and try again.");
    free(auth);
}

/* The token's bytes do not change with the registry plane: same seed, same token. */
static void test_token_bytes_unchanged(void **state)
{
    (void)state;
    ecrmock *a = ecrmock_new(NULL);
    char *auth = login(a);
    char sha[ECRMOCK_DIGEST_SIZE];
    sha256_digest(auth, strlen(auth), sha);
    /* Recorded from main 31bd50b (before the registry plane) with the default seed. */
    assert_string_equal(sha, TOKEN_SHA_MAIN);
    free(auth);
    ecrmock_free(a);
}

/* ---- push and pull ------------------------------------------------------------------- */

/* Pushes a blob through POST, PATCH (chunks of `chunk` bytes) and PUT ?digest=; its digest in out. */
static void push_blob(ecrmock *m, const char *auth, const char *repo, const char *bytes, size_t len, size_t chunk,
                      char *out)
{
    char path[256], loc[512];
    sha256_digest(bytes, len, out);
    ecrmock_http_response r;
    snprintf(path, sizeof path, "/v2/%s/blobs/uploads/", repo);
    assert_int_equal(reg(m, &r, auth, "POST", path, NULL, NULL, NULL, 0), 202);
    const char *l = ecrmock_http_response_header(&r, "Location");
    assert_non_null(l);
    snprintf(loc, sizeof loc, "%s", l);
    assert_header(&r, "Range", "0-0");
    assert_header(&r, "Docker-Upload-UUID", NULL);
    ecrmock_http_response_release(&r);
    const char *p = loc + strlen(BASE);
    for (size_t at = 0; at < len; at += chunk) {
        size_t n = len - at < chunk ? len - at : chunk;
        assert_int_equal(reg(m, &r, auth, "PATCH", p, NULL, NULL, bytes + at, n), 201);
        char range[64]; /* ECR's stays at the first chunk's (containers-roadmap#2831) */
        snprintf(range, sizeof range, "0-%zu", (chunk < len ? chunk : len) - 1);
        assert_header(&r, "Range", range);
        assert_header(&r, "Location", loc);
        ecrmock_http_response_release(&r);
    }
    char put[600];
    snprintf(put, sizeof put, "%s?digest=%s", p, out);
    assert_int_equal(reg(m, &r, auth, "PUT", put, NULL, NULL, NULL, 0), 201);
    assert_header(&r, "Docker-Content-Digest", out);
    char want[400];
    snprintf(want, sizeof want, BASE "/v2/%s/blobs/%s", repo, out);
    assert_header(&r, "Location", want);
    ecrmock_http_response_release(&r);
}

/* A new upload's path (relative to BASE). */
static void open_upload(ecrmock *m, const char *auth, char *path, size_t cap)
{
    ecrmock_http_response r;
    assert_int_equal(reg(m, &r, auth, "POST", "/v2/" REPO "/blobs/uploads/", NULL, NULL, NULL, 0), 202);
    const char *loc = ecrmock_http_response_header(&r, "Location");
    assert_non_null(loc);
    snprintf(path, cap, "%s", loc + strlen(BASE));
    ecrmock_http_response_release(&r);
}

/* Completes upload `path` as the layer of bytes[0..len): its digest must be theirs. */
static void complete_upload(ecrmock *m, const char *auth, const char *path, const void *bytes, size_t len)
{
    char d[ECRMOCK_DIGEST_SIZE], put[700];
    sha256_digest(bytes, len, d);
    snprintf(put, sizeof put, "%s?digest=%s", path, d);
    ecrmock_http_response r;
    if (reg(m, &r, auth, "PUT", put, NULL, NULL, NULL, 0) != 201)
        fail_msg("PUT %s: %d %s", put, r.status, r.body);
    assert_header(&r, "Docker-Content-Digest", d);
    ecrmock_http_response_release(&r);
}

static void test_push_is_seen_by_describe_images(void **state)
{
    ecrmock *m = *state;
    create_repo(m, REPO);
    char *auth = login(m);
    ecrmock_journal_enable(m, 1);
    ecrmock_journal_clear(m);
    const char config[] = "{\"architecture\":\"amd64\",\"os\":\"linux\"}";
    char layer[3000];
    for (size_t i = 0; i < sizeof layer; i++)
        layer[i] = (char)(i * 7);
    char cd[ECRMOCK_DIGEST_SIZE], ld[ECRMOCK_DIGEST_SIZE];
    push_blob(m, auth, REPO, config, strlen(config), 1 << 20, cd);
    push_blob(m, auth, REPO, layer, sizeof layer, 1024, ld); /* chunks of the 1 KiB minimum part */
    char mf[1024];
    int n = snprintf(mf, sizeof mf,
                     "{\"schemaVersion\":2,\"mediaType\":\"" V2 "\",\"config\":{\"mediaType\":"
                     "\"application/vnd.docker.container.image.v1+json\",\"size\":%zu,\"digest\":\"%s\"},"
                     "\"layers\":[{\"mediaType\":\"application/vnd.docker.image.rootfs.diff.tar.gzip\",\"size\":%zu,"
                     "\"digest\":\"%s\"}]}",
                     strlen(config), cd, sizeof layer, ld);
    char digest[ECRMOCK_DIGEST_SIZE];
    sha256_digest(mf, (size_t)n, digest);
    ecrmock_http_response r;
    assert_int_equal(reg(m, &r, auth, "PUT", "/v2/" REPO "/manifests/v1", "Content-Type", V2, mf, (size_t)n), 201);
    assert_header(&r, "Docker-Content-Digest", digest);
    char loc[300];
    snprintf(loc, sizeof loc, BASE "/v2/" REPO "/manifests/%s", digest);
    assert_header(&r, "Location", loc);
    ecrmock_http_response_release(&r);

    json_t *d = describe_image(m, REPO, digest);
    assert_string_equal(jstr(d, "imageDigest"), digest);
    assert_int_equal(json_integer_value(json_object_get(d, "imageSizeInBytes")), (json_int_t)sizeof layer);
    assert_string_equal(jstr(d, "imageManifestMediaType"), V2);
    assert_string_equal(json_string_value(json_array_get(json_object_get(d, "imageTags"), 0)), "v1");
    json_decref(d);

    /* Journaled under the actions that authorize each step, on the registry plane. */
    static const char *const want[] = {"InitiateLayerUpload", "UploadLayerPart", "CompleteLayerUpload",
                                       "InitiateLayerUpload", "UploadLayerPart", "UploadLayerPart",
                                       "UploadLayerPart",     "CompleteLayerUpload", "PutImage"};
    size_t len = ecrmock_journal_length(m);
    assert_int_equal(len, sizeof want / sizeof want[0] + 1); /* and DescribeImages */
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        json_t *e = journal_at(m, (long)i);
        assert_string_equal(jstr(e, "action"), want[i]);
        assert_string_equal(jstr(e, "plane"), "registry");
        /* The token is no more in the journal than a SigV4 signature is. */
        assert_string_equal(jstr(json_object_get(e, "headers"), "authorization"), "Basic <elided>");
        json_decref(e);
    }
    json_t *e = journal_at(m, (long)len - 1);
    assert_null(json_object_get(e, "plane"));
    json_decref(e);
    assert_int_equal(ecrmock_call_count(m, "PutImage"), 1);
    free(auth);
}

static void test_put_image_pulls(void **state)
{
    ecrmock *m = *state;
    create_repo(m, REPO);
    char *mf = make_manifest(m, REPO, 1, 5);
    char *digest = put_image(m, REPO, mf, "latest");
    char *auth = login(m);
    ecrmock_http_response r;
    assert_int_equal(reg(m, &r, auth, "GET", "/v2/" REPO "/manifests/latest", "Accept", V2 ", */*", NULL, 0), 200);
    assert_string_equal(r.body, mf);
    assert_header(&r, "Content-Type", V2);
    assert_header(&r, "Docker-Content-Digest", NULL); /* ECR sends none on a GET */
    char len[32];
    snprintf(len, sizeof len, "%zu", strlen(mf));
    assert_header(&r, "Content-Length", len);
    ecrmock_http_response_release(&r);

    assert_int_equal(reg(m, &r, auth, "HEAD", "/v2/" REPO "/manifests/latest", NULL, NULL, NULL, 0), 200);
    assert_int_equal(r.body_len, 0);
    assert_header(&r, "Docker-Content-Digest", digest);
    assert_header(&r, "Content-Length", len);
    assert_header(&r, "Sizes", "");
    ecrmock_http_response_release(&r);

    char path[300];
    snprintf(path, sizeof path, "/v2/" REPO "/manifests/%s", digest);
    assert_int_equal(reg(m, &r, auth, "GET", path, NULL, NULL, NULL, 0), 200);
    assert_string_equal(r.body, mf);
    ecrmock_http_response_release(&r);

    /* The layer: HEAD answers its size and type, GET redirects to the download URL. */
    json_t *doc = json_loads(mf, 0, NULL);
    json_t *l = json_array_get(json_object_get(doc, "layers"), 0);
    const char *ld = jstr(l, "digest");
    snprintf(path, sizeof path, "/v2/" REPO "/blobs/%s", ld);
    assert_int_equal(reg(m, &r, auth, "HEAD", path, NULL, NULL, NULL, 0), 200);
    snprintf(len, sizeof len, "%lld", (long long)json_integer_value(json_object_get(l, "size")));
    assert_header(&r, "Content-Length", len);
    assert_header(&r, "Content-Type", "application/vnd.docker.image.rootfs.diff.tar.gzip");
    assert_header(&r, "Docker-Content-Digest", ld);
    ecrmock_http_response_release(&r);
    assert_int_equal(reg(m, &r, auth, "GET", path, NULL, NULL, NULL, 0), 307);
    const char *url = ecrmock_http_response_header(&r, "Location");
    assert_non_null(url);
    const char *s3 = "https://prod-us-east-1-starport-layer-bucket.s3.us-east-1.amazonaws.com/123456789012/" REPO "/";
    assert_true(strncmp(url, s3, strlen(s3)) == 0);
    ecrmock_http_request get = ECRMOCK_HTTP_REQUEST_INIT;
    get.method = "GET";
    get.target = url;
    ecrmock_http_response body;
    assert_int_equal(ecrmock_http_handle(m, &get, &body), 200);
    assert_string_equal(body.body, "layer 0 of image 5");
    ecrmock_http_response_release(&body);
    /* Followed with the registry's credentials still on: S3 takes one auth
     * mechanism, the URL's (OPA #6728, oras-java #334 met it on ECR). */
    ecrmock_http_header both[] = {{"Authorization", auth}};
    get.headers = both;
    get.n_headers = 1;
    assert_int_equal(ecrmock_http_handle(m, &get, &body), 400);
    char want[9000];
    snprintf(want, sizeof want,
             "<Code>InvalidArgument</Code><Message>Only one auth mechanism allowed; only the X-Amz-Algorithm query "
             "parameter, Signature query string parameter or the Authorization header should be specified</Message>"
             "<ArgumentName>Authorization</ArgumentName><ArgumentValue>%s</ArgumentValue><RequestId>",
             auth);
    if (!strstr(body.body, want))
        fail_msg("%s", body.body);
    assert_string_equal(ecrmock_http_response_header(&body, "Content-Type"), "application/xml");
    ecrmock_http_response_release(&body);
    ecrmock_http_response_release(&r);
    json_decref(doc);
    /* BatchGetImage authorized the pulls, GetDownloadUrlForLayer the blob GET. */
    assert_int_equal(ecrmock_call_count(m, "BatchGetImage"), 3);
    assert_int_equal(ecrmock_call_count(m, "BatchCheckLayerAvailability"), 1);
    assert_int_equal(ecrmock_call_count(m, "GetDownloadUrlForLayer"), 1);
    free(mf);
    free(digest);
    free(auth);
}

/* A host that is no registry host (a loopback base): the token names the registry. */
/* Go's net/http (skopeo, podman, crane) sends one Accept line per media type:
 * every line counts, as one comma-joined line would (skopeo's inspect --raw
 * of a Docker v2 image, whose first line is the OCI manifest type). */
static void test_accept_on_several_lines(void **state)
{
    ecrmock *m = *state;
    create_repo(m, REPO);
    char *mf = make_manifest(m, REPO, 1, 5);
    char *digest = put_image(m, REPO, mf, "latest");
    char *auth = login(m);
    ecrmock_http_header h[] = {{"Host", HOST},
                               {"Authorization", auth},
                               {"Accept", "application/vnd.oci.image.manifest.v1+json"},
                               {"accept", V2},
                               {"Accept", "application/vnd.oci.image.index.v1+json"}};
    ecrmock_http_request req = ECRMOCK_HTTP_REQUEST_INIT;
    req.method = "GET";
    req.target = "/v2/" REPO "/manifests/latest";
    req.headers = h;
    req.n_headers = sizeof h / sizeof h[0];
    ecrmock_http_response r;
    assert_int_equal(ecrmock_http_handle(m, &req, &r), 200);
    assert_string_equal(r.body, mf);
    assert_header(&r, "Content-Type", V2);
    ecrmock_http_response_release(&r);
    /* The lines name no type the image has: MANIFEST_UNKNOWN as with one line. */
    h[2].value = "application/vnd.docker.distribution.manifest.list.v2+json";
    h[3].value = "application/vnd.docker.distribution.manifest.list.v2+json";
    ecrmock_http_handle(m, &req, &r);
    assert_reg_error(&r, 404, "MANIFEST_UNKNOWN", "Requested image not found");
    free(auth);
    free(digest);
    free(mf);
}

static void test_loopback_base(void **state)
{
    ecrmock *m = *state;
    char *digest = new_repo_with_image(m, REPO, 1, "v1");
    char *auth = login(m);
    ecrmock_http_header h[2] = {{"Host", "127.0.0.1:5000"}, {"Authorization", auth}};
    ecrmock_http_request req = ECRMOCK_HTTP_REQUEST_INIT;
    req.method = "HEAD";
    req.target = "/v2/" REPO "/manifests/v1";
    req.headers = h;
    req.n_headers = 2;
    ecrmock_http_response r;
    assert_int_equal(ecrmock_http_handle(m, &req, &r), 200);
    assert_header(&r, "Docker-Content-Digest", digest);
    ecrmock_http_response_release(&r);
    req.method = "POST";
    req.target = "/v2/" REPO "/blobs/uploads/";
    assert_int_equal(ecrmock_http_handle(m, &req, &r), 202);
    const char *loc = ecrmock_http_response_header(&r, "Location");
    assert_non_null(loc);
    assert_true(strncmp(loc, "/v2/" REPO "/blobs/uploads/", 22) == 0); /* relative */
    ecrmock_http_response_release(&r);
    free(digest);
    free(auth);
}

/* ---- uploads ----------------------------------------------------------------------- */

/* Creates REPO, logs in (*auth, free it) and starts an upload: its path in p[300]. */
static void start_upload(ecrmock *m, char **auth, char *p)
{
    create_repo(m, REPO);
    *auth = login(m);
    ecrmock_http_response r;
    assert_int_equal(reg(m, &r, *auth, "POST", "/v2/" REPO "/blobs/uploads/", NULL, NULL, NULL, 0), 202);
    snprintf(p, 300, "%s", ecrmock_http_response_header(&r, "Location") + strlen(BASE));
    ecrmock_http_response_release(&r);
}

static void test_upload_status_and_cancel(void **state)
{
    ecrmock *m = *state;
    char *auth, p[300];
    start_upload(m, &auth, p);
    ecrmock_http_response r;
    assert_int_equal(reg(m, &r, auth, "PATCH", p, NULL, NULL, "hello", 5), 201);
    ecrmock_http_response_release(&r);
    assert_int_equal(reg(m, &r, auth, "GET", p, NULL, NULL, NULL, 0), 204);
    assert_header(&r, "Range", "0-4");
    ecrmock_http_response_release(&r);
    /* A chunk that does not start where the upload ends: ECR's 416. */
    assert_int_equal(reg(m, &r, auth, "PATCH", p, "Content-Range", "7-9", "abc", 3), 416);
    assert_reg_error(&r, 416, "BLOB_UPLOAD_INVALID", "First byte of the layer part is 7 instead of 5");
    /* A digest that is not the bytes'. */
    char put[400];
    snprintf(put, sizeof put, "%s?digest=sha256:%064d", p, 0);
    reg(m, &r, auth, "PUT", put, NULL, NULL, NULL, 0);
    assert_reg_error(&r, 400, "BLOB_UPLOAD_INVALID",
                     "None of the provided layer digests match the calculated layer digest");
    assert_int_equal(reg(m, &r, auth, "DELETE", p, NULL, NULL, NULL, 0), 204);
    ecrmock_http_response_release(&r);
    reg(m, &r, auth, "GET", p, NULL, NULL, NULL, 0);
    assert_reg_error(&r, 404, "BLOB_UPLOAD_UNKNOWN", "Requested upload not found");
    reg(m, &r, auth, "PATCH", p, NULL, NULL, "x", 1);
    char msg[300];
    snprintf(msg, sizeof msg,
             "The upload with id '%s' does not exist in the repository with name '" REPO
             "' in registry with id '123456789012'",
             strrchr(p, '/') + 1);
    assert_reg_error(&r, 404, "BLOB_UPLOAD_UNKNOWN", msg);
    free(auth);
}

/* ECR's Range stays at the first PATCH's last byte for the later chunks, though it
 * stores them (containers-roadmap#2831); the upload's status tells the truth. */
static void test_patch_range_stays_at_the_first_chunk(void **state)
{
    ecrmock *m = *state;
    char *auth, p[300];
    start_upload(m, &auth, p);
    ecrmock_http_response r;
    /* An empty first PATCH fixes nothing. */
    assert_int_equal(reg(m, &r, auth, "PATCH", p, NULL, NULL, NULL, 0), 201);
    assert_header(&r, "Range", "0-0");
    ecrmock_http_response_release(&r);
    assert_int_equal(reg(m, &r, auth, "PATCH", p, "Content-Range", "0-4", "hello", 5), 201);
    assert_header(&r, "Range", "0-4");
    ecrmock_http_response_release(&r);
    assert_int_equal(reg(m, &r, auth, "PATCH", p, "Content-Range", "5-7", "abc", 3), 201);
    assert_header(&r, "Range", "0-4");
    ecrmock_http_response_release(&r);
    assert_int_equal(reg(m, &r, auth, "PATCH", p, NULL, NULL, "xy", 2), 201);
    assert_header(&r, "Range", "0-4");
    ecrmock_http_response_release(&r);
    assert_int_equal(reg(m, &r, auth, "GET", p, NULL, NULL, NULL, 0), 204);
    assert_header(&r, "Range", "0-9");
    ecrmock_http_response_release(&r);
    free(auth);
}

/* A monolithic PUT: the body and the digest in one request. */
static void test_monolithic_put(void **state)
{
    ecrmock *m = *state;
    create_repo(m, REPO);
    char *auth = login(m);
    ecrmock_http_response r;
    assert_int_equal(reg(m, &r, auth, "POST", "/v2/" REPO "/blobs/uploads/", NULL, NULL, NULL, 0), 202);
    char put[400], d[ECRMOCK_DIGEST_SIZE];
    sha256_digest("whole", 5, d);
    /* the digest percent-encoded, as clients send it */
    snprintf(put, sizeof put, "%s?digest=sha256%%3A%s", ecrmock_http_response_header(&r, "Location") + strlen(BASE),
             d + 7);
    ecrmock_http_response_release(&r);
    assert_int_equal(reg(m, &r, auth, "PUT", put, NULL, NULL, "whole", 5), 201);
    assert_header(&r, "Docker-Content-Digest", d);
    ecrmock_http_response_release(&r);
    char head[200];
    snprintf(head, sizeof head, "/v2/" REPO "/blobs/%s", d);
    assert_int_equal(reg(m, &r, auth, "HEAD", head, NULL, NULL, NULL, 0), 200);
    assert_header(&r, "Content-Length", "5");
    assert_header(&r, "Content-Type", "application/octet-stream");
    ecrmock_http_response_release(&r);
    free(auth);
}

/* ---- errors -------------------------------------------------------------------------- */

static void test_errors(void **state)
{
    ecrmock *m = *state;
    char *digest = new_repo_with_image(m, REPO, 1, "v1");
    char *auth = login(m);
    ecrmock_http_response r;
    reg(m, &r, auth, "POST", "/v2/nope/blobs/uploads/", NULL, NULL, NULL, 0);
    assert_reg_error(&r, 404, "NAME_UNKNOWN",
                     "The repository with name 'nope' does not exist in the registry with id '123456789012'");
    reg(m, &r, auth, "GET", "/v2/" REPO "/manifests/v2", NULL, NULL, NULL, 0);
    assert_reg_error(&r, 404, "MANIFEST_UNKNOWN", "Requested image not found");
    /* A name no repository can have (under ECR's 2 characters): the spec's
     * NAME_INVALID, on a blob, an upload and a manifest alike (skopeo
     * printed "digest invalid" for it). */
    static const char *const bad_name[][2] = {
        {"HEAD", "/v2/d/blobs/sha256:0000000000000000000000000000000000000000000000000000000000000000"},
        {"POST", "/v2/d/blobs/uploads/"},
        {"GET", "/v2/d/manifests/v1"},
    };
    for (size_t i = 0; i < sizeof bad_name / sizeof bad_name[0]; i++) {
        reg(m, &r, auth, bad_name[i][0], bad_name[i][1], NULL, NULL, NULL, 0);
        if (strcmp(bad_name[i][0], "HEAD") == 0) {
            assert_int_equal(r.status, 400);
            ecrmock_http_response_release(&r);
            continue;
        }
        assert_reg_error(&r, 400, "NAME_INVALID",
                         "Invalid parameter at 'repositoryName' failed to satisfy constraint: "
                         "'must have length greater than or equal to 2'");
    }
    char blob[200];
    snprintf(blob, sizeof blob, "/v2/" REPO "/blobs/sha256:%064d", 1);
    reg(m, &r, auth, "HEAD", blob, NULL, NULL, NULL, 0);
    assert_int_equal(r.status, 404);
    assert_int_equal(r.body_len, 0); /* a HEAD has no body */
    ecrmock_http_response_release(&r);
    reg(m, &r, auth, "GET", blob, NULL, NULL, NULL, 0);
    assert_int_equal(r.status, 404);
    assert_true(strstr(r.body, "\"BLOB_UNKNOWN\"") != NULL);
    ecrmock_http_response_release(&r);
    reg(m, &r, auth, "DELETE", blob, NULL, NULL, NULL, 0);
    assert_reg_error(&r, 405, "UNSUPPORTED", "The operation is unsupported.");
    /* A manifest ECR cannot read. */
    reg(m, &r, auth, "PUT", "/v2/" REPO "/manifests/v9", "Content-Type", V2, "{not json", 9);
    assert_int_equal(r.status, 405);
    assert_true(strstr(r.body, "\"UNSUPPORTED\"") && strstr(r.body, "Invalid parameter at 'ImageManifest'"));
    ecrmock_http_response_release(&r);
    /* A media type ECR does not take. */
    char *mf = make_manifest(m, REPO, 1, 9);
    reg(m, &r, auth, "PUT", "/v2/" REPO "/manifests/v9", "Content-Type", "text/plain", mf, strlen(mf));
    assert_int_equal(r.status, 400);
    assert_true(strstr(r.body, "\"MANIFEST_INVALID\"") != NULL);
    ecrmock_http_response_release(&r);
    /* An immutable repository's tag. */
    call_ok(m, "PutImageTagMutability", "{\"repositoryName\":\"" REPO "\",\"imageTagMutability\":\"IMMUTABLE\"}");
    reg(m, &r, auth, "PUT", "/v2/" REPO "/manifests/v1", "Content-Type", V2, mf, strlen(mf));
    assert_reg_error(&r, 400, "TAG_INVALID",
                     "The image tag 'v1' already exists in the '" REPO
                     "' repository and cannot be overwritten because the repository is immutable.");
    /* Delete by digest, then it is unknown. */
    char path[300];
    snprintf(path, sizeof path, "/v2/" REPO "/manifests/%s", digest);
    assert_int_equal(reg(m, &r, auth, "DELETE", path, NULL, NULL, NULL, 0), 202);
    ecrmock_http_response_release(&r);
    reg(m, &r, auth, "DELETE", path, NULL, NULL, NULL, 0);
    assert_reg_error(&r, 404, "MANIFEST_UNKNOWN", "Requested image not found");
    reg(m, &r, auth, "GET", path, NULL, NULL, NULL, 0);
    assert_reg_error(&r, 404, "MANIFEST_UNKNOWN", "Requested image not found");
    free(mf);
    free(digest);
    free(auth);
}

/* The code of a registry error body (a HEAD: none, and no body). */
static void assert_lookup(ecrmock *m, const char *auth, const char *method, const char *path, int status,
                          const char *code, char *message, size_t cap)
{
    ecrmock_http_response r;
    if (reg(m, &r, auth, method, path, NULL, NULL, NULL, 0) != status)
        fail_msg("%s %.80s: status %d body %s, want %d %s", method, path, r.status, r.body, status, code);
    assert_header(&r, "Content-Type", ERR_TYPE);
    if (strcmp(method, "HEAD") == 0) {
        assert_int_equal(r.body_len, 0);
    } else {
        json_t *doc = json_loads(r.body, 0, NULL), *e = json_array_get(json_object_get(doc, "errors"), 0);
        assert_non_null(e);
        assert_string_equal(jstr(e, "code"), code);
        if (message && !*message)
            snprintf(message, cap, "%s", jstr(e, "message"));
        else if (message)
            assert_string_equal(jstr(e, "message"), message); /* the same as the first method's */
        json_decref(doc);
    }
    ecrmock_http_response_release(&r);
}

/* One mapping of a lookup's failure for a manifest's GET, HEAD and DELETE and
 * a blob's HEAD and GET: a reference that is none is 400 TAG_INVALID or
 * DIGEST_INVALID, one that names nothing 404 MANIFEST_UNKNOWN or
 * BLOB_UNKNOWN, each method with the same code and text (a HEAD no body). */
static void test_lookup_failures_agree(void **state)
{
    ecrmock *m = *state;
    char *digest = new_repo_with_image(m, REPO, 1, "v1");
    char *auth = login(m);
    char long_tag[302];
    memset(long_tag, 't', 301); /* ECR's tags are 1 to 300 characters */
    long_tag[301] = '\0';
    char unknown[ECRMOCK_DIGEST_SIZE];
    sha256_digest("no such manifest", 16, unknown);
    const struct {
        const char *ref;
        int status;
        const char *code;
    } manifests[] = {
        {long_tag, 400, "TAG_INVALID"},
        {"sha256:xyz", 400, "DIGEST_INVALID"},
        {"sha256:", 400, "DIGEST_INVALID"},
        {"v9", 404, "MANIFEST_UNKNOWN"},
        {unknown, 404, "MANIFEST_UNKNOWN"},
    };
    static const char *const manifest_methods[] = {"GET", "HEAD", "DELETE"};
    for (size_t i = 0; i < sizeof manifests / sizeof manifests[0]; i++) {
        char path[512], message[512] = "";
        snprintf(path, sizeof path, "/v2/" REPO "/manifests/%s", manifests[i].ref);
        for (size_t k = 0; k < 3; k++)
            assert_lookup(m, auth, manifest_methods[k], path, manifests[i].status, manifests[i].code, message,
                          sizeof message);
        if (manifests[i].status == 404)
            assert_string_equal(message, "Requested image not found");
    }
    char absent[ECRMOCK_DIGEST_SIZE];
    sha256_digest("no such layer", 13, absent);
    const struct {
        const char *digest;
        int status;
        const char *code;
    } blobs[] = {
        {"sha256:zz", 400, "DIGEST_INVALID"},
        {"sha256:", 400, "DIGEST_INVALID"},
        {absent, 404, "BLOB_UNKNOWN"},
    };
    for (size_t i = 0; i < sizeof blobs / sizeof blobs[0]; i++) {
        char path[512];
        snprintf(path, sizeof path, "/v2/" REPO "/blobs/%s", blobs[i].digest);
        assert_lookup(m, auth, "HEAD", path, blobs[i].status, blobs[i].code, NULL, 0);
        assert_lookup(m, auth, "GET", path, blobs[i].status, blobs[i].code, NULL, 0);
    }
    /* Nothing was deleted on the way: the image still pulls. */
    ecrmock_http_response r;
    assert_int_equal(reg(m, &r, auth, "GET", "/v2/" REPO "/manifests/v1", NULL, NULL, NULL, 0), 200);
    ecrmock_http_response_release(&r);
    free(digest);
    free(auth);
}

/* A chunk's Content-Range is read strictly: anything but <first>-<last>,
 * two offsets int64_t holds with first <= last, naming as many bytes as
 * the body has, is the specification's 416 BLOB_UPLOAD_INVALID with the
 * upload's Location and true Range, the upload unchanged (it was read as
 * 0, or as its leading digits, before). */
static void test_content_range_strict(void **state)
{
    ecrmock *m = *state;
    create_repo(m, REPO);
    char *auth = login(m);
    ecrmock_http_response r;
    char p[512], loc[600];
    open_upload(m, auth, p, sizeof p);
    snprintf(loc, sizeof loc, BASE "%s", p);
    assert_int_equal(reg(m, &r, auth, "PATCH", p, "Content-Range", "0-4", "hello", 5), 201);
    ecrmock_http_response_release(&r);
    const char *form = "The Content-Range header is not <first byte>-<last byte>, two offsets from 0 to "
                       "9223372036854775807, the first not past the last";
    static const char *const bad[] = {
        "bytes=abc", "abc-def", "5-2", "-5-7", "5--7", "5-", "-7", "-", "", "5-7x", " 5-7", "5 -7", "5-7/*",
        "+5-7", "0x5-7", "bytes=", "bytes=-1-1",
        "9223372036854775808-9223372036854775810",   /* past int64 */
        "5-9223372036854775808",                     /* the last past int64 */
        "99999999999999999999-99999999999999999999", /* far past */
        "-9223372036854775808-7",                    /* int64's least: negative */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(reg(m, &r, auth, "PATCH", p, "Content-Range", bad[i], "abc", 3), 416);
        assert_header(&r, "Location", loc);
        assert_header(&r, "Range", "0-4");
        assert_reg_error(&r, 416, "BLOB_UPLOAD_INVALID", form);
    }
    /* Well formed, but not the body's size. */
    reg(m, &r, auth, "PATCH", p, "Content-Range", "5-9", "abc", 3);
    assert_header(&r, "Range", "0-4");
    assert_reg_error(&r, 416, "BLOB_UPLOAD_INVALID", "The Content-Range header names 5 bytes but the body has 3");
    reg(m, &r, auth, "PATCH", p, "Content-Range", "0-9223372036854775807", "abc", 3);
    assert_reg_error(&r, 416, "BLOB_UPLOAD_INVALID",
                     "The Content-Range header names 9223372036854775808 bytes but the body has 3");
    /* int64's greatest offset is an offset: the action says where the part must start. */
    reg(m, &r, auth, "PATCH", p, "Content-Range", "9223372036854775807-9223372036854775807", "a", 1);
    assert_reg_error(&r, 416, "BLOB_UPLOAD_INVALID", "First byte of the layer part is 9223372036854775807 instead of 5");
    /* None of it was stored; the RFC's "bytes=" before the range is tolerated. */
    assert_int_equal(reg(m, &r, auth, "GET", p, NULL, NULL, NULL, 0), 204);
    assert_header(&r, "Range", "0-4");
    ecrmock_http_response_release(&r);
    assert_int_equal(reg(m, &r, auth, "PATCH", p, "Content-Range", "bytes=5-7", "abc", 3), 201);
    ecrmock_http_response_release(&r);
    assert_int_equal(reg(m, &r, auth, "GET", p, NULL, NULL, NULL, 0), 204);
    assert_header(&r, "Range", "0-7");
    ecrmock_http_response_release(&r);
    /* A PUT's Content-Range is read the same way. */
    char d[ECRMOCK_DIGEST_SIZE], put[700];
    sha256_digest("helloabcxyz", 11, d);
    snprintf(put, sizeof put, "%s?digest=%s", p, d);
    reg(m, &r, auth, "PUT", put, "Content-Range", "8-abc", "xyz", 3);
    assert_reg_error(&r, 416, "BLOB_UPLOAD_INVALID", form);
    /* An upload that does not exist is unknown before its range is read. */
    reg(m, &r, auth, "PATCH", "/v2/" REPO "/blobs/uploads/no-such-upload", "Content-Range", "abc", "abc", 3);
    assert_reg_error(&r, 404, "BLOB_UPLOAD_UNKNOWN", "Requested upload not found");
    free(auth);
}

/* tags/list's and _catalog's n is read strictly: an integer the API's
 * maxResults (32 bits) holds is maxResults, whose constraint answers as
 * ECR's does (405 UNSUPPORTED); anything else, int64's edges too, is
 * distribution's 400 PAGINATION_NUMBER_INVALID (it was read as 0, or its
 * leading digits, or answered a SerializationException). */
static void test_page_size_strict(void **state)
{
    ecrmock *m = *state;
    char *digest = new_repo_with_image(m, REPO, 1, "v1");
    char *auth = login(m);
    ecrmock_http_response r;
    static const char *const paths[] = {"/v2/" REPO "/tags/list", "/v2/_catalog"};
    static const char *const not_integers[] = {
        "abc", "", "99999999999999999999", "9223372036854775808", "-9223372036854775809", "9223372036854775807",
        "-9223372036854775808", "2147483648", "-2147483649", "5x", "+5", " 5", "5%20", "0x10", "1e3", "-", "5%00",
        "%2D", "--1",
    };
    const char *over = "Invalid parameter at 'maxResults' failed to satisfy constraint: 'Member must have value "
                       "less than or equal to 1000'";
    const char *under = "Invalid parameter at 'maxResults' failed to satisfy constraint: 'Member must have value "
                        "greater than or equal to 1'";
    const struct {
        const char *n, *message;
    } integers[] = {
        {"2147483647", over}, {"1001", over}, {"0", under}, {"-1", under},
        {"-2147483648", under}, {"%2D1", under}, /* "-1" sent encoded */
    };
    for (size_t k = 0; k < 2; k++) {
        char path[200];
        for (size_t i = 0; i < sizeof not_integers / sizeof not_integers[0]; i++) {
            snprintf(path, sizeof path, "%s?n=%s", paths[k], not_integers[i]);
            reg(m, &r, auth, "GET", path, NULL, NULL, NULL, 0);
            assert_reg_error(&r, 400, "PAGINATION_NUMBER_INVALID",
                             "invalid number of results requested: n is not an integer from -2147483648 to "
                             "2147483647");
        }
        for (size_t i = 0; i < sizeof integers / sizeof integers[0]; i++) {
            snprintf(path, sizeof path, "%s?n=%s", paths[k], integers[i].n);
            reg(m, &r, auth, "GET", path, NULL, NULL, NULL, 0);
            assert_reg_error(&r, 405, "UNSUPPORTED", integers[i].message);
        }
        snprintf(path, sizeof path, "%s?n=1000&n=abc", paths[k]); /* the first n counts */
        assert_int_equal(reg(m, &r, auth, "GET", path, NULL, NULL, NULL, 0), 200);
        ecrmock_http_response_release(&r);
        snprintf(path, sizeof path, "%s?n=1", paths[k]);
        assert_int_equal(reg(m, &r, auth, "GET", path, NULL, NULL, NULL, 0), 200);
        ecrmock_http_response_release(&r);
    }
    /* referrers/<digest> reads its n the same way (ListImageReferrers: 1 to 50), and
     * answers a refused n or last as the lists do (it said DIGEST_INVALID). */
    char path[300];
    snprintf(path, sizeof path, "/v2/" REPO "/referrers/%s?n=abc", digest);
    reg(m, &r, auth, "GET", path, NULL, NULL, NULL, 0);
    assert_reg_error(&r, 400, "PAGINATION_NUMBER_INVALID",
                     "invalid number of results requested: n is not an integer from -2147483648 to 2147483647");
    snprintf(path, sizeof path, "/v2/" REPO "/referrers/%s?n=51", digest);
    reg(m, &r, auth, "GET", path, NULL, NULL, NULL, 0);
    assert_reg_error(&r, 405, "UNSUPPORTED",
                     "Invalid parameter at 'maxResults' failed to satisfy constraint: 'Member must have value less "
                     "than or equal to 50'");
    snprintf(path, sizeof path, "/v2/" REPO "/referrers/%s?last=not-a-token", digest);
    reg(m, &r, auth, "GET", path, NULL, NULL, NULL, 0);
    assert_reg_error(&r, 405, "UNSUPPORTED",
                     "Invalid parameter at 'NextToken' failed to satisfy constraint: 'Invalid next token provided'");
    free(digest);
    free(auth);
}

/* A fault rule on the authorizing action answers in the registry's form. */
static void test_fault_rule_applies(void **state)
{
    ecrmock *m = *state;
    free(new_repo_with_image(m, REPO, 1, "v1"));
    char *auth = login(m);
    json_t *rule = json_pack("{s:s, s:s}", "action", "BatchGetImage", "error", "ThrottlingException");
    assert_true(ecrmock_fault_add_json(m, rule, NULL) > 0);
    json_decref(rule);
    ecrmock_http_response r;
    reg(m, &r, auth, "GET", "/v2/" REPO "/manifests/v1", NULL, NULL, NULL, 0);
    assert_reg_error(&r, 429, "TOOMANYREQUESTS", "Rate exceeded");
    /* A transport rule: the header the libcurl level turns into its CURLcode. */
    rule = json_pack("{s:s, s:s}", "action", "InitiateLayerUpload", "effect", "timeout");
    assert_true(ecrmock_fault_add_json(m, rule, NULL) > 0);
    json_decref(rule);
    reg(m, &r, auth, "POST", "/v2/" REPO "/blobs/uploads/", NULL, NULL, NULL, 0);
    assert_header(&r, ECRMOCK_HTTP_TRANSPORT_FAULT_HEADER, "timeout");
    assert_true(r.status >= 400);
    ecrmock_http_response_release(&r);
    free(auth);
}

/* ---- listings -------------------------------------------------------------------------- */

static void test_tags_list_paged(void **state)
{
    ecrmock *m = *state;
    create_repo(m, REPO);
    free(push_new_image(m, REPO, 1, 1, "a"));
    free(push_new_image(m, REPO, 1, 2, "b"));
    free(push_new_image(m, REPO, 1, 3, "c"));
    char *auth = login(m);
    ecrmock_http_response r;
    assert_int_equal(reg(m, &r, auth, "GET", "/v2/" REPO "/tags/list?n=2", NULL, NULL, NULL, 0), 200);
    assert_header(&r, "Content-Type", "text/plain; charset=utf-8");
    json_t *doc = json_loads(r.body, 0, NULL);
    assert_string_equal(jstr(doc, "name"), REPO);
    assert_int_equal(json_array_size(json_object_get(doc, "tags")), 2);
    const char *link = ecrmock_http_response_header(&r, "Link");
    assert_non_null(link);
    const char *pre = "<" BASE "/v2/" REPO "/tags/list?last=";
    assert_true(strncmp(link, pre, strlen(pre)) == 0);
    assert_true(strcmp(link + strlen(link) - 13, ">; rel=\"next\"") == 0);
    char next[2048];
    snprintf(next, sizeof next, "%.*s", (int)(strlen(link) - strlen(pre) - 13), link + strlen(pre));
    char path[2200];
    snprintf(path, sizeof path, "/v2/" REPO "/tags/list?last=%s", next);
    json_t *seen = json_object();
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(doc, "tags"), i, t) json_object_set(seen, json_string_value(t), t);
    json_decref(doc);
    ecrmock_http_response_release(&r);
    assert_int_equal(reg(m, &r, auth, "GET", path, NULL, NULL, NULL, 0), 200);
    assert_null(ecrmock_http_response_header(&r, "Link"));
    doc = json_loads(r.body, 0, NULL);
    json_array_foreach(json_object_get(doc, "tags"), i, t) json_object_set(seen, json_string_value(t), t);
    assert_int_equal(json_object_size(seen), 3);
    json_decref(doc);
    json_decref(seen);
    ecrmock_http_response_release(&r);
    reg(m, &r, auth, "GET", "/v2/" REPO "/tags/list?n=1001", NULL, NULL, NULL, 0);
    assert_reg_error(&r, 405, "UNSUPPORTED",
                     "Invalid parameter at 'maxResults' failed to satisfy constraint: 'Member must have value less "
                     "than or equal to 1000'");
    free(auth);
}

static void test_catalog_paged(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "ab");
    create_repo(m, "cd/ef");
    char *auth = login(m);
    ecrmock_http_response r;
    assert_int_equal(reg(m, &r, auth, "GET", "/v2/_catalog?n=1", NULL, NULL, NULL, 0), 200);
    assert_string_equal(r.body, "{\"repositories\":[\"ab\"]}");
    const char *link = ecrmock_http_response_header(&r, "Link");
    assert_non_null(link);
    const char *pre = "<" BASE "/v2/_catalog?last=";
    assert_true(strncmp(link, pre, strlen(pre)) == 0);
    char path[2200];
    snprintf(path, sizeof path, "/v2/_catalog?last=%.*s", (int)(strlen(link) - strlen(pre) - 13), link + strlen(pre));
    ecrmock_http_response_release(&r);
    assert_int_equal(reg(m, &r, auth, "GET", path, NULL, NULL, NULL, 0), 200);
    assert_string_equal(r.body, "{\"repositories\":[\"cd/ef\"]}");
    ecrmock_http_response_release(&r);
    free(auth);
}

/* POST ?mount=<digest>&from=<repo> in `repo`: its status; `loc` (may be NULL) gets Location. */
static int mount(ecrmock *m, const char *auth, const char *repo, const char *digest, const char *from, char *loc)
{
    char path[300];
    snprintf(path, sizeof path, "/v2/%s/blobs/uploads/?mount=%s&from=%s", repo, digest, from);
    ecrmock_http_response r;
    int st = reg(m, &r, auth, "POST", path, NULL, NULL, NULL, 0);
    if (loc)
        snprintf(loc, 300, "%s", ecrmock_http_response_header(&r, "Location"));
    ecrmock_http_response_release(&r);
    return st;
}

/* Mounting: a new session (202) unless BLOB_MOUNTING is on and an image of
 * `from` references the layer, in the same encryption: then 201. */
static void test_mount(void **state)
{
    ecrmock *m = *state;
    create_repo(m, REPO);
    char *mf = make_manifest(m, REPO, 1, 1);
    free(put_image(m, REPO, mf, "v1"));
    json_t *doc = json_loads(mf, 0, NULL);
    char layer[ECRMOCK_DIGEST_SIZE], loose[ECRMOCK_DIGEST_SIZE], loc[300];
    snprintf(layer, sizeof layer, "%s", jstr(json_array_get(json_object_get(doc, "layers"), 0), "digest"));
    json_decref(doc);
    push_layer(m, REPO, "no image has me", 15, loose);
    create_repo(m, "other");
    call_ok(m, "CreateRepository",
            "{\"repositoryName\": \"kms\", \"encryptionConfiguration\": {\"encryptionType\": \"KMS\"}}");
    char *auth = login(m);
    /* BLOB_MOUNTING is DISABLED by default: a session, and the source is not even read. */
    assert_int_equal(mount(m, auth, "other", layer, REPO, loc), 202);
    assert_non_null(strstr(loc, "/v2/other/blobs/uploads/"));
    assert_int_equal(ecrmock_call_count(m, "GetDownloadUrlForLayer"), 0);

    call_ok(m, "PutAccountSetting", "{\"name\": \"BLOB_MOUNTING\", \"value\": \"ENABLED\"}");
    assert_int_equal(mount(m, auth, "other", loose, REPO, NULL), 202);   /* no image references it */
    assert_int_equal(mount(m, auth, "kms", layer, REPO, NULL), 202);     /* another encryption */
    assert_int_equal(mount(m, auth, "other", layer, "nope", NULL), 202); /* no such source */
    assert_int_equal(mount(m, auth, "other", layer, REPO, loc), 201);
    char want[300];
    snprintf(want, sizeof want, BASE "/v2/other/blobs/%s", layer);
    assert_string_equal(loc, want);
    assert_int_equal(ecrmock_call_count(m, "GetDownloadUrlForLayer"), 4);
    /* The layer is the other repository's now, type and all. */
    char head[200];
    snprintf(head, sizeof head, "/v2/other/blobs/%s", layer);
    ecrmock_http_response r;
    assert_int_equal(reg(m, &r, auth, "HEAD", head, NULL, NULL, NULL, 0), 200);
    assert_header(&r, "Content-Type", "application/vnd.docker.image.rootfs.diff.tar.gzip");
    ecrmock_http_response_release(&r);
    free(mf);
    free(auth);
}

/* "Blob mounting is not supported for images created via pull through cache"
 * (ug:blob-mounting): a repository under a rule's prefix is no source. */
static void test_mount_not_from_a_pull_through_cache(void **state)
{
    ecrmock *m = *state;
    const char *repos[] = {"cache/alpine", "cachex/alpine"};
    char layers[2][ECRMOCK_DIGEST_SIZE];
    for (int i = 0; i < 2; i++) {
        create_repo(m, repos[i]);
        char *mf = make_manifest(m, repos[i], 1 + i, 1);
        free(put_image(m, repos[i], mf, "v1"));
        json_t *doc = json_loads(mf, 0, NULL);
        snprintf(layers[i], sizeof layers[i], "%s", jstr(json_array_get(json_object_get(doc, "layers"), 0), "digest"));
        json_decref(doc);
        free(mf);
    }
    create_repo(m, "other");
    call_ok(m, "CreatePullThroughCacheRule",
            "{\"ecrRepositoryPrefix\": \"cache/\", \"upstreamRegistryUrl\": \"public.ecr.aws\"}");
    call_ok(m, "PutAccountSetting", "{\"name\": \"BLOB_MOUNTING\", \"value\": \"ENABLED\"}");
    char *auth = login(m);
    assert_int_equal(mount(m, auth, "other", layers[0], "cache/alpine", NULL), 202);
    assert_int_equal(mount(m, auth, "other", layers[1], "cachex/alpine", NULL), 201); /* not under the prefix */
    free(auth);
}

/* Push by digest, a digest that is not the bytes', a re-push, bytes that are not UTF-8. */
static void test_manifest_put_by_digest_and_again(void **state)
{
    ecrmock *m = *state;
    create_repo(m, REPO);
    char *auth = login(m);
    char *mf = make_manifest(m, REPO, 1, 4);
    char digest[ECRMOCK_DIGEST_SIZE], path[300];
    sha256_digest(mf, strlen(mf), digest);
    ecrmock_http_response r;
    snprintf(path, sizeof path, "/v2/" REPO "/manifests/sha256:%064d", 7);
    reg(m, &r, auth, "PUT", path, "Content-Type", V2, mf, strlen(mf));
    char msg[400];
    snprintf(msg, sizeof msg,
             "Provided digest 'sha256:%064d' does not match the digest '%s' calculated for the image manifest", 7,
             digest);
    assert_reg_error(&r, 400, "DIGEST_INVALID", msg);
    snprintf(path, sizeof path, "/v2/" REPO "/manifests/%s", digest);
    assert_int_equal(reg(m, &r, auth, "PUT", path, "Content-Type", V2, mf, strlen(mf)), 201);
    assert_header(&r, "Docker-Content-Digest", digest);
    ecrmock_http_response_release(&r);
    /* The same bytes again (ImageAlreadyExistsException at the API): the registry says 201. */
    assert_int_equal(reg(m, &r, auth, "PUT", path, "Content-Type", V2, mf, strlen(mf)), 201);
    ecrmock_http_response_release(&r);
    json_t *d = describe_image(m, REPO, digest);
    assert_string_equal(jstr(d, "imageDigest"), digest);
    json_decref(d);
    reg(m, &r, auth, "PUT", "/v2/" REPO "/manifests/x", "Content-Type", V2, "{\"a\":\"\xff\"}", 10);
    assert_reg_error(&r, 400, "MANIFEST_INVALID", "The manifest is not UTF-8 text");
    free(mf);
    free(auth);
}

/* A PATCH larger than one UploadLayerPart's blob goes as several parts. */
static void test_big_patch_is_split_into_parts(void **state)
{
    ecrmock *m = *state;
    create_repo(m, REPO);
    char *auth = login(m);
    size_t len = 20971520 + 5;
    char *big = malloc(len);
    for (size_t i = 0; i < len; i++)
        big[i] = (char)(i % 251);
    ecrmock_journal_clear(m);
    char d[ECRMOCK_DIGEST_SIZE];
    push_blob(m, auth, REPO, big, len, len, d);
    assert_int_equal(ecrmock_call_count(m, "UploadLayerPart"), 2);
    char path[200];
    snprintf(path, sizeof path, "/v2/" REPO "/blobs/%s", d);
    ecrmock_http_response r;
    assert_int_equal(reg(m, &r, auth, "HEAD", path, NULL, NULL, NULL, 0), 200);
    assert_header(&r, "Content-Length", "20971525");
    ecrmock_http_response_release(&r);
    free(big);
    free(auth);
}

typedef struct part_seen {
    json_t *request; /* the first UploadLayerPart's, as the hook saw it */
} part_seen;

static void part_seen_hook(void *user, const char *action, json_t *request, ecrmock_injection *inject)
{
    (void)inject;
    part_seen *ps = user;
    if (strcmp(action, "UploadLayerPart") == 0 && !ps->request)
        ps->request = json_deep_copy(request);
}

/* A PATCH's bytes go into the upload raw, not through base64: its UploadLayerPart
 * request (as a hook sees it) carries the part's range and layerPartLength, no
 * layerPartBlob; the journal holds the part as the JSON level sends it, base64
 * layerPartBlob, no layerPartLength, so that a recording replays it. */
static void test_patch_journals_the_part(void **state)
{
    ecrmock *m = *state;
    create_repo(m, REPO);
    char *auth = login(m);
    ecrmock_journal_enable(m, 1);
    ecrmock_journal_clear(m);
    part_seen ps = {0};
    ecrmock_hooks_set(m, part_seen_hook, NULL, &ps);
    char d[ECRMOCK_DIGEST_SIZE];
    push_blob(m, auth, REPO, "hello, raw world", 16, 16, d);
    ecrmock_hooks_set(m, NULL, NULL, NULL);
    assert_non_null(ps.request);
    assert_null(json_object_get(ps.request, "layerPartBlob"));
    assert_int_equal(json_integer_value(json_object_get(ps.request, "partFirstByte")), 0);
    assert_int_equal(json_integer_value(json_object_get(ps.request, "partLastByte")), 15);
    assert_int_equal(json_integer_value(json_object_get(ps.request, "layerPartLength")), 16);
    json_decref(ps.request);
    assert_int_equal(ecrmock_journal_length(m), 3);
    json_t *e = journal_at(m, 1);
    assert_string_equal(jstr(e, "action"), "UploadLayerPart");
    assert_string_equal(jstr(e, "plane"), "registry");
    json_t *req = json_object_get(e, "request");
    assert_string_equal(jstr(req, "layerPartBlob"), "aGVsbG8sIHJhdyB3b3JsZA=="); /* base64("hello, raw world") */
    assert_null(json_object_get(req, "layerPartLength"));
    assert_int_equal(json_integer_value(json_object_get(req, "partFirstByte")), 0);
    assert_int_equal(json_integer_value(json_object_get(req, "partLastByte")), 15);
    json_decref(e);
    /* The layer holds the bytes (its digest was checked by the PUT): pull them back. */
    char path[200];
    snprintf(path, sizeof path, "/v2/" REPO "/blobs/%s", d);
    ecrmock_http_response r;
    assert_int_equal(reg(m, &r, auth, "HEAD", path, NULL, NULL, NULL, 0), 200);
    assert_header(&r, "Content-Length", "16");
    ecrmock_http_response_release(&r);
    free(auth);
}

/* A JSON-level UploadLayerPart made by a hook while a PATCH runs appends its own
 * base64 blob, never the PATCH's raw bytes; and the PATCH still appends its own. */
typedef struct nested_part {
    ecrmock *m;
    const char *upload;
    int calls;
} nested_part;

static void nested_part_hook(void *user, const char *action, json_t *request, ecrmock_injection *inject)
{
    (void)request;
    (void)inject;
    nested_part *np = user;
    if (strcmp(action, "UploadLayerPart") != 0 || np->calls++)
        return;
    json_t *out = NULL, *req = json_pack("{s:s, s:s, s:s, s:i, s:i}", "repositoryName", REPO, "uploadId", np->upload,
                                         "layerPartBlob", "YWJj", "partFirstByte", 0, "partLastByte", 2);
    assert_int_equal(ecrmock_call(np->m, "UploadLayerPart", req, &out), 200);
    json_decref(req);
    json_decref(out);
}

static void test_hook_part_during_patch_is_its_own(void **state)
{
    ecrmock *m = *state;
    create_repo(m, REPO);
    char *auth = login(m);
    json_t *out = NULL, *req = json_pack("{s:s}", "repositoryName", REPO);
    assert_int_equal(ecrmock_call(m, "InitiateLayerUpload", req, &out), 200);
    json_decref(req);
    char *upload = strdup(jstr(out, "uploadId"));
    json_decref(out);
    nested_part np = {.m = m, .upload = upload};
    ecrmock_hooks_set(m, nested_part_hook, NULL, &np);
    char d[ECRMOCK_DIGEST_SIZE];
    push_blob(m, auth, REPO, "0123456789", 10, 10, d);
    ecrmock_hooks_set(m, NULL, NULL, NULL);
    assert_int_equal(np.calls, 2); /* the PATCH's and the hook's own */
    char abc[ECRMOCK_DIGEST_SIZE];
    sha256_digest("abc", 3, abc);
    req = json_pack("{s:s, s:s, s:[s]}", "repositoryName", REPO, "uploadId", upload, "layerDigests", abc);
    assert_int_equal(ecrmock_call(m, "CompleteLayerUpload", req, &out), 200);
    json_decref(req);
    assert_string_equal(jstr(out, "layerDigest"), abc);
    json_decref(out);
    free(upload);
    free(auth);
}

typedef struct nested_patch {
    ecrmock *m;
    const char *auth;
    char path[600]; /* the other upload */
    int calls;
} nested_patch;

/* The first UploadLayerPart's before-hook: another /v2/ PATCH, into another upload, through
 * ecrmock_http_handle, and a JSON-level call. */
static void nested_patch_hook(void *user, const char *action, json_t *request, ecrmock_injection *inject)
{
    (void)request;
    (void)inject;
    nested_patch *np = user;
    if (strcmp(action, "UploadLayerPart") != 0 || np->calls++)
        return;
    ecrmock_http_response r;
    assert_int_equal(reg(np->m, &r, np->auth, "PATCH", np->path, NULL, NULL, "the hook's bytes", 16), 201);
    ecrmock_http_response_release(&r);
    json_t *out = NULL;
    assert_int_equal(call(np->m, &out, "DescribeRepositories", "{}"), 200);
    json_decref(out);
}

/* The raw part travels on the call, not on the instance: a hook that PATCHes
 * another upload while a PATCH runs leaves each upload its own bytes, and a
 * JSON-level call the hook makes is journaled as the API's, not the registry
 * plane's (the plane was the instance's while a /v2/ request ran). */
static void test_hook_patch_during_patch(void **state)
{
    ecrmock *m = *state;
    create_repo(m, REPO);
    char *auth = login(m);
    char outer[600];
    nested_patch np = {.m = m, .auth = auth};
    open_upload(m, auth, outer, sizeof outer);
    open_upload(m, auth, np.path, sizeof np.path);
    ecrmock_journal_enable(m, 1);
    ecrmock_journal_clear(m);
    ecrmock_hooks_set(m, nested_patch_hook, NULL, &np);
    ecrmock_http_response r;
    assert_int_equal(reg(m, &r, auth, "PATCH", outer, NULL, NULL, "the outer PATCH's", 17), 201);
    ecrmock_http_response_release(&r);
    ecrmock_hooks_set(m, NULL, NULL, NULL);
    assert_int_equal(np.calls, 2);
    /* Journal: the hook's PATCH, its DescribeRepositories, then the outer PATCH. */
    assert_int_equal(ecrmock_journal_length(m), 3);
    static const char *const want[][2] = {
        {"UploadLayerPart", "registry"}, {"DescribeRepositories", NULL}, {"UploadLayerPart", "registry"}};
    for (long i = 0; i < 3; i++) {
        json_t *e = journal_at(m, i);
        assert_string_equal(jstr(e, "action"), want[i][0]);
        if (want[i][1])
            assert_string_equal(jstr(e, "plane"), want[i][1]);
        else
            assert_null(json_object_get(e, "plane"));
        json_decref(e);
    }
    complete_upload(m, auth, outer, "the outer PATCH's", 17);
    complete_upload(m, auth, np.path, "the hook's bytes", 16);
    free(auth);
}

typedef struct chunker {
    ecrmock *m;
    const char *auth;
    char path[600];
    unsigned char bytes[16 * 1024];
} chunker;

/* PATCHes its upload in 16 chunks of 1 KiB, then completes it. */
static void *chunk_thread(void *arg)
{
    chunker *c = arg;
    for (size_t at = 0; at < sizeof c->bytes; at += 1024) {
        ecrmock_http_response r;
        char range[64];
        snprintf(range, sizeof range, "%zu-%zu", at, at + 1023);
        assert_int_equal(reg(c->m, &r, c->auth, "PATCH", c->path, "Content-Range", range, c->bytes + at, 1024), 201);
        ecrmock_http_response_release(&r);
    }
    complete_upload(c->m, c->auth, c->path, c->bytes, sizeof c->bytes);
    return NULL;
}

/* Two threads PATCH chunks into two uploads at once: each holds its own bytes. */
static void test_threads_patch_two_uploads(void **state)
{
    ecrmock *m = *state;
    create_repo(m, REPO);
    char *auth = login(m);
    static chunker c[2];
    pthread_t t[2];
    for (int i = 0; i < 2; i++) {
        c[i].m = m;
        c[i].auth = auth;
        for (size_t k = 0; k < sizeof c[i].bytes; k++)
            c[i].bytes[k] = (unsigned char)(i ? k * 7 + 3 : k ^ 0x5a);
        open_upload(m, auth, c[i].path, sizeof c[i].path);
    }
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&t[i], NULL, chunk_thread, &c[i]), 0);
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    assert_int_equal(ecrmock_call_count(m, "UploadLayerPart"), 32);
    free(auth);
}

/* Bytes that are not UTF-8 in the path, the query, Accept or Content-Type: answers, never -1. */
static void test_bytes_that_are_not_utf8(void **state)
{
    ecrmock *m = *state;
    char *digest = new_repo_with_image(m, REPO, 1, "v1");
    char *auth = login(m);
    ecrmock_http_response r;
    reg(m, &r, auth, "GET", "/v2/w\xff" "b/manifests/v1", NULL, NULL, NULL, 0);
    assert_reg_error(&r, 400, "NAME_INVALID", "The request's path or query is not UTF-8 text");
    reg(m, &r, auth, "GET", "/v2/" REPO "/tags/list?last=\xc3", NULL, NULL, NULL, 0);
    assert_reg_error(&r, 400, "NAME_INVALID", "The request's path or query is not UTF-8 text");
    /* The same bytes percent-encoded: a query value is text once decoded too. */
    assert_int_equal(reg(m, &r, auth, "GET", "/v2/" REPO "/tags/list?last=%C3", NULL, NULL, NULL, 0), 400);
    assert_reg_error(&r, 400, "NAME_INVALID", "The request's path or query is not UTF-8 text");
    assert_int_equal(reg(m, &r, auth, "GET", "/v2/_catalog?last=%ff", NULL, NULL, NULL, 0), 400);
    assert_reg_error(&r, 400, "NAME_INVALID", "The request's path or query is not UTF-8 text");
    /* An Accept type that is not UTF-8 is left out: the others still match. */
    assert_int_equal(reg(m, &r, auth, "GET", "/v2/" REPO "/manifests/v1", "Accept", "a/\xff, " V2, NULL, 0), 200);
    ecrmock_http_response_release(&r);
    char *mf = make_manifest(m, REPO, 1, 8);
    reg(m, &r, auth, "PUT", "/v2/" REPO "/manifests/v8", "Content-Type", "application/\xfe", mf, strlen(mf));
    assert_reg_error(&r, 400, "MANIFEST_INVALID", "The manifest's Content-Type is not UTF-8 text");
    free(mf);
    free(digest);
    free(auth);
}

/* The registry errors the other tests leave out: a manifest whose layers the
 * repository lacks, a HEAD of a blob it lacks or of a digest that is no
 * digest, an upload's PUT without ?digest=. */
static void test_errors_of_push_and_blob_head(void **state)
{
    ecrmock *m = *state;
    create_repo(m, REPO);
    create_repo(m, "other");
    char *auth = login(m);
    ecrmock_http_response r;
    char *mf = make_manifest(m, "other", 1, 3); /* its layer is in "other" only */
    assert_int_equal(reg(m, &r, auth, "PUT", "/v2/" REPO "/manifests/v1", NULL, NULL, mf, strlen(mf)), 400);
    assert_non_null(strstr(r.body, "\"MANIFEST_BLOB_UNKNOWN\""));
    assert_non_null(strstr(r.body, "required for pushing image into repository with name '" REPO "'"));
    ecrmock_http_response_release(&r);
    char head[200], d[ECRMOCK_DIGEST_SIZE];
    sha256_digest("absent", 6, d);
    snprintf(head, sizeof head, "/v2/" REPO "/blobs/%s", d);
    assert_int_equal(reg(m, &r, auth, "HEAD", head, NULL, NULL, NULL, 0), 404);
    assert_int_equal(r.body_len, 0);
    assert_header(&r, "Content-Type", ERR_TYPE);
    ecrmock_http_response_release(&r);
    assert_int_equal(reg(m, &r, auth, "GET", head, NULL, NULL, NULL, 0), 404);
    assert_non_null(strstr(r.body, "\"BLOB_UNKNOWN\""));
    ecrmock_http_response_release(&r);
    assert_int_equal(reg(m, &r, auth, "HEAD", "/v2/" REPO "/blobs/sha256:zz", NULL, NULL, NULL, 0), 400);
    assert_int_equal(r.body_len, 0);
    ecrmock_http_response_release(&r);
    reg(m, &r, auth, "PUT", "/v2/" REPO "/blobs/uploads/any-id", NULL, NULL, "x", 1);
    assert_reg_error(&r, 400, "DIGEST_INVALID", "The digest parameter is missing");
    free(mf);
    free(auth);
}

/* ---- the same rules and effects as the API ----------------------------------------------- */

/* IMMUTABLE_WITH_EXCLUSION: an excluded tag moves, any other is TAG_INVALID. */
static void test_immutable_with_exclusion(void **state)
{
    ecrmock *m = *state;
    create_repo(m, REPO);
    call_ok(m, "PutImageTagMutability",
            "{\"repositoryName\": \"" REPO "\", \"imageTagMutability\": \"IMMUTABLE_WITH_EXCLUSION\", "
            "\"imageTagMutabilityExclusionFilters\": [{\"filterType\": \"WILDCARD\", \"filter\": \"latest\"}]}");
    char *mf1 = make_manifest(m, REPO, 1, 1), *mf2 = make_manifest(m, REPO, 1, 2);
    free(put_image(m, REPO, mf1, "latest"));
    free(put_image(m, REPO, mf1, "v1"));
    char *auth = login(m);
    ecrmock_http_response r;
    assert_int_equal(reg(m, &r, auth, "PUT", "/v2/" REPO "/manifests/latest", "Content-Type", V2, mf2, strlen(mf2)),
                     201);
    ecrmock_http_response_release(&r);
    reg(m, &r, auth, "PUT", "/v2/" REPO "/manifests/v1", "Content-Type", V2, mf2, strlen(mf2));
    assert_reg_error(&r, 400, "TAG_INVALID",
                     "The image tag 'v1' already exists in the '" REPO
                     "' repository and cannot be overwritten because the repository is immutable.");
    assert_int_equal(reg(m, &r, auth, "GET", "/v2/" REPO "/manifests/latest", NULL, NULL, NULL, 0), 200);
    assert_string_equal(r.body, mf2);
    ecrmock_http_response_release(&r);
    free(mf1);
    free(mf2);
    free(auth);
}

/* Scan on push: a /v2/ push starts the same scan a PutImage does. */
static void test_scan_on_push(void **state)
{
    ecrmock *m = *state;
    call_ok(m, "CreateRepository",
            "{\"repositoryName\": \"" REPO "\", \"imageScanningConfiguration\": {\"scanOnPush\": true}}");
    call_ok(m, "CreateRepository",
            "{\"repositoryName\": \"api\", \"imageScanningConfiguration\": {\"scanOnPush\": true}}");
    char *mf = make_manifest(m, REPO, 1, 3), *mf_api = make_manifest(m, "api", 1, 3);
    assert_string_equal(mf, mf_api);
    char *d = put_image(m, "api", mf_api, "v1");
    char *auth = login(m);
    ecrmock_http_response r;
    assert_int_equal(reg(m, &r, auth, "PUT", "/v2/" REPO "/manifests/v1", "Content-Type", V2, mf, strlen(mf)), 201);
    assert_header(&r, "Docker-Content-Digest", d);
    ecrmock_http_response_release(&r);
    json_t *a = describe_image(m, REPO, d), *b = describe_image(m, "api", d);
    json_t *sa = json_object_get(a, "imageScanStatus"), *sb = json_object_get(b, "imageScanStatus");
    assert_non_null(sa);
    assert_string_equal(jstr(sa, "status"), "IN_PROGRESS");
    assert_true(json_equal(sa, sb));
    json_decref(a);
    json_decref(b);
    free(mf);
    free(mf_api);
    free(d);
    free(auth);
}

/* A multi-arch list pushed through /v2/: the images by digest, then the list by tag. */
static void test_manifest_list(void **state)
{
    ecrmock *m = *state;
    create_repo(m, REPO);
    char *auth = login(m);
    const char *list_type = "application/vnd.docker.distribution.manifest.list.v2+json";
    json_t *list = json_pack("{s:i, s:s, s:[]}", "schemaVersion", 2, "mediaType", list_type, "manifests");
    ecrmock_http_response r;
    char *children[2];
    for (int i = 0; i < 2; i++) {
        char *mf = make_manifest(m, REPO, 1 + i, 10 + i);
        char d[ECRMOCK_DIGEST_SIZE], path[200];
        sha256_digest(mf, strlen(mf), d);
        snprintf(path, sizeof path, "/v2/" REPO "/manifests/%s", d);
        assert_int_equal(reg(m, &r, auth, "PUT", path, "Content-Type", V2, mf, strlen(mf)), 201);
        ecrmock_http_response_release(&r);
        json_array_append_new(json_object_get(list, "manifests"),
                              json_pack("{s:s, s:i, s:s, s:{s:s, s:s}}", "mediaType", V2, "size", (int)strlen(mf),
                                        "digest", d, "platform", "architecture", i ? "arm64" : "amd64", "os", "linux"));
        children[i] = strdup(d);
        free(mf);
    }
    char *text = json_dumps(list, JSON_COMPACT);
    assert_int_equal(reg(m, &r, auth, "PUT", "/v2/" REPO "/manifests/multi", "Content-Type", list_type, text,
                         strlen(text)),
                     201);
    ecrmock_http_response_release(&r);
    assert_int_equal(reg(m, &r, auth, "GET", "/v2/" REPO "/manifests/multi", "Accept", list_type, NULL, 0), 200);
    assert_string_equal(r.body, text);
    assert_header(&r, "Content-Type", list_type);
    ecrmock_http_response_release(&r);
    char d[ECRMOCK_DIGEST_SIZE];
    sha256_digest(text, strlen(text), d);
    json_t *img = describe_image(m, REPO, d), *big = describe_image(m, REPO, children[1]);
    assert_string_equal(jstr(img, "imageManifestMediaType"), list_type);
    /* A list's size is its largest image's. */
    assert_int_equal(json_integer_value(json_object_get(img, "imageSizeInBytes")),
                     json_integer_value(json_object_get(big, "imageSizeInBytes")));
    json_decref(img);
    json_decref(big);
    json_decref(list);
    free(text);
    free(children[0]);
    free(children[1]);
    free(auth);
}

/* A registry host of another region: its own token, its own repositories. */
static void test_other_region(void **state)
{
    ecrmock *m = *state;
    json_t *req = json_pack("{s:s}", "repositoryName", "west"), *out = NULL;
    assert_int_equal(ecrmock_call_as(m, NULL, "eu-west-1", "CreateRepository", req, &out), 200);
    json_decref(out);
    json_decref(req);
    req = json_object();
    assert_int_equal(ecrmock_call_as(m, NULL, "eu-west-1", "GetAuthorizationToken", req, &out), 200);
    json_decref(req);
    char auth[4096];
    snprintf(auth, sizeof auth, "Basic %s",
             STR(json_array_get(json_object_get(out, "authorizationData"), 0), "authorizationToken"));
    json_decref(out);
    ecrmock_http_header h[2] = {{"Host", "123456789012.dkr.ecr.eu-west-1.amazonaws.com"}, {"Authorization", auth}};
    ecrmock_http_request rq = ECRMOCK_HTTP_REQUEST_INIT;
    rq.method = "GET";
    rq.target = "/v2/_catalog";
    rq.headers = h;
    rq.n_headers = 2;
    ecrmock_http_response r;
    assert_int_equal(ecrmock_http_handle(m, &rq, &r), 200);
    assert_string_equal(r.body, "{\"repositories\":[\"west\"]}");
    ecrmock_http_response_release(&r);
    /* The same token at us-east-1's registry: not its registry. */
    reg(m, &r, auth, "GET", "/v2/_catalog", NULL, NULL, NULL, 0);
    assert_reg_error(&r, 400, "DENIED", "Your Authorization Token is invalid.");
}

/* The 257th token pushes the first out of the instance's memory of them. */
static void test_token_memory_keeps_the_last_256(void **state)
{
    ecrmock *m = *state;
    char *first = login(m), *second = login(m);
    for (int i = 0; i < 255; i++)
        free(login(m));
    ecrmock_http_response r;
    reg(m, &r, first, "GET", "/v2/", NULL, NULL, NULL, 0);
    assert_reg_error(&r, 400, "DENIED", "Your Authorization Token is invalid.");
    assert_int_equal(reg(m, &r, second, "GET", "/v2/", NULL, NULL, NULL, 0), 200);
    ecrmock_http_response_release(&r);
    free(first);
    free(second);
}

/* ---- threads ------------------------------------------------------------------------------ */

typedef struct pusher {
    ecrmock *m;
    const char *auth;
    int n;
    char digest[ECRMOCK_DIGEST_SIZE];
} pusher;

/* One thread's push through /v2/: a layer, a config, a manifest tagged t<n>. */
static void *push_thread(void *arg)
{
    pusher *p = arg;
    char layer[64], config[64], ld[ECRMOCK_DIGEST_SIZE], cd[ECRMOCK_DIGEST_SIZE], mf[600], tag[64];
    int ln = snprintf(layer, sizeof layer, "layer of thread %d", p->n);
    int cn = snprintf(config, sizeof config, "{\"os\":\"linux\",\"thread\":%d}", p->n);
    push_blob(p->m, p->auth, REPO, layer, (size_t)ln, 1024, ld);
    push_blob(p->m, p->auth, REPO, config, (size_t)cn, 1024, cd);
    int n = snprintf(mf, sizeof mf,
                     "{\"schemaVersion\":2,\"mediaType\":\"" V2 "\",\"config\":{\"mediaType\":"
                     "\"application/vnd.docker.container.image.v1+json\",\"size\":%d,\"digest\":\"%s\"},"
                     "\"layers\":[{\"mediaType\":\"application/vnd.docker.image.rootfs.diff.tar.gzip\",\"size\":%d,"
                     "\"digest\":\"%s\"}]}",
                     cn, cd, ln, ld);
    snprintf(tag, sizeof tag, "/v2/" REPO "/manifests/t%d", p->n);
    ecrmock_http_response r;
    assert_int_equal(reg(p->m, &r, p->auth, "PUT", tag, "Content-Type", V2, mf, (size_t)n), 201);
    ecrmock_http_response_release(&r);
    sha256_digest(mf, (size_t)n, p->digest);
    return NULL;
}

/* Pushes from several threads at once, the API listing meanwhile: every image arrives whole. */
static void test_threads_push_at_once(void **state)
{
    ecrmock *m = *state;
    create_repo(m, REPO);
    char *auth = login(m);
    enum { N = 4 };
    pthread_t t[N];
    pusher p[N];
    for (int i = 0; i < N; i++) {
        p[i] = (pusher){.m = m, .auth = auth, .n = i};
        assert_int_equal(pthread_create(&t[i], NULL, push_thread, &p[i]), 0);
    }
    for (int i = 0; i < 20; i++) {
        json_t *out = NULL;
        assert_int_equal(call(m, &out, "ListImages", "{\"repositoryName\": \"" REPO "\"}"), 200);
        json_decref(out);
    }
    for (int i = 0; i < N; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    for (int i = 0; i < N; i++) {
        json_t *d = describe_image(m, REPO, p[i].digest);
        char tag[16];
        snprintf(tag, sizeof tag, "t%d", i);
        assert_string_equal(json_string_value(json_array_get(json_object_get(d, "imageTags"), 0)), tag);
        json_decref(d);
    }
    free(auth);
}

/* ---- referrers ------------------------------------------------------------------------------ */

/* An SBOM pushed through /v2/ with a subject is in the subject's referrers index. */
static void test_referrers(void **state)
{
    ecrmock *m = *state;
    char *subject = new_repo_with_image(m, REPO, 1, "v1");
    char *auth = login(m);
    const char *oci = "application/vnd.oci.image.manifest.v1+json";
    char cd[ECRMOCK_DIGEST_SIZE], ld[ECRMOCK_DIGEST_SIZE];
    push_layer(m, REPO, "{}", 2, cd);
    push_layer(m, REPO, "sbom", 4, ld);
    char mf[1024], md[ECRMOCK_DIGEST_SIZE], path[300];
    int n = snprintf(mf, sizeof mf,
                     "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"artifactType\":\"application/spdx+json\","
                     "\"config\":{\"mediaType\":\"application/vnd.oci.empty.v1+json\",\"size\":2,\"digest\":\"%s\"},"
                     "\"layers\":[{\"mediaType\":\"application/spdx+json\",\"size\":4,\"digest\":\"%s\"}],"
                     "\"subject\":{\"mediaType\":\"" V2 "\",\"size\":100,\"digest\":\"%s\"}}",
                     oci, cd, ld, subject);
    sha256_digest(mf, (size_t)n, md);
    snprintf(path, sizeof path, "/v2/" REPO "/manifests/%s", md);
    ecrmock_http_response r;
    assert_int_equal(reg(m, &r, auth, "PUT", path, "Content-Type", oci, mf, (size_t)n), 201);
    ecrmock_http_response_release(&r);

    snprintf(path, sizeof path, "/v2/" REPO "/referrers/%s", subject);
    assert_int_equal(reg(m, &r, auth, "GET", path, NULL, NULL, NULL, 0), 200);
    assert_header(&r, "Content-Type", "application/vnd.oci.image.index.v1+json");
    assert_header(&r, "OCI-Filters-Applied", NULL);
    char want[1024];
    snprintf(want, sizeof want,
             "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":"
             "[{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%d,\"artifactType\":\"application/spdx+json\"}]}",
             oci, md, n);
    assert_string_equal(r.body, want);
    ecrmock_http_response_release(&r);

    char filtered[400];
    snprintf(filtered, sizeof filtered, "%s?artifactType=application%%2Fvnd.cncf.notary.signature", path);
    assert_int_equal(reg(m, &r, auth, "GET", filtered, NULL, NULL, NULL, 0), 200);
    assert_header(&r, "OCI-Filters-Applied", "artifactType");
    assert_string_equal(r.body, "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\","
                                "\"manifests\":[]}");
    ecrmock_http_response_release(&r);
    assert_int_equal(ecrmock_call_count(m, "ListImageReferrers"), 2);
    free(subject);
    free(auth);
}

/* ---- out of memory ----------------------------------------------------------------------- */

static long oom_at = -1, oom_count; /* the em allocation that fails (-1: none), and how many so far */

static void *oom_malloc(size_t n)
{
    return oom_at >= 0 && ++oom_count == oom_at ? NULL : malloc(n);
}

static void *oom_realloc(void *p, size_t n)
{
    return oom_at >= 0 && ++oom_count == oom_at ? NULL : realloc(p, n);
}

/* Every registry request with its 1st, 2nd, ... allocation of ecrmock's own
 * (jansson's are left alone: see test_alloc_failure.c) failing: an
 * answer or -1 with an empty response, never a crash or a leak (valgrind
 * and ASan runs see leaks), and the request then succeeds. */
/* Create on push (the fact sheet, 3): a push to a missing repository is
 * NAME_UNKNOWN unless a CREATE_ON_PUSH template applies to its prefix or is
 * ROOT; then the first POST or manifest PUT creates it with the template's settings. */
static void test_create_on_push_by_template(void **state)
{
    ecrmock *m = *state;
    char *auth = login(m);
    ecrmock_http_response r;
    /* No template, then a template for replication only: NAME_UNKNOWN, nothing created. */
    for (int i = 0; i < 2; i++) {
        assert_int_equal(reg(m, &r, auth, "POST", "/v2/team/app/blobs/uploads/", NULL, NULL, NULL, 0), 404);
        assert_reg_error(&r, 404, "NAME_UNKNOWN",
                         "The repository with name 'team/app' does not exist in the registry with id '123456789012'");
        assert_int_equal(reg(m, &r, auth, "PUT", "/v2/team/app/manifests/v1", "Content-Type", V2, "{}", 2), 404);
        assert_reg_error(&r, 404, "NAME_UNKNOWN",
                         "The repository with name 'team/app' does not exist in the registry with id '123456789012'");
        call_ok(m, "CreateRepositoryCreationTemplate", "{\"prefix\": \"%s\", \"appliedFor\": [\"REPLICATION\"]}",
                i == 0 ? "team" : "ROOT");
    }
    json_t *out = NULL;
    assert_int_equal(call(m, &out, "DescribeRepositories", "{}"), 200);
    assert_int_equal(json_array_size(json_object_get(out, "repositories")), 0);
    json_decref(out);

    /* A prefix template: the first POST creates the repository, with its settings. */
    call_ok(m, "UpdateRepositoryCreationTemplate",
            "{\"prefix\": \"team\", \"appliedFor\": [\"REPLICATION\", \"CREATE_ON_PUSH\"], "
            "\"imageTagMutability\": \"IMMUTABLE\", \"encryptionConfiguration\": {\"encryptionType\": \"KMS\"}, "
            "\"resourceTags\": [{\"Key\": \"team\", \"Value\": \"a\"}], \"lifecyclePolicy\": %s}",
            "\"{\\\"rules\\\":[{\\\"rulePriority\\\":1,\\\"selection\\\":{\\\"tagStatus\\\":\\\"any\\\","
            "\\\"countType\\\":\\\"imageCountMoreThan\\\",\\\"countNumber\\\":5},\\\"action\\\":{\\\"type\\\":"
            "\\\"expire\\\"}}]}\"");
    const char config[] = "{\"os\":\"linux\"}";
    char cd[ECRMOCK_DIGEST_SIZE];
    push_blob(m, auth, "team/app", config, strlen(config), 1 << 20, cd);
    assert_int_equal(call(m, &out, "DescribeRepositories", "{\"repositoryNames\": [\"team/app\"]}"), 200);
    json_t *repo = json_array_get(json_object_get(out, "repositories"), 0);
    assert_string_equal(jstr(repo, "imageTagMutability"), "IMMUTABLE");
    assert_string_equal(jstr(json_object_get(repo, "encryptionConfiguration"), "encryptionType"), "KMS");
    json_decref(out);
    assert_ok(call(m, &out, "ListTagsForResource",
                   "{\"resourceArn\": \"arn:aws:ecr:us-east-1:123456789012:repository/team/app\"}"),
              out);
    assert_string_equal(jstr(json_array_get(json_object_get(out, "tags"), 0), "Value"), "a");
    json_decref(out);
    assert_ok(call(m, &out, "GetLifecyclePolicy", "{\"repositoryName\": \"team/app\"}"), out);
    assert_non_null(strstr(jstr(out, "lifecyclePolicyText"), "imageCountMoreThan"));
    json_decref(out);

    /* ROOT, and a manifest PUT first (a manifest that needs no layer): created with ROOT's settings. */
    call_ok(m, "UpdateRepositoryCreationTemplate", "{\"prefix\": \"ROOT\", \"appliedFor\": [\"CREATE_ON_PUSH\"], "
                                                   "\"imageTagMutability\": \"IMMUTABLE\"}");
    const char idx[] = "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\","
                       "\"manifests\":[]}";
    assert_int_equal(reg(m, &r, auth, "PUT", "/v2/solo/manifests/v1", "Content-Type",
                         "application/vnd.oci.image.index.v1+json", idx, strlen(idx)),
                     201);
    ecrmock_http_response_release(&r);
    assert_int_equal(call(m, &out, "DescribeRepositories", "{\"repositoryNames\": [\"solo\"]}"), 200);
    repo = json_array_get(json_object_get(out, "repositories"), 0);
    assert_string_equal(jstr(repo, "imageTagMutability"), "IMMUTABLE");
    assert_string_equal(jstr(json_object_get(repo, "encryptionConfiguration"), "encryptionType"), "AES256");
    json_decref(out);
    char digest[ECRMOCK_DIGEST_SIZE];
    sha256_digest(idx, strlen(idx), digest);
    json_t *d = describe_image(m, "solo", digest);
    assert_string_equal(json_string_value(json_array_get(json_object_get(d, "imageTags"), 0)), "v1");
    json_decref(d);
    free(auth);
}

/* A manifest pull through /v2/ records the pull as BatchGetImage does
 * (DescribeImages' lastRecordedPullTime, the virtual clock's time of the
 * pull); a refused pull (an Accept that excludes the type, an unknown tag)
 * records none. */
static void test_pull_records_last_pull_time(void **state)
{
    ecrmock *m = *state;
    create_repo(m, REPO);
    char *mf = make_manifest(m, REPO, 1, 9);
    char *digest = put_image(m, REPO, mf, "v1");
    char *auth = login(m);
    json_t *d = describe_image(m, REPO, digest);
    assert_null(json_object_get(d, "lastRecordedPullTime"));
    double pushed = json_number_value(json_object_get(d, "imagePushedAt"));
    json_decref(d);
    ecrmock_http_response r;
    assert_int_equal(advance(m, 3600000), 0);
    assert_int_equal(reg(m, &r, auth, "GET", "/v2/" REPO "/manifests/v1", "Accept",
                         "application/vnd.oci.image.index.v1+json", NULL, 0),
                     404);
    ecrmock_http_response_release(&r);
    assert_int_equal(reg(m, &r, auth, "GET", "/v2/" REPO "/manifests/v2", NULL, NULL, NULL, 0), 404);
    ecrmock_http_response_release(&r);
    d = describe_image(m, REPO, digest);
    assert_null(json_object_get(d, "lastRecordedPullTime"));
    json_decref(d);
    assert_int_equal(reg(m, &r, auth, "GET", "/v2/" REPO "/manifests/v1", "Accept", V2, NULL, 0), 200);
    ecrmock_http_response_release(&r);
    d = describe_image(m, REPO, digest);
    assert_true(json_number_value(json_object_get(d, "lastRecordedPullTime")) == pushed + 3600);
    json_decref(d);
    /* Each pull, by digest too, moves it on (a day later: a fresh token). */
    assert_int_equal(advance(m, 90000000), 0);
    free(auth);
    auth = login(m);
    char path[300];
    snprintf(path, sizeof path, "/v2/" REPO "/manifests/%s", digest);
    assert_int_equal(reg(m, &r, auth, "GET", path, NULL, NULL, NULL, 0), 200);
    ecrmock_http_response_release(&r);
    d = describe_image(m, REPO, digest);
    assert_true(json_number_value(json_object_get(d, "lastRecordedPullTime")) == pushed + 3600 + 90000);
    json_decref(d);
    free(mf);
    free(digest);
    free(auth);
}

#define OCI "application/vnd.oci.image.manifest.v1+json"

/* GET (and HEAD) /v2/<repo>/manifests/<ref> with one Accept type; the response. */
static int get_as(ecrmock *m, ecrmock_http_response *r, const char *auth, const char *method, const char *ref,
                  const char *accept)
{
    char path[300];
    snprintf(path, sizeof path, "/v2/" REPO "/manifests/%s", ref);
    return reg(m, r, auth, method, path, "Accept", accept, NULL, 0);
}

/* Pull by tag converts to the client's Accept, Docker v2 schema 2 to OCI and
 * back (the fact sheet, 4), as Docker's distribution library writes a
 * manifest; by digest nothing converts; a manifest with what the other
 * format has not (annotations, a zstd layer) does not convert. */
static void test_pull_by_tag_converts(void **state)
{
    ecrmock *m = *state;
    create_repo(m, REPO);
    char cd[ECRMOCK_DIGEST_SIZE], ld[ECRMOCK_DIGEST_SIZE];
    push_layer(m, REPO, "{\"os\":\"linux\"}", 14, cd);
    push_layer(m, REPO, "layer bytes", 11, ld);
    char v2[1024], oci[1024], v2_want[1024], oci_want[1024], text[1024];
    snprintf(v2, sizeof v2,
             "{\"schemaVersion\":2,\"mediaType\":\"" V2 "\",\"config\":{\"mediaType\":\"application/vnd.docker."
             "container.image.v1+json\",\"size\":14,\"digest\":\"%s\"},\"layers\":[{\"mediaType\":\"application/vnd."
             "docker.image.rootfs.diff.tar.gzip\",\"size\":11,\"digest\":\"%s\"}]}",
             cd, ld);
    snprintf(oci, sizeof oci,
             "{\"schemaVersion\":2,\"mediaType\":\"" OCI "\",\"config\":{\"mediaType\":\"application/vnd.oci.image."
             "config.v1+json\",\"digest\":\"%s\",\"size\":14},\"layers\":[{\"mediaType\":\"application/vnd.oci.image."
             "layer.v1.tar+gzip\",\"digest\":\"%s\",\"size\":11,\"urls\":[\"https://example.com/l\"]}]}",
             cd, ld);
    const char *fmt = "{\n   \"schemaVersion\": 2,\n   \"mediaType\": \"%s\",\n   \"config\": {\n"
                      "      \"mediaType\": \"%s\",\n      \"size\": 14,\n      \"digest\": \"%s\"\n   },\n"
                      "   \"layers\": [\n      {\n         \"mediaType\": \"%s\",\n         \"size\": 11,\n"
                      "         \"digest\": \"%s\"%s\n      }\n   ]\n}";
    snprintf(oci_want, sizeof oci_want, fmt, OCI, "application/vnd.oci.image.config.v1+json", cd,
             "application/vnd.oci.image.layer.v1.tar+gzip", ld, "");
    snprintf(v2_want, sizeof v2_want, fmt, V2, "application/vnd.docker.container.image.v1+json", cd,
             "application/vnd.docker.image.rootfs.diff.tar.gzip", ld,
             ",\n         \"urls\": [\n            \"https://example.com/l\"\n         ]");
    char *d_v2 = put_image(m, REPO, v2, "docker");
    char *d_oci = put_image(m, REPO, oci, "oci");
    char *auth = login(m);
    ecrmock_http_response r;
    char want_digest[ECRMOCK_DIGEST_SIZE], len[32];

    /* Docker v2 schema 2 to OCI, by tag: GET and HEAD. */
    ecrmock_journal_enable(m, 1);
    ecrmock_journal_clear(m);
    assert_int_equal(get_as(m, &r, auth, "GET", "docker", OCI), 200);
    assert_string_equal(r.body, oci_want);
    assert_header(&r, "Content-Type", OCI);
    assert_header(&r, "Docker-Content-Digest", NULL);
    ecrmock_http_response_release(&r);
    /* The BatchGetImage asked for the client's type and the stored one. */
    json_t *e = journal_at(m, 0);
    json_t *asked = json_object_get(json_object_get(e, "request"), "acceptedMediaTypes");
    assert_int_equal(json_array_size(asked), 2);
    assert_string_equal(json_string_value(json_array_get(asked, 0)), OCI);
    assert_string_equal(json_string_value(json_array_get(asked, 1)), V2);
    json_decref(e);
    sha256_digest(oci_want, strlen(oci_want), want_digest);
    snprintf(len, sizeof len, "%zu", strlen(oci_want));
    assert_int_equal(get_as(m, &r, auth, "HEAD", "docker", OCI), 200);
    assert_header(&r, "Docker-Content-Digest", want_digest);
    assert_header(&r, "Content-Length", len);
    assert_header(&r, "Content-Type", OCI);
    ecrmock_http_response_release(&r);
    /* OCI to Docker v2 schema 2 (urls kept). */
    assert_int_equal(get_as(m, &r, auth, "GET", "oci", V2), 200);
    assert_string_equal(r.body, v2_want);
    assert_header(&r, "Content-Type", V2);
    ecrmock_http_response_release(&r);
    sha256_digest(v2_want, strlen(v2_want), want_digest);
    assert_int_equal(get_as(m, &r, auth, "HEAD", "oci", V2), 200);
    assert_header(&r, "Docker-Content-Digest", want_digest);
    ecrmock_http_response_release(&r);
    /* The stored type accepted: the stored bytes. */
    assert_int_equal(get_as(m, &r, auth, "GET", "oci", OCI ", " V2), 200);
    assert_string_equal(r.body, oci);
    ecrmock_http_response_release(&r);
    /* By digest: no conversion. */
    assert_int_equal(get_as(m, &r, auth, "GET", d_v2, OCI), 404);
    assert_reg_error(&r, 404, "MANIFEST_UNKNOWN", "Requested image not found");
    /* Nothing is stored: the image keeps its one digest and type. */
    json_t *d = describe_image(m, REPO, d_v2);
    assert_string_equal(jstr(d, "imageManifestMediaType"), V2);
    assert_non_null(json_object_get(d, "lastRecordedPullTime")); /* a converted pull is a pull */
    json_decref(d);

    /* What Docker's format cannot say: annotations, a zstd layer. */
    snprintf(text, sizeof text,
             "{\"schemaVersion\":2,\"mediaType\":\"" OCI "\",\"config\":{\"mediaType\":\"application/vnd.oci.image."
             "config.v1+json\",\"digest\":\"%s\",\"size\":14},\"layers\":[{\"mediaType\":\"application/vnd.oci.image."
             "layer.v1.tar+%s\",\"digest\":\"%s\",\"size\":11}]%s}",
             cd, "zstd", ld, "");
    char *d_zstd = put_image(m, REPO, text, "zstd");
    snprintf(text, sizeof text,
             "{\"schemaVersion\":2,\"mediaType\":\"" OCI "\",\"config\":{\"mediaType\":\"application/vnd.oci.image."
             "config.v1+json\",\"digest\":\"%s\",\"size\":14},\"layers\":[{\"mediaType\":\"application/vnd.oci.image."
             "layer.v1.tar+%s\",\"digest\":\"%s\",\"size\":11}]%s}",
             cd, "gzip", ld, ",\"annotations\":{\"a\":\"b\"}");
    char *d_ann = put_image(m, REPO, text, "annotated");
    assert_int_equal(get_as(m, &r, auth, "GET", "zstd", V2), 404);
    assert_reg_error(&r, 404, "MANIFEST_UNKNOWN", "Requested image not found");
    assert_int_equal(get_as(m, &r, auth, "GET", "annotated", V2), 404);
    assert_reg_error(&r, 404, "MANIFEST_UNKNOWN", "Requested image not found");
    d = describe_image(m, REPO, d_ann);
    assert_null(json_object_get(d, "lastRecordedPullTime"));
    json_decref(d);
    /* Each GET and HEAD, converted or refused, is one BatchGetImage. */
    assert_int_equal(ecrmock_call_count(m, "BatchGetImage"), 8);
    free(d_zstd);
    free(d_ann);
    free(d_v2);
    free(d_oci);
    free(auth);
}

static void test_out_of_memory(void **state)
{
    ecrmock *m = *state;
    char *digest = new_repo_with_image(m, REPO, 1, "v1");
    char *auth = login(m);
    char *mf = make_manifest(m, REPO, 1, 6);
    char blob[200], put_mf[64];
    snprintf(blob, sizeof blob, "/v2/" REPO "/blobs/%s", digest); /* a manifest, not a layer: 404 */
    snprintf(put_mf, sizeof put_mf, "/v2/" REPO "/manifests/v6");
    char referrers[200], mount_path[300];
    snprintf(referrers, sizeof referrers, "/v2/" REPO "/referrers/%s", digest);
    json_t *doc = json_loads(mf, 0, NULL);
    create_repo(m, "other");
    call_ok(m, "PutAccountSetting", "{\"name\": \"BLOB_MOUNTING\", \"value\": \"ENABLED\"}");
    snprintf(mount_path, sizeof mount_path, "/v2/other/blobs/uploads/?mount=%s&from=" REPO,
             jstr(json_object_get(doc, "config"), "digest"));
    json_decref(doc);
    struct {
        const char *method, *path, *body;
        int want;
    } reqs[] = {
        {"GET", "/v2/", NULL, 200},
        {"GET", "/v2/" REPO "/manifests/v1", NULL, 200},
        {"HEAD", "/v2/" REPO "/manifests/v1", NULL, 200},
        {"HEAD", blob, NULL, 404},
        {"POST", "/v2/" REPO "/blobs/uploads/", NULL, 202},
        {"PUT", put_mf, mf, 201},
        {"GET", "/v2/" REPO "/tags/list?n=1", NULL, 200},
        {"GET", "/v2/_catalog", NULL, 200},
        {"DELETE", blob, NULL, 405},
        {"GET", referrers, NULL, 200},
        {"POST", mount_path, NULL, 201},
    };
    for (size_t i = 0; i < sizeof reqs / sizeof reqs[0]; i++) {
        for (long n = 1;; n++) {
            ecrmock_http_response r;
            oom_count = 0;
            oom_at = n;
            int st = reg(m, &r, auth, reqs[i].method, reqs[i].path, "Content-Type", V2, reqs[i].body,
                         reqs[i].body ? strlen(reqs[i].body) : 0);
            bool met = oom_count >= n;
            oom_at = -1;
            if (st < 0) {
                assert_null(r.headers);
                assert_null(r.body);
            }
            ecrmock_http_response_release(&r);
            if (!met) {
                if (st != reqs[i].want)
                    fail_msg("%s %s: %d, want %d", reqs[i].method, reqs[i].path, st, reqs[i].want);
                break;
            }
        }
    }
    free(mf);
    free(digest);
    free(auth);
}

/* Out of memory at each allocation of a pull that converts and of a push
 * that creates its repository: an empty response (-1), the action's 500 or
 * the full answer, never MANIFEST_UNKNOWN for a manifest that converts, a
 * half-made repository or a leak. */
static void test_out_of_memory_convert_and_create(void **state)
{
    ecrmock *m = *state;
    char *digest = new_repo_with_image(m, REPO, 1, "v1");
    char *auth = login(m);
    call_ok(m, "CreateRepositoryCreationTemplate",
            "{\"prefix\": \"ROOT\", \"appliedFor\": [\"CREATE_ON_PUSH\"], \"imageTagMutability\": \"IMMUTABLE\"}");
    for (int k = 0; k < 2; k++) {
        for (long n = 1;; n++) {
            ecrmock_http_response r;
            oom_count = 0;
            oom_at = n;
            int st = k == 0 ? reg(m, &r, auth, "GET", "/v2/" REPO "/manifests/v1", "Accept", OCI, NULL, 0)
                            : reg(m, &r, auth, "POST", "/v2/fresh/blobs/uploads/", NULL, NULL, NULL, 0);
            bool met = oom_count >= n;
            oom_at = -1;
            if (st < 0) {
                assert_null(r.headers);
                assert_null(r.body);
            } else if (st != 500 || !met) { /* 500: the action's own ServerException */
                assert_int_equal(st, k == 0 ? 200 : 202);
                if (k == 0)
                    assert_header(&r, "Content-Type", OCI);
            }
            ecrmock_http_response_release(&r);
            /* Created whole or not at all. */
            json_t *out = NULL;
            int dst = call(m, &out, "DescribeRepositories", "{\"repositoryNames\": [\"fresh\"]}");
            if (dst == 200)
                assert_string_equal(jstr(json_array_get(json_object_get(out, "repositories"), 0), "imageTagMutability"),
                                    "IMMUTABLE");
            json_decref(out);
            if (!met)
                break;
        }
    }
    free(digest);
    free(auth);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_query_walker_edges),
        cmocka_unit_test_setup_teardown(test_ping_without_credentials_is_challenged, setup_mock, teardown_mock),
        cmocka_unit_test_setup_teardown(test_ping_with_token, setup_mock, teardown_mock),
        cmocka_unit_test_setup_teardown(test_token_invalid_wrong_user_and_region, setup_mock, teardown_mock),
        cmocka_unit_test_setup_teardown(test_token_expires_after_12_hours, setup_mock, teardown_mock),
        cmocka_unit_test(test_token_bytes_unchanged),
        cmocka_unit_test_setup_teardown(test_push_is_seen_by_describe_images, setup_mock, teardown_mock),
        cmocka_unit_test_setup_teardown(test_put_image_pulls, setup_mock, teardown_mock),
        cmocka_unit_test_setup_teardown(test_accept_on_several_lines, setup_mock, teardown_mock),
        cmocka_unit_test_setup_teardown(test_loopback_base, setup_mock, teardown_mock),
        cmocka_unit_test_setup_teardown(test_upload_status_and_cancel, setup_mock, teardown_mock),
        cmocka_unit_test_setup_teardown(test_patch_range_stays_at_the_first_chunk, setup_mock, teardown_mock),
        cmocka_unit_test_setup_teardown(test_monolithic_put, setup_mock, teardown_mock),
        cmocka_unit_test_setup_teardown(test_errors, setup_mock, teardown_mock),
        cmocka_unit_test_setup_teardown(test_lookup_failures_agree, setup_mock, teardown_mock),
        cmocka_unit_test_setup_teardown(test_content_range_strict, setup_mock, teardown_mock),
        cmocka_unit_test_setup_teardown(test_page_size_strict, setup_mock, teardown_mock),
        cmocka_unit_test_setup_teardown(test_fault_rule_applies, setup_mock, teardown_mock),
        cmocka_unit_test_setup_teardown(test_tags_list_paged, setup_mock, teardown_mock),
        cmocka_unit_test_setup_teardown(test_catalog_paged, setup_mock, teardown_mock),
        cmocka_unit_test_setup_teardown(test_errors_of_push_and_blob_head, setup_mock, teardown_mock),
        cmocka_unit_test_setup_teardown(test_mount, setup_mock, teardown_mock),
        cmocka_unit_test_setup_teardown(test_mount_not_from_a_pull_through_cache, setup_mock, teardown_mock),
        cmocka_unit_test_setup_teardown(test_manifest_put_by_digest_and_again, setup_mock, teardown_mock),
        cmocka_unit_test_setup_teardown(test_big_patch_is_split_into_parts, setup_mock, teardown_mock),
        cmocka_unit_test_setup_teardown(test_patch_journals_the_part, setup_mock, teardown_mock),
        cmocka_unit_test_setup_teardown(test_hook_part_during_patch_is_its_own, setup_mock, teardown_mock),
        cmocka_unit_test_setup_teardown(test_hook_patch_during_patch, setup_mock, teardown_mock),
        cmocka_unit_test_setup_teardown(test_threads_patch_two_uploads, setup_mock, teardown_mock),
        cmocka_unit_test_setup_teardown(test_bytes_that_are_not_utf8, setup_mock, teardown_mock),
        cmocka_unit_test_setup_teardown(test_immutable_with_exclusion, setup_mock, teardown_mock),
        cmocka_unit_test_setup_teardown(test_scan_on_push, setup_mock, teardown_mock),
        cmocka_unit_test_setup_teardown(test_manifest_list, setup_mock, teardown_mock),
        cmocka_unit_test_setup_teardown(test_other_region, setup_mock, teardown_mock),
        cmocka_unit_test_setup_teardown(test_token_memory_keeps_the_last_256, setup_mock, teardown_mock),
        cmocka_unit_test_setup_teardown(test_threads_push_at_once, setup_mock, teardown_mock),
        cmocka_unit_test_setup_teardown(test_referrers, setup_mock, teardown_mock),
        cmocka_unit_test_setup_teardown(test_create_on_push_by_template, setup_mock, teardown_mock),
        cmocka_unit_test_setup_teardown(test_pull_records_last_pull_time, setup_mock, teardown_mock),
        cmocka_unit_test_setup_teardown(test_pull_by_tag_converts, setup_mock, teardown_mock),
        cmocka_unit_test_setup_teardown(test_out_of_memory, setup_mock, teardown_mock),
        cmocka_unit_test_setup_teardown(test_out_of_memory_convert_and_create, setup_mock, teardown_mock),
    };
    ecrmock_set_alloc_funcs(oom_malloc, oom_realloc, free);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
