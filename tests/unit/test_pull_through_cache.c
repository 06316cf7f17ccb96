/*
 * Pull-through cache rules: Create, Describe, Update, Delete, Validate.
 * Upstreams recognised from their URLs, which need a secret, the quota of
 * 50, the texts of every error the fake can reach, the fake's secrets, and
 * failed calls leaving the rules as they were.
 */
#include <stdbool.h>

#include "helpers.h"

#define OTHER "210987654321"
#define SECRET "arn:aws:secretsmanager:us-east-1:123456789012:secret:ecr-pullthroughcache/hub-AbCdEf"
#define SECRET2 "arn:aws:secretsmanager:us-east-1:123456789012:secret:ecr-pullthroughcache/hub2-XyZ"
#define ROLE "arn:aws:iam::123456789012:role/ecr-ptc"
#define NOT_FOUND(prefix)                                                                              \
    "The pull through cache rule with Amazon ECR repository prefix '" prefix "' does not exist in the " \
    "registry with id '123456789012'"

static void create_rule(ecrmock *m, const char *prefix, const char *url, const char *cred)
{
    json_t *req = json_pack("{s:s, s:s, s:s*}", "ecrRepositoryPrefix", prefix, "upstreamRegistryUrl", url,
                            "credentialArn", cred);
    json_t *r = NULL;
    int st = ecrmock_call(m, "CreatePullThroughCacheRule", req, &r);
    json_decref(req);
    assert_ok(st, r);
    json_decref(r);
}

/* The rules Describe lists now, as one string "prefix,prefix,...". */
static void assert_rules(ecrmock *m, const char *want)
{
    assert_listed(m, "DescribePullThroughCacheRules", "{}", "pullThroughCacheRules", "ecrRepositoryPrefix", want);
}

static void test_create_pull_through_cache_rule_public_upstream(void **state)
{
    ecrmock *m = *state;
    json_t *r = NULL;
    assert_ok(call(m, &r, "CreatePullThroughCacheRule",
                   "{\"ecrRepositoryPrefix\": \"ecr-public\", \"upstreamRegistryUrl\": \"public.ecr.aws\"}"),
              r);
    assert_string_equal(jstr(r, "ecrRepositoryPrefix"), "ecr-public");
    assert_string_equal(jstr(r, "upstreamRegistryUrl"), "public.ecr.aws");
    assert_string_equal(jstr(r, "upstreamRegistry"), "ecr-public"); /* computed from the URL */
    assert_string_equal(jstr(r, "registryId"), "123456789012");
    assert_true(json_is_real(json_object_get(r, "createdAt")));
    assert_true(json_real_value(json_object_get(r, "createdAt")) == 1704067200.0);
    assert_null(json_object_get(r, "credentialArn"));
    assert_null(json_object_get(r, "upstreamRepositoryPrefix"));
    json_decref(r);
    assert_rules(m, "ecr-public");
}

/* Each supported URL gives its upstream registry, whatever the request's prefix. */
static void test_create_pull_through_cache_rule_recognises_every_upstream(void **state)
{
    ecrmock *m = *state;
    static const struct {
        const char *url, *upstream;
        bool secret;
    } cases[] = {
        {"public.ecr.aws", "ecr-public", false},
        {"quay.io", "quay", false},
        {"registry.k8s.io", "k8s", false},
        {"registry-1.docker.io", "docker-hub", true},
        {"ghcr.io", "github-container-registry", true},
        {"registry.gitlab.com", "gitlab-container-registry", true},
        {"myregistry01.azurecr.io", "azure-container-registry", true},
        {"cgr.dev", "chainguard", true},
        {"123456789012.dkr.ecr.eu-west-1.amazonaws.com", "ecr", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char prefix[16];
        snprintf(prefix, sizeof prefix, "p%zu", i);
        json_t *req = json_pack("{s:s, s:s, s:s*}", "ecrRepositoryPrefix", prefix, "upstreamRegistryUrl",
                                cases[i].url, "credentialArn", cases[i].secret ? SECRET : NULL);
        json_t *r = NULL;
        int st = ecrmock_call(m, "CreatePullThroughCacheRule", req, &r);
        json_decref(req);
        assert_ok(st, r);
        assert_string_equal(jstr(r, "upstreamRegistry"), cases[i].upstream);
        assert_string_equal(jstr(r, "credentialArn"), cases[i].secret ? SECRET : "(absent)");
        /* An ECR upstream's repository prefix is ROOT unless given. */
        assert_string_equal(jstr(r, "upstreamRepositoryPrefix"),
                            strcmp(cases[i].upstream, "ecr") ? "(absent)" : "ROOT");
        json_decref(r);
    }
    assert_rules(m, "p0,p1,p2,p3,p4,p5,p6,p7,p8");
}

static void test_create_pull_through_cache_rule_unsupported_upstream(void **state)
{
    ecrmock *m = *state;
    json_t *r = NULL;
    static const char *const urls[] = {"harbor.example.com", "https://public.ecr.aws", "docker.io",
                                       "ab.azurecr.io", "12345.dkr.ecr.us-east-1.amazonaws.com"};
    for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++) {
        char msg[256];
        snprintf(msg, sizeof msg,
                 "The upstream registry URL %s is invalid. Specify a valid upstream registry URL and try again", urls[i]);
        assert_fail_msg(call(m, &r, "CreatePullThroughCacheRule",
                             "{\"ecrRepositoryPrefix\": \"x1\", \"upstreamRegistryUrl\": \"%s\"}", urls[i]),
                        &r, "UnsupportedUpstreamRegistryException", msg);
    }
    /* upstreamRegistry must name the URL's registry. */
    assert_fail_msg(call(m, &r, "CreatePullThroughCacheRule",
                         "{\"ecrRepositoryPrefix\": \"x1\", \"upstreamRegistryUrl\": \"quay.io\", "
                         "\"upstreamRegistry\": \"k8s\"}"),
                    &r, "UnsupportedUpstreamRegistryException",
                    "The upstream registry URL quay.io is invalid. Specify a valid upstream registry URL and try again");
    call_ok(m, "CreatePullThroughCacheRule",
            "{\"ecrRepositoryPrefix\": \"x1\", \"upstreamRegistryUrl\": \"quay.io\", "
            "\"upstreamRegistry\": \"quay\"}");
    assert_rules(m, "x1");
}

static void test_create_pull_through_cache_rule_credentials(void **state)
{
    ecrmock *m = *state;
    json_t *r = NULL;
    assert_fail_msg(call(m, &r, "CreatePullThroughCacheRule",
                         "{\"ecrRepositoryPrefix\": \"hub\", \"upstreamRegistryUrl\": \"registry-1.docker.io\"}"),
                    &r, "UnsupportedUpstreamRegistryException",
                    "The specified upstream registry requires authentication. Specify a valid Secrets Manager ARN "
                    "containing the upstream registry credentials.");
    assert_fail_msg(call(m, &r, "CreatePullThroughCacheRule",
                         "{\"ecrRepositoryPrefix\": \"k8s\", \"upstreamRegistryUrl\": \"registry.k8s.io\", "
                         "\"credentialArn\": \"" SECRET "\"}"),
                    &r, "UnsupportedUpstreamRegistryException",
                    "The specified upstream registry does not support authentication with a Secrets Manager secret. "
                    "Remove the credentialArn and try again.");
    /* The model's pattern: the secret's name starts with ecr-pullthroughcache/. */
    assert_error(call(m, &r, "CreatePullThroughCacheRule",
                      "{\"ecrRepositoryPrefix\": \"hub\", \"upstreamRegistryUrl\": \"registry-1.docker.io\", "
                      "\"credentialArn\": \"arn:aws:secretsmanager:us-east-1:123456789012:secret:dockerhub-credentials\"}"),
                 r, 400, "InvalidParameterException");
    assert_fail_msg(call(m, &r, "CreatePullThroughCacheRule",
                         "{\"ecrRepositoryPrefix\": \"hub\", \"upstreamRegistryUrl\": \"ghcr.io\", "
                         "\"customRoleArn\": \"" ROLE "\", \"credentialArn\": \"" SECRET "\"}"),
                    &r, "InvalidParameterException",
                    "Invalid parameter at 'customRoleArn' failed to satisfy constraint: 'customRoleArn can only be "
                    "specified when upstreamRegistry is ecr'");
    assert_rules(m, "");
}

static void test_create_pull_through_cache_rule_ecr_upstream_roles(void **state)
{
    ecrmock *m = *state;
    json_t *r = NULL;
    /* Another account's registry needs a role, in the caller's own account. */
    assert_fail_msg(call(m, &r, "CreatePullThroughCacheRule",
                         "{\"ecrRepositoryPrefix\": \"prod\", \"upstreamRegistryUrl\": "
                         "\"" OTHER ".dkr.ecr.us-west-2.amazonaws.com\"}"),
                    &r, "InvalidParameterException",
                    "Invalid parameter at 'customRoleArn' failed to satisfy constraint: 'customRoleArn must be "
                    "specified when the upstream registry belongs to another account'");
    assert_fail_msg(call(m, &r, "CreatePullThroughCacheRule",
                         "{\"ecrRepositoryPrefix\": \"prod\", \"upstreamRegistryUrl\": "
                         "\"" OTHER ".dkr.ecr.us-west-2.amazonaws.com\", \"customRoleArn\": "
                         "\"arn:aws:iam::" OTHER ":role/x\"}"),
                    &r, "InvalidParameterException",
                    "Invalid parameter at 'customRoleArn' failed to satisfy constraint: 'The role must be in the same "
                    "account as the registry '123456789012''");
    assert_fail_msg(call(m, &r, "CreatePullThroughCacheRule",
                         "{\"ecrRepositoryPrefix\": \"prod\", \"upstreamRegistryUrl\": "
                         "\"" OTHER ".dkr.ecr.us-west-2.amazonaws.com\", \"customRoleArn\": \"not-an-arn\"}"),
                    &r, "InvalidParameterException",
                    "Invalid parameter at 'customRoleArn' failed to satisfy constraint: 'Invalid ARN'");
    assert_ok(call(m, &r, "CreatePullThroughCacheRule",
                   "{\"ecrRepositoryPrefix\": \"prod\", \"upstreamRegistryUrl\": "
                   "\"" OTHER ".dkr.ecr.us-west-2.amazonaws.com\", \"customRoleArn\": \"" ROLE "\", "
                   "\"upstreamRepositoryPrefix\": \"team-a\"}"),
              r);
    assert_string_equal(jstr(r, "customRoleArn"), ROLE);
    assert_string_equal(jstr(r, "upstreamRepositoryPrefix"), "team-a");
    assert_string_equal(jstr(r, "upstreamRegistry"), "ecr");
    json_decref(r);
    /* ROOT takes no upstream prefix but ROOT. */
    assert_fail_msg(call(m, &r, "CreatePullThroughCacheRule",
                         "{\"ecrRepositoryPrefix\": \"ROOT\", \"upstreamRegistryUrl\": "
                         "\"123456789012.dkr.ecr.us-west-2.amazonaws.com\", \"upstreamRepositoryPrefix\": \"team-a\"}"),
                    &r, "InvalidParameterException",
                    "Invalid parameter at 'upstreamRepositoryPrefix' failed to satisfy constraint: "
                    "'upstreamRepositoryPrefix can only be specified when ecrRepositoryPrefix is not ROOT'");
    call_ok(m, "CreatePullThroughCacheRule",
            "{\"ecrRepositoryPrefix\": \"ROOT\", \"upstreamRegistryUrl\": "
            "\"123456789012.dkr.ecr.us-west-2.amazonaws.com\"}");
    assert_rules(m, "prod,ROOT");
}

static void test_create_pull_through_cache_rule_already_exists(void **state)
{
    ecrmock *m = *state;
    create_rule(m, "quay", "quay.io", NULL);
    json_t *r = NULL;
    /* "quay/" is "quay": ECR implies the trailing slash. */
    static const char *const same[] = {"quay", "quay/"};
    for (int i = 0; i < 2; i++) {
        char msg[256];
        snprintf(msg, sizeof msg,
                 "The pull through cache rule with Amazon ECR repository prefix '%s' already exists in the registry "
                 "with id '123456789012'",
                 same[i]);
        assert_fail_msg(call(m, &r, "CreatePullThroughCacheRule",
                             "{\"ecrRepositoryPrefix\": \"%s\", \"upstreamRegistryUrl\": \"public.ecr.aws\"}", same[i]),
                        &r, "PullThroughCacheRuleAlreadyExistsException", msg);
    }
    /* The same prefix in another registry is another rule. */
    assert_ok(call(m, &r, "CreatePullThroughCacheRule",
                   "{\"registryId\": \"" OTHER "\", \"ecrRepositoryPrefix\": \"quay\", \"upstreamRegistryUrl\": "
                   "\"public.ecr.aws\"}"),
              r);
    assert_string_equal(jstr(r, "registryId"), OTHER);
    json_decref(r);
    assert_ok(call(m, &r, "DescribePullThroughCacheRules", "{}"), r);
    assert_string_equal(jstr(json_array_get(json_object_get(r, "pullThroughCacheRules"), 0), "upstreamRegistryUrl"),
                        "quay.io");
    json_decref(r);
}

static void test_create_pull_through_cache_rule_quota(void **state)
{
    ecrmock *m = *state;
    for (int i = 0; i < 50; i++) {
        char prefix[16];
        snprintf(prefix, sizeof prefix, "rule%02d", i);
        create_rule(m, prefix, "public.ecr.aws", NULL);
    }
    json_t *r = NULL;
    assert_fail_msg(call(m, &r, "CreatePullThroughCacheRule",
                         "{\"ecrRepositoryPrefix\": \"one-more\", \"upstreamRegistryUrl\": \"quay.io\"}"),
                    &r, "LimitExceededException",
                    "The registry with id '123456789012' already has the maximum allowed number of pull through cache "
                    "rules which is '50'");
    /* Per registry; and a deleted rule makes room. */
    call_ok(m, "CreatePullThroughCacheRule",
            "{\"registryId\": \"" OTHER "\", \"ecrRepositoryPrefix\": \"one-more\", \"upstreamRegistryUrl\": "
            "\"quay.io\"}");
    call_ok(m, "DeletePullThroughCacheRule", "{\"ecrRepositoryPrefix\": \"rule07\"}");
    call_ok(m, "CreatePullThroughCacheRule",
            "{\"ecrRepositoryPrefix\": \"one-more\", \"upstreamRegistryUrl\": \"quay.io\"}");
}

static void test_create_pull_through_cache_rule_secret_states(void **state)
{
    ecrmock *m = *state;
    static const struct {
        ecrmock_secret_state st;
        const char *type, *msg;
    } cases[] = {
        {ECRMOCK_SECRET_NOT_FOUND, "SecretNotFoundException",
         "The ARN of the secret specified in the pull through cache rule was not found. Update the pull through "
         "cache rule with a valid secret ARN and try again."},
        {ECRMOCK_SECRET_NO_ACCESS, "UnableToAccessSecretException",
         "The secret is unable to be accessed. Verify the resource permissions for the secret and try again."},
        {ECRMOCK_SECRET_UNDECRYPTABLE, "UnableToDecryptSecretValueException",
         "The secret is accessible but is unable to be decrypted. Verify the resource permisisons and try again."},
    };
    json_t *r = NULL;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(ecrmock_secret_set(m, SECRET, cases[i].st, NULL), 0);
        assert_fail_msg(call(m, &r, "CreatePullThroughCacheRule",
                             "{\"ecrRepositoryPrefix\": \"hub\", \"upstreamRegistryUrl\": \"registry-1.docker.io\", "
                             "\"credentialArn\": \"" SECRET "\"}"),
                        &r, cases[i].type, cases[i].msg);
        /* Other secrets are unaffected. */
        assert_ok(call(m, &r, "DescribePullThroughCacheRules", "{}"), r);
        assert_int_equal(json_array_size(json_object_get(r, "pullThroughCacheRules")), 0);
        json_decref(r);
    }
    /* Rejected credentials are only found by Validate. */
    assert_int_equal(ecrmock_secret_set(m, SECRET, ECRMOCK_SECRET_REJECTED, NULL), 0);
    create_rule(m, "hub", "registry-1.docker.io", SECRET);
    assert_int_equal(ecrmock_secret_set(m, NULL, ECRMOCK_SECRET_VALID, NULL), -1);
    assert_int_equal(ecrmock_secret_set(m, SECRET, (ecrmock_secret_state)9, NULL), -1);
}

static void test_describe_pull_through_cache_rules_fields_and_prefixes(void **state)
{
    ecrmock *m = *state;
    create_rule(m, "hub", "registry-1.docker.io", SECRET);
    ecrmock_clock_advance(m, 5000, NULL);
    create_rule(m, "k8s/", "registry.k8s.io", NULL);
    json_t *r = NULL;
    assert_ok(call(m, &r, "DescribePullThroughCacheRules",
                   "{\"ecrRepositoryPrefixes\": [\"k8s\", \"hub/\", \"k8s/\"]}"),
              r);
    json_t *list = json_object_get(r, "pullThroughCacheRules");
    assert_int_equal(json_array_size(list), 2); /* each rule once, in the order asked */
    json_t *k8s = json_array_get(list, 0), *hub = json_array_get(list, 1);
    assert_string_equal(jstr(k8s, "ecrRepositoryPrefix"), "k8s");
    assert_string_equal(jstr(hub, "ecrRepositoryPrefix"), "hub");
    assert_string_equal(jstr(hub, "upstreamRegistry"), "docker-hub");
    assert_string_equal(jstr(hub, "upstreamRegistryUrl"), "registry-1.docker.io");
    assert_string_equal(jstr(hub, "credentialArn"), SECRET);
    assert_string_equal(jstr(hub, "registryId"), "123456789012");
    assert_true(json_real_value(json_object_get(hub, "createdAt")) == 1704067200.0);
    assert_true(json_real_value(json_object_get(hub, "updatedAt")) == 1704067200.0);
    assert_true(json_real_value(json_object_get(k8s, "createdAt")) == 1704067205.0);
    json_decref(r);
    assert_fail_msg(call(m, &r, "DescribePullThroughCacheRules", "{\"ecrRepositoryPrefixes\": [\"hub\", \"nope\"]}"),
                    &r, "PullThroughCacheRuleNotFoundException", NOT_FOUND("nope"));
    assert_fail_msg(call(m, &r, "DescribePullThroughCacheRules",
                         "{\"ecrRepositoryPrefixes\": [\"hub\"], \"maxResults\": 1}"),
                    &r, "InvalidParameterException",
                    "Invalid parameter at 'maxResults' failed to satisfy constraint: 'maxResults cannot be specified "
                    "with ecrRepositoryPrefixes'");
    /* Another registry has none. */
    assert_ok(call(m, &r, "DescribePullThroughCacheRules", "{\"registryId\": \"" OTHER "\"}"), r);
    assert_int_equal(json_array_size(json_object_get(r, "pullThroughCacheRules")), 0);
    json_decref(r);
}

static void test_describe_pull_through_cache_rules_paging(void **state)
{
    ecrmock *m = *state;
    for (int i = 0; i < 7; i++) {
        char prefix[16];
        snprintf(prefix, sizeof prefix, "r%d", i);
        create_rule(m, prefix, "quay.io", NULL);
    }
    json_t *r = NULL;
    char seen[256] = "";
    char *token = NULL;
    int pages = 0;
    do {
        if (token)
            assert_ok(call(m, &r, "DescribePullThroughCacheRules", "{\"maxResults\": 3, \"nextToken\": \"%s\"}", token),
                      r);
        else
            assert_ok(call(m, &r, "DescribePullThroughCacheRules", "{\"maxResults\": 3}"), r);
        free(token);
        token = NULL;
        size_t i;
        json_t *rule;
        json_array_foreach(json_object_get(r, "pullThroughCacheRules"), i, rule) {
            strcat(seen, jstr(rule, "ecrRepositoryPrefix"));
            strcat(seen, " ");
        }
        if (json_object_get(r, "nextToken"))
            token = strdup(jstr(r, "nextToken"));
        json_decref(r);
        /* A rule deleted between pages is simply not listed. */
        if (++pages == 1) {
            call_ok(m, "DeletePullThroughCacheRule", "{\"ecrRepositoryPrefix\": \"r4\"}");
        }
    } while (token);
    assert_string_equal(seen, "r0 r1 r2 r3 r5 r6 ");
    assert_int_equal(pages, 2);
    /* A token belongs to its registry. */
    assert_ok(call(m, &r, "DescribePullThroughCacheRules", "{\"maxResults\": 1}"), r);
    token = strdup(jstr(r, "nextToken"));
    json_decref(r);
    assert_fail_msg(call(m, &r, "DescribePullThroughCacheRules", "{\"registryId\": \"" OTHER "\", \"nextToken\": \"%s\"}",
                         token),
                    &r, "InvalidParameterException",
                    "Invalid parameter at 'NextToken' failed to satisfy constraint: 'Invalid next token provided'");
    free(token);
}

static void test_update_pull_through_cache_rule(void **state)
{
    ecrmock *m = *state;
    create_rule(m, "hub", "registry-1.docker.io", SECRET);
    ecrmock_clock_advance(m, 60000, NULL);
    json_t *r = NULL;
    assert_ok(call(m, &r, "UpdatePullThroughCacheRule",
                   "{\"ecrRepositoryPrefix\": \"hub/\", \"credentialArn\": \"" SECRET2 "\"}"),
              r);
    assert_string_equal(jstr(r, "ecrRepositoryPrefix"), "hub");
    assert_string_equal(jstr(r, "credentialArn"), SECRET2);
    assert_string_equal(jstr(r, "registryId"), "123456789012");
    assert_true(json_real_value(json_object_get(r, "updatedAt")) == 1704067260.0);
    assert_null(json_object_get(r, "upstreamRegistryUrl"));
    json_decref(r);
    assert_ok(call(m, &r, "DescribePullThroughCacheRules", "{}"), r);
    json_t *rule = json_array_get(json_object_get(r, "pullThroughCacheRules"), 0);
    assert_string_equal(jstr(rule, "credentialArn"), SECRET2);
    assert_true(json_real_value(json_object_get(rule, "createdAt")) == 1704067200.0);
    assert_true(json_real_value(json_object_get(rule, "updatedAt")) == 1704067260.0);
    json_decref(r);
}

static void test_update_pull_through_cache_rule_failures_change_nothing(void **state)
{
    ecrmock *m = *state;
    create_rule(m, "hub", "registry-1.docker.io", SECRET);
    create_rule(m, "quay", "quay.io", NULL);
    json_t *before = answer_of(m, "DescribePullThroughCacheRules", "{}"), *r = NULL;
    ecrmock_clock_advance(m, 1000, NULL);
    assert_fail_msg(call(m, &r, "UpdatePullThroughCacheRule",
                         "{\"ecrRepositoryPrefix\": \"nope\", \"credentialArn\": \"" SECRET "\"}"),
                    &r, "PullThroughCacheRuleNotFoundException", NOT_FOUND("nope"));
    assert_fail_msg(call(m, &r, "UpdatePullThroughCacheRule", "{\"ecrRepositoryPrefix\": \"hub\"}"), &r,
                    "InvalidParameterException",
                    "Invalid parameter at 'credentialArn' failed to satisfy constraint: 'Either credentialArn or "
                    "customRoleArn must be specified'");
    assert_fail_msg(call(m, &r, "UpdatePullThroughCacheRule",
                         "{\"ecrRepositoryPrefix\": \"quay\", \"credentialArn\": \"" SECRET "\"}"),
                    &r, "UnsupportedUpstreamRegistryException",
                    "The specified upstream registry does not support authentication with a Secrets Manager secret. "
                    "Remove the credentialArn and try again.");
    assert_fail_msg(call(m, &r, "UpdatePullThroughCacheRule",
                         "{\"ecrRepositoryPrefix\": \"hub\", \"customRoleArn\": \"" ROLE "\"}"),
                    &r, "InvalidParameterException",
                    "Invalid parameter at 'customRoleArn' failed to satisfy constraint: 'customRoleArn can only be "
                    "specified when upstreamRegistry is ecr'");
    ecrmock_secret_set(m, SECRET2, ECRMOCK_SECRET_NOT_FOUND, NULL);
    assert_error(call(m, &r, "UpdatePullThroughCacheRule",
                      "{\"ecrRepositoryPrefix\": \"hub\", \"credentialArn\": \"" SECRET2 "\"}"),
                 r, 400, "SecretNotFoundException");
    ecrmock_secret_set(m, SECRET2, ECRMOCK_SECRET_NO_ACCESS, NULL);
    assert_error(call(m, &r, "UpdatePullThroughCacheRule",
                      "{\"ecrRepositoryPrefix\": \"hub\", \"credentialArn\": \"" SECRET2 "\"}"),
                 r, 400, "UnableToAccessSecretException");
    ecrmock_secret_set(m, SECRET2, ECRMOCK_SECRET_UNDECRYPTABLE, NULL);
    assert_error(call(m, &r, "UpdatePullThroughCacheRule",
                      "{\"ecrRepositoryPrefix\": \"hub\", \"credentialArn\": \"" SECRET2 "\"}"),
                 r, 400, "UnableToDecryptSecretValueException");
    assert_answer_unchanged(m, "DescribePullThroughCacheRules", "{}", before);
}

static void test_update_pull_through_cache_rule_role(void **state)
{
    ecrmock *m = *state;
    json_t *r = NULL;
    call_ok(m, "CreatePullThroughCacheRule",
            "{\"ecrRepositoryPrefix\": \"prod\", \"upstreamRegistryUrl\": "
            "\"" OTHER ".dkr.ecr.us-west-2.amazonaws.com\", \"customRoleArn\": \"" ROLE "\"}");
    assert_ok(call(m, &r, "UpdatePullThroughCacheRule",
                   "{\"ecrRepositoryPrefix\": \"prod\", \"customRoleArn\": \"arn:aws:iam::123456789012:role/other\"}"),
              r);
    assert_string_equal(jstr(r, "customRoleArn"), "arn:aws:iam::123456789012:role/other");
    assert_string_equal(jstr(r, "upstreamRepositoryPrefix"), "ROOT");
    json_decref(r);
    assert_fail_msg(call(m, &r, "UpdatePullThroughCacheRule",
                         "{\"ecrRepositoryPrefix\": \"prod\", \"credentialArn\": \"" SECRET "\"}"),
                    &r, "UnsupportedUpstreamRegistryException",
                    "The specified upstream registry does not support authentication with a Secrets Manager secret. "
                    "Remove the credentialArn and try again.");
}

static void test_delete_pull_through_cache_rule(void **state)
{
    ecrmock *m = *state;
    create_rule(m, "hub", "registry-1.docker.io", SECRET);
    create_rule(m, "quay", "quay.io", NULL);
    json_t *r = NULL;
    assert_ok(call(m, &r, "DeletePullThroughCacheRule", "{\"ecrRepositoryPrefix\": \"hub/\"}"), r);
    assert_string_equal(jstr(r, "ecrRepositoryPrefix"), "hub");
    assert_string_equal(jstr(r, "upstreamRegistryUrl"), "registry-1.docker.io");
    assert_string_equal(jstr(r, "credentialArn"), SECRET);
    assert_string_equal(jstr(r, "registryId"), "123456789012");
    assert_true(json_real_value(json_object_get(r, "createdAt")) == 1704067200.0);
    json_decref(r);
    assert_rules(m, "quay");
    assert_fail_msg(call(m, &r, "DeletePullThroughCacheRule", "{\"ecrRepositoryPrefix\": \"hub\"}"), &r,
                    "PullThroughCacheRuleNotFoundException", NOT_FOUND("hub"));
    assert_fail_msg(call(m, &r, "DeletePullThroughCacheRule",
                         "{\"registryId\": \"" OTHER "\", \"ecrRepositoryPrefix\": \"quay\"}"),
                    &r, "PullThroughCacheRuleNotFoundException",
                    "The pull through cache rule with Amazon ECR repository prefix 'quay' does not exist in the "
                    "registry with id '" OTHER "'");
    assert_rules(m, "quay");
    /* The prefix is free again. */
    create_rule(m, "hub", "ghcr.io", SECRET);
    assert_rules(m, "quay,hub");
}

static void test_validate_pull_through_cache_rule(void **state)
{
    ecrmock *m = *state;
    create_rule(m, "hub", "registry-1.docker.io", SECRET);
    create_rule(m, "quay", "quay.io", NULL);
    json_t *r = NULL;
    assert_ok(call(m, &r, "ValidatePullThroughCacheRule", "{\"ecrRepositoryPrefix\": \"hub\"}"), r);
    assert_true(json_is_true(json_object_get(r, "isValid")));
    assert_null(json_object_get(r, "failure"));
    assert_string_equal(jstr(r, "ecrRepositoryPrefix"), "hub");
    assert_string_equal(jstr(r, "upstreamRegistryUrl"), "registry-1.docker.io");
    assert_string_equal(jstr(r, "credentialArn"), SECRET);
    assert_string_equal(jstr(r, "registryId"), "123456789012");
    json_decref(r);
    /* The secret's state is read at each call. */
    static const struct {
        ecrmock_secret_state st;
        const char *failure;
    } cases[] = {
        {ECRMOCK_SECRET_REJECTED, "The authentication to the upstream registry failed. Verify that the credentials "
                                  "in the secret are valid and try again."},
        {ECRMOCK_SECRET_NOT_FOUND, "The ARN of the secret specified in the pull through cache rule was not found. "
                                   "Update the pull through cache rule with a valid secret ARN and try again."},
        {ECRMOCK_SECRET_NO_ACCESS,
         "The secret is unable to be accessed. Verify the resource permissions for the secret and try again."},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ecrmock_secret_set(m, SECRET, cases[i].st, NULL);
        assert_ok(call(m, &r, "ValidatePullThroughCacheRule", "{\"ecrRepositoryPrefix\": \"hub\"}"), r);
        assert_true(json_is_false(json_object_get(r, "isValid")));
        assert_string_equal(jstr(r, "failure"), cases[i].failure);
        json_decref(r);
    }
    ecrmock_secret_set(m, SECRET, ECRMOCK_SECRET_VALID, NULL);
    assert_ok(call(m, &r, "ValidatePullThroughCacheRule", "{\"ecrRepositoryPrefix\": \"hub\"}"), r);
    assert_true(json_is_true(json_object_get(r, "isValid")));
    json_decref(r);
    /* No secret, nothing to fail. */
    assert_ok(call(m, &r, "ValidatePullThroughCacheRule", "{\"ecrRepositoryPrefix\": \"quay\"}"), r);
    assert_true(json_is_true(json_object_get(r, "isValid")));
    assert_null(json_object_get(r, "credentialArn"));
    json_decref(r);
    assert_fail_msg(call(m, &r, "ValidatePullThroughCacheRule", "{\"ecrRepositoryPrefix\": \"nope\"}"), &r,
                    "PullThroughCacheRuleNotFoundException", NOT_FOUND("nope"));
}

static void test_pull_through_cache_rules_and_secrets_reset(void **state)
{
    ecrmock *m = *state;
    ecrmock_secret_set(m, SECRET, ECRMOCK_SECRET_NOT_FOUND, NULL);
    create_rule(m, "quay", "quay.io", NULL);
    ecrmock_reset(m);
    assert_rules(m, "");
    create_rule(m, "hub", "registry-1.docker.io", SECRET); /* the secret is back to its default */
}

static void test_pull_through_cache_rule_model_validation(void **state)
{
    ecrmock *m = *state;
    json_t *r = NULL;
    assert_fail_msg(call(m, &r, "CreatePullThroughCacheRule", "{\"ecrRepositoryPrefix\": \"Bad_Prefix\", "
                                                               "\"upstreamRegistryUrl\": \"quay.io\"}"),
                    &r, "InvalidParameterException",
                    "Invalid parameter at 'ecrRepositoryPrefix' failed to satisfy constraint: 'must satisfy regular "
                    "expression '^([a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*(\\/[a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*)*\\/?|ROOT)$''");
    assert_error(call(m, &r, "CreatePullThroughCacheRule", "{\"ecrRepositoryPrefix\": \"quay\"}"), r, 400,
                 "InvalidParameterException");
    assert_error(call(m, &r, "CreatePullThroughCacheRule",
                      "{\"ecrRepositoryPrefix\": \"quay\", \"upstreamRegistryUrl\": \"quay.io\", \"upstreamRegistry\": "
                      "\"harbor\"}"),
                 r, 400, "InvalidParameterException");
    assert_rules(m, "");
}

/* ecrmock_secret_set by the ecrmock_err convention. */
static void test_secret_set_err(void **state)
{
    ecrmock *m = *state;
    const char *arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:ecr-pullthroughcache/hub";
    assert_int_equal(ERR_CODE(ecrmock_secret_set(m, arn, (ecrmock_secret_state)9, &test_err)),
                     ECRMOCK_ERR_INVALID_PARAMETER);
    assert_string_equal(test_err.path, "");
    assert_string_equal(test_err.text, "secret state 9 is not an ecrmock_secret_state (0 to 4)");
    assert_int_equal(ERR_CODE(ecrmock_secret_set(m, NULL, ECRMOCK_SECRET_VALID, &test_err)),
                     ECRMOCK_ERR_INVALID_PARAMETER);
    assert_string_equal(test_err.text, "m and credential_arn must not be NULL");
    assert_int_equal(ecrmock_secret_set(NULL, arn, ECRMOCK_SECRET_VALID, NULL), -1);
    assert_int_equal(ERR_CODE(ecrmock_secret_set(m, arn, ECRMOCK_SECRET_REJECTED, dirty_err())), ECRMOCK_ERR_OK);
    assert_int_equal(ERR_CODE(ecrmock_secret_set(m, arn, ECRMOCK_SECRET_VALID, dirty_err())), ECRMOCK_ERR_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup_mock, teardown_mock)
        T(test_create_pull_through_cache_rule_public_upstream),
        T(test_create_pull_through_cache_rule_recognises_every_upstream),
        T(test_create_pull_through_cache_rule_unsupported_upstream),
        T(test_create_pull_through_cache_rule_credentials),
        T(test_create_pull_through_cache_rule_ecr_upstream_roles),
        T(test_create_pull_through_cache_rule_already_exists),
        T(test_create_pull_through_cache_rule_quota),
        T(test_create_pull_through_cache_rule_secret_states),
        T(test_describe_pull_through_cache_rules_fields_and_prefixes),
        T(test_describe_pull_through_cache_rules_paging),
        T(test_update_pull_through_cache_rule),
        T(test_update_pull_through_cache_rule_failures_change_nothing),
        T(test_update_pull_through_cache_rule_role),
        T(test_delete_pull_through_cache_rule),
        T(test_validate_pull_through_cache_rule),
        T(test_pull_through_cache_rules_and_secrets_reset),
        T(test_pull_through_cache_rule_model_validation),
        T(test_secret_set_err),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
