/*
 * The JSON writer of responses (ECR's bytes) and of the journal's text.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"

/*
 * The response serialiser.  Its bytes are those of jansson's
 * json_dump_callback(doc, ..., JSON_COMPACT | JSON_REAL_PRECISION(15)):
 * members in the order they were set, no spaces, '"', '\\' and control
 * characters escaped as jansson escapes them ("\n", "\u001F"), '/' and
 * non-ASCII characters as they are; but reals (timestamps, scores) are written as
 * ECR's Java front end writes them (java_double below), not as jansson does.
 * It is ecrmock's own because jansson's encoder spends most of its time on
 * things a response never needs: a cycle check that formats each object's
 * address with snprintf and puts it in a hash table, and a code-point
 * iteration of every string.  Like jansson's, it fails on a string that is
 * not UTF-8 (jansson's own strings never are; json_stringn_nocheck's may be).
 */
#define DUMP_MAX_DEPTH 2048

/* What the encoder does with a byte: 0 copies it, 1 writes a backslash
 * before it ('"' and '\\'), 2 leaves it to the careful path (a control
 * character's escape, a UTF-8 sequence checked whole). */
static const unsigned char byte_class[256] = {
    [0x00 ... 0x1f] = 2, ['"'] = 1, ['\\'] = 1, [0x80 ... 0xff] = 2,
};

/* Writes the byte at p that byte_class sends to the careful path; returns
 * the bytes read, or 0: not UTF-8.  Room for six bytes is there. */
static size_t careful_byte(const unsigned char *p, const unsigned char *end, unsigned char **out)
{
    unsigned char *o = *out;
    size_t n = 1;
    if (*p >= 0x80) {
        if (!(n = em_utf8_seq(p, end)))
            return 0;
        memcpy(o, p, n);
        o += n;
    } else {
        *o++ = '\\';
        switch (*p) {
        case '\b': *o++ = 'b'; break;
        case '\f': *o++ = 'f'; break;
        case '\n': *o++ = 'n'; break;
        case '\r': *o++ = 'r'; break;
        case '\t': *o++ = 't'; break;
        default:
            /* jansson's \u00XX, upper-case hex */
            memcpy(o, "u00", 3);
            o[3] = "0123456789ABCDEF"[*p >> 4];
            o[4] = "0123456789ABCDEF"[*p & 15];
            o += 5;
            break;
        }
    }
    *out = o;
    return n;
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define EM_ESCAPE_SIMD 1
/* Sixteen bytes at p escaped into o as the byte loop below would write them,
 * when none is a control character or starts a UTF-8 sequence: each '"' and
 * '\\' gets its backslash by one byte expansion (AVX-512 VBMI2) of the text
 * into the output's byte slots and a blend of backslashes into the others.
 * Returns the bytes written (16 to 32; 32 are stored, room for them is the
 * caller's), or 0: a byte for the careful path, nothing written. */
__attribute__((target("avx512f,avx512bw,avx512vl,avx512vbmi2,bmi2"))) static size_t escape16_vbmi2(
    const unsigned char *p, unsigned char *o)
{
    __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
    if (_mm_cmplt_epu8_mask(x, _mm_set1_epi8(0x20)) | _mm_movepi8_mask(x))
        return 0;
    unsigned m = (unsigned)(_mm_cmpeq_epi8_mask(x, _mm_set1_epi8('"')) | _mm_cmpeq_epi8_mask(x, _mm_set1_epi8('\\')));
    if (!m) {
        _mm_storeu_si128((__m128i *)(void *)o, x);
        return 16;
    }
    /* Two output slots a byte, the first (a backslash) kept only for a
     * special byte: K the slots kept; compacted, the byte slots and the
     * backslash slots of the output. */
    unsigned spread = _pdep_u32(m, 0x55555555u), keep = spread | 0xaaaaaaaau;
    unsigned bytes = _pext_u32(0xaaaaaaaau, keep), slashes = _pext_u32(spread, keep);
    __m256i out = _mm256_maskz_expand_epi8(bytes, _mm256_castsi128_si256(x));
    out = _mm256_mask_blend_epi8(slashes, out, _mm256_set1_epi8('\\'));
    _mm256_storeu_si256((__m256i *)(void *)o, out);
    return 16 + (size_t)__builtin_popcount(m);
}

/* The last r (1 to 15) bytes at p, escaped as escape16_vbmi2 does, read and
 * written through masks: nothing is read past p + r nor written past the
 * bytes the escape takes (at most 2r).  Returns those bytes, or 0: a byte
 * for the careful path, nothing written. */
__attribute__((target("avx512f,avx512bw,avx512vl,avx512vbmi2,bmi2"))) static size_t escape_tail_vbmi2(
    const unsigned char *p, size_t r, unsigned char *o)
{
    __mmask16 in = (__mmask16)((1u << r) - 1);
    __m128i x = _mm_maskz_loadu_epi8(in, p);
    if ((_mm_cmplt_epu8_mask(x, _mm_set1_epi8(0x20)) & in) | _mm_movepi8_mask(x))
        return 0;
    unsigned m = (unsigned)(_mm_cmpeq_epi8_mask(x, _mm_set1_epi8('"')) | _mm_cmpeq_epi8_mask(x, _mm_set1_epi8('\\')));
    size_t n = r + (size_t)__builtin_popcount(m);
    unsigned spread = _pdep_u32(m, 0x55555555u), keep = spread | 0xaaaaaaaau;
    unsigned bytes = _pext_u32(0xaaaaaaaau, keep), slashes = _pext_u32(spread, keep);
    __m256i out = _mm256_maskz_expand_epi8(bytes, _mm256_castsi128_si256(x));
    out = _mm256_mask_blend_epi8(slashes, out, _mm256_set1_epi8('\\'));
    _mm256_mask_storeu_epi8(o, (__mmask32)((1u << n) - 1), out);
    return n;
}
#endif

/* Escapes p[0..stop) into *out, each byte as itself or after a backslash
 * without a branch (two bytes stored either way), control characters and
 * UTF-8 the careful way; returns where it stopped reading (a UTF-8 sequence
 * may end past stop), or NULL: not UTF-8.  Room for six bytes a byte read. */
static const unsigned char *escape_bytes(const unsigned char *p, const unsigned char *stop, const unsigned char *end,
                                         unsigned char **out)
{
    unsigned char *o = *out;
    while (p < stop) {
        unsigned c = *p, k = byte_class[c];
        if (k > 1) {
            size_t n = careful_byte(p, end, &o);
            if (!n)
                return NULL;
            p += n;
            continue;
        }
        o[0] = k ? '\\' : (unsigned char)c;
        o[1] = (unsigned char)c;
        o += 1 + k;
        p++;
    }
    *out = o;
    return p;
}

/* A long text's room, made before a step: at least `need` bytes past o. */
static int room_for(em_buf *b, unsigned char **o, size_t need)
{
    b->len = (size_t)(*o - b->data);
    if (em_buf_reserve(b, need) < 0)
        return -1;
    *o = b->data + b->len;
    return 0;
}

static int dump_string(em_buf *b, const char *str, size_t len)
{
    const unsigned char *p = (const unsigned char *)str, *end = p + len;
    /* A short text gets room for the worst case (every byte a \u00XX) at
     * once.  A long one gets room for the text as it is and both quotes,
     * and more before each step that may write more than it reads.
     * Invariant: the room left is at least what is left to read, plus one. */
    bool roomy = len <= 4096;
    if (em_buf_reserve(b, roomy ? 6 * len + 2 : len + 2) < 0)
        return -1;
    unsigned char *o = b->data + b->len;
    *o++ = '"';
#ifdef EM_ESCAPE_SIMD
    /* Sixteen bytes a step where the CPU can: 32 stored for at most 16 read;
     * the last 1-15 through masks. */
    if (len && __builtin_cpu_supports("avx512vbmi2") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("bmi2")) {
        while (end - p >= 16) {
            if (!roomy && room_for(b, &o, (size_t)(end - p) + 6 * 16 + 1) < 0)
                return -1;
            size_t n = escape16_vbmi2(p, o);
            if (n) {
                o += n;
                p += 16;
            } else if (!(p = escape_bytes(p, p + 16, end, &o))) { /* a control character or UTF-8 */
                return -1;
            }
        }
        if (p < end) {
            if (!roomy && room_for(b, &o, 2 * (size_t)(end - p) + 1) < 0)
                return -1;
            size_t n = escape_tail_vbmi2(p, (size_t)(end - p), o);
            o += n;
            p = n ? end : p; /* else the byte loop below takes it */
        }
    }
#endif
    while (p < end) {
        const unsigned char *stop = end;
        if (end - p >= 8) {
            uint64_t x;
            memcpy(&x, p, 8);
            if (!em_word_special(x)) {
                memcpy(o, &x, 8); /* eight plain bytes */
                p += 8;
                o += 8;
                continue;
            }
            stop = p + 8;
        }
        /* a word (or the tail) with a byte to escape */
        if ((!roomy && room_for(b, &o, (size_t)(end - p) + 6 * 8 + 1) < 0) || !(p = escape_bytes(p, stop, end, &o)))
            return -1;
    }
    *o++ = '"';
    b->len = (size_t)(o - b->data);
    return 0;
}

/*
 * Reals as ECR writes them.  ECR's front end is Java, whose JSON writer
 * prints a double with Double.toString: the fewest significant digits that
 * read back as the same double (of two such, the one closer to it: JDK 19's
 * definition; older JDKs sometimes printed one digit more), written plainly
 * with at least one digit after the point when 10^-3 <= |v| < 10^7 ("7.5",
 * "100.0", "0.001"), and otherwise as d.ddd, 'E' and the exponent with no
 * '+' ("1.0E-4", "1.7976931348623157E308").  Epoch seconds are about
 * 1.7 * 10^9, so every timestamp has an exponent: 1688712875 s is
 * "1.688712875E9", 1704067200.123 s "1.704067200123E9".  Nothing here
 * depends on the locale: digits are read off printf's output, and a
 * candidate is tried as "<digits>e<exponent>", which has no decimal point.
 */
#define REAL_TEXT_MAX 32

/* The double nearest d.ddd * 10^e, digits[0..n) being d.ddd's digits. */
static double decimal_value(const char *digits, int n, int e)
{
    char text[48];
    snprintf(text, sizeof text, "%.*se%d", n, digits, e - n + 1);
    return strtod(text, NULL);
}

/* The nearest n-digit decimal to v > 0 (printf rounds exactly), or when that
 * one does not read back as v, its neighbour on the other side of v (the
 * interval of decimals that round to v is lopsided at a power of two).
 * Writes its digits and decimal exponent (v ~ d.ddd * 10^e); false if
 * neither reads back. */
static bool nearest_digits(double v, int n, char digits[18], int *e)
{
    char text[48];
    snprintf(text, sizeof text, "%.*e", n - 1, v);
    int k = 0;
    const char *p = text;
    for (; *p && *p != 'e'; p++)
        if (*p >= '0' && *p <= '9')
            digits[k++] = *p;
    *e = atoi(p + 1);
    double nearest = decimal_value(digits, n, *e);
    if (nearest == v)
        return true;
    bool up = nearest < v;
    int i = n - 1;
    if (up) {
        while (i >= 0 && digits[i] == '9')
            digits[i--] = '0';
        if (i < 0)
            return false; /* 10^(e+1): one digit, tried before */
        digits[i]++;
    } else {
        while (i >= 0 && digits[i] == '0')
            digits[i--] = '9';
        if (i < 0 || (i == 0 && digits[0] == '1'))
            return false; /* 9.99..: fewer digits, tried before */
        digits[i]--;
    }
    return decimal_value(digits, n, *e) == v;
}

int em_decimal_digits(uint64_t u, char *out)
{
    char text[20], *e = text + sizeof text, *p = e;
    do
        *--p = (char)('0' + u % 10);
    while (u /= 10);
    memcpy(out, p, (size_t)(e - p));
    return (int)(e - p);
}

/* The shortest digits of v > 0, finite, as Double.toString chooses them. */
static int shortest_digits(double v, char digits[18], int *e)
{
    /* A whole number of milliseconds below 2^43 s (every timestamp): one
     * double is less than 10^-3 wide there, so no other decimal with at most
     * three decimals reads back as v, and the digits are the milliseconds'. */
    if (v < 0x1p43) {
        int64_t ms = (int64_t)(v * 1000.0 + 0.5);
        if (ms > 0 && (double)ms / 1000.0 == v) {
            int n = em_decimal_digits((uint64_t)ms, digits);
            *e = n - 1 - 3;
            while (n > 1 && digits[n - 1] == '0')
                n--;
            return n;
        }
    }
    int n = 1;
    while (n <= 17 && !nearest_digits(v, n, digits, e))
        n++;
    if (n > 17)
        return -1; /* cannot happen: 17 digits always read back */
    /* When one digit is enough, Java takes the closest decimal of one or two
     * digits (4.9E-324, not 5.0E-324): two digits' nearest (or, at a power
     * of two, its neighbour), which a one-digit answer proves exists. */
    if (n == 1) {
        if (nearest_digits(v, 2, digits, e))
            n = 2;
        else
            nearest_digits(v, 1, digits, e);
    }
    while (n > 1 && digits[n - 1] == '0')
        n--;
    return n;
}

/* Writes v as Double.toString does into out[REAL_TEXT_MAX]; returns the
 * length. */
static size_t java_double(double v, char *out)
{
    char *o = out, digits[18];
    if (signbit(v)) {
        *o++ = '-';
        v = -v;
    }
    if (v == 0) {
        memcpy(o, "0.0", 3);
        return (size_t)(o + 3 - out);
    }
    int e, n = shortest_digits(v, digits, &e);
    if (n < 1)
        return 0;
    if (e >= -3 && e < 7) {
        if (e < 0) {
            *o++ = '0';
            *o++ = '.';
            for (int i = -1; i > e; i--)
                *o++ = '0';
            memcpy(o, digits, (size_t)n);
            o += n;
        } else {
            for (int i = 0; i <= e; i++)
                *o++ = i < n ? digits[i] : '0';
            *o++ = '.';
            if (n > e + 1) {
                memcpy(o, digits + e + 1, (size_t)(n - e - 1));
                o += n - e - 1;
            } else {
                *o++ = '0';
            }
        }
    } else {
        *o++ = digits[0];
        *o++ = '.';
        if (n > 1) {
            memcpy(o, digits + 1, (size_t)(n - 1));
            o += n - 1;
        } else {
            *o++ = '0';
        }
        *o++ = 'E';
        if (e < 0)
            *o++ = '-';
        o += em_decimal_digits((uint64_t)(e < 0 ? -e : e), o);
    }
    return (size_t)(o - out);
}

/* An integer as "%" JSON_INTEGER_FORMAT writes it. */
static int put_integer(em_buf *b, json_int_t v)
{
    char text[21];
    text[0] = '-';
    uint64_t u = v < 0 ? 0ull - (uint64_t)v : (uint64_t)v;
    return em_buf_append(b, text + (v >= 0), (size_t)(v < 0) + (size_t)em_decimal_digits(u, text + 1));
}

/* A finite real as java_double writes it. */
static int put_real(em_buf *b, double v)
{
    char text[REAL_TEXT_MAX];
    size_t n = java_double(v, text);
    return n ? em_buf_append(b, text, n) : -1;
}

/* The journal's text (em_journal_text) must read back as the same tree: it
 * refuses what jansson's parser would not take back, a key with a NUL in
 * it, and nesting near the parser's limit (2048). */
#define JOURNAL_MAX_DEPTH 1024

static int dump_value(em_buf *b, json_t *v, int depth, int max_depth)
{
    if (depth > max_depth)
        return -1;
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        if (em_buf_append(b, "{", 1) < 0)
            return -1;
        for (void *it = json_object_iter(v), *first = it; it; it = json_object_iter_next(v, it)) {
            const char *key = json_object_iter_key(it);
            size_t key_len = json_object_iter_key_len(it);
            if ((it != first && em_buf_append(b, ",", 1) < 0) ||
                (max_depth == JOURNAL_MAX_DEPTH && memchr(key, '\0', key_len)) || dump_string(b, key, key_len) < 0 ||
                em_buf_append(b, ":", 1) < 0 || dump_value(b, json_object_iter_value(it), depth + 1, max_depth) < 0)
                return -1;
        }
        return em_buf_append(b, "}", 1);
    }
    case JSON_ARRAY: {
        size_t i;
        json_t *item;
        if (em_buf_append(b, "[", 1) < 0)
            return -1;
        json_array_foreach(v, i, item) {
            if ((i && em_buf_append(b, ",", 1) < 0) || dump_value(b, item, depth + 1, max_depth) < 0)
                return -1;
        }
        return em_buf_append(b, "]", 1);
    }
    case JSON_STRING: return dump_string(b, json_string_value(v), json_string_length(v));
    case JSON_INTEGER: return put_integer(b, json_integer_value(v));
    case JSON_REAL: return put_real(b, json_real_value(v));
    case JSON_TRUE: return em_buf_append(b, "true", 4);
    case JSON_FALSE: return em_buf_append(b, "false", 5);
    case JSON_NULL: return em_buf_append(b, "null", 4);
    }
    return -1;
}

/* Serialises a response the way the service does (see above).  The body is
 * malloc'd by ecrmock (not by jansson, whose allocator a program may have
 * replaced), so that free() is always right. */
static int dump(json_t *doc, char **out, size_t *out_len, int max_depth)
{
    em_buf b = {0};
    /* 1000 bytes: most responses fit, and glibc serves a request this size
     * from its per-thread cache; starting at 512 cost three allocations (and
     * a consolidation of the heap's free lists) for a 1.5 KB response */
    if (em_buf_reserve(&b, 1000) < 0 || dump_value(&b, doc, 0, max_depth) < 0 || em_buf_append(&b, "", 1) < 0) {
        em_buf_release(&b);
        return -1;
    }
    *out_len = b.len - 1;
    *out = (char *)b.data;
    return 0;
}

int em_wire_dump(json_t *doc, char **out, size_t *out_len)
{
    if (!json_is_object(doc) && !json_is_array(doc))
        return -1;
    return dump(doc, out, out_len, DUMP_MAX_DEPTH);
}

int em_journal_text(json_t *v, char **out, size_t *out_len)
{
    return dump(v, out, out_len, JOURNAL_MAX_DEPTH);
}

/* ---- answers written without a tree ------------------------------------------
 * The encoder above, value by value: what dump_value writes for a tree of
 * the same value (the hot actions write their answers straight into the
 * response's buffer, src/store/views.c).  A NULL string or tree fails as
 * em_set() fails on a member that could not be made; a real that is not
 * finite as json_real() refuses it. */

int em_jw_string(em_buf *b, const char *s, size_t len)
{
    return s ? dump_string(b, s, len) : -1;
}

int em_jw_int(em_buf *b, int64_t v)
{
    return put_integer(b, (json_int_t)v);
}

int em_jw_real(em_buf *b, double v)
{
    return isfinite(v) ? put_real(b, v) : -1;
}

int em_jw_value(em_buf *b, json_t *v)
{
    return v ? dump_value(b, v, 0, DUMP_MAX_DEPTH) : -1;
}

int em_jw_time(em_buf *b, int64_t ms)
{
    return em_jw_real(b, (double)ms / 1000.0);
}

int em_jw_str_after(em_buf *b, const char *text, size_t text_len, const char *s)
{
    return s && em_buf_append(b, text, text_len) == 0 && dump_string(b, s, strlen(s)) == 0 ? 0 : -1;
}
