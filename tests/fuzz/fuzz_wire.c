/*
 * Fuzz target: the wire entry point.  The first byte picks the action (from
 * the action table, so every action is reached; 255 picks a name that does
 * not exist), the rest is the request body.  Each input runs on a fresh
 * instance holding a repository with an image, a layer and an upload, so
 * that the handlers get past their lookups.  Whatever the input, the answer
 * must be a JSON document with a status ECR uses.  The clock starts a day
 * before its end (ECRMOCK_CLOCK_MAX_MS), so that expiries computed from it
 * (tokens, download URLs, scans, uploads) run at the edge; wire.dict and
 * the corpus's int64-* seeds bring int64 edges and exponents to the members
 * that carry numbers (partFirstByte, partLastByte, maxResults).  The
 * journal keeps the call as text and makes its JSON when asked: its
 * response must write back to the very bytes sent, and its request to those
 * of the body's own JSON, null members dropped (null: the body was not
 * JSON).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fronts/fronts.h"
#include "web_image.h"

static ecrmock *fresh(void)
{
    ecrmock_options o = ECRMOCK_OPTIONS_INIT;
    o.min_part_size = 16;
    o.clock_start_ms = ECRMOCK_CLOCK_MAX_MS - 86400000;
    ecrmock *m = ecrmock_new(&o);
    web_image(m);
    json_t *r = NULL, *req = json_pack("{s:s}", "repositoryName", "web");
    ecrmock_call(m, "InitiateLayerUpload", req, &r); /* upload id from seed 0: stable across inputs */
    json_decref(req);
    json_decref(r);
    return m;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *action = data[0] == 255 ? "NoSuchAction" : em_actions[data[0] % em_action_count].name;
    ecrmock *m = fresh();
    char *out = NULL;
    size_t len = 0;
    int status = ecrmock_call_raw(m, action, (const char *)data + 1, size - 1, &out, &len);
    if (status != -1) {
        if (status != 200 && status != 400 && status != 500)
            abort();
        json_t *doc = json_loadb(out, len, 0, NULL);
        if (!json_is_object(doc) || (status != 200 && !json_is_string(json_object_get(doc, "__type"))))
            abort();
        json_decref(doc);
        json_t *e = ecrmock_journal_entry(m, -1, NULL);
        char *text = NULL, *want = NULL;
        size_t text_len = 0, want_len = 0;
        if (!e || em_wire_dump(json_object_get(e, "response"), &text, &text_len) < 0 || text_len != len ||
            memcmp(text, out, len) != 0)
            abort();
        em_free(text);
        text = NULL;
        /* the request: the body's JSON as the action saw it, or null */
        bool oom = false;
        json_t *body = size > 1 ? em_json_parse((const char *)data + 1, size - 1, &oom) : json_object();
        if (!body && !oom)
            body = json_loadb((const char *)data + 1, size - 1, JSON_DECODE_ANY, NULL);
        if (json_is_null(body)) { /* a body of null is a request of {} */
            json_decref(body);
            body = json_object();
        }
        json_t *req = json_object_get(e, "request");
        if (data[0] == 255) { /* an unknown action: its body is not read */
            if (!json_is_object(req) || json_object_size(req))
                abort();
        } else if (!body) {
            if (!json_is_null(req))
                abort();
        } else {
            /* (nesting past em_journal_text's depth is not compared) */
            json_t *seen = em_json_copy(body, EM_COPY_SHARE_SCALARS | EM_COPY_DROP_NULL_MEMBERS);
            if (seen && em_journal_text(seen, &want, &want_len) == 0 &&
                (em_journal_text(req, &text, &text_len) < 0 || text_len != want_len || memcmp(text, want, want_len)))
                abort();
            json_decref(seen);
        }
        json_decref(body);
        em_free(text);
        em_free(want);
        json_decref(e);
    }
    free(out);
    ecrmock_free(m);
    return 0;
}
