/*
 * Concurrency stress: several threads push, tag, move tags, delete, upload
 * and list in ONE instance (with a probabilistic fault rule and the journal
 * on), then the state's invariants are checked: every tag points at an
 * existing image, every image's blobs are in its repository, every upload
 * completed by a thread is there once.  `make tsan` runs it under
 * ThreadSanitizer; `make test` runs it as is.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

#include "helpers.h"

#include "ecrmock_cmocka.h"

#define THREADS 4
#define ROUNDS 60

typedef struct worker {
    ecrmock *m;
    int id;
    int completed_uploads;
    char uploaded[ROUNDS][ECRMOCK_DIGEST_SIZE];
} worker;

static json_t *req_call(ecrmock *m, const char *action, json_t *req, int *status)
{
    json_t *r = NULL;
    *status = ecrmock_call(m, action, req, &r);
    json_decref(req);
    return r;
}

static void *work(void *arg)
{
    worker *w = arg;
    ecrmock *m = w->m;
    char shared[] = "shared", own[32];
    snprintf(own, sizeof own, "own-%d", w->id);
    for (int i = 0; i < ROUNDS; i++) {
        int st;
        const char *repo = i % 2 ? shared : own;
        /* a layer through the wire: initiate, one part, complete */
        json_t *r = req_call(m, "InitiateLayerUpload", json_pack("{s:s}", "repositoryName", repo), &st);
        if (st == 200) {
            char id[64], text[64], b64[128];
            snprintf(id, sizeof id, "%s", json_string_value(json_object_get(r, "uploadId")));
            int n = snprintf(text, sizeof text, "t%d-r%d-layer", w->id, i);
            static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
            int o = 0;
            for (int k = 0; k < n; k += 3) {
                unsigned v = (unsigned)(unsigned char)text[k] << 16;
                if (k + 1 < n)
                    v |= (unsigned)(unsigned char)text[k + 1] << 8;
                if (k + 2 < n)
                    v |= (unsigned char)text[k + 2];
                b64[o++] = tbl[v >> 18 & 63];
                b64[o++] = tbl[v >> 12 & 63];
                b64[o++] = k + 1 < n ? tbl[v >> 6 & 63] : '=';
                b64[o++] = k + 2 < n ? tbl[v & 63] : '=';
            }
            b64[o] = '\0';
            json_decref(req_call(m, "UploadLayerPart",
                                 json_pack("{s:s, s:s, s:i, s:i, s:s}", "repositoryName", repo, "uploadId", id,
                                           "partFirstByte", 0, "partLastByte", n - 1, "layerPartBlob", b64),
                                 &st));
            char digest[ECRMOCK_DIGEST_SIZE];
            sha256_digest(text, (size_t)n, digest);
            json_t *cr = req_call(m, "CompleteLayerUpload",
                                  json_pack("{s:s, s:s, s:[s]}", "repositoryName", repo, "uploadId", id, "layerDigests",
                                            digest),
                                  &st);
            if (st == 200)
                snprintf(w->uploaded[w->completed_uploads++], ECRMOCK_DIGEST_SIZE, "%s", digest);
            json_decref(cr);
        }
        json_decref(r);
        /* an image with a per-thread tag and the contended tag "latest" */
        char *manifest = make_manifest(m, repo, 1, w->id * 1000 + i);
        char tag[32];
        snprintf(tag, sizeof tag, "t%d-%d", w->id, i);
        json_decref(req_call(m, "PutImage",
                             json_pack("{s:s, s:s, s:s}", "repositoryName", repo, "imageManifest", manifest, "imageTag", tag),
                             &st));
        json_decref(req_call(m, "PutImage",
                             json_pack("{s:s, s:s, s:s}", "repositoryName", repo, "imageManifest", manifest, "imageTag",
                                       "latest"),
                             &st));
        free(manifest);
        if (i % 3 == 2) {
            char old[32];
            snprintf(old, sizeof old, "t%d-%d", w->id, i - 2);
            json_decref(req_call(m, "BatchDeleteImage",
                                 json_pack("{s:s, s:[{s:s}]}", "repositoryName", repo, "imageIds", "imageTag", old), &st));
        }
        json_decref(req_call(m, "ListImages", json_pack("{s:s, s:i}", "repositoryName", repo, "maxResults", 5), &st));
        json_decref(req_call(m, "DescribeImages", json_pack("{s:s, s:i}", "repositoryName", repo, "maxResults", 3), &st));
    }
    return NULL;
}

static void check_repository(ecrmock *m, const char *repo)
{
    json_t *images = ecrmock_images(m, NULL, repo, NULL);
    assert_non_null(images);
    size_t i;
    json_t *img;
    int latest = 0;
    json_array_foreach(images, i, img) {
        const char *digest = json_string_value(json_object_get(img, "imageDigest"));
        size_t k;
        json_t *tag;
        json_array_foreach(json_object_get(img, "imageTags"), k, tag) {
            assert_ecrmock_tag(m, repo, json_string_value(tag), digest);
            latest += strcmp(json_string_value(tag), "latest") == 0;
        }
        /* every blob the manifest names is in the repository */
        json_t *r = NULL;
        assert_ok(call(m, &r, "BatchGetImage", "{\"repositoryName\": \"%s\", \"imageIds\": [{\"imageDigest\": \"%s\"}]}",
                       repo, digest),
                  r);
        json_t *doc = json_loads(json_string_value(json_object_get(json_array_get(json_object_get(r, "images"), 0),
                                                                   "imageManifest")),
                                 0, NULL);
        json_decref(r);
        json_t *layers = json_object_get(doc, "layers");
        for (size_t l = 0; l <= json_array_size(layers); l++) {
            json_t *desc = l < json_array_size(layers) ? json_array_get(layers, l) : json_object_get(doc, "config");
            void *bytes = NULL;
            size_t len = 0;
            assert_int_equal(ecrmock_get_layer(m, NULL, repo, json_string_value(json_object_get(desc, "digest")), &bytes,
                                               &len, NULL),
                             ECRMOCK_ERR_OK);
            free(bytes);
        }
        json_decref(doc);
    }
    assert_int_equal(latest, 1); /* the contended tag is on exactly one image */
    json_decref(images);
}

static void test_stress_one_instance(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "shared");
    for (int t = 0; t < THREADS; t++) {
        char own[32];
        snprintf(own, sizeof own, "own-%d", t);
        create_repo(m, own);
    }
    ecrmock_fault f = ECRMOCK_FAULT_INIT;
    f.action = "ListImages";
    f.probability = 0.1;
    assert_true(ecrmock_fault_add(m, &f, NULL) > 0);
    pthread_t threads[THREADS];
    worker w[THREADS];
    for (int t = 0; t < THREADS; t++) {
        memset(&w[t], 0, sizeof w[t]);
        w[t].m = m;
        w[t].id = t;
        assert_int_equal(pthread_create(&threads[t], NULL, work, &w[t]), 0);
    }
    for (int t = 0; t < THREADS; t++)
        pthread_join(threads[t], NULL);

    check_repository(m, "shared");
    for (int t = 0; t < THREADS; t++) {
        char own[32];
        snprintf(own, sizeof own, "own-%d", t);
        check_repository(m, own);
        /* every layer a thread uploaded is there */
        assert_int_equal(w[t].completed_uploads, ROUNDS);
        for (int i = 0; i < w[t].completed_uploads; i++) {
            void *bytes = NULL;
            size_t len = 0;
            assert_int_equal(ecrmock_get_layer(m, NULL, i % 2 ? "shared" : own, w[t].uploaded[i], &bytes, &len, NULL),
                             ECRMOCK_ERR_OK);
            free(bytes);
        }
    }
    /* the journal holds every call, numbered without a gap */
    json_t *j = ecrmock_journal_json(m, NULL);
    for (size_t i = 0; i < json_array_size(j); i++)
        assert_int_equal(json_integer_value(json_object_get(json_array_get(j, i), "seq")), (json_int_t)i + 1);
    assert_int_equal(json_array_size(j), ecrmock_call_count(m, NULL) - ecrmock_journal_dropped(m));
    json_decref(j);
}

/* ---- journal entries held on one thread while the journal moves on another ---- */

#define JOURNAL_THREADS 8
#define JOURNAL_ROUNDS 300

static void *journal_caller(void *arg)
{
    ecrmock *m = arg;
    for (int i = 0; i < JOURNAL_ROUNDS; i++) {
        json_t *r = NULL;
        ecrmock_call(m, "DescribeRepositories", NULL, &r);
        json_decref(r);
    }
    return NULL;
}

/* Reads what it was handed, changes it, and drops it, all outside the lock:
 * safe only when the entry is independent of the journal. */
static void *journal_reader(void *arg)
{
    ecrmock *m = arg;
    for (int i = 0; i < JOURNAL_ROUNDS; i++) {
        json_t *all = i % 2 ? NULL : ecrmock_journal_json(m, NULL);
        json_t *e = all ? json_incref(json_array_get(all, 0)) : ecrmock_journal_entry(m, -1, NULL);
        json_decref(all);
        if (e) {
            json_t *req = json_object_get(e, "request"), *resp = json_object_get(e, "response");
            assert_true(json_is_object(req) && json_is_object(resp));
            json_object_set_new(req, "mine", json_integer(i));
            json_object_set_new(resp, "mine", json_integer(i));
        }
        json_decref(e);
    }
    return NULL;
}

/* A journal of 4 entries drops the oldest while readers on other threads
 * hold entries: ThreadSanitizer (make tsan) sees a race on jansson's
 * reference counts when an entry shares its objects with the journal. */
static void test_stress_journal_entries_are_independent(void **state)
{
    (void)state;
    ecrmock_options o = ECRMOCK_OPTIONS_INIT;
    o.journal_limit = 4;
    ecrmock *m = ecrmock_new(&o);
    assert_non_null(m);
    pthread_t threads[JOURNAL_THREADS];
    for (int t = 0; t < JOURNAL_THREADS; t++)
        assert_int_equal(pthread_create(&threads[t], NULL, t % 2 ? journal_reader : journal_caller, m), 0);
    for (int t = 0; t < JOURNAL_THREADS; t++)
        pthread_join(threads[t], NULL);
    /* what the readers changed is theirs: the journal still holds the calls as made */
    json_t *all = ecrmock_journal_json(m, NULL);
    assert_int_equal(json_array_size(all), 4);
    for (size_t i = 0; i < 4; i++) {
        json_t *e = json_array_get(all, i);
        assert_null(json_object_get(json_object_get(e, "request"), "mine"));
        assert_null(json_object_get(json_object_get(e, "response"), "mine"));
    }
    json_decref(all);
    ecrmock_free(m);
}

/* ---- the journal's readers while calls of every level run -------------------
 * Attack on the journal that keeps text (journal_max_bytes): calls over
 * HTTP (their headers held by the entry), /v2/ pushes (their parts over the
 * bound: stubs), wire calls, and on other threads every reader, the
 * recorder and a clear, with an after-hook that reads the journal in every
 * call: make tsan sees any race, ASan any entry freed while read. */

#define READER_ROUNDS 150
#define REG_HOST "123456789012.dkr.ecr.us-east-1.amazonaws.com"

static int registry(ecrmock *m, const char *auth, const char *method, const char *target, const void *body,
                    size_t len, char *location, size_t cap)
{
    ecrmock_http_header h[] = {{"Host", REG_HOST}, {"Authorization", auth}};
    ecrmock_http_request req = ECRMOCK_HTTP_REQUEST_INIT;
    req.method = method;
    req.target = target;
    req.headers = h;
    req.n_headers = 2;
    req.body = body;
    req.body_len = len;
    ecrmock_http_response r;
    int st = ecrmock_http_handle(m, &req, &r);
    const char *loc = st < 0 ? NULL : ecrmock_http_response_header(&r, "Location");
    if (location && loc && strlen(loc) > strlen("https://" REG_HOST))
        snprintf(location, cap, "%s", loc + strlen("https://" REG_HOST));
    if (st >= 0)
        ecrmock_http_response_release(&r);
    return st;
}

static void *level_caller(void *arg)
{
    ecrmock *m = arg;
    char *auth = login(m);
    static char part[6000];
    memset(part, 'p', sizeof part);
    for (int i = 0; i < READER_ROUNDS; i++) {
        char loc[512] = "";
        assert_true(http_post(m, NULL, "DescribeRepositories", "{}", "Authorization",
                              "AWS4-HMAC-SHA256 Credential=x, SignedHeaders=host, Signature=abc", NULL) > 0);
        assert_int_equal(http_post(m, NULL, "ListImages", "{oops", "User-Agent", "stress", NULL), 400);
        if (registry(m, auth, "POST", "/v2/stress/blobs/uploads/", NULL, 0, loc, sizeof loc) == 202)
            registry(m, auth, "PATCH", loc, part, sizeof part, NULL, 0);
        char *out = NULL;
        size_t len = 0;
        ecrmock_call_raw(m, "ListImages", "{\"repositoryName\":\"stress\"}", 28, &out, &len);
        free(out);
    }
    free(auth);
    return NULL;
}

static void *level_reader(void *arg)
{
    ecrmock *m = arg;
    for (int i = 0; i < READER_ROUNDS; i++) {
        ecrmock_err err;
        json_t *sc = ecrmock_scenario_record(m, NULL, &err);
        /* a stub (a part over the bound) is refused by name; else a scenario */
        assert_true(sc ? json_is_object(sc) : err.code == ECRMOCK_ERR_INVALID_PARAMETER);
        json_decref(sc);
        json_t *all = ecrmock_journal_json(m, NULL), *e = ecrmock_journal_entry(m, -1, NULL);
        assert_non_null(all);
        for (size_t k = 0; k < json_array_size(all); k++)
            assert_non_null(json_object_get(json_array_get(all, k), "action"));
        json_object_set_new(json_object_get(e, "headers"), "mine", json_true());
        json_decref(all);
        json_decref(e);
        if (i % 16 == 0)
            ecrmock_journal_clear(m);
    }
    return NULL;
}

static void reading_hook(void *user, const char *action, json_t *request, int status, json_t *response)
{
    (void)action;
    (void)request;
    (void)status;
    (void)response;
    ecrmock *m = user;
    json_t *e = ecrmock_journal_entry(m, -1, NULL);
    assert_true(!e || json_is_object(e));
    json_decref(e);
    (void)ecrmock_journal_length(m);
}

static void test_stress_journal_readers_and_every_level(void **state)
{
    (void)state;
    ecrmock_options o = ECRMOCK_OPTIONS_INIT;
    o.journal_limit = 16;
    o.journal_max_bytes = 4096; /* a part of 6000 bytes is a stub; a few calls fill it */
    ecrmock *m = ecrmock_new(&o);
    assert_non_null(m);
    create_repo(m, "stress");
    ecrmock_hooks_set(m, NULL, reading_hook, m);
    pthread_t threads[JOURNAL_THREADS];
    for (int t = 0; t < 4; t++)
        assert_int_equal(pthread_create(&threads[t], NULL, t % 2 ? level_reader : level_caller, m), 0);
    for (int t = 0; t < 4; t++)
        pthread_join(threads[t], NULL);
    ecrmock_hooks_set(m, NULL, NULL, NULL);
    assert_true(ecrmock_journal_length(m) <= 16);
    assert_int_equal(ecrmock_call_count(m, "UploadLayerPart"), 2 * READER_ROUNDS);
    assert_int_equal(ecrmock_call_count(m, "DescribeRepositories"), 2 * READER_ROUNDS);
    assert_int_equal(ecrmock_call_count(m, "ListImages"), 4 * READER_ROUNDS);
    ecrmock_free(m);
}

/* ---- the hot actions' tree-free forms beside every control (issue 19) --------------------- */

#define FAST_ROUNDS 150
#define FAST_MANIFESTS 8

typedef struct fast_worker {
    ecrmock *m;
    int id;
    atomic_int *stop;
    atomic_int *rounds; /* the controller's, done so far */
    char *manifests[FAST_MANIFESTS]; /* JSON strings, quotes and all */
} fast_worker;

/* Answers that were no JSON object (a thread cannot fail a cmocka test: counted, checked after). */
static atomic_int fast_bad_answers;

/* One wire-level call; the answer must be a JSON object (a form's or a handler's). */
static int raw(ecrmock *m, const char *action, const char *body)
{
    char *out = NULL;
    size_t n = 0;
    int st = ecrmock_call_raw(m, action, body, strlen(body), &out, &n);
    json_t *doc = st > 0 ? json_loadb(out, n, 0, NULL) : NULL;
    if (!json_is_object(doc) || out[n] != '\0')
        atomic_fetch_add(&fast_bad_answers, 1);
    json_decref(doc);
    ecrmock_buffer_free(out);
    return st;
}

static void *fast_caller(void *arg)
{
    fast_worker *w = arg;
    ecrmock *m = w->m;
    char body[2048];
    /* Overlap by construction, whatever the scheduler does: the calls begin
     * once the controller has begun, and go on until it has gone round every
     * control twice more. */
    while (atomic_load(w->rounds) < 1)
        sched_yield();
    int until = atomic_load(w->rounds) + 18;
    for (int i = 0; i < FAST_ROUNDS || atomic_load(w->rounds) < until; i++) {
        /* its layers may be gone (a reset): then PutImage's handler refuses it */
        char *put = NULL;
        if (asprintf(&put, "{\"repositoryName\":\"hot\",\"imageManifest\":%s,\"imageTag\":\"t%d\"}",
                     w->manifests[i % FAST_MANIFESTS], i % 4) < 0)
            abort();
        raw(m, "PutImage", put);
        free(put);
        snprintf(body, sizeof body, "{\"repositoryName\":\"hot\",\"imageIds\":[{\"imageTag\":\"t%d\"},{\"imageTag\":\"t%d\"}]}",
                 i % 4, (i + 1) % 4);
        raw(m, "BatchGetImage", body);
        raw(m, "DescribeRepositories", "{}");
        raw(m, "DescribeRepositories", "{\"repositoryNames\":[\"hot\"]}");
        raw(m, "DescribeImages", "{\"repositoryName\":\"hot\"}");
        raw(m, "DescribeImages", body);
    }
    return NULL;
}

/* Hooks that call the hot actions on their own instance, mid-call (one level deep). */
static _Thread_local int hook_depth;

static void reentrant_before(void *user, const char *action, json_t *req, ecrmock_injection *inj)
{
    (void)req, (void)inj;
    ecrmock *m = user;
    if (strcmp(action, "DescribeRepositories") == 0 && !hook_depth) {
        hook_depth++;
        raw(m, "DescribeImages", "{\"repositoryName\":\"hot\"}");
        hook_depth--;
    }
}

static void reentrant_after(void *user, const char *action, json_t *req, int status, json_t *resp)
{
    (void)req, (void)status, (void)resp;
    ecrmock *m = user;
    if (strcmp(action, "DescribeImages") == 0 && !hook_depth) {
        hook_depth++;
        raw(m, "DescribeRepositories", "{\"repositoryNames\":[\"hot\"]}");
        hook_depth--;
    }
}

static void *fast_controller(void *arg)
{
    fast_worker *w = arg;
    ecrmock *m = w->m;
    static const char fixture[] =
        "{\"registries\": [{\"repositories\": [{\"name\": \"hot\"}, {\"name\": \"fx\", \"images\": [{\"tags\": "
        "[\"a\"], \"layers\": [{\"text\": \"x\"}]}]}]}]}";
    json_t *doc = json_loads(fixture, 0, NULL);
    ecrmock_fixture *fx = ecrmock_fixture_prepare(doc, NULL, "hot.json", NULL);
    json_decref(doc);
    if (!fx)
        abort();
    for (int i = 0; !atomic_load(w->stop); i++) {
        switch (i % 9) {
        case 0: {
            json_t *rule = json_pack("{s:s, s:s}", "action", "ListImages", "error", "ThrottlingException");
            long id = ecrmock_fault_add_json(m, rule, NULL);
            json_decref(rule);
            sched_yield();
            ecrmock_fault_remove(m, id, NULL);
            break;
        }
        case 1:
            ecrmock_hooks_set(m, reentrant_before, reentrant_after, m);
            sched_yield();
            ecrmock_hooks_set(m, NULL, NULL, NULL);
            break;
        case 2:
            ecrmock_journal_enable(m, i % 2);
            break;
        case 3:
            json_decref(ecrmock_journal_json(m, NULL));
            ecrmock_journal_clear(m);
            break;
        case 4: {
            ecrmock_options o = ECRMOCK_OPTIONS_INIT;
            o.max_images = i % 2 ? 5 : 0;
            ecrmock_options_set(m, &o, NULL);
            break;
        }
        case 5:
            if (i % 4 == 1)
                ecrmock_reset(m);
            break;
        case 6:
            if (i % 2)
                ecrmock_fixture_apply(m, fx, NULL);
            else
                ecrmock_fixture_load_string(m, fixture, "hot.json", NULL);
            break;
        case 7: {
            ecrmock_clock_advance(m, 1000, NULL);
            ecrmock_principal_set(m, i % 2 ? "arn:aws:iam::123456789012:user/ci" : NULL, NULL);
            json_t *r = NULL;
            ecrmock_call_as(m, "210987654321", "eu-west-1", "DescribeRepositories", NULL, &r);
            json_decref(r);
            break;
        }
        default:
            json_decref(ecrmock_snapshot(m, NULL));
            break;
        }
        atomic_fetch_add(w->rounds, 1);
    }
    ecrmock_fixture_free(fx);
    return NULL;
}

static void test_stress_fast_forms_beside_controls(void **state)
{
    (void)state;
    ecrmock *m = ecrmock_new(NULL);
    assert_non_null(m);
    ecrmock_journal_enable(m, 1);
    create_repo(m, "hot");
    atomic_int stop = 0, rounds = 0;
    pthread_t threads[THREADS];
    fast_worker w[THREADS];
    for (int t = 0; t < THREADS; t++) {
        w[t] = (fast_worker){.m = m, .id = t, .stop = &stop, .rounds = &rounds};
        for (int k = 0; k < FAST_MANIFESTS; k++) {
            char *text = make_manifest(m, "hot", 1, t * 100 + k);
            json_t *q = json_string(text);
            assert_non_null(w[t].manifests[k] = json_dumps(q, JSON_ENCODE_ANY | JSON_COMPACT));
            json_decref(q);
            free(text);
        }
    }
    for (int t = 0; t < THREADS; t++) {
        assert_int_equal(pthread_create(&threads[t], NULL, t == 0 ? fast_controller : fast_caller, &w[t]), 0);
    }
    for (int t = 1; t < THREADS; t++)
        assert_int_equal(pthread_join(threads[t], NULL), 0);
    atomic_store(&stop, 1);
    assert_int_equal(pthread_join(threads[0], NULL), 0);
    assert_true(atomic_load(&rounds) >= 19);
    /* the instance still answers, through the forms */
    ecrmock_hooks_set(m, NULL, NULL, NULL);
    ecrmock_fault_clear(m);
    assert_int_equal(raw(m, "DescribeRepositories", "{}"), 200);
    assert_int_equal(atomic_load(&fast_bad_answers), 0);
    for (int t = 0; t < THREADS; t++)
        for (int k = 0; k < FAST_MANIFESTS; k++)
            free(w[t].manifests[k]);
    ecrmock_free(m);
}


/* ---- manifests kept by their image while images come and go ----------------
 * Attack on the journal's kept manifests (testing/journal.c): on one thread
 * images pushed, pulled through the wire level (their entries keep the
 * image) and deleted; on another the journal read whole, every kept
 * manifest written again from an image that may be gone from the store;
 * on a third, fixtures loaded over the registries (the swap lets m's
 * images go under its lock); a journal of 8 entries, so that entries and
 * the images they keep go all the time.  make tsan sees a race, ASan and
 * valgrind an image freed while an entry keeps it, or one never freed. */

#define KEPT_ROUNDS 300

typedef struct {
    ecrmock *m;
    atomic_int done, loads; /* the pusher has finished; fixtures loaded */
    int pulled;             /* pulls that answered an image */
} kept_run;

static void *kept_pusher(void *arg)
{
    kept_run *k = arg;
    for (int i = 0; i < KEPT_ROUNDS; i++) {
        /* every 50 rounds, a load at least since the last: whatever the
         * scheduler (valgrind runs one thread at a time), loads come between */
        while (i % 50 == 49 && atomic_load(&k->loads) < i / 50 + 1)
            sched_yield();
        char cfg[ECRMOCK_DIGEST_SIZE], config[40], body[1200], *out = NULL;
        size_t n;
        ecrmock_call_raw(k->m, "CreateRepository", "{\"repositoryName\":\"kept\"}", 25, &out, &n);
        ecrmock_buffer_free(out);
        int len = snprintf(config, sizeof config, "{\"round\":%d}", i % 7);
        if (ecrmock_put_layer(k->m, NULL, "kept", config, (size_t)len, cfg, NULL) < 0)
            continue; /* the repository went with a fixture's load */
        snprintf(body, sizeof body,
                 "{\"repositoryName\":\"kept\",\"imageTag\":\"t%d\",\"imageManifest\":\"{\\\"schemaVersion\\\":2,"
                 "\\\"mediaType\\\":\\\"application/vnd.oci.image.manifest.v1+json\\\",\\\"config\\\":{\\\"mediaType\\\":"
                 "\\\"application/vnd.oci.image.config.v1+json\\\",\\\"size\\\":%d,\\\"digest\\\":\\\"%s\\\"},"
                 "\\\"layers\\\":[]}\"}",
                 i % 3, len, cfg);
        out = NULL;
        ecrmock_call_raw(k->m, "PutImage", body, strlen(body), &out, &n);
        ecrmock_buffer_free(out);
        for (int p = 0; p < 2; p++) {
            snprintf(body, sizeof body, "{\"repositoryName\":\"kept\",\"imageIds\":[{\"imageTag\":\"t%d\"}]}", (i + p) % 3);
            out = NULL;
            ecrmock_call_raw(k->m, "BatchGetImage", body, strlen(body), &out, &n);
            k->pulled += out && strstr(out, "imageManifest");
            ecrmock_buffer_free(out);
        }
        if (i % 2) {
            snprintf(body, sizeof body, "{\"repositoryName\":\"kept\",\"imageIds\":[{\"imageTag\":\"t%d\"}]}", i % 3);
            out = NULL;
            ecrmock_call_raw(k->m, "BatchDeleteImage", body, strlen(body), &out, &n);
            ecrmock_buffer_free(out);
        }
    }
    atomic_store(&k->done, 1);
    return NULL;
}

static void *kept_reader(void *arg)
{
    kept_run *k = arg;
    while (!atomic_load(&k->done)) {
        json_t *all = ecrmock_journal_json(k->m, NULL);
        assert_non_null(all);
        size_t i;
        json_t *e;
        json_array_foreach(all, i, e) {
            json_t *images = json_object_get(json_object_get(e, "response"), "images");
            json_t *first = json_array_get(images, 0);
            if (first) /* the kept manifest, written again: the image's own */
                assert_non_null(strstr(json_string_value(json_object_get(first, "imageManifest")), "schemaVersion"));
        }
        json_decref(all);
    }
    return NULL;
}

static void *kept_loader(void *arg)
{
    kept_run *k = arg;
    json_t *fx = json_pack("{s:[{s:[{s:s}]}]}", "registries", "repositories", "name", "kept");
    assert_non_null(fx);
    while (!atomic_load(&k->done)) {
        assert_int_equal(ecrmock_fixture_load(k->m, fx, "stress", NULL), 0);
        atomic_fetch_add(&k->loads, 1);
        sched_yield();
    }
    json_decref(fx);
    return NULL;
}

static void test_stress_kept_manifests_while_images_go(void **state)
{
    (void)state;
    ecrmock_options o = ECRMOCK_OPTIONS_INIT;
    o.journal_limit = 8;
    kept_run k = {.m = ecrmock_new(&o)};
    assert_non_null(k.m);
    pthread_t t[3];
    assert_int_equal(pthread_create(&t[0], NULL, kept_pusher, &k), 0);
    assert_int_equal(pthread_create(&t[1], NULL, kept_reader, &k), 0);
    assert_int_equal(pthread_create(&t[2], NULL, kept_loader, &k), 0);
    for (int i = 0; i < 3; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(ecrmock_journal_length(k.m), 8);
    assert_true(k.pulled >= 30);
    assert_true(atomic_load(&k.loads) >= KEPT_ROUNDS / 50);
    ecrmock_free(k.m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_stress_one_instance, setup_mock, teardown_mock),
        cmocka_unit_test(test_stress_journal_entries_are_independent),
        cmocka_unit_test(test_stress_journal_readers_and_every_level),
        cmocka_unit_test(test_stress_fast_forms_beside_controls),
        cmocka_unit_test(test_stress_kept_manifests_while_images_go),
    };
    return cmocka_run_group_tests_name("stress", tests, NULL, NULL);
}
