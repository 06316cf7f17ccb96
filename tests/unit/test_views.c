/*
 * The tree-free writers of the hot actions' answers (src/base/json_write.c:
 * em_jw_*, src/store/views.c: em_repo_write, em_image_id_write,
 * em_image_write, src/areas/images.c: em_image_detail_write): for every
 * state, byte for byte what em_wire_dump() writes of the tree the same
 * answer is built as (em_repo_json, em_image_id_json, em_image_json,
 * em_image_detail_json); appended after what the buffer holds; nothing
 * allocated but the buffer's growth in the common case (an image never
 * archived, restored nor scanned); and with any allocation failing, -1 and
 * nothing leaked (valgrind).
 */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */
#include <float.h>
#include <math.h>
#include <sys/mman.h>
#include <unistd.h>

#include "helpers.h"
#include "alloc_fail.h"
#include "areas/areas.h"

#define ACCOUNT "123456789012"
#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_OCI_CONFIG "application/vnd.oci.image.config.v1+json"

/* ---- the comparison ---------------------------------------------------------- */

/* One thing to write: its tree and its writer. */
typedef struct target {
    ecrmock *m;
    em_repo *repo;
    em_image *img;
    const char *digest, *tag;
} target;

typedef json_t *(*tree_fn)(const target *s);
typedef int (*write_fn)(em_buf *b, const target *s);

static void assert_bytes(const char *what, const void *got, size_t got_len, const char *want, size_t want_len)
{
    if (got_len != want_len || memcmp(got, want, want_len) != 0)
        fail_msg("%s: the writer wrote\n  %.*s\nthe tree is\n  %.*s", what, (int)got_len, (const char *)got,
                 (int)want_len, want);
}

/*
 * Asserts that `write` writes em_wire_dump(tree(s))'s bytes: into an empty
 * buffer; after a prefix in a buffer with room (no allocation at all when
 * `alloc_free`); and with each allocation it makes in turn failing, -1
 * (what it wrote then is the caller's to drop: released here).
 */
static void check(const char *what, tree_fn tree, write_fn write, const target *s, bool alloc_free)
{
    json_t *t = tree(s);
    assert_non_null(t);
    char *want;
    size_t want_len;
    assert_int_equal(em_wire_dump(t, &want, &want_len), 0);
    json_decref(t);

    em_buf b = {0};
    assert_int_equal(write(&b, s), 0);
    assert_bytes(what, b.data, b.len, want, want_len);
    em_buf_release(&b);

    /* room: a string asks for its worst case (every byte escaped) at once */
    assert_int_equal(em_buf_reserve(&b, 6 * want_len + 64), 0);
    assert_int_equal(em_buf_append(&b, "[", 1), 0);
    alloc_fail_arm(-1);
    int rc = write(&b, s);
    long allocations = alloc_fail_disarm();
    assert_int_equal(rc, 0);
    assert_true(b.len > 0 && b.data[0] == '[');
    assert_bytes(what, b.data + 1, b.len - 1, want, want_len);
    if (alloc_free && allocations)
        fail_msg("%s: %ld allocations in a buffer with room", what, allocations);
    em_buf_release(&b);

    for (long n = 1;; n++) {
        alloc_fail_arm(n);
        rc = write(&b, s);
        bool failed = alloc_fail_disarm() >= n;
        if (!failed) {
            assert_int_equal(rc, 0);
            assert_bytes(what, b.data, b.len, want, want_len);
            em_buf_release(&b);
            break;
        }
        if (rc != -1)
            fail_msg("%s: allocation %ld failed, the writer returned %d", what, n, rc);
        em_buf_release(&b);
    }
    free(want);
}

static json_t *repo_tree(const target *s)
{
    return em_repo_json(s->m, s->repo);
}

static int repo_write(em_buf *b, const target *s)
{
    return em_repo_write(b, s->m, s->repo);
}

static json_t *id_tree(const target *s)
{
    return em_image_id_json(s->digest, s->tag);
}

static int id_write(em_buf *b, const target *s)
{
    return em_image_id_write(b, s->digest, s->tag);
}

static json_t *image_tree(const target *s)
{
    return em_image_json(s->repo, s->img, s->tag);
}

/* ... and where the manifest's string went (the journal keeps an image
 * for those bytes): between the members around it, quotes and all (the
 * bytes themselves are held to the tree's by check()). */
static int image_write(em_buf *b, const target *s)
{
    size_t from = b->len, at[2] = {0, 0};
    int rc = em_image_write(b, s->repo, s->img, s->tag, at);
    if (rc == 0) {
        static const char before[] = "\"imageManifest\":", after[] = ",\"imageManifestMediaType\":";
        const char *d = (const char *)b->data;
        assert_true(at[0] >= from + sizeof before - 1 && at[1] >= at[0] + 2 && at[1] + sizeof after - 1 <= b->len);
        assert_memory_equal(d + at[0] - (sizeof before - 1), before, sizeof before - 1);
        assert_memory_equal(d + at[1], after, sizeof after - 1);
        assert_int_equal(d[at[0]], '"');
        assert_int_equal(d[at[1] - 1], '"');
    }
    return rc;
}

static json_t *detail_tree(const target *s)
{
    return em_image_detail_json(s->m, s->repo, s->img);
}

static int detail_write(em_buf *b, const target *s)
{
    return em_image_detail_write(b, s->m, s->repo, s->img);
}

static em_repo *repo_of(ecrmock *m, const char *name)
{
    em_repo *repo = em_repo_get(em_registry_get(m, ACCOUNT), name);
    assert_non_null(repo);
    return repo;
}

static em_image *image_of(em_repo *repo, const char *digest)
{
    em_image *img = em_image_get(repo, digest);
    assert_non_null(img);
    return img;
}

static void check_repo(ecrmock *m, const char *name)
{
    target s = {.m = m, .repo = repo_of(m, name)};
    check(name, repo_tree, repo_write, &s, true);
}

/* The imageDetail of `digest` in `repo`, and its Image with no tag, with
 * each of its tags, and with a tag it does not have. */
static void check_image(ecrmock *m, const char *repo, const char *digest, bool alloc_free)
{
    target s = {.m = m, .repo = repo_of(m, repo)};
    s.img = image_of(s.repo, digest);
    check(digest, detail_tree, detail_write, &s, alloc_free);
    check(digest, image_tree, image_write, &s, true);
    for (uint32_t k = 0; k < s.img->n_tags; k++) {
        s.tag = s.img->tags[k]->name;
        check(s.tag, image_tree, image_write, &s, true);
    }
    s.tag = "other";
    check(s.tag, image_tree, image_write, &s, true);
}

/* ---- em_jw_*: one value as inside a document --------------------------------- */

/* What em_wire_dump() writes of v as an array's item: [v] without its brackets. */
static char *item_bytes(json_t *v, size_t *len)
{
    json_t *a = json_array();
    assert_int_equal(json_array_append_new(a, v), 0);
    char *text;
    size_t n;
    int rc = em_wire_dump(a, &text, &n);
    json_decref(a);
    if (rc < 0)
        return NULL;
    assert_true(n >= 2 && text[0] == '[' && text[n - 1] == ']');
    memmove(text, text + 1, n - 2);
    *len = n - 2;
    return text;
}

typedef struct jw_case {
    json_t *tree; /* the value (owned) */
    int kind;     /* 's' string, 'i' integer, 'r' real, 'v' tree */
} jw_case;

static int jw_write(em_buf *b, json_t *v, int kind)
{
    switch (kind) {
    case 's': return em_jw_string(b, json_string_value(v), json_string_length(v));
    case 'i': return em_jw_int(b, json_integer_value(v));
    case 'r': return em_jw_real(b, json_real_value(v));
    default: return em_jw_value(b, v);
    }
}

/* Asserts the writer of `kind` writes v (a new reference, released here) as
 * em_wire_dump writes it inside an array, both as it is and as a tree
 * (em_jw_value), appended after a prefix, with no allocation in a buffer
 * with room and -1 on a failed one. */
static void check_value(json_t *v, int kind)
{
    assert_non_null(v);
    size_t want_len;
    char *want = item_bytes(json_incref(v), &want_len);
    assert_non_null(want);
    for (int pass = 0; pass < 2; pass++) {
        int k = pass ? 'v' : kind;
        em_buf b = {0};
        assert_int_equal(em_buf_append(&b, "[", 1), 0);
        assert_int_equal(em_buf_reserve(&b, 6 * want_len + 64), 0);
        alloc_fail_arm(-1);
        int rc = jw_write(&b, v, k);
        assert_int_equal(alloc_fail_disarm(), 0);
        assert_int_equal(rc, 0);
        assert_bytes("value", b.data + 1, b.len - 1, want, want_len);
        em_buf_release(&b);
        for (long n = 1;; n++) {
            alloc_fail_arm(n);
            rc = jw_write(&b, v, k);
            bool failed = alloc_fail_disarm() >= n;
            if (!failed) {
                assert_int_equal(rc, 0);
                assert_bytes("value", b.data, b.len, want, want_len);
                em_buf_release(&b);
                break;
            }
            assert_int_equal(rc, -1);
            em_buf_release(&b);
        }
    }
    free(want);
    json_decref(v);
}

static void test_jw_reals(void **state)
{
    (void)state;
    static const double reals[] = {
        1e300, 0.1, -0.0, 0.0, 1234567.25, -1234567.25, 1e-5, 1e-3, 9.999e-4, 1e7, 9999999.0, 9999999.5,
        100.0, 7.5, 1.0, -1.0, 5e-324, 2.2250738585072014e-308, DBL_MAX, -DBL_MAX, 1.7e308, 1e23, 2e-7,
        1688712875.0, 1704067200.123, 1704067200.001, 0.001, 0.999, 9223372036854775.807, 253402300799.999,
        4.35, 1.0 / 3.0, 123456789012345678.0, 0x1p43, 0x1p43 + 0.5, 0x1p53, 0x1p63, -0x1p63,
    };
    for (size_t i = 0; i < sizeof reals / sizeof reals[0]; i++)
        check_value(json_real(reals[i]), 'r');
    /* Not finite: json_real() makes no such value; neither writes one. */
    em_buf b = {0};
    assert_int_equal(em_jw_real(&b, NAN), -1);
    assert_int_equal(em_jw_real(&b, INFINITY), -1);
    assert_int_equal(em_jw_real(&b, -INFINITY), -1);
    assert_null(json_real(NAN));
    assert_int_equal(b.len, 0);
    em_buf_release(&b);
}

static void test_jw_integers(void **state)
{
    (void)state;
    static const int64_t ints[] = {0, 1, -1, 9, 10, -10, 1234567890123, INT32_MAX, INT32_MIN,
                                   INT64_MAX, INT64_MIN, INT64_MAX - 1, INT64_MIN + 1};
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++)
        check_value(json_integer(ints[i]), 'i');
}

/* Random strings dense in what the encoder treats apart (quotes,
 * backslashes, control characters, UTF-8 of two and four bytes, '/'), of
 * every length up to 300 and past the 4 KiB "roomy" bound, at every
 * position of the encoder's 8- and 16-byte steps: em_jw_string writes what
 * jansson's json_dumps writes, after a prefix of every length. */
static void test_jw_string_dense_texts(void **state)
{
    (void)state;
    static const char *const pieces[] = {"a", "\"", "\\", "\n", "\x01", "\x1f", "/", "\xc3\xa9", "\xf0\x9f\x98\x80", "z9", " "};
    uint64_t seed = 0x243f6a8885a308d3u;
    char *text = malloc(6000);
    assert_non_null(text);
    for (int round = 0; round < 3000; round++) {
        size_t want_len = round < 2900 ? (size_t)(round % 301) : 4090 + (size_t)(round % 20), n = 0;
        while (n < want_len) {
            seed = seed * 6364136223846793005u + 1442695040888963407u;
            const char *piece = pieces[(seed >> 33) % (sizeof pieces / sizeof pieces[0])];
            size_t k = strlen(piece);
            if (n + k > want_len)
                break;
            memcpy(text + n, piece, k);
            n += k;
        }
        json_t *v = json_stringn(text, n);
        assert_non_null(v);
        char *want = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
        json_decref(v);
        em_buf b = {0};
        size_t prefix = (size_t)round % 17;
        for (size_t i = 0; i < prefix; i++)
            assert_int_equal(em_buf_append(&b, "[", 1), 0);
        assert_int_equal(em_jw_string(&b, text, n), 0);
        if (b.len != prefix + strlen(want) || memcmp(b.data + prefix, want, strlen(want)) != 0)
            fail_msg("round %d, %zu bytes: %.*s, jansson %s", round, n, (int)(b.len - prefix), b.data + prefix, want);
        em_buf_release(&b);
        free(want);
    }
    free(text);
}

/* A string that ends where readable memory ends: the encoder reads none of
 * the bytes after it (the vector path's last 1-15 bytes go through masks;
 * a plain 16-byte load there would fault on the guard page).  Every length
 * 1-40, plain and with a quote, a backslash or a control character last. */
static void test_jw_string_at_a_page_end(void **state)
{
    (void)state;
    long page = sysconf(_SC_PAGESIZE);
    assert_true(page > 0);
    char *map = mmap(NULL, 2 * (size_t)page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(map != MAP_FAILED);
    assert_int_equal(mprotect(map + page, (size_t)page, PROT_NONE), 0);
    static const char last[] = {'z', '"', '\\', '\n'};
    for (size_t len = 1; len <= 40; len++) {
        for (size_t k = 0; k < sizeof last; k++) {
            char *text = map + page - len;
            for (size_t i = 0; i < len; i++)
                text[i] = (char)('a' + i % 26);
            text[len - 1] = last[k];
            json_t *v = json_stringn(text, len);
            char *want = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
            em_buf b = {0};
            assert_int_equal(em_jw_string(&b, text, len), 0);
            assert_bytes("at the page's end", b.data, b.len, want, strlen(want));
            em_buf_release(&b);
            free(want);
            json_decref(v);
        }
    }
    munmap(map, 2 * (size_t)page);
}

static void test_jw_strings(void **state)
{
    (void)state;
    /* Every control character alone, then all of them together. */
    char all[40];
    for (int c = 0; c < 32; c++) {
        char one[3] = {'a', (char)c, 'z'};
        check_value(json_stringn(one, 3), 's');
        all[c] = (char)c;
    }
    check_value(json_stringn(all, 32), 's');
    static const char *const texts[] = {
        "", "plain", "\"quoted\"", "back\\slash", "a/b", "\x7f", "caf\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80",
        "\xf4\x8f\xbf\xbf", "mixed \"\\\n\t\x01 \xf0\x9f\x98\x80 /", "\xef\xbb\xbf", "\\u0041",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
        check_value(json_string(texts[i]), 's');
    /* A long text goes the encoder's other way (room asked escape by
     * escape): all escapes, and plain with escapes here and there. */
    size_t n = 9000;
    char *big = malloc(n);
    assert_non_null(big);
    for (size_t i = 0; i < n; i++)
        big[i] = (char)(i % 32);
    check_value(json_stringn(big, n), 's');
    for (size_t i = 0; i < n; i++)
        big[i] = i % 97 == 0 ? '"' : i % 89 == 0 ? '\n' : (char)('a' + i % 26);
    memcpy(big + 4000, "\xf0\x9f\x98\x80", 4);
    check_value(json_stringn(big, n), 's');
    free(big);
}

static void test_jw_trees(void **state)
{
    (void)state;
    check_value(json_true(), 'v');
    check_value(json_false(), 'v');
    check_value(json_null(), 'v');
    check_value(json_loads("{}", 0, NULL), 'v');
    check_value(json_loads("[]", 0, NULL), 'v');
    json_t *t = json_loads("{\"z\": 1, \"a\": [1, 2.5, -0.0, \"x\\u0001\", {\"k\\\"\\\\\": null}, true, false, []],"
                           " \"\\u00e9\\ud83d\\ude00\": {\"n\": {\"m\": [[[]]]}}, \"r\": 1e300,"
                           " \"i\": -9223372036854775808}",
                           0, NULL);
    check_value(t, 'v');
    /* A key with a NUL in it: the response writer takes it (only the journal refuses it). */
    json_t *o = json_object();
    assert_int_equal(json_object_setn_new(o, "a\0b", 3, json_integer(1)), 0);
    check_value(o, 'v');
}

static void test_jw_refusals(void **state)
{
    (void)state;
    em_buf b = {0};
    /* Not UTF-8: em_wire_dump refuses the tree, the writer the string. */
    static const char *const bad[] = {"\xff", "a\xc3", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\x80"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t len = strlen(bad[i]), n;
        assert_null(item_bytes(json_stringn_nocheck(bad[i], len), &n));
        assert_int_equal(em_jw_string(&b, bad[i], len), -1);
        json_t *v = json_stringn_nocheck(bad[i], len);
        assert_int_equal(em_jw_value(&b, v), -1);
        json_decref(v);
    }
    em_buf_release(&b);
    assert_int_equal(em_jw_string(&b, NULL, 0), -1);
    assert_int_equal(em_jw_value(&b, NULL), -1);
    assert_int_equal(em_jw_str_after(&b, ",", 1, NULL), -1);
    em_buf_release(&b);
    /* Written one after the other, they append. */
    assert_int_equal(EM_JW_LIT(&b, "{\"a\":"), 0);
    assert_int_equal(em_jw_int(&b, -5), 0);
    assert_int_equal(EM_JW_STR_AFTER(&b, ",\"b\":", "x\"y"), 0);
    assert_int_equal(EM_JW_LIT(&b, ",\"t\":"), 0);
    assert_int_equal(em_jw_time(&b, 1704067200123), 0);
    assert_int_equal(EM_JW_LIT(&b, "}"), 0);
    const char *want = "{\"a\":-5,\"b\":\"x\\\"y\",\"t\":1.704067200123E9}";
    assert_bytes("sequence", b.data, b.len, want, strlen(want));
    em_buf_release(&b);
}

/* ---- repositories ---------------------------------------------------------------- */

static void test_repo_write_states(void **state)
{
    ecrmock *m = *state;
    create_repo(m, "plain");
    check_repo(m, "plain");
    call_ok(m, "CreateRepository",
            "{\"repositoryName\": \"team/web_app.x-1\", \"imageTagMutability\": \"IMMUTABLE\","
            " \"imageScanningConfiguration\": {\"scanOnPush\": true},"
            " \"encryptionConfiguration\": {\"encryptionType\": \"KMS\","
            " \"kmsKey\": \"arn:aws:kms:us-east-1:123456789012:key/abcd\"}}");
    check_repo(m, "team/web_app.x-1");
    call_ok(m, "CreateRepository",
            "{\"repositoryName\": \"kms-default\", \"encryptionConfiguration\": {\"encryptionType\": \"KMS\"}}");
    check_repo(m, "kms-default");
    create_repo(m, "excl");
    call_ok(m, "PutImageTagMutability",
            "{\"repositoryName\": \"excl\", \"imageTagMutability\": \"IMMUTABLE_WITH_EXCLUSION\","
            " \"imageTagMutabilityExclusionFilters\": [{\"filterType\": \"WILDCARD\", \"filter\": \"latest\"},"
            " {\"filterType\": \"WILDCARD\", \"filter\": \"dev-*\"}]}");
    check_repo(m, "excl");
    call_ok(m, "PutImageScanningConfiguration",
            "{\"repositoryName\": \"excl\", \"imageScanningConfiguration\": {\"scanOnPush\": true}}");
    check_repo(m, "excl");

    /* The clock's edges: created at 0 and at its last millisecond. */
    assert_int_equal(ecrmock_clock_set(m, 0, NULL), 0);
    create_repo(m, "at-zero");
    check_repo(m, "at-zero");
    assert_int_equal(ecrmock_clock_set(m, ECRMOCK_CLOCK_MAX_MS, NULL), 0);
    create_repo(m, "at-max");
    check_repo(m, "at-max");
    assert_int_equal(repo_of(m, "at-max")->created_ms, ECRMOCK_CLOCK_MAX_MS);

    /* What no request makes, each writer must still write as the tree:
     * every time, and strings with every kind of escape. */
    em_repo *r = repo_of(m, "team/web_app.x-1");
    int64_t created = r->created_ms;
    static const int64_t times[] = {0, 1, 999, 1001, 1704067200123, 1704067200100, INT64_MAX, INT64_MIN, -1,
                                    ECRMOCK_CLOCK_MAX_MS};
    for (size_t i = 0; i < sizeof times / sizeof times[0]; i++) {
        r->created_ms = times[i];
        check_repo(m, "team/web_app.x-1");
    }
    r->created_ms = created;
    char *kms = r->kms_key, *arn = r->arn, *uri = r->uri;
    char odd[] = "k\"e\\y/\x01\x1f\n\t\xc3\xa9\xf0\x9f\x98\x80";
    r->kms_key = odd;
    r->arn = odd;
    check_repo(m, "team/web_app.x-1");
    r->uri = (char *)"\xff"; /* not UTF-8: both fail */
    json_t *t = em_repo_json(m, r);
    assert_null(t);
    em_buf b = {0};
    assert_int_equal(em_repo_write(&b, m, r), -1);
    em_buf_release(&b);
    r->kms_key = kms;
    r->arn = arn;
    r->uri = uri;
    check_repo(m, "team/web_app.x-1");

    em_repo *e = repo_of(m, "excl");
    json_t *filters = e->mutability_filters;
    e->mutability_filters = json_loads("[{\"filterType\": \"WILDCARD\","
                                       " \"filter\": \"a\\\"b\\\\c\\u0001\\ud83d\\ude00\"},"
                                       " {\"z\": 1.5, \"a\": [null, true]}]",
                                       0, NULL);
    check_repo(m, "excl");
    json_decref(e->mutability_filters);
    e->mutability_filters = filters;
}

/* ---- imageIds ------------------------------------------------------------------------ */

static void test_image_id_write(void **state)
{
    (void)state;
    static const char *const digests[] = {
        "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "sha256:", "",
        "d\"i\\g\x01\xf0\x9f\x98\x80",
    };
    static const char *const tags[] = {NULL, "v1", "latest", "", "t\"a\\g\n\x1f\xc3\xa9"};
    for (size_t i = 0; i < sizeof digests / sizeof digests[0]; i++)
        for (size_t k = 0; k < sizeof tags / sizeof tags[0]; k++) {
            target s = {.digest = digests[i], .tag = tags[k]};
            check(digests[i], id_tree, id_write, &s, true);
        }
    em_buf b = {0};
    assert_int_equal(em_image_id_write(&b, "\xc3", NULL), -1);
    assert_int_equal(em_image_id_write(&b, "sha256:", "\xe2\x82"), -1);
    em_buf_release(&b);
    /* a failure's imageId: what was asked, a tag alone, or nothing */
    b = (em_buf){0};
    assert_int_equal(em_image_id_write(&b, NULL, "v\"1"), 0);
    assert_int_equal(em_image_id_write(&b, NULL, NULL), 0);
    assert_int_equal(em_buf_append(&b, "", 1), 0);
    assert_string_equal((const char *)b.data, "{\"imageTag\":\"v\\\"1\"}{}");
    assert_null(em_image_id_json("\xc3", NULL));
    assert_null(em_image_id_json(NULL, "v1"));
    em_buf_release(&b);
}

/* ---- images: Image and imageDetail ------------------------------------------------ */

/* An OCI image manifest over a fresh config and layer, as text written with
 * white space and escapes in its annotations (its bytes are kept as put);
 * `config_mt`: the config's media type; `subject`: a digest, or NULL. */
static char *oci_manifest(ecrmock *m, const char *repo, int salt, const char *config_mt, const char *subject)
{
    char config[64], layer[64], cd[ECRMOCK_DIGEST_SIZE], ld[ECRMOCK_DIGEST_SIZE];
    int cn = snprintf(config, sizeof config, "{\"os\":\"linux\",\"salt\":%d}", salt);
    int ln = snprintf(layer, sizeof layer, "oci layer %d", salt);
    push_layer(m, repo, config, (size_t)cn, cd);
    push_layer(m, repo, layer, (size_t)ln, ld);
    char subj[200] = "";
    if (subject)
        snprintf(subj, sizeof subj,
                 ",\n\t\"subject\": {\"mediaType\": \"" MT_OCI_MANIFEST "\", \"size\": 100, \"digest\": \"%s\"}",
                 subject);
    size_t cap = 2048;
    char *text = malloc(cap);
    assert_non_null(text);
    snprintf(text, cap,
             "{\n\t\"schemaVersion\": 2,\r\n\t\"mediaType\": \"" MT_OCI_MANIFEST "\",\n"
             "\t\"config\": {\"mediaType\": \"%s\", \"size\": %d, \"digest\": \"%s\"},\n"
             "\t\"layers\": [{\"mediaType\": \"application/vnd.oci.image.layer.v1.tar+gzip\", \"size\": %d,"
             " \"digest\": \"%s\"}],\n"
             "\t\"annotations\": {\"q\": \"say \\\"hi\\\" \\\\ back\\/slash \\u0001\\u001f \\ud83d\\ude00"
             " caf\xc3\xa9 \xf0\x9f\x98\x80 \\n\\t\", \"salt\": \"%d\"}%s\n}\n",
             config_mt, cn, cd, ln, ld, salt, subj);
    return text;
}

/* Puts the manifest of `digest` again with `tag`. */
static void tag_image(ecrmock *m, const char *repo, const char *digest, const char *tag)
{
    em_image *img = image_of(repo_of(m, repo), digest);
    json_t *req = json_pack("{s:s, s:s%, s:s}", "repositoryName", repo, "imageManifest", img->manifest,
                            (size_t)img->manifest_len, "imageTag", tag);
    json_t *r = NULL;
    int st = ecrmock_call(m, "PutImage", req, &r);
    json_decref(req);
    assert_ok(st, r);
    json_decref(r);
}

static void storage(ecrmock *m, const char *repo, const char *digest, const char *storage_class)
{
    call_ok(m, "UpdateImageStorageClass",
            "{\"repositoryName\": \"%s\", \"imageId\": {\"imageDigest\": \"%s\"},"
            " \"targetStorageClass\": \"%s\"}",
            repo, digest, storage_class);
}

static void pull(ecrmock *m, const char *repo, const char *digest)
{
    call_ok(m, "BatchGetImage", "{\"repositoryName\": \"%s\", \"imageIds\": [{\"imageDigest\": \"%s\"}]}", repo,
            digest);
}

static void test_image_write_states(void **state)
{
    ecrmock *m = *state;
    /* Docker v2, with 0, 1 and 3 tags. */
    char *untagged = new_repo_with_image(m, "app", 1, NULL);
    check_image(m, "app", untagged, true);
    char *one = push_new_image(m, "app", 2, 2, "v1");
    check_image(m, "app", one, true);
    char *three = push_new_image(m, "app", 1, 3, "b.2");
    tag_image(m, "app", three, "a");
    tag_image(m, "app", three, "C_3");
    assert_int_equal(image_of(repo_of(m, "app"), three)->n_tags, 3);
    check_image(m, "app", three, true);

    /* OCI: a manifest with white space and escapes; an artifact (its own
     * config media type) with a subject. */
    char *text = oci_manifest(m, "app", 4, MT_OCI_CONFIG, NULL);
    char *oci = put_image(m, "app", text, "oci");
    free(text);
    assert_non_null(strchr(image_of(repo_of(m, "app"), oci)->manifest, '\t'));
    check_image(m, "app", oci, true);
    text = oci_manifest(m, "app", 5, "application/vnd.example.thing.v1+json", oci);
    char *art = put_image(m, "app", text, NULL);
    free(text);
    em_image *ai = image_of(repo_of(m, "app"), art);
    assert_non_null(ai->artifact_media_type);
    assert_non_null(ai->subject);
    check_image(m, "app", art, true);

    /* A Docker manifest list and an OCI index. */
    char *children[] = {untagged, one};
    char *list = put_manifest_list(m, "app", 2, children, "list");
    check_image(m, "app", list, true);
    char index[1024];
    snprintf(index, sizeof index,
             "{\"schemaVersion\": 2, \"mediaType\": \"" MT_OCI_INDEX "\", \"manifests\": [{\"mediaType\": \""
             MT_OCI_MANIFEST "\", \"size\": %u, \"digest\": \"%s\", \"platform\": {\"architecture\": \"amd64\","
             " \"os\": \"linux\"}}]}",
             (unsigned)image_of(repo_of(m, "app"), oci)->manifest_len, oci);
    char *idx = put_image(m, "app", index, "index");
    assert_string_equal(image_of(repo_of(m, "app"), idx)->media_type, MT_OCI_INDEX);
    check_image(m, "app", idx, true);

    /* Pulled, at a time with milliseconds. */
    assert_int_equal(ecrmock_clock_set(m, 1704067200123, NULL), 0);
    pull(m, "app", one);
    assert_int_equal(image_of(repo_of(m, "app"), one)->pulled_at_ms, 1704067200123);
    check_image(m, "app", one, true);

    /* Archived, restoring (ACTIVATING), restored. */
    storage(m, "app", three, "ARCHIVE");
    check_image(m, "app", three, false);
    assert_int_equal(ecrmock_clock_advance(m, 1001, NULL), 0);
    storage(m, "app", three, "STANDARD");
    assert_string_equal(em_image_status(m, image_of(repo_of(m, "app"), three)), "ACTIVATING");
    check_image(m, "app", three, false);
    assert_int_equal(ecrmock_clock_advance(m, EM_DAY_MS + 7, NULL), 0);
    assert_string_equal(em_image_status(m, image_of(repo_of(m, "app"), three)), "ACTIVE");
    check_image(m, "app", three, false);

    /* Scanned on push: in progress, then complete with its findings' counts. */
    call_ok(m, "CreateRepository",
            "{\"repositoryName\": \"scan\", \"imageScanningConfiguration\": {\"scanOnPush\": true}}");
    char *scanned = push_new_image(m, "scan", 1, 6, "s");
    assert_true(image_of(repo_of(m, "scan"), scanned)->scanned);
    check_image(m, "scan", scanned, false);
    json_t *findings = json_loads("[{\"name\": \"CVE-1\", \"severity\": \"HIGH\"}, {\"name\": \"CVE-2\", \"severity\":"
                                  " \"LOW\"}, {\"name\": \"CVE-3\", \"severity\": \"HIGH\"}]",
                                  0, NULL);
    assert_int_equal(ecrmock_scan_findings_set(m, NULL, "scan", scanned, findings, NULL), 0);
    json_decref(findings);
    assert_int_equal(ecrmock_clock_advance(m, EM_DAY_MS, NULL), 0);
    check_image(m, "scan", scanned, false);
    char *no_findings = push_new_image(m, "scan", 1, 7, NULL);
    assert_int_equal(ecrmock_clock_advance(m, EM_DAY_MS, NULL), 0);
    check_image(m, "scan", no_findings, false);

    /* Pushed at the clock's edges. */
    assert_int_equal(ecrmock_clock_set(m, 0, NULL), 0);
    char *at0 = push_new_image(m, "app", 1, 8, "zero");
    assert_int_equal(image_of(repo_of(m, "app"), at0)->pushed_at_ms, 0);
    check_image(m, "app", at0, true);
    assert_int_equal(ecrmock_clock_set(m, ECRMOCK_CLOCK_MAX_MS, NULL), 0);
    char *at_max = push_new_image(m, "app", 1, 9, "max");
    pull(m, "app", at_max);
    check_image(m, "app", at_max, true);

    free(untagged);
    free(one);
    free(three);
    free(oci);
    free(art);
    free(list);
    free(idx);
    free(scanned);
    free(no_findings);
    free(at0);
    free(at_max);
}

/* A tag made by hand, with a name no request may give. */
static em_tag *odd_tag(em_image *img, const char *name)
{
    em_tag *t = calloc(1, sizeof *t + strlen(name) + 1);
    assert_non_null(t);
    t->image = img;
    strcpy(t->name, name);
    return t;
}

/* The members as no request makes them: each writer must still write what
 * its tree is. */
static void test_image_write_odd_members(void **state)
{
    ecrmock *m = *state;
    char *d = new_repo_with_image(m, "app", 1, "v1");
    em_repo *repo = repo_of(m, "app");
    em_image *img = image_of(repo, d);
    em_image saved = *img;

    static const int64_t times[] = {0, 1, 999, 1001, 1704067200123, 1704067200100, 1704067200001, INT64_MAX,
                                    INT64_MIN, -1, -1704067200123, ECRMOCK_CLOCK_MAX_MS};
    for (size_t i = 0; i < sizeof times / sizeof times[0]; i++) {
        img->pushed_at_ms = times[i];
        img->pulled_at_ms = times[sizeof times / sizeof times[0] - 1 - i];
        check_image(m, "app", d, true);
    }
    static const int64_t sizes[] = {0, 1, INT64_MAX, INT64_MIN, -1};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        img->size = sizes[i];
        check_image(m, "app", d, true);
    }
    *img = saved;

    /* The storage class's times and a scan, each alone and together, at
     * times with milliseconds: the writer's small tree. */
    int64_t now = ecrmock_clock_now(m);
    img->activated_at_ms = 1;
    check_image(m, "app", d, false);
    img->activated_at_ms = now + 1; /* a restore under way: not shown */
    check_image(m, "app", d, false);
    img->activated_at_ms = 0;
    img->archived_at_ms = 1704067200999;
    check_image(m, "app", d, false);
    img->scanned = true;
    img->scan_started_ms = 1;
    img->scan_done_ms = now + 1; /* in progress */
    check_image(m, "app", d, false);
    img->archived_at_ms = 0;
    img->scan_done_ms = now; /* complete, no findings */
    check_image(m, "app", d, false);
    img->activated_at_ms = now;
    img->archived_at_ms = now - 1;
    check_image(m, "app", d, false);
    *img = saved;

    /* A manifest of every control character, escapes and astral characters;
     * with a NUL inside (written as \u0000 by both). */
    char manifest[128];
    size_t n = 0;
    for (int c = 0; c < 32; c++)
        manifest[n++] = (char)c;
    const char *more = "\"\\/\x7f\xc3\xa9\xf0\x9f\x98\x80\\u0041";
    memcpy(manifest + n, more, strlen(more));
    n += strlen(more);
    img->manifest = manifest;
    img->manifest_len = (uint32_t)n;
    check_image(m, "app", d, true);
    img->manifest_len = 0;
    check_image(m, "app", d, true);

    /* Tags, media types and a subject with escapes: 0, 1 and 3 tags. */
    em_tag *tags[3] = {odd_tag(img, "q\"uote"), odd_tag(img, "back\\slash\x01\x1f"),
                       odd_tag(img, "\xf0\x9f\x98\x80\xc3\xa9\n")};
    img->tags = tags;
    for (uint32_t k = 0; k <= 3; k++) {
        img->n_tags = k;
        check_image(m, "app", d, true);
    }
    img->media_type = "media\"type\t";
    img->artifact_media_type = "art\\ifact\xe2\x82\xac";
    img->subject = (char *)"sub\"ject\x02";
    img->pulled_at_ms = 1;
    check_image(m, "app", d, true);

    /* Not UTF-8: the tree (or its dump) fails, and so does the writer. */
    img->subject = (char *)"\xc3(";
    assert_null(em_image_detail_json(m, repo, img));
    em_buf b = {0};
    assert_int_equal(em_image_detail_write(&b, m, repo, img), -1);
    em_buf_release(&b);
    img->manifest = (char *)"\xe2\x82";
    img->manifest_len = 2;
    json_t *t = em_image_json(repo, img, NULL);
    char *text;
    size_t len;
    assert_non_null(t);
    assert_int_equal(em_wire_dump(t, &text, &len), -1);
    json_decref(t);
    assert_int_equal(em_image_write(&b, repo, img, NULL, NULL), -1);
    em_buf_release(&b);

    *img = saved;
    for (int k = 0; k < 3; k++)
        free(tags[k]);
    check_image(m, "app", d, true);
    free(d);
}

int main(void)
{
    alloc_fail_install();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jw_reals),
        cmocka_unit_test(test_jw_integers),
        cmocka_unit_test(test_jw_strings),
        cmocka_unit_test(test_jw_string_dense_texts),
        cmocka_unit_test(test_jw_string_at_a_page_end),
        cmocka_unit_test(test_jw_trees),
        cmocka_unit_test(test_jw_refusals),
        cmocka_unit_test_setup_teardown(test_repo_write_states, setup_mock, teardown_mock),
        cmocka_unit_test(test_image_id_write),
        cmocka_unit_test_setup_teardown(test_image_write_states, setup_mock, teardown_mock),
        cmocka_unit_test_setup_teardown(test_image_write_odd_members, setup_mock, teardown_mock),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
