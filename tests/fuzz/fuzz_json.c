/*
 * Fuzz target: the request parser's fast path (src/json_parse.c) and the
 * wire level's encoder against jansson.  Whatever em_json_parse takes,
 * json_loadb must take too and build the same tree: the same values of the same types, members in the same
 * order (compared through jansson's own compact serialisation, which keeps
 * insertion order and tells 1 from 1.0).  What it does not take is jansson's
 * to answer, so a NULL is always allowed.  And whatever jansson reads, the
 * wire level's encoder (src/wire.c) must write as json_dumps writes it,
 * byte for byte.  abort() on any difference.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static char *dumped(json_t *doc)
{
    return json_dumps(doc, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(17));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_error_t jerr;
    json_t *ref = json_loadb((const char *)data, size, 0, &jerr);
    bool oom = false;
    json_t *fast = em_json_parse((const char *)data, size, &oom);
    if (oom) {
        fprintf(stderr, "out of memory reported with memory to spare\n");
        abort();
    }
    if (fast && !ref) {
        fprintf(stderr, "fast path took what jansson refuses: %s\n", jerr.text);
        abort();
    }
    if (fast) {
        char *a = dumped(fast), *b = dumped(ref);
        if (!a || !b || strcmp(a, b) != 0 || !json_equal(fast, ref)) {
            fprintf(stderr, "trees differ:\n fast:    %s\n jansson: %s\n", a ? a : "(null)", b ? b : "(null)");
            abort();
        }
        free(a);
        free(b);
    }
    if (ref) {
        /* the wire level's encoder writes jansson's bytes */
        char *mine = NULL, *theirs = json_dumps(ref, JSON_COMPACT | JSON_REAL_PRECISION(15));
        size_t len = 0;
        if (em_wire_dump(ref, &mine, &len) < 0 || !theirs || len != strlen(theirs) || memcmp(mine, theirs, len) != 0) {
            fprintf(stderr, "encoders differ:\n ecrmock: %s\n jansson: %s\n", mine ? mine : "(failed)",
                    theirs ? theirs : "(failed)");
            abort();
        }
        free(mine);
        free(theirs);
    }
    json_decref(fast);
    json_decref(ref);
    return 0;
}
