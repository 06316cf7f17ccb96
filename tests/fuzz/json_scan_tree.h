/*
 * The jansson tree of em_jscan's tokens, for tests/fuzz/fuzz_json_scan.c and
 * tests/unit/test_json_scan.c: both compare it with json_loadb's tree of the
 * same text.  The includer defines JSCAN_CHECK(cond, what), which must not
 * return when cond is false (abort(), a cmocka failure).
 */
#ifndef JSON_SCAN_TREE_H
#define JSON_SCAN_TREE_H

#include <stdlib.h>
#include <string.h>

#include "base/base.h"

/* Token i's value as a tree (new reference; NULL only when memory ran
 * out): names and strings decoded by em_jstr_decode, integers from
 * .integer, reals by strtod of their text, members set with
 * json_object_setn (a repeated name's last value in the first one's place,
 * as json_loadb keeps it).  Checks every token's fields on the way: type,
 * `next`, `count`, `escaped`, `len`, and em_jname_is and em_jget on each
 * member (em_jget on objects of at most 64 members: it walks them all). */
static json_t *jscan_tree(const em_jdoc *d, size_t i)
{
    const em_jtok *t = &d->t[i];
    JSCAN_CHECK(i < d->n && t->next > i && t->next <= d->n, "next in range");
    const char *s = d->text + t->start;
    switch (t->type) {
    case EM_J_OBJECT:
    case EM_J_ARRAY: {
        bool obj = t->type == EM_J_OBJECT;
        JSCAN_CHECK(s[0] == (obj ? '{' : '[') && s[t->len - 1] == (obj ? '}' : ']'), "a container's text");
        json_t *c = obj ? json_object() : json_array();
        size_t k = i + 1;
        for (uint32_t m = 0; c && m < t->count; m++) {
            json_t *v;
            if (obj) {
                const em_jtok *nt = &d->t[k];
                JSCAN_CHECK(nt->type == EM_J_STRING && nt->next == k + 1, "a member name's token");
                char *key = malloc(nt->len + 1);
                size_t klen = key ? em_jstr_decode(d, k, key) : 0;
                JSCAN_CHECK(!key || em_jname_is(d, k, key), "em_jname_is of its own name");
                v = key ? jscan_tree(d, k + 1) : NULL;
                /* em_jget: the last member of that name, at or after this one */
                JSCAN_CHECK(!v || t->count > 64 || em_jget(d, i, key) >= k + 1, "em_jget finds the last");
                if (v && json_object_setn(c, key, klen, v) < 0) {
                    json_decref(c);
                    c = NULL;
                }
                free(key);
                k = d->t[k + 1].next;
            } else {
                v = jscan_tree(d, k);
                if (v && json_array_append(c, v) < 0) {
                    json_decref(c);
                    c = NULL;
                }
                k = d->t[k].next;
            }
            json_decref(v);
            if (!v) {
                json_decref(c);
                return NULL;
            }
        }
        JSCAN_CHECK(!c || k == t->next, "a container's next after its last value");
        return c;
    }
    case EM_J_STRING: {
        JSCAN_CHECK(s[-1] == '"' && s[t->len] == '"', "a string's quotes");
        JSCAN_CHECK(t->escaped == (memchr(s, '\\', t->len) != NULL), "escaped iff a backslash");
        JSCAN_CHECK(t->next == i + 1 && t->count == 0, "a scalar's next and count");
        char *out = malloc(t->len + 1);
        if (!out)
            return NULL;
        size_t n = em_jstr_decode(d, i, out);
        JSCAN_CHECK(n <= t->len && out[n] == '\0' && memchr(out, '\0', n) == NULL, "decoded length");
        json_t *v = json_stringn(out, n); /* UTF-8 checked once more */
        JSCAN_CHECK(v != NULL, "a decoded string is UTF-8");
        free(out);
        return v;
    }
    case EM_J_INTEGER:
        JSCAN_CHECK(t->next == i + 1 && t->count == 0, "a scalar's next and count");
        return json_integer(t->integer);
    case EM_J_REAL: {
        JSCAN_CHECK(t->next == i + 1 && t->count == 0, "a scalar's next and count");
        char *num = malloc(t->len + 1);
        if (!num)
            return NULL;
        memcpy(num, s, t->len);
        num[t->len] = '\0';
        json_t *v = json_real(strtod(num, NULL));
        free(num);
        return v;
    }
    case EM_J_TRUE:
        JSCAN_CHECK(t->len == 4 && memcmp(s, "true", 4) == 0, "true");
        return json_true();
    case EM_J_FALSE:
        JSCAN_CHECK(t->len == 5 && memcmp(s, "false", 5) == 0, "false");
        return json_false();
    case EM_J_NULL:
        JSCAN_CHECK(t->len == 4 && memcmp(s, "null", 4) == 0, "null");
        return json_null();
    default:
        JSCAN_CHECK(false, "a token's type");
        return NULL;
    }
}

#endif
