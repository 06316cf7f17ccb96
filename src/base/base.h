/*
 * base: C mechanisms that know no instance: allocation, byte buffers and
 * UTF-8, JSON helpers, hashes and encodings, AWS's formats, URI encoding,
 * the request parser's fast path, the flat tokenizer (json_scan.c), the
 * response writer (json_write.c) and the open-addressing index of a
 * repository's images and tags (index.c).  Every layer above includes this
 * header.
 *
 * Names here and in every folder header carry the em_ prefix and are
 * hidden from the shared library (the visibility pragma below and
 * tests/checks/check-exports.sh); everything else in a .c file is static.
 */
#ifndef EM_BASE_H
#define EM_BASE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <jansson.h>

#include "ecrmock.h"

/* uthash, with ecrmock's allocator and without its exit() on no memory: an
 * add that cannot allocate sets `oom` (a local of the caller) instead. */
#define uthash_malloc(sz) em_malloc(sz)
#define uthash_free(ptr, sz) em_free(ptr)
#define HASH_NONFATAL_OOM 1
#define uthash_nonfatal_oom(elt) (oom = 1)
/* Keys are digests ("sha256:" and 64 digits), tags and names: hashed eight
 * bytes a step (uthash's default, Jenkins', takes twelve bytes a round of
 * thirty-odd operations; a PutImage hashes a digest five times).  Tables
 * iterate in insertion order whatever the hash. */
static inline unsigned em_hash_key(const void *key, size_t len)
{
    const unsigned char *p = key;
    uint64_t h = 0x9e3779b97f4a7c15u ^ (uint64_t)len, w;
    bool long_key = len >= 8;
    for (; len >= 8; p += 8, len -= 8) {
        memcpy(&w, p, 8);
        h = (h ^ w) * 0xbf58476d1ce4e5b9u;
        h ^= h >> 31;
    }
    /* The last 0-7 bytes as memcpy(&w, p, len) reads them on a little-endian
     * machine (the same value: no call to memcpy for a length not known). */
    w = 0;
    if (long_key && len) {
        memcpy(&w, p + len - 8, 8); /* the 8 bytes that end the key: its last len, shifted down */
        w >>= 8 * (8 - len);
    } else {
        for (size_t i = 0; i < len; i++)
            w |= (uint64_t)p[i] << (8 * i);
    }
    h = (h ^ w) * 0x94d049bb133111ebu;
    h ^= h >> 29;
    return (unsigned)(h ^ (h >> 32));
}
#define HASH_FUNCTION(keyptr, keylen, hashv) ((hashv) = em_hash_key((keyptr), (size_t)(keylen)))
#include <uthash.h>

#pragma GCC visibility push(hidden)

/* ---- allocation: one indirection, so a test can fail the Nth allocation -- */
void *em_malloc(size_t n);
void *em_calloc(size_t count, size_t n);
void *em_realloc(void *p, size_t n);
void em_free(void *p);
/* Frees what jansson allocated (json_dumps' text), with jansson's free. */
void em_json_free(void *p);
char *em_strdup(const char *s);
char *em_strndup(const char *s, size_t n);
char *em_sprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- index.c: string keys to items, by open addressing -------------------
 *
 * The tables that grow with a repository's images (images by digest, tags
 * by name, layers by digest) and the instance's blobs by digest: a flat array of {hash, item} slots with linear probing, so that
 * a miss reads one cache line of slots and a hit that line and the item's
 * key (uthash, for the other tables, walks a chain of items).  An item's key
 * is a NUL-terminated string the caller's key_of returns; the index holds
 * pointers only, never owns an item, and keeps no order: listings walk an
 * em_seqvec (store.h).  A zeroed em_index is an empty one. */
typedef struct em_index_slot {
    uint32_t hash; /* em_hash_key of the item's key */
    void *item;    /* NULL: empty */
} em_index_slot;

typedef struct em_index {
    em_index_slot *slots; /* mask + 1 of them, or NULL */
    size_t mask;
    size_t count;         /* items, in slots and old */
    em_index_slot *old;   /* growing: the previous array, its slots from moved on not moved yet; or NULL */
    size_t old_mask, moved;
} em_index;

typedef const char *(*em_index_key)(const void *item);

/* The item whose key is key[0..len), or NULL (borrowed). */
void *em_index_find(const em_index *ix, const char *key, size_t len, em_index_key key_of);
/* Asks the CPU for the line of slots where a probe for key[0..len) starts,
 * so that a find or insert some work later does not wait for memory (a
 * table of many items is past the cache: each probe was a miss).  Only a
 * hint: ix is not changed, nothing is read from the slots. */
static inline void em_index_prefetch(const em_index *ix, const char *key, size_t len)
{
    unsigned h = em_hash_key(key, len);
    if (ix->slots)
        __builtin_prefetch(&ix->slots[h & ix->mask]);
    if (ix->old) /* growing: a miss probes the old array too */
        __builtin_prefetch(&ix->old[h & ix->old_mask]);
}
/* Adds item, whose key must not be in ix yet.  0, or -1: no memory (ix
 * unchanged). */
int em_index_insert(em_index *ix, void *item, em_index_key key_of);
/* Room for n more items without growing, every slot moved now when it
 * grows (an insert grows the array a step at a time); nothing for n 0.
 * 0, or -1: no memory, or more than an index holds (2^30 items): ix
 * unchanged. */
int em_index_reserve(em_index *ix, size_t n);
/* Takes item out of ix (the item itself, found by its key's hash, not
 * another with the same key).  Whether it was there. */
bool em_index_remove(em_index *ix, const void *item, em_index_key key_of);
/* Every item once, in no set order: start *pos at 0; NULL after the last.
 * Nothing may be inserted or removed during the walk. */
void *em_index_next(const em_index *ix, size_t *pos);
/* Frees the slots (not the items); ix is empty after. */
void em_index_release(em_index *ix);

/* ---- growable byte buffer ----------------------------------------------- */
typedef struct em_buf {
    unsigned char *data;
    size_t len, cap;
} em_buf;
/* Room for `extra` more bytes past len; 0, or -1: no memory (b unchanged). */
int em_buf_grow(em_buf *b, size_t extra);
/* The room check and the copy are inline: the answer writers append a
 * literal of a few bytes at a time, a constant length the compiler copies
 * without a call (bench/PROFILE.md, session 8). */
static inline int em_buf_reserve(em_buf *b, size_t extra) /* 0, or -1: no memory */
{
    return extra <= b->cap - b->len ? 0 : em_buf_grow(b, extra);
}
static inline int em_buf_append(em_buf *b, const void *p, size_t n) /* 0, or -1: no memory, b unchanged */
{
    if (n == 0)
        return 0;
    if (em_buf_reserve(b, n) < 0)
        return -1;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}
void em_buf_release(em_buf *b);
/* src[0..n) with A-Z as a-z (ASCII only, whatever the locale) into dst[0..n);
 * dst may be src.  Returns dst. */
char *em_ascii_lower(char *dst, const char *src, size_t n);
/* The length of the valid UTF-8 sequence at p (lead byte >= 0x80), or 0:
 * jansson's rules (no overlong forms, no surrogates, nothing above U+10FFFF). */
size_t em_utf8_seq(const unsigned char *p, const unsigned char *end);
/* Whether the C string s is UTF-8 as a JSON string must be. */
bool em_utf8_ok(const char *s);
/* The same of s[0..len) (a NUL is "\u0000" in JSON: UTF-8). */
bool em_utf8_okn(const char *s, size_t len);
/* A copy of s that is UTF-8: each byte that starts no valid sequence becomes
 * U+FFFD, so that what a client sent (a header, an action name) can be held
 * and quoted in JSON.  New em_malloc'd, or NULL: no memory. */
char *em_utf8_copy(const char *s);
/* The bytes of the word x (eight bytes read little-endian) that a JSON
 * string cannot hold as they are (a control character, '"', '\\') or that
 * start a UTF-8 sequence (>= 0x80): the high bit of each set.  The lowest
 * flag is exact (a borrow may flag a byte after it, never one before), and
 * marks the first such byte. */
static inline uint64_t em_word_special(uint64_t x)
{
    const uint64_t ones = 0x0101010101010101u, high = 0x8080808080808080u;
    uint64_t q = x ^ (ones * '"'), s = x ^ (ones * '\\');
    return (((x - ones * 0x20) & ~x) | ((q - ones) & ~q) | ((s - ones) & ~s) | x) & high;
}
/* The first byte from p on that a JSON string cannot hold as it is (a
 * control character, '"', '\\') or that starts a UTF-8 sequence (>= 0x80),
 * or end.  Eight bytes a step while none of them is one. */
static inline const unsigned char *em_plain_run(const unsigned char *p, const unsigned char *end)
{
    while (end - p >= 8) {
        uint64_t x;
        memcpy(&x, p, 8);
        uint64_t flags = em_word_special(x);
        if (flags)
            return p + __builtin_ctzll(flags) / 8;
        p += 8;
    }
    while (p < end && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\')
        p++;
    return p;
}
/* json_write.c: the decimal digits of u into out (room for 20: no NUL, no sign); how
 * many (1 to 20). */
int em_decimal_digits(uint64_t u, char *out);
/* json_write.c: doc (an object or array) as the wire level writes it, jansson's
 * compact bytes; *out malloc'd (free it).  0, or -1: no memory, or a string
 * that is not UTF-8. */
int em_wire_dump(json_t *doc, char **out, size_t *out_len);
/* json_write.c: v (any value) as the journal keeps it: em_wire_dump()'s bytes,
 * which em_journal_parse() reads back as the same tree (reals are written as
 * the shortest digits that read back as the same double).  -1 for no memory
 * and for what would not read back the same: a string that is not UTF-8, a
 * key with a NUL in it, nesting deeper than 1024 (the journal then keeps a
 * copy of the tree instead). */
int em_journal_text(json_t *v, char **out, size_t *out_len);
/* json_parse.c: a request body as json_loadb(text, len, 0) would read it
 * (new reference), or NULL: with *oom set when an allocation failed, else
 * when the fast path does not take the text (then ask json_loadb, whose
 * answer is the one). */
json_t *em_json_parse(const char *text, size_t len, bool *oom);

/* ---- json_scan.c: a JSON text read into flat tokens, no tree ---------------
 *
 * What the tree-free paths read (requests of the hot actions, manifests):
 * the text is checked as jansson checks it and described by an array of
 * tokens pointing into it; nothing is copied and nothing allocated unless
 * the caller's array is too small (em_jdoc_read: one allocation). */
typedef enum em_jtype {
    EM_J_OBJECT = 1,
    EM_J_ARRAY,
    EM_J_STRING,
    EM_J_INTEGER,
    EM_J_REAL,
    EM_J_TRUE,
    EM_J_FALSE,
    EM_J_NULL
} em_jtype;

/* One value.  An object's token is followed, member after member, by the
 * member name's token (an EM_J_STRING) and the value's tokens; an array's
 * by its items' tokens.  Token 0 is the text's top value. */
typedef struct em_jtok {
    uint8_t type;     /* em_jtype */
    uint8_t escaped;  /* a string (or member name) written with a backslash escape */
    uint32_t start;   /* offset in the text: a string's first byte after its opening
                         quote; any other value's first byte */
    uint32_t len;     /* a string's bytes between its quotes, as written; a number's
                         or a literal's text */
    uint32_t count;   /* an object's members, an array's items; 0 for the rest */
    uint32_t next;    /* the index of the first token after this value and all it holds */
    int64_t integer;  /* an EM_J_INTEGER's value */
} em_jtok;

enum { EM_JSCAN_OK = 0, EM_JSCAN_INVALID = -1, EM_JSCAN_FULL = -2, EM_JSCAN_NOMEM = -3 };

/* Reads text[0..len) into toks[0..cap), accepting exactly the texts
 * json_loadb(text, len, any_value ? JSON_DECODE_ANY : 0, &err) accepts (UTF-8
 * only, no "\u0000", surrogates paired, integers within int64, finite
 * reals, nesting to 2048 levels, nothing after the value but white space).
 * *n: the tokens used, or on EM_JSCAN_FULL how many the text needs.
 * EM_JSCAN_OK, EM_JSCAN_INVALID (jansson refuses it), EM_JSCAN_FULL (more
 * than cap tokens; toks holds a prefix of no use), or EM_JSCAN_INVALID for
 * a text of 4 GiB or more. */
int em_jscan(const char *text, size_t len, bool any_value, em_jtok *toks, size_t cap, size_t *n);

/* A text read with its tokens: in the caller's array when they fit, else in
 * one em_malloc'd array (release with em_jdoc_release). */
typedef struct em_jdoc {
    const char *text;
    em_jtok *t;    /* the tokens (the caller's array or heap) */
    size_t n;
    em_jtok *heap; /* what em_jdoc_release frees, or NULL */
} em_jdoc;
/* em_jscan into stack[0..stack_cap), or into a heap array of exactly the
 * tokens needed.  EM_JSCAN_OK, EM_JSCAN_INVALID or EM_JSCAN_NOMEM; on
 * failure d holds nothing to release. */
int em_jdoc_read(em_jdoc *d, const char *text, size_t len, bool any_value, em_jtok *stack, size_t stack_cap);
void em_jdoc_release(em_jdoc *d);
/* The token index of object token `obj`'s member `name` (the last of that
 * name, the one jansson keeps), or 0 when it has none. */
size_t em_jget(const em_jdoc *d, size_t obj, const char *name);
/* Whether member name token `tok` (decoded) is `name`. */
bool em_jname_is(const em_jdoc *d, size_t tok, const char *name);
/* String token `tok`'s value decoded into out (room for t[tok].len + 1
 * bytes: a decoded string is never longer than its text), NUL-terminated;
 * returns the decoded length. */
size_t em_jstr_decode(const em_jdoc *d, size_t tok, char *out);
/* em_jstr_decode(), and, when canonical is not NULL (and true on entry),
 * whether the string's text as written is what em_jw_string() writes of its
 * value (the escapes a client chose are the writer's): then an answer may
 * copy the text instead of escaping the value again. */
size_t em_jstr_decode_canonical(const em_jdoc *d, size_t tok, char *out, bool *canonical);

/* ---- json_write.c: answers written without a tree ------------------------
 * The bytes em_wire_dump() writes for the same value; 0, or -1: no memory
 * (or a string or tree that is not UTF-8). */
int em_jw_string(em_buf *b, const char *s, size_t len);
int em_jw_int(em_buf *b, int64_t v);
int em_jw_real(em_buf *b, double v);
/* A tree's value, written as inside a tree of em_wire_dump(). */
int em_jw_value(em_buf *b, json_t *v);
/* em_time(ms)'s bytes. */
int em_jw_time(em_buf *b, int64_t ms);
/* text[0..text_len) as it is (a member's name and its punctuation, e.g.
 * ",\"name\":"), then s as em_jw_string writes it; a NULL s fails, as
 * em_set() of em_json_string(NULL) does.  EM_JW_LIT / EM_JW_STR_AFTER take
 * the text as a string literal. */
int em_jw_str_after(em_buf *b, const char *text, size_t text_len, const char *s);
#define EM_JW_LIT(b, text) em_buf_append((b), text, sizeof text - 1)
#define EM_JW_STR_AFTER(b, text, s) em_jw_str_after((b), text, sizeof text - 1, (s))

/* ---- crypto and encodings (libcrypto) ------------------------------------ */
#define EM_SHA256_HEX 64
/* A day of the virtual clock, in milliseconds. */
#define EM_DAY_MS INT64_C(86400000)
/* Writes "sha256:<64 hex>" and a NUL into out[ECRMOCK_DIGEST_SIZE]. */
void em_sha256_digest(const void *p, size_t n, char *out);
struct evp_md_st; /* OpenSSL's EVP_MD */
/* The same with `md`, SHA-256 fetched already (EVP_MD_fetch; NULL:
 * EVP_sha256()): OpenSSL 3 looks EVP_sha256() up again at every digest, a
 * third of the time of one over a few hundred bytes. */
void em_sha256_digest_by(const struct evp_md_st *md, const void *p, size_t n, char *out);
struct evp_md_ctx_st; /* OpenSSL's EVP_MD_CTX */
/* The same with a context kept for it (one fewer allocation and set-up a
 * digest; NULL: as em_sha256_digest_by).  Not for two threads at once. */
void em_sha256_digest_in(struct evp_md_ctx_st *ctx, const struct evp_md_st *md, const void *p, size_t n, char *out);
void em_hex(const unsigned char *p, size_t n, char *out); /* 2n chars and a NUL */
/* Standard padded base64.  Returns a new em_malloc'd NUL-terminated string,
 * or NULL (no memory). */
char *em_base64(const void *p, size_t n, size_t *out_len);
/* Decodes standard padded base64; returns 0 and a new em_malloc'd buffer
 * (NULL for empty), -1 for text that is not base64, -2 for no memory. */
int em_unbase64(const char *s, size_t n, unsigned char **out, size_t *out_len);
/* The length standard padded base64 text decodes to, or SIZE_MAX when it is
 * not such text. */
size_t em_base64_decoded_len(const char *s, size_t n);
/* The same for text already known to be base64 (it reads only the end). */
size_t em_base64_valid_len(const char *s, size_t n);
/* Decodes text em_base64_decoded_len accepted into out, which has room for
 * n / 4 * 3 bytes; returns the decoded length (SIZE_MAX: not base64). */
size_t em_base64_decode_valid(const char *s, size_t n, unsigned char *out);
/* ECR's wildcard filters: '*' matches any run; with `iam`, also '?' for one
 * character, case ignored (IAM action names). */
bool em_wildcard_match(const char *pat, const char *s, bool iam);
/* Whether `d` matches the model's digest pattern, algorithm ':' hex. */
bool em_digest_ok(const char *d);
void em_hmac_sha256(const void *key, size_t key_len, const void *p, size_t n,
                    unsigned char out[32]);
/* Draw n of a seeded stream into out: SHA-256 of the stream's label (NULL:
 * none; else at most 16 characters, NUL-padded to 16 bytes), then the seed
 * and n as 8 little-endian bytes each.  The same (label, seed, n) gives the
 * same bytes, run after run: instance.c's ids and request ids, the faults'
 * probabilities. */
void em_seeded_draw(const char *label, uint64_t seed, uint64_t n, unsigned char out[32]);
/* The same with SHA-256 fetched already and a context kept for it (NULL:
 * as em_sha256_digest_by and em_sha256_digest_in say): the same bytes,
 * without OpenSSL's look-up and set-up at every draw. */
void em_seeded_draw_in(struct evp_md_ctx_st *ctx, const struct evp_md_st *md, const char *label, uint64_t seed,
                       uint64_t n, unsigned char out[32]);
/* The UUID (version 4 layout) of 32 random bytes, and a NUL, in out[37]. */
void em_uuid_of(unsigned char r[32], char *out);

/* ---- request accessors (after validation, types are right) --------------- */
const char *em_get_str(json_t *o, const char *key);            /* NULL when absent */
bool em_get_bool(json_t *o, const char *key, bool dflt);
int64_t em_get_int(json_t *o, const char *key, int64_t dflt);

/* ---- output helpers --------------------------------------------------------- */
json_t *em_time(int64_t ms);   /* epoch seconds as a JSON number (new reference) */
/* json_object_set_new that reports failure: 0, or -1 (value released).
 * key is a member name from the code (ASCII): it is not UTF-8 checked. */
int em_set(json_t *o, const char *key, json_t *v);
/* Sets the string member key to s when s is not NULL (0), leaves it out
 * when it is (0); -1 when memory runs out.  What json_pack's "s:s*" cannot
 * say: it leaves the member out when its string cannot be made, too. */
int em_set_opt_str(json_t *o, const char *key, const char *s);
/* The text of a stored manifest as a JSON string (new reference): not
 * UTF-8 checked again, as every stored manifest came from a JSON string. */
json_t *em_manifest_string(const char *text, size_t len);
/* json_string(s) (new reference; NULL for NULL or no memory), without
 * jansson's character-by-character UTF-8 check when s is ASCII, which is
 * what names, tags, digests and ids are: the check was a tenth of a call. */
json_t *em_json_string(const char *s);
/* A copy of v (new reference; NULL: no memory) whose objects and arrays
 * are its own, each key whole (json_deep_copy cuts a key at a NUL): with
 * EM_COPY_SHARE_SCALARS its strings, numbers and literals are v's
 * (references), else copies; with EM_COPY_DROP_NULL_MEMBERS an object's null
 * members are left out (an array's null items stay). */
#define EM_COPY_SHARE_SCALARS 1u
#define EM_COPY_DROP_NULL_MEMBERS 2u
json_t *em_json_copy(json_t *v, unsigned flags);
/* Whether v nests more than `max` levels (v itself level 1): a tree a
 * caller built may nest as deep as it likes (json_array_append() has no
 * bound), and jansson's copy, release and dump recurse, as do ecrmock's
 * walks; EM_JSON_MAX_DEPTH is the JSON parser's bound.  The check itself
 * recurses at most max + 1 levels. */
#define EM_JSON_MAX_DEPTH 2048
bool em_json_too_deep(json_t *v, size_t max);
/* Whether id is an AWS account id (a registry id): exactly 12 digits. */
bool em_account_id_ok(const char *id);
/* The DNS suffix of a region's endpoints: amazonaws.com.cn in China, else amazonaws.com. */
const char *em_dns_suffix(const char *region);
/* Whether `s` is a region name ecrmock takes: 1 to 63 of a-z, 0-9 and '-'. */
bool em_region_name_ok(const char *s);

/* ---- AWS formats (aws.c) and URI encoding (uri.c) ------------------------- */
/* Epoch seconds as SigV4's X-Amz-Date (YYYYMMDDTHHMMSSZ, UTC), and back:
 * false for anything but exactly that form with a real date and time (years
 * 0001 to 9999, before 1970 too).  Also the download URLs' date. */
void em_amz_date(int64_t s, char out[17]);
bool em_amz_date_parse(const char *s, int64_t *out);
/* Appends SigV4's canonical form of a query string (each name and value
 * decoded, encoded again with the unreserved set, sorted) to b.  -1: no memory. */
int em_sigv4_canonical_query(em_buf *b, const char *query);
/* Appends s[0..n) to b percent-encoded as AWS signs it (the unreserved set
 * kept; '/' kept too when keep_slash).  -1: no memory. */
int em_uri_encode(em_buf *b, const char *s, size_t n, bool keep_slash);
/* s[0..n) percent-decoded (an invalid escape kept as sent; '+' as a space
 * when plus_space, as a query's form encoding has it), new em_malloc'd;
 * NULL: no memory. */
char *em_uri_decode(const char *s, size_t n, bool plus_space);
/* Query parameter `name` of `query` (the text after '?'; NULL: none), the
 * one walker of a query's parameters: the '&'-separated pieces, an empty
 * one ("a&&b") skipped, each split at its first '=' (none: an empty value;
 * "=x": the empty name), name and value percent-decoded as em_uri_decode()
 * does, the first piece whose decoded name is `name` counting.  1: found,
 * its decoded value in *value (new em_malloc'd, NUL-terminated) and its
 * length in *len (a decoded %00 counts; len may be NULL); 0: absent, -1:
 * no memory (*value NULL both times). */
int em_query_param(const char *query, const char *name, bool plus_space, char **value, size_t *len);
/* The ARN partition of a region: "aws", "aws-cn" or "aws-us-gov". */
const char *em_partition(const char *region);

#pragma GCC visibility pop

#endif
