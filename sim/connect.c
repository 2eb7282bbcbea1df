#include "apical/connect.h"

#include <gsl/gsl_randist.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "apical/rng.h"

double apical_dist_sample(const apical_dist *d, gsl_rng *r)
{
    switch (d->kind) {
    case APICAL_DIST_CONSTANT:
        return d->a;
    case APICAL_DIST_UNIFORM:
        return d->a + (d->b - d->a) * gsl_rng_uniform(r);
    case APICAL_DIST_NORMAL:
        /* Redraw outside the clip range; after many tries the clip range is
         * so improbable that clamping changes nothing a user could see. */
        for (int tries = 0; tries < 1000; tries++) {
            double x = d->a + gsl_ran_gaussian_ziggurat(r, d->b);
            if (x >= d->lo && x <= d->hi)
                return x;
        }
        return fmin(fmax(d->a, d->lo), d->hi);
    }
    return d->a;
}

typedef struct gen {
    const apical_proj_spec *pj;
    uint64_t seed;
    gsl_rng *conn, *weight, *delay;
    uint32_t s_conn, s_weight, s_delay;
    uint64_t *bits; /* scratch bitset for sampling without replacement */
    apical_synapse_fn fn;
    void *user;
} gen;

/* Position the weight and delay streams on a column (or row) substream. */
static void start_line(gen *g, uint64_t line)
{
    apical_rng_init(apical_rng_gsl_state(g->conn), g->seed, g->s_conn, (uint32_t)line);
    apical_rng_init(apical_rng_gsl_state(g->weight), g->seed, g->s_weight, (uint32_t)line);
    apical_rng_init(apical_rng_gsl_state(g->delay), g->seed, g->s_delay, (uint32_t)line);
}

static int emit(gen *g, uint64_t src, uint64_t tgt)
{
    double w = apical_dist_sample(&g->pj->weight, g->weight);
    double d = apical_dist_sample(&g->pj->delay, g->delay);
    return g->fn(g->user, src, tgt, w, d);
}

/* k distinct indices of [0, m) (Floyd's algorithm), visited in increasing
 * order; `skip` (or UINT64_MAX) is excluded by mapping c >= skip to c + 1. */
static int choose(gen *g, uint64_t m, uint64_t k, uint64_t skip, uint64_t fixed,
                  int fixed_is_target)
{
    size_t words = (size_t)((m + 63) / 64);
    memset(g->bits, 0, words * sizeof *g->bits);
    for (uint64_t j = m - k; j < m; j++) {
        uint64_t t = gsl_rng_uniform_int(g->conn, (unsigned long)(j + 1));
        if (g->bits[t / 64] >> (t % 64) & 1)
            t = j;
        g->bits[t / 64] |= 1ull << (t % 64);
    }
    for (uint64_t c = 0; c < m; c++) {
        if (!(g->bits[c / 64] >> (c % 64) & 1))
            continue;
        uint64_t other = (skip != UINT64_MAX && c >= skip) ? c + 1 : c;
        int rc = fixed_is_target ? emit(g, other, fixed) : emit(g, fixed, other);
        if (rc)
            return rc;
    }
    return 0;
}

apical_status apical_connect(const apical_proj_spec *pj, uint64_t n_src,
                             uint64_t n_tgt, uint64_t seed, uint64_t tgt_lo,
                             uint64_t tgt_hi, apical_synapse_fn fn, void *user,
                             apical_error *err)
{
    gen g = {.pj = pj, .seed = seed, .fn = fn, .user = user};
    apical_status st = APICAL_OK;
    const int same = pj->source == pj->target;
    const int no_self = same && !pj->autapses;
    g.s_conn = apical_rng_stream_id(APICAL_RNG_CONNECT, pj->name);
    g.s_weight = apical_rng_stream_id(APICAL_RNG_WEIGHT, pj->name);
    g.s_delay = apical_rng_stream_id(APICAL_RNG_DELAY, pj->name);
    g.conn = apical_rng_gsl_alloc();
    g.weight = apical_rng_gsl_alloc();
    g.delay = apical_rng_gsl_alloc();
    uint64_t maxn = n_src > n_tgt ? n_src : n_tgt;
    g.bits = calloc((size_t)((maxn + 63) / 64 + 1), sizeof *g.bits);
    if (!g.conn || !g.weight || !g.delay || !g.bits) {
        st = apical_error_set(err, APICAL_E_NOMEM, &pj->pos, "out of memory building %s", pj->name);
        goto done;
    }
    if (tgt_hi > n_tgt)
        tgt_hi = n_tgt;
    int rc = 0;
    switch (pj->conn) {
    case APICAL_CONN_ALL_TO_ALL:
        for (uint64_t t = tgt_lo; t < tgt_hi && !rc; t++) {
            start_line(&g, t);
            for (uint64_t s = 0; s < n_src && !rc; s++)
                if (!(no_self && s == t))
                    rc = emit(&g, s, t);
        }
        break;
    case APICAL_CONN_ONE_TO_ONE:
        if (n_src != n_tgt) {
            st = apical_error_set(err, APICAL_E_RANGE, &pj->pos,
                                  "one_to_one needs populations of equal size (%llu and %llu)",
                                  (unsigned long long)n_src, (unsigned long long)n_tgt);
            goto done;
        }
        for (uint64_t t = tgt_lo; t < tgt_hi && !rc; t++) {
            start_line(&g, t);
            if (!no_self)
                rc = emit(&g, t, t);
        }
        break;
    case APICAL_CONN_BERNOULLI:
        if (pj->p <= 0.0)
            break;
        for (uint64_t t = tgt_lo; t < tgt_hi && !rc; t++) {
            start_line(&g, t);
            /* Geometric gaps between successes: O(p n) per column, not O(n). */
            for (uint64_t s = 0;; s++) {
                if (pj->p < 1.0)
                    s += gsl_ran_geometric(g.conn, pj->p) - 1;
                if (s >= n_src)
                    break;
                if (no_self && s == t)
                    continue;
                if ((rc = emit(&g, s, t)))
                    break;
            }
        }
        break;
    case APICAL_CONN_FIXED_INDEGREE: {
        uint64_t m = no_self ? n_src - 1 : n_src;
        if (pj->k > m) {
            st = apical_error_set(err, APICAL_E_RANGE, &pj->pos,
                                  "fixed_indegree k = %llu exceeds the %llu possible sources",
                                  (unsigned long long)pj->k, (unsigned long long)m);
            goto done;
        }
        for (uint64_t t = tgt_lo; t < tgt_hi && !rc; t++) {
            start_line(&g, t);
            rc = choose(&g, m, pj->k, no_self ? t : UINT64_MAX, t, 1);
        }
        break;
    }
    case APICAL_CONN_FROM_FILE:
        /* The loaded edges of each target column, in file order; weights
         * and delays from the file unless the network file replaces them
         * (then drawn from the column's substreams like any other rule). */
        if (!pj->edge_ptr)
            break;
        for (uint64_t t = tgt_lo; t < tgt_hi && !rc; t++) {
            start_line(&g, t);
            for (uint64_t k = pj->edge_ptr[t]; k < pj->edge_ptr[t + 1] && !rc; k++) {
                double w = pj->edge_w ? pj->edge_w[k] : apical_dist_sample(&pj->weight, g.weight);
                double d = pj->edge_d ? pj->edge_d[k] : apical_dist_sample(&pj->delay, g.delay);
                rc = fn(user, pj->edge_src[k], t, w, d);
            }
        }
        break;
    case APICAL_CONN_FIXED_OUTDEGREE: {
        uint64_t m = no_self ? n_tgt - 1 : n_tgt;
        if (pj->k > m) {
            st = apical_error_set(err, APICAL_E_RANGE, &pj->pos,
                                  "fixed_outdegree k = %llu exceeds the %llu possible targets",
                                  (unsigned long long)pj->k, (unsigned long long)m);
            goto done;
        }
        /* Rows: every partition generates every row and keeps its own targets. */
        for (uint64_t s = 0; s < n_src && !rc; s++) {
            start_line(&g, s);
            size_t words = (size_t)((m + 63) / 64);
            memset(g.bits, 0, words * sizeof *g.bits);
            for (uint64_t j = m - pj->k; j < m; j++) {
                uint64_t x = gsl_rng_uniform_int(g.conn, (unsigned long)(j + 1));
                if (g.bits[x / 64] >> (x % 64) & 1)
                    x = j;
                g.bits[x / 64] |= 1ull << (x % 64);
            }
            for (uint64_t c = 0; c < m && !rc; c++) {
                if (!(g.bits[c / 64] >> (c % 64) & 1))
                    continue;
                uint64_t t = (no_self && c >= s) ? c + 1 : c;
                /* Draw weight and delay for every synapse so that the streams
                 * stay aligned whatever range this partition keeps. */
                double w = apical_dist_sample(&pj->weight, g.weight);
                double d = apical_dist_sample(&pj->delay, g.delay);
                if (t >= tgt_lo && t < tgt_hi)
                    rc = fn(user, s, t, w, d);
            }
        }
        break;
    }
    }
    if (rc)
        st = apical_error_set(err, APICAL_E_NOMEM, &pj->pos, "out of memory building %s", pj->name);
done:
    gsl_rng_free(g.conn);
    gsl_rng_free(g.weight);
    gsl_rng_free(g.delay);
    free(g.bits);
    return st;
}
