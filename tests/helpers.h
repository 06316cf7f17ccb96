/*
 * Shared helpers for ecrmock's cmocka tests: a fresh instance per test, calls
 * written as JSON text, the push steps most tests need, and the checks many
 * files make (an error's exact type and text, a listing, state unchanged).
 */
#ifndef ECRMOCK_TEST_HELPERS_H
#define ECRMOCK_TEST_HELPERS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "ecrmock.h"

/* Writes "sha256:<hex>" of the bytes into `out`, computed here independently
 * of the library; asserts OpenSSL made a 32-byte digest. */
static void sha256_digest(const void *p, size_t n, char out[ECRMOCK_DIGEST_SIZE]) __attribute__((unused));
static void sha256_digest(const void *p, size_t n, char out[ECRMOCK_DIGEST_SIZE])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    assert_int_equal(EVP_Digest(p, n, md, &md_len, EVP_sha256(), NULL), 1);
    assert_int_equal(md_len, 32);
    memcpy(out, "sha256:", 7);
    for (unsigned int i = 0; i < md_len; i++)
        snprintf(out + 7 + 2 * i, 3, "%02x", md[i]);
}

/* Writes the path of the build folder's tool `name` into out (cap bytes),
 * from the test binary's argv[0]: build/tests/test_x -> build/<name>, and
 * "../<name>" when argv[0] names no folder above the binary's. */
static void build_tool_path(char *out, size_t cap, const char *argv0, const char *name) __attribute__((unused));
static void build_tool_path(char *out, size_t cap, const char *argv0, const char *name)
{
    snprintf(out, cap, "%s", argv0);
    char *slash = strrchr(out, '/');
    if (slash)
        *slash = '\0';
    slash = strrchr(out, '/');
    if (slash)
        snprintf(slash + 1, cap - (size_t)(slash + 1 - out), "%s", name);
    else
        snprintf(out, cap, "../%s", name);
}

/* cmocka setup/teardown: *state is a fresh instance with default options,
 * except a 1 KiB minimum part size so that multi-part tests stay small. */
static int setup_mock(void **state) __attribute__((unused));
static int setup_mock(void **state)
{
    ecrmock_options o = ECRMOCK_OPTIONS_INIT;
    o.min_part_size = 1024;
    *state = ecrmock_new(&o);
    return *state ? 0 : -1;
}

static int teardown_mock(void **state) __attribute__((unused));
static int teardown_mock(void **state)
{
    ecrmock_free(*state);
    return 0;
}

/* call() with a va_list. */
static int vcall(ecrmock *m, json_t **out, const char *action, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0), unused));
static int vcall(ecrmock *m, json_t **out, const char *action, const char *fmt, va_list ap)
{
    char text[65536];
    vsnprintf(text, sizeof text, fmt, ap);
    json_error_t err;
    json_t *req = json_loads(text, 0, &err);
    if (!req)
        fail_msg("test request is not JSON: %s: %s", err.text, text);
    int status = ecrmock_call(m, action, req, out);
    json_decref(req);
    return status;
}

/* Calls `action` with a request written as JSON text (printf-style); returns
 * the status and stores the response (a new reference) in *out. */
static int call(ecrmock *m, json_t **out, const char *action, const char *fmt, ...)
    __attribute__((format(printf, 4, 5), unused));
static int call(ecrmock *m, json_t **out, const char *action, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int status = vcall(m, out, action, fmt, ap);
    va_end(ap);
    return status;
}

/* A string member of a JSON object; NULL when absent or not a string. */
#define STR(o, k) json_string_value(json_object_get((o), (k)))

/* A string member of a JSON object; "(absent)" when absent or not a string,
 * so that assert_string_equal shows what was missing. */
static const char *jstr(json_t *o, const char *key) __attribute__((unused));
static const char *jstr(json_t *o, const char *key)
{
    const char *v = json_string_value(json_object_get(o, key));
    return v ? v : "(absent)";
}

/* The __type of an error document, "" when there is none. */
static const char *err_type(json_t *resp) __attribute__((unused));
static const char *err_type(json_t *resp)
{
    const char *t = json_string_value(json_object_get(resp, "__type"));
    return t ? t : "";
}

static const char *err_message(json_t *resp) __attribute__((unused));
static const char *err_message(json_t *resp)
{
    const char *t = json_string_value(json_object_get(resp, "message"));
    if (!t)
        t = json_string_value(json_object_get(resp, "Message"));
    return t ? t : "";
}

/* Asserts a call failed with `status` and error `type`, then releases resp. */
#define assert_error(status_expr, resp, want_status, want_type)                   \
    do {                                                                           \
        int st_ = (status_expr);                                                   \
        assert_string_equal(err_type(resp), (want_type));                          \
        assert_int_equal(st_, (want_status));                                      \
        json_decref(resp);                                                         \
        (resp) = NULL;                                                             \
    } while (0)

/* Asserts a call succeeded (status 200); shows the error if not. */
#define assert_ok(status_expr, resp)                                               \
    do {                                                                           \
        int st_ = (status_expr);                                                   \
        if (st_ != 200)                                                            \
            fail_msg("expected 200, got %d: %s: %s", st_, err_type(resp), err_message(resp)); \
    } while (0)

/* Asserts a call failed with status 400, error `type` and exactly the message
 * `msg`, then releases *resp and sets it to NULL. */
static void assert_fail_msg(int status, json_t **resp, const char *type, const char *msg) __attribute__((unused));
static void assert_fail_msg(int status, json_t **resp, const char *type, const char *msg)
{
    assert_string_equal(err_type(*resp), type);
    assert_string_equal(err_message(*resp), msg);
    assert_int_equal(status, 400);
    json_decref(*resp);
    *resp = NULL;
}

/* Asserts a call failed with 400 RepositoryNotFoundException and ECR's exact
 * text for `repo` in `registry`, then releases *resp and sets it to NULL. */
static void assert_repo_not_found(int status, json_t **resp, const char *repo, const char *registry)
    __attribute__((unused));
static void assert_repo_not_found(int status, json_t **resp, const char *repo, const char *registry)
{
    char msg[512];
    snprintf(msg, sizeof msg, "The repository with name '%s' does not exist in the registry with id '%s'", repo,
             registry);
    assert_fail_msg(status, resp, "RepositoryNotFoundException", msg);
}

/* Asserts a call failed with 400 ImageNotFoundException and ECR's exact text
 * for the imageId (`digest`, `tag`; NULL shows as 'null') in `repo` of
 * `registry`, then releases *resp and sets it to NULL. */
static void assert_image_not_found(int status, json_t **resp, const char *digest, const char *tag, const char *repo,
                                   const char *registry) __attribute__((unused));
static void assert_image_not_found(int status, json_t **resp, const char *digest, const char *tag, const char *repo,
                                   const char *registry)
{
    char msg[768];
    snprintf(msg, sizeof msg,
             "The image with imageId {imageDigest:'%s', imageTag:'%s'} does not exist within the repository with "
             "name '%s' in the registry with id '%s'",
             digest ? digest : "null", tag ? tag : "null", repo, registry);
    assert_fail_msg(status, resp, "ImageNotFoundException", msg);
}

/* Calls `action` like call(), asserts it succeeded (status 200) and drops the
 * response. */
static void call_ok(ecrmock *m, const char *action, const char *fmt, ...) __attribute__((format(printf, 3, 4), unused));
static void call_ok(ecrmock *m, const char *action, const char *fmt, ...)
{
    json_t *r = NULL;
    va_list ap;
    va_start(ap, fmt);
    int status = vcall(m, &r, action, fmt, ap);
    va_end(ap);
    assert_ok(status, r);
    json_decref(r);
}

static void create_repo(ecrmock *m, const char *name) __attribute__((unused));
static void create_repo(ecrmock *m, const char *name)
{
    call_ok(m, "CreateRepository", "{\"repositoryName\": \"%s\"}", name);
}

/* Starts a layer upload in `repo`; asserts success and a 36-character
 * uploadId, which it copies into id (at least 37 bytes). */
static void initiate_upload(ecrmock *m, const char *repo, char *id) __attribute__((unused));
static void initiate_upload(ecrmock *m, const char *repo, char *id)
{
    json_t *r = NULL;
    assert_ok(call(m, &r, "InitiateLayerUpload", "{\"repositoryName\": \"%s\"}", repo), r);
    const char *s = json_string_value(json_object_get(r, "uploadId"));
    assert_non_null(s);
    assert_int_equal(strlen(s), 36);
    memcpy(id, s, 37);
    json_decref(r);
}

/* Pushes `len` bytes as a layer through the wire flow (one part); writes the
 * digest into digest_out. */
static void push_layer(ecrmock *m, const char *repo, const void *bytes, size_t len, char *digest_out)
    __attribute__((unused));
static void push_layer(ecrmock *m, const char *repo, const void *bytes, size_t len, char *digest_out)
{
    assert_int_equal(ecrmock_put_layer(m, NULL, repo, bytes, len, digest_out), ECRMOCK_ERR_OK);
}

/* A Docker v2 schema 2 manifest over a config and layers already in `repo`;
 * returns a malloc'd manifest text. `salt` makes distinct manifests. */
static char *make_manifest(ecrmock *m, const char *repo, int n_layers, int salt) __attribute__((unused));
static char *make_manifest(ecrmock *m, const char *repo, int n_layers, int salt)
{
    char config[128], digest[ECRMOCK_DIGEST_SIZE];
    int n = snprintf(config, sizeof config, "{\"architecture\":\"amd64\",\"os\":\"linux\",\"salt\":%d}", salt);
    push_layer(m, repo, config, (size_t)n, digest);
    json_t *mf = json_pack("{s:i, s:s, s:{s:s, s:i, s:s}, s:[]}", "schemaVersion", 2, "mediaType",
                           "application/vnd.docker.distribution.manifest.v2+json", "config", "mediaType",
                           "application/vnd.docker.container.image.v1+json", "size", n, "digest", digest, "layers");
    for (int i = 0; i < n_layers; i++) {
        char layer[64];
        int ln = snprintf(layer, sizeof layer, "layer %d of image %d", i, salt);
        push_layer(m, repo, layer, (size_t)ln, digest);
        json_array_append_new(json_object_get(mf, "layers"),
                              json_pack("{s:s, s:i, s:s}", "mediaType",
                                        "application/vnd.docker.image.rootfs.diff.tar.gzip", "size", ln, "digest",
                                        digest));
    }
    char *text = json_dumps(mf, JSON_COMPACT);
    json_decref(mf);
    return text;
}

/* Puts a manifest with an optional tag; asserts success; returns the digest
 * (malloc'd). */
static char *put_image(ecrmock *m, const char *repo, const char *manifest, const char *tag) __attribute__((unused));
static char *put_image(ecrmock *m, const char *repo, const char *manifest, const char *tag)
{
    json_t *req = json_pack("{s:s, s:s, s:s*}", "repositoryName", repo, "imageManifest", manifest, "imageTag", tag);
    json_t *r = NULL;
    int st = ecrmock_call(m, "PutImage", req, &r);
    json_decref(req);
    assert_ok(st, r);
    char *digest = strdup(json_string_value(json_object_get(json_object_get(json_object_get(r, "image"), "imageId"), "imageDigest")));
    json_decref(r);
    return digest;
}

/* Pushes a fresh image (make_manifest with `n_layers` layers; `salt` makes it
 * distinct) with an optional tag; asserts PutImage succeeded; returns the
 * digest (malloc'd). */
static char *push_new_image(ecrmock *m, const char *repo, int n_layers, int salt, const char *tag)
    __attribute__((unused));
static char *push_new_image(ecrmock *m, const char *repo, int n_layers, int salt, const char *tag)
{
    char *mf = make_manifest(m, repo, n_layers, salt);
    char *d = put_image(m, repo, mf, tag);
    free(mf);
    return d;
}

/* Puts a Docker manifest list over `n` images of the repository (amd64, then
 * arm64) with an optional tag; asserts success; returns its digest (malloc'd). */
static char *put_manifest_list(ecrmock *m, const char *repo, size_t n, char *const *children, const char *tag)
    __attribute__((unused));
static char *put_manifest_list(ecrmock *m, const char *repo, size_t n, char *const *children, const char *tag)
{
    json_t *mf = json_pack("{s:i, s:s, s:[]}", "schemaVersion", 2, "mediaType",
                           "application/vnd.docker.distribution.manifest.list.v2+json", "manifests");
    for (size_t i = 0; i < n; i++)
        json_array_append_new(json_object_get(mf, "manifests"),
                              json_pack("{s:s, s:i, s:s, s:{s:s, s:s}}", "mediaType",
                                        "application/vnd.docker.distribution.manifest.v2+json", "size", 400, "digest",
                                        children[i], "platform", "architecture", i ? "arm64" : "amd64", "os", "linux"));
    char *text = json_dumps(mf, JSON_COMPACT);
    json_decref(mf);
    char *d = put_image(m, repo, text, tag);
    free(text);
    return d;
}

/* The number of repositories DescribeRepositories lists in a registry (NULL:
 * the caller's), in one page: asserts success and no nextToken. */
static size_t repo_count(ecrmock *m, const char *registry) __attribute__((unused));
static size_t repo_count(ecrmock *m, const char *registry)
{
    json_t *req = json_pack("{s:i, s:s*}", "maxResults", 1000, "registryId", registry);
    json_t *r = NULL;
    int st = ecrmock_call(m, "DescribeRepositories", req, &r);
    json_decref(req);
    assert_ok(st, r);
    assert_null(json_object_get(r, "nextToken"));
    size_t n = json_array_size(json_object_get(r, "repositories"));
    json_decref(r);
    return n;
}

/* The repository as DescribeRepositories shows it (a new reference). */
static json_t *describe_repo(ecrmock *m, const char *name) __attribute__((unused));
static json_t *describe_repo(ecrmock *m, const char *name)
{
    json_t *r = NULL;
    assert_ok(call(m, &r, "DescribeRepositories", "{\"repositoryNames\": [\"%s\"]}", name), r);
    json_t *repo = json_incref(json_array_get(json_object_get(r, "repositories"), 0));
    json_decref(r);
    return repo;
}

/* The image detail DescribeImages gives for `digest` (by id: any status);
 * asserts success and exactly one detail (a new reference). */
static json_t *describe_image(ecrmock *m, const char *repo, const char *digest) __attribute__((unused));
static json_t *describe_image(ecrmock *m, const char *repo, const char *digest)
{
    json_t *r = NULL;
    assert_ok(call(m, &r, "DescribeImages", "{\"repositoryName\": \"%s\", \"imageIds\": [{\"imageDigest\": \"%s\"}]}",
                   repo, digest),
              r);
    json_t *details = json_object_get(r, "imageDetails");
    assert_int_equal(json_array_size(details), 1);
    json_t *d = json_incref(json_array_get(details, 0));
    json_decref(r);
    return d;
}

/* A resource tag list with one Key/Value pair (a new reference). */
static json_t *one_tag(const char *key, const char *value) __attribute__((unused));
static json_t *one_tag(const char *key, const char *value)
{
    return json_pack("[{s:s, s:s}]", "Key", key, "Value", value);
}

/* What ListImages and DescribeImages show of a repository (a new reference),
 * to compare before and after a call that must change nothing. */
static json_t *repo_view(ecrmock *m, const char *repo) __attribute__((unused));
static json_t *repo_view(ecrmock *m, const char *repo)
{
    json_t *l = NULL, *d = NULL;
    assert_ok(call(m, &l, "ListImages", "{\"repositoryName\": \"%s\"}", repo), l);
    assert_ok(call(m, &d, "DescribeImages", "{\"repositoryName\": \"%s\"}", repo), d);
    return json_pack("{s:o, s:o}", "list", l, "describe", d);
}

/* Fails when the repository's view differs from `before` (which it releases). */
static void assert_repo_unchanged(ecrmock *m, const char *repo, json_t *before) __attribute__((unused));
static void assert_repo_unchanged(ecrmock *m, const char *repo, json_t *before)
{
    json_t *now = repo_view(m, repo);
    if (!json_equal(before, now)) {
        char *a = json_dumps(before, JSON_COMPACT), *b = json_dumps(now, JSON_COMPACT);
        fail_msg("the repository changed:\nbefore %s\nafter  %s", a, b);
    }
    json_decref(now);
    json_decref(before);
}

/* Fails when the instance's snapshot is not, to the letter, the snapshot
 * `before` (borrowed): `what` (named in the failure) changed the state. */
static void assert_state_is(ecrmock *m, json_t *before, const char *what) __attribute__((unused));
static void assert_state_is(ecrmock *m, json_t *before, const char *what)
{
    json_t *now = ecrmock_snapshot(m);
    assert_non_null(now);
    char *a = json_dumps(before, JSON_COMPACT), *b = json_dumps(now, JSON_COMPACT);
    assert_non_null(a);
    assert_non_null(b);
    if (strcmp(a, b) != 0)
        fail_msg("%s changed the state:\nbefore %.2000s\nafter  %.2000s", what, a, b);
    free(a);
    free(b);
    json_decref(now);
}

/* The answer of a call that must succeed (a new reference). */
static json_t *answer_of(ecrmock *m, const char *action, const char *request) __attribute__((unused));
static json_t *answer_of(ecrmock *m, const char *action, const char *request)
{
    json_t *r = NULL;
    assert_ok(call(m, &r, action, "%s", request), r);
    return r;
}

/* Fails when `action` with `request` no longer succeeds with exactly the
 * answer `before` (from answer_of; released here). */
static void assert_answer_unchanged(ecrmock *m, const char *action, const char *request, json_t *before)
    __attribute__((unused));
static void assert_answer_unchanged(ecrmock *m, const char *action, const char *request, json_t *before)
{
    json_t *now = answer_of(m, action, request);
    if (!json_equal(before, now)) {
        char *a = json_dumps(before, JSON_COMPACT), *b = json_dumps(now, JSON_COMPACT);
        fail_msg("%s answers differently:\nbefore %s\nafter  %s", action, a, b);
    }
    json_decref(now);
    json_decref(before);
}

/* The same successful call on two instances gets the same answer (json_equal). */
static void assert_same_answer(ecrmock *a, ecrmock *b, const char *action, const char *request) __attribute__((unused));
static void assert_same_answer(ecrmock *a, ecrmock *b, const char *action, const char *request)
{
    json_t *ra = answer_of(a, action, request), *rb = answer_of(b, action, request);
    if (!json_equal(ra, rb)) {
        char *x = json_dumps(ra, JSON_COMPACT), *y = json_dumps(rb, JSON_COMPACT);
        fail_msg("%s differs between the instances:\n%s\n%s", action, x, y);
    }
    json_decref(ra);
    json_decref(rb);
}

/* PutImage of `manifest` with `tag` into an immutable `repo`: asserts 400
 * ImageTagAlreadyExistsException with ECR's exact text, and that the
 * repository's images and tags did not change. */
static void assert_tag_refused(ecrmock *m, const char *repo, const char *manifest, const char *tag)
    __attribute__((unused));
static void assert_tag_refused(ecrmock *m, const char *repo, const char *manifest, const char *tag)
{
    json_t *before = repo_view(m, repo);
    json_t *req = json_pack("{s:s, s:s, s:s}", "repositoryName", repo, "imageManifest", manifest, "imageTag", tag);
    json_t *r = NULL;
    int st = ecrmock_call(m, "PutImage", req, &r);
    json_decref(req);
    char msg[512];
    snprintf(msg, sizeof msg,
             "The image tag '%s' already exists in the '%s' repository and cannot be overwritten because the "
             "repository is immutable.",
             tag, repo);
    assert_fail_msg(st, &r, "ImageTagAlreadyExistsException", msg);
    assert_repo_unchanged(m, repo, before);
}

/* Writes the `member` of each item of the array `list`, joined with ","
 * ("(absent)" for an item without it), into out (cap bytes); asserts it fits. */
static void join_member(json_t *list, const char *member, char *out, size_t cap) __attribute__((unused));
static void join_member(json_t *list, const char *member, char *out, size_t cap)
{
    size_t i, used = 0;
    json_t *item;
    out[0] = '\0';
    json_array_foreach(list, i, item) {
        const char *v = json_string_value(json_object_get(item, member));
        used += (size_t)snprintf(out + used, cap - used, "%s%s", i ? "," : "", v ? v : "(absent)");
        assert_true(used < cap);
    }
}

/* Calls `action` with `request` and asserts that the `member` of each item
 * of its `list`, joined with ",", is `want` (e.g. "a,b,c"). */
static void assert_listed(ecrmock *m, const char *action, const char *request, const char *list, const char *member,
                          const char *want) __attribute__((unused));
static void assert_listed(ecrmock *m, const char *action, const char *request, const char *list, const char *member,
                          const char *want)
{
    json_t *r = NULL;
    assert_ok(call(m, &r, action, "%s", request), r);
    char got[4096];
    join_member(json_object_get(r, list), member, got, sizeof got);
    json_decref(r);
    assert_string_equal(got, want);
}

#endif
