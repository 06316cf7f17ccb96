/*
 * The flat tokenizer (src/base/json_scan.c): its tokens, and that it accepts
 * exactly what json_loadb accepts, edge by edge (each refusal class, the
 * nesting bound, int64's ends, reals' overflow, surrogates, UTF-8) and over
 * a few thousand generated texts.  tests/fuzz/fuzz_json_scan.c checks the
 * same on arbitrary input.
 */
#include "helpers.h"
#include "base/base.h"

#define JSCAN_CHECK(cond, what)                                                                          \
    do {                                                                                                 \
        if (!(cond))                                                                                     \
            fail_msg("token check failed: %s", what);                                                    \
    } while (0)
#include "../fuzz/json_scan_tree.h"

/* jansson's verdict on text[0..len) */
static bool jansson_takes(const char *text, size_t len, bool any)
{
    json_t *v = json_loadb(text, len, any ? JSON_DECODE_ANY : 0, NULL);
    json_decref(v);
    return v != NULL;
}

/* em_jscan's verdict, in both modes, is jansson's; on accept the tokens
 * make jansson's tree (json_scan_tree.h); returns whether flags 0 accepts */
static bool same_as_jansson(const char *text, size_t len)
{
    bool verdict[2];
    for (int any = 0; any < 2; any++) {
        json_t *ref = json_loadb(text, len, any ? JSON_DECODE_ANY : 0, NULL);
        em_jtok stack[16];
        em_jdoc d;
        int rc = em_jdoc_read(&d, text, len, any, stack, 16);
        if ((rc == EM_JSCAN_OK) != (ref != NULL))
            fail_msg("any_value %d: em_jscan %d, jansson %s: [%.*s]", any, rc, ref ? "accepts" : "refuses",
                     (int)(len < 200 ? len : 200), text);
        assert_true(rc == EM_JSCAN_OK || rc == EM_JSCAN_INVALID);
        if (ref) {
            json_t *mine = jscan_tree(&d, 0);
            assert_non_null(mine);
            char *a = json_dumps(mine, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(17));
            char *b = json_dumps(ref, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(17));
            assert_string_equal(a, b);
            assert_true(json_equal(mine, ref));
            free(a);
            free(b);
            json_decref(mine);
            json_decref(ref);
            em_jdoc_release(&d);
        }
        verdict[any] = rc == EM_JSCAN_OK;
    }
    return verdict[0];
}

/* text (a literal) is refused in both modes, by jansson and em_jscan */
#define REFUSED(lit)                                                                                     \
    do {                                                                                                 \
        assert_false(jansson_takes(lit, sizeof lit - 1, true));                                         \
        same_as_jansson(lit, sizeof lit - 1);                                                           \
        size_t n_ = 99;                                                                                  \
        em_jtok t_[64];                                                                                  \
        assert_int_equal(em_jscan(lit, sizeof lit - 1, true, t_, 64, &n_), EM_JSCAN_INVALID);           \
    } while (0)
/* text is accepted with JSON_DECODE_ANY by both */
#define ACCEPTED(lit)                                                                                    \
    do {                                                                                                 \
        assert_true(jansson_takes(lit, sizeof lit - 1, true));                                          \
        same_as_jansson(lit, sizeof lit - 1);                                                           \
        size_t n_ = 0;                                                                                   \
        em_jtok t_[64];                                                                                  \
        assert_int_equal(em_jscan(lit, sizeof lit - 1, true, t_, 64, &n_), EM_JSCAN_OK);                \
    } while (0)

static void tok_is(const em_jtok *t, em_jtype type, uint8_t escaped, uint32_t start, uint32_t len, uint32_t count,
                   uint32_t next)
{
    assert_int_equal(t->type, type);
    assert_int_equal(t->escaped, escaped);
    assert_int_equal(t->start, start);
    assert_int_equal(t->len, len);
    assert_int_equal(t->count, count);
    assert_int_equal(t->next, next);
}

static void test_tokens(void **state)
{
    (void)state;
    /*                 0         1         2         3         4         5
     *                 012345678901234567890123456789012345678901234567890123456 */
    const char *text = " {\"a\":[1,\"x\",true],\"b\\n\":{},\"c\":-2.5e3,\"d\":null} ";
    em_jtok t[16];
    size_t n = 0;
    assert_int_equal(em_jscan(text, strlen(text), false, t, 16, &n), EM_JSCAN_OK);
    assert_int_equal(n, 12);
    tok_is(&t[0], EM_J_OBJECT, 0, 1, 47, 4, 12);
    tok_is(&t[1], EM_J_STRING, 0, 3, 1, 0, 2);  /* "a" */
    tok_is(&t[2], EM_J_ARRAY, 0, 6, 12, 3, 6);  /* [1,"x",true] */
    tok_is(&t[3], EM_J_INTEGER, 0, 7, 1, 0, 4);
    assert_int_equal(t[3].integer, 1);
    tok_is(&t[4], EM_J_STRING, 0, 10, 1, 0, 5); /* "x" */
    tok_is(&t[5], EM_J_TRUE, 0, 13, 4, 0, 6);
    tok_is(&t[6], EM_J_STRING, 1, 20, 3, 0, 7); /* "b\n" */
    tok_is(&t[7], EM_J_OBJECT, 0, 25, 2, 0, 8); /* {} */
    tok_is(&t[8], EM_J_STRING, 0, 29, 1, 0, 9); /* "c" */
    tok_is(&t[9], EM_J_REAL, 0, 32, 6, 0, 10);  /* -2.5e3 */
    tok_is(&t[10], EM_J_STRING, 0, 40, 1, 0, 11);
    tok_is(&t[11], EM_J_NULL, 0, 43, 4, 0, 12);
    assert_int_equal(text[t[0].start + t[0].len - 1], '}');
    /* a scalar at the top, with JSON_DECODE_ANY only */
    assert_int_equal(em_jscan(" -42 ", 5, false, t, 16, &n), EM_JSCAN_INVALID);
    assert_int_equal(em_jscan(" -42 ", 5, true, t, 16, &n), EM_JSCAN_OK);
    assert_int_equal(n, 1);
    tok_is(&t[0], EM_J_INTEGER, 0, 1, 3, 0, 1);
    assert_int_equal(t[0].integer, -42);
    assert_int_equal(em_jscan("[[],[[]]]", 9, false, t, 16, &n), EM_JSCAN_OK);
    assert_int_equal(n, 4);
    tok_is(&t[0], EM_J_ARRAY, 0, 0, 9, 2, 4);
    tok_is(&t[1], EM_J_ARRAY, 0, 1, 2, 0, 2);
    tok_is(&t[2], EM_J_ARRAY, 0, 4, 4, 1, 4);
    tok_is(&t[3], EM_J_ARRAY, 0, 5, 2, 0, 4);
}

static void test_refusals(void **state)
{
    (void)state;
    /* empty, white space only, other white space */
    REFUSED("");
    REFUSED(" \t\r\n");
    REFUSED("\f[]");
    REFUSED("[]\v");
    REFUSED("\xc2\xa0[]");
    /* after the value */
    REFUSED("[] x");
    REFUSED("{}{}");
    REFUSED("[]]");
    REFUSED("1 2");
    REFUSED("[]\0");
    /* syntax */
    REFUSED("[");
    REFUSED("[1");
    REFUSED("[1,");
    REFUSED("[1,]");
    REFUSED("[,1]");
    REFUSED("[1 2]");
    REFUSED("{\"a\":1,}");
    REFUSED("{\"a\" 1}");
    REFUSED("{\"a\":}");
    REFUSED("{\"a\"}");
    REFUSED("{1:1}");
    REFUSED("{'a':1}");
    REFUSED("{\"a\":1 \"b\":2}");
    REFUSED("[1}");
    REFUSED("{\"a\":1]");
    REFUSED("{");
    REFUSED("{\"a\":1");
    REFUSED(":");
    REFUSED(",");
    /* literals */
    REFUSED("tru");
    REFUSED("truex");
    REFUSED("[True]");
    REFUSED("[nul]");
    REFUSED("[falsy]");
    REFUSED("[truefalse]");
    REFUSED("[NaN]");
    REFUSED("[Infinity]");
    /* numbers */
    REFUSED("-");
    REFUSED("[-]");
    REFUSED("1.");
    REFUSED("[1.]");
    REFUSED("[1.e5]");
    REFUSED("[.5]");
    REFUSED("[01]");
    REFUSED("[-01]");
    REFUSED("[00]");
    REFUSED("[+1]");
    REFUSED("[1e]");
    REFUSED("[1e+]");
    REFUSED("[1E-]");
    REFUSED("[0x10]");
    REFUSED("[1-2]");
    REFUSED("[--1]");
    REFUSED("[- 1]");
    /* strings */
    REFUSED("[\"abc]");
    REFUSED("[\"abc\\\"]");
    REFUSED("[\"a\nb\"]");
    REFUSED("[\"a\x1f\"]");
    REFUSED("[\"a\0\"]");
    REFUSED("[\"\\a\"]");
    REFUSED("[\"\\x41\"]");
    REFUSED("[\"\\'\"]");
    REFUSED("[\"\\u12\"]");
    REFUSED("[\"\\u12g4\"]");
    REFUSED("[\"\\U0041\"]");
    REFUSED("[\"\\");
    REFUSED("\"\\u004");
    /* \u0000, in a value and in a name */
    REFUSED("[\"\\u0000\"]");
    REFUSED("[\"a\\u0000b\"]");
    REFUSED("{\"\\u0000\":1}");
    REFUSED("{\"a\\u0000\":1}");
    /* a name that is not a string */
    REFUSED("{a:1}");
    REFUSED("{null:1}");
    /* top level without JSON_DECODE_ANY */
    em_jtok t[4];
    size_t n;
    assert_int_equal(em_jscan("\"a\"", 3, false, t, 4, &n), EM_JSCAN_INVALID);
    assert_int_equal(em_jscan("1", 1, false, t, 4, &n), EM_JSCAN_INVALID);
    assert_int_equal(em_jscan("null", 4, false, t, 4, &n), EM_JSCAN_INVALID);
    assert_false(jansson_takes("null", 4, false));
    assert_int_equal(em_jscan(" [] ", 4, false, t, 4, &n), EM_JSCAN_OK);
    assert_int_equal(em_jscan(" {} ", 4, false, t, 4, &n), EM_JSCAN_OK);
    ACCEPTED("\"\\u0001\"");
    ACCEPTED(" \t\r\n[ \t\r\n1 \t\r\n, \t\r\n{ \t\r\n\"a\" \t\r\n: \t\r\n2 \t\r\n} \t\r\n] \t\r\n");
    ACCEPTED("[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"]");
    ACCEPTED("[-0, 0, -0.0, 0e0, 0E+1, 1e-1, 10.25E2]");
    /* jansson loses one NUL byte right after a number or a literal (its
     * lexer puts the byte back, and its stream takes a NUL for "empty") */
    ACCEPTED("[1\0]");
    ACCEPTED("1\0");
    ACCEPTED("true\0");
    ACCEPTED("[true\0,false\0,null\0]");
    ACCEPTED("[1\0 ,2]");
    ACCEPTED("{\"a\":1.5\0}");
    ACCEPTED("[-0\0, 1e5\0]");
    REFUSED("[1\0\0]");
    REFUSED("1 \0");
    REFUSED("[\"a\"\0]");
    REFUSED("[[]\0]");
    REFUSED("{\"a\"\0:1}");
    REFUSED("[\0]");
}

/* Nested `depth` arrays (or objects {"a":...}) around `inner`. */
static char *nest_text(int depth, bool objects, const char *inner, size_t *len)
{
    size_t il = strlen(inner), n = (size_t)depth * (objects ? 6 : 2) + il;
    char *s = malloc(n + 1), *o = s;
    assert_non_null(s);
    for (int i = 0; i < depth; i++)
        o = objects ? memcpy(o, "{\"a\":", 5), o + 5 : (*o = '[', o + 1);
    memcpy(o, inner, il);
    o += il;
    for (int i = 0; i < depth; i++)
        *o++ = objects ? '}' : ']';
    *o = '\0';
    *len = (size_t)(o - s);
    return s;
}

/* em_jscan and jansson both accept (want) or both refuse the nesting */
static void nesting_is(int depth, bool objects, const char *inner, bool want)
{
    size_t len;
    char *s = nest_text(depth, objects, inner, &len);
    assert_int_equal(jansson_takes(s, len, false), want);
    em_jdoc d;
    assert_int_equal(em_jdoc_read(&d, s, len, false, NULL, 0), want ? EM_JSCAN_OK : EM_JSCAN_INVALID);
    if (want) {
        assert_int_equal(d.n, (size_t)depth * (objects ? 2 : 1) + (*inner ? 1 : 0));
        assert_int_equal(d.t[0].next, d.n);
    }
    em_jdoc_release(&d);
    free(s);
}

/* jansson counts every value's depth, a scalar's too, and refuses depth 2049 */
static void test_depth_boundary(void **state)
{
    (void)state;
    nesting_is(2048, false, "", true);
    nesting_is(2049, false, "", false);
    nesting_is(2047, false, "1", true);
    nesting_is(2048, false, "1", false);
    nesting_is(2047, false, "\"s\"", true);
    nesting_is(2048, false, "\"s\"", false);
    nesting_is(2047, false, "{}", true);
    nesting_is(2048, false, "{}", false);
    nesting_is(2048, true, "", false); /* {"a":{"a":...:""}}: the innermost "" at 2049 */
    nesting_is(2047, true, "{}", true);
    nesting_is(2048, true, "{}", false);
    nesting_is(2047, true, "[]", true);
    nesting_is(100000, false, "", false);
    /* deep but closed again: the bound is on depth, not on count */
    size_t len;
    char *s = nest_text(2048, false, "", &len), *two = malloc(2 * len + 4); /* [<2047>,<2047>] */
    assert_non_null(two);
    int k = sprintf(two, "[%.*s,%.*s]", (int)len - 2, s + 1, (int)len - 2, s + 1);
    assert_true(same_as_jansson(two, (size_t)k));
    free(two);
    free(s);
}

static void test_integers(void **state)
{
    (void)state;
    struct {
        const char *text;
        bool ok;
        int64_t v;
    } cases[] = {
        {"9223372036854775807", true, INT64_MAX},
        {"-9223372036854775808", true, INT64_MIN},
        {"9223372036854775808", false, 0},
        {"-9223372036854775809", false, 0},
        {"9999999999999999999", false, 0},
        {"10000000000000000000", false, 0},
        {"18446744073709551616", false, 0},
        {"-0", true, 0},
        {"0", true, 0},
        {"999999999999999999", true, INT64_C(999999999999999999)},
        {"1000000000000000000", true, INT64_C(1000000000000000000)},
        {"-1", true, -1},
        {"123456789012345678901234567890", false, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const char *s = cases[i].text;
        em_jtok t[2];
        size_t n = 0;
        assert_int_equal(jansson_takes(s, strlen(s), true), cases[i].ok);
        assert_int_equal(em_jscan(s, strlen(s), true, t, 2, &n), cases[i].ok ? EM_JSCAN_OK : EM_JSCAN_INVALID);
        if (cases[i].ok) {
            assert_int_equal(t[0].type, EM_J_INTEGER);
            assert_true(t[0].integer == cases[i].v);
        }
        char arr[64];
        int k = snprintf(arr, sizeof arr, "[%s]", s);
        same_as_jansson(arr, (size_t)k);
    }
}

static void test_reals(void **state)
{
    (void)state;
    REFUSED("1e400");
    REFUSED("[-1e400]");
    REFUSED("[1e309]");
    REFUSED("[1.7976931348623159e308]");
    REFUSED("[10e308]");
    REFUSED("[0.1e310]");
    REFUSED("[0.00000000000000000001e329]");
    REFUSED("[1e99999999999999999999999999]");
    REFUSED("[123456789012345678901234567890e300]");
    ACCEPTED("[1e-400]");
    ACCEPTED("[-1e-400]");
    ACCEPTED("[1e-99999999999999999999999999]");
    ACCEPTED("[0e99999999999999999999999999]");
    ACCEPTED("[0.0000e400]");
    ACCEPTED("[1.7976931348623157e308]");
    ACCEPTED("[1.7976931348623158e308]"); /* rounds down to DBL_MAX */
    ACCEPTED("[0.1e309]");
    ACCEPTED("[0.00000000000000000001e328]");
    ACCEPTED("[9.999e307]");
    ACCEPTED("[4.9e-324]");
    ACCEPTED("[123456789012345678901234567890.5e-10]");
    /* exponents with leading zeros, and many digits on either side */
    REFUSED("[1e0000000000000000000000000000309]");
    REFUSED("[1E+0000000000000000000000000000309]");
    ACCEPTED("[1e0000000000000000000000000000308]");
    ACCEPTED("[1e-0000000000000000000000000000400]");
    ACCEPTED("[0.00000000000000000000000000000000000000000000000000000000000000000000000000000001e388]");
    REFUSED("[0.00000000000000000000000000000000000000000000000000000000000000000000000000000001e390]");
    ACCEPTED("[100000000000000000000000000000000000000000000000000000000000000000000000000000000.0e227]");
    REFUSED("[100000000000000000000000000000000000000000000000000000000000000000000000000000000.0e229]");
    /* the exact midpoint between DBL_MAX and 2^1024 rounds (to even) to
     * infinity; one below it to DBL_MAX: 309 digits for strtod to weigh,
     * then the same with 1000 more digits (cut at 768, a 1 for the rest) */
    const char *mid = "17976931348623158079372897140530341507993413271003782693617377898044496829276475094664901797758720709633"
                      "02864166928879109465555478519404026306574886715058206819089020007083836762738548458177115317644757302700"
                      "69855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497792";
    assert_int_equal(strlen(mid), 309);
    char *buf = malloc(2000);
    assert_non_null(buf);
    struct {
        const char *tail;
        bool ok;
    } tails[] = {{"", false} /* an integer: too big */, {".0", false}, {".0000000000000000000000000000001", false}};
    for (size_t i = 0; i < 3; i++) {
        int k = snprintf(buf, 2000, "[%s%s]", mid, tails[i].tail);
        assert_int_equal(same_as_jansson(buf, (size_t)k), tails[i].ok);
    }
    /* one below the midpoint, in several spellings */
    int k = snprintf(buf, 2000, "[%.308s%c.0]", mid, mid[308] - 1);
    assert_true(same_as_jansson(buf, (size_t)k));
    k = snprintf(buf, 2000, "[%.308s%c.", mid, mid[308] - 1);
    memset(buf + k, '9', 1000);
    k += 1000;
    k += sprintf(buf + k, "]");
    assert_true(same_as_jansson(buf, (size_t)k)); /* still below */
    k = snprintf(buf, 2000, "[0.%.308s%c", mid, mid[308] - 1);
    memset(buf + k, '9', 1000);
    k += 1000;
    k += sprintf(buf + k, "e309]");
    assert_true(same_as_jansson(buf, (size_t)k));
    k = snprintf(buf, 2000, "[0.%s", mid);
    memset(buf + k, '0', 1000);
    k += 1000;
    k += sprintf(buf + k, "1e309]");
    assert_false(same_as_jansson(buf, (size_t)k)); /* a hair above: infinity */
    k = snprintf(buf, 2000, "[0.%s", mid);
    memset(buf + k, '0', 1000);
    k += 1000;
    k += sprintf(buf + k, "e309]");
    assert_false(same_as_jansson(buf, (size_t)k)); /* the midpoint, trailing zeros */
    free(buf);
}

static void test_surrogates_and_escapes(void **state)
{
    (void)state;
    ACCEPTED("[\"\\ud83d\\ude00\"]");
    ACCEPTED("[\"\\uD83D\\uDE00\"]");
    ACCEPTED("[\"\\udbff\\udfff\"]");
    ACCEPTED("[\"\\ud800\\udc00\"]");
    ACCEPTED("[\"\\uffff\\ud7ff\\ue000\"]");
    REFUSED("[\"\\ud83d\"]");
    REFUSED("[\"\\ud83dx\"]");
    REFUSED("[\"\\ud83d\\n\"]");
    REFUSED("[\"\\ud83d\\ud83d\"]");
    REFUSED("[\"\\ud83d\\u0041\"]");
    REFUSED("[\"\\ude00\"]");
    REFUSED("[\"\\ude00\\ud83d\"]");
    REFUSED("[\"\\udfff\"]");
    REFUSED("[\"\\ud83d\\ude0\"]");
    REFUSED("[\"\\ud83d\\u");
    REFUSED("{\"\\ud83d\":1}");

    const char *text = "[\"\\\"\\\\\\/\\b\\f\\n\\r\\ta\\u00e9\\u20AC\\ud83d\\ude00\\u0041z\xc3\xa9\"]";
    em_jdoc d;
    assert_int_equal(em_jdoc_read(&d, text, strlen(text), false, NULL, 0), EM_JSCAN_OK);
    assert_int_equal(d.t[1].escaped, 1);
    char out[64];
    const char want[] = "\"\\/\b\f\n\r\ta\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80" "Az\xc3\xa9";
    assert_int_equal(em_jstr_decode(&d, 1, out), sizeof want - 1);
    assert_memory_equal(out, want, sizeof want);
    em_jdoc_release(&d);
}

static void test_utf8(void **state)
{
    (void)state;
    ACCEPTED("[\"\xc2\x80\xc3\xa9\xdf\xbf\"]");
    ACCEPTED("[\"\xe0\xa0\x80\xe2\x82\xac\xed\x9f\xbf\xee\x80\x80\xef\xbf\xbf\"]");
    ACCEPTED("[\"\xf0\x90\x80\x80\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf\"]");
    ACCEPTED("{\"\xc3\xa9\":\"\xc3\xa9\"}");
    REFUSED("[\"\x80\"]");         /* a continuation byte first */
    REFUSED("[\"\xbf\"]");
    REFUSED("[\"\xc0\x80\"]");     /* overlong */
    REFUSED("[\"\xc1\xbf\"]");
    REFUSED("[\"\xe0\x80\x80\"]");
    REFUSED("[\"\xe0\x9f\xbf\"]");
    REFUSED("[\"\xf0\x80\x80\x80\"]");
    REFUSED("[\"\xf0\x8f\xbf\xbf\"]");
    REFUSED("[\"\xed\xa0\x80\"]"); /* a surrogate */
    REFUSED("[\"\xed\xbf\xbf\"]");
    REFUSED("[\"\xf4\x90\x80\x80\"]"); /* above U+10FFFF */
    REFUSED("[\"\xf5\x80\x80\x80\"]");
    REFUSED("[\"\xf8\x88\x80\x80\x80\"]");
    REFUSED("[\"\xff\"]");
    REFUSED("[\"\xc3\"]");         /* cut short by the quote */
    REFUSED("[\"\xe2\x82\"]");
    REFUSED("[\"\xf0\x9f\x98\"]");
    REFUSED("[\"\xc3");            /* cut short by the end */
    REFUSED("[\"\xe2\x82");
    REFUSED("[\"\xc3\x41\"]");
    REFUSED("{\"\xc0\x80\":1}");
    REFUSED("[\xc3\xa9]");         /* outside a string */
}

/* Every byte value in a string, and outside one, against jansson. */
static void test_every_byte(void **state)
{
    (void)state;
    for (int b = 0; b < 256; b++) {
        char s[24];
        const char *forms[] = {"[\"x%cy\"]", "[\"%c\"]", "{\"%c\":1}", "[%c]", "[1%c]", "%c[]", "[]%c", "[\"\\%c\"]",
                               "[\"\\u00%c0\"]", "[t%crue]",
                               "[\"%cn\"]", "[\"%cu0041\"]", "{\"a%cn\":0}"};
        for (size_t f = 0; f < sizeof forms / sizeof *forms; f++) {
            const char *at = strstr(forms[f], "%c");
            size_t pre = (size_t)(at - forms[f]);
            memcpy(s, forms[f], pre);
            s[pre] = (char)b;
            strcpy(s + pre + 1, at + 2);
            size_t len = pre + 1 + strlen(at + 2);
            bool ok = same_as_jansson(s, len);
            /* the plain run's every byte too: a long string with b in each position of 8 */
            if (f == 0) {
                char lng[40];
                for (int pos = 0; pos < 16; pos++) {
                    memset(lng, 'a', sizeof lng);
                    lng[0] = '[';
                    lng[1] = '"';
                    lng[2 + pos] = (char)b;
                    lng[20] = '"';
                    lng[21] = ']';
                    assert_int_equal(same_as_jansson(lng, 22), ok);
                }
            }
        }
    }
}

static void test_duplicates_and_get(void **state)
{
    (void)state;
    const char *text = "{\"a\":1,\"b\":{\"a\":7},\"a\":[3],\"\\u0061\":4,\"ab\":5,\"\":6,\"\\u00e9t\\u00E9\":8}";
    em_jdoc d;
    em_jtok stack[32];
    assert_int_equal(em_jdoc_read(&d, text, strlen(text), false, stack, 32), EM_JSCAN_OK);
    assert_null(d.heap);
    assert_ptr_equal(d.t, stack);
    assert_int_equal(d.t[0].count, 7);
    size_t a = em_jget(&d, 0, "a");
    assert_int_equal(d.t[a].type, EM_J_INTEGER); /* the last "a", written \u0061 */
    assert_int_equal(d.t[a].integer, 4);
    assert_int_equal(d.t[a - 1].escaped, 1);
    size_t b = em_jget(&d, 0, "b");
    assert_int_equal(d.t[b].type, EM_J_OBJECT);
    size_t ba = em_jget(&d, b, "a");
    assert_int_equal(d.t[ba].integer, 7);
    assert_int_equal(d.t[em_jget(&d, 0, "ab")].integer, 5);
    assert_int_equal(d.t[em_jget(&d, 0, "")].integer, 6);
    assert_int_equal(d.t[em_jget(&d, 0, "\xc3\xa9t\xc3\xa9")].integer, 8);
    assert_int_equal(em_jget(&d, 0, "c"), 0);
    assert_int_equal(em_jget(&d, 0, "abc"), 0);
    assert_int_equal(em_jget(&d, 0, "\xc3\xa9t"), 0);
    assert_int_equal(em_jget(&d, 0, "\xc3\xa9t\xc3\xa9x"), 0);
    assert_int_equal(em_jget(&d, a, "a"), 0); /* not an object */
    assert_true(em_jname_is(&d, 1, "a"));
    assert_false(em_jname_is(&d, 1, ""));
    assert_false(em_jname_is(&d, 1, "aa"));
    assert_false(em_jname_is(&d, a - 1, "b"));
    assert_false(em_jname_is(&d, a - 1, ""));
    assert_false(em_jname_is(&d, a - 1, "aa"));
    /* jansson keeps the last value, at the first one's place: the rebuilt tree is the same */
    assert_true(same_as_jansson(text, strlen(text)));
    char *ours = NULL;
    json_t *mine = jscan_tree(&d, 0);
    ours = json_dumps(mine, JSON_COMPACT);
    assert_string_equal(ours, "{\"a\":4,\"b\":{\"a\":7},\"ab\":5,\"\":6,\"\xc3\xa9t\xc3\xa9\":8}");
    free(ours);
    json_decref(mine);
    em_jdoc_release(&d);
}

static void test_full_counts_exactly(void **state)
{
    (void)state;
    const char *text = "{\"a\":[{\"b\":1}],\"c\":\"x\"}"; /* {, a, [, {, b, 1, c, "x" */
    em_jtok t[8];
    for (size_t cap = 0; cap < 8; cap++) {
        size_t n = 0;
        assert_int_equal(em_jscan(text, strlen(text), false, cap ? t : NULL, cap, &n), EM_JSCAN_FULL);
        assert_int_equal(n, 8);
    }
    size_t n = 0;
    assert_int_equal(em_jscan(text, strlen(text), false, t, 8, &n), EM_JSCAN_OK);
    assert_int_equal(n, 8);
    /* refused, not full, however small the array: the whole text is read */
    assert_int_equal(em_jscan("[1,2,3,]", 8, false, t, 1, &n), EM_JSCAN_INVALID);
    assert_int_equal(em_jscan("[1,2,3] x", 9, false, t, 1, &n), EM_JSCAN_INVALID);
    /* 4 GiB or more: refused before a byte is read */
#if SIZE_MAX > UINT32_MAX
    assert_int_equal(em_jscan("[]", (size_t)UINT32_MAX + 1, false, t, 8, &n), EM_JSCAN_INVALID);
    em_jdoc d;
    assert_int_equal(em_jdoc_read(&d, "[]", (size_t)UINT32_MAX + 1, false, t, 8), EM_JSCAN_INVALID);
    assert_null(d.heap);
#endif
}

static long allocations;
static bool refuse_allocations;
static void *counting_malloc(size_t n)
{
    allocations++;
    return refuse_allocations ? NULL : malloc(n);
}
static void *counting_realloc(void *p, size_t n)
{
    allocations++;
    return refuse_allocations ? NULL : realloc(p, n);
}

static void test_jdoc_heap_once(void **state)
{
    (void)state;
    ecrmock_set_alloc_funcs(counting_malloc, counting_realloc, free);
    const char *text = "{\"repositoryName\":\"web\",\"imageIds\":[{\"imageTag\":\"v1\"},{\"imageTag\":\"v2\"},"
                       "{\"imageDigest\":\"sha256:ab\"}],\"maxResults\":10}";
    em_jtok stack[4], big[32];
    size_t n = 0;
    assert_int_equal(em_jscan(text, strlen(text), false, big, 32, &n), EM_JSCAN_OK);
    assert_int_equal(n, 16);
    em_jdoc d;
    allocations = 0;
    assert_int_equal(em_jdoc_read(&d, text, strlen(text), false, stack, 4), EM_JSCAN_OK);
    assert_int_equal(allocations, 1);
    assert_non_null(d.heap);
    assert_ptr_equal(d.t, d.heap);
    assert_int_equal(d.n, 16);
    for (size_t i = 0; i < 16; i++) {
        tok_is(&d.t[i], big[i].type, big[i].escaped, big[i].start, big[i].len, big[i].count, big[i].next);
        assert_true(d.t[i].integer == big[i].integer);
    }
    assert_ptr_equal(d.text, text);
    assert_int_equal(d.t[em_jget(&d, 0, "maxResults")].integer, 10);
    em_jdoc_release(&d);
    assert_null(d.heap);
    /* fits: no allocation */
    allocations = 0;
    assert_int_equal(em_jdoc_read(&d, text, strlen(text), false, big, 16), EM_JSCAN_OK);
    assert_int_equal(allocations, 0);
    assert_null(d.heap);
    em_jdoc_release(&d);
    /* refused: no allocation either, however small the array */
    assert_int_equal(em_jdoc_read(&d, "[1,2,3,4,5,6]]", 14, false, stack, 4), EM_JSCAN_INVALID);
    assert_int_equal(allocations, 0);
    /* no memory: said, and nothing to release */
    refuse_allocations = true;
    assert_int_equal(em_jdoc_read(&d, text, strlen(text), false, stack, 4), EM_JSCAN_NOMEM);
    refuse_allocations = false;
    assert_int_equal(allocations, 1);
    assert_null(d.heap);
    assert_null(d.t);
    assert_int_equal(d.n, 0);
    em_jdoc_release(&d);
    ecrmock_set_alloc_funcs(NULL, NULL, NULL);
}

/* A small deterministic generator (xorshift) for the differential loop. */
static uint64_t rng_state = 0x9e3779b97f4a7c15u;
static uint32_t rnd(uint32_t n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state % n);
}

static const char *const pieces[] = {
    "{", "}", "[", "]", ",", ":", " ", "\n", "\"", "\\", "\\u", "d83d", "\\ude00", "\\u0000", "0", "1", "-", ".", "e",
    "E+", "9223372036854775807", "9223372036854775808", "1e309", "1e-400", "true", "false", "null", "\"a\"",
    "\"a\":", "\xc3\xa9", "\xc3", "\xed\xa0\x80", "\xf0\x9f\x98\x80", "\x01", "\x7f", "\xff", "00", "tru", "\\n",
    "[]", "{}", "\"k\":[1,2]", "0.5", "-0",
};

static void add(em_buf *b, const void *p, size_t n)
{
    assert_int_equal(em_buf_append(b, p, n), 0);
}

static void add_str(em_buf *b, const char *s)
{
    add(b, s, strlen(s));
}

/* A random JSON value of depth at most d, into b (an array or an object
 * when `container`) */
static void gen_value(em_buf *b, int d, bool container)
{
    switch (container ? 6 + rnd(3) : rnd(d > 0 ? 9 : 6)) {
    case 0: {
        const char *s[] = {"a", "\\n", "\\u00e9", "\xc3\xa9", "\\ud83d\\ude00", "\\\"", " "};
        add_str(b, "\"");
        for (uint32_t i = rnd(6); i; i--)
            add_str(b, s[rnd(7)]);
        add_str(b, "\"");
        break;
    }
    case 1: {
        char n[32];
        int k = snprintf(n, sizeof n, "%s%u", rnd(2) ? "-" : "", rnd(100000));
        add(b, n, (size_t)k);
        break;
    }
    case 2: {
        const char *r[] = {"1.5", "-0.25e-3", "6.02E23", "1e308", "0.0"};
        add_str(b, r[rnd(5)]);
        break;
    }
    case 3: add_str(b, "true"); break;
    case 4: add_str(b, "null"); break;
    case 5: add_str(b, "false"); break;
    case 6:
    case 7: {
        add(b, "[", 1);
        for (uint32_t i = rnd(4), first = 1; i; i--, first = 0) {
            if (!first)
                add_str(b, rnd(8) ? "," : " , ");
            gen_value(b, d - 1, false);
        }
        add(b, "]", 1);
        break;
    }
    default: {
        add(b, "{", 1);
        for (uint32_t i = rnd(4), first = 1; i; i--, first = 0) {
            if (!first)
                add(b, ",", 1);
            const char *k[] = {"\"a\"", "\"b\"", "\"\\u0061\"", "\"\"", "\"a\\nb\""};
            const char *x = k[rnd(5)];
            add_str(b, x);
            add_str(b, rnd(4) ? ":" : " : ");
            gen_value(b, d - 1, false);
        }
        add(b, "}", 1);
    }
    }
}

static void test_differential(void **state)
{
    (void)state;
    int accepted = 0, refused = 0;
    for (int round = 0; round < 3000; round++) {
        em_buf b = {0};
        gen_value(&b, 4, rnd(8) != 0);
        /* mutate half of them: a byte changed, a piece inserted, a cut */
        for (uint32_t m = round % 2 ? 1 + rnd(3) : 0; m; m--) {
            if (b.len == 0)
                break;
            size_t at = rnd((uint32_t)b.len);
            switch (rnd(4)) {
            case 0: b.data[at] = (unsigned char)rnd(256); break;
            case 1: {
                const char *x = pieces[rnd(sizeof pieces / sizeof *pieces)];
                em_buf tail = {0};
                add(&tail, b.data + at, b.len - at);
                b.len = at;
                add_str(&b, x);
                add(&b, tail.data, tail.len);
                em_buf_release(&tail);
                break;
            }
            case 2: b.len = at; break;
            default: memmove(b.data + at, b.data + at + 1, b.len - at - 1); b.len--; break;
            }
        }
        if (same_as_jansson((const char *)b.data, b.len))
            accepted++;
        else
            refused++;
        em_buf_release(&b);
    }
    /* both sides exercised */
    if (accepted < 500 || refused < 500)
        fail_msg("accepted %d, refused %d", accepted, refused);
}

/* Each kind of special byte a string holds, at each place about the edges
 * of the 32-byte steps a string is read and decoded in where the CPU has
 * them (and about its start and end), another one after it, and each
 * refusal there: the verdict and the decoded string are jansson's. */
static void test_strings_across_steps(void **state)
{
    (void)state;
    static const char *const specials[] = {
        "\\\"", "\\\\", "\\/", "\\n", "\\u00e9", "\\u0041", "\\ud83d\\ude00", "\xc3\xa9", "\xe2\x82\xac",
        "\xf0\x9f\x98\x80", /* accepted */
        "\x01", "\\x", "\\u00g0", "\\ud83d", "\\ude00", "\xc3", "\xed\xa0\x80", "\\u0000", "\x80", /* refused */
    };
    enum { N = sizeof specials / sizeof *specials };
    char text[256];
    for (size_t lead = 1; lead <= 2; lead++) /* where the string starts: "[", "[ " */
        for (size_t len = 0; len <= 72; len++)
            for (size_t at = 0; at <= len; at++)
                for (size_t a = 0; a < N && (at < 3 || at + 3 > len || (at + 3) % 32 < 6); a++) {
                    size_t b = (at * 7 + len + lead) % N; /* a second special, somewhere after */
                    size_t n = 0;
                    text[n++] = '[';
                    for (size_t i = 1; i < lead; i++)
                        text[n++] = ' ';
                    text[n++] = '"';
                    for (size_t i = 0; i < len; i++) {
                        if (i == at) {
                            strcpy(text + n, specials[a]);
                            n += strlen(specials[a]);
                        }
                        if (i == (at + 5 + len / 3) % (len + 1) && b < 10) {
                            strcpy(text + n, specials[b]);
                            n += strlen(specials[b]);
                        }
                        text[n++] = (char)('a' + i % 26);
                    }
                    if (at == len) {
                        strcpy(text + n, specials[a]);
                        n += strlen(specials[a]);
                    }
                    text[n++] = '"';
                    text[n++] = ']';
                    same_as_jansson(text, n);
                    same_as_jansson(text + lead, n - lead - 1); /* the string alone (JSON_DECODE_ANY) */
                }
}

/* A manifest-like text of at least `target` bytes: an image manifest with
 * as many layers as it takes. */
static char *big_manifest(size_t target, size_t *len, int *layers)
{
    em_buf b = {0};
    add_str(&b, "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":"
                "{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"size\":1469,\"digest\":\"sha256:"
                "3b4d0c8d0a8f3f1c2e4b5a6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f\"},\"layers\":[");
    int i = 0;
    for (; b.len < target; i++) {
        char l[400];
        int k = snprintf(l, sizeof l,
                         "%s{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"size\":%d,"
                         "\"digest\":\"sha256:%064x\",\"annotations\":{\"title\":\"l\\u00e9yer %d\\n\"}}",
                         i ? ",\n  " : "", 1000 + i * 7919, i, i);
        add(&b, l, (size_t)k);
    }
    add_str(&b, "]}");
    *len = b.len;
    *layers = i;
    return (char *)b.data;
}

/* Big texts: a 4 MiB manifest, 100k tiny tokens, a 1 MiB string; each
 * read through a small array (the heap once), and the same as jansson's. */
static void test_large_texts(void **state)
{
    (void)state;
    size_t len;
    int layers;
    char *m = big_manifest(4u << 20, &len, &layers);
    assert_true(same_as_jansson(m, len));
    em_jtok stack[64];
    em_jdoc d;
    assert_int_equal(em_jdoc_read(&d, m, len, false, stack, 64), EM_JSCAN_OK);
    assert_non_null(d.heap);
    /* the object; schemaVersion, mediaType, config and layers (name and value
     * each); config's three members; each layer's object, its four members
     * and the annotation's one */
    assert_int_equal(d.n, 1 + 2 * 4 + 2 * 3 + (size_t)layers * (1 + 2 * 4 + 2));
    size_t l = em_jget(&d, 0, "layers");
    assert_int_equal(d.t[l].type, EM_J_ARRAY);
    assert_int_equal(d.t[l].count, (uint32_t)layers);
    assert_int_equal(d.t[l].next, d.n);
    /* the last layer: its size and its title, decoded */
    size_t last = l + 1;
    for (int i = 1; i < layers; i++)
        last = d.t[last].next;
    assert_int_equal(d.t[em_jget(&d, last, "size")].integer, 1000 + (int64_t)(layers - 1) * 7919);
    size_t title = em_jget(&d, em_jget(&d, last, "annotations"), "title");
    char out[64], want[64];
    snprintf(want, sizeof want, "l\xc3\xa9yer %d\n", layers - 1);
    assert_true(d.t[title].len < sizeof out);
    assert_int_equal(em_jstr_decode(&d, title, out), strlen(want));
    assert_string_equal(out, want);
    em_jdoc_release(&d);
    free(m);

    /* 100k tiny tokens: FULL with the exact count, then the heap */
    em_buf b = {0};
    add_str(&b, "[");
    for (int i = 0; i < 100000; i++)
        add_str(&b, i ? ",1" : "1");
    add_str(&b, "]");
    size_t n = 0;
    assert_int_equal(em_jscan((char *)b.data, b.len, false, stack, 64, &n), EM_JSCAN_FULL);
    assert_int_equal(n, 100001);
    assert_int_equal(em_jdoc_read(&d, (char *)b.data, b.len, false, stack, 64), EM_JSCAN_OK);
    assert_int_equal(d.n, 100001);
    assert_int_equal(d.t[0].count, 100000);
    assert_int_equal(d.t[100000].integer, 1);
    assert_int_equal(d.t[100000].start, b.len - 2);
    em_jdoc_release(&d);
    assert_true(same_as_jansson((char *)b.data, b.len));
    em_buf_release(&b);

    /* an object of 100k members, every name "k": em_jget finds the last */
    add_str(&b, "{");
    for (int i = 0; i < 100000; i++) {
        char mem[32];
        int k = snprintf(mem, sizeof mem, "%s\"k\":%d", i ? "," : "", i);
        add(&b, mem, (size_t)k);
    }
    add_str(&b, "}");
    assert_int_equal(em_jdoc_read(&d, (char *)b.data, b.len, false, NULL, 0), EM_JSCAN_OK);
    assert_int_equal(d.t[0].count, 100000);
    assert_int_equal(d.t[em_jget(&d, 0, "k")].integer, 99999);
    em_jdoc_release(&d);
    assert_true(same_as_jansson((char *)b.data, b.len));
    em_buf_release(&b);

    /* a 1 MiB string of every byte a string may hold as it is, escapes and
     * multibyte sequences at every alignment */
    add_str(&b, "[\"");
    for (size_t i = 0; b.len < (1u << 20); i++) {
        unsigned char c = (unsigned char)(0x20 + i % 0x60);
        if (c == '"' || c == '\\' || c == 0x7f)
            add_str(&b, i % 3 ? "\\u00e9" : "\\\\");
        else if (i % 97 == 0)
            add_str(&b, "\xf0\x9f\x98\x80");
        else if (i % 89 == 0)
            add_str(&b, "\\ud83d\\ude00");
        else
            add(&b, &c, 1);
    }
    add_str(&b, "\"]");
    assert_true(same_as_jansson((char *)b.data, b.len));
    assert_int_equal(em_jdoc_read(&d, (char *)b.data, b.len, false, stack, 64), EM_JSCAN_OK);
    assert_int_equal(d.n, 2);
    assert_int_equal(d.t[1].escaped, 1);
    em_jdoc_release(&d);
    /* and one raw control byte at its end is refused */
    b.data[b.len - 3] = '\x1f';
    assert_false(same_as_jansson((char *)b.data, b.len));
    em_buf_release(&b);
}

/* em_jstr_decode_canonical: whether a string's text is what em_jw_string writes of
 * its value, checked against the writer itself for each escape. */
static void test_canonical_text(void **state)
{
    (void)state;
    static const struct {
        const char *json;
        bool canonical;
    } cases[] = {
        {"[\"plain / text \u00e9\"]", true},     /* no escape (the \u00e9 is C's: raw UTF-8) */
        {"[\"a\\\"b\\\\c\\nd\\te\\rf\\bg\\fh\"]", true},
        {"[\"\\u0001\\u001F\\u0000x\"]", false}, /* refused by em_jscan: \u0000 */
        {"[\"\\u0001\\u001F\"]", true},
        {"[\"\\u001f\"]", false},                 /* lower-case hex */
        {"[\"\\u000a\"]", false},                 /* the writer's \n */
        {"[\"\\u0009\"]", false},
        {"[\"\\u0041\"]", false},                 /* not a control character */
        {"[\"\\u00e9\"]", false},
        {"[\"\\/\"]", false},
        {"[\"\\ud83d\\ude00\"]", false},
        /* longer than a 32-byte step: lone escapes of '"' (a block at once
         * where the CPU can), one "\\/" among them, a "\\n" (a block an
         * escape at a time), an escape across a step's edge */
        {"[\"0123\\\"456789012345678901\\\"34567890123456\\\"89012345678901234567890\\\"23\"]", true},
        {"[\"0123\\\"456789012345678901\\\"34567890123456\\/89012345678901234567890\\\"23\"]", false},
        {"[\"0123\\\"456789012345678901\\\"34567890123456\\n89012345678901234567890\\\"23\"]", true},
        {"[\"012345678901234567890123456789\\\"\\\"234567890123456789012345678901234\\/\"]", false},
        {"[\"012345678901234567890123456789\\\"\\\"234567890123456789012345678901234\\\"\"]", true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        em_jtok toks[8];
        size_t n = 0;
        int rc = em_jscan(cases[i].json, strlen(cases[i].json), true, toks, 8, &n);
        if (strstr(cases[i].json, "\\u0000")) {
            assert_int_equal(rc, EM_JSCAN_INVALID);
            continue;
        }
        assert_int_equal(rc, EM_JSCAN_OK);
        em_jdoc d = {.text = cases[i].json, .t = toks, .n = n};
        /* canonical exactly when the writer writes the same text */
        char decoded[160], again[160];
        size_t len = em_jstr_decode(&d, 1, decoded);
        bool canonical = true; /* the same answer in the decoding pass, the same bytes */
        assert_int_equal(em_jstr_decode_canonical(&d, 1, again, &canonical), len);
        assert_memory_equal(again, decoded, len);
        assert_int_equal(canonical, cases[i].canonical);
        em_buf b = {0};
        assert_int_equal(em_jw_string(&b, decoded, len), 0);
        bool same = b.len == toks[1].len + 2 && memcmp(b.data + 1, cases[i].json + toks[1].start, toks[1].len) == 0;
        assert_int_equal(same, cases[i].canonical);
        em_buf_release(&b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tokens),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_depth_boundary),
        cmocka_unit_test(test_integers),
        cmocka_unit_test(test_reals),
        cmocka_unit_test(test_surrogates_and_escapes),
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_every_byte),
        cmocka_unit_test(test_duplicates_and_get),
        cmocka_unit_test(test_full_counts_exactly),
        cmocka_unit_test(test_jdoc_heap_once),
        cmocka_unit_test(test_differential),
        cmocka_unit_test(test_strings_across_steps),
        cmocka_unit_test(test_large_texts),
        cmocka_unit_test(test_canonical_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
