/* Physical quantities written as text ("6 nS", "-60 mV", "0.1 ms").
 *
 * Every model field declares one canonical unit. Internally apical computes in
 * ms, mV, nS, pA, pF, Hz, um^2 (a consistent set: nS * mV = pA,
 * pA / pF = mV/ms). A value in the file may use any unit of the same dimension
 * and is converted to the field's canonical unit. */
#ifndef APICAL_UNITS_H
#define APICAL_UNITS_H

#include <stddef.h>

typedef enum apical_dim {
    APICAL_DIM_NONE = 0, /* dimensionless: "", "1" */
    APICAL_DIM_TIME,     /* s, ms, us */
    APICAL_DIM_VOLTAGE,  /* V, mV, uV */
    APICAL_DIM_CONDUCTANCE, /* S, mS, uS, nS, pS */
    APICAL_DIM_CURRENT,  /* A, mA, uA, nA, pA */
    APICAL_DIM_CAPACITANCE, /* F, uF, nF, pF */
    APICAL_DIM_RATE,     /* Hz, kHz, 1/ms, 1/s */
    APICAL_DIM_AREA,     /* um^2, um2, cm^2, cm2 */
    APICAL_DIM_SPECIFIC_CONDUCTANCE, /* mS/cm^2, S/cm^2 */
    APICAL_DIM_SPECIFIC_CAPACITANCE, /* uF/cm^2 */
    APICAL_DIM__COUNT
} apical_dim;

/* Look up a unit symbol. Returns 0 and sets *dim and *scale (the factor that
 * converts a value in this unit into the canonical unit of its dimension) or
 * -1 if the symbol is unknown. "u" and "µ" both mean micro. */
int apical_unit_lookup(const char *symbol, apical_dim *dim, double *scale);

/* Parse "<number> <unit>" (space optional, "1e-3 s" fine) and convert it into
 * the canonical unit `want` (itself a symbol, e.g. "mV"; "1" or "" for a
 * dimensionless field). A bare number is accepted only for dimensionless
 * fields. Returns 0 on success; on failure returns -1 and writes a one-line
 * reason (e.g. "expected a voltage such as '-60 mV', got 'nS'") to why. */
int apical_quantity_parse(const char *text, const char *want, double *out,
                          char *why, size_t why_len);

/* Name of a dimension for messages ("voltage"). */
const char *apical_dim_name(apical_dim dim);

#endif
