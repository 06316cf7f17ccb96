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

/* The real libcurl functions. */
typedef struct ecm_real {
    CURL *(*init)(void);
    CURLcode (*setopt)(CURL *, CURLoption, ...);
    CURLcode (*perform)(CURL *);
    CURLcode (*getinfo)(CURL *, CURLINFO, ...);
    void (*cleanup)(CURL *);
    void (*reset)(CURL *);
    CURL *(*duphandle)(CURL *);
} ecm_real;

/* Provided by the mode: the real functions (never NULL members). */
const ecm_real *ecm_real_functions(void);

/* The interposed functions, which the mode's entry points call. */
CURL *ecm_easy_init(void);
CURLcode ecm_easy_setopt(CURL *h, CURLoption opt, va_list ap);
CURLcode ecm_easy_perform(CURL *h);
CURLcode ecm_easy_getinfo(CURL *h, CURLINFO info, va_list ap);
void ecm_easy_cleanup(CURL *h);
void ecm_easy_reset(CURL *h);
CURL *ecm_easy_duphandle(CURL *h);

#endif
