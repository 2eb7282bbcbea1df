/* adex_cond_exp: adaptive exponential integrate-and-fire neuron (Brette &
 * Gerstner 2005) with exponentially decaying synaptic conductances (NEST
 * aeif_cond_exp). The membrane is in models/adex_common.h;
 *
 *   dg_exc/dt = -g_exc / tau_exc,   dg_inh/dt = -g_inh / tau_inh
 *
 * and an event adds its weight (nS) to g_exc or g_inh. */
#include "adex_common.h"

enum { S_V = ADEX_S_V, S_W = ADEX_S_W, S_G_EXC, S_G_INH, S__N };

static const apical_field state_fields[S__N] = {
    [S_V] = {"V_m", "mV", -70.6, -HUGE_VAL, HUGE_VAL, "membrane potential"},
    [S_W] = {"w", "pA", 0.0, -HUGE_VAL, HUGE_VAL, "adaptation current"},
    [S_G_EXC] = {"g_exc", "nS", 0.0, -HUGE_VAL, HUGE_VAL, "excitatory conductance"},
    [S_G_INH] = {"g_inh", "nS", 0.0, -HUGE_VAL, HUGE_VAL, "inhibitory conductance"},
};

static int derivs(double t, const double y[], double f[], void *params)
{
    const apical_model_ctx *c = params;
    const double *d = c->derived;
    int bad = adex_membrane(c, t, y[S_V], y[S_W], y[S_G_EXC], y[S_G_INH], &f[S_V], &f[S_W], NULL);
    f[S_G_EXC] = -y[S_G_EXC] * d[ADEX_D_INV_TAU_EXC];
    f[S_G_INH] = -y[S_G_INH] * d[ADEX_D_INV_TAU_INH];
    return bad || !isfinite(f[S_G_EXC]) || !isfinite(f[S_G_INH]) ? GSL_EBADFUNC : GSL_SUCCESS;
}

static int jacobian(double t, const double y[], double *J, double dfdt[], void *params)
{
    const apical_model_ctx *c = params;
    const double *d = c->derived;
    double fv, fw, m[6];
    adex_membrane(c, t, y[S_V], y[S_W], y[S_G_EXC], y[S_G_INH], &fv, &fw, m);
    for (int i = 0; i < S__N * S__N; i++)
        J[i] = 0.0;
#define JJ(i, j) J[(i) * S__N + (j)]
    JJ(S_V, S_V) = m[0];
    JJ(S_V, S_W) = m[1];
    JJ(S_V, S_G_EXC) = m[2];
    JJ(S_V, S_G_INH) = m[3];
    JJ(S_W, S_V) = m[4];
    JJ(S_W, S_W) = m[5];
    JJ(S_G_EXC, S_G_EXC) = -d[ADEX_D_INV_TAU_EXC];
    JJ(S_G_INH, S_G_INH) = -d[ADEX_D_INV_TAU_INH];
#undef JJ
    dfdt[S_V] = adex_dfdt(c, t);
    dfdt[S_W] = dfdt[S_G_EXC] = dfdt[S_G_INH] = 0.0;
    return GSL_SUCCESS;
}

static void receive(double y[], size_t receptor, double w, const apical_model_ctx *c)
{
    (void)c;
    y[S_G_EXC + receptor] += w;
}

const apical_model_type apical_adex_cond_exp = {
    .name = "adex_cond_exp",
    .doc = "Adaptive exponential integrate-and-fire (Brette & Gerstner 2005), exponential "
           "conductance synapses (NEST aeif_cond_exp): spike at V_peak, then V = V_reset, "
           "w += b.",
    .n_params = ADEX_P__N, .params = adex_param_fields,
    .n_state = S__N, .state = state_fields,
    .n_receptors = 2, .receptors = adex_receptors, .weight_unit = "nS",
    .n_derived = ADEX_D__N, .derive = adex_derive, .check = adex_check,
    .derivs = derivs, .jacobian = jacobian,
    .spike_distance = adex_spike_distance, .reset = adex_reset,
    .refractory_period = adex_refractory_period, .receive = receive,
    .quiet_horizon = NULL,
    .default_stepper = "rkf45", .default_abs_tol = 1e-6, .default_rel_tol = 1e-6,
};
