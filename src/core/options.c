/*
 * The options: one table (C field, JSON name, environment suffix, type,
 * version, default, a line of help) read by ecrmock_options_check(), ecrmock_new(), the JSON
 * form (scenarios, recordings, fixtures, ecrmock-run) and the preload
 * object's environment (ECRMOCK_CURL_<suffix>).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

#define ROW(f, json, env, type, version, dflt, help) \
    {#f, json, env, type, version, offsetof(ecrmock_options, f), dflt, help}
const em_option em_option_table[] = {
    ROW(account_id, "accountId", "ACCOUNT", EM_OPT_STRING, 1, 0,
        "the caller's account, whose registry the calls reach"),
    ROW(region, "region", "REGION", EM_OPT_STRING, 1, 0,
        "the instance's own region"),
    ROW(clock_start_ms, "clockStartMs", "CLOCK_START_MS", EM_OPT_INT64, 1, ECRMOCK_DEFAULT_CLOCK_MS,
        "where the virtual clock starts, ms since the epoch"),
    ROW(seed, "seed", "SEED", EM_OPT_UINT64, 1, 0,
        "drives every generated id and token"),
    ROW(min_part_size, "minPartSize", "MIN_PART_SIZE", EM_OPT_UINT64, 1, ECRMOCK_DEFAULT_MIN_PART_SIZE,
        "the smallest layer part but the last, bytes"),
    ROW(upload_lifetime_ms, "uploadLifetimeMs", "UPLOAD_LIFETIME_MS", EM_OPT_INT64, 1,
        ECRMOCK_DEFAULT_UPLOAD_LIFETIME_MS,
        "an upload id unused this long is gone, ms"),
    ROW(max_repositories, "maxRepositories", "MAX_REPOSITORIES", EM_OPT_UINT64, 1, 10000,
        "repositories per registry"),
    ROW(max_images, "maxImages", "MAX_IMAGES", EM_OPT_UINT64, 1, 100000,
        "images per repository"),
    ROW(max_layer_parts, "maxLayerParts", "MAX_LAYER_PARTS", EM_OPT_UINT64, 1, 4200,
        "parts per layer upload"),
    ROW(journal_limit, "journalLimit", "JOURNAL_LIMIT", EM_OPT_SIZE, 1, 10000,
        "call journal entries kept"),
    ROW(max_layer_bytes, "maxLayerBytes", "MAX_LAYER_BYTES", EM_OPT_UINT64, 1, (uint64_t)52000 * 1024 * 1024,
        "the largest layer, bytes"),
    ROW(max_layers_per_image, "maxLayersPerImage", "MAX_LAYERS_PER_IMAGE", EM_OPT_UINT64, 1, 127,
        "layers in one image manifest"),
    ROW(max_tags_per_image, "maxTagsPerImage", "MAX_TAGS_PER_IMAGE", EM_OPT_UINT64, 1, 1000,
        "tags on one image"),
    ROW(max_resource_tags, "maxResourceTags", "MAX_RESOURCE_TAGS", EM_OPT_UINT64, 1, 50,
        "resource tags on a repository"),
    ROW(token_length, "tokenLength", "TOKEN_LENGTH", EM_OPT_UINT64, 2, ECRMOCK_DEFAULT_TOKEN_LENGTH,
        "GetAuthorizationToken's token, 512 to 65536 characters"),
    ROW(max_synth_bytes, "maxSynthBytes", "MAX_SYNTH_BYTES", EM_OPT_UINT64, 2, (uint64_t)4 << 30,
        "the layer bytes one fixture load may synthesise"),
    ROW(journal_max_bytes, "journalMaxBytes", "JOURNAL_MAX_BYTES", EM_OPT_SIZE, 3, ECRMOCK_DEFAULT_JOURNAL_MAX_BYTES,
        "the call journal's request and response text, bytes"),
};
#undef ROW
const size_t em_option_count = sizeof em_option_table / sizeof em_option_table[0];

/* The bytes of each version of ecrmock_options: what a caller built against
 * it passes (version 1 ends after max_resource_tags, 2 after max_synth_bytes). */
static const size_t version_size[] = {0, offsetof(ecrmock_options, token_length),
                                      offsetof(ecrmock_options, journal_max_bytes), sizeof(ecrmock_options)};

_Static_assert(sizeof version_size / sizeof version_size[0] == ECRMOCK_OPTIONS_VERSION + 1,
               "a size for every version of ecrmock_options");

/* ---- the fields ---------------------------------------------------------------- */

static uint64_t get_number(const em_option *r, const ecrmock_options *o)
{
    const char *p = (const char *)o + r->offset;
    switch (r->type) {
    case EM_OPT_INT64: { int64_t v; memcpy(&v, p, sizeof v); return (uint64_t)v; }
    case EM_OPT_SIZE: { size_t v; memcpy(&v, p, sizeof v); return (uint64_t)v; }
    case EM_OPT_UINT64: { uint64_t v; memcpy(&v, p, sizeof v); return v; }
    default: return 0;
    }
}

static void set_number(const em_option *r, ecrmock_options *o, uint64_t n)
{
    char *p = (char *)o + r->offset;
    switch (r->type) {
    case EM_OPT_INT64: { int64_t v = (int64_t)n; memcpy(p, &v, sizeof v); break; }
    case EM_OPT_SIZE: { size_t v = (size_t)n; memcpy(p, &v, sizeof v); break; }
    case EM_OPT_UINT64: memcpy(p, &n, sizeof n); break;
    default: break;
    }
}

static const char *get_string(const em_option *r, const ecrmock_options *o)
{
    const char *s;
    memcpy(&s, (const char *)o + r->offset, sizeof s);
    return s;
}

static void set_string(const em_option *r, ecrmock_options *o, const char *s)
{
    memcpy((char *)o + r->offset, &s, sizeof s);
}

const char *em_option_why(const em_option *r, const ecrmock_options *o)
{
    if (r->type == EM_OPT_STRING) {
        const char *s = get_string(r, o);
        if (!s)
            return NULL;
        if (r->offset == offsetof(ecrmock_options, account_id))
            return em_account_id_ok(s) ? NULL : "must be 12 digits, like \"123456789012\"";
        return em_region_name_ok(s) ? NULL : "must be 1 to 63 characters of a-z, 0-9 and '-', like \"us-east-1\"";
    }
    uint64_t n = get_number(r, o);
    if (r->type == EM_OPT_INT64 && (int64_t)n < 0)
        return "must not be negative (0 means the default)";
    if (r->offset == offsetof(ecrmock_options, clock_start_ms) && (int64_t)n > ECRMOCK_CLOCK_MAX_MS)
        return "must be at most ECRMOCK_CLOCK_MAX_MS (253402300799999, 9999-12-31T23:59:59.999Z)";
    if (r->offset == offsetof(ecrmock_options, token_length) && n && (n < 512 || n > 65536))
        return "must be 512 to 65536 characters (0 means ECR's 2368)";
    return NULL;
}

/* Whether JSON gives the field any integer: the signed ones, and the seed
 * (any 64 bits, written as the signed integer of the same bits). */
static bool any_sign(const em_option *r)
{
    return r->type == EM_OPT_INT64 || r->offset == offsetof(ecrmock_options, seed);
}

const em_option *em_option_named(const char *json_name)
{
    for (size_t i = 0; json_name && i < em_option_count; i++)
        if (strcmp(em_option_table[i].json, json_name) == 0)
            return &em_option_table[i];
    return NULL;
}

const char *em_option_kind(const em_option *r)
{
    switch (r->type) {
    case EM_OPT_STRING: return "a string";
    case EM_OPT_INT64: return "an integer";
    default: return "an integer of at least 0 (0: the default)";
    }
}

const char *em_option_set_text(const em_option *r, ecrmock_options *o, const char *text)
{
    if (r->type == EM_OPT_STRING) {
        set_string(r, o, text);
        return NULL;
    }
    const char *digits = text + (r->type == EM_OPT_INT64 && *text == '-');
    if (!*digits || strspn(digits, "0123456789") != strlen(digits))
        return em_option_kind(r);
    errno = 0;
    uint64_t n;
    if (r->type == EM_OPT_INT64) {
        n = (uint64_t)strtoll(text, NULL, 10);
    } else {
        unsigned long long v = strtoull(text, NULL, 10);
        if (r->type == EM_OPT_SIZE && v > SIZE_MAX)
            return em_option_kind(r);
        n = (uint64_t)v;
    }
    if (errno)
        return em_option_kind(r);
    set_number(r, o, n);
    return NULL;
}

int em_options_read(const ecrmock_options *in, ecrmock_options *out)
{
    ecrmock_options d = ECRMOCK_OPTIONS_INIT;
    if (in) {
        if (in->version < 1 || in->version > ECRMOCK_OPTIONS_VERSION)
            return -1;
        memcpy(&d, in, version_size[in->version]);
        d.version = ECRMOCK_OPTIONS_VERSION;
    }
    *out = d;
    return 0;
}

void em_options_defaults(ecrmock_options *o)
{
    for (size_t i = 0; i < em_option_count; i++) {
        const em_option *r = &em_option_table[i];
        if (r->type != EM_OPT_STRING && !get_number(r, o))
            set_number(r, o, r->dflt);
    }
    if (!o->account_id)
        o->account_id = ECRMOCK_DEFAULT_ACCOUNT;
    if (!o->region)
        o->region = ECRMOCK_DEFAULT_REGION;
}

/* ---- the public functions ---------------------------------------------------------- */

int ecrmock_options_check(const ecrmock_options *opts, ecrmock_err *err)
{
    ecrmock_options o;
    if (em_options_read(opts, &o) < 0)
        return em_err_set(err, ECRMOCK_ERR_INVALID_PARAMETER, "",
                    "ecrmock_options.version is %u, not one this library knows (1 to %d): initialise the "
                    "options with ECRMOCK_OPTIONS_INIT",
                    opts->version, ECRMOCK_OPTIONS_VERSION);
    for (size_t i = 0; i < em_option_count; i++) {
        const char *why = em_option_why(&em_option_table[i], &o);
        if (why)
            return em_err_set(err, ECRMOCK_ERR_INVALID_PARAMETER, "", "ecrmock_options.%s %s", em_option_table[i].field,
                        why);
    }
    em_err_clear(err);
    return 0;
}

int ecrmock_options_from_json(const json_t *o, ecrmock_options *opts, ecrmock_err *err)
{
    if (!opts)
        return em_err_set(err, ECRMOCK_ERR_INVALID_PARAMETER, "", "ecrmock_options_from_json: opts must not be NULL");
    if (opts->version < 1 || opts->version > ECRMOCK_OPTIONS_VERSION)
        return ecrmock_options_check(opts, err);
    if (!json_is_object(o))
        return em_err_set(err, ECRMOCK_ERR_INVALID_PARAMETER, "$.options", "must be an object");
    ecrmock_options next = ECRMOCK_OPTIONS_INIT;
    memcpy(&next, opts, version_size[opts->version]);
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)o, key, v) {
        char path[96];
        snprintf(path, sizeof path, "$.options.%.64s", key);
        /* a name with a NUL in it is no option, not the option before the NUL */
        bool nul = strlen(key) != json_object_iter_key_len(json_object_key_to_iter(key));
        if (nul)
            return em_err_set(err, ECRMOCK_ERR_INVALID_PARAMETER, path, "not an option: its name has a NUL (\\u0000)");
        const em_option *r = em_option_named(key);
        if (!r) {
            char names[512] = "";
            size_t at = 0;
            for (size_t i = 0; i < em_option_count && at < sizeof names; i++)
                at += (size_t)snprintf(names + at, sizeof names - at, "%s%s", i ? ", " : "", em_option_table[i].json);
            return em_err_set(err, ECRMOCK_ERR_INVALID_PARAMETER, path, "not an option (%s)", names);
        }
        if (r->version > opts->version)
            return em_err_set(err, ECRMOCK_ERR_INVALID_PARAMETER, path,
                        "ecrmock_options version %u has no %s (initialise the options with ECRMOCK_OPTIONS_INIT)",
                        opts->version, r->field);
        if (r->type == EM_OPT_STRING) {
            if (!json_is_string(v))
                return em_err_set(err, ECRMOCK_ERR_INVALID_PARAMETER, path, "must be a string");
            /* The C string would end at the NUL: "123456789012\u0000..." is not an account. */
            if (strlen(json_string_value(v)) != json_string_length(v))
                return em_err_set(err, ECRMOCK_ERR_INVALID_PARAMETER, path, "must not contain NUL (\\u0000)");
            set_string(r, &next, json_string_value(v));
        } else {
            if (!json_is_integer(v) || (!any_sign(r) && json_integer_value(v) < 0))
                return em_err_set(err, ECRMOCK_ERR_INVALID_PARAMETER, path, "must be %s",
                            any_sign(r) ? "an integer" : em_option_kind(r));
            if (r->type == EM_OPT_SIZE && (uint64_t)json_integer_value(v) > SIZE_MAX)
                return em_err_set(err, ECRMOCK_ERR_INVALID_PARAMETER, path, "must be at most %zu", (size_t)SIZE_MAX);
            set_number(r, &next, (uint64_t)json_integer_value(v));
        }
        const char *why = em_option_why(r, &next);
        if (why)
            return em_err_set(err, ECRMOCK_ERR_INVALID_PARAMETER, path, "%s", why);
    }
    memcpy(opts, &next, version_size[opts->version]);
    em_err_clear(err);
    return 0;
}

json_t *ecrmock_options_json(const ecrmock_options *opts)
{
    ecrmock_options o;
    if (ecrmock_options_check(opts, NULL) < 0 || em_options_read(opts, &o) < 0)
        return NULL;
    em_options_defaults(&o);
    json_t *j = json_object();
    for (size_t i = 0; j && i < em_option_count; i++) {
        const em_option *r = &em_option_table[i];
        json_t *v;
        if (r->type == EM_OPT_STRING) {
            v = json_string(get_string(r, &o));
        } else {
            uint64_t n = get_number(r, &o);
            v = json_integer(!any_sign(r) && n > INT64_MAX ? INT64_MAX : (json_int_t)n);
        }
        if (em_set(j, r->json, v) < 0) {
            json_decref(j);
            j = NULL;
        }
    }
    return j;
}

/* ---- a running instance's options ---------------------------------------------------- */

/* Whether a field is fixed once the instance is made: its registries are
 * built on the account and region, its ids on the seed, ecrmock_reset()'s
 * clock is clock_start_ms and the journal's ring grows to journal_limit. */
static bool fixed(const em_option *r)
{
    size_t f = r->offset;
    return f == offsetof(ecrmock_options, account_id) || f == offsetof(ecrmock_options, region) ||
           f == offsetof(ecrmock_options, clock_start_ms) || f == offsetof(ecrmock_options, seed) ||
           f == offsetof(ecrmock_options, journal_limit);
}

int em_options_merge(ecrmock_options *cur, const ecrmock_options *o, const char *source, ecrmock_err *err)
{
    ecrmock_options raw, d;
    if (ecrmock_options_check(o, err) < 0 || em_options_read(o, &raw) < 0)
        return -1;
    d = raw;
    em_options_defaults(&d);
    for (size_t i = 0; i < em_option_count; i++) {
        const em_option *r = &em_option_table[i];
        if (!fixed(r))
            continue;
        bool text = r->type == EM_OPT_STRING;
        bool given = text ? get_string(r, &raw) != NULL : get_number(r, &raw) != 0;
        bool same = text ? strcmp(get_string(r, &d), get_string(r, cur)) == 0
                         : get_number(r, &d) == get_number(r, cur);
        if (given && !same) {
            char path[96] = "";
            if (source)
                snprintf(path, sizeof path, "%.32s: $.%s", source, r->json);
            return em_err_set(err, ECRMOCK_ERR_INVALID_PARAMETER, path,
                              "%s%s is fixed when the instance is made (as are the account, the region, the clock's "
                              "start, the seed and the journal's limit): make another instance for another",
                              source ? "" : "ecrmock_options.", source ? r->json : r->field);
        }
    }
    /* Field by field: the fixed ones (and their strings) are never written,
     * so that a reader of them needs no lock. */
    for (size_t i = 0; i < em_option_count; i++)
        if (!fixed(&em_option_table[i]))
            set_number(&em_option_table[i], cur, get_number(&em_option_table[i], &d));
    em_err_clear(err);
    return 0;
}


const char *em_options_diff(const ecrmock_options *a, const ecrmock_options *b)
{
    for (size_t i = 0; i < em_option_count; i++) {
        const em_option *r = &em_option_table[i];
        if (r->type == EM_OPT_STRING ? strcmp(get_string(r, a), get_string(r, b)) != 0
                                     : get_number(r, a) != get_number(r, b))
            return r->json;
    }
    return NULL;
}
