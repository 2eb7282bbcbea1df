/* Stepper "sweep" (sim/sweep.c, the models' apical_sweep_ops) against the
 * GSL path at rk8pd 1e-12, which is the reference: spike times, voltage
 * traces, edge cases (refractoriness ending inside a window, inputs while
 * refractory, at a window start, several at one time, a neuron starting
 * above threshold, a huge conductance, seconds of silence), determinism
 * over partitions and threads, STDP onto a sweep population, and state
 * recorders at and below the window length.
 *
 * Tolerances follow from the methods (models/lif_cond_exp.c,
 * models/lif_curr_exp.c, docs/models/lif.md "Stepper sweep"):
 * - lif_curr_exp: the exact propagator, so only rounding (the fast exp is
 *   within 2 ulp) and the crossing's Newton tolerance (1e-12 ms) remain;
 *   the rk8pd reference itself is good to ~2e-11 ms (docs/PERFORMANCE.md).
 *   Spike times: 1e-9 ms; V: 1e-9 mV.
 * - lif_cond_exp: RK4 with a local error estimate <= EPS_LOCAL = 2.5e-5 mV
 *   per step; damped, the global V error stays below EPS_LOCAL/(a h)
 *   ~ 2.5e-4 mV for a h >= 0.1, and a spike time moves by the V error over
 *   the crossing slope (>= ~1 mV/ms when driven here): ~2.5e-4 ms. Asserted
 *   with a factor of 3 above that: 7.5e-4 ms and 7.5e-4 mV (measured values
 *   are printed with APICAL_TEST_VERBOSE=1).
 *
 * APICAL_TEST_VERBOSE=1 prints the measured differences. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apical/control.h"
#include "apical/fastexp.h"
#include "apical/model.h"
#include "apical/sim.h"
#include "apical/spec.h"
#include "harness.h"


/* --- (a) single neurons against rk8pd ---------------------------------- */

/* One lif_cond_exp and one lif_curr_exp neuron, driven by 300 excitatory
 * and 80 inhibitory inputs at off-grid times over 1 s, plus a constant
 * current near rheobase so that they fire ~10-40 times. A silent parrot
 * projects onto both with a 0.1 ms delay, which makes the windows 0.1 ms
 * (COBA's); %s: the window-setting delay. V is recorded every 1 ms (as
 * floats: 2^-24 relative, ~4e-6 mV, limits that comparison). */
static const char *single_net =
    "simulation: {duration: 1000 ms, seed: 2, solver: %s}\n"
    "populations:\n"
    "  clk: {size: 1, model: parrot}\n"
    "  c: {size: 1, model: lif_cond_exp, parameters: {I_e: 80 pA, t_ref: 2 ms, V_th: %s},\n"
    "      initial: {V_m: -60 mV}}\n"
    "  k: {size: 1, model: lif_curr_exp, parameters: {I_e: 100 pA, t_ref: 2 ms, V_th: %s},\n"
    "      initial: {V_m: -60 mV}}\n"
    "projections:\n"
    "  - {source: clk, target: c, connectivity: all_to_all, receptor: exc, weight: 0 nS, delay: %s}\n"
    "  - {source: clk, target: k, connectivity: all_to_all, receptor: exc, weight: 0 pA, delay: %s}\n"
    "inputs:\n"
    "  - {type: spike_times, target: c, receptor: exc, weight: 3 nS, times: %s}\n"
    "  - {type: spike_times, target: c, receptor: inh, weight: 20 nS, times: %s}\n"
    "  - {type: spike_times, target: k, receptor: exc, weight: 60 pA, times: %s}\n"
    "  - {type: spike_times, target: k, receptor: inh, weight: -150 pA, times: %s}\n"
    "recorders:\n"
    "  - {type: state, population: c, variables: [V_m], interval: 1 ms}\n"
    "  - {type: state, population: k, variables: [V_m], interval: 1 ms}\n";

enum { N_V = 1000 };

typedef struct run_out {
    spikes s;
    double v[2][N_V]; /* V of c and k at 0 .. 999 ms */
} run_out;

static void on_vframe(void *user, size_t rec, double t, const float *values, size_t n)
{
    run_out *o = user;
    (void)n;
    const long k = lround(t);
    if (rec < 2 && k >= 0 && k < N_V)
        o->v[rec][k] = values[0];
}

static void on_vspike(void *user, size_t pop, uint64_t node, double t)
{
    spikes_record(&((run_out *)user)->s, pop, node, t);
}

/* Run the network in yaml (freed here) for 1 s into o: spikes, and the
 * first two state recorders' V every 1 ms. */
static void run_vnet(char *yaml, run_out *o)
{
    apical_net_spec *spec = test_load(yaml);
    memset(o, 0, sizeof *o);
    apical_sim *sim = test_build(spec, 1, NULL);
    apical_sim_set_observer(sim, &(apical_sim_observer){on_vspike, on_vframe, NULL, o});
    test_run_to(sim, 1000.0);
    apical_sim_free(sim);
    apical_spec_free(spec);
    free(yaml);
}

static void run_single(const char *solver, const char *vth, const char *delay, run_out *o)
{
    static char te[300 * 24], ti[80 * 24], te2[300 * 24], ti2[80 * 24];
    test_input_times(1, 300, 1000.0, te, sizeof te);
    test_input_times(2, 80, 1000.0, ti, sizeof ti);
    test_input_times(3, 300, 1000.0, te2, sizeof te2);
    test_input_times(4, 80, 1000.0, ti2, sizeof ti2);
    size_t cap = strlen(single_net) + sizeof te + sizeof ti + sizeof te2 + sizeof ti2 + 512;
    char *yaml = malloc(cap);
    ck_assert(yaml);
    snprintf(yaml, cap, single_net, solver, vth, vth, delay, delay, te, ti, te2, ti2);
    run_vnet(yaml, o);
}

static const char *const REF = "{stepper: rk8pd, abs_tol: 1e-12, rel_tol: 1e-12}";

/* Largest |dt| over the spikes of population pop, asserting equal counts. */
static double spike_error(const spikes *a, const spikes *b, size_t pop, const char *what)
{
    size_t na = spikes_count_pop(a, pop), nb = spikes_count_pop(b, pop);
    ck_assert_msg(na == nb, "%s: %zu spikes against %zu", what, na, nb);
    double worst = 0.0;
    size_t ia = 0, ib = 0;
    for (size_t k = 0; k < na; k++) {
        while (a->pop[ia] != pop)
            ia++;
        while (b->pop[ib] != pop)
            ib++;
        worst = fmax(worst, fabs(a->t[ia++] - b->t[ib++]));
    }
    return worst;
}

static void check_single(const char *delay)
{
    run_out *ref = malloc(sizeof *ref), *sw = malloc(sizeof *sw);
    ck_assert(ref && sw);
    /* spiking */
    run_single(REF, "-50 mV", delay, ref);
    run_single("{stepper: sweep}", "-50 mV", delay, sw);
    const double ec = spike_error(&sw->s, &ref->s, 1, "lif_cond_exp");
    const double ek = spike_error(&sw->s, &ref->s, 2, "lif_curr_exp");
    const size_t nc = spikes_count_pop(&ref->s, 1), nk = spikes_count_pop(&ref->s, 2);
    if (test_verbose())
        printf("sweep, windows %s: lif_cond_exp %zu spikes, max |dt| %.3g ms; "
               "lif_curr_exp %zu spikes, max |dt| %.3g ms\n",
               delay, nc, ec, nk, ek);
    ck_assert_uint_ge(nc, 10);
    ck_assert_uint_ge(nk, 10);
    ck_assert_msg(ec <= 7.5e-4, "lif_cond_exp spike times off by %g ms", ec);
    ck_assert_msg(ek <= 1e-9, "lif_curr_exp spike times off by %g ms", ek);
    spikes_free(&ref->s);
    spikes_free(&sw->s);
    /* subthreshold: V traces */
    run_single(REF, "100 mV", delay, ref);
    run_single("{stepper: sweep}", "100 mV", delay, sw);
    double dc = 0.0, dk = 0.0;
    for (int k = 0; k < N_V; k++) {
        dc = fmax(dc, fabs(sw->v[0][k] - ref->v[0][k]));
        dk = fmax(dk, fabs(sw->v[1][k] - ref->v[1][k]));
    }
    if (test_verbose())
        printf("sweep, windows %s: subthreshold V, max |dV| lif_cond_exp %.3g mV, "
               "lif_curr_exp %.3g mV\n",
               delay, dc, dk);
    ck_assert_msg(dc <= 7.5e-4, "lif_cond_exp V off by %g mV", dc);
    ck_assert_msg(dk <= 1e-5, "lif_curr_exp V off by %g mV (float frames)", dk);
    spikes_free(&ref->s);
    spikes_free(&sw->s);
    free(ref);
    free(sw);
}

START_TEST(test_sweep_single_01)
{
    check_single("0.1 ms");
}
END_TEST

/* 2.5 ms windows: longer than lif_cond_exp's max_step (X_CAP over the
 * leak's and the fastest conductance's rate, 2 ms here), so the kernel runs
 * in sub-windows */
START_TEST(test_sweep_single_long)
{
    check_single("2.5 ms");
}
END_TEST

/* Strong drive, where the accuracy bound decides: 100 nS excitatory and
 * 300 nS inhibitory inputs (1000 and 300 at off-grid times over 1 s) keep
 * a (the membrane's decay rate) at several per ms and move V by tens of
 * mV per ms after an input, so many steps exceed EPS_LOCAL and are split
 * (at COBA's own 6 / 67 nS a step almost never is: the single-neuron
 * tests above pass with the bound removed). No threshold (V_th 100 mV):
 * the V trace every 1 ms against rk8pd 1e-12. The method's bound
 * (models/lif_cond_exp.c, at EPS_LOCAL): global V error <= EPS_LOCAL /
 * (a h) = 2.5e-4 mV for a h >= 0.1; asserted with a factor of 3, 7.5e-4
 * mV. Measured 8.8e-5 mV (5.7e-5 at the former 1e-5 mV); with the bound
 * removed (EPS_LOCAL 1 mV, only X_CAP left) 2.2e-3 mV, which this test
 * rejects. */
static const char *strong_net =
    "simulation: {duration: 1000 ms, seed: 2, solver: %s}\n"
    "populations:\n"
    "  clk: {size: 1, model: parrot}\n"
    "  c: {size: 1, model: lif_cond_exp, parameters: {V_th: 100 mV}, initial: {V_m: -60 mV}}\n"
    "projections:\n"
    "  - {source: clk, target: c, connectivity: all_to_all, receptor: exc, weight: 0 nS, delay: 0.1 ms}\n"
    "inputs:\n"
    "  - {type: spike_times, target: c, receptor: exc, weight: 100 nS, times: %s}\n"
    "  - {type: spike_times, target: c, receptor: inh, weight: 300 nS, times: %s}\n"
    "recorders:\n"
    "  - {type: state, population: c, variables: [V_m], interval: 1 ms}\n";

static void run_strong(const char *solver, run_out *o)
{
    static char te[1000 * 24], ti[300 * 24];
    test_input_times(21, 1000, 1000.0, te, sizeof te);
    test_input_times(22, 300, 1000.0, ti, sizeof ti);
    size_t cap = strlen(strong_net) + sizeof te + sizeof ti + 256;
    char *yaml = malloc(cap);
    ck_assert(yaml);
    snprintf(yaml, cap, strong_net, solver, te, ti);
    run_vnet(yaml, o);
}

START_TEST(test_sweep_strong_drive)
{
    run_out *ref = malloc(sizeof *ref), *sw = malloc(sizeof *sw);
    ck_assert(ref && sw);
    run_strong(REF, ref);
    run_strong("{stepper: sweep}", sw);
    double dv = 0.0, lo = HUGE_VAL, hi = -HUGE_VAL;
    for (int k = 0; k < N_V; k++) {
        dv = fmax(dv, fabs(sw->v[0][k] - ref->v[0][k]));
        lo = fmin(lo, ref->v[0][k]);
        hi = fmax(hi, ref->v[0][k]);
    }
    if (test_verbose())
        printf("sweep, strong drive: V in [%.4g, %.4g] mV, max |dV| %.3g mV\n", lo, hi, dv);
    ck_assert_msg(hi - lo > 30.0, "the drive moves V by %g mV only", hi - lo);
    ck_assert_msg(dv <= 7.5e-4, "lif_cond_exp V off by %g mV under strong drive", dv);
    free(ref);
    free(sw);
}
END_TEST

/* --- (b) edge cases ------------------------------------------------------ */

/* 0.1 ms windows. c0 starts above threshold (fires at 0); inputs at window
 * starts (5 ms, 7 ms), several at one time (three at 20.05 ms), dense
 * inputs that drive spikes with refractoriness ending inside windows and
 * inputs arriving while refractory, a huge inhibitory conductance at
 * 300.05 ms (sub-stepped), then silence from 500 ms to 3000 ms. */
static const char *edge_net =
    "simulation: {duration: 3000 ms, seed: 2, solver: %s}\n"
    "populations:\n"
    "  clk: {size: 1, model: parrot}\n"
    "  c0: {size: 1, model: lif_cond_exp, parameters: {I_e: 80 pA, t_ref: 1.234 ms},\n"
    "       initial: {V_m: -45 mV, g_exc: 5 nS, g_inh: 10 nS}}\n"
    "  k0: {size: 1, model: lif_curr_exp, parameters: {I_e: 80 pA, t_ref: 1.234 ms},\n"
    "       initial: {V_m: -45 mV}}\n"
    "projections:\n"
    "  - {source: clk, target: c0, connectivity: all_to_all, receptor: exc, weight: 0 nS, delay: 0.1 ms}\n"
    "  - {source: clk, target: k0, connectivity: all_to_all, receptor: exc, weight: 0 pA, delay: 0.1 ms}\n"
    "inputs:\n"
    "  - {type: spike_times, target: c0, receptor: exc, weight: 4 nS,\n"
    "     times: [5 ms, 7 ms, 20.05 ms, 20.05 ms, 20.05 ms]}\n"
    "  - {type: spike_times, target: c0, receptor: exc, weight: 2 nS, times: %s}\n"
    "  - {type: spike_times, target: c0, receptor: inh, weight: 5000 nS, times: [300.05 ms]}\n"
    "  - {type: spike_times, target: k0, receptor: exc, weight: 80 pA,\n"
    "     times: [5 ms, 7 ms, 20.05 ms, 20.05 ms, 20.05 ms]}\n"
    "  - {type: spike_times, target: k0, receptor: exc, weight: 40 pA, times: %s}\n"
    "  - {type: spike_times, target: k0, receptor: inh, weight: -20000 pA, times: [300.05 ms]}\n";

static void run_edge(const char *solver, spikes *s, double final[2][3])
{
    static char t1[600 * 24], t2[600 * 24];
    test_input_times(11, 600, 500.0, t1, sizeof t1);
    test_input_times(12, 600, 500.0, t2, sizeof t2);
    size_t cap = strlen(edge_net) + sizeof t1 + sizeof t2 + 256;
    char *yaml = malloc(cap);
    ck_assert(yaml);
    snprintf(yaml, cap, edge_net, solver, t1, t2);
    apical_net_spec *spec = test_load(yaml);
    apical_sim *sim = test_build(spec, 1, s);
    test_run_to(sim, 3000.0);
    /* GSL neurons stop at their last input; sweep neurons are at 3000 */
    for (size_t pop = 1; pop <= 2; pop++)
        memcpy(final[pop - 1], apical_sim_state(sim, pop, 0), 3 * sizeof(double));
    apical_sim_free(sim);
    apical_spec_free(spec);
    free(yaml);
}

START_TEST(test_sweep_edges)
{
    spikes ref = {0}, sw = {0};
    double fr[2][3], fs[2][3];
    run_edge(REF, &ref, fr);
    run_edge("{stepper: sweep}", &sw, fs);
    /* the initial spike, at 0 */
    ck_assert_uint_ge(sw.n, 2);
    ck_assert_double_eq(sw.t[0], 0.0);
    ck_assert_double_eq(sw.t[1], 0.0);
    const double ec = spike_error(&sw, &ref, 1, "lif_cond_exp"),
                 ek = spike_error(&sw, &ref, 2, "lif_curr_exp");
    if (test_verbose())
        printf("sweep edges: %zu / %zu spikes, max |dt| %.3g / %.3g ms; final V %.12g / %.12g "
               "(reference %.12g / %.12g)\n",
               spikes_count_pop(&ref, 1), spikes_count_pop(&ref, 2), ec, ek, fs[0][0], fs[1][0],
               fr[0][0], fr[1][0]);
    ck_assert_uint_ge(spikes_count_pop(&ref, 1), 20);
    ck_assert_uint_ge(spikes_count_pop(&ref, 2), 20);
    ck_assert_msg(ec <= 7.5e-4, "lif_cond_exp spike times off by %g ms", ec);
    ck_assert_msg(ek <= 1e-9, "lif_curr_exp spike times off by %g ms", ek);
    /* After 2.5 s of silence, at 3000 ms, V_inf = E_L + I_e/g_L = -52 mV
     * with the synaptic variables decayed to nothing. */
    for (int m = 0; m < 2; m++) {
        ck_assert_msg(fabs(fs[m][0] + 52.0) <= 1e-9, "final V %.15g", fs[m][0]);
        for (int k = 1; k < 3; k++)
            ck_assert(fabs(fs[m][k]) < 1e-30);
    }
    spikes_free(&ref);
    spikes_free(&sw);
}
END_TEST

/* The same single step through the kernel and through advance: equal bits
 * (a neuron's result must not depend on which path finished it). Also the
 * vectorised kernel against itself at every offset (lanes vs remainder).
 * The kernel: `window` for dense populations, advance_n (all lanes one
 * step of h) for lazy ones, which have no `window`. */
static void kernel_step(const apical_model_type *m, size_t n, const double *const y[],
                        double *const yn[], const double *ru, double T0, double T1, double h,
                        const double *kc, const apical_model_ctx *c, double *cand)
{
    if (m->sweep->window) {
        m->sweep->window(n, y, yn, ru, T0, T1, kc, c, cand);
        return;
    }
    double dt[64], held[64];
    ck_assert_uint_le(n, 64);
    for (size_t i = 0; i < n; i++) {
        dt[i] = h; /* the step advance takes (T1 - T0 is not h in binary) */
        held[i] = ru[i] >= T1 ? 1.0 : 0.0;
    }
    m->sweep->advance_n(n, y, yn, dt, held, c, kc, cand);
}

/* A model that declares receive_adds_to (apical_sweep_ops) lets the lazy
 * lanes add an input's weight in place instead of calling receive: its
 * receive must be exactly that addition, for every receptor, refractory
 * or not, and leave every other variable's bits alone. At least one model
 * (lif_curr_exp) declares it, so the check cannot pass vacuously. */
START_TEST(test_sweep_receive_adds_to)
{
    size_t declared = 0;
    for (size_t mi = 0; mi < apical_model_count(); mi++) {
        const apical_model_type *m = apical_model_at(mi);
        if (!m->sweep || !m->sweep->receive_adds_to)
            continue;
        declared++;
        ck_assert_msg(m->sweep->receive_keeps_distance,
                      "%s: receive_adds_to without receive_keeps_distance", m->name);
        double *param = malloc(m->n_params * sizeof *param);
        double *derived = calloc(m->n_derived + 1, sizeof *derived);
        ck_assert(param && derived && m->n_state <= 32);
        for (size_t k = 0; k < m->n_params; k++)
            param[k] = m->params[k].def;
        m->derive(param, derived);
        const double w[] = {16.2, -90.0, 1e-300, 0.1 + 0.2};
        for (int refr = 0; refr < 2; refr++)
            for (size_t r = 0; r < m->n_receptors; r++)
                for (size_t a = 0; a < sizeof w / sizeof *w; a++) {
                    apical_model_ctx c = {.param = param, .derived = derived, .refractory = refr};
                    double y[32], want[32]; /* the engine's APICAL_SWEEP_MAX_STATE */
                    for (size_t k = 0; k < m->n_state; k++)
                        y[k] = want[k] = -52.3 + 7.1 * (double)k + 0.37 * (double)a;
                    m->receive(y, r, w[a], &c);
                    want[m->sweep->receive_adds_to[r]] += w[a];
                    for (size_t k = 0; k < m->n_state; k++)
                        ck_assert_msg(memcmp(&y[k], &want[k], sizeof y[k]) == 0,
                                      "%s: receptor %zu, variable %zu: %.17g vs %.17g", m->name,
                                      r, k, y[k], want[k]);
                }
        free(param);
        free(derived);
    }
    ck_assert_uint_ge(declared, 1);
}
END_TEST

START_TEST(test_sweep_kernel_scalar)
{
    for (size_t mi = 0; mi < apical_model_count(); mi++) {
        const apical_model_type *m = apical_model_at(mi);
        if (!m->sweep || m->n_state > 3)
            continue; /* hh_cond_exp_traub: tests/check_sweep_hh.c */
        double *param = malloc(m->n_params * sizeof *param);
        double *derived = calloc(m->n_derived + 1, sizeof *derived);
        ck_assert(param && derived);
        for (size_t k = 0; k < m->n_params; k++)
            param[k] = m->params[k].def;
        m->derive(param, derived);
        apical_model_ctx c = {.param = param, .derived = derived};
        enum { N = 37 };
        const double h = 0.1, T0 = 10.0, T1 = 10.1;
        double kc[APICAL_SWEEP_MAX_CONST];
        m->sweep->constants(h, &c, kc);
        double ys[3][N], yo[3][N], ru[N], cand[N];
        for (int i = 0; i < N; i++) {
            ys[0][i] = -70.0 + 0.5 * i;
            ys[1][i] = 3.0 * (i % 7);
            ys[2][i] = (m->weight_unit[0] == 'p' ? -5.0 : 5.0) * (i % 5);
            ru[i] = -HUGE_VAL;
        }
        const double *yp[3] = {ys[0], ys[1], ys[2]};
        double *op[3] = {yo[0], yo[1], yo[2]};
        kernel_step(m, N, yp, op, ru, T0, T1, h, kc, &c, cand);
        for (int i = 0; i < N; i++) {
            double y[3] = {ys[0][i], ys[1][i], ys[2][i]}, sl[2];
            m->sweep->advance(y, h, 0, &c, sl);
            if (cand[i] >= 0.0)
                continue; /* the kernel's result is redone */
            for (size_t k = 0; k < m->n_state; k++) /* 3 at most (the skip above) */
                ck_assert_msg(y[k] == yo[k][i], "%s: neuron %d variable %zu: %.17g vs %.17g",
                              m->name, i, k, y[k], yo[k][i]);
        }
        for (int off = 1; off < 9; off++) {
            double yo2[3][N], cand2[N];
            const double *yp2[3] = {ys[0] + off, ys[1] + off, ys[2] + off};
            double *op2[3] = {yo2[0], yo2[1], yo2[2]};
            kernel_step(m, N - off, yp2, op2, ru + off, T0, T1, h, kc, &c, cand2);
            for (int i = 0; i < N - off; i++)
                for (size_t k = 0; k < m->n_state; k++)
                    ck_assert(yo2[k][i] == yo[k][i + off]);
        }
        free(param);
        free(derived);
    }
}
END_TEST

/* The short polynomial exp (fastexp.h: degree 7, |z| <= APICAL_FEXP_SMALL)
 * that lif_cond_exp's per-input steps use for their decay factors: within
 * 4 ulp of libm's exp over its range (truncation ~1e-19 relative, the rest
 * is rounding of 8 multiply-adds, each within half an ulp of a value near
 * 1: ~2 ulp; asserted at 2x that), and e^0 = 1 exactly. */
START_TEST(test_fexp_small)
{
    ck_assert(apical_fexp_small(0.0) == 1.0);
    double worst = 0.0;
    for (int i = 0; i <= 100000; i++) {
        const double z = -APICAL_FEXP_SMALL * i / 100000.0, e = exp(z);
        worst = fmax(worst, fabs(apical_fexp_small(z) - e) / e);
    }
    if (test_verbose())
        printf("apical_fexp_small over [-%g, 0]: max relative error %.3g (%.2f ulp)\n",
               APICAL_FEXP_SMALL, worst, worst / 0x1p-52);
    ck_assert_msg(worst <= 4.0 * 0x1p-52, "apical_fexp_small off by %g relative", worst);
}
END_TEST

/* The one-input kernel (single_input) against what the rounds do for a
 * neuron with one input: advance_n to the input, receive, advance_n to T1
 * (held where refractory), bit for bit wherever it does not flag; flagged
 * exactly where refractoriness ends inside the window (plus where a step
 * is flagged). Inputs at T0, inside, just before T1, on either receptor,
 * of weight 0 and negative zero conductances; refractory through the
 * window, ending at T0, ending inside. Then every array offset and a
 * shuffled index list: the same bits per neuron. */
START_TEST(test_sweep_single_input)
{
    for (size_t mi = 0; mi < apical_model_count(); mi++) {
        const apical_model_type *m = apical_model_at(mi);
        if (!m->sweep || !m->sweep->single_input)
            continue;
        ck_assert(m->sweep->advance_n && m->n_state == 3);
        double *param = malloc(m->n_params * sizeof *param);
        double *derived = calloc(m->n_derived + 1, sizeof *derived);
        ck_assert(param && derived);
        for (size_t k = 0; k < m->n_params; k++)
            param[k] = m->params[k].def;
        m->derive(param, derived);
        apical_model_ctx c = {.param = param, .derived = derived};
        enum { N = 53 };
        const double T0 = 10.0, T1 = 10.1;
        double kc[APICAL_SWEEP_MAX_CONST];
        m->sweep->constants(T1 - T0, &c, kc);
        double ys[3][N], ru[N], tin[N], win[N], rin[N];
        uint32_t idx[N];
        for (int i = 0; i < N; i++) {
            ys[0][i] = -70.0 + 0.4 * i;
            ys[1][i] = i == 3 ? -0.0 : 3.0 * (i % 7);
            ys[2][i] = i == 4 ? -0.0 : (m->weight_unit[0] == 'p' ? -5.0 : 5.0) * (i % 5);
            const int r = i % 6;
            ru[i] = r == 0 ? T1 + 1.0 : r == 1 ? T0 : r == 2 ? T0 + 0.03 : r == 3 ? T1 : -HUGE_VAL;
            const int a = i % 5;
            tin[i] = a == 0 ? T0 : a == 1 ? T0 + 0.0123 * (i % 8) : a == 2 ? T1 - 1e-9 : T0 + 0.05;
            win[i] = i % 9 == 0 ? 0.0 : 1.5 + 0.25 * (i % 4);
            rin[i] = (double)(i % 2);
            idx[i] = (uint32_t)i;
        }
        double yo[3][N], cand[N];
        const double *yp[3] = {ys[0], ys[1], ys[2]};
        double *op[3] = {yo[0], yo[1], yo[2]};
        m->sweep->single_input(N, idx, yp, op, ru, tin, win, rin, T0, T1, kc, &c, cand);
        int used = 0;
        for (int i = 0; i < N; i++) {
            /* the rounds: one lane, two steps */
            double a[3] = {ys[0][i], ys[1][i], ys[2][i]}, b[3], dt, held, cd1, cd2;
            const double *ap[3] = {&a[0], &a[1], &a[2]};
            double *bp[3] = {&b[0], &b[1], &b[2]};
            dt = tin[i] - T0;
            held = T0 < ru[i] ? 1.0 : 0.0;
            m->sweep->advance_n(1, ap, bp, &dt, &held, &c, kc, &cd1);
            memcpy(a, b, sizeof a);
            c.refractory = tin[i] < ru[i];
            m->receive(a, (size_t)rin[i], win[i], &c);
            c.refractory = 0;
            dt = T1 - tin[i];
            held = tin[i] < ru[i] ? 1.0 : 0.0;
            m->sweep->advance_n(1, ap, bp, &dt, &held, &c, kc, &cd2);
            if (ru[i] > T0 && ru[i] < T1)
                ck_assert_msg(cand[i] >= 0.0, "%s: neuron %d: refractoriness ends inside",
                              m->name, i);
            if (cand[i] >= 0.0) {
                ck_assert_msg((ru[i] > T0 && ru[i] < T1) || cd1 >= 0.0 || cd2 >= 0.0,
                              "%s: neuron %d flagged for no reason", m->name, i);
                continue;
            }
            ck_assert_msg(cd1 < 0.0 && cd2 < 0.0, "%s: neuron %d: a flagged step was used",
                          m->name, i);
            used++;
            for (int k = 0; k < 3; k++)
                ck_assert_msg(memcmp(&b[k], &yo[k][i], sizeof b[k]) == 0,
                              "%s: neuron %d variable %d: %.17g vs %.17g", m->name, i, k, b[k],
                              yo[k][i]);
        }
        ck_assert_int_gt(used, N / 2);
        /* every offset (vector lanes vs remainder), and a reversed list */
        for (int off = 0; off < 9; off++) {
            double yo2[3][N], cand2[N];
            uint32_t idx2[N];
            double t2[N], w2[N], r2[N];
            const int n2 = N - off;
            for (int q = 0; q < n2; q++) {
                const int i = off == 0 ? N - 1 - q : q + off;
                idx2[q] = (uint32_t)i;
                t2[q] = tin[i], w2[q] = win[i], r2[q] = rin[i];
            }
            double *op2[3] = {yo2[0], yo2[1], yo2[2]};
            m->sweep->single_input((size_t)n2, idx2, yp, op2, ru, t2, w2, r2, T0, T1, kc, &c,
                                   cand2);
            for (int q = 0; q < n2; q++) {
                const int i = (int)idx2[q];
                ck_assert((cand2[q] >= 0.0) == (cand[i] >= 0.0));
                for (int k = 0; cand[i] < 0.0 && k < 3; k++)
                    ck_assert(memcmp(&yo2[k][i], &yo[k][i], sizeof yo[k][i]) == 0);
            }
        }
        if (test_verbose())
            printf("%s single_input: %d of %d neurons finished, same bits as the rounds\n",
                   m->name, used, N);
        free(param);
        free(derived);
    }
}
END_TEST

/* window_redo (the kernel's flagged neurons without inputs, not refractory)
 * against the one-by-one walk it replaces: advance over T1 - T0 (with its
 * sub-steps) and the walk's crossing test (spike distance below 0 at both
 * ends, the Hermite bound max(s0, s1) + 4H/27 (max(s0', 0) + max(-s1', 0))
 * below 0): bit for bit wherever it finishes a neuron, which it may do only
 * where the walk would take the step whole. Conductances from 0 to 5000 nS
 * (sub-step counts 1 to beyond the vectorised ones), V below, near and
 * above threshold, states that are not finite. Then every array offset and
 * a reversed list: the same flags and bits per neuron. */
START_TEST(test_sweep_window_redo)
{
    for (size_t mi = 0; mi < apical_model_count(); mi++) {
        const apical_model_type *m = apical_model_at(mi);
        if (!m->sweep || !m->sweep->window_redo || m->n_state != 3)
            continue; /* hh_cond_exp_traub: tests/check_sweep_hh.c */
        double *param = malloc(m->n_params * sizeof *param);
        double *derived = calloc(m->n_derived + 1, sizeof *derived);
        ck_assert(param && derived);
        for (size_t k = 0; k < m->n_params; k++)
            param[k] = m->params[k].def;
        m->derive(param, derived);
        apical_model_ctx c = {.param = param, .derived = derived};
        enum { N = 97 };
        const double T0 = 10.0, T1 = 10.1, H = T1 - T0;
        double kc[APICAL_SWEEP_MAX_CONST];
        m->sweep->constants(H, &c, kc);
        static const double g[] = {0.0, 3.0, 40.0, 150.0, 400.0, 900.0, 1600.0, 3000.0, 5000.0};
        enum { NG = sizeof g / sizeof *g };
        double ys[3][N];
        uint32_t idx[N];
        for (int i = 0; i < N; i++) {
            ys[0][i] = -80.0 + 0.32 * i; /* up to -49.3 mV: above V_th = -50 at the end */
            ys[1][i] = g[i % NG];
            ys[2][i] = g[(i / NG + 2 * i) % NG];
            idx[i] = (uint32_t)i;
        }
        ys[0][5] = NAN;
        ys[1][6] = HUGE_VAL;
        const double *yp[3] = {ys[0], ys[1], ys[2]};
        double yo[3][N], cand[N];
        double *op[3] = {yo[0], yo[1], yo[2]};
        m->sweep->window_redo(N, idx, yp, op, T0, T1, kc, &c, cand);
        int used = 0, whole = 0;
        for (int i = 0; i < N; i++) {
            double y[3] = {ys[0][i], ys[1][i], ys[2][i]}, sl[2];
            if (!(isfinite(y[0]) && isfinite(y[1]) && isfinite(y[2]))) {
                /* (advance's sub-step count is meant for finite states) */
                ck_assert_msg(cand[i] >= 0.0, "%s: neuron %d not finite, finished", m->name, i);
                continue;
            }
            m->sweep->advance(y, H, 0, &c, sl);
            const double y0[3] = {ys[0][i], ys[1][i], ys[2][i]};
            const double d0 = m->spike_distance(y0, &c), s1 = m->spike_distance(y, &c);
            const double bound = (d0 > s1 ? d0 : s1) +
                                 H * (4.0 / 27.0) * ((sl[0] > 0.0 ? sl[0] : 0.0) +
                                                     (sl[1] < 0.0 ? -sl[1] : 0.0));
            const int walk_whole = d0 < 0.0 && s1 < 0.0 && bound < 0.0 && isfinite(y[0]) &&
                                   isfinite(y[1]) && isfinite(y[2]);
            whole += walk_whole;
            if (!(cand[i] < 0.0))
                continue;
            ck_assert_msg(walk_whole, "%s: neuron %d finished where the walk would not",
                          m->name, i);
            used++;
            for (int k = 0; k < 3; k++)
                ck_assert_msg(memcmp(&y[k], &yo[k][i], sizeof y[k]) == 0,
                              "%s: neuron %d variable %d: %.17g vs %.17g", m->name, i, k, y[k],
                              yo[k][i]);
        }
        /* sub-step counts 1 to 40 here (the walk's count), 8 or fewer in
         * about half (the vectorised ones; count 1 is the kernel's own
         * step, which it flagged) */
        ck_assert_int_gt(used, N / 5);
        for (int off = 0; off < 9; off++) {
            double yo2[3][N], cand2[N];
            uint32_t idx2[N];
            const int n2 = N - off;
            for (int q = 0; q < n2; q++)
                idx2[q] = (uint32_t)(off == 0 ? N - 1 - q : q + off);
            double *op2[3] = {yo2[0], yo2[1], yo2[2]};
            m->sweep->window_redo((size_t)n2, idx2, yp, op2, T0, T1, kc, &c, cand2);
            for (int q = 0; q < n2; q++) {
                const int i = (int)idx2[q];
                ck_assert((cand2[q] >= 0.0) == (cand[i] >= 0.0));
                for (int k = 0; cand[i] < 0.0 && k < 3; k++)
                    ck_assert(memcmp(&yo2[k][i], &yo[k][i], sizeof yo[k][i]) == 0);
            }
        }
        if (test_verbose())
            printf("%s window_redo: %d of %d neurons finished (the walk takes %d whole), same "
                   "bits as the walk\n",
                   m->name, used, N, whole);
        free(param);
        free(derived);
    }
}
END_TEST

/* --- (c) determinism --------------------------------------------------- */

static const char *det_net =
    "simulation: {duration: 300 ms, seed: 9, partitions: %u, solver: {stepper: sweep}}\n"
    "populations:\n"
    "  e: {size: 160, model: lif_cond_exp, initial: {V_m: {uniform: {low: -60 mV, high: -50 mV}}}}\n"
    "  i: {size: 40, model: lif_cond_exp, parameters: {t_ref: 1.3 ms}}\n"
    "  c: {size: 60, model: lif_curr_exp, parameters: {E_L: -49 mV},\n"
    "      initial: {V_m: {uniform: {low: -60 mV, high: -50 mV}}}}\n"
    "projections:\n"
    "  - {source: e, target: e, connectivity: {rule: bernoulli, p: 0.1}, receptor: exc, weight: 4 nS, delay: 0.1 ms}\n"
    "  - {source: e, target: i, connectivity: {rule: bernoulli, p: 0.1}, receptor: exc, weight: 4 nS, delay: 0.3 ms}\n"
    "  - {source: i, target: e, connectivity: {rule: bernoulli, p: 0.1}, receptor: inh, weight: 40 nS, delay: 0.1 ms}\n"
    "  - {source: e, target: c, connectivity: {rule: bernoulli, p: 0.1}, receptor: exc, weight: 20 pA, delay: 0.2 ms}\n"
    "  - {source: c, target: e, connectivity: {rule: bernoulli, p: 0.1}, receptor: exc, weight: 3 nS, delay: 0.1 ms}\n"
    "inputs:\n"
    "  - {type: poisson, target: e, rate: 800 Hz, receptor: exc, weight: 5 nS}\n"
    "  - {type: poisson, target: i, rate: 800 Hz, receptor: exc, weight: 5 nS}\n"
    "  - {type: poisson, target: c, rate: 500 Hz, receptor: exc, weight: 30 pA}\n";

static uint64_t det_run(unsigned parts, unsigned threads, size_t *n_spikes)
{
    char yaml[4096];
    snprintf(yaml, sizeof yaml, det_net, parts);
    apical_net_spec *spec = test_load(yaml);
    spikes s = {0};
    apical_sim *sim = test_build(spec, threads, &s);
    test_run_to(sim, 300.0);
    uint64_t h = spikes_checksum(&s);
    for (size_t pop = 0; pop < 3; pop++)
        h = state_checksum(h, sim, pop, pop == 0 ? 160u : pop == 1 ? 40u : 60u, 3);
    *n_spikes = s.n;
    spikes_free(&s);
    apical_sim_free(sim);
    apical_spec_free(spec);
    return h;
}

START_TEST(test_sweep_determinism)
{
    size_t n0;
    const uint64_t h0 = det_run(1, 1, &n0);
    ck_assert_uint_gt(n0, 500);
    for (unsigned p = 1; p <= 3; p++)
        for (unsigned t = 1; t <= 2; t++) {
            size_t n;
            const uint64_t h = det_run(p, t, &n);
            ck_assert_msg(h == h0 && n == n0, "partitions %u threads %u: %zu spikes vs %zu", p, t,
                          n, n0);
        }
    if (test_verbose())
        printf("sweep determinism: %zu spikes, identical on 1-3 partitions x 1-2 threads\n", n0);
}
END_TEST

/* --- (d) STDP onto a sweep population ------------------------------------ */

/* Regular firing (I_e above rheobase) modulated by 40 plastic inputs, the
 * multiplicative rule: the weights move smoothly with spike times. (With
 * the additive rule at lambda 0.05 the run is chaotic: rk8pd 1e-12 and
 * rkf45 1e-9 already end 0.3 ms apart.) */
static const char *stdp_net =
    "simulation: {duration: 1000 ms, seed: 4}\n"
    "populations:\n"
    "  pre: {size: 40, model: parrot}\n"
    "  post: {size: 5, model: lif_cond_exp, parameters: {I_e: 130 pA}, solver: %s}\n"
    "projections:\n"
    "  - {name: p, source: pre, target: post, connectivity: all_to_all, receptor: exc,\n"
    "     weight: 1.5 nS, delay: 0.5 ms,\n"
    "     plasticity: {rule: stdp, lambda: 0.01, alpha: 1.05, mu_plus: 1, mu_minus: 1,\n"
    "                  tau_plus: 20 ms, tau_minus: 20 ms, W_max: 6 nS}}\n"
    "inputs:\n"
    "  - {type: poisson, target: pre, rate: 20 Hz, receptor: relay, weight: 1}\n";

static int collect_w(void *user, uint64_t src, uint64_t tgt, double w, double d)
{
    (void)d;
    double *out = user;
    out[src * 5 + tgt] = w;
    return 0;
}

static void stdp_run(const char *solver, double *w, spikes *s)
{
    char yaml[2048];
    snprintf(yaml, sizeof yaml, stdp_net, solver);
    apical_net_spec *spec = test_load(yaml);
    apical_sim *sim = test_build(spec, 1, s);
    test_run_to(sim, 1000.0);
    ck_assert(apical_sim_synapses(sim, 0, collect_w, w) == APICAL_OK);
    apical_sim_free(sim);
    apical_spec_free(spec);
}

START_TEST(test_sweep_stdp)
{
    double wr[200], ws[200];
    spikes sr = {0}, ss = {0};
    stdp_run(REF, wr, &sr);
    stdp_run("{stepper: sweep}", ws, &ss);
    const double et = spike_error(&ss, &sr, 1, "post");
    double dw = 0.0, moved = 0.0;
    for (int k = 0; k < 200; k++) {
        dw = fmax(dw, fabs(ws[k] - wr[k]));
        moved = fmax(moved, fabs(wr[k] - 1.5));
    }
    if (test_verbose())
        printf("sweep STDP: %zu post spikes, max |dt| %.3g ms, max |dw| %.3g nS (weights moved "
               "up to %.3g nS)\n",
               spikes_count_pop(&sr, 1), et, dw, moved);
    ck_assert_uint_ge(spikes_count_pop(&sr, 1), 20);
    ck_assert(moved > 0.1);
    ck_assert_msg(et <= 3e-4, "post spike times off by %g ms", et);
    /* a weight moves by lambda W_max e^(-|dt|/tau) per pairing: a spike
     * time off by 3e-4 ms changes it by < lambda W_max 3e-4/20 per pairing */
    ck_assert_msg(dw <= 1e-5, "weights off by %g nS", dw);
    spikes_free(&sr);
    spikes_free(&ss);
}
END_TEST

/* --- (e) state recorders at and below the window length ----------------- */

typedef struct frames {
    size_t n;
    double t[4000];
    float v[4000];
} frames;

static void on_frame(void *user, size_t rec, double t, const float *values, size_t n)
{
    frames *f = user;
    (void)rec;
    (void)n;
    if (f->n < 4000) {
        f->t[f->n] = t;
        f->v[f->n++] = values[0];
    }
}

static void rec_run(const char *solver, const char *interval, frames *f)
{
    static char te[100 * 24];
    test_input_times(21, 100, 200.0, te, sizeof te);
    char yaml[8192];
    snprintf(yaml, sizeof yaml,
             "simulation: {duration: 200 ms, seed: 1, solver: %s}\n"
             "populations:\n"
             "  clk: {size: 1, model: parrot}\n"
             "  c: {size: 1, model: lif_cond_exp, parameters: {I_e: 150 pA, t_ref: 2 ms}}\n"
             "projections:\n"
             "  - {source: clk, target: c, connectivity: all_to_all, receptor: exc, weight: 0 nS, "
             "delay: 0.1 ms}\n"
             "inputs:\n"
             "  - {type: spike_times, target: c, receptor: exc, weight: 5 nS, times: %s}\n"
             "recorders:\n"
             "  - {type: state, population: c, variables: [V_m], interval: %s}\n",
             solver, te, interval);
    apical_net_spec *spec = test_load(yaml);
    apical_sim *sim = test_build(spec, 1, NULL);
    f->n = 0;
    apical_sim_set_observer(sim, &(apical_sim_observer){NULL, on_frame, NULL, f});
    test_run_to(sim, 200.0);
    apical_sim_free(sim);
    apical_spec_free(spec);
}

START_TEST(test_sweep_recorder)
{
    const char *iv[] = {"0.1 ms", "0.03 ms"};
    frames *fr = malloc(sizeof *fr), *fs = malloc(sizeof *fs);
    ck_assert(fr && fs);
    for (int q = 0; q < 2; q++) {
        rec_run(REF, iv[q], fr);
        rec_run("{stepper: sweep}", iv[q], fs);
        ck_assert_uint_eq(fr->n, fs->n);
        ck_assert_uint_gt(fs->n, 1000);
        double worst = 0.0;
        for (size_t k = 0; k < fs->n; k++) {
            ck_assert_double_eq(fr->t[k], fs->t[k]);
            /* frames are floats: 2^-24 relative, ~4e-6 mV at -60 mV; a
             * sample within 3e-4 ms of a spike may fall on either side of
             * the reset, so those are skipped (none expected here) */
            const double d = fabs((double)fr->v[k] - (double)fs->v[k]);
            if (d < 1.0)
                worst = fmax(worst, d);
        }
        if (test_verbose())
            printf("sweep recorder, interval %s: %zu frames, max |dV| %.3g mV\n", iv[q], fs->n,
                   worst);
        ck_assert_msg(worst <= 3e-4, "recorded V off by %g mV", worst);
    }
    free(fr);
    free(fs);
}
END_TEST


/* --- (f) lazy neurons (lif_curr_exp has horizon_n) ---------------------- */

/* ka: E_L above threshold, no input: it wakes and crosses by itself, every
 * ~50 ms. kb: E_L just below threshold, so its wake times run far beyond
 * the calendar's ring (SWEEP_RING windows) as V nears E_L; silent for
 * 3 s, synced and poked while lagging at 2000 ms, then driven at 3000 ms.
 * V of kb sampled every 1 ms (a lagging neuron read by a recorder). */
static const char *lazy_net =
    "simulation: {duration: 5000 ms, seed: 3, solver: %s}\n"
    "populations:\n"
    "  clk: {size: 1, model: parrot}\n"
    "  ka: {size: 1, model: lif_curr_exp, parameters: {E_L: -49 mV, t_ref: 2 ms}, initial: {V_m: -60 mV}}\n"
    "  kb: {size: 1, model: lif_curr_exp, parameters: {E_L: -50.5 mV, t_ref: 2 ms}, initial: {V_m: -60 mV}}\n"
    "projections:\n"
    "  - {source: clk, target: ka, connectivity: all_to_all, receptor: exc, weight: 0 pA, delay: 0.1 ms}\n"
    "  - {source: clk, target: kb, connectivity: all_to_all, receptor: exc, weight: 0 pA, delay: 0.1 ms}\n"
    "inputs:\n"
    "  - {type: spike_times, target: kb, receptor: exc, weight: 100 pA,\n"
    "     times: [3000.05 ms, 3000.35 ms, 3001.15 ms, 3040.5 ms, 3041.25 ms]}\n"
    "recorders:\n"
    "  - {type: state, population: kb, variables: [V_m], interval: 1 ms}\n";

enum { N_LAZY = 5000 };

typedef struct lazy_out {
    spikes s;
    double v[N_LAZY];
    double v_sync; /* kb's V after apical_engine_sync at 2000 ms */
} lazy_out;

static void on_lframe(void *user, size_t rec, double t, const float *values, size_t n)
{
    lazy_out *o = user;
    (void)rec;
    (void)n;
    const long k = lround(t);
    if (k >= 0 && k < N_LAZY)
        o->v[k] = values[0];
}

static void on_lspike(void *user, size_t pop, uint64_t node, double t)
{
    spikes_record(&((lazy_out *)user)->s, pop, node, t);
}

static void lazy_run(const char *solver, lazy_out *o)
{
    char yaml[4096];
    snprintf(yaml, sizeof yaml, lazy_net, solver);
    apical_net_spec *spec = test_load(yaml);
    memset(o, 0, sizeof *o);
    apical_sim *sim = test_build(spec, 1, NULL);
    apical_sim_set_observer(sim, &(apical_sim_observer){on_lspike, on_lframe, NULL, o});
    test_run_to(sim, 2000.0);
    apical_error err = {0};
    ck_assert(apical_engine_sync(sim, 2, 2000.0, &err) == APICAL_OK);
    o->v_sync = apical_engine_state(sim, 2, 0, 0);
    apical_engine_poke(sim, 2, 0, 0, -52.0);
    test_run_to(sim, 5000.0);
    apical_sim_free(sim);
    apical_spec_free(spec);
}

START_TEST(test_sweep_lazy)
{
    lazy_out *ref = malloc(sizeof *ref), *sw = malloc(sizeof *sw);
    ck_assert(ref && sw);
    lazy_run(REF, ref);
    lazy_run("{stepper: sweep}", sw);
    const double ea = spike_error(&sw->s, &ref->s, 1, "ka (wakes by itself)");
    const double eb = spike_error(&sw->s, &ref->s, 2, "kb (silent, then driven)");
    double dv = 0.0;
    for (int k = 0; k < N_LAZY; k++)
        dv = fmax(dv, fabs(sw->v[k] - ref->v[k]));
    if (test_verbose())
        printf("sweep lazy: ka %zu spikes, max |dt| %.3g ms; kb %zu spikes, max |dt| %.3g ms; "
               "kb V max |dV| %.3g mV; synced V %.12g (reference %.12g)\n",
               spikes_count_pop(&ref->s, 1), ea, spikes_count_pop(&ref->s, 2), eb, dv, sw->v_sync,
               ref->v_sync);
    ck_assert_uint_ge(spikes_count_pop(&ref->s, 1), 50);
    ck_assert_uint_ge(spikes_count_pop(&ref->s, 2), 1);
    ck_assert_msg(ea <= 1e-9 && eb <= 1e-9, "spike times off by %g / %g ms", ea, eb);
    ck_assert_msg(dv <= 1e-5, "recorded V off by %g mV (float frames)", dv);
    ck_assert_msg(fabs(sw->v_sync - ref->v_sync) <= 1e-9, "synced V %.15g vs %.15g", sw->v_sync,
                  ref->v_sync);
    /* the poke (V = -52 mV at 2000 ms) shows in the next frame */
    ck_assert(sw->v[2000] < -51.9 && sw->v[2000] > -52.1);
    spikes_free(&ref->s);
    spikes_free(&sw->s);
    free(ref);
    free(sw);
}
END_TEST

/* The loader: sweep for a model without sweep ops, and current devices. */
START_TEST(test_sweep_refused)
{
    apical_net_spec *spec = NULL;
    apical_error err = {0};
    ck_assert(apical_spec_load_string(
                  "t.yaml",
                  "simulation: {duration: 10 ms}\n"
                  "populations:\n"
                  "  a: {size: 1, model: adex_cond_exp, solver: {stepper: sweep}}\n",
                  &spec, &err) == APICAL_E_INVALID);
    ck_assert_msg(strstr(err.msg, "sweep") && err.pos.line == 3, "%s", err.msg);
    ck_assert(apical_spec_load_string(
                  "t.yaml",
                  "simulation: {duration: 10 ms}\n"
                  "populations:\n"
                  "  a: {size: 1, model: lif_cond_exp, solver: {stepper: sweep}}\n"
                  "inputs:\n"
                  "  - {type: dc, target: a, amplitude: 10 pA}\n",
                  &spec, &err) == APICAL_E_INVALID);
    ck_assert_msg(strstr(err.msg, "sweep") && err.pos.line == 5, "%s", err.msg);
    /* simulation-wide: sweep where the model allows it, the model's
     * default elsewhere */
    ck_assert(apical_spec_load_string("t.yaml",
                                      "simulation: {duration: 10 ms, solver: {stepper: sweep}}\n"
                                      "populations:\n"
                                      "  a: {size: 1, model: lif_cond_exp}\n"
                                      "  b: {size: 1, model: adex_cond_exp}\n",
                                      &spec, &err) == APICAL_OK);
    ck_assert_str_eq(spec->pops[0].stepper, "sweep");
    ck_assert_str_ne(spec->pops[1].stepper, "sweep");
    apical_spec_free(spec);
}
END_TEST

Suite *sweep_suite(void);
Suite *sweep_suite(void)
{
    Suite *s = suite_create("sweep");
    TCase *tc = tcase_create("sweep");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_sweep_kernel_scalar);
    tcase_add_test(tc, test_sweep_receive_adds_to);
    tcase_add_test(tc, test_fexp_small);
    tcase_add_test(tc, test_sweep_single_input);
    tcase_add_test(tc, test_sweep_window_redo);
    tcase_add_test(tc, test_sweep_refused);
    tcase_add_test(tc, test_sweep_single_01);
    tcase_add_test(tc, test_sweep_single_long);
    tcase_add_test(tc, test_sweep_strong_drive);
    tcase_add_test(tc, test_sweep_edges);
    tcase_add_test(tc, test_sweep_determinism);
    tcase_add_test(tc, test_sweep_stdp);
    tcase_add_test(tc, test_sweep_recorder);
    tcase_add_test(tc, test_sweep_lazy);
    suite_add_tcase(s, tc);
    return s;
}
