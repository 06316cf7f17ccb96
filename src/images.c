/*
 * Images: PutImage, BatchGetImage, BatchDeleteImage, ListImages and
 * DescribeImages.
 *
 * An image is its manifest bytes; its digest is the SHA-256 of exactly those
 * bytes, its size is computed from the layers it references, and tags are
 * unique in a repository: in a MUTABLE one a tag put on another image moves
 * there (the old image stays, untagged if it had no other tag), in an
 * IMMUTABLE one it is refused.  Deleting an image's last tag deletes it.
 */
#include <stdio.h>
#include <string.h>

#include "actions.h"

/* Whether tag `tag`, once set, may not move to another image. */
static bool tag_immutable(em_repo *repo, const char *tag)
{
    const char *mut = repo->tag_mutability;
    if (strcmp(mut, "MUTABLE") == 0)
        return false;
    if (strcmp(mut, "IMMUTABLE") == 0)
        return true;
    bool excluded = false;
    size_t i;
    json_t *f;
    json_array_foreach(repo->mutability_filters, i, f) excluded = excluded || em_wildcard_match(em_str(f, "filter"), tag, false);
    /* IMMUTABLE_WITH_EXCLUSION: the filters name mutable tags; MUTABLE_WITH_EXCLUSION: immutable ones. */
    return strcmp(mut, "IMMUTABLE_WITH_EXCLUSION") == 0 ? !excluded : excluded;
}

/* ---- PutImage ----------------------------------------------------------------- */

/* Appends "d1, d2" of the digests in `list` that are missing to `out`. */
static void join_missing(json_t *missing, char *out, size_t cap)
{
    size_t used = 0;
    size_t i;
    json_t *d;
    out[0] = '\0';
    json_array_foreach(missing, i, d) {
        if (used >= cap)
            break;
        used += (size_t)snprintf(out + used, cap - used, "%s%s", i ? ", " : "", json_string_value(d));
    }
}

/* Builds the new image from a parsed manifest; NULL when out of memory. */
static em_image *image_new(em_call *c, em_repo *repo, const char *digest, const char *bytes, size_t len,
                           em_manifest *mf)
{
    em_image *img = em_calloc(1, sizeof *img);
    if (!img)
        return NULL;
    snprintf(img->digest, sizeof img->digest, "%s", digest);
    img->manifest = em_strndup(bytes, len);
    img->manifest_len = len;
    img->media_type = em_strdup(mf->media_type);
    img->artifact_media_type = mf->config_media_type ? em_strdup(mf->config_media_type) : NULL;
    img->subject = mf->subject ? em_strdup(mf->subject) : NULL;
    img->pushed_at_ms = c->m->clock_ms;
    size_t nl = json_array_size(mf->layers), nc = json_array_size(mf->children);
    img->layers = nl ? em_calloc(nl, sizeof *img->layers) : NULL;
    img->children = nc ? em_calloc(nc, sizeof *img->children) : NULL;
    if (!img->manifest || !img->media_type || (mf->config_media_type && !img->artifact_media_type) ||
        (mf->subject && !img->subject) || (nl && !img->layers) || (nc && !img->children)) {
        em_image_free(img);
        return NULL;
    }
    /* Distinct layers; the size is the sum of the layers (not the config), as
     * stored; a list's size is the largest of its manifests'. */
    for (size_t i = 0; i < nl; i++) {
        json_t *desc = json_array_get(mf->layers, i);
        em_layer *l = em_layer_get(repo, em_str(desc, "digest"));
        bool dup = false;
        for (size_t j = 0; j < img->n_layers; j++)
            dup = dup || img->layers[j] == l;
        bool is_config = mf->config_digest && i == 0;
        if (!is_config)
            img->size += (int64_t)l->blob->len;
        if (!dup)
            img->layers[img->n_layers++] = l;
    }
    for (size_t i = 0; i < nc; i++) {
        const char *child = json_string_value(json_array_get(mf->children, i));
        snprintf(img->children[i], ECRMOCK_DIGEST_SIZE, "%s", child);
        img->n_children++;
        em_image *ci = em_image_get(repo, child);
        if (ci && ci->size > img->size)
            img->size = ci->size;
    }
    return img;
}

static json_t *image_json(em_repo *repo, em_image *img, const char *tag)
{
    json_t *o = json_object();
    if (!o || em_set(o, "registryId", em_jstr(repo->registry->id)) < 0 ||
        em_set(o, "repositoryName", em_jstr(repo->name)) < 0 ||
        em_set(o, "imageId", em_image_id_json(img->digest, tag)) < 0 ||
        em_set(o, "imageManifest", em_manifest_string(img->manifest, img->manifest_len)) < 0 ||
        em_set(o, "imageManifestMediaType", em_jstr(img->media_type)) < 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *put_image_output(em_repo *repo, em_image *img, const char *tag)
{
    json_t *out = json_object();
    if (!out || em_set(out, "image", image_json(repo, img, tag)) < 0) {
        json_decref(out);
        return NULL;
    }
    return out;
}

/* Remembers the media type of each layer the manifest lists (what
 * BatchCheckLayerAvailability reports).  Best effort: a layer whose type
 * cannot be stored for want of memory simply stays without one. */
static void learn_layer_types(em_repo *repo, em_manifest *mf)
{
    size_t i;
    json_t *desc;
    json_array_foreach(mf->layers, i, desc) {
        const char *mt = em_str(desc, "mediaType");
        em_layer *l = em_layer_get(repo, em_str(desc, "digest"));
        if (!mt || !l || (l->media_type && strcmp(l->media_type, mt) == 0))
            continue;
        char *copy = em_strdup(mt);
        if (copy) {
            em_free(l->media_type);
            l->media_type = copy;
        }
    }
}

int em_PutImage(em_call *c)
{
    em_repo *repo = em_repo_lookup(c);
    if (!repo)
        return -1;
    json_t *jm = json_object_get(c->req, "imageManifest");
    const char *bytes = json_string_value(jm);
    size_t len = json_string_length(jm);
    const char *tag = em_str(c->req, "imageTag");
    const char *given = em_str(c->req, "imageDigest");
    const char *reg = repo->registry->id;

    em_manifest mf;
    if (em_manifest_parse(c, bytes, len, em_str(c->req, "imageManifestMediaType"), &mf) < 0) {
        em_manifest_release(&mf);
        return -1;
    }
    char digest[ECRMOCK_DIGEST_SIZE];
    em_sha256_digest(bytes, len, digest);
    int rc = -1;
    json_t *missing = json_array();
    if (!missing) {
        rc = em_fail_nomem(c);
        goto out;
    }
    if (given && strcmp(given, digest) != 0) {
        em_fail(c, ECRMOCK_ERR_IMAGE_DIGEST_DOES_NOT_MATCH,
                "Provided digest '%s' does not match the digest '%s' calculated for the image manifest", given,
                digest);
        goto out;
    }
    size_t i;
    json_t *v;
    json_array_foreach(mf.layers, i, v) {
        if (!em_layer_get(repo, em_str(v, "digest")) && json_array_append(missing, json_object_get(v, "digest")) < 0) {
            rc = em_fail_nomem(c);
            goto out;
        }
    }
    char list[2048];
    if (json_array_size(missing)) {
        join_missing(missing, list, sizeof list);
        em_fail(c, ECRMOCK_ERR_LAYERS_NOT_FOUND,
                "Layers with digests '[%s]' required for pushing image into repository with name '%s' in the "
                "registry with id '%s' do not exist",
                list, repo->name, reg);
        goto out;
    }
    json_array_foreach(mf.children, i, v) {
        if (!em_image_get(repo, json_string_value(v)) && json_array_append(missing, v) < 0) {
            rc = em_fail_nomem(c);
            goto out;
        }
    }
    if (json_array_size(missing)) {
        join_missing(missing, list, sizeof list);
        em_fail(c, ECRMOCK_ERR_REFERENCED_IMAGES_NOT_FOUND,
                "The manifest list references images that do not exist in the repository with name '%s' in the "
                "registry with id '%s': [%s]",
                repo->name, reg, list);
        goto out;
    }

    em_image *existing = em_image_get(repo, digest);
    em_tag *held = tag ? em_tag_get(repo, tag) : NULL;
    if (held && tag_immutable(repo, tag)) {
        em_fail(c, ECRMOCK_ERR_IMAGE_TAG_ALREADY_EXISTS,
                "The image tag '%s' already exists in the '%s' repository and cannot be overwritten because the "
                "repository is immutable.",
                tag, repo->name);
        goto out;
    }
    /* Pushing an archived (or restoring) image again restores it at once. */
    bool revive = existing && !em_image_active(c->m, existing);
    if (existing && !revive && (!tag || (held && held->image == existing))) {
        em_fail(c, ECRMOCK_ERR_IMAGE_ALREADY_EXISTS,
                "Image with digest '%s' and tag '%s' already exists in the repository with name '%s' in registry "
                "with id '%s'",
                digest, tag ? tag : "null", repo->name, reg);
        goto out;
    }
    if (!existing && em_repo_image_count(repo) >= c->m->opts.max_images) {
        em_fail(c, ECRMOCK_ERR_LIMIT_EXCEEDED,
                "The repository with name '%s' in registry with id '%s' already has the maximum allowed number of "
                "images which is '%llu'",
                repo->name, reg, (unsigned long long)c->m->opts.max_images);
        goto out;
    }
    /* Only a tag the image does not have yet counts (a re-push of an archived
     * image may bring none, or its own). */
    bool adds_tag = tag && !(held && held->image == existing);
    if (existing && adds_tag && existing->n_tags >= c->m->opts.max_tags_per_image) {
        em_fail(c, ECRMOCK_ERR_LIMIT_EXCEEDED,
                "Adding tag '%s' to an image in the repository with name '%s' in registry with id '%s' exceeds the "
                "maximum allowed number of tags per image which is '%llu'",
                tag, repo->name, reg, (unsigned long long)c->m->opts.max_tags_per_image);
        goto out;
    }

    /* Everything is checked: now change the state, all or nothing. */
    em_image *img = existing;
    if (!img) {
        img = image_new(c, repo, digest, bytes, len, &mf);
        if (!img || em_signing_on_push(repo, img) < 0 || em_image_insert(c->m, repo, img) < 0) {
            em_image_free(img);
            rc = em_fail_nomem(c);
            goto out;
        }
    }
    json_t *out = put_image_output(repo, img, tag);
    if (!out || (tag && em_tag_set(repo, img, tag) < 0)) {
        json_decref(out);
        if (!existing)
            em_image_remove(repo, img);
        rc = em_fail_nomem(c);
        goto out;
    }
    if (!existing) {
        learn_layer_types(repo, &mf);
        em_scan_on_push(c->m, repo, img); /* scanning.c: scan on push; cannot fail */
    }
    if (revive) {
        /* A list's images went to the archive with it: they come back with it. */
        for (size_t k = 0; k < img->n_children; k++) {
            em_image *child = em_image_get(repo, img->children[k]);
            if (child && !em_image_active(c->m, child))
                em_image_reactivate(c->m, child);
        }
        em_image_reactivate(c->m, img);
    }
    json_decref(c->out);
    c->out = out;
    em_replicate(c->m, repo, img, tag); /* replication.c: copies to the registry's destinations */
    rc = 0;
out:
    json_decref(missing);
    em_manifest_release(&mf);
    return rc;
}

static const struct {
    const char *code, *reason;
} id_failures[] = {
    [EM_ID_MISSING_DIGEST_AND_TAG] = {"MissingDigestAndTag", "Invalid request parameters: both tag and digest cannot be null"},
    [EM_ID_INVALID_DIGEST] = {"InvalidImageDigest",
                           "Invalid request parameters: image digest should satisfy the regex "
                           "'[a-zA-Z0-9-_+.]+:[a-fA-F0-9]+'"},
    [EM_ID_TAG_DOES_NOT_MATCH] = {"ImageTagDoesNotMatchDigest",
                               "Invalid request parameters: given tag does not map to the given digest"},
    [EM_ID_NOT_FOUND] = {"ImageNotFound", "Requested image not found"},
    [EM_ID_ARCHIVED] = {"ImageInaccessible", "Requested image is archived and must be restored before it can be pulled"},
};

/* An ImageFailure for the request's id (its digest and tag as given). */
static json_t *failure_with(json_t *id, const char *code, const char *reason)
{
    json_t *copy = json_pack("{s:s*, s:s*}", "imageDigest", em_str(id, "imageDigest"), "imageTag", em_str(id, "imageTag"));
    return json_pack("{s:o, s:s, s:s}", "imageId", copy, "failureCode", code, "failureReason", reason);
}

static json_t *failure_json(json_t *id, em_id_result r)
{
    return failure_with(id, id_failures[r].code, id_failures[r].reason);
}

/* ---- BatchGetImage ---------------------------------------------------------------- */

static bool accepted(json_t *types, const char *mt)
{
    if (!types)
        return true;
    size_t i;
    json_t *t;
    json_array_foreach(types, i, t) if (strcmp(json_string_value(t), mt) == 0) return true;
    return false;
}

int em_BatchGetImage(em_call *c)
{
    em_repo *repo = em_repo_lookup(c);
    if (!repo)
        return -1;
    json_t *types = json_object_get(c->req, "acceptedMediaTypes");
    if (em_set(c->out, "images", json_array()) < 0 || em_set(c->out, "failures", json_array()) < 0)
        return em_fail_nomem(c);
    json_t *images = json_object_get(c->out, "images"), *failures = json_object_get(c->out, "failures");
    json_t *ids = json_object_get(c->req, "imageIds");
    /* First the answer, then the pull times: a call that runs out of memory
     * records no pull. */
    em_image **pulled = em_calloc(json_array_size(ids), sizeof *pulled);
    if (!pulled)
        return em_fail_nomem(c);
    size_t n_pulled = 0, i;
    json_t *id;
    json_array_foreach(ids, i, id) {
        em_image *img;
        em_tag *t;
        em_id_result r = em_image_resolve(repo, id, &img, &t);
        if (r == EM_ID_FOUND && !accepted(types, img->media_type))
            r = EM_ID_NOT_FOUND; /* ecrmock converts no manifest from one format to another */
        if (r == EM_ID_FOUND && !em_image_active(c->m, img))
            r = EM_ID_ARCHIVED; /* archived, or still being restored: no pull */
        int err = 0;
        if (r != EM_ID_FOUND) {
            err = json_array_append_new(failures, failure_json(id, r));
        } else if (t || img->n_tags == 0) {
            err = json_array_append_new(images, image_json(repo, img, t ? t->name : NULL));
        } else {
            /* By digest alone: one entry per tag the image has. */
            for (size_t k = 0; k < img->n_tags && !err; k++)
                err = json_array_append_new(images, image_json(repo, img, img->tags[k]->name));
        }
        if (err) {
            em_free(pulled);
            return em_fail_nomem(c);
        }
        if (r == EM_ID_FOUND)
            pulled[n_pulled++] = img;
    }
    /* An excluded principal's pulls are not recorded (pull_time_exclusions.c). */
    for (size_t k = 0; k < n_pulled && !em_pull_time_excluded(c->m, repo->registry); k++)
        pulled[k]->pulled_at_ms = c->m->clock_ms;
    em_free(pulled);
    return 0;
}

/* ---- BatchDeleteImage -------------------------------------------------------------- */

/* The lists/indexes of the repository that reference `img`, "d1, d2". */
static void referencing_lists(em_repo *repo, em_image *img, char *out, size_t cap)
{
    size_t used = 0, pos = 0;
    out[0] = '\0';
    for (em_image *p; used < cap && (p = em_next_parent(repo, img, &pos));)
        used += (size_t)snprintf(out + used, cap - used, "%s%s", used ? ", " : "", p->digest);
}

typedef struct planned {
    em_image *img;
    em_tag *tag; /* NULL: the whole image */
} planned;

int em_BatchDeleteImage(em_call *c)
{
    em_repo *repo = em_repo_lookup(c);
    if (!repo)
        return -1;
    if (em_set(c->out, "imageIds", json_array()) < 0 || em_set(c->out, "failures", json_array()) < 0)
        return em_fail_nomem(c);
    json_t *deleted = json_object_get(c->out, "imageIds"), *failures = json_object_get(c->out, "failures");
    json_t *ids = json_object_get(c->req, "imageIds");
    planned *plan = em_calloc(json_array_size(ids), sizeof *plan);
    if (!plan)
        return em_fail_nomem(c);
    size_t n_plan = 0, i;
    json_t *id;
    /* Plan against the state before the call, and write the answer; only then
     * delete, which cannot fail. */
    json_array_foreach(ids, i, id) {
        em_image *img;
        em_tag *t;
        em_id_result r = em_image_resolve(repo, id, &img, &t);
        int err = 0;
        /* What earlier ids of this call already do to the image: a name
         * given twice is deleted once and listed once, and the tags removed
         * one by one count towards its last tag. */
        bool gone = false, tag_done = false;
        size_t removed = 0;
        for (size_t k = 0; r == EM_ID_FOUND && k < n_plan; k++) {
            if (plan[k].img != img)
                continue;
            if (!plan[k].tag) {
                gone = true;
            } else {
                removed++;
                tag_done = tag_done || plan[k].tag == t;
            }
        }
        if (gone || tag_done)
            continue;
        bool whole = r == EM_ID_FOUND && (!t || img->n_tags - removed == 1);
        if (r == EM_ID_FOUND && whole && img->parents) {
            char lists[1024];
            referencing_lists(repo, img, lists, sizeof lists);
            char reason[1200];
            snprintf(reason, sizeof reason, "Requested image referenced by manifest list: [%s]", lists);
            err = json_array_append_new(failures, failure_with(id, "ImageReferencedByManifestList", reason));
        } else if (r != EM_ID_FOUND) {
            err = json_array_append_new(failures, failure_json(id, r));
        } else if (t) {
            err = json_array_append_new(deleted, em_image_id_json(img->digest, t->name));
            plan[n_plan++] = (planned){img, whole ? NULL : t};
        } else {
            /* By digest: every tag not listed already by an earlier id. */
            for (size_t k = 0; k < img->n_tags && !err; k++) {
                bool listed = false;
                for (size_t j = 0; j < n_plan; j++)
                    listed = listed || plan[j].tag == img->tags[k];
                if (!listed)
                    err = json_array_append_new(deleted, em_image_id_json(img->digest, img->tags[k]->name));
            }
            if (!err && img->n_tags == 0)
                err = json_array_append_new(deleted, em_image_id_json(img->digest, NULL));
            plan[n_plan++] = (planned){img, NULL};
        }
        if (err) {
            em_free(plan);
            return em_fail_nomem(c);
        }
    }
    /* Tag removals first (their images stay), then whole images. */
    for (size_t k = 0; k < n_plan; k++)
        if (plan[k].tag)
            em_tag_remove(repo, plan[k].tag);
    for (size_t k = 0; k < n_plan; k++) {
        if (plan[k].tag)
            continue;
        bool again = false;
        for (size_t j = 0; j < k; j++)
            again = again || (!plan[j].tag && plan[j].img == plan[k].img);
        if (!again)
            em_image_remove(repo, plan[k].img);
    }
    em_free(plan);
    return 0;
}

/* ---- ListImages and DescribeImages ----------------------------------------------------- */

static bool status_wanted(ecrmock *m, json_t *filter, em_image *img)
{
    const char *ts = em_str(filter, "tagStatus");
    const char *is = em_str(filter, "imageStatus");
    if (!is)
        is = "ACTIVE"; /* the default: archived and restoring images are left out */
    if (strcmp(is, "ANY") != 0 && strcmp(is, em_image_status(m, img)) != 0)
        return false;
    if (!ts || strcmp(ts, "ANY") == 0)
        return true;
    return strcmp(ts, "TAGGED") == 0 ? img->n_tags > 0 : img->n_tags == 0;
}

static void list_scope(em_call *c, em_repo *repo, const char *action, char *out, size_t cap)
{
    json_t *filter = json_object_get(c->req, "filter");
    const char *ts = em_str(filter, "tagStatus"), *is = em_str(filter, "imageStatus");
    snprintf(out, cap, "%s|%s|%s|%s|%s", action, repo->registry->id, repo->name, ts ? ts : "ANY", is ? is : "ACTIVE");
}

int em_ListImages(em_call *c)
{
    em_repo *repo = em_repo_lookup(c);
    if (!repo)
        return -1;
    json_t *filter = json_object_get(c->req, "filter");
    const char *token = em_str(c->req, "nextToken");
    size_t max = (size_t)em_int(c->req, "maxResults", 100);
    char scope[600];
    list_scope(c, repo, "ListImages", scope, sizeof scope);
    em_page_pos pos = {0};
    if (token && em_page_parse(c, scope, token, &pos) < 0)
        return -1;
    json_t *ids = json_array();
    if (em_set(c->out, "imageIds", ids) < 0)
        return em_fail_nomem(c);
    size_t i = token ? em_seqvec_lower_bound(&repo->order, pos.seq) : 0;
    for (; i < repo->order.n; i++) {
        em_image *img = repo->order.v[i].item;
        if (!img || !status_wanted(c->m, filter, img))
            continue;
        /* Resuming inside this image: skip the tags listed already. */
        size_t k = 0;
        if (token && img->seq == pos.seq && pos.tag[0])
            while (k < img->n_tags && strcmp(img->tags[k]->name, pos.tag) < 0)
                k++;
        if (img->n_tags == 0 || k < img->n_tags) {
            do {
                const char *tag = img->n_tags ? img->tags[k]->name : NULL;
                if (json_array_size(ids) == max) {
                    em_page_pos next = {.seq = img->seq};
                    if (tag)
                        snprintf(next.tag, sizeof next.tag, "%s", tag);
                    return em_set(c->out, "nextToken", em_page_token(c->m, scope, &next)) < 0 ? em_fail_nomem(c) : 0;
                }
                if (json_array_append_new(ids, em_image_id_json(img->digest, tag)) < 0)
                    return em_fail_nomem(c);
            } while (++k < img->n_tags);
        }
    }
    return 0;
}

static json_t *detail_json(ecrmock *m, em_repo *repo, em_image *img)
{
    json_t *d = json_object();
    if (!d)
        return NULL;
    if (em_set(d, "registryId", em_jstr(repo->registry->id)) < 0 ||
        em_set(d, "repositoryName", em_jstr(repo->name)) < 0 || em_set(d, "imageDigest", em_jstr(img->digest)) < 0)
        goto fail;
    if (img->n_tags) {
        json_t *tags = em_image_tags_json(img);
        if (em_set(d, "imageTags", tags) < 0)
            goto fail;
    }
    if (em_set(d, "imageSizeInBytes", json_integer(img->size)) < 0 ||
        em_set(d, "imagePushedAt", em_time(img->pushed_at_ms)) < 0 ||
        em_set(d, "imageManifestMediaType", em_jstr(img->media_type)) < 0 ||
        (img->artifact_media_type && em_set(d, "artifactMediaType", em_jstr(img->artifact_media_type)) < 0) ||
        (img->pulled_at_ms && em_set(d, "lastRecordedPullTime", em_time(img->pulled_at_ms)) < 0) ||
        (img->subject && em_set(d, "subjectManifestDigest", em_jstr(img->subject)) < 0) ||
        em_set(d, "imageStatus", em_jstr(em_image_status(m, img))) < 0 || em_image_storage_json(m, img, d) < 0 ||
        em_scan_detail(m, img, d) < 0) /* scanning.c: imageScanStatus and its summary */
        goto fail;
    return d;
fail:
    json_decref(d);
    return NULL;
}

static int describe_ids(em_call *c, em_repo *repo, json_t *ids, json_t *details)
{
    size_t n = json_array_size(ids), i;
    em_image **found = em_calloc(n, sizeof *found);
    if (!found)
        return em_fail_nomem(c);
    json_t *id;
    int rc = 0;
    json_array_foreach(ids, i, id) {
        em_image *img;
        em_tag *t;
        if (em_image_resolve(repo, id, &img, &t) != EM_ID_FOUND) {
            rc = em_image_not_found(c, repo, em_str(id, "imageDigest"), em_str(id, "imageTag"));
            break;
        }
        bool dup = false;
        for (size_t k = 0; k < i; k++)
            dup = dup || found[k] == img;
        found[i] = dup ? NULL : img;
    }
    for (i = 0; rc == 0 && i < n; i++)
        if (found[i] && json_array_append_new(details, detail_json(c->m, repo, found[i])) < 0)
            rc = em_fail_nomem(c);
    em_free(found);
    return rc;
}

int em_DescribeImages(em_call *c)
{
    em_repo *repo = em_repo_lookup(c);
    if (!repo)
        return -1;
    json_t *ids = json_object_get(c->req, "imageIds");
    json_t *filter = json_object_get(c->req, "filter");
    const char *token = em_str(c->req, "nextToken");
    json_t *details = json_array();
    if (em_set(c->out, "imageDetails", details) < 0)
        return em_fail_nomem(c);
    if (ids) {
        if (token || json_object_get(c->req, "maxResults"))
            return em_fail_param(c, token ? "nextToken" : "maxResults", "%s cannot be specified with imageIds",
                                 token ? "nextToken" : "maxResults");
        return describe_ids(c, repo, ids, details);
    }
    size_t max = (size_t)em_int(c->req, "maxResults", 100);
    char scope[600];
    list_scope(c, repo, "DescribeImages", scope, sizeof scope);
    em_page_pos pos = {0};
    if (token && em_page_parse(c, scope, token, &pos) < 0)
        return -1;
    size_t i = token ? em_seqvec_lower_bound(&repo->order, pos.seq) : 0;
    for (; i < repo->order.n; i++) {
        em_image *img = repo->order.v[i].item;
        if (!img || !status_wanted(c->m, filter, img))
            continue;
        if (json_array_size(details) == max) {
            em_page_pos next = {.seq = img->seq};
            return em_set(c->out, "nextToken", em_page_token(c->m, scope, &next)) < 0 ? em_fail_nomem(c) : 0;
        }
        if (json_array_append_new(details, detail_json(c->m, repo, img)) < 0)
            return em_fail_nomem(c);
    }
    return 0;
}
