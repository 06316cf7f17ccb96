/*
 * Fuzz target: the hot actions' tree-free forms (src/areas/areas.h) against
 * their handlers.  The first byte picks PutImage, BatchGetImage,
 * DescribeRepositories, DescribeImages, ListImages or
 * BatchCheckLayerAvailability, the rest is the body; the call runs on two
 * instances built alike, one with the forms and one with the handlers only.
 * The status, the answer's bytes, the state (the snapshot) and the journal
 * must be the same.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

static const char *const actions[] = {"PutImage",   "BatchGetImage", "DescribeRepositories", "DescribeImages",
                                      "ListImages", "BatchCheckLayerAvailability"};

static ecrmock *fresh(bool tree_only)
{
    ecrmock *m = ecrmock_new(NULL);
    if (!m)
        abort();
    m->tree_only = tree_only;
    json_t *r = NULL;
    json_t *req = json_pack("{s:s}", "repositoryName", "web");
    ecrmock_call(m, "CreateRepository", req, &r);
    json_decref(req);
    json_decref(r);
    char cfg[ECRMOCK_DIGEST_SIZE], layer[ECRMOCK_DIGEST_SIZE];
    ecrmock_put_layer(m, NULL, "web", "{}", 2, cfg, NULL);
    ecrmock_put_layer(m, NULL, "web", "layer", 5, layer, NULL);
    char manifest[1024];
    snprintf(manifest, sizeof manifest,
             "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\","
             "\"config\":{\"mediaType\":\"application/vnd.docker.container.image.v1+json\",\"size\":2,\"digest\":\"%s\"},"
             "\"layers\":[{\"mediaType\":\"application/vnd.docker.image.rootfs.diff.tar.gzip\",\"size\":5,\"digest\":\"%s\"}]}",
             cfg, layer);
    req = json_pack("{s:s, s:s, s:s}", "repositoryName", "web", "imageManifest", manifest, "imageTag", "v1");
    ecrmock_call(m, "PutImage", req, &r);
    json_decref(req);
    json_decref(r);
    return m;
}

static char *dump(json_t *v)
{
    char *s = json_dumps(v, JSON_SORT_KEYS | JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(v);
    if (!s)
        abort();
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *action = actions[data[0] % (sizeof actions / sizeof actions[0])];
    ecrmock *a = fresh(false), *b = fresh(true);
    char *oa = NULL, *ob = NULL;
    size_t la = 0, lb = 0;
    int sa = ecrmock_call_raw(a, action, (const char *)data + 1, size - 1, &oa, &la);
    int sb = ecrmock_call_raw(b, action, (const char *)data + 1, size - 1, &ob, &lb);
    if (sa != sb || la != lb || (la && memcmp(oa, ob, la) != 0)) {
        fprintf(stderr, "forms: %d %.*s\ntrees: %d %.*s\n", sa, (int)la, oa, sb, (int)lb, ob);
        abort();
    }
    char *ja = dump(ecrmock_snapshot(a, NULL)), *jb = dump(ecrmock_snapshot(b, NULL));
    if (strcmp(ja, jb) != 0)
        abort();
    free(ja);
    free(jb);
    ja = dump(ecrmock_journal_json(a, NULL));
    jb = dump(ecrmock_journal_json(b, NULL));
    if (strcmp(ja, jb) != 0)
        abort();
    free(ja);
    free(jb);
    ecrmock_buffer_free(oa);
    ecrmock_buffer_free(ob);
    ecrmock_free(a);
    ecrmock_free(b);
    return 0;
}
