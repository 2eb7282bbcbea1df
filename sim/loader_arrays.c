/* Values per neuron and stored patterns, for the network file's
 *
 *   initial: {s: {from_file: {path: cue.h5, dataset: cue}}}      one value per neuron
 *   initial: {s: {pattern: {projection: P, index: 0, flip: 0.1}}}  a seeded pattern as cue
 *   weight:  {hebbian: {path: patterns.h5, dataset: patterns}}   w_ij = sum_k xi_i^k xi_j^k / N
 *   weight:  {hebbian: {patterns: 20}}                           20 patterns drawn from the seed
 *
 * Hopfield networks (models/hopfield.c) need both: memories stored in the
 * weights and a cue (a pattern with flipped bits, its negative, a mixture)
 * as the initial state. The file is HDF5 (apical_h5_array_read); a
 * relative path is taken from the network file's directory. Errors point
 * at the value that names the file. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "apical/h5in.h"
#include "apical/limits.h"
#include "apical/rng.h"
#include "loader_sections.h"

/* path and dataset of a {path: .., dataset: ..} mapping; the dataset has a
 * default. */
static apical_status file_keys(apical_ld *c, const apical_ynode *body, const char *where,
                               const char *def_ds, char **path, const char **ds,
                               const apical_ynode **pv)
{
    const char *p = "";
    apical_status st;
    *ds = def_ds;
    if ((st = apical_ld_require(c, body, "path", where, pv)) != APICAL_OK ||
        (st = apical_ld_string(c, *pv, "path", &p)) != APICAL_OK)
        return st;
    const apical_ynode *dv = apical_ld_get(body, "dataset");
    if (dv && (st = apical_ld_string(c, dv, "dataset", ds)) != APICAL_OK)
        return st;
    if (!p[0])
        return apical_ld_fail(c, *pv, APICAL_E_INVALID, "path is empty; name an HDF5 file");
    if (!(*path = apical_ld_path(c, p)))
        return apical_ld_oom(c);
    return APICAL_OK;
}

apical_status apical_ld_init_file(apical_ld *c, const apical_ynode *n, const apical_field *f,
                                  const apical_pop_spec *pop, apical_dist *d)
{
    static const char *const top[] = {"from_file", NULL};
    static const char *const keys[] = {"path", "dataset", NULL};
    char where[200];
    snprintf(where, sizeof where, "the initial %s of population '%s'", f->name, pop->name);
    apical_status st;
    if ((st = apical_ld_check_keys(c, n, top, where)) != APICAL_OK)
        return st;
    const apical_ynode *body = apical_ld_get(n, "from_file"), *pv = NULL;
    if ((st = apical_ld_need_kind(c, body, APICAL_Y_MAP, "from_file")) != APICAL_OK ||
        (st = apical_ld_check_keys(c, body, keys, "from_file")) != APICAL_OK)
        return st;
    char *path = NULL;
    const char *ds = NULL;
    if ((st = file_keys(c, body, "from_file", NULL, &path, &ds, &pv)) != APICAL_OK) {
        free(path);
        return st;
    }
    if (!ds) {
        free(path);
        return apical_ld_require(c, body, "dataset", "from_file", &pv);
    }
    double *v = NULL;
    size_t rows = 0, cols = 0;
    apical_error herr = {0};
    if ((st = apical_h5_array_read(path, ds, &v, &rows, &cols, &herr)) != APICAL_OK) {
        free(path);
        return apical_ld_fail(c, pv, st, "%s", herr.msg);
    }
    if (rows != 1 || cols != pop->size) {
        st = apical_ld_fail(c, pv, APICAL_E_RANGE,
                            "%s: dataset '%s' holds %zu x %zu values; population '%s' needs one "
                            "row of %llu (one per neuron)",
                            path, ds, rows, cols, pop->name, (unsigned long long)pop->size);
        goto out;
    }
    for (size_t i = 0; i < cols; i++)
        if (v[i] < f->lo || v[i] > f->hi) {
            st = apical_ld_fail(c, pv, APICAL_E_RANGE,
                                "%s: %s[%zu] = %g is outside the range of %s, [%g, %g] %s", path,
                                ds, i, v[i], f->name, f->lo, f->hi, f->unit);
            goto out;
        }
    *d = (apical_dist){APICAL_DIST_FILE, 0.0, 0.0, -HUGE_VAL, HUGE_VAL, apical_ld_pos(c, n), v,
                       (uint64_t)cols, 0, 0};
    v = NULL;
out:
    free(v);
    free(path);
    return st;
}

apical_status apical_ld_hebbian(apical_ld *c, const apical_ynode *n, const apical_pop_spec *src,
                                const apical_pop_spec *tgt, apical_dist *d)
{
    static const char *const top[] = {"hebbian", NULL};
    static const char *const keys[] = {"path", "dataset", "patterns", NULL};
    apical_status st;
    if ((st = apical_ld_check_keys(c, n, top, "weight")) != APICAL_OK)
        return st;
    const apical_ynode *body = apical_ld_get(n, "hebbian"), *pv = NULL;
    if ((st = apical_ld_need_kind(c, body, APICAL_Y_MAP, "hebbian")) != APICAL_OK ||
        (st = apical_ld_check_keys(c, body, keys, "hebbian")) != APICAL_OK)
        return st;
    if (src->size != tgt->size)
        return apical_ld_fail(c, body, APICAL_E_INVALID,
                              "hebbian weights connect a population to one of the same size "
                              "(w_ij = sum_k xi_i^k xi_j^k / N); '%s' has %llu neurons, '%s' %llu",
                              src->name, (unsigned long long)src->size, tgt->name,
                              (unsigned long long)tgt->size);
    const apical_ynode *np = apical_ld_get(body, "patterns");
    const int file = apical_ld_get(body, "path") != NULL;
    if (np && file)
        return apical_ld_fail(c, np, APICAL_E_INVALID,
                              "hebbian: give either 'patterns' (a count, drawn from the seed) or "
                              "'path' (a file of patterns), not both");
    /* *d is set only once complete: a cue checks it (apical_ld_check_cues) */
    const apical_dist h = {APICAL_DIST_HEBBIAN, 0.0, 0.0, -HUGE_VAL, HUGE_VAL,
                           apical_ld_pos(c, n), NULL, src->size, 0, 0};
    if (!file) {
        uint64_t p = 0;
        if ((st = apical_ld_require(c, body, "patterns", "hebbian (or give 'path')", &np)) !=
                APICAL_OK ||
            (st = apical_ld_uint(c, np, "patterns", 1, 1u << 20, &p)) != APICAL_OK)
            return st;
        *d = h;
        d->n_pat = (uint32_t)p;
        return APICAL_OK;
    }
    char *path = NULL;
    const char *ds = NULL;
    if ((st = file_keys(c, body, "hebbian", "patterns", &path, &ds, &pv)) != APICAL_OK) {
        free(path);
        return st;
    }
    double *v = NULL, *by_unit = NULL;
    size_t rows = 0, cols = 0;
    apical_error herr = {0};
    if ((st = apical_h5_array_read(path, ds, &v, &rows, &cols, &herr)) != APICAL_OK) {
        free(path);
        return apical_ld_fail(c, pv, st, "%s", herr.msg);
    }
    if (cols != src->size || rows < 1 || rows > (1u << 20)) {
        st = apical_ld_fail(c, pv, APICAL_E_RANGE,
                            "%s: dataset '%s' holds %zu patterns of %zu units; population '%s' "
                            "has %llu neurons (a pattern is a row of +1 and -1, one per neuron)",
                            path, ds, rows, cols, src->name, (unsigned long long)src->size);
        goto out;
    }
    /* by unit, so that a weight is one contiguous dot product */
    if (!(by_unit = malloc(rows * cols * sizeof *by_unit))) {
        st = apical_ld_oom(c);
        goto out;
    }
    for (size_t k = 0; k < rows; k++)
        for (size_t i = 0; i < cols; i++) {
            const double x = v[k * cols + i];
            if (x != 1.0 && x != -1.0) {
                st = apical_ld_fail(c, pv, APICAL_E_RANGE,
                                    "%s: %s[%zu][%zu] = %g; patterns hold +1 and -1 only", path,
                                    ds, k, i, x);
                goto out;
            }
            by_unit[i * rows + k] = x;
        }
    *d = h;
    d->values = by_unit;
    d->n_pat = (uint32_t)rows;
    by_unit = NULL;
out:
    free(by_unit);
    free(v);
    free(path);
    return st;
}

/* initial: {s: {pattern: {projection: NAME, index: K | [K1, K2, K3], sign: -1, flip: 0.1}}}:
 * the cue of a Hopfield network whose patterns are drawn from the seed (a
 * file's patterns are cued with from_file). Checked against the projection
 * once projections are read (apical_ld_check_cues). */
apical_status apical_ld_init_pattern(apical_ld *c, const apical_ynode *n, const apical_field *f,
                                     const apical_pop_spec *pop, apical_dist *d)
{
    static const char *const top[] = {"pattern", NULL};
    static const char *const keys[] = {"projection", "index", "sign", "flip", NULL};
    char where[200];
    snprintf(where, sizeof where, "the initial %s of population '%s'", f->name, pop->name);
    apical_status st;
    if ((st = apical_ld_check_keys(c, n, top, where)) != APICAL_OK)
        return st;
    const apical_ynode *body = apical_ld_get(n, "pattern"), *v;
    if ((st = apical_ld_need_kind(c, body, APICAL_Y_MAP, "pattern")) != APICAL_OK ||
        (st = apical_ld_check_keys(c, body, keys, "pattern")) != APICAL_OK)
        return st;
    if (f->lo > -1.0 || f->hi < 1.0)
        return apical_ld_fail(c, body, APICAL_E_INVALID,
                              "a pattern cue sets %s to +1 or -1, outside its range [%g, %g]",
                              f->name, f->lo, f->hi);
    const char *proj = "";
    if ((st = apical_ld_require(c, body, "projection", "pattern", &v)) != APICAL_OK ||
        (st = apical_ld_string(c, v, "projection", &proj)) != APICAL_OK)
        return st;
    const apical_ynode *iv;
    if ((st = apical_ld_require(c, body, "index", "pattern", &iv)) != APICAL_OK)
        return st;
    const size_t n_idx = iv->kind == APICAL_Y_SEQ ? iv->n_kids : 1;
    if (n_idx == 0 || n_idx % 2 == 0 || n_idx > 15)
        return apical_ld_fail(c, iv, APICAL_E_INVALID,
                              "index is one pattern or a list of an odd number (at most 15) "
                              "whose majority is the cue (a mixture state); got %zu", n_idx);
    double *idx = malloc(n_idx * sizeof *idx);
    if (!idx)
        return apical_ld_oom(c);
    for (size_t k = 0; k < n_idx; k++) {
        uint64_t x = 0;
        if ((st = apical_ld_uint(c, iv->kind == APICAL_Y_SEQ ? iv->kids[k] : iv, "index", 0,
                                 (1u << 20) - 1, &x)) != APICAL_OK) {
            free(idx);
            return st;
        }
        idx[k] = (double)x;
    }
    double sign = 1.0, flip = 0.0;
    if ((v = apical_ld_get(body, "sign")) != NULL &&
        ((st = apical_ld_bounded(c, v, "1", "sign", (apical_bounds){-1.0, 1.0, 0}, &sign)) !=
             APICAL_OK ||
         (sign != 1.0 && sign != -1.0 &&
          (st = apical_ld_fail(c, v, APICAL_E_RANGE, "sign is 1 or -1, got %g", sign)) !=
              APICAL_OK))) {
        free(idx);
        return st;
    }
    if ((v = apical_ld_get(body, "flip")) != NULL &&
        (st = apical_ld_bounded(c, v, "1", "flip", (apical_bounds){0.0, 1.0, 0}, &flip)) !=
            APICAL_OK) {
        free(idx);
        return st;
    }
    *d = (apical_dist){APICAL_DIST_PATTERN, flip, sign, -HUGE_VAL, HUGE_VAL, apical_ld_pos(c, body),
                       idx, pop->size, (uint32_t)n_idx,
                       apical_rng_stream_id(APICAL_RNG_PATTERN, proj)};
    return APICAL_OK;
}

/* Every pattern cue names a projection with `hebbian: {patterns: P}` onto
 * its population, and indices below P. */
apical_status apical_ld_check_cues(apical_ld *c)
{
    const apical_net_spec *spec = c->spec;
    if (c->n_errs)
        return APICAL_OK; /* a projection it names may be the one that failed */
    for (size_t p = 0; p < spec->n_pops; p++) {
        const apical_pop_spec *pop = &spec->pops[p];
        for (size_t k = 0; pop->init && k < pop->model->n_state; k++) {
            const apical_dist *d = &pop->init[k];
            if (d->kind != APICAL_DIST_PATTERN)
                continue;
            const apical_proj_spec *pj = NULL;
            for (size_t j = 0; j < spec->n_projs && !pj; j++)
                if (spec->projs[j].name &&
                    apical_rng_stream_id(APICAL_RNG_PATTERN, spec->projs[j].name) == d->stream)
                    pj = &spec->projs[j];
            if (!pj || pj->weight.kind != APICAL_DIST_HEBBIAN || pj->weight.values ||
                pj->target != p)
                return apical_error_set(c->err, APICAL_E_REFERENCE, &d->pos,
                                        "the cue of population '%s' names no projection onto it "
                                        "with weight {hebbian: {patterns: P}} (cue a file's "
                                        "patterns with from_file)",
                                        pop->name);
            for (uint32_t j = 0; j < d->n_pat; j++)
                if (d->values[j] >= pj->weight.n_pat)
                    return apical_error_set(c->err, APICAL_E_RANGE, &d->pos,
                                            "the cue of population '%s' uses pattern %.0f, but "
                                            "projection '%s' stores %u (0 to %u)",
                                            pop->name, d->values[j], pj->name,
                                            pj->weight.n_pat, pj->weight.n_pat - 1);
        }
    }
    return APICAL_OK;
}
