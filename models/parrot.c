/* parrot: re-emits every input spike arriving on receptor `relay` at its
 * arrival time; inputs on `ignore` do nothing (NEST parrot_neuron, whose
 * port 1 serves the same purpose in STDP tests). It has no dynamics: it
 * turns Poisson or spike-time inputs into a population whose spikes can
 * drive plastic projections. */
#include <gsl/gsl_errno.h>
#include <math.h>

#include "apical/model.h"
#include "eventless_common.h"

static const apical_field state_fields[] = {
    {"unused", "1", 0.0, -HUGE_VAL, HUGE_VAL, "no dynamics (GSL needs one variable)"},
};
static const char *const receptors[] = {"relay", "ignore"};

static int derivs(double t, const double y[], double f[], void *params)
{
    (void)t;
    (void)y;
    (void)params;
    f[0] = 0.0;
    return GSL_SUCCESS;
}

static void receive(double y[], size_t receptor, double w, const apical_model_ctx *c)
{
    (void)y;
    (void)receptor;
    (void)w;
    (void)c;
}

const apical_model_type apical_parrot = {
    .name = "parrot",
    .doc = "Relays each input spike on receptor 'relay' as its own spike at the same time; "
           "'ignore' inputs do nothing (NEST parrot_neuron).",
    .n_params = 0, .params = NULL,
    .n_state = 1, .state = state_fields,
    .n_receptors = 2, .receptors = receptors, .weight_unit = "1",
    .n_derived = 0, .derive = eventless_derive,
    .derivs = derivs,
    .spike_distance = eventless_never_at_threshold, .reset = eventless_no_reset,
    .refractory_period = eventless_no_refractory_period, .receive = receive,
    .quiet_horizon = eventless_quiet_for_ever,
    .relay_receptor = "relay",
    .default_stepper = "rk2", .default_abs_tol = 1e-6, .default_rel_tol = 1e-6,
};
