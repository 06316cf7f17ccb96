/*
 * The loopback server (libecrmock_server): what a client sees over a real
 * socket that ecrmock_http_handle() alone cannot show: HEAD's
 * Content-Length, every request header kept, conflicting framing refused,
 * connections past select()'s limit served, idle ones closed.  Loopback
 * only (127.0.0.1), every socket with a receive timeout.
 */
#define _GNU_SOURCE
#include "helpers.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "ecrmock_server.h"

#define REPO "web"
#define TARGET_PREFIX "AmazonEC2ContainerRegistry_V20150921."

typedef struct fixture {
    ecrmock *m;
    ecrmock_server *s;
    int port;
} fixture;

static int start(void **state, unsigned int timeout_s, unsigned int request_timeout_s)
{
    fixture *f = calloc(1, sizeof *f);
    ecrmock_options o = ECRMOCK_OPTIONS_INIT;
    o.min_part_size = 1024;
    f->m = ecrmock_new(&o);
    ecrmock_server_options so = ECRMOCK_SERVER_OPTIONS_INIT;
    so.timeout_s = timeout_s;
    so.request_timeout_s = request_timeout_s;
    if (!f->m || ecrmock_server_start_with(f->m, &so, &f->port, &f->s) != 0)
        return -1;
    char base[64];
    snprintf(base, sizeof base, "http://127.0.0.1:%d", f->port);
    ecrmock_http_base_url_set(f->m, base, NULL);
    *state = f;
    return 0;
}

static int setup(void **state)
{
    return start(state, ECRMOCK_SERVER_DEFAULT_TIMEOUT_S, ECRMOCK_SERVER_DEFAULT_REQUEST_TIMEOUT_S);
}

static int setup_short_timeout(void **state)
{
    return start(state, 1, ECRMOCK_SERVER_DEFAULT_REQUEST_TIMEOUT_S);
}

static int setup_short_deadline(void **state)
{
    return start(state, ECRMOCK_SERVER_DEFAULT_TIMEOUT_S, 2);
}

static int teardown(void **state)
{
    fixture *f = *state;
    ecrmock_server_stop(f->s);
    ecrmock_free(f->m);
    free(f);
    return 0;
}

static void send_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
        assert_true(k > 0);
        p += k;
        n -= (size_t)k;
    }
}

/* Everything the server sends until it closes (the requests say
 * Connection: close), NUL-terminated; malloc'd. */
static char *read_all(int fd)
{
    size_t len = 0, cap = 4096;
    char *buf = malloc(cap);
    for (;;) {
        if (len + 1024 > cap)
            buf = realloc(buf, cap *= 2);
        ssize_t k = recv(fd, buf + len, cap - len - 1, 0);
        if (k <= 0)
            break;
        len += (size_t)k;
    }
    buf[len] = '\0';
    return buf;
}

/* Sends the raw request text, returns the raw response (malloc'd). */
static char *roundtrip(int port, const char *request, size_t len)
{
    int fd = dial(port);
    assert_true(fd >= 0);
    send_all(fd, request, len);
    char *r = read_all(fd);
    close(fd);
    return r;
}

static int status_of(const char *response)
{
    int st = 0;
    return sscanf(response, "HTTP/1.1 %d", &st) == 1 ? st : 0;
}

/* The value of a response header (case-insensitive name), copied into out. */
static bool header_of(const char *response, const char *name, char *out, size_t cap)
{
    size_t n = strlen(name);
    for (const char *p = strstr(response, "\r\n"); p && p[2] != '\r'; p = strstr(p + 2, "\r\n")) {
        if (strncasecmp(p + 2, name, n) == 0 && p[2 + n] == ':') {
            const char *v = p + 3 + n;
            while (*v == ' ')
                v++;
            snprintf(out, cap, "%.*s", (int)strcspn(v, "\r"), v);
            return true;
        }
    }
    return false;
}

/* An image whose first layer is "layer 0 of image 1" (18 bytes): the path
 * and query of its download URL (malloc'd). */
static char *download_path(ecrmock *m)
{
    create_repo(m, REPO);
    char *mf = make_manifest(m, REPO, 1, 1);
    free(put_image(m, REPO, mf, "v1"));
    json_t *doc = json_loads(mf, 0, NULL);
    free(mf);
    const char *digest =
        json_string_value(json_object_get(json_array_get(json_object_get(doc, "layers"), 0), "digest"));
    json_t *r = NULL;
    assert_ok(call(m, &r, "GetDownloadUrlForLayer", "{\"repositoryName\":\"" REPO "\",\"layerDigest\":\"%s\"}",
                   digest),
              r);
    json_decref(doc);
    const char *url = json_string_value(json_object_get(r, "downloadUrl"));
    char *path = strdup(strchr(strstr(url, "//") + 2, '/'));
    json_decref(r);
    return path;
}

/* ---- the tests ------------------------------------------------------------------- */

static void test_server_head_has_the_object_size(void **state)
{
    fixture *f = *state;
    char *path = download_path(f->m);
    char req[2048], v[64];
    for (int head = 0; head < 2; head++) {
        int n = snprintf(req, sizeof req, "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n\r\n",
                         head ? "HEAD" : "GET", path, f->port);
        char *r = roundtrip(f->port, req, (size_t)n);
        assert_int_equal(status_of(r), 200);
        assert_true(header_of(r, "Content-Length", v, sizeof v));
        assert_string_equal(v, "18");
        assert_true(header_of(r, "Accept-Ranges", v, sizeof v));
        assert_string_equal(v, "bytes");
        const char *body = strstr(r, "\r\n\r\n") + 4;
        assert_string_equal(body, head ? "" : "layer 0 of image 1");
        free(r);
    }
    /* a ranged HEAD: the range's length */
    int n = snprintf(req, sizeof req,
                     "HEAD %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nRange: bytes=0-4\r\nConnection: close\r\n\r\n", path,
                     f->port);
    char *r = roundtrip(f->port, req, (size_t)n);
    assert_int_equal(status_of(r), 206);
    assert_true(header_of(r, "Content-Length", v, sizeof v));
    assert_string_equal(v, "5");
    free(r);
    free(path);
}

/* A POST of DescribeRepositories with `pad` headers before X-Amz-Target. */
static char *post_after_headers(int port, int pad)
{
    size_t cap = 64 + (size_t)pad * 32 + 512, len = 0;
    char *req = malloc(cap);
    len += (size_t)snprintf(req + len, cap - len, "POST / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n", port);
    for (int i = 0; i < pad; i++)
        len += (size_t)snprintf(req + len, cap - len, "X-Pad-%d: %d\r\n", i, i);
    len += (size_t)snprintf(req + len, cap - len,
                            "X-Amz-Target: " TARGET_PREFIX "DescribeRepositories\r\n"
                            "Content-Type: application/x-amz-json-1.1\r\nContent-Length: 2\r\n"
                            "Connection: close\r\n\r\n{}");
    char *r = roundtrip(port, req, len);
    free(req);
    return r;
}

static void test_server_keeps_every_header(void **state)
{
    fixture *f = *state;
    create_repo(f->m, REPO);
    for (int pad = 100; pad <= 300; pad += 100) { /* 128 used to be the most kept */
        char *r = post_after_headers(f->port, pad);
        assert_int_equal(status_of(r), 200);
        assert_non_null(strstr(r, "\"repositoryName\":\"" REPO "\""));
        free(r);
    }
}

static void test_server_conflicting_content_length_is_400(void **state)
{
    fixture *f = *state;
    const char *req = "POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: " TARGET_PREFIX "CreateRepository\r\n"
                      "Content-Type: application/x-amz-json-1.1\r\nContent-Length: 2\r\nContent-Length: 26\r\n"
                      "Connection: close\r\n\r\n{\"repositoryName\":\"evil\"}";
    char *r = roundtrip(f->port, req, strlen(req));
    assert_int_equal(status_of(r), 400);
    free(r);
    json_t *out = NULL;
    assert_error(call(f->m, &out, "DescribeRepositories", "{\"repositoryNames\":[\"evil\"]}"), out, 400,
                 "RepositoryNotFoundException");
    assert_int_equal(ecrmock_call_count(f->m, "CreateRepository"), 0);
    /* the same length twice frames the body one way: accepted (RFC 9112, 6.3) */
    req = "POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: " TARGET_PREFIX "CreateRepository\r\n"
          "Content-Type: application/x-amz-json-1.1\r\nContent-Length: 25\r\nContent-Length: 25\r\n"
          "Connection: close\r\n\r\n{\"repositoryName\":\"good\"}";
    r = roundtrip(f->port, req, strlen(req));
    assert_int_equal(status_of(r), 200);
    free(r);
}

/* One response on a keep-alive connection: its status, and its body
 * (malloc'd, Content-Length bytes) in *body. */
static int read_one(int fd, char **body, size_t *len)
{
    size_t have = 0, cap = 1 << 16, need = 0;
    char *buf = malloc(cap), *eoh = NULL;
    for (;;) {
        if (have + 1 == cap)
            buf = realloc(buf, cap *= 2);
        ssize_t k = recv(fd, buf + have, cap - have - 1, 0);
        assert_true(k > 0);
        have += (size_t)k;
        buf[have] = '\0';
        if (!eoh && (eoh = strstr(buf, "\r\n\r\n"))) {
            char v[32];
            assert_true(header_of(buf, "Content-Length", v, sizeof v));
            need = (size_t)(eoh + 4 - buf) + strtoull(v, NULL, 10);
            if (need + 1 > cap)
                buf = realloc(buf, cap = need + 1);
            eoh = buf + (need - strtoull(v, NULL, 10)) - 4;
        }
        if (eoh && have >= need)
            break;
    }
    assert_int_equal(have, need); /* nothing past the response */
    int st = status_of(buf);
    *len = need - (size_t)(eoh + 4 - buf);
    *body = malloc(*len + 1);
    memcpy(*body, eoh + 4, *len);
    (*body)[*len] = '\0';
    free(buf);
    return st;
}

/* Responses go out from the handler's own buffers: a 3 MiB layer pulled
 * twice on one keep-alive connection, an API call between, each byte
 * for byte, and a path with and without a query. */
static void test_server_keep_alive_bodies_exact(void **state)
{
    fixture *f = *state;
    create_repo(f->m, REPO);
    size_t size = (size_t)3 << 20;
    unsigned char *bytes = malloc(size);
    for (size_t i = 0; i < size; i++)
        bytes[i] = (unsigned char)(i * 2654435761u >> 13);
    char digest[ECRMOCK_DIGEST_SIZE];
    assert_int_equal(ecrmock_put_layer(f->m, NULL, REPO, bytes, size, digest, NULL), 0);
    /* an image names it, or the layer is not the repository's to download */
    char cfg[ECRMOCK_DIGEST_SIZE], mf[1024];
    assert_int_equal(ecrmock_put_layer(f->m, NULL, REPO, "{}", 2, cfg, NULL), 0);
    snprintf(mf, sizeof mf,
             "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{"
             "\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"size\":2,\"digest\":\"%s\"},"
             "\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"size\":%zu,\"digest\":\"%s\"}]}",
             cfg, size, digest);
    free(put_image(f->m, REPO, mf, "big"));
    json_t *r = NULL;
    assert_ok(call(f->m, &r, "GetDownloadUrlForLayer", "{\"repositoryName\":\"" REPO "\",\"layerDigest\":\"%s\"}",
                   digest),
              r);
    const char *url = json_string_value(json_object_get(r, "downloadUrl"));
    char *path = strdup(strchr(strstr(url, "//") + 2, '/'));
    json_decref(r);
    assert_non_null(strchr(path, '?'));
    int fd = dial(f->port);
    assert_true(fd >= 0);
    char req[4096], *body;
    size_t len;
    for (int round = 0; round < 2; round++) {
        int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n", path, f->port);
        send_all(fd, req, (size_t)n);
        assert_int_equal(read_one(fd, &body, &len), 200);
        assert_int_equal(len, size);
        assert_memory_equal(body, bytes, size);
        free(body);
        n = snprintf(req, sizeof req,
                     "POST / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nX-Amz-Target: " TARGET_PREFIX "DescribeRepositories\r\n"
                     "Content-Type: application/x-amz-json-1.1\r\nContent-Length: 2\r\n\r\n{}",
                     f->port);
        send_all(fd, req, (size_t)n);
        assert_int_equal(read_one(fd, &body, &len), 200);
        assert_int_equal(len, strlen(body));
        assert_non_null(strstr(body, "\"repositoryName\":\"" REPO "\""));
        free(body);
    }
    close(fd);
    free(path);
    free(bytes);
}

/* A keep-alive connection's requests reuse its buffers (headers, body,
 * query): nothing of one request is seen by the next.  Each request below
 * would answer otherwise if it were: a header the next lacks (its
 * Content-Type), a longer body (concatenated: not JSON), a body past what
 * is kept (freed), a query the next lacks (its signature). */
static void test_server_keep_alive_requests_share_nothing(void **state)
{
    fixture *f = *state;
    char *path = download_path(f->m);
    size_t pad = 100000; /* past the body a connection keeps */
    size_t cap = pad + 8192;
    char *req = malloc(cap), *body;
    size_t len;
    int fd = dial(f->port);
    assert_true(fd >= 0);
    /* 1: many headers, application/json, a long body (trailing blanks are JSON's whitespace) */
    int n = snprintf(req, cap, "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Amz-Target: " TARGET_PREFIX
                     "CreateRepository\r\nContent-Type: application/json\r\n");
    for (int i = 0; i < 40; i++)
        n += snprintf(req + n, cap - (size_t)n, "X-Pad-%d: %d\r\n", i, i);
    const char *json = "{\"repositoryName\":\"first-of-the-connection\"}";
    n += snprintf(req + n, cap - (size_t)n, "Content-Length: %zu\r\n\r\n%s", strlen(json) + pad, json);
    memset(req + n, ' ', pad);
    send_all(fd, req, (size_t)n + pad);
    assert_int_equal(read_one(fd, &body, &len), 200);
    assert_non_null(strstr(body, "first-of-the-connection"));
    free(body);
    /* 2: no Content-Type, no body: the default type answers */
    n = snprintf(req, cap, "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Amz-Target: " TARGET_PREFIX
                 "DescribeRepositories\r\nContent-Length: 0\r\n\r\n");
    send_all(fd, req, (size_t)n);
    char head[8192];
    for (;;) { /* this one's headers too: looked at before read_one() takes the response */
        ssize_t k = recv(fd, head, sizeof head - 1, MSG_PEEK);
        assert_true(k > 0);
        head[k] = '\0';
        if (strstr(head, "\r\n\r\n"))
            break;
    }
    char type[128];
    assert_true(header_of(head, "Content-Type", type, sizeof type));
    assert_string_equal(type, "application/x-amz-json-1.1");
    assert_int_equal(read_one(fd, &body, &len), 200);
    assert_non_null(strstr(body, "first-of-the-connection"));
    free(body);
    json_t *e = ecrmock_journal_entry(f->m, -1, NULL); /* the headers it came with, and only those */
    json_t *h = json_object_get(e, "headers");
    assert_int_equal(json_object_size(h), 3);
    assert_non_null(json_object_get(h, "host"));
    assert_non_null(json_object_get(h, "x-amz-target"));
    assert_string_equal(json_string_value(json_object_get(h, "content-length")), "0");
    json_decref(e);
    /* 3 and 4: a body, then a shorter one (kept in the same buffer) */
    const char *names[] = {"second-of-the-connection", "third"};
    for (int i = 0; i < 2; i++) {
        n = snprintf(req, cap, "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Amz-Target: " TARGET_PREFIX
                     "CreateRepository\r\nContent-Type: application/x-amz-json-1.1\r\nContent-Length: %zu\r\n\r\n"
                     "{\"repositoryName\":\"%s\"}",
                     strlen(names[i]) + 21, names[i]);
        send_all(fd, req, (size_t)n);
        assert_int_equal(read_one(fd, &body, &len), 200);
        assert_non_null(strstr(body, names[i]));
        free(body);
    }
    /* 5 and 6: the download URL with its query, then without (unsigned: refused) */
    int alone;
    for (int i = 0; i < 2; i++) {
        n = snprintf(req, cap, "GET %.*s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n",
                     i ? (int)strcspn(path, "?") : (int)strlen(path), path, f->port);
        send_all(fd, req, (size_t)n);
        int st = read_one(fd, &body, &len);
        free(body);
        if (!i) {
            assert_int_equal(st, 200);
            continue;
        }
        n = snprintf(req, cap, "GET %.*s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n\r\n",
                     (int)strcspn(path, "?"), path, f->port);
        char *r = roundtrip(f->port, req, (size_t)n); /* the same request on a connection of its own */
        alone = status_of(r);
        free(r);
        assert_int_not_equal(alone, 200);
        assert_int_equal(st, alone);
    }
    close(fd);
    free(req);
    free(path);
}

/* ---- the library's allocator ------------------------------------------------------------ */

/* The run's allocator is marked_malloc's (helpers.h), installed in main():
 * freeing a block of ecrmock's with another function aborts the run. */

/* The server hands each response's body to microhttpd, which frees it once
 * sent: with the library's free function (the allocator ecrmock was given),
 * never the C library's.  Bodies of each kind (an API answer, a layer, an
 * S3 error) on one keep-alive connection: every block ecrmock made
 * is given back to the same allocator by the end. */
static void test_server_bodies_go_back_to_the_library(void **state)
{
    (void)state;
    long before = marked_live();
    void *st;
    assert_int_equal(start(&st, ECRMOCK_SERVER_DEFAULT_TIMEOUT_S, ECRMOCK_SERVER_DEFAULT_REQUEST_TIMEOUT_S), 0);
    fixture *f = st;
    assert_true(marked_live() > before);
    char *path = download_path(f->m);
    int fd = dial(f->port);
    assert_true(fd >= 0);
    char req[4096], *body;
    size_t len;
    for (int round = 0; round < 3; round++) {
        int n = snprintf(req, sizeof req,
                         "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Amz-Target: " TARGET_PREFIX "DescribeRepositories\r\n"
                         "Content-Type: application/x-amz-json-1.1\r\nContent-Length: 2\r\n\r\n{}");
        send_all(fd, req, (size_t)n);
        assert_int_equal(read_one(fd, &body, &len), 200);
        assert_non_null(strstr(body, REPO));
        free(body);
        n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n", path, f->port);
        send_all(fd, req, (size_t)n);
        assert_int_equal(read_one(fd, &body, &len), 200);
        assert_memory_equal(body, "layer 0 of image 1", 18);
        free(body);
        n = snprintf(req, sizeof req, "GET /nothing/here HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n", f->port);
        send_all(fd, req, (size_t)n);
        assert_int_not_equal(read_one(fd, &body, &len), 200);
        free(body);
    }
    close(fd);
    free(path);
    teardown(&st);
    assert_int_equal(marked_live(), before);
}

static void test_server_more_connections_than_select_holds(void **state)
{
    fixture *f = *state;
    enum { IDLE = 1100 }; /* select() stops at FD_SETSIZE (1024) */
    struct rlimit rl;
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < 2 * IDLE + 64)
        skip();
    struct rlimit want = rl;
    if (want.rlim_cur != RLIM_INFINITY && want.rlim_cur < 2 * IDLE + 64)
        want.rlim_cur = 2 * IDLE + 64;
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &want), 0);
    int *fds = malloc(IDLE * sizeof *fds);
    for (int i = 0; i < IDLE; i++) {
        fds[i] = dial(f->port);
        assert_true(fds[i] >= 0);
    }
    create_repo(f->m, REPO);
    char *r = post_after_headers(f->port, 0);
    assert_int_equal(status_of(r), 200);
    assert_non_null(strstr(r, "\"repositoryName\":\"" REPO "\""));
    free(r);
    for (int i = 0; i < IDLE; i++)
        close(fds[i]);
    free(fds);
    setrlimit(RLIMIT_NOFILE, &rl);
}

static void test_server_idle_connections_are_closed(void **state)
{
    fixture *f = *state; /* timeout_s = 1 */
    /* idle from the start, and idle in the middle of its headers */
    const char *sent[] = {"", "POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Tar"};
    for (int i = 0; i < 2; i++) {
        /* The time taken before the connection is made: the server's
         * timeout cannot start earlier (taken after, a client descheduled
         * for half a second between the two saw the close come early). */
        double t0 = seconds_now();
        int fd = dial(f->port);
        assert_true(fd >= 0);
        send_all(fd, sent[i], strlen(sent[i]));
        char *r = read_all(fd); /* returns when the server closes */
        double waited = seconds_now() - t0;
        assert_string_equal(r, "");
        assert_true(waited >= 0.5 && waited < 5.0);
        free(r);
        close(fd);
    }
    /* a client that keeps talking is served */
    create_repo(f->m, REPO);
    char *r = post_after_headers(f->port, 0);
    assert_int_equal(status_of(r), 200);
    free(r);
}

static void test_server_slowloris_is_cut(void **state)
{
    fixture *f = *state; /* idle timeout 30 s, request deadline 2 s */
    double t0 = seconds_now(), closed_at = 0; /* before the connection, as the deadline's start must be */
    int fd = dial(f->port);
    assert_true(fd >= 0);
    const char *req = "POST / HTTP/1.1\r\nHost: x\r\nX-Pad: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    /* a byte every 200 ms: never idle, never done */
    for (size_t i = 0; seconds_now() - t0 < 10.0; i = (i + 1) % strlen(req)) {
        char c;
        ssize_t k = recv(fd, &c, 1, MSG_DONTWAIT);
        if (k == 0 || (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK) ||
            send(fd, req + i, 1, MSG_NOSIGNAL) < 0) {
            closed_at = seconds_now() - t0;
            break;
        }
        struct timespec pause = {0, 200000000};
        nanosleep(&pause, NULL);
    }
    close(fd);
    assert_true(closed_at >= 1.5 && closed_at < 5.0);
    /* A keep-alive connection with requests in good time is not cut: eight
     * requests 0.3 s apart, 2.4 s in all, past the deadline of a single
     * one.  Each request is due 2 s after the one before it ended, so a
     * client or a server descheduled for up to 1.7 s still makes it (the
     * requests were 1.2 s apart: 0.8 s of slack). */
    create_repo(f->m, REPO);
    double opened = seconds_now();
    fd = dial(f->port);
    assert_true(fd >= 0);
    for (int i = 0; i < 8; i++) {
        const char *one = "POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: " TARGET_PREFIX "DescribeRepositories\r\n"
                          "Content-Type: application/x-amz-json-1.1\r\nContent-Length: 2\r\n\r\n{}";
        send_all(fd, one, strlen(one));
        char buf[4096];
        ssize_t k = recv(fd, buf, sizeof buf - 1, 0);
        assert_true(k > 0);
        buf[k] = '\0';
        assert_int_equal(status_of(buf), 200);
        struct timespec pause = {0, 300000000};
        nanosleep(&pause, NULL);
    }
    assert_true(seconds_now() - opened > 2.0);
    close(fd);
}

static void test_server_options_checked(void **state)
{
    fixture *f = *state;
    ecrmock_server *s = NULL;
    ecrmock_server_options o = ECRMOCK_SERVER_OPTIONS_INIT;
    assert_int_equal(ecrmock_server_start_with(f->m, NULL, NULL, &s), -1);
    assert_int_equal(ecrmock_server_start_with(NULL, &o, NULL, &s), -1);
    o.version = 99;
    assert_int_equal(ecrmock_server_start_with(f->m, &o, NULL, &s), -1);
    assert_null(s);
    o.version = ECRMOCK_SERVER_OPTIONS_VERSION;
    o.port = 70000;
    assert_int_equal(ecrmock_server_start_with(f->m, &o, NULL, &s), -1);
    o.port = 0;
    o.address = "not an address";
    assert_int_equal(ecrmock_server_start_with(f->m, &o, NULL, &s), -1);
    o.address = NULL;
    int port = 0;
    assert_int_equal(ecrmock_server_start_with(f->m, &o, &port, &s), 0);
    assert_true(port > 0 && port != f->port);
    ecrmock_server_stop(s);
}

/* ecrmock_server_listen(): each failure says what to change. */
static void expect_refused(ecrmock *m, const ecrmock_server_options *o, ecrmock_error code, const char *text)
{
    ecrmock_server *s = (ecrmock_server *)&s; /* not NULL: the call must clear it */
    ecrmock_err err = {ECRMOCK_ERR_OK, "stale", "stale"};
    assert_int_equal(ecrmock_server_listen(m, o, NULL, &s, &err), -1);
    assert_null(s);
    assert_int_equal(err.code, code);
    assert_string_equal(err.path, "");
    assert_string_equal(err.text, text);
}

/* A server on o->address at a port asked for by its number: an ephemeral
 * port, let go and asked for again.  Another process may take it in
 * between (a port assumed still free then failed the test): then another
 * one, for up to 10 s.  Its port in *port. */
static ecrmock_server *listen_by_number(ecrmock *m, ecrmock_server_options *o, int *port)
{
    double end = seconds_now() + 10.0;
    for (;;) {
        ecrmock_server *s = NULL;
        o->port = 0;
        assert_int_equal(ecrmock_server_listen(m, o, port, &s, NULL), 0);
        ecrmock_server_stop(s);
        o->port = *port;
        if (ecrmock_server_listen(m, o, NULL, &s, NULL) == 0)
            return s;
        assert_true(seconds_now() < end);
    }
}

static void test_server_listen_says_why(void **state)
{
    fixture *f = *state;
    ecrmock_server_options o = ECRMOCK_SERVER_OPTIONS_INIT;
    ecrmock_server *s = NULL;
    ecrmock_err err;
    assert_int_equal(ecrmock_server_listen(f->m, NULL, NULL, &s, &err), -1);
    assert_string_equal(err.text, "ecrmock_server_listen: o must not be NULL");
    assert_int_equal(ecrmock_server_listen(f->m, &o, NULL, NULL, &err), -1);
    assert_string_equal(err.text, "ecrmock_server_listen: out must not be NULL");
    expect_refused(NULL, &o, ECRMOCK_ERR_INVALID_PARAMETER, "ecrmock_server_listen: m must not be NULL");
    o.version = 99;
    expect_refused(f->m, &o, ECRMOCK_ERR_INVALID_PARAMETER,
                   "ecrmock_server_options.version is 99, not one this library knows (1 to 1): initialise the "
                   "options with ECRMOCK_SERVER_OPTIONS_INIT");
    o.version = ECRMOCK_SERVER_OPTIONS_VERSION;
    o.port = 65536;
    expect_refused(f->m, &o, ECRMOCK_ERR_INVALID_PARAMETER,
                   "ecrmock_server_options.port is 65536: must be 1 to 65535, or 0 for an ephemeral port");
    o.port = -1;
    expect_refused(f->m, &o, ECRMOCK_ERR_INVALID_PARAMETER,
                   "ecrmock_server_options.port is -1: must be 1 to 65535, or 0 for an ephemeral port");
    o.port = 0;
    o.address = "localhost";
    expect_refused(f->m, &o, ECRMOCK_ERR_INVALID_PARAMETER,
                   "ecrmock_server_options.address \"localhost\" is not an IPv4 or IPv6 literal (no name is looked "
                   "up): \"127.0.0.1\", \"::1\", \"0.0.0.0\"");
    /* The caller's bytes stay ASCII in the text, and a long address is cut. */
    o.address = "caf\xc3\xa9\"\n";
    expect_refused(f->m, &o, ECRMOCK_ERR_INVALID_PARAMETER,
                   "ecrmock_server_options.address \"caf\\xC3\\xA9\\x22\\x0A\" is not an IPv4 or IPv6 literal (no "
                   "name is looked up): \"127.0.0.1\", \"::1\", \"0.0.0.0\"");
    char lng[200];
    memset(lng, 'a', sizeof lng - 1);
    lng[sizeof lng - 1] = '\0';
    o.address = lng;
    assert_int_equal(ecrmock_server_listen(f->m, &o, NULL, &s, &err), -1);
    assert_non_null(strstr(err.text, "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...\" is not"));
    /* The fixture's server holds its port. */
    o.address = NULL;
    o.port = f->port;
    char want[256];
    snprintf(want, sizeof want, "cannot listen on 127.0.0.1:%d: the port is in use (another server holds it): "
             "choose another port, or 0 for an ephemeral one", f->port);
    expect_refused(f->m, &o, ECRMOCK_ERR_INVALID_PARAMETER, want);
    o.address = "::1";
    o.port = 0;
    int port = 0;
    if (ecrmock_server_listen(f->m, &o, &port, &s, &err) == 0) { /* a machine with IPv6 */
        ecrmock_server_stop(s);
        ecrmock_server *held = listen_by_number(f->m, &o, &port);
        snprintf(want, sizeof want, "cannot listen on [::1]:%d: the port is in use (another server holds it): "
                 "choose another port, or 0 for an ephemeral one", port);
        expect_refused(f->m, &o, ECRMOCK_ERR_INVALID_PARAMETER, want);
        ecrmock_server_stop(held);
    }
    /* 192.0.2.1 (TEST-NET-1, RFC 5737) is no interface of this machine. */
    o.address = "192.0.2.1";
    o.port = 0;
    expect_refused(f->m, &o, ECRMOCK_ERR_INVALID_PARAMETER,
                   "cannot listen on 192.0.2.1:0: the address is not one of this machine's (127.0.0.1, ::1 or an "
                   "interface's address)");
    /* An IPv4 address in IPv6's mapped form: the IPv6 socket is IPv6 only
     * (bind() said only "Invalid argument"). */
    o.address = "::ffff:127.0.0.1";
    expect_refused(f->m, &o, ECRMOCK_ERR_INVALID_PARAMETER,
                   "ecrmock_server_options.address \"::ffff:127.0.0.1\" is an IPv4 address written as IPv6 (the "
                   "server's IPv6 sockets take IPv6 only): give the IPv4 address itself, as \"127.0.0.1\"");
    /* No descriptor left: the process's limit, not the caller's options. */
    struct rlimit was;
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &was), 0);
    int lowest = dup(0); /* every descriptor below it is open */
    assert_true(lowest >= 0);
    close(lowest);
    struct rlimit none = {(rlim_t)lowest, was.rlim_max};
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &none), 0);
    o.address = NULL;
    o.port = 0;
    s = (ecrmock_server *)&s;
    int rc = ecrmock_server_listen(f->m, &o, NULL, &s, &err);
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &was), 0);
    assert_int_equal(rc, -1);
    assert_null(s);
    assert_int_equal(err.code, ECRMOCK_ERR_SERVER);
    assert_string_equal(err.text, "cannot listen on 127.0.0.1:0: no file descriptor left (ulimit -n)");
    /* Success clears what an earlier failure said. */
    o.address = NULL;
    err.code = ECRMOCK_ERR_SERVER;
    assert_int_equal(ecrmock_server_listen(f->m, &o, &port, &s, &err), 0);
    assert_int_equal(err.code, ECRMOCK_ERR_OK);
    assert_string_equal(err.text, "");
    assert_true(port > 0 && port != f->port);
    ecrmock_server_stop(s);
}

int main(void)
{
    ecrmock_set_alloc_funcs(marked_malloc, marked_realloc, marked_free); /* before any instance */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_server_bodies_go_back_to_the_library),
        cmocka_unit_test_setup_teardown(test_server_head_has_the_object_size, setup, teardown),
        cmocka_unit_test_setup_teardown(test_server_keeps_every_header, setup, teardown),
        cmocka_unit_test_setup_teardown(test_server_conflicting_content_length_is_400, setup, teardown),
        cmocka_unit_test_setup_teardown(test_server_keep_alive_bodies_exact, setup, teardown),
        cmocka_unit_test_setup_teardown(test_server_keep_alive_requests_share_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_server_more_connections_than_select_holds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_server_idle_connections_are_closed, setup_short_timeout, teardown),
        cmocka_unit_test_setup_teardown(test_server_slowloris_is_cut, setup_short_deadline, teardown),
        cmocka_unit_test_setup_teardown(test_server_options_checked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_server_listen_says_why, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
