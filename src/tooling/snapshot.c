/*
 * ecrmock_snapshot: every region's state written in the fixture format
 * (fixtures/README.md), which ecrmock_fixture_load reads back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tooling.h"

/* ---- snapshots -------------------------------------------------------------------------- */

/* Sets o[key] to `v` (a new reference) when it is a non-empty array or
 * object; drops it otherwise.  -1 only when `v` is NULL (no memory). */
static int set_if_any(json_t *o, const char *key, json_t *v)
{
    if (!v)
        return -1;
    if ((json_is_array(v) && json_array_size(v) == 0) || (json_is_object(v) && json_object_size(v) == 0)) {
        json_decref(v);
        return 0;
    }
    return em_set(o, key, v);
}

/* An image's storage class, when it ever left the standard one: imageStatus,
 * lastArchivedAt, and lastActivatedAt (when its latest restore completed,
 * or, ACTIVATING, will complete).  0, or -1: no memory. */
static int snapshot_storage(ecrmock *m, const em_image *img, json_t *item)
{
    if (!img->archived && !img->archived_at_ms && !img->activated_at_ms)
        return 0;
    if (em_set(item, "imageStatus", json_string(em_image_status(m, img))) < 0 ||
        (img->archived_at_ms && em_set(item, "lastArchivedAt", em_time(img->archived_at_ms)) < 0) ||
        (img->activated_at_ms && em_set(item, "lastActivatedAt", em_time(img->activated_at_ms)) < 0))
        return -1;
    return 0;
}

/* A layer's content member: its bytes ("base64"), or for a declared layer
 * its size ("declaredSize"): 0, or -1 (no memory). */
static int layer_content(json_t *item, const em_blob *b)
{
    if (em_blob_declared(b))
        return em_set(item, "declaredSize", json_integer((json_int_t)b->len));
    char *b64 = em_base64(b->data ? (const void *)b->data : "", b->len, NULL);
    int rc = b64 ? em_set(item, "base64", json_string(b64)) : -1;
    em_free(b64);
    return rc;
}

static json_t *snapshot_repo(ecrmock *m, em_repo *repo)
{
    json_t *r = em_repo_json(NULL, repo);
    if (!r)
        return NULL;
    /* The fixture names: the repository's own fields, without derived ones. */
    json_object_del(r, "repositoryArn");
    json_object_del(r, "registryId");
    json_object_del(r, "repositoryUri");
    json_t *name = json_object_get(r, "repositoryName");
    json_t *o = json_pack("{s:O}", "name", name);
    json_object_del(r, "repositoryName");
    if (!o || json_object_update(o, r) < 0 || em_set(o, "tags", json_deep_copy(repo->tags)) < 0 ||
        (repo->policy && em_set(o, "policy", json_string(repo->policy)) < 0) ||
        (repo->lifecycle_policy && em_set(o, "lifecyclePolicy", json_string(repo->lifecycle_policy)) < 0) ||
        em_set(o, "layers", json_array()) < 0 || em_set(o, "images", json_array()) < 0) {
        json_decref(r);
        json_decref(o);
        return NULL;
    }
    json_decref(r);
    json_t *layers = json_object_get(o, "layers"), *images = json_object_get(o, "images");
    for (const em_layer *l = repo->layers; l; l = l->next) {
        /* not json_pack's "s*", which leaves a member out when making it ran out of memory */
        json_t *item = json_pack("{s:s}", "digest", l->blob->digest);
        if (item && ((l->media_type && em_set(item, "mediaType", json_string(l->media_type)) < 0) ||
                     layer_content(item, l->blob) < 0)) {
            json_decref(item);
            item = NULL;
        }
        if (json_array_append_new(layers, item) < 0)
            goto fail;
    }
    for (size_t i = 0; i < repo->order.n; i++) {
        em_image *img = repo->order.v[i].item;
        if (!img)
            continue;
        json_t *tags = em_image_tags_json(img);
        json_t *item = tags ? json_pack("{s:s, s:s%, s:s, s:o, s:o}", "digest", img->digest, "manifest", img->manifest,
                                        img->manifest_len, "mediaType", img->media_type, "tags", tags, "pushedAt",
                                        em_time(img->pushed_at_ms))
                            : NULL;
        if (item && ((img->pulled_at_ms && em_set(item, "lastRecordedPullTime", em_time(img->pulled_at_ms)) < 0) ||
                     (img->signing && set_if_any(item, "signingProfileArns", json_deep_copy(img->signing)) < 0) ||
                     (img->replication && set_if_any(item, "replicationStatuses", json_deep_copy(img->replication)) < 0) ||
                     snapshot_storage(m, img, item) < 0)) {
            json_decref(item);
            item = NULL;
        }
        if (json_array_append_new(images, item) < 0)
            goto fail;
    }
    return o;
fail:
    json_decref(o);
    return NULL;
}

/* The principals of the registry's pull time update exclusions, in
 * registration order (a new reference; NULL: no memory). */
static json_t *exclusions_json(const em_registry *r)
{
    json_t *list = json_array();
    for (size_t i = 0; list && i < r->n_exclusions; i++) {
        if (json_array_append_new(list, json_string(r->exclusions[i].principal)) < 0) {
            json_decref(list);
            list = NULL;
        }
    }
    return list;
}

/* One registry in the fixture format (a new reference; NULL: no memory).
 * The scanning configuration is the instance's, shown on the caller's
 * registry of the instance's own region (`with_scan`). */
static json_t *snapshot_registry(ecrmock *m, em_registry *r, bool with_scan)
{
    json_t *repos = json_array();
    json_t *reg = repos ? json_pack("{s:s, s:o}", "id", r->id, "repositories", repos) : NULL;
    if (!reg)
        return NULL;
    for (size_t i = 0; i < r->order.n; i++) {
        em_repo *repo = r->order.v[i].item;
        if (repo && json_array_append_new(repos, snapshot_repo(m, repo)) < 0)
            goto fail;
    }
    if ((r->policy && em_set(reg, "policy", json_string(r->policy)) < 0) ||
        (r->replication && em_set(reg, "replicationConfiguration", json_deep_copy(r->replication)) < 0) ||
        (with_scan && m->scan_config && em_set(reg, "scanningConfiguration", json_deep_copy(m->scan_config)) < 0) ||
        (r->account_settings && set_if_any(reg, "accountSettings", json_deep_copy(r->account_settings)) < 0) ||
        (r->signing_config && em_set(reg, "signingConfiguration", json_deep_copy(r->signing_config)) < 0) ||
        (r->n_exclusions && em_set(reg, "pullTimeUpdateExclusions", exclusions_json(r)) < 0) ||
        (r->ptc && set_if_any(reg, "pullThroughCacheRules", em_ptc_rules_json(r)) < 0) ||
        (r->templates && set_if_any(reg, "repositoryCreationTemplates", em_templates_json(r)) < 0))
        goto fail;
    return reg;
fail:
    json_decref(reg); /* and repos, which it holds */
    return NULL;
}

/* The registries of one region, from `head` on (a new reference; NULL: no
 * memory).  `home`: the instance's own region. */
static json_t *snapshot_registries(ecrmock *m, em_registry *head, bool home)
{
    json_t *regs = json_array();
    em_registry *r, *tmp;
    HASH_ITER(hh, head, r, tmp) {
        if (regs && json_array_append_new(regs, snapshot_registry(m, r, home && strcmp(r->id, m->opts.account_id) == 0)) < 0) {
            json_decref(regs);
            regs = NULL;
        }
    }
    return regs;
}

/* The regions other than the instance's own that hold a registry, by name:
 * [{"name", "registries"}] (a new reference; NULL: no memory). */
static json_t *snapshot_regions(ecrmock *m)
{
    const char **names;
    size_t n;
    json_t *regions = em_region_names(m, &names, &n) == 0 ? json_array() : NULL;
    for (size_t i = 0; regions && i < n; i++) {
        if (strcmp(names[i], m->opts.region) == 0)
            continue;
        json_t *regs = snapshot_registries(m, em_region_registries(m, names[i]), false);
        if (json_array_append_new(regions, regs ? json_pack("{s:s, s:o}", "name", names[i], "registries", regs) : NULL) < 0) {
            json_decref(regions);
            regions = NULL;
        }
    }
    em_free(names);
    return regions;
}

json_t *ecrmock_snapshot(ecrmock *m, ecrmock_err *err)
{
    em_err_clear(err);
    if (!m) {
        em_err_arg(err, "no instance (m is NULL)");
        return NULL;
    }
    em_lock(m);
    /* The instance's own region first, whatever view a hook runs in. */
    json_t *snap = json_object();
    if (snap && (em_set(snap, "clock", em_time(m->clock_ms)) < 0 ||
                 em_set(snap, "registries",
                        snapshot_registries(m, em_region_registries(m, m->opts.region), true)) < 0 ||
                 set_if_any(snap, "regions", snapshot_regions(m)) < 0)) {
        json_decref(snap);
        snap = NULL;
    }
    em_unlock(m);
    if (!snap)
        em_err_nomem(err);
    return snap;
}
