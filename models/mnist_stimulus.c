/* Labelled images as a learning protocol's stimulus
 * (include/apical/mnist_stimulus.h). */
#include <stdlib.h>
#include <string.h>

#include "apical/limits.h"
#include "apical/mnist_stimulus.h"
#include "apical/rng.h"

apical_status apical_mnist_load(apical_ld *c, const apical_ynode *vi, const apical_ynode *vl,
                                uint64_t limit, const apical_mnist_classes *classes,
                                apical_idx_set **out)
{
    const char *ipath = "", *lpath = "";
    apical_status st;
    if ((st = apical_ld_string(c, vi, "images", &ipath)) != APICAL_OK ||
        (st = apical_ld_string(c, vl, "labels", &lpath)) != APICAL_OK)
        return st;
    char *ip = apical_ld_path(c, ipath), *lp = apical_ld_path(c, lpath);
    if (!ip || !lp || !(*out = calloc(1, sizeof **out))) {
        free(ip), free(lp);
        return apical_ld_oom(c);
    }
    apical_error e2 = {0};
    st = apical_idx_load(ip, lp, (size_t)limit, *out, &e2);
    if (st) {
        /* the reader names the file it failed on: point at its key */
        const apical_ynode *at = e2.pos.file && !strcmp(e2.pos.file, lp) ? vl : vi;
        st = apical_ld_fail(c, at, st, "%s: %s%s", e2.pos.file ? e2.pos.file : ip, e2.msg,
                            st == APICAL_E_IO ? " (make mnist fetches the MNIST files)" : "");
    } else if (classes) {
        /* a label with no unit would teach nothing and never be classified right */
        const size_t k = apical_mnist_bad_label(*out, classes->n);
        if (k < (*out)->n)
            st = apical_ld_fail(c, vl, APICAL_E_RANGE, "%s: label %u of item %zu is not a "
                                "neuron of %s%s%s%s (%llu neurons, one per class)", lp,
                                (*out)->labels[k], k, classes->role,
                                classes->name ? " '" : "", classes->name ? classes->name : "",
                                classes->name ? "'" : "", (unsigned long long)classes->n);
    }
    free(ip), free(lp);
    return st;
}

apical_status apical_mnist_require(apical_ld *c, const apical_ynode *n, const char *where,
                                   uint64_t limit, const apical_mnist_classes *classes,
                                   apical_idx_set **out, const apical_ynode **vi,
                                   const apical_ynode **vl)
{
    const apical_ynode *ni, *nl;
    apical_status st;
    if ((st = apical_ld_require(c, n, "images", where, &ni)) != APICAL_OK ||
        (st = apical_ld_require(c, n, "labels", where, &nl)) != APICAL_OK)
        return st;
    if (vi)
        *vi = ni;
    if (vl)
        *vl = nl;
    return apical_mnist_load(c, ni, nl, limit, classes, out);
}

size_t apical_mnist_bad_label(const apical_idx_set *set, uint64_t n_classes)
{
    for (size_t k = 0; k < set->n; k++)
        if (set->labels[k] >= n_classes)
            return k;
    return set->n;
}

void apical_mnist_free(apical_idx_set *set)
{
    if (!set)
        return;
    apical_idx_free(set);
    free(set);
}

apical_status apical_mnist_parse_input(apical_ld *c, const apical_ynode *n, size_t *input,
                                       double *max_rate)
{
    const apical_ynode *v;
    const char *name = "";
    apical_status st;
    if ((st = apical_ld_require(c, n, "input", "stimulus", &v)) != APICAL_OK ||
        (st = apical_ld_string(c, v, "input", &name)) != APICAL_OK)
        return st;
    *input = (size_t)-1;
    for (size_t j = 0; j < c->spec->n_inputs; j++)
        if (strcmp(c->spec->inputs[j].name, name) == 0)
            *input = j;
    if (*input == (size_t)-1)
        return apical_ld_fail(c, v, APICAL_E_REFERENCE, "input '%s' is not defined", name);
    const apical_input_spec *in = &c->spec->inputs[*input];
    /* one generator per pixel: set_rate addresses them by pixel index */
    if (in->kind != APICAL_INPUT_POISSON || in->nodes)
        return apical_ld_fail(c, v, APICAL_E_INVALID, "the stimulus input '%s' must be a "
                              "poisson input to a whole population", name);
    *max_rate = 200.0;
    if ((v = apical_ld_get(n, "max_rate")) != NULL &&
        (st = apical_ld_bounded(c, v, "Hz", "max_rate", (apical_bounds){0.0, APICAL_MAX_RATE, 0},
                                max_rate)) != APICAL_OK)
        return st;
    return APICAL_OK;
}

apical_status apical_mnist_parse_test_pass(apical_ld *c, const apical_ynode *n,
                                           uint64_t *examples, double *duration, double *window)
{
    const apical_bounds times = {APICAL_MIN_TIME, APICAL_MAX_TIME, 0};
    const apical_ynode *v;
    apical_status st;
    if ((st = apical_ld_require(c, n, "examples", "test", &v)) != APICAL_OK ||
        (st = apical_ld_uint(c, v, "examples", 1, APICAL_MAX_EXAMPLES, examples)) != APICAL_OK)
        return st;
    *duration = 250.0;
    *window = 220.0;
    if ((v = apical_ld_get(n, "duration")) != NULL &&
        (st = apical_ld_bounded(c, v, "ms", "duration", times, duration)) != APICAL_OK)
        return st;
    if ((v = apical_ld_get(n, "window")) != NULL &&
        (st = apical_ld_bounded(c, v, "ms", "window", times, window)) != APICAL_OK)
        return st;
    if (!(*window <= *duration))
        return apical_ld_fail(c, v, APICAL_E_RANGE, "window (%g ms) must not exceed duration "
                              "(%g ms)", *window, *duration);
    return APICAL_OK;
}

apical_status apical_mnist_show(apical_sim *S, size_t input, double max_rate,
                                const apical_idx_set *set, size_t img, double T,
                                apical_error *err)
{
    const size_t n_pixels = set->rows * set->cols;
    const uint8_t *px = set->pixels + img * n_pixels;
    for (size_t k = 0; k < n_pixels; k++) {
        apical_status st = apical_engine_set_rate(S, input, k, max_rate * px[k] / 255.0, T, err);
        if (st)
            return st;
    }
    return APICAL_OK;
}

void apical_mnist_shuffle(uint64_t seed, const char *stream, uint32_t substream, uint32_t *perm,
                          size_t n)
{
    apical_rng r;
    apical_rng_init(&r, seed, apical_rng_stream_id(APICAL_RNG_RECORD, stream), substream);
    for (size_t i = 0; i < n; i++)
        perm[i] = (uint32_t)i;
    /* uniform is in [0, 1): j <= i */
    for (size_t i = n ? n - 1 : 0; i > 0; i--) {
        const size_t j = (size_t)(apical_rng_uniform(&r) * (double)(i + 1));
        const uint32_t x = perm[i];
        perm[i] = perm[j];
        perm[j] = x;
    }
}

apical_status apical_mnist_curve_table(apical_h5 *h5, int *table, apical_error *err)
{
    static const apical_h5_column cols[] = {{"examples", APICAL_H5_F64, 0, NULL, 0},
                                            {"epoch", APICAL_H5_F64, 0, NULL, 0},
                                            {"test_error", APICAL_H5_F64, 0, NULL, 0},
                                            {"tests", APICAL_H5_F64, 0, NULL, 0},
                                            {"time", APICAL_H5_F64, 0, "ms", 0}};
    return apical_h5_table_add(h5, "learning_curve",
                               "one row per test pass: training examples seen, epochs "
                               "(examples / training images), test error (fraction "
                               "misclassified), test presentations, time the pass ended",
                               cols, 5, 64, table, err);
}

apical_status apical_mnist_curve_append(apical_h5 *h5, int table, double examples, double epoch,
                                        double test_error, double tests, double T,
                                        apical_error *err)
{
    const void *row[] = {&examples, &epoch, &test_error, &tests, &T};
    return apical_h5_table_append(h5, table, row, err);
}
