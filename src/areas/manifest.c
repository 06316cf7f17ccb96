/*
 * Image manifests as PutImage reads them: Docker image manifest v2 schema 2,
 * OCI image manifest, Docker manifest list, OCI image index, and Docker
 * schema 1 (signed or not), which ECR still accepts.
 *
 * What comes out is what PutImage needs: the media type, the blobs the image
 * references (config and layers, which must be in the repository), the
 * manifests a list references (which must be images of the repository), the
 * subject (for referrers) and the artifact media type DescribeImages shows.
 */
#include <stddef.h>
#include <string.h>

#include "areas/areas.h"

#define MT_DOCKER_V2 "application/vnd.docker.distribution.manifest.v2+json"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_DOCKER_V1 "application/vnd.docker.distribution.manifest.v1+json"
#define MT_DOCKER_V1_SIGNED "application/vnd.docker.distribution.manifest.v1+prettyjws"
#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"

bool em_media_type_is_list(const char *mt)
{
    return mt && (strcmp(mt, MT_DOCKER_LIST) == 0 || strcmp(mt, MT_OCI_INDEX) == 0);
}

/* Refuses the manifest with rule EM_RULE_<id> of core.h's list. */
#define manifest_error(c, id, ...) em_fail_rule_at(c, "$.imageManifest", "ImageManifest", EM_RULE_##id, ##__VA_ARGS__)


/* Layers a registry need not hold (Windows base layers and the like). */
bool em_media_type_non_distributable(const char *mt)
{
    return mt && (strstr(mt, ".foreign.") || strstr(mt, ".nondistributable."));
}

/* ---- the text's tokens -----------------------------------------------------
 * The manifest is read with em_jdoc_read (json_scan.c): what json_loadb
 * accepts, as flat tokens.  A member is its value's token index; 0 stands for
 * none (token 0, the top object, is never a member's value), so each helper
 * takes 0 as jansson takes NULL, and ROOT for the top object. */

#define STACK_TOKENS 256 /* a manifest of some 30 layers: none allocated */

static uint8_t type_of(const em_jdoc *d, size_t v)
{
    return v ? d->t[v].type : 0;
}

/* The top object, as helpers take it (token 0 itself stands for none). */
#define ROOT SIZE_MAX

/* The members the parse reads: of the top object, and of a descriptor (a
 * config, a layer, a list's manifest, the subject, a schema 1 fsLayer). */
enum {
    TOP_MEDIA_TYPE, TOP_SCHEMA, TOP_CONFIG, TOP_LAYERS, TOP_MANIFESTS, TOP_FS_LAYERS, TOP_SUBJECT, TOP_ARTIFACT, TOP_N
};
static const char *const top_names[TOP_N] = {
    "mediaType", "schemaVersion", "config", "layers", "manifests", "fsLayers", "subject", "artifactType",
};
enum { DESC_DIGEST, DESC_MEDIA_TYPE, DESC_SIZE, DESC_BLOB_SUM, DESC_N };
static const char *const desc_names[DESC_N] = {"digest", "mediaType", "size", "blobSum"};

/* Whether name[0..len) is `lit` (a literal: its compare is inlined). */
#define IS(name, len, lit) ((len) == sizeof lit - 1 && memcmp(name, lit, sizeof lit - 1) == 0)

/* Which of top_names name[0..len) is, or -1 (the name as written, unescaped). */
static int top_index(const char *name, size_t len)
{
    switch (len) {
    case 6:
        return IS(name, len, "config") ? TOP_CONFIG : IS(name, len, "layers") ? TOP_LAYERS : -1;
    case 9:
        return IS(name, len, "mediaType") ? TOP_MEDIA_TYPE : IS(name, len, "manifests") ? TOP_MANIFESTS : -1;
    default:
        return IS(name, len, "schemaVersion")  ? TOP_SCHEMA
               : IS(name, len, "fsLayers")     ? TOP_FS_LAYERS
               : IS(name, len, "subject")      ? TOP_SUBJECT
               : IS(name, len, "artifactType") ? TOP_ARTIFACT
                                               : -1;
    }
}

/* Which of desc_names name[0..len) is, or -1. */
static int desc_index(const char *name, size_t len)
{
    return IS(name, len, "digest")      ? DESC_DIGEST
           : IS(name, len, "mediaType") ? DESC_MEDIA_TYPE
           : IS(name, len, "size")      ? DESC_SIZE
           : IS(name, len, "blobSum")   ? DESC_BLOB_SUM
                                        : -1;
}

/* The members of object v named names[0..n) (which `index` tells a name
 * written unescaped from), found in one pass over its members: at[k] the
 * token of the last one named names[k] (the one jansson keeps, as em_jget),
 * or 0; all 0 for a v that is none or no object, as json_object_get. */
static inline void find_members(const em_jdoc *d, size_t v, const char *const *names, int n,
                                int (*index)(const char *, size_t), size_t *at)
{
    for (int k = 0; k < n; k++)
        at[k] = 0;
    size_t o = v == ROOT ? 0 : v;
    if (!v || d->t[o].type != EM_J_OBJECT)
        return;
    const em_jtok *t = d->t;
    size_t i = o + 1;
    for (uint32_t m = 0; m < t[o].count; m++, i = t[i + 1].next) {
        int k = -1;
        if (!t[i].escaped)
            k = index(d->text + t[i].start, t[i].len);
        else
            for (int j = 0; j < n && k < 0; j++)
                k = em_jname_is(d, i, names[j]) ? j : -1;
        if (k >= 0)
            at[k] = i + 1;
    }
}

#define find_top(d, at) find_members(d, ROOT, top_names, TOP_N, top_index, at)
#define find_desc(d, v, at) find_members(d, v, desc_names, DESC_N, desc_index, at)

/* String token v, or 0 for anything else (em_get_str). */
static size_t str_tok(const em_jdoc *d, size_t v)
{
    return type_of(d, v) == EM_J_STRING ? v : 0;
}

/* json_integer_value: an integer's value, 0 for anything else. */
static int64_t int_value(const em_jdoc *d, size_t v)
{
    return type_of(d, v) == EM_J_INTEGER ? d->t[v].integer : 0;
}

/* json_array_size: an array's items, 0 for anything else. */
static size_t array_size(const em_jdoc *d, size_t v)
{
    return type_of(d, v) == EM_J_ARRAY ? d->t[v].count : 0;
}

/* Each item of array v (none for anything else), in order. */
#define each_item(d, v, k, item) \
    for (size_t k = 0, item = (v) + 1; k < array_size(d, v); k++, item = (d)->t[item].next)

/* ---- the manifest's storage ----------------------------------------------
 * Measured first (an upper bound: every string the parse may keep, at its
 * length as written, which decoding never makes longer), taken inline when it
 * fits, else as one allocation; then filled as the checks go. */

typedef struct mf_need {
    size_t blobs, children, text;
} mf_need;

/* The room string token v takes (none: 0). */
static size_t room(const em_jdoc *d, size_t v)
{
    return v ? d->t[v].len + 1 : 0;
}

#define ROOM(k) (1u << (k))

/* The room of descriptor v's string members desc_names[k], for each ROOM(k)
 * in `which` (none for one that is not a string). */
static size_t desc_room(const em_jdoc *d, size_t v, unsigned which)
{
    size_t at[DESC_N], r = 0;
    find_desc(d, v, at);
    for (int k = 0; k < DESC_N; k++)
        if (which & ROOM(k))
            r += room(d, str_tok(d, at[k]));
    return r;
}

/* The counts of the manifest of len bytes whose top members are top, and a
 * bound of its text: for a text of up to the inline room, its length (the
 * strings kept lie each between two quotes of the text, no two the same,
 * and decode no longer than written: with their NULs they take under len
 * bytes); for a longer one, the strings measured one by one (a large
 * manifest takes no more heap than its strings). */
static void measure(const em_jdoc *d, size_t len, const size_t *top, mf_need *need)
{
    size_t layers = top[TOP_LAYERS], manifests = top[TOP_MANIFESTS], fs = top[TOP_FS_LAYERS];
    need->blobs = 1 + array_size(d, layers) + array_size(d, fs);
    need->children = array_size(d, manifests);
    need->text = len;
    if (len <= EM_MF_INLINE_TEXT)
        return;
    const unsigned blob = ROOM(DESC_DIGEST) | ROOM(DESC_MEDIA_TYPE);
    need->text = room(d, str_tok(d, top[TOP_MEDIA_TYPE])) + room(d, str_tok(d, top[TOP_ARTIFACT])) +
                 desc_room(d, top[TOP_SUBJECT], ROOM(DESC_DIGEST)) + desc_room(d, top[TOP_CONFIG], blob);
    each_item(d, layers, k, l) need->text += desc_room(d, l, blob);
    each_item(d, manifests, k, m) need->text += desc_room(d, m, ROOM(DESC_DIGEST));
    each_item(d, fs, k, l) need->text += desc_room(d, l, ROOM(DESC_BLOB_SUM));
}

/* Points mf's arrays and text at its inline storage, or at one block. */
static int reserve(em_call *c, em_manifest *mf, const mf_need *need)
{
    if (need->blobs <= EM_MF_INLINE_BLOBS && need->children <= EM_MF_INLINE_CHILDREN &&
        need->text <= EM_MF_INLINE_TEXT) {
        mf->layers = mf->inline_layers;
        mf->children = mf->inline_children;
        mf->next = mf->inline_text;
        mf->end = mf->inline_text + EM_MF_INLINE_TEXT;
        return 0;
    }
    /* the counts and lengths are bounded by the text's (under 4 GiB): no overflow */
    size_t lb = need->blobs * sizeof *mf->layers, cb = need->children * sizeof *mf->children;
    char *block = em_malloc(lb + cb + need->text + 1);
    if (!block)
        return em_fail_nomem(c);
    mf->heap = block;
    mf->layers = (em_mf_blob *)(void *)block;
    mf->children = (const char **)(void *)(block + lb);
    mf->next = block + lb + cb;
    mf->end = mf->next + need->text + 1;
    return 0;
}

/* String token v (0: none, NULL) decoded into mf's storage.  Past the room
 * measured (which cannot happen) it writes nothing and marks the storage
 * spent (end NULL): the parse then fails rather than overrun. */
static const char *keep(em_manifest *mf, const em_jdoc *d, size_t v)
{
    if (!v)
        return NULL;
    if (!mf->end || d->t[v].len >= (size_t)(mf->end - mf->next)) {
        mf->end = NULL;
        return "";
    }
    char *p = mf->next;
    mf->next += em_jstr_decode(d, v, p) + 1;
    return p;
}

/* ---- the parse ------------------------------------------------------------ */

/* Checks a descriptor and lists its blob unless it is non-distributable;
 * kept (may be NULL: a layer) gets what was kept of it. */
static int add_blob(em_call *c, em_manifest *mf, const em_jdoc *d, size_t desc, const char *what, em_mf_blob *kept)
{
    if (type_of(d, desc) != EM_J_OBJECT)
        return manifest_error(c, INVALID_JSON_SYNTAX);
    char *mark = mf->next;
    size_t at[DESC_N];
    find_desc(d, desc, at);
    const char *digest = keep(mf, d, str_tok(d, at[DESC_DIGEST]));
    const char *mt = keep(mf, d, str_tok(d, at[DESC_MEDIA_TYPE]));
    size_t size = at[DESC_SIZE];
    if (!em_digest_ok(digest) || (size && (type_of(d, size) != EM_J_INTEGER || d->t[size].integer < 0))) {
        return manifest_error(c, MANIFEST_BLOB, what);
    }
    bool listed = !em_media_type_non_distributable(mt);
    if (!listed && !kept) {
        if (mf->end)
            mf->next = mark; /* nothing of it kept */
        return 0;
    }
    em_mf_blob b = {digest, mt};
    if (listed)
        mf->layers[mf->n_layers++] = b;
    if (kept)
        *kept = b;
    return 0;
}

/* Descriptor v's string member desc_names[k] (none: 0). */
static size_t desc_str(const em_jdoc *d, size_t v, int k)
{
    size_t at[DESC_N];
    find_desc(d, v, at);
    return str_tok(d, at[k]);
}

/* The OCI 1.1 subject, when the manifest names one (images and indexes alike). */
static int parse_subject(em_call *c, em_manifest *mf, const em_jdoc *d, const size_t *top)
{
    size_t subject = top[TOP_SUBJECT];
    if (!subject)
        return 0;
    const char *digest = keep(mf, d, desc_str(d, subject, DESC_DIGEST));
    if (type_of(d, subject) != EM_J_OBJECT || !em_digest_ok(digest))
        return manifest_error(c, MANIFEST_SUBJECT);
    mf->subject = digest;
    return 0;
}

static int parse_image(em_call *c, em_manifest *mf, const em_jdoc *d, const size_t *top)
{
    size_t config = top[TOP_CONFIG], layers = top[TOP_LAYERS];
    if (type_of(d, config) != EM_J_OBJECT || type_of(d, layers) != EM_J_ARRAY)
        return manifest_error(c, INVALID_JSON_SYNTAX);
    if (array_size(d, layers) > c->m->opts.max_layers_per_image)
        return manifest_error(c, MANIFEST_LAYER_LIMIT);
    em_mf_blob kept;
    if (add_blob(c, mf, d, config, "config", &kept) < 0)
        return -1;
    mf->config_digest = kept.digest;
    mf->config_media_type = kept.media_type;
    each_item(d, layers, k, l) {
        if (add_blob(c, mf, d, l, "layer", NULL) < 0)
            return -1;
    }
    if (parse_subject(c, mf, d, top) < 0)
        return -1;
    size_t artifact = str_tok(d, top[TOP_ARTIFACT]);
    if (artifact)
        mf->config_media_type = keep(mf, d, artifact);
    return 0;
}

static int parse_list(em_call *c, em_manifest *mf, const em_jdoc *d, const size_t *top)
{
    size_t manifests = top[TOP_MANIFESTS];
    if (type_of(d, manifests) != EM_J_ARRAY)
        return manifest_error(c, INVALID_JSON_SYNTAX);
    each_item(d, manifests, k, m) {
        const char *digest = keep(mf, d, desc_str(d, m, DESC_DIGEST));
        if (!em_digest_ok(digest))
            return manifest_error(c, MANIFEST_DESCRIPTOR);
        mf->children[mf->n_children++] = digest;
    }
    if (parse_subject(c, mf, d, top) < 0)
        return -1;
    mf->is_list = true;
    return 0;
}

/* Schema 1 lists a blob once per layer (empty layers again and again), and
 * any number of them: past this many distinct blobs, the ones seen are found
 * through a table of their digests, not by comparing each new one with every
 * one before it (4 MiB of distinct blobSums, some 200,000, took minutes). */
#define SCHEMA1_COMPARED 64

/* Whether `digest` is among the n blobs kept so far; when not, and a table
 * is given, it goes in as blob n (slots: a power of two, more than the
 * blobs). */
static bool schema1_seen(const em_mf_blob *blobs, size_t n, uint32_t *table, size_t slots, const char *digest)
{
    if (!table) {
        for (size_t j = 0; j < n; j++)
            if (strcmp(blobs[j].digest, digest) == 0)
                return true;
        return false;
    }
    size_t h = em_hash_key(digest, strlen(digest)) & (slots - 1);
    for (; table[h]; h = (h + 1) & (slots - 1))
        if (strcmp(blobs[table[h] - 1].digest, digest) == 0)
            return true;
    table[h] = (uint32_t)n + 1; /* its index, plus one: 0 is an empty slot */
    return false;
}

static int parse_schema1(em_call *c, em_manifest *mf, const em_jdoc *d, const size_t *top)
{
    size_t fs = top[TOP_FS_LAYERS];
    if (type_of(d, fs) != EM_J_ARRAY)
        return manifest_error(c, INVALID_JSON_SYNTAX);
    uint32_t *table = NULL; /* made when the blobs outgrow SCHEMA1_COMPARED */
    size_t slots = 1;
    int rc = 0;
    each_item(d, fs, k, l) {
        char *mark = mf->next;
        const char *digest = keep(mf, d, desc_str(d, l, DESC_BLOB_SUM));
        if (!em_digest_ok(digest)) {
            rc = manifest_error(c, MANIFEST_FS_LAYER);
            break;
        }
        if (!table && mf->n_layers == SCHEMA1_COMPARED) {
            /* more than twice the items (each at most one blob): under half full */
            while (slots <= 2 * (size_t)array_size(d, fs))
                slots *= 2;
            if (!(table = em_calloc(slots, sizeof *table))) {
                rc = em_fail_nomem(c);
                break;
            }
            for (size_t j = 0; j < mf->n_layers; j++) /* the blobs so far, into it */
                schema1_seen(mf->layers, j, table, slots, mf->layers[j].digest);
        }
        /* schema 1 repeats empty layers: list each blob once */
        if (!schema1_seen(mf->layers, mf->n_layers, table, slots, digest))
            mf->layers[mf->n_layers++] = (em_mf_blob){.digest = digest};
        else if (mf->end)
            mf->next = mark;
    }
    em_free(table);
    return rc;
}

static int parse_doc(em_call *c, em_manifest *mf, const em_jdoc *d, size_t len, const char *req_media_type)
{
    size_t top[TOP_N];
    find_top(d, top);
    mf_need need;
    measure(d, len, top, &need);
    if (reserve(c, mf, &need) < 0)
        return -1;

    const char *doc_mt = keep(mf, d, str_tok(d, top[TOP_MEDIA_TYPE]));
    size_t schema = top[TOP_SCHEMA];
    bool schema1 = false;
    if (!doc_mt && !req_media_type) {
        /* Schema 1 manifests carry no mediaType: recognise them by their version. */
        if (int_value(d, schema) == 1 && top[TOP_FS_LAYERS])
            schema1 = true;
        else
            return manifest_error(c, INVALID_JSON_SYNTAX);
    }
    if (doc_mt && req_media_type && strcmp(doc_mt, req_media_type) != 0)
        return em_fail_rule(c, "imageManifestMediaType", EM_RULE_MEDIA_TYPE_MISMATCH, req_media_type, doc_mt);
    mf->media_type = schema1 ? MT_DOCKER_V1_SIGNED : doc_mt ? doc_mt : req_media_type;

    const char *mt = mf->media_type;
    if (strcmp(mt, MT_DOCKER_V1) == 0 || strcmp(mt, MT_DOCKER_V1_SIGNED) == 0)
        return parse_schema1(c, mf, d, top);
    if (type_of(d, schema) != EM_J_INTEGER || d->t[schema].integer != 2)
        return manifest_error(c, INVALID_JSON_SYNTAX);
    if (strcmp(mt, MT_DOCKER_V2) == 0 || strcmp(mt, MT_OCI_MANIFEST) == 0)
        return parse_image(c, mf, d, top);
    if (em_media_type_is_list(mt))
        return parse_list(c, mf, d, top);
    return em_fail_rule(c, "imageManifestMediaType", EM_RULE_MEDIA_TYPE_UNSUPPORTED, mt);
}

int em_manifest_parse(em_call *c, const char *bytes, size_t len, const char *req_media_type, em_manifest *mf)
{
    memset(mf, 0, offsetof(em_manifest, inline_layers));
    em_jtok stack[STACK_TOKENS];
    em_jdoc d;
    int rc = em_jdoc_read(&d, bytes, len, false, stack, STACK_TOKENS);
    if (rc == EM_JSCAN_NOMEM)
        return em_fail_nomem(c);
    if (rc != EM_JSCAN_OK || d.t[0].type != EM_J_OBJECT)
        return manifest_error(c, INVALID_JSON_SYNTAX);
    rc = parse_doc(c, mf, &d, len, req_media_type);
    em_jdoc_release(&d);
    if (rc == 0 && !mf->end)
        return em_fail_nomem(c);
    return rc;
}

void em_manifest_release(em_manifest *mf)
{
    em_free(mf->heap);
    memset(mf, 0, offsetof(em_manifest, inline_layers));
}
