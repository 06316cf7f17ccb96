/*
 * RegisterPullTimeUpdateExclusion, DeregisterPullTimeUpdateExclusion,
 * ListPullTimeUpdateExclusions and ecrmock_principal_set(): the list kept
 * in registration order and paged, its errors and limit, and pulls by an
 * excluded principal leaving lastRecordedPullTime alone.
 */
#include "helpers.h"

#define ACCOUNT "123456789012"
#define CI "arn:aws:iam::123456789012:role/ci"
#define SCANNER "arn:aws:iam::123456789012:user/scanner"

static int reg(ecrmock *m, json_t **r, const char *action, const char *arn)
{
    return call(m, r, action, "{\"principalArn\": \"%s\"}", arn);
}

static void register_ok(ecrmock *m, const char *arn)
{
    json_t *r = NULL;
    assert_ok(reg(m, &r, "RegisterPullTimeUpdateExclusion", arn), r);
    json_decref(r);
}

/* The listed principals, comma-joined (one call, no paging). */
static void listed(ecrmock *m, char *out, size_t cap)
{
    json_t *r = NULL;
    assert_ok(call(m, &r, "ListPullTimeUpdateExclusions", "{}"), r);
    assert_null(json_object_get(r, "nextToken"));
    out[0] = '\0';
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(r, "pullTimeUpdateExclusions"), i, p)
        snprintf(out + strlen(out), cap - strlen(out), "%s%s", i ? "," : "", json_string_value(p));
    json_decref(r);
}

static void test_register_pull_time_update_exclusion(void **state)
{
    ecrmock *m = *state;
    char out[1024];
    listed(m, out, sizeof out);
    assert_string_equal(out, "");
    ecrmock_clock_advance(m, 1500, NULL);
    json_t *r = NULL;
    assert_ok(reg(m, &r, "RegisterPullTimeUpdateExclusion", SCANNER), r);
    assert_int_equal(json_object_size(r), 2);
    assert_string_equal(STR(r, "principalArn"), SCANNER);
    assert_true(json_number_value(json_object_get(r, "createdAt")) == (double)ecrmock_clock_now(m) / 1000.0);
    json_decref(r);
    register_ok(m, CI);
    listed(m, out, sizeof out);
    assert_string_equal(out, SCANNER "," CI);
}

static void test_register_pull_time_update_exclusion_already_exists(void **state)
{
    ecrmock *m = *state;
    register_ok(m, CI);
    json_t *r = NULL;
    int st = reg(m, &r, "RegisterPullTimeUpdateExclusion", CI);
    assert_fail_msg(st, &r, "ExclusionAlreadyExistsException",
                    "The principal '" CI "' is already excluded from pull time updates in the "
                    "registry with id '" ACCOUNT "'");
    char out[256];
    listed(m, out, sizeof out);
    assert_string_equal(out, CI);
}

static void test_register_pull_time_update_exclusion_limit(void **state)
{
    ecrmock *m = *state;
    char arn[128];
    for (int i = 0; i < 100; i++) {
        snprintf(arn, sizeof arn, "arn:aws:iam::123456789012:role/r%03d", i);
        register_ok(m, arn);
    }
    json_t *r = NULL;
    int st = reg(m, &r, "RegisterPullTimeUpdateExclusion", CI);
    assert_fail_msg(st, &r, "LimitExceededException",
                    "The registry with id '" ACCOUNT "' already has the maximum allowed number of "
                    "pull time update exclusions which is '100'");
    /* One out, one in. */
    assert_ok(reg(m, &r, "DeregisterPullTimeUpdateExclusion", "arn:aws:iam::123456789012:role/r050"), r);
    json_decref(r);
    register_ok(m, CI);
}

static void test_register_pull_time_update_exclusion_invalid_arn(void **state)
{
    ecrmock *m = *state;
    json_t *r = NULL;
    assert_error(reg(m, &r, "RegisterPullTimeUpdateExclusion", "arn:aws:iam::123456789012:group/devs"), r, 400,
                 "InvalidParameterException");
    assert_error(reg(m, &r, "RegisterPullTimeUpdateExclusion", "ci"), r, 400, "InvalidParameterException");
    assert_error(call(m, &r, "RegisterPullTimeUpdateExclusion", "{}"), r, 400, "InvalidParameterException");
    char out[64];
    listed(m, out, sizeof out);
    assert_string_equal(out, "");
}

static void test_deregister_pull_time_update_exclusion(void **state)
{
    ecrmock *m = *state;
    register_ok(m, CI);
    register_ok(m, SCANNER);
    json_t *r = NULL;
    assert_ok(reg(m, &r, "DeregisterPullTimeUpdateExclusion", CI), r);
    assert_int_equal(json_object_size(r), 1);
    assert_string_equal(STR(r, "principalArn"), CI);
    json_decref(r);
    char out[256];
    listed(m, out, sizeof out);
    assert_string_equal(out, SCANNER);
    int st = reg(m, &r, "DeregisterPullTimeUpdateExclusion", CI);
    assert_fail_msg(st, &r, "ExclusionNotFoundException",
                    "The principal '" CI "' is not excluded from pull time updates in the "
                    "registry with id '" ACCOUNT "'");
    listed(m, out, sizeof out);
    assert_string_equal(out, SCANNER);
}

static void test_list_pull_time_update_exclusions_paging(void **state)
{
    ecrmock *m = *state;
    char arn[128];
    for (int i = 0; i < 12; i++) {
        snprintf(arn, sizeof arn, "arn:aws:iam::123456789012:user/u%02d", i);
        register_ok(m, arn);
    }
    json_t *r = NULL;
    char *token = NULL;
    int seen = 0, pages = 0;
    do {
        if (token)
            assert_ok(call(m, &r, "ListPullTimeUpdateExclusions", "{\"maxResults\": 5, \"nextToken\": \"%s\"}", token),
                      r);
        else
            assert_ok(call(m, &r, "ListPullTimeUpdateExclusions", "{\"maxResults\": 5}"), r);
        free(token);
        token = NULL;
        size_t i;
        json_t *p;
        json_array_foreach(json_object_get(r, "pullTimeUpdateExclusions"), i, p) {
            if (seen == 6)
                seen++; /* u06 was removed after the first page */
            snprintf(arn, sizeof arn, "arn:aws:iam::123456789012:user/u%02d", seen++);
            assert_string_equal(json_string_value(p), arn);
        }
        if (json_object_get(r, "nextToken"))
            token = strdup(STR(r, "nextToken"));
        json_decref(r);
        if (pages++ == 0) {
            assert_ok(reg(m, &r, "DeregisterPullTimeUpdateExclusion", "arn:aws:iam::123456789012:user/u06"), r);
            json_decref(r);
        }
    } while (token);
    assert_int_equal(seen, 12);
    assert_int_equal(pages, 3);
    int st = call(m, &r, "ListPullTimeUpdateExclusions", "{\"nextToken\": \"bm90IGEgdG9rZW4=\"}");
    assert_fail_msg(st, &r, "InvalidParameterException",
                    "Invalid parameter at 'NextToken' failed to satisfy constraint: 'Invalid next token provided'");
    assert_error(call(m, &r, "ListPullTimeUpdateExclusions", "{\"maxResults\": 1001}"), r, 400,
                 "InvalidParameterException");
}

/* The lastRecordedPullTime of `digest` in seconds, or -1 when there is none. */
static double pull_time(ecrmock *m, const char *digest)
{
    json_t *r = NULL;
    assert_ok(call(m, &r, "DescribeImages", "{\"repositoryName\": \"app\", \"imageIds\": [{\"imageDigest\": \"%s\"}]}",
                   digest),
              r);
    json_t *t = json_object_get(json_array_get(json_object_get(r, "imageDetails"), 0), "lastRecordedPullTime");
    double v = t ? json_number_value(t) : -1;
    json_decref(r);
    return v;
}

static void pull(ecrmock *m)
{
    json_t *r = NULL;
    assert_ok(call(m, &r, "BatchGetImage", "{\"repositoryName\": \"app\", \"imageIds\": [{\"imageTag\": \"v1\"}]}"), r);
    assert_int_equal(json_array_size(json_object_get(r, "images")), 1);
    json_decref(r);
}

static void test_excluded_principal_pull_not_recorded(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "app");
    char *d = push_new_image(m, "app", 1, 1, "v1");
    register_ok(m, CI);

    /* No principal set: recorded. */
    ecrmock_clock_advance(m, 1000, NULL);
    pull(m);
    double first = (double)ecrmock_clock_now(m) / 1000.0;
    assert_true(pull_time(m, d) == first);

    /* The excluded principal: not recorded. */
    assert_int_equal(ecrmock_principal_set(m, CI, NULL), 0);
    ecrmock_clock_advance(m, 1000, NULL);
    pull(m);
    assert_true(pull_time(m, d) == first);

    /* Another principal: recorded. */
    assert_int_equal(ecrmock_principal_set(m, SCANNER, NULL), 0);
    ecrmock_clock_advance(m, 1000, NULL);
    pull(m);
    double third = (double)ecrmock_clock_now(m) / 1000.0;
    assert_true(pull_time(m, d) == third);

    /* Deregistered: recorded again. */
    assert_int_equal(ecrmock_principal_set(m, CI, NULL), 0);
    json_t *r = NULL;
    assert_ok(reg(m, &r, "DeregisterPullTimeUpdateExclusion", CI), r);
    json_decref(r);
    ecrmock_clock_advance(m, 1000, NULL);
    pull(m);
    assert_true(pull_time(m, d) == (double)ecrmock_clock_now(m) / 1000.0);

    assert_int_equal(ecrmock_principal_set(m, NULL, NULL), 0);
    assert_int_equal(ecrmock_principal_set(NULL, CI, NULL), -1);
    free(d);
}

static void test_reset_forgets_exclusions_and_principal(void **state)
{
    ecrmock *m = *state;
    register_ok(m, CI);
    assert_int_equal(ecrmock_principal_set(m, CI, NULL), 0);
    ecrmock_reset(m);
    char out[64];
    listed(m, out, sizeof out);
    assert_string_equal(out, "");
    /* The principal is gone too: a pull is recorded even once CI is excluded again. */
    register_ok(m, CI);
    create_repo(m, "app");
    char *d = push_new_image(m, "app", 1, 1, "v1");
    pull(m);
    assert_true(pull_time(m, d) > 0);
    free(d);
}

/* ecrmock_principal_set by the ecrmock_err convention. */
static void test_principal_set_err(void **state)
{
    ecrmock *m = *state;
    assert_int_equal(ERR_CODE(ecrmock_principal_set(NULL, "arn:aws:iam::123456789012:role/ci", &test_err)),
                     ECRMOCK_ERR_INVALID_PARAMETER);
    assert_string_equal(test_err.path, "");
    assert_string_equal(test_err.text, "no instance (m is NULL)");
    assert_int_equal(ecrmock_principal_set(NULL, NULL, NULL), -1);
    assert_int_equal(ERR_CODE(ecrmock_principal_set(m, "arn:aws:iam::123456789012:role/ci", dirty_err())),
                     ECRMOCK_ERR_OK);
    assert_int_equal(ERR_CODE(ecrmock_principal_set(m, NULL, dirty_err())), ECRMOCK_ERR_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup_mock, teardown_mock)
        T(test_register_pull_time_update_exclusion),
        T(test_register_pull_time_update_exclusion_already_exists),
        T(test_register_pull_time_update_exclusion_limit),
        T(test_register_pull_time_update_exclusion_invalid_arn),
        T(test_deregister_pull_time_update_exclusion),
        T(test_list_pull_time_update_exclusions_paging),
        T(test_excluded_principal_pull_not_recorded),
        T(test_reset_forgets_exclusions_and_principal),
        T(test_principal_set_err),
#undef T
    };
    return cmocka_run_group_tests_name("pull_time_exclusions", tests, NULL, NULL);
}
