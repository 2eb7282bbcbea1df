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
    .default_stepper = "rkf45", .default_abs_tol = 1e-6, .default_rel_tol = 1e-6,
};
