/* e^x for the sweep kernels and their scalar steps: plain C that gcc
 * vectorises, deterministic (no libm, no -ffast-math), within 2 ulp of
 * libm (measured over [-700, 0]).
 *
 * libm's exp is not vectorised and costs ~10-20 ns in the scalar per-input
 * steps, which run ~5 M times per simulated second on COBA; this costs a
 * few ns and the same bits in a vector lane as in scalar code.
 *
 * Cody-Waite: x = n ln2 + r with |r| <= ln2/2 (ln2 split in a high part
 * with 32 significant bits, so n ln2_hi is exact for |n| < 2^21, and a low
 * part); e^r by its Taylor polynomial of degree 13 (truncation error
 * |r|^14/14! < 6e-19, below half an ulp); scaled by 2^n through the
 * exponent bits. Inputs below -708 return e^-708 (~3e-308) and above 709
 * return e^709: the callers only need decay factors e^(-t/tau), t >= 0,
 * and growth factors far below overflow. NaN in gives NaN out. */
#ifndef APICAL_FASTEXP_H
#define APICAL_FASTEXP_H

#include <stdint.h>
#include <string.h>

#define APICAL_FEXP_LO (-708.0)
#define APICAL_FEXP_HI 709.0

/* The clamp bounds as arguments: in a loop, pass them from memory (not as
 * literals). With literal bounds gcc specialises the clamped path into
 * constants, which is control flow in the loop: it stays scalar. */
static inline double apical_fexp_clamped(double x, double lo, double hi)
{
    x = x < lo ? lo : x;
    x = x > hi ? hi : x;
    /* round(x / ln2) by the 1.5 * 2^52 shifter: exact for |n| < 2^51 */
    const double shifter = 6755399441055744.0;
    const double t = x * 1.4426950408889634074 + shifter;
    const double n = t - shifter;
    const double r = (x - n * 0.693147180369123816490) - n * 1.90821492927058770002e-10;
    /* Estrin's scheme: the same polynomial as Horner's rule to within
     * rounding, with a dependency chain of 5 multiply-adds instead of 13
     * (the scalar per-input steps are latency-bound) */
    const double r2 = r * r, r4 = r2 * r2, r8 = r4 * r4;
    const double q0 = 1.0 + r, q1 = 0.5 + r * (1.0 / 6.0);
    const double q2 = 1.0 / 24.0 + r * (1.0 / 120.0), q3 = 1.0 / 720.0 + r * (1.0 / 5040.0);
    const double q4 = 1.0 / 40320.0 + r * (1.0 / 362880.0);
    const double q5 = 1.0 / 3628800.0 + r * (1.0 / 39916800.0);
    const double q6 = 1.0 / 479001600.0 + r * (1.0 / 6227020800.0);
    const double u0 = (q0 + q1 * r2) + (q2 + q3 * r2) * r4;
    const double u1 = (q4 + q5 * r2) + q6 * r4;
    const double p = u0 + u1 * r8;
    /* 2^n: n + 1023 in the exponent field (n in [-1022, 1023] here) */
    uint64_t bits;
    memcpy(&bits, &t, sizeof bits);
    bits = (bits + 1023u) << 52;
    double s;
    memcpy(&s, &bits, sizeof s);
    return p * s;
}

static inline double apical_fexp(double x)
{
    return apical_fexp_clamped(x, APICAL_FEXP_LO, APICAL_FEXP_HI);
}

/* e^z for small arguments, |z| <= APICAL_FEXP_SMALL: its Taylor polynomial
 * of degree 7 (Horner). Truncation |z|^8/8! <= 2^-48/40320 ~ 9e-20
 * relative, below an ulp; with rounding, within ~2 ulp of e^z. A third of
 * apical_fexp's instructions: the decay factors of steps shorter than
 * 2^-6 time constants (COBA's per-input steps: <= 0.1 ms at tau >= 5 ms,
 * |z| <= 0.01) need no range reduction. Callers check the range (the
 * result is meaningless outside it) and pick apical_fexp beyond it. */
#define APICAL_FEXP_SMALL 0.015625
static inline double apical_fexp_small(double z)
{
    double p = 1.0 / 5040.0;
    p = p * z + 1.0 / 720.0;
    p = p * z + 1.0 / 120.0;
    p = p * z + 1.0 / 24.0;
    p = p * z + 1.0 / 6.0;
    p = p * z + 0.5;
    p = p * z + 1.0;
    return p * z + 1.0;
}

/* (e^z - 1) / z, accurate also near z = 0 (exact-propagator kernels whose
 * two time constants may be close or equal). */
/* Its Taylor series to z^10/11!, for |z| < 0.1: truncation < 0.1^11/12!
 * ~ 2e-20. Branch-free, for vectorised loops. */
static inline double apical_phi_taylor(double z)
{
    double p = 1.0 / 39916800.0;
    p = p * z + 1.0 / 3628800.0;
    p = p * z + 1.0 / 362880.0;
    p = p * z + 1.0 / 40320.0;
    p = p * z + 1.0 / 5040.0;
    p = p * z + 1.0 / 720.0;
    p = p * z + 1.0 / 120.0;
    p = p * z + 1.0 / 24.0;
    p = p * z + 1.0 / 6.0;
    p = p * z + 0.5;
    return p * z + 1.0;
}

static inline double apical_fexpm1_over(double z)
{
    if (z > -0.1 && z < 0.1)
        return apical_phi_taylor(z);
    return (apical_fexp(z) - 1.0) / z;
}

#endif
