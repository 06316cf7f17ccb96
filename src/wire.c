/*
 * The wire level: AWS JSON 1.1 bodies in and out, exactly as ECR sends them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static int append(const char *p, size_t n, void *data)
{
    return em_buf_append(data, p, n);
}

/* Serialises a response the way the service does: compact, members in the
 * order they were set, timestamps as epoch seconds with their fraction.
 * The body is malloc'd by ecrmock (not by jansson, whose allocator a
 * program may have replaced), so that free() is always right. */
static int dump(json_t *doc, char **out, size_t *out_len)
{
    em_buf b = {0};
    if (json_dump_callback(doc, append, &b, JSON_COMPACT | JSON_REAL_PRECISION(15)) != 0 ||
        em_buf_append(&b, "", 1) < 0) {
        em_buf_release(&b);
        return -1;
    }
    *out_len = b.len - 1;
    *out = (char *)b.data;
    return 0;
}

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
    return em_call_raw(m, target, body, body_len, response, response_len, NULL);
}

int em_call_raw(ecrmock *m, const char *target, const char *body, size_t body_len, char **response,
                size_t *response_len, ecrmock_fault_effect *transport)
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
    if (!em_action_find(action)) {
        status = em_dispatch(m, action, NULL, &resp, NULL); /* journaled like any call */
    } else if (body && body_len) {
        json_error_t jerr;
        /* Any JSON value: a top-level string or number is valid JSON, and
         * the validator words its type mismatch like any other. */
        req = json_loadb(body, body_len, JSON_DECODE_ANY, &jerr);
        if (!req && json_error_code(&jerr) == json_error_out_of_memory) {
            resp = json_pack("{s:s, s:s}", "__type", "ServerException", "message",
                             "ecrmock ran out of memory while handling the request");
            status = 500;
        } else if (!req) {
            char msg[128];
            if (json_error_code(&jerr) == json_error_numeric_overflow)
                snprintf(msg, sizeof msg, "Numeric value out of range of long (at character %d)", jerr.position);
            else
                snprintf(msg, sizeof msg, "The request body is not valid JSON (at character %d)", jerr.position);
            resp = framework_error("SerializationException", msg);
            status = 400;
            em_lock(m);
            em_journal_record(m, action, NULL, status, resp, 0);
            em_unlock(m);
        } else {
            status = em_dispatch(m, action, req, &resp, &fx);
        }
    } else {
        status = em_dispatch(m, action, NULL, &resp, &fx);
    }
    json_decref(req);
    if (status < 0 || !resp || dump(resp, response, response_len) < 0) {
        json_decref(resp);
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
        return -1;
    }
    return status;
}
