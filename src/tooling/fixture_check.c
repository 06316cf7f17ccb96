/*
 * Reading a fixture: the loader's errors with the JSON path of the bad
 * member, times, and the calls a load makes.  The members and their types
 * are checked first by fixture_schema_gen.c, generated from the schema.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tooling.h"

/* ---- errors and paths ---------------------------------------------------------- */


static int refuse(em_loader *ld, ecrmock_error code, const char *msg)
{
    if (ld->err.code == ECRMOCK_ERR_OK)
        em_err_at(&ld->err, code, ld->source ? ld->source : "fixture", ld->path, "%s", msg);
    return -1;
}

int em_fx_refuse(em_loader *ld, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return refuse(ld, ECRMOCK_ERR_INVALID_PARAMETER, msg);
}

int em_fx_nomem(em_loader *ld)
{
    return refuse(ld, ECRMOCK_ERR_SERVER, "out of memory");
}

/* Appends ".name" or "[i]" to the path; returns the old length to restore. */
/* Appends text[0..len) to the path, cut to fit as snprintf would; returns
 * the path's length before.  Without snprintf: the schema walk pushes a step
 * for every value of a fixture (a tenth of loading 100,000 images). */
static size_t path_append(em_loader *ld, const char *text, size_t len)
{
    size_t n = strlen(ld->path), room = sizeof ld->path - 1 - n;
    if (len > room)
        len = room;
    memcpy(ld->path + n, text, len);
    ld->path[n + len] = '\0';
    return n;
}

size_t em_fx_push_key(em_loader *ld, const char *key)
{
    size_t n = path_append(ld, ".", 1);
    path_append(ld, key, strlen(key));
    return n;
}

size_t em_fx_push_index(em_loader *ld, size_t i)
{
    char text[22] = "[";
    size_t n = 1 + (size_t)em_decimal_digits(i, text + 1);
    text[n] = ']';
    return path_append(ld, text, n + 1);
}

void em_fx_pop(em_loader *ld, size_t n)
{
    ld->path[n] = '\0';
}

/* Refuses the member `key` of the current object; returns -1. */

int em_fx_refuse_at(em_loader *ld, const char *key, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    size_t n = em_fx_push_key(ld, key);
    em_fx_refuse(ld, "%s", msg);
    em_fx_pop(ld, n);
    return -1;
}

/* The times a fixture may give: 1970-01-01T00:00:00Z to 9999-12-31T23:59:59.999Z,
 * epoch seconds (a millisecond count far from int64's edges). */
#define MAX_TIME_S INT64_C(253402300799)

/* Reads `n` digits at *p into *out; false when they are not all digits. */
static bool digits(const char **p, int n, int *out)
{
    *out = 0;
    for (int i = 0; i < n; i++, (*p)++) {
        if (**p < '0' || **p > '9')
            return false;
        *out = *out * 10 + (**p - '0');
    }
    return true;
}

/* "YYYY-MM-DDTHH:MM:SS[.fff]Z" as epoch milliseconds, or -1: not that form,
 * a field out of its range (month 1-12, the month's days, 23:59:59), or a
 * year before 1970.  Digits of a fraction past the third are dropped. */
static int64_t parse_utc(const char *s)
{
    int y, mo, d, h, mi, sec, frac = 0;
    const char *p = s;
    if (!digits(&p, 4, &y) || *p++ != '-' || !digits(&p, 2, &mo) || *p++ != '-' || !digits(&p, 2, &d) ||
        *p++ != 'T' || !digits(&p, 2, &h) || *p++ != ':' || !digits(&p, 2, &mi) || *p++ != ':' ||
        !digits(&p, 2, &sec))
        return -1;
    if (*p == '.') {
        int n = 0;
        for (p++; *p >= '0' && *p <= '9'; p++, n++)
            if (n < 3)
                frac = frac * 10 + (*p - '0');
        if (n == 0)
            return -1;
        for (; n < 3; n++)
            frac *= 10;
    }
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (strcmp(p, "Z") != 0 || y < 1970 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] + (mo == 2 && leap) ||
        h > 23 || mi > 59 || sec > 59)
        return -1;
    /* Days from 1970-01-01 to the date (the proleptic Gregorian calendar). */
    int64_t yy = y - (mo <= 2), era = yy / 400, yoe = yy - era * 400;
    int64_t doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t days = era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
    return ((days * 24 + h) * 60 + mi) * 60000 + sec * 1000 + frac;
}

/* A time: epoch seconds (a number) or "YYYY-MM-DDTHH:MM:SS[.fff]Z", from
 * 1970 to the end of 9999 (any other number, 1e300 say, is refused: its
 * milliseconds would not fit an int64). */
int em_fx_parse_time(em_loader *ld, json_t *o, const char *key, int64_t *ms)
{
    json_t *v = json_object_get(o, key);
    if (!v)
        return 0;
    int64_t t = -1;
    if (json_is_number(v)) {
        double x = json_number_value(v);
        if (x >= 0 && x < (double)MAX_TIME_S + 1)
            t = (int64_t)(x * 1000.0 + 0.5); /* the nearest millisecond */
        if (t > MAX_TIME_S * 1000 + 999)
            t = MAX_TIME_S * 1000 + 999;
    } else if (json_is_string(v)) {
        t = parse_utc(json_string_value(v));
    }
    if (t >= 0) {
        *ms = t;
        return 0;
    }
    return em_fx_refuse_at(ld, key,
                     "must be a time from 1970 to 9999: epoch seconds (0 to %lld) or UTC like \"2024-01-01T00:00:00Z\"",
                     (long long)MAX_TIME_S);
}

/* ---- calls on the scratch instance ---------------------------------------------- */

/* Points ld->path at the member of `src` (the fixture object a request was
 * made from) that the request's member `member` came from ("$.repositoryName"
 * is a fixture's "name"; "$.encryptionConfiguration.kmsKey" the same path):
 * as deep as `src` has it. */
static void point_at(em_loader *ld, json_t *src, const char *member)
{
    if (strncmp(member, "$.", 2) != 0)
        return;
    const char *p = member + 1;
    json_t *v = src;
    while (*p) {
        if (*p == '[') {
            char *end;
            unsigned long long i = strtoull(p + 1, &end, 10);
            if (*end != ']' || !json_is_array(v) || i >= json_array_size(v))
                return;
            v = json_array_get(v, (size_t)i);
            em_fx_push_index(ld, (size_t)i);
            p = end + 1;
            continue;
        }
        p++; /* the dot */
        size_t len = strcspn(p, ".[");
        char key[EM_MEMBER_SIZE];
        snprintf(key, sizeof key, "%.*s", (int)len, p);
        const char *k = v == src && strcmp(key, "repositoryName") == 0 ? "name" : key;
        if (!json_is_object(v) || !json_object_get(v, k))
            return;
        v = json_object_get(v, k);
        em_fx_push_key(ld, k);
        p += len;
    }
}

/* Runs an action on the scratch instance; on an error, refuses with ECR's
 * message at the caller's path, or at the member of `src` (the fixture
 * object the request was made from; may be NULL) that the error names. */
int em_fx_act(em_loader *ld, const char *action, json_t *req, json_t *src, json_t **out)
{
    json_t *resp = NULL;
    char member[EM_MEMBER_SIZE] = "";
    int status = req ? em_dispatch_member(ld->s, action, req, &resp, member) : -1;
    json_decref(req);
    if (status == 200) {
        if (out)
            *out = resp;
        else
            json_decref(resp);
        return 0;
    }
    if (status < 0)
        return em_fx_nomem(ld);
    return em_fx_act_failed(ld, resp, src, member);
}

int em_fx_act_failed(em_loader *ld, json_t *resp, json_t *src, const char *member)
{
    if (!resp)
        return em_fx_nomem(ld);
    const char *msg = json_string_value(json_object_get(resp, "message"));
    if (!msg)
        msg = json_string_value(json_object_get(resp, "Message"));
    size_t n = strlen(ld->path);
    if (src)
        point_at(ld, src, member);

    const char *type = json_string_value(json_object_get(resp, "__type"));
    bool first = ld->err.code == ECRMOCK_ERR_OK;
    em_fx_refuse(ld, "%s: %s", type, msg ? msg : "");
    ecrmock_error code = ecrmock_error_from_name(type);
    if (first && ecrmock_error_name(code)) /* the ECR error the load met */
        ld->err.code = code;
    em_fx_pop(ld, n);
    json_decref(resp);
    return -1;
}

/* Runs an action at virtual time `ms` (the time the action stamps on what it
 * makes: createdAt, updatedAt, lastArchivedAt...), then puts the scratch
 * clock back. */
int em_fx_act_at(em_loader *ld, int64_t ms, const char *action, json_t *req, json_t *src, json_t **out)
{
    int64_t saved = ld->s->clock_ms;
    ld->s->clock_ms = ms;
    int rc = em_fx_act(ld, action, req, src, out);
    ld->s->clock_ms = saved;
    return rc;
}
