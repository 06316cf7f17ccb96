/*
 * Storage classes: UpdateImageStorageClass, and the image status every
 * image listing reports.
 *
 * An image is in the standard storage class (ACTIVE) or the archival one
 * (ARCHIVED).  Archiving is immediate.  Restoring takes time, as in ECR
 * ("typically up to 20 minutes"): the image is ACTIVATING for EM_RESTORE_MS of
 * virtual time, then ACTIVE, and lastActivatedAt is when the restore
 * completed.  Nothing runs in the background: the status is computed from
 * the clock whenever it is read.  Archived and restoring images cannot be
 * pulled (BatchGetImage answers ImageInaccessible) but are listed and
 * described with an imageStatus filter; pushing an archived image again
 * restores it at once.
 *
 * A manifest list (image index) moves with the images it references: they
 * go to the archive with it, unless another list that stays active still
 * references them, and come back with it.  Such an image cannot be moved on
 * its own while a list references it (the list would point at an image that
 * cannot be pulled): ImageStorageClassUpdateNotSupportedException.  The same
 * exception refuses archiving an image whose restore is under way.  Asking
 * for the class an image is already in (or going to) changes nothing.
 */
#include <string.h>

#include "areas/areas.h"

int em_UpdateImageStorageClass(em_call *c)
{
    em_repo *repo;
    em_image *img = em_request_image(c, &repo);
    if (!img)
        return -1;
    json_t *id = json_object_get(c->req, "imageId");
    bool to_archive = strcmp(em_get_str(c->req, "targetStorageClass"), "ARCHIVE") == 0;
    /* Any list still referencing it, archived or not, moves it instead. */
    size_t pos = 0;
    em_image *p = em_next_parent(repo, img, &pos);
    if (p)
        return em_fail_text(c, EM_MSG_STORAGE_CLASS_LIST_CHILD, img->digest, p->digest, repo->name, repo->registry->id);
    if (to_archive && !img->archived && !em_image_active(c->m, img))
        return em_fail_text(c, EM_MSG_STORAGE_CLASS_RESTORING, img->digest, repo->name, repo->registry->id);


    /* The answer first (it may run out of memory), then the move, which cannot fail. */
    const char *tag = em_get_str(id, "imageTag");
    const char *after = to_archive ? "ARCHIVED" : img->archived ? "ACTIVATING" : em_image_status(c->m, img);
    if (em_set(c->out, "registryId", json_string(repo->registry->id)) < 0 ||
        em_set(c->out, "repositoryName", json_string(repo->name)) < 0 ||
        em_set(c->out, "imageId", em_image_id_json(img->digest, tag)) < 0 ||
        em_set(c->out, "imageStatus", json_string(after)) < 0)
        return em_fail_nomem(c);
    if (to_archive)
        em_image_archive(c->m, repo, img);
    else
        em_image_restore(c->m, repo, img);
    return 0;
}
