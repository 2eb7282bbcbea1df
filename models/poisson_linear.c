/* poisson_linear: a spiking neuron whose firing rate is linear in its
 * filtered inputs (a linear Poisson, or Hawkes, unit without self-coupling):
 *
 *   du/dt = -u/tau,  u += w/tau per input spike (w dimensionless)   [Hz]
 *   lambda(t) = max(rate0 + u, 0)                                    [Hz]
 *   dH/dt = lambda;  spike when H reaches theta ~ Exp(1), then H = 0
 *
 * Time rescaling makes the spike train exactly an inhomogeneous Poisson
 * process of intensity lambda (the draw is the neuron's own stream, so it
 * does not depend on partitioning). Why the model exists: Oja's rule
 * (models/oja.c) finds the principal component of a *linear* unit y = w.x,
 * and its weight norm tends to 1 only when y and x are rates in the same
 * unit. Here lambda = rate0 + sum_j w_j x_j(t), with x_j the input spike
 * train filtered by exp(-t/tau)/tau: a rate in Hz, as the rule's traces
 * are. It also generates inputs with a known rate covariance (inputs driven
 * by shared latent spike sources; networks/oja_pca.yaml). */
#include <gsl/gsl_errno.h>
#include <math.h>

#include "apical/model.h"

enum { P_TAU, P_RATE0, P_T_REF, P__N };
enum { S_U, S_H, S_THETA, S__N };
enum { D_INV_TAU, D_RATE0_MS, D__N };

static const apical_field param_fields[P__N] = {
    [P_TAU] = {"tau", "ms", 100.0, 1e-3, 1e9,
               "input filter time constant: each input adds w/tau to u, u decays with tau"},
    [P_RATE0] = {"rate0", "Hz", 0.0, -1e6, 1e6, "baseline rate added to u"},
    [P_T_REF] = {"t_ref", "ms", 0.0, 0.0, 1e6,
                 "dead time after a spike (0: a Poisson process; > 0 makes it non-linear)"},
};

static const apical_field state_fields[S__N] = {
    [S_U] = {"u", "Hz", 0.0, -HUGE_VAL, HUGE_VAL, "filtered input: sum_j w_j x_j(t)"},
    [S_H] = {"H", "1", 0.0, 0.0, HUGE_VAL, "integrated rate since the last spike"},
    [S_THETA] = {"theta", "1", 1.0, 0.0, HUGE_VAL,
                 "spike threshold of H, Exp(1) (init and each spike: a new draw)"},
};

static const char *const receptors[] = {"exc"};

static void derive(const double *p, double *d)
{
    d[D_INV_TAU] = 1.0 / p[P_TAU];
    d[D_RATE0_MS] = p[P_RATE0] * 1e-3;
}

/* The rate in spikes per ms; the clip at 0 keeps it a rate when
 * inhibition-like negative weights pull u below -rate0. */
static inline double rate_ms(const double y[], const apical_model_ctx *c)
{
    const double r = c->derived[D_RATE0_MS] + y[S_U] * 1e-3;
    return r > 0.0 ? r : 0.0;
}

static int derivs(double t, const double y[], double f[], void *params)
{
    (void)t;
    const apical_model_ctx *c = params;
    f[S_U] = -y[S_U] * c->derived[D_INV_TAU];
    f[S_H] = c->refractory ? 0.0 : rate_ms(y, c);
    f[S_THETA] = 0.0;
    return isfinite(f[S_U]) && isfinite(f[S_H]) ? GSL_SUCCESS : GSL_EBADFUNC;
}

static double spike_distance(const double y[], const apical_model_ctx *c)
{
    (void)c;
    return y[S_H] - y[S_THETA];
}

static void new_threshold(double y[], const apical_model_ctx *c)
{
    y[S_H] = 0.0;
    y[S_THETA] = -log(apical_rng_uniform_pos(c->rng));
}

static void reset(double y[], const apical_model_ctx *c)
{
    new_threshold(y, c);
}

static void init(double y[], const apical_model_ctx *c)
{
    new_threshold(y, c);
}

static double refractory_period(const apical_model_ctx *c)
{
    return c->param[P_T_REF];
}

static void receive(double y[], size_t receptor, double w, const apical_model_ctx *c)
{
    (void)receptor;
    y[S_U] += w * 1e3 * c->derived[D_INV_TAU];
}

/* Without input u decays towards 0, so the rate never exceeds
 * max(rate0 + max(u, 0), 0): H cannot reach theta sooner than the
 * remaining distance at that rate. */
static double quiet_horizon(const double y[], const apical_model_ctx *c)
{
    const double up = y[S_U] > 0.0 ? y[S_U] : 0.0;
    const double bound = c->derived[D_RATE0_MS] + up * 1e-3;
    if (!(bound > 0.0))
        return HUGE_VAL;
    const double gap = y[S_THETA] - y[S_H];
    return gap > 0.0 ? gap / bound : 0.0;
}

const apical_model_type apical_poisson_linear = {
    .name = "poisson_linear",
    .doc = "Linear Poisson neuron: rate max(rate0 + u, 0) with u the input spikes filtered by "
           "exp(-t/tau)/tau times their weights (dimensionless); spikes by time rescaling "
           "(H = integrated rate reaches an Exp(1) threshold). A rate unit that spikes: "
           "Oja's rule and shared-latent input generators (networks/oja_pca.yaml).",
    .n_params = P__N, .params = param_fields,
    .n_state = S__N, .state = state_fields,
    .n_receptors = 1, .receptors = receptors, .weight_unit = "1",
    .n_derived = D__N, .derive = derive,
    .derivs = derivs, /* no Jacobian: the rate has a kink at 0 (explicit steppers) */
    .spike_distance = spike_distance, .reset = reset,
    .refractory_period = refractory_period, .receive = receive,
    .quiet_horizon = quiet_horizon,
    .uses_rng = 1, .init = init,
    .default_stepper = "rkf45", .default_abs_tol = 1e-9, .default_rel_tol = 1e-9,
};
