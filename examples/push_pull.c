/*
 * push_pull: an image's whole life in ECR, against an in-process fake.
 *
 * It does what a push tool and a pull tool do, at the wire level (the AWS
 * JSON 1.1 bodies a real client sends and parses): create a repository,
 * check which layers are there, upload a layer in parts, put the manifest,
 * pull it back by tag, describe it, get a layer's download URL and fetch it,
 * then delete the image.  Each step prints the request and the answer.
 *
 * Build and run: make demo
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "ecrmock.h"

static int step = 0;

/* One wire call: prints the target, the request body and the response. */
static json_t *wire(ecrmock *m, const char *action, json_t *req, int want_status)
{
    char target[128];
    snprintf(target, sizeof target, "%s%s", ECRMOCK_TARGET_PREFIX, action);
    char *body = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    char *resp = NULL;
    size_t resp_len = 0;
    int status = ecrmock_call_raw(m, target, body, strlen(body), &resp, &resp_len);
    printf("\n%2d. POST / X-Amz-Target: %s\n    > %.200s%s\n    < %d %.300s%s\n", ++step, target, body,
           strlen(body) > 200 ? "..." : "", status, resp ? resp : "(none)", resp_len > 300 ? "..." : "");
    free(body);
    if (status != want_status) {
        fprintf(stderr, "push_pull: %s answered %d, expected %d\n", action, status, want_status);
        ecrmock_buffer_free(resp);
        exit(1);
    }
    json_t *doc = json_loadb(resp, resp_len, 0, NULL);
    ecrmock_buffer_free(resp);
    return doc;
}

static char *base64(const unsigned char *p, size_t n)
{
    char *s = malloc(4 * ((n + 2) / 3) + 1);
    EVP_EncodeBlock((unsigned char *)s, p, (int)n);
    return s;
}

static void sha256_digest(const void *p, size_t n, char out[ECRMOCK_DIGEST_SIZE])
{
    unsigned char md[32];
    EVP_Digest(p, n, md, NULL, EVP_sha256(), NULL);
    strcpy(out, "sha256:");
    for (int i = 0; i < 32; i++)
        sprintf(out + 7 + 2 * i, "%02x", md[i]);
}

/* Uploads `len` bytes as a layer in parts of `part` bytes; returns its digest. */
static void upload_layer(ecrmock *m, const char *repo, const unsigned char *bytes, size_t len, size_t part,
                         char digest[ECRMOCK_DIGEST_SIZE])
{
    sha256_digest(bytes, len, digest);
    json_t *r = wire(m, "BatchCheckLayerAvailability",
                     json_pack("{s:s, s:[s]}", "repositoryName", repo, "layerDigests", digest), 200);
    json_decref(r);
    r = wire(m, "InitiateLayerUpload", json_pack("{s:s}", "repositoryName", repo), 200);
    char upload_id[64];
    snprintf(upload_id, sizeof upload_id, "%s", json_string_value(json_object_get(r, "uploadId")));
    json_decref(r);
    for (size_t off = 0; off < len; off += part) {
        size_t n = len - off < part ? len - off : part;
        char *blob = base64(bytes + off, n);
        r = wire(m, "UploadLayerPart",
                 json_pack("{s:s, s:s, s:I, s:I, s:s}", "repositoryName", repo, "uploadId", upload_id, "partFirstByte",
                           (json_int_t)off, "partLastByte", (json_int_t)(off + n - 1), "layerPartBlob", blob),
                 200);
        free(blob);
        json_decref(r);
    }
    r = wire(m, "CompleteLayerUpload",
             json_pack("{s:s, s:s, s:[s]}", "repositoryName", repo, "uploadId", upload_id, "layerDigests", digest), 200);
    json_decref(r);
}

int main(void)
{
    ecrmock_options opts = ECRMOCK_OPTIONS_INIT;
    opts.min_part_size = 4096; /* ECR wants 5 MiB parts; a demo layer is smaller */
    ecrmock *m = ecrmock_new(&opts);
    if (!m)
        return 1;
    printf("ecrmock %s: a fake ECR for account %s in %s\n", ecrmock_version(), ECRMOCK_DEFAULT_ACCOUNT,
           ECRMOCK_DEFAULT_REGION);
    const char *repo = "team/web";

    json_t *r = wire(m, "CreateRepository", json_pack("{s:s}", "repositoryName", repo), 200);
    json_decref(r);

    /* A 10 KiB layer in 4 KiB parts, and a config blob in one part. */
    size_t layer_len = 10240;
    unsigned char *layer = malloc(layer_len);
    for (size_t i = 0; i < layer_len; i++)
        layer[i] = (unsigned char)(i * 7 + 3);
    char layer_digest[ECRMOCK_DIGEST_SIZE], config_digest[ECRMOCK_DIGEST_SIZE];
    upload_layer(m, repo, layer, layer_len, 4096, layer_digest);
    const char *config = "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{}}";
    upload_layer(m, repo, (const unsigned char *)config, strlen(config), 4096, config_digest);

    json_t *manifest = json_pack("{s:i, s:s, s:{s:s, s:i, s:s}, s:[{s:s, s:I, s:s}]}", "schemaVersion", 2, "mediaType",
                                 "application/vnd.docker.distribution.manifest.v2+json", "config", "mediaType",
                                 "application/vnd.docker.container.image.v1+json", "size", (int)strlen(config),
                                 "digest", config_digest, "layers", "mediaType",
                                 "application/vnd.docker.image.rootfs.diff.tar.gzip", "size", (json_int_t)layer_len,
                                 "digest", layer_digest);
    char *manifest_text = json_dumps(manifest, JSON_COMPACT);
    json_decref(manifest);
    char image_digest[ECRMOCK_DIGEST_SIZE];
    sha256_digest(manifest_text, strlen(manifest_text), image_digest);

    r = wire(m, "PutImage", json_pack("{s:s, s:s, s:s}", "repositoryName", repo, "imageManifest", manifest_text,
                                      "imageTag", "v1"),
             200);
    const char *got = json_string_value(json_object_get(json_object_get(json_object_get(r, "image"), "imageId"), "imageDigest"));
    printf("    digest computed by the fake: %s (%s)\n", got, strcmp(got, image_digest) == 0 ? "matches" : "DIFFERS");
    json_decref(r);

    r = wire(m, "BatchGetImage", json_pack("{s:s, s:[{s:s}]}", "repositoryName", repo, "imageIds", "imageTag", "v1"),
             200);
    json_decref(r);
    r = wire(m, "DescribeImages", json_pack("{s:s}", "repositoryName", repo), 200);
    json_decref(r);

    r = wire(m, "GetDownloadUrlForLayer", json_pack("{s:s, s:s}", "repositoryName", repo, "layerDigest", layer_digest),
             200);
    void *bytes = NULL;
    size_t n = 0;
    int status = ecrmock_fetch_url(m, json_string_value(json_object_get(r, "downloadUrl")), &bytes, &n);
    printf("    GET downloadUrl: %d, %zu bytes (%s)\n", status, n,
           n == layer_len && memcmp(bytes, layer, n) == 0 ? "the layer's bytes" : "WRONG BYTES");
    ecrmock_buffer_free(bytes);
    json_decref(r);

    /* A repository that holds images is not deleted without force. */
    r = wire(m, "DeleteRepository", json_pack("{s:s}", "repositoryName", repo), 400);
    json_decref(r);
    r = wire(m, "BatchDeleteImage", json_pack("{s:s, s:[{s:s}]}", "repositoryName", repo, "imageIds", "imageTag", "v1"),
             200);
    json_decref(r);
    r = wire(m, "ListImages", json_pack("{s:s}", "repositoryName", repo), 200);
    json_decref(r);
    r = wire(m, "DeleteRepository", json_pack("{s:s}", "repositoryName", repo), 200);
    json_decref(r);

    free(manifest_text);
    free(layer);
    ecrmock_free(m);
    printf("\npush_pull: done\n");
    return 0;
}
