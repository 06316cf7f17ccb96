/*
 * ECR's quotas, each lowered through ecrmock_options so a test can reach
 * it: the call just past the quota fails with ECR's error and changes
 * nothing; the call at the quota succeeds.  (Repositories, images and layer
 * parts per upload have their own tests in their areas' files.)
 */
#include "helpers.h"

#include "ecrmock_cmocka.h"

static ecrmock *with(void (*set)(ecrmock_options *))
{
    ecrmock_options o = ECRMOCK_OPTIONS_INIT;
    o.min_part_size = 1;
    set(&o);
    ecrmock *m = ecrmock_new(&o);
    assert_non_null(m);
    create_repo(m, "web");
    return m;
}

static void small_layer(ecrmock_options *o)
{
    o->max_layer_bytes = 10;
}

static void test_quota_layer_size(void **state)
{
    (void)state;
    ecrmock *m = with(small_layer);
    json_t *r = NULL;
    char id[64];
    initiate_upload(m, "web", id);
    /* 6 bytes, then 4 more: exactly 10 */
    call_ok(m, "UploadLayerPart", "{\"repositoryName\": \"web\", \"uploadId\": \"%s\", \"partFirstByte\": 0, "
                                  "\"partLastByte\": 5, \"layerPartBlob\": \"YWJjZGVm\"}", id);
    int st = call(m, &r, "UploadLayerPart", "{\"repositoryName\": \"web\", \"uploadId\": \"%s\", \"partFirstByte\": 6, "
                                            "\"partLastByte\": 10, \"layerPartBlob\": \"Z2hpams=\"}", id); /* 5 bytes */
    assert_fail_msg(st, &r, "LimitExceededException", "The layer exceeds the maximum layer size of 10 bytes");
    assert_ok(call(m, &r, "UploadLayerPart", "{\"repositoryName\": \"web\", \"uploadId\": \"%s\", \"partFirstByte\": 6, "
                                             "\"partLastByte\": 9, \"layerPartBlob\": \"Z2hpag==\"}", id), r); /* 4 bytes */
    json_decref(r);
    ecrmock_free(m);
}

static void few_layers(ecrmock_options *o)
{
    o->max_layers_per_image = 2;
}

static void test_quota_layers_per_image(void **state)
{
    (void)state;
    ecrmock *m = with(few_layers);
    char *two = make_manifest(m, "web", 2, 1), *three = make_manifest(m, "web", 3, 2);
    free(put_image(m, "web", two, "two"));
    json_t *req = json_pack("{s:s, s:s, s:s}", "repositoryName", "web", "imageManifest", three, "imageTag", "three");
    json_t *r = NULL;
    int st = ecrmock_call(m, "PutImage", req, &r);
    assert_int_equal(st, 400);
    assert_string_equal(err_message(r), "Invalid parameter at 'ImageManifest' failed to satisfy constraint: 'Limit on "
                                        "number of layers per image exceeded'");
    json_decref(r);
    json_decref(req);
    assert_ecrmock_image_absent(m, "web", "three");
    free(two);
    free(three);
    ecrmock_free(m);
}

static void few_tags(ecrmock_options *o)
{
    o->max_tags_per_image = 2;
}

static void test_quota_tags_per_image(void **state)
{
    (void)state;
    ecrmock *m = with(few_tags);
    char *manifest = make_manifest(m, "web", 1, 1);
    char *digest = put_image(m, "web", manifest, "a");
    free(put_image(m, "web", manifest, "b"));
    json_t *req = json_pack("{s:s, s:s, s:s}", "repositoryName", "web", "imageManifest", manifest, "imageTag", "c");
    json_t *r = NULL;
    int st = ecrmock_call(m, "PutImage", req, &r);
    assert_fail_msg(st, &r, "LimitExceededException",
                    "Adding tag 'c' to an image in the repository with name 'web' in registry with "
                    "id '123456789012' exceeds the maximum allowed number of tags per image which "
                    "is '2'");
    json_decref(req);
    assert_ecrmock_image_absent(m, "web", "c");
    assert_ecrmock_tag(m, "web", "b", digest);
    free(digest);
    free(manifest);
    ecrmock_free(m);
}

static void few_resource_tags(ecrmock_options *o)
{
    o->max_resource_tags = 2;
}

static void test_quota_resource_tags(void **state)
{
    (void)state;
    ecrmock *m = with(few_resource_tags);
    json_t *r = NULL;
    call_ok(m, "CreateRepository", "{\"repositoryName\": \"two\", \"tags\": [{\"Key\": \"a\", \"Value\": \"1\"}, "
                                   "{\"Key\": \"b\", \"Value\": \"2\"}]}");
    int st = call(m, &r, "CreateRepository", "{\"repositoryName\": \"three\", \"tags\": [{\"Key\": \"a\", \"Value\": \"1\"}, "
                                             "{\"Key\": \"b\", \"Value\": \"2\"}, {\"Key\": \"c\", \"Value\": \"3\"}]}");
    assert_fail_msg(st, &r, "TooManyTagsException", "A resource can have at most 2 tags; the request gives 3");
    st = call(m, &r, "TagResource", "{\"resourceArn\": \"arn:aws:ecr:us-east-1:123456789012:repository/two\", "
                                    "\"tags\": [{\"Key\": \"c\", \"Value\": \"3\"}]}");
    assert_int_equal(st, 400);
    assert_string_equal(err_message(r), "A resource can have at most 2 tags; with these the resource would have 3");
    json_decref(r);
    /* replacing a value is not one more tag */
    call_ok(m, "TagResource", "{\"resourceArn\": \"arn:aws:ecr:us-east-1:123456789012:repository/two\", "
                              "\"tags\": [{\"Key\": \"a\", \"Value\": \"changed\"}]}");
    ecrmock_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quota_layer_size),
        cmocka_unit_test(test_quota_layers_per_image),
        cmocka_unit_test(test_quota_tags_per_image),
        cmocka_unit_test(test_quota_resource_tags),
    };
    return cmocka_run_group_tests_name("quotas", tests, NULL, NULL);
}
