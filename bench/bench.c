/*
 * ecrmock's benchmarks: `make bench` prints a table and writes
 * bench/results.json.  Every figure is measured REPEATS times and reported
 * as min / median / max; the targets are printed beside them.  Nothing here
 * asserts: timings on a shared machine are noisy.
 *
 *  1. calls/s through ecrmock_call_raw for a mixed push/pull flow, and the
 *     fake's overhead against jansson parsing and serialising the same bodies
 *  2. ecrmock_new + ecrmock_free per second; memory per image held
 *  3. a 256 MiB layer pushed through UploadLayerPart/CompleteLayerUpload (in
 *     20 MiB parts, and in ECR's partSize of 10 MiB), as a fraction of this
 *     machine's SHA-256 speed; the same layer in 100
 *     repositories costs its bytes once
 *  4. per-call time at 1k, 10k and 100k images (each size in a fresh child
 *     process); paging cost per item; 100 against 10,000 repositories
 *  5. calls/s with 1 and 2 threads, on one instance and on two
 *  6. a 256 MiB layer pushed through the registry plane (/v2/, through
 *     ecrmock_http_handle) in one PATCH and in 20 MiB PATCH chunks, as a
 *     fraction of this machine's SHA-256 speed, and pulled back (the blob
 *     GET's 307, then the download URL)
 *  j. (issue 19; `make bench BENCH=j`) PutImage, BatchGetImage,
 *     DescribeRepositories and DescribeImages: us per call and allocations
 *     per call with the journal on and off (each loop timed in 10 chunks,
 *     the median chunk's figure; the whole loops' shares as info), the
 *     journal's share of a call (after runs not counted, until one takes
 *     no page fault: the first run's figures as info), and the peak RSS of
 *     a 100k-image run with the journal on and off
 *  7. issue 19: a fresh instance with fixtures/team-registry.json, loaded
 *     and from a prepared fixture; the bytes the store holds per image
 *     beyond its manifest at 100k images (counted through the allocator
 *     hooks, in a child process)
 *  s. the loopback server (server/server.c) driven by one keep-alive HTTP/1.1
 *     client with section 1's flow: calls/s, and the server's CPU per call
 *     against the same calls through ecrmock_http_handle in process; client
 *     and server on one core (and, for information, on two), beside a bare
 *     TCP round trip on one core and on two: this host's floor
 *  f. a 256 MiB synthesised layer loaded from a fixture, as a fraction of
 *     SHA-256 speed; a fixture of 100,000 images over 1 GiB declared layers
 *     (`make bench BENCH=f`)
 */
#define _GNU_SOURCE
#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <openssl/evp.h>

#include "ecrmock.h"
#include "ecrmock_server.h"

#include "base/base.h" /* the floor of section j: the tokenizer, the writer, SHA-256 */

#ifndef REPEATS
#define REPEATS 5
#endif

static volatile unsigned sink; /* keeps measured work from being optimised away */

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef struct figure {
    const char *name, *unit, *target;
    double v[REPEATS];
    int higher_is_better;
    double goal; /* 0: none */
} figure;

static json_t *results;

static void report(figure *f)
{
    qsort(f->v, REPEATS, sizeof f->v[0], cmp_double);
    double med = f->v[REPEATS / 2];
    const char *met = !f->goal ? "" : (f->higher_is_better ? med >= f->goal : med <= f->goal) ? "met" : "NOT MET";
    printf("%-46s %12.3g %12.3g %12.3g  %-8s %-16s %s\n", f->name, f->v[0], med, f->v[REPEATS - 1], f->unit,
           f->target ? f->target : "", met);
    json_array_append_new(results, json_pack("{s:s, s:s, s:f, s:f, s:f, s:s?, s:s}", "name", f->name, "unit", f->unit,
                                             "min", f->v[0], "median", med, "max", f->v[REPEATS - 1], "target",
                                             f->target, "met", met));
}

/* ---- 1. the mixed flow --------------------------------------------------------- */

typedef struct call_rec {
    const char *action;
    char *body;
    size_t len;
} call_rec;

static int raw(ecrmock *m, const char *action, const char *body, char **out, size_t *len)
{
    return ecrmock_call_raw(m, action, body, strlen(body), out, len);
}

/* The repository and the two blobs every image of the flow references;
 * their digests go to cfg and layer. */
static void flow_setup(ecrmock *m, char *cfg, char *layer)
{
    char *out = NULL;
    size_t len;
    raw(m, "CreateRepository", "{\"repositoryName\":\"bench/app\"}", &out, &len);
    free(out);
    ecrmock_put_layer(m, NULL, "bench/app", "{\"os\":\"linux\"}", 14, cfg, NULL);
    ecrmock_put_layer(m, NULL, "bench/app", "layer bytes", 11, layer, NULL);
}

/* The request bodies of the flow for images offset .. offset + images - 1,
 * five calls per image, made before any clock starts (the harness's own
 * snprintf and SHA-256 are not the fake's time).  Free with flow_free. */
static call_rec *flow_prepare(const char *cfg, const char *layer, int images, int offset)
{
    call_rec *recs = calloc((size_t)images * 5, sizeof *recs);
    size_t k = 0;
    for (int i = offset; i < offset + images; i++) {
        /* a distinct small manifest; its digest, for DescribeImages by digest */
        char manifest[1024], escaped[1400], digest[ECRMOCK_DIGEST_SIZE] = "sha256:";
        int n = snprintf(manifest, sizeof manifest,
                         "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\","
                         "\"config\":{\"mediaType\":\"application/vnd.docker.container.image.v1+json\",\"size\":14,"
                         "\"digest\":\"%s\"},\"layers\":[{\"mediaType\":"
                         "\"application/vnd.docker.image.rootfs.diff.tar.gzip\",\"size\":11,\"digest\":\"%s\"}],"
                         "\"annotations\":{\"n\":\"%d\"}}",
                         cfg, layer, i);
        unsigned char md[32];
        EVP_Digest(manifest, (size_t)n, md, NULL, EVP_sha256(), NULL);
        for (int j = 0; j < 32; j++)
            sprintf(digest + 7 + 2 * j, "%02x", md[j]);
        size_t e = 0;
        for (int j = 0; j < n; j++) {
            if (manifest[j] == '"')
                escaped[e++] = '\\';
            escaped[e++] = manifest[j];
        }
        escaped[e] = '\0';
        char b[1600];
        snprintf(b, sizeof b, "{\"repositoryName\":\"bench/app\",\"layerDigests\":[\"%s\",\"%s\"]}", cfg, layer);
        recs[k++] = (call_rec){"BatchCheckLayerAvailability", strdup(b), 0};
        snprintf(b, sizeof b, "{\"repositoryName\":\"bench/app\",\"imageTag\":\"v%d\",\"imageManifest\":\"%s\"}", i,
                 escaped);
        recs[k++] = (call_rec){"PutImage", strdup(b), 0};
        snprintf(b, sizeof b, "{\"repositoryName\":\"bench/app\",\"imageIds\":[{\"imageTag\":\"v%d\"}]}", i);
        recs[k++] = (call_rec){"BatchGetImage", strdup(b), 0};
        snprintf(b, sizeof b, "{\"repositoryName\":\"bench/app\",\"imageIds\":[{\"imageDigest\":\"%s\"}]}", digest);
        recs[k++] = (call_rec){"DescribeImages", strdup(b), 0};
        recs[k++] = (call_rec){"ListImages", strdup("{\"repositoryName\":\"bench/app\",\"maxResults\":10}"), 0};
    }
    for (size_t j = 0; j < k; j++)
        recs[j].len = strlen(recs[j].body);
    return recs;
}

static void flow_free(call_rec *recs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(recs[i].body);
    free(recs);
}

/* Runs n prepared calls; the responses go to out[] when it is not NULL
 * (freed otherwise).  Returns the number of calls made. */
static long flow_run(ecrmock *m, const call_rec *recs, size_t n, char **outs, size_t *out_lens)
{
    for (size_t i = 0; i < n; i++) {
        char *out = NULL;
        size_t len;
        if (ecrmock_call_raw(m, recs[i].action, recs[i].body, recs[i].len, &out, &len) != 200) {
            fprintf(stderr, "bench: %s failed: %s\n", recs[i].action, out);
            exit(1);
        }
        if (outs) {
            outs[i] = out;
            out_lens[i] = len;
        } else {
            free(out);
        }
    }
    return (long)n;
}

static ecrmock *quiet_instance(void)
{
    ecrmock *m = ecrmock_new(NULL);
    ecrmock_journal_enable(m, 0);
    return m;
}

/* jansson alone: parse one body (json_loadb, as the fake's wire level
 * does) and, when dump is set, serialise it compact into a malloc'd string. */
static void jansson_roundtrip(const char *body, size_t len, int dump)
{
    json_t *doc = json_loadb(body, len, 0, NULL);
    if (dump)
        free(json_dumps(doc, JSON_COMPACT));
    json_decref(doc);
}

static void bench_calls(void)
{
    figure rate = {"1. calls/s, mixed flow (call_raw, 1 thread)", "calls/s", ">= 300000", {0}, 1, 300000};
    figure ratio = {"1. overhead vs jansson parse+dump (same bodies)", "ratio", "<= 2.0", {0}, 0, 2.0};
    figure ratio2 = {"1. (info) vs parse req + parse&dump resp", "ratio", NULL, {0}, 0, 0};
    figure jrate = {"1. (info) jansson parse+dump, same bodies", "calls/s", NULL, {0}, 1, 0};
    int images = 4000;
    size_t n = (size_t)images * 5;
    for (int r = 0; r < REPEATS; r++) {
        ecrmock *m = quiet_instance();
        char cfg[ECRMOCK_DIGEST_SIZE], layer[ECRMOCK_DIGEST_SIZE];
        flow_setup(m, cfg, layer);
        call_rec *recs = flow_prepare(cfg, layer, images, 0);
        char **outs = calloc(n, sizeof *outs);
        size_t *lens = calloc(n, sizeof *lens);
        double t0 = now();
        long calls = flow_run(m, recs, n, outs, lens);
        double flow = now() - t0;
        rate.v[r] = (double)calls / flow;
        /* jansson alone on the same request and response bodies: each parsed
         * and serialised, the measure */
        t0 = now();
        for (size_t i = 0; i < n; i++) {
            jansson_roundtrip(recs[i].body, recs[i].len, 1);
            jansson_roundtrip(outs[i], lens[i], 1);
        }
        double full = now() - t0;
        /* the least any JSON-level fake does: parse the request, build (about
         * a parse) and serialise the response */
        t0 = now();
        for (size_t i = 0; i < n; i++) {
            jansson_roundtrip(recs[i].body, recs[i].len, 0);
            jansson_roundtrip(outs[i], lens[i], 1);
        }
        double least = now() - t0;
        ratio.v[r] = flow / full;
        ratio2.v[r] = flow / least;
        jrate.v[r] = (double)n / full;
        for (size_t i = 0; i < n; i++)
            free(outs[i]);
        free(outs);
        free(lens);
        flow_free(recs, n);
        ecrmock_free(m);
    }
    report(&rate);
    report(&ratio);
    report(&ratio2);
    report(&jrate);
}

/* ---- 2. instance cost --------------------------------------------------------------- */

static void bench_instances(void)
{
    figure f = {"2. ecrmock_new + ecrmock_free", "per s", ">= 200000", {0}, 1, 200000};
    for (int r = 0; r < REPEATS; r++) {
        int n = 200000;
        double t0 = now();
        for (int i = 0; i < n; i++)
            ecrmock_free(ecrmock_new(NULL));
        f.v[r] = n / (now() - t0);
    }
    report(&f);

    figure mem = {"2. memory per image held, beyond its manifest", "bytes", "<= 1024", {0}, 0, 1024};
    for (int r = 0; r < REPEATS; r++) {
        struct mallinfo2 before = mallinfo2();
        ecrmock *m = quiet_instance();
        int images = 20000;
        char *out = NULL;
        size_t len;
        char cfg[ECRMOCK_DIGEST_SIZE], layer[ECRMOCK_DIGEST_SIZE];
        flow_setup(m, cfg, layer); /* the repository and its two blobs */
        struct mallinfo2 mid = mallinfo2();
        size_t manifest_bytes = 0;
        for (int i = 0; i < images; i++) {
            char body[1024], manifest[600];
            int k = snprintf(manifest, sizeof manifest,
                             "{\\\"schemaVersion\\\":2,\\\"mediaType\\\":\\\"application/vnd.docker.distribution.manifest."
                             "v2+json\\\",\\\"config\\\":{\\\"mediaType\\\":\\\"x\\\",\\\"size\\\":14,\\\"digest\\\":\\\"%s\\\"},"
                             "\\\"layers\\\":[],\\\"n\\\":%d}",
                             cfg, i);
            manifest_bytes += (size_t)k - 20; /* the escapes are not stored */
            snprintf(body, sizeof body, "{\"repositoryName\":\"bench/app\",\"imageTag\":\"t%d\",\"imageManifest\":\"%s\"}", i,
                     manifest);
            raw(m, "PutImage", body, &out, &len);
            free(out);
        }
        struct mallinfo2 after = mallinfo2();
        mem.v[r] = ((double)(after.uordblks - mid.uordblks) - (double)manifest_bytes) / images;
        (void)before;
        ecrmock_free(m);
    }
    report(&mem);
}

/* ---- 3. layer throughput --------------------------------------------------------------- */

/* Pushes `total` bytes through the JSON level in parts of `part` bytes
 * (InitiateLayerUpload, UploadLayerPart with base64 text, CompleteLayerUpload
 * with digest md); the seconds spent inside the ecrmock_call calls.  b64 has
 * room for one part's text. */
static double json_push(const unsigned char *bytes, size_t total, size_t part, const unsigned char md[32], char *b64)
{
    double t0;
    ecrmock_options o = ECRMOCK_OPTIONS_INIT;
    ecrmock *m = ecrmock_new(&o);
    ecrmock_journal_enable(m, 0);
    json_t *resp = NULL, *req = json_pack("{s:s}", "repositoryName", "big");
    ecrmock_call(m, "CreateRepository", req, &resp);
    json_decref(req);
    json_decref(resp);
    /* Only the fake's calls are on the clock: each part's base64 text and
     * request object are made before its call starts (what a client
     * hands the JSON level), and freed after it returns. */
    double in_calls = 0;
    req = json_pack("{s:s}", "repositoryName", "big");
    t0 = now();
    ecrmock_call(m, "InitiateLayerUpload", req, &resp);
    in_calls += now() - t0;
    json_decref(req);
    char id[64];
    snprintf(id, sizeof id, "%s", json_string_value(json_object_get(resp, "uploadId")));
    json_decref(resp);
    for (size_t off = 0; off < total; off += part) {
        size_t n = total - off < part ? total - off : part;
        int blen = EVP_EncodeBlock((unsigned char *)b64, bytes + off, (int)n);
        req = json_pack("{s:s, s:s, s:I, s:I, s:s%}", "repositoryName", "big", "uploadId", id, "partFirstByte",
                        (json_int_t)off, "partLastByte", (json_int_t)(off + n - 1), "layerPartBlob", b64,
                        (size_t)blen);
        t0 = now();
        int status = ecrmock_call(m, "UploadLayerPart", req, &resp);
        in_calls += now() - t0;
        if (status != 200) {
            fprintf(stderr, "bench: UploadLayerPart failed\n");
            exit(1);
        }
        json_decref(req);
        json_decref(resp);
    }
    char digest[ECRMOCK_DIGEST_SIZE] = "sha256:";
    for (int i = 0; i < 32; i++)
        sprintf(digest + 7 + 2 * i, "%02x", md[i]);
    req = json_pack("{s:s, s:s, s:[s]}", "repositoryName", "big", "uploadId", id, "layerDigests", digest);
    t0 = now();
    int status = ecrmock_call(m, "CompleteLayerUpload", req, &resp);
    in_calls += now() - t0;
    if (status != 200) {
        fprintf(stderr, "bench: CompleteLayerUpload failed\n");
        exit(1);
    }
    json_decref(req);
    json_decref(resp);
    ecrmock_free(m);
    return in_calls;
}

static void bench_layer(void)
{
    size_t total = (size_t)256 << 20, part = (size_t)20 << 20;
    unsigned char *bytes = malloc(total);
    for (size_t i = 0; i < total; i++)
        bytes[i] = (unsigned char)(i * 2654435761u >> 13);
    figure sha = {"3. SHA-256 of this machine (one core)", "MB/s", NULL, {0}, 1, 0};
    figure push = {"3. 256 MiB layer push (JSON level)", "MB/s", NULL, {0}, 1, 0};
    figure frac = {"3. push speed / SHA-256 speed", "fraction", ">= 0.5", {0}, 1, 0.5};
    figure push10 = {"3. the same push in 10 MiB parts (partSize)", "MB/s", NULL, {0}, 1, 0};
    figure frac10 = {"3. 10 MiB parts / SHA-256 speed", "fraction", ">= 0.5", {0}, 1, 0.5};
    /* What any push must do besides hashing, measured alone in the same
     * run: decode the base64 with libcrypto, into memory already touched,
     * and into memory the process has not touched yet, as a push stores its
     * layer (page faults and the kernel's zeroing).  With SHA-256 the second
     * gives the best fraction a push could reach if JSON and validation
     * cost nothing. */
    figure dec = {"3. (info) base64 decode (libcrypto), warm memory", "MB/s", NULL, {0}, 1, 0};
    figure fresh = {"3. (info) the same, into untouched memory", "MB/s", NULL, {0}, 1, 0};
    figure floor_frac = {"3. (info) best fraction: hash + that decode", "fraction", NULL, {0}, 1, 0};
    char *b64 = malloc(4 * ((part + 2) / 3) + 1);
    unsigned char *warm = malloc(part + 3);
    for (int r = 0; r < REPEATS; r++) {
        unsigned char md[32];
        double t0 = now();
        EVP_Digest(bytes, total, md, NULL, EVP_sha256(), NULL);
        double t_sha = now() - t0;
        sha.v[r] = (double)total / 1e6 / t_sha;

        int blen0 = EVP_EncodeBlock((unsigned char *)b64, bytes, (int)part);
        memset(warm, 0, part + 3);
        double t_dec = 0;
        for (size_t off = 0; off < total; off += part) {
            t0 = now();
            EVP_DecodeBlock(warm, (unsigned char *)b64, blen0);
            t_dec += now() - t0;
        }
        dec.v[r] = (double)total / 1e6 / t_dec;
        /* the same decode into memory never touched, as a push's is */
        unsigned char *volatile untouched = malloc(total + part); /* volatile: the writes are kept */
        double t_fresh = 0;
        for (size_t off = 0; off < total; off += part) {
            t0 = now();
            EVP_DecodeBlock(untouched + off, (unsigned char *)b64, blen0);
            t_fresh += now() - t0;
        }
        sink += untouched[total / 2];
        free(untouched);
        fresh.v[r] = (double)total / 1e6 / t_fresh;
        floor_frac.v[r] = t_sha / (t_sha + t_fresh);

        double in_calls = json_push(bytes, total, part, md, b64);
        push.v[r] = (double)total / 1e6 / in_calls;
        frac.v[r] = push.v[r] / sha.v[r];
        /* the part size ECR's InitiateLayerUpload answers (10 MiB) */
        push10.v[r] = (double)total / 1e6 / json_push(bytes, total, (size_t)10 << 20, md, b64);
        frac10.v[r] = push10.v[r] / sha.v[r];
    }
    report(&sha);
    report(&push);
    report(&frac);
    report(&push10);
    report(&frac10);
    report(&dec);
    report(&fresh);
    report(&floor_frac);

    /* content-addressed: the same layer in 100 repositories */
    figure dedup = {"3. 256 MiB layer in 100 repositories: memory", "MiB", "~256", {0}, 0, 0};
    for (int r = 0; r < REPEATS; r++) {
        struct mallinfo2 before = mallinfo2();
        ecrmock *m = quiet_instance();
        for (int i = 0; i < 100; i++) {
            char name[32], body[64], *out = NULL;
            size_t len;
            snprintf(name, sizeof name, "repo%d", i);
            snprintf(body, sizeof body, "{\"repositoryName\":\"%s\"}", name);
            raw(m, "CreateRepository", body, &out, &len);
            free(out);
            ecrmock_put_layer(m, NULL, name, bytes, total, NULL, NULL);
        }
        struct mallinfo2 after = mallinfo2();
        dedup.v[r] = (double)(after.uordblks - before.uordblks + (after.hblkhd - before.hblkhd)) / (1 << 20);
        ecrmock_free(m);
    }
    report(&dedup);
    free(warm);
    free(b64);
    free(bytes);
}

/* ---- 4. scale --------------------------------------------------------------------------- */

static double time_calls(ecrmock *m, const char *action, const char *fmt, int n, int base)
{
    char body[512], *out = NULL;
    size_t len;
    double t0 = now();
    for (int i = 0; i < n; i++) {
        snprintf(body, sizeof body, fmt, base + i);
        raw(m, action, body, &out, &len);
        free(out);
    }
    return (now() - t0) / n * 1e6;
}

/* 10,000 repositories in one registry (ECR's quota): per-call time of
 * CreateRepository and DescribeRepositories by name at 10k against 100. */
static void bench_repositories(void)
{
    static const int sizes[] = {100, 10000};
    figure create[2], describe[2];
    static char names[4][64];
    for (int s = 0; s < 2; s++) {
        snprintf(names[s], 64, "4. CreateRepository at %d repositories", sizes[s]);
        snprintf(names[2 + s], 64, "4. DescribeRepositories at %d repositories", sizes[s]);
        create[s] = (figure){names[s], "us/call", NULL, {0}, 0, 0};
        describe[s] = (figure){names[2 + s], "us/call", NULL, {0}, 0, 0};
    }
    for (int r = 0; r < REPEATS; r++) {
        for (int s = 0; s < 2; s++) {
            ecrmock_options o = ECRMOCK_OPTIONS_INIT;
            o.max_repositories = 20000;
            ecrmock *m = ecrmock_new(&o);
            ecrmock_journal_enable(m, 0);
            char body[128], *out = NULL;
            size_t len;
            for (int i = 0; i < sizes[s]; i++) {
                snprintf(body, sizeof body, "{\"repositoryName\":\"team/repo-%d\"}", i);
                raw(m, "CreateRepository", body, &out, &len);
                free(out);
            }
            create[s].v[r] = time_calls(m, "CreateRepository", "{\"repositoryName\":\"more/repo-%d\"}", 500, 0);
            /* repositories 0..99 exist at both sizes: every call finds its name */
            double t = 0;
            for (int k = 0; k < 5; k++)
                t += time_calls(m, "DescribeRepositories", "{\"repositoryNames\":[\"team/repo-%d\"]}", 100, 0);
            describe[s].v[r] = t / 5;
            ecrmock_free(m);
        }
    }
    for (int s = 0; s < 2; s++)
        report(&create[s]);
    for (int s = 0; s < 2; s++)
        report(&describe[s]);
    const char *labels[2] = {"CreateRepository", "DescribeRepositories"};
    figure *sets[2] = {create, describe};
    for (int k = 0; k < 2; k++) {
        static char name[2][64];
        figure f = {NULL, "x", "<= 1.5", {0}, 0, 1.5};
        snprintf(name[k], 64, "4. %s per call, 10k / 100 repos", labels[k]);
        f.name = name[k];
        for (int r = 0; r < REPEATS; r++)
            f.v[r] = sets[k][1].v[r] / sets[k][0].v[r];
        report(&f);
    }
}

static long count_of(const char *s, size_t len, const char *needle)
{
    long n = 0;
    size_t k = strlen(needle);
    for (const char *p = s; (p = memmem(p, len - (size_t)(p - s), needle, k)); p += k)
        n++;
    return n;
}

/* The page's nextToken (malloc'd), or NULL on the last page. */
static char *next_token(const char *s, size_t len)
{
    static const char key[] = "\"nextToken\":\"";
    const char *p = memmem(s, len, key, sizeof key - 1);
    if (!p)
        return NULL;
    p += sizeof key - 1;
    return strndup(p, (size_t)(strchr(p, '"') - p));
}

/* One size of section 4 in a fresh repository: PutImage, BatchGetImage and
 * DescribeImages per call (us), and the per-item cost of walking every page
 * of ListImages and DescribeImages (us). */
static void scale_once(int size, double out[5])
{
    /* room for the 1000 timed pushes past the size: at 100k images the
     * quota (100,000) would refuse them all, and the figure would time
     * LimitExceededException's path instead of a push */
    ecrmock_options opts = ECRMOCK_OPTIONS_INIT;
    opts.max_images = (uint64_t)size + 1000;
    ecrmock *m = ecrmock_new(&opts);
    ecrmock_journal_enable(m, 0);
    char cfg[ECRMOCK_DIGEST_SIZE], layer[ECRMOCK_DIGEST_SIZE];
    flow_setup(m, cfg, layer);
    char fmt[512];
    snprintf(fmt, sizeof fmt,
             "{\"repositoryName\":\"bench/app\",\"imageTag\":\"t%%d\",\"imageManifest\":\"{\\\"schemaVersion\\\":2,"
             "\\\"mediaType\\\":\\\"application/vnd.docker.distribution.manifest.v2+json\\\",\\\"config\\\":{"
             "\\\"mediaType\\\":\\\"x\\\",\\\"size\\\":14,\\\"digest\\\":\\\"%s\\\"},\\\"layers\\\":[],\\\"n\\\":%%d}\"}",
             cfg);
    /* fill to the size, then time 1000 more puts, gets and describes */
    char body[1024], *o = NULL;
    size_t len;
    for (int i = 0; i < size; i++) {
        snprintf(body, sizeof body, fmt, i, i);
        raw(m, "PutImage", body, &o, &len);
        free(o);
    }
    double t0 = now();
    int refused = 0;
    for (int i = 0; i < 1000; i++) {
        snprintf(body, sizeof body, fmt, size + i, size + i);
        refused += raw(m, "PutImage", body, &o, &len) != 200;
        free(o);
    }
    out[0] = (now() - t0) / 1000 * 1e6;
    if (refused) {
        fprintf(stderr, "bench: %d of the timed PutImage calls at %d images failed\n", refused, size);
        exit(1);
    }
    out[1] = time_calls(m, "BatchGetImage", "{\"repositoryName\":\"bench/app\",\"imageIds\":[{\"imageTag\":\"t%d\"}]}",
                        1000, 0);
    out[2] = time_calls(m, "DescribeImages", "{\"repositoryName\":\"bench/app\",\"imageIds\":[{\"imageTag\":\"t%d\"}]}",
                        1000, 0);
    /* walk every page of ListImages and DescribeImages */
    for (int which = 0; which < 2; which++) {
        const char *action = which ? "DescribeImages" : "ListImages";
        long items = 0;
        char *token = NULL;
        t0 = now();
        do {
            if (token)
                snprintf(body, sizeof body, "{\"repositoryName\":\"bench/app\",\"maxResults\":1000,\"nextToken\":\"%s\"}",
                         token);
            else
                snprintf(body, sizeof body, "{\"repositoryName\":\"bench/app\",\"maxResults\":1000}");
            free(token);
            token = NULL;
            raw(m, action, body, &o, &len);
            /* the items and the token read off the bytes: the walk times
             * the fake, not a client's parse of 1000-item pages */
            items += count_of(o, len, "\"imageDigest\":");
            token = next_token(o, len);
            free(o);
        } while (token);
        out[3 + which] = (now() - t0) / (double)items * 1e6;
    }
    ecrmock_free(m);
}

/* Runs scale_once in a child process: every size starts from the same
 * fresh heap.  In one process, a 100k-image instance freed before the next
 * one is filled leaves glibc's free lists spread over ~150 MB, and every
 * allocation of the next walk (the fake's and the harness's own json_loadb)
 * pays cache misses in malloc: the walk at 100k measured 3x its per-item
 * cost at 1k that way, and flat in a fresh process (bench/PROFILE.md). */
static void scale_isolated(int size, double out[5])
{
    int fd[2];
    if (pipe(fd) < 0) {
        perror("bench: pipe");
        exit(1);
    }
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        perror("bench: fork");
        exit(1);
    }
    if (pid == 0) {
        close(fd[0]);
        scale_once(size, out);
        ssize_t w = write(fd[1], out, 5 * sizeof *out);
        _exit(w == (ssize_t)(5 * sizeof *out) ? 0 : 1);
    }
    close(fd[1]);
    ssize_t got = read(fd[0], out, 5 * sizeof *out);
    close(fd[0]);
    int st;
    waitpid(pid, &st, 0);
    if (got != (ssize_t)(5 * sizeof *out) || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        fprintf(stderr, "bench: the scale run at %d images failed\n", size);
        exit(1);
    }
}

static void bench_scale(void)
{
    static const int sizes[] = {1000, 10000, 100000};
    figure put[3], get[3], desc[3], walk_l[3], walk_d[3];
    for (int s = 0; s < 3; s++) {
        put[s] = (figure){NULL, "us/call", NULL, {0}, 0, 0};
        get[s] = (figure){NULL, "us/call", NULL, {0}, 0, 0};
        desc[s] = (figure){NULL, "us/call", NULL, {0}, 0, 0};
        walk_l[s] = (figure){NULL, "us/item", NULL, {0}, 0, 0};
        walk_d[s] = (figure){NULL, "us/item", NULL, {0}, 0, 0};
    }
    for (int r = 0; r < REPEATS; r++) {
        for (int s = 0; s < 3; s++) {
            double v[5];
            scale_isolated(sizes[s], v);
            put[s].v[r] = v[0];
            get[s].v[r] = v[1];
            desc[s].v[r] = v[2];
            walk_l[s].v[r] = v[3];
            walk_d[s].v[r] = v[4];
        }
    }
    static char names[15][64];
    for (int s = 0; s < 3; s++) {
        snprintf(names[s], 64, "4. PutImage at %dk images", sizes[s] / 1000);
        snprintf(names[3 + s], 64, "4. BatchGetImage at %dk images", sizes[s] / 1000);
        snprintf(names[6 + s], 64, "4. DescribeImages at %dk images", sizes[s] / 1000);
        snprintf(names[9 + s], 64, "4. ListImages walk at %dk (per item)", sizes[s] / 1000);
        snprintf(names[12 + s], 64, "4. DescribeImages walk at %dk (per item)", sizes[s] / 1000);
        put[s].name = names[s];
        get[s].name = names[3 + s];
        desc[s].name = names[6 + s];
        walk_l[s].name = names[9 + s];
        walk_d[s].name = names[12 + s];
    }
    for (int s = 0; s < 3; s++)
        report(&put[s]);
    for (int s = 0; s < 3; s++)
        report(&get[s]);
    for (int s = 0; s < 3; s++)
        report(&desc[s]);
    for (int s = 0; s < 3; s++)
        report(&walk_l[s]);
    for (int s = 0; s < 3; s++)
        report(&walk_d[s]);
    /* walking is linear when the per-item cost stays flat */
    for (int k = 0; k < 2; k++) {
        figure f = {NULL, "x", "<= 1.5", {0}, 0, 1.5};
        static char name[2][64];
        figure *w = k ? walk_d : walk_l;
        snprintf(name[k], 64, "4. %s walk per item, 100k / 1k", k ? "DescribeImages" : "ListImages");
        f.name = name[k];
        for (int r = 0; r < REPEATS; r++)
            f.v[r] = w[2].v[r] / w[0].v[r];
        report(&f);
    }
    /* the 1.5x targets, on the medians */
    const char *labels[3] = {"PutImage", "BatchGetImage", "DescribeImages"};
    figure *sets[3] = {put, get, desc};
    for (int k = 0; k < 3; k++) {
        figure f = {NULL, "x", "<= 1.5", {0}, 0, 1.5};
        static char name[3][64];
        snprintf(name[k], 64, "4. %s per call, 100k / 1k", labels[k]);
        f.name = name[k];
        for (int r = 0; r < REPEATS; r++)
            f.v[r] = sets[k][2].v[r] / sets[k][0].v[r];
        report(&f);
    }
    bench_repositories();
}

/* ---- 5. concurrency ------------------------------------------------------------------------ */

typedef struct job {
    ecrmock *m;
    call_rec *recs;
    size_t n;
    long calls;
} job;

static void *run_job(void *arg)
{
    job *j = arg;
    j->calls = flow_run(j->m, j->recs, j->n, NULL, NULL);
    return NULL;
}

static void bench_threads(void)
{
    static const struct {
        const char *name;
        int threads, instances;
    } cases[] = {
        {"5. calls/s, 1 thread, 1 instance", 1, 1},
        {"5. calls/s, 2 threads, 1 instance", 2, 1},
        {"5. calls/s, 2 threads, 2 instances", 2, 2},
    };
    for (size_t c = 0; c < 3; c++) {
        figure f = {cases[c].name, "calls/s", NULL, {0}, 1, 0};
        for (int r = 0; r < REPEATS; r++) {
            ecrmock *ms[2] = {quiet_instance(), quiet_instance()};
            /* the repositories, blobs and request bodies exist before the threads start */
            char cfg[ECRMOCK_DIGEST_SIZE], layer[ECRMOCK_DIGEST_SIZE];
            for (int i = 0; i < 2; i++)
                flow_setup(ms[i], cfg, layer);
            pthread_t t[2];
            job jobs[2];
            for (int i = 0; i < cases[c].threads; i++)
                jobs[i] = (job){ms[cases[c].instances == 2 ? i : 0], flow_prepare(cfg, layer, 2000, 1 + i * 100000),
                                2000 * 5, 0};
            double t0 = now();
            for (int i = 0; i < cases[c].threads; i++)
                pthread_create(&t[i], NULL, run_job, &jobs[i]);
            long calls = 0;
            for (int i = 0; i < cases[c].threads; i++) {
                pthread_join(t[i], NULL);
                calls += jobs[i].calls;
            }
            f.v[r] = calls / (now() - t0);
            for (int i = 0; i < cases[c].threads; i++)
                flow_free(jobs[i].recs, jobs[i].n);
            ecrmock_free(ms[0]);
            ecrmock_free(ms[1]);
        }
        report(&f);
    }
}

/* ---- 6. the registry plane ------------------------------------------------------------ */

#define REG_HOST "123456789012.dkr.ecr.us-east-1.amazonaws.com"

/* One registry request; the status (the response left in *r to release). */
static int reg_request(ecrmock *m, const char *auth, const char *method, const char *target, const char *range,
                       const void *body, size_t len, ecrmock_http_response *r)
{
    ecrmock_http_header h[3] = {{"Host", REG_HOST}, {"Authorization", auth}, {"Content-Range", range}};
    ecrmock_http_request req = ECRMOCK_HTTP_REQUEST_INIT;
    req.method = method;
    req.target = target;
    req.headers = h;
    req.n_headers = range ? 3 : 2;
    req.body = body;
    req.body_len = len;
    return ecrmock_http_handle(m, &req, r);
}

/* The path of a Location on the registry host. */
static const char *reg_path(const char *location)
{
    const char *base = "https://" REG_HOST;
    return location && strncmp(location, base, strlen(base)) == 0 ? location + strlen(base) : location;
}

/* Pushes `total` bytes as a layer of "big" in PATCH chunks of `chunk`
 * bytes, then PUT ?digest=; the seconds spent in ecrmock_http_handle. */
static double reg_push(ecrmock *m, const char *auth, const unsigned char *bytes, size_t total, size_t chunk,
                       const char *digest)
{
    ecrmock_http_response r;
    char loc[512], target[700], range[64];
    double t = 0, t0 = now();
    int st = reg_request(m, auth, "POST", "/v2/big/blobs/uploads/", NULL, NULL, 0, &r);
    t += now() - t0;
    if (st != 202) {
        fprintf(stderr, "bench: registry POST: %d %s\n", st, r.body ? r.body : "");
        exit(1);
    }
    snprintf(loc, sizeof loc, "%s", reg_path(ecrmock_http_response_header(&r, "Location")));
    ecrmock_http_response_release(&r);
    for (size_t off = 0; off < total; off += chunk) {
        size_t n = total - off < chunk ? total - off : chunk;
        snprintf(range, sizeof range, "%zu-%zu", off, off + n - 1);
        t0 = now();
        st = reg_request(m, auth, "PATCH", loc, range, bytes + off, n, &r);
        t += now() - t0;
        if (st != 201) {
            fprintf(stderr, "bench: registry PATCH: %d %s\n", st, r.body ? r.body : "");
            exit(1);
        }
        snprintf(loc, sizeof loc, "%s", reg_path(ecrmock_http_response_header(&r, "Location")));
        ecrmock_http_response_release(&r);
    }
    snprintf(target, sizeof target, "%s?digest=%s", loc, digest);
    t0 = now();
    st = reg_request(m, auth, "PUT", target, NULL, NULL, 0, &r);
    t += now() - t0;
    if (st != 201) {
        fprintf(stderr, "bench: registry PUT: %d %s\n", st, r.body ? r.body : "");
        exit(1);
    }
    ecrmock_http_response_release(&r);
    return t;
}

static void bench_registry(void)
{
    size_t total = (size_t)256 << 20, chunk = (size_t)20 << 20;
    unsigned char *bytes = malloc(total);
    for (size_t i = 0; i < total; i++)
        bytes[i] = (unsigned char)(i * 2654435761u >> 13);
    figure sha = {"6. SHA-256 of this machine (one core)", "MB/s", NULL, {0}, 1, 0};
    figure one = {"6. registry push, one PATCH", "MB/s", NULL, {0}, 1, 0};
    figure one_frac = {"6. one PATCH / SHA-256 speed", "fraction", ">= 0.8", {0}, 1, 0.8};
    figure chunked = {"6. registry push, 20 MiB PATCH chunks", "MB/s", NULL, {0}, 1, 0};
    figure chunked_frac = {"6. 20 MiB chunks / SHA-256 speed", "fraction", ">= 0.8", {0}, 1, 0.8};
    figure pull = {"6. registry pull (GET, 307, download URL)", "MB/s", NULL, {0}, 1, 0};
    for (int r = 0; r < REPEATS; r++) {
        unsigned char md[32];
        double t0 = now();
        EVP_Digest(bytes, total, md, NULL, EVP_sha256(), NULL);
        sha.v[r] = (double)total / 1e6 / (now() - t0);
        char digest[ECRMOCK_DIGEST_SIZE] = "sha256:";
        for (int i = 0; i < 32; i++)
            sprintf(digest + 7 + 2 * i, "%02x", md[i]);

        for (int mode = 0; mode < 2; mode++) {
            ecrmock *m = quiet_instance();
            char *out = NULL, auth[8300], token[8192];
            size_t len;
            raw(m, "CreateRepository", "{\"repositoryName\":\"big\"}", &out, &len);
            free(out);
            raw(m, "GetAuthorizationToken", "{}", &out, &len);
            json_t *doc = json_loadb(out, len, 0, NULL);
            snprintf(token, sizeof token, "%s",
                     json_string_value(json_object_get(json_array_get(json_object_get(doc, "authorizationData"), 0),
                                                       "authorizationToken")));
            json_decref(doc);
            free(out);
            snprintf(auth, sizeof auth, "Basic %s", token);
            double t = reg_push(m, auth, bytes, total, mode == 0 ? total : chunk, digest);
            figure *speed = mode == 0 ? &one : &chunked, *frac = mode == 0 ? &one_frac : &chunked_frac;
            speed->v[r] = (double)total / 1e6 / t;
            frac->v[r] = speed->v[r] / sha.v[r];
            if (mode == 1) { /* an image names the layer, then it is pulled back: the 307, the download URL */
                ecrmock_http_response a, b;
                char target[300], config_digest[ECRMOCK_DIGEST_SIZE] = "sha256:", manifest[1024];
                const char *config = "{\"architecture\":\"amd64\",\"os\":\"linux\"}";
                unsigned char cmd[32];
                EVP_Digest(config, strlen(config), cmd, NULL, EVP_sha256(), NULL);
                for (int i = 0; i < 32; i++)
                    sprintf(config_digest + 7 + 2 * i, "%02x", cmd[i]);
                reg_push(m, auth, (const unsigned char *)config, strlen(config), strlen(config), config_digest);
                int mlen = snprintf(manifest, sizeof manifest,
                                    "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                                    "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"size\":%zu,"
                                    "\"digest\":\"%s\"},\"layers\":[{\"mediaType\":"
                                    "\"application/vnd.oci.image.layer.v1.tar\",\"size\":%zu,\"digest\":\"%s\"}]}",
                                    strlen(config), config_digest, total, digest);
                ecrmock_http_header mh[3] = {{"Host", REG_HOST}, {"Authorization", auth},
                                             {"Content-Type", "application/vnd.oci.image.manifest.v1+json"}};
                ecrmock_http_request put = ECRMOCK_HTTP_REQUEST_INIT;
                put.method = "PUT";
                put.target = "/v2/big/manifests/v1";
                put.headers = mh;
                put.n_headers = 3;
                put.body = manifest;
                put.body_len = (size_t)mlen;
                if (ecrmock_http_handle(m, &put, &a) != 201) {
                    fprintf(stderr, "bench: registry manifest PUT: %d %s\n", a.status, a.body ? a.body : "");
                    exit(1);
                }
                ecrmock_http_response_release(&a);
                snprintf(target, sizeof target, "/v2/big/blobs/%s", digest);
                t0 = now();
                int st = reg_request(m, auth, "GET", target, NULL, NULL, 0, &a);
                ecrmock_http_request get = ECRMOCK_HTTP_REQUEST_INIT;
                get.method = "GET";
                get.target = ecrmock_http_response_header(&a, "Location");
                int st2 = st == 307 && get.target ? ecrmock_http_handle(m, &get, &b) : -1;
                pull.v[r] = (double)total / 1e6 / (now() - t0);
                if (st2 != 200 || b.body_len != total || memcmp(b.body, bytes, total) != 0) {
                    fprintf(stderr, "bench: registry pull: %d then %d %s\n", st, st2, a.body ? a.body : "");
                    exit(1);
                }
                ecrmock_http_response_release(&b);
                ecrmock_http_response_release(&a);
            }
            ecrmock_free(m);
        }
    }
    report(&sha);
    report(&one);
    report(&one_frac);
    report(&chunked);
    report(&chunked_frac);
    report(&pull);
    free(bytes);
}

/* ---- j. the journal's cost and allocations per call (issue 19) ---------------------------- */

/* Allocations counted through the public hooks: ecrmock's own
 * (ecrmock_set_alloc_funcs) and jansson's (json_set_alloc_funcs), which
 * between them are every allocation a call makes.  One thread: a plain
 * counter. */
static unsigned long alloc_count;

static void *count_malloc(size_t n)
{
    alloc_count++;
    return malloc(n);
}

static void *count_realloc(void *p, size_t n)
{
    alloc_count++;
    return realloc(p, n);
}

static void count_alloc_hooks(int on)
{
    ecrmock_set_alloc_funcs(on ? count_malloc : NULL, on ? count_realloc : NULL, NULL);
    json_set_alloc_funcs(on ? count_malloc : malloc, free);
}

/* The hot actions of issue 19, each timed over its own run of calls. */
enum { J_PUT, J_GET, J_DESC_REPOS, J_DESC_IMAGES, J_ACTIONS };
static const char *const j_action[J_ACTIONS] = {"PutImage", "BatchGetImage", "DescribeRepositories", "DescribeImages"};

/* The flow over recs[] (flow_prepare's, `images` of them): each
 * image pushed, pulled and its repository described (`repos`). */
static void flow_calls(ecrmock *m, const call_rec *recs, int images, const char *repos)
{
    for (int i = 0; i < images; i++) {
        for (int k = 0; k < 3; k++) {
            const char *body = k == 2 ? repos : recs[5 * i + 1 + k].body;
            char *out = NULL;
            size_t n;
            if (ecrmock_call_raw(m, j_action[k], body, k == 2 ? strlen(repos) : recs[5 * i + 1 + k].len, &out, &n) != 200)
                exit(1);
            free(out);
        }
    }
}

/* 10,002 calls of the flow (PutImage, BatchGetImage, DescribeRepositories
 * of 3,334 other images) before the clock starts, so that the journal is
 * full (its default journal_limit) of the calls a long run of the flow
 * makes, and each timed call drops the oldest entry, as in that long run.
 * (Until session 6 it was filled with 10,000 DescribeRepositories: the
 * timed calls, larger, then made the journal's ring grow into pages not yet
 * touched, which is a journal filling, not a long run; bench/PROFILE.md
 * keeps both figures.) */
static void journal_fill(ecrmock *m, const char *cfg, const char *layer, const char *repos)
{
    enum { FILL = 3334 };
    call_rec *recs = flow_prepare(cfg, layer, FILL, 1000000);
    flow_calls(m, recs, FILL, repos);
    flow_free(recs, (size_t)FILL * 5);
}

/* Page faults taken in journal_run's timed loops, its last run. */
static long journal_run_faults;

static long minor_faults(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return u.ru_minflt;
}

/* A timed loop of section j is cut into J_CHUNKS chunks, each timed on
 * its own: a run's figure is the median chunk's (per call), and the whole
 * loop's mean is kept beside it.  A loop of 2,000 DescribeRepositories
 * lasts half a millisecond; a whole loop's mean takes in whatever else the
 * machine did meanwhile, which moved a run's journal share by several
 * points either way (-3.6 to 20.6% for DescribeRepositories in one
 * section j), where the median chunk's moved by one (bench/PROFILE.md,
 * session 10).  A cost the journal pays in fewer than half the chunks
 * would not show in the median: the whole loops' shares are printed as
 * info beside it. */
enum { J_CHUNKS = 10 };

/* The median of n values (sorted in place); n even: the two middle ones' mean. */
static double median_of(double *v, int n)
{
    qsort(v, (size_t)n, sizeof v[0], cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* One run's figures for journal on or off. */
typedef struct j_run {
    double us[J_ACTIONS];       /* us per call, the median chunk's */
    double us_whole[J_ACTIONS]; /* us per call over the whole loop */
    double allocs[J_ACTIONS];   /* allocations per call */
    double flow, flow_whole;    /* the mixed flow's calls/s: the median chunk's, the whole loop's */
} j_run;

/* One run: `images` PutImage, then as many BatchGetImage, DescribeRepositories
 * and DescribeImages, on a fresh instance with the journal on or off, then
 * the mixed flow (PutImage, BatchGetImage, DescribeRepositories of each image
 * in turn) on another, each loop timed in J_CHUNKS chunks; the page faults
 * of its timed loops into journal_run_faults. */
static void journal_run(int journal, int images, j_run *out)
{
    journal_run_faults = 0;
    ecrmock *m = ecrmock_new(NULL);
    ecrmock_journal_enable(m, journal);
    char cfg[ECRMOCK_DIGEST_SIZE], layer[ECRMOCK_DIGEST_SIZE];
    flow_setup(m, cfg, layer);
    call_rec *recs = flow_prepare(cfg, layer, images, 0); /* per image: BCLA, Put, Get, DescribeImages, List */
    const char *repos = "{\"repositoryNames\":[\"bench/app\"]}";
    size_t repos_len = strlen(repos);
    journal_fill(m, cfg, layer, repos);
    static const int slot[J_ACTIONS] = {1, 2, -1, 3};
    double chunk[J_CHUNKS];
    for (int k = 0; k < J_ACTIONS; k++) {
        unsigned long a0 = alloc_count;
        long f0 = minor_faults();
        double start = now();
        for (int c = 0; c < J_CHUNKS; c++) {
            int from = c * images / J_CHUNKS, to = (c + 1) * images / J_CHUNKS;
            double t0 = now();
            for (int i = from; i < to; i++) {
                const char *body = slot[k] < 0 ? repos : recs[5 * i + slot[k]].body;
                size_t len = slot[k] < 0 ? repos_len : recs[5 * i + slot[k]].len;
                char *resp = NULL;
                size_t n;
                if (ecrmock_call_raw(m, j_action[k], body, len, &resp, &n) != 200) {
                    fprintf(stderr, "bench: %s failed: %s\n", j_action[k], resp);
                    exit(1);
                }
                free(resp);
            }
            chunk[c] = (now() - t0) / (to - from) * 1e6;
        }
        out->us_whole[k] = (now() - start) / images * 1e6;
        out->us[k] = median_of(chunk, J_CHUNKS);
        journal_run_faults += minor_faults() - f0;
        out->allocs[k] = (double)(alloc_count - a0) / images;
    }
    flow_free(recs, (size_t)images * 5);
    ecrmock_free(m);

    /* the flow: each image pushed, pulled and its repository described */
    m = ecrmock_new(NULL);
    ecrmock_journal_enable(m, journal);
    flow_setup(m, cfg, layer);
    recs = flow_prepare(cfg, layer, images, images);
    journal_fill(m, cfg, layer, repos);
    long f0 = minor_faults();
    double start = now();
    for (int c = 0; c < J_CHUNKS; c++) {
        int from = c * images / J_CHUNKS, to = (c + 1) * images / J_CHUNKS;
        double t0 = now();
        flow_calls(m, recs + 5 * from, to - from, repos);
        chunk[c] = 3.0 * (to - from) / (now() - t0);
    }
    out->flow_whole = 3.0 * images / (now() - start);
    out->flow = median_of(chunk, J_CHUNKS);
    journal_run_faults += minor_faults() - f0;
    flow_free(recs, (size_t)images * 5);
    ecrmock_free(m);
}

/* The flow's floor: what its calls must do whatever the fake (issue 19,
 * "close to the physical limit"): each request read (em_jscan), PutImage's
 * manifest decoded, read and hashed, BatchGetImage's manifest escaped into
 * its answer, and each answer's bytes written (copied from the fake's own
 * answers, taken beforehand).  Calls/s at that floor, into *floor. */
static void journal_floor(int images, double *floor)
{
    ecrmock *m = ecrmock_new(NULL);
    char cfg[ECRMOCK_DIGEST_SIZE], layer[ECRMOCK_DIGEST_SIZE];
    flow_setup(m, cfg, layer);
    call_rec *recs = flow_prepare(cfg, layer, images, 0);
    const char *repos = "{\"repositoryNames\":[\"bench/app\"]}";
    char **answers = calloc((size_t)images * 3, sizeof *answers);
    size_t *lens = calloc((size_t)images * 3, sizeof *lens);
    char **manifests = calloc((size_t)images, sizeof *manifests);
    for (int i = 0; i < images; i++)
        for (int k = 0; k < 3; k++)
            if (raw(m, j_action[k], k == 2 ? repos : recs[5 * i + 1 + k].body, &answers[3 * i + k], &lens[3 * i + k]) != 200)
                exit(1);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_MD *md = EVP_MD_fetch(NULL, "SHA256", NULL);
    em_jtok toks[256];
    size_t n;
    char *decoded = malloc(4096), *out = malloc(8192);
    em_buf b = {0};
    em_buf_reserve(&b, 8192);
    double t0 = now();
    for (int i = 0; i < images; i++) {
        for (int k = 0; k < 3; k++) {
            const char *body = k == 2 ? repos : recs[5 * i + 1 + k].body;
            em_jscan(body, strlen(body), true, toks, 256, &n);
            if (k == 0) { /* the manifest: decoded, read, hashed */
                em_jdoc d = {.text = body, .t = toks, .n = n};
                size_t mi = em_jget(&d, 0, "imageManifest");
                size_t len = em_jstr_decode(&d, mi, decoded);
                em_jtok mt[64];
                em_jscan(decoded, len, false, mt, 64, &n);
                char digest[ECRMOCK_DIGEST_SIZE];
                em_sha256_digest_in(ctx, md, decoded, len, digest);
                manifests[i] = manifests[i] ? manifests[i] : strndup(decoded, len);
            } else if (k == 1) { /* the manifest escaped into the answer */
                b.len = 0;
                em_jw_string(&b, manifests[i], strlen(manifests[i]));
            }
            memcpy(out, answers[3 * i + k], lens[3 * i + k]);
            sink += (unsigned)out[lens[3 * i + k] / 2];
        }
    }
    *floor = 3.0 * images / (now() - t0);
    em_buf_release(&b);
    free(decoded);
    free(out);
    EVP_MD_free(md);
    EVP_MD_CTX_free(ctx);
    for (int i = 0; i < images * 3; i++)
        free(answers[i]);
    for (int i = 0; i < images; i++)
        free(manifests[i]);
    free(answers);
    free(lens);
    free(manifests);
    flow_free(recs, (size_t)images * 5);
    ecrmock_free(m);
}

/* The peak RSS (KiB) of the run named `run` (journal_rss_run or
 * journal_parts_run; main() knows them) with (journal, n), in a process of
 * its own. */
static long child_peak_rss(const char *run, int journal, int n)
{
    fflush(stdout);
    int fd[2];
    if (pipe(fd) < 0) {
        perror("bench: pipe");
        exit(1);
    }
    pid_t pid = fork();
    if (pid < 0) {
        perror("bench: fork");
        exit(1);
    }
    if (pid == 0) {
        /* A fresh image of this program, which reports its own peak
         * (VmHWM, its memory's alone) on the pipe: the kernel's ru_maxrss
         * of a child keeps what it had before exec, the parent's resident
         * pages (the earlier sections' heap), which a full `make bench`
         * then printed for both runs alike. */
        char j[16], k[16];
        snprintf(j, sizeof j, "%d", journal);
        snprintf(k, sizeof k, "%d", n);
        close(fd[0]);
        if (dup2(fd[1], STDOUT_FILENO) < 0)
            _exit(1);
        execl("/proc/self/exe", "bench", "--rss-child", run, j, k, (char *)NULL);
        perror("bench: exec /proc/self/exe");
        _exit(1);
    }
    close(fd[1]);
    char text[64] = "";
    ssize_t got = read(fd[0], text, sizeof text - 1);
    close(fd[0]);
    int st;
    long kib = got > 0 ? strtol(text, NULL, 10) : 0;
    if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0 || kib <= 0) {
        fprintf(stderr, "bench: an RSS run failed\n");
        exit(1);
    }
    return kib;
}

/* This process's peak resident memory in KiB (VmHWM), or 0. */
static long own_peak_rss(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = 0;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "VmHWM:", 6) == 0)
            kib = strtol(line + 6, NULL, 10);
    if (f)
        fclose(f);
    return kib;
}

/* Pushes `images` images, pulls and describes each one and, every 100
 * images, lists 1000 of them, with the journal on or off; the bodies are
 * made as it goes (none held).  Exits the process on failure. */
static void journal_rss_run(int journal, int images)
{
    ecrmock *m = ecrmock_new(NULL);
    ecrmock_journal_enable(m, journal);
    char cfg[ECRMOCK_DIGEST_SIZE], layer[ECRMOCK_DIGEST_SIZE];
    flow_setup(m, cfg, layer);
    char body[1600];
    for (int i = 0; i < images; i++) {
        char *out = NULL;
        size_t n;
        snprintf(body, sizeof body,
                 "{\"repositoryName\":\"bench/app\",\"imageTag\":\"v%d\",\"imageManifest\":\"{\\\"schemaVersion\\\":2,"
                 "\\\"mediaType\\\":\\\"application/vnd.docker.distribution.manifest.v2+json\\\",\\\"config\\\":{"
                 "\\\"mediaType\\\":\\\"application/vnd.docker.container.image.v1+json\\\",\\\"size\\\":14,"
                 "\\\"digest\\\":\\\"%s\\\"},\\\"layers\\\":[{\\\"mediaType\\\":"
                 "\\\"application/vnd.docker.image.rootfs.diff.tar.gzip\\\",\\\"size\\\":11,\\\"digest\\\":\\\"%s\\\"}],"
                 "\\\"annotations\\\":{\\\"n\\\":\\\"%d\\\"}}\"}",
                 i, cfg, layer, i);
        if (raw(m, "PutImage", body, &out, &n) != 200)
            _exit(1);
        free(out);
        snprintf(body, sizeof body, "{\"repositoryName\":\"bench/app\",\"imageIds\":[{\"imageTag\":\"v%d\"}]}", i);
        if (raw(m, "BatchGetImage", body, &out, &n) != 200)
            _exit(1);
        free(out);
        if (raw(m, "DescribeImages", body, &out, &n) != 200)
            _exit(1);
        free(out);
        if (i % 100 == 99) {
            if (raw(m, "ListImages", "{\"repositoryName\":\"bench/app\",\"maxResults\":1000}", &out, &n) != 200)
                _exit(1);
            free(out);
        }
    }
    ecrmock_free(m);
}

/* Uploads 20 parts of 13 MB (a 260 MB layer) through ecrmock_call, the
 * journal on or off; the harness holds one part, its base64 and its request
 * at a time.  Exits the process on failure. */
static void journal_parts_run(int journal, int parts)
{
    size_t part = 13000000;
    unsigned char *bytes = malloc(part);
    char *b64 = malloc(4 * ((part + 2) / 3) + 1);
    ecrmock *m = ecrmock_new(NULL);
    ecrmock_journal_enable(m, journal);
    json_t *resp = NULL, *req = json_pack("{s:s}", "repositoryName", "big");
    ecrmock_call(m, "CreateRepository", req, &resp);
    json_decref(req);
    json_decref(resp);
    req = json_pack("{s:s}", "repositoryName", "big");
    if (ecrmock_call(m, "InitiateLayerUpload", req, &resp) != 200)
        _exit(1);
    char id[128];
    snprintf(id, sizeof id, "%s", json_string_value(json_object_get(resp, "uploadId")));
    json_decref(req);
    json_decref(resp);
    for (size_t k = 0; k < (size_t)parts; k++) {
        for (size_t i = 0; i < part; i++)
            bytes[i] = (unsigned char)((k * part + i) * 2654435761u >> 13);
        int blen = EVP_EncodeBlock((unsigned char *)b64, bytes, (int)part);
        req = json_pack("{s:s, s:s, s:I, s:I, s:s%}", "repositoryName", "big", "uploadId", id, "partFirstByte",
                        (json_int_t)(k * part), "partLastByte", (json_int_t)((k + 1) * part - 1), "layerPartBlob",
                        b64, (size_t)blen);
        if (ecrmock_call(m, "UploadLayerPart", req, &resp) != 200) {
            fprintf(stderr, "bench: UploadLayerPart: %s\n", json_dumps(resp, 0));
            _exit(1);
        }
        json_decref(req);
        json_decref(resp);
    }
    ecrmock_free(m);
    free(bytes);
    free(b64);
}

static void bench_journal(void)
{
    static char names[5 * J_ACTIONS][72];
    figure us_on[J_ACTIONS], us_off[J_ACTIONS], cost[J_ACTIONS], cost_whole[J_ACTIONS], al_on[J_ACTIONS],
        al_off[J_ACTIONS];
    figure flow_on = {"j. calls/s, Put+Get+DescribeRepos, journal on", "calls/s", ">= 1000000", {0}, 1, 1e6};
    figure flow_off = {"j. (info) the same, journal off", "calls/s", NULL, {0}, 1, 0};
    figure flow_cost = {"j. journal's share of a flow call", "%", "<= 10", {0}, 0, 10};
    figure flow_cost_whole = {"j. (info) a flow call, whole loops", "%", NULL, {0}, 0, 0};
    figure flow_floor = {"j. (info) the flow at its floor (read, hash, write only)", "calls/s", NULL, {0}, 1, 0};
    figure flow_gap = {"j. (info) the fake's cost a flow call / the floor's", "x", NULL, {0}, 0, 0};
    for (int k = 0; k < J_ACTIONS; k++) {
        snprintf(names[k], 72, "j. %s, journal on", j_action[k]);
        snprintf(names[J_ACTIONS + k], 72, "j. (info) %s, journal off", j_action[k]);
        snprintf(names[2 * J_ACTIONS + k], 72, "j. %s: journal's share", j_action[k]);
        snprintf(names[3 * J_ACTIONS + k], 72, "j. %s allocations, journal on", j_action[k]);
        snprintf(names[4 * J_ACTIONS + k], 72, "j. (info) %s, whole loops", j_action[k]);
        us_on[k] = (figure){names[k], "us/call", NULL, {0}, 0, 0};
        us_off[k] = (figure){names[J_ACTIONS + k], "us/call", NULL, {0}, 0, 0};
        cost[k] = (figure){names[2 * J_ACTIONS + k], "%", "<= 10", {0}, 0, 10};
        cost_whole[k] = (figure){names[4 * J_ACTIONS + k], "%", NULL, {0}, 0, 0};
        al_on[k] = (figure){names[3 * J_ACTIONS + k], "allocs", "<= 10", {0}, 0, 10};
        al_off[k] = (figure){NULL, "allocs", NULL, {0}, 0, 0};
    }
    count_alloc_hooks(1);
    /* Runs first, not counted, until one takes no page fault in its timed
     * loops (at most 8): in a fresh process the first journals' byte rings
     * (tens of MB, still growing as larger entries replace the fill's) are
     * pages the process never had, and each costs a fault when a text first
     * reaches it (some 400 in 2,000 BatchGetImage calls, 0.4 us a call
     * here).  Freed, that memory stays with glibc (its mmap threshold rises
     * to the rings' size) and later instances take no fault, as in a test
     * process that made a few instances before.  The figures are that
     * steady state; the first run's, journal on, are printed as info beside
     * them (bench/PROFILE.md, session 8). */
    static char first_names[J_ACTIONS][80];
    figure first[J_ACTIONS], warm = {"j. (info) runs not counted, the last without a page fault", "runs", NULL, {0}, 0, 0},
           first_faults = {"j. (info) page faults in the first run's timed calls", "faults", NULL, {0}, 0, 0};
    {
        j_run w, later;
        journal_run(1, 2000, &w);
        for (int k = 0; k < J_ACTIONS; k++) {
            snprintf(first_names[k], sizeof first_names[k], "j. (info) %s, journal on, the process's first run",
                     j_action[k]);
            first[k] = (figure){first_names[k], "us/call", NULL, {0}, 0, 0};
        }
        long faults = journal_run_faults;
        int runs = 1;
        for (; journal_run_faults && runs < 8; runs++)
            journal_run(1, 2000, &later);
        for (int r = 0; r < REPEATS; r++) {
            for (int k = 0; k < J_ACTIONS; k++)
                first[k].v[r] = w.us[k];
            first_faults.v[r] = (double)faults;
            warm.v[r] = runs;
        }
        journal_run(0, 2000, &later);
    }
    for (int r = 0; r < REPEATS; r++) {
        j_run on, off;
        /* alternate which goes first: the machine is shared */
        if (r % 2) {
            journal_run(0, 2000, &off);
            journal_run(1, 2000, &on);
        } else {
            journal_run(1, 2000, &on);
            journal_run(0, 2000, &off);
        }
        for (int k = 0; k < J_ACTIONS; k++) {
            us_on[k].v[r] = on.us[k];
            us_off[k].v[r] = off.us[k];
            cost[k].v[r] = 100.0 * (on.us[k] - off.us[k]) / on.us[k];
            cost_whole[k].v[r] = 100.0 * (on.us_whole[k] - off.us_whole[k]) / on.us_whole[k];
            al_on[k].v[r] = on.allocs[k];
            al_off[k].v[r] = off.allocs[k];
        }
        flow_on.v[r] = on.flow;
        flow_off.v[r] = off.flow;
        flow_cost.v[r] = 100.0 * (1.0 / on.flow - 1.0 / off.flow) * on.flow;
        flow_cost_whole.v[r] = 100.0 * (1.0 / on.flow_whole - 1.0 / off.flow_whole) * on.flow_whole;
        journal_floor(2000, &flow_floor.v[r]);
        flow_gap.v[r] = flow_floor.v[r] / on.flow;
    }
    count_alloc_hooks(0);
    for (int k = 0; k < J_ACTIONS; k++)
        report(&us_on[k]);
    for (int k = 0; k < J_ACTIONS; k++)
        report(&us_off[k]);
    for (int k = 0; k < J_ACTIONS; k++)
        report(&first[k]);
    report(&first_faults);
    report(&warm);
    for (int k = 0; k < J_ACTIONS; k++) {
        report(&cost[k]);
        report(&cost_whole[k]);
    }
    for (int k = 0; k < J_ACTIONS; k++)
        report(&al_on[k]);
    static char off_names[J_ACTIONS][64];
    for (int k = 0; k < J_ACTIONS; k++) {
        snprintf(off_names[k], 64, "j. (info) %s allocs, off", j_action[k]);
        al_off[k].name = off_names[k];
        report(&al_off[k]);
    }
    report(&flow_on);
    report(&flow_off);
    report(&flow_cost);
    report(&flow_cost_whole);
    report(&flow_floor);
    report(&flow_gap);
    /* peak RSS: one run each (the figure is not noisy), its value in every slot */
    figure rss_on = {"j. peak RSS, 100k-image run, journal on", "MiB", NULL, {0}, 0, 0};
    figure rss_off = {"j. (info) the same, journal off", "MiB", NULL, {0}, 0, 0};
    figure rss_ratio = {"j. peak RSS 100k images, journal on / off", "x", "<= 1.5", {0}, 0, 1.5};
    long on = child_peak_rss("journal_rss_run", 1, 100000), off = child_peak_rss("journal_rss_run", 0, 100000);
    for (int r = 0; r < REPEATS; r++) {
        rss_on.v[r] = on / 1024.0;
        rss_off.v[r] = off / 1024.0;
        rss_ratio.v[r] = (double)on / (double)off;
    }
    report(&rss_on);
    report(&rss_off);
    report(&rss_ratio);
    figure parts_on = {"j. peak RSS, 20 parts of 13 MB, journal on", "MiB", NULL, {0}, 0, 0};
    figure parts_off = {"j. (info) the same, journal off", "MiB", NULL, {0}, 0, 0};
    on = child_peak_rss("journal_parts_run", 1, 20);
    off = child_peak_rss("journal_parts_run", 0, 20);
    for (int r = 0; r < REPEATS; r++) {
        parts_on.v[r] = on / 1024.0;
        parts_off.v[r] = off / 1024.0;
    }
    report(&parts_on);
    report(&parts_off);
}

/* ---- 7. issue 19: fixtures and memory per image ------------------------------------------ */

#define TEAM_FIXTURE "fixtures/team-registry.json"

static void bench_fixture_start(void)
{
    figure load = {"7. new + load team-registry.json + free", "us", NULL, {0}, 0, 0};
    figure prep = {"7. prepare team-registry.json (once)", "us", NULL, {0}, 0, 0};
    figure made = {"7. new_from_fixture (prepared) + free", "us", "<= 100", {0}, 0, 100};
    figure apply = {"7. fixture_apply (prepared) to a new instance", "us", "<= 100", {0}, 0, 100};
    json_t *doc = json_load_file(TEAM_FIXTURE, 0, NULL);
    if (!doc) {
        fprintf(stderr, "bench: %s: run from the source tree\n", TEAM_FIXTURE);
        exit(1);
    }
    for (int r = 0; r < REPEATS; r++) {
        int n = 300;
        ecrmock_err err;
        double t0 = now();
        for (int i = 0; i < n; i++) {
            ecrmock *m = ecrmock_new(NULL);
            if (ecrmock_fixture_load(m, doc, TEAM_FIXTURE, &err) != 0) {
                fprintf(stderr, "bench: %s: %s\n", err.path, err.text);
                exit(1);
            }
            ecrmock_free(m);
        }
        load.v[r] = (now() - t0) / n * 1e6;
        t0 = now();
        ecrmock_fixture *fx = ecrmock_fixture_prepare(doc, NULL, TEAM_FIXTURE, &err);
        prep.v[r] = (now() - t0) * 1e6;
        if (!fx) {
            fprintf(stderr, "bench: %s: %s\n", err.path, err.text);
            exit(1);
        }
        n = 3000;
        t0 = now();
        for (int i = 0; i < n; i++)
            ecrmock_free(ecrmock_new_from_fixture(fx, NULL));
        made.v[r] = (now() - t0) / n * 1e6;
        double in_apply = 0;
        for (int i = 0; i < n; i++) {
            ecrmock *m = ecrmock_new(NULL);
            t0 = now();
            sink += (unsigned)ecrmock_fixture_apply(m, fx, NULL);
            in_apply += now() - t0;
            ecrmock_free(m);
        }
        apply.v[r] = in_apply / n * 1e6;
        ecrmock_fixture_free(fx);
    }
    json_decref(doc);
    report(&load);
    report(&prep);
    report(&made);
    report(&apply);
}

/* What the allocator hands ecrmock and jansson, live: each chunk's usable
 * size plus glibc's 8-byte header (counted in the child only). */
static long long live_bytes;

static void *held_malloc(size_t n)
{
    void *p = malloc(n);
    if (p)
        live_bytes += (long long)(malloc_usable_size(p) + 8);
    return p;
}

static void *held_realloc(void *p, size_t n)
{
    long long old = p ? (long long)(malloc_usable_size(p) + 8) : 0;
    void *q = realloc(p, n);
    if (q)
        live_bytes += (long long)(malloc_usable_size(q) + 8) - old;
    return q;
}

static void held_free(void *p)
{
    if (p)
        live_bytes -= (long long)(malloc_usable_size(p) + 8);
    free(p);
}

/* In a child: 100k images (each tagged, a distinct small manifest naming
 * one config) pushed into one repository; the bytes held per image beyond
 * its manifest's text. */
static double image_bytes_once(int images)
{
    ecrmock_set_alloc_funcs(held_malloc, held_realloc, held_free);
    json_set_alloc_funcs(held_malloc, held_free);
    ecrmock *m = quiet_instance();
    char cfg[ECRMOCK_DIGEST_SIZE], layer[ECRMOCK_DIGEST_SIZE];
    flow_setup(m, cfg, layer);
    long long mid = live_bytes;
    double manifest_bytes = 0;
    for (int i = 0; i < images; i++) {
        char body[1024], manifest[600], *out = NULL;
        size_t len;
        int k = snprintf(manifest, sizeof manifest,
                         "{\\\"schemaVersion\\\":2,\\\"mediaType\\\":\\\"application/vnd.docker.distribution.manifest."
                         "v2+json\\\",\\\"config\\\":{\\\"mediaType\\\":\\\"application/vnd.docker.container.image.v1+json\\\","
                         "\\\"size\\\":14,\\\"digest\\\":\\\"%s\\\"},\\\"layers\\\":[],\\\"n\\\":%d}",
                         cfg, i);
        int stored = k;
        for (int j = 0; j < k; j++)
            stored -= manifest[j] == '\\'; /* the escapes are not stored */
        manifest_bytes += stored;
        snprintf(body, sizeof body, "{\"repositoryName\":\"bench/app\",\"imageTag\":\"t%d\",\"imageManifest\":\"%s\"}", i,
                 manifest);
        if (raw(m, "PutImage", body, &out, &len) != 200) {
            fprintf(stderr, "bench: PutImage: %s\n", out);
            exit(1);
        }
        ecrmock_buffer_free(out); /* through the counting hooks, as it was made */
    }
    double per = ((double)(live_bytes - mid) - manifest_bytes) / images;
    ecrmock_free(m);
    return per;
}

static void bench_image_memory(void)
{
    figure mem = {"7. bytes held per image beyond its manifest", "bytes", "<= 512", {0}, 0, 512};
    for (int r = 0; r < REPEATS; r++) {
        int fd[2];
        if (pipe(fd) < 0) {
            perror("bench: pipe");
            exit(1);
        }
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0) {
            close(fd[0]);
            double v = image_bytes_once(100000);
            _exit(write(fd[1], &v, sizeof v) == sizeof v ? 0 : 1);
        }
        close(fd[1]);
        int st;
        if (read(fd[0], &mem.v[r], sizeof mem.v[r]) != sizeof mem.v[r] || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) ||
            WEXITSTATUS(st) != 0) {
            fprintf(stderr, "bench: the memory run failed\n");
            exit(1);
        }
        close(fd[0]);
    }
    report(&mem);
}

/* ---- s. the loopback server, one keep-alive client ------------------------------------- */

/* One call of the flow as HTTP: the request's bytes as a client sends them
 * (no SigV4: the instance checks no signature unless told to), and the
 * same request as ecrmock_http_handle takes it, for the in-process cost. */
typedef struct wire_call {
    char *bytes;
    size_t len;
    ecrmock_http_header h[3];
    char target[128];
    const call_rec *rec;
} wire_call;

static wire_call *wire_prepare(const call_rec *recs, size_t n)
{
    wire_call *w = calloc(n, sizeof *w);
    for (size_t i = 0; i < n; i++) {
        snprintf(w[i].target, sizeof w[i].target, "AmazonEC2ContainerRegistry_V20150921.%s", recs[i].action);
        w[i].h[0] = (ecrmock_http_header){"Host", "127.0.0.1"};
        w[i].h[1] = (ecrmock_http_header){"Content-Type", "application/x-amz-json-1.1"};
        w[i].h[2] = (ecrmock_http_header){"X-Amz-Target", w[i].target};
        w[i].rec = &recs[i];
        if (asprintf(&w[i].bytes,
                     "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-amz-json-1.1\r\n"
                     "X-Amz-Target: %s\r\nContent-Length: %zu\r\n\r\n%s",
                     w[i].target, recs[i].len, recs[i].body) < 0)
            exit(1);
        w[i].len = strlen(w[i].bytes);
    }
    return w;
}

static void wire_free(wire_call *w, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(w[i].bytes);
    free(w);
}

static double cpu_of(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Writes each request on one keep-alive connection and reads its response
 * whole (headers, then Content-Length bytes) before the next: a blocking
 * socket, no library.  Exits on any status but 200. */
static void wire_drive(int fd, const wire_call *w, size_t n)
{
    static char buf[1 << 16];
    for (size_t i = 0; i < n; i++) {
        for (size_t off = 0; off < w[i].len;) {
            ssize_t k = write(fd, w[i].bytes + off, w[i].len - off);
            if (k <= 0) {
                perror("bench: server write");
                exit(1);
            }
            off += (size_t)k;
        }
        size_t have = 0, need = 0;
        char *eoh = NULL;
        for (;;) {
            ssize_t k = read(fd, buf + have, sizeof buf - 1 - have);
            if (k <= 0) {
                fprintf(stderr, "bench: server closed the connection at call %zu\n", i);
                exit(1);
            }
            have += (size_t)k;
            buf[have] = '\0';
            if (!eoh && (eoh = strstr(buf, "\r\n\r\n"))) {
                const char *cl = strcasestr(buf, "\r\nContent-Length:");
                if (strncmp(buf, "HTTP/1.1 200", 12) != 0 || !cl || cl > eoh) {
                    fprintf(stderr, "bench: %s over HTTP: %.300s\n", w[i].rec->action, buf);
                    exit(1);
                }
                need = (size_t)(eoh + 4 - buf) + strtoul(cl + 17, NULL, 10);
            }
            if (eoh && have >= need)
                break;
        }
        if (have != need) {
            fprintf(stderr, "bench: %zu bytes past a response\n", have - need);
            exit(1);
        }
    }
}


/* The CPU time (s) of every thread of process pid so far, from the
 * scheduler's nanosecond counts (/proc/PID/task/TID/schedstat). */
static double proc_cpu(pid_t pid)
{
    char dir[64];
    snprintf(dir, sizeof dir, "/proc/%d/task", (int)pid);
    DIR *d = opendir(dir);
    double sum = 0;
    for (struct dirent *e; d && (e = readdir(d));) {
        char path[400];
        unsigned long long ns;
        snprintf(path, sizeof path, "%s/%s/schedstat", dir, e->d_name);
        FILE *f = e->d_name[0] != '.' ? fopen(path, "r") : NULL;
        if (f && fscanf(f, "%llu", &ns) == 1)
            sum += (double)ns / 1e9;
        if (f)
            fclose(f);
    }
    if (d)
        closedir(d);
    return sum;
}

/* ecrmock-server (ECRMOCK_SERVER, else build/ecrmock-server) started with
 * its default flags and `fixture`; its port, and its pid in *pid. */
static int server_child(const char *fixture, pid_t *pid)
{
    const char *bin = getenv("ECRMOCK_SERVER") ? getenv("ECRMOCK_SERVER") : "build/ecrmock-server";
    int out[2];
    if (pipe(out) != 0)
        exit(1);
    *pid = fork();
    if (*pid == 0) {
        dup2(out[1], 1);
        close(out[0]);
        close(out[1]);
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 2);
        execl(bin, bin, "--port", "0", "--fixture", fixture, (char *)NULL);
        _exit(127);
    }
    close(out[1]);
    FILE *f = fdopen(out[0], "r");
    int port = 0;
    if (!f || fscanf(f, "%d", &port) != 1) {
        fprintf(stderr, "bench: %s did not start (set ECRMOCK_SERVER to the program)\n", bin);
        exit(1);
    }
    fclose(f);
    return port;
}

static int connect_loopback(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        perror("bench: connect");
        exit(1);
    }
    return fd;
}

/* The in-process CPU (us) a call of w[] costs through ecrmock_http_handle. */
static double http_in_process(ecrmock *m, const wire_call *w, size_t n)
{
    double c0 = cpu_of(CLOCK_PROCESS_CPUTIME_ID);
    for (size_t i = 0; i < n; i++) {
        ecrmock_http_request req = ECRMOCK_HTTP_REQUEST_INIT;
        req.method = "POST";
        req.target = "/";
        req.headers = w[i].h;
        req.n_headers = 3;
        req.body = w[i].rec->body;
        req.body_len = w[i].rec->len;
        ecrmock_http_response resp;
        if (ecrmock_http_handle(m, &req, &resp) != 200) {
            fprintf(stderr, "bench: %s in process: %s\n", w[i].rec->action, resp.body ? resp.body : "");
            exit(1);
        }
        ecrmock_http_response_release(&resp);
    }
    return (cpu_of(CLOCK_PROCESS_CPUTIME_ID) - c0) / (double)n * 1e6;
}

#define WARM 50 /* a connection's first requests, not timed */

/* Drives w[0..n) on fd, the first WARM untimed; the calls/s, and the
 * server's CPU per call in *cpu_us (what `server_cpu` counts) and the
 * client's in *client_us. */
static double drive_timed(int fd, const wire_call *w, size_t n, double (*server_cpu)(pid_t), pid_t pid,
                          double *cpu_us, double *client_us)
{
    wire_drive(fd, w, WARM);
    double t0 = now(), s0 = server_cpu(pid), k0 = cpu_of(CLOCK_THREAD_CPUTIME_ID);
    wire_drive(fd, w + WARM, n - WARM);
    double wall = now() - t0, mine = cpu_of(CLOCK_THREAD_CPUTIME_ID) - k0;
    *cpu_us = (server_cpu(pid) - s0) / (double)(n - WARM) * 1e6;
    *client_us = mine / (double)(n - WARM) * 1e6;
    return (double)(n - WARM) / wall;
}

/* The library's server threads in this process: the process's CPU less
 * this (the client's) thread's. */
static double own_threads_cpu(pid_t unused)
{
    (void)unused;
    return cpu_of(CLOCK_PROCESS_CPUTIME_ID) - cpu_of(CLOCK_THREAD_CPUTIME_ID);
}

/* This host's floor for section s: a bare TCP round trip on loopback (a
 * request of `len` bytes, an answer of as many; blocking sockets, no
 * library), between this process and a child, with the child on CPU
 * `child_cpu` and this process where it runs.  Round trips/s; the child's
 * CPU (us) a round trip in *child_us.  On a virtual machine a wakeup on
 * another core can cost tens of microseconds (an interrupt between CPUs that
 * the hypervisor carries): the figure on one core and on two tells the
 * host's part from the server's. */
#define FLOOR_TRIPS 5000
static double tcp_round_trips(int child_cpu, size_t len, double *child_us)
{
    int ls = socket(AF_INET, SOCK_STREAM, 0), one = 1, cpu_pipe[2];
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof a;
    if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof a) != 0 || getsockname(ls, (struct sockaddr *)&a, &al) != 0 ||
        listen(ls, 1) != 0 || pipe(cpu_pipe) != 0) {
        perror("bench: loopback floor");
        exit(1);
    }
    char *buf = calloc(1, 65536);
    pid_t pid = fork();
    if (pid == 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(child_cpu, &set);
        sched_setaffinity(0, sizeof set, &set);
        int c = accept(ls, NULL, NULL);
        setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        double c0 = 0;
        for (int i = 0; i < WARM + FLOOR_TRIPS; i++) {
            if (i == WARM)
                c0 = cpu_of(CLOCK_PROCESS_CPUTIME_ID);
            for (size_t got = 0; got < len;) {
                ssize_t k = read(c, buf, 65536);
                if (k <= 0)
                    _exit(1);
                got += (size_t)k;
            }
            if (write(c, buf, len) != (ssize_t)len)
                _exit(1);
        }
        double us = (cpu_of(CLOCK_PROCESS_CPUTIME_ID) - c0) / FLOOR_TRIPS * 1e6;
        _exit(write(cpu_pipe[1], &us, sizeof us) == sizeof us ? 0 : 1);
    }
    int fd = connect_loopback(ntohs(a.sin_port));
    double t0 = 0;
    for (int i = 0; i < WARM + FLOOR_TRIPS; i++) {
        if (i == WARM)
            t0 = now();
        if (write(fd, buf, len) != (ssize_t)len)
            exit(1);
        for (size_t got = 0; got < len;) {
            ssize_t k = read(fd, buf, 65536);
            if (k <= 0)
                exit(1);
            got += (size_t)k;
        }
    }
    double rate = FLOOR_TRIPS / (now() - t0);
    if (read(cpu_pipe[0], child_us, sizeof *child_us) != sizeof *child_us)
        exit(1);
    waitpid(pid, NULL, 0);
    close(fd);
    close(ls);
    close(cpu_pipe[0]);
    close(cpu_pipe[1]);
    free(buf);
    return rate;
}

/* Pins this process (and the threads and children it makes from now on)
 * to CPU `cpu`; the mask it had, in *was. */
static void pin_to(int cpu, cpu_set_t *was)
{
    cpu_set_t set;
    sched_getaffinity(0, sizeof *was, was);
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    sched_setaffinity(0, sizeof set, &set);
}

/* Every thread of process pid, moved to CPU `cpu`. */
static void move_process(pid_t pid, int cpu)
{
    char dir[64];
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    snprintf(dir, sizeof dir, "/proc/%d/task", (int)pid);
    DIR *d = opendir(dir);
    for (struct dirent *e; d && (e = readdir(d));)
        if (e->d_name[0] != '.')
            sched_setaffinity((pid_t)atoi(e->d_name), sizeof set, &set);
    if (d)
        closedir(d);
}

/* Another CPU this process may run on than `cpu`, or -1. */
static int other_cpu(const cpu_set_t *allowed, int cpu)
{
    for (int c = 0; c < CPU_SETSIZE; c++)
        if (c != cpu && CPU_ISSET(c, allowed))
            return c;
    return -1;
}

static void bench_server(void)
{
    /* the server library in this process, an instance with the journal off */
    figure rate = {"s. library: calls/s, 1 keep-alive client", "calls/s", NULL, {0}, 1, 0};
    figure scpu = {"s. library: server CPU per call", "us", NULL, {0}, 0, 0};
    figure inproc = {"s. library: same calls in process (journal off)", "us", NULL, {0}, 0, 0};
    figure ratio = {"s. library: server CPU / in-process cost", "ratio", NULL, {0}, 0, 0};
    /* ecrmock-server as a child, default flags (the journal on, as in the program) */
    figure crate = {"s. ecrmock-server: calls/s, 1 keep-alive client", "calls/s", ">= 60000", {0}, 1, 60000};
    figure ccpu = {"s. ecrmock-server: its CPU per call", "us", NULL, {0}, 0, 0};
    figure cin = {"s. ecrmock-server: same calls in process", "us", NULL, {0}, 0, 0};
    figure cratio = {"s. ecrmock-server: its CPU / in-process cost", "ratio", "<= 2.0", {0}, 0, 2.0};
    figure cold = {"s. (info) ecrmock-server's CPU, first 10k calls", "us", NULL, {0}, 0, 0};
    figure client = {"s. (info) the client's own CPU per call", "us", NULL, {0}, 0, 0};
    figure cross = {"s. (info) ecrmock-server, client on another core", "calls/s", NULL, {0}, 1, 0};
    figure floor1 = {"s. (info) bare TCP round trip, one core", "calls/s", NULL, {0}, 1, 0};
    figure floor1_cpu = {"s. (info) bare round trip, one core: CPU a side", "us", NULL, {0}, 0, 0};
    figure floor2 = {"s. (info) bare TCP round trip, two cores", "calls/s", NULL, {0}, 1, 0};
    /* The ratio a server would have whose only cost beyond the call is the
     * kernel's for a bare round trip: the least this host allows. */
    figure best = {"s. (info) ratio, server = call + bare trip", "ratio", NULL, {0}, 0, 0};
    int images = 2000, cross_images = 600;
    size_t n = (size_t)images * 5, cross_n = (size_t)cross_images * 5;
    /* The client and the server share one core, as the "one core"
     * has it: on this kind of host a wakeup across cores costs more than the
     * server's whole call (the floor figures); the figure across cores is
     * printed beside it. */
    cpu_set_t was;
    int cpu = sched_getcpu(), other;
    pin_to(cpu, &was);
    other = other_cpu(&was, cpu);
    for (int r = 0; r < REPEATS; r++) {
        double ignored_us;
        floor1.v[r] = tcp_round_trips(cpu, 600, &floor1_cpu.v[r]);
        floor2.v[r] = other >= 0 ? tcp_round_trips(other, 600, &ignored_us) : 0;
        /* Each side first makes a first pass of 10,000 calls (other images),
         * which fills the journal to its 10,000 entries: the timed pass is a
         * server's steady state, where each entry's memory is one dropped
         * (a first pass in a fresh process pays the page faults of a
         * growing heap: printed as info for the program). */
        char cfg[ECRMOCK_DIGEST_SIZE], layer[ECRMOCK_DIGEST_SIZE];
        ecrmock *m = quiet_instance();
        flow_setup(m, cfg, layer);
        call_rec *recs = flow_prepare(cfg, layer, images, 0), *first_recs = flow_prepare(cfg, layer, images, 100000);
        wire_call *w = wire_prepare(recs, n), *first = wire_prepare(first_recs, n);
        http_in_process(m, first, n);
        inproc.v[r] = http_in_process(m, w, n);
        ecrmock_free(m);

        m = quiet_instance();
        flow_setup(m, cfg, layer);
        ecrmock_server *s;
        int port;
        if (ecrmock_server_start(m, "127.0.0.1", 0, &port, &s) != 0) {
            fprintf(stderr, "bench: the server did not start\n");
            exit(1);
        }
        int fd = connect_loopback(port);
        double ignored, client_us;
        drive_timed(fd, first, n, own_threads_cpu, 0, &ignored, &client_us);
        rate.v[r] = drive_timed(fd, w, n, own_threads_cpu, 0, &scpu.v[r], &client_us);
        ratio.v[r] = scpu.v[r] / inproc.v[r];
        close(fd);
        ecrmock_server_stop(s);
        ecrmock_free(m);

        /* the program: its instance made as ecrmock-server makes it (journal
         * on), loaded from a snapshot of the flow's starting state */
        m = ecrmock_new(NULL);
        flow_setup(m, cfg, layer);
        char fixture[] = "/tmp/ecrmock-bench-XXXXXX";
        int ffd = mkstemp(fixture);
        json_t *snap = ecrmock_snapshot(m, NULL);
        FILE *ff = ffd >= 0 ? fdopen(ffd, "w") : NULL;
        if (!snap || !ff || json_dumpf(snap, ff, JSON_COMPACT) != 0 || fclose(ff) != 0)
            exit(1);
        json_decref(snap);
        http_in_process(m, first, n);
        cin.v[r] = http_in_process(m, w, n);
        ecrmock_free(m);
        pid_t pid;
        port = server_child(fixture, &pid);
        fd = connect_loopback(port);
        drive_timed(fd, first, n, proc_cpu, pid, &cold.v[r], &client_us);
        crate.v[r] = drive_timed(fd, w, n, proc_cpu, pid, &ccpu.v[r], &client.v[r]);
        cratio.v[r] = ccpu.v[r] / cin.v[r];
        best.v[r] = (cin.v[r] + floor1_cpu.v[r]) / cin.v[r];
        if (other >= 0) {
            /* the program's every thread moved to the other core, the client stays */
            call_rec *cross_recs = flow_prepare(cfg, layer, cross_images, 200000);
            wire_call *cw = wire_prepare(cross_recs, cross_n);
            move_process(pid, other);
            cross.v[r] = drive_timed(fd, cw, cross_n, proc_cpu, pid, &ignored, &client_us);
            wire_free(cw, cross_n);
            flow_free(cross_recs, cross_n);
        }
        close(fd);
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
        unlink(fixture);
        wire_free(w, n);
        wire_free(first, n);
        flow_free(recs, n);
        flow_free(first_recs, n);
    }
    report(&rate);
    report(&scpu);
    report(&inproc);
    report(&ratio);
    report(&crate);
    report(&ccpu);
    report(&cin);
    report(&cratio);
    report(&cold);
    report(&client);
    report(&cross);
    report(&floor1);
    report(&floor1_cpu);
    report(&floor2);
    report(&best);
    sched_setaffinity(0, sizeof was, &was);
}

/* ---- f. fixtures: synthesised and declared layers ----------------------------------- */

/* A 256 MiB synthesised layer ({"size", "seed"}) loaded from a fixture,
 * against SHA-256 of 256 MiB in the same run (target 0.8, issue 19); then a
 * fixture of 100,000 images over 1 GiB declared layers (a digest and a size,
 * no bytes), its text generated before the clock starts, loaded with
 * ecrmock_fixture_load_string (target: under a second, issue 19). */
static void bench_fixtures(void)
{
    size_t total = (size_t)256 << 20;
    unsigned char *bytes = malloc(total);
    for (size_t i = 0; i < total; i++)
        bytes[i] = (unsigned char)(i * 2654435761u >> 13);
    figure sha = {"f. SHA-256 of this machine (one core)", "MB/s", NULL, {0}, 1, 0};
    figure synth = {"f. 256 MiB synthesised layer, fixture load", "MB/s", NULL, {0}, 1, 0};
    figure synth_frac = {"f. synthesised layer / SHA-256 speed", "fraction", ">= 0.8", {0}, 1, 0.8};
    char text[256];
    snprintf(text, sizeof text,
             "{\"registries\": [{\"repositories\": [{\"name\": \"big\", \"layers\": [{\"size\": %zu, \"seed\": 7}]}]}]}",
             total);
    for (int r = 0; r < REPEATS; r++) {
        unsigned char md[32];
        double t0 = now();
        EVP_Digest(bytes, total, md, NULL, EVP_sha256(), NULL);
        sha.v[r] = (double)total / 1e6 / (now() - t0);
        ecrmock *m = quiet_instance();
        ecrmock_err err;
        t0 = now();
        if (ecrmock_fixture_load_string(m, text, "synth.json", &err) != 0) {
            fprintf(stderr, "bench: synthesised fixture: %s: %s\n", err.path, err.text);
            exit(1);
        }
        synth.v[r] = (double)total / 1e6 / (now() - t0);
        synth_frac.v[r] = synth.v[r] / sha.v[r];
        ecrmock_free(m);
    }
    report(&sha);
    report(&synth);
    report(&synth_frac);
    free(bytes);

    /* 100 repositories of 1,000 images; each image a 1 GiB base layer shared
     * by its repository and a 1 GiB layer of its own, both declared. */
    enum { REPOS = 100, PER_REPO = 1000 };
    size_t cap = (size_t)REPOS * PER_REPO * 320 + 4096, len = 0;
    char *fx = malloc(cap);
    len += (size_t)snprintf(fx + len, cap - len, "{\"registries\": [{\"repositories\": [");
    for (int repo = 0; repo < REPOS; repo++) {
        len += (size_t)snprintf(fx + len, cap - len, "%s{\"name\": \"team/app%d\", \"images\": [", repo ? "," : "", repo);
        for (int i = 0; i < PER_REPO; i++)
            len += (size_t)snprintf(fx + len, cap - len,
                                    "%s{\"tags\": [\"v%d\"], \"layers\": [{\"declaredSize\": 1073741824, \"digest\": "
                                    "\"sha256:%064x\"}, {\"declaredSize\": 1073741824, \"digest\": \"sha256:%056x%08x\"}]}",
                                    i ? "," : "", i, repo + 1, repo + 1, i + 1);
        len += (size_t)snprintf(fx + len, cap - len, "]}");
    }
    len += (size_t)snprintf(fx + len, cap - len, "]}]}");
    figure declared = {"f. 100,000 images over 1 GiB declared layers", "s", "< 1", {0}, 0, 1.0};
    for (int r = 0; r < REPEATS; r++) {
        ecrmock *m = quiet_instance();
        ecrmock_err err;
        double t0 = now();
        if (ecrmock_fixture_load_string(m, fx, "declared.json", &err) != 0) {
            fprintf(stderr, "bench: declared fixture: %s: %s\n", err.path, err.text);
            exit(1);
        }
        declared.v[r] = now() - t0;
        ecrmock_free(m);
    }
    report(&declared);
    free(fx);
}

int main(int argc, char **argv)
{
    /* child_peak_rss's run, in a process of its own */
    if (argc == 5 && strcmp(argv[1], "--rss-child") == 0) {
        void (*run)(int, int) = strcmp(argv[2], "journal_rss_run") == 0     ? journal_rss_run
                                : strcmp(argv[2], "journal_parts_run") == 0 ? journal_parts_run
                                                                            : NULL;
        if (!run)
            return 2;
        run(atoi(argv[3]), atoi(argv[4]));
        printf("%ld\n", own_peak_rss()); /* to child_peak_rss, on its pipe */
        return 0;
    }
    results = json_array();
    const char *only = argc > 1 ? argv[1] : NULL;
    printf("ecrmock %s benchmarks, %d runs each\n\n", ecrmock_version(), REPEATS);
    printf("%-46s %12s %12s %12s  %-8s %-16s %s\n", "figure", "min", "median", "max", "unit", "target", "");
    if (!only || strchr(only, '1'))
        bench_calls();
    if (!only || strchr(only, '2'))
        bench_instances();
    if (!only || strchr(only, '3'))
        bench_layer();
    if (!only || strchr(only, '4'))
        bench_scale();
    if (!only || strchr(only, '5'))
        bench_threads();
    if (!only || strchr(only, '6'))
        bench_registry();
    if (!only || strchr(only, 'j'))
        bench_journal();
    if (!only || strchr(only, '7')) {
        bench_fixture_start();
        bench_image_memory();
    }
    if (!only || strchr(only, 's'))
        bench_server();
    if (!only || strchr(only, 'f'))
        bench_fixtures();
    json_dump_file(results, "bench/results.json", JSON_INDENT(2));
    json_decref(results);
    printf("\nwritten: bench/results.json\n");
    return 0;
}
