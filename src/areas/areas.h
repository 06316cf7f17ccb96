/*
 * areas: one file per area of ECR (its handlers, listed below), the
 * shared area modules (checks.c, manifest.c, lifecycle_policy.c,
 * image_push.c), the action and area tables (actions.c) and what the hot
 * actions' tree-free forms share (fast.c; each form sits at the end of its
 * area's file, after its handler).  An area calls
 * base, core, the store and the shared modules, never another area's
 * handlers.
 *
 * The actions ecrmock serves: one list, sorted by name, that declares the
 * handlers and builds the action table (actions.c).  Each handler lives
 * in the source file of its area of ECR:
 *   repositories.c       CreateRepository, DescribeRepositories, DeleteRepository
 *   layer_upload.c       InitiateLayerUpload, UploadLayerPart, CompleteLayerUpload,
 *                        BatchCheckLayerAvailability
 *   layer_download.c     GetDownloadUrlForLayer
 *   images.c             PutImage, BatchGetImage, BatchDeleteImage, ListImages, DescribeImages
 *   auth_token.c         GetAuthorizationToken
 *   repository_policy.c  SetRepositoryPolicy, GetRepositoryPolicy, DeleteRepositoryPolicy
 *   resource_tags.c      TagResource, UntagResource, ListTagsForResource
 *   tag_mutability.c     PutImageTagMutability
 *   pull_through_cache.c CreatePullThroughCacheRule, DescribePullThroughCacheRules,
 *                        UpdatePullThroughCacheRule, DeletePullThroughCacheRule,
 *                        ValidatePullThroughCacheRule
 *   creation_templates.c CreateRepositoryCreationTemplate, DescribeRepositoryCreationTemplates,
 *                        UpdateRepositoryCreationTemplate, DeleteRepositoryCreationTemplate
 *   registry.c           DescribeRegistry, PutRegistryPolicy, GetRegistryPolicy, DeleteRegistryPolicy
 *   replication.c        PutReplicationConfiguration, DescribeImageReplicationStatus
 *   scanning.c           PutImageScanningConfiguration, BatchGetRepositoryScanningConfiguration,
 *                        GetRegistryScanningConfiguration, PutRegistryScanningConfiguration,
 *                        StartImageScan, DescribeImageScanFindings
 *   lifecycle.c          PutLifecyclePolicy, GetLifecyclePolicy, DeleteLifecyclePolicy,
 *                        StartLifecyclePolicyPreview, GetLifecyclePolicyPreview
 *   referrers.c          ListImageReferrers
 *   storage_class.c      UpdateImageStorageClass
 *   account_settings.c   GetAccountSetting, PutAccountSetting
 *   image_signing.c      PutSigningConfiguration, GetSigningConfiguration,
 *                        DeleteSigningConfiguration, DescribeImageSigningStatus
 *   pull_time_exclusions.c  RegisterPullTimeUpdateExclusion,
 *                        DeregisterPullTimeUpdateExclusion, ListPullTimeUpdateExclusions
 */
#ifndef EM_AREAS_H
#define EM_AREAS_H

#include "store/store.h"

#define EM_ACTION_LIST(X)                      \
    X(BatchCheckLayerAvailability)             \
    X(BatchDeleteImage)                        \
    X(BatchGetImage)                           \
    X(BatchGetRepositoryScanningConfiguration) \
    X(CompleteLayerUpload)                     \
    X(CreatePullThroughCacheRule)              \
    X(CreateRepository)                        \
    X(CreateRepositoryCreationTemplate)        \
    X(DeleteLifecyclePolicy)                   \
    X(DeletePullThroughCacheRule)              \
    X(DeleteRegistryPolicy)                    \
    X(DeleteRepository)                        \
    X(DeleteRepositoryCreationTemplate)        \
    X(DeleteRepositoryPolicy)                  \
    X(DeleteSigningConfiguration)              \
    X(DeregisterPullTimeUpdateExclusion)       \
    X(DescribeImageReplicationStatus)          \
    X(DescribeImageScanFindings)               \
    X(DescribeImageSigningStatus)              \
    X(DescribeImages)                          \
    X(DescribePullThroughCacheRules)           \
    X(DescribeRegistry)                        \
    X(DescribeRepositories)                    \
    X(DescribeRepositoryCreationTemplates)     \
    X(GetAccountSetting)                       \
    X(GetAuthorizationToken)                   \
    X(GetDownloadUrlForLayer)                  \
    X(GetLifecyclePolicy)                      \
    X(GetLifecyclePolicyPreview)               \
    X(GetRegistryPolicy)                       \
    X(GetRegistryScanningConfiguration)        \
    X(GetRepositoryPolicy)                     \
    X(GetSigningConfiguration)                 \
    X(InitiateLayerUpload)                     \
    X(ListImageReferrers)                      \
    X(ListImages)                              \
    X(ListPullTimeUpdateExclusions)            \
    X(ListTagsForResource)                     \
    X(PutAccountSetting)                       \
    X(PutImage)                                \
    X(PutImageScanningConfiguration)           \
    X(PutImageTagMutability)                   \
    X(PutLifecyclePolicy)                      \
    X(PutRegistryPolicy)                       \
    X(PutRegistryScanningConfiguration)        \
    X(PutReplicationConfiguration)             \
    X(PutSigningConfiguration)                 \
    X(RegisterPullTimeUpdateExclusion)         \
    X(SetRepositoryPolicy)                     \
    X(StartImageScan)                          \
    X(StartLifecyclePolicyPreview)             \
    X(TagResource)                             \
    X(UntagResource)                           \
    X(UpdateImageStorageClass)                 \
    X(UpdatePullThroughCacheRule)              \
    X(UpdateRepositoryCreationTemplate)        \
    X(UploadLayerPart)                         \
    X(ValidatePullThroughCacheRule)

#pragma GCC visibility push(hidden)

typedef int (*em_handler)(em_call *c);

/* images.c: an imageDetail of DescribeImages, as em_wire_dump() writes it,
 * appended to b (the tree-free DescribeImages); 0 or -1 (no memory). */
int em_image_detail_write(em_buf *b, ecrmock *m, em_repo *repo, em_image *img);
/* images.c: the same imageDetail as a tree (new reference; NULL: no
 * memory): what the tree path answers, and the writer's reference in
 * tests/unit/test_views.c. */
json_t *em_image_detail_json(ecrmock *m, em_repo *repo, em_image *img);

/* ---- the hot actions' tree-free forms (fast.c; issue 19) ----------------------
 *
 * PutImage, BatchGetImage, DescribeRepositories, DescribeImages, ListImages
 * and BatchCheckLayerAvailability also have a form that reads the request's
 * tokens and writes the answer's bytes, with no jansson tree: the wire level
 * tries it first (fronts/dispatch.c, em_dispatch_fast) when the instance has
 * no hooks and no fault rules.  A form answers only what it is sure of, the
 * same bytes and the same state as the handler: anything else (every error,
 * every unusual request) it declines with nothing changed, and the handler
 * runs. */
typedef struct em_fast {
    ecrmock *m;
    const em_jdoc *req; /* the request's tokens: token 0 an object em_validate_tokens() accepted */
    em_buf *out;        /* the answer's bytes, written by the form */
    /* An image whose manifest the answer holds as em_jw_string() writes it,
     * at out->data[kept_at .. kept_end): the journal keeps the image rather
     * than copy those bytes (testing/journal.c, em_image_let_go).  NULL (the
     * caller's start): none. */
    em_image *kept;
    size_t kept_at, kept_end;
    /* decoded request strings (em_fast_str) */
    char scratch[4096];
    size_t used;
} em_fast;
/* A form returns 0 with the answer in f->out and room for one byte more
 * (the caller's NUL), or this: it does not answer, and nothing changed. */
#define EM_FAST_DECLINED 1
typedef int (*em_fast_handler)(em_fast *f);
/* Member `name` of object token `obj`, decoded into f->scratch and
 * NUL-terminated; NULL when absent or when the scratch is full (*full set:
 * the form declines).  *len (may be NULL): its length. */
const char *em_fast_str(em_fast *f, size_t obj, const char *name, size_t *len, bool *full);
/* String token `tok`, decoded as em_fast_str() decodes a member; NULL when
 * it is not a string or the scratch is full (*full set). */
const char *em_fast_tok_str(em_fast *f, size_t tok, size_t *len, bool *full);
/* The repository the request's registryId and repositoryName name, or NULL. */
em_repo *em_fast_repo(em_fast *f);
/* Ends a listing's answer whose page is full: `],"nextToken":"..."}`, the
 * token the handler makes for the page that resumes at item `seq` (and, for
 * ListImages, its tag `tag`) of listing `scope`; 0, or -1 (no memory). */
int em_fast_next_token(em_fast *f, const char *scope, uint64_t seq, const char *tag);
int em_fast_PutImage(em_fast *f);
int em_fast_BatchGetImage(em_fast *f);
int em_fast_DescribeImages(em_fast *f);
int em_fast_DescribeRepositories(em_fast *f);
int em_fast_ListImages(em_fast *f);
int em_fast_BatchCheckLayerAvailability(em_fast *f);

typedef struct em_action {
    const char *name;
    em_handler handler;
    int input_shape;
} em_action;

extern const em_action em_actions[];
extern const size_t em_action_count;
const em_action *em_action_find(const char *name);
/* The tree-free form of action a, or NULL. */
em_fast_handler em_fast_form(const em_action *a);
extern const em_area em_areas[];

/* ---- lifecycle policies (lifecycle_policy.c) ------------------------------- */
/* A lifecycle policy, parsed: its rules (tagStatus, countType, ...). */
typedef enum { EM_LC_TS_TAGGED, EM_LC_TS_UNTAGGED, EM_LC_TS_ANY } em_lc_tag_status;

/* countType; the order of COUNT_TYPES. */
typedef enum { EM_LC_CT_COUNT, EM_LC_CT_PUSHED, EM_LC_CT_PULLED, EM_LC_CT_TRANSITIONED } em_lc_count_type;

typedef struct em_lc_rule {
    int64_t priority;
    em_lc_tag_status status;
    json_t *prefixes; /* borrowed from the document; NULL when absent */
    json_t *patterns; /* borrowed from the document; NULL when absent */
    em_lc_count_type type;
    int64_t count;
    bool archive;     /* selection.storageClass "archive": selects archived images */
    bool transition;  /* action "transition" to the archive; otherwise "expire" */
} em_lc_rule;

typedef struct em_lc_policy {
    json_t *doc;
    em_lc_rule *rules; /* sorted by priority */
    size_t n;
} em_lc_policy;
/* Parses and checks `text`; 0 and *p filled (release it), or -1 with the
 * call's error set and *p empty. */
int em_lc_policy_parse(em_call *c, const char *text, em_lc_policy *p);
void em_lc_policy_release(em_lc_policy *p);
/* Whether `text` is a lifecycle policy ECR accepts: 0, or -1 with
 * InvalidParameterException set in ECR's words. */
int em_lifecycle_policy_check(em_call *c, const char *text);
/* Frees a repository's lifecycle policy and preview (em_repo_free). */
void em_lifecycle_free(em_repo *repo);
/* Copies a repository's lifecycle preview (em_area.repo_copy). */
int em_lifecycle_copy(em_repo *dst, const em_repo *src);
/* Copies an image PutImage just stored (with `tag`, may be NULL) to the
 * destinations of its registry's replication rules, recording each outcome
 * on the image.  Never fails the push. */
void em_replicate(ecrmock *m, em_repo *repo, em_image *img, const char *tag);

/* ---- policies (repository_policy.c) ---------------------------------------- */
/* Whether `text` is an IAM policy document ECR accepts as a resource policy. */
bool em_policy_ok(const char *text);

/* ---- manifests (manifest.c) ------------------------------------------------ */
/* A blob a manifest references: its config or one of its layers. */
typedef struct em_mf_blob {
    const char *digest;     /* "<algorithm>:<hex>" (em_digest_ok) */
    const char *media_type; /* the descriptor's mediaType; NULL when absent (or not a string) */
} em_mf_blob;

#define EM_MF_INLINE_BLOBS 16
#define EM_MF_INLINE_CHILDREN 16
#define EM_MF_INLINE_TEXT 3072

/* What PutImage needs of a manifest, flat: no tree.  Its strings live in the
 * manifest's own storage: inline (a manifest of up to 15 layers or 16
 * children fits) or one em_malloc'd block, `heap`, which
 * em_manifest_release frees.  A manifest built by hand (fixtures) points
 * where it likes and leaves heap NULL, or gives it the one block to free. */
typedef struct em_manifest {
    const char *media_type;        /* in the storage, the request's (borrowed) or a static string */
    const char *config_digest;     /* may be NULL */
    const char *config_media_type; /* the config's mediaType or artifactType; may be NULL */
    const char *subject;           /* may be NULL */
    em_mf_blob *layers;            /* the blobs: config first (when there is one and it is
                                      distributable), then the distributable layers in order;
                                      schema 1: each blobSum once, in order */
    size_t n_layers;
    const char **children;         /* a list's/index's manifests, by digest */
    size_t n_children;
    bool is_list;
    void *heap;                    /* the one block em_manifest_release frees, or NULL */
    char *next, *end;              /* the parse's: the storage's free text */
    em_mf_blob inline_layers[EM_MF_INLINE_BLOBS];
    const char *inline_children[EM_MF_INLINE_CHILDREN];
    char inline_text[EM_MF_INLINE_TEXT];
} em_manifest;
/* Parses manifest bytes into *out (release it with em_manifest_release,
 * whatever the answer): read as json_loadb would, into json_scan.c's tokens
 * (256 on the stack; past them one allocation, freed before it returns; a
 * schema 1 manifest of more than 64 distinct blobs one more, a table of them,
 * freed too).
 * On a problem sets InvalidParameterException (ECR's texts; ServerException
 * when out of memory) and returns -1.  out->media_type may be
 * req_media_type (borrowed). */
int em_manifest_parse(em_call *c, const char *bytes, size_t len, const char *req_media_type,
                      em_manifest *out);
void em_manifest_release(em_manifest *mf);
bool em_media_type_is_list(const char *mt);
/* Whether a layer of media type mt (may be NULL) is one a registry need not
 * hold (Windows base layers and the like): a manifest's list of blobs leaves
 * it out. */
bool em_media_type_non_distributable(const char *mt);

/* ---- image scanning (scanning.c) ----------------------------------------------- */
/* Puts the scanning state back to ecrmock_new()'s: no registry scanning
 * configuration, the default scan duration. */
void em_scanning_reset(ecrmock *m);
/* PutImage's hook for a newly stored image: starts a scan when the
 * repository scans on push (its own flag or a registry rule).  Cannot fail. */
void em_scan_on_push(ecrmock *m, em_repo *repo, em_image *img);
/* DescribeImages' hook: adds imageScanStatus and imageScanFindingsSummary to
 * an image detail when the image was scanned.  0, or -1 when out of memory. */
int em_scan_detail(ecrmock *m, em_image *img, json_t *detail);
/* ---- rules several areas apply (checks.c) ---------------------------------- */
#define EM_LOWER_ALNUM "abcdefghijklmnopqrstuvwxyz0123456789"
/* Whether s[0..n) is n > 0 bytes, each of `set`. */
bool em_all_of(const char *s, size_t n, const char *set);
/* A resource tag's key: 1 to 128 characters, not "aws:..."; 0, or -1 with
 * InvalidTagParameterException set. */
int em_tag_key_check(em_call *c, const char *k);
/* The tag of `tags` (a TagList) with key `k` (borrowed), or NULL. */
json_t *em_tag_find(json_t *tags, const char *k);
/* ECR's rules for resource tags: keys of 1 to 128
 * characters not starting with "aws:", values of at most 256, no key twice,
 * at most 50 tags once the request's `tags` are merged into `current` (the
 * resource's tags, NULL for a new resource).  `tags` is a validated TagList.
 * 0, or -1 with InvalidTagParameterException or TooManyTagsException set. */
int em_resource_tags_check(em_call *c, json_t *tags, json_t *current);
/* ECR's rules for imageTagMutabilityExclusionFilters: given
 * exactly when `mutability` is one of the *_WITH_EXCLUSION settings.  0, or
 * -1 with InvalidParameterException set. */
int em_tag_mutability_check(em_call *c, const char *mutability, json_t *filters);

/* ---- pull-through cache rules and creation templates ------------------------ */
void em_ptc_rules_free(em_registry *r);   /* pull_through_cache.c */
int em_ptc_rules_copy(em_registry *dst, const em_registry *src); /* em_area.registry_copy */
/* The registry's pull-through cache rules as DescribePullThroughCacheRules
 * shows them, without registryId, in creation order (snapshots): a new
 * reference, an empty array when there are none; NULL: no memory. */
json_t *em_ptc_rules_json(const em_registry *r);
/* Whether repository `name` is a pull-through cache's: under the prefix of
 * one of the registry's rules ("<prefix>/..."; a ROOT prefix, which names no
 * repository apart, never counts). */
bool em_ptc_covers(const em_registry *r, const char *name);
void em_secrets_free(ecrmock *m);
/* An IAM role ARN (arn:<partition>:iam::<account>:role/<name>) in the
 * account `registry_id`; 0, or -1 with InvalidParameterException set. */
int em_role_arn_check(em_call *c, const char *arn, const char *registry_id);
void em_templates_free(em_registry *r);   /* creation_templates.c */
int em_templates_copy(em_registry *dst, const em_registry *src); /* em_area.registry_copy */
/* The registry's repository creation templates as
 * DescribeRepositoryCreationTemplates shows them, in creation order
 * (snapshots): a new reference, an empty array when there are none; NULL:
 * no memory. */
json_t *em_templates_json(const em_registry *r);
/*
 * Gives `repo`, a repository ECR is creating on the user's behalf in
 * `registry_id` under the name `repo_name` for the use `applied_for`
 * ("PULL_THROUGH_CACHE", "REPLICATION" or "CREATE_ON_PUSH"), the settings of
 * the repository creation template that applies, as ECR does: among the
 * registry's templates whose appliedFor holds that use, the one with the
 * longest prefix p such that repo_name starts with p + "/", else the ROOT
 * template.  The settings replace repo's tag mutability and exclusion
 * filters, encryption type and KMS key, resource tags, repository policy and
 * lifecycle policy; what the template leaves out gets ECR's defaults
 * (MUTABLE, AES256, no tags, no policies).  Call it before the repository is
 * shown to anyone (it may already be linked into its registry).
 * Returns 1 when a template applied, 0 when none did (repo unchanged), -1 when
 * memory ran out (c's error set, repo unchanged).
 */
int em_template_apply(em_call *c, const char *registry_id, const char *repo_name, const char *applied_for,
                      em_repo *repo);
/*
 * Creates the repository c->req names ({"repositoryName", "registryId"}, a
 * CreateRepository request) as ECR does on the user's behalf for
 * `applied_for`: CreateRepository's checks and defaults, then the settings of
 * the template that applies (em_template_apply).  With `need_template`
 * (CREATE_ON_PUSH), nothing is created unless a template applies.  Call with
 * the instance locked and c->out NULL (CreateRepository's answer would show
 * the repository before the template's settings).  Returns 1 and the repository in *out (borrowed, in its
 * registry), 0 when need_template and no template applies (nothing changed),
 * or -1 with c's error set (nothing changed).
 */
int em_repo_create_for(em_call *c, const char *applied_for, bool need_template, em_repo **out);
/* Stores manifest bytes[0..len) as an image of `repo`, tagged `tag` (may be
 * NULL), with every check PutImage makes after validation: the manifest and
 * its media type, `given` (the digest the caller claims, or NULL), layers
 * and referenced images present, tag immutability, limits.  A re-push of an
 * archived image restores it.  When c->out is set it becomes PutImage's
 * answer.  Returns the image (borrowed), or NULL with c's error set and
 * nothing changed.  Replicates nothing (em_replicate is the caller's). */
em_image *em_image_push(em_call *c, em_repo *repo, const char *bytes, size_t len, const char *media_type,
                        const char *given, const char *tag);
/* The same for a manifest parsed already (what em_manifest_parse would
 * make of bytes[0..len); borrowed): a fixture's compact images, whose
 * manifests the loader writes itself. */
em_image *em_image_push_manifest(em_call *c, em_repo *repo, const char *bytes, size_t len, const em_manifest *mf,
                                 const char *given, const char *tag);

/* ---- signing and pull time exclusions (image_signing.c, pull_time_exclusions.c) */
/* Records on a newly pushed image the signing profiles its repository
 * matches now: 0, or -1 (no memory, image unchanged). */
int em_signing_on_push(em_repo *repo, em_image *img);
/* Whether the caller's principal is excluded from pull time updates in `r`. */
bool em_pull_time_excluded(ecrmock *m, em_registry *r);

#define EM_DECLARE_HANDLER(name) int em_##name(em_call *c);
EM_ACTION_LIST(EM_DECLARE_HANDLER)
#undef EM_DECLARE_HANDLER

/* auth_token.c: the token whose password is password[0..len), as
 * GetAuthorizationToken handed it out (borrowed, until the next one), or
 * NULL for a password it never gave; the caller holds the lock. */
const em_token *em_token_find(ecrmock *m, const char *password, size_t len);

#pragma GCC visibility pop

#endif
