/* What the engine and the CLI build on the exchange operations of
 * include/apical/comm.h: a status agreement and a concatenation. No MPI
 * here (sim/comm_mpi.c has it). */
#include "apical/comm.h"

#include <stdlib.h>
#include <string.h>

static apical_status comm_failed(apical_error *err, const char *what)
{
    return apical_error_set(err, APICAL_E_COMM, NULL, "exchange between ranks failed (%s)", what);
}

apical_status apical_comm_agree(const apical_comm *c, apical_status st, apical_error *err)
{
    if (apical_comm_size(c) <= 1)
        return st;
    int32_t *all = malloc((size_t)c->size * sizeof *all);
    int32_t mine = (int32_t)st;
    if (!all) /* cannot even agree: the transport's own abort is what is left */
        return apical_error_set(err, APICAL_E_NOMEM, NULL, "out of memory agreeing on a status");
    if (c->ops->allgather(c->impl, &mine, all, sizeof mine)) {
        free(all);
        return comm_failed(err, "status");
    }
    int root = -1;
    for (int r = 0; r < c->size && root < 0; r++)
        if (all[r])
            root = r;
    free(all);
    if (root < 0)
        return APICAL_OK;
    apical_error e = {0};
    if (c->rank == root) {
        if (err)
            e = *err;
        if (!e.code)
            e.code = st;
    }
    if (c->ops->bcast(c->impl, &e, sizeof e, root))
        return comm_failed(err, "error record");
    /* pos.file pointed into the failing rank's memory: keep its copy */
    e.pos.file = NULL;
    if (err) {
        *err = e;
        if (e.file[0])
            err->pos.file = err->file;
    }
    return e.code ? e.code : APICAL_E_COMM;
}

apical_status apical_comm_collect(const apical_comm *c, int all, const void *local,
                                  size_t n_local, void **out, size_t *n_out, apical_error *err)
{
    *out = NULL;
    *n_out = 0;
    const int size = apical_comm_size(c);
    if (size <= 1) {
        void *m = malloc(n_local + 1);
        if (!m)
            return apical_error_set(err, APICAL_E_NOMEM, NULL, "out of memory");
        if (n_local)
            memcpy(m, local, n_local);
        *out = m;
        *n_out = n_local;
        return APICAL_OK;
    }
    uint64_t mine = n_local;
    uint64_t *n64 = malloc((size_t)size * sizeof *n64);
    size_t *counts = malloc((size_t)size * sizeof *counts);
    if (!n64 || !counts) {
        free(n64), free(counts);
        return apical_error_set(err, APICAL_E_NOMEM, NULL, "out of memory");
    }
    if (c->ops->allgather(c->impl, &mine, n64, sizeof mine)) {
        free(n64), free(counts);
        return comm_failed(err, "sizes");
    }
    size_t total = 0;
    for (int r = 0; r < size; r++)
        total += counts[r] = (size_t)n64[r];
    free(n64);
    const int receives = all || c->rank == 0;
    void *m = receives ? malloc(total + 1) : NULL;
    /* every rank must take part even when one cannot hold the result */
    apical_status st = apical_comm_agree(c, receives && !m ? APICAL_E_NOMEM : APICAL_OK, err);
    if (st) {
        free(m), free(counts);
        return st == APICAL_E_NOMEM ? apical_error_set(err, st, NULL,
                                                       "out of memory gathering %zu bytes", total)
                                    : st;
    }
    int rc = all ? c->ops->allgatherv(c->impl, local, m, counts)
                 : c->ops->gatherv(c->impl, local, m, counts);
    free(counts);
    if (rc) {
        free(m);
        return comm_failed(err, "data");
    }
    *out = m;
    *n_out = receives ? total : 0;
    return APICAL_OK;
}
