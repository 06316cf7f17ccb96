/*
 * The answer matcher: an expectation against what a call answered
 * (wildcards, subsets of objects).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tooling.h"

/* ---- comparing --------------------------------------------------------------------- */

static bool is_wildcard(json_t *v)
{
    return json_is_string(v) && strcmp(json_string_value(v), "${*}") == 0;
}

static bool scalars_equal(json_t *want, json_t *have)
{
    if (json_is_integer(want) && json_is_integer(have))
        return json_integer_value(want) == json_integer_value(have);
    if (json_is_number(want) && json_is_number(have))
        return json_number_value(want) == json_number_value(have);
    return json_equal(want, have);
}

/* "at <path>: expected <want>, got <have>" (malloc'd; NULL if out of memory). */
char *em_sc_mismatch(const char *path, json_t *want, json_t *have, const char *what)
{
    char *w = em_sc_describe(want), *h = NULL;
    if (what)
        h = em_strdup(what);
    else
        h = em_sc_describe(have);
    char *r = (w && h) ? em_sprintf("at %s: expected %s, got %s", path, w, h) : NULL;
    em_free(w);
    em_free(h);
    return r;
}

/*
 * Compares `have` with the subset `want`; NULL when it matches, else a new
 * em_malloc'd reason.  *nomem is set when memory ran out.
 */
char *em_sc_match(json_t *want, json_t *have, em_buf *path, bool *nomem)
{
    char *r = NULL;
    const char *p = (const char *)path->data;
    if (is_wildcard(want))
        return NULL; /* present: the caller checked */
    if (json_is_object(want)) {
        if (!json_is_object(have))
            return (r = em_sc_mismatch(p, want, have, NULL)) ? r : ((*nomem = true), NULL);
        size_t mark = path->len;
        const char *key;
        json_t *w;
        json_object_foreach(want, key, w) {
            path->len = mark - 1;
            if (em_buf_append(path, ".", 1) < 0 || em_buf_append(path, key, strlen(key) + 1) < 0) {
                *nomem = true;
                return NULL;
            }
            json_t *h = json_object_get(have, key);
            if (!h) {
                r = em_sc_mismatch((const char *)path->data, w, NULL, "no such member");
                if (!r)
                    *nomem = true;
            } else {
                r = em_sc_match(w, h, path, nomem);
            }
            if (r || *nomem)
                return r;
        }
        path->len = mark;
        path->data[mark - 1] = '\0';
        return NULL;
    }
    if (json_is_array(want)) {
        if (!json_is_array(have))
            return (r = em_sc_mismatch(p, want, have, NULL)) ? r : ((*nomem = true), NULL);
        if (json_array_size(want) != json_array_size(have)) {
            r = em_sprintf("at %s: expected an array of %zu element%s, got %zu", p, json_array_size(want),
                           json_array_size(want) == 1 ? "" : "s", json_array_size(have));
            if (!r)
                *nomem = true;
            return r;
        }
        size_t mark = path->len;
        for (size_t i = 0; i < json_array_size(want); i++) {
            char idx[32];
            int k = snprintf(idx, sizeof idx, "[%zu]", i);
            path->len = mark - 1;
            if (em_buf_append(path, idx, (size_t)k + 1) < 0) {
                *nomem = true;
                return NULL;
            }
            if ((r = em_sc_match(json_array_get(want, i), json_array_get(have, i), path, nomem)) || *nomem)
                return r;
        }
        path->len = mark;
        path->data[mark - 1] = '\0';
        return NULL;
    }
    if (scalars_equal(want, have))
        return NULL;
    return (r = em_sc_mismatch(p, want, have, NULL)) ? r : ((*nomem = true), NULL);
}
