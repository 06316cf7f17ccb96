/*
 * Writes the fuzzers' seed corpora from what the test suite exercises:
 * every request of a full flow over the shipped fixtures (one file per
 * journal entry, the action's index as the first byte, for fuzz_wire), and
 * the shipped fixtures with a snapshot of each (for fuzz_fixture).
 *
 * Usage: make_corpus OUTDIR fixture.json...
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "areas/areas.h"

static void write_file(const char *dir, const char *name, const void *p, size_t n)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n) {
        perror(path);
        exit(1);
    }
    fclose(f);
}

/* Every journal entry as a wire seed. */
static void dump_journal(ecrmock *m, const char *dir, int *counter)
{
    json_t *j = ecrmock_journal_json(m, NULL);
    size_t i;
    json_t *e;
    json_array_foreach(j, i, e) {
        const em_action *a = em_action_find(json_string_value(json_object_get(e, "action")));
        char *body = json_dumps(json_object_get(e, "request"), JSON_COMPACT);
        if (!a || !body)
            continue;
        size_t n = strlen(body);
        unsigned char *seed = malloc(n + 1);
        seed[0] = (unsigned char)(a - em_actions);
        memcpy(seed + 1, body, n);
        char name[64];
        snprintf(name, sizeof name, "seed-%04d", (*counter)++);
        write_file(dir, name, seed, n + 1);
        free(seed);
        free(body);
    }
    json_decref(j);
}

static void run(ecrmock *m, const char *action, const char *body)
{
    char *out = NULL;
    size_t len = 0;
    ecrmock_call_raw(m, action, body, strlen(body), &out, &len);
    free(out);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: make_corpus OUTDIR fixture.json...\n");
        return 2;
    }
    char wire[1024], fixture[1024];
    snprintf(wire, sizeof wire, "%s/wire", argv[1]);
    snprintf(fixture, sizeof fixture, "%s/fixture", argv[1]);
    mkdir(argv[1], 0755);
    mkdir(wire, 0755);
    mkdir(fixture, 0755);
    int counter = 0;
    for (int i = 2; i < argc; i++) {
        ecrmock *m = ecrmock_new(NULL);
        ecrmock_err err;
        if (ecrmock_fixture_load_file(m, argv[i], &err) != 0) {
            fprintf(stderr, "%s: %s\n", err.path, err.text);
            return 1;
        }
        json_t *snap = ecrmock_snapshot(m, NULL);
        char *text = json_dumps(snap, JSON_COMPACT);
        char name[64];
        snprintf(name, sizeof name, "snapshot-%d.json", i);
        write_file(fixture, name, text, strlen(text));
        free(text);
        json_decref(snap);
        FILE *f = fopen(argv[i], "rb");
        char buf[1 << 16];
        size_t n = f ? fread(buf, 1, sizeof buf, f) : 0;
        if (f)
            fclose(f);
        snprintf(name, sizeof name, "fixture-%d.json", i);
        write_file(fixture, name, buf, n);
        /* A pass over each action, with the fixture's first repository. */
        json_t *images = NULL;
        run(m, "DescribeRepositories", "{\"maxResults\": 2}");
        run(m, "CreateRepository", "{\"repositoryName\": \"new/repo\", \"imageTagMutability\": \"IMMUTABLE\", "
                                   "\"tags\": [{\"Key\": \"a\", \"Value\": \"b\"}]}");
        run(m, "InitiateLayerUpload", "{\"repositoryName\": \"new/repo\"}");
        run(m, "UploadLayerPart", "{\"repositoryName\": \"new/repo\", \"uploadId\": \"0fc3d7e6-1f8e-4bb9-a8a3-000000000000\", "
                                  "\"partFirstByte\": 0, \"partLastByte\": 4, \"layerPartBlob\": \"aGVsbG8=\"}");
        run(m, "CompleteLayerUpload", "{\"repositoryName\": \"new/repo\", \"uploadId\": "
                                      "\"0fc3d7e6-1f8e-4bb9-a8a3-000000000000\", \"layerDigests\": [\"sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824\"]}");
        run(m, "BatchCheckLayerAvailability", "{\"repositoryName\": \"new/repo\", \"layerDigests\": [\"sha256:00\", \"\"]}");
        run(m, "GetAuthorizationToken", "{\"registryIds\": [\"123456789012\"]}");
        run(m, "SetRepositoryPolicy", "{\"repositoryName\": \"new/repo\", \"policyText\": "
                                      "\"{\\\"Statement\\\":{\\\"Effect\\\":\\\"Allow\\\",\\\"Principal\\\":\\\"*\\\",\\\"Action\\\":\\\"ecr:*\\\"}}\"}");
        run(m, "GetRepositoryPolicy", "{\"repositoryName\": \"new/repo\"}");
        run(m, "DeleteRepositoryPolicy", "{\"repositoryName\": \"new/repo\"}");
        json_t *snapr = ecrmock_snapshot(m, NULL);
        json_t *repo = json_array_get(json_object_get(json_array_get(json_object_get(snapr, "registries"), 0), "repositories"), 0);
        const char *name0 = json_string_value(json_object_get(repo, "name"));
        images = json_object_get(repo, "images");
        json_t *img = json_array_get(images, 0);
        char body[8192];
        if (name0 && img) {
            const char *digest = json_string_value(json_object_get(img, "digest"));
            const char *tag = json_string_value(json_array_get(json_object_get(img, "tags"), 0));
            snprintf(body, sizeof body, "{\"repositoryName\": \"%s\", \"imageIds\": [{\"imageDigest\": \"%s\"}, {\"imageTag\": \"%s\"}]}",
                     name0, digest, tag ? tag : "x");
            run(m, "BatchGetImage", body);
            run(m, "DescribeImages", body);
            snprintf(body, sizeof body, "{\"repositoryName\": \"%s\", \"filter\": {\"tagStatus\": \"TAGGED\"}, \"maxResults\": 1}", name0);
            run(m, "ListImages", body);
            json_t *layer = json_array_get(json_object_get(repo, "layers"), 0);
            snprintf(body, sizeof body, "{\"repositoryName\": \"%s\", \"layerDigest\": \"%s\"}", name0,
                     json_string_value(json_object_get(layer, "digest")));
            run(m, "GetDownloadUrlForLayer", body);
            json_t *req = json_pack("{s:s, s:O, s:s}", "repositoryName", name0, "imageManifest",
                                    json_object_get(img, "manifest"), "imageTag", "copied");
            char *put = json_dumps(req, JSON_COMPACT);
            run(m, "PutImage", put);
            free(put);
            json_decref(req);
            snprintf(body, sizeof body, "{\"repositoryName\": \"%s\", \"imageIds\": [{\"imageTag\": \"copied\"}]}", name0);
            run(m, "BatchDeleteImage", body);
        }
        run(m, "DeleteRepository", "{\"repositoryName\": \"new/repo\", \"force\": true}");
        json_decref(snapr);
        dump_journal(m, wire, &counter);
        ecrmock_free(m);
    }
    printf("make_corpus: %d wire seeds and %d fixture seeds in %s\n", counter, 2 * (argc - 2), argv[1]);
    return 0;
}
