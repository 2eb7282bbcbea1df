/* Pair-based STDP with NEST stdp_synapse semantics (Gütig et al. 2003
 * weight dependence), in all-to-all and nearest-neighbour pairing.
 *
 * On the normalised weight u = w / W_max:
 *   facilitation  u += lambda (1 - u)^mu_plus K+   (per post spike)
 *   depression    u -= alpha lambda u^mu_minus K-   (per pre spike)
 * clipped to [0, 1]. K+ decays with tau_plus and steps at presynaptic
 * spikes, K- with tau_minus at postsynaptic spikes. mu = 0 is the additive
 * rule (Song et al. 2000), mu = 1 the multiplicative one. All-to-all: traces
 * add 1 per spike; nearest-neighbour (NEST stdp_nn_symm_synapse): traces are
 * reset to 1, so only the nearest spikes pair. */
#include <math.h>
#include <stdio.h>

#include "apical/fastexp.h"
#include "apical/plasticity.h"

enum { P_TAU_PLUS, P_TAU_MINUS, P_LAMBDA, P_ALPHA, P_MU_PLUS, P_MU_MINUS, P_W_MAX, P__N };

static const apical_field param_fields[P__N] = {
    [P_TAU_PLUS] = {"tau_plus", "ms", 20.0, 1e-3, 1e6, "presynaptic trace time constant"},
    [P_TAU_MINUS] = {"tau_minus", "ms", 20.0, 1e-3, 1e6, "postsynaptic trace time constant"},
    [P_LAMBDA] = {"lambda", "1", 0.01, 0.0, 1.0, "learning rate (potentiation step on u)"},
    [P_ALPHA] = {"alpha", "1", 1.0, 0.0, 1e3, "depression / potentiation ratio"},
    [P_MU_PLUS] = {"mu_plus", "1", 1.0, 0.0, 10.0, "potentiation weight dependence exponent"},
    [P_MU_MINUS] = {"mu_minus", "1", 1.0, 0.0, 10.0, "depression weight dependence exponent"},
    [P_W_MAX] = {"W_max", "w", 10.0, 0.0, 1e9, "maximum weight (projection's weight unit)"},
};

enum { D_INV_TAU_PLUS, D_INV_TAU_MINUS, D_INV_W_MAX, D__N };

/* Reciprocals: the rule multiplies instead of dividing (4 divisions per
 * presynaptic spike otherwise). W_max = 0 keeps u = 0. */
static void derive(const double *p, double *d)
{
    d[D_INV_TAU_PLUS] = 1.0 / p[P_TAU_PLUS];
    d[D_INV_TAU_MINUS] = 1.0 / p[P_TAU_MINUS];
    d[D_INV_W_MAX] = p[P_W_MAX] > 0.0 ? 1.0 / p[P_W_MAX] : 0.0;
}

static void post_common(const double *p, double t, double t_prev, const double *prev, double *out,
                        int nearest)
{
    double k = prev ? prev[0] * apical_fexp((t_prev - t) / p[P_TAU_MINUS]) : 0.0;
    out[0] = nearest ? 1.0 : k + 1.0;
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

/* pow(x, mu) for the common exponents without calling pow(). */
static inline double power(double x, double mu)
{
    return mu == 0.0 ? 1.0 : mu == 1.0 ? x : pow(x, mu);
}

/* Weight dependence known per call: pre_spike_n picks it once per group, so
 * the hot loop has no tests of mu (x^0 = 1 and x^1 = x: the same bits as
 * power()). */
enum { MU_ANY, MU_ONE, MU_ZERO };

static inline double power_k(double x, double mu, int kind)
{
    return kind == MU_ONE ? x : kind == MU_ZERO ? 1.0 : power(x, mu);
}

/* One presynaptic spike. The post spikes come either as hist (rows == NULL)
 * or as archive rows of stride doubles (t, K-): the same arithmetic on the
 * same values, so pre_spike and pre_spike_n give the same bits. */
static inline void pre_core(const double *p, const double *dv, double t_pre, double t_last,
                            double d, double *w, double *pre, const apical_post_spike *hist,
                            const double *rows, size_t stride, size_t first, size_t n, int nearest,
                            int mu_kind, double pre_decay)
{
#define POST_T(j) (rows ? rows[(j) * stride] : hist[j].t)
#define POST_K(j) (rows ? rows[(j) * stride + 1] : hist[j].trace[0])
    const double wmax = p[P_W_MAX], lambda = p[P_LAMBDA];
    const double itp = dv[D_INV_TAU_PLUS], itm = dv[D_INV_TAU_MINUS];
    double u = *w * dv[D_INV_W_MAX];
    for (size_t j = first; j < n; j++) {
        double kplus = pre[0] * apical_fexp((t_last - (POST_T(j) + d)) * itp);
        u += lambda * power_k(1.0 - u, p[P_MU_PLUS], mu_kind) * kplus;
        if (u > 1.0)
            u = 1.0;
    }
    /* K- at t_pre - d: the latest post spike strictly before it
     * (apical_post_trace_at) */
    const double tk = t_pre - d;
    double kminus = 0.0;
    for (size_t j = n; j-- > 0;)
        if (POST_T(j) < tk) {
            kminus = POST_K(j) * apical_fexp((POST_T(j) - tk) * itm);
            break;
        }
#undef POST_T
#undef POST_K
    u -= p[P_ALPHA] * lambda * power_k(u, p[P_MU_MINUS], mu_kind) * kminus;
    if (u < 0.0)
        u = 0.0;
    *w = u * wmax;
    pre[0] = nearest ? 1.0 : pre[0] * pre_decay + 1.0;
}

/* The pre trace's decay since the synapse's last spike, e^((t_last - t_pre) / tau+) */
static inline double pre_decay_of(const double *dv, double t_pre, double t_last)
{
    return apical_fexp((t_last - t_pre) * dv[D_INV_TAU_PLUS]);
}

static void pre_all(const double *p, const double *d, double t_pre, double t_last, double dl,
                    double *w, double *pre, const apical_post_spike *hist, size_t first, size_t n)
{
    pre_core(p, d, t_pre, t_last, dl, w, pre, hist, NULL, 0, first, n, 0, MU_ANY,
             pre_decay_of(d, t_pre, t_last));
}

static void pre_nearest(const double *p, const double *d, double t_pre, double t_last, double dl,
                        double *w, double *pre, const apical_post_spike *hist, size_t first,
                        size_t n)
{
    pre_core(p, d, t_pre, t_last, dl, w, pre, hist, NULL, 0, first, n, 1, MU_ANY,
             pre_decay_of(d, t_pre, t_last));
}

static inline void pre_n_kind(const double *p, const double *dv, double t_pre, double d,
                              const apical_pre_event *ev, size_t m, size_t stride, int nearest,
                              int mu_kind)
{
    /* The synapses of one presynaptic neuron's group have usually seen
     * the same spikes, so share t_last: their pre-trace decay is one exp
     * per group, not per synapse (a third of the rule's exps on COBA+STDP),
     * and the same bits as computing it per synapse. */
    double tl_prev = m ? ev[0].t_last : 0.0;
    double decay = m ? pre_decay_of(dv, t_pre, tl_prev) : 0.0;
    for (size_t j = 0; j < m; j++) {
        if (!(ev[j].t_last == tl_prev)) {
            tl_prev = ev[j].t_last;
            decay = pre_decay_of(dv, t_pre, tl_prev);
        }
        pre_core(p, dv, t_pre, ev[j].t_last, d, ev[j].w, ev[j].pre, NULL, ev[j].post, stride,
                 ev[j].first, ev[j].n, nearest, mu_kind, decay);
    }
}

static void pre_n_common(const double *p, const double *dv, double t_pre, double d,
                         const apical_pre_event *ev, size_t m, size_t stride, int nearest)
{
    if (p[P_MU_PLUS] == 1.0 && p[P_MU_MINUS] == 1.0)
        pre_n_kind(p, dv, t_pre, d, ev, m, stride, nearest, MU_ONE);
    else if (p[P_MU_PLUS] == 0.0 && p[P_MU_MINUS] == 0.0)
        pre_n_kind(p, dv, t_pre, d, ev, m, stride, nearest, MU_ZERO);
    else
        pre_n_kind(p, dv, t_pre, d, ev, m, stride, nearest, MU_ANY);
}

static void pre_n_all(const double *p, const double *d, double t_pre, double dl,
                      const apical_pre_event *ev, size_t m, size_t stride)
{
    pre_n_common(p, d, t_pre, dl, ev, m, stride, 0);
}

static void pre_n_nearest(const double *p, const double *d, double t_pre, double dl,
                          const apical_pre_event *ev, size_t m, size_t stride)
{
    pre_n_common(p, d, t_pre, dl, ev, m, stride, 1);
}

const apical_plasticity_type apical_stdp = {
    .name = "stdp",
    .doc = "pair STDP, all-to-all pairing (NEST stdp_synapse)",
    .n_params = P__N, .params = param_fields,
    .n_pre = 1, .n_post = 1, .n_derived = D__N,
    .derive = derive,
    .post_spike = post_all, .pre_spike = pre_all, .pre_spike_n = pre_n_all,
};

const apical_plasticity_type apical_stdp_nearest = {
    .name = "stdp_nearest",
    .doc = "pair STDP, symmetric nearest-neighbour pairing (NEST stdp_nn_symm_synapse)",
    .n_params = P__N, .params = param_fields,
    .n_pre = 1, .n_post = 1, .n_derived = D__N,
    .derive = derive,
    .post_spike = post_nearest, .pre_spike = pre_nearest,
    .pre_spike_n = pre_n_nearest,
};
