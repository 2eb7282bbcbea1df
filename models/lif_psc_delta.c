/* lif_psc_delta: leaky integrate-and-fire neuron with delta synapses (NEST
 * iaf_psc_delta; the neuron of Brunel 2000, J Comput Neurosci 8:183).
 *
 *   tau_m dV/dt = (E_L - V) + tau_m (I_e + I_dev) / C_m
 *
 * An input of weight w (mV) is a jump V += w at its arrival time; a jump
 * from below V_th to at or above it fires the neuron at that instant (the
 * engine's contract for `receive`). Inputs that arrive while the neuron is
 * refractory are dropped, as in NEST (refractory_input = false) and in
 * Brunel's model, where V is held at V_r for tau_rp. Both receptors add
 * the signed weight: "inh" exists so that network files read as for the
 * other current-based models; an inhibitory weight is negative. */
#include <gsl/gsl_errno.h>
#include <math.h>
#include <stdio.h>

#include "apical/fastexp.h"
#include "apical/model.h"

enum { P_C_M, P_TAU_M, P_E_L, P_V_TH, P_V_RESET, P_T_REF, P_I_E, P__N };
enum { S_V, S__N };
enum { D_INV_TAU, D_R, D__N }; /* 1/tau_m; tau_m / C_m (mV per pA) */

/* NEST iaf_psc_delta's defaults */
static const apical_field param_fields[P__N] = {
    [P_C_M] = {"C_m", "pF", 250.0, 1e-3, 1e9, "membrane capacitance (scales currents only)"},
    [P_TAU_M] = {"tau_m", "ms", 10.0, 1e-3, 1e6, "membrane time constant"},
    [P_E_L] = {"E_L", "mV", -70.0, -200.0, 200.0, "resting potential"},
    [P_V_TH] = {"V_th", "mV", -55.0, -200.0, 200.0, "spike threshold"},
    [P_V_RESET] = {"V_reset", "mV", -70.0, -200.0, 200.0, "reset potential"},
    [P_T_REF] = {"t_ref", "ms", 2.0, 0.0, 1e6, "refractory period (V held, inputs dropped)"},
    [P_I_E] = {"I_e", "pA", 0.0, -1e9, 1e9, "constant injected current"},
};

static const apical_field state_fields[S__N] = {
    [S_V] = {"V_m", "mV", -70.0, -HUGE_VAL, HUGE_VAL, "membrane potential"},
};

static const char *const receptors[] = {"exc", "inh"};

static void derive(const double *p, double *d)
{
    d[D_INV_TAU] = 1.0 / p[P_TAU_M];
    d[D_R] = p[P_TAU_M] / p[P_C_M];
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
    f[S_V] = c->refractory ? 0.0
             : (p[P_E_L] - y[S_V]) * d[D_INV_TAU] +
                   (p[P_I_E] + apical_ctx_current(c, t)) * d[D_R] * d[D_INV_TAU];
    return isfinite(f[S_V]) ? GSL_SUCCESS : GSL_EBADFUNC;
}

static int jacobian(double t, const double y[], double *J, double dfdt[], void *params)
{
    (void)y;
    const apical_model_ctx *c = params;
    const double *d = c->derived;
    J[0] = c->refractory ? 0.0 : -d[D_INV_TAU];
    dfdt[0] = c->refractory ? 0.0 : apical_ctx_current_dt(c, t) * d[D_R] * d[D_INV_TAU];
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
    (void)receptor;
    if (!c->refractory)
        y[S_V] += w;
}

/* Without input V relaxes monotonically towards V_inf = E_L + R (I_e +
 * I_dev); with imax bounding the device current, the slope on [V, V_th] is
 * at most (vmax - V)/tau_m, vmax = E_L + R (I_e + imax), so threshold is
 * at least tau_m (V_th - V)/(vmax - V) away, and never reached when vmax
 * < V_th (Brunel's neurons: E_L = 0 below theta, so a silent neuron is
 * never stepped). Branch-free (selects only), so that the batched form
 * vectorises and gives the same bits as the scalar hook. */
static inline double horizon_core(double v, double vmax, double th, double tau)
{
    const double q = tau * (th - v) / (vmax - v);
    const double h = vmax < th ? HUGE_VAL : q;
    return v >= th ? 0.0 : h;
}

static double quiet_horizon(const double y[], const apical_model_ctx *c)
{
    const double *p = c->param, *d = c->derived;
    const double vmax = p[P_E_L] + (p[P_I_E] + apical_ctx_current_max(c)) * d[D_R];
    return horizon_core(y[S_V], vmax, p[P_V_TH], p[P_TAU_M]);
}

/* --- stepper "sweep": the exact propagator -----------------------------
 *
 * Linear with a constant coefficient: V(h) = V_inf + (V - V_inf) e^(-h/tau)
 * is exact for any h (only rounding and the fast exp's 2 ulp), so there is
 * no step bound and windows are never split. The relaxation is monotone,
 * so a step from below threshold crosses it inside iff it ends at or above
 * it: the crossing flag is exact (no Hermite bound needed). Device currents
 * onto sweep populations are refused at load, so V_inf is a constant of
 * the population. */
enum { K_H, K_EM, K_VINF, K_GC, K_TH, K_XLO, K_XHI, K__N };

static void step_consts(double h, const apical_model_ctx *c, double k[])
{
    const double *p = c->param, *d = c->derived;
    k[K_H] = h;
    k[K_EM] = apical_fexp(-h * d[D_INV_TAU]);
    k[K_VINF] = p[P_E_L] + p[P_I_E] * d[D_R];
    k[K_GC] = d[D_INV_TAU];
    k[K_TH] = p[P_V_TH];
    k[K_XLO] = APICAL_FEXP_LO; /* the exp's clamp, from memory: see fastexp.h */
    k[K_XHI] = APICAL_FEXP_HI;
}

static double sweep_max_step(const apical_model_ctx *c)
{
    (void)c;
    return HUGE_VAL; /* exact for any step */
}

static void sweep_constants(double h, const apical_model_ctx *c, double k[])
{
    step_consts(h, c, k);
}

/* restrict parameters and a local copy of k: see lif_cond_exp.c */
__attribute__((always_inline)) static inline void
window_loop(size_t n, const double *restrict v0, double *restrict v1, const double *restrict ru,
            double T0, double T1, const double *restrict k, double *restrict cd)
{
    double kk[K__N];
    for (int q = 0; q < K__N; q++)
        kk[q] = k[q];
    const double em = kk[K_EM], vinf = kk[K_VINF], th = kk[K_TH];
    for (size_t i = 0; i < n; i++) {
        const double v = v0[i], r = ru[i];
        const double vn = vinf + (v - vinf) * em;
        double cn = r >= T1 ? -1.0 : vn - th;
        cn = (r > T0) & (r < T1) ? 1.0 : cn;
        cd[i] = vn - vn == 0.0 ? cn : 1.0; /* not finite: redo (and report) */
        v1[i] = r >= T1 ? v : vn;
    }
}

/* The window kernel (apical_sweep_ops.window). The population is lazy
 * (horizon_n below), so the engine steps it with advance_n; the kernel
 * exists for the contract (never NULL) and the kernel-vs-scalar test. */
__attribute__((target_clones("avx512f", "avx2", "default")))
static void sweep_window(size_t n, const double *const y[], double *const yn[],
                         const double *ref_until, double T0, double T1, const double k[],
                         const apical_model_ctx *c, double *cand)
{
    (void)c;
    window_loop(n, y[S_V], yn[S_V], ref_until, T0, T1, k, cand);
}

/* The batched step: the same operations as step_consts + sweep_advance per
 * lane, so the same bits. One exp per lane and input: with delta synapses
 * every input is a stop, so this is the whole cost of integration in a
 * Brunel network (~60 k inputs per neuron per second). */
__attribute__((always_inline)) static inline void
batch_loop(size_t n, const double *restrict v0, double *restrict v1, const double *restrict dt,
           const double *restrict held, const double *restrict k, double *restrict cd)
{
    double kk[K__N]; /* a local copy: with k itself the loop stays scalar */
    for (int q = 0; q < K__N; q++)
        kk[q] = k[q];
    const double gc = kk[K_GC], vinf = kk[K_VINF], th = kk[K_TH];
    const double xlo = kk[K_XLO], xhi = kk[K_XHI];
    for (size_t i = 0; i < n; i++) {
        const double v = v0[i], h = dt[i], hl = held[i];
        const double em = apical_fexp_clamped(-h * gc, xlo, xhi);
        const double vn = vinf + (v - vinf) * em;
        const double cn = hl > 0.0 ? -1.0 : vn - th; /* not while held */
        cd[i] = vn - vn == 0.0 ? cn : 1.0;
        v1[i] = hl > 0.0 ? v : vn;
    }
}

__attribute__((target_clones("avx512f", "avx2", "default")))
static void sweep_advance_n(size_t n, const double *const y[], double *const yn[],
                            const double *dt, const double *held, const apical_model_ctx *c,
                            const double k[], double *cand)
{
    (void)c;
    batch_loop(n, y[S_V], yn[S_V], dt, held, k, cand);
}

__attribute__((always_inline)) static inline void
horizon_loop(size_t n, const double *restrict v0, double vmax, double th, double tau,
             double *restrict out)
{
    for (size_t i = 0; i < n; i++)
        out[i] = horizon_core(v0[i], vmax, th, tau);
}

/* apical_sweep_ops.horizon_n: quiet_horizon over n lanes, the same bits */
__attribute__((target_clones("avx512f", "avx2", "default")))
static void sweep_horizon_n(size_t n, const double *const y[], const apical_model_ctx *c,
                            double *out)
{
    const double *p = c->param, *d = c->derived;
    const double vmax = p[P_E_L] + (p[P_I_E] + apical_ctx_current_max(c)) * d[D_R];
    horizon_loop(n, y[S_V], vmax, p[P_V_TH], p[P_TAU_M], out);
}

static void sweep_advance(double y[], double dt, int refractory, const apical_model_ctx *c,
                          double slope[2])
{
    double k[K__N];
    step_consts(dt, c, k);
    const double v = y[S_V], vinf = k[K_VINF];
    const double vn = vinf + (v - vinf) * k[K_EM];
    slope[0] = refractory ? 0.0 : (vinf - v) * k[K_GC];
    slope[1] = refractory ? 0.0 : (vinf - vn) * k[K_GC];
    if (!refractory)
        y[S_V] = vn;
}

static const apical_sweep_ops sweep_ops = {
    .n_const = K__N,
    .max_step = sweep_max_step,
    .constants = sweep_constants,
    .window = sweep_window,
    .advance = sweep_advance,
    .advance_n = sweep_advance_n,
    .horizon_n = sweep_horizon_n,
    .method = "exact propagator (NEST iaf_psc_delta)",
};

const apical_model_type apical_lif_psc_delta = {
    .name = "lif_psc_delta",
    .doc = "Leaky integrate-and-fire, delta synapses: an input is a jump in V (mV), "
           "a jump across threshold fires at once, inputs during refractoriness are "
           "dropped (NEST iaf_psc_delta; Brunel 2000).",
    .n_params = P__N, .params = param_fields,
    .n_state = S__N, .state = state_fields,
    .n_receptors = 2, .receptors = receptors, .weight_unit = "mV",
    .n_derived = D__N, .derive = derive, .check = check,
    .derivs = derivs, .jacobian = jacobian,
    .spike_distance = spike_distance, .reset = reset,
    .refractory_period = refractory_period, .receive = receive,
    .quiet_horizon = quiet_horizon,
    .sweep = &sweep_ops,
    .default_stepper = "rkf45", .default_abs_tol = 1e-6, .default_rel_tol = 1e-6,
};
