/*
 * The loopback server's HTTPS side (tls.c), private to server/: a TLS
 * terminator in front of the libmicrohttpd daemon of server.c.  Each
 * decrypted connection is handed to the daemon as one end of a socketpair
 * (MHD_add_connection), relayed by a thread of its own.
 */
#ifndef ECRMOCK_SERVER_TLS_H
#define ECRMOCK_SERVER_TLS_H

#include <sys/socket.h>

#include <microhttpd.h>

#include "ecrmock_server.h"

typedef struct em_tls em_tls;

/* Fills `err` (when not NULL): `code`, path "", the printf-style text with
 * each byte outside printable ASCII as \xNN, cut to fit.  Returns -1 (0 for
 * ECRMOCK_ERR_OK, which clears it).  The server library links to the
 * shared libecrmock, which keeps its own error helpers to itself. */
int em_server_fail(ecrmock_err *err, ecrmock_error code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Makes (or loads) the CA, writes t->ca_out, binds the HTTPS listener
 * (t->https_port >= 0) and, with t->proxy, the plain one at `plain` (the
 * daemon then has no listen socket of its own: the plain port's connections
 * reach it through em_tls).  Starts no thread.  Returns a new em_tls, or
 * NULL with `err` filled. */
em_tls *em_tls_new(const ecrmock_server_tls_options *t, const struct sockaddr *plain, socklen_t plain_len,
                   unsigned int timeout_s, unsigned int max_connections, ecrmock_err *err);

/* Starts accepting, handing connections to `daemon` (made with MHD_USE_ITC).
 * Returns 0, or -1 when no thread could be made. */
int em_tls_run(em_tls *tls, struct MHD_Daemon *daemon);

/* The plain port when em_tls listens on it (proxy mode), else -1; the HTTPS
 * port, or -1; the CA's PEM (borrowed). */
int em_tls_plain_port(const em_tls *tls);
int em_tls_https_port(const em_tls *tls);
const char *em_tls_ca_pem(const em_tls *tls);

/* Stops accepting, cuts every connection, joins every thread and frees it
 * all.  Call before the daemon stops.  NULL: a no-op. */
void em_tls_free(em_tls *tls);

#endif /* ECRMOCK_SERVER_TLS_H */
