/*
 * Storing a pushed manifest as an image (em_image_push): what PutImage does
 * once it has its repository, shared with replication's copies.
 *
 * An image is its manifest bytes; its digest is the SHA-256 of exactly those
 * bytes, its size is computed from the layers it references, and tags are
 * unique in a repository: in a MUTABLE one a tag put on another image moves
 * there (the old image stays, untagged if it had no other tag), in an
 * IMMUTABLE one it is refused.
 */
#include <stdio.h>
#include <string.h>

#include "areas/areas.h"

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
    json_array_foreach(repo->mutability_filters, i, f) excluded =
        excluded || em_wildcard_match(em_get_str(f, "filter"), tag, false);
    /* IMMUTABLE_WITH_EXCLUSION: the filters name mutable tags; MUTABLE_WITH_EXCLUSION: immutable ones. */
    return strcmp(mut, "IMMUTABLE_WITH_EXCLUSION") == 0 ? !excluded : excluded;
}

/* Appends ", d" (or "d" to an empty list) to the list out[0..cap) holds
 * *used bytes of; past cap the list stays cut short. */
static void list_missing(char *out, size_t cap, size_t *used, const char *d)
{
    if (*used < cap)
        *used += (size_t)snprintf(out + *used, cap - *used, "%s%s", *used ? ", " : "", d);
}

/* Builds the new image from a parsed manifest, its blobs found already
 * (found[i] the layer of mf->layers[i]; NULL: looked up here); NULL when out
 * of memory. */
static em_image *image_new(em_call *c, em_repo *repo, const char *digest, const char *bytes, size_t len,
                           const em_manifest *mf, em_layer *const *found)
{
    size_t nl = mf->n_layers, nc = mf->n_children;
    em_image *img = em_image_alloc(bytes, len, nl, nc, mf->subject);
    if (!img)
        return NULL;
    memcpy(img->digest, digest, strlen(digest) + 1); /* "sha256:" and 64 digits: it fits */
    img->manifest_len = len;
    img->media_type = em_media_type_intern(mf->media_type);
    img->artifact_media_type = mf->config_media_type ? em_media_type_intern(mf->config_media_type) : NULL;
    img->pushed_at_ms = c->m->clock_ms;
    if (!img->media_type || (mf->config_media_type && !img->artifact_media_type)) {
        em_image_free(img);
        return NULL;
    }
    /* Distinct layers; the size is the sum of the layers (not the config), as
     * stored; a list's size is the largest of its manifests'. */
    for (size_t i = 0; i < nl; i++) {
        em_layer *l = found ? found[i] : em_layer_get(repo, mf->layers[i].digest);
        bool dup = false;
        for (size_t j = 0; j < img->n_layers; j++)
            dup = dup || img->layers[j] == l;
        bool is_config = mf->config_digest && i == 0;
        if (!is_config) /* declared layers reach 2^63 - 1: the sum stops there */
            img->size = l->blob->len > (uint64_t)(INT64_MAX - img->size) ? INT64_MAX : img->size + (int64_t)l->blob->len;
        if (!dup)
            img->layers[img->n_layers++] = l;
    }
    for (size_t i = 0; i < nc; i++) {
        const char *child = mf->children[i];
        snprintf(img->children[i], ECRMOCK_DIGEST_SIZE, "%s", child);
        img->n_children++;
        em_image *ci = em_image_get(repo, child);
        if (ci && ci->size > img->size)
            img->size = ci->size;
    }
    return img;
}

static json_t *put_image_output(em_repo *repo, em_image *img, const char *tag)
{
    json_t *out = json_object();
    if (!out || em_set(out, "image", em_image_json(repo, img, tag)) < 0) {
        json_decref(out);
        return NULL;
    }
    return out;
}

/* Remembers the media type of each layer the manifest lists (what
 * BatchCheckLayerAvailability reports).  Best effort: a layer whose type
 * cannot be stored for want of memory simply stays without one. */
static void learn_layer_types(em_repo *repo, const em_manifest *mf, em_layer *const *found)
{
    for (size_t i = 0; i < mf->n_layers; i++) {
        const char *mt = mf->layers[i].media_type;
        em_layer *l = found ? found[i] : em_layer_get(repo, mf->layers[i].digest);
        if (!mt || !l || (l->media_type && strcmp(l->media_type, mt) == 0))
            continue;
        const char *copy = em_media_type_intern(mt);
        if (copy) {
            em_media_type_release(l->media_type);
            l->media_type = copy;
        }
    }
}

em_image *em_image_push(em_call *c, em_repo *repo, const char *bytes, size_t len, const char *media_type,
                        const char *given, const char *tag)
{
    em_manifest mf;
    em_image *img = em_manifest_parse(c, bytes, len, media_type, &mf) < 0
                        ? NULL
                        : em_image_push_manifest(c, repo, bytes, len, &mf, given, tag);
    em_manifest_release(&mf);
    return img;
}

em_image *em_image_push_manifest(em_call *c, em_repo *repo, const char *bytes, size_t len, const em_manifest *mf,
                                 const char *given, const char *tag)
{
    const char *reg = repo->registry->id;
    em_image *img = NULL;
    char digest[ECRMOCK_DIGEST_SIZE];
    /* The tag's and then the digest's slots are fetched while the hash and
     * the layers' look-ups run (em_index_prefetch). */
    if (tag)
        em_index_prefetch(&repo->tag_index, tag, strlen(tag));
    em_sha256_digest_in(c->m->sha256_ctx, c->m->sha256, bytes, len, digest);
    em_index_prefetch(&repo->images, digest, strlen(digest));
    int rc = -1;
    if (given && strcmp(given, digest) != 0) {
        em_fail_text(c, EM_MSG_IMAGE_DIGEST_DOES_NOT_MATCH, given, digest);
        goto out;
    }
    char list[2048];
    size_t used = 0;
    /* The blobs found, looked up once (when they are few enough to keep). */
    em_layer *found_inline[EM_MF_INLINE_BLOBS], **found = mf->n_layers <= EM_MF_INLINE_BLOBS ? found_inline : NULL;
    for (size_t i = 0; i < mf->n_layers; i++) {
        em_layer *l = em_layer_get(repo, mf->layers[i].digest);
        if (!l)
            list_missing(list, sizeof list, &used, mf->layers[i].digest);
        if (found)
            found[i] = l;
    }
    if (used) {
        em_fail_text(c, EM_MSG_LAYERS_NOT_FOUND_FOR_PUSH, list, repo->name, reg);
        goto out;
    }
    for (size_t i = 0; i < mf->n_children; i++)
        if (!em_image_get(repo, mf->children[i]))
            list_missing(list, sizeof list, &used, mf->children[i]);
    if (used) {
        em_fail_text(c, EM_MSG_REFERENCED_IMAGES_NOT_FOUND, repo->name, reg, list);
        goto out;
    }

    em_image *existing = em_image_get(repo, digest);
    em_tag *held = tag ? em_tag_get(repo, tag) : NULL;
    if (held && tag_immutable(repo, tag)) {
        em_fail_text(c, EM_MSG_IMAGE_TAG_ALREADY_EXISTS, tag, repo->name);
        goto out;
    }
    /* Pushing an archived (or restoring) image again restores it at once. */
    bool revive = existing && !em_image_active(c->m, existing);
    if (existing && !revive && (!tag || (held && held->image == existing))) {
        em_fail_text(c, EM_MSG_IMAGE_ALREADY_EXISTS, digest, tag ? tag : "null", repo->name, reg);
        goto out;
    }
    if (!existing && em_repo_image_count(repo) >= c->m->opts.max_images) {
        em_fail_text(c, EM_MSG_IMAGE_LIMIT, repo->name, reg, (unsigned long long)c->m->opts.max_images);
        goto out;
    }
    /* Only a tag the image does not have yet counts (a re-push of an archived
     * image may bring none, or its own). */
    bool adds_tag = tag && !(held && held->image == existing);
    if (existing && adds_tag && existing->n_tags >= c->m->opts.max_tags_per_image) {
        em_fail_text(c, EM_MSG_TAGS_PER_IMAGE_LIMIT, tag, repo->name, reg, (unsigned long long)c->m->opts.max_tags_per_image);

        goto out;
    }

    /* Everything is checked: now change the state, all or nothing. */
    img = existing;
    if (!img) {
        img = image_new(c, repo, digest, bytes, len, mf, found);
        if (!img || em_signing_on_push(repo, img) < 0 || em_image_insert(c->m, repo, img) < 0) {
            em_image_free(img);
            img = NULL;
            rc = em_fail_nomem(c);
            goto out;
        }
    }
    /* The answer is made before the tag moves: once it has, nothing can fail. */
    json_t *out = c->out ? put_image_output(repo, img, tag) : NULL;
    bool written = !c->answer || (em_buf_append(c->answer, "{\"image\":", 9) == 0 &&
                                  em_image_write_as(c->answer, repo, img, tag, c->answer_manifest,
                                                    c->answer_manifest_len) == 0 &&
                                  em_buf_append(c->answer, "}", 1) == 0 && em_buf_reserve(c->answer, 1) == 0);
    if ((c->out && !out) || !written || (tag && em_tag_set(repo, img, tag) < 0)) {
        json_decref(out);
        if (!existing)
            em_image_remove(c->m, repo, img);
        img = NULL;
        rc = em_fail_nomem(c);
        goto out;
    }
    if (!existing) {
        learn_layer_types(repo, mf, found);
        em_scan_on_push(c->m, repo, img); /* scanning.c: scan on push; cannot fail */
    }
    if (revive) /* a list's images went to the archive with it: they come back with it */
        em_image_reactivate(c->m, repo, img);
    if (out) {
        json_decref(c->out);
        c->out = out;
    }
    rc = 0;
out:
    return rc < 0 ? NULL : img;
}
