/* rectified_power: a population-rate unit whose activity is a rectified
 * power of its input current (Krotov & Hopfield 2019, PNAS 116:7723, eq. 9):
 *
 *   h = sum_i W_i v_i          the input current (state `h`)
 *   r = f(h) = max(h, 0)^n     the rate the unit passes on
 *
 * The unit has no dynamics of its own and never spikes: it holds h until
 * an input on `in` adds to it or a controller sets it. It exists because a
 * learning protocol over a few thousand such units computes their currents
 * for a whole minibatch at once as a dense matrix product (a spike per
 * input pixel and synapse would cost ~10^5 times more); the protocol
 * (models/krotov_hopfield.c) reads `n` from the population's parameters
 * and writes the current of the last image it showed into `h`, so a state
 * recorder sees the hidden layer as it does any other population. */
#include <gsl/gsl_errno.h>
#include <math.h>

#include "apical/model.h"
#include "eventless_common.h"

enum { P_N, P__N };
enum { S_H, S__N };

static const apical_field param_fields[P__N] = {
    [P_N] = {"n", "1", 1.0, 0.0, 100.0,
             "power of the rectified activation f(h) = max(h, 0)^n (Krotov & Hopfield: 4.5)"},
};

static const apical_field state_fields[S__N] = {
    [S_H] = {"h", "1", 0.0, -HUGE_VAL, HUGE_VAL,
             "input current sum_i W_i v_i (inputs on 'in' add their weight)"},
};

static const char *const receptors[] = {"in"};

/* No dynamics: h changes only at inputs and when a controller sets it. */
static int derivs(double t, const double y[], double f[], void *params)
{
    (void)t;
    (void)y;
    (void)params;
    f[S_H] = 0.0;
    return GSL_SUCCESS;
}

static void receive(double y[], size_t receptor, double w, const apical_model_ctx *c)
{
    (void)receptor;
    (void)c;
    y[S_H] += w;
}

const apical_model_type apical_rectified_power = {
    .name = "rectified_power",
    .doc = "Population-rate unit without dynamics: input current h (inputs on 'in' add their "
           "weight; a protocol may set it), rate f(h) = max(h, 0)^n; never spikes. The hidden "
           "units of Krotov & Hopfield 2019 (protocol krotov_hopfield).",
    .n_params = P__N, .params = param_fields,
    .n_state = S__N, .state = state_fields,
    .n_receptors = 1, .receptors = receptors, .weight_unit = "1",
    .n_derived = 0, .derive = eventless_derive,
    .derivs = derivs,
    .spike_distance = eventless_never_at_threshold, .reset = eventless_no_reset,
    .refractory_period = eventless_no_refractory_period, .receive = receive,
    .quiet_horizon = eventless_quiet_for_ever,
    .default_stepper = "rk2", .default_abs_tol = 1e-6, .default_rel_tol = 1e-6,
};
