#!/usr/bin/env python3
"""Validates the shipped fixtures and scenarios against their JSON Schemas.

Usage: tools/check_schemas.py   (from the repository's top; `make check-schemas`)
Needs python3-jsonschema (Debian).
"""
import glob
import json
import sys

try:
    import jsonschema
except ImportError:
    sys.exit("check_schemas: needs python3-jsonschema: apt-get install python3-jsonschema")

failed = 0
checked = 0
for schema_path, pattern in (("fixtures/fixture.schema.json", "fixtures/*.json"),
                             ("fixtures/scenario.schema.json", "fixtures/scenarios/*.json")):
    try:
        schema = json.load(open(schema_path))
    except FileNotFoundError:
        continue
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    for path in sorted(glob.glob(pattern)):
        if path.endswith(".schema.json"):
            continue
        checked += 1
        for error in validator.iter_errors(json.load(open(path))):
            failed += 1
            where = "$" + "".join("[%d]" % p if isinstance(p, int) else ".%s" % p for p in error.absolute_path)
            print("%s: %s: %s" % (path, where, error.message))
print("check_schemas: %d file(s) checked, %d error(s)" % (checked, failed))
sys.exit(1 if failed else 0)
