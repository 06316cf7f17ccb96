/*
 * The call journal, the call counters and the cmocka assertions of
 * include/ecrmock_cmocka.h (their failure messages included).
 */
#include <stdbool.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"
#include "alloc_fail.h"

#include "ecrmock_cmocka.h"
#include "testing/testing.h" /* struct ecrmock: the byte ring's size */

static void test_journal_records_every_call(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "web");
    json_t *r = NULL;
    assert_error(call(m, &r, "CreateRepository", "{\"repositoryName\": \"web\"}"), r, 400,
                 "RepositoryAlreadyExistsException");
    char *out = NULL;
    size_t len = 0;
    assert_int_equal(ecrmock_call_raw(m, "DescribeRepositories", "{}", 2, &out, &len), 200);
    free(out);
    assert_int_equal(ecrmock_call_raw(m, "NoSuchAction", "{}", 2, &out, &len), 400);
    free(out);
    assert_int_equal(ecrmock_call_raw(m, "ListImages", "{oops", 5, &out, &len), 400);
    free(out);
    assert_int_equal(ecrmock_journal_length(m), 5);

    json_t *e = ecrmock_journal_entry(m, 0, NULL);
    assert_int_equal(json_integer_value(json_object_get(e, "seq")), 1);
    assert_string_equal(json_string_value(json_object_get(e, "action")), "CreateRepository");
    assert_string_equal(json_string_value(json_object_get(json_object_get(e, "request"), "repositoryName")), "web");
    assert_int_equal(json_integer_value(json_object_get(e, "status")), 200);
    assert_null(json_object_get(e, "error"));
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(json_object_get(e, "response"), "repository"), "repositoryName")),
        "web");
    assert_true(json_number_value(json_object_get(e, "time")) == ECRMOCK_DEFAULT_CLOCK_MS / 1000.0);
    json_decref(e);

    e = ecrmock_journal_entry(m, 1, NULL);
    assert_string_equal(json_string_value(json_object_get(e, "error")), "RepositoryAlreadyExistsException");
    assert_int_equal(json_integer_value(json_object_get(e, "status")), 400);
    json_decref(e);
    e = ecrmock_journal_entry(m, -2, NULL);
    assert_string_equal(json_string_value(json_object_get(e, "action")), "NoSuchAction");
    assert_string_equal(json_string_value(json_object_get(e, "error")), "UnknownOperationException");
    json_decref(e);
    e = ecrmock_journal_entry(m, -1, NULL);
    assert_string_equal(json_string_value(json_object_get(e, "action")), "ListImages");
    assert_string_equal(json_string_value(json_object_get(e, "error")), "SerializationException");
    json_decref(e);
    assert_null(ecrmock_journal_entry(m, 5, NULL));
    assert_null(ecrmock_journal_entry(m, -6, NULL));
    assert_ecrmock_last_error(m, "SerializationException");
}

/* The journal keeps copies: changing the request afterwards changes nothing. */
static void test_journal_keeps_copies(void **state)
{
    ecrmock *m = *state;
    json_t *req = json_pack("{s:s}", "repositoryName", "web"), *r = NULL;
    assert_ok(ecrmock_call(m, "CreateRepository", req, &r), r);
    json_object_set_new(req, "repositoryName", json_string("changed"));
    json_object_set_new(json_object_get(r, "repository"), "repositoryName", json_string("changed"));
    json_t *e = ecrmock_journal_entry(m, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(json_object_get(e, "request"), "repositoryName")), "web");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(json_object_get(e, "response"), "repository"), "repositoryName")),
        "web");
    json_decref(e);
    json_decref(req);
    json_decref(r);
}

/* An entry handed out is the caller's: changing it changes neither the
 * journal nor the next entry handed out. */
static void test_journal_entry_is_independent(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "web");
    json_t *e = ecrmock_journal_entry(m, 0, NULL), *all = ecrmock_journal_json(m, NULL);
    json_object_set_new(json_object_get(e, "request"), "repositoryName", json_string("mine"));
    json_object_set_new(json_object_get(e, "response"), "repository", json_null());
    json_object_set_new(json_object_get(json_array_get(all, 0), "request"), "extra", json_true());
    json_decref(e);
    json_decref(all);
    e = ecrmock_journal_entry(m, 0, NULL);
    json_t *req = json_object_get(e, "request");
    assert_string_equal(json_string_value(json_object_get(req, "repositoryName")), "web");
    assert_null(json_object_get(req, "extra"));
    assert_true(json_is_object(json_object_get(json_object_get(e, "response"), "repository")));
    json_decref(e);
}

/* An X-Amz-Target that is not UTF-8, which any client of the server can
 * send, leaves the journal readable: each byte of it that starts no UTF-8
 * sequence reads as U+FFFD. */
static void test_journal_readable_after_non_utf8_target(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "web");
    char *out = NULL;
    size_t len = 0;
    assert_int_equal(ecrmock_call_raw(m, "Describe\xffRepos\xc3", "{}", 2, &out, &len), 400);
    assert_string_equal(out, "{\"__type\":\"UnknownOperationException\"}");
    free(out);
    ecrmock_http_header h[] = {{"Content-Type", "application/x-amz-json-1.1"},
                               {"X-Amz-Target", "AmazonEC2ContainerRegistry_V20150921.List\xe2\x82Images"}};
    ecrmock_http_request req = ECRMOCK_HTTP_REQUEST_INIT;
    req.method = "POST";
    req.target = "/";
    req.headers = h;
    req.n_headers = 2;
    req.body = "{}";
    req.body_len = 2;
    ecrmock_http_response resp;
    assert_int_equal(ecrmock_http_handle(m, &req, &resp), 400);
    ecrmock_http_response_release(&resp);

    json_t *all = ecrmock_journal_json(m, NULL);
    assert_non_null(all);
    assert_int_equal(json_array_size(all), 3);
    assert_string_equal(json_string_value(json_object_get(json_array_get(all, 1), "action")),
                        "Describe\xef\xbf\xbdRepos\xef\xbf\xbd");
    assert_string_equal(json_string_value(json_object_get(json_array_get(all, 2), "action")),
                        "List\xef\xbf\xbd\xef\xbf\xbdImages");
    assert_string_equal(json_string_value(json_object_get(json_array_get(all, 2), "error")),
                        "UnknownOperationException");
    json_decref(all);
    json_t *e = ecrmock_journal_entry(m, -1, NULL);
    assert_non_null(e);
    json_decref(e);
    json_t *sc = ecrmock_scenario_record(m, NULL, NULL);
    assert_non_null(sc);
    assert_int_equal(json_array_size(json_object_get(sc, "steps")), 3);
    json_decref(sc);
    /* the counters: an unknown action is counted once, under no action */
    assert_ecrmock_call_count(m, NULL, 3);
}

static void test_journal_switch_and_counters(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "aa");
    ecrmock_journal_enable(m, 0);
    create_repo(m, "bb");
    call_ok(m, "ListImages", "{\"repositoryName\": \"aa\"}");
    assert_int_equal(ecrmock_journal_length(m), 1);
    assert_ecrmock_call_count(m, "CreateRepository", 2); /* counters run with the journal off */
    assert_ecrmock_call_count(m, "ListImages", 1);
    assert_ecrmock_call_count(m, NULL, 3);
    assert_int_equal(ecrmock_call_count(m, "NoSuchAction"), 0);
    ecrmock_journal_enable(m, 1);
    create_repo(m, "cc");
    assert_int_equal(ecrmock_journal_length(m), 2);
    ecrmock_journal_clear(m);
    assert_int_equal(ecrmock_journal_length(m), 0);
    assert_ecrmock_call_count(m, "CreateRepository", 3);
    json_t *all = ecrmock_journal_json(m, NULL);
    assert_int_equal(json_array_size(all), 0);
    json_decref(all);
    ecrmock_reset(m);
    assert_ecrmock_call_count(m, NULL, 0);
}

static void test_journal_limit_drops_oldest(void **state)
{
    (void)state;
    ecrmock_options o = ECRMOCK_OPTIONS_INIT;
    o.journal_limit = 3;
    ecrmock *m = ecrmock_new(&o);
    for (int i = 0; i < 5; i++) {
        char name[16];
        snprintf(name, sizeof name, "repo%d", i);
        create_repo(m, name);
    }
    assert_int_equal(ecrmock_journal_length(m), 3);
    assert_int_equal(ecrmock_journal_dropped(m), 2);
    json_t *all = ecrmock_journal_json(m, NULL);
    assert_int_equal(json_array_size(all), 3);
    for (size_t i = 0; i < 3; i++) {
        json_t *e = json_array_get(all, i);
        assert_int_equal(json_integer_value(json_object_get(e, "seq")), (json_int_t)i + 3);
        char want[16];
        snprintf(want, sizeof want, "repo%zu", i + 2);
        assert_string_equal(json_string_value(json_object_get(json_object_get(e, "request"), "repositoryName")), want);
    }
    json_decref(all);
    ecrmock_free(m);
}

static void test_journal_marks_fault(void **state)
{
    ecrmock *m = *state;
    ecrmock_fault f = ECRMOCK_FAULT_INIT;
    f.action = "CreateRepository";
    long id = ecrmock_fault_add(m, &f, NULL);
    json_t *r = NULL;
    assert_error(call(m, &r, "CreateRepository", "{\"repositoryName\": \"web\"}"), r, 400, "ThrottlingException");
    json_t *e = ecrmock_journal_entry(m, -1, NULL);
    assert_int_equal(json_integer_value(json_object_get(e, "fault")), id);
    json_decref(e);
}

/* Entry `i`'s "ran" (1/0, or -1 when absent) and "effect" (NULL: none). */
static int entry_ran(ecrmock *m, long i, char *effect, size_t cap)
{
    json_t *e = ecrmock_journal_entry(m, i, NULL);
    assert_non_null(e);
    json_t *ran = json_object_get(e, "ran");
    const char *eff = json_string_value(json_object_get(e, "effect"));
    snprintf(effect, cap, "%s", eff ? eff : "");
    int r = json_is_boolean(ran) ? json_is_true(ran) : -1;
    json_decref(e);
    return r;
}

/* Each entry says whether the action ran and which effect fired; a refused
 * connection or a timeout is no call of the action (it never reached ECR),
 * an error rule's call is a call that did not run, and "exactly one ran" is
 * one assertion. */
static void test_journal_says_what_ran(void **state)
{
    ecrmock *m = *state;
    json_t *r = NULL;
    char eff[32];
    assert_true(add_fault(m, "{\"action\": \"CreateRepository\", \"effect\": \"connect-refused\", \"count\": 1}") > 0);
    assert_true(add_fault(m, "{\"action\": \"CreateRepository\", \"effect\": \"timeout\", \"count\": 1}") > 0);
    assert_true(add_fault(m, "{\"action\": \"CreateRepository\", \"count\": 1}") > 0); /* throttled */
    long lost = add_fault(m, "{\"action\": \"CreateRepository\", \"effect\": \"apply-then-error\", "
                            "\"error\": \"ServerException\", \"count\": 1}");
    /* the client's retry loop: refused, timed out, throttled, applied but lost */
    for (int i = 0; i < 4; i++) {
        int st = call(m, &r, "CreateRepository", "{\"repositoryName\": \"web\"}");
        assert_int_equal(st, i == 2 ? 400 : 500);
        json_decref(r);
    }
    assert_error(call(m, &r, "CreateRepository", "{\"repositoryName\": \"web\"}"), r, 400,
                 "RepositoryAlreadyExistsException");
    assert_int_equal(entry_ran(m, 0, eff, sizeof eff), 0);
    assert_string_equal(eff, "connect-refused");
    assert_int_equal(entry_ran(m, 1, eff, sizeof eff), 0);
    assert_string_equal(eff, "timeout");
    assert_int_equal(entry_ran(m, 2, eff, sizeof eff), 0);
    assert_string_equal(eff, "error");
    assert_int_equal(entry_ran(m, 3, eff, sizeof eff), 1);
    assert_string_equal(eff, "apply-then-error");
    json_t *e = ecrmock_journal_entry(m, 3, NULL);
    assert_int_equal(json_integer_value(json_object_get(e, "fault")), lost);
    json_decref(e);
    assert_int_equal(entry_ran(m, 4, eff, sizeof eff), 1); /* it ran, and refused: the repository exists */
    assert_string_equal(eff, "");
    /* five journaled, three reached ECR, two ran */
    assert_int_equal(ecrmock_journal_length(m), 5);
    assert_ecrmock_call_count(m, "CreateRepository", 3);
    assert_ecrmock_run_count(m, "CreateRepository", 2);

    /* refused before the action: validation, an unknown action, a before-hook */
    assert_error(call(m, &r, "ListImages", "{}"), r, 400, "InvalidParameterException");
    assert_int_equal(entry_ran(m, -1, eff, sizeof eff), 0);
    char *out = NULL;
    size_t len = 0;
    assert_int_equal(ecrmock_call_raw(m, "NoSuchAction", "{}", 2, &out, &len), 400);
    free(out);
    assert_int_equal(entry_ran(m, -1, eff, sizeof eff), 0);
    assert_int_equal(ecrmock_call_raw(m, "ListImages", "{oops", 5, &out, &len), 400);
    free(out);
    assert_int_equal(entry_ran(m, -1, eff, sizeof eff), 0);
    /* latency: the action runs late */
    assert_true(add_fault(m, "{\"action\": \"DescribeRepositories\", \"effect\": \"latency\", \"latencyMs\": 5}") > 0);
    call_ok(m, "DescribeRepositories", "{}");
    assert_int_equal(entry_ran(m, -1, eff, sizeof eff), 1);
    assert_string_equal(eff, "latency");
    assert_ecrmock_call_count(m, "ListImages", 2);
    assert_ecrmock_run_count(m, "ListImages", 0);
    assert_ecrmock_call_count(m, NULL, 7);
    assert_ecrmock_run_count(m, NULL, 3);
}

/* The status an entry holds is the one the caller got: a malform rule's
 * status at the wire level (where the body is damaged), the action's at the
 * JSON level (where it is not). */
static void test_journal_status_of_damaged_body(void **state)
{
    ecrmock *m = *state;
    assert_true(add_fault(m, "{\"action\": \"DescribeRegistry\", \"effect\": \"malform\", \"body\": \"<html/>\", "
                            "\"status\": 502}") > 0);
    char *out = NULL;
    size_t len = 0;
    assert_int_equal(ecrmock_call_raw(m, ECRMOCK_TARGET_PREFIX "DescribeRegistry", "{}", 2, &out, &len), 502);
    assert_memory_equal(out, "<html/>", len);
    free(out);
    json_t *e = ecrmock_journal_entry(m, -1, NULL);
    assert_int_equal(json_integer_value(json_object_get(e, "status")), 502);
    json_decref(e);
    call_ok(m, "DescribeRegistry", "{}");
    e = ecrmock_journal_entry(m, -1, NULL);
    assert_int_equal(json_integer_value(json_object_get(e, "status")), 200);
    json_decref(e);
}

/* A call that came over HTTP keeps its headers: lower-case names, repeated
 * ones joined, the signature elided, bytes that are not UTF-8 as U+FFFD;
 * a JSON-level call has none. */
static void test_journal_keeps_http_headers(void **state)
{
    ecrmock *m = *state;
    assert_int_equal(http_post(m, NULL, "CreateRepository", "{\"repositoryName\": \"web\"}", "User-Agent", "my-agent/1.0",
                               "X-Amz-Security-Token", "FwoGZXIvYXdzEXAMPLE", "Accept", "text/plain", "accept",
                               "*/*", "Authorization",
                               "AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/ecr/aws4_request, "
                               "SignedHeaders=host;x-amz-date, Signature=0123456789abcdef",
                               "X-Odd", "caf\xe9", NULL),
                     200);
    json_t *e = ecrmock_journal_entry(m, -1, NULL);
    json_t *h = json_object_get(e, "headers");
    assert_true(json_is_object(h));
    assert_string_equal(json_string_value(json_object_get(h, "content-type")), "application/x-amz-json-1.1");
    assert_string_equal(json_string_value(json_object_get(h, "x-amz-target")),
                        "AmazonEC2ContainerRegistry_V20150921.CreateRepository");
    assert_string_equal(json_string_value(json_object_get(h, "user-agent")), "my-agent/1.0");
    assert_string_equal(json_string_value(json_object_get(h, "x-amz-security-token")), "FwoGZXIvYXdzEXAMPLE");
    assert_string_equal(json_string_value(json_object_get(h, "accept")), "text/plain, */*");
    assert_string_equal(json_string_value(json_object_get(h, "authorization")),
                        "AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/ecr/aws4_request, "
                        "SignedHeaders=host;x-amz-date, Signature=<elided>");
    assert_string_equal(json_string_value(json_object_get(h, "x-odd")), "caf\xef\xbf\xbd");
    assert_int_equal(json_object_size(h), 7);
    json_decref(e);
    /* a body that is not JSON, and an unknown action: headers kept too */
    assert_int_equal(http_post(m, NULL, "ListImages", "{oops", "User-Agent", "a", NULL), 400);
    assert_int_equal(http_post(m, NULL, "NoSuchAction", "{}", "User-Agent", "b", NULL), 400);
    json_t *all = ecrmock_journal_json(m, NULL);
    assert_string_equal(json_string_value(json_object_get(json_object_get(json_array_get(all, 1), "headers"), "user-agent")),
                        "a");
    assert_string_equal(json_string_value(json_object_get(json_object_get(json_array_get(all, 2), "headers"), "user-agent")),
                        "b");
    json_decref(all);
    call_ok(m, "DescribeRepositories", "{}");
    e = ecrmock_journal_entry(m, -1, NULL);
    assert_null(json_object_get(e, "headers"));
    json_decref(e);
    /* the recording is a JSON-level scenario: the headers stay out of it */
    json_t *sc = ecrmock_scenario_record(m, NULL, NULL);
    assert_non_null(sc);
    char *text = json_dumps(sc, JSON_COMPACT);
    assert_null(strstr(text, "my-agent"));
    free(text);
    json_decref(sc);
}

/* Fault rules match on headers: a value, present (true), absent (false);
 * only calls that came over HTTP match. */
static void test_fault_rule_matches_header(void **state)
{
    ecrmock *m = *state;
    long no_token = add_fault(m, "{\"action\": \"CreateRepository\", \"headers\": {\"X-Amz-Security-Token\": false}, "
                                "\"error\": \"UnrecognizedClientException\", \"status\": 403}");
    long agent = add_fault(m, "{\"headers\": {\"user-agent\": \"old-agent/0.1\", \"accept\": true}, "
                             "\"error\": \"ServerException\"}");
    assert_int_equal(http_post(m, NULL, "CreateRepository", "{\"repositoryName\": \"aa\"}", NULL), 403);
    assert_int_equal(http_post(m, NULL, "CreateRepository", "{\"repositoryName\": \"aa\"}", "x-amz-security-token", "T", NULL),
                     200);
    assert_int_equal(ecrmock_fault_fired(m, no_token), 1);
    /* the JSON level has no headers: neither rule fires */
    call_ok(m, "CreateRepository", "{\"repositoryName\": \"bb\"}");
    assert_int_equal(ecrmock_fault_fired(m, no_token), 1);
    /* the value exactly (names in any case), and present */
    assert_int_equal(http_post(m, NULL, "DescribeRepositories", "{}", "User-Agent", "old-agent/0.1", NULL), 200);
    assert_int_equal(http_post(m, NULL, "DescribeRepositories", "{}", "User-Agent", "old-agent/0.2", "Accept", "*/*", NULL), 200);
    assert_int_equal(http_post(m, NULL, "DescribeRepositories", "{}", "USER-AGENT", "old-agent/0.1", "Accept", "*/*", NULL), 500);
    assert_int_equal(ecrmock_fault_fired(m, agent), 1);
    /* what a rule may say */
    static const struct {
        const char *rule, *why;
    } bad[] = {
        {"{\"headers\": [\"user-agent\"]}", "fault rule: member 'headers' has the wrong type"},
        {"{\"headers\": {\"user-agent\": 1}}",
         "fault rule: headers_match: 'user-agent' must be a string (the value), true (present) or false (absent)"},
        {"{\"headers\": {\"user agent\": true}}", "fault rule: headers_match: 'user agent' is not an HTTP header name"},
        {"{\"headers\": {\"\": true}}", "fault rule: headers_match: '' is not an HTTP header name"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *rule = json_loads(bad[i].rule, 0, NULL);
        ecrmock_err err;
        assert_int_equal(ecrmock_fault_add_json(m, rule, &err), -1);
        assert_string_equal(err.text, bad[i].why);
        json_decref(rule);
    }
    /* a version 1 rule has no headers_match: whatever that memory holds is not read */
    ecrmock_fault f = ECRMOCK_FAULT_INIT;
    f.version = 1;
    f.headers_match = (json_t *)(uintptr_t)1;
    assert_true(ecrmock_fault_add(m, &f, NULL) > 0);
}

/* Attack: a header value with an embedded NUL ("old-agent\u0000junk").  It
 * was compared as a C string, so the rule fired on "old-agent", where every
 * other string member of a rule refuses a NUL. */
static void test_fault_rule_header_value_with_nul(void **state)
{
    ecrmock *m = *state;
    const char *want = "fault rule: headers_match: 'user-agent' must not hold a NUL character (\\u0000)";
    json_t *rule = json_loads("{\"headers\": {\"user-agent\": \"old-agent\\u0000junk\"}}", JSON_ALLOW_NUL, NULL);
    assert_non_null(rule);
    assert_int_equal(ERR_CODE(ecrmock_fault_add_json(m, rule, &test_err)), ECRMOCK_ERR_INVALID_PARAMETER);
    assert_string_equal(test_err.text, want);
    json_decref(rule);
    ecrmock_fault f = ECRMOCK_FAULT_INIT;
    f.headers_match = json_pack("{s:s%}", "user-agent", "old-agent\0junk", (size_t)14);
    assert_int_equal(ERR_CODE(ecrmock_fault_add(m, &f, &test_err)), ECRMOCK_ERR_INVALID_PARAMETER);
    assert_string_equal(test_err.text, want);
    json_decref(f.headers_match);
    assert_int_equal(http_post(m, NULL, "DescribeRepositories", "{}", "User-Agent", "old-agent", NULL), 200);
}

/* Attack: "Signature=" inside another component of Authorization.  The
 * journal elided the first "Signature=" it met (here, part of the
 * Credential) and kept the real signature in full. */
static void test_journal_elides_the_signature_component(void **state)
{
    ecrmock *m = *state;
    assert_int_equal(http_post(m, NULL, "DescribeRegistry", "{}", "Authorization",
                               "AWS4-HMAC-SHA256 Credential=Signature=AKID/20240101/us-east-1/ecr/aws4_request, "
                               "SignedHeaders=host;x-amz-date,Signature=0123abcd",
                               NULL),
                     200);
    json_t *e = ecrmock_journal_entry(m, -1, NULL);
    assert_non_null(e);
    assert_string_equal(json_string_value(json_object_get(json_object_get(e, "headers"), "authorization")),
                        "AWS4-HMAC-SHA256 Credential=Signature=AKID/20240101/us-east-1/ecr/aws4_request, "
                        "SignedHeaders=host;x-amz-date,Signature=<elided>");
    json_decref(e);
}

static void test_cmocka_helpers_pass(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "web");
    char *digest = push_new_image(m, "web", 1, 1, "v1");
    assert_ecrmock_last_ok(m);
    assert_ecrmock_image_exists(m, "web", "v1");
    assert_ecrmock_image_exists(m, "web", digest);
    assert_ecrmock_tag(m, "web", "v1", digest);
    assert_ecrmock_image_absent(m, "web", "v2");
    assert_ecrmock_call_count(m, "PutImage", 1);
    free(digest);
}

/* ---- the failure messages: run a failing assertion in a child process ---- */

typedef void (*failing_fn)(ecrmock *m);

static ecrmock *child_mock;
static failing_fn child_fn;

static void child_test(void **state)
{
    (void)state;
    child_fn(child_mock);
}

/* Runs fn in a child's cmocka group; returns what the child printed. */
static char *failure_output(failing_fn fn)
{
    int fd[2];
    assert_int_equal(pipe(fd), 0);
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fd[1], 1);
        dup2(fd[1], 2);
        close(fd[0]);
        child_mock = ecrmock_new(NULL);
        create_repo(child_mock, "web");
        child_fn = fn;
        const struct CMUnitTest t[] = {cmocka_unit_test(child_test)};
        int failed = cmocka_run_group_tests_name("child", t, NULL, NULL);
        ecrmock_free(child_mock);
        _exit(failed ? 3 : 0);
    }
    close(fd[1]);
    static char buf[8192];
    size_t n = 0;
    ssize_t k;
    while (n < sizeof buf - 1 && (k = read(fd[0], buf + n, sizeof buf - 1 - n)) > 0)
        n += (size_t)k;
    buf[n] = '\0';
    close(fd[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 3); /* the assertion failed the child's test */
    return buf;
}

static void fail_count(ecrmock *m)
{
    assert_ecrmock_call_count(m, "UploadLayerPart", 3);
}

static void fail_run_count(ecrmock *m)
{
    assert_ecrmock_run_count(m, "CreateRepository", 2);
}

static void fail_last_error(ecrmock *m)
{
    assert_ecrmock_last_error(m, "ThrottlingException");
}

static void fail_image(ecrmock *m)
{
    assert_ecrmock_image_exists(m, "web", "v1");
}

static void test_cmocka_helpers_say_what_they_found(void **state)
{
    (void)state;
    const char *out = failure_output(fail_count);
    assert_non_null(strstr(out, "expected 3 call(s) of UploadLayerPart, found 0"));
    out = failure_output(fail_run_count);
    assert_non_null(strstr(out, "expected 2 run(s) of CreateRepository, found 1 (of 1 call(s))"));
    out = failure_output(fail_last_error);
    assert_non_null(strstr(out, "expected the last call to fail with ThrottlingException; it was CreateRepository, "
                                "answered 200"));
    out = failure_output(fail_image);
    assert_non_null(strstr(out, "no image 'v1' in repository 'web'; it holds: nothing"));
}

/* The Nth allocation of ecrmock's fails (-1: none); counted from 1. */
static long fail_at = -1, allocations;

static void *failing_malloc(size_t n)
{
    return ++allocations == fail_at ? NULL : malloc(n);
}

static void *failing_realloc(void *p, size_t n)
{
    return ++allocations == fail_at ? NULL : realloc(p, n);
}

/* A call whose journal record is lost to memory counts as dropped, whichever
 * allocation it was (the journal's first ring included): entries held and
 * dropped add up to the calls made. */
static void test_journal_record_lost_to_memory_is_counted(void **state)
{
    (void)state;
    bool lost = false;
    for (long n = 1;; n++) {
        ecrmock *m = ecrmock_new(NULL);
        assert_non_null(m);
        json_t *req = json_object(), *resp = NULL;
        allocations = 0;
        fail_at = n;
        ecrmock_set_alloc_funcs(failing_malloc, failing_realloc, NULL);
        int status = ecrmock_call(m, "DescribeRepositories", req, &resp);
        ecrmock_set_alloc_funcs(NULL, NULL, NULL);
        fail_at = -1;
        if (status == 200 && ecrmock_journal_length(m) == 0) {
            lost = true;
            assert_int_equal(ecrmock_journal_dropped(m), 1);
        }
        json_decref(req);
        json_decref(resp);
        ecrmock_free(m);
        if (allocations < n)
            break; /* the call made fewer allocations: every one has been failed */
    }
    assert_true(lost);
}

/* The same over HTTP, headers and all, for every allocation of the call and
 * of a second one, with a fault rule on a header and a hostile header: no
 * crash, no leak (make asan, make valgrind), and each call either answered
 * (journaled, or counted as dropped) or refused as out of memory. */
static void test_journal_http_headers_out_of_memory(void **state)
{
    (void)state;
    for (long n = 1;; n++) {
        ecrmock *m = ecrmock_new(NULL);
        assert_non_null(m);
        add_fault(m, "{\"action\": \"ListImages\", \"headers\": {\"user-agent\": \"x\"}}");
        allocations = 0;
        fail_at = n;
        ecrmock_set_alloc_funcs(failing_malloc, failing_realloc, NULL);
        int st1 = http_post(m, NULL, "DescribeRepositories", "{}", "User-Agent", "x", "Authorization",
                            "AWS4-HMAC-SHA256 Signature=ab, SignedHeaders=host", "X-Bad", "\xff\xfe", NULL);
        int st2 = http_post(m, NULL, "ListImages", "{\"repositoryName\": \"web\"}", "User-Agent", "x", NULL);
        ecrmock_set_alloc_funcs(NULL, NULL, NULL);
        fail_at = -1;
        assert_true(st1 == 200 || st1 == 500 || st1 == -1);
        assert_true(st2 == 400 || st2 == 500 || st2 == -1);
        assert_true(ecrmock_journal_length(m) + ecrmock_journal_dropped(m) <= ecrmock_call_count(m, NULL));
        if (st1 == 200) {
            assert_int_equal(ecrmock_call_count(m, "DescribeRepositories"), 1);
            json_t *e = ecrmock_journal_entry(m, 0, NULL);
            const char *action = json_string_value(json_object_get(e, "action"));
            if (action && strcmp(action, "DescribeRepositories") == 0) { /* not dropped */
                json_t *h = json_object_get(e, "headers");
                assert_string_equal(json_string_value(json_object_get(h, "authorization")),
                                    "AWS4-HMAC-SHA256 Signature=<elided>, SignedHeaders=host");
                assert_string_equal(json_string_value(json_object_get(h, "x-bad")), "\xef\xbf\xbd\xef\xbf\xbd");
            }
            json_decref(e);
        }
        ecrmock_free(m);
        if (allocations < n)
            break;
    }
}

/* 33 headers of DescribeRepositories: Content-Type, X-Amz-Target, c, d,
 * then X-Many 29 times. */
static void hdr_33(ecrmock_http_header h[33], ecrmock_http_header c, ecrmock_http_header d)
{
    h[0] = (ecrmock_http_header){"Content-Type", "application/x-amz-json-1.1"};
    h[1] = (ecrmock_http_header){"X-Amz-Target", "AmazonEC2ContainerRegistry_V20150921.DescribeRepositories"};
    h[2] = c;
    h[3] = d;
    for (size_t i = 4; i < 33; i++)
        h[i] = (ecrmock_http_header){"X-Many", "v"};
}

/* The headers' three ways under failing allocations: as text (4 headers,
 * the tree-free form), as a tree past 32 headers (the tree path, and a
 * body that is not JSON), each allocation failing in turn: no crash, no
 * leak (ASan, valgrind); each call answers, or fails as out of memory
 * (500, -1), and a journaled answer has its headers whole. */
static void test_journal_headers_out_of_memory_each_way(void **state)
{
    (void)state;
    ecrmock_http_header h[33];
    hdr_33(h, (ecrmock_http_header){"User-Agent", "x"}, (ecrmock_http_header){"X-Bad", "\xff\xfe"});
    static const struct {
        size_t n;
        const char *body;
        int status;
    } way[] = {{4, "{}", 200}, {33, "{}", 200}, {33, "{oops", 400}};
    for (size_t w = 0; w < sizeof way / sizeof way[0]; w++) {
        for (long n = 1;; n++) {
            ecrmock *m = ecrmock_new(NULL);
            assert_non_null(m);
            allocations = 0;
            fail_at = n;
            ecrmock_set_alloc_funcs(failing_malloc, failing_realloc, NULL);
            ecrmock_http_response r;
            int st = http_send(m, &r, "POST", "/", h, way[w].n, way[w].body);
            ecrmock_set_alloc_funcs(NULL, NULL, NULL);
            fail_at = -1;
            ecrmock_http_response_release(&r);
            assert_true(st == way[w].status || st == 500 || st == -1);
            assert_true(ecrmock_journal_length(m) + ecrmock_journal_dropped(m) <= ecrmock_call_count(m, NULL));
            if (st == way[w].status && ecrmock_journal_length(m) == 1) {
                json_t *e = ecrmock_journal_entry(m, 0, NULL), *hs = json_object_get(e, "headers");
                assert_int_equal(json_object_size(hs), way[w].n == 4 ? 4 : 5);
                assert_string_equal(json_string_value(json_object_get(hs, "x-bad")), "\xef\xbf\xbd\xef\xbf\xbd");
                json_decref(e);
            }
            ecrmock_free(m);
            if (allocations < n)
                break;
        }
    }
}

/* ---- issue 19: the journal keeps text, and a byte bound ------------------------------ */

/* a and b are the same tree: same types, reals bit for bit (-0.0 is not
 * 0.0), strings byte for byte, members in the same order. */
static bool same_tree(json_t *a, json_t *b)
{
    if (json_typeof(a) != json_typeof(b))
        return false;
    switch (json_typeof(a)) {
    case JSON_OBJECT: {
        void *i = json_object_iter(a), *j = json_object_iter(b);
        for (; i && j; i = json_object_iter_next(a, i), j = json_object_iter_next(b, j)) {
            if (json_object_iter_key_len(i) != json_object_iter_key_len(j) ||
                memcmp(json_object_iter_key(i), json_object_iter_key(j), json_object_iter_key_len(i)) != 0 ||
                !same_tree(json_object_iter_value(i), json_object_iter_value(j)))
                return false;
        }
        return !i && !j;
    }
    case JSON_ARRAY:
        if (json_array_size(a) != json_array_size(b))
            return false;
        for (size_t k = 0; k < json_array_size(a); k++)
            if (!same_tree(json_array_get(a, k), json_array_get(b, k)))
                return false;
        return true;
    case JSON_STRING:
        return json_string_length(a) == json_string_length(b) &&
               memcmp(json_string_value(a), json_string_value(b), json_string_length(a)) == 0;
    case JSON_INTEGER: return json_integer_value(a) == json_integer_value(b);
    case JSON_REAL: {
        double x = json_real_value(a), y = json_real_value(b);
        return memcmp(&x, &y, sizeof x) == 0;
    }
    default: return true;
    }
}

/* The request and response a reader gets are the trees the call had, for
 * what text struggles with too: reals at their edges, int64's ends, NUL and
 * control characters in strings, astral characters; and, kept as trees
 * because their text would not read back the same, a key with a NUL in it,
 * nesting deeper than 1024.  (A string that is not UTF-8 is no JSON body's:
 * refused, and journaled as a body that was not JSON.) */
static void test_journal_reads_back_the_calls_trees(void **state)
{
    ecrmock *m = *state;
    json_t *deep = json_string("bottom");
    for (int i = 0; i < 1100; i++)
        deep = json_pack("[o]", deep);
    json_t *odd = json_pack("{s:[f, f, f, f, f, f, f, f], s:[I, I, I], s:s#, s:s, s:{}, s:[[]], s:o}", "reals", 0.1, 1e300,
                            -0.0, 5e-324, 100.0, 1688712875.0, 1704067200.123, 1.7976931348623157e308, "ints",
                            (json_int_t)INT64_MIN, (json_int_t)INT64_MAX, (json_int_t)0, "nul", "a\0b\x01\x1f\"\\/", 8,
                            "astral", "\xf0\x9f\x90\xb3 caf\xc3\xa9", "empty", "nested", "deep", deep);
    assert_non_null(odd);
    json_t *bad_utf8 = json_pack("{s:o}", "repositoryName", json_stringn_nocheck("we\xff", 3));
    json_t *nul_key = json_object();
    json_object_setn_new(nul_key, "k\0ey", 4, json_true());
    json_t *cases[] = {odd, nul_key};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *r = NULL;
        ecrmock_call(m, "CreateRepository", cases[i], &r); /* refused: the journal keeps it anyway */
        json_t *e = ecrmock_journal_entry(m, -1, NULL);
        assert_non_null(e);
        if (!same_tree(json_object_get(e, "request"), cases[i]))
            fail_msg("case %zu: the journal's request is not the call's", i);
        assert_true(same_tree(json_object_get(e, "response"), r));
        json_decref(e);
        json_decref(r);
        json_decref(cases[i]);
    }
    json_t *r = NULL;
    assert_int_equal(ecrmock_call(m, "CreateRepository", bad_utf8, &r), 400);
    assert_string_equal(err_type(r), "SerializationException");
    json_decref(r);
    json_t *e = ecrmock_journal_entry(m, -1, NULL);
    assert_true(json_is_null(json_object_get(e, "request")));
    json_decref(e);
    json_decref(bad_utf8);
    /* responses with reals (timestamps) and nested lists, at both levels */
    char *digest = new_repo_with_image(m, "web", 2, "v1");
    assert_ok(call(m, &r, "DescribeImages", "{\"repositoryName\": \"web\"}"), r);
    e = ecrmock_journal_entry(m, -1, NULL);
    assert_true(same_tree(json_object_get(e, "response"), r));
    json_decref(e);
    json_decref(r);
    char *out = NULL;
    size_t len = 0;
    const char *body = "{\"repositoryName\":\"web\",\"imageIds\":[{\"imageTag\":\"v1\"}]}";
    assert_int_equal(ecrmock_call_raw(m, "BatchGetImage", body, strlen(body), &out, &len), 200);
    json_t *sent = json_loadb(out, len, 0, NULL);
    e = ecrmock_journal_entry(m, -1, NULL);
    assert_true(same_tree(json_object_get(e, "response"), sent));
    json_decref(sent);
    json_decref(e);
    free(out);
    free(digest);
}

/* At the wire level the journal keeps the body as sent: the request it
 * shows is the body's JSON, its null members dropped as the action saw it. */
static void test_journal_wire_request_as_the_action_saw_it(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "web");
    char *out = NULL;
    size_t len = 0;
    const char *body = " { \"repositoryName\" : \"web\", \"nextToken\": null, \"maxResults\": 5 } ";
    assert_int_equal(ecrmock_call_raw(m, "ListImages", body, strlen(body), &out, &len), 200);
    free(out);
    json_t *e = ecrmock_journal_entry(m, -1, NULL);
    json_t *want = json_pack("{s:s, s:i}", "repositoryName", "web", "maxResults", 5);
    assert_true(same_tree(json_object_get(e, "request"), want));
    json_decref(want);
    json_decref(e);
    /* no body: {} */
    assert_int_equal(ecrmock_call_raw(m, "DescribeRepositories", NULL, 0, &out, &len), 200);
    free(out);
    e = ecrmock_journal_entry(m, -1, NULL);
    assert_true(json_is_object(json_object_get(e, "request")));
    assert_int_equal(json_object_size(json_object_get(e, "request")), 0);
    json_decref(e);
}

/* A before-hook may change the request it is lent: the journal shows the
 * request as the action ran it, at the wire level too (not the body as
 * sent). */
static void change_request(void *user, const char *action, json_t *request, ecrmock_injection *inj)
{
    (void)user;
    (void)action;
    (void)inj;
    json_object_set_new(request, "maxResults", json_integer(7));
}

static void test_journal_wire_request_after_before_hook(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "web");
    ecrmock_hooks_set(m, change_request, NULL, NULL);
    char *out = NULL;
    size_t len = 0;
    const char *body = "{\"repositoryName\":\"web\"}";
    assert_int_equal(ecrmock_call_raw(m, "ListImages", body, strlen(body), &out, &len), 200);
    free(out);
    ecrmock_hooks_set(m, NULL, NULL, NULL);
    json_t *e = ecrmock_journal_entry(m, -1, NULL);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(e, "request"), "maxResults")), 7);
    json_decref(e);
}

/* An after-hook may change the response: the journal has it as answered
 * before the hook (as ever), the caller's bytes as after it. */
static void change_response(void *user, const char *action, json_t *request, int status, json_t *response)
{
    (void)user;
    (void)action;
    (void)request;
    (void)status;
    json_object_set_new(response, "extra", json_true());
}

static void test_journal_wire_response_and_after_hook(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "web");
    ecrmock_hooks_set(m, NULL, change_response, NULL);
    char *out = NULL;
    size_t len = 0;
    assert_int_equal(ecrmock_call_raw(m, "ListImages", "{\"repositoryName\":\"web\"}", 24, &out, &len), 200);
    ecrmock_hooks_set(m, NULL, NULL, NULL);
    assert_string_equal(out, "{\"imageIds\":[],\"extra\":true}");
    free(out);
    json_t *e = ecrmock_journal_entry(m, -1, NULL);
    assert_null(json_object_get(json_object_get(e, "response"), "extra"));
    json_decref(e);
}

/* journal_max_bytes: the oldest entries go first once the texts held would
 * pass it. */
static void test_journal_max_bytes_drops_oldest(void **state)
{
    (void)state;
    ecrmock *probe = ecrmock_new(NULL);
    create_repo(probe, "web");
    const char *body = "{\"repositoryNames\":[\"web\"]}";
    char *out = NULL;
    size_t len = 0, n = strlen(body);
    assert_int_equal(ecrmock_call_raw(probe, "DescribeRepositories", body, n, &out, &len), 200);
    free(out);
    ecrmock_free(probe);
    size_t one = n + len; /* an entry's bytes: its request's text and its response's */
    ecrmock_options o = ECRMOCK_OPTIONS_INIT;
    o.journal_max_bytes = 3 * one + one - 1; /* room for 3 */
    ecrmock *m = ecrmock_new(&o);
    create_repo(m, "web");
    ecrmock_journal_clear(m);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(ecrmock_call_raw(m, "DescribeRepositories", body, n, &out, &len), 200);
        assert_int_equal(len + n, one);
        free(out);
    }
    assert_int_equal(ecrmock_journal_length(m), 3);
    assert_int_equal(ecrmock_journal_dropped(m), 2);
    json_t *all = ecrmock_journal_json(m, NULL);
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(json_integer_value(json_object_get(json_array_get(all, i), "seq")), (json_int_t)i + 4);
    json_decref(all);
    ecrmock_free(m);
    /* exactly 4 fit: the bound is inclusive */
    o.journal_max_bytes = 4 * one;
    m = ecrmock_new(&o);
    create_repo(m, "web");
    ecrmock_journal_clear(m);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(ecrmock_call_raw(m, "DescribeRepositories", body, n, &out, &len), 200);
        free(out);
    }
    assert_int_equal(ecrmock_journal_length(m), 4);
    assert_int_equal(ecrmock_journal_dropped(m), 1);
    ecrmock_free(m);
}

/* A call larger than journal_max_bytes alone is kept, its request dropped
 * (and its response when that is not enough); "dropped" says how much. */
static void test_journal_max_bytes_keeps_a_stub(void **state)
{
    (void)state;
    ecrmock_options o = ECRMOCK_OPTIONS_INIT;
    o.journal_max_bytes = 1000;
    ecrmock *m = ecrmock_new(&o);
    create_repo(m, "web");
    char id[64];
    initiate_upload(m, "web", id);
    char blob[1601], body[2000]; /* 1600 base64 characters: 1200 bytes */
    memset(blob, 'A', sizeof blob - 1);
    blob[sizeof blob - 1] = '\0';
    int n = snprintf(body, sizeof body,
                     "{\"repositoryName\":\"web\",\"uploadId\":\"%s\",\"partFirstByte\":0,\"partLastByte\":1199,"
                     "\"layerPartBlob\":\"%s\"}",
                     id, blob);
    char *out = NULL;
    size_t len = 0;
    assert_int_equal(ecrmock_call_raw(m, "UploadLayerPart", body, (size_t)n, &out, &len), 200);
    json_t *sent = json_loadb(out, len, 0, NULL);
    free(out);
    /* CreateRepository, InitiateLayerUpload, the stub: without its request, it fits beside them */
    assert_int_equal(ecrmock_journal_length(m), 3);
    assert_int_equal(ecrmock_journal_dropped(m), 0);
    json_t *e = ecrmock_journal_entry(m, -1, NULL);
    assert_string_equal(json_string_value(json_object_get(e, "action")), "UploadLayerPart");
    assert_true(json_is_null(json_object_get(e, "request")));
    assert_true(same_tree(json_object_get(e, "response"), sent));
    json_t *want = json_pack("{s:i}", "request", n);
    assert_true(same_tree(json_object_get(e, "dropped"), want));
    json_decref(want);
    json_decref(e);
    json_decref(sent);
    ecrmock_free(m);

    /* a bound smaller than the response too: both dropped; the error still named */
    o.journal_max_bytes = 10;
    m = ecrmock_new(&o);
    assert_int_equal(ecrmock_call_raw(m, "DescribeRepositories", "{\"repositoryNames\":[\"nope\"]}", 28, &out, &len),
                     400);
    free(out);
    e = ecrmock_journal_entry(m, -1, NULL);
    assert_true(json_is_null(json_object_get(e, "request")));
    assert_true(json_is_null(json_object_get(e, "response")));
    assert_string_equal(json_string_value(json_object_get(e, "error")), "RepositoryNotFoundException");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(e, "dropped"), "request")), 28);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(e, "dropped"), "response")), (json_int_t)len);
    assert_int_equal(json_integer_value(json_object_get(e, "status")), 400);
    json_decref(e);
    /* an entry that fits has no "dropped" */
    ecrmock_free(m);
    m = ecrmock_new(NULL);
    create_repo(m, "web");
    e = ecrmock_journal_entry(m, -1, NULL);
    assert_null(json_object_get(e, "dropped"));
    json_decref(e);
    ecrmock_free(m);
}

/* ---- the byte ring (journal.c) ------------------------------------------------------ */

/* What a ring test sent in call i: a request with a pad of `pad` bytes of
 * one letter, kept as text, as a tree (a JSON-level string that is not
 * UTF-8: the request null), dropped (a stub over journal_max_bytes), or
 * both bodies dropped (journal_max_bytes lowered for the call: no text). */
typedef enum { RING_TEXT, RING_TREE, RING_STUB, RING_EMPTY } ring_kind;
typedef struct ring_call {
    ring_kind kind;
    size_t pad;
    char letter;
} ring_call;

/* The body of call c (malloc'd). */
static char *ring_body(const ring_call *c)
{
    char *b = malloc(c->pad + 64);
    assert_non_null(b);
    int n = sprintf(b, "{\"repositoryName\":\"web\",\"pad\":\"");
    memset(b + n, c->letter, c->pad);
    strcpy(b + n + c->pad, "\"}");
    return b;
}

/* Sends call c (a text) at the wire level on m: ListImages of the
 * repository "web", which m has not (400).  The bytes its entry's text
 * takes: the request's and the answer's. */
static size_t ring_send(ecrmock *m, const ring_call *c)
{
    char *body = ring_body(c), *out = NULL;
    size_t len = 0, blen = strlen(body);
    assert_int_equal(ecrmock_call_raw(m, "ListImages", body, blen, &out, &len), 400);
    free(out);
    free(body);
    return blen + len;
}

/* Asserts entry e is call c's, as sent. */
static void assert_ring_entry(json_t *e, const ring_call *c, long seq)
{
    assert_int_equal(json_integer_value(json_object_get(e, "seq")), seq);
    json_t *req = json_object_get(e, "request"), *dropped = json_object_get(e, "dropped");
    const char *error = json_string_value(json_object_get(e, "error"));
    assert_int_equal(json_integer_value(json_object_get(e, "status")), 400);
    if (c->kind == RING_STUB || c->kind == RING_EMPTY) {
        assert_true(json_is_null(req));
        assert_true(json_integer_value(json_object_get(dropped, "request")) > (json_int_t)c->pad);
        assert_true(c->kind == RING_STUB ? json_is_object(json_object_get(e, "response"))
                                         : json_integer_value(json_object_get(dropped, "response")) > 0);
        assert_string_equal(error, "RepositoryNotFoundException");
    } else if (c->kind == RING_TREE) {
        assert_true(json_is_null(req));
        assert_null(dropped);
        assert_string_equal(error, "SerializationException");
    } else {
        assert_null(dropped);
        assert_string_equal(error, "RepositoryNotFoundException"); /* no repository "web" */
        json_t *pad = json_object_get(req, "pad");
        assert_non_null(pad);
        const char *v = json_string_value(pad);
        assert_int_equal(json_string_length(pad), c->pad);
        for (size_t k = 0; k < c->pad; k++)
            if (v[k] != c->letter)
                fail_msg("entry %ld: pad byte %zu is '%c', sent '%c'", seq, k, v[k], c->letter);
    }
}

/* Texts of every size, round the ring many times, with entries that hold
 * no text between them: the ring is made anew when a text does not fit and
 * when it is far larger than its texts.  After every call, every held
 * entry reads back as it was sent, and the ring stays within 8 times its
 * texts (and 64 KiB steps). */
static void test_journal_ring_keeps_every_text(void **state)
{
    (void)state;
    enum { CALLS = 1500, LIMIT = 7 };
    ecrmock_options o = ECRMOCK_OPTIONS_INIT;
    o.journal_limit = LIMIT;
    o.journal_max_bytes = 400000;
    ecrmock *m = ecrmock_new(&o);
    ring_call calls[CALLS];
    uint32_t seed = 19;
    size_t remade = 0, wrapped = 0, last_cap = 0, last_end = 0;
    int first = 0; /* the first call held */
    for (int i = 0; i < CALLS; i++) {
        seed = seed * 1103515245u + 12345u;
        unsigned r = (seed >> 16) % 100, size = seed >> 3;
        ring_call *c = &calls[i];
        bool small = i % 250 >= 200; /* 200 calls of every size, then 50 small ones: the ring shrinks */
        *c = (ring_call){RING_TEXT, r < 60 || small ? size % 200 : r < 90 ? size % 5000 : size % 150000,
                         (char)('a' + i % 26)};
        if (r == 97 || r == 98)
            c->kind = RING_TREE;
        if (r == 99)
            *c = (ring_call){RING_STUB, 400000, 'z'};
        if (r == 96)
            c->kind = RING_EMPTY;
        if (c->kind == RING_EMPTY) { /* journal_max_bytes at its least for this call */
            o.journal_max_bytes = 3;
            assert_int_equal(ecrmock_options_set(m, &o, NULL), 0);
        }
        if (c->kind == RING_TREE) {
            char *pad = malloc(c->pad + 1);
            memset(pad, c->letter, c->pad);
            pad[c->pad] = '\xff';
            json_t *req = json_pack("{s:s, s:o}", "repositoryName", "web", "pad", json_stringn_nocheck(pad, c->pad + 1));
            json_t *resp = NULL;
            assert_int_equal(ecrmock_call(m, "ListImages", req, &resp), 400);
            json_decref(req);
            json_decref(resp);
            free(pad);
        } else {
            ring_send(m, c);
        }
        if (c->kind == RING_EMPTY) {
            o.journal_max_bytes = 400000;
            assert_int_equal(ecrmock_options_set(m, &o, NULL), 0);
        }
        remade += m->journal_text_cap != last_cap;
        wrapped += m->journal_text_cap == last_cap && m->journal_text_end < last_end;
        last_cap = m->journal_text_cap;
        last_end = m->journal_text_end;
        if (c->kind != RING_EMPTY) /* a call with text makes a ring far too large smaller */
            assert_true(m->journal_text_cap <= 8 * m->journal_text_live + 4 * (65536 + 2));
        if (c->kind == RING_EMPTY) { /* a journal_max_bytes of 3 let go of every entry before it that held bytes */
            int f = i;
            while (f > first && calls[f - 1].kind == RING_EMPTY)
                f--;
            first = f;
        }
        if (i + 1 - first > LIMIT)
            first = i + 1 - LIMIT;
        size_t n = ecrmock_journal_length(m);
        assert_int_equal(n, (size_t)(i + 1 - first));
        for (size_t k = 0; k < n; k++) {
            long seq = i + 1 - (long)(n - 1 - k);
            json_t *e = ecrmock_journal_entry(m, (long)k, NULL);
            assert_ring_entry(e, &calls[seq - 1], seq);
            json_decref(e);
        }
    }
    /* the run went round the ring, and made it anew, many times */
    assert_true(wrapped >= 10);
    assert_true(remade >= 10);
    ecrmock_free(m);
}

/* Calls of texts of exactly the lengths given (0-ended) on a journal of
 * `limit`, asserting after the last that the ring is `cap` bytes and every
 * held entry reads back as sent.  A text is a request and its answer (the
 * answer's bytes measured first). */
static void ring_run(size_t limit, const size_t *lens, size_t cap)
{
    ecrmock *m = ecrmock_new(NULL);
    size_t fixed = ring_send(m, &(ring_call){RING_TEXT, 0, 'a'}); /* a text's bytes beyond its pad */
    ecrmock_free(m);
    ecrmock_options o = ECRMOCK_OPTIONS_INIT;
    o.journal_limit = limit;
    m = ecrmock_new(&o);
    ring_call calls[8];
    size_t n = 0;
    for (; lens[n]; n++) {
        assert_true(n < 8 && lens[n] > fixed);
        calls[n] = (ring_call){RING_TEXT, lens[n] - fixed, (char)('b' + n)};
        ring_send(m, &calls[n]);
    }
    assert_int_equal(m->journal_text_cap, cap);
    size_t held = n < limit ? n : limit;
    assert_int_equal(ecrmock_journal_length(m), held);
    for (size_t k = 0; k < held; k++) {
        json_t *e = ecrmock_journal_entry(m, (long)k, NULL);
        assert_ring_entry(e, &calls[n - held + k], (long)(n - held + k) + 1);
        json_decref(e);
    }
    ecrmock_free(m);
}

/* The ring at each edge of where a text may go, in a ring of 64 KiB:
 * texts of 20000, 20000 and 25000 bytes fill it to 65000 (the last text
 * that fits before the end takes it to 65536 exactly); the next goes at 0
 * when it is shorter than the oldest kept text's start (20000), and the
 * one after fits between the end and the oldest kept start when it leaves
 * a byte between them.  One byte more each time: a larger ring (twice what
 * it holds). */
static void test_journal_ring_at_its_edges(void **state)
{
    (void)state;
    enum { K = 65536 };
    /* before the ring's end: to the last byte, one past it */
    ring_run(3, (size_t[]){20000, 20000, 25536, 0}, K);
    ring_run(3, (size_t[]){20000, 20000, 25537, 0}, 3 * K); /* 2 * (40000 + 25537 + 1) + K, in K steps */
    /* at 0: shorter than the oldest kept start, or as long */
    ring_run(3, (size_t[]){20000, 20000, 25000, 19999, 0}, K);
    /* (the texts held in one piece, 20000 to 65000: grown in place, 2 * (65000 + 20000 + 1) + K) */
    ring_run(3, (size_t[]){20000, 20000, 25000, 20000, 0}, 3 * K);
    /* between the end (10000) and the oldest kept start (40000) */
    ring_run(3, (size_t[]){20000, 20000, 25000, 10000, 29999, 0}, K);
    /* (the texts held in two pieces, 40000 to 65536 and 0 to 10000: grown in
     * place, 2 * (25536 + 10000 + 30000 + 1) + K, the older piece moved to the end) */
    ring_run(3, (size_t[]){20000, 20000, 25000, 10000, 30000, 0}, 3 * K);
}

/* Hooks that use the journal mid-call: the before-hook makes a call of its
 * own, larger each time (the ring grows inside the outer call) and reads
 * the whole journal; the after-hook reads the newest entry and, every third
 * call, clears the journal (the outer entry just recorded goes with it). */
typedef struct ring_hooks {
    ecrmock *m;
    int calls, nested;
    size_t pad;
} ring_hooks;

static void ring_before(void *user, const char *action, json_t *req, ecrmock_injection *inj)
{
    (void)action, (void)req, (void)inj;
    ring_hooks *h = user;
    if (h->nested)
        return;
    h->nested = 1;
    ring_send(h->m, &(ring_call){RING_TEXT, h->pad, 'n'});
    h->pad = h->pad * 2 + 1000;
    json_t *all = ecrmock_journal_json(h->m, NULL);
    assert_non_null(all);
    json_decref(all);
    h->nested = 0;
}

static void ring_after(void *user, const char *action, json_t *req, int status, json_t *resp)
{
    (void)action, (void)req, (void)status, (void)resp;
    ring_hooks *h = user;
    if (h->nested)
        return;
    json_t *e = ecrmock_journal_entry(h->m, -1, NULL);
    assert_non_null(e);
    json_decref(e);
    if (++h->calls % 3 == 0)
        ecrmock_journal_clear(h->m);
}

static void test_journal_ring_used_from_hooks(void **state)
{
    (void)state;
    ecrmock *m = ecrmock_new(NULL);
    ring_hooks h = {.m = m, .pad = 100};
    ecrmock_hooks_set(m, ring_before, ring_after, &h);
    for (int i = 0; i < 9; i++) { /* pads of 100 bytes to 0.6 MB */
        json_t *req = json_pack("{s:s}", "repositoryName", "web"), *resp = NULL;
        assert_int_equal(ecrmock_call(m, "ListImages", req, &resp), 400);
        json_decref(req);
        json_decref(resp);
    }
    ecrmock_hooks_set(m, NULL, NULL, NULL);
    /* after the 9th call's clear: nothing held; the ring still takes calls */
    assert_int_equal(ecrmock_journal_length(m), 0);
    ring_call c = {RING_TEXT, 70000, 'q'};
    ring_send(m, &c);
    json_t *e = ecrmock_journal_entry(m, -1, NULL);
    assert_ring_entry(e, &c, json_integer_value(json_object_get(e, "seq")));
    json_decref(e);
    ecrmock_free(m);
}

/* A text that needs a new ring when there is no memory for it: the call
 * answers, its record is counted as dropped, and the entries held stay,
 * each as it was (none went for the one that could not be kept).  Each
 * allocation of the call fails in turn, on an instance made alike. */
static void test_journal_ring_without_memory_keeps_what_it_held(void **state)
{
    (void)state;
    ecrmock_options o = ECRMOCK_OPTIONS_INIT;
    o.journal_limit = 3;
    ring_call calls[4] = {{RING_TEXT, 10, 'a'}, {RING_TEXT, 20, 'b'}, {RING_TEXT, 30, 'c'}, {RING_TEXT, 200000, 'd'}};
    char *bodies[4];
    for (int i = 0; i < 4; i++)
        bodies[i] = ring_body(&calls[i]);
    bool lost = false, kept = false;
    for (long n = 1;; n++) {
        ecrmock *m = ecrmock_new(&o);
        char *out = NULL;
        size_t len = 0;
        for (int i = 0; i < 3; i++) {
            assert_int_equal(ecrmock_call_raw(m, "ListImages", bodies[i], strlen(bodies[i]), &out, &len), 400);
            free(out);
        }
        size_t cap = m->journal_text_cap;
        allocations = 0;
        fail_at = n;
        ecrmock_set_alloc_funcs(failing_malloc, failing_realloc, NULL);
        int st = ecrmock_call_raw(m, "ListImages", bodies[3], strlen(bodies[3]), &out, &len);
        ecrmock_set_alloc_funcs(NULL, NULL, NULL);
        fail_at = -1;
        free(out);
        if (m->journal_text_cap == cap) { /* no new ring: nothing held changed */
            assert_int_equal(ecrmock_journal_length(m), 3);
            assert_int_equal(ecrmock_journal_dropped(m), 1);
            for (long k = 0; k < 3; k++) {
                json_t *e = ecrmock_journal_entry(m, k, NULL);
                assert_ring_entry(e, &calls[k], k + 1);
                json_decref(e);
            }
            lost = lost || st == 400; /* the answer went out, its record could not be kept */
        } else if (st == 400) { /* kept in the new ring; the oldest went for it */
            kept = true;
            for (long k = 0; k < 3; k++) {
                json_t *e = ecrmock_journal_entry(m, k, NULL);
                assert_ring_entry(e, &calls[k + 1], k + 2);
                json_decref(e);
            }
        }
        ecrmock_free(m);
        if (allocations < n)
            break; /* the call made fewer allocations: every one has been failed */
    }
    assert_true(lost);
    assert_true(kept);
    for (int i = 0; i < 4; i++)
        free(bodies[i]);
}

/* ---- issue 19: an HTTP call's headers kept as text ------------------------------------ */

/* What a random header name or value is made of: ASCII, what JSON escapes,
 * UTF-8 of every kind, valid and not, and the pieces of credentials. */
static const char *const hdr_pieces[] = {
    "a", "Z", "-", "0", " ", ",", "=", ";", "/", "\"", "\\", "\x01", "\b", "\t", "\n", "\v", "\f", "\r", "\x1f",
    "\x7f", "\xc3\xa9", "\xc3\x89", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xef\xbf\xbd", "\xf4\x8f\xbf\xbf",
    "\x80", "\xbf",                                            /* lone continuation bytes */
    "\xc3", "\xe2\x82", "\xf0\x9f\x98",                        /* truncated sequences */
    "\xc0\xaf", "\xc1\xbf", "\xe0\x80\xaf", "\xe0\x9f\xbf", "\xf0\x80\x80\xaf", "\xf0\x8f\xbf\xbf", /* overlong */
    "\xed\xa0\x80", "\xed\xbf\xbf",                            /* surrogates */
    "\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\xf8\x88\x80\x80\x80", "\xfe", "\xff", /* past U+10FFFF, never UTF-8 */
    "Signature=", "Signature=ab12", ", Signature=", ",Signature=", "Credential=Signature=", "SignedHeaders=host",
    "Basic ", "basic ", "BASIC dG9rZW4=", "AWS4-HMAC-SHA256 ",
};
#define HDR_PIECES (sizeof hdr_pieces / sizeof hdr_pieces[0])
#define HDR_CREDENTIAL_PIECES 10 /* the last ones */

/* Names, repeated in other cases, and names that become the same once made UTF-8. */
static const char *const hdr_names[] = {
    "User-Agent", "user-agent", "USER-AGENT", "Accept", "accept", "X-Odd", "x-ODD", "X-\xff", "x-\xfe",
    "X-\xef\xbf\xbd", "x-\xc3\xa9", "X-\xc3\xa9", "X-\xc3\x89", "Authorization", "authorization", "AUTHORIZATION",
    "", "X-Amz-Date", "x-amz-security-token", "Authorization\xff",
};

typedef struct hdr_set {
    ecrmock_http_header h[48];
    char names[48][64], values[48][256];
    size_t n;
} hdr_set;

static uint32_t hdr_next(uint32_t *seed)
{
    *seed = *seed * 1103515245u + 12345u;
    return *seed >> 8;
}

/* Up to `most` random pieces into out (64 or 256 bytes), credentials' more
 * often when `credential`. */
static void hdr_random_text(char *out, size_t size, uint32_t *seed, unsigned most, bool credential)
{
    out[0] = '\0';
    for (unsigned k = hdr_next(seed) % (most + 1); k > 0; k--) {
        size_t p = credential && hdr_next(seed) % 2 ? HDR_PIECES - 1 - hdr_next(seed) % HDR_CREDENTIAL_PIECES
                                                     : hdr_next(seed) % HDR_PIECES;
        if (strlen(out) + strlen(hdr_pieces[p]) < size)
            strcat(out, hdr_pieces[p]);
    }
}

/* Content-Type and X-Amz-Target for `action`, then `extra` random headers. */
static void hdr_random_set(hdr_set *s, const char *action, size_t extra, uint32_t *seed)
{
    s->n = 2 + extra;
    strcpy(s->names[0], "Content-Type");
    strcpy(s->values[0], "application/x-amz-json-1.1");
    strcpy(s->names[1], "X-Amz-Target");
    snprintf(s->values[1], sizeof s->values[1], "AmazonEC2ContainerRegistry_V20150921.%s", action);
    for (size_t i = 2; i < s->n; i++) {
        if (hdr_next(seed) % 10 < 7)
            strcpy(s->names[i], hdr_names[hdr_next(seed) % (sizeof hdr_names / sizeof hdr_names[0])]);
        else
            hdr_random_text(s->names[i], sizeof s->names[i], seed, 4, false);
        bool auth = strcasecmp(s->names[i], "authorization") == 0;
        hdr_random_text(s->values[i], sizeof s->values[i], seed, auth ? 8 : 6, auth);
    }
    for (size_t i = 0; i < s->n; i++)
        s->h[i] = (ecrmock_http_header){s->names[i], s->values[i]};
}

/* POSTs body with set s through ecrmock_http_handle(); its status, and the response's bytes in *len. */
static int hdr_post(ecrmock *m, const hdr_set *s, const char *body, size_t *len)
{
    ecrmock_http_response r;
    int status = http_send(m, &r, "POST", "/", s->h, s->n, body);
    *len = r.body_len;
    ecrmock_http_response_release(&r);
    return status;
}

/* Random header sets (repeated names in other cases, UTF-8 of every kind,
 * escapes, credentials) over each way a call reaches the journal over
 * HTTP: the tree-free form, the tree path, an unknown action, a body that
 * is not JSON (those keep the headers as text), and the tree path with a
 * fault rule (the tree the rules read).  The entry's "headers" is
 * em_headers_json()'s tree, members in its order; where it is kept as text,
 * the text is jansson's compact dump of that tree, byte for byte. */
static void test_journal_headers_text_is_the_tree(void **state)
{
    ecrmock *m = *state, *faulted = ecrmock_new(NULL);
    add_fault(faulted, "{\"headers\": {\"x-never\": true}, \"error\": \"ServerException\"}");
    static const struct {
        const char *action, *body;
        int status;
    } route[] = {
        {"DescribeRepositories", "{}", 200},
        {"DescribeRegistry", "{}", 200},
        {"NoSuchAction", "{}", 400},
        {"DescribeRepositories", "{oops", 400},
        {"DescribeRepositories", "{}", 200}, /* on `faulted` */
    };
    uint32_t seed = 19;
    size_t text_kept = 0, trees = 0;
    hdr_set *s = malloc(sizeof *s);
    assert_non_null(s);
    for (int i = 0; i < 3000; i++) {
        size_t r = (size_t)i % 5, extra = hdr_next(&seed) % 12;
        if (i % 50 >= 45) /* 31 headers and more: 32 and 33 in all, the writer's bound */
            extra = 29 + (size_t)(i % 50 - 45);
        hdr_random_set(s, route[r].action, extra, &seed);
        ecrmock *on = r == 4 ? faulted : m;
        size_t len;
        assert_int_equal(hdr_post(on, s, route[r].body, &len), route[r].status);
        ecrmock_http_request req = ECRMOCK_HTTP_REQUEST_INIT;
        req.headers = s->h;
        req.n_headers = s->n;
        json_t *want = em_headers_json(&req), *e = ecrmock_journal_entry(on, -1, NULL);
        assert_non_null(want);
        assert_non_null(e);
        json_t *have = json_object_get(e, "headers");
        if (!same_tree(have, want)) {
            char *a = json_dumps(have, JSON_COMPACT), *b = json_dumps(want, JSON_COMPACT);
            fail_msg("call %d (%zu headers): the journal has\n%s\nem_headers_json():\n%s", i, s->n, a, b);
        }
        assert_int_equal(json_object_size(want) <= s->n, 1);
        if (r < 4 && s->n <= EM_HEADERS_TEXT_MAX) { /* the text ends the entry's bytes */
            char *dump = json_dumps(want, JSON_COMPACT);
            size_t n = strlen(dump);
            assert_true(on->journal_text_end >= n);
            assert_memory_equal(on->journal_text + on->journal_text_end - n, dump, n);
            free(dump);
            text_kept++;
        } else if (s->n > EM_HEADERS_TEXT_MAX) {
            trees++;
        }
        json_decref(want);
        json_decref(e);
    }
    free(s);
    assert_true(text_kept > 2000);
    assert_true(trees > 100);
    ecrmock_free(faulted);
}

/* What call i of test_journal_headers_survive_the_ring sent: an X-Seq and
 * an X-Pad of `pad` bytes of `letter` then a byte that is not UTF-8, over
 * HTTP, or (http false) a JSON-level call, no headers. */
typedef struct hdr_ring_call {
    bool http;
    size_t pad;
    char letter;
} hdr_ring_call;

/* The headers' texts go round the ring with the bodies' and are moved
 * with them: texts of every size (the headers up to 150000 bytes, the
 * larger part of most entries), calls over HTTP through the tree-free
 * form, the tree path and a body that is not JSON (no body text: the
 * headers' alone), and JSON-level calls without headers, on a journal of 7
 * entries.  After every call every held entry reads back with the headers
 * it was sent with; the ring wrapped, grew and was made anew many times. */
static void test_journal_headers_survive_the_ring(void **state)
{
    (void)state;
    enum { CALLS = 900, LIMIT = 7, BIG = 150000 };
    ecrmock_options o = ECRMOCK_OPTIONS_INIT;
    o.journal_limit = LIMIT;
    o.journal_max_bytes = 400000;
    ecrmock *m = ecrmock_new(&o);
    static hdr_ring_call calls[CALLS];
    char *pad = malloc(BIG + 2), seq[32];
    assert_non_null(pad);
    uint32_t seed = 7;
    size_t remade = 0, wrapped = 0, last_cap = 0, last_end = 0;
    for (int i = 0; i < CALLS; i++) {
        uint32_t r = hdr_next(&seed) % 100, size = hdr_next(&seed);
        bool small = i % 300 >= 250; /* 250 calls of every size, then 50 small ones: the ring shrinks */
        hdr_ring_call *c = &calls[i];
        *c = (hdr_ring_call){r % 5 != 4, r < 60 || small ? size % 200 : r < 90 ? size % 5000 : size % BIG,
                             (char)('a' + i % 26)};
        memset(pad, c->letter, c->pad);
        memcpy(pad + c->pad, "\xff", 2);
        snprintf(seq, sizeof seq, "%d", i + 1);
        ecrmock_http_header h[] = {
            {"Content-Type", "application/x-amz-json-1.1"},
            {"X-Amz-Target", r % 5 == 1 ? "AmazonEC2ContainerRegistry_V20150921.DescribeRegistry"
                                        : "AmazonEC2ContainerRegistry_V20150921.DescribeRepositories"},
            {"X-Seq", seq},
            {"X-Pad", pad},
        };
        ecrmock_http_response resp;
        if (!c->http)
            ring_send(m, &(ring_call){RING_TEXT, c->pad, c->letter});
        else
            assert_int_equal(http_send(m, &resp, "POST", "/", h, 4, r % 5 == 2 ? "{oops" : "{}"),
                             r % 5 == 2 ? 400 : 200);
        if (c->http)
            ecrmock_http_response_release(&resp);
        remade += m->journal_text_cap != last_cap;
        wrapped += m->journal_text_cap == last_cap && m->journal_text_end < last_end;
        last_cap = m->journal_text_cap;
        last_end = m->journal_text_end;
        assert_true(m->journal_text_cap <= 8 * m->journal_text_live + 4 * (65536 + 2));
        size_t n = ecrmock_journal_length(m);
        assert_true(n >= 1 && n <= LIMIT);
        for (size_t k = 0; k < n; k++) {
            json_t *e = ecrmock_journal_entry(m, (long)k, NULL);
            long at = (long)json_integer_value(json_object_get(e, "seq"));
            assert_int_equal(at, i + 1 - (long)(n - 1 - k));
            const hdr_ring_call *was = &calls[at - 1];
            json_t *hs = json_object_get(e, "headers");
            if (!was->http) {
                assert_null(hs);
                assert_ring_entry(e, &(ring_call){RING_TEXT, was->pad, was->letter}, at);
                json_decref(e);
                continue;
            }
            assert_int_equal(json_object_size(hs), 4);
            snprintf(seq, sizeof seq, "%ld", at);
            assert_string_equal(json_string_value(json_object_get(hs, "x-seq")), seq);
            json_t *p = json_object_get(hs, "x-pad");
            assert_int_equal(json_string_length(p), was->pad + 3);
            const char *v = json_string_value(p);
            for (size_t b = 0; b < was->pad; b++)
                if (v[b] != was->letter)
                    fail_msg("entry %ld: pad byte %zu is '%c', sent '%c'", at, b, v[b], was->letter);
            assert_memory_equal(v + was->pad, "\xef\xbf\xbd", 3);
            json_decref(e);
        }
    }
    assert_true(wrapped >= 10);
    assert_true(remade >= 10);
    free(pad);
    ecrmock_free(m);
}

/* The bytes of DescribeRepositories {} over HTTP with a User-Agent of 300
 * bytes on m: the answer's in *resp_len, the headers' text (jansson's
 * compact dump of em_headers_json()) in *hdr_len. */
static void hdr_sized_call(ecrmock *m, size_t *resp_len, size_t *hdr_len)
{
    static char agent[301];
    memset(agent, 'u', 300);
    ecrmock_http_header h[] = {
        {"Content-Type", "application/x-amz-json-1.1"},
        {"X-Amz-Target", "AmazonEC2ContainerRegistry_V20150921.DescribeRepositories"},
        {"User-Agent", agent},
    };
    ecrmock_http_response r;
    assert_int_equal(http_send(m, &r, "POST", "/", h, 3, "{}"), 200);
    *resp_len = r.body_len;
    ecrmock_http_response_release(&r);
    ecrmock_http_request req = ECRMOCK_HTTP_REQUEST_INIT;
    req.headers = h;
    req.n_headers = 3;
    json_t *tree = em_headers_json(&req);
    char *dump = json_dumps(tree, JSON_COMPACT);
    *hdr_len = strlen(dump);
    free(dump);
    json_decref(tree);
}

/* journal_max_bytes counts the headers' text, byte for byte: an entry of
 * exactly the bound is kept whole; a byte less drops its request; a bound
 * the headers alone pass leaves a stub of them (both bodies dropped, the
 * entries before it gone), as for any entry larger than the bound. */
static void test_journal_max_bytes_counts_the_headers(void **state)
{
    (void)state;
    size_t resp_len, hdr_len;
    ecrmock *m = ecrmock_new(NULL);
    hdr_sized_call(m, &resp_len, &hdr_len);
    assert_int_equal(m->journal_bytes, 2 + resp_len + hdr_len);
    assert_int_equal(m->journal_text_live, 2 + resp_len + hdr_len);
    ecrmock_free(m);
    ecrmock_options o = ECRMOCK_OPTIONS_INIT;
    struct {
        size_t max;
        json_int_t req_dropped, resp_dropped; /* -1: kept */
    } edge[] = {
        {2 + resp_len + hdr_len, -1, -1},
        {2 + resp_len + hdr_len - 1, 2, -1},
        {resp_len + hdr_len - 1, 2, (json_int_t)resp_len},
        {hdr_len - 1, 2, (json_int_t)resp_len},
    };
    for (size_t i = 0; i < sizeof edge / sizeof edge[0]; i++) {
        o.journal_max_bytes = edge[i].max;
        m = ecrmock_new(&o);
        char *out = NULL;
        size_t out_len = 0;
        assert_int_equal(ecrmock_call_raw(m, "DescribeRegistry", "{}", 2, &out, &out_len), 200);
        free(out);
        size_t r2, h2;
        hdr_sized_call(m, &r2, &h2);
        json_t *e = ecrmock_journal_entry(m, -1, NULL), *dropped = json_object_get(e, "dropped");
        assert_int_equal(json_object_size(json_object_get(e, "headers")), 3);
        assert_int_equal(json_string_length(json_object_get(json_object_get(e, "headers"), "user-agent")), 300);
        size_t bytes = hdr_len;
        if (edge[i].req_dropped < 0) {
            assert_null(dropped);
            bytes += 2 + resp_len;
        } else {
            assert_true(json_is_null(json_object_get(e, "request")));
            assert_int_equal(json_integer_value(json_object_get(dropped, "request")), edge[i].req_dropped);
        }
        if (edge[i].resp_dropped < 0) {
            assert_true(json_is_object(json_object_get(e, "response")));
            bytes += edge[i].req_dropped < 0 ? 0 : resp_len;
        } else {
            assert_true(json_is_null(json_object_get(e, "response")));
            assert_int_equal(json_integer_value(json_object_get(dropped, "response")), edge[i].resp_dropped);
        }
        assert_int_equal(m->journal_bytes, bytes);
        assert_int_equal(m->journal_text_live, bytes);
        /* the DescribeRegistry before it went for it */
        assert_int_equal(ecrmock_journal_length(m), 1);
        assert_int_equal(ecrmock_journal_dropped(m), 1);
        json_decref(e);
        ecrmock_free(m);
    }
}

/* The writer's bound, at its edge: 32 headers are kept as text (the ring
 * holds the request's, the answer's and the headers' bytes); 33 take the
 * tree path and their tree (the ring holds the bodies' alone), the same
 * headers read back either way. */
static void test_journal_headers_text_at_32_and_33(void **state)
{
    (void)state;
    ecrmock_http_header h[33] = {
        {"Content-Type", "application/x-amz-json-1.1"},
        {"X-Amz-Target", "AmazonEC2ContainerRegistry_V20150921.DescribeRepositories"},
    };
    char names[33][16];
    for (size_t i = 2; i < 33; i++) {
        snprintf(names[i], sizeof names[i], "X-H%zu", i % 20); /* 20 names, some twice */
        h[i] = (ecrmock_http_header){names[i], i % 2 ? "odd" : "\"even\""};
    }
    for (size_t n = 32; n <= 33; n++) {
        ecrmock *m = ecrmock_new(NULL);
        ecrmock_http_response r;
        assert_int_equal(http_send(m, &r, "POST", "/", h, n, "{}"), 200);
        ecrmock_http_request req = ECRMOCK_HTTP_REQUEST_INIT;
        req.headers = h;
        req.n_headers = n;
        json_t *want = em_headers_json(&req), *e = ecrmock_journal_entry(m, 0, NULL);
        assert_int_equal(json_object_size(want), 2 + 20);
        assert_true(same_tree(json_object_get(e, "headers"), want));
        char *dump = json_dumps(want, JSON_COMPACT);
        assert_int_equal(m->journal_text_live, 2 + r.body_len + (n == 32 ? strlen(dump) : 0));
        assert_int_equal(m->fast_answered, n == 32 ? 1 : 0);
        free(dump);
        json_decref(want);
        json_decref(e);
        ecrmock_http_response_release(&r);
        ecrmock_free(m);
    }
}

/* What a tree-free DescribeRepositories makes through ecrmock_http_handle():
 * the answer's buffer (which becomes the response's body) and the response's
 * headers with their strings, one block (http_message.c). */
#define ALLOCS_HTTP_FAST_CALL 2

/* The allocations of DescribeRepositories {} through ecrmock_http_handle()
 * with the n first of h, the journal on, after a call that made the
 * journal's array and ring: ecrmock's and jansson's (alloc_fail.h). */
static long hdr_call_allocations(ecrmock *m, const ecrmock_http_header *h, size_t n)
{
    ecrmock_http_response r;
    assert_int_equal(http_send(m, &r, "POST", "/", h, n, "{}"), 200);
    ecrmock_http_response_release(&r);
    alloc_fail_install();
    alloc_fail_arm(-1);
    int status = http_send(m, &r, "POST", "/", h, n, "{}");
    ecrmock_http_response_release(&r);
    long counted = alloc_fail_disarm();
    ecrmock_set_alloc_funcs(NULL, NULL, NULL);
    json_set_alloc_funcs(malloc, free);
    assert_int_equal(status, 200);
    return counted;
}

/* A tree-free call over HTTP journals its headers with no allocation: as
 * many allocations with 4 headers, or 32, as with the 2 the call needs
 * (when it built their tree: 25 with 2 headers, 39 with these 4); past 32
 * the tree path runs, tree and all. */
static void test_journal_http_headers_cost_no_allocation(void **state)
{
    ecrmock *m = *state;
    ecrmock_http_header h[33];
    hdr_33(h, (ecrmock_http_header){"Host", "api.ecr.us-east-1.amazonaws.com"},
           (ecrmock_http_header){"User-Agent", "aws-sdk-c/1.0 (linux) caf\xe9"});
    long two = hdr_call_allocations(m, h, 2);
    assert_int_equal(hdr_call_allocations(m, h, 4), ALLOCS_HTTP_FAST_CALL);
    assert_int_equal(two, ALLOCS_HTTP_FAST_CALL);
    assert_int_equal(hdr_call_allocations(m, h, 32), ALLOCS_HTTP_FAST_CALL);
    assert_true(hdr_call_allocations(m, h, 33) > ALLOCS_HTTP_FAST_CALL + 20);
    assert_int_equal(m->fast_answered, 6); /* the two calls with 33 went the tree path */
    json_t *e = ecrmock_journal_entry(m, 3, NULL);
    assert_string_equal(json_string_value(json_object_get(json_object_get(e, "headers"), "user-agent")),
                        "aws-sdk-c/1.0 (linux) caf\xef\xbf\xbd");
    json_decref(e);
}

/* One call of the differential run below, made on both instances. */
/* The same call on both; whether it pulled an image (kind 8). */
static bool both_call(ecrmock *x[2], uint64_t *seed, int kind)
{
    bool pulled = false;
    *seed = *seed * 6364136223846793005u + 1442695040888963407u;
    unsigned r = (unsigned)(*seed >> 33);
    char body[6000], name[40];
    snprintf(name, sizeof name, "diff/r%u", r % 5);
    memset(body + 3000, 'm', 400); /* an annotation's text (kind 7) */
    for (int k = 0; k < 2; k++) {
        char *out = NULL;
        size_t n = 0;
        if (kind == 0) { /* a repository made, or refused as there already */
            snprintf(body, sizeof body, "{\"repositoryName\":\"%s\"}", name);
            ecrmock_call_raw(x[k], "CreateRepository", body, strlen(body), &out, &n);
        } else if (kind == 1 || kind == 6) { /* requests of every size: 0-60 tags of up to 40 bytes (6: 60 of 40) */
            int used = snprintf(body, sizeof body, "{\"resourceArn\":\"arn:aws:ecr:us-east-1:123456789012:repository/%s\","
                                "\"tags\":[", name);
            unsigned tags = kind == 6 ? 60 : r % 61, more = kind == 6 ? 40 : (r >> 7) % 40;
            for (unsigned t = 0; t < tags; t++)
                used += snprintf(body + used, sizeof body - (size_t)used, "%s{\"Key\":\"k%u%.*s\",\"Value\":\"v\"}",
                                 t ? "," : "", t, (int)more, "0123456789012345678901234567890123456789");
            snprintf(body + used, sizeof body - (size_t)used, "]}");
            ecrmock_call_raw(x[k], "TagResource", body, strlen(body), &out, &n);
        } else if (kind == 2) {
            ecrmock_call_raw(x[k], "DescribeRepositories", "{}", 2, &out, &n);
        } else if (kind == 3) { /* an unknown action: an entry that owns its name */
            ecrmock_call_raw(x[k], "NoSuchAction", "{}", 2, &out, &n);
        } else if (kind == 4) { /* over HTTP: the headers' text in the ring */
            snprintf(body, sizeof body, "{\"repositoryNames\":[\"%s\"]}", name);
            assert_int_not_equal(r % 2 ? http_post(x[k], NULL, "DescribeRepositories", body, "Host",
                                                   "api.ecr.us-east-1.amazonaws.com", NULL)
                                       : http_post(x[k], NULL, "DescribeRepositories", body, NULL),
                                 -1);
        } else if (kind == 7) { /* an image pushed (its config first), or refused */
            char cfg[ECRMOCK_DIGEST_SIZE], config[40];
            int len = snprintf(config, sizeof config, "{\"salt\":%u}", r % 9);
            if (ecrmock_put_layer(x[k], NULL, name, config, (size_t)len, cfg, NULL) == 0) {
                snprintf(body, sizeof body,
                         "{\"repositoryName\":\"%s\",\"imageTag\":\"t%u\",\"imageManifest\":\"{\\\"schemaVersion\\\":2,"
                         "\\\"mediaType\\\":\\\"application/vnd.oci.image.manifest.v1+json\\\",\\\"config\\\":{"
                         "\\\"mediaType\\\":\\\"application/vnd.oci.image.config.v1+json\\\",\\\"size\\\":%d,"
                         "\\\"digest\\\":\\\"%s\\\"},\\\"layers\\\":[],\\\"annotations\\\":{\\\"q\\\":"
                         "\\\"\\\\\\\"%.*s\\\"}}\"}",
                         name, (r >> 4) % 4, len, cfg, (int)(r % 300), body + 3000);
                ecrmock_call_raw(x[k], "PutImage", body, strlen(body), &out, &n);
            }
        } else if (kind == 8) { /* pulls: one tag, or two with one absent (kept: the first image's manifest) */
            snprintf(body, sizeof body, "{\"repositoryName\":\"%s\",\"imageIds\":[{\"imageTag\":\"t%u\"}%s]}", name,
                     (r >> 4) % 4, r % 3 ? "" : ",{\"imageTag\":\"none\"}");
            if ((r >> 9) % 3 == 0) { /* over HTTP: the headers' text after the answer's, a span kept out of it */
                ecrmock_http_response resp;
                int st = http_post(x[k], &resp, "BatchGetImage", body, "User-Agent", "both/1", NULL);
                assert_true(st > 0);
                pulled = st == 200 && resp.body && strstr(resp.body, "imageManifest");
                ecrmock_http_response_release(&resp);
            } else {
                ecrmock_call_raw(x[k], "BatchGetImage", body, strlen(body), &out, &n);
                pulled = out && strstr(out, "imageManifest");
            }
        } else if (kind == 9) { /* a delete: an image an entry may keep goes */
            snprintf(body, sizeof body, "{\"repositoryName\":\"%s\",\"imageIds\":[{\"imageTag\":\"t%u\"}]}", name,
                     (r >> 4) % 4);
            ecrmock_call_raw(x[k], "BatchDeleteImage", body, strlen(body), &out, &n);
        } else { /* the JSON level, a body not UTF-8: a tree kept */
            json_t *v = json_pack("{s:o}", "repositoryName", json_stringn_nocheck("bad\xff", 4)), *resp = NULL;
            ecrmock_call(x[k], "DescribeImages", v, &resp);
            json_decref(v);
            json_decref(resp);
        }
        ecrmock_buffer_free(out);
    }
    return pulled;
}

/* Action `action` with `body` on m, its n-th allocation failing (when it
 * makes that many); how many allocations it made. */
static long call_failing_at(ecrmock *m, long n, const char *action, const char *body)
{
    char *out = NULL;
    size_t len;
    alloc_fail_install();
    alloc_fail_arm(n);
    ecrmock_call_raw(m, action, body, strlen(body), &out, &len);
    long made = alloc_fail_disarm();
    ecrmock_set_alloc_funcs(NULL, NULL, NULL);
    json_set_alloc_funcs(malloc, free);
    ecrmock_buffer_free(out);
    return made;
}

/* x and y hold the same journal: its entries as a reader gets them, its
 * counts, and the byte ring's layout.  `what` names the case when the
 * entries differ (both journals are printed). */
static void assert_same_journal(ecrmock *x, ecrmock *y, const char *what)
{
    assert_int_equal(ecrmock_journal_length(x), ecrmock_journal_length(y));
    assert_int_equal(ecrmock_journal_dropped(x), ecrmock_journal_dropped(y));
    assert_int_equal(x->journal_bytes, y->journal_bytes);
    assert_int_equal(x->journal_owning, y->journal_owning);
    assert_int_equal(x->journal_text_cap, y->journal_text_cap);
    assert_int_equal(x->journal_text_end, y->journal_text_end);
    assert_int_equal(x->journal_text_live, y->journal_text_live);
    json_t *a = ecrmock_journal_json(x, NULL), *b = ecrmock_journal_json(y, NULL);
    assert_non_null(a);
    if (!json_equal(a, b)) {
        char *ta = json_dumps(a, JSON_COMPACT), *tb = json_dumps(b, JSON_COMPACT);
        fail_msg("%s:\n%s\n%s", what, ta, tb);
    }
    json_decref(a);
    json_decref(b);
}

/* record_texts, the common record's few stores, against the general path:
 * two instances, one recording every call by the general path
 * (journal_general), the same calls on both (answers of every size that
 * wrap the ring, grow it and have it made anew; byte limits that drop
 * more than the oldest; entries that own a name or a tree, over HTTP with
 * headers; pulls that keep a manifest by its image, and deletes of those
 * images), and after each call the same journal: its entries as a reader
 * gets them, its counts, and the byte ring's layout. */
static void test_journal_common_record_is_the_general_one(void **state)
{
    (void)state;
    static const struct { size_t limit, max_bytes; } shapes[] = {{2, 1 << 20}, {5, 3000}, {7, 900}, {40, 20000}, {64, 1 << 20}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        ecrmock_options o = ECRMOCK_OPTIONS_INIT;
        o.journal_limit = shapes[s].limit;
        o.journal_max_bytes = shapes[s].max_bytes;
        ecrmock *x[2] = {ecrmock_new(&o), ecrmock_new(&o)};
        assert_non_null(x[0]);
        assert_non_null(x[1]);
        x[1]->journal_general = true;
        uint64_t seed = 0x9e3779b97f4a7c15u + s;
        int pulls = 0;
        for (int i = 0; i < 600; i++) {
            int kind = i < 5 ? 0 : (int)((seed >> 40) % 50);
            kind = kind < 6 ? kind : kind < 20 ? 1 : kind < 30 ? 2 : kind < 34 ? 4 : kind == 34 ? 3 : kind == 35 ? 5
                 : kind < 40 ? 7 : kind < 46 ? 8 : kind < 48 ? 9 : 0;
            if (s == sizeof shapes / sizeof shapes[0] - 1 && i >= 100 && i < 400)
                kind = i < 170 ? 6 : 0; /* the ring grown by large texts, then made anew for small ones */
            pulls += both_call(x, &seed, kind);
            char what[64];
            snprintf(what, sizeof what, "shape %zu, call %d", s, i);
            assert_same_journal(x[0], x[1], what);
        }
        assert_true(pulls >= 10); /* images were pulled, their manifests kept */
        ecrmock_free(x[0]);
        ecrmock_free(x[1]);
    }
}

/* A journal of `limit` entries, full of small DescribeRepositories
 * records; the one of them that records every call by the general path
 * when `general`. */
static ecrmock *full_journal(size_t limit, bool general)
{
    ecrmock_options o = ECRMOCK_OPTIONS_INIT;
    o.journal_limit = limit;
    ecrmock *m = ecrmock_new(&o);
    assert_non_null(m);
    m->journal_general = general;
    for (size_t i = 0; i < limit + 1; i++) {
        char *out = NULL;
        size_t n;
        assert_int_equal(ecrmock_call_raw(m, "DescribeRepositories", "{}", 2, &out, &n), 200);
        ecrmock_buffer_free(out);
    }
    return m;
}

/* The common record when the ring must grow for a text and memory runs
 * out, at every allocation of the call in turn: the same journal as the
 * general path's in the same case (the record lost and counted as dropped,
 * nothing else changed), and the ring whole (every entry read back). */
static void test_journal_common_record_out_of_memory(void **state)
{
    (void)state;
    /* 200 KB of text: past the ring's 64 KB, so that it grows */
    size_t big = 200000;
    char *body = malloc(big + 64);
    assert_non_null(body);
    int used = snprintf(body, big + 64, "{\"repositoryNames\":[\"");
    memset(body + used, 'a', big);
    snprintf(body + used + big, 64, "\"]}");
    bool grew = false;
    for (long n = 1;; n++) {
        ecrmock *x[2] = {full_journal(4, false), full_journal(4, true)};
        size_t ring = x[0]->journal_text_cap;
        long made[2];
        for (int k = 0; k < 2; k++)
            made[k] = call_failing_at(x[k], n, "DescribeRepositories", body);
        assert_int_equal(made[0], made[1]);
        assert_same_journal(x[0], x[1], "a ring grown out of memory");
        grew = grew || x[0]->journal_text_cap > ring;
        ecrmock_free(x[0]);
        ecrmock_free(x[1]);
        if (made[0] < n) /* no allocation failed: the call went whole */
            break;
    }
    assert_true(grew);
    free(body);
}


/* A journal of 4 entries on an instance holding "big/app" with an image
 * whose manifest is about 200 KB (tag v1: a pull's answer past the ring's
 * 64 KB); the one that records every call by the general path when
 * `general`. */
static ecrmock *big_image_journal(bool general)
{
    ecrmock_options o = ECRMOCK_OPTIONS_INIT;
    o.journal_limit = 4;
    ecrmock *m = ecrmock_new(&o);
    assert_non_null(m);
    m->journal_general = general;
    create_repo(m, "big/app");
    char cfg[ECRMOCK_DIGEST_SIZE];
    push_layer(m, "big/app", "{}", 2, cfg);
    size_t big = 200000;
    char *manifest = malloc(big + 512);
    assert_non_null(manifest);
    int used = snprintf(manifest, big + 512,
                        "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{"
                        "\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"size\":2,\"digest\":\"%s\"},"
                        "\"layers\":[],\"annotations\":{\"big\":\"",
                        cfg);
    memset(manifest + used, 'q', big);
    snprintf(manifest + used + big, 64, "\"}}");
    free(put_image(m, "big/app", manifest, "v1"));
    free(manifest);
    for (int i = 0; i < 5; i++) {
        char *out = NULL;
        size_t n;
        assert_int_equal(ecrmock_call_raw(m, "DescribeRepositories", "{}", 2, &out, &n), 200);
        ecrmock_buffer_free(out);
    }
    return m;
}

/* The same as test_journal_common_record_out_of_memory for a pull that
 * keeps its manifest by its image: its answer (200 KB) grows the ring,
 * each allocation of the call fails in turn; the two records keep the
 * same journal, and after the image's delete (its block let go to an
 * entry, or freed when no entry kept it) read the same. */
static void test_journal_kept_manifest_record_out_of_memory(void **state)
{
    (void)state;
    static const char pull[] = "{\"repositoryName\":\"big/app\",\"imageIds\":[{\"imageTag\":\"v1\"}]}";
    static const char del[] = "{\"repositoryName\":\"big/app\",\"imageIds\":[{\"imageTag\":\"v1\"}]}";
    bool kept = false;
    for (long n = 1;; n++) {
        ecrmock *x[2] = {big_image_journal(false), big_image_journal(true)};
        long made[2];
        for (int k = 0; k < 2; k++)
            made[k] = call_failing_at(x[k], n, "BatchGetImage", pull);
        assert_int_equal(made[0], made[1]);
        kept = kept || x[0]->journal_text_live < 100000; /* a pull recorded without its manifest's bytes */
        for (int step = 0; step < 2; step++) {
            assert_same_journal(x[0], x[1], step ? "after the delete" : "a pull out of memory");
            for (int k = 0; step == 0 && k < 2; k++) {
                char *out = NULL;
                size_t len;
                assert_int_equal(ecrmock_call_raw(x[k], "BatchDeleteImage", del, strlen(del), &out, &len), 200);
                ecrmock_buffer_free(out);
            }
        }
        ecrmock_free(x[0]);
        ecrmock_free(x[1]);
        if (made[0] < n) /* no allocation failed: the call went whole */
            break;
    }
    assert_true(kept);
}

/* ---- manifests kept by their image ---------------------------------------------
 * A BatchGetImage's answer is mostly its first image's manifest, which the
 * store holds: the entry keeps the image rather than a copy of those bytes
 * (testing/journal.c), and an image deleted while an entry keeps it stays,
 * its block only, until the last such entry goes. */

/* A manifest whose JSON string needs every kind of escape: quotes and
 * backslashes in its annotations' text, a slash, a control character
 * escaped, non-ASCII text (as UTF-8 and as an escape, a pair of
 * surrogates); over a config pushed into `repo`.  Malloc'd. */
static char *escaping_manifest(ecrmock *m, const char *repo, int salt)
{
    char cfg[ECRMOCK_DIGEST_SIZE], config[64];
    int n = snprintf(config, sizeof config, "{\"architecture\":\"amd64\",\"salt\":%d}", salt);
    push_layer(m, repo, config, (size_t)n, cfg);
    char *text = malloc(1024);
    assert_non_null(text);
    snprintf(text, 1024,
             "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
             "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"size\":%d,\"digest\":\"%s\"},"
             "\"layers\":[],\"annotations\":{\"say\":\"\\\"hi\\\" \\\\ a/b \\u0001\\t caf\xc3\xa9 \\ud83d\\ude00 %d\"}}",
             n, cfg, salt);
    return text;
}

/* BatchGetImage of `ids` (the imageIds' JSON) in repo through the wire
 * level; its status, the answer in *out (ecrmock_buffer_free). */
static int pull_raw(ecrmock *m, const char *repo, const char *ids, char **out, size_t *n)
{
    char body[1024];
    snprintf(body, sizeof body, "{\"repositoryName\":\"%s\",\"imageIds\":%s}", repo, ids);
    return ecrmock_call_raw(m, "BatchGetImage", body, strlen(body), out, n);
}

/* Journal entry `i`'s response is exactly the answer out[0..n) as JSON. */
static void assert_entry_answered(ecrmock *m, long i, const char *out, size_t n)
{
    json_t *e = ecrmock_journal_entry(m, i, NULL), *want = json_loadb(out, n, 0, NULL);
    assert_non_null(e);
    assert_non_null(want);
    assert_string_equal(json_string_value(json_object_get(e, "action")), "BatchGetImage");
    if (!json_equal(json_object_get(e, "response"), want)) {
        char *got = json_dumps(json_object_get(e, "response"), JSON_COMPACT);
        fail_msg("entry %ld:\n%s\nthe answer:\n%.*s", i, got, (int)n, out);
    }
    json_decref(e);
    json_decref(want);
}

static void test_journal_keeps_a_pulled_manifest(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "kept");
    char *manifest = escaping_manifest(m, "kept", 1);
    char *digest = put_image(m, "kept", manifest, "v1");
    size_t live = m->journal_text_live;
    char *out = NULL, body[512];
    size_t n = 0;
    assert_int_equal(pull_raw(m, "kept", "[{\"imageTag\":\"v1\"}]", &out, &n), 200);
    snprintf(body, sizeof body, "{\"repositoryName\":\"%s\",\"imageIds\":%s}", "kept", "[{\"imageTag\":\"v1\"}]");
    /* the ring holds the request and the answer but its manifest's string */
    json_t *want = json_loadb(out, n, 0, NULL);
    const char *got = json_string_value(json_object_get(json_array_get(json_object_get(want, "images"), 0), "imageManifest"));
    assert_string_equal(got, manifest);
    json_decref(want);
    const char *from = strstr(out, "\"imageManifest\":"), *to = strstr(out, ",\"imageManifestMediaType\"");
    assert_non_null(from);
    assert_non_null(to);
    size_t string = (size_t)(to - from) - strlen("\"imageManifest\":");
    assert_true(string > strlen(manifest));
    assert_int_equal(m->journal_text_live - live, strlen(body) + n - string);
    assert_entry_answered(m, -1, out, n);
    /* deleted: the entry still reads the manifest it kept */
    call_ok(m, "BatchDeleteImage", "{\"repositoryName\":\"kept\",\"imageIds\":[{\"imageTag\":\"v1\"}]}");
    assert_null(m->let_go); /* taken by the delete's record into the entry's list */
    assert_entry_answered(m, -2, out, n);
    char *again = NULL;
    size_t again_n = 0;
    assert_int_equal(pull_raw(m, "kept", "[{\"imageTag\":\"v1\"}]", &again, &again_n), 200);
    assert_non_null(strstr(again, "ImageNotFound"));
    assert_entry_answered(m, -3, out, n);
    /* the same manifest pushed again is a new image; the old entry reads on */
    free(put_image(m, "kept", manifest, "v2"));
    assert_entry_answered(m, -4, out, n);
    ecrmock_buffer_free(again);
    ecrmock_buffer_free(out);
    free(digest);
    free(manifest);
}

/* An answer of several images: one image under two tags, by digest (two
 * images in the answer, the first kept), with a failure after them. */
static void test_journal_keeps_the_first_of_several_images(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "multi");
    char *a = escaping_manifest(m, "multi", 2), *b = escaping_manifest(m, "multi", 3);
    char *da = put_image(m, "multi", a, "a1");
    free(put_image(m, "multi", a, "a2"));
    char *db = put_image(m, "multi", b, "b1");
    char ids[600], *out = NULL;
    size_t n = 0;
    snprintf(ids, sizeof ids, "[{\"imageDigest\":\"%s\"},{\"imageTag\":\"b1\"},{\"imageTag\":\"nope\"}]", da);
    assert_int_equal(pull_raw(m, "multi", ids, &out, &n), 200);
    json_t *v = json_loadb(out, n, 0, NULL);
    assert_int_equal(json_array_size(json_object_get(v, "images")), 3);
    assert_int_equal(json_array_size(json_object_get(v, "failures")), 1);
    json_decref(v);
    assert_entry_answered(m, -1, out, n);
    call_ok(m, "BatchDeleteImage", "{\"repositoryName\":\"multi\",\"imageIds\":[{\"imageDigest\":\"%s\"},{\"imageDigest\":\"%s\"}]}", da, db);
    assert_entry_answered(m, -2, out, n);
    ecrmock_buffer_free(out);
    free(a);
    free(b);
    free(da);
    free(db);
}

/* Ecrmock's blocks live now (the marked allocator's count) after a
 * DescribeRepositories, which records an entry as large as the one it
 * drops: what the call freed beside (-1: an image's block). */
static long blocks_freed_by_a_call(ecrmock *m)
{
    long before = marked_live();
    char *out = NULL;
    size_t n;
    assert_int_equal(ecrmock_call_raw(m, "DescribeRepositories", "{\"maxResults\":1}", 16, &out, &n), 200);
    ecrmock_buffer_free(out);
    return marked_live() - before;
}

/* A deleted image's block goes with the last entry that keeps its
 * manifest, not before (the entry reads it to the end) nor after; by
 * either record (the common one and the general path). */
static void test_journal_kept_manifest_goes_with_its_last_entry(void **state)
{
    (void)state;
    for (int general = 0; general < 2; general++) {
        ecrmock_set_alloc_funcs(marked_malloc, marked_realloc, marked_free);
        ecrmock_options o = ECRMOCK_OPTIONS_INIT;
        o.journal_limit = 5;
        ecrmock *m = ecrmock_new(&o);
        assert_non_null(m);
        m->journal_general = general;
        create_repo(m, "go");
        char *manifest = escaping_manifest(m, "go", 4);
        free(put_image(m, "go", manifest, "v1"));
        for (int i = 0; i < 6; i++) /* a full journal of DescribeRepositories */
            assert_int_equal(blocks_freed_by_a_call(m), 0);
        char *out[2] = {NULL, NULL};
        size_t n[2];
        for (int k = 0; k < 2; k++)
            assert_int_equal(pull_raw(m, "go", "[{\"imageTag\":\"v1\"}]", &out[k], &n[k]), 200);
        call_ok(m, "BatchDeleteImage", "{\"repositoryName\":\"go\",\"imageIds\":[{\"imageTag\":\"v1\"}]}");
        /* held: DR, DR, BGI, BGI, delete */
        assert_int_equal(blocks_freed_by_a_call(m), 0); /* a DR goes */
        assert_int_equal(blocks_freed_by_a_call(m), 0); /* the other DR */
        assert_entry_answered(m, 0, out[0], n[0]);
        assert_int_equal(blocks_freed_by_a_call(m), 0); /* the first pull: the second keeps the image */
        assert_entry_answered(m, 0, out[1], n[1]);
        assert_int_equal(blocks_freed_by_a_call(m), -1); /* the second: the image's block with it */
        assert_int_equal(blocks_freed_by_a_call(m), 0);
        for (int k = 0; k < 2; k++)
            ecrmock_buffer_free(out[k]);
        free(manifest);
        ecrmock_free(m);
        ecrmock_set_alloc_funcs(NULL, NULL, NULL);
    }
}

/* The ways an image goes other than a delete, each while an entry keeps
 * its manifest: the journal cleared first (the image then goes at once),
 * a fixture loaded over the registries (the entry reads on), the journal
 * switched off, ecrmock_reset and ecrmock_free (ASan and valgrind: no
 * block lost, none read after it went). */
static void test_journal_kept_manifest_when_the_store_goes(void **state)
{
    (void)state;
    ecrmock_set_alloc_funcs(marked_malloc, marked_realloc, marked_free);
    ecrmock *m = ecrmock_new(NULL);
    assert_non_null(m);
    create_repo(m, "st");
    char *manifest = escaping_manifest(m, "st", 5), *out = NULL;
    size_t n;
    free(put_image(m, "st", manifest, "v1"));
    assert_int_equal(pull_raw(m, "st", "[{\"imageTag\":\"v1\"}]", &out, &n), 200);
    ecrmock_buffer_free(out);
    /* cleared: no entry keeps it, and the delete frees it whole, its tag
     * and its block (the journal's slots and ring made again before) */
    ecrmock_journal_clear(m);
    assert_int_equal(blocks_freed_by_a_call(m) > 0, 1);
    long before = marked_live();
    call_ok(m, "BatchDeleteImage", "{\"repositoryName\":\"st\",\"imageIds\":[{\"imageTag\":\"v1\"}]}");
    assert_null(m->let_go);
    assert_int_equal(marked_live() - before, -2);

    /* a fixture's registries replace the ones an entry keeps an image of */
    free(put_image(m, "st", manifest, "v2"));
    assert_int_equal(pull_raw(m, "st", "[{\"imageTag\":\"v2\"}]", &out, &n), 200);
    json_t *fx = json_pack("{s:[{s:[{s:s}]}]}", "registries", "repositories", "name", "other");
    assert_int_equal(ecrmock_fixture_load(m, fx, "test", NULL), 0);
    json_decref(fx);
    assert_non_null(m->let_go); /* handed over by the swap, under the lock */
    assert_entry_answered(m, -1, out, n);
    assert_int_equal(blocks_freed_by_a_call(m), 0); /* the record takes it into the entry's list */
    assert_null(m->let_go);
    assert_entry_answered(m, -2, out, n);
    ecrmock_buffer_free(out);

    /* the journal off: a deleted image's entries still read it */
    create_repo(m, "st");
    free(manifest);
    manifest = escaping_manifest(m, "st", 5); /* its config in the new repository */
    free(put_image(m, "st", manifest, "v3"));
    assert_int_equal(pull_raw(m, "st", "[{\"imageTag\":\"v3\"}]", &out, &n), 200);
    ecrmock_journal_enable(m, 0);
    call_ok(m, "BatchDeleteImage", "{\"repositoryName\":\"st\",\"imageIds\":[{\"imageTag\":\"v3\"}]}");
    assert_null(m->let_go);
    assert_entry_answered(m, -1, out, n);
    ecrmock_journal_enable(m, 1);
    ecrmock_buffer_free(out);

    /* reset with an image kept, then free with one let go and not yet taken */
    free(manifest);
    manifest = escaping_manifest(m, "other", 5);
    free(put_image(m, "other", manifest, "v4"));
    assert_int_equal(pull_raw(m, "other", "[{\"imageTag\":\"v4\"}]", &out, &n), 200);
    ecrmock_buffer_free(out);
    ecrmock_reset(m);
    assert_int_equal(ecrmock_journal_length(m), 0);
    assert_null(m->let_go);
    create_repo(m, "st");
    free(manifest);
    manifest = escaping_manifest(m, "st", 5);
    free(put_image(m, "st", manifest, "v5"));
    assert_int_equal(pull_raw(m, "st", "[{\"imageTag\":\"v5\"}]", &out, &n), 200);
    ecrmock_buffer_free(out);
    fx = json_pack("{s:[]}", "registries");
    assert_int_equal(ecrmock_fixture_load(m, fx, "test", NULL), 0);
    json_decref(fx);
    assert_non_null(m->let_go);
    free(manifest);
    long live = marked_live();
    ecrmock_free(m);
    assert_true(marked_live() < live);
    ecrmock_set_alloc_funcs(NULL, NULL, NULL);
}

/* What an after-hook does on a later call, on the instance itself: the
 * image a kept manifest belongs to deleted, the entry read, a fixture
 * loaded over the registries, the instance reset. */
typedef struct {
    ecrmock *m;
    char *out;
    size_t n;
    int step;
} kept_hook;

static void kept_after(void *user, const char *action, json_t *request, int status, json_t *response)
{
    (void)request;
    (void)status;
    (void)response;
    kept_hook *k = user;
    if (strcmp(action, "ListImages") != 0)
        return;
    if (k->step == 0) {
        call_ok(k->m, "BatchDeleteImage", "{\"repositoryName\":\"hook\",\"imageIds\":[{\"imageTag\":\"v1\"}]}");
        assert_entry_answered(k->m, -3, k->out, k->n); /* the pull, the ListImages (recorded before its hook), the delete */
    } else if (k->step == 1) {
        json_t *fx = json_pack("{s:[{s:[{s:s}]}]}", "registries", "repositories", "name", "hook");
        assert_int_equal(ecrmock_fixture_load(k->m, fx, "hook", NULL), 0);
        json_decref(fx);
        assert_entry_answered(k->m, -2, k->out, k->n);
    } else {
        ecrmock_reset(k->m);
    }
}

static void test_journal_kept_manifest_from_a_hook(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "hook");
    char *manifest = escaping_manifest(m, "hook", 7);
    kept_hook k = {.m = m};
    for (k.step = 0; k.step < 3; k.step++) {
        if (k.step)
            create_repo(m, "hook2");
        const char *repo = k.step ? "hook2" : "hook";
        if (k.step) {
            free(manifest);
            manifest = escaping_manifest(m, repo, 7);
        }
        free(put_image(m, repo, manifest, "v1"));
        char ids[64];
        snprintf(ids, sizeof ids, "[{\"imageTag\":\"v1\"}]");
        assert_int_equal(pull_raw(m, repo, ids, &k.out, &k.n), 200); /* tree-free: no hook yet */
        ecrmock_hooks_set(m, NULL, kept_after, &k);
        char *out = NULL;
        size_t n;
        assert_int_equal(ecrmock_call_raw(m, "ListImages", "{\"repositoryName\":\"hook\"}", 25, &out, &n), 200);
        ecrmock_hooks_set(m, NULL, NULL, NULL);
        ecrmock_buffer_free(out);
        if (k.step < 2)
            assert_entry_answered(m, k.step ? -2 : -3, k.out, k.n);
        else
            assert_int_equal(ecrmock_journal_length(m), 0);
        ecrmock_buffer_free(k.out);
        if (k.step == 1) {
            ecrmock_reset(m);
            create_repo(m, "hook");
        }
    }
    free(manifest);
}

/* A kept manifest read back when memory runs out at each allocation of
 * the read in turn: NULL and "out of memory", nothing lost; then the
 * entry whole. */
static void test_journal_kept_manifest_read_out_of_memory(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "oom");
    char *manifest = escaping_manifest(m, "oom", 6), *out = NULL;
    size_t n;
    free(put_image(m, "oom", manifest, "v1"));
    assert_int_equal(pull_raw(m, "oom", "[{\"imageTag\":\"v1\"}]", &out, &n), 200);
    call_ok(m, "BatchDeleteImage", "{\"repositoryName\":\"oom\",\"imageIds\":[{\"imageTag\":\"v1\"}]}");
    for (long k = 1;; k++) {
        ecrmock_err err;
        alloc_fail_install();
        alloc_fail_arm(k);
        json_t *e = ecrmock_journal_entry(m, -2, &err);
        long made = alloc_fail_disarm();
        ecrmock_set_alloc_funcs(NULL, NULL, NULL);
        json_set_alloc_funcs(malloc, free);
        if (made < k) { /* nothing failed: the entry whole */
            assert_non_null(e);
            json_decref(e);
            break;
        }
        assert_null(e);
        assert_int_equal(err.code, ECRMOCK_ERR_SERVER);
        assert_string_equal(err.text, "out of memory");
    }
    assert_entry_answered(m, -2, out, n);
    ecrmock_buffer_free(out);
    free(manifest);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup_mock, teardown_mock)
    const struct CMUnitTest tests[] = {
        T(test_journal_records_every_call),
        T(test_journal_keeps_copies),
        cmocka_unit_test(test_journal_common_record_is_the_general_one),
        cmocka_unit_test(test_journal_common_record_out_of_memory),
        T(test_journal_keeps_a_pulled_manifest),
        T(test_journal_keeps_the_first_of_several_images),
        cmocka_unit_test(test_journal_kept_manifest_goes_with_its_last_entry),
        cmocka_unit_test(test_journal_kept_manifest_when_the_store_goes),
        T(test_journal_kept_manifest_read_out_of_memory),
        T(test_journal_kept_manifest_from_a_hook),
        cmocka_unit_test(test_journal_kept_manifest_record_out_of_memory),
        T(test_journal_entry_is_independent),
        T(test_journal_readable_after_non_utf8_target),
        T(test_journal_switch_and_counters),
        T(test_journal_limit_drops_oldest),
        T(test_journal_marks_fault),
        T(test_journal_says_what_ran),
        T(test_journal_status_of_damaged_body),
        T(test_journal_keeps_http_headers),
        T(test_fault_rule_matches_header),
        T(test_fault_rule_header_value_with_nul),
        T(test_journal_elides_the_signature_component),
        T(test_journal_record_lost_to_memory_is_counted),
        T(test_journal_http_headers_out_of_memory),
        T(test_journal_headers_out_of_memory_each_way),
        T(test_cmocka_helpers_pass),
        T(test_cmocka_helpers_say_what_they_found),
        T(test_journal_reads_back_the_calls_trees),
        T(test_journal_wire_request_as_the_action_saw_it),
        T(test_journal_wire_request_after_before_hook),
        T(test_journal_wire_response_and_after_hook),
        T(test_journal_max_bytes_drops_oldest),
        T(test_journal_max_bytes_keeps_a_stub),
        T(test_journal_ring_keeps_every_text),
        T(test_journal_ring_at_its_edges),
        T(test_journal_ring_used_from_hooks),
        T(test_journal_ring_without_memory_keeps_what_it_held),
        T(test_journal_headers_text_is_the_tree),
        T(test_journal_http_headers_cost_no_allocation),
        T(test_journal_headers_survive_the_ring),
        T(test_journal_max_bytes_counts_the_headers),
        T(test_journal_headers_text_at_32_and_33),
    };
#undef T
    return cmocka_run_group_tests_name("journal", tests, NULL, NULL);
}
