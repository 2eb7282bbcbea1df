/* The segregated-dendrite learning rules as functions of window averages:
 * hand-computed cases, signs, and the closed-form PSP window average against
 * quadrature. */
#include <check.h>
#include <math.h>

#include "apical/plateau.h"

static double kappa(double s)
{
    return s < 0 ? 0.0 : (exp(-s / 10.0) - exp(-s / 3.0)) / 7.0;
}

/* Composite Simpson over [a, b] with n (even) intervals of a function of t. */
static double psp_quadrature(const double *ts, int n, double a, double b, double T)
{
    const int m = 20000;
    double h = (b - a) / m, sum = 0.0;
    for (int k = 0; k <= m; k++) {
        double t = a + k * h, v = 0.0;
        for (int j = 0; j < n; j++)
            if (t - ts[j] <= T)
                v += kappa(t - ts[j]);
        sum += v * (k == 0 || k == m ? 1 : k % 2 ? 4 : 2);
    }
    return sum * h / 3.0 / (b - a);
}

/* Simpson's error for these smooth pieces at h = 1e-3 ms is far below
 * 1e-9. A truncation jump inside the window (here at 22.5 ms) costs the
 * rule O(h) once: at most (4/3) h kappa(10 ms) / (b - a) = 3.2e-6 of the
 * mean, which bounds the truncated comparison. */
START_TEST(test_psp_window_mean)
{
    const double ts[] = {3.0, 12.5, 30.0, 31.0, 47.0};
    double got = apical_psp_window_mean(ts, 5, 20.0, 40.0, 10.0, 3.0, HUGE_VAL);
    double want = psp_quadrature(ts, 5, 20.0, 40.0, HUGE_VAL);
    ck_assert_msg(fabs(got - want) < 1e-9, "untruncated %.12f vs %.12f", got, want);
    got = apical_psp_window_mean(ts, 5, 20.0, 40.0, 10.0, 3.0, 10.0);
    want = psp_quadrature(ts, 5, 20.0, 40.0, 10.0);
    ck_assert_msg(fabs(got - want) < 3.2e-6, "truncated %.12f vs %.12f", got, want);
    /* one spike long before the window: the whole kernel integrates to 1 */
    double t0 = 0.0;
    double full = apical_psp_window_mean(&t0, 1, 0.0, 1e4, 10.0, 3.0, HUGE_VAL) * 1e4;
    ck_assert_msg(fabs(full - 1.0) < 1e-12, "kernel integral %.15f", full);
    ck_assert_double_eq(apical_psp_window_mean(&t0, 1, 20.0, 40.0, 10.0, 3.0, 10.0), 0.0);
}
END_TEST

/* Hand-computed: g_L 0.1, g_B 0.6, g_A 0: k_B = 6/7; lambda_max 0.2 /ms;
 * Cbar_f = 0: sigma' = 1/4. alpha_f = 0.4, alpha_t = 0.6:
 * E = -(0.2)(6/7)(0.2)(0.25) = -0.0085714...; with eta 0.21, P_hid =
 * 20/0.2 = 100, psp = (0.05, 0): dW = -0.21*100*E*0.05 = +0.0090000
 * (active synapse potentiates), 0 for the silent one, db = +0.18. */
START_TEST(test_plateau_hand_computed)
{
    const double kB = 0.6 / 0.7, lam = 0.2;
    double E = apical_plateau_error(0.4, 0.6, 0.0, kB, lam);
    ck_assert_msg(fabs(E - (-0.2 * kB * lam * 0.25)) < 1e-15, "E %.17g", E);
    double w[2] = {0.5, 0.5}, b = 0.8, psp[2] = {0.05, 0.0};
    apical_plateau_apply(w, &b, 1, 2, &E, psp, 0.21, 20.0 / lam);
    ck_assert_msg(fabs(w[0] - (0.5 + 0.009)) < 1e-15, "w0 %.17g", w[0]);
    ck_assert_double_eq(w[1], 0.5);
    ck_assert_msg(fabs(b - (0.8 + 0.18)) < 1e-14, "b %.17g", b);
    /* lower second plateau: the same magnitude, depression */
    double E2 = apical_plateau_error(0.6, 0.4, 0.0, kB, lam);
    ck_assert_double_eq(E2, -E);
    /* equal plateaus: nothing */
    ck_assert_double_eq(apical_plateau_error(0.5, 0.5, 1.3, kB, lam), 0.0);
}
END_TEST

/* Monotonic through zero in (alpha_t - alpha_f), for any Cbar_f. */
START_TEST(test_plateau_monotonic)
{
    for (double c = -3.0; c <= 3.0; c += 1.5) {
        double prev = -HUGE_VAL;
        for (double d = -0.5; d <= 0.5 + 1e-12; d += 0.05) {
            double E = apical_plateau_error(0.5, 0.5 + d, c, 6.0 / 7.0, 0.2);
            double dw = -0.21 * 100.0 * E * 0.1; /* active synapse */
            ck_assert(dw > prev);
            ck_assert(d < -1e-12 ? dw < 0 : d > 1e-12 ? dw > 0 : fabs(dw) < 1e-15);
            prev = dw;
        }
    }
}
END_TEST

/* Output rule, hand-computed: Cbar_f = 0 (sigma = 1/2, sigma' = 1/4),
 * lambdabar_t = 0.15 /ms, lambda_max 0.2, k_D = 0.6/0.7:
 * E = -(0.15 - 0.1) k_D 0.2 0.25; the teacher pushes the rate up, so active
 * synapses potentiate (P_out = 20/0.04 = 500). */
START_TEST(test_output_rule)
{
    const double kD = 0.6 / 0.7;
    double E = apical_output_error(0.15, 0.0, kD, 0.2);
    ck_assert_msg(fabs(E - (-0.05 * kD * 0.2 * 0.25)) < 1e-15, "E %.17g", E);
    double w = 0.0, psp = 0.1;
    apical_plateau_apply(&w, NULL, 1, 1, &E, &psp, 0.21, 500.0);
    ck_assert_msg(fabs(w - 0.21 * 500.0 * 0.05 * kD * 0.05 * 0.1) < 1e-15, "dw %.17g", w);
    ck_assert(w > 0);
    ck_assert_double_eq(apical_output_error(0.1, 0.0, kD, 0.2), 0.0);
}
END_TEST

Suite *plateau_suite(void)
{
    Suite *s = suite_create("plateau");
    TCase *tc = tcase_create("rules");
    tcase_add_test(tc, test_psp_window_mean);
    tcase_add_test(tc, test_plateau_hand_computed);
    tcase_add_test(tc, test_plateau_monotonic);
    tcase_add_test(tc, test_output_rule);
    suite_add_tcase(s, tc);
    return s;
}
