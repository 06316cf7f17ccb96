/*
 * The test controls' error convention: filling a caller's ecrmock_err.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

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

/* Drops a UTF-8 sequence that a cut left incomplete at the end of `s`. */
static void utf8_trim(char *s)
{
    size_t n = strlen(s), i = n;
    while (i > 0 && n - i < 4 && ((unsigned char)s[i - 1] & 0xC0) == 0x80)
        i--;
    if (i == 0 || (unsigned char)s[i - 1] < 0xC0)
        return; /* ASCII, or no lead byte within reach */
    unsigned char lead = (unsigned char)s[i - 1];
    size_t len = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
    if (n - (i - 1) < len)
        s[i - 1] = '\0';
}

/* `s` (in `cap` bytes) made UTF-8, a sentence a person and a JSON document
 * can take: each byte that starts no sequence (a caller's Latin-1, a
 * "%.64s" cut inside a character) as U+FFFD, cut at a whole character when
 * that makes it longer. */
static void utf8_fit(char *s, size_t cap)
{
    char out[sizeof ((ecrmock_err *)0)->text];
    const unsigned char *p = (const unsigned char *)s, *end = p + strlen(s);
    size_t o = 0;
    if (cap > sizeof out)
        cap = sizeof out;
    while (p < end) {
        size_t n = *p < 0x80 ? 1 : em_utf8_seq(p, end);
        size_t len = n ? n : 3;
        if (o + len >= cap)
            break;
        memcpy(out + o, n ? (const char *)p : "\xef\xbf\xbd", len);
        o += len;
        p += n ? n : 1;
    }
    out[o] = '\0';
    memcpy(s, out, o + 1);
}

static int err_vset(ecrmock_err *err, ecrmock_error code, const char *path, const char *fmt, va_list ap)
{
    if (!err)
        return -1;
    err->code = code;
    snprintf(err->path, sizeof err->path, "%s", path ? path : "");
    vsnprintf(err->text, sizeof err->text, fmt, ap);
    utf8_trim(err->path);
    utf8_trim(err->text);
    utf8_fit(err->path, sizeof err->path);
    utf8_fit(err->text, sizeof err->text);
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
    enum { SHORT_SOURCE = 48 };
    char where[sizeof err->path], sbuf[SHORT_SOURCE + 4];
    const char *src = source ? source : "", *p = path ? path : "";
    size_t room = sizeof where - 1, plen = strlen(p), slen = strlen(src);
    if (slen + 2 + plen <= room) {
        snprintf(where, sizeof where, "%s: %s", src, p);
    } else if (slen > SHORT_SOURCE && plen + 2 + 3 + SHORT_SOURCE <= room) {
        /* A long source would push the JSON path out: keep the path whole
         * and the source's end (its file name) after "...". */
        src += slen - (room - plen - 2 - 3);
        while (((unsigned char)*src & 0xC0) == 0x80)
            src++; /* not in the middle of a character */
        snprintf(where, sizeof where, "...%s: %s", src, p);
    } else {
        /* The JSON path itself is too long (a member name of a hundred
         * characters): the source stays whole when it is short (its end
         * after "..." when not), and the path keeps its start and its end
         * around "...". */
        if (slen > SHORT_SOURCE) {
            const char *t = src + slen - (SHORT_SOURCE - 3);
            while (((unsigned char)*t & 0xC0) == 0x80)
                t++;
            snprintf(sbuf, sizeof sbuf, "...%s", t);
            src = sbuf;
            slen = strlen(sbuf);
        }
        size_t avail = room - slen - 2 - 3, head = avail / 3;
        const char *tail = p + plen - (avail - head);
        while (head > 0 && ((unsigned char)p[head] & 0xC0) == 0x80)
            head--;
        while (((unsigned char)*tail & 0xC0) == 0x80)
            tail++;
        snprintf(where, sizeof where, "%s: %.*s...%s", src, (int)head, p, tail);
    }
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

int em_err_registry_id(ecrmock_err *err, const char *registry_id)
{
    if (!registry_id || em_account_id_ok(registry_id))
        return 0;
    return em_err_arg(err, "registry id '%.32s' is not 12 digits", registry_id);
}

int em_err_from_call(ecrmock_err *err, const em_call *c)
{
    if (c->err == ECRMOCK_ERR_SERVER && !c->errdoc)
        return em_err_nomem(err);
    const char *msg = json_string_value(json_object_get(c->errdoc, "message"));
    return em_err_set(err, c->err, NULL, "%s: %s", ecrmock_error_name(c->err), msg ? msg : "");
}
