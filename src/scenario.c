/*
 * The scenario runner: a JSON list of calls, each with what ECR must
 * answer, run against an instance (fixtures/README.md, "Scenarios").
 *
 * A scenario is checked whole before anything runs (members, types, capture
 * paths, the ${...} it uses, its fault rules), so that a typo is an invalid
 * scenario with a JSON path rather than a failed step in the middle of a
 * run.  Then each step: move the clock, add its fault rules, expand its
 * request, call, compare the answer with its expectation, capture values
 * for the steps after it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* ---- messages ------------------------------------------------------------------ */

/* *err = "<source>: <path>: <why>" (when err is not NULL); returns -1. */
static int invalid(char **err, const char *source, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int invalid(char **err, const char *source, const char *path, const char *fmt, ...)
{
    if (!err)
        return -1;
    char why[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    *err = em_sprintf("%s: %s: %s", source, path, why);
    return -1;
}

/* A JSON value as compact text for a message, cut after 160 bytes (a new
 * em_malloc'd string, or NULL when out of memory). */
static char *describe(json_t *v)
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
static int path_check(const char *path, const char **why)
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
static json_t *path_get(json_t *root, const char *path)
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

typedef struct expander {
    json_t *vars;
    bool checking;
    bool wildcard_ok; /* "${*}" is allowed (expect.response) */
    int depth;        /* functions open around the text being expanded */
    size_t spent;     /* bytes functions and variables produced so far */
} expander;

static bool is_var_name(const char *s, size_t n)
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
static int spend(expander *x, size_t n, char **why)
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

static int append(em_buf *buf, const void *data, size_t n, char **why)
{
    if (em_buf_append(buf, data, n) < 0) {
        *why = em_strdup("out of memory");
        return -1;
    }
    return 0;
}

static int expand_text(expander *x, const char *s, size_t n, em_buf *buf, char **why);

/* Appends a value's text: a string's characters, anything else as JSON. */
static int append_value_text(expander *x, em_buf *buf, json_t *v, char **why)
{
    if (json_is_string(v))
        return spend(x, json_string_length(v), why) < 0 ? -1
                                                        : append(buf, json_string_value(v), json_string_length(v), why);
    char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    int rc = !text ? ((*why = em_strdup("out of memory")), -1)
                   : spend(x, strlen(text), why) < 0 ? -1 : append(buf, text, strlen(text), why);
    em_json_free(text);
    return rc;
}

/* A function's result from its expanded argument, appended to buf (or, for
 * ${len:} as a whole string, an integer in *whole). */
static int apply_function(expander *x, int f, em_buf *arg, em_buf *buf, json_t **whole, char **why)
{
    if (f == 0) {
        size_t len = arg->len / 3 * 4 + (arg->len % 3 ? 4 : 0);
        if (spend(x, len, why) < 0)
            return -1;
        char *b64 = em_base64(arg->data, arg->len, &len);
        int rc = b64 ? append(buf, b64, len, why) : ((*why = em_strdup("out of memory")), -1);
        em_free(b64);
        return rc;
    }
    if (f == 1) {
        char digest[ECRMOCK_DIGEST_SIZE];
        em_sha256_digest(arg->data, arg->len, digest);
        return spend(x, strlen(digest), why) < 0 ? -1 : append(buf, digest, strlen(digest), why);
    }
    if (whole) {
        *whole = json_integer((json_int_t)arg->len);
        return *whole ? 0 : ((*why = em_strdup("out of memory")), -1);
    }
    char num[32];
    int k = snprintf(num, sizeof num, "%zu", arg->len);
    return spend(x, (size_t)k, why) < 0 ? -1 : append(buf, num, (size_t)k, why);
}

/*
 * One token's content (between "${" and "}"), appended to buf as text; when
 * `whole` is not NULL (the token is the whole string) *whole may instead
 * receive a new reference to a JSON value (a variable's, or ${len:}'s
 * integer).
 */
static int expand_token(expander *x, const char *t, size_t n, em_buf *buf, json_t **whole, char **why)
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
        return *whole ? 0 : ((*why = em_strdup("out of memory")), -1);
    }
    if (!is_var_name(t, n)) {
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
        return *whole ? 0 : ((*why = em_strdup("out of memory")), -1);
    }
    return append_value_text(x, buf, v, why);
}

static int expand_text(expander *x, const char *s, size_t n, em_buf *buf, char **why)
{
    size_t i = 0, lit = 0;
    while (i < n) {
        if (s[i] != '$') {
            i++;
            continue;
        }
        if (i + 2 < n && s[i + 1] == '$' && s[i + 2] == '{') {
            /* "$${" is a literal "${" */
            if (append(buf, s + lit, i - lit, why) < 0 || append(buf, "${", 2, why) < 0)
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
        if (append(buf, s + lit, i - lit, why) < 0)
            return -1;
        if (expand_token(x, s + i + 2, end - i - 2, buf, NULL, why) < 0)
            return -1;
        i = lit = end + 1;
    }
    return append(buf, s + lit, n - lit, why);
}

/* A string's expansion as a new reference. */
static json_t *expand_string(expander *x, json_t *str, char **why)
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
            if (!whole)
                *why = em_strdup("out of memory");
        }
        em_buf_release(&buf);
        return whole;
    }
    em_buf buf = {0};
    json_t *r = NULL;
    if (expand_text(x, s, n, &buf, why) == 0) {
        r = json_stringn(buf.data ? (const char *)buf.data : "", buf.len);
        if (!r)
            *why = em_strdup("out of memory");
    }
    em_buf_release(&buf);
    return r;
}

/*
 * A deep copy of v with every string expanded (a new reference), or NULL
 * with *why set and `path` (an em_buf holding a NUL-terminated JSON path)
 * naming the string at fault.
 */
static json_t *expand(expander *x, json_t *v, em_buf *path, char **why)
{
    if (json_is_string(v))
        return expand_string(x, v, why);
    if (!json_is_object(v) && !json_is_array(v)) {
        json_t *c = json_deep_copy(v);
        if (!c)
            *why = em_strdup("out of memory");
        return c;
    }
    json_t *copy = json_is_object(v) ? json_object() : json_array();
    if (!copy) {
        *why = em_strdup("out of memory");
        return NULL;
    }
    size_t mark = path->len;
    if (json_is_object(v)) {
        const char *key;
        json_t *item;
        json_object_foreach(v, key, item) {
            path->len = mark - 1; /* over the NUL */
            if (em_buf_append(path, ".", 1) < 0 || em_buf_append(path, key, strlen(key) + 1) < 0)
                goto nomem;
            json_t *e = expand(x, item, path, why);
            if (!e)
                goto fail;
            if (json_object_set_new(copy, key, e) < 0)
                goto nomem;
        }
    } else {
        size_t i;
        json_t *item;
        json_array_foreach(v, i, item) {
            char idx[32];
            int k = snprintf(idx, sizeof idx, "[%zu]", i);
            path->len = mark - 1;
            if (em_buf_append(path, idx, (size_t)k + 1) < 0)
                goto nomem;
            json_t *e = expand(x, item, path, why);
            if (!e)
                goto fail;
            if (json_array_append_new(copy, e) < 0)
                goto nomem;
        }
    }
    path->len = mark;
    path->data[mark - 1] = '\0';
    return copy;
nomem:
    *why = em_strdup("out of memory");
fail:
    json_decref(copy);
    return NULL;
}

/* Starts a path buffer at `root` ("$.steps[2].request"). 0, or -1. */
static int path_start(em_buf *path, const char *root)
{
    path->len = 0;
    return em_buf_append(path, root, strlen(root) + 1);
}

/* ---- checking a scenario --------------------------------------------------------- */

typedef struct checker {
    const char *source;
    char **err;
    ecrmock *scratch; /* fault rules are tried on it */
} checker;

/* Members of `o` must be among `allowed` (NULL-terminated). */
static int only_members(checker *ck, json_t *o, const char *path, const char *const *allowed)
{
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v) {
        bool ok = false;
        for (int i = 0; allowed[i] && !ok; i++)
            ok = strcmp(key, allowed[i]) == 0;
        if (!ok)
            return invalid(ck->err, ck->source, path, "unknown member '%.64s'", key);
    }
    return 0;
}

static int check_options(checker *ck, json_t *o, ecrmock_options *opts)
{
    static const char *const members[] = {"accountId",  "region",         "seed",         "minPartSize",
                                          "uploadLifetimeMs", "clockStartMs", "maxRepositories",
                                          "maxImages", "maxLayerParts", NULL};
    if (!json_is_object(o))
        return invalid(ck->err, ck->source, "$.options", "must be an object");
    if (only_members(ck, o, "$.options", members) < 0)
        return -1;
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v) {
        char path[96];
        snprintf(path, sizeof path, "$.options.%s", key);
        if (strcmp(key, "accountId") == 0 || strcmp(key, "region") == 0) {
            if (!json_is_string(v))
                return invalid(ck->err, ck->source, path, "must be a string");
            if (key[0] == 'a')
                opts->account_id = json_string_value(v);
            else
                opts->region = json_string_value(v);
            continue;
        }
        if (!json_is_integer(v) || (strcmp(key, "seed") != 0 && json_integer_value(v) < 0))
            return invalid(ck->err, ck->source, path, "must be an integer%s",
                           strcmp(key, "seed") == 0 ? "" : " of at least 0 (0: the default)");
        json_int_t n = json_integer_value(v);
        if (strcmp(key, "clockStartMs") == 0 && n > ECRMOCK_CLOCK_MAX_MS)
            return invalid(ck->err, ck->source, path,
                           "must be at most 253402300799999 (9999-12-31T23:59:59.999Z, the virtual clock's "
                           "latest time)");
        if (strcmp(key, "seed") == 0)
            opts->seed = (uint64_t)n;
        else if (strcmp(key, "minPartSize") == 0)
            opts->min_part_size = (uint64_t)n;
        else if (strcmp(key, "uploadLifetimeMs") == 0)
            opts->upload_lifetime_ms = n;
        else if (strcmp(key, "clockStartMs") == 0)
            opts->clock_start_ms = n;
        else if (strcmp(key, "maxRepositories") == 0)
            opts->max_repositories = (uint64_t)n;
        else if (strcmp(key, "maxImages") == 0)
            opts->max_images = (uint64_t)n;
        else
            opts->max_layer_parts = (uint64_t)n;
    }
    const char *why = ecrmock_options_check(opts);
    return why ? invalid(ck->err, ck->source, "$.options", "%s", why) : 0;
}

/* Checks the ${...} of every string under v against the names in `vars`. */
static int check_strings(checker *ck, json_t *v, const char *root, json_t *vars, bool wildcard_ok)
{
    expander x = {.vars = vars, .checking = true, .wildcard_ok = wildcard_ok};
    em_buf path = {0};
    char *why = NULL;
    if (path_start(&path, root) < 0)
        return invalid(ck->err, ck->source, root, "out of memory");
    json_t *r = expand(&x, v, &path, &why);
    int rc = 0;
    if (!r) {
        rc = invalid(ck->err, ck->source, path.data ? (const char *)path.data : root, "%s",
                     why ? why : "out of memory");
    }
    json_decref(r);
    em_free(why);
    em_buf_release(&path);
    return rc;
}

static int check_expect(checker *ck, json_t *e, const char *sp, json_t *vars)
{
    static const char *const members[] = {"status", "error", "message", "response", NULL};
    char path[128];
    snprintf(path, sizeof path, "%s.expect", sp);
    if (!json_is_object(e))
        return invalid(ck->err, ck->source, path, "must be an object");
    if (only_members(ck, e, path, members) < 0)
        return -1;
    json_t *st = json_object_get(e, "status");
    if (st && (!json_is_integer(st) || json_integer_value(st) < 100 || json_integer_value(st) > 599))
        return invalid(ck->err, ck->source, path, "status must be an HTTP status, an integer from 100 to 599");
    const char *const texts[] = {"error", "message"};
    for (int i = 0; i < 2; i++) {
        json_t *t = json_object_get(e, texts[i]);
        if (t && !json_is_string(t)) {
            snprintf(path, sizeof path, "%s.expect.%s", sp, texts[i]);
            return invalid(ck->err, ck->source, path, "must be a string");
        }
    }
    /* ${*} is a pattern of expect.response only. */
    json_t *plain = json_object();
    if (!plain)
        return invalid(ck->err, ck->source, path, "out of memory");
    json_object_set(plain, "error", json_object_get(e, "error"));
    json_object_set(plain, "message", json_object_get(e, "message"));
    snprintf(path, sizeof path, "%s.expect", sp);
    int rc = check_strings(ck, plain, path, vars, false);
    json_decref(plain);
    if (rc == 0 && json_object_get(e, "response")) {
        snprintf(path, sizeof path, "%s.expect.response", sp);
        rc = check_strings(ck, json_object_get(e, "response"), path, vars, true);
    }
    return rc;
}

static int check_step(checker *ck, json_t *step, size_t i, json_t *vars)
{
    static const char *const members[] = {"name",   "advanceClockMs", "faults", "action",
                                          "request", "expect",        "capture", NULL};
    char sp[64], path[192];
    snprintf(sp, sizeof sp, "$.steps[%zu]", i);
    if (!json_is_object(step))
        return invalid(ck->err, ck->source, sp, "must be an object");
    if (only_members(ck, step, sp, members) < 0)
        return -1;
    json_t *v = json_object_get(step, "action");
    snprintf(path, sizeof path, "%s.action", sp);
    if (!json_is_string(v) || json_string_length(v) == 0)
        return invalid(ck->err, ck->source, path, "must be a non-empty string, the action's name (\"PutImage\")");
    v = json_object_get(step, "name");
    snprintf(path, sizeof path, "%s.name", sp);
    if (v && !json_is_string(v))
        return invalid(ck->err, ck->source, path, "must be a string");
    v = json_object_get(step, "advanceClockMs");
    snprintf(path, sizeof path, "%s.advanceClockMs", sp);
    if (v && (!json_is_integer(v) || json_integer_value(v) < -ECRMOCK_CLOCK_MAX_MS ||
              json_integer_value(v) > ECRMOCK_CLOCK_MAX_MS))
        return invalid(ck->err, ck->source, path,
                       "must be an integer (milliseconds) from -253402300799999 to 253402300799999, the "
                       "virtual clock's range");
    v = json_object_get(step, "faults");
    if (v) {
        snprintf(path, sizeof path, "%s.faults", sp);
        if (!json_is_array(v))
            return invalid(ck->err, ck->source, path, "must be an array of fault rules");
        size_t k;
        json_t *rule;
        json_array_foreach(v, k, rule) {
            if (!ck->scratch && !(ck->scratch = ecrmock_new(NULL)))
                return invalid(ck->err, ck->source, path, "out of memory");
            char *why = NULL;
            long id = ecrmock_fault_add_json(ck->scratch, rule, &why);
            if (id < 0) {
                snprintf(path, sizeof path, "%s.faults[%zu]", sp, k);
                invalid(ck->err, ck->source, path, "%s", why ? why : "out of memory");
                em_free(why);
                return -1;
            }
            ecrmock_fault_remove(ck->scratch, id);
        }
    }
    v = json_object_get(step, "request");
    snprintf(path, sizeof path, "%s.request", sp);
    if (v && !json_is_object(v))
        return invalid(ck->err, ck->source, path, "must be an object");
    if (v && check_strings(ck, v, path, vars, false) < 0)
        return -1;
    v = json_object_get(step, "expect");
    if (v && check_expect(ck, v, sp, vars) < 0)
        return -1;
    v = json_object_get(step, "capture");
    if (v) {
        snprintf(path, sizeof path, "%s.capture", sp);
        if (!json_is_object(v))
            return invalid(ck->err, ck->source, path, "must be an object of name: path");
        const char *name;
        json_t *p;
        json_object_foreach(v, name, p) {
            snprintf(path, sizeof path, "%s.capture.%.64s", sp, name);
            const char *why = NULL;
            if (!is_var_name(name, strlen(name)))
                return invalid(ck->err, ck->source, path,
                               "a variable name is a letter or '_' followed by letters, digits and '_'");
            if (!json_is_string(p))
                return invalid(ck->err, ck->source, path, "must be a path string like \"$.image.imageId\"");
            if (path_check(json_string_value(p), &why) < 0)
                return invalid(ck->err, ck->source, path, "bad path \"%.100s\": %s", json_string_value(p), why);
        }
    }
    return 0;
}

/* Checks the whole scenario; fills opts from its options. */
static int check_scenario(checker *ck, json_t *sc, ecrmock_options *opts)
{
    static const char *const members[] = {"$schema", "description", "fixture", "options", "steps", NULL};
    if (!json_is_object(sc))
        return invalid(ck->err, ck->source, "$", "a scenario must be a JSON object");
    if (only_members(ck, sc, "$", members) < 0)
        return -1;
    json_t *v = json_object_get(sc, "description");
    if (v && !json_is_string(v))
        return invalid(ck->err, ck->source, "$.description", "must be a string");
    v = json_object_get(sc, "$schema");
    if (v && !json_is_string(v))
        return invalid(ck->err, ck->source, "$.$schema", "must be a string");
    v = json_object_get(sc, "fixture");
    if (v && !json_is_object(v) && !(json_is_string(v) && json_string_length(v) > 0))
        return invalid(ck->err, ck->source, "$.fixture",
                       "must be a path (relative to the scenario file) or a fixture object");
    v = json_object_get(sc, "options");
    if (v && check_options(ck, v, opts) < 0)
        return -1;
    json_t *steps = json_object_get(sc, "steps");
    if (!json_is_array(steps) || json_array_size(steps) == 0)
        return invalid(ck->err, ck->source, "$.steps", "must be a non-empty array of steps");
    json_t *vars = json_object();
    if (!vars)
        return invalid(ck->err, ck->source, "$", "out of memory");
    size_t i;
    json_t *step;
    int rc = 0;
    json_array_foreach(steps, i, step) {
        if ((rc = check_step(ck, step, i, vars)) < 0)
            break;
        const char *name;
        json_t *p;
        json_object_foreach(json_object_get(step, "capture"), name, p) {
            if (json_object_set_new(vars, name, json_null()) < 0) {
                rc = invalid(ck->err, ck->source, "$", "out of memory");
                break;
            }
        }
    }
    json_decref(vars);
    return rc;
}

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
static char *mismatch(const char *path, json_t *want, json_t *have, const char *what)
{
    char *w = describe(want), *h = NULL;
    if (what)
        h = em_strdup(what);
    else
        h = describe(have);
    char *r = (w && h) ? em_sprintf("at %s: expected %s, got %s", path, w, h) : NULL;
    em_free(w);
    em_free(h);
    return r;
}

/*
 * Compares `have` with the subset `want`; NULL when it matches, else a new
 * em_malloc'd reason.  *nomem is set when memory ran out.
 */
static char *match(json_t *want, json_t *have, em_buf *path, bool *nomem)
{
    char *r = NULL;
    const char *p = (const char *)path->data;
    if (is_wildcard(want))
        return NULL; /* present: the caller checked */
    if (json_is_object(want)) {
        if (!json_is_object(have))
            return (r = mismatch(p, want, have, NULL)) ? r : ((*nomem = true), NULL);
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
                r = mismatch((const char *)path->data, w, NULL, "no such member");
                if (!r)
                    *nomem = true;
            } else {
                r = match(w, h, path, nomem);
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
            return (r = mismatch(p, want, have, NULL)) ? r : ((*nomem = true), NULL);
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
            if ((r = match(json_array_get(want, i), json_array_get(have, i), path, nomem)) || *nomem)
                return r;
        }
        path->len = mark;
        path->data[mark - 1] = '\0';
        return NULL;
    }
    if (scalars_equal(want, have))
        return NULL;
    return (r = mismatch(p, want, have, NULL)) ? r : ((*nomem = true), NULL);
}

static const char *error_message(json_t *resp)
{
    json_t *msg = json_object_get(resp, "message");
    if (!msg)
        msg = json_object_get(resp, "Message");
    return json_string_value(msg);
}

/* What the call answered, for a status or error mismatch: "400
 * ImageAlreadyExistsException: <message>" or "200". */
static char *answer_text(int status, json_t *resp)
{
    const char *type = json_string_value(json_object_get(resp, "__type"));
    const char *msg = error_message(resp);
    if (status == 200 || !type)
        return em_sprintf("%d", status);
    return msg ? em_sprintf("%d %s: %s", status, type, msg) : em_sprintf("%d %s", status, type);
}

/* NULL when the answer meets `expect` (NULL: status 200), else a new reason. */
static char *check_answer(json_t *expect, int status, json_t *resp, bool *nomem)
{
    json_t *st = json_object_get(expect, "status");
    const char *error = json_string_value(json_object_get(expect, "error"));
    const char *message = json_string_value(json_object_get(expect, "message"));
    json_t *want = json_object_get(expect, "response");
    const char *type = status == 200 ? NULL : json_string_value(json_object_get(resp, "__type"));
    char *r = NULL, *ans = NULL;
    int want_status = st ? (int)json_integer_value(st) : error ? -1 : 200;

    if (want_status != -1 && status != want_status) {
        ans = answer_text(status, resp);
        r = ans ? em_sprintf("expected status %d, got %s", want_status, ans) : NULL;
    } else if (error && (!type || strcmp(type, error) != 0)) {
        ans = answer_text(status, resp);
        r = ans ? em_sprintf("expected error %s, got %s", error, ans) : NULL;
    } else if (message && (!error_message(resp) || strcmp(error_message(resp), message) != 0)) {
        const char *key = json_object_get(resp, "Message") ? "Message" : "message";
        char at[16];
        snprintf(at, sizeof at, "$.%s", key);
        json_t *w = json_string(message);
        r = w ? mismatch(at, w, json_object_get(resp, key), error_message(resp) ? NULL : "no message") : NULL;
        json_decref(w);
    } else if (want) {
        em_buf path = {0};
        if (path_start(&path, "$") < 0) {
            *nomem = true;
            return NULL;
        }
        r = match(want, resp, &path, nomem);
        em_buf_release(&path);
        return r;
    } else {
        return NULL;
    }
    em_free(ans);
    if (!r)
        *nomem = true;
    return r;
}

/* ---- running ------------------------------------------------------------------------- */

/* Request members given as JSON where the model says string (imageManifest,
 * policyText) are sent as their compact JSON text. */
static int stringify_members(const char *action, json_t *req)
{
    const em_action *a = em_action_find(action);
    if (!a)
        return 0;
    const em_shape *sh = &em_shapes[a->input_shape];
    for (int i = 0; i < sh->n_members; i++) {
        json_t *v = json_object_get(req, sh->members[i].name);
        if (em_shapes[sh->members[i].shape].type != EM_T_STRING || !(json_is_object(v) || json_is_array(v)))
            continue;
        char *text = json_dumps(v, JSON_COMPACT);
        int rc = text ? json_object_set_new(req, sh->members[i].name, json_string(text)) : -1;
        em_json_free(text);
        if (rc < 0)
            return -1;
    }
    return 0;
}

typedef struct runner {
    ecrmock *m;
    json_t *vars; /* captured values */
    FILE *out;
} runner;

/* Runs one step; returns a new reason when it failed, NULL when it passed
 * (*nomem set when memory ran out). */
static char *run_step(runner *rn, json_t *step, size_t i)
{
    const char *action = json_string_value(json_object_get(step, "action"));
    json_t *v = json_object_get(step, "advanceClockMs");
    expander x = {.vars = rn->vars, .checking = false};
    char *why = NULL, *reason = NULL;
    json_t *req = NULL, *resp = NULL, *expect = NULL;
    em_buf path = {0};
    bool nomem = false;

    if (v && ecrmock_clock_advance(rn->m, (int64_t)json_integer_value(v)) < 0) {
        reason = em_sprintf("advanceClockMs: %lld ms from %lld would take the clock outside 0 to "
                            "253402300799999 (9999-12-31T23:59:59.999Z); the clock did not move",
                            (long long)json_integer_value(v), (long long)ecrmock_clock_now(rn->m));
        if (!reason)
            goto nomem;
        goto done;
    }
    size_t k;
    json_t *rule;
    json_array_foreach(json_object_get(step, "faults"), k, rule) {
        char *e = NULL;
        if (ecrmock_fault_add_json(rn->m, rule, &e) < 0) {
            reason = em_sprintf("faults[%zu]: %s", k, e ? e : "out of memory");
            em_free(e);
            goto done;
        }
    }
    char root[64];
    snprintf(root, sizeof root, "$.steps[%zu].request", i);
    if (path_start(&path, root) < 0)
        goto nomem;
    json_t *raw = json_object_get(step, "request");
    req = raw ? expand(&x, raw, &path, &why) : json_object();
    if (!req)
        goto expand_failed;
    if (stringify_members(action, req) < 0)
        goto nomem;
    int status = ecrmock_call(rn->m, action, req, &resp);
    if (status < 0)
        goto nomem;
    raw = json_object_get(step, "expect");
    if (raw) {
        x.wildcard_ok = true;
        x.spent = 0;
        snprintf(root, sizeof root, "$.steps[%zu].expect", i);
        if (path_start(&path, root) < 0)
            goto nomem;
        if (!(expect = expand(&x, raw, &path, &why)))
            goto expand_failed;
    }
    reason = check_answer(expect, status, resp, &nomem);
    if (nomem)
        goto nomem;
    /* Captures are taken even from a failed step, so that one mismatch does
     * not make every later step fail too. */
    const char *name;
    json_t *p;
    json_object_foreach(json_object_get(step, "capture"), name, p) {
        json_t *val = path_get(resp, json_string_value(p));
        if (!val) {
            if (!reason && !(reason = em_sprintf("capture '%s': %s is not in the response", name,
                                                 json_string_value(p))))
                goto nomem;
            json_object_del(rn->vars, name);
            continue;
        }
        if (json_object_set_new(rn->vars, name, json_deep_copy(val)) < 0)
            goto nomem;
    }
    goto done;
expand_failed:
    if (why)
        reason = em_sprintf("%s: %s", (const char *)path.data, why);
    if (reason)
        goto done;
nomem:
    em_free(reason);
    reason = em_strdup("ecrmock ran out of memory running the step");
done:
    em_free(why);
    em_buf_release(&path);
    json_decref(req);
    json_decref(resp);
    json_decref(expect);
    return reason;
}

static void print_label(FILE *out, json_t *step)
{
    const char *name = json_string_value(json_object_get(step, "name"));
    fputs(json_string_value(json_object_get(step, "action")), out);
    if (name)
        fprintf(out, " \"%s\"", name);
}

static int load_fixture(ecrmock *m, json_t *fixture, const char *base_dir, const char *source, char **err)
{
    char *e = NULL;
    int rc;
    if (json_is_string(fixture)) {
        const char *p = json_string_value(fixture);
        char *full = (p[0] == '/' || !base_dir) ? em_strdup(p) : em_sprintf("%s/%s", base_dir, p);
        if (!full)
            return invalid(err, source, "$.fixture", "out of memory");
        rc = ecrmock_fixture_load_file(m, full, &e);
        em_free(full);
    } else {
        rc = ecrmock_fixture_load(m, fixture, source, &e);
    }
    if (rc < 0)
        invalid(err, source, "$.fixture", "%s", e ? e : "out of memory");
    em_free(e);
    return rc < 0 ? -1 : 0;
}

static int run_scenario(ecrmock *m, json_t *sc, const char *base_dir, const char *source, FILE *out, char **err)
{
    if (err)
        *err = NULL;
    ecrmock_options opts = ECRMOCK_OPTIONS_INIT;
    checker ck = {.source = source, .err = err};
    int rc = check_scenario(&ck, sc, &opts);
    ecrmock_free(ck.scratch);
    if (rc < 0)
        return -1;

    ecrmock *own = NULL;
    if (!m && !(m = own = ecrmock_new(&opts)))
        return invalid(err, source, "$", "out of memory");
    runner rn = {.m = m, .out = out, .vars = json_object()};
    if (!rn.vars) {
        ecrmock_free(own);
        return invalid(err, source, "$", "out of memory");
    }
    json_t *fixture = json_object_get(sc, "fixture");
    if (fixture && load_fixture(m, fixture, base_dir, source, err) < 0) {
        json_decref(rn.vars);
        ecrmock_free(own);
        return -1;
    }

    json_t *steps = json_object_get(sc, "steps");
    size_t i;
    json_t *step;
    int failed = 0;
    json_array_foreach(steps, i, step) {
        char *reason = run_step(&rn, step, i);
        if (reason)
            failed++;
        if (out) {
            fprintf(out, "%s %zu ", reason ? "FAIL" : "ok", i + 1);
            print_label(out, step);
            if (reason)
                fprintf(out, ": %s", reason);
            fputc('\n', out);
        }
        em_free(reason);
    }
    if (out) {
        size_t n = json_array_size(steps);
        if (failed)
            fprintf(out, "%s: %d of %zu step%s failed\n", source, failed, n, n == 1 ? "" : "s");
        else
            fprintf(out, "%s: all %zu step%s passed\n", source, n, n == 1 ? "" : "s");
    }
    json_decref(rn.vars);
    ecrmock_free(own);
    return failed;
}

int ecrmock_scenario_run(ecrmock *m, json_t *scenario, const char *base_dir, FILE *out, char **err)
{
    return run_scenario(m, scenario, base_dir, "scenario", out, err);
}

int ecrmock_scenario_run_file(ecrmock *m, const char *path, FILE *out, char **err)
{
    if (err)
        *err = NULL;
    if (!path)
        return invalid(err, "scenario", "$", "no file name given");
    FILE *f = fopen(path, "rb");
    if (!f)
        return invalid(err, path, "$", "cannot open the file: %s", strerror(errno));
    json_error_t jerr;
    json_t *sc = json_loadf(f, JSON_REJECT_DUPLICATES, &jerr);
    fclose(f);
    if (!sc)
        /* Not jansson's text: it changed between versions. */
        return invalid(err, path, "$", "not valid JSON (line %d, column %d)", jerr.line, jerr.column);
    char *dir = em_strdup(path);
    if (!dir) {
        json_decref(sc);
        return invalid(err, path, "$", "out of memory");
    }
    char *slash = strrchr(dir, '/');
    if (slash)
        slash[slash == dir ? 1 : 0] = '\0';
    int rc = run_scenario(m, sc, slash ? dir : ".", path, out, err);
    em_free(dir);
    json_decref(sc);
    return rc;
}
