/*
 * The scenario path language ("$", ".member", "[index]") and the messages
 * that name a path.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tooling.h"

/* ---- messages ------------------------------------------------------------------ */

/* Fills *err (when err is not NULL): path "<source>: <path>", text <why>;
 * returns -1. */
int em_sc_invalid(ecrmock_err *err, const char *source, const char *path, const char *fmt, ...)
{
    if (!err)
        return -1;
    char why[sizeof err->text];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    return em_err_at(err, ECRMOCK_ERR_INVALID_PARAMETER, source, path, "%s", why);
}

int em_sc_nomem(ecrmock_err *err, const char *source, const char *path)
{
    return err ? em_err_at(err, ECRMOCK_ERR_SERVER, source, path, "out of memory") : -1;
}

/* A JSON value as compact text for a message, cut after 160 bytes (a new
 * em_malloc'd string, or NULL when out of memory). */
char *em_sc_describe(json_t *v)
{
    if (!v)
        return em_strdup("nothing");
    char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!text)
        return NULL;
    char *r = strlen(text) > 160 ? em_sprintf("%.157s...", text) : em_strdup(text);
    em_json_free(text);
    return r;
}

/* ---- paths: "$", ".member", "[index]" ------------------------------------------------ */

static bool name_char_ok(char ch)
{
    return ch != '.' && ch != '[' && ch != ']' && ch != '\0';
}

/* 0 when `path` is well formed, else -1 with a reason in why. */
int em_sc_path_check(const char *path, const char **why)
{
    if (path[0] != '$') {
        *why = "must start with '$'";
        return -1;
    }
    const char *p = path + 1;
    while (*p) {
        if (*p == '.') {
            const char *q = ++p;
            while (name_char_ok(*p))
                p++;
            if (p == q) {
                *why = "a '.' must be followed by a member name";
                return -1;
            }
        } else if (*p == '[') {
            const char *q = ++p;
            while (*p >= '0' && *p <= '9')
                p++;
            if (p == q || *p != ']' || p - q > 9) {
                *why = "'[' must be followed by an index (0, 1, ...) and ']'";
                return -1;
            }
            p++;
        } else {
            *why = "expected '.member' or '[index]'";
            return -1;
        }
    }
    return 0;
}

/* The value at a checked path (borrowed), or NULL. */
json_t *em_sc_path_get(json_t *root, const char *path)
{
    json_t *v = root;
    const char *p = path + 1;
    while (*p && v) {
        if (*p == '.') {
            const char *q = ++p;
            while (name_char_ok(*p))
                p++;
            v = json_is_object(v) ? json_object_getn(v, q, (size_t)(p - q)) : NULL;
        } else {
            size_t i = (size_t)strtoul(p + 1, NULL, 10);
            p = strchr(p, ']') + 1;
            v = json_is_array(v) ? json_array_get(v, i) : NULL;
        }
    }
    return v;
}

/* Starts a path buffer at `root` ("$.steps[2].request"). 0, or -1. */
int em_sc_path_start(em_buf *path, const char *root)
{
    path->len = 0;
    return em_buf_append(path, root, strlen(root) + 1);
}
