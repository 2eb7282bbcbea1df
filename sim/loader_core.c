/* The loader's core (include/apical/loader.h): YAML text -> a tree of
 * positioned nodes, and the typed, unit- and bound-checked readers every
 * section parser uses.
 *
 * First the YAML event stream from libfyaml is turned into a small tree of
 * our own (apical_ynode) in which every node, collections included, keeps
 * its 1-based line and column: libfyaml 0.7 exposes positions only for
 * tokens, and its document API cannot say where a block mapping starts,
 * which is what "missing key" messages must point at. The tree builder also
 * rejects duplicate keys and undefined aliases, and libfyaml's own syntax
 * diagnostics are collected in a fy_diag instead of being printed.
 *
 * The readers report the first problem as one apical_error naming
 * file:line:col; nothing here prints. */
#include "apical/loader.h"
#include "loader_sections.h"

#include <errno.h>
#include <libfyaml.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apical/limits.h"
#include "apical/units.h"

/* ------------------------------------------------------------------------ */
/* YAML tree                                                                 */

typedef struct anchor {
    char *name;
    apical_ynode *node;
} anchor;

/* Aliases make the tree a DAG, so nodes are owned by this flat list rather
 * than by their parents. */
struct apical_ydoc {
    apical_ynode **all;
    size_t n_all, cap_all;
    anchor *anchors;
    size_t n_anchors, cap_anchors;
    apical_ynode *root;
};
typedef struct apical_ydoc ydoc;

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

static apical_ynode *ynode_new(ydoc *d, apical_ykind kind, const struct fy_mark *m)
{
    apical_ynode **all = grow(d->all, &d->cap_all, d->n_all + 1, sizeof *d->all);
    if (!all)
        return NULL;
    d->all = all;
    apical_ynode *n = calloc(1, sizeof *n);
    if (!n)
        return NULL;
    n->kind = kind;
    n->line = m ? m->line + 1 : 0;
    n->col = m ? m->column + 1 : 0;
    n->weight = 1;
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
/* Mappings up to this many keys are checked for duplicates key by key. */
#define DUP_LINEAR 64

typedef struct yparse {
    ydoc *doc;
    const char *path;
    const char *text; /* the whole input, len bytes */
    size_t len;
    apical_error *err;
    apical_ynode **stack;   /* open collections */
    char **pending;  /* their anchor names (or NULL), registered at the end */
    size_t depth, cap;
    int n_docs;
    int last_line, last_col; /* start of the last event that had a mark */
    size_t expanded;  /* nodes attached so far, aliases counted expanded */
    const volatile sig_atomic_t *stop; /* set by a signal handler: give up */
} yparse;

static apical_status yerr(yparse *p, int line, int col, apical_status code,
                          const char *fmt, ...) APICAL_PRINTF_LIKE(5, 6);

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
static apical_status add_anchor(yparse *p, char *name, apical_ynode *n)
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
static apical_status attach(yparse *p, apical_ynode *n)
{
    p->expanded++;
    if (p->depth == 0) {
        p->doc->root = n;
        return APICAL_OK;
    }
    apical_ynode *parent = p->stack[p->depth - 1];
    apical_ynode **kids = grow(parent->kids, &parent->cap_kids, parent->n_kids + 1, sizeof *kids);
    if (!kids)
        return nomem(p);
    parent->kids = kids;
    if (n->line == 0) {
        /* libfyaml gives empty scalars (an empty key, say) no mark. */
        n->line = parent->line;
        n->col = parent->col;
        n->guessed = 1;
    }
    if (parent->kind == APICAL_Y_MAP && parent->n_kids % 2 == 1) {
        apical_ynode *k = parent->kids[parent->n_kids - 1];
        if (k->guessed && !n->guessed && !(n->is_null && n->text[0] == '\0')) {
            k->line = n->line; /* an empty key: its value is the nearest place */
            k->col = n->col;
        }
    }
    if (parent->kind == APICAL_Y_MAP && parent->n_kids % 2 == 0) {
        if (n->kind != APICAL_Y_SCALAR)
            return yerr(p, n->line, n->col, APICAL_E_TYPE,
                        "a key must be a plain name, not a %s",
                        n->kind == APICAL_Y_MAP ? "mapping" : "list");
        /* YAML forbids duplicate keys; catching them here also means a
         * later lookup by name can never silently pick one of two. Keys
         * beyond the first DUP_LINEAR are checked when the mapping ends
         * (check_duplicates): a scan per key is quadratic, 20 s for the
         * 65536 populations a file may define. */
        for (size_t i = 0; i < parent->n_kids && parent->n_kids < 2 * DUP_LINEAR; i += 2) {
            const apical_ynode *k = parent->kids[i];
            if (strcmp(k->text, n->text) == 0)
                return yerr(p, n->line, n->col, APICAL_E_SYNTAX,
                            "duplicate key '%s' (first defined at line %d, column %d)",
                            n->text, k->line, k->col);
        }
    } else if (parent->kind == APICAL_Y_MAP && n->kind == APICAL_Y_SCALAR && n->is_null &&
               n->text[0] == '\0') {
        /* An empty value has no text to point at; its key is the place. */
        const apical_ynode *k = parent->kids[parent->n_kids - 1];
        n->line = k->line;
        n->col = k->col;
    }
    parent->kids[parent->n_kids++] = n;
    return APICAL_OK;
}

typedef struct key_at {
    const char *text;
    size_t i; /* index of the key in the mapping's kids */
} key_at;

static int cmp_key_at(const void *a, const void *b)
{
    const key_at *x = a, *y = b;
    int c = strcmp(x->text, y->text);
    return c ? c : (x->i > y->i) - (x->i < y->i);
}

/* The first duplicate key (in file order) of a large mapping. */
static apical_status check_duplicates(yparse *p, const apical_ynode *map)
{
    size_t n = map->n_kids / 2;
    if (map->kind != APICAL_Y_MAP || n <= DUP_LINEAR)
        return APICAL_OK;
    key_at *k = malloc(n * sizeof *k);
    if (!k)
        return nomem(p);
    for (size_t i = 0; i < n; i++)
        k[i] = (key_at){map->kids[2 * i]->text, 2 * i};
    qsort(k, n, sizeof *k, cmp_key_at);
    size_t first = 0, second = SIZE_MAX;
    /* in each run of equal keys, the second is the duplicate reported */
    for (size_t i = 1; i < n; i++)
        if (!strcmp(k[i].text, k[i - 1].text) && (i < 2 || strcmp(k[i - 1].text, k[i - 2].text)) &&
            k[i].i < second) {
            first = k[i - 1].i;
            second = k[i].i;
        }
    free(k);
    if (second == SIZE_MAX)
        return APICAL_OK;
    const apical_ynode *a = map->kids[first], *d = map->kids[second];
    return yerr(p, d->line, d->col, APICAL_E_SYNTAX,
                "duplicate key '%s' (first defined at line %d, column %d)", d->text, a->line,
                a->col);
}

/* The value of a single-quoted scalar whose content (between the quotes)
 * is s[0 .. n): '' is one quote, and line breaks fold as in every flow
 * scalar (white space around a break dropped; one break is a space, k > 1
 * breaks are k - 1 newlines). libfyaml 0.7's fy_token_get_text gets runs
 * of '' wrong and leaks its chunk buffer on them (fixed upstream after
 * 0.7.12), so these scalars are decoded here from the input. */
static char *single_quoted(const char *s, size_t n)
{
    char *out = malloc(n + 1), *o = out;
    if (!out)
        return NULL;
    for (size_t i = 0; i < n;) {
        if (s[i] == '\'') { /* only '' occurs inside */
            *o++ = '\'';
            i += 2;
        } else if (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
            size_t j = i, breaks = 0;
            while (j < n && (s[j] == ' ' || s[j] == '\t' || s[j] == '\n' || s[j] == '\r')) {
                if (s[j] == '\n' || (s[j] == '\r' && (j + 1 >= n || s[j + 1] != '\n')))
                    breaks++;
                j++;
            }
            if (breaks == 0)
                for (; i < j; i++)
                    *o++ = s[i];
            else if (breaks == 1)
                *o++ = ' ';
            else
                for (size_t b = 1; b < breaks; b++)
                    *o++ = '\n';
            i = j;
        } else {
            *o++ = s[i++];
        }
    }
    *o = '\0';
    return out;
}

/* A scalar's text, malloc'd; NULL only when out of memory. */
static char *scalar_text(const yparse *p, struct fy_token *tok)
{
    const struct fy_mark *a = tok ? fy_token_start_mark(tok) : NULL;
    const struct fy_mark *b = tok ? fy_token_end_mark(tok) : NULL;
    if (tok && fy_token_scalar_style(tok) == FYSS_SINGLE_QUOTED && a && b &&
        a->input_pos <= b->input_pos && b->input_pos <= p->len)
        return single_quoted(p->text + a->input_pos, b->input_pos - a->input_pos);
    size_t len = 0;
    const char *s = tok ? fy_token_get_text(tok, &len) : NULL;
    return strndup_or_empty(s ? s : "", s ? len : 0);
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
    apical_ynode *n;
    switch (e->type) {
    case FYET_DOCUMENT_START:
        if (++p->n_docs > 1)
            return yerr(p, line, col, APICAL_E_SYNTAX,
                        "a network file holds one YAML document, but a second one starts here");
        return APICAL_OK;
    case FYET_MAPPING_START:
    case FYET_SEQUENCE_START: {
        const int is_map = e->type == FYET_MAPPING_START;
        if (!(n = ynode_new(p->doc, is_map ? APICAL_Y_MAP : APICAL_Y_SEQ, m)))
            return nomem(p);
        if ((st = attach(p, n)) != APICAL_OK)
            return st;
        /* No network needs this; it keeps hostile input cheap. */
        if (p->depth >= MAX_DEPTH)
            return yerr(p, line, col, APICAL_E_SYNTAX,
                        "nested more than %d levels deep", MAX_DEPTH);
        if (p->depth == p->cap) {
            size_t cap = p->cap;
            apical_ynode **stack = grow(p->stack, &cap, p->depth + 1, sizeof *stack);
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
        /* before the pop, so a failure leaves the pending anchor to the
         * cleanup of the open collections */
        if ((st = check_duplicates(p, p->stack[p->depth - 1])) != APICAL_OK)
            return st;
        p->depth--;
        {
            apical_ynode *c = p->stack[p->depth];
            for (size_t i = 0; i < c->n_kids; i++)
                c->weight = c->weight > SIZE_MAX - c->kids[i]->weight ? SIZE_MAX
                                                                      : c->weight + c->kids[i]->weight;
        }
        /* Registered only now, so an alias inside its own anchor (a cycle)
         * is reported as undefined instead of making the tree cyclic. */
        st = add_anchor(p, p->pending[p->depth], p->stack[p->depth]);
        p->pending[p->depth] = NULL;
        return st;
    case FYET_SCALAR: {
        if (!(n = ynode_new(p->doc, APICAL_Y_SCALAR, m)))
            return nomem(p);
        if (!(n->text = scalar_text(p, e->scalar.value)))
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
            if (strlen(a->name) == len && memcmp(a->name, s, len) == 0) {
                /* Every section parser copies what an alias stands for:
                 * a file of aliases to aliases would make a spec
                 * exponentially larger than itself. */
                size_t own = p->doc->n_all, cap = APICAL_MAX_YAML_NODES;
                if (own > cap / APICAL_MAX_YAML_EXPANSION)
                    cap = own > SIZE_MAX / APICAL_MAX_YAML_EXPANSION ? SIZE_MAX
                                                                     : own * APICAL_MAX_YAML_EXPANSION;
                if (p->expanded > cap || a->node->weight > cap - p->expanded)
                    return yerr(p, line, col > 1 ? col - 1 : col, APICAL_E_RANGE,
                                "alias '*%.*s' expands the file past %zu YAML nodes (the "
                                "larger of %u and %u times the %zu nodes written out); write "
                                "the repeated part out or use fewer aliases",
                                (int)len, s, cap, APICAL_MAX_YAML_NODES,
                                APICAL_MAX_YAML_EXPANSION, own);
                p->expanded += a->node->weight - 1; /* attach counts one */
                return attach(p, a->node);
            }
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

static apical_status yaml_build(const char *path, const char *text, size_t len,
                                const volatile sig_atomic_t *stop, ydoc *doc, apical_error *err)
{
    yparse p = {.doc = doc, .path = path, .text = text, .len = len, .err = err, .stop = stop};
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
        st = stop && *stop ? apical_error_set(err, APICAL_E_INTERRUPTED, NULL,
                                              "interrupted while reading '%s'", path)
                           : handle_event(&p, e);
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

/* Line and column (1-based, in characters) of byte `at` of text, which is
 * valid UTF-8 before it. */
static void text_pos(const char *text, size_t at, int *line, int *col)
{
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < at; i++) {
        const unsigned char b = (unsigned char)text[i];
        if (b == '\n')
            ++*line, *col = 1;
        else if ((b & 0xC0) != 0x80)
            ++*col;
    }
}

/* Length of the well-formed UTF-8 sequence at s (at most n bytes), or 0:
 * no overlong forms, no surrogates, nothing above U+10FFFF (RFC 3629). */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    const unsigned b = s[0];
    if (b < 0x80)
        return 1;
    size_t len = b >= 0xC2 && b <= 0xDF ? 2 : b >= 0xE0 && b <= 0xEF ? 3
               : b >= 0xF0 && b <= 0xF4 ? 4 : 0;
    if (len == 0 || len > n)
        return 0;
    for (size_t i = 1; i < len; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    if ((b == 0xE0 && s[1] < 0xA0) || (b == 0xED && s[1] > 0x9F) || /* overlong, surrogate */
        (b == 0xF0 && s[1] < 0x90) || (b == 0xF4 && s[1] > 0x8F))   /* overlong, > U+10FFFF */
        return 0;
    return len;
}

/* libfyaml is handed only text it is known to handle: a NUL byte ends its
 * input early, and a byte that is not UTF-8 can make its scanner loop
 * forever ("%\xff": the directive scanner never advances). */
static apical_status check_text(const char *path, const char *text, size_t len,
                                apical_error *err)
{
    const unsigned char *s = (const unsigned char *)text;
    for (size_t i = 0; i < len;) {
        size_t k = s[i] ? utf8_seq(s + i, len - i) : 0;
        if (k) {
            i += k;
            continue;
        }
        int line, col;
        text_pos(text, i, &line, &col);
        apical_srcpos pos = {path, line, col};
        if (!s[i])
            return apical_error_set(err, APICAL_E_SYNTAX, &pos,
                                    "the file contains a NUL byte; is it a binary file?");
        return apical_error_set(err, APICAL_E_SYNTAX, &pos,
                                "byte 0x%02X is not valid UTF-8; a network file must be UTF-8 "
                                "text", s[i]);
    }
    return APICAL_OK;
}

apical_status apical_yaml_read(const char *path, const char *text, size_t len,
                               const volatile sig_atomic_t *stop, apical_ydoc **doc,
                               const apical_ynode **root, apical_error *err)
{
    *root = NULL;
    *doc = NULL;
    apical_status st = check_text(path, text, len, err);
    if (st != APICAL_OK)
        return st;
    if (!(*doc = calloc(1, sizeof **doc)))
        return apical_error_set(err, APICAL_E_NOMEM, NULL, "out of memory");
    st = yaml_build(path, text, len, stop, *doc, err);
    *root = (*doc)->root;
    return st;
}

void apical_ydoc_free(apical_ydoc *doc)
{
    if (!doc)
        return;
    ydoc_free(doc);
    free(doc);
}

/* ------------------------------------------------------------------------ */
/* Changing the tree (--set, sim/loader_set.c)                               */

apical_ynode *apical_ydoc_copy(apical_ydoc *doc, const apical_ynode *n)
{
    apical_ynode *c = ynode_new(doc, n->kind, NULL);
    if (!c)
        return NULL;
    *c = *n;
    c->kids = NULL;
    c->text = NULL;
    c->cap_kids = n->n_kids;
    if ((n->text && !(c->text = strdup(n->text))) ||
        (n->n_kids && !(c->kids = malloc(n->n_kids * sizeof *c->kids)))) {
        /* c is in doc->all: freed with the tree */
        return NULL;
    }
    if (n->n_kids)
        memcpy(c->kids, n->kids, n->n_kids * sizeof *c->kids);
    return c;
}

apical_ynode *apical_ydoc_scalar(apical_ydoc *doc, const char *text, int set_item)
{
    apical_ynode *n = ynode_new(doc, APICAL_Y_SCALAR, NULL);
    if (!n || !(n->text = strdup(text)))
        return NULL;
    n->set_item = set_item;
    return n;
}

int apical_ynode_append(apical_ynode *parent, apical_ynode *kid)
{
    apical_ynode **kids = grow(parent->kids, &parent->cap_kids, parent->n_kids + 1,
                               sizeof *kids);
    if (!kids)
        return -1;
    parent->kids = kids;
    parent->kids[parent->n_kids++] = kid;
    return 0;
}

apical_status apical_ydoc_value(apical_ydoc *doc, const char *text, int set_item,
                                const volatile sig_atomic_t *stop, apical_ynode **out,
                                apical_error *err)
{
    size_t len = strlen(text), first = doc->n_all;
    apical_ynode *root = doc->root;
    apical_status st = check_text("", text, len, err);
    if (st == APICAL_OK) {
        doc->root = NULL;
        st = yaml_build("", text, len, stop, doc, err);
        *out = doc->root;
        doc->root = root;
    }
    if (st != APICAL_OK)
        return st;
    if (!*out) { /* "--set a=": an empty value */
        if (!(*out = apical_ydoc_scalar(doc, "", set_item)))
            return apical_error_set(err, APICAL_E_NOMEM, NULL, "out of memory");
        (*out)->is_null = 1;
    }
    for (size_t i = first; i < doc->n_all; i++) {
        doc->all[i]->set_item = set_item;
        doc->all[i]->line = doc->all[i]->col = 0;
        doc->all[i]->guessed = 0;
    }
    return APICAL_OK;
}

apical_ynode *apical_ydoc_root(apical_ydoc *doc)
{
    return doc->root;
}

void apical_ydoc_set_root(apical_ydoc *doc, apical_ynode *root)
{
    doc->root = root;
}

/* ------------------------------------------------------------------------ */
/* Reading the tree                                                          */

apical_status apical_ld_fail(apical_ld *c, const apical_ynode *n, apical_status code, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (n && n->set_item > 0 && (size_t)n->set_item <= c->n_sets)
        return apical_error_set(c->err, code, NULL, "--set '%s': %s", c->sets[n->set_item - 1],
                                msg);
    apical_srcpos pos = {c->spec->path, n ? n->line : 0, n ? n->col : 0};
    return apical_error_set(c->err, code, &pos, "%s", msg);
}

apical_status apical_ld_recover(apical_ld *c, apical_status st)
{
    if (st == APICAL_OK || !c->errs)
        return st;
    if (c->skip) {
        c->skip = 0;
        return APICAL_OK;
    }
    if (apical_exit_code(st) != 2)
        return st;
    if (c->n_errs >= c->max_errs) {
        c->n_errs = c->max_errs + 1;
        return st;
    }
    c->errs[c->n_errs++] = *c->err;
    return APICAL_OK;
}

apical_status apical_ld_skip(apical_ld *c)
{
    c->skip = 1;
    return APICAL_E_REFERENCE;
}

apical_status apical_ld_poll(apical_ld *c)
{
    if (!c->stop || !*c->stop)
        return APICAL_OK;
    return apical_error_set(c->err, APICAL_E_INTERRUPTED, NULL, "interrupted while loading '%s'",
                            c->spec->path);
}

apical_status apical_ld_oom(apical_ld *c)
{
    return apical_error_set(c->err, APICAL_E_NOMEM, NULL, "out of memory");
}

apical_srcpos apical_ld_pos(const apical_ld *c, const apical_ynode *n)
{
    return (apical_srcpos){c->spec->path, n->line, n->col};
}

/* "a mapping", "a list", "an empty value", "'text'" for type errors. */
const char *apical_ld_describe(const apical_ynode *n, char *buf, size_t len)
{
    if (n->kind == APICAL_Y_MAP)
        return "a mapping";
    if (n->kind == APICAL_Y_SEQ)
        return "a list";
    if (n->is_null)
        return "an empty value";
    snprintf(buf, len, "'%.60s%s'", n->text, strlen(n->text) > 60 ? "..." : "");
    return buf;
}

const apical_ynode *apical_ld_get(const apical_ynode *map, const char *key)
{
    for (size_t i = 0; i + 1 < map->n_kids; i += 2)
        if (strcmp(map->kids[i]->text, key) == 0)
            return map->kids[i + 1];
    return NULL;
}

void apical_ld_join(const char *const *names, size_t n, char *buf, size_t len)
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

void apical_ld_join_fields(const apical_field *f, size_t n, char *buf, size_t len)
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

size_t apical_ld_count_names(const char *const *names)
{
    size_t n = 0;
    while (names[n])
        n++;
    return n;
}

/* Every key of map must be one of valid (NULL-terminated). */
apical_status apical_ld_check_keys(apical_ld *c, const apical_ynode *map, const char *const *valid,
                                const char *where)
{
    for (size_t i = 0; i < map->n_kids; i += 2) {
        const apical_ynode *k = map->kids[i];
        size_t j = 0;
        while (valid[j] && strcmp(valid[j], k->text) != 0)
            j++;
        if (!valid[j]) {
            char list[512];
            apical_ld_join(valid, apical_ld_count_names(valid), list, sizeof list);
            return apical_ld_fail(c, k, APICAL_E_UNKNOWN_KEY, "unknown key '%s' in %s; valid keys: %s",
                        k->text, where, list);
        }
    }
    return APICAL_OK;
}

apical_status apical_ld_need_kind(apical_ld *c, const apical_ynode *n, apical_ykind kind, const char *what)
{
    if (n->kind == kind)
        return APICAL_OK;
    char b[80];
    return apical_ld_fail(c, n, APICAL_E_TYPE, "%s must be %s, got %s", what,
                kind == APICAL_Y_MAP ? "a mapping" : kind == APICAL_Y_SEQ ? "a list" : "a single value",
                apical_ld_describe(n, b, sizeof b));
}

/* The value of a required key, or a MISSING_KEY error at the mapping. */
apical_status apical_ld_require(apical_ld *c, const apical_ynode *map, const char *key, const char *where,
                             const apical_ynode **out)
{
    *out = apical_ld_get(map, key);
    if (*out)
        return APICAL_OK;
    return apical_ld_fail(c, map, APICAL_E_MISSING_KEY, "%s is missing the required key '%s'", where, key);
}

apical_status apical_ld_string(apical_ld *c, const apical_ynode *n, const char *what, const char **out)
{
    if (n->kind != APICAL_Y_SCALAR || n->is_null) {
        char b[80];
        return apical_ld_fail(c, n, APICAL_E_TYPE, "%s must be a name, got %s", what,
                    apical_ld_describe(n, b, sizeof b));
    }
    *out = n->text;
    return APICAL_OK;
}

/* Names end up as HDF5 group names and in messages: keep them printable
 * and free of '/'. */
apical_status apical_ld_check_name(apical_ld *c, const apical_ynode *n, const char *name, const char *what)
{
    if (!name[0])
        return apical_ld_fail(c, n, APICAL_E_INVALID, "%s must not be empty", what);
    for (const unsigned char *s = (const unsigned char *)name; *s; s++)
        if (*s == '/' || *s <= ' ' || *s == 0x7f)
            return apical_ld_fail(c, n, APICAL_E_INVALID,
                        "%s '%s' must not contain '/', spaces or control characters", what,
                        name);
    return APICAL_OK;
}

apical_status apical_ld_uint(apical_ld *c, const apical_ynode *n, const char *what, uint64_t lo,
                              uint64_t hi, uint64_t *out)
{
    char b[80];
    if (n->kind != APICAL_Y_SCALAR || n->is_null)
        return apical_ld_fail(c, n, APICAL_E_TYPE, "%s must be an integer, got %s", what,
                    apical_ld_describe(n, b, sizeof b));
    const char *s = n->text;
    int neg = 0;
    if (*s == '+' || *s == '-')
        neg = *s++ == '-';
    size_t nd = strspn(s, "0123456789");
    if (nd == 0 || s[nd] != '\0')
        return apical_ld_fail(c, n, APICAL_E_TYPE, "%s must be an integer, got %s", what,
                    apical_ld_describe(n, b, sizeof b));
    errno = 0;
    unsigned long long v = strtoull(s, NULL, 10);
    int too_big = errno == ERANGE || v > hi;
    if ((neg && v != 0) || v < lo || too_big) {
        if (hi == UINT64_MAX)
            return apical_ld_fail(c, n, APICAL_E_RANGE, "%s must be an integer >= %llu, got %s", what,
                        (unsigned long long)lo, n->text);
        return apical_ld_fail(c, n, APICAL_E_RANGE, "%s must be an integer in [%llu, %llu], got %s",
                    what, (unsigned long long)lo, (unsigned long long)hi, n->text);
    }
    *out = (uint64_t)v;
    return APICAL_OK;
}

apical_status apical_ld_bool(apical_ld *c, const apical_ynode *n, const char *what, int *out)
{
    static const char *const yes[] = {"true", "True", "TRUE"};
    static const char *const no[] = {"false", "False", "FALSE"};
    if (n->kind == APICAL_Y_SCALAR) {
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
    return apical_ld_fail(c, n, APICAL_E_TYPE, "%s must be true or false, got %s", what,
                apical_ld_describe(n, b, sizeof b));
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
apical_status apical_ld_quantity(apical_ld *c, const apical_ynode *n, const char *unit, const char *what,
                                  double *out)
{
    char why[512], b[80];
    if (n->kind != APICAL_Y_SCALAR || n->is_null) {
        /* Parsing "" yields the "expected a voltage such as ..." wording. */
        double ignored;
        apical_quantity_parse("", unit, &ignored, why, sizeof why);
        char *got = strstr(why, ", got ");
        if (got)
            *got = '\0';
        return apical_ld_fail(c, n, APICAL_E_TYPE, "%s: %s, got %s", what, why, apical_ld_describe(n, b, sizeof b));
    }
    if (apical_quantity_parse(n->text, unit, out, why, sizeof why) == 0)
        return APICAL_OK;
    const char *s = n->text + strspn(n->text, " \t");
    const char *d = s + (*s == '+' || *s == '-');
    int numeric = (*d >= '0' && *d <= '9') || (*d == '.' && d[1] >= '0' && d[1] <= '9');
    if (!numeric)
        return apical_ld_fail(c, n, APICAL_E_TYPE, "%s: %s", what, why);
    if (!isfinite(strtod(s, NULL)))
        return apical_ld_fail(c, n, APICAL_E_RANGE, "%s: %s", what, why);
    return apical_ld_fail(c, n, APICAL_E_UNIT, "%s: %s", what, why);
}

apical_status apical_ld_check_bounds(apical_ld *c, const apical_ynode *n, const char *what, double v,
                                  apical_bounds bd, const char *unit)
{
    char u[40];
    const char *us = unit_suffix(unit, u, sizeof u);
    const int open = bd.lo_open == APICAL_LO_OPEN;
    int below = open ? !(v > bd.lo) : !(v >= bd.lo);
    if (!below && v <= bd.hi)
        return APICAL_OK;
    const char *ge = open ? ">" : ">=";
    if (isinf(bd.hi))
        return apical_ld_fail(c, n, APICAL_E_RANGE, "%s must be %s %g%s, got %g%s", what, ge, bd.lo, us,
                    v, us);
    if (isinf(bd.lo))
        return apical_ld_fail(c, n, APICAL_E_RANGE, "%s must be <= %g%s, got %g%s", what, bd.hi, us, v,
                    us);
    return apical_ld_fail(c, n, APICAL_E_RANGE, "%s must be in %s%g, %g]%s, got %g%s", what,
                open ? "(" : "[", bd.lo, bd.hi, us, v, us);
}

apical_status apical_ld_bounded(apical_ld *c, const apical_ynode *n, const char *unit, const char *what,
                                 apical_bounds bd, double *out)
{
    apical_status st = apical_ld_quantity(c, n, unit, what, out);
    return st != APICAL_OK ? st : apical_ld_check_bounds(c, n, what, *out, bd, unit);
}

/* A constant quantity, {uniform: {low, high}} or
 * {normal: {mean, sd, low?, high?}}. Normal draws outside [low, high] are
 * redrawn; low and high default to the field's apical_bounds, except that an open
 * lower bound (delays: > 0) has no natural floor and must be given. */
apical_status apical_ld_dist(apical_ld *c, const apical_ynode *n, const char *unit, const char *what,
                              apical_bounds bd, apical_dist *d)
{
    static const char *const kinds[] = {"normal", "uniform", NULL};
    static const char *const normal_keys[] = {"mean", "sd", "low", "high", NULL};
    static const char *const uniform_keys[] = {"low", "high", NULL};
    char where[160], w2[160], u[40];
    apical_status st;
    *d = (apical_dist){APICAL_DIST_CONSTANT, 0.0, 0.0, -HUGE_VAL, HUGE_VAL, apical_ld_pos(c, n),
                       NULL, 0, 0, 0};
    if (n->kind == APICAL_Y_SCALAR)
        return apical_ld_bounded(c, n, unit, what, bd, &d->a);
    if (n->kind != APICAL_Y_MAP || n->n_kids != 2) {
        char b[80];
        return apical_ld_fail(c, n, APICAL_E_TYPE,
                    "%s must be a quantity such as '1%s', or one distribution: "
                    "{normal: {mean: .., sd: ..}} or {uniform: {low: .., high: ..}}; got %s",
                    what, unit_suffix(unit, u, sizeof u), apical_ld_describe(n, b, sizeof b));
    }
    snprintf(where, sizeof where, "the distribution of %s", what);
    if ((st = apical_ld_check_keys(c, n, kinds, where)) != APICAL_OK)
        return st;
    const apical_ynode *kind = n->kids[0], *body = n->kids[1];
    snprintf(where, sizeof where, "%s %s", kind->text, what);
    if ((st = apical_ld_need_kind(c, body, APICAL_Y_MAP, where)) != APICAL_OK)
        return st;
    const char *us = unit_suffix(unit, u, sizeof u);
    const apical_ynode *v;
    if (strcmp(kind->text, "uniform") == 0) {
        d->kind = APICAL_DIST_UNIFORM;
        if ((st = apical_ld_check_keys(c, body, uniform_keys, where)) != APICAL_OK)
            return st;
        const apical_ynode *lo, *hi;
        if ((st = apical_ld_require(c, body, "low", where, &lo)) != APICAL_OK ||
            (st = apical_ld_require(c, body, "high", where, &hi)) != APICAL_OK)
            return st;
        snprintf(w2, sizeof w2, "low of %s", what);
        if ((st = apical_ld_bounded(c, lo, unit, w2, bd, &d->a)) != APICAL_OK)
            return st;
        snprintf(w2, sizeof w2, "high of %s", what);
        if ((st = apical_ld_bounded(c, hi, unit, w2, bd, &d->b)) != APICAL_OK)
            return st;
        if (!(d->b > d->a))
            return apical_ld_fail(c, hi, APICAL_E_RANGE, "high (%g%s) must be above low (%g%s) in %s",
                        d->b, us, d->a, us, where);
        return APICAL_OK;
    }
    d->kind = APICAL_DIST_NORMAL;
    if ((st = apical_ld_check_keys(c, body, normal_keys, where)) != APICAL_OK)
        return st;
    const apical_ynode *mean, *sd;
    if ((st = apical_ld_require(c, body, "mean", where, &mean)) != APICAL_OK ||
        (st = apical_ld_require(c, body, "sd", where, &sd)) != APICAL_OK)
        return st;
    snprintf(w2, sizeof w2, "mean of %s", what);
    if ((st = apical_ld_quantity(c, mean, unit, w2, &d->a)) != APICAL_OK)
        return st;
    snprintf(w2, sizeof w2, "sd of %s", what);
    if ((st = apical_ld_bounded(c, sd, unit, w2, (apical_bounds){0.0, HUGE_VAL, 0}, &d->b)) != APICAL_OK)
        return st;
    d->lo = bd.lo;
    d->hi = bd.hi;
    if ((v = apical_ld_get(body, "low")) != NULL) {
        snprintf(w2, sizeof w2, "low of %s", what);
        if ((st = apical_ld_bounded(c, v, unit, w2, bd, &d->lo)) != APICAL_OK)
            return st;
    } else if (bd.lo_open != APICAL_LO_CLOSED) {
        return apical_ld_fail(c, body, APICAL_E_MISSING_KEY,
                    "%s needs 'low', the smallest value drawn (%s must be %s %g%s)", where, what,
                    bd.lo_open == APICAL_LO_OPEN ? ">" : ">=", bd.lo, us);
    }
    if ((v = apical_ld_get(body, "high")) != NULL) {
        snprintf(w2, sizeof w2, "high of %s", what);
        if ((st = apical_ld_bounded(c, v, unit, w2, bd, &d->hi)) != APICAL_OK)
            return st;
        if (!(d->hi > d->lo))
            return apical_ld_fail(c, v, APICAL_E_RANGE, "high (%g%s) must be above low (%g%s) in %s",
                        d->hi, us, d->lo, us, where);
    }
    /* Redrawing is only cheap when the mean lies inside the kept interval. */
    if (d->a < d->lo || d->a > d->hi)
        return apical_ld_fail(c, mean, APICAL_E_RANGE, "mean of %s (%g%s) must lie in [%g, %g]%s", what,
                    d->a, us, d->lo, d->hi, us);
    return APICAL_OK;
}

apical_status apical_ld_pop_ref(apical_ld *c, const apical_ynode *n, const char *what, size_t *out)
{
    const char *s = "";
    apical_status st = apical_ld_string(c, n, what, &s);
    if (st != APICAL_OK)
        return st;
    *out = apical_spec_pop_index(c->spec, s);
    if (*out != (size_t)-1)
        return c->pop_failed && c->pop_failed[*out] ? apical_ld_skip(c) : APICAL_OK;
    /* a population whose name itself was refused may be the one meant */
    for (size_t i = 0; c->pop_failed && i < c->spec->n_pops; i++)
        if (c->pop_failed[i] && !c->spec->pops[i].name)
            return apical_ld_skip(c);
    char list[700];
    size_t used = 0;
    list[0] = '\0';
    for (size_t i = 0; i < c->spec->n_pops && used < sizeof list; i++) {
        if (!c->spec->pops[i].name)
            continue;
        int w = snprintf(list + used, sizeof list - used, "%s%s", used ? ", " : "",
                         c->spec->pops[i].name);
        if (w < 0)
            break;
        used += (size_t)w;
    }
    return apical_ld_fail(c, n, APICAL_E_REFERENCE, "%s '%s' is not a defined population; defined: %s",
                what, s, list);
}

apical_status apical_ld_receptor(apical_ld *c, const apical_ynode *n, const apical_model_type *m,
                                  size_t *out)
{
    const char *s = "";
    apical_status st = apical_ld_string(c, n, "receptor", &s);
    if (st != APICAL_OK)
        return st;
    *out = apical_receptor_index(m, s);
    if (*out != (size_t)-1)
        return APICAL_OK;
    char list[400];
    apical_ld_join(m->receptors, m->n_receptors, list, sizeof list);
    return apical_ld_fail(c, n, APICAL_E_UNKNOWN_NAME,
                "model '%s' has no receptor '%s'; its receptors: %s", m->name, s, list);
}

/* Synaptic weights: a conductance cannot be negative (inhibition is a
 * receptor with a low reversal potential); currents can have either sign. */
apical_bounds apical_ld_weight_bounds(const apical_model_type *m)
{
    apical_dim dim;
    double scale;
    if (apical_unit_lookup(m->weight_unit, &dim, &scale) == 0 && dim == APICAL_DIM_CONDUCTANCE)
        return (apical_bounds){0.0, APICAL_MAX_WEIGHT, 0};
    return (apical_bounds){-APICAL_MAX_WEIGHT, APICAL_MAX_WEIGHT, 0};
}

/* A name given with `name:`, or the default. */
apical_status apical_ld_item_name(apical_ld *c, const apical_ynode *item, const char *fallback,
                                   const char *kind, char **out)
{
    const apical_ynode *v = apical_ld_get(item, "name");
    const char *s = fallback;
    apical_status st;
    char what[64];
    snprintf(what, sizeof what, "a %s name", kind);
    if (v && ((st = apical_ld_string(c, v, "name", &s)) != APICAL_OK ||
              (st = apical_ld_check_name(c, v, s, what)) != APICAL_OK))
        return st;
    if (!(*out = strdup(s)))
        return apical_ld_oom(c);
    return APICAL_OK;
}

/* How messages name an item of a list section: "<kind> 'NAME'" with the
 * name the item gives, else with its default name (fallback, when there is
 * one yet), else by its --set path, "<list>[<idx>]". Default names number
 * items from 0, as paths do, so "input 'input2'" is inputs[2]. */
void apical_ld_item_where(const apical_ynode *item, const char *kind, const char *fallback,
                          const char *list, size_t idx, char *buf, size_t len)
{
    const apical_ynode *v = item->kind == APICAL_Y_MAP ? apical_ld_get(item, "name") : NULL;
    if (v && v->kind == APICAL_Y_SCALAR && !v->is_null && v->text[0])
        snprintf(buf, len, "%s '%.100s'", kind, v->text);
    else if (fallback)
        snprintf(buf, len, "%s '%.100s'", kind, fallback);
    else
        snprintf(buf, len, "%s[%zu]", list, idx);
}

/* Names identify items in the output file, so two items of a kind cannot
 * share one, not even a default one. */
apical_status apical_ld_name_taken(apical_ld *c, const apical_ynode *item, const char *kind, const char *name,
                                int first_line)
{
    const apical_ynode *v = apical_ld_get(item, "name");
    return apical_ld_fail(c, v ? v : item, APICAL_E_INVALID,
                "%s name '%s' is already used by the %s at line %d; give this one a "
                "different 'name'",
                kind, name, kind, first_line);
}

/* The path of a file named in the network file: relative paths are taken
 * from the network file's directory. Recorded in spec->files, which an
 * output must not replace. */
char *apical_ld_path(apical_ld *c, const char *path)
{
    const char *net = c->spec->path;
    const char *slash = strrchr(net, '/');
    size_t dir = path[0] == '/' || !slash ? 0 : (size_t)(slash - net) + 1;
    size_t len = dir + strlen(path) + 1;
    char *out = malloc(len);
    char **files = realloc(c->spec->files, (c->spec->n_files + 1) * sizeof *files);
    if (files)
        c->spec->files = files;
    char *copy = out && files ? malloc(len) : NULL;
    if (!copy) {
        free(out);
        return NULL;
    }
    snprintf(out, len, "%.*s%s", (int)dir, net, path);
    memcpy(copy, out, len);
    c->spec->files[c->spec->n_files++] = copy;
    return out;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* A non-empty list of distinct neuron ids of pop. */
apical_status apical_ld_nodes(apical_ld *c, const apical_ynode *n, const apical_pop_spec *pop,
                               uint64_t **out, size_t *count)
{
    apical_status st;
    uint64_t *sorted = NULL;
    if ((st = apical_ld_need_kind(c, n, APICAL_Y_SEQ, "nodes")) != APICAL_OK)
        return st;
    if (n->n_kids == 0)
        return apical_ld_fail(c, n, APICAL_E_INVALID,
                    "nodes is an empty list; leave 'nodes' out to mean all neurons");
    if (!(*out = malloc(n->n_kids * sizeof **out)))
        return apical_ld_oom(c);
    *count = n->n_kids;
    for (size_t i = 0; i < n->n_kids; i++) {
        const apical_ynode *it = n->kids[i];
        if ((i % 65536 == 0 && (st = apical_ld_poll(c)) != APICAL_OK) ||
            (st = apical_ld_uint(c, it, "a node id", 0, UINT64_MAX, &(*out)[i])) != APICAL_OK)
            return st;
        if ((*out)[i] >= pop->size)
            return apical_ld_fail(c, it, APICAL_E_RANGE,
                        "node id %llu is out of range: population '%s' has %llu neurons "
                        "(ids 0 to %llu)",
                        (unsigned long long)(*out)[i], pop->name,
                        (unsigned long long)pop->size, (unsigned long long)(pop->size - 1));
    }
    if (!(sorted = malloc(*count * sizeof *sorted)))
        return apical_ld_oom(c);
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
        st = apical_ld_fail(c, n->kids[j], APICAL_E_INVALID, "node id %llu is listed twice",
                  (unsigned long long)sorted[i]);
        free(sorted);
        return st;
    }
    free(sorted);
    return APICAL_OK;
}

/* Lists of items: allocate, then let each parser fill its slot. The count
 * grows before each item is parsed so a failing item is still freed. */
apical_status apical_ld_list(apical_ld *c, const apical_ynode *n, const char *what, void **arr,
                                size_t *count, size_t elem,
                                apical_status (*one)(apical_ld *, size_t, const apical_ynode *))
{
    apical_status st;
    if (n->is_null)
        return APICAL_OK;
    if (n->kind != APICAL_Y_SEQ) {
        char b[80];
        return apical_ld_fail(c, n, APICAL_E_TYPE, "%s must be a list (items start with '- '), got %s",
                    what, apical_ld_describe(n, b, sizeof b));
    }
    if (n->n_kids == 0)
        return APICAL_OK;
    if ((uint64_t)n->n_kids > APICAL_MAX_LIST_ITEMS)
        return apical_ld_fail(c, n, APICAL_E_RANGE, "%s has %zu items; at most %llu", what, n->n_kids,
                    APICAL_MAX_LIST_ITEMS);
    if (!(*arr = calloc(n->n_kids, elem)))
        return apical_ld_oom(c);
    for (size_t i = 0; i < n->n_kids; i++) {
        *count = i + 1;
        if ((st = apical_ld_poll(c)) != APICAL_OK)
            return st;
        /* with an error list, a bad item does not stop the next one */
        if ((st = one(c, i, n->kids[i])) != APICAL_OK &&
            (st = apical_ld_recover(c, st)) != APICAL_OK)
            return st;
    }
    return APICAL_OK;
}

/* Used by every reference to a population (apical_ld_pop_ref), so it
 * lives with the readers; declared in include/apical/spec.h. */
size_t apical_spec_pop_index(const apical_net_spec *spec, const char *name)
{
    if (!spec || !name)
        return (size_t)-1;
    for (size_t i = 0; i < spec->n_pops; i++)
        if (spec->pops[i].name && strcmp(spec->pops[i].name, name) == 0)
            return i;
    return (size_t)-1;
}

