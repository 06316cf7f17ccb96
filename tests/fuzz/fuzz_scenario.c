/*
 * Fuzz target: the scenario runner's parser (and its runner).  Any text is
 * either refused as a scenario (-1 and a message naming the JSON path) or
 * run on a fresh instance, answering a count of failed steps.  Inputs that
 * name a fixture file are skipped: the runner would read the file system.
 * scenario.dict and the corpus (clock-*.json, exponent.json) bring int64
 * edges, exponents and nested ${...} to it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ecrmock.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *scenario = json_loadb((const char *)data, size, 0, NULL);
    if (!scenario)
        return 0;
    if (json_is_string(json_object_get(scenario, "fixture")) || json_array_size(json_object_get(scenario, "steps")) > 64) {
        json_decref(scenario);
        return 0;
    }
    ecrmock_err err;
    int failed = ecrmock_scenario_run(NULL, scenario, "/nonexistent", NULL, &err);
    if (failed < -1 || (failed == -1 && (!strstr(err.path, "$") || !err.text[0])) ||
        (failed >= 0 && (err.code != ECRMOCK_ERR_OK || err.text[0])))
        abort();
    json_decref(scenario);
    return 0;
}
