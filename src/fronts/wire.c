/*
 * The wire level: AWS JSON 1.1 bodies in and out, exactly as ECR sends them.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fronts/fronts.h"

/* A framework-level error document, for what never reaches an action. */
static json_t *framework_error(const char *type, const char *message)
{
    if (!message)
        return json_pack("{s:s}", "__type", type);
    return json_pack("{s:s, s:s}", "__type", type, "Message", message);
}

/* A fault rule's damage to the bytes: a cut body, or another body. */
static int apply_wire_fault(const em_fault_decision *fx, char **body, size_t *len)
{
    if (fx->effect == ECRMOCK_FAULT_TRUNCATE) {
        if (fx->truncate_at < *len) {
            *len = fx->truncate_at;
            (*body)[*len] = '\0';
        }
        return 0;
    }
    const char *text = fx->body ? fx->body : "<html><body><h1>502 Bad Gateway</h1></body></html>";
    char *copy = em_strdup(text);
    if (!copy)
        return -1;
    em_free(*body);
    *body = copy;
    *len = strlen(copy);
    return 0;
}

int ecrmock_call_raw(ecrmock *m, const char *target, const char *body, size_t body_len, char **response,
                     size_t *response_len)
{
    return em_call_raw(m, target, body, body_len, response, response_len, NULL, NULL);
}

int em_call_raw(ecrmock *m, const char *target, const char *body, size_t body_len, char **response,
                size_t *response_len, const ecrmock_http_request *http, ecrmock_fault_effect *transport)
{
    if (transport)
        *transport = ECRMOCK_FAULT_ERROR;
    if (response)
        *response = NULL;
    if (response_len)
        *response_len = 0;
    if (!response || !response_len)
        return -1;
    if (!m || !target)
        return -1;

    const char *action = target;
    size_t plen = strlen(ECRMOCK_TARGET_PREFIX);
    if (strncmp(target, ECRMOCK_TARGET_PREFIX, plen) == 0)
        action = target + plen;
    else if (strchr(target, '.'))
        action = ""; /* another service's target: no such operation here */

    json_t *req = NULL, *resp = NULL;
    int status;
    em_fault_decision fx = {0};
    em_wire_io io = {.body = body, .body_len = body_len};
    const em_action *a = em_action_find(action);
    if (!a) {
        status = em_dispatch_http(m, NULL, action, NULL, &resp, NULL, http); /* journaled like any call */
    } else if (body && body_len && (status = em_dispatch_fast(m, a, body, body_len, http, response, response_len)) !=
                                       EM_FAST_DECLINED) {
        return status; /* a hot action answered without a tree (areas.h) */
    } else if (body && body_len) {
        json_error_t jerr;
        /* Any JSON value: a top-level string or number is valid JSON, and
         * the validator words its type mismatch like any other. */
        bool oom = false;
        req = em_json_parse(body, body_len, &oom); /* json_parse.c: jansson's tree, sooner */
        if (!req && !oom)
            req = json_loadb(body, body_len, JSON_DECODE_ANY, &jerr);
        if (!req && (oom || json_error_code(&jerr) == json_error_out_of_memory)) {
            resp = json_pack("{s:s, s:s}", "__type", "ServerException", "message",
                             em_message_format(EM_MSG_OUT_OF_MEMORY));
            status = 500;
        } else if (!req) {
            char msg[128];
            if (json_error_code(&jerr) == json_error_numeric_overflow)
                em_format_text(msg, sizeof msg, EM_MSG_BODY_NUMBER_RANGE, jerr.position);
            else
                em_format_text(msg, sizeof msg, EM_MSG_BODY_NOT_JSON, jerr.position);

            resp = framework_error("SerializationException", msg);
            status = 400;
            em_journal_note note = {.effect = -1, .http = http};
            if (em_headers_note(http, &note.headers) < 0) {
                json_decref(resp);
                resp = NULL; /* no memory */
            } else {
                em_lock(m);
                em_journal_record(m, a, action, json_null(), status, resp, &note); /* no JSON request */
                json_decref(note.headers); /* under the lock: the entry holds them too (dispatch.c) */
                em_unlock(m);
            }
        } else {
            status = em_dispatch_wire(m, a, action, req, &resp, &fx, http, &io);
        }
    } else {
        io.body = NULL; /* no body: the request is {} */
        status = em_dispatch_wire(m, a, action, NULL, &resp, &fx, http, &io);
    }
    json_decref(req);
    if (io.text) { /* written already, for the journal */
        *response = io.text;
        *response_len = io.text_len;
    }
    if (status < 0 || !resp || (!io.text && em_wire_dump(resp, response, response_len) < 0)) {
        em_free(io.text);
        *response = NULL;
        *response_len = 0;
        json_decref(resp);
        em_fault_decision_release(&fx);
        return -1;
    }
    json_decref(resp);
    if (fx.rule && EM_FAULT_IS_TRANSPORT(fx.effect)) {
        if (transport)
            *transport = fx.effect;
    } else if (fx.rule && apply_wire_fault(&fx, response, response_len) < 0) {
        em_free(*response);
        *response = NULL;
        *response_len = 0;
        status = -1;
    } else if (fx.rule && fx.status) {
        status = fx.status; /* the damaged body's own status */
    }
    em_fault_decision_release(&fx); /* the rule may have been removed meanwhile: it lived until here */
    return status;
}
