/* The segregated-dendrite protocol (include/apical/segregated_dendrites.h),
 * type `segregated_dendrites`: its section of the network file, the run's
 * length, and at run time phase boundaries on the window grid, window
 * averages from the dendritic models' time integrals, presynaptic PSP
 * averages from the merged spikes, the plateau and output rules applied
 * once per example, and its HDF5 tables (/plateaus, /classification).
 *
 * It drives the engine from above through include/apical/control.h only. */
#include "apical/segregated_dendrites.h"

#include <hdf5.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apical/control.h"
#include "apical/h5in.h"
#include "apical/h5out.h"
#include "apical/limits.h"
#include "apical/loader.h"
#include "apical/mnist_stimulus.h"
#include "apical/model.h"
#include "apical/plateau.h"
#include "apical/rng.h"

static void checkpoint_free(apical_sd_checkpoint *c)
{
    if (!c)
        return;
    for (size_t k = 0; k < c->n_proj; k++)
        free(c->proj[k].src), free(c->proj[k].tgt), free(c->proj[k].w);
    free(c->proj);
    for (size_t l = 0; l <= APICAL_SD_MAX_LAYERS; l++)
        free(c->bias[l]);
    free(c);
}

void apical_segregated_spec_free(apical_segregated_spec *p)
{
    if (!p)
        return;
    free(p->labels);
    free(p->apical_forward);
    free(p->apical_target);
    free(p->learn);
    free(p->fb);
    free(p->checkpoint);
    checkpoint_free(p->resume);
    apical_mnist_free(p->images);
    apical_mnist_free(p->test_images);
    free(p);
}

/* A source neuron's kernel-filtered spike train, as it arrives at the
 * synapses (spike time + delay): traces of the slow and fast exponentials
 * and the running integral of kappa. */
typedef struct src_trace {
    double pL, ps, integral, t;
} src_trace;

typedef struct arrival {
    double t;
    uint64_t src;
} arrival;

typedef struct learn_rt {
    size_t proj, src_pop, tgt_pop;
    double eta, delay, tau_L, tau_s, P;
    int layer;     /* hidden layer of the target, or -1: the output */
    int fb;        /* learned feedback taking this projection's updates, or -1 */
    uint64_t n_src, gid0; /* source neurons, their first global id */
    src_trace *tr;
    double *win0;  /* integral at the forward window start */
    double *psp_f; /* mean PSP over the forward window */
    arrival *q;    /* arrivals not yet applied, in time order: at most the
                      spikes of the last `delay` ms and a window (drained
                      every window) */
    size_t q_head, q_n, q_cap;
    size_t ready;  /* the first `ready` of them: applied by sd_during in the
                      window after the step that counted them */
    double *gE;    /* -eta P E: the update is gE[tgt] psp_f[src] */
    /* A read of every source's trace at read_t (into win0, or into psp_f
     * over read_win ms) that a boundary left to the next window's slices
     * (sd_during: 1284 sources' traces with two exps each, which the
     * other partitions waited for when the step did it); read_slices
     * counts the slices that did their part. Nothing reads win0 or psp_f
     * before the next step, which finishes the read if no slice ran. */
    int read;
    double read_t, read_win;
    atomic_uint read_slices;
} learn_rt;

enum { READ_NONE, READ_WIN0, READ_PSP };

/* One hidden layer at run time. */
typedef struct layer_rt {
    size_t pop;
    uint64_t n;
    double kB, lambda;
    double *intA0, *intC0, *alpha_f, *alpha_t, *cbar_f;
    double *E;   /* the plateau rule's error, this example */
    double *Ebp; /* backprop's, on sampled examples */
    int table;   /* /plateaus/<pop>, or -1 */
} layer_rt;

enum { ST_EX_START, ST_FWD_WIN, ST_FWD_END, ST_TGT_WIN, ST_TGT_END, ST_TEST_START, ST_TEST_WIN,
       ST_TEST_END };

typedef struct protocol_rt {
    const apical_net_spec *spec;
    const apical_segregated_spec *ps;
    uint32_t *perm;        /* stimulus shuffle: this epoch's image order */
    uint64_t perm_epoch;   /* which epoch perm is for, or UINT64_MAX */
    uint64_t example;      /* training examples done (a resumed run starts at the
                              checkpoint's) */
    int stage;
    int restored;          /* the checkpoint (if any) is in the network */
    int ckpt_pending;      /* an epoch ended: write the checkpoint */
    /* An epoch ended (or a resumed run starts): the next example starts
     * the network over (epoch_restart) at window restart_window, or at
     * the current window when that is 0. */
    int restart_pending;
    uint64_t restart_window;
    double **init;         /* per population, every neuron's state as built
                              (n x n_state, neuron-major); NULL: not read yet */
    uint64_t tested_at;    /* examples seen at the last test pass, or UINT64_MAX */
    uint64_t next_window; /* window index of the next boundary */
    uint64_t k_ex0, k_fwd_end, k_tgt_end;
    double win_t0; /* start of the current averaging window */
    uint64_t label; /* the current stimulus's label */
    uint64_t test;  /* presentations done in this test pass */
    uint64_t test_total; /* all test presentations, for observers */
    uint64_t pass_wrong;
    uint64_t k_test_end;
    apical_rng rng; /* this example's phase lengths */
    int nomem;      /* an arrival could not be queued */
    /* hidden layers: one model, so one set of state indices */
    size_t nl;
    layer_rt *hl;
    size_t h_C, h_intC, h_intA, h_abias, h_bias;
    /* output layer */
    uint64_t no;
    size_t o_C, o_intC, o_intL, o_gE, o_gI, o_bias;
    double o_kD, o_lambda;
    double *o_intC0, *o_intL0, *o_cbar_f, *o_E;
    learn_rt *learn;
    size_t arrivals_peak; /* most arrivals queued in one learn_rt */
    double *dense, *dense2; /* scratch for symmetric feedback and angles */
    double *tmp;            /* scratch: one population's state variable */
    size_t dense_cap;
    /* observers and output tables */
    apical_plateau_fn on_plateau;
    void *plateau_user;
    apical_classify_fn on_classify;
    void *classify_user;
    apical_curve_fn on_curve;
    void *curve_user;
    apical_angle_fn on_angle;
    void *angle_user;
    apical_h5 *h5;
    int class_table, curve_table, angle_table; /* -1: not (yet) created */
} protocol_rt;

static size_t field(const apical_model_type *m, const char *name, int state)
{
    return state ? apical_field_index(m->state, m->n_state, name)
                 : apical_field_index(m->params, m->n_params, name);
}

static double param(const apical_net_spec *spec, size_t pi, const char *name)
{
    const apical_pop_spec *ps = &spec->pops[pi];
    return ps->param[field(ps->model, name, 0)];
}

/* Neuron state, as the engine keeps it (its layout is the engine's). */
static double state(const apical_sim *S, size_t pi, uint64_t i, size_t k)
{
    return apical_engine_state(S, pi, i, k);
}

/* Wald (inverse Gaussian) draw, Michael, Schucany & Haas (1976). */
static double wald(apical_rng *r, double mu, double lambda)
{
    double u = apical_rng_uniform_pos(r), v = apical_rng_uniform(r);
    double n = sqrt(-2.0 * log(u)) * cos(2.0 * M_PI * v), y = n * n;
    double x = mu + mu * mu * y / (2.0 * lambda) -
               mu / (2.0 * lambda) * sqrt(4.0 * mu * lambda * y + mu * mu * y * y);
    return apical_rng_uniform(r) <= mu / (mu + x) ? x : mu * mu / x;
}

/* Windows of `window` ms that cover `ms` (a phase: at least one; a settle
 * time may be 0). */
static uint64_t windows_for(double window, double ms)
{
    double k = ceil(ms / window - 1e-9);
    return k < 1.0 ? 1 : (uint64_t)k;
}

static uint64_t windows_settle(double window, double ms)
{
    double k = ceil(ms / window - 1e-9);
    return k < 0.0 ? 0 : (uint64_t)k;
}

static double phase_length(apical_rng *r, const apical_phase_spec *ph)
{
    return ph->duration + (ph->wald_mean > 0.0 ? wald(r, ph->wald_mean, ph->wald_shape) : 0.0);
}

/* Example k's phase lengths come from its own substream of (seed,
 * "protocol_phase"): forward first, then target. Keyed by the example's
 * index, so a resumed run draws what an uninterrupted one would. */
static void example_rng(apical_rng *r, uint64_t seed, uint64_t example)
{
    apical_rng_init(r, seed, apical_rng_stream_id(APICAL_RNG_RECORD, "protocol_phase"),
                    (uint32_t)example);
}

static uint64_t examples_done(const apical_segregated_spec *p)
{
    return p->resume ? p->resume->examples_done : 0;
}

/* Test passes between examples done and p->examples: periodic ones before
 * the end, and one at the end (none when resumed from a checkpoint after
 * the last example: it was taken after the final pass). */
static uint64_t test_passes(const apical_segregated_spec *p)
{
    const uint64_t d = examples_done(p), e = p->examples;
    if (!p->test_examples || (p->resume && d >= e))
        return 0;
    uint64_t n = 1;
    if (e > d + 1 && p->test_every)
        n += (e - 1) / p->test_every - d / p->test_every;
    if (e > d + 1 && p->test_every_epoch && p->images) {
        const uint64_t m = p->images->n, f = p->stim_first;
        n += (f + e - 1) / m - (f + d) / m;
    }
    return n;
}

/* The run draws each example's forward then target length from the
 * example's stream and nothing else from it, so replaying the draws gives
 * the schedule exactly. A resumed run starts at its checkpoint's window
 * (the uninterrupted run's time): the end is absolute. Stops counting once
 * past `stop` ms, or past the longest run there can be (APICAL_MAX_TIME). */
double apical_segregated_end(const apical_segregated_spec *p, uint64_t seed, double window,
                           double stop)
{
    stop = fmin(stop, APICAL_MAX_TIME);
    /* k * window as the run computes boundary times; k saturates */
    const uint64_t k0 = p->resume ? p->resume->window_index : 0;
    uint64_t k = k0;
    const uint64_t d = examples_done(p), todo = p->examples > d ? p->examples - d : 0;
    const uint64_t per_test = windows_for(window, p->test_duration);
    const uint64_t passes = test_passes(p);
    if (p->test_examples > (UINT64_MAX / 4) / per_test ||
        passes > (UINT64_MAX / 4) / (p->test_examples * per_test + 1))
        return HUGE_VAL;
    const uint64_t tests = passes * p->test_examples * per_test;
    if (!(p->forward.wald_mean > 0.0) && !(p->target.wald_mean > 0.0)) {
        const uint64_t per = windows_for(window, p->forward.duration) +
                             windows_for(window, p->target.duration);
        if (todo > (UINT64_MAX / 4) / per || k0 > UINT64_MAX / 4)
            return HUGE_VAL;
        return (double)(k0 + todo * per + tests) * window;
    }
    /* Wald draws are positive: the fixed parts alone may already pass stop */
    const uint64_t least = windows_for(window, p->forward.duration) +
                           windows_for(window, p->target.duration);
    if (((double)k0 + (double)todo * (double)least) * window > stop)
        return ((double)k0 + (double)todo * (double)least) * window;
    apical_rng r;
    for (uint64_t ex = d; ex < p->examples; ex++) {
        example_rng(&r, seed, ex);
        k += windows_for(window, phase_length(&r, &p->forward));
        k += windows_for(window, phase_length(&r, &p->target));
        if ((double)k * window > stop)
            return (double)k * window;
    }
    return (double)(k + tests) * window;
}

/* --- the `protocol:` section ----------------------------------------------- */

/* A phase: {duration: 50 ms, wald: {mean: 2 ms, shape: 1 ms}}. */
static apical_status parse_phase(apical_ld *c, const apical_ynode *n, const char *what, apical_phase_spec *ph)
{
    static const char *const keys[] = {"duration", "wald", NULL};
    static const char *const wald_keys[] = {"mean", "shape", NULL};
    const apical_ynode *v, *w;
    apical_status st;
    if ((st = apical_ld_need_kind(c, n, APICAL_Y_MAP, what)) != APICAL_OK ||
        (st = apical_ld_check_keys(c, n, keys, what)) != APICAL_OK ||
        (st = apical_ld_require(c, n, "duration", what, &v)) != APICAL_OK ||
        (st = apical_ld_bounded(c, v, "ms", "duration", (apical_bounds){APICAL_MIN_TIME, APICAL_MAX_TIME, 0}, &ph->duration)) !=
            APICAL_OK)
        return st;
    if ((w = apical_ld_get(n, "wald")) != NULL) {
        if ((st = apical_ld_need_kind(c, w, APICAL_Y_MAP, "wald")) != APICAL_OK ||
            (st = apical_ld_check_keys(c, w, wald_keys, "wald")) != APICAL_OK ||
            (st = apical_ld_require(c, w, "mean", "wald", &v)) != APICAL_OK ||
            (st = apical_ld_bounded(c, v, "ms", "wald mean", (apical_bounds){APICAL_MIN_TIME, APICAL_MAX_TIME, 0},
                              &ph->wald_mean)) != APICAL_OK ||
            (st = apical_ld_require(c, w, "shape", "wald", &v)) != APICAL_OK ||
            (st = apical_ld_bounded(c, v, "ms", "wald shape", (apical_bounds){APICAL_MIN_TIME, APICAL_MAX_TIME, 0},
                              &ph->wald_shape)) != APICAL_OK)
            return st;
    }
    return APICAL_OK;
}

/* One value per hidden neuron: a number (all equal) or a list of n. With
 * `plateau`, values are plateaus in (0, 1) and become apical drives
 * through the logit (the apical voltage equals its drive when no apical
 * input arrives). */
static apical_status get_per_neuron(apical_ld *c, const apical_ynode *n, uint64_t count, int plateau,
                                    const char *what, double **out)
{
    apical_status st;
    const apical_bounds bd = {-HUGE_VAL, HUGE_VAL, 0};
    if (!(*out = malloc((count + 1) * sizeof **out)))
        return apical_ld_oom(c);
    if (n->kind == APICAL_Y_SEQ && n->n_kids != count)
        return apical_ld_fail(c, n, APICAL_E_RANGE, "%s needs one value per hidden neuron (%llu), got %zu",
                    what, (unsigned long long)count, n->n_kids);
    for (uint64_t i = 0; i < count; i++) {
        const apical_ynode *v = n->kind == APICAL_Y_SEQ ? n->kids[i] : n;
        double x;
        if ((st = apical_ld_bounded(c, v, "1", what, bd, &x)) != APICAL_OK)
            return st;
        if (plateau && !(x > 0.0 && x < 1.0))
            return apical_ld_fail(c, v, APICAL_E_RANGE, "%s must be in (0, 1), got %g", what, x);
        (*out)[i] = plateau ? log(x / (1.0 - x)) : x;
    }
    return APICAL_OK;
}

static apical_status need_model(apical_ld *c, const apical_ynode *at, size_t pop, const char *model,
                                const char *role)
{
    const apical_pop_spec *p = &c->spec->pops[pop];
    if (strcmp(p->model->name, model) != 0)
        return apical_ld_fail(c, at, APICAL_E_INVALID, "the protocol's %s population must use model %s; "
                    "'%s' uses %s", role, model, p->name, p->model->name);
    return APICAL_OK;
}

/* Every label of an IDX set names an output neuron (a class), when there
 * is an output (NULL: none); the classes into *cl. */
static const apical_mnist_classes *output_classes(const apical_ld *c,
                                                  const apical_segregated_spec *p,
                                                  apical_mnist_classes *cl)
{
    if (p->output == (size_t)-1)
        return NULL;
    const apical_pop_spec *out = &c->spec->pops[p->output];
    *cl = (apical_mnist_classes){out->size, "the output population", out->name};
    return cl;
}

/* stimulus: {input: NAME, images: PATH, labels: PATH, max_rate: 200 Hz,
 * first: 0, limit: 0}: IDX images shown one per example through a Poisson
 * input over a population with one neuron per pixel. */
static apical_status parse_stimulus(apical_ld *c, const apical_ynode *n, apical_segregated_spec *p)
{
    static const char *const keys[] = {"input", "images", "labels", "max_rate", "first", "limit",
                                       "shuffle", NULL};
    const apical_ynode *v, *vi = NULL;
    apical_status st;
    if ((st = apical_ld_need_kind(c, n, APICAL_Y_MAP, "stimulus")) != APICAL_OK ||
        (st = apical_ld_check_keys(c, n, keys, "stimulus")) != APICAL_OK ||
        (st = apical_mnist_parse_input(c, n, &p->stim_input, &p->stim_max_rate)) != APICAL_OK)
        return st;
    uint64_t limit = 0;
    if ((v = apical_ld_get(n, "first")) != NULL &&
        (st = apical_ld_uint(c, v, "first", 0, UINT64_MAX, &p->stim_first)) != APICAL_OK)
        return st;
    if ((v = apical_ld_get(n, "limit")) != NULL &&
        (st = apical_ld_uint(c, v, "limit", 1, UINT64_MAX, &limit)) != APICAL_OK)
        return st;
    if ((v = apical_ld_get(n, "shuffle")) != NULL &&
        (st = apical_ld_bool(c, v, "shuffle", &p->stim_shuffle)) != APICAL_OK)
        return st;
    apical_mnist_classes cl;
    if ((st = apical_mnist_require(c, n, "stimulus", limit,
                                   output_classes(c, p, &cl),
                                   &p->images, &vi, NULL)) != APICAL_OK)
        return st;
    const apical_pop_spec *px = &c->spec->pops[c->spec->inputs[p->stim_input].target];
    if (p->images->rows * p->images->cols != px->size)
        return apical_ld_fail(c, vi, APICAL_E_RANGE, "images have %zu pixels but population '%s' "
                              "has %llu neurons; the stimulus needs one neuron per pixel",
                              p->images->rows * p->images->cols, px->name,
                              (unsigned long long)px->size);
    return APICAL_OK;
}

/* test: {examples, duration: 250 ms, window: 220 ms, images?, labels?,
 * first: 0}: forward-only presentations after training, classified by the
 * output's mean somatic voltage (needs output and stimulus). */
static apical_status parse_test(apical_ld *c, const apical_ynode *n, apical_segregated_spec *p)
{
    static const char *const keys[] = {"examples", "duration", "window", "images", "labels",
                                       "first", "every", NULL};
    const apical_ynode *v, *vi = NULL, *vl = NULL;
    apical_status st;
    if ((st = apical_ld_need_kind(c, n, APICAL_Y_MAP, "test")) != APICAL_OK ||
        (st = apical_ld_check_keys(c, n, keys, "test")) != APICAL_OK)
        return st;
    if (p->output == (size_t)-1 || p->stim_input == (size_t)-1)
        return apical_ld_fail(c, n, APICAL_E_INVALID, "test needs an 'output' population and a 'stimulus'");
    if ((st = apical_mnist_parse_test_pass(c, n, &p->test_examples, &p->test_duration,
                                           &p->test_window)) != APICAL_OK)
        return st;
    if ((v = apical_ld_get(n, "first")) != NULL &&
        (st = apical_ld_uint(c, v, "first", 0, UINT64_MAX, &p->test_first)) != APICAL_OK)
        return st;
    /* every: N (training examples) or `epoch` */
    if ((v = apical_ld_get(n, "every")) != NULL) {
        if (v->kind == APICAL_Y_SCALAR && v->text && strcmp(v->text, "epoch") == 0)
            p->test_every_epoch = 1;
        else if ((st = apical_ld_uint(c, v, "every (training examples, or 'epoch')", 1,
                                      APICAL_MAX_EXAMPLES, &p->test_every)) != APICAL_OK)
            return st;
    }
    vi = apical_ld_get(n, "images");
    vl = apical_ld_get(n, "labels");
    if (!vi != !vl)
        return apical_ld_fail(c, vi ? vi : vl, APICAL_E_MISSING_KEY,
                    "test needs both 'images' and 'labels', or neither (the training set)");
    if (!vi)
        return APICAL_OK;
    apical_mnist_classes cl;
    if ((st = apical_mnist_load(c, vi, vl, 0, output_classes(c, p, &cl),
                                &p->test_images)) != APICAL_OK)
        return st;
    if (p->test_images->rows * p->test_images->cols != p->images->rows * p->images->cols)
        return apical_ld_fail(c, vi, APICAL_E_RANGE, "test images have %zu pixels, training images %zu",
                              p->test_images->rows * p->test_images->cols,
                              p->images->rows * p->images->cols);
    return APICAL_OK;
}

static size_t proj_named(const apical_ld *c, const char *name)
{
    for (size_t j = 0; j < c->spec->n_projs; j++)
        if (strcmp(c->spec->projs[j].name, name) == 0)
            return j;
    return (size_t)-1;
}

/* A layer of the protocol: hidden layer l (0 = bottom), n_hidden: the
 * output; -1: none. */
static int layer_of(const apical_segregated_spec *p, size_t pop)
{
    for (size_t l = 0; l < p->n_hidden; l++)
        if (p->hidden[l] == pop)
            return (int)l;
    return pop == p->output && p->output != (size_t)-1 ? (int)p->n_hidden : -1;
}

/* One feedback entry: {projection: Y}, {projection: Y, symmetric_to: W or
 * [W1, W2, ...]} (Y = (... W2 W1)^T, the chain from Y's target up to Y's
 * source) or {projection: Y, learned_from: W, decay: D} (Y learns with W's
 * updates transposed, both decaying by 1 - D per example, Kolen-Pollack).
 * Y must end on a hidden layer's apical dendrites. */
static apical_status parse_feedback(apical_ld *c, const apical_ynode *n, apical_segregated_spec *p,
                                    apical_feedback_spec *f)
{
    static const char *const keys[] = {"projection", "symmetric_to", "learned_from", "decay",
                                       NULL};
    const apical_ynode *vy, *vd;
    const char *ny = "", *nw = "";
    apical_status st;
    if ((st = apical_ld_need_kind(c, n, APICAL_Y_MAP, "feedback")) != APICAL_OK ||
        (st = apical_ld_check_keys(c, n, keys, "feedback")) != APICAL_OK ||
        (st = apical_ld_require(c, n, "projection", "feedback", &vy)) != APICAL_OK ||
        (st = apical_ld_string(c, vy, "projection", &ny)) != APICAL_OK)
        return st;
    f->pos = apical_ld_pos(c, n);
    if ((f->proj = proj_named(c, ny)) == (size_t)-1)
        return apical_ld_fail(c, vy, APICAL_E_REFERENCE, "projection '%s' is not defined", ny);
    const apical_proj_spec *y = &c->spec->projs[f->proj];
    const int ly = layer_of(p, y->target);
    if (ly < 0 || ly >= (int)p->n_hidden ||
        strcmp(c->spec->pops[y->target].model->receptors[y->receptor], "apical") != 0)
        return apical_ld_fail(c, vy, APICAL_E_INVALID, "feedback projection '%s' must end on the "
                              "apical dendrites (receptor apical) of one of the protocol's "
                              "hidden layers", ny);
    const apical_ynode *vs = apical_ld_get(n, "symmetric_to"), *vl = apical_ld_get(n, "learned_from");
    if (vs && vl)
        return apical_ld_fail(c, n, APICAL_E_INVALID,
                    "feedback takes at most one of 'symmetric_to' (Y = W^T) and 'learned_from' "
                    "(Y learns with W's updates)");
    vd = apical_ld_get(n, "decay");
    if (vd && !vl)
        return apical_ld_fail(c, vd, APICAL_E_INVALID, "'decay' applies to 'learned_from' feedback only");
    if (!vs && !vl)
        return APICAL_OK; /* fixed: as drawn */
    f->learned = vl != NULL;
    if (vd && (st = apical_ld_bounded(c, vd, "1", "decay", (apical_bounds){0.0, 1.0, 0}, &f->decay)) !=
                  APICAL_OK)
        return st;
    const apical_ynode *vw = vs ? vs : vl;
    const size_t nk = vw->kind == APICAL_Y_SEQ ? vw->n_kids : 1;
    if (vl && vw->kind == APICAL_Y_SEQ)
        return apical_ld_fail(c, vw, APICAL_E_INVALID, "learned_from names one projection, the "
                              "feedforward one in the opposite direction");
    if (nk == 0 || nk > APICAL_SD_MAX_LAYERS + 1)
        return apical_ld_fail(c, vw, APICAL_E_RANGE, "symmetric_to names 1 to %d projections",
                              APICAL_SD_MAX_LAYERS + 1);
    size_t at = y->target; /* the chain climbs from Y's target to Y's source */
    for (size_t k = 0; k < nk; k++) {
        const apical_ynode *vk = vw->kind == APICAL_Y_SEQ ? vw->kids[k] : vw;
        if ((st = apical_ld_string(c, vk, vs ? "symmetric_to" : "learned_from", &nw)) != APICAL_OK)
            return st;
        if ((f->of[k] = proj_named(c, nw)) == (size_t)-1)
            return apical_ld_fail(c, vk, APICAL_E_REFERENCE, "projection '%s' is not defined", nw);
        const apical_proj_spec *w = &c->spec->projs[f->of[k]];
        if (w->conn != APICAL_CONN_ALL_TO_ALL || w->source != at)
            return apical_ld_fail(c, vk, APICAL_E_INVALID, "%s feedback: '%s' must be all_to_all "
                        "and start at '%s' (the chain climbs from '%s', Y's target, to '%s', "
                        "Y's source)", f->learned ? "learned" : "symmetric", nw,
                        c->spec->pops[at].name, c->spec->pops[y->target].name,
                        c->spec->pops[y->source].name);
        at = w->target;
        f->n_of = k + 1;
    }
    if (y->conn != APICAL_CONN_ALL_TO_ALL || at != y->source)
        return apical_ld_fail(c, vy, APICAL_E_INVALID, "%s feedback needs '%s' all_to_all and "
                    "the feedforward chain to end at its source '%s'",
                    f->learned ? "learned" : "symmetric", ny, c->spec->pops[y->source].name);
    return APICAL_OK;
}

/* The checkpoint format (docs/network-format.md, "protocol"): /edges/<proj>
 * for every learned and feedback projection, /edges/bias_<pop> (a 1-node
 * source "bias" -> each neuron, weight = its bias) for every layer, and
 * /provenance/examples_done, window_index and window (where the run
 * restarted: a resumed run restarts there too). */
static herr_t read_scalar(hid_t f, const char *name, hid_t type, void *out)
{
    hid_t d = f < 0 ? H5I_INVALID_HID : H5Dopen2(f, name, H5P_DEFAULT);
    herr_t r = d < 0 ? -1 : H5Dread(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, out);
    if (d >= 0)
        H5Dclose(d);
    return r;
}

static apical_status read_position(const char *path, apical_sd_checkpoint *ck,
                                   apical_error *err)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    const char *missing =
        read_scalar(f, "/provenance/examples_done", H5T_NATIVE_UINT64, &ck->examples_done) < 0
            ? "no /provenance/examples_done: not a checkpoint of this protocol"
        : read_scalar(f, "/provenance/window_index", H5T_NATIVE_UINT64, &ck->window_index) < 0 ||
                read_scalar(f, "/provenance/window", H5T_NATIVE_DOUBLE, &ck->window) < 0
            ? "no /provenance/window_index and window: written by an apical that did not "
              "restart at epoch ends, so it cannot be resumed bit for bit; start afresh"
            : NULL;
    if (f >= 0)
        H5Fclose(f);
    if (f < 0 || missing)
        return apical_error_set(err, f < 0 ? APICAL_E_IO : APICAL_E_DATA, NULL, "%s: %s", path,
                                f < 0 ? "cannot open it as HDF5" : missing);
    return APICAL_OK;
}

static apical_status read_checkpoint(apical_ld *c, const apical_ynode *at, const char *path,
                                     apical_segregated_spec *p)
{
    apical_sd_checkpoint *ck = calloc(1, sizeof *ck);
    if (!ck)
        return apical_ld_oom(c);
    p->resume = ck;
    apical_error e2 = {0};
    apical_status st;
    if ((st = read_position(path, ck, &e2)))
        return apical_ld_fail(c, at, st, "%s", e2.msg);
    if (!(ck->proj = calloc(p->n_learn + p->n_fb + 1, sizeof *ck->proj)))
        return apical_ld_oom(c);
    for (size_t k = 0; k < p->n_learn + p->n_fb; k++) {
        const size_t j = k < p->n_learn ? p->learn[k].proj : p->fb[k - p->n_learn].proj;
        int dup = 0;
        for (size_t m = 0; m < ck->n_proj; m++)
            dup |= ck->proj[m].proj == j;
        if (dup)
            continue;
        const apical_proj_spec *pj = &c->spec->projs[j];
        apical_edge_data e = {0};
        if ((st = apical_h5_edges_read(path, pj->name, &e, &e2)))
            return apical_ld_fail(c, at, st, "checkpoint %s", e2.msg);
        apical_sd_saved_proj *sp = &ck->proj[ck->n_proj++];
        sp->proj = j;
        sp->n = e.n;
        sp->src = e.src, sp->tgt = e.tgt, sp->w = e.w;
        e.src = e.tgt = NULL, e.w = NULL;
        const int bad = e.n_src != c->spec->pops[pj->source].size ||
                        e.n_tgt != c->spec->pops[pj->target].size;
        apical_edge_data_free(&e);
        if (bad)
            return apical_ld_fail(c, at, APICAL_E_DATA, "checkpoint %s: projection '%s' has "
                                  "other population sizes than in this network", path, pj->name);
    }
    for (size_t l = 0; l <= p->n_hidden; l++) {
        const size_t pop = l < p->n_hidden ? p->hidden[l] : p->output;
        if (pop == (size_t)-1)
            continue;
        char name[300];
        snprintf(name, sizeof name, "bias_%s", c->spec->pops[pop].name);
        apical_edge_data e = {0};
        if ((st = apical_h5_edges_read(path, name, &e, &e2)))
            return apical_ld_fail(c, at, st, "checkpoint %s", e2.msg);
        const uint64_t n = c->spec->pops[pop].size;
        int bad = e.n != n || !(ck->bias[l] = calloc(n + 1, sizeof(double)));
        for (size_t k = 0; !bad && k < e.n; k++) {
            bad = e.tgt[k] >= n;
            if (!bad)
                ck->bias[l][e.tgt[k]] = e.w[k];
        }
        apical_edge_data_free(&e);
        if (bad)
            return apical_ld_fail(c, at, APICAL_E_DATA, "checkpoint %s: the biases of '%s' do not "
                                  "match this network (%llu neurons)", path,
                                  c->spec->pops[pop].name, (unsigned long long)n);
    }
    if (ck->examples_done > p->examples)
        return apical_ld_fail(c, at, APICAL_E_RANGE, "checkpoint %s is after %llu training "
                              "examples, but the protocol trains only %llu", path,
                              (unsigned long long)ck->examples_done,
                              (unsigned long long)p->examples);
    return APICAL_OK;
}

/* hidden: NAME or [NAME, ...] (bottom to top). */
static apical_status parse_hidden(apical_ld *c, const apical_ynode *v, apical_segregated_spec *p)
{
    const size_t nk = v->kind == APICAL_Y_SEQ ? v->n_kids : 1;
    apical_status st;
    if (nk == 0 || nk > APICAL_SD_MAX_LAYERS)
        return apical_ld_fail(c, v, APICAL_E_RANGE, "hidden names 1 to %d populations",
                              APICAL_SD_MAX_LAYERS);
    for (size_t l = 0; l < nk; l++) {
        const apical_ynode *vk = v->kind == APICAL_Y_SEQ ? v->kids[l] : v;
        if ((st = apical_ld_pop_ref(c, vk, "hidden", &p->hidden[l])) != APICAL_OK ||
            (st = need_model(c, vk, p->hidden[l], "dendritic_hidden", "hidden")) != APICAL_OK)
            return st;
        for (size_t m = 0; m < l; m++)
            if (p->hidden[m] == p->hidden[l])
                return apical_ld_fail(c, vk, APICAL_E_INVALID, "'%s' is already hidden layer %zu",
                                      c->spec->pops[p->hidden[l]].name, m);
        p->n_hidden = l + 1;
    }
    return APICAL_OK;
}

/* angle: {every: K}: for each hidden layer, its feedforward projection to
 * the layer above (exactly one, basal). */
static apical_status parse_angle(apical_ld *c, const apical_ynode *n, apical_segregated_spec *p)
{
    static const char *const keys[] = {"every", NULL};
    const apical_ynode *v;
    apical_status st;
    if ((st = apical_ld_need_kind(c, n, APICAL_Y_MAP, "angle")) != APICAL_OK ||
        (st = apical_ld_check_keys(c, n, keys, "angle")) != APICAL_OK ||
        (st = apical_ld_require(c, n, "every", "angle", &v)) != APICAL_OK ||
        (st = apical_ld_uint(c, v, "every", 1, APICAL_MAX_EXAMPLES, &p->angle_every)) != APICAL_OK)
        return st;
    if (!p->n_hidden || p->output == (size_t)-1)
        return apical_ld_fail(c, n, APICAL_E_INVALID, "angle needs 'hidden' layers and an 'output'");
    for (size_t l = 0; l < p->n_hidden; l++) {
        const size_t from = p->hidden[l], to = l + 1 < p->n_hidden ? p->hidden[l + 1] : p->output;
        p->angle_ff[l] = (size_t)-1;
        for (size_t j = 0; j < c->spec->n_projs; j++) {
            const apical_proj_spec *pj = &c->spec->projs[j];
            if (pj->source != from || pj->target != to ||
                strcmp(c->spec->pops[to].model->receptors[pj->receptor], "basal") != 0)
                continue;
            if (p->angle_ff[l] != (size_t)-1)
                return apical_ld_fail(c, n, APICAL_E_INVALID, "angle: '%s' and '%s' both feed '%s' "
                                      "from '%s'; backprop needs one feedforward matrix",
                                      c->spec->projs[p->angle_ff[l]].name, pj->name,
                                      c->spec->pops[to].name, c->spec->pops[from].name);
            p->angle_ff[l] = j;
        }
        if (p->angle_ff[l] == (size_t)-1)
            return apical_ld_fail(c, n, APICAL_E_INVALID, "angle: no basal projection from '%s' "
                                  "to '%s', the layer above", c->spec->pops[from].name,
                                  c->spec->pops[to].name);
    }
    return APICAL_OK;
}

static apical_status sd_parse(apical_ld *c, const apical_ynode *n, void **out)
{
    static const char *const keys[] = {"type",    "hidden",  "output",       "examples",
                                       "forward", "target",  "settle",       "labels",
                                       "apical_drive", "plateau", "learning", "stimulus",
                                       "feedback", "test", "epochs", "angle", "checkpoint",
                                       "resume", NULL};
    static const char *const drive_keys[] = {"forward", "target", NULL};
    static const char *const learn_keys[] = {"projection", "eta", NULL};
    const apical_ynode *v;
    apical_status st;
    if ((st = apical_protocol_parse_open(c, n, keys, sizeof(apical_segregated_spec), offsetof(apical_segregated_spec, pos),
                                         out)) != APICAL_OK)
        return st;
    apical_segregated_spec *p = *out;
    p->output = p->stim_input = (size_t)-1;
    p->examples = 1;
    p->settle = 0.0;
    if ((v = apical_ld_get(n, "hidden")) != NULL && (st = parse_hidden(c, v, p)) != APICAL_OK)
        return st;
    if ((v = apical_ld_get(n, "output")) != NULL &&
        ((st = apical_ld_pop_ref(c, v, "output", &p->output)) != APICAL_OK ||
         (st = need_model(c, v, p->output, "dendritic_output", "output")) != APICAL_OK))
        return st;
    if (!p->n_hidden && p->output == (size_t)-1)
        return apical_ld_fail(c, n, APICAL_E_MISSING_KEY, "the protocol needs a 'hidden' or an 'output' "
                    "population");
    if ((v = apical_ld_get(n, "examples")) != NULL &&
        (st = apical_ld_uint(c, v, "examples", 0, APICAL_MAX_EXAMPLES, &p->examples)) != APICAL_OK)
        return st;
    if ((st = apical_ld_require(c, n, "forward", "protocol", &v)) != APICAL_OK ||
        (st = parse_phase(c, v, "forward", &p->forward)) != APICAL_OK ||
        (st = apical_ld_require(c, n, "target", "protocol", &v)) != APICAL_OK ||
        (st = parse_phase(c, v, "target", &p->target)) != APICAL_OK)
        return st;
    if ((v = apical_ld_get(n, "settle")) != NULL &&
        (st = apical_ld_bounded(c, v, "ms", "settle", (apical_bounds){0.0, APICAL_MAX_TIME, 0}, &p->settle)) !=
            APICAL_OK)
        return st;
    if (!(p->settle < p->forward.duration && p->settle < p->target.duration))
        return apical_ld_fail(c, v ? v : n, APICAL_E_RANGE,
                    "settle (%g ms) must be shorter than both phases (%g ms, %g ms)", p->settle,
                    p->forward.duration, p->target.duration);
    if ((v = apical_ld_get(n, "labels")) != NULL) {
        if (p->output == (size_t)-1)
            return apical_ld_fail(c, v, APICAL_E_INVALID, "labels need an 'output' population to teach");
        if ((st = apical_ld_need_kind(c, v, APICAL_Y_SEQ, "labels")) != APICAL_OK)
            return st;
        if (!v->n_kids)
            return apical_ld_fail(c, v, APICAL_E_INVALID, "labels is empty");
        if (!(p->labels = malloc(v->n_kids * sizeof *p->labels)))
            return apical_ld_oom(c);
        for (size_t i = 0; i < v->n_kids; i++) {
            if ((st = apical_ld_uint(c, v->kids[i], "a label", 0, c->spec->pops[p->output].size - 1,
                               &p->labels[i])) != APICAL_OK)
                return st;
            p->n_labels = i + 1;
        }
    }
    const apical_ynode *drive = apical_ld_get(n, "apical_drive"), *plat = apical_ld_get(n, "plateau");
    if (drive && plat)
        return apical_ld_fail(c, plat, APICAL_E_INVALID, "give either 'apical_drive' or 'plateau', not both");
    if (drive || plat) {
        const apical_ynode *d = drive ? drive : plat;
        const char *what = drive ? "apical_drive" : "plateau";
        if (!p->n_hidden)
            return apical_ld_fail(c, d, APICAL_E_INVALID, "%s needs a 'hidden' population", what);
        if ((st = apical_ld_need_kind(c, d, APICAL_Y_MAP, what)) != APICAL_OK ||
            (st = apical_ld_check_keys(c, d, drive_keys, what)) != APICAL_OK)
            return st;
        uint64_t nh = c->spec->pops[p->hidden[0]].size;
        if ((v = apical_ld_get(d, "forward")) != NULL &&
            (st = get_per_neuron(c, v, nh, plat != NULL, what, &p->apical_forward)) != APICAL_OK)
            return st;
        if ((v = apical_ld_get(d, "target")) != NULL &&
            (st = get_per_neuron(c, v, nh, plat != NULL, what, &p->apical_target)) != APICAL_OK)
            return st;
    }
    if ((v = apical_ld_get(n, "stimulus")) != NULL && (st = parse_stimulus(c, v, p)) != APICAL_OK)
        return st;
    const apical_ynode *ve = apical_ld_get(n, "epochs");
    if (ve) {
        if (apical_ld_get(n, "examples"))
            return apical_ld_fail(c, ve, APICAL_E_INVALID, "give either 'examples' or 'epochs', "
                                  "not both");
        if (!p->images)
            return apical_ld_fail(c, ve, APICAL_E_INVALID, "epochs count passes through the "
                                  "stimulus images: give a 'stimulus'");
        if ((st = apical_ld_uint(c, ve, "epochs", 1, APICAL_MAX_EXAMPLES / p->images->n,
                                 &p->epochs)) != APICAL_OK)
            return st;
        p->examples = p->epochs * p->images->n;
    }
    if ((v = apical_ld_get(n, "feedback")) != NULL) {
        const size_t nf = v->kind == APICAL_Y_SEQ ? v->n_kids : 1;
        if (!(p->fb = calloc(nf + 1, sizeof *p->fb)))
            return apical_ld_oom(c);
        for (size_t k = 0; k < nf; k++) {
            const apical_ynode *vk = v->kind == APICAL_Y_SEQ ? v->kids[k] : v;
            if ((st = parse_feedback(c, vk, p, &p->fb[k])) != APICAL_OK)
                return st;
            p->n_fb = k + 1;
            for (size_t m = 0; m < k; m++)
                if (p->fb[m].proj == p->fb[k].proj)
                    return apical_ld_fail(c, vk, APICAL_E_INVALID, "projection '%s' already has "
                                          "a feedback entry (line %d)",
                                          c->spec->projs[p->fb[k].proj].name, p->fb[m].pos.line);
        }
    }
    if ((v = apical_ld_get(n, "test")) != NULL && (st = parse_test(c, v, p)) != APICAL_OK)
        return st;
    if ((v = apical_ld_get(n, "learning")) != NULL) {
        if ((st = apical_ld_need_kind(c, v, APICAL_Y_SEQ, "learning")) != APICAL_OK)
            return st;
        if (!(p->learn = calloc(v->n_kids + 1, sizeof *p->learn)))
            return apical_ld_oom(c);
        for (size_t i = 0; i < v->n_kids; i++) {
            const apical_ynode *it = v->kids[i], *f;
            apical_learn_spec *l = &p->learn[i];
            const char *pname = "";
            if ((st = apical_ld_need_kind(c, it, APICAL_Y_MAP, "a learning entry")) != APICAL_OK ||
                (st = apical_ld_check_keys(c, it, learn_keys, "a learning entry")) != APICAL_OK ||
                (st = apical_ld_require(c, it, "projection", "a learning entry", &f)) != APICAL_OK ||
                (st = apical_ld_string(c, f, "projection", &pname)) != APICAL_OK)
                return st;
            l->pos = apical_ld_pos(c, it);
            l->proj = (size_t)-1;
            for (size_t j = 0; j < c->spec->n_projs; j++)
                if (strcmp(c->spec->projs[j].name, pname) == 0)
                    l->proj = j;
            if (l->proj == (size_t)-1)
                return apical_ld_fail(c, f, APICAL_E_REFERENCE, "projection '%s' is not defined", pname);
            for (size_t k = 0; k < i; k++)
                if (p->learn[k].proj == l->proj)
                    return apical_ld_fail(c, f, APICAL_E_INVALID, "projection '%s' is already learned "
                                "(line %d); each update would be applied twice", pname,
                                p->learn[k].pos.line);
            const apical_proj_spec *pj = &c->spec->projs[l->proj];
            if (layer_of(p, pj->target) < 0)
                return apical_ld_fail(c, f, APICAL_E_INVALID, "projection '%s' must target one of "
                            "the protocol's hidden layers or its output population", pname);
            if (strcmp("basal", c->spec->pops[pj->target].model->receptors[pj->receptor]) != 0)
                return apical_ld_fail(c, f, APICAL_E_INVALID, "projection '%s' must use receptor 'basal': "
                            "the protocol learns basal weights", pname);
            if (pj->delay.kind != APICAL_DIST_CONSTANT)
                return apical_ld_fail(c, f, APICAL_E_INVALID, "projection '%s' needs a constant delay to "
                            "be learned by the protocol", pname);
            if (pj->rule)
                return apical_ld_fail(c, f, APICAL_E_INVALID, "projection '%s' already has a plasticity "
                            "rule", pname);
            /* A *_end copy removes each input's kernel tail with the weight
             * it was built with; learning would change one and not the
             * other, and the rule's PSP averages assume whole kernels. */
            for (size_t j = 0; j < c->spec->n_projs; j++) {
                const apical_proj_spec *q = &c->spec->projs[j];
                const char *rn = c->spec->pops[q->target].model->receptors[q->receptor];
                const size_t len = strlen(rn);
                if (j != l->proj && q->source == pj->source && q->target == pj->target &&
                    len > 4 && strcmp(rn + len - 4, "_end") == 0)
                    return apical_ld_fail(c, f, APICAL_E_INVALID,
                                "projection '%s' is truncated by '%s' (receptor %s); the "
                                "protocol learns whole kernels only: remove '%s' or do not "
                                "learn '%s'",
                                pname, q->name, rn, q->name, pname);
            }
            if ((st = apical_ld_require(c, it, "eta", "a learning entry", &f)) != APICAL_OK ||
                (st = apical_ld_bounded(c, f, "1", "eta", (apical_bounds){0.0, HUGE_VAL, 0}, &l->eta)) !=
                    APICAL_OK)
                return st;
            p->n_learn = i + 1;
        }
    }
    for (size_t k = 0; k < p->n_fb; k++) {
        int learned = 0;
        for (size_t i = 0; p->fb[k].learned && i < p->n_learn; i++)
            learned |= p->learn[i].proj == p->fb[k].of[0];
        if (p->fb[k].learned && !learned)
            return apical_ld_fail(c, apical_ld_get(apical_ld_get(n, "feedback")->kind == APICAL_Y_SEQ
                                                       ? apical_ld_get(n, "feedback")->kids[k]
                                                       : apical_ld_get(n, "feedback"),
                                                   "learned_from"),
                        APICAL_E_INVALID, "feedback learned_from '%s' needs that projection under "
                        "'learning'", c->spec->projs[p->fb[k].of[0]].name);
        for (size_t m = 0; m < k; m++)
            if (p->fb[k].learned && p->fb[m].learned && p->fb[m].of[0] == p->fb[k].of[0])
                return apical_ld_fail(c, apical_ld_get(n, "feedback"), APICAL_E_INVALID,
                                      "two feedback projections learn from '%s'",
                                      c->spec->projs[p->fb[k].of[0]].name);
    }
    if ((v = apical_ld_get(n, "angle")) != NULL && (st = parse_angle(c, v, p)) != APICAL_OK)
        return st;
    if ((v = apical_ld_get(n, "checkpoint")) != NULL) {
        const char *path = "";
        if ((st = apical_ld_string(c, v, "checkpoint", &path)) != APICAL_OK)
            return st;
        if (!p->images)
            return apical_ld_fail(c, v, APICAL_E_INVALID, "checkpoints are written at epoch ends: "
                                  "give a 'stimulus'");
        if (!(p->checkpoint = apical_ld_path(c, path)))
            return apical_ld_oom(c);
    }
    if ((v = apical_ld_get(n, "resume")) != NULL) {
        const char *path = "";
        if ((st = apical_ld_string(c, v, "resume", &path)) != APICAL_OK)
            return st;
        if (!p->images)
            return apical_ld_fail(c, v, APICAL_E_INVALID, "a run resumes at an epoch end: "
                                  "give a 'stimulus'");
        char *rp = apical_ld_path(c, path);
        if (!rp)
            return apical_ld_oom(c);
        st = read_checkpoint(c, v, rp, p);
        free(rp);
        if (st)
            return st;
    }
    return APICAL_OK; /* the loader then fits the run (sd_fit) */
}

/* --- the run's length -------------------------------------------------------- */

static apical_status too_short(const apical_net_spec *spec, double window, apical_error *err)
{
    const apical_segregated_spec *p = spec->protocol;
    /* the whole need (the check stopped counting at the duration), or a
     * lower bound when the count stopped at the longest possible run */
    const double need = apical_segregated_end(p, spec->sim.seed, window, HUGE_VAL);
    const apical_srcpos *at = spec->sim.duration_pos.line ? &spec->sim.duration_pos : NULL;
    return apical_error_set(
        err, APICAL_E_RANGE, at,
        "duration %.10g ms ends before the protocol, which needs %s%.10g ms (%llu training "
        "examples, %llu test presentations, phases rounded up to the %g ms window); raise it, "
        "or omit 'duration' to end the run with the protocol's last presentation",
        spec->sim.duration, need > APICAL_MAX_TIME ? "more than " : "",
        fmin(need, APICAL_MAX_TIME), (unsigned long long)p->examples,
        (unsigned long long)p->test_examples, window);
}

/* A duration within rounding of the need becomes the need, so the last
 * boundary falls inside the run. */
static apical_status fit(apical_net_spec *spec, double window, apical_error *err)
{
    const apical_segregated_spec *p = spec->protocol;
    if (spec->sim.duration_auto) {
        double need = apical_segregated_end(p, spec->sim.seed, window, HUGE_VAL);
        if (need == 0.0 && p->resume)
            need = window; /* resumed after the last example: restore, and stop */
        if (!(need > 0.0) || !isfinite(need))
            return apical_error_set(err, APICAL_E_RANGE, &p->pos,
                                    "without 'duration' the run lasts as long as the protocol, "
                                    "but it presents %s; give simulation.duration",
                                    need > 0.0 ? "too much to time" : "nothing");
        if (need > APICAL_MAX_TIME)
            return apical_error_set(err, APICAL_E_RANGE, &p->pos,
                                    "the protocol needs more than %g ms, the longest run "
                                    "apical can time (%llu training examples, %llu test "
                                    "presentations)",
                                    APICAL_MAX_TIME, (unsigned long long)p->examples,
                                    (unsigned long long)p->test_examples);
        spec->sim.duration = need;
        return APICAL_OK;
    }
    const double need = apical_segregated_end(p, spec->sim.seed, window, spec->sim.duration);
    if (spec->sim.duration >= need)
        return APICAL_OK;
    if (spec->sim.duration >= need * (1.0 - 1e-12)) {
        spec->sim.duration = need;
        return APICAL_OK;
    }
    return too_short(spec, window, err);
}

static apical_status sd_fit(apical_net_spec *spec, apical_error *err)
{
    const apical_segregated_spec *ps = spec->protocol;
    /* a resumed run starts at the checkpoint's time: a sampling recorder
     * would owe every sample before it (apical_engine_restart refuses) */
    for (size_t r = 0; ps->resume && r < spec->n_recorders; r++)
        if (spec->recorders[r].kind != APICAL_REC_SPIKES)
            return apical_error_set(err, APICAL_E_INVALID, &spec->recorders[r].pos,
                                    "a resumed run (protocol.resume) cannot record state or "
                                    "weights: it starts at the checkpoint's time; record "
                                    "spikes, or read the checkpoint's weights");
    /* Every pass through the training images ends with a restart of the
     * engine (so that a resumed run is bit for bit), and a resumed run
     * starts with one: refuse here, before the run, what
     * apical_engine_restart would refuse at the first epoch end. */
    const uint64_t first = ps->images ? ps->stim_first % ps->images->n : 0;
    const int restarts = ps->resume || (ps->images && ps->examples > 0 &&
                                        ps->images->n - first <= ps->examples - 1);
    apical_status st;
    if (restarts &&
        (st = apical_engine_check_restartable(spec, "at the end of a pass through the training "
                                              "images (the protocol restarts the network there)",
                                              "fewer examples", err)) != APICAL_OK)
        return st;
    /* the window the engine will use if every projection draws its
     * smallest possible delay (exact for constant delays) */
    double window = HUGE_VAL;
    for (size_t j = 0; j < spec->n_projs; j++) {
        const apical_dist *d = &spec->projs[j].delay;
        const double lo = d->kind == APICAL_DIST_NORMAL && isfinite(d->lo) ? d->lo : d->a;
        if (lo > 0.0 && lo < window)
            window = lo;
    }
    if (window == HUGE_VAL)
        window = spec->sim.duration_auto ? 1.0 : fmin(1.0, spec->sim.duration);
    return fit(spec, window, err);
}

static apical_status sd_build(const apical_net_spec *spec, apical_sim *S, void **out,
                              apical_error *err)
{
    const apical_segregated_spec *ps = spec->protocol;
    /* the loader fitted the duration to its best guess of the window; the
     * drawn delays decide */
    const double window = apical_engine_window(S);
    const double need = apical_segregated_end(ps, spec->sim.seed, window, spec->sim.duration);
    if (spec->sim.duration < need * (1.0 - 1e-12))
        return too_short(spec, window, err);
    if (ps->checkpoint && apical_engine_ranks(S) > 1) /* it reads this rank's synapses only */
        return apical_error_set(err, APICAL_E_INVALID, &ps->pos,
                                "checkpoints are written by runs in one process only (not "
                                "under mpirun with more than one rank)");
    protocol_rt *pr = calloc(1, sizeof *pr);
    if (!pr)
        return apical_error_set(err, APICAL_E_NOMEM, NULL, "out of memory");
    *out = pr;
    pr->spec = spec;
    pr->ps = ps;
    pr->class_table = pr->curve_table = pr->angle_table = -1;
    pr->perm_epoch = UINT64_MAX;
    /* a checkpoint after the last example follows the final test pass */
    pr->tested_at = ps->resume && examples_done(ps) >= ps->examples ? examples_done(ps)
                                                                      : UINT64_MAX;
    pr->example = examples_done(ps);
    pr->restored = !ps->resume;
    pr->restart_pending = ps->resume != NULL;
    pr->restart_window = ps->resume ? ps->resume->window_index : 0;
    if (ps->resume && ps->resume->window != apical_engine_window(S))
        return apical_error_set(err, APICAL_E_INVALID, &ps->pos,
                                "the checkpoint was written on a window grid of %.17g ms, this "
                                "network's is %.17g ms (the smallest delay): a resumed run "
                                "continues the checkpoint's time grid", ps->resume->window,
                                apical_engine_window(S));
    if (ps->stim_shuffle && ps->images &&
        !(pr->perm = malloc((ps->images->n + 1) * sizeof *pr->perm)))
        return apical_error_set(err, APICAL_E_NOMEM, NULL, "out of memory");
    pr->nl = ps->n_hidden;
    if (!(pr->hl = calloc(pr->nl + 1, sizeof *pr->hl)))
        return apical_error_set(err, APICAL_E_NOMEM, NULL, "out of memory");
    for (size_t l = 0; l < pr->nl; l++) {
        layer_rt *h = &pr->hl[l];
        const apical_model_type *m = spec->pops[ps->hidden[l]].model;
        h->pop = ps->hidden[l];
        h->n = spec->pops[h->pop].size;
        h->table = -1;
        pr->h_C = field(m, "C", 1);
        pr->h_intC = field(m, "int_C", 1);
        pr->h_intA = field(m, "int_A", 1);
        pr->h_abias = field(m, "apical_bias", 1);
        pr->h_bias = field(m, "bias", 1);
        double gL = param(spec, h->pop, "g_L"), gB = param(spec, h->pop, "g_B"),
               gA = param(spec, h->pop, "g_A");
        h->kB = gB / (gL + gB + gA);
        h->lambda = param(spec, h->pop, "lambda_max") * 1e-3;
        h->intA0 = calloc(h->n + 1, sizeof(double));
        h->intC0 = calloc(h->n + 1, sizeof(double));
        h->alpha_f = calloc(h->n + 1, sizeof(double));
        h->alpha_t = calloc(h->n + 1, sizeof(double));
        h->cbar_f = calloc(h->n + 1, sizeof(double));
        h->E = calloc(h->n + 1, sizeof(double));
        h->Ebp = calloc(h->n + 1, sizeof(double));
        if (!h->intA0 || !h->intC0 || !h->alpha_f || !h->alpha_t || !h->cbar_f || !h->E ||
            !h->Ebp)
            return apical_error_set(err, APICAL_E_NOMEM, NULL, "out of memory");
    }
    uint64_t n_tmp = 1;
    for (size_t pop = 0; pop < spec->n_pops; pop++)
        if (spec->pops[pop].size > n_tmp)
            n_tmp = spec->pops[pop].size;
    if (!(pr->tmp = calloc(n_tmp, sizeof *pr->tmp)))
        return apical_error_set(err, APICAL_E_NOMEM, NULL, "out of memory");
    if (ps->output != (size_t)-1) {
        const apical_model_type *m = spec->pops[ps->output].model;
        pr->no = spec->pops[ps->output].size;
        pr->o_C = field(m, "C", 1);
        pr->o_intC = field(m, "int_C", 1);
        pr->o_intL = field(m, "int_lambda", 1);
        apical_engine_track_integral(S, ps->output); /* the output rule reads it */
        pr->o_gE = field(m, "g_E", 1);
        pr->o_gI = field(m, "g_I", 1);
        pr->o_bias = field(m, "bias", 1);
        double gL = param(spec, ps->output, "g_L"), gD = param(spec, ps->output, "g_D");
        pr->o_kD = gD / (gL + gD);
        pr->o_lambda = param(spec, ps->output, "lambda_max") * 1e-3;
        pr->o_intC0 = calloc(pr->no + 1, sizeof(double));
        pr->o_intL0 = calloc(pr->no + 1, sizeof(double));
        pr->o_cbar_f = calloc(pr->no + 1, sizeof(double));
        pr->o_E = calloc(pr->no + 1, sizeof(double));
        if (!pr->o_intC0 || !pr->o_intL0 || !pr->o_cbar_f || !pr->o_E)
            return apical_error_set(err, APICAL_E_NOMEM, NULL, "out of memory");
    }
    pr->learn = calloc(ps->n_learn + 1, sizeof *pr->learn);
    if (!pr->learn)
        return apical_error_set(err, APICAL_E_NOMEM, NULL, "out of memory");
    for (size_t k = 0; k < ps->n_learn; k++) {
        learn_rt *l = &pr->learn[k];
        const apical_proj_spec *pj = &spec->projs[ps->learn[k].proj];
        l->proj = ps->learn[k].proj;
        l->eta = ps->learn[k].eta;
        l->src_pop = pj->source;
        l->tgt_pop = pj->target;
        const int lay = layer_of(ps, pj->target);
        l->layer = lay == (int)ps->n_hidden ? -1 : lay;
        l->fb = -1;
        for (size_t f = 0; f < ps->n_fb; f++)
            if (ps->fb[f].learned && ps->fb[f].of[0] == l->proj)
                l->fb = (int)f;
        l->delay = pj->delay.a;
        l->tau_L = param(spec, pj->target, "tau_L");
        l->tau_s = param(spec, pj->target, "tau_s");
        double lam = l->layer < 0 ? pr->o_lambda : pr->hl[l->layer].lambda;
        l->P = l->layer < 0 ? 20.0 / (lam * lam) : 20.0 / lam;
        l->n_src = spec->pops[l->src_pop].size;
        l->gid0 = apical_engine_gid0(S, l->src_pop);
        l->tr = calloc(l->n_src + 1, sizeof *l->tr);
        l->win0 = calloc(l->n_src + 1, sizeof *l->win0);
        l->psp_f = calloc(l->n_src + 1, sizeof *l->psp_f);
        l->gE = calloc(spec->pops[l->tgt_pop].size + 1, sizeof *l->gE);
        l->read = READ_NONE;
        atomic_init(&l->read_slices, 0u);
        if (!l->tr || !l->win0 || !l->psp_f || !l->gE)
            return apical_error_set(err, APICAL_E_NOMEM, NULL, "out of memory");
    }
    pr->next_window = 0;
    pr->stage = ST_EX_START;
    return APICAL_OK;
}

static void sd_free_rt(void *rt)
{
    protocol_rt *pr = rt;
    if (!pr)
        return;
    for (size_t l = 0; pr->hl && l < pr->nl; l++) {
        layer_rt *h = &pr->hl[l];
        free(h->intA0), free(h->intC0), free(h->alpha_f), free(h->alpha_t), free(h->cbar_f);
        free(h->E), free(h->Ebp);
    }
    free(pr->hl);
    free(pr->o_intC0), free(pr->o_intL0), free(pr->o_cbar_f), free(pr->o_E);
    for (size_t k = 0; pr->learn && k < pr->ps->n_learn; k++) {
        learn_rt *l = &pr->learn[k];
        free(l->tr), free(l->win0), free(l->psp_f), free(l->q), free(l->gE);
    }
    free(pr->learn);
    free(pr->perm);
    free(pr->dense), free(pr->dense2);
    free(pr->tmp);
    for (size_t pi = 0; pr->init && pi < pr->spec->n_pops; pi++)
        free(pr->init[pi]);
    free(pr->init);
    free(pr);
}

/* Advance a source trace to t (no new arrival). */
static void trace_to(src_trace *tr, double t, double tau_L, double tau_s)
{
    double dt = t - tr->t;
    if (dt <= 0.0)
        return;
    double eL = exp(-dt / tau_L), es = exp(-dt / tau_s);
    tr->integral += (tr->pL * tau_L * (1.0 - eL) - tr->ps * tau_s * (1.0 - es)) / (tau_L - tau_s);
    tr->pL *= eL;
    tr->ps *= es;
    tr->t = t;
}

static void sd_spikes(void *rt, const apical_spike *sp, size_t n)
{
    protocol_rt *pr = rt;
    if (pr->example >= pr->ps->examples)
        return; /* training is over: test presentations read no traces */
    for (size_t k = 0; k < pr->ps->n_learn; k++) {
        learn_rt *l = &pr->learn[k];
        const uint64_t gid0 = l->gid0, n_src = l->n_src;
        for (size_t j = 0; j < n; j++) {
            if (sp[j].gid < gid0 || sp[j].gid >= gid0 + n_src)
                continue;
            if (l->q_head + l->q_n == l->q_cap) {
                if (l->q_head && l->q_n <= l->q_cap / 2) {
                    memmove(l->q, l->q + l->q_head, l->q_n * sizeof *l->q);
                    l->q_head = 0;
                } else {
                    size_t cap = l->q_cap ? 2 * l->q_cap : 1024;
                    arrival *q = realloc(l->q, cap * sizeof *q);
                    if (!q) {
                        pr->nomem = 1; /* apical_protocol_step reports it */
                        continue;
                    }
                    l->q = q;
                    l->q_cap = cap;
                }
            }
            l->q[l->q_head + l->q_n++] = (arrival){sp[j].t + l->delay, sp[j].gid - gid0};
            if (l->q_n > pr->arrivals_peak)
                pr->arrivals_peak = l->q_n;
        }
    }
}

/* Apply the arrivals up to T to their sources' traces, in time order: each
 * advances its source to the arrival and adds the spike, so applying them
 * early changes no result. */
static void apply_arrivals(learn_rt *l, double T)
{
    while (l->q_n && l->q[l->q_head].t <= T) {
        const arrival *a = &l->q[l->q_head];
        src_trace *tr = &l->tr[a->src];
        trace_to(tr, a->t, l->tau_L, l->tau_s);
        tr->pL += 1.0;
        tr->ps += 1.0;
        l->q_head++;
        l->q_n--;
    }
    if (!l->q_n)
        l->q_head = 0;
}

/* The read l->read of sources [lo, hi): each trace brought to read_t (the
 * arrivals up to read_t were applied at the boundary; those the slices
 * apply next are later), as the step did before the slices took it. */
static void read_traces(learn_rt *l, uint64_t lo, uint64_t hi)
{
    for (uint64_t j = lo; j < hi; j++) {
        trace_to(&l->tr[j], l->read_t, l->tau_L, l->tau_s);
        if (l->read == READ_WIN0)
            l->win0[j] = l->tr[j].integral;
        else
            l->psp_f[j] = (l->tr[j].integral - l->win0[j]) / l->read_win;
    }
}

/* A read left to the slices, done: by them (all of a window's slices run,
 * in the window's first part, sd_step says why), else here: no window ran
 * since the read was left, as when one step's boundaries leave two (two
 * boundaries at one window index). */
static void finish_read(learn_rt *l)
{
    if (!l->read)
        return;
    if (!atomic_load(&l->read_slices))
        read_traces(l, 0, l->n_src);
    l->read = READ_NONE;
    atomic_store(&l->read_slices, 0u);
}

/* A boundary's read of every source's trace at T: the arrivals up to T
 * now, the rest left to the next window's slices. */
static void defer_read(learn_rt *l, int what, double T, double win)
{
    finish_read(l);
    apply_arrivals(l, T);
    l->read = what;
    l->read_t = T;
    l->read_win = win;
}

/* Slice `slice` of n_slices of the arrivals step left to this window: those
 * of the sources in the slice's range, each source's in time order (as
 * apply_arrivals would: the sources' traces are independent). The slices
 * run at the same time in the partition jobs and write disjoint traces. */
static void sd_during(void *rt, unsigned slice, unsigned n_slices)
{
    protocol_rt *pr = rt;
    for (size_t k = 0; k < pr->ps->n_learn; k++) {
        learn_rt *l = &pr->learn[k];
        const uint64_t lo = l->n_src * slice / n_slices, hi = l->n_src * (slice + 1) / n_slices;
        if (l->read) { /* before the arrivals: they are later */
            read_traces(l, lo, hi);
            atomic_fetch_add(&l->read_slices, 1u);
        }
        for (size_t e = l->q_head; e < l->q_head + l->ready; e++) {
            const arrival *a = &l->q[e];
            if (a->src < lo || a->src >= hi)
                continue;
            src_trace *tr = &l->tr[a->src];
            trace_to(tr, a->t, l->tau_L, l->tau_s);
            tr->pL += 1.0;
            tr->ps += 1.0;
        }
    }
}

/* A projection's weights as a dense [target][source] matrix. */
typedef struct dense_ctx {
    double *m;
    uint64_t n_src;
    int fill;       /* 1: read weights into m; 0: write m into the weights */
    size_t missing; /* writing: synapses m has no value for (NaN) */
} dense_ctx;

static void dense_visit(void *user, uint64_t src, uint64_t tgt, double *w)
{
    dense_ctx *c = user;
    double *x = &c->m[tgt * c->n_src + src];
    if (c->fill)
        *x = *w;
    else if (isnan(*x))
        c->missing++;
    else
        *w = *x;
}

static double *dense_of(apical_sim *S, const apical_net_spec *spec, size_t j)
{
    const apical_proj_spec *pj = &spec->projs[j];
    const uint64_t ns = spec->pops[pj->source].size, nt = spec->pops[pj->target].size;
    dense_ctx c = {calloc(ns * nt + 1, sizeof(double)), ns, 1, 0};
    if (c.m)
        apical_engine_each_weight(S, j, dense_visit, &c);
    if (c.m) /* ranks: every rank's synapses (each wrote its own, zero elsewhere) */
        apical_engine_combine(S, c.m, ns * nt);
    return c.m;
}

/* Symmetric feedback f: Y[h <- o] = M[o][h], M = W_of[n-1] ... W_of[0]
 * (dense, [top][bottom]). */
static apical_status symmetrize(apical_sim *S, const protocol_rt *pr, const apical_feedback_spec *f,
                                apical_error *err)
{
    const apical_net_spec *spec = pr->spec;
    const uint64_t n0 = spec->pops[spec->projs[f->of[0]].source].size;
    double *M = dense_of(S, spec, f->of[0]);
    uint64_t rows = spec->pops[spec->projs[f->of[0]].target].size;
    for (size_t k = 1; M && k < f->n_of; k++) {
        const uint64_t up = spec->pops[spec->projs[f->of[k]].target].size;
        double *W = dense_of(S, spec, f->of[k]), *P = calloc(up * n0 + 1, sizeof(double));
        for (uint64_t a = 0; W && P && a < up; a++)
            for (uint64_t b = 0; b < rows; b++) {
                const double w = W[a * rows + b];
                for (uint64_t h = 0; w != 0.0 && h < n0; h++)
                    P[a * n0 + h] += w * M[b * n0 + h];
            }
        free(M);
        M = W && P ? P : NULL;
        if (!M)
            free(P);
        free(W);
        rows = up;
    }
    if (!M)
        return apical_error_set(err, APICAL_E_NOMEM, NULL, "out of memory");
    /* Y's synapses run top (source) -> bottom (target): Y[h <- o] at
     * [target h][source o] in Y's own dense layout is M[o][h] */
    const uint64_t ny = spec->pops[spec->projs[f->proj].source].size;
    double *Y = calloc(ny * n0 + 1, sizeof(double));
    if (!Y) {
        free(M);
        return apical_error_set(err, APICAL_E_NOMEM, NULL, "out of memory");
    }
    for (uint64_t h = 0; h < n0; h++)
        for (uint64_t o = 0; o < ny; o++)
            Y[h * ny + o] = M[o * n0 + h];
    dense_ctx c = {Y, ny, 0, 0};
    apical_engine_each_weight(S, f->proj, dense_visit, &c);
    free(Y);
    free(M);
    return APICAL_OK;
}

/* --- checkpoints ------------------------------------------------------- */

/* Every learned and feedback projection's weights, every layer's biases and
 * the examples done, written to <checkpoint>.part and renamed over the
 * checkpoint only once complete, so a stop leaves the previous one. */
static apical_status write_checkpoint(apical_sim *S, protocol_rt *pr, apical_error *err)
{
    const apical_segregated_spec *ps = pr->ps;
    const apical_net_spec *spec = pr->spec;
    apical_h5 *h = NULL;
    apical_status st = apical_h5_create(ps->checkpoint, &h, err);
    apical_h5_edge_list e = {0};
    for (size_t k = 0; !st && k < ps->n_learn + ps->n_fb; k++) {
        const size_t j = k < ps->n_learn ? ps->learn[k].proj : ps->fb[k - ps->n_learn].proj;
        int dup = 0;
        for (size_t m = 0; m < k; m++)
            dup |= (m < ps->n_learn ? ps->learn[m].proj : ps->fb[m - ps->n_learn].proj) == j;
        if (dup)
            continue;
        const apical_proj_spec *pj = &spec->projs[j];
        const apical_pop_spec *src = &spec->pops[pj->source], *tgt = &spec->pops[pj->target];
        e.n = 0;
        /* the synapses' own delays (drawn delays too), not the spec's mean */
        if (apical_sim_synapses(S, j, apical_h5_edge_list_add, &e)) {
            st = apical_error_set(err, APICAL_E_NOMEM, NULL, "out of memory");
            break;
        }
        apical_h5_edges e5 = {.name = pj->name, .src_pop = src->name, .tgt_pop = tgt->name,
                              .n_src = src->size, .n_tgt = tgt->size,
                              .weight_unit = tgt->model->weight_unit,
                              .rule = "segregated_dendrites protocol",
                              .receptor = tgt->model->receptors[pj->receptor],
                              .n = e.n, .src = e.src, .tgt = e.tgt, .w = e.w, .d = e.d};
        st = apical_h5_edges_write(h, &e5, err);
    }
    for (size_t l = 0; !st && l <= pr->nl; l++) {
        const size_t pop = l < pr->nl ? pr->hl[l].pop : ps->output;
        if (pop == (size_t)-1)
            continue;
        const size_t kb = l < pr->nl ? pr->h_bias : pr->o_bias;
        e.n = 0;
        int nomem = 0;
        for (uint64_t i = 0; i < spec->pops[pop].size && !nomem; i++)
            nomem = apical_h5_edge_list_add(&e, 0, i, state(S, pop, i, kb), 1.0);
        if (nomem) {
            st = apical_error_set(err, APICAL_E_NOMEM, NULL, "out of memory");
            break;
        }
        char name[300];
        snprintf(name, sizeof name, "bias_%s", spec->pops[pop].name);
        apical_h5_edges e5 = {.name = name, .src_pop = "bias", .tgt_pop = spec->pops[pop].name,
                              .n_src = 1, .n_tgt = spec->pops[pop].size, .weight_unit = "1",
                              .rule = "segregated_dendrites protocol", .receptor = "bias",
                              .n = e.n, .src = e.src, .tgt = e.tgt, .w = e.w, .d = e.d};
        st = apical_h5_edges_write(h, &e5, err);
    }
    apical_h5_edge_list_free(&e);
    const uint64_t n_img = ps->images ? ps->images->n : 1;
    if (!st)
        st = apical_h5_provenance_u64(h, "examples_done", pr->example, err);
    if (!st)
        st = apical_h5_provenance_u64(h, "epochs_done", (ps->stim_first + pr->example) / n_img,
                                      err);
    if (!st)
        st = apical_h5_provenance_u64(h, "window_index", apical_engine_window_index(S), err);
    if (!st)
        st = apical_h5_provenance_double(h, "window", apical_engine_window(S), "ms", err);
    return apical_h5_end_checkpoint(h, st, spec->sim.seed, spec->text, err);
}

/* Put a resumed run's checkpoint into the network (before the first
 * window). */
static apical_status restore(apical_sim *S, protocol_rt *pr, apical_error *err)
{
    const apical_sd_checkpoint *ck = pr->ps->resume;
    const apical_net_spec *spec = pr->spec;
    for (size_t k = 0; k < ck->n_proj; k++) {
        const apical_sd_saved_proj *sp = &ck->proj[k];
        const apical_proj_spec *pj = &spec->projs[sp->proj];
        const uint64_t ns = spec->pops[pj->source].size, nt = spec->pops[pj->target].size;
        dense_ctx c = {malloc((ns * nt + 1) * sizeof(double)), ns, 0, 0};
        if (!c.m)
            return apical_error_set(err, APICAL_E_NOMEM, NULL, "out of memory");
        for (uint64_t i = 0; i < ns * nt; i++)
            c.m[i] = NAN;
        for (size_t i = 0; i < sp->n; i++)
            c.m[sp->tgt[i] * ns + sp->src[i]] = sp->w[i];
        apical_engine_each_weight(S, sp->proj, dense_visit, &c);
        free(c.m);
        if (c.missing)
            return apical_error_set(err, APICAL_E_DATA, &pr->ps->pos,
                                    "the checkpoint has no weight for %zu synapses of '%s': it "
                                    "was written by a network with other connectivity",
                                    c.missing, pj->name);
    }
    for (size_t l = 0; l <= pr->nl; l++) {
        const size_t pop = l < pr->nl ? pr->hl[l].pop : pr->ps->output;
        const size_t kb = l < pr->nl ? pr->h_bias : pr->o_bias;
        for (uint64_t i = 0; pop != (size_t)-1 && i < spec->pops[pop].size; i++)
            apical_engine_poke(S, pop, i, kb, ck->bias[l][i]);
    }
    return APICAL_OK;
}

/* The training image of the current example: file order, or this epoch's
 * permutation (Fisher-Yates from a stream keyed by seed and epoch, so the
 * order does not depend on anything else in the run). */
static size_t training_image(protocol_rt *pr)
{
    const apical_segregated_spec *ps = pr->ps;
    const uint64_t n = ps->images->n, k = ps->stim_first + pr->example;
    if (!ps->stim_shuffle || !pr->perm)
        return (size_t)(k % n);
    const uint64_t epoch = k / n;
    if (pr->perm_epoch != epoch) {
        apical_mnist_shuffle(pr->spec->sim.seed, "protocol_shuffle", (uint32_t)epoch, pr->perm,
                             (size_t)n);
        pr->perm_epoch = epoch;
    }
    return pr->perm[k % n];
}

/* Present image `img` of `im` through the stimulus input from time T. */
static apical_status show_image(apical_sim *S, protocol_rt *pr, const apical_idx_set *im,
                                size_t img, double T, apical_error *err)
{
    pr->label = im->labels[img];
    return apical_mnist_show(S, pr->ps->stim_input, pr->ps->stim_max_rate, im, img, T, err);
}

/* An example's plateaus, every layer: to the observer (first layer) and
 * the output file. */
static apical_status plateau_out(protocol_rt *pr, double T, apical_error *err)
{
    apical_status st;
    for (size_t l = 0; l < pr->nl; l++) {
        layer_rt *h = &pr->hl[l];
        if (l == 0 && pr->on_plateau)
            pr->on_plateau(pr->plateau_user, pr->example, T, h->alpha_f, h->alpha_t, h->n);
        if (h->table < 0)
            continue;
        const void *row[] = {h->alpha_f, h->alpha_t, &T};
        if ((st = apical_h5_table_append(pr->h5, h->table, row, err)))
            return st;
    }
    return APICAL_OK;
}

/* The protocol's tables. sd_output creates every table the run will write
 * before the file goes live (SWMR: nothing can be created after), so
 * readers see them grow and a killed run keeps them; the lazy calls below
 * remain for an output attached after the start. */
static apical_status class_table(protocol_rt *pr, apical_error *err)
{
    static const apical_h5_column cols[] = {{"label", APICAL_H5_U16, 0, NULL, 0},
                                            {"predicted", APICAL_H5_U16, 0, NULL, 0},
                                            {"time", APICAL_H5_F64, 0, "ms", 0},
                                            {"examples", APICAL_H5_F64, 0, NULL, 0}};
    return apical_h5_table_add(pr->h5, "classification",
                               "protocol test presentations: the image's label, the output "
                               "neuron with the highest mean somatic voltage over the test "
                               "window, and the training examples seen before the pass",
                               cols, 4, 1024, &pr->class_table, err);
}

static apical_status curve_table(protocol_rt *pr, apical_error *err)
{
    return apical_mnist_curve_table(pr->h5, &pr->curve_table, err);
}

static apical_status angle_table(protocol_rt *pr, apical_error *err)
{
    static const apical_h5_column cols[] = {{"example", APICAL_H5_F64, 0, NULL, 0},
                                            {"layer", APICAL_H5_U16, 0, NULL, 0},
                                            {"angle", APICAL_H5_F64, 0, "degree", 0}};
    return apical_h5_table_add(pr->h5, "backprop_angle",
                               "per sampled training example and hidden layer (0 = bottom): "
                               "angle between the plateau rule's update and backprop's on "
                               "the network's forward rates (docs/VALIDATION.md)",
                               cols, 3, 256, &pr->angle_table, err);
}

/* A test presentation's class: /classification is created with its first
 * row, so a run without test presentations has none. */
static apical_status classify_out(protocol_rt *pr, double T, uint64_t best, apical_error *err)
{
    apical_status st;
    if (pr->on_classify)
        pr->on_classify(pr->classify_user, pr->test_total, T, pr->label, best);
    if (!pr->h5)
        return APICAL_OK;
    if (pr->class_table < 0 && (st = class_table(pr, err)))
        return st;
    const uint16_t label = (uint16_t)pr->label, pred = (uint16_t)best;
    const double ex = (double)pr->example;
    const void *row[] = {&label, &pred, &T, &ex};
    return apical_h5_table_append(pr->h5, pr->class_table, row, err);
}

/* A test pass ended: one point of the learning curve. */
static apical_status curve_out(protocol_rt *pr, double T, apical_error *err)
{
    const apical_segregated_spec *ps = pr->ps;
    const double ex = (double)pr->example, tests = (double)pr->test;
    const double e = tests > 0 ? (double)pr->pass_wrong / tests : NAN;
    const double epoch = ps->images ? ex / (double)ps->images->n : NAN;
    apical_status st;
    if (pr->on_curve)
        pr->on_curve(pr->curve_user, pr->example, e, pr->test);
    if (!pr->h5)
        return APICAL_OK;
    if (pr->curve_table < 0 && (st = curve_table(pr, err)))
        return st;
    return apical_mnist_curve_append(pr->h5, pr->curve_table, ex, epoch, e, tests, T, err);
}

/* The backprop angle of every hidden layer for this example (before its
 * updates): E_bp of the output is the output rule's E; of hidden layer l,
 * (W_{l+1}^T E_bp_{l+1}) k_B lambda_max sigma'(Cbar_f), with W_{l+1} the
 * true feedforward weights to the layer above; the angle is that between
 * E_bp and the plateau rule's E, which is also the angle between the two
 * weight updates (both are E psp_f^T) and between the bias updates. */
static apical_status angles(apical_sim *S, protocol_rt *pr, apical_error *err)
{
    const apical_segregated_spec *ps = pr->ps;
    apical_status st;
    if (pr->h5 && pr->angle_table < 0 && (st = angle_table(pr, err)))
        return st;
    for (size_t l = pr->nl; l-- > 0;) {
        layer_rt *h = &pr->hl[l];
        const double *up = l + 1 < pr->nl ? pr->hl[l + 1].Ebp : pr->o_E;
        const uint64_t n_up = l + 1 < pr->nl ? pr->hl[l + 1].n : pr->no;
        double *W = dense_of(S, pr->spec, ps->angle_ff[l]); /* [up][h] */
        if (!W)
            return apical_error_set(err, APICAL_E_NOMEM, NULL, "out of memory");
        double dot = 0.0, na = 0.0, nb = 0.0;
        for (uint64_t i = 0; i < h->n; i++) {
            double s = 0.0;
            for (uint64_t j = 0; j < n_up; j++)
                s += W[j * h->n + i] * up[j];
            h->Ebp[i] = s * h->kB * h->lambda * apical_sigma_prime(h->cbar_f[i]);
            dot += h->Ebp[i] * h->E[i];
            na += h->Ebp[i] * h->Ebp[i];
            nb += h->E[i] * h->E[i];
        }
        free(W);
        if (!(na > 0.0 && nb > 0.0))
            continue; /* no update to compare (no error, or no plateau change) */
        const double c = fmax(-1.0, fmin(1.0, dot / (sqrt(na) * sqrt(nb))));
        const double deg = acos(c) * 180.0 / M_PI;
        if (pr->on_angle)
            pr->on_angle(pr->angle_user, pr->example, l, deg);
        if (pr->h5) {
            const double ex = (double)pr->example;
            const uint16_t lay = (uint16_t)l;
            const void *row[] = {&ex, &lay, &deg};
            if ((st = apical_h5_table_append(pr->h5, pr->angle_table, row, err)))
                return st;
        }
    }
    return APICAL_OK;
}

/* The first hidden layer's apical drive of a phase (tests set it). */
static void apical_drive(apical_sim *S, protocol_rt *pr, const double *drive)
{
    if (pr->nl && drive)
        apical_engine_poke_all(S, pr->hl[0].pop, pr->h_abias, drive);
}

/* Does a test pass follow the example just done: a periodic one, or the
 * final one after the last example? Both come before the epoch-end
 * restart and checkpoint (ST_EX_START), so a run that stops at an epoch end
 * has made the same pass there as the run that goes on. */
static int test_follows(const protocol_rt *pr)
{
    const apical_segregated_spec *ps = pr->ps;
    if (!ps->test_examples)
        return 0;
    if (pr->example >= ps->examples)
        return 1;
    if (ps->test_every && pr->example % ps->test_every == 0)
        return 1;
    return ps->test_every_epoch && (ps->stim_first + pr->example) % ps->images->n == 0;
}

/* --- epoch restarts ----------------------------------------------------- */

/* Every neuron's state as built (the first boundary, before any change):
 * what every epoch starts from. */
static apical_status read_initial_states(apical_sim *S, protocol_rt *pr, apical_error *err)
{
    const apical_net_spec *spec = pr->spec;
    if (!(pr->init = calloc(spec->n_pops + 1, sizeof *pr->init)))
        return apical_error_set(err, APICAL_E_NOMEM, NULL, "out of memory");
    for (size_t pi = 0; pi < spec->n_pops; pi++) {
        const uint64_t n = spec->pops[pi].size;
        const size_t ns = spec->pops[pi].model->n_state;
        apical_status st = apical_engine_sync(S, pi, 0.0, err);
        if (st)
            return st;
        if (!(pr->init[pi] = malloc((n * ns + 1) * sizeof(double))))
            return apical_error_set(err, APICAL_E_NOMEM, NULL, "out of memory");
        for (size_t k = 0; k < ns; k++) {
            apical_engine_state_all(S, pi, k, pr->tmp);
            for (uint64_t i = 0; i < n; i++)
                pr->init[pi][i * ns + k] = pr->tmp[i];
        }
    }
    return APICAL_OK;
}

/* An epoch starts over: the engine restarts at the boundary (streams keyed
 * by the epoch, spikes in flight dropped), every neuron's state but the
 * learned biases returns to its state as built, and the presynaptic traces
 * start from zero. The uninterrupted run does this at every epoch end and
 * a resumed run at its start, at the same window with the same key, so
 * nothing before the boundary reaches past it but the weights and biases
 * the checkpoint holds. */
static apical_status epoch_restart(apical_sim *S, protocol_rt *pr, apical_error *err)
{
    const apical_segregated_spec *ps = pr->ps;
    const apical_net_spec *spec = pr->spec;
    const uint64_t K = pr->restart_window ? pr->restart_window : apical_engine_window_index(S);
    const uint64_t epoch = (ps->stim_first + pr->example) / ps->images->n;
    apical_status st = apical_engine_restart(S, K, (uint32_t)epoch, err);
    if (st)
        return st;
    const double T = (double)K * apical_engine_window(S);
    for (size_t pi = 0; pi < spec->n_pops; pi++) {
        const uint64_t n = spec->pops[pi].size;
        const size_t ns = spec->pops[pi].model->n_state;
        const int layer = layer_of(ps, pi);
        const size_t kb = layer < 0 ? (size_t)-1 : layer < (int)pr->nl ? pr->h_bias : pr->o_bias;
        for (size_t k = 0; k < ns; k++) {
            if (k == kb)
                continue; /* learned: kept */
            for (uint64_t i = 0; i < n; i++)
                pr->tmp[i] = pr->init[pi][i * ns + k];
            apical_engine_poke_all(S, pi, k, pr->tmp);
        }
    }
    for (size_t k = 0; k < ps->n_learn; k++) {
        learn_rt *l = &pr->learn[k];
        for (uint64_t j = 0; j < l->n_src; j++)
            l->tr[j] = (src_trace){0.0, 0.0, 0.0, T};
        l->q_head = l->q_n = 0;
    }
    pr->restart_pending = 0;
    pr->restart_window = 0;
    return APICAL_OK;
}

static apical_status boundary(apical_sim *S, protocol_rt *pr, apical_error *err)
{
    const apical_segregated_spec *ps = pr->ps;
    apical_status st;
    if (!pr->init && (st = read_initial_states(S, pr, err)))
        return st;
    if (pr->stage == ST_EX_START && pr->restart_pending && (st = epoch_restart(S, pr, err)))
        return st;
    const uint64_t K = apical_engine_window_index(S); /* this boundary */
    const double W = apical_engine_window(S), T = (double)K * W;
    const int has_o = ps->output != (size_t)-1;
    for (size_t l = 0; l < pr->nl; l++)
        if ((st = apical_engine_sync(S, pr->hl[l].pop, T, err)))
            return st;
    if (has_o && (st = apical_engine_sync(S, ps->output, T, err)))
        return st;
    if (!pr->restored) {
        if ((st = restore(S, pr, err)))
            return st;
        pr->restored = 1;
    }
    switch (pr->stage) {
    case ST_EX_START: {
        if (pr->ckpt_pending && ps->checkpoint && (st = write_checkpoint(S, pr, err)))
            return st;
        pr->ckpt_pending = 0;
        for (size_t f = 0; f < ps->n_fb; f++)
            if (ps->fb[f].n_of && !ps->fb[f].learned && (st = symmetrize(S, pr, &ps->fb[f], err)))
                return st;
        if (pr->example >= ps->examples) {
            if (ps->test_examples && pr->tested_at != pr->example) {
                pr->stage = ST_TEST_START;
                pr->next_window = K;
            } else {
                pr->next_window = UINT64_MAX;
            }
            return APICAL_OK;
        }
        pr->k_ex0 = K;
        example_rng(&pr->rng, pr->spec->sim.seed, pr->example);
        double tf = phase_length(&pr->rng, &ps->forward);
        pr->k_fwd_end = pr->k_ex0 + windows_for(W, tf);
        apical_drive(S, pr, ps->apical_forward);
        for (uint64_t i = 0; has_o && i < pr->no; i++) {
            apical_engine_poke(S, ps->output, i, pr->o_gE, 0.0);
            apical_engine_poke(S, ps->output, i, pr->o_gI, 0.0);
        }
        if (ps->stim_input != (size_t)-1 &&
            (st = show_image(S, pr, ps->images, training_image(pr), T, err)))
            return st;
        pr->stage = ST_FWD_WIN;
        pr->next_window = pr->k_ex0 + windows_settle(W, ps->settle);
        if (pr->next_window >= pr->k_fwd_end)
            pr->next_window = pr->k_fwd_end - 1;
        return APICAL_OK;
    }
    case ST_FWD_WIN:
    case ST_TGT_WIN:
        for (size_t l = 0; l < pr->nl; l++) {
            layer_rt *h = &pr->hl[l];
            apical_engine_state_all(S, h->pop, pr->h_intA, h->intA0);
            apical_engine_state_all(S, h->pop, pr->h_intC, h->intC0);
        }
        if (has_o) {
            apical_engine_state_all(S, ps->output, pr->o_intC, pr->o_intC0);
            apical_engine_state_all(S, ps->output, pr->o_intL, pr->o_intL0);
        }
        if (pr->stage == ST_FWD_WIN)
            for (size_t k = 0; k < ps->n_learn; k++)
                defer_read(&pr->learn[k], READ_WIN0, T, 0.0);
        pr->win_t0 = T;
        pr->stage = pr->stage == ST_FWD_WIN ? ST_FWD_END : ST_TGT_END;
        pr->next_window = pr->stage == ST_FWD_END ? pr->k_fwd_end : pr->k_tgt_end;
        return APICAL_OK;
    case ST_FWD_END: {
        const double win = T - pr->win_t0;
        for (size_t l = 0; l < pr->nl; l++) {
            layer_rt *h = &pr->hl[l];
            apical_engine_state_all(S, h->pop, pr->h_intA, h->alpha_f);
            apical_engine_state_all(S, h->pop, pr->h_intC, h->cbar_f);
            for (uint64_t i = 0; i < h->n; i++) {
                h->alpha_f[i] = apical_sigma((h->alpha_f[i] - h->intA0[i]) / win);
                h->cbar_f[i] = (h->cbar_f[i] - h->intC0[i]) / win;
            }
        }
        if (has_o) {
            apical_engine_state_all(S, ps->output, pr->o_intC, pr->o_cbar_f);
            for (uint64_t i = 0; i < pr->no; i++)
                pr->o_cbar_f[i] = (pr->o_cbar_f[i] - pr->o_intC0[i]) / win;
        }
        for (size_t k = 0; k < ps->n_learn; k++)
            defer_read(&pr->learn[k], READ_PSP, T, win);
        /* target phase: teaching on, target apical drive */
        apical_drive(S, pr, ps->apical_target);
        if (has_o && (ps->labels || ps->stim_input != (size_t)-1)) {
            uint64_t label = ps->labels ? ps->labels[pr->example % ps->n_labels] : pr->label;
            for (uint64_t i = 0; i < pr->no; i++) {
                apical_engine_poke(S, ps->output, i, pr->o_gE, i == label ? 1.0 : 0.0);
                apical_engine_poke(S, ps->output, i, pr->o_gI, i == label ? 0.0 : 1.0);
            }
        }
        double tt = phase_length(&pr->rng, &ps->target);
        pr->k_tgt_end = K + windows_for(W, tt);
        pr->stage = ST_TGT_WIN;
        pr->next_window = K + windows_settle(W, ps->settle);
        if (pr->next_window >= pr->k_tgt_end)
            pr->next_window = pr->k_tgt_end - 1;
        return APICAL_OK;
    }
    case ST_TGT_END: {
        const double win = T - pr->win_t0;
        /* every layer's error first, then (sampled) angles on the weights
         * before this example's updates, then the updates */
        for (size_t l = 0; l < pr->nl; l++) {
            layer_rt *h = &pr->hl[l];
            apical_engine_state_all(S, h->pop, pr->h_intA, h->alpha_t);
            for (uint64_t i = 0; i < h->n; i++) {
                h->alpha_t[i] = apical_sigma((h->alpha_t[i] - h->intA0[i]) / win);
                h->E[i] = apical_plateau_error(h->alpha_f[i], h->alpha_t[i], h->cbar_f[i], h->kB,
                                               h->lambda);
            }
        }
        for (uint64_t i = 0; has_o && i < pr->no; i++) {
            double lam_t = (state(S, ps->output, i, pr->o_intL) - pr->o_intL0[i]) / win;
            pr->o_E[i] = apical_output_error(lam_t, pr->o_cbar_f[i], pr->o_kD, pr->o_lambda);
        }
        if (ps->angle_every && pr->example % ps->angle_every == 0 && (st = angles(S, pr, err)))
            return st;
        for (size_t k = 0; k < ps->n_learn; k++) {
            learn_rt *l = &pr->learn[k];
            const uint64_t nt = pr->spec->pops[l->tgt_pop].size;
            const double *E = l->layer < 0 ? pr->o_E : pr->hl[l->layer].E;
            const double g = -l->eta * l->P;
            for (uint64_t i = 0; i < nt; i++)
                l->gE[i] = g * E[i];
            /* learned feedback: Y's synapse o -> h gets the update of W's
             * h -> o, and both decay */
            const apical_feedback_spec *fb = l->fb >= 0 ? &ps->fb[l->fb] : NULL;
            const double keep = fb ? 1.0 - fb->decay : 1.0;
            apical_engine_rank1_update(S, l->proj, keep, l->psp_f, l->gE);
            if (fb)
                apical_engine_rank1_update(S, fb->proj, keep, l->gE, l->psp_f);
        }
        /* biases once per layer, whatever number of projections it learns */
        for (size_t l = 0; l <= pr->nl; l++) {
            const size_t pop = l < pr->nl ? pr->hl[l].pop : ps->output;
            double g = 0.0;
            for (size_t k = 0; k < ps->n_learn; k++)
                if (pr->learn[k].tgt_pop == pop) {
                    g = -pr->learn[k].eta * pr->learn[k].P;
                    break;
                }
            if (g == 0.0)
                continue;
            const double *E = l < pr->nl ? pr->hl[l].E : pr->o_E;
            const size_t kb = l < pr->nl ? pr->h_bias : pr->o_bias;
            apical_engine_state_all(S, pop, kb, pr->tmp);
            for (uint64_t i = 0; i < pr->spec->pops[pop].size; i++)
                pr->tmp[i] += g * E[i];
            apical_engine_poke_all(S, pop, kb, pr->tmp);
        }
        if ((st = plateau_out(pr, T, err)))
            return st;
        pr->example++;
        if (ps->images && (ps->stim_first + pr->example) % ps->images->n == 0)
            pr->ckpt_pending = pr->restart_pending = 1;
        pr->stage = test_follows(pr) ? ST_TEST_START : ST_EX_START;
        pr->next_window = K; /* what comes next starts now */
        return APICAL_OK;
    }
    case ST_TEST_START: {
        if (pr->test >= ps->test_examples) { /* the pass is over */
            pr->tested_at = pr->example;
            if ((st = curve_out(pr, T, err)))
                return st;
            pr->test = 0;
            pr->pass_wrong = 0;
            pr->stage = ST_EX_START;
            pr->next_window = K;
            return APICAL_OK;
        }
        const apical_idx_set *im = ps->test_images ? ps->test_images : ps->images;
        const size_t img = (size_t)((ps->test_first + pr->test) % im->n);
        if ((st = show_image(S, pr, im, img, T, err)))
            return st;
        apical_drive(S, pr, ps->apical_forward);
        for (uint64_t i = 0; i < pr->no; i++) {
            apical_engine_poke(S, ps->output, i, pr->o_gE, 0.0);
            apical_engine_poke(S, ps->output, i, pr->o_gI, 0.0);
        }
        pr->k_test_end = K + windows_for(W, ps->test_duration);
        uint64_t kw = windows_for(W, ps->test_window);
        pr->next_window = pr->k_test_end > K + kw ? pr->k_test_end - kw : K;
        pr->stage = ST_TEST_WIN;
        return APICAL_OK;
    }
    case ST_TEST_WIN:
        for (uint64_t i = 0; i < pr->no; i++)
            pr->o_intC0[i] = state(S, ps->output, i, pr->o_intC);
        pr->win_t0 = T;
        pr->stage = ST_TEST_END;
        pr->next_window = pr->k_test_end;
        return APICAL_OK;
    case ST_TEST_END: {
        uint64_t best = 0;
        double best_c = -HUGE_VAL;
        for (uint64_t i = 0; i < pr->no; i++) {
            double cbar = (state(S, ps->output, i, pr->o_intC) - pr->o_intC0[i]) / (T - pr->win_t0);
            if (cbar > best_c) {
                best_c = cbar;
                best = i;
            }
        }
        if ((st = classify_out(pr, T, best, err)))
            return st;
        pr->pass_wrong += best != pr->label;
        pr->test++;
        pr->test_total++;
        pr->stage = ST_TEST_START;
        pr->next_window = K;
        return APICAL_OK;
    }
    }
    return APICAL_OK;
}

static apical_status sd_step(void *rt, apical_sim *S, apical_error *err)
{
    protocol_rt *pr = rt;
    if (pr->nomem)
        return apical_error_set(err, APICAL_E_NOMEM, NULL,
                                "out of memory queueing the protocol's presynaptic spikes");
    /* Every window, not only in the phases that read the traces: the queue
     * then holds at most one delay's spikes, however long the run (test
     * presentations read no traces at all). */
    const uint64_t K = apical_engine_window_index(S); /* this boundary */
    const double W = apical_engine_window(S), T = (double)K * W;
    /* sd_during applied the `ready` arrivals: the engine calls `between`
     * (this step) only at t = 0 and after a whole window, and calls the
     * slices in every partition job of the window's first part, the part
     * that starts at its start (a window resumed after a stop inside it
     * was started with them; an interrupt stops before a window or ends
     * the run; every rank has a partition; a restart, an epoch's or a
     * resumed run's, leaves the engine at a window start and clears the
     * queue). At t = 0, the only boundary the engine may step twice (two
     * runs started there), no spike has arrived and ready is 0. Tested by
     * check_protocol's test_protocol_stops_inside_windows, and in the
     * engine by check_engine's test_during_once_per_window_and_slice. */
    for (size_t k = 0; k < pr->ps->n_learn; k++) {
        learn_rt *l = &pr->learn[k];
        finish_read(l);
        l->q_head += l->ready;
        l->q_n -= l->ready;
        l->ready = 0;
        if (!l->q_n)
            l->q_head = 0;
    }
    /* The arrivals up to T: applied here when a boundary reads the traces;
     * otherwise by the partition jobs of the next window (sd_during), in
     * parallel and before anything reads them (the next step). */
    if (pr->next_window == K)
        for (size_t k = 0; k < pr->ps->n_learn; k++)
            apply_arrivals(&pr->learn[k], T);
    /* the index read again: a resumed run's first boundary moves the
     * engine to its checkpoint's window */
    while (pr->next_window == apical_engine_window_index(S)) {
        apical_status st = boundary(S, pr, err);
        if (st)
            return st;
    }
    /* what the next window's slices apply: the arrivals up to this
     * boundary (after a restart, the window the engine moved to) */
    const double T_now = (double)apical_engine_window_index(S) * W;
    for (size_t k = 0; k < pr->ps->n_learn; k++) {
        learn_rt *l = &pr->learn[k];
        while (l->ready < l->q_n && l->q[l->q_head + l->ready].t <= T_now)
            l->ready++;
    }
    return APICAL_OK;
}

/* /plateaus/<hidden>: per example (rows) and hidden neuron (columns), one
 * table per hidden layer. */
static apical_status sd_output(void *rt, apical_h5 *h5, apical_error *err)
{
    protocol_rt *pr = rt;
    pr->h5 = h5;
    for (size_t l = 0; l < pr->nl; l++) {
        layer_rt *h = &pr->hl[l];
        /* uncompressed: deflate shrinks these values by ~1.2x, at ~0.3 ms
         * per example (written every example) */
        const apical_h5_column cols[] = {{"alpha_f", APICAL_H5_F64, (size_t)h->n, NULL, 1},
                                         {"alpha_t", APICAL_H5_F64, (size_t)h->n, NULL, 1},
                                         {"time", APICAL_H5_F64, 0, "ms", 0}};
        char path[300];
        snprintf(path, sizeof path, "plateaus/%s", pr->spec->pops[h->pop].name);
        apical_status st = apical_h5_table_add(
            h5, path,
            "per example (rows) and hidden neuron (columns): forward and target plateaus "
            "sigma(mean apical voltage); time = end of the example",
            cols, 3, 64, &h->table, err);
        if (st)
            return st;
    }
    const apical_segregated_spec *ps = pr->ps;
    apical_status st;
    if (ps->test_examples && ((st = class_table(pr, err)) || (st = curve_table(pr, err))))
        return st;
    if (ps->angle_every && (st = angle_table(pr, err)))
        return st;
    return APICAL_OK;
}

static int sd_learns(const void *spec, size_t j)
{
    const apical_segregated_spec *p = spec;
    for (size_t k = 0; k < p->n_learn; k++)
        if (p->learn[k].proj == j)
            return 1;
    for (size_t k = 0; k < p->n_fb; k++)
        if (p->fb[k].proj == j && p->fb[k].n_of)
            return 1;
    return 0;
}

static void sd_free_spec(void *spec)
{
    apical_segregated_spec_free(spec);
}

const apical_protocol_type apical_segregated_dendrites = {
    .name = "segregated_dendrites",
    .doc = "forward and target phases per example, plateau and output rules, any number of "
           "hidden layers (Guergiev, Lillicrap & Richards 2017)",
    .parse = sd_parse,
    .free_spec = sd_free_spec,
    .fit = sd_fit,
    .learns = sd_learns,
    .build = sd_build,
    .spikes = sd_spikes,
    .step = sd_step,
    .during = sd_during,
    .output = sd_output,
    .free_rt = sd_free_rt,
};

/* --- the protocol's own API ---------------------------------------------- */

static protocol_rt *rt_of(apical_protocol *p)
{
    return apical_protocol_type_of(p) == &apical_segregated_dendrites ? apical_protocol_state(p)
                                                                      : NULL;
}

void apical_segregated_on_plateau(apical_protocol *p, apical_plateau_fn fn, void *user)
{
    protocol_rt *pr = rt_of(p);
    if (pr) {
        pr->on_plateau = fn;
        pr->plateau_user = user;
    }
}

void apical_segregated_on_classify(apical_protocol *p, apical_classify_fn fn, void *user)
{
    protocol_rt *pr = rt_of(p);
    if (pr) {
        pr->on_classify = fn;
        pr->classify_user = user;
    }
}

void apical_segregated_on_curve(apical_protocol *p, apical_curve_fn fn, void *user)
{
    protocol_rt *pr = rt_of(p);
    if (pr) {
        pr->on_curve = fn;
        pr->curve_user = user;
    }
}

void apical_segregated_on_angle(apical_protocol *p, apical_angle_fn fn, void *user)
{
    protocol_rt *pr = rt_of(p);
    if (pr) {
        pr->on_angle = fn;
        pr->angle_user = user;
    }
}

size_t apical_segregated_arrivals_peak(const apical_protocol *p)
{
    protocol_rt *pr = rt_of((apical_protocol *)p);
    return pr ? pr->arrivals_peak : 0;
}
