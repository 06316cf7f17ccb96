#!/usr/bin/env python3
"""Generate src/tooling/fixture_schema_gen.c from fixtures/fixture.schema.json.

The fixture format has one source: its JSON Schema.  The loader checks a
fixture's structure (types, required and unknown members, enums, patterns,
lengths, ranges, list sizes, oneOf) with C code generated here from the
schema, and checks by hand only what a schema cannot say (cross-references,
digests against bytes, region rules, calendar dates).  The result is
committed; `make fixture-schema` runs this again and `make test` checks that
the committed file is up to date.

Two readings differ from Python's jsonschema, on purpose: "integer" is a JSON
integer literal (jansson's integer: 1.0 and 1e3 are not integers; the loader reads
json_integer_value), and a pattern's "$" is the very end of the string (ECMA-262,
as JSON Schema specifies; Python's re also matches before a final newline).

Only the keywords below are implemented; any other keyword in the schema is
refused here, so the schema can never say more than the C checks do.

Usage: tools/gen_fixture_checks.py [fixtures/fixture.schema.json] > src/tooling/fixture_schema_gen.c
"""
import hashlib
import json
import sys

# Keywords that only annotate (no effect on validity).
ANNOTATIONS = {"$schema", "$id", "$comment", "title", "description", "default", "examples"}
# "errorMessage" (as ajv-errors has it; validators ignore it) is the refusal's text
# when the node's own checks (its oneOf) fail, in place of the generated one.
# Keywords the generated C implements.
IMPLEMENTED = {"type", "enum", "const", "pattern", "minLength", "maxLength", "minimum", "maximum",
               "exclusiveMinimum", "exclusiveMaximum", "errorMessage", "items", "minItems", "maxItems", "properties",
               "required", "additionalProperties", "oneOf", "$ref", "$defs"}
TYPE_TEST = {"string": "json_is_string(v)", "object": "json_is_object(v)", "array": "json_is_array(v)",
             "integer": "json_is_integer(v)", "number": "json_is_number(v)", "boolean": "json_is_boolean(v)",
             "null": "json_is_null(v)"}
TYPE_NOUN = {"string": "a string", "object": "an object", "array": "a list", "integer": "an integer",
             "number": "a number", "boolean": "true or false", "null": "null"}


class Refused(Exception):
    pass


def cstr(s):
    return json.dumps(s, ensure_ascii=True)  # a JSON string literal is a C string literal for ASCII


def quoted_list(words, last="or"):
    q = ['"%s"' % w for w in words]
    return q[0] if len(q) == 1 else ", ".join(q[:-1]) + " " + last + " " + q[-1]


def is_int(x):
    return isinstance(x, int) and not isinstance(x, bool)


def guarded(b, test, checks):
    """Emits the (condition, refusal) checks that apply when `test` holds."""
    if not checks:
        return
    b("    if (%s) {" % test)
    for cond, msg in checks:
        b("        if (%s)" % cond)
        b("            return em_fxs_fail(c, %s);" % cstr(msg))
    b("    }")


class Gen:
    def __init__(self, schema):
        self.schema = schema
        self.defs = schema.get("$defs", {})
        self.funcs = []     # C text of each function, in order
        self.protos = []
        self.patterns = []
        self.enums = []
        self.count = 0
        self.bodies = {}  # checks' text -> the function that has them

    def pattern(self, p):
        if p not in self.patterns:
            self.patterns.append(p)
        return self.patterns.index(p)

    def summary(self, s):
        """A few words for what `s` accepts (a oneOf's message)."""
        parts = []
        types = s.get("type")
        types = [types] if isinstance(types, str) else (types or [])
        noun = " or ".join(TYPE_NOUN[t] for t in types) if types else "a value"
        if "enum" in s:
            return "one of " + quoted_list(s["enum"])
        if "const" in s:
            return '"%s"' % s["const"]
        if "minimum" in s:
            parts.append("from %d" % s["minimum"])
        if "exclusiveMinimum" in s:
            parts.append("above %d" % s["exclusiveMinimum"])
        if "maximum" in s:
            parts.append("to %d" % s["maximum"])
        if "exclusiveMaximum" in s:
            parts.append("to below %d" % s["exclusiveMaximum"])
        if "pattern" in s:
            parts.append("matching %s" % s["pattern"])
        if "required" in s:
            parts.append("with " + quoted_list(s["required"], "and"))
        if "$ref" in s:
            return self.summary(self.resolve(s["$ref"], "$ref"))
        return " ".join([noun] + parts)

    def resolve(self, ref, where):
        if not ref.startswith("#/$defs/") or ref[len("#/$defs/"):] not in self.defs:
            raise Refused("%s: only references to #/$defs/<name> of this schema are implemented (%s)" % (where, ref))
        return self.defs[ref[len("#/$defs/"):]]

    def node(self, s, where, name=None):
        """Emits the function checking `s`; returns its name."""
        if not isinstance(s, dict):
            raise Refused("%s: a schema must be an object (boolean schemas are not implemented)" % where)
        for k in s:
            if k not in IMPLEMENTED and k not in ANNOTATIONS:
                raise Refused("%s: the keyword %s is not implemented by tools/gen_fixture_checks.py" % (where, k))
            if k == "$defs" and where != "$schema":
                raise Refused("%s: $defs only at the top of the schema" % where)
        anon = name is None
        body = []
        b = body.append
        types = s.get("type")
        if types is not None:
            types = [types] if isinstance(types, str) else types
            for t in types:
                if t not in TYPE_TEST:
                    raise Refused("%s.type: unknown type %s" % (where, t))
            noun = " or ".join(TYPE_NOUN[t] for t in types)
            b("    if (!(%s))" % " || ".join(TYPE_TEST[t] for t in types))
            b("        return em_fxs_fail(c, %s);" % cstr("must be " + noun))
        if "enum" in s or "const" in s:
            values = s["enum"] if "enum" in s else [s["const"]]
            if not all(isinstance(x, str) for x in values):
                raise Refused("%s: only strings are implemented in enum and const" % where)
            if values not in self.enums:
                self.enums.append(values)
            msg = ("must be one of " + quoted_list(values)) if "enum" in s else 'must be "%s"' % values[0]
            b("    if (!em_fxs_enum(v, enum_%d, %d))" % (self.enums.index(values), len(values)))
            b("        return em_fxs_fail(c, %s);" % cstr(msg))
        string_checks = []
        if "minLength" in s:
            string_checks.append(("em_fxs_length(v) < %d" % s["minLength"],
                                  "must be at least %d characters long" % s["minLength"]))
        if "maxLength" in s:
            string_checks.append(("em_fxs_length(v) > %d" % s["maxLength"],
                                  "must be at most %d characters long" % s["maxLength"]))
        if "pattern" in s:
            i = self.pattern(s["pattern"])
            string_checks.append(("!em_fxs_match(c, %d, v)" % i, "must match %s" % s["pattern"]))
        guarded(b, "json_is_string(v)", string_checks)
        num_checks = []
        for kw, op, words in (("minimum", "<", "at least"), ("exclusiveMinimum", "<=", "above"),
                              ("maximum", ">", "at most"), ("exclusiveMaximum", ">=", "below")):
            if kw in s:
                if not is_int(s[kw]) or abs(s[kw]) >= 2 ** 53:
                    raise Refused("%s.%s: only integers below 2^53 are implemented" % (where, kw))
                num_checks.append(("em_fxs_cmp(v, INT64_C(%d)) %s 0" % (s[kw], op), "must be %s %d" % (words, s[kw])))
        guarded(b, "json_is_number(v)", num_checks)
        if any(k in s for k in ("items", "minItems", "maxItems")):
            b("    if (json_is_array(v)) {")
            if "minItems" in s:
                b("        if (json_array_size(v) < %d)" % s["minItems"])
                b("            return em_fxs_fail(c, %s);" % cstr("must have at least %d items" % s["minItems"]))
            if "maxItems" in s:
                b("        if (json_array_size(v) > %d)" % s["maxItems"])
                b("            return em_fxs_fail(c, %s);" % cstr("must have at most %d items" % s["maxItems"]))
            if "items" in s:
                sub = self.node(s["items"], where + ".items")
                b("        for (size_t i = 0; i < json_array_size(v); i++)")
                b("            if (em_fxs_at_index(c, v, i, %s) < 0)" % sub)
                b("                return -1;")
            b("    }")
        if any(k in s for k in ("properties", "required", "additionalProperties")):
            props = s.get("properties", {})
            subs = [(k, self.node(p, "%s.properties.%s" % (where, k))) for k, p in props.items()]
            extra = s.get("additionalProperties", True)
            extra_fn = None
            if isinstance(extra, dict):
                extra_fn = self.node(extra, where + ".additionalProperties")
            elif extra is not True and extra is not False:
                raise Refused("%s.additionalProperties: must be a boolean or a schema" % where)
            req = s.get("required", [])
            if subs:
                b("    static const em_fxs_member members[] = {%s};" %
                  ", ".join("{%s, %s}" % (cstr(k), sub) for k, sub in subs))
            if req:
                b("    static const char *const required[] = {%s};" % ", ".join(cstr(k) for k in req))
            b("    if (em_fxs_object(c, v, %s, %d, %s, %s, %s, %d) < 0)" % (
                "members" if subs else "NULL", len(subs), "true" if extra is False else "false",
                extra_fn or "NULL", "required" if req else "NULL", len(req)))
            b("        return -1;")
        if "errorMessage" in s and "oneOf" not in s:
            raise Refused("%s.errorMessage: implemented only beside oneOf" % where)
        if "$ref" in s:
            target = s["$ref"][len("#/$defs/"):]
            self.resolve(s["$ref"], where + ".$ref")
            b("    if (check_%s(c, v) < 0)" % target)
            b("        return -1;")
        if "oneOf" in s:
            alts = s["oneOf"]
            if not isinstance(alts, list) or not alts:
                raise Refused("%s.oneOf: must be a non-empty list" % where)
            fns = [self.node(a, "%s.oneOf[%d]" % (where, i)) for i, a in enumerate(alts)]
            if all(set(a) == {"required"} and len(a["required"]) == 1 for a in alts):
                msg = "needs exactly one of " + quoted_list([a["required"][0] for a in alts])
                msg2 = msg
            else:
                msg = "must be " + ", or ".join(self.summary(a) for a in alts)
                msg2 = msg + " (it matches more than one)"
            if "errorMessage" in s:
                msg = msg2 = s["errorMessage"]
            b("    static int (*const alts[])(em_fxs *, json_t *) = {%s};" % ", ".join(fns))
            b("    int matched = em_fxs_one_of(c, v, alts, %d);" % len(fns))
            b("    if (matched < 0)")
            b("        return -1;")
            b("    if (matched != 1)")
            b("        return em_fxs_fail(c, matched ? %s : %s);" % (cstr(msg2), cstr(msg)))
        b("    return 0;")
        key = "\n".join(body)
        if anon and key in self.bodies:  # the same checks: one function
            return self.bodies[key]
        if anon:
            self.count += 1
            name = "n%d" % self.count
        fn = "check_" + name
        if anon:
            self.bodies[key] = fn
        self.protos.append("static int %s(em_fxs *c, json_t *v);" % fn)
        text = ["static int %s(em_fxs *c, json_t *v)" % fn, "{"]
        if len(body) == 1:
            text.append("    (void)c;")
            text.append("    (void)v;")
        text += body
        text.append("}")
        self.funcs.append("\n".join(text))
        return fn


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "fixtures/fixture.schema.json"
    raw = open(path, "rb").read()
    schema = json.loads(raw)
    g = Gen(schema)
    try:
        for name, d in g.defs.items():
            if not name.isidentifier():
                raise Refused("$defs.%s: a name the generator can use as a C identifier" % name)
            g.node(d, "$defs.%s" % name, name)
        g.node(schema, "$schema", "root")
    except Refused as e:
        sys.exit("%s: %s" % (path, e))
    out = []
    w = out.append
    w("/* Generated by tools/gen_fixture_checks.py from fixtures/fixture.schema.json")
    w(" * (sha256 %s)." % hashlib.sha256(raw).hexdigest())
    w(" * Do not edit: change the schema and run `make fixture-schema`.")
    w(" * The fixture's structure as the schema gives it: types, required and unknown")
    w(" * members, enums, patterns (PCRE2), lengths, ranges, list sizes, oneOf.")
    w(" * What they call is src/tooling/fixture_schema.c. */")
    w('#include "tooling.h"')
    w("")
    w("static const char *const patterns[] = {")
    for p in g.patterns or ["NULL"]:
        w("    %s," % (cstr(p) if g.patterns else p))
    w("};")
    for i, values in enumerate(g.enums):
        w("static const char *const enum_%d[] = {%s};" % (i, ", ".join(cstr(x) for x in values)))
    w("")
    out.extend(g.protos)
    for f in g.funcs:
        w("")
        w(f)
    w("")
    w("int em_fx_schema_check(em_loader *ld, json_t *doc)")
    w("{")
    w("    return em_fxs_run(ld, doc, check_root, patterns, %d);" % len(g.patterns))
    w("}")
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
