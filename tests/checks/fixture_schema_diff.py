#!/usr/bin/env python3
"""The generated fixture checks (C) and python3-jsonschema agree.

Runs BUILD/fixture-schema-check (the loader's checks generated from
fixtures/fixture.schema.json) and jsonschema's Draft 2020-12 validator on
the same documents: the shipped fixtures, the edge cases below (valid by
the schema) and the invalid documents of tests/unit/fixtures-bad/.  Fails
when they disagree on valid/invalid, when a shipped fixture or an edge case
is refused, when a bad document is accepted, or when C's refusal is not at
(or under) a path jsonschema names.

Usage: tests/checks/fixture_schema_diff.py BUILD/fixture-schema-check
"""
import glob
import json
import os
import subprocess
import sys
import tempfile

try:
    import jsonschema
except ImportError:
    print("fixture_schema_diff: SKIPPED: python3-jsonschema is not installed (apt-get install python3-jsonschema)")
    sys.exit(0)

os.chdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
checker = os.path.abspath(sys.argv[1])


def repo(**kw):
    r = {"name": "web"}
    r.update(kw)
    return {"registries": [{"repositories": [r]}]}


# Valid by the schema, at its edges (the loader may still refuse some of them
# on rules a schema cannot say, as ECR's repository name pattern).
EDGES = {
    "clock-last-second": {"clock": 253402300799.999},
    "clock-zero": {"clock": 0},
    "clock-fraction": {"clock": "2024-01-01T00:00:00.123456Z"},
    "name-two-characters-four-bytes": repo(name="\u00e9\u00e9"),
    "name-256": repo(name="a" * 256),
    "exclusion-filters-five": repo(imageTagMutabilityExclusionFilters=[{"filterType": "WILDCARD", "filter": "a*"}] * 5),
    "tags-50": repo(tags=[{"Key": "k%d" % i, "Value": "v"} for i in range(50)]),
    "layer-size-1gib": repo(layers=[{"size": 1073741824, "seed": -1}]),
    "image-tag-300": repo(images=[{"layers": [], "tags": ["t" * 300]}]),
    "fault-latency-max": {"faults": [{"latencyMs": 3153600000000, "probability": 1, "status": 599}]},
    "fault-headers": {"faults": [{"headers": {"a": "b", "c": True, "d": False}}]},
    "account-settings": {"registries": [{"accountSettings": {"X": "Y"}}]},
    "policy-object": repo(policy={"Version": "2012-10-17"}),
}

schema = json.load(open("fixtures/fixture.schema.json"))
validator = jsonschema.Draft202012Validator(schema)
tmp = tempfile.mkdtemp(prefix="fixture-schema-diff.")
edge_files = []
for name, doc in sorted(EDGES.items()):
    path = os.path.join(tmp, name + ".json")
    with open(path, "w") as f:
        json.dump(doc, f)
    edge_files.append(path)
good = sorted(p for p in glob.glob("fixtures/*.json") if not p.endswith(".schema.json")) + edge_files
bad = sorted(glob.glob("tests/unit/fixtures-bad/*.json"))

out = subprocess.run([checker] + good + bad, capture_output=True, text=True, check=True).stdout
c_says = {}
for line in out.splitlines():
    fields = line.split("\t")
    c_says[fields[0]] = fields[1:]

failed = 0


def fail(msg):
    global failed
    failed += 1
    print("fixture_schema_diff: " + msg)


for path in good + bad:
    doc = json.load(open(path))
    errors = list(validator.iter_errors(doc))
    py_paths = ["$" + "".join("[%d]" % p if isinstance(p, int) else ".%s" % p for p in e.absolute_path)
                for e in errors]
    verdict = c_says.get(path, ["missing"])
    c_valid = verdict[0] == "valid"
    if c_valid != (not errors):
        fail("%s: C says %s, jsonschema says %s" % (path, " ".join(verdict), "; ".join(
            "%s: %s" % (p, e.message[:120]) for p, e in zip(py_paths, errors)) or "valid"))
        continue
    if path in good and errors:
        fail("%s: should be valid: %s" % (path, errors[0].message[:200]))
    if path in bad and not errors:
        fail("%s: should be invalid, both accept it" % path)
    if errors:
        where = verdict[1].split(": ", 1)[1] if ": " in verdict[1] else verdict[1]
        if not any(where == p or where.startswith(p + ".") or where.startswith(p + "[") for p in py_paths):
            fail("%s: C refuses at %s, jsonschema at %s" % (path, where, ", ".join(py_paths)))

for f in edge_files:
    os.unlink(f)
os.rmdir(tmp)
print("fixture_schema_diff: %d document(s) (%d valid, %d invalid): %s" %
      (len(good) + len(bad), len(good), len(bad), "C and jsonschema agree" if not failed else "%d FAILED" % failed))
sys.exit(1 if failed else 0)
