#include "apical/rng.h"

#include <Random123/philox.h>
#include <string.h>

uint32_t apical_rng_stream_id(apical_rng_purpose purpose, const char *name)
{
    /* FNV-1a over purpose byte and name: stable, and cheap enough. */
    uint32_t h = 2166136261u;
    h = (h ^ (uint32_t)purpose) * 16777619u;
    for (const unsigned char *s = (const unsigned char *)name; *s; s++)
        h = (h ^ *s) * 16777619u;
    return h;
}

void apical_rng_init(apical_rng *r, uint64_t seed, uint32_t stream, uint32_t substream)
{
    r->key[0] = (uint32_t)seed;
    r->key[1] = (uint32_t)(seed >> 32);
    r->stream = stream;
    r->substream = substream;
    r->counter = 0;
    r->used = 4;
}

void apical_rng_seek(apical_rng *r, uint64_t block)
{
    r->counter = block;
    r->used = 4;
}

void apical_rng_refill(apical_rng *r)
{
    philox4x32_ctr_t c = {{(uint32_t)r->counter, r->substream, r->stream,
                           (uint32_t)(r->counter >> 32)}};
    philox4x32_key_t k = {{r->key[0], r->key[1]}};
    philox4x32_ctr_t out = philox4x32(c, k);
    memcpy(r->buf, out.v, sizeof r->buf);
    r->counter++;
    r->used = 0;
}

uint32_t apical_rng_u32(apical_rng *r)
{
    if (r->used >= 4)
        apical_rng_refill(r);
    return r->buf[r->used++];
}

double apical_rng_uniform(apical_rng *r)
{
    uint64_t hi = apical_rng_u32(r) >> 5, lo = apical_rng_u32(r) >> 6;
    return (double)(hi * 67108864u + lo) * (1.0 / 9007199254740992.0);
}

double apical_rng_uniform_pos(apical_rng *r)
{
    double u;
    do
        u = apical_rng_uniform(r);
    while (u == 0.0);
    return u;
}

static void gsl_set(void *state, unsigned long seed)
{
    apical_rng_init(state, seed, 0, 0);
}

static unsigned long gsl_get(void *state)
{
    return apical_rng_u32(state);
}

static double gsl_get_double(void *state)
{
    return apical_rng_uniform(state);
}

static const gsl_rng_type philox_type = {
    "apical-philox4x32", 0xffffffffUL, 0, sizeof(apical_rng),
    gsl_set, gsl_get, gsl_get_double,
};

gsl_rng *apical_rng_gsl_alloc(void)
{
    return gsl_rng_alloc(&philox_type);
}

apical_rng *apical_rng_gsl_state(gsl_rng *g)
{
    return g->state;
}
