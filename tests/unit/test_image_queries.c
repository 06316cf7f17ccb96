/*
 * Reading and removing images: BatchGetImage, BatchDeleteImage, ListImages
 * and DescribeImages, with their per-image failures, paging (tokens that
 * survive changes between pages and refuse another listing) and filters.
 */
#include "helpers.h"

#include <stdbool.h>

#define MT_DOCKER_V2 "application/vnd.docker.distribution.manifest.v2+json"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"
#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define ACCOUNT "123456789012"


static const char *const REASON_MISSING = "Invalid request parameters: both tag and digest cannot be null";
static const char *const REASON_INVALID_DIGEST =
    "Invalid request parameters: image digest should satisfy the regex '[a-zA-Z0-9-_+.]+:[a-fA-F0-9]+'";
static const char *const REASON_TAG_MISMATCH = "Invalid request parameters: given tag does not map to the given digest";
static const char *const REASON_NOT_FOUND = "Requested image not found";

/* Puts a fresh image (`salt` makes it distinct) with an optional tag, checks
 * its digest independently and returns it (malloc'd); *mf_out, when not
 * NULL, receives the manifest (malloc'd). */
static char *new_image(ecrmock *m, const char *repo, int salt, const char *tag, char **mf_out)
{
    char *mf = make_manifest(m, repo, 1, salt);
    char want[ECRMOCK_DIGEST_SIZE];
    sha256_digest(mf, strlen(mf), want);
    char *d = put_image(m, repo, mf, tag);
    assert_string_equal(d, want);
    if (mf_out)
        *mf_out = mf;
    else
        free(mf);
    return d;
}

static void add_tag(ecrmock *m, const char *repo, const char *mf, const char *tag)
{
    free(put_image(m, repo, mf, tag));
}

/* A new repository "app" with one image tagged v1; returns its digest
 * (malloc'd). */
static char *image_v1(ecrmock *m)
{
    create_repo(m, "app");
    return new_image(m, "app", 1, "v1", NULL);
}

/* A new repository "app" with one image tagged v1 and latest; returns its
 * digest and its manifest in *mf (both malloc'd). */
static char *image_v1_latest(ecrmock *m, char **mf)
{
    create_repo(m, "app");
    char *d = new_image(m, "app", 1, "v1", mf);
    add_tag(m, "app", *mf, "latest");
    return d;
}

/* "digest|tag" ("-" for none) of an imageId. */
static void id_text(json_t *id, char *out, size_t cap)
{
    const char *tag = STR(id, "imageTag");
    snprintf(out, cap, "%s|%s", STR(id, "imageDigest"), tag ? tag : "-");
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorts the `n` malloc'd strings of `items` and joins them with spaces into
 * out (cap bytes); frees them and the array. */
static void sorted_join(char **items, size_t n, char *out, size_t cap)
{
    qsort(items, n, sizeof *items, cmp_str);
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        snprintf(out + strlen(out), cap - strlen(out), "%s%s", i ? " " : "", items[i]);
        free(items[i]);
    }
    free(items);
}

/* Sorted "digest|tag" entries of an array of imageIds (or of objects with an
 * imageId member), joined by spaces. */
static void ids_text(json_t *arr, char *out, size_t cap)
{
    size_t n = json_array_size(arr);
    char **items = calloc(n ? n : 1, sizeof *items);
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(arr, i);
        json_t *id = json_object_get(e, "imageId") ? json_object_get(e, "imageId") : e;
        items[i] = malloc(400);
        id_text(id, items[i], 400);
    }
    sorted_join(items, n, out, cap);
}

static void entry(char *out, size_t cap, const char *digest, const char *tag)
{
    snprintf(out, cap, "%s|%s", digest, tag ? tag : "-");
}

/* Builds the expected sorted set text from `n` (digest, tag) pairs of `ap`. */
static void want_text(char *out, size_t cap, size_t n, va_list ap)
{
    char **items = calloc(n ? n : 1, sizeof *items);
    for (size_t i = 0; i < n; i++) {
        const char *digest = va_arg(ap, const char *);
        const char *tag = va_arg(ap, const char *);
        items[i] = malloc(400);
        entry(items[i], 400, digest, tag);
    }
    sorted_join(items, n, out, cap);
}

/* Asserts that the imageIds of `arr` (as ids_text reads them) are exactly the
 * `n` (digest, tag) pairs that follow (tag NULL: none), in any order. */
static void assert_ids(json_t *arr, size_t n, ...)
{
    char got[4096], want[4096];
    ids_text(arr, got, sizeof got);
    va_list ap;
    va_start(ap, n);
    want_text(want, sizeof want, n, ap);
    va_end(ap);
    assert_string_equal(got, want);
}

/* Asserts that ListImages of `repo` lists, in one page, exactly the `n`
 * (digest, tag) pairs that follow (tag NULL: none), in any order. */
static void assert_images_listed(ecrmock *m, const char *repo, size_t n, ...)
{
    json_t *r = NULL;
    assert_ok(call(m, &r, "ListImages", "{\"repositoryName\": \"%s\"}", repo), r);
    assert_null(json_object_get(r, "nextToken"));
    char got[4096], want[4096];
    ids_text(json_object_get(r, "imageIds"), got, sizeof got);
    json_decref(r);
    va_list ap;
    va_start(ap, n);
    want_text(want, sizeof want, n, ap);
    va_end(ap);
    assert_string_equal(got, want);
}

/* The image details of `digest`, or NULL when DescribeImages says ImageNotFoundException. */
static json_t *describe(ecrmock *m, const char *repo, const char *digest)
{
    json_t *r = NULL;
    int st = call(m, &r, "DescribeImages", "{\"repositoryName\": \"%s\", \"imageIds\": [{\"imageDigest\": \"%s\"}]}",
                  repo, digest);
    if (st == 400 && strcmp(err_type(r), "ImageNotFoundException") == 0) {
        json_decref(r);
        return NULL;
    }
    assert_ok(st, r);
    json_t *details = json_object_get(r, "imageDetails");
    assert_int_equal(json_array_size(details), 1);
    json_t *d = json_incref(json_array_get(details, 0));
    json_decref(r);
    return d;
}

static void assert_failure(json_t *f, const char *digest, const char *tag, const char *code, const char *reason)
{
    json_t *id = json_object_get(f, "imageId");
    if (digest)
        assert_string_equal(STR(id, "imageDigest"), digest);
    else
        assert_null(json_object_get(id, "imageDigest"));
    if (tag)
        assert_string_equal(STR(id, "imageTag"), tag);
    else
        assert_null(json_object_get(id, "imageTag"));
    assert_string_equal(STR(f, "failureCode"), code);
    assert_string_equal(STR(f, "failureReason"), reason);
}

/* ======================================================================== */
/* BatchGetImage                                                            */
/* ======================================================================== */

static void test_batch_get_image_by_tag(void **state)
{
    ecrmock *m = *state;
    char *mf;
    char *d = image_v1_latest(m, &mf);
    char *other = new_image(m, "app", 2, "v2", NULL);
    json_t *r = NULL;
    assert_ok(call(m, &r, "BatchGetImage", "{\"repositoryName\": \"app\", \"imageIds\": [{\"imageTag\": \"v1\"}]}"), r);
    json_t *images = json_object_get(r, "images");
    assert_int_equal(json_array_size(images), 1);
    assert_true(json_is_array(json_object_get(r, "failures")));
    assert_int_equal(json_array_size(json_object_get(r, "failures")), 0);
    json_t *img = json_array_get(images, 0);
    assert_string_equal(STR(img, "registryId"), ACCOUNT);
    assert_string_equal(STR(img, "repositoryName"), "app");
    assert_string_equal(STR(json_object_get(img, "imageId"), "imageDigest"), d);
    assert_string_equal(STR(json_object_get(img, "imageId"), "imageTag"), "v1");
    assert_string_equal(STR(img, "imageManifest"), mf);
    assert_string_equal(STR(img, "imageManifestMediaType"), MT_DOCKER_V2);
    json_decref(r);
    free(mf), free(d), free(other);
}

static void test_batch_get_image_by_digest_one_entry_per_tag(void **state)
{
    ecrmock *m = *state;
    char *mf;
    char *d = image_v1_latest(m, &mf);
    char *untagged = new_image(m, "app", 2, NULL, NULL);
    json_t *r = NULL;
    assert_ok(call(m, &r, "BatchGetImage",
                   "{\"repositoryName\": \"app\", \"imageIds\": [{\"imageDigest\": \"%s\"}, {\"imageDigest\": \"%s\"}]}",
                   d, untagged),
              r);
    assert_ids(json_object_get(r, "images"), 3, d, "latest", d, "v1", untagged, NULL);
    size_t i;
    json_t *img;
    json_array_foreach(json_object_get(r, "images"), i, img) {
        if (strcmp(STR(json_object_get(img, "imageId"), "imageDigest"), d) == 0)
            assert_string_equal(STR(img, "imageManifest"), mf);
        else
            assert_null(json_object_get(json_object_get(img, "imageId"), "imageTag"));
    }
    assert_int_equal(json_array_size(json_object_get(r, "failures")), 0);
    json_decref(r);
    free(mf), free(d), free(untagged);
}

static void test_batch_get_image_by_digest_and_tag(void **state)
{
    ecrmock *m = *state;
    char *d1 = image_v1(m);
    char *d2 = new_image(m, "app", 2, "v2", NULL);
    json_t *r = NULL;
    assert_ok(call(m, &r, "BatchGetImage",
                   "{\"repositoryName\": \"app\", \"imageIds\": [{\"imageDigest\": \"%s\", \"imageTag\": \"v1\"}, "
                   "{\"imageDigest\": \"%s\", \"imageTag\": \"v2\"}]}",
                   d1, d1),
              r);
    json_t *images = json_object_get(r, "images");
    assert_int_equal(json_array_size(images), 1);
    assert_string_equal(STR(json_object_get(json_array_get(images, 0), "imageId"), "imageDigest"), d1);
    assert_string_equal(STR(json_object_get(json_array_get(images, 0), "imageId"), "imageTag"), "v1");
    json_t *failures = json_object_get(r, "failures");
    assert_int_equal(json_array_size(failures), 1);
    assert_failure(json_array_get(failures, 0), d1, "v2", "ImageTagDoesNotMatchDigest", REASON_TAG_MISMATCH);
    json_decref(r);
    free(d1), free(d2);
}

static void test_batch_get_image_failures(void **state)
{
    ecrmock *m = *state;
    char *d = image_v1(m);
    char absent[ECRMOCK_DIGEST_SIZE];
    sha256_digest("no such manifest", 16, absent);
    json_t *r = NULL;
    assert_ok(call(m, &r, "BatchGetImage",
                   "{\"repositoryName\": \"app\", \"imageIds\": [{}, {\"imageDigest\": \"sha256:xyz\"}, "
                   "{\"imageDigest\": \"nocolon\", \"imageTag\": \"v1\"}, {\"imageTag\": \"nope\"}, "
                   "{\"imageDigest\": \"%s\"}, {\"imageTag\": \"v1\"}]}",
                   absent),
              r);
    json_t *f = json_object_get(r, "failures");
    assert_int_equal(json_array_size(f), 5);
    assert_failure(json_array_get(f, 0), NULL, NULL, "MissingDigestAndTag", REASON_MISSING);
    assert_failure(json_array_get(f, 1), "sha256:xyz", NULL, "InvalidImageDigest", REASON_INVALID_DIGEST);
    assert_failure(json_array_get(f, 2), "nocolon", "v1", "InvalidImageDigest", REASON_INVALID_DIGEST);
    assert_failure(json_array_get(f, 3), NULL, "nope", "ImageNotFound", REASON_NOT_FOUND);
    assert_failure(json_array_get(f, 4), absent, NULL, "ImageNotFound", REASON_NOT_FOUND);
    assert_int_equal(json_array_size(json_object_get(r, "images")), 1);
    assert_string_equal(STR(json_object_get(json_array_get(json_object_get(r, "images"), 0), "imageId"), "imageDigest"),
                        d);
    json_decref(r);
    free(d);
}

/* ecrmock converts no manifest: a stored type the caller does not accept is ImageNotFound. */
static void test_batch_get_image_accepted_media_types(void **state)
{
    ecrmock *m = *state;
    char *d = image_v1(m);
    json_t *r = NULL;
    assert_ok(call(m, &r, "BatchGetImage",
                   "{\"repositoryName\": \"app\", \"imageIds\": [{\"imageTag\": \"v1\"}], "
                   "\"acceptedMediaTypes\": [\"" MT_OCI_MANIFEST "\"]}"),
              r);
    assert_int_equal(json_array_size(json_object_get(r, "images")), 0);
    assert_int_equal(json_array_size(json_object_get(r, "failures")), 1);
    assert_failure(json_array_get(json_object_get(r, "failures"), 0), NULL, "v1", "ImageNotFound", REASON_NOT_FOUND);
    json_decref(r);
    /* Nothing was pulled. */
    json_t *det = describe(m, "app", d);
    assert_null(json_object_get(det, "lastRecordedPullTime"));
    json_decref(det);

    assert_ok(call(m, &r, "BatchGetImage",
                   "{\"repositoryName\": \"app\", \"imageIds\": [{\"imageTag\": \"v1\"}], "
                   "\"acceptedMediaTypes\": [\"" MT_OCI_MANIFEST "\", \"" MT_DOCKER_V2 "\"]}"),
              r);
    assert_int_equal(json_array_size(json_object_get(r, "images")), 1);
    assert_int_equal(json_array_size(json_object_get(r, "failures")), 0);
    json_decref(r);
    free(d);
}

static void test_batch_get_image_records_pull_time(void **state)
{
    ecrmock *m = *state;
    char *d = image_v1(m);
    char *other = new_image(m, "app", 2, "v2", NULL);
    json_t *det = describe(m, "app", d);
    assert_null(json_object_get(det, "lastRecordedPullTime"));
    json_decref(det);

    ecrmock_clock_set(m, INT64_C(1717171717250), NULL);
    call_ok(m, "BatchGetImage", "{\"repositoryName\": \"app\", \"imageIds\": [{\"imageTag\": \"v1\"}]}");
    det = describe(m, "app", d);
    assert_true(json_number_value(json_object_get(det, "lastRecordedPullTime")) == 1717171717.25);
    /* imagePushedAt does not move */
    assert_true(json_number_value(json_object_get(det, "imagePushedAt")) == 1704067200.0);
    json_decref(det);
    det = describe(m, "app", other);
    assert_null(json_object_get(det, "lastRecordedPullTime"));
    json_decref(det);

    /* A later pull, by digest, moves it. */
    ecrmock_clock_advance(m, 3000, NULL);
    call_ok(m, "BatchGetImage", "{\"repositoryName\": \"app\", \"imageIds\": [{\"imageDigest\": \"%s\"}]}",
            d);
    det = describe(m, "app", d);
    assert_true(json_number_value(json_object_get(det, "lastRecordedPullTime")) == 1717171720.25);
    json_decref(det);
    free(d), free(other);
}

static void test_batch_get_image_too_many_ids(void **state)
{
    ecrmock *m = *state;
    char *d = image_v1(m);
    json_t *ids = json_array();
    for (int i = 0; i < 101; i++)
        json_array_append_new(ids, json_pack("{s:s}", "imageTag", "v1"));
    json_t *req = json_pack("{s:s, s:o}", "repositoryName", "app", "imageIds", ids);
    json_t *r = NULL;
    int st = ecrmock_call(m, "BatchGetImage", req, &r);
    assert_fail_msg(st, &r, "InvalidParameterException",
                    "Invalid parameter at 'imageIds' failed to satisfy constraint: 'Member must "
                    "have length less than or equal to 100'");
    /* 100 is fine. */
    json_array_remove(json_object_get(req, "imageIds"), 0);
    assert_ok(ecrmock_call(m, "BatchGetImage", req, &r), r);
    assert_true(json_array_size(json_object_get(r, "images")) >= 1);
    assert_int_equal(json_array_size(json_object_get(r, "failures")), 0);
    json_decref(r);
    json_decref(req);
    free(d);
}

static void test_batch_get_image_repository_not_found(void **state)
{
    ecrmock *m = *state;
    json_t *r = NULL;
    int st = call(m, &r, "BatchGetImage", "{\"repositoryName\": \"nope\", \"imageIds\": [{\"imageTag\": \"v1\"}]}");
    assert_repo_not_found(st, &r, "nope", ACCOUNT);
}

/* ======================================================================== */
/* BatchDeleteImage                                                         */
/* ======================================================================== */

/* BatchDeleteImage with a JSON imageIds array; returns the response. */
static json_t *delete_ids(ecrmock *m, const char *repo, const char *ids_fmt, ...)
    __attribute__((format(printf, 3, 4)));
static json_t *delete_ids(ecrmock *m, const char *repo, const char *ids_fmt, ...)
{
    char ids[8192];
    va_list ap;
    va_start(ap, ids_fmt);
    vsnprintf(ids, sizeof ids, ids_fmt, ap);
    va_end(ap);
    json_t *r = NULL;
    assert_ok(call(m, &r, "BatchDeleteImage", "{\"repositoryName\": \"%s\", \"imageIds\": %s}", repo, ids), r);
    assert_true(json_is_array(json_object_get(r, "imageIds")));
    assert_true(json_is_array(json_object_get(r, "failures")));
    return r;
}

static void test_batch_delete_image_by_tag_keeps_other_tags(void **state)
{
    ecrmock *m = *state;
    char *mf;
    char *d = image_v1_latest(m, &mf);
    char *other = new_image(m, "app", 2, "v2", NULL);
    json_t *r = delete_ids(m, "app", "[{\"imageTag\": \"v1\"}]");
    assert_ids(json_object_get(r, "imageIds"), 1, d, "v1");
    assert_int_equal(json_array_size(json_object_get(r, "failures")), 0);
    json_decref(r);
    assert_images_listed(m, "app", 2, d, "latest", other, "v2");

    /* Removing the last tag deletes the image. */
    r = delete_ids(m, "app", "[{\"imageTag\": \"latest\"}]");
    assert_ids(json_object_get(r, "imageIds"), 1, d, "latest");
    json_decref(r);
    assert_images_listed(m, "app", 1, other, "v2");
    assert_null(describe(m, "app", d));
    /* And the manifest can be put again, as a new image. */
    add_tag(m, "app", mf, "again");
    free(mf), free(d), free(other);
}

static void test_batch_delete_image_all_tags_in_one_call(void **state)
{
    ecrmock *m = *state;
    char *mf;
    char *d = image_v1_latest(m, &mf);
    json_t *r = delete_ids(m, "app", "[{\"imageTag\": \"v1\"}, {\"imageTag\": \"latest\"}]");
    assert_ids(json_object_get(r, "imageIds"), 2, d, "latest", d, "v1");
    json_decref(r);
    /* The last tag went: so did the image. */
    assert_images_listed(m, "app", 0);
    assert_null(describe(m, "app", d));
    free(mf), free(d);
}

static void test_batch_delete_image_by_digest_removes_all_tags(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "app");
    char *mf;
    char *d = new_image(m, "app", 1, "a", &mf);
    add_tag(m, "app", mf, "b");
    add_tag(m, "app", mf, "c");
    char *untagged = new_image(m, "app", 2, NULL, NULL);
    char *kept = new_image(m, "app", 3, "kept", NULL);
    json_t *r = delete_ids(m, "app", "[{\"imageDigest\": \"%s\"}, {\"imageDigest\": \"%s\"}]", d, untagged);
    assert_ids(json_object_get(r, "imageIds"), 4, d, "a", d, "b", d, "c", untagged, NULL);
    /* the untagged image's entry has no imageTag at all */
    size_t i;
    json_t *id;
    json_array_foreach(json_object_get(r, "imageIds"), i, id) if (strcmp(STR(id, "imageDigest"), untagged) == 0)
        assert_null(json_object_get(id, "imageTag"));
    assert_int_equal(json_array_size(json_object_get(r, "failures")), 0);
    json_decref(r);
    assert_images_listed(m, "app", 1, kept, "kept");
    /* The tags are free again. */
    json_t *g = NULL;
    assert_ok(call(m, &g, "BatchGetImage", "{\"repositoryName\": \"app\", \"imageIds\": [{\"imageTag\": \"b\"}]}"), g);
    assert_int_equal(json_array_size(json_object_get(g, "images")), 0);
    assert_failure(json_array_get(json_object_get(g, "failures"), 0), NULL, "b", "ImageNotFound", REASON_NOT_FOUND);
    json_decref(g);
    free(mf), free(d), free(untagged), free(kept);
}

static void test_batch_delete_image_failures(void **state)
{
    ecrmock *m = *state;
    char *d1 = image_v1(m);
    char *d2 = new_image(m, "app", 2, "v2", NULL);
    char absent[ECRMOCK_DIGEST_SIZE];
    sha256_digest("no such manifest", 16, absent);
    json_t *before = repo_view(m, "app");
    json_t *r = delete_ids(m, "app",
                           "[{}, {\"imageDigest\": \"sha256:not-hex\"}, {\"imageTag\": \"nope\"}, "
                           "{\"imageDigest\": \"%s\"}, {\"imageDigest\": \"%s\", \"imageTag\": \"v2\"}]",
                           absent, d1);
    assert_int_equal(json_array_size(json_object_get(r, "imageIds")), 0);
    json_t *f = json_object_get(r, "failures");
    assert_int_equal(json_array_size(f), 5);
    assert_failure(json_array_get(f, 0), NULL, NULL, "MissingDigestAndTag", REASON_MISSING);
    assert_failure(json_array_get(f, 1), "sha256:not-hex", NULL, "InvalidImageDigest", REASON_INVALID_DIGEST);
    assert_failure(json_array_get(f, 2), NULL, "nope", "ImageNotFound", REASON_NOT_FOUND);
    assert_failure(json_array_get(f, 3), absent, NULL, "ImageNotFound", REASON_NOT_FOUND);
    assert_failure(json_array_get(f, 4), d1, "v2", "ImageTagDoesNotMatchDigest", REASON_TAG_MISMATCH);
    json_decref(r);
    assert_repo_unchanged(m, "app", before);

    /* Failures and successes mix in one call. */
    r = delete_ids(m, "app", "[{\"imageTag\": \"nope\"}, {\"imageDigest\": \"%s\", \"imageTag\": \"v2\"}]", d2);
    assert_ids(json_object_get(r, "imageIds"), 1, d2, "v2");
    assert_int_equal(json_array_size(json_object_get(r, "failures")), 1);
    json_decref(r);
    assert_images_listed(m, "app", 1, d1, "v1");
    free(d1), free(d2);
}

static void test_batch_delete_image_referenced_by_manifest_list(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "app");
    char *mf;
    char *c1 = new_image(m, "app", 1, "amd64", &mf);
    char *c2 = new_image(m, "app", 2, NULL, NULL);
    char *children[] = {c1, c2};
    char *list = put_manifest_list(m, "app", 2, children, "multi");
    json_t *before = repo_view(m, "app");
    json_t *r = delete_ids(m, "app", "[{\"imageDigest\": \"%s\"}, {\"imageTag\": \"amd64\"}, {\"imageDigest\": \"%s\"}]",
                           c1, c2);
    assert_int_equal(json_array_size(json_object_get(r, "imageIds")), 0);
    json_t *f = json_object_get(r, "failures");
    assert_int_equal(json_array_size(f), 3);
    char reason[256];
    snprintf(reason, sizeof reason, "Requested image referenced by manifest list: [%s]", list);
    assert_failure(json_array_get(f, 0), c1, NULL, "ImageReferencedByManifestList", reason);
    assert_failure(json_array_get(f, 1), NULL, "amd64", "ImageReferencedByManifestList", reason);
    assert_failure(json_array_get(f, 2), c2, NULL, "ImageReferencedByManifestList", reason);
    json_decref(r);
    assert_repo_unchanged(m, "app", before);

    /* A tag that is not the image's last may go: the image stays. */
    add_tag(m, "app", mf, "extra");
    r = delete_ids(m, "app", "[{\"imageTag\": \"extra\"}]");
    assert_int_equal(json_array_size(json_object_get(r, "imageIds")), 1);
    assert_int_equal(json_array_size(json_object_get(r, "failures")), 0);
    json_decref(r);

    /* Once the list is gone, so may its images. */
    r = delete_ids(m, "app", "[{\"imageTag\": \"multi\"}]");
    json_decref(r);
    r = delete_ids(m, "app", "[{\"imageDigest\": \"%s\"}, {\"imageDigest\": \"%s\"}]", c1, c2);
    assert_int_equal(json_array_size(json_object_get(r, "imageIds")), 2);
    assert_int_equal(json_array_size(json_object_get(r, "failures")), 0);
    json_decref(r);
    assert_images_listed(m, "app", 0);
    free(mf), free(c1), free(c2), free(list);
}

static void test_batch_delete_image_same_image_twice(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "app");
    char *mf;
    char *d = new_image(m, "app", 1, "v1", &mf);
    char *kept = new_image(m, "app", 2, "kept", NULL);
    /* The digest twice, and its tag: deleted once, listed once. */
    json_t *r = delete_ids(m, "app", "[{\"imageDigest\": \"%s\"}, {\"imageDigest\": \"%s\"}, {\"imageTag\": \"v1\"}]",
                           d, d);
    assert_ids(json_object_get(r, "imageIds"), 1, d, "v1");
    assert_int_equal(json_array_size(json_object_get(r, "failures")), 0);
    json_decref(r);
    assert_images_listed(m, "app", 1, kept, "kept");

    /* A tag twice: removed once. */
    free(d);
    free(mf);
    d = new_image(m, "app", 3, "a", &mf);
    add_tag(m, "app", mf, "b");
    r = delete_ids(m, "app", "[{\"imageTag\": \"a\"}, {\"imageTag\": \"a\"}]");
    assert_ids(json_object_get(r, "imageIds"), 1, d, "a");
    json_decref(r);
    assert_images_listed(m, "app", 2, d, "b", kept, "kept");
    free(mf);

    /* A tag, then the digest: the whole image goes, each tag listed once. */
    free(d);
    d = new_image(m, "app", 4, "x", &mf);
    add_tag(m, "app", mf, "y");
    r = delete_ids(m, "app", "[{\"imageTag\": \"x\"}, {\"imageDigest\": \"%s\"}, {\"imageTag\": \"y\"}]", d);
    assert_ids(json_object_get(r, "imageIds"), 2, d, "x", d, "y");
    json_decref(r);
    assert_null(describe(m, "app", d));
    free(mf), free(d), free(kept);
}

static void test_batch_delete_image_repository_not_found(void **state)
{
    ecrmock *m = *state;
    char *d = image_v1(m);
    json_t *before = repo_view(m, "app");
    json_t *r = NULL;
    int st = call(m, &r, "BatchDeleteImage", "{\"repositoryName\": \"nope\", \"imageIds\": [{\"imageTag\": \"v1\"}]}");
    assert_repo_not_found(st, &r, "nope", ACCOUNT);
    assert_repo_unchanged(m, "app", before);
    free(d);
}

/* ======================================================================== */
/* ListImages and DescribeImages: listings, paging, filters                 */
/* ======================================================================== */

/* One page of `action`; filter is JSON text or NULL, max 0 for none. */
static json_t *page(ecrmock *m, const char *action, const char *repo, const char *filter, int max, const char *token)
{
    json_t *req = json_pack("{s:s}", "repositoryName", repo);
    if (filter)
        json_object_set_new(req, "filter", json_loads(filter, 0, NULL));
    if (max)
        json_object_set_new(req, "maxResults", json_integer(max));
    if (token)
        json_object_set_new(req, "nextToken", json_string(token));
    json_t *r = NULL;
    int st = ecrmock_call(m, action, req, &r);
    json_decref(req);
    assert_ok(st, r);
    return r;
}

/* The entries of a page as "digest|tag" (ListImages) or "digest" (DescribeImages). */
static size_t page_entries(json_t *r, char ***items, size_t n)
{
    json_t *arr = json_object_get(r, "imageIds");
    bool describe_page = arr == NULL;
    if (describe_page)
        arr = json_object_get(r, "imageDetails");
    size_t i;
    json_t *e;
    json_array_foreach(arr, i, e) {
        *items = realloc(*items, (n + 1) * sizeof **items);
        (*items)[n] = malloc(400);
        if (describe_page)
            snprintf((*items)[n], 400, "%s", STR(e, "imageDigest"));
        else
            id_text(e, (*items)[n], 400);
        n++;
    }
    return n;
}

static void free_items(char **items, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(items[i]);
    free(items);
}

static bool has_item(char **items, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(items[i], s) == 0)
            return true;
    return false;
}

/* Walks every page; asserts each page is full but the last, that no entry
 * comes twice; returns the sorted entries as text and the page count. */
static size_t walk(ecrmock *m, const char *action, const char *repo, const char *filter, int max, char *out,
                   size_t cap)
{
    char **items = NULL;
    size_t n = 0, pages = 0;
    char *token = NULL;
    do {
        json_t *r = page(m, action, repo, filter, max, token);
        free(token);
        size_t before = n;
        n = page_entries(r, &items, n);
        const char *next = STR(r, "nextToken");
        token = next ? strdup(next) : NULL;
        if (token)
            assert_int_equal(n - before, (size_t)(max ? max : 100));
        assert_true(n - before <= (size_t)(max ? max : 100));
        json_decref(r);
        pages++;
        assert_true(pages < 10000);
    } while (token);
    qsort(items, n, sizeof *items, cmp_str);
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (i && strcmp(items[i - 1], items[i]) == 0)
            fail_msg("%s listed %s twice", action, items[i]);
        snprintf(out + strlen(out), cap - strlen(out), "%s%s", i ? " " : "", items[i]);
    }
    free_items(items, n);
    return pages;
}

/* Walks ListImages of "app" with `filter` (JSON text or NULL), `max` a page
 * (0: the default); asserts it took `pages` pages and listed exactly the `n`
 * (digest, tag) pairs that follow (tag NULL: none). */
static void assert_walk_lists(ecrmock *m, const char *filter, int max, size_t pages, size_t n, ...)
{
    char got[4096], want[4096];
    assert_int_equal(walk(m, "ListImages", "app", filter, max, got, sizeof got), pages);
    va_list ap;
    va_start(ap, n);
    want_text(want, sizeof want, n, ap);
    va_end(ap);
    assert_string_equal(got, want);
}

/* Follows `token` (taken over) to the end of the listing, `max` a page,
 * adding each page's entries to *seen (n so far); returns the new count. */
static size_t walk_rest(ecrmock *m, const char *action, int max, char *token, char ***seen, size_t n)
{
    while (token) {
        json_t *r = page(m, action, "app", NULL, max, token);
        free(token);
        n = page_entries(r, seen, n);
        token = STR(r, "nextToken") ? strdup(STR(r, "nextToken")) : NULL;
        json_decref(r);
    }
    return n;
}

/* Four images in a new repository "app": A tagged a1,a2,a3; B untagged; C
 * tagged c; D untagged. */
typedef struct fixture {
    char *a, *b, *c, *d;
} fixture;

static void fixture_make(ecrmock *m, fixture *f)
{
    create_repo(m, "app");
    char *mf;
    f->a = new_image(m, "app", 1, "a2", &mf);
    add_tag(m, "app", mf, "a3");
    add_tag(m, "app", mf, "a1");
    free(mf);
    f->b = new_image(m, "app", 2, NULL, NULL);
    f->c = new_image(m, "app", 3, "c", NULL);
    f->d = new_image(m, "app", 4, NULL, NULL);
}

static void fixture_free(fixture *f)
{
    free(f->a), free(f->b), free(f->c), free(f->d);
}

static void test_list_images_one_entry_per_tag(void **state)
{
    ecrmock *m = *state;
    fixture f;
    fixture_make(m, &f);
    json_t *r = page(m, "ListImages", "app", NULL, 0, NULL);
    assert_null(json_object_get(r, "nextToken"));
    assert_ids(json_object_get(r, "imageIds"), 6, f.a, "a1", f.a, "a2", f.a, "a3", f.b, NULL, f.c, "c", f.d, NULL);
    size_t i;
    json_t *id;
    json_array_foreach(json_object_get(r, "imageIds"), i, id) {
        if (strcmp(STR(id, "imageDigest"), f.b) == 0 || strcmp(STR(id, "imageDigest"), f.d) == 0)
            assert_null(json_object_get(id, "imageTag"));
        assert_int_equal(json_object_size(id), json_object_get(id, "imageTag") ? 2 : 1);
    }
    json_decref(r);
    /* An empty repository lists nothing. */
    create_repo(m, "empty");
    r = page(m, "ListImages", "empty", NULL, 0, NULL);
    assert_true(json_is_array(json_object_get(r, "imageIds")));
    assert_int_equal(json_array_size(json_object_get(r, "imageIds")), 0);
    assert_null(json_object_get(r, "nextToken"));
    json_decref(r);
    fixture_free(&f);
}

static void test_list_images_filter_tag_status(void **state)
{
    ecrmock *m = *state;
    fixture f;
    fixture_make(m, &f);
    assert_walk_lists(m, "{\"tagStatus\": \"TAGGED\"}", 0, 1, 4, f.a, "a1", f.a, "a2", f.a, "a3", f.c, "c");
    assert_walk_lists(m, "{\"tagStatus\": \"UNTAGGED\"}", 0, 1, 2, f.b, NULL, f.d, NULL);
    assert_walk_lists(m, "{\"tagStatus\": \"ANY\"}", 0, 1, 6, f.a, "a1", f.a, "a2", f.a, "a3", f.b, NULL, f.c, "c",
                      f.d, NULL);
    /* A filter and paging together. */
    assert_walk_lists(m, "{\"tagStatus\": \"TAGGED\"}", 1, 4, 4, f.a, "a1", f.a, "a2", f.a, "a3", f.c, "c");
    fixture_free(&f);
}

static void test_list_images_paging_visits_every_entry_once(void **state)
{
    ecrmock *m = *state;
    fixture f;
    fixture_make(m, &f);
    char all[4096], got[4096];
    walk(m, "ListImages", "app", NULL, 0, all, sizeof all);
    /* maxResults=1: six pages, the three tags of A each on its own page. */
    assert_int_equal(walk(m, "ListImages", "app", NULL, 1, got, sizeof got), 6);
    assert_string_equal(got, all);
    for (int max = 2; max <= 7; max++) {
        size_t pages = walk(m, "ListImages", "app", NULL, max, got, sizeof got);
        assert_int_equal(pages, (6 + (size_t)max - 1) / (size_t)max);
        assert_string_equal(got, all);
    }
    fixture_free(&f);
}

/* Changes between pages: nothing listed twice, nothing still present skipped. */
static void test_list_images_paging_survives_changes(void **state)
{
    ecrmock *m = *state;
    fixture f;
    fixture_make(m, &f);
    char *mf;
    char *e = new_image(m, "app", 5, "e1", &mf);
    add_tag(m, "app", mf, "e2");
    free(mf);
    /* Before: a1 a2 a3 b c d e1 e2, in push order. */
    char **initial = NULL, **seen = NULL;
    size_t n_initial = 0, n_seen = 0;
    json_t *r = page(m, "ListImages", "app", NULL, 0, NULL);
    n_initial = page_entries(r, &initial, 0);
    json_decref(r);
    assert_int_equal(n_initial, 8);

    /* Page 1: two entries, stopping inside A. */
    r = page(m, "ListImages", "app", NULL, 2, NULL);
    n_seen = page_entries(r, &seen, n_seen);
    char *token = strdup(STR(r, "nextToken"));
    json_decref(r);
    /* Remove the entry the token names (A's a3) and one not seen yet (c's
     * whole image), one already seen (a1); add a new image and a new tag to A
     * (a0, before where the walk stands). */
    json_decref(delete_ids(m, "app", "[{\"imageTag\": \"a3\"}, {\"imageDigest\": \"%s\"}, {\"imageTag\": \"a1\"}]",
                           f.c));
    char *g = new_image(m, "app", 6, "g", &mf);
    add_tag(m, "app", mf, "a0-not-on-a");
    free(mf);
    r = page(m, "ListImages", "app", NULL, 2, token);
    free(token);
    n_seen = page_entries(r, &seen, n_seen);
    token = strdup(STR(r, "nextToken"));
    json_decref(r);
    /* Next: remove the image the token names, and E's first tag. */
    char *names_next = NULL;
    r = page(m, "ListImages", "app", NULL, 1, token);
    names_next = strdup(STR(json_array_get(json_object_get(r, "imageIds"), 0), "imageDigest"));
    json_decref(r);
    json_decref(delete_ids(m, "app", "[{\"imageDigest\": \"%s\"}, {\"imageTag\": \"e1\"}]", names_next));
    n_seen = walk_rest(m, "ListImages", 2, token, &seen, n_seen);
    /* The final state. */
    char **final = NULL;
    r = page(m, "ListImages", "app", NULL, 0, NULL);
    size_t n_final = page_entries(r, &final, 0);
    json_decref(r);
    /* No repeats; every entry present from start to end was seen; every
     * entry seen existed at some point. */
    for (size_t i = 0; i < n_seen; i++) {
        for (size_t j = 0; j < i; j++)
            if (strcmp(seen[i], seen[j]) == 0)
                fail_msg("listed twice: %s", seen[i]);
        if (!has_item(initial, n_initial, seen[i]) && !has_item(final, n_final, seen[i]))
            fail_msg("listed but never there: %s", seen[i]);
    }
    for (size_t i = 0; i < n_initial; i++)
        if (has_item(final, n_final, initial[i]) && !has_item(seen, n_seen, initial[i]))
            fail_msg("skipped although present throughout: %s", initial[i]);
    /* The new image came after the walk's position: it was listed. */
    char gtag[400];
    entry(gtag, sizeof gtag, g, "g");
    assert_true(has_item(seen, n_seen, gtag));
    free_items(initial, n_initial);
    free_items(seen, n_seen);
    free_items(final, n_final);
    free(names_next), free(e), free(g);
    fixture_free(&f);
}

static void assert_bad_token(ecrmock *m, const char *action, const char *repo, const char *filter, const char *token)
{
    json_t *req = json_pack("{s:s, s:s}", "repositoryName", repo, "nextToken", token);
    if (filter)
        json_object_set_new(req, "filter", json_loads(filter, 0, NULL));
    json_t *r = NULL;
    int st = ecrmock_call(m, action, req, &r);
    json_decref(req);
    assert_fail_msg(st, &r, "InvalidParameterException",
                    "Invalid parameter at 'NextToken' failed to satisfy constraint: 'Invalid next token provided'");
}

static void bad_tokens(ecrmock *m, const char *action)
{
    fixture f;
    fixture_make(m, &f);
    json_t *r = page(m, action, "app", NULL, 1, NULL);
    char *token = strdup(STR(r, "nextToken"));
    json_decref(r);
    assert_bad_token(m, action, "app", NULL, "not a token");
    assert_bad_token(m, action, "app", NULL, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    /* A real token with one character changed. */
    char *bent = strdup(token);
    bent[2] = bent[2] == 'A' ? 'B' : 'A';
    assert_bad_token(m, action, "app", NULL, bent);
    free(bent);
    /* The token still works as it was. */
    r = page(m, action, "app", NULL, 1, token);
    assert_int_equal(json_array_size(json_object_get(r, strcmp(action, "ListImages") == 0 ? "imageIds" : "imageDetails")),
                     1);
    json_decref(r);
    free(token);
    fixture_free(&f);
}

static void test_list_images_bad_token(void **state)
{
    bad_tokens(*state, "ListImages");
}

/* A token belongs to its listing: action, repository and filter. */
static void token_scopes(ecrmock *m, const char *action, const char *other_action)
{
    create_repo(m, "other");
    fixture f;
    fixture_make(m, &f);
    free(new_image(m, "other", 1, "x", NULL));
    free(new_image(m, "other", 2, "y", NULL));
    json_t *r = page(m, action, "app", "{\"tagStatus\": \"TAGGED\"}", 1, NULL);
    char *token = strdup(STR(r, "nextToken"));
    json_decref(r);
    assert_bad_token(m, action, "app", "{\"tagStatus\": \"UNTAGGED\"}", token);
    assert_bad_token(m, action, "app", "{\"tagStatus\": \"ANY\"}", token);
    assert_bad_token(m, action, "app", NULL, token);
    assert_bad_token(m, action, "other", "{\"tagStatus\": \"TAGGED\"}", token);
    assert_bad_token(m, other_action, "app", "{\"tagStatus\": \"TAGGED\"}", token);
    /* With its own filter it is fine. */
    json_decref(page(m, action, "app", "{\"tagStatus\": \"TAGGED\"}", 1, token));
    free(token);
    fixture_free(&f);
}

static void test_list_images_token_with_other_filter_refused(void **state)
{
    token_scopes(*state, "ListImages", "DescribeImages");
}

static void max_results_bounds(ecrmock *m, const char *action)
{
    create_repo(m, "app");
    free(new_image(m, "app", 1, "v1", NULL));
    json_t *r = NULL;
    int st = call(m, &r, action, "{\"repositoryName\": \"app\", \"maxResults\": 0}");
    assert_fail_msg(st, &r, "InvalidParameterException",
                    "Invalid parameter at 'maxResults' failed to satisfy constraint: 'Member must "
                    "have value greater than or equal to 1'");
    st = call(m, &r, action, "{\"repositoryName\": \"app\", \"maxResults\": 1001}");
    assert_fail_msg(st, &r, "InvalidParameterException",
                    "Invalid parameter at 'maxResults' failed to satisfy constraint: 'Member must "
                    "have value less than or equal to 1000'");
    call_ok(m, action, "{\"repositoryName\": \"app\", \"maxResults\": 1000}");
    assert_ok(call(m, &r, action, "{\"repositoryName\": \"app\", \"maxResults\": 1}"), r);
    assert_null(json_object_get(r, "nextToken")); /* nothing more */
    json_decref(r);
}

static void test_list_images_max_results_bounds(void **state)
{
    max_results_bounds(*state, "ListImages");
}

/* 120 images, one tag each: the default page is 100. */
static void default_page(ecrmock *m, const char *action)
{
    create_repo(m, "app");
    for (int i = 0; i < 120; i++) {
        char tag[16];
        snprintf(tag, sizeof tag, "t%03d", i);
        free(new_image(m, "app", 1000 + i, tag, NULL));
    }
    const char *key = strcmp(action, "ListImages") == 0 ? "imageIds" : "imageDetails";
    json_t *r1 = page(m, action, "app", NULL, 0, NULL);
    assert_int_equal(json_array_size(json_object_get(r1, key)), 100);
    assert_non_null(STR(r1, "nextToken"));
    json_t *r2 = page(m, action, "app", NULL, 0, STR(r1, "nextToken"));
    assert_int_equal(json_array_size(json_object_get(r2, key)), 20);
    assert_null(json_object_get(r2, "nextToken"));
    char **items = NULL;
    size_t n = page_entries(r1, &items, 0);
    n = page_entries(r2, &items, n);
    qsort(items, n, sizeof *items, cmp_str);
    for (size_t i = 1; i < n; i++)
        assert_string_not_equal(items[i - 1], items[i]);
    assert_int_equal(n, 120);
    free_items(items, n);
    json_decref(r1);
    json_decref(r2);
}

static void test_list_images_default_page_100(void **state)
{
    default_page(*state, "ListImages");
}

/* No such repository, in the caller's registry or another one. */
static void listing_repository_not_found(ecrmock *m, const char *action)
{
    json_t *r = NULL;
    int st = call(m, &r, action, "{\"repositoryName\": \"nope\"}");
    assert_repo_not_found(st, &r, "nope", ACCOUNT);
    create_repo(m, "app");
    st = call(m, &r, action, "{\"repositoryName\": \"app\", \"registryId\": \"210987654321\"}");
    assert_repo_not_found(st, &r, "app", "210987654321");
}

static void test_list_images_repository_not_found(void **state)
{
    listing_repository_not_found(*state, "ListImages");
}

/* ---- DescribeImages ----------------------------------------------------------------- */

static void test_describe_images_every_field(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "app");
    ecrmock_clock_set(m, INT64_C(1717171717123), NULL);
    /* Config of 40 bytes, layers of 11 and 23: the size is 34. */
    char cfg[ECRMOCK_DIGEST_SIZE], l1[ECRMOCK_DIGEST_SIZE], l2[ECRMOCK_DIGEST_SIZE];
    const char *config = "{\"architecture\":\"arm64\",\"os\":\"linux\"}   ";
    push_layer(m, "app", config, strlen(config), cfg);
    push_layer(m, "app", "eleven byte", 11, l1);
    push_layer(m, "app", "twenty-three bytes long", 23, l2);
    char mf[1024];
    snprintf(mf, sizeof mf,
             "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":{\"mediaType\":\"%s\",\"size\":%zu,\"digest\":\"%s\"},"
             "\"layers\":[{\"mediaType\":\"x\",\"size\":11,\"digest\":\"%s\"},{\"mediaType\":\"x\",\"size\":23,"
             "\"digest\":\"%s\"}]}",
             MT_DOCKER_V2, MT_DOCKER_CONFIG, strlen(config), cfg, l1, l2);
    char want[ECRMOCK_DIGEST_SIZE];
    sha256_digest(mf, strlen(mf), want);
    char *d = put_image(m, "app", mf, "v1");
    ecrmock_clock_advance(m, 5000, NULL);
    free(put_image(m, "app", mf, "latest"));
    assert_string_equal(d, want);
    char *untagged = new_image(m, "app", 9, NULL, NULL);

    json_t *det = describe(m, "app", d);
    assert_string_equal(STR(det, "registryId"), ACCOUNT);
    assert_string_equal(STR(det, "repositoryName"), "app");
    assert_string_equal(STR(det, "imageDigest"), want);
    json_t *tags = json_object_get(det, "imageTags");
    assert_int_equal(json_array_size(tags), 2);
    assert_string_equal(json_string_value(json_array_get(tags, 0)), "latest");
    assert_string_equal(json_string_value(json_array_get(tags, 1)), "v1");
    assert_true(json_is_integer(json_object_get(det, "imageSizeInBytes")));
    assert_int_equal(json_integer_value(json_object_get(det, "imageSizeInBytes")), 11 + 23);
    assert_true(json_is_number(json_object_get(det, "imagePushedAt")));
    assert_true(json_number_value(json_object_get(det, "imagePushedAt")) == 1717171717.123);
    assert_string_equal(STR(det, "imageManifestMediaType"), MT_DOCKER_V2);
    assert_string_equal(STR(det, "artifactMediaType"), MT_DOCKER_CONFIG);
    assert_string_equal(STR(det, "imageStatus"), "ACTIVE");
    assert_int_equal(json_object_size(det), 9);
    json_decref(det);

    det = describe(m, "app", untagged);
    assert_string_equal(STR(det, "imageDigest"), untagged);
    assert_null(json_object_get(det, "imageTags"));
    assert_true(json_number_value(json_object_get(det, "imagePushedAt")) == 1717171722.123);
    assert_int_equal(json_object_size(det), 8);
    json_decref(det);
    free(d), free(untagged);
}

static void test_describe_images_image_not_found(void **state)
{
    ecrmock *m = *state;
    char *d = image_v1(m);
    json_t *r = NULL;
    int st = call(m, &r, "DescribeImages", "{\"repositoryName\": \"app\", \"imageIds\": [{\"imageTag\": \"latest\"}]}");
    assert_image_not_found(st, &r, NULL, "latest", "app", ACCOUNT);
    /* One missing image fails the whole call, even beside one that exists. */
    char absent[ECRMOCK_DIGEST_SIZE];
    sha256_digest("no such manifest", 16, absent);
    st = call(m, &r, "DescribeImages",
              "{\"repositoryName\": \"app\", \"imageIds\": [{\"imageTag\": \"v1\"}, {\"imageDigest\": \"%s\"}]}", absent);
    assert_image_not_found(st, &r, absent, NULL, "app", ACCOUNT);
    free(d);
}

static void test_describe_images_by_ids(void **state)
{
    ecrmock *m = *state;
    fixture f;
    fixture_make(m, &f);
    json_t *r = NULL;
    /* Two tags and the digest of A, and C: two details, one per image. */
    assert_ok(call(m, &r, "DescribeImages",
                   "{\"repositoryName\": \"app\", \"imageIds\": [{\"imageTag\": \"a1\"}, {\"imageTag\": \"a3\"}, "
                   "{\"imageDigest\": \"%s\"}, {\"imageDigest\": \"%s\", \"imageTag\": \"c\"}]}",
                   f.a, f.c),
              r);
    json_t *details = json_object_get(r, "imageDetails");
    assert_int_equal(json_array_size(details), 2);
    assert_string_equal(STR(json_array_get(details, 0), "imageDigest"), f.a);
    assert_int_equal(json_array_size(json_object_get(json_array_get(details, 0), "imageTags")), 3);
    assert_string_equal(STR(json_array_get(details, 1), "imageDigest"), f.c);
    assert_null(json_object_get(r, "nextToken"));
    json_decref(r);
    fixture_free(&f);
}

static void test_describe_images_ids_with_paging_parameters(void **state)
{
    ecrmock *m = *state;
    fixture f;
    fixture_make(m, &f);
    json_t *r = NULL;
    int st = call(m, &r, "DescribeImages",
                  "{\"repositoryName\": \"app\", \"imageIds\": [{\"imageTag\": \"c\"}], \"maxResults\": 10}");
    assert_fail_msg(st, &r, "InvalidParameterException",
                    "Invalid parameter at 'maxResults' failed to satisfy constraint: 'maxResults "
                    "cannot be specified with imageIds'");
    json_t *p = page(m, "DescribeImages", "app", NULL, 1, NULL);
    st = call(m, &r, "DescribeImages",
              "{\"repositoryName\": \"app\", \"imageIds\": [{\"imageTag\": \"c\"}], \"nextToken\": \"%s\"}",
              STR(p, "nextToken"));
    json_decref(p);
    assert_fail_msg(st, &r, "InvalidParameterException",
                    "Invalid parameter at 'nextToken' failed to satisfy constraint: 'nextToken "
                    "cannot be specified with imageIds'");
    fixture_free(&f);
}

static void test_describe_images_paging_one_detail_per_image(void **state)
{
    ecrmock *m = *state;
    fixture f;
    fixture_make(m, &f);
    char got[4096], want[4096];
    /* sort the digests like walk() does */
    char *ds[] = {f.a, f.b, f.c, f.d};
    qsort(ds, 4, sizeof *ds, cmp_str);
    snprintf(want, sizeof want, "%s %s %s %s", ds[0], ds[1], ds[2], ds[3]);
    assert_int_equal(walk(m, "DescribeImages", "app", NULL, 1, got, sizeof got), 4);
    assert_string_equal(got, want);
    assert_int_equal(walk(m, "DescribeImages", "app", NULL, 3, got, sizeof got), 2);
    assert_string_equal(got, want);
    assert_int_equal(walk(m, "DescribeImages", "app", NULL, 0, got, sizeof got), 1);
    assert_string_equal(got, want);

    /* Filters. */
    char *tagged[] = {f.a, f.c}, *untagged[] = {f.b, f.d};
    qsort(tagged, 2, sizeof *tagged, cmp_str);
    qsort(untagged, 2, sizeof *untagged, cmp_str);
    walk(m, "DescribeImages", "app", "{\"tagStatus\": \"TAGGED\"}", 1, got, sizeof got);
    snprintf(want, sizeof want, "%s %s", tagged[0], tagged[1]);
    assert_string_equal(got, want);
    walk(m, "DescribeImages", "app", "{\"tagStatus\": \"UNTAGGED\"}", 0, got, sizeof got);
    snprintf(want, sizeof want, "%s %s", untagged[0], untagged[1]);
    assert_string_equal(got, want);
    walk(m, "DescribeImages", "app", "{\"tagStatus\": \"ANY\"}", 2, got, sizeof got);
    snprintf(want, sizeof want, "%s %s %s %s", ds[0], ds[1], ds[2], ds[3]);
    assert_string_equal(got, want);

    /* Changes between pages: the image the token names goes, a new one comes. */
    json_t *r = page(m, "DescribeImages", "app", NULL, 1, NULL);
    char *token = strdup(STR(r, "nextToken"));
    assert_string_equal(STR(json_array_get(json_object_get(r, "imageDetails"), 0), "imageDigest"), f.a);
    json_decref(r);
    json_decref(delete_ids(m, "app", "[{\"imageDigest\": \"%s\"}]", f.b));
    char *e = new_image(m, "app", 5, "e", NULL);
    char **seen = NULL;
    size_t n = walk_rest(m, "DescribeImages", 1, token, &seen, 0);
    assert_int_equal(n, 3);
    assert_string_equal(seen[0], f.c);
    assert_string_equal(seen[1], f.d);
    assert_string_equal(seen[2], e);
    free_items(seen, n);
    free(e);
    fixture_free(&f);
}

static void test_describe_images_bad_token(void **state)
{
    bad_tokens(*state, "DescribeImages");
}

static void test_describe_images_token_with_other_filter_refused(void **state)
{
    token_scopes(*state, "DescribeImages", "ListImages");
}

static void test_describe_images_max_results_bounds(void **state)
{
    max_results_bounds(*state, "DescribeImages");
}

static void test_describe_images_default_page_100(void **state)
{
    default_page(*state, "DescribeImages");
}

static void test_describe_images_repository_not_found(void **state)
{
    listing_repository_not_found(*state, "DescribeImages");
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup_mock, teardown_mock)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_batch_get_image_by_tag),
        T(test_batch_get_image_by_digest_one_entry_per_tag),
        T(test_batch_get_image_by_digest_and_tag),
        T(test_batch_get_image_failures),
        T(test_batch_get_image_accepted_media_types),
        T(test_batch_get_image_records_pull_time),
        T(test_batch_get_image_too_many_ids),
        T(test_batch_get_image_repository_not_found),
        T(test_batch_delete_image_by_tag_keeps_other_tags),
        T(test_batch_delete_image_all_tags_in_one_call),
        T(test_batch_delete_image_by_digest_removes_all_tags),
        T(test_batch_delete_image_failures),
        T(test_batch_delete_image_referenced_by_manifest_list),
        T(test_batch_delete_image_same_image_twice),
        T(test_batch_delete_image_repository_not_found),
        T(test_list_images_one_entry_per_tag),
        T(test_list_images_filter_tag_status),
        T(test_list_images_paging_visits_every_entry_once),
        T(test_list_images_paging_survives_changes),
        T(test_list_images_bad_token),
        T(test_list_images_token_with_other_filter_refused),
        T(test_list_images_max_results_bounds),
        T(test_list_images_default_page_100),
        T(test_list_images_repository_not_found),
        T(test_describe_images_every_field),
        T(test_describe_images_image_not_found),
        T(test_describe_images_by_ids),
        T(test_describe_images_ids_with_paging_parameters),
        T(test_describe_images_paging_one_detail_per_image),
        T(test_describe_images_bad_token),
        T(test_describe_images_token_with_other_filter_refused),
        T(test_describe_images_max_results_bounds),
        T(test_describe_images_default_page_100),
        T(test_describe_images_repository_not_found),
    };
    return cmocka_run_group_tests_name("image_queries", tests, NULL, NULL);
}
