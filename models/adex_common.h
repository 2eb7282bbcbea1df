/* Private to models/adex_cond_exp.c and models/adex_cond_alpha.c: the
 * adaptive exponential integrate-and-fire membrane (Brette & Gerstner 2005,
 * J Neurophysiol 94:3637; NEST aeif_cond_exp / aeif_cond_alpha) shared by
 * both synapse variants. Each variant keeps its own vtable and state layout;
 * state[0] is V_m and state[1] is w in both.
 *
 *   C_m dV/dt  = -g_L (V - E_L) + g_L Delta_T exp((V - V_T)/Delta_T)
 *                + g_exc (E_exc - V) + g_inh (E_inh - V) - w + I_e + I_dev(t)
 *   tau_w dw/dt = a (V - E_L) - w
 *
 * Spike: upward crossing of V_peak (of V_T when Delta_T = 0, where the
 * exponential term vanishes); then V = V_reset, w += b, and V is held for
 * t_ref while w and the conductances evolve. As in NEST, the right-hand side
 * is evaluated at min(V, V_peak), so the exponential cannot overflow during
 * the step that crosses V_peak. */
#ifndef APICAL_ADEX_COMMON_H
#define APICAL_ADEX_COMMON_H

#include <float.h>
#include <gsl/gsl_errno.h>
#include <math.h>
#include <stdio.h>

#include "apical/model.h"

enum { ADEX_C_M, ADEX_G_L, ADEX_E_L, ADEX_V_T, ADEX_DELTA_T, ADEX_V_PEAK, ADEX_V_RESET,
       ADEX_T_REF, ADEX_A, ADEX_B, ADEX_TAU_W, ADEX_E_EXC, ADEX_E_INH, ADEX_TAU_EXC,
       ADEX_TAU_INH, ADEX_I_E, ADEX_P__N };
enum { ADEX_D_INV_C, ADEX_D_INV_TAU_W, ADEX_D_INV_DELTA_T, ADEX_D_V_SPIKE, ADEX_D_INV_TAU_EXC,
       ADEX_D_INV_TAU_INH, ADEX_D__N };
enum { ADEX_S_V = 0, ADEX_S_W = 1 };

/* Defaults: Brette & Gerstner 2005 (NEST aeif_cond_exp defaults). */
static const apical_field adex_param_fields[ADEX_P__N] = {
    [ADEX_C_M] = {"C_m", "pF", 281.0, 1e-3, 1e9, "membrane capacitance"},
    [ADEX_G_L] = {"g_L", "nS", 30.0, 1e-6, 1e9, "leak conductance"},
    [ADEX_E_L] = {"E_L", "mV", -70.6, -200.0, 200.0, "leak reversal potential"},
    [ADEX_V_T] = {"V_T", "mV", -50.4, -200.0, 200.0,
                  "exponential threshold (the spike threshold when Delta_T = 0)"},
    [ADEX_DELTA_T] = {"Delta_T", "mV", 2.0, 0.0, 100.0, "slope factor (0: no exponential)"},
    [ADEX_V_PEAK] = {"V_peak", "mV", 0.0, -200.0, 200.0, "spike detection (cut-off) potential"},
    [ADEX_V_RESET] = {"V_reset", "mV", -60.0, -200.0, 200.0, "reset potential"},
    [ADEX_T_REF] = {"t_ref", "ms", 0.0, 0.0, 1e6, "refractory period (V held at V_reset)"},
    [ADEX_A] = {"a", "nS", 4.0, -1e6, 1e6, "subthreshold adaptation"},
    [ADEX_B] = {"b", "pA", 80.5, -1e9, 1e9, "spike-triggered adaptation jump"},
    [ADEX_TAU_W] = {"tau_w", "ms", 144.0, 1e-3, 1e6, "adaptation time constant"},
    [ADEX_E_EXC] = {"E_exc", "mV", 0.0, -200.0, 200.0, "excitatory reversal potential"},
    [ADEX_E_INH] = {"E_inh", "mV", -85.0, -200.0, 200.0, "inhibitory reversal potential"},
    [ADEX_TAU_EXC] = {"tau_exc", "ms", 0.2, 1e-3, 1e6, "excitatory synaptic time constant"},
    [ADEX_TAU_INH] = {"tau_inh", "ms", 2.0, 1e-3, 1e6, "inhibitory synaptic time constant"},
    [ADEX_I_E] = {"I_e", "pA", 0.0, -1e9, 1e9, "constant injected current"},
};

static const char *const adex_receptors[] = {"exc", "inh"};

static void adex_derive(const double *p, double *d)
{
    d[ADEX_D_INV_C] = 1.0 / p[ADEX_C_M];
    d[ADEX_D_INV_TAU_W] = 1.0 / p[ADEX_TAU_W];
    d[ADEX_D_INV_DELTA_T] = p[ADEX_DELTA_T] > 0.0 ? 1.0 / p[ADEX_DELTA_T] : 0.0;
    d[ADEX_D_V_SPIKE] = p[ADEX_DELTA_T] > 0.0 ? p[ADEX_V_PEAK] : p[ADEX_V_T];
    d[ADEX_D_INV_TAU_EXC] = 1.0 / p[ADEX_TAU_EXC];
    d[ADEX_D_INV_TAU_INH] = 1.0 / p[ADEX_TAU_INH];
}

static size_t adex_check(const double *p, char *why, size_t n)
{
    if (p[ADEX_DELTA_T] > 0.0) {
        if (!(p[ADEX_V_PEAK] > p[ADEX_V_T])) {
            snprintf(why, n, "V_peak (%g mV) must be above V_T (%g mV)", p[ADEX_V_PEAK],
                     p[ADEX_V_T]);
            return ADEX_V_PEAK + 1;
        }
        /* exp((V_peak - V_T)/Delta_T) times g_L Delta_T must stay far from
         * overflow (NEST's criterion). */
        if ((p[ADEX_V_PEAK] - p[ADEX_V_T]) / p[ADEX_DELTA_T] >= log(DBL_MAX / 1e20)) {
            snprintf(why, n,
                     "Delta_T (%g mV) is too small for V_peak - V_T = %g mV: "
                     "exp((V_peak - V_T)/Delta_T) would overflow",
                     p[ADEX_DELTA_T], p[ADEX_V_PEAK] - p[ADEX_V_T]);
            return ADEX_DELTA_T + 1;
        }
        if (!(p[ADEX_V_RESET] < p[ADEX_V_PEAK])) {
            snprintf(why, n, "V_reset (%g mV) must be below V_peak (%g mV)", p[ADEX_V_RESET],
                     p[ADEX_V_PEAK]);
            return ADEX_V_RESET + 1;
        }
    } else if (!(p[ADEX_V_RESET] < p[ADEX_V_T])) {
        snprintf(why, n, "V_reset (%g mV) must be below V_T (%g mV), the threshold when "
                 "Delta_T = 0", p[ADEX_V_RESET], p[ADEX_V_T]);
        return ADEX_V_RESET + 1;
    }
    return 0;
}

/* Membrane and adaptation derivatives at (V, w) with synaptic conductances
 * ge, gi; the Jacobian entries when J != NULL: J[0] = d fV/dV,
 * J[1] = d fV/dw, J[2] = d fV/dge, J[3] = d fV/dgi, J[4] = d fw/dV,
 * J[5] = d fw/dw. Returns 0 when every result is finite. */
static inline int adex_membrane(const apical_model_ctx *c, double t, double V, double w,
                                double ge, double gi, double *fV, double *fw, double *J)
{
    const double *p = c->param, *d = c->derived;
    const double vs = d[ADEX_D_V_SPIKE];
    /* min(V, V_spike), written so that a NaN V stays NaN */
    const int clamped = V > vs;
    const double v = clamped ? vs : V;
    const double ex = p[ADEX_DELTA_T] > 0.0
                      ? p[ADEX_G_L] * p[ADEX_DELTA_T] * exp((v - p[ADEX_V_T]) * d[ADEX_D_INV_DELTA_T])
                      : 0.0;
    *fw = (p[ADEX_A] * (v - p[ADEX_E_L]) - w) * d[ADEX_D_INV_TAU_W];
    *fV = c->refractory ? 0.0
          : (p[ADEX_G_L] * (p[ADEX_E_L] - v) + ex + ge * (p[ADEX_E_EXC] - v) +
             gi * (p[ADEX_E_INH] - v) - w + p[ADEX_I_E] + apical_ctx_current(c, t)) *
                d[ADEX_D_INV_C];
    if (J) {
        const double inv_c = c->refractory ? 0.0 : d[ADEX_D_INV_C];
        /* above V_spike the right-hand side no longer depends on V */
        J[0] = clamped ? 0.0 : (-p[ADEX_G_L] + ex * d[ADEX_D_INV_DELTA_T] - ge - gi) * inv_c;
        J[1] = -inv_c;
        J[2] = (p[ADEX_E_EXC] - v) * inv_c;
        J[3] = (p[ADEX_E_INH] - v) * inv_c;
        J[4] = clamped ? 0.0 : p[ADEX_A] * d[ADEX_D_INV_TAU_W];
        J[5] = -d[ADEX_D_INV_TAU_W];
    }
    return isfinite(*fV) && isfinite(*fw) ? 0 : -1;
}

/* d/dt of the device current over C_m (the explicit time dependence). */
static inline double adex_dfdt(const apical_model_ctx *c, double t)
{
    if (c->refractory || c->i_sin_amp == 0.0)
        return 0.0;
    return c->i_sin_amp * c->i_sin_omega * cos(c->i_sin_omega * t + c->i_sin_phase) *
           c->derived[ADEX_D_INV_C];
}

static double adex_spike_distance(const double y[], const apical_model_ctx *c)
{
    return y[ADEX_S_V] - c->derived[ADEX_D_V_SPIKE];
}

static void adex_reset(double y[], const apical_model_ctx *c)
{
    y[ADEX_S_V] = c->param[ADEX_V_RESET];
    y[ADEX_S_W] += c->param[ADEX_B];
}

static double adex_refractory_period(const apical_model_ctx *c)
{
    return c->param[ADEX_T_REF];
}

#endif
