/*
 * The loopback server's HTTPS side (ecrmock_server_start_tls): a client
 * with OpenSSL that trusts only the CA the server wrote reaches the fake
 * on the HTTPS port and through a CONNECT tunnel on the plain port, for
 * ECR's host names only, and the region comes from the host.  Loopback
 * only, every socket with a receive timeout.
 */
#define _GNU_SOURCE
#include "helpers.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "ecrmock_server.h"

#define TARGET_PREFIX "AmazonEC2ContainerRegistry_V20150921."
#define API_EAST "api.ecr.us-east-1.amazonaws.com"
#define API_WEST "api.ecr.us-west-2.amazonaws.com"
#define REGISTRY_EAST "123456789012.dkr.ecr.us-east-1.amazonaws.com"

typedef struct fixture {
    ecrmock *m;
    ecrmock_server *s;
    int port, https_port;
    char ca_path[64];
    SSL_CTX *client; /* trusts the server's CA, and nothing else */
} fixture;

static SSL_CTX *client_trusting(const char *pem)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    BIO *b = BIO_new_mem_buf(pem, -1);
    X509 *ca = PEM_read_bio_X509(b, NULL, NULL, NULL);
    assert_non_null(ca);
    assert_int_equal(X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), ca), 1);
    X509_free(ca);
    BIO_free(b);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    return ctx;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char *buf = calloc(1, 65536);
    size_t n = fread(buf, 1, 65535, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* Starts the server of the tests: an HTTPS port, proxy mode, the CA
 * written to a scratch file; a client context that trusts only that CA. */
static int start_server(fixture *f, unsigned int timeout_s, unsigned int max_connections)
{
    f->m = ecrmock_new(NULL);
    static int started; /* the test's thread only */
    snprintf(f->ca_path, sizeof f->ca_path, "/tmp/ecrmock-tls-ca-%ld-%d.pem", (long)getpid(), ++started);
    ecrmock_server_options so = ECRMOCK_SERVER_OPTIONS_INIT;
    so.timeout_s = timeout_s;
    so.max_connections = max_connections;
    ecrmock_server_tls_options to = ECRMOCK_SERVER_TLS_OPTIONS_INIT;
    to.https_port = 0;
    to.proxy = 1;
    to.ca_out = f->ca_path;
    ecrmock_err err;
    if (!f->m || ecrmock_server_start_tls(f->m, &so, &to, &f->port, &f->s, &err) != 0) {
        fprintf(stderr, "start_server: %s\n", err.text);
        return -1;
    }
    f->https_port = ecrmock_server_https_port(f->s);
    f->client = client_trusting(ecrmock_server_ca_pem(f->s));
    return 0;
}

static void stop_server(fixture *f)
{
    ecrmock_server_stop(f->s);
    ecrmock_free(f->m);
    SSL_CTX_free(f->client);
    unlink(f->ca_path);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (start_server(f, 10, 0) != 0)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    stop_server(f);
    free(f);
    return 0;
}

static int dial_ok(int port)
{
    int fd = dial(port);
    assert_true(fd >= 0);
    return fd;
}

/* Up to cap-1 bytes until the peer closes, NUL-terminated. */
static size_t read_plain(int fd, char *out, size_t cap)
{
    size_t n = 0;
    ssize_t k;
    while (n + 1 < cap && (k = recv(fd, out + n, cap - n - 1, 0)) > 0)
        n += (size_t)k;
    out[n] = '\0';
    return n;
}

/* A TLS session on `fd` for SNI `sni` (NULL: none), verifying the chain to
 * the server's CA and that the certificate names `sni`; NULL when the
 * handshake fails (the alert is in *alert_reason when not NULL). */
static SSL *tls_open(fixture *f, int fd, const char *sni, char *why, size_t why_cap)
{
    SSL *ssl = SSL_new(f->client);
    SSL_set_fd(ssl, fd);
    if (sni) {
        SSL_set_tlsext_host_name(ssl, sni);
        SSL_set1_host(ssl, sni);
    }
    ERR_clear_error();
    if (SSL_connect(ssl) != 1) {
        if (why)
            ERR_error_string_n(ERR_get_error(), why, why_cap);
        SSL_free(ssl);
        return NULL;
    }
    assert_int_equal(SSL_get_verify_result(ssl), X509_V_OK);
    return ssl;
}

/* Sends one request on `ssl` (Connection: close) and reads the whole
 * response into out; returns its status. */
static int tls_request(SSL *ssl, const char *host, const char *method, const char *path, const char *action,
                       const char *body, char *out, size_t cap)
{
    char req[2048];
    int n = snprintf(req, sizeof req,
                     "%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n%s%s%s%s"
                     "Content-Length: %zu\r\n\r\n%s",
                     method, path, host, action ? "Content-Type: application/x-amz-json-1.1\r\nX-Amz-Target: " : "",
                     action ? TARGET_PREFIX : "", action ? action : "", action ? "\r\n" : "", body ? strlen(body) : 0,
                     body ? body : "");
    assert_int_equal(SSL_write(ssl, req, n), n);
    size_t len = 0;
    int k;
    while (len + 1 < cap && (k = SSL_read(ssl, out + len, (int)(cap - len - 1))) > 0)
        len += (size_t)k;
    out[len] = '\0';
    int status = 0;
    return sscanf(out, "HTTP/1.1 %d", &status) == 1 ? status : 0;
}

static int api_over_https(fixture *f, const char *host, const char *action, const char *body, char *out, size_t cap)
{
    int fd = dial_ok(f->https_port);
    char why[256] = "";
    SSL *ssl = tls_open(f, fd, host, why, sizeof why);
    if (!ssl)
        fail_msg("TLS to %s: %s", host, why);
    int status = tls_request(ssl, host, "POST", "/", action, body, out, cap);
    SSL_free(ssl);
    close(fd);
    return status;
}

/* A CONNECT on the plain port; returns the socket after a 200 (the status
 * line read), or -1 with the whole answer in out. */
static int tunnel(fixture *f, const char *target, char *out, size_t cap)
{
    int fd = dial_ok(f->port);
    char req[512];
    int n = snprintf(req, sizeof req, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", target, target);
    assert_int_equal(send(fd, req, (size_t)n, MSG_NOSIGNAL), n);
    /* The 200's head only: what follows is TLS. */
    size_t len = 0;
    while (len + 1 < cap && (len < 4 || memcmp(out + len - 4, "\r\n\r\n", 4) != 0) && recv(fd, out + len, 1, 0) == 1)
        len++;
    out[len] = '\0';
    if (strncmp(out, "HTTP/1.1 200 ", 13) == 0)
        return fd;
    read_plain(fd, out + len, cap - len);
    close(fd);
    return -1;
}

/* The CA is written where asked, is the one the server signs with, and its
 * validity starts at the wall clock minus a day (the instance's virtual
 * clock is years behind). */
static void test_tls_ca_written(void **state)
{
    fixture *f = *state;
    char *pem = slurp(f->ca_path);
    assert_non_null(pem);
    assert_string_equal(pem, ecrmock_server_ca_pem(f->s));
    assert_non_null(strstr(pem, "-----BEGIN CERTIFICATE-----"));
    BIO *b = BIO_new_mem_buf(pem, -1);
    X509 *ca = PEM_read_bio_X509(b, NULL, NULL, NULL);
    assert_non_null(ca);
    assert_int_equal(X509_check_ca(ca), 1);
    int days = 0, secs = 0;
    assert_int_equal(ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notBefore(ca)), 1);
    long ahead = days * 86400L + secs; /* notBefore - now */
    assert_true(ahead <= -86400 + 5 && ahead >= -86400 - 60);
    assert_int_equal(ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(ca)), 1);
    assert_true(days >= 29 && days <= 30);
    X509_free(ca);
    BIO_free(b);
    free(pem);
}

/* The HTTPS port: the API for the host's region, and a host certificate
 * for the name asked (verified by the client against the CA). */
static void test_tls_https_region_from_host(void **state)
{
    fixture *f = *state;
    char out[8192];
    assert_int_equal(api_over_https(f, API_WEST, "CreateRepository", "{\"repositoryName\":\"west-only\"}", out,
                                    sizeof out),
                     200);
    assert_non_null(strstr(out, "\"repositoryArn\":\"arn:aws:ecr:us-west-2:123456789012:repository/west-only\""));
    assert_int_equal(api_over_https(f, API_EAST, "DescribeRepositories", "{}", out, sizeof out), 200);
    assert_non_null(strstr(out, "{\"repositories\":[]}"));
    assert_int_equal(api_over_https(f, API_WEST, "DescribeRepositories", "{}", out, sizeof out), 200);
    assert_non_null(strstr(out, "\"repositoryName\":\"west-only\""));
    /* Upper case in the name is the same host (DNS is case-blind). */
    assert_int_equal(api_over_https(f, "API.ECR.us-west-2.amazonaws.com", "DescribeRepositories", "{}", out,
                                    sizeof out),
                     200);
    assert_non_null(strstr(out, "\"repositoryName\":\"west-only\""));
}

/* A registry host has its certificate too, and /v2/ is the registry's. */
static void test_tls_registry_host(void **state)
{
    fixture *f = *state;
    char out[8192];
    int fd = dial_ok(f->https_port);
    SSL *ssl = tls_open(f, fd, REGISTRY_EAST, NULL, 0);
    assert_non_null(ssl);
    X509 *peer = SSL_get1_peer_certificate(ssl);
    assert_int_equal(X509_check_host(peer, REGISTRY_EAST, 0, 0, NULL), 1);
    assert_int_equal(X509_check_host(peer, API_EAST, 0, 0, NULL), 0); /* its own name only */
    X509_free(peer);
    assert_int_equal(tls_request(ssl, REGISTRY_EAST, "GET", "/v2/", NULL, NULL, out, sizeof out), 401);
    assert_non_null(strstr(out, "Basic realm=\"https://" REGISTRY_EAST "/\""));
    SSL_free(ssl);
    close(fd);
}

/* A name that is none of ECR's hosts, or no name at all: no certificate,
 * the handshake ends with the alert unrecognized_name. */
static void test_tls_bad_sni_refused(void **state)
{
    fixture *f = *state;
    const char *names[] = {"example.com", "api.ecr.us-east-1.amazonaws.com.evil.example", "localhost", NULL};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        char why[256] = "";
        int fd = dial_ok(f->https_port);
        assert_null(tls_open(f, fd, names[i], why, sizeof why));
        assert_non_null(strstr(why, "unrecognized name"));
        close(fd);
    }
}

/* CONNECT on the plain port: 200, then TLS as on the HTTPS port; the plain
 * port still serves plain requests. */
static void test_tls_connect_tunnel(void **state)
{
    fixture *f = *state;
    char out[8192];
    int fd = tunnel(f, API_WEST ":443", out, sizeof out);
    assert_true(fd >= 0);
    assert_string_equal(out, "HTTP/1.1 200 Connection established\r\n\r\n");
    SSL *ssl = tls_open(f, fd, API_WEST, NULL, 0);
    assert_non_null(ssl);
    assert_int_equal(tls_request(ssl, API_WEST, "POST", "/", "CreateRepository", "{\"repositoryName\":\"tunneled\"}",
                                 out, sizeof out),
                     200);
    assert_non_null(strstr(out, "arn:aws:ecr:us-west-2:123456789012:repository/tunneled"));
    SSL_free(ssl);
    close(fd);

    fd = dial_ok(f->port);
    static const char plain[] = "GET /v2/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    assert_int_equal(send(fd, plain, sizeof plain - 1, MSG_NOSIGNAL), (ssize_t)(sizeof plain - 1));
    read_plain(fd, out, sizeof out);
    close(fd);
    assert_true(strncmp(out, "HTTP/1.1 401 ", 13) == 0);
}

/* A CONNECT to a host that is not ECR's, or to another port, is 403 with
 * the reason (the fake never reaches the network); a CONNECT line that is
 * none is 400; another method starting with C is 405. */
static void test_tls_connect_foreign_refused(void **state)
{
    fixture *f = *state;
    char out[4096];
    assert_int_equal(tunnel(f, "example.com:443", out, sizeof out), -1);
    assert_true(strncmp(out, "HTTP/1.1 403 Forbidden\r\n", 24) == 0);
    assert_non_null(strstr(out, "\r\n\r\necrmock: CONNECT example.com:443 refused: this proxy serves only ECR's "
                                "hosts on port 443"));
    assert_non_null(strstr(out, "the fake never reaches the network\n"));
    assert_int_equal(tunnel(f, API_EAST ":80", out, sizeof out), -1);
    assert_non_null(strstr(out, "ecrmock: CONNECT " API_EAST ":80 refused"));
    assert_int_equal(tunnel(f, API_EAST, out, sizeof out), -1); /* no port */
    assert_true(strncmp(out, "HTTP/1.1 403 ", 13) == 0);

    /* A CONNECT line that is none: no version, or a target too long to be a host. */
    char longer[700];
    memset(longer, 'a', sizeof longer);
    snprintf(longer + 400, sizeof longer - 400, ".amazonaws.com:443");
    const char *malformed[] = {"CONNECT " API_EAST ":443\r\n\r\n", NULL};
    char line[1024];
    snprintf(line, sizeof line, "CONNECT %s HTTP/1.1\r\n\r\n", longer);
    malformed[1] = line;
    for (size_t i = 0; i < 2; i++) {
        int m = dial_ok(f->port);
        send(m, malformed[i], strlen(malformed[i]), MSG_NOSIGNAL);
        read_plain(m, out, sizeof out);
        close(m);
        assert_true(strncmp(out, "HTTP/1.1 400 Bad Request\r\n", 26) == 0);
        assert_non_null(strstr(out, "\r\n\r\necrmock: a CONNECT request line is `CONNECT <host>:443 HTTP/1.1`\n"));
    }

    int fd = dial_ok(f->port);
    static const char copy[] = "COPY / HTTP/1.1\r\nHost: x\r\n\r\n";
    send(fd, copy, sizeof copy - 1, MSG_NOSIGNAL);
    read_plain(fd, out, sizeof out);
    close(fd);
    assert_true(strncmp(out, "HTTP/1.1 405 ", 13) == 0);
    assert_non_null(strstr(out, "the proxy answers CONNECT <host>:443 only"));
}

/* Stopping with connections in every state (a handshake never begun, a
 * tunnel open, a TLS session idle, a plain connection idle) returns: every
 * thread is cut and joined (valgrind sees nothing left). */
static void test_tls_stop_with_open_connections(void **state)
{
    fixture *f = *state;
    char out[256];
    int silent_tls = dial_ok(f->https_port);
    int silent_plain = dial_ok(f->port);
    int tunnel_fd = tunnel(f, API_EAST ":443", out, sizeof out);
    assert_true(tunnel_fd >= 0);
    int idle = dial_ok(f->https_port);
    SSL *ssl = tls_open(f, idle, API_EAST, NULL, 0);
    assert_non_null(ssl);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ecrmock_server_stop(f->s);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    f->s = NULL;
    assert_true(t1.tv_sec - t0.tv_sec < 3);
    char b;
    assert_int_equal(recv(silent_tls, &b, 1, 0), 0); /* closed */
    SSL_free(ssl);
    close(silent_tls);
    close(silent_plain);
    close(tunnel_fd);
    close(idle);
}

/* A CA of the user's: host certificates chain to it. */
static void test_tls_user_ca(void **state)
{
    (void)state;
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *ca = X509_new();
    X509_set_version(ca, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(ca), 7);
    X509_gmtime_adj(X509_getm_notBefore(ca), -60);
    X509_gmtime_adj(X509_getm_notAfter(ca), 3600);
    X509_set_pubkey(ca, key);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(ca), "CN", MBSTRING_ASC, (const unsigned char *)"my test CA", -1,
                               -1, 0);
    X509_set_issuer_name(ca, X509_get_subject_name(ca));
    X509V3_CTX v3;
    X509V3_set_ctx_nodb(&v3);
    X509V3_set_ctx(&v3, ca, ca, NULL, NULL, 0);
    X509_EXTENSION *e = X509V3_EXT_nconf_nid(NULL, &v3, NID_basic_constraints, "critical,CA:TRUE");
    X509_add_ext(ca, e, -1);
    X509_EXTENSION_free(e);
    assert_true(X509_sign(ca, key, EVP_sha256()) > 0);
    char cert_path[64], key_path[64], other_key_path[64];
    snprintf(cert_path, sizeof cert_path, "/tmp/ecrmock-tls-user-%ld.crt", (long)getpid());
    snprintf(key_path, sizeof key_path, "/tmp/ecrmock-tls-user-%ld.key", (long)getpid());
    snprintf(other_key_path, sizeof other_key_path, "/tmp/ecrmock-tls-other-%ld.key", (long)getpid());
    FILE *fc = fopen(cert_path, "w"), *fk = fopen(key_path, "w"), *fo = fopen(other_key_path, "w");
    EVP_PKEY *other = EVP_EC_gen("P-256");
    PEM_write_X509(fc, ca);
    PEM_write_PrivateKey(fk, key, NULL, NULL, 0, NULL, NULL);
    PEM_write_PrivateKey(fo, other, NULL, NULL, 0, NULL, NULL);
    fclose(fc);
    fclose(fk);
    fclose(fo);

    fixture f = {0};
    f.m = ecrmock_new(NULL);
    ecrmock_server_options so = ECRMOCK_SERVER_OPTIONS_INIT;
    ecrmock_server_tls_options to = ECRMOCK_SERVER_TLS_OPTIONS_INIT;
    to.https_port = 0;
    to.ca_cert_file = cert_path;
    to.ca_key_file = key_path;
    ecrmock_err err;
    assert_int_equal(ecrmock_server_start_tls(f.m, &so, &to, &f.port, &f.s, &err), 0);
    assert_int_equal(err.code, ECRMOCK_ERR_OK);
    f.https_port = ecrmock_server_https_port(f.s);
    assert_true(f.https_port > 0);
    char *pem = slurp(cert_path);
    assert_string_equal(ecrmock_server_ca_pem(f.s), pem);
    free(pem);
    f.client = client_trusting(ecrmock_server_ca_pem(f.s));
    char out[4096];
    assert_int_equal(api_over_https(&f, API_EAST, "DescribeRepositories", "{}", out, sizeof out), 200);
    ecrmock_server_stop(f.s);
    SSL_CTX_free(f.client);

    /* Refusals, each with its reason; nothing is left started. */
    ecrmock_server *s = (ecrmock_server *)&f;
    to.ca_key_file = other_key_path;
    assert_int_equal(ecrmock_server_start_tls(f.m, &so, &to, NULL, &s, &err), -1);
    assert_null(s);
    assert_int_equal(err.code, ECRMOCK_ERR_INVALID_PARAMETER);
    char want[256];
    snprintf(want, sizeof want, "%s is not the key of %s", other_key_path, cert_path);
    assert_string_equal(err.text, want);
    to.ca_key_file = NULL;
    assert_int_equal(ecrmock_server_start_tls(f.m, &so, &to, NULL, &s, &err), -1);
    assert_string_equal(err.text,
                        "ca_cert_file and ca_key_file go together: name both, or neither for a CA made at start");
    to.ca_key_file = "/nonexistent/ca.key";
    assert_int_equal(ecrmock_server_start_tls(f.m, &so, &to, NULL, &s, &err), -1);
    assert_string_equal(err.text, "/nonexistent/ca.key: cannot be read: No such file or directory");
    to.ca_cert_file = key_path; /* a key where the certificate should be */
    to.ca_key_file = key_path;
    assert_int_equal(ecrmock_server_start_tls(f.m, &so, &to, NULL, &s, &err), -1);
    snprintf(want, sizeof want, "%s: no PEM certificate in it", key_path);
    assert_string_equal(err.text, want);
    ecrmock_server_tls_options bad = ECRMOCK_SERVER_TLS_OPTIONS_INIT;
    bad.ca_out = "/nonexistent/dir/ca.pem";
    assert_int_equal(ecrmock_server_start_tls(f.m, &so, &bad, NULL, &s, &err), -1);
    assert_string_equal(err.text, "ca_out /nonexistent/dir/ca.pem: cannot be written: No such file or directory");
    bad.ca_out = "/nonexistent/\xff\xfe.pem"; /* not UTF-8: the text stays UTF-8 */
    assert_int_equal(ecrmock_server_start_tls(f.m, &so, &bad, NULL, &s, &err), -1);
    assert_string_equal(err.text, "ca_out /nonexistent/\\xFF\\xFE.pem: cannot be written: No such file or directory");
    /* A port taken: where, which port, and why. */
    bad = (ecrmock_server_tls_options)ECRMOCK_SERVER_TLS_OPTIONS_INIT;
    ecrmock_server *holder;
    int taken;
    assert_int_equal(ecrmock_server_start(f.m, NULL, 0, &taken, &holder), 0);
    bad.https_port = taken;
    assert_int_equal(ecrmock_server_start_tls(f.m, &so, &bad, NULL, &s, &err), -1);
    assert_int_equal(err.code, ECRMOCK_ERR_INVALID_PARAMETER);
    snprintf(want, sizeof want, "cannot listen on 127.0.0.1:%d (the HTTPS port): Address already in use", taken);
    assert_string_equal(err.text, want);
    bad.https_port = -1;
    bad.proxy = 1;
    so.port = taken;
    assert_int_equal(ecrmock_server_start_tls(f.m, &so, &bad, NULL, &s, &err), -1);
    snprintf(want, sizeof want, "cannot listen on 127.0.0.1:%d (the plain port, proxy mode): Address already in use",
             taken);
    assert_string_equal(err.text, want);
    so.port = 0;
    ecrmock_server_stop(holder);
    bad = (ecrmock_server_tls_options)ECRMOCK_SERVER_TLS_OPTIONS_INIT;
    bad.https_port = 65536;
    assert_int_equal(ecrmock_server_start_tls(f.m, &so, &bad, NULL, &s, &err), -1);
    assert_int_equal(err.code, ECRMOCK_ERR_INVALID_PARAMETER);
    assert_int_equal(ecrmock_server_start_tls(f.m, &so, NULL, NULL, &s, &err), -1);
    assert_int_equal(err.code, ECRMOCK_ERR_INVALID_PARAMETER);
    /* Without TLS: no HTTPS port, no CA. */
    assert_int_equal(ecrmock_server_start(f.m, NULL, 0, NULL, &s), 0);
    assert_int_equal(ecrmock_server_https_port(s), -1);
    assert_null(ecrmock_server_ca_pem(s));
    ecrmock_server_stop(s);
    assert_int_equal(ecrmock_server_https_port(NULL), -1);

    ecrmock_free(f.m);
    unlink(cert_path);
    unlink(key_path);
    unlink(other_key_path);
    X509_free(ca);
    EVP_PKEY_free(key);
    EVP_PKEY_free(other);
}

/* Two servers in one process, each with its own CA: a client that trusts
 * one refuses the other's certificates. */
static void test_tls_two_servers(void **state)
{
    fixture *a = *state, b = {0};
    assert_int_equal(start_server(&b, 10, 0), 0);
    assert_string_not_equal(ecrmock_server_ca_pem(a->s), ecrmock_server_ca_pem(b.s));
    char out[4096], why[256] = "";
    assert_int_equal(api_over_https(&b, API_EAST, "DescribeRepositories", "{}", out, sizeof out), 200);
    fixture mixed = b;
    mixed.client = a->client; /* trusts a's CA only */
    int fd = dial_ok(b.https_port);
    assert_null(tls_open(&mixed, fd, API_EAST, why, sizeof why));
    assert_non_null(strstr(why, "certificate verify failed"));
    close(fd);
    stop_server(&b);
    assert_int_equal(api_over_https(a, API_EAST, "DescribeRepositories", "{}", out, sizeof out), 200);
}

/* Many TLS clients at once, on both ways in: each gets its own answer. */
#define N_PARALLEL 8
typedef struct worker {
    fixture *f;
    int i, ok;
    pthread_t t;
} worker;

static void *parallel_client(void *arg)
{
    worker *w = arg;
    char out[8192], body[64], name[32];
    snprintf(name, sizeof name, "par-%d", w->i);
    snprintf(body, sizeof body, "{\"repositoryName\":\"%s\"}", name);
    /* A client context of its own: TSan reports a race inside OpenSSL
     * 3.0's certificate store when threads verify through one. */
    fixture own = *w->f;
    own.client = client_trusting(ecrmock_server_ca_pem(w->f->s));
    int fd = w->i % 2 ? dial_ok(own.https_port) : tunnel(&own, API_EAST ":443", out, sizeof out);
    SSL *ssl = fd >= 0 ? tls_open(&own, fd, API_EAST, NULL, 0) : NULL;
    w->ok = ssl && tls_request(ssl, API_EAST, "POST", "/", "CreateRepository", body, out, sizeof out) == 200 &&
            strstr(out, name) != NULL;
    SSL_free(ssl);
    SSL_CTX_free(own.client);
    close(fd);
    return NULL;
}

static void test_tls_parallel_clients(void **state)
{
    fixture *f = *state;
    worker w[N_PARALLEL];
    for (int i = 0; i < N_PARALLEL; i++) {
        w[i] = (worker){f, i, 0, 0};
        assert_int_equal(pthread_create(&w[i].t, NULL, parallel_client, &w[i]), 0);
    }
    for (int i = 0; i < N_PARALLEL; i++) {
        pthread_join(w[i].t, NULL);
        assert_true(w[i].ok);
    }
    assert_int_equal(repo_count(f->m, NULL), N_PARALLEL);
}

/* Writes `len` bytes of request on `ssl` and reads the whole response
 * (the request says Connection: close); malloc'd, NUL-terminated, its
 * length in *out_len. */
static char *tls_exchange(SSL *ssl, const char *req, size_t len, size_t *out_len)
{
    for (size_t off = 0; off < len;) {
        int k = SSL_write(ssl, req + off, (int)(len - off > (1u << 20) ? 1u << 20 : len - off));
        assert_true(k > 0);
        off += (size_t)k;
    }
    size_t n = 0, cap = 1 << 16;
    char *out = malloc(cap);
    int k;
    for (;;) {
        if (n + 16384 + 1 > cap)
            out = realloc(out, cap *= 2);
        if ((k = SSL_read(ssl, out + n, 16384)) <= 0)
            break;
        n += (size_t)k;
    }
    out[n] = '\0';
    *out_len = n;
    return out;
}

/* Megabytes each way through the relay: an UploadLayerPart of 3 MiB on
 * the HTTPS port, and a 3 MiB layer fetched from its download URL on the
 * layer bucket's S3 host through a CONNECT tunnel, byte for byte. */
static void test_tls_large_transfers(void **state)
{
    fixture *f = *state;
    enum { SIZE = 3 << 20 };
    unsigned char *bytes = malloc(SIZE);
    for (size_t i = 0; i < SIZE; i++)
        bytes[i] = (unsigned char)(i * 2654435761u >> 13);
    create_repo(f->m, "big");

    char id[37], *b64 = malloc(SIZE / 3 * 4 + 8);
    initiate_upload(f->m, "big", id);
    EVP_EncodeBlock((unsigned char *)b64, bytes, SIZE);
    size_t body_len = strlen(b64) + 200;
    char *body = malloc(body_len);
    snprintf(body, body_len,
             "{\"repositoryName\":\"big\",\"uploadId\":\"%s\",\"partFirstByte\":0,\"partLastByte\":%d,"
             "\"layerPartBlob\":\"%s\"}",
             id, SIZE - 1, b64);
    size_t req_cap = strlen(body) + 512, out_len;
    char *req = malloc(req_cap);
    int n = snprintf(req, req_cap,
                     "POST / HTTP/1.1\r\nHost: " API_EAST "\r\nConnection: close\r\nContent-Type: "
                     "application/x-amz-json-1.1\r\nX-Amz-Target: " TARGET_PREFIX "UploadLayerPart\r\n"
                     "Content-Length: %zu\r\n\r\n%s",
                     strlen(body), body);
    int fd = dial_ok(f->https_port);
    SSL *ssl = tls_open(f, fd, API_EAST, NULL, 0);
    assert_non_null(ssl);
    char *out = tls_exchange(ssl, req, (size_t)n, &out_len);
    assert_true(strncmp(out, "HTTP/1.1 200 ", 13) == 0);
    char want[64];
    snprintf(want, sizeof want, "\"lastByteReceived\":%d", SIZE - 1);
    assert_non_null(strstr(out, want));
    free(out);
    SSL_free(ssl);
    close(fd);

    char digest[ECRMOCK_DIGEST_SIZE], text[8192];
    assert_int_equal(ecrmock_put_layer(f->m, NULL, "big", bytes, SIZE, digest, NULL), 0);
    char config[ECRMOCK_DIGEST_SIZE], manifest[1024];
    assert_int_equal(ecrmock_put_layer(f->m, NULL, "big", "{}", 2, config, NULL), 0);
    snprintf(manifest, sizeof manifest,
             "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\","
             "\"config\":{\"mediaType\":\"application/vnd.docker.container.image.v1+json\",\"size\":2,"
             "\"digest\":\"%s\"},\"layers\":[{\"mediaType\":"
             "\"application/vnd.docker.image.rootfs.diff.tar.gzip\",\"size\":%d,\"digest\":\"%s\"}]}",
             config, SIZE, digest);
    free(put_image(f->m, "big", manifest, "v1"));
    snprintf(body, body_len, "{\"repositoryName\":\"big\",\"layerDigest\":\"%s\"}", digest);
    assert_int_equal(api_over_https(f, API_EAST, "GetDownloadUrlForLayer", body, text, sizeof text), 200);
    char *url = strstr(text, "\"downloadUrl\":\"https://");
    assert_non_null(url);
    url += strlen("\"downloadUrl\":\"https://");
    char host[256], path[4096];
    assert_int_equal(sscanf(url, "%255[^/]%4095[^\"]", host, path), 2);
    assert_non_null(strstr(host, "-starport-layer-bucket.s3."));
    char hostport[300];
    snprintf(hostport, sizeof hostport, "%s:443", host);
    fd = tunnel(f, hostport, text, sizeof text);
    assert_true(fd >= 0);
    ssl = tls_open(f, fd, host, NULL, 0);
    assert_non_null(ssl);
    n = snprintf(req, req_cap, "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", path, host);
    out = tls_exchange(ssl, req, (size_t)n, &out_len);
    assert_true(strncmp(out, "HTTP/1.1 200 ", 13) == 0);
    char *sep = strstr(out, "\r\n\r\n");
    assert_non_null(sep);
    assert_int_equal(out_len - (size_t)(sep + 4 - out), SIZE);
    assert_memory_equal(sep + 4, bytes, SIZE);
    free(out);
    SSL_free(ssl);
    close(fd);
    free(req);
    free(body);
    free(b64);
    free(bytes);
}

/* The daemon answers before it has read the body (two Content-Lengths
 * that differ: 400, then it closes): the answer reaches the TLS client
 * however much of its body is still on the way, as on the plain port. */
static void test_tls_early_answer(void **state)
{
    fixture *f = *state;
    enum { SIZE = 2 << 20 };
    int fd = dial_ok(f->https_port);
    SSL *ssl = tls_open(f, fd, API_EAST, NULL, 0);
    assert_non_null(ssl);
    char head[256];
    int n = snprintf(head, sizeof head,
                     "POST / HTTP/1.1\r\nHost: " API_EAST "\r\nContent-Length: %d\r\nContent-Length: 6\r\n\r\n",
                     SIZE);
    assert_int_equal(SSL_write(ssl, head, n), n);
    char *body = calloc(1, 65536);
    for (int sent = 0; sent < SIZE && SSL_write(ssl, body, 65536) == 65536; sent += 65536)
        ;
    free(body);
    char out[4096];
    size_t len = 0;
    int k;
    while (len + 1 < sizeof out && (k = SSL_read(ssl, out + len, (int)(sizeof out - len - 1))) > 0)
        len += (size_t)k;
    out[len] = '\0';
    assert_true(strncmp(out, "HTTP/1.1 400 Bad Request\r\n", 26) == 0);
    SSL_free(ssl);
    close(fd);
}

/* A client that connects and stays silent, in its TLS handshake or in its
 * CONNECT's head, is let go after the server's idle timeout; a CONNECT
 * head over 8 KiB is 431. */
static void test_tls_stalled_clients_cut(void **state)
{
    (void)state;
    fixture f = {0};
    assert_int_equal(start_server(&f, 1, 0), 0);
    int handshake = dial_ok(f.https_port);
    int head = dial_ok(f.port);
    assert_int_equal(send(head, "CONNECT api.ecr", 15, MSG_NOSIGNAL), 15);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    char b[64];
    assert_int_equal(recv(handshake, b, sizeof b, 0), 0);
    assert_int_equal(recv(head, b, sizeof b, 0), 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_true(t1.tv_sec - t0.tv_sec <= 4); /* not the sockets' own 10 s */
    close(handshake);
    close(head);

    int big = dial_ok(f.port);
    char line[1024];
    memset(line, 'a', sizeof line);
    memcpy(line, "CONNECT x:443 HTTP/1.1\r\nX-Pad: ", 32);
    for (int i = 0; i < 9; i++)
        send(big, line, sizeof line, MSG_NOSIGNAL);
    char out[1024];
    read_plain(big, out, sizeof out);
    close(big);
    assert_true(strncmp(out, "HTTP/1.1 431 ", 13) == 0);
    stop_server(&f);
}

static double cpu_seconds(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + (double)(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

/* Out of file descriptors (RLIMIT_NOFILE), a connection waits in the
 * backlog without the accepting thread spinning on it, and the server
 * serves again once there are descriptors (a new connection: valgrind,
 * which checks descriptors against the limit itself, may close the one
 * accepted meanwhile). */
static void test_tls_out_of_descriptors(void **state)
{
    fixture *f = *state;
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)f->https_port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct rlimit old, low;
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
    int lowest = dup(0);
    close(lowest);
    low = old;
    low.rlim_cur = (rlim_t)lowest; /* no new descriptor, in the server's threads either */
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0); /* in the listener's backlog */
    double before = cpu_seconds();
    usleep(600000);
    double used = cpu_seconds() - before;
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
    assert_true(used < 0.2);
    close(fd);
    char out[4096];
    assert_int_equal(api_over_https(f, API_EAST, "DescribeRepositories", "{}", out, sizeof out), 200);
}

/* In proxy mode the plain port's connections wait for their first byte
 * each on a thread of its own: a crowd of silent ones delays no other. */
static void test_tls_proxy_many_idle_connections(void **state)
{
    fixture *f = *state;
    enum { N = 200 };
    int idle[N];
    for (int i = 0; i < N; i++)
        idle[i] = dial_ok(i % 2 ? f->port : f->https_port);
    char out[4096];
    int fd = dial_ok(f->port);
    static const char plain[] = "GET /v2/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    assert_int_equal(send(fd, plain, sizeof plain - 1, MSG_NOSIGNAL), (ssize_t)(sizeof plain - 1));
    read_plain(fd, out, sizeof out);
    close(fd);
    assert_true(strncmp(out, "HTTP/1.1 401 ", 13) == 0);
    assert_int_equal(api_over_https(f, API_EAST, "DescribeRepositories", "{}", out, sizeof out), 200);
    fd = tunnel(f, API_EAST ":443", out, sizeof out);
    assert_true(fd >= 0);
    close(fd);
    for (int i = 0; i < N; i++)
        close(idle[i]);
}

/* A DescribeRepositories over HTTPS, dialled again while the server
 * closes the connection at once (at its limit), until `seconds` have
 * passed: its status, or -1 (never served). */
static int api_over_https_within(fixture *f, double seconds, char *out, size_t cap)
{
    double end = seconds_now() + seconds;
    for (;;) {
        int fd = dial_ok(f->https_port);
        SSL *ssl = tls_open(f, fd, API_EAST, NULL, 0);
        int status = ssl ? tls_request(ssl, API_EAST, "POST", "/", "DescribeRepositories", "{}", out, cap) : -1;
        SSL_free(ssl);
        close(fd);
        if (status != -1 || seconds_now() >= end)
            return status;
        usleep(10000);
    }
}

/* Past max_connections, a connection to the HTTPS port is closed at once,
 * as the daemon does on the plain one; one that ends frees its place.  The
 * place is free once a's thread has read the close and ended, when the
 * scheduler runs it: a connection made before then is the third and is
 * closed at once (a fixed 200 ms wait failed when a's thread was not run
 * within it), so the client dials again until it is served, for at most
 * 5 s: well within the 10 s after which the server would cut the silent a
 * itself, so that only the close can have freed its place. */
static void test_tls_connection_limit(void **state)
{
    (void)state;
    fixture f = {0};
    assert_int_equal(start_server(&f, 10, 2), 0);
    int a = dial_ok(f.https_port), b = dial_ok(f.https_port);
    usleep(200000); /* both accepted */
    int c = dial_ok(f.https_port);
    char x;
    assert_int_equal(recv(c, &x, 1, 0), 0); /* closed at once */
    close(c);
    close(a);
    char out[4096];
    assert_int_equal(api_over_https_within(&f, 5.0, out, sizeof out), 200);
    close(b);
    stop_server(&f);
}

/* A CONNECT head of exactly 8 KiB (a padding header) opens the tunnel; one
 * byte more is 431.  Garbage on the HTTPS port instead of a ClientHello is
 * closed, and the server serves on. */
static void test_tls_connect_head_at_8k(void **state)
{
    fixture *f = *state;
    for (int extra = 0; extra < 2; extra++) {
        char head[8300];
        const char *start = "CONNECT " API_EAST ":443 HTTP/1.1\r\nX-Pad: ";
        size_t n = strlen(start);
        memcpy(head, start, n);
        size_t total = 8192 + (size_t)extra;
        memset(head + n, 'p', total - n - 4);
        memcpy(head + total - 4, "\r\n\r\n", 4);
        int fd = dial_ok(f->port);
        assert_int_equal(send(fd, head, total, MSG_NOSIGNAL), (ssize_t)total);
        char out[4096];
        size_t len = 0;
        while (len + 1 < sizeof out && (len < 4 || memcmp(out + len - 4, "\r\n\r\n", 4) != 0) &&
               recv(fd, out + len, 1, 0) == 1)
            len++;
        out[len] = '\0';
        if (extra == 0) {
            assert_string_equal(out, "HTTP/1.1 200 Connection established\r\n\r\n");
            SSL *ssl = tls_open(f, fd, API_EAST, NULL, 0);
            assert_non_null(ssl);
            assert_int_equal(tls_request(ssl, API_EAST, "POST", "/", "DescribeRepositories", "{}", out, sizeof out),
                             200);
            SSL_free(ssl);
        } else {
            assert_true(strncmp(out, "HTTP/1.1 431 ", 13) == 0);
        }
        close(fd);
    }
    for (int i = 0; i < 20; i++) {
        int fd = dial_ok(f->https_port);
        char junk[1000];
        for (size_t k = 0; k < sizeof junk; k++)
            junk[k] = (char)(k * 7 + (size_t)i);
        junk[0] = (char)(i % 2 ? 0x16 : 'G'); /* a handshake record's type, or a plain request */
        send(fd, junk, sizeof junk, MSG_NOSIGNAL);
        char b[256];
        while (recv(fd, b, sizeof b, 0) > 0)
            ;
        close(fd);
    }
    char out[4096];
    assert_int_equal(api_over_https(f, API_EAST, "DescribeRepositories", "{}", out, sizeof out), 200);
}

typedef struct shaker {
    fixture *f;
    atomic_int stop;
    atomic_int rounds; /* read by the stopping thread: handshakes made, from a start of its own */
} shaker;

/* Handshakes, one after another, until told to stop (they fail once the
 * server is gone). */
static void *handshakes(void *arg)
{
    shaker *s = arg;
    while (!atomic_load(&s->stop)) {
        int fd = dial(s->f->https_port);
        if (fd < 0)
            break;
        SSL *ssl = SSL_new(s->f->client);
        SSL_set_fd(ssl, fd);
        SSL_set_tlsext_host_name(ssl, (atomic_load(&s->rounds) % 2 ? API_EAST : REGISTRY_EAST));
        if (SSL_connect(ssl) == 1)
            SSL_write(ssl, "POST / HTTP/1.1\r\n", 17);
        SSL_free(ssl);
        close(fd);
        atomic_fetch_add(&s->rounds, 1);
    }
    return NULL;
}

/* A stop while handshakes run on four threads: it returns, every
 * connection's thread joined (ASan, valgrind: nothing left). */
static void test_tls_stop_during_handshakes(void **state)
{
    (void)state;
    fixture f = {0};
    assert_int_equal(start_server(&f, 10, 0), 0);
    shaker s[4];
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        s[i].f = &f;
        atomic_init(&s[i].rounds, i);
        atomic_init(&s[i].stop, 0);
        assert_int_equal(pthread_create(&t[i], NULL, handshakes, &s[i]), 0);
    }
    /* The stop comes once every thread has made two handshakes, so that it
     * meets them going (whatever the scheduler does; 10 s at most). */
    for (double until = seconds_now() + 10; seconds_now() < until;) {
        int going = 0;
        for (int i = 0; i < 4; i++)
            going += atomic_load(&s[i].rounds) >= i + 2;
        if (going == 4)
            break;
        usleep(1000);
    }
    ecrmock_server_stop(f.s);
    f.s = NULL;
    for (int i = 0; i < 4; i++)
        atomic_store(&s[i].stop, 1);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    ecrmock_free(f.m);
    SSL_CTX_free(f.client);
    unlink(f.ca_path);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN); /* a write to a connection the server closed fails, and says so */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_tls_ca_written, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tls_https_region_from_host, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tls_registry_host, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tls_bad_sni_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tls_connect_tunnel, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tls_connect_foreign_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tls_stop_with_open_connections, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tls_parallel_clients, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tls_two_servers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tls_large_transfers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tls_early_answer, setup, teardown),
        cmocka_unit_test(test_tls_stalled_clients_cut),
        cmocka_unit_test(test_tls_connection_limit),
        cmocka_unit_test_setup_teardown(test_tls_proxy_many_idle_connections, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tls_connect_head_at_8k, setup, teardown),
        cmocka_unit_test(test_tls_stop_during_handshakes),
        cmocka_unit_test_setup_teardown(test_tls_out_of_descriptors, setup, teardown),
        cmocka_unit_test(test_tls_user_ca),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
