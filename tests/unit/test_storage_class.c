/*
 * UpdateImageStorageClass: archiving and restoring (through ACTIVATING, on
 * the virtual clock), the imageStatus that ListImages and DescribeImages
 * report and filter on, pulls of archived images refused, manifest lists
 * moving with their images, re-pushing an archived image, the refusals, and
 * failed calls changing nothing.
 */
#include "helpers.h"

#define ACCOUNT "123456789012"
#define MT_DOCKER_V2 "application/vnd.docker.distribution.manifest.v2+json"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define RESTORE_MS (20 * 60 * 1000)

static int update(ecrmock *m, json_t **r, const char *repo, const char *digest, const char *tag, const char *target)
{
    json_t *req = json_pack("{s:s, s:{s:s*, s:s*}, s:s}", "repositoryName", repo, "imageId", "imageDigest", digest,
                            "imageTag", tag, "targetStorageClass", target);
    int st = ecrmock_call(m, "UpdateImageStorageClass", req, r);
    json_decref(req);
    return st;
}

/* Asserts a successful update answered `status`. */
static void update_ok(ecrmock *m, const char *repo, const char *digest, const char *target, const char *status)
{
    json_t *r = NULL;
    assert_ok(update(m, &r, repo, digest, NULL, target), r);
    assert_string_equal(STR(r, "imageStatus"), status);
    json_decref(r);
}

static void assert_status(ecrmock *m, const char *repo, const char *digest, const char *status)
{
    json_t *d = describe_image(m, repo, digest);
    assert_string_equal(STR(d, "imageStatus"), status);
    json_decref(d);
}

static double seconds(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    assert_true(json_is_number(v));
    return json_number_value(v);
}

/* Asserts that `action` (ListImages or DescribeImages) of "app" with `filter`
 * (a JSON text or NULL) lists exactly the digests `want`, comma-joined. */
static void assert_digests(ecrmock *m, const char *action, const char *filter, const char *want)
{
    char request[512];
    if (filter)
        snprintf(request, sizeof request, "{\"repositoryName\": \"app\", \"filter\": %s}", filter);
    else
        snprintf(request, sizeof request, "{\"repositoryName\": \"app\"}");
    assert_listed(m, action, request, strcmp(action, "ListImages") == 0 ? "imageIds" : "imageDetails", "imageDigest",
                  want);
}

/* A new repository "app" with one fresh image (tagged `tag`, NULL: none),
 * archived; returns its digest (malloc'd). */
static char *archived_image(ecrmock *m, const char *tag)
{
    char *a = new_repo_with_image(m, "app", 1, tag);
    update_ok(m, "app", a, "ARCHIVE", "ARCHIVED");
    return a;
}

static void test_update_image_storage_class_archive(void **state)
{
    ecrmock *m = *state;
    char *a = new_repo_with_image(m, "app", 1, "v1");
    char *b = push_new_image(m, "app", 1, 2, "v2");
    ecrmock_clock_advance(m, 5000, NULL);
    int64_t at = ecrmock_clock_now(m);

    json_t *r = NULL;
    assert_ok(update(m, &r, "app", NULL, "v1", "ARCHIVE"), r);
    assert_int_equal(json_object_size(r), 4);
    assert_string_equal(STR(r, "registryId"), ACCOUNT);
    assert_string_equal(STR(r, "repositoryName"), "app");
    assert_string_equal(STR(json_object_get(r, "imageId"), "imageDigest"), a);
    assert_string_equal(STR(json_object_get(r, "imageId"), "imageTag"), "v1");
    assert_string_equal(STR(r, "imageStatus"), "ARCHIVED");
    json_decref(r);

    json_t *d = describe_image(m, "app", a);
    assert_string_equal(STR(d, "imageStatus"), "ARCHIVED");
    assert_true(seconds(d, "lastArchivedAt") == (double)at / 1000.0);
    assert_null(json_object_get(d, "lastActivatedAt"));
    json_decref(d);
    d = describe_image(m, "app", b);
    assert_string_equal(STR(d, "imageStatus"), "ACTIVE");
    assert_null(json_object_get(d, "lastArchivedAt"));
    json_decref(d);

    /* Listings: ACTIVE by default, the filter picks the others. */
    char want[1024];
    assert_digests(m, "ListImages", NULL, b);
    assert_digests(m, "DescribeImages", NULL, b);
    assert_digests(m, "ListImages", "{\"imageStatus\": \"ARCHIVED\"}", a);
    assert_digests(m, "DescribeImages", "{\"imageStatus\": \"ARCHIVED\", \"tagStatus\": \"TAGGED\"}", a);
    assert_digests(m, "DescribeImages", "{\"imageStatus\": \"ACTIVATING\"}", "");
    snprintf(want, sizeof want, "%s,%s", a, b);
    assert_digests(m, "ListImages", "{\"imageStatus\": \"ANY\"}", want);
    free(a);
    free(b);
}

static void test_update_image_storage_class_restore_goes_through_activating(void **state)
{
    ecrmock *m = *state;
    char *a = archived_image(m, "v1");
    ecrmock_clock_advance(m, 3600 * 1000, NULL);
    int64_t asked = ecrmock_clock_now(m);
    update_ok(m, "app", a, "STANDARD", "ACTIVATING");

    assert_digests(m, "DescribeImages", "{\"imageStatus\": \"ACTIVATING\"}", a);
    assert_digests(m, "ListImages", NULL, "");
    /* Asking again while it restores changes nothing. */
    update_ok(m, "app", a, "STANDARD", "ACTIVATING");

    ecrmock_clock_advance(m, RESTORE_MS - 1, NULL);
    json_t *d = describe_image(m, "app", a);
    assert_string_equal(STR(d, "imageStatus"), "ACTIVATING");
    assert_null(json_object_get(d, "lastActivatedAt"));
    json_decref(d);

    ecrmock_clock_advance(m, 1, NULL);
    d = describe_image(m, "app", a);
    assert_string_equal(STR(d, "imageStatus"), "ACTIVE");
    assert_true(seconds(d, "lastActivatedAt") == (double)(asked + RESTORE_MS) / 1000.0);
    assert_true(seconds(d, "lastArchivedAt") == (double)(asked - 3600 * 1000) / 1000.0);
    json_decref(d);
    assert_digests(m, "ListImages", NULL, a);
    /* STANDARD on an ACTIVE image: nothing to do. */
    update_ok(m, "app", a, "STANDARD", "ACTIVE");
    free(a);
}

static void test_update_image_storage_class_archived_image_cannot_be_pulled(void **state)
{
    ecrmock *m = *state;
    char *a = archived_image(m, "v1");
    json_t *r = NULL;
    assert_ok(call(m, &r, "BatchGetImage", "{\"repositoryName\": \"app\", \"imageIds\": [{\"imageTag\": \"v1\"}]}"), r);
    assert_int_equal(json_array_size(json_object_get(r, "images")), 0);
    json_t *f = json_array_get(json_object_get(r, "failures"), 0);
    assert_string_equal(STR(json_object_get(f, "imageId"), "imageTag"), "v1");
    assert_string_equal(STR(f, "failureCode"), "ImageInaccessible");
    assert_string_equal(STR(f, "failureReason"),
                        "Requested image is archived and must be restored before it can be pulled");
    json_decref(r);
    json_t *d = describe_image(m, "app", a);
    assert_null(json_object_get(d, "lastRecordedPullTime"));
    json_decref(d);

    /* Still not while it restores; once restored, yes. */
    update_ok(m, "app", a, "STANDARD", "ACTIVATING");
    assert_ok(call(m, &r, "BatchGetImage", "{\"repositoryName\": \"app\", \"imageIds\": [{\"imageDigest\": \"%s\"}]}", a),
              r);
    assert_string_equal(STR(json_array_get(json_object_get(r, "failures"), 0), "failureCode"), "ImageInaccessible");
    json_decref(r);
    ecrmock_clock_advance(m, RESTORE_MS, NULL);
    assert_ok(call(m, &r, "BatchGetImage", "{\"repositoryName\": \"app\", \"imageIds\": [{\"imageTag\": \"v1\"}]}"), r);
    assert_int_equal(json_array_size(json_object_get(r, "images")), 1);
    assert_int_equal(json_array_size(json_object_get(r, "failures")), 0);
    json_decref(r);
    free(a);
}

static void test_update_image_storage_class_archive_is_idempotent(void **state)
{
    ecrmock *m = *state;
    char *a = new_repo_with_image(m, "app", 1, NULL);
    int64_t first = ecrmock_clock_now(m);
    update_ok(m, "app", a, "ARCHIVE", "ARCHIVED");
    ecrmock_clock_advance(m, 60000, NULL);
    update_ok(m, "app", a, "ARCHIVE", "ARCHIVED");
    json_t *d = describe_image(m, "app", a);
    assert_true(seconds(d, "lastArchivedAt") == (double)first / 1000.0);
    json_decref(d);
    free(a);
}

static void test_update_image_storage_class_repush_restores_at_once(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "app");
    char *mf = make_manifest(m, "app", 1, 7);
    char *a = put_image(m, "app", mf, "v1");
    update_ok(m, "app", a, "ARCHIVE", "ARCHIVED");
    ecrmock_clock_advance(m, 1000, NULL);
    /* The same manifest and tag: no ImageAlreadyExistsException, the image is back. */
    free(put_image(m, "app", mf, "v1"));
    json_t *d = describe_image(m, "app", a);
    assert_string_equal(STR(d, "imageStatus"), "ACTIVE");
    assert_true(seconds(d, "lastActivatedAt") == (double)ecrmock_clock_now(m) / 1000.0);
    json_decref(d);
    /* Pushed again once active: the usual refusal. */
    json_t *r = NULL;
    json_t *req = json_pack("{s:s, s:s, s:s}", "repositoryName", "app", "imageManifest", mf, "imageTag", "v1");
    assert_error(ecrmock_call(m, "PutImage", req, &r), r, 400, "ImageAlreadyExistsException");
    json_decref(req);
    free(mf);
    free(a);
}

/* A re-push that adds no tag counts against no tag quota: an archived image
 * at the tags-per-image limit comes back with its own tag, or with none. */
static void test_update_image_storage_class_repush_at_tag_limit(void **state)
{
    (void)state;
    ecrmock_options o = ECRMOCK_OPTIONS_INIT;
    o.min_part_size = 1;
    o.max_tags_per_image = 1;
    ecrmock *m = ecrmock_new(&o);
    assert_non_null(m);
    create_repo(m, "app");
    char *mf = make_manifest(m, "app", 1, 7);
    char *a = put_image(m, "app", mf, "v1");
    update_ok(m, "app", a, "ARCHIVE", "ARCHIVED");
    free(put_image(m, "app", mf, "v1"));
    assert_status(m, "app", a, "ACTIVE");
    update_ok(m, "app", a, "ARCHIVE", "ARCHIVED");
    free(put_image(m, "app", mf, NULL));
    assert_status(m, "app", a, "ACTIVE");
    /* A new tag on it is still over the limit. */
    json_t *r = NULL;
    json_t *req = json_pack("{s:s, s:s, s:s}", "repositoryName", "app", "imageManifest", mf, "imageTag", "v2");
    assert_error(ecrmock_call(m, "PutImage", req, &r), r, 400, "LimitExceededException");
    json_decref(req);
    json_t *d = describe_image(m, "app", a);
    json_t *tags = json_object_get(d, "imageTags");
    assert_int_equal(json_array_size(tags), 1);
    assert_string_equal(json_string_value(json_array_get(tags, 0)), "v1");
    json_decref(d);
    free(mf);
    free(a);
    ecrmock_free(m);
}

static void test_update_image_storage_class_manifest_list_moves_its_images(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "app");
    char *kids[2] = {push_new_image(m, "app", 1, 1, NULL), push_new_image(m, "app", 1, 2, NULL)};
    char *other = push_new_image(m, "app", 1, 3, NULL);
    char *list = put_manifest_list(m, "app", 2, kids, "multi");
    /* A second list that stays active keeps its image active. */
    char *keep = put_manifest_list(m, "app", 1, &kids[1], "keep");

    update_ok(m, "app", list, "ARCHIVE", "ARCHIVED");
    assert_status(m, "app", list, "ARCHIVED");
    assert_status(m, "app", kids[0], "ARCHIVED");
    assert_status(m, "app", kids[1], "ACTIVE");
    assert_status(m, "app", other, "ACTIVE");
    assert_status(m, "app", keep, "ACTIVE");

    update_ok(m, "app", list, "STANDARD", "ACTIVATING");
    assert_status(m, "app", kids[0], "ACTIVATING");
    assert_status(m, "app", kids[1], "ACTIVE");
    ecrmock_clock_advance(m, RESTORE_MS, NULL);
    assert_status(m, "app", list, "ACTIVE");
    assert_status(m, "app", kids[0], "ACTIVE");
    free(kids[0]);
    free(kids[1]);
    free(other);
    free(list);
    free(keep);
}

/* Re-pushing an archived list brings its images back with it, at once. */
static void test_update_image_storage_class_repush_list_restores_its_images(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "app");
    char *kids[2] = {push_new_image(m, "app", 1, 1, NULL), push_new_image(m, "app", 1, 2, NULL)};
    char *list = put_manifest_list(m, "app", 2, kids, "multi");
    update_ok(m, "app", list, "ARCHIVE", "ARCHIVED");
    assert_status(m, "app", kids[0], "ARCHIVED");
    char *again = put_manifest_list(m, "app", 2, kids, "multi");
    assert_string_equal(again, list);
    assert_status(m, "app", list, "ACTIVE");
    assert_status(m, "app", kids[0], "ACTIVE");
    assert_status(m, "app", kids[1], "ACTIVE");
    free(kids[0]);
    free(kids[1]);
    free(list);
    free(again);
}

static void test_update_image_storage_class_image_of_a_list_refused(void **state)
{
    ecrmock *m = *state;
    char *kid = new_repo_with_image(m, "app", 1, NULL);
    char *list = put_manifest_list(m, "app", 1, &kid, "multi");
    json_t *r = NULL;
    int st = update(m, &r, "app", kid, NULL, "ARCHIVE");
    char want[512];
    snprintf(want, sizeof want,
             "The image with digest '%s' is referenced by the manifest list with digest '%s' in the repository with "
             "name 'app' in the registry with id '" ACCOUNT "': transition the manifest list instead",
             kid, list);
    assert_fail_msg(st, &r, "ImageStorageClassUpdateNotSupportedException", want);
    assert_status(m, "app", kid, "ACTIVE");
    free(kid);
    free(list);
}

static void test_update_image_storage_class_archive_while_restoring_refused(void **state)
{
    ecrmock *m = *state;
    char *a = archived_image(m, NULL);
    update_ok(m, "app", a, "STANDARD", "ACTIVATING");
    json_t *r = NULL;
    int st = update(m, &r, "app", a, NULL, "ARCHIVE");
    char want[512];
    snprintf(want, sizeof want,
             "The image with digest '%s' in the repository with name 'app' in the registry with id '" ACCOUNT
             "' cannot be archived while it is being restored",
             a);
    assert_fail_msg(st, &r, "ImageStorageClassUpdateNotSupportedException", want);
    assert_status(m, "app", a, "ACTIVATING");
    free(a);
}

static void test_update_image_storage_class_image_not_found(void **state)
{
    ecrmock *m = *state;
    char *a = new_repo_with_image(m, "app", 1, "v1");
    json_t *r = NULL;
    int st = update(m, &r, "app", NULL, "nope", "ARCHIVE");
    assert_image_not_found(st, &r, NULL, "nope", "app", ACCOUNT);
    /* A tag that names another image than the digest. */
    char *b = push_new_image(m, "app", 1, 2, "v2");
    assert_error(update(m, &r, "app", a, "v2", "ARCHIVE"), r, 400, "ImageNotFoundException");
    assert_status(m, "app", a, "ACTIVE");
    assert_status(m, "app", b, "ACTIVE");
    free(a);
    free(b);
}

static void test_update_image_storage_class_repository_not_found(void **state)
{
    ecrmock *m = *state;
    json_t *r = NULL;
    int st = update(m, &r, "ghost", "sha256:0000000000000000000000000000000000000000000000000000000000000000", NULL,
                    "ARCHIVE");
    assert_repo_not_found(st, &r, "ghost", ACCOUNT);
}

static void test_update_image_storage_class_invalid_target(void **state)
{
    ecrmock *m = *state;
    char *a = new_repo_with_image(m, "app", 1, NULL);
    json_t *r = NULL;
    assert_error(update(m, &r, "app", a, NULL, "GLACIER"), r, 400, "InvalidParameterException");
    assert_status(m, "app", a, "ACTIVE");
    free(a);
}

static void test_update_image_storage_class_archived_image_can_be_deleted(void **state)
{
    ecrmock *m = *state;
    char *a = archived_image(m, "v1");
    json_t *r = NULL;
    assert_ok(call(m, &r, "BatchDeleteImage", "{\"repositoryName\": \"app\", \"imageIds\": [{\"imageTag\": \"v1\"}]}"),
              r);
    assert_int_equal(json_array_size(json_object_get(r, "imageIds")), 1);
    json_decref(r);
    assert_digests(m, "ListImages", "{\"imageStatus\": \"ANY\"}", "");
    free(a);
}

static void test_start_image_scan_archived_image_refused(void **state)
{
    ecrmock *m = *state;
    char *a = archived_image(m, "v1");
    json_t *r = NULL;
    int st = call(m, &r, "StartImageScan", "{\"repositoryName\": \"app\", \"imageId\": {\"imageTag\": \"v1\"}}");
    char want[512];
    snprintf(want, sizeof want,
             "The image with digest '%s' in the repository with name 'app' in the registry with id '" ACCOUNT
             "' is archived and cannot be scanned",
             a);
    assert_fail_msg(st, &r, "ImageArchivedException", want);
    /* No scan was recorded. */
    assert_error(call(m, &r, "DescribeImageScanFindings", "{\"repositoryName\": \"app\", \"imageId\": {\"imageTag\": "
                                                           "\"v1\"}}"),
                 r, 400, "ScanNotFoundException");
    /* Restored, it can be scanned. */
    update_ok(m, "app", a, "STANDARD", "ACTIVATING");
    assert_error(call(m, &r, "StartImageScan", "{\"repositoryName\": \"app\", \"imageId\": {\"imageTag\": \"v1\"}}"),
                 r, 400, "ImageArchivedException");
    ecrmock_clock_advance(m, RESTORE_MS, NULL);
    call_ok(m, "StartImageScan", "{\"repositoryName\": \"app\", \"imageId\": {\"imageTag\": \"v1\"}}");
    free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup_mock, teardown_mock)
        T(test_update_image_storage_class_archive),
        T(test_update_image_storage_class_restore_goes_through_activating),
        T(test_update_image_storage_class_archived_image_cannot_be_pulled),
        T(test_update_image_storage_class_archive_is_idempotent),
        T(test_update_image_storage_class_repush_restores_at_once),
        T(test_update_image_storage_class_repush_at_tag_limit),
        T(test_update_image_storage_class_manifest_list_moves_its_images),
        T(test_update_image_storage_class_repush_list_restores_its_images),
        T(test_update_image_storage_class_image_of_a_list_refused),
        T(test_update_image_storage_class_archive_while_restoring_refused),
        T(test_update_image_storage_class_image_not_found),
        T(test_update_image_storage_class_repository_not_found),
        T(test_update_image_storage_class_invalid_target),
        T(test_update_image_storage_class_archived_image_can_be_deleted),
        T(test_start_image_scan_archived_image_refused),
#undef T
    };
    return cmocka_run_group_tests_name("storage_class", tests, NULL, NULL);
}
