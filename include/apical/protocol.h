/* Protocols: programs that drive a simulation from above, between windows,
 * through the engine's controller interface (include/apical/control.h): a
 * learning protocol shows stimuli, switches teaching signals, reads window
 * means and changes weights. The engine knows no protocol.
 *
 * A protocol is a const vtable (apical_protocol_type), listed once in
 * models/protocol_registry.c. The network file's `protocol:` section selects one
 * with `type:` (default: the first registered); the protocol parses the
 * section into a spec of its own, fits the run's length to itself, builds
 * its run-time state over a built simulation, steps between windows and
 * writes its own HDF5 datasets. Adding a protocol is one file under
 * models/ and one line in the registry (docs/protocols.md). */
#ifndef APICAL_PROTOCOL_H
#define APICAL_PROTOCOL_H

#include <stddef.h>

#include "apical/control.h"
#include "apical/error.h"
#include "apical/h5out.h"
#include "apical/loader.h"
#include "apical/spec.h"

typedef struct apical_protocol_type {
    const char *name; /* the `type:` that selects it */
    const char *doc;  /* one line, for `apical models` and messages */
    /* Parse the `protocol:` mapping n (its `type:` already read) into a new
     * spec: set *spec as soon as it is allocated (the loader frees it with
     * free_spec on any error). Called once, after every other section.
     * Not NULL. */
    apical_status (*parse)(apical_ld *ld, const apical_ynode *n, void **spec);
    /* Free a spec from parse; NULL-safe. Not NULL. */
    void (*free_spec)(void *spec);
    /* Fit the run to the protocol: set an omitted simulation.duration
     * (spec->sim.duration_auto) or refuse one too short, at its position.
     * Called after parse and again when the seed or duration change (CLI).
     * NULL: the run's duration is the file's. */
    apical_status (*fit)(apical_net_spec *spec, apical_error *err);
    /* Does the protocol change projection j's weights? (Its final weights
     * are then written as edges.) NULL: none. */
    int (*learns)(const void *spec, size_t j);
    /* Build the run-time state over a simulation built from the same spec,
     * before its first run; may call apical_engine_track_integral. Not NULL. */
    apical_status (*build)(const apical_net_spec *spec, apical_sim *sim, void **rt,
                           apical_error *err);
    /* The merged spikes of each window (apical_engine_hooks.spikes). NULL:
     * not needed. */
    void (*spikes)(void *rt, const apical_spike *sp, size_t n);
    /* Between windows (apical_engine_hooks.between): act at this boundary
     * if one of the protocol's falls on it. Not NULL. */
    apical_status (*step)(void *rt, apical_sim *sim, apical_error *err);
    /* In each partition job of the next window (apical_engine_hooks.during):
     * slice of n_slices of the work step left for it. NULL: none. */
    void (*during)(void *rt, unsigned slice, unsigned n_slices);
    /* Create the protocol's datasets in an output file before the run; the
     * run then appends to them from step. NULL: writes nothing. */
    apical_status (*output)(void *rt, apical_h5 *h5, apical_error *err);
    /* Free the run-time state; NULL-safe. Not NULL. */
    void (*free_rt)(void *rt);
} apical_protocol_type;

/* The registry (models/protocol_registry.c). */
size_t apical_protocol_count(void);
const apical_protocol_type *apical_protocol_at(size_t i);
const apical_protocol_type *apical_protocol_find(const char *name);
void apical_protocol_names(char *buf, size_t n); /* "a, b, c" */

/* The opening every protocol's parse shares, so that each checks its
 * section and starts its spec the same way: n must be a mapping whose keys
 * are all in keys (NULL-terminated, "type" among them); then a zeroed spec
 * of spec_size bytes is set in *spec as soon as it is allocated (the loader
 * frees it with free_spec on any later error), and the section's position
 * is stored in it at pos_offset (offsetof(the spec's type, its
 * apical_srcpos)), where fit and build report the run's own errors. */
apical_status apical_protocol_parse_open(apical_ld *ld, const apical_ynode *n,
                                         const char *const *keys, size_t spec_size,
                                         size_t pos_offset, void **spec);

/* The spec's protocol, driving a simulation built from that spec. */
typedef struct apical_protocol apical_protocol;

/* Build the spec's protocol over sim and register it as sim's controller.
 * *out = NULL when the spec has no protocol. Free it after the last run. */
apical_status apical_protocol_new(const apical_net_spec *spec, apical_sim *sim,
                                  apical_protocol **out, apical_error *err);
void apical_protocol_free(apical_protocol *p);
/* The protocol's datasets in h5 (see output above); NULL-safe. */
apical_status apical_protocol_output(apical_protocol *p, apical_h5 *h5, apical_error *err);
/* Its type and run-time state, for a protocol's own API. */
const apical_protocol_type *apical_protocol_type_of(const apical_protocol *p);
void *apical_protocol_state(apical_protocol *p);

/* Spec-level calls that dispatch on spec->protocol_type (no protocol:
 * APICAL_OK and 0). */
apical_status apical_protocol_fit(apical_net_spec *spec, apical_error *err);
int apical_protocol_learns(const apical_net_spec *spec, size_t j);

#endif
