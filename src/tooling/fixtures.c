/*
 * Fixtures: a registry described as JSON, loaded in one call (the instance's
 * state dumped in the same format: snapshot.c).
 *
 * A fixture is built in a scratch instance with the same options, through
 * the same actions a client would call (CreateRepository, SetRepositoryPolicy,
 * PutImage: an image through PutImage's own em_image_push, without a request
 * and an answer of its own, fixture_images.c), so it passes ECR's own rules;
 * only then is the scratch state swapped in.  A fixture that breaks a rule is refused whole, its error
 * naming the source, the JSON path and the rule, and the instance is left
 * as it was.  fixtures/README.md documents the format.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tooling.h"

/* ---- storage classes -------------------------------------------------------------------- */

/* One UpdateImageStorageClass (or re-push) the storage state of an image
 * needs, at its time. */
typedef struct storage_step {
    int64_t at;
    size_t image, order;
    enum { STEP_ARCHIVE, STEP_RESTORE, STEP_REPUSH } kind;
} storage_step;

static void add_step(storage_step *steps, size_t *n, int64_t at, size_t image, int kind)
{
    steps[*n] = (storage_step){at, image, *n, kind};
    ++*n;
}

static int step_cmp(const void *a, const void *b)
{
    const storage_step *x = a, *y = b;
    if (x->at != y->at)
        return x->at < y->at ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

/* What an image's storage members ask for: imageStatus (default ACTIVE),
 * lastArchivedAt and lastActivatedAt (0: absent).  0: none given; 1: read;
 * -1: refused. */
static int storage_target(em_loader *ld, json_t *img, const char **status, int64_t *archived, int64_t *activated)
{
    json_t *st = json_object_get(img, "imageStatus");
    *status = "ACTIVE";
    *archived = *activated = 0;
    if (!st && !json_object_get(img, "lastArchivedAt") && !json_object_get(img, "lastActivatedAt"))
        return 0;
    if (st) /* one of the schema's */
        *status = json_string_value(st);
    if (em_fx_parse_time(ld, img, "lastArchivedAt", archived) < 0 || em_fx_parse_time(ld, img, "lastActivatedAt", activated) < 0)
        return -1;
    if (strcmp(*status, "ARCHIVED") == 0 && !*archived)
        *archived = ld->s->clock_ms;
    return 1;
}

/*
 * The images' storage classes, through UpdateImageStorageClass, as a client
 * would have moved them, every call at the time the state says:
 *   - lastActivatedAt V: the latest restore was asked for at V - 20 minutes,
 *     after an archive (at lastArchivedAt when the image is not archived
 *     now and that came first); when lastArchivedAt falls inside those 20
 *     minutes, the image was pushed again at V (which restores at once);
 *   - ARCHIVED: archived at lastArchivedAt (default: the clock).
 * The calls of every image run in time order.  An image a manifest list
 * references moves with the list (ECR refuses to move it alone): it makes
 * no call of its own.  Last, each image's state must be the one asked for:
 * a state no calls reach is refused.
 */
static int load_storage(em_loader *ld, em_repo *repo, json_t *images, char (*digests)[ECRMOCK_DIGEST_SIZE])
{
    size_t n = json_array_size(images), n_steps = 0;
    storage_step *steps = n ? em_calloc(3 * n, sizeof *steps) : NULL;
    if (n && !steps)
        return em_fx_nomem(ld);
    int rc = 0;
    size_t p = em_fx_push_key(ld, "images");
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const char *status;
        int64_t a, v;
        size_t k = em_fx_push_index(ld, i);
        int got = storage_target(ld, json_array_get(images, i), &status, &a, &v);
        em_fx_pop(ld, k);
        if (got < 0)
            rc = -1;
        em_image *img = got > 0 ? em_image_get(repo, digests[i]) : NULL;
        if (!img || img->parents)
            continue;
        bool archived_now = strcmp(status, "ARCHIVED") == 0;
        if (v) {
            int64_t asked = v - EM_RESTORE_MS;
            if (!archived_now && a && a > asked && a <= v) {
                add_step(steps, &n_steps, a, i, STEP_ARCHIVE);
                add_step(steps, &n_steps, v, i, STEP_REPUSH);
            } else {
                add_step(steps, &n_steps, !archived_now && a ? a : asked, i, STEP_ARCHIVE);
                add_step(steps, &n_steps, asked, i, STEP_RESTORE);
            }
        }
        if (archived_now || (a && !v))
            add_step(steps, &n_steps, a, i, STEP_ARCHIVE);
    }
    if (n_steps)
        qsort(steps, n_steps, sizeof *steps, step_cmp);
    for (size_t s = 0; rc == 0 && s < n_steps; s++) {
        em_image *img = em_image_get(repo, digests[steps[s].image]);
        json_t *req = steps[s].kind == STEP_REPUSH
                          ? json_pack("{s:s, s:s, s:s%, s:s}", "registryId", repo->registry->id, "repositoryName",
                                      repo->name, "imageManifest", img->manifest, img->manifest_len,
                                      "imageManifestMediaType", img->media_type)
                          : json_pack("{s:s, s:s, s:{s:s}, s:s}", "registryId", repo->registry->id, "repositoryName",
                                      repo->name, "imageId", "imageDigest", img->digest, "targetStorageClass",
                                      steps[s].kind == STEP_ARCHIVE ? "ARCHIVE" : "STANDARD");
        size_t k = em_fx_push_index(ld, steps[s].image);
        rc = em_fx_act_at(ld, steps[s].at, steps[s].kind == STEP_REPUSH ? "PutImage" : "UpdateImageStorageClass", req, NULL,
                    NULL);
        em_fx_pop(ld, k);
    }
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const char *status;
        int64_t a, v;
        if (storage_target(ld, json_array_get(images, i), &status, &a, &v) <= 0)
            continue;
        em_image *img = em_image_get(repo, digests[i]);
        const char *got = img ? em_image_status(ld->s, img) : "no image";
        if (!img || strcmp(got, status) != 0 || img->archived_at_ms != a || img->activated_at_ms != v) {
            size_t k = em_fx_push_index(ld, i);
            rc = em_fx_refuse(ld, "imageStatus %s, lastArchivedAt and lastActivatedAt: no UpdateImageStorageClass calls "
                            "reach this state (they give %s)",
                        status, got);
            em_fx_pop(ld, k);
        }
    }
    if (rc == 0)
        em_fx_pop(ld, p);
    em_free(steps);
    return rc;
}

/* ---- repositories and registries ------------------------------------------------------ */

static int load_repository(em_loader *ld, const char *registry_id, json_t *r)
{
    json_t *req = json_pack("{s:s, s:O}", "registryId", registry_id, "repositoryName", json_object_get(r, "name"));
    static const char *const settings[] = {"imageTagMutability", "imageTagMutabilityExclusionFilters",
                                           "imageScanningConfiguration", "encryptionConfiguration", "tags"};
    for (size_t i = 0; req && i < sizeof settings / sizeof settings[0]; i++) {
        json_t *v = json_object_get(r, settings[i]);
        if (v && json_object_set(req, settings[i], v) < 0) {
            json_decref(req);
            req = NULL;
        }
    }
    int64_t created = ld->s->clock_ms;
    if (em_fx_parse_time(ld, r, "createdAt", &created) < 0) {
        json_decref(req);
        return -1;
    }
    if (em_fx_act(ld, "CreateRepository", req, r, NULL) < 0)
        return -1;
    em_repo *repo = em_repo_get(em_registry_get(ld->s, registry_id), json_string_value(json_object_get(r, "name")));
    repo->created_ms = created;

    static const struct {
        const char *member, *action, *request_member;
    } policies[] = {{"policy", "SetRepositoryPolicy", "policyText"},
                    {"lifecyclePolicy", "PutLifecyclePolicy", "lifecyclePolicyText"}};
    for (size_t i = 0; i < sizeof policies / sizeof policies[0]; i++) {
        json_t *policy = json_object_get(r, policies[i].member);
        if (!policy)
            continue;
        size_t n = em_fx_push_key(ld, policies[i].member);
        char *text = em_fx_policy_text(policy);
        int rc = text ? em_fx_act(ld, policies[i].action,
                            json_pack("{s:s, s:s, s:s}", "registryId", registry_id, "repositoryName", repo->name,
                                      policies[i].request_member, text),
                            NULL, NULL)
                      : em_fx_nomem(ld);
        em_free(text);
        em_fx_pop(ld, n);
        if (rc < 0)
            return -1;
    }
    json_t *layers = json_object_get(r, "layers");
    size_t n = em_fx_push_key(ld, "layers");
    for (size_t i = 0; i < json_array_size(layers); i++) {
        size_t k = em_fx_push_index(ld, i);
        char digest[ECRMOCK_DIGEST_SIZE];
        if (em_fx_add_layer(ld, repo, json_array_get(layers, i), digest) < 0)
            return -1;
        em_fx_pop(ld, k);
    }
    em_fx_pop(ld, n);
    json_t *images = json_object_get(r, "images");
    size_t n_images = json_array_size(images);
    char(*digests)[ECRMOCK_DIGEST_SIZE] = n_images ? em_calloc(n_images, sizeof *digests) : NULL;
    if (n_images && !digests)
        return em_fx_nomem(ld);
    n = em_fx_push_key(ld, "images");
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n_images; i++) {
        size_t k = em_fx_push_index(ld, i);
        rc = em_fx_load_image(ld, repo, json_array_get(images, i), false, digests[i]);
        if (rc == 0)
            em_fx_pop(ld, k);
    }
    if (rc == 0) {
        em_fx_pop(ld, n);
        rc = load_storage(ld, repo, images, digests);
    }
    em_free(digests);
    return rc;
}

/* createdAt and updatedAt of a rule or template (default: the clock, and
 * createdAt); an update cannot come before the creation. */
static int parse_created_updated(em_loader *ld, json_t *o, int64_t *created, int64_t *updated)
{
    *created = ld->s->clock_ms;
    if (em_fx_parse_time(ld, o, "createdAt", created) < 0)
        return -1;
    *updated = *created;
    if (em_fx_parse_time(ld, o, "updatedAt", updated) < 0)
        return -1;
    if (*updated < *created) {
        size_t n = em_fx_push_key(ld, "updatedAt");
        em_fx_refuse(ld, "must not be before createdAt");
        em_fx_pop(ld, n);
        return -1;
    }
    return 0;
}

/* The request for a Create action: the fixture object without its times. */
static json_t *without_times(json_t *o)
{
    json_t *req = json_deep_copy(o);
    if (req) {
        json_object_del(req, "createdAt");
        json_object_del(req, "updatedAt");
    }
    return req;
}

/* A pull-through cache rule, as DescribePullThroughCacheRules shows it:
 * CreatePullThroughCacheRule at createdAt, and, when updatedAt is later,
 * UpdatePullThroughCacheRule with the same credentials at updatedAt (ECR
 * updates only credentials, so a rule without any is never updated). */
static int load_ptc_rule(em_loader *ld, json_t *rule)
{
    int64_t created, updated;
    if (parse_created_updated(ld, rule, &created, &updated) < 0 ||
        em_fx_act_at(ld, created, "CreatePullThroughCacheRule", without_times(rule), rule, NULL) < 0)
        return -1;
    if (updated == created)
        return 0;
    size_t n = em_fx_push_key(ld, "updatedAt");
    int rc = em_fx_act_at(ld, updated, "UpdatePullThroughCacheRule",
                    json_pack("{s:O, s:O*, s:O*}", "ecrRepositoryPrefix", json_object_get(rule, "ecrRepositoryPrefix"),
                              "credentialArn", json_object_get(rule, "credentialArn"), "customRoleArn",
                              json_object_get(rule, "customRoleArn")),
                    NULL, NULL);
    em_fx_pop(ld, n);
    return rc;
}

/* A repository creation template, as DescribeRepositoryCreationTemplates
 * shows it (policies may also be objects): CreateRepositoryCreationTemplate
 * at createdAt, and an UpdateRepositoryCreationTemplate that changes
 * nothing at updatedAt when that is later. */
static int load_template(em_loader *ld, json_t *t)
{
    static const char *const policies[] = {"repositoryPolicy", "lifecyclePolicy"};
    int64_t created, updated;
    if (parse_created_updated(ld, t, &created, &updated) < 0)
        return -1;
    json_t *req = without_times(t);
    for (size_t i = 0; req && i < sizeof policies / sizeof policies[0]; i++) {
        json_t *v = json_object_get(req, policies[i]);
        char *text = json_is_object(v) ? em_fx_dump_compact(v) : NULL;
        if (json_is_object(v) && (!text || em_set(req, policies[i], json_string(text)) < 0)) {
            json_decref(req);
            req = NULL;
        }
        em_free(text);
    }
    if (em_fx_act_at(ld, created, "CreateRepositoryCreationTemplate", req, t, NULL) < 0)
        return -1;
    if (updated == created)
        return 0;
    size_t n = em_fx_push_key(ld, "updatedAt");
    int rc = em_fx_act_at(ld, updated, "UpdateRepositoryCreationTemplate",
                    json_pack("{s:O}", "prefix", json_object_get(t, "prefix")), NULL, NULL);
    em_fx_pop(ld, n);
    return rc;
}

/* A pull time update exclusion: the principal's ARN. */
static int load_exclusion(em_loader *ld, json_t *arn)
{
    return em_fx_act(ld, "RegisterPullTimeUpdateExclusion", json_pack("{s:O}", "principalArn", arn), NULL, NULL);
}

/* Each item of the list `member` of `o` (absent: none) through `one`. */
static int load_list(em_loader *ld, json_t *o, const char *member, int (*one)(em_loader *, json_t *))
{
    json_t *list = json_object_get(o, member);
    if (!list)
        return 0;
    size_t n = em_fx_push_key(ld, member);
    for (size_t i = 0; i < json_array_size(list); i++) {
        size_t k = em_fx_push_index(ld, i);
        if (one(ld, json_array_get(list, i)) < 0)
            return -1;
        em_fx_pop(ld, k);
    }
    em_fx_pop(ld, n);
    return 0;
}

/* {"BLOB_MOUNTING": "ENABLED", ...}: PutAccountSetting for each, in order. */
static int load_account_settings(em_loader *ld, json_t *reg)
{
    json_t *settings = json_object_get(reg, "accountSettings");
    if (!settings)
        return 0;
    size_t n = em_fx_push_key(ld, "accountSettings");
    const char *name;
    json_t *value;
    json_object_foreach(settings, name, value) {
        size_t k = em_fx_push_key(ld, name);
        if (em_fx_act(ld, "PutAccountSetting", json_pack("{s:s, s:O}", "name", name, "value", value), NULL, NULL) < 0)
            return -1;
        em_fx_pop(ld, k);
    }
    em_fx_pop(ld, n);
    return 0;
}

/* A registry's settings, set through their actions as the registry's own
 * account (they take no registryId): its policy, replication and scanning
 * configurations, account settings, signing configuration, pull time
 * update exclusions, pull-through cache rules and repository creation
 * templates. */
static int load_registry_settings_here(em_loader *ld, json_t *reg)
{
    static const struct {
        const char *member, *action, *request_member;
        bool text; /* the request member is a policy text */
    } settings[] = {{"policy", "PutRegistryPolicy", "policyText", true},
                    {"replicationConfiguration", "PutReplicationConfiguration", "replicationConfiguration", false},
                    {"scanningConfiguration", "PutRegistryScanningConfiguration", NULL, false},
                    {"signingConfiguration", "PutSigningConfiguration", "signingConfiguration", false}};
    for (size_t i = 0; i < sizeof settings / sizeof settings[0]; i++) {
        json_t *v = json_object_get(reg, settings[i].member);
        if (!v)
            continue;
        size_t n = em_fx_push_key(ld, settings[i].member);
        json_t *req = NULL;
        if (settings[i].text) {
            char *text = em_fx_policy_text(v);
            req = text ? json_pack("{s:s}", settings[i].request_member, text) : NULL;
            em_free(text);
            if (!req)
                return em_fx_nomem(ld);
        } else {
            /* the scanning configuration's members are the request's own */
            req = settings[i].request_member ? json_pack("{s:O}", settings[i].request_member, v) : json_deep_copy(v);
        }
        if (em_fx_act(ld, settings[i].action, req, NULL, NULL) < 0)
            return -1;
        em_fx_pop(ld, n);
    }
    if (load_account_settings(ld, reg) < 0 ||
        load_list(ld, reg, "pullTimeUpdateExclusions", load_exclusion) < 0 ||
        load_list(ld, reg, "pullThroughCacheRules", load_ptc_rule) < 0 ||
        load_list(ld, reg, "repositoryCreationTemplates", load_template) < 0)
        return -1;
    return 0;
}

static int load_registry_settings(em_loader *ld, json_t *reg)
{
    em_view view;
    if (em_view_enter(ld->s, em_get_str(reg, "id"), NULL, &view) < 0)
        return em_fx_nomem(ld);
    int rc = load_registry_settings_here(ld, reg);
    em_view_leave(ld->s, &view);
    return rc;
}

/* The repositories of the registries `regs` (the path is at them) of the
 * current region: each registry is made in the fixture's order, then its
 * repositories.  `home`: the instance's own region. */
static int load_registries(em_loader *ld, json_t *regs, bool home)
{
    for (size_t i = 0; i < json_array_size(regs); i++) {
        size_t k = em_fx_push_index(ld, i);
        json_t *reg = json_array_get(regs, i);
        if (!home && json_object_get(reg, "scanningConfiguration"))
            return em_fx_refuse_at(ld, "scanningConfiguration",
                             "the scanning configuration is the instance's own: give it in $.registries");
        const char *id = em_get_str(reg, "id");
        /* In the fixture's order (a registry of settings only, too), so
         * that a snapshot lists them as its fixture did. */
        if (!em_registry_ensure(ld->s, id ? id : ld->s->account))
            return em_fx_nomem(ld);
        json_t *repos = json_object_get(reg, "repositories");
        size_t r = em_fx_push_key(ld, "repositories");
        for (size_t j = 0; j < json_array_size(repos); j++) {
            size_t q = em_fx_push_index(ld, j);
            if (load_repository(ld, id ? id : ld->s->account, json_array_get(repos, j)) < 0)
                return -1;
            em_fx_pop(ld, q);
        }
        em_fx_pop(ld, r);
        em_fx_pop(ld, k);
    }
    return 0;
}

/* The settings of the registries `regs` of the current region. */
static int load_settings(em_loader *ld, json_t *regs, bool home)
{
    (void)home;
    for (size_t i = 0; i < json_array_size(regs); i++) {
        size_t k = em_fx_push_index(ld, i);
        if (load_registry_settings(ld, json_array_get(regs, i)) < 0)
            return -1;
        em_fx_pop(ld, k);
    }
    /* A registry the fixture names but gives nothing stays unmade. */
    em_registry *r, *tmp;
    HASH_ITER(hh, ld->s->registries, r, tmp) em_registry_drop_if_empty(ld->s, r);
    return 0;
}

/* Checks the fixture's "regions" (their structure is the schema's): each
 * given once, not the instance's own. */
static int check_regions(em_loader *ld, json_t *regions)
{
    size_t n = em_fx_push_key(ld, "regions");
    for (size_t i = 0; i < json_array_size(regions); i++) {
        size_t k = em_fx_push_index(ld, i);
        const char *name = em_get_str(json_array_get(regions, i), "name");
        size_t p = em_fx_push_key(ld, "name");
        if (strcmp(name, ld->s->region) == 0)
            return em_fx_refuse(ld, "is the instance's own region: give its registries in $.registries");
        for (size_t j = 0; j < i; j++)
            if (strcmp(name, em_get_str(json_array_get(regions, j), "name")) == 0)
                return em_fx_refuse(ld, "%s is given twice", name);
        em_fx_pop(ld, p);
        em_fx_pop(ld, k);
    }
    em_fx_pop(ld, n);
    return 0;
}

/* Runs `pass` over the registries of the instance's own region ("registries"),
 * then over those of each region of "regions", in that region's view. */
static int each_region(em_loader *ld, json_t *fx, int (*pass)(em_loader *, json_t *, bool))
{
    size_t n = em_fx_push_key(ld, "registries");
    if (pass(ld, json_object_get(fx, "registries"), true) < 0)
        return -1;
    em_fx_pop(ld, n);
    json_t *regions = json_object_get(fx, "regions");
    n = em_fx_push_key(ld, "regions");
    for (size_t i = 0; i < json_array_size(regions); i++) {
        size_t k = em_fx_push_index(ld, i);
        json_t *rg = json_array_get(regions, i);
        em_view view;
        if (em_view_enter(ld->s, NULL, em_get_str(rg, "name"), &view) < 0)
            return em_fx_nomem(ld);
        size_t q = em_fx_push_key(ld, "registries");
        int rc = pass(ld, json_object_get(rg, "registries"), false);
        em_view_leave(ld->s, &view);
        if (rc < 0)
            return -1;
        em_fx_pop(ld, q);
        em_fx_pop(ld, k);
    }
    em_fx_pop(ld, n);
    return 0;
}

/*
 * The fixture's "options": a load does not change an instance's options,
 * made by ecrmock_new() (ecrmock-server and the preload object make theirs from the
 * fixture's, their flags or variables winning).  Loaded into an instance,
 * each member is read as ecrmock_options_from_json() reads it and must be
 * the instance's own option, defaults resolved ("minPartSize": 0 is the
 * default's 5242880): a fixture written for options the instance lacks is
 * refused, not loaded into a fake that behaves otherwise.
 */
static int check_options(em_loader *ld, json_t *options)
{
    if (!options)
        return 0;
    size_t n = em_fx_push_key(ld, "options");
    json_t *have = ecrmock_options_json(&ld->s->opts), *want = NULL;
    const char *key;
    json_t *v;
    int rc = have ? 0 : em_fx_nomem(ld);
    json_object_foreach(options, key, v) {
        ecrmock_options o = ld->s->opts;
        ecrmock_err e;
        json_t *one = json_object();
        if (rc < 0 || !one || /* the name whole, a NUL in it too: ecrmock_options_from_json() refuses that */
            json_object_setn(one, key, json_object_iter_key_len(json_object_key_to_iter(key)), v) < 0) {
            json_decref(one);
            rc = rc < 0 ? rc : em_fx_nomem(ld);
            break;
        }
        rc = ecrmock_options_from_json(one, &o, &e) < 0 ? em_fx_refuse_at(ld, key, "%s", e.text) : 0;
        want = rc < 0 ? NULL : ecrmock_options_json(&o);
        json_decref(one);
        if (rc == 0 && !want)
            rc = em_fx_nomem(ld);
        if (rc == 0 && !json_equal(json_object_get(want, key), json_object_get(have, key))) {
            char *is = json_dumps(json_object_get(want, key), JSON_ENCODE_ANY);
            char *was = json_dumps(json_object_get(have, key), JSON_ENCODE_ANY);
            rc = em_fx_refuse_at(ld, key,
                                 "is %s, but the instance's is %s: a load does not change an instance's options "
                                 "(ecrmock_new(), ecrmock-server's flags, ECRMOCK_CURL_<option> make them; "
                                 "ecrmock_options_set() changes a running instance's limits); load the fixture into "
                                 "an instance made with them, or leave the member out",
                                 is ? is : "?", was ? was : "?");
            em_json_free(is);
            em_json_free(was);
        }
        json_decref(want);
        if (rc < 0)
            break;
    }
    json_decref(have);
    em_fx_pop(ld, n);
    return rc;
}

static int load(em_loader *ld, json_t *fx)
{
    snprintf(ld->path, sizeof ld->path, "$");
    /* The structure first, as fixtures/fixture.schema.json gives it; then
     * what a schema cannot say. */
    if (em_fx_schema_check(ld, fx) < 0 || check_options(ld, json_object_get(fx, "options")) < 0 ||
        check_regions(ld, json_object_get(fx, "regions")) < 0 || em_fx_parse_time(ld, fx, "clock", &ld->s->clock_ms) < 0)
        return -1;
    /* Registry settings last, once every image of every region is in: a
     * replication rule must not copy the fixture's images (a snapshot holds
     * the copies). */
    if (each_region(ld, fx, load_registries) < 0 || each_region(ld, fx, load_settings) < 0)
        return -1;
    json_t *faults = json_object_get(fx, "faults");
    size_t n = em_fx_push_key(ld, "faults");
    for (size_t i = 0; i < json_array_size(faults); i++) {
        size_t k = em_fx_push_index(ld, i);
        ecrmock_err why;
        if (ecrmock_fault_add_json(ld->s, json_array_get(faults, i), &why) < 0) {
            if (why.code == ECRMOCK_ERR_SERVER)
                return em_fx_nomem(ld);
            /* "fault rule: probability must be ..." -> the rule part only */
            const char *text = strncmp(why.text, "fault rule: ", 12) == 0 ? why.text + 12 : why.text;
            return em_fx_refuse(ld, "%s", text);
        }
        em_fx_pop(ld, k);
    }
    em_fx_pop(ld, n);
    return 0;
}

int em_fx_swap_state(ecrmock *m, ecrmock *s, bool clock)
{
    if (em_view_mirror(s, m) < 0)
        return -1;
#define SWAP(type, field)    \
    do {                     \
        type t_ = m->field;  \
        m->field = s->field; \
        s->field = t_;       \
    } while (0)
    SWAP(em_registry *, registries);
    SWAP(em_region *, regions);
    SWAP(em_index, blobs);
    SWAP(em_fault *, faults);
    SWAP(long, fault_ids);
    SWAP(json_t *, scan_config);
#undef SWAP
    /* m's old images, let go here: those m's journal may keep wait in m
     * (em_image_let_go). */
    em_registries_free(s);
    em_regions_free(s);
    em_image_let_go_move(m, s);
    /* The fixture's clock wins: pinned there, or in wall mode the offset
     * that makes it now (the clock runs on from it). */
    if (clock)
        em_clock_put(m, s->clock_ms);
    if (s->seq > m->seq)
        m->seq = s->seq;
    return 0;
}

int ecrmock_fixture_load(ecrmock *m, json_t *fixture, const char *source, ecrmock_err *err)
{
    em_err_clear(err);
    if (!m)
        return em_err_arg(err, "no instance (m is NULL)");
    /* m->opts: its account and region are the instance's own, not those of
     * a view ecrmock_call_as() has open on another thread or around a hook
     * calling this; read under the lock, as ecrmock_options_set() may change
     * its limits meanwhile. */
    em_lock(m);
    ecrmock_options o = m->opts;
    em_unlock(m);
    ecrmock *s = ecrmock_new(&o);
    if (!s)
        return em_err_nomem(err);
    s->journal_on = false;
    em_lock(m);
    s->clock_ms = m->clock_ms;
    s->seq = m->seq; /* new items sort after any page token the instance handed out */
    s->fault_ids = m->fault_ids; /* and the fixture's rules never take an id handed out before */
    em_unlock(m);
    em_loader ld = {.s = s, .source = source};
    int rc = load(&ld, fixture);
    if (rc == 0) {
        em_lock(m);
        rc = em_fx_swap_state(m, s, json_object_get(fixture, "clock") != NULL);
        em_unlock(m);
        if (rc < 0 && ld.err.code == ECRMOCK_ERR_OK)
            em_err_nomem(&ld.err);
    }
    em_fx_synth_forget(&ld);
    if (err && rc < 0)
        *err = ld.err;
    ecrmock_free(s);
    return rc;
}

/* JSON text that does not parse: the path "<source>: line L, column C". */
static int not_json(ecrmock_err *err, const char *source, const json_error_t *jerr)
{
    char where[64];
    snprintf(where, sizeof where, "line %d, column %d", jerr->line, jerr->column);
    return em_err_at(err, ECRMOCK_ERR_INVALID_PARAMETER, source, where, "not valid JSON: %s", jerr->text);
}

int ecrmock_fixture_load_string(ecrmock *m, const char *text, const char *source, ecrmock_err *err)
{
    em_err_clear(err);
    if (!text)
        return em_err_arg(err, "no fixture text (text is NULL)");
    /* The request parser's fast path first (a tenth of json_loads' time on
     * a fixture of 100,000 images); jansson reads what it does not take, and
     * words the refusal of text that is not JSON. */
    bool oom = false;
    json_error_t jerr;
    json_t *fx = em_json_parse(text, strlen(text), &oom);
    if (!fx && oom)
        return em_err_nomem(err);
    if (!fx && !(fx = json_loads(text, 0, &jerr)))
        return not_json(err, source ? source : "fixture", &jerr);
    int rc = ecrmock_fixture_load(m, fx, source, err);
    json_decref(fx);
    return rc;
}

json_t *em_fx_read_file(const char *path, ecrmock_err *err)
{
    em_err_clear(err);
    if (!path) {
        em_err_arg(err, "no file name (path is NULL)");
        return NULL;
    }
    /* Opened and read here, not by json_load_file(): its text names the
     * path again, and a directory or a failed read would look like JSON
     * that ends early. */
    FILE *f = fopen(path, "rb");
    if (!f) {
        em_err_set(err, ECRMOCK_ERR_INVALID_PARAMETER, path, "cannot be read: %s", strerror(errno));
        return NULL;
    }
    json_error_t jerr;
    json_t *fx = json_loadf(f, 0, &jerr);
    int read_errno = ferror(f) ? errno : 0;
    fclose(f);
    if (!fx && read_errno)
        em_err_set(err, ECRMOCK_ERR_INVALID_PARAMETER, path, "cannot be read: %s", strerror(read_errno));
    else if (!fx)
        not_json(err, path, &jerr);
    return fx;
}

int ecrmock_fixture_load_file(ecrmock *m, const char *path, ecrmock_err *err)
{
    json_t *fx = em_fx_read_file(path, err);
    if (!fx)
        return -1;
    int rc = ecrmock_fixture_load(m, fx, path, err);
    json_decref(fx);
    return rc;
}
