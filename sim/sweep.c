/* Lazy window-synchronous integration (stepper "sweep") for models with
 * apical_sweep_ops (docs/ARCHITECTURE.md, "Sweep populations").
 *
 * Each neuron's state is at its own time t_last. During a window [T0, T1)
 * inputs are only queued, per target neuron in time order. At T1 the
 * neurons that need it are stepped: those with inputs in the window and
 * those whose wake time (t_last + the model's quiet horizon: no crossing
 * is possible before it without input) is before T1, found in a calendar
 * of wake times bucketed by window index, so a window costs work in
 * proportion to them, not to the population. They are stepped together
 * in rounds by the model's batched step (advance_n, per-lane step
 * lengths, which the model splits into sub-steps where its accuracy bound
 * asks): each lane to its next stop (an input, its refractory end, its
 * wake time, T1). A lane stops as soon as it has no input left and
 * its new wake time is at or after T1. A step that may hide a threshold
 * crossing (outside a stretch proven quiet) is redone one by one by the
 * model's scalar `advance`; crossings are located on the cubic Hermite
 * interpolant of the step, then refined by Newton corrections against
 * `advance` itself.
 *
 * What a neuron does depends on its own state, its own inputs (in time
 * order) and the window grid, and the batched step gives a lane the same
 * bits in any position: results do not depend on partitioning or
 * threads. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim_state.h"
#include "spike_sink.h"
#include "illinois.h"

/* Copy a state vector. gcc turns a copy loop into a call to memcpy, which
 * for 3 doubles costs more than the step it guards (7% of COBA); a copy of
 * a constant 4 doubles is inlined. Walk buffers hold at least
 * APICAL_SWEEP_MAX_STATE doubles, so reading past ns is fine. */
static inline void copy_state(double *dst, const double *src, size_t ns)
{
    if (ns <= 4)
        memcpy(dst, src, 4 * sizeof *dst);
    else
        memcpy(dst, src, ns * sizeof *dst);
}

static apical_status nomem(partition *P)
{
    return P->st = apical_error_set(&P->err, APICAL_E_NOMEM, NULL, "out of memory");
}

apical_status apical_sweep_build(apical_sim *S, partition *P, size_t pi, apical_error *err)
{
    pop_rt *pr = &S->pops[pi];
    pop_part *pp = &P->pp[pi];
    const uint64_t n = pp->hi - pp->lo;
    sweep_part *sw = pp->sw = calloc(1, sizeof *sw);
    if (!sw || !(sw->cand = calloc(n + 1, sizeof *sw->cand)) ||
        !(sw->head = malloc((n + 1) * sizeof *sw->head)) ||
        !(sw->tail = malloc((n + 1) * sizeof *sw->tail)) ||
        !(sw->touched = malloc((n + 1) * sizeof *sw->touched)) ||
        !(sw->cal = malloc((n + 1) * sizeof *sw->cal)) ||
        !(sw->b_idx = malloc((n + 1) * sizeof *sw->b_idx)) ||
        !(sw->b_ev = malloc((n + 1) * sizeof *sw->b_ev)) ||
        !(sw->mask = malloc((n / 64 + 1) * sizeof *sw->mask)))
        return apical_error_set(err, APICAL_E_NOMEM, NULL, "out of memory");
    double **lane[] = {&sw->b_t,  &sw->b_ru,   &sw->b_wk,   &sw->b_dt,
                       &sw->b_to, &sw->b_held, &sw->b_cand, &sw->b_hz};
    for (size_t a = 0; a < sizeof lane / sizeof *lane; a++)
        if (!(*lane[a] = malloc((n + 1) * sizeof **lane[a])))
            return apical_error_set(err, APICAL_E_NOMEM, NULL, "out of memory");
    if (!(sw->b_ya = malloc((pr->ns * n + 1) * sizeof *sw->b_ya)) ||
        !(sw->b_yb = malloc((pr->ns * n + 1) * sizeof *sw->b_yb)))
        return apical_error_set(err, APICAL_E_NOMEM, NULL, "out of memory");
    sw->fast = !pr->sweep->horizon_n && pr->sweep->single_input;
    if (!pr->sweep->horizon_n && pr->sweep->step_n &&
        (!(sw->s_dt = malloc((n + 1) * sizeof *sw->s_dt)) ||
         !(sw->s_held = malloc((n + 1) * sizeof *sw->s_held))))
        return apical_error_set(err, APICAL_E_NOMEM, NULL, "out of memory");
    if (sw->fast) {
        double **q[] = {&sw->q_t, &sw->q_w, &sw->q_r, &sw->q_cand};
        for (size_t a = 0; a < sizeof q / sizeof *q; a++)
            if (!(*q[a] = malloc((n + 1) * sizeof **q[a])))
                return apical_error_set(err, APICAL_E_NOMEM, NULL, "out of memory");
        if (!(sw->slot = malloc((n + 1) * sizeof *sw->slot)) ||
            !(sw->q_idx = malloc((n + 1) * sizeof *sw->q_idx)))
            return apical_error_set(err, APICAL_E_NOMEM, NULL, "out of memory");
    }
    for (uint64_t j = 0; j < n; j++) {
        sw->head[j] = SWEEP_NONE;
        sw->cal[j] = SWEEP_CAL_NONE;
        if (sw->fast)
            sw->slot[j] = SWEEP_NONE;
    }
    sw->h = NAN;
    for (size_t c = 0; c < SWEEP_KCACHE; c++)
        sw->hc[c] = NAN;
    pp->ctx = (apical_model_ctx){.param = pr->spec->param, .derived = pr->derived};
    pp->m = pr->m;
    /* advance_n reads only the population's constants: any h */
    pr->sweep->constants(1.0, &pp->ctx, sw->k);
    S->has_sweep = 1;
    return APICAL_OK;
}

void apical_sweep_free(pop_part *pp)
{
    sweep_part *sw = pp->sw;
    if (!sw)
        return;
    void *v[] = {sw->cand, sw->scratch, sw->head, sw->tail, sw->touched, sw->ev,   sw->cal,  sw->far,  sw->b_idx,
                 sw->b_ev, sw->b_t,  sw->b_ru,    sw->b_wk, sw->b_dt,
                 sw->b_to, sw->b_held, sw->b_cand, sw->b_hz, sw->b_ya, sw->b_yb,
                 sw->slot, sw->q_idx, sw->q_t, sw->q_w, sw->q_r, sw->q_cand, sw->mask,
                 sw->s_dt, sw->s_held};
    for (size_t a = 0; a < sizeof v / sizeof *v; a++)
        free(v[a]);
    for (size_t r = 0; r < SWEEP_RING; r++)
        free(sw->ring[r].v);
    free(sw);
    pp->sw = NULL;
}

/* Append an input to owned neuron i's list. Inputs arrive in time order
 * (the run loop's order), so appending keeps each list sorted. */
static inline apical_status append(partition *P, sweep_part *sw, uint64_t j, size_t rec, double w,
                                   double t)
{
    if (sw->n_ev == sw->cap_ev) {
        size_t cap = sw->cap_ev ? 2 * sw->cap_ev : 4096;
        sweep_ev *e = realloc(sw->ev, cap * sizeof *e);
        if (!e || cap > SWEEP_NONE)
            return nomem(P);
        sw->ev = e;
        sw->cap_ev = cap;
    }
    const uint32_t k = (uint32_t)sw->n_ev++;
    sw->ev[k] = (sweep_ev){t, w, SWEEP_NONE, (uint32_t)rec};
    if (sw->head[j] == SWEEP_NONE) {
        sw->head[j] = k;
        sw->touched[sw->n_touched++] = (uint32_t)j;
    } else {
        sw->ev[sw->tail[j]].next = k;
    }
    sw->tail[j] = k;
    return APICAL_OK;
}

/* An input to owned neuron j of a population with the one-input list:
 * the first of the window is listed there, a second one moves both to the
 * neuron's list (in time order: the listed one came first). */
static inline apical_status deliver_fast(partition *P, sweep_part *sw, uint64_t j, uint32_t rec,
                                         double w, double t)
{
    const uint32_t q = sw->slot[j];
    if (q == SWEEP_NONE) {
        const uint32_t n = (uint32_t)sw->n_single++;
        sw->slot[j] = n;
        sw->q_idx[n] = (uint32_t)j;
        sw->q_t[n] = t;
        sw->q_w[n] = w;
        sw->q_r[n] = (double)rec;
        return APICAL_OK;
    }
    if (q != SWEEP_MOVED) {
        if (append(P, sw, j, (size_t)sw->q_r[q], sw->q_w[q], sw->q_t[q]))
            return P->st;
        sw->slot[j] = SWEEP_MOVED;
    }
    return append(P, sw, j, rec, w, t);
}

apical_status apical_sweep_deliver(apical_sim *S, partition *P, size_t pi, uint64_t i,
                                   size_t receptor, double w, double t)
{
    (void)S;
    pop_part *pp = &P->pp[pi];
    if (pp->sw->fast)
        return deliver_fast(P, pp->sw, i - pp->lo, (uint32_t)receptor, w, t);
    return append(P, pp->sw, i - pp->lo, receptor, w, t);
}

/* deliver_fast's first-input case inline, with the one-input list's
 * arrays and count in locals (through sw the compiler reloads them after
 * every store); a neuron's second input (~8% on COBA) takes deliver_fast
 * itself. The group's weights are wt[k & wm]; always inlined with wm a
 * constant, so the shared-weight instance (wm 0) reads its one weight once
 * and the own-weight instance (wm all ones) has no mask. */
static inline __attribute__((always_inline)) apical_status
deliver_fast_group(partition *P, sweep_part *sw, uint64_t lo, const uint32_t *restrict idx,
                   uint32_t m, const double *restrict wt, uint32_t wm, uint32_t rec, double t)
{
    uint32_t *slot = sw->slot, *q_idx = sw->q_idx;
    double *q_t = sw->q_t, *q_w = sw->q_w, *q_r = sw->q_r;
    const double r = (double)rec;
    size_t n1 = sw->n_single;
    for (uint32_t k = 0; k < m; k++) {
        const uint64_t j = idx[k] - lo;
        if (slot[j] == SWEEP_NONE) {
            slot[j] = (uint32_t)n1;
            q_idx[n1] = (uint32_t)j;
            q_t[n1] = t;
            q_w[n1] = wt[k & wm];
            q_r[n1] = r;
            n1++;
            continue;
        }
        sw->n_single = n1;
        if (deliver_fast(P, sw, j, rec, wt[k & wm], t))
            return P->st;
    }
    sw->n_single = n1;
    return APICAL_OK;
}

apical_status apical_sweep_deliver_group(apical_sim *S, partition *P, size_t pi,
                                         const syn_group *g, double t)
{
    (void)S;
    pop_part *pp = &P->pp[pi];
    sweep_part *sw = pp->sw;
    const uint32_t rec = g->rec; /* one projection: one receptor */
    if (sw->fast) {
        uint32_t wm;
        const double *wt = group_weights(P, g, &wm);
        const uint32_t *idx = P->syn_idx + g->begin, m = g->end - g->begin;
        return wm ? deliver_fast_group(P, sw, pp->lo, idx, m, wt, ~0u, rec, t)
                  : deliver_fast_group(P, sw, pp->lo, idx, m, wt, 0u, rec, t);
    }
    /* append() per synapse, with the lists' pointers and counts in
     * locals (through sw the compiler reloads them after every store) */
    const uint64_t lo = pp->lo;
    const uint32_t *restrict idx = P->syn_idx;
    uint32_t wm; /* own weights: wt[s - g->begin]; one shared weight: wt[0] */
    const double *restrict wt = group_weights(P, g, &wm);
    uint32_t *restrict head = sw->head, *restrict tail = sw->tail, *restrict tch = sw->touched;
    size_t n_t = sw->n_touched;
    for (uint32_t s = g->begin; s < g->end;) {
        if (sw->n_ev + (g->end - s) > sw->cap_ev) {
            /* room for the rest of the group first */
            size_t cap = sw->cap_ev ? 2 * sw->cap_ev : 4096;
            while (cap < sw->n_ev + (g->end - s))
                cap *= 2;
            sweep_ev *e = cap > SWEEP_NONE ? NULL : realloc(sw->ev, cap * sizeof *e);
            if (!e) {
                sw->n_touched = n_t;
                return nomem(P);
            }
            sw->ev = e;
            sw->cap_ev = cap;
        }
        sweep_ev *restrict ev = sw->ev;
        uint32_t k = (uint32_t)sw->n_ev;
        for (; s < g->end; s++, k++) {
            const uint64_t j = idx[s] - lo;
            ev[k] = (sweep_ev){t, wt[(s - g->begin) & wm], SWEEP_NONE, rec};
            if (head[j] == SWEEP_NONE) {
                head[j] = k;
                tch[n_t++] = (uint32_t)j;
            } else {
                ev[tail[j]].next = k;
            }
            tail[j] = k;
        }
        sw->n_ev = k;
    }
    sw->n_touched = n_t;
    return APICAL_OK;
}

/* --- one neuron through its inputs -------------------------------------- */

static inline double hermite1(double th, double H, double y0, double f0, double y1, double f1)
{
    const double th2 = th * th, th3 = th2 * th;
    return (2 * th3 - 3 * th2 + 1) * y0 + (th3 - 2 * th2 + th) * H * f0 +
           (-2 * th3 + 3 * th2) * y1 + (th3 - th2) * H * f1;
}

/* The step from (t0, y0) over H ended in y (spike distance s0 < 0 at its
 * start). Did the membrane cross threshold inside it? The cubic Hermite
 * interpolant of the spike distance (values and slopes at both ends)
 * decides: returns the fraction th1 in (0, 1] with the interpolant >= 0
 * there, the first crossing lying in (0, th1], or 0 when it stays below. */
/* hermite1 at th for the step in c = {H, s0, f0, s1, f1} (apical_illinois). */
static double hermite1_at(double th, void *c)
{
    const double *k = c;
    return hermite1(th, k[0], k[1], k[2], k[3], k[4]);
}

static double crossing_bracket(double H, double s0, double f0, double s1, double f1)
{
    if (s1 >= 0.0)
        return 1.0;
    /* a bound of the interpolant: max(s0, s1) + 4H/27 (f0+ + f1-) */
    if ((s0 > s1 ? s0 : s1) + H * (4.0 / 27.0) * ((f0 > 0.0 ? f0 : 0.0) + (f1 < 0.0 ? -f1 : 0.0)) <
        0.0)
        return 0.0;
    /* interior maxima: roots of the derivative, a quadratic in th */
    const double a = 3.0 * (2 * s0 + H * f0 - 2 * s1 + H * f1);
    const double b = 2.0 * (-3 * s0 - 2 * H * f0 + 3 * s1 - H * f1);
    const double c = H * f0;
    double r[2];
    int nr = 0;
    if (fabs(a) < 1e-300) {
        if (b != 0.0)
            r[nr++] = -c / b;
    } else {
        const double disc = b * b - 4 * a * c;
        if (disc >= 0.0) {
            const double q = -0.5 * (b + copysign(sqrt(disc), b));
            r[nr++] = q / a;
            if (q != 0.0)
                r[nr++] = c / q;
        }
    }
    double best = 0.0;
    for (int k = 0; k < nr; k++)
        if (r[k] > 0.0 && r[k] < 1.0 && hermite1(r[k], H, s0, f0, s1, f1) >= 0.0 &&
            (best == 0.0 || r[k] < best))
            best = r[k];
    return best;
}

typedef struct walk {
    apical_sim *S;
    partition *P;
    size_t pi;
    uint64_t i;
    int emit;
    double t, ru; /* the neuron's time and end of refractoriness */
} walk;

/* A spike of the walked neuron at ts: emitted (unless a copy), reset,
 * refractory. */
static apical_status fire(walk *w, double *y, double ts)
{
    const pop_rt *pr = &w->S->pops[w->pi];
    const pop_part *pp = &w->P->pp[w->pi];
    if (w->emit) {
        apical_status st = apical_engine_emit(w->S, w->P, w->pi, w->i, ts);
        if (st)
            return st;
    }
    pr->m->reset(y, &pp->ctx);
    w->ru = ts + pr->t_ref;
    w->t = ts;
    return APICAL_OK;
}

/* Advance the walked neuron to `target`, handling crossings, resets and
 * refractory ends on the way. y holds APICAL_SWEEP_MAX_STATE doubles. */
static apical_status run_to(walk *w, double *y, double target)
{
    const pop_rt *pr = &w->S->pops[w->pi];
    pop_part *pp = &w->P->pp[w->pi];
    const apical_model_type *m = pr->m;
    const apical_sweep_ops *ops = pr->sweep;
    apical_model_ctx *c = &pp->ctx;
    const size_t ns = pr->ns;
    double y0[APICAL_SWEEP_MAX_STATE], yy[APICAL_SWEEP_MAX_STATE];
    double sl[2];
    /* The crossing test trusts the step's Hermite interpolant over at most
     * the model's max_step (e.g. an action potential fits inside a longer
     * step with both ends below threshold): longer stretches are walked in
     * pieces of max_step. */
    const double cap = ops->max_step(c);
    while (w->t < target) {
        const double t0 = w->t;
        if (t0 < w->ru) {
            /* refractory: membrane held, the rest evolves */
            const double seg = fmin(w->ru, target);
            c->refractory = 1;
            ops->advance(y, seg - t0, 1, c, sl);
            c->refractory = 0;
            w->t = seg;
            continue;
        }
        const double stop = cap > 0.0 && target - t0 > cap * (1.0 + 1e-9) ? t0 + cap : target;
        const double H = stop - t0;
        copy_state(y0, y, ns);
        ops->advance(y, H, 0, c, sl);
        w->P->steps++;
        const double s0 = m->spike_distance(y0, c);
        if (!(s0 < 0.0)) {
            w->t = stop;
            continue;
        }
        const double s1 = m->spike_distance(y, c);
        const double f0 = sl[0], f1 = sl[1];
        const double th1 = crossing_bracket(H, s0, f0, s1, f1);
        if (th1 == 0.0) {
            w->t = stop;
            continue;
        }
        /* The first root of the interpolant in (0, th1]: Illinois. */
        const double hc[5] = {H, s0, f0, s1, f1};
        const double th = apical_illinois(0.0, th1, s0, hermite1(th1, H, s0, f0, s1, f1), H,
                                          1e-15, 60, hermite1_at, (void *)hc);
        /* Newton against the integrator itself: the interpolant is only
         * O(H^4) accurate; the crossing of the integrated solution is the
         * one the method defines. */
        double ts = t0 + th * H;
        const double t_hi = t0 + th1 * H;
        int at_ts = 0; /* yy holds `advance`'s state at ts */
        for (int it = 0; it < 3; it++) {
            copy_state(yy, y0, ns);
            ops->advance(yy, ts - t0, 0, c, sl);
            at_ts = 1;
            const double g = m->spike_distance(yy, c);
            if (!(sl[1] > 0.0))
                break;
            const double tn = fmin(fmax(ts - g / sl[1], t0), t_hi);
            if (fabs(tn - ts) < ops->crossing_tol)
                break; /* close enough (crossing_tol): ts and its state */
            const int done = fabs(tn - ts) < 1e-12;
            ts = tn;
            at_ts = 0;
            if (done)
                break;
        }
        if (at_ts) {
            copy_state(y, yy, ns);
        } else {
            copy_state(y, y0, ns);
            ops->advance(y, ts - t0, 0, c, sl);
        }
        apical_status st = fire(w, y, ts);
        if (st)
            return st;
    }
    return APICAL_OK;
}

/* The walked neuron, at the input's time, receives it and every later
 * input of its list at that same time (*ev moves past them). A jump from
 * below threshold to at or above it (not refractory) fires at the input's
 * time. Simultaneous inputs are all applied before that test, as NEST's
 * precise-timing models sum simultaneous events: with delta synapses and
 * one delay, spikes caused by one input share its time exactly, so their
 * effects arrive together, and testing after each one would let the
 * first in delivery order (sources by id: excitatory populations first in
 * Brunel's network) fire a neuron whose net input is inhibitory. Models
 * whose receive never moves spike_distance get the same result either
 * way; those that say so (receive_keeps_distance) skip the test. */
static inline apical_status apply_inputs_k(walk *w, const apical_model_type *m,
                                           apical_model_ctx *c, double *y, const sweep_ev *E,
                                           uint32_t *ev, int keeps)
{
    uint32_t e = *ev;
    const double t = E[e].t;
    const int refr = t < w->ru;
    c->refractory = refr;
    const int below = !refr && !keeps && m->spike_distance(y, c) < 0.0;
    do {
        m->receive(y, E[e].rec, E[e].w, c);
        e = E[e].next;
    } while (e != SWEEP_NONE && E[e].t == t);
    *ev = e;
    c->refractory = 0;
    if (below && m->spike_distance(y, c) >= 0.0)
        return fire(w, y, t);
    return APICAL_OK;
}

/* apply_inputs_k with the model's flag read here (the walks); the lazy
 * lanes read it once per window */
static inline apical_status apply_inputs(walk *w, const apical_model_type *m,
                                         apical_model_ctx *c, double *y, const sweep_ev *E,
                                         uint32_t *ev)
{
    return apply_inputs_k(w, m, c, y, E, ev, m->sweep->receive_keeps_distance);
}

/* A state that is not finite stops the run, as GSL failures do. The
 * kernels flag such results (cand >= 0), so only neurons redone one by one
 * need the test; a per-window pass over every state cost ~8% of CUBA. */
static apical_status check_finite(walk *w, const double *y, double t)
{
    const pop_rt *pr = &w->S->pops[w->pi];
    for (size_t k = 0; k < pr->ns; k++)
        if (!isfinite(y[k]))
            return w->P->st = apical_error_set(
                       &w->P->err, APICAL_E_SOLVER, &pr->spec->pos,
                       "population '%s' neuron %llu failed to integrate at t = %.6f ms (state "
                       "not finite, stepper sweep: %s); %s = %g %s",
                       pr->spec->name, (unsigned long long)w->i, t, pr->sweep->method,
                       pr->m->state[k].name, y[k], pr->m->state[k].unit);
    return APICAL_OK;
}

/* Walk owned neuron i from T0 (state y) through its inputs from E[ev] on
 * to t_end; a state that is not finite at the end stops the run. */
static apical_status walk_inputs(walk *w, double *y, const sweep_ev *E, uint32_t ev, double t_end)
{
    const pop_rt *pr = &w->S->pops[w->pi];
    pop_part *pp = &w->P->pp[w->pi];
    const apical_model_type *m = pr->m;
    apical_status st;
    while (ev != SWEEP_NONE && E[ev].t <= t_end) {
        if ((st = run_to(w, y, E[ev].t)) || (st = apply_inputs(w, m, &pp->ctx, y, E, &ev)))
            return st;
    }
    if ((st = run_to(w, y, t_end)))
        return st;
    return check_finite(w, y, t_end);
}

/* The same through the neuron's list in the window's input buffer. */
static apical_status walk_neuron(walk *w, double *y, uint32_t ev, double t_end)
{
    return walk_inputs(w, y, w->P->pp[w->pi].sw->ev, ev, t_end);
}


/* Advance the walked neuron to `target` over a stretch proven free of
 * crossings (before its wake time, or refractory): no crossing search;
 * `advance` takes the sub-steps the method's accuracy needs. */
static void run_quiet(walk *w, double *y, double target)
{
    const pop_rt *pr = &w->S->pops[w->pi];
    apical_model_ctx *c = &w->P->pp[w->pi].ctx;
    double sl[2];
    while (w->t < target) {
        const int held = w->t < w->ru;
        const double seg = held && w->ru < target ? w->ru : target;
        c->refractory = held;
        pr->sweep->advance(y, seg - w->t, held, c, sl);
        c->refractory = 0;
        w->P->steps++;
        w->t = seg;
    }
}

/* --- the wake-up calendar ---------------------------------------------- */

/* The window index whose bucket a wake time belongs in: the first window
 * [k d, (k+1) d) whose end, as the run loop computes it, is after wake.
 * inv_d = 1/d gives a first guess (a multiply, not a division: this runs
 * once per stepped neuron); the loops make it exact, the conditions they
 * stop on having one solution, so the guess only sets how often they turn.
 * The guess truncates (floor for q >= 0) and the loops count in int64_t
 * (k < 4e18 < 2^63): one conversion instruction each way, where floor()
 * and uint64_t <-> double took ~23 more per call (4% of CUBA's
 * instructions). */
static inline uint64_t cal_index(double d, double inv_d, double wake)
{
    if (wake != wake)
        return 0; /* not a number: at once (the step reports the state) */
    const double q = wake * inv_d;
    if (!(q < 4e18))
        return SWEEP_CAL_NONE;
    int64_t k = q > 0.0 ? (int64_t)q : 0;
    while ((double)(k + 1) * d <= wake)
        k++;
    while (k > 0 && (double)k * d > wake)
        k--;
    return (uint64_t)k;
}

static inline int bucket_push(sweep_bucket *b, uint32_t j)
{
    if (b->n == b->cap) {
        size_t cap = b->cap ? 2 * b->cap : 64;
        uint32_t *v = realloc(b->v, cap * sizeof *v);
        if (!v)
            return -1;
        b->v = v;
        b->cap = cap;
    }
    b->v[b->n++] = j;
    return 0;
}

/* File owned neuron j under its wake time; cur: the window being run (or,
 * between windows, the next one), the earliest it can be filed under.
 * A live entry in a later window that does not come after the wake
 * time's (c d <= wake: cal_index's own test) is kept: the neuron is
 * filed again when that bucket is read and its wake time is still later
 * (apical_sweep_window_end), which is rarer than a wake time moving
 * later (most entries go stale: an input comes first), and saves
 * cal_index per stepped neuron. Which neurons step in which window does
 * not change: an entry is never later than the wake time's window. */
static inline apical_status cal_insert(apical_sim *S, partition *P, sweep_part *sw, uint32_t j,
                                       double wake, uint64_t cur)
{
    const uint64_t c = sw->cal[j];
    if (c != SWEEP_CAL_NONE && c > cur && (double)c * S->min_delay <= wake)
        return APICAL_OK;
    if (sw->cal_d != S->min_delay) {
        sw->cal_d = S->min_delay;
        sw->cal_inv = 1.0 / S->min_delay;
    }
    uint64_t k = cal_index(S->min_delay, sw->cal_inv, wake);
    if (k == SWEEP_CAL_NONE) {
        sw->cal[j] = SWEEP_CAL_NONE;
        return APICAL_OK;
    }
    k = k < cur ? cur : k;
    if (sw->cal[j] == k) /* its live entry is there already */
        return APICAL_OK;
    sw->cal[j] = k;
    if (k < cur + SWEEP_RING)
        return bucket_push(&sw->ring[k % SWEEP_RING], j) ? nomem(P) : APICAL_OK;
    if (sw->n_far == sw->cap_far) {
        size_t cap = sw->cap_far ? 2 * sw->cap_far : 64;
        sweep_far *f = realloc(sw->far, cap * sizeof *f);
        if (!f)
            return nomem(P);
        sw->far = f;
        sw->cap_far = cap;
    }
    sw->far[sw->n_far++] = (sweep_far){j, k};
    return APICAL_OK;
}

/* Move the far entries that now fall within the ring into it (live ones
 * only); called every SWEEP_RING / 2 windows, so an entry is in the ring
 * before its window comes. */
static apical_status cal_rebucket(partition *P, sweep_part *sw, uint64_t W)
{
    size_t keep = 0;
    for (size_t a = 0; a < sw->n_far; a++) {
        const sweep_far f = sw->far[a];
        if (sw->cal[f.j] != f.k)
            continue; /* stale */
        if (f.k < W + SWEEP_RING) {
            if (bucket_push(&sw->ring[f.k % SWEEP_RING], f.j))
                return nomem(P);
        } else {
            sw->far[keep++] = f;
        }
    }
    sw->n_far = keep;
    sw->rebucket_at = W + SWEEP_RING / 2;
    return APICAL_OK;
}

/* A neuron's wake time from its state y at t (contiguous): its refractory
 * end while refractory, else t + the model's horizon (t without one). */
static double wake_of(const pop_rt *pr, pop_part *pp, const double *y, double t, double ru)
{
    if (t < ru)
        return ru;
    if (!pr->sweep->horizon_n)
        return t;
    const double *yk[APICAL_SWEEP_MAX_STATE];
    for (size_t k = 0; k < pr->ns; k++)
        yk[k] = &y[k];
    double q;
    pr->sweep->horizon_n(1, yk, &pp->ctx, &q);
    return t + q;
}

/* First window: every owned neuron's wake time (after the initial spikes)
 * and its calendar entry. */
static apical_status cal_init(apical_sim *S, partition *P, size_t pi, uint64_t W)
{
    pop_rt *pr = &S->pops[pi];
    pop_part *pp = &P->pp[pi];
    sweep_part *sw = pp->sw;
    const uint64_t lo = pp->lo, n = pp->hi - lo;
    double ys[APICAL_SWEEP_MAX_STATE];
    for (uint64_t j = 0; j < n; j++) {
        pop_get(pr, pr->y, lo + j, ys);
        const double wk = wake_of(pr, pp, ys, pr->t_last[lo + j], pr->ref_until[lo + j]);
        pr->wake[lo + j] = wk;
        if (cal_insert(S, P, sw, (uint32_t)j, wk, W))
            return P->st;
    }
    sw->ready = 1;
    sw->rebucket_at = W + SWEEP_RING / 2;
    return APICAL_OK;
}

/* --- dense populations: the window kernel ------------------------------ */

/* A lane's next stop from its time t: its next input e (T1 if none), or
 * its refractory end ru before that while refractory (walk_batch's rounds
 * and kernel_to_stops plan the same stops). */
static inline double next_stop(const sweep_ev *E, uint32_t e, double t, double ru, double T1)
{
    const double to = e != SWEEP_NONE ? E[e].t : T1;
    return t < ru && ru < to ? ru : to;
}

/* The neurons with inputs, stepped together: each round advances every
 * lane to its next input (or refractory end, or T1) with one call of the
 * model's advance_n, then applies that input lane by lane; lanes that
 * reach T1 leave, the rest are packed to the front. A lane the kernel
 * flags (a possible crossing, a step beyond the accuracy bound) finishes
 * the window one by one (walk_neuron) from its state before the step.
 * Each lane's steps are those walk_neuron would take (the same stop
 * points), with advance_n's bits equal to advance's. */
static apical_status walk_batch(apical_sim *S, partition *P, size_t pi, double T0, double T1,
                                int stepped)
{
    const pop_rt *pr = &S->pops[pi];
    pop_part *pp = &P->pp[pi];
    sweep_part *sw = pp->sw;
    const apical_model_type *m = pr->m;
    const sweep_ev *E = sw->ev;
    const uint64_t lo = pp->lo, cap = pp->hi - lo;
    const size_t ns = pr->ns;
    const double *ya[APICAL_SWEEP_MAX_STATE];
    double *yaw[APICAL_SWEEP_MAX_STATE], *yb[APICAL_SWEEP_MAX_STATE];
    for (size_t k = 0; k < ns; k++) {
        ya[k] = yaw[k] = sw->b_ya + k * cap;
        yb[k] = sw->b_yb + k * cap;
    }
    walk w = {S, P, pi, 0, 1, T0, 0.0};
    double ys[APICAL_SWEEP_MAX_STATE];
    apical_status st;
    size_t na = 0;
    for (size_t q = 0; q < sw->n_touched; q++) {
        const uint32_t j = sw->touched[q];
        uint32_t e = sw->head[j];
        const double ru = pr->ref_until[lo + j];
        if (stepped && sw->cand[j] < 0.0) {
            /* the kernel took this lane's first round (kernel_to_stops):
             * its commit, as below */
            w.i = lo + j;
            w.ru = ru;
            w.t = next_stop(E, e, T0, ru, T1);
            pop_get(pr, pr->y_next, lo + j, ys);
            if (e != SWEEP_NONE && w.t == E[e].t &&
                (st = apply_inputs(&w, m, &pp->ctx, ys, E, &e)))
                return st;
            if (w.t >= T1) {
                pop_put(pr, pr->y_next, lo + j, ys);
                pr->ref_until[lo + j] = w.ru;
                continue;
            }
            sw->b_t[na] = w.t;
            sw->b_ru[na] = w.ru;
            for (size_t k = 0; k < ns; k++)
                yaw[k][na] = ys[k];
        } else {
            sw->b_t[na] = T0;
            sw->b_ru[na] = ru;
            for (size_t k = 0; k < ns; k++)
                yaw[k][na] = pr->y[pop_at(pr, lo + j, k)];
        }
        sw->b_idx[na] = j;
        sw->b_ev[na++] = e;
    }
    while (na) {
        for (size_t q = 0; q < na; q++) {
            const double to = next_stop(E, sw->b_ev[q], sw->b_t[q], sw->b_ru[q], T1);
            const int held = sw->b_t[q] < sw->b_ru[q];
            sw->b_to[q] = to;
            sw->b_dt[q] = to - sw->b_t[q];
            sw->b_held[q] = held ? 1.0 : 0.0;
        }
        pr->sweep->advance_n(na, ya, yb, sw->b_dt, sw->b_held, &pp->ctx, sw->k, sw->b_cand);
        P->steps += na;
        size_t keep = 0;
        for (size_t q = 0; q < na; q++) {
            const uint32_t j = sw->b_idx[q];
            w.i = lo + j;
            w.ru = sw->b_ru[q];
            uint32_t e = sw->b_ev[q];
            if (sw->b_cand[q] >= 0.0) {
                /* one by one from the lane's state before this step */
                w.t = sw->b_t[q];
                for (size_t k = 0; k < ns; k++)
                    ys[k] = ya[k][q];
                if ((st = walk_neuron(&w, ys, e, T1)))
                    return st;
                pop_put(pr, pr->y_next, lo + j, ys);
                pr->ref_until[lo + j] = w.ru;
                continue;
            }
            w.t = sw->b_to[q];
            for (size_t k = 0; k < ns; k++)
                ys[k] = yb[k][q];
            if (e != SWEEP_NONE && w.t == E[e].t) {
                if ((st = apply_inputs(&w, m, &pp->ctx, ys, E, &e)))
                    return st;
            }
            if (w.t >= T1) {
                pop_put(pr, pr->y_next, lo + j, ys);
                pr->ref_until[lo + j] = w.ru;
                continue;
            }
            /* keep >= q never overtakes: lane q is read before slot keep
             * (<= q) is written */
            sw->b_idx[keep] = j;
            sw->b_t[keep] = w.t;
            sw->b_ru[keep] = w.ru;
            sw->b_ev[keep] = e;
            for (size_t k = 0; k < ns; k++)
                yaw[k][keep] = ys[k];
            keep++;
        }
        na = keep;
    }
    return APICAL_OK;
}

/* The window's constants for length h: recomputed only when h changes
 * (window lengths are equal up to rounding of k * d_min, so usually once
 * or a few times per run). A window longer than the model's max_step runs
 * as m equal sub-windows. */
static apical_status window_constants(partition *P, const pop_rt *pr, pop_part *pp, double h)
{
    sweep_part *sw = pp->sw;
    if (h == sw->h)
        return APICAL_OK;
    const size_t nk = pr->sweep->n_const;
    size_t c = 0;
    while (c < SWEEP_KCACHE && !(sw->hc[c] == h))
        c++;
    if (c == SWEEP_KCACHE) {
        const double hmax = pr->sweep->max_step(&pp->ctx);
        const double m = hmax > 0.0 && h > hmax ? ceil(h / hmax) : 1.0;
        c = sw->next;
        sw->next = (sw->next + 1) % SWEEP_KCACHE;
        sw->mc[c] = m < 1e6 ? (unsigned)m : 1000000u;
        pr->sweep->constants(h / (double)sw->mc[c], &pp->ctx, sw->kc[c]);
        sw->hc[c] = h;
    }
    sw->m = sw->mc[c];
    memcpy(sw->k, sw->kc[c], nk * sizeof *sw->k);
    sw->h = h;
    if (sw->m > 1 && !sw->scratch &&
        !(sw->scratch = malloc(((pr->ns + 1) * (pp->hi - pp->lo) + 1) * sizeof *sw->scratch)))
        return nomem(P);
    return APICAL_OK;
}

/* The kernel over the owned neurons: one call, or m calls through the
 * scratch states (ping-pong so that the last lands in yn; y, the T0 state,
 * stays for the neurons redone one by one), candidates combined by max. */
static void run_kernel(const pop_rt *pr, pop_part *pp, const double *const *y, double *const *yn,
                       double T0, double T1)
{
    sweep_part *sw = pp->sw;
    const uint64_t lo = pp->lo, n = pp->hi - lo;
    const size_t ns = pr->ns;
    const double *ru = pr->ref_until + lo;
    if (sw->m == 1) {
        pr->sweep->window(n, y, yn, ru, T0, T1, sw->k, &pp->ctx, sw->cand);
        return;
    }
    double *sb[APICAL_SWEEP_MAX_STATE];
    for (size_t k = 0; k < ns; k++)
        sb[k] = sw->scratch + k * n;
    double *c2 = sw->scratch + ns * n;
    const double H = T1 - T0;
    const unsigned m = sw->m;
    for (unsigned j = 0; j < m; j++) {
        const double a = j ? T0 + H * (double)j / (double)m : T0;
        const double b = j + 1 < m ? T0 + H * (double)(j + 1) / (double)m : T1;
        double *const *dst = (m - 1 - j) % 2 == 0 ? yn : sb;
        const double *const *src = j == 0 ? y : (const double *const *)((m - j) % 2 == 0 ? yn : sb);
        pr->sweep->window(n, src, dst, ru, a, b, sw->k, &pp->ctx, j ? c2 : sw->cand);
        for (uint64_t i = 0; j && i < n; i++)
            sw->cand[i] = c2[i] > sw->cand[i] ? c2[i] : sw->cand[i];
    }
}

/* The window kernel by the model's step_n (one kernel step per window, no
 * one-input list): every owned neuron without inputs over [T0, T1), each
 * one with inputs to its first stop as walk_batch's first round plans it
 * (next_stop from T0, held where refractory at T0), so that walk_batch
 * goes on from there (stepped) instead of stepping it again from T0: a
 * quarter of COBAHH's neuron-windows, whose kernel step `window` would
 * throw away. A neuron without inputs whose refractoriness ends inside the
 * window is flagged, as `window` flags it (walked). */
static void kernel_to_stops(const pop_rt *pr, pop_part *pp, const double *const *y,
                            double *const *yn, double T0, double T1)
{
    sweep_part *sw = pp->sw;
    const uint64_t lo = pp->lo, n = pp->hi - lo;
    const double *restrict ru = pr->ref_until + lo;
    double *restrict dt = sw->s_dt, *restrict held = sw->s_held, *restrict cd = sw->cand;
    const double H = T1 - T0;
    /* refractoriness ending inside: a step beyond max_step, which step_n
     * flags (a select, not a pass over the flags afterwards) */
    for (uint64_t j = 0; j < n; j++) {
        dt[j] = ru[j] > T0 && ru[j] < T1 ? HUGE_VAL : H;
        held[j] = ru[j] >= T1 ? 1.0 : 0.0;
    }
    for (size_t q = 0; q < sw->n_touched; q++) {
        const uint32_t j = sw->touched[q];
        dt[j] = next_stop(sw->ev, sw->head[j], T0, ru[j], T1) - T0;
        held[j] = T0 < ru[j] ? 1.0 : 0.0;
    }
    pr->sweep->step_n(n, y, yn, dt, held, sw->k, &pp->ctx, cd);
}

/* Per block of 64 flags, bit j set where flag j is not negative (sign bit
 * clear): shifts and ORs, which vectorise; one call for all n. */
__attribute__((target_clones("avx512f", "avx2", "default")))
static void flag_masks(const double *restrict cd, uint64_t n, uint64_t *restrict out)
{
    const uint64_t nb = n / 64;
    for (uint64_t b = 0; b < nb; b++) {
        uint64_t m = 0;
        for (uint64_t j = 0; j < 64; j++) {
            uint64_t x;
            memcpy(&x, &cd[64 * b + j], sizeof x);
            m |= (~x >> 63) << j;
        }
        out[b] = m;
    }
    if (n % 64) {
        uint64_t m = 0;
        for (uint64_t j = 64 * nb; j < n; j++) {
            uint64_t x;
            memcpy(&x, &cd[j], sizeof x);
            m |= (~x >> 63) << (j - 64 * nb);
        }
        out[nb] = m;
    }
}

/* The neurons with exactly one input, after the kernel (which stepped
 * them without it): the model's single_input from the state at T0 into
 * yn. Those it cannot finish (flagged), and every listed neuron's flag
 * from the kernel, are handed to the per-neuron lists, which the rounds
 * (walk_batch) then take as if they had come that way: the fast path's
 * bits are those of the rounds, so which path a neuron takes does not
 * change its result. *n_in: the number of neurons with inputs. */
static apical_status one_input(partition *P, const pop_rt *pr, pop_part *pp,
                               const double *const *y, double *const *yn, double T0, double T1,
                               size_t *n_in)
{
    sweep_part *sw = pp->sw;
    const uint64_t lo = pp->lo;
    size_t nf = 0;
    *n_in = sw->n_single;
    for (size_t q = 0; q < sw->n_single; q++) {
        const uint32_t j = sw->q_idx[q];
        const int moved = sw->slot[j] == SWEEP_MOVED;
        sw->slot[j] = SWEEP_NONE;
        if (moved)
            continue;
        sw->q_idx[nf] = j;
        sw->q_t[nf] = sw->q_t[q];
        sw->q_w[nf] = sw->q_w[q];
        sw->q_r[nf] = sw->q_r[q];
        nf++;
    }
    sw->n_single = 0;
    pr->sweep->single_input(nf, sw->q_idx, y, yn, pr->ref_until + lo, sw->q_t, sw->q_w, sw->q_r,
                            T0, T1, sw->k, &pp->ctx, sw->q_cand);
    P->steps += 2 * nf;
    for (size_t q = 0; q < nf; q++) {
        const uint32_t j = sw->q_idx[q];
        sw->cand[j] = -1.0;
        if (sw->q_cand[q] >= 0.0 &&
            append(P, sw, j, (size_t)sw->q_r[q], sw->q_w[q], sw->q_t[q]))
            return P->st;
    }
    return APICAL_OK;
}

/* Owned neuron j of a dense population, flagged by the kernel and without
 * inputs, walked one by one from its state at T0 (w: the walk's
 * partition and population) into y_next. */
static apical_status walk_flagged(walk *w, const pop_rt *pr, uint64_t j, double T0, double T1)
{
    const uint64_t lo = w->P->pp[w->pi].lo;
    double ys[APICAL_SWEEP_MAX_STATE];
    w->i = lo + j, w->t = T0, w->ru = pr->ref_until[lo + j];
    pop_get(pr, pr->y, lo + j, ys);
    apical_status st = walk_neuron(w, ys, SWEEP_NONE, T1);
    if (st)
        return w->P->st = st;
    pop_put(pr, pr->y_next, lo + j, ys);
    pr->ref_until[lo + j] = w->ru;
    w->P->integrations++;
    return APICAL_OK;
}

/* A population without horizon_n (models: where stepping every
 * neuron every window with the shared-constant kernel is faster than
 * stepping it lazily): every owned neuron from T0 to T1 into y_next. */
static apical_status dense_window(apical_sim *S, partition *P, size_t pi, double T0, double T1)
{
    {
        pop_rt *pr = &S->pops[pi];
        pop_part *pp = &P->pp[pi];
        sweep_part *sw = pp->sw;
        const uint64_t lo = pp->lo, n = pp->hi - lo;
        const size_t ns = pr->ns;
        if (window_constants(P, pr, pp, T1 - T0))
            return P->st;
        const double *y[APICAL_SWEEP_MAX_STATE];
        double *yn[APICAL_SWEEP_MAX_STATE];
        for (size_t k = 0; k < ns; k++) {
            y[k] = pr->y + pop_at(pr, lo, k);
            yn[k] = pr->y_next + pop_at(pr, lo, k);
        }
        pp->ctx.refractory = 0;
        const int stepped = pr->sweep->step_n && sw->m == 1 && !sw->fast;
        if (stepped)
            kernel_to_stops(pr, pp, y, yn, T0, T1);
        else
            run_kernel(pr, pp, y, yn, T0, T1);
        size_t n_in = sw->n_touched;
        if (sw->fast && one_input(P, pr, pp, y, yn, T0, T1, &n_in))
            return P->st;
        double ys[APICAL_SWEEP_MAX_STATE];
        walk w = {S, P, pi, 0, 1, T0, 0.0};
        /* neurons with inputs: batched where the model can, else one by
         * one in the order they were first touched */
        if (pr->sweep->advance_n) {
            if (walk_batch(S, P, pi, T0, T1, stepped))
                return P->st;
            for (size_t q = 0; q < sw->n_touched; q++) {
                sw->head[sw->touched[q]] = SWEEP_NONE;
                sw->cand[sw->touched[q]] = -1.0;
            }
        }
        for (size_t q = 0; !pr->sweep->advance_n && q < sw->n_touched; q++) {
            const uint32_t j = sw->touched[q];
            w.i = lo + j, w.t = T0, w.ru = pr->ref_until[lo + j];
            pop_get(pr, pr->y, lo + j, ys);
            apical_status st = walk_neuron(&w, ys, sw->head[j], T1);
            if (st)
                return st;
            pop_put(pr, pr->y_next, lo + j, ys);
            pr->ref_until[lo + j] = w.ru;
            sw->head[j] = SWEEP_NONE;
            sw->cand[j] = -1.0;
        }
        P->integrations += n + n_in;
        sw->n_touched = 0;
        sw->n_ev = 0;
        /* Neurons the kernel could not finish (cand >= 0), found by a
         * vectorised mask of the sign bits per 64. (The neurons' time
         * is S->t: no per-neuron t_last for dense populations.) */
        const double *restrict cd = sw->cand;
        const double *ru = pr->ref_until + lo;
        /* not refractory at T0, one kernel step: the model's window_redo
         * (listed in b_idx, its flags in b_cand), else walked */
        const int redo = pr->sweep->window_redo && sw->m == 1;
        size_t nr = 0;
        flag_masks(cd, n, sw->mask);
        for (uint64_t b = 0; b < (n + 63) / 64; b++) {
            for (uint64_t bits = sw->mask[b]; bits; bits &= bits - 1) {
                const uint64_t j = 64 * b + (uint64_t)__builtin_ctzll(bits);
                if (!(cd[j] >= 0.0))
                    continue;
                if (redo && (!(ru[j] > T0) || (pr->sweep->redo_refractory && ru[j] >= T1))) {
                    sw->b_cand[nr] = ru[j] > T0 ? 1.0 : 0.0; /* refractory throughout */
                    sw->b_idx[nr++] = (uint32_t)j;
                    continue;
                }
                if (walk_flagged(&w, pr, j, T0, T1))
                    return P->st;
            }
        }
        if (nr) {
            pr->sweep->window_redo(nr, sw->b_idx, y, yn, T0, T1, sw->k, &pp->ctx, sw->b_cand);
            for (size_t q = 0; q < nr; q++) {
                if (!(sw->b_cand[q] >= 0.0)) {
                    P->integrations++; /* as the walk counts: one step */
                    P->steps++;
                } else if (walk_flagged(&w, pr, sw->b_idx[q], T0, T1)) {
                    return P->st;
                }
            }
        }
    }
    return APICAL_OK;
}

/* --- the window's lanes ------------------------------------------------- */

/* A lane leaves: its state, time, refractory end and wake time are
 * committed, and it is filed in the calendar. */
static apical_status finish(apical_sim *S, partition *P, size_t pi, uint32_t j, const double *ys,
                            double t, double ru, double wk)
{
    pop_rt *pr = &S->pops[pi];
    pop_part *pp = &P->pp[pi];
    const uint64_t i = pp->lo + j;
    pop_put(pr, pr->y, i, ys);
    pr->t_last[i] = t;
    pr->ref_until[i] = ru;
    pr->wake[i] = wk;
    return cal_insert(S, P, pp->sw, j, wk, S->window);
}

/* Lane q's next step, from its time t (refractory until ru, next input e,
 * wake time wk): to its refractory end or next input while held; a lane
 * lagging behind T0 first to min(next input, wake time); else to its next
 * input or T1. */
static inline void plan_lane(sweep_part *sw, const sweep_ev *E, size_t q, double t, double ru,
                             uint32_t e, double wk, double T0, double T1)
{
    const int held = t < ru;
    const double et = e != SWEEP_NONE ? E[e].t : T1;
    const double end = held ? (ru < et ? ru : et) : (t < T0 && wk > t && wk < et ? wk : et);
    sw->b_dt[q] = end - t;
    sw->b_to[q] = end;
    sw->b_held[q] = (double)held; /* a conversion: "? 1.0 : 0.0" was a branch */
}

/* The stepped neurons of one population in one partition (owned indices
 * in b_idx[0, na)), gathered, then stepped in rounds.
 * Each round takes every lane's planned step (to its next stop,
 * plan_lane: the first round's as the lanes are gathered,
 * each round the next as lanes stay) with one advance_n call, commits
 * them in place (a lane whose step may hide a crossing outside a quiet
 * stretch is walked one by one to T1 instead, from its state before the
 * step), applies inputs that are due, then computes the horizons of all
 * lanes with one horizon_n call: a lane with no input left leaves (its
 * state, times and calendar entry written back) when its wake time is at
 * or after T1, or at T1. The states before and after a round's step are
 * two SoA buffers, ya and yb: the step and its inputs are committed in
 * yb in place, and only the lanes that stay are copied back into ya,
 * packed, once per round (most lanes leave after their first).
 *
 * A step is quiet (no crossing possible, so the kernel's candidate flag
 * is ignored unless the result is not finite) when the lane is held
 * (refractory) or the step ends at or before the lane's wake time, which
 * holds for the state at the stretch's start. A lane that lags behind T0
 * (untouched for a while) first steps to min(next input, wake time):
 * quiet, and possibly long; every later step lies inside the window. */
__attribute__((always_inline)) static inline apical_status
lazy_lanes_ns(apical_sim *S, partition *P, size_t pi, size_t na, double T0, double T1,
              const size_t ns)
{
    const pop_rt *pr = &S->pops[pi];
    pop_part *pp = &P->pp[pi];
    sweep_part *sw = pp->sw;
    const apical_model_type *m = pr->m;
    const apical_sweep_ops *ops = pr->sweep;
    const sweep_ev *E = sw->ev;
    const uint64_t lo = pp->lo, cap = pp->hi - lo;
    const double *ya[APICAL_SWEEP_MAX_STATE];
    double *yaw[APICAL_SWEEP_MAX_STATE], *yb[APICAL_SWEEP_MAX_STATE];
    for (size_t k = 0; k < ns; k++) {
        ya[k] = yaw[k] = sw->b_ya + k * cap;
        yb[k] = sw->b_yb + k * cap;
    }
    walk w = {S, P, pi, 0, 1, T0, 0.0};
    double ys[APICAL_SWEEP_MAX_STATE];
    apical_status st;
    /* what finish() commits, written here directly. A lazy population's
     * states are rows of ns (AoS, sim/build.c): a lane's state is one
     * or two cache lines, not ns columns' lines far apart. */
    double *const Y = pr->y, *const tl = pr->t_last + lo, *const rul = pr->ref_until + lo,
                  *const wkl = pr->wake + lo;
    const uint64_t W = S->window;
    const int keeps = ops->receive_keeps_distance;
    /* receive as an addition (the model says so): inputs are added to
     * the lane's state in place */
    const size_t *const adds = keeps ? ops->receive_adds_to : NULL;
    /* gather the lanes (b_idx), planning the first round's steps */
    for (size_t q = 0; q < na; q++) {
        const uint32_t j = sw->b_idx[q];
        const uint64_t i = lo + j;
        const uint32_t e = sw->b_ev[q] = sw->head[j];
        const double t = sw->b_t[q] = pr->t_last[i];
        const double ru = sw->b_ru[q] = pr->ref_until[i];
        const double wk = sw->b_wk[q] = pr->wake[i];
        plan_lane(sw, E, q, t, ru, e, wk, T0, T1);
        for (size_t k = 0; k < ns; k++)
            yaw[k][q] = Y[i * ns + k];
    }
    while (na) {
        ops->advance_n(na, ya, yb, sw->b_dt, sw->b_held, &pp->ctx, sw->k, sw->b_cand);
        P->steps += na;
        /* commit, in place in yb (the lanes' states after the step; ya
         * keeps those before it for lanes walked one by one, which are
         * then done: b_idx SWEEP_NONE) */
        for (size_t q = 0; q < na; q++) {
            const uint32_t j = sw->b_idx[q];
            const double t0 = sw->b_t[q], to = sw->b_to[q];
            uint32_t e = sw->b_ev[q];
            if (sw->b_cand[q] >= 0.0) {
                int finite = 1;
                for (size_t k = 0; k < ns; k++)
                    finite &= yb[k][q] - yb[k][q] == 0.0;
                const int quiet = t0 < sw->b_ru[q] || to <= sw->b_wk[q];
                if (!(quiet && finite)) {
                    /* one by one from the lane's state before this step */
                    w.i = lo + j;
                    w.ru = sw->b_ru[q];
                    w.t = t0;
                    for (size_t k = 0; k < ns; k++)
                        ys[k] = ya[k][q];
                    if ((st = walk_neuron(&w, ys, e, T1)) ||
                        (st = finish(S, P, pi, j, ys, T1, w.ru,
                                     wake_of(pr, pp, ys, T1, w.ru))))
                        return st;
                    sw->b_idx[q] = SWEEP_NONE;
                    continue;
                }
            }
            double t = to;
            if (adds && e != SWEEP_NONE && to == E[e].t) {
                /* apply_inputs_k without the call: same additions, same
                 * order (no threshold test: keeps) */
                do {
                    yb[adds[E[e].rec]][q] += E[e].w;
                    e = E[e].next;
                } while (e != SWEEP_NONE && E[e].t == to);
            } else if (e != SWEEP_NONE && to == E[e].t) {
                w.i = lo + j;
                w.ru = sw->b_ru[q];
                w.t = to;
                for (size_t k = 0; k < ns; k++)
                    ys[k] = yb[k][q];
                if ((st = apply_inputs_k(&w, m, &pp->ctx, ys, E, &e, keeps)))
                    return st;
                for (size_t k = 0; k < ns; k++)
                    yb[k][q] = ys[k];
                sw->b_ru[q] = w.ru;
                t = w.t;
            }
            sw->b_t[q] = t;
            sw->b_ev[q] = e;
        }
        /* horizons (of the walked lanes too: unused); lanes at a stop with
         * no input left may leave, the others are packed into ya for the
         * next round. Packing once per round, here, not also at the
         * commit: most lanes leave after their first round. */
        ops->horizon_n(na, (const double *const *)yb, &pp->ctx, sw->b_hz); /* lazy: never NULL */
        size_t keep = 0;
        for (size_t q = 0; q < na; q++) {
            const uint32_t j = sw->b_idx[q];
            if (j == SWEEP_NONE)
                continue; /* walked and finished */
            const double t = sw->b_t[q], ru = sw->b_ru[q];
            const double wk = t < ru ? ru : t + sw->b_hz[q];
            if (sw->b_ev[q] == SWEEP_NONE && (wk >= T1 || t >= T1)) {
                /* leaves: finish() */
                for (size_t k = 0; k < ns; k++)
                    Y[(lo + j) * ns + k] = yb[k][q];
                tl[j] = t;
                rul[j] = ru;
                wkl[j] = wk;
                if ((st = cal_insert(S, P, sw, j, wk, W)))
                    return st;
                continue;
            }
            /* keep <= q never overtakes: lane q is read before slot keep
             * is written */
            const uint32_t e = sw->b_ev[q];
            sw->b_idx[keep] = j;
            sw->b_t[keep] = t;
            sw->b_ru[keep] = ru;
            sw->b_ev[keep] = e;
            sw->b_wk[keep] = wk;
            for (size_t k = 0; k < ns; k++)
                yaw[k][keep] = yb[k][q];
            plan_lane(sw, E, keep, t, ru, e, wk, T0, T1); /* the next round's */
            keep++;
        }
        na = keep;
    }
    return APICAL_OK;
}

/* The lanes' state copies (gathering, applying an input, packing, writing
 * back) are loops over the state size ns, a few instructions of loop
 * control per variable: a fifth of CUBA's instructions. With ns a
 * compile-time constant they unroll, so the lazy path is compiled for
 * sizes 1 to 4 (lif_psc_delta has 1 variable, lif_curr_exp 3) and runs
 * every other size with ns read at run time: the same code and the same
 * bits either way. */
static apical_status lazy_lanes(apical_sim *S, partition *P, size_t pi, size_t na, double T0,
                                double T1)
{
    switch (S->pops[pi].ns) {
    case 1:
        return lazy_lanes_ns(S, P, pi, na, T0, T1, 1);
    case 2:
        return lazy_lanes_ns(S, P, pi, na, T0, T1, 2);
    case 3:
        return lazy_lanes_ns(S, P, pi, na, T0, T1, 3);
    case 4:
        return lazy_lanes_ns(S, P, pi, na, T0, T1, 4);
    default:
        return lazy_lanes_ns(S, P, pi, na, T0, T1, S->pops[pi].ns);
    }
}

apical_status apical_sweep_window_end(apical_sim *S, partition *P, double T0, double T1)
{
    const uint64_t W = S->window;
    for (size_t pi = 0; pi < S->n_pops; pi++) {
        pop_rt *pr = &S->pops[pi];
        pop_part *pp = &P->pp[pi];
        if (!pr->sweep || pp->hi == pp->lo)
            continue;
        if (!pr->sweep->horizon_n) {
            if (dense_window(S, P, pi, T0, T1))
                return P->st;
            continue;
        }
        sweep_part *sw = pp->sw;
        const uint64_t lo = pp->lo;
        pp->ctx.refractory = 0;
        if (!sw->ready && cal_init(S, P, pi, W))
            return P->st;
        if (W >= sw->rebucket_at && cal_rebucket(P, sw, W))
            return P->st;
        /* lanes: the neurons with inputs, then those due to wake */
        size_t na = 0;
        for (size_t q = 0; q < sw->n_touched; q++)
            sw->b_idx[na++] = sw->touched[q];
        sweep_bucket *b = &sw->ring[W % SWEEP_RING];
        const double W_end = (double)(W + 1) * S->min_delay; /* T1 unless the run ends inside */
        size_t kept = 0, refile = 0;
        for (size_t a = 0; a < b->n; a++) {
            const uint32_t j = b->v[a];
            if (sw->cal[j] != W)
                continue; /* stale */
            if (sw->head[j] != SWEEP_NONE) {
                sw->cal[j] = SWEEP_CAL_NONE; /* a lane already */
                continue;
            }
            if (pr->wake[lo + j] >= W_end) {
                /* kept by cal_insert for a later wake time: filed again
                 * below (listed in b_ev, free until the lanes are gathered) */
                sw->cal[j] = SWEEP_CAL_NONE;
                sw->b_ev[refile++] = j;
                continue;
            }
            if (pr->wake[lo + j] >= T1) {
                b->v[kept++] = j; /* a run that ends inside this window */
                continue;
            }
            sw->cal[j] = SWEEP_CAL_NONE;
            sw->b_idx[na++] = j;
        }
        b->n = kept;
        for (size_t a = 0; a < refile; a++)
            if (cal_insert(S, P, sw, sw->b_ev[a], pr->wake[lo + sw->b_ev[a]], W + 1))
                return P->st;
        P->integrations += na;
        if (lazy_lanes(S, P, pi, na, T0, T1))
            return P->st;
        for (size_t q = 0; q < sw->n_touched; q++)
            sw->head[sw->touched[q]] = SWEEP_NONE;
        sw->n_touched = 0;
        sw->n_ev = 0;
    }
    return APICAL_OK;
}

apical_status apical_sweep_state(apical_sim *S, partition *P, size_t pi, uint64_t i, double t,
                                 double *y)
{
    const pop_rt *pr = &S->pops[pi];
    pop_part *pp = &P->pp[pi];
    double ys[APICAL_SWEEP_MAX_STATE];
    pop_get(pr, pr->y, i, ys);
    const int dense = !pr->sweep->horizon_n;
    walk w = {S, P, pi, i, 0, dense ? S->t : pr->t_last[i], pr->ref_until[i]};
    const sweep_part *sw = pp->sw;
    const uint64_t j = i - pp->lo;
    const uint32_t e = sw->head[j];
    apical_status st = APICAL_OK;
    if (t > w.t && dense && sw->fast && sw->slot[j] < SWEEP_MOVED) {
        /* its one input so far, in the one-input list */
        const uint32_t q = sw->slot[j];
        const sweep_ev one = {sw->q_t[q], sw->q_w[q], SWEEP_NONE, (uint32_t)sw->q_r[q]};
        st = walk_inputs(&w, ys, &one, 0, t);
    } else if (t > w.t && dense) {
        st = walk_neuron(&w, ys, e, t); /* dense: at T0 */
    } else if (t > w.t) {
        /* as the window's lanes do: a quiet stretch to the wake time or
         * the first input, then one by one */
        double q = pr->wake[i] < t ? pr->wake[i] : t;
        if (e != SWEEP_NONE && pp->sw->ev[e].t < q)
            q = pp->sw->ev[e].t;
        if (q > w.t)
            run_quiet(&w, ys, q);
        st = walk_neuron(&w, ys, e, t);
    }
    memcpy(y, ys, pr->ns * sizeof *y);
    return st;
}

apical_status apical_sweep_sync(apical_sim *S, partition *P, size_t pi, uint64_t i, double T,
                                int fresh)
{
    pop_rt *pr = &S->pops[pi];
    pop_part *pp = &P->pp[pi];
    if (!pr->sweep->horizon_n || (!fresh && !(pr->t_last[i] < T)))
        return APICAL_OK; /* dense: every neuron is at S->t */
    double ys[APICAL_SWEEP_MAX_STATE];
    pop_get(pr, pr->y, i, ys);
    walk w = {S, P, pi, i, 0, pr->t_last[i], pr->ref_until[i]};
    if (w.t < T) {
        /* before the wake time (>= T between windows): no crossing */
        run_quiet(&w, ys, T);
        apical_status st = check_finite(&w, ys, T);
        if (st)
            return st;
        pop_put(pr, pr->y, i, ys);
        pr->t_last[i] = T;
    }
    if (!pp->sw->ready)
        return APICAL_OK; /* before the first window: set up there */
    const double wk = wake_of(pr, pp, ys, w.t, w.ru);
    /* the old wake time still bounds an unchanged state */
    pr->wake[i] = fresh || wk > pr->wake[i] ? wk : pr->wake[i];
    return cal_insert(S, P, pp->sw, (uint32_t)(i - pp->lo), pr->wake[i], S->window);
}

void apical_sweep_flip(apical_sim *S)
{
    for (size_t pi = 0; pi < S->n_pops; pi++) {
        pop_rt *pr = &S->pops[pi];
        if (!pr->sweep || pr->sweep->horizon_n)
            continue;
        double *t = pr->y;
        pr->y = pr->y_next;
        pr->y_next = t;
    }
}
