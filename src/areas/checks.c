/*
 * Rules several areas apply: resource tags, tag mutability and its
 * exclusion filters, IAM policy documents, IAM role ARNs.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "areas/areas.h"

/* ---- upstream registries ----------------------------------------------------------- */

bool em_all_of(const char *s, size_t n, const char *set)
{
    return n > 0 && strspn(s, set) >= n;
}


/* An IAM role ARN, arn:<partition>:iam::<account>:role/<path and name>, in
 * the registry's own account (the API reference: "This role must be in the
 * same account as the registry that you are configuring"). */
int em_role_arn_check(em_call *c, const char *arn, const char *registry_id)
{
    const char *p = strncmp(arn, "arn:aws", 7) == 0 ? arn + 7 : NULL;
    if (p)
        p += strspn(p, EM_LOWER_ALNUM "-");
    if (!p || strncmp(p, ":iam::", 6) != 0 || !em_all_of(p + 6, 12, "0123456789") || strncmp(p + 18, ":role/", 6) != 0 ||
        !p[24])
        return em_fail_rule(c, "customRoleArn", EM_RULE_INVALID_ARN);
    if (strncmp(p + 6, registry_id, 12) != 0)
        return em_fail_rule(c, "customRoleArn", EM_RULE_ROLE_OTHER_ACCOUNT, registry_id);
    return 0;
}

static bool statement_ok(json_t *st)
{
    if (!json_is_object(st))
        return false;
    const char *effect = em_get_str(st, "Effect");
    if (!effect || (strcmp(effect, "Allow") != 0 && strcmp(effect, "Deny") != 0))
        return false;
    if (!json_object_get(st, "Principal") && !json_object_get(st, "NotPrincipal"))
        return false;
    json_t *action = json_object_get(st, "Action");
    if (!action)
        action = json_object_get(st, "NotAction");
    return json_is_string(action) || (json_is_array(action) && json_array_size(action) > 0);
}

bool em_policy_ok(const char *text)
{
    json_t *doc = json_loads(text, 0, NULL);
    bool ok = json_is_object(doc);
    const char *version = ok ? em_get_str(doc, "Version") : NULL;
    if (ok && json_object_get(doc, "Version"))
        ok = version && (strcmp(version, "2012-10-17") == 0 || strcmp(version, "2008-10-17") == 0);
    json_t *st = ok ? json_object_get(doc, "Statement") : NULL;
    if (json_is_array(st)) {
        ok = json_array_size(st) > 0;
        size_t i;
        json_t *s;
        json_array_foreach(st, i, s) ok = ok && statement_ok(s);
    } else {
        ok = ok && statement_ok(st);
    }
    json_decref(doc);
    return ok;
}

#define MAX_KEY_CHARS 128

#define MAX_VALUE_CHARS 256

static size_t utf8_len(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xc0) != 0x80;
    return n;
}

int em_tag_key_check(em_call *c, const char *k)
{
    size_t klen = utf8_len(k);
    if (klen < 1 || klen > MAX_KEY_CHARS)
        return em_fail_text(c, EM_MSG_TAG_KEY_LENGTH, k);
    if (strncasecmp(k, "aws:", 4) == 0)
        return em_fail_text(c, EM_MSG_TAG_KEY_RESERVED, k);
    return 0;
}

/* The tag of `tags` with key `k`, or NULL. */
json_t *em_tag_find(json_t *tags, const char *k)
{
    size_t i;
    json_t *t;
    json_array_foreach(tags, i, t) {
        if (strcmp(em_get_str(t, "Key"), k) == 0)
            return t;
    }
    return NULL;
}

int em_resource_tags_check(em_call *c, json_t *tags, json_t *current)
{
    size_t n = json_array_size(tags), after = json_array_size(current);
    for (size_t i = 0; i < n; i++) {
        json_t *t = json_array_get(tags, i);
        const char *k = em_get_str(t, "Key"), *v = em_get_str(t, "Value");
        if (em_tag_key_check(c, k) < 0)
            return -1;
        if (utf8_len(v) > MAX_VALUE_CHARS)
            return em_fail_text(c, EM_MSG_TAG_VALUE_LENGTH, k);
        for (size_t j = 0; j < i; j++)
            if (strcmp(k, em_get_str(json_array_get(tags, j), "Key")) == 0)
                return em_fail_text(c, EM_MSG_TAG_KEY_TWICE, k);
        after += !em_tag_find(current, k);
    }
    uint64_t max = c->m->opts.max_resource_tags;
    if (after > max && !current)
        return em_fail_text(c, EM_MSG_TOO_MANY_TAGS_GIVEN, (unsigned long long)max, after);
    if (after > max)
        return em_fail_text(c, EM_MSG_TOO_MANY_TAGS_AFTER, (unsigned long long)max, after);
    return 0;
}

static bool with_exclusion(const char *mutability)
{
    return strstr(mutability, "_WITH_EXCLUSION") != NULL;
}

int em_tag_mutability_check(em_call *c, const char *mutability, json_t *filters)
{
    if (with_exclusion(mutability) && !filters)
        return em_fail_rule(c, "imageTagMutabilityExclusionFilters", EM_RULE_EXCLUSION_FILTERS_REQUIRED, mutability);
    if (!with_exclusion(mutability) && filters)
        return em_fail_rule(c, "imageTagMutabilityExclusionFilters", EM_RULE_EXCLUSION_FILTERS_UNWANTED);

    return 0;
}
