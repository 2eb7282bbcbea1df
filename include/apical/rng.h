/* Counter-based random streams (Philox4x32-10, Random123).
 *
 * A stream is keyed by (global seed, purpose, object name) and split into
 * substreams by an index such as a neuron id, so that the numbers a neuron
 * sees do not depend on how the network is partitioned, on thread count, or
 * on what else the file contains. GSL's samplers run on top through a
 * gsl_rng adapter (apical_rng_gsl). */
#ifndef APICAL_RNG_H
#define APICAL_RNG_H

#include <stdint.h>

#include <gsl/gsl_rng.h>

typedef enum apical_rng_purpose {
    APICAL_RNG_INIT = 1,   /* initial state, by population */
    APICAL_RNG_CONNECT,    /* connectivity, by projection */
    APICAL_RNG_WEIGHT,     /* weights, by projection */
    APICAL_RNG_DELAY,      /* delays, by projection */
    APICAL_RNG_POISSON,    /* Poisson inputs, by input */
    APICAL_RNG_RECORD,     /* recorder sampling, by recorder */
    APICAL_RNG_NEURON,     /* a stochastic model's own draws, by population */
    APICAL_RNG_PATTERN,    /* stored patterns of hebbian weights, by projection */
} apical_rng_purpose;

typedef struct apical_rng {
    uint32_t key[2];
    uint32_t stream;    /* hash of (purpose, object name) */
    uint32_t substream; /* e.g. neuron id */
    uint64_t counter;   /* block index within the substream */
    uint32_t buf[4];
    unsigned used;      /* words of buf consumed (4 = empty) */
} apical_rng;

/* Stream id for a purpose and an object name (stable across runs). */
uint32_t apical_rng_stream_id(apical_rng_purpose purpose, const char *name);

/* Position r at the start of (seed, stream, substream). */
void apical_rng_init(apical_rng *r, uint64_t seed, uint32_t stream, uint32_t substream);

/* Position r at block `block` (four words each) of its substream: a jump
 * to a place that does not depend on how far r had gone (a restart keyed
 * by an epoch, apical_engine_restart). */
void apical_rng_seek(apical_rng *r, uint64_t block);

uint32_t apical_rng_u32(apical_rng *r);
/* Uniform in [0, 1) with 53 random bits. */
double apical_rng_uniform(apical_rng *r);
/* Uniform in (0, 1): never 0, for logarithms. */
double apical_rng_uniform_pos(apical_rng *r);

/* The next block of four words into r->buf (what apical_rng_u32 does when
 * the buffer is used up). */
void apical_rng_refill(apical_rng *r);

/* apical_rng_uniform and apical_rng_uniform_pos inline, for hot loops: the
 * same numbers from the same stream. */
static inline uint32_t apical_rng_u32_inline(apical_rng *r)
{
    if (r->used >= 4)
        apical_rng_refill(r);
    return r->buf[r->used++];
}

static inline double apical_rng_uniform_inline(apical_rng *r)
{
    const uint64_t hi = apical_rng_u32_inline(r) >> 5, lo = apical_rng_u32_inline(r) >> 6;
    return (double)(hi * 67108864u + lo) * (1.0 / 9007199254740992.0);
}

static inline double apical_rng_uniform_pos_inline(apical_rng *r)
{
    double u;
    do
        u = apical_rng_uniform_inline(r);
    while (u == 0.0);
    return u;
}

/* A gsl_rng whose state is an apical_rng, for GSL's samplers
 * (gsl_ran_gaussian_ziggurat, gsl_ran_exponential, ...). Free with
 * gsl_rng_free. Returns NULL when out of memory. */
gsl_rng *apical_rng_gsl_alloc(void);
/* The apical_rng inside such a gsl_rng, to position it with apical_rng_init. */
apical_rng *apical_rng_gsl_state(gsl_rng *g);

#endif
