/*
 * ListImageReferrers: the artifacts pushed with a subject, described from
 * their own manifests (digest, media type, byte size, artifactType,
 * annotations, status), filtered by artifact type and status, paged, and
 * its errors.
 */
#include "helpers.h"

#define ACCOUNT "123456789012"
#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_OCI_EMPTY "application/vnd.oci.empty.v1+json"
#define SIG_TYPE "application/vnd.cncf.notary.signature"
#define SBOM_TYPE "application/spdx+json"

/* Pushes an OCI artifact manifest referring to `subject`; `type` goes in
 * artifactType (NULL: left out, the config's media type `config_mt` counts).
 * Returns the manifest text (malloc'd). */
static char *artifact(ecrmock *m, const char *repo, const char *subject, const char *type, const char *config_mt,
                      int salt, const char *annotation)
{
    char config[64], layer[64], cd[ECRMOCK_DIGEST_SIZE], ld[ECRMOCK_DIGEST_SIZE];
    int cn = snprintf(config, sizeof config, "{\"salt\":%d}", salt);
    int ln = snprintf(layer, sizeof layer, "payload %d", salt);
    push_layer(m, repo, config, (size_t)cn, cd);
    push_layer(m, repo, layer, (size_t)ln, ld);
    json_t *mf = json_pack("{s:i, s:s, s:{s:s, s:i, s:s}, s:[{s:s, s:i, s:s}], s:{s:s, s:i, s:s}}", "schemaVersion",
                           2, "mediaType", MT_OCI_MANIFEST, "config", "mediaType", config_mt, "size", cn, "digest", cd,
                           "layers", "mediaType", "application/octet-stream", "size", ln, "digest", ld, "subject",
                           "mediaType", MT_OCI_MANIFEST, "size", 100, "digest", subject);
    if (type)
        json_object_set_new(mf, "artifactType", json_string(type));
    if (annotation)
        json_object_set_new(mf, "annotations",
                            json_pack("{s:s, s:i}", "org.opencontainers.image.created", annotation, "not.a.string", 3));
    char *text = json_dumps(mf, JSON_COMPACT);
    json_decref(mf);
    return text;
}

static char *push_artifact(ecrmock *m, const char *repo, const char *subject, const char *type, int salt,
                           char **text_out)
{
    char *text = artifact(m, repo, subject, type, MT_OCI_EMPTY, salt, NULL);
    char *d = put_image(m, repo, text, NULL);
    if (text_out)
        *text_out = text;
    else
        free(text);
    return d;
}

/* The ListImageReferrers request for `subject` in `repo`, with the members
 * `extra` (JSON text, NULL: none). */
static void list_request(char *out, size_t cap, const char *repo, const char *subject, const char *extra)
{
    snprintf(out, cap, "{\"repositoryName\": \"%s\", \"subjectId\": {\"imageDigest\": \"%s\"}%s%s}", repo, subject,
             extra ? ", " : "", extra ? extra : "");
}

static int list(ecrmock *m, json_t **r, const char *repo, const char *subject, const char *extra)
{
    char request[1024];
    list_request(request, sizeof request, repo, subject, extra);
    return call(m, r, "ListImageReferrers", "%s", request);
}

/* Asserts that the listing (as list() asks it) succeeds with exactly the
 * referrers `want`: their digests, comma-joined, in order. */
static void assert_referrers(ecrmock *m, const char *repo, const char *subject, const char *extra, const char *want)
{
    char request[1024];
    list_request(request, sizeof request, repo, subject, extra);
    assert_listed(m, "ListImageReferrers", request, "referrers", "digest", want);
}

static void test_list_image_referrers_describes_each_artifact(void **state)
{
    ecrmock *m = *state;
    char *subject = new_repo_with_image(m, "app", 1, "v1");
    char *sig_text = artifact(m, "app", subject, SIG_TYPE, MT_OCI_EMPTY, 1, "2024-01-01T00:00:00Z");
    char *sig = put_image(m, "app", sig_text, NULL);
    /* No artifactType: the config's media type stands for it. */
    char *sbom_text = artifact(m, "app", subject, NULL, SBOM_TYPE, 2, NULL);
    char *sbom = put_image(m, "app", sbom_text, NULL);

    json_t *r = NULL;
    assert_ok(list(m, &r, "app", subject, NULL), r);
    json_t *refs = json_object_get(r, "referrers");
    assert_int_equal(json_array_size(refs), 2);
    assert_null(json_object_get(r, "nextToken"));

    json_t *a = json_array_get(refs, 0);
    char want[ECRMOCK_DIGEST_SIZE];
    sha256_digest(sig_text, strlen(sig_text), want);
    assert_string_equal(STR(a, "digest"), want);
    assert_string_equal(STR(a, "digest"), sig);
    assert_string_equal(STR(a, "mediaType"), MT_OCI_MANIFEST);
    assert_string_equal(STR(a, "artifactType"), SIG_TYPE);
    assert_int_equal(json_integer_value(json_object_get(a, "size")), (json_int_t)strlen(sig_text));
    assert_string_equal(STR(a, "artifactStatus"), "ACTIVE");
    json_t *ann = json_object_get(a, "annotations");
    assert_int_equal(json_object_size(ann), 1);
    assert_string_equal(STR(ann, "org.opencontainers.image.created"), "2024-01-01T00:00:00Z");

    json_t *b = json_array_get(refs, 1);
    assert_string_equal(STR(b, "digest"), sbom);
    assert_string_equal(STR(b, "artifactType"), SBOM_TYPE);
    assert_int_equal(json_integer_value(json_object_get(b, "size")), (json_int_t)strlen(sbom_text));
    assert_null(json_object_get(b, "annotations"));
    json_decref(r);

    /* The subject itself refers to nothing. */
    assert_ok(list(m, &r, "app", sig, NULL), r);
    assert_int_equal(json_array_size(json_object_get(r, "referrers")), 0);
    json_decref(r);
    free(sig_text);
    free(sbom_text);
    free(subject);
    free(sig);
    free(sbom);
}

static void test_list_image_referrers_only_that_subject_and_repository(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "app");
    create_repo(m, "other");
    char *s1 = push_new_image(m, "app", 1, 1, "one");
    char *s2 = push_new_image(m, "app", 1, 2, "two");
    char *r1 = push_artifact(m, "app", s1, SIG_TYPE, 10, NULL);
    char *r2 = push_artifact(m, "app", s2, SIG_TYPE, 11, NULL);
    /* In another repository, about the same subject digest. */
    char *r3 = push_artifact(m, "other", s1, SIG_TYPE, 12, NULL);
    assert_referrers(m, "app", s1, NULL, r1);
    assert_referrers(m, "other", s1, NULL, r3);
    /* A subject the repository does not hold still has its referrers. */
    assert_referrers(m, "other", s2, NULL, "");
    free(s1);
    free(s2);
    free(r1);
    free(r2);
    free(r3);
}

static void test_list_image_referrers_artifact_type_filter(void **state)
{
    ecrmock *m = *state;
    char *s = new_repo_with_image(m, "app", 1, "v1");
    char *sig = push_artifact(m, "app", s, SIG_TYPE, 1, NULL);
    char *sbom = push_artifact(m, "app", s, SBOM_TYPE, 2, NULL);
    char *att = push_artifact(m, "app", s, "application/vnd.in-toto+json", 3, NULL);
    char want[512];
    assert_referrers(m, "app", s, "\"filter\": {\"artifactTypes\": [\"" SBOM_TYPE "\"]}", sbom);
    snprintf(want, sizeof want, "%s,%s", sig, att);
    assert_referrers(m, "app", s,
                     "\"filter\": {\"artifactTypes\": [\"application/vnd.in-toto+json\", \"" SIG_TYPE "\"]}", want);
    assert_referrers(m, "app", s, "\"filter\": {\"artifactTypes\": [\"text/plain\"]}", "");
    free(s);
    free(sig);
    free(sbom);
    free(att);
}

static void test_list_image_referrers_status_filter(void **state)
{
    ecrmock *m = *state;
    char *s = new_repo_with_image(m, "app", 1, "v1");
    char *a = push_artifact(m, "app", s, SIG_TYPE, 1, NULL);
    char *b = push_artifact(m, "app", s, SIG_TYPE, 2, NULL);
    json_t *r = NULL;
    call_ok(m, "UpdateImageStorageClass",
            "{\"repositoryName\": \"app\", \"imageId\": {\"imageDigest\": \"%s\"}, \"targetStorageClass\": "
            "\"ARCHIVE\"}",
            a);
    char want[512];
    assert_referrers(m, "app", s, NULL, b); /* ACTIVE by default */
    assert_ok(list(m, &r, "app", s, "\"filter\": {\"artifactStatus\": \"ARCHIVED\"}"), r);
    json_t *refs = json_object_get(r, "referrers");
    assert_int_equal(json_array_size(refs), 1);
    assert_string_equal(STR(json_array_get(refs, 0), "digest"), a);
    assert_string_equal(STR(json_array_get(refs, 0), "artifactStatus"), "ARCHIVED");
    json_decref(r);
    snprintf(want, sizeof want, "%s,%s", a, b);
    assert_referrers(m, "app", s, "\"filter\": {\"artifactStatus\": \"ANY\"}", want);
    free(s);
    free(a);
    free(b);
}

static void test_list_image_referrers_paging(void **state)
{
    ecrmock *m = *state;
    char *s = new_repo_with_image(m, "app", 1, "v1");
    char *refs[25];
    for (int i = 0; i < 25; i++)
        refs[i] = push_artifact(m, "app", s, SIG_TYPE, 100 + i, NULL);
    json_t *r = NULL;
    /* 20 by default. */
    assert_ok(list(m, &r, "app", s, NULL), r);
    assert_int_equal(json_array_size(json_object_get(r, "referrers")), 20);
    assert_non_null(json_object_get(r, "nextToken"));
    json_decref(r);

    /* Pages of 7: every referrer once, in push order, even with one deleted between pages. */
    char *token = NULL;
    int seen = 0, page_no = 0;
    do {
        char extra[512];
        if (token)
            snprintf(extra, sizeof extra, "\"maxResults\": 7, \"nextToken\": \"%s\"", token);
        else
            snprintf(extra, sizeof extra, "\"maxResults\": 7");
        free(token);
        token = NULL;
        assert_ok(list(m, &r, "app", s, extra), r);
        json_t *items = json_object_get(r, "referrers");
        size_t i;
        json_t *it;
        json_array_foreach(items, i, it) {
            if (seen == 10)
                seen++; /* refs[10] was deleted before this page */
            assert_string_equal(STR(it, "digest"), refs[seen]);
            seen++;
        }
        if (json_object_get(r, "nextToken"))
            token = strdup(STR(r, "nextToken"));
        json_decref(r);
        if (page_no++ == 0) {
            call_ok(m, "BatchDeleteImage",
                    "{\"repositoryName\": \"app\", \"imageIds\": [{\"imageDigest\": \"%s\"}]}", refs[10]);
        }
    } while (token);
    assert_int_equal(seen, 25);
    assert_int_equal(page_no, 4);

    /* A token is tied to its listing. */
    assert_ok(list(m, &r, "app", s, "\"maxResults\": 1"), r);
    char extra[512];
    snprintf(extra, sizeof extra, "\"nextToken\": \"%s\", \"filter\": {\"artifactStatus\": \"ANY\"}",
             STR(r, "nextToken"));
    json_decref(r);
    int st = list(m, &r, "app", s, extra);
    assert_fail_msg(st, &r, "InvalidParameterException",
                    "Invalid parameter at 'NextToken' failed to satisfy constraint: 'Invalid next token provided'");
    assert_error(list(m, &r, "app", s, "\"maxResults\": 51"), r, 400, "InvalidParameterException");
    for (int i = 0; i < 25; i++)
        free(refs[i]);
    free(s);
}

static void test_list_image_referrers_errors(void **state)
{
    ecrmock *m = *state;
    json_t *r = NULL;
    const char *d = "sha256:0000000000000000000000000000000000000000000000000000000000000000";
    int st = list(m, &r, "ghost", d, NULL);
    assert_repo_not_found(st, &r, "ghost", ACCOUNT);
    create_repo(m, "app");
    st = list(m, &r, "app", "latest", NULL);
    assert_fail_msg(st, &r, "InvalidParameterException",
                    "Invalid parameter at 'subjectId.imageDigest' failed to satisfy constraint: "
                    "'must satisfy regular expression '[a-zA-Z0-9-_+.]+:[a-fA-F0-9]+''");
    assert_error(call(m, &r, "ListImageReferrers", "{\"repositoryName\": \"app\"}"), r, 400,
                 "InvalidParameterException");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup_mock, teardown_mock)
        T(test_list_image_referrers_describes_each_artifact),
        T(test_list_image_referrers_only_that_subject_and_repository),
        T(test_list_image_referrers_artifact_type_filter),
        T(test_list_image_referrers_status_filter),
        T(test_list_image_referrers_paging),
        T(test_list_image_referrers_errors),
#undef T
    };
    return cmocka_run_group_tests_name("referrers", tests, NULL, NULL);
}
