/* Network file, section `projections:`: source, target, connectivity
 * (rules, or edges read from an HDF5 file by sim/h5in.c), receptor,
 * weights, delays, plasticity. */
#include "loader_sections.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apical/h5in.h"
#include "apical/limits.h"
#include "apical/units.h"

/* connectivity: {rule: from_file, path: FILE.h5, edges: NAME}: read the edge
 * population now, so that `apical check` finds every problem, check it
 * against the two populations, and store it on the projection grouped by
 * target (stable, so file order is kept within a target). */
static apical_status load_edges(apical_ld *c, const apical_ynode *n, apical_proj_spec *pr)
{
    const apical_pop_spec *src = &c->spec->pops[pr->source], *tgt = &c->spec->pops[pr->target];
    const apical_ynode *pv, *ev;
    const char *path = "", *name = pr->name;
    apical_status st;
    if ((st = apical_ld_require(c, n, "path", "connectivity", &pv)) != APICAL_OK ||
        (st = apical_ld_string(c, pv, "path", &path)) != APICAL_OK)
        return st;
    if ((ev = apical_ld_get(n, "edges")) != NULL && (st = apical_ld_string(c, ev, "edges", &name)) != APICAL_OK)
        return st;
    if (!path[0])
        return apical_ld_fail(c, pv, APICAL_E_INVALID, "path is empty; name an HDF5 file written by "
                                             "'apical run'");
    if (!name[0] || strchr(name, '/'))
        return apical_ld_fail(c, ev, APICAL_E_INVALID, "edges must name an edge population (a group "
                                             "under /edges), got '%s'", name);
    if (!(pr->edges_path = apical_ld_path(c, path)) || !(pr->edges_name = strdup(name)))
        return apical_ld_oom(c);
    apical_edge_data e;
    apical_error herr = {0};
    if ((st = apical_h5_edges_read(pr->edges_path, name, &e, &herr)) != APICAL_OK)
        return apical_ld_fail(c, st == APICAL_E_REFERENCE && ev ? ev : pv, st, "%s", herr.msg);
    const char *where = pr->edges_path;
    const apical_ynode *at = pv;
    if ((e.n_src && e.n_src != src->size) || (e.n_tgt && e.n_tgt != tgt->size)) {
        st = apical_ld_fail(c, at, APICAL_E_RANGE,
                  "%s: /edges/%s connects populations of %llu and %llu neurons, but source '%s' "
                  "has %llu and target '%s' has %llu",
                  where, name, (unsigned long long)e.n_src, (unsigned long long)e.n_tgt,
                  src->name, (unsigned long long)src->size, tgt->name,
                  (unsigned long long)tgt->size);
        goto out;
    }
    for (size_t k = 0; k < e.n; k++)
        if (e.src[k] >= src->size || e.tgt[k] >= tgt->size) {
            int s_bad = e.src[k] >= src->size;
            st = apical_ld_fail(c, at, APICAL_E_RANGE,
                      "%s: /edges/%s/%s[%zu] = %llu is out of range for %s population '%s' of "
                      "%llu neurons",
                      where, name, s_bad ? "source_node_id" : "target_node_id", k,
                      (unsigned long long)(s_bad ? e.src[k] : e.tgt[k]), s_bad ? "source" : "target",
                      s_bad ? src->name : tgt->name,
                      (unsigned long long)(s_bad ? src->size : tgt->size));
            goto out;
        }
    if (e.w) {
        /* weights in the target model's unit; convert from the file's */
        const char *want = tgt->model->weight_unit;
        if (e.weight_unit[0] && strcmp(e.weight_unit, want) != 0) {
            apical_dim d1, d2;
            double s1, s2;
            if (apical_unit_lookup(e.weight_unit, &d1, &s1) || apical_unit_lookup(want, &d2, &s2) ||
                d1 != d2) {
                st = apical_ld_fail(c, at, APICAL_E_UNIT,
                          "%s: /edges/%s/0/syn_weight is in '%s', but the weights of model %s are "
                          "in '%s'",
                          where, name, e.weight_unit, tgt->model->name, want);
                goto out;
            }
            for (size_t k = 0; k < e.n; k++)
                e.w[k] *= s1 / s2;
        }
        apical_bounds wb = apical_ld_weight_bounds(tgt->model);
        for (size_t k = 0; k < e.n; k++)
            if (e.w[k] < 0.0 && wb.lo == 0.0) {
                st = apical_ld_fail(c, at, APICAL_E_RANGE,
                          "%s: /edges/%s/0/syn_weight[%zu] = %g %s: %s weights must be >= 0",
                          where, name, k, e.w[k], want, tgt->model->name);
                goto out;
            } else if (!(e.w[k] >= wb.lo && e.w[k] <= wb.hi)) {
                st = apical_ld_fail(c, at, APICAL_E_RANGE,
                          "%s: /edges/%s/0/syn_weight[%zu] = %g %s: weights must be in [%g, %g] "
                          "%s",
                          where, name, k, e.w[k], want, wb.lo, wb.hi, want);
                goto out;
            }
    }
    pr->n_edges = e.n;
    pr->edge_ptr = calloc(tgt->size + 2, sizeof *pr->edge_ptr);
    pr->edge_src = malloc((e.n + 1) * sizeof *pr->edge_src);
    pr->edge_tgt = malloc((e.n + 1) * sizeof *pr->edge_tgt);
    if (e.w)
        pr->edge_w = malloc((e.n + 1) * sizeof *pr->edge_w);
    if (e.d)
        pr->edge_d = malloc((e.n + 1) * sizeof *pr->edge_d);
    if (!pr->edge_ptr || !pr->edge_src || !pr->edge_tgt || (e.w && !pr->edge_w) ||
        (e.d && !pr->edge_d)) {
        st = apical_ld_oom(c);
        goto out;
    }
    /* counting sort by target */
    for (size_t k = 0; k < e.n; k++)
        pr->edge_ptr[e.tgt[k] + 2]++;
    for (uint64_t t = 0; t < tgt->size; t++)
        pr->edge_ptr[t + 2] += pr->edge_ptr[t + 1];
    for (size_t k = 0; k < e.n; k++) {
        uint64_t j = pr->edge_ptr[e.tgt[k] + 1]++;
        pr->edge_src[j] = e.src[k];
        pr->edge_tgt[j] = e.tgt[k];
        if (e.w)
            pr->edge_w[j] = e.w[k];
        if (e.d)
            pr->edge_d[j] = e.d[k];
    }
    st = APICAL_OK;
out:
    apical_edge_data_free(&e);
    return st;
}

static apical_status parse_connectivity(apical_ld *c, const apical_ynode *n, apical_proj_spec *pr)
{
    static const char *const rules[] = {"all_to_all",     "one_to_one",      "bernoulli",
                                        "fixed_indegree", "fixed_outdegree", "from_file", NULL};
    static const char *const keys[] = {"rule", "p", "k", "autapses", "path", "edges", NULL};
    const apical_pop_spec *src = &c->spec->pops[pr->source], *tgt = &c->spec->pops[pr->target];
    const apical_ynode *rule = n, *v;
    const char *s = "";
    apical_status st;
    char list[200];
    apical_ld_join(rules, apical_ld_count_names(rules), list, sizeof list);
    if (n->kind == APICAL_Y_MAP) {
        if ((st = apical_ld_check_keys(c, n, keys, "connectivity")) != APICAL_OK ||
            (st = apical_ld_require(c, n, "rule", "connectivity", &rule)) != APICAL_OK)
            return st;
    } else if (n->kind != APICAL_Y_SCALAR || n->is_null) {
        char b[80];
        return apical_ld_fail(c, n, APICAL_E_TYPE,
                    "connectivity must be a rule name (%s) or a mapping such as "
                    "{rule: bernoulli, p: 0.1}; got %s",
                    list, apical_ld_describe(n, b, sizeof b));
    }
    if ((st = apical_ld_string(c, rule, "rule", &s)) != APICAL_OK)
        return st;
    size_t r = 0;
    while (rules[r] && strcmp(rules[r], s) != 0)
        r++;
    if (!rules[r])
        return apical_ld_fail(c, rule, APICAL_E_UNKNOWN_NAME,
                    "unknown connectivity rule '%s'; valid rules: %s", s, list);
    pr->conn = (apical_conn_kind)r;
    const int needs_p = pr->conn == APICAL_CONN_BERNOULLI;
    const int needs_k =
        pr->conn == APICAL_CONN_FIXED_INDEGREE || pr->conn == APICAL_CONN_FIXED_OUTDEGREE;
    const int file = pr->conn == APICAL_CONN_FROM_FILE;
    if (n->kind != APICAL_Y_MAP && (needs_p || needs_k || file))
        return apical_ld_fail(c, n, APICAL_E_MISSING_KEY, "rule '%s' needs '%s': write {rule: %s, %s: ...}",
                    s, needs_p ? "p" : needs_k ? "k" : "path", s,
                    needs_p ? "p" : needs_k ? "k" : "path");
    /* Keys that belong to another rule are mistakes, not harmless extras. */
    for (size_t i = 0; n->kind == APICAL_Y_MAP && i < n->n_kids; i += 2) {
        const apical_ynode *k = n->kids[i];
        const int file_key = !strcmp(k->text, "path") || !strcmp(k->text, "edges");
        if ((strcmp(k->text, "p") == 0 && !needs_p) || (strcmp(k->text, "k") == 0 && !needs_k) ||
            (file_key && !file) || (file && !strcmp(k->text, "autapses")))
            return apical_ld_fail(c, k, APICAL_E_UNKNOWN_KEY,
                        "key '%s' does not apply to rule '%s'; valid keys: rule, %s", k->text, s,
                        file ? "path, edges" : needs_p ? "p, autapses" : needs_k ? "k, autapses"
                                                                          : "autapses");
    }
    if (file)
        return load_edges(c, n, pr);
    if (n->kind == APICAL_Y_MAP && (v = apical_ld_get(n, "autapses")) != NULL &&
        (st = apical_ld_bool(c, v, "autapses", &pr->autapses)) != APICAL_OK)
        return st;
    const int self = pr->source == pr->target && !pr->autapses;
    if (needs_p) {
        if ((st = apical_ld_require(c, n, "p", "connectivity", &v)) != APICAL_OK ||
            (st = apical_ld_bounded(c, v, "1", "p", (apical_bounds){0.0, 1.0, 0}, &pr->p)) != APICAL_OK)
            return st;
    }
    if (needs_k) {
        if ((st = apical_ld_require(c, n, "k", "connectivity", &v)) != APICAL_OK ||
            (st = apical_ld_uint(c, v, "k", 0, UINT64_MAX, &pr->k)) != APICAL_OK)
            return st;
        const int in = pr->conn == APICAL_CONN_FIXED_INDEGREE;
        const apical_pop_spec *pool = in ? src : tgt;
        uint64_t avail = pool->size - (self ? 1 : 0);
        if (pr->k > avail)
            return apical_ld_fail(c, v, APICAL_E_RANGE,
                        "k = %llu is more than the %llu %s neurons available in '%s'%s "
                        "(connections are drawn without replacement)",
                        (unsigned long long)pr->k, (unsigned long long)avail,
                        in ? "source" : "target", pool->name,
                        self ? " without autapses" : "");
    }
    if (pr->conn == APICAL_CONN_ONE_TO_ONE && src->size != tgt->size)
        return apical_ld_fail(c, rule, APICAL_E_RANGE,
                    "one_to_one needs populations of equal size, but '%s' has %llu and '%s' "
                    "has %llu neurons",
                    src->name, (unsigned long long)src->size, tgt->name,
                    (unsigned long long)tgt->size);
    return APICAL_OK;
}

/* Named parameter sets from the literature. */
static const struct rule_preset {
    const char *rule, *name;
    const char *const *keys;
    const double *values;
} rule_presets[] = {
    /* Pfister & Gerstner 2006, Table 4, visual cortex, all-to-all */
    {"stdp_triplet", "visual_cortex",
     (const char *const[]){"tau_plus", "tau_x", "tau_minus", "tau_y", "A2_plus", "A3_plus",
                           "A2_minus", "A3_minus", NULL},
     (const double[]){16.8, 101.0, 33.7, 125.0, 5e-10, 6.2e-3, 7e-3, 2.3e-4}},
};

/* plasticity: {rule: NAME, preset: NAME?, <parameter>: <quantity>, ...};
 * parameters with unit "w" take the projection's weight unit. */
static apical_status parse_plasticity(apical_ld *c, const apical_ynode *n, apical_proj_spec *pr,
                                      const char *weight_unit)
{
    apical_status st;
    const apical_ynode *v;
    const char *name = "";
    if ((st = apical_ld_need_kind(c, n, APICAL_Y_MAP, "plasticity")) != APICAL_OK ||
        (st = apical_ld_require(c, n, "rule", "plasticity", &v)) != APICAL_OK ||
        (st = apical_ld_string(c, v, "rule", &name)) != APICAL_OK)
        return st;
    pr->rule = apical_plasticity_find(name);
    pr->rule_pos = apical_ld_pos(c, v);
    if (!pr->rule) {
        char names[512];
        apical_plasticity_names(names, sizeof names);
        return apical_ld_fail(c, v, APICAL_E_UNKNOWN_NAME, "unknown plasticity rule '%s'; valid rules: %s",
                    name, names);
    }
    const apical_plasticity_type *r = pr->rule;
    if (!(pr->rule_param = malloc((r->n_params + 1) * sizeof *pr->rule_param)))
        return apical_ld_oom(c);
    for (size_t k = 0; k < r->n_params; k++)
        pr->rule_param[k] = r->params[k].def;
    if ((v = apical_ld_get(n, "preset")) != NULL) {
        const char *pn = "";
        if ((st = apical_ld_string(c, v, "preset", &pn)) != APICAL_OK)
            return st;
        const struct rule_preset *ps = NULL;
        for (size_t k = 0; k < sizeof rule_presets / sizeof rule_presets[0]; k++)
            if (!strcmp(rule_presets[k].rule, r->name) && !strcmp(rule_presets[k].name, pn))
                ps = &rule_presets[k];
        if (!ps)
            return apical_ld_fail(c, v, APICAL_E_UNKNOWN_NAME, "unknown preset '%s' for rule %s%s", pn,
                        r->name, strcmp(r->name, "stdp_triplet") ? "" : "; presets: visual_cortex");
        for (size_t k = 0; ps->keys[k]; k++)
            pr->rule_param[apical_field_index(r->params, r->n_params, ps->keys[k])] = ps->values[k];
    }
    for (size_t i = 0; i < n->n_kids; i += 2) {
        const apical_ynode *key = n->kids[i], *val = n->kids[i + 1];
        if (!strcmp(key->text, "rule") || !strcmp(key->text, "preset"))
            continue;
        size_t k = apical_field_index(r->params, r->n_params, key->text);
        if (k == (size_t)-1) {
            char valid[1024];
            apical_ld_join_fields(r->params, r->n_params, valid, sizeof valid);
            return apical_ld_fail(c, key, APICAL_E_UNKNOWN_KEY,
                        "unknown parameter '%s' of plasticity rule %s; valid: rule, preset, %s",
                        key->text, r->name, valid);
        }
        const apical_field *f = &r->params[k];
        const char *unit = strcmp(f->unit, "w") ? f->unit : weight_unit;
        if ((st = apical_ld_bounded(c, val, unit, f->name, (apical_bounds){f->lo, f->hi, 0},
                              &pr->rule_param[k])) != APICAL_OK)
            return st;
    }
    if (r->check) {
        char why[256];
        size_t bad = r->check(pr->rule_param, why, sizeof why);
        if (bad)
            return apical_ld_fail(c, n, APICAL_E_RANGE, "plasticity: %s", why);
    }
    return APICAL_OK;
}

apical_status apical_ld_projection(apical_ld *c, size_t idx, const apical_ynode *n)
{
    static const char *const keys[] = {"name", "source", "target", "connectivity",
                                       "receptor", "weight", "delay", "plasticity", NULL};
    apical_proj_spec *pr = &c->spec->projs[idx];
    const apical_ynode *v;
    char where[700], fallback[600];
    apical_status st;
    {
        /* the default name, when source and target are plain names */
        const apical_ynode *sn = n->kind == APICAL_Y_MAP ? apical_ld_get(n, "source") : NULL;
        const apical_ynode *tn = n->kind == APICAL_Y_MAP ? apical_ld_get(n, "target") : NULL;
        int named = sn && tn && sn->kind == APICAL_Y_SCALAR && tn->kind == APICAL_Y_SCALAR &&
                    !sn->is_null && !tn->is_null;
        if (named)
            snprintf(fallback, sizeof fallback, "%.250s->%.250s", sn->text, tn->text);
        apical_ld_item_where(n, "projection", named ? fallback : NULL, "projections", idx, where,
                             sizeof where);
    }
    if ((st = apical_ld_need_kind(c, n, APICAL_Y_MAP, where)) != APICAL_OK ||
        (st = apical_ld_check_keys(c, n, keys, where)) != APICAL_OK)
        return st;
    pr->pos = apical_ld_pos(c, n);
    pr->autapses = 1;
    if ((st = apical_ld_require(c, n, "source", where, &v)) != APICAL_OK ||
        (st = apical_ld_pop_ref(c, v, "source", &pr->source)) != APICAL_OK ||
        (st = apical_ld_require(c, n, "target", where, &v)) != APICAL_OK ||
        (st = apical_ld_pop_ref(c, v, "target", &pr->target)) != APICAL_OK)
        return st;
    const apical_pop_spec *src = &c->spec->pops[pr->source], *tgt = &c->spec->pops[pr->target];
    snprintf(fallback, sizeof fallback, "%s->%s", c->spec->pops[pr->source].name, tgt->name);
    if ((st = apical_ld_item_name(c, n, fallback, "projection", &pr->name)) != APICAL_OK)
        return st;
    for (size_t j = 0; j < idx; j++)
        if (c->spec->projs[j].name && strcmp(c->spec->projs[j].name, pr->name) == 0)
            return apical_ld_name_taken(c, n, "projection", pr->name, c->spec->projs[j].pos.line);
    if ((st = apical_ld_require(c, n, "connectivity", where, &v)) != APICAL_OK ||
        (st = parse_connectivity(c, v, pr)) != APICAL_OK)
        return st;
    /* Expected, not exact for the random rules; the build checks the count
     * it makes. Doubles: 2^32 x 2^32 pairs would wrap a uint64. */
    double per_part;
    apical_proj_synapses(c->spec, pr, &per_part);
    c->syn_per_part += per_part;
    if (c->syn_per_part > (double)APICAL_MAX_SYN_PER_PARTITION) {
        const apical_ynode *at = v->kind == APICAL_Y_MAP && apical_ld_get(v, "rule") ? apical_ld_get(v, "rule") : v;
        return apical_ld_fail(c, at, APICAL_E_RANGE,
                    "projection '%s' brings one partition to %.0f synapses; at most %llu per "
                    "partition (32-bit offsets): raise simulation.partitions (now %u), if the "
                    "memory allows: its synapses alone need ~%.3g GiB",
                    pr->name, c->syn_per_part, APICAL_MAX_SYN_PER_PARTITION,
                    c->spec->sim.partitions, apical_proj_memory(c->spec, pr) / 1073741824.0);
    }
    if ((st = apical_ld_require(c, n, "receptor", where, &v)) != APICAL_OK ||
        (st = apical_ld_receptor(c, v, tgt->model, &pr->receptor)) != APICAL_OK)
        return st;
    /* from_file: weight and delay come from the file unless given here */
    const int file = pr->conn == APICAL_CONN_FROM_FILE;
    if (file && !apical_ld_get(n, "weight") && !pr->edge_w)
        return apical_ld_fail(c, apical_ld_get(n, "connectivity"), APICAL_E_MISSING_KEY,
                    "%s: /edges/%s has no weights (0/syn_weight); give 'weight' in the projection",
                    pr->edges_path, pr->edges_name);
    if (file && !apical_ld_get(n, "delay") && !pr->edge_d)
        return apical_ld_fail(c, apical_ld_get(n, "connectivity"), APICAL_E_MISSING_KEY,
                    "%s: /edges/%s has no delays (0/delay); give 'delay' in the projection",
                    pr->edges_path, pr->edges_name);
    if (!(file && pr->edge_w && !apical_ld_get(n, "weight"))) {
        if ((st = apical_ld_require(c, n, "weight", where, &v)) != APICAL_OK)
            return st;
        if (v->kind == APICAL_Y_MAP && apical_ld_get(v, "hebbian")) {
            if ((st = apical_ld_hebbian(c, v, src, tgt, &pr->weight)) != APICAL_OK)
                return st;
        } else if ((st = apical_ld_dist(c, v, tgt->model->weight_unit, "weight",
                                        apical_ld_weight_bounds(tgt->model), &pr->weight)) !=
                   APICAL_OK) {
            return st;
        }
        free(pr->edge_w);
        pr->edge_w = NULL;
    }
    if (!(file && pr->edge_d && !apical_ld_get(n, "delay"))) {
        if ((st = apical_ld_require(c, n, "delay", where, &v)) != APICAL_OK ||
            (st = apical_ld_dist(c, v, "ms", "delay", (apical_bounds){APICAL_MIN_TIME, APICAL_MAX_TIME, APICAL_LO_GIVEN},
                           &pr->delay)) !=
                APICAL_OK)
            return st;
        free(pr->edge_d);
        pr->edge_d = NULL;
    }
    if ((v = apical_ld_get(n, "plasticity")) != NULL) {
        if (strcmp(tgt->stepper, "exact") == 0)
            return apical_ld_fail(c, v, APICAL_E_INVALID,
                        "plasticity needs the target's state at every input, but population '%s' "
                        "uses stepper 'exact'; give it a GSL stepper such as rkf45",
                        tgt->name);
        return parse_plasticity(c, v, pr, tgt->model->weight_unit);
    }
    return APICAL_OK;
}
