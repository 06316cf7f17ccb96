/*
 * The instance's life: ecrmock_new, ecrmock_reset and ecrmock_free.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "testing/testing.h"

/* Each area's instance-wide state back to its start (freed). */
static void areas_reset(ecrmock *m)
{
    for (const em_area *a = m->areas; a->name; a++)
        if (a->reset)
            a->reset(m);
}

/* The state ecrmock_new() starts from; ecrmock_reset() comes back to it. */
static void start_state(ecrmock *m)
{
    /* Wall mode stays wall, its offset back to 0; pinned, the start. */
    m->clock_offset_ms = 0;
    m->clock_ms = m->clock_wall ? m->clock_wall_ms : m->opts.clock_start_ms;
    m->seed = m->opts.seed;
    m->draws = 0;
    m->seq = 0;
    m->fault_ids = 0;
    m->fault_draws = 0;
    m->request_draws = 0;
    m->journal_on = true;
    m->journal_seq = 0;
    memset(m->calls, 0, sizeof m->calls);
    memset(m->runs, 0, sizeof m->runs);
    areas_reset(m);
    unsigned char in[24] = "ecrmock key";
    for (int i = 0; i < 8; i++)
        in[16 + i] = (unsigned char)(m->seed >> (8 * i));
    EVP_Digest(in, sizeof in, m->key, NULL, EVP_sha256(), NULL);
    em_mac_free(m); /* states of the previous key */
}

ecrmock *ecrmock_new(const ecrmock_options *opts)
{
    if (ecrmock_options_check(opts, NULL) < 0)
        return NULL;
    ecrmock *m = em_calloc(1, sizeof *m);
    if (!m)
        return NULL;
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
    int rc = pthread_mutex_init(&m->lock, &attr);
    pthread_mutexattr_destroy(&attr);
    if (rc != 0) {
        em_free(m);
        return NULL;
    }
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
    m->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL); /* NULL: em_sha256_digest_by() uses EVP_sha256() */
    m->sha256_ctx = EVP_MD_CTX_new(); /* NULL: em_sha256_digest_in() makes its own */
#endif
    m->areas = em_areas;
    em_options_apply(m, opts);
    start_state(m);
    return m;
}

/* Frees what the calls made: what ecrmock_reset() empties. */
static void state_free(ecrmock *m)
{
    em_registries_free(m);
    em_regions_free(m);
    em_blobs_free(m);
    em_faults_free(m);
    em_journal_free(m);
    em_free(m->principal);
    m->principal = NULL;
}

void ecrmock_free(ecrmock *m)
{
    if (!m)
        return;
    state_free(m);
    areas_reset(m);
    em_mac_free(m);
    for (int i = 0; i < EM_PATTERN_COUNT; i++) {
        pcre2_code_free(m->patterns[i]);
        em_free(m->pattern_memo[i]);
    }
    pcre2_match_data_free(m->match_data);
    em_free(m->http_access_key);
    em_free(m->http_secret_key);
    em_free(m->http_base_url);
    em_free(m->http_session_token);
    em_free(m->tokens);
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
    EVP_MD_free(m->sha256);
    EVP_MD_CTX_free(m->sha256_ctx);
#endif
    pthread_mutex_destroy(&m->lock);
    em_free(m);
}

void ecrmock_reset(ecrmock *m)
{
    if (!m)
        return;
    em_lock(m);
    state_free(m);
    start_state(m);
    em_unlock(m);
}
