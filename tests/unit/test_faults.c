/*
 * Fault rules and hooks: each rule kind, each effect, determinism, isolation
 * between instances, and safety under concurrent calls.
 */
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>

#include "helpers.h"

#include "ecrmock_cmocka.h"
#include "testing/testing.h" /* em_fault_is_transport */

static int describe_count(ecrmock *m)
{
    json_t *r = NULL;
    assert_ok(call(m, &r, "DescribeRepositories", "{}"), r);
    int n = (int)json_array_size(json_object_get(r, "repositories"));
    json_decref(r);
    return n;
}

/* The third UploadLayerPart is throttled, and only the third. */
static void test_fault_nth_call_throttled(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "web");
    long id = add_fault(m, "{\"action\": \"UploadLayerPart\", \"nth\": 3, \"count\": 1}");
    json_t *r = NULL;
    char upload[64];
    initiate_upload(m, "web", upload);
    int statuses[4];
    for (int i = 0; i < 4; i++) {
        /* each part is 3 bytes "abc" = YWJj; a throttled part is not received, so it is resent */
        statuses[i] = call(m, &r, "UploadLayerPart",
                           "{\"repositoryName\": \"web\", \"uploadId\": \"%s\", \"partFirstByte\": %d, "
                           "\"partLastByte\": %d, \"layerPartBlob\": \"YWJj\"}",
                           upload, i == 3 ? 6 : i * 3, i == 3 ? 8 : i * 3 + 2);
        if (i == 2) {
            assert_string_equal(err_type(r), "ThrottlingException");
            assert_string_equal(err_message(r), "Rate exceeded");
        }
        json_decref(r);
    }
    assert_int_equal(statuses[0], 200);
    assert_int_equal(statuses[1], 200);
    assert_int_equal(statuses[2], 400);
    assert_int_equal(statuses[3], 200);
    assert_int_equal(ecrmock_fault_fired(m, id), 1);
    assert_ecrmock_call_count(m, "UploadLayerPart", 4);
}

/* count 0: every matching call from the nth on. */
static void test_fault_forever_from_nth(void **state)
{
    ecrmock *m = *state;
    add_fault(m, "{\"action\": \"CreateRepository\", \"nth\": 2, \"error\": \"ServiceUnavailableException\"}");
    json_t *r = NULL;
    call_ok(m, "CreateRepository", "{\"repositoryName\": \"a1\"}");
    for (int i = 2; i < 6; i++) {
        assert_error(call(m, &r, "CreateRepository", "{\"repositoryName\": \"a%d\"}", i), r, 503,
                     "ServiceUnavailableException");
    }
    assert_int_equal(describe_count(m), 1);
}

/* A rule that names a repository leaves the others alone; one with a request
 * predicate only fires on requests that hold those members. */
static void test_fault_repository_and_request_match(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "web");
    create_repo(m, "api");
    add_fault(m, "{\"action\": \"*\", \"repository\": \"web\", \"error\": \"ServerException\"}");
    add_fault(m, "{\"action\": \"ListImages\", \"request\": {\"filter\": {\"tagStatus\": \"UNTAGGED\"}}, "
                "\"error\": \"AccessDeniedException\", \"message\": \"no\", \"status\": 403}");
    json_t *r = NULL;
    assert_error(call(m, &r, "ListImages", "{\"repositoryName\": \"web\"}"), r, 500, "ServerException");
    call_ok(m, "ListImages", "{\"repositoryName\": \"api\"}");
    call_ok(m, "ListImages", "{\"repositoryName\": \"api\", \"filter\": {\"tagStatus\": \"TAGGED\"}}");
    int st = call(m, &r, "ListImages", "{\"repositoryName\": \"api\", \"filter\": {\"tagStatus\": \"UNTAGGED\"}}");
    assert_int_equal(st, 403);
    assert_string_equal(err_type(r), "AccessDeniedException");
    assert_string_equal(err_message(r), "no");
    json_decref(r);
}

/* Apply-then-error: PutImage's image exists although the caller saw an error. */
static void test_fault_apply_then_error_really_applied(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "web");
    char *manifest = make_manifest(m, "web", 1, 1);
    long id = add_fault(m, "{\"action\": \"PutImage\", \"effect\": \"apply-then-error\", \"error\": \"ServerException\"}");
    json_t *req = json_pack("{s:s, s:s, s:s}", "repositoryName", "web", "imageManifest", manifest, "imageTag", "v1");
    json_t *r = NULL;
    assert_error(ecrmock_call(m, "PutImage", req, &r), r, 500, "ServerException");
    assert_ecrmock_image_exists(m, "web", "v1");
    assert_ecrmock_last_error(m, "ServerException");
    /* The client retries: ECR now says the image exists. */
    ecrmock_fault_remove(m, id, NULL);
    assert_error(ecrmock_call(m, "PutImage", req, &r), r, 400, "ImageAlreadyExistsException");
    json_decref(req);
    free(manifest);
}

/* Apply-then-error on a call that fails by itself answers its own error. */
static void test_fault_apply_then_error_on_failing_call(void **state)
{
    ecrmock *m = *state;
    add_fault(m, "{\"action\": \"DeleteRepository\", \"effect\": \"apply-then-error\"}");
    json_t *r = NULL;
    assert_error(call(m, &r, "DeleteRepository", "{\"repositoryName\": \"nope\"}"), r, 400,
                 "RepositoryNotFoundException");
}

/* Latency moves the virtual clock so that an upload expires mid-flow. */
static void test_fault_latency_expires_upload(void **state)
{
    ecrmock_options o = ECRMOCK_OPTIONS_INIT;
    o.upload_lifetime_ms = 60000;
    ecrmock *m = ecrmock_new(&o);
    (void)state;
    create_repo(m, "web");
    json_t *r = NULL;
    char upload[64];
    initiate_upload(m, "web", upload);
    int64_t before = ecrmock_clock_now(m);
    add_fault(m, "{\"action\": \"UploadLayerPart\", \"effect\": \"latency\", \"latencyMs\": 61000, \"count\": 1}");
    assert_error(call(m, &r, "UploadLayerPart",
                      "{\"repositoryName\": \"web\", \"uploadId\": \"%s\", \"partFirstByte\": 0, "
                      "\"partLastByte\": 2, \"layerPartBlob\": \"YWJj\"}",
                      upload),
                 r, 400, "UploadNotFoundException");
    assert_int_equal(ecrmock_clock_now(m), before + 61000);
    ecrmock_free(m);
}

/* Latency adds up with an error rule on the same call. */
static void test_fault_latency_combines_with_error(void **state)
{
    ecrmock *m = *state;
    int64_t before = ecrmock_clock_now(m);
    add_fault(m, "{\"effect\": \"latency\", \"latencyMs\": 500}");
    add_fault(m, "{\"effect\": \"latency\", \"latencyMs\": 250}");
    add_fault(m, "{\"action\": \"GetAuthorizationToken\"}");
    json_t *r = NULL;
    assert_error(call(m, &r, "GetAuthorizationToken", "{}"), r, 400, "ThrottlingException");
    assert_int_equal(ecrmock_clock_now(m), before + 750);
}

/* Truncated and malformed bodies at the wire level; the JSON level is unaffected. */
static void test_fault_truncate_and_malform(void **state)
{
    ecrmock *m = *state;
    add_fault(m, "{\"action\": \"CreateRepository\", \"effect\": \"truncate\", \"truncateAt\": 10, \"count\": 1}");
    add_fault(m, "{\"action\": \"DescribeRepositories\", \"effect\": \"malform\", \"count\": 1}");
    char *out = NULL;
    size_t len = 0;
    const char *body = "{\"repositoryName\":\"web\"}";
    assert_int_equal(ecrmock_call_raw(m, "CreateRepository", body, strlen(body), &out, &len), 200);
    assert_int_equal(len, 10);
    assert_string_equal(out, "{\"reposito");
    free(out);
    assert_int_equal(describe_count(m), 1); /* applied; the JSON level sees no truncation */
    /* The malform rule fired on that JSON-level call; add one for the wire. */
    add_fault(m, "{\"action\": \"DescribeRepositories\", \"effect\": \"malform\", \"body\": \"{\\\"repos\"}");
    assert_int_equal(ecrmock_call_raw(m, "DescribeRepositories", "{}", 2, &out, &len), 200);
    assert_string_equal(out, "{\"repos");
    assert_int_equal(len, 7);
    free(out);
}

static void test_fault_malform_default_body(void **state)
{
    ecrmock *m = *state;
    add_fault(m, "{\"effect\": \"malform\"}");
    char *out = NULL;
    size_t len = 0;
    assert_int_equal(ecrmock_call_raw(m, "GetAuthorizationToken", NULL, 0, &out, &len), 200);
    assert_string_equal(out, "<html><body><h1>502 Bad Gateway</h1></body></html>");
    assert_null(json_loads(out, 0, NULL));
    free(out);
}

/* Same seed, same pattern of failures; another seed, another pattern. */
static char *probabilistic_pattern(uint64_t seed)
{
    ecrmock_options o = ECRMOCK_OPTIONS_INIT;
    o.seed = seed;
    ecrmock *m = ecrmock_new(&o);
    add_fault(m, "{\"action\": \"GetAuthorizationToken\", \"probability\": 0.5}");
    char *pattern = calloc(65, 1);
    for (int i = 0; i < 64; i++) {
        json_t *r = NULL;
        pattern[i] = call(m, &r, "GetAuthorizationToken", "{}") == 200 ? '.' : 'X';
        json_decref(r);
    }
    ecrmock_free(m);
    return pattern;
}

static void test_fault_probability_is_deterministic(void **state)
{
    (void)state;
    char *a = probabilistic_pattern(7), *b = probabilistic_pattern(7), *c = probabilistic_pattern(8);
    assert_string_equal(a, b);
    assert_string_not_equal(a, c);
    size_t fails = 0;
    for (int i = 0; i < 64; i++)
        fails += a[i] == 'X';
    assert_in_range(fails, 16, 48); /* p = 0.5 over 64 draws */
    free(a);
    free(b);
    free(c);
}

/* Same seed → the same journal, byte for byte, faults included. */
static char *journal_of_run(uint64_t seed)
{
    ecrmock_options o = ECRMOCK_OPTIONS_INIT;
    o.seed = seed;
    ecrmock *m = ecrmock_new(&o);
    add_fault(m, "{\"action\": \"InitiateLayerUpload\", \"probability\": 0.3}");
    add_fault(m, "{\"effect\": \"latency\", \"latencyMs\": 1234, \"probability\": 0.5}");
    json_t *r = NULL;
    call(m, &r, "CreateRepository", "{\"repositoryName\": \"web\"}");
    json_decref(r);
    for (int i = 0; i < 20; i++) {
        call(m, &r, "InitiateLayerUpload", "{\"repositoryName\": \"web\"}");
        json_decref(r);
    }
    json_t *j = ecrmock_journal_json(m, NULL);
    char *text = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    ecrmock_free(m);
    return text;
}

static void test_fault_same_seed_same_journal(void **state)
{
    (void)state;
    char *a = journal_of_run(42), *b = journal_of_run(42), *c = journal_of_run(43);
    assert_string_equal(a, b);
    assert_string_not_equal(a, c);
    free(a);
    free(b);
    free(c);
}

/* Adding a probabilistic rule does not change the ids the fake generates. */
static void test_fault_rules_do_not_shift_ids(void **state)
{
    (void)state;
    ecrmock *a = ecrmock_new(NULL), *b = ecrmock_new(NULL);
    add_fault(b, "{\"action\": \"CreateRepository\", \"probability\": 0.0001}");
    create_repo(a, "web");
    create_repo(b, "web");
    assert_same_answer(a, b, "InitiateLayerUpload", "{\"repositoryName\": \"web\"}");
    ecrmock_free(a);
    ecrmock_free(b);
}

/* A rule on one instance never affects another. */
static void test_fault_isolated_between_instances(void **state)
{
    ecrmock *m = *state;
    ecrmock *other = ecrmock_new(NULL);
    add_fault(m, "{}"); /* every call of every action on m */
    json_t *r = NULL;
    assert_error(call(m, &r, "CreateRepository", "{\"repositoryName\": \"web\"}"), r, 400, "ThrottlingException");
    call_ok(other, "CreateRepository", "{\"repositoryName\": \"web\"}");
    ecrmock_free(other);
}

static void test_fault_remove_and_clear(void **state)
{
    ecrmock *m = *state;
    long a = add_fault(m, "{\"action\": \"CreateRepository\"}");
    long b = add_fault(m, "{\"action\": \"DescribeRepositories\"}");
    assert_true(a > 0 && b > a);
    assert_int_equal(ecrmock_fault_remove(m, a, NULL), 0);
    assert_int_equal(ecrmock_fault_remove(m, a, NULL), -1);
    create_repo(m, "web");
    json_t *r = NULL;
    assert_error(call(m, &r, "DescribeRepositories", "{}"), r, 400, "ThrottlingException");
    ecrmock_fault_clear(m);
    assert_int_equal(describe_count(m), 1);
    assert_int_equal(ecrmock_fault_fired(m, b), 0); /* gone */
}

/* Faults act before validation, as throttling does at the front door. */
static void test_fault_before_validation(void **state)
{
    ecrmock *m = *state;
    add_fault(m, "{\"action\": \"CreateRepository\"}");
    json_t *r = NULL;
    assert_error(call(m, &r, "CreateRepository", "{\"repositoryName\": \"A\"}"), r, 400, "ThrottlingException");
}

/* A JSON rule and the sentence it is refused with. */
typedef struct refusal {
    const char *rule, *why;
} refusal;

/* Asserts each rule is refused with its sentence (and nothing added). */
static void assert_rules_refused(ecrmock *m, const refusal *bad, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        json_t *rule = json_loads(bad[i].rule, JSON_DECODE_ANY, NULL);
        assert_non_null(rule);
        ecrmock_err err;
        assert_int_equal(ecrmock_fault_add_json(m, rule, &err), -1);
        assert_int_equal(err.code, ECRMOCK_ERR_INVALID_PARAMETER);
        assert_string_equal(err.path, "");
        assert_string_equal(err.text, bad[i].why);
        json_decref(rule);
    }
}

/* Asserts the C struct rule is refused with `why`. */
static void assert_struct_refused(ecrmock *m, const ecrmock_fault *f, const char *why)
{
    ecrmock_err err;
    assert_int_equal(ecrmock_fault_add(m, f, &err), -1);
    assert_int_equal(err.code, ECRMOCK_ERR_INVALID_PARAMETER);
    assert_string_equal(err.text, why);
}

static void test_fault_refused_rules(void **state)
{
    ecrmock *m = *state;
    static const refusal bad[] = {
        {"[]", "fault rule: must be a JSON object"},
        {"{\"action\": \"PushImage\"}", "fault rule: action is not an ECR action ecrmock serves (or \"*\" for any)"},
        {"{\"probability\": 1.5}", "fault rule: probability must be between 0 and 1"},
        {"{\"effect\": \"explode\"}",
         "fault rule: effect must be one of \"error\", \"apply-then-error\", \"latency\", \"truncate\", \"malform\", "
         "\"connect-refused\", \"timeout\", \"recv-error\""},
        {"{\"effect\": \"latency\"}", "fault rule: a latency rule needs latencyMs from 1 to 3153600000000 (100 years)"},
        {"{\"nth\": \"3\"}", "fault rule: member 'nth' has the wrong type"},
        {"{\"status\": 200}", "fault rule: status must be an HTTP error status, 400 to 599"},
        {"{\"when\": 1}", "fault rule: unknown member 'when'"},
        {"{\"error\": \"\"}", "fault rule: error must be an error name such as \"ThrottlingException\""},
        {"{\"request\": 5}", "fault rule: member 'request' has the wrong type"},
    };
    assert_rules_refused(m, bad, sizeof bad / sizeof bad[0]);
    ecrmock_fault c = ECRMOCK_FAULT_INIT;
    c.version = 99;
    assert_struct_refused(m, &c, "fault rule: version is not one this library knows: initialise it with ECRMOCK_FAULT_INIT");
    assert_int_equal(ecrmock_fault_add(m, NULL, NULL), -1);
}

/* Transport effects at the levels without a transport: connect-refused and
 * timeout answer ServerException and the action does not run; recv-error
 * runs it and loses the answer.  The HTTP level names the effect in a header
 * (the libcurl interposer's cue); the response is otherwise the same. */
static void test_fault_transport_effects(void **state)
{
    ecrmock *m = *state;
    static const char *const names[] = {"connect-refused", "timeout", "recv-error"};
    for (int i = 0; i < 3; i++) {
        char rule[128], repo[32];
        snprintf(rule, sizeof rule, "{\"action\": \"CreateRepository\", \"effect\": \"%s\", \"count\": 1}", names[i]);
        snprintf(repo, sizeof repo, "t%d", i);
        json_t *r = json_loads(rule, 0, NULL);
        long id = ecrmock_fault_add_json(m, r, NULL);
        json_decref(r);
        assert_true(id > 0);
        json_t *resp = NULL;
        assert_int_equal(call(m, &resp, "CreateRepository", "{\"repositoryName\": \"%s\"}", repo), 500);
        assert_string_equal(json_string_value(json_object_get(resp, "__type")), "ServerException");
        assert_string_equal(json_string_value(json_object_get(resp, "message")),
                            "We encountered an internal error. Please try again.");
        json_decref(resp);
        assert_int_equal(ecrmock_fault_fired(m, id), 1);
        /* Only the lost response left the repository behind. */
        int want = i == 2 ? 400 : 200; /* RepositoryAlreadyExistsException when it was created */
        json_t *again = NULL;
        assert_int_equal(call(m, &again, "CreateRepository", "{\"repositoryName\": \"%s\"}", repo), want);
        json_decref(again);
    }

    /* The HTTP level: the same 500, and the header. */
    ecrmock_fault f = ECRMOCK_FAULT_INIT;
    f.action = "DescribeRepositories";
    f.effect = ECRMOCK_FAULT_TIMEOUT;
    f.count = 1;
    assert_true(ecrmock_fault_add(m, &f, NULL) > 0);
    ecrmock_http_response resp;
    assert_true(http_post(m, &resp, "DescribeRepositories", "{}", NULL) > 0);
    assert_int_equal(resp.status, 500);
    assert_string_equal(ecrmock_http_response_header(&resp, ECRMOCK_HTTP_TRANSPORT_FAULT_HEADER), "timeout");
    assert_non_null(strstr(resp.body, "ServerException"));
    ecrmock_http_response_release(&resp);
    assert_true(http_post(m, &resp, "DescribeRepositories", "{}", NULL) > 0);
    assert_int_equal(resp.status, 200);
    assert_null(ecrmock_http_response_header(&resp, ECRMOCK_HTTP_TRANSPORT_FAULT_HEADER));
    ecrmock_http_response_release(&resp);
}

/* The C struct form: the same rule as the JSON one. */
static void test_fault_c_struct(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "web");
    json_t *match = json_pack("{s:[{s:s}]}", "imageIds", "imageTag", "v9");
    ecrmock_fault f = ECRMOCK_FAULT_INIT;
    f.action = "BatchGetImage";
    f.request_match = match;
    f.error = "ServerException";
    f.message = "boom";
    long id = ecrmock_fault_add(m, &f, NULL);
    json_decref(match); /* the rule holds its own copy */
    assert_true(id > 0);
    json_t *r = NULL;
    call_ok(m, "BatchGetImage", "{\"repositoryName\": \"web\", \"imageIds\": [{\"imageTag\": \"v1\"}]}");
    int st = call(m, &r, "BatchGetImage", "{\"repositoryName\": \"web\", \"imageIds\": [{\"imageTag\": \"v9\"}]}");
    assert_int_equal(st, 500);
    assert_string_equal(err_message(r), "boom");
    json_decref(r);
    assert_int_equal(ecrmock_fault_fired(m, id), 1);
}

/* ---- every member has its effect; int64 edges (issue 14 item 7, issue 13 item 6) ---- */

/* A malform or truncate rule's status is the status the damaged body is
 * sent with, at the wire and HTTP levels; without one, the action's own. */
static void test_fault_malform_and_truncate_status(void **state)
{
    ecrmock *m = *state;
    add_fault(m, "{\"action\": \"DescribeRepositories\", \"effect\": \"malform\", \"status\": 502, \"count\": 2}");
    char *out = NULL;
    size_t len = 0;
    assert_int_equal(ecrmock_call_raw(m, "DescribeRepositories", "{}", 2, &out, &len), 502);
    assert_string_equal(out, "<html><body><h1>502 Bad Gateway</h1></body></html>");
    free(out);
    ecrmock_http_response resp;
    assert_true(http_post(m, &resp, "DescribeRepositories", "{}", NULL) > 0);
    assert_int_equal(resp.status, 502);
    assert_string_equal(resp.body, "<html><body><h1>502 Bad Gateway</h1></body></html>");
    ecrmock_http_response_release(&resp);

    add_fault(m, "{\"action\": \"CreateRepository\", \"effect\": \"truncate\", \"truncateAt\": 3, \"status\": 503, "
                "\"count\": 1}");
    const char *body = "{\"repositoryName\":\"web\"}";
    assert_int_equal(ecrmock_call_raw(m, "CreateRepository", body, strlen(body), &out, &len), 503);
    assert_int_equal(len, 3);
    assert_string_equal(out, "{\"r");
    free(out);
    assert_int_equal(describe_count(m), 1); /* the action ran */

    /* No status: the action's, here its own error's 400. */
    add_fault(m, "{\"action\": \"DeleteRepository\", \"effect\": \"malform\", \"body\": \"oops\", \"count\": 1}");
    body = "{\"repositoryName\":\"nope\"}";
    assert_int_equal(ecrmock_call_raw(m, "DeleteRepository", body, strlen(body), &out, &len), 400);
    assert_string_equal(out, "oops");
    free(out);
}

/* A member the rule's effect does not use is refused, naming it (the JSON
 * name for a JSON rule, the field's for the C struct), never ignored. */
static void test_fault_members_without_effect_refused(void **state)
{
    ecrmock *m = *state;
    static const refusal bad[] = {
        {"{\"effect\": \"latency\", \"latencyMs\": 5, \"error\": \"ServerException\"}",
         "fault rule: error has no effect with the effect \"latency\" (it is for error, apply-then-error, "
         "connect-refused, timeout and recv-error rules)"},
        {"{\"effect\": \"latency\", \"latencyMs\": 5, \"status\": 503}",
         "fault rule: status has no effect with the effect \"latency\" (it is for every effect but latency)"},
        {"{\"effect\": \"malform\", \"message\": \"boom\"}",
         "fault rule: message has no effect with the effect \"malform\" (it is for error, apply-then-error, "
         "connect-refused, timeout and recv-error rules)"},
        {"{\"effect\": \"malform\", \"truncateAt\": 0}",
         "fault rule: truncateAt has no effect with the effect \"malform\" (it is for truncate rules)"},
        {"{\"effect\": \"truncate\", \"body\": \"x\"}",
         "fault rule: body has no effect with the effect \"truncate\" (it is for malform rules)"},
        {"{\"effect\": \"truncate\", \"error\": \"ServerException\"}",
         "fault rule: error has no effect with the effect \"truncate\" (it is for error, apply-then-error, "
         "connect-refused, timeout and recv-error rules)"},
        {"{\"latencyMs\": 1000}", "fault rule: latencyMs has no effect with the effect \"error\" (it is for latency rules)"},
        {"{\"effect\": \"timeout\", \"body\": \"x\"}",
         "fault rule: body has no effect with the effect \"timeout\" (it is for malform rules)"},
        {"{\"effect\": \"apply-then-error\", \"truncateAt\": 4}",
         "fault rule: truncateAt has no effect with the effect \"apply-then-error\" (it is for truncate rules)"},
    };
    assert_rules_refused(m, bad, sizeof bad / sizeof bad[0]);
    ecrmock_fault f = ECRMOCK_FAULT_INIT;
    f.effect = ECRMOCK_FAULT_MALFORM;
    f.latency_ms = 10;
    assert_struct_refused(m, &f, "fault rule: latency_ms has no effect with the effect \"malform\" (it is for latency rules)");
    f = (ecrmock_fault)ECRMOCK_FAULT_INIT;
    f.truncate_at = 10; /* an error rule */
    assert_struct_refused(m, &f, "fault rule: truncate_at has no effect with the effect \"error\" (it is for truncate rules)");
    /* What each effect does use is accepted. */
    add_fault(m, "{\"effect\": \"recv-error\", \"error\": \"ServerException\", \"message\": \"m\", \"status\": 502}");
    add_fault(m, "{\"effect\": \"truncate\", \"truncateAt\": 1, \"status\": 500}");
    add_fault(m, "{\"effect\": \"malform\", \"body\": \"x\", \"status\": 502}");
    add_fault(m, "{\"effect\": \"latency\", \"latencyMs\": 1}");
}

/* Strings: error and message go into an error document, so they must be
 * UTF-8 (a rule with "\xff" made every call it decided fail with -1); a
 * JSON string with a NUL would be cut there. */
static void test_fault_strings_checked(void **state)
{
    ecrmock *m = *state;
    ecrmock_fault f = ECRMOCK_FAULT_INIT;
    f.error = "Bad\xff";
    assert_struct_refused(m, &f, "fault rule: error must be UTF-8");
    f.error = NULL;
    f.message = "overlong \xc0\x80";
    assert_struct_refused(m, &f, "fault rule: message must be UTF-8");
    ecrmock_err err;
    json_t *rule = json_pack("{s:s, s:s%}", "effect", "malform", "body", "a\0b", (size_t)3);
    assert_int_equal(ecrmock_fault_add_json(m, rule, &err), -1);
    assert_string_equal(err.text, "fault rule: body must not hold a NUL character (\\u0000)");
    json_decref(rule);
    call_ok(m, "DescribeRegistry", "{}"); /* no rule was added */
    /* UTF-8 is fine, and so is any byte in a malform body. */
    f.message = "r\xc3\xa9" "essayez";
    f.action = "DescribeRegistry";
    f.count = 1;
    assert_true(ecrmock_fault_add(m, &f, NULL) > 0);
    json_t *r = NULL;
    assert_int_equal(call(m, &r, "DescribeRegistry", "{}"), 400);
    assert_string_equal(err_message(r), "r\xc3\xa9" "essayez");
    json_decref(r);
    f = (ecrmock_fault)ECRMOCK_FAULT_INIT;
    f.effect = ECRMOCK_FAULT_MALFORM;
    f.body = "\xff\xfe";
    assert_true(ecrmock_fault_add(m, &f, NULL) > 0);
    char *out = NULL;
    size_t len = 0;
    assert_int_equal(ecrmock_call_raw(m, "DescribeRegistry", NULL, 0, &out, &len), 200);
    assert_int_equal(len, 2);
    assert_memory_equal(out, "\xff\xfe", 2);
    free(out);
}

/* Integer members at int64's edges: refused with the member's name, or
 * meaning what they say; never undefined behaviour (UBSan in make asan). */
static void test_fault_integer_edges(void **state)
{
    ecrmock *m = *state;
    static const refusal bad[] = {
        {"{\"effect\": \"latency\", \"latencyMs\": 9223372036854775807}",
         "fault rule: a latency rule needs latencyMs from 1 to 3153600000000 (100 years)"},
        {"{\"effect\": \"latency\", \"latencyMs\": 3153600000001}",
         "fault rule: a latency rule needs latencyMs from 1 to 3153600000000 (100 years)"},
        {"{\"effect\": \"latency\", \"latencyMs\": -9223372036854775808}", "fault rule: latencyMs must not be negative"},
        {"{\"nth\": -1}", "fault rule: nth must not be negative"},
        {"{\"count\": -9223372036854775808}", "fault rule: count must not be negative"},
        {"{\"status\": 9223372036854775807}", "fault rule: status must be an HTTP error status, 400 to 599"},
        {"{\"status\": 4294967696}", "fault rule: status must be an HTTP error status, 400 to 599"}, /* 400 + 2^32 */
        {"{\"status\": -9223372036854775808}", "fault rule: status must not be negative"},
        {"{\"effect\": \"truncate\", \"truncateAt\": -1}", "fault rule: truncateAt must not be negative"},
        {"{\"probability\": 9223372036854775807}", "fault rule: probability must be between 0 and 1"},
        {"{\"probability\": -1e300}", "fault rule: probability must be between 0 and 1"},
    };
    assert_rules_refused(m, bad, sizeof bad / sizeof bad[0]);
    /* The C struct: the same bound, named as the field is. */
    ecrmock_fault f = ECRMOCK_FAULT_INIT;
    f.effect = ECRMOCK_FAULT_LATENCY;
    const int64_t wrong[] = {INT64_MAX, INT64_MIN, -1, ECRMOCK_FAULT_MAX_LATENCY_MS + 1};
    for (size_t i = 0; i < sizeof wrong / sizeof wrong[0]; i++) {
        f.latency_ms = wrong[i];
        assert_struct_refused(m, &f, "fault rule: a latency rule needs latency_ms from 1 to 3153600000000 (100 years)");
    }
    f.latency_ms = 0;
    f.effect = ECRMOCK_FAULT_ERROR;
    f.status = INT_MIN;
    assert_struct_refused(m, &f, "fault rule: status must be an HTTP error status, 400 to 599");

    /* Accepted at the edge, and meaning it: nth never reached; count and
     * truncateAt without bound. */
    long never = add_fault(m, "{\"action\": \"ListImages\", \"nth\": 9223372036854775807}");
    long always = add_fault(m, "{\"action\": \"DescribeRegistry\", \"count\": 9223372036854775807}");
    add_fault(m, "{\"action\": \"DescribeRepositories\", \"effect\": \"truncate\", \"truncateAt\": 9223372036854775807}");
    create_repo(m, "web");
    call_ok(m, "ListImages", "{\"repositoryName\": \"web\"}");
    assert_int_equal(ecrmock_fault_fired(m, never), 0);
    json_t *r = NULL;
    for (int i = 0; i < 3; i++)
        assert_error(call(m, &r, "DescribeRegistry", "{}"), r, 400, "ThrottlingException");
    assert_int_equal(ecrmock_fault_fired(m, always), 3);
    char *out = NULL;
    size_t len = 0;
    assert_int_equal(ecrmock_call_raw(m, "DescribeRepositories", "{}", 2, &out, &len), 200);
    assert_int_equal(len, strlen(out));
    json_t *whole = json_loads(out, 0, NULL);
    assert_non_null(whole); /* nothing cut */
    json_decref(whole);
    free(out);
}

/* The longest latency, on a clock near its end: the clock stops at
 * ECRMOCK_CLOCK_MAX_MS (near int64's end it used to overflow, undefined
 * behaviour). */
static void test_fault_latency_at_clock_end(void **state)
{
    ecrmock *m = *state;
    ecrmock_fault f = ECRMOCK_FAULT_INIT;
    f.action = "DescribeRegistry";
    f.effect = ECRMOCK_FAULT_LATENCY;
    f.latency_ms = ECRMOCK_FAULT_MAX_LATENCY_MS;
    assert_true(ecrmock_fault_add(m, &f, NULL) > 0);
    add_fault(m, "{\"action\": \"DescribeRegistry\", \"effect\": \"latency\", \"latencyMs\": 1}");
    assert_int_equal(ecrmock_clock_set(m, ECRMOCK_CLOCK_MAX_MS - ECRMOCK_FAULT_MAX_LATENCY_MS - 10, NULL), 0);
    call_ok(m, "DescribeRegistry", "{}");
    assert_int_equal(ecrmock_clock_now(m), ECRMOCK_CLOCK_MAX_MS - 9);
    call_ok(m, "DescribeRegistry", "{}");
    assert_true(ecrmock_clock_now(m) == ECRMOCK_CLOCK_MAX_MS);
    call_ok(m, "DescribeRegistry", "{}");
    assert_true(ecrmock_clock_now(m) == ECRMOCK_CLOCK_MAX_MS);
}

/* A fixture's rule: the message names the rule's path and the member. */
static void test_fault_fixture_rule_names_member(void **state)
{
    ecrmock *m = *state;
    ecrmock_err err;
    assert_int_equal(ecrmock_fixture_load_string(
                         m, "{\"faults\": [{}, {\"effect\": \"latency\", \"latencyMs\": 9223372036854775807}]}", "x.json",
                         &err),
                     -1);
    assert_int_equal(err.code, ECRMOCK_ERR_INVALID_PARAMETER);
    assert_string_equal(err.path, "x.json: $.faults[1].latencyMs"); /* the schema's range */
    assert_string_equal(err.text, "must be at most 3153600000000");
    assert_int_equal(ecrmock_fixture_load_string(m, "{\"faults\": [{\"effect\": \"malform\", \"status\": 200}]}",
                                                 "x.json", &err),
                     -1);
    assert_string_equal(err.path, "x.json: $.faults[0].status");
    assert_string_equal(err.text, "must be at least 400");
}

/* ---- hooks ---------------------------------------------------------------- */

typedef struct hook_log {
    int before, after;
    char last_action[64];
    int last_status;
    ecrmock *m;
} hook_log;

static void before_hook(void *user, const char *action, json_t *request, ecrmock_injection *inject)
{
    hook_log *log = user;
    log->before++;
    snprintf(log->last_action, sizeof log->last_action, "%s", action);
    const char *name = json_string_value(json_object_get(request, "repositoryName"));
    if (name && strcmp(name, "forbidden") == 0) {
        inject->error = "AccessDeniedException";
        inject->message = "hook says no";
        inject->status = 403;
    }
    /* A hook may look at the instance: the lock is recursive. */
    json_decref(ecrmock_images(log->m, NULL, "web", NULL));
}

static void after_hook(void *user, const char *action, json_t *request, int status, json_t *response)
{
    hook_log *log = user;
    (void)action;
    (void)request;
    (void)response;
    log->after++;
    log->last_status = status;
}

static void test_hooks_see_and_inject(void **state)
{
    ecrmock *m = *state;
    hook_log log = {.m = m};
    ecrmock_hooks_set(m, before_hook, after_hook, &log);
    create_repo(m, "web");
    json_t *r = NULL;
    int st = call(m, &r, "CreateRepository", "{\"repositoryName\": \"forbidden\"}");
    assert_int_equal(st, 403);
    assert_string_equal(err_type(r), "AccessDeniedException");
    assert_string_equal(err_message(r), "hook says no");
    json_decref(r);
    assert_int_equal(log.before, 2);
    assert_int_equal(log.after, 2);
    assert_int_equal(log.last_status, 403);
    assert_string_equal(log.last_action, "CreateRepository");
    assert_int_equal(describe_count(m), 1); /* forbidden was not created */
    ecrmock_hooks_set(m, NULL, NULL, NULL);
    call_ok(m, "CreateRepository", "{\"repositoryName\": \"forbidden\"}");
    assert_int_equal(log.before, 3); /* describe_count's call passed the hook too; none since */
}

/* A before-hook whose error name and message are not UTF-8 (a hook's
 * strings come from anywhere): the call is answered, each bad byte as
 * U+FFFD, at the JSON and the wire level (it used to return -1). */
static void latin1_before(void *user, const char *action, json_t *request, ecrmock_injection *inject)
{
    (void)user;
    (void)action;
    (void)request;
    inject->error = "Caf\xe9" "Exception";
    inject->message = "na\xefve \xff";
    inject->status = 400;
}

static void test_hook_injects_non_utf8(void **state)
{
    ecrmock *m = *state;
    ecrmock_hooks_set(m, latin1_before, NULL, NULL);
    json_t *r = NULL;
    assert_int_equal(call(m, &r, "DescribeRegistry", "{}"), 400);
    assert_string_equal(err_type(r), "Caf\xef\xbf\xbd" "Exception");
    assert_string_equal(err_message(r), "na\xef\xbf\xbdve \xef\xbf\xbd");
    json_decref(r);
    char *out = NULL;
    size_t out_len = 0;
    assert_int_equal(ecrmock_call_raw(m, ECRMOCK_TARGET_PREFIX "DescribeRegistry", "{}", 2, &out, &out_len), 400);
    assert_non_null(strstr(out, "\"__type\":\"Caf\xef\xbf\xbd" "Exception\""));
    free(out);
    ecrmock_hooks_set(m, NULL, NULL, NULL);
}

/* Attack: a before-hook that injects a status no error has (200, -1, 99,
 * 600, INT_MAX, INT_MIN) or an empty error name.  It used to come back as
 * -1 with no response (200, an empty name: the error's "status" 200 took
 * the success path with no output), -1 with a response the caller never
 * releases (-1), or the bad status itself, on to the HTTP status line. */
static int bad_status;
static const char *bad_error;

static void bad_status_before(void *user, const char *action, json_t *request, ecrmock_injection *inject)
{
    (void)user;
    (void)action;
    (void)request;
    inject->error = bad_error;
    inject->status = bad_status;
}

static void test_hook_injects_impossible_status(void **state)
{
    ecrmock *m = *state;
    ecrmock_hooks_set(m, bad_status_before, NULL, NULL);
    const int statuses[] = {200, -1, 99, 399, 600, INT_MAX, INT_MIN};
    bad_error = "ThrottlingException";
    for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++) {
        bad_status = statuses[i];
        char want[256];
        snprintf(want, sizeof want,
                 "ecrmock: a before-hook injected ThrottlingException with status %d; an injected error's status is "
                 "400 to 599, or 0 for that error's own",
                 bad_status);
        json_t *r = NULL;
        assert_int_equal(call(m, &r, "DescribeRegistry", "{}"), 500);
        assert_string_equal(err_type(r), "ServerException");
        assert_string_equal(err_message(r), want);
        json_decref(r);
        char *out = NULL;
        size_t out_len = 0;
        assert_int_equal(ecrmock_call_raw(m, ECRMOCK_TARGET_PREFIX "DescribeRegistry", "{}", 2, &out, &out_len), 500);
        assert_non_null(strstr(out, want));
        ecrmock_buffer_free(out);
    }
    bad_status = 0;
    bad_error = "";
    json_t *r = NULL;
    assert_int_equal(call(m, &r, "DescribeRegistry", "{}"), 500);
    assert_string_equal(err_type(r), "ServerException");
    assert_string_equal(err_message(r), "ecrmock: a before-hook injected an error with an empty name; set "
                                        "ecrmock_injection.error to an AWS error name, like \"ThrottlingException\"");
    json_decref(r);
    /* The edges that are errors still pass as they are. */
    bad_error = "ThrottlingException";
    bad_status = 599;
    assert_int_equal(call(m, &r, "DescribeRegistry", "{}"), 599);
    assert_string_equal(err_type(r), "ThrottlingException");
    json_decref(r);
    bad_status = 400;
    assert_int_equal(call(m, &r, "DescribeRegistry", "{}"), 400);
    json_decref(r);
    assert_int_equal(ecrmock_run_count(m, "DescribeRegistry"), 0);
    ecrmock_hooks_set(m, NULL, NULL, NULL);
}

/* ---- a call owns what its rule decided (issue 13, item 2) ------------------------ */

static void clear_rules_after(void *user, const char *action, json_t *request, int status, json_t *response)
{
    (void)action;
    (void)request;
    (void)status;
    (void)response;
    ecrmock_fault_clear(user);
}

/* An after-hook that removes every rule before the wire level has damaged
 * the body: the call still sends what its malform or truncate rule said. */
static void test_fault_rule_cleared_by_after_hook(void **state)
{
    ecrmock *m = *state;
    ecrmock_hooks_set(m, NULL, clear_rules_after, m);
    long id = add_fault(m, "{\"action\": \"DescribeRepositories\", \"effect\": \"malform\", \"body\": \"<not json/>\"}");
    char *out = NULL;
    size_t len = 0;
    assert_int_equal(ecrmock_call_raw(m, "DescribeRepositories", "{}", 2, &out, &len), 200);
    assert_string_equal(out, "<not json/>");
    assert_int_equal(len, 11);
    free(out);
    assert_int_equal(ecrmock_fault_remove(m, id, NULL), -1); /* the hook did remove it */

    add_fault(m, "{\"action\": \"DescribeRepositories\", \"effect\": \"truncate\", \"truncateAt\": 5}");
    assert_int_equal(ecrmock_call_raw(m, "DescribeRepositories", "{}", 2, &out, &len), 200);
    assert_int_equal(len, 5);
    assert_string_equal(out, "{\"rep");
    free(out);
    /* No rule is left: the next call is whole. */
    assert_int_equal(ecrmock_call_raw(m, "DescribeRepositories", "{}", 2, &out, &len), 200);
    assert_string_equal(out, "{\"repositories\":[]}");
    free(out);
    ecrmock_hooks_set(m, NULL, NULL, NULL);
}

typedef struct remover {
    ecrmock *m;
    long id;
} remover;

static void remove_rule_before(void *user, const char *action, json_t *request, ecrmock_injection *inject)
{
    remover *r = user;
    (void)action;
    (void)request;
    (void)inject;
    ecrmock_fault_remove(r->m, r->id, NULL);
}

/* A before-hook that removes the apply-then-error rule deciding its call:
 * the action runs and the caller gets that rule's error, message and status. */
static void test_fault_rule_removed_by_before_hook(void **state)
{
    ecrmock *m = *state;
    remover rm = {.m = m};
    ecrmock_hooks_set(m, remove_rule_before, NULL, &rm);
    rm.id = add_fault(m, "{\"action\": \"CreateRepository\", \"effect\": \"apply-then-error\", "
                        "\"error\": \"ServiceUnavailableException\", \"message\": \"the answer was lost\"}");
    json_t *r = NULL;
    assert_int_equal(call(m, &r, "CreateRepository", "{\"repositoryName\": \"web\"}"), 503);
    assert_string_equal(err_type(r), "ServiceUnavailableException");
    assert_string_equal(err_message(r), "the answer was lost");
    json_decref(r);
    assert_int_equal(ecrmock_fault_remove(m, rm.id, NULL), -1);
    ecrmock_hooks_set(m, NULL, NULL, NULL);
    assert_int_equal(describe_count(m), 1); /* it was applied */
    json_t *e = ecrmock_journal_entry(m, 0, NULL);
    assert_int_equal(json_integer_value(json_object_get(e, "status")), 503);
    json_decref(e);
}

static void load_fixture_before(void *user, const char *action, json_t *request, ecrmock_injection *inject)
{
    (void)action;
    (void)request;
    (void)inject;
    ecrmock_err err;
    assert_int_equal(ecrmock_fixture_load_string(user, "{}", "empty.json", &err), 0);
}

static void reset_after(void *user, const char *action, json_t *request, int status, json_t *response)
{
    (void)action;
    (void)request;
    (void)status;
    (void)response;
    ecrmock_reset(user);
}

/* A hook that replaces the rules wholesale (a fixture load: its rules are
 * freed with the scratch instance, outside the lock) or empties the
 * instance (ecrmock_reset) mid-call: the call still ends as its rule said. */
static void test_fault_rules_replaced_by_hook(void **state)
{
    ecrmock *m = *state;
    ecrmock_hooks_set(m, load_fixture_before, NULL, m);
    long id = add_fault(m, "{\"action\": \"CreateRepository\", \"effect\": \"apply-then-error\", "
                          "\"error\": \"ServerException\", \"message\": \"swapped out\"}");
    json_t *r = NULL;
    assert_int_equal(call(m, &r, "CreateRepository", "{\"repositoryName\": \"web\"}"), 500);
    assert_string_equal(err_message(r), "swapped out");
    json_decref(r);
    assert_int_equal(ecrmock_fault_remove(m, id, NULL), -1); /* the load replaced it */
    ecrmock_hooks_set(m, NULL, reset_after, m);
    add_fault(m, "{\"action\": \"DescribeRegistry\", \"effect\": \"malform\", \"body\": \"<reset/>\", \"status\": 502}");
    char *out = NULL;
    size_t len = 0;
    assert_int_equal(ecrmock_call_raw(m, "DescribeRegistry", NULL, 0, &out, &len), 502);
    assert_string_equal(out, "<reset/>");
    free(out);
    ecrmock_hooks_set(m, NULL, NULL, NULL);
    assert_int_equal(ecrmock_call_raw(m, "DescribeRegistry", NULL, 0, &out, &len), 200);
    free(out);
}

/* ---- concurrency ------------------------------------------------------------------- */

typedef struct worker {
    ecrmock *m;
    int index;
    int throttled, ok;
} worker;

static void *worker_main(void *arg)
{
    worker *w = arg;
    for (int i = 0; i < 200; i++) {
        char name[32];
        snprintf(name, sizeof name, "t%d-r%d", w->index, i);
        json_t *req = json_pack("{s:s}", "repositoryName", name), *r = NULL;
        int st = ecrmock_call(w->m, "CreateRepository", req, &r);
        json_decref(req);
        json_decref(r);
        if (st == 200)
            w->ok++;
        else
            w->throttled++;
    }
    return NULL;
}

static void test_fault_and_journal_under_threads(void **state)
{
    ecrmock *m = *state;
    add_fault(m, "{\"action\": \"CreateRepository\", \"nth\": 100, \"count\": 50}");
    pthread_t t[4];
    worker w[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (worker){.m = m, .index = i};
        pthread_create(&t[i], NULL, worker_main, &w[i]);
    }
    int ok = 0, throttled = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        ok += w[i].ok;
        throttled += w[i].throttled;
    }
    assert_int_equal(throttled, 50);
    assert_int_equal(ok, 750);
    assert_ecrmock_call_count(m, "CreateRepository", 800);
    assert_int_equal(ecrmock_journal_length(m), 800);
    json_t *r = NULL;
    assert_ok(call(m, &r, "DescribeRepositories", "{\"maxResults\": 1000}"), r);
    assert_int_equal(json_array_size(json_object_get(r, "repositories")), 750);
    json_decref(r);
    /* The journal's seqs are 1..800 in order. */
    for (long i = 0; i < 800; i++) {
        json_t *e = ecrmock_journal_entry(m, i, NULL);
        assert_int_equal(json_integer_value(json_object_get(e, "seq")), i + 1);
        json_decref(e);
    }
}

/* One thread calls the wire level through malform rules while another adds
 * and removes them: each damaged answer is whole, one rule's body (under
 * ThreadSanitizer and AddressSanitizer: no access to a freed rule).  The
 * caller calls until the changer is done, and once more after: how the two
 * interleave is the scheduler's, but that last call meets the rule left at
 * the end (a caller that ran only while a clear left no rule, on a loaded
 * machine, once saw no damaged answer at all). */
typedef struct churn {
    ecrmock *m;
    long first; /* the rule there before the threads start */
    int rounds;
    atomic_bool changed; /* the changer's rounds are done */
    int calls, damaged, whole, wrong;
} churn;

/* Adds a rule, then removes the one before it (every tenth time: clears
 * them all), so that a rule is there most of the time and the one a call
 * meets is soon removed; one rule is left at the end. */
static void *churn_rules(void *arg)
{
    churn *c = arg;
    long previous = c->first;
    for (int i = 0; i < c->rounds; i++) {
        char rule[128];
        snprintf(rule, sizeof rule, "{\"action\": \"ListImages\", \"effect\": \"malform\", \"body\": \"<page n=%d/>\"}", i);
        if (i % 10 == 5)
            ecrmock_fault_clear(c->m);
        long id = add_fault(c->m, rule);
        if (previous)
            ecrmock_fault_remove(c->m, previous, NULL);
        previous = id;
    }
    atomic_store(&c->changed, true);
    return NULL;
}

static void *call_through_rules(void *arg)
{
    churn *c = arg;
    const char *body = "{\"repositoryName\": \"web\"}";
    for (bool last = false; !last; c->calls++) {
        last = atomic_load(&c->changed) && c->calls >= c->rounds;
        char *out = NULL;
        size_t len = 0;
        int st = ecrmock_call_raw(c->m, "ListImages", body, strlen(body), &out, &len);
        int n = -1, used = 0;
        if (st == 200 && out && strcmp(out, "{\"imageIds\":[]}") == 0)
            c->whole++;
        else if (st == 200 && out && sscanf(out, "<page n=%d/>%n", &n, &used) == 1 && n >= 0 &&
                 (size_t)used == len && len == strlen(out))
            c->damaged++;
        else
            c->wrong++;
        free(out);
    }
    return NULL;
}

static void test_fault_rules_churn_while_calls_run(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "web");
    churn c = {.m = m, .rounds = 3000};
    c.first = add_fault(m, "{\"action\": \"ListImages\", \"effect\": \"malform\", \"body\": \"<page n=0/>\"}");
    pthread_t caller, changer;
    pthread_create(&caller, NULL, call_through_rules, &c);
    pthread_create(&changer, NULL, churn_rules, &c);
    pthread_join(caller, NULL);
    pthread_join(changer, NULL);
    assert_int_equal(c.wrong, 0);
    assert_true(c.calls > 3000);
    assert_int_equal(c.whole + c.damaged, c.calls);
    assert_true(c.damaged > 0);
    /* The rule the changer left (its last) damaged the caller's last call. */
    json_t *rules = ecrmock_faults_json(m, NULL);
    assert_int_equal(json_array_size(rules), 1);
    assert_true(json_integer_value(json_object_get(json_array_get(rules, 0), "fired")) >= 1);
    json_decref(rules);
}

typedef struct adder {
    ecrmock *m;
    int rounds, wrong;
} adder;

/* Adds rules: each id is one more than the one before (no other thread
 * adds), whatever another thread clears meanwhile. */
static void *add_rules(void *arg)
{
    adder *a = arg;
    long previous = 0;
    for (int i = 0; i < a->rounds; i++) {
        json_t *rule = json_pack("{s:s, s:s}", "action", "ListImages", "effect", "error");
        long id = ecrmock_fault_add_json(a->m, rule, NULL);
        json_decref(rule);
        if (id != previous + 1)
            a->wrong++;
        previous = id;
    }
    return NULL;
}

static void *clear_rules(void *arg)
{
    adder *a = arg;
    for (int i = 0; i < a->rounds; i++)
        ecrmock_fault_clear(a->m);
    return NULL;
}

/* A rule added while another thread clears the rules: its id was read
 * after the lock was let go, from a rule the clear had freed (TSan and
 * ASan: a read of freed memory in add_rule). */
static void test_fault_add_while_another_thread_clears(void **state)
{
    ecrmock *m = *state;
    adder a = {.m = m, .rounds = 3000};
    pthread_t t[2];
    pthread_create(&t[0], NULL, add_rules, &a);
    pthread_create(&t[1], NULL, clear_rules, &a);
    pthread_join(t[0], NULL);
    pthread_join(t[1], NULL);
    assert_int_equal(a.wrong, 0);
}

/* Attack: a rule's request match a caller built 1,000,000 levels deep (the
 * JSON parser stops at 2048; json_array_append() does not) overflowed the
 * stack copying it.  Past 2048 levels it is refused, by ecrmock_fault_add
 * and ecrmock_fault_add_json; at 2048 it matches as any request. */
static void test_fault_request_match_too_deep(void **state)
{
    ecrmock *m = *state;
    json_t *deep = nested("deep", 1000000);
    json_t *rule = json_pack("{s:s, s:s, s:O}", "action", "CreateRepository", "effect", "error", "request", deep);
    assert_int_equal(ERR_CODE(ecrmock_fault_add_json(m, rule, &test_err)), ECRMOCK_ERR_INVALID_PARAMETER);
    assert_string_equal(test_err.text, "fault rule: request is nested more than 2048 levels deep, which no request can be");
    json_decref(rule);
    ecrmock_fault f = ECRMOCK_FAULT_INIT;
    f.action = "CreateRepository";
    f.effect = ECRMOCK_FAULT_ERROR;
    f.request_match = deep;
    assert_int_equal(ERR_CODE(ecrmock_fault_add(m, &f, &test_err)), ECRMOCK_ERR_INVALID_PARAMETER);
    assert_string_equal(test_err.text,
                        "fault rule: request_match is nested more than 2048 levels deep, which no request can be");
    release_nested(deep);
    json_t *list = ecrmock_faults_json(m, NULL);
    assert_int_equal(json_array_size(list), 0);
    json_decref(list);
    /* 2049 levels refused; 2048, the deepest request, matches */
    deep = nested("deep", 2049);
    f.request_match = deep;
    assert_int_equal(ERR_CODE(ecrmock_fault_add(m, &f, &test_err)), ECRMOCK_ERR_INVALID_PARAMETER);
    release_nested(deep);
    deep = nested("deep", 2048);
    f.request_match = deep;
    assert_true(ecrmock_fault_add(m, &f, NULL) > 0);
    json_t *r = NULL;
    assert_int_equal(ecrmock_call(m, "CreateRepository", deep, &r), 400);
    assert_string_equal(err_type(r), "ThrottlingException");
    json_decref(r);
    ecrmock_fault_clear(m);
    release_nested(deep);
    assert_int_equal(repo_count(m, NULL), 0);
}

/* A refused rule whose sentence quotes the caller's words "out of memory"
 * (an unknown member of that name) is still InvalidParameter, not the
 * ServerException of memory running out (the code came from the text). */
static void test_fault_refusal_quoting_out_of_memory(void **state)
{
    ecrmock *m = *state;
    json_t *rule = json_pack("{s:i}", "out of memory", 1);
    assert_int_equal(ERR_CODE(ecrmock_fault_add_json(m, rule, &test_err)), ECRMOCK_ERR_INVALID_PARAMETER);
    assert_string_equal(test_err.text, "fault rule: unknown member 'out of memory'");
    json_decref(rule);
}

/* Fault rules by the ecrmock_err convention: a refused rule is
 * InvalidParameter with its sentence, an unknown id to remove names itself,
 * NULL err is accepted, success (an id) clears an old failure. */
static void test_fault_controls_err(void **state)
{
    ecrmock *m = *state;
    ecrmock_fault f = ECRMOCK_FAULT_INIT;
    f.probability = 2;
    assert_int_equal(ERR_CODE(ecrmock_fault_add(m, &f, &test_err)), ECRMOCK_ERR_INVALID_PARAMETER);
    assert_string_equal(test_err.path, "");
    assert_string_equal(test_err.text, "fault rule: probability must be between 0 and 1");
    assert_int_equal(ecrmock_fault_add(m, &f, NULL), -1);
    assert_int_equal(ecrmock_fault_add(NULL, NULL, NULL), -1);
    f.probability = 0;
    f.action = "DescribeRegistry";
    long id = ecrmock_fault_add(m, &f, dirty_err());
    assert_true(id > 0);
    assert_int_equal(ERR_CODE(id), ECRMOCK_ERR_OK);
    json_t *rule = json_pack("{s:s}", "nope", "x");
    assert_int_equal(ERR_CODE(ecrmock_fault_add_json(m, rule, &test_err)), ECRMOCK_ERR_INVALID_PARAMETER);
    assert_string_equal(test_err.text, "fault rule: unknown member 'nope'");
    assert_int_equal(ecrmock_fault_add_json(m, rule, NULL), -1);
    json_decref(rule);
    rule = json_pack("{s:s}", "action", "DescribeRegistry");
    long id2 = ecrmock_fault_add_json(m, rule, dirty_err());
    assert_true(id2 > id);
    assert_int_equal(ERR_CODE(id2), ECRMOCK_ERR_OK);
    json_decref(rule);
    assert_int_equal(ERR_CODE(ecrmock_fault_remove(m, id2 + 1, &test_err)), ECRMOCK_ERR_INVALID_PARAMETER);
    char want[64];
    snprintf(want, sizeof want, "no fault rule has the id %ld", id2 + 1);
    assert_string_equal(test_err.text, want);
    assert_int_equal(ecrmock_fault_remove(m, id2 + 1, NULL), -1);
    assert_int_equal(ERR_CODE(ecrmock_fault_remove(m, id2, dirty_err())), ECRMOCK_ERR_OK);
    assert_int_equal(ERR_CODE(ecrmock_fault_remove(m, id, dirty_err())), ECRMOCK_ERR_OK);
    assert_int_equal(ERR_CODE(ecrmock_fault_remove(NULL, id, &test_err)), ECRMOCK_ERR_INVALID_PARAMETER);
    assert_string_equal(test_err.text, "no instance (m is NULL)");
}

/* A rule built against version 1 ends before headers_match: what follows is
 * not read (here garbage), and an unknown version is refused with a message. */
static void test_fault_version_1_struct_reads_no_further(void **state)
{
    ecrmock *m = *state;
    union {
        ecrmock_fault r;
        unsigned char bytes[sizeof(ecrmock_fault)];
    } u;
    memset(&u, 0xA5, sizeof u);
    ecrmock_fault v1 = ECRMOCK_FAULT_INIT;
    v1.version = 1;
    v1.action = "ListImages";
    memcpy(&u, &v1, offsetof(ecrmock_fault, headers_match));
    ecrmock_err err;
    long id = ecrmock_fault_add(m, &u.r, &err);
    if (id <= 0)
        fail_msg("refused: %s", err.text);
    json_t *req = json_pack("{s:s}", "repositoryName", "web"), *r = NULL;
    assert_int_equal(ecrmock_call(m, "ListImages", req, &r), 400);
    assert_string_equal(json_string_value(json_object_get(r, "__type")), "ThrottlingException");
    json_decref(r);
    json_decref(req);
    v1.version = ECRMOCK_FAULT_VERSION + 1;
    assert_int_equal(ecrmock_fault_add(m, &v1, &err), -1);
    assert_string_equal(err.text, "fault rule: version is not one this library knows: initialise it with ECRMOCK_FAULT_INIT");
}

/* The transport effects are the three named, not every value from
 * CONNECT_REFUSED on: an effect appended later is none unless listed. */
static void test_fault_transport_effects_by_name(void **state)
{
    (void)state;
    for (int e = ECRMOCK_FAULT_ERROR; e <= ECRMOCK_FAULT_RECV_ERROR + 3; e++) {
        bool want = e == ECRMOCK_FAULT_CONNECT_REFUSED || e == ECRMOCK_FAULT_TIMEOUT || e == ECRMOCK_FAULT_RECV_ERROR;
        assert_int_equal(EM_FAULT_IS_TRANSPORT((ecrmock_fault_effect)e), want);
    }
}

/* ecrmock_faults_json() lists every rule with its counts, and each "rule"
 * adds again as the same rule. */
static void test_faults_json_lists_and_round_trips(void **state)
{
    ecrmock *m = *state;
    long a = add_fault(m, "{\"action\":\"CreateRepository\",\"count\":1}");
    long b = add_fault(m, "{\"repository\":\"web\",\"request\":{\"x\":1},\"headers\":{\"User-Agent\":\"x\"},"
                          "\"nth\":2,\"probability\":0.5,\"effect\":\"truncate\",\"truncateAt\":0,\"status\":502}");
    ecrmock_fault c = ECRMOCK_FAULT_INIT;
    c.effect = ECRMOCK_FAULT_MALFORM;
    c.body = "caf\xe9"; /* not UTF-8 */
    c.repository = "r\xff";
    long cid = ecrmock_fault_add(m, &c, NULL);
    assert_true(a > 0 && b > 0 && cid > 0);
    json_t *r = NULL;
    assert_int_equal(call(m, &r, "CreateRepository", "{\"repositoryName\":\"one\"}"), 400); /* fires a */
    json_decref(r);
    call_ok(m, "CreateRepository", "{\"repositoryName\":\"one\"}"); /* a spent */
    ecrmock_err err;
    json_t *list = ecrmock_faults_json(m, &err);
    assert_non_null(list);
    char *text = json_dumps(list, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(
        text, "[{\"fired\":1,\"id\":1,\"rule\":{\"action\":\"CreateRepository\",\"count\":1,\"effect\":\"error\","
              "\"error\":\"ThrottlingException\",\"nth\":1},\"seen\":2},"
              "{\"fired\":0,\"id\":2,\"rule\":{\"action\":\"*\",\"effect\":\"truncate\",\"headers\":{\"user-agent\":"
              "\"x\"},\"nth\":2,\"probability\":0.5,\"repository\":\"web\",\"request\":{\"x\":1},\"status\":502,"
              "\"truncateAt\":0},\"seen\":0},"
              "{\"fired\":0,\"id\":3,\"rule\":{\"action\":\"*\",\"body\":\"caf\xef\xbf\xbd\",\"effect\":\"malform\","
              "\"nth\":1,\"repository\":\"r\xef\xbf\xbd\"},\"seen\":0}]");
    free(text);
    /* each rule adds again, the same */
    ecrmock_fault_clear(m);
    for (size_t i = 0; i < json_array_size(list); i++)
        assert_true(ecrmock_fault_add_json(m, json_object_get(json_array_get(list, i), "rule"), &err) > 0);
    json_t *again = ecrmock_faults_json(m, NULL);
    for (size_t i = 0; i < json_array_size(list); i++)
        assert_true(json_equal(json_object_get(json_array_get(list, i), "rule"),
                               json_object_get(json_array_get(again, i), "rule")));
    json_decref(again);
    json_decref(list);
    ecrmock_fault_clear(m);
    list = ecrmock_faults_json(m, &err);
    assert_int_equal(json_array_size(list), 0);
    json_decref(list);
    assert_null(ecrmock_faults_json(NULL, &err));
    assert_int_equal(err.code, ECRMOCK_ERR_INVALID_PARAMETER);
}

/* A header rule on an action the tree-free form answers, over HTTP: the
 * form answers while no rule is set (the headers journaled as text); with
 * the rule the tree path runs and the rule reads the headers' tree (a name
 * sent twice in two cases, joined; more than 32 headers too); without it
 * again the form answers. */
static void test_fault_header_rule_on_fast_action(void **state)
{
    ecrmock *m = *state;
    assert_int_equal(http_post(m, NULL, "DescribeRepositories", "{}", "User-Agent", "bad", "user-agent", "worse", NULL),
                     200);
    assert_int_equal(m->fast_answered, 1);
    long id = add_fault(m, "{\"action\": \"DescribeRepositories\", \"headers\": {\"user-agent\": \"bad, worse\"}, "
                           "\"error\": \"ThrottlingException\", \"status\": 400}");
    ecrmock_http_response r;
    assert_int_equal(http_post(m, &r, "DescribeRepositories", "{}", "User-Agent", "bad", "user-agent", "worse", NULL),
                     400);
    assert_non_null(strstr(r.body, "\"__type\":\"ThrottlingException\""));
    ecrmock_http_response_release(&r);
    assert_int_equal(http_post(m, NULL, "DescribeRepositories", "{}", "User-Agent", "bad", NULL), 200);
    assert_int_equal(http_post(m, NULL, "DescribeRepositories", "{}", "USER-AGENT", "worse", "User-Agent", "bad", NULL),
                     200); /* "worse, bad" */
    /* 33 headers: the rule still reads them */
    ecrmock_http_header h[33] = {
        {"Content-Type", "application/x-amz-json-1.1"},
        {"X-Amz-Target", "AmazonEC2ContainerRegistry_V20150921.DescribeRepositories"},
        {"User-Agent", "bad"},
    };
    for (size_t i = 3; i < 32; i++)
        h[i] = (ecrmock_http_header){"X-Many", "v"};
    h[32] = (ecrmock_http_header){"user-AGENT", "worse"};
    assert_int_equal(http_send(m, &r, "POST", "/", h, 33, "{}"), 400);
    ecrmock_http_response_release(&r);
    assert_int_equal(ecrmock_fault_fired(m, id), 2);
    assert_int_equal(m->fast_answered, 1);
    json_t *e = ecrmock_journal_entry(m, 1, NULL);
    assert_int_equal(json_integer_value(json_object_get(e, "fault")), id);
    assert_string_equal(json_string_value(json_object_get(e, "effect")), "error");
    assert_string_equal(json_string_value(json_object_get(json_object_get(e, "headers"), "user-agent")), "bad, worse");
    json_decref(e);
    e = ecrmock_journal_entry(m, -1, NULL);
    assert_string_equal(json_string_value(json_object_get(json_object_get(e, "headers"), "x-many")),
                        "v, v, v, v, v, v, v, v, v, v, v, v, v, v, v, v, v, v, v, v, v, v, v, v, v, v, v, v, v");
    assert_int_equal(json_integer_value(json_object_get(e, "fault")), id);
    json_decref(e);
    assert_int_equal(ecrmock_fault_remove(m, id, NULL), 0);
    assert_int_equal(http_post(m, NULL, "DescribeRepositories", "{}", "User-Agent", "bad", "user-agent", "worse", NULL),
                     200);
    assert_int_equal(m->fast_answered, 2);
    e = ecrmock_journal_entry(m, -1, NULL);
    assert_string_equal(json_string_value(json_object_get(json_object_get(e, "headers"), "user-agent")), "bad, worse");
    assert_null(json_object_get(e, "fault"));
    json_decref(e);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup_mock, teardown_mock)
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fault_transport_effects_by_name),
        T(test_fault_version_1_struct_reads_no_further),
        T(test_fault_nth_call_throttled),
        T(test_fault_forever_from_nth),
        T(test_fault_repository_and_request_match),
        T(test_fault_apply_then_error_really_applied),
        T(test_fault_apply_then_error_on_failing_call),
        T(test_fault_latency_expires_upload),
        T(test_fault_latency_combines_with_error),
        T(test_fault_truncate_and_malform),
        T(test_fault_malform_default_body),
        T(test_fault_probability_is_deterministic),
        T(test_fault_same_seed_same_journal),
        T(test_fault_rules_do_not_shift_ids),
        T(test_fault_isolated_between_instances),
        T(test_fault_remove_and_clear),
        T(test_fault_before_validation),
        T(test_fault_refused_rules),
        T(test_fault_transport_effects),
        T(test_fault_c_struct),
        T(test_fault_malform_and_truncate_status),
        T(test_fault_members_without_effect_refused),
        T(test_fault_strings_checked),
        T(test_fault_integer_edges),
        T(test_fault_latency_at_clock_end),
        T(test_fault_fixture_rule_names_member),
        T(test_hooks_see_and_inject),
        T(test_hook_injects_non_utf8),
        T(test_hook_injects_impossible_status),
        T(test_fault_and_journal_under_threads),
        T(test_fault_rule_cleared_by_after_hook),
        T(test_fault_rule_removed_by_before_hook),
        T(test_fault_rules_replaced_by_hook),
        T(test_fault_rules_churn_while_calls_run),
        T(test_fault_add_while_another_thread_clears),
        T(test_fault_request_match_too_deep),
        T(test_fault_controls_err),
        T(test_fault_refusal_quoting_out_of_memory),
        T(test_faults_json_lists_and_round_trips),
        T(test_fault_header_rule_on_fast_action),
    };
#undef T
    return cmocka_run_group_tests_name("faults", tests, NULL, NULL);
}
