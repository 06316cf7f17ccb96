/*
 * Model-driven validation, as a table: one row per case, each its own test
 * on a fresh instance that holds one repository ("repo") with one tagged
 * image.  A row gives the action, the request as JSON text, and the exact
 * status, __type and message ECR answers.  After a failed call the
 * instance's state (repositories, images, tags) must be what it was.
 *
 * In a request text, "@N@" stands for N letters 'a' and "@N:text@" for N
 * copies of `text` separated by commas, so that boundary cases stay short.
 */
#include "helpers.h"
#include "fronts/fronts.h"

typedef struct vcase {
    const char *action;
    const char *request;
    int status;
    const char *type;    /* "" for a success */
    const char *message; /* NULL for a success */
} vcase;

#define IP "InvalidParameterException"
#define SER "SerializationException"
#define AT(member, rule) "Invalid parameter at '" member "' failed to satisfy constraint: '" rule "'"
#define NOT_NULL "Member must not be null"
#define REPO_RE "must satisfy regular expression '[a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*(\\/[a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*)*'"
#define UPLOAD_RE "must satisfy regular expression '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}'"
#define UUID "0123abcd-0000-4000-8000-00000000abcd"
#define DIGEST "sha256:0000000000000000000000000000000000000000000000000000000000000000"
#define MUTABILITY_SET "Member must satisfy enum value set: [MUTABLE, IMMUTABLE, IMMUTABLE_WITH_EXCLUSION, MUTABLE_WITH_EXCLUSION]"

/* X(test name, action, request, status, __type, message) */
#define VCASES(X)                                                                                                   \
    /* ---- required members ---- */                                                                                \
    X(create_repository_missing_name, "CreateRepository", "{}", 400, IP, AT("repositoryName", NOT_NULL))            \
    X(create_repository_member_names_case_sensitive, "CreateRepository", "{\"RepositoryName\":\"abc\"}", 400, IP,  \
      AT("repositoryName", NOT_NULL))                                                                               \
    X(put_image_missing_manifest, "PutImage", "{\"repositoryName\":\"repo\",\"imageTag\":\"v2\"}", 400, IP,         \
      AT("imageManifest", NOT_NULL))                                                                                \
    X(upload_layer_part_missing_blob, "UploadLayerPart",                                                            \
      "{\"repositoryName\":\"repo\",\"uploadId\":\"" UUID "\",\"partFirstByte\":0,\"partLastByte\":0}", 400, IP,      \
      AT("layerPartBlob", NOT_NULL))                                                                                \
    X(batch_delete_image_missing_image_ids, "BatchDeleteImage", "{\"repositoryName\":\"repo\"}", 400, IP,           \
      AT("imageIds", NOT_NULL))                                                                                     \
    X(complete_layer_upload_missing_digests, "CompleteLayerUpload",                                                 \
      "{\"repositoryName\":\"repo\",\"uploadId\":\"" UUID "\"}", 400, IP, AT("layerDigests", NOT_NULL))              \
    /* ---- JSON null is an absent member ---- */                                                                   \
    X(create_repository_null_name, "CreateRepository", "{\"repositoryName\":null}", 400, IP,                        \
      AT("repositoryName", NOT_NULL))                                                                               \
    X(create_repository_null_optionals_ok, "CreateRepository",                                                      \
      "{\"repositoryName\":\"nulls\",\"registryId\":null,\"imageTagMutability\":null,\"tags\":null,"                \
      "\"encryptionConfiguration\":null}",                                                                          \
      200, "", NULL)                                                                                                \
    X(list_images_null_paging_ok, "ListImages", "{\"repositoryName\":\"repo\",\"maxResults\":null,\"nextToken\":null}", \
      200, "", NULL)                                                                                                \
    /* ---- repositoryName: length 2..256 and pattern ---- */                                                       \
    X(create_repository_name_too_short, "CreateRepository", "{\"repositoryName\":\"a\"}", 400, IP,                   \
      AT("repositoryName", "must have length greater than or equal to 2"))                                          \
    X(create_repository_name_min_ok, "CreateRepository", "{\"repositoryName\":\"ab\"}", 200, "", NULL)               \
    X(create_repository_name_too_long, "CreateRepository", "{\"repositoryName\":\"@257@\"}", 400, IP,                \
      AT("repositoryName", "must have length less than or equal to 256"))                                           \
    X(create_repository_name_max_ok, "CreateRepository", "{\"repositoryName\":\"@256@\"}", 200, "", NULL)            \
    X(create_repository_name_upper_case, "CreateRepository", "{\"repositoryName\":\"Repo\"}", 400, IP,               \
      AT("repositoryName", REPO_RE))                                                                                \
    X(create_repository_name_leading_dash, "CreateRepository", "{\"repositoryName\":\"-repo\"}", 400, IP,            \
      AT("repositoryName", REPO_RE))                                                                                \
    X(create_repository_name_trailing_slash, "CreateRepository", "{\"repositoryName\":\"team/\"}", 400, IP,          \
      AT("repositoryName", REPO_RE))                                                                                \
    X(create_repository_name_namespaced_ok, "CreateRepository",                                                     \
      "{\"repositoryName\":\"team-a/web__app/v1.2\"}", 200, "", NULL)                                               \
    X(describe_images_name_pattern_before_lookup, "DescribeImages", "{\"repositoryName\":\"No Such\"}", 400, IP,     \
      AT("repositoryName", REPO_RE))                                                                                \
    /* ---- registryId ---- */                                                                                      \
    X(create_repository_registry_id_short, "CreateRepository",                                                      \
      "{\"registryId\":\"12345\",\"repositoryName\":\"abc\"}", 400, IP,                                             \
      AT("registryId", "must satisfy regular expression '[0-9]{12}'"))                                              \
    X(create_repository_registry_id_13_digits, "CreateRepository",                                                  \
      "{\"registryId\":\"1234567890123\",\"repositoryName\":\"abc\"}", 400, IP,                                     \
      AT("registryId", "must satisfy regular expression '[0-9]{12}'"))                                              \
    X(list_images_registry_id_letter, "ListImages", "{\"registryId\":\"12345678901a\",\"repositoryName\":\"repo\"}", \
      400, IP, AT("registryId", "must satisfy regular expression '[0-9]{12}'"))                                     \
    X(describe_repositories_other_registry_ok, "DescribeRepositories", "{\"registryId\":\"210987654321\"}", 200, "", \
      NULL)                                                                                                         \
    X(get_authorization_token_registry_ids_member, "GetAuthorizationToken", "{\"registryIds\":[\"123\"]}", 400, IP,  \
      AT("registryIds", "Member must satisfy constraint: [Member must satisfy regular expression pattern: "         \
                        "[0-9]{12}]"))                                                                              \
    /* ---- imageTag: length 1..300 ---- */                                                                         \
    X(put_image_tag_empty, "PutImage", "{\"repositoryName\":\"repo\",\"imageManifest\":\"{}\",\"imageTag\":\"\"}",   \
      400, IP, AT("imageTag", "must have length greater than or equal to 1"))                                       \
    X(put_image_tag_301, "PutImage", "{\"repositoryName\":\"repo\",\"imageManifest\":\"{}\",\"imageTag\":\"@301@\"}", \
      400, IP, AT("imageTag", "must have length less than or equal to 300"))                                        \
    X(batch_delete_image_tag_300_ok, "BatchDeleteImage",                                                            \
      "{\"repositoryName\":\"repo\",\"imageIds\":[{\"imageTag\":\"@300@\"}]}", 200, "", NULL)                        \
    X(batch_get_image_nested_tag_empty, "BatchGetImage",                                                            \
      "{\"repositoryName\":\"repo\",\"imageIds\":[{\"imageTag\":\"v1\"},{\"imageTag\":\"\"}]}", 400, IP,             \
      AT("imageIds.2.member.imageTag", "must have length greater than or equal to 1"))                              \
    /* ---- maxResults: 1..1000 ---- */                                                                             \
    X(list_images_max_results_0, "ListImages", "{\"repositoryName\":\"repo\",\"maxResults\":0}", 400, IP,           \
      AT("maxResults", "Member must have value greater than or equal to 1"))                                        \
    X(list_images_max_results_negative, "ListImages", "{\"repositoryName\":\"repo\",\"maxResults\":-5}", 400, IP,   \
      AT("maxResults", "Member must have value greater than or equal to 1"))                                        \
    X(list_images_max_results_1001, "ListImages", "{\"repositoryName\":\"repo\",\"maxResults\":1001}", 400, IP,     \
      AT("maxResults", "Member must have value less than or equal to 1000"))                                        \
    X(list_images_max_results_1000_ok, "ListImages", "{\"repositoryName\":\"repo\",\"maxResults\":1000}", 200, "",  \
      NULL)                                                                                                         \
    X(describe_repositories_max_results_0, "DescribeRepositories", "{\"maxResults\":0}", 400, IP,                   \
      AT("maxResults", "Member must have value greater than or equal to 1"))                                        \
    X(describe_images_max_results_1001, "DescribeImages", "{\"repositoryName\":\"repo\",\"maxResults\":1001}", 400, \
      IP, AT("maxResults", "Member must have value less than or equal to 1000"))                                    \
    /* ---- enums ---- */                                                                                           \
    X(create_repository_mutability_not_in_enum, "CreateRepository",                                                 \
      "{\"repositoryName\":\"abc\",\"imageTagMutability\":\"SOMETIMES\"}", 400, IP,                                 \
      AT("imageTagMutability", MUTABILITY_SET))                                                                     \
    X(create_repository_mutability_enum_case_sensitive, "CreateRepository",                                         \
      "{\"repositoryName\":\"abc\",\"imageTagMutability\":\"mutable\"}", 400, IP,                                   \
      AT("imageTagMutability", MUTABILITY_SET))                                                                     \
    X(create_repository_mutability_immutable_ok, "CreateRepository",                                                \
      "{\"repositoryName\":\"abc\",\"imageTagMutability\":\"IMMUTABLE\"}", 200, "", NULL)                           \
    /* ---- list sizes ---- */                                                                                      \
    X(batch_delete_image_ids_empty, "BatchDeleteImage", "{\"repositoryName\":\"repo\",\"imageIds\":[]}", 400, IP,   \
      AT("imageIds", "Member must have length greater than or equal to 1"))                                         \
    X(batch_delete_image_ids_101, "BatchDeleteImage",                                                               \
      "{\"repositoryName\":\"repo\",\"imageIds\":[@101:{\"imageTag\":\"v1\"}@]}", 400, IP,                           \
      AT("imageIds", "Member must have length less than or equal to 100"))                                          \
    X(batch_delete_image_ids_100_ok, "BatchDeleteImage",                                                            \
      "{\"repositoryName\":\"repo\",\"imageIds\":[@100:{\"imageTag\":\"nope\"}@]}", 200, "", NULL)                   \
    X(batch_get_image_ids_empty, "BatchGetImage", "{\"repositoryName\":\"repo\",\"imageIds\":[]}", 400, IP,         \
      AT("imageIds", "Member must have length greater than or equal to 1"))                                         \
    X(batch_get_image_ids_101, "BatchGetImage",                                                                     \
      "{\"repositoryName\":\"repo\",\"imageIds\":[@101:{\"imageTag\":\"v1\"}@]}", 400, IP,                           \
      AT("imageIds", "Member must have length less than or equal to 100"))                                          \
    X(complete_layer_upload_digests_empty, "CompleteLayerUpload",                                                   \
      "{\"repositoryName\":\"repo\",\"uploadId\":\"" UUID "\",\"layerDigests\":[]}", 400, IP,                       \
      AT("layerDigests", "Member must have length greater than or equal to 1"))                                     \
    X(complete_layer_upload_digest_member_pattern, "CompleteLayerUpload",                                           \
      "{\"repositoryName\":\"repo\",\"uploadId\":\"" UUID "\",\"layerDigests\":[\"" DIGEST "\",\"bad\"]}", 400, IP,  \
      AT("layerDigests", "Member must satisfy constraint: [Member must satisfy regular expression pattern: "        \
                         "[a-zA-Z0-9-_+.]+:[a-fA-F0-9]+]"))                                                         \
    /* ---- nested members ---- */                                                                                  \
    X(create_repository_encryption_type_not_in_enum, "CreateRepository",                                            \
      "{\"repositoryName\":\"abc\",\"encryptionConfiguration\":{\"encryptionType\":\"ROT13\"}}", 400, IP,           \
      AT("encryptionConfiguration.encryptionType", "Member must satisfy enum value set: [AES256, KMS, KMS_DSSE]"))   \
    X(create_repository_encryption_type_missing, "CreateRepository",                                                \
      "{\"repositoryName\":\"abc\",\"encryptionConfiguration\":{}}", 400, IP,                                       \
      AT("encryptionConfiguration.encryptionType", NOT_NULL))                                                       \
    X(create_repository_tag_value_missing, "CreateRepository",                                                      \
      "{\"repositoryName\":\"abc\",\"tags\":[{\"Key\":\"team\",\"Value\":\"a\"},{\"Key\":\"env\"}]}", 400, IP,       \
      AT("tags.2.member.Value", NOT_NULL))                                                                          \
    X(create_repository_scanning_empty_ok, "CreateRepository",                                                      \
      "{\"repositoryName\":\"abc\",\"imageScanningConfiguration\":{}}", 200, "", NULL)                              \
    /* ---- uploadId ---- */                                                                                        \
    X(upload_layer_part_upload_id_pattern, "UploadLayerPart",                                                       \
      "{\"repositoryName\":\"repo\",\"uploadId\":\"not-an-upload\",\"partFirstByte\":0,\"partLastByte\":0,"         \
      "\"layerPartBlob\":\"AA==\"}",                                                                                \
      400, IP, AT("uploadId", UPLOAD_RE))                                                                           \
    X(complete_layer_upload_upload_id_one_short, "CompleteLayerUpload",                                             \
      "{\"repositoryName\":\"repo\",\"uploadId\":\"0123abcd-0000-4000-8000-00000000abc\",\"layerDigests\":[\""      \
      DIGEST "\"]}",                                                                                                \
      400, IP, AT("uploadId", UPLOAD_RE))                                                                           \
    X(upload_layer_part_upload_id_upper_hex_valid, "UploadLayerPart",                                               \
      "{\"repositoryName\":\"repo\",\"uploadId\":\"0123ABCD-0000-4000-8000-00000000ABCD\",\"partFirstByte\":0,"      \
      "\"partLastByte\":0,\"layerPartBlob\":\"AA==\"}",                                                             \
      400, "UploadNotFoundException",                                                                               \
      "The upload with id '0123ABCD-0000-4000-8000-00000000ABCD' does not exist in the repository with name "       \
      "'repo' in registry with id '123456789012'")                                                                  \
    X(upload_layer_part_first_byte_negative, "UploadLayerPart",                                                     \
      "{\"repositoryName\":\"repo\",\"uploadId\":\"" UUID "\",\"partFirstByte\":-1,\"partLastByte\":0,"              \
      "\"layerPartBlob\":\"AA==\"}",                                                                                \
      400, IP, AT("partFirstByte", "Member must have value greater than or equal to 0"))                            \
    /* ---- unknown members are ignored ---- */                                                                     \
    X(create_repository_unknown_members_ignored, "CreateRepository",                                                \
      "{\"repositoryName\":\"extra\",\"colour\":\"blue\",\"nested\":{\"deep\":[1,null,{}]},\"maxResults\":\"x\"}",  \
      200, "", NULL)                                                                                                \
    X(list_images_unknown_members_do_not_hide_errors, "ListImages",                                                 \
      "{\"repositoryName\":\"repo\",\"whatever\":1,\"maxResults\":0}", 400, IP,                                     \
      AT("maxResults", "Member must have value greater than or equal to 1"))                                        \
    /* ---- imageManifest: length 1..4,194,304 characters ---- */                                                   \
    X(put_image_manifest_empty, "PutImage", "{\"repositoryName\":\"repo\",\"imageManifest\":\"\"}", 400, IP,         \
      AT("imageManifest", "must have length greater than or equal to 1"))                                           \
    X(put_image_manifest_4194305, "PutImage", "{\"repositoryName\":\"repo\",\"imageManifest\":\"@4194305@\"}", 400,  \
      IP, AT("imageManifest", "must have length less than or equal to 4194304"))                                    \
    X(put_image_manifest_4194304_passes_validation, "PutImage",                                                     \
      "{\"repositoryName\":\"repo\",\"imageManifest\":\"@4194304@\"}", 400, IP,                                     \
      AT("ImageManifest", "Invalid JSON syntax"))                                                                   \
    /* ---- type mismatches come before constraints ---- */                                                         \
    X(create_repository_type_before_constraints, "CreateRepository",                                                \
      "{\"repositoryName\":\"A\",\"imageTagMutability\":7}", 400, SER,                                              \
      "NUMBER_VALUE can not be converted to a String")

/* Expands "@N@" and "@N:text@" (see the top of the file).  Returns a new
 * malloc'd string. */
static char *expand(const char *tmpl)
{
    size_t cap = strlen(tmpl) + 1, len = 0;
    const char *p;
    for (p = tmpl; (p = strchr(p, '@')) != NULL;) {
        char *end;
        unsigned long n = strtoul(p + 1, &end, 10);
        const char *close = strchr(end, '@');
        assert_non_null(close);
        cap += n * ((*end == ':' ? (size_t)(close - end) : 1) + 1);
        p = close + 1;
    }
    char *out = malloc(cap);
    assert_non_null(out);
    for (p = tmpl; *p;) {
        if (*p != '@') {
            out[len++] = *p++;
            continue;
        }
        char *end;
        unsigned long n = strtoul(p + 1, &end, 10);
        const char *close = strchr(end, '@');
        if (*end == ':') {
            size_t tl = (size_t)(close - end - 1);
            for (unsigned long i = 0; i < n; i++) {
                if (i)
                    out[len++] = ',';
                memcpy(out + len, end + 1, tl);
                len += tl;
            }
        } else {
            memset(out + len, 'a', n);
            len += n;
        }
        p = close + 1;
    }
    out[len] = '\0';
    assert_true(len < cap);
    return out;
}

/* What a failed call must leave alone: every repository, image and tag. */
static char *snapshot(ecrmock *m)
{
    json_t *repos = NULL, *images = NULL;
    assert_ok(call(m, &repos, "DescribeRepositories", "{}"), repos);
    assert_ok(call(m, &images, "DescribeImages", "{\"repositoryName\":\"repo\"}"), images);
    json_t *all = json_pack("{s:o, s:o}", "repositories", repos, "images", images);
    char *text = json_dumps(all, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(all);
    assert_non_null(text);
    return text;
}

static void run_case(ecrmock *m, const vcase *vc)
{
    create_repo(m, "repo");
    char *digest = push_new_image(m, "repo", 1, 1, "v1");
    char *before = snapshot(m);

    char *text = expand(vc->request);
    json_error_t err;
    json_t *req = json_loads(text, 0, &err);
    if (!req)
        fail_msg("row request is not JSON: %s", err.text);
    free(text);
    json_t *resp = NULL;
    int status = ecrmock_call(m, vc->action, req, &resp);
    json_decref(req);
    assert_non_null(resp);
    if (status != vc->status || strcmp(err_type(resp), vc->type) != 0)
        fail_msg("%s: expected %d %s, got %d %s: %s", vc->action, vc->status, vc->type, status, err_type(resp),
                 err_message(resp));
    if (vc->message) {
        assert_string_equal(err_message(resp), vc->message);
        /* An error document carries __type and its message, nothing else. */
        assert_int_equal(json_object_size(resp), 2);
    }
    json_decref(resp);

    if (status != 200) {
        char *after = snapshot(m);
        assert_string_equal(after, before);
        free(after);
        /* Still the one image, still tagged v1. */
        json_t *r = NULL;
        assert_ok(call(m, &r, "BatchGetImage", "{\"repositoryName\":\"repo\",\"imageIds\":[{\"imageTag\":\"v1\"}]}"),
                  r);
        assert_int_equal(json_array_size(json_object_get(r, "images")), 1);
        assert_string_equal(json_string_value(json_object_get(
                                json_object_get(json_array_get(json_object_get(r, "images"), 0), "imageId"),
                                "imageDigest")),
                            digest);
        json_decref(r);
    }
    free(before);
    free(digest);
}

#define VCASE_ROW(name, action, request, status, type, message) \
    static const vcase row_##name = {action, request, status, type, message};
VCASES(VCASE_ROW)
#undef VCASE_ROW

#define VCASE_TEST(name, ...)                 \
    static void test_##name(void **state)     \
    {                                         \
        run_case(*state, &row_##name);        \
    }
VCASES(VCASE_TEST)
#undef VCASE_TEST

/* ---- beyond the table -------------------------------------------------------- */

/* A real manifest padded with blanks to exactly 4,194,304 characters is
 * accepted, stored byte for byte and digested as sent. */
static void test_put_image_manifest_at_limit_accepted(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "repo");
    char *manifest = make_manifest(m, "repo", 1, 7);
    size_t n = strlen(manifest);
    const size_t limit = 4194304;
    char *big = malloc(limit + 1);
    assert_non_null(big);
    memcpy(big, manifest, n);
    memset(big + n, ' ', limit - n);
    big[limit] = '\0';
    free(manifest);

    char want[ECRMOCK_DIGEST_SIZE];
    sha256_digest(big, limit, want);

    char *digest = put_image(m, "repo", big, "big");
    assert_string_equal(digest, want);
    free(digest);

    json_t *r = NULL;
    assert_ok(call(m, &r, "BatchGetImage", "{\"repositoryName\":\"repo\",\"imageIds\":[{\"imageTag\":\"big\"}]}"), r);
    json_t *got = json_object_get(json_array_get(json_object_get(r, "images"), 0), "imageManifest");
    assert_int_equal(json_string_length(got), limit);
    assert_memory_equal(json_string_value(got), big, limit);
    json_decref(r);

    /* One more character is refused by validation, before the manifest is read. */
    char *bigger = malloc(limit + 2);
    assert_non_null(bigger);
    memcpy(bigger, big, limit);
    bigger[limit] = ' ';
    bigger[limit + 1] = '\0';
    json_t *req = json_pack("{s:s, s:s, s:s}", "repositoryName", "repo", "imageManifest", bigger, "imageTag", "bigger");
    assert_int_equal(ecrmock_call(m, "PutImage", req, &r), 400);
    assert_string_equal(err_type(r), "InvalidParameterException");
    assert_string_equal(err_message(r), AT("imageManifest", "must have length less than or equal to 4194304"));
    json_decref(r);
    json_decref(req);
    assert_int_equal(call(m, &r, "BatchGetImage", "{\"repositoryName\":\"repo\",\"imageIds\":[{\"imageTag\":\"bigger\"}]}"),
                     200);
    assert_int_equal(json_array_size(json_object_get(r, "images")), 0);
    json_decref(r);
    free(big);
    free(bigger);
}

/* Lengths count characters, not bytes: 300 two-byte characters are a
 * valid tag, 301 are not. */
static void test_put_image_tag_length_in_characters(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "repo");
    char *manifest = make_manifest(m, "repo", 1, 3);
    char tag[2 * 301 + 1];
    for (int i = 0; i < 301; i++)
        memcpy(tag + 2 * i, "\xc3\xa9", 2); /* U+00E9 */
    tag[2 * 301] = '\0';
    json_t *req = json_pack("{s:s, s:s, s:s}", "repositoryName", "repo", "imageManifest", manifest, "imageTag", tag);
    json_t *r = NULL;
    assert_int_equal(ecrmock_call(m, "PutImage", req, &r), 400);
    assert_string_equal(err_message(r), AT("imageTag", "must have length less than or equal to 300"));
    json_decref(r);
    json_decref(req);

    tag[2 * 300] = '\0';
    req = json_pack("{s:s, s:s, s:s}", "repositoryName", "repo", "imageManifest", manifest, "imageTag", tag);
    assert_ok(ecrmock_call(m, "PutImage", req, &r), r);
    json_decref(r);
    json_decref(req);
    free(manifest);
}

/* Null members take their defaults, exactly as if they were absent; the
 * caller's request is not modified. */
static void test_create_repository_null_members_are_absent(void **state)
{
    ecrmock *m = *state;
    json_t *a = NULL, *b = NULL;
    json_t *req = json_loads("{\"repositoryName\":\"nulls\",\"registryId\":null,\"imageTagMutability\":null,"
                             "\"tags\":null,\"encryptionConfiguration\":null,"
                             "\"imageScanningConfiguration\":{\"scanOnPush\":null}}",
                             0, NULL);
    assert_non_null(req);
    char *before = json_dumps(req, JSON_COMPACT);
    assert_ok(ecrmock_call(m, "CreateRepository", req, &a), a);
    char *after = json_dumps(req, JSON_COMPACT);
    assert_string_equal(after, before);
    free(before);
    free(after);
    json_decref(req);
    assert_ok(call(m, &b, "CreateRepository", "{\"repositoryName\":\"absent\"}"), b);
    json_t *ra = json_object_get(a, "repository"), *rb = json_object_get(b, "repository");
    assert_string_equal(json_string_value(json_object_get(ra, "imageTagMutability")), "MUTABLE");
    const char *keys[] = {"registryId", "imageTagMutability", "imageScanningConfiguration", "encryptionConfiguration"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        assert_non_null(json_object_get(ra, keys[i]));
        assert_true(json_equal(json_object_get(ra, keys[i]), json_object_get(rb, keys[i])));
    }
    assert_int_equal(json_object_size(ra), json_object_size(rb));
    json_decref(a);
    json_decref(b);
}

/* A failed call names the request member it is about, as a JSON path (the
 * fixture loader points at it); "" when the error names none. */
static void expect_member(ecrmock *m, const char *action, const char *request, const char *type, const char *member)
{
    json_t *req = json_loads(request, 0, NULL), *resp = NULL;
    assert_non_null(req);
    char got[EM_MEMBER_SIZE] = "unset";
    int status = em_dispatch_member(m, action, req, &resp, got);
    json_decref(req);
    assert_true(status >= 400);
    assert_string_equal(json_string_value(json_object_get(resp, "__type")), type);
    assert_string_equal(got, member);
    json_decref(resp);
}

static void test_failing_member(void **state)
{
    ecrmock *m = *state;
    json_t *r = NULL;
    assert_ok(call(m, &r, "CreateRepository", "{\"repositoryName\":\"repo\"}"), r);
    json_decref(r);
    /* validation: a constraint, a required member, a type, a list's item, a nested list's member */
    expect_member(m, "CreateRepository", "{\"repositoryName\":\"A\"}", IP, "$.repositoryName");
    expect_member(m, "CreateRepository", "{}", IP, "$.repositoryName");
    expect_member(m, "CreateRepository", "{\"repositoryName\":5}", SER, "$.repositoryName");
    expect_member(m, "CreateRepository", "{\"repositoryName\":\"rr\",\"encryptionConfiguration\":{\"encryptionType\":1}}",
                  SER, "$.encryptionConfiguration.encryptionType");
    expect_member(m, "DescribeRepositories", "{\"repositoryNames\":[\"ok\",\"BAD\"]}", IP, "$.repositoryNames[1]");
    expect_member(m, "PutReplicationConfiguration",
                  "{\"replicationConfiguration\":{\"rules\":[{\"destinations\":[{\"region\":\"eu-west-1\","
                  "\"registryId\":\"123456789012\"}]},{\"destinations\":[]}]}}",
                  IP, "$.replicationConfiguration.rules[1].destinations");
    /* an area's check: ECR's text names "PolicyText", the member is policyText */
    expect_member(m, "SetRepositoryPolicy", "{\"repositoryName\":\"repo\",\"policyText\":\"{\"}", IP, "$.policyText");
    expect_member(m, "CreateRepository",
                  "{\"repositoryName\":\"kk\",\"encryptionConfiguration\":{\"encryptionType\":\"AES256\",\"kmsKey\":\"x\"}}",
                  IP, "$.encryptionConfiguration.kmsKey");
    expect_member(m, "CreateRepository", "{\"repositoryName\":\"tt\",\"tags\":[{\"Key\":\"aws:x\",\"Value\":\"v\"}]}",
                  "InvalidTagParameterException", "$.tags");
    /* an error about no member */
    expect_member(m, "DescribeRepositories", "{\"repositoryNames\":[\"none\"]}", "RepositoryNotFoundException", "");
}

/* core.h's tables: every text once, each message an error of the list. */
static void test_error_texts_once(void **state)
{
    (void)state;
    for (int i = 0; i < EM_MSG__COUNT; i++) {
        assert_non_null(em_message_format((em_msg)i));
        /* two texts are no error's: a validation's failure, and an injected error's of any name */
        bool any = i == EM_MSG_UPSTREAM_AUTHENTICATION_FAILED || i == EM_MSG_INJECTED_OTHER;
        assert_non_null(ecrmock_error_name(em_message_error((em_msg)i)));
        assert_int_equal(em_message_error((em_msg)i) == ECRMOCK_ERR_OK, any);
        for (int j = 0; j < i; j++)
            assert_string_not_equal(em_message_format((em_msg)i), em_message_format((em_msg)j));
    }
    for (int i = 0; i < EM_RULE__COUNT; i++)
        for (int j = 0; j < i; j++)
            assert_string_not_equal(em_rule_format((em_rule)i), em_rule_format((em_rule)j));
    assert_null(em_message_format(EM_MSG__COUNT));
    assert_null(em_rule_format(EM_RULE__COUNT));
    char path[EM_MEMBER_SIZE];
    em_member_path(path, sizeof path, "replicationConfiguration.rules.12.member.destinations");
    assert_string_equal(path, "$.replicationConfiguration.rules[11].destinations");
    em_member_path(path, sizeof path, "signingConfiguration.rules.1.member");
    assert_string_equal(path, "$.signingConfiguration.rules[0]");
    em_member_path(path, sizeof path, "tags.0.member"); /* Coral counts from 1: not an index */
    assert_string_equal(path, "$.tags.0.member");
    em_member_path(path, 8, "repositoryName");
    assert_string_equal(path, "$.repos");
}

int main(void)
{
#define VCASE_ENTRY(name, ...) cmocka_unit_test_setup_teardown(test_##name, setup_mock, teardown_mock),
    const struct CMUnitTest tests[] = {
        VCASES(VCASE_ENTRY)
        cmocka_unit_test_setup_teardown(test_put_image_manifest_at_limit_accepted, setup_mock, teardown_mock),
        cmocka_unit_test_setup_teardown(test_put_image_tag_length_in_characters, setup_mock, teardown_mock),
        cmocka_unit_test_setup_teardown(test_create_repository_null_members_are_absent, setup_mock, teardown_mock),
        cmocka_unit_test_setup_teardown(test_failing_member, setup_mock, teardown_mock),
        cmocka_unit_test(test_error_texts_once),
    };
#undef VCASE_ENTRY
    return cmocka_run_group_tests_name("validation", tests, NULL, NULL);
}
