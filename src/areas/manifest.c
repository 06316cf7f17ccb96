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

/* Member `name` of object v (the last of that name), or 0; 0 for a v that is
 * none or no object, as json_object_get. */
static size_t member(const em_jdoc *d, size_t v, const char *name)
{
    return v ? em_jget(d, v == ROOT ? 0 : v, name) : 0;
}

/* Member `name` of object v when it is a string (em_get_str), or 0. */
static size_t str_member(const em_jdoc *d, size_t v, const char *name)
{
    size_t m = member(d, v, name);
    return type_of(d, m) == EM_J_STRING ? m : 0;
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

/* The room for the string member `name` of object v (none when not a string). */
static size_t str_room(const em_jdoc *d, size_t v, const char *name)
{
    size_t m = str_member(d, v, name);
    return m ? d->t[m].len + 1 : 0;
}

static void measure(const em_jdoc *d, mf_need *need)
{
    size_t config = member(d, ROOT, "config"), layers = member(d, ROOT, "layers"),
           manifests = member(d, ROOT, "manifests"), fs = member(d, ROOT, "fsLayers");
    need->text = str_room(d, ROOT, "mediaType") + str_room(d, ROOT, "artifactType") +
                 str_room(d, member(d, ROOT, "subject"), "digest") + str_room(d, config, "digest") +
                 str_room(d, config, "mediaType");
    need->blobs = 1 + array_size(d, layers) + array_size(d, fs);
    need->children = array_size(d, manifests);
    each_item(d, layers, k, l) need->text += str_room(d, l, "digest") + str_room(d, l, "mediaType");
    each_item(d, manifests, k, m) need->text += str_room(d, m, "digest");
    each_item(d, fs, k, l) need->text += str_room(d, l, "blobSum");
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
    const char *digest = keep(mf, d, str_member(d, desc, "digest"));
    const char *mt = keep(mf, d, str_member(d, desc, "mediaType"));
    size_t size = member(d, desc, "size");
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

/* The OCI 1.1 subject, when the manifest names one (images and indexes alike). */
static int parse_subject(em_call *c, em_manifest *mf, const em_jdoc *d)
{
    size_t subject = member(d, ROOT, "subject");
    if (!subject)
        return 0;
    const char *digest = keep(mf, d, str_member(d, subject, "digest"));
    if (type_of(d, subject) != EM_J_OBJECT || !em_digest_ok(digest))
        return manifest_error(c, MANIFEST_SUBJECT);
    mf->subject = digest;
    return 0;
}

static int parse_image(em_call *c, em_manifest *mf, const em_jdoc *d)
{
    size_t config = member(d, ROOT, "config"), layers = member(d, ROOT, "layers");
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
    if (parse_subject(c, mf, d) < 0)
        return -1;
    size_t artifact = str_member(d, ROOT, "artifactType");
    if (artifact)
        mf->config_media_type = keep(mf, d, artifact);
    return 0;
}

static int parse_list(em_call *c, em_manifest *mf, const em_jdoc *d)
{
    size_t manifests = member(d, ROOT, "manifests");
    if (type_of(d, manifests) != EM_J_ARRAY)
        return manifest_error(c, INVALID_JSON_SYNTAX);
    each_item(d, manifests, k, m) {
        const char *digest = keep(mf, d, str_member(d, m, "digest"));
        if (!em_digest_ok(digest))
            return manifest_error(c, MANIFEST_DESCRIPTOR);
        mf->children[mf->n_children++] = digest;
    }
    if (parse_subject(c, mf, d) < 0)
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

static int parse_schema1(em_call *c, em_manifest *mf, const em_jdoc *d)
{
    size_t fs = member(d, ROOT, "fsLayers");
    if (type_of(d, fs) != EM_J_ARRAY)
        return manifest_error(c, INVALID_JSON_SYNTAX);
    uint32_t *table = NULL; /* made when the blobs outgrow SCHEMA1_COMPARED */
    size_t slots = 1;
    int rc = 0;
    each_item(d, fs, k, l) {
        char *mark = mf->next;
        const char *digest = keep(mf, d, str_member(d, l, "blobSum"));
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

static int parse_doc(em_call *c, em_manifest *mf, const em_jdoc *d, const char *req_media_type)
{
    mf_need need;
    measure(d, &need);
    if (reserve(c, mf, &need) < 0)
        return -1;

    const char *doc_mt = keep(mf, d, str_member(d, ROOT, "mediaType"));
    size_t schema = member(d, ROOT, "schemaVersion");
    bool schema1 = false;
    if (!doc_mt && !req_media_type) {
        /* Schema 1 manifests carry no mediaType: recognise them by their version. */
        if (int_value(d, schema) == 1 && member(d, ROOT, "fsLayers"))
            schema1 = true;
        else
            return manifest_error(c, INVALID_JSON_SYNTAX);
    }
    if (doc_mt && req_media_type && strcmp(doc_mt, req_media_type) != 0)
        return em_fail_rule(c, "imageManifestMediaType", EM_RULE_MEDIA_TYPE_MISMATCH, req_media_type, doc_mt);
    mf->media_type = schema1 ? MT_DOCKER_V1_SIGNED : doc_mt ? doc_mt : req_media_type;

    const char *mt = mf->media_type;
    if (strcmp(mt, MT_DOCKER_V1) == 0 || strcmp(mt, MT_DOCKER_V1_SIGNED) == 0)
        return parse_schema1(c, mf, d);
    if (type_of(d, schema) != EM_J_INTEGER || d->t[schema].integer != 2)
        return manifest_error(c, INVALID_JSON_SYNTAX);
    if (strcmp(mt, MT_DOCKER_V2) == 0 || strcmp(mt, MT_OCI_MANIFEST) == 0)
        return parse_image(c, mf, d);
    if (em_media_type_is_list(mt))
        return parse_list(c, mf, d);
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
    rc = parse_doc(c, mf, &d, req_media_type);
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
