/* krotov_hopfield: unsupervised learning by competing hidden units, then a
 * supervised readout on the frozen features (Krotov & Hopfield 2019, PNAS
 * 116:7723; docs/VALIDATION.md "Competing hidden units").
 *
 * Unsupervised phase, per minibatch of images v (pixels / 255), the
 * paper's rule in the form of the authors' notebook:
 *   I_mu   = <W_mu, v>_mu = sum_i sign(W_mu,i) |W_mu,i|^(p-1) v_i
 *   g_mu   = 1 for the unit with the largest I, -Delta for the k-th
 *            largest, 0 otherwise (per image: the ranking activation)
 *   ds_mu,i = sum_images g_mu (R^p v_i - I_mu W_mu,i)
 *   W     += eps ds / max|ds|,  eps = eps0 (1 - epoch / epochs)
 * The fixed point of the flow puts every unit that wins on the sphere
 * ||W_mu||_p = R (the paper's eq. 3 and its argument after it).
 *
 * Readout (the paper's eq. 9-10): h_mu = max(W_mu . v, 0)^n with the hidden
 * population's own `n` (model rectified_power), c_alpha = tanh(beta
 * sum_mu S_alpha,mu h_mu), loss sum_alpha |c_alpha - t_alpha|^(2m) with
 * t = +1 for the label and -1 otherwise, Adam on S. The features of every
 * training and test image are computed once after the unsupervised phase
 * (float: the readout needs far less than float's 2^-24 relative
 * precision, and it halves 2000 x 60 000 features to 480 MB).
 *
 * Timing: one step per window (the minimum delay), so the engine polls
 * for interrupts and the run's time counts steps: the unsupervised
 * minibatches, then the feature batches (training, then test images), then
 * per readout epoch its minibatches and one test pass.
 *
 * Checkpoints: the weights live in the protocol's dense matrices while it
 * learns (the engine's copy of W is written back only when the
 * unsupervised phase ends), so an interrupted run's /edges would be its
 * starting weights. With `checkpoint:`, both matrices are written after
 * every epoch of either phase, as segregated_dendrites does at its epoch
 * ends: a stop keeps the last epoch's weights. Every product is in
 * the calling thread in a fixed order: the same bits for any partition,
 * thread or rank count. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "apical/idx.h"
#include "apical/limits.h"
#include "apical/mnist_stimulus.h"
#include "apical/protocol.h"
#include "apical/rng.h"
#include "apical/sim.h"

/* The ranking keeps the k largest currents in a sorted array on the stack. */
enum { KH_MAX_K = 64, KH_MAX_CLASSES = 256 };

typedef struct kh_spec {
    apical_srcpos pos;
    size_t proj_w, proj_s; /* features: pixels -> hidden; readout: hidden -> classes */
    size_t hidden;
    size_t h_state;        /* the hidden model's state `h` (the current) */
    double n;              /* the hidden population's activation power */
    apical_idx_set *train, *test;
    uint64_t minibatch;
    /* unsupervised */
    uint64_t u_epochs, k;
    double eps0, p, delta, R;
    /* readout */
    uint64_t s_epochs;
    double m, beta, lr0, lr_decay;
    char *checkpoint; /* written at every epoch end, or NULL */
} kh_spec;

/* ---- parsing ---- */

/* {images, labels, limit: 0}: an IDX pair, its first `limit` examples. */
static apical_status parse_images(apical_ld *c, const apical_ynode *n, const char *what,
                                  apical_idx_set **out)
{
    static const char *const keys[] = {"images", "labels", "limit", NULL};
    const apical_ynode *v;
    uint64_t limit = 0;
    apical_status st;
    if ((st = apical_ld_need_kind(c, n, APICAL_Y_MAP, what)) != APICAL_OK ||
        (st = apical_ld_check_keys(c, n, keys, what)) != APICAL_OK)
        return st;
    if ((v = apical_ld_get(n, "limit")) != NULL &&
        (st = apical_ld_uint(c, v, "limit", 1, APICAL_MAX_EXAMPLES, &limit)) != APICAL_OK)
        return st;
    return apical_mnist_require(c, n, what, limit, NULL, out, NULL, NULL);
}

/* A projection named by node v, all_to_all. */
static apical_status parse_proj(apical_ld *c, const apical_ynode *v, const char *what,
                                size_t *out)
{
    const char *name = "";
    apical_status st = apical_ld_string(c, v, what, &name);
    if (st)
        return st;
    for (size_t j = 0; j < c->spec->n_projs; j++)
        if (strcmp(c->spec->projs[j].name, name) == 0) {
            /* dense: all_to_all, or an earlier run's edges of one (a readout
             * trained again on learned features, unsupervised epochs 0) */
            const apical_proj_spec *pj = &c->spec->projs[j];
            const uint64_t full = c->spec->pops[pj->source].size * c->spec->pops[pj->target].size;
            if (pj->conn != APICAL_CONN_ALL_TO_ALL &&
                !(pj->conn == APICAL_CONN_FROM_FILE && pj->n_edges == full))
                return apical_ld_fail(c, v, APICAL_E_INVALID,
                                      "%s projection '%s' must be all_to_all, or from_file "
                                      "with every pair once (the protocol keeps it as a dense "
                                      "matrix)",
                                      what, name);
            *out = j;
            return APICAL_OK;
        }
    return apical_ld_fail(c, v, APICAL_E_REFERENCE, "projection '%s' is not defined", name);
}

static apical_status parse_unsupervised(apical_ld *c, const apical_ynode *n, kh_spec *p)
{
    static const char *const keys[] = {"epochs", "learning_rate", "p", "k", "delta", "R", NULL};
    const apical_ynode *v;
    apical_status st;
    if ((st = apical_ld_need_kind(c, n, APICAL_Y_MAP, "unsupervised")) != APICAL_OK ||
        (st = apical_ld_check_keys(c, n, keys, "unsupervised")) != APICAL_OK)
        return st;
    if ((v = apical_ld_get(n, "epochs")) &&
        (st = apical_ld_uint(c, v, "epochs", 0, 100000, &p->u_epochs)))
        return st;
    if ((v = apical_ld_get(n, "learning_rate")) &&
        (st = apical_ld_bounded(c, v, "1", "learning_rate", (apical_bounds){0.0, 1e3, 1},
                                &p->eps0)))
        return st;
    if ((v = apical_ld_get(n, "p")) &&
        (st = apical_ld_bounded(c, v, "1", "p", (apical_bounds){1.0, 20.0, 0}, &p->p)))
        return st;
    const uint64_t k_max = c->spec->pops[p->hidden].size;
    if ((v = apical_ld_get(n, "k")) &&
        (st = apical_ld_uint(c, v, "k", 2, KH_MAX_K, &p->k)))
        return st;
    if (p->k > k_max)
        return apical_ld_fail(c, v ? v : n, APICAL_E_RANGE,
                              "k (%llu) ranks more units than the hidden population has (%llu)",
                              (unsigned long long)p->k, (unsigned long long)k_max);
    if ((v = apical_ld_get(n, "delta")) &&
        (st = apical_ld_bounded(c, v, "1", "delta", (apical_bounds){0.0, 100.0, 0},
                                &p->delta)))
        return st;
    if ((v = apical_ld_get(n, "R")) &&
        (st = apical_ld_bounded(c, v, "1", "R", (apical_bounds){0.0, 1e3, 1}, &p->R)))
        return st;
    return APICAL_OK;
}

static apical_status parse_supervised(apical_ld *c, const apical_ynode *n, kh_spec *p)
{
    static const char *const keys[] = {"epochs", "m", "beta", "learning_rate", "decay", NULL};
    const apical_ynode *v;
    apical_status st;
    if ((st = apical_ld_need_kind(c, n, APICAL_Y_MAP, "supervised")) != APICAL_OK ||
        (st = apical_ld_check_keys(c, n, keys, "supervised")) != APICAL_OK)
        return st;
    if ((v = apical_ld_get(n, "epochs")) &&
        (st = apical_ld_uint(c, v, "epochs", 0, 100000, &p->s_epochs)))
        return st;
    if ((v = apical_ld_get(n, "m")) &&
        (st = apical_ld_bounded(c, v, "1", "m", (apical_bounds){1.0, 50.0, 0}, &p->m)))
        return st;
    if ((v = apical_ld_get(n, "beta")) &&
        (st = apical_ld_bounded(c, v, "1", "beta", (apical_bounds){0.0, 1e6, 1}, &p->beta)))
        return st;
    if ((v = apical_ld_get(n, "learning_rate")) &&
        (st = apical_ld_bounded(c, v, "1", "learning_rate", (apical_bounds){0.0, 1e3, 1},
                                &p->lr0)))
        return st;
    if ((v = apical_ld_get(n, "decay")) &&
        (st = apical_ld_bounded(c, v, "1", "decay", (apical_bounds){0.0, 1.0, 1},
                                &p->lr_decay)))
        return st;
    return APICAL_OK;
}

static void kh_free_spec(void *sp)
{
    kh_spec *p = sp;
    if (!p)
        return;
    apical_mnist_free(p->train);
    apical_mnist_free(p->test);
    free(p->checkpoint);
    free(p);
}

static apical_status kh_parse(apical_ld *c, const apical_ynode *n, void **out)
{
    static const char *const keys[] = {"type",  "features",     "readout",    "train",
                                       "test",  "minibatch",    "unsupervised", "supervised",
                                       "checkpoint", NULL};
    const apical_ynode *v, *vw, *vs;
    apical_status st;
    if ((st = apical_protocol_parse_open(c, n, keys, sizeof(kh_spec), offsetof(kh_spec, pos),
                                         out)) != APICAL_OK)
        return st;
    kh_spec *p = *out;
    /* defaults: the paper's MNIST values (docs/VALIDATION.md cites them) */
    p->minibatch = 100;
    p->u_epochs = 1;
    p->eps0 = 0.02;
    p->p = 3.0;
    p->k = 7;
    p->delta = 0.4;
    p->R = 1.0;
    p->s_epochs = 1;
    p->m = 6.0;
    p->beta = 0.01;
    p->lr0 = 1e-3;
    p->lr_decay = 1.0;
    if ((st = apical_ld_require(c, n, "features", "protocol", &vw)) ||
        (st = parse_proj(c, vw, "features", &p->proj_w)) ||
        (st = apical_ld_require(c, n, "readout", "protocol", &vs)) ||
        (st = parse_proj(c, vs, "readout", &p->proj_s)))
        return st;
    const apical_proj_spec *pw = &c->spec->projs[p->proj_w], *ps = &c->spec->projs[p->proj_s];
    p->hidden = pw->target;
    const apical_pop_spec *hid = &c->spec->pops[p->hidden];
    const size_t in = apical_field_index(hid->model->params, hid->model->n_params, "n");
    p->h_state = apical_field_index(hid->model->state, hid->model->n_state, "h");
    if (in == (size_t)-1 || p->h_state == (size_t)-1)
        return apical_ld_fail(c, vw, APICAL_E_INVALID,
                              "the features projection's target '%s' (model %s) has no "
                              "activation power 'n' or current 'h'; the hidden units are "
                              "rectified_power units",
                              hid->name, hid->model->name);
    p->n = hid->param[in];
    if (c->spec->pops[ps->target].size > KH_MAX_CLASSES)
        return apical_ld_fail(c, vs, APICAL_E_RANGE,
                              "the readout's target '%s' has %llu units; at most %d classes",
                              c->spec->pops[ps->target].name,
                              (unsigned long long)c->spec->pops[ps->target].size,
                              KH_MAX_CLASSES);
    if (ps->source != p->hidden)
        return apical_ld_fail(c, vs, APICAL_E_INVALID,
                              "the readout projection must start at the hidden population "
                              "'%s' (the features' target), not at '%s'",
                              hid->name, c->spec->pops[ps->source].name);
    if ((v = apical_ld_get(n, "minibatch")) &&
        (st = apical_ld_uint(c, v, "minibatch", 1, 100000, &p->minibatch)))
        return st;
    if ((v = apical_ld_get(n, "unsupervised")) && (st = parse_unsupervised(c, v, p)))
        return st;
    if (p->k > hid->size)
        return apical_ld_fail(c, n, APICAL_E_RANGE,
                              "k (%llu, the default) ranks more units than the hidden "
                              "population has (%llu)",
                              (unsigned long long)p->k, (unsigned long long)hid->size);
    if ((v = apical_ld_get(n, "supervised")) && (st = parse_supervised(c, v, p)))
        return st;
    if ((v = apical_ld_get(n, "checkpoint")) != NULL) {
        const char *path = "";
        if ((st = apical_ld_string(c, v, "checkpoint", &path)) != APICAL_OK)
            return st;
        if (!(p->checkpoint = apical_ld_path(c, path)))
            return apical_ld_oom(c);
    }
    const apical_ynode *vt, *vx;
    if ((st = apical_ld_require(c, n, "train", "protocol", &vt)) ||
        (st = parse_images(c, vt, "train", &p->train)) ||
        (st = apical_ld_require(c, n, "test", "protocol", &vx)) ||
        (st = parse_images(c, vx, "test", &p->test)))
        return st;
    const uint64_t n_pix = c->spec->pops[pw->source].size;
    const uint64_t n_cls = c->spec->pops[ps->target].size;
    const apical_ynode *where[2] = {vt, vx};
    const apical_idx_set *sets[2] = {p->train, p->test};
    for (int s = 0; s < 2; s++) {
        if (sets[s]->rows * sets[s]->cols != n_pix)
            return apical_ld_fail(c, where[s], APICAL_E_RANGE,
                                  "images have %zu pixels but the features projection's "
                                  "source '%s' has %llu neurons (one per pixel)",
                                  sets[s]->rows * sets[s]->cols,
                                  c->spec->pops[pw->source].name, (unsigned long long)n_pix);
        const size_t i = apical_mnist_bad_label(sets[s], n_cls);
        if (i < sets[s]->n)
            return apical_ld_fail(c, where[s], APICAL_E_RANGE,
                                  "label %u of image %zu has no unit in the readout's "
                                  "target '%s' (%llu units)",
                                  sets[s]->labels[i], i, c->spec->pops[ps->target].name,
                                  (unsigned long long)n_cls);
    }
    return APICAL_OK;
}

/* ---- the schedule: one step per window ---- */

static uint64_t batches(uint64_t n, uint64_t b)
{
    return (n + b - 1) / b;
}

static uint64_t kh_steps(const kh_spec *p)
{
    const uint64_t nb = batches(p->train->n, p->minibatch), nt = batches(p->test->n, p->minibatch);
    return p->u_epochs * nb + (p->s_epochs ? nb + nt + p->s_epochs * (nb + 1) : 0);
}

static apical_status kh_fit(apical_net_spec *spec, apical_error *err)
{
    const kh_spec *p = spec->protocol;
    double window = HUGE_VAL; /* the smallest delay any projection can draw */
    for (size_t j = 0; j < spec->n_projs; j++) {
        const apical_dist *d = &spec->projs[j].delay;
        const double lo = d->kind == APICAL_DIST_NORMAL && isfinite(d->lo) ? d->lo : d->a;
        if (lo > 0.0 && lo < window)
            window = lo;
    }
    if (window == HUGE_VAL)
        window = 1.0;
    const double need = (double)kh_steps(p) * window;
    if (need > APICAL_MAX_TIME)
        return apical_error_set(err, APICAL_E_RANGE, &p->pos,
                                "the protocol's %llu steps of %g ms exceed the longest run "
                                "apical can time (%g ms)",
                                (unsigned long long)kh_steps(p), window, APICAL_MAX_TIME);
    if (spec->sim.duration_auto) {
        spec->sim.duration = need > 0.0 ? need : window;
        return APICAL_OK;
    }
    if (spec->sim.duration >= need * (1.0 - 1e-12))
        return APICAL_OK;
    const apical_srcpos *at = spec->sim.duration_pos.line ? &spec->sim.duration_pos : NULL;
    return apical_error_set(err, APICAL_E_RANGE, at,
                            "duration %.10g ms ends before the protocol, which needs %.10g ms "
                            "(%llu steps of one %g ms window); raise it, or omit 'duration'",
                            spec->sim.duration, need, (unsigned long long)kh_steps(p), window);
}

static int kh_learns(const void *sp, size_t j)
{
    const kh_spec *p = sp;
    return j == p->proj_w || j == p->proj_s;
}

/* ---- run-time state ---- */

typedef struct kh_rt {
    const kh_spec *s;
    const apical_net_spec *spec;
    uint64_t seed;
    size_t K, N, C, B;   /* hidden units, pixels, classes, minibatch */
    size_t Kp, Np, Bp;   /* padded to the kernel's tiles (4, 4, 2) with zeros */
    uint64_t nb, nt;     /* training and test batches */
    double *W, *Wp;      /* Kp x Np: weights and sign(W)|W|^(p-1) */
    double *V;           /* Bp x Np: the minibatch's images */
    double *I;           /* Kp x Bp: currents */
    uint32_t *order;     /* this epoch's permutation of the training images */
    uint32_t *win, *kth; /* per image of the minibatch: the ranked units */
    int32_t *slot;       /* K: row of ds of a unit updated in this minibatch, or -1 */
    uint32_t *touched;   /* units updated in this minibatch (<= 2 B) */
    double *gsum, *xx, *ds; /* per touched unit: g sums and the ds rows */
    float *f_train, *f_test; /* features max(W.v, 0)^n, image-major */
    double *S, *m1, *m2, *grad; /* C x K readout, Adam moments, gradient */
    double *hidden_h;    /* K: the current of the last image, poked into `h` */
    uint64_t adam_t;
    double loss_sum;
    uint64_t wrong, seen;
    apical_h5 *h5;
    int t_unsup, t_readout;
} kh_rt;

static void kh_free_rt(void *r)
{
    kh_rt *rt = r;
    if (!rt)
        return;
    free(rt->W), free(rt->Wp), free(rt->V), free(rt->I), free(rt->order);
    free(rt->win), free(rt->kth), free(rt->slot), free(rt->touched);
    free(rt->gsum), free(rt->xx), free(rt->ds), free(rt->f_train), free(rt->f_test);
    free(rt->S), free(rt->m1), free(rt->m2), free(rt->grad), free(rt->hidden_h);
    free(rt);
}

typedef struct dense_ctx {
    double *m;
    size_t stride;
    int write; /* 0: read the engine's weights into m; 1: write m into them */
} dense_ctx;

/* Row = target, column = source. */
static void dense_visit(void *user, uint64_t src, uint64_t tgt, double *w)
{
    dense_ctx *d = user;
    double *x = &d->m[tgt * d->stride + src];
    if (d->write)
        *w = *x;
    else
        *x = *w;
}

static void row_power(const kh_rt *rt, size_t mu)
{
    const double *w = rt->W + mu * rt->Np;
    double *o = rt->Wp + mu * rt->Np;
    const double q = rt->s->p - 1.0;
    /* the paper's p = 3 and p = 2 exactly and without pow's cost */
    if (q == 2.0)
        for (size_t i = 0; i < rt->Np; i++)
            o[i] = w[i] * fabs(w[i]);
    else if (q == 1.0)
        for (size_t i = 0; i < rt->Np; i++)
            o[i] = w[i];
    else
        for (size_t i = 0; i < rt->Np; i++)
            o[i] = copysign(pow(fabs(w[i]), q), w[i]);
}

static apical_status kh_build(const apical_net_spec *spec, apical_sim *sim, void **out,
                              apical_error *err)
{
    const kh_spec *p = spec->protocol;
    if (p->checkpoint && apical_engine_ranks(sim) > 1) /* it lists this rank's synapses only */
        return apical_error_set(err, APICAL_E_INVALID, &p->pos,
                                "checkpoints are written by runs in one process only (not "
                                "under mpirun with more than one rank)");
    kh_rt *rt = calloc(1, sizeof *rt);
    if (!rt)
        return apical_error_set(err, APICAL_E_NOMEM, NULL, "out of memory");
    *out = rt;
    rt->s = p;
    rt->spec = spec;
    rt->seed = spec->sim.seed;
    rt->h5 = NULL;
    rt->t_unsup = rt->t_readout = -1;
    rt->K = (size_t)spec->pops[p->hidden].size;
    rt->N = (size_t)spec->pops[spec->projs[p->proj_w].source].size;
    rt->C = (size_t)spec->pops[spec->projs[p->proj_s].target].size;
    rt->B = (size_t)p->minibatch;
    rt->Kp = (rt->K + 3) / 4 * 4;
    rt->Np = (rt->N + 3) / 4 * 4;
    rt->Bp = (rt->B + 1) / 2 * 2;
    rt->nb = batches(p->train->n, p->minibatch);
    rt->nt = batches(p->test->n, p->minibatch);
    const size_t KN = rt->Kp * rt->Np, CK = rt->C * rt->K;
    if (!(rt->W = calloc(KN, sizeof *rt->W)) || !(rt->Wp = calloc(KN, sizeof *rt->Wp)) ||
        !(rt->V = calloc(rt->Bp * rt->Np, sizeof *rt->V)) ||
        !(rt->I = calloc(rt->Kp * rt->Bp, sizeof *rt->I)) ||
        !(rt->order = malloc(p->train->n * sizeof *rt->order)) ||
        !(rt->win = malloc(rt->B * sizeof *rt->win)) ||
        !(rt->kth = malloc(rt->B * sizeof *rt->kth)) ||
        !(rt->slot = malloc(rt->K * sizeof *rt->slot)) ||
        !(rt->touched = malloc(2 * rt->B * sizeof *rt->touched)) ||
        !(rt->gsum = malloc(2 * rt->B * sizeof *rt->gsum)) ||
        !(rt->xx = malloc(2 * rt->B * sizeof *rt->xx)) ||
        !(rt->ds = malloc(2 * rt->B * rt->Np * sizeof *rt->ds)) ||
        !(rt->S = calloc(CK, sizeof *rt->S)) || !(rt->m1 = calloc(CK, sizeof *rt->m1)) ||
        !(rt->m2 = calloc(CK, sizeof *rt->m2)) || !(rt->grad = calloc(CK, sizeof *rt->grad)) ||
        !(rt->hidden_h = calloc(rt->K, sizeof *rt->hidden_h)))
        return apical_error_set(err, APICAL_E_NOMEM, NULL, "out of memory");
    if (p->s_epochs &&
        (!(rt->f_train = malloc(p->train->n * rt->K * sizeof *rt->f_train)) ||
         !(rt->f_test = malloc(p->test->n * rt->K * sizeof *rt->f_test))))
        return apical_error_set(err, APICAL_E_NOMEM, NULL,
                                "out of memory for the readout's features (%zu x %zu floats)",
                                p->train->n + p->test->n, rt->K);
    for (size_t mu = 0; mu < rt->K; mu++)
        rt->slot[mu] = -1;
    /* the starting weights are the network file's (every rank holds them all) */
    dense_ctx dw = {rt->W, rt->Np, 0}, ds = {rt->S, rt->K, 0};
    apical_engine_each_weight(sim, p->proj_w, dense_visit, &dw);
    apical_engine_combine(sim, rt->W, KN);
    apical_engine_each_weight(sim, p->proj_s, dense_visit, &ds);
    apical_engine_combine(sim, rt->S, CK);
    for (size_t mu = 0; mu < rt->K; mu++)
        row_power(rt, mu);
    return APICAL_OK;
}

static apical_status kh_output(void *r, apical_h5 *h5, apical_error *err)
{
    kh_rt *rt = r;
    rt->h5 = h5;
    static const apical_h5_column ucols[] = {{"epoch", APICAL_H5_F64, 0, NULL, 0},
                                             {"learning_rate", APICAL_H5_F64, 0, NULL, 0},
                                             {"norm_mean", APICAL_H5_F64, 0, NULL, 0},
                                             {"norm_max_deviation", APICAL_H5_F64, 0, NULL, 0},
                                             {"converged", APICAL_H5_F64, 0, NULL, 0}};
    static const apical_h5_column rcols[] = {{"epoch", APICAL_H5_F64, 0, NULL, 0},
                                             {"learning_rate", APICAL_H5_F64, 0, NULL, 0},
                                             {"train_loss", APICAL_H5_F64, 0, NULL, 0},
                                             {"train_error", APICAL_H5_F64, 0, NULL, 0},
                                             {"test_error", APICAL_H5_F64, 0, NULL, 0}};
    apical_status st = apical_h5_table_add(
        h5, "krotov_hopfield/unsupervised",
        "one row per unsupervised epoch: epoch (1-based), its learning rate, the hidden "
        "units' mean p-norm ||W_mu||_p, the largest | ||W_mu||_p - R |, and the fraction of "
        "units within 1% of R",
        ucols, 5, 64, &rt->t_unsup, err);
    if (st)
        return st;
    return apical_h5_table_add(h5, "krotov_hopfield/readout",
                               "one row per readout epoch: epoch (1-based), Adam's learning "
                               "rate, mean loss sum |c - t|^(2m) per training image, training "
                               "error during the epoch, test error after it (fractions)",
                               rcols, 5, 64, &rt->t_readout, err);
}

/* ---- kernels ---- */

typedef double v4d __attribute__((vector_size(32)));

/* out[mu Bp + a] = sum_i A[mu Np + i] X[a Np + i] for mu < Kp, a < Bp: a
 * 4 x 2 tile of dot products, four lanes each, summed in a fixed order
 * ((l0 + l1) + (l2 + l3)), so every instruction set gives the same bits
 * (no contraction to FMA in ISO C mode). */
__attribute__((target_clones("avx512f", "avx2", "default"))) static void
dense_products(const double *restrict A, const double *restrict X, double *restrict out,
               size_t Kp, size_t Np, size_t Bp)
{
    for (size_t mu = 0; mu < Kp; mu += 4)
        for (size_t a = 0; a < Bp; a += 2) {
            v4d acc[4][2] = {{{0}}};
            const double *a0 = A + mu * Np, *x0 = X + a * Np;
            for (size_t i = 0; i < Np; i += 4) {
                v4d w[4], x[2];
                for (int r = 0; r < 4; r++)
                    memcpy(&w[r], a0 + r * Np + i, sizeof w[r]);
                memcpy(&x[0], x0 + i, sizeof x[0]);
                memcpy(&x[1], x0 + Np + i, sizeof x[1]);
                for (int r = 0; r < 4; r++) {
                    acc[r][0] += w[r] * x[0];
                    acc[r][1] += w[r] * x[1];
                }
            }
            for (int r = 0; r < 4; r++)
                for (int q = 0; q < 2; q++)
                    out[(mu + r) * Bp + a + q] =
                        (acc[r][q][0] + acc[r][q][1]) + (acc[r][q][2] + acc[r][q][3]);
        }
}

/* Images [first, first + count) of set (through idx when not NULL) into V,
 * scaled to [0, 1]; rows beyond count are zero. */
static void load_images(kh_rt *rt, const apical_idx_set *set, const uint32_t *idx,
                        size_t first, size_t count)
{
    memset(rt->V, 0, rt->Bp * rt->Np * sizeof *rt->V);
    for (size_t a = 0; a < count; a++) {
        const size_t img = idx ? idx[first + a] : first + a;
        const uint8_t *px = set->pixels + img * rt->N;
        for (size_t i = 0; i < rt->N; i++)
            rt->V[a * rt->Np + i] = px[i] / 255.0;
    }
}

/* The largest and the k-th largest current of image a; ties go to the
 * lower unit index, so the ranking does not depend on anything else. */
static void rank_units(const kh_rt *rt, size_t a, uint32_t *first, uint32_t *kth)
{
    const size_t k = (size_t)rt->s->k;
    uint32_t top[KH_MAX_K];
    double val[KH_MAX_K];
    size_t n = 0;
    for (size_t mu = 0; mu < rt->K; mu++) {
        const double x = rt->I[mu * rt->Bp + a];
        if (n == k && !(x > val[k - 1]))
            continue;
        size_t j = n < k ? n++ : k - 1;
        while (j > 0 && x > val[j - 1]) {
            val[j] = val[j - 1], top[j] = top[j - 1];
            j--;
        }
        val[j] = x, top[j] = (uint32_t)mu;
    }
    *first = top[0];
    *kth = top[k - 1];
}

static void shuffle(kh_rt *rt, uint64_t substream)
{
    apical_mnist_shuffle(rt->seed, "krotov_shuffle", (uint32_t)substream, rt->order,
                         rt->s->train->n);
}

static size_t slot_of(kh_rt *rt, uint32_t mu, size_t *n_touched)
{
    if (rt->slot[mu] < 0) {
        const size_t s = (*n_touched)++;
        rt->slot[mu] = (int32_t)s;
        rt->touched[s] = mu;
        rt->xx[s] = 0.0;
        memset(rt->ds + s * rt->Np, 0, rt->Np * sizeof *rt->ds);
    }
    return (size_t)rt->slot[mu];
}

/* One minibatch of the competing-units rule (see the top of the file). */
static void unsupervised_batch(kh_rt *rt, uint64_t epoch, uint64_t b)
{
    const kh_spec *p = rt->s;
    const size_t first = (size_t)(b * p->minibatch);
    const size_t count = first + rt->B <= p->train->n ? rt->B : p->train->n - first;
    load_images(rt, p->train, rt->order, first, count);
    dense_products(rt->Wp, rt->V, rt->I, rt->Kp, rt->Np, rt->Bp);
    const double Rp = pow(p->R, p->p);
    size_t nt = 0;
    for (size_t a = 0; a < count; a++) {
        uint32_t w, k;
        rank_units(rt, a, &w, &k);
        const double gs[2] = {1.0, -p->delta};
        const uint32_t units[2] = {w, k};
        for (int q = 0; q < 2; q++) {
            const size_t s = slot_of(rt, units[q], &nt);
            const double g = gs[q];
            rt->xx[s] += g * rt->I[units[q] * rt->Bp + a];
            double *d = rt->ds + s * rt->Np;
            const double *v = rt->V + a * rt->Np;
            for (size_t i = 0; i < rt->N; i++)
                d[i] += g * Rp * v[i];
        }
    }
    double nc = 0.0;
    for (size_t s = 0; s < nt; s++) {
        double *d = rt->ds + s * rt->Np;
        const double *w = rt->W + rt->touched[s] * rt->Np;
        for (size_t i = 0; i < rt->N; i++) {
            d[i] -= rt->xx[s] * w[i];
            nc = fmax(nc, fabs(d[i]));
        }
    }
    /* the notebook's normalisation: the largest change is eps (1e-30 floor) */
    const double eps = p->eps0 * (1.0 - (double)epoch / (double)p->u_epochs);
    const double scale = eps / (nc < 1e-30 ? 1e-30 : nc);
    for (size_t s = 0; s < nt; s++) {
        const uint32_t mu = rt->touched[s];
        double *w = rt->W + mu * rt->Np;
        const double *d = rt->ds + s * rt->Np;
        for (size_t i = 0; i < rt->N; i++)
            w[i] += scale * d[i];
        row_power(rt, mu);
        rt->slot[mu] = -1;
    }
}

/* ||W_mu||_p: mean, largest deviation from R, fraction within 1% of R. */
static void norm_stats(const kh_rt *rt, double out[3])
{
    double sum = 0.0, dev = 0.0, ok = 0.0;
    for (size_t mu = 0; mu < rt->K; mu++) {
        const double *w = rt->W + mu * rt->Np;
        double s = 0.0;
        for (size_t i = 0; i < rt->N; i++)
            s += pow(fabs(w[i]), rt->s->p);
        const double nrm = pow(s, 1.0 / rt->s->p);
        sum += nrm;
        dev = fmax(dev, fabs(nrm - rt->s->R));
        ok += fabs(nrm - rt->s->R) <= 0.01 * rt->s->R;
    }
    out[0] = sum / (double)rt->K;
    out[1] = dev;
    out[2] = ok / (double)rt->K;
}

/* Features of images [first, first + count) of set into f (image-major),
 * and the last image's currents into hidden_h. */
static void feature_batch(kh_rt *rt, const apical_idx_set *set, size_t first, float *f)
{
    const size_t count = first + rt->B <= set->n ? rt->B : set->n - first;
    load_images(rt, set, NULL, first, count);
    dense_products(rt->W, rt->V, rt->I, rt->Kp, rt->Np, rt->Bp);
    for (size_t a = 0; a < count; a++)
        for (size_t mu = 0; mu < rt->K; mu++) {
            const double h = rt->I[mu * rt->Bp + a];
            f[(first + a) * rt->K + mu] = (float)(h > 0.0 ? pow(h, rt->s->n) : 0.0);
        }
    for (size_t mu = 0; mu < rt->K; mu++)
        rt->hidden_h[mu] = rt->I[mu * rt->Bp + count - 1];
}

/* c = tanh(beta S f) of one image into c[C]; returns the predicted class. */
static size_t readout(const kh_rt *rt, const float *f, double *c)
{
    size_t best = 0;
    for (size_t al = 0; al < rt->C; al++) {
        const double *srow = rt->S + al * rt->K;
        double z = 0.0;
        for (size_t mu = 0; mu < rt->K; mu++)
            z += srow[mu] * f[mu];
        c[al] = tanh(rt->s->beta * z);
        if (c[al] > c[best])
            best = al;
    }
    return best;
}

/* One Adam step on the minibatch's mean loss (Kingma & Ba 2015 defaults). */
static void readout_batch(kh_rt *rt, uint64_t epoch, uint64_t b)
{
    const kh_spec *p = rt->s;
    const size_t first = (size_t)(b * p->minibatch);
    const size_t count = first + rt->B <= p->train->n ? rt->B : p->train->n - first;
    const size_t CK = rt->C * rt->K;
    double c[KH_MAX_CLASSES];
    memset(rt->grad, 0, CK * sizeof *rt->grad);
    const double two_m = 2.0 * p->m;
    for (size_t a = 0; a < count; a++) {
        const uint32_t img = rt->order[first + a];
        const float *f = rt->f_train + (size_t)img * rt->K;
        const size_t label = p->train->labels[img];
        rt->wrong += readout(rt, f, c) != label;
        rt->seen++;
        for (size_t al = 0; al < rt->C; al++) {
            const double t = al == label ? 1.0 : -1.0, e = c[al] - t;
            const double ae = fabs(e);
            rt->loss_sum += pow(ae, two_m);
            /* d|e|^(2m)/dS = 2m |e|^(2m-1) sign(e) (1 - c^2) beta f */
            const double gz = two_m * pow(ae, two_m - 1.0) * (e < 0.0 ? -1.0 : 1.0) *
                              (1.0 - c[al] * c[al]) * p->beta / (double)count;
            double *g = rt->grad + al * rt->K;
            for (size_t mu = 0; mu < rt->K; mu++)
                g[mu] += gz * f[mu];
        }
    }
    rt->adam_t++;
    const double b1 = 0.9, b2 = 0.999, lr = p->lr0 * pow(p->lr_decay, (double)epoch);
    const double c1 = 1.0 - pow(b1, (double)rt->adam_t), c2 = 1.0 - pow(b2, (double)rt->adam_t);
    for (size_t q = 0; q < CK; q++) {
        rt->m1[q] = b1 * rt->m1[q] + (1.0 - b1) * rt->grad[q];
        rt->m2[q] = b2 * rt->m2[q] + (1.0 - b2) * rt->grad[q] * rt->grad[q];
        rt->S[q] -= lr * (rt->m1[q] / c1) / (sqrt(rt->m2[q] / c2) + 1e-8);
    }
}

static double test_error(const kh_rt *rt)
{
    double c[KH_MAX_CLASSES];
    uint64_t wrong = 0;
    for (size_t i = 0; i < rt->s->test->n; i++)
        wrong += readout(rt, rt->f_test + i * rt->K, c) != rt->s->test->labels[i];
    return (double)wrong / (double)rt->s->test->n;
}

static void write_back(kh_rt *rt, apical_sim *sim, size_t proj, double *m, size_t stride)
{
    dense_ctx d = {m, stride, 1};
    apical_engine_each_weight(sim, proj, dense_visit, &d);
}

/* A synapse of a checkpointed projection: its weight from the protocol's
 * dense matrix (row = target), its delay the engine's. */
typedef struct ckpt_edges {
    apical_h5_edge_list list;
    const double *m;
    size_t stride;
} ckpt_edges;

static int ckpt_add(void *user, uint64_t src, uint64_t tgt, double w, double d)
{
    ckpt_edges *e = user;
    (void)w;
    return apical_h5_edge_list_add(&e->list, src, tgt, e->m[tgt * e->stride + src], d);
}

/* Both learned projections as /edges/<projection> (what a later network
 * reads with from_file) and the epochs done, to <checkpoint>.part, renamed
 * over <checkpoint> only once complete. */
static apical_status write_checkpoint(const kh_rt *rt, apical_sim *sim, uint64_t u_done,
                                      uint64_t s_done, apical_error *err)
{
    const kh_spec *p = rt->s;
    const apical_net_spec *spec = rt->spec;
    const size_t proj[2] = {p->proj_w, p->proj_s};
    const double *m[2] = {rt->W, rt->S};
    const size_t stride[2] = {rt->Np, rt->K};
    ckpt_edges e = {{0}, NULL, 0};
    apical_h5 *h = NULL;
    apical_status st = apical_h5_create(p->checkpoint, &h, err);
    for (int k = 0; !st && k < 2; k++) {
        const apical_proj_spec *pj = &spec->projs[proj[k]];
        const apical_pop_spec *src = &spec->pops[pj->source], *tgt = &spec->pops[pj->target];
        e.list.n = 0;
        e.m = m[k];
        e.stride = stride[k];
        if (apical_sim_synapses(sim, proj[k], ckpt_add, &e)) {
            st = apical_error_set(err, APICAL_E_NOMEM, NULL, "out of memory");
            break;
        }
        apical_h5_edges e5 = {.name = pj->name, .src_pop = src->name, .tgt_pop = tgt->name,
                              .n_src = src->size, .n_tgt = tgt->size,
                              .weight_unit = tgt->model->weight_unit,
                              .rule = "krotov_hopfield protocol",
                              .receptor = tgt->model->receptors[pj->receptor],
                              .n = e.list.n, .src = e.list.src, .tgt = e.list.tgt,
                              .w = e.list.w, .d = e.list.d};
        st = apical_h5_edges_write(h, &e5, err);
    }
    apical_h5_edge_list_free(&e.list);
    if (!st)
        st = apical_h5_provenance_u64(h, "unsupervised_epochs_done", u_done, err);
    if (!st)
        st = apical_h5_provenance_u64(h, "readout_epochs_done", s_done, err);
    return apical_h5_end_checkpoint(h, st, spec->sim.seed, spec->text, err);
}

static apical_status kh_step(void *r, apical_sim *sim, apical_error *err)
{
    kh_rt *rt = r;
    const kh_spec *p = rt->s;
    uint64_t k = apical_engine_window_index(sim);
    const uint64_t U = p->u_epochs * rt->nb;
    if (k >= kh_steps(p))
        return APICAL_OK;
    if (k < U) {
        const uint64_t epoch = k / rt->nb, b = k % rt->nb;
        if (b == 0)
            shuffle(rt, epoch);
        unsupervised_batch(rt, epoch, b);
        if (b + 1 == rt->nb) {
            double nrm[3];
            norm_stats(rt, nrm);
            const double ep = (double)(epoch + 1),
                         eps = p->eps0 * (1.0 - (double)epoch / (double)p->u_epochs);
            const void *row[] = {&ep, &eps, &nrm[0], &nrm[1], &nrm[2]};
            apical_status st;
            if (rt->h5 && rt->t_unsup >= 0 &&
                (st = apical_h5_table_append(rt->h5, rt->t_unsup, row, err)))
                return st;
        }
        if (k + 1 == U)
            write_back(rt, sim, p->proj_w, rt->W, rt->Np);
        if (b + 1 == rt->nb && p->checkpoint)
            return write_checkpoint(rt, sim, epoch + 1, 0, err);
        return APICAL_OK;
    }
    k -= U;
    if (k < rt->nb + rt->nt) {
        if (k < rt->nb)
            feature_batch(rt, p->train, (size_t)(k * p->minibatch), rt->f_train);
        else
            feature_batch(rt, p->test, (size_t)((k - rt->nb) * p->minibatch), rt->f_test);
        /* the hidden population shows the last image's currents */
        const double T = (double)apical_engine_window_index(sim) * apical_engine_window(sim);
        apical_status st = apical_engine_sync(sim, p->hidden, T, err);
        if (st)
            return st;
        apical_engine_poke_all(sim, p->hidden, p->h_state, rt->hidden_h);
        return APICAL_OK;
    }
    k -= rt->nb + rt->nt;
    const uint64_t epoch = k / (rt->nb + 1), b = k % (rt->nb + 1);
    if (b == 0) {
        shuffle(rt, (1ull << 31) + epoch);
        rt->loss_sum = 0.0;
        rt->wrong = rt->seen = 0;
    }
    if (b < rt->nb) {
        readout_batch(rt, epoch, b);
        return APICAL_OK;
    }
    const double ep = (double)(epoch + 1), lr = p->lr0 * pow(p->lr_decay, (double)epoch);
    const double loss = rt->loss_sum / (double)rt->seen,
                 tr = (double)rt->wrong / (double)rt->seen, te = test_error(rt);
    write_back(rt, sim, p->proj_s, rt->S, rt->K);
    const void *row[] = {&ep, &lr, &loss, &tr, &te};
    apical_status st;
    if (rt->h5 && rt->t_readout >= 0 &&
        (st = apical_h5_table_append(rt->h5, rt->t_readout, row, err)))
        return st;
    if (p->checkpoint)
        return write_checkpoint(rt, sim, p->u_epochs, epoch + 1, err);
    return APICAL_OK;
}

const apical_protocol_type apical_krotov_hopfield = {
    .name = "krotov_hopfield",
    .doc = "Krotov & Hopfield 2019: competing hidden units learn unsupervised (p-norm "
           "Hebbian rule, anti-Hebbian k-th unit), then an Adam-trained tanh readout on "
           "the frozen features max(W.v, 0)^n",
    .parse = kh_parse,
    .free_spec = kh_free_spec,
    .fit = kh_fit,
    .learns = kh_learns,
    .build = kh_build,
    .step = kh_step,
    .output = kh_output,
    .free_rt = kh_free_rt,
};
