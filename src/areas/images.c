/*
 * Images: PutImage, BatchGetImage, BatchDeleteImage, ListImages and
 * DescribeImages.  Storing a pushed image is image_push.c's; deleting an
 * image's last tag deletes it.
 */
#include <stdio.h>
#include <string.h>

#include "areas/areas.h"

/* A page of ListImages or DescribeImages without maxResults (ECR's default). */
#define PAGE_DEFAULT 100
/* The most imageIds a request names (ImageIdentifierList's max in the
 * model, which validation holds requests to): the forms' arrays. */
#define IDS_MAX 100

/* ---- PutImage ----------------------------------------------------------------- */

int em_PutImage(em_call *c)
{
    em_repo *repo = em_repo_lookup(c);
    if (!repo)
        return -1;
    json_t *jm = json_object_get(c->req, "imageManifest");
    const char *tag = em_get_str(c->req, "imageTag");
    em_image *img = em_image_push(c, repo, json_string_value(jm), json_string_length(jm),
                                  em_get_str(c->req, "imageManifestMediaType"), em_get_str(c->req, "imageDigest"), tag);
    if (!img)
        return -1;
    em_replicate(c->m, repo, img, tag); /* replication.c: copies to the registry's destinations */
    return 0;
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
    json_t *copy = json_object();
    if (copy && (em_set_opt_str(copy, "imageDigest", em_get_str(id, "imageDigest")) < 0 ||
                 em_set_opt_str(copy, "imageTag", em_get_str(id, "imageTag")) < 0)) {
        json_decref(copy);
        copy = NULL;
    }
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
            err = json_array_append_new(images, em_image_json(repo, img, t ? t->name : NULL));
        } else {
            /* By digest alone: one entry per tag the image has. */
            for (size_t k = 0; k < img->n_tags && !err; k++)
                err = json_array_append_new(images, em_image_json(repo, img, img->tags[k]->name));
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
            em_image_remove(c->m, repo, plan[k].img);
    }
    em_free(plan);
    return 0;
}

/* ---- ListImages and DescribeImages ----------------------------------------------------- */

/* Whether the filter's tagStatus ts and imageStatus is (NULL: absent) keep img. */
static bool status_wanted_by(ecrmock *m, const char *ts, const char *is, em_image *img)
{
    if (!is)
        is = "ACTIVE"; /* the default: archived and restoring images are left out */
    if (strcmp(is, "ANY") != 0 && strcmp(is, em_image_status(m, img)) != 0)
        return false;
    if (!ts || strcmp(ts, "ANY") == 0)
        return true;
    return strcmp(ts, "TAGGED") == 0 ? img->n_tags > 0 : img->n_tags == 0;
}

static bool status_wanted(ecrmock *m, json_t *filter, em_image *img)
{
    return status_wanted_by(m, em_get_str(filter, "tagStatus"), em_get_str(filter, "imageStatus"), img);
}

/* The listing a page token belongs to: the action, the repository and the
 * filter (tagStatus, imageStatus; NULL: their defaults).  The handlers and
 * the forms name it alike, so that either reads the other's tokens. */
static void list_scope_by(const char *action, em_repo *repo, const char *ts, const char *is, char *out, size_t cap)
{
    snprintf(out, cap, "%s|%s|%s|%s|%s", action, repo->registry->id, repo->name, ts ? ts : "ANY", is ? is : "ACTIVE");
}

static void list_scope(em_call *c, em_repo *repo, const char *action, char *out, size_t cap)
{
    json_t *filter = json_object_get(c->req, "filter");
    list_scope_by(action, repo, em_get_str(filter, "tagStatus"), em_get_str(filter, "imageStatus"), out, cap);
}

int em_ListImages(em_call *c)
{
    em_repo *repo = em_repo_lookup(c);
    if (!repo)
        return -1;
    json_t *filter = json_object_get(c->req, "filter");
    const char *token = em_get_str(c->req, "nextToken");
    size_t max = (size_t)em_get_int(c->req, "maxResults", PAGE_DEFAULT);
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
    if (em_set(d, "registryId", em_json_string(repo->registry->id)) < 0 ||
        em_set(d, "repositoryName", em_json_string(repo->name)) < 0 ||
        em_set(d, "imageDigest", em_json_string(img->digest)) < 0)
        goto fail;
    if (img->n_tags) {
        json_t *tags = em_image_tags_json(img);
        if (em_set(d, "imageTags", tags) < 0)
            goto fail;
    }
    if (em_set(d, "imageSizeInBytes", json_integer(img->size)) < 0 ||
        em_set(d, "imagePushedAt", em_time(img->pushed_at_ms)) < 0 ||
        em_set(d, "imageManifestMediaType", em_json_string(img->media_type)) < 0 ||
        (img->artifact_media_type && em_set(d, "artifactMediaType", em_json_string(img->artifact_media_type)) < 0) ||
        (img->pulled_at_ms && em_set(d, "lastRecordedPullTime", em_time(img->pulled_at_ms)) < 0) ||
        (img->subject && em_set(d, "subjectManifestDigest", em_json_string(img->subject)) < 0) ||
        em_set(d, "imageStatus", em_json_string(em_image_status(m, img))) < 0 || em_image_storage_json(m, img, d) < 0 ||
        em_scan_detail(m, img, d) < 0) /* scanning.c: imageScanStatus and its summary */
        goto fail;
    return d;
fail:
    json_decref(d);
    return NULL;
}

/* An object's members without its braces, each after a comma: what
 * em_wire_dump() writes of them inside a bigger object. */
static int members_write(em_buf *b, json_t *o)
{
    const char *key;
    size_t key_len;
    json_t *v;
    json_object_keylen_foreach(o, key, key_len, v) {
        if (EM_JW_LIT(b, ",") < 0 || em_jw_string(b, key, key_len) < 0 || EM_JW_LIT(b, ":") < 0 ||
            em_jw_value(b, v) < 0)
            return -1;
    }
    return 0;
}

int em_image_detail_write(em_buf *b, ecrmock *m, em_repo *repo, em_image *img)
{
    if (EM_JW_STR_AFTER(b, "{\"registryId\":", repo->registry->id) < 0 ||
        EM_JW_STR_AFTER(b, ",\"repositoryName\":", repo->name) < 0 ||
        EM_JW_STR_AFTER(b, ",\"imageDigest\":", img->digest) < 0)
        return -1;
    for (size_t k = 0; k < img->n_tags; k++)
        if ((k ? EM_JW_LIT(b, ",") : EM_JW_LIT(b, ",\"imageTags\":[")) < 0 ||
            em_jw_string(b, img->tags[k]->name, strlen(img->tags[k]->name)) < 0)
            return -1;
    if ((img->n_tags && EM_JW_LIT(b, "]") < 0) || EM_JW_LIT(b, ",\"imageSizeInBytes\":") < 0 ||
        em_jw_int(b, img->size) < 0 || EM_JW_LIT(b, ",\"imagePushedAt\":") < 0 ||
        em_jw_time(b, img->pushed_at_ms) < 0 ||
        EM_JW_STR_AFTER(b, ",\"imageManifestMediaType\":", img->media_type) < 0 ||
        (img->artifact_media_type && EM_JW_STR_AFTER(b, ",\"artifactMediaType\":", img->artifact_media_type) < 0) ||
        (img->pulled_at_ms &&
         (EM_JW_LIT(b, ",\"lastRecordedPullTime\":") < 0 || em_jw_time(b, img->pulled_at_ms) < 0)) ||
        (img->subject && EM_JW_STR_AFTER(b, ",\"subjectManifestDigest\":", img->subject) < 0) ||
        EM_JW_STR_AFTER(b, ",\"imageStatus\":", em_image_status(m, img)) < 0)
        return -1;
    /* The storage class's times and the scan's members, rare: made by their
     * own tree functions in a small tree, which is written member by member.
     * An image never archived, restored nor scanned has none of them. */
    if (img->archived_at_ms || img->activated_at_ms || img->scanned) {
        json_t *more = json_object();
        bool ok = more && em_image_storage_json(m, img, more) == 0 && em_scan_detail(m, img, more) == 0 &&
                  members_write(b, more) == 0;
        json_decref(more);
        if (!ok)
            return -1;
    }
    return EM_JW_LIT(b, "}");
}

json_t *em_image_detail_json(ecrmock *m, em_repo *repo, em_image *img)
{
    return detail_json(m, repo, img);
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
            rc = em_image_not_found(c, repo, em_get_str(id, "imageDigest"), em_get_str(id, "imageTag"));
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
    const char *token = em_get_str(c->req, "nextToken");
    json_t *details = json_array();
    if (em_set(c->out, "imageDetails", details) < 0)
        return em_fail_nomem(c);
    if (ids) {
        if (em_page_refuse(c, "imageIds") < 0)
            return -1;

        return describe_ids(c, repo, ids, details);
    }
    size_t max = (size_t)em_get_int(c->req, "maxResults", PAGE_DEFAULT);
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

/* ---- the tree-free forms (areas.h; issue 19) ---------------------------------------------
 *
 * The same answers as the handlers above for the requests they are sure of;
 * every error, and anything unusual, they decline with nothing changed. */

int em_fast_PutImage(em_fast *f)
{
    bool full = false;
    em_repo *repo = em_fast_repo(f);
    const char *mt = em_fast_str(f, 0, "imageManifestMediaType", NULL, &full);
    const char *given = em_fast_str(f, 0, "imageDigest", NULL, &full);
    const char *tag = em_fast_str(f, 0, "imageTag", NULL, &full);
    size_t mi = em_jget(f->req, 0, "imageManifest");
    if (!repo || full || !mi)
        return EM_FAST_DECLINED;
    const em_jtok *t = &f->req->t[mi];
    char *owned = NULL;
    const char *bytes = f->req->text + t->start;
    size_t len = t->len;
    bool canonical = true;
    if (t->escaped) {
        if (!(owned = em_malloc(t->len + 1)))
            return EM_FAST_DECLINED;
        len = em_jstr_decode_canonical(f->req, mi, owned, &canonical);
        bytes = owned;
    }
    /* The answer is written where the handler's is made (image_push.c):
     * before the tag moves, the image undone if it cannot be. */
    em_call c;
    em_call_init(&c, f->m);
    c.answer = f->out;
    if (canonical) { /* the answer copies the client's escapes (em_jstr_decode_canonical) */
        c.answer_manifest = f->req->text + t->start;
        c.answer_manifest_len = t->len;
    }
    em_image *img = em_image_push(&c, repo, bytes, len, mt, given, tag);
    em_free(owned);
    json_decref(c.errdoc);
    if (!img)
        return EM_FAST_DECLINED; /* refused with nothing changed: the handler says why */
    em_replicate(f->m, repo, img, tag); /* replication.c */
    return 0;
}

/* Whether media type mt is one of the request's acceptedMediaTypes (all when absent). */
static bool fast_accepted(em_fast *f, const char *mt)
{
    size_t types = em_jget(f->req, 0, "acceptedMediaTypes");
    if (!types)
        return true;
    size_t n = strlen(mt), k = types + 1;
    for (uint32_t i = 0; i < f->req->t[types].count; i++, k = f->req->t[k].next) {
        const em_jtok *t = &f->req->t[k];
        if (!t->escaped && t->len == n && memcmp(f->req->text + t->start, mt, n) == 0)
            return true;
        char decoded[1200];
        if (t->escaped && t->len < sizeof decoded && em_jstr_decode(f->req, k, decoded) == n && memcmp(decoded, mt, n) == 0)
            return true;
    }
    return false;
}

static int fast_failure(em_buf *b, const char *digest, const char *tag, em_id_result r)
{
    return (b->len && EM_JW_LIT(b, ",") < 0) || EM_JW_LIT(b, "{\"imageId\":") < 0 ||
                   em_image_id_write(b, digest, tag) < 0 ||
                   EM_JW_STR_AFTER(b, ",\"failureCode\":", id_failures[r].code) < 0 ||
                   EM_JW_STR_AFTER(b, ",\"failureReason\":", id_failures[r].reason) < 0 || EM_JW_LIT(b, "}") < 0
               ? -1
               : 0;
}

int em_fast_BatchGetImage(em_fast *f)
{
    em_repo *repo = em_fast_repo(f);
    size_t ids = em_jget(f->req, 0, "imageIds");
    if (!repo || !ids || f->req->t[ids].count > IDS_MAX)
        return EM_FAST_DECLINED;
    em_image *pulled[IDS_MAX];
    size_t n_pulled = 0, n_images = 0;
    em_buf failures = {0};
    int err = EM_JW_LIT(f->out, "{\"images\":[");
    size_t k = ids + 1, used = f->used;
    for (uint32_t i = 0; !err && i < f->req->t[ids].count; i++, k = f->req->t[k].next) {
        bool full = false;
        f->used = used;
        const char *digest = em_fast_str(f, k, "imageDigest", NULL, &full);
        const char *tag = em_fast_str(f, k, "imageTag", NULL, &full);
        if (full) {
            err = -1;
            break;
        }
        em_image *img;
        em_tag *t;
        em_id_result r = em_image_resolve_by(repo, digest, tag, &img, &t);
        if (r == EM_ID_FOUND && !fast_accepted(f, img->media_type))
            r = EM_ID_NOT_FOUND;
        if (r == EM_ID_FOUND && !em_image_active(f->m, img))
            r = EM_ID_ARCHIVED;
        if (r != EM_ID_FOUND) {
            err = fast_failure(&failures, digest, tag, r);
            continue;
        }
        for (size_t j = 0; !err && j < (t || img->n_tags == 0 ? 1 : img->n_tags); j++) {
            const char *name = t ? t->name : img->n_tags ? img->tags[j]->name : NULL;
            size_t at[2];
            err = (n_images && EM_JW_LIT(f->out, ",") < 0) || em_image_write(f->out, repo, img, name, at) < 0;
            if (!err && !n_images++) { /* the first image's manifest: the journal keeps it by its image */
                f->kept = img;
                f->kept_at = at[0];
                f->kept_end = at[1];
            }
        }
        pulled[n_pulled++] = img;
    }
    err = err || EM_JW_LIT(f->out, "],\"failures\":[") < 0 || em_buf_append(f->out, failures.data, failures.len) < 0 ||
          EM_JW_LIT(f->out, "]}") < 0 || em_buf_reserve(f->out, 1) < 0;
    em_buf_release(&failures);
    if (err)
        return EM_FAST_DECLINED;
    /* An excluded principal's pulls are not recorded (pull_time_exclusions.c). */
    for (size_t j = 0; j < n_pulled && !em_pull_time_excluded(f->m, repo->registry); j++)
        pulled[j]->pulled_at_ms = f->m->clock_ms;
    return 0;
}

int em_fast_DescribeImages(em_fast *f)
{
    em_repo *repo = em_fast_repo(f);
    size_t ids = em_jget(f->req, 0, "imageIds"), max_tok = em_jget(f->req, 0, "maxResults");
    if (!repo || em_jget(f->req, 0, "nextToken") || em_jget(f->req, 0, "filter") || (ids && max_tok) ||
        (ids && f->req->t[ids].count > IDS_MAX))
        return EM_FAST_DECLINED;
    int err = EM_JW_LIT(f->out, "{\"imageDetails\":[");
    size_t written = 0;
    if (ids) {
        em_image *found[IDS_MAX];
        size_t n = 0, k = ids + 1, used = f->used;
        for (uint32_t i = 0; i < f->req->t[ids].count; i++, k = f->req->t[k].next) {
            bool full = false, dup = false;
            f->used = used;
            const char *digest = em_fast_str(f, k, "imageDigest", NULL, &full);
            const char *tag = em_fast_str(f, k, "imageTag", NULL, &full);
            em_image *img;
            em_tag *t;
            if (full || em_image_resolve_by(repo, digest, tag, &img, &t) != EM_ID_FOUND)
                return EM_FAST_DECLINED; /* ImageNotFoundException, in the handler's words */
            for (size_t j = 0; j < n; j++)
                dup = dup || found[j] == img;
            if (!dup)
                found[n++] = img;
        }
        for (size_t j = 0; !err && j < n; j++)
            err = (j && EM_JW_LIT(f->out, ",") < 0) || em_image_detail_write(f->out, f->m, repo, found[j]) < 0;
    } else {
        int64_t max = max_tok ? f->req->t[max_tok].integer : PAGE_DEFAULT;
        for (size_t i = 0; !err && i < repo->order.n; i++) {
            em_image *img = repo->order.v[i].item;
            if (!img || !status_wanted(f->m, NULL, img))
                continue;
            if ((int64_t)written == max) { /* a next page: its token, as the handler makes it (no filter) */
                char scope[600];
                list_scope_by("DescribeImages", repo, NULL, NULL, scope, sizeof scope);
                return em_fast_next_token(f, scope, img->seq, NULL) < 0 ? EM_FAST_DECLINED : 0;
            }
            err = (written++ && EM_JW_LIT(f->out, ",") < 0) || em_image_detail_write(f->out, f->m, repo, img) < 0;
        }
    }
    return err || EM_JW_LIT(f->out, "]}") < 0 || em_buf_reserve(f->out, 1) < 0 ? EM_FAST_DECLINED : 0;
}

/* ListImages' first page (a request with a nextToken: the handler reads it);
 * when there are more ids than maxResults, the page's nextToken as the
 * handler makes it. */
int em_fast_ListImages(em_fast *f)
{
    bool full = false;
    em_repo *repo = em_fast_repo(f);
    size_t max_tok = em_jget(f->req, 0, "maxResults"), filter = em_jget(f->req, 0, "filter");
    if (!repo || em_jget(f->req, 0, "nextToken") || (filter && f->req->t[filter].type != EM_J_OBJECT) ||
        (max_tok && f->req->t[max_tok].type != EM_J_INTEGER))
        return EM_FAST_DECLINED;
    const char *ts = filter ? em_fast_str(f, filter, "tagStatus", NULL, &full) : NULL;
    const char *is = filter ? em_fast_str(f, filter, "imageStatus", NULL, &full) : NULL;
    if (full)
        return EM_FAST_DECLINED;
    int64_t max = max_tok ? f->req->t[max_tok].integer : PAGE_DEFAULT;
    int64_t written = 0;
    int err = EM_JW_LIT(f->out, "{\"imageIds\":[");
    for (size_t i = 0; !err && i < repo->order.n; i++) {
        em_image *img = repo->order.v[i].item;
        if (!img || !status_wanted_by(f->m, ts, is, img))
            continue;
        for (size_t k = 0; !err && k < (img->n_tags ? img->n_tags : 1); k++) {
            if (written == max) { /* a next page: its token, as the handler makes it */
                char scope[600];
                list_scope_by("ListImages", repo, ts, is, scope, sizeof scope);
                return em_fast_next_token(f, scope, img->seq, img->n_tags ? img->tags[k]->name : NULL) < 0
                           ? EM_FAST_DECLINED
                           : 0;
            }
            err = (written++ && EM_JW_LIT(f->out, ",") < 0) ||
                  em_image_id_write(f->out, img->digest, img->n_tags ? img->tags[k]->name : NULL) < 0;
        }
    }
    return err || EM_JW_LIT(f->out, "]}") < 0 || em_buf_reserve(f->out, 1) < 0 ? EM_FAST_DECLINED : 0;
}
