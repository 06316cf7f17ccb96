/*
 * ecrmock's loopback server: ecrmock_http_handle() served over real HTTP on
 * a background thread, for code that cannot swap its transport.  A separate
 * library (libecrmock_server, built on libmicrohttpd): the core libecrmock
 * does not depend on it.  Link with -lecrmock_server -lecrmock and
 * $(pkg-config --libs libmicrohttpd).
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
 * or when the port cannot be bound or memory ran out.
 *
 * Download URLs: call ecrmock_http_base_url_set(m, "http://127.0.0.1:<port>")
 * so that the URLs GetDownloadUrlForLayer hands out lead back to the server.
 */
ECRMOCK_API int ecrmock_server_start(ecrmock *m, const char *address, int port, int *bound_port,
                                     ecrmock_server **out);

/* Stops the server (waiting for the request in progress) and releases it.
 * NULL is a harmless no-op. */
ECRMOCK_API void ecrmock_server_stop(ecrmock_server *s);

#ifdef __cplusplus
}
#endif

#endif /* ECRMOCK_SERVER_H */
