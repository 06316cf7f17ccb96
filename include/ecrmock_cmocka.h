/*
 * cmocka assertions about an ecrmock instance, for a user's cmocka tests.
 * Include it after <cmocka.h>.  Each failure says what was expected and
 * what was found instead, then fails the test at the caller's line:
 *
 *   assert_ecrmock_call_count(m, "UploadLayerPart", 3);
 *     -> expected 3 call(s) of UploadLayerPart, found 2
 *   assert_ecrmock_run_count(m, "CompleteLayerUpload", 1);
 *     -> expected 1 run(s) of CompleteLayerUpload, found 2 (of 3 call(s))
 *   assert_ecrmock_last_error(m, "ThrottlingException");
 *     -> expected the last call to fail with ThrottlingException; it was
 *        PutImage, answered 200
 *   assert_ecrmock_image_exists(m, "web", "v1");
 *     -> no image 'v1' in repository 'web'; it holds: sha256:ab12... [latest]
 *   assert_ecrmock_tag(m, "web", "v1", "sha256:...");
 *
 * The checks read the instance directly: they are not calls, so they are
 * neither journaled nor counted.
 *
 * Every test from a prepared fixture (<ecrmock/fixtures.h>): the test's
 * state starts as the fixture (cmocka's prestate, borrowed), the setup
 * replaces it with a new instance of its own, the teardown frees that:
 *
 *   cmocka_unit_test_prestate_setup_teardown(test_push, ecrmock_cmocka_setup_from_fixture,
 *                                            ecrmock_cmocka_teardown_instance, fx)
 */
#ifndef ECRMOCK_CMOCKA_H
#define ECRMOCK_CMOCKA_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ecrmock.h"

#define assert_ecrmock_call_count(m, action, n) ecrmock_cmocka_call_count((m), (action), (n), __FILE__, __LINE__)
#define assert_ecrmock_run_count(m, action, n) ecrmock_cmocka_run_count((m), (action), (n), __FILE__, __LINE__)
#define assert_ecrmock_last_error(m, error) ecrmock_cmocka_last_error((m), (error), __FILE__, __LINE__)
#define assert_ecrmock_last_ok(m) ecrmock_cmocka_last_error((m), NULL, __FILE__, __LINE__)
#define assert_ecrmock_image_exists(m, repo, ref) \
    ecrmock_cmocka_image((m), (repo), (ref), NULL, 1, __FILE__, __LINE__)
#define assert_ecrmock_image_absent(m, repo, ref) \
    ecrmock_cmocka_image((m), (repo), (ref), NULL, 0, __FILE__, __LINE__)
#define assert_ecrmock_tag(m, repo, tag, digest) ecrmock_cmocka_image((m), (repo), (tag), (digest), 1, __FILE__, __LINE__)

static inline void ecrmock_cmocka_call_count(ecrmock *m, const char *action, unsigned long want, const char *file,
                                             int line)
{
    unsigned long got = ecrmock_call_count(m, action);
    if (got != want) {
        print_error("expected %lu call(s) of %s, found %lu\n", want, action ? action : "any action", got);
        _fail(file, line);
    }
}

static inline void ecrmock_cmocka_run_count(ecrmock *m, const char *action, unsigned long want, const char *file,
                                            int line)
{
    unsigned long got = ecrmock_run_count(m, action);
    if (got != want) {
        print_error("expected %lu run(s) of %s, found %lu (of %lu call(s))\n", want, action ? action : "any action", got,
                    ecrmock_call_count(m, action));
        _fail(file, line);
    }
}

static inline void ecrmock_cmocka_last_error(ecrmock *m, const char *want, const char *file, int line)
{
    json_t *e = ecrmock_journal_entry(m, -1, NULL);
    if (!e) {
        print_error("expected a call %s, but the journal holds none (is it enabled?)\n",
                    want ? "that failed" : "that succeeded");
        _fail(file, line);
        return;
    }
    const char *got = json_string_value(json_object_get(e, "error"));
    int ok = want ? (got && strcmp(got, want) == 0) : !got;
    if (!ok) {
        print_error("expected the last call to %s%s; it was %s, answered %d%s%s\n", want ? "fail with " : "succeed",
                    want ? want : "", json_string_value(json_object_get(e, "action")),
                    (int)json_integer_value(json_object_get(e, "status")), got ? " " : "", got ? got : "");
        json_decref(e);
        _fail(file, line);
        return;
    }
    json_decref(e);
}

/* Finds `ref` (a tag, or a digest "algo:hex") among the images; with
 * `digest`, the tag must point at it. */
static inline void ecrmock_cmocka_image(ecrmock *m, const char *repo, const char *ref, const char *digest, int want,
                                        const char *file, int line)
{
    ecrmock_err err;
    json_t *images = ecrmock_images(m, NULL, repo, &err);
    if (!images) {
        print_error("%s\n", err.text);
        _fail(file, line);
        return;
    }
    const char *found = NULL;
    size_t i, k;
    json_t *img, *tag;
    json_array_foreach(images, i, img) {
        const char *d = json_string_value(json_object_get(img, "imageDigest"));
        if (strcmp(d, ref) == 0)
            found = d;
        json_array_foreach(json_object_get(img, "imageTags"), k, tag) if (strcmp(json_string_value(tag), ref) == 0)
            found = d;
    }
    int ok = want ? found && (!digest || strcmp(found, digest) == 0) : !found;
    if (!ok) {
        if (!want)
            print_error("expected no image '%s' in repository '%s', found %s\n", ref, repo, found);
        else if (found)
            print_error("tag '%s' in repository '%s' points at %s, not %s\n", ref, repo, found, digest);
        else
            print_error("no image '%s' in repository '%s'; it holds:%s\n", ref, repo,
                        json_array_size(images) ? "" : " nothing");
        json_array_foreach(images, i, img) {
            char *tags = json_dumps(json_object_get(img, "imageTags"), JSON_COMPACT);
            print_error("  %s %s\n", json_string_value(json_object_get(img, "imageDigest")), tags ? tags : "");
            free(tags);
        }
        json_decref(images);
        _fail(file, line);
        return;
    }
    json_decref(images);
}

/* A cmocka setup: *state is a prepared fixture (const ecrmock_fixture *,
 * borrowed: it must outlive the test); it becomes a new instance made from
 * it (ecrmock_new_from_fixture), which ecrmock_cmocka_teardown_instance
 * frees.  -1 (the test is not run) with the error printed when the
 * instance cannot be made. */
static inline int ecrmock_cmocka_setup_from_fixture(void **state)
{
    ecrmock_err err;
    ecrmock *m = ecrmock_new_from_fixture((const ecrmock_fixture *)*state, &err);
    if (!m) {
        print_error("ecrmock_new_from_fixture: %s%s%s\n", err.path, err.path[0] ? ": " : "", err.text);
        return -1;
    }
    *state = m;
    return 0;
}

/* A cmocka teardown: frees the instance in *state (NULL: nothing). */
static inline int ecrmock_cmocka_teardown_instance(void **state)
{
    ecrmock_free((ecrmock *)*state);
    *state = NULL;
    return 0;
}

#endif
