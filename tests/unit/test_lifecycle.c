/*
 * Lifecycle policies: PutLifecyclePolicy, GetLifecyclePolicy,
 * DeleteLifecyclePolicy, StartLifecyclePolicyPreview,
 * GetLifecyclePolicyPreview and ecrmock_lifecycle_apply().
 *
 * The evaluation tests push images at chosen virtual times, out of push
 * order, so that an answer computed from anything but imagePushedAt, the
 * rules' priorities and their counts would fail.
 */
#include "helpers.h"

#include <stdbool.h>

#define ACCOUNT "123456789012"
#define DAY_MS INT64_C(86400000)
#define T0 ECRMOCK_DEFAULT_CLOCK_MS
#define MT_DOCKER_V2 "application/vnd.docker.distribution.manifest.v2+json"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"

#define NO_POLICY(name)                                                                                  \
    "Lifecycle policy does not exist for the repository with name '" name "' in the registry with id " \
    "'" ACCOUNT "'"
#define INVALID(why)                                                                       \
    "Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: 'Lifecycle " \
    "policy validation failure: " why "'"

/* ---- helpers ------------------------------------------------------------------ */

/* `text` padded with trailing blanks to ECR's 100-character minimum
 * (whitespace is JSON, so the document is unchanged).  Static buffer. */
static const char *padded(const char *text)
{
    static char buf[8192];
    snprintf(buf, sizeof buf, "%-100s", text);
    return buf;
}

/* One rule as JSON text.  list_key "tagPrefixList"/"tagPatternList" with a
 * JSON list, or NULL; count_type "imageCountMoreThan" or "sinceImagePushed"
 * (countUnit days is added for the latter). */
static char *rule(int prio, const char *status, const char *list_key, const char *list, const char *count_type, int n)
{
    static char bufs[8][512];
    static int next;
    char *b = bufs[next++ % 8];
    char extra[256] = "";
    if (list_key)
        snprintf(extra, sizeof extra, "\"%s\": %s, ", list_key, list);
    snprintf(b, 512,
             "{\"rulePriority\": %d, \"description\": \"rule %d\", \"selection\": {\"tagStatus\": \"%s\", %s"
             "\"countType\": \"%s\", %s\"countNumber\": %d}, \"action\": {\"type\": \"expire\"}}",
             prio, prio, status, extra, count_type, strcmp(count_type, "sinceImagePushed") == 0 ? "\"countUnit\": \"days\", " : "",
             n);
    return b;
}

static int lc_call(ecrmock *m, const char *action, const char *repo, const char *text, json_t **r)
{
    json_t *req = json_pack("{s:s, s:s*}", "repositoryName", repo, "lifecyclePolicyText", text);
    int st = ecrmock_call(m, action, req, r);
    json_decref(req);
    return st;
}

static void put_policy(ecrmock *m, const char *repo, const char *text)
{
    json_t *r = NULL;
    assert_ok(lc_call(m, "PutLifecyclePolicy", repo, text, &r), r);
    json_decref(r);
}

/* Pushes a distinct image at virtual time `at_ms` with an optional tag;
 * returns its digest (malloc'd). */
static char *push_at(ecrmock *m, const char *repo, int64_t at_ms, int salt, const char *tag)
{
    ecrmock_clock_set(m, at_ms, NULL);
    return push_new_image(m, repo, 1, salt, tag);
}

/* Adds a tag to an existing image by putting its manifest again. */
static void add_tag(ecrmock *m, const char *repo, const char *digest, const char *tag)
{
    json_t *r = NULL;
    assert_ok(call(m, &r, "BatchGetImage", "{\"repositoryName\": \"%s\", \"imageIds\": [{\"imageDigest\": \"%s\"}]}",
                   repo, digest),
              r);
    const char *mf = STR(json_array_get(json_object_get(r, "images"), 0), "imageManifest");
    free(put_image(m, repo, mf, tag));
    json_decref(r);
}

/* Whether the repository still holds the image. */
static bool has_image(ecrmock *m, const char *repo, const char *digest)
{
    json_t *list = ecrmock_images(m, NULL, repo, NULL);
    size_t i;
    json_t *img;
    bool found = false;
    json_array_foreach(list, i, img) found = found || strcmp(STR(img, "imageDigest"), digest) == 0;
    json_decref(list);
    return found;
}

static size_t image_count(ecrmock *m, const char *repo)
{
    json_t *list = ecrmock_images(m, NULL, repo, NULL);
    size_t n = json_array_size(list);
    json_decref(list);
    return n;
}

/* Asserts that result `i` of a list is (digest, rule priority). */
static void assert_result(json_t *list, size_t i, const char *digest, int prio)
{
    json_t *res = json_array_get(list, i);
    assert_non_null(res);
    assert_string_equal(STR(res, "imageDigest"), digest);
    assert_int_equal(json_integer_value(json_object_get(res, "appliedRulePriority")), prio);
    assert_string_equal(STR(json_object_get(res, "action"), "type"), "EXPIRE");
}

static json_t *apply(ecrmock *m, const char *repo)
{
    json_t *expired = NULL;
    assert_int_equal(ecrmock_lifecycle_apply(m, NULL, repo, &expired, NULL), ECRMOCK_ERR_OK);
    assert_non_null(expired);
    return expired;
}

/* ---- Put / Get / Delete ---------------------------------------------------------- */

static void test_put_lifecycle_policy_round_trip(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "app");
    char text[1024];
    snprintf(text, sizeof text, "{\"rules\": [%s]}", rule(1, "untagged", NULL, NULL, "imageCountMoreThan", 3));
    json_t *r = NULL;
    assert_ok(lc_call(m, "PutLifecyclePolicy", "app", text, &r), r);
    assert_int_equal(json_object_size(r), 3);
    assert_string_equal(STR(r, "registryId"), ACCOUNT);
    assert_string_equal(STR(r, "repositoryName"), "app");
    assert_string_equal(STR(r, "lifecyclePolicyText"), text);
    json_decref(r);

    assert_ok(lc_call(m, "GetLifecyclePolicy", "app", NULL, &r), r);
    assert_string_equal(STR(r, "lifecyclePolicyText"), text);
    assert_string_equal(STR(r, "registryId"), ACCOUNT);
    assert_string_equal(STR(r, "repositoryName"), "app");
    assert_null(json_object_get(r, "lastEvaluatedAt")); /* it has never run */
    json_decref(r);

    /* A second Put replaces the first, text kept verbatim. */
    char text2[1024];
    snprintf(text2, sizeof text2, "{ \"rules\" : [ %s ] }\n",
             rule(7, "tagged", "tagPrefixList", "[\"v\"]", "sinceImagePushed", 30));
    put_policy(m, "app", text2);
    assert_ok(lc_call(m, "GetLifecyclePolicy", "app", NULL, &r), r);
    assert_string_equal(STR(r, "lifecyclePolicyText"), text2);
    json_decref(r);
}

static void test_get_lifecycle_policy_not_found(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "app");
    json_t *r = NULL;
    assert_fail_msg(lc_call(m, "GetLifecyclePolicy", "app", NULL, &r), &r, "LifecyclePolicyNotFoundException",
                    NO_POLICY("app"));
}

static void test_delete_lifecycle_policy(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "app");
    json_t *r = NULL;
    assert_fail_msg(lc_call(m, "DeleteLifecyclePolicy", "app", NULL, &r), &r, "LifecyclePolicyNotFoundException",
                    NO_POLICY("app"));
    char text[1024];
    snprintf(text, sizeof text, "{\"rules\": [%s]}", rule(1, "any", NULL, NULL, "imageCountMoreThan", 10));
    put_policy(m, "app", text);
    assert_ok(lc_call(m, "DeleteLifecyclePolicy", "app", NULL, &r), r);
    assert_string_equal(STR(r, "lifecyclePolicyText"), text);
    assert_string_equal(STR(r, "registryId"), ACCOUNT);
    assert_string_equal(STR(r, "repositoryName"), "app");
    json_decref(r);
    assert_fail_msg(lc_call(m, "GetLifecyclePolicy", "app", NULL, &r), &r, "LifecyclePolicyNotFoundException",
                    NO_POLICY("app"));
    assert_fail_msg(lc_call(m, "DeleteLifecyclePolicy", "app", NULL, &r), &r, "LifecyclePolicyNotFoundException",
                    NO_POLICY("app"));
}

static void test_lifecycle_repository_not_found(void **state)
{
    ecrmock *m = *state;
    const char *actions[] = {"PutLifecyclePolicy", "GetLifecyclePolicy", "DeleteLifecyclePolicy",
                             "StartLifecyclePolicyPreview", "GetLifecyclePolicyPreview"};
    char text[1024];
    snprintf(text, sizeof text, "{\"rules\": [%s]}", rule(1, "any", NULL, NULL, "imageCountMoreThan", 10));
    for (size_t i = 0; i < sizeof actions / sizeof actions[0]; i++) {
        json_t *r = NULL;
        bool with_text = strcmp(actions[i], "PutLifecyclePolicy") == 0;
        assert_repo_not_found(lc_call(m, actions[i], "nope", with_text ? text : NULL, &r), &r, "nope", ACCOUNT);
    }
}

static void test_lifecycle_policy_per_registry_and_gone_with_repository(void **state)
{
    ecrmock *m = *state;
    json_t *r = NULL;
    call_ok(m, "CreateRepository", "{\"registryId\": \"210987654321\", \"repositoryName\": \"app\"}");
    create_repo(m, "app");
    char text[1024];
    snprintf(text, sizeof text, "{\"rules\": [%s]}", rule(1, "any", NULL, NULL, "imageCountMoreThan", 10));
    json_t *req = json_pack("{s:s, s:s, s:s}", "registryId", "210987654321", "repositoryName", "app",
                            "lifecyclePolicyText", text);
    assert_ok(ecrmock_call(m, "PutLifecyclePolicy", req, &r), r);
    json_decref(req);
    assert_string_equal(STR(r, "registryId"), "210987654321");
    json_decref(r);
    /* The caller's own "app" has none. */
    assert_fail_msg(lc_call(m, "GetLifecyclePolicy", "app", NULL, &r), &r, "LifecyclePolicyNotFoundException",
                    NO_POLICY("app"));
    assert_repo_not_found(
        call(m, &r, "GetLifecyclePolicy", "{\"registryId\": \"210987654321\", \"repositoryName\": \"x1\"}"), &r,
        "x1", "210987654321");

    /* A repository deleted and created again starts without a policy. */
    put_policy(m, "app", text);
    call_ok(m, "DeleteRepository", "{\"repositoryName\": \"app\"}");
    create_repo(m, "app");
    assert_fail_msg(lc_call(m, "GetLifecyclePolicy", "app", NULL, &r), &r, "LifecyclePolicyNotFoundException",
                    NO_POLICY("app"));
}

/* ---- validation of the policy text ------------------------------------------------------------ */

typedef struct bad_policy {
    const char *text;
    const char *message;
} bad_policy;

#define SEL_OK "\"selection\": {\"tagStatus\": \"untagged\", \"countType\": \"imageCountMoreThan\", \"countNumber\": 1}"
#define ACT_OK "\"action\": {\"type\": \"expire\"}"

/* A rule of the archive storage class's own kind, with `sel_extra` in its
 * selection and `action` as its action. */
#define ARCHIVE_RULE(prio, sel_extra, action)                                                            \
    "{\"rulePriority\": " #prio ", \"selection\": {\"tagStatus\": \"any\", " sel_extra "\"countUnit\": \"days\", " \
    "\"countNumber\": 90}, \"action\": " action "}"
#define TO_ARCHIVE "{\"type\": \"transition\", \"targetStorageClass\": \"archive\"}"
#define EXPIRE "{\"type\": \"expire\"}"
#define ONE_OF_TWO INVALID("instance failed to match exactly one schema (matched 0 out of 2)")

static const bad_policy BAD[] = {
    {"not json at all", INVALID("Could not map policyString into LifecyclePolicy.")},
    {"[{\"rulePriority\": 1}]", INVALID("Could not map policyString into LifecyclePolicy.")},
    {"{\"no_rules\": \"x\"}", INVALID("object has missing required properties ([\"rules\"])")},
    {"{\"rules\": [], \"extra\": 1}",
     INVALID("object instance has properties which are not allowed by the schema: ([\"extra\"])")},
    {"{\"rules\": {}}", INVALID("instance type (object) does not match any allowed primitive type (allowed: [\"array\"])")},
    {"{\"rules\": []}", INVALID("array is too short: must have at least 1 elements but instance has 0 elements")},
    {"{\"rules\": [\"r\"]}", INVALID("instance type (string) does not match any allowed primitive type (allowed: [\"object\"])")},
    {"{\"rules\": [{\"description\": \"d\"}]}",
     INVALID("object has missing required properties ([\"action\", \"rulePriority\", \"selection\"])")},
    {"{\"rules\": [{\"rulePriority\": 1, " SEL_OK ", " ACT_OK ", \"zeta\": 1, \"alpha\": 2}]}",
     INVALID("object instance has properties which are not allowed by the schema: ([\"alpha\", \"zeta\"])")},
    {"{\"rules\": [{\"rulePriority\": 0, " SEL_OK ", " ACT_OK "}]}",
     INVALID("numeric instance is lower than the required minimum (minimum: 1, found: 0)")},
    {"{\"rules\": [{\"rulePriority\": \"1\", " SEL_OK ", " ACT_OK "}]}",
     INVALID("instance type (string) does not match any allowed primitive type (allowed: [\"integer\"])")},
    {"{\"rules\": [{\"rulePriority\": 1, \"description\": 5, " SEL_OK ", " ACT_OK "}]}",
     INVALID("instance type (integer) does not match any allowed primitive type (allowed: [\"string\"])")},
    {"{\"rules\": [{\"rulePriority\": 1, \"selection\": {\"tagStatus\": \"untagged\"}, " ACT_OK "}]}",
     INVALID("object has missing required properties ([\"countNumber\", \"countType\"])")},
    {"{\"rules\": [{\"rulePriority\": 1, \"selection\": {\"tagStatus\": \"some\", \"countType\": "
     "\"imageCountMoreThan\", \"countNumber\": 1}, " ACT_OK "}]}",
     INVALID("instance value (some) not found in enum :(possible values: [\"any\", \"tagged\", \"untagged\"])")},
    {"{\"rules\": [{\"rulePriority\": 1, \"selection\": {\"tagStatus\": \"untagged\", \"countType\": "
     "\"imageCountLessThan\", \"countNumber\": 1}, " ACT_OK "}]}",
     INVALID("instance failed to match exactly one schema (matched 0 out of 2)")},
    {"{\"rules\": [{\"rulePriority\": 1, \"selection\": {\"tagStatus\": \"untagged\", \"countType\": "
     "\"imageCountMoreThan\", \"countUnit\": \"days\", \"countNumber\": 1}, " ACT_OK "}]}",
     INVALID("instance failed to match exactly one schema (matched 0 out of 2)")},
    {"{\"rules\": [{\"rulePriority\": 1, \"selection\": {\"tagStatus\": \"untagged\", \"countType\": "
     "\"sinceImagePushed\", \"countNumber\": 1}, " ACT_OK "}]}",
     INVALID("instance failed to match exactly one schema (matched 0 out of 2)")},
    {"{\"rules\": [{\"rulePriority\": 1, \"selection\": {\"tagStatus\": \"untagged\", \"countType\": "
     "\"sinceImagePushed\", \"countUnit\": \"hours\", \"countNumber\": 1}, " ACT_OK "}]}",
     INVALID("instance value (hours) not found in enum :(possible values: [\"days\"])")},
    {"{\"rules\": [{\"rulePriority\": 1, \"selection\": {\"tagStatus\": \"untagged\", \"countType\": "
     "\"imageCountMoreThan\", \"countNumber\": -1}, " ACT_OK "}]}",
     INVALID("numeric instance is lower than the required minimum (minimum: 1, found: -1)")},
    {"{\"rules\": [{\"rulePriority\": 1, " SEL_OK ", \"action\": {\"type\": \"keep\"}}]}",
     INVALID("instance value (keep) not found in enum :(possible values: [\"expire\", \"transition\"])")},
    {"{\"rules\": [{\"rulePriority\": 1, " SEL_OK ", \"action\": {}}]}",
     INVALID("object has missing required properties ([\"type\"])")},
    {"{\"rules\": [{\"rulePriority\": 1, \"selection\": {\"tagStatus\": \"tagged\", \"countType\": "
     "\"imageCountMoreThan\", \"countNumber\": 1}, " ACT_OK "}]}",
     INVALID("Must specify tagPrefixList or tagPatternList when tagStatus=TAGGED.")},
    {"{\"rules\": [{\"rulePriority\": 1, \"selection\": {\"tagStatus\": \"tagged\", \"tagPrefixList\": [\"a\"], "
     "\"tagPatternList\": [\"b*\"], \"countType\": \"imageCountMoreThan\", \"countNumber\": 1}, " ACT_OK "}]}",
     INVALID("Only one of tagPrefixList and tagPatternList can be specified in a rule.")},
    {"{\"rules\": [{\"rulePriority\": 1, \"selection\": {\"tagStatus\": \"untagged\", \"tagPrefixList\": [\"a\"], "
     "\"countType\": \"imageCountMoreThan\", \"countNumber\": 1}, " ACT_OK "}]}",
     INVALID("tagPrefixList and tagPatternList can only be specified when tagStatus=TAGGED.")},
    {"{\"rules\": [{\"rulePriority\": 1, \"selection\": {\"tagStatus\": \"tagged\", \"tagPrefixList\": [], "
     "\"countType\": \"imageCountMoreThan\", \"countNumber\": 1}, " ACT_OK "}]}",
     INVALID("array is too short: must have at least 1 elements but instance has 0 elements")},
    {"{\"rules\": [{\"rulePriority\": 1, \"selection\": {\"tagStatus\": \"tagged\", \"tagPatternList\": "
     "[\"a*b*c*d*e*f\"], \"countType\": \"imageCountMoreThan\", \"countNumber\": 1}, " ACT_OK "}]}",
     INVALID("tagPatternList can have at most 4 wildcards (*) per pattern: 'a*b*c*d*e*f'.")},
    {"{\"rules\": [{\"rulePriority\": 3, " SEL_OK ", " ACT_OK "}, {\"rulePriority\": 3, \"selection\": "
     "{\"tagStatus\": \"tagged\", \"tagPrefixList\": [\"v\"], \"countType\": \"imageCountMoreThan\", "
     "\"countNumber\": 1}, " ACT_OK "}]}",
     INVALID("Lifecycle policy rules must have unique rulePriority values: 3 is used twice.")},
    {"{\"rules\": [{\"rulePriority\": 1, " SEL_OK ", " ACT_OK "}, {\"rulePriority\": 2, " SEL_OK ", " ACT_OK "}]}",
     INVALID("Only one rule can select Untagged images per storage class.")},
    {"{\"rules\": [{\"rulePriority\": 2, " SEL_OK ", " ACT_OK "}, {\"rulePriority\": 1, \"selection\": "
     "{\"tagStatus\": \"any\", \"countType\": \"imageCountMoreThan\", \"countNumber\": 1}, " ACT_OK "}]}",
     INVALID("Rule for tagStatus=ANY must have the lowest priority per storage class")},
    /* Storage classes, the newer count types and the transition action. */
    {"{\"rules\": [{\"rulePriority\": 1, \"selection\": {\"tagStatus\": \"untagged\", \"storageClass\": \"glacier\", "
     "\"countType\": \"imageCountMoreThan\", \"countNumber\": 1}, " ACT_OK "}]}",
     INVALID("instance value (glacier) not found in enum :(possible values: [\"archive\", \"standard\"])")},
    {"{\"rules\": [{\"rulePriority\": 1, \"selection\": {\"tagStatus\": \"untagged\", \"countType\": "
     "\"sinceImagePulled\", \"countNumber\": 1}, \"action\": " TO_ARCHIVE "}]}",
     ONE_OF_TWO},
    {"{\"rules\": [{\"rulePriority\": 1, \"selection\": {\"tagStatus\": \"untagged\", \"countType\": "
     "\"imageCountMoreThan\", \"countUnit\": \"days\", \"countNumber\": 1}, \"action\": " TO_ARCHIVE "}]}",
     ONE_OF_TWO},
    {"{\"rules\": [{\"rulePriority\": 1, " SEL_OK ", \"action\": {\"type\": \"transition\"}}]}", ONE_OF_TWO},
    {"{\"rules\": [{\"rulePriority\": 1, " SEL_OK ", \"action\": {\"type\": \"expire\", \"targetStorageClass\": "
     "\"archive\"}}]}",
     ONE_OF_TWO},
    /* What a template filling targetStorageClass with null sends
     * (cloudposse/terraform-aws-ecr#158 quotes ECR's answer). */
    {"{\"rules\": [{\"rulePriority\": 1, " SEL_OK ", \"action\": {\"type\": \"expire\", \"targetStorageClass\": "
     "null}}]}",
     ONE_OF_TWO},
    {"{\"rules\": [{\"rulePriority\": 1, " SEL_OK ", \"action\": {\"type\": \"transition\", \"targetStorageClass\": "
     "\"standard\"}}]}",
     INVALID("instance value (standard) not found in enum :(possible values: [\"archive\"])")},
    {"{\"rules\": [{\"rulePriority\": 1, " SEL_OK ", \"action\": {\"type\": \"expire\", \"after\": 1}}]}",
     INVALID("object instance has properties which are not allowed by the schema: ([\"after\"])")},
    {"{\"rules\": [" ARCHIVE_RULE(1, "\"countType\": \"sinceImageTransitioned\", ", EXPIRE) "]}",
     INVALID("Must specify storageClass=ARCHIVE when countType=SINCE_IMAGE_TRANSITIONED.")},
    {"{\"rules\": [" ARCHIVE_RULE(1, "\"storageClass\": \"standard\", \"countType\": \"sinceImageTransitioned\", ",
                                  EXPIRE) "]}",
     INVALID("Must specify storageClass=ARCHIVE when countType=SINCE_IMAGE_TRANSITIONED.")},
    {"{\"rules\": [" ARCHIVE_RULE(1, "\"storageClass\": \"archive\", \"countType\": \"sinceImagePushed\", ",
                                  EXPIRE) "]}",
     INVALID("storageClass=ARCHIVE can only be specified when countType=SINCE_IMAGE_TRANSITIONED.")},
    {"{\"rules\": [" ARCHIVE_RULE(1, "\"countType\": \"sinceImagePulled\", ", EXPIRE) "]}",
     INVALID("countType=SINCE_IMAGE_PULLED can only be used with action type=TRANSITION.")},
    {"{\"rules\": [" ARCHIVE_RULE(1, "\"storageClass\": \"archive\", \"countType\": \"sinceImageTransitioned\", ",
                                  TO_ARCHIVE) "]}",
     INVALID("countType=SINCE_IMAGE_TRANSITIONED can only be used with action type=EXPIRE.")},
    {"{\"rules\": [{\"rulePriority\": 1, \"selection\": {\"tagStatus\": \"any\", \"storageClass\": \"archive\", "
     "\"countType\": \"sinceImageTransitioned\", \"countUnit\": \"days\", \"countNumber\": 89}, \"action\": " EXPIRE "}]}",
     INVALID("countNumber must be at least 90 when countType=SINCE_IMAGE_TRANSITIONED: archived images have a minimum "
             "storage duration of 90 days (found: 89).")},
    /* Per storage class: two untagged rules of the archive class; a
     * standard rule after the standard any rule, an archive rule between. */
    {"{\"rules\": [{\"rulePriority\": 1, \"selection\": {\"tagStatus\": \"untagged\", \"storageClass\": "
     "\"archive\", \"countType\": \"sinceImageTransitioned\", \"countUnit\": \"days\", \"countNumber\": 90}, "
     "\"action\": " EXPIRE "}, {\"rulePriority\": 2, \"selection\": {\"tagStatus\": \"untagged\", "
     "\"storageClass\": \"archive\", \"countType\": \"sinceImageTransitioned\", \"countUnit\": \"days\", "
     "\"countNumber\": 100}, \"action\": " EXPIRE "}]}",
     INVALID("Only one rule can select Untagged images per storage class.")},
    {"{\"rules\": [{\"rulePriority\": 1, \"selection\": {\"tagStatus\": \"any\", \"countType\": "
     "\"imageCountMoreThan\", \"countNumber\": 5}, \"action\": " EXPIRE "}, " ARCHIVE_RULE(
         2, "\"storageClass\": \"archive\", \"countType\": \"sinceImageTransitioned\", ",
         EXPIRE) ", {\"rulePriority\": 3, " SEL_OK ", " ACT_OK "}]}",
     INVALID("Rule for tagStatus=ANY must have the lowest priority per storage class")},
};

static void test_put_lifecycle_policy_invalid(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "app");
    char good[1024];
    snprintf(good, sizeof good, "{\"rules\": [%s]}", rule(1, "untagged", NULL, NULL, "imageCountMoreThan", 3));
    put_policy(m, "app", good);
    for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
        json_t *r = NULL;
        int st = lc_call(m, "PutLifecyclePolicy", "app", padded(BAD[i].text), &r);
        if (strcmp(err_message(r), BAD[i].message) != 0)
            fail_msg("case %zu (%s): got %s", i, BAD[i].text, err_message(r));
        assert_fail_msg(st, &r, "InvalidParameterException", BAD[i].message);
        /* A failed Put changes nothing. */
        assert_ok(lc_call(m, "GetLifecyclePolicy", "app", NULL, &r), r);
        assert_string_equal(STR(r, "lifecyclePolicyText"), good);
        json_decref(r);
    }
}

static void test_put_lifecycle_policy_invalid_leaves_none(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "app");
    json_t *r = NULL;
    assert_error(lc_call(m, "PutLifecyclePolicy", "app", padded("{\"rules\": []}"), &r), r, 400,
                 "InvalidParameterException");
    assert_error(lc_call(m, "GetLifecyclePolicy", "app", NULL, &r), r, 400, "LifecyclePolicyNotFoundException");
}

static void test_put_lifecycle_policy_length_limits(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "app");
    json_t *r = NULL;
    /* 99 characters: the model's minimum refuses it before the policy is read. */
    char text[128];
    snprintf(text, sizeof text, "%-99s", "{\"rules\": []}");
    int st = lc_call(m, "PutLifecyclePolicy", "app", text, &r);
    assert_non_null(strstr(err_message(r), "lifecyclePolicyText"));
    assert_null(strstr(err_message(r), "Lifecycle policy validation failure"));
    assert_error(st, r, 400, "InvalidParameterException");
    /* 100: long enough, so the policy itself is judged. */
    assert_fail_msg(lc_call(m, "PutLifecyclePolicy", "app", padded("{\"rules\": []}"), &r), &r,
                    "InvalidParameterException",
                    INVALID("array is too short: must have at least 1 elements but instance has 0 elements"));
    /* 30,720 characters are accepted, 30,721 are not. */
    char good[1024];
    snprintf(good, sizeof good, "{\"rules\": [%s]}", rule(1, "untagged", NULL, NULL, "imageCountMoreThan", 3));
    char *big = malloc(30722);
    memset(big, ' ', 30721);
    big[30721] = '\0';
    memcpy(big, good, strlen(good));
    assert_error(lc_call(m, "PutLifecyclePolicy", "app", big, &r), r, 400, "InvalidParameterException");
    assert_error(lc_call(m, "GetLifecyclePolicy", "app", NULL, &r), r, 400, "LifecyclePolicyNotFoundException");
    big[30720] = '\0';
    put_policy(m, "app", big);
    free(big);
}

static void test_put_lifecycle_policy_accepted_forms(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "app");
    char text[2048];
    /* Priorities need not be sequential nor in order; storageClass standard;
     * a pattern with four wildcards. */
    snprintf(text, sizeof text, "{\"rules\": [%s, %s, %s]}", rule(50, "any", NULL, NULL, "sinceImagePushed", 90),
             rule(10, "tagged", "tagPatternList", "[\"*a*b*c*\"]", "imageCountMoreThan", 5),
             rule(20, "untagged", NULL, NULL, "imageCountMoreThan", 1));
    put_policy(m, "app", text);
    put_policy(m, "app", padded("{\"rules\": [{\"rulePriority\": 1, \"selection\": {\"tagStatus\": \"untagged\", "
                                "\"storageClass\": \"standard\", \"countType\": \"imageCountMoreThan\", "
                                "\"countNumber\": 1}, \"action\": {\"type\": \"expire\"}}]}"));
    /* One untagged rule and one any rule per storage class: a standard
     * untagged transition, a standard any, then an archive untagged and an
     * archive any rule (90 days, the least sinceImageTransitioned allows);
     * transition with imageCountMoreThan and sinceImagePushed too. */
    put_policy(m, "app",
               "{\"rules\": [{\"rulePriority\": 1, \"selection\": {\"tagStatus\": \"untagged\", \"countType\": "
               "\"sinceImagePulled\", \"countUnit\": \"days\", \"countNumber\": 1}, \"action\": " TO_ARCHIVE "}, "
               "{\"rulePriority\": 2, \"selection\": {\"tagStatus\": \"tagged\", \"tagPrefixList\": [\"v\"], "
               "\"storageClass\": \"standard\", \"countType\": \"imageCountMoreThan\", \"countNumber\": 3}, "
               "\"action\": " TO_ARCHIVE "}, {\"rulePriority\": 3, \"selection\": {\"tagStatus\": \"any\", "
               "\"countType\": \"sinceImagePushed\", \"countUnit\": \"days\", \"countNumber\": 9}, \"action\": " TO_ARCHIVE
               "}, {\"rulePriority\": 4, \"selection\": {\"tagStatus\": \"untagged\", \"storageClass\": \"archive\", "
               "\"countType\": \"sinceImageTransitioned\", \"countUnit\": \"days\", \"countNumber\": 90}, "
               "\"action\": " EXPIRE "}, " ARCHIVE_RULE(5, "\"storageClass\": \"archive\", \"countType\": "
                                                      "\"sinceImageTransitioned\", ",
                                                      EXPIRE) "]}");
}

/* ---- evaluation (ecrmock_lifecycle_apply) ---------------------------------------------------- */

static void test_lifecycle_count_keeps_most_recently_pushed(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "app");
    /* Pushed out of time order: push order says nothing about imagePushedAt. */
    char *d3 = push_at(m, "app", T0 + 3 * DAY_MS, 1, NULL);
    char *d1 = push_at(m, "app", T0 + 1 * DAY_MS, 2, NULL);
    char *d4 = push_at(m, "app", T0 + 4 * DAY_MS, 3, NULL);
    char *d2 = push_at(m, "app", T0 + 2 * DAY_MS, 4, NULL);
    char *d0 = push_at(m, "app", T0 + 0 * DAY_MS, 5, NULL);
    char text[1024];
    snprintf(text, sizeof text, "{\"rules\": [%s]}", rule(1, "untagged", NULL, NULL, "imageCountMoreThan", 2));
    put_policy(m, "app", text);
    ecrmock_clock_set(m, T0 + 10 * DAY_MS, NULL);
    json_t *x = apply(m, "app");
    /* Kept: the two most recently pushed (days 4 and 3); expired oldest first. */
    assert_int_equal(json_array_size(x), 3);
    assert_result(x, 0, d0, 1);
    assert_result(x, 1, d1, 1);
    assert_result(x, 2, d2, 1);
    assert_true(json_real_value(json_object_get(json_array_get(x, 0), "imagePushedAt")) == (double)T0 / 1000);
    assert_null(json_object_get(json_array_get(x, 0), "imageTags"));
    json_decref(x);
    assert_int_equal(image_count(m, "app"), 2);
    assert_true(has_image(m, "app", d3) && has_image(m, "app", d4));
    assert_false(has_image(m, "app", d1));
    /* Applied again: nothing more to expire. */
    x = apply(m, "app");
    assert_int_equal(json_array_size(x), 0);
    json_decref(x);
    free(d0), free(d1), free(d2), free(d3), free(d4);
}

/* The policy's rules are standard-storage rules: an archived image is not
 * selected, counted or expired by them. */
static void test_lifecycle_archived_images_left_alone(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "app");
    char *d0 = push_at(m, "app", T0 + 0 * DAY_MS, 1, NULL);
    char *d1 = push_at(m, "app", T0 + 1 * DAY_MS, 2, NULL);
    char *d2 = push_at(m, "app", T0 + 2 * DAY_MS, 3, NULL);
    call_ok(m, "UpdateImageStorageClass",
            "{\"repositoryName\": \"app\", \"imageId\": {\"imageDigest\": \"%s\"}, \"targetStorageClass\": \"ARCHIVE\"}",
            d2);
    char text[1024];
    snprintf(text, sizeof text, "{\"rules\": [%s]}", rule(1, "untagged", NULL, NULL, "imageCountMoreThan", 1));
    put_policy(m, "app", text);
    json_t *x = apply(m, "app");
    /* Of the standard images d1 is kept and d0 expires; archived d2 stays. */
    assert_int_equal(json_array_size(x), 1);
    assert_result(x, 0, d0, 1);
    json_decref(x);
    assert_int_equal(image_count(m, "app"), 2);
    assert_true(has_image(m, "app", d1) && has_image(m, "app", d2));
    free(d0), free(d1), free(d2);
}

static void test_lifecycle_since_pushed_follows_the_clock(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "app");
    char *a = push_at(m, "app", T0, 1, "a");
    char *b = push_at(m, "app", T0 + 5 * DAY_MS, 2, "b");
    char *c = push_at(m, "app", T0 + 10 * DAY_MS, 3, "c");
    char text[1024];
    snprintf(text, sizeof text, "{\"rules\": [%s]}", rule(1, "any", NULL, NULL, "sinceImagePushed", 6));
    put_policy(m, "app", text);

    /* Day 11: a is 11 days old, b exactly 6 (not more than 6): only a goes. */
    ecrmock_clock_set(m, T0 + 11 * DAY_MS, NULL);
    json_t *x = apply(m, "app");
    assert_int_equal(json_array_size(x), 1);
    assert_result(x, 0, a, 1);
    assert_string_equal(json_string_value(json_array_get(json_object_get(json_array_get(x, 0), "imageTags"), 0)), "a");
    json_decref(x);
    /* One millisecond later b is more than 6 days old. */
    ecrmock_clock_advance(m, 1, NULL);
    x = apply(m, "app");
    assert_int_equal(json_array_size(x), 1);
    assert_result(x, 0, b, 1);
    json_decref(x);
    assert_true(has_image(m, "app", c));
    /* Four more days: c (pushed day 10) is still only 5 days old. */
    ecrmock_clock_set(m, T0 + 15 * DAY_MS, NULL);
    x = apply(m, "app");
    assert_int_equal(json_array_size(x), 0);
    json_decref(x);
    ecrmock_clock_set(m, T0 + 17 * DAY_MS, NULL);
    x = apply(m, "app");
    assert_int_equal(json_array_size(x), 1);
    assert_result(x, 0, c, 1);
    json_decref(x);
    assert_int_equal(image_count(m, "app"), 0);
    free(a), free(b), free(c);
}

static void test_lifecycle_rules_by_priority_and_exclusive(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "app");
    char *prod1 = push_at(m, "app", T0 + 1 * DAY_MS, 1, "prod-1");
    char *dev1 = push_at(m, "app", T0 + 2 * DAY_MS, 2, "dev-1");
    char *prod2 = push_at(m, "app", T0 + 3 * DAY_MS, 3, "prod-2");
    char *dev2 = push_at(m, "app", T0 + 4 * DAY_MS, 4, "dev-2");
    char *untag = push_at(m, "app", T0 + 5 * DAY_MS, 5, NULL);
    char *dev3 = push_at(m, "app", T0 + 6 * DAY_MS, 6, "dev-3");
    char *prod3 = push_at(m, "app", T0 + 7 * DAY_MS, 7, "prod-3");
    /* Listed out of priority order: priority 2 (prod, keep 1) runs first;
     * priority 9 (any, keep 2) then counts all seven images, the prod ones
     * included, but may expire only those rule 2 did not identify. */
    char text[2048];
    snprintf(text, sizeof text, "{\"rules\": [%s, %s]}", rule(9, "any", NULL, NULL, "imageCountMoreThan", 2),
             rule(2, "tagged", "tagPrefixList", "[\"prod\"]", "imageCountMoreThan", 1));
    put_policy(m, "app", text);
    json_t *x = apply(m, "app");
    assert_int_equal(json_array_size(x), 5);
    assert_result(x, 0, prod1, 2);
    assert_result(x, 1, prod2, 2);
    assert_result(x, 2, dev1, 9);
    assert_result(x, 3, dev2, 9);
    assert_result(x, 4, untag, 9);
    json_decref(x);
    /* Left: the two newest of all, prod-3 (kept by rule 2, counted by rule 9)
     * and dev-3.  Had rule 9 not counted prod-3, the untagged one would
     * have stayed too. */
    assert_true(has_image(m, "app", prod3));
    assert_true(has_image(m, "app", dev3));
    assert_int_equal(image_count(m, "app"), 2);
    free(prod1), free(prod2), free(prod3), free(dev1), free(dev2), free(dev3), free(untag);
}

static void test_lifecycle_tag_lists_need_every_entry(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "app");
    /* Pattern list ["rel*", "*-stable"]: an image needs a tag for each. */
    char *both = push_at(m, "app", T0 + 1 * DAY_MS, 1, "rel-1");
    add_tag(m, "app", both, "x-stable");
    char *one = push_at(m, "app", T0 + 2 * DAY_MS, 2, "rel-2");
    char *single = push_at(m, "app", T0 + 3 * DAY_MS, 3, "rel-3-stable"); /* one tag fits both */
    char *none = push_at(m, "app", T0 + 4 * DAY_MS, 4, "other");
    char text[1024];
    snprintf(text, sizeof text, "{\"rules\": [%s]}",
             rule(1, "tagged", "tagPatternList", "[\"rel*\", \"*-stable\"]", "sinceImagePushed", 1));
    put_policy(m, "app", text);
    ecrmock_clock_set(m, T0 + 30 * DAY_MS, NULL);
    json_t *x = apply(m, "app");
    assert_int_equal(json_array_size(x), 2);
    assert_result(x, 0, both, 1);
    assert_result(x, 1, single, 1);
    json_t *tags = json_object_get(json_array_get(x, 0), "imageTags");
    assert_int_equal(json_array_size(tags), 2);
    assert_string_equal(json_string_value(json_array_get(tags, 0)), "rel-1");
    assert_string_equal(json_string_value(json_array_get(tags, 1)), "x-stable");
    json_decref(x);
    assert_true(has_image(m, "app", one) && has_image(m, "app", none));

    /* Prefix list ["v1", "lat"]: a prefix is not a pattern ("*" literal). */
    char *v1 = push_at(m, "app", T0 + 31 * DAY_MS, 5, "v1.2");
    add_tag(m, "app", v1, "latest");
    char *v1only = push_at(m, "app", T0 + 32 * DAY_MS, 6, "v1.3");
    char *star = push_at(m, "app", T0 + 33 * DAY_MS, 7, "v2");
    snprintf(text, sizeof text, "{\"rules\": [%s, %s]}",
             rule(1, "tagged", "tagPrefixList", "[\"v1\", \"lat\"]", "sinceImagePushed", 1),
             rule(2, "tagged", "tagPrefixList", "[\"v*\"]", "sinceImagePushed", 1));
    put_policy(m, "app", text);
    ecrmock_clock_set(m, T0 + 60 * DAY_MS, NULL);
    x = apply(m, "app");
    assert_int_equal(json_array_size(x), 1);
    assert_result(x, 0, v1, 1);
    json_decref(x);
    assert_true(has_image(m, "app", v1only) && has_image(m, "app", star));
    free(both), free(one), free(single), free(none), free(v1), free(v1only), free(star);
}

static void test_lifecycle_untagged_rule_and_tagged_images(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "app");
    /* A tag moved away leaves the old image untagged: now the untagged rule's. */
    char *old = push_at(m, "app", T0 + 1 * DAY_MS, 1, "latest");
    char *mid = push_at(m, "app", T0 + 2 * DAY_MS, 2, NULL);
    char *cur = push_at(m, "app", T0 + 3 * DAY_MS, 3, "latest");
    char text[1024];
    snprintf(text, sizeof text, "{\"rules\": [%s]}", rule(1, "untagged", NULL, NULL, "imageCountMoreThan", 1));
    put_policy(m, "app", text);
    json_t *x = apply(m, "app");
    /* Untagged: old (day 1) and mid (day 2); the newest of them stays. */
    assert_int_equal(json_array_size(x), 1);
    assert_result(x, 0, old, 1);
    json_decref(x);
    assert_true(has_image(m, "app", mid) && has_image(m, "app", cur));
    free(old), free(mid), free(cur);
}

static void test_lifecycle_manifest_list_children_kept(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "app");
    char *c1 = push_at(m, "app", T0, 1, NULL);
    char *c2 = push_at(m, "app", T0, 2, NULL);
    char *lone = push_at(m, "app", T0, 3, NULL);
    json_t *mf = json_pack("{s:i, s:s, s:[{s:s, s:i, s:s, s:{s:s, s:s}}, {s:s, s:i, s:s, s:{s:s, s:s}}]}",
                           "schemaVersion", 2, "mediaType", MT_DOCKER_LIST, "manifests", "mediaType", MT_DOCKER_V2,
                           "size", 400, "digest", c1, "platform", "architecture", "amd64", "os", "linux", "mediaType",
                           MT_DOCKER_V2, "size", 400, "digest", c2, "platform", "architecture", "arm64", "os",
                           "linux");
    char *text_mf = json_dumps(mf, JSON_COMPACT);
    json_decref(mf);
    ecrmock_clock_set(m, T0 + DAY_MS, NULL);
    char *list = put_image(m, "app", text_mf, "multi");
    free(text_mf);
    char text[1024];
    snprintf(text, sizeof text, "{\"rules\": [%s]}", rule(1, "untagged", NULL, NULL, "sinceImagePushed", 1));
    put_policy(m, "app", text);
    ecrmock_clock_set(m, T0 + 10 * DAY_MS, NULL);
    json_t *x = apply(m, "app");
    /* The list's platform images are untagged and old, but the list needs them. */
    assert_int_equal(json_array_size(x), 1);
    assert_result(x, 0, lone, 1);
    json_decref(x);
    assert_true(has_image(m, "app", c1) && has_image(m, "app", c2) && has_image(m, "app", list));
    free(c1), free(c2), free(lone), free(list);
}

static void test_lifecycle_apply_sets_last_evaluated_at(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "app");
    char text[1024];
    snprintf(text, sizeof text, "{\"rules\": [%s]}", rule(1, "any", NULL, NULL, "imageCountMoreThan", 5));
    put_policy(m, "app", text);
    ecrmock_clock_set(m, T0 + 12345000, NULL);
    assert_int_equal(ecrmock_lifecycle_apply(m, NULL, "app", NULL, NULL), ECRMOCK_ERR_OK);
    json_t *r = NULL;
    assert_ok(lc_call(m, "GetLifecyclePolicy", "app", NULL, &r), r);
    assert_true(json_real_value(json_object_get(r, "lastEvaluatedAt")) == (double)(T0 + 12345000) / 1000);
    json_decref(r);
    assert_ok(lc_call(m, "DeleteLifecyclePolicy", "app", NULL, &r), r);
    assert_true(json_real_value(json_object_get(r, "lastEvaluatedAt")) == (double)(T0 + 12345000) / 1000);
    json_decref(r);
    /* A new policy has not run yet. */
    put_policy(m, "app", text);
    assert_ok(lc_call(m, "GetLifecyclePolicy", "app", NULL, &r), r);
    assert_null(json_object_get(r, "lastEvaluatedAt"));
    json_decref(r);
}

static void test_lifecycle_apply_errors(void **state)
{
    ecrmock *m = *state;
    json_t *x = (json_t *)1;
    assert_int_equal(ERR_CODE(ecrmock_lifecycle_apply(NULL, NULL, "app", &x, &test_err)), ECRMOCK_ERR_INVALID_PARAMETER);
    assert_null(x);
    assert_int_equal(ERR_CODE(ecrmock_lifecycle_apply(m, NULL, NULL, NULL, &test_err)), ECRMOCK_ERR_INVALID_PARAMETER);
    assert_int_equal(ERR_CODE(ecrmock_lifecycle_apply(m, NULL, "", NULL, &test_err)), ECRMOCK_ERR_INVALID_PARAMETER);
    assert_int_equal(ERR_CODE(ecrmock_lifecycle_apply(m, "12345", "app", NULL, &test_err)), ECRMOCK_ERR_INVALID_PARAMETER);
    assert_int_equal(ERR_CODE(ecrmock_lifecycle_apply(m, NULL, "app", &x, &test_err)), ECRMOCK_ERR_REPOSITORY_NOT_FOUND);
    assert_null(x);
    create_repo(m, "app");
    char *d = push_at(m, "app", T0, 1, NULL);
    assert_int_equal(ERR_CODE(ecrmock_lifecycle_apply(m, ACCOUNT, "app", &x, &test_err)), ECRMOCK_ERR_LIFECYCLE_POLICY_NOT_FOUND);
    assert_null(x);
    assert_int_equal(ERR_CODE(ecrmock_lifecycle_apply(m, "210987654321", "app", NULL, &test_err)), ECRMOCK_ERR_REPOSITORY_NOT_FOUND);
    assert_true(has_image(m, "app", d));
    free(d);
}

/* ---- previews ---------------------------------------------------------------------------------- */

static int preview_get(ecrmock *m, json_t **r, const char *extra)
{
    return call(m, r, "GetLifecyclePolicyPreview", "{\"repositoryName\": \"app\"%s%s}", extra ? ", " : "",
                extra ? extra : "");
}

/* Sets up app with 6 images and a two-rule policy that expires 4 of them:
 * prod-1 (rule 1: prod, keep 1), then u1, dev-1, u2 (rule 2: any, keep 1,
 * which keeps dev-2). */
static void preview_fixture(ecrmock *m, char **d)
{
    create_repo(m, "app");
    d[0] = push_at(m, "app", T0 + 1 * DAY_MS, 1, "prod-1");
    d[1] = push_at(m, "app", T0 + 2 * DAY_MS, 2, NULL);
    d[2] = push_at(m, "app", T0 + 3 * DAY_MS, 3, "dev-1");
    d[3] = push_at(m, "app", T0 + 4 * DAY_MS, 4, NULL);
    d[4] = push_at(m, "app", T0 + 5 * DAY_MS, 5, "prod-2");
    d[5] = push_at(m, "app", T0 + 6 * DAY_MS, 6, "dev-2");
    char text[2048];
    snprintf(text, sizeof text, "{\"rules\": [%s, %s]}",
             rule(1, "tagged", "tagPrefixList", "[\"prod\"]", "imageCountMoreThan", 1),
             rule(2, "any", NULL, NULL, "imageCountMoreThan", 1));
    put_policy(m, "app", text);
}

/* Starts a preview of app's policy; asserts it started. */
static void start_preview(ecrmock *m)
{
    json_t *r = NULL;
    assert_ok(lc_call(m, "StartLifecyclePolicyPreview", "app", NULL, &r), r);
    json_decref(r);
}

/* Frees the digests preview_fixture returned. */
static void free_fixture(char **d)
{
    for (int i = 0; i < 6; i++)
        free(d[i]);
}

static void test_lifecycle_preview_flow(void **state)
{
    ecrmock *m = *state;
    char *d[6];
    preview_fixture(m, d);
    json_t *r = NULL;
    assert_fail_msg(preview_get(m, &r, NULL), &r, "LifecyclePolicyPreviewNotFoundException",
                    "Lifecycle policy preview does not exist for the repository with name 'app' in the registry "
                    "with id '" ACCOUNT "'");
    assert_ok(lc_call(m, "StartLifecyclePolicyPreview", "app", NULL, &r), r);
    assert_string_equal(STR(r, "status"), "IN_PROGRESS");
    assert_string_equal(STR(r, "registryId"), ACCOUNT);
    assert_string_equal(STR(r, "repositoryName"), "app");
    json_t *got = NULL;
    assert_ok(lc_call(m, "GetLifecyclePolicy", "app", NULL, &got), got);
    assert_string_equal(STR(r, "lifecyclePolicyText"), STR(got, "lifecyclePolicyText"));
    json_decref(got);
    json_decref(r);

    /* In progress until the clock moves; a second start is refused. */
    assert_ok(preview_get(m, &r, NULL), r);
    assert_string_equal(STR(r, "status"), "IN_PROGRESS");
    assert_int_equal(json_array_size(json_object_get(r, "previewResults")), 0);
    json_decref(r);
    assert_fail_msg(lc_call(m, "StartLifecyclePolicyPreview", "app", NULL, &r), &r,
                    "LifecyclePolicyPreviewInProgressException",
                    "The previous lifecycle policy preview request has not completed for the repository with name "
                    "'app' in the registry with id '" ACCOUNT "'. Please try again later.");

    ecrmock_clock_advance(m, 1000, NULL);
    assert_ok(preview_get(m, &r, NULL), r);
    assert_string_equal(STR(r, "status"), "COMPLETE");
    json_t *res = json_object_get(r, "previewResults");
    assert_int_equal(json_array_size(res), 4);
    assert_result(res, 0, d[0], 1);
    assert_result(res, 1, d[1], 2);
    assert_result(res, 2, d[2], 2);
    assert_result(res, 3, d[3], 2);
    assert_string_equal(json_string_value(json_array_get(json_object_get(json_array_get(res, 0), "imageTags"), 0)),
                        "prod-1");
    assert_true(json_real_value(json_object_get(json_array_get(res, 2), "imagePushedAt")) ==
                (double)(T0 + 3 * DAY_MS) / 1000);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(r, "summary"), "expiringImageTotalCount")), 4);
    /* No transition: no transitioning counts. */
    assert_null(json_object_get(json_object_get(r, "summary"), "transitioningImageTotalCounts"));
    assert_string_equal(STR(json_array_get(res, 0), "storageClass"), "STANDARD");
    assert_null(json_object_get(json_object_get(json_array_get(res, 0), "action"), "targetStorageClass"));
    assert_null(json_object_get(r, "nextToken"));
    json_decref(r);
    /* A preview expires nothing. */
    assert_int_equal(image_count(m, "app"), 6);
    free_fixture(d);
}

static void test_lifecycle_preview_with_given_text_and_no_policy(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "app");
    char *a = push_at(m, "app", T0, 1, NULL);
    char *b = push_at(m, "app", T0 + DAY_MS, 2, NULL);
    json_t *r = NULL;
    assert_fail_msg(lc_call(m, "StartLifecyclePolicyPreview", "app", NULL, &r), &r,
                    "LifecyclePolicyNotFoundException", NO_POLICY("app"));
    /* An invalid text is refused and starts nothing. */
    assert_fail_msg(lc_call(m, "StartLifecyclePolicyPreview", "app", padded("{\"rules\": []}"), &r), &r,
                    "InvalidParameterException",
                    INVALID("array is too short: must have at least 1 elements but instance has 0 elements"));
    assert_error(preview_get(m, &r, NULL), r, 400, "LifecyclePolicyPreviewNotFoundException");

    char text[1024];
    snprintf(text, sizeof text, "{\"rules\": [%s]}", rule(4, "untagged", NULL, NULL, "imageCountMoreThan", 1));
    assert_ok(lc_call(m, "StartLifecyclePolicyPreview", "app", text, &r), r);
    assert_string_equal(STR(r, "lifecyclePolicyText"), text);
    json_decref(r);
    /* Not stored as the repository's policy. */
    assert_error(lc_call(m, "GetLifecyclePolicy", "app", NULL, &r), r, 400, "LifecyclePolicyNotFoundException");
    /* Evaluated when it started: a later push changes nothing in it. */
    char *c = push_at(m, "app", T0 + 2 * DAY_MS, 3, NULL);
    assert_ok(preview_get(m, &r, NULL), r);
    assert_string_equal(STR(r, "status"), "COMPLETE");
    assert_string_equal(STR(r, "lifecyclePolicyText"), text);
    json_t *res = json_object_get(r, "previewResults");
    assert_int_equal(json_array_size(res), 1);
    assert_result(res, 0, a, 4);
    json_decref(r);
    /* A new preview now sees c. */
    assert_ok(lc_call(m, "StartLifecyclePolicyPreview", "app", text, &r), r);
    json_decref(r);
    ecrmock_clock_advance(m, 1, NULL);
    assert_ok(preview_get(m, &r, NULL), r);
    res = json_object_get(r, "previewResults");
    assert_int_equal(json_array_size(res), 2);
    assert_result(res, 0, a, 4);
    assert_result(res, 1, b, 4);
    json_decref(r);
    free(a), free(b), free(c);
}

static void test_lifecycle_preview_paging_and_filters(void **state)
{
    ecrmock *m = *state;
    char *d[6];
    preview_fixture(m, d);
    json_t *r = NULL;
    start_preview(m);
    ecrmock_clock_advance(m, 5000, NULL);

    /* Pages of 3: 3, then 1. */
    assert_ok(preview_get(m, &r, "\"maxResults\": 3"), r);
    json_t *res = json_object_get(r, "previewResults");
    assert_int_equal(json_array_size(res), 3);
    assert_result(res, 0, d[0], 1);
    assert_result(res, 2, d[2], 2);
    char token[1024];
    snprintf(token, sizeof token, "%s", STR(r, "nextToken"));
    assert_int_equal(json_integer_value(json_object_get(json_object_get(r, "summary"), "expiringImageTotalCount")), 4);
    json_decref(r);
    char extra[1200];
    snprintf(extra, sizeof extra, "\"maxResults\": 3, \"nextToken\": \"%s\"", token);
    assert_ok(preview_get(m, &r, extra), r);
    res = json_object_get(r, "previewResults");
    assert_int_equal(json_array_size(res), 1);
    assert_result(res, 0, d[3], 2);
    assert_null(json_object_get(r, "nextToken"));
    json_decref(r);

    /* Filters. */
    assert_ok(preview_get(m, &r, "\"filter\": {\"tagStatus\": \"UNTAGGED\"}"), r);
    res = json_object_get(r, "previewResults");
    assert_int_equal(json_array_size(res), 2);
    assert_result(res, 0, d[1], 2);
    assert_result(res, 1, d[3], 2);
    json_decref(r);
    assert_ok(preview_get(m, &r, "\"filter\": {\"tagStatus\": \"TAGGED\"}, \"maxResults\": 1"), r);
    res = json_object_get(r, "previewResults");
    assert_int_equal(json_array_size(res), 1);
    assert_result(res, 0, d[0], 1);
    snprintf(token, sizeof token, "%s", STR(r, "nextToken"));
    json_decref(r);
    /* That token belongs to the TAGGED listing. */
    snprintf(extra, sizeof extra, "\"nextToken\": \"%s\"", token);
    assert_fail_msg(preview_get(m, &r, extra), &r, "InvalidParameterException",
                    "Invalid parameter at 'NextToken' failed to satisfy constraint: 'Invalid next token provided'");
    snprintf(extra, sizeof extra, "\"filter\": {\"tagStatus\": \"TAGGED\"}, \"nextToken\": \"%s\"", token);
    assert_ok(preview_get(m, &r, extra), r);
    res = json_object_get(r, "previewResults");
    assert_int_equal(json_array_size(res), 1);
    assert_result(res, 0, d[2], 2);
    json_decref(r);

    /* imageIds: only those; not with paging. */
    snprintf(extra, sizeof extra, "\"imageIds\": [{\"imageTag\": \"dev-1\"}, {\"imageDigest\": \"%s\"}, "
                                  "{\"imageDigest\": \"%s\"}]", d[3], d[5]);
    assert_ok(preview_get(m, &r, extra), r);
    res = json_object_get(r, "previewResults");
    assert_int_equal(json_array_size(res), 2);
    assert_result(res, 0, d[2], 2);
    assert_result(res, 1, d[3], 2);
    json_decref(r);
    assert_fail_msg(preview_get(m, &r, "\"imageIds\": [{\"imageTag\": \"dev-1\"}], \"maxResults\": 2"), &r,
                    "InvalidParameterException",
                    "Invalid parameter at 'maxResults' failed to satisfy constraint: 'maxResults cannot be specified "
                    "with imageIds'");

    /* A token from an earlier preview is refused by a new one. */
    assert_ok(preview_get(m, &r, "\"maxResults\": 1"), r);
    snprintf(token, sizeof token, "%s", STR(r, "nextToken"));
    json_decref(r);
    start_preview(m);
    ecrmock_clock_advance(m, 1, NULL);
    snprintf(extra, sizeof extra, "\"nextToken\": \"%s\"", token);
    assert_error(preview_get(m, &r, extra), r, 400, "InvalidParameterException");
    assert_error(preview_get(m, &r, "\"nextToken\": \"garbage\""), r, 400, "InvalidParameterException");
    free_fixture(d);
}

/* The LifecyclePolicyPreviewComplete waiter (waiters-2.json): poll every 5
 * s, at most 20 times, until status is COMPLETE; a test's sleep advances the
 * virtual clock. */
static void test_lifecycle_preview_waiter(void **state)
{
    ecrmock *m = *state;
    char *d[6];
    preview_fixture(m, d);
    json_t *r = NULL;
    start_preview(m);
    int attempts = 0;
    const char *status = NULL;
    do {
        if (attempts)
            ecrmock_clock_advance(m, 5000, NULL);
        assert_ok(preview_get(m, &r, NULL), r);
        status = strcmp(STR(r, "status"), "COMPLETE") == 0 ? "COMPLETE" : "waiting";
        json_decref(r);
    } while (++attempts < 20 && strcmp(status, "COMPLETE") != 0);
    assert_string_equal(status, "COMPLETE");
    assert_int_equal(attempts, 2);
    /* Once complete, another preview may start. */
    start_preview(m);
    free_fixture(d);
}

/* The preview shows what applying the policy does. */
static void test_lifecycle_preview_matches_apply(void **state)
{
    ecrmock *m = *state;
    char *d[6];
    preview_fixture(m, d);
    json_t *r = NULL;
    start_preview(m);
    ecrmock_clock_advance(m, 1, NULL);
    assert_ok(preview_get(m, &r, NULL), r);
    json_t *x = apply(m, "app");
    assert_true(json_equal(json_object_get(r, "previewResults"), x));
    json_decref(x);
    json_decref(r);
    assert_int_equal(image_count(m, "app"), 2);
    assert_true(has_image(m, "app", d[4]) && has_image(m, "app", d[5]));
    free_fixture(d);
}

/* ---- the user guide's worked examples ------------------------------------------------------------
 *
 * Each test is one example of the user guide's "Examples of lifecycle
 * policies" page: its repository (images named A, B, ... pushed the given
 * number of days before the evaluation; listed in push order, so of two
 * images pushed the same day the later one is the more recent), its policy,
 * and the outcome the page states, checked through a preview and through
 * ecrmock_lifecycle_apply.  Where the page gives only a policy, the test
 * builds a repository that tells the policy's rules apart. */

typedef struct ex_image {
    const char *name;
    const char *tags; /* space-separated; "" for an untagged image */
    int days_ago;
    int pulled_days_ago;   /* 0: never pulled */
    int archived_days_ago; /* 0: never archived */
    int restored_days_ago; /* 0: not restored after the archiving */
} ex_image;

#define EX_NOW (T0 + 1000 * DAY_MS)
#define EX_MAX 8

/* "A:1 C:2T": each acted-on image by name, sorted, with the priority of
 * the rule that took it, T for a transition to the archive. */
static void ex_outcome(json_t *results, const ex_image *imgs, char **dig, size_t n, char *out, size_t cap)
{
    out[0] = '\0';
    for (size_t k = 0; k < n; k++) {
        size_t i;
        json_t *res;
        json_array_foreach(results, i, res) {
            if (strcmp(STR(res, "imageDigest"), dig[k]) != 0)
                continue;
            json_t *action = json_object_get(res, "action");
            bool transition = strcmp(STR(action, "type"), "TRANSITION") == 0;
            if (transition)
                assert_string_equal(STR(action, "targetStorageClass"), "ARCHIVE");
            else
                assert_null(json_object_get(action, "targetStorageClass"));
            size_t used = strlen(out);
            snprintf(out + used, cap - used, "%s%s:%lld%s", used ? " " : "", imgs[k].name,
                     (long long)json_integer_value(json_object_get(res, "appliedRulePriority")), transition ? "T" : "");
        }
    }
}

static void worked_example(ecrmock *m, const ex_image *imgs, size_t n, const char *policy, const char *expected)
{
    assert_true(n <= EX_MAX);
    create_repo(m, "app");
    char *dig[EX_MAX];
    for (size_t k = 0; k < n; k++) {
        char tags[128];
        snprintf(tags, sizeof tags, "%s", imgs[k].tags);
        char *first = strtok(tags, " ");
        dig[k] = push_at(m, "app", EX_NOW - imgs[k].days_ago * DAY_MS, (int)k + 1, first);
        for (char *t = first ? strtok(NULL, " ") : NULL; t; t = strtok(NULL, " "))
            add_tag(m, "app", dig[k], t);
    }
    for (size_t k = 0; k < n; k++) {
        if (imgs[k].pulled_days_ago) {
            ecrmock_clock_set(m, EX_NOW - imgs[k].pulled_days_ago * DAY_MS, NULL);
            call_ok(m, "BatchGetImage", "{\"repositoryName\": \"app\", \"imageIds\": [{\"imageDigest\": \"%s\"}]}",
                    dig[k]);
        }
        if (imgs[k].archived_days_ago) {
            ecrmock_clock_set(m, EX_NOW - imgs[k].archived_days_ago * DAY_MS, NULL);
            call_ok(m, "UpdateImageStorageClass",
                    "{\"repositoryName\": \"app\", \"imageId\": {\"imageDigest\": \"%s\"}, "
                    "\"targetStorageClass\": \"ARCHIVE\"}",
                    dig[k]);
        }
        if (imgs[k].restored_days_ago) {
            ecrmock_clock_set(m, EX_NOW - imgs[k].restored_days_ago * DAY_MS, NULL);
            call_ok(m, "UpdateImageStorageClass",
                    "{\"repositoryName\": \"app\", \"imageId\": {\"imageDigest\": \"%s\"}, "
                    "\"targetStorageClass\": \"STANDARD\"}",
                    dig[k]);
        }
    }
    put_policy(m, "app", padded(policy));

    /* The preview, evaluated at EX_NOW, read once the clock has moved on. */
    ecrmock_clock_set(m, EX_NOW, NULL);
    start_preview(m);
    ecrmock_clock_advance(m, 1, NULL);
    json_t *r = NULL;
    assert_ok(preview_get(m, &r, NULL), r);
    char got[256];
    ex_outcome(json_object_get(r, "previewResults"), imgs, dig, n, got, sizeof got);
    assert_string_equal(got, expected);
    json_decref(r);

    /* Applied at EX_NOW: the same images, gone or archived. */
    ecrmock_clock_set(m, EX_NOW, NULL);
    json_t *x = apply(m, "app");
    ex_outcome(x, imgs, dig, n, got, sizeof got);
    assert_string_equal(got, expected);
    for (size_t k = 0; k < n; k++) {
        char key[8];
        snprintf(key, sizeof key, "%s:", imgs[k].name);
        const char *hit = strstr(expected, key);
        if (hit && hit != expected && hit[-1] != ' ')
            hit = NULL;
        bool archived_now = hit && hit[strcspn(hit, " ") - 1] == 'T';
        bool expired = hit && !archived_now;
        if (expired != !has_image(m, "app", dig[k]))
            fail_msg("image %s: expected %s", imgs[k].name, expired ? "expired" : "kept");
        if (expired)
            continue;
        /* Archived by the run: now, with its lastArchivedAt; the others as they were. */
        json_t *d = describe_image(m, "app", dig[k]);
        bool in_archive = archived_now || (imgs[k].archived_days_ago && !imgs[k].restored_days_ago);
        assert_string_equal(STR(d, "imageStatus"), in_archive ? "ARCHIVED" : "ACTIVE");
        if (archived_now)
            assert_true(json_real_value(json_object_get(d, "lastArchivedAt")) == (double)EX_NOW / 1000);
        json_decref(d);
    }
    json_decref(x);
    for (size_t k = 0; k < n; k++)
        free(dig[k]);
}

/* "Filtering on image age": prod* images older than 14 days expire. */
static void test_lifecycle_example_image_age(void **state)
{
    const ex_image repo[] = {
        {"A", "prod-1", 20, 0, 0}, {"B", "dev-1", 20, 0, 0}, {"C", "prod-2", 14, 0, 0}, {"D", "", 30, 0, 0}};
    worked_example(*state, repo, 4,
                   "{\"rules\": [{\"rulePriority\": 1, \"description\": \"Expire images older than 14 days\", "
                   "\"selection\": {\"tagStatus\": \"tagged\", \"tagPatternList\": [\"prod*\"], \"countType\": "
                   "\"sinceImagePushed\", \"countUnit\": \"days\", \"countNumber\": 14}, \"action\": {\"type\": "
                   "\"expire\"}}]}",
                   "A:1");
}

/* "Filtering on image count": one untagged image kept, the others expire. */
static void test_lifecycle_example_image_count(void **state)
{
    const ex_image repo[] = {
        {"A", "", 5, 0, 0}, {"B", "v1", 4, 0, 0}, {"C", "", 3, 0, 0}, {"D", "", 2, 0, 0}};
    worked_example(*state, repo, 4,
                   "{\"rules\": [{\"rulePriority\": 1, \"description\": \"Keep only one untagged image, expire all "
                   "others\", \"selection\": {\"tagStatus\": \"untagged\", \"countType\": \"imageCountMoreThan\", "
                   "\"countNumber\": 1}, \"action\": {\"type\": \"expire\"}}]}",
                   "A:1 C:1");
}

static const ex_image MULTI_RULES_REPO[] = {
    {"A", "beta-1 prod-1", 10, 0, 0}, {"B", "beta-2 prod-2", 9, 0, 0}, {"C", "beta-3", 8, 0, 0}};

static char *count_rule(char *buf, size_t cap, int prio, const char *pattern)
{
    snprintf(buf, cap,
             "{\"rulePriority\": %d, \"description\": \"Rule %d\", \"selection\": {\"tagStatus\": \"tagged\", "
             "\"tagPatternList\": [\"%s\"], \"countType\": \"imageCountMoreThan\", \"countNumber\": 1}, "
             "\"action\": {\"type\": \"expire\"}}",
             prio, prio, pattern);
    return buf;
}

/* "Filtering on multiple rules", example A: rule 1 (prod*) marks A; rule 2
 * (beta*) would mark A and B, but both match rule 1's tags.  A expires. */
static void test_lifecycle_example_multiple_rules_a(void **state)
{
    char r1[512], r2[512], text[1200];
    snprintf(text, sizeof text, "{\"rules\": [%s, %s]}", count_rule(r1, sizeof r1, 1, "prod*"),
             count_rule(r2, sizeof r2, 2, "beta*"));
    worked_example(*state, MULTI_RULES_REPO, 3, text, "A:1");
}

/* Example B, the priorities swapped: rule 1 (beta*) marks A and B; rule 2
 * (prod*) sees only images rule 1 identified.  A and B expire. */
static void test_lifecycle_example_multiple_rules_b(void **state)
{
    char r1[512], r2[512], text[1200];
    snprintf(text, sizeof text, "{\"rules\": [%s, %s]}", count_rule(r1, sizeof r1, 1, "beta*"),
             count_rule(r2, sizeof r2, 2, "prod*"));
    worked_example(*state, MULTI_RULES_REPO, 3, text, "A:1 B:1");
}

/* "Filtering on multiple tags in a single rule", example A: only C and F
 * carry both an alpha* and a beta* tag; C is older than 5 days. */
static void test_lifecycle_example_multiple_tags_a(void **state)
{
    const ex_image repo[] = {{"A", "alpha-1", 12, 0, 0}, {"B", "beta-1", 11, 0, 0},
                             {"C", "alpha-2 beta-2", 10, 0, 0}, {"D", "alpha-3", 4, 0, 0},
                             {"E", "beta-3", 3, 0, 0}, {"F", "alpha-4 beta-4", 2, 0, 0}};
    worked_example(*state, repo, 6,
                   "{\"rules\": [{\"rulePriority\": 1, \"description\": \"Rule 1\", \"selection\": {\"tagStatus\": "
                   "\"tagged\", \"tagPatternList\": [\"alpha*\", \"beta*\"], \"countType\": \"sinceImagePushed\", "
                   "\"countNumber\": 5, \"countUnit\": \"days\"}, \"action\": {\"type\": \"expire\"}}]}",
                   "C:1");
}

/* Example B: tags are not exclusive; all three match, the newest stays. */
static void test_lifecycle_example_multiple_tags_b(void **state)
{
    const ex_image repo[] = {
        {"A", "alpha-1 beta-1 gamma-1", 10, 0, 0}, {"B", "alpha-2 beta-2", 9, 0, 0},
        {"C", "alpha-3 beta-3 gamma-2", 8, 0, 0}};
    worked_example(*state, repo, 3,
                   "{\"rules\": [{\"rulePriority\": 1, \"description\": \"Rule 1\", \"selection\": {\"tagStatus\": "
                   "\"tagged\", \"tagPatternList\": [\"alpha*\", \"beta*\"], \"countType\": \"imageCountMoreThan\", "
                   "\"countNumber\": 1}, \"action\": {\"type\": \"expire\"}}]}",
                   "A:1 B:1");
}

/* "Filtering on all images", example A: one any rule keeps the newest. */
static void test_lifecycle_example_all_images_a(void **state)
{
    const ex_image repo[] = {
        {"A", "alpha-1", 4, 0, 0}, {"B", "beta-1", 3, 0, 0}, {"C", "", 2, 0, 0}, {"D", "alpha-2", 1, 0, 0}};
    worked_example(*state, repo, 4,
                   "{\"rules\": [{\"rulePriority\": 1, \"description\": \"Rule 1\", \"selection\": {\"tagStatus\": "
                   "\"any\", \"countType\": \"imageCountMoreThan\", \"countNumber\": 1}, \"action\": {\"type\": "
                   "\"expire\"}}]}",
                   "A:1 B:1 C:1");
}

/* Example B, all the rule types: rule 1 (alpha*, keep 1) marks A; rule 2
 * (untagged, older than 1 day) marks B (E is exactly one day old); rule 3
 * (any, keep 1) counts all five, keeps E, the newest, and of the rest may
 * mark only D, which no higher rule identified.  A, B and D expire.  (The
 * page's "git hash" tag holds a blank, which no image tag may: githash.) */
static void test_lifecycle_example_all_images_b(void **state)
{
    const ex_image repo[] = {{"A", "alpha-1 beta-1", 4, 0, 0},
                             {"B", "", 3, 0, 0},
                             {"C", "alpha-2", 2, 0, 0},
                             {"D", "githash", 1, 0, 0},
                             {"E", "", 1, 0, 0}};
    worked_example(*state, repo, 5,
                   "{\"rules\": [{\"rulePriority\": 1, \"description\": \"Rule 1\", \"selection\": {\"tagStatus\": "
                   "\"tagged\", \"tagPatternList\": [\"alpha*\"], \"countType\": \"imageCountMoreThan\", "
                   "\"countNumber\": 1}, \"action\": {\"type\": \"expire\"}}, {\"rulePriority\": 2, \"description\": "
                   "\"Rule 2\", \"selection\": {\"tagStatus\": \"untagged\", \"countType\": \"sinceImagePushed\", "
                   "\"countUnit\": \"days\", \"countNumber\": 1}, \"action\": {\"type\": \"expire\"}}, "
                   "{\"rulePriority\": 3, \"description\": \"Rule 3\", \"selection\": {\"tagStatus\": \"any\", "
                   "\"countType\": \"imageCountMoreThan\", \"countNumber\": 1}, \"action\": {\"type\": \"expire\"}}]}",
                   "A:1 B:2 D:3");
}

#define ARCHIVE_NOT_PULLED_90                                                                                   \
    "{\"rules\": [{\"rulePriority\": 1, \"description\": \"Archive images not pulled in 90 days\", "            \
    "\"selection\": {\"tagStatus\": \"any\", \"countType\": \"sinceImagePulled\", \"countUnit\": \"days\", "      \
    "\"countNumber\": 90}, \"action\": {\"type\": \"transition\", \"targetStorageClass\": \"archive\"}}]}"

/* "Filtering on last pulled time": images not pulled in 90 days go to the
 * archive.  A was pulled 91 days ago, B 10 days ago (pushed long before),
 * C never (pushed 100 days ago: the push counts), D never (pushed 30 days
 * ago), E is archived already (a standard rule does not see it). */
static void test_lifecycle_example_last_pulled_time(void **state)
{
    const ex_image repo[] = {{"A", "v1", 200, 91, 0, 0},
                             {"B", "v2", 200, 10, 0, 0},
                             {"C", "", 100, 0, 0, 0},
                             {"D", "v3", 30, 0, 0, 0},
                             {"E", "v4", 300, 0, 200, 0}};
    worked_example(*state, repo, 5, ARCHIVE_NOT_PULLED_90, "A:1T C:1T");
}

/* "Filtering on archive transition time": archived images expire 365 days
 * after they were archived, whenever they were pushed.  A was archived 400
 * days ago, B 365 (not more), C 366; D is standard and very old. */
static void test_lifecycle_example_archive_transition_time(void **state)
{
    const ex_image repo[] = {{"A", "v1", 500, 0, 400, 0},
                             {"B", "v2", 900, 0, 365, 0},
                             {"C", "", 367, 0, 366, 0},
                             {"D", "v3", 900, 0, 0, 0}};
    worked_example(*state, repo, 4,
                   "{\"rules\": [{\"rulePriority\": 1, \"description\": \"Expire images archived for more than 365 "
                   "days\", \"selection\": {\"tagStatus\": \"any\", \"storageClass\": \"archive\", \"countType\": "
                   "\"sinceImageTransitioned\", \"countUnit\": \"days\", \"countNumber\": 365}, \"action\": "
                   "{\"type\": \"expire\"}}]}",
                   "A:1 C:1");
}

/* "Archive examples": prod* images older than 30 days go to the archive. */
static void test_lifecycle_example_archive_older_than(void **state)
{
    const ex_image repo[] = {{"A", "prod-1", 31, 0, 0, 0},
                             {"B", "prod-2", 30, 0, 0, 0},
                             {"C", "dev-1", 60, 0, 0, 0},
                             {"D", "production", 45, 1, 0, 0}};
    worked_example(*state, repo, 4,
                   "{\"rules\": [{\"rulePriority\": 1, \"description\": \"Archive production images older than 30 "
                   "days\", \"selection\": {\"tagStatus\": \"tagged\", \"tagPatternList\": [\"prod*\"], "
                   "\"countType\": \"sinceImagePushed\", \"countUnit\": \"days\", \"countNumber\": 30}, \"action\": "
                   "{\"type\": \"transition\", \"targetStorageClass\": \"archive\"}}]}",
                   "A:1T D:1T");
}

/* "Archiving images not pulled in a specified number of days", the same
 * policy over restored images: one restored 100 days ago and not pulled
 * since counts from its restore (A); one pulled after its restore counts
 * from that pull (B: 10 days); one restored 20 days ago and never pulled
 * is not due (C), though it was pushed 400 days ago. */
static void test_lifecycle_example_archive_not_pulled(void **state)
{
    const ex_image repo[] = {{"A", "v1", 400, 0, 300, 100},
                             {"B", "v2", 400, 10, 300, 200},
                             {"C", "v3", 400, 0, 300, 20}};
    worked_example(*state, repo, 3, ARCHIVE_NOT_PULLED_90, "A:1T");
}

/* "Combining archive and expire rules": rule 1 archives images pushed
 * more than 30 days ago, rule 2 expires those archived more than 365 days
 * ago.  An image archived by this run is not expired by it. */
static void test_lifecycle_example_archive_and_expire(void **state)
{
    const ex_image repo[] = {{"A", "v1", 1000, 0, 400, 0},
                             {"B", "v2", 1000, 0, 100, 0},
                             {"C", "", 31, 0, 0, 0},
                             {"D", "v3", 29, 0, 0, 0}};
    worked_example(*state, repo, 4,
                   "{\"rules\": [{\"rulePriority\": 1, \"description\": \"Archive images older than 30 days\", "
                   "\"selection\": {\"tagStatus\": \"any\", \"countType\": \"sinceImagePushed\", \"countUnit\": "
                   "\"days\", \"countNumber\": 30}, \"action\": {\"type\": \"transition\", \"targetStorageClass\": "
                   "\"archive\"}}, {\"rulePriority\": 2, \"description\": \"Expire images archived for more than "
                   "365 days\", \"selection\": {\"tagStatus\": \"any\", \"storageClass\": \"archive\", "
                   "\"countType\": \"sinceImageTransitioned\", \"countUnit\": \"days\", \"countNumber\": 365}, "
                   "\"action\": {\"type\": \"expire\"}}]}",
                   "A:2 C:1T");
}

/* ---- the archive storage class -------------------------------------------------------------------- */

/* A preview of a policy that archives and expires: each result's action and
 * storage class, and a summary that counts expirations and transitions
 * apart, whatever the page or filter. */
static void test_lifecycle_preview_transitions(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "app");
    char *a = push_at(m, "app", T0, 1, "a");
    char *b = push_at(m, "app", T0, 2, NULL);
    char *c = push_at(m, "app", T0 + 95 * DAY_MS, 3, "c");
    char *d = push_at(m, "app", T0, 4, NULL);
    call_ok(m, "UpdateImageStorageClass",
            "{\"repositoryName\": \"app\", \"imageId\": {\"imageDigest\": \"%s\"}, \"targetStorageClass\": \"ARCHIVE\"}",
            b);
    put_policy(m, "app",
               "{\"rules\": [{\"rulePriority\": 1, \"selection\": {\"tagStatus\": \"any\", \"countType\": "
               "\"sinceImagePulled\", \"countUnit\": \"days\", \"countNumber\": 10}, \"action\": {\"type\": "
               "\"transition\", \"targetStorageClass\": \"archive\"}}, {\"rulePriority\": 2, \"selection\": "
               "{\"tagStatus\": \"any\", \"storageClass\": \"archive\", \"countType\": \"sinceImageTransitioned\", "
               "\"countUnit\": \"days\", \"countNumber\": 90}, \"action\": {\"type\": \"expire\"}}]}");
    ecrmock_clock_set(m, T0 + 100 * DAY_MS, NULL);
    start_preview(m);
    ecrmock_clock_advance(m, 1, NULL);
    json_t *r = NULL;
    assert_ok(preview_get(m, &r, "\"maxResults\": 1"), r);
    json_t *res = json_object_get(r, "previewResults");
    assert_int_equal(json_array_size(res), 1);
    json_t *first = json_array_get(res, 0);
    /* Rule 1 first, oldest first (a before d: same time, pushed first). */
    assert_string_equal(STR(first, "imageDigest"), a);
    assert_string_equal(STR(json_object_get(first, "action"), "type"), "TRANSITION");
    assert_string_equal(STR(json_object_get(first, "action"), "targetStorageClass"), "ARCHIVE");
    assert_string_equal(STR(first, "storageClass"), "STANDARD");
    json_t *sum = json_object_get(r, "summary");
    assert_int_equal(json_integer_value(json_object_get(sum, "expiringImageTotalCount")), 1);
    json_t *counts = json_object_get(sum, "transitioningImageTotalCounts");
    assert_int_equal(json_array_size(counts), 1);
    assert_string_equal(STR(json_array_get(counts, 0), "targetStorageClass"), "ARCHIVE");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(counts, 0), "imageTotalCount")), 2);
    json_decref(r);

    assert_ok(preview_get(m, &r, "\"filter\": {\"tagStatus\": \"UNTAGGED\"}"), r);
    res = json_object_get(r, "previewResults");
    assert_int_equal(json_array_size(res), 2);
    assert_string_equal(STR(json_array_get(res, 0), "imageDigest"), d);
    assert_string_equal(STR(json_array_get(res, 1), "imageDigest"), b);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(res, 1), "appliedRulePriority")), 2);
    assert_string_equal(STR(json_object_get(json_array_get(res, 1), "action"), "type"), "EXPIRE");
    assert_string_equal(STR(json_array_get(res, 1), "storageClass"), "ARCHIVE");
    sum = json_object_get(r, "summary");
    assert_int_equal(json_integer_value(json_object_get(sum, "expiringImageTotalCount")), 1);
    assert_int_equal(
        json_integer_value(json_object_get(json_array_get(json_object_get(sum, "transitioningImageTotalCounts"), 0),
                                           "imageTotalCount")),
        2);
    json_decref(r);

    /* The preview archived nothing; applying does what it showed. */
    json_t *dd = describe_image(m, "app", a);
    assert_string_equal(STR(dd, "imageStatus"), "ACTIVE");
    json_decref(dd);
    ecrmock_clock_set(m, T0 + 100 * DAY_MS, NULL);
    json_t *x = apply(m, "app");
    assert_int_equal(json_array_size(x), 3);
    json_decref(x);
    assert_false(has_image(m, "app", b));
    dd = describe_image(m, "app", a);
    assert_string_equal(STR(dd, "imageStatus"), "ARCHIVED");
    json_decref(dd);
    dd = describe_image(m, "app", c);
    assert_string_equal(STR(dd, "imageStatus"), "ACTIVE");
    json_decref(dd);
    free(a), free(b), free(c), free(d);
}

/* A manifest list a transition rule archives takes its images along, as
 * UpdateImageStorageClass does; they are not results of their own. */
static void test_lifecycle_transition_archives_a_list_with_its_images(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "app");
    char *c1 = push_at(m, "app", T0, 1, NULL);
    char *c2 = push_at(m, "app", T0, 2, NULL);
    json_t *mf = json_pack("{s:i, s:s, s:[{s:s, s:i, s:s, s:{s:s, s:s}}, {s:s, s:i, s:s, s:{s:s, s:s}}]}",
                           "schemaVersion", 2, "mediaType", MT_DOCKER_LIST, "manifests", "mediaType", MT_DOCKER_V2,
                           "size", 400, "digest", c1, "platform", "architecture", "amd64", "os", "linux", "mediaType",
                           MT_DOCKER_V2, "size", 400, "digest", c2, "platform", "architecture", "arm64", "os",
                           "linux");
    char *text_mf = json_dumps(mf, JSON_COMPACT);
    json_decref(mf);
    char *list = put_image(m, "app", text_mf, "multi");
    free(text_mf);
    put_policy(m, "app",
               "{\"rules\": [{\"rulePriority\": 1, \"selection\": {\"tagStatus\": \"any\", \"countType\": "
               "\"sinceImagePushed\", \"countUnit\": \"days\", \"countNumber\": 1}, \"action\": {\"type\": "
               "\"transition\", \"targetStorageClass\": \"archive\"}}]}");
    ecrmock_clock_set(m, T0 + 3 * DAY_MS, NULL);
    json_t *x = apply(m, "app");
    assert_int_equal(json_array_size(x), 1);
    assert_string_equal(STR(json_array_get(x, 0), "imageDigest"), list);
    json_decref(x);
    const char *all[] = {list, c1, c2};
    for (int i = 0; i < 3; i++) {
        json_t *d = describe_image(m, "app", all[i]);
        assert_string_equal(STR(d, "imageStatus"), "ARCHIVED");
        assert_true(json_real_value(json_object_get(d, "lastArchivedAt")) == (double)(T0 + 3 * DAY_MS) / 1000);
        json_decref(d);
    }
    /* Archived, they are out of the standard rule's reach. */
    x = apply(m, "app");
    assert_int_equal(json_array_size(x), 0);
    json_decref(x);
    free(c1), free(c2), free(list);
}

/* An image being restored cannot be archived: a transition rule leaves it
 * until the restore completes.  Restored, an image's place in the standard
 * order is its restore: imageCountMoreThan keeps it over an image pushed
 * after it but before the restore. */
static void test_lifecycle_restored_images(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "app");
    char *old = push_at(m, "app", T0, 1, "old");
    char *mid = push_at(m, "app", T0 + 3 * DAY_MS, 2, "mid");
    ecrmock_clock_set(m, T0 + 1 * DAY_MS, NULL);
    call_ok(m, "UpdateImageStorageClass",
            "{\"repositoryName\": \"app\", \"imageId\": {\"imageDigest\": \"%s\"}, \"targetStorageClass\": \"ARCHIVE\"}",
            old);
    ecrmock_clock_set(m, T0 + 5 * DAY_MS, NULL);
    call_ok(m, "UpdateImageStorageClass",
            "{\"repositoryName\": \"app\", \"imageId\": {\"imageDigest\": \"%s\"}, \"targetStorageClass\": \"STANDARD\"}",
            old);
    put_policy(m, "app",
               "{\"rules\": [{\"rulePriority\": 1, \"selection\": {\"tagStatus\": \"any\", \"countType\": "
               "\"sinceImagePushed\", \"countUnit\": \"days\", \"countNumber\": 1}, \"action\": {\"type\": "
               "\"transition\", \"targetStorageClass\": \"archive\"}}]}");
    /* ACTIVATING: only mid goes to the archive. */
    json_t *x = apply(m, "app");
    assert_int_equal(json_array_size(x), 1);
    assert_string_equal(STR(json_array_get(x, 0), "imageDigest"), mid);
    json_decref(x);
    /* mid restored now (day 5), old archived again and restored at day 7:
     * old, pushed first, is the most recently restored. */
#define update "{\"repositoryName\": \"app\", \"imageId\": {\"imageDigest\": \"%s\"}, \"targetStorageClass\": \"%s\"}"
    call_ok(m, "UpdateImageStorageClass", update, mid, "STANDARD");
    ecrmock_clock_set(m, T0 + 6 * DAY_MS, NULL);
    call_ok(m, "UpdateImageStorageClass", update, old, "ARCHIVE");
    ecrmock_clock_set(m, T0 + 7 * DAY_MS, NULL);
    call_ok(m, "UpdateImageStorageClass", update, old, "STANDARD");
    put_policy(m, "app",
               "{\"rules\": [{\"rulePriority\": 1, \"selection\": {\"tagStatus\": \"any\", \"countType\": "
               "\"imageCountMoreThan\", \"countNumber\": 1}, \"action\": {\"type\": \"expire\"}}]}");
    ecrmock_clock_set(m, T0 + 10 * DAY_MS, NULL);
    x = apply(m, "app");
    assert_int_equal(json_array_size(x), 1);
    assert_string_equal(STR(json_array_get(x, 0), "imageDigest"), mid);
    json_decref(x);
    assert_true(has_image(m, "app", old));
#undef update
    free(old), free(mid);
}

/* Ages at the ends of int64: the clock at INT64_MAX and countNumbers whose
 * days do not fit in milliseconds. */
static void test_lifecycle_age_at_int64_edges(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "app");
    char *a = push_at(m, "app", T0, 1, "a");
    int64_t days = (ECRMOCK_CLOCK_MAX_MS - T0) / DAY_MS; /* a's age at the clock's end is a little more */
    const struct {
        long long count;
        size_t expired;
    } cases[] = {{INT64_MAX, 0}, {INT64_MAX / DAY_MS + 1, 0}, {days + 1, 0}, {days, 1}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[512];
        snprintf(text, sizeof text,
                 "{\"rules\": [{\"rulePriority\": 1, \"selection\": {\"tagStatus\": \"any\", \"countType\": "
                 "\"sinceImagePulled\", \"countUnit\": \"days\", \"countNumber\": %lld}, \"action\": {\"type\": "
                 "\"transition\", \"targetStorageClass\": \"archive\"}}]}",
                 cases[i].count);
        put_policy(m, "app", text);
        assert_int_equal(ecrmock_clock_set(m, ECRMOCK_CLOCK_MAX_MS, NULL), 0);
        json_t *x = apply(m, "app");
        if (json_array_size(x) != cases[i].expired)
            fail_msg("countNumber %lld: %zu results", cases[i].count, json_array_size(x));
        json_decref(x);
    }
    json_t *d = describe_image(m, "app", a);
    assert_string_equal(STR(d, "imageStatus"), "ARCHIVED");
    json_decref(d);
    free(a);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup_mock, teardown_mock)

/* The ecrmock_err convention: each failure's code and sentence (path "": no
 * document of the caller's was at fault), NULL err accepted, an err that
 * held an old failure cleared by a success. */
static void test_lifecycle_apply_err(void **state)
{
    ecrmock *m = *state;
    json_t *x = NULL;
    assert_int_equal(ERR_CODE(ecrmock_lifecycle_apply(m, NULL, "app", &x, &test_err)), ECRMOCK_ERR_REPOSITORY_NOT_FOUND);
    assert_string_equal(test_err.path, "");
    assert_string_equal(test_err.text, "no repository 'app' in the registry '123456789012'");
    assert_int_equal(ERR_CODE(ecrmock_lifecycle_apply(m, "12345", "app", NULL, &test_err)), ECRMOCK_ERR_INVALID_PARAMETER);
    assert_string_equal(test_err.text, "registry id '12345' is not 12 digits");
    assert_int_equal(ERR_CODE(ecrmock_lifecycle_apply(m, NULL, "", NULL, &test_err)), ECRMOCK_ERR_INVALID_PARAMETER);
    assert_string_equal(test_err.text, "m and repository (not empty) must be given");
    create_repo(m, "app");
    assert_int_equal(ERR_CODE(ecrmock_lifecycle_apply(m, NULL, "app", &x, &test_err)),
                     ECRMOCK_ERR_LIFECYCLE_POLICY_NOT_FOUND);
    assert_string_equal(test_err.text, "the repository 'app' has no lifecycle policy");
    assert_null(x);
    assert_int_equal(ecrmock_lifecycle_apply(m, NULL, "app", &x, NULL), -1);
    char text[600];
    snprintf(text, sizeof text, "{\"rules\": [%s]}", rule(1, "any", NULL, NULL, "imageCountMoreThan", 1));
    put_policy(m, "app", text);
    assert_int_equal(ERR_CODE(ecrmock_lifecycle_apply(m, NULL, "app", &x, dirty_err())), ECRMOCK_ERR_OK);
    assert_int_equal(json_array_size(x), 0);
    json_decref(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_put_lifecycle_policy_round_trip),
        T(test_get_lifecycle_policy_not_found),
        T(test_delete_lifecycle_policy),
        T(test_lifecycle_repository_not_found),
        T(test_lifecycle_policy_per_registry_and_gone_with_repository),
        T(test_put_lifecycle_policy_invalid),
        T(test_put_lifecycle_policy_invalid_leaves_none),
        T(test_put_lifecycle_policy_length_limits),
        T(test_put_lifecycle_policy_accepted_forms),
        T(test_lifecycle_count_keeps_most_recently_pushed),
        T(test_lifecycle_archived_images_left_alone),
        T(test_lifecycle_since_pushed_follows_the_clock),
        T(test_lifecycle_rules_by_priority_and_exclusive),
        T(test_lifecycle_tag_lists_need_every_entry),
        T(test_lifecycle_untagged_rule_and_tagged_images),
        T(test_lifecycle_manifest_list_children_kept),
        T(test_lifecycle_apply_sets_last_evaluated_at),
        T(test_lifecycle_apply_errors),
        T(test_lifecycle_preview_flow),
        T(test_lifecycle_preview_with_given_text_and_no_policy),
        T(test_lifecycle_preview_paging_and_filters),
        T(test_lifecycle_preview_waiter),
        T(test_lifecycle_preview_matches_apply),
        T(test_lifecycle_example_image_age),
        T(test_lifecycle_example_image_count),
        T(test_lifecycle_example_multiple_rules_a),
        T(test_lifecycle_example_multiple_rules_b),
        T(test_lifecycle_example_multiple_tags_a),
        T(test_lifecycle_example_multiple_tags_b),
        T(test_lifecycle_example_all_images_a),
        T(test_lifecycle_example_all_images_b),
        T(test_lifecycle_example_last_pulled_time),
        T(test_lifecycle_example_archive_transition_time),
        T(test_lifecycle_example_archive_older_than),
        T(test_lifecycle_example_archive_not_pulled),
        T(test_lifecycle_example_archive_and_expire),
        T(test_lifecycle_preview_transitions),
        T(test_lifecycle_transition_archives_a_list_with_its_images),
        T(test_lifecycle_restored_images),
        T(test_lifecycle_age_at_int64_edges),
        T(test_lifecycle_apply_err),
    };
    return cmocka_run_group_tests_name("lifecycle", tests, NULL, NULL);
}
