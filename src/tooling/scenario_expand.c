/*
 * The ${...} expander of scenario strings: variables, functions, budget.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tooling.h"

/* ---- ${...} ------------------------------------------------------------------------ */

/*
 * Expansion of the ${...} in strings.  `vars` maps names to values: the
 * captured ones when running, and the names captured by earlier steps (with
 * null values) when checking a scenario, so that the same code finds
 * syntax errors and unknown names.  `checking` decides which check
 * applies to a missing name: checking says "unknown variable", running says
 * "has no value" (its capture failed).
 *
 * The work is bounded whatever the text: functions nest at most
 * EXPAND_MAX_DEPTH deep (each level scans its argument once for its closing
 * brace, so a string costs at most that many passes over it, and the
 * recursion is that deep at most), and what functions and variables produce
 * for one request or one expect, intermediate results included, is at most
 * EXPAND_BUDGET bytes (nested ${base64:} grows by 4/3 a level; a whole-string
 * reference costs its value's JSON text, whatever its type).
 */
#define EXPAND_MAX_DEPTH 8

#define EXPAND_BUDGET ((size_t)64 * 1024 * 1024)

bool em_sc_is_var_name(const char *s, size_t n)
{
    if (n == 0 || !((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
        return false;
    for (size_t i = 1; i < n; i++)
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
              s[i] == '_'))
            return false;
    return true;
}

/* Finds the '}' closing the "${" at s[i]; braces inside must balance.
 * Returns its index, or n when there is none. */
static size_t token_end(const char *s, size_t n, size_t i)
{
    size_t depth = 0;
    for (size_t j = i + 2; j < n; j++) {
        if (s[j] == '{')
            depth++;
        else if (s[j] == '}' && depth-- == 0)
            return j;
    }
    return n;
}

/* Takes `n` bytes of the budget for what is about to be produced: 0, or -1
 * with *why set when they do not fit. */
static int spend(em_sc_expander *x, size_t n, char **why)
{
    if (n > EXPAND_BUDGET - x->spent) {
        *why = em_sprintf("its ${...} would produce more than %zu MiB of text (ecrmock's limit for one "
                          "request or expect, nested functions' intermediate results included)",
                          EXPAND_BUDGET / (1024 * 1024));
        return -1;
    }
    x->spent += n;
    return 0;
}

static int expand_text(em_sc_expander *x, const char *s, size_t n, em_buf *buf, char **why);

/* Appends a value's text: a string's characters, anything else as JSON. */
static int append_value_text(em_sc_expander *x, em_buf *buf, json_t *v, char **why)
{
    if (json_is_string(v))
        return spend(x, json_string_length(v), why) < 0 ? -1
                                                        : em_buf_append(buf, json_string_value(v), json_string_length(v));
    char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    int rc = !text || spend(x, strlen(text), why) < 0 ? -1 : em_buf_append(buf, text, strlen(text));
    em_json_free(text);
    return rc;
}

/* A function's result from its expanded argument, appended to buf (or, for
 * ${len:} as a whole string, an integer in *whole). */
static int apply_function(em_sc_expander *x, int f, em_buf *arg, em_buf *buf, json_t **whole, char **why)
{
    if (f == 0) {
        size_t len = arg->len / 3 * 4 + (arg->len % 3 ? 4 : 0);
        if (spend(x, len, why) < 0)
            return -1;
        char *b64 = em_base64(arg->data, arg->len, &len);
        int rc = b64 ? em_buf_append(buf, b64, len) : -1;
        em_free(b64);
        return rc;
    }
    if (f == 1) {
        char digest[ECRMOCK_DIGEST_SIZE];
        em_sha256_digest(arg->data, arg->len, digest);
        return spend(x, strlen(digest), why) < 0 ? -1 : em_buf_append(buf, digest, strlen(digest));
    }
    if (whole) {
        *whole = json_integer((json_int_t)arg->len);
        return *whole ? 0 : -1;
    }
    char num[32];
    int k = snprintf(num, sizeof num, "%zu", arg->len);
    return spend(x, (size_t)k, why) < 0 ? -1 : em_buf_append(buf, num, (size_t)k);
}

/*
 * One token's content (between "${" and "}"), appended to buf as text; when
 * `whole` is not NULL (the token is the whole string) *whole may instead
 * receive a new reference to a JSON value (a variable's, or ${len:}'s
 * integer).
 */
static int expand_token(em_sc_expander *x, const char *t, size_t n, em_buf *buf, json_t **whole, char **why)
{
    static const char *const funcs[] = {"base64", "sha256", "len"};
    for (int f = 0; f < 3; f++) {
        size_t fl = strlen(funcs[f]);
        if (n <= fl || memcmp(t, funcs[f], fl) != 0 || t[fl] != ':')
            continue;
        if (x->depth >= EXPAND_MAX_DEPTH) {
            *why = em_sprintf("functions (base64:, sha256:, len:) nest more than %d deep", EXPAND_MAX_DEPTH);
            return -1;
        }
        em_buf arg = {0};
        x->depth++;
        int rc = expand_text(x, t + fl + 1, n - fl - 1, &arg, why);
        x->depth--;
        if (rc == 0)
            rc = apply_function(x, f, &arg, buf, whole, why);
        em_buf_release(&arg);
        return rc;
    }
    if (n == 1 && t[0] == '*') {
        if (!x->wildcard_ok || !whole) {
            *why = em_strdup("\"${*}\" (any value) is only allowed as a whole string in expect.response");
            return -1;
        }
        *whole = json_string("${*}");
        return *whole ? 0 : -1;
    }
    if (!em_sc_is_var_name(t, n)) {
        *why = em_sprintf("'${%.*s}' is neither a variable (letters, digits, '_') nor a function "
                          "(base64:, sha256:, len:)",
                          (int)(n > 80 ? 80 : n), t);
        return -1;
    }
    json_t *v = json_object_getn(x->vars, t, n);
    if (!v) {
        if (x->checking)
            *why = em_sprintf("unknown variable '%.*s' (no earlier step captures it)", (int)n, t);
        else
            *why = em_sprintf("variable '%.*s' has no value (the step that captures it failed)", (int)n, t);
        return -1;
    }
    if (whole) {
        /* a copy costs what its text would: json_dumpb with no buffer
         * measures it without writing */
        size_t size = json_is_string(v) ? json_string_length(v) : json_dumpb(v, NULL, 0, JSON_COMPACT | JSON_ENCODE_ANY);
        if (spend(x, size, why) < 0)
            return -1;
        *whole = json_deep_copy(v);
        return *whole ? 0 : -1;
    }
    return append_value_text(x, buf, v, why);
}

static int expand_text(em_sc_expander *x, const char *s, size_t n, em_buf *buf, char **why)
{
    size_t i = 0, lit = 0;
    while (i < n) {
        if (s[i] != '$') {
            i++;
            continue;
        }
        if (i + 2 < n && s[i + 1] == '$' && s[i + 2] == '{') {
            /* "$${" is a literal "${" */
            if (em_buf_append(buf, s + lit, i - lit) < 0 || em_buf_append(buf, "${", 2) < 0)
                return -1;
            i += 3;
            lit = i;
            continue;
        }
        if (i + 1 >= n || s[i + 1] != '{') {
            i++;
            continue;
        }
        size_t end = token_end(s, n, i);
        if (end == n) {
            *why = em_strdup("'${' without its closing '}'");
            return -1;
        }
        if (em_buf_append(buf, s + lit, i - lit) < 0)
            return -1;
        if (expand_token(x, s + i + 2, end - i - 2, buf, NULL, why) < 0)
            return -1;
        i = lit = end + 1;
    }
    return em_buf_append(buf, s + lit, n - lit);
}

/* A string's expansion as a new reference. */
static json_t *expand_string(em_sc_expander *x, json_t *str, char **why)
{
    const char *s = json_string_value(str);
    size_t n = json_string_length(str);
    if (!memchr(s, '$', n))
        return json_incref(str);
    if (n >= 3 && s[0] == '$' && s[1] == '{' && token_end(s, n, 0) == n - 1) {
        json_t *whole = NULL;
        em_buf buf = {0};
        if (expand_token(x, s + 2, n - 3, &buf, &whole, why) < 0) {
            em_buf_release(&buf);
            return NULL;
        }
        if (!whole) {
            whole = json_stringn((const char *)buf.data ? (const char *)buf.data : "", buf.len);
        }
        em_buf_release(&buf);
        return whole;
    }
    em_buf buf = {0};
    json_t *r = NULL;
    if (expand_text(x, s, n, &buf, why) == 0)
        r = json_stringn(buf.data ? (const char *)buf.data : "", buf.len);
    em_buf_release(&buf);
    return r;
}

/*
 * A deep copy of v with every string expanded (a new reference), or NULL
 * with *why set (left NULL when memory ran out) and `path` (an em_buf
 * holding a NUL-terminated JSON path) naming the string at fault.
 */
json_t *em_sc_expand(em_sc_expander *x, json_t *v, em_buf *path, char **why)
{
    if (json_is_string(v))
        return expand_string(x, v, why);
    if (!json_is_object(v) && !json_is_array(v))
        return json_deep_copy(v);
    json_t *copy = json_is_object(v) ? json_object() : json_array();
    if (!copy)
        return NULL;
    size_t mark = path->len;
    if (json_is_object(v)) {
        const char *key;
        json_t *item;
        json_object_foreach(v, key, item) {
            path->len = mark - 1; /* over the NUL */
            if (em_buf_append(path, ".", 1) < 0 || em_buf_append(path, key, strlen(key) + 1) < 0)
                goto fail;
            json_t *e = em_sc_expand(x, item, path, why);
            if (!e)
                goto fail;
            if (json_object_set_new(copy, key, e) < 0)
                goto fail;
        }
    } else {
        size_t i;
        json_t *item;
        json_array_foreach(v, i, item) {
            char idx[32];
            int k = snprintf(idx, sizeof idx, "[%zu]", i);
            path->len = mark - 1;
            if (em_buf_append(path, idx, (size_t)k + 1) < 0)
                goto fail;
            json_t *e = em_sc_expand(x, item, path, why);
            if (!e)
                goto fail;
            if (json_array_append_new(copy, e) < 0)
                goto fail;
        }
    }
    path->len = mark;
    path->data[mark - 1] = '\0';
    return copy;
fail:
    json_decref(copy);
    return NULL;
}
