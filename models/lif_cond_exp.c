/* lif_cond_exp: leaky integrate-and-fire neuron with exponentially decaying
 * synaptic conductances (Brette et al. 2007, benchmark 1; NEST iaf_cond_exp).
 *
 *   C_m dV/dt = g_L (E_L - V) + g_exc (E_exc - V) + g_inh (E_inh - V) + I_e
 *   dg_exc/dt = -g_exc / tau_exc,   dg_inh/dt = -g_inh / tau_inh
 *
 * A spike is the upward crossing of V_th; V is then held at V_reset for t_ref
 * while the conductances keep decaying. An input event adds its weight (nS)
 * to g_exc or g_inh. */
#include <gsl/gsl_errno.h>
#include <math.h>
#include <stdio.h>

#include "apical/fastexp.h"
#include "apical/model.h"

enum { P_C_M, P_G_L, P_E_L, P_V_TH, P_V_RESET, P_T_REF, P_E_EXC, P_E_INH,
       P_TAU_EXC, P_TAU_INH, P_I_E, P__N };
enum { S_V, S_G_EXC, S_G_INH, S__N };
/* Candidate horizons (ms) for quiet_horizon, with e^(-T/tau_inh) derived. */
enum { N_HORIZON = 8 };
static const double horizon_T[N_HORIZON] = {0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 12.8};
enum { D_INV_C, D_INV_TAU_EXC, D_INV_TAU_INH, D_DECAY_INH, D__N = D_DECAY_INH + N_HORIZON };

static const apical_field param_fields[P__N] = {
    [P_C_M] = {"C_m", "pF", 200.0, 1e-3, 1e9, "membrane capacitance"},
    [P_G_L] = {"g_L", "nS", 10.0, 1e-6, 1e9, "leak conductance"},
    [P_E_L] = {"E_L", "mV", -60.0, -200.0, 200.0, "leak reversal potential"},
    [P_V_TH] = {"V_th", "mV", -50.0, -200.0, 200.0, "spike threshold"},
    [P_V_RESET] = {"V_reset", "mV", -60.0, -200.0, 200.0, "reset potential"},
    [P_T_REF] = {"t_ref", "ms", 5.0, 0.0, 1e6, "refractory period"},
    [P_E_EXC] = {"E_exc", "mV", 0.0, -200.0, 200.0, "excitatory reversal potential"},
    [P_E_INH] = {"E_inh", "mV", -80.0, -200.0, 200.0, "inhibitory reversal potential"},
    [P_TAU_EXC] = {"tau_exc", "ms", 5.0, 1e-3, 1e6, "excitatory conductance decay"},
    [P_TAU_INH] = {"tau_inh", "ms", 10.0, 1e-3, 1e6, "inhibitory conductance decay"},
    [P_I_E] = {"I_e", "pA", 0.0, -1e9, 1e9, "constant injected current"},
};

static const apical_field state_fields[S__N] = {
    [S_V] = {"V_m", "mV", -60.0, -HUGE_VAL, HUGE_VAL, "membrane potential"},
    [S_G_EXC] = {"g_exc", "nS", 0.0, -HUGE_VAL, HUGE_VAL, "excitatory conductance"},
    [S_G_INH] = {"g_inh", "nS", 0.0, -HUGE_VAL, HUGE_VAL, "inhibitory conductance"},
};

static const char *const receptors[] = {"exc", "inh"};

static void derive(const double *p, double *d)
{
    d[D_INV_C] = 1.0 / p[P_C_M];
    d[D_INV_TAU_EXC] = 1.0 / p[P_TAU_EXC];
    d[D_INV_TAU_INH] = 1.0 / p[P_TAU_INH];
    for (int k = 0; k < N_HORIZON; k++)
        d[D_DECAY_INH + k] = exp(-horizon_T[k] / p[P_TAU_INH]);
}

static size_t check(const double *p, char *why, size_t n)
{
    if (!(p[P_V_RESET] < p[P_V_TH])) {
        snprintf(why, n, "V_reset (%g mV) must be below V_th (%g mV)", p[P_V_RESET], p[P_V_TH]);
        return P_V_RESET + 1;
    }
    return 0;
}

static int derivs(double t, const double y[], double f[], void *params)
{
    const apical_model_ctx *c = params;
    const double *p = c->param, *d = c->derived;
    const double v = y[S_V], ge = y[S_G_EXC], gi = y[S_G_INH];
    f[S_V] = c->refractory ? 0.0
             : (p[P_G_L] * (p[P_E_L] - v) + ge * (p[P_E_EXC] - v) +
                gi * (p[P_E_INH] - v) + p[P_I_E] + apical_ctx_current(c, t)) * d[D_INV_C];
    f[S_G_EXC] = -ge * d[D_INV_TAU_EXC];
    f[S_G_INH] = -gi * d[D_INV_TAU_INH];
    return isfinite(f[S_V]) ? GSL_SUCCESS : GSL_EBADFUNC;
}

static int jacobian(double t, const double y[], double *J, double dfdt[], void *params)
{
    const apical_model_ctx *c = params;
    const double *p = c->param, *d = c->derived;
    const double v = y[S_V];
    for (int i = 0; i < 9; i++)
        J[i] = 0.0;
    if (!c->refractory) {
        J[0] = -(p[P_G_L] + y[S_G_EXC] + y[S_G_INH]) * d[D_INV_C];
        J[1] = (p[P_E_EXC] - v) * d[D_INV_C];
        J[2] = (p[P_E_INH] - v) * d[D_INV_C];
    }
    J[4] = -d[D_INV_TAU_EXC];
    J[8] = -d[D_INV_TAU_INH];
    dfdt[0] = c->refractory ? 0.0 : apical_ctx_current_dt(c, t) * d[D_INV_C];
    dfdt[1] = dfdt[2] = 0.0;
    return GSL_SUCCESS;
}

static double spike_distance(const double y[], const apical_model_ctx *c)
{
    return y[S_V] - c->param[P_V_TH];
}

static void reset(double y[], const apical_model_ctx *c)
{
    y[S_V] = c->param[P_V_RESET];
}

static double refractory_period(const apical_model_ctx *c)
{
    return c->param[P_T_REF];
}

static void receive(double y[], size_t receptor, double w, const apical_model_ctx *c)
{
    (void)c;
    y[S_G_EXC + receptor] += w;
}

/* A proven lower bound on the time to threshold without input, so the
 * engine can skip integrations that cannot end in a spike.
 *
 * While V stays in [V0, V_th], with non-negative conductances that only
 * decay, over a horizon T:
 *   g_L (E_L - V)     <= g_L (E_L - V0)
 *   g_exc (E_exc - V) <= g_exc0 max(0, E_exc - V0)
 *   g_inh (E_inh - V) <= g_inh0 e^(-T/tau_inh) (E_inh - V0)   if V0 > E_inh
 * (inhibition still at least its value at T, pulling down), so V rises by at
 * most S(T) T. S(T) T grows with T, so the largest candidate T with
 * S(T) T < V_th - V0 is a valid horizon; the decay factors of the
 * candidates are derived constants, so no exp() here. */
static double quiet_horizon(const double y[], const apical_model_ctx *c)
{
    const double *p = c->param, *d = c->derived;
    const double v = y[S_V], ge = y[S_G_EXC], gi = y[S_G_INH];
    if (ge < 0.0 || gi < 0.0 || v >= p[P_V_TH])
        return 0.0;
    const double room = (p[P_V_TH] - v) * p[P_C_M];
    const double drive = p[P_G_L] * (p[P_E_L] - v) + p[P_I_E] + apical_ctx_current_max(c) +
                         ge * fmax(0.0, p[P_E_EXC] - v);
    const double inh = gi * (p[P_E_INH] - v);
    if (inh >= 0.0) {
        /* below E_inh inhibition depolarises: count it fully */
        double slope = drive + inh;
        return slope <= 0.0 ? HUGE_VAL : room / slope;
    }
    double best = 0.0;
    for (int k = 0; k < N_HORIZON; k++) {
        double T = horizon_T[k], slope = drive + inh * d[D_DECAY_INH + k];
        if (slope * T >= room)
            break;
        best = T;
    }
    /* Without any inhibition left the plain slope bound still holds. */
    double lin = drive > 0.0 ? room / drive : HUGE_VAL;
    return fmax(best, lin);
}

/* --- stepper "sweep": classical RK4 on V, conductances exact ----------
 *
 * Between inputs g_exc and g_inh decay exactly (g e^(-t/tau)), so only V is
 * integrated: V' = b(t) - a(t) V with a = (g_L + g_exc + g_inh)/C_m and
 * b = (g_L E_L + g_exc E_exc + g_inh E_inh + I_e)/C_m. Classical RK4 needs
 * the conductances at s = 0, h/2, h (decay factors shared by the whole
 * population for one step length), and each stage is one k = b - a v.
 *
 * Accuracy (docs/models/lif.md, "Stepper sweep"). Between inputs V is a sum
 * of exponentials with rates up to lambda = a + r, r = max(1/tau_exc,
 * 1/tau_inh) (the membrane's own and the conductances' decay), so
 * |V^(5)| <~ lambda^4 |V'|, and RK4's local error, h^5 |V^(5)|/120 for
 * linear problems, is estimated by
 *     e = (lambda h)^4 h |V'(0)| / 120.
 * A step is taken as one only when e <= EPS_LOCAL and lambda h <= X_CAP
 * (beyond X_CAP the estimate itself is no longer a bound: RK4's stability
 * function drifts from e^-x); otherwise it is split into m equal sub-steps
 * with m^5 >= e / EPS_LOCAL and lambda h / m <= X_CAP. Each step's error
 * is damped by e^(-a t) afterwards, so the global V error is about the sum
 * of the last 1/(a h) steps' errors: at most EPS_LOCAL / (a h).
 *
 * EPS_LOCAL from the spike-time bar (issue 10: <= 1e-3 ms), with a margin
 * of 4: a V error eps near threshold moves a crossing by eps / V', so at a
 * crossing slope V' >= 1 mV/ms the V error may be 2.5e-4 mV; at a h >= 0.1
 * (COBA's a h ~ 0.13) EPS_LOCAL / (a h) <= 2.5e-4 mV gives EPS_LOCAL =
 * 2.5e-5 mV, spike times within 2.5e-4 ms. Measured far below the bound,
 * as the estimate is conservative: 2.3e-8 ms (tests/bench/accuracy.py),
 * 8.8e-5 mV in V under strong drive (tests/check_sweep.c, where removing
 * the bound gives 2.2e-3 mV). Per 0.1 ms window of COBA (4000 neurons)
 * the kernel flags 73 neurons at 1e-5 mV (58 by this estimate, 48 of them
 * redone in 2 sub-steps) and 23 at 2.5e-5 mV (8 by it); 1e-6 mV flagged
 * ~20% (a ~ 1.3/ms).
 * Estimated from the state at the step's start: conductances only decay,
 * so a is largest there. */
#define EPS_LOCAL 2.5e-5 /* mV */
#define X_CAP 0.5

/* The most equal sub-steps window_redo takes (more: the neuron is walked
 * one by one by `advance`). */
#define SUB_MAX 8

/* The most sub-steps `advance` takes for one step: the error bound would
 * need more only at conductances of ~1e7 nS (or a state that is not
 * finite), where the run stops instead (see sweep_advance). */
#define SUB_CAP_WALK 1e6

/* k[]: the step's constants (K_H .. K_DI: step_h, for the window length h),
 * the population's (K_AL .. K_XHI), then K_BASE: for each m = 2 ..
 * SUB_MAX, step_h's seven for h/m (K_SUB + K_STEP (m - 2) + K_H .. K_DI),
 * the sub-steps of window_redo. */
enum { K_H, K_H2, K_H6, K_DE2, K_DE, K_DI2, K_DI, K_STEP, K_AL = K_STEP, K_BL, K_IC, K_EE,
       K_EI, K_TH, K_R, K_E120, K_HB, K_ITE, K_ITI, K_XLO, K_XHI, K_POLY, K_BASE,
       K_SUB = K_BASE, K__N = K_SUB + K_STEP * (SUB_MAX - 1) };
_Static_assert((int)K__N <= (int)APICAL_SWEEP_MAX_CONST, "lif_cond_exp: too many sweep constants");

/* max without fmax's NaN rules: a plain select, which gcc vectorises (and
 * inlines: fmax is a libm call here) */
static inline double maxd(double a, double b)
{
    return a > b ? a : b;
}

/* The half-step decay factor e^z, z = -h / (2 tau), of a step of length h:
 * the short polynomial where |z| <= APICAL_FEXP_SMALL (every per-input step
 * of COBA: h <= 0.1 ms, tau >= 5 ms), the general exp beyond. Every path
 * that steps a neuron (window constants, advance, advance_n, single_input)
 * takes its factors from here, so a step gives the same bits on each.
 * single_input's fast variant calls apical_fexp_small directly and flags
 * the lanes where z is out of its range; advance_n picks a loop with the
 * polynomial alone when every lane's steps are in range. A branch in
 * scalar code, a select in vector loops. */
static inline double half_decay(double z, double lo, double hi)
{
    return z >= -APICAL_FEXP_SMALL ? apical_fexp_small(z) : apical_fexp_clamped(z, lo, hi);
}

/* Step-length constants; shared by the kernel and the scalar step so that
 * both give the same bits for the same step. */
static inline void step_h(double h, const double *d, double k[])
{
    k[K_H] = h;
    k[K_H2] = 0.5 * h;
    k[K_H6] = h * (1.0 / 6.0);
    k[K_DE2] = half_decay(-0.5 * h * d[D_INV_TAU_EXC], APICAL_FEXP_LO, APICAL_FEXP_HI);
    k[K_DE] = k[K_DE2] * k[K_DE2];
    k[K_DI2] = half_decay(-0.5 * h * d[D_INV_TAU_INH], APICAL_FEXP_LO, APICAL_FEXP_HI);
    k[K_DI] = k[K_DI2] * k[K_DI2];
}

static inline void step_pop(const apical_model_ctx *c, double h, double k[])
{
    const double *p = c->param, *d = c->derived;
    k[K_AL] = p[P_G_L] * d[D_INV_C];
    k[K_BL] = (p[P_G_L] * p[P_E_L] + p[P_I_E]) * d[D_INV_C];
    k[K_IC] = d[D_INV_C];
    k[K_EE] = p[P_E_EXC] * d[D_INV_C];
    k[K_EI] = p[P_E_INH] * d[D_INV_C];
    k[K_TH] = p[P_V_TH];
    k[K_R] = maxd(d[D_INV_TAU_EXC], d[D_INV_TAU_INH]);
    k[K_E120] = h * (1.0 / 120.0);
    k[K_HB] = h * (4.0 / 27.0);
    k[K_ITE] = d[D_INV_TAU_EXC];
    k[K_ITI] = d[D_INV_TAU_INH];
    k[K_XLO] = APICAL_FEXP_LO; /* the exp's clamp, from memory: see fastexp.h */
    k[K_XHI] = APICAL_FEXP_HI;
    /* every half-step decay of a window of this length is in the short
     * polynomial's range: single_input may use it unchecked per receptor
     * (it still flags a lane whose step is longer, i.e. t_in out of range) */
    k[K_POLY] = 0.5 * h * k[K_R] <= APICAL_FEXP_SMALL ? 1.0 : 0.0;
}

/* One RK4 step of V of length h; conductances at the stage times from the
 * decay factors (half step and whole step); pop: K_AL .. K_EI of k[].
 * Returns the new V; k1o gets dV/dt at the start, s1 at the end, a0 the
 * decay rate a at the start. The window kernel, the batched kernel and the
 * scalar step all run this, so a step gives the same bits in each. */
static inline double rk4_core(double v, double ge, double gi, double h, double h2, double h6,
                              double de2, double de, double di2, double di, const double *pop,
                              double *k1o, double *s1, double *a0)
{
    const double al = pop[K_AL], bl = pop[K_BL], ic = pop[K_IC], ee = pop[K_EE],
                 ei = pop[K_EI];
    const double a1 = al + (ge + gi) * ic, b1 = bl + ge * ee + gi * ei;
    const double ge2 = ge * de2, gi2 = gi * di2;
    const double a2 = al + (ge2 + gi2) * ic, b2 = bl + ge2 * ee + gi2 * ei;
    const double ge4 = ge * de, gi4 = gi * di;
    const double a4 = al + (ge4 + gi4) * ic, b4 = bl + ge4 * ee + gi4 * ei;
    const double k1 = b1 - a1 * v;
    const double k2 = b2 - a2 * (v + h2 * k1);
    const double k3 = b2 - a2 * (v + h2 * k2);
    const double k4 = b4 - a4 * (v + h * k3);
    const double vn = v + h6 * (k1 + 2.0 * (k2 + k3) + k4);
    *k1o = k1;
    *s1 = b4 - a4 * vn;
    *a0 = a1;
    return vn;
}

static inline double rk4_v(double v, double ge, double gi, const double k[], double *k1o,
                           double *s1, double *a0)
{
    return rk4_core(v, ge, gi, k[K_H], k[K_H2], k[K_H6], k[K_DE2], k[K_DE], k[K_DI2], k[K_DI], k,
                    k1o, s1, a0);
}

/* The local error estimate e of a step of length h (e120 = h/120) from a
 * state with decay rate a0 and slope k1 (see above), as an excess over
 * EPS_LOCAL, or an excess of lambda h over X_CAP: >= 0 when the step must
 * be split. */
static inline double excess_h(double a0, double k1, double r, double h, double e120)
{
    const double x = (a0 + r) * h, x2 = x * x;
    const double e = x2 * x2 * e120 * (k1 < 0.0 ? -k1 : k1);
    return maxd(e - EPS_LOCAL, x - X_CAP);
}

static inline double step_excess(double a0, double k1, const double k[])
{
    return excess_h(a0, k1, k[K_R], k[K_H], k[K_E120]);
}

static double sweep_max_step(const apical_model_ctx *c)
{
    const double *p = c->param, *d = c->derived;
    return X_CAP / (p[P_G_L] * d[D_INV_C] + maxd(d[D_INV_TAU_EXC], d[D_INV_TAU_INH]));
}

static void sweep_constants(double h, const apical_model_ctx *c, double k[])
{
    step_h(h, c->derived, k);
    step_pop(c, h, k);
    /* h / m as sweep_advance computes it (dt / m), so the same bits */
    for (int m = 2; m <= SUB_MAX; m++)
        step_h(h / (double)m, c->derived, k + K_SUB + K_STEP * (m - 2));
}

/* gcc honours restrict on parameters (not on local pointers): the loop
 * lives here, with the arrays as restrict parameters, so that it
 * vectorises without run-time alias checks (more than 10 arrays exceed
 * gcc's limit for those, and the loop stays scalar). */
__attribute__((always_inline)) static inline void sweep_loop(size_t n, const double *restrict v0, const double *restrict e0,
                              const double *restrict i0, double *restrict v1,
                              double *restrict e1, double *restrict i1,
                              const double *restrict ru, double T0, double T1,
                              const double *restrict k, double *restrict cd)
{
    double kk[K_BASE]; /* a local copy: with k itself the loop stays scalar */
    for (int q = 0; q < K_BASE; q++)
        kk[q] = k[q];
    const double th = kk[K_TH], hb = kk[K_HB], de = kk[K_DE], di = kk[K_DI];
    for (size_t i = 0; i < n; i++) {
        const double v = v0[i], ge = e0[i], gi = i0[i], r = ru[i];
        double k1, s1, a0;
        const double vn = rk4_v(v, ge, gi, kk, &k1, &s1, &a0);
        /* Refractory through the window: V held, no candidate. Written so
         * that no computation becomes dead on one side of a comparison
         * (gcc would sink it into a branch and leave the loop scalar), and
         * only with selects on double comparisons, which gcc if-converts. */
        const double bound = maxd(v, vn) + hb * (maxd(k1, 0.0) + maxd(-s1, 0.0)) - th;
        const double lim = r >= T1 ? -1.0 : HUGE_VAL;
        double cn = maxd(step_excess(a0, k1, kk), bound);
        cn = cn < lim ? cn : lim;
        cn = (r > T0) & (r < T1) ? 1.0 : cn;
        cd[i] = vn - vn == 0.0 ? cn : 1.0; /* not finite: redo (and report) */
        v1[i] = r >= T1 ? v : vn;
        e1[i] = ge * de;
        i1[i] = gi * di;
    }
}

/* The window kernel (see apical_sweep_ops.window). cand: the largest of the
 * step's error excess (step_excess) and the excess over threshold of a
 * bound of the step's cubic Hermite interpolant (max(V0, V1) + 4h/27
 * (max(V0', 0) + max(-V1', 0)), which bounds every crossing inside the
 * step); -1 for neurons refractory through the window, +1 where
 * refractoriness ends inside it. */
__attribute__((target_clones("avx512f", "avx2", "default")))
static void sweep_window(size_t n, const double *const y[], double *const yn[],
                         const double *ref_until, double T0, double T1, const double k[],
                         const apical_model_ctx *c, double *cand)
{
    (void)c;
    sweep_loop(n, y[S_V], y[S_G_EXC], y[S_G_INH], yn[S_V], yn[S_G_EXC], yn[S_G_INH], ref_until,
               T0, T1, k, cand);
}

/* The batched step (apical_sweep_ops.advance_n): lane i advanced by its
 * own dt[i] (the same operations as step_h + rk4_v, so the same bits as
 * `advance` for one step), V held where held[i] > 0. cand as in the window
 * kernel: >= 0 where the lane must be redone one by one. */
__attribute__((always_inline)) static inline void batch_loop(size_t n, const double *restrict v0, const double *restrict e0,
                              const double *restrict i0, double *restrict v1,
                              double *restrict e1, double *restrict i1,
                              const double *restrict dt, const double *restrict held,
                              const double *restrict k, double *restrict cd, const int poly)
{
    double kk[K_BASE]; /* population constants; a local copy (see sweep_loop) */
    for (int q = 0; q < K_BASE; q++)
        kk[q] = k[q];
    const double th = kk[K_TH], r = kk[K_R], ite = kk[K_ITE], iti = kk[K_ITI];
    const double xlo = kk[K_XLO], xhi = kk[K_XHI];
    for (size_t i = 0; i < n; i++) {
        const double v = v0[i], ge = e0[i], gi = i0[i], h = dt[i], hl = held[i];
        const double ze = -0.5 * h * ite, zi = -0.5 * h * iti;
        const double de2 = poly ? apical_fexp_small(ze) : half_decay(ze, xlo, xhi);
        const double di2 = poly ? apical_fexp_small(zi) : half_decay(zi, xlo, xhi);
        const double de = de2 * de2, di = di2 * di2;
        double k1, s1, a0;
        const double vn =
            rk4_core(v, ge, gi, h, 0.5 * h, h * (1.0 / 6.0), de2, de, di2, di, kk, &k1, &s1, &a0);
        const double hb = h * (4.0 / 27.0);
        const double bound = maxd(v, vn) + hb * (maxd(k1, 0.0) + maxd(-s1, 0.0)) - th;
        const double cn = maxd(excess_h(a0, k1, r, h, h * (1.0 / 120.0)), bound);
        const double lim = hl > 0.0 ? -1.0 : HUGE_VAL;
        const double cl = cn < lim ? cn : lim;
        cd[i] = vn - vn == 0.0 ? cl : 1.0; /* not finite: redo (and report) */
        v1[i] = hl > 0.0 ? v : vn;
        e1[i] = ge * de;
        i1[i] = gi * di;
    }
}

__attribute__((target_clones("avx512f", "avx2", "default")))
static void sweep_advance_n(size_t n, const double *const y[], double *const yn[],
                            const double *dt, const double *held, const apical_model_ctx *c,
                            const double k[], double *cand)
{
    (void)c;
    /* the short polynomial alone when it is half_decay's choice for every
     * lane: -0.5 dt K_R >= -APICAL_FEXP_SMALL bounds both receptors'
     * arguments (rounding is monotonic; K_R is the larger rate) */
    double longest = 0.0;
    for (size_t i = 0; i < n; i++)
        longest = maxd(longest, dt[i]);
    if (-0.5 * longest * k[K_R] >= -APICAL_FEXP_SMALL)
        batch_loop(n, y[S_V], y[S_G_EXC], y[S_G_INH], yn[S_V], yn[S_G_EXC], yn[S_G_INH], dt,
                   held, k, cand, 1);
    else
        batch_loop(n, y[S_V], y[S_G_EXC], y[S_G_INH], yn[S_V], yn[S_G_EXC], yn[S_G_INH], dt,
                   held, k, cand, 0);
}

/* One batched step of length h from (v, ge, gi), V held where hl > 0:
 * batch_loop's operations for one lane (the same bits as advance_n and
 * advance). The new state goes to *vo, *eo, *io; returns the lane's flag,
 * < 0 only when the step is finished (held, or no possible crossing and
 * within the accuracy bound; and finite), as advance_n's cand. */
static inline double step1(double v, double ge, double gi, double h, double hl, const double *kk,
                           double *vo, double *eo, double *io, const int poly)
{
    const double ze = -0.5 * h * kk[K_ITE], zi = -0.5 * h * kk[K_ITI];
    /* poly: the short polynomial unchecked (half_decay's choice wherever
     * both arguments are in its range; the step is flagged elsewhere) */
    const double de2 = poly ? apical_fexp_small(ze) : half_decay(ze, kk[K_XLO], kk[K_XHI]);
    const double di2 = poly ? apical_fexp_small(zi) : half_decay(zi, kk[K_XLO], kk[K_XHI]);
    const double out = poly && !((ze >= -APICAL_FEXP_SMALL) & (zi >= -APICAL_FEXP_SMALL))
                           ? 1.0 : -1.0;
    const double de = de2 * de2, di = di2 * di2;
    double k1, s1, a0;
    const double vn =
        rk4_core(v, ge, gi, h, 0.5 * h, h * (1.0 / 6.0), de2, de, di2, di, kk, &k1, &s1, &a0);
    const double hb = h * (4.0 / 27.0);
    const double bound = maxd(v, vn) + hb * (maxd(k1, 0.0) + maxd(-s1, 0.0)) - kk[K_TH];
    const double cn = maxd(excess_h(a0, k1, kk[K_R], h, h * (1.0 / 120.0)), bound);
    const double lim = hl > 0.0 ? -1.0 : HUGE_VAL;
    const double cl = cn < lim ? cn : lim;
    *vo = hl > 0.0 ? v : vn;
    *eo = ge * de;
    *io = gi * di;
    return vn - vn == 0.0 ? maxd(cl, out) : 1.0;
}

/* apical_sweep_ops.single_input: two batched steps around the input, both
 * held for a neuron refractory through the window (ru >= T1; the input
 * still adds to its conductance, and fires nothing: receive does not move
 * V); one whose refractoriness ends inside (T0, T1) is flagged (the rounds
 * split its window there). The
 * input adds w to the conductance of its receptor and -0.0 to the other:
 * x + (-0.0) is x for every x (also -0.0), so the select is on the weight,
 * not on a sum that would be dead in one branch (which keeps gcc scalar),
 * and the bits are those of receive. A flag is kept only as < 0 or not:
 * NaN flags compare false, so they reject as well. */
__attribute__((always_inline)) static inline void single_loop(
    size_t n, const uint32_t *restrict idx, const double *restrict v0,
    const double *restrict e0, const double *restrict i0, double *restrict v1,
    double *restrict e1, double *restrict i1, const double *restrict ru,
    const double *restrict tin, const double *restrict win, const double *restrict rin, double T0,
    double T1, const double *restrict k, double *restrict cd, const int poly)
{
    double kk[K_BASE]; /* a local copy (see sweep_loop) */
    for (int q = 0; q < K_BASE; q++)
        kk[q] = k[q];
    const double nz = -0.0;
    for (size_t q = 0; q < n; q++) {
        const uint32_t j = idx[q];
        const double t = tin[q], w = win[q], r = rin[q], u = ru[j];
        const double hl = u >= T1 ? 1.0 : 0.0;
        double va, ea, ia, vb, eb, ib;
        const double c1 = step1(v0[j], e0[j], i0[j], t - T0, hl, kk, &va, &ea, &ia, poly);
        ea += r == 0.0 ? w : nz;
        ia += r == 0.0 ? nz : w;
        const double c2 = step1(va, ea, ia, T1 - t, hl, kk, &vb, &eb, &ib, poly);
        double f = c1 < 0.0 ? c2 : 1.0;
        f = f < 0.0 ? f : 1.0; /* also NaN */
        const double fe = u < T1 ? 1.0 : f; /* refractoriness ends inside */
        f = u > T0 ? fe : f;
        f = t >= T0 ? f : 1.0;
        cd[q] = t < T1 ? f : 1.0;
        v1[j] = vb;
        e1[j] = eb;
        i1[j] = ib;
    }
}

__attribute__((target_clones("avx512f", "avx2", "default")))
static void sweep_single_input(size_t n, const uint32_t *idx, const double *const y[],
                               double *const yn[], const double *ru, const double *t_in,
                               const double *w_in, const double *r_in, double T0, double T1,
                               const double k[], const apical_model_ctx *c, double *cand)
{
    (void)c;
    /* two copies of the loop, each without a branch on the lanes */
    if (k[K_POLY] > 0.0)
        single_loop(n, idx, y[S_V], y[S_G_EXC], y[S_G_INH], yn[S_V], yn[S_G_EXC], yn[S_G_INH],
                    ru, t_in, w_in, r_in, T0, T1, k, cand, 1);
    else
        single_loop(n, idx, y[S_V], y[S_G_EXC], y[S_G_INH], yn[S_V], yn[S_G_EXC], yn[S_G_INH],
                    ru, t_in, w_in, r_in, T0, T1, k, cand, 0);
}

/* apical_sweep_ops.window_redo: the neurons the window kernel flagged that
 * have no input and are not refractory at T0, as the engine's one-by-one
 * walk would take them (run_to in sim/sweep.c over sweep_advance), in
 * vector form. First the walk's sub-step count m per lane (sweep_advance's
 * count: m = 1 when one step is within the bound, else the smallest m >=
 * x / X_CAP with e <= EPS_LOCAL m^5; SUB_MAX + 1 for more than SUB_MAX),
 * written to cd[] as a double; then, for each m in 2 .. SUB_MAX that
 * occurs, one pass over the lanes with that m's shared sub-step constants
 * (h/m: the bits of sweep_advance's step_h(dt / m)), m RK4 steps each
 * (unrolled: m is a constant in each pass). A lane is finished (cd < 0)
 * where the walk would take the step whole without a crossing search:
 * spike distance below 0 at both ends and the Hermite bound of
 * crossing_bracket (the same expression) below 0, and a finite result.
 * Every other lane (m = 1: the kernel's own step, which it flagged; m >
 * SUB_MAX; a possible crossing; not finite; above threshold at T0) keeps
 * cd >= 0 and is walked by the engine from T0. */
__attribute__((always_inline)) static inline void redo_m(
    const size_t n, const uint32_t *restrict idx, const double *restrict v0,
    const double *restrict e0, const double *restrict i0, double *restrict v1,
    double *restrict e1, double *restrict i1, const double *restrict k, double *restrict cd,
    const int m)
{
    double kk[K_BASE], ks[K_STEP]; /* local copies (see sweep_loop) */
    for (int q = 0; q < K_BASE; q++)
        kk[q] = k[q];
    for (int q = 0; q < K_STEP; q++)
        ks[q] = k[K_SUB + K_STEP * (m - 2) + q];
    const double th = kk[K_TH], hb = kk[K_HB], dm = (double)m;
    const double h = ks[K_H], h2 = ks[K_H2], h6 = ks[K_H6], de2 = ks[K_DE2], de = ks[K_DE],
                 di2 = ks[K_DI2], di = ks[K_DI];
    for (size_t q = 0; q < n; q++) {
        const uint32_t j = idx[q];
        const double mq = cd[q], v = v0[j];
        double vv = v, ge = e0[j], gi = i0[j], k1 = 0.0, s1 = 0.0, a0, f0 = 0.0;
        for (int s = 0; s < m; s++) {
            vv = rk4_core(vv, ge, gi, h, h2, h6, de2, de, di2, di, kk, &k1, &s1, &a0);
            f0 = s == 0 ? k1 : f0;
            ge *= de;
            gi *= di;
        }
        const double sa = v - th, sb = vv - th;
        const double bnd = maxd(sa, sb) + hb * (maxd(f0, 0.0) + maxd(-s1, 0.0));
        double f = bnd < 0.0 ? -1.0 : 0.5;
        f = sb < 0.0 ? f : 0.5;
        f = sa < 0.0 ? f : 0.5;
        f = (vv - vv) + (ge - ge) + (gi - gi) == 0.0 ? f : 0.5; /* not finite */
        const int here = mq == dm;
        cd[q] = here ? f : mq;
        v1[j] = here ? vv : v1[j];
        e1[j] = here ? ge : e1[j];
        i1[j] = here ? gi : i1[j];
    }
}

/* The walk's sub-step count per lane, into cd (see window_redo). */
__attribute__((always_inline)) static inline void redo_count(
    const size_t n, const uint32_t *restrict idx, const double *restrict v0,
    const double *restrict e0, const double *restrict i0, const double *restrict k,
    double *restrict cd)
{
    double kk[K_BASE];
    for (int q = 0; q < K_BASE; q++)
        kk[q] = k[q];
    const double al = kk[K_AL], bl = kk[K_BL], ic = kk[K_IC], ee = kk[K_EE], ei = kk[K_EI];
    const double r = kk[K_R], h = kk[K_H], e120 = kk[K_E120];
    for (size_t q = 0; q < n; q++) {
        const uint32_t j = idx[q];
        const double v = v0[j], ge = e0[j], gi = i0[j];
        /* rk4_core's k1 and a0 (they do not depend on the step length) */
        const double a0 = al + (ge + gi) * ic, b1 = bl + ge * ee + gi * ei;
        const double k1 = b1 - a0 * v;
        const double ex = excess_h(a0, k1, r, h, e120);
        /* sweep_advance's expressions, for the same decisions */
        const double x = (a0 + r) * h;
        const double e = x * x * x * x * e120 * (k1 < 0.0 ? -k1 : k1);
        double m = 1.0;
        for (int c = 1; c <= SUB_MAX; c++) {
            const double dc = (double)c;
            m += x / X_CAP > dc || e > EPS_LOCAL * (dc * dc) * (dc * dc) * dc ? 1.0 : 0.0;
        }
        cd[q] = ex >= 0.0 ? m : 1.0;
    }
}

#define REDO_M(M)                                                                              \
    case M:                                                                                    \
        redo_m(n, idx, y[S_V], y[S_G_EXC], y[S_G_INH], yn[S_V], yn[S_G_EXC], yn[S_G_INH], k,  \
               cand, M);                                                                       \
        break;

__attribute__((target_clones("avx512f", "avx2", "default")))
static void sweep_window_redo(size_t n, const uint32_t *idx, const double *const y[],
                              double *const yn[], double T0, double T1, const double k[],
                              const apical_model_ctx *c, double *cand)
{
    (void)c, (void)T0, (void)T1;
    redo_count(n, idx, y[S_V], y[S_G_EXC], y[S_G_INH], k, cand);
    unsigned seen = 0;
    for (size_t q = 0; q < n; q++)
        seen |= 1u << (unsigned)cand[q]; /* 1 .. SUB_MAX + 1 */
    for (int m = 2; m <= SUB_MAX; m++) {
        if (!(seen >> m & 1u))
            continue;
        switch (m) {
            REDO_M(2)
            REDO_M(3)
            REDO_M(4)
            REDO_M(5)
            REDO_M(6)
            REDO_M(7)
            REDO_M(8)
        }
    }
}
#undef REDO_M

static void sweep_advance(double y[], double dt, int refractory, const apical_model_ctx *c,
                          double slope[2])
{
    double k[K__N];
    step_pop(c, dt, k);
    step_h(dt, c->derived, k);
    double k1, s1, a0;
    double vn = rk4_v(y[S_V], y[S_G_EXC], y[S_G_INH], k, &k1, &s1, &a0);
    const double ex = step_excess(a0, k1, k);
    if (ex >= 0.0 && !refractory) {
        /* split: m^5 >= e / EPS_LOCAL and lambda dt / m <= X_CAP */
        const double x = (a0 + k[K_R]) * dt;
        const double e = x * x * x * x * k[K_E120] * fabs(k1);
        /* the smallest m with e / m^5 <= EPS_LOCAL (by counting: m is
         * small, and pow() showed in the profile), and x / m <= X_CAP */
        double m = ceil(x / X_CAP);
        m = m < 1.0 ? 1.0 : m;
        /* Past SUB_CAP_WALK sub-steps (a conductance of ~1e7 nS, or a state
         * that is not finite) the method is out of its range: V becomes NaN
         * and the engine stops the run naming the neuron, time and state,
         * as for any non-finite state, instead of counting for ever. */
        if (!(e <= EPS_LOCAL * SUB_CAP_WALK * SUB_CAP_WALK * SUB_CAP_WALK * SUB_CAP_WALK *
                       SUB_CAP_WALK) ||
            !(m <= SUB_CAP_WALK)) {
            y[S_V] = NAN;
            slope[0] = slope[1] = NAN;
            return;
        }
        if (e > EPS_LOCAL * (m * m) * (m * m) * m) /* start near the answer, then count */
            m = fmax(m, floor(pow(e / EPS_LOCAL, 0.2)));
        while (e > EPS_LOCAL * (m * m) * (m * m) * m)
            m += 1.0;
        const double hs = dt / m;
        step_h(hs, c->derived, k);
        double s0 = k1;
        for (double j = 0; j < m; j++) {
            vn = rk4_v(y[S_V], y[S_G_EXC], y[S_G_INH], k, &k1, &s1, &a0);
            s0 = j == 0 ? k1 : s0;
            y[S_V] = vn;
            y[S_G_EXC] *= k[K_DE];
            y[S_G_INH] *= k[K_DI];
        }
        slope[0] = s0;
        slope[1] = s1;
        return;
    }
    if (!refractory)
        y[S_V] = vn;
    y[S_G_EXC] *= k[K_DE];
    y[S_G_INH] *= k[K_DI];
    slope[0] = refractory ? 0.0 : k1;
    slope[1] = refractory ? 0.0 : s1;
}

static const apical_sweep_ops sweep_ops = {
    .n_const = K__N,
    .max_step = sweep_max_step,
    .constants = sweep_constants,
    .window = sweep_window,
    .advance = sweep_advance,
    .advance_n = sweep_advance_n,
    .single_input = sweep_single_input,
    .window_redo = sweep_window_redo,
    .method = "RK4 on V (local error estimate <= 2.5e-5 mV per step), conductances exact",
};

const apical_model_type apical_lif_cond_exp = {
    .name = "lif_cond_exp",
    .doc = "Leaky integrate-and-fire, exponential conductance synapses "
           "(Brette et al. 2007 COBA; NEST iaf_cond_exp).",
    .n_params = P__N, .params = param_fields,
    .n_state = S__N, .state = state_fields,
    .n_receptors = 2, .receptors = receptors, .weight_unit = "nS",
    .n_derived = D__N, .derive = derive, .check = check,
    .derivs = derivs, .jacobian = jacobian,
    .spike_distance = spike_distance, .reset = reset,
    .refractory_period = refractory_period, .receive = receive,
    .quiet_horizon = quiet_horizon,
    .sweep = &sweep_ops,
    .default_stepper = "rkf45", .default_abs_tol = 1e-6, .default_rel_tol = 1e-6,
};
