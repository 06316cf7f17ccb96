/*
 * The loopback server: libmicrohttpd parses HTTP and runs its own thread;
 * each request, once its body has arrived, goes to ecrmock_http_handle()
 * (the instance is thread-safe), and the response comes back as is.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <time.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "ecrmock_server.h"
#include "tls.h"

#define MAX_BODY (64u << 20) /* a request body larger than this is refused (413) */

struct pending;

/* A connection: for the request deadline (when the server has one), when
 * its current request began (the connection's start, or the end of its
 * previous request); and the memory of its last request, kept for the next
 * one on the same keep-alive connection. */
typedef struct tracked {
    int fd;
    struct timespec since;
    int cut;
    int listed; /* in the server's list (the deadline's watchdog walks it) */
    struct tracked *prev, *next;
    struct pending *spare; /* a request's buffers, emptied, for the next one; NULL: none */
} tracked;

struct ecrmock_server {
    ecrmock *m;
    struct MHD_Daemon *daemon;
    /* The request deadline's watchdog (request_timeout_s > 0). */
    unsigned int request_timeout_s;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t watchdog;
    int watching, stopping;
    tracked *conns;
    em_tls *tls; /* the HTTPS side (tls.c), or NULL */
};

static struct timespec now_mono(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t;
}

static void pending_free(struct pending *p);

/* microhttpd's idle timeout closes a connection that sends nothing; one
 * that trickles a byte now and then (slowloris) is cut here, when its
 * request has not arrived whole within request_timeout_s.  Connections are
 * tracked from microhttpd's notifications: it tells of a connection's close
 * before it closes the socket, and both sides hold the lock, so the
 * watchdog never shuts down a descriptor that was reused.  Every
 * connection has its context, deadline or not: its requests' buffers. */
static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    ecrmock_server *s = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        tracked *t = info ? calloc(1, sizeof *t) : NULL;
        *socket_context = t;
        if (!t)
            return; /* not tracked: the idle timeout still holds, and each request has its own buffers */
        t->fd = info->connect_fd;
        t->since = now_mono();
        if (!s->watching)
            return;
        pthread_mutex_lock(&s->lock);
        t->next = s->conns;
        if (s->conns)
            s->conns->prev = t;
        s->conns = t;
        t->listed = 1;
        pthread_mutex_unlock(&s->lock);
    } else if (toe == MHD_CONNECTION_NOTIFY_CLOSED && *socket_context) {
        tracked *t = *socket_context;
        if (t->listed) {
            pthread_mutex_lock(&s->lock);
            if (t->prev)
                t->prev->next = t->next;
            else
                s->conns = t->next;
            if (t->next)
                t->next->prev = t->prev;
            pthread_mutex_unlock(&s->lock);
        }
        pending_free(t->spare);
        free(t);
        *socket_context = NULL;
    }
}

static void *watchdog(void *cls)
{
    ecrmock_server *s = cls;
    pthread_mutex_lock(&s->lock);
    while (!s->stopping) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += 250000000;
        if (until.tv_nsec >= 1000000000) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&s->wake, &s->lock, &until);
        struct timespec now = now_mono();
        for (tracked *t = s->conns; t && !s->stopping; t = t->next) {
            double age = (double)(now.tv_sec - t->since.tv_sec) + (double)(now.tv_nsec - t->since.tv_nsec) / 1e9;
            if (!t->cut && age > (double)s->request_timeout_s) {
                shutdown(t->fd, SHUT_RDWR); /* microhttpd reads the end and closes it */
                t->cut = 1;
            }
        }
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

typedef struct collect {
    ecrmock_http_header *h; /* every header, however many (microhttpd's memory limit bounds them) */
    size_t n, cap;
    const char *content_length; /* the first Content-Length, and whether another one differs */
    int conflicting_length;
    char *query; /* rebuilt from the arguments, percent-encoded */
    size_t qlen, qcap;
    int oom;
} collect;

/* What arrives of one request across the handler's calls: its headers,
 * collected once when they are whole (microhttpd keeps their text until the
 * request completes), and its body. */
typedef struct pending {
    collect c;
    char *body;
    size_t len, cap;
    int too_big;
} pending;

/* A connection keeps a body buffer up to this size for its next request: an
 * API call's body is a few KiB, and 4,096 idle connections hold 64 MiB at
 * most. */
#define KEPT_BODY (16u << 10)

static void pending_free(pending *p)
{
    if (p) {
        free(p->c.h);
        free(p->c.query);
        free(p->body);
        free(p);
    }
}

/* The buffers for a request arriving on `conn`: its connection's spare
 * ones, emptied (no allocation on a keep-alive connection's later
 * requests), or new ones; NULL: no memory. */
static pending *pending_take(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    tracked *t = info ? info->socket_context : NULL;
    pending *p = t ? t->spare : NULL;
    if (!p)
        return calloc(1, sizeof(pending));
    t->spare = NULL;
    return p;
}

/* A request is over: its buffers go back to its connection, emptied (a
 * large body's freed), or are freed when the connection has none to keep
 * them (it is closing, or its context could not be made). */
static void pending_give_back(struct MHD_Connection *conn, pending *p)
{
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    tracked *t = info ? info->socket_context : NULL;
    if (!t || t->spare) {
        pending_free(p);
        return;
    }
    if (p->cap > KEPT_BODY) {
        free(p->body);
        p->body = NULL;
        p->cap = 0;
    }
    p->c = (collect){.h = p->c.h, .cap = p->c.cap, .query = p->c.query, .qcap = p->c.qcap};
    p->len = 0;
    p->too_big = 0;
    t->spare = p;
}

static enum MHD_Result on_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind;
    collect *c = cls;
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 32;
        ecrmock_http_header *h = realloc(c->h, cap * sizeof *h);
        if (!h) {
            c->oom = 1;
            return MHD_NO;
        }
        c->h = h;
        c->cap = cap;
    }
    value = value ? value : "";
    if (strcasecmp(key, "Content-Length") == 0) {
        if (c->content_length && strcmp(c->content_length, value) != 0)
            c->conflicting_length = 1;
        if (!c->content_length)
            c->content_length = value;
    }
    c->h[c->n].name = key;
    c->h[c->n].value = value;
    c->n++;
    return MHD_YES;
}

/* Appends s to the rebuilt query, percent-encoding all but the unreserved
 * characters when `encode`, as they are otherwise (separators). */
static void put_q(collect *c, const char *s, int encode)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; s && *s && !c->oom; s++) {
        if (c->qlen + 4 > c->qcap) {
            size_t cap = c->qcap ? c->qcap * 2 : 256;
            char *q = realloc(c->query, cap);
            if (!q) {
                c->oom = 1;
                return;
            }
            c->query = q;
            c->qcap = cap;
        }
        unsigned char ch = (unsigned char)*s;
        if (!encode || (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
            ch == '-' || ch == '_' || ch == '.' || ch == '~') {
            c->query[c->qlen++] = (char)ch;
        } else {
            c->query[c->qlen++] = '%';
            c->query[c->qlen++] = hex[ch >> 4];
            c->query[c->qlen++] = hex[ch & 15];
        }
        c->query[c->qlen] = '\0';
    }
}

/* microhttpd hands the query over decoded: encode it again. */
static enum MHD_Result on_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind;
    collect *c = cls;
    if (c->qlen)
        put_q(c, "&", 0);
    put_q(c, key, 1);
    if (value) {
        put_q(c, "=", 0);
        put_q(c, value, 1);
    }
    return MHD_YES;
}

/* A HEAD response's body is never read: microhttpd sends its headers only. */
static ssize_t no_body(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)cls;
    (void)pos;
    (void)buf;
    (void)max;
    return MHD_CONTENT_READER_END_OF_STREAM;
}

static const char fail_text[] = "ecrmock: out of memory"; /* the 500's body: not the response's to free */

#if MHD_VERSION >= 0x00097302
/* A response whose body microhttpd sends from where ecrmock_http_handle()
 * left it (no copy: a pulled layer is hundreds of MiB), and frees once sent
 * with the library's free function (the body is ecrmock's memory:
 * ecrmock_buffer_free() frees it with the allocator it came from). */
static struct MHD_Response *body_of(ecrmock_http_response *r)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer_with_free_callback_cls(r->body_len, r->body, ecrmock_buffer_free, r->body);
    if (resp) { /* the body is microhttpd's now: r keeps its headers */
        r->body = NULL;
        r->body_len = 0;
    }
    return resp;
}
#else
static struct MHD_Response *body_of(ecrmock_http_response *r)
{
    return MHD_create_response_from_buffer(r->body_len, r->body, MHD_RESPMEM_MUST_COPY);
}
#endif

static enum MHD_Result reply(struct MHD_Connection *conn, int status, ecrmock_http_response *r, int head)
{
    /* microhttpd writes Content-Length from the response's size: for HEAD,
     * the size of what a GET would send, as ecrmock_http_handle() says. */
    const char *cl = head && r ? ecrmock_http_response_header(r, "Content-Length") : NULL;
    char *end = NULL;
    unsigned long long n = cl ? strtoull(cl, &end, 10) : 0;
    struct MHD_Response *resp;
    if (cl && *cl >= '0' && *cl <= '9' && !*end)
        resp = MHD_create_response_from_callback((uint64_t)n, 4096, no_body, NULL, NULL);
    else if (r && r->body_len && r->body != fail_text)
        resp = body_of(r); /* the body handed over, not copied */
    else
        resp = MHD_create_response_from_buffer(r ? r->body_len : 0, r ? r->body : (void *)"", MHD_RESPMEM_MUST_COPY);
    if (!resp)
        return MHD_NO;
    for (size_t i = 0; r && i < r->n_headers; i++)
        if (strcasecmp(r->headers[i].name, "Content-Length") != 0) /* microhttpd sets it */
            /* microhttpd refuses an empty value (ECR's `Sizes:`): one space
             * instead, the optional whitespace every client drops, so the
             * header arrives with its empty value (RFC 9110, 5.5). */
            MHD_add_response_header(resp, r->headers[i].name, r->headers[i].value[0] ? r->headers[i].value : " ");
    enum MHD_Result rc = MHD_queue_response(conn, (unsigned)status, resp);
    MHD_destroy_response(resp);
    return rc;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    (void)version;
    ecrmock_server *s = cls;
    pending *p = *con_cls;
    if (!p) {
        if (!(p = pending_take(conn)))
            return MHD_NO;
        *con_cls = p; /* on_completed gives it back */
        /* the request's headers, kept for its last call */
        MHD_get_connection_values(conn, MHD_HEADER_KIND, on_header, &p->c);
        /* Two Content-Length headers that differ: which one framed the
         * body?  Refused before any of it is read (RFC 9112, 6.3). */
        if (p->c.conflicting_length)
            return reply(conn, 400, NULL, 0);
        return MHD_YES;
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (p->too_big || p->len + n > MAX_BODY) {
            p->too_big = 1;
            return MHD_YES;
        }
        if (p->len + n + 1 > p->cap) {
            size_t cap = p->cap ? p->cap : 4096;
            while (cap < p->len + n + 1)
                cap *= 2;
            char *b = realloc(p->body, cap);
            if (!b)
                return MHD_NO;
            p->body = b;
            p->cap = cap;
        }
        memcpy(p->body + p->len, upload_data, n);
        p->len += n;
        return MHD_YES;
    }
    if (p->too_big)
        return reply(conn, 413, NULL, 0);

    collect *c = &p->c; /* on_completed frees what it holds, or keeps it for the next request */
    if (c->oom) { /* the first call ran out of memory: once more */
        *c = (collect){.h = c->h, .cap = c->cap, .query = c->query, .qcap = c->qcap};
        MHD_get_connection_values(conn, MHD_HEADER_KIND, on_header, c);
    }
    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, on_arg, c);
    /* The target: the path as it came, or the path and the rebuilt query. */
    char *target = NULL;
    if (c->qlen && !c->oom) {
        size_t n = strlen(url);
        if ((target = malloc(n + 1 + c->qlen + 1))) {
            memcpy(target, url, n);
            target[n] = '?';
            memcpy(target + n + 1, c->query, c->qlen + 1);
        }
    }
    if (c->oom || (c->qlen && !target))
        return MHD_NO;
    int head = strcmp(method, "HEAD") == 0;

    ecrmock_http_request req = ECRMOCK_HTTP_REQUEST_INIT;
    req.method = method;
    req.target = target ? target : url;
    req.headers = c->h;
    req.n_headers = c->n;
    req.body = p->body;
    req.body_len = p->len;
    ecrmock_http_response r;
    int status = ecrmock_http_handle(s->m, &req, &r);
    free(target);
    enum MHD_Result rc;
    if (status < 0) {
        ecrmock_http_response fail = {0};
        fail.body = (char *)fail_text;
        fail.body_len = strlen(fail.body);
        rc = reply(conn, 500, &fail, 0);
    } else {
        rc = reply(conn, status, &r, head);
    }
    ecrmock_http_response_release(&r);
    return rc;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode t)
{
    ecrmock_server *s = cls;
    (void)t;
    /* The next request on this connection has its own deadline. */
    const union MHD_ConnectionInfo *info =
        s->watching ? MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT) : NULL;
    if (info && info->socket_context) {
        pthread_mutex_lock(&s->lock);
        ((tracked *)info->socket_context)->since = now_mono();
        pthread_mutex_unlock(&s->lock);
    }
    if (*con_cls) {
        pending_give_back(conn, *con_cls);
        *con_cls = NULL;
    }
}

/* ---- starting, and why a start failed ------------------------------------- */

static int fail(ecrmock_err *err, ecrmock_error code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(ecrmock_err *err, ecrmock_error code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        err->code = code;
        err->path[0] = '\0';
        vsnprintf(err->text, sizeof err->text, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* The caller's address for a message: printable ASCII as is, any other
 * byte as \xNN (so the text stays UTF-8), at most 64 bytes of it. */
static void quote(char out[272], const char *s)
{
    size_t at = 0, i = 0;
    for (; s[i] && i < 64; i++) {
        unsigned char c = (unsigned char)s[i];
        at += (size_t)snprintf(out + at, 272 - at, c >= 0x20 && c < 0x7f && c != '"' && c != '\\' ? "%c" : "\\x%02X",
                               c);
    }
    snprintf(out + at, 272 - at, "%s", s[i] ? "..." : "");
}

/* microhttpd says only that its daemon did not start: bind the address
 * once more to learn why (the port in use, a privileged port, an address
 * that is not this machine's, no descriptor left), or else that the daemon
 * itself failed. */
static int why_not_listening(ecrmock_err *err, const struct sockaddr *sa, socklen_t len, const char *address, int port)
{
    int e = 0, one = 1;
    int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        e = errno;
    } else {
        /* as microhttpd does: a port in TIME_WAIT may be bound again */
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (sa->sa_family == AF_INET6)
            setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
        if (bind(fd, sa, len) < 0 || listen(fd, 1) < 0)
            e = errno;
        close(fd);
    }
    const char *a = sa->sa_family == AF_INET6 ? "[%s]:%d" : "%s:%d";
    char where[96];
    snprintf(where, sizeof where, a, address, port);
    switch (e) {
    case EADDRINUSE:
        return fail(err, ECRMOCK_ERR_INVALID_PARAMETER, "cannot listen on %s: the port is in use (another server holds "
                    "it): choose another port, or 0 for an ephemeral one", where);
    case EACCES:
        return fail(err, ECRMOCK_ERR_INVALID_PARAMETER, "cannot listen on %s: permission denied (a port below 1024 "
                    "needs privileges): choose a port of 1024 or more, or 0 for an ephemeral one", where);
    case EADDRNOTAVAIL:
        return fail(err, ECRMOCK_ERR_INVALID_PARAMETER, "cannot listen on %s: the address is not one of this machine's "
                    "(127.0.0.1, ::1 or an interface's address)", where);
    case EAFNOSUPPORT:
        return fail(err, ECRMOCK_ERR_INVALID_PARAMETER, "cannot listen on %s: this machine has no %s", where,
                    sa->sa_family == AF_INET6 ? "IPv6" : "IPv4");
    case EMFILE:
    case ENFILE:
        return fail(err, ECRMOCK_ERR_SERVER, "cannot listen on %s: no file descriptor left (ulimit -n)", where);
    case 0:
        return fail(err, ECRMOCK_ERR_SERVER, "cannot listen on %s: libmicrohttpd could not start its daemon (out of "
                    "memory or threads?)", where);
    default:
        return fail(err, ECRMOCK_ERR_SERVER, "cannot listen on %s: %s", where, strerror(e));
    }
}

/* ecrmock_server_listen(), and with `t` the HTTPS side too. */
static int start(ecrmock *m, const ecrmock_server_options *o, const ecrmock_server_tls_options *t, int *bound_port,
                 ecrmock_server **out, ecrmock_err *err)
{
    if (out)
        *out = NULL;
    const char *null = !m ? "m" : !o ? "o" : !out ? "out" : NULL;
    if (null)
        return fail(err, ECRMOCK_ERR_INVALID_PARAMETER, "ecrmock_server_listen: %s must not be NULL", null);
    if (o->version < 1 || o->version > ECRMOCK_SERVER_OPTIONS_VERSION)
        return fail(err, ECRMOCK_ERR_INVALID_PARAMETER, "ecrmock_server_options.version is %u, not one this library "
                    "knows (1 to %d): initialise the options with ECRMOCK_SERVER_OPTIONS_INIT", o->version,
                    ECRMOCK_SERVER_OPTIONS_VERSION);
    if (o->port < 0 || o->port > 65535)
        return fail(err, ECRMOCK_ERR_INVALID_PARAMETER, "ecrmock_server_options.port is %d: must be 1 to 65535, or 0 "
                    "for an ephemeral port", o->port);
    const char *address = o->address ? o->address : "127.0.0.1";
    struct sockaddr_in v4 = {0};
    struct sockaddr_in6 v6 = {0};
    struct sockaddr *sa;
    socklen_t sa_len;
    /* epoll (or poll where there is none): no FD_SETSIZE ceiling on connections. */
    unsigned int flags = MHD_USE_AUTO_INTERNAL_THREAD;
    if (inet_pton(AF_INET, address, &v4.sin_addr) == 1) {
        v4.sin_family = AF_INET;
        v4.sin_port = htons((uint16_t)o->port);
        sa = (struct sockaddr *)&v4;
        sa_len = sizeof v4;
    } else if (inet_pton(AF_INET6, address, &v6.sin6_addr) == 1) {
        if (IN6_IS_ADDR_V4MAPPED(&v6.sin6_addr)) {
            char q[272];
            quote(q, address);
            return fail(err, ECRMOCK_ERR_INVALID_PARAMETER, "ecrmock_server_options.address \"%s\" is an IPv4 address "
                        "written as IPv6 (the server's IPv6 sockets take IPv6 only): give the IPv4 address itself, as "
                        "\"%s\"", q, strrchr(q, ':') + 1);
        }
        v6.sin6_family = AF_INET6;
        v6.sin6_port = htons((uint16_t)o->port);
        sa = (struct sockaddr *)&v6;
        sa_len = sizeof v6;
        flags |= MHD_USE_IPv6;
    } else {
        char q[272];
        quote(q, address);
        return fail(err, ECRMOCK_ERR_INVALID_PARAMETER, "ecrmock_server_options.address \"%s\" is not an IPv4 or IPv6 "
                    "literal (no name is looked up): \"127.0.0.1\", \"::1\", \"0.0.0.0\"", q);
    }
    ecrmock_server *s = calloc(1, sizeof *s);
    if (!s)
        return fail(err, ECRMOCK_ERR_SERVER, "out of memory");
    s->m = m;
    s->request_timeout_s = o->request_timeout_s;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->wake, NULL);
    int e = s->request_timeout_s ? pthread_create(&s->watchdog, NULL, watchdog, s) : 0;
    if (e) {
        ecrmock_server_stop(s);
        return fail(err, ECRMOCK_ERR_SERVER, "cannot start the request deadline's thread: %s", strerror(e));
    }
    s->watching = s->request_timeout_s != 0;
    if (t) { /* connections handed over (MHD_add_connection) want the daemon's wake-up channel */
        s->tls = em_tls_new(t, sa, sa_len, o->timeout_s,
                            o->max_connections ? o->max_connections : ECRMOCK_SERVER_DEFAULT_MAX_CONNECTIONS, err);
        if (!s->tls) {
            ecrmock_server_stop(s);
            return -1;
        }
        flags |= MHD_USE_ITC | (em_tls_plain_port(s->tls) >= 0 ? MHD_USE_NO_LISTEN_SOCKET : 0);
    }
    unsigned int limit = o->max_connections ? o->max_connections : ECRMOCK_SERVER_DEFAULT_MAX_CONNECTIONS;
    s->daemon = MHD_start_daemon(flags, (uint16_t)o->port, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR, sa,
                                 MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_CONNECTION_TIMEOUT,
                                 o->timeout_s, MHD_OPTION_CONNECTION_LIMIT, limit, MHD_OPTION_NOTIFY_CONNECTION,
                                 on_connection, s, MHD_OPTION_END);
    int proxy = s->tls && em_tls_plain_port(s->tls) >= 0; /* em_tls holds the plain port */
    if (!s->daemon) {
        ecrmock_server_stop(s);
        return proxy ? fail(err, ECRMOCK_ERR_SERVER, "libmicrohttpd could not start its daemon (out of memory or "
                            "threads?)")
                     : why_not_listening(err, sa, sa_len, address, o->port);
    }
    if (s->tls && em_tls_run(s->tls, s->daemon) != 0) {
        ecrmock_server_stop(s);
        return fail(err, ECRMOCK_ERR_SERVER, "cannot start the HTTPS side's thread");
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    if (bound_port)
        *bound_port = proxy ? em_tls_plain_port(s->tls) : info ? (int)info->port : o->port;
    *out = s;
    if (err) {
        err->code = ECRMOCK_ERR_OK;
        err->path[0] = err->text[0] = '\0';
    }
    return 0;
}

int ecrmock_server_listen(ecrmock *m, const ecrmock_server_options *o, int *bound_port, ecrmock_server **out,
                          ecrmock_err *err)
{
    return start(m, o, NULL, bound_port, out, err);
}

int ecrmock_server_start_tls(ecrmock *m, const ecrmock_server_options *o, const ecrmock_server_tls_options *t,
                             int *bound_port, ecrmock_server **out, ecrmock_err *err)
{
    if (!t) {
        if (out)
            *out = NULL;
        return fail(err, ECRMOCK_ERR_INVALID_PARAMETER, "ecrmock_server_start_tls: t must not be NULL");
    }
    return start(m, o, t, bound_port, out, err);
}

int ecrmock_server_https_port(const ecrmock_server *s)
{
    return s && s->tls ? em_tls_https_port(s->tls) : -1;
}

const char *ecrmock_server_ca_pem(const ecrmock_server *s)
{
    return s && s->tls ? em_tls_ca_pem(s->tls) : NULL;
}

int ecrmock_server_start_with(ecrmock *m, const ecrmock_server_options *o, int *bound_port, ecrmock_server **out)
{
    return ecrmock_server_listen(m, o, bound_port, out, NULL);
}

int ecrmock_server_start(ecrmock *m, const char *address, int port, int *bound_port, ecrmock_server **out)
{
    ecrmock_server_options o = ECRMOCK_SERVER_OPTIONS_INIT;
    o.address = address;
    o.port = port;
    return ecrmock_server_listen(m, &o, bound_port, out, NULL);
}

void ecrmock_server_stop(ecrmock_server *s)
{
    if (!s)
        return;
    if (s->watching) {
        pthread_mutex_lock(&s->lock);
        s->stopping = 1;
        pthread_cond_signal(&s->wake);
        pthread_mutex_unlock(&s->lock);
        pthread_join(s->watchdog, NULL);
    }
    em_tls_free(s->tls); /* before the daemon: its relays write to the daemon's connections */
    if (s->daemon)
        MHD_stop_daemon(s->daemon); /* the remaining connections' notifications untrack them */
    pthread_cond_destroy(&s->wake);
    pthread_mutex_destroy(&s->lock);
    free(s);
}
