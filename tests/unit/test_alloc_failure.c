#define _GNU_SOURCE
/*
 * Failure atomicity under allocation failure: a full push/pull flow where,
 * for every N, the Nth allocation (ecrmock's own and jansson's) fails.  Each
 * call must either succeed or fail cleanly (500 ServerException, or -1 when
 * not even the error document could be made), never crash, never leak, and
 * never leave the state half-changed: the snapshot after a failed call is
 * the snapshot before it, and the same call then succeeds.
 */
#include <stdbool.h>
#include <string.h>

#include "helpers.h"
#include "store/store.h" /* the blob store (m->blobs) */

static long fail_at = -1; /* the allocation that fails; -1: none */
static long allocations;
static int decoding;      /* inside jansson's decoder or encoder */

/*
 * jansson 2.14's decoder and encoder are not safe when an allocation fails:
 * with the 4th allocation of json_loadb() failing it reads and writes out of
 * bounds (valgrind shows it), earlier failures return NULL with no error
 * set, and json_dumps() with its 4th allocation failing returns text with
 * an object key silently dropped.  So allocations inside jansson's decoder
 * and encoder are never failed: the test binary is linked with --wrap for
 * them (see the Makefile), and the wrappers below mark their allocations.
 * Every other allocation, ecrmock's own and jansson's (objects, arrays,
 * strings, json_pack), is failed in turn.
 */
json_t *__real_json_loadb(const char *buffer, size_t buflen, size_t flags, json_error_t *error);
json_t *__real_json_loads(const char *input, size_t flags, json_error_t *error);
json_t *__real_json_load_file(const char *path, size_t flags, json_error_t *error);
json_t *__wrap_json_loadb(const char *buffer, size_t buflen, size_t flags, json_error_t *error);
json_t *__wrap_json_loads(const char *input, size_t flags, json_error_t *error);
json_t *__wrap_json_load_file(const char *path, size_t flags, json_error_t *error);
json_t *__real_json_loadf(FILE *input, size_t flags, json_error_t *error);
json_t *__wrap_json_loadf(FILE *input, size_t flags, json_error_t *error);

json_t *__wrap_json_loadf(FILE *input, size_t flags, json_error_t *error)
{
    decoding++;
    json_t *j = __real_json_loadf(input, flags, error);
    decoding--;
    return j;
}

json_t *__wrap_json_loadb(const char *buffer, size_t buflen, size_t flags, json_error_t *error)
{
    decoding++;
    json_t *j = __real_json_loadb(buffer, buflen, flags, error);
    decoding--;
    return j;
}

json_t *__wrap_json_loads(const char *input, size_t flags, json_error_t *error)
{
    decoding++;
    json_t *j = __real_json_loads(input, flags, error);
    decoding--;
    return j;
}

json_t *__wrap_json_load_file(const char *path, size_t flags, json_error_t *error)
{
    decoding++;
    json_t *j = __real_json_load_file(path, flags, error);
    decoding--;
    return j;
}

int __real_json_dump_callback(const json_t *json, json_dump_callback_t callback, void *data, size_t flags);
char *__real_json_dumps(const json_t *json, size_t flags);
int __wrap_json_dump_callback(const json_t *json, json_dump_callback_t callback, void *data, size_t flags);
char *__wrap_json_dumps(const json_t *json, size_t flags);

int __wrap_json_dump_callback(const json_t *json, json_dump_callback_t callback, void *data, size_t flags)
{
    decoding++;
    int r = __real_json_dump_callback(json, callback, data, flags);
    decoding--;
    return r;
}

char *__wrap_json_dumps(const json_t *json, size_t flags)
{
    decoding++;
    char *s = __real_json_dumps(json, flags);
    decoding--;
    return s;
}

static bool should_fail(void)
{
    return fail_at >= 0 && !decoding && ++allocations == fail_at;
}

static void *failing_malloc(size_t n)
{
    return should_fail() ? NULL : malloc(n);
}

static void *failing_realloc(void *p, size_t n)
{
    return should_fail() ? NULL : realloc(p, n);
}

static void failing_free(void *p)
{
    free(p);
}

typedef struct flow {
    char upload[64];
    char layer[ECRMOCK_DIGEST_SIZE];
    char config[ECRMOCK_DIGEST_SIZE];
    char image[ECRMOCK_DIGEST_SIZE];
    char manifest[2048];
} flow;

/* The request of step i, with the values earlier steps produced. */
static json_t *step_request(int i, flow *f, const char **action)
{
    switch (i) {
    case 0: *action = "CreateRepository";
        return json_pack("{s:s, s:[{s:s, s:s}]}", "repositoryName", "team/web", "tags", "Key", "team", "Value", "web");
    case 1: *action = "SetRepositoryPolicy";
        return json_pack("{s:s, s:s}", "repositoryName", "team/web", "policyText",
                         "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"ecr:*\"}]}");
    case 2: *action = "InitiateLayerUpload";
        return json_pack("{s:s}", "repositoryName", "team/web");
    case 3: *action = "UploadLayerPart";
        return json_pack("{s:s, s:s, s:i, s:i, s:s}", "repositoryName", "team/web", "uploadId", f->upload, "partFirstByte",
                         0, "partLastByte", 4, "layerPartBlob", "aGVsbG8="); /* "hello" */
    case 4: *action = "UploadLayerPart";
        return json_pack("{s:s, s:s, s:i, s:i, s:s}", "repositoryName", "team/web", "uploadId", f->upload, "partFirstByte",
                         5, "partLastByte", 10, "layerPartBlob", "IHdvcmxk"); /* " world" */
    case 5: *action = "CompleteLayerUpload";
        return json_pack("{s:s, s:s, s:[s]}", "repositoryName", "team/web", "uploadId", f->upload, "layerDigests",
                         f->layer);
    case 6: *action = "BatchCheckLayerAvailability";
        return json_pack("{s:s, s:[s, s]}", "repositoryName", "team/web", "layerDigests", f->layer,
                         "sha256:0000000000000000000000000000000000000000000000000000000000000000");
    case 7: *action = "PutImage";
        return json_pack("{s:s, s:s, s:s}", "repositoryName", "team/web", "imageManifest", f->manifest, "imageTag", "v1");
    case 8: *action = "PutImage"; /* a second tag on the same image */
        return json_pack("{s:s, s:s, s:s}", "repositoryName", "team/web", "imageManifest", f->manifest, "imageTag",
                         "latest");
    case 9: *action = "BatchGetImage";
        return json_pack("{s:s, s:[{s:s}, {s:s}]}", "repositoryName", "team/web", "imageIds", "imageTag", "v1",
                         "imageTag", "nope");
    case 10: *action = "DescribeImages";
        return json_pack("{s:s}", "repositoryName", "team/web");
    case 11: *action = "ListImages";
        return json_pack("{s:s, s:i}", "repositoryName", "team/web", "maxResults", 1);
    case 12: *action = "DescribeRepositories";
        return json_pack("{}");
    case 13: *action = "GetDownloadUrlForLayer";
        return json_pack("{s:s, s:s}", "repositoryName", "team/web", "layerDigest", f->layer);
    case 14: *action = "GetAuthorizationToken";
        return json_pack("{}");
    case 15: *action = "GetRepositoryPolicy";
        return json_pack("{s:s}", "repositoryName", "team/web");
    case 16: *action = "BatchDeleteImage";
        return json_pack("{s:s, s:[{s:s}]}", "repositoryName", "team/web", "imageIds", "imageTag", "v1");
    case 17: *action = "DeleteRepositoryPolicy";
        return json_pack("{s:s}", "repositoryName", "team/web");
    case 18: *action = "DeleteRepository";
        return json_pack("{s:s, s:b}", "repositoryName", "team/web", "force", 1);
    default: return NULL;
    }
}

/* Records what step i produced for later steps. */
static void step_result(int i, flow *f, json_t *resp)
{
    if (i == 2)
        snprintf(f->upload, sizeof f->upload, "%s", json_string_value(json_object_get(resp, "uploadId")));
}

/* Calls at the JSON or the wire level; returns the status and the response. */
static int do_call(ecrmock *m, bool wire, const char *action, json_t *req, json_t **resp)
{
    if (!wire)
        return ecrmock_call(m, action, req, resp);
    *resp = NULL;
    char *body = json_dumps(req, JSON_COMPACT);
    if (!body)
        return -1;
    char *out = NULL;
    size_t len = 0;
    int status = ecrmock_call_raw(m, action, body, strlen(body), &out, &len);
    free(body);
    if (out) {
        *resp = json_loadb(out, len, 0, NULL);
        free(out);
        if (!*resp)
            return -2; /* a body that is not JSON: fails the test */
    }
    return status;
}

static void run_flow(bool wire)
{
    ecrmock_options o = ECRMOCK_OPTIONS_INIT;
    o.min_part_size = 4;
    ecrmock *m = ecrmock_new(&o);
    assert_non_null(m);
    flow f = {0};
    /* The config blob goes in through the setup helper, the layer through the wire. */
    const char *config = "{\"os\":\"linux\"}";
    assert_int_equal(ERR_CODE(ecrmock_put_layer(m, NULL, "team/web", config, strlen(config), NULL, &test_err)),
                     ECRMOCK_ERR_REPOSITORY_NOT_FOUND);
    long failures = 0;
    for (int i = 0;; i++) {
        const char *action = NULL;
        if (i == 1) {
            assert_int_equal(ecrmock_put_layer(m, NULL, "team/web", config, strlen(config), f.config, NULL), ECRMOCK_ERR_OK);
            strcpy(f.layer, "sha256:b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"); /* "hello world" */
            snprintf(f.manifest, sizeof f.manifest,
                     "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\","
                     "\"config\":{\"mediaType\":\"application/vnd.docker.container.image.v1+json\",\"size\":%zu,"
                     "\"digest\":\"%s\"},\"layers\":[{\"mediaType\":\"application/vnd.docker.image.rootfs.diff.tar.gzip\","
                     "\"size\":11,\"digest\":\"%s\"}]}",
                     strlen(config), f.config, f.layer);
        }
        json_t *req = step_request(i, &f, &action);
        if (!req)
            break;
        for (long n = 1;; n++) {
            json_t *before = ecrmock_snapshot(m, NULL);
            json_t *resp = NULL;
            allocations = 0;
            fail_at = n;
            int status = do_call(m, wire, action, req, &resp);
            bool injected = allocations >= n;
            fail_at = -1;
            if (!injected) {
                /* No allocation failed: the call must have done its work. */
                if (status != 200)
                    fail_msg("step %d %s: %d %s: %s", i, action, status, err_type(resp), err_message(resp));
                step_result(i, &f, resp);
                json_decref(resp);
                json_decref(before);
                break;
            }
            failures++;
            if (status != -1 && !(status == 500 && strcmp(err_type(resp), "ServerException") == 0) && status != 200)
                fail_msg("step %d %s, allocation %ld failed: answered %d %s: %s", i, action, n, status, err_type(resp),
                         err_message(resp));
            if (status == 200) {
                /* The allocation that failed was one the call could do without
                 * (the journal's record): the call happened.  Nothing to retry. */
                step_result(i, &f, resp);
                json_decref(resp);
                json_decref(before);
                break;
            }
            json_decref(resp);
            json_t *after = ecrmock_snapshot(m, NULL);
            if (!json_equal(before, after)) {
                char *a = json_dumps(before, JSON_COMPACT), *b = json_dumps(after, JSON_COMPACT);
                fail_msg("step %d %s, allocation %ld failed: the state changed\nbefore: %.2000s\nafter:  %.2000s", i,
                         action, n, a, b);
            }
            json_decref(before);
            json_decref(after);
        }
        json_decref(req);
    }
    assert_true(failures > 100); /* the loop really injected failures */
    assert_null(ecrmock_images(m, NULL, "team/web", NULL));
    ecrmock_free(m);
}

static void test_alloc_failure_json_level(void **state)
{
    (void)state;
    run_flow(false);
}

static void test_alloc_failure_wire_level(void **state)
{
    (void)state;
    run_flow(true);
}

/* ---- the newer actions --------------------------------------------------------- */

/* Requests of a second flow, over the actions beyond the classic 17, on a
 * repository holding one tagged image (digest in `image`). */
static json_t *newer_request(int i, const char *image, const char **action)
{
    static const char *const lifecycle =
        "{\"rules\":[{\"rulePriority\":1,\"selection\":{\"tagStatus\":\"any\",\"countType\":\"imageCountMoreThan\","
        "\"countNumber\":5},\"action\":{\"type\":\"expire\"}}]}";
    switch (i) {
    case 0: *action = "PutLifecyclePolicy";
        return json_pack("{s:s, s:s}", "repositoryName", "team/web", "lifecyclePolicyText", lifecycle);
    case 1: *action = "GetLifecyclePolicy";
        return json_pack("{s:s}", "repositoryName", "team/web");
    case 2: *action = "StartLifecyclePolicyPreview";
        return json_pack("{s:s}", "repositoryName", "team/web");
    case 3: *action = "GetLifecyclePolicyPreview";
        return json_pack("{s:s}", "repositoryName", "team/web");
    case 4: *action = "PutRegistryPolicy";
        return json_pack("{s:s}", "policyText",
                         "{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"ecr:ReplicateImage\"}}");
    case 5: *action = "PutReplicationConfiguration";
        return json_pack("{s:{s:[{s:[{s:s, s:s}]}]}}", "replicationConfiguration", "rules", "destinations", "region",
                         "eu-west-1", "registryId", "123456789012");
    case 6: *action = "DescribeRegistry";
        return json_pack("{}");
    case 7: *action = "PutRegistryScanningConfiguration";
        return json_pack("{s:s, s:[{s:s, s:[{s:s, s:s}]}]}", "scanType", "BASIC", "rules", "scanFrequency",
                         "SCAN_ON_PUSH", "repositoryFilters", "filter", "team", "filterType", "WILDCARD");
    case 8: *action = "PutImageScanningConfiguration";
        return json_pack("{s:s, s:{s:b}}", "repositoryName", "team/web", "imageScanningConfiguration", "scanOnPush", 1);
    case 9: *action = "BatchGetRepositoryScanningConfiguration";
        return json_pack("{s:[s, s]}", "repositoryNames", "team/web", "nope/nope");
    case 10: *action = "StartImageScan";
        return json_pack("{s:s, s:{s:s}}", "repositoryName", "team/web", "imageId", "imageDigest", image);
    case 11: *action = "DescribeImageScanFindings";
        return json_pack("{s:s, s:{s:s}}", "repositoryName", "team/web", "imageId", "imageDigest", image);
    case 12: *action = "TagResource";
        return json_pack("{s:s, s:[{s:s, s:s}]}", "resourceArn", "arn:aws:ecr:us-east-1:123456789012:repository/team/web",
                         "tags", "Key", "env", "Value", "prod");
    case 13: *action = "ListTagsForResource";
        return json_pack("{s:s}", "resourceArn", "arn:aws:ecr:us-east-1:123456789012:repository/team/web");
    case 14: *action = "PutImageTagMutability";
        return json_pack("{s:s, s:s, s:[{s:s, s:s}]}", "repositoryName", "team/web", "imageTagMutability",
                         "IMMUTABLE_WITH_EXCLUSION", "imageTagMutabilityExclusionFilters", "filterType", "WILDCARD",
                         "filter", "latest");
    case 15: *action = "CreatePullThroughCacheRule";
        return json_pack("{s:s, s:s}", "ecrRepositoryPrefix", "ecr-public", "upstreamRegistryUrl", "public.ecr.aws");
    case 16: *action = "DescribePullThroughCacheRules";
        return json_pack("{}");
    case 17: *action = "CreateRepositoryCreationTemplate";
        return json_pack("{s:s, s:[s], s:s}", "prefix", "ecr-public", "appliedFor", "PULL_THROUGH_CACHE",
                         "lifecyclePolicy", lifecycle);
    case 18: *action = "DescribeRepositoryCreationTemplates";
        return json_pack("{}");
    case 19: *action = "PutSigningConfiguration";
        return json_pack("{s:{s:[{s:s, s:[{s:s, s:s}]}]}}", "signingConfiguration", "rules", "signingProfileArn",
                         "arn:aws:signer:us-east-1:123456789012:/signing-profiles/team_a", "repositoryFilters", "filter",
                         "team/*", "filterType", "WILDCARD_MATCH");
    case 20: *action = "DescribeImageSigningStatus";
        return json_pack("{s:s, s:{s:s}}", "repositoryName", "team/web", "imageId", "imageDigest", image);
    case 21: *action = "PutAccountSetting";
        return json_pack("{s:s, s:s}", "name", "BLOB_MOUNTING", "value", "ENABLED");
    case 22: *action = "RegisterPullTimeUpdateExclusion";
        return json_pack("{s:s}", "principalArn", "arn:aws:iam::123456789012:user/scanner");
    case 23: *action = "ListPullTimeUpdateExclusions";
        return json_pack("{}");
    case 24: *action = "ListImageReferrers";
        return json_pack("{s:s, s:{s:s}}", "repositoryName", "team/web", "subjectId", "imageDigest", image);
    case 25: *action = "UpdateImageStorageClass";
        return json_pack("{s:s, s:{s:s}, s:s}", "repositoryName", "team/web", "imageId", "imageDigest", image,
                         "targetStorageClass", "ARCHIVE");
    case 26: *action = "UpdateImageStorageClass";
        return json_pack("{s:s, s:{s:s}, s:s}", "repositoryName", "team/web", "imageId", "imageDigest", image,
                         "targetStorageClass", "STANDARD");
    case 27: *action = "DeleteLifecyclePolicy";
        return json_pack("{s:s}", "repositoryName", "team/web");
    case 28: *action = "DeleteRegistryPolicy";
        return json_pack("{}");
    default: return NULL;
    }
}

/* Runs `action` with its 1st, 2nd, ... allocation failing until a run needs
 * no more, which must answer 200: each run that failed answers 500
 * ServerException (or -1) and leaves the snapshot as it was.  `what` names
 * the call in messages. */
static void fail_each_allocation(ecrmock *m, const char *action, json_t *req, const char *what)
{
    for (long n = 1;; n++) {
        json_t *before = ecrmock_snapshot(m, NULL);
        json_t *resp = NULL;
        allocations = 0;
        fail_at = n;
        int status = ecrmock_call(m, action, req, &resp);
        bool injected = allocations >= n;
        fail_at = -1;
        if (!injected || status == 200) {
            if (status != 200)
                fail_msg("%s: %d %s: %s", what, status, err_type(resp), err_message(resp));
            json_decref(resp);
            json_decref(before);
            return;
        }
        if (status != -1 && !(status == 500 && strcmp(err_type(resp), "ServerException") == 0))
            fail_msg("%s, allocation %ld failed: answered %d %s: %s", what, n, status, err_type(resp),
                     err_message(resp));
        json_decref(resp);
        json_t *after = ecrmock_snapshot(m, NULL);
        if (!json_equal(before, after))
            fail_msg("%s, allocation %ld failed: the state changed", what, n);
        json_decref(before);
        json_decref(after);
    }
}

/* Every newer action, each call with its Nth allocation failing for every N:
 * a clean 500 or success, the snapshot unchanged after a failure, no leak. */
static void test_alloc_failure_newer_actions(void **state)
{
    (void)state;
    ecrmock *m = ecrmock_new(NULL);
    create_repo(m, "team/web");
    char *image = push_new_image(m, "team/web", 1, 1, "v1");
    for (int i = 0;; i++) {
        const char *action = NULL;
        json_t *req = newer_request(i, image, &action);
        if (!req)
            break;
        char what[96];
        snprintf(what, sizeof what, "step %d %s", i, action);
        fail_each_allocation(m, action, req, what);
        json_decref(req);
        if (i == 10)
            ecrmock_clock_advance(m, 60000, NULL); /* the scan completes */
        if (i == 2)
            ecrmock_clock_advance(m, 1000, NULL); /* the preview completes */
    }
    free(image);
    ecrmock_free(m);
}

/* Loads the fixture `file` (or `text`, when not NULL) into m with its nth
 * allocation failing.  True when the load made n allocations or more (the
 * failure was injected): a refusal then says out of memory, never that the
 * fixture is wrong, and leaves m as it was.  False: it loaded. */
static bool fixture_load_failing(ecrmock *m, long n, const char *file, const char *text)
{
    json_t *before = ecrmock_snapshot(m, NULL);
    ecrmock_err err;
    allocations = 0;
    fail_at = n;
    int rc = text ? ecrmock_fixture_load_string(m, text, "x.json", &err) : ecrmock_fixture_load_file(m, file, &err);
    bool injected = allocations >= n;
    fail_at = -1;
    if (!injected && rc != 0)
        fail_msg("%s: %s", err.path, err.text);
    if (injected && rc != 0) {
        if (err.code != ECRMOCK_ERR_SERVER)
            fail_msg("allocation %ld: %s: %s", n, err.path, err.text);
        assert_non_null(strstr(err.text, "out of memory"));
        json_t *after = ecrmock_snapshot(m, NULL);
        assert_true(json_equal(before, after));
        json_decref(after);
    }
    json_decref(before);
    return injected;
}

/* ecrmock_new and the fixture loader refuse cleanly too. */
static void test_alloc_failure_new_and_fixture(void **state)
{
    (void)state;
    for (long n = 1;; n++) {
        allocations = 0;
        fail_at = n;
        ecrmock *m = ecrmock_new(NULL);
        bool injected = allocations >= n;
        fail_at = -1;
        if (!injected) {
            assert_non_null(m);
            ecrmock_free(m);
            break;
        }
        ecrmock_free(m);
    }
    /* registry-settings.json: the registry settings' loaders (rules,
     * templates, signing, storage classes) under failing allocations too;
     * replicated.json: other regions and replication statuses, then a load
     * over an instance that holds other regions. */
    static const char *const files[] = {"fixtures/multi-arch.json", "fixtures/registry-settings.json",
                                        "fixtures/replicated.json", "fixtures/multi-arch.json"};
    ecrmock *m = ecrmock_new(NULL);
    for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
        for (long n = 1; fixture_load_failing(m, n, files[f], NULL); n++)
            ;
    }
    ecrmock_free(m);
}

/* Whether the instance's state is `before` (a snapshot, released). */
static bool unchanged_since(ecrmock *m, json_t *before)
{
    json_t *after = ecrmock_snapshot(m, NULL);
    bool same = json_equal(before, after);
    json_decref(before);
    json_decref(after);
    return same;
}

/* Compact images over declared layers, their config and manifest written
 * straight (and one with its config given, made as documents): every
 * allocation of the load fails in turn, and each failure leaves the
 * instance as it was and says out of memory. */
static void test_alloc_failure_compact_declared_fixture(void **state)
{
    (void)state;
#define D(x) "\"sha256:" x x x x x x x x "\""
    static const char text[] =
        "{\"registries\": [{\"repositories\": [{\"name\": \"aa\", \"images\": ["
        "{\"tags\": [\"v1\", \"latest\"], \"layers\": [{\"declaredSize\": 1073741824, \"digest\": " D("00000001") "},"
        " {\"declaredSize\": 7, \"digest\": " D("00000002") ", \"mediaType\": \"application/x-tar\"}]},"
        "{\"format\": \"oci\", \"platform\": {\"architecture\": \"arm64\", \"os\": \"linux\"}, \"layers\": "
        "[{\"declaredSize\": 1073741824, \"digest\": " D("00000001") "}]},"
        "{\"tags\": [\"c\"], \"config\": {\"os\": \"linux\"}, \"layers\": [{\"declaredSize\": 9, \"digest\": " D("00000003") "}]}"
        "]}, {\"name\": \"bb\", \"images\": [{\"tags\": [\"v1\"], \"layers\": [{\"declaredSize\": 1073741824, \"digest\": "
        D("00000001") "}]}]}]}]}";
#undef D
    ecrmock *m = ecrmock_new(NULL);
    for (long n = 1; fixture_load_failing(m, n, NULL, text); n++) {
        /* each load starts from none */
        ecrmock_free(m);
        m = ecrmock_new(NULL);
        assert_non_null(m);
    }
    json_t *r = NULL, *req = json_pack("{s:s}", "repositoryName", "aa");
    assert_int_equal(ecrmock_call(m, "DescribeImages", req, &r), 200);
    assert_int_equal(json_array_size(json_object_get(r, "imageDetails")), 3);
    json_decref(req);
    json_decref(r);
    ecrmock_free(m);
}


/* A lifecycle policy that archives and expires: its preview's start and
 * read, and ecrmock_lifecycle_apply, fail cleanly at every allocation. */
static void test_alloc_failure_lifecycle_transitions(void **state)
{
    (void)state;
    ecrmock *m = ecrmock_new(NULL);
    create_repo(m, "team/web");
    int64_t t0 = ecrmock_clock_now(m);
    char *a = push_new_image(m, "team/web", 1, 1, "v1");
    char *b = push_new_image(m, "team/web", 1, 2, NULL);
    char *c = push_new_image(m, "team/web", 1, 3, "v3");
    call_ok(m, "UpdateImageStorageClass",
            "{\"repositoryName\": \"team/web\", \"imageId\": {\"imageDigest\": \"%s\"}, \"targetStorageClass\": "
            "\"ARCHIVE\"}",
            c);
    call_ok(m, "PutLifecyclePolicy",
            "{\"repositoryName\": \"team/web\", \"lifecyclePolicyText\": \"{\\\"rules\\\": [{\\\"rulePriority\\\": 1, "
            "\\\"selection\\\": {\\\"tagStatus\\\": \\\"tagged\\\", \\\"tagPrefixList\\\": [\\\"v\\\"], \\\"countType\\\": "
            "\\\"sinceImagePulled\\\", \\\"countUnit\\\": \\\"days\\\", \\\"countNumber\\\": 1}, \\\"action\\\": "
            "{\\\"type\\\": \\\"transition\\\", \\\"targetStorageClass\\\": \\\"archive\\\"}}, {\\\"rulePriority\\\": 2, "
            "\\\"selection\\\": {\\\"tagStatus\\\": \\\"any\\\", \\\"countType\\\": \\\"imageCountMoreThan\\\", "
            "\\\"countNumber\\\": 1}, \\\"action\\\": {\\\"type\\\": \\\"expire\\\"}}, {\\\"rulePriority\\\": 3, "
            "\\\"selection\\\": {\\\"tagStatus\\\": \\\"any\\\", \\\"storageClass\\\": \\\"archive\\\", \\\"countType\\\": "
            "\\\"sinceImageTransitioned\\\", \\\"countUnit\\\": \\\"days\\\", \\\"countNumber\\\": 90}, \\\"action\\\": "
            "{\\\"type\\\": \\\"expire\\\"}}]}\"}");
    ecrmock_clock_set(m, t0 + 100 * 86400000LL, NULL);
    const char *const actions[] = {"StartLifecyclePolicyPreview", "GetLifecyclePolicyPreview"};
    json_t *req = json_pack("{s:s}", "repositoryName", "team/web");
    for (int i = 0; i < 2; i++) {
        for (long n = 1;; n++) {
            json_t *before = ecrmock_snapshot(m, NULL);
            json_t *resp = NULL;
            allocations = 0;
            fail_at = n;
            int status = ecrmock_call(m, actions[i], req, &resp);
            bool injected = allocations >= n;
            fail_at = -1;
            bool same = unchanged_since(m, before);
            if (!injected || status == 200) {
                if (status != 200)
                    fail_msg("%s: %d %s: %s", actions[i], status, err_type(resp), err_message(resp));
                if (i == 1)
                    assert_int_equal(json_array_size(json_object_get(resp, "previewResults")), 2);
                json_decref(resp);
                break;
            }
            if (status != -1 && !(status == 500 && strcmp(err_type(resp), "ServerException") == 0))
                fail_msg("%s, allocation %ld failed: answered %d", actions[i], n, status);
            json_decref(resp);
            if (!same)
                fail_msg("%s, allocation %ld failed: the state changed", actions[i], n);
        }
        ecrmock_clock_advance(m, 1, NULL); /* the preview completes */
    }
    json_decref(req);
    for (long n = 1;; n++) {
        json_t *before = ecrmock_snapshot(m, NULL);
        json_t *done = NULL;
        allocations = 0;
        fail_at = n;
        ecrmock_error rc = ERR_CODE(ecrmock_lifecycle_apply(m, NULL, "team/web", &done, &test_err));
        bool injected = allocations >= n;
        fail_at = -1;
        bool same = unchanged_since(m, before);
        if (rc == ECRMOCK_ERR_OK) {
            assert_true(n > 2); /* the loop really failed allocations of the run */
            /* a archived (rule 1); b kept by rule 2 (the newer of a and b); c expired (rule 3). */
            assert_int_equal(json_array_size(done), 2);
            json_decref(done);
            break;
        }
        assert_true(injected);
        assert_int_equal(rc, ECRMOCK_ERR_SERVER);
        assert_null(done);
        if (!same)
            fail_msg("ecrmock_lifecycle_apply, allocation %ld failed: the state changed", n);
    }
    json_t *d = describe_image(m, "team/web", a);
    assert_string_equal(STR(d, "imageStatus"), "ARCHIVED");
    json_decref(d);
    json_t *left = ecrmock_images(m, NULL, "team/web", NULL);
    assert_int_equal(json_array_size(left), 2);
    json_decref(left);
    free(a), free(b), free(c);
    ecrmock_free(m);
}

/* A scenario checked and run out of memory at each allocation: when it is
 * refused, memory running out says so (ECRMOCK_ERR_SERVER, "out of
 * memory"), never that the scenario is wrong, whatever part of the check
 * met it (a step's fault rule, a ${...} expansion). */
static void test_alloc_failure_scenario(void **state)
{
    (void)state;
    json_t *sc = json_loads("{\"steps\": [{\"action\": \"CreateRepository\","
                            " \"request\": {\"repositoryName\": \"web\"}, \"capture\": {\"arn\": \"$.repository.repositoryArn\"},"
                            " \"faults\": [{\"action\": \"DescribeImages\", \"error\": \"ThrottlingException\","
                            " \"message\": \"slow down\"}]},"
                            " {\"action\": \"DescribeRepositories\", \"request\": {\"repositoryNames\": [\"web\"]},"
                            " \"expect\": {\"status\": 200, \"response\": {\"repositories\": [{\"repositoryArn\": \"${arn}\","
                            " \"repositoryName\": \"${*}\"}]}}}]}",
                            0, NULL);
    assert_non_null(sc);
    for (long n = 1;; n++) {
        ecrmock_err err;
        allocations = 0;
        fail_at = n;
        int rc = ecrmock_scenario_run(NULL, sc, NULL, NULL, &err);
        bool injected = allocations >= n;
        fail_at = -1;
        if (!injected) {
            assert_int_equal(rc, 0);
            assert_true(n > 20);
            break;
        }
        if (rc < 0) {
            if (err.code != ECRMOCK_ERR_SERVER || strcmp(err.text, "out of memory") != 0)
                fail_msg("allocation %ld: %s: %s", n, err.path, err.text);
        }
    }
    json_decref(sc);
}

/* A registry that is there but empty (its last repository deleted: the
 * snapshot lists it) stays when a call that would put something in it fails
 * for memory: each registry-level put, at every allocation. */
static void test_alloc_failure_keeps_an_empty_registry(void **state)
{
    (void)state;
    static const int steps[] = {4, 5, 15, 17, 19, 21, 22};
    for (size_t k = 0; k <= sizeof steps / sizeof steps[0]; k++) {
        const char *action = "CreateRepository";
        json_t *req = k < sizeof steps / sizeof steps[0] ? newer_request(steps[k], "sha256:00", &action)
                                                         : json_pack("{s:s}", "repositoryName", "team/app");
        assert_non_null(req);
        ecrmock *m = ecrmock_new(NULL);
        create_repo(m, "team/web");
        call_ok(m, "DeleteRepository", "{\"repositoryName\": \"team/web\"}");
        fail_each_allocation(m, action, req, action);
        json_decref(req);
        ecrmock_free(m);
    }
}

/* ecrmock_images, out of memory at each allocation: NULL with
 * ECRMOCK_ERR_SERVER, never RepositoryNotFound (the repository is there). */
static void test_alloc_failure_images(void **state)
{
    (void)state;
    ecrmock *m = ecrmock_new(NULL);
    assert_non_null(m);
    create_repo(m, "web");
    free(push_new_image(m, "web", 1, 1, "v1"));
    free(push_new_image(m, "web", 1, 2, "v2"));
    for (long n = 1;; n++) {
        allocations = 0;
        fail_at = n;
        json_t *list = ecrmock_images(m, NULL, "web", &test_err);
        bool injected = allocations >= n;
        fail_at = -1;
        if (!injected) {
            assert_int_equal(json_array_size(list), 2);
            assert_int_equal(ERR_CODE(0), ECRMOCK_ERR_OK);
            json_decref(list);
            assert_true(n > 3);
            break;
        }
        if (list) { /* jansson may do without an allocation that failed */
            json_decref(list);
            continue;
        }
        assert_int_equal(ERR_CODE(-1), ECRMOCK_ERR_SERVER);
        assert_string_equal(test_err.text, "out of memory");
    }
    ecrmock_free(m);
}

/* ecrmock_create_repository_for() of another registry under allocation
 * failure: made there, or nowhere (it once went to the caller's registry
 * when json_pack() could not make its registryId). */
static void test_alloc_failure_create_repository_for(void **state)
{
    (void)state;
    ecrmock *m = ecrmock_new(NULL);
    assert_non_null(m);
    for (long n = 1;; n++) {
        allocations = 0;
        fail_at = n;
        int rc = ecrmock_create_repository_for(m, "111122223333", "cached/web", "CREATE_ON_PUSH", NULL, &test_err);
        bool injected = allocations >= n;
        fail_at = -1;
        assert_int_equal(repo_count(m, NULL), 0); /* never the caller's registry */
        if (rc == 0) {
            assert_int_equal(repo_count(m, "111122223333"), 1);
            if (!injected)
                break;
            call_ok(m, "DeleteRepository", "{\"registryId\":\"111122223333\",\"repositoryName\":\"cached/web\"}");
            continue;
        }
        assert_true(injected);
        assert_int_equal(ERR_CODE(-1), ECRMOCK_ERR_SERVER);
        assert_int_equal(repo_count(m, "111122223333"), 0);
    }
    ecrmock_free(m);
}

/* One control request; its status, and its body into body[cap] ("" for -1). */
static int control(ecrmock *m, const char *method, const char *target, const char *text, char *body, size_t cap)
{
    ecrmock_http_response r;
    int st = http_send(m, &r, method, target, NULL, 0, text);
    snprintf(body, cap, "%s", r.body ? r.body : "");
    ecrmock_http_response_release(&r);
    return st;
}

/* The control API under allocation failure: each request either answers as
 * it does with memory, or fails (-1, or 500 ServerException) changing
 * nothing: a rule POST /faults could not answer is not kept. */
static void test_alloc_failure_control_api(void **state)
{
    (void)state;
    static const struct {
        const char *method, *target, *body;
    } reqs[] = {
        {"GET", "/_ecrmock/clock", NULL},       {"GET", "/_ecrmock/faults", NULL},
        {"GET", "/_ecrmock/faults/1", NULL},    {"GET", "/_ecrmock/journal", NULL},
        {"GET", "/_ecrmock/journal/scenario?fixture=a%20b", NULL},
        {"GET", "/_ecrmock/counts", NULL},      {"GET", "/_ecrmock/snapshot", NULL},
        {"GET", "/_ecrmock/options", NULL},     {"GET", "/_ecrmock/nope", NULL},
        {"POST", "/_ecrmock/clock/advance", "{\"ms\": \"x\"}"},
        {"POST", "/_ecrmock/faults", "{\"action\": \"PutImage\"}"},
        {"POST", "/_ecrmock/options", "{\"maxImages\": 5}"},
    };
    ecrmock *m = ecrmock_new(NULL);
    assert_non_null(m);
    assert_int_equal(ecrmock_http_control_set(m, 1, NULL), 0);
    create_repo(m, "web");
    free(push_new_image(m, "web", 1, 1, "v1"));
    assert_true(add_fault(m, "{\"action\": \"DeleteRepository\"}") == 1);
    static char want[1 << 16], got[1 << 16];
    for (size_t i = 0; i < sizeof reqs / sizeof reqs[0]; i++) {
        bool adds = strcmp(reqs[i].method, "POST") == 0 && strcmp(reqs[i].target, "/_ecrmock/faults") == 0;
        bool changes_options = strcmp(reqs[i].method, "POST") == 0 && strcmp(reqs[i].target, "/_ecrmock/options") == 0;
        int want_st = control(m, reqs[i].method, reqs[i].target, reqs[i].body, want, sizeof want);
        assert_true(want_st >= 200);
        if (adds) /* the rule it added, and the id it took, back */
            assert_int_equal(ecrmock_fault_remove(m, 2, NULL), 0);
        if (changes_options)
            assert_int_equal(ecrmock_options_set(m, &(ecrmock_options)ECRMOCK_OPTIONS_INIT, NULL), 0);
        for (long n = 1;; n++) {
            json_t *before = ecrmock_faults_json(m, NULL);
            char options_before[1024];
            assert_int_equal(control(m, "GET", "/_ecrmock/options", NULL, options_before, sizeof options_before), 200);
            allocations = 0;
            fail_at = n;
            int st = control(m, reqs[i].method, reqs[i].target, reqs[i].body, got, sizeof got);
            bool injected = allocations >= n;
            fail_at = -1;
            json_t *after = ecrmock_faults_json(m, NULL);
            if (!injected) {
                assert_int_equal(st, want_st);
                if (!adds)
                    assert_string_equal(got, want);
                json_decref(before);
                json_decref(after);
                break;
            }
            assert_true(st == -1 || st == want_st || st == 500);
            if (st == want_st && !adds) /* answered: the whole answer */
                assert_string_equal(got, want);
            if (changes_options) {
                char options_after[1024];
                assert_int_equal(control(m, "GET", "/_ecrmock/options", NULL, options_after, sizeof options_after), 200);
                if (st != want_st) /* nothing changed */
                    assert_string_equal(options_after, options_before);
                else /* changed: back for the next try */
                    assert_int_equal(ecrmock_options_set(m, &(ecrmock_options)ECRMOCK_OPTIONS_INIT, NULL), 0);
            }
            if (adds && st != want_st) {
                assert_true(json_equal(before, after));
            } else if (adds) {
                long id = (long)json_integer_value(json_object_get(json_array_get(after, 1), "id"));
                assert_int_equal(ecrmock_fault_remove(m, id, NULL), 0);
            }
            json_decref(before);
            json_decref(after);
        }
    }
    ecrmock_free(m);
}

/* A prepared fixture: preparing it, applying it over an instance that
 * holds state and making an instance from it each fail cleanly at every
 * allocation (out of memory said so, the instance as it was), then succeed
 * with the state a load gives. */
static void test_alloc_failure_prepared_fixture(void **state)
{
    (void)state;
    static const char *const files[] = {"fixtures/registry-settings.json", "fixtures/replicated.json",
                                        "fixtures/multi-arch.json"};
    for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
        ecrmock_fixture *fx = NULL;
        for (long n = 1;; n++) {
            ecrmock_err err;
            allocations = 0;
            fail_at = n;
            fx = ecrmock_fixture_prepare_file(files[f], NULL, &err);
            bool injected = allocations >= n;
            fail_at = -1;
            if (!injected) {
                assert_non_null(fx);
                break;
            }
            if (!fx) {
                if (err.code != ECRMOCK_ERR_SERVER)
                    fail_msg("prepare, allocation %ld: %s: %s", n, err.path, err.text);
            }
            ecrmock_fixture_free(fx);
        }
        /* The state a load into a fresh instance gives, with the clock of
         * the instance applied to when the fixture has none (it leaves the
         * clock where it was). */
        ecrmock *ref = ecrmock_new(NULL);
        assert_int_equal(ecrmock_fixture_load_file(ref, files[f], NULL), 0);
        json_t *want = ecrmock_snapshot(ref, NULL);
        json_t *fresh = json_deep_copy(want); /* ecrmock_new_from_fixture()'s */
        ecrmock_free(ref);
        ref = ecrmock_new(NULL);
        assert_int_equal(ecrmock_fixture_load_file(ref, "fixtures/team-registry.json", NULL), 0);
        json_t *team = ecrmock_snapshot(ref, NULL);
        json_t *fixture = json_load_file(files[f], 0, NULL);
        assert_non_null(fixture);
        if (!json_object_get(fixture, "clock"))
            json_object_set(want, "clock", json_object_get(team, "clock"));
        json_decref(fixture);
        json_decref(team);
        ecrmock_free(ref);
        ecrmock *m = ecrmock_new(NULL);
        assert_int_equal(ecrmock_fixture_load_file(m, "fixtures/team-registry.json", NULL), 0);
        long failures = 0;
        for (long n = 1;; n++) {
            json_t *before = ecrmock_snapshot(m, NULL);
            ecrmock_err err;
            allocations = 0;
            fail_at = n;
            int rc = ecrmock_fixture_apply(m, fx, &err);
            bool injected = allocations >= n;
            fail_at = -1;
            if (!injected) {
                assert_int_equal(rc, 0);
                json_decref(before);
                break;
            }
            if (rc == 0)
                fail_msg("apply, allocation %ld failed, yet the apply succeeded", n);
            failures++;
            assert_int_equal(err.code, ECRMOCK_ERR_SERVER);
            assert_string_equal(err.text, "out of memory");
            json_t *after = ecrmock_snapshot(m, NULL);
            assert_true(json_equal(before, after));
            json_decref(after);
            json_decref(before);
        }
        assert_true(failures > 20);
        json_t *got = ecrmock_snapshot(m, NULL);
        assert_true(json_equal(got, want));
        json_decref(got);
        ecrmock_free(m);
        for (long n = 1;; n++) {
            ecrmock_err err;
            allocations = 0;
            fail_at = n;
            ecrmock *made = ecrmock_new_from_fixture(fx, &err);
            bool injected = allocations >= n;
            fail_at = -1;
            if (!injected) {
                assert_non_null(made);
                json_t *snap = ecrmock_snapshot(made, NULL);
                assert_true(json_equal(snap, fresh));
                json_decref(snap);
                ecrmock_free(made);
                break;
            }
            assert_null(made);
            assert_int_equal(err.code, ECRMOCK_ERR_SERVER);
        }
        json_decref(want);
        json_decref(fresh);
        ecrmock_fixture_free(fx);
    }
}

/* One way of adding a layer (grow_add), run with its 1st, 2nd, ...
 * allocation failing: each failure leaves the snapshot and the blob store
 * as they were (the blob `digest` absent, or with the references it had),
 * until a run succeeds. */
typedef int (*grow_add)(ecrmock *m, const char *repo, const char *bytes, const char *upload);

static int grow_put(ecrmock *m, const char *repo, const char *bytes, const char *upload)
{
    (void)upload;
    ecrmock_err err;
    if (ecrmock_put_layer(m, NULL, repo, bytes, strlen(bytes), NULL, &err) == 0)
        return 200;
    assert_int_equal(err.code, ECRMOCK_ERR_SERVER);
    return 500;
}

static int grow_complete(ecrmock *m, const char *repo, const char *bytes, const char *upload)
{
    char digest[ECRMOCK_DIGEST_SIZE];
    sha256_digest(bytes, strlen(bytes), digest);
    json_t *req = json_pack("{s:s, s:s, s:[s]}", "repositoryName", repo, "uploadId", upload, "layerDigests", digest);
    json_t *resp = NULL;
    int status = req ? ecrmock_call(m, "CompleteLayerUpload", req, &resp) : -1;
    if (status != 200 && status != -1 && !(status == 500 && strcmp(err_type(resp), "ServerException") == 0))
        fail_msg("CompleteLayerUpload answered %d %s: %s", status, err_type(resp), err_message(resp));
    json_decref(resp);
    json_decref(req);
    return status;
}

static void grow_loop(ecrmock *m, const char *repo, const char *bytes, const char *upload, grow_add add)
{
    char digest[ECRMOCK_DIGEST_SIZE];
    sha256_digest(bytes, strlen(bytes), digest);
    const em_blob *had = em_blob_get(m, digest);
    size_t refs = had ? had->refs : 0, blobs = m->blobs.count;
    long failures = 0;
    for (long n = 1;; n++) {
        json_t *before = ecrmock_snapshot(m, NULL);
        allocations = 0;
        fail_at = n;
        int status = add(m, repo, bytes, upload);
        bool injected = allocations >= n;
        fail_at = -1;
        if (!injected || status == 200) { /* 200 with a failure: the journal's record went without */
            assert_int_equal(status, 200);
            json_decref(before);
            break;
        }
        failures++;
        json_t *after = ecrmock_snapshot(m, NULL);
        if (!json_equal(before, after))
            fail_msg("%s into %s, allocation %ld failed: the state changed", bytes, repo, n);
        json_decref(before);
        json_decref(after);
        const em_blob *b = em_blob_get(m, digest);
        assert_int_equal(m->blobs.count, blobs);
        assert_true(had ? b == had && b->refs == refs : !b);
    }
    assert_true(failures > 0);
    const em_blob *b = em_blob_get(m, digest);
    assert_non_null(b);
    assert_int_equal(b->refs, refs + 1);
    assert_int_equal(m->blobs.count, blobs + !had);
    void *got = NULL;
    size_t len = 0;
    assert_int_equal(ecrmock_get_layer(m, NULL, repo, digest, &got, &len, NULL), 0);
    assert_int_equal(len, strlen(bytes));
    assert_memory_equal(got, bytes, len);
    ecrmock_buffer_free(got);
}

/* The layer that makes a repository's layer index and the instance's blob
 * index grow (the 9th: past half of 16 slots; the 17th: past half of 32),
 * added by ecrmock_put_layer() and by CompleteLayerUpload, a new blob and
 * one another repository holds: at every failed allocation nothing
 * changes. */
static void test_alloc_failure_layer_indexes_grow(void **state)
{
    (void)state;
    ecrmock_options o = ECRMOCK_OPTIONS_INIT;
    o.min_part_size = 4;
    ecrmock *m = ecrmock_new(&o);
    create_repo(m, "grow/one");
    create_repo(m, "grow/two");
    char bytes[32];
    for (int i = 0; i < 8; i++) {
        snprintf(bytes, sizeof bytes, "layer %d", i);
        assert_int_equal(ecrmock_put_layer(m, NULL, "grow/one", bytes, strlen(bytes), NULL, NULL), 0);
        assert_int_equal(ecrmock_put_layer(m, NULL, "grow/two", bytes, strlen(bytes), NULL, NULL), 0);
    }
    assert_int_equal(m->blobs.count, 8);
    grow_loop(m, "grow/one", "layer 8", NULL, grow_put); /* both indexes grow */
    grow_loop(m, "grow/two", "layer 8", NULL, grow_put); /* grow/two's grows; the blob is there */
    for (int i = 9; i < 16; i++) {
        snprintf(bytes, sizeof bytes, "layer %d", i);
        assert_int_equal(ecrmock_put_layer(m, NULL, "grow/one", bytes, strlen(bytes), NULL, NULL), 0);
    }
    assert_int_equal(m->blobs.count, 16);
    /* The 17th through the API: an upload whose completion adds it. */
    json_t *r = NULL;
    assert_int_equal(call(m, &r, "InitiateLayerUpload", "{\"repositoryName\": \"grow/one\"}"), 200);
    char upload[64];
    snprintf(upload, sizeof upload, "%s", jstr(r, "uploadId"));
    json_decref(r);
    call_ok(m, "UploadLayerPart",
            "{\"repositoryName\": \"grow/one\", \"uploadId\": \"%s\", \"partFirstByte\": 0, \"partLastByte\": 7, "
            "\"layerPartBlob\": \"bGF5ZXIgMTY=\"}", /* "layer 16" */
            upload);
    grow_loop(m, "grow/one", "layer 16", upload, grow_complete);
    ecrmock_free(m);
}

/* A tag moved onto an image that holds one (its list leaves the image for
 * an array) and a second tag on an untagged image: at every failed
 * allocation PutImage answers ServerException with the state as it was. */
static void test_alloc_failure_tag_moves(void **state)
{
    (void)state;
    ecrmock *m = ecrmock_new(NULL);
    assert_non_null(m);
    create_repo(m, "web");
    char *m1 = make_manifest(m, "web", 1, 1), *m2 = make_manifest(m, "web", 1, 2);
    free(put_image(m, "web", m1, "a"));
    free(put_image(m, "web", m2, "b"));
    static const struct {
        int manifest;
        const char *tag;
    } steps[] = {{1, "b"}, {2, "c"}, {2, "d"}, {1, "c"}};
    for (size_t s = 0; s < sizeof steps / sizeof steps[0]; s++) {
        json_t *req = json_pack("{s:s, s:s, s:s}", "repositoryName", "web", "imageManifest",
                                steps[s].manifest == 1 ? m1 : m2, "imageTag", steps[s].tag);
        long failures = 0;
        for (long n = 1;; n++) {
            json_t *before = ecrmock_snapshot(m, NULL), *resp = NULL;
            allocations = 0;
            fail_at = n;
            int status = ecrmock_call(m, "PutImage", req, &resp);
            bool injected = allocations >= n;
            fail_at = -1;
            if (!injected) {
                assert_int_equal(status, 200);
                json_decref(resp);
                json_decref(before);
                break;
            }
            if (status != 200) {
                failures++;
                if (status != -1 && status != 500)
                    fail_msg("step %zu, allocation %ld: %d", s, n, status);
                json_t *after = ecrmock_snapshot(m, NULL);
                assert_true(json_equal(before, after));
                json_decref(after);
            } else {
                /* the step did without the failed allocation (the journal's
                 * record): it happened; put it back for the next try */
                json_decref(resp);
                json_decref(before);
                break;
            }
            json_decref(resp);
            json_decref(before);
        }
        assert_true(failures > 0);
        json_decref(req);
    }
    /* a: m1 only; b: m1; c: m1; d: m2 */
    json_t *r = NULL;
    assert_ok(call(m, &r, "DescribeImages", "{\"repositoryName\": \"web\", \"imageIds\": [{\"imageTag\": \"a\"}]}"), r);
    char *tags = json_dumps(json_object_get(json_array_get(json_object_get(r, "imageDetails"), 0), "imageTags"), JSON_COMPACT);
    assert_string_equal(tags, "[\"a\",\"b\",\"c\"]");
    free(tags);
    json_decref(r);
    free(m1);
    free(m2);
    ecrmock_free(m);
}

/* A read that succeeds while memory runs out answers exactly what it
 * answers with memory: no member silently left out (jansson's "s*" drops an
 * optional member it could not make, as if it were absent). */
static void test_alloc_failure_reads_answer_whole(void **state)
{
    (void)state;
    ecrmock *m = ecrmock_new(NULL);
    create_repo(m, "team/web");
    char *image = push_new_image(m, "team/web", 1, 1, "v1");
    char config[] = "{}", payload[] = "signature", cd[ECRMOCK_DIGEST_SIZE], ld[ECRMOCK_DIGEST_SIZE];
    push_layer(m, "team/web", config, strlen(config), cd);
    push_layer(m, "team/web", payload, strlen(payload), ld);
    json_t *mf = json_pack("{s:i, s:s, s:s, s:{s:s, s:i, s:s}, s:[{s:s, s:i, s:s}], s:{s:s, s:i, s:s}}",
                           "schemaVersion", 2, "mediaType", "application/vnd.oci.image.manifest.v1+json",
                           "artifactType", "application/vnd.example.sig", "config", "mediaType",
                           "application/vnd.oci.empty.v1+json", "size", 2, "digest", cd, "layers", "mediaType",
                           "application/octet-stream", "size", (int)strlen(payload), "digest", ld, "subject",
                           "mediaType", "application/vnd.oci.image.manifest.v1+json", "size", 100, "digest", image);
    char *text = json_dumps(mf, JSON_COMPACT);
    json_decref(mf);
    free(put_image(m, "team/web", text, NULL));
    free(text);
    char referrers[512], batch[512];
    snprintf(referrers, sizeof referrers, "{\"repositoryName\": \"team/web\", \"subjectId\": {\"imageDigest\": \"%s\"}}",
             image);
    snprintf(batch, sizeof batch,
             "{\"repositoryName\": \"team/web\", \"imageIds\": [{\"imageTag\": \"v1\"}, {\"imageTag\": \"nope\"}, "
             "{\"imageDigest\": \"sha256:%064d\"}, {\"imageDigest\": \"%s\", \"imageTag\": \"other\"}]}",
             0, image);
    static const char *const actions[] = {"ListImageReferrers", "BatchGetImage", "DescribeImages", "ListImages",
                                          "DescribeRepositories"};
    const char *bodies[] = {referrers, batch, "{\"repositoryName\": \"team/web\"}", "{\"repositoryName\": \"team/web\"}",
                            "{}"};
    for (size_t i = 0; i < sizeof actions / sizeof actions[0]; i++) {
        json_t *req = json_loads(bodies[i], 0, NULL), *want = NULL;
        assert_non_null(req);
        assert_int_equal(ecrmock_call(m, actions[i], req, &want), 200);
        for (long n = 1;; n++) {
            json_t *resp = NULL;
            allocations = 0;
            fail_at = n;
            int status = ecrmock_call(m, actions[i], req, &resp);
            bool injected = allocations >= n;
            fail_at = -1;
            if (status == 200 && !json_equal(resp, want)) {
                char *got = json_dumps(resp, JSON_COMPACT | JSON_SORT_KEYS);
                fail_msg("%s, allocation %ld failed: answered 200 with %s", actions[i], n, got);
            }
            json_decref(resp);
            if (!injected)
                break;
        }
        json_decref(want);
        json_decref(req);
    }
    free(image);
    ecrmock_free(m);
}

/* InvalidLayerPartException under allocation failure: with all of its
 * members (registryId, repositoryName, uploadId, lastValidByteReceived),
 * or ServerException; never the exception without them. */
static void test_alloc_failure_invalid_part_whole(void **state)
{
    (void)state;
    ecrmock *m = ecrmock_new(NULL);
    create_repo(m, "web");
    json_t *r = NULL;
    assert_int_equal(call(m, &r, "InitiateLayerUpload", "{\"repositoryName\": \"web\"}"), 200);
    char id[64];
    snprintf(id, sizeof id, "%s", json_string_value(json_object_get(r, "uploadId")));
    json_decref(r);
    char body[256];
    snprintf(body, sizeof body,
             "{\"repositoryName\": \"web\", \"uploadId\": \"%s\", \"partFirstByte\": 5, \"partLastByte\": 5, "
             "\"layerPartBlob\": \"YQ==\"}", id);
    json_t *req = json_loads(body, 0, NULL);
    assert_non_null(req);
    for (long n = 1;; n++) {
        json_t *resp = NULL;
        allocations = 0;
        fail_at = n;
        int status = ecrmock_call(m, "UploadLayerPart", req, &resp);
        bool injected = allocations >= n;
        fail_at = -1;
        if (status == 400) {
            assert_string_equal(err_type(resp), "InvalidLayerPartException");
            assert_non_null(json_object_get(resp, "registryId"));
            assert_non_null(json_object_get(resp, "repositoryName"));
            assert_string_equal(json_string_value(json_object_get(resp, "uploadId")), id);
            assert_int_equal(json_integer_value(json_object_get(resp, "lastValidByteReceived")), -1);
        } else if (status != -1) {
            assert_int_equal(status, 500);
            assert_string_equal(err_type(resp), "ServerException");
        }
        json_decref(resp);
        if (!injected) {
            assert_int_equal(status, 400);
            break;
        }
    }
    json_decref(req);
    ecrmock_free(m);
}

/* ---- the hot actions' tree-free forms (issue 19) ---------------------------------------------- */

/* One wire-level call of `body` with the nth allocation failing (n < 0: none);
 * *injected: one did.  Returns the status, the answer's bytes in *out (malloc'd). */
static int raw_failing(ecrmock *m, const char *action, const char *body, long n, bool *injected, char **out)
{
    size_t len = 0;
    *out = NULL;
    allocations = 0;
    fail_at = n;
    int status = ecrmock_call_raw(m, action, body, strlen(body), out, &len);
    *injected = n >= 0 && allocations >= n;
    fail_at = -1;
    return status;
}

/* Every allocation of a wire-level call of the hot actions failed in turn,
 * with bodies that send the forms down every road: a manifest with escapes
 * the answer cannot copy and more tokens than the stack holds, a push a form
 * declines after it wrote its answer (an immutable tag), reads with 100 ids
 * and escapes; each run answers what the call answers with memory (the same
 * bytes), or 500 ServerException with nothing changed. */
/* The state the test starts from; the bodies of the pushes (malloc'd). */
static void fast_forms_setup(ecrmock *m, char **body_esc, char **body_imm2)
{
    create_repo(m, "web");
    call_ok(m, "CreateRepository", "{\"repositoryName\":\"imm\",\"imageTagMutability\":\"IMMUTABLE\"}");
    char cfg[ECRMOCK_DIGEST_SIZE], lay[ECRMOCK_DIGEST_SIZE];
    const char *config = "{\"os\":\"linux\"}";
    push_layer(m, "web", config, strlen(config), cfg);
    push_layer(m, "web", "layer", 5, lay);
    push_layer(m, "imm", config, strlen(config), cfg);
    push_layer(m, "imm", "layer", 5, lay);
    /* a manifest with "\/" (no canonical escape) and 300 annotations: heap tokens */
    char *annotations = malloc(64 * 1024), *o = annotations;
    assert_non_null(annotations);
    for (int i = 0; i < 300; i++)
        o += sprintf(o, "%s\\\"k%d\\\":\\\"v\\\\u00e9\\/%d\\\"", i ? "," : "", i, i);
    assert_true(asprintf(body_esc,
                         "{\"repositoryName\":\"web\",\"imageTag\":\"v\\u0031\",\"imageManifest\":\"{\\\"schemaVersion\\\":2,"
                         "\\\"mediaType\\\":\\\"application\\/vnd.docker.distribution.manifest.v2+json\\\",\\\"config\\\":"
                         "{\\\"mediaType\\\":\\\"application/vnd.docker.container.image.v1+json\\\",\\\"size\\\":%zu,"
                         "\\\"digest\\\":\\\"%s\\\"},\\\"layers\\\":[{\\\"mediaType\\\":\\\"application/vnd.docker.image."
                         "rootfs.diff.tar.gzip\\\",\\\"size\\\":5,\\\"digest\\\":\\\"%s\\\"}],\\\"annotations\\\":{%s}}\"}",
                         strlen(config), cfg, lay, annotations) >= 0);
    free(annotations);
    /* the immutable repository's tag t taken: a second push there is declined after its answer is written */
    char *texts[2];
    for (int i = 0; i < 2; i++) {
        char *plain = make_manifest(m, "imm", 1, 7 + i);
        json_t *q = json_string(plain);
        char *qp = json_dumps(q, JSON_ENCODE_ANY | JSON_COMPACT);
        json_decref(q);
        free(plain);
        assert_true(asprintf(&texts[i], "{\"repositoryName\":\"imm\",\"imageManifest\":%s,\"imageTag\":\"t\"}", qp) >= 0);
        free(qp);
    }
    char *out = NULL;
    bool injected;
    assert_int_equal(raw_failing(m, "PutImage", texts[0], -1, &injected, &out), 200);
    ecrmock_buffer_free(out);
    free(texts[0]);
    *body_imm2 = texts[1];
}

static void test_alloc_failure_fast_forms(void **state)
{
    (void)state;
    ecrmock *m = ecrmock_new(NULL);
    assert_non_null(m);
    char *body_esc, *body_imm2, *ids = malloc(8192), *o = ids, *batch = NULL, *describe = NULL;
    assert_non_null(ids);
    fast_forms_setup(m, &body_esc, &body_imm2);
    for (int i = 0; i < 100; i++)
        o += sprintf(o, "%s{\"imageTag\":\"%s\"}", i ? "," : "", i % 3 ? "v\\u0031" : i % 2 ? "t" : "n\\u00e9");
    assert_true(asprintf(&batch, "{\"repositoryName\":\"web\",\"imageIds\":[%s]}", ids) >= 0);
    assert_true(asprintf(&describe, "{\"repositoryName\":\"web\",\"imageIds\":[%s],\"x\":[[[{}]]]}",
                         strstr(ids, "{\"imageTag\":\"v\\u0031\"}")) >= 0);
    /* a schema 1 manifest of 70 distinct blobs (a table of them), none there */
    char *schema1 = malloc(8192);
    assert_non_null(schema1);
    o = schema1 + sprintf(schema1, "{\"repositoryName\":\"web\",\"imageManifest\":\"{\\\"schemaVersion\\\":1,"
                                   "\\\"fsLayers\\\":[");
    for (int i = 0; i < 140; i++) /* each twice */
        o += sprintf(o, "%s{\\\"blobSum\\\":\\\"a:%x\\\"}", i ? "," : "", i % 70 + 1);
    sprintf(o, "]}\"}");
    bool injected;

    const struct {
        const char *action, *body;
        bool writes; /* a success changes the state */
    } steps[] = {
        {"PutImage", body_esc, true},
        {"PutImage", body_imm2, false}, /* 400 ImageTagAlreadyExistsException, or 500 */
        {"BatchGetImage", batch, false},
        {"DescribeImages", describe, false},
        {"DescribeImages", "{\"repositoryName\":\"w\\u0065b\",\"maxResults\":1000}", false},
        {"DescribeRepositories", "{\"repositoryNames\":[\"web\",\"imm\",\"w\\u0065b\"]}", false},
        {"DescribeRepositories", "{\"maxResults\":1000}", false},
        {"PutImage", schema1, false}, /* 400 LayersNotFoundException, or 500 */
    };
    long total = 0;
    for (size_t s = 0; s < sizeof steps / sizeof *steps; s++) {
        char *want = NULL;
        int want_status = 0;
        long failures = 0;
        for (long n = 0;; n++) {
            /* a write's every run on an instance of its own, built alike (the same digests, times, answers) */
            ecrmock *w = m;
            if (steps[s].writes) {
                assert_non_null(w = ecrmock_new(NULL));
                char *a, *b;
                fast_forms_setup(w, &a, &b);
                free(a), free(b);
                for (size_t k = 0; k < s; k++) {
                    char *out = NULL;
                    raw_failing(w, steps[k].action, steps[k].body, -1, &injected, &out);
                    ecrmock_buffer_free(out);
                }
            }
            json_t *before = ecrmock_snapshot(w, NULL);
            char *out = NULL;
            /* run 0: what the call answers with memory */
            int status = raw_failing(w, steps[s].action, steps[s].body, n ? n : -1, &injected, &out);
            bool done = n && !injected;
            if (!n) {
                want = out;
                want_status = status;
                out = NULL;
            } else if (status != want_status || strcmp(out, want) != 0) {
                failures++;
                if (status != 500 && status != -1)
                    fail_msg("%s %.80s, allocation %ld failed: %d %s\n  want %d %s", steps[s].action, steps[s].body, n,
                             status, out ? out : "", want_status, want);
                if (status == 500 && !strstr(out, "ServerException"))
                    fail_msg("%s, allocation %ld failed: %s", steps[s].action, n, out);
                json_t *after = ecrmock_snapshot(w, NULL);
                if (!json_equal(before, after))
                    fail_msg("%s, allocation %ld failed: the state changed", steps[s].action, n);
                json_decref(after);
            }
            json_decref(before);
            ecrmock_buffer_free(out);
            if (w != m)
                ecrmock_free(w);
            if (done)
                break;
        }
        ecrmock_buffer_free(want);
        total += failures;
    }
    assert_true(total > 0); /* a form that declines leaves the handler memory to answer with: not every run fails */
    free(body_esc), free(body_imm2), free(ids), free(batch), free(describe), free(schema1);
    ecrmock_free(m);
}

int main(void)
{
    ecrmock_set_alloc_funcs(failing_malloc, failing_realloc, failing_free);
    json_set_alloc_funcs(failing_malloc, failing_free);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alloc_failure_json_level),
        cmocka_unit_test(test_alloc_failure_wire_level),
        cmocka_unit_test(test_alloc_failure_new_and_fixture),
        cmocka_unit_test(test_alloc_failure_compact_declared_fixture),
        cmocka_unit_test(test_alloc_failure_scenario),
        cmocka_unit_test(test_alloc_failure_keeps_an_empty_registry),
        cmocka_unit_test(test_alloc_failure_newer_actions),
        cmocka_unit_test(test_alloc_failure_lifecycle_transitions),
        cmocka_unit_test(test_alloc_failure_images),
        cmocka_unit_test(test_alloc_failure_control_api),
        cmocka_unit_test(test_alloc_failure_create_repository_for),
        cmocka_unit_test(test_alloc_failure_prepared_fixture),
        cmocka_unit_test(test_alloc_failure_tag_moves),
        cmocka_unit_test(test_alloc_failure_layer_indexes_grow),
        cmocka_unit_test(test_alloc_failure_reads_answer_whole),
        cmocka_unit_test(test_alloc_failure_invalid_part_whole),
        cmocka_unit_test(test_alloc_failure_fast_forms),
    };
    return cmocka_run_group_tests_name("alloc_failure", tests, NULL, NULL);
}
