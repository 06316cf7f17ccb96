/*
 * The libcurl level: curl_easy_* interposed, so that requests to ECR hosts
 * are answered by an ecrmock instance (ecrmock_http_handle) and every other
 * request goes to the real libcurl on the same handle.
 *
 * Every option is handed to the real libcurl as it is set (so that a
 * pass-through perform sees the handle as the program built it) and noted in
 * a side table keyed by the CURL pointer, from which an intercepted perform
 * builds its ecrmock_http_request.  The attached instance and that table are
 * process-wide (libcurl's API has no context to hang them on): one mutex
 * guards them, and is never held while a callback of the program runs.
 * So are the two switches: strict mode (a request not intercepted fails
 * instead of reaching the real libcurl) and virtual sleeping (the sleep
 * entry points advance the attached instance's clock).
 */
#define _GNU_SOURCE /* strcasecmp, strncasecmp, clock_nanosleep */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <pthread.h>

#include "ecrmock_curl.h"
#include "interpose.h"
#include "fronts/fronts.h" /* em_ecr_host */

enum method { M_GET, M_POST, M_PUT, M_HEAD };

/* What the program set on one easy handle. */
typedef struct handle {
    CURL *curl;
    struct handle *next;
    char *url, *customrequest, *range, *useragent, *copypostfields;
    char *user, *password; /* CURLOPT_USERPWD, or USERNAME and PASSWORD */
    long httpauth; /* CURLOPT_HTTPAUTH: CURLAUTH_BASIC by default */
    const char *postfields; /* borrowed (or copypostfields) */
    curl_off_t postfieldsize, infilesize;
    enum method method;
    bool header_in_body, failonerror, verbose;
    bool follow, unrestricted_auth; /* CURLOPT_FOLLOWLOCATION, CURLOPT_UNRESTRICTED_AUTH */
    long maxredirs; /* CURLOPT_MAXREDIRS: -1 unlimited */
    long postredir; /* CURLOPT_POSTREDIR: CURL_REDIR_POST_* bits */
    struct curl_slist *headers; /* borrowed, as libcurl does */
    curl_read_callback readfn;
    void *readdata;
    curl_write_callback writefn, headerfn;
    void *writedata, *headerdata;
    char *errorbuffer;
    FILE *stderr_stream;
    char *referer;
    CURLU *curlu; /* borrowed, as libcurl does: its URL wins over CURLOPT_URL */
    unsigned char refused[128]; /* the OPT_REFUSED options set, by number */
    /* The last perform's results, when it was intercepted. */
    bool intercepted;
    long response_code;
    char *effective_url, *content_type;
    char *redirect_url; /* a 3xx's Location, absolute, when it was not followed */
    long redirect_count;
    curl_off_t size_download, size_upload, content_length, header_size, request_size;
} handle;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static ecrmock *attached;
static bool strict_mode; /* ecrmock_curl_strict_set() */
static bool virtual_sleep; /* ecrmock_curl_virtual_sleep_set() */
static long sleep_carry_ns; /* what virtual sleeps owe the clock below a millisecond */
static handle *handles;

/* ---- attaching ------------------------------------------------------------------ */

int ecrmock_curl_attach(ecrmock *m)
{
    if (!m)
        return -1;
    pthread_mutex_lock(&lock);
    attached = m;
    pthread_mutex_unlock(&lock);
    return 0;
}

void ecrmock_curl_detach(void)
{
    pthread_mutex_lock(&lock);
    attached = NULL;
    pthread_mutex_unlock(&lock);
}

void ecrmock_curl_strict_set(int on)
{
    pthread_mutex_lock(&lock);
    strict_mode = on != 0;
    pthread_mutex_unlock(&lock);
}

void ecrmock_curl_virtual_sleep_set(int on)
{
    pthread_mutex_lock(&lock);
    virtual_sleep = on != 0;
    sleep_carry_ns = 0;
    pthread_mutex_unlock(&lock);
}

ecrmock *ecrmock_curl_attached(void)
{
    pthread_mutex_lock(&lock);
    ecrmock *m = attached;
    pthread_mutex_unlock(&lock);
    return m;
}

/* ---- which hosts are ECR's --------------------------------------------------------- */

/* One of ECR's API hosts, the layer bucket's or a registry host
 * <account>.dkr.ecr.<region>.amazonaws.com (src/fronts/hosts.c). */
static bool ecr_host(const char *host)
{
    char region[EM_REGION_SIZE];
    return em_ecr_host(host, strlen(host), region) != EM_HOST_OTHER;
}

/* The URL's lower-case host and its Host header value (host[:port] when the
 * port is not the scheme's), or false for a URL that is not http(s).  A URL
 * without a scheme is http://, as libcurl guesses it.  `full` (may be NULL)
 * receives the URL as libcurl sends it (malloc'd; NULL when out of memory). */
static bool url_host(const char *url, char *host, size_t cap, char *host_header, size_t hcap, char **full)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *h = NULL, *port = NULL, *whole = NULL;
    bool ok = false;
    if (u && curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME | CURLU_GUESS_SCHEME) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
        (strcmp(scheme, "http") == 0 || strcmp(scheme, "https") == 0) &&
        curl_url_get(u, CURLUPART_HOST, &h, 0) == CURLUE_OK && strlen(h) < cap &&
        (!full || curl_url_get(u, CURLUPART_URL, &whole, 0) == CURLUE_OK)) {
        em_ascii_lower(host, h, strlen(h) + 1);
        if (curl_url_get(u, CURLUPART_PORT, &port, 0) == CURLUE_OK &&
            strcmp(port, strcmp(scheme, "https") == 0 ? "443" : "80") != 0)
            snprintf(host_header, hcap, "%s:%s", h, port);
        else
            snprintf(host_header, hcap, "%s", h);
        if (full)
            *full = strdup(whole);
        ok = true;
    }
    curl_free(scheme);
    curl_free(h);
    curl_free(port);
    curl_free(whole);
    curl_url_cleanup(u);
    return ok;
}

int ecrmock_curl_intercepts(const char *url)
{
    char host[256], hh[300];
    return url && url_host(url, host, sizeof host, hh, sizeof hh, NULL) && ecr_host(host);
}

/* ---- the side table ------------------------------------------------------------------ */

static void results_clear(handle *e)
{
    free(e->effective_url);
    free(e->content_type);
    free(e->redirect_url);
    e->effective_url = e->content_type = e->redirect_url = NULL;
    e->intercepted = false;
    e->response_code = 0;
    e->redirect_count = 0;
    e->size_download = e->size_upload = e->header_size = e->request_size = 0;
    e->content_length = -1;
}

static void handle_free(handle *e)
{
    if (!e)
        return;
    results_clear(e);
    free(e->url);
    free(e->customrequest);
    free(e->range);
    free(e->useragent);
    free(e->referer);
    free(e->user);
    free(e->password);
    free(e->copypostfields);
    free(e);
}

static void handle_defaults(handle *e, CURL *curl)
{
    memset(e, 0, sizeof *e);
    e->curl = curl;
    e->postfieldsize = -1;
    e->infilesize = -1;
    e->content_length = -1;
    e->httpauth = (long)CURLAUTH_BASIC;
#if LIBCURL_VERSION_NUM >= 0x080300
    e->maxredirs = 30; /* libcurl's default since 8.3.0 */
#else
    e->maxredirs = -1;
#endif
}

/* The handle's entry (the lock held), or NULL; `create` makes one. */
static handle *find_locked(CURL *curl, bool create)
{
    for (handle *e = handles; e; e = e->next)
        if (e->curl == curl)
            return e;
    if (!create)
        return NULL;
    handle *e = malloc(sizeof *e);
    if (!e)
        return NULL;
    handle_defaults(e, curl);
    e->next = handles;
    handles = e;
    return e;
}

static void forget(CURL *curl)
{
    pthread_mutex_lock(&lock);
    for (handle **p = &handles; *p; p = &(*p)->next) {
        if ((*p)->curl == curl) {
            handle *e = *p;
            *p = e->next;
            handle_free(e);
            break;
        }
    }
    pthread_mutex_unlock(&lock);
}

/* ---- the interposed functions ----------------------------------------------------------- */

CURL *em_curl_easy_init(void)
{
    return em_curl_real_functions()->init();
}

void em_curl_easy_cleanup(CURL *h)
{
    forget(h);
    em_curl_real_functions()->cleanup(h);
}

void em_curl_easy_reset(CURL *h)
{
    forget(h);
    em_curl_real_functions()->reset(h);
}

static char *dup_or_null(const char *s, bool *oom)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        *oom = true;
    return d;
}

CURL *em_curl_easy_duphandle(CURL *h)
{
    CURL *d = em_curl_real_functions()->duphandle(h);
    if (!d)
        return NULL;
    pthread_mutex_lock(&lock);
    handle *src = find_locked(h, false), *e = NULL;
    bool oom = false;
    if (src && (e = malloc(sizeof *e))) {
        *e = *src;
        e->curl = d;
        e->url = dup_or_null(src->url, &oom);
        e->customrequest = dup_or_null(src->customrequest, &oom);
        e->range = dup_or_null(src->range, &oom);
        e->useragent = dup_or_null(src->useragent, &oom);
        e->referer = dup_or_null(src->referer, &oom);
        e->user = dup_or_null(src->user, &oom);
        e->password = dup_or_null(src->password, &oom);
        e->copypostfields = NULL;
        if (src->copypostfields) {
            size_t n = src->postfieldsize >= 0 ? (size_t)src->postfieldsize : strlen(src->copypostfields);
            if ((e->copypostfields = malloc(n + 1))) {
                memcpy(e->copypostfields, src->copypostfields, n + 1);
            } else {
                oom = true;
            }
            if (src->postfields == src->copypostfields)
                e->postfields = e->copypostfields;
        }
        e->effective_url = e->content_type = e->redirect_url = NULL;
        results_clear(e); /* libcurl's duplicate has no transfer behind it either */
        e->next = handles;
        handles = e;
    } else if (src) {
        oom = true;
    }
    pthread_mutex_unlock(&lock);
    if (oom) { /* a duplicate that would not behave like the original */
        em_curl_easy_cleanup(d);
        return NULL;
    }
    return d;
}

/*
 * How the fake treats an option: NOTED options build the request and take
 * the answer (the side table keeps them); REFUSED ones change what libcurl
 * would send in a way the fake does not reproduce (credentials, cookies,
 * another body or target, a resumed range, ...), so an intercepted perform
 * with one of them set to anything but its default fails with
 * CURLE_UNKNOWN_OPTION; every other option libcurl knows is HARMLESS here:
 * transport, TLS, proxy, DNS, timeouts, callbacks the fake never needs to
 * call, other protocols' options.
 */
enum { OPT_HARMLESS, OPT_NOTED, OPT_REFUSED };

static int classify(CURLoption opt)
{
    switch (opt) {
    case CURLOPT_URL: case CURLOPT_HTTPHEADER: case CURLOPT_POST: case CURLOPT_POSTFIELDS:
    case CURLOPT_POSTFIELDSIZE: case CURLOPT_POSTFIELDSIZE_LARGE: case CURLOPT_COPYPOSTFIELDS:
    case CURLOPT_HTTPGET: case CURLOPT_READFUNCTION: case CURLOPT_READDATA: case CURLOPT_UPLOAD:
    case CURLOPT_PUT: case CURLOPT_INFILESIZE: case CURLOPT_INFILESIZE_LARGE: case CURLOPT_CUSTOMREQUEST:
    case CURLOPT_NOBODY: case CURLOPT_RANGE: case CURLOPT_USERAGENT: case CURLOPT_REFERER:
    case CURLOPT_WRITEFUNCTION: case CURLOPT_WRITEDATA: case CURLOPT_HEADERFUNCTION: case CURLOPT_HEADERDATA:
    case CURLOPT_HEADER: case CURLOPT_FAILONERROR: case CURLOPT_ERRORBUFFER: case CURLOPT_VERBOSE:
    case CURLOPT_STDERR: case CURLOPT_CURLU: case CURLOPT_FOLLOWLOCATION: case CURLOPT_MAXREDIRS:
    case CURLOPT_UNRESTRICTED_AUTH: case CURLOPT_POSTREDIR: case CURLOPT_USERPWD: case CURLOPT_USERNAME:
    case CURLOPT_PASSWORD: case CURLOPT_HTTPAUTH:
        return OPT_NOTED;
    case CURLOPT_AWS_SIGV4:
    case CURLOPT_XOAUTH2_BEARER: case CURLOPT_NETRC: case CURLOPT_COOKIE: case CURLOPT_COOKIEFILE:
    case CURLOPT_COOKIELIST: case CURLOPT_HTTPPOST: case CURLOPT_MIMEPOST: case CURLOPT_RESUME_FROM:
    case CURLOPT_RESUME_FROM_LARGE: case CURLOPT_TIMECONDITION: case CURLOPT_REQUEST_TARGET:
    case CURLOPT_PORT: case CURLOPT_CRLF: case CURLOPT_TRAILERFUNCTION: case CURLOPT_HAPROXYPROTOCOL:
    case CURLOPT_CONNECT_ONLY:
        return OPT_REFUSED;
    default:
        return OPT_HARMLESS;
    }
}

/* The refused options set on a handle, one bit per option number. */
#define OPT_NUMBER(opt) ((unsigned)(opt) % 10000u)

static void refused_mark(handle *e, CURLoption opt, bool set)
{
    unsigned n = OPT_NUMBER(opt);
    if (n >= 8 * sizeof e->refused)
        n = 8 * sizeof e->refused - 1; /* (none of them is numbered that high) */
    if (set)
        e->refused[n / 8] |= (unsigned char)(1u << (n % 8));
    else
        e->refused[n / 8] &= (unsigned char)~(1u << (n % 8));
}

/* Whether a refused option is set on the handle; the first one's name
 * ("CURLOPT_X") into name. */
static bool refused_first(const handle *e, char *name, size_t cap)
{
    for (unsigned n = 0; n < 8 * sizeof e->refused; n++) {
        if (!(e->refused[n / 8] & (1u << (n % 8))))
            continue;
        const struct curl_easyoption *o = NULL;
        while ((o = curl_easy_option_next(o)))
            if (OPT_NUMBER(o->id) == n && !(o->flags & CURLOT_FLAG_ALIAS))
                break;
        if (o)
            snprintf(name, cap, "CURLOPT_%s", o->name);
        else
            snprintf(name, cap, "option number %u", n);
        return true;
    }
    return false;
}

CURLcode em_curl_easy_setopt(CURL *h, CURLoption opt, va_list ap)
{
    const em_curl_real *real = em_curl_real_functions();
    /* The argument's type follows the option's number range, as in libcurl. */
    long l = 0;
    void *p = NULL;
    curl_off_t o = 0;
    CURLcode rc;
    if (opt < CURLOPTTYPE_OBJECTPOINT) {
        l = va_arg(ap, long);
        rc = real->setopt(h, opt, l);
    } else if (opt < CURLOPTTYPE_OFF_T) {
        p = va_arg(ap, void *);
        rc = real->setopt(h, opt, p);
    } else if (opt < CURLOPTTYPE_BLOB) {
        o = va_arg(ap, curl_off_t);
        rc = real->setopt(h, opt, o);
    } else {
        p = va_arg(ap, void *);
        rc = real->setopt(h, opt, p);
    }
    if (rc != CURLE_OK || !h)
        return rc;

    int kind = classify(opt);
    if (kind == OPT_HARMLESS)
        return rc;
    pthread_mutex_lock(&lock);
    handle *e = find_locked(h, true);
    if (!e) {
        pthread_mutex_unlock(&lock);
        return CURLE_OUT_OF_MEMORY;
    }
    bool oom = false;
    char **slot = NULL;
    switch (opt) {
    case CURLOPT_URL: slot = &e->url; break;
    case CURLOPT_CUSTOMREQUEST: slot = &e->customrequest; break;
    case CURLOPT_RANGE: slot = &e->range; break;
    case CURLOPT_USERAGENT: slot = &e->useragent; break;
    case CURLOPT_HTTPHEADER: e->headers = p; break;
    case CURLOPT_POST:
        if (l) {
            e->method = M_POST;
        } else {
            e->method = M_GET;
        }
        break;
    case CURLOPT_POSTFIELDS:
        e->postfields = p;
        free(e->copypostfields);
        e->copypostfields = NULL;
        e->method = M_POST;
        break;
    case CURLOPT_COPYPOSTFIELDS: {
        free(e->copypostfields);
        e->copypostfields = NULL;
        e->postfields = NULL;
        if (p) {
            size_t n = e->postfieldsize >= 0 ? (size_t)e->postfieldsize : strlen(p);
            if ((e->copypostfields = malloc(n + 1))) {
                memcpy(e->copypostfields, p, n);
                e->copypostfields[n] = '\0';
                e->postfields = e->copypostfields;
            } else {
                oom = true;
            }
        }
        e->method = M_POST;
        break;
    }
    case CURLOPT_POSTFIELDSIZE: e->postfieldsize = l; break;
    case CURLOPT_POSTFIELDSIZE_LARGE: e->postfieldsize = o; break;
    case CURLOPT_HTTPGET:
        if (l)
            e->method = M_GET;
        break;
    case CURLOPT_UPLOAD:
    case CURLOPT_PUT:
        e->method = l ? M_PUT : M_GET;
        break;
    case CURLOPT_NOBODY:
        if (l)
            e->method = M_HEAD;
        else if (e->method == M_HEAD)
            e->method = M_GET;
        break;
    case CURLOPT_INFILESIZE: e->infilesize = l; break;
    case CURLOPT_INFILESIZE_LARGE: e->infilesize = o; break;
    case CURLOPT_READFUNCTION: e->readfn = (curl_read_callback)p; break;
    case CURLOPT_READDATA: e->readdata = p; break;
    case CURLOPT_WRITEFUNCTION: e->writefn = (curl_write_callback)p; break;
    case CURLOPT_WRITEDATA: e->writedata = p; break;
    case CURLOPT_HEADERFUNCTION: e->headerfn = (curl_write_callback)p; break;
    case CURLOPT_HEADERDATA: e->headerdata = p; break;
    case CURLOPT_HEADER: e->header_in_body = l != 0; break;
    case CURLOPT_FAILONERROR: e->failonerror = l != 0; break;
    case CURLOPT_VERBOSE: e->verbose = l != 0; break;
    case CURLOPT_ERRORBUFFER: e->errorbuffer = p; break;
    case CURLOPT_STDERR: e->stderr_stream = p; break;
    case CURLOPT_REFERER: slot = &e->referer; break;
    case CURLOPT_CURLU: e->curlu = p; break;
    case CURLOPT_FOLLOWLOCATION: e->follow = l != 0; break;
    case CURLOPT_MAXREDIRS: e->maxredirs = l; break;
    case CURLOPT_UNRESTRICTED_AUTH: e->unrestricted_auth = l != 0; break;
    case CURLOPT_POSTREDIR: e->postredir = l; break;
    case CURLOPT_USERNAME: slot = &e->user; break;
    case CURLOPT_PASSWORD: slot = &e->password; break;
    case CURLOPT_HTTPAUTH: e->httpauth = l; break;
    case CURLOPT_USERPWD: { /* "user:password", split at the first colon as libcurl does */
        free(e->user);
        free(e->password);
        e->user = e->password = NULL;
        if (p) {
            const char *colon = strchr(p, ':');
            e->user = colon ? strndup(p, (size_t)(colon - (const char *)p)) : strdup(p);
            e->password = colon ? strdup(colon + 1) : NULL;
            oom = !e->user || (colon && !e->password);
        }
        break;
    }
    default: /* OPT_REFUSED: its default value (NULL, 0) sends nothing else */
        refused_mark(e, opt, opt < CURLOPTTYPE_OBJECTPOINT ? l != 0 : opt < CURLOPTTYPE_OFF_T ? p != NULL
                             : opt < CURLOPTTYPE_BLOB ? o != 0 : p != NULL);
        break;
    }
    if (slot) {
        free(*slot);
        *slot = dup_or_null(p, &oom);
    }
    pthread_mutex_unlock(&lock);
    return oom ? CURLE_OUT_OF_MEMORY : rc;
}

/* ---- perform ------------------------------------------------------------------------------ */

/* A copy of the handle's settings, taken under the lock, used without it. */
typedef struct transfer {
    handle h;
    char host[256], host_header[300];
    char *url; /* the URL as libcurl would send it (malloc'd) */
} transfer;

static void say(const transfer *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* An error text, as libcurl's failf: into CURLOPT_ERRORBUFFER, and on
 * stderr with VERBOSE. */
static void say(const transfer *t, const char *fmt, ...)
{
    char msg[CURL_ERROR_SIZE];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (t->h.errorbuffer)
        snprintf(t->h.errorbuffer, CURL_ERROR_SIZE, "%s", msg);
    if (t->h.verbose)
        fprintf(t->h.stderr_stream ? t->h.stderr_stream : stderr, "* %s\n", msg);
}

static const char *reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 307: return "Temporary Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 416: return "Requested Range Not Satisfiable";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return status < 400 ? "OK" : "Error";
    }
}

/* The request body: POSTFIELDS, or what the read callback gives. */
static CURLcode request_body(const transfer *t, char **out, size_t *len)
{
    const handle *h = &t->h;
    *out = NULL;
    *len = 0;
    if (h->method == M_POST && h->postfields) {
        size_t n = h->postfieldsize >= 0 ? (size_t)h->postfieldsize : strlen(h->postfields);
        if (!(*out = malloc(n + 1)))
            return CURLE_OUT_OF_MEMORY;
        memcpy(*out, h->postfields, n);
        *len = n;
        return CURLE_OK;
    }
    if (h->method != M_POST && h->method != M_PUT)
        return CURLE_OK;
    curl_off_t limit = h->method == M_POST ? h->postfieldsize : h->infilesize;
    size_t cap = 0, n = 0;
    char *buf = NULL;
    for (;;) {
        size_t want = 65536;
        if (limit >= 0 && (curl_off_t)(n + want) > limit)
            want = (size_t)(limit - (curl_off_t)n);
        if (want == 0)
            break;
        if (n + want + 1 > cap) {
            size_t ncap = (n + want + 1) * 2;
            char *nb = realloc(buf, ncap);
            if (!nb) {
                free(buf);
                return CURLE_OUT_OF_MEMORY;
            }
            buf = nb;
            cap = ncap;
        }
        size_t got = h->readfn ? h->readfn(buf + n, 1, want, h->readdata)
                               : fread(buf + n, 1, want, h->readdata ? (FILE *)h->readdata : stdin);
        if (got == CURL_READFUNC_ABORT) {
            free(buf);
            say(t, "operation aborted by callback");
            return CURLE_ABORTED_BY_CALLBACK;
        }
        if (got == CURL_READFUNC_PAUSE || got > want) {
            free(buf);
            say(t, "read function returned funny value");
            return CURLE_READ_ERROR;
        }
        if (got == 0)
            break;
        n += got;
    }
    if (limit >= 0 && (curl_off_t)n < limit) {
        free(buf);
        say(t, "client read function EOF fail, only %zu/%" CURL_FORMAT_CURL_OFF_T " of needed bytes read", n, limit);
        return CURLE_READ_ERROR;
    }
    if (!buf && !(buf = malloc(1)))
        return CURLE_OUT_OF_MEMORY;
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return CURLE_OK;
}

/* One header of a custom list: "Name: value", "Name:" (remove), "Name;" (empty). */
typedef struct hdr {
    char name[128];
    const char *value;
    bool removed, program; /* program: set by CURLOPT_HTTPHEADER */
} hdr;

#define MAX_HDRS 64

static int hdr_find(hdr *list, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcasecmp(list[i].name, name) == 0)
            return i;
    return -1;
}

static void hdr_set(hdr *list, int *n, const char *name, size_t nlen, const char *value, bool removed)
{
    if (nlen >= sizeof list[0].name)
        return;
    char tmp[128];
    memcpy(tmp, name, nlen);
    tmp[nlen] = '\0';
    int i = hdr_find(list, *n, tmp);
    if (i < 0) {
        if (*n == MAX_HDRS)
            return;
        i = (*n)++;
        memcpy(list[i].name, tmp, nlen + 1);
        list[i].program = false;
    }
    list[i].value = value;
    list[i].removed = removed;
}

/* One of the program's headers: it replaces the header of that name libcurl
 * would add; a second one of the same name is sent too, as libcurl sends
 * every line of the list (Go-style clients send one Accept line per type). */
static void hdr_program(hdr *list, int *n, const char *name, size_t nlen, const char *value, bool removed)
{
    if (nlen >= sizeof list[0].name)
        return;
    int i = 0;
    for (; i < *n; i++)
        if (strncasecmp(list[i].name, name, nlen) == 0 && list[i].name[nlen] == '\0')
            break;
    if (i < *n && list[i].program) { /* a second line of that name */
        if (removed || *n == MAX_HDRS)
            return;
        i = (*n)++;
        memcpy(list[i].name, name, nlen);
        list[i].name[nlen] = '\0';
    } else if (i == *n) {
        if (*n == MAX_HDRS)
            return;
        (*n)++;
        memcpy(list[i].name, name, nlen);
        list[i].name[nlen] = '\0';
    }
    list[i].value = value;
    list[i].removed = removed;
    list[i].program = true;
}

static size_t deliver(curl_write_callback fn, void *data, const char *p, size_t n)
{
    if (fn)
        return fn((char *)p, 1, n, data);
    return fwrite(p, 1, n, data ? (FILE *)data : stdout);
}

/* The response, as libcurl hands it over: header lines, then the body
 * (not for a HEAD, nor for a redirect libcurl follows). */
static CURLcode hand_over(transfer *t, const ecrmock_http_response *r, handle *res, bool with_body)
{
    const handle *h = &t->h;
    bool headers_out = h->headerfn || h->headerdata;
    curl_write_callback hfn = h->headerfn ? h->headerfn : h->writefn;
    char line[8192];
    for (size_t i = 0; i <= r->n_headers + 1; i++) {
        if (i == 0)
            snprintf(line, sizeof line, "HTTP/1.1 %d %s\r\n", r->status, reason(r->status));
        else if (i <= r->n_headers)
            snprintf(line, sizeof line, "%s: %s\r\n", r->headers[i - 1].name, r->headers[i - 1].value);
        else
            snprintf(line, sizeof line, "\r\n");
        size_t n = strlen(line);
        res->header_size += (curl_off_t)n;
        if (headers_out && deliver(hfn, h->headerdata, line, n) != n) {
            say(t, "Failed writing header");
            return CURLE_WRITE_ERROR;
        }
        if (h->header_in_body && deliver(h->writefn, h->writedata, line, n) != n) {
            say(t, "Failed writing header");
            return CURLE_WRITE_ERROR;
        }
    }
    if (!with_body)
        return CURLE_OK;
    for (size_t off = 0; off < r->body_len;) {
        size_t n = r->body_len - off;
        if (n > CURL_MAX_WRITE_SIZE)
            n = CURL_MAX_WRITE_SIZE;
        size_t wrote = deliver(h->writefn, h->writedata, r->body + off, n);
        if (wrote != n) {
            if (wrote == CURL_WRITEFUNC_PAUSE)
                say(t, "Failed writing body: pausing is not supported by ecrmock_curl");
            else
                say(t, "Failed writing body (%zu != %zu)", wrote, n);
            return CURLE_WRITE_ERROR;
        }
        off += n;
        res->size_download += (curl_off_t)n;
    }
    return CURLE_OK;
}

static const char *method_name(enum method m)
{
    static const char *const names[] = {"GET", "POST", "PUT", "HEAD"};
    return names[m];
}

/* `location` resolved against `base` (malloc'd), or NULL. */
static char *resolve(const char *base, const char *location)
{
    CURLU *u = curl_url();
    char *tmp = NULL, *out = NULL;
    if (u && curl_url_set(u, CURLUPART_URL, base, 0) == CURLUE_OK &&
        curl_url_set(u, CURLUPART_URL, location, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_URL, &tmp, 0) == CURLUE_OK)
        out = strdup(tmp);
    curl_free(tmp);
    curl_url_cleanup(u);
    return out;
}

/*
 * One request of a transfer to t->url (the first, or one a redirect leads
 * to): the headers libcurl would send, then ecrmock_http_handle into *r.
 * `cross`: the host is not the first request's, so the program's
 * Authorization and Cookie headers stay behind, as libcurl leaves them
 * since 7.58 unless CURLOPT_UNRESTRICTED_AUTH is set.
 */
static CURLcode hop(ecrmock *m, transfer *t, enum method mth, char *body, size_t body_len, bool cross, bool basic,
                    handle *res, ecrmock_http_response *r)
{
    const handle *h = &t->h;
    /* CURLOPT_USERPWD as HTTP Basic (the only scheme the fake offers), not
     * to another host than the first, as libcurl keeps it. */
    char *credentials = NULL, *basic_line = NULL;
    if (basic && h->user && (!cross || h->unrestricted_auth)) {
        credentials = em_sprintf("%s:%s", h->user, h->password ? h->password : "");
        char *b64 = credentials ? em_base64(credentials, strlen(credentials), NULL) : NULL;
        basic_line = b64 ? em_sprintf("Basic %s", b64) : NULL;
        em_free(b64);
        if (credentials)
            memset(credentials, 0, strlen(credentials));
        em_free(credentials);
        if (!basic_line)
            return CURLE_OUT_OF_MEMORY;
    }
    /* libcurl's own headers, then the program's over them. */
    hdr list[MAX_HDRS];
    int n = 0;
    char length[32];
    snprintf(length, sizeof length, "%zu", body_len);
    char range[300];
    hdr_set(list, &n, "Host", 4, t->host_header, false);
    if (h->useragent)
        hdr_set(list, &n, "User-Agent", 10, h->useragent, false);
    if (h->referer)
        hdr_set(list, &n, "Referer", 7, h->referer, false);
    hdr_set(list, &n, "Accept", 6, "*/*", false);
    if (h->range) {
        snprintf(range, sizeof range, "bytes=%s", h->range);
        hdr_set(list, &n, "Range", 5, range, false);
    }
    if (basic_line)
        hdr_set(list, &n, "Authorization", 13, basic_line, false);
    if (mth == M_POST || mth == M_PUT) {
        if (mth == M_POST && h->postfields)
            hdr_set(list, &n, "Content-Type", 12, "application/x-www-form-urlencoded", false);
        hdr_set(list, &n, "Content-Length", 14, length, false);
    }
    for (struct curl_slist *s = h->headers; s; s = s->next) {
        const char *d = s->data, *colon = strchr(d, ':'), *semi = strchr(d, ';');
        size_t nlen = colon && (!semi || colon < semi) ? (size_t)(colon - d) : semi ? (size_t)(semi - d) : 0;
        if (cross && !h->unrestricted_auth && nlen &&
            ((nlen == 13 && strncasecmp(d, "Authorization", 13) == 0) || (nlen == 6 && strncasecmp(d, "Cookie", 6) == 0)))
            continue;
        if (colon && (!semi || colon < semi)) {
            const char *v = colon + 1;
            while (*v == ' ' || *v == '\t')
                v++;
            hdr_program(list, &n, d, nlen, v, *v == '\0');
        } else if (semi && semi[1] == '\0') {
            hdr_program(list, &n, d, nlen, "", false);
        }
    }
    ecrmock_http_header hv[MAX_HDRS];
    size_t nh = 0;
    for (int i = 0; i < n; i++) {
        if (list[i].removed)
            continue;
        hv[nh].name = list[i].name;
        hv[nh].value = list[i].value;
        res->request_size += (curl_off_t)(strlen(list[i].name) + strlen(list[i].value) + 4);
        nh++;
    }

    ecrmock_http_request req = ECRMOCK_HTTP_REQUEST_INIT;
    req.method = h->customrequest ? h->customrequest : method_name(mth);
    req.target = t->url;
    req.headers = hv;
    req.n_headers = nh;
    req.body = body;
    req.body_len = body_len;
    int status = ecrmock_http_handle(m, &req, r);
    em_free(basic_line);
    if (status < 0) {
        say(t, "ecrmock_curl: out of memory");
        return CURLE_OUT_OF_MEMORY;
    }
    if (h->verbose)
        fprintf(h->stderr_stream ? h->stderr_stream : stderr, "* ecrmock_curl: %s %s answered by ecrmock: %d\n",
                req.method, t->url, status);

    const char *fault = ecrmock_http_response_header(r, ECRMOCK_HTTP_TRANSPORT_FAULT_HEADER);
    if (!fault)
        return CURLE_OK;
    CURLcode rc;
    const char *port = strchr(t->host_header, ':');
    unsigned p = port ? (unsigned)atoi(port + 1) : strncmp(t->url, "https", 5) == 0 ? 443 : 80;
    if (strcmp(fault, "connect-refused") == 0) {
        say(t, "Failed to connect to %s port %u after 0 ms: Couldn't connect to server", t->host, p);
        rc = CURLE_COULDNT_CONNECT;
    } else if (strcmp(fault, "timeout") == 0) {
        say(t, "Operation timed out after 0 milliseconds with 0 bytes received (an ecrmock fault rule)");
        rc = CURLE_OPERATION_TIMEDOUT;
    } else {
        say(t, "Recv failure: Connection reset by peer");
        rc = CURLE_RECV_ERROR;
    }
    ecrmock_http_response_release(r);
    return rc;
}

/* t->url, t->host and t->host_header moved to `url` (an ECR host's);
 * false (said) for a URL the fake does not answer. */
static bool move_to(transfer *t, const char *url)
{
    char host[sizeof t->host], hh[sizeof t->host_header];
    char *full = NULL;
    if (!url_host(url, host, sizeof host, hh, sizeof hh, &full) || !full || !ecr_host(host)) {
        say(t, "ecrmock_curl: a redirect to %.200s, which is not an ECR host, is not followed", url);
        free(full);
        return false;
    }
    free(t->url);
    t->url = full;
    memcpy(t->host, host, sizeof host);
    memcpy(t->host_header, hh, sizeof hh);
    return true;
}

static CURLcode intercept(ecrmock *m, transfer *t, handle *res)
{
    const handle *h = &t->h;
    if (h->errorbuffer)
        h->errorbuffer[0] = '\0';
    res->effective_url = strdup(t->url);
    if (!res->effective_url)
        return CURLE_OUT_OF_MEMORY;
    char refused[96];
    if (refused_first(h, refused, sizeof refused)) {
        say(t, "ecrmock_curl: %s is not supported on requests to ECR (see ecrmock_curl.h)", refused);
        return CURLE_UNKNOWN_OPTION;
    }
    char *body;
    size_t body_len;
    CURLcode rc = request_body(t, &body, &body_len);
    if (rc != CURLE_OK)
        return rc;
    res->size_upload = (curl_off_t)body_len;

    /* Each answer; a 3xx with a Location leads to the next request when
     * CURLOPT_FOLLOWLOCATION is set, with libcurl's rules: the method kept
     * on 307/308, GET after a 303 (but HEAD) or a POST's 301/302, unless
     * CURLOPT_POSTREDIR keeps the POST. */
    char first_host[sizeof t->host_header];
    memcpy(first_host, t->host_header, sizeof first_host);
    enum method mth = h->method;
    /* Basic up front when it is the only scheme allowed (libcurl's default);
     * with others allowed too, after a 401 that offers it, as libcurl
     * picks a scheme from the challenge. */
    bool basic = h->user && h->httpauth == (long)CURLAUTH_BASIC, basic_tried = basic;
    for (;;) {
        ecrmock_http_response r;
        rc = hop(m, t, mth, body, body_len, strcasecmp(first_host, t->host_header) != 0, basic, res, &r);
        if (rc != CURLE_OK)
            break;
        int status = r.status;
        const char *challenge = status == 401 ? ecrmock_http_response_header(&r, "WWW-Authenticate") : NULL;
        if (challenge && !basic_tried && h->user && (h->httpauth & (long)CURLAUTH_BASIC) &&
            strncasecmp(challenge, "Basic", 5) == 0) {
            rc = hand_over(t, &r, res, false);
            ecrmock_http_response_release(&r);
            if (rc != CURLE_OK)
                break;
            basic = basic_tried = true;
            continue;
        }
        res->intercepted = true;
        res->response_code = status;
        const char *ct = ecrmock_http_response_header(&r, "Content-Type");
        const char *cl = ecrmock_http_response_header(&r, "Content-Length");
        free(res->content_type);
        res->content_type = NULL;
        if (ct && !(res->content_type = strdup(ct))) {
            ecrmock_http_response_release(&r);
            rc = CURLE_OUT_OF_MEMORY;
            break;
        }
        res->content_length = cl ? (curl_off_t)strtoll(cl, NULL, 10) : -1;
        if (h->failonerror && status >= 400) {
            say(t, "The requested URL returned error: %d", status);
            ecrmock_http_response_release(&r);
            rc = CURLE_HTTP_RETURNED_ERROR;
            break;
        }
        const char *location = status == 301 || status == 302 || status == 303 || status == 307 || status == 308
                                   ? ecrmock_http_response_header(&r, "Location") : NULL;
        char *next = location ? resolve(t->url, location) : NULL;
        if (next && h->follow) {
            if (h->maxredirs >= 0 && res->redirect_count >= h->maxredirs) {
                say(t, "Maximum (%ld) redirects followed", h->maxredirs);
                rc = CURLE_TOO_MANY_REDIRECTS;
            } else {
                rc = hand_over(t, &r, res, false);
            }
            ecrmock_http_response_release(&r);
            if (rc == CURLE_OK && !move_to(t, next))
                rc = CURLE_UNSUPPORTED_PROTOCOL;
            free(next);
            if (rc != CURLE_OK)
                break;
            free(res->effective_url);
            if (!(res->effective_url = strdup(t->url))) {
                rc = CURLE_OUT_OF_MEMORY;
                break;
            }
            res->redirect_count++;
            long keep = status == 301 ? CURL_REDIR_POST_301 : status == 302 ? CURL_REDIR_POST_302
                      : status == 303 ? CURL_REDIR_POST_303 : 0;
            bool post_kept = mth == M_POST && (h->postredir & keep);
            if (!post_kept && ((status == 303 && mth != M_HEAD) || ((status == 301 || status == 302) && mth == M_POST))) {
                mth = M_GET;
                body_len = 0;
            }
            continue;
        }
        res->redirect_url = next; /* CURLINFO_REDIRECT_URL: where it would have gone */
        rc = hand_over(t, &r, res, mth != M_HEAD);
        ecrmock_http_response_release(&r);
        break;
    }
    free(body);
    return rc;
}

/* The URL the handle would fetch: CURLOPT_CURLU's over CURLOPT_URL, as in
 * libcurl (malloc'd), or NULL (none, or out of memory). */
static char *handle_url(const handle *e)
{
    if (e && e->curlu) {
        char *u = NULL, *d = NULL;
        if (curl_url_get(e->curlu, CURLUPART_URL, &u, 0) == CURLUE_OK)
            d = strdup(u);
        curl_free(u);
        return d;
    }
    return e && e->url ? strdup(e->url) : NULL;
}

/* Why a request is not intercepted, for strict mode. */
static void not_ours(const ecrmock *m, const char *url, bool parsed, const char *host, char *why, size_t cap)
{
    if (!url)
        snprintf(why, cap, "no URL is set");
    else if (!parsed)
        snprintf(why, cap, "%.120s is not an http(s) URL", url);
    else if (!ecr_host(host))
        snprintf(why, cap, "%.120s is not an ECR host", host);
    else if (!m)
        snprintf(why, cap, "no ecrmock instance is attached");
}

CURLcode em_curl_easy_perform(CURL *curl)
{
    const em_curl_real *real = em_curl_real_functions();
    transfer t;
    memset(&t, 0, sizeof t);
    char why[200] = "";
    pthread_mutex_lock(&lock);
    ecrmock *m = attached;
    handle *e = find_locked(curl, false);
    char *url = handle_url(e);
    bool parsed = url && url_host(url, t.host, sizeof t.host, t.host_header, sizeof t.host_header, &t.url);
    bool ours = m && parsed && ecr_host(t.host);
    bool refuse = !ours && strict_mode;
    if (e)
        results_clear(e);
    if (e && (ours || refuse))
        t.h = *e; /* strings stay owned by the entry: the program may not change
                     the handle while it performs, as with libcurl */
    if (refuse) {
        not_ours(m, url, parsed, t.host, why, sizeof why);
        if (e) { /* getinfo answers for this perform, not libcurl's last */
            e->intercepted = true;
            e->effective_url = url;
            url = NULL;
        }
    }
    free(url);
    pthread_mutex_unlock(&lock);
    if (!ours) {
        free(t.url);
        t.url = NULL;
    }
    if (!curl)
        return CURLE_BAD_FUNCTION_ARGUMENT;
    if (ours && !t.url)
        return CURLE_OUT_OF_MEMORY; /* never the network instead */
    if (refuse) {
        if (t.h.errorbuffer)
            t.h.errorbuffer[0] = '\0';
        say(&t, "ecrmock_curl strict mode: %s; nothing was sent", why);
        return CURLE_COULDNT_RESOLVE_HOST;
    }
    if (!ours)
        return real->perform(curl);

    handle res;
    handle_defaults(&res, curl);
    CURLcode rc = intercept(m, &t, &res);
    free(t.url);
    pthread_mutex_lock(&lock);
    if ((e = find_locked(curl, false))) {
        e->intercepted = true;
        e->response_code = res.response_code;
        e->effective_url = res.effective_url;
        e->content_type = res.content_type;
        e->redirect_url = res.redirect_url;
        e->redirect_count = res.redirect_count;
        e->size_download = res.size_download;
        e->size_upload = res.size_upload;
        e->content_length = res.content_length;
        e->header_size = res.header_size;
        e->request_size = res.request_size;
        res.effective_url = res.content_type = res.redirect_url = NULL;
    }
    pthread_mutex_unlock(&lock);
    free(res.effective_url);
    free(res.content_type);
    free(res.redirect_url);
    return rc;
}

/* ---- virtual sleeping ------------------------------------------------------------------- */

int em_curl_sleep(const struct timespec *req, struct timespec *rem)
{
    bool valid = req && req->tv_sec >= 0 && req->tv_nsec >= 0 && req->tv_nsec < 1000000000L;
    pthread_mutex_lock(&lock);
    ecrmock *m = valid && virtual_sleep ? attached : NULL;
    int64_t ms = 0;
    if (m) {
        /* Whole milliseconds to the clock, the rest carried to the next sleep;
         * a sleep longer than the clock can count stops at its end. */
        long ns = sleep_carry_ns + req->tv_nsec % 1000000L;
        int64_t max_s = ECRMOCK_CLOCK_MAX_MS / 1000;
        ms = ((int64_t)req->tv_sec > max_s ? max_s : (int64_t)req->tv_sec) * 1000 + req->tv_nsec / 1000000L +
             ns / 1000000L;
        sleep_carry_ns = ns % 1000000L;
    }
    pthread_mutex_unlock(&lock);
    if (m) {
        int64_t now = ecrmock_clock_now(m);
        if (ms > ECRMOCK_CLOCK_MAX_MS - now)
            ms = ECRMOCK_CLOCK_MAX_MS - now; /* the clock stops at its end */
        if (ms > 0)
            ecrmock_clock_advance(m, ms, NULL);
        return 0;
    }
    if (!req) {
        errno = EFAULT;
        return -1;
    }
    int rc = clock_nanosleep(CLOCK_MONOTONIC, 0, req, rem);
    if (rc != 0) {
        errno = rc;
        return -1;
    }
    return 0;
}

/* ---- getinfo ---------------------------------------------------------------------------- */

CURLcode em_curl_easy_getinfo(CURL *curl, CURLINFO info, va_list ap)
{
    void *out = va_arg(ap, void *);
    pthread_mutex_lock(&lock);
    handle *e = find_locked(curl, false);
    bool done = false;
    if (e && e->intercepted && out) {
        done = true;
        switch (info) {
        case CURLINFO_RESPONSE_CODE: *(long *)out = e->response_code; break;
        case CURLINFO_EFFECTIVE_URL: *(char **)out = e->effective_url; break;
        case CURLINFO_CONTENT_TYPE: *(char **)out = e->content_type; break;
        case CURLINFO_REDIRECT_URL: *(char **)out = e->redirect_url; break;
        case CURLINFO_REDIRECT_COUNT: *(long *)out = e->redirect_count; break;
        case CURLINFO_SIZE_DOWNLOAD: *(double *)out = (double)e->size_download; break;
        case CURLINFO_SIZE_DOWNLOAD_T: *(curl_off_t *)out = e->size_download; break;
        case CURLINFO_SIZE_UPLOAD: *(double *)out = (double)e->size_upload; break;
        case CURLINFO_SIZE_UPLOAD_T: *(curl_off_t *)out = e->size_upload; break;
        case CURLINFO_CONTENT_LENGTH_DOWNLOAD: *(double *)out = (double)e->content_length; break;
        case CURLINFO_CONTENT_LENGTH_DOWNLOAD_T: *(curl_off_t *)out = e->content_length; break;
        case CURLINFO_HEADER_SIZE: *(long *)out = (long)e->header_size; break;
        case CURLINFO_REQUEST_SIZE: *(long *)out = (long)e->request_size; break;
        case CURLINFO_TOTAL_TIME: case CURLINFO_NAMELOOKUP_TIME: case CURLINFO_CONNECT_TIME:
        case CURLINFO_PRETRANSFER_TIME: case CURLINFO_STARTTRANSFER_TIME:
            *(double *)out = 0.0;
            break;
        case CURLINFO_TOTAL_TIME_T: case CURLINFO_NAMELOOKUP_TIME_T: case CURLINFO_CONNECT_TIME_T:
        case CURLINFO_PRETRANSFER_TIME_T: case CURLINFO_STARTTRANSFER_TIME_T:
            *(curl_off_t *)out = 0;
            break;
        default:
            done = false;
        }
    }
    pthread_mutex_unlock(&lock);
    return done ? CURLE_OK : em_curl_real_functions()->getinfo(curl, info, out);
}
