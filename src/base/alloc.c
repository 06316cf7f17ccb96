/*
 * Allocation: every allocation of ecrmock's own, and strings made with it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"

/* ---- allocation -----------------------------------------------------------
 *
 * Every allocation of ecrmock's own goes through these, so that a test can
 * make the Nth one fail (ecrmock_set_alloc_funcs).  The functions are
 * process-wide, like jansson's json_set_alloc_funcs(): the one exception to
 * "no global mutable state", for tests of out-of-memory paths, set before
 * any instance exists.
 */
static ecrmock_malloc_fn alloc_malloc = malloc;
static ecrmock_realloc_fn alloc_realloc = realloc;
static ecrmock_free_fn alloc_free = free;

void ecrmock_set_alloc_funcs(ecrmock_malloc_fn malloc_fn, ecrmock_realloc_fn realloc_fn, ecrmock_free_fn free_fn)
{
    alloc_malloc = malloc_fn ? malloc_fn : malloc;
    alloc_realloc = realloc_fn ? realloc_fn : realloc;
    alloc_free = free_fn ? free_fn : free;
}

void *em_malloc(size_t n)
{
    return alloc_malloc(n ? n : 1);
}

void *em_calloc(size_t count, size_t n)
{
    if (count && n > SIZE_MAX / count)
        return NULL;
    size_t total = (count ? count : 1) * (n ? n : 1);
    void *p = alloc_malloc(total);
    if (p)
        memset(p, 0, total);
    return p;
}

void *em_realloc(void *p, size_t n)
{
    return alloc_realloc(p, n ? n : 1);
}

void em_free(void *p)
{
    alloc_free(p);
}

void ecrmock_buffer_free(void *buffer)
{
    if (buffer)
        alloc_free(buffer);
}

void em_json_free(void *p)
{
    json_malloc_t m;
    json_free_t f;
    json_get_alloc_funcs(&m, &f);
    f(p);
}

char *em_strndup(const char *s, size_t n)
{
    char *d = em_malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

char *em_strdup(const char *s)
{
    return s ? em_strndup(s, strlen(s)) : NULL;
}

char *em_sprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    char *s = em_malloc((size_t)n + 1);
    if (!s)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}
