/* Neuron models as const vtables.
 *
 * The engine never switches on model kind: it integrates the state vector with
 * gsl_odeiv2 through `derivs` (or through the model's exact or sweep ops),
 * asks `spike_distance` for threshold crossings, and calls `reset`, `receive`
 * and `quiet_horizon`. A model file in models/
 * ends with one `const apical_model_type` and is listed once in
 * models/registry.c.
 *
 * Units: every field carries its canonical unit (see units.h); the engine
 * works in ms, mV, nS, pA, pF. */
#ifndef APICAL_MODEL_H
#define APICAL_MODEL_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "apical/rng.h"

typedef struct apical_field {
    const char *name;
    const char *unit;  /* canonical unit symbol, "1" if dimensionless */
    double def;        /* default value */
    double lo, hi;     /* inclusive bounds (use -HUGE_VAL / HUGE_VAL for none) */
    const char *doc;   /* one line for `apical models` */
} apical_field;

/* What `derivs` and the hooks see of one neuron: the population's parameters
 * and derived constants, and whether the neuron is refractory (membrane
 * clamped). One context per population; `refractory` is set by the engine
 * before each integration segment. */
typedef struct apical_model_ctx {
    const double *param;   /* n_params values, canonical units */
    const double *derived; /* n_derived values from `derive` */
    int refractory;
    /* Current injected by devices into this neuron (pA), set by the engine
     * before each integration: a piecewise-constant part that changes only
     * at events (DC, step, noise devices) and a sinusoid. Models add
     * apical_ctx_current(ctx, t) to their membrane current. */
    double i_ext;
    double i_sin_amp, i_sin_omega, i_sin_phase; /* pA, rad/ms, rad */
    /* The neuron's own random stream, for models with uses_rng (stochastic
     * spiking: reset draws the next threshold). NULL otherwise. Keyed by
     * (seed, population, neuron id), so draws do not depend on partitioning;
     * recorders integrate a copy, so recording never consumes draws. */
    apical_rng *rng;
} apical_model_ctx;

static inline double apical_ctx_current(const apical_model_ctx *c, double t)
{
    return c->i_sin_amp != 0.0 ? c->i_ext + c->i_sin_amp * sin(c->i_sin_omega * t + c->i_sin_phase)
                               : c->i_ext;
}

/* d/dt of apical_ctx_current, for Jacobians (dfdt). */
static inline double apical_ctx_current_dt(const apical_model_ctx *c, double t)
{
    return c->i_sin_amp != 0.0
               ? c->i_sin_amp * c->i_sin_omega * cos(c->i_sin_omega * t + c->i_sin_phase)
               : 0.0;
}

/* An upper bound of apical_ctx_current over all future t, for quiet_horizon. */
static inline double apical_ctx_current_max(const apical_model_ctx *c)
{
    return c->i_ext + fabs(c->i_sin_amp);
}

/* Exact integration by windows (stepper "exact"; sim/exact.c), for models
 * that are linear between input events and spike stochastically at a
 * bounded rate hazard(C) that nothing feeds back from.
 *
 * Within a window [T0, T1) the engine keeps each neuron's state at T0 and
 * folds every input into n_acc accumulators, with per-unit-weight
 * coefficients that depend only on the receptor and the arrival time, so
 * one input spike costs a few multiply-adds per target. The state at any
 * s = t - T0 is then a closed form of (state at T0, accumulators of the
 * inputs before t, time factors at s). Spikes come from thinning a Poisson
 * process of rate hazard_bound (candidates accepted with probability
 * hazard(C)/bound): exact in distribution, no integration error. */
typedef struct apical_exact_ops {
    size_t n_acc;   /* accumulators per neuron */
    size_t n_basis; /* time factors per evaluation time (<= 8) */
    /* The soma's decay rate for this state (constant between pokes), or NaN
     * when the closed form does not apply (e.g. it equals a kernel rate). */
    double (*rate)(const double y[], const apical_model_ctx *c);
    /* Time factors at s for decay rate g, shared by all neurons with that g. */
    void (*basis)(double s, double g, const apical_model_ctx *c, double b[]);
    /* Accumulator increments per unit weight of an input on `receptor` at s
     * (s <= the window length, so e^(g s) factors stay bounded). */
    void (*input)(size_t receptor, double s, double g, const apical_model_ctx *c, double coef[]);
    /* Somatic potential at the basis's s from the window-start state y0. */
    double (*soma)(const double y0[], const double acc[], const double b[], double g,
                   const apical_model_ctx *c);
    /* Whole state at the basis's s (every variable but the hazard ones). */
    void (*state_at)(const double y0[], const double acc[], const double b[], double g,
                     const apical_model_ctx *c, double y[]);
    double (*hazard)(double C, const apical_model_ctx *c); /* per ms */
    double (*hazard_bound)(const apical_model_ctx *c);      /* >= hazard, per ms */
    /* The fastest rate (per ms) any factor of basis or input grows with at
     * decay rate g, e.g. max(g, kernel rates): the engine splits a window
     * into pieces short enough that e^(rate piece) stays far from overflow.
     * Called between windows after state changes; may be NULL (then g). */
    double (*growth)(double g, const apical_model_ctx *c);
    size_t int_hazard; /* state index that integrates the hazard, or (size_t)-1 */
    /* state_at for n neurons sharing the rate g at once, in place: ys holds
     * their states as struct of arrays (ys[k n + j]: variable k of neuron
     * j), which it reads and updates, y the same states as array of structs
     * (n_state each), to which it writes every variable it changes; acc
     * their accumulators (acc[k n + j]: accumulator k of neuron j), which it
     * sets to 0; b the basis at the window end. The same bits per neuron as
     * state_at (the engine uses either). Called at every window end in the
     * hot loop: no allocation; may be NULL (then state_at per neuron).
     * Returns nonzero when a value it wrote is not finite. */
    int (*state_end_n)(size_t n, double *y, double *ys, double *acc, const double b[], double g,
                       const apical_model_ctx *c);
    /* input for m inputs on one receptor at times s[k], into coef[a stride
     * + k] (accumulator a of input k): the same bits as input. May be NULL
     * (then input per input). */
    void (*input_n)(size_t receptor, size_t m, const double *s, double g,
                    const apical_model_ctx *c, double *coef, size_t stride);
    /* hazard(soma(basis(s[k], g))) for m evaluations at once: evaluation k
     * is of neuron j[k], whose window-start state is in ys as in
     * state_end_n (n neurons), with accumulators acc[a stride + k]; into
     * hz[k]. The same bits as the scalar ops. May be NULL. */
    void (*hazard_n)(size_t m, const double *s, const uint32_t *j, const double *acc,
                     size_t stride, const double *ys, size_t n, double g,
                     const apical_model_ctx *c, double *hz);
} apical_exact_ops;

/* Window-synchronous integration (stepper "sweep"; sim/sweep.c), for models
 * whose state between inputs can be stepped cheaply and accurately by a
 * fixed method: every neuron of a population is advanced once per window
 * [T0, T1) by a vectorised kernel with constants shared by the population;
 * neurons with inputs (or a refractory end, a crossing candidate, a state
 * beyond the method's accuracy bound) are redone by `advance`, split at
 * their inputs' exact times. State is struct-of-arrays for these
 * populations: y[k] is variable k over the neurons the call covers.
 *
 * Accuracy contract: `advance(dt)` is accurate to the bound the model
 * documents for any dt and any state (it takes as many internal sub-steps
 * as that needs); `window` may only be used where one step of length h per
 * neuron meets it, and flags every neuron where it does not. */
enum { APICAL_SWEEP_MAX_CONST = 80 };
typedef struct apical_sweep_ops {
    size_t n_const; /* <= APICAL_SWEEP_MAX_CONST */
    /* The longest step (ms) `window` may take for this population's
     * parameters; the engine runs a longer window as m equal sub-windows,
     * one kernel call each. It also bounds the steps of the one-by-one walk
     * between crossing tests (the test trusts one step's Hermite
     * interpolant of spike_distance over at most this long). Called when
     * the window length changes and once per walk; never NULL. */
    double (*max_step)(const apical_model_ctx *c);
    /* Constants of a step of length h (e.g. decay factors e^(-h/tau)),
     * shared by every neuron of the population; the engine caches them
     * while the window length stays the same. Never NULL; no allocation;
     * deterministic (the same bits for the same h). */
    void (*constants)(double h, const apical_model_ctx *c, double k[]);
    /* The window kernel: neurons [0, n) from y (state at T0) to yn (state
     * at T1; distinct arrays), with the constants for T1 - T0. A neuron with
     * ref_until >= T1 holds its membrane (refractory for the whole window).
     * cand[i] >= 0 marks a neuron whose result must be redone by `advance`:
     * refractoriness ending inside (T0, T1), a possible threshold crossing
     * (from below, not refractory) anywhere in the window, a state beyond
     * the accuracy bound, or a result that is not finite (the engine
     * checks only the neurons it redoes); otherwise yn is final. Called at every window end
     * in the hot loop of dense populations (no horizon_n; NULL where
     * horizon_n is set: lazy populations never step every neuron); no allocation, no branches on neuron
     * state (vectorisable), the same bits for a neuron wherever it sits in
     * the arrays. */
    void (*window)(size_t n, const double *const y[], double *const yn[],
                   const double *ref_until, double T0, double T1, const double k[],
                   const apical_model_ctx *c, double *cand);
    /* One neuron (state vector y, in place) advanced by dt >= 0 with the
     * membrane held when `refractory`; as accurate as the contract says for
     * any dt (internal sub-steps as needed), and with the same bits as
     * `window` for the same single step. slope[0], slope[1]: d/dt of
     * spike_distance at the start and the end (0 when refractory), which
     * the step computes anyway (crossing tests, Hermite interpolation).
     * Called per input in the hot loop: never NULL, no allocation. */
    void (*advance)(double y[], double dt, int refractory, const apical_model_ctx *c,
                    double slope[2]);
    /* `advance` for n neurons at once, each by its own dt[i] (struct of
     * arrays, y to yn, distinct arrays), with the membrane held where
     * held[i] > 0, and the same bits per neuron as `advance` for one step;
     * k: the constants of `constants` (any h: only the population's are
     * used). cand[i] as for `window` (>= 0: redo neuron i by `advance`: a
     * possible crossing, or the step beyond the accuracy bound). The
     * engine steps the neurons with inputs in rounds with it, one input
     * each. May be NULL (then `advance` per neuron); no allocation;
     * vectorisable. */
    void (*advance_n)(size_t n, const double *const y[], double *const yn[], const double *dt,
                      const double *held, const apical_model_ctx *c, const double k[],
                      double *cand);
    /* advance_n's vectorised step alone: one step of dt[i] per lane (no
     * sub-steps), held as for advance_n; cand[i] >= 0 wherever advance_n
     * would do more or flag (the step beyond the accuracy bound, a
     * possible crossing where not held, dt[i] beyond max_step, a result
     * that is not finite), and elsewhere yn holds advance_n's bits. A
     * dense population with it whose window is one kernel step is stepped
     * by it instead of `window`: every neuron without inputs over the
     * window, each neuron with inputs to its first stop (its first input,
     * or its refractory end), as the rounds of advance_n would take it,
     * so that this step is the rounds' first and not thrown away (dt[i] =
     * HUGE_VAL, beyond max_step, for a neuron it walks: its refractoriness
     * ends inside the window). May be NULL; no allocation; vectorisable. */
    void (*step_n)(size_t n, const double *const y[], double *const yn[], const double *dt,
                   const double *held, const double k[], const apical_model_ctx *c,
                   double *cand);
    /* Per lane, a proven lower bound (ms) on the time to threshold without
     * input from state y (not refractory), with the same bits as the
     * model's quiet_horizon (0: none known; HUGE_VAL: never). The lazy
     * sweep leaves a neuron untouched while its wake time (state time +
     * this) is beyond the window. Called for the stepped neurons after
     * every round, and for one neuron at a time after a walk, a sync or a
     * poke. May be NULL: then every neuron is stepped every window. No
     * allocation; vectorisable. */
    void (*horizon_n)(size_t n, const double *const y[], const apical_model_ctx *c,
                      double *out);
    /* Dense populations: the neurons with exactly one input in the window
     * (about 92% of those with inputs on COBA), in one vectorised call.
     * Entry q is owned neuron idx[q] (distinct; y, yn and ru are indexed
     * by it, gathered and scattered), its input at t_in[q] in [T0, T1) of
     * weight w_in[q] on receptor r_in[q] (the index as a double). yn gets
     * the state at T1 with exactly the bits of advance_n from T0 to t_in,
     * `receive`, then advance_n from t_in to T1 (k as for advance_n; both
     * held where ru >= T1). cand[q] >= 0 where that result may not be
     * used and the engine takes the neuron through the general path
     * instead (yn is then unspecified): refractoriness ending inside
     * (T0, T1) (ru > T0 and ru < T1), either step flagged as by
     * advance_n, a result that is not finite, t_in outside [T0, T1), or
     * an input that could make the neuron fire at its time (only models
     * whose receive never moves spike_distance may give this op). Called
     * at every window end: no allocation, vectorisable. May be NULL (then
     * every neuron with inputs goes through the rounds of advance_n). */
    void (*single_input)(size_t n, const uint32_t *idx, const double *const y[],
                         double *const yn[], const double *ru, const double *t_in,
                         const double *w_in, const double *r_in, double T0, double T1,
                         const double k[], const apical_model_ctx *c, double *cand);
    /* Dense populations: the neurons the window kernel flagged that have no
     * input in the window and are not refractory at T0 (ref_until <= T0),
     * in one vectorised call, when the window is one kernel step (k: the
     * constants for T1 - T0). Entry q is owned neuron idx[q] (distinct;
     * gathered from y, the state at T0, and scattered to yn). cand[q] < 0
     * where yn now holds exactly what the engine's one-by-one walk would
     * produce from T0 to T1 without finding a crossing: `advance` over
     * T1 - T0 (its sub-steps included) with spike_distance below 0 at both
     * ends, the crossing test's Hermite bound (max(s0, s1) + 4h/27
     * (max(s0', 0) + max(-s1', 0)), with advance's slopes) below 0, and a
     * finite result. Elsewhere cand[q] >= 0 and yn[idx[q]] is unspecified:
     * the engine walks the neuron. Called at every window end: no
     * allocation, vectorisable. May be NULL (then every flagged neuron is
     * walked). */
    void (*window_redo)(size_t n, const uint32_t *idx, const double *const y[],
                        double *const yn[], double T0, double T1, const double k[],
                        const apical_model_ctx *c, double *cand);
    /* Nonzero: window_redo also gets the flagged neurons refractory through
     * the whole window (ref_until >= T1), marked by cand[q] = 1 on entry (0
     * for the others); the walk takes those by `advance` over T1 - T0 with
     * the membrane's refractory flag set and no crossing search, which is
     * what window_redo must then reproduce. For models whose kernel flags
     * refractory neurons other than for a non-finite result (HH: V is not
     * held, and an action potential needs sub-steps). */
    int redo_refractory;
    /* Nonzero: `receive` never changes spike_distance (it moves synaptic
     * state only, e.g. a current or a conductance), so an input can never
     * be a jump across threshold and the engine skips that test (two
     * spike_distance calls per input, ~5% of CUBA's instructions). Zero
     * (the default) is always correct. */
    int receive_keeps_distance;
    /* Optional (needs receive_keeps_distance): receive(y, r, w, c) is
     * exactly y[receive_adds_to[r]] += w for every receptor r, whatever c
     * says, so the lazy path adds an input in place in its lane buffers,
     * without copying the state out and calling receive (a call per input
     * spills every live floating-point register: ~10% of CUBA's
     * instructions). NULL: receive is called. tests/check_sweep.c holds
     * every model that declares it to its receive, bit for bit. */
    const size_t *receive_adds_to;
    /* The walk locates a crossing by Newton's method against `advance`
     * (from the step's start to each estimate). 0 (the default): iterated
     * to rounding (1e-12 ms), then one more `advance` to the last estimate.
     * > 0 (ms): an estimate whose Newton correction is below this is kept
     * with the state `advance` gave there, saving that iteration and the
     * last `advance` (each from the step's start: over an action
     * potential's upstroke several sub-steps); the spike time then lies
     * within about this of the method's own crossing, so it should be
     * small beside the method's spike-time error. */
    double crossing_tol;
    /* One line for docs and messages, e.g. "RK4, conductances exact". */
    const char *method;
} apical_sweep_ops;

typedef struct apical_model_type {
    const char *name;
    const char *doc; /* one paragraph: equations in words, reference */

    size_t n_params;
    const apical_field *params;
    size_t n_state;
    const apical_field *state; /* def = default initial value */
    size_t n_receptors;
    const char *const *receptors; /* e.g. {"exc", "inh"} */
    const char *weight_unit;      /* unit of a synaptic weight, e.g. "nS" */

    size_t n_derived;
    /* Compute derived constants from validated parameters. Called once per
     * population before a run. Must not fail; never NULL. */
    void (*derive)(const double *param, double *derived);

    /* Check relations between parameters that bounds cannot express (e.g.
     * V_reset < V_th). Returns 0 if fine, else writes the reason and returns
     * the index of the offending parameter + 1. May be NULL. */
    size_t (*check)(const double *param, char *why, size_t why_len);

    /* dy/dt with GSL's signature; params is a const apical_model_ctx *.
     * Returns GSL_SUCCESS, or GSL_EBADFUNC if a result is not finite. Called
     * in the hot loop: no allocation. Never NULL. */
    int (*derivs)(double t, const double y[], double dydt[], void *params);

    /* Jacobian with GSL's signature, for implicit steppers. May be NULL. */
    int (*jacobian)(double t, const double y[], double *dfdy, double dfdt[],
                    void *params);

    /* Signed distance to threshold: a spike is an upward crossing, the time
     * this goes from negative to >= 0 while not refractory (plus, at t = 0,
     * any neuron that starts at or above threshold). Must be smooth in y so
     * the crossing can be located inside a step. Never NULL. */
    double (*spike_distance)(const double y[], const apical_model_ctx *ctx);

    /* Apply the post-spike reset to y. Never NULL. */
    void (*reset)(double y[], const apical_model_ctx *ctx);

    /* Refractory period in ms after a spike (0 = none). Never NULL. */
    double (*refractory_period)(const apical_model_ctx *ctx);

    /* Apply one synaptic event of `weight` (in weight_unit) on `receptor`.
     * ctx is the neuron's, with `refractory` true while it is refractory at
     * the event time (a model may drop inputs then, as NEST's
     * iaf_psc_delta does). The change may be a jump across threshold (a
     * delta synapse): when spike_distance goes from < 0 before the call to
     * >= 0 after it, and the neuron is not refractory, the engine fires it
     * at the event time (spike, reset, refractoriness), as for a crossing
     * inside a step. Never NULL; no allocation. */
    void (*receive)(double y[], size_t receptor, double weight,
                    const apical_model_ctx *ctx);

    /* A duration (ms) during which the neuron provably cannot reach threshold
     * if it receives no input; the engine then need not integrate it to look
     * for spikes. Return 0 when no bound is known. May be NULL (= 0). */
    double (*quiet_horizon)(const double y[], const apical_model_ctx *ctx);

    /* The model draws random numbers (through ctx->rng) in init and reset. */
    int uses_rng;

    /* Called once per neuron after its initial state is drawn from the
     * network file (e.g. to draw a first stochastic threshold). May be NULL. */
    void (*init)(double y[], const apical_model_ctx *ctx);

    /* Name of a receptor on which every input event makes the neuron fire
     * at that instant (NEST parrot_neuron: spike sources that can carry
     * plastic synapses). NULL for ordinary neurons. */
    const char *relay_receptor;

    /* Spikes that carry a signed integer: every synapse of the spike
     * delivers its weight times this value, computed from the state at the
     * spike, before `reset`. NULL: 1 (ordinary spikes). Binary units signal a
     * change of state with it (NEST's binary neurons use the spike's
     * multiplicity the same way): models/hopfield.c sends s_new - s_old, so
     * a neighbour's field moves by w (s_new - s_old). GSL populations only
     * (the engine's exact and sweep paths emit 1). May be NULL; no
     * allocation. */
    int32_t (*spike_multiplicity)(const double y[], const apical_model_ctx *ctx);

    /* Closed-form window integration (stepper "exact"), or NULL. */
    const apical_exact_ops *exact;

    /* Window-synchronous integration (stepper "sweep"), or NULL. */
    const apical_sweep_ops *sweep;

    /* Default GSL stepper name and tolerances for this model. */
    const char *default_stepper;
    double default_abs_tol, default_rel_tol;
} apical_model_type;

/* Registry. */
size_t apical_model_count(void);
const apical_model_type *apical_model_at(size_t i);
const apical_model_type *apical_model_find(const char *name);
/* Comma-separated list of model names into buf, for error messages. */
void apical_model_names(char *buf, size_t n);

/* Index of a named field in a table, or (size_t)-1. */
size_t apical_field_index(const apical_field *fields, size_t n, const char *name);
/* Index of a receptor name, or (size_t)-1. */
size_t apical_receptor_index(const apical_model_type *m, const char *name);

#endif
