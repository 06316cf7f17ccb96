/*
 * Prepared fixtures: a fixture loaded once into an instance of its own that
 * is never called again, and copied into each instance that starts from it
 * (store/copy.c), which costs a fraction of a load: no schema check, no
 * layer bytes made, no manifest parsed or hashed.
 *
 * An apply builds the copy in a scratch instance, then swaps it in as
 * ecrmock_fixture_load() does, so a failure changes nothing.  The prepared
 * instance is only read, never locked: any number of threads apply it.
 */
#include <string.h>

#include "tooling.h"

struct ecrmock_fixture {
    ecrmock *state; /* the fixture loaded; read only from then on */
    json_t *faults; /* its fault rules (a copy), added afresh to each instance; or NULL */
    bool clock;     /* the fixture has a clock: it wins (a fixture without one leaves the clock alone) */
};

void ecrmock_fixture_free(ecrmock_fixture *fx)
{
    if (!fx)
        return;
    ecrmock_free(fx->state);
    json_decref(fx->faults);
    em_free(fx);
}

ecrmock_fixture *ecrmock_fixture_prepare(json_t *fixture, const ecrmock_options *opts, const char *source,
                                         ecrmock_err *err)
{
    em_err_clear(err);
    if (!fixture) {
        em_err_arg(err, "no fixture (fixture is NULL)");
        return NULL;
    }
    if (ecrmock_options_check(opts, err) < 0)
        return NULL;
    ecrmock_fixture *fx = em_calloc(1, sizeof *fx);
    if (!fx || !(fx->state = ecrmock_new(opts))) {
        ecrmock_fixture_free(fx);
        em_err_nomem(err);
        return NULL;
    }
    fx->state->journal_on = false;
    fx->clock = json_object_get(fixture, "clock") != NULL;
    if (ecrmock_fixture_load(fx->state, fixture, source, err) < 0) {
        ecrmock_fixture_free(fx);
        return NULL;
    }
    /* copied once the load checked them (a tree nested past 2048 levels,
     * which the copy would recurse through, is refused there) */
    json_t *faults = json_object_get(fixture, "faults");
    if (faults && !(fx->faults = json_deep_copy(faults))) {
        ecrmock_fixture_free(fx);
        em_err_nomem(err);
        return NULL;
    }
    return fx;
}

ecrmock_fixture *ecrmock_fixture_prepare_file(const char *path, const ecrmock_options *opts, ecrmock_err *err)
{
    json_t *doc = em_fx_read_file(path, err);
    if (!doc)
        return NULL;
    ecrmock_fixture *fx = ecrmock_fixture_prepare(doc, opts, path, err);
    json_decref(doc);
    return fx;
}

int ecrmock_fixture_apply(ecrmock *m, const ecrmock_fixture *fx, ecrmock_err *err)
{
    em_err_clear(err);
    if (!m)
        return em_err_arg(err, "no instance (m is NULL)");
    if (!fx)
        return em_err_arg(err, "no prepared fixture (fx is NULL)");
    /* m->opts: the instance's own (the views of ecrmock_call_as() do not
     * touch it), read under the lock as ecrmock_options_set() may change
     * its limits meanwhile. */
    em_lock(m);
    ecrmock_options mine = m->opts;
    em_unlock(m);
    const char *differs = em_options_diff(&mine, &fx->state->opts);
    if (differs)
        return em_err_arg(err, "the instance's option %s differs from the prepared fixture's: prepare it with the "
                               "instance's options",
                          differs);
    ecrmock *s = ecrmock_new(&mine); /* the copy read under the lock, not m->opts */
    if (!s)
        return em_err_nomem(err);
    s->journal_on = false;
    em_lock(m);
    uint64_t seq = m->seq; /* new items sort after any page token the instance handed out */
    s->fault_ids = m->fault_ids; /* and the fixture's rules never take an id handed out before */
    em_unlock(m);
    int rc = em_state_copy(s, fx->state, seq);
    s->clock_ms = fx->state->clock_ms;
    for (size_t i = 0; rc == 0 && i < json_array_size(fx->faults); i++)
        if (ecrmock_fault_add_json(s, json_array_get(fx->faults, i), NULL) < 0)
            rc = -1; /* the rules were checked at the load: memory ran out */
    if (rc == 0) {
        em_lock(m);
        rc = em_fx_swap_state(m, s, fx->clock);
        em_unlock(m);
    }
    ecrmock_free(s);
    return rc < 0 ? em_err_nomem(err) : 0;
}

ecrmock *ecrmock_new_from_fixture(const ecrmock_fixture *fx, ecrmock_err *err)
{
    em_err_clear(err);
    if (!fx) {
        em_err_arg(err, "no prepared fixture (fx is NULL)");
        return NULL;
    }
    ecrmock *m = ecrmock_new(&fx->state->opts);
    if (!m) {
        em_err_nomem(err);
        return NULL;
    }
    if (ecrmock_fixture_apply(m, fx, err) < 0) {
        ecrmock_free(m);
        return NULL;
    }
    return m;
}
