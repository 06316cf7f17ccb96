#define _GNU_SOURCE
/*
 * The hot actions' tree-free forms (src/areas/areas.h, issue 19): the same
 * calls on two instances built alike, one answering through the forms and
 * one through the handlers only, must give the same status, the same bytes,
 * the same state and the same journal; and the forms must really answer
 * what they are meant to (each step says whether a form answers it).
 */
#include "helpers.h"

#include "core/core.h"

typedef struct pair {
    ecrmock *fast, *tree;
    char layer[ECRMOCK_DIGEST_SIZE], config[ECRMOCK_DIGEST_SIZE];
} pair;

/* A JSON string of `s` (malloc'd), quotes and all. */
static char *quoted(const char *s)
{
    json_t *v = json_string(s);
    assert_non_null(v);
    char *q = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
    json_decref(v);
    return q;
}

static void setup_one(ecrmock *m, pair *p)
{
    create_repo(m, "app");
    create_repo(m, "other/app");
    call_ok(m, "CreateRepository", "{\"repositoryName\":\"imm\",\"imageTagMutability\":\"IMMUTABLE\"}");
    const char *config = "{\"architecture\":\"amd64\",\"os\":\"linux\"}";
    push_layer(m, "app", config, strlen(config), p->config);
    push_layer(m, "app", "layer one", 9, p->layer);
    push_layer(m, "imm", config, strlen(config), p->config);
    push_layer(m, "imm", "layer one", 9, p->layer);
}

static int setup_pair(void **state)
{
    pair *p = calloc(1, sizeof *p);
    assert_non_null(p);
    p->fast = ecrmock_new(NULL);
    p->tree = ecrmock_new(NULL);
    assert_non_null(p->fast);
    assert_non_null(p->tree);
    p->tree->tree_only = true;
    setup_one(p->fast, p);
    setup_one(p->tree, p);
    *state = p;
    return 0;
}

static void assert_same_state(pair *p)
{
    json_t *a = ecrmock_snapshot(p->fast, NULL), *b = ecrmock_snapshot(p->tree, NULL);
    assert_non_null(a);
    assert_non_null(b);
    char *sa = json_dumps(a, JSON_SORT_KEYS | JSON_COMPACT), *sb = json_dumps(b, JSON_SORT_KEYS | JSON_COMPACT);
    assert_string_equal(sa, sb);
    free(sa);
    free(sb);
    json_decref(a);
    json_decref(b);
    a = ecrmock_journal_json(p->fast, NULL);
    b = ecrmock_journal_json(p->tree, NULL);
    assert_non_null(a);
    assert_non_null(b);
    sa = json_dumps(a, JSON_SORT_KEYS | JSON_COMPACT);
    sb = json_dumps(b, JSON_SORT_KEYS | JSON_COMPACT);
    assert_string_equal(sa, sb);
    free(sa);
    free(sb);
    json_decref(a);
    json_decref(b);
}

static int teardown_pair(void **state)
{
    pair *p = *state;
    assert_same_state(p);
    ecrmock_free(p->fast);
    ecrmock_free(p->tree);
    free(p);
    return 0;
}

/* Sends the body (printf-style) to both; asserts the same status and bytes,
 * and that a form answered (answered = 1) or not (0), or either (-1); returns the status. */
static int __attribute__((format(printf, 4, 5))) both(pair *p, int answered, const char *action, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *body = NULL;
    assert_true(vasprintf(&body, fmt, ap) >= 0);
    va_end(ap);
    unsigned long before = p->fast->fast_answered;
    char *a = NULL, *b = NULL;
    size_t an = 0, bn = 0;
    int sa = ecrmock_call_raw(p->fast, action, body, strlen(body), &a, &an);
    int sb = ecrmock_call_raw(p->tree, action, body, strlen(body), &b, &bn);
    assert_int_equal(p->tree->fast_answered, 0);
    if (sa != sb || an != bn || memcmp(a, b, an) != 0)
        fail_msg("%s %s\n  forms: %d %.*s\n  trees: %d %.*s", action, body, sa, (int)an, a, sb, (int)bn, b);
    if (answered >= 0 && (p->fast->fast_answered - before) != (unsigned long)answered)
        fail_msg("%s %.200s: a form %s it (%d %.*s)", action, body, answered ? "did not answer" : "answered", sa,
                 (int)an, a);
    assert_int_equal(a[an], '\0');
    ecrmock_buffer_free(a);
    ecrmock_buffer_free(b);
    free(body);
    return sa;
}

/* A manifest over the pair's config and layer, `salt` making it distinct. */
static char *manifest(pair *p, int salt, const char *media_type)
{
    char *m = NULL;
    assert_true(asprintf(&m,
                         "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":{\"mediaType\":"
                         "\"application/vnd.docker.container.image.v1+json\",\"size\":36,\"digest\":\"%s\"},"
                         "\"layers\":[{\"mediaType\":\"application/vnd.docker.image.rootfs.diff.tar.gzip\","
                         "\"size\":9,\"digest\":\"%s\"}],\"annotations\":{\"salt\":\"%d \\u00e9 \\\"q\\\"\"}}",
                         media_type, p->config, p->layer, salt) >= 0);
    return m;
}

#define DOCKER "application/vnd.docker.distribution.manifest.v2+json"

static void test_put_image_forms(void **state)
{
    pair *p = *state;
    char *m1 = manifest(p, 1, DOCKER), *q1 = quoted(m1);
    char *m2 = manifest(p, 2, DOCKER), *q2 = quoted(m2);
    char *m3 = manifest(p, 3, DOCKER), *q3 = quoted(m3);
    char d1[ECRMOCK_DIGEST_SIZE];
    sha256_digest(m1, strlen(m1), d1);

    assert_int_equal(both(p, 1, "PutImage", "{\"repositoryName\":\"app\",\"imageManifest\":%s,\"imageTag\":\"v1\"}", q1), 200);
    /* the same again: ImageAlreadyExistsException, the handler's */
    assert_int_equal(both(p, 0, "PutImage", "{\"repositoryName\":\"app\",\"imageManifest\":%s,\"imageTag\":\"v1\"}", q1), 400);
    /* another tag for it, by digest, media type given, names escaped, white space, unknown member */
    assert_int_equal(both(p, 1, "PutImage",
                          " {\"imageTa\\u0067s\":\"x\", \"repository\\u004eame\" : \"\\u0061pp\",\"imageManifest\":%s,"
                          "\"imageTag\":\"v1-\\u00e9\",\"imageDigest\":\"%s\",\"imageManifestMediaType\":\"%s\","
                          "\"unknown\":[1,2.5,{\"a\":true}]}\n",
                          q1, d1, DOCKER),
                     200);
    /* a member named twice, once escaped: the handler's */
    assert_int_equal(both(p, 0, "PutImage",
                          "{\"repository\\u004eame\":\"x\",\"repositoryName\":\"app\",\"imageManifest\":%s,"
                          "\"imageTag\":\"v2\"}",
                          q1),
                     200);
    /* a wrong digest, a media type that differs, a missing layer, no such repository */
    assert_int_equal(both(p, 0, "PutImage",
                          "{\"repositoryName\":\"app\",\"imageManifest\":%s,\"imageDigest\":\"sha256:%064d\"}", q2, 0),
                     400);
    assert_int_equal(both(p, 0, "PutImage",
                          "{\"repositoryName\":\"app\",\"imageManifest\":%s,\"imageManifestMediaType\":"
                          "\"application/vnd.oci.image.manifest.v1+json\"}",
                          q2),
                     400);
    assert_int_equal(both(p, 0, "PutImage", "{\"repositoryName\":\"nope\",\"imageManifest\":%s}", q2), 400);
    assert_int_equal(both(p, 0, "PutImage", "{\"repositoryName\":\"other/app\",\"imageManifest\":%s}", q2), 400);
    /* validation: the handler's words */
    assert_int_equal(both(p, 0, "PutImage", "{\"repositoryName\":\"app\",\"imageManifest\":%s,\"imageTag\":\"\"}", q2), 400);
    assert_int_equal(both(p, 0, "PutImage", "{\"repositoryName\":\"App\",\"imageManifest\":%s}", q2), 400);
    assert_int_equal(both(p, 0, "PutImage", "{\"repositoryName\":\"app\",\"imageManifest\":%s,\"imageTag\":7}", q2), 400);
    assert_int_equal(both(p, 0, "PutImage", "{\"repositoryName\":\"app\",\"imageManifest\":\"\"}"), 400);
    assert_int_equal(both(p, 0, "PutImage", "{\"repositoryName\":\"app\"}"), 400);
    assert_int_equal(both(p, 0, "PutImage", "{\"repositoryName\":\"app\",\"imageManifest\":%s,\"imageTag\":null}", q2), 200);
    assert_int_equal(both(p, 0, "PutImage", "{\"repositoryName\":\"app\",\"repositoryName\":\"app\",\"imageManifest\":%s}", q3), 200);
    assert_int_equal(both(p, 0, "PutImage", "[{\"repositoryName\":\"app\",\"imageManifest\":%s}]", q3), 400);
    assert_int_equal(both(p, 0, "PutImage", "{\"repositoryName\":\"app\",\"imageManifest\":%s", q3), 400);
    assert_int_equal(both(p, 0, "PutImage", "{\"registryId\":\"000000000000\",\"repositoryName\":\"app\",\"imageManifest\":%s}", q3), 400);
    /* a tag moves; an immutable repository refuses it */
    assert_int_equal(both(p, 1, "PutImage", "{\"registryId\":\"%s\",\"repositoryName\":\"app\",\"imageManifest\":%s,\"imageTag\":\"v1\"}",
                          ECRMOCK_DEFAULT_ACCOUNT, q3), 200);
    assert_int_equal(both(p, 1, "PutImage", "{\"repositoryName\":\"imm\",\"imageManifest\":%s,\"imageTag\":\"v1\"}", q1), 200);
    assert_int_equal(both(p, 0, "PutImage", "{\"repositoryName\":\"imm\",\"imageManifest\":%s,\"imageTag\":\"v1\"}", q2), 400);
    /* escapes the writer writes otherwise ("\/", "\u000a", "\u0041", lower-case hex): the
     * answer escapes the manifest itself; the writer's own ("\n", "\t", "\u001F") are copied */
    assert_int_equal(both(p, 1, "PutImage",
                          "{\"repositoryName\":\"app\",\"imageTag\":\"esc1\",\"imageManifest\":\"{\\u000a"
                          "\\\"schemaVersion\\\":2,\\\"mediaType\\\":\\\"application\\/vnd.docker.distribution."
                          "manifest.v2+json\\\",\\\"config\\\":{\\\"mediaType\\\":\\\"x\\\",\\\"digest\\\":"
                          "\\\"%s\\\"},\\\"layers\\\":[],\\\"\\u0041\\\":\\\"\\u00e9\\\"}\"}",
                          p->config),
                     200);
    assert_int_equal(both(p, 1, "PutImage",
                          "{\"repositoryName\":\"app\",\"imageTag\":\"esc2\",\"imageManifest\":\"{\\n\\t"
                          "\\\"schemaVersion\\\":2,\\\"mediaType\\\":\\\"application/vnd.docker.distribution."
                          "manifest.v2+json\\\",\\\"config\\\":{\\\"mediaType\\\":\\\"x\\\\u001F\\\",\\\"digest\\\":"
                          "\\\"%s\\\"},\\\"layers\\\":[],\\\"q\\\":\\\"\\\\\\\"\\\\u001f\\\"}\\r\"}",
                          p->config),
                     200);
    /* not JSON the manifest: the handler's error */
    assert_int_equal(both(p, 0, "PutImage", "{\"repositoryName\":\"app\",\"imageManifest\":\"{\\\"a\\\":\"}"), 400);
    free(m1), free(q1), free(m2), free(q2), free(m3), free(q3);
}

static void test_batch_get_image_forms(void **state)
{
    pair *p = *state;
    char *m1 = manifest(p, 1, DOCKER), *q1 = quoted(m1);
    char d1[ECRMOCK_DIGEST_SIZE];
    sha256_digest(m1, strlen(m1), d1);
    both(p, 1, "PutImage", "{\"repositoryName\":\"app\",\"imageManifest\":%s,\"imageTag\":\"v1\"}", q1);
    both(p, 1, "PutImage", "{\"repositoryName\":\"app\",\"imageManifest\":%s,\"imageTag\":\"latest\"}", q1);
    ecrmock_clock_advance(p->fast, 1500, NULL);
    ecrmock_clock_advance(p->tree, 1500, NULL);

    assert_int_equal(both(p, 1, "BatchGetImage", "{\"repositoryName\":\"app\",\"imageIds\":[{\"imageTag\":\"v1\"}]}"), 200);
    assert_int_equal(both(p, 1, "BatchGetImage", "{\"repositoryName\":\"app\",\"imageIds\":[{\"imageDigest\":\"%s\"}]}", d1), 200);
    /* failures of every kind beside images, duplicates, the tag and digest together */
    assert_int_equal(both(p, 1, "BatchGetImage",
                          "{\"repositoryName\":\"app\",\"imageIds\":[{\"imageTag\":\"nope\"},{\"imageDigest\":\"sha256:zz\"},"
                          "{\"imageTag\":\"v1\"},{},{\"imageTag\":\"v1\",\"imageDigest\":\"sha256:%064d\"},"
                          "{\"imageTag\":\"latest\",\"imageDigest\":\"%s\"},{\"imageTag\":\"v1\"},{\"imageTag\":\"q\\\"\\u00e9\"}]}",
                          0, d1),
                     200);
    assert_int_equal(both(p, 1, "BatchGetImage",
                          "{\"repositoryName\":\"app\",\"imageIds\":[{\"imageTag\":\"v1\"}],\"acceptedMediaTypes\":[\"a/b\",\"%s\"]}",
                          DOCKER),
                     200);
    assert_int_equal(both(p, 1, "BatchGetImage",
                          "{\"repositoryName\":\"app\",\"imageIds\":[{\"imageTag\":\"v1\"}],\"acceptedMediaTypes\":[\"a/b\"]}"),
                     200);
    assert_int_equal(both(p, 1, "BatchGetImage",
                          "{\"repositoryName\":\"app\",\"imageIds\":[{\"imageTag\":\"v1\"}],\"acceptedMediaTypes\":"
                          "[\"application\\/vnd.docker.distribution.manifest.v2+json\"]}"),
                     200);
    /* refusals: the handler's */
    assert_int_equal(both(p, 0, "BatchGetImage", "{\"repositoryName\":\"nope\",\"imageIds\":[{\"imageTag\":\"v1\"}]}"), 400);
    assert_int_equal(both(p, 0, "BatchGetImage", "{\"repositoryName\":\"app\",\"imageIds\":[]}"), 400);
    assert_int_equal(both(p, 0, "BatchGetImage", "{\"repositoryName\":\"app\",\"imageIds\":[null]}"), 400);
    assert_int_equal(both(p, 0, "BatchGetImage", "{\"repositoryName\":\"app\",\"imageIds\":{}}"), 400);
    assert_int_equal(both(p, 0, "BatchGetImage", "{\"repositoryName\":\"app\",\"imageIds\":[{\"imageTag\":\"\"}]}"), 400);
    /* 100 ids answer; 101 are refused */
    char ids[4000] = "";
    for (int i = 0; i < 101; i++)
        strcat(ids, i ? ",{\"imageTag\":\"v1\"}" : "{\"imageTag\":\"v1\"}");
    assert_int_equal(both(p, 0, "BatchGetImage", "{\"repositoryName\":\"app\",\"imageIds\":[%s]}", ids), 400);
    ids[strlen(ids) - strlen(",{\"imageTag\":\"v1\"}")] = '\0';
    assert_int_equal(both(p, 1, "BatchGetImage", "{\"repositoryName\":\"app\",\"imageIds\":[%s]}", ids), 200);
    free(m1), free(q1);
}

static void test_describe_forms(void **state)
{
    pair *p = *state;
    char *m1 = manifest(p, 1, DOCKER), *q1 = quoted(m1);
    char *m2 = manifest(p, 2, DOCKER), *q2 = quoted(m2);
    char d1[ECRMOCK_DIGEST_SIZE];
    sha256_digest(m1, strlen(m1), d1);
    both(p, 1, "PutImage", "{\"repositoryName\":\"app\",\"imageManifest\":%s,\"imageTag\":\"v1\"}", q1);
    both(p, 1, "PutImage", "{\"repositoryName\":\"app\",\"imageManifest\":%s}", q2);
    both(p, 1, "BatchGetImage", "{\"repositoryName\":\"app\",\"imageIds\":[{\"imageTag\":\"v1\"}]}");

    assert_int_equal(both(p, 1, "DescribeRepositories", "{}"), 200);
    assert_int_equal(both(p, 1, "DescribeRepositories", "{\"repositoryNames\":[\"app\",\"imm\",\"app\"]}"), 200);
    assert_int_equal(both(p, 1, "DescribeRepositories", "{\"registryId\":\"%s\",\"maxResults\":3}", ECRMOCK_DEFAULT_ACCOUNT), 200);
    assert_int_equal(both(p, 1, "DescribeRepositories", "{\"maxResults\":2}"), 200); /* a next page, its token */
    assert_int_equal(both(p, 0, "DescribeRepositories", "{\"repositoryNames\":[\"app\",\"nope\"]}"), 400);
    assert_int_equal(both(p, 0, "DescribeRepositories", "{\"repositoryNames\":[\"app\"],\"maxResults\":2}"), 400);
    assert_int_equal(both(p, 0, "DescribeRepositories", "{\"nextToken\":\"x\"}"), 400);
    assert_int_equal(both(p, 0, "DescribeRepositories", "{\"maxResults\":0}"), 400);
    assert_int_equal(both(p, 0, "DescribeRepositories", "{\"maxResults\":9223372036854775807}"), 400);
    assert_int_equal(both(p, 1, "DescribeRepositories", "{\"registryId\":\"000000000000\"}"), 200);

    assert_int_equal(both(p, 1, "DescribeImages", "{\"repositoryName\":\"app\"}"), 200);
    assert_int_equal(both(p, 1, "DescribeImages", "{\"repositoryName\":\"app\",\"imageIds\":[{\"imageTag\":\"v1\"},{\"imageDigest\":\"%s\"}]}", d1), 200);
    assert_int_equal(both(p, 1, "DescribeImages", "{\"repositoryName\":\"app\",\"maxResults\":1}"), 200);
    assert_int_equal(both(p, 1, "DescribeImages", "{\"repositoryName\":\"app\",\"maxResults\":2}"), 200);
    assert_int_equal(both(p, 0, "DescribeImages", "{\"repositoryName\":\"app\",\"filter\":{\"tagStatus\":\"TAGGED\"}}"), 200);
    assert_int_equal(both(p, 0, "DescribeImages", "{\"repositoryName\":\"app\",\"imageIds\":[{\"imageTag\":\"nope\"}]}"), 400);
    assert_int_equal(both(p, 0, "DescribeImages", "{\"repositoryName\":\"app\",\"imageIds\":[{\"imageTag\":\"v1\"}],\"maxResults\":5}"), 400);
    assert_int_equal(both(p, 1, "DescribeImages", "{\"repositoryName\":\"imm\"}"), 200);
    free(m1), free(q1), free(m2), free(q2);
}

/* A digest of 64 hex digits from the number n. */
#define ZERO_DIGEST(buf, n) snprintf((buf), sizeof(buf), "sha256:%064d", (n))

static void test_batch_check_layer_forms(void **state)
{
    pair *p = *state;
    char absent[ECRMOCK_DIGEST_SIZE], upper[ECRMOCK_DIGEST_SIZE];
    ZERO_DIGEST(absent, 7);
    snprintf(upper, sizeof upper, "sha256:%s", p->layer + 7);
    for (char *c = upper + 7; *c; c++)
        *c = (char)(*c >= 'a' && *c <= 'f' ? *c - 'a' + 'A' : *c);
    /* layers with no media type yet (no manifest lists them), missing, repeated,
     * empty, ill-formed, upper-case hex, a digest of another length */
    assert_int_equal(both(p, 1, "BatchCheckLayerAvailability",
                          "{\"repositoryName\":\"app\",\"layerDigests\":[\"%s\",\"%s\",\"%s\",\"%s\",\"\",\"sha256:zz\","
                          "\"%s\",\"%s\",\"md5:%032d\",\"%sa\"]}",
                          p->layer, absent, p->config, p->layer, upper, absent, 1, p->layer),
                     200);
    /* only failures; only layers */
    assert_int_equal(both(p, 1, "BatchCheckLayerAvailability", "{\"repositoryName\":\"app\",\"layerDigests\":[\"%s\"]}", absent), 200);
    assert_int_equal(both(p, 1, "BatchCheckLayerAvailability", "{\"repositoryName\":\"app\",\"layerDigests\":[\"%s\"]}", p->layer), 200);
    /* the media types a manifest taught */
    char *m1 = manifest(p, 1, DOCKER), *q1 = quoted(m1);
    both(p, 1, "PutImage", "{\"repositoryName\":\"app\",\"imageManifest\":%s,\"imageTag\":\"v1\"}", q1);
    assert_int_equal(both(p, 1, "BatchCheckLayerAvailability",
                          "{\"repositoryName\":\"app\",\"layerDigests\":[\"%s\",\"%s\",\"%s\"]}", p->config, p->layer, absent),
                     200);
    /* escapes: in the member names, in a digest that is well formed once decoded,
     * in digests that are not (written back as the writer writes them) */
    assert_int_equal(both(p, 1, "BatchCheckLayerAvailability",
                          "{\"repository\\u004eame\":\"\\u0061pp\",\"layer\\u0044igests\":[\"sha256\\u003a%s\","
                          "\"\\u00e9\\\"\\\\\\/\\n\\u001f\\ud83d\\ude00\"],\"registry\\u0049d\":\"%s\"}",
                          p->layer + 7, ECRMOCK_DEFAULT_ACCOUNT),
                     200);
    /* 100 digests answer */
    char list[8000] = "";
    for (int i = 0; i < 100; i++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s\"%s\"", i ? "," : "", i % 2 ? p->layer : absent);
    assert_int_equal(both(p, 1, "BatchCheckLayerAvailability", "{\"repositoryName\":\"app\",\"layerDigests\":[%s]}", list), 200);
    /* refusals: the handler's */
    assert_int_equal(both(p, 0, "BatchCheckLayerAvailability", "{\"repositoryName\":\"app\",\"layerDigests\":[%s,\"%s\"]}", list, absent), 400);
    assert_int_equal(both(p, 0, "BatchCheckLayerAvailability", "{\"repositoryName\":\"nope\",\"layerDigests\":[\"%s\"]}", absent), 400);
    assert_int_equal(both(p, 0, "BatchCheckLayerAvailability", "{\"repositoryName\":\"App\",\"layerDigests\":[\"%s\"]}", absent), 400);
    assert_int_equal(both(p, 0, "BatchCheckLayerAvailability",
                          "{\"registryId\":\"000000000000\",\"repositoryName\":\"app\",\"layerDigests\":[\"%s\"]}", absent),
                     400);
    assert_int_equal(both(p, 0, "BatchCheckLayerAvailability", "{\"repositoryName\":\"app\"}"), 400);
    assert_int_equal(both(p, 0, "BatchCheckLayerAvailability", "{\"repositoryName\":\"app\",\"layerDigests\":[]}"), 400);
    assert_int_equal(both(p, 0, "BatchCheckLayerAvailability", "{\"repositoryName\":\"app\",\"layerDigests\":\"%s\"}", absent), 400);
    assert_int_equal(both(p, 0, "BatchCheckLayerAvailability", "{\"repositoryName\":\"app\",\"layerDigests\":[7]}"), 400);
    assert_int_equal(both(p, 0, "BatchCheckLayerAvailability", "{\"repositoryName\":\"app\",\"layerDigests\":[null]}"), 400);
    assert_int_equal(both(p, 0, "BatchCheckLayerAvailability", "{\"repositoryName\":\"app\",\"layerDigests\":null}"), 400);
    assert_int_equal(both(p, 0, "BatchCheckLayerAvailability", "{\"repositoryName\":\"app\",\"layerDigests\":[\"%01001d\"]}", 0), 400);
    assert_int_equal(both(p, 0, "BatchCheckLayerAvailability", "{\"repositoryName\":\"app\",\"layerDigests\":[\"sha256:\xff\"]}"), 400);
    assert_int_equal(both(p, 0, "BatchCheckLayerAvailability", "{\"repositoryName\":\"app\",\"layerDigests\":[\"\\ud800\"]}"), 400);
    /* a member named twice; a digest longer than the form's scratch once escaped (1000
     * characters, 6000 bytes): the handler answers both */
    assert_int_equal(both(p, 0, "BatchCheckLayerAvailability",
                          "{\"repositoryName\":\"app\",\"layerDigests\":[\"x\"],\"layerDigests\":[\"%s\"]}", p->layer),
                     200);
    char *escaped = malloc(6001);
    assert_non_null(escaped);
    for (int i = 0; i < 1000; i++)
        memcpy(escaped + 6 * i, "\\u0061", 6);
    escaped[6000] = '\0';
    assert_int_equal(both(p, 0, "BatchCheckLayerAvailability", "{\"repositoryName\":\"app\",\"layerDigests\":[\"%s\"]}", escaped), 200);
    free(escaped);
    /* a fixture's declared layers (last: a load replaces the whole state; the
     * registry another account's): their declared size, up to 2^63 - 1 */
    char big[ECRMOCK_DIGEST_SIZE], small[ECRMOCK_DIGEST_SIZE];
    ZERO_DIGEST(big, 1);
    ZERO_DIGEST(small, 2);
    char *fixture = NULL;
    assert_true(asprintf(&fixture,
                         "{\"registries\":[{\"id\":\"210987654321\",\"repositories\":[{\"name\":\"decl\",\"layers\":["
                         "{\"declaredSize\":9223372036854775807,\"digest\":\"%s\"},{\"declaredSize\":7,\"digest\":\"%s\"}]}]}]}",
                         big, small) >= 0);
    ecrmock_err err = {0};
    assert_int_equal(ecrmock_fixture_load_string(p->fast, fixture, "decl.json", &err), 0);
    assert_int_equal(ecrmock_fixture_load_string(p->tree, fixture, "decl.json", &err), 0);
    free(fixture);
    assert_int_equal(both(p, 1, "BatchCheckLayerAvailability",
                          "{\"registryId\":\"210987654321\",\"repositoryName\":\"decl\",\"layerDigests\":[\"%s\",\"%s\",\"%s\"]}",
                          big, small, p->layer),
                     200);
    free(m1), free(q1);
}

/* ListImages over `repo`, with the members `more` after it ("" or ",\"name\":value..."). */
static int list_images(pair *p, int answered, const char *repo, const char *more)
{
    return both(p, answered, "ListImages", "{\"repositoryName\":\"%s\"%s}", repo, more);
}

static void test_list_images_forms(void **state)
{
    pair *p = *state;
    char *m1 = manifest(p, 1, DOCKER), *q1 = quoted(m1);
    char *m2 = manifest(p, 2, DOCKER), *q2 = quoted(m2);
    char *m3 = manifest(p, 3, DOCKER), *q3 = quoted(m3);
    char d3[ECRMOCK_DIGEST_SIZE];
    sha256_digest(m3, strlen(m3), d3);
    assert_int_equal(list_images(p, 1, "app", ""), 200); /* none yet */
    /* five ids: m1 with three tags (one with escapes), m2 untagged, m3 with one tag */
    both(p, 1, "PutImage", "{\"repositoryName\":\"app\",\"imageManifest\":%s,\"imageTag\":\"v1\"}", q1);
    both(p, 1, "PutImage", "{\"repositoryName\":\"app\",\"imageManifest\":%s,\"imageTag\":\"latest\"}", q1);
    both(p, 1, "PutImage", "{\"repositoryName\":\"app\",\"imageManifest\":%s,\"imageTag\":\"q\\\"\\u00e9\\/\\\\\"}", q1);
    both(p, 1, "PutImage", "{\"repositoryName\":\"app\",\"imageManifest\":%s}", q2);
    both(p, 1, "PutImage", "{\"repositoryName\":\"app\",\"imageManifest\":%s,\"imageTag\":\"v3\"}", q3);

    assert_int_equal(list_images(p, 1, "app", ""), 200);
    assert_int_equal(list_images(p, 1, "app", ",\"maxResults\":5"), 200); /* the exact page */
    assert_int_equal(list_images(p, 1, "app", ",\"maxResults\":6"), 200);
    assert_int_equal(list_images(p, 1, "app", ",\"maxResults\":1000"), 200);
    assert_int_equal(list_images(p, 1, "app", ",\"maxResults\":4"), 200); /* a next page: the token the handler makes */
    assert_int_equal(list_images(p, 1, "app", ",\"maxResults\":1"), 200);
    /* a walk of pages of two: the first page's token (the form's) reads as the handler's */
    char token[256] = "";
    for (int page = 0; page < 3; page++) {
        char more[300];
        snprintf(more, sizeof more, ",\"maxResults\":2%s%s%s", page ? ",\"nextToken\":\"" : "", token, page ? "\"" : "");
        assert_int_equal(list_images(p, page ? 0 : 1, "app", more), 200);
        char body[400], *out = NULL;
        size_t n = 0;
        snprintf(body, sizeof body, "{\"repositoryName\":\"app\"%s}", more);
        assert_int_equal(ecrmock_call_raw(p->fast, "ListImages", body, strlen(body), &out, &n), 200);
        json_t *doc = json_loadb(out, n, 0, NULL);
        const char *next = json_string_value(json_object_get(doc, "nextToken"));
        assert_int_equal(json_array_size(json_object_get(doc, "imageIds")), page < 2 ? 2 : 1);
        assert_true(page < 2 ? next != NULL : next == NULL);
        snprintf(token, sizeof token, "%s", next ? next : "");
        json_decref(doc);
        ecrmock_buffer_free(out);
        out = NULL;
        assert_int_equal(ecrmock_call_raw(p->tree, "ListImages", body, strlen(body), &out, &n), 200); /* the twins stay alike */
        ecrmock_buffer_free(out);
    }
    /* filters */
    assert_int_equal(list_images(p, 1, "app", ",\"filter\":{\"tagStatus\":\"TAGGED\"}"), 200);
    assert_int_equal(list_images(p, 1, "app", ",\"filter\":{\"tagStatus\":\"UNTAGGED\"},\"maxResults\":1"), 200);
    assert_int_equal(list_images(p, 1, "app", ",\"filter\":{\"tagStatus\":\"ANY\",\"imageStatus\":\"ANY\"}"), 200);
    assert_int_equal(list_images(p, 1, "app", ",\"filter\":{\"imageStatus\":\"ARCHIVED\"}"), 200);
    assert_int_equal(list_images(p, 1, "app", ",\"filter\":{}"), 200);
    assert_int_equal(list_images(p, 1, "app", ",\"filter\":{\"tagStatus\":\"TAGGED\"},\"maxResults\":3"), 200);
    /* escapes in names and values */
    assert_int_equal(both(p, 1, "ListImages",
                          "{\"repository\\u004eame\":\"\\u0061pp\",\"filter\":{\"tag\\u0053tatus\":\"T\\u0041GGED\","
                          "\"image\\u0053tatus\":\"\\u0041CTIVE\"},\"max\\u0052esults\":4}"),
                     200);
    /* archived, then being restored: imageStatus decides */
    both(p, 0, "UpdateImageStorageClass",
         "{\"repositoryName\":\"app\",\"imageId\":{\"imageDigest\":\"%s\"},\"targetStorageClass\":\"ARCHIVE\"}", d3);
    assert_int_equal(list_images(p, 1, "app", ""), 200);
    assert_int_equal(list_images(p, 1, "app", ",\"filter\":{\"imageStatus\":\"ARCHIVED\"}"), 200);
    assert_int_equal(list_images(p, 1, "app", ",\"filter\":{\"imageStatus\":\"ANY\",\"tagStatus\":\"TAGGED\"}"), 200);
    both(p, 0, "UpdateImageStorageClass",
         "{\"repositoryName\":\"app\",\"imageId\":{\"imageDigest\":\"%s\"},\"targetStorageClass\":\"STANDARD\"}", d3);
    assert_int_equal(list_images(p, 1, "app", ",\"filter\":{\"imageStatus\":\"ACTIVATING\"}"), 200);
    assert_int_equal(list_images(p, 1, "app", ",\"filter\":{\"imageStatus\":\"ARCHIVED\"}"), 200);
    assert_int_equal(list_images(p, 1, "app", ",\"maxResults\":4"), 200); /* the exact page again */
    /* the default page, 100 ids: exactly, then one more */
    for (int i = 0; i < 100; i++)
        both(p, 1, "PutImage", "{\"repositoryName\":\"imm\",\"imageManifest\":%s,\"imageTag\":\"t%03d\"}", q1, i);
    assert_int_equal(list_images(p, 1, "imm", ""), 200);
    both(p, 1, "PutImage", "{\"repositoryName\":\"imm\",\"imageManifest\":%s}", q2);
    assert_int_equal(list_images(p, 1, "imm", ""), 200);
    assert_int_equal(list_images(p, 1, "imm", ",\"maxResults\":101"), 200);
    assert_int_equal(list_images(p, 1, "imm", ",\"maxResults\":1000"), 200);
    assert_int_equal(list_images(p, 1, "imm", ",\"maxResults\":100"), 200);
    /* refusals: the handler's */
    assert_int_equal(list_images(p, 0, "app", ",\"maxResults\":0"), 400);
    assert_int_equal(list_images(p, 0, "app", ",\"maxResults\":-1"), 400);
    assert_int_equal(list_images(p, 0, "app", ",\"maxResults\":1001"), 400);
    assert_int_equal(list_images(p, 0, "app", ",\"maxResults\":2147483648"), 400);
    assert_int_equal(list_images(p, 0, "app", ",\"maxResults\":9223372036854775807"), 400);
    assert_int_equal(list_images(p, 0, "app", ",\"maxResults\":-9223372036854775808"), 400);
    assert_int_equal(list_images(p, 0, "app", ",\"maxResults\":2.0"), 400);
    assert_int_equal(list_images(p, 0, "app", ",\"maxResults\":\"2\""), 400);
    assert_int_equal(list_images(p, 0, "app", ",\"nextToken\":\"x\""), 400);
    assert_int_equal(list_images(p, 0, "app", ",\"nextToken\":\"\""), 400);
    assert_int_equal(list_images(p, 0, "app", ",\"filter\":{\"tagStatus\":\"tagged\"}"), 400);
    assert_int_equal(list_images(p, 0, "app", ",\"filter\":{\"imageStatus\":\"RESTORING\"}"), 400);
    assert_int_equal(list_images(p, 0, "app", ",\"filter\":[]"), 400);
    assert_int_equal(list_images(p, 0, "app", ",\"filter\":{\"tagStatus\":1}"), 400);
    assert_int_equal(list_images(p, 0, "nope", ""), 400);
    assert_int_equal(list_images(p, 0, "App", ""), 400);
    assert_int_equal(list_images(p, 0, "app", ",\"registryId\":\"000000000000\""), 400);
    assert_int_equal(both(p, 0, "ListImages", "{}"), 400);
    assert_int_equal(list_images(p, 0, "app", ",\"filter\":{\"tagStatus\":\"TAGGED\xff\"}"), 400);
    assert_int_equal(list_images(p, 0, "app", ",\"filter\":null"), 200);
    assert_int_equal(list_images(p, 0, "app", ",\"maxResults\":2,\"maxResults\":5"), 200);
    free(m1), free(q1), free(m2), free(q2), free(m3), free(q3);
}

/* Hooks and fault rules are the tree path's: with either set, no form answers. */
static int noop_rule_counter;
static void before_hook(void *user, const char *action, json_t *req, ecrmock_injection *inj)
{
    (void)user, (void)action, (void)req, (void)inj;
    noop_rule_counter++;
}

static void test_forms_step_aside(void **state)
{
    pair *p = *state;
    ecrmock_hooks_set(p->fast, before_hook, NULL, NULL);
    ecrmock_hooks_set(p->tree, before_hook, NULL, NULL);
    assert_int_equal(both(p, 0, "DescribeRepositories", "{}"), 200);
    assert_int_equal(noop_rule_counter, 2);
    ecrmock_hooks_set(p->fast, NULL, NULL, NULL);
    ecrmock_hooks_set(p->tree, NULL, NULL, NULL);
    assert_int_equal(both(p, 1, "DescribeRepositories", "{}"), 200);
    /* a rule for another action still sends every call the tree's way */
    for (int i = 0; i < 2; i++) {
        ecrmock *m = i ? p->tree : p->fast;
        json_t *rule = json_pack("{s:s, s:s}", "action", "ListImages", "error", "ThrottlingException");
        assert_true(ecrmock_fault_add_json(m, rule, NULL) > 0);
        json_decref(rule);
    }
    assert_int_equal(both(p, 0, "DescribeRepositories", "{}"), 200);
}

/* Bodies the forms must decline or answer as the handlers do (issue 19's attack):
 * int64 edges, reals, invalid UTF-8, escapes everywhere, deep nesting, sizes at their limits. */
static void test_forms_edges(void **state)
{
    pair *p = *state;
    char *m1 = manifest(p, 1, DOCKER), *q1 = quoted(m1);
    both(p, 1, "PutImage", "{\"repositoryName\":\"app\",\"imageManifest\":%s,\"imageTag\":\"v1\"}", q1);
    static const char *const numbers[] = {"-9223372036854775808", "-9223372036854775807", "-1", "0", "1", "2",
                                          "1000", "1001", "1024", "2147483647", "2147483648", "4294967297",
                                          "9223372036854775807", "1.0", "1e2", "1E0", "2.5", "-0", "-0.0", "0e0",
                                          "1e400", "1e-400", "\"5\"", "true", "[]", "{}"};
    for (size_t i = 0; i < sizeof numbers / sizeof *numbers; i++) {
        both(p, -1, "DescribeRepositories", "{\"maxResults\":%s}", numbers[i]);
        both(p, -1, "DescribeImages", "{\"repositoryName\":\"app\",\"maxResults\":%s}", numbers[i]);
        both(p, -1, "DescribeImages", "{\"repositoryName\":\"app\",\"imageIds\":[{\"imageTag\":\"v1\"}],\"maxResults\":%s}",
             numbers[i]);
        both(p, -1, "BatchGetImage", "{\"repositoryName\":\"app\",\"imageIds\":[{\"imageTag\":%s}]}", numbers[i]);
        both(p, -1, "PutImage", "{\"repositoryName\":\"app\",\"imageManifest\":%s,\"imageTag\":%s}", q1, numbers[i]);
    }
    /* strings: invalid UTF-8 (raw), overlong forms, surrogates written raw and as escapes */
    static const char *const strings[] = {"v\xff", "v\xc0\xaf", "v\xed\xa0\x80", "v\xf4\x90\x80\x80", "\\ud800",
                                          "v\\udc00", "\\ud83d\\ude00", "\xf0\x9f\x98\x80", "\\u0076\\u0031",
                                          "v\\u0000", "\\/", "v1\\/", "a\\\"b", "\\u00e9", "\xc3\xa9", "app\\u0000",
                                          "\\u0061\\u0070\\u0070", "APP", "app/", "a--b", "\\u007f", "v\x7f", "v\x01"};
    for (size_t i = 0; i < sizeof strings / sizeof *strings; i++) {
        const char *s = strings[i];
        both(p, -1, "DescribeRepositories", "{\"repositoryNames\":[\"%s\"]}", s);
        both(p, -1, "DescribeRepositories", "{\"registryId\":\"%s\"}", s);
        both(p, -1, "DescribeImages", "{\"repositoryName\":\"%s\"}", s);
        both(p, -1, "DescribeImages", "{\"repositoryName\":\"app\",\"imageIds\":[{\"imageTag\":\"%s\"}]}", s);
        both(p, -1, "DescribeImages", "{\"repositoryName\":\"app\",\"imageIds\":[{\"imageDigest\":\"%s\"}]}", s);
        both(p, -1, "BatchGetImage", "{\"repositoryName\":\"%s\",\"imageIds\":[{\"imageTag\":\"v1\"}]}", s);
        both(p, -1, "BatchGetImage", "{\"repositoryName\":\"app\",\"imageIds\":[{\"imageTag\":\"%s\"}]}", s);
        both(p, -1, "BatchGetImage", "{\"repositoryName\":\"app\",\"imageIds\":[{\"imageDigest\":\"%s\"}]}", s);
        both(p, -1, "BatchGetImage", "{\"repositoryName\":\"app\",\"imageIds\":[{\"imageTag\":\"v1\"}],\"acceptedMediaTypes\":[\"%s\"]}", s);
        both(p, -1, "BatchGetImage", "{\"repositoryName\":\"app\",\"imageIds\":[{\"imageTag\":\"v1\"}],\"%s\":1}", s);
        both(p, -1, "PutImage", "{\"repositoryName\":\"app\",\"imageManifest\":%s,\"imageTag\":\"x%s\"}", q1, s);
        both(p, -1, "PutImage", "{\"repositoryName\":\"app\",\"imageManifest\":%s,\"imageManifestMediaType\":\"%s\"}", q1, s);
        both(p, -1, "PutImage", "{\"repositoryName\":\"app\",\"imageManifest\":%s,\"imageDigest\":\"%s\"}", q1, s);
        both(p, -1, "PutImage", "{\"repositoryName\":\"app\",\"imageManifest\":\"%s\"}", s);
    }
    /* 2048 levels of an unknown member, and 2049 */
    for (int depth = 2046; depth <= 2049; depth++) {
        char *deep = malloc(2 * (size_t)depth + 1);
        assert_non_null(deep);
        memset(deep, '[', (size_t)depth);
        memset(deep + depth, ']', (size_t)depth);
        deep[2 * depth] = '\0';
        both(p, -1, "DescribeRepositories", "{\"x\":%s}", deep);
        both(p, -1, "BatchGetImage", "{\"repositoryName\":\"app\",\"imageIds\":[{\"imageTag\":\"v1\"}],\"x\":%s}", deep);
        both(p, -1, "PutImage", "{\"repositoryName\":\"app\",\"imageManifest\":%s,\"imageTag\":\"deep\",\"x\":%s}", q1, deep);
        free(deep);
    }
    /* 100 ids, each a 300-character tag written in \u escapes (and 301) */
    for (int len = 299; len <= 301; len++) {
        size_t cap = 100 * (len * 6 + 32) + 64;
        char *ids = malloc(cap), *o = ids;
        assert_non_null(ids);
        for (int i = 0; i < 100; i++) {
            o += sprintf(o, "%s{\"imageTag\":\"", i ? "," : "");
            for (int k = 0; k < len; k++)
                o += sprintf(o, "\\u00%02x", k % 2 ? 0xe9 : 'a' + (i + k) % 26);
            o += sprintf(o, "\"}");
        }
        both(p, -1, "BatchGetImage", "{\"repositoryName\":\"app\",\"imageIds\":[%s]}", ids);
        both(p, -1, "DescribeImages", "{\"repositoryName\":\"app\",\"imageIds\":[%s]}", ids);
        free(ids);
    }
    /* repository names at 256 characters and 257 */
    for (int len = 255; len <= 257; len++) {
        char name[300];
        memset(name, 'r', (size_t)len);
        name[len] = '\0';
        both(p, -1, "CreateRepository", "{\"repositoryName\":\"%s\"}", name);
        both(p, -1, "DescribeRepositories", "{\"repositoryNames\":[\"%s\"]}", name);
        both(p, -1, "DescribeImages", "{\"repositoryName\":\"%s\"}", name);
        both(p, -1, "BatchGetImage", "{\"repositoryName\":\"%s\",\"imageIds\":[{\"imageTag\":\"v1\"}]}", name);
        both(p, -1, "PutImage", "{\"repositoryName\":\"%s\",\"imageManifest\":%s}", name, q1);
    }
    free(m1), free(q1);
}

/* The same call on both instances at the JSON level (setup that is not a hot action). */
static void both_ok(pair *p, const char *action, const char *body)
{
    call_ok(p->fast, action, body);
    call_ok(p->tree, action, body);
}

/* The forms beside the state that changes what a hot action does: scan on
 * push, immutable tags with exclusions, replication, archived images, pull
 * time exclusions, another account's registry. */
static void test_forms_beside_every_setting(void **state)
{
    pair *p = *state;
    const char *config = "{\"architecture\":\"amd64\",\"os\":\"linux\"}";
    both_ok(p, "CreateRepository", "{\"repositoryName\":\"scan\",\"imageScanningConfiguration\":{\"scanOnPush\":true}}");
    both_ok(p, "CreateRepository",
            "{\"repositoryName\":\"ex\",\"imageTagMutability\":\"IMMUTABLE_WITH_EXCLUSION\","
            "\"imageTagMutabilityExclusionFilters\":[{\"filterType\":\"WILDCARD\",\"filter\":\"dev-*\"}]}");
    both_ok(p, "PutReplicationConfiguration",
            "{\"replicationConfiguration\":{\"rules\":[{\"destinations\":[{\"region\":\"eu-west-1\",\"registryId\":\""
            ECRMOCK_DEFAULT_ACCOUNT "\"}]}]}}");
    for (int i = 0; i < 2; i++) {
        ecrmock *m = i ? p->tree : p->fast;
        json_t *r = NULL, *req = json_pack("{s:s}", "repositoryName", "theirs");
        assert_int_equal(ecrmock_call_as(m, "210987654321", NULL, "CreateRepository", req, &r), 200);
        json_decref(r);
        json_decref(req);
        assert_int_equal(ecrmock_put_layer(m, "210987654321", "theirs", config, strlen(config), NULL, NULL), ECRMOCK_ERR_OK);
        assert_int_equal(ecrmock_put_layer(m, "210987654321", "theirs", "layer one", 9, NULL, NULL), ECRMOCK_ERR_OK);
        for (int k = 0; k < 2; k++) {
            const char *repo = k ? "scan" : "ex";
            push_layer(m, repo, config, strlen(config), p->config);
            push_layer(m, repo, "layer one", 9, p->layer);
        }
    }
    char *q[4];
    char d[4][ECRMOCK_DIGEST_SIZE];
    for (int i = 0; i < 4; i++) {
        char *m = manifest(p, 10 + i, DOCKER);
        sha256_digest(m, strlen(m), d[i]);
        q[i] = quoted(m);
        free(m);
    }
    /* scan on push; replication (the tag to eu-west-1 too) */
    both(p, -1, "PutImage", "{\"repositoryName\":\"scan\",\"imageManifest\":%s,\"imageTag\":\"s\"}", q[0]);
    both(p, -1, "PutImage", "{\"repositoryName\":\"app\",\"imageManifest\":%s,\"imageTag\":\"r\"}", q[0]);
    both(p, -1, "DescribeImages", "{\"repositoryName\":\"scan\"}");
    /* immutable but for dev-*: dev-1 moves, rel does not */
    both(p, -1, "PutImage", "{\"repositoryName\":\"ex\",\"imageManifest\":%s,\"imageTag\":\"dev-1\"}", q[0]);
    both(p, -1, "PutImage", "{\"repositoryName\":\"ex\",\"imageManifest\":%s,\"imageTag\":\"dev-1\"}", q[1]);
    both(p, -1, "PutImage", "{\"repositoryName\":\"ex\",\"imageManifest\":%s,\"imageTag\":\"rel\"}", q[0]);
    both(p, -1, "PutImage", "{\"repositoryName\":\"ex\",\"imageManifest\":%s,\"imageTag\":\"rel\"}", q[1]);
    both(p, -1, "PutImage", "{\"repositoryName\":\"ex\",\"imageManifest\":%s,\"imageTag\":\"de\\u0076-2\"}", q[2]);
    /* archived: pulled, described, pushed again (restored) */
    char body[512];
    snprintf(body, sizeof body,
             "{\"repositoryName\":\"ex\",\"imageId\":{\"imageDigest\":\"%s\"},\"targetStorageClass\":\"ARCHIVE\"}", d[1]);
    both_ok(p, "UpdateImageStorageClass", body);
    ecrmock_clock_advance(p->fast, 2000, NULL);
    ecrmock_clock_advance(p->tree, 2000, NULL);
    both(p, -1, "BatchGetImage", "{\"repositoryName\":\"ex\",\"imageIds\":[{\"imageTag\":\"dev-1\"},{\"imageDigest\":\"%s\"}]}", d[1]);
    both(p, -1, "DescribeImages", "{\"repositoryName\":\"ex\"}");
    both(p, -1, "DescribeImages", "{\"repositoryName\":\"ex\",\"imageIds\":[{\"imageDigest\":\"%s\"}]}", d[1]);
    both(p, -1, "PutImage", "{\"repositoryName\":\"ex\",\"imageManifest\":%s}", q[1]);
    both(p, -1, "PutImage", "{\"repositoryName\":\"ex\",\"imageManifest\":%s,\"imageTag\":\"dev-1\"}", q[1]);
    both(p, -1, "DescribeImages", "{\"repositoryName\":\"ex\"}");
    /* a principal whose pulls are not recorded */
    for (int i = 0; i < 2; i++)
        assert_int_equal(ecrmock_principal_set(i ? p->tree : p->fast, "arn:aws:iam::123456789012:user/ci", NULL), 0);
    both_ok(p, "RegisterPullTimeUpdateExclusion", "{\"principalArn\":\"arn:aws:iam::123456789012:user/ci\"}");
    ecrmock_clock_advance(p->fast, 2000, NULL);
    ecrmock_clock_advance(p->tree, 2000, NULL);
    both(p, -1, "BatchGetImage", "{\"repositoryName\":\"scan\",\"imageIds\":[{\"imageTag\":\"s\"}]}");
    both(p, -1, "DescribeImages", "{\"repositoryName\":\"scan\"}");
    /* another account's registry, named */
    both(p, -1, "DescribeRepositories", "{\"registryId\":\"210987654321\"}");
    both(p, -1, "PutImage", "{\"registryId\":\"210987654321\",\"repositoryName\":\"theirs\",\"imageManifest\":%s,\"imageTag\":\"x\"}", q[3]);
    both(p, -1, "BatchGetImage", "{\"registryId\":\"210987654321\",\"repositoryName\":\"theirs\",\"imageIds\":[{\"imageTag\":\"x\"}]}");
    both(p, -1, "DescribeImages", "{\"registryId\":\"210987654321\",\"repositoryName\":\"theirs\"}");
    for (int i = 0; i < 4; i++)
        free(q[i]);
}

/* A manifest at ImageManifest's 4,194,304 characters and one past, written
 * plainly, in \u escapes (more bytes in the body than characters) and in
 * two-byte characters (more bytes than characters in the manifest). */
static void test_forms_manifest_at_its_limit(void **state)
{
    pair *p = *state;
    enum { LIMIT = 4194304 };
    char head[512];
    int hn = snprintf(head, sizeof head,
                      "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":{\"mediaType\":"
                      "\"application/vnd.docker.container.image.v1+json\",\"size\":36,\"digest\":\"%s\"},"
                      "\"layers\":[],\"annotations\":{\"pad\":\"",
                      DOCKER, p->config);
    const char *tail = "\"}}";
    /* one character of the pad as the body writes it (inside the JSON string) */
    static const char *const pads[] = {"x", "\\u0078", "\xc3\xa9", "\\u00e9"};
    for (size_t k = 0; k < sizeof pads / sizeof *pads; k++) {
        for (int extra = 0; extra <= 1; extra++) {
            /* the manifest's characters: head, pad, tail */
            size_t pad = LIMIT + (size_t)extra - (size_t)hn - strlen(tail);
            size_t ulen = strlen(pads[k]);
            size_t cap = 64 + 2 * (size_t)hn + pad * ulen + 16;
            char *body = malloc(cap), *o = body;
            assert_non_null(body);
            o += sprintf(o, "{\"repositoryName\":\"app\",\"imageTag\":\"big%zu-%d\",\"imageManifest\":\"", k, extra);
            for (const char *h = head; *h; h++) { /* the head as a JSON string */
                if (*h == '"' || *h == '\\')
                    *o++ = '\\';
                *o++ = *h;
            }
            for (size_t i = 0; i < pad; i++, o += ulen)
                memcpy(o, pads[k], ulen);
            o += sprintf(o, "\\\"}}\"}");
            char *a = NULL, *b = NULL;
            size_t an = 0, bn = 0;
            int sa = ecrmock_call_raw(p->fast, "PutImage", body, (size_t)(o - body), &a, &an);
            int sb = ecrmock_call_raw(p->tree, "PutImage", body, (size_t)(o - body), &b, &bn);
            if (sa != sb || an != bn || memcmp(a, b, an) != 0)
                fail_msg("pad %zu, %d past the limit: forms %d %.300s\n  trees %d %.300s", k, extra, sa, a, sb, b);
            if (sa != (extra ? 400 : 200))
                fail_msg("pad %zu, %d past the limit: %d %.300s", k, extra, sa, a);
            ecrmock_buffer_free(a);
            ecrmock_buffer_free(b);
            free(body);
        }
    }
}

/* A before-hook that takes the hooks away and calls the hot actions on its
 * own instance, mid-call: the inner calls may take the forms (no hook is set
 * any more), the outer one runs on with what they did. */
static const char *hook_put_body;

static void hook_calls_in(void *user, const char *action, json_t *req, ecrmock_injection *inj)
{
    (void)action, (void)req, (void)inj;
    ecrmock *m = user;
    ecrmock_hooks_set(m, NULL, NULL, NULL);
    static const char *const calls[][2] = {
        {"PutImage", NULL},
        {"BatchGetImage", "{\"repositoryName\":\"app\",\"imageIds\":[{\"imageTag\":\"in-hook\"}]}"},
        {"DescribeImages", "{\"repositoryName\":\"app\"}"},
        {"DescribeRepositories", "{}"},
    };
    for (size_t i = 0; i < sizeof calls / sizeof *calls; i++) {
        const char *body = calls[i][1] ? calls[i][1] : hook_put_body;
        char *out = NULL;
        size_t n = 0;
        assert_int_equal(ecrmock_call_raw(m, calls[i][0], body, strlen(body), &out, &n), 200);
        ecrmock_buffer_free(out);
    }
}

static void test_forms_called_from_a_hook(void **state)
{
    pair *p = *state;
    char *m1 = manifest(p, 1, DOCKER), *q1 = quoted(m1), *body = NULL;
    assert_true(asprintf(&body, "{\"repositoryName\":\"app\",\"imageManifest\":%s,\"imageTag\":\"in-hook\"}", q1) >= 0);
    hook_put_body = body;
    ecrmock_hooks_set(p->fast, hook_calls_in, NULL, p->fast);
    ecrmock_hooks_set(p->tree, hook_calls_in, NULL, p->tree);
    unsigned long before = p->fast->fast_answered;
    assert_int_equal(both(p, -1, "DescribeImages", "{\"repositoryName\":\"app\"}"), 200);
    assert_int_equal(p->fast->fast_answered - before, 4); /* the inner calls took the forms, the outer one not */
    assert_int_equal(both(p, 1, "DescribeImages", "{\"repositoryName\":\"app\"}"), 200);
    free(body), free(m1), free(q1);
}

/* Richer state through the forms: an index over two images, an artifact
 * that refers to one (subject, artifactType), an image with many tags, a
 * repository with KMS encryption, resource tags and scan on push. */
static void test_forms_rich_state(void **state)
{
    pair *p = *state;
    both_ok(p, "CreateRepository",
            "{\"repositoryName\":\"rich\",\"imageScanningConfiguration\":{\"scanOnPush\":true},"
            "\"encryptionConfiguration\":{\"encryptionType\":\"KMS\",\"kmsKey\":\"arn:aws:kms:us-east-1:123456789012:key/k\"},"
            "\"tags\":[{\"Key\":\"team\",\"Value\":\"\\u00e9\\\"q\"}]}");
    char *m1 = manifest(p, 1, DOCKER), *q1 = quoted(m1), *m2 = manifest(p, 2, "application/vnd.oci.image.manifest.v1+json"),
         *q2 = quoted(m2);
    char d1[ECRMOCK_DIGEST_SIZE], d2[ECRMOCK_DIGEST_SIZE];
    sha256_digest(m1, strlen(m1), d1);
    sha256_digest(m2, strlen(m2), d2);
    for (int i = 0; i < 40; i++)
        both(p, 1, "PutImage", "{\"repositoryName\":\"app\",\"imageManifest\":%s,\"imageTag\":\"t%02d\"}", q1, i);
    both(p, 1, "PutImage", "{\"repositoryName\":\"app\",\"imageManifest\":%s}", q2);
    char *index = NULL, *artifact = NULL;
    assert_true(asprintf(&index,
                         "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":["
                         "{\"mediaType\":\"%s\",\"size\":1,\"digest\":\"%s\",\"platform\":{\"os\":\"linux\"}},"
                         "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"size\":1,\"digest\":\"%s\"}]}",
                         DOCKER, d1, d2) >= 0);
    assert_true(asprintf(&artifact,
                         "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                         "\"artifactType\":\"application/vnd.example.sig\",\"config\":{\"mediaType\":"
                         "\"application/vnd.oci.empty.v1+json\",\"size\":36,\"digest\":\"%s\"},\"layers\":[{\"mediaType\":"
                         "\"application/octet-stream\",\"size\":9,\"digest\":\"%s\"}],\"subject\":{\"mediaType\":\"%s\","
                         "\"size\":1,\"digest\":\"%s\"}}",
                         p->config, p->layer, DOCKER, d1) >= 0);
    char *qi = quoted(index), *qa = quoted(artifact);
    both(p, 1, "PutImage", "{\"repositoryName\":\"app\",\"imageManifest\":%s,\"imageTag\":\"multi\"}", qi);
    both(p, 1, "PutImage", "{\"repositoryName\":\"app\",\"imageManifest\":%s,\"imageTag\":\"sig\"}", qa);
    both(p, 1, "BatchGetImage", "{\"repositoryName\":\"app\",\"imageIds\":[{\"imageDigest\":\"%s\"},{\"imageTag\":\"multi\"},"
                                "{\"imageTag\":\"sig\"}]}", d1);
    both(p, 1, "BatchGetImage", "{\"repositoryName\":\"app\",\"imageIds\":[{\"imageTag\":\"multi\"}],\"acceptedMediaTypes\":"
                                "[\"application/vnd.oci.image.index.v1+json\"]}");
    both(p, 1, "DescribeImages", "{\"repositoryName\":\"app\"}");
    both(p, 1, "DescribeImages", "{\"repositoryName\":\"app\",\"imageIds\":[{\"imageTag\":\"multi\"},{\"imageTag\":\"sig\"},"
                                 "{\"imageTag\":\"t07\"}]}");
    both(p, 1, "DescribeRepositories", "{\"repositoryNames\":[\"rich\",\"app\"]}");
    both(p, 1, "DescribeRepositories", "{}");
    free(m1), free(q1), free(m2), free(q2), free(index), free(artifact), free(qi), free(qa);
}

/* The HTTP level: headers go to the journal with the call, the region of the
 * endpoint called is entered (another region's registry), invalid UTF-8 and
 * repeated headers; the same answer, headers, state and journal either way. */
static void http_both(pair *p, const char *host, const char *target, const char *body)
{
    ecrmock_http_header h[] = {{"Host", host},
                               {"X-Amz-Target", target},
                               {"Content-Type", "application/x-amz-json-1.1"},
                               {"X-Odd", "v\xff\xfe"},
                               {"X-Odd", "second"}};
    ecrmock_http_request req = ECRMOCK_HTTP_REQUEST_INIT;
    req.method = "POST";
    req.target = "/";
    req.headers = h;
    req.n_headers = sizeof h / sizeof *h;
    req.body = body;
    req.body_len = strlen(body);
    ecrmock_http_response a = {0}, b = {0};
    int ra = ecrmock_http_handle(p->fast, &req, &a), rb = ecrmock_http_handle(p->tree, &req, &b);
    assert_int_equal(ra, rb);
    if (a.status != b.status || a.body_len != b.body_len || memcmp(a.body, b.body, a.body_len) != 0)
        fail_msg("%s %s %s\n  forms: %d %s\n  trees: %d %s", host, target, body, a.status, a.body, b.status, b.body);
    assert_int_equal(a.n_headers, b.n_headers);
    for (size_t i = 0; i < a.n_headers; i++) {
        assert_string_equal(a.headers[i].name, b.headers[i].name);
        if (strcasecmp(a.headers[i].name, "x-amzn-RequestId") != 0)
            assert_string_equal(a.headers[i].value, b.headers[i].value);
    }
    ecrmock_http_response_release(&a);
    ecrmock_http_response_release(&b);
}

static void test_forms_at_the_http_level(void **state)
{
    pair *p = *state;
    ecrmock_journal_enable(p->fast, 1);
    ecrmock_journal_enable(p->tree, 1);
    char *m1 = manifest(p, 1, DOCKER), *q1 = quoted(m1), *put = NULL;
    assert_true(asprintf(&put, "{\"repositoryName\":\"app\",\"imageManifest\":%s,\"imageTag\":\"h\"}", q1) >= 0);
    unsigned long before = p->fast->fast_answered;
    http_both(p, "api.ecr.us-east-1.amazonaws.com", "AmazonEC2ContainerRegistry_V20150921.PutImage", put);
    http_both(p, "api.ecr.us-east-1.amazonaws.com", "AmazonEC2ContainerRegistry_V20150921.BatchGetImage",
              "{\"repositoryName\":\"app\",\"imageIds\":[{\"imageTag\":\"h\"}]}");
    http_both(p, "api.ecr.us-east-1.amazonaws.com", "AmazonEC2ContainerRegistry_V20150921.DescribeImages",
              "{\"repositoryName\":\"app\"}");
    http_both(p, "api.ecr.eu-west-1.amazonaws.com", "AmazonEC2ContainerRegistry_V20150921.DescribeRepositories", "{}");
    http_both(p, "api.ecr.eu-west-1.amazonaws.com", "AmazonEC2ContainerRegistry_V20150921.CreateRepository",
              "{\"repositoryName\":\"west\"}");
    http_both(p, "api.ecr.eu-west-1.amazonaws.com", "AmazonEC2ContainerRegistry_V20150921.DescribeRepositories", "{}");
    http_both(p, "api.ecr.eu-west-1.amazonaws.com", "AmazonEC2ContainerRegistry_V20150921.PutImage", put);
    http_both(p, "ecr.us-east-1.amazonaws.com", "AmazonEC2ContainerRegistry_V20150921.DescribeRepositories",
              "{\"repositoryNames\":[\"app\"]}");
    assert_true(p->fast->fast_answered - before >= 4);
    free(put), free(m1), free(q1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_put_image_forms, setup_pair, teardown_pair),
        cmocka_unit_test_setup_teardown(test_batch_get_image_forms, setup_pair, teardown_pair),
        cmocka_unit_test_setup_teardown(test_describe_forms, setup_pair, teardown_pair),
        cmocka_unit_test_setup_teardown(test_batch_check_layer_forms, setup_pair, teardown_pair),
        cmocka_unit_test_setup_teardown(test_list_images_forms, setup_pair, teardown_pair),
        cmocka_unit_test_setup_teardown(test_forms_step_aside, setup_pair, teardown_pair),
        cmocka_unit_test_setup_teardown(test_forms_edges, setup_pair, teardown_pair),
        cmocka_unit_test_setup_teardown(test_forms_beside_every_setting, setup_pair, teardown_pair),
        cmocka_unit_test_setup_teardown(test_forms_manifest_at_its_limit, setup_pair, teardown_pair),
        cmocka_unit_test_setup_teardown(test_forms_called_from_a_hook, setup_pair, teardown_pair),
        cmocka_unit_test_setup_teardown(test_forms_rich_state, setup_pair, teardown_pair),
        cmocka_unit_test_setup_teardown(test_forms_at_the_http_level, setup_pair, teardown_pair),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
