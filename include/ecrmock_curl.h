/*
 * ecrmock_curl: the libcurl level.  Code that calls libcurl's easy interface
 * with a hard-coded ECR endpoint is tested unchanged: libcurl itself is
 * intercepted, and requests to ECR (and to the layer download URLs ECR hands
 * out) are answered by an ecrmock instance's ecrmock_http_handle().  Every
 * other request goes to the real libcurl, on the same handle.
 *
 * Two ways to put the interposer between the code and libcurl:
 *
 *  - Static, with the linker's --wrap (build/libecrmock_curl.a): link the
 *    test program with
 *      -Wl,--wrap=curl_easy_init,--wrap=curl_easy_setopt,--wrap=curl_easy_perform
 *      -Wl,--wrap=curl_easy_getinfo,--wrap=curl_easy_cleanup,--wrap=curl_easy_reset
 *      -Wl,--wrap=curl_easy_duphandle
 *    then build/libecrmock_curl.a build/libecrmock.a -lcurl and ecrmock's
 *    libraries; or, all of it (the sleeps' --wrap too), with
 *    $(pkg-config --cflags --libs ecrmock-curl).  Only the calls made from the objects of that link are
 *    intercepted (the --wrap rule), not those from inside shared libraries.
 *  - LD_PRELOAD of build/libecrmock_curl_preload.so (which holds ecrmock
 *    itself): the program is linked normally against libcurl; the real
 *    functions are found with dlsym(RTLD_NEXT).  At load time the library
 *    makes an instance and attaches it, configured by the environment:
 *      ECRMOCK_CURL_FIXTURE      a fixture file to load (registries, clock,
 *                                fault rules: see fixtures/README.md)
 *      ECRMOCK_CURL_CREDENTIALS  "ACCESS_KEY_ID:SECRET" turns SigV4 checks on
 *      ECRMOCK_CURL_SESSION_TOKEN  with them, the X-Amz-Security-Token of
 *                                temporary credentials (ecrmock_http_session_token_set)
 *      ECRMOCK_CURL_SNAPSHOT     at exit, the instance's state is written
 *                                there (ecrmock_snapshot(), JSON)
 *      ECRMOCK_CURL_JOURNAL      at exit, the call journal is written there
 *                                (a JSON array of ecrmock_journal entries)
 *      ECRMOCK_CURL_STRICT       "1": strict mode (ecrmock_curl_strict_set)
 *      ECRMOCK_CURL_VIRTUAL_SLEEP "1": sleeps advance the virtual clock
 *                                (ecrmock_curl_virtual_sleep_set)
 *      ECRMOCK_CURL_<OPTION>     each ecrmock_options field: ACCOUNT,
 *                                REGION, CLOCK_START_MS, SEED,
 *                                MIN_PART_SIZE, UPLOAD_LIFETIME_MS,
 *                                MAX_REPOSITORIES, MAX_IMAGES,
 *                                MAX_LAYER_PARTS, JOURNAL_LIMIT,
 *                                MAX_LAYER_BYTES, MAX_LAYERS_PER_IMAGE,
 *                                MAX_TAGS_PER_IMAGE, MAX_RESOURCE_TAGS,
 *                                TOKEN_LENGTH, MAX_SYNTH_BYTES,
 *                                JOURNAL_MAX_BYTES
 *                                (decimal integers; 0 or unset: the default)
 *    The fixture may also carry the options as an "options" member, with
 *    the scenario format's names (accountId, region, clockStartMs, seed,
 *    minPartSize, uploadLifetimeMs, maxRepositories, maxImages,
 *    maxLayerParts, journalLimit, maxLayerBytes, maxLayersPerImage,
 *    maxTagsPerImage, maxResourceTags, tokenLength, maxSynthBytes,
 *    journalMaxBytes); an environment variable wins over
 *    it.  A fixture that fails to load, or an option that is not valid,
 *    stops the process at load time (exit 70), with one line on stderr
 *    naming the variable, or the fixture and the JSON path.  A program that calls ecrmock_curl_attach()
 *    itself replaces that instance.
 *
 * What is intercepted and how (a request is intercepted when an instance is
 * attached and its URL's host, in any case and with or without the root's
 * trailing dot, is one of the ECR API hosts the AWS SDKs use,
 * api.ecr.<region>.amazonaws.com, ecr.<region>.amazonaws.com,
 * ecr-fips.<region>.amazonaws.com, api.ecr-fips.<region>.amazonaws.com
 * (and .amazonaws.com.cn), dual-stack ecr.<region>.api.aws and
 * ecr-fips.<region>.api.aws (ecr.<region>.api.amazonwebservices.com.cn in
 * China), or the S3 layer bucket host
 * prod-<region>-starport-layer-bucket.s3.<region>.amazonaws.com, or a
 * registry host <account>.dkr.ecr.<region>.amazonaws.com (the registry
 * plane, /v2/: see README, "The registry plane"); an API
 * request acts in the region its host names, as ecrmock_call_as() does,
 * and is signed for that region; a URL without a scheme is http://, as
 * libcurl guesses it, and the request target is the URL as libcurl would
 * send it):
 *   options   CURLOPT_URL, HTTPHEADER (including "Name:" that removes a
 *             header libcurl would add and "Name;" for an empty one), POST,
 *             POSTFIELDS, POSTFIELDSIZE(_LARGE), COPYPOSTFIELDS, HTTPGET,
 *             READFUNCTION/READDATA, UPLOAD, PUT, INFILESIZE(_LARGE),
 *             CUSTOMREQUEST, NOBODY, RANGE, USERAGENT, WRITEFUNCTION/WRITEDATA,
 *             HEADERFUNCTION/HEADERDATA, HEADER, FAILONERROR, ERRORBUFFER,
 *             VERBOSE (one line per intercepted request on stderr or
 *             CURLOPT_STDERR), REFERER, CURLU (its URL over CURLOPT_URL,
 *             as in libcurl), PRIVATE, FOLLOWLOCATION, MAXREDIRS,
 *             UNRESTRICTED_AUTH, POSTREDIR (redirects, below), USERPWD,
 *             USERNAME, PASSWORD, HTTPAUTH (HTTP Basic, the registry's
 *             scheme: "Authorization: Basic base64(user:password)" up front
 *             with libcurl's default CURLAUTH_BASIC, after a 401 whose
 *             WWW-Authenticate offers Basic when the mask allows more,
 *             never when it leaves Basic out; a program's own
 *             Authorization line wins).  Refused (an intercepted
 *             perform fails with CURLE_UNKNOWN_OPTION and "ecrmock_curl:
 *             CURLOPT_<NAME> is not supported on requests to ECR" in the
 *             error buffer) while set to anything but their default (NULL,
 *             0): the options that change what libcurl sends in a way the
 *             fake does not reproduce, AWS_SIGV4, XOAUTH2_BEARER, NETRC, COOKIE, COOKIEFILE,
 *             COOKIELIST, HTTPPOST, MIMEPOST, RESUME_FROM(_LARGE),
 *             TIMECONDITION, REQUEST_TARGET, PORT, CRLF,
 *             TRAILERFUNCTION, HAPROXYPROTOCOL, CONNECT_ONLY; the option is
 *             still handed to the real libcurl when set, curl_easy_setopt
 *             returns libcurl's own answer, and a pass-through perform is
 *             not affected.  Every other option libcurl knows is accepted
 *             and changes nothing: timeouts, TLS and proxy TLS, proxy, DNS,
 *             keep-alive, HTTP_VERSION, ACCEPT_ENCODING (the fake
 *             sends identity), other protocols' options, and callbacks the
 *             fake never calls (progress, debug, socket, SSL context,
 *             prereq, resolver start, seek, ...).
 *   perform   libcurl's defaults are applied as libcurl does: Host (from the
 *             URL), Accept: * / *, Content-Type
 *             application/x-www-form-urlencoded for POSTFIELDS, Content-Length.
 *             The response comes back as "HTTP/1.1 <status> <reason>" and
 *             its header lines (each one HEADERFUNCTION call, then the empty
 *             line), then the body in WRITEFUNCTION calls of at most
 *             CURL_MAX_WRITE_SIZE bytes.  A write or header callback that
 *             returns less than it was given ends the transfer with
 *             CURLE_WRITE_ERROR; a read callback returning
 *             CURL_READFUNC_ABORT gives CURLE_ABORTED_BY_CALLBACK.  Pausing
 *             (CURL_WRITEFUNC_PAUSE, CURL_READFUNC_PAUSE) is not supported:
 *             CURLE_WRITE_ERROR / CURLE_READ_ERROR.  A header line the
 *             program sets twice (two Accept lines) is sent twice.
 *   redirects a 301, 302, 303, 307 or 308 with a Location is followed when
 *             CURLOPT_FOLLOWLOCATION is set, with libcurl's rules: the
 *             header lines of each answer go to the header callback, the
 *             body of the last one only; the method is kept on 307/308,
 *             GET after a 303 (HEAD stays HEAD) or a POST's 301/302
 *             (unless POSTREDIR keeps the POST); the
 *             program's Authorization and Cookie lines and USERPWD's
 *             credentials are not sent to another host than the first (unless UNRESTRICTED_AUTH: S3
 *             then refuses ECR's blob redirect with 400 InvalidArgument, as
 *             it does); MAXREDIRS (libcurl's default) gives
 *             CURLE_TOO_MANY_REDIRECTS "Maximum (<n>) redirects followed".
 *             A redirect to a host that is not ECR's is not followed:
 *             CURLE_UNSUPPORTED_PROTOCOL and "ecrmock_curl: a redirect to
 *             <url>, which is not an ECR host, is not followed".  Without
 *             FOLLOWLOCATION the 3xx is the answer and CURLINFO_REDIRECT_URL
 *             where it leads.
 *   faults    fault rules with the transport effects give
 *             CURLE_COULDNT_CONNECT ("connect-refused"),
 *             CURLE_OPERATION_TIMEDOUT ("timeout") and CURLE_RECV_ERROR
 *             ("recv-error") with no response (response code 0), and
 *             libcurl's error text in CURLOPT_ERRORBUFFER.
 *   getinfo   after an intercepted perform: CURLINFO_RESPONSE_CODE,
 *             EFFECTIVE_URL, CONTENT_TYPE, SIZE_DOWNLOAD(_T),
 *             SIZE_UPLOAD(_T), CONTENT_LENGTH_DOWNLOAD(_T), HEADER_SIZE,
 *             REQUEST_SIZE, REDIRECT_COUNT, REDIRECT_URL, TOTAL_TIME(_T)
 *             and the other times (0); PRIVATE
 *             and anything else are the real libcurl's answer.
 * Not intercepted: the multi and share interfaces (curl_multi_perform goes
 * to the network), curl_easy_send/recv, curl_easy_pause, redirects to
 * other hosts (above), cookies and HTTP authentication other than Basic
 * (refused, above).
 * curl_slist_* and curl_global_*
 * are libcurl's own, never wrapped.
 *
 * Global state: libcurl's API carries no context, so the attached instance,
 * the strict and virtual-sleep switches and the per-handle table (options
 * as set, results for curl_easy_getinfo, keyed by the CURL pointer) are
 * process-wide, guarded by one mutex.  This
 * is the one place in ecrmock with global state.  The mutex is never held
 * while a callback of the program runs.
 */
#ifndef ECRMOCK_CURL_H
#define ECRMOCK_CURL_H

#include <ecrmock.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Attaches `m` (borrowed: it must outlive the attachment): from now on,
 * requests to ECR hosts on any easy handle are answered by it.  Replaces an
 * instance attached before.  Returns 0, or -1 when `m` is NULL.
 */
ECRMOCK_API int ecrmock_curl_attach(ecrmock *m);

/* Detaches the instance (no-op when none): every request goes to the real
 * libcurl again.  Call it before ecrmock_free(), with no transfer running. */
ECRMOCK_API void ecrmock_curl_detach(void);

/* The attached instance (borrowed), or NULL. */
ECRMOCK_API ecrmock *ecrmock_curl_attached(void);

/*
 * Strict mode (off by default): while on, a curl_easy_perform that is not
 * intercepted (no instance attached, a host that is not ECR's, another
 * scheme, the loopback download URLs of ecrmock_http_base_url_set) is not
 * handed to the real libcurl: it fails with CURLE_COULDNT_RESOLVE_HOST and
 * "ecrmock_curl strict mode: <why>; nothing was sent" in the error buffer
 * (and on stderr with VERBOSE); curl_easy_getinfo answers response code 0.
 * For tests that must never reach the network (CI with credentials in the
 * environment, code whose endpoint comes from configuration).  The multi
 * interface is not covered.  Process-wide, like the attachment; the
 * preload object turns it on with ECRMOCK_CURL_STRICT=1.
 */
ECRMOCK_API void ecrmock_curl_strict_set(int on);

/*
 * Virtual sleeping (off by default): while on and an instance is attached,
 * the program's nanosleep(), usleep() and sleep() advance the attached
 * instance's virtual clock by the time asked (sub-millisecond rests carried
 * over) and return 0 at once, so a retry loop's backoff moves the clock that
 * expiries (upload ids, tokens, download URLs) and signature dates are read
 * from, at no cost in real time.  Otherwise they sleep for real.  With
 * --wrap, link the program with -Wl,--wrap=nanosleep,--wrap=usleep,--wrap=sleep
 * too (only the calls from the objects of that link are seen); the preload
 * object takes every such call of the process and turns this on with
 * ECRMOCK_CURL_VIRTUAL_SLEEP=1.  clock_nanosleep(), select() and poll()
 * timeouts are not seen.  Process-wide, like the attachment: every thread's
 * sleeps count (a thread that polls with usleep() then spins, running the
 * clock forward).
 */
ECRMOCK_API void ecrmock_curl_virtual_sleep_set(int on);

/*
 * Whether a request to `url` would be answered by an instance (an http or
 * https URL on one of the hosts listed above), attached or not.  NULL: 0.
 */
ECRMOCK_API int ecrmock_curl_intercepts(const char *url);

#ifdef __cplusplus
}
#endif

#endif /* ECRMOCK_CURL_H */
