/*
 * Docker v2 schema 1 on a pull by tag (registry.c's negotiation): ECR
 * converts a Docker v2 schema 2 image to schema 1 for a client that accepts
 * schema 1 and not schema 2 (ECR user guide, "Container image manifest
 * format support in Amazon ECR"; the fact sheet, 4).  ECR does not say how
 * it builds one; ecrmock builds it as Docker's distribution registry did
 * when it converted (manifest/schema1, configManifestBuilder.Build and
 * MakeV1ConfigFromConfig) and signs it as libtrust does (jsonsign.go: Sign,
 * PrettySignature):
 *
 *   - name, tag, the config's architecture; fsLayers and history from the
 *     config's history, newest first: an entry with empty_layer names the
 *     gzipped empty tar, any other the next layer of the manifest;
 *   - each history entry but the newest a made-up v1 image: id = hex
 *     SHA-256 of "<blobSum hex> <parent id>", parent, comment, created,
 *     container_config.Cmd [created_by], author, throwaway; the newest is the
 *     config itself without rootfs and history, with id = hex SHA-256 of
 *     "<blobSum hex> <parent id> <config bytes>", parent and throwaway;
 *   - the text as Go's json.MarshalIndent writes it (three spaces; "<", ">"
 *     and "&" as \u003c, \u003e, \u0026; the config's own members kept as
 *     written, compacted, in the order of their names), then one JWS
 *     signature in libtrust's pretty form: header.jwk (the key), alg RS256,
 *     signature, protected {formatLength, formatTail, time}.
 *
 * The key is ecrmock's own test key, below: not ECR's, which no one outside
 * AWS has, so a client that checks who signed (none does: schema 1
 * signatures were never tied to a trust root) sees another signer, and
 * one that checks the signature itself sees a valid one.  RSASSA-PKCS1-v1_5
 * is deterministic and `time` is the virtual clock's, so the same store and
 * clock give the same bytes.  The manifest's digest is that of the text
 * without the signatures, as distribution computes it (SignedManifest's
 * Canonical).
 *
 * What does not convert (the pull then answers as for any Accept ECR cannot
 * meet): a config that is not in the repository's layers, not JSON that
 * jansson reads (not UTF-8, an integer past 64 bits), has no history, no
 * rootfs, a member of the wrong type, a created time that is not RFC 3339,
 * or as many diff_ids as the manifest has layers not; more non-empty
 * history entries than layers; a payload or a config past SCHEMA1_MAX_PAYLOAD
 * (32 MiB).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "fronts/fronts.h"

/* ecrmock's schema 1 signing key: an RSA 2048 key made for ecrmock
 * (`openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048`), public
 * here on purpose.  It is not, and signs nothing as, Amazon's. */
static const char signing_key[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQDLGYxPcvUVh1Kq\n"
    "B3kfCoDME137fnWYW2YaQBqn5AYH750FEiXh23pbx5ZSq/9k0Dc5ApF9LCea52sW\n"
    "8MXnFe01WVUEC96H5fJp1hEQM0c1CYYUErQz6EFqZieXmsg5wwi/FChsixsI20Mx\n"
    "1eqlJeMqtMTh9amwPfGgjknLdI3aIPGeLos61nuSl8MBWrMLNJkjR9rNc0kJY7qb\n"
    "PUsteLIPgD99+sC5EqGP5J0hJX+ie2DL5KQICyx3meavmmksO4IKNyiYgGkjHYmv\n"
    "XrSXYzKXa3zYmTUbW8+rnWAkwTNEaSlgzPZIzobh4TuU3Lu58U9Xol90OHkm/jde\n"
    "HGqJbsvfAgMBAAECggEABmhgReLBmr6ckWK6TowSnjL/jxS2pGpAdr7jrb0C97Mh\n"
    "SBdXfKBjuYuQJuboStz1hmXvWHymeeZSjvRlD10LZoMoAdWssqrtkqs/TzyJmEHG\n"
    "/3vLlaupN1smZUvBL26uKEvRhAMrhNmuGAoWD28k6KRauypOApJ3Eh1gdKZ7vJBT\n"
    "y2P6DhRRHW2D353phMEGleYVci2LhNI+zelk4vnohXz82AlhQcyzoiD2cdQPNv8/\n"
    "sLgR+v1KpuMYvZZHNdoXALTrHRU2xn0u8JO1RdjvnHdhaYqv5i+67j5B2lE5lPJ5\n"
    "8fjwEXehHcVKXQJNBXDZS/0YxRdutb70B0AAF0VlWQKBgQDnewwgFqdD3Pi9m9PY\n"
    "fxgFAk4aFZMkgozXGUdeylpUY2Cp6InVWq3dz/LsvbInb3Ne4pAOHR4yX2C/uFf8\n"
    "l1a3dNyVAqADI8tuGVm7nwwlX3gHXYAAj4kep6tjV5bl46uI083oSvUGr8tvjmMV\n"
    "G48U2uRPISwSgExbf1XEIP6xqwKBgQDgnOkJ8VWoU5vOU1pjhg9fEIImYEJ8eEJH\n"
    "fH0Gto0oDemPwvnRbcBUy3efc8XBjjj+KOqZaxPl5CvTo4+VYcOLoUprt9e/zBFs\n"
    "4IPGDmTSB0DF97j9oYksqiizOlDR6r3YybgwPLNWAlOFVVfYwLyaDFsWCaULF2eP\n"
    "FQr+KAmCnQKBgDjsNUsexvsVN8XIsAupFUsGCha3/3sW73Nlr/tLX3MpDPg7SsnA\n"
    "hsjo/h/hdhHkgkZvCGWwG2Dfu3bp6hkfTh/HCQdLofWjs77bVQmiTuZR175X68Y3\n"
    "hcyYBrljLKRTnDcFfrkE1cRTLn+8T/k80a6bNVGQIrpZ+mz1ny2fv4IJAoGBANpK\n"
    "JIExNhodB3MBtvq6Mv4kwRgivPrStTdcWPXJPG4M90xsJPXQP/cott0UWsC9Q85e\n"
    "XYE0e2YU1jMc5lI7bRuqaPU++kLARL8Xg3lcS8eCnQTIt9RmxTXPOTbWGe2owVCK\n"
    "2qKmm3OfVyRhyLoythjQoUVNokShPlfkD4bpyjRRAoGBAK3xrilzP9bbb/BUnKvq\n"
    "isUGeeQrKXXPVZE0QupMkkJ9wnxbDZuoCHP02FeF1bhWGrj6xuEceKi+QtkhwNui\n"
    "7XfiBITB4Hz1cc1jE8DbTi/rVSH9/Bi6+vgXtLBCQBessRrS9vUN/03LD049G4vc\n"
    "cDM2YH7r8M6qJiuUTsjwr8Ie\n"
    "-----END PRIVATE KEY-----\n";

/* Its public half as libtrust's JWK writes it: n and e base64url, kid the
 * libtrust fingerprint (SHA-256 of "RSA", n's bytes and e's, 240 bits in
 * base32, groups of four).  tests/unit/test_manifest_schema1.c checks both
 * against the key. */
#define JWK_E "AQAB"
#define JWK_KID "V5LF:ANRD:DGJV:BVEL:4GXE:YFSV:NRJT:WEMA:SSM3:IHYX:VNYP:O5NH"
#define JWK_N                                                                                                    \
    "yxmMT3L1FYdSqgd5HwqAzBNd-351mFtmGkAap-QGB--dBRIl4dt6W8eWUqv_ZNA3OQKRfSwnmudrFvDF5xXtNVlVBAveh-XyadYREDNHNQmG" \
    "FBK0M-hBamYnl5rIOcMIvxQobIsbCNtDMdXqpSXjKrTE4fWpsD3xoI5Jy3SN2iDxni6LOtZ7kpfDAVqzCzSZI0fazXNJCWO6mz1LLXiyD4A" \
    "_ffrAuRKhj-SdISV_ontgy-SkCAssd5nmr5ppLDuCCjcomIBpIx2Jr160l2Myl2t82Jk1G1vPq51gJMEzRGkpYMz2SM6G4eE7lNy7ufFPV6" \
    "JfdDh5Jv43XhxqiW7L3w"

/* The gzipped empty tar that stands for a history entry without a layer
 * (distribution's digestSHA256GzippedEmptyTar). */
#define EMPTY_TAR "sha256:a3ed95caeb02ffe68cdd9fd84406680ae93d633cb16422d00e8a7c22955b46d4"
#define ZERO_TIME "0001-01-01T00:00:00Z"

enum { OK = 0, NOMEM = -1, NO = 1 }; /* built; out of memory; does not convert */

/* ---- output with one sticky failure ------------------------------------------------- */

typedef struct out {
    em_buf b;
    bool oom;
    size_t max; /* the most bytes it may hold (0: no bound); past it, `over` */
    bool over;
} out;

/* The most bytes of a schema 1 payload: eight times ECR's largest manifest
 * (4,194,304 characters).  Each config history entry of 3 bytes ("{},")
 * is about 400 here: a 20 MiB config asked for 2.8 GB under the
 * instance's lock.  Past it, no conversion (an Accept ECR cannot meet). */
#define SCHEMA1_MAX_PAYLOAD ((size_t)32 << 20)

static void put(out *o, const void *p, size_t n)
{
    if (o->oom || o->over || !n)
        return;
    if (o->max && n > o->max - o->b.len)
        o->over = true;
    else if (em_buf_append(&o->b, p, n) < 0)
        o->oom = true;
}

static void puts_(out *o, const char *s)
{
    put(o, s, strlen(s));
}

static void b64url(out *o, const unsigned char *p, size_t n)
{
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    if (o->oom || em_buf_reserve(&o->b, n / 3 * 4 + 4) < 0) {
        o->oom = true;
        return;
    }
    char *w = (char *)o->b.data + o->b.len;
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8 | p[i + 2];
        *w++ = a[v >> 18];
        *w++ = a[v >> 12 & 63];
        *w++ = a[v >> 6 & 63];
        *w++ = a[v & 63];
    }
    if (n - i == 1) {
        *w++ = a[p[i] >> 2];
        *w++ = a[(p[i] & 3) << 4];
    } else if (n - i == 2) {
        unsigned v = (unsigned)p[i] << 8 | p[i + 1];
        *w++ = a[v >> 10];
        *w++ = a[v >> 4 & 63];
        *w++ = a[(v & 15) << 2];
    }
    o->b.len = (size_t)(w - (char *)o->b.data);
}

/* s[0..n) (UTF-8) as Go's encoding/json writes a string: '"' and '\\'
 * escaped, control characters as \n, \r, \t or \u00xx, and "<", ">", "&",
 * U+2028 and U+2029 as \u escapes (HTML-safe, json.Marshal's default). */
static void go_string(out *o, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    put(o, "\"", 1);
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[8];
        size_t k = 0, skip = 1;
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            k = 2;
        } else if (c == '\n' || c == '\r' || c == '\t') {
            esc[0] = '\\';
            esc[1] = c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
            k = 2;
        } else if (c < 0x20 || c == '<' || c == '>' || c == '&') {
            memcpy(esc, "\\u00", 4);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            k = 6;
        } else if (c == 0xE2 && i + 2 < n && (unsigned char)s[i + 1] == 0x80 &&
                   ((unsigned char)s[i + 2] == 0xA8 || (unsigned char)s[i + 2] == 0xA9)) {
            memcpy(esc, (unsigned char)s[i + 2] == 0xA8 ? "\\u2028" : "\\u2029", 6);
            k = 6;
            skip = 3;
        }
        if (k) {
            put(o, s + start, i - start);
            put(o, esc, k);
            i += skip - 1;
            start = i + 1;
        }
    }
    put(o, s + start, n - start);
    put(o, "\"", 1);
}

/* ---- the config's raw members --------------------------------------------------------- */

static const char *skip_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

/* The end of the JSON value at p (text jansson has read: well formed). */
static const char *value_end(const char *p, const char *end)
{
    int depth = 0;
    bool in_string = false;
    for (; p < end; p++) {
        char c = *p;
        if (in_string) {
            if (c == '\\')
                p++;
            else if (c == '"') {
                in_string = false;
                if (depth == 0)
                    return p + 1;
            }
        } else if (c == '"') {
            in_string = true;
        } else if (c == '{' || c == '[') {
            depth++;
        } else if (c == '}' || c == ']') {
            if (depth == 0)
                return p; /* the end of a scalar that closes its container */
            if (--depth == 0)
                return p + 1;
        } else if (depth == 0 && (c == ',' || c == ' ' || c == '\t' || c == '\n' || c == '\r')) {
            return p;
        }
    }
    return p;
}

/* Value p[0..n) compacted as Go's json.Compact does with HTML escaping (a
 * RawMessage's MarshalJSON): whitespace between tokens dropped, "<", ">",
 * "&", U+2028 and U+2029 in strings as \u escapes, the rest as written. */
static void go_compact(out *o, const char *p, size_t n)
{
    bool in_string = false;
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        const char *esc = NULL;
        size_t skip = 1;
        if (in_string) {
            if (c == '\\') {
                i++;
                continue;
            }
            if (c == '"')
                in_string = false;
            else if (c == '<')
                esc = "\\u003c";
            else if (c == '>')
                esc = "\\u003e";
            else if (c == '&')
                esc = "\\u0026";
            else if (c == 0xE2 && i + 2 < n && (unsigned char)p[i + 1] == 0x80 &&
                     ((unsigned char)p[i + 2] == 0xA8 || (unsigned char)p[i + 2] == 0xA9)) {
                esc = (unsigned char)p[i + 2] == 0xA8 ? "\\u2028" : "\\u2029";
                skip = 3;
            }
        } else if (c == '"') {
            in_string = true;
        } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            esc = "";
        }
        if (esc) {
            put(o, p + start, i - start);
            puts_(o, esc);
            i += skip - 1;
            start = i + 1;
        }
    }
    put(o, p + start, n - start);
}

typedef struct member {
    char *name; /* decoded: em_malloc'd when `owned`, else static */
    bool owned;
    size_t seq; /* its place in the config */
    const char *value;
    size_t len;
} member;

/* By name, then by place. */
static int by_name(const void *a, const void *b)
{
    const member *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : (x->seq > y->seq) - (x->seq < y->seq);
}

/* Whether the v1 config leaves out member `name` of the config: rootfs and
 * history, and the ones ecrmock sets. */
static bool replaced(const char *name, const char *parent, bool throwaway)
{
    return strcmp(name, "rootfs") == 0 || strcmp(name, "history") == 0 || strcmp(name, "id") == 0 ||
           (*parent && strcmp(name, "parent") == 0) || (throwaway && strcmp(name, "throwaway") == 0);
}

/* The newest history entry's v1Compatibility: the config's members (a
 * later one of a name replacing an earlier, as Go's map does) without
 * rootfs and history, with id, parent (when there is one) and throwaway,
 * in the order of their names.  O(n log n) in the members. */
static int top_v1(out *o, const char *cfg, size_t cfg_len, const char *id, const char *parent, bool throwaway)
{
    const char *p = cfg, *end = cfg + cfg_len;
    /* grown as members come (a ':' counted per member made 40 bytes of
     * each ':' of the config's strings), 3 kept for id, parent, throwaway */
    size_t cap = 16, n = 0;
    member *ms = em_malloc(cap * sizeof *ms);
    if (!ms)
        return NOMEM;
    int rc = OK;
    p = skip_ws(p, end) + 1; /* '{' */
    while ((p = skip_ws(p, end)) < end && *p == '"') {
        if (n + 3 == cap) {
            member *more = em_realloc(ms, 2 * cap * sizeof *ms);
            if (!more) {
                rc = NOMEM;
                break;
            }
            ms = more;
            cap *= 2;
        }
        const char *k = p, *ke = value_end(p, end);
        p = skip_ws(skip_ws(ke, end) + 1, end); /* ':' */
        const char *v = p, *ve = value_end(p, end);
        p = skip_ws(ve, end);
        p += p < end && *p == ',';
        json_t *key = json_loadb(k, (size_t)(ke - k), JSON_DECODE_ANY, NULL);
        char *name = json_is_string(key) ? em_strdup(json_string_value(key)) : NULL;
        json_decref(key);
        if (!name) {
            rc = NOMEM;
            break;
        }
        ms[n] = (member){name, true, n, v, (size_t)(ve - v)};
        n++;
    }
    /* Each name's last value, less the ones left out or set below. */
    qsort(ms, n, sizeof *ms, by_name);
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        if ((i + 1 < n && strcmp(ms[i].name, ms[i + 1].name) == 0) || replaced(ms[i].name, parent, throwaway))
            em_free(ms[i].name);
        else
            ms[kept++] = ms[i];
    }
    n = kept;
    char idq[80], parentq[80];
    snprintf(idq, sizeof idq, "\"%s\"", id);
    snprintf(parentq, sizeof parentq, "\"%s\"", parent);
    ms[n++] = (member){(char *)"id", false, 0, idq, strlen(idq)};
    if (*parent)
        ms[n++] = (member){(char *)"parent", false, 0, parentq, strlen(parentq)};
    if (throwaway)
        ms[n++] = (member){(char *)"throwaway", false, 0, "true", 4};
    if (rc == OK) {
        qsort(ms, n, sizeof *ms, by_name);
        put(o, "{", 1);
        for (size_t i = 0; i < n; i++) {
            if (i)
                put(o, ",", 1);
            go_string(o, ms[i].name, strlen(ms[i].name));
            put(o, ":", 1);
            go_compact(o, ms[i].value, ms[i].len);
        }
        put(o, "}", 1);
    }
    for (size_t i = 0; i < n; i++)
        if (ms[i].owned)
            em_free(ms[i].name);
    em_free(ms);
    return rc;
}

/* ---- the config as Go's json.Unmarshal reads distribution's imageConfig --------------- */

/* Member `name` of o as Go's decoder fills a struct field: every member
 * whose name is the field's but for ASCII case sets it, so the last one
 * counts; NULL when there is none. */
static json_t *go_field(json_t *o, const char *name)
{
    json_t *v = NULL, *each;
    const char *key;
    json_object_foreach(o, key, each) if (strcasecmp(key, name) == 0) v = each;
    return v;
}

/* A string field: *s its text ("" when absent or null); false for another type. */
static bool field_string(json_t *o, const char *name, const char **s, size_t *len)
{
    json_t *v = go_field(o, name);
    *s = json_is_string(v) ? json_string_value(v) : "";
    *len = json_is_string(v) ? json_string_length(v) : 0;
    return !v || json_is_null(v) || json_is_string(v);
}

static bool field_bool(json_t *o, const char *name, bool *b)
{
    json_t *v = go_field(o, name);
    *b = json_is_true(v);
    return !v || json_is_null(v) || json_is_boolean(v);
}

static bool digits(const char *s, int n, int *v)
{
    *v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        *v = *v * 10 + (s[i] - '0');
    }
    return true;
}

/* A created time as Go's time.Time reads it (RFC 3339) and writes it back
 * (RFC3339Nano: the fraction to 9 digits without trailing zeros, a zero
 * offset as Z) into out; false when Go would refuse it. */
static bool go_time(json_t *v, char dst[80])
{
    if (!v || json_is_null(v)) {
        snprintf(dst, 80, "%s", ZERO_TIME);
        return true;
    }
    if (!json_is_string(v))
        return false;
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    int y, mo, d, h, mi, se;
    if (n < 20 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) || s[7] != '-' ||
        !digits(s + 8, 2, &d) || s[10] != 'T' || !digits(s + 11, 2, &h) || s[13] != ':' ||
        !digits(s + 14, 2, &mi) || s[16] != ':' || !digits(s + 17, 2, &se))
        return false;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || (mo == 2 && d == 29 && !leap) || h > 23 || mi > 59 ||
        se > 59)
        return false;
    size_t i = 19;
    char frac[10] = "";
    if (i < n && s[i] == '.') {
        size_t k = 0;
        for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++)
            if (k < 9)
                frac[k++] = s[i];
        if (k == 0)
            return false;
        frac[k] = '\0';
        while (k && frac[k - 1] == '0')
            frac[--k] = '\0';
    }
    char zone[32];
    int zh = 0, zm = 0;
    if (i + 1 == n && s[i] == 'Z') {
        snprintf(zone, sizeof zone, "Z");
    } else if (i + 6 == n && (s[i] == '+' || s[i] == '-') && digits(s + i + 1, 2, &zh) && s[i + 3] == ':' &&
               digits(s + i + 4, 2, &zm) && zh < 24 && zm < 60) {
        if (zh == 0 && zm == 0)
            snprintf(zone, sizeof zone, "Z");
        else
            snprintf(zone, sizeof zone, "%c%02d:%02d", s[i], zh, zm);
    } else {
        return false;
    }
    int w = snprintf(dst, 80, "%04d-%02d-%02dT%02d:%02d:%02d%s%s%s", y, mo, d, h, mi, se, *frac ? "." : "", frac, zone);
    return w > 0 && w < 80;
}

/* Hex SHA-256 (or, `sha384`, the first 32 bytes of SHA-384) of p[0..n) into dst[65]. */
static void hash_hex(const void *p, size_t n, bool sha384, char dst[65])
{
    unsigned char md[48];
    EVP_Digest(p, n, md, NULL, sha384 ? EVP_sha384() : EVP_sha256(), NULL);
    em_hex(md, 32, dst);
}

/* The hex part of a digest ("sha256:<hex>"). */
static const char *encoded(const char *digest)
{
    const char *c = strchr(digest, ':');
    return c ? c + 1 : digest;
}

/* v1 id: hex SHA-256 of "<blobSum hex> <parent>" (and " <config>" for the newest). */
static int v1_id(const char *blobsum, const char *parent, const char *cfg, size_t cfg_len, char id[65])
{
    out t = {0};
    puts_(&t, encoded(blobsum));
    put(&t, " ", 1);
    puts_(&t, parent);
    if (cfg) {
        put(&t, " ", 1);
        put(&t, cfg, cfg_len);
    }
    if (!t.oom)
        hash_hex(t.b.data ? (const void *)t.b.data : "", t.b.len, false, id);
    em_buf_release(&t.b);
    return t.oom ? NOMEM : OK;
}

/* ---- the manifest ----------------------------------------------------------------------- */

typedef struct entry {
    const char *blobsum;
    out v1;
} entry;

/* The entries, newest first, from the config and the manifest's layers;
 * NO when their v1 texts alone pass SCHEMA1_MAX_PAYLOAD. */
static int entries(json_t *cfg, const char *cfg_text, size_t cfg_len, json_t *layers, entry *es, size_t n)
{
    size_t held = 0; /* the v1 texts' bytes so far */
    json_t *rootfs = go_field(cfg, "rootfs"), *history = go_field(cfg, "history");
    if (!json_is_object(rootfs)) /* distribution dereferences it: absent is no image config */
        return NO;
    json_t *diff_ids = go_field(rootfs, "diff_ids");
    const char *s;
    size_t sl;
    if (!field_string(rootfs, "type", &s, &sl) || (diff_ids && !json_is_null(diff_ids) && !json_is_array(diff_ids)))
        return NO;
    size_t i;
    json_t *d;
    json_array_foreach(diff_ids, i, d) if (!json_is_string(d) && !json_is_null(d)) return NO;
    const char *base;
    size_t base_len;
    if (!field_string(rootfs, "base_layer", &base, &base_len) || json_array_size(diff_ids) != json_array_size(layers))
        return NO;
    char parent[65] = "";
    size_t used = 0;
    for (i = 0; i < n; i++) {
        json_t *h = json_array_get(history, i);
        const char *author, *comment, *created_by;
        size_t la, lc, lb;
        bool empty;
        char created[80];
        if ((!json_is_object(h) && !json_is_null(h)) || !field_string(h, "author", &author, &la) ||
            !field_string(h, "comment", &comment, &lc) || !field_string(h, "created_by", &created_by, &lb) ||
            !field_bool(h, "empty_layer", &empty) || !go_time(go_field(h, "created"), created))
            return NO;
        entry *e = &es[n - 1 - i];
        if (empty)
            e->blobsum = EMPTY_TAR;
        else if (used >= json_array_size(diff_ids))
            return NO;
        else if (!(e->blobsum = em_get_str(json_array_get(layers, used++), "digest")))
            return NO;
        char id[65];
        if (i + 1 == n) {
            if (v1_id(e->blobsum, parent, cfg_text, cfg_len, id) < 0)
                return NOMEM;
            e->v1.max = SCHEMA1_MAX_PAYLOAD - held + 1; /* the config's text stops once past the bound */
            if (top_v1(&e->v1, cfg_text, cfg_len, id, parent, empty) < 0 || e->v1.oom)
                return NOMEM;
            return e->v1.over || e->v1.b.len > SCHEMA1_MAX_PAYLOAD - held ? NO : OK;
        }
        if (v1_id(e->blobsum, parent, NULL, 0, id) < 0)
            return NOMEM;
        if (i == 0 && base_len)
            hash_hex(base, base_len, true, parent); /* Windows: the base layer's id */
        out *o = &e->v1;
        puts_(o, "{\"id\":\"");
        puts_(o, id);
        puts_(o, "\"");
        if (*parent) {
            puts_(o, ",\"parent\":\"");
            puts_(o, parent);
            puts_(o, "\"");
        }
        if (lc) {
            puts_(o, ",\"comment\":");
            go_string(o, comment, lc);
        }
        puts_(o, ",\"created\":\"");
        puts_(o, created);
        puts_(o, "\",\"container_config\":{\"Cmd\":[");
        go_string(o, created_by, lb);
        puts_(o, "]}");
        if (la) {
            puts_(o, ",\"author\":");
            go_string(o, author, la);
        }
        if (empty)
            puts_(o, ",\"throwaway\":true");
        puts_(o, "}");
        if (o->oom)
            return NOMEM;
        if (o->b.len > SCHEMA1_MAX_PAYLOAD - held)
            return NO;
        held += o->b.len;
        memcpy(parent, id, sizeof id);
    }
    return NO; /* not reached: n > 0 */
}

/* The unsigned manifest (distribution's Canonical), as MarshalIndent with three spaces writes it. */
static void payload(out *o, const char *name, const char *tag, const char *arch, size_t arch_len, entry *es,
                    size_t n)
{
    puts_(o, "{\n   \"schemaVersion\": 1,\n   \"name\": ");
    go_string(o, name, strlen(name));
    puts_(o, ",\n   \"tag\": ");
    go_string(o, tag, strlen(tag));
    puts_(o, ",\n   \"architecture\": ");
    go_string(o, arch, arch_len);
    puts_(o, ",\n   \"fsLayers\": [");
    for (size_t i = 0; i < n; i++) {
        puts_(o, i ? ",\n      {\n         \"blobSum\": " : "\n      {\n         \"blobSum\": ");
        go_string(o, es[i].blobsum, strlen(es[i].blobsum));
        puts_(o, "\n      }");
    }
    puts_(o, "\n   ],\n   \"history\": [");
    for (size_t i = 0; i < n; i++) {
        puts_(o, i ? ",\n      {\n         \"v1Compatibility\": " : "\n      {\n         \"v1Compatibility\": ");
        go_string(o, (const char *)es[i].v1.b.data, es[i].v1.b.len);
        puts_(o, "\n      }");
    }
    puts_(o, "\n   ]\n}");
}

/* RS256 of p[0..n) with ecrmock's key, base64url, onto o; NOMEM when libcrypto fails. */
static int sign(out *o, const unsigned char *p, size_t n)
{
    BIO *bio = BIO_new_mem_buf(signing_key, (int)sizeof signing_key - 1);
    EVP_PKEY *key = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
    EVP_MD_CTX *ctx = key ? EVP_MD_CTX_new() : NULL;
    unsigned char sig[512];
    size_t sig_len = sizeof sig;
    bool ok = ctx && EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key) == 1 &&
              EVP_DigestSign(ctx, sig, &sig_len, p, n) == 1;
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(key);
    BIO_free(bio);
    if (ok)
        b64url(o, sig, sig_len);
    return ok ? OK : NOMEM;
}

/* The signed manifest: the payload less its closing "\n}", libtrust's
 * signature block, "\n}" again. */
static int signed_text(out *o, const out *pl, int64_t clock_ms)
{
    size_t format_len = pl->b.len - 2; /* up to the last ']' */
    time_t secs = (time_t)(clock_ms / 1000 - (clock_ms % 1000 < 0));
    struct tm tm;
    char when[64], prot[160];
    if (!gmtime_r(&secs, &tm))
        return NO;
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    int plen = snprintf(prot, sizeof prot, "{\"formatLength\":%zu,\"formatTail\":\"Cn0\",\"time\":\"%s\"}",
                        format_len, when);
    out input = {0};
    b64url(&input, (const unsigned char *)prot, (size_t)plen);
    size_t prot_len = input.b.len;
    put(&input, ".", 1);
    b64url(&input, pl->b.data, pl->b.len);
    int rc = input.oom ? NOMEM : OK;
    put(o, pl->b.data, format_len);
    puts_(o, ",\n   \"signatures\": [\n      {\n         \"header\": {\n            \"jwk\": {\n"
             "               \"e\": \"" JWK_E "\",\n               \"kid\": \"" JWK_KID "\",\n"
             "               \"kty\": \"RSA\",\n               \"n\": \"" JWK_N "\"\n            },\n"
             "            \"alg\": \"RS256\"\n         },\n         \"signature\": \"");
    if (rc == OK)
        rc = sign(o, input.b.data, input.b.len);
    puts_(o, "\",\n         \"protected\": \"");
    put(o, input.b.data, prot_len);
    puts_(o, "\"\n      }\n   ]\n}");
    em_buf_release(&input.b);
    return rc;
}

char *em_manifest_schema1(ecrmock *m, em_repo *repo, const em_image *img, const char *tag, size_t *len,
                          char digest[ECRMOCK_DIGEST_SIZE], bool *nomem)
{
    *len = 0;
    *nomem = false;
    json_t *mf = json_loadb(img->manifest, img->manifest_len, 0, NULL);
    json_t *layers = json_object_get(mf, "layers");
    const char *cd = em_get_str(json_object_get(mf, "config"), "digest");
    em_layer *l = cd ? em_layer_get(repo, cd) : NULL;
    const em_blob *b = l ? l->blob : NULL;
    if (b && em_blob_declared(b))
        b = NULL; /* a declared config has no bytes to read: nothing converts */
    const char *cfg_text = b && b->data ? (const char *)b->data : "";
    size_t cfg_len = b ? b->len : 0;
    /* The config's text goes into the payload whole: past the payload's
     * bound, it is not read (its tree can take 30 times its bytes). */
    json_t *cfg = b && cfg_len <= SCHEMA1_MAX_PAYLOAD ? json_loadb(cfg_text, cfg_len, 0, NULL) : NULL;
    json_t *history = go_field(cfg, "history");
    const char *arch = "";
    size_t arch_len = 0;
    size_t n = json_array_size(history);
    int rc = json_is_array(layers) && json_is_object(cfg) && json_is_array(history) && n &&
                     field_string(cfg, "architecture", &arch, &arch_len)
                 ? OK
                 : NO;
    entry *es = rc == OK ? em_calloc(n, sizeof *es) : NULL;
    if (rc == OK && !es)
        rc = NOMEM;
    if (rc == OK)
        rc = entries(cfg, cfg_text, cfg_len, layers, es, n);
    out pl = {.max = SCHEMA1_MAX_PAYLOAD}, text = {0};
    if (rc == OK) {
        payload(&pl, repo->name, tag, arch, arch_len, es, n);
        rc = pl.oom ? NOMEM : pl.over ? NO : signed_text(&text, &pl, m->clock_ms);
    }
    if (rc == OK) {
        put(&text, "", 1); /* the NUL */
        rc = text.oom ? NOMEM : OK;
    }
    if (rc == OK)
        em_sha256_digest(pl.b.data, pl.b.len, digest);
    for (size_t i = 0; es && i < n; i++)
        em_buf_release(&es[i].v1.b);
    em_free(es);
    em_buf_release(&pl.b);
    json_decref(cfg);
    json_decref(mf);
    *nomem = rc == NOMEM;
    if (rc != OK) {
        em_buf_release(&text.b);
        return NULL;
    }
    *len = text.b.len - 1;
    return (char *)text.b.data;
}
