/*
 * PutImage: digests and sizes computed for real, manifests echoed verbatim,
 * every manifest format ECR takes, the checks on layers and referenced
 * images, tag mutability (with and without exclusion filters), quotas, and
 * that a failed PutImage leaves the repository as it was.
 */
#include <time.h>

#include "helpers.h"
#include "areas/areas.h" /* em_image_push: the allocations of the parse and the store alone */

#define MT_DOCKER_V2 "application/vnd.docker.distribution.manifest.v2+json"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_DOCKER_V1_SIGNED "application/vnd.docker.distribution.manifest.v1+prettyjws"
#define MT_DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"
#define MT_DOCKER_LAYER "application/vnd.docker.image.rootfs.diff.tar.gzip"
#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define MT_OCI_LAYER "application/vnd.oci.image.layer.v1.tar+gzip"
#define ACCOUNT "123456789012"
#define INVALID_JSON_SYNTAX "Invalid parameter at 'ImageManifest' failed to satisfy constraint: 'Invalid JSON syntax'"

/* Pushes a text blob; writes its digest; returns its length. */
static int blob(ecrmock *m, const char *repo, const char *text, char digest[ECRMOCK_DIGEST_SIZE])
{
    push_layer(m, repo, text, strlen(text), digest);
    char want[ECRMOCK_DIGEST_SIZE];
    sha256_digest(text, strlen(text), want);
    assert_string_equal(digest, want);
    return (int)strlen(text);
}

/* PutImage with every optional member (NULL: absent). */
static int put(ecrmock *m, json_t **r, const char *repo, const char *manifest, const char *tag, const char *mt,
               const char *digest)
{
    json_t *req = json_pack("{s:s, s:s, s:s*, s:s*, s:s*}", "repositoryName", repo, "imageManifest", manifest,
                            "imageTag", tag, "imageManifestMediaType", mt, "imageDigest", digest);
    assert_non_null(req);
    int st = ecrmock_call(m, "PutImage", req, r);
    json_decref(req);
    return st;
}

/* An image manifest (Docker v2 or OCI, `mt` NULL to leave mediaType out of
 * the body) over a fresh config and `n_layers` fresh layers in `repo`;
 * *size_out gets the sum of the layer lengths.  Returns a malloc'd text. */
static char *image_manifest(ecrmock *m, const char *repo, const char *mt, const char *config_mt, const char *layer_mt,
                            int n_layers, int salt, int64_t *size_out)
{
    char text[256], digest[ECRMOCK_DIGEST_SIZE];
    snprintf(text, sizeof text, "{\"os\":\"linux\",\"salt\":%d}", salt);
    int n = blob(m, repo, text, digest);
    json_t *mf = json_pack("{s:i, s:{s:s, s:i, s:s}, s:[]}", "schemaVersion", 2, "config", "mediaType", config_mt,
                           "size", n, "digest", digest, "layers");
    if (mt)
        json_object_set_new(mf, "mediaType", json_string(mt));
    int64_t size = 0;
    for (int i = 0; i < n_layers; i++) {
        snprintf(text, sizeof text, "layer %d of image %d%*s", i, salt, i * 3, "");
        n = blob(m, repo, text, digest);
        size += n;
        json_array_append_new(json_object_get(mf, "layers"),
                              json_pack("{s:s, s:i, s:s}", "mediaType", layer_mt, "size", n, "digest", digest));
    }
    char *out = json_dumps(mf, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(mf);
    if (size_out)
        *size_out = size;
    return out;
}

/* A manifest list / image index over `n` manifests. */
static char *list_manifest(const char *mt, const char *child_mt, size_t n, char *const *digests)
{
    json_t *mf = json_pack("{s:i, s:s, s:[]}", "schemaVersion", 2, "mediaType", mt, "manifests");
    for (size_t i = 0; i < n; i++)
        json_array_append_new(json_object_get(mf, "manifests"),
                              json_pack("{s:s, s:i, s:s, s:{s:s, s:s}}", "mediaType", child_mt, "size", 500, "digest",
                                        digests[i], "platform", "architecture", i ? "arm64" : "amd64", "os", "linux"));
    char *out = json_dumps(mf, JSON_COMPACT);
    json_decref(mf);
    return out;
}

/* ListImages as a sorted "digest|tag" set, joined by spaces. */
static void list_entries(ecrmock *m, const char *repo, char *out, size_t cap)
{
    json_t *r = NULL;
    assert_ok(call(m, &r, "ListImages", "{\"repositoryName\": \"%s\"}", repo), r);
    json_t *ids = json_object_get(r, "imageIds");
    size_t n = json_array_size(ids);
    char (*items)[128] = calloc(n ? n : 1, sizeof *items);
    for (size_t i = 0; i < n; i++) {
        json_t *id = json_array_get(ids, i);
        const char *tag = json_string_value(json_object_get(id, "imageTag"));
        snprintf(items[i], sizeof items[i], "%s|%s", json_string_value(json_object_get(id, "imageDigest")),
                 tag ? tag : "-");
    }
    qsort(items, n, sizeof *items, (int (*)(const void *, const void *))strcmp);
    out[0] = '\0';
    for (size_t i = 0; i < n; i++)
        snprintf(out + strlen(out), cap - strlen(out), "%s%s", i ? " " : "", items[i]);
    free(items);
    json_decref(r);
}

static void assert_tags(ecrmock *m, const char *repo, const char *digest, const char *want_csv)
{
    json_t *d = describe_image(m, repo, digest);
    json_t *tags = json_object_get(d, "imageTags");
    char got[512] = "";
    size_t i;
    json_t *t;
    json_array_foreach(tags, i, t) snprintf(got + strlen(got), sizeof got - strlen(got), "%s%s", i ? "," : "",
                                            json_string_value(t));
    if (!want_csv[0])
        assert_null(tags);
    assert_string_equal(got, want_csv);
    json_decref(d);
}

static void create_repo_mutability(ecrmock *m, const char *name, const char *mutability, const char *filters)
{
    if (filters)
        call_ok(m, "CreateRepository",
                "{\"repositoryName\": \"%s\", \"imageTagMutability\": \"%s\", "
                "\"imageTagMutabilityExclusionFilters\": %s}",
                name, mutability, filters);
    else
        call_ok(m, "CreateRepository", "{\"repositoryName\": \"%s\", \"imageTagMutability\": \"%s\"}", name,
                mutability);
}



static const char *resp_digest(json_t *r)
{
    return STR(json_object_get(json_object_get(r, "image"), "imageId"), "imageDigest");
}

/* PutImage of `manifest` (`tag`, `mt` the request's imageManifestMediaType,
 * NULL: absent) must succeed and answer the sha256 of its exact bytes (written
 * into want), the manifest echoed to the byte and the media type `want_mt`,
 * which DescribeImages shows too.  Returns the image's detail (a new
 * reference). */
static json_t *put_accepted(ecrmock *m, const char *repo, const char *manifest, const char *tag, const char *mt,
                            const char *want_mt, char want[ECRMOCK_DIGEST_SIZE])
{
    sha256_digest(manifest, strlen(manifest), want);
    json_t *r = NULL;
    assert_ok(put(m, &r, repo, manifest, tag, mt, NULL), r);
    assert_string_equal(resp_digest(r), want);
    assert_string_equal(STR(json_object_get(r, "image"), "imageManifestMediaType"), want_mt);
    assert_string_equal(STR(json_object_get(r, "image"), "imageManifest"), manifest);
    json_decref(r);
    json_t *d = describe_image(m, repo, want);
    assert_string_equal(STR(d, "imageManifestMediaType"), want_mt);
    return d;
}

/* PutImage of `manifest` (`tag`, `mt`, `digest`: NULL, absent) must fail with
 * 400 `type` and exactly `msg`, and leave the repository as it was. */
static void put_refused(ecrmock *m, const char *repo, const char *manifest, const char *tag, const char *mt,
                        const char *digest, const char *type, const char *msg)
{
    json_t *before = repo_view(m, repo);
    json_t *r = NULL;
    int st = put(m, &r, repo, manifest, tag, mt, digest);
    assert_fail_msg(st, &r, type, msg);
    assert_repo_unchanged(m, repo, before);
}

/* PutImage of `manifest` with `tag` into "app" must be refused because the
 * blob `missing` is not in the repository (ECR's exact text). */
static void put_refused_layers_missing(ecrmock *m, const char *manifest, const char *tag, const char *missing)
{
    char msg[512];
    snprintf(msg, sizeof msg,
             "Layers with digests '[%s]' required for pushing image into repository with name 'app' in the registry "
             "with id '" ACCOUNT "' do not exist",
             missing);
    put_refused(m, "app", manifest, tag, NULL, NULL, "LayersNotFoundException", msg);
}

/* A Docker v2 manifest written out by hand (compact, in this key order) over
 * the config `cfg` (`cn` bytes) and `n` layers. */
static void v2_manifest_text(char *out, size_t cap, const char *cfg, int cn, int n, char (*layers)[ECRMOCK_DIGEST_SIZE],
                             const int *sizes)
{
    int used = snprintf(out, cap,
                        "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":{\"mediaType\":\"%s\",\"size\":%d,"
                        "\"digest\":\"%s\"},\"layers\":[",
                        MT_DOCKER_V2, MT_DOCKER_CONFIG, cn, cfg);
    for (int i = 0; i < n; i++)
        used += snprintf(out + used, cap - (size_t)used, "%s{\"mediaType\":\"%s\",\"size\":%d,\"digest\":\"%s\"}",
                         i ? "," : "", MT_DOCKER_LAYER, sizes[i], layers[i]);
    snprintf(out + used, cap - (size_t)used, "]}");
    assert_true((size_t)used + 2 < cap);
}

/* ---- the digest, the echo, the media type ---------------------------------------------- */

static void test_put_image_digest_is_sha256_of_exact_bytes(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "app");
    char cfg[ECRMOCK_DIGEST_SIZE], layer[ECRMOCK_DIGEST_SIZE];
    int cn = blob(m, "app", "{\"architecture\":\"amd64\"}", cfg);
    int ln = blob(m, "app", "the only layer", layer);
    /* Odd whitespace, key order and a trailing newline: the digest is of these bytes. */
    char manifest[1024];
    snprintf(manifest, sizeof manifest,
             "{\n   \"schemaVersion\" :  2,\t\"mediaType\":\"%s\",\r\n"
             "  \"layers\": [ {\"digest\": \"%s\", \"size\": %d, \"mediaType\": \"%s\"} ],\n"
             "\"config\"   : {\"mediaType\": \"%s\", \"size\": %d, \"digest\": \"%s\"}   }\n",
             MT_DOCKER_V2, layer, ln, MT_DOCKER_LAYER, MT_DOCKER_CONFIG, cn, cfg);
    char want[ECRMOCK_DIGEST_SIZE];
    sha256_digest(manifest, strlen(manifest), want);

    json_t *r = NULL;
    assert_ok(put(m, &r, "app", manifest, "v1", NULL, NULL), r);
    json_t *img = json_object_get(r, "image");
    assert_string_equal(STR(img, "registryId"), ACCOUNT);
    assert_string_equal(STR(img, "repositoryName"), "app");
    assert_string_equal(resp_digest(r), want);
    assert_string_equal(STR(json_object_get(img, "imageId"), "imageTag"), "v1");
    assert_string_equal(STR(img, "imageManifest"), manifest);
    assert_int_equal(json_string_length(json_object_get(img, "imageManifest")), strlen(manifest));
    assert_string_equal(STR(img, "imageManifestMediaType"), MT_DOCKER_V2);
    json_decref(r);

    /* A pull gives the same bytes back, under the same digest. */
    assert_ok(call(m, &r, "BatchGetImage", "{\"repositoryName\": \"app\", \"imageIds\": [{\"imageTag\": \"v1\"}]}"), r);
    json_t *got = json_array_get(json_object_get(r, "images"), 0);
    assert_string_equal(STR(got, "imageManifest"), manifest);
    assert_string_equal(STR(json_object_get(got, "imageId"), "imageDigest"), want);
    json_decref(r);

    /* The same content with other whitespace is another image. */
    char other[1100];
    snprintf(other, sizeof other, "%s ", manifest);
    char want2[ECRMOCK_DIGEST_SIZE];
    sha256_digest(other, strlen(other), want2);
    assert_string_not_equal(want, want2);
    assert_ok(put(m, &r, "app", other, NULL, NULL, NULL), r);
    assert_string_equal(resp_digest(r), want2);
    assert_null(json_object_get(json_object_get(json_object_get(r, "image"), "imageId"), "imageTag"));
    json_decref(r);
}

static void test_put_image_given_matching_digest_succeeds(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "app");
    char *mf = make_manifest(m, "app", 1, 1);
    char want[ECRMOCK_DIGEST_SIZE];
    sha256_digest(mf, strlen(mf), want);
    json_t *r = NULL;
    assert_ok(put(m, &r, "app", mf, "v1", NULL, want), r);
    assert_string_equal(resp_digest(r), want);
    json_decref(r);
    free(mf);
}

static void test_put_image_digest_does_not_match(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "app");
    char *mf = make_manifest(m, "app", 1, 1);
    char real[ECRMOCK_DIGEST_SIZE], wrong[ECRMOCK_DIGEST_SIZE];
    sha256_digest(mf, strlen(mf), real);
    sha256_digest("something else", 14, wrong);
    char msg[512];
    snprintf(msg, sizeof msg,
             "Provided digest '%s' does not match the digest '%s' calculated for the image manifest", wrong, real);
    put_refused(m, "app", mf, "v1", NULL, wrong, "ImageDigestDoesNotMatchException", msg);
    free(mf);
}

static void test_put_image_oci_manifest_with_media_type(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "app");
    int64_t size = 0;
    char *mf = image_manifest(m, "app", MT_OCI_MANIFEST, MT_OCI_CONFIG, MT_OCI_LAYER, 2, 7, &size);
    char want[ECRMOCK_DIGEST_SIZE];
    json_t *d = put_accepted(m, "app", mf, "oci", NULL, MT_OCI_MANIFEST, want);
    assert_string_equal(STR(d, "artifactMediaType"), MT_OCI_CONFIG);
    assert_int_equal(json_integer_value(json_object_get(d, "imageSizeInBytes")), size);
    json_decref(d);
    free(mf);
}

/* OCI manifests may leave mediaType out; imageManifestMediaType says it. */
static void test_put_image_oci_manifest_media_type_from_request(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "app");
    char *mf = image_manifest(m, "app", NULL, MT_OCI_CONFIG, MT_OCI_LAYER, 1, 8, NULL);
    assert_null(strstr(mf, "\"mediaType\":\"" MT_OCI_MANIFEST));
    char want[ECRMOCK_DIGEST_SIZE];
    json_decref(put_accepted(m, "app", mf, "v1", MT_OCI_MANIFEST, MT_OCI_MANIFEST, want));
    free(mf);
}

static void test_put_image_without_any_media_type_is_invalid_json(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "app");
    const char *kinds[][2] = {{MT_OCI_CONFIG, MT_OCI_LAYER}, {MT_DOCKER_CONFIG, MT_DOCKER_LAYER}};
    for (int k = 0; k < 2; k++) {
        char *mf = image_manifest(m, "app", NULL, kinds[k][0], kinds[k][1], 1, 9 + k, NULL);
        put_refused(m, "app", mf, "v1", NULL, NULL, "InvalidParameterException", INVALID_JSON_SYNTAX);
        free(mf);
    }
}

static void test_put_image_not_json_is_invalid_json(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "app");
    const char *bad[] = {"not json at all", "{\"schemaVersion\": 2, \"mediaType\": \"" MT_DOCKER_V2 "\",",
                         "[1, 2, 3]", "\"a string\""};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        put_refused(m, "app", bad[i], "v1", MT_DOCKER_V2, NULL, "InvalidParameterException", INVALID_JSON_SYNTAX);
}

/* ---- manifest lists and image indexes ---------------------------------------------- */

/* A list of type `list_mt` over two images (`mt`, `config_mt`, `layer_mt`;
 * n1 and n2 layers, of different total sizes) is accepted like any manifest,
 * and its size is the largest of its manifests' sizes. */
static void assert_list_accepted(ecrmock *m, const char *list_mt, const char *mt, const char *config_mt,
                                 const char *layer_mt, int n1, int n2)
{
    create_repo(m, "app");
    int64_t s1 = 0, s2 = 0;
    char *m1 = image_manifest(m, "app", mt, config_mt, layer_mt, n1, 1, &s1);
    char *m2 = image_manifest(m, "app", mt, config_mt, layer_mt, n2, 2, &s2);
    assert_true(n1 > n2 ? s1 > s2 : s2 > s1); /* more layers, more bytes */
    char *d[2] = {put_image(m, "app", m1, NULL), put_image(m, "app", m2, NULL)};
    char *list = list_manifest(list_mt, mt, 2, d);
    char want[ECRMOCK_DIGEST_SIZE];
    json_t *det = put_accepted(m, "app", list, "multi", NULL, list_mt, want);
    assert_int_equal(json_integer_value(json_object_get(det, "imageSizeInBytes")), s1 > s2 ? s1 : s2);
    json_decref(det);
    free(m1), free(m2), free(d[0]), free(d[1]), free(list);
}

/* The second image is the larger here, the first in the OCI index. */
static void test_put_image_docker_manifest_list(void **state)
{
    assert_list_accepted(*state, MT_DOCKER_LIST, MT_DOCKER_V2, MT_DOCKER_CONFIG, MT_DOCKER_LAYER, 1, 3);
}

static void test_put_image_oci_index(void **state)
{
    assert_list_accepted(*state, MT_OCI_INDEX, MT_OCI_MANIFEST, MT_OCI_CONFIG, MT_OCI_LAYER, 4, 2);
}

static void test_put_image_list_with_missing_child(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "app");
    const char *types[][2] = {{MT_DOCKER_LIST, MT_DOCKER_V2}, {MT_OCI_INDEX, MT_OCI_MANIFEST}};
    char *m1 = image_manifest(m, "app", MT_DOCKER_V2, MT_DOCKER_CONFIG, MT_DOCKER_LAYER, 1, 1, NULL);
    char *present = put_image(m, "app", m1, "one");
    /* A manifest whose blobs are in the repository but that was never put. */
    char *m2 = image_manifest(m, "app", MT_DOCKER_V2, MT_DOCKER_CONFIG, MT_DOCKER_LAYER, 1, 2, NULL);
    char absent[ECRMOCK_DIGEST_SIZE];
    sha256_digest(m2, strlen(m2), absent);
    for (int k = 0; k < 2; k++) {
        char *d[2] = {present, absent};
        char *list = list_manifest(types[k][0], types[k][1], 2, d);
        char msg[512];
        snprintf(msg, sizeof msg,
                 "The manifest list references images that do not exist in the repository with name 'app' in the "
                 "registry with id '" ACCOUNT "': [%s]",
                 absent);
        put_refused(m, "app", list, "multi", NULL, NULL, "ReferencedImagesNotFoundException", msg);
        free(list);
    }
    free(m1), free(m2), free(present);
}

/* Schema 1 (signed): the blobs are the fsLayers' blobSums, no config. */
static void test_put_image_schema1(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "app");
    char a[ECRMOCK_DIGEST_SIZE], b[ECRMOCK_DIGEST_SIZE];
    int an = blob(m, "app", "schema one layer a", a);
    int bn = blob(m, "app", "schema one layer b, longer", b);
    char mf[2048];
    /* schema 1 lists empty layers again and again: b twice counts once */
    snprintf(mf, sizeof mf,
             "{\n   \"schemaVersion\": 1,\n   \"name\": \"app\",\n   \"tag\": \"old\",\n   \"architecture\": "
             "\"amd64\",\n   \"fsLayers\": [\n      {\"blobSum\": \"%s\"},\n      {\"blobSum\": \"%s\"},\n      "
             "{\"blobSum\": \"%s\"}\n   ],\n   \"history\": [{\"v1Compatibility\": \"{}\"}, {\"v1Compatibility\": "
             "\"{}\"}, {\"v1Compatibility\": \"{}\"}],\n   \"signatures\": [{\"header\": {\"alg\": \"ES256\"}, "
             "\"signature\": \"c2ln\", \"protected\": \"cHJvdA\"}]\n}",
             b, a, b);
    char want[ECRMOCK_DIGEST_SIZE];
    json_t *d = put_accepted(m, "app", mf, "old", MT_DOCKER_V1_SIGNED, MT_DOCKER_V1_SIGNED, want);
    assert_int_equal(json_integer_value(json_object_get(d, "imageSizeInBytes")), an + bn);
    assert_null(json_object_get(d, "artifactMediaType"));
    json_decref(d);

    /* Without imageManifestMediaType, ecrmock recognises schema 1 by its
     * schemaVersion and fsLayers (the only format without a mediaType). */
    char mf2[2100];
    snprintf(mf2, sizeof mf2, "%s\n", mf);
    json_decref(put_accepted(m, "app", mf2, "old2", NULL, MT_DOCKER_V1_SIGNED, want));

    /* Its blobs must be in the repository too. */
    char c[ECRMOCK_DIGEST_SIZE];
    sha256_digest("never pushed", 12, c);
    snprintf(mf, sizeof mf, "{\"schemaVersion\": 1, \"name\": \"app\", \"fsLayers\": [{\"blobSum\": \"%s\"}]}", c);
    json_t *before = repo_view(m, "app");
    json_t *r = NULL;
    int st = put(m, &r, "app", mf, "old3", MT_DOCKER_V1_SIGNED, NULL);
    assert_error(st, r, 400, "LayersNotFoundException");
    assert_repo_unchanged(m, "app", before);
}

/* A schema 1 manifest of many distinct fsLayers (4 MiB of them reach some
 * 200,000): each blob is listed once without comparing it with every one
 * before it, which took minutes (twice at the wire level: the tree-free form
 * parses it, declines, and the handler parses it again). */
static void test_put_image_schema1_many_layers(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "app");
    /* 100 blobs that are there, each listed three times: the image holds each once */
    enum { HELD = 100, MANY = 60000 };
    char (*held)[ECRMOCK_DIGEST_SIZE] = calloc(HELD, ECRMOCK_DIGEST_SIZE);
    assert_non_null(held);
    size_t total = 0;
    for (int i = 0; i < HELD; i++) {
        char text[32];
        total += (size_t)blob(m, "app", (snprintf(text, sizeof text, "schema one layer %d", i), text), held[i]);
    }
    size_t cap = 128 + (size_t)MANY * 40;
    char *mf = malloc(cap), *o = mf;
    assert_non_null(mf);
    o += sprintf(o, "{\"schemaVersion\":1,\"name\":\"app\",\"fsLayers\":[");
    for (int i = 0; i < 3 * HELD; i++)
        o += sprintf(o, "%s{\"blobSum\":\"%s\"}", i ? "," : "", held[(i * 7) % HELD]);
    o += sprintf(o, "]}");
    char want[ECRMOCK_DIGEST_SIZE];
    json_t *d = put_accepted(m, "app", mf, "many", MT_DOCKER_V1_SIGNED, MT_DOCKER_V1_SIGNED, want);
    assert_int_equal(json_integer_value(json_object_get(d, "imageSizeInBytes")), (json_int_t)total);
    json_decref(d);

    /* 60,000 distinct blobs, none there: refused, in a moment */
    o = mf + sprintf(mf, "{\"schemaVersion\":1,\"name\":\"app\",\"fsLayers\":[");
    for (int i = 0; i < MANY; i++)
        o += sprintf(o, "%s{\"blobSum\":\"a:%x\"}", i ? "," : "", i + 1);
    o += sprintf(o, "]}");
    json_t *req = json_pack("{s:s, s:s, s:s}", "repositoryName", "app", "imageManifest", mf, "imageTag", "huge");
    char *body = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    assert_non_null(body);
    char *out = NULL;
    size_t out_len = 0;
    clock_t t0 = clock();
    int st = ecrmock_call_raw(m, "PutImage", body, strlen(body), &out, &out_len);
    double cpu = (double)(clock() - t0) / CLOCKS_PER_SEC;
    assert_int_equal(st, 400);
    assert_non_null(strstr(out, "\"LayersNotFoundException\""));
    assert_non_null(strstr(out, "a:1, a:2, a:3"));
    if (cpu > 5.0)
        fail_msg("a PutImage of %d fsLayers took %.1f s of CPU", MANY, cpu);
    ecrmock_buffer_free(out);
    free(body);
    free(mf);
    free(held);
}

/* ---- blobs the manifest needs ---------------------------------------------- */

static void test_put_image_missing_layer(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "app");
    create_repo(m, "other");
    char cfg[ECRMOCK_DIGEST_SIZE], l[2][ECRMOCK_DIGEST_SIZE];
    int cn = blob(m, "app", "{\"os\":\"linux\"}", cfg);
    int n[2];
    n[0] = blob(m, "app", "layer present", l[0]);
    /* A layer of another repository does not count. */
    n[1] = blob(m, "other", "layer only in other", l[1]);
    char mf[1024];
    v2_manifest_text(mf, sizeof mf, cfg, cn, 2, l, n);
    put_refused_layers_missing(m, mf, "v1", l[1]);
}

static void test_put_image_missing_config(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "app");
    char cfg[ECRMOCK_DIGEST_SIZE], l[1][ECRMOCK_DIGEST_SIZE];
    const char *config = "{\"os\":\"linux\"}";
    sha256_digest(config, strlen(config), cfg); /* never pushed */
    int n[1] = {blob(m, "app", "layer present", l[0])};
    char mf[1024];
    v2_manifest_text(mf, sizeof mf, cfg, (int)strlen(config), 1, l, n);
    put_refused_layers_missing(m, mf, "v1", cfg);
}

static char *many_layers_manifest(ecrmock *m, const char *repo, int n)
{
    char cfg[ECRMOCK_DIGEST_SIZE], d[ECRMOCK_DIGEST_SIZE], text[64];
    int cn = blob(m, repo, "{\"os\":\"linux\",\"many\":true}", cfg);
    json_t *mf = json_pack("{s:i, s:s, s:{s:s, s:i, s:s}, s:[]}", "schemaVersion", 2, "mediaType", MT_DOCKER_V2,
                           "config", "mediaType", MT_DOCKER_CONFIG, "size", cn, "digest", cfg, "layers");
    for (int i = 0; i < n; i++) {
        snprintf(text, sizeof text, "small layer number %d", i);
        int ln = blob(m, repo, text, d);
        json_array_append_new(json_object_get(mf, "layers"),
                              json_pack("{s:s, s:i, s:s}", "mediaType", MT_DOCKER_LAYER, "size", ln, "digest", d));
    }
    char *out = json_dumps(mf, JSON_COMPACT);
    json_decref(mf);
    return out;
}

/* ECR's quota is 127 layers per image. */
static void test_put_image_layer_limit(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "app");
    char *mf = many_layers_manifest(m, "app", 128);
    put_refused(m, "app", mf, "big", NULL, NULL, "InvalidParameterException",
                "Invalid parameter at 'ImageManifest' failed to satisfy constraint: 'Limit on "
                "number of layers per image exceeded'");
    free(mf);

    mf = many_layers_manifest(m, "app", 127);
    json_t *r = NULL;
    assert_ok(put(m, &r, "app", mf, "big", NULL, NULL), r);
    json_decref(r);
    free(mf);
}

/* ---- tags ---------------------------------------------------------------------- */

/* An image put with tag v1, then the same manifest again with `tag` (NULL:
 * none): refused with ECR's text, the repository unchanged. */
static void assert_put_again_refused(ecrmock *m, const char *tag)
{
    create_repo(m, "app");
    char *mf = make_manifest(m, "app", 1, 1);
    char *d = put_image(m, "app", mf, "v1");
    char msg[512];
    snprintf(msg, sizeof msg,
             "Image with digest '%s' and tag '%s' already exists in the repository with name 'app' in registry with "
             "id '" ACCOUNT "'",
             d, tag ? tag : "null");
    put_refused(m, "app", mf, tag, NULL, NULL, "ImageAlreadyExistsException", msg);
    free(mf), free(d);
}

static void test_put_image_same_manifest_same_tag(void **state)
{
    assert_put_again_refused(*state, "v1");
}

/* The same manifest again without a tag: nothing to add. */
static void test_put_image_same_manifest_no_tag(void **state)
{
    assert_put_again_refused(*state, NULL);
}

static void test_put_image_new_tag_on_existing_manifest(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "app");
    char *mf = make_manifest(m, "app", 2, 1);
    char *d = put_image(m, "app", mf, "v1");
    ecrmock_clock_advance(m, 60000, NULL);
    json_t *r = NULL;
    assert_ok(put(m, &r, "app", mf, "latest", NULL, NULL), r);
    assert_string_equal(resp_digest(r), d);
    assert_string_equal(STR(json_object_get(json_object_get(r, "image"), "imageId"), "imageTag"), "latest");
    json_decref(r);
    char got[1024], want[1024];
    list_entries(m, "app", got, sizeof got);
    snprintf(want, sizeof want, "%s|latest %s|v1", d, d);
    assert_string_equal(got, want);
    assert_tags(m, "app", d, "latest,v1");
    /* Still one image, pushed when it was first put. */
    json_t *det = describe_image(m, "app", d);
    assert_true(json_number_value(json_object_get(det, "imagePushedAt")) ==
                (double)(ECRMOCK_DEFAULT_CLOCK_MS / 1000));
    json_decref(det);
    free(mf), free(d);
}

/* An image's tag list through its shapes (none, one held in the image, an
 * array, back to one and none): sorted at each step, a tag moved from an
 * image of one tag onto another of one, every image listed with its tags,
 * and an uncommon artifact media type kept as given (the common ones are
 * shared strings). */
static void test_put_image_tag_list_shapes(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "app");
    char *m1 = make_manifest(m, "app", 1, 1), *m2 = make_manifest(m, "app", 1, 2);
    char *d1 = put_image(m, "app", m1, NULL);
    assert_tags(m, "app", d1, "");
    free(put_image(m, "app", m1, "zeta"));
    assert_tags(m, "app", d1, "zeta");
    free(put_image(m, "app", m1, "alpha"));
    free(put_image(m, "app", m1, "mid"));
    assert_tags(m, "app", d1, "alpha,mid,zeta");
    call_ok(m, "BatchDeleteImage", "{\"repositoryName\": \"app\", \"imageIds\": [{\"imageTag\": \"alpha\"}, "
                                   "{\"imageTag\": \"zeta\"}]}");
    assert_tags(m, "app", d1, "mid");
    char *d2 = put_image(m, "app", m2, "other");
    free(put_image(m, "app", m2, "mid")); /* one tag onto an image of one: d1 left with none */
    assert_tags(m, "app", d1, "");
    assert_tags(m, "app", d2, "mid,other");
    free(put_image(m, "app", m1, "again"));
    free(put_image(m, "app", m1, "back"));
    assert_tags(m, "app", d1, "again,back");
    char got[1024], want[1024];
    list_entries(m, "app", got, sizeof got);
    snprintf(want, sizeof want, "%s|again %s|back %s|mid %s|other", d1, d1, d2, d2);
    assert_string_equal(got, want);
    /* an artifact's config type that is none of the common ones */
    char cfg[ECRMOCK_DIGEST_SIZE];
    assert_int_equal(blob(m, "app", "{}", cfg), 2);
    char mf[1024];
    snprintf(mf, sizeof mf, "{\"schemaVersion\": 2, \"mediaType\": \"application/vnd.oci.image.manifest.v1+json\", "
                            "\"config\": {\"mediaType\": \"application/vnd.example.thing.config.v1+json\", \"size\": 2, "
                            "\"digest\": \"%s\"}, \"layers\": []}", cfg);
    char *d3 = put_image(m, "app", mf, "thing");
    json_t *det = describe_image(m, "app", d3);
    assert_string_equal(STR(det, "artifactMediaType"), "application/vnd.example.thing.config.v1+json");
    assert_string_equal(STR(det, "imageManifestMediaType"), "application/vnd.oci.image.manifest.v1+json");
    json_decref(det);
    free(m1), free(m2), free(d1), free(d2), free(d3);
}

static void test_put_image_mutable_tag_moves(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "app"); /* MUTABLE by default */
    char *m1 = make_manifest(m, "app", 1, 1), *m2 = make_manifest(m, "app", 1, 2);
    char *d1 = put_image(m, "app", m1, "latest");
    char *d2 = put_image(m, "app", m2, "latest");
    assert_string_not_equal(d1, d2);
    char got[1024], want[1024];
    list_entries(m, "app", got, sizeof got);
    /* d1 stays, untagged; ListImages sorts '-' (no tag) here for the check */
    snprintf(want, sizeof want, "%s|-", d1);
    assert_non_null(strstr(got, want));
    snprintf(want, sizeof want, "%s|latest", d2);
    assert_non_null(strstr(got, want));
    assert_int_equal(strlen(got), 2 * (71 + 1) + strlen("-") + strlen("latest") + 1);
    assert_tags(m, "app", d1, "");
    assert_tags(m, "app", d2, "latest");
    /* An image with another tag keeps that one. */
    free(put_image(m, "app", m2, "stable"));
    free(put_image(m, "app", m1, "stable"));
    assert_tags(m, "app", d2, "latest");
    assert_tags(m, "app", d1, "stable");
    free(m1), free(m2), free(d1), free(d2);
}

static void test_put_image_immutable_refuses_existing_tag(void **state)
{
    ecrmock *m = *state;
    create_repo_mutability(m, "app", "IMMUTABLE", NULL);
    char *m1 = make_manifest(m, "app", 1, 1), *m2 = make_manifest(m, "app", 1, 2);
    char *d1 = put_image(m, "app", m1, "v1");
    assert_tag_refused(m, "app", m2, "v1");
    /* Even with the same digest. */
    assert_tag_refused(m, "app", m1, "v1");
    /* New tags are fine, on a new or an existing manifest. */
    char *d2 = put_image(m, "app", m2, "v2");
    free(put_image(m, "app", m1, "v1.0"));
    assert_tags(m, "app", d1, "v1,v1.0");
    assert_tags(m, "app", d2, "v2");
    free(m1), free(m2), free(d1), free(d2);
}

/* The exclusion filters of the two *_WITH_EXCLUSION tests: "latest" exactly, and dev-*. */
#define LATEST_AND_DEV_FILTERS                                                                                         \
    "[{\"filterType\": \"WILDCARD\", \"filter\": \"latest\"}, {\"filterType\": \"WILDCARD\", \"filter\": \"dev-*\"}]"

/* A repository "app" of `mutability` with LATEST_AND_DEV_FILTERS and two
 * manifests (*m1, *m2, malloc'd); *m1 put with the tags latest, dev-1, v1 and
 * `fourth`, each a new tag; returns its digest (malloc'd). */
static char *exclusion_repo(ecrmock *m, const char *mutability, const char *fourth, char **m1, char **m2)
{
    create_repo_mutability(m, "app", mutability, LATEST_AND_DEV_FILTERS);
    *m1 = make_manifest(m, "app", 1, 1);
    *m2 = make_manifest(m, "app", 1, 2);
    char *d1 = put_image(m, "app", *m1, "latest");
    free(put_image(m, "app", *m1, "dev-1"));
    free(put_image(m, "app", *m1, "v1"));
    free(put_image(m, "app", *m1, fourth));
    return d1;
}

/* IMMUTABLE_WITH_EXCLUSION: tags matching a filter stay mutable. */
static void test_put_image_immutable_with_exclusion(void **state)
{
    ecrmock *m = *state;
    char *m1, *m2;
    char *d1 = exclusion_repo(m, "IMMUTABLE_WITH_EXCLUSION", "latest-1", &m1, &m2);
    char *d2 = put_image(m, "app", m2, "latest");
    free(put_image(m, "app", m2, "dev-1"));
    assert_tag_refused(m, "app", m2, "v1");
    assert_tag_refused(m, "app", m2, "latest-1"); /* "latest" matches only "latest" */
    assert_tags(m, "app", d1, "latest-1,v1");
    assert_tags(m, "app", d2, "dev-1,latest");
    free(m1), free(m2), free(d1), free(d2);
}

/* MUTABLE_WITH_EXCLUSION: tags matching a filter are immutable. */
static void test_put_image_mutable_with_exclusion(void **state)
{
    ecrmock *m = *state;
    char *m1, *m2;
    char *d1 = exclusion_repo(m, "MUTABLE_WITH_EXCLUSION", "xdev-1", &m1, &m2);
    assert_tag_refused(m, "app", m2, "latest");
    assert_tag_refused(m, "app", m2, "dev-1");
    assert_tag_refused(m, "app", m1, "dev-1");
    char *d2 = put_image(m, "app", m2, "v1");
    free(put_image(m, "app", m2, "xdev-1"));
    assert_tags(m, "app", d1, "dev-1,latest");
    assert_tags(m, "app", d2, "v1,xdev-1");
    free(m1), free(m2), free(d1), free(d2);
}

/* ---- sizes ---------------------------------------------------------------------- */

static void test_put_image_size_is_sum_of_layers(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "app");
    char cfg[ECRMOCK_DIGEST_SIZE], l[2][ECRMOCK_DIGEST_SIZE];
    /* A config much bigger than the layers: it must not count. */
    char config[2048];
    memset(config, ' ', sizeof config - 3);
    config[0] = '{';
    config[sizeof config - 3] = '}';
    config[sizeof config - 2] = '\0';
    int cn = blob(m, "app", config, cfg);
    int n[2];
    n[0] = blob(m, "app", "first layer bytes", l[0]);
    n[1] = blob(m, "app", "second layer, a little longer", l[1]);
    char mf[1024];
    v2_manifest_text(mf, sizeof mf, cfg, cn, 2, l, n);
    char *d = put_image(m, "app", mf, "v1");
    json_t *det = describe_image(m, "app", d);
    assert_int_equal(json_integer_value(json_object_get(det, "imageSizeInBytes")), n[0] + n[1]);
    assert_int_equal(n[0] + n[1], 17 + 29);
    json_decref(det);
    free(d);
}

/* ---- the manifest as PutImage reads it (issue 19: no tree) ------------------------ */

/* s with every `from` replaced by `to` (malloc'd). */
static char *replace_all(const char *s, const char *from, const char *to)
{
    size_t fl = strlen(from), tl = strlen(to), n = 0;
    for (const char *p = strstr(s, from); p; p = strstr(p + fl, from))
        n++;
    char *out = malloc(strlen(s) + n * tl + 1), *o = out;
    for (const char *p; (p = strstr(s, from)); s = p + fl) {
        memcpy(o, s, (size_t)(p - s));
        o += p - s;
        memcpy(o, to, tl);
        o += tl;
    }
    strcpy(o, s);
    return out;
}

/* `digest` with its first and last characters written as \u escapes. */
static void escaped(const char *digest, char *out, size_t cap)
{
    size_t n = strlen(digest);
    snprintf(out, cap, "\\u%04x%.*s\\u%04x", (unsigned)digest[0], (int)(n - 2), digest + 1, (unsigned)digest[n - 1]);
}

/* The media type BatchCheckLayerAvailability reports for layer `digest` of "app" (a new string), NULL: none. */
static char *layer_media_type(ecrmock *m, const char *digest)
{
    json_t *r = NULL;
    assert_ok(call(m, &r, "BatchCheckLayerAvailability", "{\"repositoryName\": \"app\", \"layerDigests\": [\"%s\"]}",
                   digest),
              r);
    const char *mt = STR(json_array_get(json_object_get(r, "layers"), 0), "mediaType");
    char *out = mt ? strdup(mt) : NULL;
    json_decref(r);
    return out;
}

/* Digests written with \u escapes (and a media type with "\/") are the
 * digests they decode to: config, layers, a list's manifests, a subject. */
static void test_put_image_escaped_digests(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "app");
    char cfg[ECRMOCK_DIGEST_SIZE], l[2][ECRMOCK_DIGEST_SIZE], e_cfg[128], e_l[2][128];
    int cn = blob(m, "app", "{\"os\":\"linux\",\"escaped\":1}", cfg);
    int n[2] = {blob(m, "app", "escaped layer one", l[0]), blob(m, "app", "escaped layer number two", l[1])};
    escaped(cfg, e_cfg, sizeof e_cfg);
    escaped(l[0], e_l[0], sizeof e_l[0]);
    escaped(l[1], e_l[1], sizeof e_l[1]);
    assert_non_null(strstr(e_cfg, "\\u0073ha256:"));
    char text[2048];
    snprintf(text, sizeof text,
             "{\"schemaVersion\":2,\"mediaType\":\"application\\/vnd.docker.distribution.manifest.v2+json\","
             "\"config\":{\"mediaType\":\"%s\",\"size\":%d,\"digest\":\"%s\"},\"layers\":["
             "{\"mediaType\":\"application\\/vnd.docker.image.rootfs.diff.tar.gzip\",\"size\":%d,\"digest\":\"%s\"},"
             "{\"mediaType\":\"application/vnd.docker.image.rootfs.diff.tar.gzip\",\"size\":%d,\"digest\":\"%s\"}]}",
             MT_DOCKER_CONFIG, cn, e_cfg, n[0], e_l[0], n[1], e_l[1]);
    char d[ECRMOCK_DIGEST_SIZE];
    json_t *det = put_accepted(m, "app", text, "esc", MT_DOCKER_V2, MT_DOCKER_V2, d);
    assert_int_equal(json_integer_value(json_object_get(det, "imageSizeInBytes")), n[0] + n[1]);
    assert_string_equal(STR(det, "artifactMediaType"), MT_DOCKER_CONFIG);
    json_decref(det);
    char *mt = layer_media_type(m, l[0]);
    assert_string_equal(mt, MT_DOCKER_LAYER);
    free(mt);

    /* A list over that image and another, both digests escaped. */
    char *other = push_new_image(m, "app", 1, 31, NULL), e_d[128], e_o[128];
    escaped(d, e_d, sizeof e_d);
    escaped(other, e_o, sizeof e_o);
    char *children[2] = {e_d, e_o};
    char *list = list_manifest(MT_OCI_INDEX, MT_DOCKER_V2, 2, children);
    char *raw = replace_all(list, "\\\\u", "\\u"); /* json_dumps escaped the backslashes */
    char ld[ECRMOCK_DIGEST_SIZE];
    json_decref(put_accepted(m, "app", raw, "list", NULL, MT_OCI_INDEX, ld));
    free(list), free(raw);

    /* An artifact whose subject is written escaped is a referrer of the image. */
    snprintf(text, sizeof text,
             "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"artifactType\":\"application\\/x.sig\","
             "\"config\":{\"mediaType\":\"%s\",\"size\":%d,\"digest\":\"%s\"},\"layers\":[],"
             "\"subject\":{\"mediaType\":\"%s\",\"size\":%zu,\"digest\":\"%s\"}}",
             MT_OCI_MANIFEST, MT_OCI_CONFIG, cn, cfg, MT_DOCKER_V2, strlen(text), e_d);
    char ad[ECRMOCK_DIGEST_SIZE];
    det = put_accepted(m, "app", text, NULL, NULL, MT_OCI_MANIFEST, ad);
    assert_string_equal(STR(det, "artifactMediaType"), "application/x.sig");
    json_decref(det);
    char request[512];
    snprintf(request, sizeof request, "{\"repositoryName\": \"app\", \"subjectId\": {\"imageDigest\": \"%s\"}}", d);
    assert_listed(m, "ListImageReferrers", request, "referrers", "digest", ad);

    /* Schema 1: an escaped blobSum is the blob it names, listed once. */
    snprintf(text, sizeof text,
             "{\"schemaVersion\":1,\"name\":\"app\",\"tag\":\"old\",\"architecture\":\"amd64\","
             "\"fsLayers\":[{\"blobSum\":\"%s\"},{\"blobSum\":\"%s\"},{\"blobSum\":\"%s\"}],\"history\":[]}",
             e_l[1], l[1], e_l[0]);
    det = put_accepted(m, "app", text, NULL, NULL, MT_DOCKER_V1_SIGNED, ad);
    assert_int_equal(json_integer_value(json_object_get(det, "imageSizeInBytes")), n[0] + n[1]);
    json_decref(det);
    free(other);
}

/* A member named twice: the last one counts, as jansson keeps it. */
static void test_put_image_duplicate_members_last_wins(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "app");
    char cfg[ECRMOCK_DIGEST_SIZE], l[1][ECRMOCK_DIGEST_SIZE], absent[ECRMOCK_DIGEST_SIZE];
    int cn = blob(m, "app", "{\"os\":\"linux\",\"dup\":1}", cfg);
    int ln = blob(m, "app", "the layer of the duplicates", l[0]);
    sha256_digest("never pushed", 12, absent);
    char text[2048], d[ECRMOCK_DIGEST_SIZE];
    /* two configs: a missing one, then the real one */
    snprintf(text, sizeof text,
             "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":{\"mediaType\":\"x\",\"size\":1,\"digest\":\"%s\"},"
             "\"layers\":[{\"mediaType\":\"%s\",\"size\":%d,\"digest\":\"%s\"}],"
             "\"config\":{\"mediaType\":\"%s\",\"size\":%d,\"digest\":\"%s\"}}",
             MT_DOCKER_V2, absent, MT_DOCKER_LAYER, ln, l[0], MT_DOCKER_CONFIG, cn, cfg);
    json_t *det = put_accepted(m, "app", text, "a", NULL, MT_DOCKER_V2, d);
    assert_string_equal(STR(det, "artifactMediaType"), MT_DOCKER_CONFIG);
    json_decref(det);
    /* the other way round: the missing one counts */
    snprintf(text, sizeof text,
             "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":{\"mediaType\":\"%s\",\"size\":%d,\"digest\":\"%s\"},"
             "\"layers\":[{\"mediaType\":\"%s\",\"size\":%d,\"digest\":\"%s\"}],"
             "\"config\":{\"mediaType\":\"x\",\"size\":1,\"digest\":\"%s\"}}",
             MT_DOCKER_V2, MT_DOCKER_CONFIG, cn, cfg, MT_DOCKER_LAYER, ln, l[0], absent);
    put_refused_layers_missing(m, text, "b", absent);
    /* a descriptor's digest and size twice; the document's mediaType and
     * schemaVersion twice (OCI then Docker: Docker) */
    snprintf(text, sizeof text,
             "{\"schemaVersion\":1,\"mediaType\":\"%s\",\"schemaVersion\":2,\"mediaType\":\"%s\","
             "\"config\":{\"mediaType\":\"%s\",\"size\":%d,\"digest\":\"%s\"},"
             "\"layers\":[{\"mediaType\":\"%s\",\"size\":-1,\"digest\":\"nope\",\"size\":%d,\"digest\":\"%s\"}]}",
             MT_OCI_MANIFEST, MT_DOCKER_V2, MT_DOCKER_CONFIG, cn, cfg, MT_DOCKER_LAYER, ln, l[0]);
    json_decref(put_accepted(m, "app", text, "c", NULL, MT_DOCKER_V2, d));
    snprintf(text, sizeof text,
             "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":{\"mediaType\":\"%s\",\"size\":%d,\"digest\":\"%s\"},"
             "\"layers\":[{\"mediaType\":\"%s\",\"size\":%d,\"digest\":\"%s\",\"digest\":\"nope\"}]}",
             MT_DOCKER_V2, MT_DOCKER_CONFIG, cn, cfg, MT_DOCKER_LAYER, ln, l[0]);
    put_refused(m, "app", text, "d", NULL, NULL, "InvalidParameterException",
                "Invalid parameter at 'ImageManifest' failed to satisfy constraint: 'Invalid layer descriptor: it "
                "needs a digest like sha256:<hex> and a size'");
    /* the request's media type is compared with the last mediaType */
    snprintf(text, sizeof text,
             "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"mediaType\":\"%s\","
             "\"config\":{\"mediaType\":\"%s\",\"size\":%d,\"digest\":\"%s\"},\"layers\":[]}",
             MT_DOCKER_V2, MT_OCI_MANIFEST, MT_OCI_CONFIG, cn, cfg);
    json_decref(put_accepted(m, "app", text, "e", MT_OCI_MANIFEST, MT_OCI_MANIFEST, d));
}

/* A Docker v2 manifest over config cfg (cn bytes, its size and digest only),
 * its members after the config's given by `rest` (a format). */
__attribute__((format(printf, 5, 6))) static void v2_text(char *text, size_t cap, const char *cfg, int cn,
                                                           const char *rest, ...)
{
    int used = snprintf(text, cap,
                        "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":{\"size\":%d,\"digest\":\"%s\"},",
                        MT_DOCKER_V2, cn, cfg);
    assert_true(used > 0 && (size_t)used < cap);
    va_list ap;
    va_start(ap, rest);
    vsnprintf(text + used, cap - (size_t)used, rest, ap);
    va_end(ap);
}

/* Member names as the one pass over an object's members finds them: a name
 * written with escapes is the name it decodes to (and the last of a name
 * still counts), a name of the same length and first letter, or a longer or
 * shorter one, is another name; every member the parse reads, twice. */
static void test_put_image_member_names_escaped_and_near(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "app");
    char cfg[ECRMOCK_DIGEST_SIZE], l[ECRMOCK_DIGEST_SIZE], absent[ECRMOCK_DIGEST_SIZE];
    int cn = blob(m, "app", "{\"os\":\"linux\",\"names\":1}", cfg);
    int ln = blob(m, "app", "the layer of the names", l);
    sha256_digest("not pushed, by name", 19, absent);
    const char *desc_msg = "Invalid parameter at 'ImageManifest' failed to satisfy constraint: 'Invalid layer "
                           "descriptor: it needs a digest like sha256:<hex> and a size'";
    char text[4096], d[ECRMOCK_DIGEST_SIZE];

    /* the document's mediaType: plain then escaped, escaped then plain */
    const char *mt_first[] = {"mediaType", "m\\u0065diaTyp\\u0065"}, *mt_last[] = {"\\u006dediaType", "mediaType"};
    for (int i = 0; i < 2; i++) {
        snprintf(text, sizeof text,
                 "{\"schemaVersion\":2,\"%s\":\"%s\",\"%s\":\"%s\",\"config\":{\"mediaType\":\"%s\",\"size\":%d,"
                 "\"digest\":\"%s\"},\"layers\":[]}",
                 mt_first[i], MT_OCI_MANIFEST, mt_last[i], MT_DOCKER_V2, MT_DOCKER_CONFIG, cn, cfg);
        json_decref(put_accepted(m, "app", text, NULL, NULL, MT_DOCKER_V2, d));
    }
    /* near names count for nothing: same length and first letter
     * ("lazers", "cinfig", "dig3st", "sizE"), longer, shorter, other case */
    snprintf(text, sizeof text,
             "{\"schemaVersion\":2,\"mediaTypo\":\"x\",\"MediaType\":\"y\",\"mediaType\":\"%s\",\"mediaTypes\":\"z\","
             "\"schemaVersio\":1,\"schemaVersion\":2,\"schemaVersionX\":3,"
             "\"cinfig\":7,\"config\":{\"mediaType\":\"%s\",\"size\":%d,\"digest\":\"%s\",\"dig3st\":\"nope\","
             "\"sizE\":-1,\"sizes\":-1,\"siz\":-1,\"digests\":1,\"mediaTyp\":1},\"configs\":[],"
             "\"lazers\":[7],\"layers\":[{\"digest\":\"%s\",\"size\":%d,\"digesT\":\"nope\",\"Size\":-1}],\"layer\":7,"
             "\"subjext\":7,\"subjects\":7,\"artifactTypo\":\"a/b\",\"artifactTyp\":\"c/d\",\"manifest\":7,"
             "\"fsLayer\":7}",
             MT_DOCKER_V2, MT_DOCKER_CONFIG, cn, cfg, l, ln);
    json_t *det = put_accepted(m, "app", text, "near", NULL, MT_DOCKER_V2, d);
    assert_string_equal(STR(det, "artifactMediaType"), MT_DOCKER_CONFIG);
    assert_int_equal(json_integer_value(json_object_get(det, "imageSizeInBytes")), ln);
    json_decref(det);
    /* a descriptor's digest: escaped then plain (the plain, bad one counts), and the other way round */
    v2_text(text, sizeof text, cfg, cn,
            "\"layers\":[{\"size\":%d,\"d\\u0069gest\":\"%s\",\"digest\":\"nope\"}]}", ln, l);
    put_refused(m, "app", text, NULL, NULL, NULL, "InvalidParameterException", desc_msg);
    v2_text(text, sizeof text, cfg, cn,
            "\"layers\":[{\"size\":%d,\"digest\":\"nope\",\"d\\u0069gest\":\"%s\"}]}", ln, l);
    json_decref(put_accepted(m, "app", text, NULL, NULL, MT_DOCKER_V2, d));
    /* an escaped "size" is the size: negative, refused */
    v2_text(text, sizeof text, cfg, cn,
            "\"layers\":[{\"size\":%d,\"digest\":\"%s\",\"s\\u0069ze\":-1}]}", ln, l);
    put_refused(m, "app", text, NULL, NULL, NULL, "InvalidParameterException", desc_msg);
    /* layers twice: the last (a missing blob) counts; the other way round, the first does not */
    v2_text(text, sizeof text, cfg, cn,
            "\"layers\":[{\"size\":%d,\"digest\":\"%s\"}],\"l\\u0061yers\":[{\"size\":1,\"digest\":\"%s\"}]}", ln, l,
            absent);
    put_refused_layers_missing(m, text, NULL, absent);
    v2_text(text, sizeof text, cfg, cn,
            "\"layers\":[{\"size\":1,\"digest\":\"%s\"}],\"layers\":[{\"size\":%d,\"digest\":\"%s\"}]}", absent, ln,
            l);
    json_decref(put_accepted(m, "app", text, NULL, NULL, MT_DOCKER_V2, d));
    /* artifactType and subject twice: the last of each */
    char image[ECRMOCK_DIGEST_SIZE];
    memcpy(image, d, sizeof image);
    snprintf(text, sizeof text,
             "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"artifactType\":\"a/first\",\"config\":{\"mediaType\":\"%s\","
             "\"size\":%d,\"digest\":\"%s\"},\"layers\":[],\"subject\":{\"digest\":\"nope\"},"
             "\"artifactTyp\\u0065\":\"a/last\",\"subject\":{\"digest\":\"%s\"}}",
             MT_OCI_MANIFEST, MT_OCI_CONFIG, cn, cfg, image);
    det = put_accepted(m, "app", text, NULL, NULL, MT_OCI_MANIFEST, d);
    assert_string_equal(STR(det, "artifactMediaType"), "a/last");
    json_decref(det);
    snprintf(text, sizeof text,
             "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":{\"size\":%d,\"digest\":\"%s\"},\"layers\":[],"
             "\"subject\":{\"digest\":\"%s\"},\"subject\":{\"digest\":\"nope\"}}",
             MT_OCI_MANIFEST, cn, cfg, image);
    put_refused(m, "app", text, NULL, NULL, NULL, "InvalidParameterException",
                "Invalid parameter at 'ImageManifest' failed to satisfy constraint: 'Invalid subject descriptor: it "
                "needs a digest like sha256:<hex>'");
    /* a list's manifests twice, and a manifest's digest twice */
    snprintf(text, sizeof text,
             "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"manifests\":[{\"digest\":\"%s\"}],"
             "\"manifests\":[{\"digest\":\"nope\",\"digest\":\"%s\"}]}",
             MT_OCI_INDEX, absent, image);
    json_decref(put_accepted(m, "app", text, NULL, NULL, MT_OCI_INDEX, d));
    snprintf(text, sizeof text,
             "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"manifests\":[{\"digest\":\"%s\",\"digest\":\"nope\"}]}",
             MT_OCI_INDEX, image);
    put_refused(m, "app", text, NULL, NULL, NULL, "InvalidParameterException",
                "Invalid parameter at 'ImageManifest' failed to satisfy constraint: 'Invalid manifest descriptor: it "
                "needs a digest like sha256:<hex>'");
    /* schema 1: fsLayers twice, a blobSum twice (escaped last) */
    snprintf(text, sizeof text,
             "{\"schemaVersion\":1,\"fsLayers\":[{\"blobSum\":\"nope\"}],"
             "\"fsLayers\":[{\"blobSum\":\"nope\",\"bl\\u006fbSum\":\"%s\"}]}",
             l);
    det = put_accepted(m, "app", text, NULL, NULL, MT_DOCKER_V1_SIGNED, d);
    assert_int_equal(json_integer_value(json_object_get(det, "imageSizeInBytes")), ln);
    json_decref(det);
    snprintf(text, sizeof text, "{\"schemaVersion\":1,\"fsLayers\":[{\"blobSum\":\"%s\",\"blobSum\":\"nope\"}]}", l);
    put_refused(m, "app", text, NULL, NULL, NULL, "InvalidParameterException",
                "Invalid parameter at 'ImageManifest' failed to satisfy constraint: 'Invalid fsLayers entry: it "
                "needs a blobSum like sha256:<hex>'");
}

/* A descriptor's size is an integer >= 0 when it is there: 1.0 is a real. */
static void test_put_image_descriptor_size(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "app");
    char cfg[ECRMOCK_DIGEST_SIZE], l[1][ECRMOCK_DIGEST_SIZE];
    blob(m, "app", "{\"os\":\"linux\",\"sizes\":1}", cfg);
    blob(m, "app", "the layer of the sizes", l[0]);
    const char *bad[] = {"1.0", "-1", "\"12\"", "null", "true", "1e3", "-0.0"};
    const char *good[] = {"0", "-0", "9223372036854775807", "123"};
    char text[2048], msg[256], d[ECRMOCK_DIGEST_SIZE];
    for (int config = 0; config < 2; config++) {
        snprintf(msg, sizeof msg,
                 "Invalid parameter at 'ImageManifest' failed to satisfy constraint: 'Invalid %s descriptor: it "
                 "needs a digest like sha256:<hex> and a size'",
                 config ? "config" : "layer");
        for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
            snprintf(text, sizeof text,
                     "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":{\"size\":%s,\"digest\":\"%s\"},"
                     "\"layers\":[{\"size\":%s,\"digest\":\"%s\"}]}",
                     MT_DOCKER_V2, config ? bad[i] : "1", cfg, config ? "1" : bad[i], l[0]);
            put_refused(m, "app", text, "v1", NULL, NULL, "InvalidParameterException", msg);
        }
    }
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        snprintf(text, sizeof text,
                 "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":{\"size\":%s,\"digest\":\"%s\"},"
                 "\"layers\":[{\"size\":%s,\"digest\":\"%s\"},{\"digest\":\"%s\"}]}",
                 MT_DOCKER_V2, good[i], cfg, good[i], l[0], l[0]);
        json_decref(put_accepted(m, "app", text, NULL, NULL, MT_DOCKER_V2, d));
    }
}

/* schemaVersion must be the integer 2 (1 with fsLayers, for schema 1). */
static void test_put_image_schema_version(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "app");
    char cfg[ECRMOCK_DIGEST_SIZE], text[1024];
    blob(m, "app", "{\"os\":\"linux\",\"schema\":1}", cfg);
    const char *bad[] = {"2.0", "\"2\"", "3", "1", "null", "20e-1", "-2"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        snprintf(text, sizeof text,
                 "{\"schemaVersion\":%s,\"mediaType\":\"%s\",\"config\":{\"size\":1,\"digest\":\"%s\"},\"layers\":[]}",
                 bad[i], MT_DOCKER_V2, cfg);
        put_refused(m, "app", text, "v1", NULL, NULL, "InvalidParameterException", INVALID_JSON_SYNTAX);
    }
    /* Schema 1 is known by the integer 1: 1.0 and "1" are not. */
    const char *not_one[] = {"1.0", "\"1\""};
    for (size_t i = 0; i < 2; i++) {
        snprintf(text, sizeof text, "{\"schemaVersion\":%s,\"fsLayers\":[{\"blobSum\":\"%s\"}]}", not_one[i], cfg);
        put_refused(m, "app", text, "v1", NULL, NULL, "InvalidParameterException", INVALID_JSON_SYNTAX);
    }
    snprintf(text, sizeof text, "{\"schemaVersion\":1,\"fsLayers\":[{\"blobSum\":\"%s\"}]}", cfg);
    char d[ECRMOCK_DIGEST_SIZE];
    json_decref(put_accepted(m, "app", text, "v1", NULL, MT_DOCKER_V1_SIGNED, d));
}

static int setup_thousand_layers(void **state)
{
    ecrmock_options o = ECRMOCK_OPTIONS_INIT;
    o.max_layers_per_image = 1000;
    *state = ecrmock_new(&o);
    return *state ? 0 : -1;
}

/* 1000 layers where the option allows them (one block for the parse), 1001 refused. */
static void test_put_image_thousand_layers(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "app");
    char *mf = many_layers_manifest(m, "app", 1001);
    put_refused(m, "app", mf, "big", NULL, NULL, "InvalidParameterException",
                "Invalid parameter at 'ImageManifest' failed to satisfy constraint: 'Limit on "
                "number of layers per image exceeded'");
    free(mf);
    mf = many_layers_manifest(m, "app", 1000);
    char d[ECRMOCK_DIGEST_SIZE];
    json_t *det = put_accepted(m, "app", mf, "big", NULL, MT_DOCKER_V2, d);
    /* "small layer number %d": 19 bytes and the number's digits */
    int64_t want = 0;
    for (int i = 0; i < 1000; i++)
        want += 19 + (i < 10 ? 1 : i < 100 ? 2 : 3);
    assert_int_equal(json_integer_value(json_object_get(det, "imageSizeInBytes")), want);
    json_decref(det);
    free(mf);
}

/* Around the parse's inline room: 14 to 18 layers, foreign layers (listed
 * nowhere) between layers of one media type, a media type of 3000
 * characters, a list of 17 images. */
static void test_put_image_manifest_storage_edges(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "app");
    char d[ECRMOCK_DIGEST_SIZE];
    for (int n = 14; n <= 18; n++) {
        char *mf = many_layers_manifest(m, "app", n);
        json_decref(put_accepted(m, "app", mf, NULL, NULL, MT_DOCKER_V2, d));
        free(mf);
    }
    static const char foreign[] = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";
    char cfg[ECRMOCK_DIGEST_SIZE], l[ECRMOCK_DIGEST_SIZE], absent[ECRMOCK_DIGEST_SIZE], text[8192];
    int cn = blob(m, "app", "{\"os\":\"windows\"}", cfg);
    int ln = blob(m, "app", "a layer between foreign ones", l);
    sha256_digest("a foreign layer", 15, absent);
    int used = snprintf(text, sizeof text,
                        "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":{\"mediaType\":\"%s\",\"size\":%d,"
                        "\"digest\":\"%s\"},\"layers\":[",
                        MT_DOCKER_V2, MT_DOCKER_CONFIG, cn, cfg);
    const char *pattern = "FFLFLLFFFLLLFFFFLLLLFL";
    for (size_t i = 0; pattern[i]; i++)
        used += snprintf(text + used, sizeof text - (size_t)used, "%s{\"mediaType\":\"%s\",\"size\":%d,\"digest\":\"%s\"}",
                         i ? "," : "", pattern[i] == 'F' ? foreign : MT_DOCKER_LAYER, ln, pattern[i] == 'F' ? absent : l);
    snprintf(text + used, sizeof text - (size_t)used, "]}");
    json_t *det = put_accepted(m, "app", text, NULL, NULL, MT_DOCKER_V2, d);
    assert_int_equal(json_integer_value(json_object_get(det, "imageSizeInBytes")), 11 * ln); /* each listing counts */
    json_decref(det);

    char long_mt[3001];
    memset(long_mt, 'x', sizeof long_mt - 1);
    memcpy(long_mt, "application/", 12);
    long_mt[sizeof long_mt - 1] = '\0';
    snprintf(text, sizeof text,
             "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":{\"mediaType\":\"%s\",\"size\":%d,\"digest\":\"%s\"},"
             "\"layers\":[{\"mediaType\":\"%s\",\"size\":%d,\"digest\":\"%s\"}]}",
             MT_DOCKER_V2, MT_DOCKER_CONFIG, cn, cfg, long_mt, ln, l);
    json_decref(put_accepted(m, "app", text, NULL, NULL, MT_DOCKER_V2, d));
    char *mt = layer_media_type(m, l);
    assert_string_equal(mt, long_mt);
    free(mt);

    char *children[17];
    for (int i = 0; i < 17; i++)
        children[i] = push_new_image(m, "app", 1, 100 + i, NULL);
    char *list = list_manifest(MT_DOCKER_LIST, MT_DOCKER_V2, 17, children);
    json_decref(put_accepted(m, "app", list, "list", NULL, MT_DOCKER_LIST, d));
    free(list);
    for (int i = 0; i < 17; i++)
        free(children[i]);
}

/* The room the parse keeps for the manifest of "app" over config cfg (cn
 * bytes) and layer l (ln bytes, media type `fill` repeated to n bytes),
 * padded with spaces to `pad` bytes (0: none): its strings, each with a NUL.
 * Writes the text and the media type. */
static size_t bound_manifest(char *text, size_t cap, const char *cfg, int cn, const char *l, int ln, char fill,
                             size_t n, size_t pad, char *mt)
{
    memset(mt, fill, n);
    memcpy(mt, "application/", 12);
    mt[n] = '\0';
    int used = snprintf(text, cap,
                        "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":{\"mediaType\":\"%s\",\"size\":%d,"
                        "\"digest\":\"%s\"},\"layers\":[{\"mediaType\":\"%s\",\"size\":%d,\"digest\":\"%s\"}]}",
                        MT_DOCKER_V2, MT_DOCKER_CONFIG, cn, cfg, mt, ln, l);
    assert_true((size_t)used < cap && pad < cap);
    for (size_t k = (size_t)used; k < pad; k++)
        text[k] = ' ';
    if (pad > (size_t)used)
        text[pad] = '\0';
    return sizeof MT_DOCKER_V2 + sizeof MT_DOCKER_CONFIG + 2 * ECRMOCK_DIGEST_SIZE + n + 1;
}

static unsigned long push_allocations(ecrmock *m, const char *text, const char *tag);

/* Around the parse's inline text (EM_MF_INLINE_TEXT bytes): a manifest of up
 * to that many bytes takes it whatever it holds; a longer one when its
 * strings fit (measured one by one), else one block.  Each push below costs
 * the image and its layer's new media type, learnt; the block is one more. */
static void test_put_image_inline_text_bound(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "app");
    char cfg[ECRMOCK_DIGEST_SIZE], l[ECRMOCK_DIGEST_SIZE], text[4096], mt[4096];
    int cn = blob(m, "app", "{\"os\":\"linux\",\"bound\":1}", cfg);
    int ln = blob(m, "app", "the layer of the bound", l);
    /* the repository's first image (its indexes made) */
    bound_manifest(text, sizeof text, cfg, cn, l, ln, 'a', 40, 0, mt);
    free(put_image(m, "app", text, NULL));
    size_t overhead = strlen(text) - 40; /* the text but the media type */
    size_t most = EM_MF_INLINE_TEXT - overhead; /* the longest media type of a text of the inline room */
    struct {
        char fill;
        size_t n, pad;
        unsigned long allocs;
    } cases[] = {
        {'b', most, 0, 2},                      /* EM_MF_INLINE_TEXT bytes */
        {'c', most - 1, EM_MF_INLINE_TEXT, 2},  /* the same, a space at the end */
        {'d', most, EM_MF_INLINE_TEXT + 1, 2},  /* a byte more: measured, fits */
        {'e', most + 1, 0, 2},                  /* a byte more: measured, fits */
        {'f', 0, 0, 3},                         /* strings of EM_MF_INLINE_TEXT + 1 bytes: a block */
        {'g', 0, 0, 2},                         /* strings of EM_MF_INLINE_TEXT bytes */
    };
    size_t room0 = bound_manifest(text, sizeof text, cfg, cn, l, ln, 'x', 0, 0, mt);
    cases[4].n = EM_MF_INLINE_TEXT + 1 - room0;
    cases[5].n = EM_MF_INLINE_TEXT - room0;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        size_t room = bound_manifest(text, sizeof text, cfg, cn, l, ln, cases[i].fill, cases[i].n, cases[i].pad, mt);
        if (i < 2)
            assert_int_equal(strlen(text), EM_MF_INLINE_TEXT);
        if (i == 2)
            assert_int_equal(strlen(text), EM_MF_INLINE_TEXT + 1);
        if (i == 4)
            assert_int_equal(room, EM_MF_INLINE_TEXT + 1);
        if (i == 5)
            assert_int_equal(room, EM_MF_INLINE_TEXT);
        assert_int_equal(push_allocations(m, text, NULL), cases[i].allocs);
        char *learnt = layer_media_type(m, l);
        assert_string_equal(learnt, mt);
        free(learnt);
    }
}

/* The model's digest pattern, [a-zA-Z0-9-_+.]+:[a-fA-F0-9]+, as plainly as it reads. */
static bool digest_pattern(const char *d)
{
    size_t a = strspn(d, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_+.");
    if (a == 0 || d[a] != ':')
        return false;
    size_t h = strspn(d + a + 1, "0123456789abcdefABCDEF");
    return h > 0 && d[a + 1 + h] == '\0';
}

/* em_digest_ok (a manifest's digests, and every request's) is the model's
 * pattern: "sha256:" and 64 digits take a path of their own, checked eight
 * bytes at a time; every byte value in every place of it, the bounds of
 * the digits' ranges among them, and the lengths around 64. */
static void test_put_image_digest_pattern(void **state)
{
    (void)state;
    char d[80] = "sha256:0123456789abcdefABCDEF0123456789abcdef0123456789ABCDEFabcdef0123";
    assert_int_equal(strlen(d), 71);
    assert_true(em_digest_ok(d));
    for (size_t i = 0; i < 71; i++) {
        char keep = d[i];
        for (int c = 1; c < 256; c++) {
            d[i] = (char)c;
            if (em_digest_ok(d) != digest_pattern(d))
                fail_msg("em_digest_ok(\"%s\") with byte %d at %zu", d, c, i);
        }
        d[i] = keep;
    }
    /* two bytes at once: a byte of 0x80 or more next to a digit */
    for (size_t i = 7; i + 1 < 71; i++) {
        char k0 = d[i], k1 = d[i + 1];
        for (int c = 0x80; c < 256; c++) {
            d[i] = (char)c;
            d[i + 1] = (char)(c ^ 0x80);
            assert_int_equal(em_digest_ok(d), digest_pattern(d));
        }
        d[i] = k0, d[i + 1] = k1;
    }
    const char *others[] = {
        "sha256:", "sha256:a", "sha256", ":00", "", "sha",
        "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde",   /* 63 digits */
        "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0", /* 65 */
        "sha512:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        "SHA256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    };
    for (size_t i = 0; i < sizeof others / sizeof *others; i++)
        assert_int_equal(em_digest_ok(others[i]), digest_pattern(others[i]));
    assert_false(em_digest_ok(NULL));
}

/* A layer is non-distributable (needs not be in the repository, is listed
 * nowhere) when its media type has ".foreign." or ".nondistributable." in
 * it: anywhere, the start and the end too; the dots belong to the word, and
 * the case counts. */
static void test_put_image_non_distributable_media_types(void **state)
{
    const char *yes[] = {
        ".foreign.", ".nondistributable.", ".foreign.x", "x.foreign.", ".nondistributable.x", "x.nondistributable.",
        "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
        "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", "a..foreign..b", "a.nondistributable.foreign",
        "a.foreignx.foreign.", "a.nondistributable.nondistributable.", ".foreign.foreign.", "x.f.foreign.",
        "x.n.nondistributable.",
    };
    const char *no[] = {
        "", "foreign", "foreign.", ".foreign", "x.foreign", "foreign.x", ".Foreign.", ".FOREIGN.", "nondistributable.",
        ".nondistributable", "x.nondistributable", ".nondistributablex.", ".foreignx.", ".fo.reign.", "x.f", "x.n",
        ".", "..", ".f.", ".n.", "application/vnd.docker.image.rootfs.diff.tar.gzip",
        "application/vnd.oci.image.layer.v1.tar",
        ".non-distributable.", "x.foreign-.", "x.nondistributabl.",
    };
    for (size_t i = 0; i < sizeof yes / sizeof *yes; i++)
        assert_true(em_media_type_non_distributable(yes[i]));
    for (size_t i = 0; i < sizeof no / sizeof *no; i++)
        assert_false(em_media_type_non_distributable(no[i]));
    assert_false(em_media_type_non_distributable(NULL));

    /* in a manifest: the first two need not be there, the third must */
    ecrmock *m = *state;
    create_repo(m, "app");
    char cfg[ECRMOCK_DIGEST_SIZE], absent[3][ECRMOCK_DIGEST_SIZE], text[2048];
    int cn = blob(m, "app", "{\"os\":\"windows\",\"marks\":1}", cfg);
    for (int i = 0; i < 3; i++) {
        char what[32];
        snprintf(what, sizeof what, "absent layer %d", i);
        sha256_digest(what, strlen(what), absent[i]);
    }
    snprintf(text, sizeof text,
             "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":{\"mediaType\":\"%s\",\"size\":%d,"
             "\"digest\":\"%s\"},\"layers\":[{\"mediaType\":\"x.nondistributable.\",\"size\":1,\"digest\":\"%s\"},"
             "{\"mediaType\":\".foreign.x\",\"size\":1,\"digest\":\"%s\"},"
             "{\"mediaType\":\"x.foreign\",\"size\":1,\"digest\":\"%s\"}]}",
             MT_DOCKER_V2, MT_DOCKER_CONFIG, cn, cfg, absent[0], absent[1], absent[2]);
    put_refused_layers_missing(m, text, NULL, absent[2]);
}

/* Allocations counted through the public hooks (ecrmock's and jansson's). */
static unsigned long n_allocs;

static void *counting_malloc(size_t n)
{
    n_allocs++;
    return malloc(n);
}

static void *counting_realloc(void *p, size_t n)
{
    n_allocs++;
    return realloc(p, n);
}

/* What em_image_push (the manifest's parse, the checks, the store) costs in
 * allocations for `text` tagged `tag`, without the request, the answer or
 * the journal; asserts it stored the image. */
static unsigned long push_allocations(ecrmock *m, const char *text, const char *tag)
{
    em_call c = {.m = m, .err = ECRMOCK_ERR_OK};
    em_lock(m);
    em_repo *repo = em_repo_get(em_registry_get(m, ACCOUNT), "app");
    n_allocs = 0;
    ecrmock_set_alloc_funcs(counting_malloc, counting_realloc, NULL);
    json_set_alloc_funcs(counting_malloc, free);
    em_image *img = em_image_push(&c, repo, text, strlen(text), NULL, NULL, tag);
    ecrmock_set_alloc_funcs(NULL, NULL, NULL);
    json_set_alloc_funcs(malloc, free);
    em_unlock(m);
    assert_non_null(img);
    return n_allocs;
}

/* Issue 19: a PutImage's manifest and store make few allocations.  The
 * numbers are the ones measured; a change that adds one must say why. */
static void test_put_image_allocations(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "app");
    char cfg[ECRMOCK_DIGEST_SIZE], l[2][ECRMOCK_DIGEST_SIZE], text[2048];
    int cn = blob(m, "app", "{\"os\":\"linux\",\"count\":1}", cfg);
    int n[2] = {blob(m, "app", "counted layer one", l[0]), blob(m, "app", "counted layer two", l[1])};
    v2_manifest_text(text, sizeof text, cfg, cn, 2, l, n);
    /* The first image of the repository: what any image costs (below), and
     * the repository's image index, push order vector and tag index made
     * (one slot array each; uthash's tables were two allocations each).
     * The repository learns the media types of its 3 blobs
     * (BatchCheckLayerAvailability shows them): Docker's config and layer
     * types, shared strings, cost nothing. */
    assert_int_equal(push_allocations(m, text, "v1"), 2 + 3);
    /* Another manifest over the same blobs, tagged: the image (its manifest,
     * layers and children in the same block) and its tag; the manifest's
     * parse none (its tokens and strings on the stack up to 15 layers; it
     * was 41 with a jansson tree). */
    memmove(text + 1, text, strlen(text) + 1);
    text[0] = '\n';
    assert_int_equal(push_allocations(m, text, "v2"), 1 + 1);
    /* untagged: no tag */
    text[0] = '\t';
    assert_int_equal(push_allocations(m, text, NULL), 1);

    /* 40 layers: their strings in one block, their tokens (more than the
     * parse's 256 on the stack) in another, then the image. */
    char *big = many_layers_manifest(m, "app", 40);
    free(put_image(m, "app", big, NULL)); /* the blobs' media types learnt */
    char *again = malloc(strlen(big) + 2);
    sprintf(again, " %s", big);
    assert_int_equal(push_allocations(m, again, NULL), 1 + 1 + 1);
    free(big), free(again);
}

/* ---- quotas and repositories ---------------------------------------------------------- */

static int setup_two_images(void **state)
{
    ecrmock_options o = ECRMOCK_OPTIONS_INIT;
    o.max_images = 2;
    *state = ecrmock_new(&o);
    return *state ? 0 : -1;
}

static void test_put_image_limit_exceeded(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "app");
    char *m1 = make_manifest(m, "app", 1, 1), *m2 = make_manifest(m, "app", 1, 2), *m3 = make_manifest(m, "app", 1, 3);
    char *d1 = put_image(m, "app", m1, "one");
    char *d2 = put_image(m, "app", m2, NULL);
    put_refused(m, "app", m3, "three", NULL, NULL, "LimitExceededException",
                "The repository with name 'app' in registry with id '" ACCOUNT
                "' already has the maximum allowed number of images which is '2'");
    /* Tagging an image already there adds no image. */
    free(put_image(m, "app", m2, "two"));
    /* The quota is per repository. */
    create_repo(m, "other");
    char *m4 = make_manifest(m, "other", 1, 3);
    free(put_image(m, "other", m4, "three"));
    free(m1), free(m2), free(m3), free(m4), free(d1), free(d2);
}

static void test_put_image_repository_not_found(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "app");
    char *mf = make_manifest(m, "app", 1, 1);
    json_t *r = NULL;
    int st = put(m, &r, "nope", mf, "v1", NULL, NULL);
    assert_repo_not_found(st, &r, "nope", ACCOUNT);
    json_t *req = json_pack("{s:s, s:s, s:s}", "registryId", "210987654321", "repositoryName", "app", "imageManifest", mf);
    st = ecrmock_call(m, "PutImage", req, &r);
    json_decref(req);
    assert_repo_not_found(st, &r, "app", "210987654321");
    json_t *l = repo_view(m, "app");
    assert_int_equal(json_array_size(json_object_get(json_object_get(l, "list"), "imageIds")), 0);
    json_decref(l);
    free(mf);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup_mock, teardown_mock)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_put_image_digest_is_sha256_of_exact_bytes),
        T(test_put_image_given_matching_digest_succeeds),
        T(test_put_image_digest_does_not_match),
        T(test_put_image_oci_manifest_with_media_type),
        T(test_put_image_oci_manifest_media_type_from_request),
        T(test_put_image_without_any_media_type_is_invalid_json),
        T(test_put_image_not_json_is_invalid_json),
        T(test_put_image_docker_manifest_list),
        T(test_put_image_oci_index),
        T(test_put_image_list_with_missing_child),
        T(test_put_image_schema1),
        T(test_put_image_schema1_many_layers),
        T(test_put_image_missing_layer),
        T(test_put_image_missing_config),
        T(test_put_image_layer_limit),
        T(test_put_image_same_manifest_same_tag),
        T(test_put_image_same_manifest_no_tag),
        T(test_put_image_new_tag_on_existing_manifest),
        T(test_put_image_tag_list_shapes),
        T(test_put_image_mutable_tag_moves),
        T(test_put_image_immutable_refuses_existing_tag),
        T(test_put_image_immutable_with_exclusion),
        T(test_put_image_mutable_with_exclusion),
        T(test_put_image_size_is_sum_of_layers),
        cmocka_unit_test_setup_teardown(test_put_image_limit_exceeded, setup_two_images, teardown_mock),
        T(test_put_image_repository_not_found),
        T(test_put_image_escaped_digests),
        T(test_put_image_duplicate_members_last_wins),
        T(test_put_image_member_names_escaped_and_near),
        T(test_put_image_descriptor_size),
        T(test_put_image_schema_version),
        cmocka_unit_test_setup_teardown(test_put_image_thousand_layers, setup_thousand_layers, teardown_mock),
        T(test_put_image_manifest_storage_edges),
        T(test_put_image_inline_text_bound),
        T(test_put_image_digest_pattern),
        T(test_put_image_non_distributable_media_types),
        T(test_put_image_allocations),
    };
    return cmocka_run_group_tests_name("put_image", tests, NULL, NULL);
}
