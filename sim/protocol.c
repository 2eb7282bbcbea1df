/* The segregated-dendrite phase protocol at run time (include/apical/
 * protocol.h): phase boundaries on the window grid, window averages from the
 * dendritic models' time integrals, presynaptic PSP averages from the merged
 * spikes, and the plateau and output rules applied once per example. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "apical/plateau.h"
#include "apical/protocol.h"
#include "engine_internal.h"

void apical_protocol_spec_free(apical_protocol_spec *p)
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
    uint64_t n_src;
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

struct protocol_rt {
    const apical_protocol_spec *ps;
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
};

static size_t field(const apical_model_type *m, const char *name, int state)
{
    return state ? apical_field_index(m->state, m->n_state, name)
                 : apical_field_index(m->params, m->n_params, name);
}

static double param(const apical_sim *S, size_t pi, const char *name)
{
    const apical_pop_spec *ps = &S->spec->pops[pi];
    return ps->param[field(ps->model, name, 0)];
}

static double state(const apical_sim *S, size_t pi, uint64_t i, size_t k)
{
    const pop_rt *pr = &S->pops[pi];
    return pr->y[pop_at(pr, i, k)];
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
 * the schedule exactly. Stops counting once past `stop` ms. */
double apical_protocol_end(const apical_protocol_spec *p, uint64_t seed, double window,
                           double stop)
{
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

static apical_status too_short(const apical_net_spec *spec, double window, apical_error *err)
{
    const apical_protocol_spec *p = spec->protocol;
    /* the whole need (the check stopped counting at the duration) */
    const double need = apical_protocol_end(p, spec->sim.seed, window, HUGE_VAL);
    const apical_srcpos *at = spec->sim.duration_pos.line ? &spec->sim.duration_pos : NULL;
    return apical_error_set(
        err, APICAL_E_RANGE, at,
        "duration %.10g ms ends before the protocol, which needs %.10g ms (%llu training "
        "examples, %llu test presentations, phases rounded up to the %g ms window); raise it, "
        "or omit 'duration' to end the run with the protocol's last presentation",
        spec->sim.duration, need, (unsigned long long)p->examples,
        (unsigned long long)p->test_examples, window);
}

/* A duration within rounding of the need becomes the need, so the last
 * boundary falls inside the run. */
static apical_status fit(apical_net_spec *spec, double window, apical_error *err)
{
    const apical_protocol_spec *p = spec->protocol;
    if (spec->sim.duration_auto) {
        const double need = apical_protocol_end(p, spec->sim.seed, window, HUGE_VAL);
        if (!(need > 0.0) || !isfinite(need))
            return apical_error_set(err, APICAL_E_RANGE, &p->pos,
                                    "without 'duration' the run lasts as long as the protocol, "
                                    "but it presents %s; give simulation.duration",
                                    need > 0.0 ? "too much to time" : "nothing");
        spec->sim.duration = need;
        return APICAL_OK;
    }
    const double need = apical_protocol_end(p, spec->sim.seed, window, spec->sim.duration);
    if (spec->sim.duration >= need)
        return APICAL_OK;
    if (spec->sim.duration >= need * (1.0 - 1e-12)) {
        spec->sim.duration = need;
        return APICAL_OK;
    }
    return too_short(spec, window, err);
}

apical_status apical_spec_fit_protocol(apical_net_spec *spec, apical_error *err)
{
    if (!spec->protocol)
        return APICAL_OK;
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

apical_status apical_protocol_build(apical_sim *S, apical_error *err)
{
    const apical_protocol_spec *ps = S->spec->protocol;
    if (!ps)
        return APICAL_OK;
    /* the loader fitted the duration to its best guess of the window; the
     * drawn delays decide */
    const double need = apical_protocol_end(ps, S->spec->sim.seed, S->min_delay,
                                            S->spec->sim.duration);
    if (S->spec->sim.duration < need * (1.0 - 1e-12))
        return too_short(S->spec, S->min_delay, err);
    struct protocol_rt *pr = calloc(1, sizeof *pr);
    if (!pr)
        return apical_error_set(err, APICAL_E_NOMEM, NULL, "out of memory");
    S->protocol = pr;
    pr->ps = ps;
    protocol_rng(&pr->rng, S->spec->sim.seed);
    pr->perm_epoch = UINT64_MAX;
    if (ps->stim_shuffle && ps->images &&
        !(pr->perm = malloc((ps->images->n + 1) * sizeof *pr->perm)))
        return apical_error_set(err, APICAL_E_NOMEM, NULL, "out of memory");
    if (ps->hidden != (size_t)-1) {
        const apical_model_type *m = S->spec->pops[ps->hidden].model;
        pr->nh = S->pops[ps->hidden].n;
        pr->h_C = field(m, "C", 1);
        pr->h_intC = field(m, "int_C", 1);
        pr->h_intA = field(m, "int_A", 1);
        pr->h_abias = field(m, "apical_bias", 1);
        pr->h_bias = field(m, "bias", 1);
        double gL = param(S, ps->hidden, "g_L"), gB = param(S, ps->hidden, "g_B"),
               gA = param(S, ps->hidden, "g_A");
        pr->h_kB = gB / (gL + gB + gA);
        pr->h_lambda = param(S, ps->hidden, "lambda_max") * 1e-3;
        pr->h_intA0 = calloc(pr->nh + 1, sizeof(double));
        pr->h_intC0 = calloc(pr->nh + 1, sizeof(double));
        pr->alpha_f = calloc(pr->nh + 1, sizeof(double));
        pr->alpha_t = calloc(pr->nh + 1, sizeof(double));
        pr->cbar_f = calloc(pr->nh + 1, sizeof(double));
        if (!pr->h_intA0 || !pr->h_intC0 || !pr->alpha_f || !pr->alpha_t || !pr->cbar_f)
            return apical_error_set(err, APICAL_E_NOMEM, NULL, "out of memory");
    }
    if (ps->output != (size_t)-1) {
        const apical_model_type *m = S->spec->pops[ps->output].model;
        pr->no = S->pops[ps->output].n;
        pr->o_C = field(m, "C", 1);
        pr->o_intC = field(m, "int_C", 1);
        pr->o_intL = field(m, "int_lambda", 1);
        S->pops[ps->output].track_int_hazard = 1; /* the output rule reads it */
        pr->o_gE = field(m, "g_E", 1);
        pr->o_gI = field(m, "g_I", 1);
        pr->o_bias = field(m, "bias", 1);
        double gL = param(S, ps->output, "g_L"), gD = param(S, ps->output, "g_D");
        pr->o_kD = gD / (gL + gD);
        pr->o_lambda = param(S, ps->output, "lambda_max") * 1e-3;
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
        const apical_proj_spec *pj = &S->spec->projs[ps->learn[k].proj];
        l->proj = ps->learn[k].proj;
        l->eta = ps->learn[k].eta;
        l->src_pop = pj->source;
        l->tgt_pop = pj->target;
        l->to_output = pj->target == ps->output;
        l->delay = pj->delay.a;
        l->tau_L = param(S, pj->target, "tau_L");
        l->tau_s = param(S, pj->target, "tau_s");
        double lam = l->to_output ? pr->o_lambda : pr->h_lambda;
        l->P = l->to_output ? 20.0 / (lam * lam) : 20.0 / lam;
        l->n_src = S->pops[l->src_pop].n;
        l->tr = calloc(l->n_src + 1, sizeof *l->tr);
        l->win0 = calloc(l->n_src + 1, sizeof *l->win0);
        l->psp_f = calloc(l->n_src + 1, sizeof *l->psp_f);
        l->E = calloc(S->pops[l->tgt_pop].n + 1, sizeof *l->E);
        l->gE = calloc(S->pops[l->tgt_pop].n + 1, sizeof *l->gE);
        if (!l->tr || !l->win0 || !l->psp_f || !l->E || !l->gE)
            return apical_error_set(err, APICAL_E_NOMEM, NULL, "out of memory");
    }
    pr->next_window = 0;
    pr->stage = ST_EX_START;
    return APICAL_OK;
}

void apical_protocol_free(apical_sim *S)
{
    struct protocol_rt *pr = S->protocol;
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
    S->protocol = NULL;
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

void apical_protocol_spikes(apical_sim *S, const spike_rec *sp, size_t n)
{
    struct protocol_rt *pr = S->protocol;
    if (pr->example >= pr->ps->examples)
        return; /* training is over: test presentations read no traces */
    for (size_t k = 0; k < pr->ps->n_learn; k++) {
        learn_rt *l = &pr->learn[k];
        const pop_rt *src = &S->pops[l->src_pop];
        for (size_t j = 0; j < n; j++) {
            if (sp[j].gid < src->gid0 || sp[j].gid >= src->gid0 + src->n)
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
            l->q[l->q_head + l->q_n++] = (arrival){sp[j].t + l->delay, sp[j].gid - src->gid0};
            if (l->q_n > S->stats.protocol_arrivals_peak)
                S->stats.protocol_arrivals_peak = l->q_n;
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

static apical_status symmetrize(apical_sim *S, const apical_protocol_spec *ps, apical_error *err)
{
    const apical_proj_spec *w = &S->spec->projs[ps->fb_of];
    uint64_t ns = S->pops[w->source].n, nt = S->pops[w->target].n;
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
static size_t training_image(const apical_sim *S, struct protocol_rt *pr)
{
    const apical_protocol_spec *ps = pr->ps;
    const uint64_t n = ps->images->n, k = ps->stim_first + pr->example;
    if (!ps->stim_shuffle || !pr->perm)
        return (size_t)(k % n);
    const uint64_t epoch = k / n;
    if (pr->perm_epoch != epoch) {
        apical_rng r;
        apical_rng_init(&r, S->spec->sim.seed,
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
static apical_status show_image(apical_sim *S, struct protocol_rt *pr, const apical_idx_set *im,
                                size_t img, double T, apical_error *err)
{
    const apical_protocol_spec *ps = pr->ps;
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

static apical_status boundary(apical_sim *S, struct protocol_rt *pr, apical_error *err)
{
    const apical_protocol_spec *ps = pr->ps;
    const double T = (double)S->window * S->min_delay;
    apical_status st;
    const int has_h = ps->hidden != (size_t)-1, has_o = ps->output != (size_t)-1;
    if ((has_h && (st = apical_engine_sync(S, ps->hidden, T, err))) ||
        (has_o && (st = apical_engine_sync(S, ps->output, T, err))))
        return st;
    switch (pr->stage) {
    case ST_EX_START: {
        if (ps->fb_proj != (size_t)-1 && !ps->fb_learned && (st = symmetrize(S, ps, err)))
            return st;
        if (pr->example >= ps->examples) {
            if (pr->test < ps->test_examples) {
                pr->stage = ST_TEST_START;
                pr->next_window = S->window;
            } else {
                pr->next_window = UINT64_MAX;
            }
            return APICAL_OK;
        }
        pr->k_ex0 = S->window;
        double tf = phase_length(&pr->rng, &ps->forward);
        pr->k_fwd_end = pr->k_ex0 + windows_for(S->min_delay, tf);
        for (uint64_t i = 0; has_h && ps->apical_forward && i < pr->nh; i++)
            apical_engine_poke(S, ps->hidden, i, pr->h_abias, ps->apical_forward[i]);
        for (uint64_t i = 0; has_o && i < pr->no; i++) {
            apical_engine_poke(S, ps->output, i, pr->o_gE, 0.0);
            apical_engine_poke(S, ps->output, i, pr->o_gI, 0.0);
        }
        if (ps->stim_input != (size_t)-1 &&
            (st = show_image(S, pr, ps->images,
                             training_image(S, pr), T, err)))
            return st;
        pr->stage = ST_FWD_WIN;
        pr->next_window = pr->k_ex0 + windows_settle(S->min_delay, ps->settle);
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
        pr->k_tgt_end = S->window + windows_for(S->min_delay, tt);
        pr->stage = ST_TGT_WIN;
        pr->next_window = S->window + windows_settle(S->min_delay, ps->settle);
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
            const uint64_t nt = S->pops[l->tgt_pop].n;
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
        if (S->on_plateau && has_h)
            S->on_plateau(S->plateau_user, pr->example, T, pr->alpha_f, pr->alpha_t, pr->nh);
        pr->example++;
        pr->stage = ST_EX_START;
        pr->next_window = S->window; /* the next example starts now */
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
        pr->k_test_end = S->window + windows_for(S->min_delay, ps->test_duration);
        uint64_t kw = windows_for(S->min_delay, ps->test_window);
        pr->next_window = pr->k_test_end > S->window + kw ? pr->k_test_end - kw : S->window;
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
        if (S->on_classify)
            S->on_classify(S->classify_user, pr->test, T, pr->label, best);
        pr->test++;
        pr->stage = ST_TEST_START;
        pr->next_window = S->window;
        return APICAL_OK;
    }
    }
    return APICAL_OK;
}

apical_status apical_protocol_step(apical_sim *S, apical_error *err)
{
    struct protocol_rt *pr = S->protocol;
    if (pr->nomem)
        return apical_error_set(err, APICAL_E_NOMEM, NULL,
                                "out of memory queueing the protocol's presynaptic spikes");
    /* Every window, not only in the phases that read the traces: the queue
     * then holds at most one delay's spikes, however long the run (test
     * presentations read no traces at all). */
    const double T = (double)S->window * S->min_delay;
    for (size_t k = 0; k < pr->ps->n_learn; k++)
        apply_arrivals(&pr->learn[k], T);
    while (pr->next_window == S->window) {
        apical_status st = boundary(S, pr, err);
        if (st)
            return st;
    }
    return APICAL_OK;
}
