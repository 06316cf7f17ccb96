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

#include "actions.h"

#define MAX_KEY_CHARS 128
#define MAX_VALUE_CHARS 256

static size_t utf8_len(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xc0) != 0x80;
    return n;
}

static int check_key(em_call *c, const char *k)
{
    size_t klen = utf8_len(k);
    if (klen < 1 || klen > MAX_KEY_CHARS)
        return em_fail(c, ECRMOCK_ERR_INVALID_TAG_PARAMETER, "Tag key '%s' must be between 1 and 128 characters long",
                       k);
    if (strncasecmp(k, "aws:", 4) == 0)
        return em_fail(c, ECRMOCK_ERR_INVALID_TAG_PARAMETER,
                       "Tag key '%s' is reserved: keys prefixed with 'aws:' are for AWS use", k);
    return 0;
}

/* The tag of `tags` with key `k`, or NULL. */
static json_t *find_tag(json_t *tags, const char *k)
{
    size_t i;
    json_t *t;
    json_array_foreach(tags, i, t) {
        if (strcmp(em_str(t, "Key"), k) == 0)
            return t;
    }
    return NULL;
}

int em_resource_tags_check(em_call *c, json_t *tags, json_t *current)
{
    size_t n = json_array_size(tags), after = json_array_size(current);
    for (size_t i = 0; i < n; i++) {
        json_t *t = json_array_get(tags, i);
        const char *k = em_str(t, "Key"), *v = em_str(t, "Value");
        if (check_key(c, k) < 0)
            return -1;
        if (utf8_len(v) > MAX_VALUE_CHARS)
            return em_fail(c, ECRMOCK_ERR_INVALID_TAG_PARAMETER,
                           "The value of tag '%s' must be at most 256 characters long", k);
        for (size_t j = 0; j < i; j++)
            if (strcmp(k, em_str(json_array_get(tags, j), "Key")) == 0)
                return em_fail(c, ECRMOCK_ERR_INVALID_TAG_PARAMETER, "Tag key '%s' is given more than once", k);
        after += !find_tag(current, k);
    }
    uint64_t max = c->m->opts.max_resource_tags;
    if (after > max && !current)
        return em_fail(c, ECRMOCK_ERR_TOO_MANY_TAGS, "A resource can have at most %llu tags; the request gives %zu",
                       (unsigned long long)max, after);
    if (after > max)
        return em_fail(c, ECRMOCK_ERR_TOO_MANY_TAGS,
                       "A resource can have at most %llu tags; with these the resource would have %zu",
                       (unsigned long long)max, after);
    return 0;
}

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
    const char *arn = em_str(c->req, "resourceArn");
    const char *want[4] = {"arn", em_partition(c->m->region), "ecr", c->m->region};
    const char *p = arn;
    for (int i = 0; i < 4; i++) {
        long len = field_len(p);
        if (!field_is(p, len, want[i]))
            return em_fail_param(c, "resourceArn", "Invalid ARN"), NULL;
        p += len + 1;
    }
    const char *account = p;
    long len = field_len(account);
    bool digits = len == 12;
    for (long i = 0; digits && i < len; i++)
        digits = account[i] >= '0' && account[i] <= '9';
    const char *resource = account + len + 1;
    if (!digits || strncmp(resource, "repository/", 11) != 0 || !resource[11])
        return em_fail_param(c, "resourceArn", "Invalid ARN"), NULL;

    char reg_id[13];
    memcpy(reg_id, account, 12);
    reg_id[12] = '\0';
    const char *name = resource + 11;
    em_repo *repo = em_repo_get(em_registry_get(c->m, reg_id), name);
    if (!repo)
        em_fail(c, ECRMOCK_ERR_REPOSITORY_NOT_FOUND,
                "The repository with name '%s' does not exist in the registry with id '%s'", name, reg_id);
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
        json_t *given = find_tag(tags, em_str(t, "Key"));
        json_t *item = given ? tag_new(em_str(t, "Key"), em_str(given, "Value")) : json_incref(t);
        if (json_array_append_new(merged, item) < 0)
            goto nomem;
    }
    json_array_foreach(tags, i, t) {
        if (!find_tag(repo->tags, em_str(t, "Key")) &&
            json_array_append_new(merged, tag_new(em_str(t, "Key"), em_str(t, "Value"))) < 0)
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
        if (check_key(c, json_string_value(k)) < 0)
            return -1;
    }
    /* Keys the repository does not have are no error. */
    json_t *kept = json_array();
    if (!kept)
        return em_fail_nomem(c);
    json_array_foreach(repo->tags, i, t) {
        bool drop = false;
        json_array_foreach(keys, j, k) drop = drop || strcmp(em_str(t, "Key"), json_string_value(k)) == 0;
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
