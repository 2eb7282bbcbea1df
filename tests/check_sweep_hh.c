/* Stepper "sweep" for hh_cond_exp_traub (models/hh_cond_exp_traub.c):
 * Cash-Karp 5(4) per neuron with error control, conductances exact.
 *
 * (a) The kernels against the scalar step: the window kernel, window_redo
 *     (with neurons refractory through the window), advance_n and step_n
 *     (the dense kernel with per-neuron stops) give the
 *     bits of `advance` wherever they finish a neuron, in any array position,
 *     over states from a real action potential.
 * (b) One neuron against GSL rk8pd at 1e-12 (the reference), driven by
 *     off-grid inputs, with 0.1 ms windows (COBAHH's) and 1 ms windows (the
 *     walk then steps in pieces of max_step). Tolerance: the method controls
 *     the local error of each step (the embedded 4th-order estimate <= 7.5e-3
 *     mV on V, 7.5e-5 on m, h, n), and propagates the 5th-order solution,
 *     whose error is smaller still; the phase error of this oscillator
 *     accumulates over the run (no reset), so no tight a-priori bound on
 *     spike times follows. Measured: <= 2.4e-4 ms over 1 s
 *     (analysis/hh_accuracy.py: 2.3e-4 ms over 31 spikes; here 1.2e-4 and
 *     1.3e-4 ms, printed with APICAL_TEST_VERBOSE=1). Asserted: issue 10's
 *     target, 1e-3 ms, 4x the largest measured value, with the same spike
 *     count.
 * (c) Determinism: a small COBAHH-like network on 1-3 partitions x 1-2
 *     threads gives the same spikes and final states, bit for bit. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apical/model.h"
#include "apical/sim.h"
#include "apical/spec.h"
#include "harness.h"

enum { NS = 6, N = 96 };

/* Default parameters and derived constants of hh_cond_exp_traub. */
typedef struct hh_fix {
    const apical_model_type *m;
    double param[32], derived[64];
    apical_model_ctx c;
} hh_fix;

static void hh_setup(hh_fix *f)
{
    f->m = apical_model_find("hh_cond_exp_traub");
    ck_assert(f->m && f->m->sweep && f->m->n_state == NS);
    ck_assert(f->m->n_params <= 32 && f->m->n_derived <= 64);
    for (size_t k = 0; k < f->m->n_params; k++)
        f->param[k] = f->m->params[k].def;
    f->m->derive(f->param, f->derived);
    f->c = (apical_model_ctx){.param = f->param, .derived = f->derived};
}

/* N states: every 0.25 ms of a neuron driven to fire (two action
 * potentials: rest, upstroke, peak, downstroke, after-hyperpolarisation),
 * with the conductances varied. */
static void hh_states(hh_fix *f, double ys[NS][N])
{
    double y[NS];
    for (int k = 0; k < NS; k++)
        y[k] = f->m->state[k].def;
    y[4] = 30.0;
    for (int i = 0; i < N; i++) {
        double sl[2];
        for (int s = 0; s < 5; s++)
            f->m->sweep->advance(y, 0.05, 0, &f->c, sl);
        if (i % 20 == 0)
            y[4] += 40.0;
        for (int k = 0; k < NS; k++)
            ys[k][i] = y[k];
        ys[5][i] = 20.0 * (i % 7);
    }
}

START_TEST(test_hh_kernels)
{
    hh_fix f;
    hh_setup(&f);
    const apical_sweep_ops *op = f.m->sweep;
    const double T0 = 10.0, T1 = 10.1, H = T1 - T0;
    double kc[APICAL_SWEEP_MAX_CONST];
    op->constants(H, &f.c, kc);
    static double ys[NS][N], yo[NS][N], y2[NS][N];
    double ru[N], cand[N], cand2[N];
    hh_states(&f, ys);
    double vmin = HUGE_VAL, vmax = -HUGE_VAL;
    for (int i = 0; i < N; i++) {
        vmin = fmin(vmin, ys[0][i]);
        vmax = fmax(vmax, ys[0][i]);
        /* refractory through the window, ending inside it, or not */
        ru[i] = i % 3 == 0 ? T1 + 1.0 : i % 3 == 1 ? T0 + 0.05 : -HUGE_VAL;
    }
    ck_assert_msg(vmin < -55.0 && vmax > 20.0, "states from %g to %g mV", vmin, vmax);
    const double *yp[NS];
    double *opn[NS], *op2[NS];
    for (int k = 0; k < NS; k++) {
        yp[k] = ys[k];
        opn[k] = yo[k];
        op2[k] = y2[k];
    }
    /* the window kernel: the bits of advance where it does not flag */
    op->window(N, yp, opn, ru, T0, T1, kc, &f.c, cand);
    int kept = 0;
    for (int i = 0; i < N; i++) {
        double y[NS], sl[2];
        for (int k = 0; k < NS; k++)
            y[k] = ys[k][i];
        op->advance(y, H, ru[i] >= T1, &f.c, sl);
        if (ru[i] > T0 && ru[i] < T1)
            ck_assert_msg(cand[i] >= 0.0, "neuron %d: refractoriness ends inside, not flagged", i);
        if (cand[i] >= 0.0)
            continue;
        kept++;
        for (int k = 0; k < NS; k++)
            ck_assert_msg(memcmp(&y[k], &yo[k][i], sizeof y[k]) == 0,
                          "window: neuron %d variable %d: %.17g vs %.17g", i, k, y[k], yo[k][i]);
    }
    ck_assert_int_gt(kept, N / 4);
    for (int off = 1; off < 9; off++) {
        const double *ypo[NS];
        for (int k = 0; k < NS; k++)
            ypo[k] = ys[k] + off;
        op->window(N - off, ypo, op2, ru + off, T0, T1, kc, &f.c, cand2);
        for (int i = 0; i < N - off; i++) {
            ck_assert((cand2[i] >= 0.0) == (cand[i + off] >= 0.0));
            for (int k = 0; k < NS; k++)
                ck_assert(memcmp(&y2[k][i], &yo[k][i + off], sizeof y2[k][i]) == 0);
        }
    }
    /* window_redo over every neuron not refractory at T0 or refractory
     * throughout (marked 1 on entry): finished only where the walk takes
     * the step whole without a crossing search, with advance's bits */
    uint32_t idx[N];
    double mark[N];
    int nr = 0;
    for (int i = 0; i < N; i++)
        if (!(ru[i] > T0) || ru[i] >= T1) {
            mark[nr] = ru[i] > T0 ? 1.0 : 0.0;
            idx[nr++] = (uint32_t)(N - 1 - i); /* reversed: positions differ */
        }
    for (int q = 0; q < nr; q++)
        mark[q] = ru[idx[q]] > T0 ? 1.0 : 0.0;
    memcpy(cand2, mark, sizeof mark);
    op->window_redo((size_t)nr, idx, yp, op2, T0, T1, kc, &f.c, cand2);
    int done = 0;
    for (int q = 0; q < nr; q++) {
        const int i = (int)idx[q], held = mark[q] > 0.0;
        double y[NS], sl[2];
        for (int k = 0; k < NS; k++)
            y[k] = ys[k][i];
        op->advance(y, H, held, &f.c, sl);
        if (cand2[q] >= 0.0)
            continue;
        done++;
        const double th = f.param[apical_field_index(f.m->params, f.m->n_params, "V_th")];
        const double s0 = ys[0][i] - th, s1 = y[0] - th;
        const double bnd = fmax(s0, s1) + H * (4.0 / 27.0) * (fmax(sl[0], 0.0) + fmax(-sl[1], 0.0));
        ck_assert_msg(held || !(s0 < 0.0) || (s1 < 0.0 && bnd < 0.0),
                      "window_redo: neuron %d finished where the walk looks for a crossing", i);
        for (int k = 0; k < NS; k++)
            ck_assert_msg(memcmp(&y[k], &y2[k][i], sizeof y[k]) == 0,
                          "window_redo: neuron %d variable %d: %.17g vs %.17g", i, k, y[k],
                          y2[k][i]);
    }
    ck_assert_int_gt(done, nr / 2);
    /* advance_n: per-lane lengths, held lanes; the bits of advance
     * (sub-steps included) wherever it does not flag */
    double dt[N], hl[N];
    for (int i = 0; i < N; i++) {
        dt[i] = 0.1 * (double)(1 + i % 10) / 10.0;
        hl[i] = i % 4 == 0 ? 1.0 : 0.0;
    }
    op->advance_n(N, yp, op2, dt, hl, &f.c, kc, cand2);
    int bn = 0;
    for (int i = 0; i < N; i++) {
        double y[NS], sl[2];
        for (int k = 0; k < NS; k++)
            y[k] = ys[k][i];
        op->advance(y, dt[i], hl[i] > 0.0, &f.c, sl);
        if (cand2[i] >= 0.0)
            continue;
        bn++;
        for (int k = 0; k < NS; k++)
            ck_assert_msg(memcmp(&y[k], &y2[k][i], sizeof y[k]) == 0,
                          "advance_n: neuron %d variable %d: %.17g vs %.17g", i, k, y[k],
                          y2[k][i]);
    }
    ck_assert_int_gt(bn, N / 2);
    /* step_n (the dense kernel with per-neuron stops): advance_n's step
     * without its redo, so the bits of advance wherever it does not flag,
     * and flagged wherever advance_n is */
    double cand3[N];
    static double y3[NS][N];
    double *op3[NS];
    for (int k = 0; k < NS; k++)
        op3[k] = y3[k];
    ck_assert(op->step_n);
    op->step_n(N, yp, op3, dt, hl, kc, &f.c, cand3);
    int sn = 0;
    for (int i = 0; i < N; i++) {
        ck_assert_msg(!(cand2[i] >= 0.0) || cand3[i] >= 0.0,
                      "step_n: neuron %d not flagged where advance_n is", i);
        if (cand3[i] >= 0.0)
            continue;
        sn++;
        double y[NS], sl[2];
        for (int k = 0; k < NS; k++)
            y[k] = ys[k][i];
        op->advance(y, dt[i], hl[i] > 0.0, &f.c, sl);
        for (int k = 0; k < NS; k++)
            ck_assert_msg(memcmp(&y[k], &y3[k][i], sizeof y[k]) == 0,
                          "step_n: neuron %d variable %d: %.17g vs %.17g", i, k, y[k], y3[k][i]);
    }
    ck_assert_int_gt(sn, N / 4);
    if (test_verbose())
        printf("hh sweep kernels: window kept %d of %d, window_redo finished %d of %d, "
               "advance_n %d of %d, step_n %d of %d; same bits as advance\n",
               kept, N, done, nr, bn, N, sn, N);
}
END_TEST

/* --- (b) one neuron against rk8pd ---------------------------------------- */


/* The benchmark's neuron (it fires on its own at ~14 Hz), m = h = n = 0 at
 * the start as in COBAHH, 200 excitatory (6 nS) and 50 inhibitory (67 nS)
 * inputs at off-grid times; %s: a silent parrot's projection setting the
 * window (or nothing: 1 ms windows). */
static const char *single_net =
    "simulation: {duration: 1000 ms, seed: 3, solver: %s}\n"
    "populations:\n"
    "  clk: {size: 1, model: parrot}\n"
    "  n: {size: 1, model: hh_cond_exp_traub,\n"
    "      initial: {V_m: -65 mV, m: 0, h: 0, n: 0}}\n"
    "%s"
    "inputs:\n"
    "  - {type: spike_times, target: n, receptor: exc, weight: 6 nS, times: %s}\n"
    "  - {type: spike_times, target: n, receptor: inh, weight: 67 nS, times: %s}\n";

static void run_single(const char *solver, const char *proj, spikes *s)
{
    static char te[200 * 24], ti[50 * 24];
    test_input_times(11, 200, 1000.0, te, sizeof te);
    test_input_times(12, 50, 1000.0, ti, sizeof ti);
    size_t cap = strlen(single_net) + sizeof te + sizeof ti + 512;
    char *yaml = malloc(cap);
    ck_assert(yaml);
    snprintf(yaml, cap, single_net, solver, proj, te, ti);
    apical_net_spec *spec = test_load(yaml);
    memset(s, 0, sizeof *s);
    apical_sim *sim = test_build(spec, 1, s);
    test_run_to(sim, 1000.0);
    apical_sim_free(sim);
    apical_spec_free(spec);
    free(yaml);
}

static void check_single(const char *proj, const char *what)
{
    spikes ref, sw;
    run_single("{stepper: rk8pd, abs_tol: 1e-12, rel_tol: 1e-12}", proj, &ref);
    run_single("{stepper: sweep}", proj, &sw);
    const size_t n = spikes_count_pop(&ref, 1);
    ck_assert_uint_ge(n, 15);
    ck_assert_msg(spikes_count_pop(&sw, 1) == n, "%s: %zu spikes against %zu", what,
                  spikes_count_pop(&sw, 1), n);
    double worst = 0.0;
    size_t ia = 0, ib = 0;
    for (size_t k = 0; k < n; k++) {
        while (ref.pop[ia] != 1)
            ia++;
        while (sw.pop[ib] != 1)
            ib++;
        worst = fmax(worst, fabs(ref.t[ia++] - sw.t[ib++]));
    }
    if (test_verbose())
        printf("hh sweep, %s: %zu spikes, max |dt| %.3g ms against rk8pd 1e-12\n", what, n,
               worst);
    ck_assert_msg(worst <= 1e-3, "%s: spike times off by %g ms", what, worst);
    spikes_free(&ref);
    spikes_free(&sw);
}

START_TEST(test_hh_single_01)
{
    check_single("projections:\n  - {source: clk, target: n, connectivity: all_to_all, "
                 "receptor: exc, weight: 0 nS, delay: 0.1 ms}\n",
                 "0.1 ms windows");
}
END_TEST

START_TEST(test_hh_single_1ms)
{
    check_single("", "1 ms windows");
}
END_TEST

/* --- (c) determinism ------------------------------------------------------ */

static const char *det_net =
    "simulation: {duration: 150 ms, seed: 5, partitions: %u, solver: {stepper: sweep}}\n"
    "populations:\n"
    "  e: {size: 120, model: hh_cond_exp_traub,\n"
    "      initial: {V_m: {normal: {mean: -65 mV, sd: 5 mV}}, m: 0, h: 0, n: 0,\n"
    "                g_exc: {normal: {mean: 40 nS, sd: 15 nS}}, g_inh: {normal: {mean: 200 nS, sd: 120 nS}}}}\n"
    "  i: {size: 30, model: hh_cond_exp_traub, parameters: {t_ref: 1.5 ms}}\n"
    "projections:\n"
    "  - {source: e, target: e, connectivity: {rule: bernoulli, p: 0.1}, receptor: exc, weight: 6 nS, delay: 0.1 ms}\n"
    "  - {source: e, target: i, connectivity: {rule: bernoulli, p: 0.1}, receptor: exc, weight: 6 nS, delay: 0.2 ms}\n"
    "  - {source: i, target: e, connectivity: {rule: bernoulli, p: 0.1}, receptor: inh, weight: 67 nS, delay: 0.1 ms}\n"
    "inputs:\n"
    "  - {type: poisson, target: i, rate: 500 Hz, receptor: exc, weight: 6 nS}\n";

static uint64_t det_run(unsigned parts, unsigned threads, size_t *n_spikes)
{
    char yaml[4096];
    snprintf(yaml, sizeof yaml, det_net, parts);
    apical_net_spec *spec = test_load(yaml);
    spikes s = {0};
    apical_sim *sim = test_build(spec, threads, &s);
    test_run_to(sim, 150.0);
    uint64_t h = spikes_checksum(&s);
    for (size_t pop = 0; pop < 2; pop++)
        h = state_checksum(h, sim, pop, pop == 0 ? 120u : 30u, NS);
    *n_spikes = s.n;
    spikes_free(&s);
    apical_sim_free(sim);
    apical_spec_free(spec);
    return h;
}

START_TEST(test_hh_determinism)
{
    size_t n0;
    const uint64_t h0 = det_run(1, 1, &n0);
    ck_assert_uint_gt(n0, 300);
    for (unsigned p = 1; p <= 3; p++)
        for (unsigned t = 1; t <= 2; t++) {
            size_t n;
            const uint64_t h = det_run(p, t, &n);
            ck_assert_msg(h == h0 && n == n0, "partitions %u threads %u: %zu spikes vs %zu", p, t,
                          n, n0);
        }
    if (test_verbose())
        printf("hh sweep determinism: %zu spikes, identical on 1-3 partitions x 1-2 threads\n",
               n0);
}
END_TEST

Suite *sweep_hh_suite(void);
Suite *sweep_hh_suite(void)
{
    Suite *s = suite_create("sweep_hh");
    TCase *tc = tcase_create("sweep_hh");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_hh_kernels);
    tcase_add_test(tc, test_hh_single_01);
    tcase_add_test(tc, test_hh_single_1ms);
    tcase_add_test(tc, test_hh_determinism);
    suite_add_tcase(s, tc);
    return s;
}
