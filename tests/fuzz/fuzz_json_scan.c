/*
 * Fuzz target: the flat tokenizer (src/base/json_scan.c) against jansson.
 * For every input and both modes (flags 0, JSON_DECODE_ANY), em_jscan
 * accepts exactly when json_loadb does; on accept, the tree rebuilt from its
 * tokens (json_scan_tree.h) is json_equal to jansson's, with members in the
 * same order (their compact serialisations are the same bytes); the token
 * count is the same through em_jdoc_read's stack array and its heap array,
 * and any smaller array gets EM_JSCAN_FULL with that count.  abort() on any
 * difference.
 */
#include <stdio.h>

#include "base/base.h"

#define JSCAN_CHECK(cond, what)                                                                          \
    do {                                                                                                 \
        if (!(cond)) {                                                                                   \
            fprintf(stderr, "token check failed: %s\n", what);                                           \
            abort();                                                                                     \
        }                                                                                                \
    } while (0)
#include "json_scan_tree.h"

static void one(const uint8_t *data, size_t size, bool any)
{
    json_error_t jerr;
    json_t *ref = json_loadb((const char *)data, size, any ? JSON_DECODE_ANY : 0, &jerr);
    em_jtok stack[8];
    em_jdoc d;
    int rc = em_jdoc_read(&d, (const char *)data, size, any, stack, 8);
    if (rc == EM_JSCAN_NOMEM) {
        fprintf(stderr, "out of memory reported with memory to spare\n");
        abort();
    }
    if ((rc == EM_JSCAN_OK) != (ref != NULL)) {
        fprintf(stderr, "any_value %d: em_jscan %s, jansson %s (%s)\n", any, rc == EM_JSCAN_OK ? "accepts" : "refuses",
                ref ? "accepts" : "refuses", ref ? "" : jerr.text);
        abort();
    }
    if (rc != EM_JSCAN_OK)
        return;
    JSCAN_CHECK((d.heap != NULL) == (d.n > 8) && d.t == (d.heap ? d.heap : stack), "stack or heap");
    /* one token short: FULL, with the count */
    em_jtok spare[8];
    size_t n = 0;
    JSCAN_CHECK(em_jscan((const char *)data, size, any, spare, d.n - 1 < 8 ? d.n - 1 : 8, &n) == EM_JSCAN_FULL &&
                    n == d.n, "FULL with the exact count");
    json_t *mine = jscan_tree(&d, 0);
    JSCAN_CHECK(mine != NULL, "a tree of the tokens");
    JSCAN_CHECK(d.t[0].next == d.n, "token 0 holds them all");
    char *a = json_dumps(mine, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(17));
    char *b = json_dumps(ref, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(17));
    if (!a || !b || strcmp(a, b) != 0 || !json_equal(mine, ref)) {
        fprintf(stderr, "trees differ:\n tokens:  %s\n jansson: %s\n", a ? a : "(null)", b ? b : "(null)");
        abort();
    }
    free(a);
    free(b);
    json_decref(mine);
    json_decref(ref);
    em_jdoc_release(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    one(data, size, false);
    one(data, size, true);
    return 0;
}
