/*
 * The loopback server: libmicrohttpd parses HTTP and runs its own thread;
 * each request, once its body has arrived, goes to ecrmock_http_handle()
 * (the instance is thread-safe), and the response comes back as is.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <time.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "ecrmock_server.h"
#include "tls.h"

#define MAX_BODY (64u << 20) /* a request body larger than this is refused (413) */

/* A connection, for the request deadline: when its current request began
 * (the connection's start, or the end of its previous request). */
typedef struct tracked {
    int fd;
    struct timespec since;
    int cut;
    struct tracked *prev, *next;
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

/* microhttpd's idle timeout closes a connection that sends nothing; one
 * that trickles a byte now and then (slowloris) is cut here, when its
 * request has not arrived whole within request_timeout_s.  Connections are
 * tracked from microhttpd's notifications: it tells of a connection's close
 * before it closes the socket, and both sides hold the lock, so the
 * watchdog never shuts down a descriptor that was reused. */
static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    ecrmock_server *s = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        tracked *t = info ? calloc(1, sizeof *t) : NULL;
        *socket_context = t;
        if (!t)
            return; /* not tracked: the idle timeout still holds */
        t->fd = info->connect_fd;
        t->since = now_mono();
        pthread_mutex_lock(&s->lock);
        t->next = s->conns;
        if (s->conns)
            s->conns->prev = t;
        s->conns = t;
        pthread_mutex_unlock(&s->lock);
    } else if (toe == MHD_CONNECTION_NOTIFY_CLOSED && *socket_context) {
        tracked *t = *socket_context;
        pthread_mutex_lock(&s->lock);
        if (t->prev)
            t->prev->next = t->next;
        else
            s->conns = t->next;
        if (t->next)
            t->next->prev = t->prev;
        pthread_mutex_unlock(&s->lock);
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

/* What arrives of one request across the handler's calls. */
typedef struct pending {
    char *body;
    size_t len, cap;
    int too_big;
} pending;

typedef struct collect {
    ecrmock_http_header *h; /* every header, however many (microhttpd's memory limit bounds them) */
    size_t n, cap;
    const char *content_length; /* the first Content-Length, and whether another one differs */
    int conflicting_length;
    char *query; /* rebuilt from the arguments, percent-encoded */
    size_t qlen, qcap;
    int oom;
} collect;

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

static enum MHD_Result reply(struct MHD_Connection *conn, int status, const ecrmock_http_response *r, int head)
{
    /* microhttpd writes Content-Length from the response's size: for HEAD,
     * the size of what a GET would send, as ecrmock_http_handle() says. */
    const char *cl = head && r ? ecrmock_http_response_header(r, "Content-Length") : NULL;
    char *end = NULL;
    unsigned long long n = cl ? strtoull(cl, &end, 10) : 0;
    struct MHD_Response *resp =
        cl && *cl >= '0' && *cl <= '9' && !*end
            ? MHD_create_response_from_callback((uint64_t)n, 4096, no_body, NULL, NULL)
            : MHD_create_response_from_buffer(r ? r->body_len : 0, r ? r->body : (void *)"", MHD_RESPMEM_MUST_COPY);
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
        /* Two Content-Length headers that differ: which one framed the
         * body?  Refused before any of it is read (RFC 9112, 6.3). */
        collect c = {0};
        MHD_get_connection_values(conn, MHD_HEADER_KIND, on_header, &c);
        free(c.h);
        if (c.conflicting_length)
            return reply(conn, 400, NULL, 0);
        p = calloc(1, sizeof *p);
        if (!p)
            return MHD_NO;
        *con_cls = p;
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

    collect c = {0};
    MHD_get_connection_values(conn, MHD_HEADER_KIND, on_header, &c);
    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, on_arg, &c);
    char *target = NULL;
    if (!c.oom && asprintf(&target, "%s%s%s", url, c.qlen ? "?" : "", c.qlen ? c.query : "") < 0)
        target = NULL;
    free(c.query);
    if (!target) {
        free(c.h);
        return MHD_NO;
    }
    int head = strcmp(method, "HEAD") == 0;

    ecrmock_http_request req = ECRMOCK_HTTP_REQUEST_INIT;
    req.method = method;
    req.target = target;
    req.headers = c.h;
    req.n_headers = c.n;
    req.body = p->body;
    req.body_len = p->len;
    ecrmock_http_response r;
    int status = ecrmock_http_handle(s->m, &req, &r);
    free(target);
    free(c.h);
    enum MHD_Result rc;
    if (status < 0) {
        ecrmock_http_response fail = {0};
        fail.body = "ecrmock: out of memory";
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
    pending *p = *con_cls;
    if (p) {
        free(p->body);
        free(p);
        *con_cls = NULL;
    }
}

/* ecrmock_server_start_with(), and with `t` the HTTPS side too. */
static int start(ecrmock *m, const ecrmock_server_options *o, const ecrmock_server_tls_options *t, int *bound_port,
                 ecrmock_server **out, ecrmock_err *err)
{
    em_server_fail(err, ECRMOCK_ERR_OK, "%s", ""); /* cleared */
    if (out)
        *out = NULL;
    if (!m || !o || !out || o->version < 1 || o->version > ECRMOCK_SERVER_OPTIONS_VERSION || o->port < 0 ||
        o->port > 65535)
        return em_server_fail(err, ECRMOCK_ERR_INVALID_PARAMETER,
                              "ecrmock_server_options: version must be %d (ECRMOCK_SERVER_OPTIONS_INIT) and port 0 "
                              "(ephemeral) or a port up to 65535",
                              ECRMOCK_SERVER_OPTIONS_VERSION);
    const char *address = o->address ? o->address : "127.0.0.1";
    struct sockaddr_in v4 = {0};
    struct sockaddr_in6 v6 = {0};
    struct sockaddr *sa;
    /* epoll (or poll where there is none): no FD_SETSIZE ceiling on connections. */
    unsigned int flags = MHD_USE_AUTO_INTERNAL_THREAD;
    if (inet_pton(AF_INET, address, &v4.sin_addr) == 1) {
        v4.sin_family = AF_INET;
        v4.sin_port = htons((uint16_t)o->port);
        sa = (struct sockaddr *)&v4;
    } else if (inet_pton(AF_INET6, address, &v6.sin6_addr) == 1) {
        v6.sin6_family = AF_INET6;
        v6.sin6_port = htons((uint16_t)o->port);
        sa = (struct sockaddr *)&v6;
        flags |= MHD_USE_IPv6;
    } else {
        return em_server_fail(err, ECRMOCK_ERR_INVALID_PARAMETER, "the address '%s' is no IPv4 or IPv6 literal",
                              address);
    }
    ecrmock_server *s = calloc(1, sizeof *s);
    if (!s)
        return em_server_fail(err, ECRMOCK_ERR_SERVER, "out of memory");
    s->m = m;
    s->request_timeout_s = o->request_timeout_s;
    pthread_mutex_init(&s->lock, NULL);
    if (t) { /* connections handed over (MHD_add_connection) want the daemon's wake-up channel */
        s->tls = em_tls_new(t, sa, sa->sa_family == AF_INET6 ? sizeof v6 : sizeof v4, o->timeout_s,
                            o->max_connections ? o->max_connections : ECRMOCK_SERVER_DEFAULT_MAX_CONNECTIONS, err);
        if (!s->tls) {
            ecrmock_server_stop(s);
            return -1;
        }
        flags |= MHD_USE_ITC | (em_tls_plain_port(s->tls) >= 0 ? MHD_USE_NO_LISTEN_SOCKET : 0);
    }
    pthread_cond_init(&s->wake, NULL);
    if (s->request_timeout_s && pthread_create(&s->watchdog, NULL, watchdog, s) == 0)
        s->watching = 1;
    unsigned int limit = o->max_connections ? o->max_connections : ECRMOCK_SERVER_DEFAULT_MAX_CONNECTIONS;
    if (!s->request_timeout_s || s->watching)
        s->daemon = MHD_start_daemon(flags, (uint16_t)o->port, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR, sa,
                                     MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_CONNECTION_TIMEOUT,
                                     o->timeout_s, MHD_OPTION_CONNECTION_LIMIT, limit,
                                     MHD_OPTION_NOTIFY_CONNECTION, s->watching ? on_connection : NULL, s,
                                     MHD_OPTION_END);
    if (!s->daemon || (s->tls && em_tls_run(s->tls, s->daemon) != 0)) {
        if (!s->daemon)
            em_server_fail(err, ECRMOCK_ERR_INVALID_PARAMETER, "cannot listen on %s port %d", address, o->port);
        else
            em_server_fail(err, ECRMOCK_ERR_SERVER, "out of memory");
        ecrmock_server_stop(s);
        return -1;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    if (bound_port)
        *bound_port = s->tls && em_tls_plain_port(s->tls) >= 0 ? em_tls_plain_port(s->tls)
                      : info                                   ? (int)info->port
                                                               : o->port;
    *out = s;
    return 0;
}

int ecrmock_server_start_with(ecrmock *m, const ecrmock_server_options *o, int *bound_port, ecrmock_server **out)
{
    return start(m, o, NULL, bound_port, out, NULL);
}

int ecrmock_server_start_tls(ecrmock *m, const ecrmock_server_options *o, const ecrmock_server_tls_options *t,
                             int *bound_port, ecrmock_server **out, ecrmock_err *err)
{
    if (out)
        *out = NULL;
    if (!m || !o || !t || !out)
        return em_server_fail(err, ECRMOCK_ERR_INVALID_PARAMETER,
                              "ecrmock_server_start_tls: the instance, both options and out must not be NULL");
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

int ecrmock_server_start(ecrmock *m, const char *address, int port, int *bound_port, ecrmock_server **out)
{
    ecrmock_server_options o = ECRMOCK_SERVER_OPTIONS_INIT;
    o.address = address;
    o.port = port;
    return ecrmock_server_start_with(m, &o, bound_port, out);
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
