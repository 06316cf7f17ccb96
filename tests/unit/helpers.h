/*
 * Shared helpers for ecrmock's cmocka tests: a fresh instance per test, calls
 * written as JSON text, the push steps most tests need, and the checks many
 * files make (an error's exact type and text, a listing, state unchanged).
 * Declared here, defined once in helpers.c (every test binary links it).
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
void sha256_digest(const void *p, size_t n, char out[ECRMOCK_DIGEST_SIZE]);

/* Writes the path of the build folder's tool `name` into out (cap bytes),
 * from the test binary's argv[0]: build/tests/test_x -> build/<name>, and
 * "../<name>" when argv[0] names no folder above the binary's. */
void build_tool_path(char *out, size_t cap, const char *argv0, const char *name);

/* cmocka setup/teardown: *state is a fresh instance with default options,
 * except a 1 KiB minimum part size so that multi-part tests stay small. */
int setup_mock(void **state);

int teardown_mock(void **state);

/* call() with a va_list. */
int vcall(ecrmock *m, json_t **out, const char *action, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

/* Calls `action` with a request written as JSON text (printf-style); returns
 * the status and stores the response (a new reference) in *out. */
int call(ecrmock *m, json_t **out, const char *action, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* A string member of a JSON object; NULL when absent or not a string. */
#define STR(o, k) json_string_value(json_object_get((o), (k)))

/* A string member of a JSON object; "(absent)" when absent or not a string,
 * so that assert_string_equal shows what was missing. */
const char *jstr(json_t *o, const char *key);

/* The __type of an error document, "" when there is none. */
const char *err_type(json_t *resp);

const char *err_message(json_t *resp);

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
void assert_fail_msg(int status, json_t **resp, const char *type, const char *msg);

/* Asserts a call failed with 400 RepositoryNotFoundException and ECR's exact
 * text for `repo` in `registry`, then releases *resp and sets it to NULL. */
void assert_repo_not_found(int status, json_t **resp, const char *repo, const char *registry);

/* Asserts a call failed with 400 ImageNotFoundException and ECR's exact text
 * for the imageId (`digest`, `tag`; NULL shows as 'null') in `repo` of
 * `registry`, then releases *resp and sets it to NULL. */
void assert_image_not_found(int status, json_t **resp, const char *digest, const char *tag, const char *repo,
                            const char *registry);

/* Calls `action` like call(), asserts it succeeded (status 200) and drops the
 * response. */
void call_ok(ecrmock *m, const char *action, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

void create_repo(ecrmock *m, const char *name);

/* Starts a layer upload in `repo`; asserts success and a 36-character
 * uploadId, which it copies into id (at least 37 bytes). */
void initiate_upload(ecrmock *m, const char *repo, char *id);

/* Pushes `len` bytes as a layer through the wire flow (one part); writes the
 * digest into digest_out. */
void push_layer(ecrmock *m, const char *repo, const void *bytes, size_t len, char *digest_out);

/* A Docker v2 schema 2 manifest over a config and layers already in `repo`;
 * returns a malloc'd manifest text. `salt` makes distinct manifests. */
char *make_manifest(ecrmock *m, const char *repo, int n_layers, int salt);

/* Puts a manifest with an optional tag; asserts success; returns the digest
 * (malloc'd). */
char *put_image(ecrmock *m, const char *repo, const char *manifest, const char *tag);

/* Pushes a fresh image (make_manifest with `n_layers` layers; `salt` makes it
 * distinct) with an optional tag; asserts PutImage succeeded; returns the
 * digest (malloc'd). */
char *push_new_image(ecrmock *m, const char *repo, int n_layers, int salt, const char *tag);

/* Creates the repository `repo` and pushes one fresh image into it
 * (push_new_image with `n_layers` layers, salt 1) with an optional tag;
 * returns its digest (malloc'd). */
char *new_repo_with_image(ecrmock *m, const char *repo, int n_layers, const char *tag);

/* Puts a Docker manifest list over `n` images of the repository (amd64, then
 * arm64) with an optional tag; asserts success; returns its digest (malloc'd). */
char *put_manifest_list(ecrmock *m, const char *repo, size_t n, char *const *children, const char *tag);

/* The number of repositories DescribeRepositories lists in a registry (NULL:
 * the caller's), in one page: asserts success and no nextToken. */
size_t repo_count(ecrmock *m, const char *registry);

/* The repository as DescribeRepositories shows it (a new reference). */
json_t *describe_repo(ecrmock *m, const char *name);

/* The image detail DescribeImages gives for `digest` (by id: any status);
 * asserts success and exactly one detail (a new reference). */
json_t *describe_image(ecrmock *m, const char *repo, const char *digest);

/* A resource tag list with one Key/Value pair (a new reference). */
json_t *one_tag(const char *key, const char *value);

/* What ListImages and DescribeImages show of a repository (a new reference),
 * to compare before and after a call that must change nothing. */
json_t *repo_view(ecrmock *m, const char *repo);

/* Fails when the repository's view differs from `before` (which it releases). */
void assert_repo_unchanged(ecrmock *m, const char *repo, json_t *before);

/* Fails when the instance's snapshot is not, to the letter, the snapshot
 * `before` (borrowed): `what` (named in the failure) changed the state. */
void assert_state_is(ecrmock *m, json_t *before, const char *what);

/* The answer of a call that must succeed (a new reference). */
json_t *answer_of(ecrmock *m, const char *action, const char *request);

/* Fails when `action` with `request` no longer succeeds with exactly the
 * answer `before` (from answer_of; released here). */
void assert_answer_unchanged(ecrmock *m, const char *action, const char *request, json_t *before);

/* The same successful call on two instances gets the same answer (json_equal). */
void assert_same_answer(ecrmock *a, ecrmock *b, const char *action, const char *request);

/* PutImage of `manifest` with `tag` into an immutable `repo`: asserts 400
 * ImageTagAlreadyExistsException with ECR's exact text, and that the
 * repository's images and tags did not change. */
void assert_tag_refused(ecrmock *m, const char *repo, const char *manifest, const char *tag);

/* Writes the `member` of each item of the array `list`, joined with ","
 * ("(absent)" for an item without it), into out (cap bytes); asserts it fits. */
void join_member(json_t *list, const char *member, char *out, size_t cap);

/* Calls `action` with `request` and asserts that the `member` of each item
 * of its `list`, joined with ",", is `want` (e.g. "a,b,c"). */
void assert_listed(ecrmock *m, const char *action, const char *request, const char *list, const char *member,
                   const char *want);

/* Every option of ecrmock_options, by its JSON name, with a value other than
 * its default that ecrmock_new() accepts (JSON text), and its environment
 * variable for the preload object with a value it refuses, for the tests of
 * each reader of the options table. */
typedef struct option_case {
    const char *json, *value, *env, *bad_env_value;
} option_case;
extern const option_case option_cases[];
extern const size_t option_case_count;

/* A test control's outcome by the ecrmock_err convention:
 *   assert_int_equal(ERR_CODE(ecrmock_put_layer(m, NULL, "x", "a", 1, NULL, &test_err)),
 *                    ECRMOCK_ERR_REPOSITORY_NOT_FOUND);
 * yields test_err.code after asserting that the control kept the convention:
 * -1 with a code other than OK and a text, or >= 0 with code OK, path and
 * text "".  test_err is the test's own (one thread). */
extern ecrmock_err test_err;
int err_code_checked(long rc, const ecrmock_err *err);
#define ERR_CODE(call) err_code_checked((call), &test_err)
/* &test_err holding an old failure (code, path and text set), for a call
 * that must clear it on success. */
ecrmock_err *dirty_err(void);

/* Makes a file from the mkstemp() template `path` (its XXXXXX replaced)
 * holding `text`; the caller unlinks it. */
void temp_file(char *path, const char *text);

/* Adds the fault rule written as JSON text with ecrmock_fault_add_json();
 * its id.  Fails the test, showing the error text, when the rule is refused. */
long add_fault(ecrmock *m, const char *text);

/* POSTs `body` to `action` through ecrmock_http_handle() (unsigned) with
 * Content-Type and X-Amz-Target, then the headers given as name, value, ...,
 * NULL (at most 14); ecrmock_http_handle()'s status.  The response goes to
 * *resp (the caller's to release with ecrmock_http_response_release()), or
 * is released when resp is NULL. */
int http_post(ecrmock *m, ecrmock_http_response *resp, const char *action, const char *body, ...);

/* The registry plane's Basic credentials of a fresh GetAuthorizationToken,
 * "Basic <token>" (malloc'd: free it). */
char *login(ecrmock *m);

/* Asserts response header `name` is `want` (NULL: absent). */
void assert_header(const ecrmock_http_response *r, const char *name, const char *want);

/* A socket connected to 127.0.0.1:port with a 10 s receive timeout, or -1
 * (the loopback server's tests). */
int dial(int port);

/* The monotonic clock in seconds: for the deadlines of the tests that wait
 * on another thread or the server (retry until a deadline, never a fixed
 * number of tries). */
double seconds_now(void);

/* `method` of `target` with the n headers h and `body` (NULL: none) through
 * ecrmock_http_handle(), whose status it returns; *resp the caller's to
 * release. */
int http_send(ecrmock *m, ecrmock_http_response *resp, const char *method, const char *target,
              const ecrmock_http_header *h, size_t n, const char *body);

/* {"repositoryName": repo, "x": [[[...]]]}: a tree `depth` levels deep
 * (the top object level 1), as a caller may build it past what the JSON
 * parser takes (new reference: release it with release_nested()). */
json_t *nested(const char *repo, size_t depth);

/* Releases nested()'s tree from the bottom up (jansson's release recurses too). */
void release_nested(json_t *top);

/* An allocator for ecrmock_set_alloc_funcs() that marks its blocks: its
 * free and realloc abort on a block it did not make (one freed with the
 * wrong function); it counts, on any thread, the blocks it holds and the
 * frees it made. */
void *marked_malloc(size_t n);
void *marked_realloc(void *p, size_t n);
void marked_free(void *p);
long marked_live(void);
long marked_frees(void);

#endif
