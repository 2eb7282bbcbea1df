/* quiet_horizon is a promise: without input, the neuron cannot reach
 * threshold sooner. A wrong bound silently loses spikes, so check it against
 * accurate integrations (rk8pd, 1e-12) from many random states, for every
 * model that provides one. */
#include <check.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_odeiv2.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "apical/model.h"

static double uniform(unsigned *s, double lo, double hi)
{
    *s = *s * 1664525u + 1013904223u;
    return lo + (hi - lo) * (double)(*s >> 8) / 16777216.0;
}

/* Largest spike_distance over [0, T] sampled every 5 us of an accurate
 * solution without input. */
static double max_distance(const apical_model_type *m, apical_model_ctx *ctx, double *y, double T)
{
    gsl_odeiv2_system sys = {m->derivs, m->jacobian, m->n_state, ctx};
    gsl_odeiv2_driver *d = gsl_odeiv2_driver_alloc_y_new(&sys, gsl_odeiv2_step_rk8pd, 1e-4, 1e-12, 1e-12);
    double t = 0.0, best = m->spike_distance(y, ctx);
    for (int k = 1; t < T; k++) {
        double t1 = fmin(T, k * 5e-3);
        ck_assert_int_eq(gsl_odeiv2_driver_apply(d, &t, t1, y), GSL_SUCCESS);
        best = fmax(best, m->spike_distance(y, ctx));
    }
    gsl_odeiv2_driver_free(d);
    return best;
}

START_TEST(test_horizon_is_safe)
{
    gsl_set_error_handler_off();
    const apical_model_type *m = apical_model_at((size_t)_i);
    if (!m->quiet_horizon)
        return;
    double *p = malloc(m->n_params * sizeof *p), *der = calloc(m->n_derived + 1, sizeof *der);
    double *y = malloc(m->n_state * sizeof *y);
    for (size_t k = 0; k < m->n_params; k++)
        p[k] = m->params[k].def;
    m->derive(p, der);
    apical_model_ctx ctx = {.param = p, .derived = der};
    size_t iv = apical_field_index(m->state, m->n_state, "V_m");
    if (m->relay_receptor || iv == (size_t)-1) {
        /* relays never fire on their own: the bound must be infinite;
         * models without a membrane V_m test their own bounds */
        if (m->relay_receptor)
            ck_assert(isinf(m->quiet_horizon(y, &ctx)));
        free(p), free(der), free(y);
        return;
    }
    unsigned s = 7 + (unsigned)_i;
    int tested = 0;
    for (int trial = 0; trial < 250; trial++) {
        /* States around threshold, synaptic variables up to strong drive. */
        for (size_t k = 0; k < m->n_state; k++) {
            const char *unit = m->state[k].unit;
            y[k] = !strcmp(unit, "nS") ? uniform(&s, 0.0, 150.0)
                 : !strcmp(unit, "pA") ? uniform(&s, -600.0, 600.0) : 0.0;
        }
        y[iv] = uniform(&s, -80.0, -50.001);
        ctx.i_ext = trial % 4 == 0 ? uniform(&s, 0.0, 300.0) : 0.0;
        double h = m->quiet_horizon(y, &ctx);
        ck_assert(h >= 0.0);
        if (h == 0.0)
            continue;
        tested++;
        double T = fmin(h, 20.0);
        double dist = max_distance(m, &ctx, y, T);
        ck_assert_msg(dist < 0.0, "%s: horizon %g ms but threshold reached (max distance %g)",
                      m->name, h, dist);
    }
    ck_assert_int_gt(tested, 60);
    free(p);
    free(der);
    free(y);
}
END_TEST

/* hh_cond_exp_traub's bound from states an HH network visits: resting and
 * depolarised, gating anywhere in its range, strong synaptic drive. The
 * generic test above starts every gate at 0. Also: the bound must be useful
 * (at least a window of COBAHH, 0.1 ms) for a neuron near rest. */
START_TEST(test_horizon_hh)
{
    gsl_set_error_handler_off();
    const apical_model_type *m = apical_model_find("hh_cond_exp_traub");
    ck_assert_ptr_nonnull(m);
    double *p = malloc(m->n_params * sizeof *p), *der = calloc(m->n_derived + 1, sizeof *der);
    double y[6];
    for (size_t k = 0; k < m->n_params; k++)
        p[k] = m->params[k].def;
    m->derive(p, der);
    apical_model_ctx ctx = {.param = p, .derived = der};
    unsigned s = 99;
    int tested = 0;
    for (int trial = 0; trial < 400; trial++) {
        y[0] = uniform(&s, -85.0, -35.0);  /* V_m */
        y[1] = uniform(&s, 0.0, trial % 3 ? 0.1 : 0.5); /* m */
        y[2] = uniform(&s, 0.1, 1.0);      /* h */
        y[3] = uniform(&s, 0.0, 0.8);      /* n */
        y[4] = uniform(&s, 0.0, trial % 5 ? 60.0 : 300.0); /* g_exc */
        y[5] = uniform(&s, 0.0, 300.0);    /* g_inh */
        ctx.i_ext = trial % 4 == 0 ? uniform(&s, 0.0, 500.0) : 0.0;
        double h = m->quiet_horizon(y, &ctx);
        ck_assert(h >= 0.0);
        if (h == 0.0)
            continue;
        tested++;
        double T = fmin(h, 20.0);
        double dist = max_distance(m, &ctx, y, T);
        ck_assert_msg(dist < 0.0, "hh: horizon %g ms but threshold reached (max distance %g)", h,
                      dist);
    }
    ck_assert_int_gt(tested, 150);
    /* near rest with a typical COBAHH drive */
    const double rest[6] = {-62.0, 0.03, 0.98, 0.06, 20.0, 40.0};
    memcpy(y, rest, sizeof y);
    ctx.i_ext = 0.0;
    ck_assert_double_gt(m->quiet_horizon(y, &ctx), 0.1);
    free(p);
    free(der);
}
END_TEST

Suite *horizon_suite(void)
{
    Suite *s = suite_create("horizon");
    TCase *tc = tcase_create("bound");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_horizon_is_safe, 0, (int)apical_model_count());
    tcase_add_test(tc, test_horizon_hh);
    suite_add_tcase(s, tc);
    return s;
}
