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

int ecrmock_call_raw(ecrmock *m, const char *target, const char *body, size_t body_len, char **response,
                     size_t *response_len)
{
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
    if (!em_action_find(action)) {
        resp = framework_error("UnknownOperationException", NULL);
        status = 400;
    } else if (body && body_len) {
        json_error_t jerr;
        /* Any JSON value: a top-level string or number is valid JSON, and
         * the validator words its type mismatch like any other. */
        req = json_loadb(body, body_len, JSON_DECODE_ANY, &jerr);
        if (!req) {
            char msg[128];
            if (json_error_code(&jerr) == json_error_numeric_overflow)
                snprintf(msg, sizeof msg, "Numeric value out of range of long (at character %d)", jerr.position);
            else
                snprintf(msg, sizeof msg, "The request body is not valid JSON (at character %d)", jerr.position);
            resp = framework_error("SerializationException", msg);
            status = 400;
        } else {
            status = em_dispatch(m, action, req, &resp);
        }
    } else {
        status = em_dispatch(m, action, NULL, &resp);
    }
    json_decref(req);
    if (status < 0 || !resp || dump(resp, response, response_len) < 0) {
        json_decref(resp);
        return -1;
    }
    json_decref(resp);
    return status;
}
