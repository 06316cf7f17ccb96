/*
 * CreateRepository, DescribeRepositories, DeleteRepository.
 */
#include <stdio.h>
#include <string.h>

#include "areas/areas.h"

/* A page of DescribeRepositories without maxResults (ECR's default). */
#define PAGE_DEFAULT 100
/* The most repositoryNames a request names (RepositoryNameList's max in
 * the model, which validation holds requests to): the form's array. */
#define NAMES_MAX 100

/* ---- CreateRepository -------------------------------------------------------------- */

int em_CreateRepository(em_call *c)
{
    const char *reg_id = em_registry_id(c);
    const char *name = em_get_str(c->req, "repositoryName");
    const char *mutability = em_get_str(c->req, "imageTagMutability");
    json_t *filters = json_object_get(c->req, "imageTagMutabilityExclusionFilters");
    json_t *enc = json_object_get(c->req, "encryptionConfiguration");
    json_t *tags = json_object_get(c->req, "tags");
    const char *enc_type = enc ? em_get_str(enc, "encryptionType") : "AES256";
    const char *kms_key = enc ? em_get_str(enc, "kmsKey") : NULL;

    if (json_is_null(filters))
        filters = NULL;
    if (!mutability)
        mutability = "MUTABLE";
    if (em_tag_mutability_check(c, mutability, filters) < 0)
        return -1;
    if (kms_key && strcmp(enc_type, "AES256") == 0)
        return em_fail_rule(c, "encryptionConfiguration.kmsKey", EM_RULE_KMS_KEY_WITHOUT_KMS);
    if (tags && em_resource_tags_check(c, tags, NULL) < 0)
        return em_fail_member(-1, c, "$.tags");


    em_repo_settings set = {
        .tag_mutability = mutability,
        .mutability_filters = filters,
        .scan_on_push = em_get_bool(json_object_get(c->req, "imageScanningConfiguration"), "scanOnPush", false),
        .encryption_type = enc_type,
        .kms_key = kms_key,
        .tags = tags,
    };
    return em_repo_create(c, reg_id, name, &set) ? 0 : -1;
}

/* ---- DescribeRepositories ------------------------------------------------------------ */

/* The listing a page token belongs to (the handler's and the form's alike). */
static void repos_scope(const char *reg_id, char *out, size_t cap)
{
    snprintf(out, cap, "DescribeRepositories|%s", reg_id);
}

static int describe_named(em_call *c, json_t *names, json_t *list)
{
    const char *reg_id = em_registry_id(c);
    em_registry *reg = em_registry_get(c->m, reg_id);
    size_t i;
    json_t *v;
    json_array_foreach(names, i, v) {
        const char *name = json_string_value(v);
        if (!em_repo_get(reg, name))
            return em_fail_text(c, EM_MSG_REPOSITORY_NOT_FOUND, name, reg_id);
    }
    json_array_foreach(names, i, v) {
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = strcmp(json_string_value(json_array_get(names, j)), json_string_value(v)) == 0;
        if (!seen && json_array_append_new(list, em_repo_json(c->m, em_repo_get(reg, json_string_value(v)))) < 0)
            return em_fail_nomem(c);
    }
    return 0;
}

int em_DescribeRepositories(em_call *c)
{
    json_t *names = json_object_get(c->req, "repositoryNames");
    const char *token = em_get_str(c->req, "nextToken");
    int64_t max = em_get_int(c->req, "maxResults", PAGE_DEFAULT);
    json_t *list = json_array();
    if (!list || em_set(c->out, "repositories", list) < 0)
        return em_fail_nomem(c);
    if (names && !json_is_null(names)) {
        if (em_page_refuse(c, "repositoryNames") < 0)
            return -1;
        return describe_named(c, names, list);
    }

    const char *reg_id = em_registry_id(c);
    char scope[64];
    repos_scope(reg_id, scope, sizeof scope);
    em_page_pos pos = {0};
    if (token && em_page_parse(c, scope, token, &pos) < 0)
        return -1;
    em_registry *reg = em_registry_get(c->m, reg_id);
    if (!reg)
        return 0;
    size_t i = token ? em_seqvec_lower_bound(&reg->order, pos.seq) : 0;
    for (; i < reg->order.n; i++) {
        em_repo *repo = reg->order.v[i].item;
        if (!repo)
            continue;
        if ((int64_t)json_array_size(list) == max) {
            em_page_pos next = {.seq = repo->seq};
            return em_set(c->out, "nextToken", em_page_token(c->m, scope, &next)) < 0 ? em_fail_nomem(c) : 0;
        }
        if (json_array_append_new(list, em_repo_json(c->m, repo)) < 0)
            return em_fail_nomem(c);
    }
    return 0;
}

/* ---- DeleteRepository -------------------------------------------------------------------- */

int em_DeleteRepository(em_call *c)
{
    em_repo *repo = em_repo_lookup(c);
    if (!repo)
        return -1;
    if (em_repo_image_count(repo) && !em_get_bool(c->req, "force", false))
        return em_fail_text(c, EM_MSG_REPOSITORY_NOT_EMPTY, repo->name, repo->registry->id);

    if (em_set(c->out, "repository", em_repo_json(c->m, repo)) < 0)
        return em_fail_nomem(c);
    em_repo_remove(c->m, repo);
    return 0;
}

/* ---- DescribeRepositories without a tree (areas.h; issue 19) --------------------------------- */

int em_fast_DescribeRepositories(em_fast *f)
{
    bool full = false;
    const char *reg_id = em_fast_str(f, 0, "registryId", NULL, &full);
    size_t names = em_jget(f->req, 0, "repositoryNames"), max_tok = em_jget(f->req, 0, "maxResults");
    if (full || em_jget(f->req, 0, "nextToken") || (names && max_tok))
        return EM_FAST_DECLINED; /* a page token, or its refusal: the handler's */
    em_registry *reg = em_registry_get(f->m, reg_id ? reg_id : f->m->account);
    em_repo *named[NAMES_MAX];
    size_t n = 0;
    if (names) {
        size_t k = names + 1, used = f->used;
        if (f->req->t[names].count > NAMES_MAX)
            return EM_FAST_DECLINED;
        for (uint32_t i = 0; i < f->req->t[names].count; i++, k = f->req->t[k].next) {
            f->used = used;
            const char *name = em_fast_tok_str(f, k, NULL, &full);
            em_repo *repo = name ? em_repo_get(reg, name) : NULL;
            bool seen = false;
            if (!repo)
                return EM_FAST_DECLINED; /* RepositoryNotFoundException, in the handler's words */
            for (size_t j = 0; j < n; j++)
                seen = seen || named[j] == repo;
            if (!seen)
                named[n++] = repo;
        }
    }
    if (EM_JW_LIT(f->out, "{\"repositories\":[") < 0)
        return EM_FAST_DECLINED;
    int64_t max = max_tok ? f->req->t[max_tok].integer : PAGE_DEFAULT, written = 0;
    for (size_t i = 0; names ? i < n : reg && i < reg->order.n; i++) {
        em_repo *repo = names ? named[i] : reg->order.v[i].item;
        if (!repo)
            continue;
        if (!names && written == max) { /* a next page: its token, as the handler makes it */
            char scope[64];
            repos_scope(reg_id ? reg_id : f->m->account, scope, sizeof scope);
            return em_fast_next_token(f, scope, repo->seq, NULL) < 0 ? EM_FAST_DECLINED : 0;
        }
        if ((written++ && EM_JW_LIT(f->out, ",") < 0) || em_repo_write(f->out, f->m, repo) < 0)
            return EM_FAST_DECLINED;
    }
    return EM_JW_LIT(f->out, "]}") < 0 || em_buf_reserve(f->out, 1) < 0 ? EM_FAST_DECLINED : 0;
}
