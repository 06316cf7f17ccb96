/*
 * URI encoding as AWS signs it, and the canonical query string (SigV4 and
 * the download URLs).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"

static bool unreserved(unsigned char c)
{
    return isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~';
}

int em_uri_encode(em_buf *b, const char *s, size_t n, bool keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (unreserved(c) || (keep_slash && c == '/')) {
            if (em_buf_append(b, &c, 1) < 0)
                return -1;
        } else {
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};
            if (em_buf_append(b, e, 3) < 0)
                return -1;
        }
    }
    return 0;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* s[0..n) percent-decoded into a new em_malloc'd string, its length (a
 * decoded %00 included) in *len; NULL: no memory. */
static char *decode(const char *s, size_t n, bool plus_space, size_t *len)
{
    char *out = em_malloc(n + 1), *o = out;
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        int h, l;
        if (s[i] == '%' && i + 2 < n && (h = hexval(s[i + 1])) >= 0 && (l = hexval(s[i + 2])) >= 0) {
            *o++ = (char)(h * 16 + l);
            i += 2;
        } else {
            *o++ = plus_space && s[i] == '+' ? ' ' : s[i];
        }
    }
    *o = '\0';
    *len = (size_t)(o - out);
    return out;
}

char *em_uri_decode(const char *s, size_t n, bool plus_space)
{
    size_t len;
    return decode(s, n, plus_space, &len);
}

int em_query_param(const char *query, const char *name, bool plus_space, char **value, size_t *len)
{
    size_t name_len = strlen(name), vlen = 0;
    *value = NULL;
    for (const char *p = query; p && *p;) {
        size_t n = strcspn(p, "&");
        const char *eq = memchr(p, '=', n);
        size_t klen = eq ? (size_t)(eq - p) : n, dlen;
        char *key = n ? decode(p, klen, plus_space, &dlen) : NULL;
        if (n && !key)
            return -1;
        bool match = key && dlen == name_len && memcmp(key, name, name_len) == 0;
        em_free(key);
        if (match) {
            *value = eq ? decode(eq + 1, n - klen - 1, plus_space, &vlen) : em_strdup("");
            if (!*value)
                return -1;
            if (len)
                *len = vlen;
            return 1;
        }
        p += n;
        if (*p == '&')
            p++;
    }
    return 0;
}

typedef struct qparam {
    char *key, *value; /* encoded canonically */
} qparam;

static int qparam_cmp(const void *a, const void *b)
{
    const qparam *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : strcmp(x->value, y->value);
}

/* The canonical query string: each name and value decoded, encoded again
 * with the unreserved set, sorted by name then value. */
static int canonical_query(em_buf *b, const char *q)
{
    size_t count = 0, cap = 0;
    qparam *v = NULL;
    int rc = -1;
    for (const char *p = q; p && *p;) {
        size_t len = strcspn(p, "&");
        if (len) {
            const char *eq = memchr(p, '=', len);
            size_t klen = eq ? (size_t)(eq - p) : len;
            char *k = em_uri_decode(p, klen, false), *val = eq ? em_uri_decode(eq + 1, len - klen - 1, false) : em_strdup("");
            em_buf kb = {0}, vb = {0};
            bool ok = k && val && em_uri_encode(&kb, k, strlen(k), false) == 0 && em_buf_append(&kb, "", 1) == 0 &&
                      em_uri_encode(&vb, val, strlen(val), false) == 0 && em_buf_append(&vb, "", 1) == 0;
            em_free(k);
            em_free(val);
            if (ok && count == cap) {
                qparam *nv = em_realloc(v, (cap ? cap * 2 : 8) * sizeof *v);
                if (nv) {
                    v = nv;
                    cap = cap ? cap * 2 : 8;
                } else {
                    ok = false;
                }
            }
            if (!ok) {
                em_buf_release(&kb);
                em_buf_release(&vb);
                goto out;
            }
            v[count].key = (char *)kb.data;
            v[count].value = (char *)vb.data;
            count++;
        }
        p += len;
        if (*p == '&')
            p++;
    }
    if (count)
        qsort(v, count, sizeof *v, qparam_cmp);
    for (size_t i = 0; i < count; i++) {
        if ((i && em_buf_append(b, "&", 1) < 0) || em_buf_append(b, v[i].key, strlen(v[i].key)) < 0 ||
            em_buf_append(b, "=", 1) < 0 || em_buf_append(b, v[i].value, strlen(v[i].value)) < 0)
            goto out;
    }
    rc = 0;
out:
    for (size_t i = 0; i < count; i++) {
        em_free(v[i].key);
        em_free(v[i].value);
    }
    em_free(v);
    return rc;
}

int em_sigv4_canonical_query(em_buf *b, const char *query)
{
    return canonical_query(b, query);
}
