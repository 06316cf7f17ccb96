/*
 * What the hot actions' tree-free forms share (areas.h, "the hot actions'
 * tree-free forms"): reading a request's strings from its tokens.
 */
#include <string.h>

#include "areas/areas.h"

const char *em_fast_str(em_fast *f, size_t obj, const char *name, size_t *len, bool *full)
{
    size_t i = em_jget(f->req, obj, name);
    if (!i || f->req->t[i].type != EM_J_STRING)
        return NULL;
    const em_jtok *t = &f->req->t[i];
    if (t->len + 1 > sizeof f->scratch - f->used) {
        *full = true;
        return NULL;
    }
    char *s = f->scratch + f->used;
    size_t n;
    if (t->escaped) {
        n = em_jstr_decode(f->req, i, s);
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
