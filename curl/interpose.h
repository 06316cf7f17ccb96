/*
 * The libcurl interposer's core (interpose.c) and what each mode provides:
 * wrap.c (the linker's --wrap: __real_curl_easy_*) and preload.c
 * (LD_PRELOAD: dlsym(RTLD_NEXT)).
 */
#ifndef ECRMOCK_CURL_INTERPOSE_H
#define ECRMOCK_CURL_INTERPOSE_H

#define CURL_DISABLE_TYPECHECK
#define CURL_DISABLE_DEPRECATION /* the interposer handles the old names too */
#include <curl/curl.h>
#include <stdarg.h>
#include <time.h>
#include <unistd.h> /* useconds_t */

/* The real libcurl functions. */
typedef struct em_curl_real {
    CURL *(*init)(void);
    CURLcode (*setopt)(CURL *, CURLoption, ...);
    CURLcode (*perform)(CURL *);
    CURLcode (*getinfo)(CURL *, CURLINFO, ...);
    void (*cleanup)(CURL *);
    void (*reset)(CURL *);
    CURL *(*duphandle)(CURL *);
} em_curl_real;

/* Provided by the mode: the real functions (never NULL members). */
const em_curl_real *em_curl_real_functions(void);

/* The interposed functions, which the mode's entry points call. */
CURL *em_curl_easy_init(void);
CURLcode em_curl_easy_setopt(CURL *h, CURLoption opt, va_list ap);
CURLcode em_curl_easy_perform(CURL *h);
CURLcode em_curl_easy_getinfo(CURL *h, CURLINFO info, va_list ap);
void em_curl_easy_cleanup(CURL *h);
void em_curl_easy_reset(CURL *h);
CURL *em_curl_easy_duphandle(CURL *h);


/*
 * The seven entry points, each handing its call to the interposer: the
 * --wrap build defines them as __wrap_curl_easy_X (ECM_ENTRY_POINTS(__wrap_)),
 * the LD_PRELOAD build as curl_easy_X itself (ECM_ENTRY_POINTS()).
 */
#define ECM_ENTRY_POINTS(P)                                                    \
    CURL *P##curl_easy_init(void)                                              \
    {                                                                          \
        return em_curl_easy_init();                                                \
    }                                                                          \
    CURLcode P##curl_easy_setopt(CURL *h, CURLoption opt, ...)                 \
    {                                                                          \
        va_list ap;                                                            \
        va_start(ap, opt);                                                     \
        CURLcode rc = em_curl_easy_setopt(h, opt, ap);                             \
        va_end(ap);                                                            \
        return rc;                                                             \
    }                                                                          \
    CURLcode P##curl_easy_perform(CURL *h)                                     \
    {                                                                          \
        return em_curl_easy_perform(h);                                            \
    }                                                                          \
    CURLcode P##curl_easy_getinfo(CURL *h, CURLINFO info, ...)                 \
    {                                                                          \
        va_list ap;                                                            \
        va_start(ap, info);                                                    \
        CURLcode rc = em_curl_easy_getinfo(h, info, ap);                           \
        va_end(ap);                                                            \
        return rc;                                                             \
    }                                                                          \
    void P##curl_easy_cleanup(CURL *h)                                         \
    {                                                                          \
        em_curl_easy_cleanup(h);                                                   \
    }                                                                          \
    void P##curl_easy_reset(CURL *h)                                           \
    {                                                                          \
        em_curl_easy_reset(h);                                                     \
    }                                                                          \
    CURL *P##curl_easy_duphandle(CURL *h)                                      \
    {                                                                          \
        return em_curl_easy_duphandle(h);                                          \
    }


/*
 * Virtual sleeping (ecrmock_curl_virtual_sleep_set): a sleep of `req`
 * advances the attached instance's clock and returns 0 at once while it is
 * on and an instance is attached; otherwise it sleeps for real, as
 * nanosleep() does (CLOCK_MONOTONIC; -1 and errno on EINTR or EINVAL).
 */
int em_curl_sleep(const struct timespec *req, struct timespec *rem);

/*
 * The sleep entry points, for the --wrap build (ECM_SLEEP_ENTRY_POINTS(__wrap_):
 * the program links with -Wl,--wrap=nanosleep,--wrap=usleep,--wrap=sleep)
 * and the LD_PRELOAD build (ECM_SLEEP_ENTRY_POINTS(): the process's own).
 */
#define ECM_SLEEP_ENTRY_POINTS(P)                                              \
    int P##nanosleep(const struct timespec *req, struct timespec *rem)         \
    {                                                                          \
        return em_curl_sleep(req, rem);                                            \
    }                                                                          \
    int P##usleep(useconds_t usec)                                             \
    {                                                                          \
        struct timespec t = {(time_t)(usec / 1000000), (long)(usec % 1000000) * 1000}; \
        return em_curl_sleep(&t, NULL);                                            \
    }                                                                          \
    unsigned int P##sleep(unsigned int seconds)                                \
    {                                                                          \
        struct timespec t = {(time_t)seconds, 0}, rem = {0, 0};                \
        if (em_curl_sleep(&t, &rem) == 0)                                          \
            return 0;                                                          \
        return (unsigned int)rem.tv_sec + (rem.tv_nsec > 0);                   \
    }

#endif
