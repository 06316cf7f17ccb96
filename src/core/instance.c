/*
 * The instance's plumbing: version, options, the lock, the virtual clock,
 * the key's MAC and the seeded id generator.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "core/core.h"

const char *ecrmock_version(void)
{
    return ECRMOCK_VERSION_STRING;
}

/* ---- options ------------------------------------------------------------------ */

void em_options_apply(ecrmock *m, const ecrmock_options *o)
{
    ecrmock_options d;
    if (em_options_read(o, &d) < 0) /* ecrmock_new() checked it */
        return;
    em_options_defaults(&d);
    snprintf(m->home_account, sizeof m->home_account, "%s", d.account_id);
    snprintf(m->home_region, sizeof m->home_region, "%s", d.region);
    memcpy(m->account, m->home_account, sizeof m->account);
    memcpy(m->region, m->home_region, sizeof m->region);
    /* Not the view's account and region, which ecrmock_call_as() switches:
     * the options stay what they were, whoever reads them. */
    d.account_id = m->home_account;
    d.region = m->home_region;
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

int64_t em_wall_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Wall mode: now is the system clock plus the offset, read once as the
 * lock is taken, so that one call sees one time from start to end. */
static void clock_refresh(ecrmock *m)
{
    int64_t wall = em_wall_ms();
    m->clock_wall_ms = wall < 0 ? 0 : wall > ECRMOCK_CLOCK_MAX_MS ? ECRMOCK_CLOCK_MAX_MS : wall;
    /* |offset| stays within twice ECRMOCK_CLOCK_MAX_MS: the sum cannot overflow */
    int64_t now = m->clock_wall_ms + m->clock_offset_ms;
    m->clock_ms = now < 0 ? 0 : now > ECRMOCK_CLOCK_MAX_MS ? ECRMOCK_CLOCK_MAX_MS : now;
}

void em_lock(ecrmock *m)
{
    pthread_mutex_lock(&m->lock);
    if (m->lock_depth++ == 0 && m->clock_wall)
        clock_refresh(m);
}

void em_unlock(ecrmock *m)
{
    m->lock_depth--;
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

/* ---- options of a running instance ------------------------------------------ */

int em_options_update(ecrmock *m, const ecrmock_options *o, const char *source, ecrmock_err *err)
{
    em_lock(m);
    int rc = em_options_merge(&m->opts, o, source, err);
    em_unlock(m);
    return rc;
}

int ecrmock_options_set(ecrmock *m, const ecrmock_options *o, ecrmock_err *err)
{
    em_err_clear(err);
    if (!m || !o)
        return em_err_arg(err, "ecrmock_options_set: m and o must not be NULL");
    return em_options_update(m, o, NULL, err);
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
    em_clock_put(m, now + ms);
    return 0;
}

void em_clock_put(ecrmock *m, int64_t ms)
{
    m->clock_ms = ms;
    if (m->clock_wall)
        m->clock_offset_ms = ms - m->clock_wall_ms;
}

int64_t em_clock_signing_ms(ecrmock *m)
{
    return m->clock_wall ? m->clock_wall_ms : m->http_sigv4_system_clock ? em_wall_ms() : m->clock_ms;
}

ecrmock_clock_mode ecrmock_clock_mode_get(ecrmock *m)
{
    if (!m)
        return ECRMOCK_CLOCK_PINNED;
    em_lock(m);
    ecrmock_clock_mode mode = m->clock_wall ? ECRMOCK_CLOCK_WALL : ECRMOCK_CLOCK_PINNED;
    em_unlock(m);
    return mode;
}

int ecrmock_clock_mode_set(ecrmock *m, ecrmock_clock_mode mode, ecrmock_err *err)
{
    em_err_clear(err);
    if (!m)
        return em_err_arg(err, "no instance (m is NULL)");
    if (mode != ECRMOCK_CLOCK_PINNED && mode != ECRMOCK_CLOCK_WALL)
        return em_err_arg(err, "clock mode %d is neither ECRMOCK_CLOCK_PINNED nor ECRMOCK_CLOCK_WALL", (int)mode);
    em_lock(m);
    if (mode == ECRMOCK_CLOCK_WALL) {
        m->clock_wall = true;
        m->clock_offset_ms = 0;
        clock_refresh(m);
    } else {
        m->clock_wall = false; /* pinned where it is now */
    }
    em_unlock(m);
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
    em_clock_put(m, ms);
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
    em_seeded_draw_in(m->sha256_ctx, m->sha256, NULL, m->seed, m->draws++, out); /* with the lock */
}

void em_request_random(ecrmock *m, unsigned char out[32])
{
    em_seeded_draw_in(m->sha256_ctx, m->sha256, "ecrmock requests", m->seed, m->request_draws++, out);
}

void em_uuid(ecrmock *m, char *out)
{
    unsigned char r[32];
    em_random(m, r);
    em_uuid_of(r, out);
}

/* The "no repository" error of a test control (core.h): here, beside the
 * lock it reads the caller's account under. */
int em_err_no_repo(ecrmock_err *err, ecrmock *m, const char *registry_id, const char *repository)
{
    /* Called once the control let go of the lock: the current account is
     * read under it again (another thread's ecrmock_call_as() changes it). */
    char account[sizeof m->account];
    em_lock(m);
    snprintf(account, sizeof account, "%s", m->account);
    em_unlock(m);
    return em_err_set(err, ECRMOCK_ERR_REPOSITORY_NOT_FOUND, NULL, "no repository '%.256s' in the registry '%s'",
                      repository, registry_id ? registry_id : account);
}
