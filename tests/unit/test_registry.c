/*
 * DescribeRegistry, PutRegistryPolicy, GetRegistryPolicy, DeleteRegistryPolicy:
 * the caller's registry (per account and per region), the policy kept
 * verbatim, ECR's texts, and a failed call leaving the policy as it was.
 */
#include "helpers.h"

#define ACCOUNT "123456789012"
#define OTHER "210987654321"
#define INVALID_POLICY \
    "Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Invalid registry policy provided'"
#define NO_POLICY(account) "Registry policy does not exist in the registry with id '" account "'"

/* Odd spacing on purpose: the text is kept as given. */
static const char POLICY_A[] =
    "{\"Version\": \"2012-10-17\",\n \"Statement\": [{\"Sid\": \"repl\", \"Effect\": \"Allow\",\n"
    "  \"Principal\": {\"AWS\": \"arn:aws:iam::210987654321:root\"},\n"
    "  \"Action\": [\"ecr:CreateRepository\", \"ecr:ReplicateImage\"],\n"
    "  \"Resource\": \"arn:aws:ecr:us-east-1:123456789012:repository/*\"}]}";
static const char POLICY_B[] =
    "{\"Statement\":{\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":\"ecr:ReplicateImage\"}}";

/* A registry action as `account` (NULL: the instance's) in `region` (NULL: its own). */
static int reg_call(ecrmock *m, const char *account, const char *region, const char *action, const char *text,
                    json_t **r)
{
    json_t *req = text ? json_pack("{s:s}", "policyText", text) : json_object();
    int st = ecrmock_call_as(m, account, region, action, req, r);
    json_decref(req);
    return st;
}

/* Asserts the output is exactly {registryId, policyText}. */
static void assert_policy_output(json_t *r, const char *account, const char *text)
{
    assert_int_equal(json_object_size(r), 2);
    assert_string_equal(json_string_value(json_object_get(r, "registryId")), account);
    assert_string_equal(json_string_value(json_object_get(r, "policyText")), text);
}

/* Asserts the stored policy of `account` in `region` is `text` (NULL: none). */
static void assert_stored(ecrmock *m, const char *account, const char *region, const char *text)
{
    json_t *r = NULL;
    int st = reg_call(m, account, region, "GetRegistryPolicy", NULL, &r);
    if (text) {
        assert_ok(st, r);
        assert_policy_output(r, account ? account : ACCOUNT, text);
        json_decref(r);
    } else {
        assert_error(st, r, 400, "RegistryPolicyNotFoundException");
    }
}

static void put_policy(ecrmock *m, const char *account, const char *region, const char *text)
{
    json_t *r = NULL;
    assert_ok(reg_call(m, account, region, "PutRegistryPolicy", text, &r), r);
    json_decref(r);
}

/* ---- registry policy ----------------------------------------------------------------- */

static void test_put_registry_policy_round_trip(void **state)
{
    ecrmock *m = *state;
    json_t *r = NULL;
    assert_ok(reg_call(m, NULL, NULL, "PutRegistryPolicy", POLICY_A, &r), r);
    assert_policy_output(r, ACCOUNT, POLICY_A);
    json_decref(r);
    assert_stored(m, NULL, NULL, POLICY_A);
    /* A second Put replaces the first. */
    put_policy(m, NULL, NULL, POLICY_B);
    assert_stored(m, NULL, NULL, POLICY_B);
    /* No repository is needed, and none appears. */
    assert_ok(call(m, &r, "DescribeRepositories", "{}"), r);
    assert_int_equal(json_array_size(json_object_get(r, "repositories")), 0);
    json_decref(r);
}

static void test_get_registry_policy_not_found(void **state)
{
    ecrmock *m = *state;
    json_t *r = NULL;
    assert_fail_msg(reg_call(m, NULL, NULL, "GetRegistryPolicy", NULL, &r), &r, "RegistryPolicyNotFoundException",
                    NO_POLICY(ACCOUNT));
    /* A registry with repositories but no policy: the same. */
    create_repo(m, "app");
    assert_fail_msg(reg_call(m, NULL, NULL, "GetRegistryPolicy", NULL, &r), &r, "RegistryPolicyNotFoundException",
                    NO_POLICY(ACCOUNT));
    /* The repository policy is not the registry's. */
    json_t *req = json_pack("{s:s, s:s}", "repositoryName", "app", "policyText", POLICY_A);
    assert_ok(ecrmock_call(m, "SetRepositoryPolicy", req, &r), r);
    json_decref(req);
    json_decref(r);
    assert_stored(m, NULL, NULL, NULL);
}

static void test_delete_registry_policy_returns_old_text(void **state)
{
    ecrmock *m = *state;
    put_policy(m, NULL, NULL, POLICY_A);
    json_t *r = NULL;
    assert_ok(reg_call(m, NULL, NULL, "DeleteRegistryPolicy", NULL, &r), r);
    assert_policy_output(r, ACCOUNT, POLICY_A);
    json_decref(r);
    assert_stored(m, NULL, NULL, NULL);
    assert_fail_msg(reg_call(m, NULL, NULL, "DeleteRegistryPolicy", NULL, &r), &r,
                    "RegistryPolicyNotFoundException", NO_POLICY(ACCOUNT));
    /* And it can be put again. */
    put_policy(m, NULL, NULL, POLICY_B);
    assert_stored(m, NULL, NULL, POLICY_B);
}

static void test_delete_registry_policy_not_found(void **state)
{
    ecrmock *m = *state;
    json_t *r = NULL;
    assert_fail_msg(reg_call(m, NULL, NULL, "DeleteRegistryPolicy", NULL, &r), &r,
                    "RegistryPolicyNotFoundException", NO_POLICY(ACCOUNT));
    assert_fail_msg(reg_call(m, OTHER, NULL, "DeleteRegistryPolicy", NULL, &r), &r,
                    "RegistryPolicyNotFoundException", NO_POLICY(OTHER));
}

static void test_put_registry_policy_invalid(void **state)
{
    ecrmock *m = *state;
    static const char *const bad[] = {
        "not json",
        "[]",
        "{}",
        "{\"Statement\": []}",
        "{\"Version\": \"2020-01-01\", \"Statement\": {\"Effect\": \"Allow\", \"Principal\": \"*\", \"Action\": \"*\"}}",
        "{\"Statement\": {\"Effect\": \"Maybe\", \"Principal\": \"*\", \"Action\": \"ecr:*\"}}",
        "{\"Statement\": {\"Effect\": \"Allow\", \"Action\": \"ecr:*\"}}",
        "{\"Statement\": {\"Effect\": \"Allow\", \"Principal\": \"*\"}}",
        "{\"Statement\": [{\"Effect\": \"Allow\", \"Principal\": \"*\", \"Action\": \"*\"}, 7]}",
    };
    put_policy(m, NULL, NULL, POLICY_A);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *r = NULL;
        assert_fail_msg(reg_call(m, NULL, NULL, "PutRegistryPolicy", bad[i], &r), &r, "InvalidParameterException",
                        INVALID_POLICY);
        /* A refused Put leaves the old policy. */
        assert_stored(m, NULL, NULL, POLICY_A);
    }
}

static void test_put_registry_policy_invalid_leaves_none(void **state)
{
    ecrmock *m = *state;
    json_t *r = NULL;
    assert_fail_msg(reg_call(m, NULL, NULL, "PutRegistryPolicy", "{\"Statement\": 1}", &r), &r,
                    "InvalidParameterException", INVALID_POLICY);
    assert_stored(m, NULL, NULL, NULL);
}

static void test_put_registry_policy_request_rules(void **state)
{
    ecrmock *m = *state;
    json_t *r = NULL;
    /* policyText is required, and at most 10,240 characters (the model). */
    assert_fail_msg(call(m, &r, "PutRegistryPolicy", "{}"), &r, "InvalidParameterException",
                    "Invalid parameter at 'policyText' failed to satisfy constraint: 'Member must not be null'");
    size_t n = 10241;
    char *big = malloc(n + 1);
    memset(big, ' ', n);
    const char *inner = "{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"*\"}}";
    memcpy(big, inner, strlen(inner));
    big[n] = '\0';
    assert_int_equal(reg_call(m, NULL, NULL, "PutRegistryPolicy", big, &r), 400);
    assert_string_equal(err_type(r), "InvalidParameterException");
    json_decref(r);
    big[n - 1] = '\0'; /* 10,240: accepted */
    put_policy(m, NULL, NULL, big);
    free(big);
}

/* Each account, in each region, has a registry policy of its own. */
static void test_registry_policy_per_account_and_region(void **state)
{
    ecrmock *m = *state;
    put_policy(m, NULL, NULL, POLICY_A);
    assert_stored(m, OTHER, NULL, NULL);
    assert_stored(m, NULL, "eu-west-1", NULL);
    json_t *r = NULL;
    assert_ok(reg_call(m, OTHER, NULL, "PutRegistryPolicy", POLICY_B, &r), r);
    assert_policy_output(r, OTHER, POLICY_B);
    json_decref(r);
    put_policy(m, NULL, "eu-west-1", POLICY_B);
    assert_stored(m, NULL, NULL, POLICY_A);
    assert_stored(m, OTHER, NULL, POLICY_B);
    assert_stored(m, NULL, "eu-west-1", POLICY_B);
    assert_stored(m, OTHER, "eu-west-1", NULL);
    /* The region given explicitly as the instance's own is the same registry. */
    assert_stored(m, NULL, "us-east-1", POLICY_A);
    assert_fail_msg(reg_call(m, OTHER, "eu-west-1", "GetRegistryPolicy", NULL, &r), &r,
                    "RegistryPolicyNotFoundException", NO_POLICY(OTHER));
}

/* ---- DescribeRegistry ------------------------------------------------------------------- */

static void test_describe_registry_without_replication(void **state)
{
    ecrmock *m = *state;
    json_t *r = NULL;
    assert_ok(call(m, &r, "DescribeRegistry", "{}"), r);
    json_t *want = json_pack("{s:s, s:{s:[]}}", "registryId", ACCOUNT, "replicationConfiguration", "rules");
    assert_true(json_equal(r, want));
    json_decref(want);
    json_decref(r);
    assert_ok(reg_call(m, OTHER, "ap-south-1", "DescribeRegistry", NULL, &r), r);
    assert_string_equal(json_string_value(json_object_get(r, "registryId")), OTHER);
    json_decref(r);
}

static void test_describe_registry_shows_replication(void **state)
{
    ecrmock *m = *state;
    const char *conf = "{\"rules\": [{\"destinations\": [{\"region\": \"eu-west-1\", \"registryId\": \"" ACCOUNT
                       "\"}], \"repositoryFilters\": [{\"filter\": \"prod\", \"filterType\": \"PREFIX_MATCH\"}]}]}";
    json_t *r = NULL;
    call_ok(m, "PutReplicationConfiguration", "{\"replicationConfiguration\": %s}", conf);
    assert_ok(call(m, &r, "DescribeRegistry", "{}"), r);
    json_t *want = json_loads(conf, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(r, "registryId")), ACCOUNT);
    assert_true(json_equal(json_object_get(r, "replicationConfiguration"), want));
    assert_int_equal(json_object_size(r), 2);
    json_decref(want);
    json_decref(r);
    /* Another account's, or another region's, registry has none. */
    assert_ok(reg_call(m, NULL, "eu-west-1", "DescribeRegistry", NULL, &r), r);
    assert_int_equal(json_array_size(json_object_get(json_object_get(r, "replicationConfiguration"), "rules")), 0);
    json_decref(r);
    assert_ok(reg_call(m, OTHER, NULL, "DescribeRegistry", NULL, &r), r);
    assert_int_equal(json_array_size(json_object_get(json_object_get(r, "replicationConfiguration"), "rules")), 0);
    json_decref(r);
}

/* ---- ecrmock_call_as ------------------------------------------------------------------------ */

static void test_call_as_arguments(void **state)
{
    ecrmock *m = *state;
    json_t *r = (json_t *)1;
    assert_int_equal(ecrmock_call_as(m, "12345", NULL, "DescribeRegistry", NULL, &r), -1);
    assert_null(r);
    assert_int_equal(ecrmock_call_as(m, NULL, "EU-WEST-1", "DescribeRegistry", NULL, &r), -1);
    assert_int_equal(ecrmock_call_as(m, NULL, "", "DescribeRegistry", NULL, &r), -1);
    assert_int_equal(ecrmock_call_as(NULL, NULL, NULL, "DescribeRegistry", NULL, &r), -1);
    assert_int_equal(ecrmock_call_as(m, NULL, NULL, NULL, NULL, &r), -1);
    assert_int_equal(ecrmock_call_as(m, NULL, NULL, "DescribeRegistry", NULL, NULL), -1);
    /* After a call as another account in another region, the instance is its own again. */
    assert_ok(ecrmock_call_as(m, OTHER, "eu-west-1", "DescribeRegistry", NULL, &r), r);
    json_decref(r);
    assert_ok(call(m, &r, "DescribeRegistry", "{}"), r);
    assert_string_equal(json_string_value(json_object_get(r, "registryId")), ACCOUNT);
    json_decref(r);
}

/* Repositories live in their region: ARN and URI name it, the others do not see them. */
static void test_call_as_region_repositories(void **state)
{
    ecrmock *m = *state;
    json_t *req = json_pack("{s:s}", "repositoryName", "app"), *r = NULL;
    assert_ok(ecrmock_call_as(m, NULL, "eu-west-1", "CreateRepository", req, &r), r);
    json_t *repo = json_object_get(r, "repository");
    assert_string_equal(json_string_value(json_object_get(repo, "repositoryArn")),
                        "arn:aws:ecr:eu-west-1:" ACCOUNT ":repository/app");
    assert_string_equal(json_string_value(json_object_get(repo, "repositoryUri")),
                        ACCOUNT ".dkr.ecr.eu-west-1.amazonaws.com/app");
    json_decref(r);
    assert_ok(call(m, &r, "DescribeRepositories", "{}"), r);
    assert_int_equal(json_array_size(json_object_get(r, "repositories")), 0);
    json_decref(r);
    /* The same name in the home region is another repository. */
    create_repo(m, "app");
    assert_error(ecrmock_call_as(m, NULL, "eu-west-1", "CreateRepository", req, &r), r, 400,
                 "RepositoryAlreadyExistsException");
    json_decref(req);
    /* Reset forgets every region. */
    ecrmock_reset(m);
    assert_ok(ecrmock_call_as(m, NULL, "eu-west-1", "DescribeRepositories", NULL, &r), r);
    assert_int_equal(json_array_size(json_object_get(r, "repositories")), 0);
    json_decref(r);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup_mock, teardown_mock)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_put_registry_policy_round_trip),
        T(test_get_registry_policy_not_found),
        T(test_delete_registry_policy_returns_old_text),
        T(test_delete_registry_policy_not_found),
        T(test_put_registry_policy_invalid),
        T(test_put_registry_policy_invalid_leaves_none),
        T(test_put_registry_policy_request_rules),
        T(test_registry_policy_per_account_and_region),
        T(test_describe_registry_without_replication),
        T(test_describe_registry_shows_replication),
        T(test_call_as_arguments),
        T(test_call_as_region_repositories),
    };
    return cmocka_run_group_tests_name("registry", tests, NULL, NULL);
}
