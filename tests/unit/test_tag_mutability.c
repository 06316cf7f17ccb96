/*
 * PutImageTagMutability: its output, the exclusion-filter rules it shares
 * with CreateRepository, and PutImage obeying the new setting at once (a tag
 * move refused once IMMUTABLE, allowed again once MUTABLE, and the two
 * exclusion variants with wildcard filters).  A failed call changes nothing.
 */
#include "helpers.h"

#include "ecrmock_cmocka.h"

#include "alloc_fail.h"

#define ACCOUNT "123456789012"
#define OTHER_REGISTRY "210987654321"
#define FILTERS_PARAM "Invalid parameter at 'imageTagMutabilityExclusionFilters' failed to satisfy constraint: "

/* ---- helpers --------------------------------------------------------------------- */

/* PutImageTagMutability on `repo` (filters: JSON text, or NULL); returns the
 * status, the response in *r. */
static int set_mutability(ecrmock *m, json_t **r, const char *repo, const char *mutability, const char *filters)
{
    if (filters)
        return call(m, r, "PutImageTagMutability",
                    "{\"repositoryName\": \"%s\", \"imageTagMutability\": \"%s\", "
                    "\"imageTagMutabilityExclusionFilters\": %s}",
                    repo, mutability, filters);
    return call(m, r, "PutImageTagMutability", "{\"repositoryName\": \"%s\", \"imageTagMutability\": \"%s\"}", repo,
                mutability);
}

static void set_mutability_ok(ecrmock *m, const char *repo, const char *mutability, const char *filters)
{
    json_t *r = NULL;
    assert_ok(set_mutability(m, &r, repo, mutability, filters), r);
    json_decref(r);
}

static void assert_setting(ecrmock *m, const char *repo, const char *mutability, const char *filters)
{
    json_t *d = describe_repo(m, repo);
    assert_string_equal(json_string_value(json_object_get(d, "imageTagMutability")), mutability);
    json_t *got = json_object_get(d, "imageTagMutabilityExclusionFilters");
    if (!filters) {
        assert_null(got);
    } else {
        json_t *want = json_loads(filters, 0, NULL);
        assert_non_null(want);
        assert_true(json_equal(got, want));
        json_decref(want);
    }
    json_decref(d);
}

/* ---- the output and the stored setting --------------------------------------------------- */

static void test_put_image_tag_mutability_output(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "team/web");
    json_t *r = NULL;
    assert_ok(set_mutability(m, &r, "team/web", "IMMUTABLE", NULL), r);
    json_t *want = json_pack("{s:s, s:s, s:s}", "registryId", ACCOUNT, "repositoryName", "team/web",
                             "imageTagMutability", "IMMUTABLE");
    assert_true(json_equal(r, want));
    json_decref(want);
    json_decref(r);
    assert_setting(m, "team/web", "IMMUTABLE", NULL);

    /* With filters: echoed in the output and stored. */
    const char *filters = "[{\"filterType\": \"WILDCARD\", \"filter\": \"latest\"}, "
                          "{\"filterType\": \"WILDCARD\", \"filter\": \"dev-*\"}]";
    assert_ok(set_mutability(m, &r, "team/web", "IMMUTABLE_WITH_EXCLUSION", filters), r);
    want = json_pack("{s:s, s:s, s:s, s:o}", "registryId", ACCOUNT, "repositoryName", "team/web",
                     "imageTagMutability", "IMMUTABLE_WITH_EXCLUSION", "imageTagMutabilityExclusionFilters",
                     json_loads(filters, 0, NULL));
    assert_true(json_equal(r, want));
    json_decref(want);
    json_decref(r);
    assert_setting(m, "team/web", "IMMUTABLE_WITH_EXCLUSION", filters);

    /* Back to a plain setting: the filters are gone. */
    assert_ok(set_mutability(m, &r, "team/web", "MUTABLE", NULL), r);
    assert_null(json_object_get(r, "imageTagMutabilityExclusionFilters"));
    assert_string_equal(json_string_value(json_object_get(r, "imageTagMutability")), "MUTABLE");
    json_decref(r);
    assert_setting(m, "team/web", "MUTABLE", NULL);

    /* Setting the current value again is fine. */
    set_mutability_ok(m, "team/web", "MUTABLE", NULL);
    assert_setting(m, "team/web", "MUTABLE", NULL);
}

static void test_put_image_tag_mutability_other_registry(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "web");
    json_t *r = NULL;
    call_ok(m, "CreateRepository", "{\"repositoryName\": \"web\", \"registryId\": \"%s\"}", OTHER_REGISTRY);
    assert_ok(call(m, &r, "PutImageTagMutability",
                   "{\"registryId\": \"%s\", \"repositoryName\": \"web\", \"imageTagMutability\": \"IMMUTABLE\"}",
                   OTHER_REGISTRY),
              r);
    assert_string_equal(json_string_value(json_object_get(r, "registryId")), OTHER_REGISTRY);
    json_decref(r);
    /* Only that registry's repository changed. */
    assert_setting(m, "web", "MUTABLE", NULL);
    assert_ok(call(m, &r, "DescribeRepositories", "{\"registryId\": \"%s\"}", OTHER_REGISTRY), r);
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(r, "repositories"), 0),
                                                          "imageTagMutability")),
                        "IMMUTABLE");
    json_decref(r);
}

/* ---- errors ------------------------------------------------------------------------------ */

static void test_put_image_tag_mutability_repository_not_found(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "web");
    json_t *r = NULL;
    assert_repo_not_found(set_mutability(m, &r, "missing", "IMMUTABLE", NULL), &r, "missing", ACCOUNT);
    assert_repo_not_found(call(m, &r, "PutImageTagMutability",
                               "{\"registryId\": \"%s\", \"repositoryName\": \"web\", "
                               "\"imageTagMutability\": \"IMMUTABLE\"}",
                               OTHER_REGISTRY),
                          &r, "web", OTHER_REGISTRY);
    assert_setting(m, "web", "MUTABLE", NULL);
}

static void test_put_image_tag_mutability_filter_rules(void **state)
{
    ecrmock *m = *state;
    const char *filters = "[{\"filterType\": \"WILDCARD\", \"filter\": \"rel-*\"}]";
    json_t *r = NULL;
    call_ok(m, "CreateRepository",
            "{\"repositoryName\": \"web\", \"imageTagMutability\": \"MUTABLE_WITH_EXCLUSION\", "
            "\"imageTagMutabilityExclusionFilters\": %s}",
            filters);

    /* The *_WITH_EXCLUSION settings need filters ... */
    assert_fail_msg(set_mutability(m, &r, "web", "IMMUTABLE_WITH_EXCLUSION", NULL), &r, "InvalidParameterException",
                    FILTERS_PARAM "'must be provided when imageTagMutability is IMMUTABLE_WITH_EXCLUSION'");
    assert_fail_msg(set_mutability(m, &r, "web", "MUTABLE_WITH_EXCLUSION", NULL), &r, "InvalidParameterException",
                    FILTERS_PARAM "'must be provided when imageTagMutability is MUTABLE_WITH_EXCLUSION'");
    /* ... and the others refuse them. */
    static const char *const plain[] = {"MUTABLE", "IMMUTABLE"};
    for (size_t i = 0; i < 2; i++)
        assert_fail_msg(set_mutability(m, &r, "web", plain[i], filters), &r, "InvalidParameterException",
                        FILTERS_PARAM "'can only be provided when imageTagMutability is IMMUTABLE_WITH_EXCLUSION or "
                                      "MUTABLE_WITH_EXCLUSION'");
    /* The model's rules on the list and its filters. */
    assert_fail_msg(set_mutability(m, &r, "web", "MUTABLE_WITH_EXCLUSION", "[]"), &r, "InvalidParameterException",
                    FILTERS_PARAM "'Member must have length greater than or equal to 1'");
    assert_fail_msg(set_mutability(m, &r, "web", "MUTABLE_WITH_EXCLUSION",
                                   "[{\"filterType\": \"REGEX\", \"filter\": \"a\"}]"),
                    &r, "InvalidParameterException",
                    "Invalid parameter at 'imageTagMutabilityExclusionFilters.1.member.filterType' failed to satisfy "
                    "constraint: 'Member must satisfy enum value set: [WILDCARD]'");
    assert_fail_msg(set_mutability(m, &r, "web", "SOMETIMES", NULL), &r, "InvalidParameterException",
                    "Invalid parameter at 'imageTagMutability' failed to satisfy constraint: 'Member must satisfy "
                    "enum value set: [MUTABLE, IMMUTABLE, IMMUTABLE_WITH_EXCLUSION, MUTABLE_WITH_EXCLUSION]'");
    assert_fail_msg(call(m, &r, "PutImageTagMutability", "{\"repositoryName\": \"web\"}"), &r,
                    "InvalidParameterException",
                    "Invalid parameter at 'imageTagMutability' failed to satisfy constraint: 'Member must not be null'");
    /* The rules come before the repository lookup. */
    assert_fail_msg(set_mutability(m, &r, "missing", "IMMUTABLE", filters), &r, "InvalidParameterException",
                    FILTERS_PARAM "'can only be provided when imageTagMutability is IMMUTABLE_WITH_EXCLUSION or "
                                  "MUTABLE_WITH_EXCLUSION'");

    /* None of it changed the setting, and PutImage still obeys it. */
    assert_setting(m, "web", "MUTABLE_WITH_EXCLUSION", filters);
    char *m1 = make_manifest(m, "web", 1, 1), *m2 = make_manifest(m, "web", 1, 2);
    free(put_image(m, "web", m1, "rel-1"));
    free(put_image(m, "web", m1, "latest"));
    assert_tag_refused(m, "web", m2, "rel-1");
    free(put_image(m, "web", m2, "latest"));
    free(m1), free(m2);
}

/* ---- PutImage obeys the new setting -------------------------------------------------------- */

static void test_put_image_tag_mutability_immutable_then_mutable(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "web");
    char *m1 = make_manifest(m, "web", 1, 1), *m2 = make_manifest(m, "web", 1, 2), *m3 = make_manifest(m, "web", 1, 3);
    char *d1 = put_image(m, "web", m1, "v1");
    /* MUTABLE (the default): the tag moves. */
    char *d2 = put_image(m, "web", m2, "v1");
    assert_ecrmock_tag(m, "web", "v1", d2);

    set_mutability_ok(m, "web", "IMMUTABLE", NULL);
    assert_tag_refused(m, "web", m3, "v1");
    assert_tag_refused(m, "web", m1, "v1");
    assert_ecrmock_tag(m, "web", "v1", d2);
    assert_ecrmock_image_absent(m, "web", "v2");
    /* New tags are still fine, on a new or an existing image. */
    char *d3 = put_image(m, "web", m3, "v2");
    free(put_image(m, "web", m1, "old"));
    assert_ecrmock_tag(m, "web", "old", d1);

    set_mutability_ok(m, "web", "MUTABLE", NULL);
    free(put_image(m, "web", m3, "v1"));
    assert_ecrmock_tag(m, "web", "v1", d3);
    free(put_image(m, "web", m1, "v2"));
    assert_ecrmock_tag(m, "web", "v2", d1);
    free(m1), free(m2), free(m3), free(d1), free(d2), free(d3);
}

static void test_put_image_tag_mutability_immutable_with_exclusion(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "web");
    char *m1 = make_manifest(m, "web", 1, 1), *m2 = make_manifest(m, "web", 1, 2);
    char *d1 = put_image(m, "web", m1, "latest");
    static const char *const tags[] = {"dev-1", "dev-", "v1", "latest-1", "nightly-2024-01-01", "x-nightly-1"};
    for (size_t i = 0; i < sizeof tags / sizeof tags[0]; i++)
        free(put_image(m, "web", m1, tags[i]));

    /* Immutable except: latest exactly, anything starting dev-, and a wildcard in the middle. */
    set_mutability_ok(m, "web", "IMMUTABLE_WITH_EXCLUSION",
                      "[{\"filterType\": \"WILDCARD\", \"filter\": \"latest\"}, "
                      "{\"filterType\": \"WILDCARD\", \"filter\": \"dev-*\"}, "
                      "{\"filterType\": \"WILDCARD\", \"filter\": \"nightly-*-01\"}]");
    char *d2 = put_image(m, "web", m2, "latest");
    free(put_image(m, "web", m2, "dev-1"));
    free(put_image(m, "web", m2, "dev-")); /* '*' matches nothing too */
    free(put_image(m, "web", m2, "nightly-2024-01-01"));
    assert_ecrmock_tag(m, "web", "latest", d2);
    assert_ecrmock_tag(m, "web", "dev-1", d2);
    assert_ecrmock_tag(m, "web", "dev-", d2);
    assert_ecrmock_tag(m, "web", "nightly-2024-01-01", d2);
    assert_tag_refused(m, "web", m2, "v1");
    assert_tag_refused(m, "web", m2, "latest-1");    /* "latest" matches only "latest" */
    assert_tag_refused(m, "web", m2, "x-nightly-1"); /* a filter matches the whole tag */
    assert_ecrmock_tag(m, "web", "v1", d1);
    assert_ecrmock_tag(m, "web", "latest-1", d1);
    free(m1), free(m2), free(d1), free(d2);
}

static void test_put_image_tag_mutability_mutable_with_exclusion(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "web");
    char *m1 = make_manifest(m, "web", 1, 1), *m2 = make_manifest(m, "web", 1, 2);
    char *d1 = put_image(m, "web", m1, "release-1");
    static const char *const tags[] = {"1.0-stable", "latest", "prerelease-1", "v2.0", "v2.1"};
    for (size_t i = 0; i < sizeof tags / sizeof tags[0]; i++)
        free(put_image(m, "web", m1, tags[i]));

    /* Mutable except: release-*, *-stable, and v*.0. */
    set_mutability_ok(m, "web", "MUTABLE_WITH_EXCLUSION",
                      "[{\"filterType\": \"WILDCARD\", \"filter\": \"release-*\"}, "
                      "{\"filterType\": \"WILDCARD\", \"filter\": \"*-stable\"}, "
                      "{\"filterType\": \"WILDCARD\", \"filter\": \"v*.0\"}]");
    assert_tag_refused(m, "web", m2, "release-1");
    assert_tag_refused(m, "web", m2, "1.0-stable");
    assert_tag_refused(m, "web", m2, "v2.0");
    char *d2 = put_image(m, "web", m2, "latest");
    free(put_image(m, "web", m2, "prerelease-1")); /* not a prefix match of release-* */
    free(put_image(m, "web", m2, "v2.1"));
    assert_ecrmock_tag(m, "web", "latest", d2);
    assert_ecrmock_tag(m, "web", "prerelease-1", d2);
    assert_ecrmock_tag(m, "web", "v2.1", d2);
    assert_ecrmock_tag(m, "web", "release-1", d1);
    assert_ecrmock_tag(m, "web", "1.0-stable", d1);
    assert_ecrmock_tag(m, "web", "v2.0", d1);

    /* Switching the exclusion around flips which tags move. */
    set_mutability_ok(m, "web", "IMMUTABLE_WITH_EXCLUSION",
                      "[{\"filterType\": \"WILDCARD\", \"filter\": \"release-*\"}]");
    free(put_image(m, "web", m2, "release-1"));
    assert_ecrmock_tag(m, "web", "release-1", d2);
    assert_tag_refused(m, "web", m1, "latest");
    free(m1), free(m2), free(d1), free(d2);
}

/* ---- out of memory ------------------------------------------------------------------- */

/* With each of its allocations failing in turn: a clean 500 and no change
 * (PutImage still sees the old setting), until it succeeds. */
static void test_put_image_tag_mutability_alloc_failure(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "web");
    const char *filters = "[{\"filterType\": \"WILDCARD\", \"filter\": \"rel-*\"}]";
    json_t *req = json_pack("{s:s, s:s, s:o}", "repositoryName", "web", "imageTagMutability",
                            "MUTABLE_WITH_EXCLUSION", "imageTagMutabilityExclusionFilters", json_loads(filters, 0, NULL));
    json_t *r = alloc_fail_call(m, "PutImageTagMutability", req);
    json_decref(req);
    assert_string_equal(json_string_value(json_object_get(r, "imageTagMutability")), "MUTABLE_WITH_EXCLUSION");
    json_decref(r);
    assert_setting(m, "web", "MUTABLE_WITH_EXCLUSION", filters);

    req = json_pack("{s:s, s:s}", "repositoryName", "web", "imageTagMutability", "IMMUTABLE");
    json_decref(alloc_fail_call(m, "PutImageTagMutability", req));
    json_decref(req);
    assert_setting(m, "web", "IMMUTABLE", NULL);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup_mock, teardown_mock)

int main(void)
{
    alloc_fail_install();
    const struct CMUnitTest tests[] = {
        T(test_put_image_tag_mutability_output),
        T(test_put_image_tag_mutability_other_registry),
        T(test_put_image_tag_mutability_repository_not_found),
        T(test_put_image_tag_mutability_filter_rules),
        T(test_put_image_tag_mutability_immutable_then_mutable),
        T(test_put_image_tag_mutability_immutable_with_exclusion),
        T(test_put_image_tag_mutability_mutable_with_exclusion),
        T(test_put_image_tag_mutability_alloc_failure),
    };
    return cmocka_run_group_tests_name("tag_mutability", tests, NULL, NULL);
}
