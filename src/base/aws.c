/*
 * AWS's formats: account ids, region names, digests, wildcards, partitions,
 * DNS suffixes and X-Amz-Date.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/base.h"

/* Whether h[0..64) are all hex digits, eight bytes a word: for a byte
 * under 0x80, adding 0x50 sets its high bit from '0' up and adding 0x46
 * from '9' + 1 up (no carry leaves the byte); with 0x20 or'ed in (A-F to
 * a-f), adding 0x1f sets it from 'a' up and 0x19 from 'f' + 1 up.  A byte
 * of 0x80 or more fails (~x), whatever its carries did to the others. */
static bool sha256_hex_ok(const char *h)
{
    const uint64_t ones = 0x0101010101010101u, high = ones * 0x80;
    uint64_t all = high;
    for (int i = 0; i < 8; i++) {
        uint64_t x;
        memcpy(&x, h + 8 * i, 8);
        uint64_t l = x | ones * 0x20;
        uint64_t digit = (x + ones * 0x50) & ~(x + ones * 0x46), letter = (l + ones * 0x1f) & ~(l + ones * 0x19);
        all &= (digit | letter) & ~x;
    }
    return all == high;
}

/* The model's digest pattern, [a-zA-Z0-9-_+.]+:[a-fA-F0-9]+ (whole string). */
bool em_digest_ok(const char *d)
{
    /* 1: a character of the algorithm, 2: a hex digit (also of the algorithm) */
    static const unsigned char cls[256] = {
        ['-'] = 1, ['_'] = 1, ['+'] = 1, ['.'] = 1,
        ['0'] = 3, ['1'] = 3, ['2'] = 3, ['3'] = 3, ['4'] = 3, ['5'] = 3, ['6'] = 3, ['7'] = 3, ['8'] = 3, ['9'] = 3,
        ['a'] = 3, ['b'] = 3, ['c'] = 3, ['d'] = 3, ['e'] = 3, ['f'] = 3,
        ['A'] = 3, ['B'] = 3, ['C'] = 3, ['D'] = 3, ['E'] = 3, ['F'] = 3,
        ['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1,
        ['p'] = 1, ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1,
        ['y'] = 1, ['z'] = 1,
        ['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1,
        ['P'] = 1, ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1,
        ['Y'] = 1, ['Z'] = 1,
    };
    if (!d)
        return false;
    if (strncmp(d, "sha256:", 7) == 0 && strlen(d) == 71 && sha256_hex_ok(d + 7))
        return true; /* the common digest: its 64 digits checked eight at a time */
    const unsigned char *p = (const unsigned char *)d;
    while (cls[*p] & 1)
        p++;
    if (p == (const unsigned char *)d || *p++ != ':')
        return false;
    const unsigned char *h = p;
    while (cls[*p] & 2)
        p++;
    return p > h && *p == '\0';
}

/*
 * Wildcard matching as ECR's filters do it: '*' matches any run of
 * characters (none included), everything else itself.  With `iam`, as IAM
 * matches action names: '?' matches one character, and case is ignored.
 */
bool em_wildcard_match(const char *pat, const char *s, bool iam)
{
    const char *star = NULL, *resume = NULL;
    while (*s) {
        bool same = iam ? (*pat == '?' || tolower((unsigned char)*pat) == tolower((unsigned char)*s)) : *pat == *s;
        if (*pat == '*') {
            star = pat++;
            resume = s;
        } else if (*pat && same) {
            pat++;
            s++;
        } else if (star) {
            pat = star + 1;
            s = ++resume;
        } else {
            return false;
        }
    }
    while (*pat == '*')
        pat++;
    return *pat == '\0';
}

bool em_account_id_ok(const char *id)
{
    size_t n = id ? strspn(id, "0123456789") : 0;
    return n == 12 && id[n] == '\0';
}

const char *em_dns_suffix(const char *region)
{
    return strncmp(region, "cn-", 3) == 0 ? "amazonaws.com.cn" : "amazonaws.com";
}

void em_amz_date(int64_t s, char out[17])
{
    time_t t = (time_t)s;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

/* Days from 1970-01-01 to y-m-d of the proleptic Gregorian calendar
 * (Howard Hinnant's days_from_civil): no time_t, no mktime, any year. */
static int64_t days_from_civil(int64_t y, int mo, int d)
{
    y -= mo <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (mo > 2 ? mo - 3 : mo + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

bool em_amz_date_parse(const char *s, int64_t *out)
{
    static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int f[6], at = 0;
    static const int width[6] = {4, 2, 2, 2, 2, 2};
    if (strlen(s) != 16 || s[8] != 'T' || s[15] != 'Z')
        return false;
    for (int i = 0; i < 6; i++) {
        f[i] = 0;
        if (i == 3)
            at++; /* the 'T' */
        for (int k = 0; k < width[i]; k++, at++) {
            if (s[at] < '0' || s[at] > '9')
                return false;
            f[i] = f[i] * 10 + (s[at] - '0');
        }
    }
    int y = f[0], mo = f[1], d = f[2];
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || (mo == 2 && d == 29 && !leap) || f[3] > 23 ||
        f[4] > 59 || f[5] > 59)
        return false;
    *out = days_from_civil(y, mo, d) * 86400 + f[3] * 3600 + f[4] * 60 + f[5];
    return true;
}

/* The partition and DNS suffix of a region: aws / amazonaws.com, and the
 * China and GovCloud partitions. */
const char *em_partition(const char *region)
{
    if (strncmp(region, "cn-", 3) == 0)
        return "aws-cn";
    if (strncmp(region, "us-gov-", 7) == 0)
        return "aws-us-gov";
    return "aws";
}

bool em_region_name_ok(const char *s)
{
    size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-");
    return n > 0 && n < 64 && s[n] == '\0';
}
