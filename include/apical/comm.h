/* The exchange between processes (ranks) that each run a subset of a
 * simulation's partitions. The engine and the CLI call only these; the one
 * implementation that calls MPI is the CLI's (sim/comm_mpi.c), so the
 * library itself never links MPI. A NULL comm, or one of size 1, is one
 * process: the engine then exchanges nothing (docs/ARCHITECTURE.md "Ranks").
 *
 * Every operation is collective: every rank calls it, in the same order,
 * with the same sizes where stated. Each returns 0, or non-zero when the
 * transport failed (the caller reports APICAL_E_COMM). */
#ifndef APICAL_COMM_H
#define APICAL_COMM_H

#include <stddef.h>
#include <stdint.h>

#include "apical/error.h"

typedef struct apical_comm_ops {
    /* n bytes from every rank (the same n on all), concatenated in rank
     * order into recv (size * n bytes), on every rank. */
    int (*allgather)(void *impl, const void *send, void *recv, size_t n);
    /* counts[r] bytes from rank r (counts known to every rank, e.g. from
     * allgather), concatenated in rank order into recv, on every rank. */
    int (*allgatherv)(void *impl, const void *send, void *recv, const size_t *counts);
    /* as allgatherv, but only rank 0 receives (recv may be NULL elsewhere) */
    int (*gatherv)(void *impl, const void *send, void *recv, const size_t *counts);
    /* n bytes from rank root to every rank */
    int (*bcast)(void *impl, void *buf, size_t n, int root);
    /* bitwise OR of n bytes over all ranks, into buf on rank 0 (in place);
     * other ranks' buf is unchanged. Exact for any bits when each byte is
     * non-zero on at most one rank. */
    int (*reduce_or)(void *impl, void *buf, size_t n);
    /* element-wise sum (op 0), max (op 1) of n uint64 over all ranks, on all */
    int (*allreduce_u64)(void *impl, uint64_t *v, size_t n, int op);
    /* element-wise minimum of n doubles over all ranks, on all */
    int (*allreduce_min)(void *impl, double *v, size_t n);
} apical_comm_ops;

typedef struct apical_comm {
    int rank, size;
    const apical_comm_ops *ops;
    void *impl;
} apical_comm;

enum { APICAL_COMM_SUM = 0, APICAL_COMM_MAX = 1 };

static inline int apical_comm_size(const apical_comm *c)
{
    return c ? c->size : 1;
}

static inline int apical_comm_rank(const apical_comm *c)
{
    return c ? c->rank : 0;
}

/* Agreement on a status: every rank passes its own (APICAL_OK or an
 * error); if any failed, every rank gets the lowest failing rank's status
 * and error record (err may be NULL), so all stop together with one
 * message. One process: returns st unchanged. Transport failure:
 * APICAL_E_COMM. */
apical_status apical_comm_agree(const apical_comm *c, apical_status st, apical_error *err);

/* Concatenate every rank's n_local bytes in rank order on every rank (all =
 * true) or on rank 0 only; *out is malloc'ed (free it), *n_out its size.
 * One process: a copy. */
apical_status apical_comm_collect(const apical_comm *c, int all, const void *local,
                                  size_t n_local, void **out, size_t *n_out,
                                  apical_error *err);

#endif
