/*
 * Copies of the stored state: em_state_copy() makes, in a fresh instance,
 * the registries, repositories, images, tags, layers and blobs of another,
 * as they are (prepared fixtures: tooling/fixture_prepared.c).
 *
 * Every structure is copied whole (its scalars with it), then each pointer
 * member is replaced by a copy of its own; a copied object is linked into
 * dst before its members are filled, so that when memory runs out, the
 * part made is freed with dst by the ordinary free functions.  Hash tables
 * are filled in the source's order (uthash iterates in insertion order), a
 * repository's layers in its list's order, and creation-order vectors keep
 * their seqs, so listings, pages and snapshots read as the source's.  The
 * blobs (an em_index) go in the index's slot order: nothing lists them.
 */
#include <string.h>

#include "store/store.h"

static int dup_str(char **dst, const char *src)
{
    *dst = NULL;
    if (!src)
        return 0;
    *dst = em_strdup(src);
    return *dst ? 0 : -1;
}

static int dup_json(json_t **dst, json_t *src)
{
    *dst = src ? json_deep_copy(src) : NULL;
    return src && !*dst ? -1 : 0;
}

static void *dup_mem(const void *src, size_t n)
{
    void *p = em_malloc(n ? n : 1);
    if (p && n)
        memcpy(p, src, n);
    return p;
}

/* ---- blobs ---------------------------------------------------------------------- */

static int copy_blobs(ecrmock *d, const ecrmock *s)
{
    if (em_index_reserve(&d->blobs, s->blobs.count) < 0)
        return -1;
    const em_blob *b;
    for (size_t pos = 0; (b = em_index_next(&s->blobs, &pos));) {
        em_blob *c = em_calloc(1, sizeof *c);
        if (!c)
            return -1;
        memcpy(c->digest, b->digest, sizeof c->digest);
        c->len = b->len;
        if (b->data && !(c->data = dup_mem(b->data, b->len))) {
            em_free(c);
            return -1;
        }
        if (em_index_insert(&d->blobs, c, em_blob_key) < 0) {
            em_free(c->data);
            em_free(c);
            return -1;
        }
        /* refs: one per repository layer copied below */
    }
    return 0;
}

/* ---- images and tags ---------------------------------------------------------------- */

/* A copy of img linked into repo (hash and push order); its members after. */
static int copy_image(em_repo *repo, const em_image *img, uint64_t off)
{
    em_image *c = em_image_alloc(img->manifest, img->manifest_len, img->n_layers, img->n_children, img->subject);
    if (!c)
        return -1;
    char *manifest = c->manifest, *subject = c->subject;
    em_layer **layers = c->layers;
    char (*children)[ECRMOCK_DIGEST_SIZE] = c->children;
    *c = *img;
    c->manifest = manifest; /* copied with the block, layers and children below */
    c->subject = subject;
    c->layers = layers;
    c->children = children;
    c->journal_seq = 0; /* no journal entry keeps the copy */
    c->media_type = c->artifact_media_type = NULL;
    c->tags = NULL;
    c->tag1 = NULL;
    c->n_tags = 0; /* the tags: copy_tags() */
    for (size_t i = 0; i < img->n_layers; i++)
        c->layers[i] = em_layer_get(repo, img->layers[i]->blob->digest);
    if (img->n_children)
        memcpy(c->children, img->children, img->n_children * sizeof *c->children);
    c->replication = c->scan_findings = c->signing = NULL;
    c->seq = img->seq + off;
    if (em_index_insert(&repo->images, c, em_image_key) < 0) {
        em_free(c);
        return -1;
    }
    if (em_seqvec_push(&repo->order, c->seq, c, &c->slot) < 0) {
        em_index_remove(&repo->images, c, em_image_key);
        em_free(c);
        return -1;
    }
    if ((img->media_type && !(c->media_type = em_media_type_intern(img->media_type))) ||
        (img->artifact_media_type && !(c->artifact_media_type = em_media_type_intern(img->artifact_media_type))) ||
        dup_json(&c->replication, img->replication) < 0 || dup_json(&c->scan_findings, img->scan_findings) < 0 ||
        dup_json(&c->signing, img->signing) < 0)
        return -1;
    return 0;
}

/* The tag index, then each image's sorted list. */
static int copy_tags(em_repo *dst, const em_repo *src)
{
    if (em_index_reserve(&dst->tag_index, src->tag_index.count) < 0)
        return -1;
    const em_tag *t;
    for (size_t pos = 0; (t = em_index_next(&src->tag_index, &pos));) {
        size_t len = strlen(t->name);
        em_tag *c = em_calloc(1, sizeof *c + len + 1);
        if (!c)
            return -1;
        c->image = em_image_get(dst, t->image->digest);
        memcpy(c->name, t->name, len + 1);
        if (em_index_insert(&dst->tag_index, c, em_tag_key) < 0) {
            em_free(c);
            return -1;
        }
    }
    for (size_t k = 0; k < src->order.n; k++) {
        const em_image *img = src->order.v[k].item;
        if (!img || !img->n_tags)
            continue;
        em_image *c = em_image_get(dst, img->digest);
        if (img->n_tags == 1)
            c->tags = &c->tag1;
        else if (!(c->tags = em_malloc(img->n_tags * sizeof *c->tags)))
            return -1;
        for (size_t i = 0; i < img->n_tags; i++)
            c->tags[i] = em_tag_get(dst, img->tags[i]->name);
        c->n_tags = img->n_tags;
    }
    return 0;
}

/* ---- repositories ----------------------------------------------------------------------- */

static int copy_layers(ecrmock *d, em_repo *dst, const em_repo *src)
{
    if (em_index_reserve(&dst->layer_index, src->layer_index.count) < 0)
        return -1;
    for (const em_layer *l = src->layers; l; l = l->next) {
        em_layer *c = em_calloc(1, sizeof *c);
        if (!c)
            return -1;
        c->blob = em_blob_get(d, l->blob->digest);
        c->image_refs = l->image_refs;
        if (l->media_type && !(c->media_type = em_media_type_intern(l->media_type))) {
            em_free(c);
            return -1;
        }
        if (em_layer_link(dst, c) < 0) {
            em_media_type_release(c->media_type);
            em_free(c);
            return -1;
        }
        c->blob->refs++;
    }
    return 0;
}

static int copy_repo(ecrmock *d, em_registry *reg, const em_repo *repo, uint64_t off)
{
    em_repo *c = em_malloc(sizeof *c);
    if (!c)
        return -1;
    *c = *repo;
    c->name = c->arn = c->uri = c->tag_mutability = c->encryption_type = c->kms_key = c->policy = NULL;
    c->lifecycle_policy = NULL;
    c->mutability_filters = c->tags = NULL;
    c->lifecycle_preview = NULL;
    c->layers = c->last_layer = NULL;
    memset(&c->layer_index, 0, sizeof c->layer_index);
    memset(&c->images, 0, sizeof c->images);
    memset(&c->tag_index, 0, sizeof c->tag_index);
    c->uploads = NULL; /* in flight: not state a copy takes */
    memset(&c->order, 0, sizeof c->order);
    memset(&c->hh, 0, sizeof c->hh);
    c->seq = repo->seq + off;
    if (!(c->name = em_strdup(repo->name)) || em_repo_insert(reg, c) < 0) {
        em_free(c->name);
        em_free(c);
        return -1;
    }
    if (dup_str(&c->arn, repo->arn) < 0 || dup_str(&c->uri, repo->uri) < 0 ||
        dup_str(&c->tag_mutability, repo->tag_mutability) < 0 || dup_str(&c->encryption_type, repo->encryption_type) < 0 ||
        dup_str(&c->kms_key, repo->kms_key) < 0 || dup_str(&c->policy, repo->policy) < 0 ||
        dup_str(&c->lifecycle_policy, repo->lifecycle_policy) < 0 ||
        dup_json(&c->mutability_filters, repo->mutability_filters) < 0 || dup_json(&c->tags, repo->tags) < 0)
        return -1;
    for (const em_area *a = d->areas; a && a->name; a++)
        if (a->repo_copy && a->repo_copy(c, repo) < 0)
            return -1;
    if (copy_layers(d, c, repo) < 0 || em_index_reserve(&c->images, repo->images.count) < 0)
        return -1;
    for (size_t i = 0; i < repo->order.n; i++)
        if (repo->order.v[i].item && copy_image(c, repo->order.v[i].item, off) < 0)
            return -1;
    return copy_tags(c, repo);
}

/* ---- registries -------------------------------------------------------------------------- */

static int copy_registry(ecrmock *d, em_registry **dst, const em_registry *r, uint64_t off)
{
    em_registry *c = em_calloc(1, sizeof *c);
    if (!c)
        return -1;
    memcpy(c->id, r->id, sizeof c->id);
    int oom = 0;
    HASH_ADD_STR(*dst, id, c);
    if (oom) {
        em_free(c);
        return -1;
    }
    if (dup_str(&c->policy, r->policy) < 0 || dup_json(&c->replication, r->replication) < 0 ||
        dup_json(&c->account_settings, r->account_settings) < 0 || dup_json(&c->signing_config, r->signing_config) < 0)
        return -1;
    if (r->n_exclusions) {
        if (!(c->exclusions = em_calloc(r->n_exclusions, sizeof *c->exclusions)))
            return -1;
        for (size_t i = 0; i < r->n_exclusions; i++) {
            c->exclusions[i] = r->exclusions[i];
            c->exclusions[i].seq += off;
            c->n_exclusions = i + 1;
            if (dup_str(&c->exclusions[i].principal, r->exclusions[i].principal) < 0)
                return -1;
        }
    }
    for (const em_area *a = d->areas; a && a->name; a++)
        if (a->registry_copy && a->registry_copy(c, r) < 0)
            return -1;
    for (size_t i = 0; i < r->order.n; i++)
        if (r->order.v[i].item && copy_repo(d, c, r->order.v[i].item, off) < 0)
            return -1;
    return 0;
}

int em_registries_copy(ecrmock *d, em_registry **dst, const em_registry *src, uint64_t seq_offset)
{
    for (const em_registry *r = src; r; r = r->hh.next)
        if (copy_registry(d, dst, r, seq_offset) < 0)
            return -1;
    return 0;
}

/* Every other region of the source and its registries into d, which has
 * none (em_regions_each's callback). */
typedef struct region_copy {
    ecrmock *d;
    uint64_t off;
} region_copy;

static int copy_region(void *ctx, const char *name, const em_registry *registries)
{
    region_copy *rc = ctx;
    em_registry **slot = em_region_slot(rc->d, name);
    return slot ? em_registries_copy(rc->d, slot, registries, rc->off) : -1;
}

int em_state_copy(ecrmock *dst, const ecrmock *src, uint64_t seq_offset)
{
    if (copy_blobs(dst, src) < 0 || em_registries_copy(dst, &dst->registries, src->registries, seq_offset) < 0 ||
        em_regions_each(src, copy_region, &(region_copy){dst, seq_offset}) < 0 || dup_json(&dst->scan_config, src->scan_config) < 0)
        return -1;
    dst->seq = src->seq + seq_offset;
    return 0;
}
