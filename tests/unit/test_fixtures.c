/*
 * Fixtures and snapshots: the shipped fixtures load into the state they
 * describe, with true digests and sizes; bad fixtures are refused whole with
 * exact messages; snapshots round-trip byte for byte.
 */
#include <pthread.h>
#include <stdbool.h>

#include "helpers.h"

#include "ecrmock_cmocka.h"

#define TIME_RULE "must be a time from 1970 to 9999: epoch seconds (0 to 253402300799) or UTC like \"2024-01-01T00:00:00Z\""

static void load_ok(ecrmock *m, const char *path)
{
    ecrmock_err err;
    if (ecrmock_fixture_load_file(m, path, &err) != 0)
        fail_msg("%s refused: %s: %s", path, err.path, err.text);
}

/* The refusal of a fixture given as text, as "path: text" (malloc'd): the
 * code is InvalidParameter, or the ECR error a call of the load met (named
 * at the start of the text), the path names the source "x.json". */
static char *refusal(ecrmock *m, const char *text)
{
    ecrmock_err err;
    assert_int_equal(ecrmock_fixture_load_string(m, text, "x.json", &err), -1);
    const char *name = ecrmock_error_name(err.code);
    assert_non_null(name);
    if (err.code != ECRMOCK_ERR_INVALID_PARAMETER)
        assert_true(strncmp(err.text, name, strlen(name)) == 0 && err.text[strlen(name)] == ':');
    assert_true(strncmp(err.path, "x.json: ", 8) == 0);
    assert_true(err.text[0] != '\0');
    size_t n = strlen(err.path) + 2 + strlen(err.text) + 1;
    char *both = malloc(n);
    assert_non_null(both);
    snprintf(both, n, "%s: %s", err.path, err.text);
    return both;
}

static void load_ok_text(ecrmock *m, const char *text)
{
    ecrmock_err err;
    if (ecrmock_fixture_load_string(m, text, "x.json", &err) != 0)
        fail_msg("refused: %s: %s", err.path, err.text);
}

static void assert_refused(ecrmock *m, const char *text, const char *want)
{
    char *err = refusal(m, text);
    assert_string_equal(err, want);
    free(err);
}

static json_t *describe(ecrmock *m, const char *registry, const char *repo)
{
    json_t *r = NULL;
    assert_ok(call(m, &r, "DescribeImages", "{\"registryId\": \"%s\", \"repositoryName\": \"%s\"}", registry, repo), r);
    json_t *d = json_incref(json_object_get(r, "imageDetails"));
    json_decref(r);
    return d;
}

/* The manifest of an image, fetched by digest. */
static char *manifest_of(ecrmock *m, const char *repo, const char *digest)
{
    json_t *r = NULL;
    assert_ok(call(m, &r, "BatchGetImage", "{\"repositoryName\": \"%s\", \"imageIds\": [{\"imageDigest\": \"%s\"}]}",
                   repo, digest),
              r);
    char *text = strdup(json_string_value(json_object_get(json_array_get(json_object_get(r, "images"), 0), "imageManifest")));
    json_decref(r);
    return text;
}

static void test_fixture_team_registry(void **state)
{
    ecrmock *m = *state;
    load_ok(m, "fixtures/team-registry.json");
    assert_int_equal(ecrmock_clock_now(m), INT64_C(1709283600000)); /* 2024-03-01T09:00:00Z */

    json_t *r = NULL;
    assert_ok(call(m, &r, "DescribeRepositories", "{}"), r);
    json_t *repos = json_object_get(r, "repositories");
    assert_int_equal(json_array_size(repos), 2);
    json_t *web = json_array_get(repos, 0);
    assert_string_equal(json_string_value(json_object_get(web, "repositoryName")), "team/web");
    assert_true(json_real_value(json_object_get(web, "createdAt")) == 1705312800.0); /* 2024-01-15T10:00:00Z */
    assert_true(json_is_true(json_object_get(json_object_get(json_array_get(repos, 1), "imageScanningConfiguration"),
                                             "scanOnPush")));
    json_decref(r);

    json_t *details = describe(m, "123456789012", "team/web");
    assert_int_equal(json_array_size(details), 4);
    /* 1.2.0 and latest on one image, pushed and pulled when the fixture says;
     * its size is its two layers, 2048 + 6000 bytes. */
    json_t *rel = json_array_get(details, 2);
    json_t *tags = json_object_get(rel, "imageTags");
    assert_int_equal(json_array_size(tags), 2);
    assert_string_equal(json_string_value(json_array_get(tags, 0)), "1.2.0");
    assert_string_equal(json_string_value(json_array_get(tags, 1)), "latest");
    assert_int_equal(json_integer_value(json_object_get(rel, "imageSizeInBytes")), 8048);
    assert_true(json_real_value(json_object_get(rel, "imagePushedAt")) == 1709137800.0);
    assert_true(json_real_value(json_object_get(rel, "lastRecordedPullTime")) == 1709280000.0);
    assert_null(json_object_get(json_array_get(details, 3), "imageTags")); /* the untagged one */
    /* Digests are true: sha256 of the stored manifest bytes. */
    for (size_t i = 0; i < json_array_size(details); i++) {
        const char *digest = json_string_value(json_object_get(json_array_get(details, i), "imageDigest"));
        char *manifest = manifest_of(m, "team/web", digest), want[ECRMOCK_DIGEST_SIZE];
        sha256_digest(manifest, strlen(manifest), want);
        assert_string_equal(digest, want);
        free(manifest);
    }
    json_decref(details);

    /* The shared base layer {"size": 2048, "seed": 1} is stored once and is the
     * same bytes in every image. */
    assert_ok(call(m, &r, "GetRepositoryPolicy", "{\"repositoryName\": \"team/web\"}"), r);
    assert_non_null(strstr(json_string_value(json_object_get(r, "policyText")), "\"Sid\":\"ci-pull\""));
    json_decref(r);

    details = describe(m, "210987654321", "base/debian");
    assert_int_equal(json_array_size(details), 1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(details, 0), "imageSizeInBytes")), 8192);
    json_decref(details);
    details = describe(m, "123456789012", "team/worker");
    assert_string_equal(json_string_value(json_object_get(json_array_get(details, 0), "imageManifestMediaType")),
                        "application/vnd.oci.image.manifest.v1+json");
    json_decref(details);
}

/* A layer given as text is exactly those bytes; one given by size and seed
 * is that many deterministic bytes. */
static void test_fixture_layer_bytes(void **state)
{
    ecrmock *m = *state;
    load_ok(m, "fixtures/team-registry.json");
    char digest[ECRMOCK_DIGEST_SIZE];
    sha256_digest("worker binary v1", 16, digest);
    void *bytes = NULL;
    size_t len = 0;
    assert_int_equal(ecrmock_get_layer(m, NULL, "team/worker", digest, &bytes, &len, NULL), ECRMOCK_ERR_OK);
    assert_int_equal(len, 16);
    assert_memory_equal(bytes, "worker binary v1", 16);
    free(bytes);

    /* Synthesised bytes are the same in two loads. */
    ecrmock *other = ecrmock_new(NULL);
    load_ok(other, "fixtures/team-registry.json");
    json_t *a = describe(m, "123456789012", "team/web"), *b = describe(other, "123456789012", "team/web");
    assert_true(json_equal(a, b));
    json_decref(a);
    json_decref(b);
    ecrmock_free(other);
}

static void test_fixture_multi_arch(void **state)
{
    ecrmock *m = *state;
    load_ok(m, "fixtures/multi-arch.json");
    json_t *details = describe(m, "123456789012", "tools/cli");
    assert_int_equal(json_array_size(details), 6); /* 2 lists and their 4 images */
    json_t *index = NULL, *list = NULL;
    size_t i;
    json_t *d;
    json_array_foreach(details, i, d) {
        const char *mt = json_string_value(json_object_get(d, "imageManifestMediaType"));
        if (strcmp(mt, "application/vnd.oci.image.index.v1+json") == 0)
            index = d;
        if (strcmp(mt, "application/vnd.docker.distribution.manifest.list.v2+json") == 0)
            list = d;
    }
    assert_non_null(index);
    assert_non_null(list);
    assert_int_equal(json_array_size(json_object_get(index, "imageTags")), 2);
    /* A list's size is its largest image's: 3000 bytes of layers. */
    assert_int_equal(json_integer_value(json_object_get(index, "imageSizeInBytes")), 3000);
    assert_int_equal(json_integer_value(json_object_get(list, "imageSizeInBytes")), 2900);
    /* Its images are referenced: deleting one is refused. */
    char *manifest = manifest_of(m, "tools/cli", json_string_value(json_object_get(index, "imageDigest")));
    json_t *doc = json_loads(manifest, 0, NULL);
    json_t *first = json_array_get(json_object_get(doc, "manifests"), 0);
    assert_string_equal(json_string_value(json_object_get(json_object_get(first, "platform"), "architecture")), "amd64");
    json_t *r = NULL;
    assert_ok(call(m, &r, "BatchDeleteImage", "{\"repositoryName\": \"tools/cli\", \"imageIds\": [{\"imageDigest\": \"%s\"}]}",
                   json_string_value(json_object_get(first, "digest"))),
              r);
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(r, "failures"), 0), "failureCode")),
                        "ImageReferencedByManifestList");
    json_decref(r);
    json_decref(doc);
    free(manifest);
    json_decref(details);
}

static void test_fixture_immutable_tags(void **state)
{
    ecrmock *m = *state;
    load_ok(m, "fixtures/immutable-tags.json");
    create_repo(m, "scratch");
    char *manifest = make_manifest(m, "releases/api", 1, 77);
    json_t *req = json_pack("{s:s, s:s, s:s}", "repositoryName", "releases/api", "imageManifest", manifest, "imageTag",
                            "v1.0.0");
    json_t *r = NULL;
    assert_error(ecrmock_call(m, "PutImage", req, &r), r, 400, "ImageTagAlreadyExistsException");
    json_decref(req);
    free(manifest);
    /* latest is excluded from immutability in releases/web: it moves. */
    manifest = make_manifest(m, "releases/web", 1, 78);
    char *digest = put_image(m, "releases/web", manifest, "latest");
    assert_ecrmock_tag(m, "releases/web", "latest", digest);
    assert_ecrmock_image_exists(m, "releases/web", "v3.2.0");
    free(digest);
    free(manifest);
    assert_ok(call(m, &r, "DescribeRepositories", "{\"repositoryNames\": [\"releases/api\"]}"), r);
    json_t *enc = json_object_get(json_array_get(json_object_get(r, "repositories"), 0), "encryptionConfiguration");
    assert_string_equal(json_string_value(json_object_get(enc, "encryptionType")), "KMS");
    json_decref(r);
}

/* The settings fixture: each setting reads back through its own action. */
static void test_fixture_registry_settings(void **state)
{
    ecrmock *m = *state;
    load_ok(m, "fixtures/registry-settings.json");
    json_t *r = NULL;
    assert_ok(call(m, &r, "GetAccountSetting", "{\"name\": \"BLOB_MOUNTING\"}"), r);
    assert_string_equal(json_string_value(json_object_get(r, "value")), "ENABLED");
    json_decref(r);
    assert_listed(m, "DescribePullThroughCacheRules", "{}", "pullThroughCacheRules", "ecrRepositoryPrefix",
                  "ecr-public,docker-hub");
    assert_ok(call(m, &r, "DescribePullThroughCacheRules", "{\"ecrRepositoryPrefixes\": [\"docker-hub\"]}"), r);
    json_t *rule = json_array_get(json_object_get(r, "pullThroughCacheRules"), 0);
    assert_string_equal(json_string_value(json_object_get(rule, "upstreamRegistry")), "docker-hub");
    assert_true(json_real_value(json_object_get(rule, "createdAt")) == 1711929600.0);
    assert_true(json_real_value(json_object_get(rule, "updatedAt")) == 1713139200.0);
    json_decref(r);
    assert_ok(call(m, &r, "ListPullTimeUpdateExclusions", "{}"), r);
    assert_string_equal(json_string_value(json_array_get(json_object_get(r, "pullTimeUpdateExclusions"), 0)),
                        "arn:aws:iam::123456789012:role/ci-scanner");
    json_decref(r);
    assert_ok(call(m, &r, "GetSigningConfiguration", "{}"), r);
    assert_int_equal(json_array_size(json_object_get(json_object_get(r, "signingConfiguration"), "rules")), 1);
    json_decref(r);
    /* 1.0 was signed at push; its signing completed long before the clock. */
    assert_ok(call(m, &r, "DescribeImageSigningStatus",
                   "{\"repositoryName\": \"apps/api\", \"imageId\": {\"imageTag\": \"1.0\"}}"), r);
    json_t *statuses = json_object_get(r, "signingStatuses");
    assert_int_equal(json_array_size(statuses), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(statuses, 0), "status")), "COMPLETE");
    json_decref(r);
    assert_ok(call(m, &r, "DescribeImages",
                   "{\"repositoryName\": \"apps/api\", \"imageIds\": [{\"imageTag\": \"0.9\"}]}"), r);
    json_t *d = json_array_get(json_object_get(r, "imageDetails"), 0);
    assert_string_equal(json_string_value(json_object_get(d, "imageStatus")), "ARCHIVED");
    assert_true(json_real_value(json_object_get(d, "lastArchivedAt")) == 1713571200.0);
    json_decref(r);
    /* The template applies to a pull-through cache repository. */
    json_t *repo = NULL;
    assert_int_equal(ecrmock_create_repository_for(m, NULL, "docker-hub/library/nginx", "PULL_THROUGH_CACHE", &repo, NULL),
                     ECRMOCK_ERR_OK);
    assert_string_equal(json_string_value(json_object_get(repo, "imageTagMutability")), "IMMUTABLE");
    json_decref(repo);
}

/* Asserts that two snapshots are the same text; takes both references. */
static void same_text(json_t *want, json_t *got)
{
    char *t1 = json_dumps(want, JSON_COMPACT), *t2 = json_dumps(got, JSON_COMPACT);
    assert_string_equal(t1, t2);
    free(t1);
    free(t2);
    json_decref(want);
    json_decref(got);
}

/* Loads a's snapshot into a fresh instance and asserts that its snapshot is
 * the same text; returns the new instance (ecrmock_free() it). */
static ecrmock *reload(ecrmock *a)
{
    json_t *snap = ecrmock_snapshot(a, NULL);
    assert_non_null(snap);
    ecrmock *b = ecrmock_new(NULL);
    assert_non_null(b);
    ecrmock_err err;
    if (ecrmock_fixture_load(b, snap, "snapshot", &err) != 0)
        fail_msg("snapshot refused: %s: %s", err.path, err.text);
    same_text(snap, ecrmock_snapshot(b, NULL));
    return b;
}

/* The layers of a repository's entry, by its name, in a snapshot (borrowed). */
static json_t *snapshot_layers(json_t *snap, const char *repo)
{
    json_t *regs = json_object_get(snap, "registries"), *reg, *r;
    size_t i, j;
    json_array_foreach(regs, i, reg) {
        json_array_foreach(json_object_get(reg, "repositories"), j, r) {
            if (strcmp(json_string_value(json_object_get(r, "name")), repo) == 0)
                return json_object_get(r, "layers");
        }
    }
    fail_msg("no repository %s in the snapshot", repo);
    return NULL;
}

/* A copy of m by a prepared fixture of its snapshot (ecrmock_new_from_fixture);
 * asserts that the copy's snapshot is m's, text for text. */
static ecrmock *copy_by_prepared(ecrmock *m, ecrmock_fixture **fx_out)
{
    json_t *snap = ecrmock_snapshot(m, NULL);
    ecrmock_err err;
    ecrmock_fixture *fx = ecrmock_fixture_prepare(snap, NULL, "snapshot", &err);
    if (!fx)
        fail_msg("prepare refused: %s: %s", err.path, err.text);
    ecrmock *c = ecrmock_new_from_fixture(fx, NULL);
    assert_non_null(c);
    same_text(snap, ecrmock_snapshot(c, NULL));
    if (fx_out)
        *fx_out = fx;
    else
        ecrmock_fixture_free(fx);
    return c;
}

/* A snapshot lists a repository's layers in the order they were added (the
 * digests' order is another, and so is a hash table's), past the layer
 * index's first array (16 slots) and past its growth to 4,096; a load of it,
 * and a prepared fixture's copy, list them so again. */
static void test_snapshot_layer_order_many(void **state)
{
    (void)state;
    static const size_t counts[] = {20, 1500};
    for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++) {
        size_t n = counts[c];
        ecrmock *m = ecrmock_new(NULL);
        create_repo(m, "big/layers");
        char (*digests)[ECRMOCK_DIGEST_SIZE] = calloc(n, sizeof *digests);
        assert_non_null(digests);
        for (size_t i = 0; i < n; i++) {
            char bytes[32];
            int len = snprintf(bytes, sizeof bytes, "layer %zu of %zu", i, n);
            assert_int_equal(ecrmock_put_layer(m, NULL, "big/layers", bytes, (size_t)len, digests[i], NULL), 0);
        }
        bool sorted = true;
        for (size_t i = 1; i < n; i++)
            sorted = sorted && strcmp(digests[i - 1], digests[i]) < 0;
        assert_false(sorted); /* the order added is not the digests' */
        json_t *snap = ecrmock_snapshot(m, NULL);
        json_t *layers = snapshot_layers(snap, "big/layers");
        assert_int_equal(json_array_size(layers), n);
        for (size_t i = 0; i < n; i++)
            assert_string_equal(json_string_value(json_object_get(json_array_get(layers, i), "digest")), digests[i]);
        json_decref(snap);
        ecrmock *b = reload(m);      /* the same text, so the same order */
        ecrmock *d = copy_by_prepared(b, NULL);
        ecrmock_free(d);
        ecrmock_free(b);
        ecrmock_free(m);
        free(digests);
    }
}

/* An instance copied from a prepared fixture holds blobs of its own: 1,300
 * blobs, 400 of them in three repositories (two registries), all unref'd
 * in one copy (its repositories deleted one by one) while the other copy
 * and the prepared fixture keep every byte. */
static void test_prepared_fixture_copy_many_blobs_unref(void **state)
{
    (void)state;
    static const struct {
        const char *registry, *name;
    } repos[] = {{NULL, "copy/one"}, {NULL, "copy/two"}, {"210987654321", "copy/three"}};
    enum { SHARED = 400, OWN = 300, N_REPOS = 3 };
    ecrmock *m = ecrmock_new(NULL);
    for (size_t r = 0; r < N_REPOS; r++) {
        if (repos[r].registry)
            call_ok(m, "CreateRepository", "{\"registryId\": \"%s\", \"repositoryName\": \"%s\"}", repos[r].registry,
                    repos[r].name);
        else
            create_repo(m, repos[r].name);
        for (size_t i = 0; i < SHARED + OWN; i++) {
            char bytes[48];
            int len = i < SHARED ? snprintf(bytes, sizeof bytes, "shared %zu", i)
                                 : snprintf(bytes, sizeof bytes, "own %zu of %s", i, repos[r].name);
            assert_int_equal(ecrmock_put_layer(m, repos[r].registry, repos[r].name, bytes, (size_t)len, NULL, NULL), 0);
        }
    }
    json_t *want = ecrmock_snapshot(m, NULL);
    ecrmock_fixture *fx = NULL;
    ecrmock *one = copy_by_prepared(m, &fx), *two = ecrmock_new_from_fixture(fx, NULL);
    assert_non_null(two);
    ecrmock_free(m);
    for (size_t r = 0; r < N_REPOS; r++) {
        if (repos[r].registry)
            call_ok(one, "DeleteRepository", "{\"registryId\": \"%s\", \"repositoryName\": \"%s\", \"force\": true}",
                    repos[r].registry, repos[r].name);
        else
            call_ok(one, "DeleteRepository", "{\"repositoryName\": \"%s\", \"force\": true}", repos[r].name);
        /* The other copy reads every layer, the shared ones too. */
        json_t *snap = ecrmock_snapshot(two, NULL);
        assert_true(json_equal(snap, want));
        json_decref(snap);
        for (size_t i = 0; i < SHARED; i += 37) {
            char bytes[48], digest[ECRMOCK_DIGEST_SIZE];
            int len = snprintf(bytes, sizeof bytes, "shared %zu", i);
            sha256_digest(bytes, (size_t)len, digest);
            void *got = NULL;
            size_t got_len = 0;
            assert_int_equal(ecrmock_get_layer(two, repos[r].registry, repos[r].name, digest, &got, &got_len, NULL), 0);
            assert_int_equal(got_len, (size_t)len);
            assert_memory_equal(got, bytes, got_len);
            ecrmock_buffer_free(got);
        }
    }
    ecrmock_free(two);
    ecrmock_free(one);
    /* The prepared fixture is whole: a new copy of it is the state it was made from. */
    ecrmock *three = ecrmock_new_from_fixture(fx, NULL);
    json_t *snap = ecrmock_snapshot(three, NULL);
    assert_true(json_equal(snap, want));
    json_decref(snap);
    ecrmock_free(three);
    ecrmock_fixture_free(fx);
    json_decref(want);
}

/* A snapshot loads into a fresh instance as the same state, and dumps again
 * byte for byte. */
static void test_snapshot_round_trip(void **state)
{
    static const char *const files[] = {"fixtures/team-registry.json", "fixtures/multi-arch.json",
                                        "fixtures/immutable-tags.json", "fixtures/registry-settings.json",
                                        "fixtures/replicated.json"};
    (void)state;
    for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
        ecrmock *a = ecrmock_new(NULL);
        load_ok(a, files[f]);
        /* Some life after the load: a pull, a moved tag, a deletion, a layer. */
        json_t *r = NULL;
        ecrmock_clock_advance(a, 1234, NULL);
        call(a, &r, "BatchGetImage", "{\"repositoryName\": \"team/web\", \"imageIds\": [{\"imageTag\": \"1.0.0\"}]}");
        json_decref(r);
        create_repo(a, "later/repo");
        push_layer(a, "later/repo", "orphan layer", 12, NULL);
        ecrmock *b = reload(a);
        assert_int_equal(ecrmock_clock_now(b), ecrmock_clock_now(a));
        ecrmock_free(a);
        ecrmock_free(b);
    }
}

static void test_snapshot_contents(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "web");
    char *manifest = make_manifest(m, "web", 1, 5);
    char *digest = put_image(m, "web", manifest, "v1");
    call_ok(m, "SetRepositoryPolicy",
            "{\"repositoryName\": \"web\", \"policyText\": \"{\\\"Statement\\\": {\\\"Effect\\\": \\\"Deny\\\", "
            "\\\"Principal\\\": \\\"*\\\", \\\"Action\\\": \\\"ecr:*\\\"}}\"}");
    json_t *snap = ecrmock_snapshot(m, NULL);
    json_t *repo = json_array_get(json_object_get(json_array_get(json_object_get(snap, "registries"), 0), "repositories"), 0);
    assert_string_equal(json_string_value(json_object_get(repo, "name")), "web");
    assert_string_equal(json_string_value(json_object_get(repo, "policy")),
                        "{\"Statement\": {\"Effect\": \"Deny\", \"Principal\": \"*\", \"Action\": \"ecr:*\"}}");
    json_t *img = json_array_get(json_object_get(repo, "images"), 0);
    assert_string_equal(json_string_value(json_object_get(img, "digest")), digest);
    assert_string_equal(json_string_value(json_object_get(img, "manifest")), manifest);
    assert_int_equal(json_array_size(json_object_get(repo, "layers")), 2); /* config and one layer */
    json_decref(snap);
    free(digest);
    free(manifest);
}

/* A fixture is refused whole: the state before it stays. */
static void test_fixture_refused_leaves_state(void **state)
{
    ecrmock *m = *state;
    load_ok(m, "fixtures/multi-arch.json");
    int64_t clock = ecrmock_clock_now(m);
    json_t *before = ecrmock_snapshot(m, NULL);
    char *err = refusal(m, "{\"clock\": 5, \"registries\": [{\"repositories\": ["
                           "{\"name\": \"fine\", \"images\": [{\"tags\": [\"a\"], \"layers\": [{\"text\": \"x\"}]}]},"
                           "{\"name\": \"Bad\"}]}]}");
    free(err);
    assert_state_is(m, before, "the refused fixture");
    assert_int_equal(ecrmock_clock_now(m), clock);
    json_decref(before);
}

static void test_fixture_refusal_messages(void **state)
{
    ecrmock *m = *state;
    assert_refused(m, "{\"registries\": [{\"repositories\": [{\"name\": \"ok-one\"}, {\"name\": \"ok-two\"}, {\"name\": \"Bad\"}]}]}",
                   "x.json: $.registries[0].repositories[2].name: InvalidParameterException: Invalid parameter at "
                   "'repositoryName' failed to satisfy constraint: 'must satisfy regular expression "
                   "'[a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*(\\/[a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*)*''");
    assert_refused(m, "[]", "x.json: $: must be an object");
    assert_refused(m, "{\"registry\": []}", "x.json: $.registry: unknown member");
    assert_refused(m, "{\"registries\": {}}", "x.json: $.registries: must be a list");
    assert_refused(m, "{\"clock\": \"yesterday\"}",
                   "x.json: $.clock: " TIME_RULE);
    assert_refused(m, "{\"registries\": [{\"id\": \"1234\"}]}", "x.json: $.registries[0].id: must match ^[0-9]{12}$");
    assert_refused(m, "{\"registries\": [{\"repositories\": [{}]}]}",
                   "x.json: $.registries[0].repositories[0].name: is required");
    assert_refused(m, "{\"registries\": [{\"repositories\": [{\"name\": \"dup\"}, {\"name\": \"dup\"}]}]}",
                   "x.json: $.registries[0].repositories[1]: RepositoryAlreadyExistsException: The repository with "
                   "name 'dup' already exists in the registry with id '123456789012'");
    assert_refused(m, "{\"registries\": [{\"repositories\": [{\"name\": \"web\", \"imageTagMutability\": \"SOMETIMES\"}]}]}",
                   "x.json: $.registries[0].repositories[0].imageTagMutability: must be one of \"MUTABLE\", "
                   "\"IMMUTABLE\", \"IMMUTABLE_WITH_EXCLUSION\" or \"MUTABLE_WITH_EXCLUSION\"");
    /* The failing call's member, as deep as the fixture has it (not only its first name). */
    assert_refused(m,
                   "{\"registries\": [{\"repositories\": [{\"name\": \"web\", \"encryptionConfiguration\": "
                   "{\"encryptionType\": \"AES256\", \"kmsKey\": \"k\"}}]}]}",
                   "x.json: $.registries[0].repositories[0].encryptionConfiguration.kmsKey: InvalidParameterException: "
                   "Invalid parameter at 'encryptionConfiguration.kmsKey' failed to satisfy constraint: 'can only be "
                   "provided when encryptionType is KMS or KMS_DSSE'");
    assert_refused(m,
                   "{\"registries\": [{\"repositories\": [{\"name\": \"web\", \"encryptionConfiguration\": "
                   "{\"encryptionType\": \"ROT13\"}}]}]}",
                   "x.json: $.registries[0].repositories[0].encryptionConfiguration.encryptionType: "
                   "must be one of \"AES256\", \"KMS\" or \"KMS_DSSE\"");
    assert_refused(m,
                   "{\"registries\": [{\"repositories\": [{\"name\": \"web\", \"tags\": [{\"Key\": \"aws:x\", "
                   "\"Value\": \"v\"}]}]}]}",
                   "x.json: $.registries[0].repositories[0].tags: InvalidTagParameterException: Tag key 'aws:x' is "
                   "reserved: keys prefixed with 'aws:' are for AWS use");
    assert_refused(m, "{\"registries\": [{\"repositories\": [{\"name\": \"web\", \"policy\": {\"Statement\": []}}]}]}",
                   "x.json: $.registries[0].repositories[0].policy: InvalidParameterException: Invalid parameter at "
                   "'PolicyText' failed to satisfy constraint: 'Invalid repository policy provided'");
    assert_refused(m, "{\"registries\": [{\"repositories\": [{\"name\": \"web\", \"layers\": [{\"text\": \"a\", \"size\": 3}]}]}]}",
                   "x.json: $.registries[0].repositories[0].layers[0]: needs exactly one of \"text\", "
                   "\"base64\", \"size\" or \"declaredSize\"");
    assert_refused(m, "{\"registries\": [{\"repositories\": [{\"name\": \"web\", \"layers\": [{\"base64\": \"abc\"}]}]}]}",
                   "x.json: $.registries[0].repositories[0].layers[0].base64: is not standard padded base64");
    assert_refused(m,
                   "{\"registries\": [{\"repositories\": [{\"name\": \"web\", \"layers\": [{\"text\": \"a\", \"digest\": "
                   "\"sha256:00\"}]}]}]}",
                   "x.json: $.registries[0].repositories[0].layers[0].digest: does not match the layer's bytes, whose "
                   "digest is sha256:ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb");
    assert_refused(m, "{\"registries\": [{\"repositories\": [{\"name\": \"web\", \"images\": [{\"tags\": [\"a\"]}]}]}]}",
                   "x.json: $.registries[0].repositories[0].images[0]: needs exactly one of \"manifest\", "
                   "\"layers\" or \"manifests\"");
    assert_refused(m, "{\"registries\": [{\"repositories\": [{\"name\": \"web\", \"images\": [{\"tags\": [1], \"layers\": []}]}]}]}",
                   "x.json: $.registries[0].repositories[0].images[0].tags[0]: must be a string");
    assert_refused(m,
                   "{\"registries\": [{\"repositories\": [{\"name\": \"web\", \"images\": [{\"manifest\": "
                   "\"{\\\"schemaVersion\\\": 2}\"}]}]}]}",
                   "x.json: $.registries[0].repositories[0].images[0]: InvalidParameterException: Invalid parameter at "
                   "'ImageManifest' failed to satisfy constraint: 'Invalid JSON syntax'");
    assert_refused(m,
                   "{\"registries\": [{\"repositories\": [{\"name\": \"web\", \"imageTagMutability\": \"IMMUTABLE\", "
                   "\"images\": [{\"tags\": [\"v1\"], \"layers\": [{\"text\": \"a\"}]}, {\"tags\": [\"v1\"], \"layers\": "
                   "[{\"text\": \"b\"}]}]}]}]}",
                   "x.json: $.registries[0].repositories[0].images[1]: ImageTagAlreadyExistsException: The image tag "
                   "'v1' already exists in the 'web' repository and cannot be overwritten because the repository is "
                   "immutable.");
    assert_refused(m,
                   "{\"registries\": [{\"repositories\": [{\"name\": \"web\", \"images\": [{\"manifests\": [{\"tags\": "
                   "[\"x\"], \"layers\": []}]}]}]}]}",
                   "x.json: $.registries[0].repositories[0].images[0].manifests[0]: the images of a multi-arch image "
                   "are untagged: tag the list");
    assert_refused(m, "{\"faults\": [{\"probability\": 2}]}", "x.json: $.faults[0].probability: must be at most 1");
    assert_refused(m, "{\"registries\": [{\"repositories\": [{\"name\": \"web\", \"images\": [{\"layers\": [], \"pushedAt\": true}]}]}]}",
                   "x.json: $.registries[0].repositories[0].images[0].pushedAt: " TIME_RULE);
}

static void test_fixture_load_sources(void **state)
{
    ecrmock *m = *state;
    ecrmock_err err;
    assert_int_equal(ecrmock_fixture_load_file(m, "fixtures/no-such-file.json", &err), -1);
    assert_int_equal(err.code, ECRMOCK_ERR_INVALID_PARAMETER);
    assert_string_equal(err.path, "fixtures/no-such-file.json");
    assert_string_equal(err.text, "cannot be read: No such file or directory");
    /* a directory opens but cannot be read: not "JSON that ends early" */
    assert_int_equal(ecrmock_fixture_load_file(m, "fixtures", &err), -1);
    assert_int_equal(err.code, ECRMOCK_ERR_INVALID_PARAMETER);
    assert_string_equal(err.path, "fixtures");
    assert_string_equal(err.text, "cannot be read: Is a directory");
    /* a syntax error: the file, its line and column, what jansson met there */
    char bad[] = "/tmp/ecrmock-fixture-XXXXXX";
    temp_file(bad, "{\"registries\": [\n  {\"repositories\": [}\n]}\n");
    assert_int_equal(ecrmock_fixture_load_file(m, bad, &err), -1);
    remove(bad);
    char want[64];
    snprintf(want, sizeof want, "%s: line 2, column 21", bad);
    assert_int_equal(err.code, ECRMOCK_ERR_INVALID_PARAMETER);
    assert_string_equal(err.path, want);
    assert_string_equal(err.text, "not valid JSON: unexpected token near '}'");
    assert_int_equal(ecrmock_fixture_load_string(m, "{\"registries\": [", "inline", &err), -1);
    assert_int_equal(err.code, ECRMOCK_ERR_INVALID_PARAMETER);
    assert_true(strncmp(err.path, "inline: line 1, column ", 23) == 0);
    assert_non_null(strstr(err.text, "not valid JSON"));
    json_t *fx = json_pack("{s:[{s:[{s:s}]}]}", "registries", "repositories", "name", "from-json");
    assert_int_equal(ecrmock_fixture_load(m, fx, NULL, &err), 0);
    assert_int_equal(err.code, ECRMOCK_ERR_OK);
    assert_string_equal(err.path, "");
    assert_string_equal(err.text, "");
    json_decref(fx);
    assert_ecrmock_image_absent(m, "from-json", "v1");
    assert_int_equal(ecrmock_fixture_load(m, NULL, NULL, &err), -1);
    assert_int_equal(err.code, ECRMOCK_ERR_INVALID_PARAMETER);
    assert_string_equal(err.path, "fixture: $");
    assert_string_equal(err.text, "must be an object");
    /* A load replaces the state: from-json is gone after another fixture. */
    load_ok(m, "fixtures/multi-arch.json");
    assert_null(ecrmock_images(m, NULL, "from-json", NULL));
}

/* A fixture can carry fault rules and an inline manifest. */
static void test_fixture_faults_and_inline_manifest(void **state)
{
    ecrmock *m = *state;
    const char *text =
        "{\"faults\": [{\"action\": \"BatchGetImage\", \"nth\": 2, \"count\": 1}],"
        " \"registries\": [{\"repositories\": [{\"name\": \"web\","
        "   \"layers\": [{\"text\": \"cfg\"}, {\"text\": \"layer\"}],"
        "   \"images\": [{\"tags\": [\"v1\"], \"manifest\": {\"schemaVersion\": 2, \"mediaType\": "
        "\"application/vnd.oci.image.manifest.v1+json\", \"config\": {\"mediaType\": \"application/vnd.oci.image.config.v1+json\", "
        "\"size\": 3, \"digest\": \"${cfg}\"}, \"layers\": [{\"mediaType\": \"application/vnd.oci.image.layer.v1.tar\", "
        "\"size\": 5, \"digest\": \"${layer}\"}]}}]}]}]}";
    char cfg[ECRMOCK_DIGEST_SIZE], layer[ECRMOCK_DIGEST_SIZE], fixture[2048];
    sha256_digest("cfg", 3, cfg);
    sha256_digest("layer", 5, layer);
    /* fill the placeholders */
    const char *p = strstr(text, "${cfg}"), *q = strstr(text, "${layer}");
    snprintf(fixture, sizeof fixture, "%.*s%s%.*s%s%s", (int)(p - text), text, cfg, (int)(q - p - 6), p + 6, layer, q + 8);
    ecrmock_err err;
    if (ecrmock_fixture_load_string(m, fixture, "inline", &err) != 0)
        fail_msg("refused: %s: %s", err.path, err.text);
    json_t *r = NULL;
    call_ok(m, "BatchGetImage", "{\"repositoryName\": \"web\", \"imageIds\": [{\"imageTag\": \"v1\"}]}");
    assert_error(call(m, &r, "BatchGetImage", "{\"repositoryName\": \"web\", \"imageIds\": [{\"imageTag\": \"v1\"}]}"),
                 r, 400, "ThrottlingException");
    json_t *details = describe(m, "123456789012", "web");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(details, 0), "imageSizeInBytes")), 5);
    json_decref(details);
}

/* A fixture's fault rules take fresh ids: an id handed out before the load
 * names no rule after it (the load replaced that rule), rather than one of
 * the fixture's. */
static void test_fixture_fault_ids_not_reused(void **state)
{
    ecrmock *m = *state;
    ecrmock_fault f = ECRMOCK_FAULT_INIT;
    f.action = "ListImages";
    long old = ecrmock_fault_add(m, &f, NULL);
    assert_true(old > 0);
    ecrmock_err err;
    if (ecrmock_fixture_load_string(m, "{\"faults\": [{\"action\": \"DescribeRepositories\"}]}", "inline", &err) != 0)
        fail_msg("refused: %s: %s", err.path, err.text);
    assert_int_equal(ecrmock_fault_remove(m, old, NULL), -1);
    json_t *r = NULL;
    assert_error(call(m, &r, "DescribeRepositories", "{}"), r, 400, "ThrottlingException");
    assert_int_equal(ecrmock_fault_fired(m, old), 0);
}

/* Policies and registry settings are part of the state: they round-trip. */
static void test_snapshot_settings_round_trip(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "web");
    json_t *r = NULL;
    const char *lifecycle = "{\\\"rules\\\":[{\\\"rulePriority\\\":1,\\\"selection\\\":{\\\"tagStatus\\\":\\\"untagged\\\","
                            "\\\"countType\\\":\\\"sinceImagePushed\\\",\\\"countUnit\\\":\\\"days\\\",\\\"countNumber\\\":14},"
                            "\\\"action\\\":{\\\"type\\\":\\\"expire\\\"}}]}";
    call_ok(m, "PutLifecyclePolicy", "{\"repositoryName\": \"web\", \"lifecyclePolicyText\": \"%s\"}", lifecycle);
    call_ok(m, "PutRegistryPolicy",
            "{\"policyText\": \"{\\\"Statement\\\":{\\\"Effect\\\":\\\"Allow\\\",\\\"Principal\\\":"
            "{\\\"AWS\\\":\\\"arn:aws:iam::210987654321:root\\\"},\\\"Action\\\":\\\"ecr:ReplicateImage\\\"}}\"}");
    call_ok(m, "PutReplicationConfiguration",
            "{\"replicationConfiguration\": {\"rules\": [{\"destinations\": [{\"region\": \"eu-west-1\", "
            "\"registryId\": \"123456789012\"}]}]}}");
    call_ok(m, "PutRegistryScanningConfiguration",
            "{\"scanType\": \"BASIC\", \"rules\": [{\"scanFrequency\": \"SCAN_ON_PUSH\", \"repositoryFilters\": "
            "[{\"filter\": \"web\", \"filterType\": \"WILDCARD\"}]}]}");
    json_t *snap = ecrmock_snapshot(m, NULL);
    json_t *reg = json_array_get(json_object_get(snap, "registries"), 0);
    assert_non_null(json_object_get(reg, "policy"));
    assert_non_null(json_object_get(reg, "replicationConfiguration"));
    assert_non_null(json_object_get(reg, "scanningConfiguration"));
    assert_non_null(json_object_get(json_array_get(json_object_get(reg, "repositories"), 0), "lifecyclePolicy"));
    json_decref(snap);
    ecrmock *b = reload(m);
    call_ok(b, "GetLifecyclePolicy", "{\"repositoryName\": \"web\"}");
    assert_ok(call(b, &r, "DescribeRegistry", "{}"), r);
    assert_int_equal(json_array_size(json_object_get(json_object_get(r, "replicationConfiguration"), "rules")), 1);
    json_decref(r);
    ecrmock_free(b);
}

/* A member of the snapshot's first registry (borrowed from `snap`). */
static json_t *first_registry_member(json_t *snap, const char *member)
{
    return json_object_get(json_array_get(json_object_get(snap, "registries"), 0), member);
}

static void test_snapshot_pull_through_cache_rules(void **state)
{
    ecrmock *m = *state;
    json_t *r = NULL;
    call_ok(m, "CreatePullThroughCacheRule",
            "{\"ecrRepositoryPrefix\": \"ecr-public\", \"upstreamRegistryUrl\": \"public.ecr.aws\"}");
    call_ok(m, "CreatePullThroughCacheRule",
            "{\"ecrRepositoryPrefix\": \"hub/\", \"upstreamRegistryUrl\": \"registry-1.docker.io\", "
            "\"credentialArn\": \"arn:aws:secretsmanager:us-east-1:123456789012:secret:ecr-pullthroughcache/hub-a\"}");
    call_ok(m, "CreatePullThroughCacheRule",
            "{\"ecrRepositoryPrefix\": \"other\", \"upstreamRegistryUrl\": "
            "\"210987654321.dkr.ecr.eu-west-1.amazonaws.com\", \"upstreamRepositoryPrefix\": \"base\", "
            "\"customRoleArn\": \"arn:aws:iam::123456789012:role/pull\"}");
    ecrmock_clock_advance(m, 60000, NULL);
    call_ok(m, "UpdatePullThroughCacheRule",
            "{\"ecrRepositoryPrefix\": \"hub\", \"credentialArn\": "
            "\"arn:aws:secretsmanager:us-east-1:123456789012:secret:ecr-pullthroughcache/hub-b\"}");

    json_t *snap = ecrmock_snapshot(m, NULL);
    assert_int_equal(json_array_size(first_registry_member(snap, "pullThroughCacheRules")), 3);
    json_decref(snap);
    ecrmock *b = reload(m);
    assert_same_answer(m, b, "DescribePullThroughCacheRules", "{}");
    assert_listed(b, "DescribePullThroughCacheRules", "{}", "pullThroughCacheRules", "ecrRepositoryPrefix",
                  "ecr-public,hub,other");
    assert_ok(call(b, &r, "DescribePullThroughCacheRules", "{\"ecrRepositoryPrefixes\": [\"hub\"]}"), r);
    json_t *hub = json_array_get(json_object_get(r, "pullThroughCacheRules"), 0);
    assert_true(json_real_value(json_object_get(hub, "createdAt")) == 1704067200.0);
    assert_true(json_real_value(json_object_get(hub, "updatedAt")) == 1704067260.0);
    assert_string_equal(json_string_value(json_object_get(hub, "credentialArn")),
                        "arn:aws:secretsmanager:us-east-1:123456789012:secret:ecr-pullthroughcache/hub-b");
    json_decref(r);
    /* The loaded rules are live: a duplicate is refused. */
    assert_error(call(b, &r, "CreatePullThroughCacheRule",
                      "{\"ecrRepositoryPrefix\": \"other/\", \"upstreamRegistryUrl\": \"quay.io\"}"),
                 r, 400, "PullThroughCacheRuleAlreadyExistsException");
    ecrmock_free(b);
}

static void test_snapshot_creation_templates(void **state)
{
    ecrmock *m = *state;
    json_t *r = NULL;
    call_ok(m, "CreateRepositoryCreationTemplate",
            "{\"prefix\": \"prod\", \"description\": \"production\", \"appliedFor\": [\"REPLICATION\", "
            "\"PULL_THROUGH_CACHE\"], \"imageTagMutability\": \"IMMUTABLE_WITH_EXCLUSION\", "
            "\"imageTagMutabilityExclusionFilters\": [{\"filterType\": \"WILDCARD\", \"filter\": \"latest\"}], "
            "\"encryptionConfiguration\": {\"encryptionType\": \"KMS\", \"kmsKey\": \"arn:aws:kms:us-east-1:123456789012:key/k\"}, "
            "\"resourceTags\": [{\"Key\": \"team\", \"Value\": \"ops\"}], "
            "\"repositoryPolicy\": \"{\\\"Version\\\":\\\"2012-10-17\\\",\\\"Statement\\\":[{\\\"Effect\\\":\\\"Allow\\\","
            "\\\"Principal\\\":\\\"*\\\",\\\"Action\\\":\\\"ecr:BatchGetImage\\\"}]}\", "
            "\"customRoleArn\": \"arn:aws:iam::123456789012:role/templates\"}");
    call_ok(m, "CreateRepositoryCreationTemplate", "{\"prefix\": \"ROOT\", \"appliedFor\": [\"CREATE_ON_PUSH\"]}");
    ecrmock_clock_advance(m, 5000, NULL);
    call_ok(m, "UpdateRepositoryCreationTemplate", "{\"prefix\": \"ROOT\", \"description\": \"default\"}");

    ecrmock *b = reload(m);
    assert_same_answer(m, b, "DescribeRepositoryCreationTemplates", "{}");
    assert_listed(b, "DescribeRepositoryCreationTemplates", "{}", "repositoryCreationTemplates", "prefix", "prod,ROOT");
    assert_ok(call(b, &r, "DescribeRepositoryCreationTemplates", "{\"prefixes\": [\"ROOT\"]}"), r);
    json_t *root = json_array_get(json_object_get(r, "repositoryCreationTemplates"), 0);
    assert_string_equal(json_string_value(json_object_get(root, "description")), "default");
    assert_true(json_real_value(json_object_get(root, "createdAt")) == 1704067200.0);
    assert_true(json_real_value(json_object_get(root, "updatedAt")) == 1704067205.0);
    json_decref(r);
    /* The loaded template applies. */
    json_t *repo = NULL;
    assert_int_equal(ecrmock_create_repository_for(b, NULL, "prod/api", "REPLICATION", &repo, NULL), ECRMOCK_ERR_OK);
    assert_string_equal(json_string_value(json_object_get(repo, "imageTagMutability")), "IMMUTABLE_WITH_EXCLUSION");
    json_decref(repo);
    ecrmock_free(b);
}

static void test_snapshot_account_signing_exclusions(void **state)
{
    ecrmock *m = *state;
    json_t *r = NULL;
    call_ok(m, "PutAccountSetting", "{\"name\": \"BLOB_MOUNTING\", \"value\": \"ENABLED\"}");
    call_ok(m, "RegisterPullTimeUpdateExclusion", "{\"principalArn\": \"arn:aws:iam::123456789012:role/ci\"}");
    call_ok(m, "RegisterPullTimeUpdateExclusion",
            "{\"principalArn\": \"arn:aws:iam::123456789012:user/scanner\"}");
    /* web/a is signed with two profiles at push; the configuration then
     * changes to one that does not match web/b, pushed after it. */
    call_ok(m, "PutSigningConfiguration",
            "{\"signingConfiguration\": {\"rules\": [{\"signingProfileArn\": "
            "\"arn:aws:signer:us-east-1:123456789012:/signing-profiles/first\"}, {\"signingProfileArn\": "
            "\"arn:aws:signer:us-east-1:123456789012:/signing-profiles/second\", \"repositoryFilters\": "
            "[{\"filter\": \"web/*\", \"filterType\": \"WILDCARD_MATCH\"}]}]}}");
    create_repo(m, "web/a");
    create_repo(m, "web/b");
    char *ma = make_manifest(m, "web/a", 1, 1), *mb = make_manifest(m, "web/b", 1, 2);
    char *da = put_image(m, "web/a", ma, "v1");
    call_ok(m, "PutSigningConfiguration",
            "{\"signingConfiguration\": {\"rules\": [{\"signingProfileArn\": "
            "\"arn:aws:signer:us-east-1:123456789012:/signing-profiles/third\", \"repositoryFilters\": "
            "[{\"filter\": \"api*\", \"filterType\": \"WILDCARD_MATCH\"}]}]}}");
    char *db = put_image(m, "web/b", mb, "v1");

    json_t *snap = ecrmock_snapshot(m, NULL);
    json_t *settings = first_registry_member(snap, "accountSettings");
    assert_string_equal(json_string_value(json_object_get(settings, "BLOB_MOUNTING")), "ENABLED");
    assert_int_equal(json_array_size(first_registry_member(snap, "pullTimeUpdateExclusions")), 2);
    json_decref(snap);
    ecrmock *b = reload(m);
    assert_same_answer(m, b, "GetAccountSetting", "{\"name\": \"BLOB_MOUNTING\"}");
    assert_same_answer(m, b, "GetAccountSetting", "{\"name\": \"REGISTRY_POLICY_SCOPE\"}");
    assert_same_answer(m, b, "GetSigningConfiguration", "{}");
    assert_same_answer(m, b, "ListPullTimeUpdateExclusions", "{}");
    char req[512];
    snprintf(req, sizeof req, "{\"repositoryName\": \"web/a\", \"imageId\": {\"imageDigest\": \"%s\"}}", da);
    assert_same_answer(m, b, "DescribeImageSigningStatus", req);
    assert_ok(call(b, &r, "DescribeImageSigningStatus", "%s", req), r);
    assert_int_equal(json_array_size(json_object_get(r, "signingStatuses")), 2);
    json_decref(r);
    snprintf(req, sizeof req, "{\"repositoryName\": \"web/b\", \"imageId\": {\"imageDigest\": \"%s\"}}", db);
    assert_same_answer(m, b, "DescribeImageSigningStatus", req);
    assert_ok(call(b, &r, "ListPullTimeUpdateExclusions", "{}"), r);
    assert_string_equal(json_string_value(json_array_get(json_object_get(r, "pullTimeUpdateExclusions"), 1)),
                        "arn:aws:iam::123456789012:user/scanner");
    json_decref(r);
    free(ma);
    free(mb);
    free(da);
    free(db);
    ecrmock_free(b);
}

static void storage_call(ecrmock *m, const char *repo, const char *digest, const char *target)
{
    call_ok(m, "UpdateImageStorageClass",
            "{\"repositoryName\": \"%s\", \"imageId\": {\"imageDigest\": \"%s\"}, \"targetStorageClass\": \"%s\"}",
            repo, digest, target);
}

static void test_snapshot_storage_class(void **state)
{
    ecrmock *m = *state;
    load_ok(m, "fixtures/multi-arch.json");
    create_repo(m, "web");
    char *mf[4], *d[4];
    for (int i = 0; i < 4; i++) {
        char tag[16];
        snprintf(tag, sizeof tag, "v%d", i);
        mf[i] = make_manifest(m, "web", 1, 10 + i);
        d[i] = put_image(m, "web", mf[i], tag);
    }
    /* v0 archived; v1 archived and restored; v2 archived, restored, archived
     * again; v3 archived and pushed again; v4... the OCI index of tools/cli
     * archived with its images. */
    storage_call(m, "web", d[0], "ARCHIVE");
    storage_call(m, "web", d[1], "ARCHIVE");
    storage_call(m, "web", d[2], "ARCHIVE");
    storage_call(m, "web", d[3], "ARCHIVE");
    json_t *r = NULL;
    call_ok(m, "UpdateImageStorageClass",
            "{\"repositoryName\": \"tools/cli\", \"imageId\": {\"imageTag\": \"2.0\"}, \"targetStorageClass\": "
            "\"ARCHIVE\"}");
    ecrmock_clock_advance(m, 1000, NULL);
    storage_call(m, "web", d[1], "STANDARD");
    storage_call(m, "web", d[2], "STANDARD");
    ecrmock_clock_advance(m, 60000, NULL);
    json_t *req = json_pack("{s:s, s:s}", "repositoryName", "web", "imageManifest", mf[3]);
    assert_ok(ecrmock_call(m, "PutImage", req, &r), r); /* the re-push restores v3 at once */
    json_decref(req);
    json_decref(r);
    ecrmock_clock_advance(m, 20 * 60 * 1000, NULL);
    storage_call(m, "web", d[2], "ARCHIVE");
    storage_call(m, "web", d[1], "ARCHIVE");
    ecrmock_clock_advance(m, 1000, NULL);
    storage_call(m, "web", d[1], "STANDARD"); /* v1 is ACTIVATING now */

    json_t *snap = ecrmock_snapshot(m, NULL);
    json_t *img = json_array_get(json_object_get(json_array_get(first_registry_member(snap, "repositories"), 1), "images"), 1);
    assert_string_equal(json_string_value(json_object_get(img, "imageStatus")), "ACTIVATING");
    json_decref(snap);
    ecrmock *b = reload(m);
    const char *any = "{\"repositoryName\": \"web\", \"filter\": {\"imageStatus\": \"ANY\"}}";
    const char *cli = "{\"repositoryName\": \"tools/cli\", \"filter\": {\"imageStatus\": \"ANY\"}}";
    assert_same_answer(m, b, "DescribeImages", any);
    assert_same_answer(m, b, "DescribeImages", cli);
    assert_listed(b, "DescribeImages", any, "imageDetails", "imageStatus", "ARCHIVED,ACTIVATING,ARCHIVED,ACTIVE");
    assert_ok(call(b, &r, "DescribeImages", "{\"repositoryName\": \"tools/cli\", \"filter\": {\"imageStatus\": \"ARCHIVED\"}}"), r);
    assert_int_equal(json_array_size(json_object_get(r, "imageDetails")), 3); /* the index and its two images */
    json_decref(r);
    /* Restores complete on the clock, the same in both. */
    ecrmock_clock_advance(m, 20 * 60 * 1000, NULL);
    ecrmock_clock_advance(b, 20 * 60 * 1000, NULL);
    assert_same_answer(m, b, "DescribeImages", any);
    assert_listed(b, "DescribeImages", any, "imageDetails", "imageStatus", "ARCHIVED,ACTIVE,ARCHIVED,ACTIVE");
    for (int i = 0; i < 4; i++) {
        free(mf[i]);
        free(d[i]);
    }
    ecrmock_free(b);
}

/* Refuses `text` with the message `want`, and leaves the state as it was. */
static void assert_refused_unchanged(ecrmock *m, const char *text, const char *want)
{
    json_t *before = ecrmock_snapshot(m, NULL);
    assert_refused(m, text, want);
    assert_state_is(m, before, "the refused fixture");
    json_decref(before);
}

/* The schema's checks (generated: fixture_schema_gen.c) on the strings a C
 * check misreads: a NUL inside, a final newline ("$" is the very end, as
 * ECMA-262 has it), characters of more than one byte (lengths count
 * characters); and a refusal inside a oneOf's alternatives stays quiet. */
static void test_fixture_schema_strings(void **state)
{
    ecrmock *m = *state;
    /* NULs inside: a json_t (the text loaders refuse them). */
    static const struct {
        const char *text, *path, *why;
    } nul[] = {
        {"{\"registries\": [{\"id\": \"123456789012\\u0000\"}]}", "x.json: $.registries[0].id", "must not contain NUL (\\u0000)"},
        {"{\"registries\": [{\"repositories\": [{\"name\": \"web\", \"imageTagMutability\": \"MUTABLE\\u0000\"}]}]}",
         "x.json: $.registries[0].repositories[0].imageTagMutability", "must not contain NUL (\\u0000)"},
        /* cut at the NUL, each of these was a valid value: refused before anything else */
        {"{\"registries\": [{\"repositories\": [{\"name\": \"app\", \"images\": [{\"tags\": [\"v1\\u0000x\"], "
         "\"layers\": [{\"text\": \"a\"}]}]}]}]}",
         "x.json: $.registries[0].repositories[0].images[0].tags[0]", "must not contain NUL (\\u0000)"},
        {"{\"regions\": [{\"name\": \"eu-west-1\\u0000x\", \"registries\": []}]}", "x.json: $.regions[0].name",
         "must not contain NUL (\\u0000)"},
        {"{\"clock\": \"2024-01-01T00:00:00Z\\u0000junk\"}", "x.json: $.clock", "must not contain NUL (\\u0000)"},
        {"{\"registries\": [{\"repositories\": [{\"name\": \"app\", \"images\": [{\"tags\": [\"v1\"], "
         "\"layers\": [{\"text\": \"a\\u0000b\"}]}]}]}]}",
         "x.json: $.registries[0].repositories[0].images[0].layers[0].text", "must not contain NUL (\\u0000)"},
    };
    for (size_t i = 0; i < sizeof nul / sizeof nul[0]; i++) {
        json_t *doc = json_loads(nul[i].text, JSON_ALLOW_NUL, NULL);
        assert_non_null(doc);
        ecrmock_err err;
        assert_int_equal(ecrmock_fixture_load(m, doc, "x.json", &err), -1);
        assert_string_equal(err.path, nul[i].path);
        assert_string_equal(err.text, nul[i].why);
        json_decref(doc);
    }
    assert_refused_unchanged(m, "{\"registries\": [{\"id\": \"123456789012\\n\"}]}",
                             "x.json: $.registries[0].id: must match ^[0-9]{12}$");
    assert_refused_unchanged(m, "{\"registries\": [{\"repositories\": [{\"name\": \"\\u00e9\"}]}]}",
                             "x.json: $.registries[0].repositories[0].name: must be at least 2 characters long");
    /* 300 characters of two bytes each: the schema's maxLength holds; ECR's tag rules decide. */
    char text[2048] = "{\"registries\": [{\"repositories\": [{\"name\": \"web\", \"images\": [{\"layers\": [], \"tags\": [\"";
    for (int i = 0; i < 301; i++)
        strcat(text, "\xc3\xa9");
    strcat(text, "\"]}]}]}]}");
    assert_refused_unchanged(m, text,
                             "x.json: $.registries[0].repositories[0].images[0].tags[0]: must be at most 300 characters long");
    /* A time inside oneOf: the string alternative fails quietly, the number passes. */
    load_ok_text(m, "{\"clock\": 253402300799.999}");
    assert_refused_unchanged(m, "{\"clock\": \"253402300799\"}", "x.json: $.clock: " TIME_RULE);
}

static void test_fixture_refuses_bad_settings(void **state)
{
    ecrmock *m = *state;
    /* Some state of each kind, which every refusal below must leave. */
    ecrmock_err err;
    if (ecrmock_fixture_load_string(
            m,
            "{\"registries\": [{\"accountSettings\": {\"BLOB_MOUNTING\": \"ENABLED\"},"
            " \"pullTimeUpdateExclusions\": [\"arn:aws:iam::123456789012:role/ci\"],"
            " \"pullThroughCacheRules\": [{\"ecrRepositoryPrefix\": \"qq\", \"upstreamRegistryUrl\": \"quay.io\"}],"
            " \"repositoryCreationTemplates\": [{\"prefix\": \"ROOT\", \"appliedFor\": [\"CREATE_ON_PUSH\"]}],"
            " \"repositories\": [{\"name\": \"web\", \"images\": [{\"tags\": [\"v1\"], \"layers\": [{\"text\": \"a\"}],"
            "   \"imageStatus\": \"ARCHIVED\", \"lastArchivedAt\": 1704067100}]}]}]}",
            "base.json", &err) != 0)
        fail_msg("refused: %s: %s", err.path, err.text);
    assert_listed(m, "DescribeImages", "{\"repositoryName\": \"web\", \"filter\": {\"imageStatus\": \"ANY\"}}",
                  "imageDetails", "imageStatus", "ARCHIVED");

    assert_refused_unchanged(m,
                             "{\"registries\": [{\"pullThroughCacheRules\": [{\"ecrRepositoryPrefix\": \"hub\", "
                             "\"upstreamRegistryUrl\": \"example.com\"}]}]}",
                             "x.json: $.registries[0].pullThroughCacheRules[0].upstreamRegistryUrl: "
                             "UnsupportedUpstreamRegistryException: "
                             "The upstream registry URL example.com is invalid. Specify a valid upstream registry URL and "
                             "try again");
    assert_refused_unchanged(m,
                             "{\"registries\": [{\"pullThroughCacheRules\": [{\"ecrRepositoryPrefix\": \"qq\", "
                             "\"upstreamRegistryUrl\": \"quay.io\", \"createdAt\": 100, \"updatedAt\": 200}]}]}",
                             "x.json: $.registries[0].pullThroughCacheRules[0].updatedAt: InvalidParameterException: "
                             "Invalid parameter at 'credentialArn' failed to satisfy constraint: 'Either credentialArn or "
                             "customRoleArn must be specified'");
    assert_refused_unchanged(m,
                             "{\"registries\": [{\"pullThroughCacheRules\": [{\"ecrRepositoryPrefix\": \"qq\", "
                             "\"upstreamRegistryUrl\": \"quay.io\", \"createdAt\": 200, \"updatedAt\": 100}]}]}",
                             "x.json: $.registries[0].pullThroughCacheRules[0].updatedAt: must not be before createdAt");
    assert_refused_unchanged(m, "{\"registries\": [{\"pullThroughCacheRules\": [{\"prefix\": \"qq\"}]}]}",
                             "x.json: $.registries[0].pullThroughCacheRules[0].prefix: unknown member");
    assert_refused_unchanged(m,
                             "{\"registries\": [{\"repositoryCreationTemplates\": [{\"prefix\": \"prod\", "
                             "\"appliedFor\": [\"CREATE_ON_PUSH\"]}, {\"prefix\": \"prod/\", \"appliedFor\": [\"REPLICATION\"]}]}]}",
                             "x.json: $.registries[0].repositoryCreationTemplates[1]: TemplateAlreadyExistsException: The "
                             "repository creation template with the prefix 'prod/' already exists in the registry with id "
                             "'123456789012'");
    assert_refused_unchanged(m,
                             "{\"registries\": [{\"repositoryCreationTemplates\": [{\"prefix\": \"app\", "
                             "\"appliedFor\": [\"REPLICATION\"], \"lifecyclePolicy\": {\"rules\": []}}]}]}",
                             "x.json: $.registries[0].repositoryCreationTemplates[0].lifecyclePolicy: "
                             "InvalidParameterException: Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: 'Lifecycle policy "
                             "validation failure: array is too short: must have at least 1 elements but instance has 0 "
                             "elements'");
    assert_refused_unchanged(m, "{\"registries\": [{\"accountSettings\": {\"BLOB_MOUNTING\": \"SOMETIMES\"}}]}",
                             "x.json: $.registries[0].accountSettings.BLOB_MOUNTING: InvalidParameterException: Invalid "
                             "parameter at 'value' failed to satisfy constraint: 'Account setting value for BLOB_MOUNTING "
                             "must be one of [ENABLED, DISABLED]'");
    assert_refused_unchanged(m, "{\"registries\": [{\"accountSettings\": {\"BLOB_MOUNTING\": true}}]}",
                             "x.json: $.registries[0].accountSettings.BLOB_MOUNTING: must be a string");
    assert_refused_unchanged(m, "{\"registries\": [{\"pullTimeUpdateExclusions\": [\"ci\"]}]}",
                             "x.json: $.registries[0].pullTimeUpdateExclusions[0]: InvalidParameterException: Invalid "
                             "parameter at 'principalArn' failed to satisfy constraint: 'must satisfy regular expression "
                             "'^arn:aws(-[a-z]+)*:iam::[0-9]{12}:(role|user)/[\\w+=,.@-]+(/[\\w+=,.@-]+)*$''");
    assert_refused_unchanged(m, "{\"registries\": [{\"signingConfiguration\": []}]}",
                             "x.json: $.registries[0].signingConfiguration: must be an object");
    assert_refused_unchanged(m,
                             "{\"registries\": [{\"repositories\": [{\"name\": \"web\", \"images\": [{\"layers\": [], "
                             "\"signingProfileArns\": [\"arn:aws:signer:us-east-1:123456789012:/signing-profiles/x\"]}]}]}]}",
                             "x.json: $.registries[0].repositories[0].images[0].signingProfileArns: "
                             "InvalidParameterException: Invalid parameter at "
                             "'signingConfiguration.rules.1.member.signingProfileArn' failed to satisfy constraint: "
                             "'must satisfy regular expression "
                             "'^arn:aws(-[a-z]+)*:signer:[a-z0-9-]+:[0-9]{12}:\\/signing-profiles\\/[a-zA-Z0-9_]{2,}$''");
    assert_refused_unchanged(m,
                             "{\"registries\": [{\"repositories\": [{\"name\": \"web\", \"images\": [{\"layers\": [], "
                             "\"imageStatus\": \"FROZEN\"}]}]}]}",
                             "x.json: $.registries[0].repositories[0].images[0].imageStatus: must be one of \"ACTIVE\", "
                             "\"ARCHIVED\" or \"ACTIVATING\"");
    assert_refused_unchanged(m,
                             "{\"registries\": [{\"repositories\": [{\"name\": \"web\", \"images\": [{\"layers\": [], "
                             "\"imageStatus\": \"ACTIVE\", \"lastArchivedAt\": 1000}]}]}]}",
                             "x.json: $.registries[0].repositories[0].images[0]: imageStatus ACTIVE, lastArchivedAt and "
                             "lastActivatedAt: no UpdateImageStorageClass calls reach this state (they give ARCHIVED)");
    assert_refused_unchanged(m,
                             "{\"registries\": [{\"repositories\": [{\"name\": \"web\", \"images\": [{\"manifests\": "
                             "[{\"layers\": [], \"imageStatus\": \"ARCHIVED\"}]}]}]}]}",
                             "x.json: $.registries[0].repositories[0].images[0].manifests[0]: the images of a multi-arch "
                             "image move with it: give the list its storage state");
}

/* ---- numbers at their edges (issue 13, item 6) ------------------------------------------ */

/* Times far out (1e300 seconds made 1e303 milliseconds, cast to int64: undefined
 * behaviour), at int64's edges, before 1970, or with fields out of range are
 * refused with their path; the last millisecond of 9999 loads. */
static void test_fixture_time_edges(void **state)
{
    ecrmock *m = *state;
    static const char *const bad[] = {"1e300", "-1e300", "9223372036854775807", "-9223372036854775808",
                                      "9223372036854775.807", "253402300800", "-1", "-0.001",
                                      "\"2024-13-01T00:00:00Z\"", "\"2023-02-29T00:00:00Z\"", "\"2024-04-31T00:00:00Z\"",
                                      "\"2024-01-01T24:00:00Z\"", "\"2024-01-01T00:60:00Z\"", "\"2024-01-01T00:00:60Z\"",
                                      "\"1969-12-31T23:59:59Z\"", "\"+024-01-01T00:00:00Z\"", "\"2024-01-01T00:00:00.Z\"",
                                      "\"2024-1-01T00:00:00Z\"", "\"2024-01-01T00:00:00\"", "\"2024-01-01T00:00:00Zx\"",
                                      "null", "[]"};
    json_t *before = ecrmock_snapshot(m, NULL);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[256];
        snprintf(text, sizeof text, "{\"clock\": %s}", bad[i]);
        assert_refused(m, text, "x.json: $.clock: " TIME_RULE);
        snprintf(text, sizeof text,
                 "{\"registries\": [{\"repositories\": [{\"name\": \"web\", \"images\": [{\"layers\": [], "
                 "\"lastRecordedPullTime\": %s}]}]}]}",
                 bad[i]);
        assert_refused(m, text, "x.json: $.registries[0].repositories[0].images[0].lastRecordedPullTime: " TIME_RULE);
        snprintf(text, sizeof text,
                 "{\"registries\": [{\"pullThroughCacheRules\": [{\"ecrRepositoryPrefix\": \"qq\", "
                 "\"upstreamRegistryUrl\": \"public.ecr.aws\", \"updatedAt\": %s}]}]}",
                 bad[i]);
        assert_refused(m, text, "x.json: $.registries[0].pullThroughCacheRules[0].updatedAt: " TIME_RULE);
    }
    assert_state_is(m, before, "the refused fixtures");
    json_decref(before);

    static const struct {
        const char *time;
        int64_t ms;
    } good[] = {{"0", 0},
                {"253402300799.999", INT64_C(253402300799999)},
                {"253402300799.9999", INT64_C(253402300799999)},
                {"1e-300", 0},
                {"1.7e9", INT64_C(1700000000000)},
                {"\"9999-12-31T23:59:59.999Z\"", INT64_C(253402300799999)},
                {"\"2024-02-29T12:00:00.5Z\"", INT64_C(1709208000500)},
                {"\"2000-03-01T00:00:00.123456Z\"", INT64_C(951868800123)},
                {"\"1970-01-01T00:00:00Z\"", 0}};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        char text[128];
        ecrmock_err err;
        snprintf(text, sizeof text, "{\"clock\": %s}", good[i].time);
        if (ecrmock_fixture_load_string(m, text, "x.json", &err) != 0)
            fail_msg("%s: %s: %s", good[i].time, err.path, err.text);
        if (ecrmock_clock_now(m) != good[i].ms)
            fail_msg("%s: clock %lld, want %lld", good[i].time, (long long)ecrmock_clock_now(m), (long long)good[i].ms);
    }
    /* The latest time every member takes: an image restored then, a rule updated then. */
    load_ok_text(m, "{\"clock\": \"9999-12-31T23:59:59.999Z\", \"registries\": [{\"repositories\": [{\"name\": \"web\", "
                    "\"createdAt\": 253402300799.999, \"images\": [{\"tags\": [\"a\"], \"layers\": [], "
                    "\"pushedAt\": 0, \"lastRecordedPullTime\": 253402300799.999, \"lastArchivedAt\": 1, "
                    "\"lastActivatedAt\": 253402300799.999}]}], \"pullThroughCacheRules\": [{\"ecrRepositoryPrefix\": "
                    "\"qq\", \"upstreamRegistryUrl\": \"public.ecr.aws\", \"createdAt\": 0, \"updatedAt\": 0}]}]}");
    ecrmock_free(reload(m));
}

/* ---- other regions (issue 13, items 1 and 3) ------------------------------------------ */

#define OTHER_ACCOUNT "210987654321"

/* `action` with `req` (JSON text) as `account` in `region` (NULL: the instance's); the answer. */
static json_t *call_as_ok(ecrmock *m, const char *account, const char *region, const char *action, const char *req)
{
    json_t *q = json_loads(req, 0, NULL), *r = NULL;
    assert_non_null(q);
    assert_ok(ecrmock_call_as(m, account, region, action, q, &r), r);
    json_decref(q);
    return r;
}

/* The names of the repositories of `account` (NULL: the instance's) in `region`, ","-joined (malloc'd). */
static char *repo_names(ecrmock *m, const char *account, const char *region)
{
    json_t *r = call_as_ok(m, account, region, "DescribeRepositories", "{}");
    char names[1024] = "";
    size_t i;
    json_t *repo;
    json_array_foreach(json_object_get(r, "repositories"), i, repo) {
        size_t n = strlen(names);
        snprintf(names + n, sizeof names - n, "%s%s", n ? "," : "", json_string_value(json_object_get(repo, "repositoryName")));
    }
    json_decref(r);
    return strdup(names);
}

static void assert_repo_names(ecrmock *m, const char *account, const char *region, const char *want)
{
    char *got = repo_names(m, account, region);
    assert_string_equal(got, want);
    free(got);
}

/* A repository with a layer made in another region through ecrmock_call_as():
 * a load replaces every region's state, and the layer's bytes, which the
 * load freed, are read by nobody (under ASan or valgrind: no use after free,
 * in the reads below and in ecrmock_free). */
static void test_fixture_load_replaces_other_regions(void **state)
{
    ecrmock *m = *state;
    json_decref(call_as_ok(m, NULL, "eu-west-1", "CreateRepository", "{\"repositoryName\": \"far\"}"));
    json_t *r = call_as_ok(m, NULL, "eu-west-1", "InitiateLayerUpload", "{\"repositoryName\": \"far\"}");
    char req[256];
    snprintf(req, sizeof req, "{\"repositoryName\": \"far\", \"uploadId\": \"%s\", \"partFirstByte\": 0, "
             "\"partLastByte\": 4, \"layerPartBlob\": \"ZmFyIGw=\"}", json_string_value(json_object_get(r, "uploadId")));
    json_decref(call_as_ok(m, NULL, "eu-west-1", "UploadLayerPart", req));
    char digest[ECRMOCK_DIGEST_SIZE];
    sha256_digest("far l", 5, digest);
    snprintf(req, sizeof req, "{\"repositoryName\": \"far\", \"uploadId\": \"%s\", \"layerDigests\": [\"%s\"]}",
             json_string_value(json_object_get(r, "uploadId")), digest);
    json_decref(r);
    json_decref(call_as_ok(m, NULL, "eu-west-1", "CompleteLayerUpload", req));

    load_ok(m, "fixtures/multi-arch.json");
    assert_repo_names(m, NULL, NULL, "tools/cli");
    assert_repo_names(m, NULL, "eu-west-1", "");
    snprintf(req, sizeof req, "{\"repositoryName\": \"far\", \"layerDigests\": [\"%s\"]}", digest);
    json_t *q = json_loads(req, 0, NULL);
    assert_error(ecrmock_call_as(m, NULL, "eu-west-1", "BatchCheckLayerAvailability", q, &r), r, 400,
                 "RepositoryNotFoundException");
    json_decref(q);
    json_decref(r);
    /* What the load left holds together: a snapshot of it reloads the same. */
    ecrmock_free(reload(m));
}

#define ALLOW_REPLICATION_FROM_HOME \
    "{\\\"Version\\\":\\\"2012-10-17\\\",\\\"Statement\\\":[{\\\"Effect\\\":\\\"Allow\\\",\\\"Principal\\\":{\\\"AWS\\\":" \
    "\\\"arn:aws:iam::123456789012:root\\\"},\\\"Action\\\":[\\\"ecr:CreateRepository\\\",\\\"ecr:ReplicateImage\\\"]," \
    "\\\"Resource\\\":\\\"*\\\"}]}"

/* Replication copies an image to another region of the instance's account and
 * to another account there: a snapshot holds those regions ("regions"), a
 * load brings them back byte for byte, and a load of another fixture
 * replaces them. */
static void test_snapshot_regions_through_replication(void **state)
{
    ecrmock *m = *state;
    char req_text[256];
    json_decref(call_as_ok(m, OTHER_ACCOUNT, "eu-west-1", "PutRegistryPolicy",
                           "{\"policyText\": \"" ALLOW_REPLICATION_FROM_HOME "\"}"));
    call_ok(m, "PutReplicationConfiguration",
            "{\"replicationConfiguration\": {\"rules\": [{\"destinations\": [{\"region\": \"eu-west-1\", "
            "\"registryId\": \"123456789012\"}, {\"region\": \"eu-west-1\", \"registryId\": \"" OTHER_ACCOUNT "\"}]}]}}");
    create_repo(m, "app");
    char *digest = push_new_image(m, "app", 2, 1, "v1");
    assert_repo_names(m, NULL, "eu-west-1", "app");
    assert_repo_names(m, OTHER_ACCOUNT, "eu-west-1", "app");

    json_t *snap = ecrmock_snapshot(m, NULL);
    json_t *regions = json_object_get(snap, "regions");
    assert_int_equal(json_array_size(regions), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(regions, 0), "name")), "eu-west-1");
    json_t *regs = json_object_get(json_array_get(regions, 0), "registries");
    assert_int_equal(json_array_size(regs), 2);
    json_t *copy = json_array_get(json_object_get(json_array_get(json_object_get(json_array_get(regs, 0), "repositories"), 0),
                                  "images"), 0);
    assert_string_equal(json_string_value(json_object_get(copy, "digest")), digest);
    json_decref(snap);

    ecrmock *b = reload(m);
    assert_repo_names(b, NULL, "eu-west-1", "app");
    assert_repo_names(b, OTHER_ACCOUNT, "eu-west-1", "app");
    json_t *r = call_as_ok(b, OTHER_ACCOUNT, "eu-west-1", "BatchGetImage",
                           "{\"repositoryName\": \"app\", \"imageIds\": [{\"imageTag\": \"v1\"}]}");
    assert_string_equal(json_string_value(json_object_get(json_object_get(json_array_get(json_object_get(r, "images"), 0),
                                                                          "imageId"), "imageDigest")), digest);
    json_decref(r);
    /* And what replication recorded on the source image. */
    r = NULL;
    snprintf(req_text, sizeof req_text, "{\"repositoryName\": \"app\", \"imageId\": {\"imageDigest\": \"%s\"}}", digest);
    json_t *statuses[2] = {NULL, NULL};
    ecrmock *both[2] = {m, b};
    for (int k = 0; k < 2; k++) {
        json_t *q = json_loads(req_text, 0, NULL);
        assert_ok(ecrmock_call(both[k], "DescribeImageReplicationStatus", q, &statuses[k]), statuses[k]);
        json_decref(q);
    }
    assert_int_equal(json_array_size(json_object_get(statuses[1], "replicationStatuses")), 2);
    assert_true(json_equal(statuses[0], statuses[1]));
    json_decref(statuses[0]);
    json_decref(statuses[1]);
    /* The rule came back too: the next push replicates. */
    free(push_new_image(b, "app", 1, 2, "v2"));
    r = call_as_ok(b, NULL, "eu-west-1", "DescribeImages", "{\"repositoryName\": \"app\", \"imageIds\": [{\"imageTag\": \"v2\"}]}");
    json_decref(r);
    ecrmock_free(b);

    /* A load replaces them: the copies, their layers and the other account's registry there. */
    load_ok(m, "fixtures/immutable-tags.json");
    assert_repo_names(m, NULL, "eu-west-1", "");
    assert_repo_names(m, OTHER_ACCOUNT, "eu-west-1", "");
    assert_null(json_object_get(snap = ecrmock_snapshot(m, NULL), "regions"));
    json_decref(snap);
    free(digest);
}

/* A fixture's regions: each region's registries load there; the instance's
 * own region, a name ecrmock_call_as() refuses, a region given twice and a
 * scanning configuration (the instance's own registry's) are refused. */
static void test_fixture_regions(void **state)
{
    ecrmock *m = *state;
    load_ok(m, "fixtures/team-registry.json");
    ecrmock_err err;
    if (ecrmock_fixture_load_string(m,
                                    "{\"registries\": [{\"repositories\": [{\"name\": \"home\"}]}], \"regions\": ["
                                    "{\"name\": \"eu-west-1\", \"registries\": [{\"repositories\": [{\"name\": \"far\", "
                                    "\"images\": [{\"tags\": [\"v1\"], \"layers\": [{\"size\": 10, \"seed\": 3}]}]}]},"
                                    " {\"id\": \"" OTHER_ACCOUNT "\", \"repositories\": [{\"name\": \"theirs\"}]}]},"
                                    "{\"name\": \"ap-south-1\"}]}",
                                    "x.json", &err) != 0)
        fail_msg("%s: %s", err.path, err.text);
    assert_repo_names(m, NULL, NULL, "home");
    assert_repo_names(m, NULL, "eu-west-1", "far");
    assert_repo_names(m, OTHER_ACCOUNT, "eu-west-1", "theirs");
    assert_repo_names(m, NULL, "ap-south-1", "");
    ecrmock_free(reload(m));

    json_t *before = ecrmock_snapshot(m, NULL);
    assert_refused(m, "{\"regions\": [{\"name\": \"us-east-1\"}]}",
                   "x.json: $.regions[0].name: is the instance's own region: give its registries in $.registries");
    assert_refused(m, "{\"regions\": [{\"name\": \"eu-west-1\"}, {\"name\": \"eu-west-1\"}]}",
                   "x.json: $.regions[1].name: eu-west-1 is given twice");
    assert_refused(m, "{\"regions\": [{\"name\": \"EU\"}]}", "x.json: $.regions[0].name: must match ^[a-z0-9-]{1,63}$");
    assert_refused(m, "{\"regions\": [{\"registries\": []}]}", "x.json: $.regions[0].name: is required");
    assert_refused(m, "{\"regions\": [{\"name\": \"eu-west-1\", \"repositories\": []}]}",
                   "x.json: $.regions[0].repositories: unknown member");
    assert_refused(m, "{\"regions\": {}}", "x.json: $.regions: must be a list");
    assert_refused(m, "{\"regions\": [{\"name\": \"eu-west-1\", \"registries\": [{\"scanningConfiguration\": {}}]}]}",
                   "x.json: $.regions[0].registries[0].scanningConfiguration: the scanning configuration is the "
                   "instance's own: give it in $.registries");
    assert_refused(m, "{\"regions\": [{\"name\": \"eu-west-1\", \"registries\": [{\"repositories\": [{\"name\": \"Bad\"}]}]}]}",
                   "x.json: $.regions[0].registries[0].repositories[0].name: InvalidParameterException: Invalid "
                   "parameter at 'repositoryName' failed to satisfy constraint: 'must satisfy regular expression "
                   "'[a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*(\\/[a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*)*''");
    static const struct {
        const char *status, *want;
    } bad_statuses[] = {
        {"7", "$.registries[0].repositories[0].images[0].replicationStatuses: must be a list"},
        {"[7]", "$.registries[0].repositories[0].images[0].replicationStatuses[0]: must be an object"},
        {"[{\"region\": \"EU\"}]",
         "$.registries[0].repositories[0].images[0].replicationStatuses[0].region: must match ^[a-z0-9-]{1,63}$"},
        {"[{\"region\": \"eu-west-1\", \"registryId\": \"1\"}]",
         "$.registries[0].repositories[0].images[0].replicationStatuses[0].registryId: must match ^[0-9]{12}$"},
        {"[{\"region\": \"eu-west-1\", \"registryId\": \"123456789012\", \"status\": \"DONE\"}]",
         "$.registries[0].repositories[0].images[0].replicationStatuses[0].status: must be one of \"COMPLETE\", \"FAILED\" or "
         "\"IN_PROGRESS\""},
        {"[{\"region\": \"eu-west-1\", \"registryId\": \"123456789012\", \"status\": \"FAILED\", \"failureCode\": 1}]",
         "$.registries[0].repositories[0].images[0].replicationStatuses[0].failureCode: must be a string"},
        {"[{\"region\": \"eu-west-1\", \"registryId\": \"123456789012\", \"status\": \"FAILED\", \"why\": \"x\"}]",
         "$.registries[0].repositories[0].images[0].replicationStatuses[0].why: unknown member"},
    };
    for (size_t i = 0; i < sizeof bad_statuses / sizeof bad_statuses[0]; i++) {
        char text[512], want[512];
        snprintf(text, sizeof text,
                 "{\"registries\": [{\"repositories\": [{\"name\": \"web\", \"images\": [{\"layers\": [], "
                 "\"replicationStatuses\": %s}]}]}]}",
                 bad_statuses[i].status);
        snprintf(want, sizeof want, "x.json: %s", bad_statuses[i].want);
        assert_refused(m, text, want);
    }
    assert_state_is(m, before, "the refused fixtures");
    json_decref(before);

    /* A status as given, failure code and all, in DescribeImageReplicationStatus's member order. */
    load_ok_text(m, "{\"registries\": [{\"repositories\": [{\"name\": \"web\", \"images\": [{\"tags\": [\"a\"], "
                    "\"layers\": [], \"replicationStatuses\": [{\"status\": \"FAILED\", \"failureCode\": "
                    "\"AccessDeniedException\", \"registryId\": \"210987654321\", \"region\": \"eu-west-1\"}]}]}]}]}");
    json_t *r = NULL;
    assert_ok(call(m, &r, "DescribeImageReplicationStatus", "{\"repositoryName\": \"web\", \"imageId\": {\"imageTag\": \"a\"}}"), r);
    char *got = json_dumps(json_object_get(r, "replicationStatuses"), JSON_COMPACT);
    assert_string_equal(got, "[{\"region\":\"eu-west-1\",\"registryId\":\"210987654321\",\"status\":\"FAILED\","
                             "\"failureCode\":\"AccessDeniedException\"}]");
    free(got);
    json_decref(r);
    ecrmock_free(reload(m));
}

/* A hook inside ecrmock_call_as() loads a fixture: it is built for the
 * instance's own account and region, and lands there, not in the view the
 * hook runs in; the fixture's other regions land in theirs. */
typedef struct hook_load {
    ecrmock *m;
    const char *fixture;
    char *snapshot; /* nested_hook: the snapshot taken right after the load (malloc'd) */
} hook_load;

static void load_in_hook(void *user, const char *action, json_t *request, ecrmock_injection *inject)
{
    (void)request;
    (void)inject;
    hook_load *h = user;
    if (strcmp(action, "DescribeRepositories") != 0)
        return;
    ecrmock_err err;
    if (ecrmock_fixture_load_string(h->m, h->fixture, "hook.json", &err) != 0)
        fail_msg("%s: %s", err.path, err.text);
}

static void test_fixture_load_inside_call_as(void **state)
{
    ecrmock *m = *state;
    /* As another account of the instance's region. */
    hook_load h = {m, "{\"registries\": [{\"repositories\": [{\"name\": \"mine\"}]}]}"};
    ecrmock_hooks_set(m, load_in_hook, NULL, &h);
    json_decref(call_as_ok(m, OTHER_ACCOUNT, NULL, "DescribeRepositories", "{}"));
    ecrmock_hooks_set(m, NULL, NULL, NULL);
    assert_repo_names(m, NULL, NULL, "mine");
    assert_repo_names(m, OTHER_ACCOUNT, NULL, "");

    /* In another region: the action runs after the hook, in the view it was called in. */
    h.fixture = "{\"registries\": [{\"repositories\": [{\"name\": \"mine\"}]}], \"regions\": ["
                "{\"name\": \"eu-west-1\", \"registries\": [{\"repositories\": [{\"name\": \"there\"}]}]}]}";
    ecrmock_hooks_set(m, load_in_hook, NULL, &h);
    json_t *r = call_as_ok(m, NULL, "eu-west-1", "DescribeRepositories", "{}");
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(r, "repositories"), 0),
                                                          "repositoryName")), "there");
    json_decref(r);
    json_decref(call_as_ok(m, OTHER_ACCOUNT, "ap-south-1", "DescribeRepositories", "{}"));
    ecrmock_hooks_set(m, NULL, NULL, NULL);
    assert_repo_names(m, NULL, NULL, "mine");
    assert_repo_names(m, NULL, "eu-west-1", "there");
    assert_repo_names(m, OTHER_ACCOUNT, "ap-south-1", "");
    assert_repo_names(m, OTHER_ACCOUNT, NULL, "");
    json_t *snap = ecrmock_snapshot(m, NULL);
    json_t *reg = json_array_get(json_object_get(snap, "registries"), 0);
    assert_string_equal(json_string_value(json_object_get(reg, "id")), "123456789012");
    assert_int_equal(json_array_size(json_object_get(snap, "registries")), 1);
    json_decref(snap);
}

/* Two views deep (a hook inside ecrmock_call_as() calls it again, whose hook
 * loads): the load lands in the instance's own region and the fixture's
 * regions, each view closes onto its region's new state, and a snapshot
 * taken inside the views is the one taken after them. */
static void nested_hook(void *user, const char *action, json_t *request, ecrmock_injection *inject)
{
    hook_load *h = user;
    if (strcmp(action, "DescribeRegistry") == 0) {
        json_t *r = NULL;
        ecrmock_call_as(h->m, OTHER_ACCOUNT, "ap-south-1", "DescribeRepositories", NULL, &r);
        json_decref(r);
        return;
    }
    load_in_hook(user, action, request, inject);
    if (strcmp(action, "DescribeRepositories") == 0) {
        json_t *snap = ecrmock_snapshot(h->m, NULL);
        h->snapshot = json_dumps(snap, JSON_COMPACT);
        json_decref(snap);
    }
}

static void test_fixture_load_two_views_deep(void **state)
{
    ecrmock *m = *state;
    load_ok(m, "fixtures/team-registry.json");
    json_decref(call_as_ok(m, NULL, "ap-south-1", "CreateRepository", "{\"repositoryName\": \"old\"}"));
    hook_load h = {m,
                   "{\"registries\": [{\"repositories\": [{\"name\": \"mine\"}]}], \"regions\": ["
                   "{\"name\": \"eu-west-1\", \"registries\": [{\"repositories\": [{\"name\": \"there\"}]}]},"
                   "{\"name\": \"ap-south-1\", \"registries\": [{\"id\": \"" OTHER_ACCOUNT "\", \"repositories\": "
                   "[{\"name\": \"theirs\"}]}]}]}",
                   NULL};
    ecrmock_hooks_set(m, nested_hook, NULL, &h);
    json_decref(call_as_ok(m, NULL, "eu-west-1", "DescribeRegistry", "{}"));
    ecrmock_hooks_set(m, NULL, NULL, NULL);
    assert_non_null(h.snapshot);
    assert_repo_names(m, NULL, NULL, "mine");
    assert_repo_names(m, NULL, "eu-west-1", "there");
    assert_repo_names(m, OTHER_ACCOUNT, "ap-south-1", "theirs");
    assert_repo_names(m, NULL, "ap-south-1", "");
    json_t *snap = ecrmock_snapshot(m, NULL);
    char *after = json_dumps(snap, JSON_COMPACT);
    assert_string_equal(h.snapshot, after);
    free(after);
    free(h.snapshot);
    json_decref(snap);
    ecrmock_free(reload(m));
}

/* replicated.json: the copies are the source's image in the other region
 * and account, its statuses say so, and the rule replicates the next push. */
static void test_fixture_replicated(void **state)
{
    ecrmock *m = *state;
    load_ok(m, "fixtures/replicated.json");
    json_t *src = describe(m, "123456789012", "apps/api");
    const char *digest = json_string_value(json_object_get(json_array_get(src, 0), "imageDigest"));
    static const char *const owners[] = {"123456789012", OTHER_ACCOUNT};
    for (int i = 0; i < 2; i++) {
        char req[128];
        snprintf(req, sizeof req, "{\"registryId\": \"%s\", \"repositoryName\": \"apps/api\"}", owners[i]);
        json_t *r = call_as_ok(m, NULL, "eu-west-1", "DescribeImages", req);
        json_t *copy = json_array_get(json_object_get(r, "imageDetails"), 0);
        assert_string_equal(json_string_value(json_object_get(copy, "imageDigest")), digest);
        assert_string_equal(json_string_value(json_array_get(json_object_get(copy, "imageTags"), 0)), "1.0");
        json_decref(r);
    }
    json_t *r = NULL;
    assert_ok(call(m, &r, "DescribeImageReplicationStatus",
                   "{\"repositoryName\": \"apps/api\", \"imageId\": {\"imageTag\": \"1.0\"}}"), r);
    json_t *st = json_object_get(r, "replicationStatuses");
    assert_int_equal(json_array_size(st), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(st, 1), "registryId")), OTHER_ACCOUNT);
    assert_string_equal(json_string_value(json_object_get(json_array_get(st, 1), "status")), "COMPLETE");
    json_decref(r);
    json_decref(src);
    char *v2 = push_new_image(m, "apps/api", 1, 9, "2.0");
    r = call_as_ok(m, OTHER_ACCOUNT, "eu-west-1", "BatchGetImage",
                   "{\"repositoryName\": \"apps/api\", \"imageIds\": [{\"imageTag\": \"2.0\"}]}");
    assert_string_equal(json_string_value(json_object_get(json_object_get(json_array_get(json_object_get(r, "images"), 0),
                                                                          "imageId"), "imageDigest")), v2);
    json_decref(r);
    free(v2);
}

/* ---- synthesised layers (issue 14, item 13) ---------------------------------------------- */

/* A fixture of `n_images` images in one repository, image i with the layers
 * {"size": sizes[j], "seed": seeds[j]} for j < n_layers (malloc'd text). */
static char *synth_fixture(int n_images, int n_layers, const long long *sizes, const long long *seeds)
{
    size_t cap = 256 + (size_t)n_images * (64 + 64 * (size_t)n_layers), len = 0;
    char *text = malloc(cap);
    len += (size_t)snprintf(text + len, cap - len, "{\"registries\": [{\"repositories\": [{\"name\": \"big\", \"images\": [");
    for (int i = 0; i < n_images; i++) {
        len += (size_t)snprintf(text + len, cap - len, "%s{\"tags\": [\"v%d\"], \"layers\": [", i ? ", " : "", i);
        for (int j = 0; j < n_layers; j++)
            len += (size_t)snprintf(text + len, cap - len, "%s{\"size\": %lld, \"seed\": %lld}", j ? ", " : "",
                                    sizes[j], seeds[j]);
        len += (size_t)snprintf(text + len, cap - len, "], \"config\": {\"n\": %d}}", i);
    }
    snprintf(text + len, cap - len, "]}]}]}");
    return text;
}

static ecrmock *with_synth_budget(uint64_t budget)
{
    ecrmock_options o = ECRMOCK_OPTIONS_INIT;
    o.max_synth_bytes = budget;
    ecrmock *m = ecrmock_new(&o);
    assert_non_null(m);
    return m;
}

/* Forty images referencing one {"size", "seed"} layer make its bytes once:
 * a budget of exactly one layer's bytes is enough (the issue's fixture made
 * them forty times, 633 s for 1 GiB layers); one byte less is refused at
 * the first reference, and a second pair at its own, with the path. */
static void test_fixture_synth_once_per_load(void **state)
{
    (void)state;
    const long long size = 1 << 20, sizes[] = {1 << 20, 1 << 20}, seeds[] = {1, 2};
    char *one = synth_fixture(40, 1, sizes, seeds), *two = synth_fixture(40, 2, sizes, seeds);

    ecrmock *m = with_synth_budget((uint64_t)size);
    load_ok_text(m, one);
    json_t *d = describe(m, "123456789012", "big");
    assert_int_equal(json_array_size(d), 40);
    for (size_t i = 0; i < 40; i++)
        assert_int_equal(json_integer_value(json_object_get(json_array_get(d, i), "imageSizeInBytes")), size);
    json_decref(d);
    assert_refused(m, two,
                   "x.json: $.registries[0].repositories[0].images[0].layers[1].size: synthesising 1048576 more bytes "
                   "would take this load past its budget of 1048576 synthesised bytes (ecrmock_options.max_synth_bytes; "
                   "1048576 made so far)");
    ecrmock_free(m);

    m = with_synth_budget((uint64_t)size - 1);
    assert_refused(m, one,
                   "x.json: $.registries[0].repositories[0].images[0].layers[0].size: synthesising 1048576 more bytes "
                   "would take this load past its budget of 1048575 synthesised bytes (ecrmock_options.max_synth_bytes; "
                   "0 made so far)");
    json_t *snap = ecrmock_snapshot(m, NULL);
    assert_int_equal(json_array_size(json_object_get(snap, "registries")), 0); /* refused whole */
    json_decref(snap);
    ecrmock_free(m);

    /* The budget is per load: the same fixture loads again. */
    m = with_synth_budget((uint64_t)size * 2);
    load_ok_text(m, two);
    load_ok_text(m, two);
    ecrmock_free(m);

    /* 0 is the default, 4 GiB. */
    m = with_synth_budget(0);
    load_ok_text(m, two);
    ecrmock_free(m);
    free(one);
    free(two);
}

/* The bytes are the splitmix64 sequence from the seed, little-endian (the
 * README's definition), whole numbers and a tail; a repeated reference is
 * the same layer, its "digest" checked; another size is another layer. */
static void test_fixture_synth_bytes(void **state)
{
    ecrmock *m = *state;
    static const unsigned char seed0[10] = {0xaf, 0xcd, 0x1d, 0x7b, 0x39, 0xa8, 0x20, 0xe2, 0xf4, 0x65};
    static const unsigned char seed_max[11] = {0x20, 0x2c, 0x65, 0x1b, 0x77, 0x71, 0xd9, 0xe4, 0xc9, 0x82, 0xf6};
    char d0[ECRMOCK_DIGEST_SIZE], dmax[ECRMOCK_DIGEST_SIZE], text[1024];
    sha256_digest(seed0, sizeof seed0, d0);
    sha256_digest(seed_max, sizeof seed_max, dmax);
    snprintf(text, sizeof text,
             "{\"registries\": [{\"repositories\": [{\"name\": \"rr\", \"layers\": ["
             "{\"size\": 10, \"seed\": 0}, {\"size\": 10, \"seed\": 0, \"digest\": \"%s\"},"
             "{\"size\": 11, \"seed\": -1, \"digest\": \"%s\"}, {\"size\": 8, \"seed\": 0}, {\"size\": 0, \"seed\": 5}]}]}]}",
             d0, dmax);
    load_ok_text(m, text);
    void *bytes = NULL;
    size_t len = 0;
    assert_int_equal(ecrmock_get_layer(m, NULL, "rr", d0, &bytes, &len, NULL), ECRMOCK_ERR_OK);
    assert_int_equal(len, 10);
    assert_memory_equal(bytes, seed0, 10);
    free(bytes);
    char d8[ECRMOCK_DIGEST_SIZE];
    sha256_digest(seed0, 8, d8);
    assert_int_equal(ecrmock_get_layer(m, NULL, "rr", d8, &bytes, &len, NULL), ECRMOCK_ERR_OK);
    assert_int_equal(len, 8);
    free(bytes);
    json_t *snap = ecrmock_snapshot(m, NULL);
    assert_int_equal(json_array_size(json_object_get(
                         json_array_get(json_object_get(json_array_get(json_object_get(snap, "registries"), 0), "repositories"), 0),
                         "layers")),
                     4);
    json_decref(snap);
    /* A wrong digest on the second reference is refused there. */
    snprintf(text, sizeof text,
             "{\"registries\": [{\"repositories\": [{\"name\": \"rr\", \"layers\": ["
             "{\"size\": 10, \"seed\": 0}, {\"size\": 10, \"seed\": 0, \"digest\": \"%s\"}]}]}]}",
             dmax);
    char want[512];
    snprintf(want, sizeof want,
             "x.json: $.registries[0].repositories[0].layers[1].digest: does not match the layer's bytes, whose digest "
             "is %s", d0);
    assert_refused(m, text, want);

    /* Sizes and seeds at int64's edges and as exponents. */
    static const struct {
        const char *layer, *want;
    } bad[] = {
        {"{\"size\": 9223372036854775807, \"seed\": 1}", "layers[0].size: must be at most 1073741824"},
        {"{\"size\": -9223372036854775808, \"seed\": 1}", "layers[0].size: must be at least 0"},
        {"{\"size\": 1073741825, \"seed\": 1}", "layers[0].size: must be at most 1073741824"},
        {"{\"size\": 1e3, \"seed\": 1}", "layers[0].size: must be an integer"},
        {"{\"size\": 1e300, \"seed\": 1}", "layers[0].size: must be an integer"},
        {"{\"size\": 10, \"seed\": 1e0}", "layers[0].seed: must be an integer"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(text, sizeof text, "{\"registries\": [{\"repositories\": [{\"name\": \"rr\", \"layers\": [%s]}]}]}",
                 bad[i].layer);
        snprintf(want, sizeof want, "x.json: $.registries[0].repositories[0].%s", bad[i].want);
        assert_refused(m, text, want);
    }
}

/* The ecrmock_err convention: the path is the source and the JSON path of
 * the member at fault, the code the ECR error a call of the load met (or
 * InvalidParameter for the document itself), NULL err is accepted, success
 * clears an old failure. */
static void test_fixture_load_err(void **state)
{
    ecrmock *m = *state;
    const char *dup = "{\"registries\": [{\"repositories\": [{\"name\": \"ab\"}, {\"name\": \"ab\"}]}]}";
    assert_int_equal(ERR_CODE(ecrmock_fixture_load_string(m, dup, "team.json", &test_err)),
                     ECRMOCK_ERR_REPOSITORY_ALREADY_EXISTS);
    assert_string_equal(test_err.path, "team.json: $.registries[0].repositories[1]");
    assert_string_equal(test_err.text, "RepositoryAlreadyExistsException: The repository with name 'ab' already "
                                       "exists in the registry with id '123456789012'");
    assert_int_equal(ERR_CODE(ecrmock_fixture_load_string(m, "{\"registries\": [{\"repositories\": [{}]}]}", NULL,
                                                          &test_err)),
                     ECRMOCK_ERR_INVALID_PARAMETER);
    assert_string_equal(test_err.path, "fixture: $.registries[0].repositories[0].name");
    assert_string_equal(test_err.text, "is required");
    assert_int_equal(ecrmock_fixture_load_string(m, dup, "team.json", NULL), -1);
    assert_int_equal(ecrmock_fixture_load_string(m, "{", "team.json", NULL), -1);
    assert_int_equal(ecrmock_fixture_load_file(m, "fixtures/no-such-file.json", NULL), -1);
    assert_int_equal(ERR_CODE(ecrmock_fixture_load_string(m, NULL, "team.json", &test_err)),
                     ECRMOCK_ERR_INVALID_PARAMETER);
    assert_string_equal(test_err.path, "");
    assert_string_equal(test_err.text, "no fixture text (text is NULL)");
    assert_int_equal(ERR_CODE(ecrmock_fixture_load_file(m, NULL, &test_err)), ECRMOCK_ERR_INVALID_PARAMETER);
    assert_string_equal(test_err.text, "no file name (path is NULL)");
    assert_int_equal(ERR_CODE(ecrmock_fixture_load(NULL, NULL, NULL, &test_err)), ECRMOCK_ERR_INVALID_PARAMETER);
    assert_string_equal(test_err.text, "no instance (m is NULL)");
    assert_int_equal(ERR_CODE(ecrmock_fixture_load_string(m, "{}", "team.json", dirty_err())), ECRMOCK_ERR_OK);
    assert_int_equal(ERR_CODE(ecrmock_fixture_load_file(m, "fixtures/team-registry.json", dirty_err())), ECRMOCK_ERR_OK);
    /* a path longer than err.path is cut, NUL-terminated */
    char src[400];
    memset(src, 's', sizeof src - 1);
    src[sizeof src - 1] = '\0';
    assert_int_equal(ERR_CODE(ecrmock_fixture_load_string(m, "[]", src, &test_err)), ECRMOCK_ERR_INVALID_PARAMETER);
    assert_int_equal(strlen(test_err.path), sizeof test_err.path - 1);
    assert_string_equal(test_err.text, "must be an object");
}

/* A fixture's "options" load into an instance that has them (defaults
 * resolved), and are refused, with nothing changed, where it has others. */
static void test_fixture_options(void **state)
{
    ecrmock *m = *state; /* setup_mock: min_part_size 1024, the rest defaults */
    load_ok_text(m, "{\"options\": {\"minPartSize\": 1024, \"accountId\": \"123456789012\", \"region\": \"us-east-1\", "
                    "\"maxImages\": 0, \"tokenLength\": 2368, \"seed\": 0}, "
                    "\"registries\": [{\"repositories\": [{\"name\": \"kept\"}]}]}");
    json_t *before = ecrmock_snapshot(m, NULL);
    assert_refused(m, "{\"options\": {\"minPartSize\": 5242880}, \"registries\": []}",
                   "x.json: $.options.minPartSize: is 5242880, but the instance's is 1024: a load does not change an ins"
                   "tance's options (ecrmock_new(), ecrmock-server's flags, ECRMOCK_CURL_<option> make them; ecrmock_opt"
                   "ions_set() changes a running instance's limits); load the fixture into an instance made with them, o"
                   "r leave the member out");
    assert_refused(m, "{\"options\": {\"region\": \"eu-west-1\"}}",
                   "x.json: $.options.region: is \"eu-west-1\", but the instance's is \"us-east-1\": a load does not change "
                   "an instance's options (ecrmock_new(), ecrmock-server's flags, ECRMOCK_CURL_<option> make them; ecrmo"
                   "ck_options_set() changes a running instance's limits); load the fixture into an instance made with t"
                   "hem, or leave the member out");
    assert_refused(m, "{\"options\": {\"seed\": \"7\"}}", "x.json: $.options.seed: must be an integer");
    assert_refused(m, "{\"options\": {\"tokenLength\": 100}}",
                   "x.json: $.options.tokenLength: must be 512 to 65536 characters (0 means ECR's 2368)");
    char *err = refusal(m, "{\"options\": {\"minPartsize\": 1024}}");
    assert_true(strncmp(err, "x.json: $.options.minPartsize: not an option (accountId, region, ", 65) == 0);
    free(err);
    assert_refused(m, "{\"options\": [1]}", "x.json: $.options: must be an object");
    /* A member's name with a NUL in it (a tree built with json_object_setn())
     * is no option: it was read as the option before the NUL, and loaded. */
    json_t *fx = json_pack("{s:{}, s:[{s:[{s:s}]}]}", "options", "registries", "repositories", "name", "nul-key");
    json_object_setn_new(json_object_get(fx, "options"), "minPartSize\0junk", 16, json_integer(1024));
    ecrmock_err e;
    assert_int_equal(ecrmock_fixture_load(m, fx, "x.json", &e), -1);
    assert_string_equal(e.path, "x.json: $.options.minPartSize");
    assert_string_equal(e.text, "not an option: its name has a NUL (\\u0000)");
    json_decref(fx);
    assert_state_is(m, before, "the refused fixtures");
    json_decref(before);

    /* The seed, any 64 bits, as JSON writes it: the signed integer of the same bits. */
    ecrmock_options o = ECRMOCK_OPTIONS_INIT;
    o.seed = UINT64_MAX;
    ecrmock *seeded = ecrmock_new(&o);
    assert_non_null(seeded);
    load_ok_text(seeded, "{\"options\": {\"seed\": -1}}");
    assert_refused(seeded, "{\"options\": {\"seed\": 0}}",
                   "x.json: $.options.seed: is 0, but the instance's is -1: a load does not change an instance's options"
                   " (ecrmock_new(), ecrmock-server's flags, ECRMOCK_CURL_<option> make them; ecrmock_options_set() chan"
                   "ges a running instance's limits); load the fixture into an instance made with them, or leave the mem"
                   "ber out");
    ecrmock_free(seeded);
}

/* ---- prepared fixtures ------------------------------------------------------------ */

/* The instance's snapshot as compact text (malloc'd). */
static char *snapshot_text(ecrmock *m)
{
    json_t *snap = ecrmock_snapshot(m, NULL);
    assert_non_null(snap);
    char *text = json_dumps(snap, JSON_COMPACT);
    json_decref(snap);
    assert_non_null(text);
    return text;
}

/* The snapshot text of a fresh instance that loaded `path` (malloc'd). */
static char *loaded_text(const char *path)
{
    ecrmock *ref = ecrmock_new(NULL);
    load_ok(ref, path);
    char *text = snapshot_text(ref);
    ecrmock_free(ref);
    return text;
}

static ecrmock_fixture *prepare_ok(const char *path, const ecrmock_options *opts)
{
    ecrmock_err err;
    ecrmock_fixture *fx = ecrmock_fixture_prepare_file(path, opts, &err);
    if (!fx)
        fail_msg("%s refused: %s: %s", path, err.path, err.text);
    return fx;
}

static const char *const shipped[] = {"fixtures/team-registry.json", "fixtures/multi-arch.json",
                                      "fixtures/immutable-tags.json", "fixtures/registry-settings.json",
                                      "fixtures/replicated.json"};

/* Every shipped fixture, prepared: an instance made from it, and one it is
 * applied to, hold what a load gives, byte for byte, and answer the same. */
static void test_prepared_fixture_identical(void **state)
{
    (void)state;
    for (size_t f = 0; f < sizeof shipped / sizeof shipped[0]; f++) {
        ecrmock *loaded = ecrmock_new(NULL);
        load_ok(loaded, shipped[f]);
        char *want = snapshot_text(loaded);
        ecrmock_fixture *fx = prepare_ok(shipped[f], NULL);
        ecrmock_err err;
        ecrmock *made = ecrmock_new_from_fixture(fx, &err);
        assert_non_null(made);
        ecrmock *applied = ecrmock_new(NULL);
        assert_int_equal(ecrmock_fixture_apply(applied, fx, dirty_err()), 0);
        assert_int_equal(test_err.code, ECRMOCK_ERR_OK);
        char *got = snapshot_text(made), *got2 = snapshot_text(applied);
        assert_string_equal(got, want);
        assert_string_equal(got2, want);
        /* listings and pages read the same: every repository's images */
        json_t *a = NULL, *b = NULL;
        assert_ok(call(loaded, &a, "DescribeRepositories", "{}"), a);
        assert_ok(call(made, &b, "DescribeRepositories", "{}"), b);
        assert_true(json_equal(a, b));
        json_t *repo;
        size_t i;
        json_array_foreach(json_object_get(a, "repositories"), i, repo) {
            const char *name = json_string_value(json_object_get(repo, "repositoryName"));
            json_t *x = NULL, *y = NULL;
            assert_ok(call(loaded, &x, "ListImages", "{\"repositoryName\": \"%s\", \"maxResults\": 1}", name), x);
            assert_ok(call(made, &y, "ListImages", "{\"repositoryName\": \"%s\", \"maxResults\": 1}", name), y);
            assert_true(json_equal(x, y));
            json_decref(x);
            json_decref(y);
        }
        json_decref(a);
        json_decref(b);
        free(want);
        free(got);
        free(got2);
        ecrmock_free(loaded);
        ecrmock_free(made);
        ecrmock_free(applied);
        ecrmock_fixture_free(fx);
    }
}

/* Applied over an instance in use: its state goes (as a load replaces it),
 * new items sort after the page tokens it handed out, and the fixture's
 * fault rules take ids after its own. */
static void test_prepared_fixture_apply_over_state(void **state)
{
    ecrmock *m = *state;
    const char *text = "{\"faults\": [{\"action\": \"ListImages\", \"nth\": 2, \"count\": 1}],"
                       " \"registries\": [{\"repositories\": [{\"name\": \"web\"}, {\"name\": \"api\"}]}]}";
    ecrmock_err err;
    json_t *doc = json_loads(text, 0, NULL);
    ecrmock_options o = ECRMOCK_OPTIONS_INIT;
    o.min_part_size = 1024; /* setup_mock's */
    ecrmock_fixture *fx = ecrmock_fixture_prepare(doc, &o, "inline", &err);
    json_decref(doc);
    assert_non_null(fx);
    call_ok(m, "CreateRepository", "{\"repositoryName\": \"old\"}");
    json_t *rule = json_pack("{s:s}", "action", "DeleteLifecyclePolicy");
    long id = ecrmock_fault_add_json(m, rule, NULL);
    assert_true(id > 0);
    assert_int_equal(ecrmock_fixture_apply(m, fx, &err), 0);
    /* the same as a load over the same instance */
    ecrmock *ref = ecrmock_new(&o);
    call_ok(ref, "CreateRepository", "{\"repositoryName\": \"old\"}");
    assert_true(ecrmock_fault_add_json(ref, rule, NULL) == id);
    json_decref(rule);
    load_ok_text(ref, text);
    char *a = snapshot_text(m), *b = snapshot_text(ref);
    assert_string_equal(a, b);
    free(a);
    free(b);
    json_t *r = NULL;
    assert_error(call(m, &r, "DescribeRepositories", "{\"repositoryNames\": [\"old\"]}"), r, 400,
                 "RepositoryNotFoundException");
    /* the old rule's id names nothing now; the fixture's rule fires on the 2nd ListImages */
    assert_int_equal(ERR_CODE(ecrmock_fault_remove(m, id, &test_err)), ECRMOCK_ERR_INVALID_PARAMETER);
    call_ok(m, "ListImages", "{\"repositoryName\": \"web\"}");
    assert_error(call(m, &r, "ListImages", "{\"repositoryName\": \"web\"}"), r, 400, "ThrottlingException");
    /* a page token of the fixture's repositories, in both */
    json_t *x = NULL, *y = NULL;
    assert_ok(call(m, &x, "DescribeRepositories", "{\"maxResults\": 1}"), x);
    assert_ok(call(ref, &y, "DescribeRepositories", "{\"maxResults\": 1}"), y);
    assert_true(json_equal(json_object_get(x, "repositories"), json_object_get(y, "repositories")));
    json_decref(x);
    json_decref(y);
    ecrmock_free(ref);
    ecrmock_fixture_free(fx);
}

/* Each instance owns its copy: what one does reaches neither the prepared
 * fixture nor another instance made from it. */
static void test_prepared_fixture_independent(void **state)
{
    (void)state;
    ecrmock_fixture *fx = prepare_ok("fixtures/team-registry.json", NULL);
    ecrmock_err err;
    ecrmock *a = ecrmock_new_from_fixture(fx, &err), *b = ecrmock_new_from_fixture(fx, &err);
    assert_non_null(a);
    assert_non_null(b);
    char *want = snapshot_text(b);
    /* tags moved and removed, an image deleted, settings changed, a layer
     * pushed into a shared blob's repository, a repository deleted */
    json_t *r = NULL;
    assert_ok(call(a, &r, "BatchGetImage", "{\"repositoryName\": \"team/web\", \"imageIds\": [{\"imageTag\": \"1.0.0\"}]}"), r);
    char *manifest = strdup(json_string_value(json_object_get(json_array_get(json_object_get(r, "images"), 0), "imageManifest")));
    json_decref(r);
    json_t *req = json_pack("{s:s, s:s, s:s}", "repositoryName", "team/web", "imageManifest", manifest, "imageTag", "latest");
    assert_ok(ecrmock_call(a, "PutImage", req, &r), r);
    json_decref(req);
    json_decref(r);
    free(manifest);
    call_ok(a, "BatchDeleteImage", "{\"repositoryName\": \"team/web\", \"imageIds\": [{\"imageTag\": \"1.1.0\"}]}");
    call_ok(a, "TagResource", "{\"resourceArn\": \"arn:aws:ecr:us-east-1:123456789012:repository/team/web\", "
                              "\"tags\": [{\"Key\": \"team\", \"Value\": \"changed\"}]}");
    call_ok(a, "DeleteRepositoryPolicy", "{\"repositoryName\": \"team/web\"}");
    call_ok(a, "PutImageTagMutability", "{\"repositoryName\": \"team/web\", \"imageTagMutability\": \"IMMUTABLE\"}");
    call_ok(a, "DeleteRepository", "{\"repositoryName\": \"team/worker\", \"force\": true}");
    assert_int_equal(ecrmock_clock_advance(a, 1000, NULL), 0);
    char *changed = snapshot_text(a);
    assert_string_not_equal(changed, want);
    char *other = snapshot_text(b);
    assert_string_equal(other, want);
    /* a new instance from the fixture starts from it, not from a's state */
    ecrmock *c = ecrmock_new_from_fixture(fx, &err);
    char *fresh = snapshot_text(c);
    assert_string_equal(fresh, want);
    /* and the fixture outlives its instances, and they it */
    ecrmock_free(a);
    ecrmock_fixture_free(fx);
    char *after = snapshot_text(c);
    assert_string_equal(after, want);
    call_ok(c, "DeleteRepository", "{\"repositoryName\": \"team/web\", \"force\": true}");
    free(want);
    free(changed);
    free(other);
    free(fresh);
    free(after);
    ecrmock_free(b);
    ecrmock_free(c);
}

typedef struct apply_job {
    const ecrmock_fixture *fx;
    const char *want;
    int rounds, failures;
} apply_job;

static void *apply_worker(void *arg)
{
    apply_job *j = arg;
    for (int i = 0; i < j->rounds; i++) {
        ecrmock *m = ecrmock_new(NULL);
        ecrmock_err err;
        if (ecrmock_fixture_apply(m, j->fx, &err) != 0) {
            j->failures++;
            ecrmock_free(m);
            continue;
        }
        json_t *snap = ecrmock_snapshot(m, NULL);
        char *text = json_dumps(snap, JSON_COMPACT);
        if (!text || strcmp(text, j->want) != 0)
            j->failures++;
        free(text);
        json_decref(snap);
        /* and each thread's instance changes on its own */
        json_t *r = NULL;
        json_t *req = json_pack("{s:s, s:b}", "repositoryName", "apps/api", "force", 1);
        if (ecrmock_call(m, "DeleteRepository", req, &r) != 200)
            j->failures++;
        json_decref(req);
        json_decref(r);
        ecrmock_free(m);
    }
    return NULL;
}

/* Two threads apply the same prepared fixture at once (run under TSan by
 * `make tsan`): each gets the whole state. */
static void test_prepared_fixture_threads(void **state)
{
    (void)state;
    ecrmock_fixture *fx = prepare_ok("fixtures/registry-settings.json", NULL);
    char *want = loaded_text("fixtures/registry-settings.json");
    pthread_t t[2];
    apply_job jobs[2] = {{fx, want, 40, 0}, {fx, want, 40, 0}};
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&t[i], NULL, apply_worker, &jobs[i]), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(jobs[0].failures, 0);
    assert_int_equal(jobs[1].failures, 0);
    free(want);
    ecrmock_fixture_free(fx);
}

typedef struct shared_apply {
    ecrmock *m;
    const ecrmock_fixture *fx;
    int rounds, failures;
} shared_apply;

/* Applies into the shared instance: each apply either lands or is refused
 * for the option the other thread changed meanwhile. */
static void *shared_apply_worker(void *arg)
{
    shared_apply *j = arg;
    for (int i = 0; i < j->rounds; i++) {
        ecrmock_err err;
        if (ecrmock_fixture_apply(j->m, j->fx, &err) != 0 && strstr(err.text, "maxImages differs") == NULL)
            j->failures++;
    }
    return NULL;
}

/* Calls and changes a limit of the shared instance while the others apply. */
static void *options_worker(void *arg)
{
    shared_apply *j = arg;
    for (int i = 0; i < j->rounds; i++) {
        ecrmock_options o = ECRMOCK_OPTIONS_INIT;
        o.max_images = i % 2 ? 99999 : 100000;
        if (ecrmock_options_set(j->m, &o, NULL) != 0)
            j->failures++;
        json_t *r = NULL;
        if (ecrmock_call(j->m, "DescribeRepositories", NULL, &r) != 200)
            j->failures++;
        json_decref(r);
    }
    return NULL;
}

/* Two threads apply into one instance while a third calls it and changes
 * its options (run under TSan by `make tsan`: the apply made its scratch
 * instance from the instance's options read without the lock). */
static void test_prepared_fixture_threads_one_instance(void **state)
{
    (void)state;
    ecrmock_fixture *fx = prepare_ok("fixtures/registry-settings.json", NULL);
    ecrmock *m = ecrmock_new(NULL);
    assert_non_null(m);
    shared_apply jobs[3] = {{m, fx, 30, 0}, {m, fx, 30, 0}, {m, fx, 200, 0}};
    pthread_t t[3];
    for (int i = 0; i < 3; i++)
        assert_int_equal(pthread_create(&t[i], NULL, i < 2 ? shared_apply_worker : options_worker, &jobs[i]), 0);
    for (int i = 0; i < 3; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < 3; i++)
        assert_int_equal(jobs[i].failures, 0);
    /* the options back where the fixture's are: the last apply is the fixture whole */
    ecrmock_options o = ECRMOCK_OPTIONS_INIT;
    assert_int_equal(ecrmock_options_set(m, &o, NULL), 0);
    assert_int_equal(ecrmock_fixture_apply(m, fx, NULL), 0);
    char *want = loaded_text("fixtures/registry-settings.json"), *got = snapshot_text(m);
    assert_string_equal(got, want);
    free(want);
    free(got);
    ecrmock_free(m);
    ecrmock_fixture_free(fx);
}

/* A refused fixture is refused by prepare as by a load (the JSON path of
 * the bad member); bad arguments and options that differ say so. */
static void test_prepared_fixture_errors(void **state)
{
    ecrmock *m = *state;
    const char *bad = "{\"registries\": [{\"repositories\": [{\"name\": \"ok\"}, {\"name\": \"Bad Name\"}]}]}";
    ecrmock_err load_err;
    assert_int_equal(ecrmock_fixture_load_string(m, bad, "x.json", &load_err), -1);
    json_t *doc = json_loads(bad, 0, NULL);
    assert_null(ecrmock_fixture_prepare(doc, NULL, "x.json", &test_err));
    json_decref(doc);
    assert_int_equal(test_err.code, load_err.code);
    assert_string_equal(test_err.path, "x.json: $.registries[0].repositories[1].name");
    assert_string_equal(test_err.path, load_err.path);
    assert_string_equal(test_err.text, load_err.text);
    /* files: unreadable, not JSON */
    assert_null(ecrmock_fixture_prepare_file("fixtures/no-such-file.json", NULL, &test_err));
    assert_int_equal(test_err.code, ECRMOCK_ERR_INVALID_PARAMETER);
    assert_string_equal(test_err.path, "fixtures/no-such-file.json");
    assert_null(ecrmock_fixture_prepare_file(NULL, NULL, &test_err));
    assert_string_equal(test_err.text, "no file name (path is NULL)");
    assert_null(ecrmock_fixture_prepare(NULL, NULL, "x", &test_err));
    assert_string_equal(test_err.text, "no fixture (fixture is NULL)");
    /* options ecrmock_new() refuses */
    ecrmock_options o = ECRMOCK_OPTIONS_INIT;
    o.account_id = "12345";
    doc = json_loads("{}", 0, NULL);
    assert_null(ecrmock_fixture_prepare(doc, &o, "x", &test_err));
    assert_int_equal(test_err.code, ECRMOCK_ERR_INVALID_PARAMETER);
    /* an instance of other options: the first option that differs */
    o = (ecrmock_options)ECRMOCK_OPTIONS_INIT;
    o.region = "eu-west-1";
    ecrmock_fixture *fx = ecrmock_fixture_prepare(doc, &o, "x", &test_err);
    json_decref(doc);
    assert_non_null(fx);
    call_ok(m, "CreateRepository", "{\"repositoryName\": \"kept\"}");
    char *before = snapshot_text(m);
    assert_int_equal(ERR_CODE(ecrmock_fixture_apply(m, fx, &test_err)), ECRMOCK_ERR_INVALID_PARAMETER);
    assert_string_equal(test_err.text, "the instance's option region differs from the prepared fixture's: prepare it "
                                       "with the instance's options");
    char *after = snapshot_text(m);
    assert_string_equal(after, before);
    assert_int_equal(ERR_CODE(ecrmock_fixture_apply(NULL, fx, &test_err)), ECRMOCK_ERR_INVALID_PARAMETER);
    assert_string_equal(test_err.text, "no instance (m is NULL)");
    assert_int_equal(ERR_CODE(ecrmock_fixture_apply(m, NULL, &test_err)), ECRMOCK_ERR_INVALID_PARAMETER);
    assert_string_equal(test_err.text, "no prepared fixture (fx is NULL)");
    assert_null(ecrmock_new_from_fixture(NULL, &test_err));
    assert_string_equal(test_err.text, "no prepared fixture (fx is NULL)");
    /* an instance made from it has its options */
    ecrmock *e = ecrmock_new_from_fixture(fx, dirty_err());
    assert_non_null(e);
    assert_int_equal(test_err.code, ECRMOCK_ERR_OK);
    json_t *r = NULL;
    assert_ok(call(e, &r, "CreateRepository", "{\"repositoryName\": \"xy\"}"), r);
    assert_string_equal(json_string_value(json_object_get(json_object_get(r, "repository"), "repositoryArn")),
                        "arn:aws:ecr:eu-west-1:123456789012:repository/xy");
    json_decref(r);
    ecrmock_free(e);
    ecrmock_fixture_free(fx);
    ecrmock_fixture_free(NULL);
    free(before);
    free(after);
}

typedef struct hook_apply {
    ecrmock *m;
    const ecrmock_fixture *fx;
} hook_apply;

static void apply_in_hook(void *user, const char *action, json_t *request, ecrmock_injection *inject)
{
    (void)request;
    (void)inject;
    hook_apply *h = user;
    if (strcmp(action, "DescribeRepositories") != 0)
        return;
    ecrmock_err err;
    if (ecrmock_fixture_apply(h->m, h->fx, &err) != 0)
        fail_msg("%s: %s", err.path, err.text);
}

/* A prepared fixture applied from a hook of a call made in another view
 * (account and region): it lands in the instance's own view and regions,
 * as a load does, and the call answers in the view it was made in. */
static void test_prepared_fixture_apply_inside_call_as(void **state)
{
    ecrmock *m = *state;
    ecrmock_options o = ECRMOCK_OPTIONS_INIT;
    o.min_part_size = 1024; /* setup_mock's */
    json_t *doc = json_loads("{\"registries\": [{\"repositories\": [{\"name\": \"mine\"}]}], \"regions\": ["
                             "{\"name\": \"eu-west-1\", \"registries\": [{\"repositories\": [{\"name\": \"there\"}]}]}]}",
                             0, NULL);
    ecrmock_fixture *fx = ecrmock_fixture_prepare(doc, &o, "hook.json", NULL);
    json_decref(doc);
    assert_non_null(fx);
    hook_apply h = {m, fx};
    ecrmock_hooks_set(m, apply_in_hook, NULL, &h);
    json_t *r = call_as_ok(m, OTHER_ACCOUNT, "eu-west-1", "DescribeRepositories", "{}");
    assert_int_equal(json_array_size(json_object_get(r, "repositories")), 0); /* the other account's */
    json_decref(r);
    r = call_as_ok(m, NULL, "eu-west-1", "DescribeRepositories", "{}");
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(r, "repositories"), 0),
                                                          "repositoryName")), "there");
    json_decref(r);
    ecrmock_hooks_set(m, NULL, NULL, NULL);
    assert_repo_names(m, NULL, NULL, "mine");
    assert_repo_names(m, NULL, "eu-west-1", "there");
    assert_repo_names(m, OTHER_ACCOUNT, "eu-west-1", "");
    ecrmock *ref = ecrmock_new(&o);
    load_ok_text(ref, "{\"registries\": [{\"repositories\": [{\"name\": \"mine\"}]}], \"regions\": ["
                      "{\"name\": \"eu-west-1\", \"registries\": [{\"repositories\": [{\"name\": \"there\"}]}]}]}");
    json_t *a = ecrmock_snapshot(m, NULL), *b = ecrmock_snapshot(ref, NULL);
    assert_true(json_equal(a, b));
    json_decref(a);
    json_decref(b);
    ecrmock_free(ref);
    ecrmock_fixture_free(fx);
}

/* <ecrmock_cmocka.h>'s setup from a prepared fixture: each test gets an
 * instance of its own in the fixture's state (run twice: the first's
 * change is not in the second's). */
static void test_prepared_fixture_cmocka_setup(void **state)
{
    ecrmock *m = *state;
    assert_ecrmock_tag(m, "team/web", "latest", NULL);
    assert_ecrmock_image_exists(m, "team/web", "1.0.0");
    call_ok(m, "BatchDeleteImage", "{\"repositoryName\": \"team/web\", \"imageIds\": [{\"imageTag\": \"1.0.0\"}]}");
    assert_ecrmock_image_absent(m, "team/web", "1.0.0");
}

/* A declared layer: a digest and a size, no bytes.  Listed, described and
 * checked as any layer (sizes exact, to 2^63 - 1), snapshot as declared, and
 * filled by a push of its true bytes; its download is refused, saying why. */
#define D_BIG "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define D_MAX "sha256:2222222222222222222222222222222222222222222222222222222222222222"

static void test_fixture_declared_layers(void **state)
{
    ecrmock *m = *state;
    char small[ECRMOCK_DIGEST_SIZE];
    sha256_digest("four", 4, small);
    char text[2048];
    snprintf(text, sizeof text,
             "{\"registries\": [{\"repositories\": [{\"name\": \"big\", \"layers\": ["
             "{\"declaredSize\": 9223372036854775807, \"digest\": \"" D_MAX "\", \"mediaType\": \"application/x-max\"},"
             "{\"declaredSize\": 4, \"digest\": \"%s\"}], \"images\": ["
             "{\"tags\": [\"v1\"], \"layers\": [{\"declaredSize\": 1073741824, \"digest\": \"" D_BIG "\"}, {\"text\": \"app\"}]},"
             "{\"tags\": [\"huge\"], \"layers\": [{\"declaredSize\": 9223372036854775807, \"digest\": \"" D_MAX "\"},"
             "{\"declaredSize\": 1073741824, \"digest\": \"" D_BIG "\"}]}]}]}]}",
             small);
    load_ok_text(m, text);

    /* A prepared fixture holds them as declared too: the instance made from
     * it has the load's snapshot, byte for byte. */
    json_t *doc = json_loads(text, 0, NULL);
    assert_non_null(doc);
    ecrmock_err perr;
    ecrmock_fixture *fx = ecrmock_fixture_prepare(doc, NULL, "declared.json", &perr);
    json_decref(doc);
    assert_non_null(fx);
    ecrmock *made = ecrmock_new_from_fixture(fx, &perr);
    assert_non_null(made);
    ecrmock_fixture_free(fx);
    char *want = snapshot_text(m), *got = snapshot_text(made);
    assert_string_equal(got, want);
    free(want);
    free(got);
    ecrmock_free(made);

    /* imageSizeInBytes: the layers' declared sizes (the config not counted);
     * past 2^63 - 1 the sum stops there. */
    json_t *details = describe(m, "123456789012", "big");
    assert_int_equal(json_array_size(details), 2);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(details, 0), "imageSizeInBytes")),
                     INT64_C(1073741827));
    assert_int_equal(json_integer_value(json_object_get(json_array_get(details, 1), "imageSizeInBytes")), INT64_MAX);
    json_decref(details);
    /* The manifest names the declared size and digest. */
    json_t *r = NULL;
    assert_ok(call(m, &r, "BatchGetImage", "{\"repositoryName\": \"big\", \"imageIds\": [{\"imageTag\": \"v1\"}]}"), r);
    json_t *mf = json_loads(json_string_value(json_object_get(json_array_get(json_object_get(r, "images"), 0),
                                                              "imageManifest")), 0, NULL);
    json_t *l0 = json_array_get(json_object_get(mf, "layers"), 0);
    assert_string_equal(json_string_value(json_object_get(l0, "digest")), D_BIG);
    assert_int_equal(json_integer_value(json_object_get(l0, "size")), INT64_C(1073741824));
    json_decref(mf);
    json_decref(r);

    /* BatchCheckLayerAvailability: AVAILABLE with the declared size. */
    assert_ok(call(m, &r, "BatchCheckLayerAvailability",
                   "{\"repositoryName\": \"big\", \"layerDigests\": [\"" D_BIG "\", \"" D_MAX "\"]}"), r);
    json_t *layers = json_object_get(r, "layers");
    assert_int_equal(json_array_size(layers), 2);
    assert_int_equal(json_array_size(json_object_get(r, "failures")), 0);
    assert_string_equal(jstr(json_array_get(layers, 0), "layerAvailability"), "AVAILABLE");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(layers, 0), "layerSize")), INT64_C(1073741824));
    assert_int_equal(json_integer_value(json_object_get(json_array_get(layers, 1), "layerSize")), INT64_MAX);
    json_decref(r);

    /* GetDownloadUrlForLayer answers (ECR has the layer); the download of
     * bytes ecrmock does not hold is refused: 501, S3's NotImplemented with
     * the reason; ecrmock_get_layer says LayerInaccessible. */
    assert_ok(call(m, &r, "GetDownloadUrlForLayer", "{\"repositoryName\": \"big\", \"layerDigest\": \"" D_BIG "\"}"), r);
    char url[2048];
    snprintf(url, sizeof url, "%s", jstr(r, "downloadUrl"));
    json_decref(r);
    void *bytes = NULL;
    size_t len = 7;
    assert_int_equal(ecrmock_fetch_url(m, url, &bytes, &len), 501);
    assert_null(bytes);
    assert_int_equal(len, 0);
    ecrmock_http_request get = ECRMOCK_HTTP_REQUEST_INIT;
    get.method = "GET";
    get.target = url;
    ecrmock_http_response resp;
    assert_int_equal(ecrmock_http_handle(m, &get, &resp), 501);
    assert_non_null(strstr(resp.body, "<Code>NotImplemented</Code><Message>ecrmock holds no bytes for this layer: a "
                                      "fixture declared it by its digest and size only</Message>"));
    ecrmock_http_response_release(&resp);
    ecrmock_err err;
    assert_int_equal(ecrmock_get_layer(m, NULL, "big", D_BIG, &bytes, &len, &err), -1);
    assert_int_equal(err.code, ECRMOCK_ERR_LAYER_INACCESSIBLE);
    assert_string_equal(err.text, "the layer '" D_BIG "' of the repository 'big' is declared (a digest and a size, "
                                  "from a fixture): ecrmock holds no bytes for it");

    /* A snapshot gives the declared layers as declared, and round-trips. */
    json_t *snap = ecrmock_snapshot(m, NULL);
    json_t *repo = json_array_get(json_object_get(json_array_get(json_object_get(snap, "registries"), 0), "repositories"), 0);
    size_t declared = 0;
    for (size_t i = 0; i < json_array_size(json_object_get(repo, "layers")); i++) {
        json_t *l = json_array_get(json_object_get(repo, "layers"), i);
        if (json_object_get(l, "declaredSize")) {
            declared++;
            assert_null(json_object_get(l, "base64"));
            if (strcmp(jstr(l, "digest"), D_MAX) == 0)
                assert_int_equal(json_integer_value(json_object_get(l, "declaredSize")), INT64_MAX);
        }
    }
    assert_int_equal(declared, 3);
    json_decref(snap);
    ecrmock *b = reload(m);
    assert_same_answer(m, b, "DescribeImages", "{\"repositoryName\": \"big\"}");
    assert_same_answer(m, b, "BatchCheckLayerAvailability",
                       "{\"repositoryName\": \"big\", \"layerDigests\": [\"" D_BIG "\", \"" D_MAX "\"]}");
    ecrmock_free(b);

    /* A push of a declared layer's true bytes fills it: then it downloads,
     * and a snapshot gives its bytes. */
    create_repo(m, "other");
    assert_int_equal(ecrmock_put_layer(m, NULL, "other", "four", 4, NULL, NULL), 0);
    assert_int_equal(ecrmock_get_layer(m, NULL, "big", small, &bytes, &len, NULL), 0);
    assert_int_equal(len, 4);
    assert_memory_equal(bytes, "four", 4);
    free(bytes);
    snap = ecrmock_snapshot(m, NULL);
    char *dump = json_dumps(snap, JSON_COMPACT);
    assert_null(strstr(dump, "\"declaredSize\":4"));
    assert_non_null(strstr(dump, "\"base64\":\"Zm91cg==\""));
    free(dump);
    json_decref(snap);
}

/* A declared layer's members are checked, at their JSON paths. */
static void test_fixture_declared_layer_refusals(void **state)
{
    ecrmock *m = *state;
#define LAYER(spec) "{\"registries\": [{\"repositories\": [{\"name\": \"web\", \"layers\": [" spec "]}]}]}"
#define AT "x.json: $.registries[0].repositories[0].layers[0]"
    assert_refused(m, LAYER("{\"declaredSize\": 5}"),
                   AT ": a layer with \"declaredSize\" needs its \"digest\" (it has no bytes to take one from)");
    assert_refused(m, LAYER("{\"declaredSize\": 5, \"digest\": \"sha256:12\"}"),
                   AT ".digest: a declared layer's digest must be \"sha256:\" and 64 lower-case hex digits");
    assert_refused(m, LAYER("{\"declaredSize\": 5, \"digest\": \"" "sha256:" "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" "\"}"),
                   AT ".digest: a declared layer's digest must be \"sha256:\" and 64 lower-case hex digits");
    assert_refused(m, LAYER("{\"declaredSize\": 5, \"digest\": \"sha512:" "11111111111111111111111111111111111111111111111111111111111111111" "\"}"),
                   AT ".digest: a declared layer's digest must be \"sha256:\" and 64 lower-case hex digits");
    assert_refused(m, LAYER("{\"declaredSize\": 0, \"digest\": \"" D_BIG "\"}"), AT ".declaredSize: must be at least 1");
    assert_refused(m, LAYER("{\"declaredSize\": -1, \"digest\": \"" D_BIG "\"}"), AT ".declaredSize: must be at least 1");
    assert_refused(m, LAYER("{\"declaredSize\": -9223372036854775808, \"digest\": \"" D_BIG "\"}"),
                   AT ".declaredSize: must be at least 1");
    assert_refused(m, LAYER("{\"declaredSize\": \"5\", \"digest\": \"" D_BIG "\"}"), AT ".declaredSize: must be an integer");
    assert_refused(m, LAYER("{\"declaredSize\": 5.0, \"digest\": \"" D_BIG "\"}"), AT ".declaredSize: must be an integer");
    assert_refused(m, LAYER("{\"declaredSize\": 5, \"size\": 5, \"digest\": \"" D_BIG "\"}"),
                   AT ": needs exactly one of \"text\", \"base64\", \"size\" or \"declaredSize\"");
    /* 2^63 is past what the JSON reader takes */
    char *err = refusal(m, LAYER("{\"declaredSize\": 9223372036854775808, \"digest\": \"" D_BIG "\"}"));
    assert_non_null(strstr(err, "too big integer"));
    free(err);
    /* one digest, two sizes: bytes and a declaration, or two declarations */
    assert_refused(m,
                   "{\"registries\": [{\"repositories\": [{\"name\": \"web\", \"layers\": [{\"text\": \"a\"}, "
                   "{\"declaredSize\": 2, \"digest\": "
                   "\"sha256:ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb\"}]}]}]}",
                   "x.json: $.registries[0].repositories[0].layers[1].declaredSize: declares 2 bytes, but the layer "
                   "sha256:ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb holds 1");
    assert_refused(m,
                   "{\"registries\": [{\"repositories\": [{\"name\": \"web\", \"layers\": [{\"declaredSize\": 3, "
                   "\"digest\": \"" D_BIG "\"}]}, {\"name\": \"api\", \"images\": [{\"layers\": [{\"declaredSize\": 4, "
                   "\"digest\": \"" D_BIG "\"}]}]}]}]}",
                   "x.json: $.registries[0].repositories[1].images[0].layers[0].declaredSize: declares 4 bytes, but the "
                   "layer " D_BIG " is declared elsewhere with 3");
    /* and the other way round: a declaration, then bytes of another size */
    assert_refused(m,
                   "{\"registries\": [{\"repositories\": [{\"name\": \"web\", \"layers\": [{\"declaredSize\": 2, "
                   "\"digest\": \"sha256:ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb\"}, "
                   "{\"text\": \"a\"}]}]}]}",
                   "x.json: $.registries[0].repositories[0].layers[1]: holds 1 byte, but the layer "
                   "sha256:ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb is declared elsewhere with 2");
#undef AT
#undef LAYER
}

/* A declared size that is not its digest's bytes' (no fixture can check
 * it): a push of the true bytes, into another repository or at the JSON
 * level, fills the layer everywhere with their size (they were dropped:
 * the layer stayed declared at the wrong size, its download refused). */
static void test_fixture_declared_layer_wrong_size_filled_by_push(void **state)
{
    ecrmock *m = *state;
    char four[ECRMOCK_DIGEST_SIZE];
    sha256_digest("four", 4, four);
    char text[512];
    snprintf(text, sizeof text,
             "{\"registries\": [{\"repositories\": [{\"name\": \"big\", \"layers\": ["
             "{\"declaredSize\": 9223372036854775807, \"digest\": \"%s\"}]}]}]}",
             four);
    load_ok_text(m, text);
    create_repo(m, "other");
    assert_int_equal(ecrmock_put_layer(m, NULL, "other", "four", 4, NULL, NULL), 0);
    void *bytes = NULL;
    size_t len = 0;
    assert_int_equal(ecrmock_get_layer(m, NULL, "big", four, &bytes, &len, &test_err), 0);
    assert_int_equal(len, 4);
    assert_memory_equal(bytes, "four", 4);
    free(bytes);
    const char *repos[] = {"big", "other"};
    for (int i = 0; i < 2; i++) {
        char req[256];
        snprintf(req, sizeof req, "{\"repositoryName\": \"%s\", \"layerDigests\": [\"%s\"]}", repos[i], four);
        json_t *r = answer_of(m, "BatchCheckLayerAvailability", req);
        assert_int_equal(json_integer_value(json_object_get(json_array_get(json_object_get(r, "layers"), 0), "layerSize")),
                         4);
        json_decref(r);
    }
}

/* Attack: a fixture a caller built 1,000,000 levels deep (in a fault
 * rule's request, where anything goes) overflowed the stack in the schema
 * check's walk, and ecrmock_fixture_prepare's copy of its faults before
 * that.  Refused at "$", the instance unchanged. */
static void test_fixture_too_deep(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "kept");
    char *before = snapshot_text(m);
    json_t *deep = nested("deep", 1000000);
    json_t *fx = json_pack("{s:[{s:s, s:s, s:O}]}", "faults", "action", "CreateRepository", "effect", "error",
                           "request", deep);
    assert_int_equal(ERR_CODE(ecrmock_fixture_load(m, fx, "x.json", &test_err)), ECRMOCK_ERR_INVALID_PARAMETER);
    assert_string_equal(test_err.path, "x.json: $");
    assert_string_equal(test_err.text, "is nested more than 2048 levels deep, which no JSON text can be");
    assert_null(ecrmock_fixture_prepare(fx, NULL, "x.json", &test_err));
    assert_string_equal(test_err.text, "is nested more than 2048 levels deep, which no JSON text can be");
    json_decref(fx);
    release_nested(deep);
    char *after = snapshot_text(m);
    assert_string_equal(after, before);
    free(before);
    free(after);
}

/* Synthesised bytes are made in pieces: across piece boundaries they are the
 * splitmix64 sequence all the same (computed here the plain way). */
static void test_fixture_synth_bytes_across_pieces(void **state)
{
    ecrmock *m = *state;
    const size_t n = 3 * 65536 + 13;
    load_ok_text(m, "{\"registries\": [{\"repositories\": [{\"name\": \"rr\", \"layers\": [{\"size\": 196621, \"seed\": 42}]}]}]}");
    unsigned char *want = malloc(n);
    uint64_t x = 42;
    for (size_t i = 0; i < n; i += 8) {
        uint64_t z = (x += UINT64_C(0x9E3779B97F4A7C15));
        z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
        z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
        z ^= z >> 31;
        for (size_t b = 0; b < 8 && i + b < n; b++)
            want[i + b] = (unsigned char)(z >> (8 * b));
    }
    char digest[ECRMOCK_DIGEST_SIZE];
    sha256_digest(want, n, digest);
    void *got = NULL;
    size_t len = 0;
    assert_int_equal(ecrmock_get_layer(m, NULL, "rr", digest, &got, &len, NULL), 0);
    assert_int_equal(len, n);
    assert_memory_equal(got, want, n);
    free(got);
    free(want);
}

/* A generated fixture of 1,000 compact images (4 repositories; Docker and
 * OCI; 1 to 3 declared layers, some with a media type, some shared; 0 to 3
 * tags; platforms; pushedAt), its text in *text (malloc'd).  With
 * `with_config`, each image also gives "config": the one the load makes
 * for it, so that its texts are made from documents, not written straight. */
static char *compact_fixture(int with_config)
{
    size_t cap = 1000 * 1400 + 4096, len = 0;
    char *fx = malloc(cap);
    assert_non_null(fx);
#define PUT(...) (len += (size_t)snprintf(fx + len, cap - len, __VA_ARGS__))
    PUT("{\"registries\": [{\"repositories\": [");
    for (int r = 0; r < 4; r++) {
        PUT("%s{\"name\": \"gen/r%d\"%s, \"images\": [", r ? "," : "", r,
            r == 1 ? ", \"imageScanningConfiguration\": {\"scanOnPush\": true}" : "");
        for (int i = 0; i < 250; i++) {
            const char *arch = i % 4 == 1 ? "arm64" : "amd64", *os = i % 6 == 5 ? "windows" : "linux";
            PUT("%s{\"layers\": [", i ? "," : "");
            int n = 1 + i % 3;
            char digests[3][ECRMOCK_DIGEST_SIZE];
            for (int j = 0; j < n; j++) {
                /* layer 0 of the first image and of every third: the repository's shared base */
                unsigned id = j == 0 && (i == 0 || i % 3 == 2) ? 1u : (unsigned)(r * 10000 + i * 4 + j + 2);
                snprintf(digests[j], sizeof digests[j], "sha256:%056x%08x", (unsigned)r + 1, id);
                PUT("%s{\"declaredSize\": %lld, \"digest\": \"%s\"%s}", j ? "," : "",
                    id == 1 ? 1073741824LL : 1000LL * i + j + 1, digests[j],
                    j == 1 && i % 2 ? ", \"mediaType\": \"application/vnd.example.layer+tar\"" : "");
            }
            PUT("]");
            if (i % 5 == 2)
                PUT(", \"format\": \"oci\"");
            if (i % 4 == 1 || i % 6 == 5)
                PUT(", \"platform\": {\"architecture\": \"%s\", \"os\": \"%s\"}", arch, os);
            if (i % 7 == 3)
                PUT(", \"pushedAt\": %d", 1700000000 + i);
            if (i % 4) {
                PUT(", \"tags\": [\"v%d\"", i);
                for (int t = 1; t < i % 4; t++)
                    PUT(", \"t%d-%d\"", i, t);
                PUT("]");
            }
            if (with_config) {
                PUT(", \"config\": {\"architecture\": \"%s\", \"os\": \"%s\", \"rootfs\": {\"type\": \"layers\", "
                    "\"diff_ids\": [",
                    arch, os);
                for (int j = 0; j < n; j++)
                    PUT("%s\"%s\"", j ? "," : "", digests[j]);
                PUT("]}}");
            }
            PUT("}");
        }
        PUT("]}");
    }
    PUT("]}]}");
#undef PUT
    assert_true(len < cap - 1);
    return fx;
}

/* The answers a client sees of repository `repo`: every image listed,
 * described and fetched, as compact text (malloc'd). */
static char *image_answers(ecrmock *m, const char *repo)
{
    json_t *all = json_array(), *r = NULL;
    assert_ok(call(m, &r, "ListImages", "{\"repositoryName\": \"%s\", \"maxResults\": 1000}", repo), r);
    json_array_append(all, r);
    json_t *ids = json_incref(json_object_get(r, "imageIds"));
    json_decref(r);
    assert_ok(call(m, &r, "DescribeImages", "{\"repositoryName\": \"%s\", \"maxResults\": 1000}", repo), r);
    json_array_append_new(all, r);
    for (size_t at = 0; at < json_array_size(ids); at += 100) { /* BatchGetImage takes 100 at most */
        json_t *some = json_array();
        for (size_t k = at; k < at + 100 && k < json_array_size(ids); k++)
            json_array_append(some, json_array_get(ids, k));
        char *ids_text = json_dumps(some, JSON_COMPACT);
        json_decref(some);
        assert_ok(call(m, &r, "BatchGetImage", "{\"repositoryName\": \"%s\", \"imageIds\": %s}", repo, ids_text), r);
        json_array_append_new(all, r);
        free(ids_text);
    }
    json_decref(ids);
    char *text = json_dumps(all, JSON_COMPACT);
    json_decref(all);
    return text;
}

/* A compact image's config and manifest are written straight, not made
 * as documents and dumped: the same bytes, so the same digests, snapshot
 * and answers as images whose config is given (made as documents). */
static void test_fixture_compact_images_as_documents(void **state)
{
    ecrmock *m = *state, *m2 = ecrmock_new(NULL);
    assert_non_null(m2);
    char *direct = compact_fixture(0), *documents = compact_fixture(1);
    load_ok_text(m, direct);
    load_ok_text(m2, documents);
    char *a = snapshot_text(m), *b = snapshot_text(m2);
    assert_string_equal(a, b);
    free(a);
    free(b);
    for (int r = 0; r < 4; r++) {
        char repo[24];
        snprintf(repo, sizeof repo, "gen/r%d", r);
        a = image_answers(m, repo);
        b = image_answers(m2, repo);
        assert_string_equal(a, b);
        assert_non_null(strstr(a, "\"imageDetails\":[{"));
        free(a);
        free(b);
    }
    /* The first image's manifest, byte for byte (a shared 1 GiB base layer). */
    json_t *r = NULL;
    assert_ok(call(m, &r, "ListImages", "{\"repositoryName\": \"gen/r0\", \"filter\": {\"tagStatus\": \"UNTAGGED\"}, "
                                        "\"maxResults\": 1}"),
              r);
    char *manifest = manifest_of(m, "gen/r0",
                                 json_string_value(json_object_get(json_array_get(json_object_get(r, "imageIds"), 0),
                                                                   "imageDigest")));
    json_decref(r);
    char config[512], want[1024], config_digest[ECRMOCK_DIGEST_SIZE];
    snprintf(config, sizeof config,
             "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:%056x%08x\"]}}",
             1u, 1u);
    sha256_digest(config, strlen(config), config_digest);
    snprintf(want, sizeof want,
             "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\",\"config\":{"
             "\"mediaType\":\"application/vnd.docker.container.image.v1+json\",\"size\":%zu,\"digest\":\"%s\"},\"layers\":[{"
             "\"mediaType\":\"application/vnd.docker.image.rootfs.diff.tar.gzip\",\"size\":1073741824,\"digest\":"
             "\"sha256:%056x%08x\"}]}",
             strlen(config), config_digest, 1u, 1u);
    assert_string_equal(manifest, want);
    free(manifest);
    free(direct);
    free(documents);
    ecrmock_free(m2);
}

/* A compact image of n layers, as fixture text (malloc'd); with_config: the
 * config the load would make, given (the texts made from documents). */
static char *many_layers_fixture(int n, int with_config)
{
    size_t cap = 256 + (size_t)n * 256, len = 0;
    char *fx = malloc(cap);
    assert_non_null(fx);
#define PUT(...) (len += (size_t)snprintf(fx + len, cap - len, __VA_ARGS__))
    PUT("{\"registries\": [{\"repositories\": [{\"name\": \"many\", \"images\": [{\"tags\": [\"v1\"], \"layers\": [");
    for (int j = 0; j < n; j++)
        PUT("%s{\"declaredSize\": %d, \"digest\": \"sha256:%064x\"}", j ? "," : "", 100 + j, j + 1);
    PUT("]");
    if (with_config) {
        PUT(", \"config\": {\"architecture\": \"amd64\", \"os\": \"linux\", \"rootfs\": {\"type\": \"layers\", \"diff_ids\": [");
        for (int j = 0; j < n; j++)
            PUT("%s\"sha256:%064x\"", j ? "," : "", j + 1);
        PUT("]}}");
    }
    PUT("}]}]}]}");
#undef PUT
    assert_true(len < cap - 1);
    return fx;
}

/* Past the 15 layers a compact image's manifest lists inline (its blobs then
 * in a block of their own): the same image as one made from documents. */
static void test_fixture_compact_image_many_layers(void **state)
{
    (void)state;
    static const int counts[] = {15, 16, 40};
    for (size_t k = 0; k < sizeof counts / sizeof *counts; k++) {
        ecrmock *m = ecrmock_new(NULL), *m2 = ecrmock_new(NULL);
        assert_non_null(m);
        assert_non_null(m2);
        char *direct = many_layers_fixture(counts[k], 0), *documents = many_layers_fixture(counts[k], 1);
        load_ok_text(m, direct);
        load_ok_text(m2, documents);
        char *a = snapshot_text(m), *b = snapshot_text(m2);
        assert_string_equal(a, b);
        free(a), free(b);
        a = image_answers(m, "many");
        b = image_answers(m2, "many");
        assert_string_equal(a, b);
        /* the size: the layers' declared sizes, not the config's */
        char size[48];
        snprintf(size, sizeof size, "\"imageSizeInBytes\":%d", counts[k] * 100 + counts[k] * (counts[k] - 1) / 2);
        assert_non_null(strstr(a, size));
        free(a), free(b), free(direct), free(documents);
        ecrmock_free(m);
        ecrmock_free(m2);
    }
}

/* A compact image is stored without a PutImage request of its own: its
 * refusals are still PutImage's, at the same paths (a later tag's at its
 * own), the layer limit of the instance's options too. */
static void test_fixture_compact_image_refusals(void **state)
{
    ecrmock *m = *state;
    assert_refused(m,
                   "{\"registries\": [{\"repositories\": [{\"name\": \"web\", \"imageTagMutability\": \"IMMUTABLE\", "
                   "\"images\": [{\"tags\": [\"v1\"], \"layers\": [{\"text\": \"a\"}]}, {\"tags\": [\"v2\", \"v1\"], "
                   "\"layers\": [{\"text\": \"b\"}]}]}]}]}",
                   "x.json: $.registries[0].repositories[0].images[1].tags[1]: ImageTagAlreadyExistsException: The "
                   "image tag 'v1' already exists in the 'web' repository and cannot be overwritten because the "
                   "repository is immutable.");
    ecrmock_options o = ECRMOCK_OPTIONS_INIT;
    o.max_layers_per_image = 1;
    ecrmock *one = ecrmock_new(&o);
    assert_non_null(one);
    assert_refused(one,
                   "{\"registries\": [{\"repositories\": [{\"name\": \"web\", \"images\": [{\"layers\": [{\"declaredSize\": "
                   "5, \"digest\": \"sha256:" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}, "
                   "{\"text\": \"b\"}]}]}]}]}",
                   "x.json: $.registries[0].repositories[0].images[0]: InvalidParameterException: Invalid parameter at "
                   "'ImageManifest' failed to satisfy constraint: 'Limit on number of layers per image exceeded'");
    load_ok_text(one, "{\"registries\": [{\"repositories\": [{\"name\": \"web\", \"images\": [{\"layers\": [{\"text\": "
                      "\"b\"}]}]}]}]}");
    ecrmock_free(one);
}

int main(void)
{
    ecrmock_fixture *team = ecrmock_fixture_prepare_file("fixtures/team-registry.json", NULL, NULL);
    if (!team)
        return 1;
#define T(f) cmocka_unit_test_setup_teardown(f, setup_mock, teardown_mock)
    const struct CMUnitTest tests[] = {
        T(test_fixture_team_registry),
        T(test_fixture_layer_bytes),
        T(test_fixture_multi_arch),
        T(test_fixture_immutable_tags),
        T(test_fixture_registry_settings),
        T(test_snapshot_round_trip),
        T(test_snapshot_contents),
        T(test_snapshot_layer_order_many),
        T(test_prepared_fixture_copy_many_blobs_unref),
        T(test_fixture_refused_leaves_state),
        T(test_fixture_refusal_messages),
        T(test_fixture_options),
        T(test_fixture_load_sources),
        T(test_fixture_faults_and_inline_manifest),
        T(test_fixture_fault_ids_not_reused),
        T(test_snapshot_settings_round_trip),
        T(test_snapshot_pull_through_cache_rules),
        T(test_snapshot_creation_templates),
        T(test_snapshot_account_signing_exclusions),
        T(test_snapshot_storage_class),
        T(test_fixture_refuses_bad_settings),
        T(test_fixture_load_replaces_other_regions),
        T(test_snapshot_regions_through_replication),
        T(test_fixture_regions),
        T(test_fixture_load_inside_call_as),
        T(test_fixture_load_two_views_deep),
        T(test_fixture_replicated),
        T(test_fixture_time_edges),
        T(test_fixture_synth_once_per_load),
        T(test_fixture_synth_bytes),
        T(test_fixture_synth_bytes_across_pieces),
        T(test_fixture_load_err),
        T(test_fixture_schema_strings),
        T(test_prepared_fixture_identical),
        T(test_prepared_fixture_apply_over_state),
        T(test_prepared_fixture_independent),
        T(test_prepared_fixture_threads),
        T(test_prepared_fixture_threads_one_instance),
        T(test_prepared_fixture_errors),
        T(test_prepared_fixture_apply_inside_call_as),
        cmocka_unit_test_prestate_setup_teardown(test_prepared_fixture_cmocka_setup, ecrmock_cmocka_setup_from_fixture,
                                                 ecrmock_cmocka_teardown_instance, team),
        cmocka_unit_test_prestate_setup_teardown(test_prepared_fixture_cmocka_setup, ecrmock_cmocka_setup_from_fixture,
                                                 ecrmock_cmocka_teardown_instance, team),
        T(test_fixture_declared_layers),
        T(test_fixture_declared_layer_refusals),
        T(test_fixture_compact_images_as_documents),
        T(test_fixture_compact_image_refusals),
        T(test_fixture_compact_image_many_layers),
        T(test_fixture_declared_layer_wrong_size_filled_by_push),
        T(test_fixture_too_deep),
    };
#undef T
    int failed = cmocka_run_group_tests_name("fixtures", tests, NULL, NULL);
    ecrmock_fixture_free(team);
    return failed;
}
