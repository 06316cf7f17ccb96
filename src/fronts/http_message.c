/*
 * An HTTP response being built (headers, status, body), its release, and
 * the headers of a request (em_header).
 */
#define _GNU_SOURCE /* strcasecmp */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "fronts/fronts.h"

/* ---- responses ------------------------------------------------------------------- */

int em_http_add_header(ecrmock_http_response *r, const char *name, const char *value)
{
    char *n = em_strdup(name), *v = em_strdup(value);
    if (!n || !v || r->n_headers == EM_HTTP_MAX_HEADERS) {
        em_free(n);
        em_free(v);
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
    char n[32];
    r->status = status;
    r->body = body;
    r->body_len = len;
    snprintf(n, sizeof n, "%zu", len);
    if (!body || (type && em_http_add_header(r, "Content-Type", type) < 0) || em_http_add_header(r, "Content-Length", n) < 0)
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
    for (size_t i = 0; i < r->n_headers; i++) {
        em_free((char *)r->headers[i].name);
        em_free((char *)r->headers[i].value);
    }
    em_free(r->headers);
    em_free(r->body);
    memset(r, 0, sizeof *r);
}

const char *ecrmock_http_response_header(const ecrmock_http_response *r, const char *name)
{
    return r && name ? em_header(r->headers, r->n_headers, name) : NULL;
}

const char *em_header(const ecrmock_http_header *h, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (h[i].name && h[i].value && strcasecmp(h[i].name, name) == 0)
            return h[i].value;
    return NULL;
}
