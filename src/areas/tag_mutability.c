/*
 * PutImageTagMutability, and the rules for a repository's tag mutability
 * setting, shared with CreateRepository.
 *
 * The setting is repo->tag_mutability and repo->mutability_filters; PutImage
 * reads them when a tag would move (image_push.c): MUTABLE moves it, IMMUTABLE
 * refuses, IMMUTABLE_WITH_EXCLUSION moves only tags a filter matches and
 * MUTABLE_WITH_EXCLUSION refuses only those.
 */
#include <string.h>

#include "areas/areas.h"

int em_PutImageTagMutability(em_call *c)
{
    const char *mutability = em_get_str(c->req, "imageTagMutability");
    json_t *filters = json_object_get(c->req, "imageTagMutabilityExclusionFilters");
    if (em_tag_mutability_check(c, mutability, filters) < 0)
        return -1;
    em_repo *repo = em_repo_lookup(c);
    if (!repo)
        return -1;

    /* The new setting and the answer are made first: a failure changes nothing. */
    char *copy = em_strdup(mutability);
    json_t *fcopy = filters ? json_deep_copy(filters) : NULL;
    if (!copy || (filters && !fcopy) || em_set(c->out, "registryId", json_string(repo->registry->id)) < 0 ||
        em_set(c->out, "repositoryName", json_string(repo->name)) < 0 ||
        em_set(c->out, "imageTagMutability", json_string(mutability)) < 0 ||
        (fcopy && em_set(c->out, "imageTagMutabilityExclusionFilters", json_deep_copy(fcopy)) < 0)) {
        em_free(copy);
        json_decref(fcopy);
        return em_fail_nomem(c);
    }
    em_free(repo->tag_mutability);
    json_decref(repo->mutability_filters);
    repo->tag_mutability = copy;
    repo->mutability_filters = fcopy;
    return 0;
}
