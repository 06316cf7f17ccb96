/*
 * SetRepositoryPolicy, GetRepositoryPolicy, DeleteRepositoryPolicy.
 *
 * The policy text must be an IAM policy document: a JSON object whose
 * Statement is a statement or a non-empty list of them, each with an Effect
 * of Allow or Deny, a Principal (or NotPrincipal: a repository policy is a
 * resource policy) and an Action (or NotAction); a Version, when given, is
 * 2012-10-17 or 2008-10-17.  Anything else is refused with ECR's text.
 */
#include <string.h>

#include "areas/areas.h"

static int policy_not_found(em_call *c, em_repo *repo)
{
    return em_fail_text(c, EM_MSG_REPOSITORY_POLICY_NOT_FOUND, repo->name, repo->registry->id);
}

static int policy_output(em_call *c, em_repo *repo, const char *text)
{
    if (em_set(c->out, "registryId", json_string(repo->registry->id)) < 0 ||
        em_set(c->out, "repositoryName", json_string(repo->name)) < 0 ||
        em_set(c->out, "policyText", json_string(text)) < 0)
        return em_fail_nomem(c);
    return 0;
}

int em_SetRepositoryPolicy(em_call *c)
{
    em_repo *repo = em_repo_lookup(c);
    if (!repo)
        return -1;
    const char *text = em_get_str(c->req, "policyText");
    if (!em_policy_ok(text))
        return em_fail_rule_at(c, "$.policyText", "PolicyText", EM_RULE_INVALID_REPOSITORY_POLICY);

    char *copy = em_strdup(text);
    if (!copy || policy_output(c, repo, text) < 0) {
        em_free(copy);
        return em_fail_nomem(c);
    }
    em_free(repo->policy);
    repo->policy = copy;
    return 0;
}

int em_GetRepositoryPolicy(em_call *c)
{
    em_repo *repo = em_repo_lookup(c);
    if (!repo)
        return -1;
    if (!repo->policy)
        return policy_not_found(c, repo);
    return policy_output(c, repo, repo->policy);
}

int em_DeleteRepositoryPolicy(em_call *c)
{
    em_repo *repo = em_repo_lookup(c);
    if (!repo)
        return -1;
    if (!repo->policy)
        return policy_not_found(c, repo);
    if (policy_output(c, repo, repo->policy) < 0)
        return -1;
    em_free(repo->policy);
    repo->policy = NULL;
    return 0;
}
