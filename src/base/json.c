/*
 * JSON helpers: readers of a request's members and builders of answers.
 */
#include <stdio.h>
#include <string.h>

#include "base/base.h"

/* ---- JSON helpers ------------------------------------------------------------- */

const char *em_get_str(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

bool em_get_bool(json_t *o, const char *key, bool dflt)
{
    json_t *v = json_object_get(o, key);
    return json_is_boolean(v) ? json_is_true(v) : dflt;
}

int64_t em_get_int(json_t *o, const char *key, int64_t dflt)
{
    json_t *v = json_object_get(o, key);
    return json_is_integer(v) ? (int64_t)json_integer_value(v) : dflt;
}

/* AWS JSON 1.1 sends timestamps as epoch seconds, a JSON number with a
 * fraction (ECR: 1.688712875E9); always a real, so a client sees one type. */
json_t *em_time(int64_t ms)
{
    return json_real((double)ms / 1000.0);
}

json_t *em_json_copy(json_t *v, unsigned flags)
{
    const char *key;
    size_t key_len, i;
    json_t *item, *copy;
    if (json_is_object(v)) {
        copy = json_object();
        json_object_keylen_foreach(v, key, key_len, item) {
            if (!copy || ((flags & EM_COPY_DROP_NULL_MEMBERS) && json_is_null(item)))
                continue;
            if (json_object_setn_new_nocheck(copy, key, key_len, em_json_copy(item, flags)) < 0) {
                json_decref(copy);
                copy = NULL;
            }
        }
        return copy;
    }
    if (json_is_array(v)) {
        copy = json_array();
        json_array_foreach(v, i, item) {
            if (copy && json_array_append_new(copy, em_json_copy(item, flags)) < 0) {
                json_decref(copy);
                copy = NULL;
            }
        }
        return copy;
    }
    return (flags & EM_COPY_SHARE_SCALARS) ? json_incref(v) : json_deep_copy(v);
}

int em_set(json_t *o, const char *key, json_t *v)
{
    return v && json_object_set_new_nocheck(o, key, v) == 0 ? 0 : -1;
}

int em_set_opt_str(json_t *o, const char *key, const char *s)
{
    return !s ? 0 : em_set(o, key, em_json_string(s));
}

json_t *em_json_string(const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s);
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    uint64_t high = 0;
    for (; end - p >= 8; p += 8) {
        uint64_t x;
        memcpy(&x, p, 8);
        high |= x;
    }
    for (; p < end; p++)
        high |= *p;
    return high & 0x8080808080808080u ? json_stringn(s, n) : json_stringn_nocheck(s, n);
}

json_t *em_manifest_string(const char *text, size_t len)
{
    return json_stringn_nocheck(text, len);
}

static bool deeper(json_t *v, size_t depth, size_t max)
{
    if (depth > max)
        return true;
    const char *key;
    json_t *item;
    size_t i;
    if (json_is_object(v)) {
        json_object_foreach(v, key, item) {
            if (deeper(item, depth + 1, max))
                return true;
        }
    } else if (json_is_array(v)) {
        json_array_foreach(v, i, item) {
            if (deeper(item, depth + 1, max))
                return true;
        }
    }
    return false;
}

bool em_json_too_deep(json_t *v, size_t max)
{
    return deeper(v, 1, max);
}
