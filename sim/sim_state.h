/* The run-time state: what sim/build.c fills and the engine (sim/engine.c,
 * sim/restart.c), its steppers (sim/exact.c, sim/sweep.c) and the spike
 * sink (sim/spike_sink.c) share, with the prototypes of their calls to one
 * another. Types, index helpers and prototypes only: it calls nothing, so
 * any of them may include it. Private to the simulation core. */
#ifndef APICAL_SIM_STATE_H
#define APICAL_SIM_STATE_H

#include <signal.h>
#include <gsl/gsl_odeiv2.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdint.h>

#include "apical/comm.h"
#include "apical/control.h"
#include "apical/model.h"
#include "apical/plasticity.h"
#include "apical/queue.h"
#include "apical/rng.h"
#include "apical/sim.h"

enum { EV_DELIVER = 1, EV_POISSON, EV_SPIKE_LIST, EV_RECORD, EV_CURRENT, EV_SINUSOID, EV_OU,
       EV_NODE }; /* exact populations: a quadrature node of the window (a = pop, b = node) */

/* Exact populations (sim/exact.c): limits of apical_exact_ops, and the
 * quadrature nodes per window for the hazard integral. */
enum { APICAL_EXACT_MAX_ACC = 8, APICAL_EXACT_MAX_BASIS = 8, EXACT_NODES = 2,
       APICAL_EXACT_MAX_STATE = 16 /* window_end's finiteness test: per variable up to this */ };
/* A closed-form piece spans at most this many e-foldings of the fastest
 * growth rate (apical_exact_ops.growth): e^40 ~ 2e17 leaves the
 * accumulators ~290 decades of headroom. Windows that short (the usual
 * case: ~1 ms windows, rates ~1/ms) are one piece, as before. */
#define APICAL_EXACT_MAX_EXPONENT 40.0

/* One population, all partitions: per-neuron arrays. State layout is a
 * property of the population (pop_at): array-of-structs for GSL and exact
 * populations, so each neuron's state is one contiguous GSL vector;
 * struct-of-arrays for dense sweep populations, whose window kernel runs
 * over each variable as one array (1.6 against 2.4 ns per neuron and
 * window for lif_cond_exp's RK4, measured); array-of-structs again for
 * lazy sweep populations (with horizon_n), which gather and scatter a few
 * scattered neurons per window: one row, not ns lines far apart. */
typedef struct pop_rt {
    const apical_pop_spec *spec;
    const apical_model_type *m;
    size_t ns;          /* state size */
    uint64_t n, gid0;   /* neurons, first global id */
    /* Ranks: the per-neuron arrays below hold neurons [own_lo, own_lo +
     * own_n) only (this rank's partitions'; all in one process), indexed by
     * the neuron's index in the population: each pointer is its block's
     * start minus own_lo elements (own_base), and SoA states have kstride
     * own_n. */
    uint64_t own_lo, own_n;
    double *derived;
    double *y;          /* n * ns, variable k of neuron i at pop_at(pr, i, k) */
    size_t istride, kstride; /* AoS: ns, 1; SoA: 1, n */
    double *t_last;     /* time each neuron's state is at */
    double *h;          /* each neuron's last step size */
    double *ref_until;  /* end of refractoriness */
    double *wake;       /* no spike possible before this without input */
    double *i_ext;      /* device current per neuron (pA), piecewise constant */
    double *i_sin;      /* 3 per neuron: amplitude, omega, phase; NULL if no sinusoid */
    apical_rng *rng;    /* per neuron, for models with uses_rng; else NULL */
    double t_ref;
    int relay;          /* receptor index that fires the neuron at once, or -1 */
    /* Stepper "exact": the model's closed-form ops, else NULL (GSL) */
    const apical_exact_ops *exact;
    double exact_bound; /* hazard bound: the candidate rate, per ms */
    /* Integrate int_hazard (quadrature nodes each window): only when read,
     * by a state recorder or a controller (apical_engine_track_integral);
     * otherwise it stays as it is. */
    int track_int_hazard;
    /* Stepper "sweep": the model's sweep ops, else NULL; ystate: one
     * neuron's state for apical_sim_state (a copy: any layout).
     * With the model's horizon_n each neuron's state is at its own t_last
     * (lazy, sim/sweep.c); without it every neuron is stepped every window
     * (dense): the state at the window's end is written to y_next, and y
     * and y_next are swapped between windows (apical_sweep_flip). */
    const apical_sweep_ops *sweep;
    double *y_next, *ystate;
} pop_rt;

/* Where variable k of neuron i lives in pr->y (and y_next). */
static inline size_t pop_at(const pop_rt *pr, uint64_t i, size_t k)
{
    return (size_t)i * pr->istride + k * pr->kstride;
}

/* One neuron's state as a contiguous vector, and back. */
static inline void pop_get(const pop_rt *pr, const double *y, uint64_t i, double *out)
{
    for (size_t k = 0; k < pr->ns; k++)
        out[k] = y[pop_at(pr, i, k)];
}

static inline void pop_put(const pop_rt *pr, double *y, uint64_t i, const double *in)
{
    for (size_t k = 0; k < pr->ns; k++)
        y[pop_at(pr, i, k)] = in[k];
}

/* Stepper "sweep": one input of a window, in the target neuron's
 * time-ordered list (next: the neuron's next input, or SWEEP_NONE). */
typedef struct sweep_ev {
    double t, w;
    uint32_t next, rec;
} sweep_ev;

enum { SWEEP_NONE = UINT32_MAX, SWEEP_MOVED = UINT32_MAX - 1, APICAL_SWEEP_MAX_STATE = 32 };

/* Stepper "sweep": the wake-up calendar's ring covers this many windows
 * from the current one; later wake times wait in a far-future list that is
 * re-bucketed every SWEEP_RING / 2 windows. */
enum { SWEEP_RING = 256, SWEEP_KCACHE = 4 };
#define SWEEP_CAL_NONE UINT64_MAX

typedef struct sweep_bucket {
    uint32_t *v; /* owned neurons (index - lo), possibly stale */
    size_t n, cap;
} sweep_bucket;

typedef struct sweep_far {
    uint32_t j;
    uint64_t k; /* window index */
} sweep_far;

/* A sweep population within one partition. The input buffer, lists and
 * calendar buckets are reset in place and never shrink, so the steady
 * state allocates nothing. */
typedef struct sweep_part {
    double k[APICAL_SWEEP_MAX_CONST]; /* the population's constants */
    /* dense populations: the window length the constants k are for (NaN:
     * none yet), its equal sub-windows (one kernel call each), the
     * kernel's candidates per owned neuron, and for m > 1 scratch states */
    double h;
    unsigned m;
    double *cand, *scratch;
    uint64_t *mask; /* dense: per 64 owned neurons, the kernel's flags as bits */
    /* the constants of the last SWEEP_KCACHE window lengths (hc[c]: the
     * length, NaN: empty; mc[c]: its sub-windows; kc[c]: k), refilled
     * round robin (next): window lengths k d_min - (k - 1) d_min differ in
     * their last bits from window to window, among a few values */
    double hc[SWEEP_KCACHE];
    unsigned mc[SWEEP_KCACHE], next;
    double kc[SWEEP_KCACHE][APICAL_SWEEP_MAX_CONST];
    int ready;         /* lazy: wake times and calendar set up (first window) */
    uint32_t *head, *tail; /* per owned neuron: its inputs this window */
    uint32_t *touched; /* owned neurons (index - lo) with inputs */
    size_t n_touched;
    sweep_ev *ev;
    size_t n_ev, cap_ev;
    /* Wake-up calendar: per owned neuron the window index whose bucket
     * holds its live entry (the first window whose end is after its wake
     * time), or SWEEP_CAL_NONE (never wakes without input). An entry whose
     * neuron's cal differs is stale and dropped when its bucket is read. */
    uint64_t *cal;
    double cal_d, cal_inv; /* the window length cal_index is for, 1 / it */
    sweep_bucket ring[SWEEP_RING];
    sweep_far *far;
    size_t n_far, cap_far;
    uint64_t rebucket_at; /* window index of the next far-list pass */
    /* The window's stepped neurons (lanes), in rounds of advance_n: per
     * lane the owned index, next input, time, end of refractoriness, wake
     * time, step length, step end, held mask, candidate, horizon; states ya (at the
     * lane's time) and yb (after the round's step), ns arrays each. Sized
     * for every owned neuron at build. */
    uint32_t *b_idx, *b_ev;
    double *b_t, *b_ru, *b_wk, *b_dt, *b_to, *b_held, *b_cand, *b_hz;
    double *b_ya, *b_yb;
    /* Dense populations with step_n: per owned neuron the kernel's step
     * length and held mask (the window, or the first stop of a neuron
     * with inputs) */
    double *s_dt, *s_held;
    /* Dense populations with single_input: a neuron's first input of the
     * window goes to the compact one-input list (owned index, time,
     * weight, receptor as a double; at most one entry per neuron), and
     * slot[j] is its entry there; a second input moves the neuron to the
     * per-neuron lists above (slot[j] = SWEEP_MOVED, its entry stays and
     * is skipped). SWEEP_NONE: no input yet. The list's flags go to
     * q_cand. */
    int fast;
    uint32_t *slot, *q_idx;
    double *q_t, *q_w, *q_r, *q_cand;
    size_t n_single;
} sweep_part;

/* One input of the current window to an exact population, in the order
 * the run loop delivered it (sim/exact.c): a delay group's synapses, or
 * (g NULL) one synapse to neuron i with weight w. */
typedef struct exact_in {
    double t;
    const struct syn_group *g;
    uint64_t i;
    double w;
    uint32_t rec;
} exact_in;

/* A thinning candidate of the current window (sim/exact.c): its time, the
 * uniform that decides it and the owned neuron. */
typedef struct exact_cand {
    double t, u;
    uint64_t j;
} exact_cand;

/* An exact population within one partition, for the current window.
 *
 * The window's inputs are held in delivery order (in) and applied at the
 * window end in one pass (apical_exact_window_end), together with the
 * window's thinning candidates: their accumulators at each candidate's
 * time are copied out on the way (snap), then all candidates are
 * evaluated at once (ops.hazard_n, a vector loop). */
typedef struct exact_part {
    double T0, h;      /* window start and length */
    double *acc;       /* inputs since T0: n_acc arrays over the owned neurons */
    double *g;         /* per owned neuron: the soma's decay rate this window */
    double g_shared;   /* the rate all owned neurons share, or NaN */
    double b_end[APICAL_EXACT_MAX_BASIS];              /* basis at h (g_shared) */
    double b_node[EXACT_NODES][APICAL_EXACT_MAX_BASIS]; /* at the quadrature nodes */
    double *ytmp;      /* one state */
    double *next_cand; /* per owned neuron: its next thinning candidate */
    uint32_t *drawing; /* drawing a window's candidates: the owned neurons
                        * with one still to draw */
    uint64_t rate_epoch; /* apical_sim.exact_epoch when g was computed */
    /* The owned neurons' states as struct of arrays (ys[k n + j]) for
     * state_end_n's vector loop: copied from pop_rt.y when a poke changed
     * it (ys_epoch != apical_sim.exact_epoch), kept by state_end_n, which
     * writes what it changes to both. */
    double *ys;
    uint64_t ys_epoch;
    uint64_t checked_epoch; /* ys_epoch when every state was last tested finite */
    double b_h, b_g;     /* window length and rate b_end and b_node are for */
    /* the window's inputs and their coefficients (coef[a cap_in + k]:
     * accumulator a of input k) */
    exact_in *in;
    size_t n_in, cap_in;
    double *coef, *s_in;
    uint32_t *nz_in; /* accumulators input k reaches: bit a set if coef is not 0 */
    /* the window's candidates, by time: c_t, c_u, c_j, c_s (time from T0),
     * c_hz (hazard), snap[a cap_c + c] (accumulator a at candidate c);
     * cs and cs_tmp for sorting them */
    exact_cand *cs, *cs_tmp;
    double *c_t, *c_u, *c_s, *c_hz, *snap;
    uint32_t *c_j;
    size_t n_c, cap_c;
    /* quadrature nodes met this window: time, index, inputs before it, and
     * the hazard of every owned neuron there (hz_node[q n + j]) */
    double node_t[EXACT_NODES];
    int node_q[EXACT_NODES];
    size_t node_pos[EXACT_NODES], n_node;
    double *hz_node;
    /* the window's spikes of the population, to merge into the
     * partition's (time-ordered) list */
    apical_spike *sp_tmp;
    size_t cap_sp;
} exact_part;

/* One population within one partition: GSL objects and scratch. */
typedef struct pop_part {
    uint64_t lo, hi; /* neurons [lo, hi) */
    double wake_min; /* GSL populations: no wake time of [lo, hi) is before it */
    apical_model_ctx ctx;
    /* GSL integrates in time since the start of the current segment, t_off
     * (absolute ms): steps far below the resolution of the absolute time
     * stay exact (an AdEx upswing needs steps of 1e-12 ms). sys calls the
     * model with t_off + t. */
    double t_off;
    const apical_model_type *m;
    gsl_odeiv2_system sys;
    gsl_odeiv2_step *step;
    gsl_odeiv2_control *ctl;
    gsl_odeiv2_evolve *evo;
    /* Holds step, control and evolve together: msadams and msbdf take their
     * error level and order decisions from a driver's control object and
     * refuse to step without one (GSL_EFAULT). */
    gsl_odeiv2_driver drv;
    int multistep;   /* the stepper keeps history: reset it per neuron */
    double abs_tol, rel_tol;
    double order;    /* of the stepper's error estimate, for step control */
    double *scratch; /* 6 * ns */
    exact_part *ex;  /* stepper "exact" only */
    sweep_part *sw;  /* stepper "sweep" only */
} pop_part;

/* Synapses of one source that share a delay: one queue entry per spike.
 * One projection per group, so what is constant per projection (target
 * population, receptor, and a weight that cannot change: shared_w) is kept
 * here, not per synapse. */
typedef struct syn_group {
    double delay;
    uint32_t begin, end; /* synapses [begin, end) of the partition */
    uint32_t proj;
    uint16_t pop;        /* target population */
    uint8_t rec;         /* receptor index */
    unsigned contiguous : 1; /* targets are consecutive neurons (all_to_all) */
    /* every synapse has the projection's one weight, P->shared_w[proj]
     * (static, constant, never recorded or set: build.c's shares_weight);
     * otherwise synapse s has its own, P->syn_w[s] */
    unsigned shared_w : 1;
} syn_group;
/* 24 bytes: 4 groups per neuron at 80 synapses are 1.2 bytes per synapse */
_Static_assert(sizeof(syn_group) == 24, "syn_group grew");

/* Deliveries of one delay, in time order: spikes are queued window by
 * window in time order, so spike time + a fixed delay is nondecreasing and
 * a ring buffer replaces the heap for them. */
typedef struct delivery_item {
    double t;
    uint32_t group; /* groups <= synapses < 2^32 */
    int32_t mult;   /* the spike's multiplicity (apical_spike) */
} delivery_item;

typedef struct delivery_fifo {
    double delay;
    delivery_item *v;
    size_t head, n, cap; /* ring buffer */
} delivery_fifo;

/* With at most this many distinct delays in the network each gets a FIFO;
 * with more (e.g. random delays) deliveries go through the heap. */
enum { APICAL_MAX_FIFOS = 16, APICAL_NO_FIFO = 255 };

/* Postsynaptic spikes of one neuron as a plastic projection's rule sees
 * them: entries of (t, trace values just after the spike), oldest first.
 *
 * A synapse reads the entries after its read point r = t_last - d (its last
 * presynaptic spike minus its delay) and the latest one at or before r (the
 * base of the traces). An entry is dropped only when the next one is at or
 * before every incoming synapse's read point: then no synapse can need it
 * (NEST's ArchivingNode keeps entries until every synapse has read them;
 * here the minimum read point is found by scanning the neuron's incoming
 * synapses whenever the archive has doubled since the last scan). A synapse
 * that has not fired yet needs only the trace base at its first spike,
 * which is at or after now - 2 dmax. */
typedef struct post_archive {
    double *e;
    double dmax;             /* longest delay of the incoming synapses */
    uint32_t start, n, cap;  /* entries; e holds cap entries of stride */
    uint32_t scan_at;        /* look for entries to drop at this size */
} post_archive;

/* Archive entries below which no scan for droppable entries is made. */
enum { APICAL_ARCHIVE_MIN_SCAN = 16 };

/* Per-synapse presynaptic state of a plastic projection: the last
 * presynaptic spike t_last (-inf before the first), the read point
 * t_last - d, then rule->n_pre traces. */
enum { PRE_T_LAST, PRE_READ, PRE_TRACES };

/* One plastic projection within one partition. */
typedef struct plastic_proj {
    size_t proj;
    const apical_plasticity_type *rule;
    const double *param;
    double *derived;
    size_t stride;       /* per synapse: PRE_TRACES + rule->n_pre */
    double *pre;         /* per synapse of this projection in this partition */
    size_t n_syn;
    size_t estride;      /* archive entry: t, then rule->n_post traces */
    post_archive *arch;  /* per target neuron [lo, hi) */
    uint64_t lo;
    /* The synapses onto each target neuron: in_syn[in_off[k] .. in_off[k+1])
     * are their indices into pre (k = neuron - lo). */
    uint32_t *in_off, *in_syn;
    apical_post_spike *hist;
    size_t hist_cap;
    apical_pre_event *ev; /* one delay group's synapses (apply_rules) */
    size_t ev_cap;
} plastic_proj;

/* A spike as merged between windows (include/apical/control.h). */
typedef apical_spike spike_rec;

typedef struct rec_node {
    uint64_t node;  /* neuron index in the population */
    uint32_t col;   /* position in the frame (node-major) */
} rec_node;

typedef struct input_rt {
    size_t n;
    uint64_t *node;
    apical_rng *rng;
    double *value;
    /* Poisson inputs whose rates a protocol sets per neuron: the rate (Hz)
     * of each generator, and an epoch that invalidates events drawn with an
     * older rate (the queue has no removal; stale events are skipped). NULL
     * while every generator uses the input's own rate. */
    double *rate;
    uint32_t *epoch;
} input_rt;

typedef struct partition {
    unsigned id;
    apical_queue q;
    pop_part *pp;
    /* CSR by global source id over this partition's targets */
    uint32_t *row;      /* n_gid + 1, into groups (groups <= synapses < 2^32) */
    syn_group *groups;
    size_t n_groups;
    uint8_t *group_fifo; /* per group: index into fifo, or APICAL_NO_FIFO */
    /* the same delays in every partition, longest first */
    delivery_fifo fifo[APICAL_MAX_FIFOS];
    size_t n_fifo;
    /* Per synapse: the target neuron (index in its population), 4 bytes;
     * everything else is per group. The weight, 8 bytes, only where the
     * partition has a group without shared_w (NULL if none): syn_w[s]. A
     * group with shared_w reads shared_w[proj] (per projection, n_projs). */
    uint32_t *syn_idx;
    double *syn_w;
    double *shared_w;
    /* Index of a plastic synapse within its projection; NULL when the
     * partition has no plastic projection (static synapses do not pay). */
    uint32_t *syn_pidx;
    size_t n_syn;
    plastic_proj *plastic;
    size_t n_plastic;
    int32_t *plastic_of_proj;  /* projection -> index in plastic, or -1 */
    size_t **plastic_of_pop;   /* population -> plastic indices targeting it */
    size_t *n_plastic_of_pop;
    /* Per input: the target nodes this partition owns, and per node a
     * random stream (Poisson, OU) and a value (OU current now). */
    input_rt *inputs;
    /* State recorders: owned nodes of each recorder */
    rec_node **rec_nodes;
    size_t *n_rec_nodes;
    /* Spikes emitted this window */
    spike_rec *out;
    size_t n_out, cap_out;
    /* Counters */
    uint64_t events, syn_events, integrations, steps;
    apical_status st;
    apical_error err;
} partition;

/* The weights of group g's synapses: synapse g->begin + j has weight
 * w[j & mask]; mask 0 for a shared weight, all ones for own weights. A
 * per-group choice of data layout, so delivery loops stay branch-free. */
static inline const double *group_weights(const partition *P, const syn_group *g,
                                          uint32_t *mask)
{
    *mask = g->shared_w ? 0u : ~0u;
    return g->shared_w ? &P->shared_w[g->proj] : P->syn_w + g->begin;
}

typedef struct frame_buf {
    size_t width;      /* n_nodes * n_vars */
    size_t cap;        /* frames */
    uint64_t base_k;   /* tick index of frame 0 */
    uint64_t n_ticks;  /* ticks in the whole run */
    float *data;
} frame_buf;

/* The synapses a weight recorder follows: (source, target) per column, and
 * where each lives: node = partition << 32 | synapse index, col. */
typedef struct weight_sample {
    size_t n;
    uint64_t *src, *tgt;
    rec_node *at;
} weight_sample;

/* Ranks: spikes per rank and window sent in the fixed-size exchange
 * (exchange_spikes): from APICAL_XK_MIN, growing to the most seen, at most
 * APICAL_XK_MAX (more go in a second exchange) */
enum { APICAL_XK_MIN = 32, APICAL_XK_MAX = 4096, APICAL_XK_EPOCH = 256 };
/* One rank's slot, in uint64 words: count, status, K spikes as they are
 * (spike_rec, padding included) */
#define APICAL_XSLOT(K) (2 + (K) * ((sizeof(spike_rec) + 7) / 8))

struct apical_sim {
    const apical_net_spec *spec;
    size_t n_pops;
    pop_rt *pops;
    uint64_t n_gid;
    unsigned n_parts, n_threads;
    partition *parts;
    /* Ranks (include/apical/comm.h; NULL: one process): this rank builds
     * and runs partitions [p0, p1) only; the others' entries hold their
     * neuron ranges (pp[].lo, hi) for routing and nothing else. */
    const apical_comm *comm;
    unsigned p0, p1;
    frame_buf *frames;
    weight_sample *wsample; /* per recorder (weights recorders only) */
    double min_delay, t;
    uint64_t window; /* index of the next window */
    /* Exact populations: each window runs as exact_pieces closed-form
     * pieces of at most exact_span ms, recomputed when exact_dirty (a poke
     * may change a neuron's decay rate) */
    int has_exact, exact_dirty;
    uint64_t exact_epoch; /* counts pokes to exact populations (rates may change) */
    int has_sweep; /* some population uses stepper "sweep" */
    double exact_span;
    uint64_t exact_pieces;
    spike_rec *merged;
    size_t cap_merged;
    /* Ranks (exchange_spikes in sim/engine.c): every rank's spikes of the
     * window; this rank's slot then every rank's ((count, status, K
     * spikes) each), the slots before K last grew, overflow byte counts */
    spike_rec *xbuf;
    size_t cap_xbuf, xk, xk_cap, xk_peak; /* K now, K the slots hold, most this epoch */
    uint64_t xk_windows;
    uint64_t *xslot, *xold;
    size_t *xcounts;
    /* Merged spikes of the last window not yet queued as deliveries: each
     * partition queues them at the start of the next window's job (one
     * thread-pool dispatch per window instead of two). */
    size_t n_pending;
    apical_sim_observer obs;
    apical_run_stats stats;
    struct thread_pool *pool;
    apical_engine_hooks hooks; /* a controller's, e.g. a protocol's */
    const volatile sig_atomic_t *stop; /* building gives up once set (apical_sim_new_opts) */
};

/* sim/build.c */
apical_status apical_build(apical_sim *S, apical_error *err);

/* sim/exact.c: populations with stepper "exact" */
apical_status apical_exact_build(apical_sim *S, partition *P, size_t pi, apical_error *err);
void apical_exact_free(pop_part *pp);
/* apical_engine_restart: every owned neuron's first thinning candidate
 * after T, from its (re-positioned) stream. */
void apical_exact_restart(apical_sim *S, partition *P, size_t pi, double T);
apical_status apical_exact_window_start(apical_sim *S, partition *P, double T0, double T1);
void apical_exact_deliver(apical_sim *S, partition *P, size_t pi, uint64_t i, size_t receptor,
                          double w, double t);
/* Synapses [begin, end) of one group (one projection) at t. */
void apical_exact_deliver_group(apical_sim *S, partition *P, size_t pi, const syn_group *g,
                                double t);
void apical_exact_node(apical_sim *S, partition *P, const apical_event *ev);
void apical_exact_state(const apical_sim *S, const partition *P, size_t pi, uint64_t i, double t,
                        double *y);
/* Advance every exact neuron to T1; a state that is not finite stops the
 * run (APICAL_E_SOLVER, as GSL failures do). */
apical_status apical_exact_window_end(apical_sim *S, partition *P, double T1);
/* Between windows: how many pieces the window [T0, T1) runs in. */
void apical_exact_plan(apical_sim *S, double T0, double T1);

/* sim/sweep.c: populations with stepper "sweep" */
apical_status apical_sweep_build(apical_sim *S, partition *P, size_t pi, apical_error *err);
void apical_sweep_free(pop_part *pp);
/* An input to owned neuron i at t in the current window: queued, applied
 * at the window end. */
apical_status apical_sweep_deliver(apical_sim *S, partition *P, size_t pi, uint64_t i,
                                   size_t receptor, double w, double t);
apical_status apical_sweep_deliver_group(apical_sim *S, partition *P, size_t pi,
                                         const syn_group *g, double t);
/* The window [T0, T1) (index S->window) of the partition's sweep
 * populations, emitting their spikes: lazy ones step the neurons with
 * inputs or a wake time before T1 and leave the others untouched; dense
 * ones step every neuron into y_next. */
apical_status apical_sweep_window_end(apical_sim *S, partition *P, double T0, double T1);
/* The state of owned neuron i at t in the current window (a copy: nothing
 * emitted, nothing changed), into y. */
apical_status apical_sweep_state(apical_sim *S, partition *P, size_t pi, uint64_t i, double t,
                                 double *y);
/* Between windows, after every partition's window end: y_next becomes y
 * (dense sweep populations). */
void apical_sweep_flip(apical_sim *S);
/* Between windows (T <= S->t, no inputs pending): bring owned neuron i to
 * T if it lags; `fresh`: its state was changed, recompute its wake time. */
apical_status apical_sweep_sync(apical_sim *S, partition *P, size_t pi, uint64_t i, double T,
                                int fresh);

/* sim/engine.c */
/* Next event time of a (possibly inhomogeneous) Poisson input after t, or
 * +inf; exact, by time rescaling of one Exp(1) draw. */
double apical_next_poisson(const apical_input_spec *in, double t, double t_end, apical_rng *r);

#endif
