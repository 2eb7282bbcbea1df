/* lif_curr_exp: leaky integrate-and-fire neuron with exponentially decaying
 * synaptic currents (Brette et al. 2007, benchmark 2; NEST iaf_psc_exp).
 *
 *   C_m dV/dt = g_L (E_L - V) + I_exc + I_inh + I_e
 *   dI_exc/dt = -I_exc / tau_exc,   dI_inh/dt = -I_inh / tau_inh
 *
 * Weights are currents (pA); inhibitory weights are negative. */
#include <gsl/gsl_errno.h>
#include <math.h>
#include <stdio.h>

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

/* Synaptic currents only decay, so each contributes at most its current
 * depolarising part; with V in [V0, V_th] the leak contributes at most
 * g_L (E_L - V0). */
static double quiet_horizon(const double y[], const apical_model_ctx *c)
{
    const double *p = c->param;
    const double v = y[S_V];
    if (v >= p[P_V_TH])
        return 0.0;
    double slope = p[P_G_L] * (p[P_E_L] - v) + p[P_I_E] + apical_ctx_current_max(c) +
                   fmax(0.0, y[S_I_EXC]) +
                   fmax(0.0, y[S_I_INH]);
    if (slope <= 0.0)
        return HUGE_VAL;
    return (p[P_V_TH] - v) * p[P_C_M] / slope;
}

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
    .default_stepper = "rkf45", .default_abs_tol = 1e-6, .default_rel_tol = 1e-6,
};
