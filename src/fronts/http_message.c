/*
 * An HTTP response being built (headers, status, body), its release, and
 * the headers of a request (em_header).
 */
#define _GNU_SOURCE /* strcasecmp */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "fronts/fronts.h"

/* ---- responses -------------------------------------------------------------------
 *
 * A response's headers live in one allocation: the array of
 * EM_HTTP_MAX_HEADERS headers, then room for their names and values, so
 * that the common answer (x-amzn-RequestId, Content-Type, Content-Length)
 * costs this block and its body.  A name or value that does not fit in the
 * room has an allocation of its own; release frees those (the strings whose
 * address is outside the room) and the block.  The block's bookkeeping sits
 * before the array: resp->headers points at the array, as callers read it.
 */
#define HEADER_ROOM 320 /* bytes of names and values in the block */

typedef struct header_block {
    size_t used; /* bytes of room taken */
    ecrmock_http_header h[EM_HTTP_MAX_HEADERS];
    char room[HEADER_ROOM];
} header_block;

static header_block *block_of(const ecrmock_http_response *r)
{
    return (header_block *)(void *)((char *)r->headers - offsetof(header_block, h));
}

static bool in_room(const header_block *b, const char *s)
{
    return (uintptr_t)s - (uintptr_t)b->room < HEADER_ROOM;
}

int em_http_headers_new(ecrmock_http_response *r)
{
    header_block *b = em_malloc(sizeof *b);
    if (!b)
        return -1;
    b->used = 0;
    r->headers = b->h;
    r->n_headers = 0;
    return 0;
}

/* A copy of s (len bytes with its NUL) in the room, else on its own; NULL:
 * no memory. */
static char *place(header_block *b, const char *s, size_t len)
{
    char *at;
    if (len <= HEADER_ROOM - b->used) {
        at = b->room + b->used;
        b->used += len;
    } else if (!(at = em_malloc(len))) {
        return NULL;
    }
    return memcpy(at, s, len);
}

int em_http_add_header(ecrmock_http_response *r, const char *name, const char *value)
{
    if (r->n_headers == EM_HTTP_MAX_HEADERS)
        return -1;
    header_block *b = block_of(r);
    size_t used = b->used;
    char *n = place(b, name, strlen(name) + 1), *v = n ? place(b, value, strlen(value) + 1) : NULL;
    if (!v) {
        if (n && !in_room(b, n))
            em_free(n);
        b->used = used;
        return -1;
    }
    r->headers[r->n_headers].name = n;
    r->headers[r->n_headers].value = v;
    r->n_headers++;
    return 0;
}

/* Takes `body` (em_malloc'd, NUL-terminated) into the response, with its
 * Content-Type (NULL: none) and Content-Length. */
int em_http_respond(ecrmock_http_response *r, int status, const char *type, char *body, size_t len)
{
    char d[21];
    d[em_decimal_digits(len, d)] = '\0';
    r->status = status;
    r->body = body;
    r->body_len = len;
    if (!body || (type && em_http_add_header(r, "Content-Type", type) < 0) || em_http_add_header(r, "Content-Length", d) < 0)
        return -1;
    return status;
}

int em_http_respond_text(ecrmock_http_response *r, int status, const char *type, const char *text)
{
    return em_http_respond(r, status, type, em_strdup(text), strlen(text));
}

static int append(const char *p, size_t n, void *data)
{
    return em_buf_append(data, p, n);
}

int em_http_respond_json(ecrmock_http_response *r, int status, const char *type, json_t *doc)
{
    em_buf b = {0};
    if (!doc || json_dump_callback(doc, append, &b, JSON_COMPACT) != 0 || em_buf_append(&b, "", 1) < 0) {
        json_decref(doc);
        em_buf_release(&b);
        return -1;
    }
    json_decref(doc);
    return em_http_respond(r, status, type, (char *)b.data, b.len - 1);
}

void ecrmock_http_response_release(ecrmock_http_response *r)
{
    if (!r)
        return;
    if (r->headers) {
        header_block *b = block_of(r);
        for (size_t i = 0; i < r->n_headers; i++) {
            if (!in_room(b, r->headers[i].name))
                em_free((char *)r->headers[i].name);
            if (!in_room(b, r->headers[i].value))
                em_free((char *)r->headers[i].value);
        }
        em_free(b);
    }
    em_free(r->body);
    memset(r, 0, sizeof *r);
}

const char *ecrmock_http_response_header(const ecrmock_http_response *r, const char *name)
{
    return r && name ? em_header(r->headers, r->n_headers, name) : NULL;
}

const char *em_header(const ecrmock_http_header *h, size_t n, const char *name)
{
    /* The first bytes compared first, most names differ there: | 0x20 makes
     * an ASCII letter's two cases one (two other bytes may also meet; then
     * strcasecmp decides). */
    for (size_t i = 0; i < n; i++)
        if (h[i].name && h[i].value && (h[i].name[0] | 0x20) == (name[0] | 0x20) && strcasecmp(h[i].name, name) == 0)
            return h[i].value;
    return NULL;
}
