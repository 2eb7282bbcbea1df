/* Reading back what apical wrote: one SONATA edge population
 * (/edges/<name>, the layout of apical_h5_edges_write, docs/output-format.md)
 * so that a network file can load a projection's connectivity, weights and
 * delays from an earlier run (connectivity rule `from_file`).
 *
 * Errors carry no source position (the caller adds the YAML node's) and use
 * input-error codes (exit code 2): APICAL_E_IO for a file that cannot be
 * opened, APICAL_E_REFERENCE for a missing edge population, APICAL_E_DATA for
 * missing or inconsistent datasets. Messages name the file and the HDF5
 * path. */
#ifndef APICAL_H5IN_H
#define APICAL_H5IN_H

#include <stddef.h>
#include <stdint.h>

#include "apical/error.h"

typedef struct apical_edge_data {
    size_t n;
    uint64_t *src, *tgt; /* node ids within the source / target populations */
    double *w, *d;       /* weight (in weight_unit), delay (ms) */
    uint64_t n_src, n_tgt; /* population sizes from the n_nodes attributes;
                              0 when the file does not say */
    char src_pop[256], tgt_pop[256]; /* node_population attributes ("" if absent) */
    char weight_unit[64];            /* units of 0/syn_weight ("" if absent) */
} apical_edge_data;

/* Read /edges/<name> of the HDF5 file at path into *out (arrays owned by
 * out, freed with apical_edge_data_free). The weights are read from
 * 0/syn_weight (SONATA's reserved name; 0/weight is accepted too), delays
 * from 0/delay; every edge must be in edge group 0 at index k (as apical
 * writes them), and weights and delays must be finite. */
apical_status apical_h5_edges_read(const char *path, const char *name, apical_edge_data *out,
                                   apical_error *err);

void apical_edge_data_free(apical_edge_data *e);

/* Read a 1-D or 2-D numeric dataset (any integer or float type) of the HDF5
 * file at path as doubles into a new array (*rows x *cols, row-major; a 1-D
 * dataset is one row), freed by the caller. Values must be finite. Used for
 * per-neuron initial states (`from_file`) and stored patterns (`hebbian`). */
apical_status apical_h5_array_read(const char *path, const char *dataset, double **data,
                                   size_t *rows, size_t *cols, apical_error *err);

#endif
