/*
 * The control API (ecrmock_http_control_set): every endpoint through
 * ecrmock_http_handle(), its answer compared with what the C control it
 * names says, and its refusals: status, __type, message and path exact.
 */
#include "helpers.h"

#include "fronts/fronts.h" /* em_sigv4_sign, to sign a control request */

static int setup_control(void **state)
{
    if (setup_mock(state) != 0)
        return -1;
    return ecrmock_http_control_set(*state, 1, NULL);
}

/* One control request; the status, *doc the answer's JSON (NULL when it is
 * not JSON), *allow its Allow header when wanted. */
static int ctl_full(ecrmock *m, const char *method, const char *target, const char *body, json_t **doc,
                    const ecrmock_http_header *extra, size_t n_extra, char *allow)
{
    ecrmock_http_header h[8] = {{"Host", "127.0.0.1:5000"}, {"Content-Type", "application/json"}};
    size_t n = 2;
    for (size_t i = 0; i < n_extra; i++)
        h[n++] = extra[i];
    ecrmock_http_response r;
    int st = http_send(m, &r, method, target, h, n, body);
    assert_int_equal(st, r.status);
    *doc = json_loadb(r.body, r.body_len, 0, NULL);
    if (*doc && st < 300) {
        const char *ct = ecrmock_http_response_header(&r, "Content-Type");
        assert_non_null(ct);
        assert_string_equal(ct, "application/json");
    }
    if (allow) {
        const char *a = ecrmock_http_response_header(&r, "Allow");
        snprintf(allow, 64, "%s", a ? a : "");
    }
    ecrmock_http_response_release(&r);
    return st;
}

static int ctl(ecrmock *m, const char *method, const char *target, const char *body, json_t **doc)
{
    return ctl_full(m, method, target, body, doc, NULL, 0, NULL);
}

/* A request that must succeed; its answer (a new reference). */
static json_t *ctl_ok(ecrmock *m, const char *method, const char *target, const char *body)
{
    json_t *doc = NULL;
    int st = ctl(m, method, target, body, &doc);
    if (st != 200) {
        char *t = doc ? json_dumps(doc, 0) : NULL;
        print_error("%s %s: %d %s\n", method, target, st, t ? t : "");
        free(t);
    }
    assert_int_equal(st, 200);
    assert_non_null(doc);
    return doc;
}

/* A refusal: status, __type, message and path ("" for none) exact. */
static void assert_refusal(ecrmock *m, const char *method, const char *target, const char *body, int status,
                           const char *type, const char *message, const char *path)
{
    json_t *doc = NULL;
    assert_int_equal(ctl(m, method, target, body, &doc), status);
    assert_non_null(doc);
    assert_string_equal(jstr(doc, "__type"), type);
    assert_string_equal(jstr(doc, "message"), message);
    if (*path)
        assert_string_equal(jstr(doc, "path"), path);
    else
        assert_null(json_object_get(doc, "path"));
    json_decref(doc);
}

static void assert_json_is(json_t *doc, const char *text)
{
    json_t *want = json_loads(text, 0, NULL);
    assert_non_null(want);
    if (!json_equal(doc, want)) {
        char *t = json_dumps(doc, JSON_SORT_KEYS);
        print_error("got %s\nwant %s\n", t, text);
        free(t);
    }
    assert_true(json_equal(doc, want));
    json_decref(want);
}

/* ---- the switch ------------------------------------------------------------------ */

static void test_control_off_by_default_and_switch(void **state)
{
    ecrmock *m = *state;
    json_t *doc = NULL;
    assert_int_equal(ecrmock_http_control_set(m, 0, NULL), 0);
    /* off: /_ecrmock is a path like any other (a GET of a download URL without its signature) */
    assert_int_equal(ctl(m, "GET", "/_ecrmock", NULL, &doc), 403);
    assert_null(doc);
    assert_int_equal(ctl(m, "POST", "/_ecrmock/reset", "{}", &doc), 400); /* an API call without a target */
    assert_string_equal(jstr(doc, "__type"), "UnknownOperationException");
    json_decref(doc);
    ecrmock_err err;
    assert_int_equal(ecrmock_http_control_set(m, 1, &err), 0);
    doc = ctl_ok(m, "GET", "/_ecrmock", NULL);
    assert_string_equal(jstr(doc, "version"), ecrmock_version());
    json_decref(doc);
    doc = ctl_ok(m, "GET", "/_ecrmock/", NULL);
    json_decref(doc);
    /* an absolute target, any host: still the control API */
    doc = ctl_ok(m, "GET", "http://123456789012.dkr.ecr.us-east-1.amazonaws.com/_ecrmock/clock", NULL);
    json_decref(doc);
    /* kept by ecrmock_reset() */
    ecrmock_reset(m);
    doc = ctl_ok(m, "GET", "/_ecrmock", NULL);
    json_decref(doc);
    /* a path that only starts alike is not the API's */
    assert_int_equal(ctl(m, "GET", "/_ecrmockery", NULL, &doc), 403);
    assert_null(doc);
    assert_int_equal(ecrmock_http_control_set(NULL, 1, &err), -1);
    assert_int_equal(err.code, ECRMOCK_ERR_INVALID_PARAMETER);
    assert_string_equal(err.text, "no instance (m is NULL)");
}

static void test_control_unknown_path_and_method(void **state)
{
    ecrmock *m = *state;
    assert_refusal(m, "GET", "/_ecrmock/nope", NULL, 404, "UnknownOperationException",
                   "no control endpoint GET /_ecrmock/nope (README.md, \"The control API\", lists them)", "");
    assert_refusal(m, "GET", "/_ecrmock/clock/advance/x", NULL, 404, "UnknownOperationException",
                   "no control endpoint GET /_ecrmock/clock/advance/x (README.md, \"The control API\", lists them)", "");
    /* a path that is not UTF-8 is quoted back as JSON can hold it */
    assert_refusal(m, "GET", "/_ecrmock/\xff\xfe", NULL, 404, "UnknownOperationException",
                   "no control endpoint GET /_ecrmock/\xef\xbf\xbd\xef\xbf\xbd (README.md, \"The control API\", lists "
                   "them)",
                   "");
    json_t *doc = NULL;
    char allow[64];
    assert_int_equal(ctl_full(m, "GET", "/_ecrmock/reset", NULL, &doc, NULL, 0, allow), 405);
    assert_string_equal(jstr(doc, "message"), "/_ecrmock/reset takes POST, not GET");
    assert_string_equal(allow, "POST");
    json_decref(doc);
    assert_int_equal(ctl_full(m, "PUT", "/_ecrmock/faults/1", NULL, &doc, NULL, 0, allow), 405);
    assert_string_equal(allow, "GET, DELETE");
    json_decref(doc);
}

/* ---- reset, fixtures, snapshots --------------------------------------------------- */

static void test_control_reset(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "gone");
    ecrmock_clock_advance(m, 5000, NULL);
    json_t *doc = ctl_ok(m, "POST", "/_ecrmock/reset", NULL);
    assert_json_is(doc, "{}");
    json_decref(doc);
    assert_int_equal(ecrmock_call_count(m, NULL), 0);
    assert_int_equal(repo_count(m, NULL), 0);
    assert_true(ecrmock_clock_now(m) == ECRMOCK_DEFAULT_CLOCK_MS);
}

static void test_control_fixture_and_snapshot(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "before");
    json_t *doc = ctl_ok(m, "POST", "/_ecrmock/fixture",
                         "{\"clock\": \"2025-06-01T00:00:00Z\", \"registries\": [{\"repositories\": [{\"name\": \"web\"}]}]}");
    assert_json_is(doc, "{}");
    json_decref(doc);
    assert_int_equal(repo_count(m, NULL), 1);
    assert_true(ecrmock_clock_now(m) == INT64_C(1748736000000));
    doc = ctl_ok(m, "GET", "/_ecrmock/snapshot", NULL);
    json_t *snap = ecrmock_snapshot(m, NULL);
    assert_true(json_equal(doc, snap));
    json_decref(snap);
    json_decref(doc);

    /* refused: nothing changed, the path of the bad member */
    assert_refusal(m, "POST", "/_ecrmock/fixture", "{\"registries\": [{\"repositories\": [{\"name\": \"Bad Name\"}]}]}",
                   400, "InvalidParameterException",
                   "InvalidParameterException: Invalid parameter at 'repositoryName' failed to satisfy constraint: "
                   "'must satisfy regular expression '[a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*(\\/[a-z0-9]+((\\.|_|__|-+)"
                   "[a-z0-9]+)*)*''",
                   "body: $.registries[0].repositories[0].name");
    assert_int_equal(repo_count(m, NULL), 1);
    assert_refusal(m, "POST", "/_ecrmock/fixture", "{\"registries\": [", 400, "InvalidParameterException",
                   "']' expected near end of file", "body: line 1, column 16");
    assert_refusal(m, "POST", "/_ecrmock/fixture", "[1]", 400, "InvalidParameterException",
                   "the body must be a JSON object", "body: $");
    assert_refusal(m, "POST", "/_ecrmock/fixture", NULL, 400, "InvalidParameterException",
                   "the body must be a JSON object; none was sent", "body: $");
    assert_refusal(m, "POST", "/_ecrmock/fixture", "{\"a\": 1, \"a\": 2}", 400, "InvalidParameterException",
                   "duplicate object key near '\"a\"'", "body: line 1, column 12");
}

/* ---- the clock --------------------------------------------------------------------- */

static void test_control_clock(void **state)
{
    ecrmock *m = *state;
    json_t *doc = ctl_ok(m, "GET", "/_ecrmock/clock", NULL);
    assert_json_is(doc, "{\"mode\": \"pinned\", \"now\": 1704067200000}");
    json_decref(doc);
    doc = ctl_ok(m, "POST", "/_ecrmock/clock", "{\"now\": 1800000000000}");
    assert_json_is(doc, "{\"mode\": \"pinned\", \"now\": 1800000000000}");
    json_decref(doc);
    doc = ctl_ok(m, "POST", "/_ecrmock/clock/advance", "{\"ms\": -1000}");
    assert_json_is(doc, "{\"mode\": \"pinned\", \"now\": 1799999999000}");
    json_decref(doc);
    assert_true(ecrmock_clock_now(m) == INT64_C(1799999999000));

    /* refusals leave the clock */
    assert_refusal(m, "POST", "/_ecrmock/clock/advance", "{\"ms\": 253402300799999}", 400,
                   "InvalidParameterException",
                   "moving the clock from 1799999999000 ms by 253402300799999 ms leaves 0..253402300799999 (1970 to "
                   "the end of 9999)",
                   "body: $.ms");
    assert_refusal(m, "POST", "/_ecrmock/clock/advance", "{\"ms\": \"1000\"}", 400, "InvalidParameterException",
                   "must be an integer from -253402300799999 to 253402300799999", "body: $.ms");
    assert_refusal(m, "POST", "/_ecrmock/clock/advance", "{}", 400, "InvalidParameterException",
                   "must be an integer from -253402300799999 to 253402300799999", "body: $.ms");
    static const char *const far[] = {"{\"ms\": 9223372036854775807}", "{\"ms\": -9223372036854775808}",
                                      "{\"ms\": 253402300800000}", "{\"ms\": 1e3}", "{\"ms\": null}"};
    for (size_t i = 0; i < sizeof far / sizeof far[0]; i++)
        assert_refusal(m, "POST", "/_ecrmock/clock/advance", far[i], 400, "InvalidParameterException",
                       "must be an integer from -253402300799999 to 253402300799999", "body: $.ms");
    assert_refusal(m, "POST", "/_ecrmock/clock/advance", "{\"ms\": 99999999999999999999}", 400,
                   "InvalidParameterException", "too big integer near '99999999999999999999'",
                   "body: line 1, column 27");
    assert_refusal(m, "POST", "/_ecrmock/clock", "{\"now\": -1}", 400, "InvalidParameterException",
                   "must be an integer from 0 to 253402300799999", "body: $.now");
    assert_refusal(m, "POST", "/_ecrmock/clock", "{\"now\": 1.5}", 400, "InvalidParameterException",
                   "must be an integer from 0 to 253402300799999", "body: $.now");
    assert_refusal(m, "POST", "/_ecrmock/clock", "{\"mode\": \"sideways\"}", 400, "InvalidParameterException",
                   "must be \"wall\" or \"pinned\"", "body: $.mode");
    assert_refusal(m, "POST", "/_ecrmock/clock", "{}", 400, "InvalidParameterException",
                   "give \"mode\" (\"wall\" or \"pinned\"), \"now\" (ms since the epoch), or both", "body: $");
    assert_refusal(m, "POST", "/_ecrmock/clock", "{\"nowMs\": 5}", 400, "InvalidParameterException",
                   "unknown member: this endpoint takes mode, now", "body: $.nowMs");
    /* a bad now with a good mode: the mode is not changed either */
    assert_refusal(m, "POST", "/_ecrmock/clock", "{\"mode\": \"wall\", \"now\": -5}", 400,
                   "InvalidParameterException", "must be an integer from 0 to 253402300799999", "body: $.now");
    assert_int_equal(ecrmock_clock_mode_get(m), ECRMOCK_CLOCK_PINNED);
    assert_true(ecrmock_clock_now(m) == INT64_C(1799999999000));

    /* wall mode, then a time in it: the offset says how far from the system clock */
    doc = ctl_ok(m, "POST", "/_ecrmock/clock", "{\"mode\": \"wall\"}");
    assert_string_equal(jstr(doc, "mode"), "wall");
    assert_int_equal(json_integer_value(json_object_get(doc, "offsetMs")), 0);
    json_decref(doc);
    assert_int_equal(ecrmock_clock_mode_get(m), ECRMOCK_CLOCK_WALL);
    doc = ctl_ok(m, "POST", "/_ecrmock/clock/advance", "{\"ms\": 86400000}");
    json_int_t off = json_integer_value(json_object_get(doc, "offsetMs"));
    assert_true(off >= 86400000 - 1000 && off <= 86400000);
    json_decref(doc);
    doc = ctl_ok(m, "POST", "/_ecrmock/clock", "{\"mode\": \"pinned\", \"now\": 0}");
    assert_json_is(doc, "{\"mode\": \"pinned\", \"now\": 0}");
    json_decref(doc);
}

/* ---- fault rules -------------------------------------------------------------------- */

static void test_control_faults(void **state)
{
    ecrmock *m = *state;
    json_t *doc = ctl_ok(m, "POST", "/_ecrmock/faults", "{\"action\": \"CreateRepository\", \"count\": 1}");
    assert_json_is(doc, "{\"id\": 1}");
    json_decref(doc);
    json_t *r = NULL;
    assert_int_equal(call(m, &r, "CreateRepository", "{\"repositoryName\":\"x\"}"), 400);
    assert_string_equal(err_type(r), "ThrottlingException");
    json_decref(r);
    doc = ctl_ok(m, "GET", "/_ecrmock/faults/1", NULL);
    assert_json_is(doc, "{\"id\": 1, \"fired\": 1, \"seen\": 1, \"rule\": {\"action\": \"CreateRepository\", "
                        "\"count\": 1, \"nth\": 1, \"effect\": \"error\", \"error\": \"ThrottlingException\"}}");
    json_decref(doc);
    doc = ctl_ok(m, "GET", "/_ecrmock/faults", NULL);
    json_t *list = ecrmock_faults_json(m, NULL);
    assert_true(json_equal(doc, list));
    assert_int_equal(json_array_size(doc), 1);
    json_decref(list);
    json_decref(doc);

    /* refusals: the rule's text, the body's path */
    assert_refusal(m, "POST", "/_ecrmock/faults", "{\"action\": \"CreateRepository\", \"sometimes\": true}", 400,
                   "InvalidParameterException", "fault rule: unknown member 'sometimes'", "body: $");
    assert_refusal(m, "POST", "/_ecrmock/faults", "{\"effect\": \"latency\"}", 400, "InvalidParameterException",
                   "fault rule: a latency rule needs latencyMs from 1 to 3153600000000 (100 years)", "body: $");
    assert_refusal(m, "GET", "/_ecrmock/faults/2", NULL, 404, "InvalidParameterException",
                   "no fault rule has the id '2'", "");
    assert_refusal(m, "GET", "/_ecrmock/faults/01", NULL, 404, "InvalidParameterException",
                   "no fault rule has the id '01'", "");
    assert_refusal(m, "DELETE", "/_ecrmock/faults/99999999999999999999999", NULL, 404, "InvalidParameterException",
                   "no fault rule has the id '99999999999999999999999'", "");
    assert_refusal(m, "DELETE", "/_ecrmock/faults/abc", NULL, 404, "InvalidParameterException",
                   "no fault rule has the id 'abc'", "");

    doc = ctl_ok(m, "DELETE", "/_ecrmock/faults/1", NULL);
    assert_json_is(doc, "{}");
    json_decref(doc);
    assert_refusal(m, "DELETE", "/_ecrmock/faults/1", NULL, 404, "InvalidParameterException",
                   "no fault rule has the id '1'", "");
    assert_true(add_fault(m, "{}") == 2);
    assert_true(add_fault(m, "{}") == 3);
    doc = ctl_ok(m, "DELETE", "/_ecrmock/faults", NULL);
    json_decref(doc);
    doc = ctl_ok(m, "GET", "/_ecrmock/faults", NULL);
    assert_json_is(doc, "[]");
    json_decref(doc);
}

/* ---- the journal and the counters ----------------------------------------------------- */

static void test_control_journal_and_counts(void **state)
{
    ecrmock *m = *state;
    add_fault(m, "{\"action\": \"CreateRepository\", \"count\": 1}");
    json_t *r = NULL;
    assert_int_equal(call(m, &r, "CreateRepository", "{\"repositoryName\":\"web\"}"), 400);
    json_decref(r);
    create_repo(m, "web");
    call_ok(m, "DescribeRepositories", "{}");

    json_t *doc = ctl_ok(m, "GET", "/_ecrmock/journal", NULL);
    json_t *j = ecrmock_journal_json(m, NULL);
    assert_true(json_equal(doc, j));
    assert_int_equal(json_array_size(doc), 3);
    json_decref(j);
    json_decref(doc);

    doc = ctl_ok(m, "GET", "/_ecrmock/journal/scenario", NULL);
    json_t *sc = ecrmock_scenario_record(m, NULL, NULL);
    assert_true(json_equal(doc, sc));
    json_decref(sc);
    json_decref(doc);
    doc = ctl_ok(m, "GET", "/_ecrmock/journal/scenario?x=1&fixture=fixtures/no%20such.json", NULL);
    assert_string_equal(jstr(doc, "fixture"), "fixtures/no such.json");
    json_decref(doc);

    doc = ctl_ok(m, "GET", "/_ecrmock/counts", NULL);
    assert_json_is(doc, "{\"total\": 3, \"calls\": {\"CreateRepository\": 2, \"DescribeRepositories\": 1}, "
                        "\"runs\": {\"CreateRepository\": 1, \"DescribeRepositories\": 1}, "
                        "\"journal\": {\"length\": 3, \"dropped\": 0}}");
    json_decref(doc);

    /* off, then cleared: counters stay */
    doc = ctl_ok(m, "POST", "/_ecrmock/journal", "{\"enabled\": false}");
    json_decref(doc);
    call_ok(m, "DescribeRepositories", "{}");
    assert_int_equal(ecrmock_journal_length(m), 3);
    assert_refusal(m, "POST", "/_ecrmock/journal", "{\"enabled\": 1}", 400, "InvalidParameterException",
                   "must be true or false", "body: $.enabled");
    assert_refusal(m, "POST", "/_ecrmock/journal", "{}", 400, "InvalidParameterException", "must be true or false",
                   "body: $.enabled");
    doc = ctl_ok(m, "DELETE", "/_ecrmock/journal", NULL);
    json_decref(doc);
    assert_int_equal(ecrmock_journal_length(m), 0);
    doc = ctl_ok(m, "POST", "/_ecrmock/journal", "{\"enabled\": true}");
    json_decref(doc);
    call_ok(m, "DescribeRepositories", "{}");
    assert_int_equal(ecrmock_journal_length(m), 1);
    doc = ctl_ok(m, "GET", "/_ecrmock/counts", NULL);
    assert_int_equal(json_integer_value(json_object_get(doc, "total")), 5);
    json_decref(doc);
    /* control requests are not ECR calls: never journaled or counted */
    assert_int_equal(ecrmock_call_count(m, NULL), 5);
}

/* ---- scans, principal, options ----------------------------------------------------------- */

static void test_control_scans_principal_options(void **state)
{
    ecrmock *m = *state;
    char *digest = new_repo_with_image(m, "web", 1, "v1");
    json_t *doc = ctl_ok(m, "POST", "/_ecrmock/scan/duration", "{\"ms\": 0}");
    json_decref(doc);
    char body[512];
    snprintf(body, sizeof body,
             "{\"repositoryName\": \"web\", \"imageDigest\": \"%s\", \"findings\": [{\"name\": \"CVE-1\", "
             "\"severity\": \"HIGH\"}]}",
             digest);
    doc = ctl_ok(m, "POST", "/_ecrmock/scan/findings", body);
    json_decref(doc);
    call_ok(m, "StartImageScan", "{\"repositoryName\":\"web\",\"imageId\":{\"imageTag\":\"v1\"}}");
    json_t *r = NULL;
    assert_ok(call(m, &r, "DescribeImageScanFindings", "{\"repositoryName\":\"web\",\"imageId\":{\"imageTag\":\"v1\"}}"),
              r);
    json_t *f = json_object_get(r, "imageScanFindings");
    assert_string_equal(jstr(json_array_get(json_object_get(f, "findings"), 0), "name"), "CVE-1");
    json_decref(r);

    snprintf(body, sizeof body, "{\"repositoryName\": \"nope\", \"imageDigest\": \"%s\"}", digest);
    doc = NULL;
    assert_int_equal(ctl(m, "POST", "/_ecrmock/scan/findings", body, &doc), 400);
    assert_string_equal(jstr(doc, "__type"), "RepositoryNotFoundException");
    json_decref(doc);
    snprintf(body, sizeof body, "{\"repositoryName\": \"web\", \"imageDigest\": \"%s\", \"findings\": [{}]}", digest);
    doc = NULL;
    assert_int_equal(ctl(m, "POST", "/_ecrmock/scan/findings", body, &doc), 400);
    assert_string_equal(jstr(doc, "__type"), "InvalidParameterException");
    assert_string_equal(jstr(doc, "path"), "body: $.findings[0]");
    json_decref(doc);
    assert_refusal(m, "POST", "/_ecrmock/scan/findings", "{\"repositoryName\": \"web\"}", 400,
                   "InvalidParameterException", "must be a string", "body: $.imageDigest");
    assert_refusal(m, "POST", "/_ecrmock/scan/findings", "{\"registryId\": 1}", 400, "InvalidParameterException",
                   "must be a string", "body: $.registryId");
    assert_refusal(m, "POST", "/_ecrmock/scan/duration", "{\"ms\": -1}", 400, "InvalidParameterException",
                   "must be an integer from 0 to 253402300799999", "body: $.ms");
    free(digest);

    doc = ctl_ok(m, "POST", "/_ecrmock/principal", "{\"principalArn\": \"arn:aws:iam::123456789012:role/ci\"}");
    json_decref(doc);
    doc = ctl_ok(m, "POST", "/_ecrmock/principal", "{\"principalArn\": null}");
    json_decref(doc);
    assert_refusal(m, "POST", "/_ecrmock/principal", "{\"principalArn\": 5}", 400, "InvalidParameterException",
                   "must be a string (an IAM principal's ARN) or null (none)", "body: $.principalArn");

    doc = ctl_ok(m, "GET", "/_ecrmock/options", NULL);
    ecrmock_options o = ECRMOCK_OPTIONS_INIT;
    o.min_part_size = 1024; /* setup_mock's */
    json_t *want = ecrmock_options_json(&o);
    assert_true(json_equal(doc, want));
    json_decref(want);
    json_decref(doc);

    /* the limits change; what is left out stays */
    doc = ctl_ok(m, "POST", "/_ecrmock/options", "{\"maxRepositories\": 1}");
    o.max_repositories = 1;
    want = ecrmock_options_json(&o);
    assert_true(json_equal(doc, want));
    json_decref(want);
    json_decref(doc);
    assert_int_equal(call(m, &r, "CreateRepository", "{\"repositoryName\":\"more\"}"), 400);
    assert_string_equal(err_type(r), "LimitExceededException");
    json_decref(r);
    assert_refusal(m, "POST", "/_ecrmock/options", "{\"maxImages\": 5, \"accountId\": \"111122223333\"}", 400,
                   "InvalidParameterException",
                   "accountId is fixed when the instance is made (as are the account, the region, the clock's start, "
                   "the seed and the journal's limit): make another instance for another",
                   "body: $.accountId");
    assert_refusal(m, "POST", "/_ecrmock/options", "{\"tokenLength\": 5}", 400, "InvalidParameterException",
                   "must be 512 to 65536 characters (0 means ECR's 2368)", "body: $.tokenLength");
    assert_refusal(m, "POST", "/_ecrmock/options", "{\"maxImages\": -1}", 400, "InvalidParameterException",
                   "must be an integer of at least 0 (0: the default)", "body: $.maxImages");
    doc = ctl_ok(m, "GET", "/_ecrmock/options", NULL);
    assert_int_equal(json_integer_value(json_object_get(doc, "maxImages")), 100000); /* unchanged */
    json_decref(doc);
}

/* ?fixture= with a %00 or bytes that are not UTF-8: refused (a %00 cut the
 * path there; bytes not UTF-8 were answered 500 "out of memory", as was
 * ecrmock_scenario_record() with such a path). */
static void test_control_scenario_fixture_not_text(void **state)
{
    ecrmock *m = *state;
    assert_refusal(m, "GET", "/_ecrmock/journal/scenario?fixture=a%00b.json", NULL, 400, "InvalidParameterException",
                   "a path holds no NUL (%00)", "query: fixture");
    assert_refusal(m, "GET", "/_ecrmock/journal/scenario?fixture=%ff%fe.json", NULL, 400, "InvalidParameterException",
                   "the fixture's path is not UTF-8: a scenario, JSON text, cannot hold it", "");
    assert_null(ecrmock_scenario_record(m, "\xc3.json", &test_err));
    assert_int_equal(test_err.code, ECRMOCK_ERR_INVALID_PARAMETER);
    assert_string_equal(test_err.text, "the fixture's path is not UTF-8: a scenario, JSON text, cannot hold it");
    /* decoded as before: '+' a space, an escape its byte */
    json_t *doc = ctl_ok(m, "GET", "/_ecrmock/journal/scenario?fixture=my+dir%2Fx%C3%A9.json", NULL);
    assert_string_equal(jstr(doc, "fixture"), "my dir/x\xc3\xa9.json");
    json_decref(doc);
}

/* ---- SigV4 ------------------------------------------------------------------------------ */

#define AKID "AKIDEXAMPLE"
#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"

static void test_control_needs_the_signature(void **state)
{
    ecrmock *m = *state;
    assert_int_equal(ecrmock_http_credentials_set(m, AKID, SECRET, NULL), 0);
    assert_refusal(m, "POST", "/_ecrmock/reset", NULL, 400, "MissingAuthenticationTokenException",
                   "Request is missing Authentication Token", "");
    /* signed as curl --aws-sigv4 signs it, on the virtual clock's date */
    const char *date = "20240101T000000Z", *body = "{\"ms\": 1000}";
    ecrmock_http_header h[] = {{"Host", "127.0.0.1:5000"}, {"Content-Type", "application/json"},
                               {"X-Amz-Date", date}};
    em_sigv4_input in = {"POST", "/_ecrmock/clock/advance", "", h, 3, body, strlen(body)};
    char *cr = NULL, *sts = NULL, sig[65];
    assert_int_equal(em_sigv4_sign(&in, "content-type;host;x-amz-date", date, "us-east-1", "ecr", SECRET, &cr, &sts,
                                   sig),
                     0);
    free(cr);
    free(sts);
    char auth[256];
    snprintf(auth, sizeof auth,
             "AWS4-HMAC-SHA256 Credential=" AKID "/20240101/us-east-1/ecr/aws4_request, "
             "SignedHeaders=content-type;host;x-amz-date, Signature=%s",
             sig);
    ecrmock_http_header extra[] = {{"X-Amz-Date", date}, {"Authorization", auth}};
    json_t *doc = NULL;
    assert_int_equal(ctl_full(m, "POST", "/_ecrmock/clock/advance", body, &doc, extra, 2, NULL), 200);
    json_decref(doc);
    assert_true(ecrmock_clock_now(m) == ECRMOCK_DEFAULT_CLOCK_MS + 1000);
    /* the same signature on another body: refused, the clock unmoved */
    assert_int_equal(ctl_full(m, "POST", "/_ecrmock/clock/advance", "{\"ms\": 9000}", &doc, extra, 2, NULL), 400);
    assert_string_equal(jstr(doc, "__type"), "InvalidSignatureException");
    json_decref(doc);
    assert_true(ecrmock_clock_now(m) == ECRMOCK_DEFAULT_CLOCK_MS + 1000);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup_control, teardown_mock)
    const struct CMUnitTest tests[] = {
        T(test_control_off_by_default_and_switch),
        T(test_control_unknown_path_and_method),
        T(test_control_reset),
        T(test_control_fixture_and_snapshot),
        T(test_control_clock),
        T(test_control_faults),
        T(test_control_journal_and_counts),
        T(test_control_scans_principal_options),
        T(test_control_scenario_fixture_not_text),
        T(test_control_needs_the_signature),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
