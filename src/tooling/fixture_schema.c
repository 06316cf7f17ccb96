/*
 * What the fixture checks generated from fixtures/fixture.schema.json
 * (fixture_schema_gen.c, by tools/gen_fixture_checks.py) call: refusals at
 * the JSON path, the walk into members and items, enums, lengths in
 * characters, numeric bounds, patterns (PCRE2, each compiled once per
 * check, when first used) and oneOf.
 */
#include <stdlib.h>
#include <string.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "tooling.h"

struct em_fxs {
    em_loader *ld;
    int quiet; /* trying a oneOf's alternatives: refuse nothing */
    const char *const *patterns;
    pcre2_code **re;
    pcre2_match_data *md;
};

/* No string of the document holds a NUL: a fixture file cannot (its text
 * is read without JSON_ALLOW_NUL), and a document built in C must not say
 * what a file could not, nor be cut at the NUL where it is used as a C
 * string (a tag "v1\u0000x" would be "v1").  Keys are C strings already. */
static int nul_free(em_fxs *c, json_t *v)
{
    if (json_is_string(v))
        return strlen(json_string_value(v)) == json_string_length(v)
                   ? 0
                   : em_fxs_fail(c, "must not contain NUL (\\u0000)");
    if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v); i++)
            if (em_fxs_at_index(c, v, i, nul_free) < 0)
                return -1;
    } else if (json_is_object(v)) {
        const char *key;
        json_t *m;
        json_object_foreach(v, key, m) {
            /* the member itself, not looked up again by its name (a name
             * with a NUL in it finds another member or none: skipped) */
            if (json_object_iter_key_len(json_object_key_to_iter(key)) != strlen(key))
                continue;
            size_t n = em_fx_push_key(c->ld, key);
            int rc = nul_free(c, m);
            em_fx_pop(c->ld, n);
            if (rc < 0)
                return -1;
        }
    }
    return 0;
}

int em_fxs_run(em_loader *ld, json_t *doc, int (*root)(em_fxs *, json_t *), const char *const *patterns, size_t n)
{
    /* A tree a caller built may nest as deep as it likes; the walks recurse. */
    if (em_json_too_deep(doc, EM_JSON_MAX_DEPTH))
        return em_fx_refuse(ld, "is nested more than %d levels deep, which no JSON text can be", EM_JSON_MAX_DEPTH);
    em_fxs c = {.ld = ld, .patterns = patterns, .re = em_calloc(n ? n : 1, sizeof *c.re)};
    if (!c.re)
        return em_fx_nomem(ld);
    int rc = nul_free(&c, doc) < 0 ? -1 : root(&c, doc);
    for (size_t i = 0; i < n; i++)
        pcre2_code_free(c.re[i]);
    em_free(c.re);
    pcre2_match_data_free(c.md);
    return rc < 0 || ld->err.code != ECRMOCK_ERR_OK ? -1 : 0;
}

int em_fxs_fail(em_fxs *c, const char *msg)
{
    return c->quiet ? -1 : em_fx_refuse(c->ld, "%s", msg);
}

int em_fxs_fail_at(em_fxs *c, const char *key, const char *msg)
{
    return c->quiet ? -1 : em_fx_refuse_at(c->ld, key, "%s", msg);
}

int em_fxs_at_key(em_fxs *c, json_t *v, const char *key, int (*check)(em_fxs *, json_t *))
{
    json_t *m = json_object_get(v, key);
    if (!m)
        return 0;
    size_t n = em_fx_push_key(c->ld, key);
    int rc = check(c, m);
    em_fx_pop(c->ld, n);
    return rc;
}

int em_fxs_at_index(em_fxs *c, json_t *v, size_t i, int (*check)(em_fxs *, json_t *))
{
    size_t n = em_fx_push_index(c->ld, i);
    int rc = check(c, json_array_get(v, i));
    em_fx_pop(c->ld, n);
    return rc;
}

bool em_fxs_enum(json_t *v, const char *const *values, size_t n)
{
    const char *s = json_string_value(v);
    for (size_t i = 0; s && i < n; i++)
        if (strlen(values[i]) == json_string_length(v) && strcmp(values[i], s) == 0)
            return true;
    return false;
}

static bool named(const char *key, const em_fxs_member *members, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(members[i].name, key) == 0)
            return true;
    return false;
}

int em_fxs_object(em_fxs *c, json_t *v, const em_fxs_member *members, size_t n, bool closed,
                  int (*other)(em_fxs *, json_t *), const char *const *required, size_t n_required)
{
    if (!json_is_object(v))
        return 0;
    const char *key;
    json_t *m;
    /* An object of a few members: each found once in members[], and
     * checked in the schema's order (so the first refusal is the same),
     * instead of every member of the schema looked up in the object (the
     * schema walk was a tenth of loading 100,000 images). */
    enum { FEW = 16 };
    struct {
        size_t at;
        const char *key;
        json_t *v;
    } here[FEW];
    size_t n_here = 0;
    if (json_object_size(v) <= FEW) {
        json_object_foreach(v, key, m) {
            size_t at = 0;
            while (at < n && strcmp(members[at].name, key) != 0)
                at++;
            if (closed && at == n)
                return em_fxs_fail_at(c, key, "unknown member");
            /* a name with a NUL in it is none of the schema's */
            if (at == n || json_object_iter_key_len(json_object_key_to_iter(key)) != strlen(key))
                continue;
            size_t j = n_here++;
            for (; j > 0 && here[j - 1].at > at; j--)
                here[j] = here[j - 1];
            here[j].at = at;
            here[j].key = key;
            here[j].v = m;
        }
        for (size_t i = 0; i < n_here; i++) {
            size_t depth = em_fx_push_key(c->ld, here[i].key);
            int rc = members[here[i].at].check(c, here[i].v);
            em_fx_pop(c->ld, depth);
            if (rc < 0)
                return -1;
        }
    } else {
        if (closed)
            json_object_foreach(v, key, m) {
                if (!named(key, members, n))
                    return em_fxs_fail_at(c, key, "unknown member");
            }
        for (size_t i = 0; i < n; i++)
            if (em_fxs_at_key(c, v, members[i].name, members[i].check) < 0)
                return -1;
    }
    for (size_t i = 0; i < n_required; i++)
        if (!json_object_get(v, required[i]))
            return em_fxs_fail_at(c, required[i], "is required");
    if (other)
        json_object_foreach(v, key, m) {
            if (!named(key, members, n) && em_fxs_at_key(c, v, key, other) < 0)
                return -1;
        }
    return 0;
}

size_t em_fxs_length(json_t *v)
{
    const unsigned char *s = (const unsigned char *)json_string_value(v);
    size_t n = 0, bytes = json_string_length(v);
    for (size_t i = 0; i < bytes; i++)
        n += (s[i] & 0xC0) != 0x80;
    return n;
}

int em_fxs_cmp(json_t *v, int64_t bound)
{
    if (json_is_integer(v)) {
        json_int_t x = json_integer_value(v);
        return x < bound ? -1 : x > bound;
    }
    double x = json_real_value(v);
    return x < (double)bound ? -1 : x > (double)bound;
}

bool em_fxs_match(em_fxs *c, size_t i, json_t *v)
{
    if (!c->re[i]) {
        int err;
        PCRE2_SIZE off;
        c->re[i] = pcre2_compile((PCRE2_SPTR)c->patterns[i], PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_DOLLAR_ENDONLY,
                                 &err, &off, NULL);
        if (!c->re[i]) {
            em_fx_nomem(c->ld);
            return false;
        }
    }
    if (!c->md && !(c->md = pcre2_match_data_create(1, NULL))) {
        em_fx_nomem(c->ld);
        return false;
    }
    return pcre2_match(c->re[i], (PCRE2_SPTR)json_string_value(v), json_string_length(v), 0, 0, c->md, NULL) >= 0;
}

int em_fxs_one_of(em_fxs *c, json_t *v, int (*const *alts)(em_fxs *, json_t *), size_t n)
{
    int quiet = c->quiet, matched = 0;
    c->quiet = 1;
    for (size_t i = 0; i < n; i++)
        matched += alts[i](c, v) == 0;
    c->quiet = quiet;
    return c->ld->err.code == ECRMOCK_ERR_OK ? matched : -1;
}
