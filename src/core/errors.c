/*
 * ECR's errors: the table behind ecrmock_error_name/status/from_name, and
 * the error documents of errors named by a fault rule or a hook.
 */
#include <stdio.h>
#include <string.h>

#include "core/core.h"

/* ---- errors ------------------------------------------------------------------ */

static const struct {
    const char *name;
    int status;
} errors[] = {
#define ECRMOCK__ERROR_ROW(e, name, status) {name, status},
    ECRMOCK_ERROR_LIST(ECRMOCK__ERROR_ROW)
#undef ECRMOCK__ERROR_ROW
};

const char *ecrmock_error_name(ecrmock_error code)
{
    return (unsigned)code < EM_ERR_COUNT ? errors[code].name : NULL;
}

int ecrmock_error_status(ecrmock_error code)
{
    return (unsigned)code < EM_ERR_COUNT ? errors[code].status : 0;
}

ecrmock_error ecrmock_error_from_name(const char *name)
{
    for (int i = 0; name && i < EM_ERR_COUNT; i++)
        if (strcmp(errors[i].name, name) == 0)
            return (ecrmock_error)i;
    return ECRMOCK_ERR_UNKNOWN;
}

/* ---- ECR's texts (the lists in core.h) ---------------------------------------- */

static const struct {
    ecrmock_error code;
    const char *text;
} messages[] = {
#define EM__MSG_ROW(id, code, params, args, text) {ECRMOCK_ERR_##code, text},
    EM_MESSAGE_LIST(EM__MSG_ROW)
#undef EM__MSG_ROW
};

static const char *const rules[] = {
#define EM__RULE_ROW(id, params, args, text) text,
    EM_RULE_LIST(EM__RULE_ROW)
#undef EM__RULE_ROW
};

ecrmock_error em_message_error(em_msg id)
{
    return (unsigned)id < EM_MSG__COUNT ? messages[id].code : ECRMOCK_ERR_OK;
}

const char *em_message_format(em_msg id)
{
    return (unsigned)id < EM_MSG__COUNT ? messages[id].text : NULL;
}

const char *em_rule_format(em_rule id)
{
    return (unsigned)id < EM_RULE__COUNT ? rules[id] : NULL;
}

static const char *default_message(const char *error)
{
    static const em_msg known[] = {EM_MSG_INJECTED_THROTTLING, EM_MSG_INJECTED_SERVER, EM_MSG_INJECTED_SERVICE_UNAVAILABLE};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcmp(error, ecrmock_error_name(em_message_error(known[i]))) == 0)
            return em_message_format(known[i]);
    return em_message_format(EM_MSG_INJECTED_OTHER);
}

int em_error_status(const char *error)
{
    ecrmock_error code = ecrmock_error_from_name(error);
    return code == ECRMOCK_ERR_UNKNOWN ? 400 : ecrmock_error_status(code);
}

json_t *em_injected_error(const char *error, const char *message)
{
    if (!message)
        message = default_message(error);
    if (em_utf8_ok(error) && em_utf8_ok(message))
        return json_pack("{s:s, s:s}", "__type", error, "message", message);
    /* A hook's strings need not be UTF-8; the error document's must. */
    char *e = em_utf8_copy(error), *msg = em_utf8_copy(message);
    json_t *doc = e && msg ? json_pack("{s:s, s:s}", "__type", e, "message", msg) : NULL;
    em_free(e);
    em_free(msg);
    return doc;
}
