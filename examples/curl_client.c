/*
 * curl_client: a small ECR push/pull tool, written the way edge agents and
 * CI helpers are: the endpoint is hard-coded, requests are signed with its
 * own SigV4 code (OpenSSL), sent with libcurl's easy interface, and answers
 * are collected into a fixed-size buffer by a write callback.  It knows
 * nothing of ecrmock.
 *
 * It runs GetAuthorizationToken, CreateRepository (an existing repository
 * is fine, and so is an image pushed before), the layer upload flow for a config and a layer
 * (BatchCheckLayerAvailability, then InitiateLayerUpload, UploadLayerPart,
 * CompleteLayerUpload for a layer not there yet), PutImage, BatchGetImage, and
 * downloads the layer from the URL GetDownloadUrlForLayer hands out.  A
 * transport error or a 5xx is retried twice, after 1 s and then 2 s.  It exits 0 when everything
 * checked out, 1 on any failure (the reason on stderr), 2 without
 * credentials.
 *
 * Credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; the region:
 * AWS_REGION (us-east-1 by default), whose endpoint
 * https://api.ecr.<region>.amazonaws.com/ it calls.  Usage:
 *   curl_client [repository]          (default: edge-agent)
 *
 * tests/unit/test_curl.c runs it against ecrmock through libecrmock_curl, linked
 * with --wrap and as an LD_PRELOAD object: see README, "The libcurl level".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "ecr_sigv4.h"

/* The endpoint of the region: AWS_REGION, as the AWS tools read it. */
static const char *REGION = "us-east-1";
static char HOST[128], ENDPOINT[160];
#define TARGET_PREFIX "AmazonEC2ContainerRegistry_V20150921."
#define MAX_ATTEMPTS 3
#define BACKOFF_MS 1000L /* before the second attempt; doubled before each next one */

/* ---- the response buffer -------------------------------------------------- */

static char resp_buf[16384];
static size_t resp_len;

static size_t collect(char *p, size_t size, size_t n, void *user)
{
    (void)user;
    size_t bytes = size * n;
    if (resp_len + bytes >= sizeof resp_buf)
        return 0; /* no room: libcurl ends the transfer with CURLE_WRITE_ERROR */
    memcpy(resp_buf + resp_len, p, bytes);
    resp_len += bytes;
    resp_buf[resp_len] = '\0';
    return bytes;
}

/* ---- hashing and signing ------------------------------------------------------------ */

static const char *access_key, *secret_key;

/* The Authorization header of an ECR call (examples/ecr_sigv4.h). */
static void sign(const char *target, const char *body, const char *amz_date, char *auth, size_t cap)
{
    ecr_sign(HOST, REGION, access_key, secret_key, target, body, amz_date, auth, cap);
}

/* ---- a little JSON ------------------------------------------------------------------ */

/* The string member `key` of a JSON text, unescaped into out; 0 or -1. */
static int json_string(const char *json, const char *key, char *out, size_t cap)
{
    char pat[128];
    snprintf(pat, sizeof pat, "\"%s\":\"", key);
    const char *p = strstr(json, pat);
    if (!p)
        return -1;
    p += strlen(pat);
    size_t n = 0;
    for (; *p && *p != '"'; p++) {
        char c = *p;
        if (c == '\\') {
            c = *++p;
            if (c == 'n')
                c = '\n';
            else if (c == 't')
                c = '\t';
            else if (c == 'u') { /* ASCII only */
                unsigned v = 0;
                if (sscanf(p + 1, "%4x", &v) != 1 || v > 127)
                    return -1;
                c = (char)v;
                p += 4;
            } else if (c != '"' && c != '\\' && c != '/') {
                return -1;
            }
        }
        if (n + 1 >= cap)
            return -1;
        out[n++] = c;
    }
    out[n] = '\0';
    return *p == '"' ? 0 : -1;
}

/* `s` as the body of a JSON string (quotes and backslashes escaped). */
static void json_escape(const char *s, char *out, size_t cap)
{
    size_t n = 0;
    for (; *s && n + 3 < cap; s++) {
        if (*s == '"' || *s == '\\')
            out[n++] = '\\';
        out[n++] = *s;
    }
    out[n] = '\0';
}

/* ---- calling ECR -------------------------------------------------------------------- */

static CURL *curl;
static char errbuf[CURL_ERROR_SIZE];

static int retryable(CURLcode rc, long status)
{
    return rc == CURLE_COULDNT_CONNECT || rc == CURLE_OPERATION_TIMEDOUT || rc == CURLE_RECV_ERROR ||
           (rc == CURLE_OK && status >= 500);
}

/* POSTs one signed call; the answer in resp_buf.  Returns the HTTP status,
 * or -1 after a transport failure (reported). */
static long ecr_call(const char *action, const char *body)
{
    char target[128], amz_date[32], date_h[64], target_h[160], auth[512];
    snprintf(target, sizeof target, TARGET_PREFIX "%s", action);
    snprintf(target_h, sizeof target_h, "X-Amz-Target: %s", target);
    CURLcode rc = CURLE_OK;
    long status = 0;
    for (int attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(amz_date, sizeof amz_date, "%Y%m%dT%H%M%SZ", &tm);
        snprintf(date_h, sizeof date_h, "X-Amz-Date: %s", amz_date);
        sign(target, body, amz_date, auth, sizeof auth);

        struct curl_slist *h = NULL;
        h = curl_slist_append(h, "Content-Type: application/x-amz-json-1.1");
        h = curl_slist_append(h, date_h);
        h = curl_slist_append(h, target_h);
        h = curl_slist_append(h, auth);
        h = curl_slist_append(h, "Expect:");

        curl_easy_reset(curl);
        curl_easy_setopt(curl, CURLOPT_URL, ENDPOINT);
        curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
        curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
        curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
        curl_easy_setopt(curl, CURLOPT_USERAGENT, "curl_client/1.0");
        resp_len = 0;
        resp_buf[0] = '\0';
        errbuf[0] = '\0';
        rc = curl_easy_perform(curl);
        status = 0;
        if (rc == CURLE_OK)
            curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
        curl_slist_free_all(h);
        if (!retryable(rc, status) || attempt == MAX_ATTEMPTS)
            break;
        long wait_ms = BACKOFF_MS << (attempt - 1);
        fprintf(stderr, "curl_client: %s: attempt %d failed (%s), retrying in %ld ms\n", action, attempt,
                rc != CURLE_OK ? curl_easy_strerror(rc) : "server error", wait_ms);
        struct timespec wait = {wait_ms / 1000, (wait_ms % 1000) * 1000000L};
        nanosleep(&wait, NULL);
    }
    if (rc != CURLE_OK) {
        fprintf(stderr, "curl_client: %s: curl: %s\n", action, errbuf[0] ? errbuf : curl_easy_strerror(rc));
        return -1;
    }
    return status;
}

/* A call that must answer 200; its error reported otherwise. */
static int ecr_ok(const char *action, const char *body)
{
    long status = ecr_call(action, body);
    if (status == 200)
        return 0;
    if (status > 0)
        fprintf(stderr, "curl_client: %s: HTTP %ld: %s\n", action, status, resp_buf);
    return -1;
}

/* ---- the flows --------------------------------------------------------------------- */

static const char *repo;

/* Uploads one blob in one part; its digest in `digest`. */
static int upload_blob(const unsigned char *data, size_t len, char digest[72])
{
    static char body[12000];
    char upload_id[128], got[80], hexd[65];
    sha256_hex(data, len, hexd);
    snprintf(digest, 72, "sha256:%s", hexd);

    /* Already there (an earlier run): nothing to upload. */
    snprintf(body, sizeof body, "{\"repositoryName\":\"%s\",\"layerDigests\":[\"%s\"]}", repo, digest);
    if (ecr_ok("BatchCheckLayerAvailability", body) < 0)
        return -1;
    if (strstr(resp_buf, "\"layerAvailability\":\"AVAILABLE\""))
        return 0;

    snprintf(body, sizeof body, "{\"repositoryName\":\"%s\"}", repo);
    if (ecr_ok("InitiateLayerUpload", body) < 0 || json_string(resp_buf, "uploadId", upload_id, sizeof upload_id) < 0)
        return -1;

    static unsigned char b64[10000];
    if (4 * ((len + 2) / 3) + 1 > sizeof b64)
        return -1;
    EVP_EncodeBlock(b64, data, (int)len);
    snprintf(body, sizeof body,
             "{\"repositoryName\":\"%s\",\"uploadId\":\"%s\",\"partFirstByte\":0,\"partLastByte\":%zu,"
             "\"layerPartBlob\":\"%s\"}",
             repo, upload_id, len - 1, b64);
    if (ecr_ok("UploadLayerPart", body) < 0)
        return -1;

    snprintf(body, sizeof body, "{\"repositoryName\":\"%s\",\"uploadId\":\"%s\",\"layerDigests\":[\"%s\"]}", repo,
             upload_id, digest);
    if (ecr_ok("CompleteLayerUpload", body) < 0 || json_string(resp_buf, "layerDigest", got, sizeof got) < 0)
        return -1;
    if (strcmp(got, digest) != 0) {
        fprintf(stderr, "curl_client: CompleteLayerUpload: digest %s, expected %s\n", got, digest);
        return -1;
    }
    return 0;
}

/* GETs a presigned URL into resp_buf; the HTTP status, or -1. */
static long download(const char *url)
{
    curl_easy_reset(curl);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
    resp_len = 0;
    errbuf[0] = '\0';
    CURLcode rc = curl_easy_perform(curl);
    if (rc != CURLE_OK) {
        fprintf(stderr, "curl_client: download: curl: %s\n", errbuf[0] ? errbuf : curl_easy_strerror(rc));
        return -1;
    }
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    return status;
}

static int run(void)
{
    static char body[8192], manifest[2048], escaped[4096], text[4096];
    /* ECR's tokens are about 2,400 characters, over 4,000 with role session
     * credentials: 2,048 bytes is too few (ecrmock's are ECR's size) */
    char token[8192], config_digest[72], layer_digest[72], image_digest[80], want_digest[72], hexd[65], url[2048];

    /* Who we are: the registry's login token. */
    char proxy[256], region_part[160];
    if (ecr_ok("GetAuthorizationToken", "{}") < 0 || json_string(resp_buf, "authorizationToken", token, sizeof token) < 0 ||
        json_string(resp_buf, "proxyEndpoint", proxy, sizeof proxy) < 0)
        return -1;
    snprintf(region_part, sizeof region_part, ".dkr.ecr.%s.", REGION);
    if (!strstr(proxy, region_part)) {
        fprintf(stderr, "curl_client: GetAuthorizationToken: the registry %s is not in %s\n", proxy, REGION);
        return -1;
    }
    printf("GetAuthorizationToken: a token of %zu characters for %s\n", strlen(token), proxy);

    snprintf(body, sizeof body, "{\"repositoryName\":\"%s\"}", repo);
    long status = ecr_call("CreateRepository", body);
    if (status != 200 && !(status == 400 && strstr(resp_buf, "RepositoryAlreadyExistsException"))) {
        if (status > 0)
            fprintf(stderr, "curl_client: CreateRepository: HTTP %ld: %s\n", status, resp_buf);
        return -1;
    }

    /* The image: a config and one layer. */
    static unsigned char layer[4096];
    for (size_t i = 0; i < sizeof layer; i++)
        layer[i] = (unsigned char)("edge agent layer\n"[i % 17]);
    char config[512];
    sha256_hex(layer, sizeof layer, hexd);
    snprintf(config, sizeof config,
             "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:%s\"]}}",
             hexd);
    if (upload_blob((const unsigned char *)config, strlen(config), config_digest) < 0 ||
        upload_blob(layer, sizeof layer, layer_digest) < 0)
        return -1;
    printf("uploaded %s and %s\n", config_digest, layer_digest);

    snprintf(manifest, sizeof manifest,
             "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\","
             "\"config\":{\"mediaType\":\"application/vnd.docker.container.image.v1+json\",\"size\":%zu,"
             "\"digest\":\"%s\"},\"layers\":[{\"mediaType\":\"application/vnd.docker.image.rootfs.diff.tar.gzip\","
             "\"size\":%zu,\"digest\":\"%s\"}]}",
             strlen(config), config_digest, sizeof layer, layer_digest);
    sha256_hex(manifest, strlen(manifest), hexd);
    snprintf(want_digest, sizeof want_digest, "sha256:%s", hexd);
    json_escape(manifest, escaped, sizeof escaped);
    snprintf(body, sizeof body, "{\"repositoryName\":\"%s\",\"imageTag\":\"v1\",\"imageManifest\":\"%s\"}", repo,
             escaped);
    status = ecr_call("PutImage", body);
    if (status == 400 && strstr(resp_buf, "ImageAlreadyExistsException")) {
        snprintf(image_digest, sizeof image_digest, "%s", want_digest); /* pushed before: the same image */
    } else if (status != 200 || json_string(resp_buf, "imageDigest", image_digest, sizeof image_digest) < 0) {
        if (status > 0)
            fprintf(stderr, "curl_client: PutImage: HTTP %ld: %s\n", status, resp_buf);
        return -1;
    }
    if (strcmp(image_digest, want_digest) != 0) {
        fprintf(stderr, "curl_client: PutImage: digest %s, expected %s\n", image_digest, want_digest);
        return -1;
    }
    printf("PutImage: %s:v1 is %s\n", repo, image_digest);

    snprintf(body, sizeof body, "{\"repositoryName\":\"%s\",\"imageIds\":[{\"imageTag\":\"v1\"}]}", repo);
    if (ecr_ok("BatchGetImage", body) < 0 || json_string(resp_buf, "imageManifest", text, sizeof text) < 0)
        return -1;
    if (strcmp(text, manifest) != 0 || !strstr(resp_buf, "\"failures\":[]")) {
        fprintf(stderr, "curl_client: BatchGetImage: not the manifest pushed: %s\n", resp_buf);
        return -1;
    }
    printf("BatchGetImage: the manifest came back\n");

    snprintf(body, sizeof body, "{\"repositoryName\":\"%s\",\"layerDigest\":\"%s\"}", repo, layer_digest);
    if (ecr_ok("GetDownloadUrlForLayer", body) < 0 || json_string(resp_buf, "downloadUrl", url, sizeof url) < 0)
        return -1;
    status = download(url);
    if (status != 200 || resp_len != sizeof layer || memcmp(resp_buf, layer, sizeof layer) != 0) {
        if (status > 0)
            fprintf(stderr, "curl_client: download: HTTP %ld, %zu bytes\n", status, resp_len);
        return -1;
    }
    printf("downloaded the layer: %zu bytes\n", resp_len);
    return 0;
}

int main(int argc, char **argv)
{
    access_key = getenv("AWS_ACCESS_KEY_ID");
    secret_key = getenv("AWS_SECRET_ACCESS_KEY");
    if (!access_key || !secret_key) {
        fprintf(stderr, "curl_client: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY\n");
        return 2;
    }
    repo = argc > 1 ? argv[1] : "edge-agent";
    if (getenv("AWS_REGION") && *getenv("AWS_REGION"))
        REGION = getenv("AWS_REGION");
    snprintf(HOST, sizeof HOST, "api.ecr.%s.amazonaws.com", REGION);
    snprintf(ENDPOINT, sizeof ENDPOINT, "https://%s/", HOST);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return 1;
    curl = curl_easy_init();
    int rc = curl ? run() : -1;
    curl_easy_cleanup(curl);
    curl_global_cleanup();
    if (rc == 0)
        printf("curl_client: pushed and pulled %s:v1\n", repo);
    return rc == 0 ? 0 : 1;
}
