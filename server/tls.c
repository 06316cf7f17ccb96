/*
 * The loopback server's HTTPS side: a TLS terminator (OpenSSL's libssl) in
 * front of server.c's libmicrohttpd daemon.
 *
 * One thread accepts on the HTTPS port and, in proxy mode, on the plain
 * port; each connection then has a thread of its own.  On the plain port
 * the first byte decides: anything but 'C' (no method ecrmock serves starts
 * with it) is handed to the daemon as it is; 'C' is a CONNECT, read here and
 * answered 200 for ECR's hosts on port 443 (then TLS), 403 for any other
 * target, 400 for a line of another form, 431 for a head over 8 KiB.  A TLS
 * connection is accepted with a host certificate made for its SNI name
 * (ECR's hosts only), then relayed to the daemon through a socketpair whose
 * other end MHD_add_connection() gives it: the requests reach the same
 * handler, Host header intact.  The certificates are EC P-256, signed by a
 * CA made at start (or the user's), valid from the wall clock minus a day.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "tls.h"

#define CA_DAYS 30
#define HOST_DAYS 7
#define MAX_CACHED_CERTS 256 /* past them, a host's certificate is made for each handshake */
#define MAX_CONNECT_HEAD 8192
#define CONN_STACK (1u << 20) /* a connection's thread: the relay's 32 KiB of buffers and OpenSSL's handshake */

/* A host certificate made for one SNI name, kept for the next handshakes. */
typedef struct host_cert {
    char name[256];
    X509 *x509;
    struct host_cert *next;
} host_cert;

/* One accepted connection and its thread. */
typedef struct conn {
    struct em_tls *tls;
    int fd;     /* the client's socket; -1 once the daemon owns it or it is closed */
    int is_tls; /* accepted on the HTTPS port: TLS from the first byte */
    struct sockaddr_storage peer;
    socklen_t peer_len;
    pthread_t thread;
    int done;
    struct conn *next;
} conn;

struct em_tls {
    SSL_CTX *ctx;
    X509 *ca;
    EVP_PKEY *ca_key, *host_key; /* one key for every host certificate */
    char *ca_pem;
    struct MHD_Daemon *daemon;
    int listen_fd[2]; /* [0] the plain port (proxy mode), [1] the HTTPS port; -1: none */
    int port[2];
    int wake[2]; /* a pipe: em_tls_free() wakes the accepting thread */
    unsigned int timeout_s, max_connections;
    pthread_t acceptor;
    int accepting;
    pthread_attr_t attr; /* the connections' threads: a smaller stack than the default 8 MiB */
    pthread_mutex_t lock; /* conns, n_conns, stopping, each conn's fd and done; certs */
    int stopping;
    conn *conns;
    unsigned int n_conns;
    host_cert *certs;
    unsigned int n_certs;
};

/* ---- errors ----------------------------------------------------------------------------- */

int em_server_fail(ecrmock_err *err, ecrmock_error code, const char *fmt, ...)
{
    if (!err)
        return -1;
    char raw[sizeof err->text];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(raw, sizeof raw, fmt, ap);
    va_end(ap);
    /* A byte outside printable ASCII (of a file name, say) as \xNN: the
     * text stays UTF-8 however it is cut. */
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)raw; *p && o + 5 < sizeof err->text; p++)
        o += (size_t)snprintf(err->text + o, sizeof err->text - o, *p >= 0x20 && *p < 0x7f ? "%c" : "\\x%02X", *p);
    err->text[o] = '\0';
    err->path[0] = '\0';
    err->code = code;
    return code == ECRMOCK_ERR_OK ? 0 : -1;
}

/* ---- certificates ----------------------------------------------------------------------- */

static int add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
    X509_EXTENSION *e = X509V3_EXT_nconf_nid(NULL, ctx, nid, value);
    int ok = e && X509_add_ext(x, e, -1);
    X509_EXTENSION_free(e);
    return ok ? 0 : -1;
}

/* Computes what OpenSSL caches in a certificate on first use (its
 * encoding, its extensions' flags) before threads share it. */
static int settle(X509 *x)
{
    return i2d_X509(x, NULL) > 0 && X509_check_purpose(x, -1, 0) >= 0;
}

/* A certificate for `key`: the CA's own (issuer NULL: self-signed) or a
 * host's, with `host` its one subjectAltName.  New reference, or NULL. */
static X509 *make_cert(EVP_PKEY *key, const char *cn, const char *host, X509 *issuer, EVP_PKEY *issuer_key,
                       long days)
{
    X509 *x = X509_new();
    unsigned char serial[16];
    BIGNUM *bn = NULL;
    if (!x || RAND_bytes(serial, sizeof serial) != 1)
        goto fail;
    serial[0] &= 0x7f; /* positive */
    serial[0] |= 0x01; /* and with no leading zero byte */
    bn = BN_bin2bn(serial, sizeof serial, NULL);
    X509_NAME *name = X509_get_subject_name(x);
    if (!bn || !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) || !X509_set_version(x, 2) ||
        !X509_gmtime_adj(X509_getm_notBefore(x), -86400L) || !X509_gmtime_adj(X509_getm_notAfter(x), days * 86400L) ||
        !X509_set_pubkey(x, key) ||
        !X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"ecrmock", -1, -1, 0) ||
        !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0) ||
        !X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name))
        goto fail;
    X509V3_CTX v3;
    X509V3_set_ctx_nodb(&v3);
    X509V3_set_ctx(&v3, issuer ? issuer : x, x, NULL, NULL, 0);
    char san[300];
    snprintf(san, sizeof san, "DNS:%s", host ? host : "");
    if (add_ext(x, &v3, NID_basic_constraints, host ? "critical,CA:FALSE" : "critical,CA:TRUE,pathlen:0") < 0 ||
        add_ext(x, &v3, NID_key_usage, host ? "critical,digitalSignature" : "critical,keyCertSign,cRLSign") < 0 ||
        add_ext(x, &v3, NID_subject_key_identifier, "hash") < 0 ||
        add_ext(x, &v3, NID_authority_key_identifier, "keyid,issuer") < 0 ||
        (host && (add_ext(x, &v3, NID_ext_key_usage, "serverAuth") < 0 ||
                  add_ext(x, &v3, NID_subject_alt_name, san) < 0)) ||
        !X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256()) || !settle(x))
        goto fail;
    BN_free(bn);
    return x;
fail:
    BN_free(bn);
    X509_free(x);
    return NULL;
}

/* The certificate for SNI name `name` (lower case): the cached one, or a
 * new one (also when the cached one expires within a day: a server may run
 * for longer than a host certificate lives; the newest comes first).  New
 * reference, or NULL. */
static X509 *host_certificate(em_tls *t, const char *name)
{
    time_t soon = time(NULL) + 86400;
    pthread_mutex_lock(&t->lock);
    for (host_cert *c = t->certs; c; c = c->next)
        if (strcmp(c->name, name) == 0 && X509_cmp_time(X509_get0_notAfter(c->x509), &soon) > 0) {
            X509_up_ref(c->x509);
            pthread_mutex_unlock(&t->lock);
            return c->x509;
        }
    pthread_mutex_unlock(&t->lock);
    X509 *x = make_cert(t->host_key, name, name, t->ca, t->ca_key, HOST_DAYS);
    host_cert *c = x ? calloc(1, sizeof *c) : NULL;
    if (!c)
        return x;
    pthread_mutex_lock(&t->lock);
    if (t->n_certs < MAX_CACHED_CERTS) { /* two threads may both make one: both are kept, both valid */
        snprintf(c->name, sizeof c->name, "%s", name);
        c->x509 = x;
        X509_up_ref(x);
        c->next = t->certs;
        t->certs = c;
        t->n_certs++;
        c = NULL;
    }
    pthread_mutex_unlock(&t->lock);
    free(c);
    return x;
}

/* The SNI name decides the certificate: ECR's hosts only. */
static int on_servername(SSL *ssl, int *alert, void *arg)
{
    em_tls *t = arg;
    const char *sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    char name[256];
    size_t n = sni ? strlen(sni) : 0;
    if (!n || n >= sizeof name || strchr(sni, ':') || ecrmock_http_host_kind(sni, NULL, 0) == ECRMOCK_HOST_OTHER) {
        *alert = SSL_AD_UNRECOGNIZED_NAME;
        return SSL_TLSEXT_ERR_ALERT_FATAL;
    }
    for (size_t i = 0; i <= n; i++)
        name[i] = (char)(sni[i] >= 'A' && sni[i] <= 'Z' ? sni[i] - 'A' + 'a' : sni[i]);
    X509 *x = host_certificate(t, name);
    int ok = x && SSL_use_certificate(ssl, x) == 1 && SSL_use_PrivateKey(ssl, t->host_key) == 1;
    X509_free(x);
    if (!ok) {
        *alert = SSL_AD_INTERNAL_ERROR;
        return SSL_TLSEXT_ERR_ALERT_FATAL;
    }
    return SSL_TLSEXT_ERR_OK;
}

/* The first PEM object of `path`: a certificate, or (key) a private key;
 * NULL with `err` filled. */
static void *read_pem(const char *path, int key, ecrmock_err *err)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        em_server_fail(err, ECRMOCK_ERR_INVALID_PARAMETER, "%s: cannot be read: %s", path, strerror(errno));
        return NULL;
    }
    void *p = key ? (void *)PEM_read_PrivateKey(f, NULL, NULL, NULL) : (void *)PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    if (!p)
        em_server_fail(err, ECRMOCK_ERR_INVALID_PARAMETER,
                       key ? "%s: no PEM private key in it (or encrypted)" : "%s: no PEM certificate in it", path);
    return p;
}

/* The CA: the user's files, or a new one.  Fills t->ca, t->ca_key, t->ca_pem. */
static int load_or_make_ca(em_tls *t, const ecrmock_server_tls_options *o, ecrmock_err *err)
{
    if (!o->ca_cert_file != !o->ca_key_file)
        return em_server_fail(err, ECRMOCK_ERR_INVALID_PARAMETER,
                              "ca_cert_file and ca_key_file go together: name both, or neither for a CA made at start");
    if (o->ca_cert_file) {
        if (!(t->ca = read_pem(o->ca_cert_file, 0, err)))
            return -1;
        if (X509_check_ca(t->ca) == 0 || !settle(t->ca))
            return em_server_fail(err, ECRMOCK_ERR_INVALID_PARAMETER,
                                  "%s: not a CA certificate (basicConstraints CA:TRUE, keyCertSign)", o->ca_cert_file);
        if (!(t->ca_key = read_pem(o->ca_key_file, 1, err)))
            return -1;
        if (X509_check_private_key(t->ca, t->ca_key) != 1)
            return em_server_fail(err, ECRMOCK_ERR_INVALID_PARAMETER, "%s is not the key of %s", o->ca_key_file,
                                  o->ca_cert_file);
    } else {
        t->ca_key = EVP_EC_gen("P-256");
        t->ca = t->ca_key ? make_cert(t->ca_key, "ecrmock CA", NULL, NULL, NULL, CA_DAYS) : NULL;
        if (!t->ca)
            return em_server_fail(err, ECRMOCK_ERR_SERVER, "cannot make the CA (OpenSSL: %s)",
                                  ERR_reason_error_string(ERR_get_error()));
    }
    BIO *b = BIO_new(BIO_s_mem());
    char *pem = NULL;
    long len = b && PEM_write_bio_X509(b, t->ca) ? BIO_get_mem_data(b, &pem) : 0;
    t->ca_pem = len > 0 ? strndup(pem, (size_t)len) : NULL;
    BIO_free(b);
    if (!t->ca_pem)
        return em_server_fail(err, ECRMOCK_ERR_SERVER, "out of memory");
    if (o->ca_out) {
        FILE *f = fopen(o->ca_out, "w");
        int ok = f && fputs(t->ca_pem, f) >= 0;
        int saved = errno;
        if (f && fclose(f) != 0 && ok) {
            ok = 0;
            saved = errno;
        }
        if (!ok)
            return em_server_fail(err, ECRMOCK_ERR_INVALID_PARAMETER, "ca_out %s: cannot be written: %s",
                                  o->ca_out, strerror(saved));
    }
    return 0;
}

/* ---- listeners ---------------------------------------------------------------------------- */

/* A listening socket on `sa` (the port it got into *port), or -1 with
 * `err` filled: "cannot listen on 127.0.0.1:5000 (the HTTPS port): ...". */
static int listen_on(const struct sockaddr *sa, socklen_t len, int *port, const char *what, ecrmock_err *err)
{
    int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd >= 0) {
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one); /* as libmicrohttpd does */
        if (sa->sa_family == AF_INET6)
            setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    }
    struct sockaddr_storage bound;
    socklen_t blen = sizeof bound;
    if (fd < 0 || bind(fd, sa, len) != 0 || listen(fd, 128) != 0 ||
        getsockname(fd, (struct sockaddr *)&bound, &blen) != 0) {
        int e = errno;
        char addr[INET6_ADDRSTRLEN] = "?";
        const void *in = sa->sa_family == AF_INET6 ? (const void *)&((const struct sockaddr_in6 *)sa)->sin6_addr
                                                   : (const void *)&((const struct sockaddr_in *)sa)->sin_addr;
        inet_ntop(sa->sa_family, in, addr, sizeof addr);
        int p = ntohs(sa->sa_family == AF_INET6 ? ((const struct sockaddr_in6 *)sa)->sin6_port
                                                : ((const struct sockaddr_in *)sa)->sin_port);
        if (fd >= 0)
            close(fd);
        em_server_fail(err, e == EMFILE || e == ENFILE ? ECRMOCK_ERR_SERVER : ECRMOCK_ERR_INVALID_PARAMETER,
                       sa->sa_family == AF_INET6 ? "cannot listen on [%s]:%d (%s): %s"
                                                 : "cannot listen on %s:%d (%s): %s",
                       addr, p, what, strerror(e));
        return -1;
    }
    *port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                              : ((struct sockaddr_in *)&bound)->sin_port);
    return fd;
}

em_tls *em_tls_new(const ecrmock_server_tls_options *o, const struct sockaddr *plain, socklen_t plain_len,
                   unsigned int timeout_s, unsigned int max_connections, ecrmock_err *err)
{
    em_server_fail(err, ECRMOCK_ERR_OK, "%s", ""); /* cleared */
    if (!o || o->version < 1 || o->version > ECRMOCK_SERVER_TLS_OPTIONS_VERSION || o->https_port < -1 ||
        o->https_port > 65535) {
        em_server_fail(err, ECRMOCK_ERR_INVALID_PARAMETER,
                       "ecrmock_server_tls_options: version must be 1 (ECRMOCK_SERVER_TLS_OPTIONS_INIT) and "
                       "https_port -1 (none), 0 (ephemeral) or a port up to 65535");
        return NULL;
    }
    em_tls *t = calloc(1, sizeof *t);
    if (!t) {
        em_server_fail(err, ECRMOCK_ERR_SERVER, "out of memory");
        return NULL;
    }
    t->listen_fd[0] = t->listen_fd[1] = t->wake[0] = t->wake[1] = -1;
    t->port[0] = t->port[1] = -1;
    t->timeout_s = timeout_s;
    t->max_connections = max_connections;
    pthread_mutex_init(&t->lock, NULL);
    pthread_attr_init(&t->attr);
    pthread_attr_setstacksize(&t->attr, CONN_STACK);
    if (load_or_make_ca(t, o, err) < 0)
        goto fail;
    t->host_key = EVP_EC_gen("P-256");
    t->ctx = t->host_key ? SSL_CTX_new(TLS_server_method()) : NULL;
    if (!t->ctx || !SSL_CTX_set_min_proto_version(t->ctx, TLS1_2_VERSION) || pipe2(t->wake, O_CLOEXEC) != 0) {
        em_server_fail(err, ECRMOCK_ERR_SERVER, "out of memory");
        goto fail;
    }
    SSL_CTX_set_num_tickets(t->ctx, 0);
    SSL_CTX_set_tlsext_servername_callback(t->ctx, on_servername);
    SSL_CTX_set_tlsext_servername_arg(t->ctx, t);
    if (o->proxy && (t->listen_fd[0] = listen_on(plain, plain_len, &t->port[0], "the plain port, proxy mode", err)) < 0)
        goto fail;
    if (o->https_port >= 0) {
        struct sockaddr_storage a;
        memcpy(&a, plain, plain_len);
        if (a.ss_family == AF_INET6)
            ((struct sockaddr_in6 *)&a)->sin6_port = htons((uint16_t)o->https_port);
        else
            ((struct sockaddr_in *)&a)->sin_port = htons((uint16_t)o->https_port);
        if ((t->listen_fd[1] = listen_on((struct sockaddr *)&a, plain_len, &t->port[1], "the HTTPS port", err)) < 0)
            goto fail;
    }
    return t;
fail:
    em_tls_free(t);
    return NULL;
}

int em_tls_plain_port(const em_tls *t)
{
    return t->port[0];
}

int em_tls_https_port(const em_tls *t)
{
    return t->port[1];
}

const char *em_tls_ca_pem(const em_tls *t)
{
    return t->ca_pem;
}

/* ---- one connection --------------------------------------------------------------------- */

static int send_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static void refuse(int fd, const char *status, const char *text)
{
    char head[256];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
                     status, strlen(text));
    if (send_all(fd, head, (size_t)n) == 0)
        send_all(fd, text, strlen(text));
}

/* Reads a CONNECT's head (byte by byte: what follows it is the client's
 * TLS, not ours to read) and answers it.  Returns 0 when the tunnel is open. */
static int connect_head(int fd)
{
    char head[MAX_CONNECT_HEAD + 1];
    size_t n = 0;
    while (n < 4 || memcmp(head + n - 4, "\r\n\r\n", 4) != 0) {
        if (n == MAX_CONNECT_HEAD) {
            refuse(fd, "431 Request Header Fields Too Large", "ecrmock: the CONNECT request's head is over 8 KiB\n");
            return -1;
        }
        ssize_t r = recv(fd, head + n, 1, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        n++;
    }
    head[n] = '\0';
    char target[300], version[16];
    if (strncmp(head, "CONNECT ", 8) != 0) {
        refuse(fd, "405 Method Not Allowed",
               "ecrmock: the proxy answers CONNECT <host>:443 only; send other requests to the server itself\n");
        return -1;
    }
    int end = 0;
    if (sscanf(head, "CONNECT %299s HTTP/%15[0-9.]%n", target, version, &end) != 2 ||
        strncmp(head + end, "\r\n", 2) != 0) {
        refuse(fd, "400 Bad Request", "ecrmock: a CONNECT request line is `CONNECT <host>:443 HTTP/1.1`\n");
        return -1;
    }
    const char *colon = strrchr(target, ':');
    int ecr = colon && ecrmock_http_host_kind(target, NULL, 0) != ECRMOCK_HOST_OTHER;
    if (!ecr || strcmp(colon + 1, "443") != 0) {
        char text[640];
        snprintf(text, sizeof text,
                 "ecrmock: CONNECT %s refused: this proxy serves only ECR's hosts on port 443 "
                 "(api.ecr.<region>.amazonaws.com, <account>.dkr.ecr.<region>.amazonaws.com, the layer bucket's S3 "
                 "host); the fake never reaches the network\n",
                 target);
        refuse(fd, "403 Forbidden", text);
        return -1;
    }
    static const char ok[] = "HTTP/1.1 200 Connection established\r\n\r\n";
    return send_all(fd, ok, sizeof ok - 1);
}

/* Gives `fd` to the daemon (which closes it in any case). */
static void hand_over(conn *c, int fd)
{
    MHD_add_connection(c->tls->daemon, fd, (const struct sockaddr *)&c->peer, c->peer_len);
}

/* Relays between the TLS session and the daemon's end of the socketpair
 * until either side closes.  The pair's side never blocks (what the client
 * sent waits in `up` until the daemon takes it), so a daemon that answers
 * before it has read a whole body cannot deadlock the relay. */
static void relay(SSL *ssl, int client, int pair)
{
    char up[16384], down[16384];
    size_t up_len = 0, up_off = 0;
    int client_eof = 0;
    fcntl(pair, F_SETFL, fcntl(pair, F_GETFL) | O_NONBLOCK);
    for (;;) {
        int readable = !client_eof && up_len == 0 && SSL_pending(ssl) > 0;
        struct pollfd p[2] = {{client, (short)(!client_eof && up_len == 0 ? POLLIN : 0), 0},
                              {pair, (short)(POLLIN | (up_len ? POLLOUT : 0)), 0}};
        if (!readable && poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            return;
        }
        if (readable || (!client_eof && up_len == 0 && (p[0].revents & (POLLIN | POLLHUP | POLLERR)))) {
            int n = SSL_read(ssl, up, sizeof up);
            if (n <= 0) {
                if (SSL_get_error(ssl, n) != SSL_ERROR_ZERO_RETURN)
                    return; /* cut, or stopped */
                client_eof = 1; /* close_notify: the daemon may still answer */
                shutdown(pair, SHUT_WR);
            } else {
                up_len = (size_t)n;
                up_off = 0;
            }
        } else if (p[0].revents & (POLLHUP | POLLERR)) {
            return;
        }
        if (up_len && (p[1].revents & POLLOUT)) {
            ssize_t w = send(pair, up + up_off, up_len, MSG_NOSIGNAL);
            if (w < 0 && errno != EAGAIN && errno != EINTR)
                w = (ssize_t)up_len; /* the daemon has closed: dropped, but its answer is still to relay */
            if (w > 0) {
                up_off += (size_t)w;
                up_len -= (size_t)w;
            }
        }
        if (p[1].revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t r = recv(pair, down, sizeof down, 0);
            if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))
                return; /* the daemon closed the connection */
            if (r > 0 && SSL_write(ssl, down, (int)r) <= 0)
                return;
        }
    }
}

static void serve_tls(conn *c, int fd)
{
    int sp[2];
    SSL *ssl = SSL_new(c->tls->ctx);
    if (!ssl || SSL_set_fd(ssl, fd) != 1 || SSL_accept(ssl) != 1) {
        SSL_free(ssl);
        return;
    }
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == 0) {
        hand_over(c, sp[1]);
        relay(ssl, fd, sp[0]);
        close(sp[0]);
        SSL_shutdown(ssl); /* close_notify, not waiting for the client's */
    }
    SSL_free(ssl);
}

static void *serve(void *arg)
{
    conn *c = arg;
    em_tls *t = c->tls;
    int fd = c->fd;
    if (t->timeout_s) { /* a client that stalls in its handshake or CONNECT is let go */
        struct timeval tv = {(time_t)t->timeout_s, 0};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    }
    int tls = c->is_tls;
    if (!tls) {
        char first;
        ssize_t r;
        do
            r = recv(fd, &first, 1, MSG_PEEK);
        while (r < 0 && errno == EINTR);
        if (r == 1 && first != 'C') {
            struct timeval none = {0, 0}; /* the daemon's own timeouts hold from here */
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &none, sizeof none);
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &none, sizeof none);
            pthread_mutex_lock(&t->lock);
            c->fd = -1; /* the daemon's from now on: never shut down here */
            pthread_mutex_unlock(&t->lock);
            hand_over(c, fd);
            fd = -1;
        } else {
            tls = r == 1 && connect_head(fd) == 0;
        }
    }
    if (fd >= 0 && tls)
        serve_tls(c, fd);
    pthread_mutex_lock(&t->lock);
    c->done = 1;
    c->fd = -1;
    pthread_mutex_unlock(&t->lock);
    if (fd >= 0)
        close(fd);
    return NULL;
}

/* ---- accepting ---------------------------------------------------------------------------- */

/* Joins and frees the connections whose thread has ended (all of them when
 * `all`, after cutting the rest). */
static void reap(em_tls *t, int all)
{
    conn *ended = NULL;
    pthread_mutex_lock(&t->lock);
    for (conn **pc = &t->conns; *pc;) {
        conn *c = *pc;
        if (all && !c->done && c->fd >= 0)
            shutdown(c->fd, SHUT_RDWR); /* its thread reads the end and leaves */
        if (all || c->done) {
            *pc = c->next;
            c->next = ended;
            ended = c;
            t->n_conns--;
        } else {
            pc = &c->next;
        }
    }
    pthread_mutex_unlock(&t->lock);
    while (ended) {
        conn *c = ended;
        ended = c->next;
        pthread_join(c->thread, NULL);
        free(c);
    }
}

static void *accept_loop(void *arg)
{
    em_tls *t = arg;
    for (;;) {
        struct pollfd p[3] = {{t->wake[0], POLLIN, 0}, {t->listen_fd[0], POLLIN, 0}, {t->listen_fd[1], POLLIN, 0}};
        if (poll(p, 3, -1) < 0 && errno != EINTR)
            break;
        if (p[0].revents)
            break;
        reap(t, 0);
        int starved = 0;
        for (int i = 0; i < 2; i++) {
            if (!(p[i + 1].revents & POLLIN))
                continue;
            conn *c = calloc(1, sizeof *c);
            if (!c) {
                starved = 1; /* the connection waits in the backlog */
                continue;
            }
            c->peer_len = sizeof c->peer;
            c->fd = accept4(t->listen_fd[i], (struct sockaddr *)&c->peer, &c->peer_len, SOCK_CLOEXEC);
            if (c->fd < 0 && (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM))
                starved = 1;
            c->tls = t;
            c->is_tls = i == 1;
            pthread_mutex_lock(&t->lock);
            if (c->fd >= 0 && !t->stopping && t->n_conns < t->max_connections &&
                pthread_create(&c->thread, &t->attr, serve, c) == 0) {
                c->next = t->conns;
                t->conns = c;
                t->n_conns++;
                c = NULL;
            }
            pthread_mutex_unlock(&t->lock);
            if (c) { /* over the limit, or no thread: closed at once, as the daemon does */
                if (c->fd >= 0)
                    close(c->fd);
                free(c);
            }
        }
        /* Out of descriptors or memory: the listener stays readable, so
         * wait a little (or for the stop) rather than spin. */
        if (starved)
            poll(p, 1, 100);
    }
    return NULL;
}

int em_tls_run(em_tls *t, struct MHD_Daemon *daemon)
{
    t->daemon = daemon;
    /* The threads take no signal (SIGPIPE of a write to a closed client
     * included): they inherit this mask. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    t->accepting = pthread_create(&t->acceptor, NULL, accept_loop, t) == 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return t->accepting ? 0 : -1;
}

void em_tls_free(em_tls *t)
{
    if (!t)
        return;
    if (t->accepting) {
        pthread_mutex_lock(&t->lock);
        t->stopping = 1;
        pthread_mutex_unlock(&t->lock);
        char b = 0;
        while (write(t->wake[1], &b, 1) < 0 && errno == EINTR)
            ;
        pthread_join(t->acceptor, NULL);
    }
    reap(t, 1);
    for (int i = 0; i < 2; i++) {
        if (t->listen_fd[i] >= 0)
            close(t->listen_fd[i]);
        if (t->wake[i] >= 0)
            close(t->wake[i]);
    }
    while (t->certs) {
        host_cert *c = t->certs;
        t->certs = c->next;
        X509_free(c->x509);
        free(c);
    }
    SSL_CTX_free(t->ctx);
    X509_free(t->ca);
    EVP_PKEY_free(t->ca_key);
    EVP_PKEY_free(t->host_key);
    free(t->ca_pem);
    pthread_mutex_destroy(&t->lock);
    pthread_attr_destroy(&t->attr);
    free(t);
}
