/* Triplet STDP (Pfister & Gerstner 2006), NEST stdp_triplet_synapse
 * semantics, on the normalised weight u = w / W_max:
 *   at a post spike (reaching the synapse):  u += K+ (A2_plus + A3_plus y-)
 *   at a pre spike:                          u -= K- (A2_minus + A3_minus x-)
 * with presynaptic traces K+ (tau_plus) and x (tau_x), postsynaptic traces
 * K- (tau_minus) and y (tau_y); "-" means just before the current spike.
 * u is clipped to [0, 1]. All-to-all: traces add 1 per spike; nearest-spike:
 * traces are reset to 1. Defaults: the visual-cortex all-to-all set of
 * Pfister & Gerstner (2006), Table 4 (also the preset `triplet_visual_cortex`). */
#include <math.h>

#include "apical/fastexp.h"
#include "apical/plasticity.h"

enum { P_TAU_PLUS, P_TAU_X, P_TAU_MINUS, P_TAU_Y, P_A2_PLUS, P_A3_PLUS, P_A2_MINUS,
       P_A3_MINUS, P_W_MAX, P__N };

static const apical_field param_fields[P__N] = {
    [P_TAU_PLUS] = {"tau_plus", "ms", 16.8, 1e-3, 1e6, "pair presynaptic trace"},
    [P_TAU_X] = {"tau_x", "ms", 101.0, 1e-3, 1e6, "triplet presynaptic trace"},
    [P_TAU_MINUS] = {"tau_minus", "ms", 33.7, 1e-3, 1e6, "pair postsynaptic trace"},
    [P_TAU_Y] = {"tau_y", "ms", 125.0, 1e-3, 1e6, "triplet postsynaptic trace"},
    [P_A2_PLUS] = {"A2_plus", "1", 5e-10, 0.0, 1.0, "pair potentiation amplitude"},
    [P_A3_PLUS] = {"A3_plus", "1", 6.2e-3, 0.0, 1.0, "triplet potentiation amplitude"},
    [P_A2_MINUS] = {"A2_minus", "1", 7e-3, 0.0, 1.0, "pair depression amplitude"},
    [P_A3_MINUS] = {"A3_minus", "1", 2.3e-4, 0.0, 1.0, "triplet depression amplitude"},
    [P_W_MAX] = {"W_max", "w", 10.0, 0.0, 1e9, "maximum weight (projection's weight unit)"},
};

static void derive(const double *p, double *d)
{
    (void)p;
    (void)d;
}

/* post traces: [0] K-, [1] y */
static void post_common(const double *p, double t, double t_prev, const double *prev, double *out,
                        int nearest)
{
    double km = prev ? prev[0] * apical_fexp((t_prev - t) / p[P_TAU_MINUS]) : 0.0;
    double y = prev ? prev[1] * apical_fexp((t_prev - t) / p[P_TAU_Y]) : 0.0;
    out[0] = nearest ? 1.0 : km + 1.0;
    out[1] = nearest ? 1.0 : y + 1.0;
}

static void post_all(const double *p, const double *d, double t, double t_prev, const double *prev,
                     double *out)
{
    (void)d;
    post_common(p, t, t_prev, prev, out, 0);
}

static void post_nearest(const double *p, const double *d, double t, double t_prev,
                         const double *prev, double *out)
{
    (void)d;
    post_common(p, t, t_prev, prev, out, 1);
}

/* pre traces: [0] K+, [1] x */
static void pre_common(const double *p, double t_pre, double t_last, double d, double *w,
                       double *pre, const apical_post_spike *hist, size_t first, size_t n,
                       int nearest)
{
    const double wmax = p[P_W_MAX];
    double u = wmax > 0.0 ? *w / wmax : 0.0;
    for (size_t j = first; j < n; j++) {
        double kplus = pre[0] * apical_fexp((t_last - (hist[j].t + d)) / p[P_TAU_PLUS]);
        /* y just before this post spike: the previous archived spike's y */
        double y = j > 0 ? hist[j - 1].trace[1] *
                               apical_fexp((hist[j - 1].t - hist[j].t) / p[P_TAU_Y])
                         : 0.0;
        u += kplus * (p[P_A2_PLUS] + p[P_A3_PLUS] * y);
        if (u > 1.0)
            u = 1.0;
    }
    const double kminus = apical_post_trace_at(hist, n, t_pre - d, 0, p[P_TAU_MINUS]);
    double x = pre[1] * apical_fexp((t_last - t_pre) / p[P_TAU_X]);
    u -= kminus * (p[P_A2_MINUS] + p[P_A3_MINUS] * x);
    if (u < 0.0)
        u = 0.0;
    *w = u * wmax;
    double kp = pre[0] * apical_fexp((t_last - t_pre) / p[P_TAU_PLUS]);
    pre[0] = nearest ? 1.0 : kp + 1.0;
    pre[1] = nearest ? 1.0 : x + 1.0;
}

static void pre_all(const double *p, const double *d, double t_pre, double t_last, double dl,
                    double *w, double *pre, const apical_post_spike *hist, size_t first, size_t n)
{
    (void)d;
    pre_common(p, t_pre, t_last, dl, w, pre, hist, first, n, 0);
}

static void pre_nearest(const double *p, const double *d, double t_pre, double t_last, double dl,
                        double *w, double *pre, const apical_post_spike *hist, size_t first,
                        size_t n)
{
    (void)d;
    pre_common(p, t_pre, t_last, dl, w, pre, hist, first, n, 1);
}

const apical_plasticity_type apical_stdp_triplet = {
    .name = "stdp_triplet",
    .doc = "triplet STDP, all-to-all (Pfister & Gerstner 2006; NEST stdp_triplet_synapse)",
    .n_params = P__N, .params = param_fields,
    .n_pre = 2, .n_post = 2, .n_derived = 0,
    .derive = derive,
    .post_spike = post_all, .pre_spike = pre_all,
};

const apical_plasticity_type apical_stdp_triplet_nearest = {
    .name = "stdp_triplet_nearest",
    .doc = "triplet STDP, nearest-spike interactions (Pfister & Gerstner 2006)",
    .n_params = P__N, .params = param_fields,
    .n_pre = 2, .n_post = 2, .n_derived = 0,
    .derive = derive,
    .post_spike = post_nearest, .pre_spike = pre_nearest,
};
