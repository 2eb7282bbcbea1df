/* Private to the units without dynamics between events (models/parrot.c,
 * models/rectified_power.c, models/hopfield.c): the vtable entries that say
 * so, written once. Their state changes only in `receive` (and when a
 * controller sets it); each file keeps its own `derivs`, which zeroes its
 * own state variables. */
#ifndef APICAL_EVENTLESS_COMMON_H
#define APICAL_EVENTLESS_COMMON_H

#include <math.h>

#include "apical/model.h"

/* No derived parameters. */
static inline void eventless_derive(const double *p, double *d)
{
    (void)p;
    (void)d;
}

/* Never at threshold: the unit fires only as its receive arranges (parrot)
 * or not at all (rate units). */
static inline double eventless_never_at_threshold(const double y[], const apical_model_ctx *c)
{
    (void)y;
    (void)c;
    return -1.0;
}

static inline void eventless_no_reset(double y[], const apical_model_ctx *c)
{
    (void)y;
    (void)c;
}

static inline double eventless_no_refractory_period(const apical_model_ctx *c)
{
    (void)c;
    return 0.0;
}

/* Nothing happens until the next input: quiet for ever. */
static inline double eventless_quiet_for_ever(const double y[], const apical_model_ctx *c)
{
    (void)y;
    (void)c;
    return HUGE_VAL;
}

#endif
