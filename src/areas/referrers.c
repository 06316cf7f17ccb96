/*
 * Referrers: ListImageReferrers.
 *
 * A referrer is an image of the repository whose manifest names a subject
 * (OCI 1.1 `subject`: a signature, an SBOM, an attestation); PutImage records
 * the subject's digest.  The subject itself need not be in the repository,
 * as in the OCI referrers API.  Each referrer is described as OCI's referrers
 * index describes it: the manifest's digest, media type and byte size, its
 * artifactType (the manifest's `artifactType`, else its config's media type)
 * and its annotations, with its storage status.  Referrers come in push
 * order, 20 a page by default.
 */
#include <stdio.h>
#include <string.h>

#include "areas/areas.h"

#define DEFAULT_PAGE 20

/* The manifest's artifactType, else what PutImage learnt (the config's media type). */
static json_t *referrer_json(ecrmock *m, em_image *img)
{
    bool oom = false;
    json_t *doc = em_json_parse(img->manifest, img->manifest_len, &oom);
    if (!doc && !oom)
        doc = json_loadb(img->manifest, img->manifest_len, 0, NULL);
    if (!doc)
        return NULL; /* stored manifests parse: only memory can fail here */
    const char *type = em_get_str(doc, "artifactType");
    if (!type)
        type = img->artifact_media_type;
    json_t *annotations = json_object_get(doc, "annotations");
    json_t *r = json_pack("{s:s, s:s}", "digest", img->digest, "mediaType", img->media_type);
    if (r && (em_set_opt_str(r, "artifactType", type) < 0 ||
              em_set(r, "size", json_integer((json_int_t)img->manifest_len)) < 0 ||
              em_set(r, "artifactStatus", em_json_string(em_image_status(m, img))) < 0)) {
        json_decref(r);
        r = NULL;
    }
    if (r && json_is_object(annotations) && json_object_size(annotations) > 0) {
        /* Annotations are a map of strings: anything else in them is left out. */
        json_t *copy = json_object();
        const char *key;
        json_t *v;
        json_object_foreach(annotations, key, v) {
            if (copy && json_is_string(v) && json_object_set(copy, key, v) < 0) {
                json_decref(copy);
                copy = NULL;
            }
        }
        if (em_set(r, "annotations", copy) < 0) {
            json_decref(r);
            r = NULL;
        }
    }
    json_decref(doc);
    return r;
}

/* Whether a referrer (referrer_json's answer) has one of `types`, or there are none. */
static bool type_wanted(json_t *types, json_t *ref)
{
    if (json_array_size(types) == 0)
        return true;
    const char *type = em_get_str(ref, "artifactType");
    size_t i;
    json_t *t;
    json_array_foreach(types, i, t) if (type && strcmp(json_string_value(t), type) == 0) return true;
    return false;
}

int em_ListImageReferrers(em_call *c)
{
    em_repo *repo = em_repo_lookup(c);
    if (!repo)
        return -1;
    const char *subject = em_get_str(json_object_get(c->req, "subjectId"), "imageDigest");
    if (!em_digest_ok(subject))
        return em_fail_rule(c, "subjectId.imageDigest", EM_RULE_PATTERN, "[a-zA-Z0-9-_+.]+:[a-fA-F0-9]+");

    json_t *filter = json_object_get(c->req, "filter");
    json_t *types = json_object_get(filter, "artifactTypes");
    const char *status = em_get_str(filter, "artifactStatus");
    if (!status)
        status = "ACTIVE"; /* the default: archived and restoring artifacts are left out */
    const char *token = em_get_str(c->req, "nextToken");
    size_t max = (size_t)em_get_int(c->req, "maxResults", DEFAULT_PAGE);

    /* The token belongs to this subject, status and set of types. */
    char *types_text = types ? json_dumps(types, JSON_COMPACT) : NULL;
    char *scope = em_sprintf("ListImageReferrers|%s|%s|%s|%s|%s", repo->registry->id, repo->name, subject, status,
                             types_text ? types_text : "");
    em_json_free(types_text);
    if (!scope)
        return em_fail_nomem(c);
    em_page_pos pos = {0};
    int rc = 0;
    if (token && em_page_parse(c, scope, token, &pos) < 0) {
        rc = -1;
        goto out;
    }
    json_t *list = json_array();
    if (em_set(c->out, "referrers", list) < 0) {
        rc = em_fail_nomem(c);
        goto out;
    }
    size_t i = token ? em_seqvec_lower_bound(&repo->order, pos.seq) : 0;
    for (; i < repo->order.n; i++) {
        em_image *img = repo->order.v[i].item;
        if (!img || !img->subject || strcmp(img->subject, subject) != 0)
            continue;
        if (strcmp(status, "ANY") != 0 && strcmp(status, em_image_status(c->m, img)) != 0)
            continue;
        /* Built once: the type filter reads it, the page takes it. */
        json_t *ref = referrer_json(c->m, img);
        if (!ref) {
            rc = em_fail_nomem(c);
            goto out;
        }
        if (!type_wanted(types, ref)) {
            json_decref(ref);
            continue;
        }
        if (json_array_size(list) == max) {
            json_decref(ref);
            em_page_pos next = {.seq = img->seq};
            if (em_set(c->out, "nextToken", em_page_token(c->m, scope, &next)) < 0)
                rc = em_fail_nomem(c);
            goto out;
        }
        if (json_array_append_new(list, ref) < 0) {
            rc = em_fail_nomem(c);
            goto out;
        }
    }
out:
    em_free(scope);
    return rc;
}
