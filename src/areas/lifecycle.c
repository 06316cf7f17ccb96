/*
 * Lifecycle policies: PutLifecyclePolicy, GetLifecyclePolicy,
 * DeleteLifecyclePolicy, StartLifecyclePolicyPreview,
 * GetLifecyclePolicyPreview, and the test control ecrmock_lifecycle_apply().
 *
 * The policy text is checked as ECR checks it: first against the policy's
 * JSON schema (ECR answers with its JSON-schema validator's sentences:
 * "object has missing required properties ([...])", "instance value (x) not
 * found in enum ...", ...), then against the rules between rules (unique
 * priorities, one rule for untagged images and the `any` rule last per
 * storage class).
 *
 * Evaluation is real, as the user guide's "Lifecycle policy evaluation
 * rules" state it.  Rules run in rulePriority order, lowest first.  A rule
 * identifies every image whose tags fit its tagStatus (and, for tagged,
 * whose tags cover every prefix or pattern of its list), including images
 * a higher priority rule identified: "rules can never mark images that are
 * marked by higher priority rules, but can still identify them as if they
 * haven't been expired".  imageCountMoreThan keeps the countNumber most
 * recently pushed of the images it identifies (imagePushedAt, push order
 * for a tie) and marks the rest; sinceImagePushed marks those pushed more
 * than countNumber days before the virtual clock's now.  Of its marks, a
 * rule expires only the images no higher priority rule identified ("an
 * image that matches the tagging requirements of a rule cannot be expired
 * by a rule with a lower priority"), so an image is expired or archived by
 * one rule or none.  An image referenced by a manifest list or index of
 * the repository is never selected: ECR does not expire or archive it
 * while the list that needs it is there (a list archived takes it along).
 *
 * Storage classes (store/archive.c).  A rule selects the images of its
 * selection.storageClass only: "standard" (the default; restoring images
 * included) or "archive".  Its action expires them, or, for "transition",
 * moves them to the archive (an image still being restored is left until
 * the restore completes).  The count types: imageCountMoreThan (newest
 * first by push, or by restore for an image restored from the archive);
 * sinceImagePushed; sinceImagePulled, from lastRecordedPullTime, or from
 * the restore for an image not pulled since one, or from the push for an
 * image never pulled (transition only); sinceImageTransitioned, from
 * lastArchivedAt (archive class, expire only, 90 days at least).  The user
 * guide says which combinations are allowed but not ECR's sentences for the
 * others: those below are ecrmock's.  The untagged and any rules are
 * counted per storage class.
 *
 * Previews are evaluated when they start, against the images of that
 * moment.  ECR runs them in the background: here a preview is IN_PROGRESS
 * until the virtual clock moves (ecrmock_clock_advance/set, a latency
 * fault), then COMPLETE, so that a client's LifecyclePolicyPreviewComplete
 * waiter sees both states and a test decides when the work is done.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "areas/areas.h"

/* ---- evaluation ------------------------------------------------------------------ */

/* Whether one of the image's tags fits `want` (a prefix, or a pattern). */
static bool some_tag_fits(em_image *img, const char *want, bool pattern)
{
    for (size_t k = 0; k < img->n_tags; k++) {
        const char *tag = img->tags[k]->name;
        if (pattern ? em_wildcard_match(want, tag, false) : strncmp(tag, want, strlen(want)) == 0)
            return true;
    }
    return false;
}

/* Whether the rule identifies the image: its storage class, then its tags. */
static bool rule_selects(const em_lc_rule *r, em_image *img)
{
    if (r->archive != img->archived)
        return false;
    if (r->status == EM_LC_TS_ANY)
        return true;
    if (r->status == EM_LC_TS_UNTAGGED)
        return img->n_tags == 0;
    if (img->n_tags == 0)
        return false;
    /* Every entry of the list must be matched by one of the image's tags. */
    json_t *list = r->prefixes ? r->prefixes : r->patterns;
    size_t i;
    json_t *s;
    json_array_foreach(list, i, s) if (!some_tag_fits(img, json_string_value(s), r->patterns != NULL)) return false;
    return true;
}

typedef struct lc_hit {
    em_image *img;
    int64_t priority;
    bool transition; /* to the archive; otherwise expired */
} lc_hit;

/* The time an image's place in its storage class's order comes from: for an
 * archived image when it was archived, for the others when they were
 * pushed, or restored when they were ("If an image was archived and then
 * restored at any point in the past, the image's last_activated_at is used
 * instead of pushed_at_time"). */
static int64_t order_time(const em_image *img)
{
    if (img->archived)
        return img->archived_at_ms;
    return img->activated_at_ms ? img->activated_at_ms : img->pushed_at_ms;
}

/* Most recent first; push order breaks a tie. */
static int newest_first(const void *a, const void *b)
{
    const em_image *x = *(em_image *const *)a, *y = *(em_image *const *)b;
    int64_t tx = order_time(x), ty = order_time(y);
    if (tx != ty)
        return tx > ty ? -1 : 1;
    return (x->seq < y->seq) - (x->seq > y->seq);
}

/* The time an age rule counts from.  sinceImagePulled: the last recorded
 * pull; for an image restored and not pulled since, the restore; for one
 * never pulled, the push.  sinceImageTransitioned: the move to the archive. */
static int64_t age_from(const em_lc_rule *r, const em_image *img)
{
    switch (r->type) {
    case EM_LC_CT_PULLED:
        if (img->activated_at_ms && img->pulled_at_ms < img->activated_at_ms)
            return img->activated_at_ms;
        return img->pulled_at_ms ? img->pulled_at_ms : img->pushed_at_ms;
    case EM_LC_CT_TRANSITIONED:
        return img->archived_at_ms;
    default:
        return img->pushed_at_ms;
    }
}

/* Whether more than `days` (>= 1) days separate `from` and `now`, for any
 * int64 values: the difference is taken in uint64, where it is exact. */
static bool older_than(int64_t now, int64_t from, int64_t days)
{
    if (from >= now)
        return false;
    uint64_t age = (uint64_t)now - (uint64_t)from;
    return (uint64_t)days <= UINT64_MAX / (uint64_t)EM_DAY_MS && age > (uint64_t)days * (uint64_t)EM_DAY_MS;
}

/* Runs the policy over the repository's images at `now`.  *hits receives an
 * em_malloc'd array of the images to expire or archive (rule by rule,
 * oldest first within a rule).  0, or -1 when out of memory.
 *
 * As ECR's evaluator: every rule identifies all the images its selection
 * fits, those identified by higher priority rules included, and counts them
 * all; it then marks only those of its choice that no higher priority rule
 * identified.  So an image is acted on by one rule or none, and a rule's
 * imageCountMoreThan still counts what earlier rules identified.  A rule
 * selects images of its storage class only: one archived by a transition
 * rule of this run is not expired by an archive rule of the same run. */
static int evaluate(em_repo *repo, const em_lc_policy *p, int64_t now, lc_hit **hits, size_t *n_hits)
{
    size_t n = repo->order.live;
    *hits = NULL;
    *n_hits = 0;
    em_image **cand = em_calloc(n ? n : 1, sizeof *cand);   /* the images a rule may identify */
    bool *seen = em_calloc(n ? n : 1, sizeof *seen);        /* cand[i] identified by an earlier rule */
    size_t *picked = em_calloc(n ? n : 1, sizeof *picked);  /* indexes into cand */
    lc_hit *out = em_calloc(n ? n : 1, sizeof *out);
    if (!cand || !seen || !picked || !out) {
        em_free(cand);
        em_free(seen);
        em_free(picked);
        em_free(out);
        return -1;
    }
    size_t n_cand = 0, n_out = 0;
    for (size_t i = 0; i < repo->order.n; i++) {
        em_image *img = repo->order.v[i].item;
        /* An image a list references moves and goes with the list only. */
        if (img && img->parents == 0)
            cand[n_cand++] = img;
    }
    /* Most recent first, once: each rule's picks keep this order. */
    qsort(cand, n_cand, sizeof *cand, newest_first);
    for (size_t r = 0; r < p->n; r++) {
        const em_lc_rule *rule = &p->rules[r];
        size_t n_picked = 0;
        for (size_t i = 0; i < n_cand; i++)
            if (rule_selects(rule, cand[i]))
                picked[n_picked++] = i;
        /* Marked ones, oldest first: the tail of the newest-first list, reversed. */
        for (size_t k = n_picked; k-- > 0;) {
            em_image *img = cand[picked[k]];
            bool mark = rule->type == EM_LC_CT_COUNT ? (int64_t)k >= rule->count
                                               : older_than(now, age_from(rule, img), rule->count);
            /* A restore under way cannot be archived (store/archive.c). */
            if (rule->transition && img->activated_at_ms > now)
                mark = false;
            if (mark && !seen[picked[k]])
                out[n_out++] = (lc_hit){img, rule->priority, rule->transition};
        }
        for (size_t k = 0; k < n_picked; k++)
            seen[picked[k]] = true;
    }
    em_free(cand);
    em_free(seen);
    em_free(picked);
    *hits = out;
    *n_hits = n_out;
    return 0;
}

/* A LifecyclePolicyPreviewResult for one image (new reference): storageClass
 * is the class the image is in, action what the rule does to it. */
static json_t *result_json(const lc_hit *h)
{
    json_t *action = h->transition ? json_pack("{s:s, s:s}", "type", "TRANSITION", "targetStorageClass", "ARCHIVE")
                                   : json_pack("{s:s}", "type", "EXPIRE");
    json_t *o = json_pack("{s:s, s:o, s:o, s:I, s:s}", "imageDigest", h->img->digest, "imagePushedAt",
                          em_time(h->img->pushed_at_ms), "action", action, "appliedRulePriority",
                          (json_int_t)h->priority, "storageClass", h->img->archived ? "ARCHIVE" : "STANDARD");
    if (o && h->img->n_tags && em_set(o, "imageTags", em_image_tags_json(h->img)) < 0) {
        json_decref(o);
        o = NULL;
    }
    return o;
}

/* The results of a run as an array (new reference), or NULL: no memory. */
static json_t *results_json(const lc_hit *hits, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++)
        if (json_array_append_new(a, result_json(&hits[i])) < 0) {
            json_decref(a);
            a = NULL;
        }
    return a;
}

/* ---- per-repository state ------------------------------------------------------------ */

struct em_lc_preview {
    char *text;          /* the policy evaluated */
    int64_t started_ms;  /* IN_PROGRESS while the clock still reads this */
    uint64_t serial;     /* tells this preview's page tokens from an earlier one's */
    json_t *results;     /* array of LifecyclePolicyPreviewResult */
};

static void preview_free(em_lc_preview *pv)
{
    if (!pv)
        return;
    em_free(pv->text);
    json_decref(pv->results);
    em_free(pv);
}

int em_lifecycle_copy(em_repo *dst, const em_repo *src)
{
    const em_lc_preview *pv = src->lifecycle_preview;
    if (!pv)
        return 0; /* the policy itself is the store's (em_repo.lifecycle_policy) */
    em_lc_preview *c = em_calloc(1, sizeof *c);
    if (!c)
        return -1;
    *c = *pv;
    c->text = pv->text ? em_strdup(pv->text) : NULL;
    c->results = pv->results ? json_deep_copy(pv->results) : NULL;
    dst->lifecycle_preview = c;
    return (pv->text && !c->text) || (pv->results && !c->results) ? -1 : 0;
}

void em_lifecycle_free(em_repo *repo)
{
    em_free(repo->lifecycle_policy);
    repo->lifecycle_policy = NULL;
    preview_free(repo->lifecycle_preview);
    repo->lifecycle_preview = NULL;
}

static bool preview_running(ecrmock *m, const em_lc_preview *pv)
{
    return m->clock_ms == pv->started_ms;
}

/* ---- the actions ------------------------------------------------------------------------ */

static int policy_not_found(em_call *c, em_repo *repo)
{
    return em_fail_text(c, EM_MSG_LIFECYCLE_POLICY_NOT_FOUND, repo->name, repo->registry->id);
}

/* registryId, repositoryName, lifecyclePolicyText and, when asked and the
 * policy has run, lastEvaluatedAt. */
static int policy_output(em_call *c, em_repo *repo, const char *text, bool evaluated)
{
    if (em_set(c->out, "registryId", json_string(repo->registry->id)) < 0 ||
        em_set(c->out, "repositoryName", json_string(repo->name)) < 0 ||
        em_set(c->out, "lifecyclePolicyText", json_string(text)) < 0 ||
        (evaluated && repo->lifecycle_evaluated_ms &&
         em_set(c->out, "lastEvaluatedAt", em_time(repo->lifecycle_evaluated_ms)) < 0))
        return em_fail_nomem(c);
    return 0;
}

int em_PutLifecyclePolicy(em_call *c)
{
    em_repo *repo = em_repo_lookup(c);
    if (!repo)
        return -1;
    const char *text = em_get_str(c->req, "lifecyclePolicyText");
    if (em_lifecycle_policy_check(c, text) < 0)
        return -1;
    char *copy = em_strdup(text);
    if (!copy || policy_output(c, repo, text, false) < 0) {
        em_free(copy);
        return em_fail_nomem(c);
    }
    em_free(repo->lifecycle_policy);
    repo->lifecycle_policy = copy;
    repo->lifecycle_evaluated_ms = 0; /* this policy has not run yet */
    return 0;
}

int em_GetLifecyclePolicy(em_call *c)
{
    em_repo *repo = em_repo_lookup(c);
    if (!repo)
        return -1;
    if (!repo->lifecycle_policy)
        return policy_not_found(c, repo);
    return policy_output(c, repo, repo->lifecycle_policy, true);
}

int em_DeleteLifecyclePolicy(em_call *c)
{
    em_repo *repo = em_repo_lookup(c);
    if (!repo)
        return -1;
    if (!repo->lifecycle_policy)
        return policy_not_found(c, repo);
    if (policy_output(c, repo, repo->lifecycle_policy, true) < 0)
        return -1;
    em_free(repo->lifecycle_policy);
    repo->lifecycle_policy = NULL;
    repo->lifecycle_evaluated_ms = 0;
    return 0;
}

int em_StartLifecyclePolicyPreview(em_call *c)
{
    em_repo *repo = em_repo_lookup(c);
    if (!repo)
        return -1;
    const char *text = em_get_str(c->req, "lifecyclePolicyText");
    if (!text)
        text = repo->lifecycle_policy;
    if (!text)
        return policy_not_found(c, repo);
    if (repo->lifecycle_preview && preview_running(c->m, repo->lifecycle_preview))
        return em_fail_text(c, EM_MSG_LIFECYCLE_POLICY_PREVIEW_IN_PROGRESS, repo->name, repo->registry->id);
    em_lc_policy p;
    if (em_lc_policy_parse(c, text, &p) < 0)
        return -1;
    lc_hit *hits = NULL;
    size_t n_hits = 0;
    int rc = evaluate(repo, &p, c->m->clock_ms, &hits, &n_hits);
    em_lc_policy_release(&p);
    em_lc_preview *pv = rc == 0 ? em_calloc(1, sizeof *pv) : NULL;
    if (pv) {
        pv->text = em_strdup(text);
        pv->results = results_json(hits, n_hits);
        pv->started_ms = c->m->clock_ms;
        pv->serial = repo->lifecycle_preview ? repo->lifecycle_preview->serial + 1 : 1;
    }
    em_free(hits);
    if (!pv || !pv->text || !pv->results || policy_output(c, repo, text, false) < 0 ||
        em_set(c->out, "status", json_string("IN_PROGRESS")) < 0) {
        preview_free(pv);
        return em_fail_nomem(c);
    }
    preview_free(repo->lifecycle_preview);
    repo->lifecycle_preview = pv;
    return 0;
}

/* Whether a result is one of the request's imageIds (by digest and/or tag). */
static bool result_named(json_t *res, json_t *ids)
{
    size_t i, k;
    json_t *id, *tag;
    json_array_foreach(ids, i, id) {
        const char *d = em_get_str(id, "imageDigest"), *t = em_get_str(id, "imageTag");
        if (!d && !t)
            continue;
        if (d && strcmp(d, em_get_str(res, "imageDigest")) != 0)
            continue;
        bool tag_ok = !t;
        json_array_foreach(json_object_get(res, "imageTags"), k, tag) tag_ok = tag_ok || strcmp(json_string_value(tag), t) == 0;
        if (tag_ok)
            return true;
    }
    return false;
}

static bool result_wanted(json_t *res, const char *want)
{
    if (!want || strcmp(want, "ANY") == 0)
        return true;
    bool tagged = json_array_size(json_object_get(res, "imageTags")) > 0;
    return strcmp(want, "TAGGED") == 0 ? tagged : !tagged;
}

int em_GetLifecyclePolicyPreview(em_call *c)
{
    em_repo *repo = em_repo_lookup(c);
    if (!repo)
        return -1;
    em_lc_preview *pv = repo->lifecycle_preview;
    if (!pv)
        return em_fail_text(c, EM_MSG_LIFECYCLE_POLICY_PREVIEW_NOT_FOUND, repo->name, repo->registry->id);
    json_t *ids = json_object_get(c->req, "imageIds");
    const char *token = em_get_str(c->req, "nextToken");
    if (ids && em_page_refuse(c, "imageIds") < 0)
        return -1;

    const char *ts = em_get_str(json_object_get(c->req, "filter"), "tagStatus");
    char scope[600];
    snprintf(scope, sizeof scope, "GetLifecyclePolicyPreview|%s|%s|%s|%llu", repo->registry->id, repo->name,
             ts ? ts : "ANY", (unsigned long long)pv->serial);
    em_page_pos pos = {0};
    if (token && em_page_parse(c, scope, token, &pos) < 0)
        return -1;

    bool running = preview_running(c->m, pv);
    if (policy_output(c, repo, pv->text, false) < 0 ||
        em_set(c->out, "status", json_string(running ? "IN_PROGRESS" : "COMPLETE")) < 0 ||
        em_set(c->out, "previewResults", json_array()) < 0)
        return em_fail_nomem(c);
    json_t *results = json_object_get(c->out, "previewResults");
    if (running)
        return 0; /* nothing to show until it completes */
    size_t total = json_array_size(pv->results), max = (size_t)em_get_int(c->req, "maxResults", 100);
    for (size_t i = (size_t)pos.seq; i < total; i++) {
        json_t *res = json_array_get(pv->results, i);
        if (!result_wanted(res, ts) || (ids && !result_named(res, ids)))
            continue;
        if (!ids && json_array_size(results) == max) {
            em_page_pos next = {.seq = i};
            if (em_set(c->out, "nextToken", em_page_token(c->m, scope, &next)) < 0)
                return em_fail_nomem(c);
            break;
        }
        if (json_array_append(results, res) < 0)
            return em_fail_nomem(c);
    }
    /* The summary counts the whole preview, filters aside; the transitions'
     * count only when there is one. */
    json_int_t expiring = 0, archiving = 0;
    for (size_t i = 0; i < total; i++) {
        json_t *action = json_object_get(json_array_get(pv->results, i), "action");
        if (strcmp(em_get_str(action, "type"), "TRANSITION") == 0)
            archiving++;
        else
            expiring++;
    }
    json_t *summary = json_pack("{s:I}", "expiringImageTotalCount", expiring);
    if (em_set(c->out, "summary", summary) < 0 ||
        (archiving && em_set(summary, "transitioningImageTotalCounts",
                             json_pack("[{s:s, s:I}]", "targetStorageClass", "ARCHIVE", "imageTotalCount",
                                       archiving)) < 0))
        return em_fail_nomem(c);
    return 0;
}

/* ---- the test control -------------------------------------------------------------------- */

int ecrmock_lifecycle_apply(ecrmock *m, const char *registry_id, const char *repository, json_t **expired,
                            ecrmock_err *err)
{
    em_err_clear(err);
    if (expired)
        *expired = NULL;
    if (!m || !repository || !*repository)
        return em_err_arg(err, "m and repository (not empty) must be given");
    if (em_err_registry_id(err, registry_id) < 0)
        return -1;
    em_lock(m);
    em_repo *repo = em_repo_get(em_registry_get(m, registry_id ? registry_id : m->account), repository);
    ecrmock_error rc = ECRMOCK_ERR_OK;
    em_lc_policy p = {0};
    lc_hit *hits = NULL;
    size_t n_hits = 0;
    json_t *list = NULL;
    em_call c = {.m = m};
    if (!repo) {
        rc = ECRMOCK_ERR_REPOSITORY_NOT_FOUND;
    } else if (!repo->lifecycle_policy) {
        rc = ECRMOCK_ERR_LIFECYCLE_POLICY_NOT_FOUND;
    } else if (em_lc_policy_parse(&c, repo->lifecycle_policy, &p) < 0 ||
               evaluate(repo, &p, m->clock_ms, &hits, &n_hits) < 0 ||
               (expired && !(list = results_json(hits, n_hits)))) {
        rc = c.err == ECRMOCK_ERR_INVALID_PARAMETER ? ECRMOCK_ERR_INVALID_PARAMETER : ECRMOCK_ERR_SERVER;
    } else {
        /* Everything that can fail is done: expire, then archive (a list
         * archived takes along the images no list left standard needs). */
        for (size_t i = 0; i < n_hits; i++)
            if (!hits[i].transition)
                em_image_remove(m, repo, hits[i].img);
        for (size_t i = 0; i < n_hits; i++)
            if (hits[i].transition)
                em_image_archive(m, repo, hits[i].img);
        repo->lifecycle_evaluated_ms = m->clock_ms;
    }
    em_unlock(m);
    if (rc == ECRMOCK_ERR_REPOSITORY_NOT_FOUND)
        em_err_no_repo(err, m, registry_id, repository);
    else if (rc == ECRMOCK_ERR_LIFECYCLE_POLICY_NOT_FOUND)
        em_err_set(err, rc, NULL, "the repository '%.256s' has no lifecycle policy", repository);
    else if (rc == ECRMOCK_ERR_INVALID_PARAMETER)
        em_err_from_call(err, &c);
    else if (rc != ECRMOCK_ERR_OK)
        em_err_nomem(err);
    json_decref(c.errdoc);
    em_lc_policy_release(&p);
    em_free(hits);
    if (expired)
        *expired = list;
    return rc == ECRMOCK_ERR_OK ? 0 : -1;
}
