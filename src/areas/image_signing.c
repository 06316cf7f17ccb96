/*
 * Managed signing: PutSigningConfiguration, GetSigningConfiguration,
 * DeleteSigningConfiguration and DescribeImageSigningStatus.
 *
 * The registry's signing configuration is a list of rules, each a signing
 * profile ARN and optional repository filters (WILDCARD_MATCH, '*' any run
 * of characters; no filter: every repository).  ECR signs an image when it
 * is pushed, with the profile of every rule its repository matches then:
 * PutImage records those profiles on the new image (em_signing_on_push), so
 * a configuration put or deleted later changes nothing for images already
 * pushed, as ECR documents ("Deleting the signing configuration does not
 * affect existing image signatures").
 *
 * ecrmock has no AWS Signer: a signing job is IN_PROGRESS for SIGNING_MS of
 * virtual time after the push, then COMPLETE.  An image pushed while no rule
 * matched its repository has no statuses (an empty list).
 */
#include <string.h>

#include "areas/areas.h"

#define SIGNING_MS 10000 /* inferred: a signing job takes a few seconds */

static bool rule_matches(json_t *rule, const char *repo)
{
    json_t *filters = json_object_get(rule, "repositoryFilters");
    if (json_array_size(filters) == 0)
        return true;
    size_t i;
    json_t *f;
    json_array_foreach(filters, i, f) {
        if (em_wildcard_match(em_get_str(f, "filter"), repo, false))
            return true;
    }
    return false;
}

int em_signing_on_push(em_repo *repo, em_image *img)
{
    json_t *rules = json_object_get(repo->registry->signing_config, "rules");
    if (json_array_size(rules) == 0)
        return 0;
    json_t *profiles = json_array();
    if (!profiles)
        return -1;
    size_t i;
    json_t *rule;
    json_array_foreach(rules, i, rule) {
        if (!rule_matches(rule, repo->name))
            continue;
        /* One status per profile, however many rules name it. */
        json_t *arn = json_object_get(rule, "signingProfileArn");
        bool seen = false;
        size_t k;
        json_t *p;
        json_array_foreach(profiles, k, p) seen = seen || json_equal(p, arn);
        if (!seen && json_array_append(profiles, arn) < 0) {
            json_decref(profiles);
            return -1;
        }
    }
    json_decref(img->signing);
    img->signing = profiles;
    return 0;
}

static int config_not_found(em_call *c)
{
    return em_fail_text(c, EM_MSG_SIGNING_CONFIGURATION_NOT_FOUND, c->m->account);

}

int em_PutSigningConfiguration(em_call *c)
{
    em_registry_mark mark = em_registry_mark_of(c->m, c->m->account);
    em_registry *r = em_registry_ensure(c->m, c->m->account);
    json_t *config = json_deep_copy(json_object_get(c->req, "signingConfiguration"));
    if (!r || !config || em_set(c->out, "signingConfiguration", json_deep_copy(config)) < 0) {
        json_decref(config);
        em_registry_abandon(&mark); /* a registry made for this call goes again */
        return em_fail_nomem(c);
    }
    json_decref(r->signing_config);
    r->signing_config = config;
    return 0;
}

static int config_output(em_call *c, em_registry *r)
{
    if (em_set(c->out, "registryId", json_string(r->id)) < 0 ||
        em_set(c->out, "signingConfiguration", json_deep_copy(r->signing_config)) < 0)
        return em_fail_nomem(c);
    return 0;
}

int em_GetSigningConfiguration(em_call *c)
{
    em_registry *r = em_registry_get(c->m, c->m->account);
    if (!r || !r->signing_config)
        return config_not_found(c);
    return config_output(c, r);
}

int em_DeleteSigningConfiguration(em_call *c)
{
    em_registry *r = em_registry_get(c->m, c->m->account);
    if (!r || !r->signing_config)
        return config_not_found(c);
    if (config_output(c, r) < 0)
        return -1;
    json_decref(r->signing_config);
    r->signing_config = NULL;
    return 0;
}

int em_DescribeImageSigningStatus(em_call *c)
{
    em_repo *repo;
    em_image *img = em_request_image(c, &repo);
    if (!img)
        return -1;
    json_t *id = json_object_get(c->req, "imageId");
    if (em_set(c->out, "registryId", json_string(repo->registry->id)) < 0 ||
        em_set(c->out, "repositoryName", json_string(repo->name)) < 0 ||
        em_set(c->out, "imageId", em_image_id_json(img->digest, em_get_str(id, "imageTag"))) < 0 ||
        em_set(c->out, "signingStatuses", json_array()) < 0)
        return em_fail_nomem(c);
    json_t *statuses = json_object_get(c->out, "signingStatuses");
    const char *status = c->m->clock_ms - img->pushed_at_ms < SIGNING_MS ? "IN_PROGRESS" : "COMPLETE";
    size_t i;
    json_t *arn;
    json_array_foreach(img->signing, i, arn) {
        if (json_array_append_new(statuses, json_pack("{s:O, s:s}", "signingProfileArn", arn, "status", status)) < 0)
            return em_fail_nomem(c);
    }
    return 0;
}
