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
#include <string.h>

#include "apical/fastexp.h"
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

/* --- exact window integration (stepper "exact", apical_exact_ops) --------
 *
 * Between inputs every variable but H is linear. With K the constant drive
 * (g_B bias + g_A apical_bias, or g_D bias + g_E E_E + g_I E_I), g the
 * soma's decay rate, gamma_c = g_c/(tau_L - tau_s) per dendrite c, and rates
 * r_L = 1/tau_L, r_s = 1/tau_s:
 *   dC/dt = -g C + K + sum_c gamma_c (x_Lc - x_sc),  x_rc' = -r x_rc + inputs.
 * A trace x(t) = e^(-r t) X, switched on at t_k, drives C by
 *   X (e^(-r t) - e^(-g t) e^((g - r) t_k))/(g - r),
 * so with Q(t) = sum_c gamma_c (x_Lc(t)/(g - r_L) - x_sc(t)/(g - r_s)):
 *   C(s) = e^(-g s) (C0 - Q(0) - A_G(s)) + K (1 - e^(-g s))/g + Q(s),
 * where A_G sums each input's e^(g t_k) gamma_c (d_L/(g - r_L) - d_s/(g - r_s))
 * (d_L, d_s: what the input adds to the two traces) and the traces are
 * x_rc(s) = e^(-r s) (x_rc(0) + A_rc), A_rc = sum of d_r e^(r t_k). The
 * integrals follow from the ODEs themselves:
 *   int_0^s psp_c = [(x_Lc(0) - x_Lc(s)) tau_L - (x_sc(0) - x_sc(s)) tau_s
 *                    + sum (d_L tau_L - d_s tau_s)]/(tau_L - tau_s)
 *   int_0^s C     = (K s + sum_c g_c int psp_c - (C(s) - C0))/g.
 * Accumulators per dendrite c: [3c] A_Lc, [3c + 1] A_sc, [3c + 2] M_c (the
 * last sum above); then A_G. Times s are from the window start, so the
 * factors e^(r t_k), e^(g t_k) stay below e^(g window). */

enum { DEND_B_EG, DEND_B_EL, DEND_B_ES, DEND_B_S, DEND_B_FG, DEND_B_IGL, DEND_B_IGS, DEND_B__N };

/* One dendrite of a neuron for the exact path: its trace state indices,
 * coupling to the soma (1/ms) and constant potential (bias). */
typedef struct dend_site {
    size_t iL, is;
    double g_c;
} dend_site;

/* g must differ clearly from both kernel rates for the closed form; 1e-3
 * relative keeps the cancellation in 1/(g - r) to ~3 digits. */
static inline double dend_exact_rate(double g, const double *d)
{
    const double rL = d[DEND_D_INV_TAU_L], rs = d[DEND_D_INV_TAU_S];
    if (!(g > 0.0) || fabs(g - rL) < 1e-3 * g || fabs(g - rs) < 1e-3 * g)
        return NAN;
    return g;
}

/* The exact path's exps are apical_fexp (include/apical/fastexp.h): within
 * 2 ulp of libm at a few ns instead of ~15 (~1000 per 1 ms window on MNIST:
 * a basis per thinning candidate, three factors per input spike). */
static inline void dend_exact_basis(double s, double g, const double *d, double b[])
{
    const double rL = d[DEND_D_INV_TAU_L], rs = d[DEND_D_INV_TAU_S];
    const double eg = apical_fexp(-g * s);
    b[DEND_B_EG] = eg;
    b[DEND_B_EL] = apical_fexp(-rL * s);
    b[DEND_B_ES] = apical_fexp(-rs * s);
    b[DEND_B_S] = s;
    /* (1 - e^(-g s))/g, by its series where the difference would cancel */
    b[DEND_B_FG] = fabs(g * s) < 0.1 ? s * apical_phi_taylor(-g * s) : (1.0 - eg) / g;
    b[DEND_B_IGL] = 1.0 / (g - rL);
    b[DEND_B_IGS] = 1.0 / (g - rs);
}

/* Increments for an input on dendrite c of n_sites, per unit weight: a
 * kernel start (end = 0) adds 1 to both traces, an end removes what is left
 * after t_trunc. */
static inline void dend_exact_input(size_t c, size_t n_sites, double g_c, int end, double s,
                                    double g, const double *d, double coef[])
{
    const double rL = d[DEND_D_INV_TAU_L], rs = d[DEND_D_INV_TAU_S], k = d[DEND_D_INV_DTAU];
    const double dL = end ? -d[DEND_D_END_L] : 1.0, ds = end ? -d[DEND_D_END_S] : 1.0;
    for (size_t a = 0; a < 3 * n_sites + 1; a++)
        coef[a] = 0.0;
    coef[3 * c] = dL * apical_fexp(rL * s);
    coef[3 * c + 1] = ds * apical_fexp(rs * s);
    coef[3 * c + 2] = k * (dL / rL - ds / rs);
    coef[3 * n_sites] = apical_fexp(g * s) * g_c * k * (dL / (g - rL) - ds / (g - rs));
}

/* Q of the traces x (per site: L at iL, s at is) scaled by e^(-r s). */
static inline double dend_exact_q(const double y0[], const double acc[], const dend_site *site,
                                  size_t n_sites, const double b[], const double *d, int at_s)
{
    const double k = d[DEND_D_INV_DTAU];
    double q = 0.0;
    for (size_t c = 0; c < n_sites; c++) {
        double xL = y0[site[c].iL], xs = y0[site[c].is];
        if (at_s) {
            xL = b[DEND_B_EL] * (xL + acc[3 * c]);
            xs = b[DEND_B_ES] * (xs + acc[3 * c + 1]);
        }
        q += site[c].g_c * k * (xL * b[DEND_B_IGL] - xs * b[DEND_B_IGS]);
    }
    return q;
}

static inline double dend_exact_soma(const double y0[], size_t iC, const double acc[],
                                     const dend_site *site, size_t n_sites, double K,
                                     const double b[], const double *d)
{
    const double q0 = dend_exact_q(y0, acc, site, n_sites, b, d, 0);
    const double qs = dend_exact_q(y0, acc, site, n_sites, b, d, 1);
    return b[DEND_B_EG] * (y0[iC] - q0 - acc[3 * n_sites]) + K * b[DEND_B_FG] + qs;
}

/* Traces, C and int_C at s; returns int_0^s psp of each site in psp[]. */
static inline void dend_exact_state(const double y0[], size_t iC, size_t iIntC, const double acc[],
                                    const dend_site *site, size_t n_sites, double K, double g,
                                    const double b[], const double *d, double y[], double psp[])
{
    const double k = d[DEND_D_INV_DTAU], tauL = 1.0 / d[DEND_D_INV_TAU_L],
                 taus = 1.0 / d[DEND_D_INV_TAU_S], s = b[DEND_B_S];
    const double C = dend_exact_soma(y0, iC, acc, site, n_sites, K, b, d);
    double drive = K * s;
    for (size_t c = 0; c < n_sites; c++) {
        const double xL0 = y0[site[c].iL], xs0 = y0[site[c].is];
        const double xL = b[DEND_B_EL] * (xL0 + acc[3 * c]);
        const double xs = b[DEND_B_ES] * (xs0 + acc[3 * c + 1]);
        psp[c] = k * ((xL0 - xL) * tauL - (xs0 - xs) * taus) + acc[3 * c + 2];
        drive += site[c].g_c * psp[c];
        y[site[c].iL] = xL;
        y[site[c].is] = xs;
    }
    y[iIntC] = y0[iIntC] + (drive - (C - y0[iC])) / g;
    y[iC] = C;
}

/* A double's bits, and a bitwise select of a (cond) or b: branch-free
 * helpers for the vector loops below. */
static inline uint64_t dend_bits(double x)
{
    uint64_t b;
    memcpy(&b, &x, sizeof b);
    return b;
}

static inline double dend_blend(int cond, double a, double b)
{
    const uint64_t m = -(uint64_t)(cond != 0), r = (dend_bits(a) & m) | (dend_bits(b) & ~m);
    double x;
    memcpy(&x, &r, sizeof x);
    return x;
}

/* state_end_n (apical_exact_ops) for a model with n_sites dendrites and
 * drive(y0) = sum_k kd[k] y0[id[k]] over nd constant drives: the loop of
 * dend_exact_state over the neurons, written once so that both models'
 * kernels are this one, inlined with their constants.
 *
 * It reads the struct-of-arrays copy ys (variable k of neuron j at
 * ys[k n + j]): one vector loop over the neurons, where the array of
 * structs y (ns doubles per neuron) is a strided load gcc does not
 * vectorise. It writes what it changes to both (strided stores do
 * vectorise). Every lane does dend_exact_state's operations in its order
 * (no contraction under -std=c11): the same bits. Inlined always: the
 * caller is a target_clones function, whose clones would otherwise call
 * one copy compiled for the baseline instruction set. */
static inline __attribute__((always_inline)) int
dend_exact_end_n(size_t n, double *restrict y, double *restrict ys, double *restrict acc,
                 const double *restrict b, double g, const double *d, const dend_site *site,
                 size_t n_sites, size_t ns, size_t iC, size_t iIntC, size_t iIntA,
                 size_t iABias, const size_t *id, const double *kd, size_t nd)
{
    const double k = d[DEND_D_INV_DTAU], tauL = 1.0 / d[DEND_D_INV_TAU_L],
                 taus = 1.0 / d[DEND_D_INV_TAU_S];
    const double EG = b[DEND_B_EG], EL = b[DEND_B_EL], ES = b[DEND_B_ES], S = b[DEND_B_S],
                 FG = b[DEND_B_FG], IGL = b[DEND_B_IGL], IGS = b[DEND_B_IGS];
    double gc[2];
    size_t iL[2], is[2];
    for (size_t c = 0; c < n_sites; c++) {
        gc[c] = site[c].g_c;
        iL[c] = site[c].iL;
        is[c] = site[c].is;
    }
    const size_t n_acc = 3 * n_sites + 1;
    /* not finite: the exponent bits all set (an integer OR, which
     * vectorises, where a sum of the values would not without
     * reassociation) */
    const uint64_t EXP = 0x7ff0000000000000u;
    uint64_t bad = 0;
    /* iteration j touches only neuron j; without this gcc would version the
     * loop on run-time overlap tests between every pair of rows */
#pragma GCC ivdep
    for (size_t j = 0; j < n; j++) {
        const double C0 = ys[iC * n + j];
        double K = kd[0] * ys[id[0] * n + j]; /* the models' order, term by term */
        for (size_t q = 1; q < nd; q++)
            K += kd[q] * ys[id[q] * n + j];
        /* dend_exact_soma */
        double q0 = 0.0, qs = 0.0, xL0[2], xs0[2], xL[2], xs[2];
        for (size_t c = 0; c < n_sites; c++) {
            xL0[c] = ys[iL[c] * n + j];
            xs0[c] = ys[is[c] * n + j];
            q0 += gc[c] * k * (xL0[c] * IGL - xs0[c] * IGS);
        }
        for (size_t c = 0; c < n_sites; c++) {
            xL[c] = EL * (xL0[c] + acc[3 * c * n + j]);
            xs[c] = ES * (xs0[c] + acc[(3 * c + 1) * n + j]);
            qs += gc[c] * k * (xL[c] * IGL - xs[c] * IGS);
        }
        const double C = EG * (C0 - q0 - acc[3 * n_sites * n + j]) + K * FG + qs;
        /* dend_exact_state */
        double drive = K * S, psp = 0.0;
        for (size_t c = 0; c < n_sites; c++) {
            psp = k * ((xL0[c] - xL[c]) * tauL - (xs0[c] - xs[c]) * taus) +
                  acc[(3 * c + 2) * n + j];
            drive += gc[c] * psp;
        }
        const double I = ys[iIntC * n + j] + (drive - (C - C0)) / g;
        for (size_t c = 0; c < n_sites; c++) {
            ys[iL[c] * n + j] = y[j * ns + iL[c]] = xL[c];
            ys[is[c] * n + j] = y[j * ns + is[c]] = xs[c];
        }
        ys[iIntC * n + j] = y[j * ns + iIntC] = I;
        ys[iC * n + j] = y[j * ns + iC] = C;
        uint64_t e = ((dend_bits(I) & EXP) == EXP) | ((dend_bits(C) & EXP) == EXP);
        for (size_t c = 0; c < n_sites; c++)
            e |= ((dend_bits(xL[c]) & EXP) == EXP) | ((dend_bits(xs[c]) & EXP) == EXP);
        if (iIntA != (size_t)-1) { /* psp: the last site's (the apical one) */
            const double IA = ys[iIntA * n + j] + ys[iABias * n + j] * S + psp;
            ys[iIntA * n + j] = y[j * ns + iIntA] = IA;
            e |= (dend_bits(IA) & EXP) == EXP;
        }
        bad |= e;
        for (size_t q = 0; q < n_acc; q++)
            acc[q * n + j] = 0.0;
    }
    return bad != 0;
}

/* dend_exact_input for m inputs at s[k], into coef[a stride + k]: one
 * vector loop, lane k doing dend_exact_input's operations in its order
 * (the same bits). */
static inline __attribute__((always_inline)) void
dend_exact_input_n(size_t c, size_t n_sites, double g_c, int end, size_t m,
                   const double *restrict s, double g, const double *d, double *restrict coef,
                   size_t stride)
{
    const double rL = d[DEND_D_INV_TAU_L], rs = d[DEND_D_INV_TAU_S], k = d[DEND_D_INV_DTAU];
    const double dL = end ? -d[DEND_D_END_L] : 1.0, ds = end ? -d[DEND_D_END_S] : 1.0;
    const double cM = k * (dL / rL - ds / rs), cG = dL / (g - rL) - ds / (g - rs);
    /* the clamp bounds read once through volatile: as literals gcc would
     * specialise the clamps into control flow and not vectorise the loop
     * (include/apical/fastexp.h) */
    volatile double vlo = APICAL_FEXP_LO, vhi = APICAL_FEXP_HI;
    const double lo = vlo, hi = vhi;
    for (size_t a = 0; a < 3 * n_sites + 1; a++)
        if (a < 3 * c || a > 3 * c + 2)
            for (size_t q = 0; q < m; q++)
                coef[a * stride + q] = 0.0;
    double *restrict cL = coef + 3 * c * stride, *restrict cS = coef + (3 * c + 1) * stride;
    double *restrict cm = coef + (3 * c + 2) * stride, *restrict cg = coef + 3 * n_sites * stride;
    for (size_t q = 0; q < m; q++) {
        cL[q] = dL * apical_fexp_clamped(rL * s[q], lo, hi);
        cS[q] = ds * apical_fexp_clamped(rs * s[q], lo, hi);
        cm[q] = cM;
        cg[q] = apical_fexp_clamped(g * s[q], lo, hi) * g_c * k * cG;
    }
}

/* hazard(soma(basis(s[q]))) of m candidates (apical_exact_ops.hazard_n):
 * candidate q is neuron j[q], its window-start state in ys (struct of
 * arrays over n neurons), its accumulators acc[a stride + q]. Lane q does
 * dend_exact_basis, dend_exact_soma and dend_exact_hazard's operations in
 * their order: the same bits. */
static inline __attribute__((always_inline)) void
dend_exact_hazard_n(size_t m, const double *restrict s, const uint32_t *restrict jj,
                    const double *restrict acc, size_t stride, const double *restrict ys,
                    size_t n, double g, const double *d, const dend_site *site, size_t n_sites,
                    size_t iC, const size_t *id, const double *kd, size_t nd,
                    double *restrict hz)
{
    const double rL = d[DEND_D_INV_TAU_L], rs = d[DEND_D_INV_TAU_S], k = d[DEND_D_INV_DTAU];
    const double IGL = 1.0 / (g - rL), IGS = 1.0 / (g - rs), lam = d[DEND_D_LAMBDA];
    /* the clamp bounds read once through volatile: as literals gcc would
     * specialise the clamps into control flow and not vectorise the loop
     * (include/apical/fastexp.h) */
    volatile double vlo = APICAL_FEXP_LO, vhi = APICAL_FEXP_HI;
    const double lo = vlo, hi = vhi;
    double gc[2];
    size_t iL[2], is[2];
    for (size_t c = 0; c < n_sites; c++) {
        gc[c] = site[c].g_c;
        iL[c] = site[c].iL;
        is[c] = site[c].is;
    }
    for (size_t q = 0; q < m; q++) {
        const double sq = s[q];
        const size_t j = jj[q];
        /* dend_exact_basis */
        const double EG = apical_fexp_clamped(-g * sq, lo, hi);
        const double EL = apical_fexp_clamped(-rL * sq, lo, hi);
        const double ES = apical_fexp_clamped(-rs * sq, lo, hi);
        /* FG: both branches computed and blended bitwise (selecting two
         * values would let gcc sink the division into a branch, which it
         * then cannot if-convert under trapping math, and the loop stays
         * scalar); |g s| < 0.1 compared as bits, which order like the
         * values for non-negative doubles (NaN: not below, as before) */
        const double F1 = sq * apical_phi_taylor(-g * sq), F2 = (1.0 - EG) / g;
        const double ax = fabs(g * sq);
        const double FG = dend_blend(dend_bits(ax) < dend_bits(0.1), F1, F2);
        /* drive and dend_exact_soma */
        double K = kd[0] * ys[id[0] * n + j];
        for (size_t r = 1; r < nd; r++)
            K += kd[r] * ys[id[r] * n + j];
        double q0 = 0.0, qs = 0.0;
        for (size_t c = 0; c < n_sites; c++) {
            const double xL = ys[iL[c] * n + j], xs = ys[is[c] * n + j];
            q0 += gc[c] * k * (xL * IGL - xs * IGS);
        }
        for (size_t c = 0; c < n_sites; c++) {
            const double xL = EL * (ys[iL[c] * n + j] + acc[3 * c * stride + q]);
            const double xs = ES * (ys[is[c] * n + j] + acc[(3 * c + 1) * stride + q]);
            qs += gc[c] * k * (xL * IGL - xs * IGS);
        }
        const double C = EG * (ys[iC * n + j] - q0 - acc[3 * n_sites * stride + q]) + K * FG + qs;
        /* dend_exact_hazard */
        const double e = apical_fexp_clamped(-fabs(C), lo, hi);
        /* numerator 1 (C >= 0) or e, by C's sign bit: -0 gives e = 1 */
        const double num = (int64_t)dend_bits(C) < 0 ? e : 1.0;
        hz[q] = lam * (num / (1.0 + e));
    }
}

static inline double dend_exact_hazard(double C, const apical_model_ctx *c)
{
    const double e = apical_fexp(-fabs(C)); /* the logistic as dend_sigma */
    return c->derived[DEND_D_LAMBDA] * (C >= 0.0 ? 1.0 / (1.0 + e) : e / (1.0 + e));
}

static inline double dend_exact_growth(double g, const apical_model_ctx *c)
{
    return fmax(g, fmax(c->derived[DEND_D_INV_TAU_L], c->derived[DEND_D_INV_TAU_S]));
}

static inline double dend_exact_hazard_bound(const apical_model_ctx *c)
{
    return c->derived[DEND_D_LAMBDA];
}

#endif
