/*
 * The registry's data: registries, repositories, the content-addressed blob
 * store, each repository's layers, images, tags and uploads.
 *
 * Every structure is reached through a hash table (constant-time lookups
 * by name, digest, tag and upload id): images, tags, layers and the
 * instance's blobs, which grow with what a registry holds, through an
 * em_index (base/index.c); registries, repositories and uploads through
 * uthash.  A repository's layers also keep a list in the order they were
 * added (snapshots list them so).
 * Listings go through an em_seqvec: an array of (seq, item) in creation
 * order where a removed item leaves a hole (item NULL) until holes outnumber
 * live items and the array is compacted.
 * Seqs only grow, so a page token that names a seq finds its place again by
 * binary search even after the item it named is gone.
 */
#define _DEFAULT_SOURCE /* madvise */
#include <string.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/mman.h>
#endif

#include <openssl/evp.h>

#include "store/store.h"

/* ---- seq vectors ------------------------------------------------------------ */

int em_seqvec_push(em_seqvec *v, uint64_t seq, void *item, size_t *slot)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 16;
        em_seqslot *p = em_realloc(v->v, cap * sizeof *p);
        if (!p)
            return -1;
        v->v = p;
        v->cap = cap;
    }
    v->v[v->n].seq = seq;
    v->v[v->n].item = item;
    *slot = v->n++;
    v->live++;
    return 0;
}

/* Compaction moves items: each kind keeps its slot right through this. */
typedef void (*slot_setter)(void *item, size_t slot);

static void seqvec_compact(em_seqvec *v, slot_setter set)
{
    size_t w = 0;
    for (size_t i = 0; i < v->n; i++) {
        if (!v->v[i].item)
            continue;
        v->v[w] = v->v[i];
        set(v->v[w].item, w);
        w++;
    }
    v->n = w;
}

static void drop_slot(em_seqvec *v, size_t slot, slot_setter set)
{
    v->v[slot].item = NULL;
    v->live--;
    if (v->live == 0)
        v->n = 0;
    else if (v->n >= 64 && v->live < v->n / 2)
        seqvec_compact(v, set);
}

size_t em_seqvec_lower_bound(const em_seqvec *v, uint64_t seq)
{
    size_t lo = 0, hi = v->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v->v[mid].seq < seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

void em_seqvec_release(em_seqvec *v)
{
    em_free(v->v);
    memset(v, 0, sizeof *v);
}

static void set_image_slot(void *item, size_t slot)
{
    ((em_image *)item)->slot = slot;
}

static void set_repo_slot(void *item, size_t slot)
{
    ((em_repo *)item)->slot = slot;
}

/* ---- blobs ------------------------------------------------------------------ */

const char *em_blob_key(const void *b)
{
    return ((const em_blob *)b)->digest;
}

const char *em_layer_key(const void *l)
{
    return ((const em_layer *)l)->blob->digest;
}

em_blob *em_blob_get(ecrmock *m, const char *digest)
{
    return em_index_find(&m->blobs, digest, strlen(digest), em_blob_key);
}

void em_blob_unref(ecrmock *m, em_blob *b)
{
    if (--b->refs > 0)
        return;
    em_index_remove(&m->blobs, b, em_blob_key);
    em_free(b->data);
    em_free(b);
}

/* ---- layers ------------------------------------------------------------------- */

em_layer *em_layer_get(em_repo *repo, const char *digest)
{
    return em_index_find(&repo->layer_index, digest, strlen(digest), em_layer_key);
}

int em_layer_link(em_repo *repo, em_layer *l)
{
    if (em_index_insert(&repo->layer_index, l, em_layer_key) < 0)
        return -1;
    l->next = NULL;
    if (repo->last_layer)
        repo->last_layer->next = l;
    else
        repo->layers = l;
    repo->last_layer = l;
    return 0;
}

/* The bytes of a declared blob, their digest checked by the caller, are
 * taken: every repository that declared it holds them from then on.  The
 * digest proves them its bytes: a declared size that was not theirs gives
 * way to theirs (a fixture cannot check what it declares). */
static void blob_fill(em_blob *b, unsigned char **data, size_t len)
{
    if (em_blob_declared(b) && *data) {
        b->data = *data;
        b->len = len;
        *data = NULL;
    }
}

em_layer *em_layer_add(ecrmock *m, em_repo *repo, const char *digest, unsigned char **data, size_t len)
{
    em_layer *l = em_layer_get(repo, digest);
    if (l) {
        blob_fill(l->blob, data, len);
        return l;
    }
    em_blob *b = em_blob_get(m, digest), *fresh = NULL;
    if (!b) {
        b = fresh = em_calloc(1, sizeof *b);
        if (!b)
            return NULL;
        snprintf(b->digest, sizeof b->digest, "%s", digest);
        if (em_index_insert(&m->blobs, b, em_blob_key) < 0) {
            em_free(b);
            return NULL;
        }
    }
    l = em_calloc(1, sizeof *l);
    if (l)
        l->blob = b;
    if (!l || em_layer_link(repo, l) < 0) {
        em_free(l);
        if (fresh) {
            em_index_remove(&m->blobs, fresh, em_blob_key);
            em_free(fresh);
        }
        return NULL;
    }
    if (fresh) {
        fresh->data = *data;
        fresh->len = len;
        *data = NULL;
    } else {
        blob_fill(b, data, len);
    }
    b->refs++;
    return l;
}

/*
 * A 256 MiB layer written into memory the process has not touched yet takes
 * 65,536 page faults, each a trap into the kernel that zeroes and charges
 * one page: about a sixth of a registry push (bench/PROFILE.md, section 6).
 * MADV_POPULATE_WRITE (Linux 5.14) does the same zeroing and charging for a
 * whole range in one call.  The memory stays the allocator's (em_malloc):
 * this only prefaults the whole pages inside [p, p + n).  Below 256 KiB the
 * call costs more than the faults it saves.
 */
#define PREFAULT_MIN ((size_t)256 * 1024)

void em_prefault(void *p, size_t n)
{
#if defined(__linux__)
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
    if (n < PREFAULT_MIN)
        return;
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t first = ((uintptr_t)p + page - 1) & ~(page - 1), end = ((uintptr_t)p + n) & ~(page - 1);
    if (end > first)
        (void)madvise((void *)first, end - first, MADV_POPULATE_WRITE);
#else
    (void)p;
    (void)n;
#endif
}

static void layer_free(ecrmock *m, em_layer *l)
{
    em_blob_unref(m, l->blob);
    em_media_type_release(l->media_type);
    em_free(l);
}

/* ---- images and tags ---------------------------------------------------------- */

/* The media types of manifests and configs ECR sees nearly always: an image
 * shares these rather than holding a copy. */
static const char *const known_media_types[] = {
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.container.image.v1+json",
    "application/vnd.oci.image.config.v1+json",
    "application/vnd.oci.empty.v1+json",
    /* layers (em_layer.media_type) */
    "application/vnd.docker.image.rootfs.diff.tar.gzip",
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
    "application/vnd.oci.image.layer.v1.tar",
    "application/vnd.oci.image.layer.v1.tar+gzip",
    "application/vnd.oci.image.layer.v1.tar+zstd",
};
#define N_KNOWN_MEDIA_TYPES (sizeof known_media_types / sizeof known_media_types[0])

static bool media_type_known(const char *type)
{
    for (size_t i = 0; i < N_KNOWN_MEDIA_TYPES; i++)
        if (type == known_media_types[i])
            return true;
    return false;
}

const char *em_media_type_intern(const char *type)
{
    for (size_t i = 0; i < N_KNOWN_MEDIA_TYPES; i++)
        if (strcmp(type, known_media_types[i]) == 0)
            return known_media_types[i];
    return em_strdup(type);
}

void em_media_type_release(const char *type)
{
    if (type && !media_type_known(type))
        em_free((char *)type);
}

em_image *em_next_parent(em_repo *repo, const em_image *img, size_t *pos)
{
    if (!img->parents)
        return NULL;
    while (*pos < repo->order.n) {
        em_image *p = repo->order.v[(*pos)++].item;
        for (size_t k = 0; p && k < p->n_children; k++)
            if (strcmp(p->children[k], img->digest) == 0)
                return p;
    }
    return NULL;
}

const char *em_image_key(const void *img)
{
    return ((const em_image *)img)->digest;
}

const char *em_tag_key(const void *t)
{
    return ((const em_tag *)t)->name;
}

em_image *em_image_get(em_repo *repo, const char *digest)
{
    return em_index_find(&repo->images, digest, strlen(digest), em_image_key);
}

em_tag *em_tag_get(em_repo *repo, const char *name)
{
    return em_index_find(&repo->tag_index, name, strlen(name), em_tag_key);
}

size_t em_repo_image_count(em_repo *repo)
{
    return repo->images.count;
}

int em_image_insert(ecrmock *m, em_repo *repo, em_image *img)
{
    if (em_index_insert(&repo->images, img, em_image_key) < 0)
        return -1;
    img->seq = ++m->seq;
    if (em_seqvec_push(&repo->order, img->seq, img, &img->slot) < 0) {
        em_index_remove(&repo->images, img, em_image_key);
        return -1;
    }
    for (size_t i = 0; i < img->n_layers; i++)
        img->layers[i]->image_refs++;
    for (size_t i = 0; i < img->n_children; i++) {
        em_image *child = em_image_get(repo, img->children[i]);
        if (child)
            child->parents++;
    }
    return 0;
}

em_image *em_image_alloc(const char *manifest, size_t manifest_len, size_t n_layers, size_t n_children,
                         const char *subject)
{
    /* the struct (pointer-aligned), the layer pointers, then bytes */
    size_t subject_len = subject ? strlen(subject) + 1 : 0;
    size_t lb = n_layers * sizeof(em_layer *), cb = n_children * (size_t)ECRMOCK_DIGEST_SIZE;
    /* each part under an eighth of the address space: their sum cannot wrap */
    if (n_layers > SIZE_MAX / 8 / sizeof(em_layer *) || n_children > SIZE_MAX / 8 / ECRMOCK_DIGEST_SIZE ||
        manifest_len > SIZE_MAX / 8 || subject_len > SIZE_MAX / 8)
        return NULL;
    size_t size = sizeof(em_image) + lb + cb + subject_len + manifest_len + 1;
    em_image *img = em_malloc(size);
    if (!img)
        return NULL;
    memset(img, 0, sizeof *img);
    char *tail = (char *)(img + 1);
    img->layers = n_layers ? (em_layer **)(void *)tail : NULL;
    tail += lb;
    img->children = n_children ? (char (*)[ECRMOCK_DIGEST_SIZE])(void *)tail : NULL;
    tail += cb;
    if (subject) {
        img->subject = memcpy(tail, subject, subject_len);
        tail += subject_len;
    }
    img->manifest = tail;
    memcpy(img->manifest, manifest, manifest_len);
    img->manifest[manifest_len] = '\0';
    return img;
}

/* What img holds apart from its block (the manifest, subject, layers and
 * children are in the block), freed. */
static void image_release(em_image *img)
{
    em_media_type_release(img->media_type);
    em_media_type_release(img->artifact_media_type);
    if (img->tags != &img->tag1)
        em_free(img->tags);
    json_decref(img->replication);
    json_decref(img->scan_findings);
    json_decref(img->signing);
}

void em_image_free(em_image *img)
{
    if (!img)
        return;
    image_release(img);
    em_free(img);
}

void em_image_let_go(ecrmock *m, em_image *img)
{
    image_release(img);
    if (!img->journal_seq) {
        em_free(img);
        return;
    }
    img->let_go_next = m->let_go;
    m->let_go = img;
}

void em_image_block_free(em_image *img)
{
    em_free(img);
}

void em_image_let_go_move(ecrmock *to, ecrmock *from)
{
    while (from->let_go) {
        em_image *img = from->let_go;
        from->let_go = img->let_go_next;
        img->let_go_next = to->let_go;
        to->let_go = img;
    }
}

/* Takes t out of img's sorted tag list (when it is there). */
static void image_drop_tag(em_image *img, em_tag *t)
{
    size_t i = 0;
    while (i < img->n_tags && img->tags[i] != t)
        i++;
    if (i < img->n_tags) {
        memmove(img->tags + i, img->tags + i + 1, (img->n_tags - i - 1) * sizeof *img->tags);
        img->n_tags--;
    }
}

static void tag_unlink(em_repo *repo, em_tag *t)
{
    image_drop_tag(t->image, t);
    em_index_remove(&repo->tag_index, t, em_tag_key);
    em_free(t);
}

void em_tag_remove(em_repo *repo, em_tag *t)
{
    tag_unlink(repo, t);
}

void em_image_remove(ecrmock *m, em_repo *repo, em_image *img)
{
    while (img->n_tags)
        tag_unlink(repo, img->tags[0]);
    for (size_t i = 0; i < img->n_layers; i++)
        img->layers[i]->image_refs--;
    for (size_t i = 0; i < img->n_children; i++) {
        em_image *child = em_image_get(repo, img->children[i]);
        if (child && child->parents)
            child->parents--;
    }
    em_index_remove(&repo->images, img, em_image_key);
    drop_slot(&repo->order, img->slot, set_image_slot);
    em_image_let_go(m, img);
}

/* Makes room for one more tag in img's list: the first goes in tag1, the
 * second moves the list to an array.  -1: no memory, nothing changed. */
static int image_tag_room(em_image *img)
{
    if (img->n_tags == 0) {
        if (img->tags != &img->tag1)
            em_free(img->tags);
        img->tags = &img->tag1;
        return 0;
    }
    bool inline_list = img->tags == &img->tag1;
    em_tag **tags = em_realloc(inline_list ? NULL : img->tags, (img->n_tags + 1) * sizeof *tags);
    if (!tags)
        return -1;
    if (inline_list)
        tags[0] = img->tag1;
    img->tags = tags;
    return 0;
}

/* Inserts t into img's tag list, kept sorted by name (image_tag_room made room). */
static void image_insert_tag(em_image *img, em_tag *t)
{
    em_tag **tags = img->tags;
    size_t i = 0;
    while (i < img->n_tags && strcmp(tags[i]->name, t->name) < 0)
        i++;
    memmove(tags + i + 1, tags + i, (img->n_tags - i) * sizeof *tags);
    tags[i] = t;
    img->n_tags++;
}

static int image_add_tag(em_image *img, em_tag *t)
{
    if (image_tag_room(img) < 0)
        return -1;
    image_insert_tag(img, t);
    return 0;
}

int em_tag_set(em_repo *repo, em_image *img, const char *name)
{
    em_tag *t = em_tag_get(repo, name);
    if (t && t->image == img)
        return 0;
    if (t) {
        /* Make room on the new image first, so that a failure changes nothing. */
        if (image_tag_room(img) < 0)
            return -1;
        image_drop_tag(t->image, t);
        t->image = img;
        image_insert_tag(img, t);
        return 0;
    }
    size_t len = strlen(name);
    t = em_calloc(1, sizeof *t + len + 1);
    if (!t)
        return -1;
    memcpy(t->name, name, len + 1);
    t->image = img;
    if (image_add_tag(img, t) < 0) {
        em_free(t);
        return -1;
    }
    if (em_index_insert(&repo->tag_index, t, em_tag_key) < 0) {
        image_drop_tag(img, t);
        em_free(t);
        return -1;
    }
    return 0;
}

/* ---- uploads ----------------------------------------------------------------------- */

static void upload_free(em_upload *u)
{
    em_buf_release(&u->bytes);
    EVP_MD_CTX_free(u->sha);
    em_free(u);
}

em_upload *em_upload_get(ecrmock *m, em_repo *repo, const char *id)
{
    em_upload *u = NULL;
    HASH_FIND_STR(repo->uploads, id, u);
    if (u && m->clock_ms - u->touched_ms > m->opts.upload_lifetime_ms) {
        em_upload_remove(repo, u);
        u = NULL;
    }
    return u;
}

int em_upload_insert(em_repo *repo, em_upload *u)
{
    int oom = 0;
    HASH_ADD_STR(repo->uploads, id, u);
    return oom ? -1 : 0;
}

void em_upload_remove(em_repo *repo, em_upload *u)
{
    HASH_DEL(repo->uploads, u);
    upload_free(u);
}

/* ---- repositories and registries ---------------------------------------------------- */

em_registry *em_registry_get(ecrmock *m, const char *id)
{
    em_registry *r = NULL;
    HASH_FIND_STR(m->registries, id, r);
    return r;
}

em_registry *em_registry_ensure(ecrmock *m, const char *id)
{
    em_registry *r = em_registry_get(m, id);
    if (r)
        return r;
    r = em_calloc(1, sizeof *r);
    if (!r)
        return NULL;
    snprintf(r->id, sizeof r->id, "%s", id);
    int oom = 0;
    HASH_ADD_STR(m->registries, id, r);
    if (oom) {
        em_free(r);
        return NULL;
    }
    return r;
}

em_registry_mark em_registry_mark_of(ecrmock *m, const char *id)
{
    em_registry_mark k = {.m = m};
    /* an id too long for a registry is one no call makes */
    k.existed = strlen(id) >= sizeof k.id || em_registry_get(m, id);
    if (!k.existed)
        memcpy(k.id, id, strlen(id) + 1);
    return k;
}

void em_registry_abandon(const em_registry_mark *k)
{
    if (!k->existed)
        em_registry_drop_if_empty(k->m, em_registry_get(k->m, k->id));
}

void em_registry_drop_if_empty(ecrmock *m, em_registry *r)
{
    if (!r || HASH_COUNT(r->repos) || r->ptc || r->templates || r->policy || r->replication ||
        r->account_settings || r->signing_config || r->n_exclusions)
        return;
    HASH_DEL(m->registries, r);
    em_seqvec_release(&r->order);
    em_registry_settings_free(r);
    em_free(r);
}

em_repo *em_repo_get(em_registry *r, const char *name)
{
    em_repo *repo = NULL;
    if (r)
        HASH_FIND_STR(r->repos, name, repo);
    return repo;
}

int em_repo_insert(em_registry *r, em_repo *repo)
{
    int oom = 0;
    HASH_ADD_KEYPTR(hh, r->repos, repo->name, strlen(repo->name), repo);
    if (oom)
        return -1;
    if (em_seqvec_push(&r->order, repo->seq, repo, &repo->slot) < 0) {
        HASH_DEL(r->repos, repo);
        return -1;
    }
    repo->registry = r;
    return 0;
}

void em_repo_free(ecrmock *m, em_repo *repo)
{
    if (!repo)
        return;
    void *item;
    size_t pos = 0;
    while ((item = em_index_next(&repo->images, &pos)))
        em_image_let_go(m, item);
    em_index_release(&repo->images);
    for (pos = 0; (item = em_index_next(&repo->tag_index, &pos));)
        em_free(item);
    em_index_release(&repo->tag_index);
    for (em_layer *l = repo->layers, *next; l; l = next) {
        next = l->next;
        layer_free(m, l);
    }
    em_index_release(&repo->layer_index);
    em_upload *u, *utmp;
    HASH_ITER(hh, repo->uploads, u, utmp) {
        HASH_DEL(repo->uploads, u);
        upload_free(u);
    }
    em_seqvec_release(&repo->order);
    em_free(repo->name);
    em_free(repo->arn);
    em_free(repo->uri);
    em_free(repo->tag_mutability);
    json_decref(repo->mutability_filters);
    em_free(repo->encryption_type);
    em_free(repo->kms_key);
    json_decref(repo->tags);
    em_free(repo->policy);
    for (const em_area *a = m->areas; a && a->name; a++)
        if (a->repo_free)
            a->repo_free(repo);
    em_free(repo);
}

void em_repo_remove(ecrmock *m, em_repo *repo)
{
    em_registry *r = repo->registry;
    HASH_DEL(r->repos, repo);
    drop_slot(&r->order, repo->slot, set_repo_slot);
    em_repo_free(m, repo);
}

void em_registry_settings_free(em_registry *r)
{
    json_decref(r->account_settings);
    json_decref(r->signing_config);
    for (size_t i = 0; i < r->n_exclusions; i++)
        em_free(r->exclusions[i].principal);
    em_free(r->exclusions);
    r->account_settings = r->signing_config = NULL;
    r->exclusions = NULL;
    r->n_exclusions = 0;
}

void em_registries_free(ecrmock *m)
{
    em_registry *r, *rtmp;
    HASH_ITER(hh, m->registries, r, rtmp) {
        em_repo *repo, *tmp;
        HASH_ITER(hh, r->repos, repo, tmp) {
            HASH_DEL(r->repos, repo);
            em_repo_free(m, repo);
        }
        em_seqvec_release(&r->order);
        for (const em_area *a = m->areas; a && a->name; a++)
            if (a->registry_free)
                a->registry_free(r);
        em_free(r->policy);
        json_decref(r->replication);
        em_registry_settings_free(r);
        HASH_DEL(m->registries, r);
        em_free(r);
    }
}

void em_blobs_free(ecrmock *m)
{
    em_blob *b;
    for (size_t pos = 0; (b = em_index_next(&m->blobs, &pos));) {
        em_free(b->data);
        em_free(b);
    }
    em_index_release(&m->blobs);
}
