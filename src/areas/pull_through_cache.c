/*
 * CreatePullThroughCacheRule, DescribePullThroughCacheRules,
 * UpdatePullThroughCacheRule, DeletePullThroughCacheRule,
 * ValidatePullThroughCacheRule, and the fake's Secrets Manager.
 *
 * A registry holds up to 50 rules (ECR's quota, not adjustable), keyed by
 * ecrRepositoryPrefix.  ECR reads every prefix with an implied "/" at its
 * end, so "team" and "team/" name the same rule: the key is the prefix
 * without its trailing "/".  The upstream registry is recognised from its
 * URL, with ECR's list of supported upstreams and which of them need
 * credentials (docs: "Sync an upstream registry with an Amazon ECR private
 * registry"):
 *   ecr-public, k8s, quay                  no authentication
 *   docker-hub, github-container-registry,
 *   gitlab-container-registry,
 *   azure-container-registry, chainguard   a Secrets Manager secret (credentialArn)
 *   ecr                                    an IAM role (customRoleArn) when the
 *                                          upstream registry is another account's
 *
 * The fake has no Secrets Manager.  Every credentialArn the model's pattern
 * accepts is a secret that exists and works, unless a test gave it another
 * state with ecrmock_secret_set(): that is how SecretNotFoundException,
 * UnableToAccessSecretException, UnableToDecryptSecretValueException and a
 * failed ValidatePullThroughCacheRule are reached.
 */
#include <stdio.h>
#include <string.h>

#include "areas/areas.h"

#define MAX_RULES 50

typedef struct em_ptc_rule {
    char *prefix;          /* the key: ecrRepositoryPrefix without a trailing "/" */
    char *url;             /* upstreamRegistryUrl as given */
    const char *upstream;  /* upstreamRegistry (static string) */
    char *credential_arn;  /* NULL: none */
    char *custom_role_arn; /* NULL: none */
    char *upstream_prefix; /* NULL: none (ROOT for an ecr upstream) */
    int64_t created_ms, updated_ms;
    uint64_t seq;
} em_ptc_rule;

struct em_ptc_rules {
    em_ptc_rule **v; /* in creation order, so by seq */
    size_t n, cap;
    uint64_t seq;
};

struct em_secret {
    char *arn;
    ecrmock_secret_state state;
    UT_hash_handle hh;
};

/* ---- the fake's Secrets Manager ------------------------------------------------- */

void em_secrets_free(ecrmock *m)
{
    struct em_secret *s, *tmp;
    HASH_ITER(hh, m->secrets, s, tmp) {
        HASH_DEL(m->secrets, s);
        em_free(s->arn);
        em_free(s);
    }
}

static ecrmock_secret_state secret_state(ecrmock *m, const char *arn)
{
    struct em_secret *s = NULL;
    HASH_FIND_STR(m->secrets, arn, s);
    return s ? s->state : ECRMOCK_SECRET_VALID;
}

int ecrmock_secret_set(ecrmock *m, const char *credential_arn, ecrmock_secret_state state, ecrmock_err *err)
{
    em_err_clear(err);
    if (!m || !credential_arn)
        return em_err_arg(err, "m and credential_arn must not be NULL");
    if ((unsigned)state > ECRMOCK_SECRET_REJECTED)
        return em_err_arg(err, "secret state %d is not an ecrmock_secret_state (0 to %d)", (int)state,
                          ECRMOCK_SECRET_REJECTED);
    int rc = 0, oom = 0;
    em_lock(m);
    struct em_secret *s = NULL;
    HASH_FIND_STR(m->secrets, credential_arn, s);
    if (s && state == ECRMOCK_SECRET_VALID) {
        HASH_DEL(m->secrets, s);
        em_free(s->arn);
        em_free(s);
    } else if (s) {
        s->state = state;
    } else if (state != ECRMOCK_SECRET_VALID) {
        s = em_calloc(1, sizeof *s);
        if (s)
            s->arn = em_strdup(credential_arn);
        if (s && s->arn)
            HASH_ADD_KEYPTR(hh, m->secrets, s->arn, strlen(s->arn), s);
        if (!s || !s->arn || oom) {
            if (s)
                em_free(s->arn);
            em_free(s);
            rc = -1;
        } else {
            s->state = state;
        }
    }
    em_unlock(m);
    return rc < 0 ? em_err_nomem(err) : 0;
}

/* What ECR says of a secret it cannot use (core.h's texts: an error, or,
 * when the upstream refuses the credentials, the text of
 * ValidatePullThroughCacheRule's failure); EM_MSG__COUNT: nothing. */
static em_msg secret_problem(ecrmock_secret_state st)
{
    switch (st) {
    case ECRMOCK_SECRET_NOT_FOUND: return EM_MSG_SECRET_NOT_FOUND;
    case ECRMOCK_SECRET_NO_ACCESS: return EM_MSG_UNABLE_TO_ACCESS_SECRET;
    case ECRMOCK_SECRET_UNDECRYPTABLE: return EM_MSG_UNABLE_TO_DECRYPT_SECRET_VALUE;
    case ECRMOCK_SECRET_REJECTED: return EM_MSG_UPSTREAM_AUTHENTICATION_FAILED;
    default: return EM_MSG__COUNT;
    }
}

/* Create and Update refuse a secret that cannot be found, read or
 * decrypted; one whose credentials the upstream refuses is only caught by
 * ValidatePullThroughCacheRule. */
static int check_secret(em_call *c, const char *arn)
{
    em_msg id = secret_problem(secret_state(c->m, arn));
    ecrmock_error code = em_message_error(id);
    if (code == ECRMOCK_ERR_OK)
        return 0;
    /* the three texts take no argument */
    return em_fail_member(em_fail(c, code, "%s", em_message_format(id)), c, "$.credentialArn");
}

/* The upstream registry a URL names (a static string), or NULL when ECR
 * does not support it.  For ECR, the upstream's account goes to
 * ecr_account[13]. */
static const char *upstream_of(const char *url, char *ecr_account)
{
    static const struct {
        const char *host, *name;
    } fixed[] = {
        {"public.ecr.aws", "ecr-public"},
        {"quay.io", "quay"},
        {"registry.k8s.io", "k8s"},
        {"registry-1.docker.io", "docker-hub"},
        {"ghcr.io", "github-container-registry"},
        {"registry.gitlab.com", "gitlab-container-registry"},
        {"cgr.dev", "chainguard"},
    };
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        if (strcmp(url, fixed[i].host) == 0)
            return fixed[i].name;
    /* <registry>.azurecr.io: Azure's registry names are 5 to 50 letters and digits. */
    size_t n = strlen(url);
    if (n > 11 && strcmp(url + n - 11, ".azurecr.io") == 0 && n - 11 >= 5 && n - 11 <= 50 &&
        em_all_of(url, n - 11, EM_LOWER_ALNUM))
        return "azure-container-registry";
    /* <account>.dkr.ecr.<region>.amazonaws.com (.com.cn in China) */
    if (n > 12 + 9 && em_all_of(url, 12, "0123456789") && strncmp(url + 12, ".dkr.ecr.", 9) == 0) {
        const char *region = url + 21;
        const char *dot = strchr(region, '.');
        if (dot && em_all_of(region, (size_t)(dot - region), EM_LOWER_ALNUM "-") &&
            (strcmp(dot, ".amazonaws.com") == 0 || strcmp(dot, ".amazonaws.com.cn") == 0)) {
            memcpy(ecr_account, url, 12);
            ecr_account[12] = '\0';
            return "ecr";
        }
    }
    return NULL;
}

static bool needs_secret(const char *upstream)
{
    static const char *const with_secret[] = {"docker-hub", "github-container-registry", "gitlab-container-registry",
                                              "azure-container-registry", "chainguard"};
    for (size_t i = 0; i < sizeof with_secret / sizeof with_secret[0]; i++)
        if (strcmp(upstream, with_secret[i]) == 0)
            return true;
    return false;
}

/* ---- the rules -------------------------------------------------------------------- */

static void rule_free(em_ptc_rule *r)
{
    if (!r)
        return;
    em_free(r->prefix);
    em_free(r->url);
    em_free(r->credential_arn);
    em_free(r->custom_role_arn);
    em_free(r->upstream_prefix);
    em_free(r);
}

void em_ptc_rules_free(em_registry *reg)
{
    struct em_ptc_rules *rules = reg->ptc;
    if (!rules)
        return;
    for (size_t i = 0; i < rules->n; i++)
        rule_free(rules->v[i]);
    em_free(rules->v);
    em_free(rules);
    reg->ptc = NULL;
}

int em_ptc_rules_copy(em_registry *dst, const em_registry *src)
{
    const struct em_ptc_rules *rules = src->ptc;
    if (!rules)
        return 0;
    struct em_ptc_rules *c = em_calloc(1, sizeof *c);
    if (!c || (rules->n && !(c->v = em_calloc(rules->n, sizeof *c->v)))) {
        em_free(c);
        return -1;
    }
    c->cap = rules->n;
    c->seq = rules->seq;
    dst->ptc = c;
    for (size_t i = 0; i < rules->n; i++) {
        const em_ptc_rule *r = rules->v[i];
        em_ptc_rule *d = em_calloc(1, sizeof *d);
        if (!d)
            return -1;
        *d = *r;
        d->prefix = em_strdup(r->prefix);
        d->url = em_strdup(r->url);
        d->credential_arn = r->credential_arn ? em_strdup(r->credential_arn) : NULL;
        d->custom_role_arn = r->custom_role_arn ? em_strdup(r->custom_role_arn) : NULL;
        d->upstream_prefix = r->upstream_prefix ? em_strdup(r->upstream_prefix) : NULL;
        c->v[c->n++] = d;
        if (!d->prefix || !d->url || (r->credential_arn && !d->credential_arn) ||
            (r->custom_role_arn && !d->custom_role_arn) || (r->upstream_prefix && !d->upstream_prefix))
            return -1;
    }
    return 0;
}

/* The length of a prefix's key: without its trailing "/", which ECR always implies. */
static size_t key_len(const char *prefix)
{
    size_t n = strlen(prefix);
    return n > 1 && prefix[n - 1] == '/' ? n - 1 : n;
}

static char *prefix_key(const char *prefix)
{
    return em_strndup(prefix, key_len(prefix));
}

static size_t find_rule(struct em_ptc_rules *rules, const char *prefix)
{
    size_t n = key_len(prefix);
    for (size_t i = 0; rules && i < rules->n; i++)
        if (strlen(rules->v[i]->prefix) == n && strncmp(rules->v[i]->prefix, prefix, n) == 0)
            return i;
    return (size_t)-1;
}

bool em_ptc_covers(const em_registry *reg, const char *name)
{
    for (size_t i = 0; reg->ptc && i < reg->ptc->n; i++) {
        const char *p = reg->ptc->v[i]->prefix;
        size_t n = strlen(p);
        if (strcmp(p, "ROOT") != 0 && strncmp(name, p, n) == 0 && name[n] == '/')
            return true;
    }
    return false;
}

/* Looks the request's ecrRepositoryPrefix up; on a miss sets ECR's error. */
static em_ptc_rule *rule_lookup(em_call *c, size_t *index)
{
    const char *reg_id = em_registry_id(c);
    const char *prefix = em_get_str(c->req, "ecrRepositoryPrefix");
    em_registry *reg = em_registry_get(c->m, reg_id);
    size_t i = find_rule(reg ? reg->ptc : NULL, prefix);
    if (i == (size_t)-1) {
        em_fail_text(c, EM_MSG_PULL_THROUGH_CACHE_RULE_NOT_FOUND, prefix, reg_id);
        return NULL;
    }
    if (index)
        *index = i;
    return reg->ptc->v[i];
}

/* Adds the members named in `which` ("P" prefix, "U" URL and upstream
 * registry, "u" URL only, "C" createdAt, "D" updatedAt, "A" credentials,
 * role and upstream prefix) to o.  -1: no memory. */
static int rule_members(json_t *o, const em_ptc_rule *r, const char *registry_id, const char *which)
{
    int rc = em_set(o, "registryId", json_string(registry_id));
    for (const char *w = which; *w && rc == 0; w++) {
        switch (*w) {
        case 'P':
            rc = em_set(o, "ecrRepositoryPrefix", json_string(r->prefix));
            break;
        case 'U':
            rc = em_set(o, "upstreamRegistry", json_string(r->upstream));
            /* fall through */
        case 'u':
            if (rc == 0)
                rc = em_set(o, "upstreamRegistryUrl", json_string(r->url));
            break;
        case 'C':
            rc = em_set(o, "createdAt", em_time(r->created_ms));
            break;
        case 'D':
            rc = em_set(o, "updatedAt", em_time(r->updated_ms));
            break;
        case 'A':
            if (r->credential_arn)
                rc = em_set(o, "credentialArn", json_string(r->credential_arn));
            if (rc == 0 && r->custom_role_arn)
                rc = em_set(o, "customRoleArn", json_string(r->custom_role_arn));
            if (rc == 0 && r->upstream_prefix)
                rc = em_set(o, "upstreamRepositoryPrefix", json_string(r->upstream_prefix));
            break;
        }
    }
    return rc;
}

/* ---- CreatePullThroughCacheRule --------------------------------------------------- */

static int unsupported_url(em_call *c, const char *url)
{
    return em_fail_member(em_fail_text(c, EM_MSG_UPSTREAM_URL_INVALID, url), c, "$.upstreamRegistryUrl");
}

/* The credentials a rule for `upstream` may and must have. */
static int check_credentials(em_call *c, const char *upstream, const char *cred, const char *role,
                             const char *ecr_account, const char *registry_id)
{
    if (needs_secret(upstream) && !cred)
        return em_fail_member(em_fail_text(c, EM_MSG_UPSTREAM_NEEDS_SECRET), c, "$.credentialArn");
    if (!needs_secret(upstream) && cred)
        return em_fail_member(em_fail_text(c, EM_MSG_UPSTREAM_TAKES_NO_SECRET), c, "$.credentialArn");
    if (role && strcmp(upstream, "ecr") != 0)
        return em_fail_rule(c, "customRoleArn", EM_RULE_ROLE_ONLY_FOR_ECR);
    if (role && em_role_arn_check(c, role, registry_id) < 0)
        return -1;
    if (!role && strcmp(upstream, "ecr") == 0 && strcmp(ecr_account, registry_id) != 0)
        return em_fail_rule(c, "customRoleArn", EM_RULE_ROLE_REQUIRED);
    return 0;
}

int em_CreatePullThroughCacheRule(em_call *c)
{
    ecrmock *m = c->m;
    const char *reg_id = em_registry_id(c);
    const char *prefix = em_get_str(c->req, "ecrRepositoryPrefix");
    const char *url = em_get_str(c->req, "upstreamRegistryUrl");
    const char *named = em_get_str(c->req, "upstreamRegistry");
    const char *cred = em_get_str(c->req, "credentialArn");
    const char *role = em_get_str(c->req, "customRoleArn");
    const char *up_prefix = em_get_str(c->req, "upstreamRepositoryPrefix");
    char ecr_account[13] = "";

    /* The user guide: the upstream prefix "can be set only when the Amazon
     * ECR repository prefix has a non-ROOT value". */
    if (up_prefix && strcmp(prefix, "ROOT") == 0 && strcmp(up_prefix, "ROOT") != 0)
        return em_fail_rule(c, "upstreamRepositoryPrefix", EM_RULE_UPSTREAM_PREFIX_AT_ROOT);
    const char *upstream = upstream_of(url, ecr_account);
    if (!upstream || (named && strcmp(named, upstream) != 0))
        return unsupported_url(c, url);
    if (check_credentials(c, upstream, cred, role, ecr_account, reg_id) < 0)
        return -1;

    em_registry *reg = em_registry_get(m, reg_id);
    struct em_ptc_rules *rules = reg ? reg->ptc : NULL;
    if (find_rule(rules, prefix) != (size_t)-1)
        return em_fail_text(c, EM_MSG_PULL_THROUGH_CACHE_RULE_ALREADY_EXISTS, prefix, reg_id);
    if (rules && rules->n >= MAX_RULES)
        return em_fail_text(c, EM_MSG_PULL_THROUGH_CACHE_RULE_LIMIT, reg_id, MAX_RULES);
    if (cred && check_secret(c, cred) < 0)
        return -1;

    /* Allocate everything, then link: a failure changes nothing. */
    em_ptc_rule *r = em_calloc(1, sizeof *r);
    if (!r)
        return em_fail_nomem(c);
    r->prefix = prefix_key(prefix);
    r->url = em_strdup(url);
    r->upstream = upstream;
    r->credential_arn = em_strdup(cred);
    r->custom_role_arn = em_strdup(role);
    r->upstream_prefix = up_prefix ? prefix_key(up_prefix) : strcmp(upstream, "ecr") == 0 ? em_strdup("ROOT") : NULL;
    r->created_ms = r->updated_ms = m->clock_ms;
    bool ok = r->prefix && r->url && (!cred || r->credential_arn) && (!role || r->custom_role_arn) &&
              (r->upstream_prefix || (!up_prefix && strcmp(upstream, "ecr") != 0)) &&
              rule_members(c->out, r, reg_id, "PUCA") == 0;
    em_registry_mark mark = em_registry_mark_of(m, reg_id);
    bool fresh_list = !rules;
    reg = ok ? em_registry_ensure(m, reg_id) : NULL;
    if (reg && !reg->ptc)
        reg->ptc = em_calloc(1, sizeof *reg->ptc);
    rules = reg ? reg->ptc : NULL;
    if (rules && rules->n == rules->cap) {
        size_t cap = rules->cap ? rules->cap * 2 : 8;
        em_ptc_rule **v = em_realloc(rules->v, cap * sizeof *v);
        if (v) {
            rules->v = v;
            rules->cap = cap;
        }
    }
    if (!rules || rules->n == rules->cap) {
        /* Undo what was made here: a failure changes nothing. */
        rule_free(r);
        if (reg && fresh_list)
            em_ptc_rules_free(reg);
        em_registry_abandon(&mark);
        return em_fail_nomem(c);
    }
    r->seq = ++rules->seq;
    rules->v[rules->n++] = r;
    return 0;
}

/* ---- DescribePullThroughCacheRules ------------------------------------------------ */

static json_t *rule_json(const em_ptc_rule *r, const char *registry_id)
{
    json_t *o = json_object();
    if (o && rule_members(o, r, registry_id, "PUCDA") < 0) {
        json_decref(o);
        o = NULL;
    }
    return o;
}

json_t *em_ptc_rules_json(const em_registry *reg)
{
    json_t *list = json_array();
    for (size_t i = 0; list && reg->ptc && i < reg->ptc->n; i++) {
        json_t *o = rule_json(reg->ptc->v[i], reg->id);
        if (o)
            json_object_del(o, "registryId");
        if (json_array_append_new(list, o) < 0) {
            json_decref(list);
            list = NULL;
        }
    }
    return list;
}

static int describe_named(em_call *c, json_t *prefixes, json_t *list)
{
    const char *reg_id = em_registry_id(c);
    em_registry *reg = em_registry_get(c->m, reg_id);
    struct em_ptc_rules *rules = reg ? reg->ptc : NULL;
    size_t i;
    json_t *v;
    json_array_foreach(prefixes, i, v) {
        if (find_rule(rules, json_string_value(v)) == (size_t)-1)
            return em_fail_text(c, EM_MSG_PULL_THROUGH_CACHE_RULE_NOT_FOUND, json_string_value(v), reg_id);
    }
    /* Each rule once, in the order asked ("team" and "team/" are one rule). */
    json_array_foreach(prefixes, i, v) {
        size_t k = find_rule(rules, json_string_value(v));
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = find_rule(rules, json_string_value(json_array_get(prefixes, j))) == k;
        if (!seen && json_array_append_new(list, rule_json(rules->v[k], reg_id)) < 0)
            return em_fail_nomem(c);
    }
    return 0;
}

int em_DescribePullThroughCacheRules(em_call *c)
{
    json_t *prefixes = json_object_get(c->req, "ecrRepositoryPrefixes");
    const char *token = em_get_str(c->req, "nextToken");
    int64_t max = em_get_int(c->req, "maxResults", 100);
    json_t *list = json_array();
    if (!list || em_set(c->out, "pullThroughCacheRules", list) < 0)
        return em_fail_nomem(c);
    if (prefixes) {
        if (em_page_refuse(c, "ecrRepositoryPrefixes") < 0)
            return -1;
        return describe_named(c, prefixes, list);
    }

    const char *reg_id = em_registry_id(c);
    char scope[64];
    snprintf(scope, sizeof scope, "DescribePullThroughCacheRules|%s", reg_id);
    em_page_pos pos = {0};
    if (token && em_page_parse(c, scope, token, &pos) < 0)
        return -1;
    em_registry *reg = em_registry_get(c->m, reg_id);
    struct em_ptc_rules *rules = reg ? reg->ptc : NULL;
    for (size_t i = 0; rules && i < rules->n; i++) {
        em_ptc_rule *r = rules->v[i];
        if (r->seq < pos.seq)
            continue;
        if ((int64_t)json_array_size(list) == max) {
            em_page_pos next = {.seq = r->seq};
            return em_set(c->out, "nextToken", em_page_token(c->m, scope, &next)) < 0 ? em_fail_nomem(c) : 0;
        }
        if (json_array_append_new(list, rule_json(r, reg_id)) < 0)
            return em_fail_nomem(c);
    }
    return 0;
}

/* ---- UpdatePullThroughCacheRule ----------------------------------------------------- */

int em_UpdatePullThroughCacheRule(em_call *c)
{
    const char *reg_id = em_registry_id(c);
    const char *cred = em_get_str(c->req, "credentialArn");
    const char *role = em_get_str(c->req, "customRoleArn");
    em_ptc_rule *r = rule_lookup(c, NULL);
    if (!r)
        return -1;
    if (!cred && !role)
        return em_fail_rule(c, "credentialArn", EM_RULE_CREDENTIAL_OR_ROLE);
    char ecr_account[13] = "";
    if (strcmp(r->upstream, "ecr") == 0)
        upstream_of(r->url, ecr_account);
    /* What the rule will hold: the request's values, the rule's for the rest. */
    const char *new_cred = cred ? cred : r->credential_arn;
    const char *new_role = role ? role : r->custom_role_arn;
    if (check_credentials(c, r->upstream, new_cred, new_role, ecr_account, reg_id) < 0)
        return -1;
    if (cred && check_secret(c, cred) < 0)
        return -1;

    char *cred_copy = em_strdup(cred), *role_copy = em_strdup(role);
    json_t *out = json_object();
    em_ptc_rule after = *r;
    if (cred)
        after.credential_arn = cred_copy;
    if (role)
        after.custom_role_arn = role_copy;
    after.updated_ms = c->m->clock_ms;
    if ((cred && !cred_copy) || (role && !role_copy) || !out || rule_members(out, &after, reg_id, "PDA") < 0) {
        em_free(cred_copy);
        em_free(role_copy);
        json_decref(out);
        return em_fail_nomem(c);
    }
    json_decref(c->out);
    c->out = out;
    if (cred)
        em_free(r->credential_arn);
    if (role)
        em_free(r->custom_role_arn);
    *r = after;
    return 0;
}

/* ---- DeletePullThroughCacheRule ----------------------------------------------------- */

int em_DeletePullThroughCacheRule(em_call *c)
{
    size_t i;
    em_ptc_rule *r = rule_lookup(c, &i);
    if (!r)
        return -1;
    if (rule_members(c->out, r, em_registry_id(c), "PuCA") < 0)
        return em_fail_nomem(c);
    struct em_ptc_rules *rules = em_registry_get(c->m, em_registry_id(c))->ptc;
    memmove(rules->v + i, rules->v + i + 1, (rules->n - i - 1) * sizeof *rules->v);
    rules->n--;
    rule_free(r);
    return 0;
}

/* ---- ValidatePullThroughCacheRule --------------------------------------------------- */

/* ECR reads the secret and signs in to the upstream with it; the fake asks
 * its Secrets Manager what the secret would do.  A rule without a secret
 * (no authentication, or an IAM role) validates. */
int em_ValidatePullThroughCacheRule(em_call *c)
{
    em_ptc_rule *r = rule_lookup(c, NULL);
    if (!r)
        return -1;
    const char *failure =
        r->credential_arn ? em_message_format(secret_problem(secret_state(c->m, r->credential_arn))) : NULL;

    if (rule_members(c->out, r, em_registry_id(c), "PuA") < 0 || em_set(c->out, "isValid", json_boolean(!failure)) < 0 ||
        (failure && em_set(c->out, "failure", json_string(failure)) < 0))
        return em_fail_nomem(c);
    return 0;
}
