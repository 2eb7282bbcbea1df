/* lif_cond_alpha: leaky integrate-and-fire neuron with alpha-function
 * synaptic conductances (NEST iaf_cond_alpha).
 *
 *   C_m dV/dt = g_L (E_L - V) + g_exc (E_exc - V) + g_inh (E_inh - V) + I_e + I_dev(t)
 *   tau dg/dt = h - g,   tau dh/dt = -h            (per receptor)
 *
 * One event of weight w adds e*w to h, so that g(t) = w (t/tau) e^(1 - t/tau):
 * the conductance peaks at w, tau after the event. h is NEST's dg_ex times
 * tau, kept in nS because apical's unit system has no nS/ms. A spike is the
 * upward crossing of V_th; V is held at V_reset for t_ref while the
 * conductances keep evolving. */
#include <gsl/gsl_errno.h>
#include <math.h>
#include <stdio.h>

#include "apical/model.h"

#define E_EULER 2.718281828459045235360287

enum { P_C_M, P_G_L, P_E_L, P_V_TH, P_V_RESET, P_T_REF, P_E_EXC, P_E_INH,
       P_TAU_EXC, P_TAU_INH, P_I_E, P__N };
enum { S_V, S_G_EXC, S_H_EXC, S_G_INH, S_H_INH, S__N };
enum { D_INV_C, D_INV_TAU_EXC, D_INV_TAU_INH, D__N };

static const apical_field param_fields[P__N] = {
    [P_C_M] = {"C_m", "pF", 200.0, 1e-3, 1e9, "membrane capacitance"},
    [P_G_L] = {"g_L", "nS", 10.0, 1e-6, 1e9, "leak conductance"},
    [P_E_L] = {"E_L", "mV", -60.0, -200.0, 200.0, "leak reversal potential"},
    [P_V_TH] = {"V_th", "mV", -50.0, -200.0, 200.0, "spike threshold"},
    [P_V_RESET] = {"V_reset", "mV", -60.0, -200.0, 200.0, "reset potential"},
    [P_T_REF] = {"t_ref", "ms", 5.0, 0.0, 1e6, "refractory period"},
    [P_E_EXC] = {"E_exc", "mV", 0.0, -200.0, 200.0, "excitatory reversal potential"},
    [P_E_INH] = {"E_inh", "mV", -80.0, -200.0, 200.0, "inhibitory reversal potential"},
    [P_TAU_EXC] = {"tau_exc", "ms", 5.0, 1e-3, 1e6, "excitatory alpha time to peak"},
    [P_TAU_INH] = {"tau_inh", "ms", 10.0, 1e-3, 1e6, "inhibitory alpha time to peak"},
    [P_I_E] = {"I_e", "pA", 0.0, -1e9, 1e9, "constant injected current"},
};

static const apical_field state_fields[S__N] = {
    [S_V] = {"V_m", "mV", -60.0, -HUGE_VAL, HUGE_VAL, "membrane potential"},
    [S_G_EXC] = {"g_exc", "nS", 0.0, -HUGE_VAL, HUGE_VAL, "excitatory conductance"},
    [S_H_EXC] = {"h_exc", "nS", 0.0, -HUGE_VAL, HUGE_VAL,
                 "excitatory alpha auxiliary (g_exc relaxes to it; an event adds e*w)"},
    [S_G_INH] = {"g_inh", "nS", 0.0, -HUGE_VAL, HUGE_VAL, "inhibitory conductance"},
    [S_H_INH] = {"h_inh", "nS", 0.0, -HUGE_VAL, HUGE_VAL,
                 "inhibitory alpha auxiliary (g_inh relaxes to it; an event adds e*w)"},
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
    const double v = y[S_V], ge = y[S_G_EXC], gi = y[S_G_INH];
    f[S_V] = c->refractory ? 0.0
             : (p[P_G_L] * (p[P_E_L] - v) + ge * (p[P_E_EXC] - v) + gi * (p[P_E_INH] - v) +
                p[P_I_E] + apical_ctx_current(c, t)) * d[D_INV_C];
    f[S_G_EXC] = (y[S_H_EXC] - ge) * d[D_INV_TAU_EXC];
    f[S_H_EXC] = -y[S_H_EXC] * d[D_INV_TAU_EXC];
    f[S_G_INH] = (y[S_H_INH] - gi) * d[D_INV_TAU_INH];
    f[S_H_INH] = -y[S_H_INH] * d[D_INV_TAU_INH];
    for (int k = 0; k < S__N; k++)
        if (!isfinite(f[k]))
            return GSL_EBADFUNC;
    return GSL_SUCCESS;
}

static int jacobian(double t, const double y[], double *J, double dfdt[], void *params)
{
    const apical_model_ctx *c = params;
    const double *p = c->param, *d = c->derived;
    const double v = y[S_V];
    for (int i = 0; i < S__N * S__N; i++)
        J[i] = 0.0;
    for (int i = 0; i < S__N; i++)
        dfdt[i] = 0.0;
#define JJ(i, j) J[(i) * S__N + (j)]
    if (!c->refractory) {
        JJ(S_V, S_V) = -(p[P_G_L] + y[S_G_EXC] + y[S_G_INH]) * d[D_INV_C];
        JJ(S_V, S_G_EXC) = (p[P_E_EXC] - v) * d[D_INV_C];
        JJ(S_V, S_G_INH) = (p[P_E_INH] - v) * d[D_INV_C];
        if (c->i_sin_amp != 0.0)
            dfdt[S_V] = c->i_sin_amp * c->i_sin_omega *
                        cos(c->i_sin_omega * t + c->i_sin_phase) * d[D_INV_C];
    }
    JJ(S_G_EXC, S_G_EXC) = -d[D_INV_TAU_EXC];
    JJ(S_G_EXC, S_H_EXC) = d[D_INV_TAU_EXC];
    JJ(S_H_EXC, S_H_EXC) = -d[D_INV_TAU_EXC];
    JJ(S_G_INH, S_G_INH) = -d[D_INV_TAU_INH];
    JJ(S_G_INH, S_H_INH) = d[D_INV_TAU_INH];
    JJ(S_H_INH, S_H_INH) = -d[D_INV_TAU_INH];
#undef JJ
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
    y[S_H_EXC + 2 * receptor] += E_EULER * w;
}

/* Without input, g(s) = e^(-s/tau) (g0 + h0 s/tau) <= g0 + h0/e for all
 * s >= 0 when g0, h0 >= 0 (max of x e^-x is 1/e). While V lies in
 * [V0, V_th], dV/dt is then at most
 *   [g_L (E_L - V0) + (g_exc0 + h_exc0/e) max(0, E_exc - V0)
 *    + (g_inh0 + h_inh0/e) max(0, E_inh - V0) + I_e + max I_dev] / C_m,
 * so V cannot reach V_th sooner than (V_th - V0) / that slope (if V dips
 * below V0 the last passage through V0 starts a shorter climb with the same
 * bound). */
static double quiet_horizon(const double y[], const apical_model_ctx *c)
{
    const double *p = c->param;
    const double v = y[S_V];
    if (y[S_G_EXC] < 0.0 || y[S_H_EXC] < 0.0 || y[S_G_INH] < 0.0 || y[S_H_INH] < 0.0 ||
        !(v < p[P_V_TH]))
        return 0.0;
    const double ge = y[S_G_EXC] + y[S_H_EXC] / E_EULER, gi = y[S_G_INH] + y[S_H_INH] / E_EULER;
    double slope = p[P_G_L] * (p[P_E_L] - v) + p[P_I_E] + apical_ctx_current_max(c) +
                   ge * fmax(0.0, p[P_E_EXC] - v) + gi * fmax(0.0, p[P_E_INH] - v);
    if (!(slope > 0.0))
        return HUGE_VAL;
    return (p[P_V_TH] - v) * p[P_C_M] / slope;
}

const apical_model_type apical_lif_cond_alpha = {
    .name = "lif_cond_alpha",
    .doc = "Leaky integrate-and-fire, alpha-function conductance synapses: one event of "
           "weight w gives g(t) = w (t/tau) e^(1 - t/tau), peak w at t = tau "
           "(NEST iaf_cond_alpha). V held at V_reset for t_ref.",
    .n_params = P__N, .params = param_fields,
    .n_state = S__N, .state = state_fields,
    .n_receptors = 2, .receptors = receptors, .weight_unit = "nS",
    .n_derived = D__N, .derive = derive, .check = check,
    .derivs = derivs, .jacobian = jacobian,
    .spike_distance = spike_distance, .reset = reset,
    .refractory_period = refractory_period, .receive = receive,
    .quiet_horizon = quiet_horizon,
    .default_stepper = "rkf45", .default_abs_tol = 1e-6, .default_rel_tol = 1e-6,
};
