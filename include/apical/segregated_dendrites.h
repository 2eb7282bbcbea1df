/* The segregated-dendrite protocol (models/segregated_dendrites.c, type
 * `segregated_dendrites`; include/apical/protocol.h): the phase structure
 * of the segregated-dendrite model
 * (Guergiev, Lillicrap & Richards 2017; REFERENCES.md §3) as scheduled
 * events, for any number of hidden layers, over epochs with test passes,
 * checkpoints and resume.
 *
 * Each example is a forward phase (no teaching) then a target phase
 * (teaching conductances on the output layer). Each phase lasts `duration`
 * plus, optionally, a Wald(mean, shape) draw; its averaging window is the
 * phase after the first `settle` ms. At the end of the forward window the
 * protocol measures, per hidden neuron, the forward plateau
 * alpha_f = sigma(mean apical voltage) and the mean somatic voltage (every
 * hidden layer alike, each from its own apical input), and per
 * source neuron of each learned projection the mean PSP; at the end of the
 * target window the target plateau alpha_t (and the output layer's mean
 * rate), then applies the plateau rule (hidden) or the output rule (output)
 * once, as include/apical/plateau.h defines them.
 *
 * Phase boundaries are rounded up to the simulation's window grid (the
 * minimum delay) so that measurements and weight changes happen between
 * windows, when every partition is at the same time. */
#ifndef APICAL_SEGREGATED_DENDRITES_H
#define APICAL_SEGREGATED_DENDRITES_H

#include <stddef.h>
#include <stdint.h>

#include "apical/error.h"
#include "apical/idx.h"
#include "apical/protocol.h"

typedef struct apical_phase_spec {
    double duration;           /* ms */
    double wald_mean, wald_shape; /* ms; wald_mean = 0: no random extra */
} apical_phase_spec;

typedef struct apical_learn_spec {
    size_t proj;   /* a projection onto a hidden layer or the output population */
    double eta;    /* learning rate */
    apical_srcpos pos;
} apical_learn_spec;

/* Hidden layers a protocol may drive. */
#define APICAL_SD_MAX_LAYERS 16

/* The feedback onto one hidden layer's apical dendrites: projection `proj`
 * (Y, from the output layer or from the layer above). Fixed (n_of = 0):
 * the weights stay as drawn (feedback alignment). Symmetric: kept equal to
 * (W_of[n_of-1] ... W_of[0])^T, the transpose of the feedforward chain from
 * Y's target up to Y's source (one projection for feedback from the layer
 * just above; the reference's use_broadcast with symmetric weights makes a
 * lower layer's Y the product of every feedforward matrix above it), at the
 * start and after every update. Learned (Kolen & Pollack 1994; Akrout et
 * al. 2019; n_of = 1, W = of[0] in the opposite direction): every update
 * of W is applied, transposed, to Y too, and both decay by the factor
 * 1 - decay per example. */
typedef struct apical_feedback_spec {
    size_t proj;
    size_t of[APICAL_SD_MAX_LAYERS + 1];
    size_t n_of;
    int learned;
    double decay;
    apical_srcpos pos;
} apical_feedback_spec;

/* A checkpoint read back (resume): the weights of the projections it
 * holds, the biases per population, the training examples done, and the
 * window (index, length in ms) where the run restarted: a resumed run
 * restarts at that window (apical_engine_restart), so it continues bit for
 * bit like the uninterrupted run. */
typedef struct apical_sd_saved_proj {
    size_t proj;
    size_t n;
    uint64_t *src, *tgt;
    double *w;
} apical_sd_saved_proj;

typedef struct apical_sd_checkpoint {
    uint64_t examples_done;
    uint64_t window_index;
    double window;
    apical_sd_saved_proj *proj;
    size_t n_proj;
    double *bias[APICAL_SD_MAX_LAYERS + 1]; /* hidden layers in order, then output */
} apical_sd_checkpoint;

typedef struct apical_segregated_spec {
    apical_srcpos pos;
    /* hidden layers, bottom (fed by the stimulus) to top (feeding the
     * output): dendritic_hidden populations */
    size_t hidden[APICAL_SD_MAX_LAYERS];
    size_t n_hidden;
    size_t output;       /* dendritic_output population, or (size_t)-1 */
    uint64_t examples;   /* training examples (epochs x training images with `epochs`) */
    uint64_t epochs;     /* as given; 0: `examples` was given */
    apical_phase_spec forward, target;
    double settle;       /* ms */
    uint64_t *labels;    /* teaching label per example (cycled); NULL: none */
    size_t n_labels;
    double *apical_forward, *apical_target; /* first hidden layer's apical_bias per
                                               neuron and phase; NULL: left alone */
    apical_learn_spec *learn;
    size_t n_learn;
    apical_feedback_spec *fb;
    size_t n_fb;
    /* Stimulus: example k shows image (first + k) mod n of `images` through
     * Poisson input `stim_input` (one generator per pixel, rate
     * max_rate * pixel / 255); its label teaches the output unless `labels`
     * is given. stim_input = (size_t)-1: none. */
    size_t stim_input;
    apical_idx_set *images;
    double stim_max_rate; /* Hz */
    uint64_t stim_first;
    /* Shuffle: example k shows image perm_e[(first + k) mod n], e = (first +
     * k) / n, with a fresh permutation per epoch e drawn from (seed, e); as
     * the reference presents each epoch. 0: file order. */
    int stim_shuffle;
    /* Test passes (as the reference evaluates): test_examples forward-only
     * presentations of test_duration with no teaching and no learning; the
     * class is the output neuron with the highest mean somatic voltage over
     * the last test_window. Images from test_images, or from the training
     * set from test_first on; every pass shows the same ones. A pass after
     * training, and one after every test_every training examples
     * (test_every_epoch: at every epoch end) before that. */
    uint64_t test_examples;
    uint64_t test_every;
    int test_every_epoch;
    double test_duration, test_window;
    apical_idx_set *test_images;
    uint64_t test_first;
    /* Backprop angle every angle_every-th training example (0: never):
     * angle_ff[l] is the feedforward projection from hidden layer l to the
     * layer above (the output for the top one). */
    uint64_t angle_every;
    size_t angle_ff[APICAL_SD_MAX_LAYERS];
    /* Checkpoint file written at every epoch end (NULL: none), and the
     * checkpoint a run resumes from (NULL: a fresh start). */
    char *checkpoint;
    apical_sd_checkpoint *resume;
} apical_segregated_spec;

void apical_segregated_spec_free(apical_segregated_spec *p);

/* The vtable (for a spec built in code: spec->protocol_type). */
extern const apical_protocol_type apical_segregated_dendrites;

/* When the protocol's last presentation ends (ms) on a window grid of
 * `window` ms (the minimum delay) with this seed: the run's phase lengths,
 * Wald extras included, rounded up to the grid as the run rounds them.
 * Stops counting (returning something larger) once past `stop` ms. */
double apical_segregated_end(const apical_segregated_spec *p, uint64_t seed, double window,
                             double stop);

/* Observers of a running segregated_dendrites protocol (p built by
 * apical_protocol_new from a spec of this type; other protocols: no-op).
 * Called from the thread that runs the simulation. */

/* Once per example, after its target phase: the forward and target
 * plateaus (alpha_f, alpha_t) of the n neurons of the first hidden layer,
 * and the time the example ended. */
typedef void (*apical_plateau_fn)(void *user, uint64_t example, double t, const double *alpha_f,
                                  const double *alpha_t, size_t n);
void apical_segregated_on_plateau(apical_protocol *p, apical_plateau_fn fn, void *user);

/* Once per test presentation: the image's label and the predicted class
 * (the output neuron with the highest mean somatic voltage over the test
 * window). */
typedef void (*apical_classify_fn)(void *user, uint64_t test, double t, uint64_t label,
                                   uint64_t predicted);
void apical_segregated_on_classify(apical_protocol *p, apical_classify_fn fn, void *user);

/* After every test pass: training examples seen, the pass's test error
 * (fraction misclassified) over its presentations. */
typedef void (*apical_curve_fn)(void *user, uint64_t examples, double error, uint64_t tests);
void apical_segregated_on_curve(apical_protocol *p, apical_curve_fn fn, void *user);

/* For every sampled training example (angle: {every: K}) and hidden layer
 * (0 = bottom): the angle in degrees between the plateau rule's update and
 * backprop's (docs/VALIDATION.md, "Backprop angle"). */
typedef void (*apical_angle_fn)(void *user, uint64_t example, size_t layer, double degrees);
void apical_segregated_on_angle(apical_protocol *p, apical_angle_fn fn, void *user);

/* Most presynaptic spikes of one learned projection waiting to reach its
 * traces at once (bounded by one delay's spikes). */
size_t apical_segregated_arrivals_peak(const apical_protocol *p);

#endif
