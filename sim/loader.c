/* Network-file loader: YAML text -> validated apical_net_spec.
 *
 * Two stages. First the YAML event stream from libfyaml is turned into a
 * small tree of our own (ynode) in which every node, collections included,
 * keeps its 1-based line and column: libfyaml 0.7 exposes positions only for
 * tokens, and its document API cannot say where a block mapping starts, which
 * is what "missing key" messages must point at. The tree builder also rejects
 * duplicate keys and undefined aliases, and libfyaml's own syntax diagnostics
 * are collected in a fy_diag instead of being printed.
 *
 * Second, the tree is walked section by section. The first problem found
 * ends the load with exactly one apical_error naming file:line:col; the
 * loader never prints. Everything allocated hangs off the spec (or the tree)
 * as soon as it exists, so one apical_spec_free() / ydoc_free() cleans up
 * every error path. */
#include "apical/spec.h"

#include <errno.h>
#include <libfyaml.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apical/h5in.h"
#include "apical/protocol.h"
#include "apical/units.h"

#if defined(__GNUC__)
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#else
#define PRINTF_LIKE(f, a)
#endif

/* ------------------------------------------------------------------------ */
/* YAML tree                                                                 */

typedef enum ykind { Y_SCALAR, Y_MAP, Y_SEQ } ykind;

typedef struct ynode ynode;
struct ynode {
    ykind kind;
    int line, col;   /* 1-based */
    char *text;      /* scalar: NUL-terminated content */
    int is_null;     /* plain "", "~", "null" */
    int guessed;     /* no position of its own; borrowed from the parent */
    ynode **kids;    /* sequence: items; mapping: key0, value0, key1, ... */
    size_t n_kids;
    size_t cap_kids;
};

typedef struct anchor {
    char *name;
    ynode *node;
} anchor;

/* Aliases make the tree a DAG, so nodes are owned by this flat list rather
 * than by their parents. */
typedef struct ydoc {
    ynode **all;
    size_t n_all, cap_all;
    anchor *anchors;
    size_t n_anchors, cap_anchors;
    ynode *root;
} ydoc;

static void ydoc_free(ydoc *d)
{
    for (size_t i = 0; i < d->n_all; i++) {
        free(d->all[i]->text);
        free(d->all[i]->kids);
        free(d->all[i]);
    }
    free(d->all);
    for (size_t i = 0; i < d->n_anchors; i++)
        free(d->anchors[i].name);
    free(d->anchors);
    memset(d, 0, sizeof *d);
}

/* Make room in arr (elements of size sz) for at least need elements.
 * Returns arr, possibly moved, or NULL when out of memory (arr untouched). */
static void *grow(void *arr, size_t *cap, size_t need, size_t sz)
{
    if (need <= *cap)
        return arr;
    size_t nc = *cap ? *cap * 2 : 8;
    while (nc < need)
        nc *= 2;
    void *p = realloc(arr, nc * sz);
    if (p)
        *cap = nc;
    return p;
}

static ynode *ynode_new(ydoc *d, ykind kind, const struct fy_mark *m)
{
    ynode **all = grow(d->all, &d->cap_all, d->n_all + 1, sizeof *d->all);
    if (!all)
        return NULL;
    d->all = all;
    ynode *n = calloc(1, sizeof *n);
    if (!n)
        return NULL;
    n->kind = kind;
    n->line = m ? m->line + 1 : 0;
    n->col = m ? m->column + 1 : 0;
    d->all[d->n_all++] = n;
    return n;
}

static char *strndup_or_empty(const char *s, size_t len)
{
    char *r = malloc(len + 1);
    if (!r)
        return NULL;
    if (len)
        memcpy(r, s, len);
    r[len] = '\0';
    return r;
}

#define MAX_DEPTH 64

typedef struct yparse {
    ydoc *doc;
    const char *path;
    apical_error *err;
    ynode **stack;   /* open collections */
    char **pending;  /* their anchor names (or NULL), registered at the end */
    size_t depth, cap;
    int n_docs;
    int last_line, last_col; /* start of the last event that had a mark */
} yparse;

static apical_status yerr(yparse *p, int line, int col, apical_status code,
                          const char *fmt, ...) PRINTF_LIKE(5, 6);

static apical_status yerr(yparse *p, int line, int col, apical_status code,
                          const char *fmt, ...)
{
    char msg[900];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    apical_srcpos pos = {p->path, line, col};
    return apical_error_set(p->err, code, &pos, "%s", msg);
}

static apical_status nomem(yparse *p)
{
    return apical_error_set(p->err, APICAL_E_NOMEM, NULL, "out of memory while reading YAML");
}

/* Copy of an anchor token's name, "" for none; NULL only when out of memory. */
static char *anchor_name(struct fy_token *tok)
{
    size_t len = 0;
    const char *s = tok ? fy_token_get_text(tok, &len) : NULL;
    return strndup_or_empty(s ? s : "", s ? len : 0);
}

/* Takes ownership of name. */
static apical_status add_anchor(yparse *p, char *name, ynode *n)
{
    ydoc *d = p->doc;
    if (!name[0]) {
        free(name);
        return APICAL_OK;
    }
    anchor *anchors = grow(d->anchors, &d->cap_anchors, d->n_anchors + 1, sizeof *anchors);
    if (!anchors) {
        free(name);
        return nomem(p);
    }
    d->anchors = anchors;
    d->anchors[d->n_anchors++] = (anchor){name, n};
    return APICAL_OK;
}

/* Put n into the open collection on top of the stack (or make it the root). */
static apical_status attach(yparse *p, ynode *n)
{
    if (p->depth == 0) {
        p->doc->root = n;
        return APICAL_OK;
    }
    ynode *parent = p->stack[p->depth - 1];
    ynode **kids = grow(parent->kids, &parent->cap_kids, parent->n_kids + 1, sizeof *kids);
    if (!kids)
        return nomem(p);
    parent->kids = kids;
    if (n->line == 0) {
        /* libfyaml gives empty scalars (an empty key, say) no mark. */
        n->line = parent->line;
        n->col = parent->col;
        n->guessed = 1;
    }
    if (parent->kind == Y_MAP && parent->n_kids % 2 == 1) {
        ynode *k = parent->kids[parent->n_kids - 1];
        if (k->guessed && !n->guessed && !(n->is_null && n->text[0] == '\0')) {
            k->line = n->line; /* an empty key: its value is the nearest place */
            k->col = n->col;
        }
    }
    if (parent->kind == Y_MAP && parent->n_kids % 2 == 0) {
        if (n->kind != Y_SCALAR)
            return yerr(p, n->line, n->col, APICAL_E_TYPE,
                        "a key must be a plain name, not a %s",
                        n->kind == Y_MAP ? "mapping" : "list");
        /* YAML forbids duplicate keys; catching them here also means a
         * later lookup by name can never silently pick one of two. */
        for (size_t i = 0; i < parent->n_kids; i += 2) {
            const ynode *k = parent->kids[i];
            if (strcmp(k->text, n->text) == 0)
                return yerr(p, n->line, n->col, APICAL_E_SYNTAX,
                            "duplicate key '%s' (first defined at line %d, column %d)",
                            n->text, k->line, k->col);
        }
    } else if (parent->kind == Y_MAP && n->kind == Y_SCALAR && n->is_null &&
               n->text[0] == '\0') {
        /* An empty value has no text to point at; its key is the place. */
        const ynode *k = parent->kids[parent->n_kids - 1];
        n->line = k->line;
        n->col = k->col;
    }
    parent->kids[parent->n_kids++] = n;
    return APICAL_OK;
}

static int is_null_text(const char *s)
{
    return s[0] == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 ||
           strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0;
}

static apical_status handle_event(yparse *p, struct fy_event *e)
{
    const struct fy_mark *m = fy_event_start_mark(e);
    const int line = m ? m->line + 1 : 0, col = m ? m->column + 1 : 0;
    if (m) {
        p->last_line = line;
        p->last_col = col;
    }
    apical_status st;
    ynode *n;
    switch (e->type) {
    case FYET_DOCUMENT_START:
        if (++p->n_docs > 1)
            return yerr(p, line, col, APICAL_E_SYNTAX,
                        "a network file holds one YAML document, but a second one starts here");
        return APICAL_OK;
    case FYET_MAPPING_START:
    case FYET_SEQUENCE_START: {
        const int is_map = e->type == FYET_MAPPING_START;
        if (!(n = ynode_new(p->doc, is_map ? Y_MAP : Y_SEQ, m)))
            return nomem(p);
        if ((st = attach(p, n)) != APICAL_OK)
            return st;
        /* No network needs this; it keeps hostile input cheap. */
        if (p->depth >= MAX_DEPTH)
            return yerr(p, line, col, APICAL_E_SYNTAX,
                        "nested more than %d levels deep", MAX_DEPTH);
        if (p->depth == p->cap) {
            size_t cap = p->cap;
            ynode **stack = grow(p->stack, &cap, p->depth + 1, sizeof *stack);
            if (!stack)
                return nomem(p);
            p->stack = stack;
            char **np = realloc(p->pending, cap * sizeof *np); /* same capacity */
            if (!np)
                return nomem(p);
            p->pending = np;
            p->cap = cap;
        }
        p->pending[p->depth] = anchor_name(is_map ? e->mapping_start.anchor
                                                  : e->sequence_start.anchor);
        if (!p->pending[p->depth])
            return nomem(p);
        p->stack[p->depth++] = n;
        return APICAL_OK;
    }
    case FYET_MAPPING_END:
    case FYET_SEQUENCE_END:
        if (p->depth == 0)
            return APICAL_OK;
        p->depth--;
        /* Registered only now, so an alias inside its own anchor (a cycle)
         * is reported as undefined instead of making the tree cyclic. */
        st = add_anchor(p, p->pending[p->depth], p->stack[p->depth]);
        p->pending[p->depth] = NULL;
        return st;
    case FYET_SCALAR: {
        size_t len = 0;
        const char *s = e->scalar.value ? fy_token_get_text(e->scalar.value, &len) : NULL;
        if (!(n = ynode_new(p->doc, Y_SCALAR, m)))
            return nomem(p);
        if (!(n->text = strndup_or_empty(s ? s : "", s ? len : 0)))
            return nomem(p);
        n->is_null = fy_token_scalar_style(e->scalar.value) == FYSS_PLAIN &&
                     is_null_text(n->text);
        if ((st = attach(p, n)) != APICAL_OK)
            return st;
        char *name = anchor_name(e->scalar.anchor);
        return name ? add_anchor(p, name, n) : nomem(p);
    }
    case FYET_ALIAS: {
        size_t len = 0;
        const char *s = fy_token_get_text(e->alias.anchor, &len);
        for (size_t i = p->doc->n_anchors; s && i-- > 0;) {
            const anchor *a = &p->doc->anchors[i];
            if (strlen(a->name) == len && memcmp(a->name, s, len) == 0)
                return attach(p, a->node);
        }
        /* The mark is at the name; point at the '*' before it. */
        return yerr(p, line, col > 1 ? col - 1 : col, APICAL_E_SYNTAX,
                    "alias '*%.*s' refers to no anchor defined before it", (int)len,
                    s ? s : "");
    }
    default:
        return APICAL_OK;
    }
}

/* What libfyaml writes instead of collecting: a few of its errors (e.g.
 * "indentation indicator 0") bypass the collected list. Kept, never printed. */
typedef struct diag_text {
    char buf[400];
    size_t len;
} diag_text;

static void diag_sink(struct fy_diag *diag, void *user, const char *buf, size_t len)
{
    (void)diag;
    diag_text *t = user;
    size_t room = sizeof t->buf - 1 - t->len;
    if (len > room)
        len = room;
    memcpy(t->buf + t->len, buf, len);
    t->len += len;
    t->buf[t->len] = '\0';
}

/* The first error libfyaml reported, as our error with our file name. */
static apical_status syntax_error(yparse *p, struct fy_diag *diag, const diag_text *out)
{
    void *it = NULL;
    struct fy_diag_error *de;
    while ((de = fy_diag_errors_iterate(diag, &it)) != NULL) {
        if (de->type >= FYET_ERROR)
            return yerr(p, de->line, de->column, APICAL_E_SYNTAX, "malformed YAML: %s",
                        de->msg ? de->msg : "syntax error");
    }
    /* Uncollected: take the first printed line without its "[ERR]: " tag,
     * placed at the last node that parsed. */
    const char *msg = out->buf;
    const char *tag = strstr(msg, "]: ");
    if (tag && msg[0] == '[')
        msg = tag + 3;
    int n = (int)strcspn(msg, "\n");
    return yerr(p, p->last_line ? p->last_line : 1, p->last_col ? p->last_col : 1,
                APICAL_E_SYNTAX, "malformed YAML%s%.*s", n ? ": " : "", n, msg);
}

static apical_status yaml_build(const char *path, const char *text, size_t len, ydoc *doc,
                                apical_error *err)
{
    yparse p = {.doc = doc, .path = path, .err = err};
    apical_status st = APICAL_OK;
    struct fy_parser *fyp = NULL;
    diag_text out = {.len = 0};

    struct fy_diag_cfg dcfg;
    fy_diag_cfg_default(&dcfg);
    dcfg.fp = NULL;
    dcfg.output_fn = diag_sink; /* libfyaml must never write to stderr */
    dcfg.user = &out;
    dcfg.colorize = false;
    dcfg.show_source = false;
    dcfg.show_position = false;
    dcfg.show_type = true;
    dcfg.show_module = false;
    struct fy_diag *diag = fy_diag_create(&dcfg);
    if (!diag)
        return nomem(&p);
    fy_diag_set_collect_errors(diag, true);

    struct fy_parse_cfg cfg = {0};
    cfg.flags = FYPCF_QUIET;
    cfg.diag = diag;
    fyp = fy_parser_create(&cfg);
    if (!fyp || fy_parser_set_string(fyp, text, len) != 0) {
        st = nomem(&p);
        goto done;
    }
    for (;;) {
        struct fy_event *e = fy_parser_parse(fyp);
        if (!e) {
            if (fy_parser_get_stream_error(fyp))
                st = syntax_error(&p, diag, &out);
            break;
        }
        st = handle_event(&p, e);
        fy_parser_event_free(fyp, e);
        if (st != APICAL_OK)
            break;
    }
done:
    for (size_t i = 0; i < p.depth; i++)
        free(p.pending[i]);
    free(p.pending);
    free(p.stack);
    if (fyp)
        fy_parser_destroy(fyp);
    fy_diag_destroy(diag);
    return st;
}

/* ------------------------------------------------------------------------ */
/* Walking the tree                                                          */

typedef struct ctx {
    apical_net_spec *spec;
    apical_error *err;
    const ynode *sim_stepper; /* where simulation.solver.stepper was given */
    int has_protocol;         /* the file has a protocol: duration may be omitted */
} ctx;

static apical_status fail(ctx *c, const ynode *n, apical_status code, const char *fmt, ...)
    PRINTF_LIKE(4, 5);

static apical_status fail(ctx *c, const ynode *n, apical_status code, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    apical_srcpos pos = {c->spec->path, n ? n->line : 0, n ? n->col : 0};
    return apical_error_set(c->err, code, &pos, "%s", msg);
}

static apical_status oom(ctx *c)
{
    return apical_error_set(c->err, APICAL_E_NOMEM, NULL, "out of memory");
}

static apical_srcpos pos_of(const ctx *c, const ynode *n)
{
    return (apical_srcpos){c->spec->path, n->line, n->col};
}

/* "a mapping", "a list", "an empty value", "'text'" for type errors. */
static const char *describe(const ynode *n, char *buf, size_t len)
{
    if (n->kind == Y_MAP)
        return "a mapping";
    if (n->kind == Y_SEQ)
        return "a list";
    if (n->is_null)
        return "an empty value";
    snprintf(buf, len, "'%.60s%s'", n->text, strlen(n->text) > 60 ? "..." : "");
    return buf;
}

static const ynode *map_get(const ynode *map, const char *key)
{
    for (size_t i = 0; i + 1 < map->n_kids; i += 2)
        if (strcmp(map->kids[i]->text, key) == 0)
            return map->kids[i + 1];
    return NULL;
}

static void join(const char *const *names, size_t n, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n && used < len; i++) {
        int w = snprintf(buf + used, len - used, "%s%s", i ? ", " : "", names[i]);
        if (w < 0)
            break;
        used += (size_t)w;
    }
}

static void join_fields(const apical_field *f, size_t n, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n && used < len; i++) {
        int w = snprintf(buf + used, len - used, "%s%s", i ? ", " : "", f[i].name);
        if (w < 0)
            break;
        used += (size_t)w;
    }
    if (n == 0)
        snprintf(buf, len, "(none)");
}

static size_t count_names(const char *const *names)
{
    size_t n = 0;
    while (names[n])
        n++;
    return n;
}

/* Every key of map must be one of valid (NULL-terminated). */
static apical_status check_keys(ctx *c, const ynode *map, const char *const *valid,
                                const char *where)
{
    for (size_t i = 0; i < map->n_kids; i += 2) {
        const ynode *k = map->kids[i];
        size_t j = 0;
        while (valid[j] && strcmp(valid[j], k->text) != 0)
            j++;
        if (!valid[j]) {
            char list[512];
            join(valid, count_names(valid), list, sizeof list);
            return fail(c, k, APICAL_E_UNKNOWN_KEY, "unknown key '%s' in %s; valid keys: %s",
                        k->text, where, list);
        }
    }
    return APICAL_OK;
}

static apical_status need_kind(ctx *c, const ynode *n, ykind kind, const char *what)
{
    if (n->kind == kind)
        return APICAL_OK;
    char b[80];
    return fail(c, n, APICAL_E_TYPE, "%s must be %s, got %s", what,
                kind == Y_MAP ? "a mapping" : kind == Y_SEQ ? "a list" : "a single value",
                describe(n, b, sizeof b));
}

/* The value of a required key, or a MISSING_KEY error at the mapping. */
static apical_status require(ctx *c, const ynode *map, const char *key, const char *where,
                             const ynode **out)
{
    *out = map_get(map, key);
    if (*out)
        return APICAL_OK;
    return fail(c, map, APICAL_E_MISSING_KEY, "%s is missing the required key '%s'", where, key);
}

static apical_status get_string(ctx *c, const ynode *n, const char *what, const char **out)
{
    if (n->kind != Y_SCALAR || n->is_null) {
        char b[80];
        return fail(c, n, APICAL_E_TYPE, "%s must be a name, got %s", what,
                    describe(n, b, sizeof b));
    }
    *out = n->text;
    return APICAL_OK;
}

/* Names end up as HDF5 group names and in messages: keep them printable
 * and free of '/'. */
static apical_status check_name(ctx *c, const ynode *n, const char *name, const char *what)
{
    if (!name[0])
        return fail(c, n, APICAL_E_INVALID, "%s must not be empty", what);
    for (const unsigned char *s = (const unsigned char *)name; *s; s++)
        if (*s == '/' || *s <= ' ' || *s == 0x7f)
            return fail(c, n, APICAL_E_INVALID,
                        "%s '%s' must not contain '/', spaces or control characters", what,
                        name);
    return APICAL_OK;
}

static apical_status get_uint(ctx *c, const ynode *n, const char *what, uint64_t lo,
                              uint64_t hi, uint64_t *out)
{
    char b[80];
    if (n->kind != Y_SCALAR || n->is_null)
        return fail(c, n, APICAL_E_TYPE, "%s must be an integer, got %s", what,
                    describe(n, b, sizeof b));
    const char *s = n->text;
    int neg = 0;
    if (*s == '+' || *s == '-')
        neg = *s++ == '-';
    size_t nd = strspn(s, "0123456789");
    if (nd == 0 || s[nd] != '\0')
        return fail(c, n, APICAL_E_TYPE, "%s must be an integer, got %s", what,
                    describe(n, b, sizeof b));
    errno = 0;
    unsigned long long v = strtoull(s, NULL, 10);
    int too_big = errno == ERANGE || v > hi;
    if ((neg && v != 0) || v < lo || too_big) {
        if (hi == UINT64_MAX)
            return fail(c, n, APICAL_E_RANGE, "%s must be an integer >= %llu, got %s", what,
                        (unsigned long long)lo, n->text);
        return fail(c, n, APICAL_E_RANGE, "%s must be an integer in [%llu, %llu], got %s",
                    what, (unsigned long long)lo, (unsigned long long)hi, n->text);
    }
    *out = (uint64_t)v;
    return APICAL_OK;
}

static apical_status get_bool(ctx *c, const ynode *n, const char *what, int *out)
{
    static const char *const yes[] = {"true", "True", "TRUE"};
    static const char *const no[] = {"false", "False", "FALSE"};
    if (n->kind == Y_SCALAR) {
        for (size_t i = 0; i < 3; i++) {
            if (strcmp(n->text, yes[i]) == 0) {
                *out = 1;
                return APICAL_OK;
            }
            if (strcmp(n->text, no[i]) == 0) {
                *out = 0;
                return APICAL_OK;
            }
        }
    }
    char b[80];
    return fail(c, n, APICAL_E_TYPE, "%s must be true or false, got %s", what,
                describe(n, b, sizeof b));
}

/* " mV", or "" for a dimensionless unit. */
static const char *unit_suffix(const char *unit, char *buf, size_t len)
{
    if (!unit || !unit[0] || strcmp(unit, "1") == 0)
        return "";
    snprintf(buf, len, " %s", unit);
    return buf;
}

/* A quantity in `unit`. The code says what kind of mistake it is: not a
 * number at all (TYPE), a number too large (RANGE), or a unit problem. */
static apical_status get_quantity(ctx *c, const ynode *n, const char *unit, const char *what,
                                  double *out)
{
    char why[512], b[80];
    if (n->kind != Y_SCALAR || n->is_null) {
        /* Parsing "" yields the "expected a voltage such as ..." wording. */
        double ignored;
        apical_quantity_parse("", unit, &ignored, why, sizeof why);
        char *got = strstr(why, ", got ");
        if (got)
            *got = '\0';
        return fail(c, n, APICAL_E_TYPE, "%s: %s, got %s", what, why, describe(n, b, sizeof b));
    }
    if (apical_quantity_parse(n->text, unit, out, why, sizeof why) == 0)
        return APICAL_OK;
    const char *s = n->text + strspn(n->text, " \t");
    const char *d = s + (*s == '+' || *s == '-');
    int numeric = (*d >= '0' && *d <= '9') || (*d == '.' && d[1] >= '0' && d[1] <= '9');
    if (!numeric)
        return fail(c, n, APICAL_E_TYPE, "%s: %s", what, why);
    if (!isfinite(strtod(s, NULL)))
        return fail(c, n, APICAL_E_RANGE, "%s: %s", what, why);
    return fail(c, n, APICAL_E_UNIT, "%s: %s", what, why);
}

/* Allowed values of a quantity: [lo, hi], or (lo, hi] when lo_open. */
typedef struct bounds {
    double lo, hi;
    int lo_open;
} bounds;

static apical_status check_bounds(ctx *c, const ynode *n, const char *what, double v,
                                  bounds bd, const char *unit)
{
    char u[40];
    const char *us = unit_suffix(unit, u, sizeof u);
    int below = bd.lo_open ? !(v > bd.lo) : !(v >= bd.lo);
    if (!below && v <= bd.hi)
        return APICAL_OK;
    const char *ge = bd.lo_open ? ">" : ">=";
    if (isinf(bd.hi))
        return fail(c, n, APICAL_E_RANGE, "%s must be %s %g%s, got %g%s", what, ge, bd.lo, us,
                    v, us);
    if (isinf(bd.lo))
        return fail(c, n, APICAL_E_RANGE, "%s must be <= %g%s, got %g%s", what, bd.hi, us, v,
                    us);
    return fail(c, n, APICAL_E_RANGE, "%s must be in %s%g, %g]%s, got %g%s", what,
                bd.lo_open ? "(" : "[", bd.lo, bd.hi, us, v, us);
}

static apical_status get_bounded(ctx *c, const ynode *n, const char *unit, const char *what,
                                 bounds bd, double *out)
{
    apical_status st = get_quantity(c, n, unit, what, out);
    return st != APICAL_OK ? st : check_bounds(c, n, what, *out, bd, unit);
}

/* A constant quantity, {uniform: {low, high}} or
 * {normal: {mean, sd, low?, high?}}. Normal draws outside [low, high] are
 * redrawn; low and high default to the field's bounds, except that an open
 * lower bound (delays: > 0) has no natural floor and must be given. */
static apical_status get_dist(ctx *c, const ynode *n, const char *unit, const char *what,
                              bounds bd, apical_dist *d)
{
    static const char *const kinds[] = {"normal", "uniform", NULL};
    static const char *const normal_keys[] = {"mean", "sd", "low", "high", NULL};
    static const char *const uniform_keys[] = {"low", "high", NULL};
    char where[160], w2[160], u[40];
    apical_status st;
    *d = (apical_dist){APICAL_DIST_CONSTANT, 0.0, 0.0, -HUGE_VAL, HUGE_VAL, pos_of(c, n)};
    if (n->kind == Y_SCALAR)
        return get_bounded(c, n, unit, what, bd, &d->a);
    if (n->kind != Y_MAP || n->n_kids != 2) {
        char b[80];
        return fail(c, n, APICAL_E_TYPE,
                    "%s must be a quantity such as '1%s', or one distribution: "
                    "{normal: {mean: .., sd: ..}} or {uniform: {low: .., high: ..}}; got %s",
                    what, unit_suffix(unit, u, sizeof u), describe(n, b, sizeof b));
    }
    snprintf(where, sizeof where, "the distribution of %s", what);
    if ((st = check_keys(c, n, kinds, where)) != APICAL_OK)
        return st;
    const ynode *kind = n->kids[0], *body = n->kids[1];
    snprintf(where, sizeof where, "%s %s", kind->text, what);
    if ((st = need_kind(c, body, Y_MAP, where)) != APICAL_OK)
        return st;
    const char *us = unit_suffix(unit, u, sizeof u);
    const ynode *v;
    if (strcmp(kind->text, "uniform") == 0) {
        d->kind = APICAL_DIST_UNIFORM;
        if ((st = check_keys(c, body, uniform_keys, where)) != APICAL_OK)
            return st;
        const ynode *lo, *hi;
        if ((st = require(c, body, "low", where, &lo)) != APICAL_OK ||
            (st = require(c, body, "high", where, &hi)) != APICAL_OK)
            return st;
        snprintf(w2, sizeof w2, "low of %s", what);
        if ((st = get_bounded(c, lo, unit, w2, bd, &d->a)) != APICAL_OK)
            return st;
        snprintf(w2, sizeof w2, "high of %s", what);
        if ((st = get_bounded(c, hi, unit, w2, bd, &d->b)) != APICAL_OK)
            return st;
        if (!(d->b > d->a))
            return fail(c, hi, APICAL_E_RANGE, "high (%g%s) must be above low (%g%s) in %s",
                        d->b, us, d->a, us, where);
        return APICAL_OK;
    }
    d->kind = APICAL_DIST_NORMAL;
    if ((st = check_keys(c, body, normal_keys, where)) != APICAL_OK)
        return st;
    const ynode *mean, *sd;
    if ((st = require(c, body, "mean", where, &mean)) != APICAL_OK ||
        (st = require(c, body, "sd", where, &sd)) != APICAL_OK)
        return st;
    snprintf(w2, sizeof w2, "mean of %s", what);
    if ((st = get_quantity(c, mean, unit, w2, &d->a)) != APICAL_OK)
        return st;
    snprintf(w2, sizeof w2, "sd of %s", what);
    if ((st = get_bounded(c, sd, unit, w2, (bounds){0.0, HUGE_VAL, 0}, &d->b)) != APICAL_OK)
        return st;
    d->lo = bd.lo;
    d->hi = bd.hi;
    if ((v = map_get(body, "low")) != NULL) {
        snprintf(w2, sizeof w2, "low of %s", what);
        if ((st = get_bounded(c, v, unit, w2, bd, &d->lo)) != APICAL_OK)
            return st;
    } else if (bd.lo_open) {
        return fail(c, body, APICAL_E_MISSING_KEY,
                    "%s needs 'low', the smallest value drawn (%s must be > %g%s)", where, what,
                    bd.lo, us);
    }
    if ((v = map_get(body, "high")) != NULL) {
        snprintf(w2, sizeof w2, "high of %s", what);
        if ((st = get_bounded(c, v, unit, w2, bd, &d->hi)) != APICAL_OK)
            return st;
        if (!(d->hi > d->lo))
            return fail(c, v, APICAL_E_RANGE, "high (%g%s) must be above low (%g%s) in %s",
                        d->hi, us, d->lo, us, where);
    }
    /* Redrawing is only cheap when the mean lies inside the kept interval. */
    if (d->a < d->lo || d->a > d->hi)
        return fail(c, mean, APICAL_E_RANGE, "mean of %s (%g%s) must lie in [%g, %g]%s", what,
                    d->a, us, d->lo, d->hi, us);
    return APICAL_OK;
}

/* ------------------------------------------------------------------------ */
/* Solver                                                                    */

static const char *const explicit_steppers[] = {"rk2", "rk4", "rkf45", "rkck", "rk8pd",
                                                "msadams", NULL};
static const char *const implicit_steppers[] = {"rk1imp", "rk2imp", "rk4imp", "bsimp",
                                                "msbdf", NULL};

static int in_list(const char *const *list, const char *s)
{
    for (size_t i = 0; list[i]; i++)
        if (strcmp(list[i], s) == 0)
            return 1;
    return 0;
}

static apical_status check_stepper_name(ctx *c, const ynode *n, const char *name)
{
    if (in_list(explicit_steppers, name) || in_list(implicit_steppers, name) ||
        strcmp(name, "exact") == 0 || strcmp(name, "sweep") == 0)
        return APICAL_OK;
    char a[200], b[200];
    join(explicit_steppers, count_names(explicit_steppers), a, sizeof a);
    join(implicit_steppers, count_names(implicit_steppers), b, sizeof b);
    return fail(c, n, APICAL_E_UNKNOWN_NAME,
                "unknown stepper '%s'; valid steppers: %s; with a model Jacobian also: %s; for "
                "models integrable in closed form also: exact; for models with a window "
                "kernel also: sweep",
                name, a, b);
}

/* Parse a `solver:` mapping. Absent values are left as they are. */
static apical_status get_solver(ctx *c, const ynode *n, const char *where,
                                const ynode **stepper, double *abs_tol, double *rel_tol)
{
    static const char *const keys[] = {"stepper", "abs_tol", "rel_tol", NULL};
    const bounds pos = {0.0, HUGE_VAL, 1};
    const ynode *v;
    const char *s = "";
    apical_status st;
    char w[160];
    snprintf(w, sizeof w, "the solver of %s", where);
    if ((st = need_kind(c, n, Y_MAP, w)) != APICAL_OK ||
        (st = check_keys(c, n, keys, w)) != APICAL_OK)
        return st;
    if ((v = map_get(n, "stepper")) != NULL) {
        if ((st = get_string(c, v, "stepper", &s)) != APICAL_OK ||
            (st = check_stepper_name(c, v, s)) != APICAL_OK)
            return st;
        *stepper = v;
    }
    if ((v = map_get(n, "abs_tol")) != NULL &&
        (st = get_bounded(c, v, "1", "abs_tol", pos, abs_tol)) != APICAL_OK)
        return st;
    if ((v = map_get(n, "rel_tol")) != NULL &&
        (st = get_bounded(c, v, "1", "rel_tol", pos, rel_tol)) != APICAL_OK)
        return st;
    return APICAL_OK;
}

/* ------------------------------------------------------------------------ */
/* Sections                                                                  */

static apical_status parse_simulation(ctx *c, const ynode *n)
{
    static const char *const keys[] = {"duration", "seed", "solver", "partitions", "threads",
                                       NULL};
    apical_sim_spec *sim = &c->spec->sim;
    const ynode *v;
    uint64_t u;
    apical_status st;
    if ((st = need_kind(c, n, Y_MAP, "simulation")) != APICAL_OK ||
        (st = check_keys(c, n, keys, "simulation")) != APICAL_OK)
        return st;
    sim->pos = pos_of(c, n);
    /* with a protocol, an omitted duration is the protocol's length */
    if (c->has_protocol && !map_get(n, "duration")) {
        sim->duration_auto = 1;
    } else if ((st = require(c, n, "duration", "simulation", &v)) != APICAL_OK ||
               (st = get_bounded(c, v, "ms", "duration", (bounds){0.0, HUGE_VAL, 1},
                                 &sim->duration)) != APICAL_OK) {
        return st;
    } else {
        sim->duration_pos = pos_of(c, v);
    }
    if ((v = map_get(n, "seed")) != NULL) {
        if ((st = get_uint(c, v, "seed", 0, UINT64_MAX, &sim->seed)) != APICAL_OK)
            return st;
    }
    if ((v = map_get(n, "partitions")) != NULL) {
        if ((st = get_uint(c, v, "partitions", 1, 65536, &u)) != APICAL_OK)
            return st;
        sim->partitions = (unsigned)u;
    }
    if ((v = map_get(n, "threads")) != NULL) {
        if ((st = get_uint(c, v, "threads", 0, 65536, &u)) != APICAL_OK)
            return st;
        sim->threads = (unsigned)u;
    }
    if ((v = map_get(n, "solver")) != NULL) {
        if ((st = get_solver(c, v, "the simulation", &c->sim_stepper, &sim->abs_tol,
                             &sim->rel_tol)) != APICAL_OK)
            return st;
        if (c->sim_stepper && !(sim->stepper = strdup(c->sim_stepper->text)))
            return oom(c);
    }
    return APICAL_OK;
}

/* Implicit steppers call the model's Jacobian; say so here rather than
 * failing in the middle of a run. */
static apical_status check_jacobian(ctx *c, const apical_pop_spec *pop, const ynode *at)
{
    char a[200];
    join(explicit_steppers, count_names(explicit_steppers), a, sizeof a);
    if (strcmp(pop->stepper, "exact") == 0 && !pop->model->exact) {
        char exact[200] = "";
        for (size_t i = 0; i < apical_model_count(); i++)
            if (apical_model_at(i)->exact)
                snprintf(exact + strlen(exact), sizeof exact - strlen(exact), "%s%s",
                         exact[0] ? ", " : "", apical_model_at(i)->name);
        return fail(c, at, APICAL_E_INVALID,
                    "stepper 'exact' needs a model integrable in closed form (%s), but population "
                    "'%s' uses model '%s'; use one of %s",
                    exact, pop->name, pop->model->name, a);
    }
    if (strcmp(pop->stepper, "sweep") == 0 && !pop->model->sweep) {
        char sweep[200] = "";
        for (size_t i = 0; i < apical_model_count(); i++)
            if (apical_model_at(i)->sweep)
                snprintf(sweep + strlen(sweep), sizeof sweep - strlen(sweep), "%s%s",
                         sweep[0] ? ", " : "", apical_model_at(i)->name);
        return fail(c, at, APICAL_E_INVALID,
                    "stepper 'sweep' needs a model with a window kernel (%s), but population "
                    "'%s' uses model '%s'; use one of %s",
                    sweep, pop->name, pop->model->name, a);
    }
    if (!in_list(implicit_steppers, pop->stepper) || pop->model->jacobian)
        return APICAL_OK;
    return fail(c, at, APICAL_E_INVALID,
                "stepper '%s' needs a Jacobian, but model '%s' (population '%s') has none; "
                "use one of %s",
                pop->stepper, pop->model->name, pop->name, a);
}

static apical_status parse_population(ctx *c, const ynode *key, const ynode *n,
                                      apical_pop_spec *pop)
{
    static const char *const keys[] = {"size", "model", "parameters", "initial", "solver",
                                       NULL};
    const apical_sim_spec *sim = &c->spec->sim;
    const ynode **pnode = NULL;
    const ynode *v, *stepper = NULL;
    const char *s = "";
    char where[200], list[700];
    apical_status st;

    if ((st = check_name(c, key, key->text, "a population name")) != APICAL_OK)
        return st;
    if (!(pop->name = strdup(key->text)))
        return oom(c);
    pop->pos = pos_of(c, key);
    snprintf(where, sizeof where, "population '%s'", pop->name);
    if (n->kind != Y_MAP) {
        char b[80];
        return fail(c, n, APICAL_E_TYPE,
                    "population '%s' must be a mapping with at least 'size' and 'model', got %s",
                    pop->name, describe(n, b, sizeof b));
    }
    if ((st = check_keys(c, n, keys, where)) != APICAL_OK)
        return st;
    if ((st = require(c, n, "size", where, &v)) != APICAL_OK ||
        (st = get_uint(c, v, "size", 1, UINT64_MAX, &pop->size)) != APICAL_OK)
        return st;
    if ((st = require(c, n, "model", where, &v)) != APICAL_OK ||
        (st = get_string(c, v, "model", &s)) != APICAL_OK)
        return st;
    if (!(pop->model = apical_model_find(s))) {
        apical_model_names(list, sizeof list);
        return fail(c, v, APICAL_E_UNKNOWN_MODEL, "unknown model '%s'; valid models: %s", s,
                    list);
    }
    const apical_model_type *m = pop->model;

    pop->param = malloc((m->n_params ? m->n_params : 1) * sizeof *pop->param);
    pop->init = malloc((m->n_state ? m->n_state : 1) * sizeof *pop->init);
    pnode = calloc(m->n_params ? m->n_params : 1, sizeof *pnode);
    if (!pop->param || !pop->init || !pnode) {
        st = oom(c);
        goto out;
    }
    for (size_t k = 0; k < m->n_params; k++)
        pop->param[k] = m->params[k].def;
    for (size_t k = 0; k < m->n_state; k++)
        pop->init[k] = (apical_dist){APICAL_DIST_CONSTANT, m->state[k].def, 0.0, -HUGE_VAL,
                                     HUGE_VAL, pop->pos};

    const ynode *params = map_get(n, "parameters");
    if (params && !params->is_null) {
        snprintf(where, sizeof where, "the parameters of population '%s'", pop->name);
        if ((st = need_kind(c, params, Y_MAP, where)) != APICAL_OK)
            goto out;
        for (size_t i = 0; i + 1 < params->n_kids; i += 2) {
            const ynode *pk = params->kids[i], *pv = params->kids[i + 1];
            size_t k = apical_field_index(m->params, m->n_params, pk->text);
            if (k == (size_t)-1) {
                join_fields(m->params, m->n_params, list, sizeof list);
                st = fail(c, pk, APICAL_E_UNKNOWN_NAME,
                          "model '%s' has no parameter '%s'; its parameters: %s", m->name,
                          pk->text, list);
                goto out;
            }
            const apical_field *f = &m->params[k];
            if ((st = get_bounded(c, pv, f->unit, f->name, (bounds){f->lo, f->hi, 0},
                                  &pop->param[k])) != APICAL_OK)
                goto out;
            pnode[k] = pv;
        }
    }
    if (m->check) {
        char why[512] = "";
        size_t bad = m->check(pop->param, why, sizeof why);
        if (bad) {
            const ynode *at = bad <= m->n_params && pnode[bad - 1] ? pnode[bad - 1]
                              : params && !params->is_null ? params
                                                           : key;
            st = fail(c, at, APICAL_E_RANGE, "population '%s': %s", pop->name, why);
            goto out;
        }
    }

    const ynode *init = map_get(n, "initial");
    if (init && !init->is_null) {
        snprintf(where, sizeof where, "the initial state of population '%s'", pop->name);
        if ((st = need_kind(c, init, Y_MAP, where)) != APICAL_OK)
            goto out;
        for (size_t i = 0; i + 1 < init->n_kids; i += 2) {
            const ynode *ik = init->kids[i], *iv = init->kids[i + 1];
            size_t k = apical_field_index(m->state, m->n_state, ik->text);
            if (k == (size_t)-1) {
                join_fields(m->state, m->n_state, list, sizeof list);
                st = fail(c, ik, APICAL_E_UNKNOWN_NAME,
                          "model '%s' has no state variable '%s'; its state variables: %s",
                          m->name, ik->text, list);
                goto out;
            }
            const apical_field *f = &m->state[k];
            if ((st = get_dist(c, iv, f->unit, f->name, (bounds){f->lo, f->hi, 0},
                               &pop->init[k])) != APICAL_OK)
                goto out;
        }
    }

    /* Solver: population > simulation > model. */
    pop->abs_tol = sim->abs_tol > 0 ? sim->abs_tol : m->default_abs_tol;
    pop->rel_tol = sim->rel_tol > 0 ? sim->rel_tol : m->default_rel_tol;
    stepper = c->sim_stepper;
    if ((v = map_get(n, "solver")) != NULL &&
        (st = get_solver(c, v, where, &stepper, &pop->abs_tol, &pop->rel_tol)) != APICAL_OK)
        goto out;
    /* "exact" for the whole simulation: wherever the model allows it */
    if (stepper && stepper == c->sim_stepper && strcmp(stepper->text, "exact") == 0 && !m->exact)
        stepper = NULL;
    /* likewise "sweep" */
    if (stepper && stepper == c->sim_stepper && strcmp(stepper->text, "sweep") == 0 && !m->sweep)
        stepper = NULL;
    if (!(pop->stepper = strdup(stepper ? stepper->text : m->default_stepper))) {
        st = oom(c);
        goto out;
    }
    st = check_jacobian(c, pop, stepper ? stepper : key);
out:
    free(pnode);
    return st;
}

static apical_status parse_populations(ctx *c, const ynode *n)
{
    apical_net_spec *spec = c->spec;
    apical_status st;
    if (n->kind != Y_MAP) {
        char b[80];
        return fail(c, n, APICAL_E_TYPE,
                    "populations must be a mapping from name to population, such as "
                    "'exc: {size: 100, model: lif_cond_exp}'; got %s",
                    describe(n, b, sizeof b));
    }
    if (n->n_kids == 0)
        return fail(c, n, APICAL_E_INVALID, "populations is empty; define at least one");
    size_t np = n->n_kids / 2;
    if (!(spec->pops = calloc(np, sizeof *spec->pops)))
        return oom(c);
    for (size_t i = 0; i < np; i++) {
        spec->n_pops = i + 1; /* owned by the spec from here on, even half-built */
        if ((st = parse_population(c, n->kids[2 * i], n->kids[2 * i + 1], &spec->pops[i])) !=
            APICAL_OK)
            return st;
    }
    return APICAL_OK;
}

static apical_status get_pop_ref(ctx *c, const ynode *n, const char *what, size_t *out)
{
    const char *s = "";
    apical_status st = get_string(c, n, what, &s);
    if (st != APICAL_OK)
        return st;
    *out = apical_spec_pop_index(c->spec, s);
    if (*out != (size_t)-1)
        return APICAL_OK;
    char list[700];
    size_t used = 0;
    list[0] = '\0';
    for (size_t i = 0; i < c->spec->n_pops && used < sizeof list; i++) {
        int w = snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "",
                         c->spec->pops[i].name);
        if (w < 0)
            break;
        used += (size_t)w;
    }
    return fail(c, n, APICAL_E_REFERENCE, "%s '%s' is not a defined population; defined: %s",
                what, s, list);
}

static apical_status get_receptor(ctx *c, const ynode *n, const apical_model_type *m,
                                  size_t *out)
{
    const char *s = "";
    apical_status st = get_string(c, n, "receptor", &s);
    if (st != APICAL_OK)
        return st;
    *out = apical_receptor_index(m, s);
    if (*out != (size_t)-1)
        return APICAL_OK;
    char list[400];
    join(m->receptors, m->n_receptors, list, sizeof list);
    return fail(c, n, APICAL_E_UNKNOWN_NAME,
                "model '%s' has no receptor '%s'; its receptors: %s", m->name, s, list);
}

/* Synaptic weights: a conductance cannot be negative (inhibition is a
 * receptor with a low reversal potential); currents can have either sign. */
static bounds weight_bounds(const apical_model_type *m)
{
    apical_dim dim;
    double scale;
    if (apical_unit_lookup(m->weight_unit, &dim, &scale) == 0 && dim == APICAL_DIM_CONDUCTANCE)
        return (bounds){0.0, HUGE_VAL, 0};
    return (bounds){-HUGE_VAL, HUGE_VAL, 0};
}

/* A name given with `name:`, or the default. */
static apical_status get_item_name(ctx *c, const ynode *item, const char *fallback,
                                   const char *kind, char **out)
{
    const ynode *v = map_get(item, "name");
    const char *s = fallback;
    apical_status st;
    char what[64];
    snprintf(what, sizeof what, "a %s name", kind);
    if (v && ((st = get_string(c, v, "name", &s)) != APICAL_OK ||
              (st = check_name(c, v, s, what)) != APICAL_OK))
        return st;
    if (!(*out = strdup(s)))
        return oom(c);
    return APICAL_OK;
}

/* Names identify items in the output file, so two items of a kind cannot
 * share one, not even a default one. */
static apical_status name_taken(ctx *c, const ynode *item, const char *kind, const char *name,
                                int first_line)
{
    const ynode *v = map_get(item, "name");
    return fail(c, v ? v : item, APICAL_E_INVALID,
                "%s name '%s' is already used by the %s at line %d; give this one a "
                "different 'name'",
                kind, name, kind, first_line);
}

/* The path of a file named in the network file: relative paths are taken
 * from the network file's directory. */
static char *resolve_path(const char *net, const char *path)
{
    const char *slash = strrchr(net, '/');
    size_t dir = path[0] == '/' || !slash ? 0 : (size_t)(slash - net) + 1;
    size_t len = dir + strlen(path) + 1;
    char *out = malloc(len);
    if (out)
        snprintf(out, len, "%.*s%s", (int)dir, net, path);
    return out;
}

/* connectivity: {rule: from_file, path: FILE.h5, edges: NAME}: read the edge
 * population now, so that `apical check` finds every problem, check it
 * against the two populations, and store it on the projection grouped by
 * target (stable, so file order is kept within a target). */
static apical_status load_edges(ctx *c, const ynode *n, apical_proj_spec *pr)
{
    const apical_pop_spec *src = &c->spec->pops[pr->source], *tgt = &c->spec->pops[pr->target];
    const ynode *pv, *ev;
    const char *path = "", *name = pr->name;
    apical_status st;
    if ((st = require(c, n, "path", "connectivity", &pv)) != APICAL_OK ||
        (st = get_string(c, pv, "path", &path)) != APICAL_OK)
        return st;
    if ((ev = map_get(n, "edges")) != NULL && (st = get_string(c, ev, "edges", &name)) != APICAL_OK)
        return st;
    if (!path[0])
        return fail(c, pv, APICAL_E_INVALID, "path is empty; name an HDF5 file written by "
                                             "'apical run'");
    if (!name[0] || strchr(name, '/'))
        return fail(c, ev, APICAL_E_INVALID, "edges must name an edge population (a group "
                                             "under /edges), got '%s'", name);
    if (!(pr->edges_path = resolve_path(c->spec->path, path)) || !(pr->edges_name = strdup(name)))
        return oom(c);
    apical_edge_data e;
    apical_error herr = {0};
    if ((st = apical_h5_edges_read(pr->edges_path, name, &e, &herr)) != APICAL_OK)
        return fail(c, st == APICAL_E_REFERENCE && ev ? ev : pv, st, "%s", herr.msg);
    const char *where = pr->edges_path;
    const ynode *at = pv;
    if ((e.n_src && e.n_src != src->size) || (e.n_tgt && e.n_tgt != tgt->size)) {
        st = fail(c, at, APICAL_E_RANGE,
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
            st = fail(c, at, APICAL_E_RANGE,
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
                st = fail(c, at, APICAL_E_UNIT,
                          "%s: /edges/%s/0/syn_weight is in '%s', but the weights of model %s are "
                          "in '%s'",
                          where, name, e.weight_unit, tgt->model->name, want);
                goto out;
            }
            for (size_t k = 0; k < e.n; k++)
                e.w[k] *= s1 / s2;
        }
        bounds wb = weight_bounds(tgt->model);
        for (size_t k = 0; k < e.n; k++)
            if (e.w[k] < wb.lo) {
                st = fail(c, at, APICAL_E_RANGE,
                          "%s: /edges/%s/0/syn_weight[%zu] = %g %s: %s weights must be >= 0",
                          where, name, k, e.w[k], want, tgt->model->name);
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
        st = oom(c);
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

static apical_status parse_connectivity(ctx *c, const ynode *n, apical_proj_spec *pr)
{
    static const char *const rules[] = {"all_to_all",     "one_to_one",      "bernoulli",
                                        "fixed_indegree", "fixed_outdegree", "from_file", NULL};
    static const char *const keys[] = {"rule", "p", "k", "autapses", "path", "edges", NULL};
    const apical_pop_spec *src = &c->spec->pops[pr->source], *tgt = &c->spec->pops[pr->target];
    const ynode *rule = n, *v;
    const char *s = "";
    apical_status st;
    char list[200];
    join(rules, count_names(rules), list, sizeof list);
    if (n->kind == Y_MAP) {
        if ((st = check_keys(c, n, keys, "connectivity")) != APICAL_OK ||
            (st = require(c, n, "rule", "connectivity", &rule)) != APICAL_OK)
            return st;
    } else if (n->kind != Y_SCALAR || n->is_null) {
        char b[80];
        return fail(c, n, APICAL_E_TYPE,
                    "connectivity must be a rule name (%s) or a mapping such as "
                    "{rule: bernoulli, p: 0.1}; got %s",
                    list, describe(n, b, sizeof b));
    }
    if ((st = get_string(c, rule, "rule", &s)) != APICAL_OK)
        return st;
    size_t r = 0;
    while (rules[r] && strcmp(rules[r], s) != 0)
        r++;
    if (!rules[r])
        return fail(c, rule, APICAL_E_UNKNOWN_NAME,
                    "unknown connectivity rule '%s'; valid rules: %s", s, list);
    pr->conn = (apical_conn_kind)r;
    const int needs_p = pr->conn == APICAL_CONN_BERNOULLI;
    const int needs_k =
        pr->conn == APICAL_CONN_FIXED_INDEGREE || pr->conn == APICAL_CONN_FIXED_OUTDEGREE;
    const int file = pr->conn == APICAL_CONN_FROM_FILE;
    if (n->kind != Y_MAP && (needs_p || needs_k || file))
        return fail(c, n, APICAL_E_MISSING_KEY, "rule '%s' needs '%s': write {rule: %s, %s: ...}",
                    s, needs_p ? "p" : needs_k ? "k" : "path", s,
                    needs_p ? "p" : needs_k ? "k" : "path");
    /* Keys that belong to another rule are mistakes, not harmless extras. */
    for (size_t i = 0; n->kind == Y_MAP && i < n->n_kids; i += 2) {
        const ynode *k = n->kids[i];
        const int file_key = !strcmp(k->text, "path") || !strcmp(k->text, "edges");
        if ((strcmp(k->text, "p") == 0 && !needs_p) || (strcmp(k->text, "k") == 0 && !needs_k) ||
            (file_key && !file) || (file && !strcmp(k->text, "autapses")))
            return fail(c, k, APICAL_E_UNKNOWN_KEY,
                        "key '%s' does not apply to rule '%s'; valid keys: rule, %s", k->text, s,
                        file ? "path, edges" : needs_p ? "p, autapses" : needs_k ? "k, autapses"
                                                                          : "autapses");
    }
    if (file)
        return load_edges(c, n, pr);
    if (n->kind == Y_MAP && (v = map_get(n, "autapses")) != NULL &&
        (st = get_bool(c, v, "autapses", &pr->autapses)) != APICAL_OK)
        return st;
    const int self = pr->source == pr->target && !pr->autapses;
    if (needs_p) {
        if ((st = require(c, n, "p", "connectivity", &v)) != APICAL_OK ||
            (st = get_bounded(c, v, "1", "p", (bounds){0.0, 1.0, 0}, &pr->p)) != APICAL_OK)
            return st;
    }
    if (needs_k) {
        if ((st = require(c, n, "k", "connectivity", &v)) != APICAL_OK ||
            (st = get_uint(c, v, "k", 0, UINT64_MAX, &pr->k)) != APICAL_OK)
            return st;
        const int in = pr->conn == APICAL_CONN_FIXED_INDEGREE;
        const apical_pop_spec *pool = in ? src : tgt;
        uint64_t avail = pool->size - (self ? 1 : 0);
        if (pr->k > avail)
            return fail(c, v, APICAL_E_RANGE,
                        "k = %llu is more than the %llu %s neurons available in '%s'%s "
                        "(connections are drawn without replacement)",
                        (unsigned long long)pr->k, (unsigned long long)avail,
                        in ? "source" : "target", pool->name,
                        self ? " without autapses" : "");
    }
    if (pr->conn == APICAL_CONN_ONE_TO_ONE && src->size != tgt->size)
        return fail(c, rule, APICAL_E_RANGE,
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
static apical_status parse_plasticity(ctx *c, const ynode *n, apical_proj_spec *pr,
                                      const char *weight_unit)
{
    apical_status st;
    const ynode *v;
    const char *name = "";
    if ((st = need_kind(c, n, Y_MAP, "plasticity")) != APICAL_OK ||
        (st = require(c, n, "rule", "plasticity", &v)) != APICAL_OK ||
        (st = get_string(c, v, "rule", &name)) != APICAL_OK)
        return st;
    pr->rule = apical_plasticity_find(name);
    pr->rule_pos = pos_of(c, v);
    if (!pr->rule) {
        char names[512];
        apical_plasticity_names(names, sizeof names);
        return fail(c, v, APICAL_E_UNKNOWN_NAME, "unknown plasticity rule '%s'; valid rules: %s",
                    name, names);
    }
    const apical_plasticity_type *r = pr->rule;
    if (!(pr->rule_param = malloc((r->n_params + 1) * sizeof *pr->rule_param)))
        return oom(c);
    for (size_t k = 0; k < r->n_params; k++)
        pr->rule_param[k] = r->params[k].def;
    if ((v = map_get(n, "preset")) != NULL) {
        const char *pn = "";
        if ((st = get_string(c, v, "preset", &pn)) != APICAL_OK)
            return st;
        const struct rule_preset *ps = NULL;
        for (size_t k = 0; k < sizeof rule_presets / sizeof rule_presets[0]; k++)
            if (!strcmp(rule_presets[k].rule, r->name) && !strcmp(rule_presets[k].name, pn))
                ps = &rule_presets[k];
        if (!ps)
            return fail(c, v, APICAL_E_UNKNOWN_NAME, "unknown preset '%s' for rule %s%s", pn,
                        r->name, strcmp(r->name, "stdp_triplet") ? "" : "; presets: visual_cortex");
        for (size_t k = 0; ps->keys[k]; k++)
            pr->rule_param[apical_field_index(r->params, r->n_params, ps->keys[k])] = ps->values[k];
    }
    for (size_t i = 0; i < n->n_kids; i += 2) {
        const ynode *key = n->kids[i], *val = n->kids[i + 1];
        if (!strcmp(key->text, "rule") || !strcmp(key->text, "preset"))
            continue;
        size_t k = apical_field_index(r->params, r->n_params, key->text);
        if (k == (size_t)-1) {
            char valid[1024];
            join_fields(r->params, r->n_params, valid, sizeof valid);
            return fail(c, key, APICAL_E_UNKNOWN_KEY,
                        "unknown parameter '%s' of plasticity rule %s; valid: rule, preset, %s",
                        key->text, r->name, valid);
        }
        const apical_field *f = &r->params[k];
        const char *unit = strcmp(f->unit, "w") ? f->unit : weight_unit;
        if ((st = get_bounded(c, val, unit, f->name, (bounds){f->lo, f->hi, 0},
                              &pr->rule_param[k])) != APICAL_OK)
            return st;
    }
    if (r->check) {
        char why[256];
        size_t bad = r->check(pr->rule_param, why, sizeof why);
        if (bad)
            return fail(c, n, APICAL_E_RANGE, "plasticity: %s", why);
    }
    return APICAL_OK;
}

static apical_status parse_projection(ctx *c, size_t idx, const ynode *n)
{
    static const char *const keys[] = {"name", "source", "target", "connectivity",
                                       "receptor", "weight", "delay", "plasticity", NULL};
    apical_proj_spec *pr = &c->spec->projs[idx];
    const ynode *v;
    char where[64], fallback[600];
    apical_status st;
    snprintf(where, sizeof where, "projection %zu", idx + 1);
    if ((st = need_kind(c, n, Y_MAP, where)) != APICAL_OK ||
        (st = check_keys(c, n, keys, where)) != APICAL_OK)
        return st;
    pr->pos = pos_of(c, n);
    pr->autapses = 1;
    if ((st = require(c, n, "source", where, &v)) != APICAL_OK ||
        (st = get_pop_ref(c, v, "source", &pr->source)) != APICAL_OK ||
        (st = require(c, n, "target", where, &v)) != APICAL_OK ||
        (st = get_pop_ref(c, v, "target", &pr->target)) != APICAL_OK)
        return st;
    const apical_pop_spec *tgt = &c->spec->pops[pr->target];
    snprintf(fallback, sizeof fallback, "%s->%s", c->spec->pops[pr->source].name, tgt->name);
    if ((st = get_item_name(c, n, fallback, "projection", &pr->name)) != APICAL_OK)
        return st;
    for (size_t j = 0; j < idx; j++)
        if (strcmp(c->spec->projs[j].name, pr->name) == 0)
            return name_taken(c, n, "projection", pr->name, c->spec->projs[j].pos.line);
    if ((st = require(c, n, "connectivity", where, &v)) != APICAL_OK ||
        (st = parse_connectivity(c, v, pr)) != APICAL_OK)
        return st;
    if ((st = require(c, n, "receptor", where, &v)) != APICAL_OK ||
        (st = get_receptor(c, v, tgt->model, &pr->receptor)) != APICAL_OK)
        return st;
    /* from_file: weight and delay come from the file unless given here */
    const int file = pr->conn == APICAL_CONN_FROM_FILE;
    if (file && !map_get(n, "weight") && !pr->edge_w)
        return fail(c, map_get(n, "connectivity"), APICAL_E_MISSING_KEY,
                    "%s: /edges/%s has no weights (0/syn_weight); give 'weight' in the projection",
                    pr->edges_path, pr->edges_name);
    if (file && !map_get(n, "delay") && !pr->edge_d)
        return fail(c, map_get(n, "connectivity"), APICAL_E_MISSING_KEY,
                    "%s: /edges/%s has no delays (0/delay); give 'delay' in the projection",
                    pr->edges_path, pr->edges_name);
    if (!(file && pr->edge_w && !map_get(n, "weight"))) {
        if ((st = require(c, n, "weight", where, &v)) != APICAL_OK ||
            (st = get_dist(c, v, tgt->model->weight_unit, "weight", weight_bounds(tgt->model),
                           &pr->weight)) != APICAL_OK)
            return st;
        free(pr->edge_w);
        pr->edge_w = NULL;
    }
    if (!(file && pr->edge_d && !map_get(n, "delay"))) {
        if ((st = require(c, n, "delay", where, &v)) != APICAL_OK ||
            (st = get_dist(c, v, "ms", "delay", (bounds){0.0, HUGE_VAL, 1}, &pr->delay)) !=
                APICAL_OK)
            return st;
        free(pr->edge_d);
        pr->edge_d = NULL;
    }
    if ((v = map_get(n, "plasticity")) != NULL) {
        if (strcmp(tgt->stepper, "exact") == 0)
            return fail(c, v, APICAL_E_INVALID,
                        "plasticity needs the target's state at every input, but population '%s' "
                        "uses stepper 'exact'; give it a GSL stepper such as rkf45",
                        tgt->name);
        return parse_plasticity(c, v, pr, tgt->model->weight_unit);
    }
    return APICAL_OK;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* A non-empty list of distinct neuron ids of pop. */
static apical_status get_nodes(ctx *c, const ynode *n, const apical_pop_spec *pop,
                               uint64_t **out, size_t *count)
{
    apical_status st;
    uint64_t *sorted = NULL;
    if ((st = need_kind(c, n, Y_SEQ, "nodes")) != APICAL_OK)
        return st;
    if (n->n_kids == 0)
        return fail(c, n, APICAL_E_INVALID,
                    "nodes is an empty list; leave 'nodes' out to mean all neurons");
    if (!(*out = malloc(n->n_kids * sizeof **out)))
        return oom(c);
    *count = n->n_kids;
    for (size_t i = 0; i < n->n_kids; i++) {
        const ynode *it = n->kids[i];
        if ((st = get_uint(c, it, "a node id", 0, UINT64_MAX, &(*out)[i])) != APICAL_OK)
            return st;
        if ((*out)[i] >= pop->size)
            return fail(c, it, APICAL_E_RANGE,
                        "node id %llu is out of range: population '%s' has %llu neurons "
                        "(ids 0 to %llu)",
                        (unsigned long long)(*out)[i], pop->name,
                        (unsigned long long)pop->size, (unsigned long long)(pop->size - 1));
    }
    if (!(sorted = malloc(*count * sizeof *sorted)))
        return oom(c);
    memcpy(sorted, *out, *count * sizeof *sorted);
    qsort(sorted, *count, sizeof *sorted, cmp_u64);
    for (size_t i = 1; i < *count; i++) {
        if (sorted[i] != sorted[i - 1])
            continue;
        /* Point at the second occurrence in file order. */
        size_t seen = 0, j = 0;
        for (; j < *count; j++)
            if ((*out)[j] == sorted[i] && ++seen == 2)
                break;
        st = fail(c, n->kids[j], APICAL_E_INVALID, "node id %llu is listed twice",
                  (unsigned long long)sorted[i]);
        free(sorted);
        return st;
    }
    free(sorted);
    return APICAL_OK;
}

/* A list of quantities, e.g. `times: [10 ms, 20 ms]`. Times must be sorted
 * ascending when `sorted`. */
static apical_status get_quantity_list(ctx *c, const ynode *v, const char *unit, const char *what,
                                       const char *elem, bounds bd, int sorted, double **out,
                                       size_t *n_out)
{
    apical_status st;
    if ((st = need_kind(c, v, Y_SEQ, what)) != APICAL_OK)
        return st;
    if (v->n_kids && !(*out = malloc(v->n_kids * sizeof **out)))
        return oom(c);
    for (size_t i = 0; i < v->n_kids; i++) {
        const ynode *t = v->kids[i];
        if ((st = get_bounded(c, t, unit, elem, bd, &(*out)[i])) != APICAL_OK)
            return st;
        *n_out = i + 1;
        if (sorted && i > 0 && (*out)[i] < (*out)[i - 1])
            return fail(c, t, APICAL_E_RANGE,
                        "%s must be sorted ascending, but %g %s comes after %g %s", what,
                        (*out)[i], unit, (*out)[i - 1], unit);
    }
    return APICAL_OK;
}

/* `start` and `stop` of an input; stop defaults to the end of the run. */
static apical_status get_start_stop(ctx *c, const ynode *n, apical_input_spec *in)
{
    const bounds nonneg = {0.0, HUGE_VAL, 0};
    const ynode *v;
    apical_status st;
    if ((v = map_get(n, "start")) != NULL &&
        (st = get_bounded(c, v, "ms", "start", nonneg, &in->start)) != APICAL_OK)
        return st;
    if ((v = map_get(n, "stop")) != NULL) {
        if ((st = get_quantity(c, v, "ms", "stop", &in->stop)) != APICAL_OK)
            return st;
        if (!(in->stop > in->start))
            return fail(c, v, APICAL_E_RANGE, "stop (%g ms) must be after start (%g ms)",
                        in->stop, in->start);
    }
    return APICAL_OK;
}

static const struct input_type {
    const char *name;
    apical_input_kind kind;
    const char *const *keys; /* besides name, type, target, nodes */
} input_types[] = {
    {"poisson", APICAL_INPUT_POISSON,
     (const char *const[]){"receptor", "weight", "rate", "start", "stop", NULL}},
    {"spike_times", APICAL_INPUT_SPIKE_TIMES,
     (const char *const[]){"receptor", "weight", "times", NULL}},
    {"inhomogeneous_poisson", APICAL_INPUT_INHOM_POISSON,
     (const char *const[]){"receptor", "weight", "times", "rates", "stop", NULL}},
    {"dc", APICAL_INPUT_DC, (const char *const[]){"amplitude", "start", "stop", NULL}},
    {"step_current", APICAL_INPUT_STEP_CURRENT,
     (const char *const[]){"times", "amplitudes", NULL}},
    {"sinusoidal_current", APICAL_INPUT_SINUSOIDAL,
     (const char *const[]){"amplitude", "frequency", "phase", "offset", "start", "stop", NULL}},
    {"ou_current", APICAL_INPUT_OU_CURRENT,
     (const char *const[]){"mean", "sd", "tau", "dt", "start", "stop", NULL}},
};

static apical_status parse_input(ctx *c, size_t idx, const ynode *n)
{
    apical_input_spec *in = &c->spec->inputs[idx];
    const ynode *v, *type;
    const char *s = "";
    char where[64], fallback[32];
    apical_status st;
    const bounds nonneg = {0.0, HUGE_VAL, 0}, positive = {0.0, HUGE_VAL, 1};
    const bounds any = {-HUGE_VAL, HUGE_VAL, 0};
    snprintf(where, sizeof where, "input %zu", idx + 1);
    if ((st = need_kind(c, n, Y_MAP, where)) != APICAL_OK)
        return st;
    in->pos = pos_of(c, n);
    in->stop = HUGE_VAL;
    if ((st = require(c, n, "type", where, &type)) != APICAL_OK ||
        (st = get_string(c, type, "type", &s)) != APICAL_OK)
        return st;
    const struct input_type *it = NULL;
    for (size_t k = 0; k < sizeof input_types / sizeof input_types[0]; k++)
        if (strcmp(s, input_types[k].name) == 0)
            it = &input_types[k];
    if (!it) {
        char names[256] = "";
        for (size_t k = 0; k < sizeof input_types / sizeof input_types[0]; k++) {
            strncat(names, k ? ", " : "", sizeof names - strlen(names) - 1);
            strncat(names, input_types[k].name, sizeof names - strlen(names) - 1);
        }
        return fail(c, type, APICAL_E_UNKNOWN_NAME, "unknown input type '%s'; valid types: %s",
                    s, names);
    }
    in->kind = it->kind;
    const char *keys[16] = {"name", "type", "target", "nodes"};
    size_t nk = 4;
    for (const char *const *k = it->keys; *k && nk < 15; k++)
        keys[nk++] = *k;
    keys[nk] = NULL;
    snprintf(where, sizeof where, "%s input %zu", s, idx + 1);
    if ((st = check_keys(c, n, keys, where)) != APICAL_OK)
        return st;
    snprintf(fallback, sizeof fallback, "input%zu", idx);
    if ((st = get_item_name(c, n, fallback, "input", &in->name)) != APICAL_OK)
        return st;
    for (size_t j = 0; j < idx; j++)
        if (strcmp(c->spec->inputs[j].name, in->name) == 0)
            return name_taken(c, n, "input", in->name, c->spec->inputs[j].pos.line);
    if ((st = require(c, n, "target", where, &v)) != APICAL_OK ||
        (st = get_pop_ref(c, v, "target", &in->target)) != APICAL_OK)
        return st;
    const apical_pop_spec *tgt = &c->spec->pops[in->target];
    if (apical_input_is_current(in->kind) &&
        (strcmp(tgt->stepper, "exact") == 0 || strcmp(tgt->stepper, "sweep") == 0))
        return fail(c, map_get(n, "target"), APICAL_E_INVALID,
                    "population '%s' uses stepper '%s', which integrates synaptic inputs "
                    "only; a current device needs a GSL stepper such as rkf45",
                    tgt->name, tgt->stepper);
    if ((v = map_get(n, "nodes")) != NULL &&
        (st = get_nodes(c, v, tgt, &in->nodes, &in->n_nodes)) != APICAL_OK)
        return st;
    if (!apical_input_is_current(in->kind)) {
        if ((st = require(c, n, "receptor", where, &v)) != APICAL_OK ||
            (st = get_receptor(c, v, tgt->model, &in->receptor)) != APICAL_OK)
            return st;
        if ((st = require(c, n, "weight", where, &v)) != APICAL_OK ||
            (st = get_bounded(c, v, tgt->model->weight_unit, "weight", weight_bounds(tgt->model),
                              &in->weight)) != APICAL_OK)
            return st;
    }
    switch (in->kind) {
    case APICAL_INPUT_POISSON:
        if ((st = require(c, n, "rate", where, &v)) != APICAL_OK ||
            (st = get_bounded(c, v, "Hz", "rate", nonneg, &in->rate)) != APICAL_OK)
            return st;
        return get_start_stop(c, n, in);
    case APICAL_INPUT_SPIKE_TIMES:
        if ((st = require(c, n, "times", where, &v)) != APICAL_OK)
            return st;
        return get_quantity_list(c, v, "ms", "spike times", "a spike time", nonneg, 1, &in->times,
                                 &in->n_times);
    case APICAL_INPUT_INHOM_POISSON:
    case APICAL_INPUT_STEP_CURRENT: {
        const int rates = in->kind == APICAL_INPUT_INHOM_POISSON;
        const char *vkey = rates ? "rates" : "amplitudes";
        const ynode *vv;
        size_t nv = 0;
        if ((st = require(c, n, "times", where, &v)) != APICAL_OK ||
            (st = require(c, n, vkey, where, &vv)) != APICAL_OK ||
            (st = get_quantity_list(c, v, "ms", "times", "a time", nonneg, 1, &in->times,
                                    &in->n_times)) != APICAL_OK ||
            (st = get_quantity_list(c, vv, rates ? "Hz" : "pA", vkey, rates ? "a rate" : "an amplitude",
                                    rates ? nonneg : any, 0, &in->values, &nv)) != APICAL_OK)
            return st;
        if (nv != in->n_times || nv == 0)
            return fail(c, vv, APICAL_E_RANGE, "%s needs one value per entry of times (%zu), got %zu",
                        vkey, in->n_times, nv);
        if (rates && (v = map_get(n, "stop")) != NULL &&
            (st = get_bounded(c, v, "ms", "stop", positive, &in->stop)) != APICAL_OK)
            return st;
        return APICAL_OK;
    }
    case APICAL_INPUT_DC:
        if ((st = require(c, n, "amplitude", where, &v)) != APICAL_OK ||
            (st = get_bounded(c, v, "pA", "amplitude", any, &in->amplitude)) != APICAL_OK)
            return st;
        return get_start_stop(c, n, in);
    case APICAL_INPUT_SINUSOIDAL:
        if ((st = require(c, n, "amplitude", where, &v)) != APICAL_OK ||
            (st = get_bounded(c, v, "pA", "amplitude", any, &in->amplitude)) != APICAL_OK ||
            (st = require(c, n, "frequency", where, &v)) != APICAL_OK ||
            (st = get_bounded(c, v, "Hz", "frequency", nonneg, &in->frequency)) != APICAL_OK)
            return st;
        if ((v = map_get(n, "phase")) != NULL) {
            double deg;
            if ((st = get_bounded(c, v, "1", "phase (degrees)", any, &deg)) != APICAL_OK)
                return st;
            in->phase = deg * M_PI / 180.0;
        }
        if ((v = map_get(n, "offset")) != NULL &&
            (st = get_bounded(c, v, "pA", "offset", any, &in->offset)) != APICAL_OK)
            return st;
        return get_start_stop(c, n, in);
    case APICAL_INPUT_OU_CURRENT:
        if ((st = require(c, n, "mean", where, &v)) != APICAL_OK ||
            (st = get_bounded(c, v, "pA", "mean", any, &in->mean)) != APICAL_OK ||
            (st = require(c, n, "sd", where, &v)) != APICAL_OK ||
            (st = get_bounded(c, v, "pA", "sd", nonneg, &in->sd)) != APICAL_OK ||
            (st = require(c, n, "tau", where, &v)) != APICAL_OK ||
            (st = get_bounded(c, v, "ms", "tau", positive, &in->tau)) != APICAL_OK ||
            (st = require(c, n, "dt", where, &v)) != APICAL_OK ||
            (st = get_bounded(c, v, "ms", "dt", positive, &in->dt)) != APICAL_OK)
            return st;
        return get_start_stop(c, n, in);
    }
    return APICAL_OK;
}

static apical_status parse_recorder(ctx *c, size_t idx, const ynode *n)
{
    static const char *const spikes_keys[] = {"name", "type", "population", "nodes", NULL};
    static const char *const state_keys[] = {"name",      "type",     "population", "nodes",
                                             "variables", "interval", NULL};
    static const char *const weights_keys[] = {"name", "type", "projection", "interval", "sample",
                                               NULL};
    apical_recorder_spec *rec = &c->spec->recorders[idx];
    const ynode *v, *type;
    const char *s = "";
    char where[64], fallback[32], list[700];
    apical_status st;
    snprintf(where, sizeof where, "recorder %zu", idx + 1);
    if ((st = need_kind(c, n, Y_MAP, where)) != APICAL_OK)
        return st;
    rec->pos = pos_of(c, n);
    if ((st = require(c, n, "type", where, &type)) != APICAL_OK ||
        (st = get_string(c, type, "type", &s)) != APICAL_OK)
        return st;
    if (strcmp(s, "spikes") == 0)
        rec->kind = APICAL_REC_SPIKES;
    else if (strcmp(s, "state") == 0)
        rec->kind = APICAL_REC_STATE;
    else if (strcmp(s, "weights") == 0)
        rec->kind = APICAL_REC_WEIGHTS;
    else
        return fail(c, type, APICAL_E_UNKNOWN_NAME,
                    "unknown recorder type '%s'; valid types: spikes, state, weights", s);
    snprintf(where, sizeof where, "%s recorder %zu", s, idx + 1);
    if ((st = check_keys(c, n, rec->kind == APICAL_REC_SPIKES ? spikes_keys
                               : rec->kind == APICAL_REC_STATE ? state_keys : weights_keys,
                         where)) != APICAL_OK)
        return st;
    snprintf(fallback, sizeof fallback, "%s%zu", s, idx);
    if ((st = get_item_name(c, n, fallback, "recorder", &rec->name)) != APICAL_OK)
        return st;
    for (size_t j = 0; j < idx; j++)
        if (strcmp(c->spec->recorders[j].name, rec->name) == 0)
            return name_taken(c, n, "recorder", rec->name, c->spec->recorders[j].pos.line);
    if (rec->kind == APICAL_REC_WEIGHTS) {
        const char *pname = "";
        if ((st = require(c, n, "projection", where, &v)) != APICAL_OK ||
            (st = get_string(c, v, "projection", &pname)) != APICAL_OK)
            return st;
        rec->proj = (size_t)-1;
        for (size_t j = 0; j < c->spec->n_projs; j++)
            if (strcmp(c->spec->projs[j].name, pname) == 0)
                rec->proj = j;
        if (rec->proj == (size_t)-1) {
            char names[700] = "";
            for (size_t j = 0; j < c->spec->n_projs; j++) {
                strncat(names, j ? ", " : "", sizeof names - strlen(names) - 1);
                strncat(names, c->spec->projs[j].name, sizeof names - strlen(names) - 1);
            }
            return fail(c, v, APICAL_E_REFERENCE, "projection '%s' is not defined; defined: %s",
                        pname, c->spec->n_projs ? names : "(none)");
        }
        rec->pop = c->spec->projs[rec->proj].target;
        if ((v = map_get(n, "sample")) != NULL &&
            (st = get_uint(c, v, "sample", 1, UINT64_MAX, &rec->sample)) != APICAL_OK)
            return st;
        if ((st = require(c, n, "interval", where, &v)) != APICAL_OK ||
            (st = get_bounded(c, v, "ms", "interval", (bounds){0.0, HUGE_VAL, 1},
                              &rec->interval)) != APICAL_OK)
            return st;
        return APICAL_OK;
    }
    if ((st = require(c, n, "population", where, &v)) != APICAL_OK ||
        (st = get_pop_ref(c, v, "population", &rec->pop)) != APICAL_OK)
        return st;
    const apical_pop_spec *pop = &c->spec->pops[rec->pop];
    if ((v = map_get(n, "nodes")) != NULL &&
        (st = get_nodes(c, v, pop, &rec->nodes, &rec->n_nodes)) != APICAL_OK)
        return st;
    if (rec->kind == APICAL_REC_SPIKES)
        return APICAL_OK;
    const apical_model_type *m = pop->model;
    if ((st = require(c, n, "variables", where, &v)) != APICAL_OK ||
        (st = need_kind(c, v, Y_SEQ, "variables")) != APICAL_OK)
        return st;
    if (v->n_kids == 0)
        return fail(c, v, APICAL_E_INVALID, "variables is empty; name at least one of %s's "
                    "state variables", m->name);
    if (!(rec->vars = malloc(v->n_kids * sizeof *rec->vars)))
        return oom(c);
    for (size_t i = 0; i < v->n_kids; i++) {
        const ynode *it = v->kids[i];
        if ((st = get_string(c, it, "a state variable", &s)) != APICAL_OK)
            return st;
        size_t k = apical_field_index(m->state, m->n_state, s);
        if (k == (size_t)-1) {
            join_fields(m->state, m->n_state, list, sizeof list);
            return fail(c, it, APICAL_E_UNKNOWN_NAME,
                        "model '%s' has no state variable '%s'; its state variables: %s",
                        m->name, s, list);
        }
        for (size_t j = 0; j < i; j++)
            if (rec->vars[j] == k)
                return fail(c, it, APICAL_E_INVALID, "state variable '%s' is listed twice", s);
        rec->vars[i] = k;
        rec->n_vars = i + 1;
    }
    if ((st = require(c, n, "interval", where, &v)) != APICAL_OK ||
        (st = get_bounded(c, v, "ms", "interval", (bounds){0.0, HUGE_VAL, 1}, &rec->interval)) !=
            APICAL_OK)
        return st;
    return APICAL_OK;
}

/* Lists of items: allocate, then let each parser fill its slot. The count
 * grows before each item is parsed so a failing item is still freed. */
static apical_status parse_list(ctx *c, const ynode *n, const char *what, void **arr,
                                size_t *count, size_t elem,
                                apical_status (*one)(ctx *, size_t, const ynode *))
{
    apical_status st;
    if (n->is_null)
        return APICAL_OK;
    if (n->kind != Y_SEQ) {
        char b[80];
        return fail(c, n, APICAL_E_TYPE, "%s must be a list (items start with '- '), got %s",
                    what, describe(n, b, sizeof b));
    }
    if (n->n_kids == 0)
        return APICAL_OK;
    if (!(*arr = calloc(n->n_kids, elem)))
        return oom(c);
    for (size_t i = 0; i < n->n_kids; i++) {
        *count = i + 1;
        if ((st = one(c, i, n->kids[i])) != APICAL_OK)
            return st;
    }
    return APICAL_OK;
}

/* A phase: {duration: 50 ms, wald: {mean: 2 ms, shape: 1 ms}}. */
static apical_status parse_phase(ctx *c, const ynode *n, const char *what, apical_phase_spec *ph)
{
    static const char *const keys[] = {"duration", "wald", NULL};
    static const char *const wald_keys[] = {"mean", "shape", NULL};
    const ynode *v, *w;
    apical_status st;
    if ((st = need_kind(c, n, Y_MAP, what)) != APICAL_OK ||
        (st = check_keys(c, n, keys, what)) != APICAL_OK ||
        (st = require(c, n, "duration", what, &v)) != APICAL_OK ||
        (st = get_bounded(c, v, "ms", "duration", (bounds){0.0, HUGE_VAL, 1}, &ph->duration)) !=
            APICAL_OK)
        return st;
    if ((w = map_get(n, "wald")) != NULL) {
        if ((st = need_kind(c, w, Y_MAP, "wald")) != APICAL_OK ||
            (st = check_keys(c, w, wald_keys, "wald")) != APICAL_OK ||
            (st = require(c, w, "mean", "wald", &v)) != APICAL_OK ||
            (st = get_bounded(c, v, "ms", "wald mean", (bounds){0.0, HUGE_VAL, 1},
                              &ph->wald_mean)) != APICAL_OK ||
            (st = require(c, w, "shape", "wald", &v)) != APICAL_OK ||
            (st = get_bounded(c, v, "ms", "wald shape", (bounds){0.0, HUGE_VAL, 1},
                              &ph->wald_shape)) != APICAL_OK)
            return st;
    }
    return APICAL_OK;
}

/* One value per hidden neuron: a number (all equal) or a list of n. With
 * `plateau`, values are plateaus in (0, 1) and become apical drives
 * through the logit (the apical voltage equals its drive when no apical
 * input arrives). */
static apical_status get_per_neuron(ctx *c, const ynode *n, uint64_t count, int plateau,
                                    const char *what, double **out)
{
    apical_status st;
    const bounds bd = {-HUGE_VAL, HUGE_VAL, 0};
    if (!(*out = malloc((count + 1) * sizeof **out)))
        return oom(c);
    if (n->kind == Y_SEQ && n->n_kids != count)
        return fail(c, n, APICAL_E_RANGE, "%s needs one value per hidden neuron (%llu), got %zu",
                    what, (unsigned long long)count, n->n_kids);
    for (uint64_t i = 0; i < count; i++) {
        const ynode *v = n->kind == Y_SEQ ? n->kids[i] : n;
        double x;
        if ((st = get_bounded(c, v, "1", what, bd, &x)) != APICAL_OK)
            return st;
        if (plateau && !(x > 0.0 && x < 1.0))
            return fail(c, v, APICAL_E_RANGE, "%s must be in (0, 1), got %g", what, x);
        (*out)[i] = plateau ? log(x / (1.0 - x)) : x;
    }
    return APICAL_OK;
}

static apical_status need_model(ctx *c, const ynode *at, size_t pop, const char *model,
                                const char *role)
{
    const apical_pop_spec *p = &c->spec->pops[pop];
    if (strcmp(p->model->name, model) != 0)
        return fail(c, at, APICAL_E_INVALID, "the protocol's %s population must use model %s; "
                    "'%s' uses %s", role, model, p->name, p->model->name);
    return APICAL_OK;
}

/* Every label of an IDX set names an output neuron (a class): a larger one
 * would teach nothing and never be classified right. */
static apical_status check_labels(ctx *c, const ynode *at, const char *path,
                                  const apical_idx_set *set, const apical_protocol_spec *p)
{
    if (p->output == (size_t)-1)
        return APICAL_OK;
    const apical_pop_spec *out = &c->spec->pops[p->output];
    for (size_t k = 0; k < set->n; k++)
        if (set->labels[k] >= out->size)
            return fail(c, at, APICAL_E_RANGE,
                        "%s: label %u of item %zu is not a neuron of the output population "
                        "'%s' (%llu neurons, one per class)",
                        path, set->labels[k], k, out->name, (unsigned long long)out->size);
    return APICAL_OK;
}

/* stimulus: {input: NAME, images: PATH, labels: PATH, max_rate: 200 Hz,
 * first: 0, limit: 0}: IDX images shown one per example through a Poisson
 * input over a population with one neuron per pixel. */
static apical_status parse_stimulus(ctx *c, const ynode *n, apical_protocol_spec *p)
{
    static const char *const keys[] = {"input", "images", "labels", "max_rate", "first", "limit",
                                       "shuffle", NULL};
    const ynode *v, *vi, *vl;
    const char *name = "", *ipath = "", *lpath = "";
    apical_status st;
    if ((st = need_kind(c, n, Y_MAP, "stimulus")) != APICAL_OK ||
        (st = check_keys(c, n, keys, "stimulus")) != APICAL_OK ||
        (st = require(c, n, "input", "stimulus", &v)) != APICAL_OK ||
        (st = get_string(c, v, "input", &name)) != APICAL_OK)
        return st;
    for (size_t j = 0; j < c->spec->n_inputs; j++)
        if (strcmp(c->spec->inputs[j].name, name) == 0)
            p->stim_input = j;
    if (p->stim_input == (size_t)-1)
        return fail(c, v, APICAL_E_REFERENCE, "input '%s' is not defined", name);
    const apical_input_spec *in = &c->spec->inputs[p->stim_input];
    if (in->kind != APICAL_INPUT_POISSON || in->nodes)
        return fail(c, v, APICAL_E_INVALID, "the stimulus input '%s' must be a poisson input "
                    "to a whole population", name);
    if ((st = require(c, n, "images", "stimulus", &vi)) != APICAL_OK ||
        (st = get_string(c, vi, "images", &ipath)) != APICAL_OK ||
        (st = require(c, n, "labels", "stimulus", &vl)) != APICAL_OK ||
        (st = get_string(c, vl, "labels", &lpath)) != APICAL_OK)
        return st;
    p->stim_max_rate = 200.0;
    if ((v = map_get(n, "max_rate")) != NULL &&
        (st = get_bounded(c, v, "Hz", "max_rate", (bounds){0.0, HUGE_VAL, 0},
                          &p->stim_max_rate)) != APICAL_OK)
        return st;
    uint64_t limit = 0;
    if ((v = map_get(n, "first")) != NULL &&
        (st = get_uint(c, v, "first", 0, UINT64_MAX, &p->stim_first)) != APICAL_OK)
        return st;
    if ((v = map_get(n, "limit")) != NULL &&
        (st = get_uint(c, v, "limit", 1, UINT64_MAX, &limit)) != APICAL_OK)
        return st;
    if ((v = map_get(n, "shuffle")) != NULL &&
        (st = get_bool(c, v, "shuffle", &p->stim_shuffle)) != APICAL_OK)
        return st;
    char *ip = resolve_path(c->spec->path, ipath), *lp = resolve_path(c->spec->path, lpath);
    if (!ip || !lp || !(p->images = calloc(1, sizeof *p->images))) {
        free(ip), free(lp);
        return oom(c);
    }
    apical_error e2;
    st = apical_idx_load(ip, lp, (size_t)limit, p->images, &e2);
    if (st) {
        const ynode *at = e2.pos.file && !strcmp(e2.pos.file, lp) ? vl : vi;
        st = fail(c, at, st, "%s: %s%s", e2.pos.file ? e2.pos.file : ip, e2.msg,
                  st == APICAL_E_IO ? " (make mnist fetches the MNIST files)" : "");
    } else if (p->images->rows * p->images->cols != c->spec->pops[in->target].size) {
        st = fail(c, vi, APICAL_E_RANGE, "images have %zu pixels but population '%s' has %llu "
                  "neurons; the stimulus needs one neuron per pixel",
                  p->images->rows * p->images->cols, c->spec->pops[in->target].name,
                  (unsigned long long)c->spec->pops[in->target].size);
    } else {
        st = check_labels(c, vl, lp, p->images, p);
    }
    free(ip);
    free(lp);
    return st;
}

/* test: {examples, duration: 250 ms, window: 220 ms, images?, labels?,
 * first: 0}: forward-only presentations after training, classified by the
 * output's mean somatic voltage (needs output and stimulus). */
static apical_status parse_test(ctx *c, const ynode *n, apical_protocol_spec *p)
{
    static const char *const keys[] = {"examples", "duration", "window", "images", "labels",
                                       "first", NULL};
    const ynode *v, *vi = NULL, *vl = NULL;
    apical_status st;
    if ((st = need_kind(c, n, Y_MAP, "test")) != APICAL_OK ||
        (st = check_keys(c, n, keys, "test")) != APICAL_OK)
        return st;
    if (p->output == (size_t)-1 || p->stim_input == (size_t)-1)
        return fail(c, n, APICAL_E_INVALID, "test needs an 'output' population and a 'stimulus'");
    p->test_duration = 250.0;
    p->test_window = 220.0;
    if ((st = require(c, n, "examples", "test", &v)) != APICAL_OK ||
        (st = get_uint(c, v, "examples", 1, UINT64_MAX, &p->test_examples)) != APICAL_OK)
        return st;
    if ((v = map_get(n, "duration")) != NULL &&
        (st = get_bounded(c, v, "ms", "duration", (bounds){0.0, HUGE_VAL, 1},
                          &p->test_duration)) != APICAL_OK)
        return st;
    if ((v = map_get(n, "window")) != NULL &&
        (st = get_bounded(c, v, "ms", "window", (bounds){0.0, HUGE_VAL, 1}, &p->test_window)) !=
            APICAL_OK)
        return st;
    if (!(p->test_window <= p->test_duration))
        return fail(c, v, APICAL_E_RANGE, "window (%g ms) must not exceed duration (%g ms)",
                    p->test_window, p->test_duration);
    if ((v = map_get(n, "first")) != NULL &&
        (st = get_uint(c, v, "first", 0, UINT64_MAX, &p->test_first)) != APICAL_OK)
        return st;
    vi = map_get(n, "images");
    vl = map_get(n, "labels");
    if (!vi != !vl)
        return fail(c, vi ? vi : vl, APICAL_E_MISSING_KEY,
                    "test needs both 'images' and 'labels', or neither (the training set)");
    if (!vi)
        return APICAL_OK;
    const char *ipath = "", *lpath = "";
    if ((st = get_string(c, vi, "images", &ipath)) != APICAL_OK ||
        (st = get_string(c, vl, "labels", &lpath)) != APICAL_OK)
        return st;
    char *ip = resolve_path(c->spec->path, ipath), *lp = resolve_path(c->spec->path, lpath);
    if (!ip || !lp || !(p->test_images = calloc(1, sizeof *p->test_images))) {
        free(ip), free(lp);
        return oom(c);
    }
    apical_error e2;
    st = apical_idx_load(ip, lp, 0, p->test_images, &e2);
    if (st) {
        const ynode *at = e2.pos.file && !strcmp(e2.pos.file, lp) ? vl : vi;
        st = fail(c, at, st, "%s: %s%s", e2.pos.file ? e2.pos.file : ip, e2.msg,
                  st == APICAL_E_IO ? " (make mnist fetches the MNIST files)" : "");
    } else if (p->test_images->rows * p->test_images->cols !=
               p->images->rows * p->images->cols) {
        st = fail(c, vi, APICAL_E_RANGE, "test images have %zu pixels, training images %zu",
                  p->test_images->rows * p->test_images->cols,
                  p->images->rows * p->images->cols);
    } else {
        st = check_labels(c, vl, lp, p->test_images, p);
    }
    free(ip);
    free(lp);
    return st;
}

static size_t proj_named(const ctx *c, const char *name)
{
    for (size_t j = 0; j < c->spec->n_projs; j++)
        if (strcmp(c->spec->projs[j].name, name) == 0)
            return j;
    return (size_t)-1;
}

/* feedback: {projection: Y, symmetric_to: W}: keep Y = W^T (both
 * all_to_all, Y from W's target population to W's source population).
 * feedback: {projection: Y, learned_from: W, decay: D}: Y learns with W's
 * updates transposed, both decaying by 1 - D per example (Kolen-Pollack). */
static apical_status parse_feedback(ctx *c, const ynode *n, apical_protocol_spec *p)
{
    static const char *const keys[] = {"projection", "symmetric_to", "learned_from", "decay",
                                       NULL};
    const ynode *vy, *vw, *vd;
    const char *ny = "", *nw = "";
    apical_status st;
    if ((st = need_kind(c, n, Y_MAP, "feedback")) != APICAL_OK ||
        (st = check_keys(c, n, keys, "feedback")) != APICAL_OK ||
        (st = require(c, n, "projection", "feedback", &vy)) != APICAL_OK ||
        (st = get_string(c, vy, "projection", &ny)) != APICAL_OK)
        return st;
    const ynode *vs = map_get(n, "symmetric_to"), *vl = map_get(n, "learned_from");
    if (!vs == !vl)
        return fail(c, n, vs ? APICAL_E_INVALID : APICAL_E_MISSING_KEY,
                    "feedback needs exactly one of 'symmetric_to' (Y = W^T) and 'learned_from' "
                    "(Y learns with W's updates)");
    vd = map_get(n, "decay");
    if (vd && vs)
        return fail(c, vd, APICAL_E_INVALID, "'decay' applies to 'learned_from' feedback only");
    vw = vs ? vs : vl;
    p->fb_learned = vl != NULL;
    if ((st = get_string(c, vw, vs ? "symmetric_to" : "learned_from", &nw)) != APICAL_OK)
        return st;
    if (vd && (st = get_bounded(c, vd, "1", "decay", (bounds){0.0, 1.0, 0}, &p->fb_decay)) !=
                  APICAL_OK)
        return st;
    if ((p->fb_proj = proj_named(c, ny)) == (size_t)-1)
        return fail(c, vy, APICAL_E_REFERENCE, "projection '%s' is not defined", ny);
    if ((p->fb_of = proj_named(c, nw)) == (size_t)-1)
        return fail(c, vw, APICAL_E_REFERENCE, "projection '%s' is not defined", nw);
    const apical_proj_spec *y = &c->spec->projs[p->fb_proj], *w = &c->spec->projs[p->fb_of];
    if (y->conn != APICAL_CONN_ALL_TO_ALL || w->conn != APICAL_CONN_ALL_TO_ALL ||
        y->source != w->target || y->target != w->source)
        return fail(c, vy, APICAL_E_INVALID, "%s feedback needs '%s' and '%s' all_to_all "
                    "and in opposite directions between the same populations",
                    p->fb_learned ? "learned" : "symmetric", ny, nw);
    return APICAL_OK;
}

static apical_status parse_protocol(ctx *c, const ynode *n)
{
    static const char *const keys[] = {"type",    "hidden",  "output",       "examples",
                                       "forward", "target",  "settle",       "labels",
                                       "apical_drive", "plateau", "learning", "stimulus",
                                       "feedback", "test", NULL};
    static const char *const drive_keys[] = {"forward", "target", NULL};
    static const char *const learn_keys[] = {"projection", "eta", NULL};
    const ynode *v;
    const char *s = "";
    apical_status st;
    if ((st = need_kind(c, n, Y_MAP, "protocol")) != APICAL_OK ||
        (st = check_keys(c, n, keys, "protocol")) != APICAL_OK)
        return st;
    apical_protocol_spec *p = calloc(1, sizeof *p);
    if (!p)
        return oom(c);
    c->spec->protocol = p;
    p->pos = pos_of(c, n);
    p->hidden = p->output = p->stim_input = p->fb_proj = p->fb_of = (size_t)-1;
    p->examples = 1;
    p->settle = 0.0;
    if ((v = map_get(n, "type")) != NULL) {
        if ((st = get_string(c, v, "type", &s)) != APICAL_OK)
            return st;
        if (strcmp(s, "segregated_dendrites") != 0)
            return fail(c, v, APICAL_E_UNKNOWN_NAME,
                        "unknown protocol type '%s'; valid types: segregated_dendrites", s);
    }
    if ((v = map_get(n, "hidden")) != NULL &&
        ((st = get_pop_ref(c, v, "hidden", &p->hidden)) != APICAL_OK ||
         (st = need_model(c, v, p->hidden, "dendritic_hidden", "hidden")) != APICAL_OK))
        return st;
    if ((v = map_get(n, "output")) != NULL &&
        ((st = get_pop_ref(c, v, "output", &p->output)) != APICAL_OK ||
         (st = need_model(c, v, p->output, "dendritic_output", "output")) != APICAL_OK))
        return st;
    if (p->hidden == (size_t)-1 && p->output == (size_t)-1)
        return fail(c, n, APICAL_E_MISSING_KEY, "the protocol needs a 'hidden' or an 'output' "
                    "population");
    if ((v = map_get(n, "examples")) != NULL &&
        (st = get_uint(c, v, "examples", 0, UINT64_MAX, &p->examples)) != APICAL_OK)
        return st;
    if ((st = require(c, n, "forward", "protocol", &v)) != APICAL_OK ||
        (st = parse_phase(c, v, "forward", &p->forward)) != APICAL_OK ||
        (st = require(c, n, "target", "protocol", &v)) != APICAL_OK ||
        (st = parse_phase(c, v, "target", &p->target)) != APICAL_OK)
        return st;
    if ((v = map_get(n, "settle")) != NULL &&
        (st = get_bounded(c, v, "ms", "settle", (bounds){0.0, HUGE_VAL, 0}, &p->settle)) !=
            APICAL_OK)
        return st;
    if (!(p->settle < p->forward.duration && p->settle < p->target.duration))
        return fail(c, v ? v : n, APICAL_E_RANGE,
                    "settle (%g ms) must be shorter than both phases (%g ms, %g ms)", p->settle,
                    p->forward.duration, p->target.duration);
    if ((v = map_get(n, "labels")) != NULL) {
        if (p->output == (size_t)-1)
            return fail(c, v, APICAL_E_INVALID, "labels need an 'output' population to teach");
        if ((st = need_kind(c, v, Y_SEQ, "labels")) != APICAL_OK)
            return st;
        if (!v->n_kids)
            return fail(c, v, APICAL_E_INVALID, "labels is empty");
        if (!(p->labels = malloc(v->n_kids * sizeof *p->labels)))
            return oom(c);
        for (size_t i = 0; i < v->n_kids; i++) {
            if ((st = get_uint(c, v->kids[i], "a label", 0, c->spec->pops[p->output].size - 1,
                               &p->labels[i])) != APICAL_OK)
                return st;
            p->n_labels = i + 1;
        }
    }
    const ynode *drive = map_get(n, "apical_drive"), *plat = map_get(n, "plateau");
    if (drive && plat)
        return fail(c, plat, APICAL_E_INVALID, "give either 'apical_drive' or 'plateau', not both");
    if (drive || plat) {
        const ynode *d = drive ? drive : plat;
        const char *what = drive ? "apical_drive" : "plateau";
        if (p->hidden == (size_t)-1)
            return fail(c, d, APICAL_E_INVALID, "%s needs a 'hidden' population", what);
        if ((st = need_kind(c, d, Y_MAP, what)) != APICAL_OK ||
            (st = check_keys(c, d, drive_keys, what)) != APICAL_OK)
            return st;
        uint64_t nh = c->spec->pops[p->hidden].size;
        if ((v = map_get(d, "forward")) != NULL &&
            (st = get_per_neuron(c, v, nh, plat != NULL, what, &p->apical_forward)) != APICAL_OK)
            return st;
        if ((v = map_get(d, "target")) != NULL &&
            (st = get_per_neuron(c, v, nh, plat != NULL, what, &p->apical_target)) != APICAL_OK)
            return st;
    }
    if ((v = map_get(n, "stimulus")) != NULL && (st = parse_stimulus(c, v, p)) != APICAL_OK)
        return st;
    if ((v = map_get(n, "feedback")) != NULL && (st = parse_feedback(c, v, p)) != APICAL_OK)
        return st;
    if ((v = map_get(n, "test")) != NULL && (st = parse_test(c, v, p)) != APICAL_OK)
        return st;
    if ((v = map_get(n, "learning")) != NULL) {
        if ((st = need_kind(c, v, Y_SEQ, "learning")) != APICAL_OK)
            return st;
        if (!(p->learn = calloc(v->n_kids + 1, sizeof *p->learn)))
            return oom(c);
        for (size_t i = 0; i < v->n_kids; i++) {
            const ynode *it = v->kids[i], *f;
            apical_learn_spec *l = &p->learn[i];
            const char *pname = "";
            if ((st = need_kind(c, it, Y_MAP, "a learning entry")) != APICAL_OK ||
                (st = check_keys(c, it, learn_keys, "a learning entry")) != APICAL_OK ||
                (st = require(c, it, "projection", "a learning entry", &f)) != APICAL_OK ||
                (st = get_string(c, f, "projection", &pname)) != APICAL_OK)
                return st;
            l->pos = pos_of(c, it);
            l->proj = (size_t)-1;
            for (size_t j = 0; j < c->spec->n_projs; j++)
                if (strcmp(c->spec->projs[j].name, pname) == 0)
                    l->proj = j;
            if (l->proj == (size_t)-1)
                return fail(c, f, APICAL_E_REFERENCE, "projection '%s' is not defined", pname);
            for (size_t k = 0; k < i; k++)
                if (p->learn[k].proj == l->proj)
                    return fail(c, f, APICAL_E_INVALID, "projection '%s' is already learned "
                                "(line %d); each update would be applied twice", pname,
                                p->learn[k].pos.line);
            const apical_proj_spec *pj = &c->spec->projs[l->proj];
            if (pj->target != p->hidden && pj->target != p->output)
                return fail(c, f, APICAL_E_INVALID, "projection '%s' must target the protocol's "
                            "hidden or output population", pname);
            if (strcmp("basal", c->spec->pops[pj->target].model->receptors[pj->receptor]) != 0)
                return fail(c, f, APICAL_E_INVALID, "projection '%s' must use receptor 'basal': "
                            "the protocol learns basal weights", pname);
            if (pj->delay.kind != APICAL_DIST_CONSTANT)
                return fail(c, f, APICAL_E_INVALID, "projection '%s' needs a constant delay to "
                            "be learned by the protocol", pname);
            if (pj->rule)
                return fail(c, f, APICAL_E_INVALID, "projection '%s' already has a plasticity "
                            "rule", pname);
            /* A *_end copy removes each input's kernel tail with the weight
             * it was built with; learning would change one and not the
             * other, and the rule's PSP averages assume whole kernels. */
            for (size_t j = 0; j < c->spec->n_projs; j++) {
                const apical_proj_spec *q = &c->spec->projs[j];
                const char *rn = c->spec->pops[q->target].model->receptors[q->receptor];
                const size_t len = strlen(rn);
                if (j != l->proj && q->source == pj->source && q->target == pj->target &&
                    len > 4 && strcmp(rn + len - 4, "_end") == 0)
                    return fail(c, f, APICAL_E_INVALID,
                                "projection '%s' is truncated by '%s' (receptor %s); the "
                                "protocol learns whole kernels only: remove '%s' or do not "
                                "learn '%s'",
                                pname, q->name, rn, q->name, pname);
            }
            if ((st = require(c, it, "eta", "a learning entry", &f)) != APICAL_OK ||
                (st = get_bounded(c, f, "1", "eta", (bounds){0.0, HUGE_VAL, 0}, &l->eta)) !=
                    APICAL_OK)
                return st;
            p->n_learn = i + 1;
        }
    }
    if (p->fb_learned) {
        int learned = 0;
        for (size_t i = 0; i < p->n_learn; i++)
            learned |= p->learn[i].proj == p->fb_of;
        if (!learned)
            return fail(c, map_get(map_get(n, "feedback"), "learned_from"), APICAL_E_INVALID,
                        "feedback learned_from '%s' needs that projection under 'learning'",
                        c->spec->projs[p->fb_of].name);
    }
    return apical_spec_fit_protocol(c->spec, c->err);
}

static apical_status parse_root(ctx *c, const ynode *root)
{
    static const char *const keys[] = {"name",   "simulation", "populations", "projections",
                                       "inputs", "recorders",  "protocol",    NULL};
    apical_net_spec *spec = c->spec;
    const ynode *v;
    const char *s = "";
    apical_status st;
    if (!root || (root->kind == Y_SCALAR && root->is_null)) {
        static const ynode start = {.kind = Y_SCALAR, .line = 1, .col = 1};
        return fail(c, &start, APICAL_E_MISSING_KEY,
                    "the network file is empty; it needs at least 'simulation' and "
                    "'populations'");
    }
    if (root->kind != Y_MAP) {
        char b[80];
        return fail(c, root, APICAL_E_TYPE,
                    "a network file must be a mapping with keys such as 'simulation' and "
                    "'populations', got %s",
                    describe(root, b, sizeof b));
    }
    if ((st = check_keys(c, root, keys, "the network file")) != APICAL_OK)
        return st;
    if ((v = map_get(root, "name")) != NULL) {
        if ((st = get_string(c, v, "name", &s)) != APICAL_OK)
            return st;
        if (!(spec->name = strdup(s)))
            return oom(c);
    }
    c->has_protocol = map_get(root, "protocol") != NULL;
    if ((st = require(c, root, "simulation", "the network file", &v)) != APICAL_OK ||
        (st = parse_simulation(c, v)) != APICAL_OK)
        return st;
    if ((st = require(c, root, "populations", "the network file", &v)) != APICAL_OK ||
        (st = parse_populations(c, v)) != APICAL_OK)
        return st;
    if ((v = map_get(root, "projections")) != NULL &&
        (st = parse_list(c, v, "projections", (void **)&spec->projs, &spec->n_projs,
                         sizeof *spec->projs, parse_projection)) != APICAL_OK)
        return st;
    if ((v = map_get(root, "inputs")) != NULL &&
        (st = parse_list(c, v, "inputs", (void **)&spec->inputs, &spec->n_inputs,
                         sizeof *spec->inputs, parse_input)) != APICAL_OK)
        return st;
    if ((v = map_get(root, "recorders")) != NULL &&
        (st = parse_list(c, v, "recorders", (void **)&spec->recorders, &spec->n_recorders,
                         sizeof *spec->recorders, parse_recorder)) != APICAL_OK)
        return st;
    if ((v = map_get(root, "protocol")) != NULL && (st = parse_protocol(c, v)) != APICAL_OK)
        return st;
    return APICAL_OK;
}

/* ------------------------------------------------------------------------ */
/* Public API                                                                */

/* Takes ownership of text (len bytes plus a terminating NUL). */
static apical_status load_text(const char *path, char *text, size_t len, apical_net_spec **out,
                               apical_error *err)
{
    apical_status st;
    ydoc doc = {0};
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
    ctx c = {spec, err, NULL, 0};

    const char *nul = memchr(text, '\0', len);
    if (nul) {
        int line = 1, col = 1;
        for (const char *p = text; p < nul; p++, col++)
            if (*p == '\n')
                line++, col = 0;
        apical_srcpos pos = {spec->path, line, col};
        st = apical_error_set(err, APICAL_E_SYNTAX, &pos,
                              "the file contains a NUL byte; is it a binary file?");
        goto fail;
    }
    if ((st = yaml_build(spec->path, text, len, &doc, err)) != APICAL_OK)
        goto fail;
    if ((st = parse_root(&c, doc.root)) != APICAL_OK)
        goto fail;
    ydoc_free(&doc);
    *out = spec;
    return APICAL_OK;
fail:
    ydoc_free(&doc);
    apical_spec_free(spec);
    return st;
}

apical_status apical_spec_load_string(const char *name, const char *text,
                                      apical_net_spec **out, apical_error *err)
{
    if (!out || !text)
        return apical_error_set(err, APICAL_E_INVALID, NULL,
                                "apical_spec_load_string: NULL argument");
    *out = NULL;
    size_t len = strlen(text);
    char *copy = strndup_or_empty(text, len);
    if (!copy)
        return apical_error_set(err, APICAL_E_NOMEM, NULL, "out of memory");
    return load_text(name ? name : "<string>", copy, len, out, err);
}

apical_status apical_spec_load(const char *path, apical_net_spec **out, apical_error *err)
{
    if (!out || !path)
        return apical_error_set(err, APICAL_E_INVALID, NULL, "apical_spec_load: NULL argument");
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return apical_error_set(err, APICAL_E_IO, NULL, "cannot open network file '%s': %s",
                                path, strerror(errno));
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        char *nb = len + 1 >= cap ? grow(buf, &cap, len + 4097, 1) : buf;
        if (!nb) {
            free(buf);
            fclose(f);
            return apical_error_set(err, APICAL_E_NOMEM, NULL, "out of memory reading '%s'",
                                    path);
        }
        buf = nb;
        size_t got = fread(buf + len, 1, cap - len - 1, f);
        len += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        int e = errno;
        free(buf);
        fclose(f);
        return apical_error_set(err, APICAL_E_IO, NULL, "cannot read network file '%s': %s",
                                path, strerror(e));
    }
    fclose(f);
    buf[len] = '\0';
    return load_text(path, buf, len, out, err);
}

void apical_spec_free(apical_net_spec *spec)
{
    if (!spec)
        return;
    for (size_t i = 0; i < spec->n_pops; i++) {
        free(spec->pops[i].name);
        free(spec->pops[i].param);
        free(spec->pops[i].init);
        free(spec->pops[i].stepper);
    }
    free(spec->pops);
    for (size_t i = 0; i < spec->n_projs; i++) {
        free(spec->projs[i].name);
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
    apical_protocol_spec_free(spec->protocol);
    for (size_t i = 0; i < spec->n_recorders; i++) {
        free(spec->recorders[i].name);
        free(spec->recorders[i].nodes);
        free(spec->recorders[i].vars);
    }
    free(spec->recorders);
    free(spec->sim.stepper);
    free(spec->name);
    free(spec->text);
    free(spec->path);
    free(spec);
}

size_t apical_spec_pop_index(const apical_net_spec *spec, const char *name)
{
    if (!spec || !name)
        return (size_t)-1;
    for (size_t i = 0; i < spec->n_pops; i++)
        if (spec->pops[i].name && strcmp(spec->pops[i].name, name) == 0)
            return i;
    return (size_t)-1;
}
