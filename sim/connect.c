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
    case APICAL_DIST_FILE:
    case APICAL_DIST_HEBBIAN: /* per neuron or pair: not drawn (build.c, emit below) */
    case APICAL_DIST_PATTERN:
        return 0.0;
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
    /* Sampling without replacement (choose): the drawn indices, and either
     * a bitset over [0, m) (dense draws) or a hash set of the draws. */
    uint64_t *pick, *tmp, *bits;
    uint32_t *cnt, *hash;
    size_t n_bits, n_hash;
    apical_synapse_fn fn;
    apical_pair_fn pair; /* apical_connect_pairs: pairs only, no weights */
    void *user;
    /* hebbian weights: the patterns by unit (xi[i * n_pat + k]), the
     * spec's or drawn from the seed (own) */
    const double *xi;
    double *own_xi;
} gen;

/* w_ij = sum_k xi_i^k xi_j^k / N (Hopfield's rule; no self-coupling is the
 * connectivity's business: autapses: false). */
static inline double hebbian(const gen *g, uint64_t src, uint64_t tgt)
{
    const apical_dist *wd = &g->pj->weight;
    const double *a = g->xi + src * wd->n_pat, *b = g->xi + tgt * wd->n_pat;
    double s = 0.0;
    for (uint32_t k = 0; k < wd->n_pat; k++)
        s += a[k] * b[k];
    return s / (double)wd->n_units;
}

/* Patterns drawn from the seed: pattern k from substream k of the
 * projection's pattern stream, one fair bit per unit, so a pattern does not
 * depend on how many others there are, nor on partitioning. */
static double *draw_patterns(uint64_t seed, const apical_proj_spec *pj)
{
    const apical_dist *wd = &pj->weight;
    double *xi = malloc((size_t)wd->n_units * wd->n_pat * sizeof *xi + 1);
    if (!xi)
        return NULL;
    const uint32_t stream = apical_rng_stream_id(APICAL_RNG_PATTERN, pj->name);
    for (uint32_t k = 0; k < wd->n_pat; k++)
        for (uint64_t i = 0; i < wd->n_units; i++)
            xi[i * wd->n_pat + k] = apical_pattern_value(seed, stream, k, i);
    return xi;
}

double apical_pattern_value(uint64_t seed, uint32_t stream, uint32_t k, uint64_t i)
{
    apical_rng r;
    apical_rng_init(&r, seed, stream, k);
    r.counter = i / 4; /* Philox is counter-based: block i/4 holds draw i */
    const uint32_t skip = (uint32_t)(i % 4);
    for (uint32_t j = 0; j < skip; j++)
        apical_rng_u32(&r);
    return apical_rng_u32(&r) & 1u ? 1.0 : -1.0;
}

/* A synapse's weight: constant, hebbian, or drawn from the column's stream. */
static inline double weight_of(gen *g, uint64_t src, uint64_t tgt)
{
    const apical_dist *wd = &g->pj->weight;
    if (wd->kind == APICAL_DIST_CONSTANT)
        return wd->a;
    if (wd->kind == APICAL_DIST_HEBBIAN)
        return hebbian(g, src, tgt);
    return apical_dist_sample(wd, g->weight);
}

/* Position the weight and delay streams on a column (or row) substream. */
static void start_line(gen *g, uint64_t line)
{
    apical_rng_init(apical_rng_gsl_state(g->conn), g->seed, g->s_conn, (uint32_t)line);
    if (g->pair)
        return;
    apical_rng_init(apical_rng_gsl_state(g->weight), g->seed, g->s_weight, (uint32_t)line);
    apical_rng_init(apical_rng_gsl_state(g->delay), g->seed, g->s_delay, (uint32_t)line);
}

static int emit(gen *g, uint64_t src, uint64_t tgt)
{
    if (g->pair)
        return g->pair(g->user, src, tgt);
    const apical_dist *dd = &g->pj->delay;
    double w = weight_of(g, src, tgt);
    double d = dd->kind == APICAL_DIST_CONSTANT ? dd->a : apical_dist_sample(dd, g->delay);
    return g->fn(g->user, src, tgt, w, d);
}

/* gsl_rng_uniform_int(conn, n) for n <= 2^32 - 1, the same draws and the
 * same result, without the call through the generator's vtable and with a
 * 32-bit division. */
static inline uint64_t uniform_below(apical_rng *r, uint64_t n)
{
    const uint32_t scale = (uint32_t)(0xffffffffu / n);
    uint32_t k;
    do
        k = apical_rng_u32(r) / scale;
    while (k >= n);
    return k;
}

/* Sort n distinct values drawn uniformly from [0, m): counted into n
 * buckets by value, then an insertion sort that has about one element per
 * bucket to order. O(n) expected, with few branches a CPU mispredicts (a
 * quicksort of random keys mispredicts about one comparison in two). */
static void sort_uniform(uint64_t *v, size_t n, uint64_t m, uint64_t *tmp, uint32_t *cnt)
{
    const double scale = (double)n / (double)m;
    memset(cnt, 0, (n + 1) * sizeof *cnt);
    for (size_t i = 0; i < n; i++) {
        size_t b = (size_t)((double)v[i] * scale);
        cnt[(b < n ? b : n - 1) + 1]++;
    }
    for (size_t b = 1; b < n; b++)
        cnt[b] += cnt[b - 1];
    for (size_t i = 0; i < n; i++) {
        size_t b = (size_t)((double)v[i] * scale);
        tmp[cnt[b < n ? b : n - 1]++] = v[i];
    }
    for (size_t i = 0; i < n; i++) {
        uint64_t x = tmp[i];
        size_t j = i;
        for (; j > 0 && v[j - 1] > x; j--)
            v[j] = v[j - 1];
        v[j] = x;
    }
}

/* k distinct indices of [0, m) into g->pick, in increasing order: Floyd's
 * algorithm (for j = m-k .. m-1 draw t in [0, j]; take j instead if t was
 * drawn before). O(k) expected with a hash set of the draws, or O(m / 64 + k)
 * with a bitset when k is a large part of m; both give the same indices.
 * `skip` (or UINT64_MAX) is excluded by mapping c >= skip to c + 1. Returns
 * 0, or -1 out of memory. */
static int choose(gen *g, uint64_t m, uint64_t k, uint64_t skip)
{
    apical_rng *r = apical_rng_gsl_state(g->conn);
    size_t n = 0;
    if (m <= 16 * k) { /* dense: a bitset over [0, m), scanned in order */
        size_t words = (size_t)((m + 63) / 64);
        if (words > g->n_bits) {
            free(g->bits);
            if (!(g->bits = malloc(words * sizeof *g->bits)))
                return g->n_bits = 0, -1;
            g->n_bits = words;
        }
        if (words)
            memset(g->bits, 0, words * sizeof *g->bits);
        for (uint64_t j = m - k; j < m; j++) {
            uint64_t t = uniform_below(r, j + 1);
            if (g->bits[t / 64] >> (t % 64) & 1)
                t = j;
            g->bits[t / 64] |= 1ull << (t % 64);
        }
        for (size_t w = 0; w < words; w++)
            for (uint64_t b = g->bits[w]; b; b &= b - 1)
                g->pick[n++] = 64 * (uint64_t)w + (uint64_t)__builtin_ctzll(b);
    } else { /* sparse: open addressing, mostly empty (>= 8k slots): the
              * first probe rarely finds a slot taken, a branch that
              * mispredicts as often as it does */
        size_t size = 64;
        while (size < 8 * k)
            size *= 2;
        if (size > g->n_hash) {
            free(g->hash);
            if (!(g->hash = malloc(size * sizeof *g->hash)))
                return g->n_hash = 0, -1;
            g->n_hash = size;
        }
        memset(g->hash, 0, size * sizeof *g->hash); /* index + 1 (m < 2^32) */
        const size_t mask = size - 1;
        for (uint64_t j = m - k; j < m; j++) {
            uint64_t t = uniform_below(r, j + 1);
            size_t h = (size_t)((t * 0x9e3779b97f4a7c15ull) >> 32) & mask;
            while (g->hash[h] && g->hash[h] != t + 1)
                h = (h + 1) & mask;
            if (g->hash[h]) { /* drawn before: take j, which cannot have been */
                t = j;
                h = (size_t)((t * 0x9e3779b97f4a7c15ull) >> 32) & mask;
                while (g->hash[h])
                    h = (h + 1) & mask;
            }
            g->hash[h] = (uint32_t)(t + 1);
            g->pick[n++] = t;
        }
        sort_uniform(g->pick, n, m, g->tmp, g->cnt);
    }
    if (skip != UINT64_MAX)
        for (size_t i = 0; i < n; i++)
            g->pick[i] += g->pick[i] >= skip;
    return 0;
}

static apical_status connect(gen *g, uint64_t n_src, uint64_t n_tgt, uint64_t tgt_lo,
                             uint64_t tgt_hi, apical_error *err)
{
    const apical_proj_spec *pj = g->pj;
    apical_status st = APICAL_OK;
    const int same = pj->source == pj->target;
    const int no_self = same && !pj->autapses;
    g->s_conn = apical_rng_stream_id(APICAL_RNG_CONNECT, pj->name);
    g->s_weight = apical_rng_stream_id(APICAL_RNG_WEIGHT, pj->name);
    g->s_delay = apical_rng_stream_id(APICAL_RNG_DELAY, pj->name);
    g->conn = apical_rng_gsl_alloc();
    g->weight = apical_rng_gsl_alloc();
    g->delay = apical_rng_gsl_alloc();
    int fixed = pj->conn == APICAL_CONN_FIXED_INDEGREE || pj->conn == APICAL_CONN_FIXED_OUTDEGREE;
    if (!g->conn || !g->weight || !g->delay ||
        (fixed && (!(g->pick = malloc((size_t)(pj->k + 1) * sizeof *g->pick)) ||
                   !(g->tmp = malloc((size_t)(pj->k + 1) * sizeof *g->tmp)) ||
                   !(g->cnt = malloc((size_t)(pj->k + 1) * sizeof *g->cnt))))) {
        st = apical_error_set(err, APICAL_E_NOMEM, &pj->pos, "out of memory building %s", pj->name);
        goto done;
    }
    if (tgt_hi > n_tgt)
        tgt_hi = n_tgt;
    if (pj->weight.kind == APICAL_DIST_HEBBIAN && !g->pair) {
        g->xi = pj->weight.values;
        if (!g->xi && !(g->xi = g->own_xi = draw_patterns(g->seed, pj))) {
            st = apical_error_set(err, APICAL_E_NOMEM, &pj->pos, "out of memory building %s",
                                  pj->name);
            goto done;
        }
    }
    if (fixed && (n_src > UINT32_MAX || n_tgt > UINT32_MAX)) {
        st = apical_error_set(err, APICAL_E_RANGE, &pj->pos,
                              "%s: fixed degrees need populations of at most %lu neurons",
                              pj->name, (unsigned long)UINT32_MAX);
        goto done;
    }
    int rc = 0;
    switch (pj->conn) {
    case APICAL_CONN_ALL_TO_ALL:
        for (uint64_t t = tgt_lo; t < tgt_hi && !rc; t++) {
            start_line(g, t);
            for (uint64_t s = 0; s < n_src && !rc; s++)
                if (!(no_self && s == t))
                    rc = emit(g, s, t);
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
            start_line(g, t);
            if (!no_self)
                rc = emit(g, t, t);
        }
        break;
    case APICAL_CONN_BERNOULLI:
        if (pj->p <= 0.0)
            break;
        for (uint64_t t = tgt_lo; t < tgt_hi && !rc; t++) {
            start_line(g, t);
            /* Geometric gaps between successes: O(p n) per column, not O(n). */
            for (uint64_t s = 0;; s++) {
                if (pj->p < 1.0)
                    s += gsl_ran_geometric(g->conn, pj->p) - 1;
                if (s >= n_src)
                    break;
                if (no_self && s == t)
                    continue;
                if ((rc = emit(g, s, t)))
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
            start_line(g, t);
            if ((rc = choose(g, m, pj->k, no_self ? t : UINT64_MAX)))
                break;
            for (uint64_t i = 0; i < pj->k && !rc; i++)
                rc = emit(g, g->pick[i], t);
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
            start_line(g, t);
            for (uint64_t k = pj->edge_ptr[t]; k < pj->edge_ptr[t + 1] && !rc; k++) {
                if (g->pair) {
                    rc = g->pair(g->user, pj->edge_src[k], t);
                    continue;
                }
                double w = pj->edge_w ? pj->edge_w[k] : weight_of(g, pj->edge_src[k], t);
                double d = pj->edge_d ? pj->edge_d[k] : apical_dist_sample(&pj->delay, g->delay);
                rc = g->fn(g->user, pj->edge_src[k], t, w, d);
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
        /* Rows: every partition generates every row and keeps its own
         * targets (O(k) per row, whatever the population size). */
        for (uint64_t s = 0; s < n_src && !rc; s++) {
            start_line(g, s);
            if ((rc = choose(g, m, pj->k, no_self ? s : UINT64_MAX)))
                break;
            for (uint64_t i = 0; i < pj->k && !rc; i++) {
                uint64_t t = g->pick[i];
                if (g->pair) {
                    if (t >= tgt_lo && t < tgt_hi)
                        rc = g->pair(g->user, s, t);
                    continue;
                }
                /* Draw weight and delay for every synapse so that the streams
                 * stay aligned whatever range this partition keeps. */
                double w = weight_of(g, s, t);
                double d = apical_dist_sample(&pj->delay, g->delay);
                if (t >= tgt_lo && t < tgt_hi)
                    rc = g->fn(g->user, s, t, w, d);
            }
        }
        break;
    }
    }
    if (rc)
        st = apical_error_set(err, APICAL_E_NOMEM, &pj->pos, "out of memory building %s", pj->name);
done:
    gsl_rng_free(g->conn);
    gsl_rng_free(g->weight);
    gsl_rng_free(g->delay);
    free(g->pick);
    free(g->tmp);
    free(g->cnt);
    free(g->bits);
    free(g->hash);
    free(g->own_xi);
    return st;
}

apical_status apical_connect(const apical_proj_spec *pj, uint64_t n_src, uint64_t n_tgt,
                             uint64_t seed, uint64_t tgt_lo, uint64_t tgt_hi,
                             apical_synapse_fn fn, void *user, apical_error *err)
{
    gen g = {.pj = pj, .seed = seed, .fn = fn, .user = user};
    return connect(&g, n_src, n_tgt, tgt_lo, tgt_hi, err);
}

apical_status apical_connect_pairs(const apical_proj_spec *pj, uint64_t n_src, uint64_t n_tgt,
                                   uint64_t seed, uint64_t tgt_lo, uint64_t tgt_hi,
                                   apical_pair_fn fn, void *user, apical_error *err)
{
    gen g = {.pj = pj, .seed = seed, .pair = fn, .user = user};
    return connect(&g, n_src, n_tgt, tgt_lo, tgt_hi, err);
}
