/*
 * Image scanning: the repository and registry scanning configurations,
 * StartImageScan, DescribeImageScanFindings, scan on push (by the
 * repository's flag and by registry rules), scan status on the virtual clock
 * (and the ImageScanComplete waiter), findings counted from what the test
 * set, paging over findings, and the scan shown by DescribeImages.
 */
#include <stdbool.h>

#include "helpers.h"

#define ACCOUNT "123456789012"
#define ARN(name) "arn:aws:ecr:us-east-1:" ACCOUNT ":repository/" name
#define MT_DOCKER_V2 "application/vnd.docker.distribution.manifest.v2+json"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define QUOTA_TEXT "The scan quota per image has been exceeded. Wait and try again."
#define START_S 1704067200.0 /* the default clock start, 2024-01-01T00:00:00Z */

static const char *str(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

static int start_scan(ecrmock *m, json_t **r, const char *repo, const char *id)
{
    return call(m, r, "StartImageScan", "{\"repositoryName\": \"%s\", \"imageId\": %s}", repo, id);
}

/* StartImageScan of `id` (a JSON imageId) must succeed. */
static void start_scan_ok(ecrmock *m, const char *repo, const char *id)
{
    json_t *r = NULL;
    assert_ok(start_scan(m, &r, repo, id), r);
    json_decref(r);
}

static int findings(ecrmock *m, json_t **r, const char *repo, const char *id)
{
    return call(m, r, "DescribeImageScanFindings", "{\"repositoryName\": \"%s\", \"imageId\": %s}", repo, id);
}

/* The status DescribeImageScanFindings reports for a tag. */
static char *scan_status(ecrmock *m, const char *repo, const char *tag)
{
    json_t *r = NULL;
    char id[256];
    snprintf(id, sizeof id, "{\"imageTag\": \"%s\"}", tag);
    assert_ok(findings(m, &r, repo, id), r);
    char *s = strdup(str(json_object_get(r, "imageScanStatus"), "status"));
    json_decref(r);
    return s;
}

static void assert_scan_status(ecrmock *m, const char *repo, const char *tag, const char *want)
{
    char *s = scan_status(m, repo, tag);
    assert_string_equal(s, want);
    free(s);
}

/* DescribeImages' detail of one image (new reference). */
static json_t *image_detail(ecrmock *m, const char *repo, const char *tag)
{
    json_t *r = NULL;
    assert_ok(call(m, &r, "DescribeImages", "{\"repositoryName\": \"%s\", \"imageIds\": [{\"imageTag\": \"%s\"}]}",
                   repo, tag),
              r);
    json_t *d = json_incref(json_array_get(json_object_get(r, "imageDetails"), 0));
    json_decref(r);
    return d;
}

/* {"repositoryName": ..., "scanOnPush": ..., ...} of one repository. */
static json_t *repo_scan_config(ecrmock *m, const char *repo)
{
    json_t *r = NULL;
    assert_ok(call(m, &r, "BatchGetRepositoryScanningConfiguration", "{\"repositoryNames\": [\"%s\"]}", repo), r);
    assert_int_equal(json_array_size(json_object_get(r, "failures")), 0);
    json_t *c = json_incref(json_array_get(json_object_get(r, "scanningConfigurations"), 0));
    json_decref(r);
    return c;
}

static void assert_json(json_t *got, const char *want_text)
{
    json_t *want = json_loads(want_text, 0, NULL);
    assert_non_null(want);
    if (!json_equal(got, want)) {
        char *g = json_dumps(got, JSON_COMPACT | JSON_SORT_KEYS), *w = json_dumps(want, JSON_COMPACT | JSON_SORT_KEYS);
        fail_msg("got %s\nwant %s", g, w);
    }
    json_decref(want);
}

static void set_findings(ecrmock *m, const char *repo, const char *digest, const char *text)
{
    json_t *f = json_loads(text, 0, NULL);
    assert_non_null(f);
    assert_int_equal(ecrmock_scan_findings_set(m, NULL, repo, digest, f, NULL), ECRMOCK_ERR_OK);
    json_decref(f);
}

/* ---- PutImageScanningConfiguration ------------------------------------------------------ */

static void test_put_image_scanning_configuration_round_trip(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "app");
    json_t *r = NULL;
    assert_ok(call(m, &r, "PutImageScanningConfiguration",
                   "{\"repositoryName\": \"app\", \"imageScanningConfiguration\": {\"scanOnPush\": true}}"),
              r);
    assert_json(r, "{\"registryId\": \"" ACCOUNT "\", \"repositoryName\": \"app\", "
                   "\"imageScanningConfiguration\": {\"scanOnPush\": true}}");
    json_decref(r);
    json_t *c = repo_scan_config(m, "app");
    assert_json(c, "{\"repositoryArn\": \"" ARN("app") "\", \"repositoryName\": \"app\", \"scanOnPush\": true, "
                   "\"scanFrequency\": \"SCAN_ON_PUSH\", \"appliedScanFilters\": []}");
    json_decref(c);
    assert_ok(call(m, &r, "DescribeRepositories", "{\"repositoryNames\": [\"app\"]}"), r);
    json_t *repo = json_array_get(json_object_get(r, "repositories"), 0);
    assert_json(json_object_get(repo, "imageScanningConfiguration"), "{\"scanOnPush\": true}");
    json_decref(r);
    /* An empty configuration turns scan on push off. */
    assert_ok(call(m, &r, "PutImageScanningConfiguration",
                   "{\"repositoryName\": \"app\", \"imageScanningConfiguration\": {}}"),
              r);
    assert_json(json_object_get(r, "imageScanningConfiguration"), "{\"scanOnPush\": false}");
    json_decref(r);
    c = repo_scan_config(m, "app");
    assert_string_equal(str(c, "scanFrequency"), "MANUAL");
    json_decref(c);
}

static void test_put_image_scanning_configuration_repository_not_found(void **state)
{
    ecrmock *m = *state;
    json_t *r = NULL;
    int st = call(m, &r, "PutImageScanningConfiguration",
                  "{\"repositoryName\": \"nope\", \"imageScanningConfiguration\": {\"scanOnPush\": true}}");
    assert_repo_not_found(st, &r, "nope", ACCOUNT);
    /* Required member: the dispatcher's validation. */
    st = call(m, &r, "PutImageScanningConfiguration", "{\"repositoryName\": \"nope\"}");
    assert_error(st, r, 400, "InvalidParameterException");
}

/* ---- BatchGetRepositoryScanningConfiguration ----------------------------------------------- */

static void test_batch_get_repository_scanning_configuration_defaults_and_failures(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "b-repo");
    create_repo(m, "a-repo");
    json_t *r = NULL;
    assert_ok(call(m, &r, "BatchGetRepositoryScanningConfiguration",
                   "{\"repositoryNames\": [\"b-repo\", \"missing\", \"a-repo\"]}"),
              r);
    /* Request order; the missing one a failure, not an error. */
    assert_json(r, "{\"scanningConfigurations\": ["
                   "{\"repositoryArn\": \"" ARN("b-repo") "\", \"repositoryName\": \"b-repo\", \"scanOnPush\": false, "
                   "\"scanFrequency\": \"MANUAL\", \"appliedScanFilters\": []},"
                   "{\"repositoryArn\": \"" ARN("a-repo") "\", \"repositoryName\": \"a-repo\", \"scanOnPush\": false, "
                   "\"scanFrequency\": \"MANUAL\", \"appliedScanFilters\": []}],"
                   "\"failures\": [{\"repositoryName\": \"missing\", \"failureCode\": \"REPOSITORY_NOT_FOUND\", "
                   "\"failureReason\": \"The repository with name 'missing' does not exist in the registry with id '" ACCOUNT
                   "'\"}]}");
    json_decref(r);
    /* 26 names: the model's limit, checked before the handler. */
    char names[1024] = "";
    for (int i = 0; i < 26; i++)
        snprintf(names + strlen(names), sizeof names - strlen(names), "%s\"r%02d\"", i ? "," : "", i);
    assert_error(call(m, &r, "BatchGetRepositoryScanningConfiguration", "{\"repositoryNames\": [%s]}", names), r, 400,
                 "InvalidParameterException");
}

/* ---- Get/PutRegistryScanningConfiguration -------------------------------------------------- */

static void test_registry_scanning_configuration_round_trip(void **state)
{
    ecrmock *m = *state;
    json_t *r = NULL;
    assert_ok(call(m, &r, "GetRegistryScanningConfiguration", "{}"), r);
    assert_json(r, "{\"registryId\": \"" ACCOUNT "\", \"scanningConfiguration\": {\"scanType\": \"BASIC\", "
                   "\"rules\": []}}");
    json_decref(r);
    const char *config = "{\"scanType\": \"ENHANCED\", \"rules\": ["
                         "{\"scanFrequency\": \"CONTINUOUS_SCAN\", \"repositoryFilters\": "
                         "[{\"filter\": \"prod*\", \"filterType\": \"WILDCARD\"}]},"
                         "{\"scanFrequency\": \"SCAN_ON_PUSH\", \"repositoryFilters\": "
                         "[{\"filter\": \"*\", \"filterType\": \"WILDCARD\"}]}]}";
    assert_ok(call(m, &r, "PutRegistryScanningConfiguration", "%s", config), r);
    assert_json(json_object_get(r, "registryScanningConfiguration"), config);
    assert_int_equal(json_object_size(r), 1);
    json_decref(r);
    assert_ok(call(m, &r, "GetRegistryScanningConfiguration", "{}"), r);
    assert_json(json_object_get(r, "scanningConfiguration"), config);
    json_decref(r);
    /* Without members: BASIC and no rules again. */
    assert_ok(call(m, &r, "PutRegistryScanningConfiguration", "{}"), r);
    assert_json(json_object_get(r, "registryScanningConfiguration"), "{\"scanType\": \"BASIC\", \"rules\": []}");
    json_decref(r);
    /* A bad enum or three rules: the model's validation. */
    assert_error(call(m, &r, "PutRegistryScanningConfiguration", "{\"scanType\": \"DEEP\"}"), r, 400,
                 "InvalidParameterException");
}

static void test_registry_scanning_basic_refuses_continuous_scan(void **state)
{
    ecrmock *m = *state;
    json_t *r = NULL;
    const char *before = "{\"scanType\": \"BASIC\", \"rules\": [{\"scanFrequency\": \"SCAN_ON_PUSH\", "
                         "\"repositoryFilters\": [{\"filter\": \"web\", \"filterType\": \"WILDCARD\"}]}]}";
    call_ok(m, "PutRegistryScanningConfiguration", "%s", before);
    int st = call(m, &r, "PutRegistryScanningConfiguration",
                  "{\"scanType\": \"BASIC\", \"rules\": [{\"scanFrequency\": \"CONTINUOUS_SCAN\", "
                  "\"repositoryFilters\": [{\"filter\": \"*\", \"filterType\": \"WILDCARD\"}]}]}");
    assert_fail_msg(st, &r, "InvalidParameterException",
                    "Invalid parameter at 'scanFrequency' failed to satisfy constraint: 'CONTINUOUS_SCAN is not "
                    "supported for the BASIC scan type'");
    /* The failed call changed nothing. */
    assert_ok(call(m, &r, "GetRegistryScanningConfiguration", "{}"), r);
    assert_json(json_object_get(r, "scanningConfiguration"), before);
    json_decref(r);
}

/* Sets one rule of `freq` with `filter` (ENHANCED, so every frequency goes). */
static void put_rule(ecrmock *m, const char *type, const char *freq, const char *filter)
{
    call_ok(m, "PutRegistryScanningConfiguration",
            "{\"scanType\": \"%s\", \"rules\": [{\"scanFrequency\": \"%s\", \"repositoryFilters\": "
            "[{\"filter\": \"%s\", \"filterType\": \"WILDCARD\"}]}]}",
            type, freq, filter);
}

/* The user guide's table: repository names across, filters down. */
static void test_registry_rule_filters_match_as_the_user_guide_says(void **state)
{
    ecrmock *m = *state;
    static const char *const names[] = {"prod", "repo-prod", "prod-repo", "repo-prod-repo", "prodrepo"};
    static const struct {
        const char *filter;
        bool match[5];
    } table[] = {
        {"prod", {true, true, true, true, true}},      {"*prod", {true, true, false, false, false}},
        {"prod*", {true, false, true, false, true}},   {"*prod*", {true, true, true, true, true}},
        {"prod*repo", {false, false, true, false, true}},
    };
    for (size_t i = 0; i < 5; i++)
        create_repo(m, names[i]);
    for (size_t f = 0; f < sizeof table / sizeof table[0]; f++) {
        put_rule(m, "BASIC", "SCAN_ON_PUSH", table[f].filter);
        for (size_t i = 0; i < 5; i++) {
            json_t *c = repo_scan_config(m, names[i]);
            if (table[f].match[i]) {
                char want[256];
                snprintf(want, sizeof want, "[{\"filter\": \"%s\", \"filterType\": \"WILDCARD\"}]", table[f].filter);
                assert_string_equal(str(c, "scanFrequency"), "SCAN_ON_PUSH");
                assert_json(json_object_get(c, "appliedScanFilters"), want);
            } else {
                assert_string_equal(str(c, "scanFrequency"), "MANUAL");
                assert_json(json_object_get(c, "appliedScanFilters"), "[]");
            }
            /* The repository's own flag is reported apart from the rules. */
            assert_true(json_is_false(json_object_get(c, "scanOnPush")));
            json_decref(c);
        }
    }
}

static void test_registry_rules_continuous_wins_over_scan_on_push(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "prod-web");
    create_repo(m, "dev-web");
    call_ok(m, "PutRegistryScanningConfiguration",
            "{\"scanType\": \"ENHANCED\", \"rules\": ["
            "{\"scanFrequency\": \"SCAN_ON_PUSH\", \"repositoryFilters\": "
            "[{\"filter\": \"web\", \"filterType\": \"WILDCARD\"}, {\"filter\": \"zzz\", \"filterType\": \"WILDCARD\"}]},"
            "{\"scanFrequency\": \"CONTINUOUS_SCAN\", \"repositoryFilters\": "
            "[{\"filter\": \"prod-*\", \"filterType\": \"WILDCARD\"}]}]}");
    json_t *c = repo_scan_config(m, "prod-web");
    assert_string_equal(str(c, "scanFrequency"), "CONTINUOUS_SCAN");
    assert_json(json_object_get(c, "appliedScanFilters"), "[{\"filter\": \"prod-*\", \"filterType\": \"WILDCARD\"}]");
    json_decref(c);
    c = repo_scan_config(m, "dev-web");
    assert_string_equal(str(c, "scanFrequency"), "SCAN_ON_PUSH");
    /* Only the filters that match the repository are listed. */
    assert_json(json_object_get(c, "appliedScanFilters"), "[{\"filter\": \"web\", \"filterType\": \"WILDCARD\"}]");
    json_decref(c);
}

/* ---- StartImageScan and the clock ------------------------------------------------------------ */

static void test_start_image_scan_then_complete_on_the_clock(void **state)
{
    ecrmock *m = *state;
    char *d = new_repo_with_image(m, "app", 2, "v1");
    json_t *r = NULL;
    assert_ok(start_scan(m, &r, "app", "{\"imageTag\": \"v1\"}"), r);
    char want[512];
    snprintf(want, sizeof want,
             "{\"registryId\": \"" ACCOUNT "\", \"repositoryName\": \"app\", \"imageId\": {\"imageDigest\": \"%s\", "
             "\"imageTag\": \"v1\"}, \"imageScanStatus\": {\"status\": \"IN_PROGRESS\"}}",
             d);
    assert_json(r, want);
    json_decref(r);
    /* In progress: no findings yet. */
    assert_ok(findings(m, &r, "app", "{\"imageTag\": \"v1\"}"), r);
    assert_string_equal(str(json_object_get(r, "imageScanStatus"), "status"), "IN_PROGRESS");
    assert_null(json_object_get(r, "imageScanFindings"));
    json_decref(r);
    ecrmock_clock_advance(m, ECRMOCK_DEFAULT_SCAN_DURATION_MS - 1, NULL);
    assert_scan_status(m, "app", "v1", "IN_PROGRESS");
    ecrmock_clock_advance(m, 1, NULL);
    char id[128];
    snprintf(id, sizeof id, "{\"imageDigest\": \"%s\"}", d);
    assert_ok(findings(m, &r, "app", id), r);
    snprintf(want, sizeof want,
             "{\"registryId\": \"" ACCOUNT "\", \"repositoryName\": \"app\", \"imageId\": {\"imageDigest\": \"%s\"}, "
             "\"imageScanStatus\": {\"status\": \"COMPLETE\", \"description\": \"The scan was completed successfully.\"}, "
             "\"imageScanFindings\": {\"imageScanCompletedAt\": %.1f, \"vulnerabilitySourceUpdatedAt\": %.1f, "
             "\"findingSeverityCounts\": {}, \"findings\": []}}",
             d, START_S + 5, START_S);
    assert_json(r, want);
    json_decref(r);
    free(d);
}

static void test_start_image_scan_once_per_24_hours(void **state)
{
    ecrmock *m = *state;
    char *d = new_repo_with_image(m, "app", 2, "v1");
    json_t *r = NULL;
    start_scan_ok(m, "app", "{\"imageTag\": \"v1\"}");
    ecrmock_clock_advance(m, 86400000 - 1, NULL);
    char id[128];
    snprintf(id, sizeof id, "{\"imageDigest\": \"%s\"}", d);
    assert_fail_msg(start_scan(m, &r, "app", id), &r, "LimitExceededException", QUOTA_TEXT);
    /* The refused call did not restart the scan: it completed a day ago. */
    json_t *det = image_detail(m, "app", "v1");
    assert_true(json_real_value(json_object_get(json_object_get(det, "imageScanFindingsSummary"),
                                                "imageScanCompletedAt")) == START_S + 5);
    json_decref(det);
    ecrmock_clock_advance(m, 1, NULL);
    start_scan_ok(m, "app", id);
    assert_scan_status(m, "app", "v1", "IN_PROGRESS");
    free(d);
}

static void test_start_image_scan_image_not_found(void **state)
{
    ecrmock *m = *state;
    char *d = new_repo_with_image(m, "app", 2, "v1");
    free(push_new_image(m, "app", 2, 2, "v2"));
    json_t *r = NULL;
    assert_image_not_found(start_scan(m, &r, "app", "{\"imageTag\": \"v9\"}"), &r, NULL, "v9", "app", ACCOUNT);
    char id[256];
    const char *other = "sha256:0000000000000000000000000000000000000000000000000000000000000000";
    snprintf(id, sizeof id, "{\"imageDigest\": \"%s\"}", other);
    assert_image_not_found(start_scan(m, &r, "app", id), &r, other, NULL, "app", ACCOUNT);
    /* A tag of another image than the digest's. */
    snprintf(id, sizeof id, "{\"imageDigest\": \"%s\", \"imageTag\": \"v2\"}", d);
    assert_error(start_scan(m, &r, "app", id), r, 400, "ImageNotFoundException");
    assert_fail_msg(start_scan(m, &r, "app", "{}"), &r, "InvalidParameterException",
                    "Invalid parameter at 'imageId' failed to satisfy constraint: 'both tag and digest cannot be null'");
    /* Nothing was scanned. */
    assert_error(findings(m, &r, "app", "{\"imageTag\": \"v1\"}"), r, 400, "ScanNotFoundException");
    assert_repo_not_found(start_scan(m, &r, "nope", "{\"imageTag\": \"v1\"}"), &r, "nope", ACCOUNT);
    free(d);
}

static void test_start_image_scan_manifest_list_unsupported(void **state)
{
    ecrmock *m = *state;
    char *d = new_repo_with_image(m, "app", 2, NULL);
    json_t *list = json_pack("{s:i, s:s, s:[{s:s, s:i, s:s, s:{s:s, s:s}}]}", "schemaVersion", 2, "mediaType",
                             MT_DOCKER_LIST, "manifests", "mediaType", MT_DOCKER_V2, "size", 500, "digest", d,
                             "platform", "architecture", "amd64", "os", "linux");
    char *text = json_dumps(list, JSON_COMPACT);
    json_decref(list);
    free(put_image(m, "app", text, "multi"));
    free(text);
    json_t *r = NULL;
    assert_fail_msg(start_scan(m, &r, "app", "{\"imageTag\": \"multi\"}"), &r, "UnsupportedImageTypeException",
                    "An artifact with media type '" MT_DOCKER_LIST "' cannot be scanned.");
    assert_error(findings(m, &r, "app", "{\"imageTag\": \"multi\"}"), r, 400, "ScanNotFoundException");
    free(d);
}

/* ---- DescribeImageScanFindings -------------------------------------------------------------- */

static void test_describe_image_scan_findings_errors(void **state)
{
    ecrmock *m = *state;
    char *d = new_repo_with_image(m, "app", 2, "v1");
    json_t *r = NULL;
    assert_fail_msg(findings(m, &r, "app", "{\"imageTag\": \"v1\"}"), &r, "ScanNotFoundException",
                    "Image scan does not exist for the image with '{imageDigest:'null', imageTag:'v1'}' in the "
                    "repository with name 'app' in the registry with id '" ACCOUNT "'");
    char id[256], msg[512];
    snprintf(id, sizeof id, "{\"imageDigest\": \"%s\", \"imageTag\": \"v1\"}", d);
    snprintf(msg, sizeof msg,
             "Image scan does not exist for the image with '{imageDigest:'%s', imageTag:'v1'}' in the repository "
             "with name 'app' in the registry with id '" ACCOUNT "'",
             d);
    assert_fail_msg(findings(m, &r, "app", id), &r, "ScanNotFoundException", msg);
    assert_image_not_found(findings(m, &r, "app", "{\"imageTag\": \"v2\"}"), &r, NULL, "v2", "app", ACCOUNT);
    assert_repo_not_found(findings(m, &r, "web", "{\"imageTag\": \"v1\"}"), &r, "web", ACCOUNT);
    free(d);
}

static const char FINDINGS_A[] =
    "[{\"name\": \"CVE-2024-0001\", \"description\": \"heap overflow\", \"uri\": \"https://cve.example/0001\", "
    "\"severity\": \"HIGH\", \"attributes\": [{\"key\": \"package_name\", \"value\": \"openssl\"}]},"
    "{\"name\": \"CVE-2024-0002\", \"severity\": \"LOW\"},"
    "{\"name\": \"CVE-2024-0003\", \"severity\": \"HIGH\"},"
    "{\"name\": \"CVE-2024-0004\", \"severity\": \"CRITICAL\"},"
    "{\"name\": \"CVE-2024-0005\", \"severity\": \"HIGH\"}]";

static void test_findings_counted_from_what_was_set(void **state)
{
    ecrmock *m = *state;
    char *d = new_repo_with_image(m, "app", 2, "v1");
    set_findings(m, "app", d, FINDINGS_A);
    json_t *r = NULL;
    start_scan_ok(m, "app", "{\"imageTag\": \"v1\"}");
    ecrmock_clock_advance(m, ECRMOCK_DEFAULT_SCAN_DURATION_MS, NULL);
    assert_ok(findings(m, &r, "app", "{\"imageTag\": \"v1\"}"), r);
    json_t *f = json_object_get(r, "imageScanFindings");
    assert_json(json_object_get(f, "findingSeverityCounts"), "{\"HIGH\": 3, \"LOW\": 1, \"CRITICAL\": 1}");
    assert_json(json_object_get(f, "findings"), FINDINGS_A);
    assert_null(json_object_get(r, "nextToken"));
    json_decref(r);
    /* Other findings, other counts. */
    set_findings(m, "app", d, "[{\"name\": \"CVE-1\", \"severity\": \"MEDIUM\"}, {\"name\": \"CVE-2\", \"severity\": "
                              "\"INFORMATIONAL\"}, {\"name\": \"CVE-3\", \"severity\": \"MEDIUM\"}]");
    assert_ok(findings(m, &r, "app", "{\"imageTag\": \"v1\"}"), r);
    assert_json(json_object_get(json_object_get(r, "imageScanFindings"), "findingSeverityCounts"),
                "{\"MEDIUM\": 2, \"INFORMATIONAL\": 1}");
    json_decref(r);
    free(d);
}

static void test_findings_paging(void **state)
{
    ecrmock *m = *state;
    char *d = new_repo_with_image(m, "app", 2, "v1");
    char *d2 = push_new_image(m, "app", 2, 2, "v2");
    set_findings(m, "app", d, FINDINGS_A);
    ecrmock_scan_duration_set(m, 0, NULL);
    json_t *r = NULL;
    start_scan_ok(m, "app", "{\"imageTag\": \"v1\"}");
    start_scan_ok(m, "app", "{\"imageTag\": \"v2\"}");
    json_t *all = json_loads(FINDINGS_A, 0, NULL), *seen = json_array();
    char token[1024] = "";
    int pages = 0;
    do {
        if (token[0])
            assert_ok(call(m, &r, "DescribeImageScanFindings",
                           "{\"repositoryName\": \"app\", \"imageId\": {\"imageTag\": \"v1\"}, \"maxResults\": 2, "
                           "\"nextToken\": \"%s\"}",
                           token),
                      r);
        else
            assert_ok(call(m, &r, "DescribeImageScanFindings",
                           "{\"repositoryName\": \"app\", \"imageId\": {\"imageTag\": \"v1\"}, \"maxResults\": 2}"),
                      r);
        json_t *f = json_object_get(r, "imageScanFindings");
        /* Every page counts all the findings. */
        assert_json(json_object_get(f, "findingSeverityCounts"), "{\"HIGH\": 3, \"LOW\": 1, \"CRITICAL\": 1}");
        assert_true(json_array_size(json_object_get(f, "findings")) <= 2);
        json_array_extend(seen, json_object_get(f, "findings"));
        snprintf(token, sizeof token, "%s", str(r, "nextToken"));
        json_decref(r);
        pages++;
    } while (token[0] && pages < 10);
    assert_int_equal(pages, 3);
    assert_true(json_equal(seen, all));
    json_decref(seen);
    json_decref(all);
    /* A token is refused by another image's listing, and an invented one too. */
    assert_ok(call(m, &r, "DescribeImageScanFindings",
                   "{\"repositoryName\": \"app\", \"imageId\": {\"imageTag\": \"v1\"}, \"maxResults\": 1}"),
              r);
    snprintf(token, sizeof token, "%s", str(r, "nextToken"));
    json_decref(r);
    const char *bad = "Invalid parameter at 'NextToken' failed to satisfy constraint: 'Invalid next token provided'";
    assert_fail_msg(call(m, &r, "DescribeImageScanFindings",
                         "{\"repositoryName\": \"app\", \"imageId\": {\"imageTag\": \"v2\"}, \"nextToken\": \"%s\"}",
                         token),
                    &r, "InvalidParameterException", bad);
    assert_fail_msg(call(m, &r, "DescribeImageScanFindings",
                         "{\"repositoryName\": \"app\", \"imageId\": {\"imageTag\": \"v1\"}, \"nextToken\": \"AAAA\"}"),
                    &r, "InvalidParameterException", bad);
    free(d);
    free(d2);
}

/* ---- scan on push ---------------------------------------------------------------------------- */

static void test_scan_on_push_by_repository_flag(void **state)
{
    ecrmock *m = *state;
    json_t *r = NULL;
    call_ok(m, "CreateRepository",
            "{\"repositoryName\": \"scanned\", \"imageScanningConfiguration\": {\"scanOnPush\": true}}");
    create_repo(m, "plain");
    char *d = push_new_image(m, "scanned", 2, 1, "v1");
    char *p = push_new_image(m, "plain", 2, 2, "v1");
    assert_scan_status(m, "scanned", "v1", "IN_PROGRESS");
    assert_error(findings(m, &r, "plain", "{\"imageTag\": \"v1\"}"), r, 400, "ScanNotFoundException");
    /* The scan on push counts towards the daily quota. */
    assert_fail_msg(start_scan(m, &r, "scanned", "{\"imageTag\": \"v1\"}"), &r, "LimitExceededException", QUOTA_TEXT);
    ecrmock_clock_advance(m, 5000, NULL);
    assert_scan_status(m, "scanned", "v1", "COMPLETE");
    /* Turned on later by PutImageScanningConfiguration: only new pushes. */
    call_ok(m, "PutImageScanningConfiguration",
            "{\"repositoryName\": \"plain\", \"imageScanningConfiguration\": {\"scanOnPush\": true}}");
    assert_error(findings(m, &r, "plain", "{\"imageTag\": \"v1\"}"), r, 400, "ScanNotFoundException");
    free(push_new_image(m, "plain", 2, 3, "v2"));
    assert_scan_status(m, "plain", "v2", "IN_PROGRESS");
    free(d);
    free(p);
}

static void test_scan_on_push_by_registry_rule(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "web-app");
    create_repo(m, "api");
    put_rule(m, "BASIC", "SCAN_ON_PUSH", "web-*");
    free(push_new_image(m, "web-app", 2, 1, "v1"));
    free(push_new_image(m, "api", 2, 2, "v1"));
    assert_scan_status(m, "web-app", "v1", "IN_PROGRESS");
    json_t *r = NULL;
    assert_error(findings(m, &r, "api", "{\"imageTag\": \"v1\"}"), r, 400, "ScanNotFoundException");
    /* A MANUAL rule scans nothing on push. */
    put_rule(m, "BASIC", "MANUAL", "*");
    free(push_new_image(m, "web-app", 2, 3, "v2"));
    assert_error(findings(m, &r, "web-app", "{\"imageTag\": \"v2\"}"), r, 400, "ScanNotFoundException");
    /* Continuous scanning scans what is pushed too. */
    put_rule(m, "ENHANCED", "CONTINUOUS_SCAN", "*");
    free(push_new_image(m, "api", 2, 4, "v3"));
    assert_scan_status(m, "api", "v3", "IN_PROGRESS");
}

static void test_scan_on_push_only_for_new_images(void **state)
{
    ecrmock *m = *state;
    call_ok(m, "CreateRepository",
            "{\"repositoryName\": \"app\", \"imageScanningConfiguration\": {\"scanOnPush\": true}}");
    char *mf = make_manifest(m, "app", 1, 1);
    free(put_image(m, "app", mf, "v1"));
    ecrmock_clock_advance(m, 60000, NULL);
    /* The same manifest under another tag is no new image: no new scan. */
    free(put_image(m, "app", mf, "v2"));
    json_t *det = image_detail(m, "app", "v2");
    assert_string_equal(str(json_object_get(det, "imageScanStatus"), "status"), "COMPLETE");
    assert_true(json_real_value(json_object_get(json_object_get(det, "imageScanFindingsSummary"),
                                                "imageScanCompletedAt")) == START_S + 5);
    json_decref(det);
    free(mf);
}

/* ---- DescribeImages ------------------------------------------------------------------------------ */

static void test_describe_images_shows_scan(void **state)
{
    ecrmock *m = *state;
    char *d = new_repo_with_image(m, "app", 2, "v1");
    json_t *det = image_detail(m, "app", "v1");
    assert_null(json_object_get(det, "imageScanStatus"));
    assert_null(json_object_get(det, "imageScanFindingsSummary"));
    json_decref(det);
    set_findings(m, "app", d, "[{\"name\": \"CVE-1\", \"severity\": \"CRITICAL\"}, {\"name\": \"CVE-2\", "
                              "\"severity\": \"UNDEFINED\"}, {\"name\": \"CVE-3\", \"severity\": \"CRITICAL\"}]");
    json_t *r = NULL;
    ecrmock_clock_advance(m, 1000, NULL);
    start_scan_ok(m, "app", "{\"imageTag\": \"v1\"}");
    det = image_detail(m, "app", "v1");
    assert_json(json_object_get(det, "imageScanStatus"), "{\"status\": \"IN_PROGRESS\"}");
    assert_null(json_object_get(det, "imageScanFindingsSummary"));
    json_decref(det);
    ecrmock_clock_advance(m, 7000, NULL);
    /* The listing form shows it too. */
    assert_ok(call(m, &r, "DescribeImages", "{\"repositoryName\": \"app\"}"), r);
    det = json_array_get(json_object_get(r, "imageDetails"), 0);
    assert_json(json_object_get(det, "imageScanStatus"),
                "{\"status\": \"COMPLETE\", \"description\": \"The scan was completed successfully.\"}");
    char want[256];
    snprintf(want, sizeof want,
             "{\"imageScanCompletedAt\": %.1f, \"vulnerabilitySourceUpdatedAt\": %.1f, "
             "\"findingSeverityCounts\": {\"CRITICAL\": 2, \"UNDEFINED\": 1}}",
             START_S + 6, START_S + 1);
    assert_json(json_object_get(det, "imageScanFindingsSummary"), want);
    json_decref(r);
    free(d);
}

/* ---- the ImageScanComplete waiter ----------------------------------------------------------------- */

/* waiters-2.json: DescribeImageScanFindings every 5 s, at most 60 times,
 * success on imageScanStatus.status COMPLETE, failure on FAILED.  Returns
 * the attempts made, or -1 when the waiter gave up or failed. */
static int wait_scan_complete(ecrmock *m, const char *repo, const char *tag)
{
    for (int attempt = 1; attempt <= 60; attempt++) {
        char *s = scan_status(m, repo, tag);
        bool done = strcmp(s, "COMPLETE") == 0, failed = strcmp(s, "FAILED") == 0;
        free(s);
        if (done)
            return attempt;
        if (failed)
            return -1;
        ecrmock_clock_advance(m, 5000, NULL); /* the waiter's delay, in virtual time */
    }
    return -1;
}

static void test_image_scan_complete_waiter(void **state)
{
    ecrmock *m = *state;
    free(new_repo_with_image(m, "app", 2, "v1"));
    start_scan_ok(m, "app", "{\"imageTag\": \"v1\"}");
    /* 5 s: the second poll sees it complete. */
    assert_int_equal(wait_scan_complete(m, "app", "v1"), 2);
    /* A 12 s scan: polls at 0, 5, 10 and 15 s. */
    assert_int_equal(ecrmock_scan_duration_set(m, 12000, NULL), ECRMOCK_ERR_OK);
    free(push_new_image(m, "app", 2, 2, "v2"));
    start_scan_ok(m, "app", "{\"imageTag\": \"v2\"}");
    assert_int_equal(wait_scan_complete(m, "app", "v2"), 4);
    /* A scan longer than the waiter's 300 s: it gives up. */
    assert_int_equal(ecrmock_scan_duration_set(m, 400000, NULL), ECRMOCK_ERR_OK);
    free(push_new_image(m, "app", 2, 3, "v3"));
    start_scan_ok(m, "app", "{\"imageTag\": \"v3\"}");
    assert_int_equal(wait_scan_complete(m, "app", "v3"), -1);
}

/* ---- test controls ---------------------------------------------------------------------------------- */

static void test_scan_duration_set_and_reset(void **state)
{
    ecrmock *m = *state;
    assert_int_equal(ERR_CODE(ecrmock_scan_duration_set(m, -1, &test_err)), ECRMOCK_ERR_INVALID_PARAMETER);
    assert_int_equal(ERR_CODE(ecrmock_scan_duration_set(NULL, 0, &test_err)), ECRMOCK_ERR_INVALID_PARAMETER);
    /* the clock plus the duration must not overflow */
    assert_int_equal(ERR_CODE(ecrmock_scan_duration_set(m, INT64_MAX, &test_err)), ECRMOCK_ERR_INVALID_PARAMETER);
    assert_int_equal(ERR_CODE(ecrmock_scan_duration_set(m, ECRMOCK_CLOCK_MAX_MS + 1, &test_err)), ECRMOCK_ERR_INVALID_PARAMETER);
    assert_int_equal(ecrmock_scan_duration_set(m, ECRMOCK_CLOCK_MAX_MS, NULL), ECRMOCK_ERR_OK);
    assert_int_equal(ecrmock_scan_duration_set(m, 0, NULL), ECRMOCK_ERR_OK);
    free(new_repo_with_image(m, "app", 2, "v1"));
    json_t *r = NULL;
    start_scan_ok(m, "app", "{\"imageTag\": \"v1\"}");
    assert_scan_status(m, "app", "v1", "COMPLETE");
    /* reset: the default duration and no registry configuration. */
    put_rule(m, "BASIC", "SCAN_ON_PUSH", "*");
    ecrmock_reset(m);
    create_repo(m, "app");
    assert_ok(call(m, &r, "GetRegistryScanningConfiguration", "{}"), r);
    assert_json(json_object_get(r, "scanningConfiguration"), "{\"scanType\": \"BASIC\", \"rules\": []}");
    json_decref(r);
    free(push_new_image(m, "app", 2, 1, "v1"));
    assert_error(findings(m, &r, "app", "{\"imageTag\": \"v1\"}"), r, 400, "ScanNotFoundException");
    start_scan_ok(m, "app", "{\"imageTag\": \"v1\"}");
    ecrmock_clock_advance(m, ECRMOCK_DEFAULT_SCAN_DURATION_MS - 1, NULL);
    assert_scan_status(m, "app", "v1", "IN_PROGRESS");
}

static void test_scan_findings_set_errors(void **state)
{
    ecrmock *m = *state;
    char *d = new_repo_with_image(m, "app", 2, "v1");
    set_findings(m, "app", d, "[{\"name\": \"CVE-1\", \"severity\": \"LOW\"}]");
    static const char *const bad[] = {
        "{\"severity\": \"LOW\"}",                                   /* not an array */
        "[{\"name\": \"CVE-2\"}]",                                   /* no severity */
        "[{\"severity\": \"SEVERE\"}]",                              /* not a FindingSeverity */
        "[{\"severity\": \"LOW\", \"name\": 7}]",                     /* name not a string */
        "[{\"severity\": \"LOW\", \"score\": 7}]",                    /* not a member of ImageScanFinding */
        "[{\"severity\": \"LOW\", \"attributes\": [{\"value\": \"x\"}]}]", /* attribute without key */
        "[\"CVE-3\"]",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *f = json_loads(bad[i], 0, NULL);
        assert_non_null(f);
        assert_int_equal(ERR_CODE(ecrmock_scan_findings_set(m, NULL, "app", d, f, &test_err)), ECRMOCK_ERR_INVALID_PARAMETER);
        json_decref(f);
    }
    json_t *none = json_array();
    assert_int_equal(ERR_CODE(ecrmock_scan_findings_set(m, NULL, "web", d, none, &test_err)), ECRMOCK_ERR_REPOSITORY_NOT_FOUND);
    assert_int_equal(ERR_CODE(ecrmock_scan_findings_set(m, NULL, "app",
                                               "sha256:1111111111111111111111111111111111111111111111111111111111111111",
                                               none, &test_err)),
                     ECRMOCK_ERR_IMAGE_NOT_FOUND);
    assert_int_equal(ERR_CODE(ecrmock_scan_findings_set(m, "12345", "app", d, none, &test_err)), ECRMOCK_ERR_INVALID_PARAMETER);
    assert_string_equal(test_err.text, "registry id '12345' is not 12 digits");
    assert_int_equal(ERR_CODE(ecrmock_scan_findings_set(m, NULL, NULL, d, none, &test_err)), ECRMOCK_ERR_INVALID_PARAMETER);
    json_decref(none);
    /* None of those changed the findings. */
    ecrmock_scan_duration_set(m, 0, NULL);
    json_t *r = NULL;
    start_scan_ok(m, "app", "{\"imageTag\": \"v1\"}");
    assert_ok(findings(m, &r, "app", "{\"imageTag\": \"v1\"}"), r);
    assert_json(json_object_get(json_object_get(r, "imageScanFindings"), "findings"),
                "[{\"name\": \"CVE-1\", \"severity\": \"LOW\"}]");
    json_decref(r);
    /* NULL clears them. */
    assert_int_equal(ecrmock_scan_findings_set(m, ACCOUNT, "app", d, NULL, NULL), ECRMOCK_ERR_OK);
    assert_ok(findings(m, &r, "app", "{\"imageTag\": \"v1\"}"), r);
    assert_json(json_object_get(r, "imageScanFindings"),
                "{\"imageScanCompletedAt\": 1704067200.0, \"vulnerabilitySourceUpdatedAt\": 1704067200.0, "
                "\"findingSeverityCounts\": {}, \"findings\": []}");
    json_decref(r);
    free(d);
}

/* ---- running out of memory ------------------------------------------------------------------------ */

static long fail_at = -1; /* the allocation that fails; -1: none */
static long allocations;

static void *failing_malloc(size_t n)
{
    return fail_at >= 0 && ++allocations == fail_at ? NULL : malloc(n);
}

static void *failing_realloc(void *p, size_t n)
{
    return fail_at >= 0 && ++allocations == fail_at ? NULL : realloc(p, n);
}

/* What the scanning actions can see of the state (read with no failure). */
static json_t *scan_probe(ecrmock *m)
{
    json_t *p = json_object(), *r = NULL;
    static const char *const reads[][2] = {
        {"GetRegistryScanningConfiguration", "{}"},
        {"BatchGetRepositoryScanningConfiguration", "{\"repositoryNames\": [\"app\", \"web-app\"]}"},
        {"DescribeImages", "{\"repositoryName\": \"app\"}"},
        {"DescribeImageScanFindings", "{\"repositoryName\": \"app\", \"imageId\": {\"imageTag\": \"v1\"}}"},
    };
    for (size_t i = 0; i < sizeof reads / sizeof reads[0]; i++) {
        int st = call(m, &r, reads[i][0], "%s", reads[i][1]);
        json_object_set_new(p, reads[i][0], json_pack("{s:i, s:o}", "status", st, "body", r));
    }
    return p;
}

/* Each scanning action with its Nth allocation failing, for every N: a 500
 * that changes nothing, or success; then the same call succeeds.  (The
 * requests are built before the failures are armed: jansson's decoder is
 * not safe when an allocation fails, see test_alloc_failure.c, and none of
 * these actions decodes JSON.) */
static void test_scanning_out_of_memory_changes_nothing(void **state)
{
    (void)state;
    ecrmock_set_alloc_funcs(failing_malloc, failing_realloc, free);
    json_set_alloc_funcs(failing_malloc, free);
    ecrmock_options o = ECRMOCK_OPTIONS_INIT;
    ecrmock *m = ecrmock_new(&o);
    assert_non_null(m);
    create_repo(m, "app");
    create_repo(m, "web-app");
    char *d = push_new_image(m, "app", 2, 1, "v1");
    set_findings(m, "app", d, FINDINGS_A);
    static const char *const steps[][2] = {
        {"PutImageScanningConfiguration", "{\"repositoryName\": \"app\", \"imageScanningConfiguration\": {\"scanOnPush\": true}}"},
        {"PutRegistryScanningConfiguration", "{\"scanType\": \"BASIC\", \"rules\": [{\"scanFrequency\": \"SCAN_ON_PUSH\", "
                                             "\"repositoryFilters\": [{\"filter\": \"web\", \"filterType\": \"WILDCARD\"}, "
                                             "{\"filter\": \"a*\", \"filterType\": \"WILDCARD\"}]}]}"},
        {"BatchGetRepositoryScanningConfiguration", "{\"repositoryNames\": [\"app\", \"nope\", \"web-app\"]}"},
        {"GetRegistryScanningConfiguration", "{}"},
        {"StartImageScan", "{\"repositoryName\": \"app\", \"imageId\": {\"imageTag\": \"v1\"}}"},
        {"DescribeImageScanFindings", "{\"repositoryName\": \"app\", \"imageId\": {\"imageTag\": \"v1\"}, \"maxResults\": 2}"},
        {"DescribeImages", "{\"repositoryName\": \"app\"}"},
    };
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        if (i == 5)
            ecrmock_clock_advance(m, ECRMOCK_DEFAULT_SCAN_DURATION_MS, NULL);
        json_t *req = json_loads(steps[i][1], 0, NULL);
        assert_non_null(req);
        bool done = false;
        for (long n = 1; !done && n < 100000; n++) {
            json_t *before = scan_probe(m), *r = NULL;
            allocations = 0;
            fail_at = n;
            int st = ecrmock_call(m, steps[i][0], req, &r);
            fail_at = -1;
            if (st == 200) {
                done = true;
            } else {
                assert_true(st == 500 || st == -1);
                if (st == 500)
                    assert_string_equal(err_type(r), "ServerException");
                json_t *after = scan_probe(m);
                if (!json_equal(before, after))
                    fail_msg("%s with allocation %ld failing changed the state", steps[i][0], n);
                json_decref(after);
            }
            json_decref(r);
            json_decref(before);
        }
        assert_true(done);
        json_decref(req);
    }
    ecrmock_free(m);
    free(d);
    ecrmock_set_alloc_funcs(NULL, NULL, NULL);
    json_set_alloc_funcs(malloc, free);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup_mock, teardown_mock)

/* The ecrmock_err convention: findings of the wrong shape are a document at
 * fault, with the path "findings: $[i]"; an image that is not there is
 * ImageNotFound; NULL err accepted; success clears an old failure. */
static void test_scan_controls_err(void **state)
{
    ecrmock *m = *state;
    assert_int_equal(ERR_CODE(ecrmock_scan_duration_set(m, -1, &test_err)), ECRMOCK_ERR_INVALID_PARAMETER);
    assert_string_equal(test_err.path, "");
    assert_string_equal(test_err.text, "scan duration -1 ms is outside 0..253402300799999");
    assert_int_equal(ecrmock_scan_duration_set(NULL, 0, NULL), -1);
    assert_int_equal(ERR_CODE(ecrmock_scan_duration_set(m, 0, dirty_err())), ECRMOCK_ERR_OK);

    create_repo(m, "app");
    char *d = push_new_image(m, "app", 1, 1, "v1");
    json_t *bad = json_loads("[{\"severity\": \"HIGH\"}, {\"severity\": \"DIRE\"}]", 0, NULL);
    assert_int_equal(ERR_CODE(ecrmock_scan_findings_set(m, NULL, "app", d, bad, &test_err)), ECRMOCK_ERR_INVALID_PARAMETER);
    assert_string_equal(test_err.path, "findings: $[1]");
    assert_string_equal(test_err.text, "must be an ImageScanFinding: a severity of INFORMATIONAL, LOW, MEDIUM, HIGH, "
                                       "CRITICAL or UNDEFINED; name, description and uri strings; at most 50 "
                                       "attributes {key, value}; no other member");
    assert_int_equal(ecrmock_scan_findings_set(m, NULL, "app", d, bad, NULL), -1);
    json_decref(bad);
    json_t *obj = json_object();
    assert_int_equal(ERR_CODE(ecrmock_scan_findings_set(m, NULL, "app", d, obj, &test_err)), ECRMOCK_ERR_INVALID_PARAMETER);
    assert_string_equal(test_err.path, "findings: $");
    assert_string_equal(test_err.text, "must be an array of findings");
    json_decref(obj);
    const char *absent = "sha256:0000000000000000000000000000000000000000000000000000000000000000";
    assert_int_equal(ERR_CODE(ecrmock_scan_findings_set(m, NULL, "app", absent, NULL, &test_err)),
                     ECRMOCK_ERR_IMAGE_NOT_FOUND);
    assert_string_equal(test_err.path, "");
    assert_string_equal(test_err.text, "no image 'sha256:0000000000000000000000000000000000000000000000000000000000000000'"
                                       " in the repository 'app'");
    assert_int_equal(ERR_CODE(ecrmock_scan_findings_set(m, NULL, "web", d, NULL, &test_err)),
                     ECRMOCK_ERR_REPOSITORY_NOT_FOUND);
    assert_string_equal(test_err.text, "no repository 'web' in the registry '123456789012'");
    assert_int_equal(ERR_CODE(ecrmock_scan_findings_set(m, NULL, "app", d, NULL, dirty_err())), ECRMOCK_ERR_OK);
    free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_put_image_scanning_configuration_round_trip),
        T(test_put_image_scanning_configuration_repository_not_found),
        T(test_batch_get_repository_scanning_configuration_defaults_and_failures),
        T(test_registry_scanning_configuration_round_trip),
        T(test_registry_scanning_basic_refuses_continuous_scan),
        T(test_registry_rule_filters_match_as_the_user_guide_says),
        T(test_registry_rules_continuous_wins_over_scan_on_push),
        T(test_start_image_scan_then_complete_on_the_clock),
        T(test_start_image_scan_once_per_24_hours),
        T(test_start_image_scan_image_not_found),
        T(test_start_image_scan_manifest_list_unsupported),
        T(test_describe_image_scan_findings_errors),
        T(test_findings_counted_from_what_was_set),
        T(test_findings_paging),
        T(test_scan_on_push_by_repository_flag),
        T(test_scan_on_push_by_registry_rule),
        T(test_scan_on_push_only_for_new_images),
        T(test_describe_images_shows_scan),
        T(test_image_scan_complete_waiter),
        T(test_scan_duration_set_and_reset),
        T(test_scan_findings_set_errors),
        cmocka_unit_test(test_scanning_out_of_memory_changes_nothing),
        T(test_scan_controls_err),
    };
    return cmocka_run_group_tests_name("scanning", tests, NULL, NULL);
}
