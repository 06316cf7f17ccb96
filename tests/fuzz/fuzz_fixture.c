/*
 * Fuzz target: the fixture loader.  Any text is either refused with a
 * message naming the source and a JSON path, leaving the instance as it was,
 * or loaded; a loaded fixture's snapshot must load again into the same
 * snapshot, byte for byte.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ecrmock.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536)
        return 0;
    /* Every number reaches the loader (exponents, int64's edges, 1 GiB
     * layers): the budget of synthesised bytes keeps a run fast, and a
     * layer past it is one more refusal. */
    ecrmock_options o = ECRMOCK_OPTIONS_INIT;
    o.max_synth_bytes = 1 << 20;
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    ecrmock *m = ecrmock_new(&o);
    ecrmock_err err;
    if (ecrmock_fixture_load_string(m, text, "fuzz.json", &err) == 0) {
        json_t *snap = ecrmock_snapshot(m, NULL);
        ecrmock *again = ecrmock_new(&o);
        if (ecrmock_fixture_load(again, snap, "snapshot", NULL) != 0)
            abort();
        json_t *snap2 = ecrmock_snapshot(again, NULL);
        char *a = json_dumps(snap, JSON_COMPACT), *b = json_dumps(snap2, JSON_COMPACT);
        if (!a || !b || strcmp(a, b) != 0)
            abort();
        free(a);
        free(b);
        json_decref(snap);
        json_decref(snap2);
        ecrmock_free(again);
    } else {
        if (strncmp(err.path, "fuzz.json: ", 11) != 0 || !err.text[0])
            abort();
        json_t *snap = ecrmock_snapshot(m, NULL);
        if (json_array_size(json_object_get(snap, "registries")) != 0)
            abort(); /* refused whole */
        json_decref(snap);
    }
    free(text);
    ecrmock_free(m);
    return 0;
}
