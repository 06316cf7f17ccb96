/*
 * The action table (name, handler, input shape), sorted by name, and the
 * area table: what each area of ECR frees or resets when the instance, a
 * registry or a repository goes (the store and ecrmock.c call these hooks,
 * never an area by name).
 */
#include <stdlib.h>
#include <string.h>

#include "areas/areas.h"

/* Sorted by name (tests/unit/test_model.c checks it, and that each is in the model). */
#define EM_ACTION_ROW(name) {#name, em_##name, EM_SHAPE_##name##Request},

const em_action em_actions[] = {EM_ACTION_LIST(EM_ACTION_ROW)};

const size_t em_action_count = sizeof em_actions / sizeof em_actions[0];

static int action_cmp(const void *key, const void *elem)
{
    return strcmp(key, ((const em_action *)elem)->name);
}

const em_action *em_action_find(const char *name)
{
    return bsearch(name, em_actions, em_action_count, sizeof em_actions[0], action_cmp);
}

/* The hot actions' tree-free forms, by handler. */
static const struct {
    em_handler handler;
    em_fast_handler fast;
} fast_forms[] = {
    {em_PutImage, em_fast_PutImage},
    {em_BatchGetImage, em_fast_BatchGetImage},
    {em_DescribeRepositories, em_fast_DescribeRepositories},
    {em_DescribeImages, em_fast_DescribeImages},
    {em_ListImages, em_fast_ListImages},
    {em_BatchCheckLayerAvailability, em_fast_BatchCheckLayerAvailability},
};

em_fast_handler em_fast_form(const em_action *a)
{
    for (size_t i = 0; a && i < sizeof fast_forms / sizeof fast_forms[0]; i++)
        if (fast_forms[i].handler == a->handler)
            return fast_forms[i].fast;
    return NULL;
}

/* Ended by a row without a name. */
const em_area em_areas[] = {
    {"creation_templates", .registry_free = em_templates_free, .registry_copy = em_templates_copy},
    {"lifecycle", .repo_free = em_lifecycle_free, .repo_copy = em_lifecycle_copy},
    {"pull_through_cache", .registry_free = em_ptc_rules_free, .reset = em_secrets_free,
     .registry_copy = em_ptc_rules_copy},
    {"scanning", .reset = em_scanning_reset},
    {0},
};
