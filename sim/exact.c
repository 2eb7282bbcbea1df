/* Exact window integration (stepper "exact") for models with
 * apical_exact_ops: linear between inputs, spiking at a bounded rate
 * hazard(C) that nothing feeds back from (docs/ARCHITECTURE.md, "Exact
 * populations").
 *
 * During a window [T0, T1) a neuron's state stays at T0. Every input adds
 * weight x coefficient to the neuron's accumulators; the coefficients depend
 * only on receptor and arrival time, so they are computed once per
 * presynaptic spike and a delivery costs a few multiply-adds per target.
 * Spike candidates of a Poisson process at the model's hazard bound are
 * merged with the queue's events in time order (each window's candidates
 * sit in a small sorted array; each neuron keeps its next one). At one, the
 * somatic potential is evaluated in closed form from the T0 state and the
 * inputs so far, and the candidate is kept with probability hazard/bound
 * (thinning: an exact inhomogeneous Poisson process). At T1 every neuron's state is advanced in closed form.
 * int_hazard (the expected spike count) is the one quantity without a
 * closed form: two-point Gauss-Legendre per window.
 *
 * Everything a neuron does depends on its own inputs, its own random
 * stream and the window grid, so results do not depend on partitioning. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim_state.h"
#include "spike_sink.h"

/* Gauss-Legendre 2: nodes (1 -/+ 1/sqrt 3)/2 of the window, weights 1/2. */
static const double gl_node[EXACT_NODES] = {0.21132486540518711775, 0.78867513459481288225};

static apical_status push(partition *P, double t, uint32_t kind, uint32_t a, uint64_t b)
{
    if (apical_queue_push(&P->q, t, kind, a, b))
        return P->st = apical_error_set(&P->err, APICAL_E_NOMEM, NULL, "out of memory");
    return APICAL_OK;
}

static apical_status nomem(partition *P)
{
    return P->st = apical_error_set(&P->err, APICAL_E_NOMEM, NULL, "out of memory");
}

/* Room for `need` inputs (with their coefficients). */
static int reserve_inputs(exact_part *ex, size_t n_acc, size_t need)
{
    if (need <= ex->cap_in)
        return 0;
    size_t cap = ex->cap_in ? 2 * ex->cap_in : 256;
    while (cap < need)
        cap *= 2;
    exact_in *in = realloc(ex->in, cap * sizeof *in);
    if (!in)
        return -1;
    ex->in = in;
    double *c = malloc(cap * (n_acc + 1) * sizeof *c);
    uint32_t *nz = c ? malloc(cap * sizeof *nz) : NULL;
    if (!nz) {
        free(c);
        return -1;
    }
    free(ex->coef);
    free(ex->nz_in);
    ex->nz_in = nz;
    ex->coef = c;          /* filled at the window end: nothing to keep */
    ex->s_in = c + cap * n_acc;
    ex->cap_in = cap;
    return 0;
}

/* Room for `need` candidates. */
static int reserve_candidates(exact_part *ex, size_t n_acc, size_t need)
{
    if (need <= ex->cap_c)
        return 0;
    size_t cap = ex->cap_c ? 2 * ex->cap_c : 256;
    while (cap < need)
        cap *= 2;
    exact_cand *cs = realloc(ex->cs, 2 * cap * sizeof *cs); /* second half: sort scratch */
    if (!cs)
        return -1;
    ex->cs = cs;
    ex->cs_tmp = cs + cap;
    double *d = realloc(ex->c_t, cap * (n_acc + 5) * sizeof *d);
    uint32_t *j = d ? realloc(ex->c_j, cap * sizeof *j) : NULL;
    if (d)
        ex->c_t = d;
    if (!d || !j)
        return -1;
    ex->c_j = j;
    ex->c_u = d + cap;
    ex->c_s = d + 2 * cap;
    ex->c_hz = d + 3 * cap;
    ex->snap = d + 4 * cap;
    ex->cap_c = cap;
    return 0;
}

/* Sort the window's n candidates, all in [T0, T0 + h), by (time, neuron):
 * bucket sort by time (they are nearly uniform in the window), then
 * insertion sort within a bucket. Into cs_tmp. */
static void sort_candidates(exact_part *ex, size_t n, double T0, double h)
{
    const exact_cand *c = ex->cs;
    exact_cand *tmp = ex->cs_tmp;
    uint32_t start[257] = {0};
    size_t nb = 1;
    while (nb < n && nb < 256)
        nb *= 2;
    const double scale = (double)nb / h;
    for (size_t k = 0; k < n; k++) {
        double x = (c[k].t - T0) * scale;
        size_t b = x > 0.0 ? (x < (double)(nb - 1) ? (size_t)x : nb - 1) : 0;
        start[b + 1]++;
    }
    for (size_t b = 1; b <= nb; b++)
        start[b] += start[b - 1];
    for (size_t k = 0; k < n; k++) {
        double x = (c[k].t - T0) * scale;
        size_t b = x > 0.0 ? (x < (double)(nb - 1) ? (size_t)x : nb - 1) : 0;
        tmp[start[b]++] = c[k];
    }
    /* start[b] is now the end of bucket b; insertion sort within each */
    for (size_t b = 0, lo = 0; b < nb; lo = start[b++])
        for (size_t k = lo + 1; k < start[b]; k++) {
            const exact_cand x = tmp[k];
            size_t j = k;
            while (j > lo && (tmp[j - 1].t > x.t || (tmp[j - 1].t == x.t && tmp[j - 1].j > x.j))) {
                tmp[j] = tmp[j - 1];
                j--;
            }
            tmp[j] = x;
        }
}

/* Neuron i's first candidate after t (kept for the window it falls in). */
static void first_candidate(const pop_rt *pr, exact_part *ex, uint64_t j, uint64_t i, double t)
{
    const double bound = pr->exact_bound;
    ex->next_cand[j] = bound > 0.0 ? t - log(apical_rng_uniform_pos(&pr->rng[i])) / bound
                                   : HUGE_VAL;
}

apical_status apical_exact_build(apical_sim *S, partition *P, size_t pi, apical_error *err)
{
    pop_rt *pr = &S->pops[pi];
    pop_part *pp = &P->pp[pi];
    const apical_exact_ops *x = pr->exact;
    const uint64_t n = pp->hi - pp->lo;
    exact_part *ex = pp->ex = calloc(1, sizeof *ex);
    if (!ex || !(ex->acc = calloc(n * x->n_acc + 1, sizeof *ex->acc)) ||
        !(ex->g = calloc(n + 1, sizeof *ex->g)) ||
        !(ex->next_cand = calloc(n + 1, sizeof *ex->next_cand)) ||
        !(ex->drawing = calloc(n + 1, sizeof *ex->drawing)) ||
        !(ex->ytmp = calloc(pr->ns + 1, sizeof *ex->ytmp)) ||
        !(ex->ys = calloc(n * pr->ns + 1, sizeof *ex->ys)) ||
        !(ex->hz_node = calloc(EXACT_NODES * n + 1, sizeof *ex->hz_node)) ||
        reserve_inputs(ex, x->n_acc, 1) || reserve_candidates(ex, x->n_acc, 1))
        return apical_error_set(err, APICAL_E_NOMEM, NULL, "out of memory");
    ex->rate_epoch = ex->ys_epoch = ex->checked_epoch = UINT64_MAX; /* all at the first window */
    ex->b_h = ex->b_g = NAN;
    pp->ctx = (apical_model_ctx){.param = pr->spec->param, .derived = pr->derived};
    pp->m = pr->m;
    pr->exact_bound = x->hazard_bound(&pp->ctx);
    S->has_exact = S->exact_dirty = 1;
    for (uint64_t i = pp->lo; i < pp->hi; i++)
        first_candidate(pr, ex, i - pp->lo, i, 0.0);
    return APICAL_OK;
}

void apical_exact_restart(apical_sim *S, partition *P, size_t pi, double T)
{
    const pop_rt *pr = &S->pops[pi];
    const pop_part *pp = &P->pp[pi];
    for (uint64_t i = pp->lo; i < pp->hi; i++)
        first_candidate(pr, pp->ex, i - pp->lo, i, T);
}

void apical_exact_free(pop_part *pp)
{
    exact_part *ex = pp->ex;
    if (!ex)
        return;
    free(ex->acc);
    free(ex->g);
    free(ex->ytmp);
    free(ex->ys);
    free(ex->next_cand);
    free(ex->drawing);
    free(ex->hz_node);
    free(ex->in);
    free(ex->coef);
    free(ex->nz_in);
    free(ex->cs);
    free(ex->c_t);
    free(ex->c_j);
    free(ex->sp_tmp);
    free(ex);
    pp->ex = NULL;
}

static apical_status bad_rate(const apical_sim *S, partition *P, size_t pi, uint64_t i)
{
    const pop_rt *pr = &S->pops[pi];
    return P->st = apical_error_set(
               &P->err, APICAL_E_INVALID, &pr->spec->pos,
               "population '%s' neuron %llu: stepper 'exact' needs the soma's decay rate to be "
               "positive and clearly apart from the kernel rates 1/tau_L and 1/tau_s (model "
               "'%s'); change g_L or use a GSL stepper such as rkf45",
               pr->spec->name, (unsigned long long)i, pr->m->name);
}

apical_status apical_exact_window_start(apical_sim *S, partition *P, double T0, double T1)
{
    for (size_t pi = 0; pi < S->n_pops; pi++) {
        const pop_rt *pr = &S->pops[pi];
        pop_part *pp = &P->pp[pi];
        if (!pr->exact || pp->hi == pp->lo)
            continue;
        const apical_exact_ops *x = pr->exact;
        exact_part *ex = pp->ex;
        ex->T0 = T0;
        ex->h = T1 - T0;
        ex->n_in = ex->n_node = 0;
        /* the accumulators are 0 here: zeroed at build and by window_end.
         * The rates depend on the state only through what a poke changes. */
        if (ex->rate_epoch != S->exact_epoch) {
            ex->g_shared = NAN;
            for (uint64_t i = pp->lo; i < pp->hi; i++) {
                const double g = x->rate(pr->y + i * pr->ns, &pp->ctx);
                if (isnan(g))
                    return bad_rate(S, P, pi, i);
                ex->g[i - pp->lo] = g;
                if (i == pp->lo)
                    ex->g_shared = g;
                else if (g != ex->g_shared)
                    ex->g_shared = NAN;
            }
            ex->rate_epoch = S->exact_epoch;
        }
        if (!isnan(ex->g_shared) && !(ex->b_h == ex->h && ex->b_g == ex->g_shared)) {
            x->basis(ex->h, ex->g_shared, &pp->ctx, ex->b_end);
            for (int q = 0; q < EXACT_NODES; q++)
                x->basis(gl_node[q] * ex->h, ex->g_shared, &pp->ctx, ex->b_node[q]);
            ex->b_h = ex->h;
            ex->b_g = ex->g_shared;
        }
        if (x->int_hazard != (size_t)-1 && pr->track_int_hazard)
            for (int q = 0; q < EXACT_NODES; q++)
                if (push(P, T0 + gl_node[q] * ex->h, EV_NODE, (uint32_t)pi, (uint64_t)q))
                    return P->st;
    }
    return APICAL_OK;
}

/* Inputs are held in delivery order and applied at the window end. */
static void add_input(partition *P, exact_part *ex, size_t n_acc, exact_in in)
{
    if (ex->n_in == ex->cap_in && reserve_inputs(ex, n_acc, ex->n_in + 1)) {
        nomem(P); /* the run loop stops at the next event */
        return;
    }
    ex->in[ex->n_in++] = in;
}

void apical_exact_deliver(apical_sim *S, partition *P, size_t pi, uint64_t i, size_t receptor,
                          double w, double t)
{
    pop_part *pp = &P->pp[pi];
    add_input(P, pp->ex, S->pops[pi].exact->n_acc,
              (exact_in){.t = t, .g = NULL, .i = i, .w = w, .rec = (uint32_t)receptor});
}

void apical_exact_deliver_group(apical_sim *S, partition *P, size_t pi, const syn_group *g,
                                double t)
{
    if (g->begin == g->end)
        return;
    pop_part *pp = &P->pp[pi];
    add_input(P, pp->ex, S->pops[pi].exact->n_acc,
              (exact_in){.t = t, .g = g, .i = 0, .w = 0.0, .rec = g->rec});
}

/* The delivery AXPYs, one vectorised loop each (no contraction into
 * fused multiply-adds under -std=c11: the same bits in every clone). */
__attribute__((target_clones("avx512f", "avx2", "default"))) static void
axpy4(uint64_t m, const double *restrict w, double c0, double c1, double c2, double c3,
      double *restrict a0, double *restrict a1, double *restrict a2, double *restrict a3)
{
    for (uint64_t j = 0; j < m; j++) {
        a0[j] += c0 * w[j];
        a1[j] += c1 * w[j];
        a2[j] += c2 * w[j];
        a3[j] += c3 * w[j];
    }
}

__attribute__((target_clones("avx512f", "avx2", "default"))) static void
axpy1(uint64_t m, const double *restrict w, double c, double *restrict a)
{
    for (uint64_t j = 0; j < m; j++)
        a[j] += c * w[j];
}

/* Two and four consecutive inputs into the same four accumulators in one
 * pass: each element still gets input k's product added, then input
 * k + 1's, ... (the same operations in the same order as one axpy4 per
 * input, so the same bits), but each accumulator is loaded and stored once
 * per pass instead of once per input. With four accumulators and one
 * weight per input an axpy4 is bound by its eight loads and stores per
 * element (a pixel spike's 250 targets in a hidden half); this is bound by
 * the multiplies and adds. c[f * 4 + a]: input f's coefficient for
 * accumulator a. */
__attribute__((target_clones("avx512f", "avx2", "default"))) static void
axpy4x2(uint64_t m, const double *restrict w0, const double *restrict w1,
        const double *restrict c, double *restrict a0, double *restrict a1,
        double *restrict a2, double *restrict a3)
{
    const double c00 = c[0], c01 = c[1], c02 = c[2], c03 = c[3];
    const double c10 = c[4], c11 = c[5], c12 = c[6], c13 = c[7];
    for (uint64_t j = 0; j < m; j++) {
        a0[j] = a0[j] + c00 * w0[j] + c10 * w1[j];
        a1[j] = a1[j] + c01 * w0[j] + c11 * w1[j];
        a2[j] = a2[j] + c02 * w0[j] + c12 * w1[j];
        a3[j] = a3[j] + c03 * w0[j] + c13 * w1[j];
    }
}

__attribute__((target_clones("avx512f", "avx2", "default"))) static void
axpy4x4(uint64_t m, const double *restrict w0, const double *restrict w1,
        const double *restrict w2, const double *restrict w3, const double *restrict c,
        double *restrict a0, double *restrict a1, double *restrict a2, double *restrict a3)
{
    const double c00 = c[0], c01 = c[1], c02 = c[2], c03 = c[3];
    const double c10 = c[4], c11 = c[5], c12 = c[6], c13 = c[7];
    const double c20 = c[8], c21 = c[9], c22 = c[10], c23 = c[11];
    const double c30 = c[12], c31 = c[13], c32 = c[14], c33 = c[15];
    for (uint64_t j = 0; j < m; j++) {
        a0[j] = a0[j] + c00 * w0[j] + c10 * w1[j] + c20 * w2[j] + c30 * w3[j];
        a1[j] = a1[j] + c01 * w0[j] + c11 * w1[j] + c21 * w2[j] + c31 * w3[j];
        a2[j] = a2[j] + c02 * w0[j] + c12 * w1[j] + c22 * w2[j] + c32 * w3[j];
        a3[j] = a3[j] + c03 * w0[j] + c13 * w1[j] + c23 * w2[j] + c33 * w3[j];
    }
}

/* The coefficients of input k for owned neuron j, into coef[n_acc]: the
 * shared ones, or for its own rate. */
static const double *coef_of(const pop_rt *pr, const pop_part *pp, size_t k, uint64_t j,
                             double *coef)
{
    const exact_part *ex = pp->ex;
    const size_t n_acc = pr->exact->n_acc;
    if (isnan(ex->g_shared)) {
        pr->exact->input(ex->in[k].rec, ex->in[k].t - ex->T0, ex->g[j], &pp->ctx, coef);
        return coef;
    }
    for (size_t a = 0; a < n_acc; a++)
        coef[a] = ex->coef[a * ex->cap_in + k];
    return coef;
}

/* Apply input k of the window to the accumulators. */
static void apply_input(const apical_sim *S, const partition *P, size_t pi, size_t k)
{
    const pop_rt *pr = &S->pops[pi];
    const pop_part *pp = &P->pp[pi];
    const apical_exact_ops *x = pr->exact;
    const exact_part *ex = pp->ex;
    const exact_in *in = &ex->in[k];
    const uint64_t n = pp->hi - pp->lo;
    double coef[APICAL_EXACT_MAX_ACC];
    if (!in->g || isnan(ex->g_shared)) { /* one synapse, or a rate per neuron */
        const uint32_t b = in->g ? in->g->begin : 0, e = in->g ? in->g->end : 1;
        for (uint32_t s = b; s < e; s++) {
            const uint64_t i = in->g ? P->syn_idx[s] : in->i;
            const double w = in->g ? P->syn_w[s] : in->w;
            const double *c = coef_of(pr, pp, k, i - pp->lo, coef);
            for (size_t a = 0; a < x->n_acc; a++)
                ex->acc[a * n + (i - pp->lo)] += w * c[a];
        }
        return;
    }
    const syn_group *g = in->g;
    size_t nz[APICAL_EXACT_MAX_ACC], n_nz = 0;
    for (size_t a = 0; a < x->n_acc; a++)
        if ((coef[a] = ex->coef[a * ex->cap_in + k]) != 0.0)
            nz[n_nz++] = a;
    const double *restrict w = P->syn_w + g->begin; /* exact targets: own weights (shares_weight) */
    if (g->contiguous) {
        const uint64_t j0 = P->syn_idx[g->begin] - pp->lo, m = g->end - g->begin;
        size_t a = 0;
        /* four accumulators per pass (a kernel input touches four): one
         * read of the weights for all of them */
        for (; a + 4 <= n_nz; a += 4) {
            double *base = ex->acc + j0;
            axpy4(m, w, coef[nz[a]], coef[nz[a + 1]], coef[nz[a + 2]], coef[nz[a + 3]],
                  base + nz[a] * n, base + nz[a + 1] * n, base + nz[a + 2] * n,
                  base + nz[a + 3] * n);
        }
        for (; a < n_nz; a++)
            axpy1(m, w, coef[nz[a]], ex->acc + nz[a] * n + j0);
        return;
    }
    const uint32_t *idx = P->syn_idx + g->begin;
    for (size_t a = 0; a < n_nz; a++) {
        double *acc = ex->acc + nz[a] * n - pp->lo;
        const double c = coef[nz[a]];
        for (uint32_t j = 0; j < g->end - g->begin; j++)
            acc[idx[j]] += c * w[j];
    }
}

enum { FUSE_MAX = 4 }; /* inputs applied in one pass (axpy4x4) */

/* A run of inputs [k, e) that one pass applies: groups onto the same
 * consecutive targets [j0, j0 + m) (owned-neuron indices) whose
 * coefficients reach the same accumulators nz[0..n_nz). */
typedef struct fused_run {
    size_t k, e, n_nz;
    uint64_t j0, m;
    size_t nz[APICAL_EXACT_MAX_ACC];
    const double *w[FUSE_MAX];
} fused_run;

/* The run from input k (at most FUSE_MAX inputs, none at or past `stop`,
 * where a quadrature node is evaluated) into r; its end (k + 1 if input k
 * runs alone). A rate shared by the owned neurons: the caller. */
static size_t fused_end(const partition *P, const exact_part *ex, size_t n_acc, uint64_t lo,
                        size_t k, size_t stop, fused_run *r)
{
    const syn_group *g = ex->in[k].g;
    if (!g || !g->contiguous)
        return k + 1;
    const uint32_t first = P->syn_idx[g->begin], m = g->end - g->begin, mask = ex->nz_in[k];
    size_t e = k + 1;
    for (; e < stop && e < k + FUSE_MAX; e++) {
        const syn_group *h = ex->in[e].g;
        if (!h || !h->contiguous || h->end - h->begin != m || P->syn_idx[h->begin] != first ||
            ex->nz_in[e] != mask)
            break;
    }
    if (e == k + 1)
        return e;
    r->k = k;
    r->e = e;
    r->j0 = first - lo;
    r->m = m;
    r->n_nz = 0;
    for (size_t a = 0; a < n_acc; a++)
        if (mask >> a & 1u)
            r->nz[r->n_nz++] = a;
    for (size_t f = k; f < e; f++)
        r->w[f - k] = P->syn_w + ex->in[f].g->begin;
    return e;
}

/* A run's inputs in one pass per four accumulators. */
static void apply_fused(exact_part *ex, uint64_t n, const fused_run *r)
{
    const size_t cap = ex->cap_in, k = r->k, F = r->e - r->k;
    double *base = ex->acc + r->j0;
    size_t a = 0;
    for (; a + 4 <= r->n_nz; a += 4) {
        double *a0 = base + r->nz[a] * n, *a1 = base + r->nz[a + 1] * n,
               *a2 = base + r->nz[a + 2] * n, *a3 = base + r->nz[a + 3] * n;
        double c[4 * FUSE_MAX];
        for (size_t f = 0; f < F; f++)
            for (size_t q = 0; q < 4; q++)
                c[f * 4 + q] = ex->coef[r->nz[a + q] * cap + k + f];
        size_t f = 0; /* in input order: 4, then 2, then 1 */
        if (F - f >= 4) {
            axpy4x4(r->m, r->w[f], r->w[f + 1], r->w[f + 2], r->w[f + 3], c + 4 * f, a0, a1, a2,
                    a3);
            f += 4;
        }
        if (F - f >= 2) {
            axpy4x2(r->m, r->w[f], r->w[f + 1], c + 4 * f, a0, a1, a2, a3);
            f += 2;
        }
        if (F - f >= 1)
            axpy4(r->m, r->w[f], c[4 * f], c[4 * f + 1], c[4 * f + 2], c[4 * f + 3], a0, a1, a2,
                  a3);
    }
    for (; a < r->n_nz; a++)
        for (size_t f = 0; f < F; f++)
            axpy1(r->m, r->w[f], ex->coef[r->nz[a] * cap + k + f], base + r->nz[a] * n);
}

/* Candidate c's accumulators when it falls inside run r, before input f:
 * snap holds them at the run's start; add inputs k..f-1 one by one as the
 * pass added them (the same bits). After the pass, whose weights are then
 * in cache. */
static void snap_within(exact_part *ex, size_t c, size_t f, const fused_run *r)
{
    const uint64_t j = ex->c_j[c];
    if (j < r->j0 || j >= r->j0 + r->m)
        return;
    for (size_t q = 0; q < r->n_nz; q++) {
        const size_t a = r->nz[q];
        double v = ex->snap[a * ex->cap_c + c];
        for (size_t i = r->k; i < f; i++)
            v += ex->coef[a * ex->cap_in + i] * r->w[i - r->k][j - r->j0];
        ex->snap[a * ex->cap_c + c] = v;
    }
}

/* The accumulators of owned neuron i after the window's first k inputs,
 * into a (the sums apply_input would have made, in its order). */
static void acc_after(const apical_sim *S, const partition *P, size_t pi, uint64_t i, size_t k,
                      double *a)
{
    const pop_rt *pr = &S->pops[pi];
    const pop_part *pp = &P->pp[pi];
    const exact_part *ex = pp->ex;
    const size_t n_acc = pr->exact->n_acc;
    double coef[APICAL_EXACT_MAX_ACC];
    for (size_t q = 0; q < n_acc; q++)
        a[q] = 0.0;
    for (size_t m = 0; m < k; m++) {
        const exact_in *in = &ex->in[m];
        const uint32_t b = in->g ? in->g->begin : 0, e = in->g ? in->g->end : 1;
        for (uint32_t s = b; s < e; s++) {
            if ((in->g ? P->syn_idx[s] : in->i) != i)
                continue;
            const double w = in->g ? P->syn_w[s] : in->w;
            /* coefficients as at the window end (computed on the spot) */
            if (isnan(ex->g_shared))
                pr->exact->input(in->rec, in->t - ex->T0, ex->g[i - pp->lo], &pp->ctx, coef);
            else
                pr->exact->input(in->rec, in->t - ex->T0, ex->g_shared, &pp->ctx, coef);
            for (size_t q = 0; q < n_acc; q++)
                if (!in->g || isnan(ex->g_shared) || coef[q] != 0.0)
                    a[q] += w * coef[q];
        }
    }
}

/* A quadrature node of the window: evaluated at the window end with the
 * inputs delivered before it. */
void apical_exact_node(apical_sim *S, partition *P, const apical_event *ev)
{
    exact_part *ex = P->pp[ev->a].ex;
    if (ex->n_node >= EXACT_NODES)
        return;
    ex->node_t[ex->n_node] = ev->t;
    ex->node_q[ex->n_node] = (int)ev->b;
    ex->node_pos[ex->n_node] = ex->n_in;
    ex->n_node++;
}

/* The state of owned neuron i at t in the current window (with the inputs
 * delivered so far), into y. */
void apical_exact_state(const apical_sim *S, const partition *P, size_t pi, uint64_t i, double t,
                        double *y)
{
    const pop_rt *pr = &S->pops[pi];
    const pop_part *pp = &P->pp[pi];
    const exact_part *ex = pp->ex;
    const apical_exact_ops *x = pr->exact;
    const double *y0 = pr->y + i * pr->ns, g = ex->g[i - pp->lo];
    double b[APICAL_EXACT_MAX_BASIS], a[APICAL_EXACT_MAX_ACC];
    x->basis(t - ex->T0, g, &pp->ctx, b);
    acc_after(S, P, pi, i, ex->n_in, a);
    memcpy(y, y0, pr->ns * sizeof *y);
    x->state_at(y0, a, b, g, &pp->ctx, y);
}

/* The window's candidates, drawn at once: each neuron's chain of
 * candidates before T1 with the uniform that decides each (a neuron's
 * stream gives, per candidate, that uniform and then the gap to the next
 * one, whether or not it is refractory), sorted by time into c_*.
 * The chains advance side by side, one candidate of every neuron still
 * drawing per round: the neurons' draws are then independent work for the
 * processor to overlap, where one chain at a time waited on each log and
 * mispredicted each chain's end. Each stream is read in the same order as
 * before and the sort orders by (time, neuron), so the candidates are the
 * same. */
static apical_status draw_candidates(const apical_sim *S, partition *P, size_t pi, double T1)
{
    const pop_rt *pr = &S->pops[pi];
    pop_part *pp = &P->pp[pi];
    exact_part *ex = pp->ex;
    const size_t n_acc = pr->exact->n_acc;
    const uint64_t n = pp->hi - pp->lo;
    const double bound = pr->exact_bound;
    apical_rng *const rng = pr->rng + pp->lo;
    size_t m = 0, n_draw = 0;
    for (uint64_t j = 0; j < n; j++) {
        ex->drawing[n_draw] = (uint32_t)j;
        n_draw += ex->next_cand[j] < T1;
    }
    while (n_draw) {
        if (m + n_draw > ex->cap_c && reserve_candidates(ex, n_acc, m + n_draw))
            return nomem(P);
        size_t still = 0;
        for (size_t k = 0; k < n_draw; k++) {
            const uint32_t j = ex->drawing[k];
            apical_rng *r = &rng[j];
            const double u = apical_rng_uniform_inline(r);
            ex->cs[m++] = (exact_cand){ex->next_cand[j], u, j};
            const double t = ex->next_cand[j] - log(apical_rng_uniform_pos_inline(r)) / bound;
            ex->next_cand[j] = t;
            ex->drawing[still] = j;
            still += t < T1;
        }
        n_draw = still;
    }
    ex->n_c = m;
    if (!m)
        return APICAL_OK;
    sort_candidates(ex, m, ex->T0, ex->h);
    for (size_t c = 0; c < m; c++) {
        const exact_cand *x = &ex->cs_tmp[c];
        ex->c_t[c] = x->t;
        ex->c_u[c] = x->u;
        ex->c_j[c] = (uint32_t)x->j;
        ex->c_s[c] = x->t - ex->T0;
    }
    return APICAL_OK;
}

/* The coefficients of the window's inputs (a rate shared by the owned
 * neurons; otherwise they are computed per target), runs of one receptor
 * at a time. */
static void input_coefficients(const pop_rt *pr, pop_part *pp)
{
    const apical_exact_ops *x = pr->exact;
    exact_part *ex = pp->ex;
    const size_t K = ex->n_in, cap = ex->cap_in;
    if (isnan(ex->g_shared))
        return;
    for (size_t k = 0; k < K; k++)
        ex->s_in[k] = ex->in[k].t - ex->T0;
    for (size_t k = 0; k < K;) {
        size_t e = k + 1;
        while (e < K && ex->in[e].rec == ex->in[k].rec)
            e++;
        if (x->input_n) {
            x->input_n(ex->in[k].rec, e - k, ex->s_in + k, ex->g_shared, &pp->ctx, ex->coef + k,
                       cap);
        } else {
            double coef[APICAL_EXACT_MAX_ACC];
            for (size_t q = k; q < e; q++) {
                x->input(ex->in[q].rec, ex->s_in[q], ex->g_shared, &pp->ctx, coef);
                for (size_t a = 0; a < x->n_acc; a++)
                    ex->coef[a * cap + q] = coef[a];
            }
        }
        k = e;
    }
    /* which accumulators each input reaches, for fused_end (bit a: not 0,
     * the test apply_input makes) */
    for (size_t k = 0; k < K; k++) {
        uint32_t mask = 0;
        for (size_t a = 0; a < x->n_acc; a++)
            mask |= (uint32_t)(ex->coef[a * cap + k] != 0.0) << a;
        ex->nz_in[k] = mask;
    }
}

/* Node q's hazards (every owned neuron, with the accumulators as they are). */
static void eval_node(const pop_rt *pr, pop_part *pp, size_t q)
{
    const apical_exact_ops *x = pr->exact;
    exact_part *ex = pp->ex;
    const uint64_t n = pp->hi - pp->lo;
    const int shared = !isnan(ex->g_shared);
    double b[APICAL_EXACT_MAX_BASIS], a[APICAL_EXACT_MAX_ACC];
    for (uint64_t j = 0; j < n; j++) {
        if (!shared)
            x->basis(ex->node_t[q] - ex->T0, ex->g[j], &pp->ctx, b);
        for (size_t k = 0; k < x->n_acc; k++)
            a[k] = ex->acc[k * n + j];
        const double C = x->soma(pr->y + (pp->lo + j) * pr->ns, a,
                                 shared ? ex->b_node[ex->node_q[q]] : b, ex->g[j], &pp->ctx);
        ex->hz_node[q * n + j] = x->hazard(C, &pp->ctx);
    }
}

/* Node q's hazards into int_hazard, for the neurons not refractory then. */
static void apply_node(const pop_rt *pr, pop_part *pp, size_t q)
{
    const exact_part *ex = pp->ex;
    const uint64_t n = pp->hi - pp->lo;
    const double wq = 0.5 * ex->h, t = ex->node_t[q];
    for (uint64_t j = 0; j < n; j++) {
        const uint64_t i = pp->lo + j;
        if (t < pr->ref_until[i])
            continue;
        pr->y[i * pr->ns + pr->exact->int_hazard] += wq * ex->hz_node[q * n + j];
    }
}

/* The spikes emitted since out[n0] (in time order) merged with those
 * before (in time order unless some came late), so that the partition's
 * list stays nearly sorted for the run loop's insertion sort. */
static apical_status merge_spikes_in(partition *P, exact_part *ex, size_t n0)
{
    const size_t m = P->n_out - n0;
    if (!m || !n0 || !(P->out[n0].t < P->out[n0 - 1].t))
        return APICAL_OK;
    if (m > ex->cap_sp) {
        apical_spike *t = realloc(ex->sp_tmp, 2 * m * sizeof *t);
        if (!t)
            return nomem(P);
        ex->sp_tmp = t;
        ex->cap_sp = 2 * m;
    }
    memcpy(ex->sp_tmp, P->out + n0, m * sizeof *P->out);
    size_t i = n0, j = m, k = n0 + m;
    while (j > 0) {
        const apical_spike *b = &ex->sp_tmp[j - 1];
        if (i > 0 && (P->out[i - 1].t > b->t ||
                      (P->out[i - 1].t == b->t && P->out[i - 1].gid > b->gid)))
            P->out[--k] = P->out[--i];
        else
            P->out[--k] = ex->sp_tmp[--j];
    }
    return APICAL_OK;
}

/* The window of one population: its inputs in delivery order into the
 * accumulators, each candidate's accumulators copied out at its time
 * (after the inputs at or before it) and each quadrature node evaluated
 * at its place; then every candidate evaluated at once and decided in
 * time order. */
static apical_status run_population(apical_sim *S, partition *P, size_t pi, double T1)
{
    pop_rt *pr = &S->pops[pi];
    pop_part *pp = &P->pp[pi];
    const apical_exact_ops *x = pr->exact;
    exact_part *ex = pp->ex;
    const uint64_t n = pp->hi - pp->lo;
    const size_t n_acc = x->n_acc, K = ex->n_in;
    const int shared = !isnan(ex->g_shared);
    apical_status st;
    if (shared && x->state_end_n && ex->ys_epoch != S->exact_epoch) { /* poked: a fresh copy */
        for (size_t k = 0; k < pr->ns; k++)
            for (uint64_t j = 0; j < n; j++)
                ex->ys[k * n + j] = pr->y[(pp->lo + j) * pr->ns + k];
        ex->ys_epoch = S->exact_epoch;
    }
    input_coefficients(pr, pp);
    if ((st = draw_candidates(S, P, pi, T1)))
        return st;
    const size_t m = ex->n_c, cap_c = ex->cap_c;
    size_t c = 0, q = 0;
    for (size_t k = 0;;) {
        /* before input k: the nodes that came before it, the candidates
         * before it (inputs at a candidate's time come first) */
        for (; q < ex->n_node && ex->node_pos[q] == k; q++)
            eval_node(pr, pp, q);
        for (; c < m && (k == K || ex->in[k].t > ex->c_t[c]); c++) {
            const uint64_t j = ex->c_j[c];
            for (size_t a = 0; a < n_acc; a++)
                ex->snap[a * cap_c + c] = ex->acc[a * n + j];
        }
        if (k == K)
            break;
        fused_run r;
        const size_t e = shared ? fused_end(P, ex, n_acc, pp->lo, k,
                                            q < ex->n_node ? ex->node_pos[q] : K, &r)
                                : k + 1;
        if (e == k + 1) {
            apply_input(S, P, pi, k++);
            continue;
        }
        /* the candidates before inputs k + 1 .. e - 1 (the same test as
         * above at each): their accumulators at the run's start, then the
         * run in one pass, then the run's inputs before each */
        const size_t c0 = c;
        for (size_t f = k + 1; f < e; f++)
            for (; c < m && ex->in[f].t > ex->c_t[c]; c++) {
                const uint64_t j = ex->c_j[c];
                for (size_t a = 0; a < n_acc; a++)
                    ex->snap[a * cap_c + c] = ex->acc[a * n + j];
            }
        apply_fused(ex, n, &r);
        for (size_t f = k + 1, d = c0; f < e; f++)
            for (; d < c && ex->in[f].t > ex->c_t[d]; d++)
                snap_within(ex, d, f, &r);
        k = e;
    }
    for (; q < ex->n_node; q++) /* (nodes record at most K inputs) */
        eval_node(pr, pp, q);
    /* hazard at each candidate */
    if (shared && x->hazard_n && ex->ys_epoch == S->exact_epoch) {
        x->hazard_n(m, ex->c_s, ex->c_j, ex->snap, cap_c, ex->ys, n, ex->g_shared, &pp->ctx,
                    ex->c_hz);
    } else {
        double b[APICAL_EXACT_MAX_BASIS], a[APICAL_EXACT_MAX_ACC];
        for (size_t k = 0; k < m; k++) {
            const uint64_t j = ex->c_j[k];
            x->basis(ex->c_s[k], ex->g[j], &pp->ctx, b);
            for (size_t r = 0; r < n_acc; r++)
                a[r] = ex->snap[r * cap_c + k];
            const double C = x->soma(pr->y + (pp->lo + j) * pr->ns, a, b, ex->g[j], &pp->ctx);
            ex->c_hz[k] = x->hazard(C, &pp->ctx);
        }
    }
    /* decisions in time order: a node comes before a candidate at its time */
    const double bound = pr->exact_bound;
    const size_t n_out0 = P->n_out;
    q = 0;
    for (size_t k = 0; k < m; k++) {
        const double t = ex->c_t[k];
        for (; q < ex->n_node && ex->node_t[q] <= t; q++)
            apply_node(pr, pp, q);
        const uint64_t i = pp->lo + ex->c_j[k];
        if (t >= pr->ref_until[i] && ex->c_u[k] * bound < ex->c_hz[k]) {
            if ((st = apical_engine_emit(S, P, pi, i, t)))
                return st;
            pr->ref_until[i] = t + pr->t_ref;
        }
    }
    for (; q < ex->n_node; q++)
        apply_node(pr, pp, q);
    return merge_spikes_in(P, ex, n_out0);
}

/* The decay rates change only when the protocol pokes a state between
 * windows, so the span is recomputed then, over every neuron (not per
 * partition: the pieces, and so int_hazard's quadrature nodes, must not
 * depend on the partitioning). */
void apical_exact_plan(apical_sim *S, double T0, double T1)
{
    if (S->exact_dirty) {
        double fastest = 0.0;
        for (size_t pi = 0; pi < S->n_pops; pi++) {
            const pop_rt *pr = &S->pops[pi];
            if (!pr->exact)
                continue;
            const apical_model_ctx c = {.param = pr->spec->param, .derived = pr->derived};
            for (uint64_t i = pr->own_lo; i < pr->own_lo + pr->own_n; i++) { /* ranks: own */
                const double g = pr->exact->rate(pr->y + i * pr->ns, &c);
                const double r = pr->exact->growth ? pr->exact->growth(g, &c) : g;
                if (r > fastest) /* NaN (refused at window start) is skipped */
                    fastest = r;
            }
        }
        double neg = -fastest; /* ranks: the fastest over every rank's neurons */
        if (apical_comm_size(S->comm) > 1)
            S->comm->ops->allreduce_min(S->comm->impl, &neg, 1);
        fastest = -neg;
        S->exact_span = fastest > 0.0 ? APICAL_EXACT_MAX_EXPONENT / fastest : HUGE_VAL;
        S->exact_dirty = 0;
    }
    const double k = ceil((T1 - T0) / S->exact_span);
    S->exact_pieces = k > 1.0 ? (k < 1e15 ? (uint64_t)k : (uint64_t)1e15) : 1;
}

/* Like the GSL path's solver failure: who, when, and the state. */
static apical_status not_finite(const apical_sim *S, partition *P, size_t pi, uint64_t i, double t,
                                const double *y)
{
    const pop_rt *pr = &S->pops[pi];
    char state[512];
    size_t used = 0;
    for (size_t k = 0; k < pr->ns && used < sizeof state; k++) {
        int w = snprintf(state + used, sizeof state - used, "%s%s = %g %s", k ? ", " : "",
                         pr->m->state[k].name, y[k], pr->m->state[k].unit);
        if (w < 0)
            break;
        used += (size_t)w;
    }
    return P->st = apical_error_set(&P->err, APICAL_E_SOLVER, &pr->spec->pos,
                                    "population '%s' neuron %llu failed to integrate at t = %.6f "
                                    "ms (state not finite, stepper exact); state: %s",
                                    pr->spec->name, (unsigned long long)i, t, state);
}

/* The sum of m doubles in eight independent chains (one vector): infinite
 * or NaN if any of them is. */
__attribute__((target_clones("avx512f", "avx2", "default"))) static double
sum_all(size_t m, const double *restrict y)
{
    double s[8] = {0}, sum = 0.0;
    size_t k = 0;
    for (; k + 8 <= m; k += 8)
        for (size_t l = 0; l < 8; l++)
            s[l] += y[k + l];
    for (; k < m; k++)
        sum += y[k];
    for (size_t l = 0; l < 8; l++)
        sum += s[l];
    return sum;
}

apical_status apical_exact_window_end(apical_sim *S, partition *P, double T1)
{
    if (P->st)
        return P->st;
    for (size_t pi = 0; pi < S->n_pops; pi++) {
        pop_rt *pr = &S->pops[pi];
        pop_part *pp = &P->pp[pi];
        if (!pr->exact || pp->hi == pp->lo)
            continue;
        apical_status st = run_population(S, P, pi, T1);
        if (st)
            return st;
        const apical_exact_ops *x = pr->exact;
        exact_part *ex = pp->ex;
        const int shared = !isnan(ex->g_shared);
        const uint64_t n = pp->hi - pp->lo;
        /* not finite if any state is: the kernel tells for what it wrote;
         * after a poke (or without the kernel) every state is summed */
        int check_all = ex->ys_epoch != ex->checked_epoch;
        if (shared && x->state_end_n) {
            check_all |= x->state_end_n(n, pr->y + pp->lo * pr->ns, ex->ys, ex->acc, ex->b_end,
                                        ex->g_shared, &pp->ctx);
            ex->checked_epoch = ex->ys_epoch;
        } else {
            check_all = 1;
            ex->ys_epoch = UINT64_MAX; /* y changes without it */
            double b[APICAL_EXACT_MAX_BASIS], a[APICAL_EXACT_MAX_ACC];
            for (uint64_t i = pp->lo; i < pp->hi; i++) {
                double *y = pr->y + i * pr->ns;
                const double g = ex->g[i - pp->lo];
                if (!shared)
                    x->basis(ex->h, g, &pp->ctx, b);
                for (size_t k = 0; k < x->n_acc; k++)
                    a[k] = ex->acc[k * n + (i - pp->lo)];
                memcpy(ex->ytmp, y, pr->ns * sizeof *y);
                x->state_at(ex->ytmp, a, shared ? ex->b_end : b, g, &pp->ctx, y);
            }
            memset(ex->acc, 0, n * x->n_acc * sizeof *ex->acc);
        }
        ex->n_in = ex->n_node = 0;
        for (uint64_t i = pp->lo; i < pp->hi; i++)
            pr->t_last[i] = T1;
        if (check_all && !isfinite(sum_all((pp->hi - pp->lo) * pr->ns, pr->y + pp->lo * pr->ns)))
            for (uint64_t i = pp->lo; i < pp->hi; i++)
                for (size_t k = 0; k < pr->ns; k++)
                    if (!isfinite(pr->y[i * pr->ns + k]))
                        return not_finite(S, P, pi, i, T1, pr->y + i * pr->ns);
        P->integrations += pp->hi - pp->lo;
    }
    return APICAL_OK;
}
