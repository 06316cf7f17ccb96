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

/* ---- the manifest's storage ----------------------------------------------
 * Measured first (an upper bound: every string the parse may keep, a layer's
 * media type once when the layer before it has the same), taken inline when
 * it fits, else as one allocation; then filled as the checks go. */

typedef struct mf_need {
    size_t blobs, children, text;
} mf_need;

/* The room for the string member `key` of object o (none when not a string). */
static size_t str_room(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_length(v) + 1 : 0;
}

static void measure(json_t *doc, mf_need *need)
{
    json_t *config = json_object_get(doc, "config");
    json_t *layers = json_object_get(doc, "layers");
    json_t *manifests = json_object_get(doc, "manifests");
    json_t *fs = json_object_get(doc, "fsLayers");
    json_t *subject = json_object_get(doc, "subject");
    need->text = str_room(doc, "mediaType") + str_room(doc, "artifactType") + str_room(subject, "digest");
    need->blobs = (config ? 1 : 0) + json_array_size(layers) + json_array_size(fs);
    need->children = json_array_size(manifests);
    need->text += str_room(config, "digest") + str_room(config, "mediaType");
    const char *prev = NULL;
    size_t i;
    json_t *v;
    json_array_foreach(layers, i, v) {
        const char *mt = em_get_str(v, "mediaType");
        need->text += str_room(v, "digest") + (mt && !(prev && strcmp(prev, mt) == 0) ? strlen(mt) + 1 : 0);
        prev = mt;
    }
    json_array_foreach(manifests, i, v) need->text += str_room(v, "digest");
    json_array_foreach(fs, i, v) need->text += str_room(v, "blobSum");
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
    /* the counts are bounded by the text's length: no overflow */
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

/* A copy of s (NUL-terminated) in mf's storage; NULL for NULL.  Past the
 * room measured (which cannot happen) it copies nothing and marks the
 * storage spent (end NULL): the parse then fails rather than overrun. */
static const char *keep(em_manifest *mf, const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s);
    if (!mf->end || n >= (size_t)(mf->end - mf->next)) {
        mf->end = NULL;
        return "";
    }
    char *p = mf->next;
    memcpy(p, s, n + 1);
    mf->next += n + 1;
    return p;
}

/* Checks a descriptor and lists its blob unless it is non-distributable;
 * kept (may be NULL: a layer) gets what was kept of it. */
static int add_blob(em_call *c, em_manifest *mf, json_t *desc, const char *what, em_mf_blob *kept)
{
    if (!json_is_object(desc))
        return manifest_error(c, INVALID_JSON_SYNTAX);
    const char *digest = em_get_str(desc, "digest");
    const char *mt = em_get_str(desc, "mediaType");
    json_t *size = json_object_get(desc, "size");
    if (!em_digest_ok(digest) || (size && (!json_is_integer(size) || json_integer_value(size) < 0))) {
        return manifest_error(c, MANIFEST_BLOB, what);
    }
    bool listed = !em_media_type_non_distributable(mt);
    if (!listed && !kept)
        return 0;
    /* a layer's media type is most often the one before it */
    const char *last = mf->n_layers ? mf->layers[mf->n_layers - 1].media_type : NULL;
    em_mf_blob b = {keep(mf, digest), mt && last && strcmp(last, mt) == 0 ? last : keep(mf, mt)};
    if (listed)
        mf->layers[mf->n_layers++] = b;
    if (kept)
        *kept = b;
    return 0;
}

/* The OCI 1.1 subject, when the manifest names one (images and indexes alike). */
static int parse_subject(em_call *c, em_manifest *mf, json_t *doc)
{
    json_t *subject = json_object_get(doc, "subject");
    if (!subject)
        return 0;
    if (!json_is_object(subject) || !em_digest_ok(em_get_str(subject, "digest")))
        return manifest_error(c, MANIFEST_SUBJECT);
    mf->subject = keep(mf, em_get_str(subject, "digest"));
    return 0;
}

static int parse_image(em_call *c, em_manifest *mf, json_t *doc)
{
    json_t *config = json_object_get(doc, "config");
    json_t *layers = json_object_get(doc, "layers");
    if (!json_is_object(config) || !json_is_array(layers))
        return manifest_error(c, INVALID_JSON_SYNTAX);
    if (json_array_size(layers) > c->m->opts.max_layers_per_image)
        return manifest_error(c, MANIFEST_LAYER_LIMIT);
    em_mf_blob kept;
    if (add_blob(c, mf, config, "config", &kept) < 0)
        return -1;
    mf->config_digest = kept.digest;
    mf->config_media_type = kept.media_type;
    size_t i;
    json_t *l;
    json_array_foreach(layers, i, l) {
        if (add_blob(c, mf, l, "layer", NULL) < 0)
            return -1;
    }
    if (parse_subject(c, mf, doc) < 0)
        return -1;
    const char *artifact = em_get_str(doc, "artifactType");
    if (artifact)
        mf->config_media_type = keep(mf, artifact);
    return 0;
}

static int parse_list(em_call *c, em_manifest *mf, json_t *doc)
{
    json_t *manifests = json_object_get(doc, "manifests");
    if (!json_is_array(manifests))
        return manifest_error(c, INVALID_JSON_SYNTAX);
    size_t i;
    json_t *d;
    json_array_foreach(manifests, i, d) {
        const char *digest = json_is_object(d) ? em_get_str(d, "digest") : NULL;
        if (!em_digest_ok(digest))
            return manifest_error(c, MANIFEST_DESCRIPTOR);
        mf->children[mf->n_children++] = keep(mf, digest);
    }
    if (parse_subject(c, mf, doc) < 0)
        return -1;
    mf->is_list = true;
    return 0;
}

static int parse_schema1(em_call *c, em_manifest *mf, json_t *doc)
{
    json_t *fs = json_object_get(doc, "fsLayers");
    if (!json_is_array(fs))
        return manifest_error(c, INVALID_JSON_SYNTAX);
    size_t i;
    json_t *l;
    json_array_foreach(fs, i, l) {
        const char *digest = json_is_object(l) ? em_get_str(l, "blobSum") : NULL;
        if (!em_digest_ok(digest))
            return manifest_error(c, MANIFEST_FS_LAYER);
        /* schema 1 repeats empty layers: list each blob once */
        bool seen = false;
        for (size_t j = 0; j < mf->n_layers && !seen; j++)
            seen = strcmp(mf->layers[j].digest, digest) == 0;
        if (!seen)
            mf->layers[mf->n_layers++] = (em_mf_blob){.digest = keep(mf, digest)};
    }
    return 0;
}

static int parse_doc(em_call *c, em_manifest *mf, json_t *doc, const char *req_media_type)
{
    if (!json_is_object(doc))
        return manifest_error(c, INVALID_JSON_SYNTAX);
    mf_need need;
    measure(doc, &need);
    if (reserve(c, mf, &need) < 0)
        return -1;

    const char *doc_mt = em_get_str(doc, "mediaType");
    json_t *schema = json_object_get(doc, "schemaVersion");
    bool schema1 = false;
    if (!doc_mt && !req_media_type) {
        /* Schema 1 manifests carry no mediaType: recognise them by their version. */
        if (json_integer_value(schema) == 1 && json_object_get(doc, "fsLayers"))
            schema1 = true;
        else
            return manifest_error(c, INVALID_JSON_SYNTAX);
    }
    if (doc_mt && req_media_type && strcmp(doc_mt, req_media_type) != 0)
        return em_fail_rule(c, "imageManifestMediaType", EM_RULE_MEDIA_TYPE_MISMATCH, req_media_type, doc_mt);
    mf->media_type = schema1 ? MT_DOCKER_V1_SIGNED : doc_mt ? keep(mf, doc_mt) : req_media_type;

    const char *mt = mf->media_type;
    if (strcmp(mt, MT_DOCKER_V1) == 0 || strcmp(mt, MT_DOCKER_V1_SIGNED) == 0)
        return parse_schema1(c, mf, doc);
    if (!json_is_integer(schema) || json_integer_value(schema) != 2)
        return manifest_error(c, INVALID_JSON_SYNTAX);
    if (strcmp(mt, MT_DOCKER_V2) == 0 || strcmp(mt, MT_OCI_MANIFEST) == 0)
        return parse_image(c, mf, doc);
    if (em_media_type_is_list(mt))
        return parse_list(c, mf, doc);
    return em_fail_rule(c, "imageManifestMediaType", EM_RULE_MEDIA_TYPE_UNSUPPORTED, mt);
}

int em_manifest_parse(em_call *c, const char *bytes, size_t len, const char *req_media_type, em_manifest *mf)
{
    memset(mf, 0, offsetof(em_manifest, inline_layers));
    json_error_t jerr;
    bool oom = false;
    json_t *doc = em_json_parse(bytes, len, &oom);
    if (oom)
        return em_fail_nomem(c);
    if (!doc)
        doc = json_loadb(bytes, len, 0, &jerr);
    int rc = parse_doc(c, mf, doc, req_media_type);
    json_decref(doc);
    if (rc == 0 && !mf->end)
        return em_fail_nomem(c);
    return rc;
}

void em_manifest_release(em_manifest *mf)
{
    em_free(mf->heap);
    memset(mf, 0, offsetof(em_manifest, inline_layers));
}
