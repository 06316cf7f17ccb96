/*
 * PutSigningConfiguration, GetSigningConfiguration,
 * DeleteSigningConfiguration and DescribeImageSigningStatus: the
 * configuration round trip, SigningConfigurationNotFoundException, and the
 * signing status of each image from the rules its repository matched when it
 * was pushed (IN_PROGRESS, then COMPLETE on the virtual clock).
 */
#include "helpers.h"

#define ACCOUNT "123456789012"
#define PROFILE_A "arn:aws:signer:us-east-1:123456789012:/signing-profiles/team_a"
#define PROFILE_B "arn:aws:signer:us-east-1:123456789012:/signing-profiles/prod_signer"
#define NO_CONFIG "Signing configuration does not exist in the registry with id '" ACCOUNT "'"
#define SIGNING_MS 10000

/* Rule A: every repository under "team/"; rule B: any name containing
 * "prod"; rule A again for "*-release": one status per profile. */
static const char CONFIG[] =
    "{\"signingConfiguration\": {\"rules\": ["
    "{\"signingProfileArn\": \"" PROFILE_A "\", \"repositoryFilters\": [{\"filter\": \"team/*\", \"filterType\": "
    "\"WILDCARD_MATCH\"}]},"
    "{\"signingProfileArn\": \"" PROFILE_B "\", \"repositoryFilters\": [{\"filter\": \"*prod*\", \"filterType\": "
    "\"WILDCARD_MATCH\"}]},"
    "{\"signingProfileArn\": \"" PROFILE_A "\", \"repositoryFilters\": [{\"filter\": \"*-release\", \"filterType\": "
    "\"WILDCARD_MATCH\"}]}]}}";

static void put_config(ecrmock *m, const char *text)
{
    call_ok(m, "PutSigningConfiguration", "%s", text);
}

/* Asserts that the signing statuses of an image, by digest, are `want`:
 * "profile=status,..." (no failure code on any). */
static void assert_statuses(ecrmock *m, const char *repo, const char *digest, const char *want)
{
    json_t *r = NULL;
    assert_ok(call(m, &r, "DescribeImageSigningStatus",
                   "{\"repositoryName\": \"%s\", \"imageId\": {\"imageDigest\": \"%s\"}}", repo, digest),
              r);
    char out[512];
    out[0] = '\0';
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(r, "signingStatuses"), i, s) {
        const char *arn = STR(s, "signingProfileArn");
        snprintf(out + strlen(out), sizeof out - strlen(out), "%s%s=%s", i ? "," : "", strrchr(arn, '/') + 1,
                 STR(s, "status"));
        assert_null(json_object_get(s, "failureCode"));
    }
    json_decref(r);
    assert_string_equal(out, want);
}

static void test_signing_configuration_round_trip(void **state)
{
    ecrmock *m = *state;
    json_t *r = NULL, *want = json_loads(CONFIG, 0, NULL);
    assert_ok(call(m, &r, "PutSigningConfiguration", "%s", CONFIG), r);
    assert_int_equal(json_object_size(r), 1);
    assert_true(json_equal(json_object_get(r, "signingConfiguration"), json_object_get(want, "signingConfiguration")));
    json_decref(r);

    assert_ok(call(m, &r, "GetSigningConfiguration", "{}"), r);
    assert_int_equal(json_object_size(r), 2);
    assert_string_equal(STR(r, "registryId"), ACCOUNT);
    assert_true(json_equal(json_object_get(r, "signingConfiguration"), json_object_get(want, "signingConfiguration")));
    json_decref(r);

    /* A second Put replaces the first; no rules at all is a configuration too. */
    put_config(m, "{\"signingConfiguration\": {\"rules\": []}}");
    assert_ok(call(m, &r, "GetSigningConfiguration", "{}"), r);
    assert_int_equal(json_array_size(json_object_get(json_object_get(r, "signingConfiguration"), "rules")), 0);
    json_decref(r);

    put_config(m, CONFIG);
    assert_ok(call(m, &r, "DeleteSigningConfiguration", "{}"), r);
    assert_string_equal(STR(r, "registryId"), ACCOUNT);
    assert_true(json_equal(json_object_get(r, "signingConfiguration"), json_object_get(want, "signingConfiguration")));
    json_decref(r);
    int st = call(m, &r, "GetSigningConfiguration", "{}");
    assert_fail_msg(st, &r, "SigningConfigurationNotFoundException", NO_CONFIG);
    json_decref(want);
}

static void test_signing_configuration_not_found(void **state)
{
    ecrmock *m = *state;
    json_t *r = NULL;
    int st = call(m, &r, "GetSigningConfiguration", "{}");
    assert_fail_msg(st, &r, "SigningConfigurationNotFoundException", NO_CONFIG);
    st = call(m, &r, "DeleteSigningConfiguration", "{}");
    assert_fail_msg(st, &r, "SigningConfigurationNotFoundException", NO_CONFIG);
}

static void test_put_signing_configuration_invalid_changes_nothing(void **state)
{
    ecrmock *m = *state;
    put_config(m, CONFIG);
    json_t *r = NULL;
    /* A profile ARN of another service, a filter type the model does not know, an empty filter list. */
    assert_error(call(m, &r, "PutSigningConfiguration",
                      "{\"signingConfiguration\": {\"rules\": [{\"signingProfileArn\": "
                      "\"arn:aws:iam::123456789012:role/x\"}]}}"),
                 r, 400, "InvalidParameterException");
    assert_error(call(m, &r, "PutSigningConfiguration",
                      "{\"signingConfiguration\": {\"rules\": [{\"signingProfileArn\": \"" PROFILE_A
                      "\", \"repositoryFilters\": [{\"filter\": \"a*\", \"filterType\": \"PREFIX_MATCH\"}]}]}}"),
                 r, 400, "InvalidParameterException");
    assert_error(call(m, &r, "PutSigningConfiguration",
                      "{\"signingConfiguration\": {\"rules\": [{\"signingProfileArn\": \"" PROFILE_A
                      "\", \"repositoryFilters\": []}]}}"),
                 r, 400, "InvalidParameterException");
    assert_error(call(m, &r, "PutSigningConfiguration", "{}"), r, 400, "InvalidParameterException");
    assert_ok(call(m, &r, "GetSigningConfiguration", "{}"), r);
    json_t *want = json_loads(CONFIG, 0, NULL);
    assert_true(json_equal(json_object_get(r, "signingConfiguration"), json_object_get(want, "signingConfiguration")));
    json_decref(want);
    json_decref(r);
}

static void test_describe_image_signing_status_per_matching_rule(void **state)
{
    ecrmock *m = *state;
    put_config(m, CONFIG);
    create_repo(m, "team/web");
    create_repo(m, "team/prod-api");
    create_repo(m, "tools-release");
    create_repo(m, "misc");
    char *web = push_new_image(m, "team/web", 1, 1, "v1");
    char *api = push_new_image(m, "team/prod-api", 1, 2, NULL);
    char *rel = push_new_image(m, "tools-release", 1, 3, NULL);
    char *misc = push_new_image(m, "misc", 1, 4, NULL);

    assert_statuses(m, "team/web", web, "team_a=IN_PROGRESS");
    assert_statuses(m, "team/prod-api", api, "team_a=IN_PROGRESS,prod_signer=IN_PROGRESS");
    assert_statuses(m, "tools-release", rel, "team_a=IN_PROGRESS");
    assert_statuses(m, "misc", misc, "");

    ecrmock_clock_advance(m, SIGNING_MS - 1, NULL);
    assert_statuses(m, "team/web", web, "team_a=IN_PROGRESS");
    ecrmock_clock_advance(m, 1, NULL);
    assert_statuses(m, "team/prod-api", api, "team_a=COMPLETE,prod_signer=COMPLETE");

    /* The whole answer, by tag. */
    json_t *r = NULL;
    assert_ok(call(m, &r, "DescribeImageSigningStatus", "{\"repositoryName\": \"team/web\", \"imageId\": {\"imageTag\": "
                                                         "\"v1\"}}"),
              r);
    assert_int_equal(json_object_size(r), 4);
    assert_string_equal(STR(r, "registryId"), ACCOUNT);
    assert_string_equal(STR(r, "repositoryName"), "team/web");
    assert_string_equal(STR(json_object_get(r, "imageId"), "imageDigest"), web);
    assert_string_equal(STR(json_object_get(r, "imageId"), "imageTag"), "v1");
    json_t *s = json_array_get(json_object_get(r, "signingStatuses"), 0);
    assert_string_equal(STR(s, "signingProfileArn"), PROFILE_A);
    assert_string_equal(STR(s, "status"), "COMPLETE");
    json_decref(r);
    free(web);
    free(api);
    free(rel);
    free(misc);
}

static void test_describe_image_signing_status_from_the_push(void **state)
{
    ecrmock *m = *state;
    char *before = new_repo_with_image(m, "team/web", 1, NULL);
    put_config(m, CONFIG);
    char *during = push_new_image(m, "team/web", 1, 2, NULL);
    call_ok(m, "DeleteSigningConfiguration", "{}");
    char *after = push_new_image(m, "team/web", 1, 3, NULL);

    assert_statuses(m, "team/web", before, "");
    assert_statuses(m, "team/web", during, "team_a=IN_PROGRESS"); /* deleting the configuration keeps its signatures */
    assert_statuses(m, "team/web", after, "");
    free(before);
    free(during);
    free(after);
}

static void test_describe_image_signing_status_errors(void **state)
{
    ecrmock *m = *state;
    json_t *r = NULL;
    int st = call(m, &r, "DescribeImageSigningStatus",
                  "{\"repositoryName\": \"ghost\", \"imageId\": {\"imageTag\": \"v1\"}}");
    assert_repo_not_found(st, &r, "ghost", ACCOUNT);
    create_repo(m, "app");
    st = call(m, &r, "DescribeImageSigningStatus", "{\"repositoryName\": \"app\", \"imageId\": {\"imageTag\": \"v1\"}}");
    assert_image_not_found(st, &r, NULL, "v1", "app", ACCOUNT);
    assert_error(call(m, &r, "DescribeImageSigningStatus", "{\"repositoryName\": \"app\"}"), r, 400,
                 "InvalidParameterException");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup_mock, teardown_mock)
        T(test_signing_configuration_round_trip),
        T(test_signing_configuration_not_found),
        T(test_put_signing_configuration_invalid_changes_nothing),
        T(test_describe_image_signing_status_per_matching_rule),
        T(test_describe_image_signing_status_from_the_push),
        T(test_describe_image_signing_status_errors),
#undef T
    };
    return cmocka_run_group_tests_name("signing", tests, NULL, NULL);
}
