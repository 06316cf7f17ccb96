/*
 * Fuzz target: the HTTP handler.  The input is an HTTP request as text:
 * "METHOD TARGET" on the first line, then "Name: value" header lines, an
 * empty line and the body.  Each input runs on a fresh instance holding a
 * repository with an image, the control API on (/_ecrmock); every second
 * input also turns SigV4 checks on.
 * Whatever the input, the handler answers a status and a body it owns, and
 * a call it journals reads back with the headers it was sent.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ecrmock.h"
#include "testing/testing.h" /* em_headers_json: what the journal's headers must read back as */

#define MAX_HEADERS 32

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    ecrmock_http_header headers[MAX_HEADERS];
    size_t n_headers = 0;
    char *body = NULL;
    char *line = text, *next;
    char *method = "GET", *target = "/";
    for (int i = 0; line && *line; i++, line = next) {
        next = strstr(line, "\n");
        if (next)
            *next++ = '\0';
        if (i == 0) {
            char *sp = strchr(line, ' ');
            method = line;
            if (sp) {
                *sp = '\0';
                target = sp + 1;
            }
            continue;
        }
        if (!*line) {
            body = next;
            break;
        }
        char *colon = strchr(line, ':');
        if (colon && n_headers < MAX_HEADERS) {
            *colon = '\0';
            headers[n_headers].name = line;
            headers[n_headers].value = colon[1] == ' ' ? colon + 2 : colon + 1;
            n_headers++;
        }
    }
    ecrmock *m = ecrmock_new(NULL);
    json_t *r = NULL, *req = json_pack("{s:s}", "repositoryName", "web");
    ecrmock_call(m, "CreateRepository", req, &r);
    json_decref(req);
    json_decref(r);
    ecrmock_put_layer(m, NULL, "web", "bytes", 5, NULL, NULL);
    ecrmock_http_control_set(m, 1, NULL); /* /_ecrmock too */
    if (size % 2)
        ecrmock_http_credentials_set(m, "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", NULL);
    ecrmock_http_request hr = ECRMOCK_HTTP_REQUEST_INIT;
    hr.method = method;
    hr.target = target;
    hr.headers = headers;
    hr.n_headers = n_headers;
    hr.body = body;
    hr.body_len = body ? strlen(body) : 0;
    ecrmock_http_response resp;
    size_t before = ecrmock_journal_length(m);
    int status = ecrmock_http_handle(m, &hr, &resp); /* the status, or -1 */
    if (status != -1 && (status != resp.status || status < 100 || status > 599 || (resp.body_len && !resp.body)))
        abort();
    /* A call journaled: its headers read back as em_headers_json() makes
     * them, whether the journal kept their text or their tree. */
    if (ecrmock_journal_length(m) == before + 1) {
        json_t *entry = ecrmock_journal_entry(m, -1, NULL), *want = em_headers_json(&hr);
        json_t *got = json_object_get(entry, "headers");
        if (entry && want && !json_equal(got, want))
            abort();
        json_decref(entry);
        json_decref(want);
    }
    ecrmock_http_response_release(&resp); /* always initialised */
    ecrmock_free(m);
    free(text);
    return 0;
}
