/* Oja's rule (Oja 1982) on spike trains, with the means subtracted so that
 * the weight vector finds the principal component of the inputs'
 * covariance, not of their raw second moment (rates are positive).
 *
 * Rate form:  dw_i/dt = eta y (x_i - y w_i)  with x, y centred.
 *
 * Spike form, applied at every postsynaptic spike t (which reaches the
 * synapse at t + d, NEST's dendritic-delay convention as for stdp):
 *
 *   w_i += eta [ (x_i - xbar_i) - (y - ybar) w_i ]
 *
 * x_i: presynaptic trace (each spike adds 1/tau_x, decays with tau_x: a
 * rate in Hz) at t + d; y: postsynaptic trace (adds 1/tau_y) just before
 * the spike; xbar_i, ybar: the same with tau_mean, bias-corrected as
 * trace / (1 - e^(-t/tau_mean)) (the traces start at 0 at t = 0). Why at
 * post spikes: summing over postsynaptic spikes is an integral against the
 * postsynaptic rate, so the expected drift is
 *   E[rho_post (x_i - xbar_i)] = Cov(y_rate, x_i),
 *   E[rho_post (y - ybar)]     = Cov(y_rate(t), y_rate(t - s)) averaged over
 *                                 the tau_y kernel ~ Var(y_rate) for a short tau_y,
 * which is Oja's drift C w - (w'Cw) w for a linear neuron y_rate = w.x
 * (poisson_linear with tau = tau_x): fixed point the top eigenvector of C
 * with |w| = 1. C is the covariance of the filtered inputs x, shot noise of
 * the spike trains included (docs/plasticity.md, "oja"). */
#include <math.h>
#include <stdio.h>

#include "apical/fastexp.h"
#include "apical/plasticity.h"

enum { P_ETA, P_TAU_X, P_TAU_Y, P_TAU_MEAN, P_W_MIN, P_W_MAX, P__N };

static const apical_field param_fields[P__N] = {
    [P_ETA] = {"eta", "s", 1e-4, 0.0, 1e3,
               "learning rate: weight change per post spike per Hz of rate deviation"},
    [P_TAU_X] = {"tau_x", "ms", 100.0, 1e-3, 1e9,
                 "presynaptic rate trace (the target's input filter, for a linear neuron)"},
    [P_TAU_Y] = {"tau_y", "ms", 5.0, 1e-3, 1e9,
                 "postsynaptic rate trace (short: y ~ the rate at the spike)"},
    [P_TAU_MEAN] = {"tau_mean", "ms", 20000.0, 1e-3, 1e12,
                    "time constant of the running means xbar, ybar"},
    [P_W_MIN] = {"W_min", "w", -10.0, -1e9, 1e9, "lower weight bound"},
    [P_W_MAX] = {"W_max", "w", 10.0, -1e9, 1e9, "upper weight bound"},
};

enum { D_ITX, D_ITY, D_ITM, D_ETA_HZ, D__N };

/* Traces count in Hz: a spike adds 1000/tau_ms. eta (s) times a rate (Hz) is
 * the dimensionless weight change of the target's weight unit "1". */
static void derive(const double *p, double *d)
{
    d[D_ITX] = 1.0 / p[P_TAU_X];
    d[D_ITY] = 1.0 / p[P_TAU_Y];
    d[D_ITM] = 1.0 / p[P_TAU_MEAN];
    d[D_ETA_HZ] = p[P_ETA]; /* in s (the field's unit): eta times a rate in Hz */
}

static size_t check(const double *p, char *why, size_t n)
{
    if (!(p[P_W_MIN] < p[P_W_MAX])) {
        snprintf(why, n, "W_min (%g) must be below W_max (%g)", p[P_W_MIN], p[P_W_MAX]);
        return P_W_MAX + 1;
    }
    return 0;
}

/* Post traces just after a spike at t: y (tau_y) and ybar's raw trace
 * (tau_mean), both in Hz. */
static void post_spike(const double *p, const double *d, double t, double t_prev,
                       const double *prev, double *out)
{
    (void)p;
    double y = 0.0, m = 0.0;
    if (prev) {
        y = prev[0] * apical_fexp((t_prev - t) * d[D_ITY]);
        m = prev[1] * apical_fexp((t_prev - t) * d[D_ITM]);
    }
    out[0] = y + 1e3 * d[D_ITY];
    out[1] = m + 1e3 * d[D_ITM];
}

/* A running mean from a trace started at 0 at time 0: unbiased for a
 * stationary rate at any t > 0. */
static inline double mean_at(double raw, double t, double itm)
{
    const double norm = 1.0 - exp(-t * itm);
    return norm > 0.0 ? raw / norm : 0.0;
}

static void pre_spike(const double *p, const double *d, double t_pre, double t_last, double dl,
                      double *w, double *pre, const apical_post_spike *hist, size_t first,
                      size_t n)
{
    double wi = *w;
    const double eta = d[D_ETA_HZ];
    for (size_t j = first; j < n; j++) {
        const double tj = hist[j].t, ta = tj + dl; /* the post spike at the synapse */
        /* pre traces at ta > t_last (post spikes come after t_last - d) */
        const double age = ta - t_last;
        const double x = pre[0] * apical_fexp(-age * d[D_ITX]);
        const double xm = mean_at(pre[1] * apical_fexp(-age * d[D_ITM]), ta, d[D_ITM]);
        /* post traces just before the spike: the stored values less its own step */
        const double y = hist[j].trace[0] - 1e3 * d[D_ITY];
        const double ym = mean_at(hist[j].trace[1] - 1e3 * d[D_ITM], tj, d[D_ITM]);
        wi += eta * ((x - xm) - (y - ym) * wi);
        if (wi < p[P_W_MIN])
            wi = p[P_W_MIN];
        if (wi > p[P_W_MAX])
            wi = p[P_W_MAX];
    }
    *w = wi;
    const double age = t_last > -HUGE_VAL ? t_pre - t_last : 0.0;
    pre[0] = pre[0] * apical_fexp(-age * d[D_ITX]) + 1e3 * d[D_ITX];
    pre[1] = pre[1] * apical_fexp(-age * d[D_ITM]) + 1e3 * d[D_ITM];
}

const apical_plasticity_type apical_oja = {
    .name = "oja",
    .doc = "Oja's rule on rate traces, means subtracted: at each post spike "
           "w += eta ((x - xbar) - (y - ybar) w) (principal component of the input covariance)",
    .n_params = P__N, .params = param_fields,
    .n_pre = 2, .n_post = 2, .n_derived = D__N,
    .derive = derive, .check = check,
    .post_spike = post_spike, .pre_spike = pre_spike,
};
