/* include/apical/comm.h over MPI, for the CLI (sim/comm_mpi.h). Built with
 * mpicc when the Makefile finds it (APICAL_HAVE_MPI); without it, a stub
 * that refuses to run under mpirun. Only the calling (main) thread calls
 * MPI: MPI_THREAD_FUNNELED. Counts are bytes; MPI counts are int, so one
 * exchange moves at most INT_MAX bytes per rank and in total. */
#include "comm_mpi.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

static int launched_by_mpirun(void)
{
    return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMIX_RANK") || getenv("PMI_RANK");
}

#ifdef APICAL_HAVE_MPI
#include <mpi.h>

static int c_allgather(void *impl, const void *send, void *recv, size_t n)
{
    (void)impl;
    if (n > INT_MAX)
        return 1;
    return MPI_Allgather(send, (int)n, MPI_BYTE, recv, (int)n, MPI_BYTE, MPI_COMM_WORLD) !=
           MPI_SUCCESS;
}

/* int counts and displacements from size_t ones; 1 when they do not fit */
static int int_counts(const size_t *counts, int **cnt, int **dsp)
{
    int size;
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    *cnt = malloc((size_t)size * sizeof **cnt);
    *dsp = malloc((size_t)size * sizeof **dsp);
    if (!*cnt || !*dsp)
        return 1;
    size_t at = 0;
    for (int r = 0; r < size; r++) {
        if (counts[r] > INT_MAX || at > INT_MAX)
            return 1;
        (*cnt)[r] = (int)counts[r];
        (*dsp)[r] = (int)at;
        at += counts[r];
    }
    return at > INT_MAX;
}

static int c_allgatherv(void *impl, const void *send, void *recv, const size_t *counts)
{
    (void)impl;
    int rank, *cnt = NULL, *dsp = NULL, rc = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    if (!int_counts(counts, &cnt, &dsp))
        rc = MPI_Allgatherv(send, cnt[rank], MPI_BYTE, recv, cnt, dsp, MPI_BYTE,
                            MPI_COMM_WORLD) != MPI_SUCCESS;
    free(cnt), free(dsp);
    return rc;
}

static int c_gatherv(void *impl, const void *send, void *recv, const size_t *counts)
{
    (void)impl;
    int rank, *cnt = NULL, *dsp = NULL, rc = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    if (!int_counts(counts, &cnt, &dsp))
        rc = MPI_Gatherv(send, cnt[rank], MPI_BYTE, recv, cnt, dsp, MPI_BYTE, 0,
                         MPI_COMM_WORLD) != MPI_SUCCESS;
    free(cnt), free(dsp);
    return rc;
}

static int c_bcast(void *impl, void *buf, size_t n, int root)
{
    (void)impl;
    if (n > INT_MAX)
        return 1;
    return MPI_Bcast(buf, (int)n, MPI_BYTE, root, MPI_COMM_WORLD) != MPI_SUCCESS;
}

static int c_reduce_or(void *impl, void *buf, size_t n)
{
    (void)impl;
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    for (size_t at = 0; at < n;) { /* in pieces of at most 1 GiB */
        size_t k = n - at < ((size_t)1 << 30) ? n - at : (size_t)1 << 30;
        char *p = (char *)buf + at;
        if (MPI_Reduce(rank == 0 ? MPI_IN_PLACE : p, p, (int)k, MPI_BYTE, MPI_BOR, 0,
                       MPI_COMM_WORLD) != MPI_SUCCESS)
            return 1;
        at += k;
    }
    return 0;
}

static int c_allreduce_u64(void *impl, uint64_t *v, size_t n, int op)
{
    (void)impl;
    if (n > INT_MAX)
        return 1;
    return MPI_Allreduce(MPI_IN_PLACE, v, (int)n, MPI_UINT64_T,
                         op == APICAL_COMM_MAX ? MPI_MAX : MPI_SUM,
                         MPI_COMM_WORLD) != MPI_SUCCESS;
}

static int c_allreduce_min(void *impl, double *v, size_t n)
{
    (void)impl;
    if (n > INT_MAX)
        return 1;
    return MPI_Allreduce(MPI_IN_PLACE, v, (int)n, MPI_DOUBLE, MPI_MIN, MPI_COMM_WORLD) !=
           MPI_SUCCESS;
}

static const apical_comm_ops mpi_ops = {c_allgather,  c_allgatherv,     c_gatherv,
                                        c_bcast,      c_reduce_or,      c_allreduce_u64,
                                        c_allreduce_min};

apical_status apical_comm_mpi_start(int *argc, char ***argv, apical_comm **out,
                                    apical_error *err)
{
    *out = NULL;
    if (!launched_by_mpirun())
        return APICAL_OK;
    int provided = 0;
    if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
        return apical_error_set(err, APICAL_E_COMM, NULL, "MPI_Init_thread failed");
    /* errors come back as codes, reported as APICAL_E_COMM by every rank */
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    apical_comm *c = calloc(1, sizeof *c);
    if (!c) {
        MPI_Finalize();
        return apical_error_set(err, APICAL_E_NOMEM, NULL, "out of memory");
    }
    MPI_Comm_rank(MPI_COMM_WORLD, &c->rank);
    MPI_Comm_size(MPI_COMM_WORLD, &c->size);
    c->ops = &mpi_ops;
    *out = c;
    return APICAL_OK;
}

void apical_comm_mpi_end(apical_comm *c)
{
    if (!c)
        return;
    MPI_Finalize();
    free(c);
}

#else /* built without MPI */

apical_status apical_comm_mpi_start(int *argc, char ***argv, apical_comm **out,
                                    apical_error *err)
{
    (void)argc;
    (void)argv;
    *out = NULL;
    const char *n = getenv("OMPI_COMM_WORLD_SIZE");
    if (launched_by_mpirun() && !(n && !strcmp(n, "1")))
        return apical_error_set(err, APICAL_E_INVALID, NULL,
                                "this apical was built without MPI (no mpicc when it was "
                                "built): every rank would run the whole network; install "
                                "libopenmpi-dev and rebuild, or run without mpirun");
    return APICAL_OK;
}

void apical_comm_mpi_end(apical_comm *c)
{
    (void)c;
}

#endif
