/*
 * The scenario runner: captures, ${...} functions, object members sent as
 * JSON text, subset expectations, the report's lines, clock moves, faults,
 * options, fixtures by path and inline, invalid scenarios, and the
 * ecrmock-run tool's exit statuses.
 */
#include <stdbool.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"

#include "ecrmock_cmocka.h"

/* The ecrmock-run next to this test binary's directory (build/tests/..). */
static char tool_path[512];

/* A refusal as "path: text" (malloc'd), after checking the convention:
 * -1 with InvalidParameter, a path and a text; else code OK and "". */
static char *err_string(int rc, const ecrmock_err *e)
{
    if (rc >= 0) {
        assert_int_equal(e->code, ECRMOCK_ERR_OK);
        assert_string_equal(e->path, "");
        assert_string_equal(e->text, "");
        return NULL;
    }
    assert_int_equal(e->code, ECRMOCK_ERR_INVALID_PARAMETER);
    assert_true(e->path[0] != '\0' && e->text[0] != '\0');
    size_t n = strlen(e->path) + 2 + strlen(e->text) + 1;
    char *both = malloc(n);
    assert_non_null(both);
    snprintf(both, n, "%s: %s", e->path, e->text);
    return both;
}

/* Runs a scenario written as JSON text on m (NULL: a fresh instance);
 * returns the runner's result, the report in *report (malloc'd) and the
 * error in *err (err_string's: malloc'd or NULL). */
static int run_text(ecrmock *m, const char *text, char **report, char **err)
{
    json_error_t jerr;
    json_t *sc = json_loads(text, 0, &jerr);
    if (!sc)
        fail_msg("test scenario is not JSON: %s (line %d): %s", jerr.text, jerr.line, text);
    size_t len = 0;
    char *buf = NULL;
    FILE *out = open_memstream(&buf, &len);
    assert_non_null(out);
    ecrmock_err e;
    int rc = ecrmock_scenario_run(m, sc, NULL, out, &e);
    fclose(out);
    json_decref(sc);
    if (report)
        *report = buf;
    else
        free(buf);
    char *both = err_string(rc, &e);
    if (err)
        *err = both;
    else
        free(both);
    return rc;
}

/* Runs and asserts every step passed; shows the report otherwise. */
static void run_ok(ecrmock *m, const char *text)
{
    char *report = NULL, *err = NULL;
    int rc = run_text(m, text, &report, &err);
    if (rc != 0)
        fail_msg("scenario: %d: %s%s", rc, err ? err : "", report ? report : "");
    free(report);
    free(err);
}

/* The request of journal entry `index` (new reference). */
static json_t *sent_request(ecrmock *m, long index)
{
    json_t *e = ecrmock_journal_entry(m, index, NULL);
    assert_non_null(e);
    json_t *req = json_incref(json_object_get(e, "request"));
    json_decref(e);
    return req;
}

/* A line of the report. */
static void assert_line(const char *report, const char *line)
{
    char *want = malloc(strlen(line) + 3);
    sprintf(want, "%s\n", line);
    bool found = strncmp(report, want, strlen(want)) == 0;
    if (!found) {
        sprintf(want, "\n%s\n", line);
        found = strstr(report, want) != NULL;
    }
    free(want);
    if (!found)
        fail_msg("no line\n  %s\nin the report:\n%s", line, report);
}

/* ---- captures and substitution ------------------------------------------------- */

/* Captures by member, by index and of a whole object; a reference that is
 * the whole string gives the captured value itself, inside a longer string
 * its text. */
static void test_scenario_captures_of_each_kind(void **state)
{
    ecrmock *m = *state;
    run_ok(m, "{\"steps\": ["
              "{\"action\": \"CreateRepository\", \"request\": {\"repositoryName\": \"web\"},"
              " \"capture\": {\"repo\": \"$.repository\", \"name\": \"$.repository.repositoryName\"}},"
              "{\"action\": \"DescribeRepositories\", \"request\": {},"
              " \"expect\": {\"response\": {\"repositories\": [\"${repo}\"]}},"
              " \"capture\": {\"first\": \"$.repositories[0].repositoryName\", \"all\": \"$\"}},"
              "{\"action\": \"DescribeRepositories\", \"expect\": {\"response\": \"${all}\"}},"
              "{\"action\": \"InitiateLayerUpload\", \"request\": {\"repositoryName\": \"${first}\"},"
              " \"capture\": {\"upload\": \"$.uploadId\"}},"
              "{\"action\": \"UploadLayerPart\", \"request\": {\"repositoryName\": \"${name}\","
              " \"uploadId\": \"${upload}\", \"partFirstByte\": 0, \"partLastByte\": 2,"
              " \"layerPartBlob\": \"${base64:abc}\"},"
              " \"expect\": {\"response\": {\"uploadId\": \"${upload}\", \"repositoryName\": \"${name}\"}}}"
              "]}");
    json_t *req = sent_request(m, -1);
    json_t *init = ecrmock_journal_entry(m, -2, NULL);
    assert_string_equal(json_string_value(json_object_get(req, "uploadId")),
                        json_string_value(json_object_get(json_object_get(init, "response"), "uploadId")));
    assert_string_equal(json_string_value(json_object_get(req, "repositoryName")), "web");
    json_decref(init);
    json_decref(req);
}

static void test_scenario_whole_reference_keeps_the_type(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "web");
    /* partSize (an integer) captured, sent back as an integer and inside a string as its text */
    run_ok(m, "{\"steps\": ["
              "{\"action\": \"InitiateLayerUpload\", \"request\": {\"repositoryName\": \"web\"},"
              " \"capture\": {\"size\": \"$.partSize\", \"upload\": \"$.uploadId\"}},"
              "{\"action\": \"UploadLayerPart\", \"request\": {\"repositoryName\": \"web\", \"uploadId\": \"${upload}\","
              " \"partFirstByte\": 0, \"partLastByte\": 2, \"layerPartBlob\": \"${base64:${size}}\"},"
              " \"expect\": {\"status\": 400, \"error\": \"InvalidLayerPartException\","
              "  \"response\": {\"lastValidByteReceived\": -1}}},"
              "{\"action\": \"UploadLayerPart\", \"request\": {\"repositoryName\": \"web\", \"uploadId\": \"${upload}\","
              " \"partFirstByte\": 0, \"partLastByte\": \"${len:${size}x}\", \"layerPartBlob\": \"${base64:${size}xy}\"}}"
              "]}");
    json_t *req = sent_request(m, -1);
    /* "2048x" is 5 bytes, sent as an integer: bytes 0..5 of "2048xy" */
    assert_true(json_is_integer(json_object_get(req, "partLastByte")));
    assert_int_equal(json_integer_value(json_object_get(req, "partLastByte")), 5);
    assert_string_equal(json_string_value(json_object_get(req, "layerPartBlob")), "MjA0OHh5");
    json_decref(req);
}

/* ${sha256:}, ${base64:} and ${len:} with braces inside, in a longer string,
 * and "$${" for a literal "${". */
static void test_scenario_functions(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "web");
    run_ok(m, "{\"steps\": [{\"action\": \"BatchCheckLayerAvailability\", \"request\": {\"repositoryName\": \"web\","
              " \"layerDigests\": [\"${sha256:{\\\"a\\\":1}}\", \"${sha256:}\"]},"
              " \"expect\": {\"response\": {\"failures\": [{\"layerDigest\": "
              "  \"sha256:015abd7f5cc57a2dd94b7590f04ad8084273905ee33ec5cebeae62276a97f862\"},"
              "  {\"layerDigest\": \"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\"}]}}},"
              "{\"action\": \"SetRepositoryPolicy\", \"request\": {\"repositoryName\": \"web\","
              " \"policyText\": \"{\\\"Version\\\":\\\"2012-10-17\\\",\\\"Statement\\\":[{\\\"Sid\\\":\\\"b${base64:hi}"
              "-${len:four}-$${aws:username}\\\",\\\"Effect\\\":\\\"Allow\\\",\\\"Principal\\\":\\\"*\\\","
              "\\\"Action\\\":\\\"ecr:ListImages\\\"}]}\"}}]}");
    json_t *req = sent_request(m, -1);
    assert_non_null(strstr(json_string_value(json_object_get(req, "policyText")), "\"Sid\":\"baGk=-4-${aws:username}\""));
    json_decref(req);
}

/* A member the model types as a string, given as JSON, is sent as its
 * compact text; other members are left alone. */
static void test_scenario_object_sent_as_text(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "web");
    run_ok(m, "{\"steps\": [{\"action\": \"SetRepositoryPolicy\", \"request\": {\"repositoryName\": \"web\","
              " \"policyText\": {\"Version\": \"2012-10-17\", \"Statement\": [{\"Effect\": \"Allow\","
              " \"Principal\": \"*\", \"Action\": [\"ecr:ListImages\"]}]}},"
              " \"expect\": {\"response\": {\"policyText\": \"{\\\"Version\\\":\\\"2012-10-17\\\",\\\"Statement\\\":"
              "[{\\\"Effect\\\":\\\"Allow\\\",\\\"Principal\\\":\\\"*\\\",\\\"Action\\\":[\\\"ecr:ListImages\\\"]}]}\"}}}]}");
    json_t *req = sent_request(m, -1);
    assert_string_equal(json_string_value(json_object_get(req, "policyText")),
                        "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\","
                        "\"Action\":[\"ecr:ListImages\"]}]}");
    json_decref(req);
    /* imageIds is a list in the model: an array stays an array */
    run_ok(m, "{\"steps\": [{\"action\": \"BatchGetImage\", \"request\": {\"repositoryName\": \"web\","
              " \"imageIds\": [{\"imageTag\": \"x\"}]}}]}");
    req = sent_request(m, -1);
    assert_true(json_is_array(json_object_get(req, "imageIds")));
    json_decref(req);
}

/* ---- expectations ------------------------------------------------------------------- */

static void test_scenario_subset_arrays_and_wildcard(void **state)
{
    ecrmock *m = *state;
    char *report = NULL;
    const char *steps =
        "{\"steps\": [{\"name\": \"make web\", \"action\": \"CreateRepository\", \"request\": {\"repositoryName\": \"web\"}},"
        "{\"action\": \"DescribeRepositories\", \"expect\": {\"response\": {\"repositories\": "
        "[{\"repositoryName\": \"web\", \"createdAt\": \"${*}\", \"imageScanningConfiguration\": {}}]}}},"
        "{\"action\": \"DescribeRepositories\", \"expect\": {\"response\": {\"repositories\": []}}},"
        "{\"action\": \"DescribeRepositories\", \"expect\": {\"response\": {\"repositories\": "
        "[{\"repositoryName\": \"web\", \"nothere\": \"${*}\"}]}}},"
        "{\"action\": \"DescribeRepositories\", \"expect\": {\"response\": {\"repositories\": "
        "[{\"repositoryName\": \"api\"}]}}},"
        "{\"action\": \"DescribeRepositories\", \"expect\": {\"response\": {\"repositories\": {}}}},"
        "{\"action\": \"GetAuthorizationToken\", \"expect\": {\"response\": \"${*}\"}}"
        "]}";
    assert_int_equal(run_text(m, steps, &report, NULL), 4);
    assert_line(report, "ok 1 CreateRepository \"make web\"");
    assert_line(report, "ok 2 DescribeRepositories");
    assert_line(report, "FAIL 3 DescribeRepositories: at $.repositories: expected an array of 0 elements, got 1");
    assert_line(report, "FAIL 4 DescribeRepositories: at $.repositories[0].nothere: expected \"${*}\", got no such member");
    assert_line(report, "FAIL 5 DescribeRepositories: at $.repositories[0].repositoryName: expected \"api\", got \"web\"");
    assert_non_null(strstr(report, "FAIL 6 DescribeRepositories: at $.repositories: expected {}, got [{"));
    assert_line(report, "ok 7 GetAuthorizationToken");
    assert_line(report, "scenario: 4 of 7 steps failed");
    free(report);
}

/* Numbers compare by value: 1 and 1.0 are equal. */
static void test_scenario_numbers_compare_numerically(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "web");
    run_ok(m, "{\"steps\": [{\"action\": \"InitiateLayerUpload\", \"request\": {\"repositoryName\": \"web\"},"
              " \"expect\": {\"response\": {\"partSize\": 2048.0}}, \"capture\": {\"u\": \"$.uploadId\"}},"
              "{\"action\": \"UploadLayerPart\", \"request\": {\"repositoryName\": \"web\", \"uploadId\": \"${u}\","
              " \"partFirstByte\": 0, \"partLastByte\": 1, \"layerPartBlob\": \"${base64:ab}\"},"
              " \"expect\": {\"response\": {\"lastByteReceived\": 1.0}}}]}");
}

static void test_scenario_status_error_message_mismatches(void **state)
{
    ecrmock *m = *state;
    char *report = NULL;
    int rc = run_text(m,
                      "{\"steps\": [{\"action\": \"CreateRepository\", \"request\": {\"repositoryName\": \"web\"}},"
                      "{\"name\": \"again\", \"action\": \"CreateRepository\", \"request\": {\"repositoryName\": \"web\"}},"
                      "{\"action\": \"CreateRepository\", \"request\": {\"repositoryName\": \"web\"},"
                      " \"expect\": {\"error\": \"RepositoryNotFoundException\"}},"
                      "{\"action\": \"DeleteRepository\", \"request\": {\"repositoryName\": \"nope\"},"
                      " \"expect\": {\"status\": 400, \"error\": \"RepositoryNotFoundException\", \"message\": \"gone\"}},"
                      "{\"action\": \"DescribeRepositories\", \"expect\": {\"status\": 400}},"
                      "{\"action\": \"DescribeRepositories\", \"expect\": {\"error\": \"ThrottlingException\"}},"
                      "{\"action\": \"DeleteRepository\", \"request\": {\"repositoryName\": \"nope\"},"
                      " \"expect\": {\"status\": 400, \"error\": \"RepositoryNotFoundException\", \"message\": "
                      "\"The repository with name 'nope' does not exist in the registry with id '123456789012'\"}}"
                      "]}",
                      &report, NULL);
    assert_int_equal(rc, 5);
    assert_line(report, "ok 1 CreateRepository");
    assert_line(report, "FAIL 2 CreateRepository \"again\": expected status 200, got 400 RepositoryAlreadyExistsException: "
                        "The repository with name 'web' already exists in the registry with id '123456789012'");
    assert_line(report, "FAIL 3 CreateRepository: expected error RepositoryNotFoundException, got 400 "
                        "RepositoryAlreadyExistsException: The repository with name 'web' already exists in the "
                        "registry with id '123456789012'");
    assert_line(report, "FAIL 4 DeleteRepository: at $.message: expected \"gone\", got \"The repository with name "
                        "'nope' does not exist in the registry with id '123456789012'\"");
    assert_line(report, "FAIL 5 DescribeRepositories: expected status 400, got 200");
    assert_line(report, "FAIL 6 DescribeRepositories: expected error ThrottlingException, got 200");
    assert_line(report, "ok 7 DeleteRepository");
    free(report);
}

/* A capture whose path is not in the response fails its step; a later step
 * using the variable fails too, and the steps after it still run. */
static void test_scenario_missing_capture_fails_the_step(void **state)
{
    ecrmock *m = *state;
    char *report = NULL;
    int rc = run_text(m,
                      "{\"steps\": [{\"action\": \"CreateRepository\", \"request\": {\"repositoryName\": \"web\"},"
                      " \"capture\": {\"x\": \"$.repository.nothing\", \"y\": \"$.repository.tags[3]\"}},"
                      "{\"action\": \"DescribeRepositories\", \"request\": {\"repositoryNames\": [\"${x}\"]}},"
                      "{\"action\": \"DescribeRepositories\"}]}",
                      &report, NULL);
    assert_int_equal(rc, 2);
    assert_line(report, "FAIL 1 CreateRepository: capture 'x': $.repository.nothing is not in the response");
    assert_line(report, "FAIL 2 DescribeRepositories: $.steps[1].request.repositoryNames[0]: variable 'x' has no "
                        "value (the step that captures it failed)");
    assert_line(report, "ok 3 DescribeRepositories");
    assert_ecrmock_call_count(m, "DescribeRepositories", 1);
    free(report);
}

/* ---- clock, faults, options, fixtures --------------------------------------------- */

static void test_scenario_advance_clock(void **state)
{
    ecrmock *m = *state;
    int64_t start = ecrmock_clock_now(m);
    create_repo(m, "web");
    /* 24 h plus a second after the upload began, its id is gone */
    run_ok(m, "{\"steps\": [{\"action\": \"InitiateLayerUpload\", \"request\": {\"repositoryName\": \"web\"},"
              " \"capture\": {\"u\": \"$.uploadId\"}},"
              "{\"action\": \"UploadLayerPart\", \"advanceClockMs\": 86401000, \"request\": {\"repositoryName\": \"web\","
              " \"uploadId\": \"${u}\", \"partFirstByte\": 0, \"partLastByte\": 1, \"layerPartBlob\": \"${base64:ab}\"},"
              " \"expect\": {\"status\": 400, \"error\": \"UploadNotFoundException\"}},"
              "{\"action\": \"DescribeRepositories\", \"advanceClockMs\": 500}]}");
    assert_int_equal(ecrmock_clock_now(m), start + 86401000 + 500);
}

static void test_scenario_faults_in_steps(void **state)
{
    ecrmock *m = *state;
    run_ok(m, "{\"steps\": [{\"action\": \"CreateRepository\", \"request\": {\"repositoryName\": \"web\"},"
              " \"faults\": [{\"action\": \"CreateRepository\", \"nth\": 1, \"count\": 1},"
              "              {\"action\": \"DescribeRepositories\", \"error\": \"AccessDeniedException\", \"status\": 403}],"
              " \"expect\": {\"status\": 400, \"error\": \"ThrottlingException\", \"message\": \"Rate exceeded\"}},"
              "{\"action\": \"CreateRepository\", \"request\": {\"repositoryName\": \"web\"}},"
              "{\"action\": \"DescribeRepositories\", \"expect\": {\"status\": 403, \"error\": \"AccessDeniedException\"}}]}");
    assert_ecrmock_call_count(m, "CreateRepository", 2);
    assert_ecrmock_last_error(m, "AccessDeniedException");
}

/* Without an instance the runner makes one from the options and frees it. */
static void test_scenario_options_on_a_fresh_instance(void **state)
{
    (void)state;
    run_ok(NULL, "{\"options\": {\"accountId\": \"210987654321\", \"region\": \"eu-west-1\", \"seed\": 7,"
                 " \"minPartSize\": 2, \"uploadLifetimeMs\": 1000, \"clockStartMs\": 1717200000000},"
                 "\"steps\": [{\"action\": \"CreateRepository\", \"request\": {\"repositoryName\": \"web\"},"
                 " \"expect\": {\"response\": {\"repository\": {\"registryId\": \"210987654321\", \"createdAt\": 1717200000,"
                 "  \"repositoryUri\": \"210987654321.dkr.ecr.eu-west-1.amazonaws.com/web\"}}}},"
                 "{\"action\": \"InitiateLayerUpload\", \"request\": {\"repositoryName\": \"web\"},"
                 " \"capture\": {\"u\": \"$.uploadId\"}},"
                 "{\"action\": \"UploadLayerPart\", \"request\": {\"repositoryName\": \"web\", \"uploadId\": \"${u}\","
                 " \"partFirstByte\": 0, \"partLastByte\": 1, \"layerPartBlob\": \"${base64:ab}\"}},"
                 "{\"action\": \"UploadLayerPart\", \"request\": {\"repositoryName\": \"web\", \"uploadId\": \"${u}\","
                 " \"partFirstByte\": 2, \"partLastByte\": 2, \"layerPartBlob\": \"${base64:c}\"}},"
                 "{\"action\": \"CompleteLayerUpload\", \"request\": {\"repositoryName\": \"web\", \"uploadId\": \"${u}\","
                 " \"layerDigests\": [\"${sha256:abc}\"]}},"
                 "{\"action\": \"InitiateLayerUpload\", \"request\": {\"repositoryName\": \"web\"},"
                 " \"capture\": {\"v\": \"$.uploadId\"}},"
                 "{\"action\": \"UploadLayerPart\", \"advanceClockMs\": 1001, \"request\": {\"repositoryName\": \"web\","
                 " \"uploadId\": \"${v}\", \"partFirstByte\": 0, \"partLastByte\": 1, \"layerPartBlob\": \"${base64:ab}\"},"
                 " \"expect\": {\"error\": \"UploadNotFoundException\"}}]}");
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static const char *fixture_text =
    "{\"clock\": \"2024-03-01T09:00:00Z\", \"registries\": [{\"repositories\": [{\"name\": \"team/web\","
    " \"images\": [{\"tags\": [\"1.0\"], \"layers\": [{\"text\": \"hello\"}]}]}]}]}";

static void test_scenario_fixture_by_path_and_inline(void **state)
{
    (void)state;
    char dir[] = "/tmp/ecrmock-scenario-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char sub[4200], fixture[4200], scenario[4200];
    snprintf(sub, sizeof sub, "%s/scenarios", dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    snprintf(fixture, sizeof fixture, "%s/reg.json", dir);
    snprintf(scenario, sizeof scenario, "%s/scenarios/s.json", dir);
    write_file(fixture, fixture_text);
    const char *steps = "\"steps\": [{\"action\": \"ListImages\", \"request\": {\"repositoryName\": \"team/web\"},"
                        " \"expect\": {\"response\": {\"imageIds\": [{\"imageTag\": \"1.0\"}]}}},"
                        "{\"action\": \"CreateRepository\", \"request\": {\"repositoryName\": \"xy\"},"
                        " \"expect\": {\"response\": {\"repository\": {\"createdAt\": 1709283600}}}}]";
    char text[2048];
    snprintf(text, sizeof text, "{\"fixture\": \"../reg.json\", %s}", steps);
    write_file(scenario, text);
    ecrmock_err e;
    int rc = ecrmock_scenario_run_file(NULL, scenario, NULL, &e);
    char *err = err_string(rc, &e);
    if (rc != 0)
        fail_msg("%d: %s", rc, err ? err : "");
    assert_null(err);

    /* inline */
    snprintf(text, sizeof text, "{\"fixture\": %s, %s}", fixture_text, steps);
    run_ok(NULL, text);

    /* a fixture that does not load: the scenario is refused */
    snprintf(text, sizeof text, "{\"fixture\": \"no-such.json\", %s}", steps);
    write_file(scenario, text);
    assert_int_equal(ecrmock_scenario_run_file(NULL, scenario, NULL, &e), -1);
    err = err_string(-1, &e);
    char want[8400];
    snprintf(want, sizeof want, "%s: $.fixture: ", scenario);
    assert_non_null(err);
    assert_memory_equal(err, want, strlen(want));
    assert_non_null(strstr(err, "no-such.json"));
    free(err);

    unlink(scenario);
    unlink(fixture);
    rmdir(sub);
    rmdir(dir);
}

/* ---- invalid scenarios ---------------------------------------------------------------- */

static void assert_refused(const char *text, const char *message)
{
    ecrmock *m = ecrmock_new(NULL);
    char *err = NULL, *report = NULL;
    assert_int_equal(run_text(m, text, &report, &err), -1);
    assert_non_null(err);
    assert_string_equal(err, message);
    assert_string_equal(report, ""); /* nothing ran */
    assert_int_equal(ecrmock_call_count(m, NULL), 0);
    free(err);
    free(report);
    ecrmock_free(m);
}

/* advanceClockMs and clockStartMs at int64's edges (which used to overflow
 * the clock): beyond the clock's range the scenario is refused with the
 * member's path; a move that a valid scenario makes take the clock out of
 * it (from where the clock happens to be) fails its step, the clock
 * unmoved and the call not made, and the steps after it run. */
static void test_scenario_clock_edges(void **state)
{
    (void)state;
    static const char *const advances[] = {"9223372036854775807", "-9223372036854775808", "253402300800000"};
    for (int i = 0; i < 3; i++) {
        char text[512];
        snprintf(text, sizeof text,
                 "{\"steps\": [{\"action\": \"ListImages\"}, {\"action\": \"ListImages\", \"advanceClockMs\": %s}]}",
                 advances[i]);
        assert_refused(text, "scenario: $.steps[1].advanceClockMs: must be an integer (milliseconds) from "
                             "-253402300799999 to 253402300799999, the virtual clock's range");
    }
    assert_refused("{\"steps\": [{\"action\": \"ListImages\", \"advanceClockMs\": 1e300}]}",
                   "scenario: $.steps[0].advanceClockMs: must be an integer (milliseconds) from "
                   "-253402300799999 to 253402300799999, the virtual clock's range");
    assert_refused("{\"options\": {\"clockStartMs\": 9223372036854775807}, \"steps\": [{\"action\": \"ListImages\"}]}",
                   "scenario: $.options.clockStartMs: must be at most ECRMOCK_CLOCK_MAX_MS (253402300799999, "
                   "9999-12-31T23:59:59.999Z)");

    ecrmock_options o = ECRMOCK_OPTIONS_INIT;
    o.clock_start_ms = ECRMOCK_CLOCK_MAX_MS - 1000;
    ecrmock *m = ecrmock_new(&o);
    char *report = NULL;
    assert_int_equal(run_text(m, "{\"steps\": ["
                                 "{\"action\": \"CreateRepository\", \"advanceClockMs\": 1001, \"request\": {\"repositoryName\": \"aa\"}},"
                                 "{\"action\": \"CreateRepository\", \"advanceClockMs\": 1000, \"request\": {\"repositoryName\": \"bb\"}},"
                                 "{\"action\": \"DescribeRepositories\", \"advanceClockMs\": -253402300799999}]}",
                              &report, NULL),
                     1);
    assert_line(report, "FAIL 1 CreateRepository: advanceClockMs: 1001 ms from 253402300798999 would take the clock "
                        "outside 0 to 253402300799999 (9999-12-31T23:59:59.999Z); the clock did not move");
    assert_line(report, "ok 2 CreateRepository");
    assert_line(report, "ok 3 DescribeRepositories");
    free(report);
    assert_int_equal(ecrmock_call_count(m, "CreateRepository"), 1);
    assert_true(ecrmock_clock_now(m) == 0);
    ecrmock_free(m);
}

static void test_scenario_invalid_refused_with_path(void **state)
{
    (void)state;
    assert_refused("[]", "scenario: $: a scenario must be a JSON object");
    assert_refused("{\"steps\": []}", "scenario: $.steps: must be a non-empty array of steps");
    assert_refused("{\"step\": []}", "scenario: $: unknown member 'step'");
    assert_refused("{\"steps\": [{\"action\": \"ListImages\"}, {\"action\": \"ListImages\"}, {\"request\": {}}]}",
                   "scenario: $.steps[2].action: must be a non-empty string, the action's name (\"PutImage\")");
    assert_refused("{\"steps\": [{\"action\": \"ListImages\", \"expect\": {\"status\": \"200\"}}]}",
                   "scenario: $.steps[0].expect: status must be an HTTP status, an integer from 100 to 599");
    assert_refused("{\"steps\": [{\"action\": \"ListImages\", \"expect\": {\"body\": {}}}]}",
                   "scenario: $.steps[0].expect: unknown member 'body'");
    assert_refused("{\"steps\": [{\"action\": \"ListImages\", \"capture\": {\"x\": \"$.a[b]\"}}]}",
                   "scenario: $.steps[0].capture.x: bad path \"$.a[b]\": '[' must be followed by an index (0, 1, "
                   "...) and ']'");
    assert_refused("{\"steps\": [{\"action\": \"ListImages\", \"capture\": {\"x-y\": \"$\"}}]}",
                   "scenario: $.steps[0].capture.x-y: a variable name is a letter or '_' followed by letters, digits "
                   "and '_'");
    assert_refused("{\"steps\": [{\"action\": \"ListImages\", \"faults\": [{\"action\": \"ListImages\", \"nht\": 1}]}]}",
                   "scenario: $.steps[0].faults[0]: fault rule: unknown member 'nht'");
    assert_refused("{\"options\": {\"accountId\": \"12\"}, \"steps\": [{\"action\": \"ListImages\"}]}",
                   "scenario: $.options.accountId: must be 12 digits, like \"123456789012\"");
    assert_refused("{\"options\": {\"seed\": \"7\"}, \"steps\": [{\"action\": \"ListImages\"}]}",
                   "scenario: $.options.seed: must be an integer");
    assert_refused("{\"steps\": [{\"action\": \"ListImages\", \"request\": {\"repositoryName\": \"${nope:x}\"}}]}",
                   "scenario: $.steps[0].request.repositoryName: '${nope:x}' is neither a variable (letters, digits, "
                   "'_') nor a function (base64:, sha256:, len:)");
    assert_refused("{\"steps\": [{\"action\": \"ListImages\", \"request\": {\"repositoryName\": \"a${b\"}}]}",
                   "scenario: $.steps[0].request.repositoryName: '${' without its closing '}'");
    assert_refused("{\"steps\": [{\"action\": \"ListImages\", \"request\": {\"repositoryName\": \"${*}\"}}]}",
                   "scenario: $.steps[0].request.repositoryName: \"${*}\" (any value) is only allowed as a whole "
                   "string in expect.response");
}

/* A variable no earlier step captures: refused before anything runs, naming
 * the step, the place and the variable; a step's own capture does not count. */
static void test_scenario_unknown_variable(void **state)
{
    (void)state;
    assert_refused("{\"steps\": [{\"action\": \"InitiateLayerUpload\", \"request\": {\"repositoryName\": \"web\"},"
                   " \"capture\": {\"upload\": \"$.uploadId\"}},"
                   "{\"action\": \"UploadLayerPart\", \"request\": {\"repositoryName\": \"web\","
                   " \"uploadId\": \"${uplaod}\"}}]}",
                   "scenario: $.steps[1].request.uploadId: unknown variable 'uplaod' (no earlier step captures it)");
    assert_refused("{\"steps\": [{\"action\": \"InitiateLayerUpload\", \"request\": {\"repositoryName\": \"web\"},"
                   " \"expect\": {\"response\": {\"uploadId\": \"${u}\"}}, \"capture\": {\"u\": \"$.uploadId\"}}]}",
                   "scenario: $.steps[0].expect.response.uploadId: unknown variable 'u' (no earlier step captures it)");
}

static void test_scenario_file_errors(void **state)
{
    (void)state;
    ecrmock_err e;
    assert_int_equal(ecrmock_scenario_run_file(NULL, "/nonexistent/s.json", NULL, &e), -1);
    assert_int_equal(e.code, ECRMOCK_ERR_INVALID_PARAMETER);
    assert_string_equal(e.path, "/nonexistent/s.json: $");
    assert_string_equal(e.text, "cannot open the file: No such file or directory");
    char path[] = "/tmp/ecrmock-bad-XXXXXX";
    temp_file(path, "{\"steps\": [\n  {\"action\": }\n]}");
    assert_int_equal(ecrmock_scenario_run_file(NULL, path, NULL, &e), -1);
    char want[256];
    snprintf(want, sizeof want, "%s: $", path);
    assert_string_equal(e.path, want);
    assert_string_equal(e.text, "not valid JSON (line 2, column 14)");
    unlink(path);
}

/* ---- bounded expansion -------------------------------------------------------------- */

/* "{"steps": [{"action": "DescribeRepositories", "request": {"maxResults": "<${len: n times>abcdefghij<} n
 * times>"}}]}" (malloc'd). */
static char *nested_len_scenario(size_t n)
{
    const char *head = "{\"steps\": [{\"action\": \"DescribeRepositories\", \"request\": {\"maxResults\": \"";
    const char *tail = "\"}}]}";
    char *text = malloc(strlen(head) + n * 7 + 10 + strlen(tail) + 1);
    char *p = text + sprintf(text, "%s", head);
    for (size_t i = 0; i < n; i++)
        p += sprintf(p, "${len:");
    p += sprintf(p, "abcdefghij");
    for (size_t i = 0; i < n; i++)
        *p++ = '}';
    sprintf(p, "%s", tail);
    return text;
}

/* Functions nest 8 deep; a ninth level, or 100,000 of them (a 700 KB
 * string that used to recurse once a level, overflowing the stack, and
 * rescan the rest of the string at each), is refused with the path while
 * the scenario is checked, and so is it by ecrmock-run. */
static void test_scenario_nesting_depth_is_bounded(void **state)
{
    ecrmock *m = *state;
    char *text = nested_len_scenario(8);
    run_ok(m, text); /* 10, then 2, then 1 ... */
    free(text);
    json_t *req = sent_request(m, -1);
    assert_true(json_is_integer(json_object_get(req, "maxResults")));
    assert_int_equal(json_integer_value(json_object_get(req, "maxResults")), 1);
    json_decref(req);

    const char *msg = "scenario: $.steps[0].request.maxResults: functions (base64:, sha256:, len:) nest more than 8 deep";
    text = nested_len_scenario(9);
    assert_refused(text, msg);
    free(text);
    text = nested_len_scenario(100000);
    assert_refused(text, msg);

    char path[] = "/tmp/ecrmock-deep-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    write_file(path, text);
    free(text);
    char cmd[2048], out[4096] = "";
    snprintf(cmd, sizeof cmd, "%s %s 2>&1", tool_path, path);
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    size_t n = fread(out, 1, sizeof out - 1, f);
    out[n] = '\0';
    int st = pclose(f);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 2);
    char want[512];
    snprintf(want, sizeof want,
             "%s: $.steps[0].request.maxResults: functions (base64:, sha256:, len:) nest more than 8 deep\n", path);
    assert_string_equal(out, want);
    unlink(path);
}

/* A scenario whose request names `depth` nested ${base64:} around `n` bytes
 * of 'a' (malloc'd), expecting a 400. */
static char *nested_base64_scenario(int depth, size_t n)
{
    const char *head = "{\"steps\": [{\"action\": \"ListImages\", \"request\": {\"repositoryName\": \"";
    const char *tail = "\"}, \"expect\": {\"status\": 400}}]}";
    char *text = malloc(strlen(head) + (size_t)depth * 10 + n + strlen(tail) + 1);
    char *p = text + sprintf(text, "%s", head);
    for (int i = 0; i < depth; i++)
        p += sprintf(p, "${base64:");
    memset(p, 'a', n);
    p += n;
    for (int i = 0; i < depth; i++)
        *p++ = '}';
    sprintf(p, "%s", tail);
    return text;
}

/* What one request's ${...} produce is at most 64 MiB, intermediate
 * results included: nested ${base64:} grows by 4/3 a level, and used to be
 * computed whatever it asked for while the scenario was only checked. */
static void test_scenario_expansion_budget(void **state)
{
    (void)state;
    /* 8 MiB: 10.7, 14.2 and 19 MiB (44 MiB): within the budget */
    char *text = nested_base64_scenario(3, (size_t)8 << 20);
    ecrmock *m = ecrmock_new(NULL);
    run_ok(m, text);
    json_t *req = sent_request(m, -1);
    assert_int_equal(json_string_length(json_object_get(req, "repositoryName")), 19884112);
    json_decref(req);
    ecrmock_free(m);
    free(text);
    /* a fourth level, 25.3 MiB more, is over it */
    text = nested_base64_scenario(4, (size_t)8 << 20);
    assert_refused(text, "scenario: $.steps[0].request.repositoryName: its ${...} would produce more than 64 MiB of "
                         "text (ecrmock's limit for one request or expect, nested functions' intermediate results "
                         "included)");
    free(text);
}

/* The budget counts what whole-string references copy, too: 40 copies of a
 * captured 2 MiB image object in one request fail the step at the copy
 * that passes 64 MiB, before any call (they used to be built, whatever
 * their number). */
static void test_scenario_expansion_budget_counts_copies(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "web");
    char *text = make_manifest(m, "web", 1, 1);
    json_t *mf = json_loads(text, 0, NULL);
    free(text);
    size_t big = (size_t)2 << 20;
    char *filler = malloc(big + 1);
    memset(filler, 'a', big);
    filler[big] = '\0';
    json_object_set_new(mf, "annotations", json_pack("{s:s}", "filler", filler));
    free(filler);
    text = json_dumps(mf, JSON_COMPACT);
    json_decref(mf);
    free(put_image(m, "web", text, "v1"));
    free(text);

    char scenario[2048];
    char *p = scenario + sprintf(scenario, "{\"steps\": [{\"action\": \"BatchGetImage\", \"request\": {\"repositoryName\": "
                                           "\"web\", \"imageIds\": [{\"imageTag\": \"v1\"}]}, \"capture\": {\"img\": "
                                           "\"$.images[0]\"}},"
                                           "{\"action\": \"BatchGetImage\", \"request\": {\"repositoryName\": \"web\", "
                                           "\"imageIds\": [");
    for (int i = 0; i < 40; i++)
        p += sprintf(p, "%s\"${img}\"", i ? ", " : "");
    sprintf(p, "]}}]}");
    char *report = NULL;
    assert_int_equal(run_text(m, scenario, &report, NULL), 1);
    assert_line(report, "FAIL 2 BatchGetImage: $.steps[1].request.imageIds[31]: its ${...} would produce more than 64 "
                        "MiB of text (ecrmock's limit for one request or expect, nested functions' intermediate "
                        "results included)");
    free(report);
    assert_ecrmock_call_count(m, "BatchGetImage", 1);
}

/* ---- the command-line tool ---------------------------------------------------------------- */

static int run_tool(const char *args)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s %s >/dev/null 2>&1", tool_path, args);
    int st = system(cmd);
    assert_true(WIFEXITED(st));
    return WEXITSTATUS(st);
}

static void test_ecrmock_run_exit_statuses(void **state)
{
    (void)state;
    char dir[] = "/tmp/ecrmock-run-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char pass[128], fail[128], bad[128], args[512], out[128];
    snprintf(pass, sizeof pass, "%s/pass.json", dir);
    snprintf(fail, sizeof fail, "%s/fail.json", dir);
    snprintf(bad, sizeof bad, "%s/bad.json", dir);
    snprintf(out, sizeof out, "%s/report.txt", dir);
    write_file(pass, "{\"steps\": [{\"action\": \"CreateRepository\", \"request\": {\"repositoryName\": \"web\"}}]}");
    write_file(fail, "{\"steps\": [{\"action\": \"DeleteRepository\", \"request\": {\"repositoryName\": \"web\"}},"
                     "{\"action\": \"DescribeRepositories\"}]}");
    write_file(bad, "{\"steps\": [{\"actoin\": \"DeleteRepository\"}]}");

    assert_int_equal(run_tool(pass), 0);
    snprintf(args, sizeof args, "%s %s", pass, pass);
    assert_int_equal(run_tool(args), 0);
    assert_int_equal(run_tool(fail), 1);
    snprintf(args, sizeof args, "-q %s %s", pass, fail);
    assert_int_equal(run_tool(args), 1);
    assert_int_equal(run_tool(bad), 2);
    snprintf(args, sizeof args, "%s %s", fail, bad);
    assert_int_equal(run_tool(args), 2);
    assert_int_equal(run_tool(""), 2);
    assert_int_equal(run_tool("-x"), 2);
    snprintf(args, sizeof args, "--record %s/r.json %s %s", dir, pass, pass);
    assert_int_equal(run_tool(args), 2);

    /* -q: only the failed step and the summary */
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s -q %s > %s 2>&1", tool_path, fail, out);
    assert_int_equal(WEXITSTATUS(system(cmd)), 1);
    FILE *f = fopen(out, "r");
    char text[4096] = "";
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose(f);
    char want[4096];
    snprintf(want, sizeof want,
             "FAIL 1 DeleteRepository: expected status 200, got 400 RepositoryNotFoundException: The repository with "
             "name 'web' does not exist in the registry with id '123456789012'\n%s: 1 of 2 steps failed\n",
             fail);
    assert_string_equal(text, want);
    /* an invalid scenario: its message on stderr */
    snprintf(cmd, sizeof cmd, "%s %s > %s 2>&1", tool_path, bad, out);
    assert_int_equal(WEXITSTATUS(system(cmd)), 2);
    f = fopen(out, "r");
    n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose(f);
    snprintf(want, sizeof want, "%s: $.steps[0]: unknown member 'actoin'\n", bad);
    assert_string_equal(text, want);

    unlink(pass);
    unlink(fail);
    unlink(bad);
    unlink(out);
    rmdir(dir);
}

/* The ecrmock_err convention: an invalid scenario has the path "<source>:
 * <JSON path>", a refused fixture its own "path: text" at $.fixture with the
 * fixture's code; failed steps are no error (code OK, the count returned);
 * NULL err is accepted. */
static void test_scenario_run_err(void **state)
{
    (void)state;
    json_t *sc = json_loads("{\"steps\": [{\"action\": \"\"}]}", 0, NULL);
    assert_int_equal(ERR_CODE(ecrmock_scenario_run(NULL, sc, NULL, NULL, &test_err)), ECRMOCK_ERR_INVALID_PARAMETER);
    assert_string_equal(test_err.path, "scenario: $.steps[0].action");
    assert_string_equal(test_err.text, "must be a non-empty string, the action's name (\"PutImage\")");
    assert_int_equal(ecrmock_scenario_run(NULL, sc, NULL, NULL, NULL), -1);
    json_decref(sc);
    sc = json_loads("{\"fixture\": {\"registries\": [{\"repositories\": [{}]}]}, "
                    "\"steps\": [{\"action\": \"DescribeRegistry\"}]}", 0, NULL);
    assert_int_equal(ERR_CODE(ecrmock_scenario_run(NULL, sc, NULL, NULL, &test_err)), ECRMOCK_ERR_INVALID_PARAMETER);
    assert_string_equal(test_err.path, "scenario: $.fixture");
    assert_string_equal(test_err.text, "scenario: $.registries[0].repositories[0].name: is required");
    json_decref(sc);
    sc = json_loads("{\"steps\": [{\"action\": \"DescribeRegistry\", \"expect\": {\"status\": 400}},"
                    " {\"action\": \"DescribeRegistry\"}]}", 0, NULL);
    assert_int_equal(ERR_CODE(ecrmock_scenario_run(NULL, sc, NULL, NULL, dirty_err())), ECRMOCK_ERR_OK);
    assert_int_equal(ecrmock_scenario_run(NULL, sc, NULL, NULL, NULL), 1);
    json_decref(sc);
    assert_int_equal(ERR_CODE(ecrmock_scenario_run_file(NULL, NULL, NULL, &test_err)), ECRMOCK_ERR_INVALID_PARAMETER);
    assert_string_equal(test_err.path, "scenario: $");
    assert_string_equal(test_err.text, "no file name given");
    assert_int_equal(ecrmock_scenario_run_file(NULL, "/nonexistent/s.json", NULL, NULL), -1);
}

/* Attack: strings with an embedded NUL (\u0000) where the runner uses C
 * strings.  "Describe\u0000Registry" ran "Describe" (UnknownOperation
 * about an action the file does not name), a capture path
 * "$.registryId\u0000junk" captured $.registryId and passed, an expected
 * message "a\u0000b" was compared as "a", a fixture "team.json\u0000junk"
 * loaded team.json.  Each is refused with its path. */
static void test_scenario_refuses_nul_in_strings(void **state)
{
    ecrmock *m = *state;
    static const struct {
        const char *text, *path;
    } cases[] = {
        {"{\"steps\": [{\"action\": \"Describe\\u0000Registry\"}]}", "scenario: $.steps[0].action"},
        {"{\"steps\": [{\"action\": \"DescribeRegistry\", \"capture\": {\"x\": \"$.registryId\\u0000junk\"}}]}",
         "scenario: $.steps[0].capture.x"},
        {"{\"steps\": [{\"action\": \"DescribeRegistry\", \"expect\": {\"message\": \"a\\u0000b\"}}]}",
         "scenario: $.steps[0].expect.message"},
        {"{\"steps\": [{\"action\": \"DescribeRegistry\", \"expect\": {\"error\": \"X\\u0000\"}}]}",
         "scenario: $.steps[0].expect.error"},
        {"{\"fixture\": \"team.json\\u0000junk\", \"steps\": [{\"action\": \"DescribeRegistry\"}]}",
         "scenario: $.fixture"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *sc = json_loads(cases[i].text, JSON_ALLOW_NUL, NULL);
        assert_non_null(sc);
        assert_int_equal(ERR_CODE(ecrmock_scenario_run(m, sc, NULL, NULL, &test_err)), ECRMOCK_ERR_INVALID_PARAMETER);
        assert_string_equal(test_err.path, cases[i].path);
        assert_string_equal(test_err.text, "must not contain NUL (\\u0000)");
        json_decref(sc);
    }
    assert_int_equal(ecrmock_call_count(m, NULL), 0);
}

/* Attack: a scenario a caller built 1,000,000 levels deep (a step's
 * request) overflowed the stack in the check's walk.  Refused at "$",
 * the instance unchanged. */
static void test_scenario_too_deep(void **state)
{
    ecrmock *m = *state;
    json_t *deep = nested("deep", 1000000);
    json_t *sc = json_pack("{s:[{s:s, s:O}]}", "steps", "action", "CreateRepository", "request", deep);
    assert_int_equal(ERR_CODE(ecrmock_scenario_run(m, sc, ".", NULL, &test_err)), ECRMOCK_ERR_INVALID_PARAMETER);
    assert_string_equal(test_err.path, "scenario: $");
    assert_string_equal(test_err.text, "is nested more than 2048 levels deep, which no JSON text can be");
    json_decref(sc);
    release_nested(deep);
    assert_int_equal(repo_count(m, NULL), 0);
}

int main(int argc, char **argv)
{
    (void)argc;
    build_tool_path(tool_path, sizeof tool_path, argv[0], "ecrmock-run");

    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_scenario_captures_of_each_kind, setup_mock, teardown_mock),
        cmocka_unit_test_setup_teardown(test_scenario_whole_reference_keeps_the_type, setup_mock, teardown_mock),
        cmocka_unit_test_setup_teardown(test_scenario_functions, setup_mock, teardown_mock),
        cmocka_unit_test_setup_teardown(test_scenario_object_sent_as_text, setup_mock, teardown_mock),
        cmocka_unit_test_setup_teardown(test_scenario_subset_arrays_and_wildcard, setup_mock, teardown_mock),
        cmocka_unit_test_setup_teardown(test_scenario_numbers_compare_numerically, setup_mock, teardown_mock),
        cmocka_unit_test_setup_teardown(test_scenario_status_error_message_mismatches, setup_mock, teardown_mock),
        cmocka_unit_test_setup_teardown(test_scenario_missing_capture_fails_the_step, setup_mock, teardown_mock),
        cmocka_unit_test_setup_teardown(test_scenario_advance_clock, setup_mock, teardown_mock),
        cmocka_unit_test_setup_teardown(test_scenario_faults_in_steps, setup_mock, teardown_mock),
        cmocka_unit_test(test_scenario_clock_edges),
        cmocka_unit_test(test_scenario_options_on_a_fresh_instance),
        cmocka_unit_test(test_scenario_fixture_by_path_and_inline),
        cmocka_unit_test(test_scenario_invalid_refused_with_path),
        cmocka_unit_test(test_scenario_unknown_variable),
        cmocka_unit_test(test_scenario_file_errors),
        cmocka_unit_test_setup_teardown(test_scenario_nesting_depth_is_bounded, setup_mock, teardown_mock),
        cmocka_unit_test(test_scenario_expansion_budget),
        cmocka_unit_test_setup_teardown(test_scenario_expansion_budget_counts_copies, setup_mock, teardown_mock),
        cmocka_unit_test(test_ecrmock_run_exit_statuses),
        cmocka_unit_test(test_scenario_run_err),
        cmocka_unit_test_setup_teardown(test_scenario_refuses_nul_in_strings, setup_mock, teardown_mock),
        cmocka_unit_test_setup_teardown(test_scenario_too_deep, setup_mock, teardown_mock),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
