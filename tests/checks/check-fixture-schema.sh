#!/bin/sh
# The fixture format has one source, fixtures/fixture.schema.json:
#   - src/tooling/fixture_schema_gen.c is what tools/gen_fixture_checks.py
#     makes of it today (regenerated into BUILD and compared);
#   - the generated checks and python3-jsonschema agree on the shipped
#     fixtures and tests/unit/fixtures-bad/ (tests/checks/fixture_schema_diff.py).
# Each part is skipped, with a message, when its python is missing.
# Usage: tests/checks/check-fixture-schema.sh [BUILD]
set -u
cd "$(dirname "$0")/../.." || exit 2
BUILD=${1:-build}
fail=0
if command -v python3 >/dev/null 2>&1; then
    if python3 tools/gen_fixture_checks.py fixtures/fixture.schema.json > "$BUILD/fixture_schema_gen.c" &&
        cmp -s "$BUILD/fixture_schema_gen.c" src/tooling/fixture_schema_gen.c; then
        :
    else
        echo "check-fixture-schema: src/tooling/fixture_schema_gen.c is not what fixtures/fixture.schema.json gives: run make fixture-schema"
        fail=1
    fi
else
    echo "check-fixture-schema: SKIPPED: no python3 to regenerate src/tooling/fixture_schema_gen.c"
fi
# jsonschema may be in Debian's python3 only (another python3 may come first in PATH).
PY=
for p in python3 /usr/bin/python3; do
    if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import jsonschema' 2>/dev/null; then
        PY=$p
        break
    fi
done
if [ -n "$PY" ]; then
    "$PY" tests/checks/fixture_schema_diff.py "$BUILD/fixture-schema-check" || fail=1
else
    echo "fixture_schema_diff: SKIPPED: python3-jsonschema is not installed (apt-get install python3-jsonschema)"
fi
exit $fail
