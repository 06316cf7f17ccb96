/*
 * registry_pull: pulls an image from Amazon ECR's registry the way C code on
 * an edge device does it, with libcurl and no container tool: it logs in
 * with GetAuthorizationToken (SigV4 on the API, examples/ecr_sigv4.h), then
 * speaks the OCI Distribution API to the registry host the token is for
 * (<account>.dkr.ecr.<region>.amazonaws.com) with the token's Basic
 * credentials: HEAD of the manifest by tag (its Docker-Content-Digest), GET
 * of the manifest with an Accept line per type it reads (ECR sends no
 * digest on a GET), then a GET of the config and of each layer, following
 * ECR's 307 to the layer's pre-signed URL (libcurl leaves the registry's
 * Authorization behind on that other host).  Every digest is checked: the
 * manifest's bytes against the HEAD's, each blob's bytes, streamed through
 * SHA-256, against the manifest's descriptor (digest and size).  It knows
 * nothing of ecrmock.
 *
 * Credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; the region:
 * AWS_REGION (us-east-1 by default).  Usage:
 *   registry_pull [repository[:tag]]     (default: edge-agent:v1)
 * Exits 0 when the image was pulled and every digest matched, 1 on any
 * failure (the reason on stderr), 2 without credentials.
 *
 * tests/unit/test_curl.c runs it against ecrmock through libecrmock_curl
 * (--wrap and LD_PRELOAD), the image loaded from a fixture.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "ecr_sigv4.h"

#define TARGET_PREFIX "AmazonEC2ContainerRegistry_V20150921."
#define MANIFEST_TYPES_OCI "application/vnd.oci.image.manifest.v1+json"
#define MANIFEST_TYPES_V2 "application/vnd.docker.distribution.manifest.v2+json"
#define MAX_BLOBS 64

static const char *region = "us-east-1", *access_key, *secret_key;
static char api_host[128];
static CURL *curl;
static char errbuf[CURL_ERROR_SIZE];

/* ---- buffers and JSON ------------------------------------------------------------- */

typedef struct buffer {
    char *data;
    size_t len, cap;
} buffer;

static size_t to_buffer(char *p, size_t size, size_t n, void *user)
{
    buffer *b = user;
    size_t bytes = size * n;
    if (b->len + bytes + 1 > b->cap) {
        size_t cap = (b->len + bytes + 1) * 2;
        char *d = realloc(b->data, cap);
        if (!d)
            return 0; /* libcurl ends the transfer: CURLE_WRITE_ERROR */
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, bytes);
    b->len += bytes;
    b->data[b->len] = '\0';
    return bytes;
}

/* The string value after the `nth` (0-based) occurrence of the member
 * "key" in `json`, into out; 0, or -1 when there is none.  Enough for the
 * answers read here (no escapes in the values it reads). */
static int json_member(const char *json, const char *key, int nth, char *out, size_t cap)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\"", key);
    const char *p = json;
    for (int i = 0; (p = strstr(p, pat)) != NULL; i++) {
        p += strlen(pat);
        const char *v = p + strspn(p, " \t\r\n");
        if (*v != ':')
            continue;
        v += 1 + strspn(v + 1, " \t\r\n");
        if (i < nth)
            continue;
        if (*v != '"')
            return -1;
        size_t n = strcspn(v + 1, "\"\\");
        if (v[1 + n] != '"' || n >= cap)
            return -1;
        memcpy(out, v + 1, n);
        out[n] = '\0';
        return 0;
    }
    return -1;
}

/* ---- the API: GetAuthorizationToken ------------------------------------------------ */

static int login(char *basic, size_t cap, char *registry, size_t rcap)
{
    const char *body = "{}", *target = TARGET_PREFIX "GetAuthorizationToken";
    char amz_date[32], date_h[64], auth[512], url[160];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(amz_date, sizeof amz_date, "%Y%m%dT%H%M%SZ", &tm);
    snprintf(date_h, sizeof date_h, "X-Amz-Date: %s", amz_date);
    ecr_sign(api_host, region, access_key, secret_key, target, body, amz_date, auth, sizeof auth);
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/x-amz-json-1.1");
    h = curl_slist_append(h, date_h);
    h = curl_slist_append(h, "X-Amz-Target: " TARGET_PREFIX "GetAuthorizationToken");
    h = curl_slist_append(h, auth);
    snprintf(url, sizeof url, "https://%s/", api_host);
    buffer resp = {0};
    curl_easy_reset(curl);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, to_buffer);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &resp);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
    CURLcode rc = curl_easy_perform(curl);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    char token[8192], proxy[256];
    int ok = rc == CURLE_OK && status == 200 && resp.data &&
             json_member(resp.data, "authorizationToken", 0, token, sizeof token) == 0 &&
             json_member(resp.data, "proxyEndpoint", 0, proxy, sizeof proxy) == 0;
    if (!ok)
        fprintf(stderr, "registry_pull: GetAuthorizationToken: %s %ld %s\n", rc ? errbuf : "HTTP", status,
                resp.data ? resp.data : "");
    free(resp.data);
    if (!ok)
        return -1;
    snprintf(basic, cap, "Authorization: Basic %s", token);
    snprintf(registry, rcap, "%s", proxy); /* https://<account>.dkr.ecr.<region>.amazonaws.com */
    return 0;
}

/* ---- the registry --------------------------------------------------------------------- */

/* A header line "Name: value" of the response, value into out. */
typedef struct header_grab {
    const char *name;
    char value[128];
} header_grab;

static size_t grab_header(char *p, size_t size, size_t n, void *user)
{
    header_grab *g = user;
    size_t bytes = size * n, k = strlen(g->name);
    if (bytes > k + 1 && strncasecmp(p, g->name, k) == 0 && p[k] == ':') {
        const char *v = p + k + 1 + strspn(p + k + 1, " ");
        size_t len = strcspn(v, "\r\n");
        if (len < sizeof g->value) {
            memcpy(g->value, v, len);
            g->value[len] = '\0';
        }
    }
    return bytes;
}

/* A GET (or HEAD) of `url` with the registry's credentials; the HTTP status,
 * or -1 after a transport failure (reported). */
static long registry_get(const char *url, const char *basic, struct curl_slist *extra, int head, buffer *body,
                         header_grab *grab)
{
    struct curl_slist *h = curl_slist_append(NULL, basic);
    for (struct curl_slist *e = extra; e; e = e->next)
        h = curl_slist_append(h, e->data);
    curl_easy_reset(curl);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L); /* a blob GET: ECR's 307 to S3 */
    curl_easy_setopt(curl, CURLOPT_NOBODY, head ? 1L : 0L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, to_buffer);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, body);
    if (grab) {
        curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, grab_header);
        curl_easy_setopt(curl, CURLOPT_HEADERDATA, grab);
    }
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
    errbuf[0] = '\0';
    CURLcode rc = curl_easy_perform(curl);
    curl_slist_free_all(h);
    if (rc != CURLE_OK) {
        fprintf(stderr, "registry_pull: %s: curl: %s\n", url, errbuf[0] ? errbuf : curl_easy_strerror(rc));
        return -1;
    }
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    return status;
}

static int pull(const char *repo, const char *tag)
{
    char basic[8300], registry[256], url[1024], digest[128], want[128], hexd[65];
    if (login(basic, sizeof basic, registry, sizeof registry) < 0)
        return -1;
    printf("logged in to %s\n", registry);

    /* HEAD: the manifest's digest, as the registry states it. */
    header_grab grab = {"Docker-Content-Digest", ""};
    buffer none = {0};
    snprintf(url, sizeof url, "%s/v2/%s/manifests/%s", registry, repo, tag);
    struct curl_slist *accept = curl_slist_append(NULL, "Accept: " MANIFEST_TYPES_OCI);
    accept = curl_slist_append(accept, "Accept: " MANIFEST_TYPES_V2);
    long status = registry_get(url, basic, accept, 1, &none, &grab);
    free(none.data);
    if (status != 200 || !grab.value[0]) {
        curl_slist_free_all(accept);
        if (status > 0)
            fprintf(stderr, "registry_pull: HEAD %s: HTTP %ld, digest \"%s\"\n", url, status, grab.value);
        return -1;
    }
    snprintf(want, sizeof want, "%s", grab.value);

    buffer manifest = {0};
    status = registry_get(url, basic, accept, 0, &manifest, NULL);
    curl_slist_free_all(accept);
    if (status != 200 || !manifest.data) {
        if (status > 0)
            fprintf(stderr, "registry_pull: GET %s: HTTP %ld: %s\n", url, status, manifest.data ? manifest.data : "");
        free(manifest.data);
        return -1;
    }
    sha256_hex(manifest.data, manifest.len, hexd);
    snprintf(digest, sizeof digest, "sha256:%s", hexd);
    if (strcmp(digest, want) != 0) {
        fprintf(stderr, "registry_pull: the manifest's bytes are %s, the registry said %s\n", digest, want);
        free(manifest.data);
        return -1;
    }
    printf("manifest %s:%s is %s (%zu bytes)\n", repo, tag, digest, manifest.len);

    /* Each descriptor: the config, then the layers, each digest and size checked. */
    int rc = 0, n = 0;
    size_t total = 0;
    for (; rc == 0 && n < MAX_BLOBS && json_member(manifest.data, "digest", n, want, sizeof want) == 0; n++) {
        char size_text[32] = "";
        const char *d = strstr(manifest.data, want);
        const char *sz = d;
        /* The descriptor's "size": the member of the same object (before or after). */
        while (sz > manifest.data && *sz != '{')
            sz--;
        const char *s = strstr(sz, "\"size\"");
        if (s) {
            s += 6 + strspn(s + 6, " \t\r\n:");
            snprintf(size_text, sizeof size_text, "%.*s", (int)strspn(s, "0123456789"), s);
        }
        buffer blob = {0};
        snprintf(url, sizeof url, "%s/v2/%s/blobs/%s", registry, repo, want);
        status = registry_get(url, basic, NULL, 0, &blob, NULL);
        sha256_hex(blob.data ? blob.data : "", blob.len, hexd);
        snprintf(digest, sizeof digest, "sha256:%s", hexd);
        if (status != 200 || strcmp(digest, want) != 0 || strtoull(size_text, NULL, 10) != blob.len) {
            if (status >= 0)
                fprintf(stderr, "registry_pull: blob %s: HTTP %ld, %zu bytes (descriptor: %s), digest %s\n", want,
                        status, blob.len, size_text, digest);
            rc = -1;
        } else {
            printf("blob %s: %zu bytes, digest verified\n", want, blob.len);
            total += blob.len;
        }
        free(blob.data);
    }
    free(manifest.data);
    if (rc == 0 && n < 2) {
        fprintf(stderr, "registry_pull: the manifest names %d blobs (an index is not pulled here)\n", n);
        rc = -1;
    }
    if (rc == 0)
        printf("registry_pull: pulled %s:%s, %d blobs, %zu bytes, every digest verified\n", repo, tag, n, total);
    return rc;
}

int main(int argc, char **argv)
{
    access_key = getenv("AWS_ACCESS_KEY_ID");
    secret_key = getenv("AWS_SECRET_ACCESS_KEY");
    if (!access_key || !secret_key) {
        fprintf(stderr, "registry_pull: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY\n");
        return 2;
    }
    if (getenv("AWS_REGION") && *getenv("AWS_REGION"))
        region = getenv("AWS_REGION");
    snprintf(api_host, sizeof api_host, "api.ecr.%s.amazonaws.com", region);
    char ref[512], *tag;
    snprintf(ref, sizeof ref, "%s", argc > 1 ? argv[1] : "edge-agent:v1");
    tag = strrchr(ref, ':');
    if (tag)
        *tag++ = '\0';
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return 1;
    curl = curl_easy_init();
    int rc = curl ? pull(ref, tag && *tag ? tag : "latest") : -1;
    curl_easy_cleanup(curl);
    curl_global_cleanup();
    return rc == 0 ? 0 : 1;
}
