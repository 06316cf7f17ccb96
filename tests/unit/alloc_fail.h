/*
 * An out-of-memory loop for one call at the JSON level: the call is run with
 * its 1st, 2nd, ... allocation failing (ecrmock's own and jansson's) until a
 * run needs no more.  Every run that met a failure must answer 500
 * ServerException (or -1 when not even the error document could be made)
 * and leave the state as it was, or succeed when the failed allocation was
 * one the call could do without (the journal's record).
 *
 * The calls given must not parse or print JSON inside ecrmock (jansson
 * 2.14's decoder and encoder misbehave when an allocation fails; see
 * tests/unit/test_alloc_failure.c, which wraps them): the tag actions do neither.
 * Call alloc_fail_install() in main().  Defined once in alloc_fail.c: it
 * hooks the allocators at run time (ecrmock_set_alloc_funcs,
 * json_set_alloc_funcs), no per-binary link wrapping, so one object serves
 * every test that links it.
 */
#ifndef ECRMOCK_TEST_ALLOC_FAIL_H
#define ECRMOCK_TEST_ALLOC_FAIL_H

#include <jansson.h>

#include "ecrmock.h"

/* Before any instance exists. */
void alloc_fail_install(void);

/* Runs the loop; returns the response of the run that succeeded (a new
 * reference).  `req` is borrowed. */
json_t *alloc_fail_call(ecrmock *m, const char *action, json_t *req);

/* Outside alloc_fail_call(), for code run directly (tests/unit/test_views.c):
 * counts the allocations from now on, failing the nth (n < 0: none). */
void alloc_fail_arm(long n);
/* Stops counting and failing; the allocations counted since alloc_fail_arm(). */
long alloc_fail_disarm(void);

#endif
