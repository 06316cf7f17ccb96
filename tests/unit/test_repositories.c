/*
 * CreateRepository, DescribeRepositories and DeleteRepository: every output
 * field, the validation rules and their texts, paging, and what a failed call
 * leaves behind (nothing).
 */
#include <stdbool.h>

#include "helpers.h"

/* The model's RepositoryName pattern, as ECR quotes it in its message. */
#define NAME_PATTERN "[a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*(\\/[a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*)*"
#define OTHER_REGISTRY "210987654321"
#define TOKEN_ERROR "Invalid parameter at 'NextToken' failed to satisfy constraint: 'Invalid next token provided'"

/* ---- helpers --------------------------------------------------------------------- */

static void assert_time_equal(json_t *v, int64_t ms)
{
    assert_true(json_is_real(v));
    double want = (double)ms / 1000.0;
    if (json_real_value(v) != want)
        fail_msg("timestamp %.3f, want %.3f", json_real_value(v), want);
}

static json_t *create_req(ecrmock *m, json_t *req)
{
    json_t *r = NULL;
    int st = ecrmock_call(m, "CreateRepository", req, &r);
    json_decref(req);
    assert_ok(st, r);
    return r;
}

/* true when `name` exists in the caller's registry (or `registry`). */
static bool repo_exists(ecrmock *m, const char *registry, const char *name)
{
    json_t *req = json_pack("{s:[s], s:s*}", "repositoryNames", name, "registryId", registry);
    json_t *r = NULL;
    int st = ecrmock_call(m, "DescribeRepositories", req, &r);
    json_decref(req);
    bool found = st == 200;
    if (!found)
        assert_string_equal(err_type(r), "RepositoryNotFoundException");
    json_decref(r);
    return found;
}

static void create_named(ecrmock *m, const char *fmt, int i)
{
    char name[64];
    snprintf(name, sizeof name, fmt, i);
    create_repo(m, name);
}

static void delete_repo(ecrmock *m, const char *name)
{
    call_ok(m, "DeleteRepository", "{\"repositoryName\": \"%s\"}", name);
}

/* One page of DescribeRepositories; appends the names to `seen`; returns the
 * nextToken (malloc'd) or NULL. */
static char *describe_page(ecrmock *m, int max, const char *token, json_t *seen, size_t *page_len)
{
    json_t *req = json_pack("{s:i, s:s*}", "maxResults", max, "nextToken", token);
    json_t *r = NULL;
    int st = ecrmock_call(m, "DescribeRepositories", req, &r);
    json_decref(req);
    assert_ok(st, r);
    json_t *list = json_object_get(r, "repositories");
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v) json_array_append(seen, json_object_get(v, "repositoryName"));
    if (page_len)
        *page_len = json_array_size(list);
    const char *next = json_string_value(json_object_get(r, "nextToken"));
    char *out = next ? strdup(next) : NULL;
    json_decref(r);
    return out;
}

static void assert_names(json_t *seen, const char *const *want, size_t n)
{
    if (json_array_size(seen) != n) {
        char *s = json_dumps(seen, JSON_COMPACT);
        fail_msg("listed %s, want %zu names", s, n);
    }
    for (size_t i = 0; i < n; i++)
        assert_string_equal(json_string_value(json_array_get(seen, i)), want[i]);
}

/* ---- CreateRepository -------------------------------------------------------------- */

static void test_create_repository_defaults(void **state)
{
    ecrmock *m = *state;
    ecrmock_clock_set(m, INT64_C(1717171717123), NULL);
    json_t *r = NULL;
    assert_ok(call(m, &r, "CreateRepository", "{\"repositoryName\": \"team/app\"}"), r);
    json_t *repo = json_object_get(r, "repository");
    assert_int_equal(json_object_size(r), 1);
    /* Exactly these eight members: no exclusion filters when none were set. */
    assert_int_equal(json_object_size(repo), 8);
    assert_string_equal(json_string_value(json_object_get(repo, "repositoryArn")),
                        "arn:aws:ecr:us-east-1:123456789012:repository/team/app");
    assert_string_equal(json_string_value(json_object_get(repo, "registryId")), "123456789012");
    assert_string_equal(json_string_value(json_object_get(repo, "repositoryName")), "team/app");
    assert_string_equal(json_string_value(json_object_get(repo, "repositoryUri")),
                        "123456789012.dkr.ecr.us-east-1.amazonaws.com/team/app");
    assert_time_equal(json_object_get(repo, "createdAt"), INT64_C(1717171717123));
    assert_string_equal(json_string_value(json_object_get(repo, "imageTagMutability")), "MUTABLE");
    json_t *scan = json_object_get(repo, "imageScanningConfiguration");
    assert_int_equal(json_object_size(scan), 1);
    assert_true(json_is_false(json_object_get(scan, "scanOnPush")));
    json_t *enc = json_object_get(repo, "encryptionConfiguration");
    assert_int_equal(json_object_size(enc), 1);
    assert_string_equal(json_string_value(json_object_get(enc, "encryptionType")), "AES256");

    /* DescribeRepositories shows the same repository. */
    json_t *d = NULL;
    assert_ok(call(m, &d, "DescribeRepositories", "{\"repositoryNames\": [\"team/app\"]}"), d);
    assert_int_equal(json_array_size(json_object_get(d, "repositories")), 1);
    assert_true(json_equal(json_array_get(json_object_get(d, "repositories"), 0), repo));
    json_decref(d);
    json_decref(r);
}

static void test_create_repository_created_at_follows_clock(void **state)
{
    ecrmock *m = *state;
    json_t *r = NULL;
    assert_ok(call(m, &r, "CreateRepository", "{\"repositoryName\": \"first\"}"), r);
    assert_time_equal(json_object_get(json_object_get(r, "repository"), "createdAt"), ECRMOCK_DEFAULT_CLOCK_MS);
    json_decref(r);
    ecrmock_clock_advance(m, 90500, NULL);
    assert_ok(call(m, &r, "CreateRepository", "{\"repositoryName\": \"second\"}"), r);
    assert_time_equal(json_object_get(json_object_get(r, "repository"), "createdAt"),
                      ECRMOCK_DEFAULT_CLOCK_MS + 90500);
    json_decref(r);
}

static void test_create_repository_settings_echoed(void **state)
{
    ecrmock *m = *state;
    json_t *r = create_req(m, json_pack("{s:s, s:s, s:{s:b}, s:{s:s, s:s}}", "repositoryName", "locked",
                                        "imageTagMutability", "IMMUTABLE", "imageScanningConfiguration",
                                        "scanOnPush", 1, "encryptionConfiguration", "encryptionType", "KMS",
                                        "kmsKey", "arn:aws:kms:us-east-1:123456789012:key/abcd"));
    json_t *repo = json_object_get(r, "repository");
    assert_string_equal(json_string_value(json_object_get(repo, "imageTagMutability")), "IMMUTABLE");
    assert_true(json_is_true(json_object_get(json_object_get(repo, "imageScanningConfiguration"), "scanOnPush")));
    json_t *enc = json_object_get(repo, "encryptionConfiguration");
    assert_string_equal(json_string_value(json_object_get(enc, "encryptionType")), "KMS");
    assert_string_equal(json_string_value(json_object_get(enc, "kmsKey")),
                        "arn:aws:kms:us-east-1:123456789012:key/abcd");

    /* Describe shows the stored settings, not just the echo. */
    json_t *d = NULL;
    assert_ok(call(m, &d, "DescribeRepositories", "{\"repositoryNames\": [\"locked\"]}"), d);
    assert_true(json_equal(json_array_get(json_object_get(d, "repositories"), 0), repo));
    json_decref(d);
    json_decref(r);

    r = create_req(m, json_pack("{s:s, s:{s:s}, s:{s:b}}", "repositoryName", "dsse", "encryptionConfiguration",
                                "encryptionType", "KMS_DSSE", "imageScanningConfiguration", "scanOnPush", 0));
    repo = json_object_get(r, "repository");
    assert_string_equal(json_string_value(json_object_get(json_object_get(repo, "encryptionConfiguration"),
                                                          "encryptionType")),
                        "KMS_DSSE");
    assert_true(json_is_false(json_object_get(json_object_get(repo, "imageScanningConfiguration"), "scanOnPush")));
    json_decref(r);
}

static void check_arn_uri(const char *region, const char *account, const char *arn, const char *uri)
{
    ecrmock_options o = ECRMOCK_OPTIONS_INIT;
    o.region = region;
    o.account_id = account;
    ecrmock *m = ecrmock_new(&o);
    assert_non_null(m);
    json_t *r = NULL;
    assert_ok(call(m, &r, "CreateRepository", "{\"repositoryName\": \"team/app\"}"), r);
    json_t *repo = json_object_get(r, "repository");
    assert_string_equal(json_string_value(json_object_get(repo, "repositoryArn")), arn);
    assert_string_equal(json_string_value(json_object_get(repo, "repositoryUri")), uri);
    assert_string_equal(json_string_value(json_object_get(repo, "registryId")), account);
    json_decref(r);
    ecrmock_free(m);
}

static void test_create_repository_region_and_account_options(void **state)
{
    (void)state;
    check_arn_uri("eu-west-3", "000011112222", "arn:aws:ecr:eu-west-3:000011112222:repository/team/app",
                  "000011112222.dkr.ecr.eu-west-3.amazonaws.com/team/app");
    /* The China and GovCloud partitions have their own ARN partition (and
     * China its own DNS suffix). */
    check_arn_uri("cn-north-1", "000011112222", "arn:aws-cn:ecr:cn-north-1:000011112222:repository/team/app",
                  "000011112222.dkr.ecr.cn-north-1.amazonaws.com.cn/team/app");
    check_arn_uri("us-gov-west-1", "000011112222",
                  "arn:aws-us-gov:ecr:us-gov-west-1:000011112222:repository/team/app",
                  "000011112222.dkr.ecr.us-gov-west-1.amazonaws.com/team/app");
}

static void test_create_repository_other_registry(void **state)
{
    ecrmock *m = *state;
    json_t *r = NULL;
    assert_ok(call(m, &r, "CreateRepository", "{\"repositoryName\": \"shared\", \"registryId\": \"%s\"}",
                   OTHER_REGISTRY),
              r);
    json_t *repo = json_object_get(r, "repository");
    assert_string_equal(json_string_value(json_object_get(repo, "registryId")), OTHER_REGISTRY);
    assert_string_equal(json_string_value(json_object_get(repo, "repositoryArn")),
                        "arn:aws:ecr:us-east-1:" OTHER_REGISTRY ":repository/shared");
    assert_string_equal(json_string_value(json_object_get(repo, "repositoryUri")),
                        OTHER_REGISTRY ".dkr.ecr.us-east-1.amazonaws.com/shared");
    json_decref(r);

    /* It lives in that registry only. */
    assert_true(repo_exists(m, OTHER_REGISTRY, "shared"));
    assert_false(repo_exists(m, NULL, "shared"));
    assert_int_equal(repo_count(m, NULL), 0);
    assert_int_equal(repo_count(m, OTHER_REGISTRY), 1);

    /* The same name in the caller's registry is another repository. */
    create_repo(m, "shared");
    assert_int_equal(repo_count(m, NULL), 1);
    assert_int_equal(repo_count(m, OTHER_REGISTRY), 1);
}

static void test_create_repository_already_exists(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "dup");
    json_t *r = NULL;
    assert_fail_msg(call(m, &r, "CreateRepository",
                         "{\"repositoryName\": \"dup\", \"imageTagMutability\": \"IMMUTABLE\"}"),
                    &r, "RepositoryAlreadyExistsException",
                    "The repository with name 'dup' already exists in the registry with id '123456789012'");
    /* The first one is unchanged. */
    assert_ok(call(m, &r, "DescribeRepositories", "{\"repositoryNames\": [\"dup\"]}"), r);
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(r, "repositories"), 0),
                                                          "imageTagMutability")),
                        "MUTABLE");
    json_decref(r);
    assert_int_equal(repo_count(m, NULL), 1);

    /* In another registry the text names that registry. */
    call_ok(m, "CreateRepository", "{\"repositoryName\": \"dup\", \"registryId\": \"%s\"}",
            OTHER_REGISTRY);
    assert_fail_msg(call(m, &r, "CreateRepository", "{\"repositoryName\": \"dup\", \"registryId\": \"%s\"}",
                         OTHER_REGISTRY),
                    &r, "RepositoryAlreadyExistsException",
                    "The repository with name 'dup' already exists in the registry with id '" OTHER_REGISTRY "'");
}

static void test_create_repository_invalid_name_pattern(void **state)
{
    ecrmock *m = *state;
    static const char *const bad[] = {"Upper", "ends-", "-starts", "a..b", "a___b", "a/", "/a", "a//b",
                                      "with space", "a.-b", "tab\\tname", "caf\\u00e9", "a:b", "a@b"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *r = NULL;
        int st = call(m, &r, "CreateRepository", "{\"repositoryName\": \"%s\"}", bad[i]);
        if (st != 400)
            fail_msg("name %s: status %d", bad[i], st);
        assert_fail_msg(st, &r, "InvalidParameterException",
                        "Invalid parameter at 'repositoryName' failed to satisfy constraint: "
                        "'must satisfy regular expression '" NAME_PATTERN "''");
    }
    assert_int_equal(repo_count(m, NULL), 0);

    /* The separators the pattern allows. */
    static const char *const good[] = {"ab", "a.b", "a_b", "a__b", "a-b", "a---b", "a/b/c", "0a9", "team/app-1.2_x"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        create_repo(m, good[i]);
    assert_int_equal(repo_count(m, NULL), sizeof good / sizeof good[0]);
}

static void test_create_repository_invalid_name_length(void **state)
{
    ecrmock *m = *state;
    json_t *r = NULL;
    assert_fail_msg(call(m, &r, "CreateRepository", "{\"repositoryName\": \"a\"}"), &r, "InvalidParameterException",
                    "Invalid parameter at 'repositoryName' failed to satisfy constraint: "
                    "'must have length greater than or equal to 2'");
    char name[258];
    memset(name, 'a', 257);
    name[257] = '\0';
    assert_fail_msg(call(m, &r, "CreateRepository", "{\"repositoryName\": \"%s\"}", name), &r,
                    "InvalidParameterException",
                    "Invalid parameter at 'repositoryName' failed to satisfy constraint: "
                    "'must have length less than or equal to 256'");
    assert_int_equal(repo_count(m, NULL), 0);
    name[256] = '\0';
    create_repo(m, name); /* 256 is allowed */
    assert_true(repo_exists(m, NULL, name));
}

static void test_create_repository_missing_name(void **state)
{
    ecrmock *m = *state;
    json_t *r = NULL;
    assert_fail_msg(call(m, &r, "CreateRepository", "{}"), &r, "InvalidParameterException",
                    "Invalid parameter at 'repositoryName' failed to satisfy constraint: 'Member must not be null'");
}

static void test_create_repository_invalid_mutability(void **state)
{
    ecrmock *m = *state;
    json_t *r = NULL;
    assert_fail_msg(call(m, &r, "CreateRepository",
                         "{\"repositoryName\": \"x1\", \"imageTagMutability\": \"mutable\"}"),
                    &r, "InvalidParameterException",
                    "Invalid parameter at 'imageTagMutability' failed to satisfy constraint: 'Member must satisfy "
                    "enum value set: [MUTABLE, IMMUTABLE, IMMUTABLE_WITH_EXCLUSION, MUTABLE_WITH_EXCLUSION]'");
    assert_false(repo_exists(m, NULL, "x1"));
}

static void test_create_repository_exclusion_filters(void **state)
{
    ecrmock *m = *state;
    json_t *r = NULL;
    /* Echoed and stored with a *_WITH_EXCLUSION mutability. */
    r = create_req(m, json_pack("{s:s, s:s, s:[{s:s, s:s}, {s:s, s:s}]}", "repositoryName", "excl",
                                "imageTagMutability", "IMMUTABLE_WITH_EXCLUSION", "imageTagMutabilityExclusionFilters",
                                "filterType", "WILDCARD", "filter", "latest", "filterType", "WILDCARD", "filter",
                                "dev-*"));
    json_t *repo = json_object_get(r, "repository");
    assert_int_equal(json_object_size(repo), 9);
    assert_string_equal(json_string_value(json_object_get(repo, "imageTagMutability")), "IMMUTABLE_WITH_EXCLUSION");
    json_t *want = json_pack("[{s:s, s:s}, {s:s, s:s}]", "filterType", "WILDCARD", "filter", "latest", "filterType",
                             "WILDCARD", "filter", "dev-*");
    assert_true(json_equal(json_object_get(repo, "imageTagMutabilityExclusionFilters"), want));
    json_decref(want);
    json_decref(r);
    assert_ok(call(m, &r, "DescribeRepositories", "{\"repositoryNames\": [\"excl\"]}"), r);
    assert_non_null(json_object_get(json_array_get(json_object_get(r, "repositories"), 0),
                                    "imageTagMutabilityExclusionFilters"));
    json_decref(r);

    /* *_WITH_EXCLUSION needs filters. */
    assert_fail_msg(call(m, &r, "CreateRepository",
                         "{\"repositoryName\": \"e1\", \"imageTagMutability\": \"MUTABLE_WITH_EXCLUSION\"}"),
                    &r, "InvalidParameterException",
                    "Invalid parameter at 'imageTagMutabilityExclusionFilters' failed to satisfy constraint: "
                    "'must be provided when imageTagMutability is MUTABLE_WITH_EXCLUSION'");
    /* Filters need a *_WITH_EXCLUSION mutability (the default MUTABLE too). */
    const char *plain[] = {"\"imageTagMutability\": \"IMMUTABLE\",", ""};
    for (int i = 0; i < 2; i++)
        assert_fail_msg(call(m, &r, "CreateRepository",
                             "{\"repositoryName\": \"e2\", %s \"imageTagMutabilityExclusionFilters\": "
                             "[{\"filterType\": \"WILDCARD\", \"filter\": \"x\"}]}",
                             plain[i]),
                        &r, "InvalidParameterException",
                        "Invalid parameter at 'imageTagMutabilityExclusionFilters' failed to satisfy constraint: "
                        "'can only be provided when imageTagMutability is IMMUTABLE_WITH_EXCLUSION or "
                        "MUTABLE_WITH_EXCLUSION'");
    /* The model's rules on the list and its members. */
    assert_fail_msg(call(m, &r, "CreateRepository",
                         "{\"repositoryName\": \"e3\", \"imageTagMutability\": \"MUTABLE_WITH_EXCLUSION\", "
                         "\"imageTagMutabilityExclusionFilters\": []}"),
                    &r, "InvalidParameterException",
                    "Invalid parameter at 'imageTagMutabilityExclusionFilters' failed to satisfy constraint: "
                    "'Member must have length greater than or equal to 1'");
    json_t *six = json_array();
    for (int i = 0; i < 6; i++)
        json_array_append_new(six, json_pack("{s:s, s:s}", "filterType", "WILDCARD", "filter", "v*"));
    json_t *req = json_pack("{s:s, s:s, s:o}", "repositoryName", "e4", "imageTagMutability", "MUTABLE_WITH_EXCLUSION",
                            "imageTagMutabilityExclusionFilters", six);
    int st = ecrmock_call(m, "CreateRepository", req, &r);
    json_decref(req);
    assert_fail_msg(st, &r, "InvalidParameterException",
                    "Invalid parameter at 'imageTagMutabilityExclusionFilters' failed to satisfy constraint: "
                    "'Member must have length less than or equal to 5'");
    assert_fail_msg(call(m, &r, "CreateRepository",
                         "{\"repositoryName\": \"e5\", \"imageTagMutability\": \"MUTABLE_WITH_EXCLUSION\", "
                         "\"imageTagMutabilityExclusionFilters\": "
                         "[{\"filterType\": \"WILDCARD\", \"filter\": \"a b\"}]}"),
                    &r, "InvalidParameterException",
                    "Invalid parameter at 'imageTagMutabilityExclusionFilters.1.member.filter' failed to satisfy "
                    "constraint: 'must satisfy regular expression '^[0-9a-zA-Z._*-]{1,128}$''");
    assert_fail_msg(call(m, &r, "CreateRepository",
                         "{\"repositoryName\": \"e6\", \"imageTagMutability\": \"MUTABLE_WITH_EXCLUSION\", "
                         "\"imageTagMutabilityExclusionFilters\": [{\"filterType\": \"REGEX\", \"filter\": \"a\"}]}"),
                    &r, "InvalidParameterException",
                    "Invalid parameter at 'imageTagMutabilityExclusionFilters.1.member.filterType' failed to satisfy "
                    "constraint: 'Member must satisfy enum value set: [WILDCARD]'");
    assert_int_equal(repo_count(m, NULL), 1);
}

static void test_create_repository_kms_key_with_aes256(void **state)
{
    ecrmock *m = *state;
    json_t *r = NULL;
    assert_fail_msg(call(m, &r, "CreateRepository",
                         "{\"repositoryName\": \"enc\", \"encryptionConfiguration\": "
                         "{\"encryptionType\": \"AES256\", \"kmsKey\": \"alias/mine\"}}"),
                    &r, "InvalidParameterException",
                    "Invalid parameter at 'encryptionConfiguration.kmsKey' failed to satisfy constraint: "
                    "'can only be provided when encryptionType is KMS or KMS_DSSE'");
    assert_false(repo_exists(m, NULL, "enc"));
    /* encryptionType is required inside the structure. */
    assert_fail_msg(call(m, &r, "CreateRepository",
                         "{\"repositoryName\": \"enc\", \"encryptionConfiguration\": {\"kmsKey\": \"alias/mine\"}}"),
                    &r, "InvalidParameterException",
                    "Invalid parameter at 'encryptionConfiguration.encryptionType' failed to satisfy constraint: "
                    "'Member must not be null'");
    assert_false(repo_exists(m, NULL, "enc"));
    /* KMS_DSSE takes a key. */
    assert_ok(call(m, &r, "CreateRepository",
                   "{\"repositoryName\": \"enc\", \"encryptionConfiguration\": "
                   "{\"encryptionType\": \"KMS_DSSE\", \"kmsKey\": \"alias/mine\"}}"),
              r);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_object_get(r, "repository"), "encryptionConfiguration"), "kmsKey")),
                        "alias/mine");
    json_decref(r);
}

static int create_with_tags(ecrmock *m, const char *name, json_t *tags, json_t **r)
{
    json_t *req = json_pack("{s:s, s:o}", "repositoryName", name, "tags", tags);
    int st = ecrmock_call(m, "CreateRepository", req, r);
    json_decref(req);
    return st;
}

static void test_create_repository_invalid_tags(void **state)
{
    ecrmock *m = *state;
    json_t *r = NULL;
    assert_fail_msg(create_with_tags(m, "t1", one_tag("aws:owner", "me"), &r), &r, "InvalidTagParameterException",
                    "Tag key 'aws:owner' is reserved: keys prefixed with 'aws:' are for AWS use");
    assert_fail_msg(create_with_tags(m, "t1", one_tag("", "v"), &r), &r, "InvalidTagParameterException",
                    "Tag key '' must be between 1 and 128 characters long");
    char key[130];
    memset(key, 'k', 129);
    key[129] = '\0';
    char want[256];
    snprintf(want, sizeof want, "Tag key '%s' must be between 1 and 128 characters long", key);
    assert_fail_msg(create_with_tags(m, "t1", one_tag(key, "v"), &r), &r, "InvalidTagParameterException", want);
    char value[258];
    memset(value, 'v', 257);
    value[257] = '\0';
    assert_fail_msg(create_with_tags(m, "t1", one_tag("env", value), &r), &r, "InvalidTagParameterException",
                    "The value of tag 'env' must be at most 256 characters long");
    assert_fail_msg(create_with_tags(m, "t1",
                                     json_pack("[{s:s, s:s}, {s:s, s:s}]", "Key", "env", "Value", "a", "Key", "env",
                                               "Value", "b"),
                                     &r),
                    &r, "InvalidTagParameterException", "Tag key 'env' is given more than once");
    /* Key and Value are both required. */
    assert_fail_msg(create_with_tags(m, "t1", json_pack("[{s:s}]", "Key", "env"), &r), &r,
                    "InvalidParameterException",
                    "Invalid parameter at 'tags.1.member.Value' failed to satisfy constraint: "
                    "'Member must not be null'");
    assert_int_equal(repo_count(m, NULL), 0);

    /* The limits themselves are allowed: a 128-character key, a 256-character
     * value, an empty value. */
    key[128] = '\0';
    value[256] = '\0';
    assert_ok(create_with_tags(m, "t1",
                               json_pack("[{s:s, s:s}, {s:s, s:s}]", "Key", key, "Value", value, "Key", "empty",
                                         "Value", ""),
                               &r),
              r);
    json_decref(r);
    assert_true(repo_exists(m, NULL, "t1"));
}

static void test_create_repository_too_many_tags(void **state)
{
    ecrmock *m = *state;
    json_t *tags = json_array();
    for (int i = 0; i < 51; i++) {
        char k[16];
        snprintf(k, sizeof k, "key%d", i);
        json_array_append_new(tags, json_pack("{s:s, s:s}", "Key", k, "Value", "v"));
    }
    json_t *r = NULL;
    assert_fail_msg(create_with_tags(m, "many", json_incref(tags), &r), &r, "TooManyTagsException",
                    "A resource can have at most 50 tags; the request gives 51");
    assert_false(repo_exists(m, NULL, "many"));
    json_array_remove(tags, 50);
    assert_ok(create_with_tags(m, "many", tags, &r), r);
    json_decref(r);
    assert_true(repo_exists(m, NULL, "many"));
}

static void test_create_repository_limit_exceeded(void **state)
{
    (void)state;
    ecrmock_options o = ECRMOCK_OPTIONS_INIT;
    o.max_repositories = 2;
    ecrmock *m = ecrmock_new(&o);
    assert_non_null(m);
    create_repo(m, "one");
    create_repo(m, "two");
    json_t *r = NULL;
    assert_fail_msg(call(m, &r, "CreateRepository", "{\"repositoryName\": \"three\"}"), &r, "LimitExceededException",
                    "The registry with id '123456789012' already has the maximum allowed number of repositories "
                    "which is '2'");
    assert_int_equal(repo_count(m, NULL), 2);
    assert_false(repo_exists(m, NULL, "three"));

    /* The quota is per registry. */
    for (int i = 0; i < 2; i++) {
        call_ok(m, "CreateRepository", "{\"repositoryName\": \"o%d\", \"registryId\": \"%s\"}", i,
                OTHER_REGISTRY);
    }
    assert_fail_msg(call(m, &r, "CreateRepository", "{\"repositoryName\": \"o2\", \"registryId\": \"%s\"}",
                         OTHER_REGISTRY),
                    &r, "LimitExceededException",
                    "The registry with id '" OTHER_REGISTRY "' already has the maximum allowed number of "
                    "repositories which is '2'");

    /* A delete makes room again. */
    delete_repo(m, "one");
    create_repo(m, "three");
    assert_int_equal(repo_count(m, NULL), 2);
    ecrmock_free(m);
}

/* ---- DescribeRepositories --------------------------------------------------------------- */

static void test_describe_repositories_by_name_in_request_order(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "alpha");
    create_repo(m, "beta");
    create_repo(m, "gamma");
    json_t *r = NULL;
    assert_ok(call(m, &r, "DescribeRepositories", "{\"repositoryNames\": [\"gamma\", \"alpha\", \"beta\"]}"), r);
    json_t *seen = json_array();
    json_t *list = json_object_get(r, "repositories");
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v) json_array_append(seen, json_object_get(v, "repositoryName"));
    static const char *const want[] = {"gamma", "alpha", "beta"};
    assert_names(seen, want, 3);
    assert_null(json_object_get(r, "nextToken"));
    json_decref(seen);
    json_decref(r);
}

static void test_describe_repositories_missing_name(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "alpha");
    json_t *r = NULL;
    assert_repo_not_found(call(m, &r, "DescribeRepositories", "{\"repositoryNames\": [\"alpha\", \"nope\"]}"),
                          &r, "nope", "123456789012");
    assert_repo_not_found(call(m, &r, "DescribeRepositories",
                               "{\"repositoryNames\": [\"alpha\"], \"registryId\": \"" OTHER_REGISTRY "\"}"),
                          &r, "alpha", OTHER_REGISTRY);
}

static void test_describe_repositories_invalid_names(void **state)
{
    ecrmock *m = *state;
    json_t *r = NULL;
    assert_fail_msg(call(m, &r, "DescribeRepositories", "{\"repositoryNames\": [\"Bad\"]}"), &r,
                    "InvalidParameterException",
                    "Invalid parameter at 'repositoryNames' failed to satisfy constraint: 'Member must satisfy "
                    "constraint: [Member must satisfy regular expression pattern: " NAME_PATTERN "]'");
    assert_fail_msg(call(m, &r, "DescribeRepositories", "{\"repositoryNames\": []}"), &r, "InvalidParameterException",
                    "Invalid parameter at 'repositoryNames' failed to satisfy constraint: 'Member must have length "
                    "greater than or equal to 1'");
}

static void test_describe_repositories_empty_registry(void **state)
{
    ecrmock *m = *state;
    json_t *r = NULL;
    assert_ok(call(m, &r, "DescribeRepositories", "{}"), r);
    assert_true(json_is_array(json_object_get(r, "repositories")));
    assert_int_equal(json_array_size(json_object_get(r, "repositories")), 0);
    assert_null(json_object_get(r, "nextToken"));
    json_decref(r);
}

static void test_describe_repositories_paging_visits_each_once(void **state)
{
    ecrmock *m = *state;
    const char *want[25];
    char names[25][16];
    for (int i = 0; i < 25; i++) {
        snprintf(names[i], sizeof names[i], "r%02d", i);
        want[i] = names[i];
        create_repo(m, names[i]);
    }
    json_t *seen = json_array();
    char *token = NULL;
    size_t sizes[8], pages = 0;
    do {
        char *next = describe_page(m, 7, token, seen, &sizes[pages]);
        free(token);
        token = next;
        pages++;
        assert_true(pages < 8);
    } while (token);
    assert_int_equal(pages, 4);
    assert_int_equal(sizes[0], 7);
    assert_int_equal(sizes[1], 7);
    assert_int_equal(sizes[2], 7);
    assert_int_equal(sizes[3], 4);
    assert_names(seen, want, 25); /* creation order, each once */
    json_decref(seen);
}

/* A last page that is exactly full carries no nextToken. */
static void test_describe_repositories_no_token_on_exact_last_page(void **state)
{
    ecrmock *m = *state;
    for (int i = 0; i < 10; i++)
        create_named(m, "r%02d", i);
    json_t *seen = json_array();
    size_t n = 0;
    char *token = describe_page(m, 5, NULL, seen, &n);
    assert_non_null(token);
    assert_int_equal(n, 5);
    char *next = describe_page(m, 5, token, seen, &n);
    assert_null(next);
    assert_int_equal(n, 5);
    assert_int_equal(json_array_size(seen), 10);
    free(token);
    json_decref(seen);
}

static void test_describe_repositories_walk_survives_changes(void **state)
{
    ecrmock *m = *state;
    for (int i = 0; i < 20; i++)
        create_named(m, "r%02d", i);
    json_t *seen = json_array();
    char *token = describe_page(m, 5, NULL, seen, NULL);
    assert_non_null(token);
    /* Between pages: delete the very next one, one later on, one already
     * listed; create a new one. */
    delete_repo(m, "r05");
    delete_repo(m, "r10");
    delete_repo(m, "r02");
    create_repo(m, "late");
    while (token) {
        char *next = describe_page(m, 5, token, seen, NULL);
        free(token);
        token = next;
        if (json_array_size(seen) == 10) {
            /* Mid-walk again: the next one to list is r12 (r10 is gone). */
            delete_repo(m, "r12");
            delete_repo(m, "r13");
        }
    }
    static const char *const want[] = {"r00", "r01", "r02", "r03", "r04", "r06", "r07", "r08", "r09",
                                       "r11", "r14", "r15", "r16", "r17", "r18", "r19", "late"};
    assert_names(seen, want, sizeof want / sizeof want[0]);
    json_decref(seen);
}

/* Enough deletions mid-walk that the registry's listing is compacted: the
 * token still finds its place. */
static void test_describe_repositories_walk_survives_mass_delete(void **state)
{
    ecrmock *m = *state;
    for (int i = 0; i < 100; i++)
        create_named(m, "r%03d", i);
    json_t *seen = json_array();
    char *token = describe_page(m, 10, NULL, seen, NULL);
    assert_non_null(token);
    for (int i = 5; i < 70; i++) {
        char name[16];
        snprintf(name, sizeof name, "r%03d", i);
        delete_repo(m, name);
    }
    create_repo(m, "late");
    while (token) {
        char *next = describe_page(m, 10, token, seen, NULL);
        free(token);
        token = next;
    }
    const char *want[41];
    char names[41][16];
    int k = 0;
    for (int i = 0; i < 100; i++) {
        if (i >= 10 && i < 70)
            continue;
        snprintf(names[k], sizeof names[k], "r%03d", i);
        want[k] = names[k];
        k++;
    }
    want[k++] = "late";
    assert_names(seen, want, (size_t)k);
    assert_int_equal(repo_count(m, NULL), 36);
    json_decref(seen);
}

/* Every repository after the token deleted: an empty last page. */
static void test_describe_repositories_walk_rest_deleted(void **state)
{
    ecrmock *m = *state;
    for (int i = 0; i < 6; i++)
        create_named(m, "r%02d", i);
    json_t *seen = json_array();
    char *token = describe_page(m, 3, NULL, seen, NULL);
    assert_non_null(token);
    delete_repo(m, "r03");
    delete_repo(m, "r04");
    delete_repo(m, "r05");
    size_t n = 99;
    char *next = describe_page(m, 3, token, seen, &n);
    assert_null(next);
    assert_int_equal(n, 0);
    free(token);
    json_decref(seen);
}

static void test_describe_repositories_default_page_size(void **state)
{
    ecrmock *m = *state;
    for (int i = 0; i < 150; i++)
        create_named(m, "repo-%03d", i);
    json_t *r = NULL;
    assert_ok(call(m, &r, "DescribeRepositories", "{}"), r);
    assert_int_equal(json_array_size(json_object_get(r, "repositories")), 100);
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(r, "repositories"), 99),
                                                          "repositoryName")),
                        "repo-099");
    const char *token = json_string_value(json_object_get(r, "nextToken"));
    assert_non_null(token);
    json_t *r2 = NULL;
    assert_ok(call(m, &r2, "DescribeRepositories", "{\"nextToken\": \"%s\"}", token), r2);
    assert_int_equal(json_array_size(json_object_get(r2, "repositories")), 50);
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(r2, "repositories"), 0),
                                                          "repositoryName")),
                        "repo-100");
    assert_null(json_object_get(r2, "nextToken"));
    json_decref(r2);
    json_decref(r);
}

static void test_describe_repositories_invalid_token(void **state)
{
    ecrmock *m = *state;
    for (int i = 0; i < 4; i++)
        create_named(m, "r%02d", i);
    json_t *seen = json_array();
    char *token = describe_page(m, 2, NULL, seen, NULL);
    assert_non_null(token);
    json_t *r = NULL;

    /* Not base64 at all; base64 of nothing we made; a bad length. */
    static const char *const junk[] = {"not a token!", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "abc"};
    for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++)
        assert_fail_msg(call(m, &r, "DescribeRepositories", "{\"nextToken\": \"%s\"}", junk[i]), &r,
                        "InvalidParameterException", TOKEN_ERROR);

    /* Our token with its first character changed (it encodes the position,
     * so the signature no longer matches). */
    char *tampered = strdup(token);
    tampered[0] = tampered[0] == 'A' ? 'B' : 'A';
    assert_fail_msg(call(m, &r, "DescribeRepositories", "{\"nextToken\": \"%s\"}", tampered), &r,
                    "InvalidParameterException", TOKEN_ERROR);
    /* ... and cut short. */
    tampered[0] = token[0];
    tampered[strlen(tampered) - 4] = '\0';
    assert_fail_msg(call(m, &r, "DescribeRepositories", "{\"nextToken\": \"%s\"}", tampered), &r,
                    "InvalidParameterException", TOKEN_ERROR);
    free(tampered);

    /* The genuine token still works afterwards. */
    free(describe_page(m, 2, token, seen, NULL));
    assert_int_equal(json_array_size(seen), 4);
    free(token);
    json_decref(seen);
}

static void test_describe_repositories_token_from_other_registry(void **state)
{
    ecrmock *m = *state;
    json_t *r = NULL;
    for (int i = 0; i < 3; i++) {
        create_named(m, "mine%d", i);
        call_ok(m, "CreateRepository", "{\"repositoryName\": \"theirs%d\", \"registryId\": \"%s\"}", i,
                OTHER_REGISTRY);
    }
    assert_ok(call(m, &r, "DescribeRepositories", "{\"maxResults\": 1, \"registryId\": \"%s\"}", OTHER_REGISTRY), r);
    char *token = strdup(json_string_value(json_object_get(r, "nextToken")));
    json_decref(r);
    assert_fail_msg(call(m, &r, "DescribeRepositories", "{\"nextToken\": \"%s\"}", token), &r,
                    "InvalidParameterException", TOKEN_ERROR);
    /* In its own registry it is good. */
    assert_ok(call(m, &r, "DescribeRepositories", "{\"nextToken\": \"%s\", \"registryId\": \"%s\"}", token,
                   OTHER_REGISTRY),
              r);
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(r, "repositories"), 0),
                                                          "repositoryName")),
                        "theirs1");
    json_decref(r);

    /* Nor is a token good on another instance (another seed). */
    ecrmock_options o = ECRMOCK_OPTIONS_INIT;
    o.seed = 42;
    ecrmock *other = ecrmock_new(&o);
    assert_non_null(other);
    call_ok(other, "CreateRepository", "{\"repositoryName\": \"theirs0\", \"registryId\": \"%s\"}",
            OTHER_REGISTRY);
    assert_fail_msg(call(other, &r, "DescribeRepositories", "{\"nextToken\": \"%s\", \"registryId\": \"%s\"}", token,
                         OTHER_REGISTRY),
                    &r, "InvalidParameterException", TOKEN_ERROR);
    ecrmock_free(other);
    free(token);
}

/* A token of another listing (ListImages) is not a DescribeRepositories token. */
static void test_describe_repositories_token_from_other_listing(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "imgs");
    create_repo(m, "more");
    for (int i = 0; i < 3; i++) {
        free(push_new_image(m, "imgs", 1, i, NULL));
    }
    json_t *r = NULL;
    assert_ok(call(m, &r, "ListImages", "{\"repositoryName\": \"imgs\", \"maxResults\": 1}"), r);
    char *token = strdup(json_string_value(json_object_get(r, "nextToken")));
    json_decref(r);
    assert_fail_msg(call(m, &r, "DescribeRepositories", "{\"nextToken\": \"%s\"}", token), &r,
                    "InvalidParameterException", TOKEN_ERROR);
    free(token);
}

static void test_describe_repositories_names_with_paging_params(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "alpha");
    json_t *r = NULL;
    assert_fail_msg(call(m, &r, "DescribeRepositories", "{\"repositoryNames\": [\"alpha\"], \"maxResults\": 5}"), &r,
                    "InvalidParameterException",
                    "Invalid parameter at 'maxResults' failed to satisfy constraint: 'maxResults cannot be specified "
                    "with repositoryNames'");
    assert_fail_msg(call(m, &r, "DescribeRepositories", "{\"repositoryNames\": [\"alpha\"], \"nextToken\": \"abcd\"}"),
                    &r, "InvalidParameterException",
                    "Invalid parameter at 'nextToken' failed to satisfy constraint: 'nextToken cannot be specified "
                    "with repositoryNames'");
}

static void test_describe_repositories_max_results_range(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "alpha");
    json_t *r = NULL;
    assert_fail_msg(call(m, &r, "DescribeRepositories", "{\"maxResults\": 0}"), &r, "InvalidParameterException",
                    "Invalid parameter at 'maxResults' failed to satisfy constraint: 'Member must have value greater "
                    "than or equal to 1'");
    assert_fail_msg(call(m, &r, "DescribeRepositories", "{\"maxResults\": 1001}"), &r, "InvalidParameterException",
                    "Invalid parameter at 'maxResults' failed to satisfy constraint: 'Member must have value less "
                    "than or equal to 1000'");
    assert_ok(call(m, &r, "DescribeRepositories", "{\"maxResults\": 1000}"), r);
    assert_int_equal(json_array_size(json_object_get(r, "repositories")), 1);
    json_decref(r);
}

/* ---- DeleteRepository ---------------------------------------------------------------------- */

static void test_delete_repository_returns_repository(void **state)
{
    ecrmock *m = *state;
    json_t *created = create_req(m, json_pack("{s:s, s:s, s:{s:b}}", "repositoryName", "gone", "imageTagMutability",
                                              "IMMUTABLE", "imageScanningConfiguration", "scanOnPush", 1));
    ecrmock_clock_advance(m, 5000, NULL);
    json_t *r = NULL;
    assert_ok(call(m, &r, "DeleteRepository", "{\"repositoryName\": \"gone\"}"), r);
    assert_int_equal(json_object_size(r), 1);
    assert_true(json_equal(json_object_get(r, "repository"), json_object_get(created, "repository")));
    json_decref(r);
    json_decref(created);
    assert_false(repo_exists(m, NULL, "gone"));
    assert_repo_not_found(call(m, &r, "DeleteRepository", "{\"repositoryName\": \"gone\"}"),
                          &r, "gone", "123456789012");
}

static void test_delete_repository_not_found(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "here");
    json_t *r = NULL;
    assert_repo_not_found(call(m, &r, "DeleteRepository", "{\"repositoryName\": \"nope\"}"),
                          &r, "nope", "123456789012");
    assert_repo_not_found(call(m, &r, "DeleteRepository", "{\"repositoryName\": \"here\", \"registryId\": \"%s\"}",
                               OTHER_REGISTRY), &r, "here", OTHER_REGISTRY);
    assert_true(repo_exists(m, NULL, "here"));
}

static void test_delete_repository_not_empty(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "busy");
    char *mf = make_manifest(m, "busy", 1, 1);
    char *digest = put_image(m, "busy", mf, "v1");
    json_t *r = NULL;
    const char *msg = "The repository with name 'busy' in registry with id '123456789012' cannot be deleted because "
                      "it still contains images";
    assert_fail_msg(call(m, &r, "DeleteRepository", "{\"repositoryName\": \"busy\"}"), &r,
                    "RepositoryNotEmptyException", msg);
    assert_fail_msg(call(m, &r, "DeleteRepository", "{\"repositoryName\": \"busy\", \"force\": false}"), &r,
                    "RepositoryNotEmptyException", msg);
    /* Nothing changed: the repository, its image and its layers are there. */
    assert_true(repo_exists(m, NULL, "busy"));
    assert_ok(call(m, &r, "ListImages", "{\"repositoryName\": \"busy\"}"), r);
    json_t *ids = json_object_get(r, "imageIds");
    assert_int_equal(json_array_size(ids), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(ids, 0), "imageDigest")), digest);
    json_decref(r);
    const char *layer = "layer 0 of image 1";
    char want_digest[ECRMOCK_DIGEST_SIZE];
    sha256_digest(layer, strlen(layer), want_digest);
    void *bytes = NULL;
    size_t len = 0;
    assert_int_equal(ecrmock_get_layer(m, NULL, "busy", want_digest, &bytes, &len, NULL), ECRMOCK_ERR_OK);
    assert_int_equal(len, strlen(layer));
    assert_memory_equal(bytes, layer, len);
    free(bytes);
    free(digest);
    free(mf);
}

static void test_delete_repository_force(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "busy");
    create_repo(m, "keep");
    char *mf = make_manifest(m, "busy", 2, 7);
    free(put_image(m, "busy", mf, "v1"));
    free(put_image(m, "busy", mf, "v2"));
    /* The same layer bytes in another repository share the blob. */
    const char *layer = "layer 0 of image 7";
    char digest[ECRMOCK_DIGEST_SIZE];
    push_layer(m, "keep", layer, strlen(layer), digest);

    json_t *r = NULL;
    /* A download URL handed out before the delete serves the layer now... */
    assert_ok(call(m, &r, "GetDownloadUrlForLayer", "{\"repositoryName\": \"busy\", \"layerDigest\": \"%s\"}",
                   digest),
              r);
    char *url = strdup(json_string_value(json_object_get(r, "downloadUrl")));
    json_decref(r);
    void *bytes = NULL;
    size_t len = 0;
    assert_int_equal(ecrmock_fetch_url(m, url, &bytes, &len), 200);
    assert_int_equal(len, strlen(layer));
    free(bytes);
    bytes = NULL;

    assert_ok(call(m, &r, "DeleteRepository", "{\"repositoryName\": \"busy\", \"force\": true}"), r);
    assert_string_equal(json_string_value(json_object_get(json_object_get(r, "repository"), "repositoryName")), "busy");
    json_decref(r);
    assert_false(repo_exists(m, NULL, "busy"));
    assert_int_equal(ERR_CODE(ecrmock_get_layer(m, NULL, "busy", digest, &bytes, &len, &test_err)), ECRMOCK_ERR_REPOSITORY_NOT_FOUND);
    assert_null(bytes);
    /* ... and nothing once the repository is gone. */
    assert_int_equal(ecrmock_fetch_url(m, url, &bytes, &len), 404);
    assert_null(bytes);
    assert_repo_not_found(call(m, &r, "ListImages", "{\"repositoryName\": \"busy\"}"), &r, "busy", "123456789012");

    /* A new repository of the same name starts empty: no image, no layer. */
    create_repo(m, "busy");
    assert_ok(call(m, &r, "ListImages", "{\"repositoryName\": \"busy\"}"), r);
    assert_int_equal(json_array_size(json_object_get(r, "imageIds")), 0);
    json_decref(r);
    assert_int_equal(ERR_CODE(ecrmock_get_layer(m, NULL, "busy", digest, &bytes, &len, &test_err)), ECRMOCK_ERR_LAYERS_NOT_FOUND);
    assert_int_equal(ecrmock_fetch_url(m, url, &bytes, &len), 404);
    free(url);

    /* The other repository's copy is untouched. */
    assert_int_equal(ecrmock_get_layer(m, NULL, "keep", digest, &bytes, &len, NULL), ECRMOCK_ERR_OK);
    assert_int_equal(len, strlen(layer));
    assert_memory_equal(bytes, layer, len);
    free(bytes);
    free(mf);
}

/* Uploaded layers that no image references do not make a repository
 * "contain images". */
static void test_delete_repository_with_only_layers(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "layers");
    char digest[ECRMOCK_DIGEST_SIZE];
    push_layer(m, "layers", "abc", 3, digest);
    call_ok(m, "DeleteRepository", "{\"repositoryName\": \"layers\"}");
    void *bytes = NULL;
    size_t len = 0;
    assert_int_equal(ERR_CODE(ecrmock_get_layer(m, NULL, "layers", digest, &bytes, &len, &test_err)), ECRMOCK_ERR_REPOSITORY_NOT_FOUND);
}

static void test_delete_repository_other_registry(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "same");
    json_t *r = NULL;
    call_ok(m, "CreateRepository", "{\"repositoryName\": \"same\", \"registryId\": \"%s\"}", OTHER_REGISTRY);
    assert_ok(call(m, &r, "DeleteRepository", "{\"repositoryName\": \"same\", \"registryId\": \"%s\"}", OTHER_REGISTRY),
              r);
    assert_string_equal(json_string_value(json_object_get(json_object_get(r, "repository"), "registryId")),
                        OTHER_REGISTRY);
    json_decref(r);
    assert_false(repo_exists(m, OTHER_REGISTRY, "same"));
    assert_true(repo_exists(m, NULL, "same"));
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup_mock, teardown_mock)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_create_repository_defaults),
        T(test_create_repository_created_at_follows_clock),
        T(test_create_repository_settings_echoed),
        T(test_create_repository_region_and_account_options),
        T(test_create_repository_other_registry),
        T(test_create_repository_already_exists),
        T(test_create_repository_invalid_name_pattern),
        T(test_create_repository_invalid_name_length),
        T(test_create_repository_missing_name),
        T(test_create_repository_invalid_mutability),
        T(test_create_repository_exclusion_filters),
        T(test_create_repository_kms_key_with_aes256),
        T(test_create_repository_invalid_tags),
        T(test_create_repository_too_many_tags),
        T(test_create_repository_limit_exceeded),
        T(test_describe_repositories_by_name_in_request_order),
        T(test_describe_repositories_missing_name),
        T(test_describe_repositories_invalid_names),
        T(test_describe_repositories_empty_registry),
        T(test_describe_repositories_paging_visits_each_once),
        T(test_describe_repositories_no_token_on_exact_last_page),
        T(test_describe_repositories_walk_survives_changes),
        T(test_describe_repositories_walk_survives_mass_delete),
        T(test_describe_repositories_walk_rest_deleted),
        T(test_describe_repositories_default_page_size),
        T(test_describe_repositories_invalid_token),
        T(test_describe_repositories_token_from_other_registry),
        T(test_describe_repositories_token_from_other_listing),
        T(test_describe_repositories_names_with_paging_params),
        T(test_describe_repositories_max_results_range),
        T(test_delete_repository_returns_repository),
        T(test_delete_repository_not_found),
        T(test_delete_repository_not_empty),
        T(test_delete_repository_force),
        T(test_delete_repository_with_only_layers),
        T(test_delete_repository_other_registry),
    };
    return cmocka_run_group_tests_name("repositories", tests, NULL, NULL);
}
