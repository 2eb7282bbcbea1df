/* Private to models/dendritic_hidden.c and models/dendritic_output.c: the
 * pieces the two neurons of the segregated-dendrite model (Guergiev,
 * Lillicrap & Richards 2017; docs/models/dendritic.md) share.
 *
 * Synaptic kernel. An input of weight w at t0 adds w to a slow and a fast
 * trace, u_L += w and u_s += w, which decay with tau_L and tau_s, so
 *   (u_L - u_s)/(tau_L - tau_s) = w kappa(t - t0),
 *   kappa(t) = (e^(-t/tau_L) - e^(-t/tau_s))/(tau_L - tau_s).
 * Truncation: an input of weight w on the matching *_end receptor, T later,
 * subtracts w e^(-T/tau_L) and w e^(-T/tau_s): exactly what is left of that
 * input's traces, so its kernel is zero from t0 + T on.
 *
 * Stochastic spiking. dH/dt = lambda_max sigma(C) (per ms) integrates the
 * hazard since the last spike; a spike is H reaching theta, an Exp(1) draw
 * from the neuron's own stream (ctx->rng), redrawn at every spike. That is an
 * exact inhomogeneous Poisson process of rate lambda_max sigma(C(t)) (time
 * rescaling), with no per-step random numbers. While refractory H is frozen. */
#ifndef APICAL_DENDRITIC_COMMON_H
#define APICAL_DENDRITIC_COMMON_H

#include <gsl/gsl_errno.h>
#include <math.h>
#include <stdio.h>

#include "apical/model.h"
#include "apical/rng.h"

/* Derived constants, identical in both models (each appends its own). */
enum { DEND_D_INV_TAU_L, DEND_D_INV_TAU_S, DEND_D_INV_DTAU, DEND_D_END_L, DEND_D_END_S,
       DEND_D_LAMBDA, DEND_D_G_TOT, DEND_D__N };

/* The reference's values (dt-free): tau_L = 10 ms, tau_s = 3 ms, kernel cut
 * after 10 ms, lambda_max = 0.2 /ms; conductances in 1/ms. */
#define DEND_FIELD_TAU_L {"tau_L", "ms", 10.0, 1e-3, 1e6, "slow kernel time constant"}
#define DEND_FIELD_TAU_S {"tau_s", "ms", 3.0, 1e-3, 1e6, "fast kernel time constant (< tau_L)"}
#define DEND_FIELD_T_TRUNC                                                                         \
    {"t_trunc", "ms", 10.0, 0.0, 1e6,                                                              \
     "kernel truncation time: what an input on a *_end receptor removes"}
#define DEND_FIELD_LAMBDA_MAX {"lambda_max", "Hz", 200.0, 0.0, 1e6, "maximum firing rate"}
#define DEND_FIELD_T_REF                                                                           \
    {"t_ref", "ms", 0.0, 0.0, 1e6, "refractory period (hazard frozen; C not reset)"}

/* Numerically safe logistic function. */
static inline double dend_sigma(double x)
{
    if (x >= 0.0)
        return 1.0 / (1.0 + exp(-x));
    const double e = exp(x);
    return e / (1.0 + e);
}

/* Exp(1) draw from the neuron's stream; never 0. */
static inline double dend_exp1(apical_rng *r)
{
    return -log(apical_rng_uniform_pos(r));
}

static inline void dend_derive_common(double tau_L, double tau_s, double t_trunc,
                                      double lambda_max_hz, double g_tot, double *d)
{
    d[DEND_D_INV_TAU_L] = 1.0 / tau_L;
    d[DEND_D_INV_TAU_S] = 1.0 / tau_s;
    /* check() refuses tau_L == tau_s; derive must not fail, so stay finite */
    d[DEND_D_INV_DTAU] = tau_L != tau_s ? 1.0 / (tau_L - tau_s) : 0.0;
    d[DEND_D_END_L] = exp(-t_trunc / tau_L);
    d[DEND_D_END_S] = exp(-t_trunc / tau_s);
    d[DEND_D_LAMBDA] = 1e-3 * lambda_max_hz; /* per ms */
    d[DEND_D_G_TOT] = g_tot;
}

static inline size_t dend_check_taus(double tau_L, double tau_s, size_t i_tau_s, char *why,
                                     size_t n)
{
    if (!(tau_s < tau_L)) {
        snprintf(why, n, "tau_s (%g ms) must be below tau_L (%g ms)", tau_s, tau_L);
        return i_tau_s + 1;
    }
    return 0;
}

/* An input on a kernel receptor: the start of w kappa(t - t0). */
static inline void dend_kernel_start(double *u_L, double *u_s, double w)
{
    *u_L += w;
    *u_s += w;
}

/* An input on a *_end receptor: remove the tail of an input of weight w
 * that started t_trunc ago. */
static inline void dend_kernel_end(double *u_L, double *u_s, double w, const double *d)
{
    *u_L -= w * d[DEND_D_END_L];
    *u_s -= w * d[DEND_D_END_S];
}

/* (u_L - u_s)/(tau_L - tau_s): the summed kernel of past inputs. */
static inline double dend_psp(double u_L, double u_s, const double *d)
{
    return (u_L - u_s) * d[DEND_D_INV_DTAU];
}

/* The hazard lambda_max sigma(C) in 1/ms (0 while refractory) and its
 * derivative with respect to C. */
static inline double dend_hazard(double C, const apical_model_ctx *c, double *dhdC)
{
    if (c->refractory) {
        if (dhdC)
            *dhdC = 0.0;
        return 0.0;
    }
    const double s = dend_sigma(C), lam = c->derived[DEND_D_LAMBDA];
    if (dhdC)
        *dhdC = lam * s * (1.0 - s);
    return lam * s;
}

/* Spiking on (H, theta) at state indices iH, iH + 1. */
static inline double dend_spike_distance(const double y[], size_t iH)
{
    return y[iH] - y[iH + 1];
}

static inline void dend_new_threshold(double y[], size_t iH, const apical_model_ctx *c)
{
    y[iH] = 0.0;
    if (c->rng)
        y[iH + 1] = dend_exp1(c->rng);
}

/* No spike before (theta - H)/lambda_max without input, since
 * dH/dt = lambda_max sigma(C) < lambda_max whatever C does. The factor
 * 1 - 1e-6 keeps the promise for the integrated H too: where sigma(C) is so
 * close to 1 that the exact bound is nearly tight, H grows at a nearly
 * constant slope that the steppers integrate to rounding error. */
static inline double dend_quiet_horizon(const double y[], size_t iH, const apical_model_ctx *c)
{
    const double lam = c->derived[DEND_D_LAMBDA], room = y[iH + 1] - y[iH];
    if (!(room > 0.0))
        return 0.0;
    if (!(lam > 0.0))
        return HUGE_VAL;
    return room / lam * (1.0 - 1e-6);
}

#endif
