/*
 * store: the registry's data and the ways to reach it: registries,
 * repositories, images, tags, layers, blobs and uploads (store.c); a new
 * repository with ECR's checks and defaults (repo_create.c); request
 * names to objects with ECR's not-found errors (lookup.c); ECR's JSON of
 * stored objects (views.c); image storage classes on the clock (archive.c);
 * other regions and views (regions.c); the area hooks the store calls when
 * it frees (em_area).
 */
#ifndef EM_STORE_H
#define EM_STORE_H

#include "core/core.h"

#pragma GCC visibility push(hidden)

/* ---- the registry's data ---------------------------------------------------
 * A registry (an account) holds repositories; a repository holds its layer
 * set, its images and tags, its uploads and its policy.  Layer bytes live
 * once per instance in a content-addressed blob store (em_blob), shared by
 * every repository that has the layer.  Lookups by name, digest, tag and
 * upload id are hash lookups (images, tags and layers, which grow with a
 * repository, and the instance's blobs in an em_index; the rest in uthash
 * tables); listings walk an em_seqvec, which keeps items in creation order
 * so that a page token can resume in O(log n); a repository's layers keep a
 * list in the order they were added, which snapshots follow.
 */
typedef struct em_seqslot {
    uint64_t seq;
    void *item; /* NULL once removed */
} em_seqslot;

typedef struct em_seqvec {
    em_seqslot *v;
    size_t n, cap, live;
} em_seqvec;

typedef struct em_blob em_blob;
typedef struct em_layer em_layer;
typedef struct em_image em_image;
typedef struct em_tag em_tag;
typedef struct em_upload em_upload;
typedef struct em_repo em_repo;
typedef struct em_registry em_registry;
typedef struct em_lc_preview em_lc_preview;
typedef struct em_region em_region;

struct em_blob {
    char digest[ECRMOCK_DIGEST_SIZE];
    unsigned char *data; /* NULL with len > 0: a declared blob (em_blob_declared) */
    size_t len;
    size_t refs; /* repositories holding it */
};

struct em_layer {
    em_blob *blob;
    const char *media_type; /* learnt from a manifest that lists it (em_media_type_intern); may be NULL */
    size_t image_refs;   /* images of the repository that reference it */
    em_layer *next;      /* the repository's next layer, in the order they were added */
};

/* One allocation: the name follows the struct. */
struct em_tag {
    em_image *image;
    char name[];
};

/* What an image holds beyond its manifest is kept small (bench section 7,
 * bench/PROFILE.md): media types known to ECR are shared static strings
 * (em_media_type_intern), a tag's name lives in its em_tag, one tag needs
 * no array (tags points at tag1), counts and the manifest's length are 32
 * bits (ECR's quotas are far below), no hash handle (repo->images is an
 * em_index), and the members are ordered with 2 bytes of padding: 264.  The
 * manifest, the subject, the layers and the children follow it in the same
 * block (em_image_alloc): one allocation an image.  A pointer member added
 * here must be copied in copy.c. */
struct em_image {
    char digest[ECRMOCK_DIGEST_SIZE];
    char *manifest;
    uint32_t manifest_len;     /* at most ImageManifest's 4 MiB */
    bool scanned;              /* a basic scan was started (scanning.c) */
    bool archived;             /* in the archival storage class (archive.c) */
    const char *media_type;          /* imageManifestMediaType (em_media_type_intern) */
    const char *artifact_media_type; /* the config's mediaType, when there is one (likewise) */
    char *subject;             /* subject digest, when there is one */
    int64_t pushed_at_ms;
    int64_t pulled_at_ms;      /* 0: never pulled */
    int64_t size;
    uint64_t seq;
    size_t slot;
    em_tag **tags;             /* sorted by name; &tag1 while there is at most one */
    union {
        em_tag *tag1;
        em_image *let_go_next; /* let go (em_image_let_go): the next image in the same list */
    };
    em_layer **layers;         /* distinct layers referenced (config included) */
    char (*children)[ECRMOCK_DIGEST_SIZE]; /* a list's/index's manifests */
    uint32_t n_tags;
    uint32_t n_layers;
    uint32_t n_children;
    uint32_t parents;          /* lists/indexes in the repository that reference it */
    json_t *replication;       /* replication statuses (replication.c), or NULL */
    int64_t scan_started_ms;   /* the last scan's start and completion, virtual clock */
    int64_t scan_done_ms;
    json_t *scan_findings;     /* ecrmock_scan_findings_set(): array, or NULL for none */
    int64_t archived_at_ms;    /* lastArchivedAt; 0: never archived */
    int64_t activated_at_ms;   /* when the latest restore completes (ahead of the clock: ACTIVATING); 0: never */
    json_t *signing;           /* signing profile ARNs matched at push (image_signing.c), or NULL */
    uint64_t journal_seq;      /* the last journal entry that keeps the manifest (testing/journal.c), or 0 */
};

/* A media type as an image keeps it: one of ECR's manifest and config
 * types as a shared static string, any other an em_malloc'd copy (NULL:
 * no memory).  em_media_type_release frees what intern copied.  A
 * layer's media type is kept the same way, the common layer types shared. */
const char *em_media_type_intern(const char *type);
void em_media_type_release(const char *type);

struct em_upload {
    char id[37];
    em_buf bytes;
    void *sha; /* EVP_MD_CTX *, updated part by part */
    uint64_t parts;
    uint64_t last_part_len;
    bool small_part; /* a part other than the latest was under the minimum */
    bool patched;         /* the registry plane: a PATCH has appended, */
    int64_t patch_range;  /* and the last byte its Range named, which ECR keeps answering */
    int64_t touched_ms;
    UT_hash_handle hh;
};

typedef struct em_policy {
    char *text;
} em_policy;

struct em_repo {
    char *name;
    em_registry *registry;
    char *arn, *uri;
    int64_t created_ms;
    char *tag_mutability;          /* "MUTABLE" / "IMMUTABLE" / ... */
    json_t *mutability_filters;    /* array, or NULL */
    bool scan_on_push;
    char *encryption_type;         /* "AES256" / "KMS" / "KMS_DSSE" */
    char *kms_key;                 /* may be NULL */
    json_t *tags;                  /* resource tags: array of {Key, Value} */
    char *policy;                  /* repository policy text, or NULL */
    char *lifecycle_policy;        /* lifecycle policy text, or NULL (lifecycle.c) */
    int64_t lifecycle_evaluated_ms; /* when that policy last ran; 0: never */
    struct em_lc_preview *lifecycle_preview; /* the latest preview, or NULL */
    uint64_t seq;
    size_t slot;
    em_layer *layers;   /* in the order added (next): a snapshot lists them so */
    em_layer *last_layer;
    em_index layer_index; /* em_layer by its blob's digest (em_layer_get) */
    em_index images;    /* em_image by digest (em_image_get) */
    em_index tag_index; /* em_tag by name (em_tag_get) */
    em_upload *uploads; /* hash by id */
    em_seqvec order;    /* images in push order */
    UT_hash_handle hh;
};

typedef struct em_exclusion {
    char *principal;    /* an IAM principal ARN */
    int64_t created_ms;
    uint64_t seq;
} em_exclusion;

struct em_registry {
    char id[13];
    em_repo *repos;     /* hash by name */
    em_seqvec order;    /* repositories in creation order */
    struct em_ptc_rules *ptc;       /* pull-through cache rules (pull_through_cache.c), or NULL */
    struct em_templates *templates; /* repository creation templates (creation_templates.c), or NULL */
    char *policy;       /* registry policy text (registry.c), or NULL */
    json_t *replication; /* replication configuration (replication.c), or NULL */
    json_t *account_settings;   /* {name: value} set by PutAccountSetting, or NULL */
    json_t *signing_config;     /* PutSigningConfiguration's signingConfiguration, or NULL */
    em_exclusion *exclusions;   /* pull time update exclusions, in registration order */
    size_t n_exclusions;
    UT_hash_handle hh;
};

/* What an area of ECR frees or resets when the instance, a registry or a
 * repository goes: the store and ecrmock.c call these through m->areas
 * (actions.c's em_areas[], ended by a row without a name), never an area
 * by name.  Any hook may be NULL. */
typedef struct em_area {
    const char *name;
    void (*reset)(ecrmock *m);              /* ecrmock_new, _reset, _free: the area's instance-wide state */
    void (*registry_free)(em_registry *r);  /* a registry being freed: the area's data in it */
    void (*repo_free)(em_repo *repo);       /* a repository being freed: the area's data in it */
    /* em_state_copy: the area's data of src copied into dst (a new registry
     * or repository that has none yet).  0, or -1 (no memory): what was
     * copied stays in dst for its free hook. */
    int (*registry_copy)(em_registry *dst, const em_registry *src);
    int (*repo_copy)(em_repo *dst, const em_repo *src);
} em_area;

/* ---- store (store.c) ----------------------------------------------------- */
em_registry *em_registry_get(ecrmock *m, const char *id);
em_registry *em_registry_ensure(ecrmock *m, const char *id); /* NULL: no memory */
/* Forgets a registry that holds nothing (no repository, rule, template,
 * policy or setting). */
void em_registry_drop_if_empty(ecrmock *m, em_registry *r);
/* Whether the registry `id` was there before a call that may make it
 * (em_registry_ensure(), here or in what the call calls): taken first, then
 * em_registry_abandon() on the call's failure forgets the registry only when
 * the call made it and it holds nothing again.  One that was there stays,
 * empty or not (an empty registry is state: the snapshot lists it). */
typedef struct em_registry_mark {
    ecrmock *m;
    char id[13];
    bool existed;
} em_registry_mark;
em_registry_mark em_registry_mark_of(ecrmock *m, const char *id);
void em_registry_abandon(const em_registry_mark *k);
/* The registry id a request names, or the caller's account. */
const char *em_registry_id(em_call *c);
em_repo *em_repo_get(em_registry *r, const char *name);
/* Looks up the request's repositoryName in its registry; on a miss sets
 * RepositoryNotFoundException and returns NULL. */
em_repo *em_repo_lookup(em_call *c);
int em_repo_insert(em_registry *r, em_repo *repo);
/* A new repository's settings (NULL members: ECR's defaults). */
typedef struct em_repo_settings {
    const char *tag_mutability;  /* NULL: "MUTABLE" */
    json_t *mutability_filters;  /* borrowed (copied); NULL: none */
    bool scan_on_push;
    const char *encryption_type; /* NULL: "AES256" */
    const char *kms_key;         /* NULL: none */
    json_t *tags;                /* borrowed (copied); NULL: [] */
} em_repo_settings;
/* Creates repository `name` in registry reg_id of the current view with
 * `set` (NULL: ECR's defaults) and links it in; when c->out is set, its
 * "repository" member is the new repository's JSON (CreateRepository's
 * answer).  Returns the repository (borrowed: the registry owns it), or NULL
 * with c's error set (RepositoryAlreadyExists, LimitExceeded, no memory) and
 * nothing changed. */
em_repo *em_repo_create(em_call *c, const char *reg_id, const char *name, const em_repo_settings *set);
void em_repo_remove(ecrmock *m, em_repo *repo); /* unlinks and frees */
void em_repo_free(ecrmock *m, em_repo *repo);
void em_registries_free(ecrmock *m);
void em_blobs_free(ecrmock *m);

/* ---- copies (copy.c) ------------------------------------------------------- */
/* Copies the stored state of `src` (in its own view, not called while this
 * runs: only read) into `dst`, a fresh instance with the same options that
 * holds none: every region's registries with their settings, the areas'
 * data (em_area's copy hooks), repositories, layers, images and tags, the
 * blob store and the scanning configuration.  The seqs of what is copied
 * (repositories, images, pull time update exclusions) are `seq_offset`
 * later than in src, and dst->seq src's plus that.  Uploads, fault rules,
 * the clock, the journal and the hooks are not copied.  0, or -1 when out
 * of memory: then dst holds part of the copy, to be freed with it.
 * A pointer member added to the store's structures must be copied here. */
int em_state_copy(ecrmock *dst, const ecrmock *src, uint64_t seq_offset);
/* The registries of one region (a hash by id, `src`) into *dst (empty). */
int em_registries_copy(ecrmock *d, em_registry **dst, const em_registry *src, uint64_t seq_offset);

em_blob *em_blob_get(ecrmock *m, const char *digest);
/* A declared blob: a digest and a size (len, up to INT64_MAX) without
 * bytes, as a fixture describes a layer that is listed but never
 * downloaded.  It answers everything but a download (fixtures/README.md,
 * "Declared layers"). */
static inline bool em_blob_declared(const em_blob *b)
{
    return !b->data && b->len > 0;
}
void em_blob_unref(ecrmock *m, em_blob *b);

em_layer *em_layer_get(em_repo *repo, const char *digest);
/* Links l (its blob set, a digest repo has no layer of) into the
 * repository: its index and, last, its list.  0, or -1 (no memory) with
 * nothing changed.  A layer leaves them only when the repository is freed. */
int em_layer_link(em_repo *repo, em_layer *l);
/* Adds the layer `digest` to the repository, its bytes `*data` (em_malloc'd,
 * `len` long) going to the blob store when the store does not have them yet
 * (or has the blob only declared, with this `len`): then *data is taken and
 * set to NULL; otherwise it is left to the caller.  *data NULL with len > 0
 * declares a new blob (em_blob_declared).  Returns the layer (an existing
 * one unchanged), or NULL when out of memory, with nothing changed. */
em_layer *em_layer_add(ecrmock *m, em_repo *repo, const char *digest, unsigned char **data, size_t len);
/* Asks the kernel to back the n bytes at p (memory about to be written
 * whole: a layer's bytes) with pages now, in one step, rather than a page
 * fault per 4 KiB page as they are first written.  Only a hint: memory
 * already backed, or a kernel without MADV_POPULATE_WRITE, is left as it
 * is; the contents never change. */
void em_prefault(void *p, size_t n);

/* The keys of repo->images and repo->tag_index (em_index_key). */
const char *em_image_key(const void *img);
const char *em_tag_key(const void *t);
/* The keys of m->blobs and repo->layer_index: a blob's digest. */
const char *em_blob_key(const void *b);
const char *em_layer_key(const void *l);
em_image *em_image_get(em_repo *repo, const char *digest);
/* The next manifest list or index of repo, in push order from *pos on, that
 * references img (borrowed), or NULL; *pos moves past it (start at 0). */
em_image *em_next_parent(em_repo *repo, const em_image *img, size_t *pos);
em_tag *em_tag_get(em_repo *repo, const char *name);
int em_image_insert(ecrmock *m, em_repo *repo, em_image *img);
/* Removes an image, its tags and its layer references; lets it go
 * (em_image_let_go). */
void em_image_remove(ecrmock *m, em_repo *repo, em_image *img);
/* A new image, zeroed, in one block with what it holds: the manifest's
 * bytes manifest[0..manifest_len) and a NUL, the subject (NULL: none), room
 * for n_layers layers and n_children children; manifest, subject, layers
 * and children point there (layers and children NULL when there are none),
 * n_layers and n_children are 0 (the caller fills the arrays).  NULL: no
 * memory.  em_image_free frees the block (and what the image holds apart:
 * media types, tags, replication, findings, signing). */
em_image *em_image_alloc(const char *manifest, size_t manifest_len, size_t n_layers, size_t n_children,
                         const char *subject);
void em_image_free(em_image *img);
/* An image the store no longer holds, in m: what it holds apart is freed
 * (as em_image_free frees it); its block goes too, unless a journal entry
 * may keep its manifest (journal_seq: the journal keeps a pulled manifest
 * by pointing at its image rather than copying it, testing/journal.c).
 * Such a block, manifest and all, waits in m->let_go (linked through
 * let_go_next; nothing else in it is read) for m's journal to free it with
 * em_image_block_free once no entry it holds keeps it. */
void em_image_let_go(ecrmock *m, em_image *img);
void em_image_block_free(em_image *img);
/* Moves the images let go in `from` to `to`'s list: `from` held `to`'s
 * registries, whose images `to`'s journal may keep (a fixture's swap). */
void em_image_let_go_move(ecrmock *to, ecrmock *from);
/* Puts tag `name` on img (moving it from another image if need be: an image
 * left with no tag stays, untagged).  -1: no memory, nothing changed. */
int em_tag_set(em_repo *repo, em_image *img, const char *name);
/* Removes one tag from its image; the image stays. */
void em_tag_remove(em_repo *repo, em_tag *t);
size_t em_repo_image_count(em_repo *repo);
/* The image's tags, sorted, as a JSON array (new reference; NULL: no memory). */
json_t *em_image_tags_json(const em_image *img);

em_upload *em_upload_get(ecrmock *m, em_repo *repo, const char *id); /* drops expired ones */
int em_upload_insert(em_repo *repo, em_upload *u);
void em_upload_remove(em_repo *repo, em_upload *u);

/* seq vectors */
int em_seqvec_push(em_seqvec *v, uint64_t seq, void *item, size_t *slot);
size_t em_seqvec_lower_bound(const em_seqvec *v, uint64_t seq); /* first slot with seq >= */
void em_seqvec_release(em_seqvec *v);
/* ---- regions and views (regions.c) ----------------------------------------- */
/* The instance serves one (account, region) view at a time: m->account,
 * m->region and m->registries.  The registries of the other regions wait in
 * m->regions; entering a view swaps them in (constant time). */
typedef struct em_view {
    char region[64];
    char account[13];
    bool moved;
} em_view;
/* Makes `account` (NULL: unchanged) in `region` (NULL: unchanged) the
 * current view, saving the old one in *saved; -1 when out of memory, with
 * nothing changed. */
int em_view_enter(ecrmock *m, const char *account, const char *region, em_view *saved);
void em_view_leave(ecrmock *m, const em_view *saved);
void em_regions_free(ecrmock *m);
/* Whether the instance has region `name` (its own, or one a view made):
 * asks without making one. */
bool em_region_exists(ecrmock *m, const char *name);
/* The registries of region `name` (borrowed), whatever the current view. */
em_registry *em_region_registries(ecrmock *m, const char *name);
/* The regions that hold a registry, the current view's among them, sorted
 * by name: *names, a new em_malloc'd array of *n names borrowed from m
 * (valid until a view is entered).  0, or -1: no memory. */
int em_region_names(ecrmock *m, const char ***names, size_t *n);
/* Makes the current view of `s` (an instance about to swap its registries
 * and regions with m's) m's region, and gives `s` an entry for each region
 * m has, so that the views open in m (a hook inside ecrmock_call_as) find
 * theirs after the swap.  0, or -1: no memory (s's registries unchanged). */
int em_view_mirror(ecrmock *s, const ecrmock *m);
/* Calls fn for every other region of `s` (not the current view's), with
 * its name and registries (borrowed, NULL: none); stops at fn's -1 and
 * returns it, else 0. */
int em_regions_each(const ecrmock *s, int (*fn)(void *ctx, const char *name, const em_registry *registries),
                    void *ctx);
/* Where region `name`'s registries live in m, the region made when m has
 * none of that name; NULL: no memory. */
em_registry **em_region_slot(ecrmock *m, const char *name);

/* ---- shared action helpers ------------------------------------------------- */
/* ECR's repository JSON for DescribeRepositories, CreateRepository, ... */
json_t *em_repo_json(ecrmock *m, em_repo *repo);
/* em_repo_json()'s bytes as em_wire_dump() writes them, appended to b; 0 or -1 (no memory). */
int em_repo_write(em_buf *b, ecrmock *m, em_repo *repo);
json_t *em_image_id_json(const char *digest, const char *tag);
/* An imageId's bytes, appended to b: the members given (digest, tag; either
 * may be NULL, as in a failure's imageId, which says what was asked), as
 * em_image_id_json() writes them when both are; 0 or -1 (no memory). */
int em_image_id_write(em_buf *b, const char *digest, const char *tag);

/* The image an ImageIdentifier names; on a miss (or an id naming none) sets
 * ImageNotFoundException with ECR's text and returns NULL. */
em_image *em_image_lookup(em_call *c, em_repo *repo, json_t *id);
/* The image actions' common start: the repository the request names (into
 * *repo_out, NULL when it does not exist) and, in it, the image its imageId
 * names; NULL with the call's error set. */
em_image *em_request_image(em_call *c, em_repo **repo_out);
/* What an ImageIdentifier names in repo (BatchGetImage, BatchDeleteImage). */
typedef enum {
    EM_ID_FOUND,
    EM_ID_MISSING_DIGEST_AND_TAG,
    EM_ID_INVALID_DIGEST,
    EM_ID_TAG_DOES_NOT_MATCH,
    EM_ID_NOT_FOUND,
    EM_ID_ARCHIVED
} em_id_result;
/* Resolves an ImageIdentifier: EM_ID_FOUND with *img_out and *tag_out (NULL
 * when the id named no tag), or why not (both NULL). */
em_id_result em_image_resolve(em_repo *repo, json_t *id, em_image **img_out, em_tag **tag_out);
/* The same of an identifier's digest and tag (either may be NULL). */
em_id_result em_image_resolve_by(em_repo *repo, const char *digest, const char *tag, em_image **img_out,
                                 em_tag **tag_out);
/* Sets ImageNotFoundException with ECR's text for digest/tag ("null" when
 * NULL) in repo; returns -1. */
int em_image_not_found(em_call *c, em_repo *repo, const char *digest, const char *tag);

/* ECR's Image (registryId, repositoryName, imageId with `tag`, the manifest
 * and its media type); new reference, NULL: no memory. */
json_t *em_image_json(em_repo *repo, em_image *img, const char *tag);
/* em_image_json()'s bytes, appended to b; 0 or -1.  at (may be NULL):
 * where in b the manifest's JSON string went, b->data[at[0] .. at[1]),
 * em_jw_string() of img's manifest. */
int em_image_write(em_buf *b, em_repo *repo, em_image *img, const char *tag, size_t at[2]);
/* The same, the manifest written as manifest_text (its JSON string's text,
 * as em_jw_string() would write it, without the quotes) when not NULL. */
int em_image_write_as(em_buf *b, em_repo *repo, em_image *img, const char *tag, const char *manifest_text,
                      size_t manifest_text_len);

/* ---- storage classes (archive.c) -------------------------------------- */
/* How long a restore from the archive takes, virtual time (ECR: "restore the
 * image within 20 minutes"). */
#define EM_RESTORE_MS (20 * 60 * 1000)
/* "ACTIVE", "ARCHIVED" or "ACTIVATING" on the instance's clock. */
const char *em_image_status(ecrmock *m, const em_image *img);
/* Whether the image can be pulled (ACTIVE). */
bool em_image_active(ecrmock *m, const em_image *img);
/* A re-push of an archived image: it is ACTIVE again at once, with the
 * images it lists that are not. */
void em_image_reactivate(ecrmock *m, em_repo *repo, em_image *img);
/* Moves an image to the archive now (lastArchivedAt the clock's now), with
 * the images it lists that no other standard list of `repo` references.
 * Cannot fail; the caller has checked the move is allowed. */
void em_image_archive(ecrmock *m, em_repo *repo, em_image *img);
/* Starts the restore of an archived image (ACTIVATING for EM_RESTORE_MS),
 * and of the archived images it lists; nothing for those not archived. */
void em_image_restore(ecrmock *m, em_repo *repo, em_image *img);
/* Adds lastArchivedAt / lastActivatedAt to an image detail: 0, or -1 (no memory). */
int em_image_storage_json(ecrmock *m, const em_image *img, json_t *detail);
void em_registry_settings_free(em_registry *r);

_Static_assert(sizeof(em_image) <= 312, "em_image fits a 320-byte malloc chunk (bench section 7)");

#pragma GCC visibility pop

#endif
