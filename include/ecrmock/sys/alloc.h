/*
 * ecrmock/sys/alloc.h: the allocator hook, for tests of out-of-memory paths
 * and programs with an allocator of their own.  It is process-wide, unlike
 * the rest of the API, and rarely needed: hence sys/ (as libgit2 keeps
 * git2/sys/alloc.h).
 *
 * Included by <ecrmock.h>; it may also be included on its own.
 */
#ifndef ECRMOCK_SYS_ALLOC_H
#define ECRMOCK_SYS_ALLOC_H

#include <stddef.h>

/* The everyday contract: the instance, errors, ECRMOCK_API.  It includes this
 * header back at its end, where this guard stops the loop. */
#include "../../ecrmock.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Allocation (process-wide; for tests of out-of-memory paths)               */
/* ------------------------------------------------------------------------ */

typedef void *(*ecrmock_malloc_fn)(size_t size);
typedef void *(*ecrmock_realloc_fn)(void *ptr, size_t size);
typedef void (*ecrmock_free_fn)(void *ptr);

/*
 * Sets the functions ecrmock allocates its own memory with (NULL: the C
 * library's).  Process-wide, like jansson's json_set_alloc_funcs() (which
 * ecrmock's JSON goes through): call it before any instance exists, from
 * one thread.  Memory ecrmock hands to the caller (ecrmock_call_raw()'s
 * response, ecrmock_get_layer()'s and ecrmock_fetch_url()'s bytes, error
 * messages) comes from these functions too: release it with
 * ecrmock_buffer_free().  When an allocation
 * fails, a call answers 500 ServerException and changes nothing (or
 * returns -1 when not even the error document could be made).
 */
ECRMOCK_API void ecrmock_set_alloc_funcs(ecrmock_malloc_fn malloc_fn, ecrmock_realloc_fn realloc_fn,
                                         ecrmock_free_fn free_fn);

/*
 * Frees a buffer the library handed out: ecrmock_call_raw()'s `*response`,
 * ecrmock_get_layer()'s and ecrmock_fetch_url()'s `*bytes_out`.  It uses
 * the free function in force (ecrmock_set_alloc_funcs()), so it stays right
 * whatever allocator is installed; with none installed it is free(), and
 * free() is right too.  NULL is a no-op.  (An ecrmock_http_response's body
 * and headers belong to the response: ecrmock_http_response_release().)
 */
ECRMOCK_API void ecrmock_buffer_free(void *buffer);

#ifdef __cplusplus
}
#endif

#endif /* ECRMOCK_SYS_ALLOC_H */
