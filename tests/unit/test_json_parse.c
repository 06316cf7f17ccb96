/*
 * The request parser's fast path (src/base/json_parse.c): what it takes it builds
 * exactly as json_loadb does; everything else it leaves to jansson (NULL,
 * not out of memory).  tests/fuzz/fuzz_json.c checks the first half on
 * arbitrary input; these pin the edges, and the wire level's answers around
 * them.
 */
#include "helpers.h"
#include "base/base.h"

/* The fast path's tree for text, serialised by jansson (keys in order, 1
 * and 1.0 told apart); NULL when it did not take the text. */
static char *fast(const char *text, size_t len)
{
    bool oom = true;
    json_t *doc = em_json_parse(text, len, &oom);
    assert_false(oom);
    if (!doc)
        return NULL;
    char *s = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    return s;
}

static char *jansson(const char *text, size_t len)
{
    json_t *doc = json_loadb(text, len, 0, NULL);
    assert_non_null(doc);
    char *s = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    return s;
}

/* text is taken, and read as jansson reads it, into `want`. */
static void taken(const char *text, size_t len, const char *want)
{
    char *a = fast(text, len), *b = jansson(text, len);
    assert_non_null(a);
    assert_string_equal(a, b);
    assert_string_equal(a, want);
    free(a);
    free(b);
}

static void left(const char *text, size_t len)
{
    char *a = fast(text, len);
    if (a)
        fail_msg("the fast path took %.*s as %s", (int)len, text, a);
}

#define TAKEN(lit, want) taken(lit, sizeof lit - 1, want)
#define LEFT(lit) left(lit, sizeof lit - 1)

static void test_takes_what_clients_send(void **state)
{
    (void)state;
    TAKEN("{\"repositoryName\":\"web\",\"imageIds\":[{\"imageTag\":\"v1\"}],\"maxResults\":10}",
          "{\"repositoryName\":\"web\",\"imageIds\":[{\"imageTag\":\"v1\"}],\"maxResults\":10}");
    TAKEN(" \t\r\n{ \"a\" :\t[ 1 , -2 , 0 , -0 ] , \"b\" : { } , \"c\" : [ ] } \n",
          "{\"a\":[1,-2,0,0],\"b\":{},\"c\":[]}");
    TAKEN("[true,false,null,\"\"]", "[true,false,null,\"\"]");
    TAKEN("{\"big\":999999999999999999,\"neg\":-999999999999999999}",
          "{\"big\":999999999999999999,\"neg\":-999999999999999999}");
}

static void test_escapes_and_utf8(void **state)
{
    (void)state;
    /* every short escape, \u forms of one, two and three UTF-8 bytes, raw
     * multi-byte characters, and an escaped key */
    TAKEN("{\"s\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u0041\\u00e9\\u4E2D\",\"k\\u00e9y\":\"\xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80\"}",
          "{\"s\":\"\\\"\\\\/\\b\\f\\n\\r\\tA\xc3\xa9\xe4\xb8\xad\",\"k\xc3\xa9y\":\"\xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80\"}");
    /* a long escaped key (past the parser's on-stack copy) next to an
     * escaped value: neither overwrites the other */
    char text[700], want[700];
    char key[301];
    memset(key, 'k', 300);
    key[300] = '\0';
    snprintf(text, sizeof text, "{\"%s\\n\":\"v\\n\"}", key);
    snprintf(want, sizeof want, "{\"%s\\n\":\"v\\n\"}", key);
    taken(text, strlen(text), want);
    /* an escaped text longer than the parser's on-stack buffer */
    char *big = malloc(6100), *bigwant = malloc(6100);
    strcpy(big, "{\"m\":\"");
    strcpy(bigwant, big);
    for (int i = 0; i < 1500; i++) {
        strcat(big, "a\\\"");
        strcat(bigwant, "a\\\"");
    }
    strcat(big, "\"}");
    strcat(bigwant, "\"}");
    taken(big, strlen(big), bigwant);
    free(big);
    free(bigwant);
    /* a manifest as PutImage gets it: quotes escaped in a string */
    TAKEN("{\"imageManifest\":\"{\\\"schemaVersion\\\":2}\"}", "{\"imageManifest\":\"{\\\"schemaVersion\\\":2}\"}");
}

static void test_repeated_key_keeps_first_place(void **state)
{
    (void)state;
    TAKEN("{\"a\":1,\"b\":2,\"a\":3}", "{\"a\":3,\"b\":2}");
}

static void test_leaves_the_rest_to_jansson(void **state)
{
    (void)state;
    /* valid JSON the fast path does not read itself */
    LEFT("{\"r\":1.5}");
    LEFT("{\"r\":1e3}");
    LEFT("{\"n\":9223372036854775807}");
    LEFT("{\"s\":\"\\ud83d\\ude00\"}");
    LEFT("\"top\"");
    LEFT("7");
    /* what jansson refuses: left, so that jansson's error is the answer */
    LEFT("");
    LEFT("   ");
    LEFT("{\"lead\":01}");
    LEFT("{\"m\":-}");
    LEFT("{\"nul\":\"\\u0000\"}");
    LEFT("{\"lone\":\"\\udc00\"}");
    LEFT("[1,2,]");
    LEFT("{\"a\":1,}");
    LEFT("{\"a\" 1}");
    LEFT("{1:2}");
    LEFT("{\"t\":truex}");
    LEFT("{\"t\":tru}");
    LEFT("{\"a\":\"b\"} x");
    LEFT("{\"a\":\"b\"}{}");
    LEFT("{\"e\":\"\\q\"}");
    LEFT("{\"e\":\"\\u00zz\"}");
    LEFT("{\"e\":\"\\u00");
    LEFT("{\"open\":\"abc");
    LEFT("{\"open\":[1,2");
    LEFT("\xef\xbb\xbf{}");                 /* a byte-order mark */
    left("{\"c\":\"a\x00 b\"}", 12);        /* a raw NUL */
    LEFT("{\"c\":\"a\tb\"}");               /* a raw control character */
    LEFT("{\"u\":\"\xff\"}");               /* not UTF-8 */
    LEFT("{\"u\":\"\xc0\xaf\"}");           /* overlong */
    LEFT("{\"u\":\"\xed\xa0\x80\"}");       /* a surrogate, encoded */
    LEFT("{\"u\":\"\xf4\x90\x80\x80\"}");   /* above U+10FFFF */
    LEFT("{\"u\":\"\xe4\xb8\"}");           /* cut short */
    /* nesting deeper than the fast path goes (jansson's limit is 2048) */
    char deep[200];
    memset(deep, '[', 100);
    memset(deep + 100, ']', 100);
    left(deep, sizeof deep);
    /* 60 levels: taken */
    char want[121];
    memcpy(want, deep + 40, 120);
    want[120] = '\0';
    taken(deep + 40, 120, want);
}

/* The wire level's status and exact body for a raw request body. */
static void raw_answer(ecrmock *m, const char *action, const char *body, int status, const char *want)
{
    char *out = NULL;
    size_t len = 0;
    assert_int_equal(ecrmock_call_raw(m, action, body, strlen(body), &out, &len), status);
    assert_string_equal(out, want);
    free(out);
}

/* Around the fast path, the wire level answers as before: jansson's error
 * positions for what is not JSON, the value for what the fast path leaves. */
static void test_wire_answers_around_it(void **state)
{
    ecrmock *m = *state;
    raw_answer(m, "CreateRepository", "{\"repositoryName\":\"web\",}", 400,
               "{\"__type\":\"SerializationException\",\"Message\":\"The request body is not valid JSON "
               "(at character 25)\"}");
    raw_answer(m, "DescribeImages", "{\"repositoryName\":\"web\",\"maxResults\":92233720368547758070}", 400,
               "{\"__type\":\"SerializationException\",\"Message\":\"Numeric value out of range of long "
               "(at character 57)\"}");
    /* read by jansson (a real), then checked against the model as ever */
    raw_answer(m, "DescribeRepositories", "{\"repositoryName\":\"web\",\"maxResults\":1.5}", 400,
               "{\"__type\":\"SerializationException\",\"Message\":\"NUMBER_VALUE can not be converted to an "
               "Integer\"}");
    /* taken by the fast path, escapes and all */
    const char *esc = "{\"repositoryName\":\"te\\u0061m/w\\/eb\"}";
    char *out = NULL;
    size_t len = 0;
    assert_int_equal(ecrmock_call_raw(m, "CreateRepository", esc, strlen(esc), &out, &len), 200);
    assert_non_null(strstr(out, "\"repositoryName\":\"team/w/eb\""));
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_takes_what_clients_send),
        cmocka_unit_test(test_escapes_and_utf8),
        cmocka_unit_test(test_repeated_key_keeps_first_place),
        cmocka_unit_test(test_leaves_the_rest_to_jansson),
        cmocka_unit_test_setup_teardown(test_wire_answers_around_it, setup_mock, teardown_mock),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
