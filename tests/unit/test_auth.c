/*
 * GetAuthorizationToken: the token's layers (base64 of "AWS:" and a password
 * that is itself base64 of ECR's JSON envelope), its 12-hour life on the
 * virtual clock, the proxy endpoint, registryIds, the seed making it
 * reproducible, and its size: ECR's by default, or token_length.
 */
#include <openssl/evp.h>

#include "helpers.h"

#define TWELVE_HOURS_MS (INT64_C(12) * 3600 * 1000)

/* Decodes standard padded base64 strictly (alphabet, length, padding);
 * fails the test otherwise.  Returns a malloc'd NUL-terminated buffer. */
static char *unbase64(const char *s, size_t *len_out)
{
    size_t n = strlen(s);
    if (n == 0 || n % 4 != 0)
        fail_msg("not padded base64 (length %zu): %s", n, s);
    size_t pad = s[n - 1] == '=' ? (s[n - 2] == '=' ? 2 : 1) : 0;
    for (size_t i = 0; i < n - pad; i++)
        if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", s[i]))
            fail_msg("not standard base64 (character %zu): %s", i, s);
    unsigned char *out = malloc(n / 4 * 3 + 1);
    assert_non_null(out);
    int got = EVP_DecodeBlock(out, (const unsigned char *)s, (int)n);
    assert_true(got >= 0);
    size_t len = (size_t)got - pad;
    out[len] = '\0';
    if (len_out)
        *len_out = len;
    return (char *)out;
}

static json_t *get_token(ecrmock *m, const char *fmt)
{
    json_t *r = NULL;
    assert_ok(call(m, &r, "GetAuthorizationToken", "%s", fmt), r);
    return r;
}

static json_t *entry(json_t *r, size_t i)
{
    return json_array_get(json_object_get(r, "authorizationData"), i);
}

/* Checks one authorizationData entry: its members, the token's layers, the
 * envelope, expiry at `now_ms` + 12 h, the proxy endpoint.  Returns the decoded envelope (new reference). */
static json_t *check_entry(json_t *e, int64_t now_ms, const char *endpoint)
{
    assert_true(json_is_object(e));
    assert_int_equal(json_object_size(e), 3);
    assert_string_equal(json_string_value(json_object_get(e, "proxyEndpoint")), endpoint);

    json_t *exp = json_object_get(e, "expiresAt");
    assert_true(json_is_real(exp));
    int64_t expires_ms = now_ms + TWELVE_HOURS_MS;
    assert_true(json_real_value(exp) == (double)expires_ms / 1000.0);

    const char *token = json_string_value(json_object_get(e, "authorizationToken"));
    assert_non_null(token);
    size_t n = 0;
    char *userpass = unbase64(token, &n);
    assert_int_equal(strlen(userpass), n);
    assert_true(strncmp(userpass, "AWS:", 4) == 0);
    char *envelope = unbase64(userpass + 4, &n);
    json_error_t err;
    json_t *env = json_loads(envelope, 0, &err);
    if (!env)
        fail_msg("password is not JSON: %s", envelope);
    assert_true(json_is_object(env));

    /* ECR's key order: payload, datakey, version, type, expiration. */
    static const char *const keys[] = {"payload", "datakey", "version", "type", "expiration"};
    assert_int_equal(json_object_size(env), 5);
    size_t k = 0;
    const char *key;
    json_t *v;
    json_object_foreach(env, key, v) assert_string_equal(key, keys[k++]);
    assert_string_equal(json_string_value(json_object_get(env, "version")), "2");
    assert_string_equal(json_string_value(json_object_get(env, "type")), "DATA_KEY");
    /* The envelope's expiration is whole epoch seconds of the same instant. */
    json_t *expiration = json_object_get(env, "expiration");
    assert_true(json_is_integer(expiration));
    assert_int_equal(json_integer_value(expiration), expires_ms / 1000);
    /* payload and datakey are base64 of something. */
    for (int i = 0; i < 2; i++) {
        size_t blen = 0;
        free(unbase64(json_string_value(json_object_get(env, keys[i])), &blen));
        assert_true(blen > 0);
    }
    free(envelope);
    free(userpass);
    return env;
}

static void test_get_authorization_token_default(void **state)
{
    ecrmock *m = *state;
    json_t *r = get_token(m, "{}");
    assert_int_equal(json_object_size(r), 1);
    assert_int_equal(json_array_size(json_object_get(r, "authorizationData")), 1);
    json_t *env = check_entry(entry(r, 0), ECRMOCK_DEFAULT_CLOCK_MS,
                              "https://123456789012.dkr.ecr.us-east-1.amazonaws.com");
    /* 2024-01-01T00:00:00Z + 12 h, computed by hand. */
    assert_int_equal(json_integer_value(json_object_get(env, "expiration")), INT64_C(1704067200) + 43200);
    assert_true(json_real_value(json_object_get(entry(r, 0), "expiresAt")) == 1704110400.0);
    json_decref(env);
    json_decref(r);
}

/* One entry per id, each with its own endpoint (no repository needed). */
static void test_get_authorization_token_registry_ids(void **state)
{
    ecrmock *m = *state;
    json_t *r = get_token(m, "{\"registryIds\": [\"111111111111\", \"222222222222\"]}");
    assert_int_equal(json_array_size(json_object_get(r, "authorizationData")), 2);
    json_decref(check_entry(entry(r, 0), ECRMOCK_DEFAULT_CLOCK_MS,
                            "https://111111111111.dkr.ecr.us-east-1.amazonaws.com"));
    json_decref(check_entry(entry(r, 1), ECRMOCK_DEFAULT_CLOCK_MS,
                            "https://222222222222.dkr.ecr.us-east-1.amazonaws.com"));
    json_decref(r);

    /* Ten is the most. */
    char ids[512] = "{\"registryIds\": [";
    for (int i = 0; i < 10; i++)
        snprintf(ids + strlen(ids), sizeof ids - strlen(ids), "%s\"%012d\"", i ? ", " : "", i);
    strcat(ids, "]}");
    r = get_token(m, ids);
    assert_int_equal(json_array_size(json_object_get(r, "authorizationData")), 10);
    assert_string_equal(json_string_value(json_object_get(entry(r, 9), "proxyEndpoint")),
                        "https://000000000009.dkr.ecr.us-east-1.amazonaws.com");
    json_decref(r);
}

static void test_get_authorization_token_too_many_registry_ids(void **state)
{
    ecrmock *m = *state;
    char ids[512] = "{\"registryIds\": [";
    for (int i = 0; i < 11; i++)
        snprintf(ids + strlen(ids), sizeof ids - strlen(ids), "%s\"%012d\"", i ? ", " : "", i);
    strcat(ids, "]}");
    json_t *r = NULL;
    int st = call(m, &r, "GetAuthorizationToken", "%s", ids);
    assert_fail_msg(st, &r, "InvalidParameterException",
                    "Invalid parameter at 'registryIds' failed to satisfy constraint: 'Member "
                    "must have length less than or equal to 10'");

    st = call(m, &r, "GetAuthorizationToken", "{\"registryIds\": []}");
    assert_fail_msg(st, &r, "InvalidParameterException",
                    "Invalid parameter at 'registryIds' failed to satisfy constraint: 'Member "
                    "must have length greater than or equal to 1'");
}

static void test_get_authorization_token_bad_registry_id(void **state)
{
    ecrmock *m = *state;
    static const char *const bad[] = {"12345", "1234567890123", "abcdefghijkl", "12345678901a", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *r = NULL;
        int st = call(m, &r, "GetAuthorizationToken", "{\"registryIds\": [\"123456789012\", \"%s\"]}", bad[i]);
        assert_fail_msg(st, &r, "InvalidParameterException",
                        "Invalid parameter at 'registryIds' failed to satisfy constraint: "
                        "'Member must satisfy constraint: [Member must satisfy regular "
                        "expression pattern: [0-9]{12}]'");
    }
}

static char *token_of(ecrmock *m)
{
    json_t *r = get_token(m, "{}");
    char *t = strdup(json_string_value(json_object_get(entry(r, 0), "authorizationToken")));
    json_decref(r);
    return t;
}

static ecrmock *with_token_length(uint64_t length, uint64_t seed)
{
    ecrmock_options o = ECRMOCK_OPTIONS_INIT;
    o.token_length = length;
    o.seed = seed;
    ecrmock *m = ecrmock_new(&o);
    assert_non_null(m);
    return m;
}

static ecrmock *with_seed(uint64_t seed)
{
    return with_token_length(0, seed);
}

static void test_get_authorization_token_seeded(void **state)
{
    (void)state;
    ecrmock *a = with_seed(7), *b = with_seed(7), *c = with_seed(8);
    char *ta = token_of(a), *tb = token_of(b), *tc = token_of(c);
    assert_string_equal(ta, tb);
    assert_string_not_equal(ta, tc);
    /* Each call is a new token, and the sequence repeats with the seed. */
    char *ta2 = token_of(a), *tb2 = token_of(b);
    assert_string_not_equal(ta, ta2);
    assert_string_equal(ta2, tb2);
    /* ecrmock_reset starts the sequence over. */
    ecrmock_reset(a);
    char *ta3 = token_of(a);
    assert_string_equal(ta3, ta);
    free(ta);
    free(tb);
    free(tc);
    free(ta2);
    free(tb2);
    free(ta3);
    ecrmock_free(a);
    ecrmock_free(b);
    ecrmock_free(c);
}

static void test_get_authorization_token_follows_clock(void **state)
{
    ecrmock *m = *state;
    ecrmock_clock_advance(m, INT64_C(3600) * 1000, NULL);
    json_t *r = get_token(m, "{}");
    json_decref(check_entry(entry(r, 0), ECRMOCK_DEFAULT_CLOCK_MS + 3600 * 1000,
                            "https://123456789012.dkr.ecr.us-east-1.amazonaws.com"));
    json_decref(r);

    /* expiresAt carries milliseconds ("seconds and milliseconds", says the API
     * reference); the envelope's expiration is whole seconds. */
    int64_t now = INT64_C(1750000000123);
    ecrmock_clock_set(m, now, NULL);
    r = get_token(m, "{}");
    json_t *env = check_entry(entry(r, 0), now, "https://123456789012.dkr.ecr.us-east-1.amazonaws.com");
    assert_true(json_real_value(json_object_get(entry(r, 0), "expiresAt")) == 1750043200.123);
    assert_int_equal(json_integer_value(json_object_get(env, "expiration")), INT64_C(1750043200));
    json_decref(env);
    json_decref(r);
}

/* At the clock's last millisecond the token expires 12 hours later, and a
 * clock near INT64_MAX (whose expiry overflowed) cannot be set. */
static void test_get_authorization_token_at_the_end_of_time(void **state)
{
    ecrmock *m = *state;
    assert_int_equal(ecrmock_clock_set(m, INT64_MAX - 1000, NULL), -1);
    assert_int_equal(ecrmock_clock_advance(m, INT64_MAX - ECRMOCK_DEFAULT_CLOCK_MS, NULL), -1);
    json_t *r = get_token(m, "{}");
    json_decref(check_entry(entry(r, 0), ECRMOCK_DEFAULT_CLOCK_MS, "https://123456789012.dkr.ecr.us-east-1.amazonaws.com"));
    json_decref(r);
    assert_int_equal(ecrmock_clock_set(m, ECRMOCK_CLOCK_MAX_MS, NULL), 0);
    r = get_token(m, "{}");
    json_t *env = check_entry(entry(r, 0), ECRMOCK_CLOCK_MAX_MS, "https://123456789012.dkr.ecr.us-east-1.amazonaws.com");
    assert_true(json_real_value(json_object_get(entry(r, 0), "expiresAt")) == 253402344000.0 - 0.001);
    assert_int_equal(json_integer_value(json_object_get(env, "expiration")), INT64_C(253402343999));
    json_decref(env);
    json_decref(r);
}

static void test_get_authorization_token_region_option(void **state)
{
    (void)state;
    static const char *const cases[][3] = {
        {"eu-central-1", "000011112222", "https://000011112222.dkr.ecr.eu-central-1.amazonaws.com"},
        {"cn-north-1", "000011112222", "https://000011112222.dkr.ecr.cn-north-1.amazonaws.com.cn"},
    };
    for (int i = 0; i < 2; i++) {
        ecrmock_options o = ECRMOCK_OPTIONS_INIT;
        o.region = cases[i][0];
        o.account_id = cases[i][1];
        ecrmock *m = ecrmock_new(&o);
        assert_non_null(m);
        json_t *r = get_token(m, "{}");
        json_decref(check_entry(entry(r, 0), ECRMOCK_DEFAULT_CLOCK_MS, cases[i][2]));
        json_decref(r);
        ecrmock_free(m);
    }
}

/* The token of `r`'s first entry, and its password's length. */
static size_t token_len(json_t *r, size_t *password_len)
{
    const char *token = json_string_value(json_object_get(entry(r, 0), "authorizationToken"));
    assert_non_null(token);
    size_t n = 0;
    char *userpass = unbase64(token, &n);
    *password_len = n - 4;
    free(userpass);
    return strlen(token);
}

/* ECR's size by default: a 2,368-character token (one ECR gave an IAM user,
 * github.com/aws/aws-sdk-js-v3/issues/6580), whose password (what
 * `aws ecr get-login-password` prints) is 1,772; ecrmock's were 392 and 292,
 * which let a client with a 2,048-byte buffer pass. */
static void test_get_authorization_token_ecr_size(void **state)
{
    ecrmock *m = *state;
    json_t *r = get_token(m, "{}");
    json_decref(check_entry(entry(r, 0), ECRMOCK_DEFAULT_CLOCK_MS,
                            "https://123456789012.dkr.ecr.us-east-1.amazonaws.com"));
    size_t password = 0;
    assert_int_equal(token_len(r, &password), 2368);
    assert_int_equal(password, 1772);
    json_decref(r);

    /* An expiration of another number of digits: the payload makes up for it. */
    static const int64_t clocks[] = {0, INT64_C(1), INT64_C(99999999999999), INT64_C(253402300799999)};
    for (size_t i = 0; i < sizeof clocks / sizeof clocks[0]; i++) {
        ecrmock_clock_set(m, clocks[i], NULL);
        r = get_token(m, "{}");
        json_decref(check_entry(entry(r, 0), clocks[i], "https://123456789012.dkr.ecr.us-east-1.amazonaws.com"));
        size_t len = token_len(r, &password);
        assert_true(len >= 2368 && len <= 2368 + 11);
        json_decref(r);
    }
}

/* token_length: the token has that many characters, or the next length its
 * base64 layers allow (at most 11 more); every size decodes the same way. */
static void test_get_authorization_token_length_option(void **state)
{
    (void)state;
    /* 4,256: a 3,188-character password, as ECR gives for role session
     * credentials (github.com/aws/aws-cli/issues/5636) */
    static const uint64_t exact[] = {512, 2368, 4256, 65536};
    for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++) {
        ecrmock *m = with_token_length(exact[i], 0);
        json_t *r = get_token(m, "{}");
        json_decref(check_entry(entry(r, 0), ECRMOCK_DEFAULT_CLOCK_MS,
                                "https://123456789012.dkr.ecr.us-east-1.amazonaws.com"));
        size_t password = 0;
        assert_int_equal(token_len(r, &password), exact[i]);
        json_decref(r);
        ecrmock_free(m);
    }
    size_t hit = 0;
    for (uint64_t want = 512; want <= 5000; want += 13) {
        ecrmock *m = with_token_length(want, want);
        json_t *r = get_token(m, "{}");
        json_decref(check_entry(entry(r, 0), ECRMOCK_DEFAULT_CLOCK_MS,
                                "https://123456789012.dkr.ecr.us-east-1.amazonaws.com"));
        size_t password = 0, len = token_len(r, &password);
        if (len < want || len > want + 11)
            fail_msg("token_length %llu gave %zu characters", (unsigned long long)want, len);
        hit += len == want;
        json_decref(r);
        ecrmock_free(m);
    }
    assert_true(hit > 0);
}

/* The size does not change what the seed gives next: a token takes the
 * same draws of the generator whatever its length. */
static void test_get_authorization_token_length_keeps_other_ids(void **state)
{
    (void)state;
    ecrmock *a = with_token_length(0, 5), *b = with_token_length(8000, 5);
    char *ta = token_of(a), *tb = token_of(b);
    assert_int_equal(strlen(ta), 2368);
    assert_int_equal(strlen(tb), 8000);
    json_t *ra = NULL, *rb = NULL;
    create_repo(a, "ids");
    create_repo(b, "ids");
    assert_ok(call(a, &ra, "InitiateLayerUpload", "{\"repositoryName\": \"ids\"}"), ra);
    assert_ok(call(b, &rb, "InitiateLayerUpload", "{\"repositoryName\": \"ids\"}"), rb);
    assert_string_equal(jstr(ra, "uploadId"), jstr(rb, "uploadId"));
    json_decref(ra);
    json_decref(rb);
    free(ta);
    free(tb);
    ecrmock_free(a);
    ecrmock_free(b);
}

static void test_get_authorization_token_length_out_of_range(void **state)
{
    (void)state;
    static const char msg[] = "ecrmock_options.token_length must be 512 to 65536 characters (0 means ECR's 2368)";
    static const uint64_t bad[] = {1, 392, 511, 65537, UINT64_MAX};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ecrmock_options o = ECRMOCK_OPTIONS_INIT;
        o.token_length = bad[i];
        ecrmock_err e;
        assert_int_equal(ecrmock_options_check(&o, &e), -1);
        assert_string_equal(e.text, msg);
        assert_null(ecrmock_new(&o));
    }
    static const uint64_t good[] = {0, 512, 65536};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        ecrmock_options o = ECRMOCK_OPTIONS_INIT;
        o.token_length = good[i];
        assert_int_equal(ecrmock_options_check(&o, NULL), 0);
    }
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup_mock, teardown_mock)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_get_authorization_token_default),
        T(test_get_authorization_token_registry_ids),
        T(test_get_authorization_token_too_many_registry_ids),
        T(test_get_authorization_token_bad_registry_id),
        T(test_get_authorization_token_seeded),
        T(test_get_authorization_token_follows_clock),
        T(test_get_authorization_token_at_the_end_of_time),
        T(test_get_authorization_token_region_option),
        T(test_get_authorization_token_ecr_size),
        T(test_get_authorization_token_length_option),
        T(test_get_authorization_token_length_keeps_other_ids),
        T(test_get_authorization_token_length_out_of_range),
    };
    return cmocka_run_group_tests_name("auth", tests, NULL, NULL);
}
