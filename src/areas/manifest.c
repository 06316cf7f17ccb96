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

static int add_blob(em_call *c, em_manifest *mf, json_t *desc, const char *what)
{
    if (!json_is_object(desc))
        return manifest_error(c, INVALID_JSON_SYNTAX);
    const char *digest = em_get_str(desc, "digest");
    const char *mt = em_get_str(desc, "mediaType");
    json_t *size = json_object_get(desc, "size");
    if (!em_digest_ok(digest) || (size && (!json_is_integer(size) || json_integer_value(size) < 0))) {
        return manifest_error(c, MANIFEST_BLOB, what);
    }
    if (em_media_type_non_distributable(mt))
        return 0;
    /* The descriptor itself, shared with mf->doc (which nothing changes): a
     * copy of its digest and media type cost 8 allocations a blob. */
    if (json_array_append(mf->layers, desc) < 0)
        return em_fail_nomem(c);
    return 0;
}

/* The OCI 1.1 subject, when the manifest names one (images and indexes alike). */
static int parse_subject(em_call *c, em_manifest *mf)
{
    json_t *subject = json_object_get(mf->doc, "subject");
    if (!subject)
        return 0;
    if (!json_is_object(subject) || !em_digest_ok(em_get_str(subject, "digest")))
        return manifest_error(c, MANIFEST_SUBJECT);
    mf->subject = em_get_str(subject, "digest");
    return 0;
}

static int parse_image(em_call *c, em_manifest *mf)
{
    json_t *config = json_object_get(mf->doc, "config");
    json_t *layers = json_object_get(mf->doc, "layers");
    if (!json_is_object(config) || !json_is_array(layers))
        return manifest_error(c, INVALID_JSON_SYNTAX);
    if (json_array_size(layers) > c->m->opts.max_layers_per_image)
        return manifest_error(c, MANIFEST_LAYER_LIMIT);
    if (add_blob(c, mf, config, "config") < 0)
        return -1;
    mf->config_digest = em_get_str(config, "digest");
    mf->config_media_type = em_get_str(config, "mediaType");
    size_t i;
    json_t *l;
    json_array_foreach(layers, i, l) {
        if (add_blob(c, mf, l, "layer") < 0)
            return -1;
    }
    if (parse_subject(c, mf) < 0)
        return -1;
    const char *artifact = em_get_str(mf->doc, "artifactType");
    if (artifact)
        mf->config_media_type = artifact;
    return 0;
}

static int parse_list(em_call *c, em_manifest *mf)
{
    json_t *manifests = json_object_get(mf->doc, "manifests");
    if (!json_is_array(manifests))
        return manifest_error(c, INVALID_JSON_SYNTAX);
    size_t i;
    json_t *d;
    json_array_foreach(manifests, i, d) {
        const char *digest = json_is_object(d) ? em_get_str(d, "digest") : NULL;
        if (!em_digest_ok(digest))
            return manifest_error(c, MANIFEST_DESCRIPTOR);
        if (json_array_append_new(mf->children, em_json_string(digest)) < 0)
            return em_fail_nomem(c);
    }
    if (parse_subject(c, mf) < 0)
        return -1;
    mf->is_list = true;
    return 0;
}

static int parse_schema1(em_call *c, em_manifest *mf)
{
    json_t *fs = json_object_get(mf->doc, "fsLayers");
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
        size_t j;
        json_t *prev;
        json_array_foreach(mf->layers, j, prev) seen = seen || strcmp(em_get_str(prev, "digest"), digest) == 0;
        if (!seen && json_array_append_new(mf->layers, json_pack("{s:s}", "digest", digest)) < 0)
            return em_fail_nomem(c);
    }
    return 0;
}

int em_manifest_parse(em_call *c, const char *bytes, size_t len, const char *req_media_type, em_manifest *mf)
{
    memset(mf, 0, sizeof *mf);
    json_error_t jerr;
    bool oom = false;
    mf->doc = em_json_parse(bytes, len, &oom);
    if (oom)
        return em_fail_nomem(c);
    if (!mf->doc)
        mf->doc = json_loadb(bytes, len, 0, &jerr);
    if (!json_is_object(mf->doc))
        return manifest_error(c, INVALID_JSON_SYNTAX);
    mf->layers = json_array();
    mf->children = json_array();
    if (!mf->layers || !mf->children)
        return em_fail_nomem(c);

    const char *doc_mt = em_get_str(mf->doc, "mediaType");
    json_t *schema = json_object_get(mf->doc, "schemaVersion");
    if (!doc_mt && !req_media_type) {
        /* Schema 1 manifests carry no mediaType: recognise them by their version. */
        if (json_integer_value(schema) == 1 && json_object_get(mf->doc, "fsLayers"))
            doc_mt = MT_DOCKER_V1_SIGNED;
        else
            return manifest_error(c, INVALID_JSON_SYNTAX);
    }
    if (doc_mt && req_media_type && strcmp(doc_mt, req_media_type) != 0)
        return em_fail_rule(c, "imageManifestMediaType", EM_RULE_MEDIA_TYPE_MISMATCH, req_media_type, doc_mt);
    mf->media_type = doc_mt ? doc_mt : req_media_type;

    const char *mt = mf->media_type;
    if (strcmp(mt, MT_DOCKER_V1) == 0 || strcmp(mt, MT_DOCKER_V1_SIGNED) == 0)
        return parse_schema1(c, mf);
    if (!json_is_integer(schema) || json_integer_value(schema) != 2)
        return manifest_error(c, INVALID_JSON_SYNTAX);
    if (strcmp(mt, MT_DOCKER_V2) == 0 || strcmp(mt, MT_OCI_MANIFEST) == 0)
        return parse_image(c, mf);
    if (em_media_type_is_list(mt))
        return parse_list(c, mf);
    return em_fail_rule(c, "imageManifestMediaType", EM_RULE_MEDIA_TYPE_UNSUPPORTED, mt);

}

void em_manifest_release(em_manifest *mf)
{
    json_decref(mf->doc);
    json_decref(mf->layers);
    json_decref(mf->children);
    memset(mf, 0, sizeof *mf);
}
