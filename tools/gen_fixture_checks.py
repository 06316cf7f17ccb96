#!/usr/bin/env python3
"""Generate src/tooling/fixture_schema_gen.c from fixtures/fixture.schema.json.

The fixture format has one source: its JSON Schema.  The loader checks a
fixture's structure (types, required and unknown members, enums, patterns,
lengths, ranges, list sizes, oneOf) with C code generated here from the
schema, and checks by hand only what a schema cannot say (cross-references,
digests against bytes, region rules, calendar dates).  The result is
committed; `make fixture-schema` runs this again and `make test` checks that
the committed file is up to date.

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
            b("        return fail(c, %s);" % cstr("must be " + noun))
        if "enum" in s or "const" in s:
            values = s["enum"] if "enum" in s else [s["const"]]
            if not all(isinstance(x, str) for x in values):
                raise Refused("%s: only strings are implemented in enum and const" % where)
            self.enums.append(values)
            msg = ("must be one of " + quoted_list(values)) if "enum" in s else 'must be "%s"' % values[0]
            b("    if (!one_of(v, enum_%d, %d))" % (len(self.enums) - 1, len(values)))
            b("        return fail(c, %s);" % cstr(msg))
        string_checks = []
        if "minLength" in s:
            string_checks.append(("length(v) < %d" % s["minLength"],
                                  "must be at least %d characters long" % s["minLength"]))
        if "maxLength" in s:
            string_checks.append(("length(v) > %d" % s["maxLength"],
                                  "must be at most %d characters long" % s["maxLength"]))
        if "pattern" in s:
            i = self.pattern(s["pattern"])
            string_checks.append(("!match(c, %d, v)" % i, "must match %s" % s["pattern"]))
        if string_checks:
            b("    if (json_is_string(v)) {")
            for cond, msg in string_checks:
                b("        if (%s)" % cond)
                b("            return fail(c, %s);" % cstr(msg))
            b("    }")
        num_checks = []
        for kw, op, words in (("minimum", "<", "at least"), ("exclusiveMinimum", "<=", "above"),
                              ("maximum", ">", "at most"), ("exclusiveMaximum", ">=", "below")):
            if kw in s:
                if not is_int(s[kw]) or abs(s[kw]) >= 2 ** 53:
                    raise Refused("%s.%s: only integers below 2^53 are implemented" % (where, kw))
                num_checks.append(("cmp(v, INT64_C(%d)) %s 0" % (s[kw], op), "must be %s %d" % (words, s[kw])))
        if num_checks:
            b("    if (json_is_number(v)) {")
            for cond, msg in num_checks:
                b("        if (%s)" % cond)
                b("            return fail(c, %s);" % cstr(msg))
            b("    }")
        if any(k in s for k in ("items", "minItems", "maxItems")):
            b("    if (json_is_array(v)) {")
            if "minItems" in s:
                b("        if (json_array_size(v) < %d)" % s["minItems"])
                b("            return fail(c, %s);" % cstr("must have at least %d items" % s["minItems"]))
            if "maxItems" in s:
                b("        if (json_array_size(v) > %d)" % s["maxItems"])
                b("            return fail(c, %s);" % cstr("must have at most %d items" % s["maxItems"]))
            if "items" in s:
                sub = self.node(s["items"], where + ".items")
                b("        for (size_t i = 0; i < json_array_size(v); i++)")
                b("            if (at_index(c, v, i, %s) < 0)" % sub)
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
            b("    if (json_is_object(v)) {")
            if extra is False:
                if props:
                    b("        static const char *const known[] = {%s};" % ", ".join(cstr(k) for k in props))
                b("        const char *key;")
                b("        json_t *m;")
                b("        json_object_foreach(v, key, m) {")
                if props:
                    b("            if (!one_of_key(key, known, %d))" % len(props))
                    b("                return fail_at(c, key, \"unknown member\");")
                else:
                    b("            return fail_at(c, key, \"unknown member\");")
                b("        }")
            for k, sub in subs:
                b("        if (at_key(c, v, %s, %s) < 0)" % (cstr(k), sub))
                b("            return -1;")
            for k in s.get("required", []):
                b("        if (!json_object_get(v, %s))" % cstr(k))
                b("            return fail_at(c, %s, \"is required\");" % cstr(k))
            if extra_fn:
                if props:
                    b("        static const char *const named[] = {%s};" % ", ".join(cstr(k) for k in props))
                b("        const char *key;")
                b("        json_t *m;")
                b("        json_object_foreach(v, key, m) {")
                cond = "!one_of_key(key, named, %d) && " % len(props) if props else ""
                b("            if (%sat_key(c, v, key, %s) < 0)" % (cond, extra_fn))
                b("                return -1;")
                b("        }")
            b("    }")
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
            b("    static int (*const alts[])(sc *, json_t *) = {%s};" % ", ".join(fns))
            b("    int matched = one_of_alts(c, v, alts, %d);" % len(fns))
            b("    if (matched < 0)")
            b("        return -1;")
            b("    if (matched != 1)")
            b("        return fail(c, matched ? %s : %s);" % (cstr(msg2), cstr(msg)))
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
        self.protos.append("static int %s(sc *c, json_t *v);" % fn)
        text = ["static int %s(sc *c, json_t *v)" % fn, "{"]
        if len(body) == 1:
            text.append("    (void)c;")
            text.append("    (void)v;")
        text += body
        text.append("}")
        self.funcs.append("\n".join(text))
        return fn


PRELUDE = r'''
typedef struct sc {
    em_loader *ld;
    int quiet;                   /* trying a oneOf's alternatives: refuse nothing */
    pcre2_code *re[N_PATTERNS];  /* each compiled once per check, when first used */
    pcre2_match_data *md;
} sc;

static int fail(sc *c, const char *msg)
{
    return c->quiet ? -1 : em_fx_refuse(c->ld, "%s", msg);
}

static int fail_at(sc *c, const char *key, const char *msg)
{
    return c->quiet ? -1 : em_fx_refuse_at(c->ld, key, "%s", msg);
}

/* The member `key` of v through `check`, the path at it. */
static int at_key(sc *c, json_t *v, const char *key, int (*check)(sc *, json_t *))
{
    json_t *m = json_object_get(v, key);
    if (!m)
        return 0;
    size_t n = em_fx_push_key(c->ld, key);
    int rc = check(c, m);
    em_fx_pop(c->ld, n);
    return rc;
}

static int at_index(sc *c, json_t *v, size_t i, int (*check)(sc *, json_t *))
{
    size_t n = em_fx_push_index(c->ld, i);
    int rc = check(c, json_array_get(v, i));
    em_fx_pop(c->ld, n);
    return rc;
}

static bool one_of(json_t *v, const char *const *values, size_t n)
{
    const char *s = json_string_value(v);
    for (size_t i = 0; s && i < n; i++)
        if (strlen(values[i]) == json_string_length(v) && strcmp(values[i], s) == 0)
            return true;
    return false;
}

static bool one_of_key(const char *key, const char *const *keys, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(keys[i], key) == 0)
            return true;
    return false;
}

/* A string's length in characters (code points), as JSON Schema counts. */
static size_t length(json_t *v)
{
    const unsigned char *s = (const unsigned char *)json_string_value(v);
    size_t n = 0, bytes = json_string_length(v);
    for (size_t i = 0; i < bytes; i++)
        n += (s[i] & 0xC0) != 0x80;
    return n;
}

/* A number against an integer bound: <0, 0, >0. */
static int cmp(json_t *v, int64_t bound)
{
    if (json_is_integer(v)) {
        json_int_t x = json_integer_value(v);
        return x < bound ? -1 : x > bound;
    }
    double x = json_real_value(v);
    return x < (double)bound ? -1 : x > (double)bound;
}

/* Whether the string v matches pattern i (ECMA-262's "$": the very end). */
static bool match(sc *c, int i, json_t *v)
{
    if (!c->re[i]) {
        int err;
        PCRE2_SIZE off;
        c->re[i] = pcre2_compile((PCRE2_SPTR)patterns[i], PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_DOLLAR_ENDONLY,
                                 &err, &off, NULL);
        if (!c->re[i]) {
            em_fx_refuse(c->ld, "out of memory");
            return false;
        }
    }
    if (!c->md && !(c->md = pcre2_match_data_create(1, NULL))) {
        em_fx_refuse(c->ld, "out of memory");
        return false;
    }
    return pcre2_match(c->re[i], (PCRE2_SPTR)json_string_value(v), json_string_length(v), 0, 0, c->md, NULL) >= 0;
}

/* How many of the alternatives v passes, or -1 (out of memory). */
static int one_of_alts(sc *c, json_t *v, int (*const *alts)(sc *, json_t *), int n)
{
    int quiet = c->quiet, matched = 0;
    c->quiet = 1;
    for (int i = 0; i < n; i++)
        matched += alts[i](c, v) == 0;
    c->quiet = quiet;
    return c->ld->err.code == ECRMOCK_ERR_OK ? matched : -1;
}
'''

EPILOGUE = r'''
int em_fx_schema_check(em_loader *ld, json_t *doc)
{
    sc c = {.ld = ld};
    int rc = check_root(&c, doc);
    for (int i = 0; i < N_PATTERNS; i++)
        pcre2_code_free(c.re[i]);
    pcre2_match_data_free(c.md);
    return rc < 0 || ld->err.code != ECRMOCK_ERR_OK ? -1 : 0;
}
'''


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
    w(" * members, enums, patterns (PCRE2), lengths, ranges, list sizes, oneOf. */")
    w("#include <stdbool.h>")
    w("#include <string.h>")
    w("#define PCRE2_CODE_UNIT_WIDTH 8")
    w("#include <pcre2.h>")
    w("")
    w('#include "tooling.h"')
    w("")
    w("#define N_PATTERNS %d" % max(len(g.patterns), 1))
    w("static const char *const patterns[N_PATTERNS] = {")
    for p in g.patterns:
        w("    %s," % cstr(p))
    w("};")
    for i, values in enumerate(g.enums):
        w("static const char *const enum_%d[] = {%s};" % (i, ", ".join(cstr(x) for x in values)))
    w(PRELUDE.rstrip("\n"))
    w("")
    out.extend(g.protos)
    for f in g.funcs:
        w("")
        w(f)
    w(EPILOGUE.rstrip("\n"))
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
