/* The segregated-dendrite protocol (include/apical/segregated_dendrites.h),
 * type `segregated_dendrites`: its section of the network file, the run's
 * length, and at run time phase boundaries on the window grid, window
 * averages from the dendritic models' time integrals, presynaptic PSP
 * averages from the merged spikes, the plateau and output rules applied
 * once per example, and its HDF5 tables (/plateaus, /classification).
 *
 * It drives the engine from above through include/apical/control.h only. */
#include "apical/segregated_dendrites.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apical/control.h"
#include "apical/h5out.h"
#include "apical/limits.h"
#include "apical/loader.h"
#include "apical/model.h"
#include "apical/plateau.h"
#include "apical/rng.h"

void apical_segregated_spec_free(apical_segregated_spec *p)
{
    if (!p)
        return;
    free(p->labels);
    free(p->apical_forward);
    free(p->apical_target);
    free(p->learn);
    if (p->images) {
        apical_idx_free(p->images);
        free(p->images);
    }
    if (p->test_images) {
        apical_idx_free(p->test_images);
        free(p->test_images);
    }
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
    int to_output;
    uint64_t n_src, gid0; /* source neurons, their first global id */
    src_trace *tr;
    double *win0;  /* integral at the forward window start */
    double *psp_f; /* mean PSP over the forward window */
    arrival *q;    /* arrivals not yet applied, in time order: at most the
                      spikes of the last `delay` ms (drained every window) */
    size_t q_head, q_n, q_cap;
    double *E;     /* per target neuron, this example */
    double *gE;    /* -eta P E: the update is gE[tgt] psp_f[src] */
} learn_rt;

enum { ST_EX_START, ST_FWD_WIN, ST_FWD_END, ST_TGT_WIN, ST_TGT_END, ST_TEST_START, ST_TEST_WIN,
       ST_TEST_END };

typedef struct protocol_rt {
    const apical_net_spec *spec;
    const apical_segregated_spec *ps;
    uint32_t *perm;        /* stimulus shuffle: this epoch's image order */
    uint64_t perm_epoch;   /* which epoch perm is for, or UINT64_MAX */
    uint64_t example;
    int stage;
    uint64_t next_window; /* window index of the next boundary */
    uint64_t k_ex0, k_fwd_end, k_tgt_end;
    double win_t0; /* start of the current averaging window */
    uint64_t label; /* the current stimulus's label */
    uint64_t test;  /* test presentations done */
    uint64_t k_test_end;
    apical_rng rng;
    int nomem;      /* an arrival could not be queued */
    /* hidden layer */
    uint64_t nh;
    size_t h_C, h_intC, h_intA, h_abias, h_bias;
    double h_kB, h_lambda;
    double *h_intA0, *h_intC0, *alpha_f, *alpha_t, *cbar_f;
    /* output layer */
    uint64_t no;
    size_t o_C, o_intC, o_intL, o_gE, o_gI, o_bias;
    double o_kD, o_lambda;
    double *o_intC0, *o_intL0, *o_cbar_f;
    learn_rt *learn;
    size_t arrivals_peak; /* most arrivals queued in one learn_rt */
    /* observers and output tables */
    apical_plateau_fn on_plateau;
    void *plateau_user;
    apical_classify_fn on_classify;
    void *classify_user;
    apical_h5 *h5;
    int plateau_table, class_table; /* -1: not (yet) created */
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

static void protocol_rng(apical_rng *r, uint64_t seed)
{
    apical_rng_init(r, seed, apical_rng_stream_id(APICAL_RNG_RECORD, "protocol"), 0);
}

/* The run draws each example's forward then target length from the
 * protocol's stream and nothing else from it, so replaying the draws gives
 * the schedule exactly. Stops counting once past `stop` ms, or past the
 * longest run there can be (APICAL_MAX_TIME). */
double apical_segregated_end(const apical_segregated_spec *p, uint64_t seed, double window,
                           double stop)
{
    stop = fmin(stop, APICAL_MAX_TIME);
    /* k * window as the run computes boundary times; k saturates */
    uint64_t k = 0;
    const uint64_t per_test = windows_for(window, p->test_duration);
    if (p->test_examples > (UINT64_MAX / 2) / per_test)
        return HUGE_VAL;
    const uint64_t tests = p->test_examples * per_test;
    if (!(p->forward.wald_mean > 0.0) && !(p->target.wald_mean > 0.0)) {
        const uint64_t per = windows_for(window, p->forward.duration) +
                             windows_for(window, p->target.duration);
        if (p->examples > (UINT64_MAX / 2) / per)
            return HUGE_VAL;
        return (double)(p->examples * per + tests) * window;
    }
    /* Wald draws are positive: the fixed parts alone may already pass stop */
    const uint64_t least = windows_for(window, p->forward.duration) +
                           windows_for(window, p->target.duration);
    if ((double)p->examples * (double)least * window > stop)
        return (double)p->examples * (double)least * window;
    apical_rng r;
    protocol_rng(&r, seed);
    for (uint64_t ex = 0; ex < p->examples; ex++) {
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

/* Every label of an IDX set names an output neuron (a class): a larger one
 * would teach nothing and never be classified right. */
static apical_status check_labels(apical_ld *c, const apical_ynode *at, const char *path,
                                  const apical_idx_set *set, const apical_segregated_spec *p)
{
    if (p->output == (size_t)-1)
        return APICAL_OK;
    const apical_pop_spec *out = &c->spec->pops[p->output];
    for (size_t k = 0; k < set->n; k++)
        if (set->labels[k] >= out->size)
            return apical_ld_fail(c, at, APICAL_E_RANGE,
                        "%s: label %u of item %zu is not a neuron of the output population "
                        "'%s' (%llu neurons, one per class)",
                        path, set->labels[k], k, out->name, (unsigned long long)out->size);
    return APICAL_OK;
}

/* stimulus: {input: NAME, images: PATH, labels: PATH, max_rate: 200 Hz,
 * first: 0, limit: 0}: IDX images shown one per example through a Poisson
 * input over a population with one neuron per pixel. */
static apical_status parse_stimulus(apical_ld *c, const apical_ynode *n, apical_segregated_spec *p)
{
    static const char *const keys[] = {"input", "images", "labels", "max_rate", "first", "limit",
                                       "shuffle", NULL};
    const apical_ynode *v, *vi, *vl;
    const char *name = "", *ipath = "", *lpath = "";
    apical_status st;
    if ((st = apical_ld_need_kind(c, n, APICAL_Y_MAP, "stimulus")) != APICAL_OK ||
        (st = apical_ld_check_keys(c, n, keys, "stimulus")) != APICAL_OK ||
        (st = apical_ld_require(c, n, "input", "stimulus", &v)) != APICAL_OK ||
        (st = apical_ld_string(c, v, "input", &name)) != APICAL_OK)
        return st;
    for (size_t j = 0; j < c->spec->n_inputs; j++)
        if (strcmp(c->spec->inputs[j].name, name) == 0)
            p->stim_input = j;
    if (p->stim_input == (size_t)-1)
        return apical_ld_fail(c, v, APICAL_E_REFERENCE, "input '%s' is not defined", name);
    const apical_input_spec *in = &c->spec->inputs[p->stim_input];
    if (in->kind != APICAL_INPUT_POISSON || in->nodes)
        return apical_ld_fail(c, v, APICAL_E_INVALID, "the stimulus input '%s' must be a poisson input "
                    "to a whole population", name);
    if ((st = apical_ld_require(c, n, "images", "stimulus", &vi)) != APICAL_OK ||
        (st = apical_ld_string(c, vi, "images", &ipath)) != APICAL_OK ||
        (st = apical_ld_require(c, n, "labels", "stimulus", &vl)) != APICAL_OK ||
        (st = apical_ld_string(c, vl, "labels", &lpath)) != APICAL_OK)
        return st;
    p->stim_max_rate = 200.0;
    if ((v = apical_ld_get(n, "max_rate")) != NULL &&
        (st = apical_ld_bounded(c, v, "Hz", "max_rate", (apical_bounds){0.0, APICAL_MAX_RATE, 0},
                          &p->stim_max_rate)) != APICAL_OK)
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
    char *ip = apical_ld_path(c, ipath), *lp = apical_ld_path(c, lpath);
    if (!ip || !lp || !(p->images = calloc(1, sizeof *p->images))) {
        free(ip), free(lp);
        return apical_ld_oom(c);
    }
    apical_error e2;
    st = apical_idx_load(ip, lp, (size_t)limit, p->images, &e2);
    if (st) {
        const apical_ynode *at = e2.pos.file && !strcmp(e2.pos.file, lp) ? vl : vi;
        st = apical_ld_fail(c, at, st, "%s: %s%s", e2.pos.file ? e2.pos.file : ip, e2.msg,
                  st == APICAL_E_IO ? " (make mnist fetches the MNIST files)" : "");
    } else if (p->images->rows * p->images->cols != c->spec->pops[in->target].size) {
        st = apical_ld_fail(c, vi, APICAL_E_RANGE, "images have %zu pixels but population '%s' has %llu "
                  "neurons; the stimulus needs one neuron per pixel",
                  p->images->rows * p->images->cols, c->spec->pops[in->target].name,
                  (unsigned long long)c->spec->pops[in->target].size);
    } else {
        st = check_labels(c, vl, lp, p->images, p);
    }
    free(ip);
    free(lp);
    return st;
}

/* test: {examples, duration: 250 ms, window: 220 ms, images?, labels?,
 * first: 0}: forward-only presentations after training, classified by the
 * output's mean somatic voltage (needs output and stimulus). */
static apical_status parse_test(apical_ld *c, const apical_ynode *n, apical_segregated_spec *p)
{
    static const char *const keys[] = {"examples", "duration", "window", "images", "labels",
                                       "first", NULL};
    const apical_ynode *v, *vi = NULL, *vl = NULL;
    apical_status st;
    if ((st = apical_ld_need_kind(c, n, APICAL_Y_MAP, "test")) != APICAL_OK ||
        (st = apical_ld_check_keys(c, n, keys, "test")) != APICAL_OK)
        return st;
    if (p->output == (size_t)-1 || p->stim_input == (size_t)-1)
        return apical_ld_fail(c, n, APICAL_E_INVALID, "test needs an 'output' population and a 'stimulus'");
    p->test_duration = 250.0;
    p->test_window = 220.0;
    if ((st = apical_ld_require(c, n, "examples", "test", &v)) != APICAL_OK ||
        (st = apical_ld_uint(c, v, "examples", 1, APICAL_MAX_EXAMPLES, &p->test_examples)) != APICAL_OK)
        return st;
    if ((v = apical_ld_get(n, "duration")) != NULL &&
        (st = apical_ld_bounded(c, v, "ms", "duration", (apical_bounds){APICAL_MIN_TIME, APICAL_MAX_TIME, 0},
                          &p->test_duration)) != APICAL_OK)
        return st;
    if ((v = apical_ld_get(n, "window")) != NULL &&
        (st = apical_ld_bounded(c, v, "ms", "window", (apical_bounds){APICAL_MIN_TIME, APICAL_MAX_TIME, 0},
                          &p->test_window)) != APICAL_OK)
        return st;
    if (!(p->test_window <= p->test_duration))
        return apical_ld_fail(c, v, APICAL_E_RANGE, "window (%g ms) must not exceed duration (%g ms)",
                    p->test_window, p->test_duration);
    if ((v = apical_ld_get(n, "first")) != NULL &&
        (st = apical_ld_uint(c, v, "first", 0, UINT64_MAX, &p->test_first)) != APICAL_OK)
        return st;
    vi = apical_ld_get(n, "images");
    vl = apical_ld_get(n, "labels");
    if (!vi != !vl)
        return apical_ld_fail(c, vi ? vi : vl, APICAL_E_MISSING_KEY,
                    "test needs both 'images' and 'labels', or neither (the training set)");
    if (!vi)
        return APICAL_OK;
    const char *ipath = "", *lpath = "";
    if ((st = apical_ld_string(c, vi, "images", &ipath)) != APICAL_OK ||
        (st = apical_ld_string(c, vl, "labels", &lpath)) != APICAL_OK)
        return st;
    char *ip = apical_ld_path(c, ipath), *lp = apical_ld_path(c, lpath);
    if (!ip || !lp || !(p->test_images = calloc(1, sizeof *p->test_images))) {
        free(ip), free(lp);
        return apical_ld_oom(c);
    }
    apical_error e2;
    st = apical_idx_load(ip, lp, 0, p->test_images, &e2);
    if (st) {
        const apical_ynode *at = e2.pos.file && !strcmp(e2.pos.file, lp) ? vl : vi;
        st = apical_ld_fail(c, at, st, "%s: %s%s", e2.pos.file ? e2.pos.file : ip, e2.msg,
                  st == APICAL_E_IO ? " (make mnist fetches the MNIST files)" : "");
    } else if (p->test_images->rows * p->test_images->cols !=
               p->images->rows * p->images->cols) {
        st = apical_ld_fail(c, vi, APICAL_E_RANGE, "test images have %zu pixels, training images %zu",
                  p->test_images->rows * p->test_images->cols,
                  p->images->rows * p->images->cols);
    } else {
        st = check_labels(c, vl, lp, p->test_images, p);
    }
    free(ip);
    free(lp);
    return st;
}

static size_t proj_named(const apical_ld *c, const char *name)
{
    for (size_t j = 0; j < c->spec->n_projs; j++)
        if (strcmp(c->spec->projs[j].name, name) == 0)
            return j;
    return (size_t)-1;
}

/* feedback: {projection: Y, symmetric_to: W}: keep Y = W^T (both
 * all_to_all, Y from W's target population to W's source population).
 * feedback: {projection: Y, learned_from: W, decay: D}: Y learns with W's
 * updates transposed, both decaying by 1 - D per example (Kolen-Pollack). */
static apical_status parse_feedback(apical_ld *c, const apical_ynode *n, apical_segregated_spec *p)
{
    static const char *const keys[] = {"projection", "symmetric_to", "learned_from", "decay",
                                       NULL};
    const apical_ynode *vy, *vw, *vd;
    const char *ny = "", *nw = "";
    apical_status st;
    if ((st = apical_ld_need_kind(c, n, APICAL_Y_MAP, "feedback")) != APICAL_OK ||
        (st = apical_ld_check_keys(c, n, keys, "feedback")) != APICAL_OK ||
        (st = apical_ld_require(c, n, "projection", "feedback", &vy)) != APICAL_OK ||
        (st = apical_ld_string(c, vy, "projection", &ny)) != APICAL_OK)
        return st;
    const apical_ynode *vs = apical_ld_get(n, "symmetric_to"), *vl = apical_ld_get(n, "learned_from");
    if (!vs == !vl)
        return apical_ld_fail(c, n, vs ? APICAL_E_INVALID : APICAL_E_MISSING_KEY,
                    "feedback needs exactly one of 'symmetric_to' (Y = W^T) and 'learned_from' "
                    "(Y learns with W's updates)");
    vd = apical_ld_get(n, "decay");
    if (vd && vs)
        return apical_ld_fail(c, vd, APICAL_E_INVALID, "'decay' applies to 'learned_from' feedback only");
    vw = vs ? vs : vl;
    p->fb_learned = vl != NULL;
    if ((st = apical_ld_string(c, vw, vs ? "symmetric_to" : "learned_from", &nw)) != APICAL_OK)
        return st;
    if (vd && (st = apical_ld_bounded(c, vd, "1", "decay", (apical_bounds){0.0, 1.0, 0}, &p->fb_decay)) !=
                  APICAL_OK)
        return st;
    if ((p->fb_proj = proj_named(c, ny)) == (size_t)-1)
        return apical_ld_fail(c, vy, APICAL_E_REFERENCE, "projection '%s' is not defined", ny);
    if ((p->fb_of = proj_named(c, nw)) == (size_t)-1)
        return apical_ld_fail(c, vw, APICAL_E_REFERENCE, "projection '%s' is not defined", nw);
    const apical_proj_spec *y = &c->spec->projs[p->fb_proj], *w = &c->spec->projs[p->fb_of];
    if (y->conn != APICAL_CONN_ALL_TO_ALL || w->conn != APICAL_CONN_ALL_TO_ALL ||
        y->source != w->target || y->target != w->source)
        return apical_ld_fail(c, vy, APICAL_E_INVALID, "%s feedback needs '%s' and '%s' all_to_all "
                    "and in opposite directions between the same populations",
                    p->fb_learned ? "learned" : "symmetric", ny, nw);
    return APICAL_OK;
}

static apical_status sd_parse(apical_ld *c, const apical_ynode *n, void **out)
{
    static const char *const keys[] = {"type",    "hidden",  "output",       "examples",
                                       "forward", "target",  "settle",       "labels",
                                       "apical_drive", "plateau", "learning", "stimulus",
                                       "feedback", "test", NULL};
    static const char *const drive_keys[] = {"forward", "target", NULL};
    static const char *const learn_keys[] = {"projection", "eta", NULL};
    const apical_ynode *v;
    apical_status st;
    if ((st = apical_ld_need_kind(c, n, APICAL_Y_MAP, "protocol")) != APICAL_OK ||
        (st = apical_ld_check_keys(c, n, keys, "protocol")) != APICAL_OK)
        return st;
    apical_segregated_spec *p = calloc(1, sizeof *p);
    if (!p)
        return apical_ld_oom(c);
    *out = p;
    p->pos = apical_ld_pos(c, n);
    p->hidden = p->output = p->stim_input = p->fb_proj = p->fb_of = (size_t)-1;
    p->examples = 1;
    p->settle = 0.0;
    if ((v = apical_ld_get(n, "hidden")) != NULL &&
        ((st = apical_ld_pop_ref(c, v, "hidden", &p->hidden)) != APICAL_OK ||
         (st = need_model(c, v, p->hidden, "dendritic_hidden", "hidden")) != APICAL_OK))
        return st;
    if ((v = apical_ld_get(n, "output")) != NULL &&
        ((st = apical_ld_pop_ref(c, v, "output", &p->output)) != APICAL_OK ||
         (st = need_model(c, v, p->output, "dendritic_output", "output")) != APICAL_OK))
        return st;
    if (p->hidden == (size_t)-1 && p->output == (size_t)-1)
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
        if (p->hidden == (size_t)-1)
            return apical_ld_fail(c, d, APICAL_E_INVALID, "%s needs a 'hidden' population", what);
        if ((st = apical_ld_need_kind(c, d, APICAL_Y_MAP, what)) != APICAL_OK ||
            (st = apical_ld_check_keys(c, d, drive_keys, what)) != APICAL_OK)
            return st;
        uint64_t nh = c->spec->pops[p->hidden].size;
        if ((v = apical_ld_get(d, "forward")) != NULL &&
            (st = get_per_neuron(c, v, nh, plat != NULL, what, &p->apical_forward)) != APICAL_OK)
            return st;
        if ((v = apical_ld_get(d, "target")) != NULL &&
            (st = get_per_neuron(c, v, nh, plat != NULL, what, &p->apical_target)) != APICAL_OK)
            return st;
    }
    if ((v = apical_ld_get(n, "stimulus")) != NULL && (st = parse_stimulus(c, v, p)) != APICAL_OK)
        return st;
    if ((v = apical_ld_get(n, "feedback")) != NULL && (st = parse_feedback(c, v, p)) != APICAL_OK)
        return st;
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
            if (pj->target != p->hidden && pj->target != p->output)
                return apical_ld_fail(c, f, APICAL_E_INVALID, "projection '%s' must target the protocol's "
                            "hidden or output population", pname);
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
    if (p->fb_learned) {
        int learned = 0;
        for (size_t i = 0; i < p->n_learn; i++)
            learned |= p->learn[i].proj == p->fb_of;
        if (!learned)
            return apical_ld_fail(c, apical_ld_get(apical_ld_get(n, "feedback"), "learned_from"), APICAL_E_INVALID,
                        "feedback learned_from '%s' needs that projection under 'learning'",
                        c->spec->projs[p->fb_of].name);
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
        const double need = apical_segregated_end(p, spec->sim.seed, window, HUGE_VAL);
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
    protocol_rt *pr = calloc(1, sizeof *pr);
    if (!pr)
        return apical_error_set(err, APICAL_E_NOMEM, NULL, "out of memory");
    *out = pr;
    pr->spec = spec;
    pr->ps = ps;
    pr->plateau_table = pr->class_table = -1;
    protocol_rng(&pr->rng, spec->sim.seed);
    pr->perm_epoch = UINT64_MAX;
    if (ps->stim_shuffle && ps->images &&
        !(pr->perm = malloc((ps->images->n + 1) * sizeof *pr->perm)))
        return apical_error_set(err, APICAL_E_NOMEM, NULL, "out of memory");
    if (ps->hidden != (size_t)-1) {
        const apical_model_type *m = spec->pops[ps->hidden].model;
        pr->nh = spec->pops[ps->hidden].size;
        pr->h_C = field(m, "C", 1);
        pr->h_intC = field(m, "int_C", 1);
        pr->h_intA = field(m, "int_A", 1);
        pr->h_abias = field(m, "apical_bias", 1);
        pr->h_bias = field(m, "bias", 1);
        double gL = param(spec, ps->hidden, "g_L"), gB = param(spec, ps->hidden, "g_B"),
               gA = param(spec, ps->hidden, "g_A");
        pr->h_kB = gB / (gL + gB + gA);
        pr->h_lambda = param(spec, ps->hidden, "lambda_max") * 1e-3;
        pr->h_intA0 = calloc(pr->nh + 1, sizeof(double));
        pr->h_intC0 = calloc(pr->nh + 1, sizeof(double));
        pr->alpha_f = calloc(pr->nh + 1, sizeof(double));
        pr->alpha_t = calloc(pr->nh + 1, sizeof(double));
        pr->cbar_f = calloc(pr->nh + 1, sizeof(double));
        if (!pr->h_intA0 || !pr->h_intC0 || !pr->alpha_f || !pr->alpha_t || !pr->cbar_f)
            return apical_error_set(err, APICAL_E_NOMEM, NULL, "out of memory");
    }
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
        if (!pr->o_intC0 || !pr->o_intL0 || !pr->o_cbar_f)
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
        l->to_output = pj->target == ps->output;
        l->delay = pj->delay.a;
        l->tau_L = param(spec, pj->target, "tau_L");
        l->tau_s = param(spec, pj->target, "tau_s");
        double lam = l->to_output ? pr->o_lambda : pr->h_lambda;
        l->P = l->to_output ? 20.0 / (lam * lam) : 20.0 / lam;
        l->n_src = spec->pops[l->src_pop].size;
        l->gid0 = apical_engine_gid0(S, l->src_pop);
        l->tr = calloc(l->n_src + 1, sizeof *l->tr);
        l->win0 = calloc(l->n_src + 1, sizeof *l->win0);
        l->psp_f = calloc(l->n_src + 1, sizeof *l->psp_f);
        l->E = calloc(spec->pops[l->tgt_pop].size + 1, sizeof *l->E);
        l->gE = calloc(spec->pops[l->tgt_pop].size + 1, sizeof *l->gE);
        if (!l->tr || !l->win0 || !l->psp_f || !l->E || !l->gE)
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
    free(pr->h_intA0), free(pr->h_intC0), free(pr->alpha_f), free(pr->alpha_t), free(pr->cbar_f);
    free(pr->o_intC0), free(pr->o_intL0), free(pr->o_cbar_f);
    for (size_t k = 0; pr->learn && k < pr->ps->n_learn; k++) {
        learn_rt *l = &pr->learn[k];
        free(l->tr), free(l->win0), free(l->psp_f), free(l->q), free(l->E), free(l->gE);
    }
    free(pr->learn);
    free(pr->perm);
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
 * as traces_at would (advance that source to the arrival, add the spike),
 * so applying them early changes no result. */
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

/* Apply arrivals up to T, then bring every source trace to T. */
static void traces_at(learn_rt *l, double T)
{
    apply_arrivals(l, T);
    for (uint64_t j = 0; j < l->n_src; j++)
        trace_to(&l->tr[j], T, l->tau_L, l->tau_s);
}

/* Symmetric feedback: Y[h <- o] = W[o <- h]. */
typedef struct sym_ctx {
    double *dense; /* W as [source * n_tgt + target] */
    uint64_t n_tgt;
    int fill;
} sym_ctx;

static void sym_visit(void *user, uint64_t src, uint64_t tgt, double *w)
{
    sym_ctx *c = user;
    if (c->fill)
        c->dense[src * c->n_tgt + tgt] = *w;
    else /* a feedback synapse src = output o, tgt = hidden h */
        *w = c->dense[tgt * c->n_tgt + src];
}

static apical_status symmetrize(apical_sim *S, const protocol_rt *pr, apical_error *err)
{
    const apical_segregated_spec *ps = pr->ps;
    const apical_proj_spec *w = &pr->spec->projs[ps->fb_of];
    uint64_t ns = pr->spec->pops[w->source].size, nt = pr->spec->pops[w->target].size;
    sym_ctx c = {calloc(ns * nt + 1, sizeof(double)), nt, 1};
    if (!c.dense)
        return apical_error_set(err, APICAL_E_NOMEM, NULL, "out of memory");
    apical_engine_each_weight(S, ps->fb_of, sym_visit, &c);
    c.fill = 0;
    apical_engine_each_weight(S, ps->fb_proj, sym_visit, &c);
    free(c.dense);
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
        apical_rng r;
        apical_rng_init(&r, pr->spec->sim.seed,
                        apical_rng_stream_id(APICAL_RNG_RECORD, "protocol_shuffle"),
                        (uint32_t)epoch);
        for (uint64_t i = 0; i < n; i++)
            pr->perm[i] = (uint32_t)i;
        for (uint64_t i = n - 1; i > 0; i--) {
            const uint64_t j = (uint64_t)(apical_rng_uniform(&r) * (double)(i + 1));
            const uint32_t x = pr->perm[i];
            pr->perm[i] = pr->perm[j];
            pr->perm[j] = x;
        }
        pr->perm_epoch = epoch;
    }
    return pr->perm[k % n];
}

/* Present image `img` of `im` through the stimulus input from time T. */
static apical_status show_image(apical_sim *S, protocol_rt *pr, const apical_idx_set *im,
                                size_t img, double T, apical_error *err)
{
    const apical_segregated_spec *ps = pr->ps;
    const uint8_t *px = im->pixels + img * im->rows * im->cols;
    for (size_t k = 0; k < im->rows * im->cols; k++) {
        apical_status st = apical_engine_set_rate(S, ps->stim_input, k,
                                                  ps->stim_max_rate * px[k] / 255.0, T, err);
        if (st)
            return st;
    }
    pr->label = im->labels[img];
    return APICAL_OK;
}

/* An example's plateaus: to the observer and the output file. */
static apical_status plateau_out(protocol_rt *pr, double T, apical_error *err)
{
    if (pr->on_plateau)
        pr->on_plateau(pr->plateau_user, pr->example, T, pr->alpha_f, pr->alpha_t, pr->nh);
    if (pr->plateau_table < 0)
        return APICAL_OK;
    const void *row[] = {pr->alpha_f, pr->alpha_t, &T};
    return apical_h5_table_append(pr->h5, pr->plateau_table, row, err);
}

/* A test presentation's class: /classification is created with its first
 * row, so a run without test presentations has none. */
static apical_status classify_out(protocol_rt *pr, double T, uint64_t best, apical_error *err)
{
    static const apical_h5_column cols[] = {{"label", APICAL_H5_U16, 0, NULL},
                                            {"predicted", APICAL_H5_U16, 0, NULL},
                                            {"time", APICAL_H5_F64, 0, "ms"}};
    apical_status st;
    if (pr->on_classify)
        pr->on_classify(pr->classify_user, pr->test, T, pr->label, best);
    if (!pr->h5)
        return APICAL_OK;
    if (pr->class_table < 0 &&
        (st = apical_h5_table_add(pr->h5, "classification",
                                  "protocol test presentations: the image's label and the output "
                                  "neuron with the highest mean somatic voltage over the test "
                                  "window",
                                  cols, 3, 1024, &pr->class_table, err)))
        return st;
    const uint16_t label = (uint16_t)pr->label, pred = (uint16_t)best;
    const void *row[] = {&label, &pred, &T};
    return apical_h5_table_append(pr->h5, pr->class_table, row, err);
}

static apical_status boundary(apical_sim *S, protocol_rt *pr, apical_error *err)
{
    const apical_segregated_spec *ps = pr->ps;
    const uint64_t K = apical_engine_window_index(S); /* this boundary */
    const double W = apical_engine_window(S), T = (double)K * W;
    apical_status st;
    const int has_h = ps->hidden != (size_t)-1, has_o = ps->output != (size_t)-1;
    if ((has_h && (st = apical_engine_sync(S, ps->hidden, T, err))) ||
        (has_o && (st = apical_engine_sync(S, ps->output, T, err))))
        return st;
    switch (pr->stage) {
    case ST_EX_START: {
        if (ps->fb_proj != (size_t)-1 && !ps->fb_learned && (st = symmetrize(S, pr, err)))
            return st;
        if (pr->example >= ps->examples) {
            if (pr->test < ps->test_examples) {
                pr->stage = ST_TEST_START;
                pr->next_window = K;
            } else {
                pr->next_window = UINT64_MAX;
            }
            return APICAL_OK;
        }
        pr->k_ex0 = K;
        double tf = phase_length(&pr->rng, &ps->forward);
        pr->k_fwd_end = pr->k_ex0 + windows_for(W, tf);
        for (uint64_t i = 0; has_h && ps->apical_forward && i < pr->nh; i++)
            apical_engine_poke(S, ps->hidden, i, pr->h_abias, ps->apical_forward[i]);
        for (uint64_t i = 0; has_o && i < pr->no; i++) {
            apical_engine_poke(S, ps->output, i, pr->o_gE, 0.0);
            apical_engine_poke(S, ps->output, i, pr->o_gI, 0.0);
        }
        if (ps->stim_input != (size_t)-1 &&
            (st = show_image(S, pr, ps->images,
                             training_image(pr), T, err)))
            return st;
        pr->stage = ST_FWD_WIN;
        pr->next_window = pr->k_ex0 + windows_settle(W, ps->settle);
        if (pr->next_window >= pr->k_fwd_end)
            pr->next_window = pr->k_fwd_end - 1;
        return APICAL_OK;
    }
    case ST_FWD_WIN:
    case ST_TGT_WIN:
        for (uint64_t i = 0; has_h && i < pr->nh; i++) {
            pr->h_intA0[i] = state(S, ps->hidden, i, pr->h_intA);
            pr->h_intC0[i] = state(S, ps->hidden, i, pr->h_intC);
        }
        for (uint64_t i = 0; has_o && i < pr->no; i++) {
            pr->o_intC0[i] = state(S, ps->output, i, pr->o_intC);
            pr->o_intL0[i] = state(S, ps->output, i, pr->o_intL);
        }
        if (pr->stage == ST_FWD_WIN)
            for (size_t k = 0; k < ps->n_learn; k++) {
                learn_rt *l = &pr->learn[k];
                traces_at(l, T);
                for (uint64_t j = 0; j < l->n_src; j++)
                    l->win0[j] = l->tr[j].integral;
            }
        pr->win_t0 = T;
        pr->stage = pr->stage == ST_FWD_WIN ? ST_FWD_END : ST_TGT_END;
        pr->next_window = pr->stage == ST_FWD_END ? pr->k_fwd_end : pr->k_tgt_end;
        return APICAL_OK;
    case ST_FWD_END: {
        const double win = T - pr->win_t0;
        for (uint64_t i = 0; has_h && i < pr->nh; i++) {
            double abar = (state(S, ps->hidden, i, pr->h_intA) - pr->h_intA0[i]) / win;
            pr->alpha_f[i] = apical_sigma(abar);
            pr->cbar_f[i] = (state(S, ps->hidden, i, pr->h_intC) - pr->h_intC0[i]) / win;
        }
        for (uint64_t i = 0; has_o && i < pr->no; i++)
            pr->o_cbar_f[i] = (state(S, ps->output, i, pr->o_intC) - pr->o_intC0[i]) / win;
        for (size_t k = 0; k < ps->n_learn; k++) {
            learn_rt *l = &pr->learn[k];
            traces_at(l, T);
            for (uint64_t j = 0; j < l->n_src; j++)
                l->psp_f[j] = (l->tr[j].integral - l->win0[j]) / win;
        }
        /* target phase: teaching on, target apical drive */
        for (uint64_t i = 0; has_h && ps->apical_target && i < pr->nh; i++)
            apical_engine_poke(S, ps->hidden, i, pr->h_abias, ps->apical_target[i]);
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
        for (uint64_t i = 0; has_h && i < pr->nh; i++) {
            double abar = (state(S, ps->hidden, i, pr->h_intA) - pr->h_intA0[i]) / win;
            pr->alpha_t[i] = apical_sigma(abar);
        }
        for (size_t k = 0; k < ps->n_learn; k++) {
            learn_rt *l = &pr->learn[k];
            const uint64_t nt = pr->spec->pops[l->tgt_pop].size;
            for (uint64_t i = 0; i < nt; i++) {
                if (l->to_output) {
                    double lam_t =
                        (state(S, ps->output, i, pr->o_intL) - pr->o_intL0[i]) / win;
                    l->E[i] = apical_output_error(lam_t, pr->o_cbar_f[i], pr->o_kD, pr->o_lambda);
                } else {
                    l->E[i] = apical_plateau_error(pr->alpha_f[i], pr->alpha_t[i], pr->cbar_f[i],
                                                   pr->h_kB, pr->h_lambda);
                }
            }
            const double g = -l->eta * l->P;
            for (uint64_t i = 0; i < nt; i++)
                l->gE[i] = g * l->E[i];
            /* learned feedback: Y's synapse o -> h gets the update of W's
             * h -> o, and both decay */
            const int fb = ps->fb_learned && l->proj == ps->fb_of;
            const double keep = fb ? 1.0 - ps->fb_decay : 1.0;
            apical_engine_rank1_update(S, l->proj, keep, l->psp_f, l->gE);
            if (fb)
                apical_engine_rank1_update(S, ps->fb_proj, keep, l->gE, l->psp_f);
            size_t kb = l->to_output ? pr->o_bias : pr->h_bias;
            for (uint64_t i = 0; i < nt; i++)
                apical_engine_poke(S, l->tgt_pop, i, kb, state(S, l->tgt_pop, i, kb) + l->gE[i]);
        }
        if (has_h && (st = plateau_out(pr, T, err)))
            return st;
        pr->example++;
        pr->stage = ST_EX_START;
        pr->next_window = K; /* the next example starts now */
        return APICAL_OK;
    }
    case ST_TEST_START: {
        if (pr->test >= ps->test_examples) {
            pr->next_window = UINT64_MAX;
            return APICAL_OK;
        }
        const apical_idx_set *im = ps->test_images ? ps->test_images : ps->images;
        const size_t img = (size_t)((ps->test_first + pr->test) % im->n);
        if ((st = show_image(S, pr, im, img, T, err)))
            return st;
        for (uint64_t i = 0; has_h && ps->apical_forward && i < pr->nh; i++)
            apical_engine_poke(S, ps->hidden, i, pr->h_abias, ps->apical_forward[i]);
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
        pr->test++;
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
    for (size_t k = 0; k < pr->ps->n_learn; k++)
        apply_arrivals(&pr->learn[k], T);
    while (pr->next_window == K) {
        apical_status st = boundary(S, pr, err);
        if (st)
            return st;
    }
    return APICAL_OK;
}

/* /plateaus/<hidden>: per example (rows) and hidden neuron (columns). */
static apical_status sd_output(void *rt, apical_h5 *h5, apical_error *err)
{
    protocol_rt *pr = rt;
    pr->h5 = h5;
    if (pr->ps->hidden == (size_t)-1)
        return APICAL_OK;
    const apical_h5_column cols[] = {{"alpha_f", APICAL_H5_F64, (size_t)pr->nh, NULL},
                                     {"alpha_t", APICAL_H5_F64, (size_t)pr->nh, NULL},
                                     {"time", APICAL_H5_F64, 0, "ms"}};
    char path[300];
    snprintf(path, sizeof path, "plateaus/%s", pr->spec->pops[pr->ps->hidden].name);
    return apical_h5_table_add(h5, path,
                               "per example (rows) and hidden neuron (columns): forward and "
                               "target plateaus sigma(mean apical voltage); time = end of the "
                               "example",
                               cols, 3, 64, &pr->plateau_table, err);
}

static int sd_learns(const void *spec, size_t j)
{
    const apical_segregated_spec *p = spec;
    for (size_t k = 0; k < p->n_learn; k++)
        if (p->learn[k].proj == j)
            return 1;
    return 0;
}

static void sd_free_spec(void *spec)
{
    apical_segregated_spec_free(spec);
}

const apical_protocol_type apical_segregated_dendrites = {
    .name = "segregated_dendrites",
    .doc = "forward and target phases per example, plateau and output rules (Guergiev, "
           "Lillicrap & Richards 2017)",
    .parse = sd_parse,
    .free_spec = sd_free_spec,
    .fit = sd_fit,
    .learns = sd_learns,
    .build = sd_build,
    .spikes = sd_spikes,
    .step = sd_step,
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

size_t apical_segregated_arrivals_peak(const apical_protocol *p)
{
    protocol_rt *pr = rt_of((apical_protocol *)p);
    return pr ? pr->arrivals_peak : 0;
}
