/*
 * ecrmock's loopback server: ecrmock_http_handle() served over real HTTP
 * (and HTTPS, ecrmock_server_start_tls) on background threads, for code
 * that cannot swap its transport.  A separate
 * library (libecrmock_server, built on libmicrohttpd): the core libecrmock
 * does not depend on it.  Link with -lecrmock_server -lecrmock and
 * $(pkg-config --libs libmicrohttpd libssl libcrypto) (OpenSSL: the HTTPS
 * side), or $(pkg-config --cflags --libs ecrmock-server).
 */
#ifndef ECRMOCK_SERVER_H
#define ECRMOCK_SERVER_H

#include "ecrmock.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ecrmock_server ecrmock_server;

/*
 * Starts serving instance `m` on `address` (an IPv4 or IPv6 literal,
 * "127.0.0.1" when NULL) and `port` (0: an ephemeral port).  `m` is
 * borrowed and must outlive the server.  On success returns 0, writes the
 * bound port into *bound_port (when not NULL) and a new server into *out, to
 * stop with ecrmock_server_stop().  Returns -1 for a bad argument or address,
 * or when the port cannot be bound or memory ran out: ecrmock_server_listen()
 * (below) says which.
 *
 * Download URLs: call ecrmock_http_base_url_set(m, "http://127.0.0.1:<port>")
 * so that the URLs GetDownloadUrlForLayer hands out lead back to the server.
 */
ECRMOCK_API int ecrmock_server_start(ecrmock *m, const char *address, int port, int *bound_port,
                                     ecrmock_server **out);

#define ECRMOCK_SERVER_OPTIONS_VERSION 1
#define ECRMOCK_SERVER_DEFAULT_TIMEOUT_S 30
#define ECRMOCK_SERVER_DEFAULT_MAX_CONNECTIONS 4096
#define ECRMOCK_SERVER_DEFAULT_REQUEST_TIMEOUT_S 60

/*
 * How the server listens.  Initialise with ECRMOCK_SERVER_OPTIONS_INIT;
 * fields are only ever appended.  The server polls with epoll (poll where
 * there is none), so it is not bound by select()'s FD_SETSIZE: it holds
 * max_connections connections, as far as the process's file descriptor
 * limit (RLIMIT_NOFILE) allows; a connection past them is closed at once.
 */
typedef struct ecrmock_server_options {
    unsigned int version;         /* ECRMOCK_SERVER_OPTIONS_VERSION */
    const char *address;          /* an IPv4 or IPv6 literal; NULL: "127.0.0.1" */
    int port;                     /* 0: an ephemeral port */
    unsigned int timeout_s;       /* a connection that sends nothing for this many
                                     seconds, between requests or in the middle of
                                     one, is closed; 0: never (not advised) */
    unsigned int max_connections; /* 0: ECRMOCK_SERVER_DEFAULT_MAX_CONNECTIONS */
    unsigned int request_timeout_s; /* a request (headers and body) must arrive whole
                                     within this many seconds of the connection's
                                     start or of the previous response, however
                                     it trickles in (slowloris), or the connection
                                     is closed; 0: no deadline */
} ecrmock_server_options;

#define ECRMOCK_SERVER_OPTIONS_INIT                                                                          \
    {ECRMOCK_SERVER_OPTIONS_VERSION, NULL, 0, ECRMOCK_SERVER_DEFAULT_TIMEOUT_S,                               \
     ECRMOCK_SERVER_DEFAULT_MAX_CONNECTIONS, ECRMOCK_SERVER_DEFAULT_REQUEST_TIMEOUT_S}

/*
 * Starts serving instance `m` as `o` says (`o` is borrowed, its address
 * copied), and says why when it cannot.  On success returns 0, writes the
 * bound port into *bound_port (when not NULL) and a new server into *out, to
 * stop with ecrmock_server_stop(), and clears *err.  Otherwise returns -1,
 * sets *out to NULL and fills *err (when not NULL; path ""):
 *   - ECRMOCK_ERR_INVALID_PARAMETER for what the caller can change: a NULL
 *     `m`, `o` or `out`; an unknown o->version; a port outside 0 to 65535;
 *     an address that is no IPv4 or IPv6 literal ("ecrmock_server_options.address
 *     \"localhost\" is not an IPv4 or IPv6 literal ..."); a port in use
 *     ("cannot listen on 127.0.0.1:5000: the port is in use ..."), one below
 *     1024 without the privilege, an address that is not this machine's;
 *   - ECRMOCK_ERR_SERVER when the process ran out of something: memory,
 *     threads, file descriptors (ulimit -n).
 * Bytes of the address outside printable ASCII are written as \xNN.
 * Added before 1.0 beside the two below, which keep their signatures:
 * ecrmock_server_start_with() is this function without the reason.
 */
ECRMOCK_API int ecrmock_server_listen(ecrmock *m, const ecrmock_server_options *o, int *bound_port,
                                      ecrmock_server **out, ecrmock_err *err);

/*
 * ecrmock_server_listen(m, o, bound_port, out, NULL): every option, no
 * reason given for a failure.  ecrmock_server_start(m, a, p, b, out) is this
 * with ECRMOCK_SERVER_OPTIONS_INIT, address a and port p.
 */
ECRMOCK_API int ecrmock_server_start_with(ecrmock *m, const ecrmock_server_options *o, int *bound_port,
                                          ecrmock_server **out);

/*
 * HTTPS, for clients whose endpoint is fixed (Debian's amazon-ecr-credential-helper,
 * older AWS SDKs, the docker daemon): they reach the fake through a TLS
 * listener or as an HTTPS proxy (HTTPS_PROXY), trusting a CA the server
 * makes.  Host certificates are made on demand, signed by that CA, for the
 * name the client asks for (SNI): ECR's API hosts (api.ecr.<region>.amazonaws.com
 * and the other forms ecrmock knows), registry hosts
 * (<account>.dkr.ecr.<region>.amazonaws.com) and the layer bucket's S3 host;
 * any other name, or none, is refused with the TLS alert unrecognized_name.
 * The decrypted requests reach the same handler as plain ones, Host header
 * and all (the region comes from the host).  Initialise with
 * ECRMOCK_SERVER_TLS_OPTIONS_INIT; fields are only ever appended.
 */
#define ECRMOCK_SERVER_TLS_OPTIONS_VERSION 1

typedef struct ecrmock_server_tls_options {
    unsigned int version;     /* ECRMOCK_SERVER_TLS_OPTIONS_VERSION */
    int https_port;           /* the HTTPS listener's port, on the same address:
                                 0 an ephemeral one, -1 (the default) none */
    int proxy;                /* nonzero: the plain port also answers
                                 `CONNECT <host>:443` for ECR's hosts (200, then
                                 TLS as on the HTTPS port), and 403 with a
                                 message for any other host or port (the fake
                                 never reaches the network) */
    const char *ca_cert_file; /* the CA's certificate and key (PEM files) to sign */
    const char *ca_key_file;  /* with; both NULL: a CA made at start (EC P-256) */
    const char *ca_out;       /* where to write the CA certificate (PEM), for
                                 SSL_CERT_FILE / AWS_CA_BUNDLE; NULL: nowhere */
} ecrmock_server_tls_options;

#define ECRMOCK_SERVER_TLS_OPTIONS_INIT {ECRMOCK_SERVER_TLS_OPTIONS_VERSION, -1, 0, NULL, NULL, NULL}

/*
 * ecrmock_server_listen() with HTTPS: `o` and `t` are borrowed (their
 * strings are read during the call only).  Certificates are valid from the
 * wall clock (not the instance's virtual clock) minus a day: a made CA for
 * 30 days, host certificates for 7.  o->timeout_s also bounds a silent
 * TLS handshake or CONNECT head, and o->max_connections the connections the
 * HTTPS side holds at once (each has a thread; one past them is closed at
 * once).  ecrmock_server_stop() cuts them all.  Returns 0, or -1 with *err
 * filled (when not NULL) as ecrmock_server_listen() does, and also for a
 * NULL `t`, CA files that cannot be read or do not match, a ca_out that
 * cannot be written or an HTTPS port that cannot be bound.
 */
ECRMOCK_API int ecrmock_server_start_tls(ecrmock *m, const ecrmock_server_options *o,
                                         const ecrmock_server_tls_options *t, int *bound_port,
                                         ecrmock_server **out, ecrmock_err *err);

/* The HTTPS listener's port, or -1 when there is none. */
ECRMOCK_API int ecrmock_server_https_port(const ecrmock_server *s);

/* The CA certificate (PEM), borrowed: valid until ecrmock_server_stop();
 * NULL for a server started without TLS. */
ECRMOCK_API const char *ecrmock_server_ca_pem(const ecrmock_server *s);

/* Stops the server (waiting for the request in progress) and releases it.
 * NULL is a harmless no-op. */
ECRMOCK_API void ecrmock_server_stop(ecrmock_server *s);

#ifdef __cplusplus
}
#endif

#endif /* ECRMOCK_SERVER_H */
