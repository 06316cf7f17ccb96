/*
 * The instance API: options and their checks, life cycle (new, free,
 * reset), the virtual clock, ecrmock_call's argument contract, the
 * independence of instances, and many threads on one instance.
 */
#include "helpers.h"
#include "core/core.h" /* the options table */
#include "store/store.h" /* the blob store (m->blobs) */

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>

static json_t *repository_of(json_t *resp)
{
    return json_object_get(resp, "repository");
}

static const char *str_at(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

/* The upload id of a fresh InitiateLayerUpload in `repo` (malloc'd). */
static char *new_upload_id(ecrmock *m, const char *repo)
{
    char id[37];
    initiate_upload(m, repo, id);
    return strdup(id);
}

/* ---- defaults and options ---------------------------------------------------- */

static void test_new_null_options_defaults(void **state)
{
    (void)state;
    ecrmock *m = ecrmock_new(NULL);
    assert_non_null(m);
    assert_true(ecrmock_clock_now(m) == ECRMOCK_DEFAULT_CLOCK_MS);
    assert_true(ECRMOCK_DEFAULT_CLOCK_MS == INT64_C(1704067200000)); /* 2024-01-01T00:00:00Z */

    json_t *r = NULL;
    assert_ok(call(m, &r, "CreateRepository", "{\"repositoryName\":\"defaults\"}"), r);
    json_t *repo = repository_of(r);
    assert_string_equal(str_at(repo, "registryId"), "123456789012");
    assert_string_equal(str_at(repo, "repositoryArn"), "arn:aws:ecr:us-east-1:123456789012:repository/defaults");
    assert_string_equal(str_at(repo, "repositoryUri"), "123456789012.dkr.ecr.us-east-1.amazonaws.com/defaults");
    assert_true(json_number_value(json_object_get(repo, "createdAt")) == 1704067200.0);
    json_decref(r);

    assert_ok(call(m, &r, "GetAuthorizationToken", "{}"), r);
    json_t *auth = json_array_get(json_object_get(r, "authorizationData"), 0);
    assert_string_equal(str_at(auth, "proxyEndpoint"), "https://123456789012.dkr.ecr.us-east-1.amazonaws.com");
    json_decref(r);

    /* ECR's 5 MiB minimum part size: a 1 KiB first part of two is too small. */
    char *id = new_upload_id(m, "defaults");
    call_ok(m, "UploadLayerPart",
            "{\"repositoryName\":\"defaults\",\"uploadId\":\"%s\",\"partFirstByte\":0,\"partLastByte\":2,"
            "\"layerPartBlob\":\"YWJj\"}",
            id);
    call_ok(m, "UploadLayerPart",
            "{\"repositoryName\":\"defaults\",\"uploadId\":\"%s\",\"partFirstByte\":3,\"partLastByte\":5,"
            "\"layerPartBlob\":\"ZGVm\"}",
            id);
    char digest[ECRMOCK_DIGEST_SIZE];
    sha256_digest("abcdef", 6, digest);
    int st = call(m, &r, "CompleteLayerUpload",
                  "{\"repositoryName\":\"defaults\",\"uploadId\":\"%s\",\"layerDigests\":[\"%s\"]}", id, digest);
    assert_fail_msg(st, &r, "LayerPartTooSmallException",
                    "All layer parts except the last part should be at least 5MB");
    free(id);
    ecrmock_free(m);
}

/* ECRMOCK_OPTIONS_INIT with nothing set is the same as NULL. */
static void test_new_options_init_same_as_null(void **state)
{
    (void)state;
    ecrmock_options o = ECRMOCK_OPTIONS_INIT;
    ecrmock *a = ecrmock_new(NULL), *b = ecrmock_new(&o);
    assert_non_null(a);
    assert_non_null(b);
    assert_true(ecrmock_clock_now(a) == ecrmock_clock_now(b));
    create_repo(a, "same");
    create_repo(b, "same");
    char *ia = new_upload_id(a, "same"), *ib = new_upload_id(b, "same");
    assert_string_equal(ia, ib);
    free(ia);
    free(ib);
    ecrmock_free(a);
    ecrmock_free(b);
}

static void test_new_options_take_effect(void **state)
{
    (void)state;
    ecrmock_options o = ECRMOCK_OPTIONS_INIT;
    char account[] = "210987654321", region[] = "eu-west-3";
    o.account_id = account;
    o.region = region;
    o.clock_start_ms = INT64_C(1600000000250);
    o.seed = 7;
    ecrmock *m = ecrmock_new(&o);
    assert_non_null(m);
    /* The strings were copied. */
    memset(account, '9', sizeof account - 1);
    memset(region, 'x', sizeof region - 1);

    assert_true(ecrmock_clock_now(m) == INT64_C(1600000000250));
    json_t *r = NULL;
    assert_ok(call(m, &r, "CreateRepository", "{\"repositoryName\":\"opts\"}"), r);
    json_t *repo = repository_of(r);
    assert_string_equal(str_at(repo, "registryId"), "210987654321");
    assert_string_equal(str_at(repo, "repositoryArn"), "arn:aws:ecr:eu-west-3:210987654321:repository/opts");
    assert_string_equal(str_at(repo, "repositoryUri"), "210987654321.dkr.ecr.eu-west-3.amazonaws.com/opts");
    double created = json_number_value(json_object_get(repo, "createdAt"));
    assert_true(created > 1600000000.2495 && created < 1600000000.2505);
    json_decref(r);

    /* The caller's registry is the default one: an omitted registryId. */
    int st = call(m, &r, "ListImages", "{\"repositoryName\":\"ghost\"}");
    assert_repo_not_found(st, &r, "ghost", "210987654321");

    assert_ok(call(m, &r, "GetAuthorizationToken", "{}"), r);
    json_t *auth = json_array_get(json_object_get(r, "authorizationData"), 0);
    assert_string_equal(str_at(auth, "proxyEndpoint"), "https://210987654321.dkr.ecr.eu-west-3.amazonaws.com");
    json_decref(r);

    /* The seed drives the ids: same seed, same id; seed 0, another. */
    ecrmock_options o7 = ECRMOCK_OPTIONS_INIT, o0 = ECRMOCK_OPTIONS_INIT;
    o7.seed = 7;
    ecrmock *m7 = ecrmock_new(&o7), *m0 = ecrmock_new(&o0);
    assert_non_null(m7);
    assert_non_null(m0);
    /* The same calls as m so far: a token draws from the generator too. */
    create_repo(m7, "opts");
    create_repo(m0, "opts");
    call_ok(m7, "GetAuthorizationToken", "{}");
    call_ok(m0, "GetAuthorizationToken", "{}");
    char *id = new_upload_id(m, "opts"), *id7 = new_upload_id(m7, "opts"), *id0 = new_upload_id(m0, "opts");
    assert_string_equal(id, id7);
    assert_string_not_equal(id, id0);
    free(id);
    free(id7);
    free(id0);
    ecrmock_free(m7);
    ecrmock_free(m0);
    ecrmock_free(m);
}

/* ---- ecrmock_options_check ------------------------------------------------------- */

static void expect_refused(const ecrmock_options *o, const char *message)
{
    ecrmock_err e;
    memset(&e, 'x', sizeof e);
    assert_int_equal(ecrmock_options_check(o, &e), -1);
    assert_int_equal(e.code, ECRMOCK_ERR_INVALID_PARAMETER);
    assert_string_equal(e.path, "");
    assert_string_equal(e.text, message);
    assert_int_equal(ecrmock_options_check(o, NULL), -1);
    assert_null(ecrmock_new(o));
}

/* Accepted, and err says nothing failed. */
static void expect_accepted(const ecrmock_options *o)
{
    ecrmock_err e;
    memset(&e, 'x', sizeof e);
    assert_int_equal(ecrmock_options_check(o, &e), 0);
    assert_int_equal(e.code, ECRMOCK_ERR_OK);
    assert_string_equal(e.path, "");
    assert_string_equal(e.text, "");
    assert_int_equal(ecrmock_options_check(o, NULL), 0);
}
#define MSG_ACCOUNT "ecrmock_options.account_id must be 12 digits, like \"123456789012\""
#define MSG_REGION "ecrmock_options.region must be 1 to 63 characters of a-z, 0-9 and '-', like \"us-east-1\""
#define MSG_LIFETIME "ecrmock_options.upload_lifetime_ms must not be negative (0 means the default)"
#define MSG_CLOCK "ecrmock_options.clock_start_ms must not be negative (0 means the default)"
#define MSG_CLOCK_MAX                                                                                              \
    "ecrmock_options.clock_start_ms must be at most ECRMOCK_CLOCK_MAX_MS (253402300799999, 9999-12-31T23:59:59.999Z)"

static void test_options_check_accepts_defaults(void **state)
{
    (void)state;
    ecrmock_options o = ECRMOCK_OPTIONS_INIT;
    expect_accepted(NULL);
    expect_accepted(&o);
    o.account_id = "000000000000";
    o.region = "ap-southeast-2";
    o.upload_lifetime_ms = 1;
    o.clock_start_ms = 1;
    expect_accepted(&o);
}

static void test_options_check_wrong_version(void **state)
{
    (void)state;
    ecrmock_options o = ECRMOCK_OPTIONS_INIT;
    o.version = 0;
    expect_refused(&o, "ecrmock_options.version is 0, not one this library knows (1 to 3): initialise the "
                       "options with ECRMOCK_OPTIONS_INIT");
    o.version = ECRMOCK_OPTIONS_VERSION + 1;
    expect_refused(&o, "ecrmock_options.version is 4, not one this library knows (1 to 3): initialise the "
                       "options with ECRMOCK_OPTIONS_INIT");
    o.version = UINT_MAX;
    expect_refused(&o, "ecrmock_options.version is 4294967295, not one this library knows (1 to 3): initialise "
                       "the options with ECRMOCK_OPTIONS_INIT");
}

static void test_options_check_bad_account(void **state)
{
    (void)state;
    ecrmock_options o = ECRMOCK_OPTIONS_INIT;
    o.account_id = "12345678901"; /* 11 digits */
    expect_refused(&o, MSG_ACCOUNT);
    o.account_id = "1234567890123"; /* 13 */
    expect_refused(&o, MSG_ACCOUNT);
    o.account_id = "12345678901a";
    expect_refused(&o, MSG_ACCOUNT);
    o.account_id = "";
    expect_refused(&o, MSG_ACCOUNT);
}

static void test_options_check_bad_region(void **state)
{
    (void)state;
    ecrmock_options o = ECRMOCK_OPTIONS_INIT;
    o.region = "US-EAST-1";
    expect_refused(&o, MSG_REGION);
    o.region = "";
    expect_refused(&o, MSG_REGION);
    o.region = "us east 1";
    expect_refused(&o, MSG_REGION);
    char long_region[65];
    memset(long_region, 'a', 64);
    long_region[64] = '\0';
    o.region = long_region;
    expect_refused(&o, MSG_REGION);
    long_region[63] = '\0'; /* 63 characters: accepted */
    expect_accepted(&o);
}

/* The options of an instance, as the recorder writes them (new reference). */
static json_t *instance_options(const ecrmock_options *o)
{
    ecrmock *m = ecrmock_new(o);
    assert_non_null(m);
    json_t *rec = ecrmock_scenario_record(m, NULL, NULL);
    assert_non_null(rec);
    json_t *opts = json_incref(json_object_get(rec, "options"));
    json_decref(rec);
    ecrmock_free(m);
    assert_non_null(opts);
    return opts;
}

/* A program built against version 1 passes a struct that ends after
 * max_resource_tags: what follows is not its (here garbage, which the
 * library must not read), and the later fields are their defaults. */
static void test_options_version_1_struct_reads_no_further(void **state)
{
    (void)state;
    union {
        ecrmock_options o;
        unsigned char bytes[sizeof(ecrmock_options)];
    } u;
    memset(&u, 0xA5, sizeof u);
    ecrmock_options v1 = ECRMOCK_OPTIONS_INIT;
    v1.version = 1;
    v1.max_images = 5;
    memcpy(&u, &v1, offsetof(ecrmock_options, token_length));
    expect_accepted(&u.o);
    json_t *got = instance_options(&u.o);
    assert_int_equal(json_integer_value(json_object_get(got, "maxImages")), 5);
    assert_int_equal(json_integer_value(json_object_get(got, "tokenLength")), ECRMOCK_DEFAULT_TOKEN_LENGTH);
    assert_true(json_integer_value(json_object_get(got, "maxSynthBytes")) == (json_int_t)4 << 30);
    json_decref(got);
    /* Exactly version 1's bytes on the heap: a read past them is one past the
     * allocation (valgrind, ASan). */
    ecrmock_options *heap = malloc(offsetof(ecrmock_options, token_length));
    assert_non_null(heap);
    memcpy(heap, &v1, offsetof(ecrmock_options, token_length));
    expect_accepted(heap);
    ecrmock_free(ecrmock_new(heap));
    /* From JSON into a version 1 struct: a version 2 member is refused. */
    ecrmock_err e;
    json_t *j = json_pack("{s:i}", "tokenLength", 4096);
    assert_int_equal(ecrmock_options_from_json(j, heap, &e), -1);
    assert_string_equal(e.path, "$.options.tokenLength");
    assert_string_equal(e.text, "ecrmock_options version 1 has no token_length (initialise the options with "
                                "ECRMOCK_OPTIONS_INIT)");
    json_decref(j);
    free(heap);
}

/* Every option through the JSON reader, an instance and the recorder's
 * "options" (ecrmock_options_json), and a scenario's "options". */
static void test_options_every_option_round_trips(void **state)
{
    (void)state;
    json_t *defaults = ecrmock_options_json(NULL);
    assert_non_null(defaults);
    assert_int_equal(json_object_size(defaults), option_case_count); /* a case for every option */
    for (size_t i = 0; i < option_case_count; i++) {
        const option_case *row = &option_cases[i];
        char text[160];
        snprintf(text, sizeof text, "{\"%s\": %s}", row->json, row->value);
        json_t *in = json_loads(text, 0, NULL), *want = json_loads(row->value, JSON_DECODE_ANY, NULL);
        assert_non_null(in);
        ecrmock_options o = ECRMOCK_OPTIONS_INIT;
        ecrmock_err e;
        if (ecrmock_options_from_json(in, &o, &e) != 0)
            fail_msg("%s: %s: %s", text, e.path, e.text);
        json_t *got = instance_options(&o);
        if (!json_equal(json_object_get(got, row->json), want))
            fail_msg("%s: the instance has %s", text, json_dumps(json_object_get(got, row->json), JSON_ENCODE_ANY));
        /* the others stay their defaults */
        json_object_set(got, row->json, json_object_get(defaults, row->json));
        assert_true(json_equal(got, defaults));
        /* and the recorder's object reads back to the same options */
        ecrmock_options back = ECRMOCK_OPTIONS_INIT;
        json_object_set(got, row->json, want);
        assert_int_equal(ecrmock_options_from_json(got, &back, NULL), 0);
        json_t *again = ecrmock_options_json(&back);
        assert_true(json_equal(again, got));
        json_decref(again);
        json_decref(got);
        /* a scenario's options */
        json_t *sc = json_pack("{s:O, s:[{s:s}]}", "options", in, "steps", "action", "DescribeRepositories");
        ecrmock_err err;
        if (ecrmock_scenario_run(NULL, sc, NULL, NULL, &err) != 0)
            fail_msg("%s: %s: %s", text, err.path, err.text);
        json_decref(sc);
        json_decref(in);
        json_decref(want);
    }
    json_decref(defaults);
}

/* The README's options table is the code's: a row for each option with its
 * C field, JSON name and variable suffix, and the test cases cover each. */
static void test_options_table_in_readme(void **state)
{
    (void)state;
    FILE *f = fopen("README.md", "r");
    assert_non_null(f);
    static char text[1 << 20];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    assert_int_equal(em_option_count, option_case_count);
    for (size_t i = 0; i < em_option_count; i++) {
        const em_option *r = &em_option_table[i];
        char row[160], version[16];
        snprintf(version, sizeof version, " (version %u)", r->version);
        snprintf(row, sizeof row, "| `%s`%s | `%s` | `%s` |", r->field, r->version > 1 ? version : "", r->json,
                 r->env);
        if (!strstr(text, row))
            fail_msg("README.md has no options row %s", row);
        assert_string_equal(option_cases[i].json, r->json);
        char env[64];
        snprintf(env, sizeof env, "ECRMOCK_CURL_%s", r->env);
        assert_string_equal(option_cases[i].env, env);
    }
}

/* What the JSON reader refuses: the member's path, and *opts unchanged. */
static void test_options_from_json_refusals(void **state)
{
    (void)state;
    static const struct {
        const char *json, *path, *text;
    } cases[] = {
        {"{\"partSize\": 1}", "$.options.partSize",
         "not an option (accountId, region, clockStartMs, seed, minPartSize, uploadLifetimeMs, maxRepositories, "
         "maxImages, maxLayerParts, journalLimit, maxLayerBytes, maxLayersPerImage, maxTagsPerImage, "
         "maxResourceTags, tokenLength, maxSynthBytes, journalMaxBytes)"},
        {"[]", "$.options", "must be an object"},
        {"{\"region\": 1}", "$.options.region", "must be a string"},
        {"{\"maxImages\": -1}", "$.options.maxImages", "must be an integer of at least 0 (0: the default)"},
        {"{\"maxImages\": 1.5}", "$.options.maxImages", "must be an integer of at least 0 (0: the default)"},
        {"{\"seed\": \"1\"}", "$.options.seed", "must be an integer"},
        {"{\"uploadLifetimeMs\": -1}", "$.options.uploadLifetimeMs", "must not be negative (0 means the default)"},
        {"{\"tokenLength\": 511}", "$.options.tokenLength", "must be 512 to 65536 characters (0 means ECR's 2368)"},
        {"{\"maxImages\": 2, \"accountId\": \"1\"}", "$.options.accountId", "must be 12 digits, like \"123456789012\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *in = json_loads(cases[i].json, JSON_DECODE_ANY, NULL);
        ecrmock_options o = ECRMOCK_OPTIONS_INIT, before;
        o.max_images = 9;
        before = o;
        ecrmock_err e;
        assert_int_equal(ecrmock_options_from_json(in, &o, &e), -1);
        assert_int_equal(e.code, ECRMOCK_ERR_INVALID_PARAMETER);
        assert_string_equal(e.path, cases[i].path);
        assert_string_equal(e.text, cases[i].text);
        assert_memory_equal(&o, &before, sizeof o);
        json_decref(in);
    }
    assert_int_equal(ecrmock_options_from_json(NULL, NULL, NULL), -1);
    ecrmock_options bad = ECRMOCK_OPTIONS_INIT;
    bad.version = 9;
    assert_null(ecrmock_options_json(&bad));
    bad = (ecrmock_options)ECRMOCK_OPTIONS_INIT;
    bad.region = "EU";
    assert_null(ecrmock_options_json(&bad));
    /* a limit past INT64_MAX is written as INT64_MAX; the seed as its bits */
    ecrmock_options big = ECRMOCK_OPTIONS_INIT;
    big.max_images = UINT64_MAX;
    big.seed = UINT64_MAX;
    json_t *j = ecrmock_options_json(&big);
    assert_true(json_integer_value(json_object_get(j, "maxImages")) == INT64_MAX);
    assert_int_equal(json_integer_value(json_object_get(j, "seed")), -1);
    json_decref(j);
}

/* ---- ecrmock_buffer_free ---------------------------------------------------------- */

/* Every buffer the library hands out, freed with ecrmock_buffer_free(),
 * reaches the allocator in force. */
/* Attack: strings with an embedded NUL (\u0000, which a document loaded
 * with JSON_ALLOW_NUL or built with json_stringn() may hold).  They were
 * read as C strings, cut at the NUL: "123456789012\u0000junk" became the
 * account 123456789012 without a word. */
static void test_options_from_json_refuses_nul(void **state)
{
    (void)state;
    const char *docs[][2] = {{"{\"accountId\": \"123456789012\\u0000junk\"}", "$.options.accountId"},
                             {"{\"region\": \"us-east-1\\u0000\"}", "$.options.region"}};
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        json_t *o = json_loads(docs[i][0], JSON_ALLOW_NUL, NULL);
        assert_non_null(o);
        ecrmock_options opts = ECRMOCK_OPTIONS_INIT;
        assert_int_equal(ERR_CODE(ecrmock_options_from_json(o, &opts, &test_err)), ECRMOCK_ERR_INVALID_PARAMETER);
        assert_string_equal(test_err.path, docs[i][1]);
        assert_string_equal(test_err.text, "must not contain NUL (\\u0000)");
        assert_null(opts.account_id);
        assert_null(opts.region);
        json_decref(o);
    }
    /* A member's name with a NUL: no option, not the one its C string names
     * (jansson's parser refuses such a name; json_object_setn() makes one). */
    json_t *o = json_object();
    assert_int_equal(json_object_setn_new(o, "minPartSize\0junk", 16, json_integer(6000000)), 0);
    ecrmock_options opts = ECRMOCK_OPTIONS_INIT;
    assert_int_equal(ERR_CODE(ecrmock_options_from_json(o, &opts, &test_err)), ECRMOCK_ERR_INVALID_PARAMETER);
    assert_string_equal(test_err.path, "$.options.minPartSize");
    assert_string_equal(test_err.text, "not an option: its name has a NUL (\\u0000)");
    assert_int_equal(opts.min_part_size, 0);
    json_decref(o);
}

static void test_buffer_free_uses_the_allocator(void **state)
{
    (void)state;
    ecrmock_set_alloc_funcs(marked_malloc, marked_realloc, marked_free);
    long live = marked_live();
    ecrmock *m = ecrmock_new(NULL);
    assert_non_null(m);

    char *out = NULL;
    size_t out_len = 0;
    const char *body = "{\"repositoryName\":\"web\"}";
    assert_int_equal(ecrmock_call_raw(m, "CreateRepository", body, strlen(body), &out, &out_len), 200);
    long before = marked_frees();
    ecrmock_buffer_free(out);
    assert_int_equal(marked_frees(), before + 1);

    char digest[ECRMOCK_DIGEST_SIZE];
    assert_int_equal(ecrmock_put_layer(m, NULL, "web", "layer bytes", 11, digest, NULL), ECRMOCK_ERR_OK);
    void *bytes = NULL;
    size_t len = 0;
    assert_int_equal(ecrmock_get_layer(m, NULL, "web", digest, &bytes, &len, NULL), ECRMOCK_ERR_OK);
    assert_int_equal(len, 11);
    before = marked_frees();
    ecrmock_buffer_free(bytes);
    assert_int_equal(marked_frees(), before + 1);

    /* An image over the layer, so that it can be downloaded. */
    char config[ECRMOCK_DIGEST_SIZE], manifest[1024];
    assert_int_equal(ecrmock_put_layer(m, NULL, "web", "{}", 2, config, NULL), ECRMOCK_ERR_OK);
    snprintf(manifest, sizeof manifest,
             "{\"schemaVersion\": 2, \"mediaType\": \"application/vnd.docker.distribution.manifest.v2+json\", "
             "\"config\": {\"mediaType\": \"application/vnd.docker.container.image.v1+json\", \"size\": 2, "
             "\"digest\": \"%s\"}, \"layers\": [{\"mediaType\": "
             "\"application/vnd.docker.image.rootfs.diff.tar.gzip\", \"size\": 11, \"digest\": \"%s\"}]}",
             config, digest);
    json_t *req = json_pack("{s:s, s:s}", "repositoryName", "web", "imageManifest", manifest), *resp = NULL;
    assert_int_equal(ecrmock_call(m, "PutImage", req, &resp), 200);
    json_decref(req);
    json_decref(resp);
    req = json_pack("{s:s, s:s}", "repositoryName", "web", "layerDigest", digest);
    assert_int_equal(ecrmock_call(m, "GetDownloadUrlForLayer", req, &resp), 200);
    bytes = NULL;
    assert_int_equal(ecrmock_fetch_url(m, json_string_value(json_object_get(resp, "downloadUrl")), &bytes, &len), 200);
    assert_memory_equal(bytes, "layer bytes", 11);
    before = marked_frees();
    ecrmock_buffer_free(bytes);
    assert_int_equal(marked_frees(), before + 1);
    json_decref(req);
    json_decref(resp);

    before = marked_frees();
    ecrmock_buffer_free(NULL);
    assert_int_equal(marked_frees(), before);
    ecrmock_free(m);
    assert_int_equal(marked_live(), live); /* every block came back through the allocator's free */
    ecrmock_set_alloc_funcs(NULL, NULL, NULL);

    /* With no allocator set, free() is right too. */
    m = ecrmock_new(NULL);
    assert_int_equal(ecrmock_call_raw(m, "CreateRepository", body, strlen(body), &out, &out_len), 200);
    free(out);
    ecrmock_free(m);
}

static void test_options_check_negative_lifetime_and_clock(void **state)
{
    (void)state;
    ecrmock_options o = ECRMOCK_OPTIONS_INIT;
    o.upload_lifetime_ms = -1;
    expect_refused(&o, MSG_LIFETIME);
    o.upload_lifetime_ms = 0;
    o.clock_start_ms = -1;
    expect_refused(&o, MSG_CLOCK);
    o.clock_start_ms = INT64_MIN;
    expect_refused(&o, MSG_CLOCK);
    /* past 9999-12-31T23:59:59.999Z: refused; at it, accepted */
    o.clock_start_ms = ECRMOCK_CLOCK_MAX_MS + 1;
    expect_refused(&o, MSG_CLOCK_MAX);
    o.clock_start_ms = INT64_MAX;
    expect_refused(&o, MSG_CLOCK_MAX);
    o.clock_start_ms = ECRMOCK_CLOCK_MAX_MS;
    expect_accepted(&o);
    ecrmock *m = ecrmock_new(&o);
    assert_true(ecrmock_clock_now(m) == ECRMOCK_CLOCK_MAX_MS);
    ecrmock_free(m);
}

static void test_free_null_is_noop(void **state)
{
    (void)state;
    ecrmock_free(NULL);
    ecrmock_reset(NULL);
    assert_true(ecrmock_clock_now(NULL) == 0);
    assert_int_equal(ecrmock_clock_set(NULL, 5, NULL), -1);
    assert_int_equal(ecrmock_clock_advance(NULL, 5, NULL), -1);
}

/* ---- reset ---------------------------------------------------------------------- */

static void test_reset_empties_and_rewinds(void **state)
{
    (void)state;
    ecrmock_options o = ECRMOCK_OPTIONS_INIT;
    o.account_id = "111122223333";
    o.seed = 99;
    o.min_part_size = 1024;
    ecrmock *m = ecrmock_new(&o);
    ecrmock *fresh = ecrmock_new(&o);
    assert_non_null(m);
    assert_non_null(fresh);

    create_repo(m, "before");
    char *digest = push_new_image(m, "before", 2, 1, "v1");
    char *stale = new_upload_id(m, "before");
    char layer_digest[ECRMOCK_DIGEST_SIZE];
    push_layer(m, "before", "shared bytes", 12, layer_digest);
    ecrmock_clock_advance(m, 3600 * 1000, NULL);
    free(digest);

    ecrmock_reset(m);

    /* Empty. */
    assert_int_equal(repo_count(m, NULL), 0);
    void *bytes = NULL;
    size_t len = 0;
    assert_int_equal(ERR_CODE(ecrmock_get_layer(m, NULL, "before", layer_digest, &bytes, &len, &test_err)),
                     ECRMOCK_ERR_REPOSITORY_NOT_FOUND);
    /* The clock is back at the start. */
    assert_true(ecrmock_clock_now(m) == ECRMOCK_DEFAULT_CLOCK_MS);
    /* The id generator is rewound: the same first id as a fresh instance. */
    create_repo(m, "before");
    create_repo(fresh, "before");
    char *id = new_upload_id(m, "before"), *fresh_id = new_upload_id(fresh, "before");
    assert_string_equal(id, fresh_id);
    assert_string_equal(id, stale); /* the first id of this seed, again */
    free(id);
    free(fresh_id);
    free(stale);
    /* The options are kept: the account and the part size. */
    json_t *r = NULL;
    assert_ok(call(m, &r, "DescribeRepositories", "{}"), r);
    assert_string_equal(str_at(json_array_get(json_object_get(r, "repositories"), 0), "registryId"),
                        "111122223333");
    json_decref(r);
    /* The blob store is empty too: the layer is gone from a new repository. */
    assert_int_equal(ERR_CODE(ecrmock_get_layer(m, NULL, "before", layer_digest, &bytes, &len, &test_err)),
                     ECRMOCK_ERR_LAYERS_NOT_FOUND);
    /* Same repository output as the fresh instance (same seq, same clock). */
    assert_same_answer(m, fresh, "DescribeRepositories", "{}");
    ecrmock_free(fresh);
    ecrmock_free(m);
}

/* Reset rewinds to the configured start, not to the library default. */
static void test_reset_rewinds_to_configured_clock(void **state)
{
    (void)state;
    ecrmock_options o = ECRMOCK_OPTIONS_INIT;
    o.clock_start_ms = INT64_C(1500000000000);
    ecrmock *m = ecrmock_new(&o);
    assert_non_null(m);
    ecrmock_clock_set(m, INT64_C(1800000000000), NULL);
    ecrmock_reset(m);
    assert_true(ecrmock_clock_now(m) == INT64_C(1500000000000));
    ecrmock_free(m);
}

/* ---- the clock -------------------------------------------------------------------- */

/* The clock stays within 0..ECRMOCK_CLOCK_MAX_MS: a set or a move that would
 * take it out (INT64_MAX and INT64_MIN included, which used to overflow) is
 * refused with -1 and leaves it where it was. */
static void test_clock_range(void **state)
{
    ecrmock *m = *state;
    int64_t start = ECRMOCK_DEFAULT_CLOCK_MS;
    static const int64_t bad_sets[] = {-1, INT64_MIN, ECRMOCK_CLOCK_MAX_MS + 1, INT64_MAX};
    for (size_t i = 0; i < sizeof bad_sets / sizeof bad_sets[0]; i++) {
        assert_int_equal(ecrmock_clock_set(m, bad_sets[i], NULL), -1);
        assert_true(ecrmock_clock_now(m) == start);
    }
    static const int64_t bad_moves[] = {INT64_MAX, INT64_MIN, INT64_MIN + 1, -ECRMOCK_DEFAULT_CLOCK_MS - 1,
                                        ECRMOCK_CLOCK_MAX_MS - ECRMOCK_DEFAULT_CLOCK_MS + 1};
    for (size_t i = 0; i < sizeof bad_moves / sizeof bad_moves[0]; i++) {
        assert_int_equal(ecrmock_clock_advance(m, bad_moves[i], NULL), -1);
        assert_true(ecrmock_clock_now(m) == start);
    }
    /* the ends themselves */
    assert_int_equal(ecrmock_clock_advance(m, ECRMOCK_CLOCK_MAX_MS - ECRMOCK_DEFAULT_CLOCK_MS, NULL), 0);
    assert_true(ecrmock_clock_now(m) == ECRMOCK_CLOCK_MAX_MS);
    assert_int_equal(ecrmock_clock_advance(m, 1, NULL), -1);
    assert_int_equal(ecrmock_clock_advance(m, INT64_MAX, NULL), -1);
    assert_true(ecrmock_clock_now(m) == ECRMOCK_CLOCK_MAX_MS);
    assert_int_equal(ecrmock_clock_advance(m, -ECRMOCK_CLOCK_MAX_MS, NULL), 0);
    assert_true(ecrmock_clock_now(m) == 0);
    assert_int_equal(ecrmock_clock_advance(m, -1, NULL), -1);
    assert_true(ecrmock_clock_now(m) == 0);
    assert_int_equal(ecrmock_clock_set(m, ECRMOCK_CLOCK_MAX_MS, NULL), 0);
    assert_true(ecrmock_clock_now(m) == ECRMOCK_CLOCK_MAX_MS);
    /* a call at the last millisecond stamps it */
    json_t *r = NULL;
    assert_ok(call(m, &r, "CreateRepository", "{\"repositoryName\":\"late\"}"), r);
    assert_true(json_number_value(json_object_get(repository_of(r), "createdAt")) == 253402300799.999);
    json_decref(r);
}

static void test_clock_set_advance_now(void **state)
{
    ecrmock *m = *state;
    assert_true(ecrmock_clock_now(m) == ECRMOCK_DEFAULT_CLOCK_MS);
    /* It does not move on its own. */
    create_repo(m, "tick");
    assert_true(ecrmock_clock_now(m) == ECRMOCK_DEFAULT_CLOCK_MS);
    ecrmock_clock_advance(m, 1500, NULL);
    assert_true(ecrmock_clock_now(m) == ECRMOCK_DEFAULT_CLOCK_MS + 1500);
    ecrmock_clock_advance(m, -500, NULL);
    assert_true(ecrmock_clock_now(m) == ECRMOCK_DEFAULT_CLOCK_MS + 1000);
    ecrmock_clock_set(m, INT64_C(1719792000000), NULL);
    assert_true(ecrmock_clock_now(m) == INT64_C(1719792000000));

    /* Calls read it. */
    json_t *r = NULL;
    assert_ok(call(m, &r, "CreateRepository", "{\"repositoryName\":\"tock\"}"), r);
    assert_true(json_number_value(json_object_get(repository_of(r), "createdAt")) == 1719792000.0);
    json_decref(r);
    assert_ok(call(m, &r, "GetAuthorizationToken", "{}"), r);
    json_t *auth = json_array_get(json_object_get(r, "authorizationData"), 0);
    assert_true(json_number_value(json_object_get(auth, "expiresAt")) == 1719792000.0 + 12 * 3600);
    json_decref(r);
    /* The first repository kept its time. */
    assert_ok(call(m, &r, "DescribeRepositories", "{\"repositoryNames\":[\"tick\"]}"), r);
    assert_true(json_number_value(json_object_get(json_array_get(json_object_get(r, "repositories"), 0),
                                                  "createdAt")) == 1704067200.0);
    json_decref(r);
}

/* ---- ecrmock_call's contract ------------------------------------------------------- */

static void test_call_null_arguments(void **state)
{
    ecrmock *m = *state;
    json_t *req = json_pack("{s:s}", "repositoryName", "nulls");
    json_t *resp = json_object(); /* a value that must be replaced by NULL */
    json_t *keep = resp;
    assert_int_equal(ecrmock_call(NULL, "CreateRepository", req, &resp), -1);
    assert_null(resp);
    resp = keep;
    assert_int_equal(ecrmock_call(m, NULL, req, &resp), -1);
    assert_null(resp);
    assert_int_equal(ecrmock_call(m, "CreateRepository", req, NULL), -1);
    json_decref(keep);
    json_decref(req);
    assert_int_equal(repo_count(m, NULL), 0);
}

static void test_call_null_request_is_empty_object(void **state)
{
    ecrmock *m = *state;
    json_t *r = NULL;
    assert_int_equal(ecrmock_call(m, "DescribeRepositories", NULL, &r), 200);
    json_t *want = json_pack("{s:[]}", "repositories");
    assert_true(json_equal(r, want));
    json_decref(want);
    json_decref(r);

    assert_int_equal(ecrmock_call(m, "CreateRepository", NULL, &r), 400);
    assert_fail_msg(400, &r, "InvalidParameterException",
                    "Invalid parameter at 'repositoryName' failed to satisfy constraint: 'Member must not be null'");
    /* json null is {} as well. */
    json_t *null = json_null();
    assert_int_equal(ecrmock_call(m, "DescribeRepositories", null, &r), 200);
    json_decref(r);
    json_decref(null);
    /* Unknown action at the JSON level: the bare framework error. */
    assert_int_equal(ecrmock_call(m, "LaunchRocket", NULL, &r), 400);
    want = json_pack("{s:s}", "__type", "UnknownOperationException");
    assert_true(json_equal(r, want));
    json_decref(want);
    json_decref(r);
}

/* The request is borrowed: not kept, not changed. */
static void test_call_request_borrowed(void **state)
{
    ecrmock *m = *state;
    json_t *req = json_pack("{s:s, s:[{s:s, s:s}]}", "repositoryName", "borrowed", "tags", "Key", "team", "Value", "a");
    char *before = json_dumps(req, JSON_COMPACT | JSON_SORT_KEYS);
    json_t *r = NULL;
    assert_ok(ecrmock_call(m, "CreateRepository", req, &r), r);
    json_decref(r);
    char *after = json_dumps(req, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(before, after);
    assert_int_equal(req->refcount, 1);
    /* Changing it afterwards changes nothing stored. */
    json_object_set_new(req, "repositoryName", json_string("changed"));
    call_ok(m, "DescribeRepositories", "{\"repositoryNames\":[\"borrowed\"]}");
    json_decref(req);
    free(before);
    free(after);
}

/* ---- instances are independent ---------------------------------------------------- */

static void test_instances_independent(void **state)
{
    ecrmock *a = *state;
    ecrmock *b = ecrmock_new(NULL);
    assert_non_null(b);
    create_repo(a, "only-a");
    char digest[ECRMOCK_DIGEST_SIZE];
    push_layer(a, "only-a", "layer of a", 10, digest);
    ecrmock_clock_advance(a, 60000, NULL);

    assert_int_equal(repo_count(a, NULL), 1);
    assert_int_equal(repo_count(b, NULL), 0);
    assert_true(ecrmock_clock_now(b) == ECRMOCK_DEFAULT_CLOCK_MS);
    void *bytes = NULL;
    size_t len = 0;
    assert_int_equal(ERR_CODE(ecrmock_get_layer(b, NULL, "only-a", digest, &bytes, &len, &test_err)), ECRMOCK_ERR_REPOSITORY_NOT_FOUND);
    /* The same name is free in b, and b's layer store does not have a's blob. */
    create_repo(b, "only-a");
    assert_int_equal(ERR_CODE(ecrmock_get_layer(b, NULL, "only-a", digest, &bytes, &len, &test_err)), ECRMOCK_ERR_LAYERS_NOT_FOUND);
    /* Freeing one leaves the other whole. */
    ecrmock_free(b);
    assert_int_equal(ecrmock_get_layer(a, NULL, "only-a", digest, &bytes, &len, NULL), ECRMOCK_ERR_OK);
    assert_int_equal(len, 10);
    assert_memory_equal(bytes, "layer of a", 10);
    free(bytes);
}

/* ---- threads ------------------------------------------------------------------------ */

#define N_THREADS 4
#define N_IMAGES 50

typedef struct worker {
    ecrmock *m;
    int index;
    char repo[32];
    char digests[N_IMAGES][ECRMOCK_DIGEST_SIZE];
    char shared_digest[ECRMOCK_DIGEST_SIZE];
    int failures;        /* calls that did not answer what they should */
    char first_failure[256];
} worker;

static void worker_fail(worker *w, const char *what, int status, json_t *resp)
{
    if (!w->failures++)
        snprintf(w->first_failure, sizeof w->first_failure, "%s: %d %s %s", what, status, err_type(resp),
                 err_message(resp));
}

static void *worker_run(void *arg)
{
    worker *w = arg;
    ecrmock *m = w->m;
    json_t *req, *r = NULL;
    int st;

    req = json_pack("{s:s}", "repositoryName", w->repo);
    st = ecrmock_call(m, "CreateRepository", req, &r);
    if (st != 200)
        worker_fail(w, "CreateRepository", st, r);
    json_decref(r);
    json_decref(req);

    /* The same bytes in every repository: one blob, shared. */
    static const char shared[] = "a base layer every thread pushes";
    if (ecrmock_put_layer(m, NULL, w->repo, shared, sizeof shared - 1, w->shared_digest, NULL) != ECRMOCK_ERR_OK)
        worker_fail(w, "put shared layer", 0, NULL);

    for (int j = 0; j < N_IMAGES; j++) {
        char config[128], layer[128], config_digest[ECRMOCK_DIGEST_SIZE], layer_digest[ECRMOCK_DIGEST_SIZE];
        int cn = snprintf(config, sizeof config, "{\"os\":\"linux\",\"thread\":%d,\"image\":%d}", w->index, j);
        int ln = snprintf(layer, sizeof layer, "layer bytes of thread %d image %d", w->index, j);
        if (ecrmock_put_layer(m, NULL, w->repo, config, (size_t)cn, config_digest, NULL) != ECRMOCK_ERR_OK ||
            ecrmock_put_layer(m, NULL, w->repo, layer, (size_t)ln, layer_digest, NULL) != ECRMOCK_ERR_OK)
            worker_fail(w, "put layer", 0, NULL);
        char manifest[1024];
        int mn = snprintf(manifest, sizeof manifest,
                          "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\","
                          "\"config\":{\"mediaType\":\"application/vnd.docker.container.image.v1+json\",\"size\":%d,"
                          "\"digest\":\"%s\"},\"layers\":["
                          "{\"mediaType\":\"application/vnd.docker.image.rootfs.diff.tar.gzip\",\"size\":%d,"
                          "\"digest\":\"%s\"},"
                          "{\"mediaType\":\"application/vnd.docker.image.rootfs.diff.tar.gzip\",\"size\":%d,"
                          "\"digest\":\"%s\"}]}",
                          cn, config_digest, (int)(sizeof shared - 1), w->shared_digest, ln, layer_digest);
        sha256_digest(manifest, (size_t)mn, w->digests[j]);
        char tag[32];
        snprintf(tag, sizeof tag, "t%d-%d", w->index, j);
        /* Each image gets its own tag, and "latest" moves to it. */
        req = json_pack("{s:s, s:s, s:s}", "repositoryName", w->repo, "imageManifest", manifest, "imageTag", tag);
        st = ecrmock_call(m, "PutImage", req, &r);
        if (st != 200 ||
            strcmp(json_string_value(json_object_get(json_object_get(json_object_get(r, "image"), "imageId"),
                                                     "imageDigest")),
                   w->digests[j]) != 0)
            worker_fail(w, "PutImage", st, r);
        json_decref(r);
        json_decref(req);
        req = json_pack("{s:s, s:s, s:s}", "repositoryName", w->repo, "imageManifest", manifest, "imageTag",
                        "latest");
        st = ecrmock_call(m, "PutImage", req, &r);
        if (st != 200)
            worker_fail(w, "PutImage latest", st, r);
        json_decref(r);
        json_decref(req);

        /* Listings, while the others write. */
        req = json_pack("{s:s, s:i}", "repositoryName", w->repo, "maxResults", 10);
        st = ecrmock_call(m, "ListImages", req, &r);
        if (st != 200 || json_array_size(json_object_get(r, "imageIds")) == 0)
            worker_fail(w, "ListImages", st, r);
        json_decref(r);
        json_decref(req);
        if (j % 10 == 0) {
            st = ecrmock_call(m, "DescribeRepositories", NULL, &r);
            if (st != 200 || json_array_size(json_object_get(r, "repositories")) < 1)
                worker_fail(w, "DescribeRepositories", st, r);
            json_decref(r);
        }
    }
    return NULL;
}

/* Every image of the repository with its tags, through paged ListImages:
 * returns a new object digest -> array of tags. */
static json_t *list_all(ecrmock *m, const char *repo)
{
    json_t *by_digest = json_object();
    char *token = NULL;
    do {
        json_t *req = json_pack("{s:s, s:i}", "repositoryName", repo, "maxResults", 7);
        if (token)
            json_object_set_new(req, "nextToken", json_string(token));
        free(token);
        token = NULL;
        json_t *r = NULL;
        assert_ok(ecrmock_call(m, "ListImages", req, &r), r);
        json_decref(req);
        size_t i;
        json_t *id;
        json_array_foreach(json_object_get(r, "imageIds"), i, id) {
            const char *d = str_at(id, "imageDigest");
            json_t *tags = json_object_get(by_digest, d);
            if (!tags) {
                tags = json_array();
                json_object_set_new(by_digest, d, tags);
            }
            if (json_object_get(id, "imageTag"))
                json_array_append(tags, json_object_get(id, "imageTag"));
        }
        if (json_object_get(r, "nextToken"))
            token = strdup(str_at(r, "nextToken"));
        json_decref(r);
    } while (token);
    return by_digest;
}

static void test_threads_share_one_instance(void **state)
{
    ecrmock *m = *state;
    static worker workers[N_THREADS];
    pthread_t threads[N_THREADS];
    for (int i = 0; i < N_THREADS; i++) {
        memset(&workers[i], 0, sizeof workers[i]);
        workers[i].m = m;
        workers[i].index = i;
        snprintf(workers[i].repo, sizeof workers[i].repo, "thread-%d", i);
        assert_int_equal(pthread_create(&threads[i], NULL, worker_run, &workers[i]), 0);
    }
    for (int i = 0; i < N_THREADS; i++)
        assert_int_equal(pthread_join(threads[i], NULL), 0);
    for (int i = 0; i < N_THREADS; i++)
        if (workers[i].failures)
            fail_msg("thread %d: %d failures, first: %s", i, workers[i].failures, workers[i].first_failure);

    assert_int_equal(repo_count(m, NULL), N_THREADS);
    for (int i = 0; i < N_THREADS; i++) {
        worker *w = &workers[i];
        json_t *by_digest = list_all(m, w->repo);
        /* Every image exactly once: the keys are the 50 distinct digests. */
        assert_int_equal(json_object_size(by_digest), N_IMAGES);
        size_t total_tags = 0;
        for (int j = 0; j < N_IMAGES; j++) {
            json_t *tags = json_object_get(by_digest, w->digests[j]);
            if (!tags)
                fail_msg("%s: image %d (%s) is missing", w->repo, j, w->digests[j]);
            char tag[32];
            snprintf(tag, sizeof tag, "t%d-%d", i, j);
            bool has_own = false, has_latest = false;
            size_t k;
            json_t *t;
            json_array_foreach(tags, k, t) {
                has_own = has_own || strcmp(json_string_value(t), tag) == 0;
                has_latest = has_latest || strcmp(json_string_value(t), "latest") == 0;
            }
            assert_true(has_own);
            /* "latest" moved with every push: it ends on the last image only. */
            assert_int_equal(has_latest, j == N_IMAGES - 1);
            assert_int_equal(json_array_size(tags), j == N_IMAGES - 1 ? 2 : 1);
            total_tags += json_array_size(tags);
        }
        assert_int_equal(total_tags, N_IMAGES + 1);
        json_decref(by_digest);

        /* Every tag points to an existing image: fetch each by tag. */
        json_t *ids = json_array();
        for (int j = 0; j < N_IMAGES; j++) {
            char tag[32];
            snprintf(tag, sizeof tag, "t%d-%d", i, j);
            json_array_append_new(ids, json_pack("{s:s}", "imageTag", tag));
        }
        json_array_append_new(ids, json_pack("{s:s}", "imageTag", "latest"));
        json_t *req = json_pack("{s:s, s:o}", "repositoryName", w->repo, "imageIds", ids);
        json_t *r = NULL;
        assert_ok(ecrmock_call(m, "BatchGetImage", req, &r), r);
        json_decref(req);
        assert_int_equal(json_array_size(json_object_get(r, "failures")), 0);
        assert_int_equal(json_array_size(json_object_get(r, "images")), N_IMAGES + 1);
        json_t *img;
        size_t k;
        json_array_foreach(json_object_get(r, "images"), k, img) {
            json_t *id = json_object_get(img, "imageId");
            const char *want = k < N_IMAGES ? w->digests[k] : w->digests[N_IMAGES - 1];
            assert_string_equal(str_at(id, "imageDigest"), want);
            /* The manifest stored is the one whose digest it is. */
            char computed[ECRMOCK_DIGEST_SIZE];
            json_t *mf = json_object_get(img, "imageManifest");
            sha256_digest(json_string_value(mf), json_string_length(mf), computed);
            assert_string_equal(computed, want);
        }
        json_decref(r);

        /* DescribeImages agrees on the count. */
        assert_ok(call(m, &r, "DescribeImages", "{\"repositoryName\":\"%s\",\"maxResults\":1000}", w->repo), r);
        assert_int_equal(json_array_size(json_object_get(r, "imageDetails")), N_IMAGES);
        json_decref(r);

        /* The shared layer is in every repository, same digest, same bytes. */
        assert_string_equal(w->shared_digest, workers[0].shared_digest);
        void *bytes = NULL;
        size_t len = 0;
        assert_int_equal(ecrmock_get_layer(m, NULL, w->repo, w->shared_digest, &bytes, &len, NULL), ECRMOCK_ERR_OK);
        assert_int_equal(len, strlen("a base layer every thread pushes"));
        assert_memory_equal(bytes, "a base layer every thread pushes", len);
        free(bytes);
    }
}

/* ---- a fixture load while another thread switches views --------------------- */

typedef struct view_switcher {
    ecrmock *m;
    volatile int stop; /* set by the loading thread; read under no lock: a test flag */
    pthread_mutex_t lock;
    atomic_ulong calls; /* read by the other thread while it runs: how far the switching got */
} view_switcher;

/* The switcher's calls so far, once it has made its first: the other
 * thread's loop runs from then on, and until the switcher has made `more`
 * calls beyond the number returned (overlap by construction, whatever the
 * scheduler does). */
static unsigned long switching(view_switcher *v)
{
    while (atomic_load(&v->calls) == 0)
        sched_yield();
    return atomic_load(&v->calls);
}

static void *switch_views(void *arg)
{
    view_switcher *v = arg;
    for (unsigned long i = 0;; i++) {
        pthread_mutex_lock(&v->lock);
        int stop = v->stop;
        pthread_mutex_unlock(&v->lock);
        if (stop)
            break;
        json_t *r = NULL;
        ecrmock_call_as(v->m, "210987654321", i % 2 ? "eu-west-1" : NULL, "DescribeRepositories", NULL, &r);
        json_decref(r);
        atomic_store(&v->calls, i + 1);
    }
    return NULL;
}

/* ecrmock_call_as() on one thread switches the instance's view while another
 * loads fixtures (at least 2,000 times, and while the switcher makes 200 calls): every load lands in the instance's own account and region
 * (issue 13: 873 of 2,000 loads went to the other account's registry). */
static void test_fixture_load_while_call_as_switches_views(void **state)
{
    ecrmock *m = *state;
    view_switcher v = {.m = m};
    pthread_mutex_init(&v.lock, NULL);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, switch_views, &v), 0);
    int wrong = 0, loads = 0;
    for (unsigned long from = switching(&v); loads < 2000 || atomic_load(&v.calls) < from + 200; loads++) {
        ecrmock_err err;
        if (ecrmock_fixture_load_string(m, "{\"registries\": [{\"repositories\": [{\"name\": \"mine\"}]}]}", "x.json",
                                        &err) != 0) {
            wrong++;
            continue;
        }
        json_t *r = NULL;
        ecrmock_call(m, "DescribeRepositories", NULL, &r);
        json_t *repo = json_array_get(json_object_get(r, "repositories"), 0);
        if (json_array_size(json_object_get(r, "repositories")) != 1 ||
            strcmp(str_at(repo, "registryId"), "123456789012") != 0 ||
            strcmp(str_at(repo, "repositoryArn"), "arn:aws:ecr:us-east-1:123456789012:repository/mine") != 0)
            wrong++;
        json_decref(r);
        json_t *snap = ecrmock_snapshot(m, NULL);
        if (strcmp(str_at(json_array_get(json_object_get(snap, "registries"), 0), "id"), "123456789012") != 0 ||
            json_object_get(snap, "regions"))
            wrong++;
        json_decref(snap);
    }
    pthread_mutex_lock(&v.lock);
    v.stop = 1;
    pthread_mutex_unlock(&v.lock);
    assert_int_equal(pthread_join(t, NULL), 0);
    pthread_mutex_destroy(&v.lock);
    if (wrong)
        fail_msg("%d of %d loads did not land in the instance's own registry (%lu calls on the other thread)", wrong,
                 loads, (unsigned long)atomic_load(&v.calls));
    /* Nor anywhere else. */
    json_t *r = NULL;
    assert_int_equal(ecrmock_call_as(m, "210987654321", "eu-west-1", "DescribeRepositories", NULL, &r), 200);
    assert_int_equal(json_array_size(json_object_get(r, "repositories")), 0);
    json_decref(r);
}

/* Attack: a control's "no repository" error while another thread's
 * ecrmock_call_as() switches the view.  The message's registry (the
 * caller's account) was read after the control let go of the lock: a data
 * race that `make tsan` reports every time, and now and then a message
 * naming the other thread's account, 210987654321. */
static void test_err_no_repo_while_call_as_switches_views(void **state)
{
    ecrmock *m = *state;
    view_switcher v = {.m = m};
    pthread_mutex_init(&v.lock, NULL);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, switch_views, &v), 0);
    int wrong = 0, tries = 0;
    char last[sizeof test_err.text] = "";
    for (unsigned long from = switching(&v); tries < 3000 || atomic_load(&v.calls) < from + 200; tries++) {
        ecrmock_err err;
        json_t *images = ecrmock_images(m, NULL, "missing", &err);
        char digest[ECRMOCK_DIGEST_SIZE];
        int put = ecrmock_put_layer(m, NULL, "missing", "a", 1, digest, &err);
        if (images || put != -1 ||
            strcmp(err.text, "no repository 'missing' in the registry '123456789012'") != 0) {
            wrong++;
            snprintf(last, sizeof last, "%s", err.text);
        }
        json_decref(images);
    }
    pthread_mutex_lock(&v.lock);
    v.stop = 1;
    pthread_mutex_unlock(&v.lock);
    assert_int_equal(pthread_join(t, NULL), 0);
    pthread_mutex_destroy(&v.lock);
    if (wrong)
        fail_msg("%d of %d errors named another registry (%lu calls on the other thread), the last: %s", wrong, tries,
                 (unsigned long)atomic_load(&v.calls), last);
}

/* ---- the ecrmock_err convention of the generic test controls ---------------------------------------- */

/* The clock: a failure fills code and text (path "": no document), NULL err
 * is accepted, success clears an err that held an old failure. */
static void test_err_convention_clock(void **state)
{
    ecrmock *m = *state;
    int64_t now = ecrmock_clock_now(m);
    assert_int_equal(ERR_CODE(ecrmock_clock_set(m, -1, &test_err)), ECRMOCK_ERR_INVALID_PARAMETER);
    assert_string_equal(test_err.path, "");
    assert_string_equal(test_err.text, "time -1 ms is outside 0..253402300799999 (1970 to the end of 9999)");
    assert_int_equal(ecrmock_clock_set(m, ECRMOCK_CLOCK_MAX_MS + 1, NULL), -1);
    assert_int_equal(ERR_CODE(ecrmock_clock_advance(m, INT64_MAX, &test_err)), ECRMOCK_ERR_INVALID_PARAMETER);
    assert_string_equal(test_err.text, "moving the clock from 1704067200000 ms by 9223372036854775807 ms leaves "
                                       "0..253402300799999 (1970 to the end of 9999)");
    assert_int_equal(ecrmock_clock_advance(m, INT64_MIN, NULL), -1);
    assert_int_equal(ecrmock_clock_now(m), now);
    assert_int_equal(ERR_CODE(ecrmock_clock_set(NULL, 0, &test_err)), ECRMOCK_ERR_INVALID_PARAMETER);
    assert_string_equal(test_err.text, "no instance (m is NULL)");
    assert_int_equal(ERR_CODE(ecrmock_clock_advance(NULL, 0, &test_err)), ECRMOCK_ERR_INVALID_PARAMETER);
    assert_int_equal(ERR_CODE(ecrmock_clock_set(m, 5, dirty_err())), ECRMOCK_ERR_OK);
    assert_int_equal(ERR_CODE(ecrmock_clock_advance(m, 5, dirty_err())), ECRMOCK_ERR_OK);
    assert_int_equal(ecrmock_clock_now(m), 10);
}

/* Layers: RepositoryNotFound and LayersNotFound as the control met them, a
 * bad argument as InvalidParameter, each with a sentence. */
/* A blob held by repositories of two registries goes when the last of
 * them does, in every order of their deletions: until then every remaining
 * repository reads its bytes, the instance keeps one blob of that digest
 * with a reference for each, and a repository's own blob goes with it. */
static void test_blobs_shared_unref_in_every_order(void **state)
{
    (void)state;
    static const struct {
        const char *registry, *name;
    } repos[] = {{NULL, "share/one"}, {NULL, "share/two"}, {"210987654321", "share/three"}};
    static const int orders[6][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
    static const char shared[] = "shared by all three", pair[] = "shared by one and two";
    char shared_d[ECRMOCK_DIGEST_SIZE], pair_d[ECRMOCK_DIGEST_SIZE], own_d[3][ECRMOCK_DIGEST_SIZE];
    for (size_t o = 0; o < 6; o++) {
        ecrmock *m = ecrmock_new(NULL);
        bool live[3] = {true, true, true};
        for (size_t r = 0; r < 3; r++) {
            if (repos[r].registry)
                call_ok(m, "CreateRepository", "{\"registryId\": \"%s\", \"repositoryName\": \"%s\"}", repos[r].registry,
                        repos[r].name);
            else
                create_repo(m, repos[r].name);
            char own[32];
            int len = snprintf(own, sizeof own, "own of %s", repos[r].name);
            assert_int_equal(ecrmock_put_layer(m, repos[r].registry, repos[r].name, own, (size_t)len, own_d[r], NULL), 0);
            assert_int_equal(
                ecrmock_put_layer(m, repos[r].registry, repos[r].name, shared, strlen(shared), shared_d, NULL), 0);
            if (r < 2)
                assert_int_equal(ecrmock_put_layer(m, repos[r].registry, repos[r].name, pair, strlen(pair), pair_d, NULL),
                                 0);
        }
        for (size_t k = 0; k <= 3; k++) {
            size_t left = 0;
            for (size_t r = 0; r < 3; r++) {
                left += live[r];
                em_blob *own = em_blob_get(m, own_d[r]);
                assert_true(live[r] ? own && own->refs == 1 : !own);
                if (!live[r])
                    continue;
                void *got = NULL;
                size_t got_len = 0;
                assert_int_equal(ecrmock_get_layer(m, repos[r].registry, repos[r].name, shared_d, &got, &got_len, NULL), 0);
                assert_int_equal(got_len, strlen(shared));
                assert_memory_equal(got, shared, got_len);
                ecrmock_buffer_free(got);
            }
            em_blob *b = em_blob_get(m, shared_d), *p = em_blob_get(m, pair_d);
            size_t pairs = (size_t)live[0] + live[1];
            assert_true(left ? b && b->refs == left : !b);
            assert_true(pairs ? p && p->refs == pairs : !p);
            assert_int_equal(m->blobs.count, left + (left > 0) + (pairs > 0));
            if (k == 3)
                break;
            int r = orders[o][k];
            if (repos[r].registry)
                call_ok(m, "DeleteRepository", "{\"registryId\": \"%s\", \"repositoryName\": \"%s\", \"force\": true}",
                        repos[r].registry, repos[r].name);
            else
                call_ok(m, "DeleteRepository", "{\"repositoryName\": \"%s\", \"force\": true}", repos[r].name);
            live[r] = false;
        }
        ecrmock_free(m);
    }
}

static void test_err_convention_layers(void **state)
{
    ecrmock *m = *state;
    char digest[ECRMOCK_DIGEST_SIZE];
    assert_int_equal(ERR_CODE(ecrmock_put_layer(m, NULL, "web", "a", 1, digest, &test_err)),
                     ECRMOCK_ERR_REPOSITORY_NOT_FOUND);
    assert_string_equal(test_err.path, "");
    assert_string_equal(test_err.text, "no repository 'web' in the registry '123456789012'");
    assert_int_equal(ecrmock_put_layer(m, NULL, "web", "a", 1, digest, NULL), -1);
    assert_int_equal(ERR_CODE(ecrmock_put_layer(m, "12", "web", "a", 1, digest, &test_err)),
                     ECRMOCK_ERR_INVALID_PARAMETER);
    assert_string_equal(test_err.text, "registry id '12' is not 12 digits");
    assert_int_equal(ERR_CODE(ecrmock_put_layer(m, NULL, "", "a", 1, digest, &test_err)),
                     ECRMOCK_ERR_INVALID_PARAMETER);
    assert_string_equal(test_err.text, "the repository name must be a non-empty string");
    assert_int_equal(ERR_CODE(ecrmock_put_layer(m, NULL, "web", NULL, 3, digest, &test_err)),
                     ECRMOCK_ERR_INVALID_PARAMETER);
    assert_string_equal(test_err.text, "bytes is NULL but len is 3");
    create_repo(m, "web");
    assert_int_equal(ERR_CODE(ecrmock_put_layer(m, NULL, "web", "abc", 3, digest, dirty_err())), ECRMOCK_ERR_OK);

    void *bytes = (void *)1;
    size_t len = 7;
    const char *absent = "sha256:0000000000000000000000000000000000000000000000000000000000000000";
    assert_int_equal(ERR_CODE(ecrmock_get_layer(m, NULL, "web", absent, &bytes, &len, &test_err)),
                     ECRMOCK_ERR_LAYERS_NOT_FOUND);
    assert_null(bytes);
    assert_int_equal(len, 0);
    assert_string_equal(test_err.text, "no layer 'sha256:0000000000000000000000000000000000000000000000000000000000000000'"
                                       " in the repository 'web'");
    assert_int_equal(ERR_CODE(ecrmock_get_layer(m, NULL, "gone", digest, &bytes, &len, &test_err)),
                     ECRMOCK_ERR_REPOSITORY_NOT_FOUND);
    assert_string_equal(test_err.text, "no repository 'gone' in the registry '123456789012'");
    assert_int_equal(ERR_CODE(ecrmock_get_layer(m, NULL, "web", "nope", &bytes, &len, &test_err)),
                     ECRMOCK_ERR_INVALID_PARAMETER);
    assert_string_equal(test_err.text, "digest 'nope' is not of the form \"algorithm:hex\"");
    assert_int_equal(ERR_CODE(ecrmock_get_layer(m, NULL, "web", digest, NULL, &len, &test_err)),
                     ECRMOCK_ERR_INVALID_PARAMETER);
    assert_string_equal(test_err.text, "bytes_out and len_out must not be NULL");
    assert_int_equal(ecrmock_get_layer(m, NULL, "web", absent, &bytes, &len, NULL), -1);
    assert_int_equal(ERR_CODE(ecrmock_get_layer(m, NULL, "web", digest, &bytes, &len, dirty_err())), ECRMOCK_ERR_OK);
    assert_int_equal(len, 3);
    assert_memory_equal(bytes, "abc", 3);
    free(bytes);
}

/* ecrmock_images: NULL with RepositoryNotFound for no such repository (an
 * empty repository reads as [], not as an error). */
static void test_err_convention_images(void **state)
{
    ecrmock *m = *state;
    assert_null(ecrmock_images(m, NULL, "web", &test_err));
    assert_int_equal(ERR_CODE(-1), ECRMOCK_ERR_REPOSITORY_NOT_FOUND);
    assert_string_equal(test_err.path, "");
    assert_string_equal(test_err.text, "no repository 'web' in the registry '123456789012'");
    assert_null(ecrmock_images(m, "210987654321", "web", NULL));
    assert_null(ecrmock_images(m, NULL, NULL, &test_err));
    assert_int_equal(ERR_CODE(-1), ECRMOCK_ERR_INVALID_PARAMETER);
    assert_string_equal(test_err.text, "the repository name must be a non-empty string");
    assert_null(ecrmock_images(NULL, NULL, "web", &test_err));
    assert_int_equal(ERR_CODE(-1), ECRMOCK_ERR_INVALID_PARAMETER);
    assert_string_equal(test_err.text, "no instance (m is NULL)");
    create_repo(m, "web");
    json_t *list = ecrmock_images(m, NULL, "web", dirty_err());
    assert_non_null(list);
    assert_int_equal(ERR_CODE(0), ECRMOCK_ERR_OK);
    assert_int_equal(json_array_size(list), 0);
    json_decref(list);
}

/* The journal and the snapshot: an entry that is not there, or no instance. */
static void test_err_convention_journal_snapshot(void **state)
{
    ecrmock *m = *state;
    assert_null(ecrmock_journal_entry(m, 0, &test_err));
    assert_int_equal(ERR_CODE(-1), ECRMOCK_ERR_INVALID_PARAMETER);
    assert_string_equal(test_err.path, "");
    assert_string_equal(test_err.text, "no journal entry 0: the journal holds 0");
    call_ok(m, "DescribeRegistry", "{}");
    assert_null(ecrmock_journal_entry(m, -2, &test_err));
    assert_string_equal(test_err.text, "no journal entry -2: the journal holds 1");
    assert_null(ecrmock_journal_entry(m, 1, NULL));
    json_t *e = ecrmock_journal_entry(m, -1, dirty_err());
    assert_non_null(e);
    assert_int_equal(ERR_CODE(0), ECRMOCK_ERR_OK);
    json_decref(e);
    assert_null(ecrmock_journal_json(NULL, &test_err));
    assert_int_equal(ERR_CODE(-1), ECRMOCK_ERR_INVALID_PARAMETER);
    assert_string_equal(test_err.text, "no instance (m is NULL)");
    json_t *all = ecrmock_journal_json(m, dirty_err());
    assert_int_equal(json_array_size(all), 1);
    assert_int_equal(ERR_CODE(0), ECRMOCK_ERR_OK);
    json_decref(all);
    assert_null(ecrmock_snapshot(NULL, &test_err));
    assert_int_equal(ERR_CODE(-1), ECRMOCK_ERR_INVALID_PARAMETER);
    assert_null(ecrmock_snapshot(NULL, NULL));
    json_t *snap = ecrmock_snapshot(m, dirty_err());
    assert_non_null(snap);
    assert_int_equal(ERR_CODE(0), ECRMOCK_ERR_OK);
    json_decref(snap);
}

/* Whether s is UTF-8 (the rules of jansson: it loads it back as a string). */
static bool is_utf8(const char *s)
{
    json_t *j = json_string(s);
    json_decref(j);
    return j != NULL;
}

/* The seeded streams (em_random, em_request_random, the faults' draws) give
 * these bytes for seed 7, whatever the code that computes them: a run
 * recorded with a seed replays the same ids and the same faults. */
static void test_seeded_streams_are_pinned(void **state)
{
    (void)state;
    ecrmock_options o = ECRMOCK_OPTIONS_INIT;
    o.seed = 7;
    ecrmock *m = ecrmock_new(&o);
    ecrmock_http_response r;
    assert_int_equal(http_post(m, &r, "DescribeRepositories", "{}", NULL), 200);
    const char *request_id = ecrmock_http_response_header(&r, "x-amzn-RequestId");
    assert_non_null(request_id);
    assert_string_equal(request_id, "ab0142af-dd4a-462f-8023-9d07781ab752");
    ecrmock_http_response_release(&r);
    create_repo(m, "web");
    char upload[64];
    initiate_upload(m, "web", upload);
    assert_string_equal(upload, "76108f84-396d-42d7-ace2-75fdb0e0ef37");
    add_fault(m, "{\"action\": \"GetAuthorizationToken\", \"probability\": 0.5}");
    char pattern[33] = "";
    for (int i = 0; i < 32; i++) {
        json_t *resp = NULL;
        pattern[i] = call(m, &resp, "GetAuthorizationToken", "{}") == 200 ? '.' : 'X';
        json_decref(resp);
    }
    assert_string_equal(pattern, ".X.X.XXXXX..X..XX..XXXXXXX.....X");
    ecrmock_free(m);
}


/* Attack: an ecrmock_err whose buffers must cut.  A 10 KB source name
 * filled err.path, the JSON path cut off (the part a person needs), and a
 * cut, or a "%.200s" of a caller's string, could end inside a character:
 * err.path and err.text were not UTF-8. */
static void test_err_long_source_keeps_json_path(void **state)
{
    ecrmock *m = *state;
    char *source = malloc(10001);
    assert_non_null(source);
    for (size_t i = 0; i + 4 <= 10000; i += 4)
        memcpy(source + i, "dir/", 4);
    strcpy(source + 10000 - strlen("/team.json"), "/team.json");
    assert_int_equal(ERR_CODE(ecrmock_fixture_load_string(m, "{\"bogus\": 1}", source, &test_err)),
                     ECRMOCK_ERR_INVALID_PARAMETER);
    assert_int_equal(strncmp(test_err.path, "...", 3), 0);
    const char *tail = "/team.json: $.bogus";
    assert_string_equal(test_err.path + strlen(test_err.path) - strlen(tail), tail);
    /* a source of two-byte characters: cut between characters */
    for (size_t i = 0; i + 2 <= 10000; i += 2)
        memcpy(source + i, "\xc3\xa9", 2);
    source[10000] = '\0';
    assert_int_equal(ERR_CODE(ecrmock_fixture_load_string(m, "{\"bogus\": 1}", source, &test_err)),
                     ECRMOCK_ERR_INVALID_PARAMETER);
    assert_true(is_utf8(test_err.path));
    tail = "\xc3\xa9: $.bogus";
    assert_string_equal(test_err.path + strlen(test_err.path) - strlen(tail), tail);
    free(source);
    /* a JSON path too long itself (a member name of 150 characters, found
     * by fuzz_fixture): a short source stays whole, the path keeps its start
     * and its end */
    char doc[400] = "{\"registries\": [{\"repositories\": [{\"";
    for (int i = 0; i < 150; i++)
        strcat(doc, "$");
    strcat(doc, "\": 1}]}]}");
    assert_int_equal(ERR_CODE(ecrmock_fixture_load_string(m, doc, "team.json", &test_err)),
                     ECRMOCK_ERR_INVALID_PARAMETER);
    assert_int_equal(strncmp(test_err.path, "team.json: $.registries[0].repositories[0].$$$", 46), 0);
    assert_non_null(strstr(test_err.path, "$...$"));
    assert_string_equal(test_err.path + strlen(test_err.path) - 3, "$$$");
    assert_true(strlen(test_err.path) < sizeof test_err.path);
    /* a text that quotes "%.200s" of a caller's string, cut inside a character */
    char url[600] = "ftp://x";
    for (size_t i = strlen(url); i + 2 < sizeof url; i += 2)
        memcpy(url + i, "\xc3\xa9", 3);
    assert_int_equal(ERR_CODE(ecrmock_http_base_url_set(m, url, &test_err)), ECRMOCK_ERR_INVALID_PARAMETER);
    assert_true(is_utf8(test_err.text));
    assert_non_null(strstr(test_err.text, "\xef\xbf\xbd' does not start with http:// or https://"));
    /* a caller's Latin-1 quoted back: each bad byte as U+FFFD */
    assert_int_equal(ERR_CODE(ecrmock_http_base_url_set(m, "caf\xe9", &test_err)), ECRMOCK_ERR_INVALID_PARAMETER);
    assert_string_equal(test_err.text, "base URL 'caf\xef\xbf\xbd' does not start with http:// or https://");
}

/* ecrmock_options_set(): the limits change from the next call on; the
 * fixed fields are refused when they differ, kept when left 0. */
static void test_options_set_limits_and_fixed_fields(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "one");
    ecrmock_options o = ECRMOCK_OPTIONS_INIT;
    o.max_repositories = 2;
    o.min_part_size = 1024; /* setup_mock's */
    ecrmock_err err;
    assert_int_equal(ecrmock_options_set(m, &o, &err), 0);
    assert_int_equal(err.code, ECRMOCK_ERR_OK);
    create_repo(m, "two");
    json_t *r = NULL;
    assert_int_equal(call(m, &r, "CreateRepository", "{\"repositoryName\":\"three\"}"), 400);
    assert_string_equal(err_type(r), "LimitExceededException");
    json_decref(r);

    /* a fixed field: refused when it differs, nothing changed */
    o.max_repositories = 3;
    o.account_id = "111122223333";
    assert_int_equal(ecrmock_options_set(m, &o, &err), -1);
    assert_int_equal(err.code, ECRMOCK_ERR_INVALID_PARAMETER);
    assert_string_equal(err.path, "");
    assert_string_equal(err.text, "ecrmock_options.account_id is fixed when the instance is made (as are the "
                                  "account, the region, the clock's start, the seed and the journal's limit): "
                                  "make another instance for another");
    assert_int_equal(call(m, &r, "CreateRepository", "{\"repositoryName\":\"three\"}"), 400);
    json_decref(r);
    o.account_id = ECRMOCK_DEFAULT_ACCOUNT; /* the instance's own: fine */
    o.journal_limit = 10000;
    o.seed = 0;
    assert_int_equal(ecrmock_options_set(m, &o, &err), 0);
    create_repo(m, "three");
    o.seed = 7;
    assert_int_equal(ecrmock_options_set(m, &o, &err), -1);
    assert_string_equal(err.text, "ecrmock_options.seed is fixed when the instance is made (as are the account, "
                                  "the region, the clock's start, the seed and the journal's limit): make another "
                                  "instance for another");
    o.seed = 0;
    o.token_length = 5;
    assert_int_equal(ecrmock_options_set(m, &o, &err), -1);
    assert_string_equal(err.text, "ecrmock_options.token_length must be 512 to 65536 characters (0 means ECR's 2368)");
    /* 0: the default again */
    ecrmock_options d = ECRMOCK_OPTIONS_INIT;
    assert_int_equal(ecrmock_options_set(m, &d, &err), 0);
    create_repo(m, "four");
    assert_int_equal(ecrmock_options_set(NULL, &d, &err), -1);
    assert_int_equal(ecrmock_options_set(m, NULL, &err), -1);
    assert_string_equal(err.text, "ecrmock_options_set: m and o must not be NULL");
}

/* ---- clock modes ------------------------------------------------------------------ */

/* The system clock in ms, read here apart from the library. */
static int64_t system_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

/* now lies between what the system clock said before and after, plus `offset`. */
#define assert_wall_now(m, offset, before)                                                                         \
    do {                                                                                                           \
        int64_t now_ = ecrmock_clock_now(m), after_ = system_ms();                                                 \
        assert_true(now_ >= (before) + (offset));                                                                  \
        assert_true(now_ <= after_ + (offset));                                                                    \
    } while (0)

/* Pinned by default; wall mode follows the system clock, and set and
 * advance move its offset, from which it runs on; pinning keeps the time. */
static void test_clock_mode_wall_runs_from_offset(void **state)
{
    ecrmock *m = *state;
    assert_int_equal(ecrmock_clock_mode_get(m), ECRMOCK_CLOCK_PINNED);
    int64_t before = system_ms();
    ecrmock_err err;
    assert_int_equal(ecrmock_clock_mode_set(m, ECRMOCK_CLOCK_WALL, &err), 0);
    assert_int_equal(err.code, ECRMOCK_ERR_OK);
    assert_int_equal(ecrmock_clock_mode_get(m), ECRMOCK_CLOCK_WALL);
    assert_wall_now(m, 0, before);
    /* it runs */
    int64_t t0 = ecrmock_clock_now(m);
    sleep_ms(30);
    assert_true(ecrmock_clock_now(m) >= t0 + 30);

    before = system_ms();
    assert_int_equal(ecrmock_clock_advance(m, 3600000, &err), 0);
    assert_wall_now(m, 3600000, before);
    sleep_ms(20);
    assert_wall_now(m, 3600000, before + 20); /* still an hour ahead, and running */

    before = system_ms();
    assert_int_equal(ecrmock_clock_set(m, INT64_C(1893456000000), &err), 0); /* 2030-01-01 */
    int64_t offset = INT64_C(1893456000000) - before;
    int64_t now = ecrmock_clock_now(m);
    assert_true(now >= INT64_C(1893456000000) && now <= system_ms() + offset);

    /* calls read it: a repository created now says so */
    json_t *r = NULL;
    assert_ok(call(m, &r, "CreateRepository", "{\"repositoryName\":\"walled\"}"), r);
    double created = json_number_value(json_object_get(repository_of(r), "createdAt"));
    assert_true(created >= 1893456000.0 && created <= (double)(system_ms() + offset) / 1000.0);
    json_decref(r);

    /* pinned: the clock stays where it was */
    assert_int_equal(ecrmock_clock_mode_set(m, ECRMOCK_CLOCK_PINNED, &err), 0);
    int64_t pinned = ecrmock_clock_now(m);
    assert_true(pinned >= INT64_C(1893456000000));
    sleep_ms(20);
    assert_true(ecrmock_clock_now(m) == pinned);

    /* back to wall: the offset is gone */
    before = system_ms();
    assert_int_equal(ecrmock_clock_mode_set(m, ECRMOCK_CLOCK_WALL, NULL), 0);
    assert_wall_now(m, 0, before);

    /* a range refusal leaves the offset */
    assert_int_equal(ecrmock_clock_advance(m, -before - 1000, &err), -1);
    assert_int_equal(err.code, ECRMOCK_ERR_INVALID_PARAMETER);
    assert_wall_now(m, 0, before);
}

static void test_clock_mode_refusals(void **state)
{
    ecrmock *m = *state;
    ecrmock_err err;
    assert_int_equal(ecrmock_clock_mode_set(m, (ecrmock_clock_mode)2, &err), -1);
    assert_int_equal(err.code, ECRMOCK_ERR_INVALID_PARAMETER);
    assert_string_equal(err.text, "clock mode 2 is neither ECRMOCK_CLOCK_PINNED nor ECRMOCK_CLOCK_WALL");
    assert_int_equal(ecrmock_clock_mode_set(m, (ecrmock_clock_mode)-1, NULL), -1);
    assert_int_equal(ecrmock_clock_mode_get(m), ECRMOCK_CLOCK_PINNED);
    assert_true(ecrmock_clock_now(m) == ECRMOCK_DEFAULT_CLOCK_MS);
    assert_int_equal(ecrmock_clock_mode_set(NULL, ECRMOCK_CLOCK_WALL, &err), -1);
    assert_string_equal(err.text, "no instance (m is NULL)");
    assert_int_equal(ecrmock_clock_mode_get(NULL), ECRMOCK_CLOCK_PINNED);
}

/* ecrmock_reset() keeps the mode: a wall clock's offset goes back to 0. */
static void test_clock_mode_kept_by_reset(void **state)
{
    ecrmock *m = *state;
    assert_int_equal(ecrmock_clock_mode_set(m, ECRMOCK_CLOCK_WALL, NULL), 0);
    assert_int_equal(ecrmock_clock_advance(m, -86400000, NULL), 0);
    int64_t before = system_ms();
    ecrmock_reset(m);
    assert_int_equal(ecrmock_clock_mode_get(m), ECRMOCK_CLOCK_WALL);
    assert_wall_now(m, 0, before);
}

/* A latency rule moves a wall clock's offset: the time it took stays taken
 * after the call (it used to move only the call's own reading of now). */
static void test_clock_wall_latency_rule_stays(void **state)
{
    ecrmock *m = *state;
    assert_int_equal(ecrmock_clock_mode_set(m, ECRMOCK_CLOCK_WALL, NULL), 0);
    assert_true(add_fault(m, "{\"action\":\"DescribeRepositories\",\"effect\":\"latency\",\"latencyMs\":7200000}") > 0);
    int64_t before = system_ms();
    json_t *r = NULL;
    assert_ok(call(m, &r, "DescribeRepositories", "{}"), r);
    json_decref(r);
    assert_wall_now(m, 7200000, before);
}

/* A fixture's clock wins in wall mode too: the clock runs on from it; a
 * fixture without one leaves the clock alone. */
static void test_clock_wall_fixture_clock_wins(void **state)
{
    ecrmock *m = *state;
    assert_int_equal(ecrmock_clock_mode_set(m, ECRMOCK_CLOCK_WALL, NULL), 0);
    int64_t before = system_ms();
    ecrmock_err err;
    assert_int_equal(ecrmock_fixture_load_string(m, "{\"clock\":\"2030-01-01T00:00:00Z\"}", "t", &err), 0);
    int64_t offset = INT64_C(1893456000000) - before;
    int64_t now = ecrmock_clock_now(m);
    assert_true(now >= INT64_C(1893456000000) && now <= system_ms() + offset);
    assert_int_equal(ecrmock_clock_mode_get(m), ECRMOCK_CLOCK_WALL);
    sleep_ms(20);
    assert_true(ecrmock_clock_now(m) >= now + 20);

    assert_int_equal(ecrmock_clock_mode_set(m, ECRMOCK_CLOCK_WALL, NULL), 0);
    before = system_ms();
    assert_int_equal(ecrmock_fixture_load_string(m, "{}", "t", &err), 0);
    assert_wall_now(m, 0, before);
}

/* Many threads reading a wall clock while others move it, change the
 * options and load fixtures (TSan's). */
static void *clock_mover(void *arg)
{
    ecrmock *m = arg;
    ecrmock_options o = ECRMOCK_OPTIONS_INIT;
    for (int i = 0; i < 200; i++) {
        ecrmock_clock_advance(m, 1000, NULL);
        call_ok(m, "DescribeRepositories", "{}");
        (void)ecrmock_clock_now(m);
        o.max_repositories = 10 + (uint64_t)(i % 3);
        assert_int_equal(ecrmock_options_set(m, &o, NULL), 0);
        assert_int_equal(ecrmock_fixture_load_string(m, "{}", "t", NULL), 0);
    }
    return NULL;
}

static void test_clock_wall_threads(void **state)
{
    ecrmock *m = *state;
    assert_int_equal(ecrmock_clock_mode_set(m, ECRMOCK_CLOCK_WALL, NULL), 0);
    int64_t before = system_ms();
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, clock_mover, m), 0);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    assert_wall_now(m, 800000, before);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup_mock, teardown_mock)
    const struct CMUnitTest tests[] = {
        T(test_err_convention_clock),
        cmocka_unit_test(test_seeded_streams_are_pinned),
        T(test_err_convention_layers),
        T(test_blobs_shared_unref_in_every_order),
        T(test_err_convention_images),
        T(test_err_convention_journal_snapshot),
        T(test_err_long_source_keeps_json_path),
        T(test_new_null_options_defaults),
        T(test_new_options_init_same_as_null),
        T(test_new_options_take_effect),
        T(test_options_check_accepts_defaults),
        T(test_options_check_wrong_version),
        T(test_options_check_bad_account),
        T(test_options_check_bad_region),
        T(test_options_check_negative_lifetime_and_clock),
        T(test_options_version_1_struct_reads_no_further),
        T(test_options_every_option_round_trips),
        T(test_options_from_json_refusals),
        T(test_options_from_json_refuses_nul),
        cmocka_unit_test(test_options_table_in_readme),
        cmocka_unit_test(test_buffer_free_uses_the_allocator),
        T(test_free_null_is_noop),
        T(test_reset_empties_and_rewinds),
        T(test_reset_rewinds_to_configured_clock),
        T(test_clock_range),
        T(test_clock_set_advance_now),
        T(test_options_set_limits_and_fixed_fields),
        T(test_clock_mode_wall_runs_from_offset),
        T(test_clock_mode_refusals),
        T(test_clock_mode_kept_by_reset),
        T(test_clock_wall_latency_rule_stays),
        T(test_clock_wall_fixture_clock_wins),
        T(test_clock_wall_threads),
        T(test_call_null_arguments),
        T(test_call_null_request_is_empty_object),
        T(test_call_request_borrowed),
        T(test_instances_independent),
        T(test_threads_share_one_instance),
        T(test_fixture_load_while_call_as_switches_views),
        T(test_err_no_repo_while_call_as_switches_views),
    };
#undef T
    return cmocka_run_group_tests_name("instance", tests, NULL, NULL);
}
