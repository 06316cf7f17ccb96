/*
 * CreateRepositoryCreationTemplate, DescribeRepositoryCreationTemplates,
 * UpdateRepositoryCreationTemplate, DeleteRepositoryCreationTemplate, and
 * what a template does: em_template_apply(), and em_repo_create_for() that
 * creates a repository the way ECR does for a pull through cache, a
 * replication or a create-on-push (the registry plane's push and the test
 * control ecrmock_create_repository_for() both call it).
 *
 * A registry holds up to 50 templates (an inferred quota: ECR's quota page
 * lists none), keyed by prefix.  ECR reads a prefix with an implied "/" at
 * its end ("prod" applies to "prod/team1", not to "prod" or "production"),
 * so "prod" and "prod/" name the same template; ROOT applies to every
 * repository no other template applies to.  A template is kept as the
 * RepositoryCreationTemplate object ECR answers with (ECR's defaults made
 * explicit: MUTABLE, AES256, no tags), so Update is "copy, replace the
 * members the request gives, check, swap".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "areas/areas.h"

#define MAX_TEMPLATES 50

typedef struct em_template {
    char *prefix;  /* the key: the prefix without a trailing "/" */
    json_t *doc;   /* RepositoryCreationTemplate without prefix and timestamps */
    int64_t created_ms, updated_ms;
    uint64_t seq;
} em_template;

struct em_templates {
    em_template **v; /* in creation order, so by seq */
    size_t n, cap;
    uint64_t seq;
};

static void template_free(em_template *t)
{
    if (!t)
        return;
    em_free(t->prefix);
    json_decref(t->doc);
    em_free(t);
}

void em_templates_free(em_registry *reg)
{
    struct em_templates *ts = reg->templates;
    if (!ts)
        return;
    for (size_t i = 0; i < ts->n; i++)
        template_free(ts->v[i]);
    em_free(ts->v);
    em_free(ts);
    reg->templates = NULL;
}

int em_templates_copy(em_registry *dst, const em_registry *src)
{
    const struct em_templates *ts = src->templates;
    if (!ts)
        return 0;
    struct em_templates *c = em_calloc(1, sizeof *c);
    if (!c || (ts->n && !(c->v = em_calloc(ts->n, sizeof *c->v)))) {
        em_free(c);
        return -1;
    }
    c->cap = ts->n;
    c->seq = ts->seq;
    dst->templates = c;
    for (size_t i = 0; i < ts->n; i++) {
        em_template *t = em_calloc(1, sizeof *t);
        if (!t)
            return -1;
        *t = *ts->v[i];
        t->prefix = em_strdup(ts->v[i]->prefix);
        t->doc = json_deep_copy(ts->v[i]->doc);
        c->v[c->n++] = t;
        if (!t->prefix || !t->doc)
            return -1;
    }
    return 0;
}

static size_t key_len(const char *prefix)
{
    size_t n = strlen(prefix);
    return n > 1 && prefix[n - 1] == '/' ? n - 1 : n;
}

static size_t find_template(struct em_templates *ts, const char *prefix)
{
    size_t n = key_len(prefix);
    for (size_t i = 0; ts && i < ts->n; i++)
        if (strlen(ts->v[i]->prefix) == n && strncmp(ts->v[i]->prefix, prefix, n) == 0)
            return i;
    return (size_t)-1;
}

static struct em_templates *templates_of(em_call *c)
{
    em_registry *reg = em_registry_get(c->m, em_registry_id(c));
    return reg ? reg->templates : NULL;
}

static em_template *template_lookup(em_call *c, size_t *index)
{
    const char *prefix = em_get_str(c->req, "prefix");
    struct em_templates *ts = templates_of(c);
    size_t i = find_template(ts, prefix);
    if (i == (size_t)-1) {
        em_fail_text(c, EM_MSG_TEMPLATE_NOT_FOUND, prefix, em_registry_id(c));
        return NULL;
    }
    if (index)
        *index = i;
    return ts->v[i];
}

/* ---- checking a template -------------------------------------------------------------- */

/* The rules a whole template must keep, checked on the template Create or
 * Update would store.  Empty policy texts and an empty kmsKey mean none
 * (the model lets them be empty) and are removed from `doc`. */
static int check_template(em_call *c, json_t *doc)
{
    if (em_tag_mutability_check(c, em_get_str(doc, "imageTagMutability"),
                                json_object_get(doc, "imageTagMutabilityExclusionFilters")) < 0)
        return -1;
    json_t *enc = json_object_get(doc, "encryptionConfiguration");
    const char *kms_key = em_get_str(enc, "kmsKey");
    if (kms_key && !*kms_key)
        json_object_del(enc, "kmsKey");
    else if (kms_key && strcmp(em_get_str(enc, "encryptionType"), "AES256") == 0)
        return em_fail_rule(c, "encryptionConfiguration.kmsKey", EM_RULE_KMS_KEY_WITHOUT_KMS);
    if (em_resource_tags_check(c, json_object_get(doc, "resourceTags"), NULL) < 0)
        return em_fail_member(-1, c, "$.resourceTags");
    const char *policy = em_get_str(doc, "repositoryPolicy");
    if (policy && !*policy)
        json_object_del(doc, "repositoryPolicy");
    else if (policy && !em_policy_ok(policy))
        return em_fail_rule_at(c, "$.repositoryPolicy", "PolicyText", EM_RULE_INVALID_REPOSITORY_POLICY);
    const char *lifecycle = em_get_str(doc, "lifecyclePolicy");
    if (lifecycle && !*lifecycle)
        json_object_del(doc, "lifecyclePolicy");
    else if (lifecycle && em_lifecycle_policy_check(c, lifecycle) < 0)
        return em_fail_member(-1, c, "$.lifecyclePolicy");
    if (json_array_size(json_object_get(doc, "appliedFor")) == 0)
        return em_fail_rule(c, "appliedFor", EM_RULE_MEMBER_LENGTH_MIN, 1LL);
    const char *role = em_get_str(doc, "customRoleArn");
    if (role && em_role_arn_check(c, role, em_registry_id(c)) < 0)
        return -1;
    return 0;
}

/* The request's settings over `doc` (a copy the caller owns).  Tag
 * mutability and its filters are one setting, as is the encryption
 * configuration: giving either replaces the whole.  appliedFor is kept once
 * per use, in the order given.  -1: no memory. */
static int merge_request(json_t *doc, json_t *req)
{
    static const char *const plain[] = {"description", "resourceTags", "repositoryPolicy", "lifecyclePolicy",
                                        "customRoleArn", "encryptionConfiguration"};
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++) {
        json_t *v = json_object_get(req, plain[i]);
        if (v && em_set(doc, plain[i], json_deep_copy(v)) < 0)
            return -1;
    }
    json_t *mutability = json_object_get(req, "imageTagMutability");
    json_t *filters = json_object_get(req, "imageTagMutabilityExclusionFilters");
    if (mutability || filters) {
        if (em_set(doc, "imageTagMutability", mutability ? json_incref(mutability) : json_string("MUTABLE")) < 0)
            return -1;
        json_object_del(doc, "imageTagMutabilityExclusionFilters");
        if (filters && em_set(doc, "imageTagMutabilityExclusionFilters", json_deep_copy(filters)) < 0)
            return -1;
    }
    json_t *uses = json_object_get(req, "appliedFor");
    if (uses) {
        json_t *once = json_array();
        if (em_set(doc, "appliedFor", once) < 0)
            return -1;
        size_t i;
        json_t *u;
        json_array_foreach(uses, i, u) {
            bool seen = false;
            for (size_t j = 0; j < json_array_size(once) && !seen; j++)
                seen = json_equal(json_array_get(once, j), u);
            if (!seen && json_array_append(once, u) < 0)
                return -1;
        }
    }
    return 0;
}

/* The template as ECR shows it (new reference; NULL: no memory). */
static json_t *template_json(const em_template *t)
{
    json_t *o = json_deep_copy(t->doc);
    if (o && (em_set(o, "prefix", json_string(t->prefix)) < 0 || em_set(o, "createdAt", em_time(t->created_ms)) < 0 ||
              em_set(o, "updatedAt", em_time(t->updated_ms)) < 0)) {
        json_decref(o);
        o = NULL;
    }
    return o;
}

static int cmp_keys(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

json_t *em_templates_json(const em_registry *reg)
{
    json_t *list = json_array();
    for (size_t i = 0; list && reg->templates && i < reg->templates->n; i++) {
        /* Members sorted by name: the template's own order depends on the
         * calls that made it, and a snapshot must not. */
        json_t *t = template_json(reg->templates->v[i]), *sorted = t ? json_object() : NULL;
        const char **keys = t ? em_calloc(json_object_size(t) + 1, sizeof *keys) : NULL;
        size_t n = 0;
        const char *key;
        json_t *v;
        json_object_foreach(t, key, v) {
            if (keys)
                keys[n++] = key;
        }
        if (keys)
            qsort(keys, n, sizeof *keys, cmp_keys);
        for (size_t k = 0; keys && sorted && k < n; k++) {
            if (json_object_set(sorted, keys[k], json_object_get(t, keys[k])) < 0) {
                json_decref(sorted);
                sorted = NULL;
            }
        }
        if (!keys) {
            json_decref(sorted);
            sorted = NULL;
        }
        em_free(keys);
        json_decref(t);
        if (json_array_append_new(list, sorted) < 0) {
            json_decref(list);
            list = NULL;
        }
    }
    return list;
}

static int template_output(em_call *c, const em_template *t)
{
    if (em_set(c->out, "registryId", json_string(em_registry_id(c))) < 0 ||
        em_set(c->out, "repositoryCreationTemplate", template_json(t)) < 0)
        return em_fail_nomem(c);
    return 0;
}

/* ---- CreateRepositoryCreationTemplate ------------------------------------------------ */

int em_CreateRepositoryCreationTemplate(em_call *c)
{
    ecrmock *m = c->m;
    const char *reg_id = em_registry_id(c);
    const char *prefix = em_get_str(c->req, "prefix");
    json_t *doc = json_pack("{s:s, s:{s:s}, s:[]}", "imageTagMutability", "MUTABLE", "encryptionConfiguration",
                            "encryptionType", "AES256", "resourceTags");
    if (!doc || merge_request(doc, c->req) < 0) {
        json_decref(doc);
        return em_fail_nomem(c);
    }
    if (check_template(c, doc) < 0) {
        json_decref(doc);
        return -1;
    }
    struct em_templates *ts = templates_of(c);
    if (find_template(ts, prefix) != (size_t)-1) {
        json_decref(doc);
        return em_fail_text(c, EM_MSG_TEMPLATE_ALREADY_EXISTS, prefix, reg_id);
    }
    if (ts && ts->n >= MAX_TEMPLATES) {
        json_decref(doc);
        return em_fail_text(c, EM_MSG_TEMPLATE_LIMIT, reg_id, MAX_TEMPLATES);

    }

    em_template *t = em_calloc(1, sizeof *t);
    if (t) {
        t->doc = doc;
        t->prefix = em_strndup(prefix, key_len(prefix));
        t->created_ms = t->updated_ms = m->clock_ms;
    } else {
        json_decref(doc);
    }
    em_registry *reg = em_registry_get(m, reg_id);
    em_registry_mark mark = em_registry_mark_of(m, reg_id);
    bool fresh_list = !reg || !reg->templates;
    if (t && t->prefix && template_output(c, t) == 0)
        reg = em_registry_ensure(m, reg_id);
    else
        reg = NULL;
    if (reg && !reg->templates)
        reg->templates = em_calloc(1, sizeof *reg->templates);
    ts = reg ? reg->templates : NULL;
    if (ts && ts->n == ts->cap) {
        size_t cap = ts->cap ? ts->cap * 2 : 8;
        em_template **v = em_realloc(ts->v, cap * sizeof *v);
        if (v) {
            ts->v = v;
            ts->cap = cap;
        }
    }
    if (!ts || ts->n == ts->cap) {
        /* Undo what was made here: a failure changes nothing. */
        template_free(t);
        if (reg && fresh_list)
            em_templates_free(reg);
        em_registry_abandon(&mark);
        return em_fail_nomem(c);
    }
    t->seq = ++ts->seq;
    ts->v[ts->n++] = t;
    return 0;
}

/* ---- DescribeRepositoryCreationTemplates --------------------------------------------- */

static bool asked_for(json_t *prefixes, const em_template *t)
{
    size_t i;
    json_t *v;
    json_array_foreach(prefixes, i, v) {
        const char *p = json_string_value(v);
        if (key_len(p) == strlen(t->prefix) && strncmp(p, t->prefix, key_len(p)) == 0)
            return true;
    }
    return false;
}

/* Prefixes that name no template are left out (the operation has no
 * TemplateNotFoundException); paging works on what remains. */
int em_DescribeRepositoryCreationTemplates(em_call *c)
{
    const char *reg_id = em_registry_id(c);
    json_t *prefixes = json_object_get(c->req, "prefixes");
    const char *token = em_get_str(c->req, "nextToken");
    int64_t max = em_get_int(c->req, "maxResults", 100);
    if (em_set(c->out, "registryId", json_string(reg_id)) < 0 ||
        em_set(c->out, "repositoryCreationTemplates", json_array()) < 0)
        return em_fail_nomem(c);
    json_t *list = json_object_get(c->out, "repositoryCreationTemplates");

    /* A token belongs to its registry and to its list of prefixes. */
    char scope[128], digest[ECRMOCK_DIGEST_SIZE] = "";
    if (prefixes) {
        char *text = json_dumps(prefixes, JSON_COMPACT);
        if (!text)
            return em_fail_nomem(c);
        em_sha256_digest(text, strlen(text), digest);
        em_json_free(text);
    }
    snprintf(scope, sizeof scope, "DescribeRepositoryCreationTemplates|%s|%s", reg_id, digest);
    em_page_pos pos = {0};
    if (token && em_page_parse(c, scope, token, &pos) < 0)
        return -1;
    struct em_templates *ts = templates_of(c);
    for (size_t i = 0; ts && i < ts->n; i++) {
        em_template *t = ts->v[i];
        if (t->seq < pos.seq || (prefixes && !asked_for(prefixes, t)))
            continue;
        if ((int64_t)json_array_size(list) == max) {
            em_page_pos next = {.seq = t->seq};
            return em_set(c->out, "nextToken", em_page_token(c->m, scope, &next)) < 0 ? em_fail_nomem(c) : 0;
        }
        if (json_array_append_new(list, template_json(t)) < 0)
            return em_fail_nomem(c);
    }
    return 0;
}

/* ---- UpdateRepositoryCreationTemplate -------------------------------------------------- */

int em_UpdateRepositoryCreationTemplate(em_call *c)
{
    em_template *t = template_lookup(c, NULL);
    if (!t)
        return -1;
    json_t *doc = json_deep_copy(t->doc);
    if (!doc || merge_request(doc, c->req) < 0) {
        json_decref(doc);
        return em_fail_nomem(c);
    }
    if (check_template(c, doc) < 0) {
        json_decref(doc);
        return -1;
    }
    em_template after = *t;
    after.doc = doc;
    after.updated_ms = c->m->clock_ms;
    if (template_output(c, &after) < 0) {
        json_decref(doc);
        return -1;
    }
    json_decref(t->doc);
    *t = after;
    return 0;
}

/* ---- DeleteRepositoryCreationTemplate -------------------------------------------------- */

int em_DeleteRepositoryCreationTemplate(em_call *c)
{
    size_t i;
    em_template *t = template_lookup(c, &i);
    if (!t)
        return -1;
    if (template_output(c, t) < 0)
        return -1;
    struct em_templates *ts = templates_of(c);
    memmove(ts->v + i, ts->v + i + 1, (ts->n - i - 1) * sizeof *ts->v);
    ts->n--;
    template_free(t);
    return 0;
}

/* ---- applying a template ---------------------------------------------------------------- */

static bool applies_for(const em_template *t, const char *use)
{
    size_t i;
    json_t *u;
    json_array_foreach(json_object_get(t->doc, "appliedFor"), i, u) {
        if (strcmp(json_string_value(u), use) == 0)
            return true;
    }
    return false;
}

static const em_template *template_for(ecrmock *m, const char *registry_id, const char *name, const char *use)
{
    em_registry *reg = em_registry_get(m, registry_id);
    struct em_templates *ts = reg ? reg->templates : NULL;
    const em_template *best = NULL, *root = NULL;
    size_t best_len = 0;
    for (size_t i = 0; ts && i < ts->n; i++) {
        const em_template *t = ts->v[i];
        if (!applies_for(t, use))
            continue;
        size_t n = strlen(t->prefix);
        if (strcmp(t->prefix, "ROOT") == 0)
            root = t;
        else if (strncmp(name, t->prefix, n) == 0 && name[n] == '/' && n > best_len)
            best = t, best_len = n;
    }
    return best ? best : root;
}

int em_template_apply(em_call *c, const char *registry_id, const char *repo_name, const char *applied_for,
                      em_repo *repo)
{
    const em_template *t = template_for(c->m, registry_id, repo_name, applied_for);
    if (!t)
        return 0;
    json_t *doc = t->doc, *enc = json_object_get(doc, "encryptionConfiguration");
    json_t *filters = json_object_get(doc, "imageTagMutabilityExclusionFilters");
    const char *kms_key = em_get_str(enc, "kmsKey"), *policy = em_get_str(doc, "repositoryPolicy");
    const char *lifecycle = em_get_str(doc, "lifecyclePolicy");
    /* Copies first: a failure leaves the repository as it was. */
    char *mutability = em_strdup(em_get_str(doc, "imageTagMutability"));
    json_t *filters_copy = filters ? json_deep_copy(filters) : NULL;
    char *enc_type = em_strdup(em_get_str(enc, "encryptionType"));
    char *kms_copy = em_strdup(kms_key), *policy_copy = em_strdup(policy), *lifecycle_copy = em_strdup(lifecycle);
    json_t *tags = json_deep_copy(json_object_get(doc, "resourceTags"));
    if (!mutability || (filters && !filters_copy) || !enc_type || (kms_key && !kms_copy) || (policy && !policy_copy) ||
        (lifecycle && !lifecycle_copy) || !tags) {
        em_free(mutability);
        json_decref(filters_copy);
        em_free(enc_type);
        em_free(kms_copy);
        em_free(policy_copy);
        em_free(lifecycle_copy);
        json_decref(tags);
        return em_fail_nomem(c);
    }
    em_free(repo->tag_mutability);
    repo->tag_mutability = mutability;
    json_decref(repo->mutability_filters);
    repo->mutability_filters = filters_copy;
    em_free(repo->encryption_type);
    repo->encryption_type = enc_type;
    em_free(repo->kms_key);
    repo->kms_key = kms_copy;
    json_decref(repo->tags);
    repo->tags = tags;
    em_free(repo->policy);
    repo->policy = policy_copy;
    em_free(repo->lifecycle_policy);
    repo->lifecycle_policy = lifecycle_copy;
    return 1;
}

int em_repo_create_for(em_call *c, const char *applied_for, bool need_template, em_repo **out)
{
    *out = NULL;
    ecrmock *m = c->m;
    /* CreateRepository's own checks and defaults, then the template's settings. */
    if (em_validate(c, EM_SHAPE_CreateRepositoryRequest, c->req) < 0)
        return -1;
    const char *reg_id = em_registry_id(c), *name = em_get_str(c->req, "repositoryName");
    if (need_template && !template_for(m, reg_id, name, applied_for))
        return 0;
    em_registry_mark mark = em_registry_mark_of(m, reg_id);
    if (em_CreateRepository(c) < 0)
        return -1;
    em_repo *repo = em_repo_get(em_registry_get(m, reg_id), name);
    if (em_template_apply(c, reg_id, name, applied_for, repo) < 0) {
        em_repo_remove(m, repo);
        em_registry_abandon(&mark);
        return -1;
    }
    *out = repo;
    return 1;
}
