/*
 * Repository creation templates: Create, Describe, Update, Delete, the
 * quota, ECR's texts, and what a template does to a repository ECR creates
 * for a pull through cache, a replication or a create-on-push
 * (ecrmock_create_repository_for, em_template_apply).
 */
#include <stdbool.h>

#include "helpers.h"

#define OTHER "210987654321"
#define KMS_KEY "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
#define ROLE "arn:aws:iam::123456789012:role/rct"
#define POLICY "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"ecr:BatchGetImage\"}]}"
#define LIFECYCLE                                                                                                    \
    "{\"rules\":[{\"rulePriority\":1,\"selection\":{\"tagStatus\":\"any\",\"countType\":\"imageCountMoreThan\"," \
    "\"countNumber\":5},\"action\":{\"type\":\"expire\"}}]}"
/* The same policy as a JSON string literal, for a request written as JSON text. */
#define LIFECYCLE_JSON                                                                                               \
    "\"{\\\"rules\\\":[{\\\"rulePriority\\\":1,\\\"selection\\\":{\\\"tagStatus\\\":\\\"any\\\",\\\"countType\\\":"     \
    "\\\"imageCountMoreThan\\\",\\\"countNumber\\\":5},\\\"action\\\":{\\\"type\\\":\\\"expire\\\"}}]}\""

static void create_template(ecrmock *m, const char *prefix, const char *applied_for, const char *extra)
{
    call_ok(m, "CreateRepositoryCreationTemplate", "{\"prefix\": \"%s\", \"appliedFor\": [%s]%s%s}", prefix,
            applied_for, extra ? ", " : "", extra ? extra : "");
}

/* The prefixes Describe lists, as "a,b,c". */
static void assert_templates(ecrmock *m, const char *want)
{
    assert_listed(m, "DescribeRepositoryCreationTemplates", "{}", "repositoryCreationTemplates", "prefix", want);
}

static void test_create_repository_creation_template_defaults(void **state)
{
    ecrmock *m = *state;
    json_t *r = NULL;
    assert_ok(call(m, &r, "CreateRepositoryCreationTemplate",
                   "{\"prefix\": \"prod/\", \"appliedFor\": [\"PULL_THROUGH_CACHE\", \"REPLICATION\", "
                   "\"PULL_THROUGH_CACHE\"]}"),
              r);
    assert_string_equal(jstr(r, "registryId"), "123456789012");
    json_t *t = json_object_get(r, "repositoryCreationTemplate");
    assert_string_equal(jstr(t, "prefix"), "prod");
    assert_string_equal(jstr(t, "imageTagMutability"), "MUTABLE");
    assert_string_equal(jstr(json_object_get(t, "encryptionConfiguration"), "encryptionType"), "AES256");
    assert_int_equal(json_array_size(json_object_get(t, "resourceTags")), 0);
    json_t *uses = json_object_get(t, "appliedFor");
    assert_int_equal(json_array_size(uses), 2); /* each use once */
    assert_string_equal(json_string_value(json_array_get(uses, 0)), "PULL_THROUGH_CACHE");
    assert_string_equal(json_string_value(json_array_get(uses, 1)), "REPLICATION");
    assert_true(json_real_value(json_object_get(t, "createdAt")) == 1704067200.0);
    assert_true(json_real_value(json_object_get(t, "updatedAt")) == 1704067200.0);
    assert_null(json_object_get(t, "repositoryPolicy"));
    assert_null(json_object_get(t, "description"));
    json_decref(r);
    assert_templates(m, "prod");
}

static void test_create_repository_creation_template_all_settings(void **state)
{
    ecrmock *m = *state;
    json_t *r = NULL;
    json_t *req = json_pack(
        "{s:s, s:[s], s:s, s:{s:s, s:s}, s:[{s:s, s:s}], s:s, s:[{s:s, s:s}], s:s, s:s, s:s}", "prefix", "ROOT",
        "appliedFor", "CREATE_ON_PUSH", "description", "everything", "encryptionConfiguration", "encryptionType",
        "KMS", "kmsKey", KMS_KEY, "resourceTags", "Key", "team", "Value", "web", "imageTagMutability",
        "IMMUTABLE_WITH_EXCLUSION", "imageTagMutabilityExclusionFilters", "filterType", "WILDCARD", "filter", "latest",
        "repositoryPolicy", POLICY, "lifecyclePolicy", LIFECYCLE, "customRoleArn", ROLE);
    int st = ecrmock_call(m, "CreateRepositoryCreationTemplate", req, &r);
    json_decref(req);
    assert_ok(st, r);
    json_t *t = json_object_get(r, "repositoryCreationTemplate");
    assert_string_equal(jstr(t, "prefix"), "ROOT");
    assert_string_equal(jstr(t, "description"), "everything");
    assert_string_equal(jstr(json_object_get(t, "encryptionConfiguration"), "kmsKey"), KMS_KEY);
    assert_string_equal(jstr(json_array_get(json_object_get(t, "resourceTags"), 0), "Value"), "web");
    assert_string_equal(jstr(t, "imageTagMutability"), "IMMUTABLE_WITH_EXCLUSION");
    assert_string_equal(jstr(json_array_get(json_object_get(t, "imageTagMutabilityExclusionFilters"), 0), "filter"),
                        "latest");
    assert_string_equal(jstr(t, "repositoryPolicy"), POLICY);
    assert_string_equal(jstr(t, "lifecyclePolicy"), LIFECYCLE);
    assert_string_equal(jstr(t, "customRoleArn"), ROLE);
    json_decref(r);
}

static void test_create_repository_creation_template_refusals(void **state)
{
    ecrmock *m = *state;
    json_t *r = NULL;
    static const struct {
        const char *body, *type, *msg;
    } cases[] = {
        {"\"appliedFor\": []", "InvalidParameterException",
         "Invalid parameter at 'appliedFor' failed to satisfy constraint: 'Member must have length greater than or "
         "equal to 1'"},
        {"\"appliedFor\": [\"REPLICATION\"], \"imageTagMutability\": \"MUTABLE_WITH_EXCLUSION\"",
         "InvalidParameterException",
         "Invalid parameter at 'imageTagMutabilityExclusionFilters' failed to satisfy constraint: 'must be provided "
         "when imageTagMutability is MUTABLE_WITH_EXCLUSION'"},
        {"\"appliedFor\": [\"REPLICATION\"], \"imageTagMutabilityExclusionFilters\": [{\"filterType\": \"WILDCARD\", "
         "\"filter\": \"v*\"}]",
         "InvalidParameterException",
         "Invalid parameter at 'imageTagMutabilityExclusionFilters' failed to satisfy constraint: 'can only be "
         "provided when imageTagMutability is IMMUTABLE_WITH_EXCLUSION or MUTABLE_WITH_EXCLUSION'"},
        {"\"appliedFor\": [\"REPLICATION\"], \"encryptionConfiguration\": {\"encryptionType\": \"AES256\", "
         "\"kmsKey\": \"" KMS_KEY "\"}",
         "InvalidParameterException",
         "Invalid parameter at 'encryptionConfiguration.kmsKey' failed to satisfy constraint: 'can only be provided "
         "when encryptionType is KMS or KMS_DSSE'"},
        {"\"appliedFor\": [\"REPLICATION\"], \"resourceTags\": [{\"Key\": \"aws:x\", \"Value\": \"1\"}]",
         "InvalidTagParameterException", "Tag key 'aws:x' is reserved: keys prefixed with 'aws:' are for AWS use"},
        {"\"appliedFor\": [\"REPLICATION\"], \"repositoryPolicy\": \"{\\\"Statement\\\": []}\"",
         "InvalidParameterException",
         "Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Invalid repository policy provided'"},
        {"\"appliedFor\": [\"REPLICATION\"], \"lifecyclePolicy\": \"{}\"", "InvalidParameterException",
         "Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: 'Lifecycle policy validation "
         "failure: object has missing required properties ([\"rules\"])'"},
        {"\"appliedFor\": [\"REPLICATION\"], \"customRoleArn\": \"arn:aws:iam::" OTHER ":role/x\"",
         "InvalidParameterException",
         "Invalid parameter at 'customRoleArn' failed to satisfy constraint: 'The role must be in the same account "
         "as the registry '123456789012''"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_fail_msg(call(m, &r, "CreateRepositoryCreationTemplate", "{\"prefix\": \"web\", %s}", cases[i].body), &r,
                        cases[i].type, cases[i].msg);
    assert_templates(m, "");
    /* Empty texts mean none. */
    assert_ok(call(m, &r, "CreateRepositoryCreationTemplate",
                   "{\"prefix\": \"web\", \"appliedFor\": [\"REPLICATION\"], \"repositoryPolicy\": \"\", "
                   "\"lifecyclePolicy\": \"\", \"encryptionConfiguration\": {\"encryptionType\": \"KMS\", \"kmsKey\": "
                   "\"\"}}"),
              r);
    json_t *t = json_object_get(r, "repositoryCreationTemplate");
    assert_null(json_object_get(t, "repositoryPolicy"));
    assert_null(json_object_get(t, "lifecyclePolicy"));
    assert_null(json_object_get(json_object_get(t, "encryptionConfiguration"), "kmsKey"));
    json_decref(r);
}

static void test_create_repository_creation_template_already_exists_and_quota(void **state)
{
    ecrmock *m = *state;
    create_template(m, "web", "\"REPLICATION\"", NULL);
    json_t *r = NULL;
    assert_fail_msg(call(m, &r, "CreateRepositoryCreationTemplate",
                         "{\"prefix\": \"web/\", \"appliedFor\": [\"CREATE_ON_PUSH\"]}"),
                    &r, "TemplateAlreadyExistsException",
                    "The repository creation template with the prefix 'web/' already exists in the registry with id "
                    "'123456789012'");
    for (int i = 1; i < 50; i++) {
        char prefix[16];
        snprintf(prefix, sizeof prefix, "t%02d", i);
        create_template(m, prefix, "\"REPLICATION\"", NULL);
    }
    assert_fail_msg(call(m, &r, "CreateRepositoryCreationTemplate",
                         "{\"prefix\": \"more\", \"appliedFor\": [\"CREATE_ON_PUSH\"]}"),
                    &r, "LimitExceededException",
                    "The registry with id '123456789012' already has the maximum allowed number of repository "
                    "creation templates which is '50'");
    call_ok(m, "DeleteRepositoryCreationTemplate", "{\"prefix\": \"t10\"}");
    create_template(m, "more", "\"CREATE_ON_PUSH\"", NULL);
}

static void test_describe_repository_creation_templates_prefixes_and_paging(void **state)
{
    ecrmock *m = *state;
    for (int i = 0; i < 5; i++) {
        char prefix[16];
        snprintf(prefix, sizeof prefix, "p%d", i);
        create_template(m, prefix, "\"REPLICATION\"", NULL);
    }
    json_t *r = NULL;
    /* Prefixes naming no template are left out. */
    assert_ok(call(m, &r, "DescribeRepositoryCreationTemplates", "{\"prefixes\": [\"p3/\", \"nope\", \"p1\"]}"), r);
    json_t *list = json_object_get(r, "repositoryCreationTemplates");
    assert_int_equal(json_array_size(list), 2);
    assert_string_equal(jstr(json_array_get(list, 0), "prefix"), "p1");
    assert_string_equal(jstr(json_array_get(list, 1), "prefix"), "p3");
    assert_string_equal(jstr(r, "registryId"), "123456789012");
    json_decref(r);
    /* Pages of 2 over p0..p4, p2 deleted after the first page. */
    assert_ok(call(m, &r, "DescribeRepositoryCreationTemplates", "{\"maxResults\": 2}"), r);
    char *token = strdup(jstr(r, "nextToken"));
    assert_int_equal(json_array_size(json_object_get(r, "repositoryCreationTemplates")), 2);
    json_decref(r);
    call_ok(m, "DeleteRepositoryCreationTemplate", "{\"prefix\": \"p2\"}");
    assert_ok(call(m, &r, "DescribeRepositoryCreationTemplates", "{\"maxResults\": 2, \"nextToken\": \"%s\"}", token), r);
    list = json_object_get(r, "repositoryCreationTemplates");
    assert_int_equal(json_array_size(list), 2);
    assert_string_equal(jstr(json_array_get(list, 0), "prefix"), "p3");
    assert_string_equal(jstr(json_array_get(list, 1), "prefix"), "p4");
    assert_null(json_object_get(r, "nextToken"));
    json_decref(r);
    /* A token belongs to its listing: not to one with prefixes. */
    assert_fail_msg(call(m, &r, "DescribeRepositoryCreationTemplates", "{\"prefixes\": [\"p3\"], \"nextToken\": \"%s\"}",
                         token),
                    &r, "InvalidParameterException",
                    "Invalid parameter at 'NextToken' failed to satisfy constraint: 'Invalid next token provided'");
    free(token);
    /* Paging within prefixes. */
    assert_ok(call(m, &r, "DescribeRepositoryCreationTemplates", "{\"prefixes\": [\"p4\", \"p0\"], \"maxResults\": 1}"),
              r);
    assert_string_equal(jstr(json_array_get(json_object_get(r, "repositoryCreationTemplates"), 0), "prefix"), "p0");
    token = strdup(jstr(r, "nextToken"));
    json_decref(r);
    assert_ok(call(m, &r, "DescribeRepositoryCreationTemplates",
                   "{\"prefixes\": [\"p4\", \"p0\"], \"maxResults\": 1, \"nextToken\": \"%s\"}", token),
              r);
    assert_string_equal(jstr(json_array_get(json_object_get(r, "repositoryCreationTemplates"), 0), "prefix"), "p4");
    json_decref(r);
    free(token);
    /* Another registry has none. */
    assert_ok(call(m, &r, "DescribeRepositoryCreationTemplates", "{\"registryId\": \"" OTHER "\"}"), r);
    assert_string_equal(jstr(r, "registryId"), OTHER);
    assert_int_equal(json_array_size(json_object_get(r, "repositoryCreationTemplates")), 0);
    json_decref(r);
}

static void test_update_repository_creation_template(void **state)
{
    ecrmock *m = *state;
    create_template(m, "web", "\"REPLICATION\"",
                    "\"description\": \"one\", \"imageTagMutability\": \"IMMUTABLE_WITH_EXCLUSION\", "
                    "\"imageTagMutabilityExclusionFilters\": [{\"filterType\": \"WILDCARD\", \"filter\": \"dev-*\"}]");
    ecrmock_clock_advance(m, 30000, NULL);
    json_t *r = NULL;
    /* Members not given stay; mutability and its filters are one setting. */
    assert_ok(call(m, &r, "UpdateRepositoryCreationTemplate",
                   "{\"prefix\": \"web/\", \"imageTagMutability\": \"IMMUTABLE\", \"appliedFor\": [\"CREATE_ON_PUSH\"]}"),
              r);
    json_t *t = json_object_get(r, "repositoryCreationTemplate");
    assert_string_equal(jstr(t, "prefix"), "web");
    assert_string_equal(jstr(t, "description"), "one");
    assert_string_equal(jstr(t, "imageTagMutability"), "IMMUTABLE");
    assert_null(json_object_get(t, "imageTagMutabilityExclusionFilters"));
    assert_string_equal(json_string_value(json_array_get(json_object_get(t, "appliedFor"), 0)), "CREATE_ON_PUSH");
    assert_true(json_real_value(json_object_get(t, "createdAt")) == 1704067200.0);
    assert_true(json_real_value(json_object_get(t, "updatedAt")) == 1704067230.0);
    json_decref(r);

    json_t *before = answer_of(m, "DescribeRepositoryCreationTemplates", "{}");
    assert_fail_msg(call(m, &r, "UpdateRepositoryCreationTemplate", "{\"prefix\": \"nope\", \"description\": \"x\"}"),
                    &r, "TemplateNotFoundException",
                    "The repository creation template with the prefix 'nope' does not exist in the registry with id "
                    "'123456789012'");
    assert_error(call(m, &r, "UpdateRepositoryCreationTemplate",
                      "{\"prefix\": \"web\", \"description\": \"two\", \"appliedFor\": []}"),
                 r, 400, "InvalidParameterException");
    assert_error(call(m, &r, "UpdateRepositoryCreationTemplate",
                      "{\"prefix\": \"web\", \"description\": \"two\", \"lifecyclePolicy\": \"[1]\"}"),
                 r, 400, "InvalidParameterException");
    assert_answer_unchanged(m, "DescribeRepositoryCreationTemplates", "{}", before);
}

static void test_delete_repository_creation_template(void **state)
{
    ecrmock *m = *state;
    create_template(m, "web", "\"REPLICATION\"", "\"description\": \"d\"");
    create_template(m, "api", "\"REPLICATION\"", NULL);
    json_t *r = NULL;
    assert_ok(call(m, &r, "DeleteRepositoryCreationTemplate", "{\"prefix\": \"web/\"}"), r);
    assert_string_equal(jstr(r, "registryId"), "123456789012");
    assert_string_equal(jstr(json_object_get(r, "repositoryCreationTemplate"), "description"), "d");
    json_decref(r);
    assert_templates(m, "api");
    assert_fail_msg(call(m, &r, "DeleteRepositoryCreationTemplate", "{\"prefix\": \"web\"}"), &r,
                    "TemplateNotFoundException",
                    "The repository creation template with the prefix 'web' does not exist in the registry with id "
                    "'123456789012'");
    assert_templates(m, "api");
}

/* ---- what a template does ------------------------------------------------------------------ */

/* The repository's lifecycle policy text as GetLifecyclePolicy shows it; NULL when it has none. */
static const char *lifecycle_of(ecrmock *m, const char *name)
{
    static char text[1024];
    json_t *r = NULL;
    int st = call(m, &r, "GetLifecyclePolicy", "{\"repositoryName\": \"%s\"}", name);
    const char *p = st == 200 ? json_string_value(json_object_get(r, "lifecyclePolicyText")) : NULL;
    if (p)
        snprintf(text, sizeof text, "%s", p);
    json_decref(r);
    return p ? text : NULL;
}

static void test_create_repository_for_applies_longest_matching_prefix(void **state)
{
    ecrmock *m = *state;
    create_template(m, "ROOT", "\"PULL_THROUGH_CACHE\"", "\"imageTagMutability\": \"IMMUTABLE\"");
    create_template(m, "docker-hub", "\"PULL_THROUGH_CACHE\"",
                    "\"encryptionConfiguration\": {\"encryptionType\": \"KMS\", \"kmsKey\": \"" KMS_KEY "\"}, "
                    "\"resourceTags\": [{\"Key\": \"src\", \"Value\": \"hub\"}]");
    create_template(m, "docker-hub/library", "\"PULL_THROUGH_CACHE\"",
                    "\"imageTagMutability\": \"MUTABLE_WITH_EXCLUSION\", \"imageTagMutabilityExclusionFilters\": "
                    "[{\"filterType\": \"WILDCARD\", \"filter\": \"v*\"}], \"lifecyclePolicy\": " LIFECYCLE_JSON);
    /* Listed for another use only: never applies to a pull through cache. */
    create_template(m, "docker-hub/library/nginx", "\"REPLICATION\"", "\"imageTagMutability\": \"IMMUTABLE\"");

    json_t *repo = NULL;
    assert_int_equal(ecrmock_create_repository_for(m, NULL, "docker-hub/library/nginx", "PULL_THROUGH_CACHE", &repo, NULL),
                     ECRMOCK_ERR_OK);
    assert_string_equal(jstr(repo, "repositoryName"), "docker-hub/library/nginx");
    assert_string_equal(jstr(repo, "imageTagMutability"), "MUTABLE_WITH_EXCLUSION");
    assert_string_equal(jstr(json_array_get(json_object_get(repo, "imageTagMutabilityExclusionFilters"), 0), "filter"),
                        "v*");
    assert_string_equal(jstr(json_object_get(repo, "encryptionConfiguration"), "encryptionType"), "AES256");
    json_decref(repo);
    assert_string_equal(lifecycle_of(m, "docker-hub/library/nginx"), LIFECYCLE);

    /* docker-hub/other: the docker-hub template (KMS, tags), not ROOT's. */
    assert_int_equal(ecrmock_create_repository_for(m, NULL, "docker-hub/other", "PULL_THROUGH_CACHE", NULL, NULL),
                     ECRMOCK_ERR_OK);
    repo = describe_repo(m, "docker-hub/other");
    assert_string_equal(jstr(repo, "imageTagMutability"), "MUTABLE");
    assert_string_equal(jstr(json_object_get(repo, "encryptionConfiguration"), "encryptionType"), "KMS");
    assert_string_equal(jstr(json_object_get(repo, "encryptionConfiguration"), "kmsKey"), KMS_KEY);
    json_decref(repo);
    assert_null(lifecycle_of(m, "docker-hub/other"));

    /* "docker-hubx/a" does not start with "docker-hub/": ROOT applies. */
    assert_int_equal(ecrmock_create_repository_for(m, NULL, "docker-hubx/a", "PULL_THROUGH_CACHE", NULL, NULL), ECRMOCK_ERR_OK);
    repo = describe_repo(m, "docker-hubx/a");
    assert_string_equal(jstr(repo, "imageTagMutability"), "IMMUTABLE");
    json_decref(repo);
    /* No template for that use: ECR's defaults. */
    assert_int_equal(ecrmock_create_repository_for(m, NULL, "docker-hub/x", "CREATE_ON_PUSH", NULL, NULL), ECRMOCK_ERR_OK);
    repo = describe_repo(m, "docker-hub/x");
    assert_string_equal(jstr(repo, "imageTagMutability"), "MUTABLE");
    assert_string_equal(jstr(json_object_get(repo, "encryptionConfiguration"), "encryptionType"), "AES256");
    json_decref(repo);
    /* A template's settings are read when the repository is made, not later. */
    call_ok(m, "DeleteRepositoryCreationTemplate", "{\"prefix\": \"ROOT\"}");
    repo = describe_repo(m, "docker-hubx/a");
    assert_string_equal(jstr(repo, "imageTagMutability"), "IMMUTABLE");
    json_decref(repo);
}

static void test_create_repository_for_policy_and_tags(void **state)
{
    ecrmock *m = *state;
    json_t *r = NULL;
    call_ok(m, "CreateRepositoryCreationTemplate",
            "{\"prefix\": \"mirror\", \"appliedFor\": [\"REPLICATION\"], \"repositoryPolicy\": %s, "
            "\"resourceTags\": [{\"Key\": \"k\", \"Value\": \"v\"}]}",
            "\"{\\\"Statement\\\":{\\\"Effect\\\":\\\"Allow\\\",\\\"Principal\\\":\\\"*\\\",\\\"Action\\\":"
            "\\\"ecr:*\\\"}}\"");
    assert_int_equal(ecrmock_create_repository_for(m, NULL, "mirror/app", "REPLICATION", NULL, NULL), ECRMOCK_ERR_OK);
    assert_ok(call(m, &r, "GetRepositoryPolicy", "{\"repositoryName\": \"mirror/app\"}"), r);
    assert_string_equal(jstr(r, "policyText"),
                        "{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"ecr:*\"}}");
    json_decref(r);
    /* The tags are the repository's own: ListTagsForResource shows them. */
    assert_ok(call(m, &r, "ListTagsForResource",
                   "{\"resourceArn\": \"arn:aws:ecr:us-east-1:123456789012:repository/mirror/app\"}"),
              r);
    assert_int_equal(json_array_size(json_object_get(r, "tags")), 1);
    assert_string_equal(jstr(json_array_get(json_object_get(r, "tags"), 0), "Key"), "k");
    json_decref(r);
    /* A repository the user creates gets no template. */
    create_repo(m, "mirror/mine");
    assert_error(call(m, &r, "GetRepositoryPolicy", "{\"repositoryName\": \"mirror/mine\"}"), r, 400,
                 "RepositoryPolicyNotFoundException");
}

static void test_create_repository_for_refusals(void **state)
{
    ecrmock *m = *state;
    json_t *out = (json_t *)1;
    assert_int_equal(ERR_CODE(ecrmock_create_repository_for(m, NULL, "app", "PULL", &out, &test_err)), ECRMOCK_ERR_INVALID_PARAMETER);
    assert_null(out);
    assert_int_equal(ERR_CODE(ecrmock_create_repository_for(NULL, NULL, "app", "REPLICATION", NULL, &test_err)), ECRMOCK_ERR_INVALID_PARAMETER);
    assert_int_equal(ERR_CODE(ecrmock_create_repository_for(m, NULL, NULL, "REPLICATION", NULL, &test_err)), ECRMOCK_ERR_INVALID_PARAMETER);
    assert_int_equal(ERR_CODE(ecrmock_create_repository_for(m, NULL, "Bad Name", "REPLICATION", NULL, &test_err)),
                     ECRMOCK_ERR_INVALID_PARAMETER);
    assert_int_equal(ERR_CODE(ecrmock_create_repository_for(m, "12", "app", "REPLICATION", NULL, &test_err)), ECRMOCK_ERR_INVALID_PARAMETER);
    create_repo(m, "app");
    assert_int_equal(ERR_CODE(ecrmock_create_repository_for(m, NULL, "app", "REPLICATION", NULL, &test_err)),
                     ECRMOCK_ERR_REPOSITORY_ALREADY_EXISTS);
    /* In another registry, with that registry's templates. */
    call_ok(m, "CreateRepositoryCreationTemplate",
            "{\"registryId\": \"" OTHER "\", \"prefix\": \"ROOT\", \"appliedFor\": [\"REPLICATION\"], "
            "\"imageTagMutability\": \"IMMUTABLE\"}");
    assert_int_equal(ecrmock_create_repository_for(m, OTHER, "app", "REPLICATION", &out, NULL), ECRMOCK_ERR_OK);
    assert_string_equal(jstr(out, "registryId"), OTHER);
    assert_string_equal(jstr(out, "imageTagMutability"), "IMMUTABLE");
    json_decref(out);
    /* Nothing journaled: ECR's own creations are no calls of the user's. */
    assert_int_equal(ecrmock_call_count(m, "CreateRepository"), 1);
}

/* The ecrmock_err convention: ECR's refusal as the code and "<error>:
 * <ECR's message>" as the text; an unknown use names itself; NULL err
 * accepted; success clears an old failure. */
static void test_create_repository_for_err(void **state)
{
    ecrmock *m = *state;
    json_t *out = NULL;
    assert_int_equal(ERR_CODE(ecrmock_create_repository_for(m, NULL, "app", "PULL", &out, &test_err)),
                     ECRMOCK_ERR_INVALID_PARAMETER);
    assert_string_equal(test_err.path, "");
    assert_string_equal(test_err.text, "applied_for 'PULL' is none of PULL_THROUGH_CACHE, REPLICATION, CREATE_ON_PUSH");
    assert_int_equal(ERR_CODE(ecrmock_create_repository_for(NULL, NULL, "app", "REPLICATION", NULL, &test_err)),
                     ECRMOCK_ERR_INVALID_PARAMETER);
    assert_string_equal(test_err.text, "m and repository must not be NULL");
    assert_int_equal(ERR_CODE(ecrmock_create_repository_for(m, NULL, "app", "REPLICATION", &out, dirty_err())),
                     ECRMOCK_ERR_OK);
    assert_non_null(out);
    json_decref(out);
    assert_int_equal(ERR_CODE(ecrmock_create_repository_for(m, NULL, "app", "REPLICATION", &out, &test_err)),
                     ECRMOCK_ERR_REPOSITORY_ALREADY_EXISTS);
    assert_null(out);
    assert_string_equal(test_err.text, "RepositoryAlreadyExistsException: The repository with name 'app' already "
                                       "exists in the registry with id '123456789012'");
    assert_int_equal(ecrmock_create_repository_for(m, NULL, "app", "REPLICATION", NULL, NULL), -1);
}

/* Attack: a repository name or registry id that is not UTF-8.  The
 * request's json_pack() refused it, which was reported as ECRMOCK_ERR_SERVER
 * "out of memory". */
static void test_create_repository_for_not_utf8(void **state)
{
    ecrmock *m = *state;
    json_t *out = NULL;
    assert_int_equal(ERR_CODE(ecrmock_create_repository_for(m, NULL, "caf\xe9", "REPLICATION", &out, &test_err)),
                     ECRMOCK_ERR_INVALID_PARAMETER);
    assert_string_equal(test_err.text, "the repository name 'caf\xef\xbf\xbd' is not UTF-8");
    assert_null(out);
    assert_int_equal(ERR_CODE(ecrmock_create_repository_for(m, "12345678901\xff", "app", "REPLICATION", &out, &test_err)),
                     ECRMOCK_ERR_INVALID_PARAMETER);
    assert_string_equal(test_err.text, "the registry id '12345678901\xef\xbf\xbd' is not UTF-8");
    assert_int_equal(repo_count(m, NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup_mock, teardown_mock)
        T(test_create_repository_creation_template_defaults),
        T(test_create_repository_creation_template_all_settings),
        T(test_create_repository_creation_template_refusals),
        T(test_create_repository_creation_template_already_exists_and_quota),
        T(test_describe_repository_creation_templates_prefixes_and_paging),
        T(test_update_repository_creation_template),
        T(test_delete_repository_creation_template),
        T(test_create_repository_for_applies_longest_matching_prefix),
        T(test_create_repository_for_policy_and_tags),
        T(test_create_repository_for_refusals),
        T(test_create_repository_for_err),
        T(test_create_repository_for_not_utf8),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
