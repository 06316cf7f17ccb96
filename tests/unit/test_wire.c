/*
 * The wire level: ecrmock_call_raw() with X-Amz-Target and AWS JSON 1.1
 * bodies, bytes in and bytes out: target resolution, framework errors
 * (UnknownOperationException, SerializationException with its capital-M
 * "Message"), type mismatches, timestamps as JSON numbers in the form ECR's
 * Java front end writes them ("1.688712875E9"), the token's size, the
 * response buffer's contract and determinism under a seed.
 */
#include "helpers.h"

#include <openssl/evp.h>

#define TARGET(op) ECRMOCK_TARGET_PREFIX op

/* A raw call with a NUL-terminated body; checks the response buffer's
 * contract (NUL-terminated, response_len = strlen) on every call. */
static int raw(ecrmock *m, const char *target, const char *body, char **out)
{
    size_t len = 12345;
    *out = NULL;
    int st = ecrmock_call_raw(m, target, body, body ? strlen(body) : 0, out, &len);
    assert_non_null(*out);
    assert_int_equal(len, strlen(*out));
    assert_int_equal((*out)[len], '\0');
    return st;
}

/* Parses a response body; fails the test if it is not a JSON object. */
static json_t *parse(const char *body)
{
    json_error_t err;
    json_t *doc = json_loads(body, 0, &err);
    if (!json_is_object(doc))
        fail_msg("response is not a JSON object: %s", body);
    return doc;
}

/* Asserts a SerializationException whose whole text is `message`, in a
 * capital-M "Message" and nothing else. */
static void assert_serialization(int status, const char *body, const char *message)
{
    assert_int_equal(status, 400);
    json_t *doc = parse(body);
    assert_string_equal(json_string_value(json_object_get(doc, "__type")), "SerializationException");
    assert_non_null(json_object_get(doc, "Message"));
    assert_string_equal(json_string_value(json_object_get(doc, "Message")), message);
    assert_null(json_object_get(doc, "message"));
    assert_int_equal(json_object_size(doc), 2);
    json_decref(doc);
}

/* A raw call that must fail with SerializationException `message`. */
static void expect_serialization(ecrmock *m, const char *target, const char *body, const char *message)
{
    char *out;
    int st = raw(m, target, body, &out);
    assert_serialization(st, out, message);
    free(out);
}

/* ---- targets ------------------------------------------------------------------ */

static void test_call_raw_full_target_and_bare_name_same_bytes(void **state)
{
    ecrmock *m = *state;
    char *a, *b;
    assert_int_equal(raw(m, TARGET("CreateRepository"), "{\"repositoryName\":\"wire/app\"}", &a), 200);
    json_t *doc = parse(a);
    assert_string_equal(json_string_value(json_object_get(json_object_get(doc, "repository"), "repositoryName")),
                        "wire/app");
    json_decref(doc);
    free(a);

    /* Success bodies. */
    assert_int_equal(raw(m, TARGET("DescribeRepositories"), "{}", &a), 200);
    assert_int_equal(raw(m, "DescribeRepositories", "{}", &b), 200);
    assert_string_equal(a, b);
    assert_non_null(strstr(a, "\"repositoryName\":\"wire/app\""));
    free(a);
    free(b);

    /* Error bodies. */
    assert_int_equal(raw(m, TARGET("ListImages"), "{\"repositoryName\":\"nope\"}", &a), 400);
    assert_int_equal(raw(m, "ListImages", "{\"repositoryName\":\"nope\"}", &b), 400);
    assert_string_equal(a, b);
    assert_string_equal(a, "{\"__type\":\"RepositoryNotFoundException\",\"message\":\"The repository with name "
                           "'nope' does not exist in the registry with id '123456789012'\"}");
    free(a);
    free(b);
}

/* The same call made by the full target on one fresh instance and by the
 * bare name on another gives the same bytes, success included. */
static void test_call_raw_bare_name_on_fresh_instance_same_bytes(void **state)
{
    ecrmock *m = *state;
    ecrmock_options o = ECRMOCK_OPTIONS_INIT;
    o.min_part_size = 1024;
    ecrmock *m2 = ecrmock_new(&o);
    assert_non_null(m2);
    char *a, *b;
    assert_int_equal(raw(m, TARGET("CreateRepository"), "{\"repositoryName\":\"same\"}", &a), 200);
    assert_int_equal(raw(m2, "CreateRepository", "{\"repositoryName\":\"same\"}", &b), 200);
    assert_string_equal(a, b);
    free(a);
    free(b);
    assert_int_equal(raw(m, TARGET("InitiateLayerUpload"), "{\"repositoryName\":\"same\"}", &a), 200);
    assert_int_equal(raw(m2, "InitiateLayerUpload", "{\"repositoryName\":\"same\"}", &b), 200);
    assert_string_equal(a, b);
    free(a);
    free(b);
    ecrmock_free(m2);
}

static void assert_unknown_operation(ecrmock *m, const char *target, const char *body)
{
    char *out;
    size_t len = 0;
    int st = ecrmock_call_raw(m, target, body, body ? strlen(body) : 0, &out, &len);
    assert_int_equal(st, 400);
    assert_non_null(out);
    assert_string_equal(out, "{\"__type\":\"UnknownOperationException\"}");
    assert_int_equal(len, strlen("{\"__type\":\"UnknownOperationException\"}"));
    free(out);
}

static void test_call_raw_unknown_action(void **state)
{
    ecrmock *m = *state;
    const char *body = "{\"repositoryName\":\"ghost\"}";
    assert_unknown_operation(m, TARGET("LaunchRocket"), body);
    assert_unknown_operation(m, "LaunchRocket", body);
    assert_unknown_operation(m, TARGET(""), body);
    assert_unknown_operation(m, "", body);
    /* The operation is resolved before the body is read. */
    assert_unknown_operation(m, TARGET("LaunchRocket"), "{not json");
    /* Test controls are not ECR actions. */
    assert_unknown_operation(m, "ecrmock_clock_set", body);
    assert_unknown_operation(m, "ecrmock_put_layer", body);
    /* The prefix alone does not make a name: a target is prefix '.' name. */
    assert_unknown_operation(m, "AmazonEC2ContainerRegistry_V20150921", body);
    assert_unknown_operation(m, ECRMOCK_TARGET_PREFIX ECRMOCK_TARGET_PREFIX "CreateRepository", body);
    assert_int_equal(repo_count(m, NULL), 0);
}

static void test_call_raw_mixed_case_name_unknown(void **state)
{
    ecrmock *m = *state;
    const char *body = "{\"repositoryName\":\"ghost\"}";
    assert_unknown_operation(m, "createrepository", body);
    assert_unknown_operation(m, TARGET("createrepository"), body);
    assert_unknown_operation(m, "CREATEREPOSITORY", body);
    assert_unknown_operation(m, "createRepository", body);
    assert_unknown_operation(m, "putimage", "{}");
    assert_unknown_operation(m, TARGET("putimage"), "{}");
    /* The prefix is case-sensitive too. */
    assert_unknown_operation(m, "amazonec2containerregistry_v20150921.CreateRepository", body);
    /* Neither leading nor trailing blanks are trimmed. */
    assert_unknown_operation(m, "CreateRepository ", body);
    assert_unknown_operation(m, " " TARGET("CreateRepository"), body);
    assert_int_equal(repo_count(m, NULL), 0);
}

static void test_call_raw_other_service_prefix_unknown(void **state)
{
    ecrmock *m = *state;
    const char *body = "{\"repositoryName\":\"ghost\"}";
    assert_unknown_operation(m, "DynamoDB_20120810.CreateRepository", body);
    assert_unknown_operation(m, "AmazonEC2ContainerRegistry_V20150922.CreateRepository", body);
    assert_unknown_operation(m, "SpencerFrontendService.CreateRepository", body); /* ECR Public's */
    assert_unknown_operation(m, "com.amazonaws.ecr.CreateRepository", body);
    assert_int_equal(repo_count(m, NULL), 0);
}

/* ---- bodies ---------------------------------------------------------------------- */

static void test_call_raw_body_not_json(void **state)
{
    ecrmock *m = *state;
    /* jansson stops at the first character that cannot start a value. */
    expect_serialization(m, TARGET("CreateRepository"), "}", "The request body is not valid JSON (at character 1)");
    expect_serialization(m, "DescribeRepositories", "<xml/>", "The request body is not valid JSON (at character 1)");
    assert_int_equal(repo_count(m, NULL), 0);
}

static void test_call_raw_body_truncated_json(void **state)
{
    ecrmock *m = *state;
    char *out;
    /* Cut short: the error is at the end of the input. */
    const char *body = "{\"repositoryName\":\"cut\"";
    char want[128];
    snprintf(want, sizeof want, "The request body is not valid JSON (at character %zu)", strlen(body));
    expect_serialization(m, TARGET("CreateRepository"), body, want);

    /* body_len shorter than the text: only body_len bytes are the body. */
    const char *full = "{\"repositoryName\":\"cut\"}";
    size_t len = 0;
    int st = ecrmock_call_raw(m, TARGET("CreateRepository"), full, strlen(full) - 1, &out, &len);
    snprintf(want, sizeof want, "The request body is not valid JSON (at character %zu)", strlen(full) - 1);
    assert_serialization(st, out, want);
    free(out);
    assert_int_equal(repo_count(m, NULL), 0);

    /* body_len is honoured: the bytes after it are not read. */
    const char *longer = "{\"repositoryName\":\"cut\"}GARBAGE";
    st = ecrmock_call_raw(m, TARGET("CreateRepository"), longer, strlen(full), &out, &len);
    assert_int_equal(st, 200);
    assert_int_equal(len, strlen(out));
    free(out);
    assert_int_equal(repo_count(m, NULL), 1);
}

static void test_call_raw_body_top_level_not_object(void **state)
{
    ecrmock *m = *state;
    expect_serialization(m, TARGET("CreateRepository"), "[{\"repositoryName\":\"arr\"}]",
                         "Start of list found where not expected");
    expect_serialization(m, TARGET("CreateRepository"), "\"arr\"", "STRING_VALUE can not be converted to a Structure");
    expect_serialization(m, TARGET("DescribeRepositories"), "42", "NUMBER_VALUE can not be converted to a Structure");
    expect_serialization(m, TARGET("DescribeRepositories"), "true",
                         "BOOLEAN_VALUE can not be converted to a Structure");
    assert_int_equal(repo_count(m, NULL), 0);
}

static void test_call_raw_null_or_empty_body_is_empty_object(void **state)
{
    ecrmock *m = *state;
    char *out, *ref;
    size_t len;
    /* {} for CreateRepository: the required member is missing. */
    assert_int_equal(raw(m, TARGET("CreateRepository"), "{}", &ref), 400);
    assert_string_equal(ref, "{\"__type\":\"InvalidParameterException\",\"message\":\"Invalid parameter at "
                             "'repositoryName' failed to satisfy constraint: 'Member must not be null'\"}");
    assert_int_equal(raw(m, TARGET("CreateRepository"), NULL, &out), 400);
    assert_string_equal(out, ref);
    free(out);
    assert_int_equal(raw(m, TARGET("CreateRepository"), "", &out), 400);
    assert_string_equal(out, ref);
    free(out);
    /* A non-NULL body of length 0 is empty, whatever it points to. */
    assert_int_equal(ecrmock_call_raw(m, TARGET("CreateRepository"), "{garbage", 0, &out, &len), 400);
    assert_string_equal(out, ref);
    free(out);
    /* NULL with a length: NULL is empty. */
    assert_int_equal(ecrmock_call_raw(m, TARGET("CreateRepository"), NULL, 7, &out, &len), 400);
    assert_string_equal(out, ref);
    free(out);
    free(ref);

    /* {} for DescribeRepositories: an empty registry lists no repository. */
    assert_int_equal(raw(m, TARGET("DescribeRepositories"), NULL, &out), 200);
    assert_string_equal(out, "{\"repositories\":[]}");
    free(out);
    assert_int_equal(raw(m, TARGET("DescribeRepositories"), "", &out), 200);
    assert_string_equal(out, "{\"repositories\":[]}");
    free(out);
}

static void test_call_raw_integer_beyond_64_bits(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "big");
    const char *tmpl = "{\"repositoryName\":\"big\",\"uploadId\":\"00000000-0000-4000-8000-000000000000\","
                       "\"partFirstByte\":%s,\"partLastByte\":0,\"layerPartBlob\":\"AA==\"}";
    const char *numbers[] = {"18446744073709551616", /* 2^64 */
                             "9223372036854775808",  /* 2^63: one past a long */
                             "-9223372036854775809", /* one below */
                             "340282366920938463463374607431768211456"};
    for (size_t i = 0; i < sizeof numbers / sizeof numbers[0]; i++) {
        char body[512], want[128];
        snprintf(body, sizeof body, tmpl, numbers[i]);
        /* Reported where the number ends. */
        size_t at = (size_t)(strstr(body, numbers[i]) - body) + strlen(numbers[i]);
        snprintf(want, sizeof want, "Numeric value out of range of long (at character %zu)", at);
        expect_serialization(m, TARGET("UploadLayerPart"), body, want);
    }
    /* The largest long goes through deserialisation: the well-formed but
     * unknown upload id is what fails. */
    char body[512], *out;
    snprintf(body, sizeof body, tmpl, "9223372036854775807");
    assert_int_equal(raw(m, TARGET("UploadLayerPart"), body, &out), 400);
    json_t *doc = parse(out);
    assert_string_equal(err_type(doc), "UploadNotFoundException");
    json_decref(doc);
    free(out);
}

static void test_call_raw_string_where_long_expected(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "types");
    /* First the request's types, then its constraints: the bad uploadId is
     * not what is reported. */
    expect_serialization(m, TARGET("UploadLayerPart"),
                         "{\"repositoryName\":\"types\",\"uploadId\":\"bad\",\"partFirstByte\":\"0\","
                         "\"partLastByte\":0,\"layerPartBlob\":\"AA==\"}",
                         "STRING_VALUE can not be converted to a Long");
    expect_serialization(m, TARGET("UploadLayerPart"),
                         "{\"repositoryName\":\"types\",\"uploadId\":\"bad\",\"partFirstByte\":0,"
                         "\"partLastByte\":\"0\",\"layerPartBlob\":\"AA==\"}",
                         "STRING_VALUE can not be converted to a Long");
    /* maxResults is an Integer. */
    expect_serialization(m, TARGET("DescribeRepositories"), "{\"maxResults\":\"10\"}",
                         "STRING_VALUE can not be converted to an Integer");
    expect_serialization(m, TARGET("DescribeRepositories"), "{\"maxResults\":3000000000}",
                         "NUMBER_VALUE can not be converted to an Integer");
    /* A boolean member. */
    expect_serialization(m, TARGET("CreateRepository"),
                         "{\"repositoryName\":\"t2\",\"imageScanningConfiguration\":{\"scanOnPush\":\"yes\"}}",
                         "STRING_VALUE can not be converted to a Boolean");
    assert_int_equal(repo_count(m, NULL), 1);
}

static void test_call_raw_object_where_string_expected(void **state)
{
    ecrmock *m = *state;
    expect_serialization(m, TARGET("CreateRepository"), "{\"repositoryName\":{\"name\":\"obj\"}}",
                         "Start of structure or map found where not expected.");
    expect_serialization(m, TARGET("CreateRepository"), "{\"repositoryName\":[\"obj\"]}",
                         "Start of list found where not expected");
    /* A string where a structure is expected, nested. */
    expect_serialization(m, TARGET("CreateRepository"),
                         "{\"repositoryName\":\"obj\",\"encryptionConfiguration\":\"AES256\"}",
                         "STRING_VALUE can not be converted to a Structure");
    /* A string where a list is expected. */
    expect_serialization(m, TARGET("CreateRepository"), "{\"repositoryName\":\"obj\",\"tags\":\"x\"}",
                         "STRING_VALUE can not be converted to a List");
    assert_int_equal(repo_count(m, NULL), 0);
}

static void test_call_raw_number_where_string_expected(void **state)
{
    ecrmock *m = *state;
    expect_serialization(m, TARGET("CreateRepository"), "{\"repositoryName\":12}",
                         "NUMBER_VALUE can not be converted to a String");
    expect_serialization(m, TARGET("CreateRepository"), "{\"repositoryName\":1.5}",
                         "NUMBER_VALUE can not be converted to a String");
    expect_serialization(m, TARGET("CreateRepository"), "{\"repositoryName\":true}",
                         "BOOLEAN_VALUE can not be converted to a String");
    /* Inside a list of strings. */
    expect_serialization(m, TARGET("DescribeRepositories"), "{\"repositoryNames\":[\"ab\",7]}",
                         "NUMBER_VALUE can not be converted to a String");
    assert_int_equal(repo_count(m, NULL), 0);
}

/* ---- timestamps ---------------------------------------------------------------- */

static void test_call_raw_timestamps_are_epoch_seconds_numbers(void **state)
{
    ecrmock *m = *state;
    char *out;
    /* Milliseconds on the clock: the fraction is kept. */
    ecrmock_clock_set(m, INT64_C(1704067200123), NULL);
    assert_int_equal(raw(m, TARGET("CreateRepository"), "{\"repositoryName\":\"ts\"}", &out), 200);
    assert_non_null(strstr(out, "\"createdAt\":1.704067200123E9,"));
    assert_null(strstr(out, "\"createdAt\":\""));
    json_t *doc = parse(out);
    json_t *at = json_object_get(json_object_get(doc, "repository"), "createdAt");
    assert_true(json_is_number(at));
    assert_true(json_number_value(at) > 1704067200.1225 && json_number_value(at) < 1704067200.1235);
    json_decref(doc);
    free(out);

    /* Whole seconds: the number is the epoch second exactly. */
    ecrmock_clock_set(m, INT64_C(1719792000000), NULL); /* 2024-07-01T00:00:00Z */
    assert_int_equal(raw(m, TARGET("CreateRepository"), "{\"repositoryName\":\"ts2\"}", &out), 200);
    doc = parse(out);
    at = json_object_get(json_object_get(doc, "repository"), "createdAt");
    assert_true(json_is_number(at));
    assert_true(json_number_value(at) == 1719792000.0);
    json_decref(doc);
    free(out);

    /* expiresAt: 12 hours after the clock, as a number with its fraction. */
    ecrmock_clock_set(m, INT64_C(1704067200456), NULL);
    assert_int_equal(raw(m, TARGET("GetAuthorizationToken"), "{}", &out), 200);
    assert_non_null(strstr(out, "\"expiresAt\":1.704110400456E9,")); /* + 43200 s */
    free(out);

    /* imagePushedAt through DescribeImages. */
    ecrmock_clock_set(m, INT64_C(1704067201789), NULL);
    char *manifest = make_manifest(m, "ts", 1, 1);
    char *digest = put_image(m, "ts", manifest, "v1");
    assert_int_equal(raw(m, TARGET("DescribeImages"), "{\"repositoryName\":\"ts\"}", &out), 200);
    assert_non_null(strstr(out, "\"imagePushedAt\":1.704067201789E9,"));
    free(out);
    free(manifest);
    free(digest);
}

/* The text of `key`'s number in a response body: what follows "key": up
 * to the next ',' or '}' (a static buffer). */
static const char *number_text(const char *body, const char *key)
{
    static char text[64];
    char pattern[64];
    snprintf(pattern, sizeof pattern, "\"%s\":", key);
    const char *p = strstr(body, pattern);
    if (!p)
        fail_msg("no %s in %s", pattern, body);
    p += strlen(pattern);
    size_t n = strcspn(p, ",}");
    assert_true(n > 0 && n < sizeof text);
    memcpy(text, p, n);
    text[n] = '\0';
    return text;
}

/* createdAt of a repository created with the clock at `ms`, as written. */
static const char *created_at(ecrmock *m, int64_t ms, const char *name, char *out, size_t cap)
{
    char body[128], *resp;
    ecrmock_clock_set(m, ms, NULL);
    snprintf(body, sizeof body, "{\"repositoryName\":\"%s\"}", name);
    assert_int_equal(raw(m, TARGET("CreateRepository"), body, &resp), 200);
    snprintf(out, cap, "%s", number_text(resp, "createdAt"));
    free(resp);
    return out;
}

/* ECR writes epoch seconds as Java's Double.toString writes a double
 * (github.com/amzn/smoke-aws/pull/140: "imagePushedAt":1.688712875E9): the
 * fewest digits that read back, an exponent from 10^7 on (so for every date
 * since 1970-04-26), plain below.  Every clock value's form, exactly. */
static void test_call_raw_timestamps_in_javas_form(void **state)
{
    ecrmock *m = *state;
    static const struct {
        int64_t ms;
        const char *text;
    } cases[] = {
        {INT64_C(1688712875000), "1.688712875E9"},      /* ECR's own example */
        {INT64_C(1704067200000), "1.7040672E9"},        /* whole seconds, trailing zeros gone */
        {INT64_C(1704067200500), "1.7040672005E9"},     /* .5 */
        {INT64_C(1704067200123), "1.704067200123E9"},   /* milliseconds */
        {INT64_C(1704067200100), "1.7040672001E9"},     /* .100 is .1 */
        {INT64_C(1704067200001), "1.704067200001E9"},   /* .001 */
        {INT64_C(2000000000000), "2.0E9"},              /* one digit: ".0" added */
        {INT64_C(10000000000), "1.0E7"},                /* 10^7 s: the first with an exponent */
        {INT64_C(9999999999), "9999999.999"},           /* the last plain one */
        {INT64_C(1234567), "1234.567"},
        {INT64_C(1000), "1.0"},
        {INT64_C(1), "0.001"},                          /* 10^-3: still plain */
        {0, "0.0"},
        {INT64_C(253402300799999), "2.53402300799999E11"}, /* ECRMOCK_CLOCK_MAX_MS, the clock's end */
    };
    /* (The clock stays in 0..ECRMOCK_CLOCK_MAX_MS: negative times and int64's
     * ends never reach the wire; fuzz_json checks the encoder's other reals.) */
    char text[64], name[32];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(name, sizeof name, "ts-%zu", i);
        assert_string_equal(created_at(m, cases[i].ms, name, text, sizeof text), cases[i].text);
        /* still a JSON number, of the clock's value */
        char *end;
        assert_true(strtod(text, &end) == (double)cases[i].ms / 1000.0 && *end == '\0');
    }
}

/* What a C client that reads a timestamp as an integer sees: strtoll and
 * %ld stop at the '.', and get 1 for a date in 2024.  (With the old
 * "1704067200.0" they got the right second, and such a client passed here
 * and broke against ECR.) */
static void test_call_raw_timestamp_read_as_integer_breaks(void **state)
{
    ecrmock *m = *state;
    char text[64];
    created_at(m, INT64_C(1704067200000), "naive", text, sizeof text);
    char *end;
    long long secs = strtoll(text, &end, 10);
    assert_int_equal(secs, 1);
    assert_int_equal(*end, '.');
    long scanned = 0;
    assert_int_equal(sscanf(text, "%ld", &scanned), 1);
    assert_int_equal(scanned, 1);
    /* what reads it right: a double */
    assert_true(strtod(text, &end) == 1704067200.0 && *end == '\0');
}

/* Every path that writes a timestamp goes through the same writer: one of
 * each kind of response, with the clock on a millisecond. */
static void test_call_raw_timestamps_every_action_javas_form(void **state)
{
    ecrmock *m = *state;
    char *out, text[64];
    created_at(m, INT64_C(1704067200250), "every", text, sizeof text);
    assert_string_equal(text, "1.70406720025E9");
    char *manifest = make_manifest(m, "every", 1, 1);
    char *digest = put_image(m, "every", manifest, "v1");
    assert_int_equal(raw(m, TARGET("DescribeRepositories"), "{}", &out), 200);
    assert_string_equal(number_text(out, "createdAt"), "1.70406720025E9");
    free(out);
    assert_int_equal(raw(m, TARGET("DescribeImages"), "{\"repositoryName\":\"every\"}", &out), 200);
    assert_string_equal(number_text(out, "imagePushedAt"), "1.70406720025E9");
    free(out);
    assert_int_equal(raw(m, TARGET("GetAuthorizationToken"), "{}", &out), 200);
    assert_string_equal(number_text(out, "expiresAt"), "1.70411040025E9");
    free(out);
    assert_int_equal(raw(m, TARGET("CreateRepositoryCreationTemplate"),
                         "{\"prefix\":\"every\",\"appliedFor\":[\"REPLICATION\"]}", &out), 200);
    assert_string_equal(number_text(out, "createdAt"), "1.70406720025E9");
    assert_string_equal(number_text(out, "updatedAt"), "1.70406720025E9");
    free(out);
    free(manifest);
    free(digest);
}

/* GetAuthorizationToken's body, byte for byte where ECR's is fixed: a token
 * of ECR's 2,368 characters (README.md), standard base64 starting as every
 * ECR token does ("AWS:" and base64 of {"payload":), too long for a
 * 2,048-byte buffer as ECR's are; expiresAt in Java's form. */
static void test_call_raw_authorization_token_form(void **state)
{
    ecrmock *m = *state;
    char *out;
    assert_int_equal(raw(m, TARGET("GetAuthorizationToken"), "{}", &out), 200);
    static const char head[] = "{\"authorizationData\":[{\"authorizationToken\":\"";
    assert_true(strncmp(out, head, strlen(head)) == 0);
    const char *token = out + strlen(head);
    assert_true(strncmp(token, "QVdTOmV5SndZWGxzYjJGa0lq", 24) == 0);
    size_t n = strspn(token, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=");
    assert_int_equal(n, 2368);
    assert_string_equal(token + n, "\",\"expiresAt\":1.7041104E9,"
                                   "\"proxyEndpoint\":\"https://123456789012.dkr.ecr.us-east-1.amazonaws.com\"}]}");
    free(out);
}

/* ---- the response buffer and arguments ------------------------------------- */

static void test_call_raw_response_malloced_and_terminated(void **state)
{
    ecrmock *m = *state;
    char *out = NULL;
    size_t len = 0;
    assert_int_equal(ecrmock_call_raw(m, TARGET("CreateRepository"), "{\"repositoryName\":\"buf\"}", 24, &out, &len),
                     200);
    assert_non_null(out);
    assert_int_equal(len, strlen(out));
    /* Ours to grow and release with the C library. */
    char *grown = realloc(out, len + 64);
    assert_non_null(grown);
    assert_int_equal(grown[len], '\0');
    assert_int_equal(grown[0], '{');
    assert_int_equal(grown[len - 1], '}');
    free(grown);
    /* An error body too. */
    assert_int_equal(ecrmock_call_raw(m, "LaunchRocket", NULL, 0, &out, &len), 400);
    assert_int_equal(len, 38);
    assert_int_equal(out[38], '\0');
    free(out);
}

/* Awkward reals, and how Java's Double.toString (JDK 19 and later) writes
 * them: the fewest digits that read back, the closer of one or two digits
 * when one is enough (4.9E-324), plain from 10^-3 to below 10^7.  JDK 17
 * writes 1.0E23 as 9.999999999999999E22 and 9.9E-323 as 1.0E-322: ecrmock
 * writes the shortest. */
static const double probe_reals[] = {0.1, 1688712875.0, 1688712875.123, 1e17, 1e-5, -2.5e-300, 123456789012345678.0,
                                     0.1 + 0.2, 1e7, 9999999.0, 0.001, 9.99e-4, -0.0, 4.9e-324,
                                     1.7976931348623157e308, 1e23, 1e-322, 7.5, 100.0};
#define PROBE_REALS_TEXT                                                                                     \
    "0.1,1.688712875E9,1.688712875123E9,1.0E17,1.0E-5,-2.5E-300,1.2345678901234568E17,0.30000000000000004,"  \
    "1.0E7,9999999.0,0.001,9.99E-4,-0.0,4.9E-324,1.7976931348623157E308,1.0E23,9.9E-323,7.5,100.0"

/* The after-hook grafts awkward values onto the response, and keeps a copy
 * of what was serialised, for the byte comparison below. */
static void graft_hook(void *user, const char *action, json_t *request, int status, json_t *response)
{
    (void)action;
    (void)request;
    (void)status;
    json_t *probe = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "quote", "a\"b\\c/d", "controls",
                              "\x01\x07\b\f\n\r\t\x1f\x7f", "bmp", "caf\xc3\xa9 \xe2\x82\xac \xef\xbf\xbf", "astral",
                              "\xf0\x9f\x90\xb3\xf4\x8f\xbf\xbf", "empty", "", "esc\"key\n", "v", "k\xc3\xa9", "v",
                              "long", "0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz");
    json_object_set_new(probe, "ints", json_pack("[I, I, I, i]", (json_int_t)INT64_MIN, (json_int_t)INT64_MAX,
                                                 (json_int_t)-1, 0));
    json_t *reals = json_array();
    for (size_t i = 0; i < sizeof probe_reals / sizeof probe_reals[0]; i++)
        json_array_append_new(reals, json_real(probe_reals[i]));
    json_object_set_new(probe, "reals", reals);
    json_object_set_new(probe, "nested", json_pack("{s:[], s:{}, s:[{}, [], [n, b, b]], s:n}", "a", "b", "c",
                                                   1, 0, "d"));
    assert_int_equal(json_object_size(probe), 11);
    json_object_set_new(response, "probe", probe);
    *(json_t **)user = json_deep_copy(response);
}

/* `text` with what follows the first `after` up to the next `upto` character
 * replaced by `with` (malloc'd). */
static char *splice(const char *text, const char *after, char upto, const char *with)
{
    const char *a = strstr(text, after);
    assert_non_null(a);
    a += strlen(after);
    const char *b = strchr(a, upto);
    assert_non_null(b);
    size_t head = (size_t)(a - text), mid = strlen(with), tail = strlen(b);
    char *out = malloc(head + mid + tail + 1);
    assert_non_null(out);
    memcpy(out, text, head);
    memcpy(out + head, with, mid);
    memcpy(out + head + mid, b, tail + 1);
    return out;
}

/* The wire level's serialiser writes exactly what jansson's compact encoder
 * with 15 digits of real precision writes, but reals as ECR does: the
 * repository's createdAt and the probe's reals in Java's form. */
static void test_call_raw_bytes_are_janssons(void **state)
{
    ecrmock *m = *state;
    json_t *seen = NULL;
    ecrmock_hooks_set(m, NULL, graft_hook, &seen);
    char *out = NULL;
    assert_int_equal(raw(m, TARGET("CreateRepository"), "{\"repositoryName\":\"bytes\"}", &out), 200);
    assert_non_null(seen);
    char *janssons = json_dumps(seen, JSON_COMPACT | JSON_REAL_PRECISION(15));
    assert_non_null(strstr(janssons, "\"createdAt\":1704067200.0,"));
    char *step1 = splice(janssons, "\"createdAt\":", ',', "1.7040672E9");
    char *expect = splice(step1, "\"reals\":[", ']', PROBE_REALS_TEXT);
    assert_string_equal(out, expect);
    free(out);
    free(janssons);
    free(step1);
    free(expect);
    json_decref(seen);
    seen = NULL;
    /* an error document too */
    assert_int_equal(raw(m, TARGET("DescribeRepositories"), "{\"repositoryNames\":[\"nope\"]}", &out), 400);
    janssons = json_dumps(seen, JSON_COMPACT | JSON_REAL_PRECISION(15));
    expect = splice(janssons, "\"reals\":[", ']', PROBE_REALS_TEXT);
    assert_string_equal(out, expect);
    free(out);
    free(janssons);
    free(expect);
    json_decref(seen);
    ecrmock_hooks_set(m, NULL, NULL, NULL);
}

/* A string that is not UTF-8 (only json_stringn_nocheck makes one) fails
 * the call, as jansson's encoder does. */
static void bad_utf8_hook(void *user, const char *action, json_t *request, int status, json_t *response)
{
    (void)user;
    (void)action;
    (void)request;
    (void)status;
    json_object_set_new(response, "bad", json_stringn_nocheck("a\xc0\xaf", 3));
}

static void test_call_raw_invalid_utf8_in_response_fails(void **state)
{
    ecrmock *m = *state;
    ecrmock_hooks_set(m, NULL, bad_utf8_hook, NULL);
    char *out = (char *)"sentinel";
    size_t len = 9;
    assert_int_equal(ecrmock_call_raw(m, TARGET("CreateRepository"), "{\"repositoryName\":\"u\"}", 22, &out, &len), -1);
    assert_null(out);
    assert_int_equal(len, 0);
    ecrmock_hooks_set(m, NULL, NULL, NULL);
}

static void test_call_raw_null_arguments(void **state)
{
    ecrmock *m = *state;
    char *out = (char *)"sentinel";
    size_t len = 99;
    assert_int_equal(ecrmock_call_raw(NULL, "DescribeRepositories", "{}", 2, &out, &len), -1);
    assert_null(out);
    assert_int_equal(len, 0);
    out = (char *)"sentinel";
    len = 99;
    assert_int_equal(ecrmock_call_raw(m, NULL, "{}", 2, &out, &len), -1);
    assert_null(out);
    assert_int_equal(len, 0);
    assert_int_equal(ecrmock_call_raw(m, "DescribeRepositories", "{}", 2, NULL, &len), -1);
    len = 99;
    assert_int_equal(ecrmock_call_raw(m, "DescribeRepositories", "{}", 2, NULL, &len), -1);
    assert_int_equal(len, 0);
    out = (char *)"sentinel";
    assert_int_equal(ecrmock_call_raw(m, "DescribeRepositories", "{}", 2, &out, NULL), -1);
    assert_null(out);
    assert_int_equal(ecrmock_call_raw(m, "CreateRepository", "{\"repositoryName\":\"nul\"}", 24, NULL, NULL), -1);
    /* None of those ran. */
    assert_int_equal(repo_count(m, NULL), 0);
}

/* ---- determinism ----------------------------------------------------------------- */

#define MAX_STEPS 32

typedef struct transcript {
    char *body[MAX_STEPS];
    int status[MAX_STEPS];
    size_t n;
} transcript;

static char *step(ecrmock *m, transcript *t, const char *op, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static char *step(ecrmock *m, transcript *t, const char *op, const char *fmt, ...)
{
    static char body[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(body, sizeof body, fmt, ap);
    va_end(ap);
    char target[128];
    snprintf(target, sizeof target, "%s%s", ECRMOCK_TARGET_PREFIX, op);
    assert_true(t->n < MAX_STEPS);
    char *out;
    t->status[t->n] = raw(m, target, body, &out);
    if (t->status[t->n] != 200)
        fail_msg("%s failed: %s", op, out);
    t->body[t->n++] = out;
    return out;
}

static char *member(const char *body, const char *key)
{
    json_t *doc = parse(body);
    const char *v = json_string_value(json_object_get(doc, key));
    char *copy = v ? strdup(v) : NULL;
    json_decref(doc);
    return copy;
}

static void b64(const void *p, size_t n, char *out)
{
    EVP_EncodeBlock((unsigned char *)out, p, (int)n);
}

/* Uploads `len` bytes in parts of `part` bytes through the raw calls;
 * writes the digest. */
static void raw_upload(ecrmock *m, transcript *t, const unsigned char *bytes, size_t len, size_t part,
                       char *digest)
{
    char *upload_id = member(step(m, t, "InitiateLayerUpload", "{\"repositoryName\":\"det/app\"}"), "uploadId");
    assert_non_null(upload_id);
    for (size_t first = 0; first < len; first += part) {
        size_t n = len - first < part ? len - first : part;
        char enc[4096];
        assert_true(4 * ((n + 2) / 3) < sizeof enc);
        b64(bytes + first, n, enc);
        step(m, t, "UploadLayerPart",
             "{\"repositoryName\":\"det/app\",\"uploadId\":\"%s\",\"partFirstByte\":%zu,\"partLastByte\":%zu,"
             "\"layerPartBlob\":\"%s\"}",
             upload_id, first, first + n - 1, enc);
    }
    sha256_digest(bytes, len, digest);
    char *out = step(m, t, "CompleteLayerUpload",
                     "{\"repositoryName\":\"det/app\",\"uploadId\":\"%s\",\"layerDigests\":[\"%s\"]}", upload_id,
                     digest);
    char *got = member(out, "layerDigest");
    assert_string_equal(got, digest);
    free(got);
    free(upload_id);
}

/* One scripted session through the wire; every body goes to `t`. */
static void session(uint64_t seed, transcript *t)
{
    ecrmock_options o = ECRMOCK_OPTIONS_INIT;
    o.seed = seed;
    o.min_part_size = 1024;
    ecrmock *m = ecrmock_new(&o);
    assert_non_null(m);
    memset(t, 0, sizeof *t);

    step(m, t, "CreateRepository", "{\"repositoryName\":\"det/app\"}");
    ecrmock_clock_advance(m, 1500, NULL);

    unsigned char layer[2500];
    for (size_t i = 0; i < sizeof layer; i++)
        layer[i] = (unsigned char)(i * 7 + 3);
    char layer_digest[ECRMOCK_DIGEST_SIZE], config_digest[ECRMOCK_DIGEST_SIZE];
    raw_upload(m, t, layer, sizeof layer, 1024, layer_digest);
    const char *config = "{\"architecture\":\"amd64\",\"os\":\"linux\"}";
    raw_upload(m, t, (const unsigned char *)config, strlen(config), 1024, config_digest);
    ecrmock_clock_advance(m, 250, NULL);

    char manifest[1024];
    snprintf(manifest, sizeof manifest,
             "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\","
             "\"config\":{\"mediaType\":\"application/vnd.docker.container.image.v1+json\",\"size\":%zu,"
             "\"digest\":\"%s\"},\"layers\":[{\"mediaType\":\"application/vnd.docker.image.rootfs.diff.tar.gzip\","
             "\"size\":%zu,\"digest\":\"%s\"}]}",
             strlen(config), config_digest, sizeof layer, layer_digest);
    json_t *mf = json_string(manifest);
    char *quoted = json_dumps(mf, JSON_ENCODE_ANY);
    json_decref(mf);
    step(m, t, "PutImage", "{\"repositoryName\":\"det/app\",\"imageManifest\":%s,\"imageTag\":\"v1\"}", quoted);
    step(m, t, "PutImage", "{\"repositoryName\":\"det/app\",\"imageManifest\":%s,\"imageTag\":\"v2\"}", quoted);
    step(m, t, "PutImage", "{\"repositoryName\":\"det/app\",\"imageManifest\":%s,\"imageTag\":\"v3\"}", quoted);
    free(quoted);
    step(m, t, "GetAuthorizationToken", "{}");

    char *out = step(m, t, "ListImages", "{\"repositoryName\":\"det/app\",\"maxResults\":1}");
    size_t pages = 1;
    for (char *token = member(out, "nextToken"); token; pages++) {
        out = step(m, t, "ListImages", "{\"repositoryName\":\"det/app\",\"maxResults\":1,\"nextToken\":\"%s\"}",
                   token);
        free(token);
        token = member(out, "nextToken");
    }
    assert_int_equal(pages, 3); /* one image, three tags, one per page */
    step(m, t, "DescribeImages", "{\"repositoryName\":\"det/app\"}");
    step(m, t, "DescribeRepositories", "{}");
    ecrmock_free(m);
}

static void transcript_free(transcript *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->body[i]);
}

static void test_call_raw_same_seed_same_bytes(void **state)
{
    (void)state;
    transcript a, b;
    session(42, &a);
    session(42, &b);
    assert_int_equal(a.n, b.n);
    for (size_t i = 0; i < a.n; i++) {
        assert_int_equal(a.status[i], b.status[i]);
        assert_string_equal(a.body[i], b.body[i]);
    }
    transcript_free(&a);
    transcript_free(&b);
}

static void test_call_raw_other_seed_other_upload_ids(void **state)
{
    (void)state;
    transcript a, b;
    session(42, &a);
    session(43, &b);
    assert_int_equal(a.n, b.n);
    size_t uploads = 0, tokens = 0;
    for (size_t i = 0; i < a.n; i++) {
        char *ida = member(a.body[i], "uploadId"), *idb = member(b.body[i], "uploadId");
        if (ida && strstr(a.body[i], "\"partSize\"")) { /* InitiateLayerUpload */
            uploads++;
            assert_non_null(idb);
            assert_string_not_equal(ida, idb);
        }
        free(ida);
        free(idb);
        if (strstr(a.body[i], "\"authorizationToken\"")) {
            tokens++;
            assert_string_not_equal(a.body[i], b.body[i]);
        }
    }
    assert_int_equal(uploads, 2);
    assert_int_equal(tokens, 1);
    /* What the seed does not drive stays the same: the repository. */
    assert_string_equal(a.body[0], b.body[0]);
    transcript_free(&a);
    transcript_free(&b);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup_mock, teardown_mock)
    const struct CMUnitTest tests[] = {
        T(test_call_raw_full_target_and_bare_name_same_bytes),
        T(test_call_raw_bare_name_on_fresh_instance_same_bytes),
        T(test_call_raw_unknown_action),
        T(test_call_raw_mixed_case_name_unknown),
        T(test_call_raw_other_service_prefix_unknown),
        T(test_call_raw_body_not_json),
        T(test_call_raw_body_truncated_json),
        T(test_call_raw_body_top_level_not_object),
        T(test_call_raw_null_or_empty_body_is_empty_object),
        T(test_call_raw_integer_beyond_64_bits),
        T(test_call_raw_string_where_long_expected),
        T(test_call_raw_object_where_string_expected),
        T(test_call_raw_number_where_string_expected),
        T(test_call_raw_timestamps_are_epoch_seconds_numbers),
        T(test_call_raw_timestamps_in_javas_form),
        T(test_call_raw_timestamp_read_as_integer_breaks),
        T(test_call_raw_timestamps_every_action_javas_form),
        T(test_call_raw_authorization_token_form),
        T(test_call_raw_response_malloced_and_terminated),
        T(test_call_raw_null_arguments),
        T(test_call_raw_bytes_are_janssons),
        T(test_call_raw_invalid_utf8_in_response_fails),
        T(test_call_raw_same_seed_same_bytes),
        T(test_call_raw_other_seed_other_upload_ids),
    };
#undef T
    return cmocka_run_group_tests_name("wire", tests, NULL, NULL);
}
