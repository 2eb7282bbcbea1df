/* Building a simulation from a spec: state, partitions, synapses (CSR by
 * source, grouped by delay), inputs, recorders, GSL objects. */
#include <gsl/gsl_errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apical/connect.h"
#include "apical/limits.h"
#include "sim_state.h"
#include "threads.h"

static const struct {
    const char *name;
    const gsl_odeiv2_step_type **type;
    int multistep;
} steppers[] = {
    {"rk2", &gsl_odeiv2_step_rk2, 0},       {"rk4", &gsl_odeiv2_step_rk4, 0},
    {"rkf45", &gsl_odeiv2_step_rkf45, 0},   {"rkck", &gsl_odeiv2_step_rkck, 0},
    {"rk8pd", &gsl_odeiv2_step_rk8pd, 0},   {"rk1imp", &gsl_odeiv2_step_rk1imp, 0},
    {"rk2imp", &gsl_odeiv2_step_rk2imp, 0}, {"rk4imp", &gsl_odeiv2_step_rk4imp, 0},
    {"bsimp", &gsl_odeiv2_step_bsimp, 0},   {"msadams", &gsl_odeiv2_step_msadams, 1},
    {"msbdf", &gsl_odeiv2_step_msbdf, 1},
};

static int stepper_index(const char *name)
{
    for (size_t i = 0; i < sizeof steppers / sizeof steppers[0]; i++)
        if (strcmp(steppers[i].name, name) == 0)
            return (int)i;
    return -1;
}

static apical_status nomem(apical_error *err)
{
    return apical_error_set(err, APICAL_E_NOMEM, NULL, "out of memory while building the network");
}

/* A per-neuron array of this rank's neurons [own_lo, own_lo + own_n),
 * indexed by population index: its block's start minus off elements
 * (sim_state.h, pop_rt). NULL stays NULL. */
static double *own_shift(double *block, uint64_t off)
{
    return block ? block - off : NULL;
}

/* n zeroed doubles from the start of a cache line. Partitions own
 * contiguous ranges of each population and write their neurons' state
 * every window; the shipped networks' bounds (COBA, CUBA: 1600 and 400) are
 * multiples of 8 doubles, so from a line-aligned block no line holds two
 * partitions' neurons. From malloc (16 bytes aligned) the line at each bound
 * of y, y_next (each variable's segment), wake, t_last, ref_until was
 * written by both threads every window: COBA on 2 threads 16.1 -> 15.6 us a
 * window (docs/PERFORMANCE.md "COBA on two threads"). */
static double *line_doubles(size_t n)
{
    enum { LINE = 64 };
    const size_t bytes = (n * sizeof(double) + LINE - 1) / LINE * LINE;
    double *p = aligned_alloc(LINE, bytes);
    if (p)
        memset(p, 0, bytes);
    return p;
}

/* A cue from seeded patterns (initial: {s: {pattern: ...}}): sign b times
 * the majority of the listed patterns at unit i, flipped with probability
 * a by the neuron's own initial-state stream. */
static double pattern_cue(const apical_dist *d, uint64_t seed, uint64_t i, gsl_rng *r)
{
    double sum = 0.0;
    for (uint32_t k = 0; k < d->n_pat; k++)
        sum += apical_pattern_value(seed, d->stream, (uint32_t)d->values[k], i);
    double s = d->b * (sum > 0.0 ? 1.0 : sum < 0.0 ? -1.0 : 1.0);
    if (d->a > 0.0 && gsl_rng_uniform(r) < d->a)
        s = -s;
    return s;
}

/* Which neurons each partition owns: of every population a contiguous
 * range, partition p holding [part_bound(p), part_bound(p + 1)).
 *
 * A population with a `whole_cost`, or of fewer than
 * simulation.keep_whole_below neurons, lives whole in one partition: a split
 * population receives each spike sent to it once per partition that holds
 * part of it (MNIST's 10 outputs split 5/5 received all ~72 hidden spikes a
 * window twice). Its cost (0 when not given) is its work as a fraction of
 * one partition's even share of the split populations'. Whole populations
 * are placed by decreasing cost, each on the least loaded partition (ties:
 * the highest index, so equal costs go round-robin from the last); the
 * split populations are then shared out so that every partition has about
 * the same work (1 + total cost / n_parts of an even share each): the run
 * loop waits for the slowest partition every window. All costs 0: evenly,
 * n p / n_parts.
 *
 * The bounds never decrease with p (the routing's binary searches rely on
 * it). Which partition owns a neuron changes no result: its random numbers
 * are keyed by its index, spikes are merged by (time, id). */
typedef struct part_layout {
    unsigned n_parts;
    unsigned *home;  /* per population: its partition if whole, else UINT_MAX */
    double *cum;     /* [n_parts + 1]: the split populations' cumulative shares */
    int even;        /* no costs: the integer bounds n p / n_parts */
} part_layout;

static void part_layout_free(part_layout *L)
{
    free(L->home);
    free(L->cum);
}

static int is_whole(const apical_net_spec *spec, size_t pi)
{
    return spec->pops[pi].keep_whole || spec->pops[pi].size < spec->sim.keep_whole_below;
}

static double whole_cost(const apical_net_spec *spec, size_t pi)
{
    return spec->pops[pi].keep_whole ? spec->pops[pi].whole_cost : 0.0;
}

static int part_layout_init(part_layout *L, const apical_net_spec *spec, unsigned n_parts)
{
    L->n_parts = n_parts;
    L->home = malloc((spec->n_pops + 1) * sizeof *L->home);
    L->cum = calloc(n_parts + 1, sizeof *L->cum);
    double *load = calloc(n_parts, sizeof *load); /* whole populations' cost, */
    unsigned *count = calloc(n_parts, sizeof *count); /* and how many */
    if (!L->home || !L->cum || !load || !count) {
        free(load);
        free(count);
        return -1;
    }
    for (size_t pi = 0; pi < spec->n_pops; pi++)
        L->home[pi] = UINT_MAX;
    /* by decreasing cost (file order among equals): a few populations, so
     * a selection each time */
    double total = 0.0;
    for (;;) {
        size_t best = SIZE_MAX;
        for (size_t pi = 0; pi < spec->n_pops; pi++)
            if (L->home[pi] == UINT_MAX && is_whole(spec, pi) &&
                (best == SIZE_MAX || whole_cost(spec, pi) > whole_cost(spec, best)))
                best = pi;
        if (best == SIZE_MAX)
            break;
        /* the least loaded partition; among equals the one with fewest
         * whole populations, then the highest index */
        unsigned at = n_parts - 1;
        for (unsigned p = n_parts - 1; p-- > 0;)
            if (load[p] < load[at] || (load[p] == load[at] && count[p] < count[at]))
                at = p;
        L->home[best] = at;
        load[at] += whole_cost(spec, best);
        count[at]++;
        total += whole_cost(spec, best);
    }
    free(count);
    L->even = total == 0.0;
    /* partition p's share of the split populations: (1 + total / n_parts -
     * load[p]) / n_parts levels the loads; a partition whose whole
     * populations already exceed the level gets none */
    double sum = 0.0;
    for (unsigned p = 0; p < n_parts; p++)
        sum += fmax(0.0, 1.0 + total / n_parts - load[p]);
    for (unsigned p = 0; p < n_parts; p++)
        L->cum[p + 1] = L->cum[p] + fmax(0.0, 1.0 + total / n_parts - load[p]) / sum;
    free(load);
    return 0;
}

static uint64_t part_bound(const part_layout *L, const apical_net_spec *spec, size_t pi,
                           unsigned p)
{
    const uint64_t n = spec->pops[pi].size;
    if (L->home[pi] != UINT_MAX)
        return p <= L->home[pi] ? 0 : n;
    if (L->even || p == 0 || p == L->n_parts)
        return n * p / L->n_parts;
    const uint64_t b = (uint64_t)floor((double)n * L->cum[p]);
    return b < n ? b : n;
}

static apical_status build_pops(apical_sim *S, const part_layout *L, apical_error *err)
{
    const apical_net_spec *spec = S->spec;
    S->n_pops = spec->n_pops;
    S->pops = calloc(S->n_pops ? S->n_pops : 1, sizeof *S->pops);
    if (!S->pops)
        return nomem(err);
    gsl_rng *r = apical_rng_gsl_alloc();
    if (!r)
        return nomem(err);
    uint64_t gid = 0;
    for (size_t pi = 0; pi < S->n_pops; pi++) {
        const apical_pop_spec *ps = &spec->pops[pi];
        pop_rt *pr = &S->pops[pi];
        pr->spec = ps;
        pr->m = ps->model;
        pr->ns = pr->m->n_state;
        pr->n = ps->size;
        pr->gid0 = gid;
        gid += pr->n;
        /* this rank's neurons: those of its partitions [p0, p1) (the
         * partitions' ranges: part_bound); all of them in one process */
        const uint64_t lo = part_bound(L, spec, pi, S->p0), hi = part_bound(L, spec, pi, S->p1);
        const uint64_t nl = hi - lo;
        pr->own_lo = lo;
        pr->own_n = nl;
        pr->derived = calloc(pr->m->n_derived + 1, sizeof *pr->derived);
        /* the loader accepts "sweep" only for models with sweep ops */
        pr->sweep = strcmp(ps->stepper, "sweep") == 0 ? pr->m->sweep : NULL;
        /* dense sweep: struct-of-arrays for the window kernel; lazy sweep
         * (horizon_n), GSL, exact: array-of-structs (pop_rt) */
        const int soa = pr->sweep && !pr->sweep->horizon_n;
        pr->istride = soa ? 1 : pr->ns;
        pr->kstride = soa ? nl : 1;
        /* Per-neuron arrays hold this rank's neurons only, indexed by the
         * neuron's index in its population: each pointer is its block's
         * start minus own_lo elements (own_base gives the block back). */
        pr->y = own_shift(line_doubles(nl * pr->ns + 1), lo * pr->istride);
        if (pr->sweep && (pr->ns > APICAL_SWEEP_MAX_STATE ||
                          (!pr->sweep->horizon_n &&
                           !(pr->y_next = own_shift(line_doubles(nl * pr->ns + 1),
                                                    lo * pr->istride))) ||
                          !(pr->ystate = calloc(pr->ns + 1, sizeof *pr->ystate)))) {
            gsl_rng_free(r);
            return nomem(err);
        }
        pr->t_last = own_shift(line_doubles(nl + 1), lo);
        pr->h = own_shift(line_doubles(nl + 1), lo);
        pr->ref_until = own_shift(line_doubles(nl + 1), lo);
        pr->wake = own_shift(line_doubles(nl + 1), lo);
        if (!pr->derived || !pr->y || !pr->t_last || !pr->h || !pr->ref_until || !pr->wake) {
            gsl_rng_free(r);
            return nomem(err);
        }
        pr->m->derive(ps->param, pr->derived);
        apical_model_ctx ctx = {.param = ps->param, .derived = pr->derived};
        pr->t_ref = pr->m->refractory_period(&ctx);
        /* the loader accepts "exact" only for models with exact ops */
        pr->exact = strcmp(ps->stepper, "exact") == 0 ? pr->m->exact : NULL;
        pr->relay = pr->m->relay_receptor
                        ? (int)apical_receptor_index(pr->m, pr->m->relay_receptor)
                        : -1;
        if (pr->m->uses_rng) {
            apical_rng *g = calloc(nl + 1, sizeof *g);
            if (!g) {
                gsl_rng_free(r);
                return nomem(err);
            }
            pr->rng = g - lo; /* as own_shift */
        }
        uint32_t stream = apical_rng_stream_id(APICAL_RNG_INIT, ps->name);
        uint32_t own = apical_rng_stream_id(APICAL_RNG_NEURON, ps->name);
        for (uint64_t i = lo; i < hi; i++) { /* keyed by i: the same draws as one process */
            apical_rng_init(apical_rng_gsl_state(r), spec->sim.seed, stream, (uint32_t)i);
            for (size_t k = 0; k < pr->ns; k++)
                pr->y[pop_at(pr, i, k)] = ps->init[k].kind == APICAL_DIST_FILE
                                              ? ps->init[k].values[i]
                                          : ps->init[k].kind == APICAL_DIST_PATTERN
                                              ? pattern_cue(&ps->init[k], spec->sim.seed, i, r)
                                              : apical_dist_sample(&ps->init[k], r);
            pr->h[i] = 0.01;
            pr->ref_until[i] = -HUGE_VAL;
            if (pr->rng)
                apical_rng_init(&pr->rng[i], spec->sim.seed, own, (uint32_t)i);
            if (pr->m->init) {
                apical_model_ctx c = ctx;
                c.rng = pr->rng ? &pr->rng[i] : NULL;
                double y[APICAL_SWEEP_MAX_STATE];
                if (pr->sweep) { /* any layout: through a copy */
                    pop_get(pr, pr->y, i, y);
                    pr->m->init(y, &c);
                    pop_put(pr, pr->y, i, y);
                } else {
                    pr->m->init(pr->y + i * pr->ns, &c);
                }
            }
        }
    }
    gsl_rng_free(r);
    S->n_gid = gid;
    return APICAL_OK;
}

/* The synapse table of a partition is built in two passes over the
 * connectivity, in O(synapses + sources x projections) time and with no
 * per-synapse memory beyond the table itself (when delays are constant per
 * projection):
 *  1. count the synapses of every (projection, source) pair, drawing only
 *     the pairs (apical_connect_pairs);
 *  2. lay the table out: per source in global id order, its projections in
 *     (delay, index) order, each a block of the counted size; generate again
 *     and write every synapse at its block's cursor.
 * This is the order a stable sort by (source, delay, projection) of the
 * synapses in generation order gives. When a projection's delays are drawn,
 * the delays are kept per synapse during the build and each source's
 * synapses are sorted by (delay, projection, position) afterwards.
 *
 * Both passes generate the targets of all partitions at once and route each
 * synapse to the partition that owns its target: fixed_outdegree draws whole
 * rows, so generating per partition would draw every row once per
 * partition. */

/* One partition's share while building: per (projection, source) counts,
 * then cursors; per-synapse delays where they vary. */
typedef struct syn_work {
    uint32_t **cnt;
    size_t *per_proj;
    double *d;
    const uint8_t *shared; /* per projection: shares_weight (one array for all) */
    size_t left;     /* slots of the current projection not yet written: a guard */
    uint64_t n_blocks, widest;
} syn_work;

/* Routing the synapses of projection j to partitions by target. */
typedef struct syn_route {
    apical_sim *S;
    syn_work *w;
    size_t j, pi;     /* projection, its target population */
    int wfixed;       /* weights constant: written per block later */
    uint64_t lo, hi;  /* target range of the last target's partition, */
    uint32_t *cnt;    /* and its counts or cursors, table and guard */
    uint32_t *idx;
    double *wt, *d;
    size_t *left;
} syn_route;

static inline void route(syn_route *r, uint64_t tgt)
{
    if (tgt >= r->lo && tgt < r->hi)
        return;
    unsigned a = 0, b = r->S->n_parts - 1; /* the first partition whose range ends above tgt */
    while (a < b) {
        unsigned m = (a + b) / 2;
        if (tgt < r->S->parts[m].pp[r->pi].hi)
            b = m;
        else
            a = m + 1;
    }
    partition *P = &r->S->parts[a];
    r->lo = P->pp[r->pi].lo;
    r->hi = P->pp[r->pi].hi;
    if (a < r->S->p0 || a >= r->S->p1) { /* another rank's: dropped */
        r->cnt = NULL;
        return;
    }
    r->cnt = r->w[a].cnt[r->j];
    r->idx = P->syn_idx;
    r->wt = r->wfixed ? NULL : P->syn_w;
    r->d = r->w[a].d;
    r->left = &r->w[a].left;
}

/* The build's interrupt check: a signal handler's flag, read once per
 * synapse generated (connectivity is the build's long loop). */
static int stopped(const apical_sim *S)
{
    return S->stop && *S->stop;
}

static apical_status interrupted(const apical_sim *S, apical_error *err)
{
    (void)S;
    return apical_error_set(err, APICAL_E_INTERRUPTED, NULL,
                            "interrupted while building the network");
}

static int count_syn(void *user, uint64_t src, uint64_t tgt)
{
    syn_route *r = user;
    if (stopped(r->S))
        return 1;
    route(r, tgt);
    if (!r->cnt)
        return 0;
    return ++r->cnt[src] == 0; /* wrapped: more than 2^32 - 1 synapses */
}

static int fill_syn(void *user, uint64_t src, uint64_t tgt, double w, double d)
{
    syn_route *r = user;
    if (stopped(r->S))
        return 1;
    route(r, tgt);
    if (!r->cnt)
        return 0;
    if (!(*r->left)--)
        return 1;
    uint32_t s = r->cnt[src]++;
    r->idx[s] = (uint32_t)tgt;
    if (r->wt)
        r->wt[s] = w;
    if (r->d)
        r->d[s] = d;
    return 0;
}

/* Sorting one source's synapses by (delay, projection, position). */
typedef struct syn_key {
    double d;
    uint32_t proj, pos;
} syn_key;

static int cmp_key(const void *a, const void *b)
{
    const syn_key *x = a, *y = b;
    if (x->d != y->d)
        return x->d < y->d ? -1 : 1;
    if (x->proj != y->proj)
        return x->proj < y->proj ? -1 : 1;
    return (x->pos > y->pos) - (x->pos < y->pos);
}

/* Delays differ per synapse: drawn, or read from an edges file. */
static int delay_varies(const apical_proj_spec *pj)
{
    return pj->delay.kind != APICAL_DIST_CONSTANT ||
           (pj->conn == APICAL_CONN_FROM_FILE && pj->edge_d);
}

/* One weight for the whole projection: the table is filled per block, in
 * order, instead of at scattered slots during generation (at 10^8 synapses
 * a scattered store is a cache miss). */
static int weight_fixed(const apical_proj_spec *pj)
{
    return pj->weight.kind == APICAL_DIST_CONSTANT &&
           !(pj->conn == APICAL_CONN_FROM_FILE && pj->edge_w);
}

/* A projection whose synapses can share one weight (syn_group.shared_w):
 * constant, and nothing reads or writes a synapse's weight by its index:
 * not plastic, no weights recorder, no protocol (a protocol may set
 * weights: apical_engine_each_weight, apical_engine_rank1_update), and a
 * target not on the exact path (its kernels read a weight vector). Saves 8
 * of the 12 bytes per synapse, and of the table read per delivery. */
static int shares_weight(const apical_sim *S, size_t j)
{
    const apical_net_spec *spec = S->spec;
    const apical_proj_spec *pj = &spec->projs[j];
    if (!weight_fixed(pj) || pj->rule || spec->protocol_type || S->pops[pj->target].exact)
        return 0;
    for (size_t r = 0; r < spec->n_recorders; r++)
        if (spec->recorders[r].kind == APICAL_REC_WEIGHTS && spec->recorders[r].proj == j)
            return 0;
    return 1;
}

/* Where a projection's block goes among a source's blocks: by constant
 * delay, then by index; varying delays sort per synapse later (any key). */
static double block_key(const apical_proj_spec *pj)
{
    return delay_varies(pj) ? -HUGE_VAL : pj->delay.a;
}

/* Append a group, growing the array; fills in what the projection fixes. */
static int push_group(partition *P, size_t *cap, const apical_proj_spec *pj, size_t j,
                      int shared, double delay, uint64_t begin, uint64_t end)
{
    if (P->n_groups == *cap) {
        size_t c = *cap ? 2 * *cap : 1024;
        syn_group *v = realloc(P->groups, c * sizeof *v);
        if (!v)
            return 1;
        P->groups = v;
        *cap = c;
    }
    syn_group *g = &P->groups[P->n_groups++];
    *g = (syn_group){delay, (uint32_t)begin, (uint32_t)end, (uint32_t)j, (uint16_t)pj->target,
                     (uint8_t)pj->receptor, 1, shared != 0};
    for (uint64_t s = begin + 1; s < end && g->contiguous; s++)
        g->contiguous = P->syn_idx[s] == P->syn_idx[s - 1] + 1;
    return 0;
}

/* State of plastic projections: per synapse presynaptic traces, per target
 * neuron an archive of postsynaptic spikes. */
static apical_status build_plastic(apical_sim *S, partition *P, const size_t *per_proj,
                                   apical_error *err)
{
    const apical_net_spec *spec = S->spec;
    P->plastic_of_proj = malloc((spec->n_projs + 1) * sizeof *P->plastic_of_proj);
    P->plastic = calloc(spec->n_projs + 1, sizeof *P->plastic);
    P->plastic_of_pop = calloc(S->n_pops + 1, sizeof *P->plastic_of_pop);
    P->n_plastic_of_pop = calloc(S->n_pops + 1, sizeof *P->n_plastic_of_pop);
    if (!P->plastic_of_proj || !P->plastic || !P->plastic_of_pop || !P->n_plastic_of_pop)
        return nomem(err);
    for (size_t j = 0; j < spec->n_projs; j++) {
        const apical_proj_spec *pj = &spec->projs[j];
        P->plastic_of_proj[j] = -1;
        if (!pj->rule)
            continue;
        plastic_proj *pl = &P->plastic[P->n_plastic];
        P->plastic_of_proj[j] = (int32_t)P->n_plastic++;
        const pop_part *pp = &P->pp[pj->target];
        pl->proj = j;
        pl->rule = pj->rule;
        pl->param = pj->rule_param;
        pl->derived = calloc(pj->rule->n_derived + 1, sizeof *pl->derived);
        pl->stride = PRE_TRACES + pj->rule->n_pre;
        pl->estride = 1 + pj->rule->n_post;
        pl->n_syn = per_proj[j];
        pl->pre = calloc(pl->n_syn * pl->stride + 1, sizeof *pl->pre);
        pl->lo = pp->lo;
        const uint64_t n_tgt = pp->hi - pp->lo;
        pl->arch = calloc(n_tgt + 1, sizeof *pl->arch);
        pl->in_off = calloc(n_tgt + 2, sizeof *pl->in_off);
        pl->in_syn = malloc((pl->n_syn + 1) * sizeof *pl->in_syn);
        if (!pl->derived || !pl->pre || !pl->arch || !pl->in_off || !pl->in_syn)
            return nomem(err);
        pj->rule->derive(pl->param, pl->derived);
        for (size_t k = 0; k < pl->n_syn; k++) {
            pl->pre[k * pl->stride + PRE_T_LAST] = -HUGE_VAL;
            pl->pre[k * pl->stride + PRE_READ] = -HUGE_VAL;
        }
        /* The incoming synapses of each target neuron (all in this
         * partition, which owns the neuron), for the archive's scans, and
         * their longest delay. */
        for (uint64_t i = 0; i < n_tgt; i++)
            pl->arch[i].scan_at = APICAL_ARCHIVE_MIN_SCAN;
        for (size_t g = 0; g < P->n_groups; g++)
            if (P->groups[g].proj == j)
                for (uint32_t s = P->groups[g].begin; s < P->groups[g].end; s++) {
                    const uint64_t k = P->syn_idx[s] - pp->lo;
                    pl->in_off[k + 2]++;
                    pl->arch[k].dmax = fmax(pl->arch[k].dmax, P->groups[g].delay);
                }
        for (uint64_t i = 0; i < n_tgt; i++)
            pl->in_off[i + 2] += pl->in_off[i + 1];
        for (size_t g = 0; g < P->n_groups; g++)
            if (P->groups[g].proj == j)
                for (uint32_t s = P->groups[g].begin; s < P->groups[g].end; s++)
                    pl->in_syn[pl->in_off[P->syn_idx[s] - pp->lo + 1]++] = P->syn_pidx[s];
        size_t *list = realloc(P->plastic_of_pop[pj->target],
                               (P->n_plastic_of_pop[pj->target] + 1) * sizeof *list);
        if (!list)
            return nomem(err);
        list[P->n_plastic_of_pop[pj->target]++] = P->n_plastic - 1;
        P->plastic_of_pop[pj->target] = list;
    }
    return APICAL_OK;
}

/* After counting: allocate the partition's table and turn its counts into
 * each block's first slot (sources in global id order, a source's
 * projections in `order`). */
static apical_status lay_out(apical_sim *S, partition *P, syn_work *w, const size_t *order,
                             size_t *out, int drawn, apical_error *err)
{
    const apical_net_spec *spec = S->spec;
    const size_t np = spec->n_projs;
    uint64_t n_syn = 0;
    for (size_t j = 0; j < np; j++)
        n_syn += w->per_proj[j];
    if (n_syn > UINT32_MAX)
        return apical_error_set(err, APICAL_E_RANGE, NULL,
                                "partition %u has %llu synapses, more than the %lu a partition "
                                "can hold; use more partitions",
                                P->id, (unsigned long long)n_syn, (unsigned long)UINT32_MAX);
    P->n_syn = n_syn;
    /* per-synapse weights only if some synapse here has its own */
    int own = 0;
    for (size_t j = 0; j < np; j++)
        own |= w->per_proj[j] && !w->shared[j];
    P->row = calloc(S->n_gid + 1, sizeof *P->row);
    P->syn_idx = malloc((n_syn + 1) * sizeof *P->syn_idx);
    P->shared_w = malloc((np + 1) * sizeof *P->shared_w);
    if (!P->row || !P->syn_idx || !P->shared_w ||
        (own && !(P->syn_w = malloc((n_syn + 1) * sizeof *P->syn_w))) ||
        (drawn && !(w->d = malloc((n_syn + 1) * sizeof *w->d))))
        return nomem(err);
    for (size_t j = 0; j < np; j++)
        P->shared_w[j] = w->shared[j] ? spec->projs[j].weight.a : NAN;
    uint64_t pos = 0;
    for (size_t pi = 0; pi < S->n_pops; pi++) {
        size_t n_out = 0;
        for (size_t k = 0; k < np; k++)
            if (spec->projs[order[k]].source == pi)
                out[n_out++] = order[k];
        for (uint64_t i = 0; i < S->pops[pi].n && n_out; i++) {
            const uint64_t first = pos;
            for (size_t k = 0; k < n_out; k++) {
                const uint32_t c = w->cnt[out[k]][i];
                w->cnt[out[k]][i] = (uint32_t)pos;
                pos += c;
                w->n_blocks += c > 0;
            }
            if (pos - first > w->widest)
                w->widest = pos - first;
        }
    }
    return APICAL_OK;
}

/* After filling (cursors now at each block's end): constant weights, the
 * delay groups and the row index; split by delay where delays vary. */
static apical_status make_groups(apical_sim *S, partition *P, syn_work *w, const size_t *order,
                                 size_t *out, int drawn, apical_error *err)
{
    const apical_net_spec *spec = S->spec;
    const size_t np = spec->n_projs;
    syn_key *keys = NULL;
    uint32_t *t_idx = NULL;
    double *t_w = NULL;
    apical_status st = APICAL_OK;
    if (drawn && (!(keys = malloc((w->widest + 1) * sizeof *keys)) ||
                  !(t_idx = malloc((w->widest + 1) * sizeof *t_idx)) ||
                  !(t_w = malloc((w->widest + 1) * sizeof *t_w)))) {
        st = nomem(err);
        goto done;
    }
    if (!(P->groups = malloc((w->n_blocks + 1) * sizeof *P->groups))) {
        st = nomem(err);
        goto done;
    }
    size_t cap_groups = w->n_blocks + 1;
    P->n_groups = 0;
    uint64_t gid = 0, pos = 0;
    for (size_t pi = 0; pi < S->n_pops; pi++) {
        size_t n_out = 0;
        for (size_t k = 0; k < np; k++)
            if (spec->projs[order[k]].source == pi)
                out[n_out++] = order[k];
        for (uint64_t i = 0; i < S->pops[pi].n; i++, gid++) {
            P->row[gid] = (uint32_t)P->n_groups;
            for (uint64_t k = 0, s = pos; k < n_out; k++) {
                const apical_proj_spec *pj = &spec->projs[out[k]];
                for (; s < w->cnt[out[k]][i]; s++)
                    if (weight_fixed(pj) && P->syn_w) /* (a shared one too: no gaps) */
                        P->syn_w[s] = pj->weight.a;
            }
            if (!drawn) {
                for (size_t k = 0; k < n_out; k++) {
                    const size_t j = out[k];
                    const uint64_t end = w->cnt[j][i];
                    if (end > pos && push_group(P, &cap_groups, &spec->projs[j], j, w->shared[j],
                                                spec->projs[j].delay.a, pos, end)) {
                        st = nomem(err);
                        goto done;
                    }
                    pos = end;
                }
                continue;
            }
            const uint64_t first = pos;
            size_t n = 0;
            int sorted = 1;
            for (size_t k = 0; k < n_out; k++) {
                for (; pos < w->cnt[out[k]][i]; pos++, n++) {
                    keys[n] = (syn_key){w->d[pos], (uint32_t)out[k], (uint32_t)pos};
                    if (n && cmp_key(&keys[n - 1], &keys[n]) > 0)
                        sorted = 0;
                }
            }
            if (!sorted) {
                qsort(keys, n, sizeof *keys, cmp_key);
                for (size_t m = 0; m < n; m++)
                    t_idx[m] = P->syn_idx[keys[m].pos];
                memcpy(P->syn_idx + first, t_idx, n * sizeof *t_idx);
                if (P->syn_w) {
                    for (size_t m = 0; m < n; m++)
                        t_w[m] = P->syn_w[keys[m].pos];
                    memcpy(P->syn_w + first, t_w, n * sizeof *t_w);
                }
            }
            for (size_t m = 0, b = 0; m < n; m = b) {
                for (b = m + 1; b < n && keys[b].d == keys[m].d && keys[b].proj == keys[m].proj;)
                    b++;
                if (push_group(P, &cap_groups, &spec->projs[keys[m].proj], keys[m].proj,
                               w->shared[keys[m].proj], keys[m].d, first + m, first + b)) {
                    st = nomem(err);
                    goto done;
                }
            }
        }
    }
    P->row[S->n_gid] = (uint32_t)P->n_groups;
    for (size_t g = 0; g < P->n_groups; g++)
        if (P->groups[g].delay < S->min_delay)
            S->min_delay = P->groups[g].delay;
done:
    free(keys);
    free(t_idx);
    free(t_w);
    return st;
}

/* Plastic synapses: their index within the projection, in table order (so
 * consecutive within a delay group: the engine's apply_rules relies on it);
 * then the plastic projections' state. */
static apical_status make_plastic(apical_sim *S, partition *P, const syn_work *w, int plastic,
                                  apical_error *err)
{
    if (plastic) {
        size_t *k = calloc(S->spec->n_projs + 1, sizeof *k);
        if (!k || !(P->syn_pidx = malloc((P->n_syn + 1) * sizeof *P->syn_pidx))) {
            free(k);
            return nomem(err);
        }
        for (size_t g = 0; g < P->n_groups; g++)
            for (uint32_t s = P->groups[g].begin; s < P->groups[g].end; s++)
                P->syn_pidx[s] = (uint32_t)k[P->groups[g].proj]++;
        free(k);
    }
    return build_plastic(S, P, w->per_proj, err);
}

/* The synapse tables of all partitions (P->pp set). */
static apical_status build_synapses(apical_sim *S, apical_error *err)
{
    const apical_net_spec *spec = S->spec;
    const size_t np = spec->n_projs;
    const unsigned n_parts = S->n_parts;
    apical_status st = APICAL_OK;
    syn_work *w = calloc(n_parts, sizeof *w);
    size_t *order = malloc((np + 1) * sizeof *order);
    size_t *out = malloc((np + 1) * sizeof *out);
    uint8_t *shared = malloc(np + 1);
    int drawn = 0, plastic = 0;
    if (!w || !order || !out || !shared) {
        st = nomem(err);
        goto done;
    }
    for (size_t j = 0; j < np; j++)
        shared[j] = (uint8_t)shares_weight(S, j);
    /* this rank's partitions [p0, p1) only: w[p] of the others stays empty */
    const unsigned p0 = S->p0, p1 = S->p1;
    for (unsigned p = p0; p < p1; p++)
        w[p].shared = shared;
    for (unsigned p = p0; p < p1; p++)
        if (!(w[p].cnt = calloc(np + 1, sizeof *w[p].cnt)) ||
            !(w[p].per_proj = calloc(np + 1, sizeof *w[p].per_proj))) {
            st = nomem(err);
            goto done;
        }
    /* 1. count */
    for (size_t j = 0; j < np; j++) {
        const apical_proj_spec *pj = &spec->projs[j];
        const uint64_t n_src = S->pops[pj->source].n, n_tgt = S->pops[pj->target].n;
        for (unsigned p = p0; p < p1; p++)
            if (!(w[p].cnt[j] = calloc(n_src + 1, sizeof **w[p].cnt))) {
                st = nomem(err);
                goto done;
            }
        syn_route r = {.S = S, .w = w, .j = j, .pi = pj->target};
        /* only this rank's targets (all of them in one process) */
        const uint64_t lo = S->parts[p0].pp[pj->target].lo, hi = S->parts[p1 - 1].pp[pj->target].hi;
        st = apical_connect_pairs(pj, n_src, n_tgt, spec->sim.seed, lo, hi, count_syn, &r, err);
        if (stopped(S))
            st = interrupted(S, err);
        if (st)
            goto done;
        for (unsigned p = p0; p < p1; p++)
            for (uint64_t i = 0; i < n_src; i++)
                w[p].per_proj[j] += w[p].cnt[j][i];
        drawn |= delay_varies(pj);
        plastic |= pj->rule != NULL;
        size_t k = j;
        for (; k > 0 && block_key(&spec->projs[order[k - 1]]) > block_key(pj); k--)
            order[k] = order[k - 1];
        order[k] = j;
    }
    /* 2. lay out, fill */
    for (unsigned p = p0; p < p1; p++)
        if ((st = lay_out(S, &S->parts[p], &w[p], order, out, drawn, err)))
            goto done;
    for (size_t j = 0; j < np; j++) {
        const apical_proj_spec *pj = &spec->projs[j];
        const uint64_t n_tgt = S->pops[pj->target].n;
        syn_route r = {.S = S, .w = w, .j = j, .pi = pj->target, .wfixed = weight_fixed(pj)};
        for (unsigned p = p0; p < p1; p++)
            w[p].left = w[p].per_proj[j];
        const uint64_t lo = S->parts[p0].pp[pj->target].lo, hi = S->parts[p1 - 1].pp[pj->target].hi;
        st = apical_connect(pj, S->pops[pj->source].n, n_tgt, spec->sim.seed, lo, hi, fill_syn,
                            &r, err);
        if (stopped(S))
            st = interrupted(S, err);
        if (st)
            goto done;
        for (unsigned p = p0; p < p1; p++)
            if (w[p].left) { /* the second pass must draw what the first did */
                st = apical_error_set(err, APICAL_E_INVALID, &pj->pos,
                                      "internal error: projection %s drew different synapses "
                                      "in two passes",
                                      pj->name);
                goto done;
            }
    }
    /* 3. groups */
    for (unsigned p = p0; p < p1; p++) {
        if ((stopped(S) && (st = interrupted(S, err))) ||
            (st = make_groups(S, &S->parts[p], &w[p], order, out, drawn, err)) ||
            (st = make_plastic(S, &S->parts[p], &w[p], plastic, err)))
            goto done;
        free(w[p].d);
        w[p].d = NULL;
    }
done:
    for (unsigned p = 0; w && p < n_parts; p++) {
        for (size_t j = 0; w[p].cnt && j < np; j++)
            free(w[p].cnt[j]);
        free(w[p].cnt);
        free(w[p].per_proj);
        free(w[p].d);
    }
    free(w);
    free(order);
    free(out);
    free(shared);
    return st;
}

/* The model's derivs and Jacobian in segment-local time (see pop_part). */
static int local_derivs(double t, const double y[], double f[], void *params)
{
    pop_part *pp = params;
    return pp->m->derivs(pp->t_off + t, y, f, &pp->ctx);
}

static int local_jacobian(double t, const double y[], double *dfdy, double dfdt[], void *params)
{
    pop_part *pp = params;
    return pp->m->jacobian(pp->t_off + t, y, dfdy, dfdt, &pp->ctx);
}

static apical_status build_gsl(apical_sim *S, partition *P, apical_error *err)
{
    for (size_t pi = 0; pi < S->n_pops; pi++) {
        pop_rt *pr = &S->pops[pi];
        pop_part *pp = &P->pp[pi];
        const apical_pop_spec *ps = pr->spec;
        if (pr->exact) {
            apical_status st = apical_exact_build(S, P, pi, err);
            if (st)
                return st;
            continue;
        }
        if (pr->sweep) {
            apical_status st = apical_sweep_build(S, P, pi, err);
            if (st)
                return st;
            continue;
        }
        int k = stepper_index(ps->stepper);
        if (k < 0)
            return apical_error_set(err, APICAL_E_UNKNOWN_NAME, &ps->pos,
                                    "unknown GSL stepper '%s'", ps->stepper);
        pp->ctx = (apical_model_ctx){.param = ps->param, .derived = pr->derived};
        pp->m = pr->m;
        pp->sys = (gsl_odeiv2_system){local_derivs, pr->m->jacobian ? local_jacobian : NULL,
                                      pr->ns, pp};
        pp->step = gsl_odeiv2_step_alloc(*steppers[k].type, pr->ns);
        pp->ctl = gsl_odeiv2_control_y_new(ps->abs_tol, ps->rel_tol);
        pp->evo = gsl_odeiv2_evolve_alloc(pr->ns);
        pp->scratch = malloc(6 * pr->ns * sizeof *pp->scratch);
        pp->multistep = steppers[k].multistep;
        pp->abs_tol = ps->abs_tol;
        pp->rel_tol = ps->rel_tol;
        pp->order = gsl_odeiv2_step_order(pp->step);
        if (!pp->step || !pp->ctl || !pp->evo || !pp->scratch)
            return nomem(err);
        pp->drv = (gsl_odeiv2_driver){.sys = &pp->sys, .s = pp->step, .c = pp->ctl,
                                      .e = pp->evo, .h = 1e-3, .hmax = HUGE_VAL};
        gsl_odeiv2_step_set_driver(pp->step, &pp->drv);
        gsl_odeiv2_control_set_driver(pp->ctl, &pp->drv);
        gsl_odeiv2_evolve_set_driver(pp->evo, &pp->drv);
    }
    return APICAL_OK;
}

static int cmp_delay_desc(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x < y) - (x > y);
}

/* One delivery FIFO per distinct delay of the whole network when there are
 * at most APICAL_MAX_FIFOS of them, else none (all deliveries in the heap).
 * The choice and the FIFOs' order (longest delay first: on equal arrival
 * times the earlier spike first, as the heap's insertion order had it) are
 * the same in every partition, so results stay independent of partitioning. */
static apical_status build_fifos(apical_sim *S, apical_error *err)
{
    double delays[APICAL_MAX_FIFOS];
    size_t n = 0;
    int too_many = 0;
    for (unsigned p = S->p0; p < S->p1 && !too_many; p++) {
        const partition *P = &S->parts[p];
        for (size_t k = 0; k < P->n_groups && !too_many; k++) {
            size_t f = 0;
            while (f < n && delays[f] != P->groups[k].delay)
                f++;
            if (f == n) {
                if (n == APICAL_MAX_FIFOS)
                    too_many = 1;
                else
                    delays[n++] = P->groups[k].delay;
            }
        }
    }
    if (apical_comm_size(S->comm) > 1) {
        /* the union over ranks: every rank makes the same choice */
        const size_t R = (size_t)S->comm->size, m = APICAL_MAX_FIFOS + 1;
        double mine[APICAL_MAX_FIFOS + 1], *all = malloc(R * m * sizeof *all);
        apical_status st = apical_comm_agree(S->comm, all ? APICAL_OK : APICAL_E_NOMEM, err);
        if (st) {
            free(all);
            return st == APICAL_E_NOMEM ? nomem(err) : st;
        }
        mine[0] = too_many ? -1.0 : (double)n;
        memcpy(mine + 1, delays, n * sizeof *delays);
        if (S->comm->ops->allgather(S->comm->impl, mine, all, m * sizeof *all)) {
            free(all);
            return apical_error_set(err, APICAL_E_COMM, NULL, "exchange of delays failed");
        }
        n = 0;
        for (size_t r = 0; r < R && !too_many; r++) {
            const double *a = all + r * m;
            too_many = a[0] < 0;
            for (size_t k = 0; !too_many && k < (size_t)a[0]; k++) {
                size_t f = 0;
                while (f < n && delays[f] != a[1 + k])
                    f++;
                if (f == n) {
                    if (n == APICAL_MAX_FIFOS)
                        too_many = 1;
                    else
                        delays[n++] = a[1 + k];
                }
            }
        }
        free(all);
    }
    if (too_many)
        n = 0;
    qsort(delays, n, sizeof *delays, cmp_delay_desc);
    for (unsigned p = S->p0; p < S->p1; p++) {
        partition *P = &S->parts[p];
        if (!(P->group_fifo = malloc(P->n_groups + 1)))
            return nomem(err);
        P->n_fifo = n;
        for (size_t f = 0; f < n; f++)
            P->fifo[f].delay = delays[f];
        for (size_t k = 0; k < P->n_groups; k++) {
            size_t f = 0;
            while (f < n && delays[f] != P->groups[k].delay)
                f++;
            P->group_fifo[k] = f < n ? (uint8_t)f : APICAL_NO_FIFO;
        }
    }
    return APICAL_OK;
}

static int owned(const pop_part *pp, uint64_t node)
{
    return node >= pp->lo && node < pp->hi;
}

static apical_status build_inputs(apical_sim *S, partition *P, apical_error *err)
{
    const apical_net_spec *spec = S->spec;
    const double t_end = spec->sim.duration;
    P->inputs = calloc(spec->n_inputs + 1, sizeof *P->inputs);
    if (!P->inputs)
        return nomem(err);
    for (size_t j = 0; j < spec->n_inputs; j++) {
        const apical_input_spec *in = &spec->inputs[j];
        const pop_part *pp = &P->pp[in->target];
        input_rt *ir = &P->inputs[j];
        uint64_t n_list = in->nodes ? in->n_nodes : S->pops[in->target].n;
        size_t cnt = 0;
        for (uint64_t k = 0; k < n_list; k++)
            cnt += owned(pp, in->nodes ? in->nodes[k] : k);
        ir->node = malloc((cnt + 1) * sizeof *ir->node);
        ir->rng = calloc(cnt + 1, sizeof *ir->rng);
        ir->value = calloc(cnt + 1, sizeof *ir->value);
        if (!ir->node || !ir->rng || !ir->value)
            return nomem(err);
        for (uint64_t k = 0; k < n_list; k++) {
            uint64_t node = in->nodes ? in->nodes[k] : k;
            if (owned(pp, node))
                ir->node[ir->n++] = node;
        }
        if (!ir->n)
            continue;
        uint32_t stream = apical_rng_stream_id(APICAL_RNG_POISSON, in->name);
        /* Keyed by neuron id, so a node's random numbers do not depend on
         * partitioning. */
        for (size_t c = 0; c < ir->n; c++)
            apical_rng_init(&ir->rng[c], spec->sim.seed, stream, (uint32_t)ir->node[c]);
        int rc = 0;
        switch (in->kind) {
        case APICAL_INPUT_POISSON:
        case APICAL_INPUT_INHOM_POISSON:
            for (size_t c = 0; c < ir->n && !rc; c++) {
                double t0 = in->kind == APICAL_INPUT_POISSON ? in->start : 0.0;
                double t = apical_next_poisson(in, t0, t_end, &ir->rng[c]);
                if (t < t_end)
                    rc = apical_queue_push(&P->q, t, EV_POISSON, (uint32_t)j, c);
            }
            break;
        case APICAL_INPUT_SPIKE_TIMES:
            if (in->n_times)
                rc = apical_queue_push(&P->q, in->times[0], EV_SPIKE_LIST, (uint32_t)j, 0);
            break;
        case APICAL_INPUT_DC:
            /* change 0 at start, change 1 at stop */
            rc = apical_queue_push(&P->q, in->start, EV_CURRENT, (uint32_t)j, 0);
            break;
        case APICAL_INPUT_STEP_CURRENT:
            rc = apical_queue_push(&P->q, in->times[0], EV_CURRENT, (uint32_t)j, 0);
            break;
        case APICAL_INPUT_SINUSOIDAL:
            rc = apical_queue_push(&P->q, in->start, EV_SINUSOID, (uint32_t)j, 0);
            break;
        case APICAL_INPUT_OU_CURRENT:
            rc = apical_queue_push(&P->q, in->start, EV_OU, (uint32_t)j, 0);
            break;
        }
        if (rc)
            return nomem(err);
    }
    return APICAL_OK;
}

/* Device currents: every population gets a per-neuron current; those with a
 * sinusoidal device also its parameters (one sinusoid per neuron). */
static apical_status build_currents(apical_sim *S, apical_error *err)
{
    const apical_net_spec *spec = S->spec;
    for (size_t pi = 0; pi < S->n_pops; pi++) {
        pop_rt *pr = &S->pops[pi];
        if (!(pr->i_ext = calloc(pr->own_n + 1, sizeof *pr->i_ext)))
            return nomem(err);
        pr->i_ext = own_shift(pr->i_ext, pr->own_lo);
    }
    /* at most one sinusoid per neuron: checked over every node on every
     * rank (a bitmap per population while building), so every rank finds
     * the same error */
    unsigned char **seen = calloc(S->n_pops + 1, sizeof *seen);
    apical_status st = seen ? APICAL_OK : nomem(err);
    for (size_t j = 0; j < spec->n_inputs && !st; j++) {
        const apical_input_spec *in = &spec->inputs[j];
        if (in->kind != APICAL_INPUT_SINUSOIDAL)
            continue;
        pop_rt *pr = &S->pops[in->target];
        if (!pr->i_sin) {
            if (!(pr->i_sin = calloc(3 * pr->own_n + 1, sizeof *pr->i_sin)) ||
                !(seen[in->target] = calloc(pr->n / 8 + 1, 1))) {
                st = nomem(err);
                break;
            }
            pr->i_sin = own_shift(pr->i_sin, 3 * pr->own_lo);
        }
        unsigned char *bits = seen[in->target];
        uint64_t n_list = in->nodes ? in->n_nodes : pr->n;
        for (uint64_t k = 0; k < n_list; k++) {
            uint64_t node = in->nodes ? in->nodes[k] : k;
            if (bits[node / 8] & (1u << (node % 8))) {
                st = apical_error_set(err, APICAL_E_RANGE, &in->pos,
                                      "neuron %llu of '%s' has more than one sinusoidal_current; "
                                      "at most one per neuron is supported",
                                      (unsigned long long)node, pr->spec->name);
                break;
            }
            bits[node / 8] |= (unsigned char)(1u << (node % 8));
        }
    }
    for (size_t pi = 0; seen && pi < S->n_pops; pi++)
        free(seen[pi]);
    free(seen);
    return st;
}

static apical_status build_recorders(apical_sim *S, partition *P, apical_error *err)
{
    const apical_net_spec *spec = S->spec;
    size_t nr = spec->n_recorders ? spec->n_recorders : 1;
    P->rec_nodes = calloc(nr, sizeof *P->rec_nodes);
    P->n_rec_nodes = calloc(nr, sizeof *P->n_rec_nodes);
    if (!P->rec_nodes || !P->n_rec_nodes)
        return nomem(err);
    for (size_t j = 0; j < spec->n_recorders; j++) {
        const apical_recorder_spec *rs = &spec->recorders[j];
        if (rs->kind == APICAL_REC_WEIGHTS) {
            /* this partition's share of the sample: synapse index, column */
            const weight_sample *ws = &S->wsample[j];
            P->rec_nodes[j] = malloc((ws->n + 1) * sizeof **P->rec_nodes);
            if (!P->rec_nodes[j])
                return nomem(err);
            size_t c = 0;
            for (size_t k = 0; k < ws->n; k++)
                if ((ws->at[k].node >> 32) == P->id)
                    P->rec_nodes[j][c++] = (rec_node){ws->at[k].node & 0xffffffffu, ws->at[k].col};
            P->n_rec_nodes[j] = c;
            if (c && apical_queue_push(&P->q, 0.0, EV_RECORD, (uint32_t)j, 0))
                return nomem(err);
            continue;
        }
        if (rs->kind != APICAL_REC_STATE)
            continue;
        const pop_part *pp = &P->pp[rs->pop];
        pop_rt *rp = &S->pops[rs->pop];
        for (size_t v = 0; rp->exact && v < rs->n_vars; v++)
            if (rs->vars[v] == rp->exact->int_hazard)
                rp->track_int_hazard = 1;
        uint64_t n_list = rs->nodes ? rs->n_nodes : S->pops[rs->pop].n;
        P->rec_nodes[j] = malloc((n_list + 1) * sizeof **P->rec_nodes);
        if (!P->rec_nodes[j])
            return nomem(err);
        size_t c = 0;
        for (uint64_t k = 0; k < n_list; k++) {
            uint64_t node = rs->nodes ? rs->nodes[k] : k;
            if (owned(pp, node))
                P->rec_nodes[j][c++] = (rec_node){node, (uint32_t)(k * rs->n_vars)};
        }
        P->n_rec_nodes[j] = c;
        if (c && apical_queue_push(&P->q, 0.0, EV_RECORD, (uint32_t)j, 0))
            return nomem(err);
    }
    return APICAL_OK;
}

typedef struct wsyn {
    uint64_t src, tgt;
    unsigned part;
    uint32_t s;
} wsyn;

static int cmp_wsyn(const void *a, const void *b)
{
    const wsyn *x = a, *y = b;
    if (x->src != y->src)
        return x->src < y->src ? -1 : 1;
    if (x->tgt != y->tgt)
        return x->tgt < y->tgt ? -1 : 1;
    return x->part < y->part ? -1 : x->part > y->part ? 1 : (x->s > y->s) - (x->s < y->s);
}

/* Which synapses each weight recorder follows: all of its projection, or a
 * random sample (keyed by the recorder's name), in (source, target) order,
 * which does not depend on partitioning. */
static apical_status build_weight_samples(apical_sim *S, apical_error *err)
{
    const apical_net_spec *spec = S->spec;
    S->wsample = calloc(spec->n_recorders + 1, sizeof *S->wsample);
    if (!S->wsample)
        return nomem(err);
    for (size_t r = 0; r < spec->n_recorders; r++) {
        const apical_recorder_spec *rs = &spec->recorders[r];
        if (rs->kind != APICAL_REC_WEIGHTS)
            continue;
        const apical_proj_spec *pj = &spec->projs[rs->proj];
        const uint64_t src0 = S->pops[pj->source].gid0;
        size_t m = 0;
        for (unsigned p = S->p0; p < S->p1; p++) {
            const partition *P = &S->parts[p];
            for (size_t g = 0; g < P->n_groups; g++)
                if (P->groups[g].proj == rs->proj)
                    m += P->groups[g].end - P->groups[g].begin;
        }
        wsyn *all = calloc(m + 1, sizeof *all); /* zeroed: padding is exchanged */
        if (apical_comm_size(S->comm) > 1) {
            apical_status st = apical_comm_agree(S->comm, all ? APICAL_OK : APICAL_E_NOMEM, err);
            if (st) {
                free(all);
                return st;
            }
        }
        if (!all)
            return nomem(err);
        size_t k = 0;
        for (unsigned p = S->p0; p < S->p1; p++) {
            const partition *P = &S->parts[p];
            for (uint64_t src = 0; src < S->pops[pj->source].n; src++)
                for (uint64_t g = P->row[src0 + src]; g < P->row[src0 + src + 1]; g++) {
                    const syn_group *gr = &P->groups[g];
                    if (gr->proj != rs->proj)
                        continue;
                    for (uint32_t s = gr->begin; s < gr->end; s++)
                        all[k++] = (wsyn){src, P->syn_idx[s], p, s};
                }
        }
        if (apical_comm_size(S->comm) > 1) {
            /* every rank samples from the whole projection, the same way;
             * each then records its own synapses of the sample. The list
             * is the projection's size on every rank while building. */
            void *v;
            size_t nb;
            apical_status st = apical_comm_collect(S->comm, 1, all, m * sizeof *all, &v, &nb, err);
            free(all);
            if (st)
                return st;
            all = v;
            m = nb / sizeof *all;
        }
        qsort(all, m, sizeof *all, cmp_wsyn);
        size_t n = rs->sample && rs->sample < m ? (size_t)rs->sample : m;
        unsigned char *pick = calloc(m + 1, 1);
        if (!pick) {
            free(all);
            return nomem(err);
        }
        if (n == m) {
            memset(pick, 1, m);
        } else {
            /* Floyd's sampling of n of m */
            apical_rng rg;
            apical_rng_init(&rg, spec->sim.seed, apical_rng_stream_id(APICAL_RNG_RECORD, rs->name), 0);
            for (size_t j = m - n; j < m; j++) {
                size_t t = (size_t)(apical_rng_uniform(&rg) * (double)(j + 1));
                if (t > j)
                    t = j;
                pick[pick[t] ? j : t] = 1;
            }
        }
        weight_sample *ws = &S->wsample[r];
        ws->src = malloc((n + 1) * sizeof *ws->src);
        ws->tgt = malloc((n + 1) * sizeof *ws->tgt);
        ws->at = malloc((n + 1) * sizeof *ws->at);
        if (!ws->src || !ws->tgt || !ws->at) {
            free(all), free(pick);
            return nomem(err);
        }
        for (size_t j = 0; j < m; j++)
            if (pick[j]) {
                ws->src[ws->n] = all[j].src;
                ws->tgt[ws->n] = all[j].tgt;
                ws->at[ws->n] = (rec_node){((uint64_t)all[j].part << 32) | all[j].s, (uint32_t)ws->n};
                ws->n++;
            }
        free(all);
        free(pick);
    }
    return APICAL_OK;
}

static apical_status build_frames(apical_sim *S, apical_error *err)
{
    const apical_net_spec *spec = S->spec;
    S->frames = calloc(spec->n_recorders + 1, sizeof *S->frames);
    if (!S->frames)
        return nomem(err);
    for (size_t j = 0; j < spec->n_recorders; j++) {
        const apical_recorder_spec *rs = &spec->recorders[j];
        if (rs->kind == APICAL_REC_SPIKES)
            continue;
        frame_buf *fb = &S->frames[j];
        uint64_t n_list = rs->nodes ? rs->n_nodes : S->pops[rs->pop].n;
        fb->width = rs->kind == APICAL_REC_WEIGHTS ? S->wsample[j].n : (size_t)n_list * rs->n_vars;
        /* Ticks that can fall in one window, plus slack for rounding. A
         * window never extends past the end of the run, and the loader
         * bounds both times (APICAL_MIN_TIME, APICAL_MAX_TIME), so this is
         * at most 1e15 and the memory estimate has counted it. */
        fb->cap = (size_t)ceil(fmin(S->min_delay, spec->sim.duration) / rs->interval) + 2;
        fb->n_ticks = (uint64_t)ceil(spec->sim.duration / rs->interval - 1e-9);
        fb->data = calloc(fb->cap * fb->width + 1, sizeof *fb->data);
        if (!fb->data)
            return nomem(err);
    }
    return APICAL_OK;
}

apical_status apical_build(apical_sim *S, apical_error *err)
{
    const apical_net_spec *spec = S->spec;
    apical_status st = APICAL_OK;
    S->n_parts = spec->sim.partitions ? spec->sim.partitions : 1;
    /* Ranks: each runs a contiguous block of partitions, at least one.
     * Results do not depend on the partition count, so with more ranks
     * than partitions there are as many partitions as ranks. */
    const unsigned R = (unsigned)apical_comm_size(S->comm), rank = (unsigned)apical_comm_rank(S->comm);
    if (S->n_parts < R)
        S->n_parts = R;
    if (S->n_parts > APICAL_MAX_PARTITIONS)
        return apical_error_set(err, APICAL_E_RANGE, NULL, "%u ranks: at most %u partitions",
                                R, APICAL_MAX_PARTITIONS);
    S->p0 = (unsigned)((uint64_t)S->n_parts * rank / R);
    S->p1 = (unsigned)((uint64_t)S->n_parts * (rank + 1) / R);
    part_layout layout;
    if (part_layout_init(&layout, spec, S->n_parts)) {
        part_layout_free(&layout);
        return nomem(err);
    }
    st = build_pops(S, &layout, err);
    S->parts = st ? NULL : calloc(S->n_parts, sizeof *S->parts);
    for (unsigned p = 0; S->parts && p < S->n_parts; p++) {
        partition *P = &S->parts[p];
        P->pp = calloc(S->n_pops ? S->n_pops : 1, sizeof *P->pp);
        for (size_t pi = 0; P->pp && pi < S->n_pops; pi++) {
            P->pp[pi].lo = part_bound(&layout, spec, pi, p);
            P->pp[pi].hi = part_bound(&layout, spec, pi, p + 1);
        }
    }
    part_layout_free(&layout);
    if (st)
        return st;
    S->xk = S->xk_cap = APICAL_XK_MIN;
    if (!S->parts ||
        (R > 1 && (!(S->xslot = malloc((R + 1) * APICAL_XSLOT(S->xk) * sizeof *S->xslot)) ||
                   !(S->xcounts = malloc(R * sizeof *S->xcounts)))))
        return nomem(err);
    S->min_delay = HUGE_VAL;
    for (unsigned p = 0; p < S->n_parts; p++) {
        partition *P = &S->parts[p];
        P->id = p;
        apical_queue_init(&P->q);
        if (!P->pp)
            return nomem(err);
    }
    if (stopped(S))
        return interrupted(S, err);
    st = build_synapses(S, err);
    if (!st && stopped(S))
        st = interrupted(S, err);
    for (unsigned p = S->p0; p < S->p1 && !st; p++)
        st = build_gsl(S, &S->parts[p], err);
    /* Ranks: the first exchange of the build; a rank that failed so far
     * stops every rank here, with its message */
    if ((st = apical_comm_agree(S->comm, st, err)))
        return st;
    if (apical_comm_size(S->comm) > 1 &&
        S->comm->ops->allreduce_min(S->comm->impl, &S->min_delay, 1))
        return apical_error_set(err, APICAL_E_COMM, NULL, "exchange of the minimum delay failed");
    if ((st = build_fifos(S, err)))
        return st;
    /* With no synapses nothing couples neurons; windows then only pace
     * progress reports and recorder flushes. */
    if (S->min_delay == HUGE_VAL)
        S->min_delay = fmin(1.0, spec->sim.duration);
    if (!(S->min_delay > 0.0))
        return apical_error_set(err, APICAL_E_RANGE, NULL, "synaptic delays must be > 0");
    if ((st = build_weight_samples(S, err)) || (st = build_frames(S, err)))
        return st;
    if ((st = build_currents(S, err)))
        return st;
    for (unsigned p = S->p0; p < S->p1; p++)
        if ((st = build_inputs(S, &S->parts[p], err)) ||
            (st = build_recorders(S, &S->parts[p], err)))
            return st;
    S->stats.pop_spikes = calloc(S->n_pops + 1, sizeof *S->stats.pop_spikes);
    if (!S->stats.pop_spikes)
        return nomem(err);
    S->stats.min_delay = S->min_delay;
    for (unsigned p = S->p0; p < S->p1; p++) {
        const partition *P = &S->parts[p];
        S->stats.synapse_bytes += P->n_syn * sizeof *P->syn_idx +
                                  (P->syn_w ? P->n_syn * sizeof *P->syn_w : 0) +
                                  spec->n_projs * sizeof *P->shared_w +
                                  P->n_groups * (sizeof *P->groups + sizeof *P->group_fifo) +
                                  (S->n_gid + 1) * sizeof *P->row;
    }
    return APICAL_OK;
}

/* Build the network and start its threads: apical_sim_new with options. */
apical_status apical_sim_new_opts(const apical_net_spec *spec, const apical_sim_opts *opts,
                                  apical_sim **out, apical_error *err)
{
    *out = NULL;
    gsl_set_error_handler_off();
    apical_sim *S = calloc(1, sizeof *S);
    if (!S)
        return nomem(err);
    S->spec = spec;
    S->stop = opts ? opts->stop : NULL;
    S->comm = opts ? opts->comm : NULL;
    apical_status st = apical_comm_agree(S->comm, apical_build(S, err), err);
    if (st) {
        apical_sim_free(S);
        return st;
    }
    unsigned threads = opts ? opts->threads : 0;
    if (!threads)
        threads = spec->sim.threads;
    if (!threads) {
        /* automatic: one per partition, but never more than the cores, since
         * the workers spin between windows */
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        threads = cores > 0 ? (unsigned)cores : 1;
    }
    if (threads > S->p1 - S->p0)
        threads = S->p1 - S->p0;
    S->n_threads = threads;
    S->pool = apical_pool_new(threads, S->p1 - S->p0);
    if (!S->pool) {
        apical_sim_free(S);
        return apical_error_set(err, APICAL_E_NOMEM, NULL, "cannot start %u threads", threads);
    }
    S->stop = NULL; /* the flag is the caller's; the run gets it again */
    *out = S;
    return APICAL_OK;
}

apical_status apical_sim_new(const apical_net_spec *spec, unsigned threads, apical_sim **out,
                             apical_error *err)
{
    const apical_sim_opts opts = {.threads = threads};
    return apical_sim_new_opts(spec, &opts, out, err);
}
