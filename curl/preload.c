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
#include "core/core.h" /* the options table: this object holds the core */

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
 * The options of the instance, by the options table (src/core/options.c):
 * from the environment (ECRMOCK_CURL_<its suffix>), or from the fixture's
 * "options" member (the scenario format's names); the environment wins.
 * Each is checked where it is read, so that the message names its source.
 */

/* The fixture's "options" member into *o (strings borrowed from it). */
static void options_from_fixture(ecrmock_options *o, json_t *options, const char *path)
{
    ecrmock_err e;
    if (ecrmock_options_from_json(options, o, &e) < 0)
        dief("%s: %s: %s", path, e.path, e.text);
}

/* The environment's options into *o. */
static void options_from_environment(ecrmock_options *o)
{
    for (size_t i = 0; i < em_option_count; i++) {
        const em_option *r = &em_option_table[i];
        char name[64];
        snprintf(name, sizeof name, "ECRMOCK_CURL_%s", r->env);
        const char *text = getenv(name);
        if (!text || !*text)
            continue;
        const char *kind = em_option_set_text(r, o, text);
        if (kind)
            dief("%s=%s: must be %s", name, text, kind);
        const char *why = em_option_why(r, o);
        if (why)
            dief("%s=%s: %s", name, text, why);
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
    const char *fixture = getenv("ECRMOCK_CURL_FIXTURE");
    json_t *fx = fixture && *fixture ? fixture_read(fixture) : NULL;
    json_t *fx_options = json_object_get(fx, "options");
    if (fx_options)
        options_from_fixture(&opts, fx_options, fixture);
    options_from_environment(&opts);
    ecrmock_err why;
    if (ecrmock_options_check(&opts, &why) < 0)
        die("the options", why.text);
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
        char akid[256];
        /* Neither part empty, and the key id whole (not cut to fit akid). */
        if (!colon || colon == cred || !colon[1] || (size_t)(colon - cred) >= sizeof akid)
            die("ECRMOCK_CURL_CREDENTIALS", "must be ACCESS_KEY_ID:SECRET");
        snprintf(akid, sizeof akid, "%.*s", (int)(colon - cred), cred);
        ecrmock_err err;
        if (ecrmock_http_credentials_set(instance, akid, colon + 1, &err) != 0)
            die("ECRMOCK_CURL_CREDENTIALS", err.text);
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
