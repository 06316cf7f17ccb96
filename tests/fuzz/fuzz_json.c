/*
 * Fuzz target: the request parser's fast path (src/base/json_parse.c) and the
 * wire level's encoder against jansson.  Whatever em_json_parse takes,
 * json_loadb must take too and build the same tree: the same values of the same types, members in the same
 * order (compared through jansson's own compact serialisation, which keeps
 * insertion order and tells 1 from 1.0).  What it does not take is jansson's
 * to answer, so a NULL is always allowed.  And whatever jansson reads, the
 * wire level's encoder (src/fronts/wire.c) must write as json_dumps writes it,
 * byte for byte, except reals: those it writes as ECR does (Java's
 * Double.toString, "1.688712875E9" where jansson writes "1688712875.0"), so
 * each real must have that form, at most 17 digits and no digit too many,
 * and the whole text must read back as the same values.  abort() on any
 * difference.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fronts/fronts.h"

static char *dumped(json_t *doc)
{
    return json_dumps(doc, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(17));
}

static size_t digit_run(const char *s, size_t n)
{
    size_t k = 0;
    while (k < n && isdigit((unsigned char)s[k]))
        k++;
    return k;
}

/* Whether s[0..n) is a real as Java's Double.toString writes it: plain
 * ("7.5", "0.001", "100.0") for 10^-3 <= |v| < 10^7, otherwise d.dddE<exp>
 * with no '+' and no leading zero ("1.0E-4", "1.688712875E9"); the fraction
 * without trailing zeros unless it is the single 0; at most 17 significant
 * digits, and not one too many: the nearest decimal one digit shorter does
 * not read back as the same double (two digits are allowed where one would
 * do: Java then takes the closer of one or two digits). */
static bool java_real(const char *s, size_t n)
{
    const char *p = s, *end = s + n;
    if (p < end && *p == '-')
        p++;
    size_t ip = digit_run(p, (size_t)(end - p));
    if (ip == 0 || ip > 7 || (ip > 1 && *p == '0') || p + ip >= end || p[ip] != '.')
        return false;
    const char *frac = p + ip + 1;
    size_t fp = digit_run(frac, (size_t)(end - frac));
    if (fp == 0 || (fp > 1 && frac[fp - 1] == '0'))
        return false;
    const char *rest = frac + fp;
    double v = strtod(s, NULL);
    double a = v < 0 ? -v : v;
    int sig; /* significant digits */
    if (rest == end) { /* plain */
        if (a != 0 && (a < 1e-3 || a >= 1e7))
            return false;
        if (ip == 1 && *p == '0') {
            size_t z = 0;
            while (z < fp && frac[z] == '0')
                z++;
            sig = (int)(fp - z);
            if (a != 0 && z > 2)
                return false;
        } else {
            sig = (int)(ip + (fp == 1 && frac[0] == '0' ? 0 : fp));
            while (sig > 1 && sig <= (int)ip && p[sig - 1] == '0')
                sig--; /* "1000.0": one digit */
        }
    } else {
        if (ip != 1 || *p == '0' || *rest != 'E')
            return false;
        const char *x = rest + 1;
        if (x < end && *x == '-')
            x++;
        size_t xp = digit_run(x, (size_t)(end - x));
        if (xp == 0 || x + xp != end || (xp > 1 && *x == '0'))
            return false;
        long e = strtol(rest + 1, NULL, 10);
        if (e >= -3 && e <= 6)
            return false;
        sig = (int)(1 + (fp == 1 && frac[0] == '0' ? 0 : fp));
    }
    if (sig > 17)
        return false;
    if (sig > 2 && a != 0) {
        char shorter[40];
        snprintf(shorter, sizeof shorter, "%.*e", sig - 2, a);
        if (strtod(shorter, NULL) == a)
            return false;
    }
    return true;
}

/* The wire encoder's bytes against jansson's: the same outside numbers, the
 * same integers, and where jansson writes a real (it has a '.' or an 'e'),
 * the encoder's real in Java's form.  Only the timestamps' form differs; the
 * values are checked by reading the encoder's text back. */
static bool same_but_reals(const char *mine, size_t mlen, const char *theirs, size_t tlen)
{
    size_t i = 0, j = 0;
    while (i < mlen && j < tlen) {
        char c = theirs[j];
        if (c == '"') { /* a string or a key: the same bytes */
            size_t k = j + 1;
            while (k < tlen && theirs[k] != '"')
                k += theirs[k] == '\\' ? 2 : 1;
            size_t len = k + 1 - j;
            if (k >= tlen || mlen - i < len || memcmp(mine + i, theirs + j, len) != 0)
                return false;
            i += len;
            j += len;
        } else if (c == '-' || isdigit((unsigned char)c)) {
            size_t a = i, b = j;
            while (a < mlen && strchr("+-.0123456789eE", mine[a]))
                a++;
            while (b < tlen && strchr("+-.0123456789eE", theirs[b]))
                b++;
            bool real = memchr(theirs + j, '.', b - j) || memchr(theirs + j, 'e', b - j);
            if (real ? !java_real(mine + i, a - i) : (a - i != b - j || memcmp(mine + i, theirs + j, b - j) != 0))
                return false;
            i = a;
            j = b;
        } else if (mine[i++] != theirs[j++]) {
            return false;
        }
    }
    return i == mlen && j == tlen;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_error_t jerr;
    json_t *ref = json_loadb((const char *)data, size, 0, &jerr);
    bool oom = false;
    json_t *fast = em_json_parse((const char *)data, size, &oom);
    if (oom) {
        fprintf(stderr, "out of memory reported with memory to spare\n");
        abort();
    }
    if (fast && !ref) {
        fprintf(stderr, "fast path took what jansson refuses: %s\n", jerr.text);
        abort();
    }
    if (fast) {
        char *a = dumped(fast), *b = dumped(ref);
        if (!a || !b || strcmp(a, b) != 0 || !json_equal(fast, ref)) {
            fprintf(stderr, "trees differ:\n fast:    %s\n jansson: %s\n", a ? a : "(null)", b ? b : "(null)");
            abort();
        }
        free(a);
        free(b);
    }
    if (ref) {
        /* the wire level's encoder writes jansson's bytes, but reals as ECR
         * does (Java's form, for its timestamps): the same values */
        char *mine = NULL, *theirs = json_dumps(ref, JSON_COMPACT | JSON_REAL_PRECISION(15));
        size_t len = 0;
        json_t *back = NULL;
        if (em_wire_dump(ref, &mine, &len) < 0 || !theirs || !same_but_reals(mine, len, theirs, strlen(theirs)) ||
            !(back = json_loadb(mine, len, 0, &jerr)) || !json_equal(back, ref)) {
            fprintf(stderr, "encoders differ:\n ecrmock: %s\n jansson: %s\n", mine ? mine : "(failed)",
                    theirs ? theirs : "(failed)");
            abort();
        }
        json_decref(back);
        free(mine);
        free(theirs);
    }
    json_decref(fast);
    json_decref(ref);
    return 0;
}
