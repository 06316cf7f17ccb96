/*
 * testing: what the call path consults for tests: fault rules (faults.c),
 * the journal with its call counts (journal.c), and a request's headers as
 * both show them (headers.c).
 */
#ifndef EM_TESTING_H
#define EM_TESTING_H

#include "areas/areas.h"

#pragma GCC visibility push(hidden)

/* ---- faults, the journal and the headers (faults.c, journal.c, headers.c) ---- */
typedef struct em_fault em_fault;
typedef struct em_journal_entry em_journal_entry;

/* What the fault rules decided for one call.  The call owns it: `rule` is a
 * counted reference, so error, message and body (which point into the rule)
 * stay valid until em_fault_decision_release(), even when a hook or another
 * thread removes the rule meanwhile. */
typedef struct em_fault_decision {
    em_fault *rule;           /* the deciding rule (a reference), or NULL (latency rules only decide time) */
    long rule_id;             /* the deciding rule's id, else the first latency rule's, else 0 */
    ecrmock_fault_effect effect;
    const char *error, *message, *body;
    int status;               /* truncate, malform: 0 (the action's status) unless the rule sets it */
    size_t truncate_at;
} em_fault_decision;

/* Offers a call to the rules (advancing the clock for latency rules); the
 * instance locked.  `headers`: the HTTP request's headers as em_headers_json()
 * gives them, or NULL for a call that came without HTTP (rules matching on a
 * header never fire on it).  Release *d with em_fault_decision_release(). */
void em_faults_decide(ecrmock *m, const em_action *a, json_t *req, json_t *headers, em_fault_decision *d);
/* Drops the decision's reference to its rule and clears it; locked or not. */
void em_fault_decision_release(em_fault_decision *d);
void em_faults_free(ecrmock *m);
/* The JSON name of an effect ("connect-refused"), or NULL. */
const char *em_fault_effect_name(ecrmock_fault_effect effect);
/* Whether a decided effect stands for a transport failure (connect refused,
 * timeout, receive error): by name, never by order, so that an effect
 * appended to the enum is not one unless it is listed here. */
static inline bool em_fault_is_transport(ecrmock_fault_effect e)
{
    switch (e) {
    case ECRMOCK_FAULT_CONNECT_REFUSED:
    case ECRMOCK_FAULT_TIMEOUT:
    case ECRMOCK_FAULT_RECV_ERROR:
        return true;
    default:
        return false;
    }
}
#define EM_FAULT_IS_TRANSPORT(e) em_fault_is_transport(e)

/* What happened to a call, besides its request and answer. */
typedef struct em_journal_note {
    long fault;      /* the deciding rule's id (em_fault_decision.rule_id), or 0 */
    int effect;      /* its effect (ECRMOCK_FAULT_LATENCY when only latency
                        rules fired), or -1: no rule fired */
    bool ran;        /* the action's handler ran */
    json_t *headers; /* borrowed: em_headers_json() of the HTTP request, or NULL;
                        the journal keeps a reference: nothing may change it */
    const ecrmock_http_request *http; /* borrowed: the HTTP request, or NULL; when `headers`
                                         is NULL, the journal writes its headers' JSON text
                                         into its byte ring (no tree; read only in the call) */
    /* The request and response as JSON text that em_json_parse(), or else
     * json_loadb(JSON_DECODE_ANY | JSON_ALLOW_NUL), reads back as exactly
     * `req` and `resp` (the wire level's body as sent, em_journal_text());
     * borrowed, copied when kept.  NULL: the journal keeps a copy of the
     * tree instead. */
    const char *req_text, *resp_text;
    size_t req_len, resp_len;
    /* When not NULL, resp_text[resp_image_at .. resp_image_end) is
     * em_jw_string() of this image's manifest (borrowed): the journal keeps
     * the image and copies the rest of the text (em_image_let_go). */
    em_image *resp_image;
    size_t resp_image_at, resp_image_end;
    const char *plane; /* static: the plane the call came in on ("registry"), or NULL: the API */
    const unsigned char *raw_part; /* borrowed: the registry plane's raw UploadLayerPart bytes, or NULL
                                      (the entry's request is then made from the tree) */
    size_t raw_part_len;
} em_journal_note;

/* A note of nothing yet (no fault, no effect: -1, the handler not run, no
 * text, no headers), member by member: an initializer clears the note with
 * rep stos first, a sixth of the tree-free forms' own time in cache
 * (bench/PROFILE.md, session 8).  Keep it to every member above. */
static inline void em_journal_note_init(em_journal_note *n)
{
    n->fault = 0;
    n->effect = -1;
    n->ran = false;
    n->headers = NULL;
    n->http = NULL;
    n->req_text = n->resp_text = NULL;
    n->req_len = n->resp_len = 0;
    n->resp_image = NULL;
    n->resp_image_at = n->resp_image_end = 0;
    n->plane = NULL;
    n->raw_part = NULL;
    n->raw_part_len = 0;
}

/* Whether a call made now would be recorded (the journal is on and keeps
 * entries); with the lock held. */
bool em_journal_wanted(const ecrmock *m);
/* Asks the CPU for the lines the next record will write (the byte ring's
 * next bytes, as many as action a's last record wrote, up to 4 KB), for
 * writing, when the journal is on: the
 * tree-free forms call it with the lock held, before their work, so that
 * the lines arrive while the call runs rather than at the record, where
 * the unlock waited for them (bench/PROFILE.md, session 8).  Only a hint. */
void em_journal_prefetch(const ecrmock *m, const em_action *a);
/* Counts the call (a call: it reached ECR; a run: its handler ran) and,
 * when the journal is on, records it (copies of the texts the note gives,
 * else of the trees).  `a`: the action, or NULL
 * for a name that is none (then `action` is the name the caller sent).
 * `note` may be NULL: no rule fired, the action did not run, no HTTP. */
void em_journal_record(ecrmock *m, const em_action *a, const char *action, json_t *req, int status, json_t *resp,
                       const em_journal_note *note);
/* The headers of an HTTP request as the journal shows them and fault rules
 * match them (new reference; NULL: no memory): {"lower-case name": "value"},
 * the values of a repeated name joined by ", " in the order sent, each byte
 * of a name or value that starts no UTF-8 sequence as U+FFFD, and the
 * Signature of an Authorization header as "<elided>". */
json_t *em_headers_json(const ecrmock_http_request *http);
/* The most headers the journal keeps as text (em_journal_note.http): its
 * writer groups the names pairwise.  A request with more takes the tree. */
#define EM_HEADERS_TEXT_MAX 32
/* Whether the journal keeps http's headers as text, with no tree. */
bool em_headers_as_text(const ecrmock_http_request *http);
/* The headers a call's note needs beside its `http` when no fault rule
 * reads them: *headers = em_headers_json(http) (a new reference) when the
 * journal cannot keep them as text, else NULL (also for a NULL http).  0,
 * or -1 (*headers NULL): no memory. */
int em_headers_note(const ecrmock_http_request *http, json_t **headers);
/* The headers of one request, planned: each one's name and value lengths,
 * the first header of its name (the member it joins), and the text's
 * bytes. */
typedef struct em_headers_plan {
    const ecrmock_http_header *h;
    size_t n, len;
    size_t name_len[EM_HEADERS_TEXT_MAX], value_len[EM_HEADERS_TEXT_MAX];
    unsigned char first[EM_HEADERS_TEXT_MAX];
    bool auth[EM_HEADERS_TEXT_MAX]; /* named Authorization: its credential elided */
} em_headers_plan;
/* Plans http's headers' text (p->len its bytes); false: more headers than
 * EM_HEADERS_TEXT_MAX (the tree then: em_headers_json()). */
bool em_headers_plan_make(em_headers_plan *p, const ecrmock_http_request *http);
/* The planned text, written at out (p->len bytes) when out is not NULL; its
 * bytes. */
size_t em_headers_text(char *out, const em_headers_plan *p);
void em_journal_free(ecrmock *m);

#pragma GCC visibility pop

#endif
