/* Labelled images (IDX files, the MNIST format) as a learning protocol's
 * stimulus: the pieces every image protocol (segregated_dendrites,
 * node_perturbation, krotov_hopfield) needs and that used to be written
 * once per protocol. Reading the network file's keys for them (the image
 * and label files, the Poisson input that shows them, a test pass's
 * timing), showing an image through that input, an epoch's shuffle, and
 * the learning-curve table. Which population the pixels must match is each
 * protocol's own business (its messages name its own roles), so the pixel
 * counts are checked in the protocols. */
#ifndef APICAL_MNIST_STIMULUS_H
#define APICAL_MNIST_STIMULUS_H

#include <stddef.h>
#include <stdint.h>

#include "apical/control.h"
#include "apical/error.h"
#include "apical/h5out.h"
#include "apical/idx.h"
#include "apical/loader.h"

/* --- the network file --- */

/* What the labels must name: `n` classes, one unit each of a population,
 * described for the message on the first label that is not one as `role`
 * ("the output population") and its name (NULL: not named). */
typedef struct apical_mnist_classes {
    uint64_t n;
    const char *role, *name;
} apical_mnist_classes;

/* Load the IDX pair named by the string nodes vi (images) and vl (labels),
 * paths relative to the network file, at most `limit` examples (0: all),
 * into a new *out (free with apical_mnist_free). A file that cannot be read
 * is an error at the node that names it, with the IDX reader's reason (and
 * the hint `make mnist` when it is missing); with `classes` (not NULL), so
 * is a label that is not below classes->n (at vl, with the file's path). */
apical_status apical_mnist_load(apical_ld *c, const apical_ynode *vi, const apical_ynode *vl,
                                uint64_t limit, const apical_mnist_classes *classes,
                                apical_idx_set **out);

/* Map n's required `images` and `labels` (n is the `where` section) loaded
 * as apical_mnist_load does; *vi and *vl (either pointer may be NULL)
 * receive their nodes, for the caller's checks against its populations. */
apical_status apical_mnist_require(apical_ld *c, const apical_ynode *n, const char *where,
                                   uint64_t limit, const apical_mnist_classes *classes,
                                   apical_idx_set **out, const apical_ynode **vi,
                                   const apical_ynode **vl);

/* The first example whose label is not below n_classes (one output unit
 * per class), or set->n when every label names a class. */
size_t apical_mnist_bad_label(const apical_idx_set *set, uint64_t n_classes);

/* Free a set from apical_mnist_load; NULL-safe. */
void apical_mnist_free(apical_idx_set *set);

/* Map n's `input` (required: a Poisson input to a whole population, one
 * generator per pixel) into *input and its `max_rate` (the rate of a pixel
 * of 255; default 200 Hz) into *max_rate. */
apical_status apical_mnist_parse_input(apical_ld *c, const apical_ynode *n, size_t *input,
                                       double *max_rate);

/* A test pass's map n: `examples` (required), `duration` (default 250 ms)
 * and the classifying `window` at its end (default 220 ms, not longer than
 * duration). */
apical_status apical_mnist_parse_test_pass(apical_ld *c, const apical_ynode *n,
                                           uint64_t *examples, double *duration,
                                           double *window);

/* --- the run --- */

/* Show image img of set from time T: every pixel's generator of `input`
 * fires at max_rate * pixel / 255. */
apical_status apical_mnist_show(apical_sim *S, size_t input, double max_rate,
                                const apical_idx_set *set, size_t img, double T,
                                apical_error *err);

/* perm[0..n) a permutation of 0..n-1 (Fisher-Yates) drawn from the stream
 * keyed by (seed, stream, substream) alone, so an epoch's order depends on
 * nothing else in the run. */
void apical_mnist_shuffle(uint64_t seed, const char *stream, uint32_t substream, uint32_t *perm,
                          size_t n);

/* /learning_curve in h5: one row per test pass (training examples seen,
 * epochs, test error, test presentations, time the pass ended); *table is
 * its handle for apical_mnist_curve_append. */
apical_status apical_mnist_curve_table(apical_h5 *h5, int *table, apical_error *err);
apical_status apical_mnist_curve_append(apical_h5 *h5, int table, double examples, double epoch,
                                        double test_error, double tests, double T,
                                        apical_error *err);

#endif
