/*
 * SetRepositoryPolicy, GetRepositoryPolicy, DeleteRepositoryPolicy: the text
 * kept verbatim, ECR's texts for a missing or invalid policy, and a failed
 * call leaving the stored policy as it was.
 */
#include "helpers.h"

#define OTHER_REGISTRY "210987654321"
#define INVALID_POLICY \
    "Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Invalid repository policy provided'"
#define NO_POLICY(name)                                                                                    \
    "Repository policy does not exist for the repository with name '" name "' in the registry with id " \
    "'123456789012'"

/* Deliberately odd spacing and key order: ECR keeps the text as given. */
static const char POLICY_A[] =
    "{ \"Statement\" : [ {\"Sid\":\"pull\", \"Effect\":\"Allow\",\n"
    "  \"Principal\": {\"AWS\": \"arn:aws:iam::210987654321:root\"},\n"
    "  \"Action\": [\"ecr:BatchGetImage\", \"ecr:GetDownloadUrlForLayer\"]} ],\n"
    "  \"Version\":\"2012-10-17\" }";
static const char POLICY_B[] =
    "{\"Version\":\"2008-10-17\",\"Statement\":{\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":\"ecr:*\"}}";

static int policy_call(ecrmock *m, const char *action, const char *repo, const char *text, json_t **r)
{
    json_t *req = json_pack("{s:s, s:s*}", "repositoryName", repo, "policyText", text);
    int st = ecrmock_call(m, action, req, r);
    json_decref(req);
    return st;
}

static void set_policy(ecrmock *m, const char *repo, const char *text)
{
    json_t *r = NULL;
    assert_ok(policy_call(m, "SetRepositoryPolicy", repo, text, &r), r);
    json_decref(r);
}

/* Asserts the output {registryId, repositoryName, policyText} exactly. */
static void assert_policy_output(json_t *r, const char *registry, const char *repo, const char *text)
{
    assert_int_equal(json_object_size(r), 3);
    assert_string_equal(json_string_value(json_object_get(r, "registryId")), registry);
    assert_string_equal(json_string_value(json_object_get(r, "repositoryName")), repo);
    assert_string_equal(json_string_value(json_object_get(r, "policyText")), text);
}

/* Asserts the stored policy of `repo` is `text` (NULL: none). */
static void assert_stored(ecrmock *m, const char *repo, const char *text)
{
    json_t *r = NULL;
    int st = policy_call(m, "GetRepositoryPolicy", repo, NULL, &r);
    if (text) {
        assert_ok(st, r);
        assert_policy_output(r, "123456789012", repo, text);
        json_decref(r);
    } else {
        assert_error(st, r, 400, "RepositoryPolicyNotFoundException");
    }
}

static void test_set_repository_policy_round_trip(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "app");
    json_t *r = NULL;
    assert_ok(policy_call(m, "SetRepositoryPolicy", "app", POLICY_A, &r), r);
    assert_policy_output(r, "123456789012", "app", POLICY_A);
    json_decref(r);
    assert_stored(m, "app", POLICY_A);
    /* A second Set replaces the first. */
    set_policy(m, "app", POLICY_B);
    assert_stored(m, "app", POLICY_B);
}

static void test_set_repository_policy_accepted_forms(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "app");
    static const char *const good[] = {
        /* No Version (IAM's default applies). */
        "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"ecr:*\"}]}",
        /* NotPrincipal and NotAction. */
        "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Deny\",\"NotPrincipal\":{\"AWS\":\"arn:aws:iam::"
        "123456789012:root\"},\"NotAction\":[\"ecr:BatchGetImage\"]}]}",
        /* Several statements. */
        "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"ecr:*\"},"
        "{\"Sid\":\"d\",\"Effect\":\"Deny\",\"Principal\":{\"AWS\":\"*\"},\"Action\":[\"ecr:DeleteRepository\"]}]}",
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        set_policy(m, "app", good[i]);
        assert_stored(m, "app", good[i]);
    }
}

static void test_get_repository_policy_not_found(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "bare");
    json_t *r = NULL;
    assert_fail_msg(policy_call(m, "GetRepositoryPolicy", "bare", NULL, &r), &r, "RepositoryPolicyNotFoundException",
                    NO_POLICY("bare"));
}

static void test_delete_repository_policy_not_found(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "bare");
    json_t *r = NULL;
    assert_fail_msg(policy_call(m, "DeleteRepositoryPolicy", "bare", NULL, &r), &r,
                    "RepositoryPolicyNotFoundException", NO_POLICY("bare"));
}

static void test_delete_repository_policy_returns_old_text(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "app");
    set_policy(m, "app", POLICY_A);
    json_t *r = NULL;
    assert_ok(policy_call(m, "DeleteRepositoryPolicy", "app", NULL, &r), r);
    assert_policy_output(r, "123456789012", "app", POLICY_A);
    json_decref(r);
    assert_fail_msg(policy_call(m, "GetRepositoryPolicy", "app", NULL, &r), &r, "RepositoryPolicyNotFoundException",
                    NO_POLICY("app"));
    assert_fail_msg(policy_call(m, "DeleteRepositoryPolicy", "app", NULL, &r), &r,
                    "RepositoryPolicyNotFoundException", NO_POLICY("app"));
    /* A new one can be set afterwards. */
    set_policy(m, "app", POLICY_B);
    assert_stored(m, "app", POLICY_B);
}

static void test_set_repository_policy_invalid(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "app");
    set_policy(m, "app", POLICY_A);
    static const char *const bad[] = {
        "",
        "not json",
        "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"ecr:*\"}]",
        "[]",
        "\"a string\"",
        /* No Statement; an empty one; a statement that is not an object. */
        "{}",
        "{\"Version\":\"2012-10-17\"}",
        "{\"Version\":\"2012-10-17\",\"Statement\":[]}",
        "{\"Version\":\"2012-10-17\",\"Statement\":[\"allow everything\"]}",
        /* Effect wrong or absent (it is case-sensitive). */
        "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Permit\",\"Principal\":\"*\",\"Action\":\"ecr:*\"}]}",
        "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"allow\",\"Principal\":\"*\",\"Action\":\"ecr:*\"}]}",
        "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Principal\":\"*\",\"Action\":\"ecr:*\"}]}",
        /* No Principal: a repository policy is a resource policy. */
        "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"ecr:*\"}]}",
        /* No Action, or an empty list of them. */
        "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\"}]}",
        "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":[]}]}",
        /* Version neither 2012-10-17 nor 2008-10-17. */
        "{\"Version\":\"2013-01-01\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"ecr:*\"}]}",
        "{\"Version\":20121017,\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"ecr:*\"}]}",
        /* One good statement does not excuse a bad one. */
        "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"ecr:*\"},{\"Effect\":\"Allow\"}]}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *r = NULL;
        int st = policy_call(m, "SetRepositoryPolicy", "app", bad[i], &r);
        if (st != 400)
            fail_msg("policy %zu (%s) was accepted", i, bad[i]);
        assert_fail_msg(st, &r, "InvalidParameterException", INVALID_POLICY);
        /* The policy that was there is still there. */
        assert_stored(m, "app", POLICY_A);
    }
}

/* With no policy set, a failed Set leaves none. */
static void test_set_repository_policy_invalid_leaves_none(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "app");
    json_t *r = NULL;
    assert_fail_msg(policy_call(m, "SetRepositoryPolicy", "app", "{}", &r), &r, "InvalidParameterException",
                    INVALID_POLICY);
    assert_stored(m, "app", NULL);
}

/* A valid policy padded with spaces to `len` characters. */
static char *padded_policy(size_t len)
{
    size_t base = strlen(POLICY_B);
    char *p = malloc(len + 1);
    assert_non_null(p);
    memcpy(p, POLICY_B, base - 1);
    memset(p + base - 1, ' ', len - base);
    p[len - 1] = '}';
    p[len] = '\0';
    return p;
}

static void test_set_repository_policy_too_long(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "app");
    set_policy(m, "app", POLICY_A);
    char *big = padded_policy(10241);
    json_t *r = NULL;
    assert_fail_msg(policy_call(m, "SetRepositoryPolicy", "app", big, &r), &r, "InvalidParameterException",
                    "Invalid parameter at 'policyText' failed to satisfy constraint: 'must have length less than or "
                    "equal to 10240'");
    assert_stored(m, "app", POLICY_A);
    /* 10,240 characters are allowed, and kept verbatim. */
    big[10240] = '\0';
    big[10239] = '}';
    set_policy(m, "app", big);
    assert_stored(m, "app", big);
    free(big);
}

static void test_set_repository_policy_missing_text(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "app");
    json_t *r = NULL;
    assert_fail_msg(policy_call(m, "SetRepositoryPolicy", "app", NULL, &r), &r, "InvalidParameterException",
                    "Invalid parameter at 'policyText' failed to satisfy constraint: 'Member must not be null'");
    assert_stored(m, "app", NULL);
}

static void test_repository_policy_repository_not_found(void **state)
{
    ecrmock *m = *state;
    static const char *const actions[] = {"SetRepositoryPolicy", "GetRepositoryPolicy", "DeleteRepositoryPolicy"};
    for (int i = 0; i < 3; i++) {
        json_t *r = NULL;
        assert_repo_not_found(policy_call(m, actions[i], "nope", POLICY_A, &r), &r, "nope", "123456789012");
    }
    /* A repository of that name in the caller's registry is not one in another. */
    create_repo(m, "app");
    set_policy(m, "app", POLICY_A);
    json_t *r = NULL;
    assert_repo_not_found(call(m, &r, "GetRepositoryPolicy", "{\"repositoryName\": \"app\", \"registryId\": \"%s\"}",
                               OTHER_REGISTRY), &r, "app", OTHER_REGISTRY);
}

static void test_repository_policy_other_registry(void **state)
{
    ecrmock *m = *state;
    json_t *r = NULL;
    call_ok(m, "CreateRepository", "{\"repositoryName\": \"app\", \"registryId\": \"%s\"}", OTHER_REGISTRY);
    json_t *req = json_pack("{s:s, s:s, s:s}", "repositoryName", "app", "registryId", OTHER_REGISTRY, "policyText",
                            POLICY_B);
    int st = ecrmock_call(m, "SetRepositoryPolicy", req, &r);
    json_decref(req);
    assert_ok(st, r);
    assert_policy_output(r, OTHER_REGISTRY, "app", POLICY_B);
    json_decref(r);
    assert_ok(call(m, &r, "GetRepositoryPolicy", "{\"repositoryName\": \"app\", \"registryId\": \"%s\"}",
                   OTHER_REGISTRY),
              r);
    assert_policy_output(r, OTHER_REGISTRY, "app", POLICY_B);
    json_decref(r);
    assert_repo_not_found(call(m, &r, "DeleteRepositoryPolicy", "{\"repositoryName\": \"app\"}"),
                          &r, "app", "123456789012");
    assert_ok(call(m, &r, "DeleteRepositoryPolicy", "{\"repositoryName\": \"app\", \"registryId\": \"%s\"}",
                   OTHER_REGISTRY),
              r);
    assert_policy_output(r, OTHER_REGISTRY, "app", POLICY_B);
    json_decref(r);
    assert_fail_msg(call(m, &r, "GetRepositoryPolicy", "{\"repositoryName\": \"app\", \"registryId\": \"%s\"}",
                         OTHER_REGISTRY),
                    &r, "RepositoryPolicyNotFoundException",
                    "Repository policy does not exist for the repository with name 'app' in the registry with id "
                    "'" OTHER_REGISTRY "'");
}

/* The policy goes with its repository: a new repository of the same name
 * starts without one. */
static void test_repository_policy_gone_with_repository(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "app");
    set_policy(m, "app", POLICY_A);
    call_ok(m, "DeleteRepository", "{\"repositoryName\": \"app\"}");
    create_repo(m, "app");
    assert_stored(m, "app", NULL);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup_mock, teardown_mock)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_set_repository_policy_round_trip),
        T(test_set_repository_policy_accepted_forms),
        T(test_get_repository_policy_not_found),
        T(test_delete_repository_policy_not_found),
        T(test_delete_repository_policy_returns_old_text),
        T(test_set_repository_policy_invalid),
        T(test_set_repository_policy_invalid_leaves_none),
        T(test_set_repository_policy_too_long),
        T(test_set_repository_policy_missing_text),
        T(test_repository_policy_repository_not_found),
        T(test_repository_policy_other_registry),
        T(test_repository_policy_gone_with_repository),
    };
    return cmocka_run_group_tests_name("repository_policy", tests, NULL, NULL);
}
