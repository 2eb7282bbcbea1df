/* Issue 15's classic systems, unit by unit: the `oja` rule's update against
 * its formula evaluated independently here, the `hopfield` unit's update,
 * announcement and multiplicity, and its Glauber probability at T > 0.
 * (tests/t_oja.sh and tests/t_hopfield.sh run the networks.) */
#include <check.h>
#include <math.h>
#include <string.h>

#include "apical/model.h"
#include "apical/plasticity.h"
#include "apical/rng.h"

/* Post spikes at 10, 12 and 30 ms, presynaptic spikes at 5 and 40 ms, delay
 * 1 ms: the second presynaptic spike applies the three postsynaptic ones in
 * order. The expected weight is the rule's formula written out with libm's
 * exp: w += eta ((x - xbar) - (y- - ybar) w) at each post spike t, x and
 * xbar at t + d, the means divided by 1 - e^(-t/tau_mean). */
START_TEST(test_oja_rule)
{
    const apical_plasticity_type *r = apical_plasticity_find("oja");
    ck_assert_ptr_nonnull(r);
    enum { ETA, TX, TY, TM, WMIN, WMAX };
    const double p[] = {1e-3, 100.0, 20.0, 1000.0, -10.0, 10.0};
    ck_assert_uint_eq(r->n_params, 6);
    ck_assert_uint_eq(r->n_pre, 2);
    ck_assert_uint_eq(r->n_post, 2);
    double d[8];
    r->derive(p, d);
    const double tp[3] = {10.0, 12.0, 30.0}, dl = 1.0;
    double tr[3][2];
    for (int k = 0; k < 3; k++)
        r->post_spike(p, d, tp[k], k ? tp[k - 1] : 0.0, k ? tr[k - 1] : NULL, tr[k]);
    apical_post_spike hist[3];
    for (int k = 0; k < 3; k++)
        hist[k] = (apical_post_spike){tp[k], tr[k]};
    double w = 0.4, pre[2] = {0.0, 0.0};
    r->pre_spike(p, d, 5.0, -HUGE_VAL, dl, &w, pre, hist, 0, 0);
    ck_assert_double_eq(w, 0.4); /* no post spike before the first pre spike */
    ck_assert_double_eq_tol(pre[0], 1000.0 / p[TX], 1e-12);
    r->pre_spike(p, d, 40.0, 5.0, dl, &w, pre, hist, 0, 3);

    double we = 0.4;
    for (int j = 0; j < 3; j++) {
        const double ta = tp[j] + dl, age = ta - 5.0;
        const double x = 1000.0 / p[TX] * exp(-age / p[TX]);
        const double xm = 1000.0 / p[TM] * exp(-age / p[TM]) / (1.0 - exp(-ta / p[TM]));
        double y = 0.0, ym = 0.0;
        for (int k = 0; k < j; k++) {
            y += 1000.0 / p[TY] * exp(-(tp[j] - tp[k]) / p[TY]);
            ym += 1000.0 / p[TM] * exp(-(tp[j] - tp[k]) / p[TM]);
        }
        ym /= 1.0 - exp(-tp[j] / p[TM]);
        we += p[ETA] * ((x - xm) - (y - ym) * we);
    }
    ck_assert_msg(fabs(w - we) <= 1e-12 * fabs(we), "w = %.17g, expected %.17g", w, we);
    ck_assert(w != 0.4);
    /* the presynaptic traces took the spike at 40 ms */
    const double x40 = 1000.0 / p[TX] * (1.0 + exp(-35.0 / p[TX]));
    ck_assert_double_eq_tol(pre[0], x40, 1e-12 * x40);

    /* bounds */
    double wc = 9.9999, prc[2] = {50.0, 1.0};
    const double big[] = {1e3, 100.0, 20.0, 1000.0, -10.0, 10.0};
    r->derive(big, d);
    r->pre_spike(big, d, 40.0, 5.0, dl, &wc, prc, hist, 0, 3);
    ck_assert(wc <= 10.0 && wc >= -10.0);
    char why[128];
    const double bad[] = {1e-3, 100.0, 20.0, 1000.0, 1.0, 1.0};
    ck_assert_uint_eq(r->check(bad, why, sizeof why), WMAX + 1);
}
END_TEST

static apical_model_ctx hop_ctx(const apical_model_type *m, const double *param, apical_rng *rng)
{
    apical_model_ctx c;
    memset(&c, 0, sizeof c);
    c.param = param;
    c.derived = NULL;
    c.rng = rng;
    (void)m;
    return c;
}

START_TEST(test_hopfield_unit)
{
    const apical_model_type *m = apical_model_find("hopfield");
    ck_assert_ptr_nonnull(m);
    ck_assert_ptr_nonnull(m->spike_multiplicity);
    const size_t S = apical_field_index(m->state, m->n_state, "s"),
                 A = apical_field_index(m->state, m->n_state, "a"),
                 H = apical_field_index(m->state, m->n_state, "h");
    const size_t FIELD = apical_receptor_index(m, "field"),
                 UPDATE = apical_receptor_index(m, "update");
    ck_assert(S != (size_t)-1 && A != (size_t)-1 && H != (size_t)-1);
    ck_assert(FIELD != (size_t)-1 && UPDATE != (size_t)-1);
    const double T0[] = {0.0};
    apical_rng rng;
    apical_rng_init(&rng, 1, 2, 3);
    apical_model_ctx c = hop_ctx(m, T0, &rng);
    double y[8] = {0};
    /* a cue of +1: announced at t = 0 with multiplicity +1 */
    y[S] = 1.0;
    ck_assert(m->spike_distance(y, &c) >= 0.0);
    ck_assert_int_eq(m->spike_multiplicity(y, &c), 1);
    m->reset(y, &c);
    ck_assert(m->spike_distance(y, &c) < 0.0);
    /* a field of -0.3, then an update: a flip down, multiplicity -2 */
    m->receive(y, FIELD, -0.5, &c);
    m->receive(y, FIELD, 0.2, &c);
    ck_assert_double_eq_tol(y[H], -0.3, 1e-15);
    ck_assert(m->spike_distance(y, &c) < 0.0); /* inputs alone do not flip */
    m->receive(y, UPDATE, 1.0, &c);
    ck_assert_double_eq(y[S], -1.0);
    ck_assert(m->spike_distance(y, &c) >= 0.0);
    ck_assert_int_eq(m->spike_multiplicity(y, &c), -2);
    m->reset(y, &c);
    ck_assert_double_eq(y[A], -1.0);
    /* an update that agrees does not fire; a zero field keeps the state */
    m->receive(y, UPDATE, 1.0, &c);
    ck_assert(m->spike_distance(y, &c) < 0.0);
    y[H] = 0.0;
    m->receive(y, UPDATE, 1.0, &c);
    ck_assert_double_eq(y[S], -1.0);

    /* Glauber at T = 0.5, h = 0.25: P(+1) = 1 / (1 + e^-1) = 0.7311 */
    const double T[] = {0.5};
    c = hop_ctx(m, T, &rng);
    int up = 0;
    const int n = 40000;
    for (int k = 0; k < n; k++) {
        y[H] = 0.25;
        m->receive(y, UPDATE, 1.0, &c);
        up += y[S] > 0.0;
    }
    const double p = 1.0 / (1.0 + exp(-1.0)), sd = sqrt(p * (1 - p) / n);
    ck_assert_msg(fabs((double)up / n - p) < 4.0 * sd, "P(+1) = %g, expected %g", (double)up / n,
                  p);
}
END_TEST

Suite *classic_suite(void)
{
    Suite *s = suite_create("classic");
    TCase *tc = tcase_create("rules_and_units");
    tcase_add_test(tc, test_oja_rule);
    tcase_add_test(tc, test_hopfield_unit);
    suite_add_tcase(s, tc);
    return s;
}
