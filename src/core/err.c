/*
 * The test controls' error convention: filling a caller's ecrmock_err.
 */
#include <stdarg.h>
#include <stdio.h>

#include "core/core.h"

int em_err_clear(ecrmock_err *err)
{
    if (err) {
        err->code = ECRMOCK_ERR_OK;
        err->path[0] = '\0';
        err->text[0] = '\0';
    }
    return 0;
}

static int err_vset(ecrmock_err *err, ecrmock_error code, const char *path, const char *fmt, va_list ap)
{
    if (!err)
        return -1;
    err->code = code;
    snprintf(err->path, sizeof err->path, "%s", path ? path : "");
    vsnprintf(err->text, sizeof err->text, fmt, ap);
    return -1;
}

int em_err_set(ecrmock_err *err, ecrmock_error code, const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    err_vset(err, code, path, fmt, ap);
    va_end(ap);
    return -1;
}

int em_err_at(ecrmock_err *err, ecrmock_error code, const char *source, const char *path, const char *fmt, ...)
{
    char where[sizeof err->path];
    snprintf(where, sizeof where, "%s: %s", source ? source : "", path ? path : "");
    va_list ap;
    va_start(ap, fmt);
    err_vset(err, code, where, fmt, ap);
    va_end(ap);
    return -1;
}

int em_err_arg(ecrmock_err *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    err_vset(err, ECRMOCK_ERR_INVALID_PARAMETER, NULL, fmt, ap);
    va_end(ap);
    return -1;
}

int em_err_nomem(ecrmock_err *err)
{
    return em_err_set(err, ECRMOCK_ERR_SERVER, NULL, "out of memory");
}

int em_err_no_repo(ecrmock_err *err, const ecrmock *m, const char *registry_id, const char *repository)
{
    return em_err_set(err, ECRMOCK_ERR_REPOSITORY_NOT_FOUND, NULL, "no repository '%.256s' in the registry '%s'",
                      repository, registry_id ? registry_id : m->account);
}

int em_err_from_call(ecrmock_err *err, const em_call *c)
{
    if (c->err == ECRMOCK_ERR_SERVER && !c->errdoc)
        return em_err_nomem(err);
    const char *msg = json_string_value(json_object_get(c->errdoc, "message"));
    return em_err_set(err, c->err, NULL, "%s: %s", ecrmock_error_name(c->err), msg ? msg : "");
}
