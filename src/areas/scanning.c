/*
 * Image scanning: PutImageScanningConfiguration,
 * BatchGetRepositoryScanningConfiguration, GetRegistryScanningConfiguration,
 * PutRegistryScanningConfiguration, StartImageScan and
 * DescribeImageScanFindings, with the two hooks PutImage (scan on push) and
 * DescribeImages (imageScanStatus and imageScanFindingsSummary) call.
 *
 * A basic scan is a start time and a completion time on the virtual clock:
 * it is IN_PROGRESS until the clock reaches its completion (the scan
 * duration later: ecrmock_scan_duration_set()), then COMPLETE, and reports
 * the findings a test set for the image (ecrmock_scan_findings_set()),
 * counted by severity here.  ECR allows one basic scan per image per 24
 * hours, the scan on push included.
 *
 * Which repositories scan on push: those whose own scanOnPush flag is set
 * (CreateRepository, PutImageScanningConfiguration), and those a rule of the
 * caller's registry scanning configuration matches with SCAN_ON_PUSH or
 * CONTINUOUS_SCAN.  A filter without '*' matches every repository name that
 * contains it; with '*', the '*' stands for any run of characters and the
 * filter matches whole names (ECR user guide, "Filters to choose which
 * repositories are scanned").  When rules of both frequencies match, ECR
 * enforces the continuous one.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "areas/areas.h"

#define MAX_ATTRIBUTES 50

static const char *const severities[] = {"INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL", "UNDEFINED"};
#define N_SEVERITIES (sizeof severities / sizeof severities[0])

void em_scanning_reset(ecrmock *m)
{
    json_decref(m->scan_config);
    m->scan_config = NULL;
    m->scan_duration_ms = ECRMOCK_DEFAULT_SCAN_DURATION_MS;
}

/* ---- repository filters and the effective configuration ---------------------------- */

static bool filter_matches(const char *filter, const char *name)
{
    return strchr(filter, '*') ? em_wildcard_match(filter, name, false) : strstr(name, filter) != NULL;
}

/* What the registry's rules make of one repository. */
typedef struct effective {
    const char *frequency; /* SCAN_ON_PUSH, CONTINUOUS_SCAN or MANUAL */
    json_t *rule;          /* the rule that decided, or NULL (borrowed) */
} effective;

static bool rule_matches(json_t *rule, const char *name)
{
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(rule, "repositoryFilters"), i, f) {
        if (filter_matches(em_get_str(f, "filter"), name))
            return true;
    }
    return false;
}

static effective repo_effective(ecrmock *m, em_repo *repo)
{
    effective e = {repo->scan_on_push ? "SCAN_ON_PUSH" : "MANUAL", NULL};
    /* The registry configuration is the caller's: it says nothing of the
     * repositories of other registries. */
    if (!m->scan_config || strcmp(repo->registry->id, m->account) != 0)
        return e;
    size_t i;
    json_t *rule;
    json_array_foreach(json_object_get(m->scan_config, "rules"), i, rule) {
        if (!rule_matches(rule, repo->name))
            continue;
        const char *freq = em_get_str(rule, "scanFrequency");
        if (!e.rule || strcmp(freq, "CONTINUOUS_SCAN") == 0) {
            e.rule = rule;
            e.frequency = freq;
        }
    }
    return e;
}

static bool scans_on_push(ecrmock *m, em_repo *repo)
{
    effective e = repo_effective(m, repo);
    return repo->scan_on_push || strcmp(e.frequency, "SCAN_ON_PUSH") == 0 ||
           strcmp(e.frequency, "CONTINUOUS_SCAN") == 0;
}

/* ---- scan state --------------------------------------------------------------------- */

static void scan_start(ecrmock *m, em_image *img)
{
    img->scanned = true;
    img->scan_started_ms = m->clock_ms;
    img->scan_done_ms = m->clock_ms + m->scan_duration_ms;
}

static bool scan_complete(ecrmock *m, em_image *img)
{
    return m->clock_ms >= img->scan_done_ms;
}

void em_scan_on_push(ecrmock *m, em_repo *repo, em_image *img)
{
    /* A manifest list or image index is not scanned: it has no layers of
     * its own (StartImageScan refuses it). */
    if (img->n_children == 0 && !em_media_type_is_list(img->media_type) && scans_on_push(m, repo))
        scan_start(m, img);
}

static json_t *status_json(ecrmock *m, em_image *img)
{
    if (scan_complete(m, img))
        return json_pack("{s:s, s:s}", "status", "COMPLETE", "description", "The scan was completed successfully.");
    return json_pack("{s:s}", "status", "IN_PROGRESS");
}

/* {"HIGH": 2, "LOW": 1}: only the severities found, as ECR reports them. */
static json_t *severity_counts(em_image *img)
{
    size_t counts[N_SEVERITIES] = {0};
    size_t i;
    json_t *f;
    json_array_foreach(img->scan_findings, i, f) {
        const char *sev = em_get_str(f, "severity");
        for (size_t k = 0; k < N_SEVERITIES; k++)
            if (strcmp(sev, severities[k]) == 0)
                counts[k]++;
    }
    json_t *o = json_object();
    for (size_t k = 0; o && k < N_SEVERITIES; k++) {
        if (counts[k] && em_set(o, severities[k], json_integer((json_int_t)counts[k])) < 0) {
            json_decref(o);
            o = NULL;
        }
    }
    return o;
}

/* imageScanCompletedAt, vulnerabilitySourceUpdatedAt (the vulnerability data
 * the scan used: as of its start) and findingSeverityCounts: a new object. */
static json_t *summary_json(em_image *img)
{
    json_t *s = json_object();
    if (!s || em_set(s, "imageScanCompletedAt", em_time(img->scan_done_ms)) < 0 ||
        em_set(s, "vulnerabilitySourceUpdatedAt", em_time(img->scan_started_ms)) < 0 ||
        em_set(s, "findingSeverityCounts", severity_counts(img)) < 0) {
        json_decref(s);
        return NULL;
    }
    return s;
}

int em_scan_detail(ecrmock *m, em_image *img, json_t *detail)
{
    if (!img->scanned)
        return 0;
    if (em_set(detail, "imageScanStatus", status_json(m, img)) < 0)
        return -1;
    if (scan_complete(m, img) && em_set(detail, "imageScanFindingsSummary", summary_json(img)) < 0)
        return -1;
    return 0;
}

/* ---- PutImageScanningConfiguration and BatchGetRepositoryScanningConfiguration --------- */

int em_PutImageScanningConfiguration(em_call *c)
{
    em_repo *repo = em_repo_lookup(c);
    if (!repo)
        return -1;
    bool on = em_get_bool(json_object_get(c->req, "imageScanningConfiguration"), "scanOnPush", false);
    if (em_set(c->out, "registryId", json_string(repo->registry->id)) < 0 ||
        em_set(c->out, "repositoryName", json_string(repo->name)) < 0 ||
        em_set(c->out, "imageScanningConfiguration", json_pack("{s:b}", "scanOnPush", on)) < 0)
        return em_fail_nomem(c);
    repo->scan_on_push = on;
    return 0;
}

/* The filters of the deciding rule that match the repository. */
static json_t *applied_filters(effective *e, const char *name)
{
    json_t *out = json_array();
    size_t i;
    json_t *f;
    json_array_foreach(e->rule ? json_object_get(e->rule, "repositoryFilters") : NULL, i, f) {
        if (out && filter_matches(em_get_str(f, "filter"), name) && json_array_append(out, f) < 0) {
            json_decref(out);
            out = NULL;
        }
    }
    return out;
}

int em_BatchGetRepositoryScanningConfiguration(em_call *c)
{
    json_t *configs = json_array();
    if (em_set(c->out, "scanningConfigurations", configs) < 0)
        return em_fail_nomem(c);
    json_t *failures = json_array();
    if (em_set(c->out, "failures", failures) < 0)
        return em_fail_nomem(c);
    em_registry *reg = em_registry_get(c->m, c->m->account);
    size_t i;
    json_t *n;
    json_array_foreach(json_object_get(c->req, "repositoryNames"), i, n) {
        const char *name = json_string_value(n);
        em_repo *repo = em_repo_get(reg, name);
        json_t *item;
        if (!repo) {
            char reason[512];
            em_format_text(reason, sizeof reason, EM_MSG_REPOSITORY_NOT_FOUND, name, c->m->account);

            item = json_pack("{s:s, s:s, s:s}", "repositoryName", name, "failureCode", "REPOSITORY_NOT_FOUND",
                             "failureReason", reason);
            if (json_array_append_new(failures, item) < 0)
                return em_fail_nomem(c);
            continue;
        }
        effective e = repo_effective(c->m, repo);
        json_t *filters = applied_filters(&e, repo->name);
        item = filters ? json_pack("{s:s, s:s, s:b, s:s, s:o}", "repositoryArn", repo->arn, "repositoryName", repo->name,
                                   "scanOnPush", repo->scan_on_push, "scanFrequency", e.frequency,
                                   "appliedScanFilters", filters)
                       : NULL;
        if (json_array_append_new(configs, item) < 0)
            return em_fail_nomem(c);
    }
    return 0;
}

/* ---- GetRegistryScanningConfiguration and PutRegistryScanningConfiguration ------------ */

static json_t *config_copy(ecrmock *m)
{
    if (m->scan_config)
        return json_deep_copy(m->scan_config);
    return json_pack("{s:s, s:[]}", "scanType", "BASIC", "rules");
}

int em_GetRegistryScanningConfiguration(em_call *c)
{
    if (em_set(c->out, "registryId", json_string(c->m->account)) < 0 ||
        em_set(c->out, "scanningConfiguration", config_copy(c->m)) < 0)
        return em_fail_nomem(c);
    return 0;
}

/* One rule with the model's members only (a new reference; NULL: no memory). */
static json_t *rule_copy(json_t *r)
{
    json_t *filters = json_array();
    size_t k;
    json_t *f;
    json_array_foreach(json_object_get(r, "repositoryFilters"), k, f) {
        json_t *copy = json_pack("{s:s, s:s}", "filter", em_get_str(f, "filter"), "filterType", em_get_str(f, "filterType"));
        if (!filters || json_array_append_new(filters, copy) < 0) {
            json_decref(copy);
            json_decref(filters);
            return NULL;
        }
    }
    return filters ? json_pack("{s:s, s:o}", "scanFrequency", em_get_str(r, "scanFrequency"), "repositoryFilters", filters)
                   : NULL;
}

/* The request's rules with the model's members only (a new reference). */
static json_t *rules_copy(json_t *rules)
{
    json_t *out = json_array();
    size_t i;
    json_t *r;
    json_array_foreach(rules, i, r) {
        if (!out || json_array_append_new(out, rule_copy(r)) < 0) {
            json_decref(out);
            return NULL;
        }
    }
    return out;
}

int em_PutRegistryScanningConfiguration(em_call *c)
{
    const char *type = em_get_str(c->req, "scanType");
    if (!type)
        type = "BASIC";
    json_t *rules = json_object_get(c->req, "rules");
    size_t i;
    json_t *r;
    /* BASIC scanning scans on push or manually; continuous scanning is
     * ENHANCED's (Amazon Inspector's). */
    json_array_foreach(rules, i, r) {
        if (strcmp(type, "BASIC") == 0 && strcmp(em_get_str(r, "scanFrequency"), "CONTINUOUS_SCAN") == 0)
            return em_fail_rule(c, "scanFrequency", EM_RULE_CONTINUOUS_SCAN_BASIC);
    }
    json_t *config = json_pack("{s:s, s:o}", "scanType", type, "rules", rules_copy(rules));
    json_t *answer = config ? json_deep_copy(config) : NULL;
    if (!answer || em_set(c->out, "registryScanningConfiguration", answer) < 0) {
        json_decref(config);
        return em_fail_nomem(c);
    }
    json_decref(c->m->scan_config);
    c->m->scan_config = config;
    return 0;
}

/* ---- StartImageScan and DescribeImageScanFindings --------------------------------------- */

/* The image the request's imageId names, or NULL with the call's error set. */
static em_image *image_lookup(em_call *c, em_repo *repo)
{
    json_t *id = json_object_get(c->req, "imageId");
    if (!em_get_str(id, "imageDigest") && !em_get_str(id, "imageTag")) {
        em_fail_rule(c, "imageId", EM_RULE_IMAGE_ID_EMPTY);
        return NULL;
    }
    return em_image_lookup(c, repo, id);
}

/* registryId, repositoryName and imageId (the digest, and the tag asked for). */
static int answer_head(em_call *c, em_repo *repo, em_image *img)
{
    const char *tag = em_get_str(json_object_get(c->req, "imageId"), "imageTag");
    if (em_set(c->out, "registryId", json_string(repo->registry->id)) < 0 ||
        em_set(c->out, "repositoryName", json_string(repo->name)) < 0 ||
        em_set(c->out, "imageId", em_image_id_json(img->digest, tag)) < 0)
        return em_fail_nomem(c);
    return 0;
}

int em_StartImageScan(em_call *c)
{
    em_repo *repo = em_repo_lookup(c);
    if (!repo)
        return -1;
    em_image *img = image_lookup(c, repo);
    if (!img)
        return -1;
    if (img->n_children || em_media_type_is_list(img->media_type))
        return em_fail_text(c, EM_MSG_UNSUPPORTED_IMAGE_TYPE, img->media_type);
    if (!em_image_active(c->m, img)) /* store/archive.c: archived, or still being restored */
        return em_fail_text(c, EM_MSG_IMAGE_ARCHIVED_SCAN, img->digest, repo->name, repo->registry->id);
    if (img->scanned && c->m->clock_ms - img->scan_started_ms < EM_DAY_MS)
        return em_fail_text(c, EM_MSG_SCAN_QUOTA);
    if (answer_head(c, repo, img) < 0 ||
        em_set(c->out, "imageScanStatus", json_pack("{s:s}", "status", "IN_PROGRESS")) < 0)
        return em_fail_nomem(c);
    scan_start(c->m, img);
    return 0;
}

int em_DescribeImageScanFindings(em_call *c)
{
    em_repo *repo = em_repo_lookup(c);
    if (!repo)
        return -1;
    em_image *img = image_lookup(c, repo);
    if (!img)
        return -1;
    json_t *id = json_object_get(c->req, "imageId");
    if (!img->scanned) {
        const char *digest = em_get_str(id, "imageDigest"), *tag = em_get_str(id, "imageTag");
        return em_fail_text(c, EM_MSG_SCAN_NOT_FOUND, digest ? digest : "null", tag ? tag : "null", repo->name,
                            repo->registry->id);
    }
    /* A token belongs to one scan of one image. */
    char scope[700];
    snprintf(scope, sizeof scope, "DescribeImageScanFindings|%s|%s|%s|%lld", repo->registry->id, repo->name,
             img->digest, (long long)img->scan_started_ms);
    const char *token = em_get_str(c->req, "nextToken");
    em_page_pos pos = {0};
    if (token && em_page_parse(c, scope, token, &pos) < 0)
        return -1;
    if (answer_head(c, repo, img) < 0 || em_set(c->out, "imageScanStatus", status_json(c->m, img)) < 0)
        return em_fail_nomem(c);
    if (!scan_complete(c->m, img))
        return 0;
    json_t *summary = summary_json(img);
    if (!summary)
        return em_fail_nomem(c);
    json_t *findings = json_array();
    if (em_set(summary, "findings", findings) < 0) {
        json_decref(summary);
        return em_fail_nomem(c);
    }
    if (em_set(c->out, "imageScanFindings", summary) < 0)
        return em_fail_nomem(c);
    size_t max = (size_t)em_get_int(c->req, "maxResults", 100), n = json_array_size(img->scan_findings);
    for (size_t i = (size_t)pos.seq; i < n; i++) {
        if (json_array_size(findings) == max) {
            em_page_pos next = {.seq = i};
            return em_set(c->out, "nextToken", em_page_token(c->m, scope, &next)) < 0 ? em_fail_nomem(c) : 0;
        }
        if (json_array_append(findings, json_array_get(img->scan_findings, i)) < 0)
            return em_fail_nomem(c);
    }
    return 0;
}

/* ---- test controls ------------------------------------------------------------------- */

int ecrmock_scan_duration_set(ecrmock *m, int64_t ms, ecrmock_err *err)
{
    em_err_clear(err);
    if (!m)
        return em_err_arg(err, "no instance (m is NULL)");
    if (ms < 0 || ms > ECRMOCK_CLOCK_MAX_MS) /* so that the clock plus it cannot overflow */
        return em_err_arg(err, "scan duration %" PRId64 " ms is outside 0..%" PRId64, ms, ECRMOCK_CLOCK_MAX_MS);
    em_lock(m);
    m->scan_duration_ms = ms;
    em_unlock(m);
    return 0;
}

static bool optional_string(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return !v || json_is_string(v);
}

/* An ImageScanFinding as the model has it, severity required. */
static bool finding_ok(json_t *f)
{
    if (!json_is_object(f))
        return false;
    const char *key;
    json_t *v;
    json_object_foreach(f, key, v) {
        if (strcmp(key, "name") != 0 && strcmp(key, "description") != 0 && strcmp(key, "uri") != 0 &&
            strcmp(key, "severity") != 0 && strcmp(key, "attributes") != 0)
            return false;
    }
    const char *sev = em_get_str(f, "severity");
    bool known = false;
    for (size_t k = 0; sev && k < N_SEVERITIES; k++)
        known = known || strcmp(sev, severities[k]) == 0;
    if (!known || !optional_string(f, "name") || !optional_string(f, "description") || !optional_string(f, "uri"))
        return false;
    json_t *attrs = json_object_get(f, "attributes");
    if (!attrs)
        return true;
    if (!json_is_array(attrs) || json_array_size(attrs) > MAX_ATTRIBUTES)
        return false;
    size_t i;
    json_t *a;
    json_array_foreach(attrs, i, a) {
        if (!json_is_object(a) || !json_is_string(json_object_get(a, "key")) || !optional_string(a, "value"))
            return false;
        json_object_foreach(a, key, v) {
            if (strcmp(key, "key") != 0 && strcmp(key, "value") != 0)
                return false;
        }
    }
    return true;
}

int ecrmock_scan_findings_set(ecrmock *m, const char *registry_id, const char *repository, const char *digest,
                              json_t *findings, ecrmock_err *err)
{
    em_err_clear(err);
    if (!m || !repository || !*repository || !digest)
        return em_err_arg(err, "m, repository (not empty) and digest must be given");
    if (em_err_registry_id(err, registry_id) < 0)
        return -1;
    if (findings && !json_is_array(findings))
        return em_err_set(err, ECRMOCK_ERR_INVALID_PARAMETER, "findings: $", "must be an array of findings");
    size_t i;
    json_t *f;
    json_array_foreach(findings, i, f) {
        if (!finding_ok(f)) {
            char where[48];
            snprintf(where, sizeof where, "$[%zu]", i);
            return em_err_at(err, ECRMOCK_ERR_INVALID_PARAMETER, "findings", where,
                             "must be an ImageScanFinding: a severity of INFORMATIONAL, LOW, MEDIUM, HIGH, "
                             "CRITICAL or UNDEFINED; name, description and uri strings; at most %d attributes "
                             "{key, value}; no other member", MAX_ATTRIBUTES);
        }
    }
    json_t *copy = json_array_size(findings) ? json_deep_copy(findings) : NULL;
    if (json_array_size(findings) && !copy)
        return em_err_nomem(err);
    ecrmock_error rc = ECRMOCK_ERR_OK;
    em_lock(m);
    em_repo *repo = em_repo_get(em_registry_get(m, registry_id ? registry_id : m->account), repository);
    em_image *img = repo ? em_image_get(repo, digest) : NULL;
    if (!repo) {
        rc = ECRMOCK_ERR_REPOSITORY_NOT_FOUND;
    } else if (!img) {
        rc = ECRMOCK_ERR_IMAGE_NOT_FOUND;
    } else {
        json_decref(img->scan_findings);
        img->scan_findings = copy;
        copy = NULL;
    }
    em_unlock(m);
    json_decref(copy);
    if (rc == ECRMOCK_ERR_REPOSITORY_NOT_FOUND)
        return em_err_no_repo(err, m, registry_id, repository);
    if (rc == ECRMOCK_ERR_IMAGE_NOT_FOUND)
        return em_err_set(err, rc, NULL, "no image '%.100s' in the repository '%.256s'", digest, repository);
    return 0;
}
