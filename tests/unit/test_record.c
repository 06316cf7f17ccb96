/*
 * The scenario recorder: a journal recorded as a scenario replays on a fresh
 * instance with no failure; upload ids and image digests become captures;
 * clock moves, fault rules and "${" in requests survive the trip.
 */
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "helpers.h"

static char tool_path[512];

/* Replays `sc` on a fresh instance; asserts no step failed. */
static void assert_replays(json_t *sc)
{
    char *report = NULL;
    ecrmock_err err;
    size_t len = 0;
    FILE *out = open_memstream(&report, &len);
    assert_non_null(out);
    int rc = ecrmock_scenario_run(NULL, sc, NULL, out, &err);
    fclose(out);
    if (rc != 0) {
        char *text = json_dumps(sc, JSON_INDENT(1));
        fail_msg("replay: %d %s: %s\n%s\n%s", rc, err.path, err.text, report, text);
    }
    free(report);
}

/* Uploads `text` in one part through the calls (journaled, so replayable);
 * writes its digest. */
static void upload_blob(ecrmock *m, const char *text, char *digest)
{
    json_t *r = NULL;
    char upload[64];
    initiate_upload(m, "web", upload);
    size_t n = strlen(text);
    unsigned char b64[256];
    EVP_EncodeBlock(b64, (const unsigned char *)text, (int)n);
    sha256_digest(text, n, digest);
    json_t *req = json_pack("{s:s, s:s, s:i, s:i, s:s}", "repositoryName", "web", "uploadId", upload, "partFirstByte", 0,
                            "partLastByte", (int)n - 1, "layerPartBlob", (const char *)b64);
    assert_ok(ecrmock_call(m, "UploadLayerPart", req, &r), r);
    json_decref(r);
    json_decref(req);
    call_ok(m, "CompleteLayerUpload", "{\"repositoryName\": \"web\", \"uploadId\": \"%s\", "
                                      "\"layerDigests\": [\"%s\"]}", upload, digest);
}

static json_t *step(json_t *sc, size_t i)
{
    return json_array_get(json_object_get(sc, "steps"), i);
}

/* A push through the wire flow, recorded, replays; the upload id and the
 * image digest are captured where ECR handed them out and referenced after. */
static void test_record_push_replays_with_captures(void **state)
{
    ecrmock *m = *state;
    json_t *r = NULL;
    create_repo(m, "web");
    char upload[64];
    initiate_upload(m, "web", upload);
    /* "config" and "layer!" */
    call_ok(m, "UploadLayerPart", "{\"repositoryName\": \"web\", \"uploadId\": \"%s\", \"partFirstByte\": 0, "
                                  "\"partLastByte\": 5, \"layerPartBlob\": \"Y29uZmln\"}", upload);
    char digest[ECRMOCK_DIGEST_SIZE];
    assert_ok(call(m, &r, "CompleteLayerUpload", "{\"repositoryName\": \"web\", \"uploadId\": \"%s\", \"layerDigests\": "
                                                 "[\"sha256:b79606fb3afea5bd1609ed40b622142f1c98125abcfe89a76a661b0e8e343910\"]}", upload), r);
    snprintf(digest, sizeof digest, "%s", json_string_value(json_object_get(r, "layerDigest")));
    json_decref(r);
    char layer[ECRMOCK_DIGEST_SIZE];
    upload_blob(m, "layer!", layer);
    char manifest[1024];
    snprintf(manifest, sizeof manifest,
             "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\","
             "\"config\":{\"mediaType\":\"application/vnd.docker.container.image.v1+json\",\"size\":6,"
             "\"digest\":\"%s\"},\"layers\":[{\"mediaType\":\"application/vnd.docker.image.rootfs.diff.tar.gzip\","
             "\"size\":6,\"digest\":\"%s\"}]}",
             digest, layer);
    char *image = put_image(m, "web", manifest, "v1");
    call_ok(m, "BatchGetImage", "{\"repositoryName\": \"web\", \"imageIds\": [{\"imageDigest\": \"%s\"}]}", image);
    call_ok(m, "DescribeImages", "{\"repositoryName\": \"web\"}");

    json_t *sc = ecrmock_scenario_record(m, NULL, NULL);
    assert_non_null(sc);
    assert_null(json_object_get(sc, "fixture"));
    json_t *opts = json_object_get(sc, "options");
    assert_string_equal(json_string_value(json_object_get(opts, "accountId")), "123456789012");
    assert_string_equal(json_string_value(json_object_get(opts, "region")), "us-east-1");
    assert_int_equal(json_integer_value(json_object_get(opts, "seed")), 0);
    assert_int_equal(json_integer_value(json_object_get(opts, "minPartSize")), 1024);
    assert_int_equal(json_array_size(json_object_get(sc, "steps")), 10);

    /* step 1 hands out the upload id: captured, referenced by the next two */
    assert_string_equal(json_string_value(json_object_get(step(sc, 1), "action")), "InitiateLayerUpload");
    assert_string_equal(json_string_value(json_object_get(json_object_get(step(sc, 1), "capture"), "uploadId")),
                        "$.uploadId");
    assert_string_equal(json_string_value(json_object_get(json_object_get(step(sc, 2), "request"), "uploadId")),
                        "${uploadId}");
    assert_string_equal(json_string_value(json_object_get(json_object_get(step(sc, 3), "request"), "uploadId")),
                        "${uploadId}");
    /* the step that hands it out captures it and pins no value ("${*}"): a
     * recording made at another level or order of draws still replays */
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(json_object_get(step(sc, 1), "expect"), "response"), "uploadId")),
        "${*}");
    /* the layer digest was the client's to begin with: sent as it is */
    assert_null(json_object_get(step(sc, 3), "capture"));
    /* PutImage hands out the image digest: BatchGetImage sends it back */
    assert_string_equal(json_string_value(json_object_get(json_object_get(step(sc, 7), "capture"), "imageDigest")),
                        "$.image.imageId.imageDigest");
    json_t *ids = json_object_get(json_object_get(step(sc, 8), "request"), "imageIds");
    assert_string_equal(json_string_value(json_object_get(json_array_get(ids, 0), "imageDigest")), "${imageDigest}");
    /* expectations: status and the whole answer */
    /* the second upload's id has a name of its own */
    assert_string_equal(json_string_value(json_object_get(json_object_get(step(sc, 5), "request"), "uploadId")),
                        "${uploadId2}");
    json_t *expect = json_object_get(step(sc, 7), "expect");
    assert_int_equal(json_integer_value(json_object_get(expect, "status")), 200);
    assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(json_object_get(expect,
                        "response"), "image"), "imageId"), "imageTag")), "v1");

    assert_replays(sc);
    json_decref(sc);
    free(image);
}

/* Errors, clock moves (an upload that expired), a throttling rule and an
 * apply-then-error rule: recorded, the replay gives the same answers. */
static void test_record_errors_clock_and_faults_replay(void **state)
{
    ecrmock *m = *state;
    json_t *r = NULL;
    create_repo(m, "web");
    assert_error(call(m, &r, "CreateRepository", "{\"repositoryName\": \"web\"}"), r, 400,
                 "RepositoryAlreadyExistsException");
    char upload[64];
    initiate_upload(m, "web", upload);
    ecrmock_clock_advance(m, 25 * 3600 * 1000, NULL);
    assert_error(call(m, &r, "UploadLayerPart", "{\"repositoryName\": \"web\", \"uploadId\": \"%s\", \"partFirstByte\": 0, "
                                                "\"partLastByte\": 1, \"layerPartBlob\": \"YWI=\"}", upload), r, 400,
                 "UploadNotFoundException");
    json_t *rule = json_pack("{s:s, s:i, s:i}", "action", "DescribeRepositories", "nth", 1, "count", 1);
    assert_true(ecrmock_fault_add_json(m, rule, NULL) > 0);
    json_decref(rule);
    assert_error(call(m, &r, "DescribeRepositories", "{}"), r, 400, "ThrottlingException");
    char config[ECRMOCK_DIGEST_SIZE], manifest[512];
    upload_blob(m, "{}", config);
    snprintf(manifest, sizeof manifest,
             "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":"
             "{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"size\":2,\"digest\":\"%s\"},"
             "\"layers\":[]}",
             config);
    rule = json_pack("{s:s, s:s, s:s, s:i}", "action", "PutImage", "effect", "apply-then-error", "error", "ServerException",
                     "count", 1);
    assert_true(ecrmock_fault_add_json(m, rule, NULL) > 0);
    json_decref(rule);
    json_t *req = json_pack("{s:s, s:s, s:s}", "repositoryName", "web", "imageManifest", manifest, "imageTag", "v1");
    assert_error(ecrmock_call(m, "PutImage", req, &r), r, 500, "ServerException");
    json_decref(req);
    call_ok(m, "ListImages", "{\"repositoryName\": \"web\"}");
    ecrmock_clock_advance(m, 1500, NULL);
    call_ok(m, "GetAuthorizationToken", "{}");

    json_t *sc = ecrmock_scenario_record(m, NULL, NULL);
    assert_non_null(sc);
    /* the clock moves are there */
    assert_int_equal(json_integer_value(json_object_get(step(sc, 3), "advanceClockMs")), 25 * 3600 * 1000);
    assert_int_equal(json_integer_value(json_object_get(step(sc, 10), "advanceClockMs")), 1500);
    /* the throttled call carries its rule; the other steps none but PutImage's */
    json_t *f = json_array_get(json_object_get(step(sc, 4), "faults"), 0);
    assert_string_equal(json_string_value(json_object_get(f, "error")), "ThrottlingException");
    assert_string_equal(json_string_value(json_object_get(f, "message")), "Rate exceeded");
    assert_int_equal(json_integer_value(json_object_get(f, "count")), 1);
    f = json_array_get(json_object_get(step(sc, 8), "faults"), 0);
    assert_string_equal(json_string_value(json_object_get(f, "effect")), "apply-then-error");
    assert_null(json_object_get(step(sc, 9), "faults"));
    assert_string_equal(json_string_value(json_object_get(json_object_get(step(sc, 1), "expect"), "error")),
                        "RepositoryAlreadyExistsException");
    assert_replays(sc);
    json_decref(sc);
}

/* A rule removed before the recording is replayed with the effect the
 * journal saw: an apply-then-error CreateRepository still creates. */
static void test_record_removed_rule_keeps_its_effect(void **state)
{
    ecrmock *m = *state;
    json_t *rule = json_pack("{s:s, s:s, s:s, s:i}", "action", "CreateRepository", "effect", "apply-then-error", "error",
                             "ServerException", "count", 1);
    long id = ecrmock_fault_add_json(m, rule, NULL);
    json_decref(rule);
    json_t *r = NULL;
    assert_error(call(m, &r, "CreateRepository", "{\"repositoryName\": \"web\"}"), r, 500, "ServerException");
    assert_int_equal(ecrmock_fault_remove(m, id, NULL), 0);
    assert_error(call(m, &r, "CreateRepository", "{\"repositoryName\": \"web\"}"), r, 400,
                 "RepositoryAlreadyExistsException");
    json_t *sc = ecrmock_scenario_record(m, NULL, NULL);
    json_t *f = json_array_get(json_object_get(step(sc, 0), "faults"), 0);
    assert_string_equal(json_string_value(json_object_get(f, "effect")), "apply-then-error");
    assert_replays(sc);
    json_decref(sc);
}

/* A request string holding "${" is sent as it is on replay. */
static void test_record_escapes_dollar_brace(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "web");
    const char *policy = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"${aws:username}\",\"Effect\":\"Allow\","
                         "\"Principal\":\"*\",\"Action\":\"ecr:ListImages\"}]}";
    json_t *req = json_pack("{s:s, s:s}", "repositoryName", "web", "policyText", policy);
    json_t *r = NULL;
    assert_ok(ecrmock_call(m, "SetRepositoryPolicy", req, &r), r);
    json_decref(r);
    json_decref(req);
    json_t *sc = ecrmock_scenario_record(m, "fixtures/none.json", NULL);
    assert_string_equal(json_string_value(json_object_get(sc, "fixture")), "fixtures/none.json");
    json_object_del(sc, "fixture");
    const char *sent = json_string_value(json_object_get(json_object_get(step(sc, 1), "request"), "policyText"));
    assert_non_null(strstr(sent, "\"Sid\":\"$${aws:username}\""));
    assert_replays(sc);
    json_decref(sc);
}

/* A call whose action name is not UTF-8 is recorded (U+FFFD for each bad
 * byte) and replays: the same UnknownOperationException. */
static void test_record_non_utf8_action_replays(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "web");
    char *out = NULL;
    size_t len = 0;
    assert_int_equal(ecrmock_call_raw(m, "\xffListImages", "{}", 2, &out, &len), 400);
    free(out);
    json_t *sc = ecrmock_scenario_record(m, NULL, NULL);
    assert_non_null(sc);
    assert_string_equal(json_string_value(json_object_get(step(sc, 1), "action")), "\xef\xbf\xbdListImages");
    assert_replays(sc);
    json_decref(sc);
}

/* A body that was not JSON (the wire and HTTP levels) is journaled with a
 * null request; its step answers the same through a one-shot rule, so the
 * recording replays. */
static void test_record_body_not_json_replays(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "web");
    char *out = NULL;
    size_t len = 0;
    assert_int_equal(ecrmock_call_raw(m, "ListImages", "{oops", 5, &out, &len), 400);
    free(out);
    json_t *e = ecrmock_journal_entry(m, -1, NULL);
    assert_true(json_is_null(json_object_get(e, "request")));
    assert_true(json_is_false(json_object_get(e, "ran")));
    json_decref(e);
    call_ok(m, "ListImages", "{\"repositoryName\": \"web\"}");
    json_t *sc = ecrmock_scenario_record(m, NULL, NULL);
    assert_non_null(sc);
    json_t *f = json_array_get(json_object_get(step(sc, 1), "faults"), 0);
    assert_string_equal(json_string_value(json_object_get(f, "error")), "SerializationException");
    assert_string_equal(json_string_value(json_object_get(json_object_get(step(sc, 1), "expect"), "message")),
                        "The request body is not valid JSON (at character 5)");
    assert_replays(sc);
    json_decref(sc);
}

/* A fixture's clock is where the replay starts: the recording's first step
 * moves the clock from there. */
static void test_record_with_fixture_clock(void **state)
{
    (void)state;
    char path[] = "/tmp/ecrmock-fixture-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *fixture = "{\"clock\": \"2024-03-01T09:00:00Z\", \"registries\": [{\"repositories\": [{\"name\": \"web\"}]}]}";
    assert_int_equal(write(fd, fixture, strlen(fixture)), (ssize_t)strlen(fixture));
    close(fd);
    ecrmock *m = ecrmock_new(NULL);
    assert_int_equal(ecrmock_fixture_load_file(m, path, NULL), 0);
    ecrmock_clock_advance(m, 60000, NULL);
    call_ok(m, "CreateRepository", "{\"repositoryName\": \"api\"}");
    json_t *sc = ecrmock_scenario_record(m, path, NULL);
    assert_int_equal(json_integer_value(json_object_get(step(sc, 0), "advanceClockMs")), 60000);
    assert_replays(sc);
    json_decref(sc);
    ecrmock_free(m);
    unlink(path);
}

/* The files of an ecrmock-run --record run, in a temporary directory of their own. */
typedef struct cli_files {
    char dir[32], scenario[128], rec[128];
} cli_files;

/* Writes `text` as the scenario and runs ecrmock-run --record on it; returns
 * its exit status.  record_cli_done() removes the files. */
static int record_cli(cli_files *t, const char *text)
{
    if (!t->dir[0]) {
        strcpy(t->dir, "/tmp/ecrmock-rec-XXXXXX");
        assert_non_null(mkdtemp(t->dir));
        snprintf(t->scenario, sizeof t->scenario, "%s/s.json", t->dir);
        snprintf(t->rec, sizeof t->rec, "%s/rec.json", t->dir);
    }
    FILE *f = fopen(t->scenario, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s -q --record %s %s >/dev/null 2>&1", tool_path, t->rec, t->scenario);
    int st = system(cmd);
    assert_true(WIFEXITED(st));
    return WEXITSTATUS(st);
}

static void record_cli_done(cli_files *t)
{
    unlink(t->scenario);
    unlink(t->rec);
    rmdir(t->dir);
}

/* ecrmock-run --record: the recording of a scenario replays. */
static void test_record_cli(void **state)
{
    (void)state;
    cli_files t = {{0}};
    assert_int_equal(
        record_cli(&t, "{\"options\": {\"seed\": 3, \"minPartSize\": 2},"
                       "\"steps\": [{\"action\": \"CreateRepository\", \"request\": {\"repositoryName\": \"web\"}},"
                       "{\"action\": \"InitiateLayerUpload\", \"request\": {\"repositoryName\": \"web\"}, \"capture\": "
                       "{\"u\": \"$.uploadId\"}},"
                       "{\"action\": \"UploadLayerPart\", \"advanceClockMs\": 10, \"request\": {\"repositoryName\": "
                       "\"web\", \"uploadId\": \"${u}\", \"partFirstByte\": 0, \"partLastByte\": 1, \"layerPartBlob\": "
                       "\"${base64:ab}\"}},"
                       "{\"action\": \"CompleteLayerUpload\", \"request\": {\"repositoryName\": \"web\", \"uploadId\": "
                       "\"${u}\", \"layerDigests\": [\"${sha256:ab}\"]}}]}"),
        0);
    ecrmock_err err;
    assert_int_equal(ecrmock_scenario_run_file(NULL, t.rec, NULL, &err), 0);
    json_t *sc = json_load_file(t.rec, 0, NULL);
    assert_non_null(sc);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(sc, "options"), "seed")), 3);
    assert_string_equal(json_string_value(json_object_get(json_object_get(step(sc, 2), "request"), "uploadId")),
                        "${uploadId}");
    json_decref(sc);
    record_cli_done(&t);
}

/* Every option through ecrmock-run: read from the scenario, the instance
 * made with it, and written back into the recording's "options". */
static void test_record_cli_every_option(void **state)
{
    (void)state;
    cli_files t = {{0}};
    for (size_t i = 0; i < option_case_count; i++) {
        const option_case *c = &option_cases[i];
        char text[256];
        snprintf(text, sizeof text, "{\"options\": {\"%s\": %s}, \"steps\": [{\"action\": \"DescribeRepositories\"}]}",
                 c->json, c->value);
        int st = record_cli(&t, text);
        if (st != 0)
            fail_msg("%s: ecrmock-run exited %d", text, st);
        json_t *sc = json_load_file(t.rec, 0, NULL), *want = json_loads(c->value, JSON_DECODE_ANY, NULL);
        assert_non_null(sc);
        if (!json_equal(json_object_get(json_object_get(sc, "options"), c->json), want))
            fail_msg("%s: the recording has another value", text);
        json_decref(sc);
        json_decref(want);
    }
    record_cli_done(&t);
}

/* ecrmock_scenario_record by the ecrmock_err convention. */
static void test_record_err(void **state)
{
    ecrmock *m = *state;
    assert_null(ecrmock_scenario_record(NULL, NULL, &test_err));
    assert_int_equal(ERR_CODE(-1), ECRMOCK_ERR_INVALID_PARAMETER);
    assert_string_equal(test_err.path, "");
    assert_string_equal(test_err.text, "no instance (m is NULL)");
    assert_null(ecrmock_scenario_record(NULL, NULL, NULL));
    call_ok(m, "DescribeRegistry", "{}");
    json_t *sc = ecrmock_scenario_record(m, NULL, dirty_err());
    assert_non_null(sc);
    assert_int_equal(ERR_CODE(0), ECRMOCK_ERR_OK);
    assert_int_equal(json_array_size(json_object_get(sc, "steps")), 1);
    json_decref(sc);
}

/* ---- a push through the registry plane (/v2/) ------------------------------------------ */

#define REG_HOST "123456789012.dkr.ecr.us-east-1.amazonaws.com"

/* One /v2/ request on the registry host, with header `name` (NULL: none);
 * the status, its Location's path into location[cap] (may be NULL). */
static int v2(ecrmock *m, const char *auth, const char *method, const char *path, const char *name,
              const char *value, const void *body, size_t len, char *location, size_t cap)
{
    ecrmock_http_header h[3] = {{"Host", REG_HOST}, {"Authorization", auth}, {name, value}};
    ecrmock_http_request req = ECRMOCK_HTTP_REQUEST_INIT;
    req.method = method;
    req.target = path;
    req.headers = h;
    req.n_headers = name ? 3 : 2;
    req.body = body;
    req.body_len = len;
    ecrmock_http_response r;
    int st = ecrmock_http_handle(m, &req, &r);
    const char *loc = ecrmock_http_response_header(&r, "Location");
    if (location && loc)
        snprintf(location, cap, "%s", loc + strlen("https://" REG_HOST));
    ecrmock_http_response_release(&r);
    return st;
}

/* Pushes bytes[0..len) as a blob of "web" through /v2/: POST, PATCHes of
 * `chunk` bytes (with Content-Range), the rest in the PUT ?digest= (a body:
 * its own UploadLayerPart); its digest into d. */
static void v2_blob(ecrmock *m, const char *auth, const unsigned char *bytes, size_t len, size_t chunk,
                    size_t in_put, char *d)
{
    char upload[512], put[700];
    sha256_digest(bytes, len, d);
    assert_int_equal(v2(m, auth, "POST", "/v2/web/blobs/uploads/", NULL, NULL, NULL, 0, upload, sizeof upload), 202);
    size_t at = 0;
    while (at + in_put < len) {
        size_t n = len - in_put - at < chunk ? len - in_put - at : chunk;
        char range[64];
        snprintf(range, sizeof range, "%zu-%zu", at, at + n - 1);
        assert_int_equal(v2(m, auth, "PATCH", upload, "Content-Range", range, bytes + at, n, NULL, 0), 201);
        at += n;
    }
    snprintf(put, sizeof put, "%s?digest=%s", upload, d);
    assert_int_equal(v2(m, auth, "PUT", put, NULL, NULL, bytes + at, len - at, NULL, 0), 201);
}

/* The images of "web" as DescribeImages gives them, without the pull and
 * push times (new reference). */
static json_t *web_images(ecrmock *m)
{
    json_t *out = NULL;
    assert_int_equal(call(m, &out, "DescribeImages", "{\"repositoryName\": \"web\"}"), 200);
    json_t *list = json_incref(json_object_get(out, "imageDetails"));
    json_decref(out);
    size_t i;
    json_t *d;
    json_array_foreach(list, i, d) {
        json_object_del(d, "imagePushedAt");
        json_object_del(d, "lastRecordedPullTime");
    }
    return list;
}

/* A push through the registry plane, recorded, replays on a fresh instance:
 * the journal holds each /v2/ part's bytes (base64 layerPartBlob, as the JSON
 * level sends them), so the replay stores the same layers and the same
 * image: DescribeImages gives the same digests and sizes, and the layers the
 * same bytes.  (The journal kept only layerPartLength before: the replay's
 * UploadLayerPart had no bytes.) */
static void test_record_v2_push_replays(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "web");
    json_t *out = NULL;
    assert_int_equal(call(m, &out, "GetAuthorizationToken", "{}"), 200);
    char auth[4096];
    snprintf(auth, sizeof auth, "Basic %s",
             json_string_value(json_object_get(json_array_get(json_object_get(out, "authorizationData"), 0),
                                               "authorizationToken")));
    json_decref(out);
    /* A layer in 1 KiB chunks (the minimum part) and a last piece in the PUT, bytes of every value. */
    static unsigned char layer[3 * 1024 + 100];
    for (size_t i = 0; i < sizeof layer; i++)
        layer[i] = (unsigned char)(i * 131 + (i >> 8));
    const char *config = "{\"os\":\"linux\",\"architecture\":\"amd64\"}";
    char ld[ECRMOCK_DIGEST_SIZE], cd[ECRMOCK_DIGEST_SIZE];
    v2_blob(m, auth, layer, sizeof layer, 1024, 100, ld);
    v2_blob(m, auth, (const unsigned char *)config, strlen(config), 1024, 0, cd);
    char mf[1024];
    int n = snprintf(mf, sizeof mf,
                     "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\","
                     "\"config\":{\"mediaType\":\"application/vnd.docker.container.image.v1+json\",\"size\":%zu,"
                     "\"digest\":\"%s\"},\"layers\":[{\"mediaType\":\"application/vnd.docker.image.rootfs.diff.tar."
                     "gzip\",\"size\":%zu,\"digest\":\"%s\"}]}",
                     strlen(config), cd, sizeof layer, ld);
    assert_int_equal(v2(m, auth, "PUT", "/v2/web/manifests/v1", "Content-Type",
                        "application/vnd.docker.distribution.manifest.v2+json", mf, (size_t)n, NULL, 0),
                     201);
    json_t *want = web_images(m);
    assert_int_equal(json_array_size(want), 1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(want, 0), "imageSizeInBytes")),
                     (json_int_t)sizeof layer); /* the layers' sizes, not the config's */

    json_t *sc = ecrmock_scenario_record(m, NULL, NULL);
    assert_non_null(sc);
    ecrmock_options o = ECRMOCK_OPTIONS_INIT;
    o.min_part_size = 1024;
    ecrmock *fresh = ecrmock_new(&o);
    assert_non_null(fresh);
    char *report = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&report, &len);
    assert_non_null(f);
    ecrmock_err err;
    int rc = ecrmock_scenario_run(fresh, sc, NULL, f, &err);
    fclose(f);
    if (rc != 0)
        fail_msg("replay: %d %s: %s\n%s", rc, err.path, err.text, report);
    free(report);
    json_t *got = web_images(fresh);
    if (!json_equal(want, got)) {
        char *a = json_dumps(want, JSON_INDENT(1)), *b = json_dumps(got, JSON_INDENT(1));
        fail_msg("recorded %s\nreplayed %s", a, b); /* a and b: the test ends here */
    }
    /* The layer's bytes, pulled from the replay. */
    json_t *url = NULL;
    assert_int_equal(call(fresh, &url, "GetDownloadUrlForLayer", "{\"repositoryName\": \"web\", \"layerDigest\": \"%s\"}",
                          ld), 200);
    void *bytes = NULL;
    size_t blen = 0;
    assert_int_equal(ecrmock_fetch_url(fresh, json_string_value(json_object_get(url, "downloadUrl")), &bytes, &blen),
                     200);
    assert_int_equal(blen, sizeof layer);
    assert_memory_equal(bytes, layer, sizeof layer);
    ecrmock_buffer_free(bytes);
    json_decref(url);
    json_decref(got);
    json_decref(want);
    json_decref(sc);
    ecrmock_free(fresh);
}

/* A call the journal kept without its bodies (over journal_max_bytes)
 * cannot be replayed: the recorder refuses, saying which and what to do. */
static void test_record_refuses_dropped_bodies(void **state)
{
    (void)state;
    ecrmock_options o = ECRMOCK_OPTIONS_INIT;
    o.journal_max_bytes = 100;
    ecrmock *m = ecrmock_new(&o);
    create_repo(m, "web"); /* its response alone is over 100 bytes */
    ecrmock_err err;
    assert_null(ecrmock_scenario_record(m, NULL, &err));
    assert_int_equal(err.code, ECRMOCK_ERR_INVALID_PARAMETER);
    assert_string_equal(err.text, "journal entry 0 (seq 1, CreateRepository) dropped its request and response: the "
                                  "call was larger than journal_max_bytes (100); raise that option to record it");
    ecrmock_free(m);
    /* with room for it, the same call records */
    o.journal_max_bytes = 0;
    m = ecrmock_new(&o);
    create_repo(m, "web");
    json_t *sc = ecrmock_scenario_record(m, NULL, &err);
    assert_non_null(sc);
    json_decref(sc);
    ecrmock_free(m);
}

/* A before-hook that puts a member whose name is not UTF-8 into the request
 * (the JSON level refuses such a request from its caller). */
static void bad_name_hook(void *user, const char *action, json_t *request, ecrmock_injection *inject)
{
    (void)user;
    (void)action;
    (void)inject;
    json_object_setn_new_nocheck(request, "\xff\xfe", 2, json_integer(1));
}

/* Attack: member names a JSON-level request may carry that no wire body
 * does.  A name with a NUL ("x\u0000y", which JSON text can write) was cut
 * at the NUL, so that the recording sent "x" (and lost the call's own "x"
 * to it); a name that is not UTF-8, which no JSON text can hold (a hook
 * put it there), failed the recording as "out of memory".  Now the first
 * is kept whole, and the second refused, naming the entry. */
static void test_record_member_names_nul_and_not_utf8(void **state)
{
    ecrmock *m = *state;
    json_t *req = json_pack("{s:s, s:i}", "repositoryName", "nulkey", "x", 2), *r = NULL;
    json_object_setn_new(req, "x\0y", 3, json_integer(1));
    assert_int_equal(ecrmock_call(m, "CreateRepository", req, &r), 200);
    json_decref(req);
    json_decref(r);
    ecrmock_err err;
    json_t *sc = ecrmock_scenario_record(m, NULL, &err);
    assert_non_null(sc);
    json_t *sent = json_object_get(json_array_get(json_object_get(sc, "steps"), 0), "request");
    assert_int_equal(json_object_size(sent), 3);
    assert_int_equal(json_integer_value(json_object_getn(sent, "x\0y", 3)), 1);
    assert_int_equal(json_integer_value(json_object_get(sent, "x")), 2);
    json_decref(sc);

    ecrmock_hooks_set(m, bad_name_hook, NULL, NULL);
    req = json_pack("{s:s}", "repositoryName", "badkey");
    assert_int_equal(ecrmock_call(m, "CreateRepository", req, &r), 200);
    ecrmock_hooks_set(m, NULL, NULL, NULL);
    json_decref(req);
    json_decref(r);
    assert_null(ecrmock_scenario_record(m, NULL, &err));
    assert_int_equal(err.code, ECRMOCK_ERR_INVALID_PARAMETER);
    assert_string_equal(err.text, "journal entry 1 (seq 2, CreateRepository) has a member name or a string that is "
                                  "not UTF-8 in its request (a JSON-level call's): a scenario, JSON text, cannot "
                                  "hold it");
}

int main(int argc, char **argv)
{
    (void)argc;
    build_tool_path(tool_path, sizeof tool_path, argv[0], "ecrmock-run");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_record_push_replays_with_captures, setup_mock, teardown_mock),
        cmocka_unit_test_setup_teardown(test_record_v2_push_replays, setup_mock, teardown_mock),
        cmocka_unit_test(test_record_refuses_dropped_bodies),
        cmocka_unit_test_setup_teardown(test_record_member_names_nul_and_not_utf8, setup_mock, teardown_mock),
        cmocka_unit_test_setup_teardown(test_record_errors_clock_and_faults_replay, setup_mock, teardown_mock),
        cmocka_unit_test_setup_teardown(test_record_removed_rule_keeps_its_effect, setup_mock, teardown_mock),
        cmocka_unit_test_setup_teardown(test_record_escapes_dollar_brace, setup_mock, teardown_mock),
        cmocka_unit_test_setup_teardown(test_record_non_utf8_action_replays, setup_mock, teardown_mock),
        cmocka_unit_test_setup_teardown(test_record_body_not_json_replays, setup_mock, teardown_mock),
        cmocka_unit_test(test_record_with_fixture_clock),
        cmocka_unit_test(test_record_cli),
        cmocka_unit_test(test_record_cli_every_option),
        cmocka_unit_test_setup_teardown(test_record_err, setup_mock, teardown_mock),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
