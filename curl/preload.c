/*
 * The interposer for LD_PRELOAD: this shared object defines curl_easy_X
 * itself and finds libcurl's with dlsym(RTLD_NEXT).  It holds ecrmock, and
 * at load time makes an instance from the environment and attaches it (see
 * include/ecrmock_curl.h: ECRMOCK_CURL_FIXTURE, ECRMOCK_CURL_CREDENTIALS,
 * ECRMOCK_CURL_SNAPSHOT, ECRMOCK_CURL_JOURNAL); at exit it writes what was
 * asked for and frees the instance.
 */
#define _GNU_SOURCE /* RTLD_NEXT */
#include <dlfcn.h>
#include <pthread.h>
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

static ecm_real real;
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

const ecm_real *ecm_real_functions(void)
{
    pthread_once(&once, resolve);
    return &real;
}

ECM_ENTRY_POINTS()

/* ---- the instance of the preloaded process ------------------------------------------- */

static ecrmock *instance;

static void die(const char *what, const char *why)
{
    fprintf(stderr, "ecrmock_curl_preload: %s: %s\n", what, why ? why : "out of memory");
    exit(70);
}

__attribute__((constructor)) static void preload_start(void)
{
    if (!(instance = ecrmock_new(NULL)))
        die("ecrmock_new", NULL);
    const char *fixture = getenv("ECRMOCK_CURL_FIXTURE");
    if (fixture && *fixture) {
        char *err = NULL;
        if (ecrmock_fixture_load_file(instance, fixture, &err) != 0)
            die(fixture, err);
    }
    const char *cred = getenv("ECRMOCK_CURL_CREDENTIALS");
    if (cred && *cred) {
        const char *colon = strchr(cred, ':');
        if (!colon)
            die("ECRMOCK_CURL_CREDENTIALS", "must be ACCESS_KEY_ID:SECRET");
        char akid[256];
        snprintf(akid, sizeof akid, "%.*s", (int)(colon - cred), cred);
        if (ecrmock_http_credentials_set(instance, akid, colon + 1) != 0)
            die("ECRMOCK_CURL_CREDENTIALS", NULL);
    }
    const char *strict = getenv("ECRMOCK_CURL_STRICT");
    if (strict && *strict && strcmp(strict, "0") != 0)
        ecrmock_curl_strict_set(1);
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
        write_json("ECRMOCK_CURL_SNAPSHOT", ecrmock_snapshot(instance));
    if (getenv("ECRMOCK_CURL_JOURNAL"))
        write_json("ECRMOCK_CURL_JOURNAL", ecrmock_journal_json(instance));
    if (ecrmock_curl_attached() == instance)
        ecrmock_curl_detach();
    ecrmock_free(instance);
    instance = NULL;
}
