/*
 * TagResource, UntagResource and ListTagsForResource: the repository an ARN
 * names (and every way an ARN can be wrong), the merge (a key given again
 * replaces its value, in place), the 50-tag limit counted after the merge,
 * the tag rules shared with CreateRepository, and that a failed call changes
 * nothing.
 */
#include "helpers.h"

#include "alloc_fail.h"

#define ACCOUNT "123456789012"
#define OTHER_REGISTRY "210987654321"
#define ARN(name) "arn:aws:ecr:us-east-1:" ACCOUNT ":repository/" name
#define INVALID_ARN "Invalid parameter at 'resourceArn' failed to satisfy constraint: 'Invalid ARN'"

/* ---- helpers --------------------------------------------------------------------- */

/* TagResource with `tags` (stolen). */
static int tag(ecrmock *m, const char *arn, json_t *tags, json_t **r)
{
    json_t *req = json_pack("{s:s, s:o}", "resourceArn", arn, "tags", tags);
    int st = ecrmock_call(m, "TagResource", req, r);
    json_decref(req);
    return st;
}

static void tag_ok(ecrmock *m, const char *arn, json_t *tags)
{
    json_t *r = NULL;
    assert_ok(tag(m, arn, tags, &r), r);
    /* The output shape has no members. */
    assert_true(json_is_object(r));
    assert_int_equal(json_object_size(r), 0);
    json_decref(r);
}

/* UntagResource with `keys` (stolen). */
static int untag(ecrmock *m, const char *arn, json_t *keys, json_t **r)
{
    json_t *req = json_pack("{s:s, s:o}", "resourceArn", arn, "tagKeys", keys);
    int st = ecrmock_call(m, "UntagResource", req, r);
    json_decref(req);
    return st;
}

/* The repository's tags as "k=v,k=v", in the order ListTagsForResource gives. */
static void assert_tags(ecrmock *m, const char *arn, const char *want)
{
    json_t *r = NULL;
    assert_ok(call(m, &r, "ListTagsForResource", "{\"resourceArn\": \"%s\"}", arn), r);
    json_t *tags = json_object_get(r, "tags");
    assert_true(json_is_array(tags));
    assert_int_equal(json_object_size(r), 1);
    char got[8192] = "";
    size_t i;
    json_t *t;
    json_array_foreach(tags, i, t) {
        assert_int_equal(json_object_size(t), 2);
        snprintf(got + strlen(got), sizeof got - strlen(got), "%s%s=%s", i ? "," : "",
                 json_string_value(json_object_get(t, "Key")), json_string_value(json_object_get(t, "Value")));
    }
    assert_string_equal(got, want);
    json_decref(r);
}

/* `n` tags key<first>..key<first+n-1>, all with value "v". */
static json_t *numbered_tags(int first, int n)
{
    json_t *tags = json_array();
    for (int i = first; i < first + n; i++) {
        char k[16];
        snprintf(k, sizeof k, "key%d", i);
        json_array_append_new(tags, json_pack("{s:s, s:s}", "Key", k, "Value", "v"));
    }
    return tags;
}

static size_t tag_count(ecrmock *m, const char *arn)
{
    json_t *r = NULL;
    assert_ok(call(m, &r, "ListTagsForResource", "{\"resourceArn\": \"%s\"}", arn), r);
    size_t n = json_array_size(json_object_get(r, "tags"));
    json_decref(r);
    return n;
}

/* ---- TagResource and ListTagsForResource ------------------------------------------ */

static void test_list_tags_for_resource_empty(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "web");
    assert_tags(m, ARN("web"), "");
}

static void test_list_tags_for_resource_from_create_repository(void **state)
{
    ecrmock *m = *state;
    call_ok(m, "CreateRepository",
            "{\"repositoryName\": \"web\", \"tags\": [{\"Key\": \"team\", \"Value\": \"core\"}, "
            "{\"Key\": \"env\", \"Value\": \"\"}]}");
    /* The order given, an empty value kept. */
    assert_tags(m, ARN("web"), "team=core,env=");
}

static void test_tag_resource_adds_tags(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "web");
    tag_ok(m, ARN("web"), json_pack("[{s:s, s:s}, {s:s, s:s}]", "Key", "team", "Value", "core", "Key", "cost",
                                    "Value", "42"));
    assert_tags(m, ARN("web"), "team=core,cost=42");
    tag_ok(m, ARN("web"), one_tag("env", "prod"));
    assert_tags(m, ARN("web"), "team=core,cost=42,env=prod");
    /* An empty list is a no-op. */
    tag_ok(m, ARN("web"), json_array());
    assert_tags(m, ARN("web"), "team=core,cost=42,env=prod");
}

static void test_tag_resource_replaces_value_in_place(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "web");
    tag_ok(m, ARN("web"), json_pack("[{s:s, s:s}, {s:s, s:s}, {s:s, s:s}]", "Key", "a", "Value", "1", "Key", "b",
                                    "Value", "2", "Key", "c", "Value", "3"));
    /* b changes where it stands; d is new and comes last; keys are case sensitive. */
    tag_ok(m, ARN("web"), json_pack("[{s:s, s:s}, {s:s, s:s}, {s:s, s:s}]", "Key", "d", "Value", "4", "Key", "b",
                                    "Value", "20", "Key", "A", "Value", "one"));
    assert_tags(m, ARN("web"), "a=1,b=20,c=3,d=4,A=one");
    /* The same value again changes nothing. */
    tag_ok(m, ARN("web"), one_tag("a", "1"));
    assert_tags(m, ARN("web"), "a=1,b=20,c=3,d=4,A=one");
}

static void test_tag_resource_keeps_no_reference_to_request(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "web");
    json_t *tags = one_tag("team", "core");
    json_t *req = json_pack("{s:s, s:O}", "resourceArn", ARN("web"), "tags", tags);
    json_t *r = NULL;
    assert_ok(ecrmock_call(m, "TagResource", req, &r), r);
    json_decref(r);
    json_object_set_new(json_array_get(tags, 0), "Value", json_string("changed"));
    json_decref(req);
    json_decref(tags);
    assert_tags(m, ARN("web"), "team=core");
}

static void test_tag_resource_repositories_are_independent(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "web");
    create_repo(m, "web/api");
    call_ok(m, "CreateRepository", "{\"repositoryName\": \"web\", \"registryId\": \"%s\"}", OTHER_REGISTRY);
    tag_ok(m, ARN("web"), one_tag("who", "web"));
    tag_ok(m, ARN("web/api"), one_tag("who", "api"));
    tag_ok(m, "arn:aws:ecr:us-east-1:" OTHER_REGISTRY ":repository/web", one_tag("who", "other"));
    assert_tags(m, ARN("web"), "who=web");
    assert_tags(m, ARN("web/api"), "who=api");
    assert_tags(m, "arn:aws:ecr:us-east-1:" OTHER_REGISTRY ":repository/web", "who=other");
}

/* The repositoryArn CreateRepository answers is the one the tag actions take,
 * in any partition. */
static void test_tag_resource_takes_repository_arn(void **state)
{
    (void)state;
    static const char *const regions[] = {"us-east-1", "eu-west-3", "cn-north-1", "us-gov-west-1"};
    static const char *const partitions[] = {"aws", "aws", "aws-cn", "aws-us-gov"};
    for (size_t i = 0; i < sizeof regions / sizeof regions[0]; i++) {
        ecrmock_options o = ECRMOCK_OPTIONS_INIT;
        o.region = regions[i];
        ecrmock *m = ecrmock_new(&o);
        assert_non_null(m);
        json_t *r = NULL;
        assert_ok(call(m, &r, "CreateRepository", "{\"repositoryName\": \"team/web\"}"), r);
        char arn[256];
        snprintf(arn, sizeof arn, "%s",
                 json_string_value(json_object_get(json_object_get(r, "repository"), "repositoryArn")));
        json_decref(r);
        char want[256];
        snprintf(want, sizeof want, "arn:%s:ecr:%s:%s:repository/team/web", partitions[i], regions[i], ACCOUNT);
        assert_string_equal(arn, want);
        tag_ok(m, arn, one_tag("region", regions[i]));
        char list[128];
        snprintf(list, sizeof list, "region=%s", regions[i]);
        assert_tags(m, arn, list);

        /* The default partition's ARN is not this repository's outside it. */
        snprintf(want, sizeof want, "arn:aws:ecr:%s:%s:repository/team/web", regions[i], ACCOUNT);
        if (strcmp(partitions[i], "aws") != 0) {
            assert_fail_msg(call(m, &r, "ListTagsForResource", "{\"resourceArn\": \"%s\"}", want), &r,
                            "InvalidParameterException", INVALID_ARN);
        }
        ecrmock_free(m);
    }
}

/* ---- the ARN ----------------------------------------------------------------------- */

static void test_tag_actions_invalid_arn(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "web");
    tag_ok(m, ARN("web"), one_tag("team", "core"));
    static const char *const bad[] = {
        "",
        "web",
        "arn",
        "arn:aws:ecr:us-east-1:" ACCOUNT,
        "arn:aws:ecr:us-east-1:" ACCOUNT ":",
        "arn:aws:ecr:us-east-1:" ACCOUNT ":repository",
        "arn:aws:ecr:us-east-1:" ACCOUNT ":repository/",
        "arn:aws:ecr:us-east-1:" ACCOUNT ":repository:web",
        "ARN:aws:ecr:us-east-1:" ACCOUNT ":repository/web",
        "urn:aws:ecr:us-east-1:" ACCOUNT ":repository/web",
        "arn:aws:ecs:us-east-1:" ACCOUNT ":repository/web",         /* another service */
        "arn:aws:ecr-public:us-east-1:" ACCOUNT ":repository/web",  /* another service */
        "arn:aws:s3:::web",
        "arn:aws:ecr:eu-west-1:" ACCOUNT ":repository/web",         /* another region */
        "arn:aws:ecr::" ACCOUNT ":repository/web",                  /* no region */
        "arn:aws-cn:ecr:us-east-1:" ACCOUNT ":repository/web",      /* another partition */
        "arn::ecr:us-east-1:" ACCOUNT ":repository/web",
        "arn:aws:ecr:us-east-1:" ACCOUNT ":image/web",              /* another resource type */
        "arn:aws:ecr:us-east-1:" ACCOUNT ":repositories/web",
        "arn:aws:ecr:us-east-1:" ACCOUNT ":Repository/web",
        "arn:aws:ecr:us-east-1:12345678901:repository/web",         /* 11 digits */
        "arn:aws:ecr:us-east-1:1234567890123:repository/web",       /* 13 digits */
        "arn:aws:ecr:us-east-1:12345678901x:repository/web",
        "arn:aws:ecr:us-east-1::repository/web",
        " arn:aws:ecr:us-east-1:" ACCOUNT ":repository/web",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *r = NULL;
        assert_fail_msg(tag(m, bad[i], one_tag("env", "prod"), &r), &r, "InvalidParameterException", INVALID_ARN);
        assert_fail_msg(untag(m, bad[i], json_pack("[s]", "team"), &r), &r, "InvalidParameterException",
                        INVALID_ARN);
        assert_fail_msg(call(m, &r, "ListTagsForResource", "{\"resourceArn\": \"%s\"}", bad[i]), &r,
                        "InvalidParameterException", INVALID_ARN);
    }
    assert_tags(m, ARN("web"), "team=core");
}

static void test_tag_actions_repository_not_found(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "web");
    json_t *r = NULL;
    call_ok(m, "CreateRepository", "{\"repositoryName\": \"elsewhere\", \"registryId\": \"%s\"}",
            OTHER_REGISTRY);
    struct {
        const char *arn, *msg;
    } cases[] = {
        {ARN("missing"), "The repository with name 'missing' does not exist in the registry with id '" ACCOUNT "'"},
        {ARN("web/api"), "The repository with name 'web/api' does not exist in the registry with id '" ACCOUNT "'"},
        /* Names are exact: no case folding, no trailing slash. */
        {ARN("WEB"), "The repository with name 'WEB' does not exist in the registry with id '" ACCOUNT "'"},
        {ARN("web/"), "The repository with name 'web/' does not exist in the registry with id '" ACCOUNT "'"},
        /* The ARN's account is the registry looked in. */
        {"arn:aws:ecr:us-east-1:" OTHER_REGISTRY ":repository/web",
         "The repository with name 'web' does not exist in the registry with id '" OTHER_REGISTRY "'"},
        {ARN("elsewhere"), "The repository with name 'elsewhere' does not exist in the registry with id '" ACCOUNT "'"},
        {"arn:aws:ecr:us-east-1:000000000000:repository/web",
         "The repository with name 'web' does not exist in the registry with id '000000000000'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_fail_msg(tag(m, cases[i].arn, one_tag("env", "prod"), &r), &r, "RepositoryNotFoundException",
                        cases[i].msg);
        assert_fail_msg(untag(m, cases[i].arn, json_pack("[s]", "env"), &r), &r, "RepositoryNotFoundException",
                        cases[i].msg);
        assert_fail_msg(call(m, &r, "ListTagsForResource", "{\"resourceArn\": \"%s\"}", cases[i].arn), &r,
                        "RepositoryNotFoundException", cases[i].msg);
    }
    assert_tags(m, ARN("web"), "");
    assert_tags(m, "arn:aws:ecr:us-east-1:" OTHER_REGISTRY ":repository/elsewhere", "");
}

/* A deleted repository's tags go with it: a new one of the same name starts bare. */
static void test_tags_deleted_with_repository(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "web");
    tag_ok(m, ARN("web"), one_tag("team", "core"));
    json_t *r = NULL;
    call_ok(m, "DeleteRepository", "{\"repositoryName\": \"web\"}");
    assert_repo_not_found(call(m, &r, "ListTagsForResource", "{\"resourceArn\": \"%s\"}", ARN("web")),
                          &r, "web", ACCOUNT);
    create_repo(m, "web");
    assert_tags(m, ARN("web"), "");
}

static void test_tag_actions_missing_members(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "web");
    json_t *r = NULL;
    assert_fail_msg(call(m, &r, "TagResource", "{\"resourceArn\": \"%s\"}", ARN("web")), &r,
                    "InvalidParameterException",
                    "Invalid parameter at 'tags' failed to satisfy constraint: 'Member must not be null'");
    assert_fail_msg(call(m, &r, "TagResource", "{\"tags\": []}"), &r, "InvalidParameterException",
                    "Invalid parameter at 'resourceArn' failed to satisfy constraint: 'Member must not be null'");
    assert_fail_msg(call(m, &r, "UntagResource", "{\"resourceArn\": \"%s\"}", ARN("web")), &r,
                    "InvalidParameterException",
                    "Invalid parameter at 'tagKeys' failed to satisfy constraint: 'Member must not be null'");
    assert_fail_msg(call(m, &r, "ListTagsForResource", "{}"), &r, "InvalidParameterException",
                    "Invalid parameter at 'resourceArn' failed to satisfy constraint: 'Member must not be null'");
}

/* ---- tag rules ----------------------------------------------------------------------- */

static void test_tag_resource_invalid_tags(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "web");
    tag_ok(m, ARN("web"), one_tag("team", "core"));
    json_t *r = NULL;
    static const char *const reserved[] = {"aws:owner", "AWS:owner", "Aws:x", "aWs:"};
    for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++) {
        char want[128];
        snprintf(want, sizeof want, "Tag key '%s' is reserved: keys prefixed with 'aws:' are for AWS use",
                 reserved[i]);
        assert_fail_msg(tag(m, ARN("web"), one_tag(reserved[i], "me"), &r), &r, "InvalidTagParameterException",
                        want);
    }
    assert_fail_msg(tag(m, ARN("web"), one_tag("", "v"), &r), &r, "InvalidTagParameterException",
                    "Tag key '' must be between 1 and 128 characters long");
    char key[130];
    memset(key, 'k', 129);
    key[129] = '\0';
    char want[512];
    snprintf(want, sizeof want, "Tag key '%s' must be between 1 and 128 characters long", key);
    assert_fail_msg(tag(m, ARN("web"), one_tag(key, "v"), &r), &r, "InvalidTagParameterException", want);
    char value[258];
    memset(value, 'v', 257);
    value[257] = '\0';
    assert_fail_msg(tag(m, ARN("web"), one_tag("env", value), &r), &r, "InvalidTagParameterException",
                    "The value of tag 'env' must be at most 256 characters long");
    /* A key given twice, even with the same value; a bad tag after good ones. */
    assert_fail_msg(tag(m, ARN("web"),
                        json_pack("[{s:s, s:s}, {s:s, s:s}]", "Key", "env", "Value", "a", "Key", "env", "Value", "a"),
                        &r),
                    &r, "InvalidTagParameterException", "Tag key 'env' is given more than once");
    assert_fail_msg(tag(m, ARN("web"),
                        json_pack("[{s:s, s:s}, {s:s, s:s}]", "Key", "team", "Value", "new", "Key", "aws:x", "Value",
                                  "a"),
                        &r),
                    &r, "InvalidTagParameterException",
                    "Tag key 'aws:x' is reserved: keys prefixed with 'aws:' are for AWS use");
    /* Key and Value are both required by the model. */
    assert_fail_msg(tag(m, ARN("web"), json_pack("[{s:s}]", "Key", "env"), &r), &r, "InvalidParameterException",
                    "Invalid parameter at 'tags.1.member.Value' failed to satisfy constraint: "
                    "'Member must not be null'");
    /* Nothing above changed the repository's tags (not even team=new). */
    assert_tags(m, ARN("web"), "team=core");

    /* The limits themselves are allowed; lengths count characters, not bytes;
     * "aws" without the colon, or not at the start, is an ordinary key. */
    key[128] = '\0';
    value[256] = '\0';
    char wide[128 * 2 + 1] = "";
    for (int i = 0; i < 128; i++)
        strcat(wide, "\xc3\xa9"); /* é: 2 bytes, 1 character */
    tag_ok(m, ARN("web"), json_pack("[{s:s, s:s}, {s:s, s:s}, {s:s, s:s}, {s:s, s:s}]", "Key", key, "Value", value,
                                    "Key", wide, "Value", wide, "Key", "awsome", "Value", "aws:ok", "Key", "my:aws:x",
                                    "Value", ""));
    assert_int_equal(tag_count(m, ARN("web")), 5);
}

/* CreateRepository applies the same rules (the reserved prefix in any case). */
static void test_create_repository_shares_tag_rules(void **state)
{
    ecrmock *m = *state;
    json_t *r = NULL;
    assert_fail_msg(call(m, &r, "CreateRepository",
                         "{\"repositoryName\": \"web\", \"tags\": [{\"Key\": \"AWS:team\", \"Value\": \"x\"}]}"),
                    &r, "InvalidTagParameterException",
                    "Tag key 'AWS:team' is reserved: keys prefixed with 'aws:' are for AWS use");
    json_t *req = json_pack("{s:s, s:o}", "repositoryName", "web", "tags", numbered_tags(0, 51));
    int st = ecrmock_call(m, "CreateRepository", req, &r);
    json_decref(req);
    assert_fail_msg(st, &r, "TooManyTagsException", "A resource can have at most 50 tags; the request gives 51");
    assert_repo_not_found(call(m, &r, "ListTagsForResource", "{\"resourceArn\": \"%s\"}", ARN("web")),
                          &r, "web", ACCOUNT);
}

static void test_tag_resource_too_many_tags_after_merge(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "web");
    json_t *r = NULL;
    /* 51 in one request. */
    assert_fail_msg(tag(m, ARN("web"), numbered_tags(0, 51), &r), &r, "TooManyTagsException",
                    "A resource can have at most 50 tags; with these the resource would have 51");
    assert_int_equal(tag_count(m, ARN("web")), 0);

    /* 45, then 5 more: exactly 50. */
    tag_ok(m, ARN("web"), numbered_tags(0, 45));
    tag_ok(m, ARN("web"), numbered_tags(45, 5));
    assert_int_equal(tag_count(m, ARN("web")), 50);

    /* At 50, one more key is refused, ... */
    assert_fail_msg(tag(m, ARN("web"), one_tag("extra", "v"), &r), &r, "TooManyTagsException",
                    "A resource can have at most 50 tags; with these the resource would have 51");
    /* ... and with it the existing keys it carries, ... */
    json_t *mixed = numbered_tags(0, 10);
    json_array_append_new(mixed, json_pack("{s:s, s:s}", "Key", "extra", "Value", "v"));
    json_array_append_new(mixed, json_pack("{s:s, s:s}", "Key", "extra2", "Value", "v"));
    assert_fail_msg(tag(m, ARN("web"), mixed, &r), &r, "TooManyTagsException",
                    "A resource can have at most 50 tags; with these the resource would have 52");
    assert_int_equal(tag_count(m, ARN("web")), 50);
    json_t *l = NULL;
    assert_ok(call(m, &l, "ListTagsForResource", "{\"resourceArn\": \"%s\"}", ARN("web")), l);
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(l, "tags"), 0), "Value")),
                        "v");
    json_decref(l);

    /* ... but replacing values of the 50 existing keys is fine: the count stays 50. */
    json_t *all = json_array();
    for (int i = 49; i >= 0; i--) {
        char k[16];
        snprintf(k, sizeof k, "key%d", i);
        json_array_append_new(all, json_pack("{s:s, s:s}", "Key", k, "Value", "w"));
    }
    tag_ok(m, ARN("web"), all);
    assert_int_equal(tag_count(m, ARN("web")), 50);

    /* After untagging one, one new key fits again, and goes last. */
    json_decref(r);
    r = NULL;
    assert_ok(untag(m, ARN("web"), json_pack("[s]", "key7"), &r), r);
    json_decref(r);
    tag_ok(m, ARN("web"), one_tag("extra", "v"));
    assert_ok(call(m, &l, "ListTagsForResource", "{\"resourceArn\": \"%s\"}", ARN("web")), l);
    json_t *tags = json_object_get(l, "tags");
    assert_int_equal(json_array_size(tags), 50);
    assert_string_equal(json_string_value(json_object_get(json_array_get(tags, 0), "Key")), "key0");
    assert_string_equal(json_string_value(json_object_get(json_array_get(tags, 0), "Value")), "w");
    assert_string_equal(json_string_value(json_object_get(json_array_get(tags, 7), "Key")), "key8");
    assert_string_equal(json_string_value(json_object_get(json_array_get(tags, 49), "Key")), "extra");
    json_decref(l);
}

/* ---- UntagResource -------------------------------------------------------------------- */

static void test_untag_resource_removes_keys(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "web");
    tag_ok(m, ARN("web"), json_pack("[{s:s, s:s}, {s:s, s:s}, {s:s, s:s}, {s:s, s:s}]", "Key", "a", "Value", "1",
                                    "Key", "b", "Value", "2", "Key", "c", "Value", "3", "Key", "d", "Value", "4"));
    json_t *r = NULL;
    /* Keys the repository does not have are fine, and so is a key twice;
     * keys match exactly (B is not b). */
    assert_ok(untag(m, ARN("web"), json_pack("[s, s, s, s, s]", "c", "absent", "a", "c", "B"), &r), r);
    assert_true(json_is_object(r));
    assert_int_equal(json_object_size(r), 0);
    json_decref(r);
    assert_tags(m, ARN("web"), "b=2,d=4");
    /* Nothing to remove: still a success. */
    assert_ok(untag(m, ARN("web"), json_array(), &r), r);
    json_decref(r);
    assert_ok(untag(m, ARN("web"), json_pack("[s]", "zzz"), &r), r);
    json_decref(r);
    assert_tags(m, ARN("web"), "b=2,d=4");
    assert_ok(untag(m, ARN("web"), json_pack("[s, s]", "d", "b"), &r), r);
    json_decref(r);
    assert_tags(m, ARN("web"), "");
    /* A removed key can be set again; it comes last. */
    tag_ok(m, ARN("web"), json_pack("[{s:s, s:s}, {s:s, s:s}]", "Key", "x", "Value", "1", "Key", "b", "Value", "9"));
    assert_tags(m, ARN("web"), "x=1,b=9");
}

static void test_untag_resource_invalid_keys(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "web");
    tag_ok(m, ARN("web"), json_pack("[{s:s, s:s}, {s:s, s:s}]", "Key", "a", "Value", "1", "Key", "b", "Value", "2"));
    json_t *r = NULL;
    /* A bad key fails the whole call: a, listed before it, stays. */
    assert_fail_msg(untag(m, ARN("web"), json_pack("[s, s]", "a", "aws:cloudformation:stack-name"), &r), &r,
                    "InvalidTagParameterException",
                    "Tag key 'aws:cloudformation:stack-name' is reserved: keys prefixed with 'aws:' are for AWS use");
    assert_fail_msg(untag(m, ARN("web"), json_pack("[s, s]", "a", ""), &r), &r, "InvalidTagParameterException",
                    "Tag key '' must be between 1 and 128 characters long");
    char key[130];
    memset(key, 'k', 129);
    key[129] = '\0';
    char want[256];
    snprintf(want, sizeof want, "Tag key '%s' must be between 1 and 128 characters long", key);
    assert_fail_msg(untag(m, ARN("web"), json_pack("[s, s]", "a", key), &r), &r, "InvalidTagParameterException",
                    want);
    assert_tags(m, ARN("web"), "a=1,b=2");
}

/* ---- out of memory ------------------------------------------------------------------- */

/* Each action, with each of its allocations failing in turn: a clean 500 and
 * no change, until it succeeds with the right result. */
static void test_tag_actions_alloc_failure(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "web");
    tag_ok(m, ARN("web"), json_pack("[{s:s, s:s}, {s:s, s:s}, {s:s, s:s}]", "Key", "a", "Value", "1", "Key", "b",
                                    "Value", "2", "Key", "c", "Value", "3"));
    json_t *req = json_pack("{s:s, s:[{s:s, s:s}, {s:s, s:s}]}", "resourceArn", ARN("web"), "tags", "Key", "d",
                            "Value", "4", "Key", "b", "Value", "20");
    json_decref(alloc_fail_call(m, "TagResource", req));
    json_decref(req);
    assert_tags(m, ARN("web"), "a=1,b=20,c=3,d=4");

    req = json_pack("{s:s, s:[s, s]}", "resourceArn", ARN("web"), "tagKeys", "a", "c");
    json_decref(alloc_fail_call(m, "UntagResource", req));
    json_decref(req);
    assert_tags(m, ARN("web"), "b=20,d=4");

    /* A repository with no tags: the kept list is the only allocation. */
    create_repo(m, "bare");
    req = json_pack("{s:s, s:[s]}", "resourceArn", ARN("bare"), "tagKeys", "a");
    json_decref(alloc_fail_call(m, "UntagResource", req));
    json_decref(req);
    assert_tags(m, ARN("bare"), "");

    req = json_pack("{s:s}", "resourceArn", ARN("web"));
    json_t *r = alloc_fail_call(m, "ListTagsForResource", req);
    json_decref(req);
    json_t *want = json_pack("{s:[{s:s, s:s}, {s:s, s:s}]}", "tags", "Key", "b", "Value", "20", "Key", "d", "Value",
                             "4");
    assert_true(json_equal(r, want));
    json_decref(want);
    json_decref(r);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup_mock, teardown_mock)

int main(void)
{
    alloc_fail_install();
    const struct CMUnitTest tests[] = {
        T(test_list_tags_for_resource_empty),
        T(test_list_tags_for_resource_from_create_repository),
        T(test_tag_resource_adds_tags),
        T(test_tag_resource_replaces_value_in_place),
        T(test_tag_resource_keeps_no_reference_to_request),
        T(test_tag_resource_repositories_are_independent),
        T(test_tag_resource_takes_repository_arn),
        T(test_tag_actions_invalid_arn),
        T(test_tag_actions_repository_not_found),
        T(test_tags_deleted_with_repository),
        T(test_tag_actions_missing_members),
        T(test_tag_resource_invalid_tags),
        T(test_create_repository_shares_tag_rules),
        T(test_tag_resource_too_many_tags_after_merge),
        T(test_untag_resource_removes_keys),
        T(test_untag_resource_invalid_keys),
        T(test_tag_actions_alloc_failure),
    };
    return cmocka_run_group_tests_name("resource_tags", tests, NULL, NULL);
}
