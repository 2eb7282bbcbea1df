/* The node-perturbation protocol (models/node_perturbation.c, type
 * `node_perturbation`; include/apical/protocol.h): learning from a scalar
 * reward alone (Williams 1992; Fiete & Seung 2006; the seed lecture
 * shared/seeds/001, "Weight perturbation ... variance of the estimator").
 *
 * Each training example is shown twice, `duration` each: a clean pass, then
 * a perturbed pass in which every unit i of the perturbed populations gets
 * its basal bias shifted by sigma xi_i (xi_i ~ N(0, 1), a fresh draw per
 * example). After `settle` ms of each pass the protocol averages the
 * output's somatic voltage over the rest of it; the reward is the negative
 * squared error of the output's rates, R = -sum_k (sigma(Cbar_k) - y_k)^2
 * (y the one-hot label, sigma(C) the rate over lambda_max). The clean
 * pass's reward R0 is the baseline: with dR = R1 - R0 the estimate of
 * dR/d(bias_i) is g_i = dR xi_i / sigma (apical_np_estimate), and every
 * learned projection W onto a perturbed population moves along it,
 * dW_ij = eta g_i r_j, db_i = eta g_i, with r_j source j's spike rate
 * (spikes/ms) in the perturbed pass's averaging window (the mean PSP of a
 * unit-area kernel: d(basal input)/dW_ij). Everything happens between
 * windows, on the window grid. */
#ifndef APICAL_NODE_PERTURBATION_H
#define APICAL_NODE_PERTURBATION_H

#include <stddef.h>
#include <stdint.h>

#include "apical/error.h"
#include "apical/idx.h"
#include "apical/protocol.h"

/* Perturbed populations a protocol may drive. */
#define APICAL_NP_MAX_POPS 16

typedef struct apical_np_learn {
    size_t proj;  /* onto a perturbed population */
    double eta;
} apical_np_learn;

typedef struct apical_np_spec {
    apical_srcpos pos;
    size_t perturb[APICAL_NP_MAX_POPS]; /* dendritic_hidden or dendritic_output */
    size_t n_perturb;
    size_t output;      /* dendritic_output: its rates give the reward */
    uint64_t examples;  /* training examples, images in file order (cycled) */
    double duration;    /* ms, each of the two passes */
    double settle;      /* ms before each pass's averaging window */
    double noise;       /* sigma: SD of the bias perturbation (voltage units) */
    size_t stim_input;  /* Poisson input, one generator per pixel */
    apical_idx_set *images;
    double stim_max_rate; /* Hz at pixel value 255 */
    apical_np_learn *learn;
    size_t n_learn;
    /* Test passes (none: test_examples = 0): test_examples forward-only
     * presentations of test_duration, classified by the output's highest
     * mean somatic voltage over the last test_window, after every
     * test_every training examples (0: only after training) and after
     * training; /learning_curve as segregated_dendrites writes it. */
    uint64_t test_examples, test_every;
    double test_duration, test_window;
    apical_idx_set *test_images;
} apical_np_spec;

/* The vtable. */
extern const apical_protocol_type apical_node_perturbation;

/* The perturbation of training example `example` with this seed: n
 * standard normal draws xi (the protocol's own Philox stream, keyed by
 * seed, example and unit offset `first`, so independent of partitions and
 * threads). Returns APICAL_E_NOMEM when GSL's adapter cannot be made. */
apical_status apical_np_draw(uint64_t seed, uint64_t example, uint64_t first, double *xi,
                             size_t n);

/* The node-perturbation estimate of the reward's gradient with respect to
 * each unit's input from one perturbation sigma xi: g_i = (reward -
 * baseline) xi_i / sigma. Unbiased to first order in sigma; its variance
 * per unit is |grad|^2 + grad_i^2 to that order (for Gaussian xi), which
 * grows with the number of perturbed units N as N mean(grad^2). */
void apical_np_estimate(const double *xi, size_t n, double sigma, double reward,
                        double baseline, double *g);

/* Observers of a running node_perturbation protocol (other protocols:
 * no-op), called from the thread that runs the simulation. After every
 * training example: the clean and perturbed rewards. After every test
 * pass: training examples seen and the test error. */
typedef void (*apical_np_reward_fn)(void *user, uint64_t example, double r_clean,
                                    double r_perturbed);
void apical_np_on_reward(apical_protocol *p, apical_np_reward_fn fn, void *user);
typedef void (*apical_np_curve_fn)(void *user, uint64_t examples, double error);
void apical_np_on_curve(apical_protocol *p, apical_np_curve_fn fn, void *user);
/* After every training example's perturbed pass, per perturbed population
 * (in `perturb` order; pop is its index in the spec): the perturbation xi
 * and the estimate g (apical_np_estimate) of its n units, and the output's
 * window-mean somatic voltage cbar_clean of the clean pass (n_out values):
 * what a test needs to compare g with the true gradient. */
typedef void (*apical_np_estimate_fn)(void *user, uint64_t example, size_t pop, const double *xi,
                                      const double *g, size_t n, const double *cbar_clean,
                                      size_t n_out);
void apical_np_on_estimate(apical_protocol *p, apical_np_estimate_fn fn, void *user);

#endif
