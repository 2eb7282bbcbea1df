/* The run loop: windows of the minimum delay, events in (time, sequence)
 * order, neurons integrated with gsl_odeiv2 between their own events.
 *
 * A neuron is integrated only (a) up to the time of an event that reaches it
 * and (b) at a window end when its model cannot rule out a spike before then
 * (quiet_horizon). So the stop points of a neuron's integration depend on its
 * own inputs, its own state and the window grid, never on partitioning:
 * results are identical for any partition or thread count. */
#include <float.h>
#include <gsl/gsl_errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim_state.h"
#include "spike_sink.h"
#include "illinois.h"
#include "threads.h"

/* --- integrating one neuron ------------------------------------------- */

/* A neuron's integration state: the real one, or a scratch copy (recorders
 * sample a copy so that recording never changes a neuron's stop points). */
typedef struct neuron_ref {
    double *y;
    double *t_last, *h, *ref_until;
    apical_rng *rng; /* the neuron's stream (a copy for scratch copies), or NULL */
} neuron_ref;

static apical_status solver_failure(const apical_sim *S, partition *P, size_t pi, uint64_t i,
                                    double t, const double *y, int gsl_status)
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
    P->st = apical_error_set(&P->err, APICAL_E_SOLVER, &pr->spec->pos,
                             "population '%s' neuron %llu failed to integrate at t = %.6f ms "
                             "(%s, stepper %s); state: %s",
                             pr->spec->name, (unsigned long long)i, t,
                             gsl_status == GSL_EBADFUNC ? "non-finite derivative"
                                                        : "step size underflow",
                             pr->spec->stepper, state);
    return P->st;
}

/* Cubic Hermite interpolation of the state between (t0, y0, f0) and
 * (t0 + H, y1, f1) at fraction th. */
static void hermite(size_t ns, double th, double H, const double *y0, const double *f0,
                    const double *y1, const double *f1, double *out)
{
    double th2 = th * th, th3 = th2 * th;
    double h00 = 2 * th3 - 3 * th2 + 1, h10 = th3 - 2 * th2 + th;
    double h01 = -2 * th3 + 3 * th2, h11 = th3 - th2;
    for (size_t k = 0; k < ns; k++)
        out[k] = h00 * y0[k] + h10 * H * f0[k] + h01 * y1[k] + h11 * H * f1[k];
}

/* Error relative to the tolerance, as GSL's y-control measures it: the step
 * is accepted when every component is within abs_tol + rel_tol * |y|. */
static inline double error_ratio(const pop_part *pp, const double *y, const double *yerr, size_t ns)
{
    double e = 0.0;
    for (size_t k = 0; k < ns; k++) {
        double r = fabs(yerr[k]) / (pp->abs_tol + pp->rel_tol * fabs(y[k]));
        if (r > e)
            e = r;
    }
    return e;
}

/* Step growth after an accepted step with error ratio e. GSL's standard
 * control grows by 0.9 e^(-1/(q+1)) up to 5x; a staircase of the same shape
 * avoids a pow() per step, and step-size heuristics need no more. */
static inline double growth(double e)
{
    return e < 1e-4 ? 5.0 : e < 1e-3 ? 3.0 : e < 1e-2 ? 2.0 : e < 0.1 ? 1.4 : e < 0.5 ? 1.1 : 1.0;
}

/* Integrate y from t0 to t1 (no threshold check). */
static int integrate_plain(pop_part *pp, double t0, double t1, double h, double *y, uint64_t *steps)
{
    gsl_odeiv2_evolve_reset(pp->evo);
    if (pp->multistep)
        gsl_odeiv2_step_reset(pp->step);
    double t = t0;
    if (h > t1 - t0)
        h = t1 - t0;
    while (t < t1) {
        int s = gsl_odeiv2_evolve_apply(pp->evo, pp->ctl, pp->step, &pp->sys, &t, t1, &h, y);
        if (s != GSL_SUCCESS)
            return s;
        (*steps)++;
    }
    return GSL_SUCCESS;
}

/* A step from (t0, y0) to (t1, y) crossed threshold. Find the crossing time:
 * regula falsi (Illinois) on the Hermite interpolant, then Newton
 * corrections against the integrated solution itself. On return y holds the
 * state at the returned time. */
/* The spike distance on a step's cubic Hermite interpolant at th. */
struct hermite_at {
    const apical_model_type *m;
    pop_part *pp;
    size_t ns;
    double H;
    const double *y0, *f0, *y1, *f1;
    double *yi;
};

static double distance_on_interpolant(double th, void *user)
{
    struct hermite_at *h = user;
    hermite(h->ns, th, h->H, h->y0, h->f0, h->y1, h->f1, h->yi);
    return h->m->spike_distance(h->yi, &h->pp->ctx);
}

static double locate_crossing(const pop_rt *pr, pop_part *pp, double t0, const double *y0,
                              double t1, double *y, uint64_t *steps, int *status)
{
    const apical_model_type *m = pr->m;
    const size_t ns = pr->ns;
    double *f0 = pp->scratch + 2 * ns, *f1 = pp->scratch + 3 * ns;
    double *yi = pp->scratch + 4 * ns, *y1 = pp->scratch + 5 * ns;
    const double H = t1 - t0;
    memcpy(y1, y, ns * sizeof *y);
    m->derivs(pp->t_off + t0, y0, f0, &pp->ctx);
    m->derivs(pp->t_off + t1, y1, f1, &pp->ctx);
    struct hermite_at at = {m, pp, ns, H, y0, f0, y1, f1, yi};
    const double th = apical_illinois(0.0, 1.0, m->spike_distance(y0, &pp->ctx),
                                      m->spike_distance(y1, &pp->ctx), H, 1e-14, 100,
                                      distance_on_interpolant, &at);
    /* The interpolant is accurate to O(H^4); a few Newton steps on the
     * integrated solution bring the crossing to the solver's own accuracy.
     * The slope comes from the interpolant. */
    double ts = t0 + th * H;
    for (int it = 0; it < 3; it++) {
        memcpy(y, y0, ns * sizeof *y);
        *status = integrate_plain(pp, t0, ts, ts - t0, y, steps);
        if (*status != GSL_SUCCESS)
            return ts;
        double g = m->spike_distance(y, &pp->ctx);
        double eps = 1e-6;
        double tha = fmax(0.0, (ts - t0) / H - eps), thb = fmin(1.0, (ts - t0) / H + eps);
        hermite(ns, tha, H, y0, f0, y1, f1, yi);
        double ga2 = m->spike_distance(yi, &pp->ctx);
        hermite(ns, thb, H, y0, f0, y1, f1, yi);
        double slope = (m->spike_distance(yi, &pp->ctx) - ga2) / ((thb - tha) * H);
        if (!(slope > 0.0))
            break;
        double dt = -g / slope;
        if (fabs(dt) < 1e-13 * fmax(1.0, fabs(ts)))
            break;
        double tn = fmin(fmax(ts + dt, t0), t1);
        if (tn == ts)
            break;
        ts = tn;
    }
    return ts;
}

/* A spike's multiplicity from the state at the spike (before reset). */
static inline int32_t spike_mult(const apical_model_type *m, const double *y,
                                 const apical_model_ctx *c)
{
    return m->spike_multiplicity ? m->spike_multiplicity(y, c) : 1;
}

/* Point the population's model context at neuron i's device current. */
static inline void load_ctx(const pop_rt *pr, pop_part *pp, uint64_t i)
{
    pp->ctx.i_ext = pr->i_ext[i];
    pp->ctx.rng = pr->rng ? &pr->rng[i] : NULL;
    if (pr->i_sin) {
        pp->ctx.i_sin_amp = pr->i_sin[3 * i];
        pp->ctx.i_sin_omega = pr->i_sin[3 * i + 1];
        pp->ctx.i_sin_phase = pr->i_sin[3 * i + 2];
    }
}

/* --- plasticity: postsynaptic spike archives --------------------------- */

/* The first archive entry in [lo, hi) with time > x (strict: >= x), hi if
 * none. */
static inline uint32_t archive_find(const post_archive *a, size_t E, uint32_t lo, uint32_t hi,
                                    double x, int strict)
{
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        double tm = a->e[(size_t)(a->start + mid) * E];
        if (strict ? tm < x : tm <= x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The same, searching back from hi: a synapse reads the newest entries
 * (those after its last presynaptic spike), so this is usually a step or
 * two; a binary search after 8. */
static inline uint32_t archive_find_back(const post_archive *a, size_t E, uint32_t lo,
                                         uint32_t hi, double x, int strict)
{
    const double *e = a->e + (size_t)a->start * E;
    for (int k = 0; k < 8; k++) {
        if (hi == lo)
            return hi;
        const double tm = e[(size_t)(hi - 1) * E];
        if (strict ? tm < x : tm <= x)
            return hi;
        hi--;
    }
    return archive_find(a, E, lo, hi, x, strict);
}

/* The archive entries a synapse reads for a presynaptic spike at t_pre
 * through delay d, its previous one at t_last: [base, to), [base, from) the
 * trace base (at most one), [from, to) the window (docs/plasticity.md). */
static inline void archive_window(const post_archive *a, size_t E, double t_last, double t_pre,
                                  double d, uint32_t *base, uint32_t *from, uint32_t *to)
{
    if (t_last > -HUGE_VAL) {
        /* facilitation by the spikes in (t_last - d, t_pre - d] */
        *to = archive_find_back(a, E, 0, a->n, t_pre - d, 0);
        *from = archive_find_back(a, E, 0, *to, t_last - d, 0);
    } else {
        /* the first presynaptic spike: K+ is 0, so only the trace base
         * strictly before t_pre - d matters */
        *from = *to = archive_find_back(a, E, 0, a->n, t_pre - d, 1);
    }
    *base = *from > 0 ? *from - 1 : *from;
}

/* Apply a plastic synapse's rule for a presynaptic spike at t_pre through
 * delay d: gather the archived post spikes it needs, update the weight. */
static apical_status apply_rule(partition *P, plastic_proj *pl, uint64_t target, uint32_t pidx,
                                double t_pre, double d, double *w)
{
    post_archive *a = &pl->arch[target - pl->lo];
    double *pre = pl->pre + (size_t)pidx * pl->stride;
    const double t_last = pre[PRE_T_LAST];
    const size_t E = pl->estride;
    uint32_t base, from, to;
    archive_window(a, E, t_last, t_pre, d, &base, &from, &to);
    size_t n = to - base;
    if (n > pl->hist_cap) {
        apical_post_spike *h = realloc(pl->hist, n * sizeof *h);
        if (!h)
            return P->st = apical_error_set(&P->err, APICAL_E_NOMEM, NULL, "out of memory");
        pl->hist = h;
        pl->hist_cap = n;
    }
    for (size_t k = 0; k < n; k++) {
        const double *ent = a->e + (size_t)(a->start + base + k) * E;
        pl->hist[k] = (apical_post_spike){ent[0], ent + 1};
    }
    pl->rule->pre_spike(pl->param, pl->derived, t_pre, t_last, d, w, pre + PRE_TRACES, pl->hist,
                        from - base, n);
    pre[PRE_T_LAST] = t_pre;
    pre[PRE_READ] = t_pre - d; /* the same bits as t_last - d at the next spike */
    return APICAL_OK;
}

/* apply_rule for every synapse of group g (a presynaptic spike delivered at
 * t), when delivering them cannot change the archives (sweep targets queue
 * their inputs to the window end): first each synapse's archive window, the
 * archives prefetched a few synapses ahead (the targets are scattered), then
 * the rule over the group, through its pre_spike_n if it has one. */
static apical_status apply_rules(partition *P, plastic_proj *pl, const syn_group *g, double t)
{
    const double d = g->delay, t_pre = t - d;
    const size_t E = pl->estride, m = g->end - g->begin;
    if (m > pl->ev_cap) {
        apical_pre_event *v = realloc(pl->ev, m * sizeof *v);
        if (!v)
            return P->st = apical_error_set(&P->err, APICAL_E_NOMEM, NULL, "out of memory");
        pl->ev = v;
        pl->ev_cap = m;
    }
    const uint32_t *idx = P->syn_idx + g->begin;
    /* a group's synapses are consecutive in the projection (make_plastic) */
    double *const pre0 = pl->pre + (size_t)P->syn_pidx[g->begin] * pl->stride;
    const size_t ps = pl->stride;
    enum { AHEAD = 8 };
    for (size_t j = 0; j < m && j < 2 * AHEAD; j++) {
        __builtin_prefetch(&pl->arch[idx[j] - pl->lo]);
        __builtin_prefetch(pre0 + j * ps, 1);
    }
    /* plastic: own weights (build.c's shares_weight) */
    for (size_t j = 0; j < m; j += 8)
        __builtin_prefetch(P->syn_w + g->begin + j, 1);
    for (size_t j = 0; j < m; j++) {
        if (j + 2 * AHEAD < m) {
            __builtin_prefetch(&pl->arch[idx[j + 2 * AHEAD] - pl->lo]);
            __builtin_prefetch(pre0 + (j + 2 * AHEAD) * ps, 1);
        }
        if (j + AHEAD < m) {
            const post_archive *b = &pl->arch[idx[j + AHEAD] - pl->lo];
            if (b->n)
                __builtin_prefetch(b->e + (size_t)(b->start + b->n - 1) * E);
        }
        const post_archive *a = &pl->arch[idx[j] - pl->lo];
        double *pre = pre0 + j * ps;
        const double t_last = pre[PRE_T_LAST];
        uint32_t base, from, to;
        archive_window(a, E, t_last, t_pre, d, &base, &from, &to);
        pl->ev[j] = (apical_pre_event){t_last, &P->syn_w[g->begin + j], pre + PRE_TRACES,
                                       a->e + (size_t)(a->start + base) * E, from - base,
                                       to - base};
        pre[PRE_T_LAST] = t_pre;
        pre[PRE_READ] = t_pre - d;
    }
    if (pl->rule->pre_spike_n) {
        pl->rule->pre_spike_n(pl->param, pl->derived, t_pre, d, pl->ev, m, E);
        return APICAL_OK;
    }
    for (size_t j = 0; j < m; j++) {
        const apical_pre_event *ev = &pl->ev[j];
        if (ev->n > pl->hist_cap) {
            apical_post_spike *h = realloc(pl->hist, ev->n * sizeof *h);
            if (!h)
                return P->st = apical_error_set(&P->err, APICAL_E_NOMEM, NULL, "out of memory");
            pl->hist = h;
            pl->hist_cap = ev->n;
        }
        for (size_t k = 0; k < ev->n; k++)
            pl->hist[k] = (apical_post_spike){ev->post[k * E], ev->post + k * E + 1};
        pl->rule->pre_spike(pl->param, pl->derived, t_pre, ev->t_last, d, ev->w, ev->pre,
                            pl->hist, ev->first, ev->n);
    }
    return APICAL_OK;
}

/* Advance neuron i of population pi from its time to t_to, emitting spikes
 * (when emit) and handling reset and refractoriness. */
static apical_status advance(apical_sim *S, partition *P, size_t pi, uint64_t i, neuron_ref nr,
                             double t_to, int emit)
{
    const pop_rt *pr = &S->pops[pi];
    pop_part *pp = &P->pp[pi];
    const apical_model_type *m = pr->m;
    const size_t ns = pr->ns;
    double *y = nr.y, *y0 = pp->scratch, *yerr = pp->scratch + ns;
    P->integrations++;
    load_ctx(pr, pp, i);
    pp->ctx.rng = nr.rng;
    while (*nr.t_last < t_to) {
        const double tl = *nr.t_last;
        const int refr = tl < *nr.ref_until;
        const double seg_end = refr ? fmin(*nr.ref_until, t_to) : t_to;
        pp->ctx.refractory = refr;
        if (pp->multistep)
            gsl_odeiv2_step_reset(pp->step);
        /* t is local: time since tl (see pop_part.t_off) */
        const double len = seg_end - tl;
        pp->t_off = tl;
        double t = 0.0, h = *nr.h;
        int spiked = 0;
        while (t < len) {
            const double t0 = t;
            const int last = t + h >= len;
            const double hh = last ? len - t : h;
            memcpy(y0, y, ns * sizeof *y);
            int s = gsl_odeiv2_step_apply(pp->step, t, hh, y, yerr, NULL, NULL, &pp->sys);
            double e;
            if (s == GSL_SUCCESS) {
                e = error_ratio(pp, y, yerr, ns);
            } else {
                /* A failed step is a rejected step as long as the derivative
                 * at its start is finite: a too-long trial step can throw
                 * an intermediate stage far out (HH gating far outside
                 * [0, 1]) where the derivative overflows (GSL_EBADFUNC), and
                 * msadams/msbdf report a corrector that did not converge
                 * (GSL_FAILURE) expecting a shorter step, as GSL's evolve
                 * gives them. */
                memcpy(y, y0, ns * sizeof *y);
                if (m->derivs(tl + t0, y0, yerr, &pp->ctx) != GSL_SUCCESS)
                    return solver_failure(S, P, pi, i, tl + t0, y0, GSL_EBADFUNC);
                e = HUGE_VAL;
            }
            if (e > 1.0) {
                /* Reject: shrink as GSL's standard control does. */
                memcpy(y, y0, ns * sizeof *y);
                h = hh * fmax(0.2, 0.9 * pow(e, -1.0 / pp->order));
                if (h < 16.0 * DBL_EPSILON * fmax(t, 1e-9))
                    return solver_failure(S, P, pi, i, tl + t0, y0, GSL_FAILURE);
                continue;
            }
            t = last ? len : t + hh;
            P->steps++;
            /* Grow after an easy step; a last step shortened to land on
             * seg_end says nothing about the step the dynamics allow. */
            h = fmax(h, hh * growth(e));
            if (!refr && m->spike_distance(y, &pp->ctx) >= 0.0 &&
                m->spike_distance(y0, &pp->ctx) < 0.0) {
                double ts = locate_crossing(pr, pp, t0, y0, t, y, &P->steps, &s);
                if (s != GSL_SUCCESS)
                    return solver_failure(S, P, pi, i, tl + t0, y0, s);
                *nr.t_last = tl + ts;
                *nr.h = h;
                spiked = 1;
                break;
            }
        }
        if (!spiked) {
            *nr.t_last = seg_end;
            *nr.h = h;
            continue;
        }
        if (emit && (apical_emit_spike(P, *nr.t_last, pr->gid0 + i, spike_mult(m, y, &pp->ctx)) ||
                     apical_archive_spike(P, pi, i, *nr.t_last)))
            return P->st;
        m->reset(y, &pp->ctx);
        *nr.ref_until = *nr.t_last + pr->t_ref;
    }
    return APICAL_OK;
}

/* At t = 0 a neuron that starts at or above threshold fires at once (there
 * is no upward crossing to find), as level-triggered simulators do. */
static apical_status initial_spikes(apical_sim *S, partition *P)
{
    for (size_t pi = 0; pi < S->n_pops; pi++) {
        const pop_rt *pr = &S->pops[pi];
        pop_part *pp = &P->pp[pi];
        if (pr->exact) /* stochastic spiking only: candidates from t = 0 on */
            continue;
        double y[64];
        if (pr->ns > 64)
            return P->st = apical_error_set(&P->err, APICAL_E_INVALID, NULL, "state too large");
        for (uint64_t i = pp->lo; i < pp->hi; i++) {
            pop_get(pr, pr->y, i, y); /* any layout (sweep populations: SoA) */
            load_ctx(pr, pp, i);
            if (pr->m->spike_distance(y, &pp->ctx) < 0.0)
                continue;
            if (apical_emit_spike(P, 0.0, pr->gid0 + i, spike_mult(pr->m, y, &pp->ctx)) ||
                apical_archive_spike(P, pi, i, 0.0))
                return P->st;
            pr->m->reset(y, &pp->ctx);
            pop_put(pr, pr->y, i, y);
            pr->ref_until[i] = pr->t_ref;
        }
    }
    return APICAL_OK;
}

static inline neuron_ref real_neuron(const pop_rt *pr, uint64_t i)
{
    return (neuron_ref){pr->y + i * pr->ns, pr->t_last + i, pr->h + i, pr->ref_until + i,
                        pr->rng ? &pr->rng[i] : NULL};
}

/* After a neuron's state changed at its current time: when must it next be
 * looked at, absent input? */
static inline void update_wake(const pop_rt *pr, pop_part *pp, uint64_t i)
{
    double tl = pr->t_last[i];
    if (tl < pr->ref_until[i]) {
        pr->wake[i] = pr->ref_until[i];
    } else {
        load_ctx(pr, pp, i);
        double q = pr->m->quiet_horizon ? pr->m->quiet_horizon(pr->y + i * pr->ns, &pp->ctx) : 0.0;
        pr->wake[i] = tl + q;
    }
    if (!(pr->wake[i] >= pp->wake_min))
        pp->wake_min = pr->wake[i];
}

/* --- where an input lands ---------------------------------------------- */

/* An input of weight w on receptor rec reaches neuron i of population pi at
 * t. Which of these applies depends only on the population and the
 * receptor, so it is chosen once per delay group (one projection: one
 * target population and receptor) or input, never per synapse. */
typedef apical_status (*landing_fn)(apical_sim *S, partition *P, size_t pi, uint64_t i,
                                    size_t rec, double w, double t);

/* A relay neuron fires at its input. */
static apical_status land_relay(apical_sim *S, partition *P, size_t pi, uint64_t i, size_t rec,
                                double w, double t)
{
    (void)rec;
    (void)w;
    return apical_emit_spike(P, t, S->pops[pi].gid0 + i, 1) ? P->st : apical_archive_spike(P, pi, i, t);
}

/* Stepper "exact": folded into the window's accumulators. */
static apical_status land_exact(apical_sim *S, partition *P, size_t pi, uint64_t i, size_t rec,
                                double w, double t)
{
    apical_exact_deliver(S, P, pi, i, rec, w, t);
    return APICAL_OK;
}

/* GSL populations: integrate to t, apply the model's jump. Crossings inside
 * steps are found by the integrator; a jump that takes a non-refractory
 * neuron from below threshold to at or above it (a delta synapse, NEST
 * iaf_psc_delta) is an upward crossing at t itself, and fires the neuron
 * there. A state already at or above threshold (an HH action potential in
 * progress) does not fire again. */
static apical_status land_gsl(apical_sim *S, partition *P, size_t pi, uint64_t i, size_t rec,
                              double w, double t)
{
    const pop_rt *pr = &S->pops[pi];
    pop_part *pp = &P->pp[pi];
    const apical_model_type *m = pr->m;
    if (pr->t_last[i] < t) {
        apical_status st = advance(S, P, pi, i, real_neuron(pr, i), t, 1);
        if (st)
            return st;
    }
    double *y = pr->y + i * pr->ns;
    load_ctx(pr, pp, i);
    pp->ctx.refractory = t < pr->ref_until[i];
    const int below = !pp->ctx.refractory && m->spike_distance(y, &pp->ctx) < 0.0;
    m->receive(y, rec, w, &pp->ctx);
    if (below && m->spike_distance(y, &pp->ctx) >= 0.0) {
        if (apical_emit_spike(P, t, pr->gid0 + i, spike_mult(m, y, &pp->ctx)) ||
            apical_archive_spike(P, pi, i, t))
            return P->st;
        m->reset(y, &pp->ctx);
        pr->ref_until[i] = t + pr->t_ref;
    }
    update_wake(pr, pp, i);
    return APICAL_OK;
}

/* Stepper "sweep": queued for the window end. */
static apical_status land_sweep(apical_sim *S, partition *P, size_t pi, uint64_t i, size_t rec,
                                double w, double t)
{
    return apical_sweep_deliver(S, P, pi, i, rec, w, t);
}

static landing_fn landing_of(const pop_rt *pr, size_t rec)
{
    return (int)rec == pr->relay ? land_relay
           : pr->exact           ? land_exact
           : pr->sweep           ? land_sweep
                                 : land_gsl;
}

static apical_status record_tick(apical_sim *S, partition *P, size_t r, uint64_t k, double t)
{
    const apical_recorder_spec *rs = &S->spec->recorders[r];
    if (rs->kind == APICAL_REC_WEIGHTS) {
        frame_buf *fb = &S->frames[r];
        float *frame = fb->data + (size_t)(k - fb->base_k) * fb->width;
        for (size_t c = 0; c < P->n_rec_nodes[r]; c++)
            frame[P->rec_nodes[r][c].col] = (float)P->syn_w[P->rec_nodes[r][c].node]; /* own */
        return APICAL_OK;
    }
    const pop_rt *pr = &S->pops[rs->pop];
    frame_buf *fb = &S->frames[r];
    float *frame = fb->data + (size_t)(k - fb->base_k) * fb->width;
    double ycopy[64];
    double *y = pr->ns <= 64 ? ycopy : NULL;
    if (!y)
        return P->st = apical_error_set(&P->err, APICAL_E_INVALID, NULL, "state too large to record");
    for (size_t c = 0; c < P->n_rec_nodes[r]; c++) {
        const rec_node *rn = &P->rec_nodes[r][c];
        uint64_t i = rn->node;
        double tl = pr->t_last[i], h = pr->h[i], ref = pr->ref_until[i];
        if (pr->sweep) {
            apical_status st = apical_sweep_state(S, P, rs->pop, i, t, y);
            if (st)
                return P->st = st;
            for (size_t v = 0; v < rs->n_vars; v++)
                frame[rn->col + v] = (float)y[rs->vars[v]];
            continue;
        }
        memcpy(y, pr->y + i * pr->ns, pr->ns * sizeof *y);
        if (pr->exact) {
            apical_exact_state(S, P, rs->pop, i, t, y);
        } else if (tl < t) {
            apical_rng rng_copy;
            if (pr->rng)
                rng_copy = pr->rng[i];
            apical_status st = advance(S, P, rs->pop, i,
                                       (neuron_ref){y, &tl, &h, &ref, pr->rng ? &rng_copy : NULL},
                                       t, 0);
            if (st)
                return st;
        }
        for (size_t v = 0; v < rs->n_vars; v++)
            frame[rn->col + v] = (float)y[rs->vars[v]];
    }
    return APICAL_OK;
}

/* --- devices ------------------------------------------------------------ */

/* Standard normal draw (Box-Muller, one of the pair), from a node's stream. */
static double gaussian(apical_rng *r)
{
    double u = apical_rng_uniform_pos(r), v = apical_rng_uniform(r);
    return sqrt(-2.0 * log(u)) * cos(2.0 * M_PI * v);
}

double apical_next_poisson(const apical_input_spec *in, double t, double t_end, apical_rng *r)
{
    double need = -log(apical_rng_uniform_pos(r)); /* expected count to the next event */
    if (in->kind == APICAL_INPUT_POISSON) {
        if (!(in->rate > 0.0))
            return HUGE_VAL;
        double tn = t + need * 1000.0 / in->rate;
        return tn < in->stop ? tn : HUGE_VAL;
    }
    /* Piecewise-constant rate: walk the pieces, spending the Exp(1) draw. */
    double stop = fmin(in->stop, t_end);
    size_t k = 0;
    while (k + 1 < in->n_times && in->times[k + 1] <= t)
        k++;
    if (t < in->times[0])
        t = in->times[0];
    while (t < stop) {
        double end = k + 1 < in->n_times ? fmin(in->times[k + 1], stop) : stop;
        double rate = in->values[k] * 1e-3; /* per ms */
        if (rate > 0.0 && rate * (end - t) >= need)
            return t + need / rate;
        need -= rate * (end - t);
        t = end;
        k++;
    }
    return HUGE_VAL;
}

/* Integrate neuron i to t under its old device current. */
static apical_status touch_neuron(apical_sim *S, partition *P, size_t pi, uint64_t i, double t)
{
    const pop_rt *pr = &S->pops[pi];
    if (pr->t_last[i] < t && !pr->exact) /* exact: closed form at any time */
        return advance(S, P, pi, i, real_neuron(pr, i), t, 1);
    return APICAL_OK;
}

/* A device changes its current: each target neuron is first integrated to
 * the event time under the old current. */
static apical_status device_event(apical_sim *S, partition *P, const apical_event *ev)
{
    const apical_net_spec *spec = S->spec;
    const apical_input_spec *in = &spec->inputs[ev->a];
    input_rt *ir = &P->inputs[ev->a];
    pop_rt *pr = &S->pops[in->target];
    pop_part *pp = &P->pp[in->target];
    const double t = ev->t;
    double delta = 0.0, t_next = HUGE_VAL;
    int next = 0; /* a follow-up event at t_next with index ev->b + 1 */
    switch (ev->kind) {
    case EV_CURRENT:
        if (in->kind == APICAL_INPUT_DC) {
            delta = ev->b == 0 ? in->amplitude : -in->amplitude;
            next = ev->b == 0;
            t_next = in->stop;
        } else { /* step_current */
            delta = in->values[ev->b] - (ev->b ? in->values[ev->b - 1] : 0.0);
            next = ev->b + 1 < in->n_times;
            t_next = next ? in->times[ev->b + 1] : HUGE_VAL;
        }
        break;
    case EV_SINUSOID:
        delta = ev->b == 0 ? in->offset : -in->offset;
        next = ev->b == 0;
        t_next = in->stop;
        break;
    default:
        break;
    }
    const int ou = ev->kind == EV_OU;
    const double decay = ou ? exp(-in->dt / in->tau) : 0.0;
    const int ou_stop = ou && t >= in->stop;
    for (size_t c = 0; c < ir->n; c++) {
        uint64_t i = ir->node[c];
        apical_status st = touch_neuron(S, P, in->target, i, t);
        if (st)
            return st;
        if (ou) {
            /* Exact OU update over dt; the first value is drawn from the
             * stationary distribution. */
            double old = ir->value[c], now = 0.0;
            if (!ou_stop) {
                double z = gaussian(&ir->rng[c]);
                now = ev->b == 0 ? in->mean + in->sd * z
                                 : in->mean + (old - in->mean) * decay +
                                       in->sd * sqrt(1.0 - decay * decay) * z;
            }
            ir->value[c] = now;
            pr->i_ext[i] += now - old;
        } else {
            pr->i_ext[i] += delta;
        }
        if (ev->kind == EV_SINUSOID) {
            double *sn = pr->i_sin + 3 * i;
            sn[0] = ev->b == 0 ? in->amplitude : 0.0;
            sn[1] = ev->b == 0 ? 2.0 * M_PI * in->frequency * 1e-3 : 0.0;
            sn[2] = in->phase;
        }
        update_wake(pr, pp, i);
    }
    if (ou && !ou_stop) {
        next = 1;
        t_next = fmin(in->start + (double)(ev->b + 1) * in->dt, in->stop);
    }
    if (next && t_next < spec->sim.duration &&
        apical_queue_push(&P->q, t_next, ev->kind, ev->a, ev->b + 1))
        return P->st = apical_error_set(&P->err, APICAL_E_NOMEM, NULL, "out of memory");
    return APICAL_OK;
}

/* --- one window in one partition -------------------------------------- */

/* The synapses of one delay group receive a spike at t. A group is one
 * projection, so its target population and receptor, and with them the
 * path (relay, exact, GSL; plastic or not), are the same for all its
 * synapses: chosen here, once per group. */
static apical_status deliver_group(apical_sim *S, partition *P, const syn_group *g, double t,
                                   int32_t mult)
{
    apical_status st = APICAL_OK;
    if (g->begin == g->end)
        return st;
    const int32_t k = P->plastic_of_proj[g->proj];
    const size_t pi = g->pop, rec = g->rec; /* one projection per group */
    const pop_rt *pr = &S->pops[pi];
    const landing_fn land = landing_of(pr, rec);
    P->syn_events += g->end - g->begin;
    if (k >= 0) {
        /* The weight changes first and the spike is delivered with the new
         * weight (NEST's order). GSL targets are integrated to t first, so
         * that their spikes up to t are archived (the rule reads those up to
         * t - 2d; a neuron's own jump at t cannot matter to another). */
        plastic_proj *pl = &P->plastic[k];
        if (land == land_sweep && mult == 1) /* (exact targets cannot be plastic) */
            return apply_rules(P, pl, g, t) ? P->st : apical_sweep_deliver_group(S, P, pi, g, t);
        if (land == land_gsl)
            for (uint32_t s = g->begin; s < g->end; s++) {
                const uint64_t i = P->syn_idx[s];
                if (pr->t_last[i] < t && (st = advance(S, P, pi, i, real_neuron(pr, i), t, 1)))
                    return st;
            }
        for (uint32_t s = g->begin; s < g->end && !st; s++) {
            const uint64_t i = P->syn_idx[s];
            if (!(st = apply_rule(P, pl, i, P->syn_pidx[s], t - g->delay, g->delay, &P->syn_w[s])))
                st = land(S, P, pi, i, rec, P->syn_w[s] * mult, t);
        }
    } else if (mult != 1) {
        /* A spike with a multiplicity (binary units): each weight times it,
         * through the per-synapse landing of whichever path. */
        uint32_t wm;
        const double *w = group_weights(P, g, &wm);
        for (uint32_t s = g->begin; s < g->end && !st; s++)
            st = land(S, P, pi, P->syn_idx[s], rec, w[(s - g->begin) & wm] * mult, t);
    } else if (land == land_exact) {
        apical_exact_deliver_group(S, P, pi, g, t);
    } else if (land == land_sweep) {
        st = apical_sweep_deliver_group(S, P, pi, g, t);
    } else if (land == land_relay) {
        uint32_t wm;
        const double *w = group_weights(P, g, &wm);
        for (uint32_t s = g->begin; s < g->end && !st; s++)
            st = land_relay(S, P, pi, P->syn_idx[s], rec, w[(s - g->begin) & wm], t);
    } else {
        uint32_t wm;
        const double *w = group_weights(P, g, &wm);
        for (uint32_t s = g->begin; s < g->end && !st; s++)
            st = land_gsl(S, P, pi, P->syn_idx[s], rec, w[(s - g->begin) & wm], t);
    }
    return st;
}

static int fifo_push(delivery_fifo *f, double t, uint64_t group, int32_t mult)
{
    if (f->n == f->cap) {
        size_t cap = f->cap ? 2 * f->cap : 1024;
        delivery_item *v = malloc(cap * sizeof *v);
        if (!v)
            return -1;
        for (size_t k = 0; k < f->n; k++)
            v[k] = f->v[(f->head + k) % f->cap];
        free(f->v);
        f->v = v;
        f->head = 0;
        f->cap = cap;
    }
    f->v[(f->head + f->n++) % f->cap] = (delivery_item){t, (uint32_t)group, mult};
    return 0;
}

/* The FIFO with the earliest head (lowest index on ties), or -1. */
static int next_fifo(const partition *P, double *t)
{
    int best = -1;
    *t = HUGE_VAL;
    for (size_t f = 0; f < P->n_fifo; f++)
        if (P->fifo[f].n && P->fifo[f].v[P->fifo[f].head].t < *t) {
            *t = P->fifo[f].v[P->fifo[f].head].t;
            best = (int)f;
        }
    return best;
}

/* Events before T1 (a window's end, or the end of a piece of it). */
static apical_status run_events(apical_sim *S, partition *P, double T1)
{
    const apical_net_spec *spec = S->spec;
    apical_event ev;
    apical_status st;
    /* Two time-ordered sources: the heap and the delivery FIFOs; on equal
     * times in that order. (Exact populations take their candidates at the
     * window end: apical_exact_window_end.) */
    for (;;) {
        const double tq = apical_queue_top_time(&P->q);
        double tf;
        const int f = next_fifo(P, &tf);
        if (!(tq < T1 && tq <= tf)) {
            if (tf < T1) {
                delivery_fifo *q = &P->fifo[f];
                const delivery_item it = q->v[q->head];
                q->head = (q->head + 1) % q->cap;
                q->n--;
                P->events++;
                st = deliver_group(S, P, &P->groups[it.group], it.t, it.mult);
            } else {
                break;
            }
            if (st)
                return P->st = st;
            continue;
        }
        apical_queue_pop(&P->q, &ev);
        P->events++;
        switch (ev.kind) {
        case EV_DELIVER:
            st = deliver_group(S, P, &P->groups[ev.b], ev.t, (int32_t)ev.a);
            break;
        case EV_POISSON: {
            const apical_input_spec *in = &spec->inputs[ev.a];
            input_rt *ir = &P->inputs[ev.a];
            const uint64_t c = ev.b & 0xffffffffu;
            double t;
            if (ir->rate) {
                if ((uint32_t)(ev.b >> 32) != ir->epoch[c])
                    break; /* drawn with a rate that has since changed */
                st = landing_of(&S->pops[in->target], in->receptor)(S, P, in->target, ir->node[c],
                                                                    in->receptor, in->weight, ev.t);
                t = ir->rate[c] > 0.0
                        ? ev.t - log(apical_rng_uniform_pos(&ir->rng[c])) * 1000.0 / ir->rate[c]
                        : HUGE_VAL;
            } else {
                st = landing_of(&S->pops[in->target], in->receptor)(S, P, in->target, ir->node[c],
                                                                    in->receptor, in->weight, ev.t);
                t = apical_next_poisson(in, ev.t, spec->sim.duration, &ir->rng[c]);
            }
            if (!st && t < fmin(in->stop, spec->sim.duration) &&
                apical_queue_push(&P->q, t, EV_POISSON, ev.a, ev.b))
                st = apical_error_set(&P->err, APICAL_E_NOMEM, NULL, "out of memory");
            break;
        }
        case EV_SPIKE_LIST: {
            const apical_input_spec *in = &spec->inputs[ev.a];
            const input_rt *ir = &P->inputs[ev.a];
            const landing_fn land = landing_of(&S->pops[in->target], in->receptor);
            for (size_t c = 0; c < ir->n && !st; c++)
                st = land(S, P, in->target, ir->node[c], in->receptor, in->weight, ev.t);
            if (!st && ev.b + 1 < in->n_times &&
                apical_queue_push(&P->q, in->times[ev.b + 1], EV_SPIKE_LIST, ev.a, ev.b + 1))
                st = apical_error_set(&P->err, APICAL_E_NOMEM, NULL, "out of memory");
            break;
        }
        case EV_CURRENT:
        case EV_SINUSOID:
        case EV_OU:
            st = device_event(S, P, &ev);
            break;
        case EV_NODE:
            apical_exact_node(S, P, &ev);
            break;
        case EV_RECORD: {
            st = record_tick(S, P, ev.a, ev.b, ev.t);
            const apical_recorder_spec *rs = &spec->recorders[ev.a];
            uint64_t k = ev.b + 1;
            if (!st && k < S->frames[ev.a].n_ticks &&
                apical_queue_push(&P->q, (double)k * rs->interval, EV_RECORD, ev.a, k))
                st = apical_error_set(&P->err, APICAL_E_NOMEM, NULL, "out of memory");
            break;
        }
        }
        if (st)
            return P->st = st;
    }
    return APICAL_OK;
}

static apical_status run_window(apical_sim *S, partition *P, double T1)
{
    /* Exact populations advance in closed form piece by piece (usually one
     * piece: the whole window); the events are the same either way. */
    const double T0 = S->t, H = T1 - T0;
    const uint64_t pieces = S->exact_pieces ? S->exact_pieces : 1;
    apical_status st;
    for (uint64_t j = 0; j < pieces; j++) {
        const double a = j ? T0 + H * (double)j / (double)pieces : T0;
        const double b = j + 1 < pieces ? T0 + H * (double)(j + 1) / (double)pieces : T1;
        if ((st = apical_exact_window_start(S, P, a, b)) || (st = run_events(S, P, b)) ||
            (st = apical_exact_window_end(S, P, b)))
            return P->st = st;
    }
    /* Sweep populations: the neurons with inputs or due to wake, to their
     * stops (sim/sweep.c). */
    if (S->has_sweep && (st = apical_sweep_window_end(S, P, T0, T1)))
        return P->st = st;
    /* Window end: integrate every neuron that might spike before T1. */
    for (size_t pi = 0; pi < S->n_pops; pi++) {
        const pop_rt *pr = &S->pops[pi];
        pop_part *pp = &P->pp[pi];
        if (pr->exact || pr->sweep || pp->wake_min >= T1) /* (parrots: never) */
            continue;
        double first = HUGE_VAL;
        for (uint64_t i = pp->lo; i < pp->hi; i++) {
            if (!(pr->wake[i] >= T1)) {
                if ((st = advance(S, P, pi, i, real_neuron(pr, i), T1, 1)))
                    return st;
                update_wake(pr, pp, i);
            }
            if (!(pr->wake[i] >= first)) /* NaN too: looked at again */
                first = pr->wake[i];
        }
        pp->wake_min = first;
    }
    return APICAL_OK;
}

/* --- exchange between windows ---------------------------------------- */

static int cmp_spike(const void *a, const void *b)
{
    const spike_rec *x = a, *y = b;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    return x->gid < y->gid ? -1 : x->gid > y->gid;
}

/* This window's spikes of one partition in (time, id) order: nearly sorted
 * already (events run in time order; only spikes found by integrating to a
 * later stop point come late), so insertion sort unless there are many. */
static void sort_out(partition *P)
{
    spike_rec *o = P->out;
    const size_t n = P->n_out;
    if (n > 256) {
        qsort(o, n, sizeof *o, cmp_spike);
        return;
    }
    for (size_t k = 1; k < n; k++) {
        const spike_rec x = o[k];
        size_t j = k;
        while (j > 0 && cmp_spike(&o[j - 1], &x) > 0) {
            o[j] = o[j - 1];
            j--;
        }
        o[j] = x;
    }
}

static size_t pop_of_gid(const apical_sim *S, uint64_t gid)
{
    size_t lo = 0, hi = S->n_pops;
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (S->pops[mid].gid0 <= gid)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

/* Ranks: this rank's merged spikes (S->merged[0, *n)) for every rank's,
 * in the same (time, id) order as one process (docs/ARCHITECTURE.md
 * "Ranks"). One allgather per window of a fixed-size slot per rank: its
 * spike count, its status and its first K spikes, as NEURON's compressed
 * exchange does; only a window where some rank has more than K spikes
 * needs a second exchange (allgatherv of the rest), and K then grows to
 * that count (every rank sees the same counts, so K stays the same on all).
 * A rank that failed (solver error, interrupt) stops every rank in the same
 * window with its message (apical_comm_agree). Each rank's block is
 * sorted; the blocks are merged k-way. */
static apical_status exchange_spikes(apical_sim *S, apical_status st, size_t *n, apical_error *err)
{
    const apical_comm *c = S->comm;
    const size_t R = (size_t)c->size, K = S->xk, slot = APICAL_XSLOT(K); /* uint64 words */
    uint64_t *mine = S->xslot, *all = S->xslot + slot;
    mine[0] = *n;
    mine[1] = (uint64_t)st;
    const size_t first = *n < K ? *n : K;
    if (first)
        memcpy(mine + 2, S->merged, first * sizeof(spike_rec));
    if (c->ops->allgather(c->impl, mine, all, slot * sizeof *mine))
        return apical_error_set(err, APICAL_E_COMM, NULL, "spike exchange failed at t = %g ms",
                                S->t);
    size_t total = 0, most = 0;
    int failed = 0;
    for (size_t r = 0; r < R; r++) {
        const size_t nr = (size_t)all[r * slot];
        total += nr;
        most = nr > most ? nr : most;
        failed |= all[r * slot + 1] != 0;
    }
    if (failed)
        return apical_comm_agree(c, st, err);
    /* buffers: the same sizes, so the same branches, on every rank */
    /* K: up to the largest count seen (the slots are reallocated only
     * beyond the largest K so far), and down to the largest of the last
     * APICAL_XK_EPOCH windows when that is under half of it, so a start-up
     * burst does not widen every later exchange */
    const size_t want = most < APICAL_XK_MAX ? most : APICAL_XK_MAX;
    size_t grow_k = want > S->xk_cap ? want : 0;
    if (want > K && !grow_k)
        S->xk = want;
    S->xk_peak = want > S->xk_peak ? want : S->xk_peak;
    if (++S->xk_windows % APICAL_XK_EPOCH == 0) {
        const size_t peak = S->xk_peak > APICAL_XK_MIN ? S->xk_peak : APICAL_XK_MIN;
        if (2 * peak < S->xk && !grow_k)
            S->xk = peak;
        S->xk_peak = 0;
    }
    if (total > S->cap_xbuf || grow_k) {
        size_t cap = total > 2 * S->cap_xbuf ? total : 2 * S->cap_xbuf;
        spike_rec *m = realloc(S->xbuf, cap * sizeof *m);
        if (m)
            S->xbuf = m;
        spike_rec *g = m ? realloc(S->merged, cap * sizeof *g) : NULL;
        if (g) {
            S->merged = g;
            S->cap_merged = S->cap_xbuf = cap;
        }
        uint64_t *x = g && grow_k ? malloc((R + 1) * APICAL_XSLOT(grow_k) * sizeof *x) : NULL;
        st = g && (x || !grow_k)
                 ? APICAL_OK
                 : apical_error_set(err, APICAL_E_NOMEM, NULL,
                                    "out of memory exchanging %zu spikes", total);
        if ((st = apical_comm_agree(c, st, err))) {
            free(x);
            return st;
        }
        if (grow_k) { /* this window still reads the old slots */
            free(S->xold);
            S->xold = S->xslot;
            S->xslot = x;
            S->xk = S->xk_cap = grow_k;
        }
    }
    /* the spikes beyond K of every rank that had more */
    size_t *counts = S->xcounts, extra = 0;
    for (size_t r = 0; r < R; r++) {
        const size_t nr = (size_t)all[r * slot];
        counts[r] = (nr > K ? nr - K : 0) * sizeof(spike_rec);
        extra += counts[r];
    }
    spike_rec *over = extra ? S->xbuf + (total - extra / sizeof(spike_rec)) : NULL;
    if (extra && c->ops->allgatherv(c->impl, S->merged + first, over, counts))
        return apical_error_set(err, APICAL_E_COMM, NULL, "spike exchange failed at t = %g ms",
                                S->t);
    /* every rank's block, contiguous in xbuf: its first K from its slot,
     * then its overflow (the overflows sit at the end of xbuf already, and
     * are moved down in rank order: never over what is still to be read) */
    size_t pos[64], end[64], at = 0, o = 0;
    for (size_t r = 0; r < R; r++) {
        const size_t nr = (size_t)all[r * slot], k = nr < K ? nr : K;
        if (k)
            memcpy(S->xbuf + at, all + r * slot + 2, k * sizeof(spike_rec));
        if (nr > k)
            memmove(S->xbuf + at + k, over + o, (nr - k) * sizeof(spike_rec));
        o += nr - k;
        if (r < 64) {
            pos[r] = at;
            end[r] = at + nr;
        }
        at += nr;
    }
    if (R <= 64) { /* k-way merge (ranks are few) */
        for (size_t k = 0; k < total; k++) {
            size_t best = R;
            for (size_t r = 0; r < R; r++)
                if (pos[r] < end[r] &&
                    (best == R || cmp_spike(&S->xbuf[pos[r]], &S->xbuf[pos[best]]) < 0))
                    best = r;
            S->merged[k] = S->xbuf[pos[best]++];
        }
    } else {
        if (total)
            memcpy(S->merged, S->xbuf, total * sizeof *S->merged);
        qsort(S->merged, total, sizeof *S->merged, cmp_spike);
    }
    *n = total;
    return APICAL_OK;
}

/* Merge this window's spikes in (time, id) order: the order deliveries are
 * queued in, so equal-time events resolve the same way for any partitioning. */
static apical_status merge_spikes(apical_sim *S, apical_status st, size_t *n_merged,
                                  apical_error *err)
{
    size_t n = 0;
    for (unsigned p = S->p0; p < S->p1; p++)
        n += S->parts[p].n_out;
    if (n > S->cap_merged) {
        spike_rec *m = realloc(S->merged, n * sizeof *m);
        if (!m)
            return apical_error_set(err, APICAL_E_NOMEM, NULL, "out of memory merging spikes");
        S->merged = m;
        S->cap_merged = n;
    }
    /* each partition sorted its own (partition_job): a k-way merge */
    size_t pos[64];
    const unsigned nl = S->p1 - S->p0, kway = nl <= 64 ? nl : 0;
    const partition *L = S->parts + S->p0; /* this rank's */
    for (unsigned p = 0; p < kway; p++)
        pos[p] = 0;
    if (kway == 2) { /* (the shipped networks' two partitions: a plain merge) */
        const spike_rec *a = L[0].out, *b = L[1].out;
        const size_t na = L[0].n_out, nb = L[1].n_out;
        size_t i = 0, j = 0, k = 0;
        while (i < na && j < nb) /* ties to the lower partition, as below */
            S->merged[k++] = cmp_spike(&b[j], &a[i]) < 0 ? b[j++] : a[i++];
        for (; i < na; i++)
            S->merged[k++] = a[i];
        for (; j < nb; j++)
            S->merged[k++] = b[j];
    }
    for (size_t k = 0; kway && kway != 2 && k < n; k++) {
        unsigned best = kway;
        for (unsigned p = 0; p < kway; p++)
            if (pos[p] < L[p].n_out &&
                (best == kway || cmp_spike(&L[p].out[pos[p]], &L[best].out[pos[best]]) < 0))
                best = p;
        S->merged[k] = L[best].out[pos[best]++];
    }
    if (!kway) {
        size_t k = 0;
        for (unsigned p = S->p0; p < S->p1; p++) {
            if (S->parts[p].n_out)
                memcpy(S->merged + k, S->parts[p].out, S->parts[p].n_out * sizeof *S->merged);
            k += S->parts[p].n_out;
        }
        if (n)
            qsort(S->merged, n, sizeof *S->merged, cmp_spike);
    }
    for (unsigned p = S->p0; p < S->p1; p++)
        S->parts[p].n_out = 0;
    if (apical_comm_size(S->comm) > 1) {
        if ((st = exchange_spikes(S, st, &n, err)))
            return st;
    } else if (st) {
        return st;
    }
    if (S->hooks.spikes)
        S->hooks.spikes(S->hooks.user, S->merged, n);
    for (size_t j = 0, pi = 0; j < n; j++) {
        const uint64_t gid = S->merged[j].gid;
        /* most spikes come from the population of the one before */
        if (gid < S->pops[pi].gid0 || gid >= S->pops[pi].gid0 + S->pops[pi].n)
            pi = pop_of_gid(S, gid);
        S->stats.pop_spikes[pi]++;
        if (S->obs.on_spike)
            S->obs.on_spike(S->obs.user, pi, S->merged[j].gid - S->pops[pi].gid0, S->merged[j].t);
    }
    S->stats.spikes += n;
    *n_merged = n;
    return APICAL_OK;
}

/* Start loading a delivery's synapses (targets, weights) as it is queued,
 * a window or more before it runs: a spike's synapses lie at a random
 * place in arrays of several MB, and their cache misses were ~16% of
 * CUBA's time in the delivery loop. Only a group's first PREFETCH_SPAN
 * synapses (2 lines of targets, 4 of weights): past them the hardware
 * prefetcher follows the sequential run. Hinting every line of a dense
 * group (MNIST's 500 targets per input spike) cost 640 M instructions in
 * 300 deep-network examples and made training 3-8% slower; with 32, CUBA
 * runs as fast as with every line hinted (0.97 vs 0.98 s per 10 s, wall,
 * quiet machine). A hint only: no effect on results. */
enum { PREFETCH_SPAN = 32 };

static inline void prefetch_synapses(const partition *P, const syn_group *g)
{
    const uint32_t n = g->end - g->begin < PREFETCH_SPAN ? g->end - g->begin : PREFETCH_SPAN;
    for (uint32_t j = 0; j < n; j += 16)
        __builtin_prefetch(&P->syn_idx[g->begin + j]);
    /* a shared weight is one double (and syn_w may not exist) */
    uint32_t mask;
    const double *w = group_weights(P, g, &mask);
    for (uint32_t j = 0; mask && j < n; j += 8)
        __builtin_prefetch(&w[j]);
}

static apical_status queue_deliveries(apical_sim *S, partition *P, size_t n)
{
    for (size_t j = 0; j < n; j++) {
        const spike_rec *sp = &S->merged[j];
        for (uint64_t g = P->row[sp->gid]; g < P->row[sp->gid + 1]; g++) {
            prefetch_synapses(P, &P->groups[g]);
            const double t = sp->t + P->groups[g].delay;
            const uint8_t f = P->group_fifo[g];
            if (f != APICAL_NO_FIFO ? fifo_push(&P->fifo[f], t, g, sp->mult)
                                    : apical_queue_push(&P->q, t, EV_DELIVER,
                                                        (uint32_t)sp->mult, g))
                return P->st = apical_error_set(&P->err, APICAL_E_NOMEM, NULL,
                                                "out of memory queueing spikes");
        }
    }
    return APICAL_OK;
}

/* Ranks: each rank fills its own neurons' (synapses') columns of a frame
 * and leaves the others zero, so a bitwise OR onto rank 0 is every rank's
 * values, exactly; rank 0 zeroes the frames after writing them. One
 * reduction per recorder and window, of the window's frames only. */
static apical_status flush_frames(apical_sim *S, double T1, apical_error *err)
{
    const int multi = apical_comm_size(S->comm) > 1;
    for (size_t r = 0; r < S->spec->n_recorders; r++) {
        frame_buf *fb = &S->frames[r];
        const apical_recorder_spec *rs = &S->spec->recorders[r];
        if (!fb->data)
            continue;
        size_t done = 0;
        while (fb->base_k + done < fb->n_ticks &&
               (double)(fb->base_k + done) * rs->interval < T1 && done < fb->cap)
            done++;
        const size_t bytes = done * fb->width * sizeof *fb->data;
        if (multi && bytes && S->comm->ops->reduce_or(S->comm->impl, fb->data, bytes))
            return apical_error_set(err, APICAL_E_COMM, NULL,
                                    "gathering recorded frames failed at t = %g ms", T1);
        for (size_t f = 0; f < done; f++)
            if (S->obs.on_frame)
                S->obs.on_frame(S->obs.user, r, (double)(fb->base_k + f) * rs->interval,
                                fb->data + f * fb->width, fb->width);
        if (multi && bytes && S->comm->rank == 0)
            memset(fb->data, 0, bytes);
        fb->base_k += done;
    }
    return APICAL_OK;
}

/* --- between windows: the controller interface (include/apical/control.h) */

void apical_engine_set_hooks(apical_sim *S, const apical_engine_hooks *hooks)
{
    S->hooks = hooks ? *hooks : (apical_engine_hooks){0};
}

double apical_engine_window(const apical_sim *S)
{
    return S->min_delay;
}

uint64_t apical_engine_window_index(const apical_sim *S)
{
    return S->window;
}

uint64_t apical_engine_gid0(const apical_sim *S, size_t pi)
{
    return S->pops[pi].gid0;
}

void apical_engine_track_integral(apical_sim *S, size_t pi)
{
    S->pops[pi].track_int_hazard = 1;
}

/* The one place a controller reads neuron state: the state layout is the
 * engine's own. */
/* Ranks: the rank whose partitions hold neuron i of population pi */
static int owner_rank(const apical_sim *S, size_t pi, uint64_t i)
{
    unsigned a = 0, b = S->n_parts - 1;
    while (a < b) {
        unsigned m = (a + b) / 2;
        if (i < S->parts[m].pp[pi].hi)
            b = m;
        else
            a = m + 1;
    }
    const uint64_t R = (uint64_t)S->comm->size;
    int r = 0;
    while ((uint64_t)S->n_parts * (uint64_t)(r + 1) / R <= a)
        r++;
    return r;
}

int apical_engine_ranks(const apical_sim *S)
{
    return apical_comm_size(S->comm);
}

void apical_engine_combine(const apical_sim *S, double *v, size_t n)
{
    if (apical_comm_size(S->comm) <= 1 || !n)
        return;
    /* a failed transport is MPI's to report: its errors end the job */
    if (!S->comm->ops->reduce_or(S->comm->impl, v, n * sizeof *v))
        S->comm->ops->bcast(S->comm->impl, v, n * sizeof *v, 0);
}

double apical_engine_state(const apical_sim *S, size_t pi, uint64_t i, size_t k)
{
    const pop_rt *pr = &S->pops[pi];
    if (apical_comm_size(S->comm) <= 1)
        return pr->y[pop_at(pr, i, k)];
    /* only the owner holds the neuron */
    const int owner = owner_rank(S, pi, i);
    double v = owner == S->comm->rank ? pr->y[pop_at(pr, i, k)] : 0.0;
    S->comm->ops->bcast(S->comm->impl, &v, sizeof v, owner);
    return v;
}

apical_status apical_engine_sync(apical_sim *S, size_t pi, double T, apical_error *err)
{
    const pop_rt *pr = &S->pops[pi];
    if (pr->exact) /* advanced at every window end */
        return APICAL_OK;
    if (pr->sweep) {
        /* lagging neurons: their wake times are >= S->t, so T <= S->t is
         * quiet (there are no pending inputs between windows) */
        T = T < S->t ? T : S->t;
        for (unsigned p = S->p0; p < S->p1; p++) {
            partition *P = &S->parts[p];
            const pop_part *pp = &P->pp[pi];
            for (uint64_t i = pp->lo; i < pp->hi; i++)
                if (pr->t_last[i] < T && apical_sweep_sync(S, P, pi, i, T, 0)) {
                    if (err)
                        *err = P->err;
                    return P->st;
                }
        }
        return APICAL_OK;
    }
    for (unsigned p = S->p0; p < S->p1; p++) {
        partition *P = &S->parts[p];
        pop_part *pp = &P->pp[pi];
        for (uint64_t i = pp->lo; i < pp->hi; i++) {
            if (pr->t_last[i] >= T)
                continue;
            if (advance(S, P, pi, i, real_neuron(pr, i), T, 1)) {
                if (err)
                    *err = P->err;
                return P->st;
            }
            update_wake(pr, pp, i);
        }
    }
    return APICAL_OK;
}

void apical_engine_poke(apical_sim *S, size_t pi, uint64_t i, size_t k, double value)
{
    const pop_rt *pr = &S->pops[pi];
    if (pr->sweep) {
        /* brought to now first (it may lag), then its wake time redone */
        for (unsigned p = S->p0; p < S->p1; p++)
            if (i >= S->parts[p].pp[pi].lo && i < S->parts[p].pp[pi].hi) {
                partition *P = &S->parts[p];
                apical_sweep_sync(S, P, pi, i, S->t, 0);
                pr->y[pop_at(pr, i, k)] = value;
                apical_sweep_sync(S, P, pi, i, S->t, 1);
            }
        return;
    }
    if (pr->exact) {
        /* the decay rate may have changed; on every rank, another rank's
         * neuron included: the next plan is collective (apical_exact_plan) */
        S->exact_dirty = 1;
        S->exact_epoch++;
    }
    if (i - pr->own_lo >= pr->own_n) /* another rank's (it pokes it too) */
        return;
    pr->y[pop_at(pr, i, k)] = value;
    for (unsigned p = S->p0; p < S->p1; p++)
        if (i >= S->parts[p].pp[pi].lo && i < S->parts[p].pp[pi].hi)
            update_wake(pr, &S->parts[p].pp[pi], i);
}

void apical_engine_state_all(const apical_sim *S, size_t pi, size_t k, double *out)
{
    const pop_rt *pr = &S->pops[pi];
    for (uint64_t i = pr->own_lo; i < pr->own_lo + pr->own_n; i++)
        out[i] = pr->y[pop_at(pr, i, k)];
    if (apical_comm_size(S->comm) <= 1)
        return;
    /* ranks own contiguous ranges of every population, in rank order */
    const int R = S->comm->size;
    const uint64_t lo = S->parts[S->p0].pp[pi].lo, hi = S->parts[S->p1 - 1].pp[pi].hi;
    for (int r = 0; r < R; r++) {
        const unsigned a = (unsigned)((uint64_t)S->n_parts * (uint64_t)r / (uint64_t)R);
        const unsigned b = (unsigned)((uint64_t)S->n_parts * (uint64_t)(r + 1) / (uint64_t)R);
        S->xcounts[r] = (size_t)(S->parts[b - 1].pp[pi].hi - S->parts[a].pp[pi].lo) * sizeof *out;
    }
    double *mine = malloc((hi - lo + 1) * sizeof *mine);
    if (!mine) /* every rank must take part: its stale values instead */
        mine = out; /* (MPI_Allgatherv then aliases; out of memory is fatal soon anyway) */
    else if (hi > lo)
        memcpy(mine, out + lo, (hi - lo) * sizeof *mine);
    S->comm->ops->allgatherv(S->comm->impl, mine, out, S->xcounts);
    if (mine != out)
        free(mine);
}

void apical_engine_poke_all(apical_sim *S, size_t pi, size_t k, const double *v)
{
    const pop_rt *pr = &S->pops[pi];
    if (pr->sweep) { /* neurons may lag: each is brought to now first */
        for (uint64_t i = 0; i < pr->n; i++)
            apical_engine_poke(S, pi, i, k, v[i]);
        return;
    }
    for (uint64_t i = pr->own_lo; i < pr->own_lo + pr->own_n; i++)
        pr->y[pop_at(pr, i, k)] = v[i];
    if (pr->exact) {
        S->exact_dirty = 1;
        S->exact_epoch++;
    }
    for (unsigned p = S->p0; p < S->p1; p++) {
        pop_part *pp = &S->parts[p].pp[pi];
        for (uint64_t i = pp->lo; i < pp->hi; i++)
            update_wake(pr, pp, i);
    }
}

apical_status apical_engine_set_rate(apical_sim *S, size_t j, uint64_t node, double hz, double T,
                                     apical_error *err)
{
    const apical_input_spec *in = &S->spec->inputs[j];
    for (unsigned p = S->p0; p < S->p1; p++) {
        partition *P = &S->parts[p];
        input_rt *ir = &P->inputs[j];
        const pop_part *pp = &P->pp[in->target];
        if (node < pp->lo || node >= pp->hi)
            continue;
        if (!ir->rate) {
            ir->rate = malloc((ir->n + 1) * sizeof *ir->rate);
            ir->epoch = calloc(ir->n + 1, sizeof *ir->epoch);
            if (!ir->rate || !ir->epoch)
                return apical_error_set(err, APICAL_E_NOMEM, NULL, "out of memory");
            for (size_t c = 0; c < ir->n; c++)
                ir->rate[c] = in->rate;
        }
        /* generators are in node order; find this node's */
        size_t lo = 0, hi = ir->n;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (ir->node[mid] < node)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo == ir->n || ir->node[lo] != node)
            continue;
        ir->rate[lo] = hz;
        ir->epoch[lo]++;
        double t = hz > 0.0 ? T - log(apical_rng_uniform_pos(&ir->rng[lo])) * 1000.0 / hz : HUGE_VAL;
        if (t < fmin(in->stop, S->spec->sim.duration) &&
            apical_queue_push(&P->q, t, EV_POISSON, (uint32_t)j,
                              (uint64_t)ir->epoch[lo] << 32 | lo))
            return apical_error_set(err, APICAL_E_NOMEM, NULL, "out of memory");
    }
    return APICAL_OK;
}

struct weight_job {
    apical_sim *S;
    size_t proj;
    apical_weight_visit fn;
    void *user;
};

static void weight_job(void *arg, unsigned p)
{
    struct weight_job *job = arg;
    apical_sim *S = job->S;
    const apical_proj_spec *pj = &S->spec->projs[job->proj];
    const uint64_t src0 = S->pops[pj->source].gid0, nsrc = S->pops[pj->source].n;
    partition *P = &S->parts[p];
    for (uint64_t src = 0; src < nsrc; src++)
        for (uint64_t g = P->row[src0 + src]; g < P->row[src0 + src + 1]; g++) {
            const syn_group *gr = &P->groups[g];
            if (gr->proj != job->proj) /* (with a protocol, weights are own) */
                continue;
            for (uint32_t s = gr->begin; s < gr->end; s++)
                job->fn(job->user, src, P->syn_idx[s], &P->syn_w[s]);
        }
}

struct rank1_job {
    apical_sim *S;
    size_t proj;
    double keep;
    const double *u, *v;
};

/* w <- keep w + u v over m weights: vectorised (the learning rule's
 * 392 k-weight update per example); no contraction, the same bits in every
 * clone. */
__attribute__((target_clones("avx512f", "avx2", "default"))) static void
rank1_row(uint32_t m, double *restrict w, double keep, double us, const double *restrict vt)
{
    for (uint32_t j = 0; j < m; j++)
        w[j] = keep * w[j] + us * vt[j];
}

static void rank1_job(void *arg, unsigned p)
{
    const struct rank1_job *job = arg;
    apical_sim *S = job->S;
    const apical_proj_spec *pj = &S->spec->projs[job->proj];
    const uint64_t src0 = S->pops[pj->source].gid0, nsrc = S->pops[pj->source].n;
    partition *P = &S->parts[S->p0 + p];
    const double keep = job->keep, *restrict v = job->v;
    for (uint64_t src = 0; src < nsrc; src++)
        for (uint64_t g = P->row[src0 + src]; g < P->row[src0 + src + 1]; g++) {
            const syn_group *gr = &P->groups[g];
            if (gr->proj != job->proj)
                continue;
            const double us = job->u[src];
            double *restrict w = P->syn_w + gr->begin;
            const uint32_t m = gr->end - gr->begin;
            if (gr->contiguous) {
                rank1_row(m, w, keep, us, v + P->syn_idx[gr->begin]);
            } else {
                const uint32_t *idx = P->syn_idx + gr->begin;
                for (uint32_t j = 0; j < m; j++)
                    w[j] = keep * w[j] + us * v[idx[j]];
            }
        }
}

void apical_engine_rank1_update(apical_sim *S, size_t j, double keep, const double *u,
                                const double *v)
{
    struct rank1_job job = {S, j, keep, u, v};
    apical_pool_run(S->pool, S->p1 - S->p0, rank1_job, &job);
}

void apical_engine_each_weight(apical_sim *S, size_t j, apical_weight_visit fn, void *user)
{
    struct weight_job job = {S, j, fn, user};
    for (unsigned p = S->p0; p < S->p1; p++)
        weight_job(&job, p);
}

/* --- public API ------------------------------------------------------- */

struct window_job {
    apical_sim *S;
    double T1;
    size_t n_merged;
    unsigned n_jobs;
    int during; /* call the controller's `during` hook (a window's start) */
};

/* Queue the last window's spikes as this partition's deliveries (they land
 * at or after this window's start: delays are >= the window), then run the
 * window. */
static void partition_job(void *arg, unsigned p)
{
    struct window_job *job = arg;
    partition *P = &job->S->parts[job->S->p0 + p];
    if (!P->st && job->S->n_pending)
        queue_deliveries(job->S, P, job->S->n_pending);
    if (!P->st && job->S->window == 0 && job->S->t == 0.0)
        initial_spikes(job->S, P);
    if (job->during)
        job->S->hooks.during(job->S->hooks.user, p, job->n_jobs);
    if (!P->st)
        run_window(job->S, P, job->T1);
    sort_out(P);
}

apical_status apical_sim_run(apical_sim *S, double until, const volatile int *stop,
                             apical_error *err)
{
    until = fmin(until, S->spec->sim.duration);
    /* Ranks: a controller fails on one rank (out of memory) or on all;
     * every rank learns it before the next exchange */
    if (S->hooks.between && S->t == 0.0 && S->window == 0) {
        apical_status st = apical_comm_agree(S->comm, S->hooks.between(S->hooks.user, S, err), err);
        if (st)
            return st;
    }
    const int multi = apical_comm_size(S->comm) > 1;
    while (S->t < until) {
        if (!multi && stop && *stop)
            return apical_error_set(err, APICAL_E_INTERRUPTED, NULL,
                                    "interrupted at t = %.3f ms", S->t);
        double T1 = fmin((double)(S->window + 1) * S->min_delay, until);
        if (S->has_exact)
            apical_exact_plan(S, S->t, T1);
        /* (a run that stopped inside a window resumes it with a later S->t) */
        const int at_start = S->t == (double)S->window * S->min_delay;
        struct window_job job = {S, T1, 0, S->p1 - S->p0, at_start && S->hooks.during != NULL};
        apical_pool_run(S->pool, S->p1 - S->p0, partition_job, &job);
        apical_status st = APICAL_OK;
        for (unsigned p = S->p0; p < S->p1 && !st; p++)
            if ((st = S->parts[p].st) && err)
                *err = S->parts[p].err;
        /* Ranks: a failure or an interrupt on any rank is agreed on in
         * this window's exchange (merge_spikes), so all stop together. */
        if (!st && multi && stop && *stop)
            st = apical_error_set(err, APICAL_E_INTERRUPTED, NULL, "interrupted at t = %.3f ms",
                                  S->t);
        if (st && !multi)
            return st;
        S->n_pending = 0;
        if (S->has_sweep)
            apical_sweep_flip(S);
        st = merge_spikes(S, st, &job.n_merged, err);
        if (st)
            return st;
        S->n_pending = job.n_merged;
        if ((st = flush_frames(S, T1, err)))
            return st;
        S->t = T1;
        if (T1 >= (double)(S->window + 1) * S->min_delay) {
            S->window++;
            if (S->hooks.between &&
                (st = apical_comm_agree(S->comm, S->hooks.between(S->hooks.user, S, err), err)))
                return st;
        }
        S->stats.windows++;
        if (S->obs.on_window)
            S->obs.on_window(S->obs.user, S->t);
    }
    /* Sweep neurons lag behind until they are needed: the end of a run
     * brings every one of them to now, so that states read afterwards
     * (apical_sim_state, checkpoints) are at S->t. */
    for (size_t pi = 0; S->has_sweep && pi < S->n_pops; pi++)
        if (S->pops[pi].sweep) {
            apical_status st = apical_engine_sync(S, pi, S->t, err);
            if (st)
                return st;
        }
    S->stats.t = S->t;
    S->stats.events = S->stats.synaptic_events = S->stats.integrations = S->stats.steps = 0;
    for (unsigned p = S->p0; p < S->p1; p++) {
        const partition *P = &S->parts[p];
        S->stats.events += P->events;
        S->stats.synaptic_events += P->syn_events;
        S->stats.integrations += P->integrations;
        S->stats.steps += P->steps;
    }
    return APICAL_OK;
}

void apical_sim_free(apical_sim *S)
{
    if (!S)
        return;
    apical_pool_free(S->pool);
    for (unsigned p = 0; S->parts && p < S->n_parts; p++) {
        partition *P = &S->parts[p];
        apical_queue_free(&P->q);
        for (size_t pi = 0; P->pp && pi < S->n_pops; pi++) {
            pop_part *pp = &P->pp[pi];
            if (pp->step)
                gsl_odeiv2_step_free(pp->step);
            if (pp->ctl)
                gsl_odeiv2_control_free(pp->ctl);
            if (pp->evo)
                gsl_odeiv2_evolve_free(pp->evo);
            free(pp->scratch);
            apical_exact_free(pp);
            apical_sweep_free(pp);
        }
        free(P->group_fifo);
        for (size_t f = 0; f < P->n_fifo; f++)
            free(P->fifo[f].v);
        free(P->row);
        free(P->groups);
        free(P->syn_idx);
        free(P->syn_w);
        free(P->shared_w);
        free(P->syn_pidx);
        for (size_t k = 0; P->plastic && k < P->n_plastic; k++) {
            plastic_proj *pl = &P->plastic[k];
            const pop_part *pp = &P->pp[S->spec->projs[pl->proj].target];
            for (uint64_t i = 0; pl->arch && i < pp->hi - pp->lo; i++)
                free(pl->arch[i].e);
            free(pl->arch);
            free(pl->pre);
            free(pl->derived);
            free(pl->hist);
            free(pl->ev);
            free(pl->in_off);
            free(pl->in_syn);
        }
        free(P->plastic);
        free(P->pp);
        free(P->plastic_of_proj);
        for (size_t pi = 0; P->plastic_of_pop && pi < S->n_pops; pi++)
            free(P->plastic_of_pop[pi]);
        free(P->plastic_of_pop);
        free(P->n_plastic_of_pop);
        for (size_t j = 0; P->inputs && j < S->spec->n_inputs; j++) {
            free(P->inputs[j].node);
            free(P->inputs[j].rng);
            free(P->inputs[j].value);
            free(P->inputs[j].rate);
            free(P->inputs[j].epoch);
        }
        free(P->inputs);
        for (size_t j = 0; P->rec_nodes && j < S->spec->n_recorders; j++)
            free(P->rec_nodes[j]);
        free(P->rec_nodes);
        free(P->n_rec_nodes);
        free(P->out);
    }
    free(S->parts);
    for (size_t pi = 0; S->pops && pi < S->n_pops; pi++) {
        pop_rt *pr = &S->pops[pi];
        /* per-neuron arrays: their blocks (pop_rt: own_lo) */
        const uint64_t o = pr->own_lo, oy = o * pr->istride;
        free(pr->derived);
        free(pr->y ? pr->y + oy : NULL);
        free(pr->y_next ? pr->y_next + oy : NULL);
        free(pr->ystate);
        free(pr->t_last ? pr->t_last + o : NULL);
        free(pr->h ? pr->h + o : NULL);
        free(pr->ref_until ? pr->ref_until + o : NULL);
        free(pr->wake ? pr->wake + o : NULL);
        free(pr->i_ext ? pr->i_ext + o : NULL);
        free(pr->i_sin ? pr->i_sin + 3 * o : NULL);
        free(pr->rng ? pr->rng + o : NULL);
    }
    free(S->pops);
    for (size_t r = 0; S->frames && r < S->spec->n_recorders; r++)
        free(S->frames[r].data);
    free(S->frames);
    for (size_t r = 0; S->wsample && r < S->spec->n_recorders; r++) {
        free(S->wsample[r].src);
        free(S->wsample[r].tgt);
        free(S->wsample[r].at);
    }
    free(S->wsample);
    free(S->merged);
    free(S->xbuf);
    free(S->xslot);
    free(S->xold);
    free(S->xcounts);
    free(S->stats.pop_spikes);
    free(S);
}

void apical_sim_set_observer(apical_sim *S, const apical_sim_observer *obs)
{
    S->obs = *obs;
}

const apical_run_stats *apical_sim_stats(const apical_sim *S)
{
    return &S->stats;
}

double apical_sim_time(const apical_sim *S)
{
    return S->t;
}

const double *apical_sim_state(const apical_sim *S, size_t pop, uint64_t i)
{
    const pop_rt *pr = &S->pops[pop];
    if (pr->ystate) { /* struct-of-arrays: a copy */
        pop_get(pr, pr->y, i, pr->ystate);
        return pr->ystate;
    }
    return pr->y + i * pr->ns;
}

double apical_sim_neuron_time(const apical_sim *S, size_t pop, uint64_t i)
{
    return S->pops[pop].t_last[i];
}

apical_status apical_sim_synapses(const apical_sim *S, size_t proj, apical_synapse_visit fn,
                                  void *user)
{
    const apical_proj_spec *pj = &S->spec->projs[proj];
    const uint64_t src0 = S->pops[pj->source].gid0, nsrc = S->pops[pj->source].n;
    for (unsigned p = S->p0; p < S->p1; p++) {
        const partition *P = &S->parts[p];
        for (uint64_t src = 0; src < nsrc; src++) {
            uint64_t gid = src0 + src;
            for (uint64_t g = P->row[gid]; g < P->row[gid + 1]; g++) {
                const syn_group *gr = &P->groups[g];
                if (gr->proj != proj)
                    continue;
                uint32_t wm;
                const double *w = group_weights(P, gr, &wm);
                for (uint32_t s = gr->begin; s < gr->end; s++)
                    if (fn(user, src, P->syn_idx[s], w[(s - gr->begin) & wm], gr->delay))
                        return APICAL_E_NOMEM;
            }
        }
    }
    return APICAL_OK;
}

size_t apical_sim_weight_sample(const apical_sim *S, size_t rec, const uint64_t **src,
                                const uint64_t **tgt)
{
    const weight_sample *ws = &S->wsample[rec];
    *src = ws->src;
    *tgt = ws->tgt;
    return ws->n;
}

uint64_t apical_sim_synapse_count(const apical_sim *S)
{
    uint64_t n = 0;
    for (unsigned p = S->p0; p < S->p1; p++)
        n += S->parts[p].n_syn;
    return n;
}
