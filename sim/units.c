/* Physical quantities written as text: "<number> <unit>" -> canonical units.
 *
 * Unit symbols are compared after a small normalisation so that the spellings
 * people actually type all work: "µ" (micro sign) and "μ" (Greek mu) mean
 * "u", "²" means "2", and "^" and spaces are ignored ("um^2" = "um2" = "µm²",
 * "mS / cm^2" = "mS/cm2"). Case is significant: "mS" and "MS" differ. */
#include "apical/units.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct unit_entry {
    const char *symbol; /* as shown in messages */
    apical_dim dim;
    double scale;       /* value in this unit * scale = value in canonical unit */
} unit_entry;

/* Canonical units (scale 1): ms, mV, nS, pA, pF, Hz, um^2, mS/cm^2, uF/cm^2.
 * Entries of one dimension are listed together, canonical one included, in
 * the order messages show them. */
static const unit_entry units[] = {
    {"s", APICAL_DIM_TIME, 1e3},
    {"ms", APICAL_DIM_TIME, 1.0},
    {"us", APICAL_DIM_TIME, 1e-3},
    {"ns", APICAL_DIM_TIME, 1e-6},

    {"V", APICAL_DIM_VOLTAGE, 1e3},
    {"mV", APICAL_DIM_VOLTAGE, 1.0},
    {"uV", APICAL_DIM_VOLTAGE, 1e-3},

    {"S", APICAL_DIM_CONDUCTANCE, 1e9},
    {"mS", APICAL_DIM_CONDUCTANCE, 1e6},
    {"uS", APICAL_DIM_CONDUCTANCE, 1e3},
    {"nS", APICAL_DIM_CONDUCTANCE, 1.0},
    {"pS", APICAL_DIM_CONDUCTANCE, 1e-3},

    {"A", APICAL_DIM_CURRENT, 1e12},
    {"mA", APICAL_DIM_CURRENT, 1e9},
    {"uA", APICAL_DIM_CURRENT, 1e6},
    {"nA", APICAL_DIM_CURRENT, 1e3},
    {"pA", APICAL_DIM_CURRENT, 1.0},
    {"fA", APICAL_DIM_CURRENT, 1e-3},

    {"F", APICAL_DIM_CAPACITANCE, 1e12},
    {"mF", APICAL_DIM_CAPACITANCE, 1e9},
    {"uF", APICAL_DIM_CAPACITANCE, 1e6},
    {"nF", APICAL_DIM_CAPACITANCE, 1e3},
    {"pF", APICAL_DIM_CAPACITANCE, 1.0},
    {"fF", APICAL_DIM_CAPACITANCE, 1e-3},

    {"Hz", APICAL_DIM_RATE, 1.0},
    {"kHz", APICAL_DIM_RATE, 1e3},
    {"1/s", APICAL_DIM_RATE, 1.0},
    {"/s", APICAL_DIM_RATE, 1.0},
    {"1/ms", APICAL_DIM_RATE, 1e3},
    {"/ms", APICAL_DIM_RATE, 1e3},

    {"um^2", APICAL_DIM_AREA, 1.0},
    {"mm^2", APICAL_DIM_AREA, 1e6},
    {"cm^2", APICAL_DIM_AREA, 1e8},
    {"m^2", APICAL_DIM_AREA, 1e12},

    {"S/cm^2", APICAL_DIM_SPECIFIC_CONDUCTANCE, 1e3},
    {"mS/cm^2", APICAL_DIM_SPECIFIC_CONDUCTANCE, 1.0},
    {"uS/cm^2", APICAL_DIM_SPECIFIC_CONDUCTANCE, 1e-3},
    {"S/m^2", APICAL_DIM_SPECIFIC_CONDUCTANCE, 0.1},

    {"uF/cm^2", APICAL_DIM_SPECIFIC_CAPACITANCE, 1.0},
    {"F/m^2", APICAL_DIM_SPECIFIC_CAPACITANCE, 100.0},
};

#define N_UNITS (sizeof units / sizeof units[0])

static const struct {
    const char *name;
    const char *article;
    const char *example;
} dims[APICAL_DIM__COUNT] = {
    [APICAL_DIM_NONE] = {"dimensionless number", "a", "0.5"},
    [APICAL_DIM_TIME] = {"time", "a", "0.1 ms"},
    [APICAL_DIM_VOLTAGE] = {"voltage", "a", "-60 mV"},
    [APICAL_DIM_CONDUCTANCE] = {"conductance", "a", "6 nS"},
    [APICAL_DIM_CURRENT] = {"current", "a", "100 pA"},
    [APICAL_DIM_CAPACITANCE] = {"capacitance", "a", "200 pF"},
    [APICAL_DIM_RATE] = {"rate", "a", "10 Hz"},
    [APICAL_DIM_AREA] = {"area", "an", "20000 um^2"},
    [APICAL_DIM_SPECIFIC_CONDUCTANCE] = {"specific conductance", "a", "0.1 mS/cm^2"},
    [APICAL_DIM_SPECIFIC_CAPACITANCE] = {"specific capacitance", "a", "1 uF/cm^2"},
};

const char *apical_dim_name(apical_dim dim)
{
    if ((int)dim < 0 || dim >= APICAL_DIM__COUNT)
        return "unknown dimension";
    return dims[dim].name;
}

/* Write the normalised spelling of s into out; returns -1 if it does not fit
 * (no real unit symbol is that long). */
static int normalise(const char *s, char *out, size_t n)
{
    size_t k = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        char c;
        if (p[0] == 0xC2 && p[1] == 0xB5) { /* U+00B5 micro sign */
            c = 'u';
            p += 2;
        } else if (p[0] == 0xCE && p[1] == 0xBC) { /* U+03BC Greek mu */
            c = 'u';
            p += 2;
        } else if (p[0] == 0xC2 && p[1] == 0xB2) { /* U+00B2 superscript two */
            c = '2';
            p += 2;
        } else if (*p == '^' || *p == ' ' || *p == '\t') {
            p++;
            continue;
        } else {
            c = (char)*p++;
        }
        if (k + 1 >= n)
            return -1;
        out[k++] = c;
    }
    out[k] = '\0';
    return 0;
}

int apical_unit_lookup(const char *symbol, apical_dim *dim, double *scale)
{
    char want[64], have[64];
    if (!symbol || normalise(symbol, want, sizeof want) < 0)
        return -1;
    if (want[0] == '\0' || strcmp(want, "1") == 0) {
        *dim = APICAL_DIM_NONE;
        *scale = 1.0;
        return 0;
    }
    for (size_t i = 0; i < N_UNITS; i++) {
        if (normalise(units[i].symbol, have, sizeof have) == 0 && strcmp(want, have) == 0) {
            *dim = units[i].dim;
            *scale = units[i].scale;
            return 0;
        }
    }
    return -1;
}

/* "s, ms, us, ns" for the messages about an unknown unit. */
static void list_units(apical_dim dim, char *buf, size_t n)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < N_UNITS && used < n; i++) {
        if (units[i].dim != dim)
            continue;
        int w = snprintf(buf + used, n - used, "%s%s", used ? ", " : "", units[i].symbol);
        if (w < 0)
            break;
        used += (size_t)w;
    }
}

/* Length of the leading decimal number in s ([+-]digits[.digits][e[+-]digits]),
 * or 0 if s does not start with one. Written out rather than trusting strtod
 * alone, which would also take "inf", "nan" and hexadecimal. */
static size_t number_length(const char *s)
{
    size_t i = 0, digits = 0;
    if (s[i] == '+' || s[i] == '-')
        i++;
    while (s[i] >= '0' && s[i] <= '9')
        i++, digits++;
    if (s[i] == '.') {
        i++;
        while (s[i] >= '0' && s[i] <= '9')
            i++, digits++;
    }
    if (digits == 0)
        return 0;
    if (s[i] == 'e' || s[i] == 'E') {
        size_t j = i + 1;
        if (s[j] == '+' || s[j] == '-')
            j++;
        if (s[j] >= '0' && s[j] <= '9') {
            while (s[j] >= '0' && s[j] <= '9')
                j++;
            i = j;
        }
    }
    return i;
}

int apical_quantity_parse(const char *text, const char *want, double *out,
                          char *why, size_t why_len)
{
    char dummy[1];
    if (!why) {
        why = dummy;
        why_len = sizeof dummy;
    }
    apical_dim wdim;
    double wscale;
    if (apical_unit_lookup(want ? want : "", &wdim, &wscale) < 0) {
        snprintf(why, why_len, "unknown canonical unit '%s' in a model table", want);
        return -1;
    }
    const char *p = text ? text : "";
    while (*p == ' ' || *p == '\t')
        p++;
    size_t nlen = number_length(p);
    if (nlen == 0 || nlen > 400) {
        snprintf(why, why_len, "expected %s %s such as '%s', got '%s'", dims[wdim].article,
                 dims[wdim].name, dims[wdim].example, text ? text : "");
        return -1;
    }
    char num[401];
    memcpy(num, p, nlen);
    num[nlen] = '\0';
    errno = 0;
    double v = strtod(num, NULL);
    if (!isfinite(v)) {
        snprintf(why, why_len, "'%s' is too large to be represented", num);
        return -1;
    }

    /* The unit is the rest, without surrounding blanks. */
    const char *u = p + nlen;
    while (*u == ' ' || *u == '\t')
        u++;
    size_t ulen = strlen(u);
    while (ulen && (u[ulen - 1] == ' ' || u[ulen - 1] == '\t'))
        ulen--;
    char unit[64];
    if (ulen >= sizeof unit) {
        snprintf(why, why_len, "unknown unit '%.40s...'", u);
        return -1;
    }
    memcpy(unit, u, ulen);
    unit[ulen] = '\0';

    if (ulen == 0) {
        if (wdim == APICAL_DIM_NONE) {
            *out = v / wscale;
            return 0;
        }
        snprintf(why, why_len, "missing unit: expected %s %s such as '%s', got '%s'",
                 dims[wdim].article, dims[wdim].name, dims[wdim].example, num);
        return -1;
    }

    apical_dim gdim;
    double gscale;
    if (apical_unit_lookup(unit, &gdim, &gscale) < 0) {
        if (wdim == APICAL_DIM_NONE) {
            snprintf(why, why_len, "expected a dimensionless number such as '%s', got '%s'",
                     dims[wdim].example, text);
        } else {
            char list[256];
            list_units(wdim, list, sizeof list);
            snprintf(why, why_len, "unknown unit '%s': expected %s %s such as '%s' (units: %s)",
                     unit, dims[wdim].article, dims[wdim].name, dims[wdim].example, list);
        }
        return -1;
    }
    if (gdim != wdim) {
        if (gdim == APICAL_DIM_NONE)
            snprintf(why, why_len, "expected %s %s such as '%s', got the dimensionless '%s'",
                     dims[wdim].article, dims[wdim].name, dims[wdim].example, unit);
        else
            snprintf(why, why_len, "expected %s %s such as '%s', got '%s' which is %s %s",
                     dims[wdim].article, dims[wdim].name, dims[wdim].example, unit,
                     dims[gdim].article, dims[gdim].name);
        return -1;
    }
    double r = v * gscale / wscale;
    if (!isfinite(r)) {
        snprintf(why, why_len, "'%s' is too large to be represented", text);
        return -1;
    }
    *out = r;
    return 0;
}
