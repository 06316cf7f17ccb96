/*
 * The JSON level: validate the request against the model, run the handler
 * with the instance locked, and turn its outcome into ECR's output or error
 * document.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fronts/fronts.h"
#undef EM_ACTION_ROW


/* The deepest a request may nest: what the wire level's parser takes
 * (jansson's 2048 levels, the top one counted).  A tree a caller built
 * deeper is no JSON body, and the walks of a request (the one below, its
 * copies here and in the journal) recurse: it is refused before them. */
#define REQUEST_MAX_DEPTH 2048

/* What no JSON body can be (null_members()). */
enum { TOO_DEEP = -1, NOT_UTF8 = -2 };

/* A JSON null member is an absent member (AWS JSON 1.1): handlers read
 * members with json_object_get() and must never meet a null.  1 when v (at
 * level `depth`) has one, 0 when not; TOO_DEEP when it nests past
 * REQUEST_MAX_DEPTH, NOT_UTF8 when a member name or a string is not UTF-8
 * (the whole tree walked for those, a null found or not). */
static int null_members(json_t *v, int depth)
{
    const char *key;
    size_t key_len, i;
    json_t *item;
    int found = 0, r;
    if (depth > REQUEST_MAX_DEPTH)
        return TOO_DEEP;
    if (json_is_string(v))
        return em_utf8_okn(json_string_value(v), json_string_length(v)) ? 0 : NOT_UTF8;
    if (json_is_object(v)) {
        json_object_keylen_foreach(v, key, key_len, item) {
            if (!em_utf8_okn(key, key_len)) /* jansson's _nocheck functions make others */
                return NOT_UTF8;
            if ((r = json_is_null(item) ? 1 : null_members(item, depth + 1)) < 0)
                return r;
            found |= r;
        }
    } else if (json_is_array(v)) {
        json_array_foreach(v, i, item) {
            if ((r = null_members(item, depth + 1)) < 0)
                return r;
            found |= r;
        }
    }
    return found;
}

/* Runs the before-hook; 1 when it injected an error (then c->errdoc is set). */
static int run_before_hook(ecrmock *m, em_call *c, const char *action, json_t *req, int *status)
{
    if (!m->before)
        return 0;
    ecrmock_injection inj = {0};
    m->before(m->hook_user, action, req, &inj);
    if (!inj.error)
        return 0;
    json_decref(c->errdoc);
    if (inj.error[0] && (inj.status == 0 || (inj.status >= 400 && inj.status <= 599))) {
        c->errdoc = em_injected_error(inj.error, inj.message);
        *status = inj.status ? inj.status : em_error_status(inj.error);
        return 1;
    }
    /* No error has an empty name or a status outside 400 to 599 (a 200 or a
     * -1 here answered nothing, and -1 to the caller): the hook's mistake,
     * answered as ServerException with what to change. */
    char *why = inj.error[0] ? em_sprintf("ecrmock: a before-hook injected %.128s with status %d; an injected error's "
                                          "status is 400 to 599, or 0 for that error's own",
                                          inj.error, inj.status)
                             : em_sprintf("ecrmock: a before-hook injected an error with an empty name; set "
                                          "ecrmock_injection.error to an AWS error name, like \"ThrottlingException\"");
    c->errdoc = em_injected_error("ServerException", why);
    em_free(why);
    *status = 500;
    return 1;
}

int em_dispatch(ecrmock *m, const char *action, json_t *req, json_t **response, em_fault_decision *wire)
{
    return em_dispatch_http(m, em_action_find(action), action, req, response, wire, NULL);
}

/* The texts of a call's journal entry (em_journal_note): the request's,
 * the wire level's body as sent when `io` has it and it is still the
 * request (not when `cleaned`: it had null members, dropped since; nor when
 * a before-hook, which may change the request, ran), else made from `req`
 * (no handler changes its request);
 * the response's made from `resp`.  What cannot be made as text is left
 * NULL (the journal copies that tree).  *req_text and *resp_text are the
 * caller's to free. */
static void journal_texts(ecrmock *m, em_wire_io *io, bool cleaned, json_t *req, json_t *resp,
                          em_journal_note *note, char **req_text, char **resp_text)
{
    *req_text = *resp_text = NULL;
    if (io && io->body && !cleaned && !m->before) {
        note->req_text = io->body;
        note->req_len = io->body_len;
    } else if (em_journal_text(req, req_text, &note->req_len) == 0) {
        note->req_text = *req_text;
    }
    if (resp && em_journal_text(resp, resp_text, &note->resp_len) == 0)
        note->resp_text = *resp_text;
}

/* em_dispatch_http(), and into member[EM_MEMBER_SIZE] (may be NULL) the
 * request member a failed call names ("" for none); `io` (NULL but at the
 * wire level): see em_dispatch_wire(). */
static int dispatch(ecrmock *m, const em_action *a, const char *action, json_t *req, json_t **response,
                    em_fault_decision *wire, const em_via *via, char *member, em_wire_io *io)
{
    static const em_via none = {0};
    if (!via)
        via = &none;
    const ecrmock_http_request *http = via->http;
    /* The raw part is this call's alone: a call a hook makes meanwhile has its own via. */
    em_call c = {.m = m, .err = ECRMOCK_ERR_OK, .raw_part = via->raw_part, .raw_part_len = via->raw_part_len};
    if (member)
        member[0] = '\0';
    /* The headers as JSON: made here only when the journal cannot keep them
     * as text (em_headers_note), or below when fault rules read them. */
    json_t *owned = NULL, *headers = NULL;
    int nulls = 0;
    if (!req || json_is_null(req))
        req = owned = json_object();
    else if ((nulls = null_members(req, 1)) > 0)
        req = owned = em_json_copy(req, EM_COPY_SHARE_SCALARS | EM_COPY_DROP_NULL_MEMBERS);
    else if (nulls < 0)
        req = owned = json_null(); /* no JSON body: journaled as a body that was not JSON */
    if (!req || em_headers_note(http, &headers) < 0) {
        json_decref(owned);
        return (*response = NULL), -1;
    }
    if (wire)
        memset(wire, 0, sizeof *wire);

    em_lock(m);
    /* Fault rules match on the headers' tree: made for them (m->faults is
     * read under the lock); no memory for it: the call fails, nothing done. */
    if (http && !headers && m->faults && a && nulls >= 0 && !(headers = em_headers_json(http))) {
        em_unlock(m);
        json_decref(owned);
        return (*response = NULL), -1;
    }
    int status = 200;
    em_fault_decision d = {0};
    bool ran = false;
    c.req = req;
    if (!a) {
        /* The framework's answer: a bare __type, no message. */
        c.errdoc = json_pack("{s:s}", "__type", "UnknownOperationException");
        status = 400;
    } else if (nulls < 0) {
        /* The framework's, as for a body that does not parse (wire.c). */
        c.errdoc = json_pack("{s:s, s:s}", "__type", "SerializationException", "Message",
                             nulls == TOO_DEEP
                                 ? "The request is nested more than 2048 levels deep, which no JSON body can be"
                                 : "The request holds a member name or a string that is not UTF-8, which no JSON "
                                   "body can");
        status = 400;
    } else {
        /* Faults act at the front door, before validation, as throttling does. */
        em_faults_decide(m, a, req, headers, &d);
        /* A refused connection or a timeout never reaches the action. */
        if (d.rule && (d.effect == ECRMOCK_FAULT_ERROR || d.effect == ECRMOCK_FAULT_CONNECT_REFUSED ||
                       d.effect == ECRMOCK_FAULT_TIMEOUT)) {
            c.errdoc = em_injected_error(d.error, d.message);
            status = d.status;
        } else if (em_validate(&c, a->input_shape, req) < 0) {
            status = ecrmock_error_status(c.err);
        } else if (!run_before_hook(m, &c, a->name, req, &status)) {
            c.out = json_object();
            ran = c.out != NULL;
            if ((c.out ? a->handler(&c) : em_fail_nomem(&c)) < 0) {
                status = ecrmock_error_status(c.err);
            } else if (d.rule && (d.effect == ECRMOCK_FAULT_APPLY_THEN_ERROR || d.effect == ECRMOCK_FAULT_RECV_ERROR)) {
                /* It happened; the caller just never hears so. */
                c.errdoc = em_injected_error(d.error, d.message);
                status = d.status;
            }
        }
    }
    json_t *resp;
    if (status == 200) {
        resp = c.out;
        c.out = NULL;
    } else {
        resp = c.errdoc;
        c.errdoc = NULL;
    }
    em_journal_note note = {.fault = d.rule_id,
                            .effect = d.rule ? (int)d.effect : d.rule_id ? ECRMOCK_FAULT_LATENCY : -1,
                            .ran = ran,
                            .headers = headers,
                            .http = http,
                            .plane = via->plane,
                            .raw_part = c.raw_part,
                            .raw_part_len = c.raw_part_len};
    /* The status the caller gets: at the wire level a damaged body goes out
     * with its rule's status, when the rule sets one. */
    int journaled = resp ? status : 500;
    if (wire && d.rule && (d.effect == ECRMOCK_FAULT_TRUNCATE || d.effect == ECRMOCK_FAULT_MALFORM) && d.status)
        journaled = d.status;
    char *req_text = NULL, *resp_text = NULL;
    /* A before-hook may have nested the request past what a JSON body can
     * be; the journal's text and copy of it recurse: journaled as null, as
     * a body that was not JSON is. */
    json_t *noted = m->before && em_json_too_deep(req, REQUEST_MAX_DEPTH) ? json_null() : req;
    if (em_journal_wanted(m))
        journal_texts(m, io, owned != NULL, noted, resp, &note, &req_text, &resp_text);
    em_journal_record(m, a, action, noted, journaled, resp, &note);
    em_free(req_text);
    /* The response's bytes are the wire level's too, unless an after-hook
     * (which may change the response) is yet to see it. */
    if (io && resp_text && !m->after && json_is_object(resp)) {
        io->text = resp_text;
        io->text_len = note.resp_len;
    } else {
        em_free(resp_text);
    }
    if (m->after && resp)
        m->after(m->hook_user, a ? a->name : action, req, status, resp);
    /* The journal's entry holds the headers too: this reference goes while
     * the lock is held, never beside another thread's eviction of it
     * (jansson's json_decref() reads the count before it changes it). */
    json_decref(headers);
    em_unlock(m);

    if (member && status != 200)
        memcpy(member, c.member, EM_MEMBER_SIZE);
    json_decref(c.out);
    json_decref(c.errdoc);
    json_decref(owned);
    if (wire && d.rule &&
        (d.effect == ECRMOCK_FAULT_TRUNCATE || d.effect == ECRMOCK_FAULT_MALFORM || EM_FAULT_IS_TRANSPORT(d.effect)))
        *wire = d; /* the caller's now, rule reference and all */
    else
        em_fault_decision_release(&d);
    *response = resp;
    return resp ? status : -1;
}

/* The most tokens a request read by a tree-free form has on the stack. */
#define FAST_TOKENS 256

int em_dispatch_fast(ecrmock *m, const em_action *a, const char *body, size_t len, const ecrmock_http_request *http,
                     char **response, size_t *response_len)
{
    em_fast_handler form = em_fast_form(a);
    if (!form || m->tree_only)
        return EM_FAST_DECLINED;
    em_jtok stack[FAST_TOKENS];
    em_jdoc d;
    if (em_jdoc_read(&d, body, len, true, stack, FAST_TOKENS) != EM_JSCAN_OK)
        return EM_FAST_DECLINED; /* the tree path's parser words the refusal, or runs out of memory itself */
    int rc = EM_FAST_DECLINED;
    /* A null anywhere: the tree path drops it, and journals the request it kept. */
    bool plain = d.t[0].type == EM_J_OBJECT;
    for (size_t i = 0; plain && i < d.n; i++)
        plain = d.t[i].type != EM_J_NULL;
    /* Too many headers for the journal's text: the tree path makes their tree. */
    if (!plain || (http && !em_headers_as_text(http))) {
        em_jdoc_release(&d);
        return EM_FAST_DECLINED;
    }
    em_buf out = {0};
    em_fast f; /* its scratch is written before it is read: not cleared (4 KiB a call) */
    f.m = m;
    f.req = &d;
    f.out = &out;
    f.kept = NULL;
    f.used = 0;
    if (em_buf_reserve(&out, 4096) < 0) { /* most answers fit: one allocation */
        em_jdoc_release(&d);
        return EM_FAST_DECLINED;
    }
    em_lock(m);
    em_journal_prefetch(m, a); /* the record's lines come in while the form runs */
    if (!m->faults && !m->before && !m->after && em_validate_tokens(m, a->input_shape, &d) && form(&f) == 0) {
        out.data[out.len] = '\0'; /* the form left room for it */
        em_journal_note note;
        em_journal_note_init(&note);
        note.ran = true;
        note.http = http;
        note.req_text = body;
        note.req_len = len;
        note.resp_text = (const char *)out.data;
        note.resp_len = out.len;
        if (f.kept) {
            note.resp_image = f.kept;
            note.resp_image_at = f.kept_at;
            note.resp_image_end = f.kept_end;
        }
        em_journal_record(m, a, a->name, NULL, 200, NULL, &note);
        m->fast_answered++;
        *response = (char *)out.data;
        *response_len = out.len;
        out.data = NULL;
        rc = 200;
    }
    em_unlock(m);
    em_buf_release(&out);
    em_jdoc_release(&d);
    return rc;
}

int em_dispatch_http(ecrmock *m, const em_action *a, const char *action, json_t *req, json_t **response,
                     em_fault_decision *wire, const ecrmock_http_request *http)
{
    em_via via = {.http = http};
    return dispatch(m, a, action, req, response, wire, &via, NULL, NULL);
}

int em_dispatch_via(ecrmock *m, const em_action *a, const char *action, json_t *req, json_t **response,
                    em_fault_decision *wire, const em_via *via)
{
    return dispatch(m, a, action, req, response, wire, via, NULL, NULL);
}

int em_dispatch_wire(ecrmock *m, const em_action *a, const char *action, json_t *req, json_t **response,
                     em_fault_decision *wire, const ecrmock_http_request *http, em_wire_io *io)
{
    em_via via = {.http = http};
    io->text = NULL;
    io->text_len = 0;
    return dispatch(m, a, action, req, response, wire, &via, NULL, io);
}

int em_dispatch_member(ecrmock *m, const char *action, json_t *req, json_t **response, char member[EM_MEMBER_SIZE])
{
    return dispatch(m, em_action_find(action), action, req, response, NULL, NULL, member, NULL);
}

int ecrmock_call(ecrmock *m, const char *action, json_t *request, json_t **response)
{
    if (!response)
        return -1;
    *response = NULL;
    if (!m || !action)
        return -1;
    return em_dispatch(m, action, request, response, NULL);
}
