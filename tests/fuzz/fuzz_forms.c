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
#include "web_image.h"

static const char *const actions[] = {"PutImage",   "BatchGetImage", "DescribeRepositories", "DescribeImages",
                                      "ListImages", "BatchCheckLayerAvailability"};

static ecrmock *fresh(bool tree_only)
{
    ecrmock *m = ecrmock_new(NULL);
    if (!m)
        abort();
    m->tree_only = tree_only;
    web_image(m);
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
