/*
 * One call's failure: the error code and message a handler answers with.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/core.h"

/* ---- errors ------------------------------------------------------------------- */

static int fail_text(em_call *c, ecrmock_error code, const char *text)
{
    json_decref(c->errdoc);
    c->err = code;
    c->errdoc = json_pack("{s:s, s:s}", "__type", ecrmock_error_name(code), "message", text ? text : "");
    if (code == ECRMOCK_ERR_SERIALIZATION && c->errdoc) {
        /* Coral's framework errors spell it "Message". */
        json_object_set(c->errdoc, "Message", json_object_get(c->errdoc, "message"));
        json_object_del(c->errdoc, "message");
    }
    return -1;
}

int em_fail(em_call *c, ecrmock_error code, const char *fmt, ...)
{
    char small[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n < sizeof small)
        return fail_text(c, code, n < 0 ? "" : small);
    char *big = em_malloc((size_t)n + 1);
    if (!big)
        return fail_text(c, code, small);
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    fail_text(c, code, big);
    em_free(big);
    return -1;
}

int em_fail_nomem(em_call *c)
{
    return fail_text(c, ECRMOCK_ERR_SERVER, "ecrmock ran out of memory while handling the request");
}

int em_fail_param(em_call *c, const char *where, const char *fmt, ...)
{
    char rule[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rule, sizeof rule, fmt, ap);
    va_end(ap);
    return em_fail(c, ECRMOCK_ERR_INVALID_PARAMETER,
                   "Invalid parameter at '%s' failed to satisfy constraint: '%s'", where, rule);
}
