/*
 * Request validation, driven by the service model's tables (model_gen.c).
 *
 * ECR's front end works in two steps, and so does this file: first the body
 * is deserialised against the input shape (a member of the wrong JSON type
 * is a SerializationException, wherever it is), then the constraints are
 * checked (required members, lengths, ranges, patterns, enums), each
 * violation an InvalidParameterException worded as ECR words it:
 *   Invalid parameter at 'repositoryName' failed to satisfy constraint:
 *   'must satisfy regular expression '<regex>''
 * Members the model does not know are ignored, as AWS JSON 1.1 services do;
 * a JSON null is an absent member.
 */
#include <stdio.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "core/core.h"

#define PATH_MAX_LEN 512

typedef struct walk {
    em_call *c;
    bool constraints; /* false: the type pass; true: the constraint pass */
    bool in_list;     /* checking a scalar member of a list */
    size_t item;      /* then: its index (from 0) */
    char path[PATH_MAX_LEN];
} walk;

static int check(walk *w, int shape, json_t *v, size_t plen);

/* The call's member: w->path, as a JSON path; returns rc. */
static int at_path(int rc, walk *w)
{
    em_member_path(w->c->member, sizeof w->c->member, w->path);
    return rc;
}

static const char *type_noun
(em_type t)
{
    switch (t) {
    case EM_T_STRING: return "a String";
    case EM_T_INTEGER: return "an Integer";
    case EM_T_LONG: return "a Long";
    case EM_T_BOOLEAN: return "a Boolean";
    case EM_T_TIMESTAMP: return "a Timestamp";
    case EM_T_BLOB: return "a Blob";
    case EM_T_DOUBLE: return "a Double";
    case EM_T_STRUCT: return "a Structure";
    case EM_T_LIST: return "a List";
    case EM_T_MAP: return "a Map";
    default: return "the expected type";
    }
}

/* What Coral's deserialiser says of a JSON value found where another kind of
 * value was expected; the call's member is the value's path. */
static int type_error(walk *w, const em_shape *s, json_t *v)
{
    const char *type = type_noun(s->type);
    int rc;
    switch (json_typeof(v)) {
    case JSON_OBJECT: rc = em_fail_text(w->c, EM_MSG_FOUND_STRUCTURE); break;
    case JSON_ARRAY: rc = em_fail_text(w->c, EM_MSG_FOUND_LIST); break;
    case JSON_STRING: rc = em_fail_text(w->c, EM_MSG_FOUND_STRING, type); break;
    case JSON_INTEGER:
    case JSON_REAL: rc = em_fail_text(w->c, EM_MSG_FOUND_NUMBER, type); break;
    case JSON_TRUE:
    case JSON_FALSE: rc = em_fail_text(w->c, EM_MSG_FOUND_BOOLEAN, type); break;
    default: rc = em_fail_text(w->c, EM_MSG_FOUND_OTHER); break;
    }
    return at_path(rc, w);
}


static bool type_ok(const em_shape *s, json_t *v)
{
    switch (s->type) {
    case EM_T_STRUCT:
    case EM_T_MAP: return json_is_object(v);
    case EM_T_LIST: return json_is_array(v);
    case EM_T_STRING: return json_is_string(v);
    case EM_T_INTEGER:
        return json_is_integer(v) && json_integer_value(v) >= INT32_MIN && json_integer_value(v) <= INT32_MAX;
    case EM_T_LONG: return json_is_integer(v);
    case EM_T_BOOLEAN: return json_is_boolean(v);
    case EM_T_TIMESTAMP:
    case EM_T_DOUBLE: return json_is_number(v);
    case EM_T_BLOB: return json_is_string(v);
    }
    return false;
}

/* Number of characters (code points) in a UTF-8 string. */
static size_t utf8_chars(const char *s, size_t n)
{
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xc0) != 0x80)
            count++;
    return count;
}

/* The last text a pattern accepted: a client names the same repository, the
 * same registry, call after call, and comparing is cheaper than matching. */
typedef struct memo {
    size_t len;
    char text[];
} memo;

#define MEMO_MAX 256

static int pattern_match(ecrmock *m, int idx, const char *s, size_t n)
{
    memo *last = m->pattern_memo[idx];
    if (last && last->len == n && memcmp(last->text, s, n) == 0)
        return 1;
    if (!m->patterns[idx]) {
        int err;
        PCRE2_SIZE off;
        m->patterns[idx] = pcre2_compile((PCRE2_SPTR)em_patterns[idx], PCRE2_ZERO_TERMINATED,
                                         PCRE2_ANCHORED | PCRE2_ENDANCHORED | PCRE2_DOLLAR_ENDONLY, &err,
                                         &off, NULL);
        if (!m->patterns[idx])
            return -1;
    }
    if (!m->match_data) {
        m->match_data = pcre2_match_data_create(4, NULL);
        if (!m->match_data)
            return -1;
    }
    int r = pcre2_match(m->patterns[idx], (PCRE2_SPTR)s, n, 0, 0, m->match_data, NULL);
    if (r >= 0) {
        if (n <= MEMO_MAX) {
            memo *next = em_malloc(sizeof *next + n);
            if (!next)
                return -1; /* out of memory, as for any allocation of the call */
            next->len = n;
            memcpy(next->text, s, n);
            em_free(m->pattern_memo[idx]);
            m->pattern_memo[idx] = next;
        }
        return 1;
    }
    return r == PCRE2_ERROR_NOMATCH ? 0 : -1;
}

/*
 * Fails with `rule` (a text of EM_RULE_LIST) at w->path.  A scalar inside a
 * list is reported at the list, its rule wrapped and in Coral's own words
 * (the caller's `rule` is then the "Member must..." form), as ECR does:
 *   Invalid parameter at 'registryIds' failed to satisfy constraint:
 *   'Member must satisfy constraint: [Member must satisfy regular expression
 *   pattern: [0-9]{12}]'
 * The call's member is then the item's path ("$.registryIds[2]").
 */
static int param(walk *w, const char *rule)
{
    if (!w->in_list)
        return em_fail_param(w->c, w->path, "%s", rule);
    em_fail_rule(w->c, w->path, EM_RULE_MEMBER_CONSTRAINT, rule);
    size_t n = strlen(w->c->member);
    snprintf(w->c->member + n, sizeof w->c->member - n, "[%zu]", w->item);
    return -1;
}

/* A string's (or a blob's) length rule: the bare form, or Coral's for a
 * list's item. */
static int length_param(walk *w, bool min, long long bound)
{
    char rule[128];
    if (min && w->in_list)
        em_format_text(rule, sizeof rule, EM_RULE_MEMBER_LENGTH_MIN, bound);
    else if (min)
        em_format_text(rule, sizeof rule, EM_RULE_LENGTH_MIN, bound);
    else if (w->in_list)
        em_format_text(rule, sizeof rule, EM_RULE_MEMBER_LENGTH_MAX, bound);
    else
        em_format_text(rule, sizeof rule, EM_RULE_LENGTH_MAX, bound);
    return param(w, rule);
}

/* A list's or a map's size rule. */
static int size_param(walk *w, bool min, long long bound)
{
    char rule[128];
    if (min)
        em_format_text(rule, sizeof rule, EM_RULE_MEMBER_LENGTH_MIN, bound);
    else
        em_format_text(rule, sizeof rule, EM_RULE_MEMBER_LENGTH_MAX, bound);
    return param(w, rule);
}

static int check_string(walk *w, const em_shape *s, json_t *v)
{
    const char *str = json_string_value(v);
    size_t n = json_string_length(v);
    /* a text of n bytes holds n/4 to n characters: count them only when
     * that range straddles a bound */
    bool count = ((s->flags & EM_HAS_MIN) && (int64_t)(n / 4) < s->min) || ((s->flags & EM_HAS_MAX) && (int64_t)n > s->max);
    if (count) {
        size_t chars = utf8_chars(str, n);
        if ((s->flags & EM_HAS_MIN) && (int64_t)chars < s->min)
            return length_param(w, true, (long long)s->min);
        if ((s->flags & EM_HAS_MAX) && (int64_t)chars > s->max)
            return length_param(w, false, (long long)s->max);
    }
    if (s->pattern >= 0) {
        int r = pattern_match(w->c->m, s->pattern, str, n);
        if (r < 0)
            return em_fail_nomem(w->c);
        if (r == 0) {
            char rule[1024];
            if (w->in_list)
                em_format_text(rule, sizeof rule, EM_RULE_MEMBER_PATTERN, em_patterns[s->pattern]);
            else
                em_format_text(rule, sizeof rule, EM_RULE_PATTERN, em_patterns[s->pattern]);
            return param(w, rule);
        }
    }
    if (s->n_enums) {
        for (int i = 0; i < s->n_enums; i++)
            if (strlen(s->enums[i]) == n && memcmp(s->enums[i], str, n) == 0)
                return 0;
        char set[1024] = "";
        size_t used = 0;
        for (int i = 0; i < s->n_enums && used < sizeof set; i++)
            used += (size_t)snprintf(set + used, sizeof set - used, "%s%s", i ? ", " : "", s->enums[i]);
        char rule[1100];
        em_format_text(rule, sizeof rule, EM_RULE_MEMBER_ENUM, set);
        return param(w, rule);
    }
    return 0;
}

static int check_number(walk *w, const em_shape *s, json_t *v)
{
    if (s->type != EM_T_INTEGER && s->type != EM_T_LONG)
        return 0;
    json_int_t n = json_integer_value(v);
    char rule[128];
    if ((s->flags & EM_HAS_MIN) && n < s->min) {
        em_format_text(rule, sizeof rule, EM_RULE_MEMBER_VALUE_MIN, (long long)s->min);
        return param(w, rule);
    }
    if ((s->flags & EM_HAS_MAX) && n > s->max) {
        em_format_text(rule, sizeof rule, EM_RULE_MEMBER_VALUE_MAX, (long long)s->max);
        return param(w, rule);
    }
    return 0;
}

static int check_struct(walk *w, const em_shape *s, json_t *v, size_t plen)
{
    for (int i = 0; i < s->n_members; i++) {
        const em_member *mem = &s->members[i];
        json_t *mv = json_object_get(v, mem->name);
        /* path.name, cut to the buffer (no snprintf: this runs for every
         * member the model lists, on every call) */
        size_t n = plen;
        if (plen && n < PATH_MAX_LEN - 1)
            w->path[n++] = '.';
        size_t name_len = strlen(mem->name);
        if (name_len > PATH_MAX_LEN - 1 - n)
            name_len = PATH_MAX_LEN - 1 - n;
        memcpy(w->path + n, mem->name, name_len);
        n += name_len;
        w->path[n] = '\0';
        if (!mv || json_is_null(mv)) {
            /* The blob the registry plane carries raw (em_call.raw_part) is not in the request. */
            if (mem->required && w->constraints &&
                !(w->c->raw_part && em_shapes[mem->shape].type == EM_T_BLOB))
                return em_fail_rule(w->c, w->path, EM_RULE_MEMBER_NOT_NULL);
            continue;
        }
        if (check(w, mem->shape, mv, n) < 0)
            return -1;
        w->path[plen] = '\0';
    }
    w->path[plen] = '\0';
    return 0;
}

/* Writes ".<index>.member" at w->path + plen, cut to the buffer as
 * snprintf would cut it; returns the path's new length.  (Not snprintf: this
 * runs for every item of every list, on every call.) */
static size_t path_index(walk *w, size_t plen, size_t index)
{
    char tail[28] = "."; /* the dot, 20 digits at most, ".member" */
    size_t n = 1 + (size_t)em_decimal_digits(index, tail + 1);
    memcpy(tail + n, ".member", 7);
    size_t t = n + 7, room = plen < PATH_MAX_LEN - 1 ? PATH_MAX_LEN - 1 - plen : 0;
    if (t > room)
        t = room;
    memcpy(w->path + plen, tail, t);
    w->path[plen + t] = '\0';
    return plen + t;
}

static int check_list(walk *w, const em_shape *s, json_t *v, size_t plen)
{
    size_t count = json_array_size(v);
    if (w->constraints) {
        if ((s->flags & EM_HAS_MIN) && (int64_t)count < s->min)
            return size_param(w, true, (long long)s->min);
        if ((s->flags & EM_HAS_MAX) && (int64_t)count > s->max)
            return size_param(w, false, (long long)s->max);
    }
    for (size_t i = 0; i < count; i++) {
        json_t *item = json_array_get(v, i);
        size_t n = path_index(w, plen, i + 1);
        if (json_is_null(item)) {
            if (w->constraints)
                return em_fail_rule(w->c, w->path, EM_RULE_MEMBER_NOT_NULL);
            continue;
        }
        em_type t = em_shapes[s->member].type;
        if (t != EM_T_STRUCT && t != EM_T_LIST && t != EM_T_MAP) {
            w->path[plen] = '\0';
            n = plen;
            w->in_list = true;
            w->item = i;
        }
        int r = check(w, s->member, item, n);
        w->in_list = false;
        if (r < 0)
            return -1;
        w->path[plen] = '\0';
    }
    return 0;
}

static int check_map(walk *w, const em_shape *s, json_t *v, size_t plen)
{
    const char *key;
    json_t *item;
    size_t count = json_object_size(v);
    if (w->constraints) {
        if ((s->flags & EM_HAS_MIN) && (int64_t)count < s->min)
            return size_param(w, true, (long long)s->min);
        if ((s->flags & EM_HAS_MAX) && (int64_t)count > s->max)
            return size_param(w, false, (long long)s->max);
    }
    json_object_foreach(v, key, item) {
        size_t n = plen + (size_t)snprintf(w->path + plen, PATH_MAX_LEN - plen, ".%s", key);
        if (n >= PATH_MAX_LEN)
            n = PATH_MAX_LEN - 1;
        if (json_is_null(item))
            continue;
        if (check(w, s->member, item, n) < 0)
            return -1;
        w->path[plen] = '\0';
    }
    return 0;
}

static int check(walk *w, int shape, json_t *v, size_t plen)
{
    const em_shape *s = &em_shapes[shape];
    if (!w->constraints && !type_ok(s, v))
        return type_error(w, s, v);
    switch (s->type) {
    case EM_T_STRUCT: return check_struct(w, s, v, plen);
    case EM_T_LIST: return check_list(w, s, v, plen);
    case EM_T_MAP: return check_map(w, s, v, plen);
    case EM_T_STRING: return w->constraints ? check_string(w, s, v) : 0;
    case EM_T_BLOB: {
        const char *text = json_string_value(v);
        size_t len = json_string_length(v);
        if (!w->constraints)
            return em_base64_decoded_len(text, len) == SIZE_MAX
                       ? at_path(em_fail_text(w->c, EM_MSG_BASE64_INVALID), w)
                       : 0;
        /* the type pass has read every character: only the length is left */
        size_t n = em_base64_valid_len(text, len);
        if ((s->flags & EM_HAS_MIN) && (int64_t)n < s->min)
            return length_param(w, true, (long long)s->min);
        if ((s->flags & EM_HAS_MAX) && (int64_t)n > s->max)
            return length_param(w, false, (long long)s->max);
        return 0;

    }
    default: return w->constraints ? check_number(w, s, v) : 0;
    }
}

int em_validate(em_call *c, int shape, json_t *req)
{
    walk w = {.c = c, .constraints = false};
    if (!json_is_object(req))
        return type_error(&w, &em_shapes[shape], req);
    if (check(&w, shape, req, 0) < 0)
        return -1;
    w.constraints = true;
    w.path[0] = '\0';
    return check(&w, shape, req, 0);
}

/* ---- the tree-free check (the hot actions' fast forms) ---------------------
 *
 * Whether em_validate() would accept the request the tokens describe: true
 * only when it surely would.  Anything this walk does not settle (a null, a
 * member named twice or with an escape in its name, a blob, a string too
 * long to match here) answers false, and the call takes the tree path, whose
 * validation words the refusal. */

/* Pattern and enum strings longer than this are left to the tree path. */
#define TOKEN_TEXT_MAX 1024

static bool token_ok(ecrmock *m, int shape, const em_jdoc *d, size_t i, int depth);

static bool token_string_ok(ecrmock *m, const em_shape *s, const em_jdoc *d, size_t i)
{
    const em_jtok *t = &d->t[i];
    const char *str = d->text + t->start;
    size_t n = t->len;
    char decoded[TOKEN_TEXT_MAX + 1];
    bool needs_text = s->pattern >= 0 || s->n_enums;
    /* Escaped text of n bytes holds at most n characters, and at least one
     * for every twelve bytes (the longest text of one character is a
     * surrogate pair's escape, "\\ud83d\\ude00"): without a pattern or an
     * enum, a length within both bounds whatever the escapes needs no text. */
    bool near = ((s->flags & EM_HAS_MIN) && (int64_t)(n / 12) < s->min) || ((s->flags & EM_HAS_MAX) && (int64_t)n > s->max);
    if (t->escaped && !needs_text && !near)
        return true;
    if (t->escaped) {
        if (n > TOKEN_TEXT_MAX) {
            /* Without the text: an escape decodes to 1 to 4 bytes of at
             * least one character, so the raw length bounds the count from
             * above only. */
            if (needs_text || (s->flags & EM_HAS_MIN && s->min > 1))
                return false;
            return !(s->flags & EM_HAS_MAX) || (int64_t)n <= s->max;
        }
        n = em_jstr_decode(d, i, decoded);
        str = decoded;
    }
    bool count = ((s->flags & EM_HAS_MIN) && (int64_t)(n / 4) < s->min) || ((s->flags & EM_HAS_MAX) && (int64_t)n > s->max);
    if (count) {
        size_t chars = utf8_chars(str, n);
        if (((s->flags & EM_HAS_MIN) && (int64_t)chars < s->min) || ((s->flags & EM_HAS_MAX) && (int64_t)chars > s->max))
            return false;
    }
    if (s->pattern >= 0 && (n > TOKEN_TEXT_MAX || pattern_match(m, s->pattern, str, n) != 1))
        return false;
    if (s->n_enums) {
        for (int k = 0; k < s->n_enums; k++)
            if (strlen(s->enums[k]) == n && memcmp(s->enums[k], str, n) == 0)
                return true;
        return false;
    }
    return true;
}

static bool token_number_ok(const em_shape *s, const em_jtok *t)
{
    if (s->type == EM_T_TIMESTAMP || s->type == EM_T_DOUBLE)
        return t->type == EM_J_INTEGER || t->type == EM_J_REAL;
    if (t->type != EM_J_INTEGER)
        return false;
    int64_t v = t->integer;
    if (s->type == EM_T_INTEGER && (v < INT32_MIN || v > INT32_MAX))
        return false;
    return !((s->flags & EM_HAS_MIN) && v < s->min) && !((s->flags & EM_HAS_MAX) && v > s->max);
}

static bool token_struct_ok(ecrmock *m, const em_shape *s, const em_jdoc *d, size_t i, int depth)
{
    uint64_t seen = 0;
    if (s->n_members > 64)
        return false;
    size_t k = i + 1;
    for (uint32_t n = 0; n < d->t[i].count; n++) {
        const em_jtok *name = &d->t[k];
        size_t v = k + 1;
        k = d->t[v].next;
        const char *text = d->text + name->start;
        size_t len = name->len;
        char decoded[128];
        if (name->escaped) { /* "repository\u004eame" is repositoryName */
            if (len >= sizeof decoded)
                return false;
            len = em_jstr_decode(d, v - 1, decoded);
            text = decoded;
        }
        if (d->t[v].type == EM_J_NULL)
            return false;
        for (int j = 0; j < s->n_members; j++) {
            const char *mn = s->members[j].name;
            if (strlen(mn) != len || memcmp(mn, text, len) != 0)
                continue;
            if (seen & (UINT64_C(1) << j))
                return false; /* named twice: jansson keeps the last; the tree path says what */
            seen |= UINT64_C(1) << j;
            if (!token_ok(m, s->members[j].shape, d, v, depth + 1))
                return false;
            break;
        }
    }
    for (int j = 0; j < s->n_members; j++)
        if (s->members[j].required && !(seen & (UINT64_C(1) << j)))
            return false;
    return true;
}

static bool token_ok(ecrmock *m, int shape, const em_jdoc *d, size_t i, int depth)
{
    const em_shape *s = &em_shapes[shape];
    const em_jtok *t = &d->t[i];
    if (depth > 64)
        return false;
    switch (s->type) {
    case EM_T_STRUCT: return t->type == EM_J_OBJECT && token_struct_ok(m, s, d, i, depth);
    case EM_T_LIST:
    case EM_T_MAP: {
        if (t->type != (s->type == EM_T_LIST ? EM_J_ARRAY : EM_J_OBJECT))
            return false;
        if (((s->flags & EM_HAS_MIN) && (int64_t)t->count < s->min) || ((s->flags & EM_HAS_MAX) && (int64_t)t->count > s->max))
            return false;
        size_t k = i + 1;
        for (uint32_t n = 0; n < t->count; n++) {
            if (s->type == EM_T_MAP)
                k++; /* the key: any name */
            if (d->t[k].type == EM_J_NULL || !token_ok(m, s->member, d, k, depth + 1))
                return false;
            k = d->t[k].next;
        }
        return true;
    }
    case EM_T_STRING: return t->type == EM_J_STRING && token_string_ok(m, s, d, i);
    case EM_T_BOOLEAN: return t->type == EM_J_TRUE || t->type == EM_J_FALSE;
    case EM_T_BLOB: return false;
    default: return token_number_ok(s, t);
    }
}

bool em_validate_tokens(ecrmock *m, int shape, const em_jdoc *d)
{
    return d->n && d->t[0].type == EM_J_OBJECT && token_ok(m, shape, d, 0, 1);
}
