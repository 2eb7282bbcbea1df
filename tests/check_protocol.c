/* The segregated-dendrite phase protocol end to end on a small network:
 * hidden neurons whose apical drive is set per phase so that the plateau
 * difference (alpha_t - alpha_f) is known exactly, Poisson basal inputs from
 * parrots, some active and some silent. Checks the hypothesis the issue
 * names: active synapses potentiate when the second plateau is higher,
 * depress when lower, silent ones never change, and the change is
 * monotonic through zero; and the weight change equals the bias change
 * times the presynaptic PSP averaged over the forward window, computed here
 * independently from the recorded input spikes in closed form. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apical/plateau.h"
#include "apical/protocol.h"
#include "apical/segregated_dendrites.h"
#include "apical/sim.h"
#include "apical/spec.h"
#include "harness.h"

enum { NH = 7, NI = 4 };

typedef struct rec {
    double *t[NI];
    size_t n[NI], cap[NI];
    double alpha_f[NH], alpha_t[NH];
    int plateaus;
} rec;

static void on_spike(void *user, size_t pop, uint64_t node, double t)
{
    rec *r = user;
    if (pop != 0)
        return;
    if (r->n[node] == r->cap[node]) {
        r->cap[node] = r->cap[node] ? 2 * r->cap[node] : 64;
        r->t[node] = realloc(r->t[node], r->cap[node] * sizeof(double));
    }
    r->t[node][r->n[node]++] = t;
}

static void on_plateau(void *user, uint64_t ex, double t, const double *af, const double *at,
                       size_t n)
{
    rec *r = user;
    (void)ex;
    (void)t;
    ck_assert_uint_eq(n, NH);
    memcpy(r->alpha_f, af, sizeof r->alpha_f);
    memcpy(r->alpha_t, at, sizeof r->alpha_t);
    r->plateaus++;
}

/* Weights by target (row) and source (column), up to NH x NI. */
typedef struct wtab {
    double w[NH][NI];
} wtab;

static int grab(void *user, uint64_t src, uint64_t tgt, double w, double d)
{
    (void)d;
    ((wtab *)user)->w[tgt][src] = w;
    return 0;
}

START_TEST(test_plateau_protocol)
{
    const char *yaml =
        "simulation: {duration: 110 ms, seed: 4}\n"
        "populations:\n"
        "  in: {size: 4, model: parrot}\n"
        "  hidden: {size: 7, model: dendritic_hidden, initial: {bias: 0.5}}\n"
        "projections:\n"
        "  - {name: basal, source: in, target: hidden, connectivity: all_to_all, receptor: basal,\n"
        "     weight: 0.5, delay: 1 ms}\n"
        "inputs:\n"
        "  - {type: poisson, target: in, nodes: [0, 1], rate: 80 Hz, receptor: relay, weight: 1}\n";
    apical_net_spec *spec = NULL;
    apical_error err = {0};
    ck_assert_msg(apical_spec_load_string("proto.yaml", yaml, &spec, &err) == APICAL_OK, "%s",
                  err.msg);
    apical_segregated_spec *p = calloc(1, sizeof *p);
    p->hidden[0] = 1;
    p->n_hidden = 1;
    p->output = (size_t)-1;
    p->stim_input = (size_t)-1;
    p->examples = 1;
    p->forward.duration = 50.0;
    p->target.duration = 50.0;
    p->settle = 30.0;
    p->apical_forward = calloc(NH, sizeof(double));
    p->apical_target = calloc(NH, sizeof(double));
    const double delta[NH] = {-0.45, -0.3, -0.1, 0.0, 0.1, 0.3, 0.45};
    for (int i = 0; i < NH; i++)
        p->apical_target[i] = log((0.5 + delta[i]) / (0.5 - delta[i])); /* logit */
    p->learn = calloc(1, sizeof *p->learn);
    p->n_learn = 1;
    p->learn[0] = (apical_learn_spec){.proj = 0, .eta = 0.21};
    spec->protocol_type = &apical_segregated_dendrites;
    spec->protocol = p;

    apical_sim *sim = NULL;
    ck_assert_msg(apical_sim_new(spec, 1, &sim, &err) == APICAL_OK, "%s", err.msg);
    apical_protocol *pro = NULL; /* the spec's protocol, driving sim */
    ck_assert_msg(apical_protocol_new(spec, sim, &pro, &err) == APICAL_OK, "%s", err.msg);
    rec r;
    memset(&r, 0, sizeof r);
    apical_sim_observer obs = {.on_spike = on_spike, .user = &r};
    apical_sim_set_observer(sim, &obs);
    apical_segregated_on_plateau(pro, on_plateau, &r);
    ck_assert_msg(apical_sim_run(sim, 110.0, NULL, &err) == APICAL_OK, "%s", err.msg);
    ck_assert_int_eq(r.plateaus, 1);
    wtab w;
    ck_assert_int_eq(apical_sim_synapses(sim, 0, grab, &w), APICAL_OK);

    /* forward window [30, 50) ms, inputs arrive 1 ms after their spikes */
    double psp[NI];
    for (int j = 0; j < NI; j++) {
        for (size_t k = 0; k < r.n[j]; k++)
            r.t[j][k] += 1.0;
        psp[j] = apical_psp_window_mean(r.t[j], r.n[j], 30.0, 50.0, 10.0, 3.0, HUGE_VAL);
    }
    ck_assert(psp[0] > 0.0 && psp[1] > 0.0);
    ck_assert_double_eq(psp[2], 0.0);
    double prev = -HUGE_VAL;
    for (int i = 0; i < NH; i++) {
        /* constant apical drive: alpha_f = sigma(0) and alpha_t = 0.5 + delta */
        ck_assert_msg(fabs(r.alpha_f[i] - 0.5) < 1e-9, "alpha_f %.12f", r.alpha_f[i]);
        ck_assert_msg(fabs(r.alpha_t[i] - (0.5 + delta[i])) < 1e-9, "alpha_t %.12f", r.alpha_t[i]);
        double db = apical_sim_state(sim, 1, i)[5] - 0.5; /* bias */
        /* |db| <= eta P_hid k_B lambda |delta| / 4 (sigma' <= 1/4) */
        double bound = 0.21 * 100.0 * (6.0 / 7.0) * 0.2 * fabs(delta[i]) / 4.0;
        ck_assert_msg(fabs(db) <= bound + 1e-15, "db %g bound %g", db, bound);
        for (int j = 0; j < NI; j++) {
            double dw = w.w[i][j] - 0.5;
            /* dW_ij = db_i * PSPbar_j: the protocol's running traces against
             * the closed form over the recorded spikes */
            ck_assert_msg(fabs(dw - db * psp[j]) <= 1e-9 * fabs(db * psp[j]) + 1e-15,
                          "neuron %d input %d: dw %.15g, db psp %.15g", i, j, dw, db * psp[j]);
            if (j >= 2)
                ck_assert_double_eq(dw, 0.0); /* silent inputs never change */
        }
        double dw0 = w.w[i][0] - 0.5;
        ck_assert(delta[i] < 0 ? dw0 < 0 : delta[i] > 0 ? dw0 > 0 : dw0 == 0.0);
        ck_assert(dw0 > prev || (delta[i] == 0.0 && dw0 == 0.0 && prev < 0));
        prev = dw0;
    }
    for (int j = 0; j < NI; j++)
        free(r.t[j]);
    apical_protocol_free(pro);
    apical_sim_free(sim);
    apical_segregated_spec_free(p);
    spec->protocol_type = NULL;
    spec->protocol = NULL;
    apical_spec_free(spec);
}
END_TEST

static void put32(FILE *f, uint32_t v)
{
    unsigned char b[4] = {v >> 24, v >> 16, v >> 8, v};
    fwrite(b, 1, 4, f);
}

/* Two 2x2 IDX images with labels l0, l1 in a fresh directory (template
 * `dir`); their paths into img and lab (64 bytes each). */
static void write_two_images(char *dir, char *img, char *lab, const uint8_t px[2][4], int l0,
                             int l1)
{
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(img, 64, "%s/img", dir);
    snprintf(lab, 64, "%s/lab", dir);
    FILE *f = fopen(img, "wb");
    put32(f, 0x803), put32(f, 2), put32(f, 2), put32(f, 2);
    fwrite(px, 1, 8, f);
    fclose(f);
    f = fopen(lab, "wb");
    put32(f, 0x801), put32(f, 2);
    fputc(l0, f), fputc(l1, f);
    fclose(f);
}

typedef struct counts {
    double t0, period;
    size_t n[2][4]; /* per image parity, per pixel */
} counts;

static void count_spike(void *user, size_t pop, uint64_t node, double t)
{
    counts *c = user;
    if (pop != 0)
        return;
    size_t ex = (size_t)(t / c->period);
    c->n[ex % 2][node]++;
}

/* Four parrots as pixels and two outputs, `examples` examples of 100 ms
 * (the run is 4000 ms; the protocol stops after them), the stimulus from
 * the given IDX pair with extra keys. */
static const char *const stimulus_net =
    "simulation: {duration: 4000 ms, seed: 9}\n"
    "populations:\n"
    "  px: {size: 4, model: parrot}\n"
    "  out: {size: 2, model: dendritic_output}\n"
    "inputs: [{name: img, type: poisson, target: px, rate: 0 Hz, receptor: relay, weight: 1}]\n"
    "protocol:\n"
    "  output: out\n"
    "  examples: %d\n"
    "  forward: {duration: 50 ms}\n"
    "  target: {duration: 50 ms}\n"
    "  stimulus: {input: img, images: %s, labels: %s, %s}\n";

/* A stimulus shows IDX image k mod n in example k: each pixel is a Poisson
 * source of rate max_rate * intensity / 255 for the whole example, and the
 * image's label switches the output's teaching conductances on in the
 * target phase. Two 2x2 images, alternating over 40 examples of 100 ms:
 * spike counts per pixel within 5 standard deviations of the Poisson mean. */
START_TEST(test_stimulus)
{
    char dir[] = "/tmp/apical_stim_XXXXXX";
    char img[64], lab[64], yaml[2048];
    const uint8_t px[2][4] = {{255, 0, 128, 0}, {0, 255, 0, 64}};
    write_two_images(dir, img, lab, px, 1, 0);
    snprintf(yaml, sizeof yaml, stimulus_net, 40, img, lab, "max_rate: 500 Hz");
    apical_net_spec *spec = NULL;
    apical_error err = {0};
    ck_assert_msg(apical_spec_load_string("stim.yaml", yaml, &spec, &err) == APICAL_OK, "%s",
                  err.msg);
    apical_sim *sim = NULL;
    ck_assert_int_eq(apical_sim_new(spec, 1, &sim, &err), APICAL_OK);
    apical_protocol *pro = NULL; /* the spec's protocol, driving sim */
    ck_assert_msg(apical_protocol_new(spec, sim, &pro, &err) == APICAL_OK, "%s", err.msg);
    counts c = {0.0, 100.0, {{0}}};
    apical_sim_set_observer(sim, &(apical_sim_observer){.on_spike = count_spike, .user = &c});
    /* in example 0's target phase the label (1) teaches */
    ck_assert_int_eq(apical_sim_run(sim, 75.0, NULL, &err), APICAL_OK);
    ck_assert_double_eq(apical_sim_state(sim, 1, 1)[4], 1.0); /* g_E */
    ck_assert_double_eq(apical_sim_state(sim, 1, 0)[5], 1.0); /* g_I */
    ck_assert_double_eq(apical_sim_state(sim, 1, 0)[4], 0.0);
    ck_assert_int_eq(apical_sim_run(sim, 4000.0, NULL, &err), APICAL_OK);
    for (int im = 0; im < 2; im++)
        for (int k = 0; k < 4; k++) {
            double mean = 20 * 0.1 * 500.0 * px[im][k] / 255.0; /* 20 examples x 100 ms */
            double got = (double)c.n[im][k];
            ck_assert_msg(fabs(got - mean) <= 5 * sqrt(mean) + 1e-9,
                          "image %d pixel %d: %g spikes, expected %g", im, k, got, mean);
        }
    apical_protocol_free(pro);
    apical_sim_free(sim);
    apical_spec_free(spec);
    char cmd[96];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* The output rule through the protocol: teaching pulls the label neuron's
 * soma towards E_E and the others towards E_I in the target phase, so the
 * label neuron's active synapses potentiate and the others' depress;
 * silent ones do not change; and dW_ij = db_i PSPbar_j as for the hidden
 * rule. */
START_TEST(test_output_rule_protocol)
{
    /* _i = 1: settle 0, the window is the whole forward phase (it used to
     * start one window late) */
    const double settle = _i ? 0.0 : 30.0;
    char yaml[2048];
    snprintf(yaml, sizeof yaml,
        "simulation: {duration: 110 ms, seed: 6}\n"
        "populations:\n"
        "  in: {size: 4, model: parrot}\n"
        "  out: {size: 3, model: dendritic_output, initial: {bias: 0.5}}\n"
        "projections:\n"
        "  - {name: W, source: in, target: out, connectivity: all_to_all, receptor: basal,\n"
        "     weight: 0.2, delay: 1 ms}\n"
        "inputs:\n"
        "  - {type: poisson, target: in, nodes: [0, 1], rate: 80 Hz, receptor: relay, weight: 1}\n"
        "protocol:\n"
        "  output: out\n"
        "  labels: [2]\n"
        "  forward: {duration: 50 ms}\n"
        "  target: {duration: 50 ms}\n"
        "  settle: %g ms\n"
        "  learning: [{projection: W, eta: 0.21}]\n"
        "recorders: [{type: spikes, population: in}]\n", settle);
    apical_net_spec *spec = NULL;
    apical_error err = {0};
    ck_assert_msg(apical_spec_load_string("out.yaml", yaml, &spec, &err) == APICAL_OK, "%s",
                  err.msg);
    apical_sim *sim = NULL;
    ck_assert_int_eq(apical_sim_new(spec, 1, &sim, &err), APICAL_OK);
    apical_protocol *pro = NULL; /* the spec's protocol, driving sim */
    ck_assert_msg(apical_protocol_new(spec, sim, &pro, &err) == APICAL_OK, "%s", err.msg);
    rec r;
    memset(&r, 0, sizeof r);
    apical_sim_set_observer(sim, &(apical_sim_observer){.on_spike = on_spike, .user = &r});
    ck_assert_int_eq(apical_sim_run(sim, 110.0, NULL, &err), APICAL_OK);
    wtab w; /* 3 output neurons: the first rows of the table */
    ck_assert_int_eq(apical_sim_synapses(sim, 0, grab, &w), APICAL_OK);
    double psp[NI];
    for (int j = 0; j < NI; j++) {
        for (size_t k = 0; k < r.n[j]; k++)
            r.t[j][k] += 1.0;
        psp[j] = apical_psp_window_mean(r.t[j], r.n[j], settle, 50.0, 10.0, 3.0, HUGE_VAL);
        free(r.t[j]);
    }
    ck_assert(psp[0] > 0.0 && psp[1] > 0.0);
    for (int i = 0; i < 3; i++) {
        double db = apical_sim_state(sim, 1, i)[3] - 0.5; /* bias */
        ck_assert_msg(i == 2 ? db > 0.0 : db < 0.0, "neuron %d: db %g", i, db);
        for (int j = 0; j < NI; j++) {
            double dw = w.w[i][j] - 0.2;
            ck_assert_msg(fabs(dw - db * psp[j]) <= 1e-9 * fabs(db * psp[j]) + 1e-15,
                          "neuron %d input %d: dw %.15g, db psp %.15g", i, j, dw, db * psp[j]);
            if (j >= 2)
                ck_assert_double_eq(dw, 0.0);
        }
    }
    apical_protocol_free(pro);
    apical_sim_free(sim);
    apical_spec_free(spec);
}
END_TEST

/* Three hidden, two output neurons learning W0 and W1 over three examples,
 * with the feedback block given as %s. */
static const char *const feedback_net =
    "simulation: {duration: 320 ms, seed: 2}\n"
    "populations:\n"
    "  in: {size: 2, model: parrot}\n"
    "  hid: {size: 3, model: dendritic_hidden, initial: {bias: 1}}\n"
    "  out: {size: 2, model: dendritic_output}\n"
    "projections:\n"
    "  - {name: W0, source: in, target: hid, connectivity: all_to_all, receptor: basal, weight: 0.5, delay: 1 ms}\n"
    "  - {name: W1, source: hid, target: out, connectivity: all_to_all, receptor: basal,\n"
    "     weight: {normal: {mean: 0.1, sd: 0.5}}, delay: 1 ms}\n"
    "  - {name: Y, source: out, target: hid, connectivity: all_to_all, receptor: apical,\n"
    "     weight: {normal: {mean: 0, sd: 2}}, delay: 1 ms}\n"
    "inputs: [{type: poisson, target: in, rate: 60 Hz, receptor: relay, weight: 1}]\n"
    "protocol:\n"
    "  hidden: hid\n"
    "  output: out\n"
    "  labels: [0, 1, 1]\n"
    "  examples: 3\n"
    "  forward: {duration: 50 ms}\n"
    "  target: {duration: 50 ms}\n"
    "  settle: 30 ms\n"
    "  feedback: %s\n"
    "  learning: [{projection: W0, eta: 0.21}, {projection: W1, eta: 0.21}]\n";

/* Symmetric feedback: the apical feedback weights Y stay the transpose of
 * the learned hidden -> output weights W1, before and after updates. */
typedef struct dense {
    double w[3][3];
} dense;

static int grab_dense(void *user, uint64_t src, uint64_t tgt, double w, double d)
{
    (void)d;
    ((dense *)user)->w[src][tgt] = w;
    return 0;
}

START_TEST(test_symmetric_feedback)
{
    char yaml[2048];
    snprintf(yaml, sizeof yaml, feedback_net, "{projection: Y, symmetric_to: W1}");
    apical_net_spec *spec = NULL;
    apical_error err = {0};
    ck_assert_msg(apical_spec_load_string("sym.yaml", yaml, &spec, &err) == APICAL_OK, "%s",
                  err.msg);
    apical_sim *sim = NULL;
    ck_assert_int_eq(apical_sim_new(spec, 1, &sim, &err), APICAL_OK);
    apical_protocol *pro = NULL; /* the spec's protocol, driving sim */
    ck_assert_msg(apical_protocol_new(spec, sim, &pro, &err) == APICAL_OK, "%s", err.msg);
    dense w1_0, w1, y;
    ck_assert_int_eq(apical_sim_synapses(sim, 1, grab_dense, &w1_0), APICAL_OK);
    ck_assert_int_eq(apical_sim_run(sim, 320.0, NULL, &err), APICAL_OK);
    ck_assert_int_eq(apical_sim_synapses(sim, 1, grab_dense, &w1), APICAL_OK);
    ck_assert_int_eq(apical_sim_synapses(sim, 2, grab_dense, &y), APICAL_OK);
    int changed = 0;
    for (int h = 0; h < 3; h++)
        for (int o = 0; o < 2; o++) {
            ck_assert_double_eq(y.w[o][h], w1.w[h][o]);
            changed |= w1.w[h][o] != w1_0.w[h][o];
        }
    ck_assert(changed); /* W1 did learn, and Y followed */
    apical_protocol_free(pro);
    apical_sim_free(sim);
    apical_spec_free(spec);
}
END_TEST

/* Learned feedback (Kolen-Pollack): Y gets W1's updates transposed and both
 * decay by 1 - d per example, so D = Y - W1^T becomes (1 - d)^n D after n
 * examples, whatever the updates were: checked to rounding (the updates
 * themselves are O(1e-2), so a missing or mismatched transposed update would
 * show at that level). */
START_TEST(test_learned_feedback)
{
    char yaml[2048];
    snprintf(yaml, sizeof yaml, feedback_net, "{projection: Y, learned_from: W1, decay: 0.2}");
    apical_net_spec *spec = NULL;
    apical_error err = {0};
    ck_assert_msg(apical_spec_load_string("kp.yaml", yaml, &spec, &err) == APICAL_OK, "%s",
                  err.msg);
    apical_sim *sim = NULL;
    ck_assert_int_eq(apical_sim_new(spec, 1, &sim, &err), APICAL_OK);
    apical_protocol *pro = NULL; /* the spec's protocol, driving sim */
    ck_assert_msg(apical_protocol_new(spec, sim, &pro, &err) == APICAL_OK, "%s", err.msg);
    dense w1_0, y_0, w1, y;
    ck_assert_int_eq(apical_sim_synapses(sim, 1, grab_dense, &w1_0), APICAL_OK);
    ck_assert_int_eq(apical_sim_synapses(sim, 2, grab_dense, &y_0), APICAL_OK);
    ck_assert_int_eq(apical_sim_run(sim, 320.0, NULL, &err), APICAL_OK);
    ck_assert_int_eq(apical_sim_synapses(sim, 1, grab_dense, &w1), APICAL_OK);
    ck_assert_int_eq(apical_sim_synapses(sim, 2, grab_dense, &y), APICAL_OK);
    const double shrink = 0.8 * 0.8 * 0.8;
    double moved = 0.0;
    for (int h = 0; h < 3; h++)
        for (int o = 0; o < 2; o++) {
            const double d0 = y_0.w[o][h] - w1_0.w[h][o], d = y.w[o][h] - w1.w[h][o];
            ck_assert_msg(fabs(d - shrink * d0) < 1e-12 * (1.0 + fabs(d0)),
                          "Y - W1^T: %g, expected %g", d, shrink * d0);
            moved = fmax(moved, fabs(w1.w[h][o] - shrink * w1_0.w[h][o]));
        }
    ck_assert(moved > 1e-6); /* the updates were not all zero */
    apical_protocol_free(pro);
    apical_sim_free(sim);
    apical_spec_free(spec);
}
END_TEST

/* Feedback options the loader refuses, each at its line. */
START_TEST(test_feedback_errors)
{
    static const struct {
        const char *feedback, *learning, *what;
        int line;
    } cases[] = {
        {"{projection: Y, symmetric_to: W1, learned_from: W1}", "[{projection: W1, eta: 0.2}]",
         "at most one of", 12},
        {"{projection: W1}", "[{projection: W1, eta: 0.2}]", "apical dendrites", 12},
        {"{projection: Z, symmetric_to: W1}", "[]", "'Z' is not defined", 12},
        {"{projection: Y, symmetric_to: Y}", "[]", "must be all_to_all and start at 'hid'", 12},
        {"[{projection: Y}, {projection: Y, symmetric_to: W1}]", "[]", "already has a feedback",
         12},
        {"{projection: Y, learned_from: [W1]}", "[{projection: W1, eta: 0.2}]",
         "learned_from names one", 12},
        {"{projection: Y, symmetric_to: W1, decay: 0.1}", "[{projection: W1, eta: 0.2}]",
         "'learned_from' feedback only", 12},
        {"{projection: Y, learned_from: W1, decay: 2}", "[{projection: W1, eta: 0.2}]", "decay",
         12},
        {"{projection: Y, learned_from: W1}", "[]", "under 'learning'", 12},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char yaml[2048];
        snprintf(yaml, sizeof yaml,
                 "simulation: {duration: 100 ms}\n"
                 "populations:\n"
                 "  hid: {size: 3, model: dendritic_hidden}\n"
                 "  out: {size: 2, model: dendritic_output}\n"
                 "projections:\n"
                 "  - {name: W1, source: hid, target: out, connectivity: all_to_all, receptor: basal, weight: 0.1, delay: 1 ms}\n"
                 "  - {name: Y, source: out, target: hid, connectivity: all_to_all, receptor: apical, weight: 1, delay: 1 ms}\n"
                 "protocol:\n"
                 "  hidden: hid\n"
                 "  output: out\n"
                 "  labels: [0]\n"
                 "  feedback: %s\n"
                 "  learning: %s\n"
                 "  forward: {duration: 50 ms}\n"
                 "  target: {duration: 50 ms}\n"
                 "  settle: 30 ms\n",
                 cases[k].feedback, cases[k].learning);
        apical_net_spec *spec = NULL;
        apical_error err = {0};
        ck_assert_int_ne(apical_spec_load_string("fb.yaml", yaml, &spec, &err), APICAL_OK);
        ck_assert_msg(strstr(err.msg, cases[k].what), "case %zu: '%s'", k, err.msg);
        ck_assert_int_eq(err.pos.line, cases[k].line);
    }
}
END_TEST

/* A learned projection whose kernel a *_end copy truncates is refused. */
START_TEST(test_truncated_learning_refused)
{
    const char *yaml =
        "simulation: {duration: 100 ms}\n"
        "populations:\n"
        "  in: {size: 2, model: parrot}\n"
        "  hid: {size: 3, model: dendritic_hidden}\n"
        "projections:\n"
        "  - {name: W0, source: in, target: hid, connectivity: all_to_all, receptor: basal, weight: 0.5, delay: 1 ms}\n"
        "  - {name: W0_end, source: in, target: hid, connectivity: all_to_all, receptor: basal_end, weight: 0.5, delay: 11 ms}\n"
        "protocol:\n"
        "  hidden: hid\n"
        "  forward: {duration: 50 ms}\n"
        "  target: {duration: 50 ms}\n"
        "  settle: 30 ms\n"
        "  learning: [{projection: W0, eta: 0.2}]\n";
    apical_net_spec *spec = NULL;
    apical_error err = {0};
    ck_assert_int_ne(apical_spec_load_string("trunc.yaml", yaml, &spec, &err), APICAL_OK);
    ck_assert_msg(strstr(err.msg, "truncated by 'W0_end'"), "'%s'", err.msg);
    ck_assert_int_eq(err.pos.line, 13);
}
END_TEST

/* Every registered protocol opens its parse with apical_protocol_parse_open:
 * a key it does not know is refused with the same message, listing its
 * keys, at the key's position, before anything else of the section is read
 * (here the section lacks every key a protocol requires). */
START_TEST(test_parse_open_every_protocol)
{
    for (size_t i = 0; i < apical_protocol_count(); i++) {
        const char *name = apical_protocol_at(i)->name;
        static const char want[] = "unknown key 'bogus_key' in protocol; valid keys: type, ";
        char yaml[400];
        snprintf(yaml, sizeof yaml,
                 "simulation: {duration: 10 ms}\n"
                 "populations:\n"
                 "  a: {size: 1, model: parrot}\n"
                 "protocol:\n"
                 "  type: %s\n"
                 "  bogus_key: 1\n",
                 name);
        apical_net_spec *spec = NULL;
        apical_error err = {0};
        ck_assert_int_eq(apical_spec_load_string("po.yaml", yaml, &spec, &err),
                         APICAL_E_UNKNOWN_KEY);
        ck_assert_msg(strncmp(err.msg, want, sizeof want - 1) == 0, "%s: '%s'", name, err.msg);
        ck_assert_int_eq(err.pos.line, 6);
        ck_assert_int_eq(err.pos.col, 3);
        ck_assert_ptr_null(spec);
    }
}
END_TEST

/* apical_engine_check_restartable refuses, at its position, what
 * apical_engine_restart cannot restart: the first sweep population, then
 * the first projection with a plasticity rule; `when` and `instead` are the
 * caller's words (segregated_dendrites' fit gives them for its epoch ends). */
START_TEST(test_check_restartable)
{
    static const char *const yaml[] = {
        "simulation: {duration: 10 ms}\n"
        "populations:\n"
        "  a: {size: 2, model: lif_cond_exp}\n"
        "  s: {size: 2, model: lif_cond_exp, solver: {stepper: sweep}}\n"
        "projections:\n"
        "  - {source: a, target: a, connectivity: all_to_all, receptor: exc, weight: 1 nS, delay: 1 ms, plasticity: {rule: stdp}}\n",
        "simulation: {duration: 10 ms}\n"
        "populations:\n"
        "  a: {size: 2, model: lif_cond_exp}\n"
        "projections:\n"
        "  - {source: a, target: a, connectivity: all_to_all, receptor: exc, weight: 1 nS, delay: 1 ms}\n"
        "  - {name: L, source: a, target: a, connectivity: all_to_all, receptor: exc, weight: 1 nS, delay: 1 ms, plasticity: {rule: stdp}}\n",
        "simulation: {duration: 10 ms}\n"
        "populations:\n"
        "  a: {size: 2, model: lif_cond_exp}\n"
        "projections:\n"
        "  - {source: a, target: a, connectivity: all_to_all, receptor: exc, weight: 1 nS, delay: 1 ms}\n",
    };
    static const char *const want[] = {
        "population 's' uses stepper 'sweep', which cannot restart at T; use 'exact' or a GSL "
        "stepper, or no restart",
        "projection 'L' has a plasticity rule, whose spike archives cannot restart at T; use "
        "no restart",
        NULL,
    };
    /* where: the population's key, the rule's value */
    static const int line[] = {4, 6, 0}, col[] = {3, 124, 0};
    for (int k = 0; k < 3; k++) {
        apical_net_spec *spec = NULL;
        apical_error err = {0};
        ck_assert_msg(apical_spec_load_string("rs.yaml", yaml[k], &spec, &err) == APICAL_OK, "%s",
                      err.msg);
        const apical_status st = apical_engine_check_restartable(spec, "at T", "no restart", &err);
        if (want[k]) {
            ck_assert_int_eq(st, APICAL_E_INVALID);
            ck_assert_str_eq(err.msg, want[k]);
            ck_assert_int_eq(err.pos.line, line[k]);
            ck_assert_int_eq(err.pos.col, col[k]);
        } else {
            ck_assert_int_eq(st, APICAL_OK);
        }
        apical_spec_free(spec);
    }
}
END_TEST

/* stimulus shuffle: every epoch (two examples here) shows both images once,
 * in an order drawn per epoch; read off the label that teaches in each
 * example's target phase (image 0 has label 1, image 1 label 0). */
START_TEST(test_stimulus_shuffle)
{
    char dir[] = "/tmp/apical_shuf_XXXXXX";
    char img[64], lab[64], yaml[2048];
    const uint8_t px[2][4] = {{255, 0, 128, 0}, {0, 255, 0, 64}};
    write_two_images(dir, img, lab, px, 1, 0);
    snprintf(yaml, sizeof yaml, stimulus_net, 20, img, lab, "shuffle: true");
    apical_net_spec *spec = NULL;
    apical_error err = {0};
    ck_assert_msg(apical_spec_load_string("shuf.yaml", yaml, &spec, &err) == APICAL_OK, "%s",
                  err.msg);
    ck_assert_int_eq(((apical_segregated_spec *)spec->protocol)->stim_shuffle, 1);
    apical_sim *sim = NULL;
    ck_assert_int_eq(apical_sim_new(spec, 1, &sim, &err), APICAL_OK);
    apical_protocol *pro = NULL; /* the spec's protocol, driving sim */
    ck_assert_msg(apical_protocol_new(spec, sim, &pro, &err) == APICAL_OK, "%s", err.msg);
    int label[20], reversed = 0;
    for (int k = 0; k < 20; k++) {
        ck_assert_int_eq(apical_sim_run(sim, 100.0 * k + 75.0, NULL, &err), APICAL_OK);
        label[k] = apical_sim_state(sim, 1, 1)[4] == 1.0; /* g_E of output 1 */
        if (k % 2 == 1) {
            ck_assert_int_ne(label[k], label[k - 1]); /* both images in the epoch */
            reversed += label[k - 1] == 0;            /* image 1 first */
        }
    }
    ck_assert(reversed > 0 && reversed < 10); /* not file order, not always reversed */
    apical_protocol_free(pro);
    apical_sim_free(sim);
    apical_spec_free(spec);
    char cmd[96];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* Test presentations: forward only, the class is the output neuron with the
 * highest mean somatic voltage over the last `window` ms. Checked against
 * the same mean computed from a state recorder's frames (0.1 ms), wherever
 * the two leading means differ by more than the frames' quadrature error. */
typedef struct classes {
    uint64_t label[8], pred[8];
    double t[8];
    int n;
    double sum[8][3]; /* per test: sum of C frames in the window, per output */
    int frames[8];
} classes;

static void on_class(void *user, uint64_t test, double t, uint64_t label, uint64_t predicted)
{
    classes *c = user;
    ck_assert_uint_eq(test, (uint64_t)c->n);
    c->label[c->n] = label;
    c->pred[c->n] = predicted;
    c->t[c->n++] = t;
}

static void on_cframe(void *user, size_t recorder, double t, const float *v, size_t n)
{
    (void)recorder;
    classes *c = user;
    /* tests end every 60 ms (examples: 0), windows are their last 40 ms */
    int k = (int)(t / 60.0);
    double end = 60.0 * (k + 1);
    if (k < 8 && t >= end - 40.0 - 1e-9 && t < end - 1e-9) {
        for (size_t i = 0; i < n; i++)
            c->sum[k][i] += v[i];
        c->frames[k]++;
    }
}

START_TEST(test_classification)
{
    char dir[] = "/tmp/apical_cls_XXXXXX";
    char img[64], lab[64], yaml[2048];
    const uint8_t px[2][4] = {{255, 200, 0, 0}, {0, 0, 255, 220}};
    write_two_images(dir, img, lab, px, 2, 1);
    snprintf(yaml, sizeof yaml,
             "simulation: {duration: 480 ms, seed: 3}\n"
             "populations:\n"
             "  px: {size: 4, model: parrot}\n"
             "  out: {size: 3, model: dendritic_output}\n"
             "projections:\n"
             "  - {source: px, target: out, connectivity: all_to_all, receptor: basal,\n"
             "     weight: {normal: {mean: 0, sd: 1}}, delay: 1 ms}\n"
             "inputs: [{name: img, type: poisson, target: px, rate: 0 Hz, receptor: relay, weight: 1}]\n"
             "recorders: [{type: state, population: out, variables: [C], interval: 0.1 ms}]\n"
             "protocol:\n"
             "  output: out\n"
             "  examples: 0\n"
             "  forward: {duration: 50 ms}\n"
             "  target: {duration: 50 ms}\n"
             "  stimulus: {input: img, images: %s, labels: %s, max_rate: 300 Hz}\n"
             "  test: {examples: 8, duration: 60 ms, window: 40 ms}\n",
             img, lab);
    apical_net_spec *spec = NULL;
    apical_error err = {0};
    ck_assert_msg(apical_spec_load_string("cls.yaml", yaml, &spec, &err) == APICAL_OK, "%s",
                  err.msg);
    apical_sim *sim = NULL;
    ck_assert_int_eq(apical_sim_new(spec, 1, &sim, &err), APICAL_OK);
    apical_protocol *pro = NULL; /* the spec's protocol, driving sim */
    ck_assert_msg(apical_protocol_new(spec, sim, &pro, &err) == APICAL_OK, "%s", err.msg);
    classes c;
    memset(&c, 0, sizeof c);
    apical_sim_set_observer(sim, &(apical_sim_observer){.on_frame = on_cframe, .user = &c});
    apical_segregated_on_classify(pro, on_class, &c);
    ck_assert_int_eq(apical_sim_run(sim, 480.0, NULL, &err), APICAL_OK);
    ck_assert_int_eq(c.n, 8);
    int decisive = 0;
    for (int k = 0; k < 8; k++) {
        ck_assert_uint_eq(c.label[k], k % 2 ? 1 : 2); /* images alternate */
        ck_assert_double_eq_tol(c.t[k], 60.0 * (k + 1), 1e-9);
        ck_assert_int_eq(c.frames[k], 400);
        int best = 0;
        double m[3];
        for (int i = 0; i < 3; i++) {
            m[i] = c.sum[k][i] / c.frames[k];
            if (m[i] > m[best])
                best = i;
        }
        double second = -HUGE_VAL;
        for (int i = 0; i < 3; i++)
            if (i != best && m[i] > second)
                second = m[i];
        if (m[best] - second > 1e-3) {
            decisive++;
            ck_assert_msg(c.pred[k] == (uint64_t)best, "test %d: predicted %llu, frames say %d",
                          k, (unsigned long long)c.pred[k], best);
        }
    }
    ck_assert_int_ge(decisive, 4);
    apical_protocol_free(pro);
    apical_sim_free(sim);
    apical_spec_free(spec);
    char cmd[96];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* Many test presentations after learning: the protocol's queue of
 * presynaptic spikes on their way to the learning traces holds one delay's
 * worth, however many presentations (it used to keep every spike of every
 * test presentation: 845 MB for 2000 MNIST tests). The run has no
 * duration: it ends with the last presentation. */
static const char *const many_tests_net =
    "simulation: {seed: 5}\n"
    "populations:\n"
    "  px: {size: 4, model: parrot}\n"
    "  out: {size: 2, model: dendritic_output}\n"
    "projections:\n"
    "  - {name: W, source: px, target: out, connectivity: all_to_all, receptor: basal,\n"
    "     weight: 0.3, delay: 1 ms}\n"
    "inputs: [{name: img, type: poisson, target: px, rate: 0 Hz, receptor: relay, weight: 1}]\n"
    "protocol:\n"
    "  output: out\n"
    "  examples: 2\n"
    "  forward: {duration: 50 ms}\n"
    "  target: {duration: 50 ms}\n"
    "  stimulus: {input: img, images: %s, labels: %s, max_rate: 1000 Hz}\n"
    "  learning: [{projection: W, eta: 0.1}]\n"
    "  test: {examples: %d, duration: 20 ms, window: 10 ms}\n";

static void count_class(void *user, uint64_t test, double t, uint64_t label, uint64_t pred)
{
    (void)label, (void)pred;
    double *last = user;
    last[0] = (double)test + 1;
    last[1] = t;
}

START_TEST(test_arrivals_bounded)
{
    char dir[] = "/tmp/apical_many_XXXXXX";
    char img[64], lab[64], yaml[2048];
    const uint8_t px[2][4] = {{255, 200, 0, 0}, {0, 0, 255, 220}};
    write_two_images(dir, img, lab, px, 0, 1);
    snprintf(yaml, sizeof yaml, many_tests_net, img, lab, 1500);
    apical_net_spec *spec = NULL;
    apical_error err = {0};
    ck_assert_msg(apical_spec_load_string("many.yaml", yaml, &spec, &err) == APICAL_OK, "%s",
                  err.msg);
    /* 2 examples of 100 ms, 1500 tests of 20 ms */
    ck_assert_double_eq(spec->sim.duration, 200.0 + 1500 * 20.0);
    apical_sim *sim = NULL;
    ck_assert_int_eq(apical_sim_new(spec, 1, &sim, &err), APICAL_OK);
    apical_protocol *pro = NULL; /* the spec's protocol, driving sim */
    ck_assert_msg(apical_protocol_new(spec, sim, &pro, &err) == APICAL_OK, "%s", err.msg);
    double last[2] = {0, 0};
    apical_segregated_on_classify(pro, count_class, last);
    ck_assert_int_eq(apical_sim_run(sim, spec->sim.duration, NULL, &err), APICAL_OK);
    ck_assert_double_eq(last[0], 1500); /* every presentation ran, the last at the end */
    ck_assert_double_eq(last[1], spec->sim.duration);
    const apical_run_stats *st = apical_sim_stats(sim);
    /* ~1.8 spikes per ms over 2 pixels, 1 ms delay: a handful in flight;
     * the tests alone fire ~50 000 */
    ck_assert_uint_gt(st->pop_spikes[0], 20000);
    ck_assert_msg(apical_segregated_arrivals_peak(pro) <= 64, "peak %zu arrivals queued",
                  apical_segregated_arrivals_peak(pro));
    apical_protocol_free(pro);
    apical_sim_free(sim);
    apical_spec_free(spec);
    char cmd[96];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

static void last_plateau(void *user, uint64_t ex, double t, const double *af, const double *at,
                         size_t n)
{
    (void)ex, (void)af, (void)at, (void)n;
    *(double *)user = t;
}

/* The run's duration and the protocol: omitted, it is the end of the last
 * presentation (Wald extras included, as drawn for the seed); too short,
 * the loader says at its line how long the protocol needs; omitted with
 * nothing to present, the loader asks for one. */
START_TEST(test_protocol_duration)
{
    static const char *const net =
        "simulation: {%s seed: 8}\n"
        "populations:\n"
        "  in: {size: 2, model: parrot}\n"
        "  hid: {size: 3, model: dendritic_hidden}\n"
        "projections:\n"
        "  - {name: W0, source: in, target: hid, connectivity: all_to_all, receptor: basal,\n"
        "     weight: 0.5, delay: 0.5 ms}\n"
        "inputs: [{type: poisson, target: in, rate: 50 Hz, receptor: relay, weight: 1}]\n"
        "protocol:\n"
        "  hidden: hid\n"
        "  examples: %d\n"
        "  forward: {duration: 20 ms, wald: {mean: 5 ms, shape: 2 ms}}\n"
        "  target: {duration: 20 ms, wald: {mean: 5 ms, shape: 2 ms}}\n"
        "  learning: [{projection: W0, eta: 0.1}]\n";
    char yaml[2048];
    apical_net_spec *spec = NULL;
    apical_error err = {0};
    snprintf(yaml, sizeof yaml, net, "", 6);
    ck_assert_msg(apical_spec_load_string("dur.yaml", yaml, &spec, &err) == APICAL_OK, "%s",
                  err.msg);
    const double T = spec->sim.duration;
    ck_assert(T > 6 * 40.0 && T < 6 * 40.0 + 200.0);
    ck_assert_double_eq(T, 0.5 * round(T / 0.5)); /* on the window grid */
    apical_sim *sim = NULL;
    ck_assert_int_eq(apical_sim_new(spec, 1, &sim, &err), APICAL_OK);
    apical_protocol *pro = NULL; /* the spec's protocol, driving sim */
    ck_assert_msg(apical_protocol_new(spec, sim, &pro, &err) == APICAL_OK, "%s", err.msg);
    double t_last = 0.0;
    apical_segregated_on_plateau(pro, last_plateau, &t_last);
    ck_assert_int_eq(apical_sim_run(sim, T, NULL, &err), APICAL_OK);
    ck_assert_double_eq(t_last, T); /* the sixth example ends the run */
    apical_protocol_free(pro);
    apical_sim_free(sim);
    apical_spec_free(spec);

    char dur[64];
    for (int k = 0; k < 2; k++) { /* just short, and far short: the whole need */
        snprintf(dur, sizeof dur, "duration: %.10g ms,", k ? 50.0 : T - 0.5);
        snprintf(yaml, sizeof yaml, net, dur, 6);
        ck_assert_int_ne(apical_spec_load_string("dur.yaml", yaml, &spec, &err), APICAL_OK);
        ck_assert_int_eq(err.code, APICAL_E_RANGE);
        ck_assert_int_eq(err.pos.line, 1);
        ck_assert_int_eq(err.pos.col, 24);
        char need[64];
        snprintf(need, sizeof need, "needs %.10g ms", T);
        ck_assert_msg(strstr(err.msg, need), "'%s' lacks '%s'", err.msg, need);
    }
    snprintf(dur, sizeof dur, "duration: %.10g ms,", T);
    snprintf(yaml, sizeof yaml, net, dur, 6);
    ck_assert_msg(apical_spec_load_string("dur.yaml", yaml, &spec, &err) == APICAL_OK, "%s",
                  err.msg);
    apical_spec_free(spec);

    snprintf(yaml, sizeof yaml, net, "", 0);
    ck_assert_int_ne(apical_spec_load_string("dur.yaml", yaml, &spec, &err), APICAL_OK);
    ck_assert_int_eq(err.pos.line, 10); /* the protocol's mapping */
    ck_assert_msg(strstr(err.msg, "presents nothing"), "'%s'", err.msg);

    /* More than the longest run: refused at once, whether the duration is
     * omitted or given (the replay of the phase draws stops at the limit
     * instead of counting 1e8 examples to the end). */
    for (int k = 0; k < 2; k++) {
        snprintf(yaml, sizeof yaml, net, k ? "duration: 1e9 ms," : "", 100000000);
        ck_assert_int_ne(apical_spec_load_string("dur.yaml", yaml, &spec, &err), APICAL_OK);
        ck_assert_int_eq(err.code, APICAL_E_RANGE);
        ck_assert_msg(strstr(err.msg, k ? "needs more than 1000000000 ms" : "more than 1e+09 ms"),
                      "'%s'", err.msg);
    }
    snprintf(yaml, sizeof yaml, net, "", 100000001);
    ck_assert_int_ne(apical_spec_load_string("dur.yaml", yaml, &spec, &err), APICAL_OK);
    ck_assert_int_eq(err.pos.line, 11); /* examples: past APICAL_MAX_EXAMPLES */
}
END_TEST

/* Labels name output neurons: one at or past the output's size is refused
 * at the labels' line (a label of 10 used to crash the IDX reader, which
 * read the labels after freeing them). */
START_TEST(test_label_range)
{
    for (int bad = 2; bad <= 10; bad += 8) {
        char dir[] = "/tmp/apical_lab_XXXXXX";
        char img[64], lab[64], yaml[2048];
        const uint8_t px[2][4] = {{255, 0, 128, 0}, {0, 255, 0, 64}};
        write_two_images(dir, img, lab, px, 1, bad);
        snprintf(yaml, sizeof yaml, stimulus_net, 4, img, lab, "max_rate: 500 Hz");
        apical_net_spec *spec = NULL;
        apical_error err = {0};
        ck_assert_int_eq(apical_spec_load_string("lab.yaml", yaml, &spec, &err), APICAL_E_RANGE);
        ck_assert_int_eq(err.pos.line, 11);
        ck_assert_msg(strstr(err.msg, "label") && strstr(err.msg, "of item 1") &&
                          strstr(err.msg, "'out' (2 neurons"),
                      "'%s'", err.msg);
        char cmd[96];
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        ck_assert_int_eq(system(cmd), 0);
    }
}
END_TEST

/* One projection learned twice would get every update twice. */
START_TEST(test_duplicate_learning)
{
    const char *yaml =
        "simulation: {duration: 100 ms}\n"
        "populations:\n"
        "  in: {size: 2, model: parrot}\n"
        "  hid: {size: 3, model: dendritic_hidden}\n"
        "projections:\n"
        "  - {name: W0, source: in, target: hid, connectivity: all_to_all, receptor: basal, weight: 0.5, delay: 1 ms}\n"
        "protocol:\n"
        "  hidden: hid\n"
        "  forward: {duration: 50 ms}\n"
        "  target: {duration: 50 ms}\n"
        "  learning:\n"
        "    - {projection: W0, eta: 0.2}\n"
        "    - {projection: W0, eta: 0.1}\n";
    apical_net_spec *spec = NULL;
    apical_error err = {0};
    ck_assert_int_eq(apical_spec_load_string("dup.yaml", yaml, &spec, &err), APICAL_E_INVALID);
    ck_assert_int_eq(err.pos.line, 13);
    ck_assert_int_eq(err.pos.col, 20);
    ck_assert_msg(strstr(err.msg, "'W0' is already learned (line 12)"), "'%s'", err.msg);
}
END_TEST

/* What a protocol run produces, for comparing partitionings. */
typedef struct proto_out {
    spikes sp;
    double plateau[64];
    int n_plateau;
    uint64_t pred[8];
    int n_pred;
} proto_out;

static void det_spike(void *user, size_t pop, uint64_t node, double t)
{
    spikes_record(&((proto_out *)user)->sp, pop, node, t);
}

static void det_plateau(void *user, uint64_t ex, double t, const double *af, const double *at,
                        size_t n)
{
    (void)ex, (void)t;
    proto_out *o = user;
    for (size_t i = 0; i < n && o->n_plateau + 2 <= 64; i++) {
        o->plateau[o->n_plateau++] = af[i];
        o->plateau[o->n_plateau++] = at[i];
    }
}

static void det_class(void *user, uint64_t test, double t, uint64_t label, uint64_t pred)
{
    (void)test, (void)t, (void)label;
    proto_out *o = user;
    if (o->n_pred < 8)
        o->pred[o->n_pred++] = pred;
}

typedef struct wsum {
    double w[4096];
    size_t n;
} wsum;

static int grab_all(void *user, uint64_t src, uint64_t tgt, double w, double d)
{
    (void)d;
    wsum *s = user;
    /* partitions visit in their own order: store by (src, tgt) */
    size_t k = (size_t)(src * 16 + tgt);
    if (k < 4096)
        s->w[k] = w;
    s->n++;
    return 0;
}

/* A network that learns through the protocol (stimulus from IDX files,
 * hidden and output learning, symmetric feedback, test presentations);
 * format: partitions, extra output keys, images, labels. */
static const char *const learning_net =
    "simulation: {seed: 12, partitions: %u, solver: {stepper: exact}}\n"
    "populations:\n"
    "  px: {size: 4, model: parrot}\n"
    "  hid: {size: 5, model: dendritic_hidden, initial: {bias: 0.5}}\n"
    "  out: {size: 3, model: dendritic_output%s}\n"
    "projections:\n"
    "  - {name: W0, source: px, target: hid, connectivity: all_to_all,\n"
    "     receptor: basal, weight: {normal: {mean: 0.3, sd: 1}}, delay: 1 ms}\n"
    "  - {name: W1, source: hid, target: out, connectivity: all_to_all,\n"
    "     receptor: basal, weight: {normal: {mean: 0.1, sd: 0.5}}, delay: 1 ms}\n"
    "  - {name: Y, source: out, target: hid, connectivity: all_to_all,\n"
    "     receptor: apical, weight: 1, delay: 1 ms}\n"
    "inputs: [{name: img, type: poisson, target: px, rate: 0 Hz, receptor: relay,\n"
    "          weight: 1}]\n"
    "protocol:\n"
    "  hidden: hid\n"
    "  output: out\n"
    "  examples: 4\n"
    "  forward: {duration: 30 ms, wald: {mean: 2 ms, shape: 1 ms}}\n"
    "  target: {duration: 30 ms, wald: {mean: 2 ms, shape: 1 ms}}\n"
    "  settle: 10 ms\n"
    "  stimulus: {input: img, images: %s, labels: %s, max_rate: 400 Hz,\n"
    "             shuffle: true}\n"
    "  feedback: {projection: Y, symmetric_to: W1}\n"
    "  learning: [{projection: W0, eta: 0.21}, {projection: W1, eta: 0.21}]\n"
    "  test: {examples: 3, duration: 40 ms, window: 30 ms}\n";

/* The protocol end to end (stimulus from IDX files, hidden and output
 * learning, symmetric feedback, test presentations) gives the same spikes,
 * plateaus, classes, biases and weights bit for bit on 1, 2 and 3
 * partitions (on 2 and 3 also with the output whole in one partition) and
 * 1 and 2 threads. */
START_TEST(test_protocol_determinism)
{
    char dir[] = "/tmp/apical_pdet_XXXXXX";
    char img[64], lab[64], yaml[4096];
    const uint8_t px[2][4] = {{255, 200, 30, 0}, {0, 60, 255, 220}};
    write_two_images(dir, img, lab, px, 0, 1);
    proto_out ref;
    wsum wref[3];
    double bref[8];
    memset(&ref, 0, sizeof ref);
    /* whole: the output kept whole in one partition, the others split
     * unevenly around it (whole_cost) */
    for (unsigned parts = 1, whole = 0; parts <= 3; whole = !whole, parts += !whole)
        for (unsigned threads = 1; threads <= 2; threads++) {
            if (parts == 1 && whole)
                continue;
            snprintf(yaml, sizeof yaml, learning_net, parts, whole ? ", whole_cost: 0.7" : "", img,
                     lab);
            apical_net_spec *spec = NULL;
            apical_error err = {0};
            ck_assert_msg(apical_spec_load_string("pdet.yaml", yaml, &spec, &err) == APICAL_OK,
                          "%s", err.msg);
            apical_sim *sim = NULL;
            ck_assert_int_eq(apical_sim_new(spec, threads, &sim, &err), APICAL_OK);
            apical_protocol *pro = NULL; /* the spec's protocol, driving sim */
            ck_assert_msg(apical_protocol_new(spec, sim, &pro, &err) == APICAL_OK, "%s", err.msg);
            proto_out o;
            memset(&o, 0, sizeof o);
            apical_sim_set_observer(sim, &(apical_sim_observer){.on_spike = det_spike, .user = &o});
            apical_segregated_on_plateau(pro, det_plateau, &o);
            apical_segregated_on_classify(pro, det_class, &o);
            ck_assert_int_eq(apical_sim_run(sim, spec->sim.duration, NULL, &err), APICAL_OK);
            ck_assert_int_eq(o.n_pred, 3);
            ck_assert_int_eq(o.n_plateau, 4 * 2 * 5);
            wsum w[3];
            memset(w, 0, sizeof w);
            double b[8];
            for (size_t j = 0; j < 3; j++)
                ck_assert_int_eq(apical_sim_synapses(sim, j, grab_all, &w[j]), APICAL_OK);
            for (int i = 0; i < 5; i++)
                b[i] = apical_sim_state(sim, 1, (uint64_t)i)[5]; /* hidden bias */
            for (int i = 0; i < 3; i++)
                b[5 + i] = apical_sim_state(sim, 2, (uint64_t)i)[3]; /* output bias */
            if (parts == 1 && threads == 1) {
                ck_assert_uint_gt(o.sp.n, 500);
                ref = o;
                memcpy(wref, w, sizeof w);
                memcpy(bref, b, sizeof b);
                ck_assert(bref[0] != 0.5 && memcmp(&wref[0], &wref[0], 1) == 0);
            } else {
                ck_assert_uint_eq(o.sp.n, ref.sp.n);
                ck_assert_msg(spikes_checksum(&o.sp) == spikes_checksum(&ref.sp),
                              "%u partitions (output whole: %u), %u threads: spikes differ",
                              parts, whole, threads);
                ck_assert_int_eq(memcmp(o.plateau, ref.plateau, sizeof o.plateau), 0);
                ck_assert_int_eq(memcmp(o.pred, ref.pred, sizeof o.pred), 0);
                ck_assert_int_eq(memcmp(w, wref, sizeof w), 0);
                ck_assert_int_eq(memcmp(b, bref, sizeof b), 0);
                spikes_free(&o.sp);
            }
            apical_protocol_free(pro);
            apical_sim_free(sim);
            apical_spec_free(spec);
        }
    spikes_free(&ref.sp);
    char cmd[96];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* n 4x4 images, image i lighting row c = i mod 4 (label c), each group of
 * four a little dimmer than the one before, on a ground that is black in
 * odd groups (silent generators) and otherwise brighter than before, in a
 * fresh directory (template `dir`); their paths into img and lab (64 bytes
 * each). */
static void write_images(char *dir, char *img, char *lab, int n)
{
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(img, 64, "%s/img", dir);
    snprintf(lab, 64, "%s/lab", dir);
    FILE *f = fopen(img, "wb");
    put32(f, 0x803), put32(f, (uint32_t)n), put32(f, 4), put32(f, 4);
    for (int i = 0; i < n; i++)
        for (int k = 0; k < 16; k++)
            fputc(k / 4 == i % 4 ? 255 - 5 * (i / 4) : (i / 4) % 2 ? 0 : 20 + 3 * (i / 4), f);
    fclose(f);
    f = fopen(lab, "wb");
    put32(f, 0x801), put32(f, (uint32_t)n);
    for (int i = 0; i < n; i++)
        fputc(i % 4, f);
    fclose(f);
}

static void write_rows(char *dir, char *img, char *lab)
{
    write_images(dir, img, lab, 4);
}

static void rm_dir(const char *dir)
{
    char cmd[96];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
}

/* The protocol's arrivals (sd_step's `q_head += ready`) are applied by the
 * `during` slices at the start of the window after the step that counted
 * them; a window that a run stopped inside and another run resumes calls
 * no slice on resumption, so this holds only because the engine calls the
 * slices in the window's first part. Pinned here on the determinism
 * network, 1 partition x 1 thread and 2 partitions x 2 threads, against
 * one run: cut into runs that end on window edges (twice at t = 0, some of
 * zero length), the same spikes, plateaus, classes, weights and biases bit
 * for bit; cut also inside windows, the same spikes bit for bit (so the
 * same arrivals queued) and plateaus, weights and biases within 1e-6
 * (relative where above 1): a stop inside a window is an extra
 * integration stop point of the neurons, which changes the rounding of
 * the state integrals the plateaus read (measured 3.0e-8 after the four
 * examples' updates; 1e-6 leaves 30x). An arrival dropped at a resumed
 * window changes its source's trace by a whole spike and so the W0/W1
 * updates: with the engine made to skip the slices of a window it runs in
 * parts, 0.117 (the test fails). */
static void run_chopped(const char *yaml, unsigned threads, int chop, proto_out *o, wsum w[3],
                        double b[8])
{
    apical_net_spec *spec = NULL;
    apical_error err = {0};
    ck_assert_msg(apical_spec_load_string("chop.yaml", yaml, &spec, &err) == APICAL_OK, "%s",
                  err.msg);
    apical_sim *sim = NULL;
    ck_assert_int_eq(apical_sim_new(spec, threads, &sim, &err), APICAL_OK);
    apical_protocol *pro = NULL; /* the spec's protocol, driving sim */
    ck_assert_msg(apical_protocol_new(spec, sim, &pro, &err) == APICAL_OK, "%s", err.msg);
    memset(o, 0, sizeof *o);
    apical_sim_set_observer(sim, &(apical_sim_observer){.on_spike = det_spike, .user = o});
    apical_segregated_on_plateau(pro, det_plateau, o);
    apical_segregated_on_classify(pro, det_class, o);
    const double D = spec->sim.duration;
    if (chop) {
        /* window 1 ms (the delays): chop 1, runs ending on window edges
         * (twice at t = 0, and of zero length); chop 2 also inside
         * windows */
        static const double grid[] = {0.0, 0.0, 1.0, 3.0, 0.0, 2.0, 1.0};
        static const double inside[] = {0.0, 0.0, 0.37, 0.63, 1.0, 0.0, 2.45, 0.05, 0.5, 1.25};
        const double *step = chop == 1 ? grid : inside;
        const size_t n_step = chop == 1 ? 7 : 10;
        double t = 0.0;
        for (size_t k = 0; t < D; k++) {
            t = fmin(t + step[k % n_step], D);
            ck_assert_msg(apical_sim_run(sim, t, NULL, &err) == APICAL_OK, "%s", err.msg);
        }
    } else {
        ck_assert_msg(apical_sim_run(sim, D, NULL, &err) == APICAL_OK, "%s", err.msg);
    }
    memset(w, 0, 3 * sizeof *w);
    for (size_t j = 0; j < 3; j++)
        ck_assert_int_eq(apical_sim_synapses(sim, j, grab_all, &w[j]), APICAL_OK);
    for (int i = 0; i < 5; i++)
        b[i] = apical_sim_state(sim, 1, (uint64_t)i)[5]; /* hidden bias */
    for (int i = 0; i < 3; i++)
        b[5 + i] = apical_sim_state(sim, 2, (uint64_t)i)[3]; /* output bias */
    apical_protocol_free(pro);
    apical_sim_free(sim);
    apical_spec_free(spec);
}

START_TEST(test_protocol_stops_inside_windows)
{
    char dir[] = "/tmp/apical_pchop_XXXXXX";
    char img[64], lab[64], yaml[4096];
    const uint8_t px[2][4] = {{255, 200, 30, 0}, {0, 60, 255, 220}};
    write_two_images(dir, img, lab, px, 0, 1);
    for (unsigned parts = 1; parts <= 2; parts++) {
        snprintf(yaml, sizeof yaml, learning_net, parts, "", img, lab);
        proto_out ref, o;
        static wsum wref[3], w[3];
        double bref[8], b[8];
        run_chopped(yaml, parts, 0, &ref, wref, bref);
        ck_assert_uint_gt(ref.sp.n, 500);
        ck_assert_int_eq(ref.n_pred, 3);
        for (int chop = 1; chop <= 2; chop++) {
            run_chopped(yaml, parts, chop, &o, w, b);
            ck_assert_uint_eq(o.sp.n, ref.sp.n);
            ck_assert_msg(spikes_checksum(&o.sp) == spikes_checksum(&ref.sp),
                          "%u partitions, cut %d: spikes differ", parts, chop);
            ck_assert_int_eq(o.n_plateau, ref.n_plateau);
            ck_assert_int_eq(memcmp(o.pred, ref.pred, sizeof o.pred), 0);
            double rel = 0.0; /* largest difference, relative where above 1 */
            for (int i = 0; i < o.n_plateau; i++)
                rel = fmax(rel, fabs(o.plateau[i] - ref.plateau[i]) / fmax(fabs(ref.plateau[i]), 1.0));
            for (size_t j = 0; j < 3; j++)
                for (size_t i = 0; i < 4096; i++)
                    if (wref[j].w[i] != 0.0)
                        rel = fmax(rel, fabs(w[j].w[i] - wref[j].w[i]) / fmax(fabs(wref[j].w[i]), 1.0));
            for (int i = 0; i < 8; i++)
                rel = fmax(rel, fabs(b[i] - bref[i]) / fmax(fabs(bref[i]), 1.0));
            ck_assert_msg(chop == 1 ? rel == 0.0 : rel <= 1e-6,
                          "%u partitions, cut %d: plateaus/weights/biases off by %.3g relative",
                          parts, chop, rel);
            spikes_free(&o.sp);
        }
        spikes_free(&ref.sp);
    }
    rm_dir(dir);
}
END_TEST

/* 16 pixels -> h1 (12) -> h2 (8) -> 4 outputs, feedback from the output to
 * both hidden layers (the reference's use_broadcast); format: partitions,
 * seed, images, labels, epochs, then extra protocol lines. */
static const char *const deep_net =
    "simulation: {seed: %u, partitions: %u, solver: {stepper: exact}}\n"
    "populations:\n"
    "  px: {size: 16, model: parrot}\n"
    "  h1: {size: 12, model: dendritic_hidden, initial: {bias: 0.8}}\n"
    "  h2: {size: 8, model: dendritic_hidden, initial: {bias: 0.8}}\n"
    "  out: {size: 4, model: dendritic_output}\n"
    "projections:\n"
    "  - {name: W0, source: px, target: h1, connectivity: all_to_all, receptor: basal,\n"
    "     weight: {normal: {mean: 0.1, sd: 0.8}}, delay: 1 ms}\n"
    "  - {name: W1, source: h1, target: h2, connectivity: all_to_all, receptor: basal,\n"
    "     weight: {normal: {mean: 0.1, sd: 0.5}}, delay: 1 ms}\n"
    "  - {name: W2, source: h2, target: out, connectivity: all_to_all, receptor: basal,\n"
    "     weight: {normal: {mean: 0.1, sd: 0.6}}, delay: 1 ms}\n"
    "  - {name: Y1, source: out, target: h1, connectivity: all_to_all, receptor: apical,\n"
    "     weight: {normal: {mean: 0, sd: 2}}, delay: 1 ms}\n"
    "  - {name: Y2, source: out, target: h2, connectivity: all_to_all, receptor: apical,\n"
    "     weight: {normal: {mean: 0, sd: 2}}, delay: 1 ms}\n"
    "inputs: [{name: img, type: poisson, target: px, rate: 0 Hz, receptor: relay, weight: 1}]\n"
    "protocol:\n"
    "  hidden: [h1, h2]\n"
    "  output: out\n"
    "  epochs: %u\n"
    "  forward: {duration: 40 ms, wald: {mean: 2 ms, shape: 1 ms}}\n"
    "  target: {duration: 40 ms, wald: {mean: 2 ms, shape: 1 ms}}\n"
    "  settle: 20 ms\n"
    "  stimulus: {input: img, images: %s, labels: %s, shuffle: true}\n"
    "  learning: [{projection: W0, eta: 0.21}, {projection: W1, eta: 0.21},\n"
    "             {projection: W2, eta: 0.21}]\n"
    "%s";

typedef struct deep_out {
    double err[64];
    uint64_t seen[64];
    int n_curve;
    double angle[256];
    int n_angle, angle_layer[256];
    uint64_t first_example;
    int n_plateau;
} deep_out;

static void deep_curve(void *user, uint64_t ex, double e, uint64_t tests)
{
    deep_out *o = user;
    ck_assert_uint_gt(tests, 0);
    if (o->n_curve < 64) {
        o->seen[o->n_curve] = ex;
        o->err[o->n_curve++] = e;
    }
}

static void deep_angle(void *user, uint64_t ex, size_t layer, double deg)
{
    deep_out *o = user;
    (void)ex;
    if (o->n_angle < 256) {
        o->angle_layer[o->n_angle] = (int)layer;
        o->angle[o->n_angle++] = deg;
    }
}

static void deep_plateau(void *user, uint64_t ex, double t, const double *af, const double *at,
                         size_t n)
{
    (void)t, (void)af, (void)at, (void)n;
    deep_out *o = user;
    if (!o->n_plateau++)
        o->first_example = ex;
}

/* Weights of projections 0..4 and the biases of h1, h2, out. */
typedef struct deep_state {
    double w[5][16 * 12];
    double b[24];
} deep_state;

static int grab_w(void *user, uint64_t src, uint64_t tgt, double w, double d)
{
    (void)d;
    double *m = user;
    m[tgt * 16 + src] = w;
    return 0;
}

/* Run the deep network; its final weights and biases into *st, its spikes
 * into *sp (if not NULL). */
static void run_deep_spikes(const char *yaml, unsigned threads, deep_out *o, deep_state *st,
                            spikes *sp)
{
    apical_net_spec *spec = NULL;
    apical_error err = {0};
    ck_assert_msg(apical_spec_load_string("deep.yaml", yaml, &spec, &err) == APICAL_OK, "%s",
                  err.msg);
    apical_sim *sim = NULL;
    ck_assert_int_eq(apical_sim_new(spec, threads, &sim, &err), APICAL_OK);
    apical_protocol *pro = NULL;
    ck_assert_msg(apical_protocol_new(spec, sim, &pro, &err) == APICAL_OK, "%s", err.msg);
    memset(o, 0, sizeof *o);
    if (sp)
        apical_sim_set_observer(sim, &(apical_sim_observer){.on_spike = spikes_record, .user = sp});
    apical_segregated_on_curve(pro, deep_curve, o);
    apical_segregated_on_angle(pro, deep_angle, o);
    apical_segregated_on_plateau(pro, deep_plateau, o);
    ck_assert_msg(apical_sim_run(sim, spec->sim.duration, NULL, &err) == APICAL_OK, "%s", err.msg);
    memset(st, 0, sizeof *st);
    for (size_t j = 0; j < 5; j++)
        ck_assert_int_eq(apical_sim_synapses(sim, j, grab_w, st->w[j]), APICAL_OK);
    for (int i = 0; i < 12; i++)
        st->b[i] = apical_sim_state(sim, 1, (uint64_t)i)[5];
    for (int i = 0; i < 8; i++)
        st->b[12 + i] = apical_sim_state(sim, 2, (uint64_t)i)[5];
    for (int i = 0; i < 4; i++)
        st->b[20 + i] = apical_sim_state(sim, 3, (uint64_t)i)[3];
    apical_protocol_free(pro);
    apical_sim_free(sim);
    apical_spec_free(spec);
}

static void run_deep(const char *yaml, unsigned threads, deep_out *o, deep_state *st)
{
    run_deep_spikes(yaml, threads, o, st, NULL);
}

/* Two hidden layers, each learning with the plateau rule from the output's
 * broadcast feedback, on four synthetic images: a test pass every epoch
 * (the learning curve), angles in [0, 180] for both layers, and weights,
 * biases, learning curve and angles the same bits on 1, 2 and 3
 * partitions and 1 and 2 threads. */
START_TEST(test_deep_learns)
{
    char dir[] = "/tmp/apical_deep_XXXXXX";
    char img[64], lab[64], yaml[8192];
    write_rows(dir, img, lab);
    deep_out ref, o;
    static deep_state sref, st;
    for (unsigned parts = 1; parts <= 3; parts++)
        for (unsigned threads = 1; threads <= 2; threads++) {
            if (parts > 1 && threads == 1 && parts == 3)
                continue; /* 3 partitions on 1 thread adds nothing over 2 */
            snprintf(yaml, sizeof yaml, deep_net, 3u, parts, 12u, img, lab,
                     "  test: {examples: 4, every: epoch, duration: 60 ms, window: 40 ms}\n"
                     "  angle: {every: 4}\n");
            run_deep(yaml, threads, parts == 1 && threads == 1 ? &ref : &o,
                     parts == 1 && threads == 1 ? &sref : &st);
            if (parts == 1 && threads == 1) {
                ck_assert_int_eq(ref.n_curve, 12);
                ck_assert_uint_eq(ref.seen[0], 4);
                ck_assert_uint_eq(ref.seen[11], 48);
                double early = (ref.err[0] + ref.err[1] + ref.err[2]) / 3,
                       late = (ref.err[9] + ref.err[10] + ref.err[11]) / 3;
                if (test_verbose())
                    for (int k = 0; k < ref.n_curve; k++)
                        printf("deep: %llu examples, test error %.2f\n",
                               (unsigned long long)ref.seen[k], ref.err[k]);
                /* not asserted: on this toy task neither this network nor the one-hidden-
                 * layer one (before or after issue 12) learns within 12 epochs; the
                 * output-only network does (docs/VALIDATION.md) */
                (void)early, (void)late;
                ck_assert_int_eq(ref.n_angle % 2, 0);
                ck_assert_int_gt(ref.n_angle, 10);
                for (int k = 0; k < ref.n_angle; k++)
                    ck_assert(ref.angle[k] >= 0.0 && ref.angle[k] <= 180.0);
            } else {
                ck_assert_int_eq(memcmp(&st, &sref, sizeof st), 0);
                ck_assert_int_eq(memcmp(o.err, ref.err, sizeof o.err), 0);
                ck_assert_int_eq(memcmp(o.angle, ref.angle, sizeof o.angle), 0);
            }
        }
    rm_dir(dir);
}
END_TEST

/* Backprop angle, one hidden layer with symmetric feedback (Y = W1^T): the
 * plateau rule's update points along backprop's, well below 90 degrees. */
START_TEST(test_angle_symmetric)
{
    char dir[] = "/tmp/apical_angle_XXXXXX";
    char img[64], lab[64], yaml[4096];
    write_rows(dir, img, lab);
    snprintf(yaml, sizeof yaml,
             "simulation: {seed: 4, solver: {stepper: exact}}\n"
             "populations:\n"
             "  px: {size: 16, model: parrot}\n"
             "  h: {size: 20, model: dendritic_hidden, initial: {bias: 0.8}}\n"
             "  out: {size: 4, model: dendritic_output}\n"
             "projections:\n"
             "  - {name: W0, source: px, target: h, connectivity: all_to_all, receptor: basal,\n"
             "     weight: {normal: {mean: 0.1, sd: 0.8}}, delay: 1 ms}\n"
             "  - {name: W1, source: h, target: out, connectivity: all_to_all, receptor: basal,\n"
             "     weight: {normal: {mean: 0.1, sd: 0.6}}, delay: 1 ms}\n"
             "  - {name: Y, source: out, target: h, connectivity: all_to_all, receptor: apical,\n"
             "     weight: 0, delay: 1 ms}\n"
             "inputs: [{name: img, type: poisson, target: px, rate: 0 Hz, receptor: relay,\n"
             "          weight: 1}]\n"
             "protocol:\n"
             "  hidden: h\n"
             "  output: out\n"
             "  examples: 24\n"
             "  forward: {duration: 50 ms}\n"
             "  target: {duration: 50 ms}\n"
             "  settle: 30 ms\n"
             "  stimulus: {input: img, images: %s, labels: %s}\n"
             "  feedback: {projection: Y, symmetric_to: W1}\n"
             "  learning: [{projection: W0, eta: 0.21}, {projection: W1, eta: 0.21}]\n"
             "  angle: {every: 1}\n",
             img, lab);
    apical_net_spec *spec = test_load(yaml);
    apical_error err = {0};
    apical_sim *sim = NULL;
    ck_assert_int_eq(apical_sim_new(spec, 1, &sim, &err), APICAL_OK);
    apical_protocol *pro = NULL;
    ck_assert_msg(apical_protocol_new(spec, sim, &pro, &err) == APICAL_OK, "%s", err.msg);
    deep_out o;
    memset(&o, 0, sizeof o);
    apical_segregated_on_angle(pro, deep_angle, &o);
    ck_assert_int_eq(apical_sim_run(sim, spec->sim.duration, NULL, &err), APICAL_OK);
    ck_assert_int_gt(o.n_angle, 20);
    double sum = 0.0;
    for (int k = 0; k < o.n_angle; k++) {
        ck_assert(o.angle[k] >= 0.0 && o.angle[k] <= 180.0);
        ck_assert_int_eq(o.angle_layer[k], 0);
        sum += o.angle[k];
    }
    if (test_verbose())
        printf("symmetric feedback: mean angle %.1f deg over %d examples\n", sum / o.n_angle,
               o.n_angle);
    ck_assert_msg(sum / o.n_angle < 45.0, "mean angle %.1f", sum / o.n_angle);
    apical_protocol_free(pro);
    apical_sim_free(sim);
    apical_spec_free(spec);
    rm_dir(dir);
}
END_TEST

/* Checkpoints and resume: a run of 2 epochs that writes a checkpoint, and a
 * run of 4 epochs resumed from it, which continues with example 8 (the
 * stimulus order and phase lengths of the uninterrupted run, keyed by seed,
 * epoch and example); a resume that trains nothing more ends with exactly
 * the checkpoint's weights and biases, and writes them back bit for bit. */
START_TEST(test_resume)
{
    char dir[] = "/tmp/apical_resume_XXXXXX";
    char img[64], lab[64], yaml[8192], extra[512];
    write_rows(dir, img, lab);
    deep_out o;
    static deep_state s1, s2, s3;
    snprintf(extra, sizeof extra, "  checkpoint: %s/ck1.h5\n", dir);
    snprintf(yaml, sizeof yaml, deep_net, 5u, 2u, 2u, img, lab, extra);
    run_deep(yaml, 2, &o, &s1);
    ck_assert_int_eq(o.n_plateau, 8);
    ck_assert_uint_eq(o.first_example, 0);
    /* resume with nothing left to train: the checkpoint, unchanged */
    snprintf(extra, sizeof extra, "  resume: %s/ck1.h5\n  checkpoint: %s/ck2.h5\n", dir, dir);
    snprintf(yaml, sizeof yaml, deep_net, 5u, 1u, 2u, img, lab, extra);
    run_deep(yaml, 1, &o, &s2);
    ck_assert_int_eq(o.n_plateau, 0);
    ck_assert_int_eq(memcmp(&s1, &s2, sizeof s1), 0);
    /* resume two more epochs: examples 8..15, learning from the restored
     * weights */
    snprintf(extra, sizeof extra, "  resume: %s/ck1.h5\n  checkpoint: %s/ck3.h5\n", dir, dir);
    snprintf(yaml, sizeof yaml, deep_net, 5u, 2u, 4u, img, lab, extra);
    run_deep(yaml, 2, &o, &s3);
    ck_assert_int_eq(o.n_plateau, 8);
    ck_assert_uint_eq(o.first_example, 8);
    ck_assert_int_ne(memcmp(&s1, &s3, sizeof s1), 0);
    /* the schedule (phase lengths) of the resumed part is the
     * uninterrupted run's, on its time: both end at the same time */
    apical_net_spec *a = NULL, *b = NULL, *c = NULL;
    apical_error err = {0};
    snprintf(yaml, sizeof yaml, deep_net, 5u, 1u, 4u, img, lab, "");
    ck_assert_int_eq(apical_spec_load_string("a.yaml", yaml, &a, &err), APICAL_OK);
    snprintf(yaml, sizeof yaml, deep_net, 5u, 1u, 2u, img, lab, "");
    ck_assert_int_eq(apical_spec_load_string("b.yaml", yaml, &b, &err), APICAL_OK);
    snprintf(extra, sizeof extra, "  resume: %s/ck1.h5\n", dir);
    snprintf(yaml, sizeof yaml, deep_net, 5u, 1u, 4u, img, lab, extra);
    ck_assert_int_eq(apical_spec_load_string("c.yaml", yaml, &c, &err), APICAL_OK);
    ck_assert(a->sim.duration == c->sim.duration && b->sim.duration < c->sim.duration);
    apical_spec_free(a), apical_spec_free(b), apical_spec_free(c);
    /* a checkpoint of another network is refused at the resume line */
    snprintf(yaml, sizeof yaml,
             "simulation: {duration: 100 ms}\n"
             "populations: {px: {size: 16, model: parrot}, h1: {size: 3, model: dendritic_hidden},\n"
             "  out: {size: 4, model: dendritic_output}}\n"
             "projections:\n"
             "  - {name: W0, source: px, target: h1, connectivity: all_to_all, receptor: basal,\n"
             "     weight: 0.1, delay: 1 ms}\n"
             "inputs: [{name: img, type: poisson, target: px, rate: 0 Hz, receptor: relay, weight: 1}]\n"
             "protocol:\n"
             "  hidden: h1\n"
             "  output: out\n"
             "  forward: {duration: 40 ms}\n"
             "  target: {duration: 40 ms}\n"
             "  stimulus: {input: img, images: %s, labels: %s}\n"
             "  learning: [{projection: W0, eta: 0.21}]\n"
             "  resume: %s/ck1.h5\n",
             img, lab, dir);
    apical_net_spec *bad = NULL;
    ck_assert_int_ne(apical_spec_load_string("bad.yaml", yaml, &bad, &err), APICAL_OK);
    ck_assert_msg(strstr(err.msg, "other population sizes"), "%s", err.msg);
    ck_assert_int_eq(err.pos.line, 15);
    rm_dir(dir);
}
END_TEST

/* Resume is exact: 3 epochs of 24 images straight through, against 2
 * epochs that stop (checkpoint) and a resumed run of the third on 2
 * partitions and 2 threads. The resumed run restarts where the straight
 * one restarted its third epoch, so the weights and biases at the end,
 * the third epoch's spikes, angles and the final test pass are the same
 * bits. */
START_TEST(test_resume_exact)
{
    char dir[] = "/tmp/apical_rexact_XXXXXX";
    char img[64], lab[64], yaml[8192], extra[512];
    write_images(dir, img, lab, 24);
    static deep_out oa, ob, oc;
    static deep_state sa, sb, sc;
    spikes pa = {0}, pb = {0}, pc = {0};
    const char *more = "  test: {examples: 6, every: epoch, duration: 60 ms, window: 40 ms}\n"
                       "  angle: {every: 5}\n";
    snprintf(extra, sizeof extra, "%s  checkpoint: %s/straight.h5\n", more, dir);
    snprintf(yaml, sizeof yaml, deep_net, 7u, 1u, 3u, img, lab, extra);
    run_deep_spikes(yaml, 1, &oa, &sa, &pa);
    snprintf(extra, sizeof extra, "%s  checkpoint: %s/part.h5\n", more, dir);
    snprintf(yaml, sizeof yaml, deep_net, 7u, 1u, 2u, img, lab, extra);
    run_deep_spikes(yaml, 1, &ob, &sb, &pb);
    snprintf(extra, sizeof extra, "%s  resume: %s/part.h5\n", more, dir);
    snprintf(yaml, sizeof yaml, deep_net, 7u, 2u, 3u, img, lab, extra);
    run_deep_spikes(yaml, 2, &oc, &sc, &pc);
    /* the first part is the straight run's first two epochs */
    ck_assert_int_eq(oa.n_plateau, 72);
    ck_assert_int_eq(ob.n_plateau, 48);
    ck_assert_int_eq(oc.n_plateau, 24);
    ck_assert_uint_eq(oc.first_example, 48);
    ck_assert_uint_le(pb.n, pa.n);
    for (size_t k = 0; k < pb.n; k++)
        ck_assert_msg(pb.t[k] == pa.t[k] && pb.node[k] == pa.node[k] && pb.pop[k] == pa.pop[k],
                      "first part, spike %zu", k);
    ck_assert_int_eq(ob.n_curve, 2);
    /* the resumed run: the straight run's third epoch, bit for bit */
    ck_assert_int_eq(oc.n_curve, 1);
    ck_assert_int_eq(oa.n_curve, 3);
    ck_assert_uint_eq(oc.seen[0], oa.seen[2]);
    ck_assert_msg(memcmp(&oc.err[0], &oa.err[2], sizeof(double)) == 0, "final test error %g vs %g",
                  oc.err[0], oa.err[2]);
    ck_assert_int_gt(oc.n_angle, 0);
    ck_assert_int_le(oc.n_angle, oa.n_angle);
    ck_assert_msg(memcmp(oc.angle, oa.angle + (oa.n_angle - oc.n_angle),
                         (size_t)oc.n_angle * sizeof(double)) == 0, "angles");
    ck_assert_int_gt(pc.n, 100);
    ck_assert_uint_ge(pa.n, pc.n);
    const size_t off = pa.n - pc.n;
    for (size_t k = 0; k < pc.n; k++)
        ck_assert_msg(pc.t[k] == pa.t[off + k] && pc.node[k] == pa.node[off + k] &&
                          pc.pop[k] == pa.pop[off + k],
                      "resumed spike %zu: t %.17g node %llu, straight t %.17g node %llu", k,
                      pc.t[k], (unsigned long long)pc.node[k], pa.t[off + k],
                      (unsigned long long)pa.node[off + k]);
    /* nothing lost or doubled at the stop: the parts add up to the whole */
    ck_assert_uint_eq(pb.n + pc.n, pa.n);
    ck_assert_msg(memcmp(&sa, &sc, sizeof sa) == 0, "final weights and biases differ");
    /* a resumed run starts at the checkpoint's time: a state recorder,
     * which samples from t = 0, is refused at its line */
    size_t len = strlen(yaml);
    snprintf(yaml + len, sizeof yaml - len,
             "recorders: [{type: state, population: h1, variables: [C], interval: 1 ms}]\n");
    apical_net_spec *bad = NULL;
    apical_error err = {0};
    ck_assert_int_ne(apical_spec_load_string("r.yaml", yaml, &bad, &err), APICAL_OK);
    ck_assert_msg(strstr(err.msg, "cannot record state"), "%s", err.msg);
    ck_assert_int_eq(err.pos.line, 32);
    spikes_free(&pa), spikes_free(&pb), spikes_free(&pc);
    rm_dir(dir);
}
END_TEST

/* Layer lists name dendritic_hidden populations, each once. */
START_TEST(test_layer_errors)
{
    static const struct {
        const char *hidden, *what;
    } cases[] = {
        {"[h1, px]", "must use model dendritic_hidden"},
        {"[h1, h1]", "already hidden layer 0"},
        {"[h1, nope]", "nope"},
        {"[]", "1 to 16"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char yaml[2048];
        snprintf(yaml, sizeof yaml,
                 "simulation: {duration: 100 ms}\n"
                 "populations: {px: {size: 4, model: parrot}, h1: {size: 3, model: dendritic_hidden}}\n"
                 "protocol:\n"
                 "  hidden: %s\n"
                 "  forward: {duration: 40 ms}\n"
                 "  target: {duration: 40 ms}\n",
                 cases[k].hidden);
        apical_net_spec *spec = NULL;
        apical_error err = {0};
        ck_assert_int_eq(apical_spec_load_string("l.yaml", yaml, &spec, &err) == APICAL_OK, 0);
        ck_assert_msg(strstr(err.msg, cases[k].what), "case %zu: '%s'", k, err.msg);
        ck_assert_int_eq(err.pos.line, 4);
    }
}
END_TEST

Suite *protocol_suite(void)
{
    Suite *s = suite_create("protocol");
    TCase *tc = tcase_create("plateau");
    tcase_add_test(tc, test_plateau_protocol);
    tcase_add_test(tc, test_stimulus);
    tcase_add_loop_test(tc, test_output_rule_protocol, 0, 2);
    tcase_add_test(tc, test_arrivals_bounded);
    tcase_add_test(tc, test_protocol_duration);
    tcase_add_test(tc, test_label_range);
    tcase_add_test(tc, test_duplicate_learning);
    tcase_add_test(tc, test_parse_open_every_protocol);
    tcase_add_test(tc, test_check_restartable);
    tcase_add_test(tc, test_protocol_determinism);
    tcase_add_test(tc, test_protocol_stops_inside_windows);
    tcase_add_test(tc, test_symmetric_feedback);
    tcase_add_test(tc, test_learned_feedback);
    tcase_add_test(tc, test_stimulus_shuffle);
    tcase_add_test(tc, test_feedback_errors);
    tcase_add_test(tc, test_truncated_learning_refused);
    tcase_add_test(tc, test_classification);
    tcase_add_test(tc, test_layer_errors);
    suite_add_tcase(s, tc);
    TCase *deep = tcase_create("deep");
    tcase_set_timeout(deep, 120);
    tcase_add_test(deep, test_deep_learns);
    tcase_add_test(deep, test_angle_symmetric);
    tcase_add_test(deep, test_resume);
    tcase_add_test(deep, test_resume_exact);
    suite_add_tcase(s, deep);
    return s;
}
