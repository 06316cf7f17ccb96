/*
 * An image's storage class on the virtual clock: its status, whether it is
 * active, archiving, restoring and reactivation, and its storage JSON.
 */
#include <stdio.h>
#include <string.h>

#include "store/store.h"

const char *em_image_status(ecrmock *m, const em_image *img)
{
    if (img->archived)
        return "ARCHIVED";
    return img->activated_at_ms > m->clock_ms ? "ACTIVATING" : "ACTIVE";
}

bool em_image_active(ecrmock *m, const em_image *img)
{
    return !img->archived && img->activated_at_ms <= m->clock_ms;
}

void em_image_reactivate(ecrmock *m, em_repo *repo, em_image *img)
{
    for (size_t k = 0; k < img->n_children; k++) {
        em_image *child = em_image_get(repo, img->children[k]);
        if (child && !em_image_active(m, child)) {
            child->archived = false;
            child->activated_at_ms = m->clock_ms;
        }
    }
    img->archived = false;
    img->activated_at_ms = m->clock_ms;
}

int em_image_storage_json(ecrmock *m, const em_image *img, json_t *detail)
{
    if (img->archived_at_ms && em_set(detail, "lastArchivedAt", em_time(img->archived_at_ms)) < 0)
        return -1;
    /* A restore still under way has not activated the image yet. */
    if (img->activated_at_ms && img->activated_at_ms <= m->clock_ms &&
        em_set(detail, "lastActivatedAt", em_time(img->activated_at_ms)) < 0)
        return -1;
    return 0;
}

/* Whether a list of the repository other than `except` references `img`
 * and stays in the standard class. */
static bool held_by_active_list(ecrmock *m, em_repo *repo, em_image *img, em_image *except)
{
    for (size_t i = 0; img->parents && i < repo->order.n; i++) {
        em_image *p = repo->order.v[i].item;
        if (!p || p == except || !em_image_active(m, p))
            continue;
        for (size_t k = 0; k < p->n_children; k++)
            if (strcmp(p->children[k], img->digest) == 0)
                return true;
    }
    return false;
}

static void archive(ecrmock *m, em_image *img)
{
    if (img->archived)
        return;
    img->archived = true;
    img->archived_at_ms = m->clock_ms;
}

void em_image_archive(ecrmock *m, em_repo *repo, em_image *img)
{
    for (size_t k = 0; k < img->n_children; k++) {
        em_image *child = em_image_get(repo, img->children[k]);
        if (child && !held_by_active_list(m, repo, child, img))
            archive(m, child);
    }
    archive(m, img);
}

static void restore(ecrmock *m, em_image *img)
{
    if (!img->archived)
        return;
    img->archived = false;
    img->activated_at_ms = m->clock_ms + EM_RESTORE_MS;
}

void em_image_restore(ecrmock *m, em_repo *repo, em_image *img)
{
    for (size_t k = 0; k < img->n_children; k++) {
        em_image *child = em_image_get(repo, img->children[k]);
        if (child)
            restore(m, child);
    }
    restore(m, img);
}
