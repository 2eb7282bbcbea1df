/* Connectivity rules: counts, degrees, autapses, statistics of Bernoulli
 * connectivity, weights and delays drawn from their distributions. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "apical/connect.h"

typedef struct tally {
    uint64_t n, self;
    uint64_t *in, *out;
    double wsum, wsum2, dmin;
    uint64_t n_src, n_tgt;
    unsigned char *seen;
    uint64_t dup;
} tally;

static int count(void *user, uint64_t s, uint64_t t, double w, double d)
{
    tally *ty = user;
    ty->n++;
    ty->self += s == t;
    ty->in[t]++;
    ty->out[s]++;
    ty->wsum += w;
    ty->wsum2 += w * w;
    if (d < ty->dmin)
        ty->dmin = d;
    size_t k = (size_t)(s * ty->n_tgt + t);
    if (ty->seen[k])
        ty->dup++;
    ty->seen[k] = 1;
    return 0;
}

static apical_proj_spec proj(apical_conn_kind kind, int same, int autapses)
{
    apical_proj_spec p;
    memset(&p, 0, sizeof p);
    p.name = "test";
    p.source = 0;
    p.target = same ? 0 : 1;
    p.conn = kind;
    p.autapses = autapses;
    p.weight = (apical_dist){APICAL_DIST_CONSTANT, 2.0, 0, -HUGE_VAL, HUGE_VAL, {0}, NULL, 0, 0, 0};
    p.delay = (apical_dist){APICAL_DIST_CONSTANT, 1.0, 0, -HUGE_VAL, HUGE_VAL, {0}, NULL, 0, 0, 0};
    return p;
}

static tally run(const apical_proj_spec *p, uint64_t ns, uint64_t nt, uint64_t lo, uint64_t hi)
{
    tally ty = {0};
    ty.n_src = ns;
    ty.n_tgt = nt;
    ty.in = calloc(nt, sizeof *ty.in);
    ty.out = calloc(ns, sizeof *ty.out);
    ty.seen = calloc(ns * nt, 1);
    ty.dmin = HUGE_VAL;
    apical_error err;
    ck_assert_int_eq(apical_connect(p, ns, nt, 42, lo, hi, count, &ty, &err), APICAL_OK);
    return ty;
}

static void done(tally *ty)
{
    free(ty->in);
    free(ty->out);
    free(ty->seen);
}

START_TEST(test_all_to_all_and_one_to_one)
{
    apical_proj_spec p = proj(APICAL_CONN_ALL_TO_ALL, 1, 0);
    tally ty = run(&p, 50, 50, 0, 50);
    ck_assert_uint_eq(ty.n, 50 * 49);
    ck_assert_uint_eq(ty.self, 0);
    ck_assert_uint_eq(ty.dup, 0);
    done(&ty);
    p.autapses = 1;
    ty = run(&p, 50, 50, 0, 50);
    ck_assert_uint_eq(ty.n, 2500);
    ck_assert_uint_eq(ty.self, 50);
    done(&ty);
    p = proj(APICAL_CONN_ONE_TO_ONE, 0, 1);
    ty = run(&p, 30, 30, 0, 30);
    ck_assert_uint_eq(ty.n, 30);
    ck_assert_uint_eq(ty.self, 30); /* s == t by index */
    done(&ty);
}
END_TEST

/* Bernoulli: total count is Binomial(n_pairs, p); test within 5 standard
 * deviations, and the in-degree variance against n p (1 - p). */
START_TEST(test_bernoulli_statistics)
{
    apical_proj_spec p = proj(APICAL_CONN_BERNOULLI, 0, 1);
    p.p = 0.1;
    const uint64_t ns = 600, nt = 500;
    tally ty = run(&p, ns, nt, 0, nt);
    double mean = (double)(ns * nt) * p.p, sd = sqrt(mean * (1 - p.p));
    ck_assert_msg(fabs((double)ty.n - mean) < 5 * sd, "count %llu, expected %g +- %g",
                  (unsigned long long)ty.n, mean, sd);
    ck_assert_uint_eq(ty.dup, 0);
    double m = 0, v = 0;
    for (uint64_t t = 0; t < nt; t++)
        m += (double)ty.in[t];
    m /= (double)nt;
    for (uint64_t t = 0; t < nt; t++)
        v += ((double)ty.in[t] - m) * ((double)ty.in[t] - m);
    v /= (double)(nt - 1);
    double v_expect = (double)ns * p.p * (1 - p.p);
    /* variance of a sample variance of nt values: ~ 2 v^2 / (nt - 1) */
    ck_assert_msg(fabs(v - v_expect) < 5 * v_expect * sqrt(2.0 / (double)(nt - 1)),
                  "in-degree variance %g, expected %g", v, v_expect);
    done(&ty);
    /* no autapses on a recurrent projection */
    p = proj(APICAL_CONN_BERNOULLI, 1, 0);
    p.p = 0.5;
    ty = run(&p, 200, 200, 0, 200);
    ck_assert_uint_eq(ty.self, 0);
    done(&ty);
    p.p = 1.0;
    ty = run(&p, 40, 40, 0, 40);
    ck_assert_uint_eq(ty.n, 40 * 39);
    done(&ty);
}
END_TEST

START_TEST(test_fixed_degrees)
{
    apical_proj_spec p = proj(APICAL_CONN_FIXED_INDEGREE, 1, 0);
    p.k = 17;
    tally ty = run(&p, 100, 100, 0, 100);
    for (int t = 0; t < 100; t++)
        ck_assert_uint_eq(ty.in[t], 17);
    ck_assert_uint_eq(ty.self, 0);
    ck_assert_uint_eq(ty.dup, 0);
    done(&ty);
    p = proj(APICAL_CONN_FIXED_OUTDEGREE, 0, 1);
    p.k = 9;
    ty = run(&p, 80, 120, 0, 120);
    for (int s = 0; s < 80; s++)
        ck_assert_uint_eq(ty.out[s], 9);
    ck_assert_uint_eq(ty.dup, 0);
    done(&ty);
    /* k = all possible sources without autapses: everything but self */
    p = proj(APICAL_CONN_FIXED_INDEGREE, 1, 0);
    p.k = 99;
    ty = run(&p, 100, 100, 0, 100);
    ck_assert_uint_eq(ty.n, 9900);
    ck_assert_uint_eq(ty.self, 0);
    done(&ty);
    p.k = 100;
    apical_error err;
    tally t2 = {0};
    ck_assert_int_eq(apical_connect(&p, 100, 100, 1, 0, 100, count, &t2, &err), APICAL_E_RANGE);
}
END_TEST

/* Sampling without replacement, on both of choose()'s paths (a bitset when
 * k is a large part of the candidates, a hash set otherwise): degrees exact,
 * no duplicates or autapses, and every candidate equally likely. How often
 * each source (fixed_indegree) or target (fixed_outdegree) is chosen is a
 * sum of n - 1 Bernoulli(q = k / (n - 1)) draws, so the chi-square of these
 * counts over (1 - q) has n - 1 degrees of freedom: within 5 standard
 * deviations (sqrt(2 (n - 1))). */
START_TEST(test_fixed_degree_uniformity)
{
    const uint64_t sizes[] = {200, 3000}; /* k = 40: dense, then sparse */
    for (int out = 0; out < 2; out++)
        for (int z = 0; z < 2; z++) {
            const uint64_t n = sizes[z], k = 40;
            apical_proj_spec p =
                proj(out ? APICAL_CONN_FIXED_OUTDEGREE : APICAL_CONN_FIXED_INDEGREE, 1, 0);
            p.k = k;
            tally ty = run(&p, n, n, 0, n);
            ck_assert_uint_eq(ty.n, n * k);
            ck_assert_uint_eq(ty.self, 0);
            ck_assert_uint_eq(ty.dup, 0);
            const uint64_t *fixed = out ? ty.out : ty.in, *chosen = out ? ty.in : ty.out;
            const double df = (double)(n - 1), q = (double)k / df, e = (double)k;
            double chi2 = 0.0;
            for (uint64_t i = 0; i < n; i++) {
                ck_assert_uint_eq(fixed[i], k);
                chi2 += ((double)chosen[i] - e) * ((double)chosen[i] - e) / e;
            }
            chi2 /= 1.0 - q;
            ck_assert_msg(fabs(chi2 - df) < 5 * sqrt(2 * df), "%s n %llu: chi2 %g, df %g",
                          out ? "fixed_outdegree" : "fixed_indegree", (unsigned long long)n,
                          chi2, df);
            done(&ty);
        }
}
END_TEST

/* A partition that owns targets [lo, hi) sees exactly the synapses of a
 * single-partition build restricted to those targets. */
typedef struct pair_list {
    uint64_t *v;
    size_t n;
} pair_list;

static int collect(void *user, uint64_t s, uint64_t t, double w, double d)
{
    pair_list *l = user;
    l->v[l->n++] = s * 1000003u + t * 7u + (uint64_t)(w * 1e6) + (uint64_t)(d * 1e9);
    return 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

START_TEST(test_partition_independence)
{
    apical_conn_kind kinds[] = {APICAL_CONN_BERNOULLI, APICAL_CONN_FIXED_INDEGREE,
                                APICAL_CONN_FIXED_OUTDEGREE};
    for (int k = 0; k < 3; k++) {
        apical_proj_spec p = proj(kinds[k], 1, 0);
        p.p = 0.2;
        p.k = 12;
        p.weight = (apical_dist){APICAL_DIST_NORMAL, 5.0, 1.0, 0.0, HUGE_VAL, {0}, NULL, 0, 0, 0};
        p.delay = (apical_dist){APICAL_DIST_UNIFORM, 0.5, 2.0, -HUGE_VAL, HUGE_VAL, {0}, NULL, 0, 0, 0};
        pair_list whole = {malloc(200 * 200 * sizeof(uint64_t)), 0};
        pair_list parts = {malloc(200 * 200 * sizeof(uint64_t)), 0};
        apical_error err;
        ck_assert_int_eq(apical_connect(&p, 200, 200, 9, 0, 200, collect, &whole, &err), 0);
        const uint64_t cut[] = {0, 37, 120, 200};
        for (int c = 0; c < 3; c++)
            ck_assert_int_eq(apical_connect(&p, 200, 200, 9, cut[c], cut[c + 1], collect, &parts, &err), 0);
        ck_assert_uint_eq(whole.n, parts.n);
        qsort(whole.v, whole.n, sizeof *whole.v, cmp_u64);
        qsort(parts.v, parts.n, sizeof *parts.v, cmp_u64);
        ck_assert_int_eq(memcmp(whole.v, parts.v, whole.n * sizeof *whole.v), 0);
        free(whole.v);
        free(parts.v);
    }
}
END_TEST

START_TEST(test_weight_distribution)
{
    apical_proj_spec p = proj(APICAL_CONN_ALL_TO_ALL, 0, 1);
    p.weight = (apical_dist){APICAL_DIST_NORMAL, 3.0, 0.5, -HUGE_VAL, HUGE_VAL, {0}, NULL, 0, 0, 0};
    p.delay = (apical_dist){APICAL_DIST_UNIFORM, 0.2, 0.4, -HUGE_VAL, HUGE_VAL, {0}, NULL, 0, 0, 0};
    tally ty = run(&p, 200, 200, 0, 200);
    double n = (double)ty.n, mean = ty.wsum / n, var = ty.wsum2 / n - mean * mean;
    ck_assert_msg(fabs(mean - 3.0) < 5 * 0.5 / sqrt(n), "mean weight %g", mean);
    ck_assert_msg(fabs(var - 0.25) < 5 * 0.25 * sqrt(2.0 / n), "weight variance %g", var);
    ck_assert(ty.dmin >= 0.2);
    done(&ty);
}
END_TEST

Suite *connect_suite(void)
{
    Suite *s = suite_create("connect");
    TCase *tc = tcase_create("rules");
    tcase_add_test(tc, test_all_to_all_and_one_to_one);
    tcase_add_test(tc, test_bernoulli_statistics);
    tcase_add_test(tc, test_fixed_degrees);
    tcase_add_test(tc, test_fixed_degree_uniformity);
    tcase_add_test(tc, test_partition_independence);
    tcase_add_test(tc, test_weight_distribution);
    suite_add_tcase(s, tc);
    return s;
}
