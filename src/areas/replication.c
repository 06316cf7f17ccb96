/*
 * PutReplicationConfiguration, DescribeImageReplicationStatus and the copy
 * itself (the regions it copies to: regions.c).
 *
 * Replication.  A registry's configuration (per account and region, as in
 * ECR) holds up to 10 rules; a rule whose repository filters match the
 * repository's name by prefix (or that has none) sends each image PutImage
 * stores to each of its destinations.  The copy is made at once, with
 * what the destination's own CreateRepository and PutImage do, so the destination's
 * rules apply there (tag immutability, quotas): a repository missing there
 * is created with the settings of the destination's REPLICATION creation
 * template (the default ones when none applies), the layers are added (the bytes are
 * stored once per instance), a list's manifests go first.  Another account
 * must allow it in its registry policy (ecr:ReplicateImage, and
 * ecr:CreateRepository when the repository has to be created).  Copies are
 * not replicated further.  Each destination's outcome is kept on the source
 * image: COMPLETE, or FAILED with the name of the error the destination
 * answered as failureCode.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "areas/areas.h"

/* Destinations per rule: the API reference's limit (CloudFormation's schema
 * states 1..25; the model allows 100). */
#define MAX_DESTINATIONS_PER_RULE 25

/* ---- PutReplicationConfiguration ------------------------------------------------ */

int em_PutReplicationConfiguration(em_call *c)
{
    json_t *conf = json_object_get(c->req, "replicationConfiguration");
    json_t *rules = json_object_get(conf, "rules");
    size_t i, k;
    json_t *rule, *dest;
    json_array_foreach(rules, i, rule) {
        json_t *dests = json_object_get(rule, "destinations");
        size_t n = json_array_size(dests);
        if (n < 1 || n > MAX_DESTINATIONS_PER_RULE) {
            char where[96];
            snprintf(where, sizeof where, "replicationConfiguration.rules.%zu.member.destinations", i + 1);
            return n < 1 ? em_fail_rule(c, where, EM_RULE_MEMBER_LENGTH_MIN, 1LL)
                         : em_fail_rule(c, where, EM_RULE_MEMBER_LENGTH_MAX, (long long)MAX_DESTINATIONS_PER_RULE);
        }
        json_array_foreach(dests, k, dest) {
            if (strcmp(em_get_str(dest, "region"), c->m->region) == 0 &&
                strcmp(em_get_str(dest, "registryId"), c->m->account) == 0)
                return em_fail_rule(c, "replicationConfiguration", EM_RULE_REPLICATION_TO_SELF);

        }
    }
    json_t *stored = json_deep_copy(conf);
    em_registry_mark mark = em_registry_mark_of(c->m, c->m->account);
    em_registry *r = stored ? em_registry_ensure(c->m, c->m->account) : NULL;
    if (!r || em_set(c->out, "replicationConfiguration", json_deep_copy(conf)) < 0) {
        em_registry_abandon(&mark);
        json_decref(stored);
        return em_fail_nomem(c);
    }
    json_decref(r->replication);
    r->replication = stored;
    return 0;
}

/* ---- registry policies: may this account replicate here? -------------------------- */

/* IAM's action match: case-insensitive, '*' any run, '?' one character. */
static bool action_match(const char *pat, const char *s)
{
    return em_wildcard_match(pat, s, true);
}

static bool any_string(json_t *v, bool (*match)(const char *, const char *), const char *want)
{
    if (json_is_string(v))
        return match(json_string_value(v), want);
    size_t i;
    json_t *item;
    json_array_foreach(v, i, item) if (json_is_string(item) && match(json_string_value(item), want)) return true;
    return false;
}

/* "*", the account id, or arn:<partition>:iam::<account>:root. */
static bool principal_is(const char *p, const char *account)
{
    if (strcmp(p, "*") == 0 || strcmp(p, account) == 0)
        return true;
    const char *iam = strncmp(p, "arn:", 4) == 0 ? strstr(p, ":iam::") : NULL;
    char root[40];
    snprintf(root, sizeof root, ":iam::%s:root", account);
    return iam && strcmp(iam, root) == 0;
}

static bool statement_covers(json_t *st, const char *account, const char *action)
{
    json_t *p = json_object_get(st, "Principal");
    bool who = json_is_string(p) ? strcmp(json_string_value(p), "*") == 0
                                 : any_string(json_object_get(p, "AWS"), principal_is, account);
    return who && any_string(json_object_get(st, "Action"), action_match, action);
}

/* Whether `policy` (NULL: none) lets `account` do `action`: an Allow
 * statement names it and no Deny does.  NotPrincipal, NotAction, Resource
 * and Condition are not evaluated (a statement using the Not forms counts
 * for nothing). */
static bool policy_allows(const char *policy, const char *account, const char *action)
{
    json_t *doc = policy ? json_loads(policy, 0, NULL) : NULL;
    json_t *sts = json_object_get(doc, "Statement");
    bool allow = false, deny = false;
    size_t n = json_is_array(sts) ? json_array_size(sts) : 1;
    for (size_t i = 0; doc && i < n; i++) {
        json_t *st = json_is_array(sts) ? json_array_get(sts, i) : sts;
        if (!statement_covers(st, account, action))
            continue;
        if (strcmp(em_get_str(st, "Effect"), "Deny") == 0)
            deny = true;
        else
            allow = true;
    }
    json_decref(doc);
    return allow && !deny;
}

/* ---- the copy -------------------------------------------------------------------- */

/* Creates repository `name` with ECR's defaults in registry `dest` of the
 * current view; NULL, or the error's name. */
static const char *create_repo(ecrmock *m, const char *dest, const char *name)
{
    em_call c = {.m = m, .err = ECRMOCK_ERR_OK};
    if (em_repo_create(&c, dest, name, NULL))
        return NULL;
    json_decref(c.errdoc);
    return ecrmock_error_name(c.err);
}

/* Puts `img` of `src` (with `tag`) into the repository of the same name of
 * registry `dest` in the current view; NULL, or the error's name. */
static const char *put_copy(ecrmock *m, em_repo *src, em_image *img, const char *tag, const char *dest)
{
    em_repo *drepo = em_repo_get(em_registry_get(m, dest), src->name);
    if (!drepo)
        return ecrmock_error_name(ECRMOCK_ERR_REPOSITORY_NOT_FOUND);
    for (size_t i = 0; i < img->n_children; i++) {
        em_image *child = em_image_get(src, img->children[i]);
        if (child && !em_image_get(drepo, child->digest)) {
            const char *err = put_copy(m, src, child, NULL, dest);
            if (err)
                return err;
        }
    }
    for (size_t i = 0; i < img->n_layers; i++) {
        em_blob *b = img->layers[i]->blob;
        unsigned char *none = NULL; /* the blob is in the store already: no bytes move */
        if (!em_layer_add(m, drepo, b->digest, &none, b->len))
            return ecrmock_error_name(ECRMOCK_ERR_SERVER);
    }
    em_call c = {.m = m, .err = ECRMOCK_ERR_OK};
    const char *err = NULL;
    if (!em_image_push(&c, drepo, img->manifest, img->manifest_len, img->media_type, NULL, tag)) {
        json_decref(c.errdoc);
        err = ecrmock_error_name(c.err);
    }
    /* Already there (a second rule, a re-push): the destination has it. */
    if (err && strcmp(err, ecrmock_error_name(ECRMOCK_ERR_IMAGE_ALREADY_EXISTS)) == 0)
        err = NULL;
    return err;
}

/* Gives the repository replication just created in registry `dest` of the
 * current view the settings of the destination's REPLICATION creation
 * template, as ECR does; NULL, or the error's name (then the repository is
 * gone again, and the registry when `mark` says the copy made it). */
static const char *apply_template(ecrmock *m, const char *dest, const char *name, const em_registry_mark *mark)
{
    em_call c = {.m = m, .err = ECRMOCK_ERR_OK};
    em_registry *reg = em_registry_get(m, dest);
    em_repo *repo = em_repo_get(reg, name);
    if (em_template_apply(&c, dest, name, "REPLICATION", repo) >= 0)
        return NULL;
    json_decref(c.errdoc);
    em_repo_remove(m, repo);
    em_registry_abandon(mark);
    return ecrmock_error_name(c.err);
}

/* Replicates to one destination; NULL, or the failure code. */
static const char *copy_to(ecrmock *m, em_repo *src, em_image *img, const char *tag, const char *region,
                           const char *dest)
{
    char source[13];
    snprintf(source, sizeof source, "%s", src->registry->id);
    em_view v;
    if (em_view_enter(m, NULL, region, &v) < 0)
        return ecrmock_error_name(ECRMOCK_ERR_SERVER);
    const char *err = NULL;
    em_registry *dreg = em_registry_get(m, dest);
    bool exists = em_repo_get(dreg, src->name) != NULL;
    if (strcmp(dest, source) != 0) {
        const char *policy = dreg ? dreg->policy : NULL;
        if (!policy_allows(policy, source, "ecr:ReplicateImage") ||
            (!exists && !policy_allows(policy, source, "ecr:CreateRepository")))
            err = "AccessDeniedException";
    }
    if (!err && !exists) {
        em_registry_mark mark = em_registry_mark_of(m, dest);
        err = create_repo(m, dest, src->name);
        if (!err)
            err = apply_template(m, dest, src->name, &mark);
    }
    if (!err)
        err = put_copy(m, src, img, tag, dest);
    em_view_leave(m, &v);
    return err;
}

/* Sets (or adds) the status of one destination in the image's list. */
static void record(em_image *img, const char *region, const char *dest, const char *err)
{
    if (!img->replication && !(img->replication = json_array()))
        return;
    json_t *st = json_pack("{s:s, s:s, s:s}", "region", region, "registryId", dest, "status",
                           err ? "FAILED" : "COMPLETE");
    if (!st || (err && em_set(st, "failureCode", json_string(err)) < 0)) {
        json_decref(st);
        return;
    }
    size_t i;
    json_t *old;
    json_array_foreach(img->replication, i, old) {
        if (strcmp(em_get_str(old, "region"), region) == 0 && strcmp(em_get_str(old, "registryId"), dest) == 0) {
            json_array_set_new(img->replication, i, st);
            return;
        }
    }
    json_array_append_new(img->replication, st);
}

static bool rule_matches(json_t *rule, const char *name)
{
    json_t *filters = json_object_get(rule, "repositoryFilters");
    if (!json_array_size(filters))
        return true;
    size_t i;
    json_t *f;
    json_array_foreach(filters, i, f) {
        const char *prefix = em_get_str(f, "filter");
        if (strncmp(name, prefix, strlen(prefix)) == 0)
            return true;
    }
    return false;
}

/* Whether an earlier destination of the configuration, before rule `ri`'s
 * destination `di`, is the same one. */
static bool seen_before(json_t *rules, size_t ri, size_t di, const char *region, const char *dest, const char *name)
{
    for (size_t i = 0; i <= ri; i++) {
        json_t *rule = json_array_get(rules, i);
        if (!rule_matches(rule, name))
            continue;
        json_t *dests = json_object_get(rule, "destinations");
        size_t n = i == ri ? di : json_array_size(dests);
        for (size_t k = 0; k < n; k++) {
            json_t *d = json_array_get(dests, k);
            if (strcmp(em_get_str(d, "region"), region) == 0 && strcmp(em_get_str(d, "registryId"), dest) == 0)
                return true;
        }
    }
    return false;
}

void em_replicate(ecrmock *m, em_repo *repo, em_image *img, const char *tag)
{
    if (m->replicating)
        return;
    json_t *rules = json_object_get(repo->registry->replication, "rules");
    m->replicating++;
    size_t i, k;
    json_t *rule, *d;
    json_array_foreach(rules, i, rule) {
        if (!rule_matches(rule, repo->name))
            continue;
        json_array_foreach(json_object_get(rule, "destinations"), k, d) {
            const char *region = em_get_str(d, "region"), *dest = em_get_str(d, "registryId");
            if (seen_before(rules, i, k, region, dest, repo->name) ||
                (strcmp(region, m->region) == 0 && strcmp(dest, repo->registry->id) == 0))
                continue;
            record(img, region, dest, copy_to(m, repo, img, tag, region, dest));
        }
    }
    m->replicating--;
}

/* ---- DescribeImageReplicationStatus ------------------------------------------------ */

int em_DescribeImageReplicationStatus(em_call *c)
{
    em_repo *repo;
    em_image *img = em_request_image(c, &repo);
    if (!img)
        return -1;
    json_t *id = json_object_get(c->req, "imageId");
    json_t *statuses = img->replication ? json_deep_copy(img->replication) : json_array();
    if (em_set(c->out, "repositoryName", json_string(repo->name)) < 0 ||
        em_set(c->out, "imageId", em_image_id_json(img->digest, em_get_str(id, "imageTag"))) < 0 ||
        em_set(c->out, "replicationStatuses", statuses) < 0)
        return em_fail_nomem(c);
    return 0;
}
