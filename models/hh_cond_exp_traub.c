/* hh_cond_exp_traub: Hodgkin-Huxley neuron with Traub & Miles (1991)
 * sodium and delayed-rectifier potassium kinetics as in Brette et al. 2007,
 * benchmark 3 (COBAHH; Brian2's examples/COBAHH.py, NEST hh_cond_exp_traub),
 * with exponentially decaying synaptic conductances.
 *
 *   C_m dV/dt = g_L (E_L - V) - g_Na m^3 h (V - E_Na) - g_K n^4 (V - E_K)
 *               + g_exc (E_exc - V) + g_inh (E_inh - V) + I_e + I_dev(t)
 *   dx/dt = alpha_x(u) (1 - x) - beta_x(u) x,   x in {m, h, n},  u = V - V_T
 *
 *   alpha_m = 0.32 (13 - u) / (exp((13 - u)/4) - 1)
 *   beta_m  = 0.28 (u - 40) / (exp((u - 40)/5) - 1)
 *   alpha_h = 0.128 exp((17 - u)/18)
 *   beta_h  = 4 / (1 + exp((40 - u)/5))
 *   alpha_n = 0.032 (15 - u) / (exp((15 - u)/5) - 1)
 *   beta_n  = 0.5 exp((10 - u)/40)            (1/ms, u in mV)
 *
 * A spike is the upward crossing of V_th (-20 mV). Nothing is reset and V is
 * not clamped: the refractory period only stops the same action potential
 * from being detected twice, as in Brian's COBAHH (refractory = 3 ms without
 * "unless refractory"). Conductances are absolute (nS, pF) as in NEST; the
 * benchmark's area-specific values times its 20000 um^2 area give the
 * defaults. */
#include <gsl/gsl_errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "apical/fastexp.h"
#include "apical/model.h"

enum { P_C_M, P_G_L, P_G_NA, P_G_K, P_E_L, P_E_NA, P_E_K, P_V_T, P_V_TH, P_T_REF, P_E_EXC,
       P_E_INH, P_TAU_EXC, P_TAU_INH, P_I_E, P__N };
enum { S_V, S_M, S_H, S_N, S_G_EXC, S_G_INH, S__N };
/* Ceilings for quiet_horizon (mV); m_inf at each is a derived constant. */
static const double ceilings[] = {-75.0, -70.0, -67.0, -64.0, -61.0, -58.0, -55.0,
                                  -52.0, -49.0, -45.0, -40.0, -30.0, -20.0};
enum { N_CEIL = sizeof ceilings / sizeof ceilings[0] };
enum { D_INV_C, D_INV_TAU_EXC, D_INV_TAU_INH, D_M_INF, D__N = D_M_INF + N_CEIL };

static const apical_field param_fields[P__N] = {
    [P_C_M] = {"C_m", "pF", 200.0, 1e-3, 1e9, "membrane capacitance (1 uF/cm^2 x 20000 um^2)"},
    [P_G_L] = {"g_L", "nS", 10.0, 0.0, 1e9, "leak conductance (0.05 mS/cm^2)"},
    [P_G_NA] = {"g_Na", "nS", 20000.0, 0.0, 1e9, "peak sodium conductance (100 mS/cm^2)"},
    [P_G_K] = {"g_K", "nS", 6000.0, 0.0, 1e9, "peak potassium conductance (30 mS/cm^2)"},
    [P_E_L] = {"E_L", "mV", -60.0, -200.0, 200.0, "leak reversal potential"},
    [P_E_NA] = {"E_Na", "mV", 50.0, -200.0, 200.0, "sodium reversal potential"},
    [P_E_K] = {"E_K", "mV", -90.0, -200.0, 200.0, "potassium reversal potential"},
    [P_V_T] = {"V_T", "mV", -63.0, -200.0, 200.0, "offset of the rate functions"},
    [P_V_TH] = {"V_th", "mV", -20.0, -200.0, 200.0, "spike detection threshold (upward)"},
    [P_T_REF] = {"t_ref", "ms", 3.0, 0.0, 1e6, "no second detection for this long"},
    [P_E_EXC] = {"E_exc", "mV", 0.0, -200.0, 200.0, "excitatory reversal potential"},
    [P_E_INH] = {"E_inh", "mV", -80.0, -200.0, 200.0, "inhibitory reversal potential"},
    [P_TAU_EXC] = {"tau_exc", "ms", 5.0, 1e-3, 1e6, "excitatory conductance decay"},
    [P_TAU_INH] = {"tau_inh", "ms", 10.0, 1e-3, 1e6, "inhibitory conductance decay"},
    [P_I_E] = {"I_e", "pA", 0.0, -1e9, 1e9, "constant injected current"},
};

/* Default gating values: the steady state at -60 mV for the default V_T. */
static const apical_field state_fields[S__N] = {
    [S_V] = {"V_m", "mV", -60.0, -HUGE_VAL, HUGE_VAL, "membrane potential"},
    [S_M] = {"m", "1", 0.026863329798445447, -HUGE_VAL, HUGE_VAL, "sodium activation"},
    [S_H] = {"h", "1", 0.9913058218943975, -HUGE_VAL, HUGE_VAL, "sodium inactivation"},
    [S_N] = {"n", "1", 0.06043403467863595, -HUGE_VAL, HUGE_VAL, "potassium activation"},
    [S_G_EXC] = {"g_exc", "nS", 0.0, -HUGE_VAL, HUGE_VAL, "excitatory conductance"},
    [S_G_INH] = {"g_inh", "nS", 0.0, -HUGE_VAL, HUGE_VAL, "inhibitory conductance"},
};

static const char *const receptors[] = {"exc", "inh"};

static void rates(double u, double r[6], double *dr);

static void derive(const double *p, double *d)
{
    d[D_INV_C] = 1.0 / p[P_C_M];
    d[D_INV_TAU_EXC] = 1.0 / p[P_TAU_EXC];
    d[D_INV_TAU_INH] = 1.0 / p[P_TAU_INH];
    for (int k = 0; k < N_CEIL; k++) {
        double r[6];
        rates(ceilings[k] - p[P_V_T], r, NULL);
        d[D_M_INF + k] = r[0] / (r[0] + r[1]);
    }
}

/* x / (e^z - 1) with z = x/k, and its derivative in x, given E = e^z. At
 * z = 0 this is 0/0 with limit k; for |z| < 1e-3 the series
 * k (1 - z/2 + z^2/12) is used (truncation below 2e-16 relative), elsewhere
 * the quotient, whose cancellation error is below 1e-13/|z|. The derivative
 * is (E - 1 - z E)/(E - 1)^2, written in 1/E for E > 1 so that a huge E gives
 * 0 rather than inf/inf. */
static inline void vtrap(double x, double k, double E, double *f, double *df)
{
    const double z = x * (1.0 / k); /* k is 4 or 5: a constant after inlining */
    if (fabs(z) < 1e-3) {
        *f = k * (1.0 - 0.5 * z + z * z / 12.0);
        if (df)
            *df = -0.5 + z / 6.0;
        return;
    }
    *f = x / (E - 1.0);
    if (df) {
        if (E > 1.0) {
            const double iE = 1.0 / E, omi = 1.0 - iE;
            *df = iE * (omi - z) / (omi * omi);
        } else {
            const double em1 = E - 1.0;
            *df = (em1 - z * E) / (em1 * em1);
        }
    }
}

/* The six rate functions of u = V - V_T (1/ms), and their derivatives in V
 * when dr != NULL. Order: alpha_m, beta_m, alpha_h, beta_h, alpha_n, beta_n.
 * Their exponentials e^(-u/4), e^(-u/5), e^(-u/18), e^(-u/40) are all powers
 * of q = e^(-u/360) (90, 72, 20 and 9), so one exp() serves the six rates:
 * derivs runs in the hot loop and exp() dominated its cost. The powers carry
 * at most ~100 ulp of relative error (1e-14). */
static inline void rates(double u, double r[6], double *dr)
{
    const double q = exp(u * (-1.0 / 360.0));
    const double q2 = q * q, q4 = q2 * q2, q8 = q4 * q4, q9 = q8 * q, q18 = q9 * q9;
    const double q20 = q18 * q2, q36 = q18 * q18, q72 = q36 * q36, q90 = q72 * q18;
    double f, df;
    /* alpha_m: x = 13 - u, e^(x/4) = e^(13/4) e^(-u/4) */
    vtrap(13.0 - u, 4.0, 25.790339917193062 * q90, &f, dr ? &df : NULL);
    r[0] = 0.32 * f;
    if (dr)
        dr[0] = -0.32 * df;
    /* beta_m: x = u - 40, e^(x/5) = e^(-8) / e^(-u/5) */
    vtrap(u - 40.0, 5.0, 3.3546262790251185e-4 / q72, &f, dr ? &df : NULL);
    r[1] = 0.28 * f;
    if (dr)
        dr[1] = 0.28 * df;
    /* alpha_h = 0.128 e^(17/18) e^(-u/18) */
    r[2] = 0.128 * 2.5713844347880297 * q20;
    /* beta_h = 4 / (1 + e^8 e^(-u/5)) */
    const double eh = 2980.9579870417283 * q72;
    r[3] = 4.0 / (1.0 + eh);
    /* alpha_n: x = 15 - u, e^(x/5) = e^3 e^(-u/5) */
    vtrap(15.0 - u, 5.0, 20.085536923187668 * q72, &f, dr ? &df : NULL);
    r[4] = 0.032 * f;
    /* beta_n = 0.5 e^(1/4) e^(-u/40) */
    r[5] = 0.5 * 1.2840254166877414 * q9;
    if (dr) {
        dr[2] = -r[2] / 18.0;
        dr[3] = isfinite(eh) ? 0.8 * eh / ((1.0 + eh) * (1.0 + eh)) : 0.0;
        dr[4] = -0.032 * df;
        dr[5] = -r[5] / 40.0;
    }
}

static int derivs(double t, const double y[], double f[], void *params)
{
    const apical_model_ctx *c = params;
    const double *p = c->param, *d = c->derived;
    const double v = y[S_V], m = y[S_M], h = y[S_H], n = y[S_N];
    const double ge = y[S_G_EXC], gi = y[S_G_INH];
    double r[6];
    rates(v - p[P_V_T], r, NULL);
    const double m3h = m * m * m * h, n2 = n * n, n4 = n2 * n2;
    f[S_V] = (p[P_G_L] * (p[P_E_L] - v) - p[P_G_NA] * m3h * (v - p[P_E_NA]) -
              p[P_G_K] * n4 * (v - p[P_E_K]) + ge * (p[P_E_EXC] - v) + gi * (p[P_E_INH] - v) +
              p[P_I_E] + apical_ctx_current(c, t)) * d[D_INV_C];
    f[S_M] = r[0] * (1.0 - m) - r[1] * m;
    f[S_H] = r[2] * (1.0 - h) - r[3] * h;
    f[S_N] = r[4] * (1.0 - n) - r[5] * n;
    f[S_G_EXC] = -ge * d[D_INV_TAU_EXC];
    f[S_G_INH] = -gi * d[D_INV_TAU_INH];
    for (int k = 0; k < S__N; k++)
        if (!isfinite(f[k]))
            return GSL_EBADFUNC;
    return GSL_SUCCESS;
}

static int jacobian(double t, const double y[], double *J, double dfdt[], void *params)
{
    const apical_model_ctx *c = params;
    const double *p = c->param, *d = c->derived;
    const double v = y[S_V], m = y[S_M], h = y[S_H], n = y[S_N];
    double r[6], dr[6];
    rates(v - p[P_V_T], r, dr);
    for (int i = 0; i < S__N * S__N; i++)
        J[i] = 0.0;
    for (int i = 0; i < S__N; i++)
        dfdt[i] = 0.0;
#define JJ(i, j) J[(i) * S__N + (j)]
    const double ic = d[D_INV_C], n3 = n * n * n;
    JJ(S_V, S_V) = -(p[P_G_L] + p[P_G_NA] * m * m * m * h + p[P_G_K] * n3 * n + y[S_G_EXC] +
                     y[S_G_INH]) * ic;
    JJ(S_V, S_M) = -3.0 * p[P_G_NA] * m * m * h * (v - p[P_E_NA]) * ic;
    JJ(S_V, S_H) = -p[P_G_NA] * m * m * m * (v - p[P_E_NA]) * ic;
    JJ(S_V, S_N) = -4.0 * p[P_G_K] * n3 * (v - p[P_E_K]) * ic;
    JJ(S_V, S_G_EXC) = (p[P_E_EXC] - v) * ic;
    JJ(S_V, S_G_INH) = (p[P_E_INH] - v) * ic;
    JJ(S_M, S_V) = dr[0] * (1.0 - m) - dr[1] * m;
    JJ(S_M, S_M) = -(r[0] + r[1]);
    JJ(S_H, S_V) = dr[2] * (1.0 - h) - dr[3] * h;
    JJ(S_H, S_H) = -(r[2] + r[3]);
    JJ(S_N, S_V) = dr[4] * (1.0 - n) - dr[5] * n;
    JJ(S_N, S_N) = -(r[4] + r[5]);
    JJ(S_G_EXC, S_G_EXC) = -d[D_INV_TAU_EXC];
    JJ(S_G_INH, S_G_INH) = -d[D_INV_TAU_INH];
#undef JJ
    if (c->i_sin_amp != 0.0)
        dfdt[S_V] = c->i_sin_amp * c->i_sin_omega * cos(c->i_sin_omega * t + c->i_sin_phase) * ic;
    return GSL_SUCCESS;
}

static double spike_distance(const double y[], const apical_model_ctx *c)
{
    return y[S_V] - c->param[P_V_TH];
}

/* An action potential needs no reset. The crossing is located to within
 * rounding, so V may sit a hair below V_th at the spike; it is put on V_th
 * (a change of ~1e-12 mV) so that the next step does not see a second
 * upward crossing of the same action potential when t_ref = 0. */
static void reset(double y[], const apical_model_ctx *c)
{
    if (y[S_V] < c->param[P_V_TH])
        y[S_V] = c->param[P_V_TH];
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

/* Without input no spike can come before the returned time. For a ceiling
 * V_b (V_0 < V_b <= min(V_th, E_exc, E_Na); a fixed list, so that m_inf(V_b)
 * is a derived constant) and as long as V <= V_b:
 * - alpha_m(u) rises and beta_m(u) falls with u, so
 *   dm/dt <= alpha_b (1 - m) - beta_b m and m <= M = max(m_0, m_inf(V_b), 0);
 * - h <= max(h_0, 1), n^4 in [0, 1] (the K current is outward above E_K and
 *   at most g_K (E_K - V) below it), g_exc(t) <= max(g_exc,0, 0) and
 *   likewise g_inh, the device current <= its bound;
 * so dV/dt <= G(V), a sum of terms each nonincreasing in V:
 *   C G(V) = g_L (E_L - V) + g_Na M^3 H (E_Na - V) + g_K (E_K - V)^+
 *            + g_e+ (E_exc - V) + g_i+ (E_inh - V)^+ + I_max,
 * and V(t) <= V_0 + G(V_0) t (the line is a supersolution while V >= V_0).
 * V stays below V_b for (V_b - V_0)/G(V_0); a spike needs V_th >= V_b.
 * The best ceiling is returned: near rest m_inf(V_b) is tiny and the bound
 * is the synaptic drive. */
static double quiet_horizon(const double y[], const apical_model_ctx *c)
{
    const double *p = c->param;
    const double v0 = y[S_V], m0 = y[S_M], h0 = y[S_H];
    const double top = fmin(p[P_V_TH], fmin(p[P_E_EXC], p[P_E_NA]));
    if (!(v0 < top) || !(m0 <= 1.0) || !isfinite(h0))
        return 0.0;
    const double ge = y[S_G_EXC] > 0.0 ? y[S_G_EXC] : 0.0;
    const double gi = y[S_G_INH] > 0.0 ? y[S_G_INH] : 0.0;
    const double H = h0 > 1.0 ? h0 : 1.0;
    const double i_max = p[P_I_E] + apical_ctx_current_max(c);
    /* G(V_0) without the sodium term, the same for every ceiling */
    const double below_k = p[P_E_K] > v0 ? p[P_E_K] - v0 : 0.0;
    const double below_i = p[P_E_INH] > v0 ? p[P_E_INH] - v0 : 0.0;
    const double base = p[P_G_L] * (p[P_E_L] - v0) + p[P_G_K] * below_k +
                        ge * (p[P_E_EXC] - v0) + gi * below_i + i_max;
    const double na = p[P_G_NA] * H * (p[P_E_NA] - v0);
    /* Every ceiling gives a valid bound; the first local best is taken
     * (m_inf rises steeply with V_b, so the room gained stops paying). */
    double best = 0.0;
    for (int k = 0; k < N_CEIL; k++) {
        const double vb = ceilings[k];
        if (vb <= v0)
            continue;
        if (vb > top)
            break;
        const double mi = c->derived[D_M_INF + k];
        const double M = m0 > mi ? (m0 > 0.0 ? m0 : 0.0) : mi;
        const double slope = (base + na * M * M * M) * c->derived[D_INV_C];
        if (!(slope > 0.0))
            return HUGE_VAL; /* V cannot rise above V_0 */
        /* a margin for the integrated V overshooting the exact one */
        const double T = (vb - v0) / slope * (1.0 - 1e-6);
        if (T <= best)
            break;
        best = T;
    }
    return best;
}

/* --- stepper "sweep": Cash-Karp 5(4) on (V, m, h, n), conductances exact
 *
 * HH is never quiescent, so every neuron is stepped every window: the
 * window kernel takes one explicit Runge-Kutta step of the window length h
 * for the whole population in struct-of-arrays form, vectorised across
 * neurons (target_clones; the rates' one exponential by apical_fexp, which
 * vectorises and gives the same bits in a lane as in scalar code). The
 * method is Cash & Karp's embedded 5(4) pair (ACM TOMS 16:201, 1990; six
 * right-hand sides per step), propagating the 5th-order solution (local
 * extrapolation). g_exc and g_inh decay exactly: at the stage times c_i h
 * they are g e^(-c_i h/tau), factors shared by the population for one h.
 * (Dormand-Prince 5(4) was measured too: seven right-hand sides, its last
 * one at the step's end; here the end slope dV/dt the crossing test needs
 * costs no rates, and the run executes 11% fewer instructions at about the
 * same spike-time error: 1.6e-4 against 9.7e-5 ms.)
 *
 * Error control, per neuron and per step: the embedded 4th-order solution's
 * difference from the 5th-order one, scaled per variable,
 *     err = max(|dV| / TOL_V, max(|dm|, |dh|, |dn|) / TOL_X),
 * must be <= 1. The kernel flags a neuron whose step fails it (as well as
 * a possible threshold crossing or refractoriness ending inside the
 * window); the engine redoes it (window_redo, vectorised across the
 * flagged neurons, or one by one by `advance`, with the same bits) with
 * adaptive sub-steps: the usual controller (next h = h times 0.9 err^(-1/5)
 * within [0.2, 5], here rounded down to one of a few factors so that it
 * needs no pow() and vectorises), a failed sub-step retried shorter.
 * Between action potentials one 0.1 ms step passes; an action potential
 * takes ~3 sub-steps per 0.1 ms. (TOL_V, TOL_X: docs/models/hh_cond_exp_traub.md
 * "Stepper sweep", measured against DOP853 1e-12: at 7.5e-3 mV / 7.5e-5
 * the largest spike-time error is 2.3e-4 ms, 4x under issue 10's 1e-3 ms,
 * and COBAHH takes 2.2% fewer instructions than at 5e-3 / 5e-5 (1.5e-4
 * ms); 1e-2 / 1e-4 gave 4.8e-4 ms, too little margin.) The slopes dV/dt at both ends of a
 * step (the first stage; the end state's, without rates) give the
 * crossing test's Hermite bound and the crossing's interpolant. */
#define TOL_V 7.5e-3 /* mV */
#define STR_(x) #x
#define STR(x) STR_(x)
#define TOL_X 7.5e-5
/* The longest step the kernels take, and the longest the engine's crossing
 * test trusts one step's Hermite interpolant of V over: V spends ~0.5 ms
 * above V_th in an action potential, so no spike fits inside 0.1 ms with
 * both ends of the step below threshold. Also m's time scale at rest
 * (1/(alpha_m + beta_m) ~ 0.09 ms). */
#define MAX_STEP 0.1 /* ms */
#define SUB_CAP 1048576.0 /* most sub-steps `advance` takes: beyond, V := NaN */

/* k[]: step constants (K_H, the decay factors of g_exc and g_inh at the
 * stage nodes 1/5, 3/10, 3/5, 7/8 and at the end), then population
 * constants. */
enum { K_H, K_DE, K_DI = K_DE + 5, K_STEP = K_DI + 5,
       K_GL = K_STEP, K_BL, K_GNA, K_ENA, K_GK, K_EK, K_EE, K_EI, K_IC, K_VT, K_TH, K_ITE,
       K_ITI, K_XLO, K_XHI, K_ITV, K_ITX, K_HMAX, K_BASE, K__N = K_BASE };
_Static_assert((int)K__N <= (int)APICAL_SWEEP_MAX_CONST, "hh: too many sweep constants");

static inline double maxd(double a, double b)
{
    return a > b ? a : b;
}

static inline double absd(double a)
{
    return a < 0.0 ? -a : a;
}

/* The step constants of length h (shared by every path, so a step gives
 * the same bits in each). The stage nodes are multiples of 1/40 (8, 12, 24,
 * 35; the end 40), so each conductance's five factors are powers of one
 * exponential (relative error ~1e-15): the batched step computes them per
 * lane. */
__attribute__((always_inline)) static inline double pw40(double b, double *o)
{
    const double b2 = b * b, b3 = b2 * b, b4 = b2 * b2, b8 = b4 * b4, b12 = b8 * b4;
    const double b24 = b12 * b12, b32 = b24 * b8;
    o[0] = b8;
    o[1] = b12;
    o[2] = b24;
    o[3] = b32 * b3;
    o[4] = b32 * b8;
    return o[4];
}

__attribute__((always_inline)) static inline void hh_step_h(double h, double ite, double iti,
                                                            double xlo, double xhi, double *s)
{
    s[K_H] = h;
    pw40(apical_fexp_clamped(-(h * (1.0 / 40.0)) * ite, xlo, xhi), s + K_DE);
    pw40(apical_fexp_clamped(-(h * (1.0 / 40.0)) * iti, xlo, xhi), s + K_DI);
}

static void hh_pop(const apical_model_ctx *c, double *k)
{
    const double *p = c->param, *d = c->derived;
    k[K_GL] = p[P_G_L];
    k[K_BL] = p[P_G_L] * p[P_E_L] + p[P_I_E];
    k[K_GNA] = p[P_G_NA];
    k[K_ENA] = p[P_E_NA];
    k[K_GK] = p[P_G_K];
    k[K_EK] = p[P_E_K];
    k[K_EE] = p[P_E_EXC];
    k[K_EI] = p[P_E_INH];
    k[K_IC] = d[D_INV_C];
    k[K_VT] = p[P_V_T];
    k[K_TH] = p[P_V_TH];
    k[K_ITE] = d[D_INV_TAU_EXC];
    k[K_ITI] = d[D_INV_TAU_INH];
    k[K_XLO] = APICAL_FEXP_LO;
    k[K_XHI] = APICAL_FEXP_HI;
    k[K_ITV] = 1.0 / TOL_V;
    k[K_ITX] = 1.0 / TOL_X;
    k[K_HMAX] = MAX_STEP * (1.0 + 1e-9);
}

/* dV/dt, dm/dt, dh/dt, dn/dt: derivs' equations (rates by one fast exp) */
__attribute__((always_inline)) static inline void hh_f(double v, double m, double h, double n,
                                                       double ge, double gi, const double *k,
                                                       double f[4])
{
    const double u = v - k[K_VT];
    const double q = apical_fexp_clamped(u * (-1.0 / 360.0), k[K_XLO], k[K_XHI]);
    const double q2 = q * q, q4 = q2 * q2, q8 = q4 * q4, q9 = q8 * q, q18 = q9 * q9;
    const double q20 = q18 * q2, q36 = q18 * q18, q72 = q36 * q36, q90 = q72 * q18;
    /* The four quotients share one division: r = 1 / (d1 d2 d3 d4), each
     * 1/di as r times the other three (a few ulp; vdivpd costs as much as
     * ~10 multiplies). The d's stay within ~1e-4 .. 1e13 for V in
     * -150 .. +100 mV; far beyond, the product overflows and the rates
     * turn NaN, which the step reports as a state that is not finite.
     * alpha_m: x / (e^(x/4) - 1), x = 13 - u (the series near x = 0, see
     * vtrap, blended in by a 0/1 weight rather than selected: what is used
     * on one side of a select only is sunk into a branch, which AVX2 cannot
     * if-convert (floating-point operations may trap), and the loop stays
     * scalar; the blend costs a rounding, ~1e-16 relative) */
    const double x1 = 13.0 - u, z1 = x1 * 0.25;
    const int sm1 = absd(z1) < 1e-3;
    const double w1 = sm1 ? 1.0 : 0.0, q1n = x1, q1d = 25.790339917193062 * q90 - 1.0;
    const double n1 = q1n + w1 * (4.0 * (1.0 - 0.5 * z1 + z1 * z1 * (1.0 / 12.0)) - q1n);
    const double d1 = q1d + w1 * (1.0 - q1d);
    /* beta_m: x / (e^(x/5) - 1), x = u - 40, e^(x/5) = e^-8 / q72: x q72 / (e^-8 - q72) */
    const double x2 = u - 40.0, z2 = x2 * 0.2;
    const int sm2 = absd(z2) < 1e-3;
    const double w2 = sm2 ? 1.0 : 0.0, q2n = x2 * q72, q2d = 3.3546262790251185e-4 - q72;
    const double n2 = q2n + w2 * (5.0 * (1.0 - 0.5 * z2 + z2 * z2 * (1.0 / 12.0)) - q2n);
    const double d2 = q2d + w2 * (1.0 - q2d);
    /* beta_h = 4 / (1 + e^8 q72) */
    const double d3 = 1.0 + 2980.9579870417283 * q72;
    /* alpha_n: x / (e^(x/5) - 1), x = 15 - u */
    const double x4 = 15.0 - u, z4 = x4 * 0.2;
    const int sm4 = absd(z4) < 1e-3;
    const double w4 = sm4 ? 1.0 : 0.0, q4n = x4, q4d = 20.085536923187668 * q72 - 1.0;
    const double n4 = q4n + w4 * (5.0 * (1.0 - 0.5 * z4 + z4 * z4 * (1.0 / 12.0)) - q4n);
    const double d4 = q4d + w4 * (1.0 - q4d);
    const double d12 = d1 * d2, d34 = d3 * d4, r = 1.0 / (d12 * d34);
    const double r12 = r * d34, r34 = r * d12;
    const double am = 0.32 * n1 * (r12 * d2), bm = 0.28 * n2 * (r12 * d1);
    const double ah = (0.128 * 2.5713844347880297) * q20;
    const double bh = 4.0 * (r34 * d4);
    const double an = 0.032 * n4 * (r34 * d3);
    const double bn = (0.5 * 1.2840254166877414) * q9;
    const double m3h = m * m * m * h, nn = n * n, nn4 = nn * nn;
    f[0] = (k[K_BL] - k[K_GL] * v - k[K_GNA] * m3h * (v - k[K_ENA]) -
            k[K_GK] * nn4 * (v - k[K_EK]) + ge * (k[K_EE] - v) + gi * (k[K_EI] - v)) *
           k[K_IC];
    f[1] = am * (1.0 - m) - bm * m;
    f[2] = ah * (1.0 - h) - bh * h;
    f[3] = an * (1.0 - n) - bn * n;
}

/* dV/dt alone (no rates): the end slope for the crossing test */
__attribute__((always_inline)) static inline double hh_fv(double v, double m, double h, double n,
                                                          double ge, double gi, const double *k)
{
    const double m3h = m * m * m * h, nn = n * n, nn4 = nn * nn;
    return (k[K_BL] - k[K_GL] * v - k[K_GNA] * m3h * (v - k[K_ENA]) -
            k[K_GK] * nn4 * (v - k[K_EK]) + ge * (k[K_EE] - v) + gi * (k[K_EI] - v)) *
           k[K_IC];
}
#define CK_Z(E) \
    z0 = y[0] + h * (E(0)), z1 = y[1] + h * (E(1)), z2 = y[2] + h * (E(2)), \
    z3 = y[3] + h * (E(3))
/* One Cash-Karp step of length s[K_H] from y (V, m, h, n; g_exc, g_inh at
 * the start) into yo (the 5th-order solution); returns err (see above);
 * *s0, *s1: dV/dt at the start and the end. k: the population constants
 * (K_GL ..). Written out per component (no inner loops) so that gcc
 * vectorises the callers' loops across neurons. */
__attribute__((always_inline)) static inline double hh_ck(const double y[4], double ge,
                                                          double gi, const double *s,
                                                          const double *k, double yo[4],
                                                          double *s0, double *s1)
{
    const double h = s[K_H];
    double k1[4], k2[4], k3[4], k4[4], k5[4], k6[4], z0, z1, z2, z3;
    hh_f(y[0], y[1], y[2], y[3], ge, gi, k, k1);
#define E2(i) (1.0 / 5.0) * k1[i]
    CK_Z(E2);
    hh_f(z0, z1, z2, z3, ge * s[K_DE], gi * s[K_DI], k, k2);
#define E3(i) (3.0 / 40.0) * k1[i] + (9.0 / 40.0) * k2[i]
    CK_Z(E3);
    hh_f(z0, z1, z2, z3, ge * s[K_DE + 1], gi * s[K_DI + 1], k, k3);
#define E4(i) (3.0 / 10.0) * k1[i] + (-9.0 / 10.0) * k2[i] + (6.0 / 5.0) * k3[i]
    CK_Z(E4);
    hh_f(z0, z1, z2, z3, ge * s[K_DE + 2], gi * s[K_DI + 2], k, k4);
#define E5(i)                                                                                  \
    (-11.0 / 54.0) * k1[i] + (5.0 / 2.0) * k2[i] + (-70.0 / 27.0) * k3[i] + (35.0 / 27.0) * k4[i]
    CK_Z(E5);
    const double ge1 = ge * s[K_DE + 4], gi1 = gi * s[K_DI + 4];
    hh_f(z0, z1, z2, z3, ge1, gi1, k, k5);
#define E6(i) (1631.0 / 55296.0) * k1[i] + (175.0 / 512.0) * k2[i] + (575.0 / 13824.0) * k3[i] + \
        (44275.0 / 110592.0) * k4[i] + (253.0 / 4096.0) * k5[i]
    CK_Z(E6);
    hh_f(z0, z1, z2, z3, ge * s[K_DE + 3], gi * s[K_DI + 3], k, k6);
#define E7(i) (37.0 / 378.0) * k1[i] + (250.0 / 621.0) * k3[i] + (125.0 / 594.0) * k4[i] + \
        (512.0 / 1771.0) * k6[i]
    CK_Z(E7);
    yo[0] = z0, yo[1] = z1, yo[2] = z2, yo[3] = z3;
#define EE(i) absd(h * ((37.0 / 378.0 - 2825.0 / 27648.0) * k1[i] + \
        (250.0 / 621.0 - 18575.0 / 48384.0) * k3[i] + (125.0 / 594.0 - 13525.0 / 55296.0) * k4[i] + \
        (-277.0 / 14336.0) * k5[i] + (512.0 / 1771.0 - 1.0 / 4.0) * k6[i]))
    const double e0 = EE(0), e1 = EE(1), e2 = EE(2), e3 = EE(3);
#undef E2
#undef E3
#undef E4
#undef E5
#undef E6
#undef E7
#undef EE
    *s0 = k1[0];
    *s1 = hh_fv(z0, z1, z2, z3, ge1, gi1, k);
    return maxd(e0 * k[K_ITV], maxd(e1, maxd(e2, e3)) * k[K_ITX]);
}
#undef CK_Z

/* A step's flag (cand): >= 0 where the step must be redone one by one:
 * err > 1, or (when not held) the Hermite bound of V over the step
 * (max(V0, V1) + 4h/27 (max(V0', 0) + max(-V1', 0)), which bounds every
 * crossing inside it) at or above threshold, or a result not finite. */
static inline double hh_flag(double err, double v0, double v1, double s0, double s1, double h,
                             double th, double held, const double *yo)
{
    const double bound = maxd(v0, v1) + h * (4.0 / 27.0) * (maxd(s0, 0.0) + maxd(-s1, 0.0)) - th;
    /* held: no crossing counted (a select on the bound, so that it is not
     * dead on one side, which gcc would turn into a branch) */
    const double lim = held > 0.0 ? -1.0 : HUGE_VAL;
    const double e1 = err - 1.0, en = e1 == e1 ? e1 : 1.0; /* maxd drops a NaN */
    const double cn = maxd(en, bound < lim ? bound : lim);
    const double fin = (yo[0] - yo[0]) + (yo[1] - yo[1]) + (yo[2] - yo[2]) + (yo[3] - yo[3]);
    return (fin == 0.0) & (cn < 0.0) ? cn : 1.0; /* NaN (an error or a slope): redo */
}

/* MAX_STEP with room for rounding: a window of 0.1 ms is T1 - T0 of two
 * multiples of it, which may exceed 0.1 by an ulp or so; the engine would
 * then run it as two half windows. */
static double sweep_max_step(const apical_model_ctx *c)
{
    (void)c;
    return MAX_STEP * (1.0 + 1e-9);
}

static void sweep_constants(double h, const apical_model_ctx *c, double k[])
{
    const double *d = c->derived;
    hh_pop(c, k);
    hh_step_h(h, d[D_INV_TAU_EXC], d[D_INV_TAU_INH], k[K_XLO], k[K_XHI], k);
}

__attribute__((always_inline)) static inline void hh_window_loop(
    size_t n, const double *restrict v0, const double *restrict m0, const double *restrict h0,
    const double *restrict n0, const double *restrict e0, const double *restrict i0,
    double *restrict v1, double *restrict m1, double *restrict h1, double *restrict n1,
    double *restrict e1, double *restrict i1, const double *restrict ru, double T0, double T1,
    const double *restrict k, double *restrict cd)
{
    double kk[K_BASE]; /* a local copy: with k itself the loop stays scalar */
    for (int q = 0; q < K_BASE; q++)
        kk[q] = k[q];
    const double th = kk[K_TH], h = kk[K_H], de = kk[K_DE + 4], di = kk[K_DI + 4];
    for (size_t i = 0; i < n; i++) {
        const double y[4] = {v0[i], m0[i], h0[i], n0[i]};
        const double ge = e0[i], gi = i0[i], r = ru[i];
        double yo[4], s0, s1;
        const double err = hh_ck(y, ge, gi, kk, kk, yo, &s0, &s1);
        const double held = r >= T1 ? 1.0 : 0.0;
        const double cn = hh_flag(err, y[0], yo[0], s0, s1, h, th, held, yo);
        cd[i] = maxd(cn, (r > T0) & (r < T1) ? 1.0 : -HUGE_VAL); /* (cn used on both sides) */
        v1[i] = yo[0];
        m1[i] = yo[1];
        h1[i] = yo[2];
        n1[i] = yo[3];
        e1[i] = ge * de;
        i1[i] = gi * di;
    }
}

__attribute__((target_clones("avx512f", "avx2", "default")))
static void sweep_window(size_t n, const double *const y[], double *const yn[],
                         const double *ref_until, double T0, double T1, const double k[],
                         const apical_model_ctx *c, double *cand)
{
    (void)c;
    hh_window_loop(n, y[S_V], y[S_M], y[S_H], y[S_N], y[S_G_EXC], y[S_G_INH], yn[S_V], yn[S_M],
                   yn[S_H], yn[S_N], yn[S_G_EXC], yn[S_G_INH], ref_until, T0, T1, k, cand);
}

/* One step of its own length per lane (apical_sweep_ops.advance_n): the
 * step constants per lane by hh_step_h, so the same bits as `advance`'s
 * first step. */
__attribute__((always_inline)) static inline void hh_batch_loop(
    size_t n, const double *restrict v0, const double *restrict m0, const double *restrict h0,
    const double *restrict n0, const double *restrict e0, const double *restrict i0,
    double *restrict v1, double *restrict m1, double *restrict h1, double *restrict n1,
    double *restrict e1, double *restrict i1, const double *restrict dt,
    const double *restrict held, const double *restrict k, double *restrict cd)
{
    double kk[K_BASE];
    for (int q = 0; q < K_BASE; q++)
        kk[q] = k[q];
    const double th = kk[K_TH], ite = kk[K_ITE], iti = kk[K_ITI], xlo = kk[K_XLO],
                 xhi = kk[K_XHI];
    for (size_t i = 0; i < n; i++) {
        const double y[4] = {v0[i], m0[i], h0[i], n0[i]};
        const double ge = e0[i], gi = i0[i], h = dt[i];
        double s[K_STEP];
        hh_step_h(h, ite, iti, xlo, xhi, s);
        double yo[4], s0, s1;
        const double err = hh_ck(y, ge, gi, s, kk, yo, &s0, &s1);
        const double f = hh_flag(err, y[0], yo[0], s0, s1, h, th, held[i], yo);
        /* longer than max_step: the walk, in pieces */
        cd[i] = maxd(f, h > kk[K_HMAX] ? 1.0 : -HUGE_VAL);
        v1[i] = yo[0];
        m1[i] = yo[1];
        h1[i] = yo[2];
        n1[i] = yo[3];
        e1[i] = ge * s[K_DE + 4];
        i1[i] = gi * s[K_DI + 4];
    }
}

/* One step of length dt from y (6 variables) into yo; returns err. */
__attribute__((always_inline)) static inline double hh_step1(const double y[6], double dt,
                                                             const double *k, double yo[6],
                                                             double *s0, double *s1)
{
    double s[K_STEP];
    hh_step_h(dt, k[K_ITE], k[K_ITI], k[K_XLO], k[K_XHI], s);
    const double err = hh_ck(y, y[4], y[5], s, k, yo, s0, s1);
    yo[4] = y[4] * s[K_DE + 4];
    yo[5] = y[5] * s[K_DI + 4];
    return err;
}

/* The step-size controller, shared by `advance` and window_redo so that
 * both take the same sub-steps: the factor for the next step length from a
 * step's err, 0.9 err^(-1/5) rounded down to one of these levels within
 * [0.2, 5] (no pow(): selects, which vectorise; a NaN err gives 0.2). */
#define P5(x) ((x) * (x) * (x) * (x) * (x))
static inline double hh_fac(double err)
{
    double f = 0.2;
    f = err <= P5(0.9 / 0.3) ? 0.3 : f;
    f = err <= P5(0.9 / 0.45) ? 0.45 : f;
    f = err <= P5(0.9 / 0.6) ? 0.6 : f;
    f = err <= P5(0.9 / 0.8) ? 0.8 : f;
    f = err <= P5(0.9 / 1.0) ? 1.0 : f;
    f = err <= P5(0.9 / 1.25) ? 1.25 : f;
    f = err <= P5(0.9 / 1.6) ? 1.6 : f;
    f = err <= P5(0.9 / 2.0) ? 2.0 : f;
    f = err <= P5(0.9 / 3.0) ? 3.0 : f;
    f = err <= P5(0.9 / 5.0) ? 5.0 : f;
    return f;
}
#undef P5

/* A neuron between sub-steps: time t into the step dt, the last trial
 * length hs and its err, the slopes so far. */
typedef struct hh_ctl {
    double dt, t, hs, err, s0, s1;
    int first;
} hh_ctl;

/* The next trial's length *hh (the last one ends on dt exactly, *last);
 * 0 when the controller has shrunk it below dt / SUB_CAP (out of the
 * method's range: the caller makes V NaN, which the engine reports). */
static inline int hh_next(hh_ctl *c, double *hh, int *last)
{
    c->hs *= hh_fac(c->err);
    if (!(c->hs > c->dt * (1.0 / SUB_CAP)))
        return 0;
    *last = c->hs >= (c->dt - c->t) * 0.999999;
    *hh = *last ? c->dt - c->t : c->hs;
    return 1;
}

/* After a trial of length hh with error err and slopes a, b (yn its
 * result, y the state it started from): 1 when accepted (y takes yn,
 * slopes noted), 0 when it is to be retried shorter. */
static inline int hh_took(hh_ctl *c, double err, double hh, double a, double b)
{
    c->err = err;
    if (!(err <= 1.0))
        return 0;
    c->s0 = c->first ? a : c->s0;
    c->s1 = b;
    c->first = 0;
    c->t += hh;
    return 1;
}

/* apical_sweep_ops.advance: one step of dt (the bits of advance_n); where
 * it fails the error test, adaptive sub-steps (hh_next, hh_took). The
 * membrane is never held (refractoriness only stops a second detection). */
__attribute__((flatten)) static void sweep_advance(double y[], double dt, int refractory,
                                                   const apical_model_ctx *c, double slope[2])
{
    (void)refractory;
    double k[K_BASE];
    hh_pop(c, k);
    double yo[6], s0, s1;
    const double err = hh_step1(y, dt, k, yo, &s0, &s1);
    if (!(err <= 1.0)) {
        hh_ctl ct = {dt, 0.0, dt, err, 0.0, 0.0, 1};
        double yy[6];
        for (int i = 0; i < 6; i++)
            yy[i] = y[i];
        for (;;) {
            double hh, a, b;
            int last;
            if (!hh_next(&ct, &hh, &last)) {
                yo[0] = NAN;
                break;
            }
            const double e = hh_step1(yy, hh, k, yo, &a, &b);
            if (!hh_took(&ct, e, hh, a, b))
                continue;
            if (last)
                break;
            for (int i = 0; i < 6; i++)
                yy[i] = yo[i];
        }
        s0 = ct.s0;
        s1 = ct.s1;
    }
    for (int i = 0; i < 6; i++)
        y[i] = yo[i];
    slope[0] = s0;
    slope[1] = s1;
}

/* Trial steps for n lanes at once, each of its own length hh[q], in
 * struct of arrays (ys[i * RB + q]: variable i of lane q): the bits of
 * hh_step1. */
enum { RB = 64 }; /* window_redo's lanes per block */
__attribute__((always_inline)) static inline void redo_steps_loop(
    size_t n, const double *restrict ys, double *restrict yn, const double *restrict hh,
    double *restrict err, double *restrict sa, double *restrict sb, const double *restrict k)
{
    double kk[K_BASE];
    for (int q = 0; q < K_BASE; q++)
        kk[q] = k[q];
    for (size_t q = 0; q < n; q++) {
        const double y[6] = {ys[q], ys[RB + q], ys[2 * RB + q], ys[3 * RB + q], ys[4 * RB + q],
                             ys[5 * RB + q]};
        double yo[6], a, b;
        err[q] = hh_step1(y, hh[q], kk, yo, &a, &b);
        sa[q] = a;
        sb[q] = b;
        yn[q] = yo[0];
        yn[RB + q] = yo[1];
        yn[2 * RB + q] = yo[2];
        yn[3 * RB + q] = yo[3];
        yn[4 * RB + q] = yo[4];
        yn[5 * RB + q] = yo[5];
    }
}

__attribute__((target_clones("avx512f", "avx2", "default")))
static void redo_steps(size_t n, const double *ys, double *yn, const double *hh, double *err,
                       double *sa, double *sb, const double *k)
{
    redo_steps_loop(n, ys, yn, hh, err, sa, sb, k);
}

/* `advance` for up to RB lanes at once: ys (ys[i * RB + a]: variable i of
 * lane a) from their states over dt[a] to the end states, with the same
 * sub-steps and bits as `advance` (the first trial the whole step, then
 * the controller's), the trial steps of all lanes still going batched in
 * one vectorised call per round; s0[a], s1[a]: the slopes `advance`
 * returns. A lane whose controller leaves the method's range ends NaN. */
/* (gcc cannot see that the first n lanes, all redo_steps reads, are set) */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
static void hh_adapt(size_t n, double *ys, const double *dt, double *s0, double *s1,
                     const double *k)
{
    double yc[6 * RB], yo[6 * RB], hh[RB], err[RB], sa[RB], sb[RB];
    hh_ctl ct[RB];
    uint32_t pos[RB]; /* the lane in ys of each slot */
    int last[RB];
    if (n == 0 || n > RB)
        return;
    for (size_t a = 0; a < n; a++) {
        hh[a] = dt[a];
        pos[a] = (uint32_t)a;
        for (int i = 0; i < 6; i++)
            yc[i * RB + a] = ys[i * RB + a];
    }
    redo_steps(n, yc, yo, hh, err, sa, sb, k);
    size_t na = 0;
    for (size_t a = 0; a < n; a++) {
        ct[a] = (hh_ctl){dt[a], 0.0, dt[a], err[a], 0.0, 0.0, 1};
        if (err[a] <= 1.0) { /* one step */
            for (int i = 0; i < 6; i++)
                ys[i * RB + a] = yo[i * RB + a];
            s0[a] = sa[a];
            s1[a] = sb[a];
            continue;
        }
        if (!hh_next(&ct[a], &hh[a], &last[a])) {
            for (int i = 0; i < 6; i++)
                ys[i * RB + a] = NAN;
            continue;
        }
        /* kept, packed (na <= a) */
        pos[na] = (uint32_t)a;
        ct[na] = ct[a];
        hh[na] = hh[a];
        last[na] = last[a];
        for (int i = 0; i < 6; i++)
            yc[i * RB + na] = yc[i * RB + a];
        na++;
    }
    while (na) {
        redo_steps(na, yc, yo, hh, err, sa, sb, k);
        size_t nt = 0;
        for (size_t a = 0; a < na; a++) {
            const uint32_t p = pos[a];
            int done = 0;
            if (hh_took(&ct[a], err[a], hh[a], sa[a], sb[a])) {
                for (int i = 0; i < 6; i++)
                    yc[i * RB + a] = yo[i * RB + a];
                done = last[a];
            }
            if (!done && !hh_next(&ct[a], &hh[a], &last[a])) {
                for (int i = 0; i < 6; i++)
                    yc[i * RB + a] = NAN;
                done = 1;
            }
            if (done) {
                for (int i = 0; i < 6; i++)
                    ys[i * RB + p] = yc[i * RB + a];
                s0[p] = ct[a].s0;
                s1[p] = ct[a].s1;
                continue;
            }
            pos[nt] = p;
            ct[nt] = ct[a];
            hh[nt] = hh[a];
            last[nt] = last[a];
            for (int i = 0; i < 6; i++)
                yc[i * RB + nt] = yc[i * RB + a];
            nt++;
        }
        na = nt;
    }
}

#pragma GCC diagnostic pop

/* Would the walk look for no crossing after `advance` over H from V0 to
 * V1 with slopes f0, f1: refractory (held), or V0 at or above threshold,
 * or both ends below it with crossing_bracket's Hermite bound below it
 * too? And is the result finite? (1: the result is final.) */
static inline int hh_quiet(const double *ys, size_t a, double v0, double H, double f0,
                           double f1, int held, double th)
{
    double fin = 0.0;
    for (int i = 0; i < 6; i++)
        fin += ys[i * RB + a] - ys[i * RB + a];
    const double s0 = v0 - th, s1 = ys[a] - th;
    const double bnd = maxd(s0, s1) + H * (4.0 / 27.0) * (maxd(f0, 0.0) + maxd(-f1, 0.0));
    return fin == 0.0 && (held || !(s0 < 0.0) || (s1 < 0.0 && bnd < 0.0));
}

/* apical_sweep_ops.window_redo: the flagged neurons without inputs, not
 * refractory at T0 or refractory through the window (cand[q] = 1 on entry;
 * redo_refractory), each taken as the engine's walk would take it: one
 * `advance` over T1 - T0 (no longer than max_step: one piece), by
 * hh_adapt. Finished (cand < 0) where the walk would look for no crossing
 * (hh_quiet). */
static void sweep_window_redo(size_t n, const uint32_t *idx, const double *const y[],
                              double *const yn[], double T0, double T1, const double k[],
                              const apical_model_ctx *c, double *cand)
{
    (void)c;
    const double H = T1 - T0;
    double ys[6 * RB], dt[RB], s0[RB], s1[RB];
    for (size_t q0 = 0; q0 < n; q0 += RB) {
        const size_t na = n - q0 < RB ? n - q0 : RB;
        for (size_t a = 0; a < na; a++) {
            const uint32_t j = idx[q0 + a];
            for (int i = 0; i < 6; i++)
                ys[i * RB + a] = y[i][j];
            dt[a] = H;
        }
        hh_adapt(na, ys, dt, s0, s1, k);
        for (size_t a = 0; a < na; a++) {
            const uint32_t j = idx[q0 + a];
            const int ok = hh_quiet(ys, a, y[0][j], H, s0[a], s1[a], cand[q0 + a] > 0.0, k[K_TH]);
            cand[q0 + a] = ok ? -1.0 : 1.0;
            for (int i = 0; i < 6; i++)
                yn[i][j] = ys[i * RB + a];
        }
    }
}

/* apical_sweep_ops.advance_n: one vectorised step per lane (hh_batch_loop);
 * the lanes it flags are then taken by hh_adapt, so that each lane's
 * result is `advance`'s (sub-steps included, the same bits), and flagged
 * only where the walk would look for a crossing (or the step is longer
 * than max_step, which the walk cuts in pieces, or not finite). */
__attribute__((target_clones("avx512f", "avx2", "default")))
static void sweep_batch1(size_t n, const double *const y[], double *const yn[],
                         const double *dt, const double *held, const double k[], double *cand)
{
    hh_batch_loop(n, y[S_V], y[S_M], y[S_H], y[S_N], y[S_G_EXC], y[S_G_INH], yn[S_V], yn[S_M],
                  yn[S_H], yn[S_N], yn[S_G_EXC], yn[S_G_INH], dt, held, k, cand);
}

static void sweep_advance_n(size_t n, const double *const y[], double *const yn[],
                            const double *dt, const double *held, const apical_model_ctx *c,
                            const double k[], double *cand)
{
    (void)c;
    sweep_batch1(n, y, yn, dt, held, k, cand);
    double ys[6 * RB], h[RB], s0[RB], s1[RB];
    uint32_t lane[RB];
    size_t na = 0;
    for (size_t q = 0; q <= n; q++) {
        if (q < n && cand[q] >= 0.0 && !(dt[q] > k[K_HMAX])) {
            lane[na] = (uint32_t)q;
            for (int i = 0; i < 6; i++)
                ys[i * RB + na] = y[i][q];
            h[na++] = dt[q];
        }
        if (na == RB || (q == n && na)) {
            hh_adapt(na, ys, h, s0, s1, k);
            for (size_t a = 0; a < na; a++) {
                const uint32_t i0 = lane[a];
                const int ok = hh_quiet(ys, a, y[0][i0], h[a], s0[a], s1[a], held[i0] > 0.0,
                                        k[K_TH]);
                cand[i0] = ok ? -1.0 : 1.0;
                for (int i = 0; i < 6; i++)
                    yn[i][i0] = ys[i * RB + a];
            }
            na = 0;
        }
    }
}

/* apical_sweep_ops.step_n: advance_n's vectorised step without its redo
 * (hh_batch_loop): the window kernel of COBAHH's 0.1 ms windows, each
 * neuron with inputs stepped to its first stop. */
static void sweep_step_n(size_t n, const double *const y[], double *const yn[], const double *dt,
                         const double *held, const double k[], const apical_model_ctx *c,
                         double *cand)
{
    (void)c;
    sweep_batch1(n, y, yn, dt, held, k, cand);
}

static const apical_sweep_ops sweep_ops = {
    .n_const = K__N,
    .max_step = sweep_max_step,
    .constants = sweep_constants,
    .window = sweep_window,
    .advance = sweep_advance,
    .advance_n = sweep_advance_n,
    .step_n = sweep_step_n,
    .window_redo = sweep_window_redo,
    .redo_refractory = 1,
    .receive_keeps_distance = 1, /* receive adds to a synaptic variable, not V */
    /* A Newton correction below 1e-6 ms ends the crossing search (ts kept:
     * it is then within ~1e-6 ms of the method's crossing, under 1% of the
     * method's spike-time error of ~1.6e-4 ms): two of the ~5 adaptive
     * advances over the upstroke that a spike cost. */
    .crossing_tol = 1e-6,
    .method = "Cash-Karp 5(4) on V, m, h, n with per-neuron error control (" STR(TOL_V)
              " mV, " STR(TOL_X) " per step), conductances exact",
};

const apical_model_type apical_hh_cond_exp_traub = {
    .name = "hh_cond_exp_traub",
    .doc = "Hodgkin-Huxley with Traub-Miles Na/K kinetics, exponential conductance synapses "
           "(Brette et al. 2007 COBAHH; NEST hh_cond_exp_traub). Spike = upward crossing of "
           "V_th; no reset, V not clamped during t_ref.",
    .n_params = P__N, .params = param_fields,
    .n_state = S__N, .state = state_fields,
    .n_receptors = 2, .receptors = receptors, .weight_unit = "nS",
    .n_derived = D__N, .derive = derive, .check = NULL,
    .derivs = derivs, .jacobian = jacobian,
    .spike_distance = spike_distance, .reset = reset,
    .refractory_period = refractory_period, .receive = receive,
    .quiet_horizon = quiet_horizon,
    .sweep = &sweep_ops,
    .default_stepper = "rkf45", .default_abs_tol = 1e-6, .default_rel_tol = 1e-6,
};
