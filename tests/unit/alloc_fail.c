/*
 * The out-of-memory loop of alloc_fail.h, compiled once.
 */
#include <limits.h>
#include <stdbool.h>

#include "helpers.h"
#include "alloc_fail.h"

static long af_fail_at = -1; /* the allocation that fails; -1: none */
static long af_allocations;

static bool af_should_fail(void)
{
    return af_fail_at >= 0 && ++af_allocations == af_fail_at;
}

static void *af_malloc(size_t n)
{
    return af_should_fail() ? NULL : malloc(n);
}

static void *af_realloc(void *p, size_t n)
{
    return af_should_fail() ? NULL : realloc(p, n);
}

static void af_free(void *p)
{
    free(p);
}

void alloc_fail_install(void)
{
    ecrmock_set_alloc_funcs(af_malloc, af_realloc, af_free);
    json_set_alloc_funcs(af_malloc, af_free);
}

json_t *alloc_fail_call(ecrmock *m, const char *action, json_t *req)
{
    long failures = 0;
    for (long n = 1;; n++) {
        json_t *before = ecrmock_snapshot(m, NULL);
        assert_non_null(before);
        json_t *resp = NULL;
        af_allocations = 0;
        af_fail_at = n;
        int status = ecrmock_call(m, action, req, &resp);
        bool injected = af_allocations >= n;
        af_fail_at = -1;
        if (!injected || status == 200) {
            if (status != 200)
                fail_msg("%s: %d %s: %s", action, status, err_type(resp), err_message(resp));
            json_decref(before);
            assert_true(failures > 2); /* the loop really failed allocations of the call */
            return resp;
        }
        failures++;
        if (status != -1 && !(status == 500 && strcmp(err_type(resp), "ServerException") == 0))
            fail_msg("%s, allocation %ld failed: answered %d %s: %s", action, n, status, err_type(resp),
                     err_message(resp));
        json_decref(resp);
        json_t *after = ecrmock_snapshot(m, NULL);
        if (!json_equal(before, after)) {
            char *a = json_dumps(before, JSON_COMPACT), *b = json_dumps(after, JSON_COMPACT);
            fail_msg("%s, allocation %ld failed: the state changed\nbefore: %.2000s\nafter:  %.2000s", action, n, a,
                     b);
        }
        json_decref(before);
        json_decref(after);
    }
}


void alloc_fail_arm(long n)
{
    af_allocations = 0;
    af_fail_at = n < 0 ? LONG_MAX : n;
}

long alloc_fail_disarm(void)
{
    af_fail_at = -1;
    return af_allocations;
}
