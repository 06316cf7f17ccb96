/*
 * One call's failure: the error code and message a handler answers with.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

/* ---- errors ------------------------------------------------------------------- */

static int fail_text(em_call *c, ecrmock_error code, const char *text)
{
    json_decref(c->errdoc);
    c->err = code;
    c->member[0] = '\0';
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
    /* Without room for the whole text, no error cut short: a 400 whose
     * message lost its end (a list's last digests, the registry id) reads
     * as ECR's own; ServerException says what happened. */
    char *big = em_malloc((size_t)n + 1);
    if (!big)
        return em_fail_nomem(c);
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    fail_text(c, code, big);
    em_free(big);
    return -1;
}

int em_fail_nomem(em_call *c)
{
    return em_fail_text(c, EM_MSG_OUT_OF_MEMORY);
}

int em_fail_member(int rc, em_call *c, const char *member)
{
    /* running out of memory is no member's fault */
    snprintf(c->member, sizeof c->member, "%s", member && c->err != ECRMOCK_ERR_SERVER ? member : "");
    return rc;
}


void em_member_path(char *out, size_t size, const char *where)
{
    size_t n = (size_t)snprintf(out, size, "$");
    const char *p = where;
    while (*p && n < size) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        char *end = NULL;
        unsigned long long i = strtoull(p, &end, 10);
        if (len && p[0] >= '0' && p[0] <= '9' && end == p + len && i > 0 && strncmp(end, ".member", 7) == 0 &&
            (end[7] == '.' || end[7] == '\0')) {
            n += (size_t)snprintf(out + n, size - n, "[%llu]", i - 1);
            p = end + 7;
        } else {
            n += (size_t)snprintf(out + n, size - n, ".%.*s", (int)len, p);
            p += len;
        }
        if (*p == '.')
            p++;
    }
}

static int fail_param(em_call *c, const char *member, const char *where, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

static int fail_param(em_call *c, const char *member, const char *where, const char *fmt, va_list ap)
{
    char rule[1024];
    vsnprintf(rule, sizeof rule, fmt, ap);
    em_fail_text(c, EM_MSG_INVALID_PARAMETER, where, rule);
    if (member)
        return em_fail_member(-1, c, member);
    em_member_path(c->member, sizeof c->member, where);
    return -1;
}

int em_fail_param(em_call *c, const char *where, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fail_param(c, NULL, where, fmt, ap);
    va_end(ap);
    return -1;
}

int em_fail_param_at(em_call *c, const char *member, const char *where, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fail_param(c, member, where, fmt, ap);
    va_end(ap);
    return -1;
}
