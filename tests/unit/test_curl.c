/*
 * The libcurl level (include/ecrmock_curl.h).  This test is linked with
 * -Wl,--wrap=curl_easy_* and libecrmock_curl.a, so its own libcurl calls
 * and those of examples/curl_client.c (the same source, its main renamed
 * curl_client_main) go through the interposer.  The LD_PRELOAD mode runs
 * the example as built by its authors (build/examples/curl_client, linked
 * against libcurl only) in a child process with
 * build/libecrmock_curl_preload.so preloaded; the child's instance comes
 * from a fixture file and its state comes back as a snapshot and a journal
 * file, written at exit.  No request leaves the process: ECR's hosts are
 * answered by the instance, and the pass-through tests use file:// URLs.
 */
#define _GNU_SOURCE /* setenv, mkstemp, realpath */
#include <stdbool.h>
#include "helpers.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CURL_DISABLE_TYPECHECK
#include <curl/curl.h>

#include "ecrmock_curl.h"

#include <openssl/evp.h>

#ifndef ECRMOCK_BUILD_DIR
#define ECRMOCK_BUILD_DIR "build"
#endif

#define AKID "AKIDEXAMPLE"
#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define API "https://api.ecr.us-east-1.amazonaws.com/"
#define TARGET(a) "X-Amz-Target: AmazonEC2ContainerRegistry_V20150921." a

int curl_client_main(int argc, char **argv); /* examples/curl_client.c */
int registry_pull_main(int argc, char **argv); /* examples/registry_pull.c */

/* The image examples/registry_pull.c pulls: two layers (one over libcurl's
 * 16 KiB write size), synthesised by the fixture loader with true digests. */
#define PULL_FIXTURE                                                                                               \
    "{\"registries\": [{\"repositories\": [{\"name\": \"edge-agent\", \"images\": [{\"tags\": [\"v1\"], "      \
    "\"layers\": [{\"size\": 300000, \"seed\": 7}, {\"size\": 5000, \"seed\": 8}]}]}]}]"

/* A fresh instance, attached; the example's credentials in the environment. */
static int setup_attached(void **state)
{
    ecrmock *m = ecrmock_new(NULL);
    if (!m || ecrmock_curl_attach(m) != 0)
        return -1;
    setenv("AWS_ACCESS_KEY_ID", AKID, 1);
    setenv("AWS_SECRET_ACCESS_KEY", SECRET, 1);
    *state = m;
    return 0;
}

static int teardown_attached(void **state)
{
    ecrmock_curl_strict_set(0);
    ecrmock_curl_virtual_sleep_set(0);
    ecrmock_curl_detach();
    ecrmock_free(*state);
    return 0;
}

/* SigV4 checks on, the virtual clock at the real time (the example signs
 * with time(NULL), as such code does). */
static void check_signatures(ecrmock *m)
{
    assert_int_equal(ecrmock_http_credentials_set(m, AKID, SECRET, NULL), 0);
    ecrmock_clock_set(m, (int64_t)time(NULL) * 1000, NULL);
}

/* Runs the example in this process; its progress lines (stdout) are
 * dropped, its complaints (stderr) stay visible. */
static int run_example(void)
{
    char *argv[] = {"curl_client", NULL};
    fflush(stdout);
    int saved = dup(1), null = open("/dev/null", O_WRONLY);
    assert_true(saved >= 0 && null >= 0);
    dup2(null, 1);
    close(null);
    int rc = curl_client_main(1, argv);
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    return rc;
}

/* The image edge-agent:v1 is in the instance, with the example's layers. */
static void assert_pushed(ecrmock *m)
{
    json_t *images = ecrmock_images(m, NULL, "edge-agent", NULL);
    assert_non_null(images);
    char *text = json_dumps(images, JSON_COMPACT);
    assert_non_null(strstr(text, "\"v1\""));
    free(text);
    json_decref(images);
}

/* ---- the example, --wrap --------------------------------------------------------- */

static void test_example_flows_wrap(void **state)
{
    ecrmock *m = *state;
    check_signatures(m);
    assert_int_equal(run_example(), 0);
    assert_pushed(m);
    assert_int_equal(ecrmock_call_count(m, "GetAuthorizationToken"), 1);
    assert_int_equal(ecrmock_call_count(m, "InitiateLayerUpload"), 2);
    assert_int_equal(ecrmock_call_count(m, "UploadLayerPart"), 2);
    assert_int_equal(ecrmock_call_count(m, "CompleteLayerUpload"), 2);
    assert_int_equal(ecrmock_call_count(m, "PutImage"), 1);
    assert_int_equal(ecrmock_call_count(m, "BatchGetImage"), 1);
    assert_int_equal(ecrmock_call_count(m, "GetDownloadUrlForLayer"), 1);
    /* Run again: the repository exists, the tag points at the same image. */
    assert_int_equal(run_example(), 0);
    assert_int_equal(ecrmock_call_count(m, "InitiateLayerUpload"), 2); /* the layers were there */
    assert_int_equal(ecrmock_call_count(m, "PutImage"), 2);
}

/* The fake's time moving (a 10-minute latency rule here; a virtual sleep
 * alike) and code that signs with time(NULL): with a pinned clock the next
 * signatures are out of SigV4's 5 minutes and the example fails; in wall
 * mode the move is an offset, SigV4 checks the system clock, and it pushes. */
static void test_example_signs_after_clock_moves_wall(void **state)
{
    ecrmock *m = *state;
    const char *rule = "{\"count\": 1, \"effect\": \"latency\", \"latencyMs\": 600000}";
    check_signatures(m); /* pinned at the real time */
    add_fault(m, rule);
    assert_int_equal(run_example(), 1);
    ecrmock_reset(m);
    assert_int_equal(ecrmock_clock_mode_set(m, ECRMOCK_CLOCK_WALL, NULL), 0);
    add_fault(m, rule);
    assert_int_equal(run_example(), 0);
    assert_pushed(m);
    /* The system clock read first: the fake's, read after it, is at least
     * the 10 minutes ahead of it (read the other way round, a second
     * between the two reads was taken for the offset). */
    int64_t system_ms = (int64_t)time(NULL) * 1000;
    assert_true(ecrmock_clock_now(m) - system_ms >= 600000);
}

/* examples/registry_pull.c, --wrap: logs in, pulls edge-agent:v1 from the
 * registry host (manifest HEAD and GET, three blobs through their 307s),
 * every digest checked; each request journaled on the registry plane. */
static void test_registry_pull_wrap(void **state)
{
    ecrmock *m = *state;
    check_signatures(m);
    ecrmock_err err;
    if (ecrmock_fixture_load_string(m, PULL_FIXTURE "}", "pull", &err) != 0)
        fail_msg("%s: %s", err.path, err.text);
    ecrmock_journal_enable(m, 1);
    char *argv[] = {"registry_pull", NULL};
    fflush(stdout);
    assert_int_equal(registry_pull_main(1, argv), 0);
    assert_int_equal(ecrmock_call_count(m, "GetAuthorizationToken"), 1);
    assert_int_equal(ecrmock_call_count(m, "BatchGetImage"), 2); /* the HEAD, the GET */
    assert_int_equal(ecrmock_call_count(m, "GetDownloadUrlForLayer"), 3); /* the config, two layers */
    json_t *e = ecrmock_journal_entry(m, 1, NULL);
    assert_string_equal(json_string_value(json_object_get(e, "action")), "BatchGetImage");
    assert_string_equal(json_string_value(json_object_get(e, "plane")), "registry");
    json_decref(e);

    /* A tag the repository lacks: the registry's error, exit 1. */
    char *missing[] = {"registry_pull", "edge-agent:v2", NULL};
    assert_int_equal(registry_pull_main(2, missing), 1);
}

/* A push recorded at the libcurl level replays with ecrmock-run, at the JSON
 * level: the x-amzn-RequestId of each HTTP answer draws from a stream of its
 * own, so the upload ids are the ones a JSON-level run hands out. */
static void test_example_recording_replays_wrap(void **state)
{
    ecrmock *m = *state;
    check_signatures(m);
    assert_int_equal(run_example(), 0);
    json_t *sc = ecrmock_scenario_record(m, NULL, NULL);
    assert_non_null(sc);
    char path[] = "/tmp/ecrmock-curl-rec-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(json_dump_file(sc, path, JSON_INDENT(1)), 0);
    json_decref(sc);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s/ecrmock-run %s 2>&1", ECRMOCK_BUILD_DIR, path);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    static char out[65536];
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    unlink(path);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        fail_msg("the recording does not replay:\n%s", out);
}

/* The journal keeps what the client sent at the libcurl level: its
 * User-Agent, Content-Type and signature headers (the signature elided). */
static void test_example_headers_journaled_wrap(void **state)
{
    ecrmock *m = *state;
    check_signatures(m);
    assert_int_equal(run_example(), 0);
    json_t *e = ecrmock_journal_entry(m, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(e, "action")), "GetAuthorizationToken");
    json_t *h = json_object_get(e, "headers");
    assert_string_equal(json_string_value(json_object_get(h, "user-agent")), "curl_client/1.0");
    assert_string_equal(json_string_value(json_object_get(h, "content-type")), "application/x-amz-json-1.1");
    assert_string_equal(json_string_value(json_object_get(h, "host")), "api.ecr.us-east-1.amazonaws.com");
    assert_string_equal(json_string_value(json_object_get(h, "x-amz-target")),
                        "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken");
    const char *auth = json_string_value(json_object_get(h, "authorization"));
    assert_non_null(auth);
    assert_non_null(strstr(auth, "Credential=" AKID "/"));
    assert_non_null(strstr(auth, "Signature=<elided>"));
    assert_non_null(json_object_get(h, "x-amz-date"));
    json_decref(e);
    /* a rule on a header: this client's User-Agent meets a 503 once, and
     * its retry loop gets through */
    json_t *rule = json_pack("{s:s, s:{s:s}, s:s, s:i}", "action", "PutImage", "headers", "User-Agent",
                             "curl_client/1.0", "error", "ServiceUnavailableException", "count", 1);
    long id = ecrmock_fault_add_json(m, rule, NULL);
    json_decref(rule);
    assert_true(id > 0);
    assert_int_equal(run_example(), 0);
    assert_int_equal(ecrmock_fault_fired(m, id), 1);
}

/* A signer with the wrong secret: ECR's 400, and the client gives up before
 * anything reaches an action. */
static void test_example_wrong_secret_wrap(void **state)
{
    ecrmock *m = *state;
    check_signatures(m);
    setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret", 1);
    assert_int_equal(run_example(), 1);
    assert_int_equal(ecrmock_journal_length(m), 0);
    /* The same request signed right goes through: it was the secret. */
    setenv("AWS_SECRET_ACCESS_KEY", SECRET, 1);
    assert_int_equal(run_example(), 0);
}

/* The example's retry loop against transport faults: one refused
 * connection is retried; a receive error on BatchGetImage (the action ran,
 * the answer was lost) too; a timeout on every attempt makes it give up. */
static void test_example_transport_faults_wrap(void **state)
{
    ecrmock *m = *state;
    ecrmock_fault f = ECRMOCK_FAULT_INIT;
    f.action = "PutImage";
    f.effect = ECRMOCK_FAULT_CONNECT_REFUSED;
    f.count = 1;
    long refused = ecrmock_fault_add(m, &f, NULL);
    f.action = "BatchGetImage";
    f.effect = ECRMOCK_FAULT_RECV_ERROR;
    long lost = ecrmock_fault_add(m, &f, NULL);
    ecrmock_curl_virtual_sleep_set(1); /* the backoffs move the clock, not the test's time */
    int64_t start = ecrmock_clock_now(m);
    assert_int_equal(run_example(), 0);
    assert_int_equal(ecrmock_clock_now(m) - start, 2000); /* one 1 s backoff for each fault */
    assert_int_equal(ecrmock_fault_fired(m, refused), 1);
    assert_int_equal(ecrmock_fault_fired(m, lost), 1);
    /* the refused PutImage never reached ECR: one call, one run; both
     * BatchGetImage calls ran, the first one's answer was lost */
    assert_int_equal(ecrmock_call_count(m, "PutImage"), 1);
    assert_int_equal(ecrmock_run_count(m, "PutImage"), 1);
    assert_int_equal(ecrmock_call_count(m, "BatchGetImage"), 2);
    assert_int_equal(ecrmock_run_count(m, "BatchGetImage"), 2);
    json_t *journal = ecrmock_journal_json(m, NULL);
    size_t i, refusals = 0, losses = 0;
    json_t *e;
    json_array_foreach(journal, i, e) {
        const char *effect = json_string_value(json_object_get(e, "effect"));
        if (effect && strcmp(effect, "connect-refused") == 0) {
            refusals++;
            assert_string_equal(json_string_value(json_object_get(e, "action")), "PutImage");
            assert_true(json_is_false(json_object_get(e, "ran")));
        } else if (effect && strcmp(effect, "recv-error") == 0) {
            losses++;
            assert_string_equal(json_string_value(json_object_get(e, "action")), "BatchGetImage");
            assert_true(json_is_true(json_object_get(e, "ran")));
        }
    }
    json_decref(journal);
    assert_int_equal(refusals, 1);
    assert_int_equal(losses, 1);

    ecrmock_fault_clear(m);
    f.action = "GetAuthorizationToken";
    f.effect = ECRMOCK_FAULT_TIMEOUT;
    f.count = 0;
    long always = ecrmock_fault_add(m, &f, NULL);
    start = ecrmock_clock_now(m);
    assert_int_equal(run_example(), 1);
    assert_int_equal(ecrmock_fault_fired(m, always), 3); /* MAX_ATTEMPTS */
    assert_int_equal(ecrmock_clock_now(m) - start, 1000 + 2000);
}

/* Staged with virtual sleeping: the upload id expires while the client backs
 * off.  Two 500s on UploadLayerPart make the example wait 1 s, then 2 s; with
 * uploads that live 2.5 s unused, the third attempt finds the upload gone,
 * as ECR would answer it. */
static void test_example_upload_expires_while_backing_off(void **state)
{
    (void)state;
    ecrmock_options o = ECRMOCK_OPTIONS_INIT;
    o.upload_lifetime_ms = 2500;
    ecrmock *m = ecrmock_new(&o);
    assert_non_null(m);
    assert_int_equal(ecrmock_curl_attach(m), 0);
    ecrmock_curl_virtual_sleep_set(1);
    ecrmock_fault f = ECRMOCK_FAULT_INIT;
    f.action = "UploadLayerPart";
    f.error = "ServerException";
    f.status = 500;
    f.count = 2;
    long rule = ecrmock_fault_add(m, &f, NULL);
    assert_true(rule > 0);
    assert_int_equal(run_example(), 1);
    assert_int_equal(ecrmock_fault_fired(m, rule), 2);
    json_t *e = ecrmock_journal_entry(m, -1, NULL);
    assert_string_equal(json_string_value(json_object_get(e, "action")), "UploadLayerPart");
    assert_string_equal(json_string_value(json_object_get(e, "error")), "UploadNotFoundException");
    json_decref(e);
    assert_int_equal(ecrmock_clock_now(m) - ECRMOCK_DEFAULT_CLOCK_MS, 3000);

    /* The same with uploads that outlive the backoff: the push goes through. */
    ecrmock_curl_detach();
    ecrmock_free(m);
    o.upload_lifetime_ms = 3001;
    m = ecrmock_new(&o);
    assert_int_equal(ecrmock_curl_attach(m), 0);
    rule = ecrmock_fault_add(m, &f, NULL);
    assert_int_equal(run_example(), 0);
    assert_int_equal(ecrmock_fault_fired(m, rule), 2);
    assert_pushed(m);
    ecrmock_curl_detach();
    ecrmock_free(m);
}

/* A malform rule on `action` whose body is `size` - 1 bytes of `fill`
 * (written into buf[size], which ends in a NUL). */
static void malform_with(ecrmock *m, const char *action, char *buf, size_t size, char fill)
{
    memset(buf, fill, size - 1);
    buf[size - 1] = '\0';
    ecrmock_fault f = ECRMOCK_FAULT_INIT;
    f.action = action;
    f.effect = ECRMOCK_FAULT_MALFORM;
    f.body = buf;
    assert_true(ecrmock_fault_add(m, &f, NULL) > 0);
}

/* An answer bigger than the example's fixed buffer: its write callback
 * takes less than it is given and libcurl (here the interposer) ends the
 * transfer with CURLE_WRITE_ERROR; the example fails. */
static void test_example_short_write_wrap(void **state)
{
    ecrmock *m = *state;
    static char big[40000];
    malform_with(m, "GetAuthorizationToken", big, sizeof big, 'x');
    assert_int_equal(run_example(), 1);
    assert_int_equal(ecrmock_call_count(m, "CreateRepository"), 0);
}

/* ---- the contract, call by call ---------------------------------------------------------- */

typedef struct sink {
    char data[65536];
    size_t len, calls, max_chunk, limit; /* limit: take no more than that (0: all) */
} sink;

static size_t sink_write(char *p, size_t size, size_t n, void *user)
{
    sink *s = user;
    size_t bytes = size * n;
    s->calls++;
    if (bytes > s->max_chunk)
        s->max_chunk = bytes;
    if ((s->limit && s->len + bytes > s->limit) || s->len + bytes >= sizeof s->data)
        return 0;
    memcpy(s->data + s->len, p, bytes);
    s->len += bytes;
    s->data[s->len] = '\0';
    return bytes;
}

/* An unsigned API call on `h`: POST with the JSON content type and target. */
static struct curl_slist *api_headers(const char *target_header)
{
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/x-amz-json-1.1");
    return curl_slist_append(h, target_header);
}

static void test_headers_getinfo_private(void **state)
{
    (void)state;
    CURL *c = curl_easy_init();
    assert_non_null(c);
    sink body = {0}, heads = {0};
    int marker;
    struct curl_slist *h = api_headers(TARGET("CreateRepository"));
    curl_easy_setopt(c, CURLOPT_URL, API);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, "{\"repositoryName\":\"web\"}");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, sink_write);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &heads);
    curl_easy_setopt(c, CURLOPT_PRIVATE, &marker);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 5L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    assert_int_equal(curl_easy_perform(c), CURLE_OK);

    long code = 0;
    char *ct = NULL, *url = NULL;
    void *priv = NULL;
    curl_off_t down = 0;
    assert_int_equal(curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code), CURLE_OK);
    assert_int_equal(code, 200);
    assert_int_equal(curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct), CURLE_OK);
    assert_string_equal(ct, "application/x-amz-json-1.1");
    assert_int_equal(curl_easy_getinfo(c, CURLINFO_EFFECTIVE_URL, &url), CURLE_OK);
    assert_string_equal(url, API);
    assert_int_equal(curl_easy_getinfo(c, CURLINFO_PRIVATE, &priv), CURLE_OK);
    assert_ptr_equal(priv, &marker);
    assert_int_equal(curl_easy_getinfo(c, CURLINFO_SIZE_DOWNLOAD_T, &down), CURLE_OK);
    assert_int_equal(down, body.len);
    assert_non_null(strstr(body.data, "\"repositoryName\":\"web\""));

    /* The header callback: the status line, one call per header, the blank line. */
    assert_int_equal(strncmp(heads.data, "HTTP/1.1 200 OK\r\n", 17), 0);
    assert_non_null(strstr(heads.data, "\r\nx-amzn-RequestId: "));
    assert_non_null(strstr(heads.data, "\r\nContent-Type: application/x-amz-json-1.1\r\n"));
    char cl[64];
    snprintf(cl, sizeof cl, "\r\nContent-Length: %zu\r\n", body.len);
    assert_non_null(strstr(heads.data, cl));
    assert_int_equal(strcmp(heads.data + heads.len - 4, "\r\n\r\n"), 0);
    assert_int_equal(heads.calls, 5); /* status, 3 headers, blank line */

    /* The same handle again: the repository exists now. */
    body.len = 0;
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    assert_int_equal(code, 400);
    assert_non_null(strstr(body.data, "RepositoryAlreadyExistsException"));

    /* FAILONERROR: the 400 becomes CURLE_HTTP_RETURNED_ERROR, the body unread. */
    char err[CURL_ERROR_SIZE] = "";
    body.len = 0;
    body.calls = 0;
    curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);
    assert_int_equal(curl_easy_perform(c), CURLE_HTTP_RETURNED_ERROR);
    assert_string_equal(err, "The requested URL returned error: 400");
    assert_int_equal(body.calls, 0);
    curl_easy_cleanup(c);
    curl_slist_free_all(h);
}

/* libcurl's own Content-Type for POSTFIELDS is the form type, which AWS's
 * JSON front end does not take: what the real service answers a client that
 * forgot its Content-Type header. */
static void test_default_content_type(void **state)
{
    ecrmock *m = *state;
    CURL *c = curl_easy_init();
    sink body = {0};
    struct curl_slist *h = curl_slist_append(NULL, TARGET("DescribeRepositories"));
    curl_easy_setopt(c, CURLOPT_URL, API);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, "{}");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    assert_int_equal(code, 404);
    assert_string_equal(body.data, "<UnknownOperationException/>\n");
    assert_int_equal(ecrmock_journal_length(m), 0);

    /* "Content-Type:" with no value removes libcurl's header: a body with no
     * type at all is refused the same way. */
    struct curl_slist *h2 = curl_slist_append(NULL, TARGET("DescribeRepositories"));
    h2 = curl_slist_append(h2, "Content-Type:");
    body.len = 0;
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h2);
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    assert_int_equal(code, 404);
    curl_easy_cleanup(c);
    curl_slist_free_all(h);
    curl_slist_free_all(h2);
}

typedef struct source {
    const char *data;
    size_t len, off, step;
} source;

static size_t source_read(char *buf, size_t size, size_t n, void *user)
{
    source *s = user;
    size_t room = size * n, left = s->len - s->off;
    size_t k = left < room ? left : room;
    if (s->step && k > s->step)
        k = s->step;
    memcpy(buf, s->data + s->off, k);
    s->off += k;
    return k;
}

static size_t abort_read(char *buf, size_t size, size_t n, void *user)
{
    (void)buf, (void)size, (void)n, (void)user;
    return CURL_READFUNC_ABORT;
}

/* A POST whose body comes from READFUNCTION, a few bytes per call; a
 * CUSTOMREQUEST method ECR's front end does not take; an aborting reader. */
static void test_read_callback_and_custom_request(void **state)
{
    ecrmock *m = *state;
    CURL *c = curl_easy_init();
    sink body = {0};
    const char *json = "{\"repositoryName\":\"streamed\"}";
    source src = {json, strlen(json), 0, 5};
    struct curl_slist *h = api_headers(TARGET("CreateRepository"));
    curl_easy_setopt(c, CURLOPT_URL, API);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, source_read);
    curl_easy_setopt(c, CURLOPT_READDATA, &src);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)src.len);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    assert_int_equal(code, 200);
    assert_int_equal(ecrmock_call_count(m, "CreateRepository"), 1);

    /* PUT instead of POST: AWS's JSON front end answers 404. */
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "PUT");
    src.off = 0;
    body.len = 0;
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    assert_int_equal(code, 404);
    assert_string_equal(body.data, "<UnknownOperationException/>\n");

    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, NULL);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, abort_read);
    assert_int_equal(curl_easy_perform(c), CURLE_ABORTED_BY_CALLBACK);
    assert_int_equal(ecrmock_call_count(m, "CreateRepository"), 1);
    curl_easy_cleanup(c);
    curl_slist_free_all(h);
}

/* A body bigger than CURL_MAX_WRITE_SIZE arrives in several calls, none
 * bigger than that; a callback that takes less ends it with
 * CURLE_WRITE_ERROR and libcurl's text. */
static void test_chunks_and_short_write(void **state)
{
    ecrmock *m = *state;
    static char big[40001];
    malform_with(m, "DescribeRepositories", big, sizeof big, 'y');

    CURL *c = curl_easy_init();
    static sink body;
    memset(&body, 0, sizeof body);
    struct curl_slist *h = api_headers(TARGET("DescribeRepositories"));
    curl_easy_setopt(c, CURLOPT_URL, API);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, "{}");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    assert_int_equal(body.len, 40000);
    assert_int_equal(body.calls, 3);
    assert_int_equal(body.max_chunk, CURL_MAX_WRITE_SIZE);

    char err[CURL_ERROR_SIZE];
    memset(&body, 0, sizeof body);
    body.limit = 20000; /* the second chunk does not fit */
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);
    assert_int_equal(curl_easy_perform(c), CURLE_WRITE_ERROR);
    assert_string_equal(err, "Failed writing body (0 != 16384)");
    assert_int_equal(body.calls, 2);
    curl_off_t down = -1;
    curl_easy_getinfo(c, CURLINFO_SIZE_DOWNLOAD_T, &down);
    assert_int_equal(down, CURL_MAX_WRITE_SIZE);
    curl_easy_cleanup(c);
    curl_slist_free_all(h);
}

/* Each transport effect: its CURLcode and libcurl's text, no response, no
 * callback; a refused connection or a timeout never ran the action, a
 * receive error did. */
static void test_transport_faults(void **state)
{
    ecrmock *m = *state;
    static const struct {
        ecrmock_fault_effect effect;
        CURLcode rc;
        const char *text;
        int ran;
    } cases[] = {
        {ECRMOCK_FAULT_CONNECT_REFUSED, CURLE_COULDNT_CONNECT,
         "Failed to connect to api.ecr.us-east-1.amazonaws.com port 443 after 0 ms: Couldn't connect to server", 0},
        {ECRMOCK_FAULT_TIMEOUT, CURLE_OPERATION_TIMEDOUT,
         "Operation timed out after 0 milliseconds with 0 bytes received (an ecrmock fault rule)", 0},
        {ECRMOCK_FAULT_RECV_ERROR, CURLE_RECV_ERROR, "Recv failure: Connection reset by peer", 1},
    };
    CURL *c = curl_easy_init();
    struct curl_slist *h = api_headers(TARGET("CreateRepository"));
    for (size_t i = 0; i < 3; i++) {
        char repo[32], body[64], err[CURL_ERROR_SIZE] = "";
        snprintf(repo, sizeof repo, "faulty-%zu", i);
        snprintf(body, sizeof body, "{\"repositoryName\":\"%s\"}", repo);
        ecrmock_fault f = ECRMOCK_FAULT_INIT;
        f.action = "CreateRepository";
        f.effect = cases[i].effect;
        f.count = 1;
        long id = ecrmock_fault_add(m, &f, NULL);
        sink out = {0}, heads = {0};
        curl_easy_setopt(c, CURLOPT_URL, API);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
        curl_easy_setopt(c, CURLOPT_COPYPOSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink_write);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &out);
        curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, sink_write);
        curl_easy_setopt(c, CURLOPT_HEADERDATA, &heads);
        curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);
        assert_int_equal(curl_easy_perform(c), cases[i].rc);
        assert_string_equal(err, cases[i].text);
        assert_int_equal(out.calls + heads.calls, 0);
        long code = -1;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
        assert_int_equal(code, 0);
        assert_int_equal(ecrmock_fault_fired(m, id), 1);
        json_t *r = NULL;
        int st = call(m, &r, "DescribeRepositories", "{\"repositoryNames\": [\"%s\"]}", repo);
        assert_int_equal(st, cases[i].ran ? 200 : 400);
        json_decref(r);
        /* The retry gets through (COPYPOSTFIELDS kept its copy). */
        memset(&out, 0, sizeof out);
        assert_int_equal(curl_easy_perform(c), CURLE_OK);
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
        assert_int_equal(code, cases[i].ran ? 400 : 200);
    }
    curl_easy_cleanup(c);
    curl_slist_free_all(h);
}

/* A layer's download URL (the S3 bucket host) is intercepted too: Range
 * gives 206, NOBODY a HEAD with the length and no body. */
static void test_download_url(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "web");
    char digest[80], url[2048];
    char *manifest = make_manifest(m, "web", 1, 0);
    free(put_image(m, "web", manifest, "v1"));
    json_t *mf = json_loads(manifest, 0, NULL);
    snprintf(digest, sizeof digest, "%s",
             json_string_value(json_object_get(json_array_get(json_object_get(mf, "layers"), 0), "digest")));
    json_decref(mf);
    free(manifest);
    void *bytes = NULL;
    size_t size = 0;
    assert_int_equal(ecrmock_get_layer(m, NULL, "web", digest, &bytes, &size, NULL), ECRMOCK_ERR_OK);
    assert_true(size > 6);
    json_t *r = NULL;
    assert_ok(call(m, &r, "GetDownloadUrlForLayer", "{\"repositoryName\": \"web\", \"layerDigest\": \"%s\"}", digest),
              r);
    snprintf(url, sizeof url, "%s", json_string_value(json_object_get(r, "downloadUrl")));
    json_decref(r);
    assert_true(ecrmock_curl_intercepts(url));

    CURL *c = curl_easy_init();
    sink out = {0};
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &out);
    curl_easy_setopt(c, CURLOPT_RANGE, "2-5");
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    assert_int_equal(code, 206);
    assert_int_equal(out.len, 4);
    assert_memory_equal(out.data, (char *)bytes + 2, 4);
    free(bytes);

    memset(&out, 0, sizeof out);
    curl_easy_setopt(c, CURLOPT_RANGE, NULL);
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    assert_int_equal(code, 200);
    assert_int_equal(out.calls, 0);
    curl_off_t len = 0;
    curl_easy_getinfo(c, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &len);
    assert_int_equal(len, (curl_off_t)size);

    /* A tampered URL: S3's 403. */
    url[strlen(url) - 1] = url[strlen(url) - 1] == '0' ? '1' : '0';
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    assert_int_equal(code, 403);
    assert_non_null(strstr(out.data, "<Code>SignatureDoesNotMatch</Code>"));
    curl_easy_cleanup(c);
}

/* The registry host is intercepted: a manifest by tag with one Accept line
 * per type (the program's lines all sent), a blob's 307 returned as is
 * without CURLOPT_FOLLOWLOCATION (its target in CURLINFO_REDIRECT_URL) and
 * followed with it to the layer bucket, without the registry's
 * Authorization (libcurl's rule on another host), CURLOPT_MAXREDIRS kept. */
#define REGISTRY "https://123456789012.dkr.ecr.us-east-1.amazonaws.com"

static void test_registry_host_and_redirects(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "web");
    char *manifest = make_manifest(m, "web", 1, 3);
    free(put_image(m, "web", manifest, "v1"));
    json_t *mf = json_loads(manifest, 0, NULL), *r = NULL;
    char digest[80], auth[8300], blob_url[300];
    snprintf(digest, sizeof digest, "%s",
             json_string_value(json_object_get(json_array_get(json_object_get(mf, "layers"), 0), "digest")));
    json_decref(mf);
    assert_ok(call(m, &r, "GetAuthorizationToken", "{}"), r);
    snprintf(auth, sizeof auth, "Authorization: Basic %s",
             json_string_value(json_object_get(json_array_get(json_object_get(r, "authorizationData"), 0),
                                               "authorizationToken")));
    json_decref(r);
    void *bytes = NULL;
    size_t size = 0;
    assert_int_equal(ecrmock_get_layer(m, NULL, "web", digest, &bytes, &size, NULL), ECRMOCK_ERR_OK);

    struct curl_slist *h = curl_slist_append(NULL, auth);
    h = curl_slist_append(h, "Accept: application/vnd.oci.image.manifest.v1+json");
    h = curl_slist_append(h, "Accept: application/vnd.docker.distribution.manifest.v2+json");
    CURL *c = curl_easy_init();
    static sink out, head;
    memset(&out, 0, sizeof out);
    curl_easy_setopt(c, CURLOPT_URL, REGISTRY "/v2/web/manifests/v1");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &out);
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    assert_int_equal(code, 200);
    assert_string_equal(out.data, manifest);
    assert_int_equal(ecrmock_call_count(m, "BatchGetImage"), 1);

    /* A blob without FOLLOWLOCATION: the 307 itself. */
    snprintf(blob_url, sizeof blob_url, REGISTRY "/v2/web/blobs/%s", digest);
    memset(&out, 0, sizeof out);
    memset(&head, 0, sizeof head);
    curl_easy_setopt(c, CURLOPT_URL, blob_url);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, sink_write);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &head);
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    assert_int_equal(code, 307);
    char *redirect = NULL, *effective = NULL;
    curl_easy_getinfo(c, CURLINFO_REDIRECT_URL, &redirect);
    assert_non_null(redirect);
    assert_true(strncmp(redirect, "https://prod-us-east-1-starport-layer-bucket.s3.us-east-1.amazonaws.com/", 72) == 0);
    char target[2048];
    snprintf(target, sizeof target, "%s", redirect);
    long count = -1;
    curl_easy_getinfo(c, CURLINFO_REDIRECT_COUNT, &count);
    assert_int_equal(count, 0);

    /* FOLLOWLOCATION: the layer's bytes, both answers' headers, the bucket's URL. */
    memset(&out, 0, sizeof out);
    memset(&head, 0, sizeof head);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    assert_int_equal(code, 200);
    assert_int_equal(out.len, size);
    assert_memory_equal(out.data, bytes, size);
    assert_true(strncmp(head.data, "HTTP/1.1 307 Temporary Redirect\r\n", 33) == 0);
    assert_non_null(strstr(head.data, "\r\n\r\nHTTP/1.1 200 OK\r\n"));
    curl_easy_getinfo(c, CURLINFO_REDIRECT_COUNT, &count);
    assert_int_equal(count, 1);
    curl_easy_getinfo(c, CURLINFO_EFFECTIVE_URL, &effective);
    assert_string_equal(effective, target);
    curl_easy_getinfo(c, CURLINFO_REDIRECT_URL, &redirect);
    assert_null(redirect);
    assert_int_equal(ecrmock_call_count(m, "GetDownloadUrlForLayer"), 2);

    /* MAXREDIRS 0: libcurl's error, after the 307's headers. */
    char err[CURL_ERROR_SIZE];
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 0L);
    assert_int_equal(curl_easy_perform(c), CURLE_TOO_MANY_REDIRECTS);
    assert_string_equal(err, "Maximum (0) redirects followed");
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, -1L);

    /* With UNRESTRICTED_AUTH, the registry's Authorization goes to the
     * bucket too, which S3 refuses beside a pre-signed query (so the 200
     * above went without it). */
    curl_easy_setopt(c, CURLOPT_UNRESTRICTED_AUTH, 1L);
    memset(&out, 0, sizeof out);
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    assert_int_equal(code, 400);
    assert_non_null(strstr(out.data, "<Code>InvalidArgument</Code><Message>Only one auth mechanism allowed;"));
    curl_easy_cleanup(c);
    curl_slist_free_all(h);
    free(bytes);
    free(manifest);
}

/* CURLOPT_USERPWD "AWS:<password>" is HTTP Basic on the registry, as
 * `curl -u AWS:$(aws ecr get-login-password)` sends it: up front with
 * libcurl's default CURLAUTH_BASIC, after the 401's Basic challenge with
 * CURLAUTH_ANY, never with a mask without Basic; USERNAME and PASSWORD
 * likewise; not sent on to the layer bucket. */
static void test_registry_userpwd(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "web");
    char *manifest = make_manifest(m, "web", 1, 4);
    free(put_image(m, "web", manifest, "v1"));
    json_t *r = NULL;
    assert_ok(call(m, &r, "GetAuthorizationToken", "{}"), r);
    const char *token = json_string_value(
        json_object_get(json_array_get(json_object_get(r, "authorizationData"), 0), "authorizationToken"));
    unsigned char plain[8192];
    int plen = EVP_DecodeBlock(plain, (const unsigned char *)token, (int)strlen(token));
    assert_true(plen > 4);
    plain[plen] = '\0';
    char *userpwd = strdup((char *)plain); /* AWS:<password> */
    json_decref(r);
    static const struct {
        long auth; /* 0: libcurl's default */
        int split; /* USERNAME and PASSWORD instead of USERPWD */
        long status;
        const char *first; /* the first status line the header callback gets */
    } cases[] = {{0, 0, 200, "HTTP/1.1 200 OK\r\n"},
                 {(long)CURLAUTH_ANY, 0, 200, "HTTP/1.1 401 Unauthorized\r\n"},
                 {0, 1, 200, "HTTP/1.1 200 OK\r\n"},
                 {(long)CURLAUTH_DIGEST, 0, 401, "HTTP/1.1 401 Unauthorized\r\n"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        CURL *c = curl_easy_init();
        static sink out, head;
        memset(&out, 0, sizeof out);
        memset(&head, 0, sizeof head);
        curl_easy_setopt(c, CURLOPT_URL, REGISTRY "/v2/web/manifests/v1");
        if (cases[i].split) {
            char *colon = strchr(userpwd, ':');
            *colon = '\0';
            curl_easy_setopt(c, CURLOPT_USERNAME, userpwd);
            curl_easy_setopt(c, CURLOPT_PASSWORD, colon + 1);
            *colon = ':';
        } else {
            curl_easy_setopt(c, CURLOPT_USERPWD, userpwd);
        }
        if (cases[i].auth)
            curl_easy_setopt(c, CURLOPT_HTTPAUTH, cases[i].auth);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink_write);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &out);
        curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, sink_write);
        curl_easy_setopt(c, CURLOPT_HEADERDATA, &head);
        assert_int_equal(curl_easy_perform(c), CURLE_OK);
        long code = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
        if (code != cases[i].status)
            fail_msg("case %zu: %ld %s", i, code, out.data);
        if (code == 200)
            assert_string_equal(out.data, manifest);
        /* CURLAUTH_ANY: the 401's headers, then the 200's, as libcurl hands them over. */
        assert_int_equal(strncmp(head.data, cases[i].first, strlen(cases[i].first)), 0);
        assert_int_equal(strstr(head.data, "HTTP/1.1 200 ") != NULL, cases[i].status == 200);
        curl_easy_cleanup(c);
    }

    /* Followed to the bucket: the credentials stay on the registry (S3
     * would refuse them beside the pre-signed query). */
    json_t *mf = json_loads(manifest, 0, NULL);
    char url[300];
    snprintf(url, sizeof url, REGISTRY "/v2/web/blobs/%s",
             json_string_value(json_object_get(json_array_get(json_object_get(mf, "layers"), 0), "digest")));
    json_decref(mf);
    CURL *c = curl_easy_init();
    static sink out;
    memset(&out, 0, sizeof out);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_USERPWD, userpwd);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &out);
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    assert_int_equal(code, 200);
    assert_string_equal(out.data, "layer 0 of image 4");
    curl_easy_setopt(c, CURLOPT_UNRESTRICTED_AUTH, 1L);
    memset(&out, 0, sizeof out);
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    assert_int_equal(code, 400);
    curl_easy_cleanup(c);
    free(userpwd);
    free(manifest);
}

static void test_which_hosts(void **state)
{
    (void)state;
    static const struct {
        const char *url;
        int yes;
    } cases[] = {
        {"https://api.ecr.us-east-1.amazonaws.com/", 1},
        {"https://API.ECR.eu-west-1.amazonaws.com", 1},
        {"https://ecr.ap-southeast-2.amazonaws.com/", 1},
        {"https://ecr.us-west-2.api.aws/", 1},
        {"https://ecr-fips.us-gov-west-1.amazonaws.com/", 1},
        {"https://api.ecr-fips.us-east-1.amazonaws.com/", 1},
        {"https://api.ecr.cn-north-1.amazonaws.com.cn/", 1},
        {"https://ecr.cn-north-1.api.amazonwebservices.com.cn/", 1},
        {"https://ecr-fips.us-east-1.api.aws/", 1},
        {"https://api.ecr.us-east-1.amazonaws.com./", 1}, /* the root's dot: the same host */
        {"api.ecr.us-east-1.amazonaws.com/", 1}, /* no scheme: libcurl guesses http:// */
        {"https://api.ecr.us-east-1.amazonaws.com../", 0},
        {"https://api.ecr..amazonaws.com/", 0},
        {"https://api.ecr.US_EAST.amazonaws.com/", 0},
        {"http://api.ecr.us-east-1.amazonaws.com:8443/", 1},
        {"https://prod-us-east-1-starport-layer-bucket.s3.us-east-1.amazonaws.com/x/y", 1},
        {"https://123456789012.dkr.ecr.us-east-1.amazonaws.com/v2/", 1}, /* a registry host (issue 17) */
        {"https://123456789012.DKR.ecr.eu-west-1.amazonaws.com/v2/x/manifests/v1", 1},
        {"https://123456789012.dkr.ecr.us-east-1.amazonaws.com.evil.example/v2/", 0},
        {"https://dkr.ecr.us-east-1.amazonaws.com/v2/", 0}, /* no account */
        {"https://api.ecr.us-east-1.amazonaws.com.evil.example/", 0},
        {"https://s3.us-east-1.amazonaws.com/", 0},
        {"https://example.com/", 0},
        {"file:///tmp/x", 0},
        {"ftp://api.ecr.us-east-1.amazonaws.com/", 0},
        {"not a url", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (ecrmock_curl_intercepts(cases[i].url) != cases[i].yes)
            fail_msg("%s: expected %d", cases[i].url, cases[i].yes);
    assert_int_equal(ecrmock_curl_intercepts(NULL), 0);
}

/* One unsigned call to `url`; the answer's body in *out, the status returned. */
static long call_at(const char *url, const char *target_header, const char *body, sink *out)
{
    CURL *c = curl_easy_init();
    struct curl_slist *h = api_headers(target_header);
    memset(out, 0, sizeof *out);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
    long code = -1;
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_cleanup(c);
    curl_slist_free_all(h);
    return code;
}

/* Each ECR API host form acts in the region it names, as ecrmock_call_as()
 * does: the registry GetAuthorizationToken names is that region's, and a
 * repository created there is there and not in the instance's own region. */
static void test_region_from_host(void **state)
{
    ecrmock *m = *state;
    static const struct {
        const char *url, *region;
    } cases[] = {
        {"https://api.ecr.eu-west-1.amazonaws.com/", "eu-west-1"},
        {"https://ecr.ap-southeast-2.amazonaws.com/", "ap-southeast-2"},
        {"https://ecr-fips.us-gov-west-1.amazonaws.com/", "us-gov-west-1"},
        {"https://api.ecr-fips.us-east-2.amazonaws.com/", "us-east-2"},
        {"https://ecr.us-west-2.api.aws/", "us-west-2"},                       /* dual-stack */
        {"https://ecr-fips.us-gov-east-1.api.aws/", "us-gov-east-1"},          /* FIPS and dual-stack */
        {"https://api.ecr.cn-north-1.amazonaws.com.cn/", "cn-north-1"},
        {"https://ecr.cn-northwest-1.api.amazonwebservices.com.cn/", "cn-northwest-1"},
        {"https://API.ECR.EU-CENTRAL-1.AMAZONAWS.COM:443/", "eu-central-1"},
        {"https://api.ecr.eu-north-1.amazonaws.com./", "eu-north-1"},          /* the root's dot */
        {"https://api.ecr.us-east-1.amazonaws.com/", "us-east-1"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        static sink out;
        char want[128], name[32], body[64];
        assert_int_equal(call_at(cases[i].url, TARGET("GetAuthorizationToken"), "{}", &out), 200);
        snprintf(want, sizeof want, "\"proxyEndpoint\":\"https://123456789012.dkr.ecr.%s.amazonaws.com",
                 cases[i].region);
        if (!strstr(out.data, want))
            fail_msg("%s: %s", cases[i].url, out.data);
        snprintf(name, sizeof name, "repo-%zu", i);
        snprintf(body, sizeof body, "{\"repositoryName\":\"%s\"}", name);
        assert_int_equal(call_at(cases[i].url, TARGET("CreateRepository"), body, &out), 200);
        snprintf(want, sizeof want, ":ecr:%s:123456789012:repository/%s\"", cases[i].region, name);
        if (!strstr(out.data, want))
            fail_msg("%s: %s", cases[i].url, out.data);
        /* There, and only there. */
        json_t *req = json_pack("{s:[s]}", "repositoryNames", name), *resp = NULL;
        assert_int_equal(ecrmock_call_as(m, NULL, cases[i].region, "DescribeRepositories", req, &resp), 200);
        json_decref(resp);
        int elsewhere = ecrmock_call_as(m, NULL, strcmp(cases[i].region, "us-east-1") == 0 ? "eu-west-3"
                                                                                          : "us-east-1",
                                        "DescribeRepositories", req, &resp);
        assert_int_equal(elsewhere, 400);
        json_decref(resp);
        json_decref(req);
    }
}

/* A client that signs for eu-west-1 and calls eu-west-1's endpoint is
 * answered (the scope is that region's), and its pushes land there. */
static void test_region_signature(void **state)
{
    ecrmock *m = *state;
    check_signatures(m);
    setenv("AWS_REGION", "eu-west-1", 1);
    int rc = run_example();
    unsetenv("AWS_REGION");
    assert_int_equal(rc, 0);
    json_t *req = json_pack("{s:s}", "repositoryName", "edge-agent"), *resp = NULL;
    assert_int_equal(ecrmock_call_as(m, NULL, "eu-west-1", "DescribeImages", req, &resp), 200);
    assert_int_equal(json_array_size(json_object_get(resp, "imageDetails")), 1);
    json_decref(resp);
    assert_int_equal(ecrmock_call(m, "DescribeImages", req, &resp), 400); /* not in us-east-1 */
    json_decref(resp);
    json_decref(req);
}

/* A file holding "not ECR\n" at `path` (a mkstemp template), its file:// URL
 * in url: what the real libcurl reads without any network. */
static void not_ecr_file(char *path, char *url, size_t cap)
{
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "not ECR\n", 8), 8);
    close(fd);
    snprintf(url, cap, "file://%s", path);
}

/* Everything else goes to the real libcurl, on the same handle: a file://
 * URL is read from disk (no network), the instance never hears of it. */
static void test_pass_through(void **state)
{
    ecrmock *m = *state;
    char path[] = "/tmp/ecrmock-curl-XXXXXX", url[128];
    not_ecr_file(path, url, sizeof url);

    CURL *c = curl_easy_init();
    sink out = {0};
    /* First an ECR request on the handle, then the file on the same handle. */
    struct curl_slist *h = api_headers(TARGET("DescribeRepositories"));
    curl_easy_setopt(c, CURLOPT_URL, API);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, "{}");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &out);
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    assert_int_equal(ecrmock_journal_length(m), 1);

    curl_easy_reset(c);
    memset(&out, 0, sizeof out);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &out);
    /* An option the fake does not take is fine on a pass-through request. */
    curl_easy_setopt(c, CURLOPT_COOKIE, "a=b");
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    assert_string_equal(out.data, "not ECR\n");
    char *eff = NULL;
    curl_easy_getinfo(c, CURLINFO_EFFECTIVE_URL, &eff);
    assert_string_equal(eff, url); /* libcurl's own answer */
    assert_int_equal(ecrmock_journal_length(m), 1);

    /* ... but not on an intercepted one. */
    char err[CURL_ERROR_SIZE];
    curl_easy_setopt(c, CURLOPT_URL, API);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);
    assert_int_equal(curl_easy_perform(c), CURLE_UNKNOWN_OPTION);
    assert_non_null(strstr(err, "is not supported on requests to ECR"));
    assert_int_equal(ecrmock_journal_length(m), 1);

    /* A duplicate handle carries the options; reset forgets them (no URL:
     * libcurl's own error, still no network). */
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink_write);
    memset(&out, 0, sizeof out);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &out);
    CURL *d = curl_easy_duphandle(c);
    assert_non_null(d);
    assert_int_equal(curl_easy_perform(d), CURLE_OK);
    assert_string_equal(out.data, "not ECR\n");
    curl_easy_reset(d);
    assert_int_equal(curl_easy_perform(d), CURLE_URL_MALFORMAT);

    /* Detached, nothing is intercepted (the file again: no network). */
    ecrmock_curl_detach();
    assert_null(ecrmock_curl_attached());
    memset(&out, 0, sizeof out);
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    assert_string_equal(out.data, "not ECR\n");
    assert_int_equal(ecrmock_curl_attach(m), 0);
    assert_ptr_equal(ecrmock_curl_attached(), m);
    assert_int_equal(ecrmock_curl_attach(NULL), -1);

    curl_easy_cleanup(d);
    curl_easy_cleanup(c);
    curl_slist_free_all(h);
    unlink(path);
}

/* CURLOPT_CURLU's URL wins over CURLOPT_URL, as in libcurl: an ECR URL
 * given that way is intercepted, and a file given that way is read. */
static void test_curlu(void **state)
{
    ecrmock *m = *state;
    char path[] = "/tmp/ecrmock-curl-XXXXXX", url[128];
    not_ecr_file(path, url, sizeof url);
    CURLU *u = curl_url();
    assert_int_equal(curl_url_set(u, CURLUPART_URL, "https://api.ecr.eu-west-1.amazonaws.com/", 0), CURLUE_OK);
    struct curl_slist *h = api_headers(TARGET("DescribeRepositories"));
    CURL *c = curl_easy_init();
    sink out = {0};
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CURLU, u);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, "{}");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &out);
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    assert_string_equal(out.data, "{\"repositories\":[]}");
    assert_int_equal(ecrmock_journal_length(m), 1);
    char *eff = NULL;
    curl_easy_getinfo(c, CURLINFO_EFFECTIVE_URL, &eff);
    assert_string_equal(eff, "https://api.ecr.eu-west-1.amazonaws.com/");

    /* The other way round: the file, by the real libcurl. */
    assert_int_equal(curl_url_set(u, CURLUPART_URL, url, 0), CURLUE_OK);
    curl_easy_setopt(c, CURLOPT_URL, API);
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    memset(&out, 0, sizeof out);
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    assert_string_equal(out.data, "not ECR\n");
    assert_int_equal(ecrmock_journal_length(m), 1);
    curl_easy_cleanup(c);
    curl_url_cleanup(u);
    curl_slist_free_all(h);
    unlink(path);
}

/* Strict mode: nothing that is not intercepted reaches the real libcurl.
 * A file:// URL stands for the network (the pass-through test reads it). */
static void test_strict_mode(void **state)
{
    ecrmock *m = *state;
    char path[] = "/tmp/ecrmock-curl-XXXXXX", url[128];
    not_ecr_file(path, url, sizeof url);

    ecrmock_curl_strict_set(1);
    static const struct {
        const char *url, *why;
    } refused[] = {
        {NULL, "ecrmock_curl strict mode: file:///tmp/ecrmock-curl-"}, /* the file */
        {"https://api.ecr.us-east-1.amazonaws.com.evil.example/",
         "ecrmock_curl strict mode: api.ecr.us-east-1.amazonaws.com.evil.example is not an ECR host; nothing was sent"},
        {"https://123456789012.dkr.ecr.us-east-1.amazonaws.com.evil.example/v2/",
         "ecrmock_curl strict mode: 123456789012.dkr.ecr.us-east-1.amazonaws.com.evil.example is not an ECR host; "
         "nothing was sent"},
        {"example.com/", /* no scheme: libcurl guesses http:// */
         "ecrmock_curl strict mode: example.com is not an ECR host; nothing was sent"},
        {"ftp://api.ecr.us-east-1.amazonaws.com/",
         "ecrmock_curl strict mode: ftp://api.ecr.us-east-1.amazonaws.com/ is not an http(s) URL; nothing was sent"},
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        CURL *c = curl_easy_init();
        sink out = {0};
        char err[CURL_ERROR_SIZE] = "stale";
        curl_easy_setopt(c, CURLOPT_URL, refused[i].url ? refused[i].url : url);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink_write);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &out);
        curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);
        assert_int_equal(curl_easy_perform(c), CURLE_COULDNT_RESOLVE_HOST);
        if (strncmp(err, refused[i].why, strlen(refused[i].why)) != 0)
            fail_msg("%s: %s", refused[i].url, err);
        assert_int_equal(out.calls, 0);
        long code = -1;
        assert_int_equal(curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code), CURLE_OK);
        assert_int_equal(code, 0);
        curl_easy_cleanup(c);
    }
    /* ECR's hosts are answered as before, the root's trailing dot too. */
    static sink out;
    assert_int_equal(call_at("https://api.ecr.us-east-1.amazonaws.com./", TARGET("DescribeRepositories"), "{}", &out),
                     200);
    assert_int_equal(call_at("api.ecr.us-east-1.amazonaws.com", TARGET("DescribeRepositories"), "{}", &out), 200);
    assert_int_equal(ecrmock_journal_length(m), 2);
    /* Detached, even they are refused. */
    ecrmock_curl_detach();
    CURL *c = curl_easy_init();
    char err[CURL_ERROR_SIZE];
    curl_easy_setopt(c, CURLOPT_URL, API);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);
    assert_int_equal(curl_easy_perform(c), CURLE_COULDNT_RESOLVE_HOST);
    assert_string_equal(err, "ecrmock_curl strict mode: no ecrmock instance is attached; nothing was sent");
    /* No URL at all. */
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);
    assert_int_equal(curl_easy_perform(c), CURLE_COULDNT_RESOLVE_HOST);
    assert_string_equal(err, "ecrmock_curl strict mode: no URL is set; nothing was sent");
    assert_int_equal(ecrmock_curl_attach(m), 0);

    /* Off again: the file is read by the real libcurl. */
    ecrmock_curl_strict_set(0);
    curl_easy_reset(c);
    memset(&out, 0, sizeof out);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &out);
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    assert_string_equal(out.data, "not ECR\n");
    curl_easy_cleanup(c);
    unlink(path);
}

/* Virtual sleeping: this test is linked with --wrap=nanosleep,usleep,sleep. */
static void test_virtual_sleep(void **state)
{
    ecrmock *m = *state;
    int64_t start = ecrmock_clock_now(m);
    /* Off: a real sleep, the clock stands still. */
    double t0 = seconds_now();
    assert_int_equal(usleep(20000), 0);
    assert_true(seconds_now() - t0 >= 0.019);
    assert_int_equal(ecrmock_clock_now(m), start);

    /* On: each returns sooner than it asked for, which no real sleep does
     * (the bound is each sleep's own length, not a guess at how fast a
     * loaded machine runs the three calls: 0.5 s for all, that was). */
    ecrmock_curl_virtual_sleep_set(1);
    t0 = seconds_now();
    assert_int_equal(sleep(3600), 0u);
    assert_true(seconds_now() - t0 < 3600);
    t0 = seconds_now();
    assert_int_equal(usleep(1500000), 0);
    assert_true(seconds_now() - t0 < 1.5);
    t0 = seconds_now();
    struct timespec ts = {2, 250000000L}, rem = {7, 7};
    assert_int_equal(nanosleep(&ts, &rem), 0);
    assert_true(seconds_now() - t0 < 2.25);
    /* Sub-millisecond sleeps add up: 4 x 250 us is 1 ms. */
    for (int i = 0; i < 4; i++)
        assert_int_equal(usleep(250), 0);
    assert_int_equal(ecrmock_clock_now(m) - start, 3600000 + 1500 + 2250 + 1);
    /* An invalid request is nanosleep's EINVAL, the clock untouched. */
    struct timespec bad = {1, 1000000000L};
    errno = 0;
    assert_int_equal(nanosleep(&bad, NULL), -1);
    assert_int_equal(errno, EINVAL);
    /* The longest sleep stops at the end of the clock's range. */
    struct timespec forever = {(time_t)INT64_MAX, 999999999L};
    assert_int_equal(nanosleep(&forever, NULL), 0);
    assert_true(ecrmock_clock_now(m) == ECRMOCK_CLOCK_MAX_MS);
    assert_int_equal(sleep(1), 0u);
    assert_true(ecrmock_clock_now(m) == ECRMOCK_CLOCK_MAX_MS);
    ecrmock_clock_set(m, start, NULL);

    /* Detached: real again. */
    ecrmock_curl_detach();
    t0 = seconds_now();
    assert_int_equal(usleep(20000), 0);
    assert_true(seconds_now() - t0 >= 0.019);
    assert_int_equal(ecrmock_clock_now(m), start);
    assert_int_equal(ecrmock_curl_attach(m), 0);
    ecrmock_curl_virtual_sleep_set(0);
    t0 = seconds_now();
    assert_int_equal(usleep(20000), 0);
    assert_true(seconds_now() - t0 >= 0.019);
    assert_int_equal(ecrmock_clock_now(m), start);
}

/* CURLOPT_REFERER is sent as libcurl sends it: a client that signs its
 * Referer header sees it in the canonical request the signature check
 * expected (the signature itself is wrong on purpose). */
static void test_referer_is_sent(void **state)
{
    ecrmock *m = *state;
    check_signatures(m);
    char date[32], date_h[64], auth[256];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof date, "%Y%m%dT%H%M%SZ", &tm);
    snprintf(date_h, sizeof date_h, "X-Amz-Date: %s", date);
    snprintf(auth, sizeof auth,
             "Authorization: AWS4-HMAC-SHA256 Credential=" AKID "/%.8s/us-east-1/ecr/aws4_request, "
             "SignedHeaders=host;referer;x-amz-date, Signature=%064d",
             date, 0);
    struct curl_slist *h = api_headers(TARGET("DescribeRepositories"));
    h = curl_slist_append(h, date_h);
    h = curl_slist_append(h, auth);
    CURL *c = curl_easy_init();
    sink out = {0};
    curl_easy_setopt(c, CURLOPT_URL, API);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, "{}");
    curl_easy_setopt(c, CURLOPT_REFERER, "https://example.com/from");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &out);
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    assert_non_null(strstr(out.data, "InvalidSignatureException"));
    if (!strstr(out.data, "\\nreferer:https://example.com/from\\n"))
        fail_msg("%s", out.data);
    curl_easy_cleanup(c);
    curl_slist_free_all(h);
}

/* ---- every option libcurl knows ------------------------------------------------------------- */

/* The options the interposer builds the request from (tested above, each
 * with the value it needs). */
static bool option_honoured(CURLoption id)
{
    static const CURLoption honoured[] = {
        CURLOPT_URL, CURLOPT_HTTPHEADER, CURLOPT_POST, CURLOPT_POSTFIELDS, CURLOPT_POSTFIELDSIZE,
        CURLOPT_POSTFIELDSIZE_LARGE, CURLOPT_COPYPOSTFIELDS, CURLOPT_HTTPGET, CURLOPT_READFUNCTION,
        CURLOPT_READDATA, CURLOPT_UPLOAD, CURLOPTTYPE_LONG + 54 /* PUT */, CURLOPT_INFILESIZE, CURLOPT_INFILESIZE_LARGE,
        CURLOPT_CUSTOMREQUEST, CURLOPT_NOBODY, CURLOPT_RANGE, CURLOPT_USERAGENT, CURLOPT_REFERER,
        CURLOPT_WRITEFUNCTION, CURLOPT_WRITEDATA, CURLOPT_HEADERFUNCTION, CURLOPT_HEADERDATA, CURLOPT_HEADER,
        CURLOPT_FAILONERROR, CURLOPT_ERRORBUFFER, CURLOPT_VERBOSE, CURLOPT_STDERR, CURLOPT_CURLU,
        CURLOPT_USERPWD, CURLOPT_USERNAME, CURLOPT_PASSWORD, CURLOPT_HTTPAUTH, /* Basic: test_registry_userpwd */
    };
    for (size_t i = 0; i < sizeof honoured / sizeof honoured[0]; i++)
        if (honoured[i] == id)
            return true;
    return false;
}

static int never_called(void)
{
    fail_msg("a callback the fake must not call was called");
    return 0;
}

/*
 * The whole option list of the libcurl this test runs with: each option,
 * set alone on a handle that makes one DescribeRepositories call, either
 * changes nothing (the call is answered 200) or is one of the options that
 * change what libcurl sends in a way the fake does not reproduce, which
 * fail with CURLE_UNKNOWN_OPTION and the option's name; set back to its
 * default, the call goes through again.  The proxy and TLS options an edge
 * agent sets for a proxy are among the first.
 */
static void test_every_option(void **state)
{
    ecrmock *m = *state;
    static const char *const refused_expected[] = {
        "AWS_SIGV4",      "CONNECT_ONLY", "COOKIE", "COOKIEFILE", "COOKIELIST", "CRLF",
        "HAPROXYPROTOCOL", "HTTPPOST",    "MIMEPOST", "NETRC",    "PORT",          "REQUEST_TARGET",
        "RESUME_FROM",    "RESUME_FROM_LARGE", "TIMECONDITION", "TRAILERFUNCTION", "XOAUTH2_BEARER",
    };
    bool refused_seen[sizeof refused_expected / sizeof refused_expected[0]] = {false};
    struct curl_slist *h = api_headers(TARGET("DescribeRepositories"));
    struct curl_slist *list = curl_slist_append(NULL, "X-Ecrmock-Test: 1");
    static char object[64];
    struct curl_blob blob = {object, 1, CURL_BLOB_COPY};
    size_t walked = 0, accepted = 0, calls = 0;
    const struct curl_easyoption *o = NULL;
    while ((o = curl_easy_option_next(o))) {
        if ((o->flags & CURLOT_FLAG_ALIAS) || option_honoured(o->id))
            continue;
        walked++;
        CURL *c = curl_easy_init(), *other = NULL;
        CURLSH *share = NULL;
        curl_mime *mime = NULL;
        sink out = {0};
        char err[CURL_ERROR_SIZE] = "";
        curl_easy_setopt(c, CURLOPT_URL, API);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, "{}");
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink_write);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &out);
        curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);
        CURLcode rc;
        switch (o->type) {
        case CURLOT_LONG: case CURLOT_VALUES: rc = curl_easy_setopt(c, o->id, 1L); break;
        case CURLOT_OFF_T: rc = curl_easy_setopt(c, o->id, (curl_off_t)1); break;
        case CURLOT_STRING: rc = curl_easy_setopt(c, o->id, "/nonexistent/ecrmock-test"); break;
        case CURLOT_SLIST: rc = curl_easy_setopt(c, o->id, list); break;
        case CURLOT_BLOB: rc = curl_easy_setopt(c, o->id, &blob); break;
        case CURLOT_FUNCTION: rc = curl_easy_setopt(c, o->id, never_called); break;
        default: /* objects: the real one where libcurl looks into it */
            if (o->id == CURLOPT_SHARE)
                rc = curl_easy_setopt(c, o->id, share = curl_share_init());
            else if (o->id == CURLOPT_MIMEPOST)
                rc = curl_easy_setopt(c, o->id, mime = curl_mime_init(c));
            else if (o->id == CURLOPT_STREAM_DEPENDS || o->id == CURLOPT_STREAM_DEPENDS_E)
                rc = curl_easy_setopt(c, o->id, other = curl_easy_init());
            else
                rc = curl_easy_setopt(c, o->id, (void *)object);
            break;
        }
        if (rc == CURLE_OK) { /* (libcurl's own refusal of the value comes back as it is) */
            accepted++;
            rc = curl_easy_perform(c);
            long code = 0;
            curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
            size_t k = 0, nref = sizeof refused_expected / sizeof refused_expected[0];
            while (k < nref && strcmp(refused_expected[k], o->name) != 0)
                k++;
            if (k < nref) {
                char want[128];
                snprintf(want, sizeof want, "ecrmock_curl: CURLOPT_%s is not supported on requests to ECR "
                         "(see ecrmock_curl.h)", o->name);
                if (rc != CURLE_UNKNOWN_OPTION || strcmp(err, want) != 0)
                    fail_msg("CURLOPT_%s: expected CURLE_UNKNOWN_OPTION, got %d (%s)", o->name, rc, err);
                refused_seen[k] = true;
                /* Back to its default: nothing else is sent, the call goes through. */
                if (o->type == CURLOT_LONG || o->type == CURLOT_VALUES)
                    curl_easy_setopt(c, o->id, 0L);
                else if (o->type == CURLOT_OFF_T)
                    curl_easy_setopt(c, o->id, (curl_off_t)0);
                else
                    curl_easy_setopt(c, o->id, NULL);
                rc = curl_easy_perform(c);
                curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
            }
            if (rc != CURLE_OK || code != 200)
                fail_msg("CURLOPT_%s: expected an answer 200, got %d (%s), HTTP %ld", o->name, rc, err, code);
            calls++;
            assert_int_equal(ecrmock_journal_length(m), calls);
        }
        curl_easy_cleanup(c);
        curl_easy_cleanup(other);
        curl_share_cleanup(share);
        curl_mime_free(mime);
    }
    for (size_t k = 0; k < sizeof refused_expected / sizeof refused_expected[0]; k++)
        if (!refused_seen[k])
            fail_msg("CURLOPT_%s was not refused", refused_expected[k]);
    /* The list is libcurl's (316 names on Debian 12's 7.88.1, aliases included). */
    assert_true(walked > 200);
    assert_true(accepted > walked - 20);
    curl_slist_free_all(list);
    curl_slist_free_all(h);
}

/* ---- the example, LD_PRELOAD -------------------------------------------------------- */

typedef struct child {
    int status; /* exit status, or -1 */
    char out[16384];
    json_t *snapshot, *journal;
} child;

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* Runs build/examples/<prog> with the preload object and `fixture`
 * (JSON text; "%CLOCK%" replaced by the real time), `secret` as its secret. */
static void run_preloaded_program(const char *prog, const char *fixture_text, const char *secret, child *ch)
{
    char dir[] = "/tmp/ecrmock-preload-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char fixture[256], snapshot[256], journal[256], output[256], so[PATH_MAX], exe[PATH_MAX], fx[4096];
    snprintf(fixture, sizeof fixture, "%s/fixture.json", dir);
    snprintf(snapshot, sizeof snapshot, "%s/snapshot.json", dir);
    snprintf(journal, sizeof journal, "%s/journal.json", dir);
    snprintf(output, sizeof output, "%s/output.txt", dir);
    assert_non_null(realpath(ECRMOCK_BUILD_DIR "/libecrmock_curl_preload.so", so));
    char rel[PATH_MAX];
    snprintf(rel, sizeof rel, ECRMOCK_BUILD_DIR "/examples/%s", prog);
    assert_non_null(realpath(rel, exe));
    const char *mark = strstr(fixture_text, "%CLOCK%");
    if (mark)
        snprintf(fx, sizeof fx, "%.*s%lld%s", (int)(mark - fixture_text), fixture_text, (long long)time(NULL),
                 mark + 7);
    else
        snprintf(fx, sizeof fx, "%s", fixture_text);
    write_file(fixture, fx);

    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        FILE *o = freopen(output, "w", stdout);
        if (!o || dup2(fileno(stdout), 2) < 0)
            _exit(99);
        setenv("LD_PRELOAD", so, 1);
        setenv("ECRMOCK_CURL_FIXTURE", fixture, 1);
        setenv("ECRMOCK_CURL_CREDENTIALS", AKID ":" SECRET, 1);
        setenv("ECRMOCK_CURL_SNAPSHOT", snapshot, 1);
        setenv("ECRMOCK_CURL_JOURNAL", journal, 1);
        setenv("ECRMOCK_CURL_VIRTUAL_SLEEP", "1", 1); /* the retries' backoffs: virtual time */
        setenv("AWS_ACCESS_KEY_ID", AKID, 1);
        setenv("AWS_SECRET_ACCESS_KEY", secret, 1);
#ifdef __SANITIZE_ADDRESS__
        /* The example and the preload object both carry the ASan runtime's
         * dependency; the preload object is simply listed before it. */
        setenv("ASAN_OPTIONS", "verify_asan_link_order=0:detect_leaks=1", 1);
#endif
        execl(exe, prog, (char *)NULL);
        _exit(98);
    }
    int ws = 0;
    assert_int_equal(waitpid(pid, &ws, 0), pid);
    ch->status = WIFEXITED(ws) ? WEXITSTATUS(ws) : -1;
    FILE *f = fopen(output, "r");
    size_t n = f ? fread(ch->out, 1, sizeof ch->out - 1, f) : 0;
    ch->out[n] = '\0';
    if (f)
        fclose(f);
    ch->snapshot = json_load_file(snapshot, 0, NULL);
    ch->journal = json_load_file(journal, 0, NULL);
    unlink(fixture);
    unlink(snapshot);
    unlink(journal);
    unlink(output);
    rmdir(dir);
}

static void run_preloaded(const char *fixture_text, const char *secret, child *ch)
{
    run_preloaded_program("curl_client", fixture_text, secret, ch);
}

static void child_release(child *ch)
{
    json_decref(ch->snapshot);
    json_decref(ch->journal);
}

static size_t journal_count(json_t *journal, const char *action)
{
    size_t i, n = 0;
    json_t *e;
    json_array_foreach(journal, i, e) {
        if (strcmp(json_string_value(json_object_get(e, "action")), action) == 0)
            n++;
    }
    return n;
}

/* Runs argv (a program linked with libcurl: the curl tool) with the
 * preload object and the NULL-terminated NAME=VALUE list `env`; its stdout
 * and stderr into out (cap bytes).  Returns the exit status, or -1. */
static int run_cli(char *const argv[], const char *const env[], char *out, size_t cap)
{
    char so[PATH_MAX], output[] = "/tmp/ecrmock-cli-XXXXXX";
    assert_non_null(realpath(ECRMOCK_BUILD_DIR "/libecrmock_curl_preload.so", so));
    int fd = mkstemp(output);
    assert_true(fd >= 0);
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
            _exit(99);
        setenv("LD_PRELOAD", so, 1);
        for (size_t i = 0; env[i]; i++)
            putenv((char *)env[i]);
#ifdef __SANITIZE_ADDRESS__
        setenv("ASAN_OPTIONS", "verify_asan_link_order=0:detect_leaks=0", 1);
#endif
        execvp(argv[0], argv);
        _exit(98);
    }
    int ws = 0;
    assert_int_equal(waitpid(pid, &ws, 0), pid);
    ssize_t n = pread(fd, out, cap - 1, 0);
    out[n > 0 ? n : 0] = '\0';
    close(fd);
    unlink(output);
    return WIFEXITED(ws) ? WEXITSTATUS(ws) : -1;
}

/* The curl tool is there (Debian's curl package), or the test is skipped. */
static bool have_curl_tool(void)
{
    return access("/usr/bin/curl", X_OK) == 0;
}

/* Strict mode in a preloaded program: the curl tool, asked for a file, is
 * refused (its exit status 6 is CURLE_COULDNT_RESOLVE_HOST); ECR's host is
 * answered. */
static void test_strict_mode_preload(void **state)
{
    (void)state;
    if (!have_curl_tool())
        skip();
    char out[8192];
    const char *const strict[] = {"ECRMOCK_CURL_STRICT=1", NULL};
    char *file[] = {"/usr/bin/curl", "-sS", "file:///etc/hostname", NULL};
    assert_int_equal(run_cli(file, strict, out, sizeof out), 6);
    assert_string_equal(out, "curl: (6) ecrmock_curl strict mode: file:///etc/hostname is not an http(s) URL; "
                             "nothing was sent\n");
    char *ecr[] = {"/usr/bin/curl", "-sS", "-H", TARGET("DescribeRepositories"), "-H",
                   "Content-Type: application/x-amz-json-1.1", "-d", "{}", API, NULL};
    assert_int_equal(run_cli(ecr, strict, out, sizeof out), 0);
    assert_string_equal(out, "{\"repositories\":[]}");
}

/* What an in-process instance made with `opts` answers to `host` for the
 * NUL-separated (action, body) pairs, bodies back to back: what the curl
 * tool prints for the same calls. */
static void answers_of(const ecrmock_options *opts, const char *host, const char *const *calls, char *out, size_t cap)
{
    ecrmock *m = ecrmock_new(opts);
    assert_non_null(m);
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; calls[i]; i += 2) {
        char target[128];
        snprintf(target, sizeof target, "AmazonEC2ContainerRegistry_V20150921.%s", calls[i]);
        ecrmock_http_header h[3] = {{"Host", host}, {"Content-Type", "application/x-amz-json-1.1"},
                                    {"X-Amz-Target", target}};
        ecrmock_http_request req = ECRMOCK_HTTP_REQUEST_INIT;
        req.method = "POST";
        req.target = "/";
        req.headers = h;
        req.n_headers = 3;
        req.body = calls[i + 1];
        req.body_len = strlen(calls[i + 1]);
        ecrmock_http_response r;
        assert_true(ecrmock_http_handle(m, &req, &r) > 0);
        assert_true(len + r.body_len < cap);
        memcpy(out + len, r.body, r.body_len + 1);
        len += r.body_len;
        ecrmock_http_response_release(&r);
    }
    ecrmock_free(m);
}

/* The curl tool's arguments for the same calls, each after --next. */
static void curl_args(const char *url, const char *const *calls, char **argv, char targets[][128])
{
    size_t n = 0;
    argv[n++] = "/usr/bin/curl";
    argv[n++] = "-sS";
    for (size_t i = 0; calls[i]; i += 2) {
        if (i)
            argv[n++] = "--next";
        snprintf(targets[i / 2], 128, TARGET("%s"), calls[i]);
        argv[n++] = "-H";
        argv[n++] = targets[i / 2];
        argv[n++] = "-H";
        argv[n++] = "Content-Type: application/x-amz-json-1.1";
        argv[n++] = "-d";
        argv[n++] = (char *)calls[i + 1];
        argv[n++] = (char *)url;
    }
    argv[n] = NULL;
}

/* The expiresAt of the GetAuthorizationToken answer at the start of `out`
 * (whatever form the number is written in), or -1. */
static double expires_at(const char *out)
{
    json_error_t jerr;
    json_t *doc = json_loads(out, JSON_DISABLE_EOF_CHECK, &jerr);
    double v = doc ? json_number_value(json_object_get(json_array_get(json_object_get(doc, "authorizationData"), 0),
                                                       "expiresAt"))
                   : -1;
    json_decref(doc);
    return v;
}

/* Every ecrmock_options field can be set for the preload object: from the
 * environment, and from the fixture's "options" member (the environment
 * wins).  The preloaded curl tool is answered byte for byte as an instance
 * made in-process with the same options answers. */
static void test_preload_options(void **state)
{
    (void)state;
    if (!have_curl_tool())
        skip();
    static const char *const calls[] = {"GetAuthorizationToken", "{}",
                                        "CreateRepository", "{\"repositoryName\":\"web\"}",
                                        "CreateRepository", "{\"repositoryName\":\"api\"}", NULL};
    char *argv[32], targets[3][128];
    static char out[16384], want[16384];
    curl_args("https://ecr.eu-west-2.api.aws/", calls, argv, targets);

    /* The environment. */
    char journal[] = "/tmp/ecrmock-journal-XXXXXX", journal_env[64];
    close(mkstemp(journal));
    snprintf(journal_env, sizeof journal_env, "ECRMOCK_CURL_JOURNAL=%s", journal);
    const char *const env[] = {"ECRMOCK_CURL_ACCOUNT=111122223333", "ECRMOCK_CURL_REGION=eu-west-2",
                               "ECRMOCK_CURL_SEED=18446744073709551615", "ECRMOCK_CURL_CLOCK_START_MS=1000000000000",
                               "ECRMOCK_CURL_MAX_REPOSITORIES=1", "ECRMOCK_CURL_JOURNAL_LIMIT=2", journal_env,
                               NULL};
    ecrmock_options o = ECRMOCK_OPTIONS_INIT;
    o.account_id = "111122223333";
    o.region = "eu-west-2";
    o.seed = UINT64_MAX;
    o.clock_start_ms = INT64_C(1000000000000);
    o.max_repositories = 1;
    assert_int_equal(run_cli(argv, env, out, sizeof out), 0);
    answers_of(&o, "ecr.eu-west-2.api.aws", calls, want, sizeof want);
    assert_string_equal(out, want);
    assert_non_null(strstr(out, "\"proxyEndpoint\":\"https://111122223333.dkr.ecr.eu-west-2.amazonaws.com\""));
    assert_true(expires_at(out) == 1000043200.0); /* the clock start, and 12 hours */
    assert_non_null(strstr(out, "LimitExceededException"));
    json_t *j = json_load_file(journal, 0, NULL);
    assert_int_equal(json_array_size(j), 2); /* journal_limit */
    json_decref(j);
    unlink(journal);

    /* The fixture's "options", every field named; the environment's account over it. */
    char fixture[] = "/tmp/ecrmock-fixture-XXXXXX", fixture_env[64];
    int fd = mkstemp(fixture);
    static const char text[] =
        "{\"options\": {\"accountId\": \"210987654321\", \"region\": \"eu-west-2\", \"clockStartMs\": 1100000000000, "
        "\"seed\": 42, \"minPartSize\": 1024, \"uploadLifetimeMs\": 60000, \"maxRepositories\": 1, "
        "\"maxImages\": 5, \"maxLayerParts\": 7, \"journalLimit\": 3, \"maxLayerBytes\": 1048576, "
        "\"maxLayersPerImage\": 4, \"maxTagsPerImage\": 3, \"maxResourceTags\": 2, \"tokenLength\": 1000}}";
    assert_int_equal(write(fd, text, sizeof text - 1), (ssize_t)(sizeof text - 1));
    close(fd);
    snprintf(fixture_env, sizeof fixture_env, "ECRMOCK_CURL_FIXTURE=%s", fixture);
    const char *const env2[] = {fixture_env, "ECRMOCK_CURL_ACCOUNT=111122223333", NULL};
    assert_int_equal(run_cli(argv, env2, out, sizeof out), 0);
    o.account_id = "111122223333";
    o.clock_start_ms = INT64_C(1100000000000);
    o.seed = 42;
    o.min_part_size = 1024;
    o.upload_lifetime_ms = 60000;
    o.max_images = 5;
    o.max_layer_parts = 7;
    o.journal_limit = 3;
    o.max_layer_bytes = 1048576;
    o.max_layers_per_image = 4;
    o.max_tags_per_image = 3;
    o.max_resource_tags = 2;
    o.token_length = 1000;
    answers_of(&o, "ecr.eu-west-2.api.aws", calls, want, sizeof want);
    assert_string_equal(out, want);
    assert_true(expires_at(out) == 1100043200.0);
    unlink(fixture);
}

/* Every option of the table through the preload object: each variable is
 * read (a value it refuses is named back), each accepted; and each as a
 * member of the fixture's "options". */
static void test_preload_every_option(void **state)
{
    (void)state;
    if (!have_curl_tool())
        skip();
    char out[4096];
    char *argv[] = {"/usr/bin/curl", "-sS", "file:///etc/hostname", NULL};
    for (size_t i = 0; i < option_case_count; i++) {
        const option_case *c = &option_cases[i];
        char var[128], want[160];
        snprintf(var, sizeof var, "%s=%s", c->env, c->bad_env_value);
        const char *env[] = {var, NULL};
        assert_int_equal(run_cli(argv, env, out, sizeof out), 70);
        snprintf(want, sizeof want, "ecrmock_curl_preload: %s: must ", var);
        if (strncmp(out, want, strlen(want)) != 0)
            fail_msg("%s: %s", var, out);
        /* the good value, from the environment (a JSON string without its quotes) */
        json_t *v = json_loads(c->value, JSON_DECODE_ANY, NULL);
        assert_non_null(v);
        if (json_is_string(v))
            snprintf(var, sizeof var, "%s=%s", c->env, json_string_value(v));
        else if (json_integer_value(v) >= 0)
            snprintf(var, sizeof var, "%s=%lld", c->env, (long long)json_integer_value(v));
        else
            snprintf(var, sizeof var, "%s=%llu", c->env, (unsigned long long)json_integer_value(v));
        json_decref(v);
        if (run_cli(argv, env, out, sizeof out) != 0)
            fail_msg("%s: %s", var, out);
        /* and from the fixture */
        char fixture[] = "/tmp/ecrmock-fixture-XXXXXX", fixture_env[64], text[160];
        int fd = mkstemp(fixture);
        int n = snprintf(text, sizeof text, "{\"options\": {\"%s\": %s}}", c->json, c->value);
        assert_int_equal(write(fd, text, (size_t)n), n);
        close(fd);
        snprintf(fixture_env, sizeof fixture_env, "ECRMOCK_CURL_FIXTURE=%s", fixture);
        env[0] = fixture_env;
        if (run_cli(argv, env, out, sizeof out) != 0)
            fail_msg("%s: %s", text, out);
        unlink(fixture);
    }
}

/* What the preload object says when it cannot start: one line naming the
 * variable, or the fixture and the JSON path, and exit status 70. */
static void test_preload_refusals(void **state)
{
    (void)state;
    if (!have_curl_tool())
        skip();
    char out[4096];
    char *argv[] = {"/usr/bin/curl", "-sS", "file:///etc/hostname", NULL};
    static const struct {
        const char *env, *fixture, *said;
    } cases[] = {
        {"ECRMOCK_CURL_FIXTURE=/nonexistent/missing.json", NULL,
         "ecrmock_curl_preload: /nonexistent/missing.json: cannot be read: No such file or directory\n"},
        {"ECRMOCK_CURL_SEED=12x", NULL,
         "ecrmock_curl_preload: ECRMOCK_CURL_SEED=12x: must be an integer of at least 0 (0: the default)\n"},
        {"ECRMOCK_CURL_MIN_PART_SIZE=-1", NULL,
         "ecrmock_curl_preload: ECRMOCK_CURL_MIN_PART_SIZE=-1: must be an integer of at least 0 (0: the default)\n"},
        {"ECRMOCK_CURL_SEED=18446744073709551616", NULL,
         "ecrmock_curl_preload: ECRMOCK_CURL_SEED=18446744073709551616: must be an integer of at least 0 (0: the "
         "default)\n"},
        {"ECRMOCK_CURL_CREDENTIALS=AKIDEXAMPLE", NULL,
         "ecrmock_curl_preload: ECRMOCK_CURL_CREDENTIALS: must be ACCESS_KEY_ID:SECRET\n"},
        {"ECRMOCK_CURL_CREDENTIALS=:secret", NULL,
         "ecrmock_curl_preload: ECRMOCK_CURL_CREDENTIALS: must be ACCESS_KEY_ID:SECRET\n"},
        {"ECRMOCK_CURL_CREDENTIALS=AKIDEXAMPLE:", NULL,
         "ecrmock_curl_preload: ECRMOCK_CURL_CREDENTIALS: must be ACCESS_KEY_ID:SECRET\n"},
        {NULL, "{\"clock\": ", ": line 1, column 10: not valid JSON: "},
        {"ECRMOCK_CURL_ACCOUNT=12345", NULL, "ecrmock_curl_preload: ECRMOCK_CURL_ACCOUNT=12345: must be 12 digits, like \"123456789012\"\n"},
        {NULL, "{\"options\": {\"minPartSize\": \"1024\"}}", ": $.options.minPartSize: must be an integer of at least 0"},
        {NULL, "{\"options\": {\"partSize\": 1}}", ": $.options.partSize: not an option (accountId, "},
        {NULL, "{\"options\": {\"region\": \"EU\"}}", ": $.options.region: must be 1 to 63 characters"},
        {NULL, "{\"options\": [], \"clock\": 1}", ": $.options: must be an object\n"},
        {NULL, "{\"registries\": 1}", ": $.registries: "}, /* the fixture's own checks, its path once */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char fixture[] = "/tmp/ecrmock-fixture-XXXXXX", fixture_env[64];
        const char *env[] = {cases[i].env, NULL};
        if (cases[i].fixture) {
            int fd = mkstemp(fixture);
            assert_int_equal(write(fd, cases[i].fixture, strlen(cases[i].fixture)), (ssize_t)strlen(cases[i].fixture));
            close(fd);
            snprintf(fixture_env, sizeof fixture_env, "ECRMOCK_CURL_FIXTURE=%s", fixture);
            env[0] = fixture_env;
        }
        assert_int_equal(run_cli(argv, env, out, sizeof out), 70);
        if (cases[i].fixture) {
            char want[256];
            snprintf(want, sizeof want, "ecrmock_curl_preload: %s%s", fixture, cases[i].said);
            if (strncmp(out, want, strlen(want)) != 0 || strstr(out + 1, fixture + 5) != strstr(out, fixture + 5))
                fail_msg("%s: %s", cases[i].fixture, out);
            unlink(fixture);
        } else if (strncmp(out, cases[i].said, strlen(cases[i].said)) != 0) {
            fail_msg("%s: %s", cases[i].env, out);
        }
        assert_non_null(strchr(out, '\n'));
        assert_null(strchr(out, '\n') + 1 == out + strlen(out) ? NULL : "more than one line");
    }
}

static void test_example_flows_preload(void **state)
{
    (void)state;
    static child ch;
    run_preloaded("{\"clock\": %CLOCK%}", SECRET, &ch);
    if (ch.status != 0)
        fail_msg("curl_client exited %d:\n%s", ch.status, ch.out);
    assert_non_null(strstr(ch.out, "curl_client: pushed and pulled edge-agent:v1"));
    assert_non_null(ch.snapshot);
    char *text = json_dumps(ch.snapshot, JSON_COMPACT);
    assert_non_null(strstr(text, "\"name\":\"edge-agent\""));
    assert_non_null(strstr(text, "\"v1\""));
    free(text);
    assert_int_equal(journal_count(ch.journal, "GetAuthorizationToken"), 1);
    assert_int_equal(journal_count(ch.journal, "UploadLayerPart"), 2);
    assert_int_equal(journal_count(ch.journal, "PutImage"), 1);
    assert_int_equal(journal_count(ch.journal, "BatchGetImage"), 1);
    child_release(&ch);
}

/* The same program as its authors build it, with the preload object: the
 * image comes from the fixture file. */
static void test_registry_pull_preload(void **state)
{
    (void)state;
    static child ch;
    run_preloaded_program("registry_pull", PULL_FIXTURE ", \"clock\": %CLOCK%}", SECRET, &ch);
    if (ch.status != 0)
        fail_msg("registry_pull exited %d:\n%s", ch.status, ch.out);
    assert_non_null(strstr(ch.out, "registry_pull: pulled edge-agent:v1, 3 blobs, "));
    assert_non_null(strstr(ch.out, "every digest verified"));
    assert_int_equal(journal_count(ch.journal, "GetAuthorizationToken"), 1);
    assert_int_equal(journal_count(ch.journal, "GetDownloadUrlForLayer"), 3);
    child_release(&ch);
}

static void test_example_wrong_secret_preload(void **state)
{
    (void)state;
    static child ch;
    run_preloaded("{\"clock\": %CLOCK%}", "not-the-secret", &ch);
    assert_int_equal(ch.status, 1);
    assert_non_null(strstr(ch.out, "curl_client: GetAuthorizationToken: HTTP 400: "
                                   "{\"__type\":\"InvalidSignatureException\",\"message\":\"The request signature "
                                   "we calculated does not match the signature you provided."));
    assert_int_equal(json_array_size(ch.journal), 0);
    child_release(&ch);
}

/* ECRMOCK_CURL_SESSION_TOKEN: the example signs with long-term credentials
 * and sends no X-Amz-Security-Token, so a preloaded instance that expects
 * one refuses it as AWS does. */
static void test_example_session_token_preload(void **state)
{
    (void)state;
    static child ch;
    setenv("ECRMOCK_CURL_SESSION_TOKEN", "IQoJb3JpZ2luX2VjEXAMPLE", 1); /* the child inherits it */
    run_preloaded("{\"clock\": %CLOCK%}", SECRET, &ch);
    unsetenv("ECRMOCK_CURL_SESSION_TOKEN");
    assert_int_equal(ch.status, 1);
    assert_non_null(strstr(ch.out, "curl_client: GetAuthorizationToken: HTTP 400: "
                                   "{\"__type\":\"UnrecognizedClientException\",\"message\":\"The security token "
                                   "included in the request is invalid.\"}"));
    assert_int_equal(json_array_size(ch.journal), 0);
    child_release(&ch);
}

/* Fault rules reach the preloaded process through its fixture. */
static void test_example_transport_fault_preload(void **state)
{
    (void)state;
    static child ch;
    run_preloaded("{\"clock\": %CLOCK%, \"faults\": [{\"action\": \"GetAuthorizationToken\", "
                  "\"effect\": \"connect-refused\"}]}",
                  SECRET, &ch);
    assert_int_equal(ch.status, 1);
    assert_non_null(strstr(ch.out, "curl_client: GetAuthorizationToken: attempt 2 failed (Couldn't connect to "
                                   "server), retrying"));
    assert_non_null(strstr(ch.out, "curl_client: GetAuthorizationToken: curl: Failed to connect to "
                                   "api.ecr.us-east-1.amazonaws.com port 443 after 0 ms: Couldn't connect to server"));
    assert_int_equal(journal_count(ch.journal, "GetAuthorizationToken"), 3);
    /* The backoffs (1 s, 2 s) moved the child's virtual clock between its attempts. */
    double t1 = json_number_value(json_object_get(json_array_get(ch.journal, 0), "time"));
    double t2 = json_number_value(json_object_get(json_array_get(ch.journal, 1), "time"));
    double t3 = json_number_value(json_object_get(json_array_get(ch.journal, 2), "time"));
    assert_true(t2 - t1 == 1.0 && t3 - t2 == 2.0);
    child_release(&ch);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup_attached, teardown_attached)
    const struct CMUnitTest tests[] = {
        T(test_example_flows_wrap),
        T(test_example_signs_after_clock_moves_wall),
        T(test_example_recording_replays_wrap),
        T(test_example_headers_journaled_wrap),
        T(test_example_wrong_secret_wrap),
        T(test_example_transport_faults_wrap),
        T(test_example_upload_expires_while_backing_off),
        T(test_example_short_write_wrap),
        T(test_registry_pull_wrap),
        T(test_headers_getinfo_private),
        T(test_default_content_type),
        T(test_read_callback_and_custom_request),
        T(test_chunks_and_short_write),
        T(test_transport_faults),
        T(test_download_url),
        T(test_registry_host_and_redirects),
        T(test_registry_userpwd),
        T(test_which_hosts),
        T(test_region_from_host),
        T(test_region_signature),
        T(test_pass_through),
        T(test_every_option),
        T(test_curlu),
        T(test_strict_mode),
        T(test_virtual_sleep),
        T(test_referer_is_sent),
        cmocka_unit_test(test_example_flows_preload),
        cmocka_unit_test(test_registry_pull_preload),
        cmocka_unit_test(test_example_wrong_secret_preload),
        cmocka_unit_test(test_example_session_token_preload),
        cmocka_unit_test(test_example_transport_fault_preload),
        cmocka_unit_test(test_strict_mode_preload),
        cmocka_unit_test(test_preload_options),
        cmocka_unit_test(test_preload_refusals),
        cmocka_unit_test(test_preload_every_option),
    };
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return failed;
}
