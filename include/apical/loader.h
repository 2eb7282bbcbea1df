/* The loader's section API: what a parser of one section of the network
 * file uses (the loader's own sections, sim/loader_*.c, and every protocol,
 * which owns its `protocol:` section; include/apical/protocol.h).
 *
 * The YAML text is read into a tree of apical_ynode, each with its 1-based
 * line and column. A section parser walks its node with the readers below:
 * each checks kind, unit and range, and on the first problem returns a
 * status with one message at the offending node's file:line:col in the
 * error record. Everything a parser allocates must hang off the spec as
 * soon as it exists, so that freeing the spec cleans up every error path.
 * Nothing here prints. */
#ifndef APICAL_LOADER_H
#define APICAL_LOADER_H

#include <stddef.h>
#include <signal.h>
#include <stdint.h>

#include "apical/error.h"
#include "apical/model.h"
#include "apical/spec.h"

#if defined(__GNUC__)
#define APICAL_PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#else
#define APICAL_PRINTF_LIKE(f, a)
#endif

typedef enum apical_ykind { APICAL_Y_SCALAR, APICAL_Y_MAP, APICAL_Y_SEQ } apical_ykind;

typedef struct apical_ynode apical_ynode;
struct apical_ynode {
    apical_ykind kind;
    int line, col;   /* 1-based */
    char *text;      /* scalar: NUL-terminated content */
    int is_null;     /* plain "", "~", "null" */
    int guessed;     /* no position of its own; borrowed from the parent */
    int set_item;    /* 0: from the file; k: from the k-th --set item (1-based),
                      * line and col 0; apical_ld_fail names the option */
    size_t weight;   /* nodes it stands for with aliases expanded (saturating) */
    apical_ynode **kids; /* sequence: items; mapping: key0, value0, key1, ... */
    size_t n_kids;
    size_t cap_kids;
};

/* One load in progress: the spec being filled (sections before this one
 * are complete) and the error record. */
typedef struct apical_ld {
    apical_net_spec *spec;
    apical_error *err;
    const apical_ynode *sim_stepper; /* where simulation.solver.stepper was given */
    int has_protocol;         /* the file has a protocol: duration may be omitted */
    double syn_per_part;      /* expected synapses in the fullest partition so far */
    const volatile sig_atomic_t *stop; /* non-NULL: give up once *stop != 0 */
    const char *const *sets;  /* the --set items (PATH=VALUE), for messages */
    size_t n_sets;
    /* Error list (apical_load_opts.errors); NULL: the load ends at the
     * first error. Otherwise apical_ld_recover records c->err at each
     * point where the load can go on (the next population, list item,
     * section). */
    apical_error *errs;
    size_t max_errs, n_errs;  /* n_errs counts past max_errs by one: "more" */
    int skip;                 /* the failure follows from an error already
                               * recorded (a reference to a population that
                               * failed): not recorded again */
    unsigned char *pop_failed; /* per population: its definition failed */
} apical_ld;

/* At a point where a load can go on after a failed item or section: with
 * an error list and an error about the input (exit class 2), record it (or
 * drop it when c->skip says it follows from an earlier one) and return
 * APICAL_OK to go on; otherwise, or when the list is full, return st. */
apical_status apical_ld_recover(apical_ld *c, apical_status st);
/* The failure of a check that depends on an item that already failed
 * (only with an error list): returns APICAL_E_REFERENCE, records nothing. */
apical_status apical_ld_skip(apical_ld *c);

/* APICAL_E_INTERRUPTED (with its message) once c's stop flag is set, else
 * APICAL_OK: called by every loop over a list or a file's contents. */
apical_status apical_ld_poll(apical_ld *c);

/* Allowed values of a quantity: [lo, hi], or (lo, hi] when lo_open is
 * APICAL_LO_OPEN. APICAL_LO_GIVEN is [lo, hi] where a normal distribution
 * must give its `low` rather than default to lo (delays: the smallest is
 * the window). */
enum { APICAL_LO_CLOSED = 0, APICAL_LO_OPEN = 1, APICAL_LO_GIVEN = 2 };
typedef struct apical_bounds {
    double lo, hi;
    int lo_open;
} apical_bounds;

/* The YAML tree of a whole file (duplicate keys, undefined aliases and
 * syntax errors refused with their position; so is text that is not UTF-8
 * or holds a NUL byte, and aliases that would expand the tree past
 * APICAL_MAX_YAML_NODES nodes and 64 times the file's own). */
typedef struct apical_ydoc apical_ydoc;
apical_status apical_yaml_read(const char *path, const char *text, size_t len,
                               const volatile sig_atomic_t *stop, apical_ydoc **doc,
                               const apical_ynode **root, apical_error *err);
void apical_ydoc_free(apical_ydoc *doc);

/* Errors: a message at node n (NULL: no position), out of memory. */
apical_status apical_ld_fail(apical_ld *c, const apical_ynode *n, apical_status code,
                             const char *fmt, ...) APICAL_PRINTF_LIKE(4, 5);
apical_status apical_ld_oom(apical_ld *c);
apical_srcpos apical_ld_pos(const apical_ld *c, const apical_ynode *n);
/* "a mapping", "a list", "an empty value", "'text'" for type errors. */
const char *apical_ld_describe(const apical_ynode *n, char *buf, size_t len);

/* Mappings: the value of key (NULL: absent); only keys in `valid` (a NULL
 * terminated list; the message lists them); a required key. */
const apical_ynode *apical_ld_get(const apical_ynode *map, const char *key);
apical_status apical_ld_check_keys(apical_ld *c, const apical_ynode *map,
                                   const char *const *valid, const char *where);
apical_status apical_ld_need_kind(apical_ld *c, const apical_ynode *n, apical_ykind kind,
                                  const char *what);
apical_status apical_ld_require(apical_ld *c, const apical_ynode *map, const char *key,
                                const char *where, const apical_ynode **out);

/* Scalars. A quantity is "<number> <unit>" converted to `unit` (the
 * canonical unit of the field); bounded checks apical_bounds. */
apical_status apical_ld_string(apical_ld *c, const apical_ynode *n, const char *what,
                               const char **out);
apical_status apical_ld_check_name(apical_ld *c, const apical_ynode *n, const char *name,
                                   const char *what);
apical_status apical_ld_uint(apical_ld *c, const apical_ynode *n, const char *what, uint64_t lo,
                             uint64_t hi, uint64_t *out);
apical_status apical_ld_bool(apical_ld *c, const apical_ynode *n, const char *what, int *out);
apical_status apical_ld_quantity(apical_ld *c, const apical_ynode *n, const char *unit,
                                 const char *what, double *out);
apical_status apical_ld_check_bounds(apical_ld *c, const apical_ynode *n, const char *what,
                                     double v, apical_bounds bd, const char *unit);
apical_status apical_ld_bounded(apical_ld *c, const apical_ynode *n, const char *unit,
                                const char *what, apical_bounds bd, double *out);
apical_status apical_ld_dist(apical_ld *c, const apical_ynode *n, const char *unit,
                             const char *what, apical_bounds bd, apical_dist *d);

/* References into sections already read, and node lists. */
apical_status apical_ld_pop_ref(apical_ld *c, const apical_ynode *n, const char *what,
                                size_t *out);
apical_status apical_ld_receptor(apical_ld *c, const apical_ynode *n, const apical_model_type *m,
                                 size_t *out);
apical_bounds apical_ld_weight_bounds(const apical_model_type *m);
apical_status apical_ld_nodes(apical_ld *c, const apical_ynode *n, const apical_pop_spec *pop,
                              uint64_t **out, size_t *count);

/* Items of a list section: a name given with `name:` or the default, and
 * the message for a name used twice. */
apical_status apical_ld_item_name(apical_ld *c, const apical_ynode *item, const char *fallback,
                                  const char *kind, char **out);
apical_status apical_ld_name_taken(apical_ld *c, const apical_ynode *item, const char *kind,
                                   const char *name, int first_line);
/* How messages name item idx of a list section: "<kind> 'NAME'" with its
 * given name, else its default name fallback (NULL: none yet), else its
 * --set path "<list>[<idx>]" (0-based, as default names). */
void apical_ld_item_where(const apical_ynode *item, const char *kind, const char *fallback,
                          const char *list, size_t idx, char *buf, size_t len);
/* A list section: one(c, i, item) for every item of the list n into a new
 * array *arr of elem-sized items, *count counting those begun. With an
 * error list (apical_ld.errs) a failed item is recorded and the next one
 * read. */
apical_status apical_ld_list(apical_ld *c, const apical_ynode *n, const char *what, void **arr,
                             size_t *count, size_t elem,
                             apical_status (*one)(apical_ld *, size_t, const apical_ynode *));

/* The path of a file the network names (relative to the network file's
 * directory), malloc'd; recorded in spec->files, which an output must not
 * replace. NULL: out of memory. */
char *apical_ld_path(apical_ld *c, const char *path);

/* Joined name lists for messages. */
void apical_ld_join(const char *const *names, size_t n, char *buf, size_t len);
void apical_ld_join_fields(const apical_field *f, size_t n, char *buf, size_t len);
size_t apical_ld_count_names(const char *const *names);

#endif
