/* The network spec: what a network file says, validated, in plain structs.
 *
 * The loader (sim/loader.c) builds it from YAML and checks units, ranges and
 * references; the engine (sim/network.c) builds a simulation from it. Every
 * value keeps the position it came from so later checks can still point at
 * the file. All quantities are in canonical units (ms, mV, nS, pA, pF, Hz).
 * Strings and arrays are owned by the spec and freed by apical_spec_free(). */
#ifndef APICAL_SPEC_H
#define APICAL_SPEC_H

#include <stddef.h>
#include <signal.h>
#include <stdint.h>

#include "apical/error.h"
#include "apical/model.h"
#include "apical/plasticity.h"

typedef enum apical_dist_kind {
    APICAL_DIST_CONSTANT = 0, /* a */
    APICAL_DIST_UNIFORM,      /* U[a, b) */
    APICAL_DIST_NORMAL,       /* N(mean a, sd b), optionally clipped to [lo, hi] */
    APICAL_DIST_FILE,         /* initial states: values[i] for neuron i (from_file) */
    APICAL_DIST_HEBBIAN,      /* weights: w_ij = sum_k xi_i^k xi_j^k / n_units (hebbian) */
    APICAL_DIST_PATTERN,      /* initial states: a stored pattern drawn from the seed (cue) */
} apical_dist_kind;

typedef struct apical_dist {
    apical_dist_kind kind;
    double a, b;
    double lo, hi; /* normal only: redraw outside [lo, hi]; +-HUGE_VAL = none */
    apical_srcpos pos;
    /* FILE: values[i], i < n_units. HEBBIAN: the stored patterns by unit,
     * values[i * n_pat + k] = xi_i^k (+-1), read from a file, or NULL with
     * n_pat patterns drawn from the seed when the network is built
     * (connect.c). PATTERN: sign b times the majority of the n_pat patterns
     * values[0..n_pat) of the seeded hebbian projection whose pattern
     * stream is `stream`, each unit flipped with probability a. Owned by
     * the spec. */
    double *values;
    uint64_t n_units;
    uint32_t n_pat;
    uint32_t stream;
} apical_dist;

typedef struct apical_pop_spec {
    char *name;
    apical_srcpos pos;
    uint64_t size;
    const apical_model_type *model;
    double *param;      /* model->n_params, defaults filled in */
    apical_dist *init;  /* model->n_state, defaults: constant state[k].def */
    /* Solver for this population (defaults from simulation, then model). */
    char *stepper;      /* gsl_odeiv2 stepper name: rkf45, rkck, rk8pd, rk2, rk4, msadams, ... */
    double abs_tol, rel_tol;
    /* `whole_cost:` given (keep_whole): the population lives whole in one
     * partition, its work about whole_cost of one partition's even share of
     * the split populations' (sim/build.c part_layout) */
    int keep_whole;
    double whole_cost;
} apical_pop_spec;

typedef enum apical_conn_kind {
    APICAL_CONN_ALL_TO_ALL = 0,
    APICAL_CONN_ONE_TO_ONE,
    APICAL_CONN_BERNOULLI,      /* p */
    APICAL_CONN_FIXED_INDEGREE, /* k sources per target, without replacement */
    APICAL_CONN_FIXED_OUTDEGREE, /* k targets per source, without replacement */
    APICAL_CONN_FROM_FILE        /* the edges of an earlier run (edge_* below) */
} apical_conn_kind;

typedef struct apical_proj_spec {
    char *name; /* "source->target" unless given */
    apical_srcpos pos;
    size_t source, target; /* population indices */
    apical_conn_kind conn;
    double p;
    uint64_t k;
    int autapses; /* only meaningful when source == target; default 1 */
    size_t receptor; /* index into target model's receptors */
    apical_dist weight; /* in the target model's weight_unit */
    apical_dist delay;  /* ms, > 0 */
    const apical_plasticity_type *rule; /* NULL: static synapses */
    double *rule_param;                 /* rule->n_params, weights in weight_unit */
    apical_srcpos rule_pos;
    /* from_file: the edge population `edges_name` of the HDF5 file
     * `edges_path` (resolved against the network file's directory), read
     * and checked by the loader. Edges are stored grouped by target (file
     * order within a target): target t has edges [edge_ptr[t],
     * edge_ptr[t + 1]). edge_w / edge_d are NULL when the network file gives
     * `weight` / `delay`, which then replace the file's values. */
    char *edges_path;
    char *edges_name;
    uint64_t n_edges;
    uint64_t *edge_src, *edge_tgt;
    double *edge_w, *edge_d;
    uint64_t *edge_ptr; /* target population size + 1 */
} apical_proj_spec;

typedef enum apical_input_kind {
    APICAL_INPUT_POISSON = 0,   /* an independent Poisson train per target neuron */
    APICAL_INPUT_SPIKE_TIMES,   /* the same explicit times to every listed neuron */
    APICAL_INPUT_INHOM_POISSON, /* Poisson with a piecewise-constant rate table */
    APICAL_INPUT_DC,            /* constant current between start and stop */
    APICAL_INPUT_STEP_CURRENT,  /* piecewise-constant current from a table */
    APICAL_INPUT_SINUSOIDAL,    /* offset + amplitude sin(2 pi f t + phase) */
    APICAL_INPUT_OU_CURRENT     /* Ornstein-Uhlenbeck current, updated every dt */
} apical_input_kind;

/* Inputs that inject current rather than spikes. */
static inline int apical_input_is_current(int kind)
{
    return kind >= APICAL_INPUT_DC;
}

typedef struct apical_input_spec {
    char *name;
    apical_srcpos pos;
    apical_input_kind kind;
    size_t target;       /* population index */
    uint64_t *nodes;     /* target neuron ids, NULL = all */
    size_t n_nodes;
    size_t receptor;     /* spike inputs only */
    double weight;       /* target model's weight_unit; spike inputs only */
    /* poisson */
    double rate, start, stop; /* Hz, ms, ms (stop = HUGE_VAL: until the end) */
    /* spike_times (sorted ascending, ms); with `values` also the change
     * times of step_current (values in pA) and inhomogeneous_poisson
     * (values in Hz) */
    double *times;
    double *values;
    size_t n_times;
    /* current devices, pA / Hz / radians / ms */
    double amplitude, offset, frequency, phase;
    double mean, sd, tau, dt;
} apical_input_spec;

typedef enum apical_recorder_kind {
    APICAL_REC_SPIKES = 0,
    APICAL_REC_STATE,
    APICAL_REC_WEIGHTS /* synaptic weights of one projection */
} apical_recorder_kind;

typedef struct apical_recorder_spec {
    char *name;
    apical_srcpos pos;
    apical_recorder_kind kind;
    size_t pop;
    uint64_t *nodes; /* NULL = all neurons of pop */
    size_t n_nodes;
    size_t *vars;    /* state: indices into model->state */
    size_t n_vars;
    double interval; /* state, weights: ms */
    size_t proj;     /* weights: projection index */
    uint64_t sample; /* weights: record this many synapses drawn at random; 0 = all */
} apical_recorder_spec;

typedef struct apical_sim_spec {
    double duration;     /* ms */
    /* duration was omitted: the protocol's length (apical_protocol_fit) */
    int duration_auto;
    apical_srcpos duration_pos; /* where it was given; line 0: not in the file */
    uint64_t seed;
    char *stepper;       /* default stepper for populations, NULL = model's */
    double abs_tol, rel_tol; /* <= 0: model's default */
    unsigned partitions; /* >= 1 */
    /* populations of fewer neurons live whole in one partition (0: every
     * population is split): a split population receives every spike sent
     * to it in each partition that holds part of it. A population's own
     * whole_cost keeps it whole too */
    unsigned keep_whole_below;
    unsigned threads;    /* 0 = one per partition, capped by cores */
    apical_srcpos pos;
} apical_sim_spec;

typedef struct apical_net_spec {
    char *path;     /* the network file as given */
    char *text;     /* its full text, for provenance */
    char *name;     /* optional `name:` */
    apical_sim_spec sim;
    apical_pop_spec *pops;
    size_t n_pops;
    apical_proj_spec *projs;
    size_t n_projs;
    apical_input_spec *inputs;
    size_t n_inputs;
    apical_recorder_spec *recorders;
    size_t n_recorders;
    /* The protocol section: its type (NULL: none) and the spec that type
     * parsed, owned here (include/apical/protocol.h) */
    const struct apical_protocol_type *protocol_type;
    void *protocol;
    /* Files the network reads besides itself (from_file edges, IDX files),
     * as resolved: an output must not replace any of them. */
    char **files;
    size_t n_files;
} apical_net_spec;

/* Read, parse and validate a network file. On failure *out is NULL and err
 * holds one message with file:line:col: the first problem found. */
apical_status apical_spec_load(const char *path, apical_net_spec **out,
                               apical_error *err);

/* The same from a string (tests); name is used in messages. */
apical_status apical_spec_load_string(const char *name, const char *text,
                                      apical_net_spec **out, apical_error *err);

/* Options of a load.
 *
 * stop: when non-NULL and *stop becomes non-zero (a signal handler's
 * flag), the load gives up at its next check (the YAML events, every list
 * item, every 64 Ki node ids, file reads) with APICAL_E_INTERRUPTED.
 *
 * sets, n_sets: "PATH=VALUE" items (the CLI's --set), applied in order to
 * the YAML tree before it is read, so a value is checked (kind, unit,
 * bounds, limits) exactly as if the file held it. PATH is keys separated
 * by '.', and [N] for item N (from 0) of a list:
 * populations.exc.parameters.tau_exc, projections[0].weight. Every part
 * but the last must exist; the last may be a new key of a mapping. VALUE
 * is YAML ("5 ms", "[1 ms, 2 ms]", "{normal: {mean: 1 nS, sd: 0.1 nS}}").
 * Errors in a path or value name the item ("--set 'PATH=VALUE': ...",
 * no file position).
 *
 * errors, max_errors, n_errors: with errors non-NULL, the load goes on
 * after an error where that is safe (the next population, list item or
 * section; checks that depend on a failed item are skipped) and stores up
 * to max_errors records in errors, sorted by position (--set items
 * first); *n_errors is how many were found, max_errors + 1 meaning "more
 * than max_errors" (the load stopped there). err then holds the first
 * one. A YAML syntax error is always the only one. Without errors, the
 * load ends at the first error. */
typedef struct apical_load_opts {
    const volatile sig_atomic_t *stop;
    const char *const *sets;
    size_t n_sets;
    apical_error *errors;
    size_t max_errors;
    size_t *n_errors;
} apical_load_opts;

/* apical_spec_load and apical_spec_load_string with options (opts may be
 * NULL: none). */
apical_status apical_spec_load_opts(const char *path, const apical_load_opts *opts,
                                    apical_net_spec **out, apical_error *err);
apical_status apical_spec_load_string_opts(const char *name, const char *text,
                                           const apical_load_opts *opts, apical_net_spec **out,
                                           apical_error *err);

void apical_spec_free(apical_net_spec *spec);

/* Index of a population by name, or (size_t)-1. */
size_t apical_spec_pop_index(const apical_net_spec *spec, const char *name);

#endif
