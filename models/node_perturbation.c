/* Node perturbation (include/apical/node_perturbation.h): a protocol that
 * learns from a scalar reward and the correlation of its changes with
 * random perturbations of the units, the estimator whose variance grows with
 * the number of perturbed units (the seed lecture shared/seeds/001). It
 * drives the engine only through include/apical/control.h, between windows:
 * Poisson rates for the image, the perturbed units' `bias`, window means of
 * the output's somatic voltage (`int_C`), and rank-one weight updates. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>

#include "apical/control.h"
#include "apical/h5out.h"
#include "apical/limits.h"
#include "apical/loader.h"
#include "apical/mnist_stimulus.h"
#include "apical/node_perturbation.h"
#include "apical/plateau.h"
#include "apical/rng.h"

/* ---------------------------------------------------------------- estimator */

apical_status apical_np_draw(uint64_t seed, uint64_t example, uint64_t first, double *xi,
                             size_t n)
{
    gsl_rng *g = apical_rng_gsl_alloc();
    if (!g)
        return APICAL_E_NOMEM;
    /* one substream per example; units by position from `first`, so that
     * every unit's draw is the same whatever else is perturbed after it */
    apical_rng_init(apical_rng_gsl_state(g), seed,
                    apical_rng_stream_id(APICAL_RNG_RECORD, "node_perturbation"),
                    (uint32_t)example);
    for (uint64_t k = 0; k < first; k++)
        (void)gsl_ran_gaussian_ziggurat(g, 1.0);
    for (size_t i = 0; i < n; i++)
        xi[i] = gsl_ran_gaussian_ziggurat(g, 1.0);
    gsl_rng_free(g);
    return APICAL_OK;
}

void apical_np_estimate(const double *xi, size_t n, double sigma, double reward,
                        double baseline, double *g)
{
    const double s = (reward - baseline) / sigma;
    for (size_t i = 0; i < n; i++)
        g[i] = s * xi[i];
}

/* -------------------------------------------------------------------- parse */

static apical_status need_dendritic(apical_ld *c, const apical_ynode *at, size_t pop,
                                    const char *role, int output_only)
{
    const apical_pop_spec *p = &c->spec->pops[pop];
    const int out = strcmp(p->model->name, "dendritic_output") == 0;
    if (out || (!output_only && strcmp(p->model->name, "dendritic_hidden") == 0))
        return APICAL_OK;
    return apical_ld_fail(c, at, APICAL_E_INVALID, "the protocol's %s population must use model "
                          "%s; '%s' uses %s", role,
                          output_only ? "dendritic_output" : "dendritic_hidden or dendritic_output",
                          p->name, p->model->name);
}

/* An IDX pair {images, labels} at map n, one pixel per stimulus neuron and
 * every label an output neuron. */
static apical_status parse_images(apical_ld *c, const apical_ynode *n, const char *where,
                                  size_t n_pixels, size_t n_classes, apical_idx_set **out)
{
    const apical_mnist_classes classes = {n_classes, "the output population", NULL};
    const apical_ynode *vi = NULL;
    apical_status st = apical_mnist_require(c, n, where, 0, &classes, out, &vi, NULL);
    if (st)
        return st;
    if ((*out)->rows * (*out)->cols != n_pixels)
        return apical_ld_fail(c, vi, APICAL_E_RANGE, "images have %zu pixels but the stimulus "
                              "population has %zu neurons (one per pixel)",
                              (*out)->rows * (*out)->cols, n_pixels);
    return APICAL_OK;
}

/* stimulus: {input: NAME, images: PATH, labels: PATH, max_rate: 200 Hz} */
static apical_status parse_stimulus(apical_ld *c, const apical_ynode *n, apical_np_spec *p)
{
    static const char *const keys[] = {"input", "images", "labels", "max_rate", NULL};
    apical_status st;
    if ((st = apical_ld_need_kind(c, n, APICAL_Y_MAP, "stimulus")) != APICAL_OK ||
        (st = apical_ld_check_keys(c, n, keys, "stimulus")) != APICAL_OK ||
        (st = apical_mnist_parse_input(c, n, &p->stim_input, &p->stim_max_rate)) != APICAL_OK)
        return st;
    const apical_input_spec *in = &c->spec->inputs[p->stim_input];
    return parse_images(c, n, "stimulus", (size_t)c->spec->pops[in->target].size,
                        (size_t)c->spec->pops[p->output].size, &p->images);
}

/* test: {examples, every: 0, duration: 250 ms, window: 220 ms, images, labels} */
static apical_status parse_test(apical_ld *c, const apical_ynode *n, apical_np_spec *p)
{
    static const char *const keys[] = {"examples", "every", "duration", "window", "images",
                                       "labels", NULL};
    const apical_ynode *v;
    apical_status st;
    if ((st = apical_ld_need_kind(c, n, APICAL_Y_MAP, "test")) != APICAL_OK ||
        (st = apical_ld_check_keys(c, n, keys, "test")) != APICAL_OK ||
        (st = apical_mnist_parse_test_pass(c, n, &p->test_examples, &p->test_duration,
                                           &p->test_window)) != APICAL_OK)
        return st;
    if ((v = apical_ld_get(n, "every")) != NULL &&
        (st = apical_ld_uint(c, v, "every", 1, APICAL_MAX_EXAMPLES, &p->test_every)))
        return st;
    const apical_input_spec *in = &c->spec->inputs[p->stim_input];
    return parse_images(c, n, "test", (size_t)c->spec->pops[in->target].size,
                        (size_t)c->spec->pops[p->output].size, &p->test_images);
}

static int perturbed(const apical_np_spec *p, size_t pop)
{
    for (size_t k = 0; k < p->n_perturb; k++)
        if (p->perturb[k] == pop)
            return 1;
    return 0;
}

/* learning: [{projection: W, eta: E}, ...], each onto a perturbed population */
static apical_status parse_learning(apical_ld *c, const apical_ynode *n, apical_np_spec *p)
{
    static const char *const keys[] = {"projection", "eta", NULL};
    apical_status st;
    if ((st = apical_ld_need_kind(c, n, APICAL_Y_SEQ, "learning")) != APICAL_OK)
        return st;
    if (!(p->learn = calloc(n->n_kids + 1, sizeof *p->learn)))
        return apical_ld_oom(c);
    for (size_t k = 0; k < n->n_kids; k++) {
        const apical_ynode *it = n->kids[k], *vp, *ve;
        const char *name = "";
        if ((st = apical_ld_need_kind(c, it, APICAL_Y_MAP, "a learning entry")) != APICAL_OK ||
            (st = apical_ld_check_keys(c, it, keys, "a learning entry")) != APICAL_OK ||
            (st = apical_ld_require(c, it, "projection", "a learning entry", &vp)) != APICAL_OK ||
            (st = apical_ld_string(c, vp, "projection", &name)) != APICAL_OK ||
            (st = apical_ld_require(c, it, "eta", "a learning entry", &ve)) != APICAL_OK ||
            (st = apical_ld_bounded(c, ve, "1", "eta", (apical_bounds){0.0, 1e6, 0},
                                    &p->learn[k].eta)) != APICAL_OK)
            return st;
        size_t j = (size_t)-1;
        for (size_t m = 0; m < c->spec->n_projs; m++)
            if (strcmp(c->spec->projs[m].name, name) == 0)
                j = m;
        if (j == (size_t)-1)
            return apical_ld_fail(c, vp, APICAL_E_REFERENCE, "projection '%s' is not defined",
                                  name);
        const apical_proj_spec *pj = &c->spec->projs[j];
        if (!perturbed(p, pj->target))
            return apical_ld_fail(c, vp, APICAL_E_INVALID, "projection '%s' ends on '%s', which "
                                  "is not perturbed: node perturbation learns only the inputs "
                                  "of perturbed units", name, c->spec->pops[pj->target].name);
        if (pj->receptor != 0)
            return apical_ld_fail(c, vp, APICAL_E_INVALID, "projection '%s' must end on the "
                                  "basal receptor: the perturbation acts on the basal input",
                                  name);
        for (size_t m = 0; m < k; m++)
            if (p->learn[m].proj == j)
                return apical_ld_fail(c, vp, APICAL_E_INVALID, "projection '%s' is already "
                                      "learned", name);
        p->learn[k].proj = j;
        p->n_learn = k + 1;
    }
    return APICAL_OK;
}

static void np_free_spec(void *spec)
{
    apical_np_spec *p = spec;
    if (!p)
        return;
    apical_mnist_free(p->images);
    apical_mnist_free(p->test_images);
    free(p->learn);
    free(p);
}

static apical_status np_parse(apical_ld *c, const apical_ynode *n, void **out)
{
    static const char *const keys[] = {"type",     "perturb", "output",   "examples", "duration",
                                       "settle",   "noise",   "stimulus", "learning", "test",
                                       NULL};
    const apical_ynode *v;
    apical_status st;
    if ((st = apical_protocol_parse_open(c, n, keys, sizeof(apical_np_spec), offsetof(apical_np_spec, pos),
                                         out)) != APICAL_OK)
        return st;
    apical_np_spec *p = *out;
    p->stim_input = (size_t)-1;
    if ((st = apical_ld_require(c, n, "output", "protocol", &v)) != APICAL_OK ||
        (st = apical_ld_pop_ref(c, v, "output", &p->output)) != APICAL_OK ||
        (st = need_dendritic(c, v, p->output, "output", 1)) != APICAL_OK)
        return st;
    if ((st = apical_ld_require(c, n, "perturb", "protocol", &v)) != APICAL_OK)
        return st;
    const size_t nk = v->kind == APICAL_Y_SEQ ? v->n_kids : 1;
    if (nk == 0 || nk > APICAL_NP_MAX_POPS)
        return apical_ld_fail(c, v, APICAL_E_RANGE, "perturb names 1 to %d populations",
                              APICAL_NP_MAX_POPS);
    for (size_t k = 0; k < nk; k++) {
        const apical_ynode *vk = v->kind == APICAL_Y_SEQ ? v->kids[k] : v;
        size_t pop;
        if ((st = apical_ld_pop_ref(c, vk, "perturb", &pop)) != APICAL_OK ||
            (st = need_dendritic(c, vk, pop, "perturbed", 0)) != APICAL_OK)
            return st;
        if (perturbed(p, pop))
            return apical_ld_fail(c, vk, APICAL_E_INVALID, "'%s' is already perturbed",
                                  c->spec->pops[pop].name);
        p->perturb[p->n_perturb++] = pop;
    }
    p->examples = 1;
    p->duration = 50.0;
    p->settle = 30.0;
    p->noise = 0.5;
    const apical_bounds times = {APICAL_MIN_TIME, APICAL_MAX_TIME, 0};
    if ((v = apical_ld_get(n, "examples")) != NULL &&
        (st = apical_ld_uint(c, v, "examples", 1, APICAL_MAX_EXAMPLES, &p->examples)))
        return st;
    if ((v = apical_ld_get(n, "duration")) != NULL &&
        (st = apical_ld_bounded(c, v, "ms", "duration", times, &p->duration)))
        return st;
    if ((v = apical_ld_get(n, "settle")) != NULL &&
        (st = apical_ld_bounded(c, v, "ms", "settle", (apical_bounds){0.0, APICAL_MAX_TIME, 0},
                                &p->settle)))
        return st;
    if (!(p->settle < p->duration))
        return apical_ld_fail(c, v ? v : n, APICAL_E_RANGE, "settle (%g ms) must be shorter "
                              "than duration (%g ms): the reward is averaged after it",
                              p->settle, p->duration);
    if ((v = apical_ld_get(n, "noise")) != NULL &&
        (st = apical_ld_bounded(c, v, "1", "noise", (apical_bounds){0.0, 1e3, APICAL_LO_OPEN},
                                &p->noise)))
        return st;
    if ((st = apical_ld_require(c, n, "stimulus", "protocol", &v)) != APICAL_OK ||
        (st = parse_stimulus(c, v, p)) != APICAL_OK)
        return st;
    if ((v = apical_ld_get(n, "learning")) != NULL && (st = parse_learning(c, v, p)) != APICAL_OK)
        return st;
    if ((v = apical_ld_get(n, "test")) != NULL && (st = parse_test(c, v, p)) != APICAL_OK)
        return st;
    return APICAL_OK;
}

static int np_learns(const void *spec, size_t j)
{
    const apical_np_spec *p = spec;
    for (size_t k = 0; k < p->n_learn; k++)
        if (p->learn[k].proj == j)
            return 1;
    return 0;
}

/* ------------------------------------------------------------------ timing */

static double grid(double t, double w)
{
    return ceil(t / w - 1e-9) * w;
}

static uint64_t test_passes(const apical_np_spec *p)
{
    if (!p->test_examples)
        return 0;
    const uint64_t during = p->test_every ? (p->examples - 1) / p->test_every : 0;
    return during + 1;
}

/* When the last presentation ends on a window grid of w ms. */
static double np_end(const apical_np_spec *p, double w)
{
    return (double)p->examples * 2.0 * grid(p->duration, w) +
           (double)test_passes(p) * (double)p->test_examples * grid(p->test_duration, w);
}

static double min_delay(const apical_net_spec *spec)
{
    double window = HUGE_VAL;
    for (size_t j = 0; j < spec->n_projs; j++) {
        const apical_dist *d = &spec->projs[j].delay;
        const double lo = d->kind == APICAL_DIST_NORMAL && isfinite(d->lo) ? d->lo : d->a;
        if (lo > 0.0 && lo < window)
            window = lo;
    }
    return window == HUGE_VAL ? 1.0 : window;
}

static apical_status check_length(const apical_net_spec *spec, double window, apical_error *err)
{
    const apical_np_spec *p = spec->protocol;
    const double need = np_end(p, window);
    if (spec->sim.duration >= need * (1.0 - 1e-12))
        return APICAL_OK;
    return apical_error_set(err, APICAL_E_RANGE, &p->pos,
                            "simulation.duration (%g ms) is shorter than the protocol (%g ms: "
                            "%llu examples of two %g ms passes, %llu test presentations); omit "
                            "'duration' to end the run with the protocol",
                            spec->sim.duration, need, (unsigned long long)p->examples,
                            grid(p->duration, window),
                            (unsigned long long)(test_passes(p) * p->test_examples));
}

static apical_status np_fit(apical_net_spec *spec, apical_error *err)
{
    const apical_np_spec *p = spec->protocol;
    const double window = min_delay(spec);
    if (spec->sim.duration_auto) {
        const double need = np_end(p, window);
        if (!(need <= APICAL_MAX_TIME))
            return apical_error_set(err, APICAL_E_RANGE, &p->pos, "the protocol needs %g ms, "
                                    "more than the longest run apical can time (%g ms)", need,
                                    APICAL_MAX_TIME);
        spec->sim.duration = need;
        return APICAL_OK;
    }
    return check_length(spec, window, err);
}

/* ----------------------------------------------------------------- run time */

typedef enum { SEG_CLEAN, SEG_PERTURBED, SEG_TEST, SEG_DONE } seg_kind;

typedef struct np_pop_rt {
    size_t pop;
    uint64_t n, gid0;
    size_t k_bias;
    double *bias0; /* biases before the perturbation */
    double *xi, *g;
} np_pop_rt;

typedef struct np_rt {
    const apical_net_spec *spec;
    const apical_np_spec *ps;
    np_pop_rt *pp;
    size_t np;
    double *xi_all; /* every perturbed unit's draw, in perturb order */
    uint64_t n_units;
    /* output */
    uint64_t no;
    size_t o_intC;
    double *o_int0, *o_mean, *o_clean; /* o_clean: the clean pass's means */
    /* spikes per global id in the averaging window [count_from, count_to) */
    double *counts;
    uint64_t n_gid;
    double count_from, count_to;
    double *rate_src, *step_tgt; /* scratch for the rank-one updates */
    /* schedule */
    seg_kind seg;
    double t_meas, t_end;
    int measuring;
    uint64_t example, test, pass_wrong;
    unsigned label;
    double r_clean;
    /* output file and observers */
    apical_h5 *h5;
    int reward_table, curve_table;
    apical_np_reward_fn on_reward;
    void *reward_user;
    apical_np_curve_fn on_curve;
    void *curve_user;
    apical_np_estimate_fn on_estimate;
    void *estimate_user;
} np_rt;

static void np_free_rt(void *rt)
{
    np_rt *r = rt;
    if (!r)
        return;
    for (size_t k = 0; r->pp && k < r->np; k++)
        free(r->pp[k].bias0), free(r->pp[k].g);
    free(r->pp);
    free(r->xi_all);
    free(r->o_int0), free(r->o_mean), free(r->o_clean), free(r->counts), free(r->rate_src), free(r->step_tgt);
    free(r);
}

static apical_status np_build(const apical_net_spec *spec, apical_sim *S, void **out,
                              apical_error *err)
{
    const apical_np_spec *ps = spec->protocol;
    apical_status st = check_length(spec, apical_engine_window(S), err);
    if (st)
        return st;
    np_rt *r = calloc(1, sizeof *r);
    if (!r)
        return apical_error_set(err, APICAL_E_NOMEM, NULL, "out of memory");
    *out = r;
    r->spec = spec;
    r->ps = ps;
    r->reward_table = r->curve_table = -1;
    r->np = ps->n_perturb;
    uint64_t largest = 1;
    for (size_t pop = 0; pop < spec->n_pops; pop++) {
        r->n_gid = apical_engine_gid0(S, pop) + spec->pops[pop].size;
        if (spec->pops[pop].size > largest)
            largest = spec->pops[pop].size;
    }
    if (!(r->pp = calloc(r->np, sizeof *r->pp)))
        return apical_error_set(err, APICAL_E_NOMEM, NULL, "out of memory");
    for (size_t k = 0; k < r->np; k++) {
        np_pop_rt *q = &r->pp[k];
        const apical_model_type *m = spec->pops[ps->perturb[k]].model;
        q->pop = ps->perturb[k];
        q->n = spec->pops[q->pop].size;
        q->gid0 = apical_engine_gid0(S, q->pop);
        q->k_bias = apical_field_index(m->state, m->n_state, "bias");
        r->n_units += q->n;
        if (!(q->bias0 = calloc(q->n, sizeof(double))) || !(q->g = calloc(q->n, sizeof(double))))
            return apical_error_set(err, APICAL_E_NOMEM, NULL, "out of memory");
    }
    if (!(r->xi_all = calloc(r->n_units, sizeof(double))))
        return apical_error_set(err, APICAL_E_NOMEM, NULL, "out of memory");
    for (size_t k = 0, off = 0; k < r->np; off += r->pp[k].n, k++)
        r->pp[k].xi = r->xi_all + off;
    const apical_model_type *mo = spec->pops[ps->output].model;
    r->no = spec->pops[ps->output].size;
    r->o_intC = apical_field_index(mo->state, mo->n_state, "int_C");
    r->o_int0 = calloc(r->no, sizeof(double));
    r->o_mean = calloc(r->no, sizeof(double));
    r->o_clean = calloc(r->no, sizeof(double));
    r->counts = calloc(r->n_gid, sizeof(double));
    r->rate_src = calloc(largest, sizeof(double));
    r->step_tgt = calloc(largest, sizeof(double));
    if (!r->o_int0 || !r->o_mean || !r->o_clean || !r->counts || !r->rate_src || !r->step_tgt)
        return apical_error_set(err, APICAL_E_NOMEM, NULL, "out of memory");
    r->seg = SEG_DONE;
    r->t_end = 0.0; /* the first step starts the first segment */
    return APICAL_OK;
}

static void np_spikes(void *rt, const apical_spike *sp, size_t n)
{
    np_rt *r = rt;
    for (size_t k = 0; k < n; k++)
        if (sp[k].t >= r->count_from && sp[k].t < r->count_to && sp[k].gid < r->n_gid)
            r->counts[sp[k].gid] += sp[k].mult;
}

static apical_status show(apical_sim *S, np_rt *r, const apical_idx_set *im, size_t img,
                          double T, apical_error *err)
{
    r->label = im->labels[img];
    return apical_mnist_show(S, r->ps->stim_input, r->ps->stim_max_rate, im, img, T, err);
}

/* The output's window mean of C since the measurement began (into o_mean). */
static apical_status output_mean(apical_sim *S, np_rt *r, double T, double window,
                                 apical_error *err)
{
    apical_status st = apical_engine_sync(S, r->ps->output, T, err);
    if (st)
        return st;
    apical_engine_state_all(S, r->ps->output, r->o_intC, r->o_mean);
    for (uint64_t k = 0; k < r->no; k++)
        r->o_mean[k] = (r->o_mean[k] - r->o_int0[k]) / window;
    return APICAL_OK;
}

/* R = -sum_k (sigma(Cbar_k) - y_k)^2, y the one-hot label. */
static double reward(const np_rt *r)
{
    double s = 0.0;
    for (uint64_t k = 0; k < r->no; k++) {
        const double e = apical_sigma(r->o_mean[k]) - (k == r->label ? 1.0 : 0.0);
        s += e * e;
    }
    return -s;
}

/* Shift every perturbed unit's bias by sign * sigma xi (sign 0: restore). */
static apical_status perturb(apical_sim *S, np_rt *r, double T, double sign, apical_error *err)
{
    for (size_t k = 0; k < r->np; k++) {
        np_pop_rt *q = &r->pp[k];
        apical_status st = apical_engine_sync(S, q->pop, T, err);
        if (st)
            return st;
        if (sign != 0.0)
            apical_engine_state_all(S, q->pop, q->k_bias, q->bias0);
        for (uint64_t i = 0; i < q->n; i++)
            q->g[i] = q->bias0[i] + sign * r->ps->noise * q->xi[i]; /* g as scratch */
        apical_engine_poke_all(S, q->pop, q->k_bias, q->g);
    }
    return APICAL_OK;
}

/* The perturbed pass ended: restore the biases, estimate the gradient and
 * move every learned projection and the perturbed units' biases along it. */
static apical_status learn(apical_sim *S, np_rt *r, double T, double r_pert, apical_error *err)
{
    const apical_np_spec *ps = r->ps;
    const double window = r->count_to - r->count_from;
    apical_status st = perturb(S, r, T, 0.0, err);
    if (st)
        return st;
    for (size_t k = 0; k < r->np; k++) {
        apical_np_estimate(r->pp[k].xi, r->pp[k].n, ps->noise, r_pert, r->r_clean, r->pp[k].g);
        if (r->on_estimate)
            r->on_estimate(r->estimate_user, r->example, r->pp[k].pop, r->pp[k].xi, r->pp[k].g,
                           r->pp[k].n, r->o_clean, r->no);
    }
    for (size_t k = 0; k < ps->n_learn; k++) {
        const apical_proj_spec *pj = &r->spec->projs[ps->learn[k].proj];
        const np_pop_rt *q = NULL;
        for (size_t m = 0; m < r->np; m++)
            if (r->pp[m].pop == pj->target)
                q = &r->pp[m];
        const uint64_t src0 = apical_engine_gid0(S, pj->source);
        for (uint64_t j = 0; j < r->spec->pops[pj->source].size; j++)
            r->rate_src[j] = r->counts[src0 + j] / window;
        for (uint64_t i = 0; i < q->n; i++)
            r->step_tgt[i] = ps->learn[k].eta * q->g[i];
        apical_engine_rank1_update(S, ps->learn[k].proj, 1.0, r->rate_src, r->step_tgt);
    }
    /* biases: the same step with d(basal input)/d(bias) = 1, for every
     * perturbed population that has a learned input */
    for (size_t k = 0; k < r->np; k++) {
        np_pop_rt *q = &r->pp[k];
        double eta = 0.0;
        for (size_t m = 0; m < ps->n_learn; m++)
            if (r->spec->projs[ps->learn[m].proj].target == q->pop)
                eta = ps->learn[m].eta;
        if (eta == 0.0)
            continue;
        for (uint64_t i = 0; i < q->n; i++)
            q->g[i] = q->bias0[i] + eta * q->g[i];
        apical_engine_poke_all(S, q->pop, q->k_bias, q->g);
    }
    return APICAL_OK;
}

static apical_status reward_out(np_rt *r, double r_pert, apical_error *err)
{
    if (r->on_reward)
        r->on_reward(r->reward_user, r->example, r->r_clean, r_pert);
    if (!r->h5 || r->reward_table < 0)
        return APICAL_OK;
    const double ex = (double)r->example;
    const void *row[] = {&ex, &r->r_clean, &r_pert};
    return apical_h5_table_append(r->h5, r->reward_table, row, err);
}

static apical_status curve_out(np_rt *r, double T, apical_error *err)
{
    const double ex = (double)r->example, tests = (double)r->test;
    const double e = (double)r->pass_wrong / tests, epoch = ex / (double)r->ps->images->n;
    if (r->on_curve)
        r->on_curve(r->curve_user, r->example, e);
    if (!r->h5 || r->curve_table < 0)
        return APICAL_OK;
    return apical_mnist_curve_append(r->h5, r->curve_table, ex, epoch, e, tests, T, err);
}

/* Begin a segment at T: its averaging window starts at t_meas. */
static apical_status begin(apical_sim *S, np_rt *r, seg_kind seg, double T, apical_error *err)
{
    const apical_np_spec *ps = r->ps;
    const double w = apical_engine_window(S);
    apical_status st = APICAL_OK;
    r->seg = seg;
    r->measuring = 0;
    switch (seg) {
    case SEG_CLEAN:
        st = show(S, r, ps->images, (size_t)(r->example % ps->images->n), T, err);
        r->t_end = T + grid(ps->duration, w);
        r->t_meas = fmin(T + grid(ps->settle, w), r->t_end - w);
        break;
    case SEG_PERTURBED:
        if (apical_np_draw(r->spec->sim.seed, r->example, 0, r->xi_all, r->n_units))
            return apical_error_set(err, APICAL_E_NOMEM, NULL, "out of memory");
        st = perturb(S, r, T, 1.0, err);
        r->t_end = T + grid(ps->duration, w);
        r->t_meas = fmin(T + grid(ps->settle, w), r->t_end - w);
        break;
    case SEG_TEST:
        st = show(S, r, ps->test_images, (size_t)(r->test % ps->test_images->n), T, err);
        r->t_end = T + grid(ps->test_duration, w);
        r->t_meas = fmax(T, fmin(r->t_end - grid(ps->test_window, w), r->t_end - w));
        break;
    case SEG_DONE:
        r->t_end = HUGE_VAL;
        /* silence the input: nothing more is presented */
        for (size_t k = 0; k < ps->images->rows * ps->images->cols && !st; k++)
            st = apical_engine_set_rate(S, ps->stim_input, k, 0.0, T, err);
        break;
    }
    return st;
}

/* The segment that follows a training example (or the start). */
static seg_kind after_example(const np_rt *r)
{
    const apical_np_spec *ps = r->ps;
    const int last = r->example >= ps->examples;
    if (ps->test_examples && (last || (ps->test_every && r->example % ps->test_every == 0)))
        return SEG_TEST;
    return last ? SEG_DONE : SEG_CLEAN;
}

/* The current segment ended at T. */
static apical_status finish(apical_sim *S, np_rt *r, double T, apical_error *err)
{
    const double window = T - r->t_meas;
    apical_status st = output_mean(S, r, T, window, err);
    if (st)
        return st;
    switch (r->seg) {
    case SEG_CLEAN:
        r->r_clean = reward(r);
        memcpy(r->o_clean, r->o_mean, r->no * sizeof *r->o_clean);
        return begin(S, r, SEG_PERTURBED, T, err);
    case SEG_PERTURBED: {
        const double r_pert = reward(r);
        if ((st = learn(S, r, T, r_pert, err)) || (st = reward_out(r, r_pert, err)))
            return st;
        r->example++;
        return begin(S, r, after_example(r), T, err);
    }
    case SEG_TEST: {
        uint64_t best = 0;
        for (uint64_t k = 1; k < r->no; k++)
            if (r->o_mean[k] > r->o_mean[best])
                best = k;
        r->pass_wrong += best != r->label;
        r->test++;
        if (r->test < r->ps->test_examples)
            return begin(S, r, SEG_TEST, T, err);
        if ((st = curve_out(r, T, err)))
            return st;
        r->test = r->pass_wrong = 0;
        return begin(S, r, r->example < r->ps->examples ? SEG_CLEAN : SEG_DONE, T, err);
    }
    case SEG_DONE:
        break;
    }
    return APICAL_OK;
}

static apical_status np_step(void *rt, apical_sim *S, apical_error *err)
{
    np_rt *r = rt;
    const double w = apical_engine_window(S);
    const double T = (double)apical_engine_window_index(S) * w, eps = 1e-9 * w;
    apical_status st;
    if (apical_engine_window_index(S) == 0 && r->seg == SEG_DONE && r->example == 0 &&
        (st = begin(S, r, SEG_CLEAN, T, err)))
        return st;
    if (r->seg == SEG_DONE)
        return APICAL_OK;
    if (T >= r->t_end - eps && (st = finish(S, r, T, err)))
        return st;
    /* (the segment finish began may measure from T on: settle 0) */
    if (r->seg != SEG_DONE && !r->measuring && T >= r->t_meas - eps) {
        if ((st = apical_engine_sync(S, r->ps->output, T, err)))
            return st;
        apical_engine_state_all(S, r->ps->output, r->o_intC, r->o_int0);
        memset(r->counts, 0, r->n_gid * sizeof *r->counts);
        r->count_from = T;
        r->count_to = r->t_end;
        r->measuring = 1;
    }
    return APICAL_OK;
}

static apical_status np_output(void *rt, apical_h5 *h5, apical_error *err)
{
    static const apical_h5_column rcols[] = {{"example", APICAL_H5_F64, 0, NULL, 0},
                                             {"reward_clean", APICAL_H5_F64, 0, NULL, 0},
                                             {"reward_perturbed", APICAL_H5_F64, 0, NULL, 0}};
    np_rt *r = rt;
    r->h5 = h5;
    apical_status st = apical_h5_table_add(h5, "node_perturbation",
                                           "per training example: the reward of the clean pass "
                                           "(the baseline) and of the perturbed pass, "
                                           "R = -sum_k (sigma(Cbar_k) - y_k)^2",
                                           rcols, 3, 256, &r->reward_table, err);
    if (st || !r->ps->test_examples)
        return st;
    return apical_mnist_curve_table(h5, &r->curve_table, err);
}

void apical_np_on_reward(apical_protocol *p, apical_np_reward_fn fn, void *user)
{
    if (apical_protocol_type_of(p) != &apical_node_perturbation)
        return;
    np_rt *r = apical_protocol_state(p);
    r->on_reward = fn;
    r->reward_user = user;
}

void apical_np_on_curve(apical_protocol *p, apical_np_curve_fn fn, void *user)
{
    if (apical_protocol_type_of(p) != &apical_node_perturbation)
        return;
    np_rt *r = apical_protocol_state(p);
    r->on_curve = fn;
    r->curve_user = user;
}

void apical_np_on_estimate(apical_protocol *p, apical_np_estimate_fn fn, void *user)
{
    if (apical_protocol_type_of(p) != &apical_node_perturbation)
        return;
    np_rt *r = apical_protocol_state(p);
    r->on_estimate = fn;
    r->estimate_user = user;
}

const apical_protocol_type apical_node_perturbation = {
    .name = "node_perturbation",
    .doc = "clean and perturbed pass per example, weights along the reward-perturbation "
           "correlation with the clean reward as baseline (Williams 1992; Fiete & Seung 2006)",
    .parse = np_parse,
    .free_spec = np_free_spec,
    .fit = np_fit,
    .learns = np_learns,
    .build = np_build,
    .spikes = np_spikes,
    .step = np_step,
    .output = np_output,
    .free_rt = np_free_rt,
};
