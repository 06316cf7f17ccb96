/*
 * fixture-schema-check FILE...: each fixture file through the loader's
 * structural checks only (src/tooling/fixture_schema_gen.c, generated from
 * fixtures/fixture.schema.json), one line each:
 *   FILE<TAB>valid
 *   FILE<TAB>invalid<TAB>PATH<TAB>TEXT
 * (a file that is not JSON: "notjson").  tests/checks/fixture_schema_diff.py
 * compares these with python3-jsonschema's verdicts.
 */
#include <stdio.h>
#include <string.h>

#include "tooling/tooling.h"

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        json_error_t jerr;
        json_t *doc = json_load_file(argv[i], JSON_DECODE_ANY, &jerr);
        if (!doc) {
            printf("%s\tnotjson\n", argv[i]);
            continue;
        }
        em_loader ld = {.source = argv[i]};
        snprintf(ld.path, sizeof ld.path, "$");
        if (em_fx_schema_check(&ld, doc) == 0)
            printf("%s\tvalid\n", argv[i]);
        else
            printf("%s\tinvalid\t%s\t%s\n", argv[i], ld.err.path, ld.err.text);
        json_decref(doc);
    }
    return 0;
}
