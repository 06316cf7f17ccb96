/*
 * The instance's plumbing: version, options, the lock, the virtual clock,
 * the key's MAC and the seeded id generator.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "core/core.h"

const char *ecrmock_version(void)
{
    return ECRMOCK_VERSION_STRING;
}

/* ---- options ------------------------------------------------------------------ */

static bool all_digits(const char *s, size_t n)
{
    if (strlen(s) != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

const char *ecrmock_options_check(const ecrmock_options *o)
{
    if (!o)
        return NULL;
    if (o->version < 1 || o->version > ECRMOCK_OPTIONS_VERSION)
        return "ecrmock_options.version is not one this library knows: initialise the options "
               "with ECRMOCK_OPTIONS_INIT";
    if (o->account_id && !all_digits(o->account_id, 12))
        return "ecrmock_options.account_id must be 12 digits, like \"123456789012\"";
    if (o->region && !em_region_name_ok(o->region))
        return "ecrmock_options.region must be 1 to 63 characters of a-z, 0-9 and '-', like "
               "\"us-east-1\"";
    if (o->upload_lifetime_ms < 0)
        return "ecrmock_options.upload_lifetime_ms must not be negative (0 means the default)";
    if (o->clock_start_ms < 0)
        return "ecrmock_options.clock_start_ms must not be negative (0 means the default)";
    if (o->token_length && (o->token_length < 512 || o->token_length > 65536))
        return "ecrmock_options.token_length must be 512 to 65536 characters (0 means ECR's 2368)";
    if (o->clock_start_ms > ECRMOCK_CLOCK_MAX_MS)
        return "ecrmock_options.clock_start_ms must be at most ECRMOCK_CLOCK_MAX_MS (253402300799999, "
               "9999-12-31T23:59:59.999Z)";
    return NULL;
}

void em_options_apply(ecrmock *m, const ecrmock_options *o)
{
    ecrmock_options d = ECRMOCK_OPTIONS_INIT;
    if (o)
        memcpy(&d, o, sizeof d); /* only version 1 exists so far */
    snprintf(m->home_account, sizeof m->home_account, "%s", d.account_id ? d.account_id : ECRMOCK_DEFAULT_ACCOUNT);
    snprintf(m->home_region, sizeof m->home_region, "%s", d.region ? d.region : ECRMOCK_DEFAULT_REGION);
    memcpy(m->account, m->home_account, sizeof m->account);
    memcpy(m->region, m->home_region, sizeof m->region);
    d.version = ECRMOCK_OPTIONS_VERSION;
    /* Not the view's account and region, which ecrmock_call_as() switches:
     * the options stay what they were, whoever reads them. */
    d.account_id = m->home_account;
    d.region = m->home_region;
    if (!d.clock_start_ms)
        d.clock_start_ms = ECRMOCK_DEFAULT_CLOCK_MS;
    if (!d.min_part_size)
        d.min_part_size = ECRMOCK_DEFAULT_MIN_PART_SIZE;
    if (!d.upload_lifetime_ms)
        d.upload_lifetime_ms = ECRMOCK_DEFAULT_UPLOAD_LIFETIME_MS;
    if (!d.max_repositories)
        d.max_repositories = 10000;
    if (!d.max_images)
        d.max_images = 100000;
    if (!d.max_layer_parts)
        d.max_layer_parts = 4200;
    if (!d.journal_limit)
        d.journal_limit = 10000;
    if (!d.max_layer_bytes)
        d.max_layer_bytes = (uint64_t)52000 * 1024 * 1024;
    if (!d.max_layers_per_image)
        d.max_layers_per_image = 127;
    if (!d.max_tags_per_image)
        d.max_tags_per_image = 1000;
    if (!d.max_resource_tags)
        d.max_resource_tags = 50;
    if (!d.token_length)
        d.token_length = ECRMOCK_DEFAULT_TOKEN_LENGTH;
    if (!d.max_synth_bytes)
        d.max_synth_bytes = (uint64_t)4 << 30;
    m->opts = d;
}

void em_mac_free(ecrmock *m)
{
    for (int i = 0; i < 3; i++) {
        EVP_MD_CTX_free(m->mac_states[i]);
        m->mac_states[i] = NULL;
    }
}

/* The key's inner and outer SHA-256 states are made at first use and copied
 * for each MAC: HMAC() sets its MAC up again on every call, which made a
 * page token cost six times what it does this way (bench/PROFILE.md). */
int em_mac(ecrmock *m, const void *p, size_t n, unsigned char out[32])
{
    EVP_MD_CTX **st = (EVP_MD_CTX **)m->mac_states;
    if (!st[2]) {
        unsigned char pad[64];
        for (int k = 0; k < 2; k++) {
            memset(pad, k ? 0x5c : 0x36, sizeof pad);
            for (size_t i = 0; i < sizeof m->key; i++)
                pad[i] ^= m->key[i];
            st[k] = EVP_MD_CTX_new();
            if (!st[k] || !EVP_DigestInit_ex(st[k], EVP_sha256(), NULL) || !EVP_DigestUpdate(st[k], pad, sizeof pad)) {
                em_mac_free(m);
                return -1;
            }
        }
        st[2] = EVP_MD_CTX_new();
        if (!st[2]) {
            em_mac_free(m);
            return -1;
        }
    }
    unsigned char inner[32];
    return EVP_MD_CTX_copy_ex(st[2], st[0]) && EVP_DigestUpdate(st[2], p, n) && EVP_DigestFinal_ex(st[2], inner, NULL) &&
                   EVP_MD_CTX_copy_ex(st[2], st[1]) && EVP_DigestUpdate(st[2], inner, sizeof inner) &&
                   EVP_DigestFinal_ex(st[2], out, NULL)
               ? 0
               : -1;
}

void em_lock(ecrmock *m)
{
    pthread_mutex_lock(&m->lock);
}

void em_unlock(ecrmock *m)
{
    pthread_mutex_unlock(&m->lock);
}

void ecrmock_hooks_set(ecrmock *m, ecrmock_before_hook before, ecrmock_after_hook after, void *user)
{
    if (!m)
        return;
    em_lock(m);
    m->before = before;
    m->after = after;
    m->hook_user = user;
    em_unlock(m);
}

/* ---- the virtual clock ------------------------------------------------------ */

int64_t ecrmock_clock_now(ecrmock *m)
{
    if (!m)
        return 0;
    em_lock(m);
    int64_t now = m->clock_ms;
    em_unlock(m);
    return now;
}

int em_clock_move(ecrmock *m, int64_t ms)
{
    int64_t now = m->clock_ms;
    /* compared before it is added: the sum must not overflow */
    if (ms >= 0 ? now > INT64_MAX - ms : now < INT64_MIN - ms)
        return -1;
    if (now + ms < 0 || now + ms > ECRMOCK_CLOCK_MAX_MS)
        return -1;
    m->clock_ms = now + ms;
    return 0;
}

int ecrmock_clock_set(ecrmock *m, int64_t ms, ecrmock_err *err)
{
    em_err_clear(err);
    if (!m)
        return em_err_arg(err, "no instance (m is NULL)");
    if (ms < 0 || ms > ECRMOCK_CLOCK_MAX_MS)
        return em_err_arg(err, "time %" PRId64 " ms is outside 0..%" PRId64 " (1970 to the end of 9999)", ms,
                          ECRMOCK_CLOCK_MAX_MS);
    em_lock(m);
    m->clock_ms = ms;
    em_unlock(m);
    return 0;
}

int ecrmock_clock_advance(ecrmock *m, int64_t ms, ecrmock_err *err)
{
    em_err_clear(err);
    if (!m)
        return em_err_arg(err, "no instance (m is NULL)");
    em_lock(m);
    int64_t now = m->clock_ms;
    int rc = em_clock_move(m, ms);
    em_unlock(m);
    if (rc < 0)
        return em_err_arg(err, "moving the clock from %" PRId64 " ms by %" PRId64 " ms leaves 0..%" PRId64
                               " (1970 to the end of 9999)", now, ms, ECRMOCK_CLOCK_MAX_MS);
    return 0;
}

/* ---- seeded ids ----------------------------------------------------------------- */

/*
 * Every id the fake makes (upload ids, tokens, passwords) comes from
 * SHA-256(seed || counter): the same seed and the same calls give the same
 * ids, run after run, and instances never share a sequence.
 */
void em_random(ecrmock *m, unsigned char out[32])
{
    unsigned char in[16];
    uint64_t s = m->seed, c = m->draws++;
    for (int i = 0; i < 8; i++) {
        in[i] = (unsigned char)(s >> (8 * i));
        in[8 + i] = (unsigned char)(c >> (8 * i));
    }
    EVP_Digest(in, sizeof in, out, NULL, EVP_sha256(), NULL);
}

void em_request_random(ecrmock *m, unsigned char out[32])
{
    unsigned char in[32] = "ecrmock requests";
    uint64_t s = m->seed, c = m->request_draws++;
    for (int i = 0; i < 8; i++) {
        in[16 + i] = (unsigned char)(s >> (8 * i));
        in[24 + i] = (unsigned char)(c >> (8 * i));
    }
    EVP_Digest(in, sizeof in, out, NULL, EVP_sha256(), NULL);
}

void em_uuid(ecrmock *m, char *out)
{
    unsigned char r[32];
    em_random(m, r);
    em_uuid_of(r, out);
}
