/* hopfield: a binary +-1 unit with asynchronous (Glauber) updates, for
 * Hopfield networks (Hopfield 1982; Amit, Gutfreund & Sompolinsky 1985).
 *
 *   h = sum_j w_ij s_j                 the local field, kept by the unit
 *   at an input on `update`:           s <- sign(h)            (T = 0; ties keep s)
 *                                      s <- +1 with probability 1 / (1 + e^(-2h/T))   (T > 0)
 *
 * The update times are the unit's own Poisson clock: a `poisson` input on
 * receptor `update` (one independent train per neuron, as the scheduler
 * draws it) is event-driven asynchronous dynamics, each unit updating at
 * rate r independently of the others.
 *
 * How the neighbours see s change: a unit fires a spike whenever its state
 * differs from the state it last announced (`a`), and the spike carries the
 * change as its multiplicity (model.h, spike_multiplicity): s - a, that is
 * +-2 for a flip and s(0) for the announcement at t = 0 (a starts at 0, so
 * every unit fires once at t = 0 and the neighbours' fields start from
 * sum_j w_ij s_j(0) after one delay). A neighbour's `field` input then adds
 * w_ij (s_new - s_old). The spike record is thus the list of flips: with
 * s(0) it gives s(t), the overlaps and the energy
 * E = -1/2 sum_ij w_ij s_i s_j at every update (analysis/hopfield.py).
 *
 * A field is exact when no neighbour's flip is still in flight (within one
 * delay d before the update). At T = 0 each update with an exact field
 * lowers E or keeps it (the classic argument: dE = -(s_new - s_old) h_i <=
 * 0 with w symmetric and w_ii = 0). With N units updating at rate r, a
 * fraction ~N r d of the updates can see a stale field; networks keep
 * N r d small (networks/hopfield_capacity.yaml: 0.01), and the test of
 * tests/t_hopfield.sh counts them. */
#include <gsl/gsl_errno.h>
#include <math.h>

#include "apical/model.h"
#include "eventless_common.h"

enum { P_T, P__N };
enum { S_S, S_A, S_H, S_XI, S__N };
enum { R_FIELD, R_UPDATE };

static const apical_field param_fields[P__N] = {
    [P_T] = {"T", "1", 0.0, 0.0, 1e6,
             "temperature of the Glauber update (0: s = sign(h), deterministic)"},
};

static const apical_field state_fields[S__N] = {
    [S_S] = {"s", "1", 0.0, -1.0, 1.0,
             "state +1 or -1 (initial: the cue; default 0: not set, counts for nothing until "
             "its first update)"},
    [S_A] = {"a", "1", 0.0, -1.0, 1.0,
             "state the neighbours were last told (0: not yet; a unit fires while s != a)"},
    [S_H] = {"h", "1", 0.0, -HUGE_VAL, HUGE_VAL, "local field sum_j w_ij s_j as delivered"},
    [S_XI] = {"xi", "1", 0.0, -1.0, 1.0,
              "a constant to record, e.g. the cued pattern (overlap = mean of xi s)"},
};

static const char *const receptors[] = {"field", "update"};

/* No dynamics between events. */
static int derivs(double t, const double y[], double f[], void *params)
{
    (void)t;
    (void)y;
    (void)params;
    f[S_S] = f[S_A] = f[S_H] = f[S_XI] = 0.0;
    return GSL_SUCCESS;
}

/* >= 0 while the state differs from the announced one: the unit then fires
 * (at t = 0, or at the update that changed s). */
static double spike_distance(const double y[], const apical_model_ctx *c)
{
    (void)c;
    return y[S_S] != y[S_A] ? 0.5 : -0.5;
}

static int32_t spike_multiplicity(const double y[], const apical_model_ctx *c)
{
    (void)c;
    return (int32_t)(y[S_S] - y[S_A]);
}

static void reset(double y[], const apical_model_ctx *c)
{
    (void)c;
    y[S_A] = y[S_S];
}

static void receive(double y[], size_t receptor, double w, const apical_model_ctx *c)
{
    if (receptor == R_FIELD) {
        y[S_H] += w;
        return;
    }
    const double h = y[S_H], T = c->param[P_T];
    if (T > 0.0) {
        /* Glauber: P(s = +1) = 1 / (1 + e^(-2h/T)), from the unit's own stream */
        const double p = 1.0 / (1.0 + exp(-2.0 * h / T));
        y[S_S] = apical_rng_uniform(c->rng) < p ? 1.0 : -1.0;
    } else if (h > 0.0) {
        y[S_S] = 1.0;
    } else if (h < 0.0) {
        y[S_S] = -1.0;
    }
}

const apical_model_type apical_hopfield = {
    .name = "hopfield",
    .doc = "Binary +-1 unit, asynchronous Glauber dynamics: at each input on 'update' (its "
           "Poisson clock) s = sign(h) (T = 0) or +1 with probability 1/(1+exp(-2h/T)); h sums "
           "the 'field' inputs. Fires when s changes, the spike carrying s_new - s_old (and "
           "s(0) at t = 0), so neighbours add w (s_new - s_old) (Hopfield 1982).",
    .n_params = P__N, .params = param_fields,
    .n_state = S__N, .state = state_fields,
    .n_receptors = 2, .receptors = receptors, .weight_unit = "1",
    .n_derived = 0, .derive = eventless_derive,
    .derivs = derivs,
    .spike_distance = spike_distance, .reset = reset,
    .refractory_period = eventless_no_refractory_period, .receive = receive,
    .quiet_horizon = eventless_quiet_for_ever,
    .spike_multiplicity = spike_multiplicity,
    .uses_rng = 1,
    .default_stepper = "rk2", .default_abs_tol = 1e-6, .default_rel_tol = 1e-6,
};
