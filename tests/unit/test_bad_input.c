/*
 * Bad input at the wire level, as a table: one row per case with the exact
 * status and error code expected.  Every row runs on an instance holding a
 * repository with an image and an open upload, and the state (its snapshot,
 * and the upload, which a snapshot does not show) must be unchanged after
 * the call.
 */
#include "helpers.h"

typedef struct row {
    const char *name;
    const char *action;
    const char *body; /* printf format; %U is the open upload's id (see expand) */
    size_t len;       /* 0: strlen(body) after expansion; else raw bytes, no expansion */
    int status;
    const char *error;
} row;

#define RAW(s) s, sizeof(s) - 1

static const row rows[] = {
    {"not JSON", "CreateRepository", "repositoryName=web", 0, 400, "SerializationException"},
    {"truncated JSON", "CreateRepository", "{\"repositoryName\": \"we", 0, 400, "SerializationException"},
    {"top-level array", "CreateRepository", "[\"web\"]", 0, 400, "SerializationException"},
    {"top-level number", "ListImages", "42", 0, 400, "SerializationException"},
    {"string for a long", "UploadLayerPart",
     "{\"repositoryName\": \"web\", \"uploadId\": \"%U\", \"partFirstByte\": \"0\", \"partLastByte\": 2, "
     "\"layerPartBlob\": \"YWJj\"}", 0, 400, "SerializationException"},
    {"object for a string", "CreateRepository", "{\"repositoryName\": {\"name\": \"web\"}}", 0, 400,
     "SerializationException"},
    {"boolean for a list", "BatchGetImage", "{\"repositoryName\": \"web\", \"imageIds\": true}", 0, 400,
     "SerializationException"},
    {"real for an integer", "ListImages", "{\"repositoryName\": \"web\", \"maxResults\": 1.5}", 0, 400,
     "SerializationException"},
    {"integer beyond 64 bits", "ListImages", "{\"repositoryName\": \"web\", \"maxResults\": 18446744073709551616}", 0,
     400, "SerializationException"},
    {"integer beyond 32 bits", "ListImages", "{\"repositoryName\": \"web\", \"maxResults\": 4294967296}", 0, 400,
     "SerializationException"},
    {"maxResults out of range", "ListImages", "{\"repositoryName\": \"web\", \"maxResults\": 1001}", 0, 400,
     "InvalidParameterException"},
    {"negative byte offset", "UploadLayerPart",
     "{\"repositoryName\": \"web\", \"uploadId\": \"%U\", \"partFirstByte\": -1, \"partLastByte\": 1, "
     "\"layerPartBlob\": \"YWJj\"}", 0, 400, "InvalidParameterException"},
    {"NUL in a string", "CreateRepository", RAW("{\"repositoryName\": \"we\\u0000b\"}"), 400, "SerializationException"},
    {"raw NUL byte", "CreateRepository", RAW("{\"repositoryName\": \"we\0b\"}"), 400, "SerializationException"},
    {"invalid UTF-8", "CreateRepository", RAW("{\"repositoryName\": \"w\xff\xfe\"}"), 400, "SerializationException"},
    {"overlong UTF-8", "PutImage", RAW("{\"repositoryName\": \"web\", \"imageTag\": \"\xc0\xaf\", \"imageManifest\": \"{}\"}"),
     400, "SerializationException"},
    {"301-character tag", "PutImage", NULL, 0, 400, "InvalidParameterException"},   /* built below */
    {"empty tag", "PutImage", "{\"repositoryName\": \"web\", \"imageTag\": \"\", \"imageManifest\": \"{}\"}", 0, 400,
     "InvalidParameterException"},
    {"manifest of 4 MiB + 1", "PutImage", NULL, 0, 400, "InvalidParameterException"}, /* built below */
    {"part blob of 20 MiB + 1", "UploadLayerPart", NULL, 0, 400, "InvalidParameterException"}, /* built below */
    {"invalid base64", "UploadLayerPart",
     "{\"repositoryName\": \"web\", \"uploadId\": \"%U\", \"partFirstByte\": 0, \"partLastByte\": 2, "
     "\"layerPartBlob\": \"YW*j\"}", 0, 400, "SerializationException"},
    {"base64 without padding", "UploadLayerPart",
     "{\"repositoryName\": \"web\", \"uploadId\": \"%U\", \"partFirstByte\": 0, \"partLastByte\": 1, "
     "\"layerPartBlob\": \"YWI\"}", 0, 400, "SerializationException"},
    {"deep nesting beyond the parser", "CreateRepository", NULL, 0, 400, "SerializationException"}, /* built below */
    {"101 image ids", "BatchGetImage", NULL, 0, 400, "InvalidParameterException"},                   /* built below */
    {"0 image ids", "BatchGetImage", "{\"repositoryName\": \"web\", \"imageIds\": []}", 0, 400,
     "InvalidParameterException"},
    {"null list member", "BatchGetImage", "{\"repositoryName\": \"web\", \"imageIds\": [null]}", 0, 400,
     "InvalidParameterException"},
    {"unknown action", "PushImage", "{}", 0, 400, "UnknownOperationException"},
    {"mixed-case action", "putImage", "{}", 0, 400, "UnknownOperationException"},
    {"lower-case target prefix", "amazonec2containerregistry_v20150921.PutImage", "{}", 0, 400,
     "UnknownOperationException"},
    {"duplicate member: the last wins", "CreateRepository", "{\"repositoryName\": \"web\", \"repositoryName\": \"Web\"}",
     0, 400, "InvalidParameterException"},
};

/* The body of a row, with the upload id in place of %U and the large rows built. */
static char *expand(const row *r, const char *upload, size_t *len)
{
    if (r->len) {
        char *b = malloc(r->len);
        memcpy(b, r->body, r->len);
        *len = r->len;
        return b;
    }
    char *b = NULL;
    if (strcmp(r->name, "301-character tag") == 0) {
        b = malloc(512);
        char tag[302];
        memset(tag, 'a', 301);
        tag[301] = '\0';
        snprintf(b, 512, "{\"repositoryName\": \"web\", \"imageTag\": \"%s\", \"imageManifest\": \"{}\"}", tag);
    } else if (strcmp(r->name, "manifest of 4 MiB + 1") == 0) {
        size_t n = 4194305;
        b = malloc(n + 128);
        int k = sprintf(b, "{\"repositoryName\": \"web\", \"imageManifest\": \"");
        memset(b + k, ' ', n);
        strcpy(b + k + n, "\"}");
    } else if (strcmp(r->name, "part blob of 20 MiB + 1") == 0) {
        size_t bytes = 20971521, chars = 4 * ((bytes + 2) / 3);
        b = malloc(chars + 256);
        int k = sprintf(b, "{\"repositoryName\": \"web\", \"uploadId\": \"%s\", \"partFirstByte\": 0, \"partLastByte\": %zu, "
                           "\"layerPartBlob\": \"", upload, bytes - 1);
        /* 20971521 bytes = 6990507 groups of 3: no padding */
        memset(b + k, 'A', chars);
        strcpy(b + k + chars, "\"}");
    } else if (strcmp(r->name, "deep nesting beyond the parser") == 0) {
        size_t depth = 5000;
        b = malloc(2 * depth + 64);
        size_t k = (size_t)sprintf(b, "{\"repositoryName\": \"web\", \"x\": ");
        memset(b + k, '[', depth);
        memset(b + k + depth, ']', depth);
        strcpy(b + k + 2 * depth, "}");
    } else if (strcmp(r->name, "101 image ids") == 0) {
        b = malloc(8192);
        int k = sprintf(b, "{\"repositoryName\": \"web\", \"imageIds\": [");
        for (int i = 0; i < 101; i++)
            k += sprintf(b + k, "%s{\"imageTag\": \"t%d\"}", i ? ", " : "", i);
        strcpy(b + k, "]}");
    } else {
        const char *u = strstr(r->body, "%U");
        size_t n = strlen(r->body) + 64;
        b = malloc(n);
        if (u)
            snprintf(b, n, "%.*s%s%s", (int)(u - r->body), r->body, upload, u + 2);
        else
            snprintf(b, n, "%s", r->body);
    }
    *len = strlen(b);
    return b;
}

static void test_bad_input_table(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "web");
    free(push_new_image(m, "web", 1, 1, "v1"));
    char upload[64];
    initiate_upload(m, "web", upload);
    json_t *before = ecrmock_snapshot(m, NULL);

    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        size_t len;
        char *body = expand(&rows[i], upload, &len);
        char *out = NULL;
        size_t out_len = 0;
        int status = ecrmock_call_raw(m, rows[i].action, body, len, &out, &out_len);
        free(body);
        json_t *doc = json_loadb(out, out_len, 0, NULL);
        const char *type = json_string_value(json_object_get(doc, "__type"));
        if (status != rows[i].status || !type || strcmp(type, rows[i].error) != 0)
            fail_msg("row '%s': expected %d %s, got %d %s", rows[i].name, rows[i].status, rows[i].error, status, out);
        json_decref(doc);
        free(out);
        char what[128];
        snprintf(what, sizeof what, "row '%s'", rows[i].name);
        assert_state_is(m, before, what);
    }
    json_decref(before);
    /* The open upload took no byte: its first part still starts at 0. */
    call_ok(m, "UploadLayerPart",
            "{\"repositoryName\": \"web\", \"uploadId\": \"%s\", \"partFirstByte\": 0, \"partLastByte\": 2, "
            "\"layerPartBlob\": \"YWJj\"}",
            upload);
}

/* The 20 MiB part limit is on the decoded bytes: exactly 20 MiB passes validation. */
static void test_bad_input_limits_are_exact(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "web");
    char upload[64];
    initiate_upload(m, "web", upload);
    size_t bytes = 20971520, chars = 4 * ((bytes + 2) / 3);
    char *b = malloc(chars + 256);
    int k = sprintf(b, "{\"repositoryName\": \"web\", \"uploadId\": \"%s\", \"partFirstByte\": 0, \"partLastByte\": %zu, "
                       "\"layerPartBlob\": \"", upload, bytes - 1);
    /* 20971520 bytes = 6990506 groups of 3 and one of 2: "AAA=" at the end */
    memset(b + k, 'A', chars);
    b[k + chars - 1] = '=';
    strcpy(b + k + chars, "\"}");
    char *out = NULL;
    size_t len = 0;
    int status = ecrmock_call_raw(m, "UploadLayerPart", b, strlen(b), &out, &len);
    if (status != 200)
        fail_msg("20 MiB part refused: %d %s", status, out);
    free(out);
    free(b);
}

/* Attack: the JSON level takes a tree a caller built, as deep as it likes
 * (jansson's parser stops at 2048 levels; json_array_append() does not).
 * The request's walks recurse (the null-member check, its copies, the
 * journal's): a 1,000,000-deep tree overflowed the stack.  It is refused as
 * the wire level refuses the body it would be, 400 SerializationException,
 * the journal holding its request as null (no JSON body); 2048 levels, the
 * wire level's deepest, still reach the action. */
/* Asserts CreateRepository of `req` (not released) is refused as no JSON
 * body (400 SerializationException, `message`), journaled with request
 * null and not run. */
static void assert_no_json_body(ecrmock *m, json_t *req, const char *message)
{
    json_t *r = NULL;
    assert_int_equal(ecrmock_call(m, "CreateRepository", req, &r), 400);
    assert_string_equal(err_type(r), "SerializationException");
    assert_string_equal(json_string_value(json_object_get(r, "Message")), message);
    json_decref(r);
    json_t *e = ecrmock_journal_entry(m, -1, NULL);
    assert_true(json_is_null(json_object_get(e, "request")));
    assert_false(json_is_true(json_object_get(e, "ran")));
    json_decref(e);
}

static void test_bad_input_json_level_too_deep(void **state)
{
    ecrmock *m = *state;
    json_t *req = nested("deep", 1000000), *r = NULL;
    assert_no_json_body(m, req, "The request is nested more than 2048 levels deep, which no JSON body can be");
    release_nested(req);
    assert_int_equal(repo_count(m, NULL), 0);
    /* the deepest the wire level takes: the action runs (and ignores "x") */
    req = nested("deep", 2048);
    assert_int_equal(ecrmock_call(m, "CreateRepository", req, &r), 200);
    json_decref(r);
    release_nested(req);
    assert_int_equal(repo_count(m, NULL), 1);
    req = nested("deeper", 2049);
    assert_int_equal(ecrmock_call(m, "CreateRepository", req, &r), 400);
    json_decref(r);
    release_nested(req);
    assert_int_equal(repo_count(m, NULL), 1);
}

/* Attack: a before-hook nests the request 1,000,000 levels deep (a member
 * the action ignores): the journal's text and copy of it overflowed the
 * stack.  The call runs; its request is journaled as null. */
static json_t *deep_member;

static void deepen(void *user, const char *action, json_t *request, ecrmock_injection *inject)
{
    (void)user;
    (void)action;
    (void)inject;
    json_object_set(request, "x", json_object_get(deep_member, "x"));
}

static void test_bad_input_hook_nests_too_deep(void **state)
{
    ecrmock *m = *state;
    deep_member = nested("deep", 1000000);
    ecrmock_hooks_set(m, deepen, NULL, NULL);
    json_t *r = NULL;
    assert_int_equal(call(m, &r, "CreateRepository", "{\"repositoryName\": \"web\"}"), 200);
    json_decref(r);
    ecrmock_hooks_set(m, NULL, NULL, NULL);
    json_t *e = ecrmock_journal_entry(m, -1, NULL);
    assert_true(json_is_null(json_object_get(e, "request")));
    assert_true(json_is_true(json_object_get(e, "ran")));
    json_decref(e);
    release_nested(deep_member);
    assert_int_equal(repo_count(m, NULL), 1);
}

/* Attack: strings that are not UTF-8 (json_stringn_nocheck(), or a member
 * name by json_object_setn_new_nocheck()), which no JSON body can hold.
 * The JSON level took them: CreateRepository stored a tag value "\xc3",
 * after which the wire level's ListTagsForResource answered -1 (its body
 * cannot be written) and a snapshot could not be dumped.  They are refused
 * as the wire level refuses a body that is not JSON, 400
 * SerializationException, the journal holding the request as null. */
static void test_bad_input_json_level_not_utf8(void **state)
{
    ecrmock *m = *state;
    json_t *req = json_pack("{s:s, s:[{s:s, s:o}]}", "repositoryName", "badvalue", "tags", "Key", "k", "Value",
                            json_stringn_nocheck("\xc3", 1)),
           *r = NULL;
    const char *why = "The request holds a member name or a string that is not UTF-8, which no JSON body can";
    assert_no_json_body(m, req, why);
    json_decref(req);
    req = json_pack("{s:s}", "repositoryName", "badname");
    json_object_setn_new_nocheck(req, "\xff\xfe", 2, json_integer(1));
    assert_no_json_body(m, req, why);
    json_decref(req);
    assert_int_equal(repo_count(m, NULL), 0);
    /* UTF-8 of every length (and a NUL, "\u0000" in JSON text) still goes through */
    req = json_pack("{s:s, s:[{s:s, s:s#}]}", "repositoryName", "good", "tags", "Key", "k", "Value",
                    "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xb3 eight+ascii\0", 27);
    assert_int_equal(ecrmock_call(m, "CreateRepository", req, &r), 200);
    json_decref(r);
    json_decref(req);
    assert_int_equal(repo_count(m, NULL), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_bad_input_table, setup_mock, teardown_mock),
        cmocka_unit_test_setup_teardown(test_bad_input_limits_are_exact, setup_mock, teardown_mock),
        cmocka_unit_test_setup_teardown(test_bad_input_json_level_too_deep, setup_mock, teardown_mock),
        cmocka_unit_test_setup_teardown(test_bad_input_hook_nests_too_deep, setup_mock, teardown_mock),
        cmocka_unit_test_setup_teardown(test_bad_input_json_level_not_utf8, setup_mock, teardown_mock),
    };
    return cmocka_run_group_tests_name("bad_input", tests, NULL, NULL);
}
