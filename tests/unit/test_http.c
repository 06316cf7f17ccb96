/*
 * The HTTP level (ecrmock_http_handle): the API's POST and its framework
 * answers, and the GET of download URLs (bytes, ranges, S3's errors).
 * SigV4 checks have their own file, test_sigv4.c.
 */
#include "helpers.h"

#include "alloc_fail.h"
#include "fronts/fronts.h" /* em_http_headers_new, em_http_add_header: a response built header by header */

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <time.h>

#define REPO "web"
#define BUCKET "prod-us-east-1-starport-layer-bucket.s3.us-east-1.amazonaws.com"
#define PREFIX "AmazonEC2ContainerRegistry_V20150921."
#define PAGE "<UnknownOperationException/>\n"

/* One request: method, target, optional content type and X-Amz-Target, body. */
static int http(ecrmock *m, ecrmock_http_response *r, const char *method, const char *target, const char *ct,
                const char *amz_target, const char *body)
{
    ecrmock_http_header h[3];
    size_t n = 0;
    if (ct)
        h[n++] = (ecrmock_http_header){"Content-Type", ct};
    if (amz_target)
        h[n++] = (ecrmock_http_header){"X-Amz-Target", amz_target};
    int st = http_send(m, r, method, target, h, n, body);
    assert_int_equal(st, r->status);
    return st;
}

static int get(ecrmock *m, ecrmock_http_response *r, const char *target, const char *range)
{
    ecrmock_http_header h[2] = {{"Host", BUCKET}, {"Range", range}};
    ecrmock_http_request req = ECRMOCK_HTTP_REQUEST_INIT;
    req.method = "GET";
    req.target = target;
    req.headers = h;
    req.n_headers = range ? 2 : 1;
    int st = ecrmock_http_handle(m, &req, r);
    assert_int_equal(st, r->status);
    return st;
}

static void assert_content_length(const ecrmock_http_response *r)
{
    char n[32];
    snprintf(n, sizeof n, "%zu", r->body_len);
    assert_header(r, "Content-Length", n);
}

/* ---- the API ------------------------------------------------------------------------ */

static void test_http_post_runs_the_action(void **state)
{
    ecrmock *m = *state;
    ecrmock_http_response r;
    const char *body = "{\"repositoryName\":\"" REPO "\"}";
    assert_int_equal(http(m, &r, "POST", "/", "application/x-amz-json-1.1", PREFIX "CreateRepository", body), 200);
    assert_header(&r, "Content-Type", "application/x-amz-json-1.1");
    assert_content_length(&r);
    const char *id = ecrmock_http_response_header(&r, "X-AMZN-REQUESTID");
    assert_non_null(id);
    assert_int_equal(strlen(id), 36);
    assert_int_equal(id[14], '4');

    /* the body is the wire level's, byte for byte (a twin instance) */
    ecrmock *twin = ecrmock_new(NULL);
    char *raw = NULL;
    size_t raw_len = 0;
    assert_int_equal(ecrmock_call_raw(twin, PREFIX "CreateRepository", body, strlen(body), &raw, &raw_len), 200);
    assert_int_equal(r.body_len, raw_len);
    assert_memory_equal(r.body, raw, raw_len);
    free(raw);
    ecrmock_free(twin);
    ecrmock_http_response_release(&r);
    assert_null(r.body);

    json_t *imgs = ecrmock_images(m, NULL, REPO, NULL);
    assert_non_null(imgs); /* the repository exists */
    json_decref(imgs);
    json_t *e = ecrmock_journal_entry(m, -1, NULL);
    assert_string_equal(json_string_value(json_object_get(e, "action")), "CreateRepository");
    json_decref(e);
}

static void test_http_request_ids_are_seeded(void **state)
{
    ecrmock *m = *state;
    ecrmock_options o = ECRMOCK_OPTIONS_INIT;
    o.min_part_size = 1024;
    ecrmock *twin = ecrmock_new(&o);
    ecrmock_http_response a, b, c;
    http(m, &a, "POST", "/", NULL, PREFIX "DescribeRepositories", NULL);
    http(m, &b, "POST", "/", NULL, PREFIX "DescribeRepositories", NULL);
    http(twin, &c, "POST", "/", NULL, PREFIX "DescribeRepositories", NULL);
    assert_string_not_equal(ecrmock_http_response_header(&a, "x-amzn-RequestId"),
                            ecrmock_http_response_header(&b, "x-amzn-RequestId"));
    assert_string_equal(ecrmock_http_response_header(&a, "x-amzn-RequestId"),
                        ecrmock_http_response_header(&c, "x-amzn-RequestId"));
    ecrmock_http_response_release(&a);
    ecrmock_http_response_release(&b);
    ecrmock_http_response_release(&c);
    ecrmock_free(twin);
}

/* The ids are the seed's, exactly as they have always been (a fixed seed
 * is a test's promise): the default seed's first x-amzn-RequestIds, upload
 * id and S3 request id, recorded from the build before the draws kept
 * their SHA-256 context. */
static void test_http_request_ids_are_the_seeds(void **state)
{
    (void)state;
    static const char *const ids[] = {"0998182c-d0da-44d7-be1b-e7dbff8e748b", "073ade72-5d95-4e58-a584-c502bfef9028",
                                      "9f6e1b6a-5480-4d5f-96cc-031163b873dd"};
    ecrmock *m = ecrmock_new(NULL);
    ecrmock_http_response r;
    for (size_t i = 0; i < 3; i++) {
        http(m, &r, "POST", "/", NULL, PREFIX "DescribeRepositories", NULL);
        assert_header(&r, "x-amzn-RequestId", ids[i]);
        ecrmock_http_response_release(&r);
    }
    create_repo(m, REPO);
    json_t *up = NULL;
    assert_ok(call(m, &up, "InitiateLayerUpload", "{\"repositoryName\":\"" REPO "\"}"), up);
    assert_string_equal(json_string_value(json_object_get(up, "uploadId")), "374708ff-f771-4dd5-979e-c875d56cd228");
    json_decref(up);
    assert_int_equal(http(m, &r, "GET", "/nope/x", NULL, NULL, NULL), 403);
    assert_header(&r, "x-amz-request-id", "0E62417D7091CAAE");
    ecrmock_http_response_release(&r);
    ecrmock_free(m);
}

static void test_http_errors_carry_ecr_documents(void **state)
{
    ecrmock *m = *state;
    ecrmock_http_response r;
    assert_int_equal(http(m, &r, "POST", "/", "application/x-amz-json-1.1", PREFIX "DeleteRepository",
                          "{\"repositoryName\":\"nope\"}"),
                     400);
    assert_string_equal(r.body, "{\"__type\":\"RepositoryNotFoundException\",\"message\":\"The repository with name "
                                "'nope' does not exist in the registry with id '123456789012'\"}");
    ecrmock_http_response_release(&r);
    assert_int_equal(http(m, &r, "POST", "/", "application/x-amz-json-1.1", PREFIX "CreateRepository", "{\"repo"),
                     400);
    assert_non_null(strstr(r.body, "\"__type\":\"SerializationException\""));
    ecrmock_http_response_release(&r);
}

static void test_http_wrong_method_is_404(void **state)
{
    ecrmock *m = *state;
    const char *methods[] = {"GET", "PUT", "DELETE", "PATCH"};
    for (size_t i = 0; i < 4; i++) {
        ecrmock_http_response r;
        assert_int_equal(http(m, &r, methods[i], "/", "application/x-amz-json-1.1", PREFIX "CreateRepository",
                              i == 1 ? "{\"repositoryName\":\"" REPO "\"}" : NULL),
                         404);
        assert_string_equal(r.body, PAGE);
        assert_int_equal(r.body_len, 29);
        assert_header(&r, "Content-Type", NULL);
        assert_content_length(&r);
        ecrmock_http_response_release(&r);
    }
    assert_int_equal(ecrmock_call_count(m, NULL), 0);
}

static void test_http_content_type(void **state)
{
    ecrmock *m = *state;
    ecrmock_http_response r;
    const char *body = "{\"repositoryName\":\"" REPO "\"}";
    /* a body with no JSON content type never reaches the service */
    assert_int_equal(http(m, &r, "POST", "/", NULL, PREFIX "CreateRepository", body), 404);
    assert_string_equal(r.body, PAGE);
    ecrmock_http_response_release(&r);
    assert_int_equal(http(m, &r, "POST", "/", "text/plain", PREFIX "CreateRepository", body), 404);
    ecrmock_http_response_release(&r);
    assert_int_equal(ecrmock_call_count(m, NULL), 0);
    /* the JSON types are all accepted, and echoed */
    assert_int_equal(http(m, &r, "POST", "/", "application/json; charset=utf-8", PREFIX "CreateRepository", body),
                     200);
    assert_header(&r, "Content-Type", "application/json");
    ecrmock_http_response_release(&r);
    assert_int_equal(http(m, &r, "POST", "/", "application/x-amz-json-1.0", PREFIX "DescribeRepositories", NULL),
                     200);
    assert_header(&r, "Content-Type", "application/x-amz-json-1.0");
    ecrmock_http_response_release(&r);
    /* no body, no content type: fine */
    assert_int_equal(http(m, &r, "POST", "/", NULL, PREFIX "DescribeRepositories", NULL), 200);
    assert_header(&r, "Content-Type", "application/x-amz-json-1.1");
    ecrmock_http_response_release(&r);
}

static void test_http_missing_or_foreign_target(void **state)
{
    ecrmock *m = *state;
    const char *targets[] = {NULL, "CreateRepository", "DynamoDB_20120810.ListTables", PREFIX "Nope"};
    for (size_t i = 0; i < 4; i++) {
        ecrmock_http_response r;
        assert_int_equal(http(m, &r, "POST", "/", "application/x-amz-json-1.1", targets[i],
                              "{\"repositoryName\":\"" REPO "\"}"),
                         400);
        assert_string_equal(r.body, "{\"__type\":\"UnknownOperationException\"}");
        assert_header(&r, "Content-Type", "application/x-amz-json-1.1");
        ecrmock_http_response_release(&r);
    }
    assert_null(ecrmock_images(m, NULL, REPO, NULL));
}

static void test_http_wire_faults_damage_the_body(void **state)
{
    ecrmock *m = *state;
    ecrmock_err err;
    json_t *rule = json_pack("{s:s, s:s, s:i}", "action", "DescribeRepositories", "effect", "truncate", "truncateAt",
                             10);
    assert_true(ecrmock_fault_add_json(m, rule, &err) > 0);
    json_decref(rule);
    ecrmock_http_response r;
    assert_int_equal(http(m, &r, "POST", "/", NULL, PREFIX "DescribeRepositories", NULL), 200);
    assert_int_equal(r.body_len, 10);
    assert_string_equal(r.body, "{\"reposito");
    assert_header(&r, "Content-Length", "10");
    ecrmock_http_response_release(&r);
    ecrmock_fault_clear(m);
    rule = json_pack("{s:s, s:s}", "action", "DescribeRepositories", "effect", "malform");
    assert_true(ecrmock_fault_add_json(m, rule, &err) > 0);
    json_decref(rule);
    assert_int_equal(http(m, &r, "POST", "/", NULL, PREFIX "DescribeRepositories", NULL), 200);
    assert_non_null(strstr(r.body, "502 Bad Gateway"));
    assert_content_length(&r);
    ecrmock_http_response_release(&r);
}

static void test_http_bad_arguments(void **state)
{
    ecrmock *m = *state;
    ecrmock_http_response r;
    ecrmock_http_request req = ECRMOCK_HTTP_REQUEST_INIT;
    req.method = "POST";
    req.target = "/";
    assert_int_equal(ecrmock_http_handle(NULL, &req, &r), -1);
    assert_int_equal(ecrmock_http_handle(m, NULL, &r), -1);
    assert_int_equal(ecrmock_http_handle(m, &req, NULL), -1);
    req.version = 99;
    assert_int_equal(ecrmock_http_handle(m, &req, &r), -1);
    assert_null(r.body);
    req.version = ECRMOCK_HTTP_REQUEST_VERSION;
    req.method = NULL;
    assert_int_equal(ecrmock_http_handle(m, &req, &r), -1);
    /* A header without a name or a value: refused, nothing journaled (it
     * was read as a string, and crashed) */
    req.method = "POST";
    size_t journaled = ecrmock_journal_length(m);
    ecrmock_http_header nameless[2] = {{"X-Amz-Target", "AmazonEC2ContainerRegistry_V20150921.DescribeRepositories"},
                                       {NULL, "x"}};
    ecrmock_http_header valueless[2] = {{"X-Amz-Target", "AmazonEC2ContainerRegistry_V20150921.DescribeRepositories"},
                                        {"Host", NULL}};
    req.headers = nameless;
    req.n_headers = 2;
    assert_int_equal(ecrmock_http_handle(m, &req, &r), -1);
    assert_null(r.headers);
    req.headers = valueless;
    assert_int_equal(ecrmock_http_handle(m, &req, &r), -1);
    assert_null(r.headers);
    assert_int_equal(ecrmock_journal_length(m), journaled);
    req.headers = NULL;
    req.n_headers = 0;
    ecrmock_http_response_release(NULL);
    assert_int_equal(ecrmock_http_base_url_set(m, "ftp://x", NULL), -1);
    assert_int_equal(ecrmock_http_base_url_set(NULL, NULL, NULL), -1);
}

/* The path is copied whole, however long (a stack buffer holds the usual
 * ones, the heap the rest): SigV4's canonical request, quoted back when the
 * signature does not match, has it byte for byte, at the buffer's edge and
 * past it. */
static void test_http_long_path(void **state)
{
    ecrmock *m = *state;
    assert_int_equal(ecrmock_http_credentials_set(m, "AKIDEXAMPLE", "secret", NULL), 0);
    static const size_t lens[] = {1, 510, 511, 512, 513, 700, 5000};
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        char *target = malloc(lens[i] + 8), *want = malloc(lens[i] + 32);
        target[0] = '/';
        for (size_t k = 1; k < lens[i]; k++)
            target[k] = (char)('a' + k % 26);
        snprintf(target + lens[i], 8, "?x=1");
        snprintf(want, lens[i] + 32, "'POST\n%.*s\nx=1\n", (int)lens[i], target);
        ecrmock_http_header h[] = {
            {"Host", "api.ecr.us-east-1.amazonaws.com"},
            {"Content-Type", "application/x-amz-json-1.1"},
            {"X-Amz-Target", PREFIX "CreateRepository"},
            {"X-Amz-Date", "20240101T000000Z"},
            {"Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240101/us-east-1/ecr/aws4_request, "
                              "SignedHeaders=host;x-amz-date, Signature=0000000000000000000000000000000000000000000000"
                              "000000000000000000"},
        };
        ecrmock_http_response r;
        assert_int_equal(http_send(m, &r, "POST", target, h, 5, "{\"repositoryName\":\"" REPO "\"}"), 400);
        json_t *doc = json_loadb(r.body, r.body_len, 0, NULL);
        assert_string_equal(err_type(doc), "InvalidSignatureException");
        if (!strstr(err_message(doc), want))
            fail_msg("path of %zu bytes: %.300s", lens[i], err_message(doc));
        json_decref(doc);
        ecrmock_http_response_release(&r);
        free(target);
        free(want);
    }
}

/* ---- a response's headers ------------------------------------------------------------ */

/* Header i of test_http_response_headers_* : a name and a value of lengths
 * that make short ones (in the block's room) and long ones (their own
 * allocations) alternate, each string distinct. */
static void nth_header(size_t i, char *name, char *value)
{
    size_t nl = i % 3 == 2 ? 200 : 8 + i, vl = i % 2 ? 300 + 7 * i : 20 + i;
    for (size_t k = 0; k < nl; k++)
        name[k] = (char)('a' + (i + k) % 26);
    name[nl] = '\0';
    for (size_t k = 0; k < vl; k++)
        value[k] = (char)('0' + (i * 7 + k) % 10);
    value[vl] = '\0';
}

/* More header bytes than the headers' block holds: every header reads back
 * exactly (in place and through ecrmock_http_response_header), the 13th is
 * refused as before and changes nothing, and release frees all (ASan and
 * valgrind see the strings outside the block). */
static void test_http_response_headers_past_the_block(void **state)
{
    (void)state;
    ecrmock_http_response r = {0};
    assert_int_equal(em_http_headers_new(&r), 0);
    char name[256], value[512];
    for (size_t i = 0; i < EM_HTTP_MAX_HEADERS; i++) {
        nth_header(i, name, value);
        assert_int_equal(em_http_add_header(&r, name, value), 0);
    }
    assert_int_equal(em_http_add_header(&r, "One-More", "x"), -1);
    assert_int_equal(r.n_headers, EM_HTTP_MAX_HEADERS);
    size_t bytes = 0;
    for (size_t i = 0; i < EM_HTTP_MAX_HEADERS; i++) {
        nth_header(i, name, value);
        assert_string_equal(r.headers[i].name, name);
        assert_string_equal(r.headers[i].value, value);
        assert_string_equal(ecrmock_http_response_header(&r, name), value);
        for (char *c = name; *c; c++) /* any case */
            *c = (char)(*c - 'a' + 'A');
        assert_string_equal(ecrmock_http_response_header(&r, name), value);
        bytes += strlen(name) + strlen(value) + 2;
    }
    assert_true(bytes > 2000); /* far more than the block holds */
    assert_null(ecrmock_http_response_header(&r, "One-More"));
    /* an empty name and value still fit, and read back */
    ecrmock_http_response e = {0};
    assert_int_equal(em_http_headers_new(&e), 0);
    assert_int_equal(em_http_add_header(&e, "", ""), 0);
    assert_string_equal(e.headers[0].name, "");
    assert_string_equal(e.headers[0].value, "");
    ecrmock_http_response_release(&e);
    ecrmock_http_response_release(&r);
    assert_null(r.headers);
    assert_int_equal(r.n_headers, 0);
}

/* The same headers with the 1st, 2nd, ... allocation failing: the add that
 * met it returns -1 and leaves the headers as they were (no half header),
 * the ones added before and after read back exactly, release leaks nothing. */
static void test_http_response_headers_out_of_memory(void **state)
{
    (void)state;
    char name[256], value[512];
    for (long n = 1;; n++) {
        ecrmock_http_response r = {0};
        alloc_fail_arm(n);
        if (em_http_headers_new(&r) < 0) {
            assert_true(alloc_fail_disarm() >= n);
            assert_null(r.headers);
            continue;
        }
        size_t added[EM_HTTP_MAX_HEADERS], k = 0;
        for (size_t i = 0; i < EM_HTTP_MAX_HEADERS; i++) {
            nth_header(i, name, value);
            size_t before = r.n_headers;
            if (em_http_add_header(&r, name, value) == 0)
                added[k++] = i;
            else
                assert_int_equal(r.n_headers, before);
        }
        bool injected = alloc_fail_disarm() >= n;
        assert_int_equal(r.n_headers, k);
        for (size_t j = 0; j < k; j++) {
            nth_header(added[j], name, value);
            assert_string_equal(r.headers[j].name, name);
            assert_string_equal(r.headers[j].value, value);
        }
        ecrmock_http_response_release(&r);
        if (!injected) {
            assert_int_equal(k, EM_HTTP_MAX_HEADERS);
            assert_true(n > 4); /* the loop really failed allocations */
            break;
        }
        assert_int_equal(k, EM_HTTP_MAX_HEADERS - 1); /* only the add that met the failure */
    }
}

/* ---- layer downloads ------------------------------------------------------------------ */

/* An image whose first layer is "layer 0 of image 1" (18 bytes); returns
 * its download URL (malloc'd) and the layer digest. */
static char *download_url(ecrmock *m, char *layer_digest)
{
    create_repo(m, REPO);
    char *mf = make_manifest(m, REPO, 1, 1);
    free(put_image(m, REPO, mf, "v1"));
    json_t *doc = json_loads(mf, 0, NULL);
    free(mf);
    snprintf(layer_digest, ECRMOCK_DIGEST_SIZE, "%s",
             json_string_value(json_object_get(json_array_get(json_object_get(doc, "layers"), 0), "digest")));
    json_decref(doc);
    json_t *r = NULL;
    assert_ok(call(m, &r, "GetDownloadUrlForLayer", "{\"repositoryName\":\"" REPO "\",\"layerDigest\":\"%s\"}",
                   layer_digest),
              r);
    char *url = strdup(json_string_value(json_object_get(r, "downloadUrl")));
    json_decref(r);
    return url;
}

static const char *path_of(const char *url)
{
    return strchr(strstr(url, "//") + 2, '/');
}

static void test_http_get_download_url(void **state)
{
    ecrmock *m = *state;
    char digest[ECRMOCK_DIGEST_SIZE];
    char *url = download_url(m, digest);
    unsigned long calls = ecrmock_call_count(m, NULL);
    ecrmock_http_response r;
    /* path-only, as a client sends it to the bucket host */
    assert_int_equal(get(m, &r, path_of(url), NULL), 200);
    assert_int_equal(r.body_len, 18);
    assert_memory_equal(r.body, "layer 0 of image 1", 18);
    assert_header(&r, "Content-Type", "application/octet-stream");
    assert_header(&r, "Content-Length", "18");
    assert_header(&r, "Content-Range", NULL);
    ecrmock_http_response_release(&r);
    /* and absolute */
    assert_int_equal(get(m, &r, url, NULL), 200);
    assert_memory_equal(r.body, "layer 0 of image 1", 18);
    ecrmock_http_response_release(&r);
    /* HEAD: the headers alone */
    ecrmock_http_request req = ECRMOCK_HTTP_REQUEST_INIT;
    req.method = "HEAD";
    req.target = url;
    assert_int_equal(ecrmock_http_handle(m, &req, &r), 200);
    assert_int_equal(r.body_len, 0);
    ecrmock_http_response_release(&r);
    /* S3 is not ECR: downloads are neither journaled nor counted */
    assert_int_equal(ecrmock_call_count(m, NULL), calls);
    free(url);
}

static void test_http_get_ranges(void **state)
{
    ecrmock *m = *state;
    char digest[ECRMOCK_DIGEST_SIZE];
    char *url = download_url(m, digest);
    static const struct {
        const char *range;
        int status;
        const char *body, *content_range;
    } cases[] = {
        {"bytes=0-4", 206, "layer", "bytes 0-4/18"},
        {"bytes=8-", 206, "of image 1", "bytes 8-17/18"},
        {"bytes=-7", 206, "image 1", "bytes 11-17/18"},
        {"bytes=6-100", 206, "0 of image 1", "bytes 6-17/18"},
        {"bytes=-100", 206, "layer 0 of image 1", "bytes 0-17/18"},
        {"bytes=17-17", 206, "1", "bytes 17-17/18"},
        {"bytes=5-2", 200, "layer 0 of image 1", NULL},     /* not a range: ignored */
        {"bytes=0-1,4-5", 200, "layer 0 of image 1", NULL}, /* several: ignored */
        {"lines=1-2", 200, "layer 0 of image 1", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ecrmock_http_response r;
        assert_int_equal(get(m, &r, path_of(url), cases[i].range), cases[i].status);
        assert_int_equal(r.body_len, strlen(cases[i].body));
        assert_memory_equal(r.body, cases[i].body, r.body_len);
        assert_header(&r, "Content-Range", cases[i].content_range);
        assert_content_length(&r);
        ecrmock_http_response_release(&r);
    }
    const char *bad[] = {"bytes=18-", "bytes=18-20", "bytes=-0"};
    for (size_t i = 0; i < 3; i++) {
        ecrmock_http_response r;
        assert_int_equal(get(m, &r, path_of(url), bad[i]), 416);
        assert_header(&r, "Content-Range", "bytes */18");
        assert_header(&r, "Content-Type", "application/xml");
        assert_non_null(strstr(r.body, "<Code>InvalidRange</Code><Message>The requested range is not "
                                       "satisfiable</Message>"));
        char want[128];
        snprintf(want, sizeof want, "<RangeRequested>%s</RangeRequested><ActualObjectSize>18</ActualObjectSize>",
                 bad[i]);
        assert_non_null(strstr(r.body, want));
        ecrmock_http_response_release(&r);
    }
    free(url);
}

static void test_http_get_expired_is_403(void **state)
{
    ecrmock *m = *state;
    char digest[ECRMOCK_DIGEST_SIZE];
    char *url = download_url(m, digest);
    ecrmock_http_response r;
    ecrmock_clock_advance(m, 3600 * 1000, NULL); /* exactly the lifetime: still good */
    assert_int_equal(get(m, &r, path_of(url), NULL), 200);
    ecrmock_http_response_release(&r);
    ecrmock_clock_advance(m, 1000, NULL);
    assert_int_equal(get(m, &r, path_of(url), NULL), 403);
    assert_header(&r, "Content-Type", "application/xml");
    assert_true(strncmp(r.body, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessDenied</Code>"
                                "<Message>Request has expired</Message><X-Amz-Expires>3600</X-Amz-Expires>"
                                "<Expires>2024-01-01T01:00:00Z</Expires><ServerTime>2024-01-01T01:00:01Z</ServerTime>"
                                "<RequestId>",
                        strlen("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessDenied</Code>"
                               "<Message>Request has expired</Message><X-Amz-Expires>3600</X-Amz-Expires>"
                               "<Expires>2024-01-01T01:00:00Z</Expires><ServerTime>2024-01-01T01:00:01Z</ServerTime>"
                               "<RequestId>")) == 0);
    ecrmock_http_response_release(&r);
    free(url);
}

static void test_http_get_tampered_or_unknown(void **state)
{
    ecrmock *m = *state;
    char digest[ECRMOCK_DIGEST_SIZE];
    char *url = download_url(m, digest);
    ecrmock_http_response r;
    /* another layer's path under this signature */
    char *other = strdup(path_of(url));
    char *colon = strstr(other, "sha256:");
    colon[7] = colon[7] == '0' ? '1' : '0';
    assert_int_equal(get(m, &r, other, NULL), 403);
    assert_non_null(strstr(r.body, "<Code>SignatureDoesNotMatch</Code>"));
    ecrmock_http_response_release(&r);
    /* no signature at all */
    *strchr(other, '?') = '\0';
    assert_int_equal(get(m, &r, other, NULL), 403);
    ecrmock_http_response_release(&r);
    free(other);
    /* path-only: the Host header is the host the URL was signed for */
    ecrmock_http_header eu[] = {{"Host", "prod-eu-west-1-starport-layer-bucket.s3.eu-west-1.amazonaws.com"}};
    ecrmock_http_request req = ECRMOCK_HTTP_REQUEST_INIT;
    req.method = "GET";
    req.target = path_of(url);
    req.headers = eu;
    req.n_headers = 1;
    assert_int_equal(ecrmock_http_handle(m, &req, &r), 403);
    assert_non_null(strstr(r.body, "<Code>SignatureDoesNotMatch</Code>"));
    ecrmock_http_response_release(&r);
    req.n_headers = 0; /* no host at all */
    assert_int_equal(ecrmock_http_handle(m, &req, &r), 403);
    ecrmock_http_response_release(&r);
    ecrmock_http_header upper[] = {{"Host", "PROD-us-east-1-starport-layer-bucket.s3.us-east-1.amazonaws.com:443"}};
    req.headers = upper; /* host names are case-insensitive, :443 is https's own port */
    req.n_headers = 1;
    assert_int_equal(ecrmock_http_handle(m, &req, &r), 200);
    ecrmock_http_response_release(&r);
    /* a URL on another host */
    assert_int_equal(get(m, &r, "https://example.com/123456789012/web/x?X-Amz-Signature=1", NULL), 404);
    assert_non_null(strstr(r.body, "<Code>NoSuchKey</Code><Message>The specified key does not exist.</Message>"));
    ecrmock_http_response_release(&r);
    /* the layer gone with its repository */
    call_ok(m, "DeleteRepository", "{\"repositoryName\":\"" REPO "\",\"force\":true}");
    assert_int_equal(get(m, &r, path_of(url), NULL), 404);
    assert_non_null(strstr(r.body, "<Code>NoSuchKey</Code>"));
    ecrmock_http_response_release(&r);
    free(url);
}

static void test_http_base_url(void **state)
{
    ecrmock *m = *state;
    assert_int_equal(ecrmock_http_base_url_set(m, "http://127.0.0.1:8080/", NULL), 0);
    char digest[ECRMOCK_DIGEST_SIZE];
    char *url = download_url(m, digest);
    char want[256];
    snprintf(want, sizeof want, "http://127.0.0.1:8080/123456789012/" REPO "/%s?X-Amz-Algorithm=", digest);
    assert_true(strncmp(url, want, strlen(want)) == 0);
    void *bytes = NULL;
    size_t len = 0;
    assert_int_equal(ecrmock_fetch_url(m, url, &bytes, &len), 200);
    assert_int_equal(len, 18);
    free(bytes);
    ecrmock_http_response r;
    assert_int_equal(get(m, &r, url, NULL), 200);
    ecrmock_http_response_release(&r);
    /* kept by reset; NULL goes back to S3's host */
    ecrmock_reset(m);
    free(url);
    url = download_url(m, digest);
    assert_true(strncmp(url, "http://127.0.0.1:8080/", 22) == 0);
    free(url);
    assert_int_equal(ecrmock_http_base_url_set(m, NULL, NULL), 0);
    ecrmock_reset(m);
    url = download_url(m, digest);
    assert_true(strncmp(url, "https://" BUCKET "/", strlen("https://" BUCKET "/")) == 0);
    free(url);
}

/* An API request acts in the region of the ECR endpoint it was sent to
 * (the host of an absolute target, else the Host header), as
 * ecrmock_call_as() does; any other host (a loopback server's) is the
 * instance's own region. */
static void test_http_region_from_host(void **state)
{
    ecrmock *m = *state;
    static const struct {
        const char *host, *target, *region;
    } cases[] = {
        {"api.ecr.eu-west-1.amazonaws.com", "/", "eu-west-1"},
        {"ECR-FIPS.US-EAST-2.API.AWS.", "/", "us-east-2"},
        {"127.0.0.1:8080", "/", "us-east-1"},
        {"localhost", "https://ecr.ap-south-1.amazonaws.com/", "ap-south-1"},
        {"api.ecr.eu-west-1.amazonaws.com", "http://127.0.0.1:8080/", "us-east-1"},
        {NULL, "/", "us-east-1"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char body[64], want[128];
        snprintf(body, sizeof body, "{\"repositoryName\":\"r%zu\"}", i);
        ecrmock_http_header h[3] = {{"Content-Type", "application/x-amz-json-1.1"},
                                    {"X-Amz-Target", PREFIX "CreateRepository"},
                                    {"Host", cases[i].host}};
        ecrmock_http_request req = ECRMOCK_HTTP_REQUEST_INIT;
        req.method = "POST";
        req.target = cases[i].target;
        req.headers = h;
        req.n_headers = cases[i].host ? 3 : 2;
        req.body = body;
        req.body_len = strlen(body);
        ecrmock_http_response r;
        assert_int_equal(ecrmock_http_handle(m, &req, &r), 200);
        snprintf(want, sizeof want, "arn:aws:ecr:%s:123456789012:repository/r%zu\"", cases[i].region, i);
        if (!strstr(r.body, want))
            fail_msg("%s %s: %s", cases[i].host, cases[i].target, r.body);
        ecrmock_http_response_release(&r);
    }
    /* The instance's own view is back after each: the default region holds
     * only the requests that named no other. */
    json_t *resp = NULL;
    assert_int_equal(ecrmock_call(m, "DescribeRepositories", NULL, &resp), 200);
    assert_int_equal(json_array_size(json_object_get(resp, "repositories")), 3);
    json_decref(resp);
}

typedef struct region_caller {
    ecrmock *m;
    const char *host, *prefix;
    int failures;
} region_caller;

static void *create_many(void *arg)
{
    region_caller *rc = arg;
    for (int i = 0; i < 200; i++) {
        char body[64];
        snprintf(body, sizeof body, "{\"repositoryName\":\"%s-%d\"}", rc->prefix, i);
        ecrmock_http_header h[3] = {{"Content-Type", "application/x-amz-json-1.1"},
                                    {"X-Amz-Target", PREFIX "CreateRepository"},
                                    {"Host", rc->host}};
        ecrmock_http_request req = ECRMOCK_HTTP_REQUEST_INIT;
        req.method = "POST";
        req.target = "/";
        req.headers = h;
        req.n_headers = 3;
        req.body = body;
        req.body_len = strlen(body);
        ecrmock_http_response r;
        if (ecrmock_http_handle(rc->m, &req, &r) != 200)
            rc->failures++;
        ecrmock_http_response_release(&r);
    }
    return NULL;
}

/* Two threads, one calling eu-west-1's endpoint and one a loopback host (the
 * instance's region): each request lands in its own region, never in the
 * other's view. */
static void test_http_region_from_host_threads(void **state)
{
    ecrmock *m = *state;
    region_caller a = {m, "api.ecr.eu-west-1.amazonaws.com", "eu", 0}, b = {m, "127.0.0.1:8080", "us", 0};
    pthread_t ta, tb;
    assert_int_equal(pthread_create(&ta, NULL, create_many, &a), 0);
    assert_int_equal(pthread_create(&tb, NULL, create_many, &b), 0);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    assert_int_equal(a.failures + b.failures, 0);
    json_t *req = json_pack("{s:i}", "maxResults", 1000), *resp = NULL;
    assert_int_equal(ecrmock_call(m, "DescribeRepositories", req, &resp), 200);
    char *text = json_dumps(resp, JSON_COMPACT);
    assert_int_equal(json_array_size(json_object_get(resp, "repositories")), 200);
    assert_null(strstr(text, "\"eu-"));
    free(text);
    json_decref(resp);
    assert_int_equal(ecrmock_call_as(m, NULL, "eu-west-1", "DescribeRepositories", req, &resp), 200);
    text = json_dumps(resp, JSON_COMPACT);
    assert_int_equal(json_array_size(json_object_get(resp, "repositories")), 200);
    assert_null(strstr(text, "\"us-"));
    free(text);
    json_decref(resp);
    json_decref(req);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup_mock, teardown_mock)

/* The HTTP level's setters by the ecrmock_err convention. */
/* The host classifier the loopback server's HTTPS side decides by. */
static void test_http_host_kind(void **state)
{
    (void)state;
    static const struct {
        const char *host;
        ecrmock_host_kind kind;
        const char *region;
    } cases[] = {
        {"api.ecr.us-west-2.amazonaws.com", ECRMOCK_HOST_API, "us-west-2"},
        {"API.ECR.EU-WEST-1.AMAZONAWS.COM:443", ECRMOCK_HOST_API, "eu-west-1"},
        {"ecr-fips.us-east-1.api.aws", ECRMOCK_HOST_API, "us-east-1"},
        {"api.ecr.cn-north-1.amazonaws.com.cn", ECRMOCK_HOST_API, "cn-north-1"},
        {"123456789012.dkr.ecr.us-east-1.amazonaws.com", ECRMOCK_HOST_REGISTRY, "us-east-1"},
        {"12345678901.dkr.ecr.us-east-1.amazonaws.com", ECRMOCK_HOST_OTHER, ""},
        {"prod-us-east-1-starport-layer-bucket.s3.us-east-1.amazonaws.com", ECRMOCK_HOST_BUCKET, "us-east-1"},
        {"api.ecr.us-east-1.amazonaws.com.evil.example", ECRMOCK_HOST_OTHER, ""},
        {"example.com", ECRMOCK_HOST_OTHER, ""},
        {"", ECRMOCK_HOST_OTHER, ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char region[64] = "x";
        assert_int_equal(ecrmock_http_host_kind(cases[i].host, region, sizeof region), cases[i].kind);
        assert_string_equal(region, cases[i].region);
        assert_int_equal(ecrmock_http_host_kind(cases[i].host, NULL, 0), cases[i].kind);
    }
    char small[4] = "x";
    assert_int_equal(ecrmock_http_host_kind("api.ecr.us-west-2.amazonaws.com", small, sizeof small), ECRMOCK_HOST_API);
    assert_string_equal(small, "us-");
    assert_int_equal(ecrmock_http_host_kind(NULL, small, sizeof small), ECRMOCK_HOST_OTHER);
    assert_string_equal(small, "");
}

static void test_http_setters_err(void **state)
{
    ecrmock *m = *state;
    assert_int_equal(ERR_CODE(ecrmock_http_credentials_set(m, "AKID", NULL, &test_err)), ECRMOCK_ERR_INVALID_PARAMETER);
    assert_string_equal(test_err.path, "");
    assert_string_equal(test_err.text, "give both the access key id and the secret key, or neither");
    assert_int_equal(ecrmock_http_credentials_set(m, NULL, "secret", NULL), -1);
    assert_int_equal(ERR_CODE(ecrmock_http_credentials_set(m, "AKID", "secret", dirty_err())), ECRMOCK_ERR_OK);
    assert_int_equal(ERR_CODE(ecrmock_http_credentials_set(m, NULL, NULL, dirty_err())), ECRMOCK_ERR_OK);
    assert_int_equal(ERR_CODE(ecrmock_http_base_url_set(m, "ftp://127.0.0.1", &test_err)), ECRMOCK_ERR_INVALID_PARAMETER);
    assert_string_equal(test_err.text, "base URL 'ftp://127.0.0.1' does not start with http:// or https://");
    assert_int_equal(ecrmock_http_base_url_set(m, "127.0.0.1", NULL), -1);
    assert_int_equal(ERR_CODE(ecrmock_http_base_url_set(m, "http://127.0.0.1:8080/", dirty_err())), ECRMOCK_ERR_OK);
    assert_int_equal(ERR_CODE(ecrmock_http_session_token_set(NULL, "tok", &test_err)), ECRMOCK_ERR_INVALID_PARAMETER);
    assert_string_equal(test_err.text, "no instance (m is NULL)");
    assert_int_equal(ERR_CODE(ecrmock_http_session_token_set(m, "tok", dirty_err())), ECRMOCK_ERR_OK);
    assert_int_equal(ERR_CODE(ecrmock_http_sigv4_strict_set(NULL, 1, &test_err)), ECRMOCK_ERR_INVALID_PARAMETER);
    assert_string_equal(test_err.text, "no instance (m is NULL)");
    assert_int_equal(ecrmock_http_sigv4_strict_set(NULL, 1, NULL), -1);
    assert_int_equal(ERR_CODE(ecrmock_http_sigv4_strict_set(m, 1, dirty_err())), ECRMOCK_ERR_OK);
}

/* Attack: SigV4 checks (credentials, session token, strict mode) turned
 * on and off by other threads while requests come in.  Whether checks are on and the credentials they check were read
 * under two separate locks: a thread that turned them off in between left
 * the check comparing the Credential with a NULL access key (a crash). */
typedef struct toggler {
    ecrmock *m;
    atomic_int *stop;
    atomic_long *rounds; /* the togglers' rounds done, both threads' */
} toggler;

static void *toggle_credentials(void *arg)
{
    toggler *t = arg;
    for (unsigned i = 0; !atomic_load(t->stop); i++) {
        ecrmock_http_credentials_set(t->m, "AKIDEXAMPLE", "secret", NULL);
        /* the session token and strict mode change mid-request too */
        ecrmock_http_session_token_set(t->m, i % 3 == 0 ? "tok" : NULL, NULL);
        ecrmock_http_sigv4_strict_set(t->m, i % 5 == 0, NULL);
        ecrmock_http_credentials_set(t->m, NULL, NULL, NULL);
        atomic_fetch_add(t->rounds, 1);
    }
    return NULL;
}

/* The requests run for 2 s (or 400,000 of them), and by construction
 * while the togglers run: they begin once the togglers have gone round,
 * and go on past the 2 s until the togglers have gone round twice more
 * since the first began, so that a whole round of changes lies among them
 * (a caller descheduled for the 2 s before its first request made none at
 * all and failed; one whose togglers were not run met no change). */
static void test_http_credentials_off_mid_request(void **state)
{
    ecrmock *m = *state;
    atomic_int stop = 0;
    atomic_long rounds = 0;
    toggler t = {m, &stop, &rounds};
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&th[i], NULL, toggle_credentials, &t), 0);
    ecrmock_http_header h[] = {
        {"Host", "api.ecr.us-east-1.amazonaws.com"},
        {"Content-Type", "application/x-amz-json-1.1"},
        {"X-Amz-Target", PREFIX "DescribeRepositories"},
        {"X-Amz-Date", "20240101T000000Z"},
        {"Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240101/us-east-1/ecr/aws4_request, "
                          "SignedHeaders=host;x-amz-date, Signature=00"}};
    ecrmock_http_request req = ECRMOCK_HTTP_REQUEST_INIT;
    req.method = "POST";
    req.target = "/";
    req.headers = h;
    req.n_headers = sizeof h / sizeof h[0];
    req.body = "{}";
    req.body_len = 2;
    int checked = 0, unchecked = 0;
    while (atomic_load(&rounds) == 0)
        sched_yield();
    long first = atomic_load(&rounds);
    double end = seconds_now() + 2.0;
    do {
        ecrmock_http_response r;
        int st = ecrmock_http_handle(m, &req, &r);
        /* Checks on: the signature is wrong (or, with a session token or
         * strict mode on, the token missing or X-Amz-Target unsigned); off:
         * the call runs. */
        if (st == 400)
            assert_true(strstr(r.body, "\"InvalidSignatureException\"") ||
                        strstr(r.body, "\"UnrecognizedClientException\"") ||
                        strstr(r.body, "\"IncompleteSignatureException\""));
        else
            assert_int_equal(st, 200);
        *(st == 400 ? &checked : &unchecked) += 1;
        ecrmock_http_response_release(&r);
    } while ((checked + unchecked < 400000 && seconds_now() < end) || atomic_load(&rounds) < first + 2);
    atomic_store(&stop, 1);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    assert_true(checked + unchecked > 0);
    assert_true(atomic_load(&rounds) >= first + 2); /* a whole round of changes among the requests */
}

/* ecrmock_http_handle() with its 1st, 2nd, ... allocation failing, for a
 * layer's GET (no JSON parsed or printed: see alloc_fail.h): -1 and an
 * empty response, or the whole answer. */
static void test_http_handle_out_of_memory(void **state)
{
    ecrmock *m = *state;
    char digest[ECRMOCK_DIGEST_SIZE];
    char *url = download_url(m, digest);
    for (long n = 1;; n++) {
        ecrmock_http_header h[1] = {{"Range", "bytes=2-4"}};
        ecrmock_http_request req = ECRMOCK_HTTP_REQUEST_INIT;
        req.method = "GET";
        req.target = url;
        req.headers = h;
        req.n_headers = 1;
        ecrmock_http_response r;
        alloc_fail_arm(n);
        int st = ecrmock_http_handle(m, &req, &r);
        bool injected = alloc_fail_disarm() >= n;
        if (st < 0) {
            assert_true(injected);
            assert_null(r.headers);
            assert_null(r.body);
            assert_int_equal(r.n_headers, 0);
            continue;
        }
        assert_int_equal(st, 206);
        assert_memory_equal(r.body, "yer", 3);
        assert_header(&r, "Content-Range", "bytes 2-4/18");
        assert_header(&r, "Content-Length", "3");
        ecrmock_http_response_release(&r);
        if (!injected) {
            assert_true(n > 3);
            break;
        }
    }
    free(url);
}

int main(void)
{
    alloc_fail_install();
    const struct CMUnitTest tests[] = {
        T(test_http_post_runs_the_action),
        T(test_http_request_ids_are_seeded),
        cmocka_unit_test(test_http_request_ids_are_the_seeds),
        T(test_http_errors_carry_ecr_documents),
        T(test_http_wrong_method_is_404),
        T(test_http_content_type),
        T(test_http_missing_or_foreign_target),
        T(test_http_wire_faults_damage_the_body),
        T(test_http_bad_arguments),
        T(test_http_long_path),
        cmocka_unit_test(test_http_response_headers_past_the_block),
        cmocka_unit_test(test_http_response_headers_out_of_memory),
        T(test_http_handle_out_of_memory),
        T(test_http_get_download_url),
        T(test_http_get_ranges),
        T(test_http_get_expired_is_403),
        T(test_http_get_tampered_or_unknown),
        T(test_http_base_url),
        T(test_http_region_from_host),
        T(test_http_region_from_host_threads),
        cmocka_unit_test(test_http_host_kind),
        T(test_http_setters_err),
        T(test_http_credentials_off_mid_request),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
