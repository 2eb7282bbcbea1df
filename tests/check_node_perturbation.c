/* Node perturbation (models/node_perturbation.c, issue 16): the estimator's
 * variance grows in proportion to the number of perturbed units, as the
 * seed lecture derives (shared/seeds/001); the protocol runs the same bits
 * on any partition and thread count; the loader refuses what it cannot
 * run, at its line. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apical/loader.h"
#include "apical/node_perturbation.h"
#include "apical/plateau.h"
#include "apical/protocol.h"
#include "apical/sim.h"
#include "harness.h"

/* The variance of g = dR xi / sigma against the true gradient, for a reward
 * whose gradient is known: R(delta) = -|delta - h|^2 / 2 around delta = 0,
 * so grad = h, drawn once per N with entries ~ N(0, 1). To first order in
 * sigma, var(g_i) = |grad|^2 + grad_i^2 (Gaussian xi), so the mean
 * per-unit variance is V = |grad|^2 (N + 1) / N, which grows as N mean(grad^2):
 * the lecture's "var Delta f / Delta W_i ~ N". Measured over M perturbations
 * from the protocol's own stream (apical_np_draw) and estimator
 * (apical_np_estimate). Returns the measured V over the predicted one; *v_out
 * is V / mean(grad^2), the variance per unit of gradient size, which is
 * predicted to be N + 1. */
static double variance_ratio(size_t n, int trials, double sigma, double *v_out)
{
    double *grad = malloc(n * sizeof *grad), *xi = malloc(n * sizeof *xi),
           *g = malloc(n * sizeof *g);
    ck_assert(grad && xi && g);
    /* the true gradient: a draw of another seed's stream */
    ck_assert_int_eq(apical_np_draw(99, 0, 0, grad, n), APICAL_OK);
    double norm2 = 0.0;
    for (size_t i = 0; i < n; i++)
        norm2 += grad[i] * grad[i];
    double sum = 0.0;
    for (int t = 0; t < trials; t++) {
        ck_assert_int_eq(apical_np_draw(7, (uint64_t)t, 0, xi, n), APICAL_OK);
        double dot = 0.0, d2 = 0.0;
        for (size_t i = 0; i < n; i++) {
            const double delta = sigma * xi[i];
            dot += grad[i] * delta;
            d2 += delta * delta;
        }
        const double r = dot - 0.5 * d2; /* R(delta) - R(0) */
        apical_np_estimate(xi, n, sigma, r, 0.0, g);
        for (size_t i = 0; i < n; i++)
            sum += (g[i] - grad[i]) * (g[i] - grad[i]);
    }
    const double v = sum / ((double)trials * (double)n);
    if (v_out)
        *v_out = v / (norm2 / (double)n);
    free(grad), free(xi), free(g);
    return v / (norm2 * (double)(n + 1) / (double)n);
}

/* V / V_predicted within 0.85-1.15 for N = 10 ... 1000 (M = 2000
 * perturbations each), and the slope of log(V / mean(grad^2)) against
 * log(N + 1) within 1 +- 0.05 (the two end ratios are each within 3 SE of
 * 1, so the slope over a factor 91 moves by at most ~0.04). Tolerance: V is a mean over M draws of a quantity whose
 * relative SD is ~sqrt(2) (dominated by (grad . xi)^2, a scaled chi^2_1),
 * so its relative SE is sqrt(2/M) = 3.2%; 15% is ~5 SE. sigma = 1e-4 keeps
 * the second-order term (sigma |xi|^2 / 2 per unit, ~0.05 at N = 1000)
 * negligible. The seeds are fixed, so the values are reproducible; the
 * margins say how far another seed may land. */
START_TEST(test_np_variance_scaling)
{
    static const size_t ns[] = {10, 30, 100, 300, 1000};
    double v[5];
    for (int k = 0; k < 5; k++) {
        const double ratio = variance_ratio(ns[k], 2000, 1e-4, &v[k]);
        if (test_verbose())
            printf("node perturbation: N = %4zu  var / mean(grad^2) %.4g  / predicted %.3f\n", ns[k],
                   v[k], ratio);
        ck_assert_msg(ratio > 0.85 && ratio < 1.15, "N = %zu: V / V_predicted = %g", ns[k],
                      ratio);
    }
    /* the growth itself: the slope of log(V / mean(grad^2)) against
     * log(N + 1), 1 for the predicted N + 1 */
    const double slope = log(v[4] / v[0]) / log((double)(ns[4] + 1) / (double)(ns[0] + 1));
    if (test_verbose())
        printf("node perturbation: slope of log(var / mean grad^2) vs log(N + 1) = %.3f\n",
               slope);
    ck_assert_msg(fabs(slope - 1.0) < 0.05, "slope %g", slope);
}
END_TEST

/* The same measurement through the whole protocol in a simulation: N
 * dendritic_output units without input (their somatic voltage follows their
 * bias exactly: C relaxes to k_D b, k_D = g_D / (g_L + g_D), with time
 * constant 1/(g_L + g_D) = 1.4 ms, 10 ms of settle = 7 time constants), so
 * the reward is a known function of the biases, R = -sum_k (sigma(k_D b_k)
 * - y_k)^2, and its true gradient is -2 (sigma(Cbar_k) - y_k)
 * sigma'(Cbar_k) k_D at the clean pass's Cbar. Nothing learns, so every
 * example is one more perturbation of the same point. */
typedef struct np_probe {
    double sum2, grad2;
    size_t n, trials;
    double kD;
} np_probe;

static void probe_estimate(void *user, uint64_t example, size_t pop, const double *xi,
                           const double *g, size_t n, const double *cbar, size_t n_out)
{
    (void)example, (void)pop, (void)xi;
    np_probe *pr = user;
    ck_assert_uint_eq(n, n_out);
    double g2 = 0.0;
    for (size_t k = 0; k < n; k++) {
        const double s = apical_sigma(cbar[k]);
        const double grad = -2.0 * (s - (k == 0 ? 1.0 : 0.0)) * s * (1.0 - s) * pr->kD;
        pr->sum2 += (g[k] - grad) * (g[k] - grad);
        g2 += grad * grad;
    }
    pr->grad2 += g2 / (double)n; /* mean(grad^2), averaged over trials */
    pr->n = n;
    pr->trials++;
}

/* One N: V / mean(grad^2) measured through the protocol, over M examples. */
static double protocol_variance(size_t n, unsigned trials, const char *img, const char *lab,
                                double *ratio)
{
    char yaml[2048];
    snprintf(yaml, sizeof yaml,
             "simulation: {seed: 3, solver: {stepper: exact}}\n"
             "populations:\n"
             "  px: {size: 1, model: parrot}\n"
             "  out: {size: %zu, model: dendritic_output,\n"
             "        initial: {bias: {normal: {mean: -1, sd: 2}}}}\n"
             "inputs: [{name: img, type: poisson, target: px, rate: 0 Hz, receptor: relay,\n"
             "          weight: 1}]\n"
             "protocol:\n"
             "  type: node_perturbation\n"
             "  perturb: out\n"
             "  output: out\n"
             "  examples: %u\n"
             "  duration: 12 ms\n"
             "  settle: 10 ms\n"
             "  noise: 0.001\n"
             "  stimulus: {input: img, images: %s, labels: %s}\n",
             n, trials, img, lab);
    apical_net_spec *spec = test_load(yaml);
    apical_error err = {0};
    apical_sim *sim = NULL;
    ck_assert_int_eq(apical_sim_new(spec, 1, &sim, &err), APICAL_OK);
    apical_protocol *pro = NULL;
    ck_assert_msg(apical_protocol_new(spec, sim, &pro, &err) == APICAL_OK, "%s", err.msg);
    np_probe pr = {.kD = 0.6 / (0.1 + 0.6)}; /* dendritic_output's default g_D, g_L */
    apical_np_on_estimate(pro, probe_estimate, &pr);
    ck_assert_int_eq(apical_sim_run(sim, spec->sim.duration, NULL, &err), APICAL_OK);
    ck_assert_uint_eq(pr.trials, trials);
    const double v = pr.sum2 / ((double)trials * (double)n), g2 = pr.grad2 / (double)trials;
    *ratio = v / (g2 * (double)(n + 1));
    apical_protocol_free(pro);
    apical_sim_free(sim);
    apical_spec_free(spec);
    return v / g2;
}

/* 1x1 images, one of label 0, in dir. */
static void write_dot(char *dir, char *img, char *lab)
{
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(img, 64, "%s/img", dir);
    snprintf(lab, 64, "%s/lab", dir);
    static const unsigned char head_i[] = {0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 128};
    static const unsigned char head_l[] = {0, 0, 8, 1, 0, 0, 0, 1, 0};
    FILE *f = fopen(img, "wb");
    ck_assert_ptr_nonnull(f);
    fwrite(head_i, 1, sizeof head_i, f);
    fclose(f);
    ck_assert_ptr_nonnull(f = fopen(lab, "wb"));
    fwrite(head_l, 1, sizeof head_l, f);
    fclose(f);
}

/* V / mean(grad^2) within 30% of N + 1 for N = 10, 30, 100, 300 with M = 300
 * perturbations each, and the slope of its log against log(N + 1) within
 * 1 +- 0.15. Tolerance: the relative SE of V over M draws is ~sqrt(2/M) =
 * 8% (as above), so 30% is ~4 SE; the slope over a factor 28 in N + 1
 * moves by up to ~2 x 0.08 / ln 28 = 0.05 at 1 SE each end, 0.15 is ~3 SE.
 * noise 0.001 keeps the second-order term (noise x tr(H) / 2, H the
 * reward's Hessian, entries <= ~1) below 1% of the first-order one; the
 * window-mean voltages are exact to ~1e-3 (the settle transient), a bias
 * of the true gradient far below the tolerance. */
START_TEST(test_np_variance_in_network)
{
    static const size_t ns[] = {10, 30, 100, 300};
    char dir[] = "/tmp/apical_npv_XXXXXX", img[64], lab[64];
    write_dot(dir, img, lab);
    double v[4];
    for (int k = 0; k < 4; k++) {
        double ratio;
        v[k] = protocol_variance(ns[k], 300, img, lab, &ratio);
        if (test_verbose())
            printf("node perturbation (network): N = %4zu  var / mean(grad^2) %.4g  / predicted "
                   "%.3f\n", ns[k], v[k], ratio);
        ck_assert_msg(ratio > 0.7 && ratio < 1.3, "N = %zu: V / V_predicted = %g", ns[k], ratio);
    }
    const double slope = log(v[3] / v[0]) / log((double)(ns[3] + 1) / (double)(ns[0] + 1));
    if (test_verbose())
        printf("node perturbation (network): slope of log(var / mean grad^2) vs log(N + 1) = "
               "%.3f\n", slope);
    ck_assert_msg(fabs(slope - 1.0) < 0.15, "slope %g", slope);
    unlink(img), unlink(lab), rmdir(dir);
}
END_TEST

/* Two 2x2 images (labels 0 and 1) in dir. */
static void write_images(char *dir, char *img, char *lab)
{
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(img, 64, "%s/img", dir);
    snprintf(lab, 64, "%s/lab", dir);
    static const unsigned char head_i[] = {0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 2};
    static const unsigned char head_l[] = {0, 0, 8, 1, 0, 0, 0, 2};
    static const unsigned char px[] = {255, 200, 30, 0, 0, 60, 255, 220}, labels[] = {0, 1};
    FILE *f = fopen(img, "wb");
    ck_assert_ptr_nonnull(f);
    fwrite(head_i, 1, sizeof head_i, f), fwrite(px, 1, sizeof px, f);
    fclose(f);
    ck_assert_ptr_nonnull(f = fopen(lab, "wb"));
    fwrite(head_l, 1, sizeof head_l, f), fwrite(labels, 1, sizeof labels, f);
    fclose(f);
}

static void remove_images(const char *dir, const char *img, const char *lab)
{
    unlink(img), unlink(lab), rmdir(dir);
}

static const char *const np_net =
    "simulation: {seed: 5, partitions: %u, solver: {stepper: exact}}\n"
    "populations:\n"
    "  px: {size: 4, model: parrot}\n"
    "  hid: {size: 6, model: dendritic_hidden, initial: {bias: 0.5}}\n"
    "  out: {size: 2, model: dendritic_output}\n"
    "projections:\n"
    "  - {name: W0, source: px, target: hid, connectivity: all_to_all,\n"
    "     receptor: basal, weight: {normal: {mean: 0.3, sd: 1}}, delay: 1 ms}\n"
    "  - {name: W1, source: hid, target: out, connectivity: all_to_all,\n"
    "     receptor: basal, weight: {normal: {mean: 0.1, sd: 0.5}}, delay: 1 ms}\n"
    "inputs: [{name: img, type: poisson, target: px, rate: 0 Hz, receptor: relay,\n"
    "          weight: 1}]\n"
    "protocol:\n"
    "  type: node_perturbation\n"
    "  perturb: [hid, out]\n"
    "  output: out\n"
    "  examples: 6\n"
    "  duration: 30 ms\n"
    "  settle: 10 ms\n"
    "  noise: 0.5\n"
    "  stimulus: {input: img, images: %s, labels: %s, max_rate: 400 Hz}\n"
    "  learning: %s\n"
    "  test: {examples: 2, every: 3, duration: 40 ms, window: 30 ms, images: %s, labels: %s}\n";

typedef struct np_seen {
    double reward[6][2];
    int n_reward;
    double error[4];
    int n_curve;
    spikes sp;
} np_seen;

static void seen_reward(void *user, uint64_t example, double rc, double rp)
{
    np_seen *s = user;
    ck_assert_uint_eq(example, (uint64_t)s->n_reward);
    if (s->n_reward < 6)
        s->reward[s->n_reward][0] = rc, s->reward[s->n_reward][1] = rp;
    s->n_reward++;
}

static void seen_curve(void *user, uint64_t examples, double error)
{
    np_seen *s = user;
    ck_assert(error >= 0.0 && error <= 1.0);
    ck_assert_uint_eq(examples, s->n_curve == 0 ? 3u : 6u);
    if (s->n_curve < 4)
        s->error[s->n_curve] = error;
    s->n_curve++;
}

static void seen_spike(void *user, size_t pop, uint64_t node, double t)
{
    spikes_record(&((np_seen *)user)->sp, pop, node, t);
}

typedef struct weights {
    double w[64];
    size_t n;
} weights;

static int grab(void *user, uint64_t src, uint64_t tgt, double w, double delay)
{
    (void)delay;
    weights *s = user;
    /* partitions visit in their own order: store by (src, tgt) */
    const size_t k = (size_t)(src * 8 + tgt);
    if (k < 64)
        s->w[k] = w;
    s->n++;
    return 0;
}

/* The protocol end to end: rewards, classes, spikes, weights and biases bit
 * for bit on 1, 2 and 3 partitions and 1 and 2 threads; the weights and
 * biases moved; a test pass after every 3 examples. */
START_TEST(test_np_determinism)
{
    char dir[] = "/tmp/apical_np_XXXXXX", img[64], lab[64], yaml[4096];
    write_images(dir, img, lab);
    np_seen ref;
    weights wref[2];
    double bref[8];
    memset(&ref, 0, sizeof ref);
    for (unsigned parts = 1; parts <= 3; parts++)
        for (unsigned threads = 1; threads <= 2; threads++) {
            snprintf(yaml, sizeof yaml, np_net, parts, img, lab,
                     "[{projection: W0, eta: 0.5}, {projection: W1, eta: 0.5}]", img, lab);
            apical_net_spec *spec = test_load(yaml);
            apical_error err = {0};
            apical_sim *sim = NULL;
            ck_assert_int_eq(apical_sim_new(spec, threads, &sim, &err), APICAL_OK);
            apical_protocol *pro = NULL;
            ck_assert_msg(apical_protocol_new(spec, sim, &pro, &err) == APICAL_OK, "%s", err.msg);
            np_seen s;
            memset(&s, 0, sizeof s);
            apical_np_on_reward(pro, seen_reward, &s);
            apical_np_on_curve(pro, seen_curve, &s);
            apical_sim_set_observer(sim, &(apical_sim_observer){.on_spike = seen_spike, .user = &s});
            ck_assert_int_eq(apical_sim_run(sim, spec->sim.duration, NULL, &err), APICAL_OK);
            ck_assert_int_eq(s.n_reward, 6);
            ck_assert_int_eq(s.n_curve, 2);
            weights w[2];
            memset(w, 0, sizeof w);
            for (size_t j = 0; j < 2; j++)
                ck_assert_int_eq(apical_sim_synapses(sim, j, grab, &w[j]), APICAL_OK);
            double b[8];
            for (int i = 0; i < 6; i++)
                b[i] = apical_sim_state(sim, 1, (uint64_t)i)[5]; /* hidden bias */
            for (int i = 0; i < 2; i++)
                b[6 + i] = apical_sim_state(sim, 2, (uint64_t)i)[3]; /* output bias */
            if (parts == 1 && threads == 1) {
                ck_assert_uint_gt(s.sp.n, 100);
                for (int k = 0; k < 6; k++) /* rewards are finite, in [-2, 0] */
                    ck_assert(s.reward[k][0] <= 0.0 && s.reward[k][0] >= -2.0 &&
                              s.reward[k][1] <= 0.0 && s.reward[k][1] >= -2.0);
                for (int i = 0; i < 6; i++)
                    ck_assert(b[i] != 0.5); /* every hidden bias learned */
                ref = s;
                memcpy(wref, w, sizeof w);
                memcpy(bref, b, sizeof b);
            } else {
                ck_assert_msg(spikes_checksum(&s.sp) == spikes_checksum(&ref.sp),
                              "%u partitions, %u threads: spikes differ", parts, threads);
                ck_assert_int_eq(memcmp(s.reward, ref.reward, sizeof s.reward), 0);
                ck_assert_int_eq(memcmp(s.error, ref.error, sizeof s.error), 0);
                ck_assert_int_eq(memcmp(w, wref, sizeof w), 0);
                ck_assert_int_eq(memcmp(b, bref, sizeof b), 0);
                spikes_free(&s.sp);
            }
            apical_protocol_free(pro);
            apical_sim_free(sim);
            apical_spec_free(spec);
        }
    spikes_free(&ref.sp);
    remove_images(dir, img, lab);
}
END_TEST

/* What the loader refuses once the images are read, each at its line. */
START_TEST(test_np_errors)
{
    static const struct {
        const char *learning, *what;
        int line;
    } cases[] = {
        {"[{projection: W9, eta: 0.1}]", "'W9' is not defined", 22},
        {"[{projection: W0, eta: 0.1}, {projection: W0, eta: 0.2}]", "already learned", 22},
        {"[{projection: W0, eta: -1}]", "eta must be in", 22},
        {"[{projection: W0}]", "eta", 22},
        {"{projection: W0, eta: 0.1}", "learning", 22},
    };
    char dir[] = "/tmp/apical_npe_XXXXXX", img[64], lab[64], yaml[4096];
    write_images(dir, img, lab);
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        snprintf(yaml, sizeof yaml, np_net, 1u, img, lab, cases[k].learning, img, lab);
        apical_net_spec *spec = NULL;
        apical_error err = {0};
        ck_assert_int_ne(apical_spec_load_string("np.yaml", yaml, &spec, &err), APICAL_OK);
        ck_assert_msg(strstr(err.msg, cases[k].what), "case %zu: '%s'", k, err.msg);
        ck_assert_int_eq(err.pos.line, cases[k].line);
    }
    /* a learned projection onto a population that is not perturbed */
    snprintf(yaml, sizeof yaml, np_net, 1u, img, lab, "[{projection: W1, eta: 0.1}]", img, lab);
    char *p = strstr(yaml, "perturb: [hid, out]");
    ck_assert_ptr_nonnull(p);
    memcpy(p, "perturb: [hid]     ", strlen("perturb: [hid, out]"));
    apical_net_spec *spec = NULL;
    apical_error err = {0};
    ck_assert_int_ne(apical_spec_load_string("np.yaml", yaml, &spec, &err), APICAL_OK);
    ck_assert_msg(strstr(err.msg, "'out', which is not perturbed"), "'%s'", err.msg);
    ck_assert_int_eq(err.pos.line, 22);
    remove_images(dir, img, lab);
}
END_TEST

/* yaml with the first `from` replaced by `to`, into out (n bytes). */
static void replaced(const char *yaml, const char *from, const char *to, char *out, size_t n)
{
    const char *at = strstr(yaml, from);
    ck_assert_ptr_nonnull(at);
    snprintf(out, n, "%.*s%s%s", (int)(at - yaml), yaml, to, at + strlen(from));
}

/* The stimulus and test sections are read by the module the image
 * protocols share (models/mnist_stimulus.c): its messages, each whole and at
 * its line, as node_perturbation gave them before it was shared. */
START_TEST(test_np_stimulus_errors)
{
    static const struct {
        const char *from, *to, *msg;
        int line;
    } cases[] = {
        {"input: img,", "input: imx,", "input 'imx' is not defined", 21},
        {"max_rate: 400 Hz", "max_rate: -4 Hz", "max_rate must be in [0, 1e+06] Hz, got -4 Hz",
         21},
        {"window: 30 ms", "window: 50 ms", "window (50 ms) must not exceed duration (40 ms)", 23},
        {"examples: 2, every", "examples: 0, every",
         "examples must be an integer in [1, 100000000], got 0", 23},
        /* label 1 of the stimulus's second image has no output neuron */
        {"out: {size: 2,", "out: {size: 1,", ": label 1 of item 1 is not a neuron of the output "
         "population (1 neurons, one per class)", 21},
    };
    char dir[] = "/tmp/apical_nps_XXXXXX", img[64], lab[64], yaml[4096], bad[4096];
    write_images(dir, img, lab);
    snprintf(yaml, sizeof yaml, np_net, 1u, img, lab, "[{projection: W0, eta: 0.1}]", img, lab);
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        replaced(yaml, cases[k].from, cases[k].to, bad, sizeof bad);
        apical_net_spec *spec = NULL;
        apical_error err = {0};
        ck_assert_int_ne(apical_spec_load_string("np.yaml", bad, &spec, &err), APICAL_OK);
        const size_t lm = strlen(err.msg), lw = strlen(cases[k].msg);
        /* the label message starts with the file's path */
        ck_assert_msg(lm >= lw && strcmp(err.msg + lm - lw, cases[k].msg) == 0 &&
                          (cases[k].msg[0] != ':' || strncmp(err.msg, lab, strlen(lab)) == 0),
                      "case %zu: '%s'", k, err.msg);
        ck_assert_int_eq(err.pos.line, cases[k].line);
    }
    /* a missing file: at the key that names it, with the hint */
    snprintf(yaml, sizeof yaml, np_net, 1u, img, "/nonexistent/lab", "[]", img, lab);
    apical_net_spec *spec = NULL;
    apical_error err = {0};
    ck_assert_int_eq(apical_spec_load_string("np.yaml", yaml, &spec, &err), APICAL_E_IO);
    ck_assert_msg(strstr(err.msg, "/nonexistent/lab: cannot open IDX file") &&
                      strstr(err.msg, "(make mnist fetches the MNIST files)"),
                  "'%s'", err.msg);
    ck_assert_int_eq(err.pos.line, 21);
    ck_assert_int_eq(err.pos.col, 44 + (int)strlen(img)); /* the labels value */
    remove_images(dir, img, lab);
}
END_TEST

Suite *node_perturbation_suite(void)
{
    Suite *s = suite_create("node_perturbation");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_np_variance_scaling);
    tcase_add_test(tc, test_np_variance_in_network);
    tcase_add_test(tc, test_np_determinism);
    tcase_add_test(tc, test_np_errors);
    tcase_add_test(tc, test_np_stimulus_errors);
    suite_add_tcase(s, tc);
    return s;
}
