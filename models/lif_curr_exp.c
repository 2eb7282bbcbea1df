/* lif_curr_exp: leaky integrate-and-fire neuron with exponentially decaying
 * synaptic currents (Brette et al. 2007, benchmark 2; NEST iaf_psc_exp).
 *
 *   C_m dV/dt = g_L (E_L - V) + I_exc + I_inh + I_e
 *   dI_exc/dt = -I_exc / tau_exc,   dI_inh/dt = -I_inh / tau_inh
 *
 * Weights are currents (pA); inhibitory weights are negative. */
#include <gsl/gsl_errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "apical/fastexp.h"
#include "apical/model.h"

enum { P_C_M, P_G_L, P_E_L, P_V_TH, P_V_RESET, P_T_REF, P_TAU_EXC, P_TAU_INH,
       P_I_E, P__N };
enum { S_V, S_I_EXC, S_I_INH, S__N };
enum { D_INV_C, D_INV_TAU_EXC, D_INV_TAU_INH, D__N };

static const apical_field param_fields[P__N] = {
    [P_C_M] = {"C_m", "pF", 200.0, 1e-3, 1e9, "membrane capacitance"},
    [P_G_L] = {"g_L", "nS", 10.0, 1e-6, 1e9, "leak conductance"},
    [P_E_L] = {"E_L", "mV", -60.0, -200.0, 200.0, "leak reversal potential"},
    [P_V_TH] = {"V_th", "mV", -50.0, -200.0, 200.0, "spike threshold"},
    [P_V_RESET] = {"V_reset", "mV", -60.0, -200.0, 200.0, "reset potential"},
    [P_T_REF] = {"t_ref", "ms", 5.0, 0.0, 1e6, "refractory period"},
    [P_TAU_EXC] = {"tau_exc", "ms", 5.0, 1e-3, 1e6, "excitatory current decay"},
    [P_TAU_INH] = {"tau_inh", "ms", 10.0, 1e-3, 1e6, "inhibitory current decay"},
    [P_I_E] = {"I_e", "pA", 0.0, -1e9, 1e9, "constant injected current"},
};

static const apical_field state_fields[S__N] = {
    [S_V] = {"V_m", "mV", -60.0, -HUGE_VAL, HUGE_VAL, "membrane potential"},
    [S_I_EXC] = {"I_exc", "pA", 0.0, -HUGE_VAL, HUGE_VAL, "excitatory synaptic current"},
    [S_I_INH] = {"I_inh", "pA", 0.0, -HUGE_VAL, HUGE_VAL, "inhibitory synaptic current"},
};

static const char *const receptors[] = {"exc", "inh"};

static void derive(const double *p, double *d)
{
    d[D_INV_C] = 1.0 / p[P_C_M];
    d[D_INV_TAU_EXC] = 1.0 / p[P_TAU_EXC];
    d[D_INV_TAU_INH] = 1.0 / p[P_TAU_INH];
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
             : (p[P_G_L] * (p[P_E_L] - y[S_V]) + y[S_I_EXC] + y[S_I_INH] + p[P_I_E] +
                apical_ctx_current(c, t)) * d[D_INV_C];
    f[S_I_EXC] = -y[S_I_EXC] * d[D_INV_TAU_EXC];
    f[S_I_INH] = -y[S_I_INH] * d[D_INV_TAU_INH];
    return isfinite(f[S_V]) ? GSL_SUCCESS : GSL_EBADFUNC;
}

static int jacobian(double t, const double y[], double *J, double dfdt[], void *params)
{
    (void)y;
    const apical_model_ctx *c = params;
    const double *d = c->derived;
    for (int i = 0; i < 9; i++)
        J[i] = 0.0;
    if (!c->refractory) {
        J[0] = -c->param[P_G_L] * d[D_INV_C];
        J[1] = J[2] = d[D_INV_C];
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
    y[S_I_EXC + receptor] += w;
}

/* c ? a : b by bit masks, for the batched loops. With a conditional
 * expression gcc computes a value only where it is selected (the Taylor
 * series of phi, the horizon's division), which is control flow with a
 * floating-point operation that may trap: without AVX-512's masked
 * operations (the avx2 and default clones) it then leaves the whole loop
 * scalar (3x the kernel's instructions under AVX2). Masks make it compute
 * both and pick bits: the same result, and the loop vectorises. */
static inline double pick(int c, double a, double b)
{
    uint64_t ua, ub;
    memcpy(&ua, &a, sizeof ua);
    memcpy(&ub, &b, sizeof ub);
    const uint64_t m = -(uint64_t)(c != 0);
    const uint64_t u = (ua & m) | (ub & ~m);
    double r;
    memcpy(&r, &u, sizeof r);
    return r;
}

/* Synaptic currents only decay, so each contributes at most its current
 * depolarising part; with V in [V0, V_th] the leak contributes at most
 * g_L (E_L - V0). imax: an upper bound of the device current. Branch-free
 * (selects only, pick), so that the batched form (sweep_horizon_n) vectorises
 * and gives the same bits as the scalar hook. */
static inline double horizon_core(double v, double ie, double ii, double gl, double el, double ie0,
                                  double imax, double th, double cm)
{
    const double slope = gl * (el - v) + ie0 + imax + (ie > 0.0 ? ie : 0.0) +
                         (ii > 0.0 ? ii : 0.0);
    const double q = (th - v) * cm / slope;
    const double h = pick(slope <= 0.0, HUGE_VAL, q);
    return pick(v >= th, 0.0, h);
}

static double quiet_horizon(const double y[], const apical_model_ctx *c)
{
    const double *p = c->param;
    return horizon_core(y[S_V], y[S_I_EXC], y[S_I_INH], p[P_G_L], p[P_E_L], p[P_I_E],
                        apical_ctx_current_max(c), p[P_V_TH], p[P_C_M]);
}

/* --- stepper "sweep": the exact propagator (NEST iaf_psc_exp) ----------
 *
 * The model is linear with constant coefficients, so a step of any length h
 * is exact: with u = V - V_inf, V_inf = E_L + I_e/g_L, tau_m = C_m/g_L,
 *   u(h)   = u e^(-h/tau_m) + I_exc P_exc + I_inh P_inh,
 *   I_s(h) = I_s e^(-h/tau_s),
 *   P_s    = (e^(-h/tau_s) - e^(-h/tau_m)) / (C_m (1/tau_m - 1/tau_s))
 *          = e^(-h/tau_m) h phi(h (1/tau_m - 1/tau_s)) / C_m,
 * phi(z) = (e^z - 1)/z, by its Taylor series where |z| < 0.1 (the first
 * form cancels when tau_s is close to tau_m, and divides by zero when they
 * are equal). No integration error: only rounding (and the exp's 2 ulp),
 * so there is no step bound and windows are never split. */
enum { K_H, K_EM, K_EE, K_EI, K_PE, K_PI, K_VINF, K_GC, K_IC, K_TH, K_HB, K_ITE, K_ITI,
       K_XLO, K_XHI, K_ZMAX, K__N };

/* prop() below uses the Taylor series of phi for |z| < Z_TAYLOR */
#define Z_TAYLOR 0.1

static inline double maxd(double a, double b)
{
    return a > b ? a : b;
}


/* P_s for tau_s; em = e^(-h/tau_m), es = e^(-h/tau_s) */
static inline double prop(double h, double em, double es, double inv_tm, double inv_ts,
                          double inv_c)
{
    const double c = inv_tm - inv_ts, z = h * c;
    if (z > -Z_TAYLOR && z < Z_TAYLOR)
        return em * h * apical_phi_taylor(z) * inv_c;
    return (es - em) / c * inv_c;
}

/* Constants of a step of length h; shared by the kernel and the scalar
 * step so that both give the same bits for the same step. */
static void step_consts(double h, const apical_model_ctx *c, double k[])
{
    const double *p = c->param, *d = c->derived;
    const double inv_tm = p[P_G_L] * d[D_INV_C];
    k[K_H] = h;
    k[K_EM] = apical_fexp(-h * inv_tm);
    k[K_EE] = apical_fexp(-h * d[D_INV_TAU_EXC]);
    k[K_EI] = apical_fexp(-h * d[D_INV_TAU_INH]);
    k[K_PE] = prop(h, k[K_EM], k[K_EE], inv_tm, d[D_INV_TAU_EXC], d[D_INV_C]);
    k[K_PI] = prop(h, k[K_EM], k[K_EI], inv_tm, d[D_INV_TAU_INH], d[D_INV_C]);
    k[K_VINF] = p[P_E_L] + p[P_I_E] / p[P_G_L];
    k[K_GC] = inv_tm;
    k[K_IC] = d[D_INV_C];
    k[K_TH] = p[P_V_TH];
    k[K_HB] = h * (4.0 / 27.0);
    k[K_ITE] = d[D_INV_TAU_EXC];
    k[K_ITI] = d[D_INV_TAU_INH];
    k[K_XLO] = APICAL_FEXP_LO; /* the exp's clamp, from memory: see fastexp.h */
    k[K_XHI] = APICAL_FEXP_HI;
    k[K_ZMAX] = Z_TAYLOR;
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

/* The batched step (apical_sweep_ops.advance_n): the same operations as
 * step_consts + sweep_advance per lane, so the same bits: both forms of
 * the propagator are computed and prop()'s choice selects one (phi's
 * Taylor series where |z| < Z_TAYLOR, else (e_s - e_m)/c; the division's
 * lane is discarded when c = 0). Exact for any dt, so the lazy sweep's
 * long steps over quiet stretches are one step. Branch-free, so it
 * vectorises. */
__attribute__((always_inline)) static inline void
batch_loop(size_t n, const double *restrict v0, const double *restrict e0,
           const double *restrict i0, double *restrict v1, double *restrict e1,
           double *restrict i1, const double *restrict dt, const double *restrict held,
           const double *restrict k, double *restrict cd)
{
    double kk[K__N]; /* a local copy: with k itself the loop stays scalar */
    for (int q = 0; q < K__N; q++)
        kk[q] = k[q];
    const double gc = kk[K_GC], ic = kk[K_IC], ite = kk[K_ITE], iti = kk[K_ITI];
    const double vinf = kk[K_VINF], th = kk[K_TH], xlo = kk[K_XLO], xhi = kk[K_XHI];
    const double zmax = kk[K_ZMAX], ce = gc - ite, ci = gc - iti;
    for (size_t i = 0; i < n; i++) {
        const double v = v0[i], ie = e0[i], ii = i0[i], h = dt[i], hl = held[i];
        const double em = apical_fexp_clamped(-h * gc, xlo, xhi);
        const double ee = apical_fexp_clamped(-h * ite, xlo, xhi);
        const double ei = apical_fexp_clamped(-h * iti, xlo, xhi);
        const double ze = h * ce, zi = h * ci;
        const double pe_t = em * h * apical_phi_taylor(ze) * ic;
        const double pi_t = em * h * apical_phi_taylor(zi) * ic;
        const double pe_x = (ee - em) / ce * ic, pi_x = (ei - em) / ci * ic;
        const double pe = pick((ze > -zmax) & (ze < zmax), pe_t, pe_x);
        const double pi = pick((zi > -zmax) & (zi < zmax), pi_t, pi_x);
        const double u = v - vinf;
        const double vn = vinf + (u * em + ie * pe + ii * pi);
        const double ien = ie * ee, iin = ii * ei;
        const double f0 = (ie + ii) * ic - gc * u, f1 = (ien + iin) * ic - gc * (vn - vinf);
        const double bound = maxd(v, vn) + h * (4.0 / 27.0) * (maxd(f0, 0.0) + maxd(-f1, 0.0)) - th;
        /* crossing candidates, not while held */
        const double cn = pick(hl > 0.0, -1.0, bound);
        cd[i] = pick(vn - vn == 0.0, cn, 1.0); /* not finite: redo (and report) */
        v1[i] = hl > 0.0 ? v : vn;
        e1[i] = ien;
        i1[i] = iin;
    }
}

__attribute__((target_clones("avx512f", "avx2", "default")))
static void sweep_advance_n(size_t n, const double *const y[], double *const yn[],
                            const double *dt, const double *held, const apical_model_ctx *c,
                            const double k[], double *cand)
{
    (void)c;
    batch_loop(n, y[S_V], y[S_I_EXC], y[S_I_INH], yn[S_V], yn[S_I_EXC], yn[S_I_INH], dt, held, k,
               cand);
}

__attribute__((always_inline)) static inline void
horizon_loop(size_t n, const double *restrict v0, const double *restrict e0,
             const double *restrict i0, const double *restrict pk, double imax,
             double *restrict out)
{
    const double gl = pk[0], el = pk[1], ie0 = pk[2], th = pk[3], cm = pk[4];
    for (size_t i = 0; i < n; i++)
        out[i] = horizon_core(v0[i], e0[i], i0[i], gl, el, ie0, imax, th, cm);
}

/* apical_sweep_ops.horizon_n: quiet_horizon over n lanes, the same bits */
__attribute__((target_clones("avx512f", "avx2", "default")))
static void sweep_horizon_n(size_t n, const double *const y[], const apical_model_ctx *c,
                            double *out)
{
    const double *p = c->param;
    const double pk[5] = {p[P_G_L], p[P_E_L], p[P_I_E], p[P_V_TH], p[P_C_M]};
    horizon_loop(n, y[S_V], y[S_I_EXC], y[S_I_INH], pk, apical_ctx_current_max(c), out);
}

static void sweep_advance(double y[], double dt, int refractory, const apical_model_ctx *c,
                          double slope[2])
{
    double k[K__N];
    step_consts(dt, c, k);
    const double v = y[S_V], ie = y[S_I_EXC], ii = y[S_I_INH], vinf = k[K_VINF];
    const double u = v - vinf;
    const double vn = vinf + (u * k[K_EM] + ie * k[K_PE] + ii * k[K_PI]);
    const double ien = ie * k[K_EE], iin = ii * k[K_EI];
    slope[0] = refractory ? 0.0 : (ie + ii) * k[K_IC] - k[K_GC] * u;
    slope[1] = refractory ? 0.0 : (ien + iin) * k[K_IC] - k[K_GC] * (vn - vinf);
    if (!refractory)
        y[S_V] = vn;
    y[S_I_EXC] = ien;
    y[S_I_INH] = iin;
}

/* receive() as data: receptor r adds to state S_I_EXC + r */
static const size_t receive_targets[] = {S_I_EXC, S_I_INH};

static const apical_sweep_ops sweep_ops = {
    .n_const = K__N,
    .max_step = sweep_max_step,
    .constants = sweep_constants,
    .advance = sweep_advance,
    .advance_n = sweep_advance_n,
    .horizon_n = sweep_horizon_n,
    .receive_keeps_distance = 1, /* receive adds to a synaptic variable, not V */
    .receive_adds_to = receive_targets,
    .method = "exact propagator (NEST iaf_psc_exp)",
};

const apical_model_type apical_lif_curr_exp = {
    .name = "lif_curr_exp",
    .doc = "Leaky integrate-and-fire, exponential current synapses "
           "(Brette et al. 2007 CUBA; NEST iaf_psc_exp).",
    .n_params = P__N, .params = param_fields,
    .n_state = S__N, .state = state_fields,
    .n_receptors = 2, .receptors = receptors, .weight_unit = "pA",
    .n_derived = D__N, .derive = derive, .check = check,
    .derivs = derivs, .jacobian = jacobian,
    .spike_distance = spike_distance, .reset = reset,
    .refractory_period = refractory_period, .receive = receive,
    .quiet_horizon = quiet_horizon,
    .sweep = &sweep_ops,
    .default_stepper = "rkf45", .default_abs_tol = 1e-6, .default_rel_tol = 1e-6,
};
