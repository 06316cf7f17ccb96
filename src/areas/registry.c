/*
 * DescribeRegistry, PutRegistryPolicy, GetRegistryPolicy, DeleteRegistryPolicy.
 *
 * These act on the caller's own registry (they take no registryId): the
 * instance's account in the instance's region, or the account and region a
 * test gives ecrmock_call_as().  A registry policy is an IAM policy document,
 * checked as a repository policy is (em_policy_ok), and kept verbatim; it is
 * what allows another account's replication into this registry
 * (replication.c reads it).
 */
#include "areas/areas.h"

static int registry_policy_output(em_call *c, const char *text)
{
    if (em_set(c->out, "registryId", json_string(c->m->account)) < 0 ||
        em_set(c->out, "policyText", json_string(text)) < 0)
        return em_fail_nomem(c);
    return 0;
}

/* The caller's registry when it has a policy; otherwise NULL, with
 * RegistryPolicyNotFoundException set. */
static em_registry *registry_with_policy(em_call *c)
{
    em_registry *r = em_registry_get(c->m, c->m->account);
    if (!r || !r->policy) {
        em_fail_text(c, EM_MSG_REGISTRY_POLICY_NOT_FOUND, c->m->account);
        return NULL;
    }
    return r;
}

int em_DescribeRegistry(em_call *c)
{
    em_registry *r = em_registry_get(c->m, c->m->account);
    /* A registry never configured answers an empty rule list, as ECR does. */
    if (em_set(c->out, "registryId", json_string(c->m->account)) < 0 ||
        em_set(c->out, "replicationConfiguration",
               r && r->replication ? json_deep_copy(r->replication) : json_pack("{s:[]}", "rules")) < 0)
        return em_fail_nomem(c);
    return 0;
}

int em_PutRegistryPolicy(em_call *c)
{
    const char *text = em_get_str(c->req, "policyText");
    if (!em_policy_ok(text))
        return em_fail_rule_at(c, "$.policyText", "PolicyText", EM_RULE_INVALID_REGISTRY_POLICY);

    char *copy = em_strdup(text);
    em_registry_mark mark = em_registry_mark_of(c->m, c->m->account);
    em_registry *r = copy ? em_registry_ensure(c->m, c->m->account) : NULL;
    if (!r || registry_policy_output(c, text) < 0) {
        em_registry_abandon(&mark);
        em_free(copy);
        return em_fail_nomem(c);
    }
    em_free(r->policy);
    r->policy = copy;
    return 0;
}

int em_GetRegistryPolicy(em_call *c)
{
    em_registry *r = registry_with_policy(c);
    return r ? registry_policy_output(c, r->policy) : -1;
}

int em_DeleteRegistryPolicy(em_call *c)
{
    em_registry *r = registry_with_policy(c);
    if (!r || registry_policy_output(c, r->policy) < 0)
        return -1;
    em_free(r->policy);
    r->policy = NULL;
    return 0;
}
