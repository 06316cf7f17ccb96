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

static const em_curl_real real = {
    __real_curl_easy_init,    __real_curl_easy_setopt, __real_curl_easy_perform,  __real_curl_easy_getinfo,
    __real_curl_easy_cleanup, __real_curl_easy_reset,  __real_curl_easy_duphandle,
};

const em_curl_real *em_curl_real_functions(void)
{
    return &real;
}

ECM_ENTRY_POINTS(__wrap_)

/* Only used when the program links with -Wl,--wrap=nanosleep,--wrap=usleep,
 * --wrap=sleep (virtual sleeping); no __real_ sleep is needed. */
ECRMOCK_API int __wrap_nanosleep(const struct timespec *req, struct timespec *rem);
ECRMOCK_API int __wrap_usleep(useconds_t usec);
ECRMOCK_API unsigned int __wrap_sleep(unsigned int seconds);

ECM_SLEEP_ENTRY_POINTS(__wrap_)
