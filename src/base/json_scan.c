/*
 * A JSON text read into flat tokens, without a tree (issue 19).
 *
 * The hot actions' requests and PutImage's manifest are read here instead of
 * into jansson trees, which cost tens of allocations a call.  em_jscan walks
 * the text once, iteratively (an explicit stack of the open containers, no
 * recursion), and writes one em_jtok per value and per member name into the
 * caller's array; nothing is copied, nothing allocated.
 *
 * It accepts exactly what json_loadb(text, len, flags, &err) of jansson 2.14
 * accepts (flags 0, or JSON_DECODE_ANY), which tests/fuzz/fuzz_json_scan.c
 * checks on arbitrary input and tests/unit/test_json_scan.c pins at every
 * edge.  jansson's rules, as its load.c and utf.c apply them:
 *  - white space: space, \t, \n, \r; an empty text is refused; with flags 0
 *    the top value is an object or an array; only white space after it;
 *  - strings and member names: no raw byte below 0x20, UTF-8 without
 *    overlong forms, surrogates or code points above U+10FFFF; the escapes
 *    \" \\ \/ \b \f \n \r \t \uXXXX (hex of either case); \u0000 refused (no
 *    JSON_ALLOW_NUL; in a name, jansson's "NUL byte in object key"); a high
 *    surrogate escape followed by a low one, never alone, a low one never
 *    first; repeated member names accepted (jansson keeps the last value);
 *  - numbers: the JSON grammar (no leading zero, no "-" alone, no "1." or
 *    ".5"); an integer (no '.', 'e' or 'E') outside int64 refused; a real that
 *    strtod rounds to infinity refused, one that underflows accepted;
 *  - nesting: jansson counts every value, a scalar too, and refuses a value
 *    at depth 2049: 2048 nested empty arrays pass, 2048 around a 1 do not.
 * Outside strings, any byte of 0x80 or more is refused anyway, so jansson's
 * UTF-8 check of the whole stream comes down to the strings'.  And one quirk:
 * jansson's lexer reads the byte after a number or a literal and puts it
 * back, and a NUL byte put back is lost (its stream takes a NUL in its
 * one-character buffer for "empty"): "[1\0]" and "true\0" are accepted, so
 * one NUL byte right after a number or a literal is skipped here too.
 *
 * Beyond base.h's description of a token: an object's or array's `len` is
 * its text's length, from its opening bracket through its closing one; an
 * object's `count` is its members as written, a repeated name each time
 * (jansson's object holds one member of that name: em_jget finds the last).
 *
 * String values (a manifest in PutImage's request is one, escaped) are read
 * and decoded 32 bytes a step where the CPU has AVX-512 (BW and VL): a
 * block's special bytes found at once, then taken from the mask one after
 * the other (scan_string32, decode32), or, when its escapes are each a lone
 * short one, the whole block at once (short_escapes; decode32_vbmi2 with
 * VBMI2).  PutImage's request reads in 0.44 of the time eight bytes a step
 * take, and its manifest decodes in 0.22 (bench/PROFILE.md).  Elsewhere, and under valgrind,
 * eight bytes a step; tests/unit/test_json_scan.c checks both against
 * jansson with special bytes about each step's edges.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"

typedef const unsigned char *ptr;

static inline ptr skip_ws(ptr p, ptr end)
{
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
        p++;
    return p;
}

/* The value of four hex digits at p (either case), or -1. */
static inline int32_t hex4(ptr p)
{
    int32_t v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned c = p[i], d;
        if (c - '0' < 10)
            d = c - '0';
        else if ((c | 0x20) - 'a' < 6)
            d = (c | 0x20) - 'a' + 10;
        else
            return -1;
        v = v << 4 | (int32_t)d;
    }
    return v;
}

/* The byte at *p (not plain: em_plain_run stopped there) of a string:
 * 1 when it is the closing quote; 0 when it was a UTF-8 sequence or an
 * escape jansson takes, *p moved past it (*escaped set for an escape); -1
 * when jansson refuses the string. */
static inline int string_special(ptr *pp, ptr end, uint8_t *escaped)
{
    ptr p = *pp;
    unsigned c = *p;
    if (c == '"')
        return 1;
    if (c >= 0x80) {
        size_t n = em_utf8_seq(p, end);
        *pp = p + n;
        return n ? 0 : -1;
    }
    if (c < 0x20 || end - p < 2)
        return -1; /* a control character, or a backslash at the end */
    *escaped = 1;
    switch (p[1]) {
    case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
        *pp = p + 2;
        return 0;
    case 'u': {
        int32_t cp = end - p >= 6 ? hex4(p + 2) : -1;
        if (cp <= 0 || (cp >= 0xdc00 && cp <= 0xdfff))
            return -1; /* bad hex, \u0000, a low surrogate first */
        if (cp >= 0xd800 && cp <= 0xdbff) {
            int32_t lo = end - p >= 12 && p[6] == '\\' && p[7] == 'u' ? hex4(p + 8) : -1;
            if (lo < 0xdc00 || lo > 0xdfff)
                return -1; /* a high surrogate without its low one */
            *pp = p + 12;
        } else {
            *pp = p + 6;
        }
        return 0;
    }
    default:
        return -1;
    }
}

/* The string whose text starts at p (just past its opening quote): its
 * closing quote, or NULL when jansson refuses it.  *escaped: a backslash
 * seen.  Plain ASCII eight bytes a step. */
static inline ptr scan_string(ptr p, ptr end, uint8_t *escaped)
{
    for (;;) {
        p = em_plain_run(p, end);
        if (p == end)
            return NULL;
        int r = string_special(&p, end, escaped);
        if (r)
            return r > 0 ? p : NULL;
    }
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define EM_SCAN_SIMD 1
#define EM_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl")))

/* Whether this CPU runs the 32-byte steps below (valgrind's does not). */
static inline bool simd32(void)
{
    return __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
}

/* The first min(n, 32) bytes as a mask. */
EM_AVX512 static inline __mmask32 first32(size_t n)
{
    return n >= 32 ? ~(__mmask32)0 : ((__mmask32)1 << n) - 1;
}

/* scan_string() 32 bytes a step: the special bytes of a block (a masked
 * load reads no byte at or past end) found at once, then taken one after
 * the other from the mask as scan_string() takes them; the next block
 * starts where the last special byte's handling left off. */
EM_AVX512 static inline uint32_t eq32(__m256i x, char c)
{
    return (uint32_t)_mm256_cmpeq_epi8_mask(x, _mm256_set1_epi8(c));
}

/* The bytes the backslashes `bs` of block x (its bytes: mask k) escape,
 * when each escapes the byte after it in the block and every one is a short
 * escape but \\ (", /, b, f, n, r, t: so no backslash escapes another, and
 * each is alone); else 0 (no escape, or one for the byte at a time). */
EM_AVX512 static inline uint32_t short_escapes(__m256i x, uint32_t bs, uint32_t k)
{
    uint32_t last = k ^ (k >> 1); /* the block's last byte */
    if (!bs || (bs & last))
        return 0;
    uint32_t e = bs << 1, simple = eq32(x, '"') | eq32(x, '/') | eq32(x, 'b') | eq32(x, 'f') | eq32(x, 'n') |
                                   eq32(x, 'r') | eq32(x, 't');
    return (e & ~simple) ? 0 : e;
}

EM_AVX512 static ptr scan_string32(ptr p, ptr end, uint8_t *escaped)
{
    const __m256i space = _mm256_set1_epi8(0x20);
    for (;;) {
        size_t n = (size_t)(end - p);
        if (!n)
            return NULL;
        __mmask32 k = first32(n);
        __m256i x = _mm256_maskz_loadu_epi8(k, p);
        uint32_t quotes = eq32(x, '"') & k, bs = eq32(x, '\\') & k,
                 odd = (uint32_t)(_mm256_cmplt_epu8_mask(x, space) | _mm256_movepi8_mask(x)) & k;
        uint32_t m = quotes | bs | odd;
        if (!odd && bs) {
            /* Short escapes only, each backslash alone: the whole block at
             * once, its first quote not escaped the string's end. */
            uint32_t e = short_escapes(x, bs, (uint32_t)k);
            if (e) {
                uint32_t ends = quotes & ~e;
                if (ends) {
                    unsigned at = (unsigned)__builtin_ctz(ends);
                    if (bs & ((1u << at) - 1))
                        *escaped = 1;
                    return p + at;
                }
                *escaped = 1;
                p += n < 32 ? n : 32;
                continue;
            }
        }
        ptr base = p;
        p += n < 32 ? n : 32; /* no special byte left in the block: the next one */
        while (m) {
            ptr q = base + __builtin_ctz(m);
            int r = string_special(&q, end, escaped);
            if (r)
                return r > 0 ? q : NULL;
            size_t used = (size_t)(q - base);
            if (used >= 32) { /* the escape or sequence ran past the block */
                p = q;
                break;
            }
            m &= ~0u << used;
        }
    }
}
#endif

/* A string value's scan (member names, short, take scan_string inline). */
static ptr scan_value_string(ptr p, ptr end, uint8_t *escaped)
{
#ifdef EM_SCAN_SIMD
    if (simd32())
        return scan_string32(p, end, escaped);
#endif
    return scan_string(p, end, escaped);
}

/* Whether the real s[0..e) (of the JSON grammar) is finite as strtod reads it.
 * Its value is 0.D x 10^E, D its significant digits: below 10^308 it is
 * finite, from 10^309 on it is not (DBL_MAX is 1.797...e308), and between,
 * strtod decides, on D written as an integer with an exponent (no locale's
 * decimal point to mind) and cut at 768 digits: what decides is whether the
 * value reaches M, the midpoint between DBL_MAX and 2^1024 (M itself rounds
 * to even, to infinity), and M is an integer of 309 digits, so a cut D
 * reaches it exactly when the whole one does. */
static bool real_finite(ptr s, ptr e)
{
    ptr p = s;
    if (*p == '-')
        p++;
    ptr ip = p;
    while (p < e && *p >= '0' && *p <= '9')
        p++;
    ptr ip_end = p, fp = p, fp_end = p;
    if (p < e && *p == '.') {
        fp = ++p;
        while (p < e && *p >= '0' && *p <= '9')
            p++;
        fp_end = p;
    }
    int64_t exp10 = 0;
    if (p < e) { /* 'e' or 'E', a sign, digits */
        p++;
        bool neg = *p == '-';
        if (*p == '-' || *p == '+')
            p++;
        for (; p < e; p++)
            if (exp10 < INT64_C(1000000000))
                exp10 = exp10 * 10 + (*p - '0');
        if (neg)
            exp10 = -exp10;
    }
    /* D: the integer part's digits and the fraction's, or when the integer
     * part is 0, the fraction's after its leading zeros */
    int64_t E;
    if (*ip != '0') {
        E = (int64_t)(ip_end - ip) + exp10;
    } else {
        ip = ip_end;
        while (fp < fp_end && *fp == '0')
            fp++;
        if (fp == fp_end)
            return true; /* zero */
        E = -(int64_t)(fp - ip_end - 1) + exp10;
    }
    if (E <= 308)
        return true;
    if (E >= 310)
        return false;
    enum { KEEP = 768 };
    char buf[KEEP + 16];
    size_t nd = 0;
    for (ptr q = ip; q < fp_end && nd < KEEP; q++) {
        if (q == ip_end) {
            q = fp;
            if (q == fp_end)
                break;
        }
        buf[nd++] = (char)*q;
    }
    buf[nd++] = 'e';
    int x = (int)(E - (int64_t)(nd - 1)), i = 0;
    char digits[8];
    if (x < 0) {
        buf[nd++] = '-';
        x = -x;
    }
    do
        digits[i++] = (char)('0' + x % 10);
    while ((x /= 10) > 0);
    while (i > 0)
        buf[nd++] = digits[--i];
    buf[nd] = '\0';
    return isfinite(strtod(buf, NULL));
}

/* The number at p (a '-' or a digit): its end, or NULL.  *type: EM_J_INTEGER
 * (value in *iv) or EM_J_REAL. */
static inline ptr scan_number(ptr p, ptr end, uint8_t *type, int64_t *iv)
{
    ptr s = p;
    bool neg = *p == '-';
    if (neg && ++p == end)
        return NULL;
    ptr digits = p;
    if (*p == '0') {
        p++;
        if (p < end && *p - (unsigned)'0' < 10)
            return NULL; /* a leading zero */
    } else if (*p - (unsigned)'0' < 10) {
        do
            p++;
        while (p < end && *p - (unsigned)'0' < 10);
    } else {
        return NULL;
    }
    if (p == end || (*p != '.' && (*p | 0x20) != 'e')) {
        size_t n = (size_t)(p - digits);
        if (n > 19)
            return NULL; /* no leading zeros: 20 digits are out of range */
        uint64_t u = 0;
        for (ptr d = digits; d < p; d++)
            u = u * 10 + (unsigned)(*d - '0');
        if (u > (uint64_t)INT64_MAX + neg)
            return NULL; /* jansson's "too big integer" */
        *type = EM_J_INTEGER;
        *iv = neg ? (int64_t)(0 - u) : (int64_t)u;
        return p;
    }
    if (*p == '.') {
        p++;
        if (p == end || *p - (unsigned)'0' >= 10)
            return NULL;
        do
            p++;
        while (p < end && *p - (unsigned)'0' < 10);
    }
    if (p < end && (*p | 0x20) == 'e') {
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        if (p == end || *p - (unsigned)'0' >= 10)
            return NULL;
        do
            p++;
        while (p < end && *p - (unsigned)'0' < 10);
    }
    if (!real_finite(s, p))
        return NULL; /* jansson's "real number overflow" */
    *type = EM_J_REAL;
    *iv = 0;
    return p;
}

/* Token k (when there is room for it): its fields but count and next-of-a-container. */
static inline void put(em_jtok *toks, size_t cap, size_t k, uint8_t type, uint8_t escaped, size_t start,
                       size_t len, int64_t iv)
{
    if (k < cap) {
        em_jtok *t = &toks[k];
        t->type = type;
        t->escaped = escaped;
        t->start = (uint32_t)start;
        t->len = (uint32_t)len;
        t->count = 0;
        t->next = (uint32_t)(k + 1);
        t->integer = iv;
    }
}

int em_jscan(const char *text, size_t len, bool any_value, em_jtok *toks, size_t cap, size_t *n)
{
    *n = 0;
    if ((uint64_t)len > UINT32_MAX)
        return EM_JSCAN_INVALID; /* offsets are 32 bits */
    ptr base = (ptr)text, p = base, end = base + len;
    /* the open containers: their tokens, and which are objects */
    uint32_t open[EM_JSON_MAX_DEPTH];
    uint8_t is_obj[EM_JSON_MAX_DEPTH];
    size_t depth = 0, k = 0;

    p = skip_ws(p, end);
    if (p == end || (!any_value && *p != '{' && *p != '['))
        return EM_JSCAN_INVALID;

value: /* a value at p (white space skipped), inside `depth` containers */
    if (p == end || depth >= EM_JSON_MAX_DEPTH)
        return EM_JSCAN_INVALID; /* jansson: "maximum parsing depth reached" at 2049 */
    if (depth && k < cap)
        toks[open[depth - 1]].count++; /* one value a member or an item */
    switch (*p) {
    case '{':
    case '[': {
        bool obj = *p == '{';
        put(toks, cap, k, obj ? EM_J_OBJECT : EM_J_ARRAY, 0, (size_t)(p - base), 0, 0);
        open[depth] = (uint32_t)k;
        is_obj[depth++] = obj;
        k++;
        p = skip_ws(p + 1, end);
        if (p < end && *p == (obj ? '}' : ']')) {
            p++;
            goto close;
        }
        if (obj)
            goto name;
        goto value;
    }
    case '"': {
        uint8_t esc = 0;
        ptr q = scan_value_string(p + 1, end, &esc);
        if (!q)
            return EM_JSCAN_INVALID;
        put(toks, cap, k++, EM_J_STRING, esc, (size_t)(p + 1 - base), (size_t)(q - p - 1), 0);
        p = q + 1;
        goto after;
    }
    case 't':
        if (end - p < 4 || memcmp(p, "true", 4) != 0)
            return EM_JSCAN_INVALID;
        put(toks, cap, k++, EM_J_TRUE, 0, (size_t)(p - base), 4, 0);
        p += 4;
        goto after_scalar;
    case 'f':
        if (end - p < 5 || memcmp(p, "false", 5) != 0)
            return EM_JSCAN_INVALID;
        put(toks, cap, k++, EM_J_FALSE, 0, (size_t)(p - base), 5, 0);
        p += 5;
        goto after_scalar;
    case 'n':
        if (end - p < 4 || memcmp(p, "null", 4) != 0)
            return EM_JSCAN_INVALID;
        put(toks, cap, k++, EM_J_NULL, 0, (size_t)(p - base), 4, 0);
        p += 4;
        goto after_scalar;
    case '-': case '0': case '1': case '2': case '3': case '4':
    case '5': case '6': case '7': case '8': case '9': {
        uint8_t type;
        int64_t iv;
        ptr q = scan_number(p, end, &type, &iv);
        if (!q)
            return EM_JSCAN_INVALID;
        put(toks, cap, k++, type, 0, (size_t)(p - base), (size_t)(q - p), iv);
        p = q;
        goto after_scalar;
    }
    default:
        return EM_JSCAN_INVALID;
    }

name: /* a member name at p (white space skipped), then ':' and its value */
    if (p == end || *p != '"')
        return EM_JSCAN_INVALID;
    {
        uint8_t esc = 0;
        ptr q = scan_string(p + 1, end, &esc);
        if (!q)
            return EM_JSCAN_INVALID;
        put(toks, cap, k++, EM_J_STRING, esc, (size_t)(p + 1 - base), (size_t)(q - p - 1), 0);
        p = skip_ws(q + 1, end);
    }
    if (p == end || *p != ':')
        return EM_JSCAN_INVALID;
    p = skip_ws(p + 1, end);
    goto value;

after_scalar: /* a number or a literal just ended at p: jansson loses a NUL byte after it */
    if (p < end && *p == '\0')
        p++;
    goto after;

close: /* the innermost container's closing bracket just read */
    {
        size_t c = open[--depth];
        if (c < cap) {
            toks[c].next = (uint32_t)k;
            toks[c].len = (uint32_t)((size_t)(p - base) - toks[c].start);
        }
    }
    /* fall through */
after: /* a value just ended at p */
    p = skip_ws(p, end);
    if (depth == 0) {
        if (p != end)
            return EM_JSCAN_INVALID; /* jansson: "end of file expected" */
        *n = k;
        return k <= cap ? EM_JSCAN_OK : EM_JSCAN_FULL;
    }
    if (p == end)
        return EM_JSCAN_INVALID;
    if (*p == ',') {
        p = skip_ws(p + 1, end);
        if (is_obj[depth - 1])
            goto name;
        goto value;
    }
    if (*p != (is_obj[depth - 1] ? '}' : ']'))
        return EM_JSCAN_INVALID;
    p++;
    goto close;
}

int em_jdoc_read(em_jdoc *d, const char *text, size_t len, bool any_value, em_jtok *stack, size_t stack_cap)
{
    *d = (em_jdoc){0};
    size_t n;
    int rc = em_jscan(text, len, any_value, stack, stack_cap, &n);
    em_jtok *heap = NULL;
    if (rc == EM_JSCAN_FULL) {
        /* n: exactly the tokens the text needs (never more than its bytes) */
        heap = n <= SIZE_MAX / sizeof *heap ? em_malloc(n * sizeof *heap) : NULL;
        if (!heap)
            return EM_JSCAN_NOMEM;
        rc = em_jscan(text, len, any_value, heap, n, &n);
    }
    if (rc != EM_JSCAN_OK) {
        em_free(heap);
        return rc;
    }
    d->text = text;
    d->t = heap ? heap : stack;
    d->n = n;
    d->heap = heap;
    return EM_JSCAN_OK;
}

void em_jdoc_release(em_jdoc *d)
{
    em_free(d->heap);
    *d = (em_jdoc){0};
}

/* The escape at p (a backslash, of a string em_jscan accepted): its UTF-8
 * bytes into o; returns how many it wrote, *used how many bytes of text it
 * took. */
static size_t unescape(ptr p, unsigned char *o, size_t *used)
{
    *used = 2;
    switch (p[1]) {
    case 'b': *o = '\b'; return 1;
    case 'f': *o = '\f'; return 1;
    case 'n': *o = '\n'; return 1;
    case 'r': *o = '\r'; return 1;
    case 't': *o = '\t'; return 1;
    case 'u': break;
    default: *o = p[1]; return 1; /* '"', '\\', '/' */
    }
    uint32_t cp = (uint32_t)hex4(p + 2);
    *used = 6;
    if (cp >= 0xd800 && cp <= 0xdbff) { /* a pair: em_jscan saw its low half */
        cp = 0x10000 + ((cp - 0xd800) << 10) + ((uint32_t)hex4(p + 8) - 0xdc00);
        *used = 12;
    }
    if (cp < 0x80) {
        o[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (unsigned char)(0xc0 | cp >> 6);
        o[1] = (unsigned char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (unsigned char)(0xe0 | cp >> 12);
        o[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
        o[2] = (unsigned char)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (unsigned char)(0xf0 | cp >> 18);
    o[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3f));
    o[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
    o[3] = (unsigned char)(0x80 | (cp & 0x3f));
    return 4;
}

/* Whether the escape at p (a backslash em_jscan checked) is one the writer
 * writes: the short ones but "\\/", or \\u00XX in upper-case hex for a
 * control character without a short one. */
static bool escape_canonical(ptr p)
{
    switch (p[1]) {
    case '"': case '\\': case 'b': case 'f': case 'n': case 'r': case 't': return true;
    case 'u': {
        unsigned hi = p[4], lo = p[5];
        if (p[2] != '0' || p[3] != '0' || (hi != '0' && hi != '1') || !((lo >= '0' && lo <= '9') || (lo >= 'A' && lo <= 'F')))
            return false;
        unsigned v = (hi - '0') * 16 + (lo <= '9' ? lo - '0' : lo - 'A' + 10);
        return v != '\b' && v != '\t' && v != '\n' && v != '\f' && v != '\r';
    }
    default: return false; /* "\\/", which the writer leaves as '/' */
    }
}

#ifdef EM_SCAN_SIMD
/* One block of the escaped text p[0..end), its 32 bytes (or to end),
 * decoded into *out, moved past what it wrote: the block's backslashes
 * found at once; the block stored whole, then after each escape the rest of
 * it again where it now goes (masked loads and stores read no byte past end
 * and write none past what is read: what is decoded is never longer).
 * Where it stopped reading: past the block, or past an escape that ran
 * over its end. */
EM_AVX512 static ptr decode_block(ptr p, ptr end, unsigned char **out, bool *canonical)
{
    unsigned char *o = *out;
    size_t n = (size_t)(end - p), step = n < 32 ? n : 32;
    __mmask32 k = first32(n);
    __m256i x = _mm256_maskz_loadu_epi8(k, p);
    _mm256_mask_storeu_epi8(o, k, x);
    uint32_t m = eq32(x, '\\') & k;
    size_t at = 0; /* the block's bytes read */
    while (m) {
        size_t b = (size_t)__builtin_ctz(m), used;
        o += b - at; /* stored already */
        if (canonical && *canonical)
            *canonical = escape_canonical(p + b);
        o += unescape(p + b, o, &used);
        at = b + used;
        if (at >= step)
            break;
        __mmask32 rest = first32(n - at);
        _mm256_mask_storeu_epi8(o, rest, _mm256_maskz_loadu_epi8(rest, p + at));
        m &= ~0u << at;
    }
    if (at < step) { /* plain bytes to the block's end, stored */
        o += step - at;
        at = step;
    }
    *out = o;
    return p + at;
}

/* The escaped text p[0..end) decoded into o, a block at a time; where o ends. */
EM_AVX512 static unsigned char *decode32(ptr p, ptr end, unsigned char *o, bool *canonical)
{
    while (p < end)
        p = decode_block(p, end, &o, canonical);
    return o;
}

/* decode32() where the CPU has AVX-512 VBMI2: a block whose escapes are
 * each a lone backslash before '"' or '/' (a manifest's, in a PutImage
 * request) is decoded at once, its backslashes compressed out of it; any
 * other block as decode_block() decodes it. */
__attribute__((target("avx512f,avx512bw,avx512vl,avx512vbmi2"))) static unsigned char *decode32_vbmi2(
    ptr p, ptr end, unsigned char *o, bool *canonical)
{
    while (p < end) {
        size_t n = (size_t)(end - p), step = n < 32 ? n : 32;
        __mmask32 k = first32(n);
        __m256i x = _mm256_maskz_loadu_epi8(k, p);
        /* the escaped bytes; any but '"' and '/' (a backslash too, so that
         * none escapes another), or one past the block: decode_block's */
        uint32_t bs = eq32(x, '\\') & k, last = (uint32_t)k ^ ((uint32_t)k >> 1), e = bs << 1;
        uint32_t solidus = eq32(x, '/');
        if (!bs || (bs & last) || (e & ~(eq32(x, '"') | solidus))) {
            p = decode_block(p, end, &o, canonical);
            continue;
        }
        if (canonical && (e & solidus))
            *canonical = false; /* the writer leaves '/' as it is */
        __mmask32 keep = k & ~bs;
        _mm256_mask_storeu_epi8(o, first32((size_t)__builtin_popcount(keep)), _mm256_maskz_compress_epi8(keep, x));
        o += __builtin_popcount(keep);
        p += step;
    }
    return o;
}
#endif

size_t em_jstr_decode(const em_jdoc *d, size_t tok, char *out)
{
    return em_jstr_decode_canonical(d, tok, out, NULL);
}

size_t em_jstr_decode_canonical(const em_jdoc *d, size_t tok, char *out, bool *canonical)
{
    const em_jtok *t = &d->t[tok];
    ptr p = (ptr)d->text + t->start, end = p + t->len;
    unsigned char *o = (unsigned char *)out;
    if (!t->escaped) {
        memcpy(o, p, t->len);
        o[t->len] = '\0';
        return t->len;
    }
#ifdef EM_SCAN_SIMD
    if (simd32()) {
        o = __builtin_cpu_supports("avx512vbmi2") ? decode32_vbmi2(p, end, o, canonical) : decode32(p, end, o, canonical);
        *o = '\0';
        return (size_t)(o - (unsigned char *)out);
    }
#endif
    const uint64_t ones = 0x0101010101010101u, high = 0x8080808080808080u;
    while (p < end) {
        if (end - p >= 8) {
            /* eight bytes stored whole (what is decoded is never longer than
             * what is read, so they fit), the pointers moved past those
             * before the first backslash (the lowest flag is exact) */
            uint64_t x;
            memcpy(&x, p, 8);
            uint64_t s = x ^ (ones * '\\'), flags = (s - ones) & ~s & high;
            memcpy(o, &x, 8);
            if (!flags) {
                p += 8;
                o += 8;
                continue;
            }
            size_t n = (size_t)__builtin_ctzll(flags) / 8;
            p += n;
            o += n;
        } else {
            while (p < end && *p != '\\')
                *o++ = *p++;
            if (p == end)
                break;
        }
        size_t used;
        if (canonical && *canonical)
            *canonical = escape_canonical(p);
        o += unescape(p, o, &used);
        p += used;
    }
    *o = '\0';
    return (size_t)(o - (unsigned char *)out);
}

bool em_jname_is(const em_jdoc *d, size_t tok, const char *name)
{
    const em_jtok *t = &d->t[tok];
    ptr p = (ptr)d->text + t->start, end = p + t->len, s = (ptr)name;
    if (!t->escaped)
        return strncmp(name, (const char *)p, t->len) == 0 && name[t->len] == '\0';
    while (p < end) {
        if (*p != '\\') {
            if (*s++ != *p++)
                return false;
            continue;
        }
        unsigned char u[4];
        size_t used, k = unescape(p, u, &used);
        if (strncmp((const char *)s, (const char *)u, k) != 0)
            return false;
        s += k;
        p += used;
    }
    return *s == '\0';
}

size_t em_jget(const em_jdoc *d, size_t obj, const char *name)
{
    const em_jtok *t = d->t;
    if (t[obj].type != EM_J_OBJECT)
        return 0;
    size_t found = 0, i = obj + 1, len = strlen(name);
    for (uint32_t m = 0; m < t[obj].count; m++) {
        /* an unescaped name of another length is another name */
        if (t[i].escaped ? em_jname_is(d, i, name)
                         : t[i].len == len && memcmp(d->text + t[i].start, name, len) == 0)
            found = i + 1;
        i = t[i + 1].next;
    }
    return found;
}
