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

#include "engine_internal.h"

/* Gauss-Legendre 2: nodes (1 -/+ 1/sqrt 3)/2 of the window, weights 1/2. */
static const double gl_node[EXACT_NODES] = {0.21132486540518711775, 0.78867513459481288225};

static apical_status push(partition *P, double t, uint32_t kind, uint32_t a, uint64_t b)
{
    if (apical_queue_push(&P->q, t, kind, a, b))
        return P->st = apical_error_set(&P->err, APICAL_E_NOMEM, NULL, "out of memory");
    return APICAL_OK;
}

/* Room for one more candidate, or for `need` in all. */
static int reserve_candidates(partition *P, size_t need)
{
    if (need <= P->cap_cand)
        return 0;
    size_t cap = P->cap_cand ? 2 * P->cap_cand : 256;
    while (cap < need)
        cap *= 2;
    exact_cand *c = realloc(P->cand, 2 * cap * sizeof *c); /* second half: sort scratch */
    if (!c)
        return -1;
    P->cand = c;
    P->cap_cand = cap;
    return 0;
}

static int grow_candidates(partition *P)
{
    return reserve_candidates(P, P->n_cand + 1);
}

/* (t, pop, node) descending: ties resolve the same in every partition */
static int later(const exact_cand *c, double t, size_t pi, uint64_t i)
{
    return c->t > t || (c->t == t && (c->pop > pi || (c->pop == pi && c->node > i)));
}

/* Sort the window's n candidates, all in [T0, T0 + h), latest first:
 * bucket sort by time (they are nearly uniform in the window), then
 * insertion sort within a bucket. Both heapsort (unpredictable branches)
 * and qsort (a call per comparison) cost ~10% of a MNIST run. The scratch
 * is the second half of the array (grow_candidates). */
static void sort_candidates(partition *P, double T0, double h)
{
    exact_cand *c = P->cand, *tmp = P->cand + P->cap_cand;
    const size_t n = P->n_cand;
    uint32_t start[257] = {0};
    size_t nb = 1;
    while (nb < n && nb < 256)
        nb *= 2;
    const double scale = (double)nb / h;
    for (size_t k = 0; k < n; k++) {
        double x = (c[k].t - T0) * scale;
        size_t b = x > 0.0 ? (x < (double)(nb - 1) ? (size_t)x : nb - 1) : 0;
        start[nb - b]++; /* bucket nb-1-b (latest first), counted at its end */
    }
    for (size_t b = 1; b <= nb; b++)
        start[b] += start[b - 1];
    for (size_t k = 0; k < n; k++) {
        double x = (c[k].t - T0) * scale;
        size_t b = x > 0.0 ? (x < (double)(nb - 1) ? (size_t)x : nb - 1) : 0;
        tmp[start[nb - 1 - b]++] = c[k];
    }
    /* start[r] is now the end of bucket r; insertion sort within each */
    for (size_t r = 0, lo = 0; r < nb; lo = start[r++])
        for (size_t k = lo + 1; k < start[r]; k++) {
            const exact_cand x = tmp[k];
            size_t j = k;
            while (j > lo && !later(&tmp[j - 1], x.t, x.pop, x.node)) {
                tmp[j] = tmp[j - 1];
                j--;
            }
            tmp[j] = x;
        }
    memcpy(c, tmp, n * sizeof *c);
}

/* Insert a candidate into the window's array, kept latest first. */
static apical_status add_candidate(partition *P, double t, size_t pi, uint64_t i)
{
    if (grow_candidates(P))
        return P->st = apical_error_set(&P->err, APICAL_E_NOMEM, NULL, "out of memory");
    size_t k = P->n_cand;
    while (k > 0 && !later(&P->cand[k - 1], t, pi, i)) {
        P->cand[k] = P->cand[k - 1];
        k--;
    }
    P->cand[k] = (exact_cand){t, (uint32_t)pi, i};
    P->n_cand++;
    return APICAL_OK;
}

/* Draw neuron i's next candidate after t: into the window's array if it
 * falls before T1, else kept for a later window. */
static apical_status next_candidate(const apical_sim *S, partition *P, size_t pi, uint64_t i,
                                    double t, double T1)
{
    const pop_rt *pr = &S->pops[pi];
    exact_part *ex = P->pp[pi].ex;
    const double bound = pr->exact_bound;
    if (!(bound > 0.0)) {
        ex->next_cand[i - P->pp[pi].lo] = HUGE_VAL;
        return APICAL_OK;
    }
    t -= log(apical_rng_uniform_pos(&pr->rng[i])) / bound;
    ex->next_cand[i - P->pp[pi].lo] = t;
    return t < T1 ? add_candidate(P, t, pi, i) : APICAL_OK;
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
        !(ex->ytmp = calloc(pr->ns + 1, sizeof *ex->ytmp)) ||
        !(ex->ys = calloc(n * pr->ns + 1, sizeof *ex->ys)))
        return apical_error_set(err, APICAL_E_NOMEM, NULL, "out of memory");
    ex->rate_epoch = ex->ys_epoch = UINT64_MAX; /* both at the first window */
    ex->b_h = ex->b_g = NAN;
    pp->ctx = (apical_model_ctx){.param = pr->spec->param, .derived = pr->derived};
    pp->m = pr->m;
    pr->exact_bound = x->hazard_bound(&pp->ctx);
    S->has_exact = S->exact_dirty = 1;
    for (uint64_t i = pp->lo; i < pp->hi; i++)
        if (next_candidate(S, P, pi, i, 0.0, -HUGE_VAL)) {
            *err = P->err;
            return P->st;
        }
    return APICAL_OK;
}

void apical_exact_free(pop_part *pp)
{
    if (!pp->ex)
        return;
    free(pp->ex->acc);
    free(pp->ex->g);
    free(pp->ex->ytmp);
    free(pp->ex->ys);
    free(pp->ex->next_cand);
    free(pp->ex);
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
        /* the neurons' next candidates before T1, unsorted: each written,
         * kept if before T1 (no branch to mispredict; ~1 in 5 is kept) */
        const uint64_t n = pp->hi - pp->lo;
        if (reserve_candidates(P, P->n_cand + n))
            return P->st = apical_error_set(&P->err, APICAL_E_NOMEM, NULL, "out of memory");
        const double *restrict nc = ex->next_cand;
        exact_cand *restrict cand = P->cand;
        size_t m = P->n_cand;
        for (uint64_t j = 0; j < n; j++) {
            cand[m] = (exact_cand){nc[j], (uint32_t)pi, pp->lo + j};
            m += nc[j] < T1;
        }
        P->n_cand = m;
        if (x->int_hazard != (size_t)-1 && pr->track_int_hazard)
            for (int q = 0; q < EXACT_NODES; q++)
                if (push(P, T0 + gl_node[q] * ex->h, EV_NODE, (uint32_t)pi, (uint64_t)q))
                    return P->st;
    }
    /* one sort instead of an insertion per candidate (~100 per window,
     * inserted in neuron order: ~n^2/4 moves) */
    if (P->n_cand > 1)
        sort_candidates(P, T0, T1 - T0);
    return APICAL_OK;
}

/* The accumulators are n_acc arrays over the owned neurons (structure of
 * arrays), so that an all_to_all delivery is n_acc vector AXPYs. */
static inline void gather(const pop_part *pp, size_t n_acc, uint64_t i, double *a)
{
    const uint64_t n = pp->hi - pp->lo, j = i - pp->lo;
    for (size_t k = 0; k < n_acc; k++)
        a[k] = pp->ex->acc[k * n + j];
}

/* Add w coef to the accumulators of owned neuron i; coef for its own rate
 * when the partition's neurons do not share one. */
static inline void accumulate(const pop_rt *pr, const pop_part *pp, uint64_t i, size_t receptor,
                              double w, double t, const double *coef_shared)
{
    const apical_exact_ops *x = pr->exact;
    exact_part *ex = pp->ex;
    double coef[APICAL_EXACT_MAX_ACC];
    const double *c = coef_shared;
    if (!c) {
        x->input(receptor, t - ex->T0, ex->g[i - pp->lo], &pp->ctx, coef);
        c = coef;
    }
    const uint64_t n = pp->hi - pp->lo, j = i - pp->lo;
    for (size_t k = 0; k < x->n_acc; k++)
        ex->acc[k * n + j] += w * c[k];
}

void apical_exact_deliver(apical_sim *S, partition *P, size_t pi, uint64_t i, size_t receptor,
                          double w, double t)
{
    const pop_rt *pr = &S->pops[pi];
    const pop_part *pp = &P->pp[pi];
    double coef[APICAL_EXACT_MAX_ACC];
    const double *c = NULL;
    if (!isnan(pp->ex->g_shared)) {
        pr->exact->input(receptor, t - pp->ex->T0, pp->ex->g_shared, &pp->ctx, coef);
        c = coef;
    }
    accumulate(pr, pp, i, receptor, w, t, c);
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

void apical_exact_deliver_group(apical_sim *S, partition *P, size_t pi, const syn_group *g,
                                double t)
{
    const pop_rt *pr = &S->pops[pi];
    const pop_part *pp = &P->pp[pi];
    const apical_exact_ops *x = pr->exact;
    const exact_part *ex = pp->ex;
    const uint32_t begin = g->begin, end = g->end;
    if (begin == end)
        return;
    const size_t receptor = g->rec; /* one projection: one receptor */
    if (isnan(ex->g_shared)) {
        for (uint32_t s = begin; s < end; s++)
            accumulate(pr, pp, P->syn_idx[s], receptor, P->syn_w[s], t, NULL);
        return;
    }
    double coef[APICAL_EXACT_MAX_ACC];
    size_t nz[APICAL_EXACT_MAX_ACC], n_nz = 0;
    x->input(receptor, t - ex->T0, ex->g_shared, &pp->ctx, coef);
    for (size_t k = 0; k < x->n_acc; k++)
        if (coef[k] != 0.0)
            nz[n_nz++] = k;
    const uint64_t n = pp->hi - pp->lo;
    const double *restrict w = P->syn_w + begin;
    if (g->contiguous) {
        const uint64_t j0 = P->syn_idx[begin] - pp->lo, m = end - begin;
        size_t k = 0;
        /* four accumulators per pass (a kernel input touches four): one
         * read of the weights for all of them */
        for (; k + 4 <= n_nz; k += 4) {
            double *base = ex->acc + j0;
            axpy4(m, w, coef[nz[k]], coef[nz[k + 1]], coef[nz[k + 2]], coef[nz[k + 3]],
                  base + nz[k] * n, base + nz[k + 1] * n, base + nz[k + 2] * n,
                  base + nz[k + 3] * n);
        }
        for (; k < n_nz; k++)
            axpy1(m, w, coef[nz[k]], ex->acc + nz[k] * n + j0);
        return;
    }
    const uint32_t *idx = P->syn_idx + begin;
    for (size_t k = 0; k < n_nz; k++) {
        double *a = ex->acc + nz[k] * n - pp->lo;
        const double c = coef[nz[k]];
        for (uint32_t j = 0; j < end - begin; j++)
            a[idx[j]] += c * w[j];
    }
}

/* Somatic potential of owned neuron i at t inside the window. */
static double soma_at(const pop_rt *pr, const pop_part *pp, uint64_t i, double t,
                      const double *b_shared)
{
    const apical_exact_ops *x = pr->exact;
    const exact_part *ex = pp->ex;
    const double g = ex->g[i - pp->lo];
    double b[APICAL_EXACT_MAX_BASIS], a[APICAL_EXACT_MAX_ACC];
    if (!b_shared) {
        x->basis(t - ex->T0, g, &pp->ctx, b);
        b_shared = b;
    }
    gather(pp, x->n_acc, i, a);
    return x->soma(pr->y + i * pr->ns, a, b_shared, g, &pp->ctx);
}

apical_status apical_exact_candidate(apical_sim *S, partition *P)
{
    const exact_cand c = P->cand[--P->n_cand];
    const size_t pi = c.pop;
    const uint64_t i = c.node;
    pop_rt *pr = &S->pops[pi];
    pop_part *pp = &P->pp[pi];
    if (c.t >= pr->ref_until[i]) {
        const double C = soma_at(pr, pp, i, c.t, NULL);
        const double u = apical_rng_uniform(&pr->rng[i]);
        if (u * pr->exact_bound < pr->exact->hazard(C, &pp->ctx)) {
            apical_status st = apical_engine_emit(S, P, pi, i, c.t);
            if (st)
                return st;
            pr->ref_until[i] = c.t + pr->t_ref;
        }
    }
    return next_candidate(S, P, pi, i, c.t, pp->ex->T0 + pp->ex->h);
}

void apical_exact_node(apical_sim *S, partition *P, const apical_event *ev)
{
    const size_t pi = ev->a;
    const int q = (int)ev->b;
    const pop_rt *pr = &S->pops[pi];
    const pop_part *pp = &P->pp[pi];
    const exact_part *ex = pp->ex;
    const apical_exact_ops *x = pr->exact;
    const double *b = isnan(ex->g_shared) ? NULL : ex->b_node[q];
    const double wq = 0.5 * ex->h;
    for (uint64_t i = pp->lo; i < pp->hi; i++) {
        if (ev->t < pr->ref_until[i])
            continue;
        const double C = soma_at(pr, pp, i, ev->t, b);
        pr->y[i * pr->ns + x->int_hazard] += wq * x->hazard(C, &pp->ctx);
    }
}

/* The state of owned neuron i at t in the current window, into y. */
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
    gather(pp, x->n_acc, i, a);
    memcpy(y, y0, pr->ns * sizeof *y);
    x->state_at(y0, a, b, g, &pp->ctx, y);
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
    for (size_t pi = 0; pi < S->n_pops; pi++) {
        const pop_rt *pr = &S->pops[pi];
        pop_part *pp = &P->pp[pi];
        if (!pr->exact || pp->hi == pp->lo)
            continue;
        const apical_exact_ops *x = pr->exact;
        exact_part *ex = pp->ex;
        const int shared = !isnan(ex->g_shared);
        const uint64_t n = pp->hi - pp->lo;
        if (shared && x->state_end_n) {
            if (ex->ys_epoch != S->exact_epoch) { /* poked: a fresh copy */
                for (size_t k = 0; k < pr->ns; k++)
                    for (uint64_t j = 0; j < n; j++)
                        ex->ys[k * n + j] = pr->y[(pp->lo + j) * pr->ns + k];
                ex->ys_epoch = S->exact_epoch;
            }
            x->state_end_n(n, pr->y + pp->lo * pr->ns, ex->ys, ex->acc, ex->b_end, ex->g_shared,
                           &pp->ctx);
        } else {
            ex->ys_epoch = UINT64_MAX; /* y changes without it */
            double b[APICAL_EXACT_MAX_BASIS], a[APICAL_EXACT_MAX_ACC];
            for (uint64_t i = pp->lo; i < pp->hi; i++) {
                double *y = pr->y + i * pr->ns;
                const double g = ex->g[i - pp->lo];
                if (!shared)
                    x->basis(ex->h, g, &pp->ctx, b);
                gather(pp, x->n_acc, i, a);
                memcpy(ex->ytmp, y, pr->ns * sizeof *y);
                x->state_at(ex->ytmp, a, shared ? ex->b_end : b, g, &pp->ctx, y);
            }
            memset(ex->acc, 0, n * x->n_acc * sizeof *ex->acc);
        }
        for (uint64_t i = pp->lo; i < pp->hi; i++)
            pr->t_last[i] = T1;
        /* not finite if any state is: one test per population */
        const double sum = sum_all((pp->hi - pp->lo) * pr->ns, pr->y + pp->lo * pr->ns);
        if (!isfinite(sum))
            for (uint64_t i = pp->lo; i < pp->hi; i++)
                for (size_t k = 0; k < pr->ns; k++)
                    if (!isfinite(pr->y[i * pr->ns + k]))
                        return not_finite(S, P, pi, i, T1, pr->y + i * pr->ns);
        P->integrations += pp->hi - pp->lo;
    }
    return APICAL_OK;
}
