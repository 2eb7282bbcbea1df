/* parrot: re-emits every input spike arriving on receptor `relay` at its
 * arrival time; inputs on `ignore` do nothing (NEST parrot_neuron, whose
 * port 1 serves the same purpose in STDP tests). It has no dynamics: it
 * turns Poisson or spike-time inputs into a population whose spikes can
 * drive plastic projections. */
#include <gsl/gsl_errno.h>
#include <math.h>

#include "apical/model.h"

static const apical_field state_fields[] = {
    {"unused", "1", 0.0, -HUGE_VAL, HUGE_VAL, "no dynamics (GSL needs one variable)"},
};
static const char *const receptors[] = {"relay", "ignore"};

static void derive(const double *p, double *d)
{
    (void)p;
    (void)d;
}

static int derivs(double t, const double y[], double f[], void *params)
{
    (void)t;
    (void)y;
    (void)params;
    f[0] = 0.0;
    return GSL_SUCCESS;
}

static double spike_distance(const double y[], const apical_model_ctx *c)
{
    (void)y;
    (void)c;
    return -1.0;
}

static void reset(double y[], const apical_model_ctx *c)
{
    (void)y;
    (void)c;
}

static double refractory_period(const apical_model_ctx *c)
{
    (void)c;
    return 0.0;
}

static void receive(double y[], size_t receptor, double w, const apical_model_ctx *c)
{
    (void)y;
    (void)receptor;
    (void)w;
    (void)c;
}

static double quiet_horizon(const double y[], const apical_model_ctx *c)
{
    (void)y;
    (void)c;
    return HUGE_VAL;
}

const apical_model_type apical_parrot = {
    .name = "parrot",
    .doc = "Relays each input spike on receptor 'relay' as its own spike at the same time; "
           "'ignore' inputs do nothing (NEST parrot_neuron).",
    .n_params = 0, .params = NULL,
    .n_state = 1, .state = state_fields,
    .n_receptors = 2, .receptors = receptors, .weight_unit = "1",
    .n_derived = 0, .derive = derive,
    .derivs = derivs,
    .spike_distance = spike_distance, .reset = reset,
    .refractory_period = refractory_period, .receive = receive,
    .quiet_horizon = quiet_horizon,
    .relay_receptor = "relay",
    .default_stepper = "rk2", .default_abs_tol = 1e-6, .default_rel_tol = 1e-6,
};
