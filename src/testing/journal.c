/*
 * The call journal and the per-action call counters.
 *
 * The journal is a ring of the last `journal_limit` calls, holding at most
 * `journal_max_bytes` (the oldest go first).  An entry keeps what the call
 * already had, as text: the wire level's request body as sent, and the
 * response's bytes as the wire level writes them (em_journal_text(), which
 * dispatch.c makes once and the wire level sends), then an HTTP call's
 * headers as JSON text written straight from the request (hdr_text: no
 * tree), one after the other in
 * the journal's byte ring (ring_take): the texts lie in the ring in the
 * entries' order, so that a call's record costs a copy and no allocation,
 * and a full journal reuses the bytes its oldest entry leaves (no malloc
 * and free a call, no pages given back to the system and faulted in again:
 * bench section j, bench/PROFILE.md).  A tree-free BatchGetImage's answer
 * is mostly its first image's manifest, which the store holds: the entry
 * keeps that image (em_journal_note's resp_image) and the ring the rest of
 * the text; the reader's JSON has the manifest written again where it was.
 * An image deleted meanwhile keeps its block (em_image_let_go) in the list
 * of the last entry that keeps it (take_let_go), freed with that entry.
 * What a caller does with its objects afterwards cannot change the record;
 * a reader gets JSON parsed from the text when it asks (entry_json), its own
 * to keep.  The text reads back as exactly the tree the call had (the
 * note's contract, em_journal_note); what has no such text (a string that
 * is not UTF-8, in a JSON-level request) is kept as a copy of the tree.
 */
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "testing/testing.h"

/* How an entry keeps its request or its response. */
typedef enum { BODY_TEXT, BODY_TREE, BODY_DROPPED } body_kind;

typedef struct body {
    body_kind kind;
    size_t len;   /* BODY_TEXT: the text's bytes (in em_journal_entry.text); BODY_DROPPED: those dropped */
    json_t *tree; /* BODY_TREE: the journal's own copy */
} body;

struct em_journal_entry {
    /* text_at first and bytes last: what record_texts reads, the oldest
     * entry's bytes and the next one's text_at, lie side by side in one
     * line of the slots (em_journal_prefetch asks for it).  A member added
     * here is set in entry_start or entry_clear (which says which). */
    size_t text_at;       /* where in the byte ring the request's text then the response's (those of
                             kind BODY_TEXT) then the headers' are; text_len(e) bytes */
    uint64_t seq;
    const char *action;   /* the action's static name, or owned_action */
    char *owned_action;   /* an unknown action's name as sent (UTF-8), or NULL */
    body request, response;
    char *error;          /* the error's name when the response was dropped, or NULL */
    json_t *headers;      /* the HTTP request's (em_headers_json; a reference, never changed), or NULL */
    size_t headers_len;   /* or their JSON text's bytes, in the byte ring after the bodies' (0: none) */
    int status;
    long fault;
    int effect;           /* the effect that fired, or -1 */
    bool ran;
    int64_t at_ms;
    const char *plane;    /* static; NULL: the API */
    /* A response that holds an image's manifest (em_journal_note's
     * resp_image) keeps the image (kept; the image's journal_seq is this
     * entry's, or a later one's) and, in the byte ring, its text but those
     * kept_len bytes from kept_at (response_json writes them again from the
     * manifest).  kept NULL: kept_len 0. */
    uint32_t kept_at, kept_len;
    em_image *kept;
    em_image *let_go;     /* images let go whose last keeping entry is this one: freed with it */
    size_t bytes;         /* counted against journal_max_bytes: the texts' whole lengths, the manifest
                             kept included (text_len(e) + kept_len when it owns nothing) */
};

/* The bytes entry e holds in the byte ring. */
static size_t text_len(const em_journal_entry *e)
{
    return (e->request.kind == BODY_TEXT ? e->request.len : 0) +
           (e->response.kind == BODY_TEXT ? e->response.len - e->kept_len : 0) + e->headers_len;
}

/* Where the i-th held entry lies (0: the oldest; i at most journal_cap):
 * head + i wraps once at most, so a subtraction does what `%` did (a
 * division, four a call: a tenth of a call's journal work in cache). */
static size_t slot_of(const ecrmock *m, size_t i)
{
    size_t k = m->journal_head + i;
    return k >= m->journal_cap ? k - m->journal_cap : k;
}

/* Frees a list of images let go (em_image_let_go), their blocks. */
static void blocks_free(em_image *img)
{
    while (img) {
        em_image *next = img->let_go_next;
        em_image_block_free(img);
        img = next;
    }
}

/* Entry i of the held ones (0: the oldest). */
static em_journal_entry *held(ecrmock *m, size_t i)
{
    return &m->journal[slot_of(m, i)];
}

/* Whether e holds anything outside the byte ring (m->journal_owning
 * counts the held entries that do), its image and the images let go it
 * holds aside (record_texts frees those).
 * One that does not holds texts only, and its bytes are its texts'
 * (text_len) and the manifest it keeps (kept_len). */
static bool owns(const em_journal_entry *e)
{
    return e->owned_action || e->error || e->request.tree || e->response.tree || e->headers;
}

/* What e holds outside the byte ring, released (its ring bytes are the
 * ring's).  The slot is left as it is: no entry is read past journal_len,
 * and the next entry in it is written whole. */
static void entry_release(em_journal_entry *e)
{
    if (e->owned_action || e->error) {
        em_free(e->owned_action);
        em_free(e->error);
    }
    json_decref(e->request.tree);
    json_decref(e->response.tree);
    json_decref(e->headers);
    blocks_free(e->let_go);
}

/* Drops the oldest entry (counted as dropped). */
static void drop_oldest(ecrmock *m)
{
    em_journal_entry *e = &m->journal[m->journal_head];
    m->journal_bytes -= e->bytes;
    m->journal_text_live -= text_len(e);
    if (owns(e))
        m->journal_owning--;
    entry_release(e);
    m->journal_head = slot_of(m, 1);
    m->journal_len--;
    m->journal_dropped++;
}

void em_journal_free(ecrmock *m)
{
    blocks_free(m->let_go);
    m->let_go = NULL;
    for (size_t i = 0; i < m->journal_len; i++)
        entry_release(held(m, i));
    em_free(m->journal);
    em_free(m->journal_text);
    m->journal = NULL;
    m->journal_text = NULL;
    m->journal_text_cap = m->journal_text_end = m->journal_text_live = 0;
    m->journal_len = m->journal_head = m->journal_cap = 0;
    m->journal_dropped = 0;
    m->journal_owning = 0;
    m->journal_bytes = 0;
}

/* A registry-plane UploadLayerPart's request (copied, in the entry):
 * layerPartLength becomes the part's bytes as the JSON level sends them,
 * base64 layerPartBlob, so that the entry is the call a recording replays.
 * -1: no memory. */
static int registry_part(json_t *req, const unsigned char *part, size_t len)
{
    size_t n;
    char *b64 = em_base64(part, len, &n);
    json_t *blob = b64 ? json_stringn_nocheck(b64, n) : NULL;
    em_free(b64);
    if (!blob || json_object_set_new_nocheck(req, "layerPartBlob", blob) < 0)
        return -1;
    json_object_del(req, "layerPartLength");
    return 0;
}

/* About the bytes `v` takes as compact JSON text (a tree the journal keeps,
 * its headers): what it counts against journal_max_bytes. */
static size_t tree_bytes(json_t *v)
{
    const char *key;
    json_t *item;
    size_t i, n = 2;
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        json_object_foreach(v, key, item)
            n += json_object_iter_key_len(json_object_key_to_iter(key)) + 4 + tree_bytes(item);
        return n;
    case JSON_ARRAY:
        json_array_foreach(v, i, item)
            n += 1 + tree_bytes(item);
        return n;
    case JSON_STRING: return json_string_length(v) + 2;
    default: return 24;
    }
}

/* The most bytes of the byte ring em_journal_prefetch asks for. */
#define PREFETCH_MAX 4096

void em_journal_prefetch(const ecrmock *m, const em_action *a)
{
    if (!em_journal_wanted(m) || !m->journal_text || !m->journal_cap)
        return;
    /* As many lines as the action's last record took (a line more: the
     * text starts mid-line; one line the first time): asking for 2 KB
     * whatever the call writes filled the core's line fill buffers and
     * held the call up (bench/PROFILE.md, session 9). */
    const char *text = m->journal_text + m->journal_text_end;
    size_t want = m->journal_last[a - em_actions] + 64, room = m->journal_text_cap - m->journal_text_end;
    size_t n = want < room ? want : room;
    n = n < PREFETCH_MAX ? n : PREFETCH_MAX;
    for (size_t i = 0; i < n; i += 64)
        __builtin_prefetch(text + i, 1, 3);
    /* What record_texts reads: the oldest entry's bytes and the next one's
     * text_at, side by side (the next slot's first bytes follow the oldest's
     * last, but when the oldest is the array's last). */
    if (m->journal_len >= 2 && m->journal_len == m->journal_cap) {
        const em_journal_entry *old = &m->journal[m->journal_head];
        __builtin_prefetch(&old->kept_len, 0, 3);
        __builtin_prefetch(&old->bytes, 0, 3);
    }
}

bool em_journal_wanted(const ecrmock *m)
{
    return m->journal_on && m->opts.journal_limit > 0;
}

/* One body of a new entry: its text when the note gives one (copied later
 * into the entry's text), else a copy of its tree (`dflt` when v is NULL). */
static int body_take(body *b, const char *text, size_t len, json_t *v, json_t *(*dflt)(void))
{
    if (text) {
        *b = (body){.kind = BODY_TEXT, .len = len};
        return 0;
    }
    *b = (body){.kind = BODY_TREE, .tree = v ? em_json_copy(v, 0) : dflt()};
    if (!b->tree)
        return -1;
    b->len = tree_bytes(b->tree);
    return 0;
}

static size_t body_bytes(const body *b)
{
    return b->kind == BODY_DROPPED ? 0 : b->len;
}

/* Drops body b of e (over journal_max_bytes): it says how many bytes it
 * had.  The response's manifest goes with it. */
static void body_drop(em_journal_entry *e, body *b)
{
    e->bytes -= b->len;
    json_decref(b->tree);
    *b = (body){.kind = BODY_DROPPED, .len = b->len};
    if (b == &e->response) {
        e->kept = NULL;
        e->kept_at = e->kept_len = 0;
    }
}

/* The image whose manifest a new entry keeps rather than copy it; NULL when
 * the note gives none, or when its text does not hold it where the note
 * says. */
static em_image *keep_manifest(const em_journal_note *note)
{
    em_image *img = note->resp_image;
    return img && note->resp_text && note->resp_image_at <= note->resp_image_end &&
                   note->resp_image_end <= note->resp_len && note->resp_len <= UINT32_MAX
               ? img
               : NULL;
}

/* Entry e keeps `img`'s manifest, where the note says. */
static void entry_keep(em_journal_entry *e, em_image *img, const em_journal_note *note)
{
    e->kept = img;
    e->kept_at = (uint32_t)note->resp_image_at;
    e->kept_len = (uint32_t)(note->resp_image_end - note->resp_image_at);
}

/* Copies the response's text into the ring at t, but the manifest's bytes
 * the entry keeps; where the copy ends. */
static char *copy_response(char *t, const em_journal_entry *e, const char *text)
{
    size_t len = e->response.len;
    if (!e->kept)
        return (char *)memcpy(t, text, len) + len;
    size_t after = e->kept_at + e->kept_len;
    memcpy(t, text, e->kept_at);
    memcpy(t + e->kept_at, text + after, len - after);
    return t + len - e->kept_len;
}

/* ---- the byte ring ---------------------------------------------------------------
 *
 * The texts of the held entries lie in journal_text in the entries' order,
 * from the oldest entry's text_at, round the end of the ring, to
 * journal_text_end, where the next text goes.  A text never wraps: when it
 * does not fit before the ring's end it starts again at 0, and the end's
 * bytes stay unused until the oldest entry passes them.  The ring is never
 * filled to the last byte, so that the start and the end meet only when the
 * ring holds nothing.  When a text does not fit, the ring grows in place to
 * twice what the texts reach with it (ring_grow: no copy where the
 * allocator can extend the block, as it does a large one), the older piece
 * of the texts moved to the new end when they go round it.  A ring 8 times
 * what it holds (it held a large text, or journal_max_bytes was lowered) is
 * made anew, its texts copied in order (ring_remake).  A ring twice what it
 * holds has room at its start by the time the end is reached, so that a
 * full journal whose calls keep their size never grows it. */


/* The byte ring's sizes are multiples of this. */
#define RING_STEP ((size_t)64 << 10)

/* A new ring for `need` bytes: twice that, in 64 KiB steps (0: more than
 * a size_t counts). */
static size_t ring_size(size_t need)
{
    const size_t step = RING_STEP;
    if (need > (SIZE_MAX - 2 * step) / 2)
        return 0;
    size_t n = 2 * need + step;
    return n - n % step;
}

/* Where a text of len bytes (> 0) goes when the `gone` oldest held entries
 * go first, or -1 when a new ring is needed.  Entries hold no bytes before
 * the oldest kept entry's text_at nor after journal_text_end. */
static inline __attribute__((always_inline)) long ring_place(const ecrmock *m, size_t len, size_t start, bool any)
{
    size_t cap = m->journal_text_cap, end = m->journal_text_end;
    if (!any || start == end) /* nothing held: the ring is all room */
        return len < cap ? (long)(len <= cap - end ? end : 0) : -1;
    if (start < end) /* held: [start, end); room after end, or at 0 before start */
        return len <= cap - end ? (long)end : len < start ? 0 : -1;
    return len < start - end ? (long)end : -1; /* held: [start, cap) and [0, end) */
}

/* Copies the texts of the held entries but the `gone` oldest into a new
 * ring of `cap` bytes, in order from 0; -1 (nothing changed): no memory. */
static int ring_remake(ecrmock *m, size_t gone, size_t cap)
{
    char *ring = em_malloc(cap);
    if (!ring)
        return -1;
    size_t at = 0;
    for (size_t i = gone; i < m->journal_len; i++) {
        em_journal_entry *e = held(m, i);
        size_t n = text_len(e);
        if (n)
            memcpy(ring + at, m->journal_text + e->text_at, n);
        e->text_at = at;
        at += n;
    }
    em_free(m->journal_text);
    m->journal_text = ring;
    m->journal_text_cap = cap;
    m->journal_text_end = at;
    return 0;
}

/* A text of len bytes that does not fit: the ring made larger in place
 * (realloc: a large block grows without a copy), the texts held from
 * `start` (the oldest kept entry's) left where they are when they lie in
 * one piece, the new text after them; when they go round the end, the
 * older piece, [start, the old end), moved to the new end and its entries
 * told.  Where the text goes, or -1 (nothing changed). */
static long ring_grow(ecrmock *m, size_t len, size_t gone, size_t start)
{
    size_t cap = m->journal_text_cap, end = m->journal_text_end;
    bool wrapped = start > end;
    size_t reach = wrapped ? cap - start + end : end; /* what the held texts span, as laid out after */
    size_t want = reach <= SIZE_MAX - len - 1 ? reach + len + 1 : 0;
    size_t grown = want ? ring_size(want > cap ? want : cap + 1) : 0;
    if (!grown || grown > (size_t)LONG_MAX)
        return -1;
    char *ring = em_realloc(m->journal_text, grown);
    if (!ring)
        return -1;
    if (wrapped) {
        size_t older = cap - start, moved = grown - cap;
        memmove(ring + grown - older, ring + start, older);
        for (size_t i = gone; i < m->journal_len; i++) {
            em_journal_entry *e = held(m, i);
            if (e->text_at >= start)
                e->text_at += moved;
        }
    }
    m->journal_text = ring;
    m->journal_text_cap = grown;
    return (long)end;
}

/* The bytes of the held entries' texts but the `gone` oldest's. */
static size_t kept_texts(ecrmock *m, size_t gone)
{
    size_t kept = m->journal_text_live;
    for (size_t i = 0; i < gone; i++)
        kept -= text_len(held(m, i));
    return kept;
}

/* Whether a new ring for what stays, `kept` bytes and a text of `len`
 * (ring_size(kept + len + 1)), would be at most a quarter of one of `cap`
 * bytes, without ring_size's arithmetic: that size, 2 (kept + len + 1) +
 * step rounded down to a step, is at most cap / 4 when it is at most q,
 * the largest multiple of step not above cap / 4, that is when
 * kept + len + 1 < q / 2. */
static bool ring_oversized(size_t cap, size_t kept, size_t len)
{
    const size_t step = RING_STEP;
    size_t half = cap / 4 / step * step / 2;
    return kept < half && len < half - kept - 1;
}

/* Room for a text of len bytes in the ring, the `gone` oldest held entries
 * going first (their bytes counted as room: `kept`, the texts' bytes that
 * stay, kept_texts): where it goes, or -1 (nothing changed) when no ring of
 * that size can be had.  A new ring's size is computed only when one is
 * made (ring_oversized says whether without it; bench/PROFILE.md, session
 * 10). */
static inline __attribute__((always_inline)) long ring_take(ecrmock *m, size_t len, size_t gone, size_t kept)
{
    if (!len)
        return (long)m->journal_text_end;
    bool any = gone < m->journal_len;
    size_t start = any ? held(m, gone)->text_at : 0;
    if (!m->journal_text) { /* the first text */
        size_t cap = kept < SIZE_MAX - len ? ring_size(kept + len + 1) : 0;
        return cap && cap <= (size_t)LONG_MAX && ring_remake(m, gone, cap) == 0 ? (long)m->journal_text_end : -1;
    }
    long at = ring_place(m, len, start, any);
    if (at < 0)
        return ring_grow(m, len, gone, start);
    /* A ring 4 times larger than a new one would be (it held a large text,
     * or journal_max_bytes was lowered) is made anew when it can be. */
    if (ring_oversized(m->journal_text_cap, kept, len) && ring_remake(m, gone, ring_size(kept + len + 1)) == 0)
        return (long)m->journal_text_end;
    return at;
}

/* A new entry of `action` with the note's status and fault, the journal's
 * next seq and the clock, keeping no image: what both records write of
 * every entry.  Member by member: an initializer clears the whole entry
 * first, which GCC does with `rep stos`, a quarter of the record's time in
 * cache; and a compound literal for the bodies was built on the stack and
 * read back across two stores (a stall).  The members that say where the
 * texts are, and those that own something, are entry_clear's: the general
 * path clears them, and record_texts writes its texts' over a slot that
 * owns nothing (owns(): those members are NULL), a dozen stores fewer
 * (bench/PROFILE.md, session 10).  A member added to em_journal_entry is
 * set here or in entry_clear (and, when it owns something, read by owns()). */
static void entry_start(em_journal_entry *e, ecrmock *m, const char *action, int status, const em_journal_note *note)
{
    e->seq = ++m->journal_seq;
    e->action = action;
    e->status = status;
    e->fault = note->fault;
    e->effect = note->effect;
    e->ran = note->ran;
    e->at_ms = m->clock_ms;
    e->plane = note->plane;
    e->kept = NULL;
    e->kept_at = e->kept_len = 0;
    e->let_go = NULL;
}

/* Entry e holding no text and owning nothing yet: the rest of the general
 * path's start (entry_start). */
static void entry_clear(em_journal_entry *e)
{
    e->text_at = 0;
    e->owned_action = NULL;
    e->request.kind = e->response.kind = BODY_DROPPED;
    e->request.len = e->response.len = 0;
    e->request.tree = e->response.tree = NULL;
    e->error = NULL;
    e->headers = NULL;
    e->headers_len = 0;
    e->bytes = 0;
}

/* The common record, in a few stores: a known action's call that came
 * with its texts (no tree to copy, no raw part), into a journal full at
 * its limit whose entries own nothing but their ring bytes, where the
 * oldest entry going makes room for this one's bytes.  It does what the
 * general path below does then (its gone is 1), reading of the oldest
 * entry only its bytes (its texts', as it owns nothing) and, in ring_take,
 * of the next one where its text starts (em_journal_prefetch asked for
 * both).  False, with nothing changed: the general path records the call.
 * tests/unit/test_journal.c holds the two paths to the same journal. */
static bool record_texts(ecrmock *m, const em_action *a, int idx, int status, const em_journal_note *note)
{
    size_t held_n = m->journal_len;
    if (!a || m->journal_general || m->journal_owning || !m->journal_text || held_n < 2 ||
        held_n != m->journal_cap || held_n != m->opts.journal_limit || !note->req_text || !note->resp_text ||
        note->raw_part || note->headers)
        return false;
    em_headers_plan plan;
    size_t headers_len = 0;
    if (note->http) {
        if (!em_headers_plan_make(&plan, note->http))
            return false; /* too many headers: their tree */
        headers_len = plan.len;
    }
    em_journal_entry *old = &m->journal[m->journal_head];
    size_t bytes = note->req_len + note->resp_len + headers_len, max = m->opts.journal_max_bytes;
    if (bytes > max || m->journal_bytes - old->bytes > max - bytes)
        return false; /* more than the oldest goes */
    em_image *kept = keep_manifest(note);
    size_t len = bytes - (kept ? note->resp_image_end - note->resp_image_at : 0);
    size_t old_len = old->bytes - old->kept_len;
    long at = ring_take(m, len, 1, m->journal_text_live - old_len);
    if (at < 0) {
        m->journal_dropped++; /* as the general path: a record lost to memory is counted */
        return true;
    }
    blocks_free(old->let_go);
    m->journal_bytes -= old->bytes;
    m->journal_text_live -= old_len;
    m->journal_head = slot_of(m, 1);
    m->journal_dropped++;
    /* The new entry takes the oldest's slot, written in place: one built
     * aside and copied in was read back across its stores (a stall each).
     * The slot owns nothing (journal_owning is 0): what entry_clear would
     * clear is clear, but the members written below. */
    em_journal_entry *e = old;
    entry_start(e, m, a->name, status, note);
    if (kept) {
        entry_keep(e, kept, note);
        kept->journal_seq = e->seq;
    }
    e->text_at = (size_t)at;
    e->request.kind = e->response.kind = BODY_TEXT;
    e->request.len = note->req_len;
    e->response.len = note->resp_len;
    e->headers_len = headers_len;
    e->bytes = bytes;
    char *t = m->journal_text + at;
    memcpy(t, note->req_text, note->req_len);
    t = copy_response(t + note->req_len, e, note->resp_text);
    if (headers_len)
        em_headers_text(t, &plan);
    m->journal_text_end = (size_t)at + len;
    m->journal_text_live += len;
    m->journal_bytes += bytes;
    m->journal_last[idx] = len < UINT32_MAX ? (uint32_t)len : UINT32_MAX;
    return true;
}

/* The images let go since the last call (m->let_go), each freed when no
 * held entry keeps its manifest, else put in the list of the last entry
 * that does, its journal_seq (the held entries' seqs rise from the oldest;
 * entries go oldest first, so that when that one went, so did any other
 * that kept it), to be freed with it. */
static void take_let_go(ecrmock *m)
{
    em_image *img = m->let_go;
    m->let_go = NULL;
    while (img) {
        em_image *next = img->let_go_next;
        size_t lo = 0, hi = m->journal_len; /* the first held entry of seq >= the image's */
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (held(m, mid)->seq < img->journal_seq)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo == m->journal_len || held(m, lo)->seq != img->journal_seq) {
            em_image_block_free(img); /* that entry went, and the older ones before it */
        } else {
            em_journal_entry *e = held(m, lo);
            img->let_go_next = e->let_go;
            e->let_go = img;
        }
        img = next;
    }
}

void em_journal_record(ecrmock *m, const em_action *a, const char *action, json_t *req, int status, json_t *resp,
                       const em_journal_note *note)
{
    static const em_journal_note nothing = {.effect = -1};
    if (!note)
        note = &nothing;
    int idx = -1;
    if (a) {
        idx = (int)(a - em_actions);
        action = a->name;
    }
    /* A refused connection or a timeout never reached ECR: not a call. */
    if (note->effect != ECRMOCK_FAULT_CONNECT_REFUSED && note->effect != ECRMOCK_FAULT_TIMEOUT)
        m->calls[idx < 0 ? EM_MAX_ACTIONS : idx]++;
    if (note->ran && idx >= 0)
        m->runs[idx]++;
    if (m->let_go)
        take_let_go(m);
    if (!em_journal_wanted(m) || record_texts(m, a, idx, status, note))
        return;
    if (!m->journal) {
        size_t cap = m->opts.journal_limit < 64 ? m->opts.journal_limit : 64;
        m->journal = em_calloc(cap, sizeof *m->journal);
        if (!m->journal) {
            m->journal_dropped++; /* the journal is a test aid: a record lost to memory is counted */
            return;
        }
        m->journal_cap = cap;
    } else if (m->journal_len == m->journal_cap && m->journal_cap < m->opts.journal_limit) {
        size_t cap = m->journal_cap * 2 < m->opts.journal_limit ? m->journal_cap * 2 : m->opts.journal_limit;
        em_journal_entry *j = em_calloc(cap, sizeof *j);
        if (j) {
            for (size_t i = 0; i < m->journal_len; i++)
                j[i] = *held(m, i);
            em_free(m->journal);
            m->journal = j;
            m->journal_cap = cap;
            m->journal_head = 0;
        }
    }
    em_journal_entry e;
    entry_start(&e, m, action, status, note);
    entry_clear(&e);
    bool ok = true;
    if (!a)
        ok = (e.action = e.owned_action = em_utf8_copy(action)) != NULL;
    /* a registry-plane part: the request from the tree, the part's bytes put in */
    ok = ok && body_take(&e.request, note->raw_part ? NULL : note->req_text, note->req_len, req, json_object) == 0 &&
         body_take(&e.response, note->resp_text, note->resp_len, resp, json_null) == 0;
    em_image *kept = ok && e.response.kind == BODY_TEXT ? keep_manifest(note) : NULL;
    if (kept)
        entry_keep(&e, kept, note);
    if (ok && note->raw_part) {
        ok = registry_part(e.request.tree, note->raw_part, note->raw_part_len) == 0;
        e.request.len = tree_bytes(e.request.tree);
    }
    /* The headers: the tree the note has (fault rules read it), else their
     * text, written into the ring below (or the tree, when too many). */
    em_headers_plan plan;
    if (note->headers)
        e.headers = json_incref(note->headers);
    else if (note->http && em_headers_plan_make(&plan, note->http))
        e.headers_len = plan.len;
    else if (note->http)
        ok = ok && (e.headers = em_headers_json(note->http)) != NULL;
    e.bytes = body_bytes(&e.request) + body_bytes(&e.response) + (e.headers ? tree_bytes(e.headers) : e.headers_len);
    /* Larger than the journal may hold: a stub, its bodies dropped (the
     * request first: the part bytes of an upload are there). */
    size_t max = m->opts.journal_max_bytes;
    if (ok && e.bytes > max && e.request.len)
        body_drop(&e, &e.request);
    if (ok && e.bytes > max && e.response.len) {
        const char *type = json_string_value(json_object_get(resp, "__type"));
        if (status != 200 && type)
            ok = (e.error = em_strdup(type)) != NULL;
        body_drop(&e, &e.response);
    }
    /* The oldest entries that go for this one: over the bytes, or the entries. */
    size_t gone = 0, bytes = m->journal_bytes;
    while (gone < m->journal_len && bytes + e.bytes > max)
        bytes -= held(m, gone++)->bytes;
    if (m->journal_len - gone == m->journal_cap)
        gone++;
    long at = ok ? ring_take(m, text_len(&e), gone, kept_texts(m, gone)) : -1;
    if (at < 0) {
        entry_release(&e);
        m->journal_dropped++;
        return;
    }
    while (gone--)
        drop_oldest(m);
    e.text_at = (size_t)at;
    if (text_len(&e)) {
        char *t = m->journal_text + e.text_at;
        if (e.request.kind == BODY_TEXT && e.request.len)
            t = (char *)memcpy(t, note->req_text, e.request.len) + e.request.len;
        if (e.response.kind == BODY_TEXT && e.response.len)
            t = copy_response(t, &e, note->resp_text);
        if (e.headers_len)
            em_headers_text(t, &plan);
    }
    m->journal_text_end = e.text_at + text_len(&e);
    m->journal_text_live += text_len(&e);
    if (idx >= 0)
        m->journal_last[idx] = text_len(&e) < UINT32_MAX ? (uint32_t)text_len(&e) : UINT32_MAX;
    if (e.kept)
        e.kept->journal_seq = e.seq;
    m->journal[slot_of(m, m->journal_len)] = e;
    m->journal_len++;
    m->journal_bytes += e.bytes;
    if (owns(&e))
        m->journal_owning++;
}

/* The JSON of text[0..len) as the note's contract reads it (new reference;
 * NULL: no memory). */
static json_t *text_json(const char *text, size_t len)
{
    bool oom = false;
    json_t *v = em_json_parse(text, len, &oom);
    if (!v && !oom)
        v = json_loadb(text, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    return v;
}

/* Body b of e as a reader gets it (new reference, the reader's alone; NULL:
 * no memory); `at` is where its text starts in the byte ring. */
static json_t *body_json(const body *b, const char *at)
{
    switch (b->kind) {
    case BODY_TEXT: return text_json(at, b->len);
    case BODY_TREE: return em_json_copy(b->tree, 0);
    default: return json_null();
    }
}

/* What entry e dropped over journal_max_bytes: {"request": bytes,
 * "response": bytes}, the bodies it no longer has (new reference); NULL
 * when it dropped none, or no memory (*oom). */
static json_t *dropped_json(const em_journal_entry *e, bool *oom)
{
    *oom = false;
    if (e->request.kind != BODY_DROPPED && e->response.kind != BODY_DROPPED)
        return NULL;
    json_t *d = json_object();
    if (!d || (e->request.kind == BODY_DROPPED && em_set(d, "request", json_integer((json_int_t)e->request.len)) < 0) ||
        (e->response.kind == BODY_DROPPED && em_set(d, "response", json_integer((json_int_t)e->response.len)) < 0)) {
        json_decref(d);
        *oom = true;
        return NULL;
    }
    return d;
}

/* The response of e as a reader gets it (new reference; NULL: no memory),
 * its text at `at` in the byte ring: with the manifest it keeps by its image
 * written again where the call's answer had it, as em_jw_string() wrote it
 * there. */
static json_t *response_json(const em_journal_entry *e, const char *at)
{
    if (!e->kept)
        return body_json(&e->response, at);
    em_buf b = {0};
    size_t after = e->response.len - e->kept_at - e->kept_len;
    json_t *v = NULL;
    if (em_buf_reserve(&b, e->response.len) == 0 && em_buf_append(&b, at, e->kept_at) == 0 &&
        em_jw_string(&b, e->kept->manifest, e->kept->manifest_len) == 0 &&
        em_buf_append(&b, at + e->kept_at, after) == 0)
        v = text_json((const char *)b.data, b.len);
    em_buf_release(&b);
    return v;
}

/* Entry e as the caller gets it (new reference): its request and response
 * are made for it (read from the texts, or copies of the trees), so that
 * the caller may change them, or drop them on another thread, without
 * touching the journal's (jansson's reference counts are not a lock). */
static json_t *entry_json(const ecrmock *m, const em_journal_entry *e)
{
    const char *text = text_len(e) ? m->journal_text + e->text_at : NULL;
    const char *resp_at = text ? text + (e->request.kind == BODY_TEXT ? e->request.len : 0) : NULL;
    const char *headers_at = text ? resp_at + (e->response.kind == BODY_TEXT ? e->response.len - e->kept_len : 0) : NULL;
    json_t *response = response_json(e, resp_at);
    json_t *o = response ? json_pack("{s:I, s:s, s:o, s:i}", "seq", (json_int_t)e->seq, "action", e->action,
                                     "request", body_json(&e->request, text), "status", e->status)
                         : NULL;
    bool oom;
    json_t *dropped = o ? dropped_json(e, &oom) : NULL;
    const char *type = e->error ? e->error : json_string_value(json_object_get(response, "__type"));
    if (!o || oom || (e->status != 200 && type && em_set(o, "error", json_string(type)) < 0)) {
        json_decref(response);
        json_decref(dropped);
        json_decref(o);
        return NULL;
    }
    if (em_set(o, "response", response) < 0 || em_set(o, "time", em_time(e->at_ms)) < 0 ||
        em_set(o, "ran", json_boolean(e->ran)) < 0 || (e->fault && em_set(o, "fault", json_integer(e->fault)) < 0) ||
        (e->effect >= 0 && em_set(o, "effect", json_string(em_fault_effect_name(e->effect))) < 0) ||
        (e->headers && em_set(o, "headers", json_deep_copy(e->headers)) < 0) ||
        (e->headers_len && em_set(o, "headers", text_json(headers_at, e->headers_len)) < 0) ||
        (e->plane && em_set(o, "plane", json_string(e->plane)) < 0)) {
        json_decref(dropped);
        json_decref(o);
        return NULL;
    }
    if (dropped && em_set(o, "dropped", dropped) < 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

void ecrmock_journal_enable(ecrmock *m, int on)
{
    if (!m)
        return;
    em_lock(m);
    m->journal_on = on != 0;
    em_unlock(m);
}

void ecrmock_journal_clear(ecrmock *m)
{
    if (!m)
        return;
    em_lock(m);
    em_journal_free(m);
    em_unlock(m);
}

size_t ecrmock_journal_length(ecrmock *m)
{
    if (!m)
        return 0;
    em_lock(m);
    size_t n = m->journal_len;
    em_unlock(m);
    return n;
}

size_t ecrmock_journal_dropped(ecrmock *m)
{
    if (!m)
        return 0;
    em_lock(m);
    size_t n = m->journal_dropped;
    em_unlock(m);
    return n;
}

json_t *ecrmock_journal_entry(ecrmock *m, long index, ecrmock_err *err)
{
    em_err_clear(err);
    if (!m) {
        em_err_arg(err, "no instance (m is NULL)");
        return NULL;
    }
    em_lock(m);
    json_t *o = NULL;
    long len = (long)m->journal_len;
    long at = index < 0 ? index + len : index;
    bool there = at >= 0 && at < len;
    if (there)
        o = entry_json(m, held(m, (size_t)at));
    em_unlock(m);
    if (!there)
        em_err_arg(err, "no journal entry %ld: the journal holds %ld", index, len);
    else if (!o)
        em_err_nomem(err);
    return o;
}

json_t *ecrmock_journal_json(ecrmock *m, ecrmock_err *err)
{
    em_err_clear(err);
    if (!m) {
        em_err_arg(err, "no instance (m is NULL)");
        return NULL;
    }
    json_t *list = json_array();
    em_lock(m);
    for (size_t i = 0; list && i < m->journal_len; i++) {
        if (json_array_append_new(list, entry_json(m, held(m, i))) < 0) {
            json_decref(list);
            list = NULL;
        }
    }
    em_unlock(m);
    if (!list)
        em_err_nomem(err);
    return list;
}

/* counters[action], or (action NULL) the sum of the first n, read under the lock. */
static unsigned long count(ecrmock *m, const char *action, const unsigned long *counters, size_t n)
{
    unsigned long sum = 0;
    em_lock(m);
    if (!action) {
        for (size_t i = 0; i < n; i++)
            sum += counters[i];
    } else {
        const em_action *a = em_action_find(action);
        if (a)
            sum = counters[a - em_actions];
    }
    em_unlock(m);
    return sum;
}

unsigned long ecrmock_call_count(ecrmock *m, const char *action)
{
    return m ? count(m, action, m->calls, EM_MAX_ACTIONS + 1) : 0;
}

unsigned long ecrmock_run_count(ecrmock *m, const char *action)
{
    return m ? count(m, action, m->runs, EM_MAX_ACTIONS) : 0;
}
