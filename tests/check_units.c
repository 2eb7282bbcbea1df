/* Unit parsing: "<number> <unit>" into canonical units, and the messages for
 * every way it can go wrong. */
#include <check.h>
#include <math.h>
#include <string.h>

#include "apical/units.h"

/* Parse text into want and compare with expected (relative tolerance). */
static void ok_parse(const char *text, const char *want, double expected)
{
    char why[256] = "";
    double v = NAN;
    int r = apical_quantity_parse(text, want, &v, why, sizeof why);
    ck_assert_msg(r == 0, "'%s' as %s failed: %s", text, want, why);
    ck_assert_msg(fabs(v - expected) <= 1e-12 * fmax(1.0, fabs(expected)),
                  "'%s' as %s gave %.17g, expected %.17g", text, want, v, expected);
}

/* Parse must fail and the reason must contain every word given. */
static void bad_parse(const char *text, const char *want, const char *w1, const char *w2)
{
    char why[256] = "";
    double v = 12345.0;
    int r = apical_quantity_parse(text, want, &v, why, sizeof why);
    ck_assert_msg(r == -1, "'%s' as %s should fail", text, want);
    ck_assert_msg(v == 12345.0, "'%s': output written on failure", text);
    ck_assert_msg(w1 == NULL || strstr(why, w1), "'%s': reason '%s' lacks '%s'", text, why, w1);
    ck_assert_msg(w2 == NULL || strstr(why, w2), "'%s': reason '%s' lacks '%s'", text, why, w2);
}

START_TEST(test_lookup)
{
    apical_dim d;
    double s;
    ck_assert_int_eq(apical_unit_lookup("mV", &d, &s), 0);
    ck_assert_int_eq(d, APICAL_DIM_VOLTAGE);
    ck_assert_double_eq(s, 1.0);
    ck_assert_int_eq(apical_unit_lookup("s", &d, &s), 0);
    ck_assert_int_eq(d, APICAL_DIM_TIME);
    ck_assert_double_eq(s, 1000.0);
    ck_assert_int_eq(apical_unit_lookup("uS", &d, &s), 0);
    ck_assert_int_eq(d, APICAL_DIM_CONDUCTANCE);
    ck_assert_double_eq(s, 1000.0);
    ck_assert_int_eq(apical_unit_lookup("\xc2\xb5S", &d, &s), 0); /* µS, micro sign */
    ck_assert_double_eq(s, 1000.0);
    ck_assert_int_eq(apical_unit_lookup("\xce\xbcS", &d, &s), 0); /* μS, Greek mu */
    ck_assert_double_eq(s, 1000.0);
    ck_assert_int_eq(apical_unit_lookup("1", &d, &s), 0);
    ck_assert_int_eq(d, APICAL_DIM_NONE);
    ck_assert_int_eq(apical_unit_lookup("", &d, &s), 0);
    ck_assert_int_eq(d, APICAL_DIM_NONE);
    ck_assert_int_eq(apical_unit_lookup("1/ms", &d, &s), 0);
    ck_assert_int_eq(d, APICAL_DIM_RATE);
    ck_assert_double_eq(s, 1000.0);
    ck_assert_int_eq(apical_unit_lookup("um^2", &d, &s), 0);
    ck_assert_int_eq(d, APICAL_DIM_AREA);
    ck_assert_int_eq(apical_unit_lookup("mS/cm^2", &d, &s), 0);
    ck_assert_int_eq(d, APICAL_DIM_SPECIFIC_CONDUCTANCE);
    ck_assert_int_eq(apical_unit_lookup("uF/cm2", &d, &s), 0);
    ck_assert_int_eq(d, APICAL_DIM_SPECIFIC_CAPACITANCE);
    ck_assert_int_eq(apical_unit_lookup("mv", &d, &s), -1); /* case matters */
    ck_assert_int_eq(apical_unit_lookup("MS", &d, &s), -1);
    ck_assert_int_eq(apical_unit_lookup("furlong", &d, &s), -1);
    ck_assert_int_eq(apical_unit_lookup(NULL, &d, &s), -1);
}
END_TEST

START_TEST(test_parse_canonical)
{
    ok_parse("6 nS", "nS", 6.0);
    ok_parse("6nS", "nS", 6.0);
    ok_parse("-60 mV", "mV", -60.0);
    ok_parse("200 pF", "pF", 200.0);
    ok_parse("10 Hz", "Hz", 10.0);
    ok_parse("100 pA", "pA", 100.0);
    ok_parse("0.1ms", "ms", 0.1);
    ok_parse("  .5 ms  ", "ms", 0.5);
    ok_parse("+3 ms", "ms", 3.0);
}
END_TEST

START_TEST(test_parse_conversions)
{
    ok_parse("1 s", "ms", 1000.0);
    ok_parse("1e-3 s", "ms", 1.0);
    ok_parse("1e-3s", "ms", 1.0);
    ok_parse("250 us", "ms", 0.25);
    ok_parse("0.006 uS", "nS", 6.0);
    ok_parse("6 \xc2\xb5S", "nS", 6000.0);
    ok_parse("1 mS", "nS", 1e6);
    ok_parse("500 pS", "nS", 0.5);
    ok_parse("-0.06 V", "mV", -60.0);
    ok_parse("1 nA", "pA", 1000.0);
    ok_parse("0.2 nF", "pF", 200.0);
    ok_parse("1 uF", "pF", 1e6);
    ok_parse("2 kHz", "Hz", 2000.0);
    ok_parse("0.5 1/ms", "Hz", 500.0);
    ok_parse("5 /s", "Hz", 5.0);
    ok_parse("5/ms", "Hz", 5000.0);
    ok_parse("20000 um^2", "um^2", 20000.0);
    ok_parse("20000 um2", "um^2", 20000.0);
    ok_parse("20000 \xc2\xb5m\xc2\xb2", "um^2", 20000.0); /* µm² */
    ok_parse("1 cm^2", "um^2", 1e8);
    ok_parse("0.1 mS/cm^2", "mS/cm^2", 0.1);
    ok_parse("1 S/cm2", "mS/cm^2", 1000.0);
    ok_parse("1 uF/cm^2", "uF/cm^2", 1.0);
    ok_parse("0.01 F/m^2", "uF/cm^2", 1.0);
    /* Into a non-canonical target unit too. */
    ok_parse("1500 ms", "s", 1.5);
}
END_TEST

START_TEST(test_parse_dimensionless)
{
    ok_parse("0.5", "1", 0.5);
    ok_parse("1e-6", "1", 1e-6);
    ok_parse("3", "", 3.0);
    ok_parse("3", NULL, 3.0);
    bad_parse("0.5 mV", "1", "dimensionless", "voltage");
    bad_parse("0.5 parsecs", "1", "dimensionless", "parsecs");
}
END_TEST

START_TEST(test_parse_errors)
{
    /* wrong dimension names both dimensions and gives an example */
    bad_parse("6 mV", "nS", "conductance", "voltage");
    bad_parse("6 mV", "nS", "'6 nS'", NULL);
    bad_parse("10 ms", "Hz", "rate", "time");
    /* missing unit on a dimensional value */
    bad_parse("6", "nS", "missing unit", "'6 nS'");
    bad_parse("-60", "mV", "missing unit", "voltage");
    /* unknown unit lists the units of the dimension */
    bad_parse("6 nSS", "nS", "unknown unit 'nSS'", "pS");
    bad_parse("-60 mv", "mV", "unknown unit 'mv'", "mV");
    /* trailing garbage */
    bad_parse("6 nS x", "nS", "unknown unit", NULL);
    bad_parse("6 nS 7", "nS", "unknown unit", NULL);
    /* not a number */
    bad_parse("many", "nS", "expected a conductance", "'many'");
    bad_parse("", "nS", "expected a conductance", NULL);
    bad_parse("nan mV", "mV", "expected a voltage", NULL);
    bad_parse("NaN", "1", "dimensionless", NULL);
    bad_parse("inf", "1", "dimensionless", NULL);
    bad_parse("-inf ms", "ms", "expected a time", NULL);
    bad_parse("0x10 ms", "ms", "unknown unit", NULL);
    bad_parse(". ms", "ms", "expected a time", NULL);
    bad_parse("1e999 ms", "ms", "too large", NULL);
    bad_parse("1e300 S", "nS", "too large", NULL); /* overflow in the conversion */
    /* a bad canonical unit is a bug in a model table, reported as such */
    bad_parse("1 ms", "parsec", "model table", NULL);
}
END_TEST

START_TEST(test_parse_no_why)
{
    double v;
    ck_assert_int_eq(apical_quantity_parse("6 mV", "nS", &v, NULL, 0), -1);
    ck_assert_int_eq(apical_quantity_parse("6 nS", "nS", &v, NULL, 0), 0);
    ck_assert_double_eq(v, 6.0);
}
END_TEST

START_TEST(test_dim_names)
{
    ck_assert_str_eq(apical_dim_name(APICAL_DIM_VOLTAGE), "voltage");
    ck_assert_str_eq(apical_dim_name(APICAL_DIM_CONDUCTANCE), "conductance");
    ck_assert_str_eq(apical_dim_name(APICAL_DIM_TIME), "time");
    ck_assert_str_eq(apical_dim_name(APICAL_DIM_AREA), "area");
    for (int d = 0; d < APICAL_DIM__COUNT; d++)
        ck_assert_ptr_nonnull(apical_dim_name((apical_dim)d));
    ck_assert_str_eq(apical_dim_name(APICAL_DIM__COUNT), "unknown dimension");
}
END_TEST

Suite *units_suite(void); /* called by the generated runner */

Suite *units_suite(void)
{
    Suite *s = suite_create("units");
    TCase *tc = tcase_create("units");
    tcase_add_test(tc, test_lookup);
    tcase_add_test(tc, test_parse_canonical);
    tcase_add_test(tc, test_parse_conversions);
    tcase_add_test(tc, test_parse_dimensionless);
    tcase_add_test(tc, test_parse_errors);
    tcase_add_test(tc, test_parse_no_why);
    tcase_add_test(tc, test_dim_names);
    suite_add_tcase(s, tc);
    return s;
}
