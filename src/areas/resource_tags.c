/*
 * TagResource, UntagResource, ListTagsForResource, and ECR's rules for
 * resource tags, shared with CreateRepository.
 *
 * A repository's resource tags are repo->tags, an array of {Key, Value} in
 * the order the keys were first set: TagResource replaces the value of a key
 * the repository has in place and appends new keys, so ListTagsForResource
 * answers in a stable order.  The model leaves every tag rule to the
 * service: keys of 1 to 128 characters, not starting with "aws:" in any
 * case (reserved for AWS), values of at most 256, at most 50 tags on a
 * resource, counted after the request's tags are merged in.
 */
#include <string.h>
#include <strings.h>

#include "areas/areas.h"

/* ---- the resource: a repository's ARN ------------------------------------------- */

/* Length of the ARN field that starts at s (up to the next ':'), or -1 when
 * no ':' follows. */
static long field_len(const char *s)
{
    const char *colon = strchr(s, ':');
    return colon ? colon - s : -1;
}

static bool field_is(const char *s, long len, const char *want)
{
    return len >= 0 && (size_t)len == strlen(want) && strncmp(s, want, (size_t)len) == 0;
}

/* The repository that resourceArn names: arn:<partition>:ecr:<region>:
 * <account>:repository/<name>, in the instance's partition and region.
 * Anything else is an invalid ARN; a well-formed ARN of a repository that
 * does not exist is RepositoryNotFoundException.  NULL with the error set. */
static em_repo *arn_repo(em_call *c)
{
    const char *arn = em_get_str(c->req, "resourceArn");
    const char *want[4] = {"arn", em_partition(c->m->region), "ecr", c->m->region};
    const char *p = arn;
    for (int i = 0; i < 4; i++) {
        long len = field_len(p);
        if (!field_is(p, len, want[i]))
            return em_fail_rule(c, "resourceArn", EM_RULE_INVALID_ARN), NULL;
        p += len + 1;
    }
    const char *account = p;
    long len = field_len(account);
    bool digits = len == 12;
    for (long i = 0; digits && i < len; i++)
        digits = account[i] >= '0' && account[i] <= '9';
    const char *resource = account + len + 1;
    if (!digits || strncmp(resource, "repository/", 11) != 0 || !resource[11])
        return em_fail_rule(c, "resourceArn", EM_RULE_INVALID_ARN), NULL;

    char reg_id[13];
    memcpy(reg_id, account, 12);
    reg_id[12] = '\0';
    const char *name = resource + 11;
    em_repo *repo = em_repo_get(em_registry_get(c->m, reg_id), name);
    if (!repo)
        em_fail_text(c, EM_MSG_REPOSITORY_NOT_FOUND, name, reg_id);

    return repo;
}

/* ---- TagResource ------------------------------------------------------------------ */

static json_t *tag_new(const char *k, const char *v)
{
    return json_pack("{s:s, s:s}", "Key", k, "Value", v);
}

int em_TagResource(em_call *c)
{
    em_repo *repo = arn_repo(c);
    json_t *tags = json_object_get(c->req, "tags");
    if (!repo || em_resource_tags_check(c, tags, repo->tags) < 0)
        return -1;

    /* The merged list is built aside and swapped in: a failure changes nothing. */
    json_t *merged = json_array();
    size_t i;
    json_t *t;
    if (!merged)
        return em_fail_nomem(c);
    json_array_foreach(repo->tags, i, t) {
        json_t *given = em_tag_find(tags, em_get_str(t, "Key"));
        json_t *item = given ? tag_new(em_get_str(t, "Key"), em_get_str(given, "Value")) : json_incref(t);
        if (json_array_append_new(merged, item) < 0)
            goto nomem;
    }
    json_array_foreach(tags, i, t) {
        if (!em_tag_find(repo->tags, em_get_str(t, "Key")) &&
            json_array_append_new(merged, tag_new(em_get_str(t, "Key"), em_get_str(t, "Value"))) < 0)
            goto nomem;
    }
    json_decref(repo->tags);
    repo->tags = merged;
    return 0;
nomem:
    json_decref(merged);
    return em_fail_nomem(c);
}

/* ---- UntagResource ------------------------------------------------------------------ */

int em_UntagResource(em_call *c)
{
    em_repo *repo = arn_repo(c);
    if (!repo)
        return -1;
    json_t *keys = json_object_get(c->req, "tagKeys");
    size_t i, j;
    json_t *k, *t;
    json_array_foreach(keys, i, k) {
        if (em_tag_key_check(c, json_string_value(k)) < 0)
            return -1;
    }
    /* Keys the repository does not have are no error. */
    json_t *kept = json_array();
    if (!kept)
        return em_fail_nomem(c);
    json_array_foreach(repo->tags, i, t) {
        bool drop = false;
        json_array_foreach(keys, j, k) drop = drop || strcmp(em_get_str(t, "Key"), json_string_value(k)) == 0;
        if (!drop && json_array_append(kept, t) < 0) {
            json_decref(kept);
            return em_fail_nomem(c);
        }
    }
    json_decref(repo->tags);
    repo->tags = kept;
    return 0;
}

/* ---- ListTagsForResource ----------------------------------------------------------- */

int em_ListTagsForResource(em_call *c)
{
    em_repo *repo = arn_repo(c);
    if (!repo)
        return -1;
    return em_set(c->out, "tags", json_deep_copy(repo->tags)) < 0 ? em_fail_nomem(c) : 0;
}
