/*
 * A new repository: ECR's checks (the name free, the quota), its ARN and
 * URI, its settings or ECR's defaults, CreateRepository's answer made before
 * it is linked in (once it is, nothing can fail).  CreateRepository and
 * replication's copies both create through here.
 */
#include <stdio.h>
#include <string.h>

#include "store/store.h"

em_repo *em_repo_create(em_call *c, const char *reg_id, const char *name, const em_repo_settings *set)
{
    static const em_repo_settings ecr_defaults = {0};
    ecrmock *m = c->m;
    if (!set)
        set = &ecr_defaults;
    em_registry *reg = em_registry_get(m, reg_id);
    if (em_repo_get(reg, name)) {
        em_fail_text(c, EM_MSG_REPOSITORY_ALREADY_EXISTS, name, reg_id);
        return NULL;
    }
    if (reg && HASH_COUNT(reg->repos) >= m->opts.max_repositories) {
        em_fail_text(c, EM_MSG_REPOSITORY_LIMIT, reg_id, (unsigned long long)m->opts.max_repositories);
        return NULL;
    }

    const char *mutability = set->tag_mutability ? set->tag_mutability : "MUTABLE";
    const char *enc_type = set->encryption_type ? set->encryption_type : "AES256";
    json_t *filters = set->mutability_filters, *tags = set->tags;
    em_registry_mark mark = em_registry_mark_of(m, reg_id);
    reg = em_registry_ensure(m, reg_id);
    em_repo *repo = reg ? em_calloc(1, sizeof *repo) : NULL;
    if (!repo) {
        em_registry_abandon(&mark);
        em_fail_nomem(c);
        return NULL;
    }
    repo->registry = reg;
    repo->name = em_strdup(name);
    repo->arn = em_sprintf("arn:%s:ecr:%s:%s:repository/%s", em_partition(m->region), m->region, reg_id, name);
    repo->uri = em_sprintf("%s.dkr.ecr.%s.%s/%s", reg_id, m->region, em_dns_suffix(m->region), name);
    repo->created_ms = m->clock_ms;
    repo->tag_mutability = em_strdup(mutability);
    repo->mutability_filters = filters ? json_deep_copy(filters) : NULL;
    repo->scan_on_push = set->scan_on_push;
    repo->encryption_type = em_strdup(enc_type);
    repo->kms_key = set->kms_key ? em_strdup(set->kms_key) : NULL;
    repo->tags = tags ? json_deep_copy(tags) : json_array();
    repo->seq = ++m->seq;
    /* The answer is made before the repository is linked in: once it is, nothing can fail. */
    if (!repo->name || !repo->arn || !repo->uri || !repo->tag_mutability || (filters && !repo->mutability_filters) ||
        !repo->encryption_type || (set->kms_key && !repo->kms_key) || !repo->tags ||
        (c->out && em_set(c->out, "repository", em_repo_json(m, repo)) < 0) || em_repo_insert(reg, repo) < 0) {
        em_repo_free(m, repo);
        em_registry_abandon(&mark);
        em_fail_nomem(c);
        return NULL;
    }
    return repo;
}
