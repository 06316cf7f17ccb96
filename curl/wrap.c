/*
 * The interposer for the linker's --wrap: the program's calls to
 * curl_easy_X reach __wrap_curl_easy_X here, and __real_curl_easy_X is
 * libcurl's.  Link with
 *   -Wl,--wrap=curl_easy_init,--wrap=curl_easy_setopt,--wrap=curl_easy_perform,
 *   --wrap=curl_easy_getinfo,--wrap=curl_easy_cleanup,--wrap=curl_easy_reset,
 *   --wrap=curl_easy_duphandle
 */
#include "interpose.h"
#include "ecrmock.h" /* ECRMOCK_API */

CURL *__real_curl_easy_init(void);
CURLcode __real_curl_easy_setopt(CURL *h, CURLoption opt, ...);
CURLcode __real_curl_easy_perform(CURL *h);
CURLcode __real_curl_easy_getinfo(CURL *h, CURLINFO info, ...);
void __real_curl_easy_cleanup(CURL *h);
void __real_curl_easy_reset(CURL *h);
CURL *__real_curl_easy_duphandle(CURL *h);

ECRMOCK_API CURL *__wrap_curl_easy_init(void);
ECRMOCK_API CURLcode __wrap_curl_easy_setopt(CURL *h, CURLoption opt, ...);
ECRMOCK_API CURLcode __wrap_curl_easy_perform(CURL *h);
ECRMOCK_API CURLcode __wrap_curl_easy_getinfo(CURL *h, CURLINFO info, ...);
ECRMOCK_API void __wrap_curl_easy_cleanup(CURL *h);
ECRMOCK_API void __wrap_curl_easy_reset(CURL *h);
ECRMOCK_API CURL *__wrap_curl_easy_duphandle(CURL *h);

static const ecm_real real = {
    __real_curl_easy_init,    __real_curl_easy_setopt, __real_curl_easy_perform,  __real_curl_easy_getinfo,
    __real_curl_easy_cleanup, __real_curl_easy_reset,  __real_curl_easy_duphandle,
};

const ecm_real *ecm_real_functions(void)
{
    return &real;
}

CURL *__wrap_curl_easy_init(void)
{
    return ecm_easy_init();
}

CURLcode __wrap_curl_easy_setopt(CURL *h, CURLoption opt, ...)
{
    va_list ap;
    va_start(ap, opt);
    CURLcode rc = ecm_easy_setopt(h, opt, ap);
    va_end(ap);
    return rc;
}

CURLcode __wrap_curl_easy_perform(CURL *h)
{
    return ecm_easy_perform(h);
}

CURLcode __wrap_curl_easy_getinfo(CURL *h, CURLINFO info, ...)
{
    va_list ap;
    va_start(ap, info);
    CURLcode rc = ecm_easy_getinfo(h, info, ap);
    va_end(ap);
    return rc;
}

void __wrap_curl_easy_cleanup(CURL *h)
{
    ecm_easy_cleanup(h);
}

void __wrap_curl_easy_reset(CURL *h)
{
    ecm_easy_reset(h);
}

CURL *__wrap_curl_easy_duphandle(CURL *h)
{
    return ecm_easy_duphandle(h);
}
