/*
 * What the hot actions' tree-free forms share (areas.h, "the hot actions'
 * tree-free forms"): reading a request's strings from its tokens, and the
 * repository it names.
 */
#include <stdio.h>
#include <string.h>

#include "areas/areas.h"

const char *em_fast_tok_str(em_fast *f, size_t tok, size_t *len, bool *full)
{
    const em_jtok *t = &f->req->t[tok];
    if (t->type != EM_J_STRING)
        return NULL;
    if (t->len + 1 > sizeof f->scratch - f->used) {
        *full = true;
        return NULL;
    }
    char *s = f->scratch + f->used;
    size_t n;
    if (t->escaped) {
        n = em_jstr_decode(f->req, tok, s);
    } else {
        n = t->len;
        memcpy(s, f->req->text + t->start, n);
        s[n] = '\0';
    }
    f->used += n + 1;
    if (len)
        *len = n;
    return s;
}

const char *em_fast_str(em_fast *f, size_t obj, const char *name, size_t *len, bool *full)
{
    size_t i = em_jget(f->req, obj, name);
    return i ? em_fast_tok_str(f, i, len, full) : NULL;
}

em_repo *em_fast_repo(em_fast *f)
{
    bool full = false;
    const char *reg = em_fast_str(f, 0, "registryId", NULL, &full);
    const char *name = em_fast_str(f, 0, "repositoryName", NULL, &full);
    return full || !name ? NULL : em_repo_get(em_registry_get(f->m, reg ? reg : f->m->account), name);
}

int em_fast_next_token(em_fast *f, const char *scope, uint64_t seq, const char *tag)
{
    em_page_pos next = {.seq = seq};
    if (tag)
        snprintf(next.tag, sizeof next.tag, "%s", tag);
    json_t *tok = em_page_token(f->m, scope, &next);
    int rc = tok && EM_JW_LIT(f->out, "],\"nextToken\":") == 0 &&
                     em_jw_string(f->out, json_string_value(tok), json_string_length(tok)) == 0 &&
                     em_buf_append(f->out, "}", 1) == 0 && em_buf_reserve(f->out, 1) == 0
                 ? 0
                 : -1;
    json_decref(tok);
    return rc;
}
