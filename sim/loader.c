/* Network-file loader: YAML text -> validated apical_net_spec.
 *
 * The file is read into a tree of positioned nodes (sim/loader_core.c),
 * then walked section by section, each section by its own file:
 * sim/loader_simulation.c, loader_populations.c, loader_projections.c,
 * loader_inputs.c, loader_recorders.c, and the protocol section by the
 * protocol its `type:` names (models/, include/apical/protocol.h). The
 * first problem found ends the load with exactly one apical_error naming
 * file:line:col; the loader never prints. Everything allocated hangs off the
 * spec (or the tree) as soon as it exists, so one apical_spec_free() /
 * apical_ydoc_free() cleans up every error path. */
#include "apical/spec.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apical/paths.h"
#include "apical/protocol.h"
#include "loader_sections.h"

/* protocol: {type: NAME, ...}: the protocol NAME (default: the first
 * registered) parses the rest of the section into its own spec, then fits
 * the run's duration to itself. */
static apical_status parse_protocol(apical_ld *c, const apical_ynode *n)
{
    const apical_protocol_type *t = apical_protocol_at(0);
    const apical_ynode *v;
    apical_status st;
    if ((st = apical_ld_need_kind(c, n, APICAL_Y_MAP, "protocol")) != APICAL_OK)
        return st;
    if ((v = apical_ld_get(n, "type")) != NULL) {
        const char *s = "";
        if ((st = apical_ld_string(c, v, "type", &s)) != APICAL_OK)
            return st;
        if (!(t = apical_protocol_find(s))) {
            char names[400];
            apical_protocol_names(names, sizeof names);
            return apical_ld_fail(c, v, APICAL_E_UNKNOWN_NAME,
                                  "unknown protocol type '%s'; valid types: %s", s, names);
        }
    }
    c->spec->protocol_type = t;
    if ((st = t->parse(c, n, &c->spec->protocol)) != APICAL_OK)
        return st;
    return apical_protocol_fit(c->spec, c->err);
}

static apical_status parse_root(apical_ld *c, const apical_ynode *root)
{
    static const char *const keys[] = {"name",   "simulation", "populations", "projections",
                                       "inputs", "recorders",  "protocol",    NULL};
    apical_net_spec *spec = c->spec;
    const apical_ynode *v;
    const char *s = "";
    apical_status st;
    if (!root || (root->kind == APICAL_Y_SCALAR && root->is_null)) {
        static const apical_ynode start = {.kind = APICAL_Y_SCALAR, .line = 1, .col = 1};
        return apical_ld_fail(c, &start, APICAL_E_MISSING_KEY,
                    "the network file is empty; it needs at least 'simulation' and "
                    "'populations'");
    }
    if (root->kind != APICAL_Y_MAP) {
        char b[80];
        return apical_ld_fail(c, root, APICAL_E_TYPE,
                    "a network file must be a mapping with keys such as 'simulation' and "
                    "'populations', got %s",
                    apical_ld_describe(root, b, sizeof b));
    }
    if ((st = apical_ld_check_keys(c, root, keys, "the network file")) != APICAL_OK)
        return st;
    if ((v = apical_ld_get(root, "name")) != NULL) {
        if ((st = apical_ld_string(c, v, "name", &s)) != APICAL_OK)
            return st;
        if (!(spec->name = strdup(s)))
            return apical_ld_oom(c);
    }
    c->has_protocol = apical_ld_get(root, "protocol") != NULL;
    /* With an error list, a failed section is recorded and the next one
     * read; the sections after `populations` refer to it, so they are read
     * only when the section itself was (each bad population is skipped
     * alone). */
    if (((st = apical_ld_require(c, root, "simulation", "the network file", &v)) != APICAL_OK ||
         (st = apical_ld_simulation(c, v)) != APICAL_OK) &&
        (st = apical_ld_recover(c, st)) != APICAL_OK)
        return st;
    if ((st = apical_ld_require(c, root, "populations", "the network file", &v)) != APICAL_OK ||
        (st = apical_ld_populations(c, v)) != APICAL_OK)
        return apical_ld_recover(c, st);
    if ((v = apical_ld_get(root, "projections")) != NULL &&
        (st = apical_ld_list(c, v, "projections", (void **)&spec->projs, &spec->n_projs,
                             sizeof *spec->projs, apical_ld_projection)) != APICAL_OK &&
        (st = apical_ld_recover(c, st)) != APICAL_OK)
        return st;
    if ((st = apical_ld_check_cues(c)) != APICAL_OK && (st = apical_ld_recover(c, st)) != APICAL_OK)
        return st;
    if ((v = apical_ld_get(root, "inputs")) != NULL &&
        (st = apical_ld_list(c, v, "inputs", (void **)&spec->inputs, &spec->n_inputs,
                             sizeof *spec->inputs, apical_ld_input)) != APICAL_OK &&
        (st = apical_ld_recover(c, st)) != APICAL_OK)
        return st;
    if ((v = apical_ld_get(root, "recorders")) != NULL &&
        (st = apical_ld_list(c, v, "recorders", (void **)&spec->recorders, &spec->n_recorders,
                             sizeof *spec->recorders, apical_ld_recorder)) != APICAL_OK &&
        (st = apical_ld_recover(c, st)) != APICAL_OK)
        return st;
    /* The protocol refers to everything before it, and its parser expects
     * every item complete: read only when all of that is valid, and then
     * up to its first error. */
    if ((v = apical_ld_get(root, "protocol")) != NULL && c->n_errs == 0) {
        apical_error *errs = c->errs;
        c->errs = NULL;
        st = parse_protocol(c, v);
        c->errs = errs;
        if (st != APICAL_OK)
            return apical_ld_recover(c, st);
    }
    return APICAL_OK;
}

/* ------------------------------------------------------------------------ */
/* Public API                                                                */

static char *copy_text(const char *s, size_t len)
{
    char *out = malloc(len + 1);
    if (out) {
        memcpy(out, s, len);
        out[len] = '\0';
    }
    return out;
}

/* Takes ownership of text (len bytes plus a terminating NUL). */
static apical_status load_text(const char *path, char *text, size_t len,
                               const apical_load_opts *opts, apical_net_spec **out,
                               apical_error *err)
{
    apical_status st;
    apical_ydoc *doc = NULL;
    const apical_ynode *root = NULL;
    apical_net_spec *spec = calloc(1, sizeof *spec);
    if (!spec) {
        free(text);
        return apical_error_set(err, APICAL_E_NOMEM, NULL, "out of memory");
    }
    spec->text = text;
    if (!(spec->path = strdup(path))) {
        st = apical_error_set(err, APICAL_E_NOMEM, NULL, "out of memory");
        goto fail;
    }
    spec->sim.seed = 1;
    spec->sim.partitions = 1;
    spec->sim.threads = 1;
    apical_ld c = {.spec = spec, .err = err, .stop = opts ? opts->stop : NULL};
    if (opts && opts->n_sets) {
        c.sets = opts->sets;
        c.n_sets = opts->n_sets;
    }
    if (opts && opts->errors && opts->max_errors) {
        c.errs = opts->errors;
        c.max_errs = opts->max_errors;
    }

    if ((st = apical_yaml_read(spec->path, text, len, c.stop, &doc, &root, err)) != APICAL_OK) {
        st = apical_ld_recover(&c, st); /* the only error: the tree is not whole */
        goto fail;
    }
    if ((st = apical_ld_apply_sets(&c, doc)) != APICAL_OK)
        goto fail;
    root = apical_ydoc_root(doc);
    /* a path that went astray would make every later message misleading */
    if (c.n_errs == 0 && (st = parse_root(&c, root)) != APICAL_OK)
        goto fail;
    if (c.n_errs == 0) {
        apical_ydoc_free(doc);
        free(c.pop_failed);
        *out = spec;
        return APICAL_OK;
    }
fail:
    if (c.errs && c.n_errs && apical_exit_code(st) != 1) {
        /* file order; stable, so one line's errors keep their order. --set
         * items (no position) come first, as they come first in the
         * command. */
        size_t n = c.n_errs < c.max_errs ? c.n_errs : c.max_errs;
        for (size_t i = 1; i < n; i++) {
            apical_error e = c.errs[i];
            size_t j = i;
            while (j > 0 && (c.errs[j - 1].pos.line > e.pos.line ||
                             (c.errs[j - 1].pos.line == e.pos.line &&
                              c.errs[j - 1].pos.col > e.pos.col))) {
                c.errs[j] = c.errs[j - 1];
                j--;
            }
            c.errs[j] = e;
        }
        for (size_t i = 0; i < n; i++)
            if (c.errs[i].pos.file)
                c.errs[i].pos.file = c.errs[i].file; /* moved: point at its own copy */
        if (err)
            *err = c.errs[0];
        if (err && err->pos.file)
            err->pos.file = err->file;
        st = c.errs[0].code;
    }
    if (opts && opts->n_errors)
        *opts->n_errors = c.errs ? c.n_errs : 0;
    apical_ydoc_free(doc);
    free(c.pop_failed);
    apical_spec_free(spec);
    return st;
}

apical_status apical_spec_load_string_opts(const char *name, const char *text,
                                           const apical_load_opts *opts, apical_net_spec **out,
                                           apical_error *err)
{
    if (!out || !text)
        return apical_error_set(err, APICAL_E_INVALID, NULL,
                                "apical_spec_load_string: NULL argument");
    *out = NULL;
    size_t len = strlen(text);
    char *copy = copy_text(text, len);
    if (!copy)
        return apical_error_set(err, APICAL_E_NOMEM, NULL, "out of memory");
    return load_text(name ? name : "<string>", copy, len, opts, out, err);
}

apical_status apical_spec_load_string(const char *name, const char *text,
                                      apical_net_spec **out, apical_error *err)
{
    return apical_spec_load_string_opts(name, text, NULL, out, err);
}

apical_status apical_spec_load_opts(const char *path, const apical_load_opts *opts,
                                    apical_net_spec **out, apical_error *err)
{
    if (!out || !path)
        return apical_error_set(err, APICAL_E_INVALID, NULL, "apical_spec_load: NULL argument");
    *out = NULL;
    FILE *f = apical_open_input(path, "network file", err);
    if (!f)
        return APICAL_E_IO;
    const volatile sig_atomic_t *stop = opts ? opts->stop : NULL;
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        char *nb = buf;
        if (len + 1 >= cap) {
            size_t want = cap ? 2 * cap : 4097;
            while (want < len + 4097)
                want *= 2;
            if ((nb = realloc(buf, want)) != NULL)
                cap = want;
        }
        if (!nb) {
            free(buf);
            fclose(f);
            return apical_error_set(err, APICAL_E_NOMEM, NULL, "out of memory reading '%s'",
                                    path);
        }
        buf = nb;
        size_t got = fread(buf + len, 1, cap - len - 1, f);
        len += got;
        if (got == 0 || (stop && *stop))
            break;
    }
    if (ferror(f) || (stop && *stop)) {
        int e = errno;
        free(buf);
        fclose(f);
        if (stop && *stop)
            return apical_error_set(err, APICAL_E_INTERRUPTED, NULL,
                                    "interrupted while reading '%s'", path);
        return apical_error_set(err, APICAL_E_IO, NULL, "cannot read network file '%s': %s",
                                path, strerror(e));
    }
    fclose(f);
    buf[len] = '\0';
    return load_text(path, buf, len, opts, out, err);
}

apical_status apical_spec_load(const char *path, apical_net_spec **out, apical_error *err)
{
    return apical_spec_load_opts(path, NULL, out, err);
}

void apical_spec_free(apical_net_spec *spec)
{
    if (!spec)
        return;
    for (size_t i = 0; i < spec->n_pops; i++) {
        free(spec->pops[i].name);
        free(spec->pops[i].param);
        for (size_t k = 0; spec->pops[i].init && k < spec->pops[i].model->n_state; k++)
            free(spec->pops[i].init[k].values);
        free(spec->pops[i].init);
        free(spec->pops[i].stepper);
    }
    free(spec->pops);
    for (size_t i = 0; i < spec->n_projs; i++) {
        free(spec->projs[i].name);
        free(spec->projs[i].weight.values);
        free(spec->projs[i].rule_param);
        free(spec->projs[i].edges_path);
        free(spec->projs[i].edges_name);
        free(spec->projs[i].edge_src);
        free(spec->projs[i].edge_tgt);
        free(spec->projs[i].edge_w);
        free(spec->projs[i].edge_d);
        free(spec->projs[i].edge_ptr);
    }
    free(spec->projs);
    for (size_t i = 0; i < spec->n_inputs; i++) {
        free(spec->inputs[i].name);
        free(spec->inputs[i].nodes);
        free(spec->inputs[i].times);
        free(spec->inputs[i].values);
    }
    free(spec->inputs);
    if (spec->protocol_type)
        spec->protocol_type->free_spec(spec->protocol);
    for (size_t i = 0; i < spec->n_recorders; i++) {
        free(spec->recorders[i].name);
        free(spec->recorders[i].nodes);
        free(spec->recorders[i].vars);
    }
    free(spec->recorders);
    for (size_t i = 0; i < spec->n_files; i++)
        free(spec->files[i]);
    free(spec->files);
    free(spec->sim.stepper);
    free(spec->name);
    free(spec->text);
    free(spec->path);
    free(spec);
}
