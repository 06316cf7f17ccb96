/*
 * retry_client: a push client that survives a misbehaving ECR.
 *
 * The client's code is what a careful C client does: it retries throttling
 * and server errors with exponential backoff, and resumes a layer upload
 * from the byte ECR says it last received.  The test (main) makes ECR
 * misbehave with fault rules, one line each:
 *   - the 2nd and 3rd UploadLayerPart are throttled,
 *   - the 5th UploadLayerPart is applied but its response is lost,
 *   - the first PutImage is throttled,
 * and checks, through the call journal, that the push got through anyway.
 * Backoff sleeps on the virtual clock, so the run takes no real time.
 *
 * Build and run: make build/examples/retry_client && ./build/examples/retry_client
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "ecrmock.h"

/* ---- the client under test ------------------------------------------------ */

typedef struct client {
    ecrmock *m; /* the transport: a real client would do HTTP here */
    int retries;
} client;

static int retryable(int status, const char *type)
{
    return status >= 500 || (type && strcmp(type, "ThrottlingException") == 0);
}

/* One ECR call with retries; takes the request (it is released here);
 * returns the status, *out the parsed body. */
static int ecr_call(client *c, const char *action, json_t *req, json_t **out)
{
    char target[128];
    snprintf(target, sizeof target, "%s%s", ECRMOCK_TARGET_PREFIX, action);
    char *body = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    int status = 0;
    int64_t backoff_ms = 100;
    for (int attempt = 1; attempt <= 5; attempt++) {
        char *resp = NULL;
        size_t len = 0;
        status = ecrmock_call_raw(c->m, target, body, strlen(body), &resp, &len);
        *out = json_loadb(resp, len, 0, NULL);
        ecrmock_buffer_free(resp);
        const char *type = json_string_value(json_object_get(*out, "__type"));
        if (status == 200 || !retryable(status, type))
            break;
        printf("  %s: %d %s, retrying in %lld ms\n", action, status, type ? type : "", (long long)backoff_ms);
        json_decref(*out);
        *out = NULL;
        ecrmock_clock_advance(c->m, backoff_ms, NULL); /* sleep(backoff) */
        backoff_ms *= 2;
        c->retries++;
    }
    free(body);
    return status;
}

static char *b64(const unsigned char *p, size_t n)
{
    char *s = malloc(4 * ((n + 2) / 3) + 1);
    EVP_EncodeBlock((unsigned char *)s, p, (int)n);
    return s;
}

/* Uploads a layer in parts, resuming where ECR says it stopped. */
static int upload_layer(client *c, const char *repo, const unsigned char *bytes, size_t len, size_t part,
                        const char *digest)
{
    json_t *r = NULL;
    if (ecr_call(c, "InitiateLayerUpload", json_pack("{s:s}", "repositoryName", repo), &r) != 200)
        return -1;
    char id[64];
    snprintf(id, sizeof id, "%s", json_string_value(json_object_get(r, "uploadId")));
    json_decref(r);
    size_t off = 0;
    while (off < len) {
        size_t n = len - off < part ? len - off : part;
        char *blob = b64(bytes + off, n);
        json_t *req = json_pack("{s:s, s:s, s:I, s:I, s:s}", "repositoryName", repo, "uploadId", id, "partFirstByte",
                                (json_int_t)off, "partLastByte", (json_int_t)(off + n - 1), "layerPartBlob", blob);
        free(blob);
        int st = ecr_call(c, "UploadLayerPart", req, &r);
        const char *type = json_string_value(json_object_get(r, "__type"));
        if (st == 200) {
            off += n;
        } else if (type && strcmp(type, "InvalidLayerPartException") == 0) {
            /* ECR already has more (or less) than we thought: resume there. */
            off = (size_t)(json_integer_value(json_object_get(r, "lastValidByteReceived")) + 1);
            printf("  UploadLayerPart: resuming at byte %zu\n", off);
        } else {
            json_decref(r);
            return -1;
        }
        json_decref(r);
    }
    int st = ecr_call(c, "CompleteLayerUpload",
                      json_pack("{s:s, s:s, s:[s]}", "repositoryName", repo, "uploadId", id, "layerDigests", digest), &r);
    json_decref(r);
    return st == 200 ? 0 : -1;
}

/* ---- the test ---------------------------------------------------------------------- */

static void sha256(const void *p, size_t n, char *out)
{
    unsigned char md[32];
    EVP_Digest(p, n, md, NULL, EVP_sha256(), NULL);
    strcpy(out, "sha256:");
    for (int i = 0; i < 32; i++)
        sprintf(out + 7 + 2 * i, "%02x", md[i]);
}

static long rule(ecrmock *m, const char *text)
{
    json_t *j = json_loads(text, 0, NULL);
    ecrmock_err err;
    long id = ecrmock_fault_add_json(m, j, &err);
    json_decref(j);
    if (id < 0) {
        fprintf(stderr, "retry_client: rule refused: %s\n", err.text);
        exit(1);
    }
    return id;
}

int main(void)
{
    ecrmock_options o = ECRMOCK_OPTIONS_INIT;
    o.min_part_size = 1000;
    ecrmock *m = ecrmock_new(&o);
    client c = {.m = m};

    rule(m, "{\"action\": \"UploadLayerPart\", \"nth\": 2, \"count\": 2}");
    rule(m, "{\"action\": \"UploadLayerPart\", \"nth\": 7, \"count\": 1, \"effect\": \"apply-then-error\", "
            "\"error\": \"ServerException\"}");
    rule(m, "{\"action\": \"PutImage\", \"count\": 1}");

    json_t *r = NULL;
    ecr_call(&c, "CreateRepository", json_pack("{s:s}", "repositoryName", "edge/agent"), &r);
    json_decref(r);

    unsigned char layer[5000];
    for (size_t i = 0; i < sizeof layer; i++)
        layer[i] = (unsigned char)(i * 31 + 7);
    char layer_digest[ECRMOCK_DIGEST_SIZE], config_digest[ECRMOCK_DIGEST_SIZE];
    sha256(layer, sizeof layer, layer_digest);
    const char *config = "{\"architecture\":\"arm64\",\"os\":\"linux\"}";
    sha256(config, strlen(config), config_digest);
    printf("pushing a %zu-byte layer in 1000-byte parts\n", sizeof layer);
    if (upload_layer(&c, "edge/agent", layer, sizeof layer, 1000, layer_digest) < 0 ||
        upload_layer(&c, "edge/agent", (const unsigned char *)config, strlen(config), 1000, config_digest) < 0) {
        fprintf(stderr, "retry_client: upload failed\n");
        return 1;
    }
    json_t *manifest = json_pack("{s:i, s:s, s:{s:s, s:i, s:s}, s:[{s:s, s:i, s:s}]}", "schemaVersion", 2,
                                 "mediaType", "application/vnd.oci.image.manifest.v1+json", "config", "mediaType",
                                 "application/vnd.oci.image.config.v1+json", "size", (int)strlen(config), "digest",
                                 config_digest, "layers", "mediaType", "application/vnd.oci.image.layer.v1.tar+gzip",
                                 "size", (int)sizeof layer, "digest", layer_digest);
    char *text = json_dumps(manifest, JSON_COMPACT);
    json_decref(manifest);
    int st = ecr_call(&c, "PutImage",
                      json_pack("{s:s, s:s, s:s}", "repositoryName", "edge/agent", "imageManifest", text, "imageTag",
                                "1.0"),
                      &r);
    json_decref(r);
    free(text);

    /* What the fake saw: every call, in order. */
    json_t *journal = ecrmock_journal_json(m, NULL);
    size_t i;
    json_t *e;
    printf("journal:\n");
    json_array_foreach(journal, i, e) {
        const char *err = json_string_value(json_object_get(e, "error"));
        printf("  %2zu %-22s %d%s%s\n", i + 1, json_string_value(json_object_get(e, "action")),
               (int)json_integer_value(json_object_get(e, "status")), err ? " " : "", err ? err : "");
    }
    json_decref(journal);

    void *bytes = NULL;
    size_t n = 0;
    int same = ecrmock_get_layer(m, NULL, "edge/agent", layer_digest, &bytes, &n, NULL) == ECRMOCK_ERR_OK &&
               n == sizeof layer && memcmp(bytes, layer, n) == 0;
    ecrmock_buffer_free(bytes);
    int ok = st == 200 && same && c.retries == 4 && ecrmock_call_count(m, "UploadLayerPart") == 9;
    printf("push %s after %d retries; the layer in ECR is %s\n", st == 200 ? "succeeded" : "FAILED", c.retries,
           same ? "byte for byte the one sent" : "WRONG");
    ecrmock_free(m);
    return ok ? 0 : 1;
}
