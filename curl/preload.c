/*
 * The interposer for LD_PRELOAD: this shared object defines curl_easy_X
 * itself and finds libcurl's with dlsym(RTLD_NEXT).  It holds ecrmock, and
 * at load time makes an instance from the environment and attaches it (see
 * include/ecrmock_curl.h: ECRMOCK_CURL_FIXTURE, ECRMOCK_CURL_CREDENTIALS,
 * ECRMOCK_CURL_SNAPSHOT, ECRMOCK_CURL_JOURNAL, ECRMOCK_CURL_STRICT and the
 * options, ECRMOCK_CURL_<OPTION>); at exit it writes what was asked for and
 * frees the instance.
 */
#define _GNU_SOURCE /* RTLD_NEXT */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ecrmock_curl.h"
#include "interpose.h"

ECRMOCK_API CURL *curl_easy_init(void);
ECRMOCK_API CURLcode curl_easy_setopt(CURL *h, CURLoption opt, ...);
ECRMOCK_API CURLcode curl_easy_perform(CURL *h);
ECRMOCK_API CURLcode curl_easy_getinfo(CURL *h, CURLINFO info, ...);
ECRMOCK_API void curl_easy_cleanup(CURL *h);
ECRMOCK_API void curl_easy_reset(CURL *h);
ECRMOCK_API CURL *curl_easy_duphandle(CURL *h);

static em_curl_real real;
static pthread_once_t once = PTHREAD_ONCE_INIT;

/* dlsym's void * to a function pointer, the way POSIX allows. */
#define FIND(field, name)                                                                                        \
    do {                                                                                                       \
        void *p = dlsym(RTLD_NEXT, name);                                                                      \
        if (!p) {                                                                                              \
            fprintf(stderr, "ecrmock_curl_preload: %s not found (is the program linked with libcurl?)\n", name); \
            abort();                                                                                           \
        }                                                                                                      \
        memcpy(&real.field, &p, sizeof p);                                                                     \
    } while (0)

static void resolve(void)
{
    FIND(init, "curl_easy_init");
    FIND(setopt, "curl_easy_setopt");
    FIND(perform, "curl_easy_perform");
    FIND(getinfo, "curl_easy_getinfo");
    FIND(cleanup, "curl_easy_cleanup");
    FIND(reset, "curl_easy_reset");
    FIND(duphandle, "curl_easy_duphandle");
}

const em_curl_real *em_curl_real_functions(void)
{
    pthread_once(&once, resolve);
    return &real;
}

ECM_ENTRY_POINTS()

/* The process's sleeps: virtual while ECRMOCK_CURL_VIRTUAL_SLEEP=1. */
ECRMOCK_API int nanosleep(const struct timespec *req, struct timespec *rem);
ECRMOCK_API int usleep(useconds_t usec);
ECRMOCK_API unsigned int sleep(unsigned int seconds);

ECM_SLEEP_ENTRY_POINTS()

/* ---- the instance of the preloaded process ------------------------------------------- */

static ecrmock *instance;

static void dief(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* The reason on stderr, and the process stops (exit status 70). */
static void dief(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "ecrmock_curl_preload: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(70);
}

static void die(const char *what, const char *why)
{
    dief("%s: %s", what, why ? why : "out of memory");
}

/*
 * The options of the instance, one row per ecrmock_options field: from the
 * environment (ECRMOCK_CURL_<NAME>), or from the fixture's "options" member
 * (the scenario format's names); the environment wins.
 */
enum opt_kind { O_STRING, O_INT64, O_UINT64, O_SIZE };
#define ROW(field, env, json, kind) {env, json, #field, kind, offsetof(ecrmock_options, field)}
static const struct option_row {
    const char *env, *json, *field; /* field: its name in ecrmock_options */
    enum opt_kind kind;
    size_t offset;
} option_rows[] = {
    ROW(account_id, "ECRMOCK_CURL_ACCOUNT", "accountId", O_STRING),
    ROW(region, "ECRMOCK_CURL_REGION", "region", O_STRING),
    ROW(clock_start_ms, "ECRMOCK_CURL_CLOCK_START_MS", "clockStartMs", O_INT64),
    ROW(seed, "ECRMOCK_CURL_SEED", "seed", O_UINT64),
    ROW(min_part_size, "ECRMOCK_CURL_MIN_PART_SIZE", "minPartSize", O_UINT64),
    ROW(upload_lifetime_ms, "ECRMOCK_CURL_UPLOAD_LIFETIME_MS", "uploadLifetimeMs", O_INT64),
    ROW(max_repositories, "ECRMOCK_CURL_MAX_REPOSITORIES", "maxRepositories", O_UINT64),
    ROW(max_images, "ECRMOCK_CURL_MAX_IMAGES", "maxImages", O_UINT64),
    ROW(max_layer_parts, "ECRMOCK_CURL_MAX_LAYER_PARTS", "maxLayerParts", O_UINT64),
    ROW(journal_limit, "ECRMOCK_CURL_JOURNAL_LIMIT", "journalLimit", O_SIZE),
    ROW(max_layer_bytes, "ECRMOCK_CURL_MAX_LAYER_BYTES", "maxLayerBytes", O_UINT64),
    ROW(max_layers_per_image, "ECRMOCK_CURL_MAX_LAYERS_PER_IMAGE", "maxLayersPerImage", O_UINT64),
    ROW(max_tags_per_image, "ECRMOCK_CURL_MAX_TAGS_PER_IMAGE", "maxTagsPerImage", O_UINT64),
    ROW(max_resource_tags, "ECRMOCK_CURL_MAX_RESOURCE_TAGS", "maxResourceTags", O_UINT64),
    ROW(token_length, "ECRMOCK_CURL_TOKEN_LENGTH", "tokenLength", O_UINT64),
    ROW(max_synth_bytes, "ECRMOCK_CURL_MAX_SYNTH_BYTES", "maxSynthBytes", O_UINT64),
};
#define N_OPTION_ROWS (sizeof option_rows / sizeof option_rows[0])

/* The decimal integer `text` (all of it) in the range of the row's kind;
 * false when it is not one. */
static bool parse_integer(const char *text, enum opt_kind kind, uint64_t *out)
{
    const char *digits = text + (kind == O_INT64 && *text == '-');
    if (!*digits || strspn(digits, "0123456789") != strlen(digits))
        return false;
    errno = 0;
    if (kind == O_INT64) {
        long long v = strtoll(text, NULL, 10);
        *out = (uint64_t)v;
    } else {
        unsigned long long v = strtoull(text, NULL, 10);
        if (kind == O_SIZE && v > SIZE_MAX)
            return false;
        *out = (uint64_t)v;
    }
    return errno == 0;
}

/* Where each option was set: an environment variable, or the fixture's member. */
typedef char option_origin[N_OPTION_ROWS][128];

static void option_store(ecrmock_options *o, const struct option_row *r, const char *string, uint64_t n)
{
    char *field = (char *)o + r->offset;
    switch (r->kind) {
    case O_STRING: memcpy(field, &string, sizeof string); break;
    case O_INT64: { int64_t v = (int64_t)n; memcpy(field, &v, sizeof v); break; }
    case O_UINT64: memcpy(field, &n, sizeof n); break;
    case O_SIZE: { size_t v = (size_t)n; memcpy(field, &v, sizeof v); break; }
    }
}

static const char *kind_range(enum opt_kind kind)
{
    return kind == O_INT64 ? "an integer" : "an integer of at least 0 (0: the default)";
}

/* The fixture's "options" member into *o (strings borrowed from it). */
static void options_from_fixture(ecrmock_options *o, option_origin from, json_t *options, const char *path)
{
    if (!json_is_object(options))
        dief("%s: $.options: must be an object", path);
    const char *key;
    json_t *v;
    json_object_foreach(options, key, v) {
        const struct option_row *r = NULL;
        for (size_t i = 0; i < N_OPTION_ROWS && !r; i++)
            if (strcmp(option_rows[i].json, key) == 0)
                r = &option_rows[i];
        if (!r)
            dief("%s: $.options.%s: not an option (accountId, region, clockStartMs, seed, minPartSize, "
                "uploadLifetimeMs, maxRepositories, maxImages, maxLayerParts, journalLimit, maxLayerBytes, "
                "maxLayersPerImage, maxTagsPerImage, maxResourceTags, tokenLength, maxSynthBytes)",
                path, key);
        if (r->kind == O_STRING) {
            if (!json_is_string(v))
                dief("%s: $.options.%s: must be a string", path, key);
            option_store(o, r, json_string_value(v), 0);
            snprintf(from[r - option_rows], sizeof from[0], "%s: $.options.%s", path, key);
        } else {
            /* As a scenario's options: a seed may be negative (its 64 bits). */
            bool any_sign = r->kind == O_INT64 || strcmp(r->json, "seed") == 0;
            if (!json_is_integer(v) || (!any_sign && json_integer_value(v) < 0))
                dief("%s: $.options.%s: must be %s", path, key, any_sign ? "an integer" : kind_range(r->kind));
            option_store(o, r, NULL, (uint64_t)json_integer_value(v));
            snprintf(from[r - option_rows], sizeof from[0], "%s: $.options.%s", path, key);
        }
    }
}

/* The environment's options into *o. */
static void options_from_environment(ecrmock_options *o, option_origin from)
{
    for (size_t i = 0; i < N_OPTION_ROWS; i++) {
        const struct option_row *r = &option_rows[i];
        const char *text = getenv(r->env);
        uint64_t n = 0;
        if (!text || !*text)
            continue;
        if (r->kind != O_STRING && !parse_integer(text, r->kind, &n))
            dief("%s=%s: must be %s", r->env, text, kind_range(r->kind));
        option_store(o, r, text, n);
        snprintf(from[i], sizeof from[0], "%s=%.64s", r->env, text);
    }
}

/* The fixture file as JSON (a new reference). */
static json_t *fixture_read(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        dief("%s: cannot be read: %s", path, strerror(errno));
    json_error_t jerr;
    json_t *fx = json_loadf(f, 0, &jerr);
    fclose(f);
    if (!fx)
        dief("%s: line %d, column %d: not valid JSON: %s", path, jerr.line, jerr.column, jerr.text);
    return fx;
}

__attribute__((constructor)) static void preload_start(void)
{
    ecrmock_options opts = ECRMOCK_OPTIONS_INIT;
    option_origin from = {{0}};
    const char *fixture = getenv("ECRMOCK_CURL_FIXTURE");
    json_t *fx = fixture && *fixture ? fixture_read(fixture) : NULL;
    json_t *fx_options = json_object_get(fx, "options");
    if (fx_options)
        options_from_fixture(&opts, from, fx_options, fixture);
    options_from_environment(&opts, from);
    const char *why = ecrmock_options_check(&opts);
    for (size_t i = 0; why && i < N_OPTION_ROWS; i++) {
        char field[64];
        snprintf(field, sizeof field, "ecrmock_options.%s ", option_rows[i].field);
        if (strstr(why, field) && from[i][0])
            dief("%s: %s", from[i], why);
    }
    if (why)
        die("the options", why);
    if (!(instance = ecrmock_new(&opts)))
        die("ecrmock_new", NULL);
    if (fx) {
        ecrmock_err err;
        json_object_del(fx, "options"); /* the instance's, not its state's */
        if (ecrmock_fixture_load(instance, fx, fixture, &err) != 0)
            dief("%s%s%s", err.path, err.path[0] ? ": " : "", err.text);
        json_decref(fx);
    }
    const char *cred = getenv("ECRMOCK_CURL_CREDENTIALS");
    if (cred && *cred) {
        const char *colon = strchr(cred, ':');
        if (!colon)
            die("ECRMOCK_CURL_CREDENTIALS", "must be ACCESS_KEY_ID:SECRET");
        char akid[256];
        snprintf(akid, sizeof akid, "%.*s", (int)(colon - cred), cred);
        if (ecrmock_http_credentials_set(instance, akid, colon + 1, NULL) != 0)
            die("ECRMOCK_CURL_CREDENTIALS", NULL);
    }
    const char *token = getenv("ECRMOCK_CURL_SESSION_TOKEN"); /* temporary credentials' token */
    if (token && *token && ecrmock_http_session_token_set(instance, token, NULL) != 0)
        die("ECRMOCK_CURL_SESSION_TOKEN", NULL);
    const char *strict = getenv("ECRMOCK_CURL_STRICT");
    if (strict && *strict && strcmp(strict, "0") != 0)
        ecrmock_curl_strict_set(1);
    const char *virtual_sleep = getenv("ECRMOCK_CURL_VIRTUAL_SLEEP");
    if (virtual_sleep && *virtual_sleep && strcmp(virtual_sleep, "0") != 0)
        ecrmock_curl_virtual_sleep_set(1);
    ecrmock_curl_attach(instance);
}

static void write_json(const char *var, json_t *doc)
{
    const char *path = getenv(var);
    if (path && *path && (!doc || json_dump_file(doc, path, JSON_INDENT(2) | JSON_SORT_KEYS) != 0))
        fprintf(stderr, "ecrmock_curl_preload: %s: cannot write %s\n", var, path);
    json_decref(doc);
}

__attribute__((destructor)) static void preload_end(void)
{
    if (!instance)
        return;
    if (getenv("ECRMOCK_CURL_SNAPSHOT"))
        write_json("ECRMOCK_CURL_SNAPSHOT", ecrmock_snapshot(instance, NULL));
    if (getenv("ECRMOCK_CURL_JOURNAL"))
        write_json("ECRMOCK_CURL_JOURNAL", ecrmock_journal_json(instance, NULL));
    if (ecrmock_curl_attached() == instance)
        ecrmock_curl_detach();
    ecrmock_free(instance);
    instance = NULL;
}
