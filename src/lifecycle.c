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
 * Storage classes (storage_class.c).  A rule selects the images of its
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

#include "actions.h"

#define MAX_WILDCARDS 4

/* ---- the policy document ---------------------------------------------------- */

typedef enum { TS_TAGGED, TS_UNTAGGED, TS_ANY } tag_status;
/* countType; the order of COUNT_TYPES. */
typedef enum { CT_COUNT, CT_PUSHED, CT_PULLED, CT_TRANSITIONED } count_type;

typedef struct lc_rule {
    int64_t priority;
    tag_status status;
    json_t *prefixes; /* borrowed from the document; NULL when absent */
    json_t *patterns; /* borrowed from the document; NULL when absent */
    count_type type;
    int64_t count;
    bool archive;     /* selection.storageClass "archive": selects archived images */
    bool transition;  /* action "transition" to the archive; otherwise "expire" */
} lc_rule;

typedef struct lc_policy {
    json_t *doc;
    lc_rule *rules; /* sorted by priority */
    size_t n;
} lc_policy;

static void policy_release(lc_policy *p)
{
    json_decref(p->doc);
    em_free(p->rules);
    memset(p, 0, sizeof *p);
}

#define FAILURE "Lifecycle policy validation failure: "

static int invalid(em_call *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int invalid(em_call *c, const char *fmt, ...)
{
    char why[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    return em_fail_param(c, "LifecyclePolicyText", FAILURE "%s", why);
}

/* The JSON-schema name of a value's type. */
static const char *type_name(json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "object";
    case JSON_ARRAY:
        return "array";
    case JSON_STRING:
        return "string";
    case JSON_INTEGER:
        return "integer";
    case JSON_REAL:
        return "number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "boolean";
    default:
        return "null";
    }
}

static int wrong_type(em_call *c, json_t *v, const char *want)
{
    return invalid(c, "instance type (%s) does not match any allowed primitive type (allowed: [\"%s\"])", type_name(v),
                   want);
}

/* Checks an object against its required and allowed members (both sorted
 * by name); the schema validator lists every offender, sorted. */
static int check_members(em_call *c, json_t *o, const char *const *required, const char *const *allowed)
{
    if (!json_is_object(o))
        return wrong_type(c, o, "object");
    char list[400];
    size_t used = 0;
    list[0] = '\0';
    for (size_t i = 0; required[i]; i++)
        if (!json_object_get(o, required[i]) && used < sizeof list)
            used += (size_t)snprintf(list + used, sizeof list - used, "%s\"%s\"", used ? ", " : "", required[i]);
    if (used)
        return invalid(c, "object has missing required properties ([%s])", list);

    /* Unknown members, sorted by name. */
    const char *key;
    json_t *v;
    const char *unknown[64];
    size_t n = 0;
    json_object_foreach(o, key, v) {
        bool known = false;
        for (size_t i = 0; allowed[i] && !known; i++)
            known = strcmp(allowed[i], key) == 0;
        if (known || n == 64)
            continue;
        size_t at = n++;
        while (at > 0 && strcmp(unknown[at - 1], key) > 0) {
            unknown[at] = unknown[at - 1];
            at--;
        }
        unknown[at] = key;
    }
    for (size_t i = 0; i < n && used < sizeof list; i++)
        used += (size_t)snprintf(list + used, sizeof list - used, "%s\"%.100s\"", i ? ", " : "", unknown[i]);
    if (n)
        return invalid(c, "object instance has properties which are not allowed by the schema: ([%s])", list);
    return 0;
}

/* A string member with a fixed set of values (enum_text as the validator
 * prints it).  Returns the value's index, or -1 with the error set. */
static int check_enum(em_call *c, json_t *v, const char *const *values, const char *enum_text)
{
    if (!json_is_string(v))
        return wrong_type(c, v, "string");
    for (int i = 0; values[i]; i++)
        if (strcmp(values[i], json_string_value(v)) == 0)
            return i;
    invalid(c, "instance value (%.200s) not found in enum :(possible values: %s)", json_string_value(v), enum_text);
    return -1;
}

static int check_min1(em_call *c, json_t *v, int64_t *out)
{
    if (!json_is_integer(v))
        return wrong_type(c, v, "integer");
    if (json_integer_value(v) < 1)
        return invalid(c, "numeric instance is lower than the required minimum (minimum: 1, found: %lld)",
                       (long long)json_integer_value(v));
    *out = (int64_t)json_integer_value(v);
    return 0;
}

/* tagPrefixList / tagPatternList: a non-empty list of strings. */
static int check_tag_list(em_call *c, json_t *list, bool patterns)
{
    if (!json_is_array(list))
        return wrong_type(c, list, "array");
    if (json_array_size(list) == 0)
        return invalid(c, "array is too short: must have at least 1 elements but instance has 0 elements");
    size_t i;
    json_t *s;
    json_array_foreach(list, i, s) {
        if (!json_is_string(s))
            return wrong_type(c, s, "string");
        size_t stars = 0;
        for (const char *p = json_string_value(s); *p; p++)
            stars += *p == '*';
        if (patterns && stars > MAX_WILDCARDS)
            return invalid(c, "tagPatternList can have at most %d wildcards (*) per pattern: '%.200s'.", MAX_WILDCARDS,
                           json_string_value(s));
    }
    return 0;
}

static const char *const RULE_REQUIRED[] = {"action", "rulePriority", "selection", NULL};
static const char *const RULE_ALLOWED[] = {"action", "description", "rulePriority", "selection", NULL};
static const char *const SELECTION_REQUIRED[] = {"countNumber", "countType", "tagStatus", NULL};
static const char *const SELECTION_ALLOWED[] = {"countNumber", "countType", "countUnit", "storageClass",
                                                "tagPatternList", "tagPrefixList", "tagStatus", NULL};
static const char *const ACTION_REQUIRED[] = {"type", NULL};
static const char *const ACTION_ALLOWED[] = {"targetStorageClass", "type", NULL};
static const char *const TOP_REQUIRED[] = {"rules", NULL};

static const char *const TAG_STATUS[] = {"tagged", "untagged", "any", NULL};
static const char *const ACTION_TYPES[] = {"expire", "transition", NULL};
static const char *const COUNT_TYPES[] = {"imageCountMoreThan", "sinceImagePushed", "sinceImagePulled",
                                          "sinceImageTransitioned", NULL};
static const char *const COUNT_UNITS[] = {"days", NULL};
static const char *const STORAGE_CLASSES[] = {"standard", "archive", NULL};
static const char *const TARGET_STORAGE_CLASSES[] = {"archive", NULL};

/* ECR keeps an archived image at least this long: a rule may not expire
 * one sooner (user guide, "Examples of lifecycle policies"). */
#define MIN_ARCHIVE_DAYS 90

static int check_rule(em_call *c, json_t *r, lc_rule *out)
{
    if (check_members(c, r, RULE_REQUIRED, RULE_ALLOWED) < 0 ||
        check_min1(c, json_object_get(r, "rulePriority"), &out->priority) < 0)
        return -1;
    json_t *desc = json_object_get(r, "description");
    if (desc && !json_is_string(desc))
        return wrong_type(c, desc, "string");

    json_t *sel = json_object_get(r, "selection");
    if (check_members(c, sel, SELECTION_REQUIRED, SELECTION_ALLOWED) < 0)
        return -1;
    int ts = check_enum(c, json_object_get(sel, "tagStatus"), TAG_STATUS, "[\"any\", \"tagged\", \"untagged\"]");
    if (ts < 0)
        return -1;
    out->status = (tag_status)ts;
    /* The schema's selection is one of two shapes, a count and an age: a
     * countType of neither, or a countUnit on the wrong one, fits none. */
    json_t *type = json_object_get(sel, "countType"), *unit = json_object_get(sel, "countUnit");
    int ct = -1;
    for (int i = 0; json_is_string(type) && COUNT_TYPES[i]; i++)
        if (strcmp(COUNT_TYPES[i], json_string_value(type)) == 0)
            ct = i;
    if (ct < 0 || (ct == CT_COUNT) != !unit)
        return invalid(c, "instance failed to match exactly one schema (matched 0 out of 2)");
    out->type = (count_type)ct;
    if (unit && check_enum(c, unit, COUNT_UNITS, "[\"days\"]") < 0)
        return -1;
    json_t *storage = json_object_get(sel, "storageClass");
    int sc = storage ? check_enum(c, storage, STORAGE_CLASSES, "[\"archive\", \"standard\"]") : 0;
    if (sc < 0)
        return -1;
    out->archive = sc == 1;
    if (check_min1(c, json_object_get(sel, "countNumber"), &out->count) < 0)
        return -1;
    out->prefixes = json_object_get(sel, "tagPrefixList");
    out->patterns = json_object_get(sel, "tagPatternList");
    if ((out->prefixes && check_tag_list(c, out->prefixes, false) < 0) ||
        (out->patterns && check_tag_list(c, out->patterns, true) < 0))
        return -1;

    /* The action is one of two shapes too: {"type": "expire"}, and
     * {"type": "transition", "targetStorageClass": "archive"}. */
    json_t *action = json_object_get(r, "action");
    if (check_members(c, action, ACTION_REQUIRED, ACTION_ALLOWED) < 0)
        return -1;
    int at = check_enum(c, json_object_get(action, "type"), ACTION_TYPES, "[\"expire\", \"transition\"]");
    if (at < 0)
        return -1;
    out->transition = at == 1;
    json_t *target = json_object_get(action, "targetStorageClass");
    if (out->transition != (target != NULL))
        return invalid(c, "instance failed to match exactly one schema (matched 0 out of 2)");
    if (target && check_enum(c, target, TARGET_STORAGE_CLASSES, "[\"archive\"]") < 0)
        return -1;

    /* What the schema cannot say. */
    if (out->status == TS_TAGGED && !out->prefixes && !out->patterns)
        return invalid(c, "Must specify tagPrefixList or tagPatternList when tagStatus=TAGGED.");
    if (out->prefixes && out->patterns)
        return invalid(c, "Only one of tagPrefixList and tagPatternList can be specified in a rule.");
    if (out->status != TS_TAGGED && (out->prefixes || out->patterns))
        return invalid(c, "tagPrefixList and tagPatternList can only be specified when tagStatus=TAGGED.");
    /* The storage classes, count types and actions that go together (the
     * user guide's "Lifecycle policy properties"; ECR's sentences for these
     * are not public: these are ecrmock's, in the style of the above). */
    if (out->type == CT_TRANSITIONED && !out->archive)
        return invalid(c, "Must specify storageClass=ARCHIVE when countType=SINCE_IMAGE_TRANSITIONED.");
    if (out->type != CT_TRANSITIONED && out->archive)
        return invalid(c, "storageClass=ARCHIVE can only be specified when countType=SINCE_IMAGE_TRANSITIONED.");
    if (out->type == CT_PULLED && !out->transition)
        return invalid(c, "countType=SINCE_IMAGE_PULLED can only be used with action type=TRANSITION.");
    if (out->type == CT_TRANSITIONED && out->transition)
        return invalid(c, "countType=SINCE_IMAGE_TRANSITIONED can only be used with action type=EXPIRE.");
    if (out->type == CT_TRANSITIONED && out->count < MIN_ARCHIVE_DAYS)
        return invalid(c,
                       "countNumber must be at least %d when countType=SINCE_IMAGE_TRANSITIONED: archived images "
                       "have a minimum storage duration of %d days (found: %lld).",
                       MIN_ARCHIVE_DAYS, MIN_ARCHIVE_DAYS, (long long)out->count);
    return 0;
}

static int rule_cmp(const void *a, const void *b)
{
    int64_t x = ((const lc_rule *)a)->priority, y = ((const lc_rule *)b)->priority;
    return (x > y) - (x < y);
}

/* Parses and checks `text`; 0 and *p filled (release it), or -1 with the
 * call's error set and *p empty. */
static int policy_parse(em_call *c, const char *text, lc_policy *p)
{
    memset(p, 0, sizeof *p);
    json_error_t jerr;
    p->doc = json_loads(text, JSON_DECODE_ANY, &jerr);
    if (!p->doc && json_error_code(&jerr) == json_error_out_of_memory)
        return em_fail_nomem(c);
    if (!json_is_object(p->doc)) {
        policy_release(p);
        return invalid(c, "Could not map policyString into LifecyclePolicy.");
    }
    json_t *rules = json_object_get(p->doc, "rules");
    int rc = check_members(c, p->doc, TOP_REQUIRED, TOP_REQUIRED);
    if (rc == 0 && !json_is_array(rules))
        rc = wrong_type(c, rules, "array");
    if (rc == 0 && json_array_size(rules) == 0)
        rc = invalid(c, "array is too short: must have at least 1 elements but instance has 0 elements");
    if (rc == 0 && !(p->rules = em_calloc(json_array_size(rules), sizeof *p->rules)))
        rc = em_fail_nomem(c);
    for (size_t i = 0; rc == 0 && i < json_array_size(rules); i++, p->n++)
        rc = check_rule(c, json_array_get(rules, i), &p->rules[i]);
    if (rc == 0) {
        qsort(p->rules, p->n, sizeof *p->rules, rule_cmp);
        /* Untagged and any rules count per storage class: the rules of the
         * standard class and those of the archive class are two sets. */
        size_t untagged[2] = {0, 0};
        bool any_seen[2] = {false, false};
        for (size_t i = 0; rc == 0 && i < p->n; i++) {
            const lc_rule *r = &p->rules[i];
            if (i > 0 && r->priority == p->rules[i - 1].priority)
                rc = invalid(c, "Lifecycle policy rules must have unique rulePriority values: %lld is used twice.",
                             (long long)r->priority);
            else if (r->status == TS_UNTAGGED && ++untagged[r->archive] > 1)
                rc = invalid(c, "Only one rule can select Untagged images per storage class.");
            else if (any_seen[r->archive])
                rc = invalid(c, "Rule for tagStatus=ANY must have the lowest priority per storage class");
            any_seen[r->archive] = any_seen[r->archive] || r->status == TS_ANY;
        }
    }
    if (rc < 0)
        policy_release(p);
    return rc;
}

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
static bool rule_selects(const lc_rule *r, em_image *img)
{
    if (r->archive != img->archived)
        return false;
    if (r->status == TS_ANY)
        return true;
    if (r->status == TS_UNTAGGED)
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
static int64_t age_from(const lc_rule *r, const em_image *img)
{
    switch (r->type) {
    case CT_PULLED:
        if (img->activated_at_ms && img->pulled_at_ms < img->activated_at_ms)
            return img->activated_at_ms;
        return img->pulled_at_ms ? img->pulled_at_ms : img->pushed_at_ms;
    case CT_TRANSITIONED:
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
static int evaluate(em_repo *repo, const lc_policy *p, int64_t now, lc_hit **hits, size_t *n_hits)
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
        const lc_rule *rule = &p->rules[r];
        size_t n_picked = 0;
        for (size_t i = 0; i < n_cand; i++)
            if (rule_selects(rule, cand[i]))
                picked[n_picked++] = i;
        /* Marked ones, oldest first: the tail of the newest-first list, reversed. */
        for (size_t k = n_picked; k-- > 0;) {
            em_image *img = cand[picked[k]];
            bool mark = rule->type == CT_COUNT ? (int64_t)k >= rule->count
                                               : older_than(now, age_from(rule, img), rule->count);
            /* A restore under way cannot be archived (storage_class.c). */
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
    return em_fail(c, ECRMOCK_ERR_LIFECYCLE_POLICY_NOT_FOUND,
                   "Lifecycle policy does not exist for the repository with name '%s' in the registry with id '%s'",
                   repo->name, repo->registry->id);
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

int em_lifecycle_policy_check(em_call *c, const char *text)
{
    lc_policy p;
    if (policy_parse(c, text, &p) < 0)
        return -1;
    policy_release(&p);
    return 0;
}

int em_PutLifecyclePolicy(em_call *c)
{
    em_repo *repo = em_repo_lookup(c);
    if (!repo)
        return -1;
    const char *text = em_str(c->req, "lifecyclePolicyText");
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
    const char *text = em_str(c->req, "lifecyclePolicyText");
    if (!text)
        text = repo->lifecycle_policy;
    if (!text)
        return policy_not_found(c, repo);
    if (repo->lifecycle_preview && preview_running(c->m, repo->lifecycle_preview))
        return em_fail(c, ECRMOCK_ERR_LIFECYCLE_POLICY_PREVIEW_IN_PROGRESS,
                       "The previous lifecycle policy preview request has not completed for the repository with "
                       "name '%s' in the registry with id '%s'. Please try again later.",
                       repo->name, repo->registry->id);
    lc_policy p;
    if (policy_parse(c, text, &p) < 0)
        return -1;
    lc_hit *hits = NULL;
    size_t n_hits = 0;
    int rc = evaluate(repo, &p, c->m->clock_ms, &hits, &n_hits);
    policy_release(&p);
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
        const char *d = em_str(id, "imageDigest"), *t = em_str(id, "imageTag");
        if (!d && !t)
            continue;
        if (d && strcmp(d, em_str(res, "imageDigest")) != 0)
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
        return em_fail(c, ECRMOCK_ERR_LIFECYCLE_POLICY_PREVIEW_NOT_FOUND,
                       "Lifecycle policy preview does not exist for the repository with name '%s' in the registry "
                       "with id '%s'",
                       repo->name, repo->registry->id);
    json_t *ids = json_object_get(c->req, "imageIds");
    const char *token = em_str(c->req, "nextToken");
    if (ids && (token || json_object_get(c->req, "maxResults")))
        return em_fail_param(c, token ? "nextToken" : "maxResults", "%s cannot be specified with imageIds",
                             token ? "nextToken" : "maxResults");
    const char *ts = em_str(json_object_get(c->req, "filter"), "tagStatus");
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
    size_t total = json_array_size(pv->results), max = (size_t)em_int(c->req, "maxResults", 100);
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
        if (strcmp(em_str(action, "type"), "TRANSITION") == 0)
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

ecrmock_error ecrmock_lifecycle_apply(ecrmock *m, const char *registry_id, const char *repository, json_t **expired)
{
    if (expired)
        *expired = NULL;
    if (!m || !repository || !*repository || (registry_id && !em_account_id_ok(registry_id)))
        return ECRMOCK_ERR_INVALID_PARAMETER;
    em_lock(m);
    em_repo *repo = em_repo_get(em_registry_get(m, registry_id ? registry_id : m->account), repository);
    ecrmock_error rc = ECRMOCK_ERR_OK;
    lc_policy p = {0};
    lc_hit *hits = NULL;
    size_t n_hits = 0;
    json_t *list = NULL;
    em_call c = {.m = m};
    if (!repo) {
        rc = ECRMOCK_ERR_REPOSITORY_NOT_FOUND;
    } else if (!repo->lifecycle_policy) {
        rc = ECRMOCK_ERR_LIFECYCLE_POLICY_NOT_FOUND;
    } else if (policy_parse(&c, repo->lifecycle_policy, &p) < 0 ||
               evaluate(repo, &p, m->clock_ms, &hits, &n_hits) < 0 ||
               (expired && !(list = results_json(hits, n_hits)))) {
        rc = c.err == ECRMOCK_ERR_INVALID_PARAMETER ? ECRMOCK_ERR_INVALID_PARAMETER : ECRMOCK_ERR_SERVER;
    } else {
        /* Everything that can fail is done: expire, then archive (a list
         * archived takes along the images no list left standard needs). */
        for (size_t i = 0; i < n_hits; i++)
            if (!hits[i].transition)
                em_image_remove(repo, hits[i].img);
        for (size_t i = 0; i < n_hits; i++)
            if (hits[i].transition)
                em_image_archive(m, repo, hits[i].img);
        repo->lifecycle_evaluated_ms = m->clock_ms;
    }
    em_unlock(m);
    json_decref(c.errdoc);
    policy_release(&p);
    em_free(hits);
    if (expired)
        *expired = list;
    return rc;
}
