/*
 * Regions.  One instance holds every region's registries.  The current view
 * (m->account, m->region, m->registries) is what actions see; the registries
 * of the other regions wait in m->regions, a hash by region name, and
 * entering a view swaps two pointers, so no lookup of the core changes or
 * slows down.  Tests reach another region, or act as another account, with
 * ecrmock_call_as(); replication enters the destination's view to write.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"

struct em_region {
    char name[64];
    em_registry *registries;
    UT_hash_handle hh;
};

/* ---- views ------------------------------------------------------------------ */

static em_region *region_get(ecrmock *m, const char *name)
{
    em_region *r = NULL;
    HASH_FIND_STR(m->regions, name, r);
    return r;
}

static em_region *region_ensure(ecrmock *m, const char *name)
{
    em_region *r = region_get(m, name);
    if (r)
        return r;
    r = em_calloc(1, sizeof *r);
    if (!r)
        return NULL;
    snprintf(r->name, sizeof r->name, "%s", name);
    int oom = 0;
    HASH_ADD_STR(m->regions, name, r);
    if (oom) {
        em_free(r);
        return NULL;
    }
    return r;
}

bool em_region_exists(ecrmock *m, const char *name)
{
    return strcmp(name, m->region) == 0 || region_get(m, name) != NULL;
}

int em_view_enter(ecrmock *m, const char *account, const char *region, em_view *saved)
{
    snprintf(saved->region, sizeof saved->region, "%s", m->region);
    snprintf(saved->account, sizeof saved->account, "%s", m->account);
    saved->moved = false;
    if (region && strcmp(region, m->region) != 0) {
        em_region *here = region_ensure(m, m->region);
        em_region *there = here ? region_ensure(m, region) : NULL;
        if (!there)
            return -1; /* an empty entry may stay: it holds nothing */
        here->registries = m->registries;
        m->registries = there->registries;
        there->registries = NULL;
        snprintf(m->region, sizeof m->region, "%s", region);
        saved->moved = true;
    }
    if (account)
        snprintf(m->account, sizeof m->account, "%s", account);
    return 0;
}

void em_view_leave(ecrmock *m, const em_view *saved)
{
    if (saved->moved) {
        em_region *there = region_get(m, m->region), *here = region_get(m, saved->region);
        if (there && here) {
            there->registries = m->registries;
            m->registries = here->registries;
            here->registries = NULL;
        } else {
            /* ecrmock_reset() ran inside the view (from a hook): whatever
             * was made since belongs to no region any more. */
            em_registries_free(m);
        }
        snprintf(m->region, sizeof m->region, "%s", saved->region);
    }
    snprintf(m->account, sizeof m->account, "%s", saved->account);
}

void em_regions_free(ecrmock *m)
{
    em_registry *current = m->registries;
    em_region *r, *tmp;
    HASH_ITER(hh, m->regions, r, tmp) {
        m->registries = r->registries;
        em_registries_free(m);
        HASH_DEL(m->regions, r);
        em_free(r);
    }
    m->registries = current;
}

em_registry *em_region_registries(ecrmock *m, const char *name)
{
    if (strcmp(name, m->region) == 0)
        return m->registries;
    em_region *r = region_get(m, name);
    return r ? r->registries : NULL;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int em_region_names(ecrmock *m, const char ***names, size_t *n)
{
    *n = 0;
    *names = em_malloc((HASH_COUNT(m->regions) + 1) * sizeof **names);
    if (!*names)
        return -1;
    if (m->registries)
        (*names)[(*n)++] = m->region;
    em_region *r, *tmp;
    HASH_ITER(hh, m->regions, r, tmp) {
        if (r->registries && strcmp(r->name, m->region) != 0)
            (*names)[(*n)++] = r->name;
    }
    qsort(*names, *n, sizeof **names, name_cmp);
    return 0;
}

int em_view_mirror(ecrmock *s, const ecrmock *m)
{
    em_view ignored;
    if (em_view_enter(s, NULL, m->region, &ignored) < 0)
        return -1;
    const em_region *r, *tmp;
    HASH_ITER(hh, m->regions, r, tmp) {
        if (!region_ensure(s, r->name))
            return -1;
    }
    return 0;
}

int em_regions_each(const ecrmock *s, int (*fn)(void *ctx, const char *name, const em_registry *registries),
                    void *ctx)
{
    const em_region *r, *tmp;
    HASH_ITER(hh, s->regions, r, tmp) {
        if (fn(ctx, r->name, r->registries) < 0)
            return -1;
    }
    return 0;
}

em_registry **em_region_slot(ecrmock *m, const char *name)
{
    em_region *r = region_ensure(m, name);
    return r ? &r->registries : NULL;
}
