/*
 * The lifecycle policy language: a policy text parsed and checked as ECR
 * checks it (em_lifecycle_policy_check; lifecycle.c evaluates the result).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "areas/areas.h"

#define MAX_WILDCARDS 4

/* ---- the policy document ---------------------------------------------------- */

void em_lc_policy_release(em_lc_policy *p)
{
    json_decref(p->doc);
    em_free(p->rules);
    memset(p, 0, sizeof *p);
}



/* Refuses the policy with rule EM_RULE_LC_<id> of core.h's list. */
#define invalid(c, id, ...) \
    em_fail_rule_at(c, "$.lifecyclePolicyText", "LifecyclePolicyText", EM_RULE_LC_##id, ##__VA_ARGS__)

/* The JSON-schema name of a value's type. */
static const char *type_name(json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "object";
    case JSON_ARRAY:
        return "array";
    case JSON_STRING:
        return "string";
    case JSON_INTEGER:
        return "integer";
    case JSON_REAL:
        return "number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "boolean";
    default:
        return "null";
    }
}

static int wrong_type(em_call *c, json_t *v, const char *want)
{
    return invalid(c, WRONG_TYPE, type_name(v), want);
}

/* Checks an object against its required and allowed members (both sorted
 * by name); the schema validator lists every offender, sorted. */
static int check_members(em_call *c, json_t *o, const char *const *required, const char *const *allowed)
{
    if (!json_is_object(o))
        return wrong_type(c, o, "object");
    char list[400];
    size_t used = 0;
    list[0] = '\0';
    for (size_t i = 0; required[i]; i++)
        if (!json_object_get(o, required[i]) && used < sizeof list)
            used += (size_t)snprintf(list + used, sizeof list - used, "%s\"%s\"", used ? ", " : "", required[i]);
    if (used)
        return invalid(c, MISSING, list);

    /* Unknown members, sorted by name. */
    const char *key;
    json_t *v;
    const char *unknown[64];
    size_t n = 0;
    json_object_foreach(o, key, v) {
        bool known = false;
        for (size_t i = 0; allowed[i] && !known; i++)
            known = strcmp(allowed[i], key) == 0;
        if (known || n == 64)
            continue;
        size_t at = n++;
        while (at > 0 && strcmp(unknown[at - 1], key) > 0) {
            unknown[at] = unknown[at - 1];
            at--;
        }
        unknown[at] = key;
    }
    for (size_t i = 0; i < n && used < sizeof list; i++)
        used += (size_t)snprintf(list + used, sizeof list - used, "%s\"%.100s\"", i ? ", " : "", unknown[i]);
    if (n)
        return invalid(c, NOT_ALLOWED, list);
    return 0;
}

/* A string member with a fixed set of values (enum_text as the validator
 * prints it).  Returns the value's index, or -1 with the error set. */
static int check_enum(em_call *c, json_t *v, const char *const *values, const char *enum_text)
{
    if (!json_is_string(v))
        return wrong_type(c, v, "string");
    for (int i = 0; values[i]; i++)
        if (strcmp(values[i], json_string_value(v)) == 0)
            return i;
    invalid(c, ENUM, json_string_value(v), enum_text);
    return -1;
}

static int check_min1(em_call *c, json_t *v, int64_t *out)
{
    if (!json_is_integer(v))
        return wrong_type(c, v, "integer");
    if (json_integer_value(v) < 1)
        return invalid(c, MINIMUM, (long long)json_integer_value(v));
    *out = (int64_t)json_integer_value(v);
    return 0;
}

/* tagPrefixList / tagPatternList: a non-empty list of strings. */
static int check_tag_list(em_call *c, json_t *list, bool patterns)
{
    if (!json_is_array(list))
        return wrong_type(c, list, "array");
    if (json_array_size(list) == 0)
        return invalid(c, EMPTY_ARRAY);
    size_t i;
    json_t *s;
    json_array_foreach(list, i, s) {
        if (!json_is_string(s))
            return wrong_type(c, s, "string");
        size_t stars = 0;
        for (const char *p = json_string_value(s); *p; p++)
            stars += *p == '*';
        if (patterns && stars > MAX_WILDCARDS)
            return invalid(c, WILDCARDS, MAX_WILDCARDS, json_string_value(s));
    }
    return 0;
}

static const char *const RULE_REQUIRED[] = {"action", "rulePriority", "selection", NULL};

static const char *const RULE_ALLOWED[] = {"action", "description", "rulePriority", "selection", NULL};

static const char *const SELECTION_REQUIRED[] = {"countNumber", "countType", "tagStatus", NULL};

static const char *const SELECTION_ALLOWED[] = {"countNumber", "countType", "countUnit", "storageClass",
                                                "tagPatternList", "tagPrefixList", "tagStatus", NULL};

static const char *const ACTION_REQUIRED[] = {"type", NULL};

static const char *const ACTION_ALLOWED[] = {"targetStorageClass", "type", NULL};

static const char *const TOP_REQUIRED[] = {"rules", NULL};

static const char *const TAG_STATUS[] = {"tagged", "untagged", "any", NULL};

static const char *const ACTION_TYPES[] = {"expire", "transition", NULL};

static const char *const COUNT_TYPES[] = {"imageCountMoreThan", "sinceImagePushed", "sinceImagePulled",
                                          "sinceImageTransitioned", NULL};

static const char *const COUNT_UNITS[] = {"days", NULL};

static const char *const STORAGE_CLASSES[] = {"standard", "archive", NULL};

static const char *const TARGET_STORAGE_CLASSES[] = {"archive", NULL};

/* ECR keeps an archived image at least this long: a rule may not expire
 * one sooner (user guide, "Examples of lifecycle policies"). */
#define MIN_ARCHIVE_DAYS 90

static int check_rule(em_call *c, json_t *r, em_lc_rule *out)
{
    if (check_members(c, r, RULE_REQUIRED, RULE_ALLOWED) < 0 ||
        check_min1(c, json_object_get(r, "rulePriority"), &out->priority) < 0)
        return -1;
    json_t *desc = json_object_get(r, "description");
    if (desc && !json_is_string(desc))
        return wrong_type(c, desc, "string");

    json_t *sel = json_object_get(r, "selection");
    if (check_members(c, sel, SELECTION_REQUIRED, SELECTION_ALLOWED) < 0)
        return -1;
    int ts = check_enum(c, json_object_get(sel, "tagStatus"), TAG_STATUS, "[\"any\", \"tagged\", \"untagged\"]");
    if (ts < 0)
        return -1;
    out->status = (em_lc_tag_status)ts;
    /* The schema's selection is one of two shapes, a count and an age: a
     * countType of neither, or a countUnit on the wrong one, fits none. */
    json_t *type = json_object_get(sel, "countType"), *unit = json_object_get(sel, "countUnit");
    int ct = -1;
    for (int i = 0; json_is_string(type) && COUNT_TYPES[i]; i++)
        if (strcmp(COUNT_TYPES[i], json_string_value(type)) == 0)
            ct = i;
    if (ct < 0 || (ct == EM_LC_CT_COUNT) != !unit)
        return invalid(c, ONE_SCHEMA);
    out->type = (em_lc_count_type)ct;
    if (unit && check_enum(c, unit, COUNT_UNITS, "[\"days\"]") < 0)
        return -1;
    json_t *storage = json_object_get(sel, "storageClass");
    int sc = storage ? check_enum(c, storage, STORAGE_CLASSES, "[\"archive\", \"standard\"]") : 0;
    if (sc < 0)
        return -1;
    out->archive = sc == 1;
    if (check_min1(c, json_object_get(sel, "countNumber"), &out->count) < 0)
        return -1;
    out->prefixes = json_object_get(sel, "tagPrefixList");
    out->patterns = json_object_get(sel, "tagPatternList");
    if ((out->prefixes && check_tag_list(c, out->prefixes, false) < 0) ||
        (out->patterns && check_tag_list(c, out->patterns, true) < 0))
        return -1;

    /* The action is one of two shapes too: {"type": "expire"}, and
     * {"type": "transition", "targetStorageClass": "archive"}. */
    json_t *action = json_object_get(r, "action");
    if (check_members(c, action, ACTION_REQUIRED, ACTION_ALLOWED) < 0)
        return -1;
    int at = check_enum(c, json_object_get(action, "type"), ACTION_TYPES, "[\"expire\", \"transition\"]");
    if (at < 0)
        return -1;
    out->transition = at == 1;
    json_t *target = json_object_get(action, "targetStorageClass");
    if (out->transition != (target != NULL))
        return invalid(c, ONE_SCHEMA);
    if (target && check_enum(c, target, TARGET_STORAGE_CLASSES, "[\"archive\"]") < 0)
        return -1;

    /* What the schema cannot say. */
    if (out->status == EM_LC_TS_TAGGED && !out->prefixes && !out->patterns)
        return invalid(c, TAGGED_NEEDS_LIST);
    if (out->prefixes && out->patterns)
        return invalid(c, ONE_LIST);
    if (out->status != EM_LC_TS_TAGGED && (out->prefixes || out->patterns))
        return invalid(c, LIST_ONLY_TAGGED);
    /* The storage classes, count types and actions that go together (the
     * user guide's "Lifecycle policy properties"; ECR's sentences for these
     * are not public: these are ecrmock's, in the style of the above). */
    if (out->type == EM_LC_CT_TRANSITIONED && !out->archive)
        return invalid(c, TRANSITIONED_NEEDS_ARCHIVE);
    if (out->type != EM_LC_CT_TRANSITIONED && out->archive)
        return invalid(c, ARCHIVE_ONLY_TRANSITIONED);
    if (out->type == EM_LC_CT_PULLED && !out->transition)
        return invalid(c, PULLED_ONLY_TRANSITION);
    if (out->type == EM_LC_CT_TRANSITIONED && out->transition)
        return invalid(c, TRANSITIONED_ONLY_EXPIRE);
    if (out->type == EM_LC_CT_TRANSITIONED && out->count < MIN_ARCHIVE_DAYS)
        return invalid(c, ARCHIVE_DAYS, MIN_ARCHIVE_DAYS, (long long)out->count);
    return 0;
}

static int rule_cmp(const void *a, const void *b)
{
    int64_t x = ((const em_lc_rule *)a)->priority, y = ((const em_lc_rule *)b)->priority;
    return (x > y) - (x < y);
}

/* Parses and checks `text`; 0 and *p filled (release it), or -1 with the
 * call's error set and *p empty. */
int em_lc_policy_parse(em_call *c, const char *text, em_lc_policy *p)
{
    memset(p, 0, sizeof *p);
    json_error_t jerr;
    p->doc = json_loads(text, JSON_DECODE_ANY, &jerr);
    if (!p->doc && json_error_code(&jerr) == json_error_out_of_memory)
        return em_fail_nomem(c);
    if (!json_is_object(p->doc)) {
        em_lc_policy_release(p);
        return invalid(c, NOT_AN_OBJECT);
    }
    json_t *rules = json_object_get(p->doc, "rules");
    int rc = check_members(c, p->doc, TOP_REQUIRED, TOP_REQUIRED);
    if (rc == 0 && !json_is_array(rules))
        rc = wrong_type(c, rules, "array");
    if (rc == 0 && json_array_size(rules) == 0)
        rc = invalid(c, EMPTY_ARRAY);
    if (rc == 0 && !(p->rules = em_calloc(json_array_size(rules), sizeof *p->rules)))
        rc = em_fail_nomem(c);
    for (size_t i = 0; rc == 0 && i < json_array_size(rules); i++, p->n++)
        rc = check_rule(c, json_array_get(rules, i), &p->rules[i]);
    if (rc == 0) {
        qsort(p->rules, p->n, sizeof *p->rules, rule_cmp);
        /* Untagged and any rules count per storage class: the rules of the
         * standard class and those of the archive class are two sets. */
        size_t untagged[2] = {0, 0};
        bool any_seen[2] = {false, false};
        for (size_t i = 0; rc == 0 && i < p->n; i++) {
            const em_lc_rule *r = &p->rules[i];
            if (i > 0 && r->priority == p->rules[i - 1].priority)
                rc = invalid(c, PRIORITY_TWICE, (long long)r->priority);
            else if (r->status == EM_LC_TS_UNTAGGED && ++untagged[r->archive] > 1)
                rc = invalid(c, UNTAGGED_TWICE);
            else if (any_seen[r->archive])
                rc = invalid(c, ANY_LAST);
            any_seen[r->archive] = any_seen[r->archive] || r->status == EM_LC_TS_ANY;
        }
    }
    if (rc < 0)
        em_lc_policy_release(p);
    return rc;
}

int em_lifecycle_policy_check(em_call *c, const char *text)
{
    em_lc_policy p;
    if (em_lc_policy_parse(c, text, &p) < 0)
        return -1;
    em_lc_policy_release(&p);
    return 0;
}
