/*
 * Page tokens for DescribeRepositories, ListImages and DescribeImages.
 *
 * A token names the first item of the next page by its creation seq (and,
 * for ListImages, the first tag of that image still to list), so a walk
 * stays correct while items come and go between pages: nothing listed twice,
 * nothing still present skipped.  It is opaque to the caller: base64 of the
 * position and an HMAC over the position and the listing it belongs to
 * (action, registry, repository, filter), so a token altered, invented or
 * taken to another listing is refused as ECR refuses it.
 */
#include <string.h>

#include "core/core.h"

#define MAC_LEN 16

static int mac(ecrmock *m, const char *scope, const unsigned char *payload, size_t n, unsigned char *out)
{
    /* HMAC(key, payload || 0 || scope): the scope is not in the token, so a
     * token only verifies against the listing it was made for. */
    unsigned char full[32];
    unsigned char tmp[8 + EM_TAG_BYTES + 1 + 1024];
    size_t slen = strnlen(scope, 1024);
    memcpy(tmp, payload, n);
    tmp[n] = 0;
    memcpy(tmp + n + 1, scope, slen);
    if (em_mac(m, tmp, n + 1 + slen, full) < 0)
        return -1;
    memcpy(out, full, MAC_LEN);
    return 0;
}

json_t *em_page_token(ecrmock *m, const char *scope, const em_page_pos *pos)
{
    unsigned char raw[8 + EM_TAG_BYTES + MAC_LEN];
    size_t tlen = strnlen(pos->tag, EM_TAG_BYTES - 1);
    for (int i = 0; i < 8; i++)
        raw[i] = (unsigned char)(pos->seq >> (8 * i));
    memcpy(raw + 8, pos->tag, tlen);
    if (mac(m, scope, raw, 8 + tlen, raw + 8 + tlen) < 0)
        return NULL;
    char *s = em_base64(raw, 8 + tlen + MAC_LEN, NULL);
    if (!s)
        return NULL;
    json_t *tok = em_json_string(s);
    em_free(s);
    return tok;
}

int em_page_parse(em_call *c, const char *scope, const char *token, em_page_pos *pos)
{
    unsigned char *raw = NULL;
    size_t n = 0;
    int r = em_unbase64(token, strlen(token), &raw, &n);
    if (r == -2)
        return em_fail_nomem(c);
    bool ok = r == 0 && n >= 8 + MAC_LEN && n <= 8 + EM_TAG_BYTES - 1 + MAC_LEN;
    if (ok) {
        unsigned char want[MAC_LEN];
        if (mac(c->m, scope, raw, n - MAC_LEN, want) < 0) {
            em_free(raw);
            return em_fail_nomem(c);
        }
        ok = memcmp(want, raw + n - MAC_LEN, MAC_LEN) == 0;
    }
    if (ok) {
        pos->seq = 0;
        for (int i = 0; i < 8; i++)
            pos->seq |= (uint64_t)raw[i] << (8 * i);
        size_t tlen = n - 8 - MAC_LEN;
        memcpy(pos->tag, raw + 8, tlen);
        pos->tag[tlen] = '\0';
    }
    em_free(raw);
    if (!ok)
        return em_fail_rule_at(c, "$.nextToken", "NextToken", EM_RULE_INVALID_NEXT_TOKEN);

    return 0;
}

int em_page_refuse(em_call *c, const char *with)
{
    const char *what = em_get_str(c->req, "nextToken") ? "nextToken" : "maxResults";
    if (what[0] == 'm' && !json_object_get(c->req, what))
        return 0;
    return em_fail_rule(c, what, EM_RULE_NOT_WITH, what, with);
}
