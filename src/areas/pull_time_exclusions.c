/*
 * Pull time update exclusions: RegisterPullTimeUpdateExclusion,
 * DeregisterPullTimeUpdateExclusion, ListPullTimeUpdateExclusions, and the
 * test control ecrmock_principal_set().
 *
 * A registry (the caller's account) keeps a list of IAM principal ARNs
 * whose pulls do not update an image's lastRecordedPullTime.  A fake called
 * in-process has no caller identity: the test names one with
 * ecrmock_principal_set(), and BatchGetImage consults the list of the
 * pulled repository's registry for that principal.  With no principal set,
 * every pull is recorded.  At most MAX_EXCLUSIONS principals per registry
 * (inferred from the largest list the API returns).
 */
#include <stdio.h>
#include <string.h>

#include "areas/areas.h"

#define MAX_EXCLUSIONS 100
#define DEFAULT_PAGE 100

static em_exclusion *find(em_registry *r, const char *arn)
{
    for (size_t i = 0; r && i < r->n_exclusions; i++)
        if (strcmp(r->exclusions[i].principal, arn) == 0)
            return &r->exclusions[i];
    return NULL;
}

bool em_pull_time_excluded(ecrmock *m, em_registry *r)
{
    return m->principal && find(r, m->principal);
}

int em_RegisterPullTimeUpdateExclusion(em_call *c)
{
    const char *arn = em_get_str(c->req, "principalArn");
    em_registry *r = em_registry_get(c->m, c->m->account);
    if (find(r, arn))
        return em_fail_text(c, EM_MSG_EXCLUSION_ALREADY_EXISTS, arn, c->m->account);
    if (r && r->n_exclusions >= MAX_EXCLUSIONS)
        return em_fail_text(c, EM_MSG_EXCLUSION_LIMIT, c->m->account, MAX_EXCLUSIONS);
    em_registry_mark mark = em_registry_mark_of(c->m, c->m->account);
    r = em_registry_ensure(c->m, c->m->account);
    char *copy = em_strdup(arn);
    em_exclusion *grown = r && copy ? em_realloc(r->exclusions, (r->n_exclusions + 1) * sizeof *grown) : NULL;
    if (r && grown)
        r->exclusions = grown;
    if (!grown || em_set(c->out, "principalArn", json_string(arn)) < 0 ||
        em_set(c->out, "createdAt", em_time(c->m->clock_ms)) < 0) {
        em_free(copy);
        em_registry_abandon(&mark); /* a registry made for this call goes again */
        return em_fail_nomem(c);
    }
    grown[r->n_exclusions++] = (em_exclusion){copy, c->m->clock_ms, ++c->m->seq};
    return 0;
}

int em_DeregisterPullTimeUpdateExclusion(em_call *c)
{
    const char *arn = em_get_str(c->req, "principalArn");
    em_registry *r = em_registry_get(c->m, c->m->account);
    em_exclusion *e = find(r, arn);
    if (!e)
        return em_fail_text(c, EM_MSG_EXCLUSION_NOT_FOUND, arn, c->m->account);

    if (em_set(c->out, "principalArn", json_string(arn)) < 0)
        return em_fail_nomem(c);
    size_t i = (size_t)(e - r->exclusions);
    em_free(e->principal);
    memmove(e, e + 1, (r->n_exclusions - i - 1) * sizeof *e);
    r->n_exclusions--;
    return 0;
}

int em_ListPullTimeUpdateExclusions(em_call *c)
{
    em_registry *r = em_registry_get(c->m, c->m->account);
    const char *token = em_get_str(c->req, "nextToken");
    size_t max = (size_t)em_get_int(c->req, "maxResults", DEFAULT_PAGE);
    char scope[64];
    snprintf(scope, sizeof scope, "ListPullTimeUpdateExclusions|%s", c->m->account);
    em_page_pos pos = {0};
    if (token && em_page_parse(c, scope, token, &pos) < 0)
        return -1;
    json_t *list = json_array();
    if (em_set(c->out, "pullTimeUpdateExclusions", list) < 0)
        return em_fail_nomem(c);
    for (size_t i = 0; r && i < r->n_exclusions; i++) {
        em_exclusion *e = &r->exclusions[i];
        if (e->seq < pos.seq) /* pos is 0 without a token */
            continue;
        if (json_array_size(list) == max) {
            em_page_pos next = {.seq = e->seq};
            return em_set(c->out, "nextToken", em_page_token(c->m, scope, &next)) < 0 ? em_fail_nomem(c) : 0;
        }
        if (json_array_append_new(list, json_string(e->principal)) < 0)
            return em_fail_nomem(c);
    }
    return 0;
}

int ecrmock_principal_set(ecrmock *m, const char *principal_arn, ecrmock_err *err)
{
    em_err_clear(err);
    if (!m)
        return em_err_arg(err, "no instance (m is NULL)");
    char *copy = NULL;
    if (principal_arn && !(copy = em_strdup(principal_arn)))
        return em_err_nomem(err);
    em_lock(m);
    em_free(m->principal);
    m->principal = copy;
    em_unlock(m);
    return 0;
}
