/*
 * PutReplicationConfiguration and DescribeImageReplicationStatus, and the
 * copy itself: an image PutImage stores is really in each destination
 * (another account of this region, another region of this account or of
 * another), with the same digest and manifest and downloadable layers, or its
 * status says why not.
 */
#include <stdbool.h>

#include "helpers.h"

#define ACCOUNT "123456789012"
#define OTHER "210987654321"
#define THIRD "333333333333"
#define SELF_DEST \
    "Invalid parameter at 'replicationConfiguration' failed to satisfy constraint: 'Replication destination " \
    "cannot be the same as the source registry'"
#define ALLOW_ALL_FROM_SOURCE \
    "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":" \
    "\"arn:aws:iam::" ACCOUNT ":root\"},\"Action\":[\"ecr:CreateRepository\",\"ecr:ReplicateImage\"]," \
    "\"Resource\":\"*\"}]}"

/* The instance's registry gets `conf` (JSON text) as its replication configuration. */
static void configure(ecrmock *m, const char *conf)
{
    call_ok(m, "PutReplicationConfiguration", "{\"replicationConfiguration\": %s}", conf);
}

/* `account` in `region` lets the instance's account replicate into it with `policy`. */
static void set_registry_policy(ecrmock *m, const char *account, const char *region, const char *policy)
{
    json_t *req = json_pack("{s:s}", "policyText", policy), *r = NULL;
    assert_ok(ecrmock_call_as(m, account, region, "PutRegistryPolicy", req, &r), r);
    json_decref(req);
    json_decref(r);
}

/* Creates `repo` (if need be) and pushes a fresh image (2 layers) tagged `tag`; returns the digest. */
static char *push(ecrmock *m, const char *repo, const char *tag, int salt, char **manifest_out)
{
    json_t *r = NULL;
    int st = call(m, &r, "CreateRepository", "{\"repositoryName\": \"%s\"}", repo);
    assert_true(st == 200 || strcmp(err_type(r), "RepositoryAlreadyExistsException") == 0);
    json_decref(r);
    char *mf = make_manifest(m, repo, 2, salt);
    char *digest = put_image(m, repo, mf, tag);
    if (manifest_out)
        *manifest_out = mf;
    else
        free(mf);
    return digest;
}

/* BatchGetImage of `repo:tag` in `registry` at `region` (NULL: the instance's). */
static json_t *get_image(ecrmock *m, const char *region, const char *registry, const char *repo, const char *tag)
{
    json_t *req = json_pack("{s:s, s:s, s:[{s:s}]}", "registryId", registry, "repositoryName", repo, "imageIds",
                            "imageTag", tag);
    json_t *r = NULL;
    assert_ok(ecrmock_call_as(m, NULL, region, "BatchGetImage", req, &r), r);
    json_decref(req);
    return r;
}

/* Asserts that `registry`/`repo` at `region` holds `tag` as the image `digest`
 * with manifest `manifest`, and serves each of its blobs with the source's bytes. */
static void assert_copy(ecrmock *m, const char *region, const char *registry, const char *repo, const char *tag,
                        const char *digest, const char *manifest)
{
    json_t *r = get_image(m, region, registry, repo, tag);
    json_t *images = json_object_get(r, "images");
    if (json_array_size(images) != 1)
        fail_msg("%s/%s:%s not in %s", registry, repo, tag, region ? region : "the home region");
    json_t *img = json_array_get(images, 0);
    assert_string_equal(json_string_value(json_object_get(img, "registryId")), registry);
    assert_string_equal(json_string_value(json_object_get(json_object_get(img, "imageId"), "imageDigest")), digest);
    assert_string_equal(json_string_value(json_object_get(img, "imageManifest")), manifest);
    json_decref(r);

    json_t *mf = json_loads(manifest, 0, NULL);
    json_t *blobs = json_array();
    json_array_append(blobs, json_object_get(json_object_get(mf, "config"), "digest"));
    size_t i;
    json_t *l;
    json_array_foreach(json_object_get(mf, "layers"), i, l) json_array_append(blobs, json_object_get(l, "digest"));
    json_array_foreach(blobs, i, l) {
        const char *d = json_string_value(l);
        json_t *req = json_pack("{s:s, s:s, s:s}", "registryId", registry, "repositoryName", repo, "layerDigest", d);
        assert_ok(ecrmock_call_as(m, NULL, region, "GetDownloadUrlForLayer", req, &r), r);
        json_decref(req);
        const char *url = json_string_value(json_object_get(r, "downloadUrl"));
        if (region)
            assert_non_null(strstr(url, region));
        void *got = NULL, *want = NULL;
        size_t got_len = 0, want_len = 0;
        assert_int_equal(ecrmock_fetch_url(m, url, &got, &got_len), 200);
        json_decref(r);
        assert_int_equal(ecrmock_get_layer(m, NULL, repo, d, &want, &want_len, NULL), ECRMOCK_ERR_OK);
        assert_int_equal(got_len, want_len);
        assert_memory_equal(got, want, want_len);
        free(got);
        free(want);
    }
    json_decref(blobs);
    json_decref(mf);
}

/* DescribeImageReplicationStatus's replicationStatuses for repo@digest (new reference). */
static json_t *statuses(ecrmock *m, const char *repo, const char *digest)
{
    json_t *r = NULL;
    assert_ok(call(m, &r, "DescribeImageReplicationStatus",
                   "{\"repositoryName\": \"%s\", \"imageId\": {\"imageDigest\": \"%s\"}}", repo, digest),
              r);
    json_t *s = json_incref(json_object_get(r, "replicationStatuses"));
    json_decref(r);
    return s;
}

static void assert_status(json_t *list, size_t i, const char *region, const char *registry, const char *status,
                          const char *code)
{
    json_t *s = json_array_get(list, i);
    assert_non_null(s);
    assert_string_equal(json_string_value(json_object_get(s, "region")), region);
    assert_string_equal(json_string_value(json_object_get(s, "registryId")), registry);
    assert_string_equal(json_string_value(json_object_get(s, "status")), status);
    if (code)
        assert_string_equal(json_string_value(json_object_get(s, "failureCode")), code);
    else
        assert_null(json_object_get(s, "failureCode"));
}

/* Whether `repo` exists in `registry` at `region`. */
static bool repo_exists(ecrmock *m, const char *region, const char *registry, const char *repo)
{
    json_t *req = json_pack("{s:s, s:[s]}", "registryId", registry, "repositoryNames", repo), *r = NULL;
    int st = ecrmock_call_as(m, NULL, region, "DescribeRepositories", req, &r);
    json_decref(req);
    json_decref(r);
    return st == 200;
}

/* ---- PutReplicationConfiguration ------------------------------------------------------- */

static void test_put_replication_configuration_round_trip(void **state)
{
    ecrmock *m = *state;
    const char *conf = "{\"rules\": [{\"destinations\": [{\"region\": \"eu-west-1\", \"registryId\": \"" ACCOUNT
                       "\"}, {\"region\": \"us-east-1\", \"registryId\": \"" OTHER "\"}]}, "
                       "{\"destinations\": [{\"region\": \"ap-south-1\", \"registryId\": \"" OTHER "\"}], "
                       "\"repositoryFilters\": [{\"filter\": \"team/\", \"filterType\": \"PREFIX_MATCH\"}]}]}";
    json_t *r = NULL;
    assert_ok(call(m, &r, "PutReplicationConfiguration", "{\"replicationConfiguration\": %s}", conf), r);
    json_t *want = json_loads(conf, 0, NULL);
    assert_true(json_equal(json_object_get(r, "replicationConfiguration"), want));
    assert_int_equal(json_object_size(r), 1);
    json_decref(r);
    assert_ok(call(m, &r, "DescribeRegistry", "{}"), r);
    assert_true(json_equal(json_object_get(r, "replicationConfiguration"), want));
    json_decref(r);
    json_decref(want);
    /* No rules: replication off. */
    configure(m, "{\"rules\": []}");
    assert_ok(call(m, &r, "DescribeRegistry", "{}"), r);
    assert_int_equal(json_array_size(json_object_get(json_object_get(r, "replicationConfiguration"), "rules")), 0);
    json_decref(r);
}

static void test_put_replication_configuration_self_destination(void **state)
{
    ecrmock *m = *state;
    const char *old = "{\"rules\": [{\"destinations\": [{\"region\": \"eu-west-1\", \"registryId\": \"" ACCOUNT "\"}]}]}";
    configure(m, old);
    json_t *r = NULL;
    assert_fail_msg(call(m, &r, "PutReplicationConfiguration",
                         "{\"replicationConfiguration\": {\"rules\": [{\"destinations\": [{\"region\": \"eu-west-2\", "
                         "\"registryId\": \"" ACCOUNT "\"}, {\"region\": \"us-east-1\", \"registryId\": \"" ACCOUNT
                         "\"}]}]}}"),
                    &r, "InvalidParameterException", SELF_DEST);
    /* The old configuration stays. */
    assert_ok(call(m, &r, "DescribeRegistry", "{}"), r);
    json_t *want = json_loads(old, 0, NULL);
    assert_true(json_equal(json_object_get(r, "replicationConfiguration"), want));
    json_decref(want);
    json_decref(r);
    /* What is itself in one region is another registry in the next, or as another account. */
    json_t *req = json_loads("{\"replicationConfiguration\": {\"rules\": [{\"destinations\": [{\"region\": "
                             "\"us-east-1\", \"registryId\": \"" ACCOUNT "\"}]}]}}",
                             0, NULL);
    assert_ok(ecrmock_call_as(m, NULL, "eu-west-1", "PutReplicationConfiguration", req, &r), r);
    json_decref(r);
    assert_ok(ecrmock_call_as(m, OTHER, NULL, "PutReplicationConfiguration", req, &r), r);
    json_decref(r);
    assert_fail_msg(ecrmock_call_as(m, NULL, "us-east-1", "PutReplicationConfiguration", req, &r), &r,
                    "InvalidParameterException", SELF_DEST);
    json_decref(req);
}

/* A rule's destinations as JSON text: `n` of them, all other-account ones. */
static char *rule_with(size_t n)
{
    json_t *dests = json_array();
    for (size_t i = 0; i < n; i++) {
        char account[13];
        snprintf(account, sizeof account, "%012zu", 100000000000 + i);
        json_array_append_new(dests, json_pack("{s:s, s:s}", "region", "us-west-2", "registryId", account));
    }
    json_t *conf = json_pack("{s:{s:[{s:o}]}}", "replicationConfiguration", "rules", "destinations", dests);
    char *text = json_dumps(conf, JSON_COMPACT);
    json_decref(conf);
    return text;
}

static void test_put_replication_configuration_limits(void **state)
{
    ecrmock *m = *state;
    json_t *r = NULL;
    char *text = rule_with(26);
    assert_fail_msg(call(m, &r, "PutReplicationConfiguration", "%s", text), &r, "InvalidParameterException",
                    "Invalid parameter at 'replicationConfiguration.rules.1.member.destinations' failed to satisfy "
                    "constraint: 'Member must have length less than or equal to 25'");
    free(text);
    text = rule_with(0);
    assert_fail_msg(call(m, &r, "PutReplicationConfiguration", "%s", text), &r, "InvalidParameterException",
                    "Invalid parameter at 'replicationConfiguration.rules.1.member.destinations' failed to satisfy "
                    "constraint: 'Member must have length greater than or equal to 1'");
    free(text);
    /* A refused configuration leaves none. */
    assert_ok(call(m, &r, "DescribeRegistry", "{}"), r);
    assert_int_equal(json_array_size(json_object_get(json_object_get(r, "replicationConfiguration"), "rules")), 0);
    json_decref(r);
    text = rule_with(25);
    call_ok(m, "PutReplicationConfiguration", "%s", text);
    free(text);

    /* At most 10 rules, and filters of type PREFIX_MATCH (the model, checked before). */
    json_t *rules = json_array();
    for (int i = 0; i < 11; i++)
        json_array_append_new(rules, json_pack("{s:[{s:s, s:s}]}", "destinations", "region", "eu-west-1",
                                               "registryId", ACCOUNT));
    json_t *req = json_pack("{s:{s:o}}", "replicationConfiguration", "rules", rules);
    assert_int_equal(ecrmock_call(m, "PutReplicationConfiguration", req, &r), 400);
    assert_string_equal(err_type(r), "InvalidParameterException");
    assert_non_null(strstr(err_message(r), "less than or equal to 10"));
    json_decref(r);
    json_decref(req);
    assert_int_equal(call(m, &r, "PutReplicationConfiguration",
                          "{\"replicationConfiguration\": {\"rules\": [{\"destinations\": [{\"region\": \"eu-west-1\", "
                          "\"registryId\": \"" ACCOUNT "\"}], \"repositoryFilters\": [{\"filter\": \"prod\", "
                          "\"filterType\": \"SUFFIX_MATCH\"}]}]}}"),
                     400);
    assert_string_equal(err_type(r), "InvalidParameterException");
    assert_non_null(strstr(err_message(r), "PREFIX_MATCH"));
    json_decref(r);
    /* The 25-destination configuration is still the one in force. */
    assert_ok(call(m, &r, "DescribeRegistry", "{}"), r);
    json_t *rs = json_object_get(json_object_get(r, "replicationConfiguration"), "rules");
    assert_int_equal(json_array_size(json_object_get(json_array_get(rs, 0), "destinations")), 25);
    json_decref(r);
}

/* ---- the copy ----------------------------------------------------------------------------- */

static void test_replication_cross_region(void **state)
{
    ecrmock *m = *state;
    configure(m, "{\"rules\": [{\"destinations\": [{\"region\": \"eu-west-1\", \"registryId\": \"" ACCOUNT "\"}]}]}");
    char *mf = NULL;
    char *digest = push(m, "team/web", "v1", 1, &mf);
    assert_copy(m, "eu-west-1", ACCOUNT, "team/web", "v1", digest, mf);
    /* The repository was created there, with the default settings and its region's names. */
    json_t *r = NULL;
    json_t *req = json_pack("{s:[s]}", "repositoryNames", "team/web");
    assert_ok(ecrmock_call_as(m, NULL, "eu-west-1", "DescribeRepositories", req, &r), r);
    json_decref(req);
    json_t *repo = json_array_get(json_object_get(r, "repositories"), 0);
    assert_string_equal(json_string_value(json_object_get(repo, "repositoryArn")),
                        "arn:aws:ecr:eu-west-1:" ACCOUNT ":repository/team/web");
    assert_string_equal(json_string_value(json_object_get(repo, "imageTagMutability")), "MUTABLE");
    json_decref(r);
    /* The home region still has one repository, one image. */
    assert_ok(call(m, &r, "DescribeRepositories", "{}"), r);
    assert_int_equal(json_array_size(json_object_get(r, "repositories")), 1);
    json_decref(r);
    json_t *st = statuses(m, "team/web", digest);
    assert_int_equal(json_array_size(st), 1);
    assert_status(st, 0, "eu-west-1", ACCOUNT, "COMPLETE", NULL);
    json_decref(st);
    /* A second tag on the same image follows it. */
    json_t *put = json_pack("{s:s, s:s, s:s}", "repositoryName", "team/web", "imageManifest", mf, "imageTag", "stable");
    assert_ok(ecrmock_call(m, "PutImage", put, &r), r);
    json_decref(put);
    json_decref(r);
    assert_copy(m, "eu-west-1", ACCOUNT, "team/web", "stable", digest, mf);
    free(mf);
    free(digest);
}

/* A repository replication creates gets the destination's REPLICATION
 * creation template; one that already exists keeps its settings. */
static void test_replication_applies_destination_template(void **state)
{
    ecrmock *m = *state;
    json_t *r = NULL;
    json_t *req = json_pack("{s:s, s:[s], s:s, s:[{s:s, s:s}]}", "prefix", "team", "appliedFor", "REPLICATION",
                            "imageTagMutability", "IMMUTABLE", "resourceTags", "Key", "made-by", "Value", "template");
    assert_ok(ecrmock_call_as(m, NULL, "eu-west-1", "CreateRepositoryCreationTemplate", req, &r), r);
    json_decref(req);
    json_decref(r);
    req = json_pack("{s:s}", "repositoryName", "team/api");
    assert_ok(ecrmock_call_as(m, NULL, "eu-west-1", "CreateRepository", req, &r), r);
    json_decref(req);
    json_decref(r);
    configure(m, "{\"rules\": [{\"destinations\": [{\"region\": \"eu-west-1\", \"registryId\": \"" ACCOUNT "\"}]}]}");
    char *web = push(m, "team/web", "v1", 1, NULL);
    char *api = push(m, "team/api", "v1", 2, NULL);

    req = json_pack("{s:[s, s]}", "repositoryNames", "team/web", "team/api");
    assert_ok(ecrmock_call_as(m, NULL, "eu-west-1", "DescribeRepositories", req, &r), r);
    json_decref(req);
    json_t *repos = json_object_get(r, "repositories");
    assert_string_equal(jstr(json_array_get(repos, 0), "repositoryName"), "team/web");
    assert_string_equal(jstr(json_array_get(repos, 0), "imageTagMutability"), "IMMUTABLE");
    assert_string_equal(jstr(json_array_get(repos, 1), "repositoryName"), "team/api");
    assert_string_equal(jstr(json_array_get(repos, 1), "imageTagMutability"), "MUTABLE");
    json_decref(r);
    req = json_pack("{s:s}", "resourceArn", "arn:aws:ecr:eu-west-1:" ACCOUNT ":repository/team/web");
    assert_ok(ecrmock_call_as(m, NULL, "eu-west-1", "ListTagsForResource", req, &r), r);
    json_decref(req);
    json_t *tags = json_object_get(r, "tags");
    assert_int_equal(json_array_size(tags), 1);
    assert_string_equal(jstr(json_array_get(tags, 0), "Key"), "made-by");
    assert_string_equal(jstr(json_array_get(tags, 0), "Value"), "template");
    json_decref(r);
    free(web);
    free(api);
}

static void test_replication_cross_account(void **state)
{
    ecrmock *m = *state;
    set_registry_policy(m, OTHER, NULL, ALLOW_ALL_FROM_SOURCE);
    configure(m, "{\"rules\": [{\"destinations\": [{\"region\": \"us-east-1\", \"registryId\": \"" OTHER "\"}]}]}");
    char *mf = NULL;
    char *digest = push(m, "app", "v1", 2, &mf);
    /* Same region: the other account's registry of this instance, read with a plain call. */
    assert_copy(m, NULL, OTHER, "app", "v1", digest, mf);
    assert_true(repo_exists(m, NULL, OTHER, "app"));
    json_t *st = statuses(m, "app", digest);
    assert_int_equal(json_array_size(st), 1);
    assert_status(st, 0, "us-east-1", OTHER, "COMPLETE", NULL);
    json_decref(st);
    /* The copy is the other registry's: its own DescribeImages sees it. */
    json_t *r = NULL;
    assert_ok(call(m, &r, "DescribeImages", "{\"registryId\": \"" OTHER "\", \"repositoryName\": \"app\"}"), r);
    json_t *d = json_array_get(json_object_get(r, "imageDetails"), 0);
    assert_string_equal(json_string_value(json_object_get(d, "imageDigest")), digest);
    assert_string_equal(json_string_value(json_object_get(d, "registryId")), OTHER);
    json_decref(r);
    free(mf);
    free(digest);
}

/* Cross-account and cross-region at once, and several destinations in order. */
static void test_replication_many_destinations(void **state)
{
    ecrmock *m = *state;
    set_registry_policy(m, OTHER, "ap-south-1", ALLOW_ALL_FROM_SOURCE);
    configure(m, "{\"rules\": [{\"destinations\": [{\"region\": \"ap-south-1\", \"registryId\": \"" OTHER "\"}, "
                 "{\"region\": \"eu-west-1\", \"registryId\": \"" ACCOUNT "\"}]}, "
                 "{\"destinations\": [{\"region\": \"eu-west-1\", \"registryId\": \"" ACCOUNT "\"}, "
                 "{\"region\": \"us-west-2\", \"registryId\": \"" ACCOUNT "\"}]}]}");
    char *mf = NULL;
    char *digest = push(m, "app", "v1", 3, &mf);
    assert_copy(m, "ap-south-1", OTHER, "app", "v1", digest, mf);
    assert_copy(m, "eu-west-1", ACCOUNT, "app", "v1", digest, mf);
    assert_copy(m, "us-west-2", ACCOUNT, "app", "v1", digest, mf);
    /* Not in the other account's registry of the home region. */
    assert_false(repo_exists(m, NULL, OTHER, "app"));
    /* One status per destination, a destination named twice once. */
    json_t *st = statuses(m, "app", digest);
    assert_int_equal(json_array_size(st), 3);
    assert_status(st, 0, "ap-south-1", OTHER, "COMPLETE", NULL);
    assert_status(st, 1, "eu-west-1", ACCOUNT, "COMPLETE", NULL);
    assert_status(st, 2, "us-west-2", ACCOUNT, "COMPLETE", NULL);
    json_decref(st);
    free(mf);
    free(digest);
}

static void test_replication_repository_filters(void **state)
{
    ecrmock *m = *state;
    configure(m, "{\"rules\": [{\"destinations\": [{\"region\": \"eu-west-1\", \"registryId\": \"" ACCOUNT "\"}], "
                 "\"repositoryFilters\": [{\"filter\": \"prod\", \"filterType\": \"PREFIX_MATCH\"}, "
                 "{\"filter\": \"team/api\", \"filterType\": \"PREFIX_MATCH\"}]}]}");
    char *mf = NULL;
    char *a = push(m, "prod-web", "v1", 4, &mf);
    assert_copy(m, "eu-west-1", ACCOUNT, "prod-web", "v1", a, mf);
    free(mf);
    char *b = push(m, "team/api-gw", "v1", 5, &mf);
    assert_copy(m, "eu-west-1", ACCOUNT, "team/api-gw", "v1", b, mf);
    free(mf);
    /* "dev/prod" has the prefix in the middle only; "team/ap" is shorter than the filter. */
    char *c = push(m, "dev/prod", "v1", 6, NULL);
    char *d = push(m, "team/ap", "v1", 7, NULL);
    assert_false(repo_exists(m, "eu-west-1", ACCOUNT, "dev/prod"));
    assert_false(repo_exists(m, "eu-west-1", ACCOUNT, "team/ap"));
    json_t *st = statuses(m, "dev/prod", c);
    assert_int_equal(json_array_size(st), 0);
    json_decref(st);
    st = statuses(m, "prod-web", a);
    assert_int_equal(json_array_size(st), 1);
    json_decref(st);
    free(a);
    free(b);
    free(c);
    free(d);
}

/* Only what is pushed after the configuration is replicated. */
static void test_replication_only_after_configuration(void **state)
{
    ecrmock *m = *state;
    char *before = push(m, "app", "v1", 8, NULL);
    configure(m, "{\"rules\": [{\"destinations\": [{\"region\": \"eu-west-1\", \"registryId\": \"" ACCOUNT "\"}]}]}");
    assert_false(repo_exists(m, "eu-west-1", ACCOUNT, "app"));
    json_t *st = statuses(m, "app", before);
    assert_int_equal(json_array_size(st), 0);
    json_decref(st);
    char *mf = NULL;
    char *after = push(m, "app", "v2", 9, &mf);
    assert_copy(m, "eu-west-1", ACCOUNT, "app", "v2", after, mf);
    /* v1 did not come along. */
    json_t *r = get_image(m, "eu-west-1", ACCOUNT, "app", "v1");
    assert_int_equal(json_array_size(json_object_get(r, "images")), 0);
    json_decref(r);
    /* Turning it off stops it. */
    configure(m, "{\"rules\": []}");
    char *off = push(m, "app", "v3", 10, NULL);
    r = get_image(m, "eu-west-1", ACCOUNT, "app", "v3");
    assert_int_equal(json_array_size(json_object_get(r, "images")), 0);
    json_decref(r);
    free(before);
    free(after);
    free(off);
    free(mf);
}

/* Another account must allow it: ecr:ReplicateImage, and ecr:CreateRepository for a new repository. */
static void test_replication_cross_account_permission(void **state)
{
    ecrmock *m = *state;
    configure(m, "{\"rules\": [{\"destinations\": [{\"region\": \"us-east-1\", \"registryId\": \"" OTHER "\"}, "
                 "{\"region\": \"us-east-1\", \"registryId\": \"" THIRD "\"}]}]}");
    /* THIRD allows everything to everyone, but denies this account replication. */
    set_registry_policy(m, THIRD, NULL,
                        "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"ecr:*\"},"
                        "{\"Effect\":\"Deny\",\"Principal\":{\"AWS\":[\"" ACCOUNT "\"]},\"Action\":\"ecr:Replicate*\"}]}");
    char *d1 = push(m, "app", "v1", 11, NULL);
    json_t *st = statuses(m, "app", d1);
    assert_int_equal(json_array_size(st), 2);
    assert_status(st, 0, "us-east-1", OTHER, "FAILED", "AccessDeniedException");
    assert_status(st, 1, "us-east-1", THIRD, "FAILED", "AccessDeniedException");
    json_decref(st);
    assert_false(repo_exists(m, NULL, OTHER, "app"));
    assert_false(repo_exists(m, NULL, THIRD, "app"));

    /* ReplicateImage alone is not enough while the repository must be created... */
    set_registry_policy(m, OTHER, NULL,
                        "{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::" ACCOUNT
                        ":root\"},\"Action\":\"ecr:replicateimage\"}}");
    char *d2 = push(m, "app", "v2", 12, NULL);
    st = statuses(m, "app", d2);
    assert_status(st, 0, "us-east-1", OTHER, "FAILED", "AccessDeniedException");
    json_decref(st);
    /* ... and is once the repository is there (ECR's actions are case-insensitive). */
    json_t *r = NULL;
    call_ok(m, "CreateRepository", "{\"registryId\": \"" OTHER "\", \"repositoryName\": \"app\"}");
    char *mf = NULL;
    char *d3 = push(m, "app", "v3", 13, &mf);
    st = statuses(m, "app", d3);
    assert_status(st, 0, "us-east-1", OTHER, "COMPLETE", NULL);
    assert_status(st, 1, "us-east-1", THIRD, "FAILED", "AccessDeniedException");
    json_decref(st);
    assert_copy(m, NULL, OTHER, "app", "v3", d3, mf);
    /* Earlier images were not copied afterwards. */
    r = get_image(m, NULL, OTHER, "app", "v1");
    assert_int_equal(json_array_size(json_object_get(r, "images")), 0);
    json_decref(r);
    free(mf);
    free(d1);
    free(d2);
    free(d3);
}

/* The destination's own rules apply: an immutable tag there does not move. */
static void test_replication_immutable_destination(void **state)
{
    ecrmock *m = *state;
    json_t *req = json_pack("{s:s, s:s}", "repositoryName", "app", "imageTagMutability", "IMMUTABLE"), *r = NULL;
    assert_ok(ecrmock_call_as(m, NULL, "eu-west-1", "CreateRepository", req, &r), r);
    json_decref(req);
    json_decref(r);
    configure(m, "{\"rules\": [{\"destinations\": [{\"region\": \"eu-west-1\", \"registryId\": \"" ACCOUNT "\"}]}]}");
    char *mf1 = NULL, *mf2 = NULL;
    char *first = push(m, "app", "latest", 14, &mf1);
    char *second = push(m, "app", "latest", 15, &mf2); /* the source is mutable: the tag moves here */
    json_t *st = statuses(m, "app", second);
    assert_status(st, 0, "eu-west-1", ACCOUNT, "FAILED", "ImageTagAlreadyExistsException");
    json_decref(st);
    st = statuses(m, "app", first);
    assert_status(st, 0, "eu-west-1", ACCOUNT, "COMPLETE", NULL);
    json_decref(st);
    /* There, latest is still the first image. */
    assert_copy(m, "eu-west-1", ACCOUNT, "app", "latest", first, mf1);
    free(mf1);
    free(mf2);
    free(first);
    free(second);
}

/* A manifest list brings the manifests it references along. */
static void test_replication_manifest_list(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "multi");
    char *mfa = make_manifest(m, "multi", 1, 16), *mfb = make_manifest(m, "multi", 1, 17);
    char *da = put_image(m, "multi", mfa, NULL), *db = put_image(m, "multi", mfb, NULL);
    configure(m, "{\"rules\": [{\"destinations\": [{\"region\": \"eu-west-1\", \"registryId\": \"" ACCOUNT "\"}]}]}");
    json_t *list = json_pack("{s:i, s:s, s:[{s:s, s:i, s:s, s:{s:s, s:s}}, {s:s, s:i, s:s, s:{s:s, s:s}}]}",
                             "schemaVersion", 2, "mediaType",
                             "application/vnd.docker.distribution.manifest.list.v2+json", "manifests", "mediaType",
                             "application/vnd.docker.distribution.manifest.v2+json", "size", (int)strlen(mfa),
                             "digest", da, "platform", "architecture", "amd64", "os", "linux", "mediaType",
                             "application/vnd.docker.distribution.manifest.v2+json", "size", (int)strlen(mfb),
                             "digest", db, "platform", "architecture", "arm64", "os", "linux");
    char *text = json_dumps(list, JSON_COMPACT);
    json_decref(list);
    char *dl = put_image(m, "multi", text, "v1");
    json_t *r = get_image(m, "eu-west-1", ACCOUNT, "multi", "v1");
    json_t *img = json_array_get(json_object_get(r, "images"), 0);
    assert_non_null(img);
    assert_string_equal(json_string_value(json_object_get(json_object_get(img, "imageId"), "imageDigest")), dl);
    json_decref(r);
    /* Both platform images are there, by digest, with their layers. */
    json_t *req = json_pack("{s:s, s:[{s:s}, {s:s}]}", "repositoryName", "multi", "imageIds", "imageDigest", da,
                            "imageDigest", db);
    assert_ok(ecrmock_call_as(m, NULL, "eu-west-1", "BatchGetImage", req, &r), r);
    json_decref(req);
    assert_int_equal(json_array_size(json_object_get(r, "images")), 2);
    assert_int_equal(json_array_size(json_object_get(r, "failures")), 0);
    json_decref(r);
    free(text);
    free(mfa);
    free(mfb);
    free(da);
    free(db);
    free(dl);
}

/* A copy is not replicated again by the destination's own rules. */
static void test_replication_does_not_chain(void **state)
{
    ecrmock *m = *state;
    json_t *req = json_loads("{\"replicationConfiguration\": {\"rules\": [{\"destinations\": [{\"region\": "
                             "\"us-west-2\", \"registryId\": \"" ACCOUNT "\"}]}]}}",
                             0, NULL),
           *r = NULL;
    assert_ok(ecrmock_call_as(m, NULL, "eu-west-1", "PutReplicationConfiguration", req, &r), r);
    json_decref(req);
    json_decref(r);
    configure(m, "{\"rules\": [{\"destinations\": [{\"region\": \"eu-west-1\", \"registryId\": \"" ACCOUNT "\"}]}]}");
    char *mf = NULL;
    char *digest = push(m, "app", "v1", 18, &mf);
    assert_copy(m, "eu-west-1", ACCOUNT, "app", "v1", digest, mf);
    assert_false(repo_exists(m, "us-west-2", ACCOUNT, "app"));
    free(mf);
    free(digest);
}

/* ---- DescribeImageReplicationStatus ------------------------------------------------------ */

static void test_describe_image_replication_status_output(void **state)
{
    ecrmock *m = *state;
    configure(m, "{\"rules\": [{\"destinations\": [{\"region\": \"eu-west-1\", \"registryId\": \"" ACCOUNT "\"}]}]}");
    char *digest = push(m, "app", "v1", 19, NULL);
    json_t *r = NULL;
    assert_ok(call(m, &r, "DescribeImageReplicationStatus",
                   "{\"repositoryName\": \"app\", \"imageId\": {\"imageTag\": \"v1\"}}"),
              r);
    json_t *want = json_pack("{s:s, s:{s:s, s:s}, s:[{s:s, s:s, s:s}]}", "repositoryName", "app", "imageId",
                             "imageDigest", digest, "imageTag", "v1", "replicationStatuses", "region", "eu-west-1",
                             "registryId", ACCOUNT, "status", "COMPLETE");
    assert_true(json_equal(r, want));
    json_decref(want);
    json_decref(r);
    /* By digest and tag together, and with the registry named. */
    assert_ok(call(m, &r, "DescribeImageReplicationStatus",
                   "{\"registryId\": \"" ACCOUNT "\", \"repositoryName\": \"app\", \"imageId\": {\"imageTag\": "
                   "\"v1\", \"imageDigest\": \"%s\"}}",
                   digest),
              r);
    assert_int_equal(json_array_size(json_object_get(r, "replicationStatuses")), 1);
    json_decref(r);
    free(digest);
}

static void test_describe_image_replication_status_errors(void **state)
{
    ecrmock *m = *state;
    json_t *r = NULL;
    assert_repo_not_found(call(m, &r, "DescribeImageReplicationStatus",
                               "{\"repositoryName\": \"nope\", \"imageId\": {\"imageTag\": \"v1\"}}"),
                          &r, "nope", "123456789012");
    assert_repo_not_found(call(m, &r, "DescribeImageReplicationStatus",
                               "{\"registryId\": \"" OTHER "\", \"repositoryName\": \"nope\", \"imageId\": {}}"),
                          &r, "nope", OTHER);
    char *digest = push(m, "app", "v1", 20, NULL);
    assert_image_not_found(call(m, &r, "DescribeImageReplicationStatus",
                                "{\"repositoryName\": \"app\", \"imageId\": {\"imageTag\": \"v2\"}}"),
                           &r, NULL, "v2", "app", "123456789012");
    const char *missing = "sha256:0000000000000000000000000000000000000000000000000000000000000000";
    assert_image_not_found(call(m, &r, "DescribeImageReplicationStatus",
                                "{\"repositoryName\": \"app\", \"imageId\": {\"imageDigest\": \"%s\"}}", missing),
                           &r, "sha256:0000000000000000000000000000000000000000000000000000000000000000", NULL, "app",
                           "123456789012");
    /* A tag that names another image than the digest. */
    char *other = push(m, "app", "v2", 21, NULL);
    assert_int_equal(call(m, &r, "DescribeImageReplicationStatus",
                          "{\"repositoryName\": \"app\", \"imageId\": {\"imageDigest\": \"%s\", \"imageTag\": \"v2\"}}",
                          digest),
                     400);
    assert_string_equal(err_type(r), "ImageNotFoundException");
    json_decref(r);
    assert_image_not_found(call(m, &r, "DescribeImageReplicationStatus", "{\"repositoryName\": \"app\", \"imageId\": {}}"),
                           &r, NULL, NULL, "app", "123456789012");
    /* In the right region only. */
    json_t *req = json_pack("{s:s, s:{s:s}}", "repositoryName", "app", "imageId", "imageTag", "v1");
    assert_int_equal(ecrmock_call_as(m, NULL, "eu-west-1", "DescribeImageReplicationStatus", req, &r), 400);
    json_decref(req);
    assert_string_equal(err_type(r), "RepositoryNotFoundException");
    json_decref(r);
    free(digest);
    free(other);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup_mock, teardown_mock)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_put_replication_configuration_round_trip),
        T(test_put_replication_configuration_self_destination),
        T(test_put_replication_configuration_limits),
        T(test_replication_cross_region),
        T(test_replication_applies_destination_template),
        T(test_replication_cross_account),
        T(test_replication_many_destinations),
        T(test_replication_repository_filters),
        T(test_replication_only_after_configuration),
        T(test_replication_cross_account_permission),
        T(test_replication_immutable_destination),
        T(test_replication_manifest_list),
        T(test_replication_does_not_chain),
        T(test_describe_image_replication_status_output),
        T(test_describe_image_replication_status_errors),
    };
    return cmocka_run_group_tests_name("replication", tests, NULL, NULL);
}
