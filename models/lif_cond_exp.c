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
    .default_stepper = "rkf45", .default_abs_tol = 1e-6, .default_rel_tol = 1e-6,
};
