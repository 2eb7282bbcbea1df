/* HDF5 output in the SONATA layout (docs/output-format.md).
 *
 * The writer creates "<path>.part", buffers appends in memory and writes them
 * in chunks (shuffle + deflate 1), and only apical_h5_finish() marks the file
 * complete (root attribute `complete` = 1) and renames it to <path>. A run
 * that fails calls apical_h5_abort(), which removes the partial file; one
 * that is interrupted calls apical_h5_keep(), and one that crashes or is
 * killed leaves "<path>.part" with complete = 0 and everything up to its
 * last flush (live SWMR writing, below).
 *
 * Layout written:
 *   /                   attrs magic=0x0A7A (uint32), version=[0,1] (uint32),
 *                       complete (uint8), apical_version
 *   /spikes/<pop>/      attr sorting (enum uint8 none/by_id/by_time), NXdata attrs
 *       timestamps      float64 [n], attr units="ms"
 *       node_ids        uint64  [n]
 *   /report/<pop>/      (state recorders; one group per recorded population)
 *       data            float32 [n_times, n_nodes * n_vars], attr units
 *       mapping/node_ids, index_pointers, element_ids, time
 *   /report/<proj>/     (weight recorders; attr type = "weights")
 *       data            float32 [n_times, n_synapses], attr units
 *       mapping/source_node_ids, target_node_ids, time
 *   /edges/<proj>/      (SONATA edge population: final weights)
 *       source_node_id, target_node_id (uint64, attr node_population),
 *       edge_type_id (int64), edge_group_id (uint32), edge_group_index (uint64)
 *       0/syn_weight, 0/delay (float64, attr units)
 *   /provenance/        network text, resolved parameters, seed, solver, ...
 *   /overview/          (NeXus NXentry for h5web/silx, root attr default =
 *                       "overview"; written by finish and keep from the data
 *                       in the file) rates, raster[_<pop>], <report>_<var>,
 *                       <report>_weights: NXdata groups bounded in size
 */
#ifndef APICAL_H5OUT_H
#define APICAL_H5OUT_H

#include <stddef.h>
#include <stdint.h>

#include "apical/error.h"

typedef struct apical_h5 apical_h5;

/* Create <path>.part for writing (truncating an old one). Fails with
 * APICAL_E_IO and a message naming the path if it cannot be created. Checks
 * that <path> itself will be writable (its directory exists and is
 * writable). */
apical_status apical_h5_create(const char *path, apical_h5 **out,
                               apical_error *err);

/* Declare a spike population with n_nodes neurons. Returns its handle id. */
apical_status apical_h5_spikes_add(apical_h5 *h, const char *pop,
                                   uint64_t n_nodes, int *id,
                                   apical_error *err);

/* Append spikes (buffered). Spikes arrive in nondecreasing time order. */
apical_status apical_h5_spikes_append(apical_h5 *h, int id, const double *t,
                                      const uint64_t *node, size_t n,
                                      apical_error *err);

/* Declare a frame report over n_nodes neurons of pop, n_vars variables each
 * (names and units given), sampled every dt ms from t_start. */
apical_status apical_h5_report_add(apical_h5 *h, const char *pop,
                                   const uint64_t *node_ids, size_t n_nodes,
                                   const char *const *var_names,
                                   const char *const *var_units, size_t n_vars,
                                   double t_start, double dt, int *id,
                                   apical_error *err);

/* Append n_frames frames of n_nodes * n_vars float values each, node-major
 * (node 0 var 0, node 0 var 1, ..., node 1 var 0, ...). */
apical_status apical_h5_report_append(apical_h5 *h, int id,
                                      const float *frames, size_t n_frames,
                                      apical_error *err);

/* Declare a weight report over n synapses of projection `proj` (from
 * population src_pop to tgt_pop): column k is the synapse src_ids[k] ->
 * tgt_ids[k]; weights in `unit`, sampled every dt ms from t_start. Frames
 * are appended with apical_h5_report_append (n floats each). n may be 0. */
apical_status apical_h5_weights_add(apical_h5 *h, const char *proj,
                                    const char *src_pop, const char *tgt_pop,
                                    const uint64_t *src_ids,
                                    const uint64_t *tgt_ids, size_t n,
                                    const char *unit, double t_start,
                                    double dt, int *id, apical_error *err);

/* One edge population (SONATA edges layout), written whole: n edges
 * src[k] -> tgt[k] with weight w[k] (in weight_unit) and delay d[k] (ms),
 * between populations of n_src and n_tgt nodes. `rule` names the
 * plasticity rule (or "static"). A second call with the same name fails. */
typedef struct apical_h5_edges {
    const char *name;
    const char *src_pop, *tgt_pop;
    uint64_t n_src, n_tgt;
    const char *weight_unit;
    const char *rule;
    const char *receptor;
    size_t n;
    const uint64_t *src, *tgt;
    const double *w, *d;
} apical_h5_edges;

apical_status apical_h5_edges_write(apical_h5 *h, const apical_h5_edges *e,
                                    apical_error *err);

/* Edges gathered one at a time before apical_h5_edges_write: add has the
 * signature of apical_synapse_visit (sim.h), so a simulation's synapses go
 * straight in with apical_sim_synapses. Returns non-zero when out of memory.
 * Reuse a list by setting n = 0; free it with apical_h5_edge_list_free. */
typedef struct apical_h5_edge_list {
    size_t n, cap;
    uint64_t *src, *tgt;
    double *w, *d;
} apical_h5_edge_list;

int apical_h5_edge_list_add(void *list, uint64_t src, uint64_t tgt, double w, double d);
void apical_h5_edge_list_free(apical_h5_edge_list *l);

/* A table of rows appended one at a time, for what a protocol writes
 * (include/apical/protocol.h): group /<path> (its parent groups opened or
 * created) with one dataset per column, float64 or uint16, [rows] when the
 * column's width is 0, else [rows, width]; attribute `units` on a column
 * that has one, `description` on the group. Chunks of chunk_rows rows.
 * Rows are written chunk_rows at a time (one HDF5 write per column), and
 * whatever is pending at each apical_h5_flush and at the close. */
typedef enum apical_h5_type { APICAL_H5_F64, APICAL_H5_U16 } apical_h5_type;
typedef struct apical_h5_column {
    const char *name;
    apical_h5_type type;
    size_t width;      /* 0: one value per row */
    const char *units; /* NULL: none */
    int raw;           /* 1: stored uncompressed (values that deflate does
                        * not shrink, written every example) */
} apical_h5_column;

apical_status apical_h5_table_add(apical_h5 *h, const char *path, const char *description,
                                  const apical_h5_column *cols, size_t n_cols, size_t chunk_rows,
                                  int *id, apical_error *err);
/* One row: row[k] points at column k's values (max(width, 1) of them, as
 * double or uint16_t). */
apical_status apical_h5_table_append(apical_h5 *h, int id, const void *const *row,
                                     apical_error *err);

/* Provenance: string attribute / dataset under /provenance. */
apical_status apical_h5_provenance_string(apical_h5 *h, const char *name,
                                          const char *value, apical_error *err);
apical_status apical_h5_provenance_double(apical_h5 *h, const char *name,
                                          double value, const char *unit,
                                          apical_error *err);
apical_status apical_h5_provenance_u64(apical_h5 *h, const char *name,
                                       uint64_t value, apical_error *err);

/* Resolved parameters of one population: /provenance/populations/<pop>
 * with one attribute per parameter (value) and "<name>_unit". */
apical_status apical_h5_provenance_params(apical_h5 *h, const char *pop,
                                          const char *model,
                                          const char *const *names,
                                          const char *const *units,
                                          const double *values, size_t n,
                                          apical_error *err);

/* Live writing (SWMR; docs/output-format.md). Once every spike
 * population, report, provenance item and protocol table is created,
 * apical_h5_start_swmr creates /provenance/t_reached and switches the file
 * to SWMR mode: from then on readers may open it (h5py: swmr=True) and see
 * it grow, and nothing can be created in it (a table added later is kept
 * in memory and created when the file leaves the mode). apical_h5_flush
 * writes every buffer (whole or partial chunks), then t_reached (ms of
 * simulated time the data on disk cover), then flushes the file: a process
 * killed at any moment leaves a file that opens and holds all that.
 * apical_h5_end_swmr flushes and reopens the file in normal mode, for what
 * is written at the end (edges, wall times); apical_h5_finish does it if
 * needed. */
apical_status apical_h5_start_swmr(apical_h5 *h, apical_error *err);
apical_status apical_h5_flush(apical_h5 *h, double t_reached, apical_error *err);
apical_status apical_h5_end_swmr(apical_h5 *h, double t_reached, apical_error *err);

/* An interrupted run: flush everything up to t_reached, record `why` as
 * /provenance/stopped, close and sync, and keep <path>.part (complete = 0).
 * Frees h. */
apical_status apical_h5_keep(apical_h5 *h, const char *why, double t_reached, apical_error *err);

/* After a write error (e.g. a full disk): close without writing more and
 * keep <path>.part as the last flush left it. Frees h. NULL-safe. */
void apical_h5_leave(apical_h5 *h);

/* The simulated time (ms) the last apical_h5_flush recorded. */
double apical_h5_reached(const apical_h5 *h);

/* Flush buffers, write stop time of reports, write /overview and the root
 * `default`, mark complete, close, rename <path>.part to <path>. Frees h in
 * all cases. */
apical_status apical_h5_finish(apical_h5 *h, apical_error *err);

/* Close and delete <path>.part. Frees h. NULL-safe. */
void apical_h5_abort(apical_h5 *h);

/* The common end of a protocol's checkpoint file: with st == APICAL_OK,
 * the seed and network text into /provenance, then apical_h5_finish; on
 * any error (st's or these writes') apical_h5_abort, so no partial
 * checkpoint is left looking complete. Frees h; returns the first error. */
apical_status apical_h5_end_checkpoint(apical_h5 *h, apical_status st, uint64_t seed,
                                       const char *network, apical_error *err);

#endif
