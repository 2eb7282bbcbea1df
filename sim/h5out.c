/* HDF5 output writer in the SONATA layout. The layout, units and the meaning
 * of every object are documented in docs/output-format.md; keep the two in
 * step.
 *
 * Design notes:
 * - Everything goes to "<path>.part"; only apical_h5_finish() sets the root
 *   attribute complete = 1 and renames the file, so a file under the final
 *   name is always complete.
 * - Live (SWMR) writing: every dataset is created first, then
 *   apical_h5_start_swmr() switches the file to single-writer /
 *   multiple-reader mode, in which readers (h5py swmr=True, silx, h5web)
 *   see it grow and a process killed at any moment leaves a file that
 *   opens, with everything up to the last apical_h5_flush() and
 *   /provenance/t_reached saying how far that is. Nothing can be created
 *   in that mode, so the file leaves it (closed and reopened) for what is
 *   known only at the end: edges, wall times, `default`, `complete`.
 * - Spikes and report frames are collected in memory and written one chunk at
 *   a time: a per-spike H5Dwrite costs ~70 k spikes/s, chunk-sized writes
 *   millions/s (REFERENCES.md §6). Buffers are chunk-sized so each flush
 *   writes whole chunks and the chunk cache never has to read a chunk back.
 * - After each flush the file's metadata is flushed too, so that a run that
 *   crashes usually leaves a readable .part holding everything flushed so far.
 * - Any HDF5 failure puts the handle into a failed state: later calls fail
 *   and finish() removes the .part, because a half-written extend/write pair
 *   leaves timestamps and node_ids of different lengths. */
#include "apical/h5out.h"

#include <fcntl.h>

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hdf5.h>

#include "apical/paths.h"

#ifndef APICAL_VERSION
#define APICAL_VERSION "0.1.0"
#endif

enum {
    SONATA_MAGIC = 0x0A7A,
    /* Spikes per buffer (512 KiB per dataset) */
    SPIKE_CHUNK = 65536,
    /* and per chunk: every flush of a live file writes the last, partial
     * chunk again, compressed (with 64 Ki spikes per chunk ~9 ms a flush,
     * up to 20 flushes a second on MNIST: ~20% of the run) */
    SPIKE_DSET_CHUNK = 8192,
    /* Target values per report chunk (256 KiB of float32). */
    REPORT_CHUNK_VALUES = 65536,
    /* The SONATA `sorting` enum values. */
    SORT_NONE = 0,
    SORT_BY_ID = 1,
    SORT_BY_TIME = 2,
};

typedef struct spike_pop {
    char *name;
    uint64_t n_nodes;
    hid_t grp, ds_t, ds_node;
    double *buf_t;
    uint64_t *buf_node;
    size_t len;       /* spikes in the buffers */
    hsize_t written;  /* spikes already in the file */
    double last_t;    /* time of the last accepted spike (order check) */
} spike_pop;

typedef struct report {
    char *name;       /* group name under /report (may carry a _k suffix) */
    hid_t grp, ds_data, ds_time;
    size_t width;     /* values per frame: n_nodes * n_vars */
    size_t buf_rows;  /* buffer capacity in frames (= chunk rows) */
    float *buf;
    size_t len;       /* frames in the buffer */
    hsize_t written;  /* frames already in the file */
    double t_start, dt;
    /* for /overview (written at the end, from the file) */
    int weights;      /* a weights report: histogram; else one NXdata per variable */
    size_t n_vars;    /* state: variables per node (width = n_nodes * n_vars) */
    char **var_names, **var_units; /* state: n_vars each */
    char *unit;       /* weights: the weight unit */
    char *label;      /* population (state) or projection (weights) */
} report;

/* A table (apical_h5_table_add): one extendible dataset per column. A
 * table added once the file is live (SWMR, where nothing can be created)
 * is deferred: its rows are kept in memory and it is created when the
 * file leaves SWMR mode (apical_h5_end_swmr). */
typedef struct table {
    hid_t grp;
    hid_t *ds;
    apical_h5_column *col; /* deferred: name and units copied; else not kept */
    size_t n_col;
    hsize_t rows;
    int deferred;
    char *path, *desc;
    size_t chunk_rows;
    unsigned char *pend; /* deferred rows, row_bytes each */
    size_t row_bytes, n_pend, cap_pend;
    /* rows appended and not written yet: per column k, chunk_rows rows at
     * blk + blk_off[k] */
    unsigned char *blk;
    size_t *blk_off, n_blk;
} table;

struct apical_h5 {
    char *path, *part;
    dev_t part_dev; /* the .part we created, to fsync that file and no other */
    ino_t part_ino;
    hid_t file;
    hid_t g_spikes, g_report, g_edges, g_prov, g_prov_pops; /* created on first use */
    table *tab;
    size_t n_tab;
    spike_pop *spk;
    size_t n_spk;
    report *rep;
    size_t n_rep;
    int failed;
    int swmr;          /* live: SWMR writing started, nothing can be created */
    hid_t ds_reached;  /* /provenance/t_reached: simulated time on disk */
    double t_reached;
};

/* ---- error helpers ------------------------------------------------------ */

typedef struct h5_reason {
    char text[512];
    int found;
} h5_reason;

/* H5Ewalk callback: the upward walk starts at the innermost record, the one
 * that says what actually went wrong (e.g. errno text); keep that one. */
static herr_t reason_walk(unsigned n, const H5E_error2_t *e, void *data)
{
    h5_reason *r = data;
    (void)n;
    if (!r->found && e->desc && e->desc[0]) {
        /* a failed write says "file write failed: time = ..., errno = 28,
         * error message = 'No space left on device', buf = ..." over two
         * lines: keep what the user needs, on one line */
        const char *m = strstr(e->desc, "error message = '");
        if (m) {
            m += strlen("error message = '");
            const char *q = strchr(m, '\'');
            snprintf(r->text, sizeof r->text, "%.*s", q ? (int)(q - m) : (int)strlen(m), m);
        } else {
            snprintf(r->text, sizeof r->text, "%.*s", (int)strcspn(e->desc, "\n"), e->desc);
        }
        r->found = 1;
    }
    return 0;
}

/* Record an HDF5 failure: must be called right after the failing call,
 * before any other HDF5 call clears the error stack. */
static apical_status h5_fail(apical_h5 *h, apical_error *err, const char *fmt,
                             ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
static apical_status h5_fail(apical_h5 *h, apical_error *err, const char *fmt,
                             ...)
{
    h5_reason r = {.found = 0};
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, reason_walk, &r);
    H5Eclear2(H5E_DEFAULT);
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (h)
        h->failed = 1;
    return apical_error_set(err, APICAL_E_HDF5, NULL, "%s: %s: %s",
                            h ? h->part : "(no file)", what,
                            r.found ? r.text : "unknown HDF5 error");
}

static apical_status check_usable(const apical_h5 *h, apical_error *err)
{
    if (!h)
        return apical_error_set(err, APICAL_E_INVALID, NULL,
                                "HDF5 output: NULL handle");
    if (h->failed)
        return apical_error_set(err, APICAL_E_HDF5, NULL,
                                "%s: output file unusable after an earlier "
                                "write error",
                                h->part);
    return APICAL_OK;
}

/* Nothing can be created in a file being written with SWMR. */
static apical_status check_creatable(const apical_h5 *h, const char *what, apical_error *err)
{
    apical_status st = check_usable(h, err);
    if (st == APICAL_OK && h->swmr)
        st = apical_error_set(err, APICAL_E_INVALID, NULL,
                              "HDF5 output: %s created after the file went live (SWMR); "
                              "create every dataset before apical_h5_start_swmr",
                              what);
    return st;
}

/* Names become HDF5 link names: no '/', not "." and not empty. */
static int valid_name(const char *s)
{
    return s && s[0] && !strchr(s, '/') && strcmp(s, ".") != 0;
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

static void close_id(hid_t *id, herr_t (*fn)(hid_t))
{
    if (*id >= 0)
        fn(*id);
    *id = H5I_INVALID_HID;
}

static char *ov_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- attribute and dataset helpers -------------------------------------- */

/* Variable-length UTF-8 string type (h5py reads it back as str). */
static hid_t vlen_str_type(void)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    if (t < 0)
        return t;
    if (H5Tset_size(t, H5T_VARIABLE) < 0 || H5Tset_cset(t, H5T_CSET_UTF8) < 0) {
        H5Tclose(t);
        return H5I_INVALID_HID;
    }
    return t;
}

/* Write an attribute of rank 0 (dims NULL) or 1. */
static herr_t attr_write(hid_t loc, const char *name, hid_t ftype, hid_t mtype,
                         const hsize_t *dim, const void *buf)
{
    herr_t rc = -1;
    hid_t a = H5I_INVALID_HID;
    hid_t sp = dim ? H5Screate_simple(1, dim, NULL) : H5Screate(H5S_SCALAR);
    if (sp < 0)
        return -1;
    a = H5Acreate2(loc, name, ftype, sp, H5P_DEFAULT, H5P_DEFAULT);
    if (a < 0)
        goto out;
    rc = H5Awrite(a, mtype, buf);
out:
    if (a >= 0 && H5Aclose(a) < 0)
        rc = -1;
    H5Sclose(sp);
    return rc;
}

static herr_t attr_str(hid_t loc, const char *name, const char *value)
{
    hid_t t = vlen_str_type();
    if (t < 0)
        return -1;
    const char *v = value ? value : "";
    herr_t rc = attr_write(loc, name, t, t, NULL, &v);
    H5Tclose(t);
    return rc;
}

/* A 1-D string array attribute; NULL entries are written as "". */
static herr_t attr_strv(hid_t loc, const char *name, const char *const *v,
                        size_t n)
{
    herr_t rc = -1;
    const char **tmp = malloc((n ? n : 1) * sizeof *tmp);
    hid_t t = vlen_str_type();
    if (!tmp || t < 0)
        goto out;
    for (size_t i = 0; i < n; i++)
        tmp[i] = (v && v[i]) ? v[i] : "";
    hsize_t dim = n;
    rc = attr_write(loc, name, t, t, &dim, tmp);
out:
    if (t >= 0)
        H5Tclose(t);
    free(tmp);
    return rc;
}

static herr_t attr_u32(hid_t loc, const char *name, uint32_t v)
{
    return attr_write(loc, name, H5T_STD_U32LE, H5T_NATIVE_UINT32, NULL, &v);
}

static herr_t attr_u64(hid_t loc, const char *name, uint64_t v)
{
    return attr_write(loc, name, H5T_STD_U64LE, H5T_NATIVE_UINT64, NULL, &v);
}

static herr_t attr_f64(hid_t loc, const char *name, double v)
{
    return attr_write(loc, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, NULL, &v);
}

/* The SONATA sorting attribute: an enum over uint8 whose names libsonata
 * matches exactly ("none", "by_id", "by_time"). */
static herr_t attr_sorting(hid_t loc, uint8_t value)
{
    herr_t rc = -1;
    hid_t t = H5Tenum_create(H5T_STD_U8LE);
    if (t < 0)
        return -1;
    uint8_t v;
    v = SORT_NONE;
    if (H5Tenum_insert(t, "none", &v) < 0)
        goto out;
    v = SORT_BY_ID;
    if (H5Tenum_insert(t, "by_id", &v) < 0)
        goto out;
    v = SORT_BY_TIME;
    if (H5Tenum_insert(t, "by_time", &v) < 0)
        goto out;
    rc = attr_write(loc, "sorting", t, t, NULL, &value);
out:
    H5Tclose(t);
    return rc;
}

/* A fixed-size 1-D dataset written in one go. */
static herr_t dset_write_1d(hid_t loc, const char *name, hid_t ftype,
                            hid_t mtype, hsize_t n, const void *buf)
{
    herr_t rc = -1;
    hid_t d = H5I_INVALID_HID;
    hid_t sp = H5Screate_simple(1, &n, NULL);
    if (sp < 0)
        return -1;
    d = H5Dcreate2(loc, name, ftype, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (d < 0)
        goto out;
    rc = n ? H5Dwrite(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) : 0;
out:
    if (d >= 0 && H5Dclose(d) < 0)
        rc = -1;
    H5Sclose(sp);
    return rc;
}

/* An empty extendible dataset: rank 1 [0] or rank 2 [0, width], unlimited
 * along axis 0, chunked, shuffle + deflate(1). */
static hid_t dset_extendible_opt(hid_t loc, const char *name, hid_t ftype, int rank,
                                 hsize_t width, const hsize_t *chunk, int raw);

static hid_t dset_extendible(hid_t loc, const char *name, hid_t ftype, int rank,
                             hsize_t width, const hsize_t *chunk)
{
    return dset_extendible_opt(loc, name, ftype, rank, width, chunk, 0);
}

/* The same, uncompressed when raw. */
static hid_t dset_extendible_opt(hid_t loc, const char *name, hid_t ftype, int rank,
                                 hsize_t width, const hsize_t *chunk, int raw)
{
    hid_t d = H5I_INVALID_HID;
    hsize_t dims[2] = {0, width};
    /* a report over no synapses has width 0: chunks need a non-zero size,
     * so its second axis is declared unlimited */
    hsize_t maxd[2] = {H5S_UNLIMITED, width ? width : H5S_UNLIMITED};
    hid_t sp = H5Screate_simple(rank, dims, maxd);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    if (sp < 0 || dcpl < 0)
        goto out;
    if (H5Pset_chunk(dcpl, rank, chunk) < 0)
        goto out;
    /* Without the deflate filter (unusual builds) write uncompressed rather
     * than fail: the data matter more than their size. */
    if (!raw && H5Zfilter_avail(H5Z_FILTER_DEFLATE) > 0) {
        if (H5Pset_shuffle(dcpl) < 0 || H5Pset_deflate(dcpl, 1) < 0)
            goto out;
    }
    d = H5Dcreate2(loc, name, ftype, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
out:
    if (dcpl >= 0)
        H5Pclose(dcpl);
    if (sp >= 0)
        H5Sclose(sp);
    return d;
}

/* Append count[0] rows (rank 1 or 2) at row `offset`. */
static herr_t dset_append(hid_t d, hid_t mtype, int rank, hsize_t offset,
                          const hsize_t *count, hsize_t width, const void *buf)
{
    herr_t rc = -1;
    hid_t fs = H5I_INVALID_HID, ms = H5I_INVALID_HID;
    hsize_t size[2] = {offset + count[0], width};
    hsize_t start[2] = {offset, 0};
    if (H5Dset_extent(d, size) < 0)
        return -1;
    fs = H5Dget_space(d);
    ms = H5Screate_simple(rank, count, NULL);
    if (fs < 0 || ms < 0)
        goto out;
    if (H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL) < 0)
        goto out;
    rc = H5Dwrite(d, mtype, ms, fs, H5P_DEFAULT, buf);
out:
    if (ms >= 0)
        H5Sclose(ms);
    if (fs >= 0)
        H5Sclose(fs);
    return rc;
}

/* Open-or-create a top-level group, remembered in *g. */
static herr_t ensure_group(hid_t parent, const char *name, hid_t *g)
{
    if (*g >= 0)
        return 0;
    /* opened again after the file left SWMR mode */
    htri_t ex = H5Lexists(parent, name, H5P_DEFAULT);
    *g = ex > 0 ? H5Gopen2(parent, name, H5P_DEFAULT)
                : H5Gcreate2(parent, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    return *g < 0 ? -1 : 0;
}

/* ---- create / close ------------------------------------------------------ */

/* Close every HDF5 object and the file; free buffers. Returns the result of
 * closing the file (which is when HDF5 writes what it still caches). */
static herr_t tables_write_blocks(apical_h5 *h);

static herr_t close_all(apical_h5 *h)
{
    for (size_t i = 0; i < h->n_spk; i++) {
        spike_pop *p = &h->spk[i];
        close_id(&p->ds_t, H5Dclose);
        close_id(&p->ds_node, H5Dclose);
        close_id(&p->grp, H5Gclose);
    }
    for (size_t i = 0; i < h->n_rep; i++) {
        report *r = &h->rep[i];
        close_id(&r->ds_data, H5Dclose);
        close_id(&r->ds_time, H5Dclose);
        close_id(&r->grp, H5Gclose);
    }
    for (size_t i = 0; i < h->n_tab; i++) {
        table *tb = &h->tab[i];
        for (size_t k = 0; tb->ds && k < tb->n_col; k++)
            close_id(&tb->ds[k], H5Dclose);
        close_id(&tb->grp, H5Gclose);
    }
    close_id(&h->ds_reached, H5Dclose);
    close_id(&h->g_spikes, H5Gclose);
    close_id(&h->g_report, H5Gclose);
    close_id(&h->g_edges, H5Gclose);
    close_id(&h->g_prov_pops, H5Gclose);
    close_id(&h->g_prov, H5Gclose);
    herr_t rc = 0;
    if (h->file >= 0)
        rc = H5Fclose(h->file);
    h->file = H5I_INVALID_HID;
    return rc;
}

static void report_free_meta(report *r)
{
    for (size_t j = 0; j < r->n_vars; j++) {
        free(r->var_names ? r->var_names[j] : NULL);
        free(r->var_units ? r->var_units[j] : NULL);
    }
    free(r->var_names);
    free(r->var_units);
    free(r->unit);
    free(r->label);
    r->var_names = r->var_units = NULL;
    r->unit = r->label = NULL;
    r->n_vars = 0;
}

static void free_handle(apical_h5 *h)
{
    if (!h)
        return;
    for (size_t i = 0; i < h->n_spk; i++) {
        free(h->spk[i].name);
        free(h->spk[i].buf_t);
        free(h->spk[i].buf_node);
    }
    for (size_t i = 0; i < h->n_rep; i++) {
        free(h->rep[i].name);
        free(h->rep[i].buf);
        report_free_meta(&h->rep[i]);
    }
    free(h->spk);
    free(h->rep);
    for (size_t i = 0; i < h->n_tab; i++) {
        table *tb = &h->tab[i];
        /* a table added while live owns copies of its names (path set) */
        for (size_t k = 0; tb->path && tb->col && k < tb->n_col; k++) {
            free((char *)tb->col[k].name);
            free((char *)tb->col[k].units);
        }
        free(tb->ds);
        free(tb->col);
        free(tb->path);
        free(tb->desc);
        free(tb->pend);
        free(tb->blk);
        free(tb->blk_off);
    }
    free(h->tab);
    free(h->path);
    free(h->part);
    free(h);
}

apical_status apical_h5_create(const char *path, apical_h5 **out,
                               apical_error *err)
{
    apical_status st;
    hid_t fapl = H5I_INVALID_HID;
    int created = 0;
    if (out)
        *out = NULL;
    if (!path || !path[0] || !out)
        return apical_error_set(err, APICAL_E_INVALID, NULL,
                                "HDF5 output: empty path");

    /* HDF5 prints its error stack to stderr by default; we report errors
     * ourselves (h5_fail reads the stack). This setting is per thread in the
     * library, not ours, so setting it on every create is harmless. */
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);

    st = apical_output_check(path, APICAL_OUT_RENAMED, NULL, 0, err);
    if (st != APICAL_OK)
        return st;

    apical_h5 *h = calloc(1, sizeof *h);
    if (!h)
        return apical_error_set(err, APICAL_E_NOMEM, NULL, "out of memory");
    h->file = h->g_spikes = h->g_report = h->g_edges = H5I_INVALID_HID;
    h->g_prov = h->g_prov_pops = h->ds_reached = H5I_INVALID_HID;
    h->path = dup_str(path);
    h->part = malloc(strlen(path) + sizeof ".part");
    if (!h->path || !h->part) {
        st = apical_error_set(err, APICAL_E_NOMEM, NULL, "out of memory");
        goto fail;
    }
    sprintf(h->part, "%s.part", path);
    /* Never write into or through an existing .part: it may be a symbolic
     * link (whose target would be truncated), or the file of another run
     * writing the same output now, which a crashed run's leftover cannot be
     * told apart from without a lock. The user decides. */
    struct stat pb;
    if (lstat(h->part, &pb) == 0) {
        st = apical_error_set(err, APICAL_E_IO, NULL,
                              S_ISLNK(pb.st_mode)
                                  ? "'%s' exists and is a symbolic link; refusing to write "
                                    "through it: remove it or choose another output"
                                  : "'%s' exists (left by a run that crashed, or written by "
                                    "another run now): remove it or choose another output",
                              h->part);
        goto fail;
    }

    fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0) {
        st = h5_fail(h, err, "cannot create file access properties");
        goto fail;
    }
    /* The latest format (1.10 here): SWMR writing needs it (its chunk
     * indexes and superblock v3); readable by HDF5 >= 1.10 (h5py, silx,
     * h5web's h5wasm, libsonata). A strong close degree makes H5Fclose
     * release anything left open. */
    if (H5Pset_libver_bounds(fapl, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST) < 0 ||
        H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG) < 0) {
        st = h5_fail(h, err, "cannot set file access properties");
        goto fail;
    }
    /* H5F_ACC_EXCL opens with O_CREAT | O_EXCL, which fails on any
     * existing name, a symbolic link included (POSIX: O_EXCL does not
     * follow the last component, as O_NOFOLLOW): the .part is a new file
     * of ours, even if one appeared since the check above. */
    h->file = H5Fcreate(h->part, H5F_ACC_EXCL, H5P_DEFAULT, fapl);
    if (h->file < 0) {
        h5_reason r = {.found = 0};
        H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, reason_walk, &r);
        H5Eclear2(H5E_DEFAULT);
        st = apical_error_set(err, APICAL_E_IO, NULL,
                              "cannot create output file '%s': %s", h->part,
                              r.found ? r.text : "unknown HDF5 error");
        goto fail;
    }
    created = 1;
    if (stat(h->part, &pb) == 0) {
        h->part_dev = pb.st_dev;
        h->part_ino = pb.st_ino;
    }

    uint32_t version[2] = {0, 1};
    hsize_t two = 2;
    uint8_t incomplete = 0;
    if (attr_u32(h->file, "magic", SONATA_MAGIC) < 0 ||
        attr_write(h->file, "version", H5T_STD_U32LE, H5T_NATIVE_UINT32, &two,
                   version) < 0 ||
        attr_write(h->file, "complete", H5T_STD_U8LE, H5T_NATIVE_UINT8, NULL,
                   &incomplete) < 0 ||
        attr_str(h->file, "apical_version", APICAL_VERSION) < 0) {
        st = h5_fail(h, err, "cannot write root attributes");
        goto fail;
    }
    /* Put the root attributes on disk now, so even a run that crashes at
     * once leaves a .part that says complete = 0. */
    if (H5Fflush(h->file, H5F_SCOPE_LOCAL) < 0) {
        st = h5_fail(h, err, "cannot flush");
        goto fail;
    }
    H5Pclose(fapl);
    *out = h;
    return APICAL_OK;

fail:
    if (fapl >= 0)
        H5Pclose(fapl);
    close_all(h);
    /* Never leave a file behind; only ever remove the .part we created. */
    if (created)
        unlink(h->part);
    free_handle(h);
    return st;
}

/* ---- spikes --------------------------------------------------------------- */

apical_status apical_h5_spikes_add(apical_h5 *h, const char *pop,
                                   uint64_t n_nodes, int *id, apical_error *err)
{
    apical_status st = check_creatable(h, "a spike population", err);
    if (st != APICAL_OK)
        return st;
    if (!valid_name(pop) || !id)
        return apical_error_set(err, APICAL_E_INVALID, NULL,
                                "HDF5 output: invalid spike population name "
                                "'%s'",
                                pop ? pop : "(null)");
    for (size_t i = 0; i < h->n_spk; i++)
        if (strcmp(h->spk[i].name, pop) == 0)
            return apical_error_set(err, APICAL_E_INVALID, NULL,
                                    "HDF5 output: spikes of population '%s' "
                                    "recorded twice",
                                    pop);
    if (h->n_spk >= (size_t)INT32_MAX)
        return apical_error_set(err, APICAL_E_RANGE, NULL,
                                "HDF5 output: too many spike populations");

    spike_pop *grown = realloc(h->spk, (h->n_spk + 1) * sizeof *grown);
    if (!grown)
        return apical_error_set(err, APICAL_E_NOMEM, NULL, "out of memory");
    h->spk = grown;
    spike_pop *p = &h->spk[h->n_spk];
    *p = (spike_pop){.n_nodes = n_nodes,
                     .grp = H5I_INVALID_HID,
                     .ds_t = H5I_INVALID_HID,
                     .ds_node = H5I_INVALID_HID,
                     .last_t = -INFINITY};
    p->name = dup_str(pop);
    p->buf_t = malloc(SPIKE_CHUNK * sizeof *p->buf_t);
    p->buf_node = malloc(SPIKE_CHUNK * sizeof *p->buf_node);
    if (!p->name || !p->buf_t || !p->buf_node) {
        st = apical_error_set(err, APICAL_E_NOMEM, NULL, "out of memory");
        goto fail;
    }

    const hsize_t chunk = SPIKE_DSET_CHUNK;
    const char *axes[2] = {"timestamps", "node_ids"};
    if (ensure_group(h->file, "spikes", &h->g_spikes) < 0) {
        st = h5_fail(h, err, "cannot create /spikes");
        goto fail;
    }
    p->grp = H5Gcreate2(h->g_spikes, pop, H5P_DEFAULT, H5P_DEFAULT,
                        H5P_DEFAULT);
    if (p->grp < 0) {
        st = h5_fail(h, err, "cannot create /spikes/%s", pop);
        goto fail;
    }
    p->ds_t = dset_extendible(p->grp, "timestamps", H5T_IEEE_F64LE, 1, 0,
                              &chunk);
    p->ds_node = p->ds_t < 0 ? H5I_INVALID_HID
                             : dset_extendible(p->grp, "node_ids",
                                               H5T_STD_U64LE, 1, 0, &chunk);
    if (p->ds_node < 0) {
        st = h5_fail(h, err, "cannot create datasets in /spikes/%s", pop);
        goto fail;
    }
    /* SONATA: sorting by_time (the simulator emits spikes in time order,
     * checked in append). NeXus: signal plus two axes of the same length is
     * what h5web draws as a scatter plot, i.e. a raster (x = time,
     * y = node id, colour = node id). */
    if (attr_str(p->ds_t, "units", "ms") < 0 ||
        attr_str(p->ds_t, "long_name", "spike time (ms)") < 0 ||
        attr_str(p->ds_node, "long_name", "node id") < 0 ||
        attr_sorting(p->grp, SORT_BY_TIME) < 0 ||
        attr_u64(p->grp, "n_nodes", n_nodes) < 0 ||
        attr_str(p->grp, "NX_class", "NXdata") < 0 ||
        attr_str(p->grp, "signal", "node_ids") < 0 ||
        attr_strv(p->grp, "axes", axes, 2) < 0) {
        st = h5_fail(h, err, "cannot write attributes of /spikes/%s", pop);
        goto fail;
    }
    *id = (int)h->n_spk;
    h->n_spk++;
    return APICAL_OK;

fail:
    close_id(&p->ds_t, H5Dclose);
    close_id(&p->ds_node, H5Dclose);
    close_id(&p->grp, H5Gclose);
    free(p->name);
    free(p->buf_t);
    free(p->buf_node);
    return st;
}

static apical_status spikes_flush(apical_h5 *h, spike_pop *p, apical_error *err)
{
    if (p->len == 0)
        return APICAL_OK;
    hsize_t count = p->len;
    if (dset_append(p->ds_t, H5T_NATIVE_DOUBLE, 1, p->written, &count, 0,
                    p->buf_t) < 0 ||
        dset_append(p->ds_node, H5T_NATIVE_UINT64, 1, p->written, &count, 0,
                    p->buf_node) < 0)
        return h5_fail(h, err, "cannot append to /spikes/%s", p->name);
    p->written += count;
    p->len = 0;
    if (H5Fflush(h->file, H5F_SCOPE_LOCAL) < 0)
        return h5_fail(h, err, "cannot flush");
    return APICAL_OK;
}

apical_status apical_h5_spikes_append(apical_h5 *h, int id, const double *t,
                                      const uint64_t *node, size_t n,
                                      apical_error *err)
{
    apical_status st = check_usable(h, err);
    if (st != APICAL_OK)
        return st;
    if (id < 0 || (size_t)id >= h->n_spk)
        return apical_error_set(err, APICAL_E_INVALID, NULL,
                                "HDF5 output: no spike population with id %d",
                                id);
    if (n == 0)
        return APICAL_OK;
    if (!t || !node)
        return apical_error_set(err, APICAL_E_INVALID, NULL,
                                "HDF5 output: NULL spike arrays");
    spike_pop *p = &h->spk[id];

    /* Check the whole batch first so a rejected batch changes nothing. The
     * file claims sorting = by_time, so a decreasing time is a bug upstream
     * that must not produce a file that lies. */
    double last = p->last_t;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(t[i]) || !(t[i] >= last))
            return apical_error_set(err, APICAL_E_INVALID, NULL,
                                    "HDF5 output: spike time %g ms of "
                                    "population '%s' is not finite or before "
                                    "the previous spike (%g ms)",
                                    t[i], p->name, last);
        if (node[i] >= p->n_nodes)
            return apical_error_set(err, APICAL_E_INVALID, NULL,
                                    "HDF5 output: node id %llu out of range "
                                    "for population '%s' of %llu nodes",
                                    (unsigned long long)node[i], p->name,
                                    (unsigned long long)p->n_nodes);
        last = t[i];
    }
    p->last_t = last;

    size_t done = 0;
    while (done < n) {
        size_t k = SPIKE_CHUNK - p->len;
        if (k > n - done)
            k = n - done;
        memcpy(p->buf_t + p->len, t + done, k * sizeof *t);
        memcpy(p->buf_node + p->len, node + done, k * sizeof *node);
        p->len += k;
        done += k;
        if (p->len == SPIKE_CHUNK) {
            st = spikes_flush(h, p, err);
            if (st != APICAL_OK)
                return st;
        }
    }
    return APICAL_OK;
}

/* ---- reports -------------------------------------------------------------- */

/* Group name for a report on `pop`: pop itself, then pop_2, pop_3, ... for
 * further recorders on the same population. */
static char *report_name(const apical_h5 *h, const char *pop)
{
    size_t cap = strlen(pop) + 24;
    char *name = malloc(cap);
    if (!name)
        return NULL;
    for (unsigned k = 1;; k++) {
        if (k == 1)
            snprintf(name, cap, "%s", pop);
        else
            snprintf(name, cap, "%s_%u", pop, k);
        int taken = 0;
        for (size_t i = 0; i < h->n_rep && !taken; i++)
            taken = strcmp(h->rep[i].name, name) == 0;
        if (!taken)
            return name;
    }
}

static herr_t report_write_time(report *r)
{
    double tm[3] = {r->t_start, r->t_start + (double)r->written * r->dt, r->dt};
    return H5Dwrite(r->ds_time, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL,
                    H5P_DEFAULT, tm);
}

/* The mapping group: which node and variable each column of data holds. */
static herr_t report_mapping(hid_t grp, const uint64_t *node_ids,
                             size_t n_nodes, size_t n_vars, hid_t *ds_time)
{
    herr_t rc = -1;
    hid_t m = H5I_INVALID_HID, sp = H5I_INVALID_HID;
    uint64_t *ptr = malloc((n_nodes + 1) * sizeof *ptr);
    uint32_t *elem = malloc(n_nodes * n_vars * sizeof *elem);
    if (!ptr || !elem)
        goto out;
    for (size_t i = 0; i <= n_nodes; i++)
        ptr[i] = (uint64_t)i * n_vars;
    for (size_t i = 0; i < n_nodes; i++)
        for (size_t j = 0; j < n_vars; j++)
            elem[i * n_vars + j] = (uint32_t)j;

    m = H5Gcreate2(grp, "mapping", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (m < 0)
        goto out;
    if (dset_write_1d(m, "node_ids", H5T_STD_U64LE, H5T_NATIVE_UINT64, n_nodes,
                      node_ids) < 0 ||
        dset_write_1d(m, "index_pointers", H5T_STD_U64LE, H5T_NATIVE_UINT64,
                      n_nodes + 1, ptr) < 0 ||
        dset_write_1d(m, "element_ids", H5T_STD_U32LE, H5T_NATIVE_UINT32,
                      n_nodes * n_vars, elem) < 0)
        goto out;
    hsize_t three = 3;
    sp = H5Screate_simple(1, &three, NULL);
    if (sp < 0)
        goto out;
    *ds_time = H5Dcreate2(m, "time", H5T_IEEE_F64LE, sp, H5P_DEFAULT,
                          H5P_DEFAULT, H5P_DEFAULT);
    if (*ds_time < 0 || attr_str(*ds_time, "units", "ms") < 0 ||
        attr_str(*ds_time, "long_name", "start, stop, step (ms)") < 0)
        goto out;
    rc = 0;
out:
    if (sp >= 0)
        H5Sclose(sp);
    if (m >= 0)
        H5Gclose(m);
    free(ptr);
    free(elem);
    return rc;
}

apical_status apical_h5_report_add(apical_h5 *h, const char *pop,
                                   const uint64_t *node_ids, size_t n_nodes,
                                   const char *const *var_names,
                                   const char *const *var_units, size_t n_vars,
                                   double t_start, double dt, int *id,
                                   apical_error *err)
{
    apical_status st = check_creatable(h, "a report", err);
    if (st != APICAL_OK)
        return st;
    if (!valid_name(pop) || !id || !node_ids || !var_names || n_nodes == 0 ||
        n_vars == 0)
        return apical_error_set(err, APICAL_E_INVALID, NULL,
                                "HDF5 output: report on '%s' needs a valid "
                                "name, at least one node and one variable",
                                pop ? pop : "(null)");
    for (size_t j = 0; j < n_vars; j++)
        if (!var_names[j] || !var_names[j][0])
            return apical_error_set(err, APICAL_E_INVALID, NULL,
                                    "HDF5 output: report on '%s': variable "
                                    "%zu has no name",
                                    pop, j);
    if (!isfinite(t_start) || !isfinite(dt) || !(dt > 0))
        return apical_error_set(err, APICAL_E_INVALID, NULL,
                                "HDF5 output: report on '%s': bad start %g ms "
                                "or step %g ms",
                                pop, t_start, dt);
    /* element_ids are uint32 and the buffer size must not overflow. */
    if (n_vars > UINT32_MAX || n_nodes > SIZE_MAX / n_vars / sizeof(float))
        return apical_error_set(err, APICAL_E_RANGE, NULL,
                                "HDF5 output: report on '%s' too large", pop);
    if (h->n_rep >= (size_t)INT32_MAX)
        return apical_error_set(err, APICAL_E_RANGE, NULL,
                                "HDF5 output: too many reports");

    report *grown = realloc(h->rep, (h->n_rep + 1) * sizeof *grown);
    if (!grown)
        return apical_error_set(err, APICAL_E_NOMEM, NULL, "out of memory");
    h->rep = grown;
    report *r = &h->rep[h->n_rep];
    *r = (report){.grp = H5I_INVALID_HID,
                  .ds_data = H5I_INVALID_HID,
                  .ds_time = H5I_INVALID_HID,
                  .width = n_nodes * n_vars,
                  .t_start = t_start,
                  .dt = dt};
    /* Chunks of about REPORT_CHUNK_VALUES values: whole frames when a frame
     * is small, a slice of one frame when it is large. The buffer holds one
     * chunk row so each flush writes whole chunks. */
    hsize_t chunk[2];
    chunk[1] = r->width < REPORT_CHUNK_VALUES ? r->width : REPORT_CHUNK_VALUES;
    chunk[0] = REPORT_CHUNK_VALUES / chunk[1];
    r->buf_rows = (size_t)chunk[0];
    r->name = report_name(h, pop);
    r->buf = malloc(r->buf_rows * r->width * sizeof *r->buf);
    r->label = dup_str(pop);
    r->var_names = calloc(n_vars, sizeof *r->var_names);
    r->var_units = calloc(n_vars, sizeof *r->var_units);
    int meta_ok = r->label && r->var_names && r->var_units;
    for (size_t j = 0; meta_ok && j < n_vars; j++) {
        r->var_names[j] = dup_str(var_names[j]);
        r->var_units[j] = dup_str(var_units && var_units[j] ? var_units[j] : "");
        meta_ok = r->var_names[j] && r->var_units[j];
    }
    r->n_vars = n_vars;
    if (!meta_ok || !r->name || !r->buf) {
        st = apical_error_set(err, APICAL_E_NOMEM, NULL, "out of memory");
        goto fail;
    }

    /* The common unit, or "mixed" when the variables differ. */
    const char *unit = var_units && var_units[0] ? var_units[0] : "";
    for (size_t j = 1; j < n_vars; j++) {
        const char *u = var_units && var_units[j] ? var_units[j] : "";
        if (strcmp(u, unit) != 0)
            unit = "mixed";
    }

    if (ensure_group(h->file, "report", &h->g_report) < 0) {
        st = h5_fail(h, err, "cannot create /report");
        goto fail;
    }
    r->grp = H5Gcreate2(h->g_report, r->name, H5P_DEFAULT, H5P_DEFAULT,
                        H5P_DEFAULT);
    if (r->grp < 0) {
        st = h5_fail(h, err, "cannot create /report/%s", r->name);
        goto fail;
    }
    r->ds_data = dset_extendible(r->grp, "data", H5T_IEEE_F32LE, 2, r->width,
                                 chunk);
    if (r->ds_data < 0) {
        st = h5_fail(h, err, "cannot create /report/%s/data", r->name);
        goto fail;
    }
    /* long_name (NeXus, for viewers): "exc: V_m (mV), g_exc (nS)" */
    size_t ln_len = strlen(pop) + 4;
    for (size_t j = 0; j < n_vars; j++)
        ln_len += strlen(var_names[j]) + strlen(r->var_units[j]) + 6;
    char *long_name = malloc(ln_len);
    if (!long_name) {
        st = apical_error_set(err, APICAL_E_NOMEM, NULL, "out of memory");
        goto fail;
    }
    size_t at = (size_t)snprintf(long_name, ln_len, "%s:", pop);
    for (size_t j = 0; j < n_vars; j++)
        at += (size_t)snprintf(long_name + at, ln_len - at, r->var_units[j][0] ? "%s %s (%s)" : "%s %s",
                               j ? "," : "", var_names[j], r->var_units[j]);
    herr_t ln_rc = attr_str(r->ds_data, "long_name", long_name);
    free(long_name);
    if (ln_rc < 0 || attr_str(r->ds_data, "units", unit) < 0 ||
        attr_strv(r->ds_data, "variables", var_names, n_vars) < 0 ||
        attr_strv(r->ds_data, "variable_units", var_units, n_vars) < 0 ||
        attr_str(r->grp, "population", pop) < 0 ||
        attr_str(r->grp, "NX_class", "NXdata") < 0 ||
        attr_str(r->grp, "signal", "data") < 0) {
        st = h5_fail(h, err, "cannot write attributes of /report/%s", r->name);
        goto fail;
    }
    if (report_mapping(r->grp, node_ids, n_nodes, n_vars, &r->ds_time) < 0 ||
        report_write_time(r) < 0) {
        st = h5_fail(h, err, "cannot write /report/%s/mapping", r->name);
        goto fail;
    }
    *id = (int)h->n_rep;
    h->n_rep++;
    return APICAL_OK;

fail:
    close_id(&r->ds_data, H5Dclose);
    close_id(&r->ds_time, H5Dclose);
    close_id(&r->grp, H5Gclose);
    free(r->name);
    free(r->buf);
    report_free_meta(r);
    return st;
}

static apical_status report_flush(apical_h5 *h, report *r, apical_error *err)
{
    if (r->len == 0)
        return APICAL_OK;
    hsize_t count[2] = {r->len, r->width};
    if (r->width == 0) {
        hsize_t size[2] = {r->written + r->len, 0};
        if (H5Dset_extent(r->ds_data, size) < 0)
            return h5_fail(h, err, "cannot extend /report/%s/data", r->name);
    } else if (dset_append(r->ds_data, H5T_NATIVE_FLOAT, 2, r->written, count,
                           r->width, r->buf) < 0)
        return h5_fail(h, err, "cannot append to /report/%s/data", r->name);
    r->written += r->len;
    r->len = 0;
    /* Keep mapping/time consistent with the frames on disk, also in a .part
     * left by a crash. */
    if (report_write_time(r) < 0)
        return h5_fail(h, err, "cannot write /report/%s/mapping/time",
                       r->name);
    if (H5Fflush(h->file, H5F_SCOPE_LOCAL) < 0)
        return h5_fail(h, err, "cannot flush");
    return APICAL_OK;
}

apical_status apical_h5_report_append(apical_h5 *h, int id,
                                      const float *frames, size_t n_frames,
                                      apical_error *err)
{
    apical_status st = check_usable(h, err);
    if (st != APICAL_OK)
        return st;
    if (id < 0 || (size_t)id >= h->n_rep)
        return apical_error_set(err, APICAL_E_INVALID, NULL,
                                "HDF5 output: no report with id %d", id);
    if (n_frames == 0)
        return APICAL_OK;
    report *r = &h->rep[id];
    if (!frames && r->width)
        return apical_error_set(err, APICAL_E_INVALID, NULL,
                                "HDF5 output: NULL report frames");
    size_t done = 0;
    while (done < n_frames) {
        size_t k = r->buf_rows - r->len;
        if (k > n_frames - done)
            k = n_frames - done;
        if (r->width)
            memcpy(r->buf + r->len * r->width, frames + done * r->width,
                   k * r->width * sizeof *frames);
        r->len += k;
        done += k;
        if (r->len == r->buf_rows) {
            st = report_flush(h, r, err);
            if (st != APICAL_OK)
                return st;
        }
    }
    return APICAL_OK;
}

/* ---- weight reports ------------------------------------------------------- */

apical_status apical_h5_weights_add(apical_h5 *h, const char *proj,
                                    const char *src_pop, const char *tgt_pop,
                                    const uint64_t *src_ids,
                                    const uint64_t *tgt_ids, size_t n,
                                    const char *unit, double t_start,
                                    double dt, int *id, apical_error *err)
{
    apical_status st = check_creatable(h, "a weights report", err);
    if (st != APICAL_OK)
        return st;
    if (!valid_name(proj) || !id || !src_pop || !tgt_pop || (n && (!src_ids || !tgt_ids)))
        return apical_error_set(err, APICAL_E_INVALID, NULL,
                                "HDF5 output: invalid weight report on '%s'",
                                proj ? proj : "(null)");
    if (!isfinite(t_start) || !isfinite(dt) || !(dt > 0))
        return apical_error_set(err, APICAL_E_INVALID, NULL,
                                "HDF5 output: weight report on '%s': bad start "
                                "%g ms or step %g ms",
                                proj, t_start, dt);
    if (n > SIZE_MAX / sizeof(float) / 2 || h->n_rep >= (size_t)INT32_MAX)
        return apical_error_set(err, APICAL_E_RANGE, NULL,
                                "HDF5 output: weight report on '%s' too large", proj);
    report *grown = realloc(h->rep, (h->n_rep + 1) * sizeof *grown);
    if (!grown)
        return apical_error_set(err, APICAL_E_NOMEM, NULL, "out of memory");
    h->rep = grown;
    report *r = &h->rep[h->n_rep];
    *r = (report){.grp = H5I_INVALID_HID,
                  .ds_data = H5I_INVALID_HID,
                  .ds_time = H5I_INVALID_HID,
                  .width = n,
                  .t_start = t_start,
                  .dt = dt};
    hsize_t chunk[2];
    chunk[1] = n == 0 ? 1 : n < REPORT_CHUNK_VALUES ? n : REPORT_CHUNK_VALUES;
    chunk[0] = REPORT_CHUNK_VALUES / chunk[1];
    r->buf_rows = (size_t)chunk[0];
    r->name = report_name(h, proj);
    r->buf = malloc((r->buf_rows * n + 1) * sizeof *r->buf);
    r->weights = 1;
    r->unit = dup_str(unit ? unit : "");
    r->label = dup_str(proj);
    hid_t m = H5I_INVALID_HID, sp = H5I_INVALID_HID;
    if (!r->name || !r->buf || !r->unit || !r->label) {
        st = apical_error_set(err, APICAL_E_NOMEM, NULL, "out of memory");
        goto fail;
    }
    if (ensure_group(h->file, "report", &h->g_report) < 0) {
        st = h5_fail(h, err, "cannot create /report");
        goto fail;
    }
    r->grp = H5Gcreate2(h->g_report, r->name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (r->grp < 0) {
        st = h5_fail(h, err, "cannot create /report/%s", r->name);
        goto fail;
    }
    r->ds_data = dset_extendible(r->grp, "data", H5T_IEEE_F32LE, 2, n, chunk);
    if (r->ds_data < 0) {
        st = h5_fail(h, err, "cannot create /report/%s/data", r->name);
        goto fail;
    }
    char *wl = ov_fmt(unit && unit[0] ? "%s weight (%s)" : "%s weight", proj, unit ? unit : "");
    herr_t wl_rc = wl ? attr_str(r->ds_data, "long_name", wl) : -1;
    free(wl);
    if (wl_rc < 0 || attr_str(r->ds_data, "units", unit) < 0 || attr_str(r->grp, "type", "weights") < 0 ||
        attr_str(r->grp, "projection", proj) < 0 ||
        attr_str(r->grp, "source_population", src_pop) < 0 ||
        attr_str(r->grp, "target_population", tgt_pop) < 0 ||
        attr_str(r->grp, "population", tgt_pop) < 0 ||
        attr_str(r->grp, "NX_class", "NXdata") < 0 || attr_str(r->grp, "signal", "data") < 0) {
        st = h5_fail(h, err, "cannot write attributes of /report/%s", r->name);
        goto fail;
    }
    hsize_t three = 3;
    m = H5Gcreate2(r->grp, "mapping", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    sp = H5Screate_simple(1, &three, NULL);
    if (m < 0 || sp < 0 ||
        dset_write_1d(m, "source_node_ids", H5T_STD_U64LE, H5T_NATIVE_UINT64, n, src_ids) < 0 ||
        attr_str(m, "source_population", src_pop) < 0 ||
        dset_write_1d(m, "target_node_ids", H5T_STD_U64LE, H5T_NATIVE_UINT64, n, tgt_ids) < 0 ||
        attr_str(m, "target_population", tgt_pop) < 0 ||
        (r->ds_time = H5Dcreate2(m, "time", H5T_IEEE_F64LE, sp, H5P_DEFAULT, H5P_DEFAULT,
                                 H5P_DEFAULT)) < 0 ||
        attr_str(r->ds_time, "units", "ms") < 0 ||
        attr_str(r->ds_time, "long_name", "start, stop, step (ms)") < 0 || report_write_time(r) < 0) {
        st = h5_fail(h, err, "cannot write /report/%s/mapping", r->name);
        goto fail;
    }
    H5Sclose(sp);
    H5Gclose(m);
    *id = (int)h->n_rep;
    h->n_rep++;
    return APICAL_OK;

fail:
    if (sp >= 0)
        H5Sclose(sp);
    if (m >= 0)
        H5Gclose(m);
    close_id(&r->ds_data, H5Dclose);
    close_id(&r->ds_time, H5Dclose);
    close_id(&r->grp, H5Gclose);
    free(r->name);
    free(r->buf);
    report_free_meta(r);
    return st;
}

/* ---- edges ------------------------------------------------------------------ */

/* A 1-D dataset of n values, chunked and compressed when large. */
static herr_t dset_column(hid_t loc, const char *name, hid_t ftype, hid_t mtype, size_t n,
                          const void *buf)
{
    if (n < 4096)
        return dset_write_1d(loc, name, ftype, mtype, n, buf);
    hsize_t chunk = 65536;
    hid_t d = dset_extendible(loc, name, ftype, 1, 0, &chunk);
    if (d < 0)
        return -1;
    hsize_t count = n;
    herr_t rc = dset_append(d, mtype, 1, 0, &count, 0, buf);
    if (H5Dclose(d) < 0)
        rc = -1;
    return rc;
}

int apical_h5_edge_list_add(void *list, uint64_t src, uint64_t tgt, double w, double d)
{
    apical_h5_edge_list *l = list;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 4096;
        uint64_t *s2 = realloc(l->src, cap * sizeof *s2);
        if (s2)
            l->src = s2;
        uint64_t *t2 = realloc(l->tgt, cap * sizeof *t2);
        if (t2)
            l->tgt = t2;
        double *w2 = realloc(l->w, cap * sizeof *w2);
        if (w2)
            l->w = w2;
        double *d2 = realloc(l->d, cap * sizeof *d2);
        if (d2)
            l->d = d2;
        if (!s2 || !t2 || !w2 || !d2)
            return 1;
        l->cap = cap;
    }
    l->src[l->n] = src;
    l->tgt[l->n] = tgt;
    l->w[l->n] = w;
    l->d[l->n] = d;
    l->n++;
    return 0;
}

void apical_h5_edge_list_free(apical_h5_edge_list *l)
{
    free(l->src), free(l->tgt), free(l->w), free(l->d);
    *l = (apical_h5_edge_list){0};
}

apical_status apical_h5_edges_write(apical_h5 *h, const apical_h5_edges *e,
                                    apical_error *err)
{
    apical_status st = check_creatable(h, "an edge population", err);
    if (st != APICAL_OK)
        return st;
    if (!e || !valid_name(e->name) || !valid_name(e->src_pop) || !valid_name(e->tgt_pop) ||
        (e->n && (!e->src || !e->tgt || !e->w || !e->d)))
        return apical_error_set(err, APICAL_E_INVALID, NULL,
                                "HDF5 output: invalid edge population '%s'",
                                e && e->name ? e->name : "(null)");
    if (h->g_edges < 0 &&
        (h->g_edges = H5Gcreate2(h->file, "edges", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)) < 0)
        return h5_fail(h, err, "cannot create /edges");
    if (H5Lexists(h->g_edges, e->name, H5P_DEFAULT) > 0)
        return apical_error_set(err, APICAL_E_INVALID, NULL,
                                "HDF5 output: edges of '%s' written twice", e->name);
    int64_t *type = malloc((e->n + 1) * sizeof *type);
    uint32_t *gid = malloc((e->n + 1) * sizeof *gid);
    uint64_t *gidx = malloc((e->n + 1) * sizeof *gidx);
    hid_t g = H5I_INVALID_HID, g0 = H5I_INVALID_HID, d = H5I_INVALID_HID;
    if (!type || !gid || !gidx) {
        st = apical_error_set(err, APICAL_E_NOMEM, NULL, "out of memory");
        goto out;
    }
    for (size_t k = 0; k < e->n; k++) {
        type[k] = 0;
        gid[k] = 0;
        gidx[k] = k;
    }
    g = H5Gcreate2(h->g_edges, e->name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0 ||
        dset_column(g, "source_node_id", H5T_STD_U64LE, H5T_NATIVE_UINT64, e->n, e->src) < 0 ||
        dset_column(g, "target_node_id", H5T_STD_U64LE, H5T_NATIVE_UINT64, e->n, e->tgt) < 0 ||
        dset_column(g, "edge_type_id", H5T_STD_I64LE, H5T_NATIVE_INT64, e->n, type) < 0 ||
        dset_column(g, "edge_group_id", H5T_STD_U32LE, H5T_NATIVE_UINT32, e->n, gid) < 0 ||
        dset_column(g, "edge_group_index", H5T_STD_U64LE, H5T_NATIVE_UINT64, e->n, gidx) < 0)
        goto h5err;
    if ((d = H5Dopen2(g, "source_node_id", H5P_DEFAULT)) < 0 ||
        attr_str(d, "node_population", e->src_pop) < 0 || attr_u64(d, "n_nodes", e->n_src) < 0 ||
        H5Dclose(d) < 0)
        goto h5err;
    if ((d = H5Dopen2(g, "target_node_id", H5P_DEFAULT)) < 0 ||
        attr_str(d, "node_population", e->tgt_pop) < 0 || attr_u64(d, "n_nodes", e->n_tgt) < 0 ||
        H5Dclose(d) < 0)
        goto h5err;
    d = H5I_INVALID_HID;
    if (attr_str(g, "source_population", e->src_pop) < 0 ||
        attr_str(g, "target_population", e->tgt_pop) < 0 ||
        attr_str(g, "plasticity", e->rule ? e->rule : "static") < 0 ||
        attr_str(g, "receptor", e->receptor ? e->receptor : "") < 0)
        goto h5err;
    g0 = H5Gcreate2(g, "0", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g0 < 0 ||
        dset_column(g0, "syn_weight", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, e->n, e->w) < 0 ||
        dset_column(g0, "delay", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, e->n, e->d) < 0)
        goto h5err;
    if ((d = H5Dopen2(g0, "syn_weight", H5P_DEFAULT)) < 0 ||
        attr_str(d, "units", e->weight_unit ? e->weight_unit : "") < 0 || H5Dclose(d) < 0)
        goto h5err;
    if ((d = H5Dopen2(g0, "delay", H5P_DEFAULT)) < 0 || attr_str(d, "units", "ms") < 0 ||
        H5Dclose(d) < 0)
        goto h5err;
    d = H5I_INVALID_HID;
    if (H5Fflush(h->file, H5F_SCOPE_LOCAL) < 0)
        goto h5err;
    goto out;
h5err:
    st = h5_fail(h, err, "cannot write /edges/%s", e->name);
out:
    if (d >= 0)
        H5Dclose(d);
    if (g0 >= 0)
        H5Gclose(g0);
    if (g >= 0)
        H5Gclose(g);
    free(type);
    free(gid);
    free(gidx);
    return st;
}

/* ---- provenance ----------------------------------------------------------- */

/* Provenance names may contain '/' to make subgroups ("solver/stepper"). */
static int valid_prov_name(const char *s)
{
    if (!s || !s[0] || s[0] == '/' || s[strlen(s) - 1] == '/' ||
        strstr(s, "//"))
        return 0;
    return 1;
}

/* Create the scalar dataset /provenance/<name> (intermediate groups too). */
static apical_status prov_scalar(apical_h5 *h, const char *name, hid_t ftype,
                                 hid_t mtype, const void *buf,
                                 const char *unit, apical_error *err)
{
    apical_status st = check_creatable(h, "a provenance item", err);
    if (st != APICAL_OK)
        return st;
    if (!valid_prov_name(name))
        return apical_error_set(err, APICAL_E_INVALID, NULL,
                                "HDF5 output: invalid provenance name '%s'",
                                name ? name : "(null)");
    hid_t lcpl = H5I_INVALID_HID, sp = H5I_INVALID_HID, d = H5I_INVALID_HID;
    if (ensure_group(h->file, "provenance", &h->g_prov) < 0) {
        st = h5_fail(h, err, "cannot create /provenance");
        goto out;
    }
    /* A second value under the same name is a caller bug, not a write
     * error: report it without poisoning the handle. */
    htri_t exists = H5Lexists(h->g_prov, name, H5P_DEFAULT);
    if (exists > 0) {
        st = apical_error_set(err, APICAL_E_INVALID, NULL,
                              "HDF5 output: provenance '%s' written twice",
                              name);
        goto out;
    }
    H5Eclear2(H5E_DEFAULT); /* an intermediate group missing is not an error */
    lcpl = H5Pcreate(H5P_LINK_CREATE);
    sp = H5Screate(H5S_SCALAR);
    if (lcpl < 0 || sp < 0 || H5Pset_create_intermediate_group(lcpl, 1) < 0) {
        st = h5_fail(h, err, "cannot create /provenance/%s", name);
        goto out;
    }
    d = H5Dcreate2(h->g_prov, name, ftype, sp, lcpl, H5P_DEFAULT, H5P_DEFAULT);
    if (d < 0 || H5Dwrite(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0 ||
        (unit && attr_str(d, "units", unit) < 0)) {
        st = h5_fail(h, err, "cannot write /provenance/%s", name);
        goto out;
    }
out:
    if (d >= 0)
        H5Dclose(d);
    if (sp >= 0)
        H5Sclose(sp);
    if (lcpl >= 0)
        H5Pclose(lcpl);
    return st;
}

apical_status apical_h5_provenance_string(apical_h5 *h, const char *name,
                                          const char *value, apical_error *err)
{
    /* A dataset, not an attribute: the network text can exceed the 64 KiB
     * limit on compact attributes. */
    hid_t t = vlen_str_type();
    if (t < 0)
        return h5_fail(h, err, "cannot make a string type");
    const char *v = value ? value : "";
    apical_status st = prov_scalar(h, name, t, t, &v, NULL, err);
    H5Tclose(t);
    return st;
}

apical_status apical_h5_provenance_double(apical_h5 *h, const char *name,
                                          double value, const char *unit,
                                          apical_error *err)
{
    return prov_scalar(h, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &value,
                       unit, err);
}

apical_status apical_h5_provenance_u64(apical_h5 *h, const char *name,
                                       uint64_t value, apical_error *err)
{
    return prov_scalar(h, name, H5T_STD_U64LE, H5T_NATIVE_UINT64, &value, NULL,
                       err);
}

apical_status apical_h5_provenance_params(apical_h5 *h, const char *pop,
                                          const char *model,
                                          const char *const *names,
                                          const char *const *units,
                                          const double *values, size_t n,
                                          apical_error *err)
{
    apical_status st = check_creatable(h, "population parameters", err);
    if (st != APICAL_OK)
        return st;
    if (!valid_name(pop) || (n > 0 && (!names || !values)))
        return apical_error_set(err, APICAL_E_INVALID, NULL,
                                "HDF5 output: invalid parameters of '%s'",
                                pop ? pop : "(null)");
    for (size_t i = 0; i < n; i++)
        if (!names[i] || !names[i][0] || strcmp(names[i], "model") == 0)
            return apical_error_set(err, APICAL_E_INVALID, NULL,
                                    "HDF5 output: parameter %zu of '%s' has "
                                    "no name or is called 'model'",
                                    i, pop);
    if (ensure_group(h->file, "provenance", &h->g_prov) < 0 ||
        ensure_group(h->g_prov, "populations", &h->g_prov_pops) < 0)
        return h5_fail(h, err, "cannot create /provenance/populations");
    if (H5Lexists(h->g_prov_pops, pop, H5P_DEFAULT) > 0)
        return apical_error_set(err, APICAL_E_INVALID, NULL,
                                "HDF5 output: parameters of '%s' written "
                                "twice",
                                pop);

    char *uname = NULL;
    hid_t g = H5Gcreate2(h->g_prov_pops, pop, H5P_DEFAULT, H5P_DEFAULT,
                         H5P_DEFAULT);
    if (g < 0) {
        st = h5_fail(h, err, "cannot create /provenance/populations/%s", pop);
        goto out;
    }
    if (attr_str(g, "model", model) < 0) {
        st = h5_fail(h, err, "cannot write /provenance/populations/%s", pop);
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(names[i]) + sizeof "_unit";
        char *tmp = realloc(uname, len);
        if (!tmp) {
            st = apical_error_set(err, APICAL_E_NOMEM, NULL, "out of memory");
            goto out;
        }
        uname = tmp;
        snprintf(uname, len, "%s_unit", names[i]);
        /* A clash (parameters "x" and "x_unit") fails here as a duplicate
         * attribute. */
        if (attr_f64(g, names[i], values[i]) < 0 ||
            attr_str(g, uname, units ? units[i] : NULL) < 0) {
            st = h5_fail(h, err,
                         "cannot write parameter '%s' of population '%s'",
                         names[i], pop);
            goto out;
        }
    }
out:
    free(uname);
    if (g >= 0)
        H5Gclose(g);
    return st;
}

/* ---- /overview: a first view for h5web and silx (NeXus) ------------------ */

/* Written when the file has left SWMR mode (finish, keep): derived from the
 * data in the file, bounded in size so a viewer can load every part of it
 * at once (no image wider than 2000 or taller than 512 and 4096 frames at
 * most). The SONATA datasets are not touched. docs/output-format.md. */
enum {
    OV_MAX_TBINS = 2000,   /* time bins of rates, raster and weight histograms */
    OV_MAX_NBINS = 512,    /* neuron bins of a raster */
    OV_MAX_FRAMES = 4096,  /* frames of a state variable copy */
    OV_MAX_NODES = 1024,   /* nodes of a state variable copy */
    OV_WBINS = 64,         /* weight bins */
};

/* A 1-D or 2-D dataset written whole; 2-D ones chunked and deflated. */
static hid_t ov_dset(hid_t loc, const char *name, hid_t ftype, hid_t mtype, int rank,
                     hsize_t d0, hsize_t d1, const void *buf)
{
    hsize_t dims[2] = {d0, d1};
    hid_t sp = H5Screate_simple(rank, dims, NULL);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    hid_t d = H5I_INVALID_HID;
    if (sp < 0 || dcpl < 0)
        goto out;
    if (rank == 2 && d0 > 0 && d1 > 0) {
        hsize_t ch[2] = {d0 < 16 ? d0 : 16, d1 < 4096 ? d1 : 4096};
        if (H5Pset_chunk(dcpl, 2, ch) < 0)
            goto out;
        if (H5Zfilter_avail(H5Z_FILTER_DEFLATE) > 0 &&
            (H5Pset_shuffle(dcpl) < 0 || H5Pset_deflate(dcpl, 1) < 0))
            goto out;
    }
    d = H5Dcreate2(loc, name, ftype, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    if (d >= 0 && d0 * (rank == 2 ? d1 : 1) > 0 &&
        H5Dwrite(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) {
        H5Dclose(d);
        d = H5I_INVALID_HID;
    }
out:
    if (dcpl >= 0)
        H5Pclose(dcpl);
    if (sp >= 0)
        H5Sclose(sp);
    return d;
}

/* Write a dataset and give it units and long_name. */
static herr_t ov_data(hid_t loc, const char *name, hid_t ftype, hid_t mtype, int rank,
                      hsize_t d0, hsize_t d1, const void *buf, const char *units,
                      const char *long_name)
{
    hid_t d = ov_dset(loc, name, ftype, mtype, rank, d0, d1, buf);
    if (d < 0)
        return -1;
    herr_t rc = 0;
    if ((units && attr_str(d, "units", units) < 0) ||
        (long_name && attr_str(d, "long_name", long_name) < 0))
        rc = -1;
    if (H5Dclose(d) < 0)
        rc = -1;
    return rc;
}

/* A scalar string dataset. */
static herr_t ov_str(hid_t loc, const char *name, const char *value)
{
    hid_t t = vlen_str_type();
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t d = t >= 0 && sp >= 0 ? H5Dcreate2(loc, name, t, sp, H5P_DEFAULT, H5P_DEFAULT,
                                              H5P_DEFAULT)
                                : H5I_INVALID_HID;
    herr_t rc = d >= 0 && H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, &value) >= 0 ? 0 : -1;
    if (d >= 0 && H5Dclose(d) < 0)
        rc = -1;
    if (sp >= 0)
        H5Sclose(sp);
    if (t >= 0)
        H5Tclose(t);
    return rc;
}

/* An NXdata group with its signal and axes attributes and its title, both
 * as the attribute silx reads and as the NeXus `title` field (a dataset),
 * which is where h5web looks for it; without it h5web titles the plot with
 * the signal's long_name ("exc rate (Hz)" over every population's curve). */
static hid_t ov_nxdata(hid_t parent, const char *name, const char *signal,
                       const char *const *axes, size_t n_axes, const char *title)
{
    hid_t g = H5Gcreate2(parent, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0)
        return g;
    if (attr_str(g, "NX_class", "NXdata") < 0 || attr_str(g, "signal", signal) < 0 ||
        attr_strv(g, "axes", axes, n_axes) < 0 ||
        (title && (attr_str(g, "title", title) < 0 || ov_str(g, "title", title) < 0))) {
        H5Gclose(g);
        return H5I_INVALID_HID;
    }
    return g;
}

/* One [row, time] image of /overview: an NXdata group holding the signal
 * (rows × nt), its row axis and the time axis in ms. */
typedef struct ov_image {
    const char *group, *title;
    const char *signal, *unit, *long_name; /* the signal dataset */
    hid_t ftype, mtype;
    const void *data;
    int spectrum; /* NeXus interpretation "spectrum": a curve per row */
    const char *row_axis, *row_unit, *row_long_name;
    const double *rows;
    size_t n_rows;
    const double *time;
    size_t nt;
} ov_image;

static herr_t ov_write_image(hid_t ov, const ov_image *im)
{
    const char *axes[2] = {im->row_axis, "time"};
    /* a signal named like an axis or the title cannot share the group */
    if (!strcmp(im->signal, im->row_axis) || !strcmp(im->signal, "time") ||
        !strcmp(im->signal, "title"))
        return -1;
    hid_t g = ov_nxdata(ov, im->group, im->signal, axes, 2, im->title);
    if (g < 0)
        return -1;
    herr_t rc = ov_data(g, im->signal, im->ftype, im->mtype, 2, im->n_rows, im->nt, im->data,
                        im->unit, im->long_name);
    if (rc == 0 && im->spectrum) {
        hid_t sd = H5Dopen2(g, im->signal, H5P_DEFAULT);
        rc = sd >= 0 && attr_str(sd, "interpretation", "spectrum") >= 0 ? 0 : -1;
        if (sd >= 0 && H5Dclose(sd) < 0)
            rc = -1;
    }
    if (rc == 0)
        rc = ov_data(g, im->row_axis, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, im->n_rows, 0,
                     im->rows, im->row_unit, im->row_long_name);
    if (rc == 0)
        rc = ov_data(g, "time", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, im->nt, 0, im->time, "ms",
                     "time (ms)");
    if (H5Gclose(g) < 0)
        rc = -1;
    return rc;
}

static char *ov_fmt(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    char *s = malloc((size_t)n + 1);
    if (!s)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

/* Time bins: 1 ms, or a whole number of ms so there are at most
 * OV_MAX_TBINS of them over [0, t_end). */
static void ov_time_bins(double t_end, double *bin, size_t *n)
{
    double b = 1.0;
    if (t_end > OV_MAX_TBINS)
        b = ceil(t_end / OV_MAX_TBINS);
    size_t k = t_end > 0 ? (size_t)ceil(t_end / b) : 1;
    if (k > OV_MAX_TBINS)
        k = OV_MAX_TBINS;
    if (k == 0)
        k = 1;
    *bin = b;
    *n = k;
}

/* Count the spikes of /spikes/<pop> into counts[nt] and raster[nb][nt]
 * (neurons per_bin to a row), reading in chunks. */
static herr_t ov_count_spikes(hid_t file, const spike_pop *p, double bin, size_t nt,
                              uint64_t per_bin, size_t nb, double *counts, uint32_t *raster)
{
    herr_t rc = -1;
    char *path_t = ov_fmt("/spikes/%s/timestamps", p->name);
    char *path_n = ov_fmt("/spikes/%s/node_ids", p->name);
    double *bt = malloc(SPIKE_CHUNK * sizeof *bt);
    uint64_t *bn = malloc(SPIKE_CHUNK * sizeof *bn);
    hid_t dt = H5I_INVALID_HID, dn = H5I_INVALID_HID, fs = H5I_INVALID_HID;
    if (!path_t || !path_n || !bt || !bn)
        goto out;
    dt = H5Dopen2(file, path_t, H5P_DEFAULT);
    dn = dt < 0 ? H5I_INVALID_HID : H5Dopen2(file, path_n, H5P_DEFAULT);
    fs = dn < 0 ? H5I_INVALID_HID : H5Dget_space(dt);
    if (fs < 0)
        goto out;
    hssize_t total = H5Sget_simple_extent_npoints(fs);
    if (total < 0)
        goto out;
    for (hsize_t at = 0; at < (hsize_t)total; at += SPIKE_CHUNK) {
        hsize_t cnt = (hsize_t)total - at < SPIKE_CHUNK ? (hsize_t)total - at : SPIKE_CHUNK;
        hid_t ms = H5Screate_simple(1, &cnt, NULL);
        hid_t sn = H5Dget_space(dn);
        herr_t r1 = ms < 0 || sn < 0 ? -1 : 0;
        if (r1 == 0)
            r1 = H5Sselect_hyperslab(fs, H5S_SELECT_SET, &at, NULL, &cnt, NULL);
        if (r1 == 0)
            r1 = H5Sselect_hyperslab(sn, H5S_SELECT_SET, &at, NULL, &cnt, NULL);
        if (r1 == 0)
            r1 = H5Dread(dt, H5T_NATIVE_DOUBLE, ms, fs, H5P_DEFAULT, bt);
        if (r1 == 0)
            r1 = H5Dread(dn, H5T_NATIVE_UINT64, ms, sn, H5P_DEFAULT, bn);
        if (ms >= 0)
            H5Sclose(ms);
        if (sn >= 0)
            H5Sclose(sn);
        if (r1 < 0)
            goto out;
        for (hsize_t k = 0; k < cnt; k++) {
            if (!(bt[k] >= 0) || bn[k] >= p->n_nodes)
                continue;
            size_t tb = (size_t)(bt[k] / bin);
            if (tb >= nt)
                tb = nt - 1;
            counts[tb] += 1.0;
            if (raster) {
                size_t nbk = (size_t)(bn[k] / per_bin);
                if (nbk < nb)
                    raster[nbk * nt + tb]++;
            }
        }
    }
    rc = 0;
out:
    if (fs >= 0)
        H5Sclose(fs);
    if (dn >= 0)
        H5Dclose(dn);
    if (dt >= 0)
        H5Dclose(dt);
    free(path_t);
    free(path_n);
    free(bt);
    free(bn);
    return rc;
}

/* rates (all populations) and one raster per population. */
static herr_t ov_spikes(apical_h5 *h, hid_t ov, double t_end)
{
    herr_t rc = -1;
    double bin;
    size_t nt;
    ov_time_bins(t_end, &bin, &nt);
    double *tax = malloc(nt * sizeof *tax);
    double *counts = malloc(nt * sizeof *counts);
    uint32_t *raster = NULL;
    double *nax = NULL;
    char **names = calloc(h->n_spk, sizeof *names);
    hid_t g = H5I_INVALID_HID;
    if (!tax || !counts || !names)
        goto out;
    for (size_t k = 0; k < nt; k++)
        tax[k] = (k + 0.5) * bin;
    for (size_t i = 0; i < h->n_spk; i++)
        if (!(names[i] = ov_fmt("%s_rate", h->spk[i].name)))
            goto out;
    const char *time_axis[1] = {"time"};
    g = ov_nxdata(ov, "rates", names[0], time_axis, 1, "population rates");
    if (g < 0 || ov_data(g, "time", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, nt, 0, tax, "ms",
                         "time (ms)") < 0)
        goto out;
    if (h->n_spk > 1 &&
        attr_strv(g, "auxiliary_signals", (const char *const *)names + 1, h->n_spk - 1) < 0)
        goto out;
    char bin_text[64];
    snprintf(bin_text, sizeof bin_text, "%g ms", bin);
    if (attr_str(g, "bin", bin_text) < 0)
        goto out;
    for (size_t i = 0; i < h->n_spk; i++) {
        const spike_pop *p = &h->spk[i];
        uint64_t per = p->n_nodes > OV_MAX_NBINS ? (p->n_nodes + OV_MAX_NBINS - 1) / OV_MAX_NBINS : 1;
        size_t nb = p->n_nodes ? (size_t)((p->n_nodes + per - 1) / per) : 0;
        free(raster);
        free(nax);
        raster = calloc(nb * nt + 1, sizeof *raster);
        nax = malloc((nb + 1) * sizeof *nax);
        if (!raster || !nax)
            goto out;
        for (size_t k = 0; k < nt; k++)
            counts[k] = 0.0;
        if (ov_count_spikes(h->file, p, bin, nt, per, nb, counts, raster) < 0)
            goto out;
        double scale = p->n_nodes ? 1000.0 / (bin * (double)p->n_nodes) : 0.0;
        for (size_t k = 0; k < nt; k++)
            counts[k] *= scale;
        char *ln = ov_fmt("%s rate (Hz)", p->name);
        herr_t r1 = ln ? ov_data(g, names[i], H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, nt, 0,
                                 counts, "Hz", ln)
                       : -1;
        free(ln);
        if (r1 < 0)
            goto out;

        /* raster: spike counts [neuron bin, time bin] */
        for (size_t k = 0; k < nb; k++)
            nax[k] = (double)((uint64_t)k * per);
        char *gname = i == 0 ? ov_fmt("raster") : ov_fmt("raster_%s", p->name);
        char *title = ov_fmt("%s spikes per %g ms and %llu neuron%s", p->name, bin,
                             (unsigned long long)per, per == 1 ? "" : "s");
        char *sln = ov_fmt("%s spike count", p->name);
        r1 = gname && title && sln
                 ? ov_write_image(ov, &(ov_image){
                       .group = gname, .title = title, .signal = "spike_count", .unit = "1",
                       .long_name = sln, .ftype = H5T_STD_U32LE, .mtype = H5T_NATIVE_UINT32,
                       .data = raster, .row_axis = "neuron", .row_unit = "",
                       .row_long_name = per == 1 ? "neuron index" : "neuron index (first of bin)",
                       .rows = nax, .n_rows = nb, .time = tax, .nt = nt})
                 : -1;
        free(gname);
        free(title);
        free(sln);
        if (r1 < 0)
            goto out;
    }
    rc = 0;
out:
    if (g >= 0 && H5Gclose(g) < 0)
        rc = -1;
    for (size_t i = 0; names && i < h->n_spk; i++)
        free(names[i]);
    free(names);
    free(tax);
    free(counts);
    free(raster);
    free(nax);
    return rc;
}

/* Read `cols` values of row `row` of a 2-D dataset. */
static herr_t ov_read_row(hid_t d, hid_t fs, hsize_t row, hsize_t cols, float *buf)
{
    hsize_t start[2] = {row, 0}, count[2] = {1, cols};
    hid_t ms = H5Screate_simple(2, count, NULL);
    herr_t rc = ms < 0 ? -1 : H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL);
    if (rc >= 0)
        rc = H5Dread(d, H5T_NATIVE_FLOAT, ms, fs, H5P_DEFAULT, buf);
    if (ms >= 0)
        H5Sclose(ms);
    return rc;
}

/* One state report: an NXdata per variable, [node, time] float32. */
static herr_t ov_state(apical_h5 *h, hid_t ov, const report *r)
{
    herr_t rc = -1;
    hsize_t frames = r->written;
    size_t n_nodes = r->width / r->n_vars;
    size_t nn = n_nodes < OV_MAX_NODES ? n_nodes : OV_MAX_NODES;
    hsize_t stride = frames > OV_MAX_FRAMES ? (frames + OV_MAX_FRAMES - 1) / OV_MAX_FRAMES : 1;
    size_t nt = (size_t)((frames + stride - 1) / stride);
    size_t cols = nn * r->n_vars;
    char *pd = ov_fmt("/report/%s/data", r->name);
    char *pm = ov_fmt("/report/%s/mapping/node_ids", r->name);
    float *row = malloc((cols + 1) * sizeof *row);
    float *out = malloc((nn * nt + 1) * r->n_vars * sizeof *out);
    double *tax = malloc((nt + 1) * sizeof *tax);
    uint64_t *ids = malloc((n_nodes + 1) * sizeof *ids);
    double *nax = malloc((nn + 1) * sizeof *nax);
    hid_t d = H5I_INVALID_HID, fs = H5I_INVALID_HID, dm = H5I_INVALID_HID;
    if (!pd || !pm || !row || !out || !tax || !ids || !nax)
        goto out;
    if ((d = H5Dopen2(h->file, pd, H5P_DEFAULT)) < 0 || (fs = H5Dget_space(d)) < 0 ||
        (dm = H5Dopen2(h->file, pm, H5P_DEFAULT)) < 0 ||
        H5Dread(dm, H5T_NATIVE_UINT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, ids) < 0)
        goto out;
    int increasing = 1;
    for (size_t i = 1; i < nn; i++)
        increasing = increasing && ids[i] > ids[i - 1];
    for (size_t i = 0; i < nn; i++)
        nax[i] = increasing ? (double)ids[i] : (double)i;
    for (size_t k = 0; k < nt; k++) {
        tax[k] = r->t_start + (double)(k * stride) * r->dt;
        if (cols && ov_read_row(d, fs, k * stride, cols, row) < 0)
            goto out;
        for (size_t i = 0; i < nn; i++)
            for (size_t j = 0; j < r->n_vars; j++)
                out[(j * nn + i) * nt + k] = row[i * r->n_vars + j];
    }
    for (size_t j = 0; j < r->n_vars; j++) {
        const char *var = r->var_names[j], *u = r->var_units[j];
        char *gname = ov_fmt("%s_%s", r->name, var);
        char *ln = u[0] ? ov_fmt("%s (%s)", var, u) : ov_fmt("%s", var);
        char *title = stride > 1 ? ov_fmt("%s of %s, every %llu frames (%g ms)", var, r->label,
                                          (unsigned long long)stride, (double)stride * r->dt)
                                 : ov_fmt("%s of %s", var, r->label);
        herr_t r1 = gname && ln && title
                        ? ov_write_image(ov, &(ov_image){
                              .group = gname, .title = title, .signal = var, .unit = u,
                              .long_name = ln, .ftype = H5T_IEEE_F32LE,
                              .mtype = H5T_NATIVE_FLOAT, .data = out + j * nn * nt,
                              /* each row a curve over time: h5web and silx
                               * open a trace per node, not a heat map a few
                               * rows tall */
                              .spectrum = 1, .row_axis = "node", .row_unit = "",
                              .row_long_name = increasing ? "node id" : "recorded node (column)",
                              .rows = nax, .n_rows = nn, .time = tax, .nt = nt})
                        : -1;
        free(gname);
        free(ln);
        free(title);
        if (r1 < 0)
            goto out;
    }
    rc = 0;
out:
    if (dm >= 0)
        H5Dclose(dm);
    if (fs >= 0)
        H5Sclose(fs);
    if (d >= 0)
        H5Dclose(d);
    free(pd);
    free(pm);
    free(row);
    free(out);
    free(tax);
    free(ids);
    free(nax);
    return rc;
}

/* One weights report: a histogram [weight bin, time], OV_WBINS bins over
 * the weights' range, at most OV_MAX_TBINS frames. */
static herr_t ov_weights(apical_h5 *h, hid_t ov, const report *r)
{
    herr_t rc = -1;
    hsize_t frames = r->written;
    hsize_t stride = frames > OV_MAX_TBINS ? (frames + OV_MAX_TBINS - 1) / OV_MAX_TBINS : 1;
    size_t nt = (size_t)((frames + stride - 1) / stride);
    size_t n = r->width;
    char *pd = ov_fmt("/report/%s/data", r->name);
    float *row = malloc((n + 1) * sizeof *row);
    uint32_t *hist = calloc(OV_WBINS * nt + 1, sizeof *hist);
    double *tax = malloc((nt + 1) * sizeof *tax);
    double wax[OV_WBINS];
    hid_t d = H5I_INVALID_HID, fs = H5I_INVALID_HID;
    char *gname = NULL, *ln = NULL, *title = NULL, *wln = NULL;
    if (!pd || !row || !hist || !tax)
        goto out;
    if ((d = H5Dopen2(h->file, pd, H5P_DEFAULT)) < 0 || (fs = H5Dget_space(d)) < 0)
        goto out;
    double lo = INFINITY, hi = -INFINITY;
    for (size_t k = 0; n && k < nt; k++) {
        if (ov_read_row(d, fs, k * stride, n, row) < 0)
            goto out;
        for (size_t s = 0; s < n; s++)
            if (isfinite(row[s])) {
                lo = row[s] < lo ? row[s] : lo;
                hi = row[s] > hi ? row[s] : hi;
            }
    }
    if (!(lo <= hi))
        lo = 0.0, hi = 1.0;
    if (hi == lo)
        hi = lo + (lo != 0 ? fabs(lo) * 1e-3 : 1.0);
    double w = (hi - lo) / OV_WBINS;
    for (size_t b = 0; b < OV_WBINS; b++)
        wax[b] = lo + (b + 0.5) * w;
    for (size_t k = 0; k < nt; k++) {
        tax[k] = r->t_start + (double)(k * stride) * r->dt;
        if (n && ov_read_row(d, fs, k * stride, n, row) < 0)
            goto out;
        for (size_t s = 0; s < n; s++) {
            if (!isfinite(row[s]))
                continue;
            size_t b = (size_t)((row[s] - lo) / w);
            if (b >= OV_WBINS)
                b = OV_WBINS - 1;
            hist[b * nt + k]++;
        }
    }
    gname = ov_fmt("%s_weights", r->name);
    ln = ov_fmt("synapses of %s per weight bin", r->label);
    title = ov_fmt("weight histogram of %s over time", r->label);
    wln = r->unit[0] ? ov_fmt("weight (%s)", r->unit) : ov_fmt("weight");
    if (!gname || !ln || !title || !wln ||
        ov_write_image(ov, &(ov_image){.group = gname, .title = title, .signal = "synapses",
                                       .unit = "1", .long_name = ln, .ftype = H5T_STD_U32LE,
                                       .mtype = H5T_NATIVE_UINT32, .data = hist,
                                       .row_axis = "weight", .row_unit = r->unit,
                                       .row_long_name = wln, .rows = wax, .n_rows = OV_WBINS,
                                       .time = tax, .nt = nt}) < 0)
        goto out;
    rc = 0;
out:
    if (fs >= 0)
        H5Sclose(fs);
    if (d >= 0)
        H5Dclose(d);
    free(pd);
    free(row);
    free(hist);
    free(tax);
    free(gname);
    free(ln);
    free(title);
    free(wln);
    return rc;
}

/* Write /overview; returns 1 when written, 0 when there is nothing to
 * show, -1 on failure (then no /overview is left behind). The file must
 * not be in SWMR mode. */
static int write_overview(apical_h5 *h)
{
    if (h->swmr || (h->n_spk == 0 && h->n_rep == 0))
        return 0;
    double t_end = h->t_reached;
    for (size_t i = 0; i < h->n_spk; i++)
        if (isfinite(h->spk[i].last_t) && h->spk[i].last_t > t_end)
            t_end = h->spk[i].last_t;
    if (H5Lexists(h->file, "overview", H5P_DEFAULT) > 0)
        return 0; /* not ours: leave it */
    hid_t ov = H5Gcreate2(h->file, "overview", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (ov < 0)
        return -1;
    herr_t rc = attr_str(ov, "NX_class", "NXentry");
    if (rc >= 0 && h->n_spk)
        rc = ov_spikes(h, ov, t_end);
    for (size_t i = 0; rc >= 0 && i < h->n_rep; i++) {
        const report *r = &h->rep[i];
        if (r->weights)
            rc = ov_weights(h, ov, r);
        else if (r->n_vars)
            rc = ov_state(h, ov, r);
    }
    char *def = NULL;
    if (rc >= 0) {
        if (h->n_spk)
            def = ov_fmt("rates");
        else if (h->rep[0].weights)
            def = ov_fmt("%s_weights", h->rep[0].name);
        else
            def = ov_fmt("%s_%s", h->rep[0].name, h->rep[0].var_names[0]);
        rc = def ? attr_str(ov, "default", def) : -1;
    }
    free(def);
    if (H5Gclose(ov) < 0)
        rc = -1;
    if (rc < 0) {
        H5Ldelete(h->file, "overview", H5P_DEFAULT);
        H5Eclear2(H5E_DEFAULT);
        return -1;
    }
    return 1;
}

/* ---- finish / abort ------------------------------------------------------- */

/* (live writing, below) */
apical_status apical_h5_end_swmr(apical_h5 *h, double t_reached, apical_error *err);

/* Root `default` (NeXus): the NXentry /overview (whose own `default` names
 * its first NXdata) when it was written; else the first spike population's
 * raster, else the first report. */
static herr_t write_default(apical_h5 *h, int overview)
{
    if (overview > 0)
        return attr_str(h->file, "default", "overview");
    const char *kind = h->n_spk ? "spikes" : h->n_rep ? "report" : NULL;
    if (!kind)
        return 0;
    const char *name = h->n_spk ? h->spk[0].name : h->rep[0].name;
    size_t len = strlen(kind) + strlen(name) + 3;
    char *p = malloc(len);
    if (!p)
        return -1;
    snprintf(p, len, "/%s/%s", kind, name);
    herr_t rc = attr_str(h->file, "default", p);
    free(p);
    return rc;
}

apical_status apical_h5_finish(apical_h5 *h, apical_error *err)
{
    apical_status st = check_usable(h, err);
    if (st != APICAL_OK)
        goto fail;
    if (h->swmr && (st = apical_h5_end_swmr(h, h->t_reached, err)) != APICAL_OK)
        goto fail;
    for (size_t i = 0; i < h->n_spk; i++) {
        st = spikes_flush(h, &h->spk[i], err);
        if (st != APICAL_OK)
            goto fail;
    }
    for (size_t i = 0; i < h->n_rep; i++) {
        st = report_flush(h, &h->rep[i], err);
        if (st != APICAL_OK)
            goto fail;
    }
    if (tables_write_blocks(h) < 0) {
        st = h5_fail(h, err, "cannot append to a table");
        goto fail;
    }
    /* A viewer aid: if it cannot be written (out of memory), the run's
     * results are still complete and kept, without it. */
    int overview = write_overview(h);
    if (write_default(h, overview) < 0) {
        st = h5_fail(h, err, "cannot write root attribute default");
        goto fail;
    }
    /* Data and metadata on disk first, then the flag, so complete = 1 is
     * never on disk ahead of the data it vouches for. */
    if (H5Fflush(h->file, H5F_SCOPE_LOCAL) < 0) {
        st = h5_fail(h, err, "cannot flush");
        goto fail;
    }
    uint8_t one = 1;
    hid_t a = H5Aopen(h->file, "complete", H5P_DEFAULT);
    herr_t rc = a < 0 ? -1 : H5Awrite(a, H5T_NATIVE_UINT8, &one);
    if (a >= 0 && H5Aclose(a) < 0)
        rc = -1;
    if (rc < 0) {
        st = h5_fail(h, err, "cannot set root attribute complete");
        goto fail;
    }
    if (close_all(h) < 0) {
        st = h5_fail(h, err, "cannot close");
        goto fail;
    }
    /* On disk before it gets the final name: a crash after the rename must
     * not leave a complete-looking file with missing data. */
    int fd = open(h->part, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    struct stat fb;
    const char *why = NULL;
    if (fd < 0 || fstat(fd, &fb) != 0)
        why = strerror(errno);
    else if (fb.st_dev != h->part_dev || fb.st_ino != h->part_ino)
        why = "it is no longer the file this run wrote";
    else if (fsync(fd) != 0)
        why = strerror(errno);
    if (fd >= 0)
        close(fd);
    if (why) {
        /* not removed: it may hold the results, or not be ours any more */
        st = apical_error_set(err, APICAL_E_IO, NULL, "cannot sync '%s': %s", h->part, why);
        free_handle(h);
        return st;
    }
    /* The output may have become a device or FIFO during a long run. */
    st = apical_output_check(h->path, APICAL_OUT_RENAMED, NULL, 0, err);
    if (st != APICAL_OK && err) {
        char msg[sizeof err->msg + 1024];
        snprintf(msg, sizeof msg, "%s (the complete results are kept in '%s')", err->msg, h->part);
        msg[sizeof err->msg - 1] = '\0';
        memcpy(err->msg, msg, sizeof err->msg);
    }
    if (st != APICAL_OK) {
        free_handle(h);
        return st;
    }
    if (rename(h->part, h->path) != 0) {
        /* The .part is complete and valid: keep it rather than lose a long
         * run's results, and say where it is. */
        st = apical_error_set(err, APICAL_E_IO, NULL,
                              "cannot rename '%s' to '%s': %s (the complete "
                              "results are kept in '%s')",
                              h->part, h->path, strerror(errno), h->part);
        free_handle(h);
        return st;
    }
    if (apical_fsync_dir(h->path) != 0) {
        st = apical_error_set(err, APICAL_E_IO, NULL, "cannot sync the directory of '%s': %s",
                              h->path, strerror(errno));
        free_handle(h);
        return st;
    }
    free_handle(h);
    return APICAL_OK;

fail:
    apical_h5_abort(h);
    return st;
}

apical_status apical_h5_end_checkpoint(apical_h5 *h, apical_status st, uint64_t seed,
                                       const char *network, apical_error *err)
{
    if (!st)
        st = apical_h5_provenance_u64(h, "seed", seed, err);
    if (!st)
        st = apical_h5_provenance_string(h, "network", network ? network : "", err);
    if (st) {
        apical_h5_abort(h);
        return st;
    }
    return apical_h5_finish(h, err);
}

void apical_h5_abort(apical_h5 *h)
{
    if (!h)
        return;
    close_all(h);
    unlink(h->part);
    free_handle(h);
}

/* ---- tables (protocols' outputs) ---------------------------------------- */

/* Open or create every group along path (a/b/c), the last one new. */
static hid_t table_group(hid_t file, const char *path)
{
    char buf[512];
    if (strlen(path) >= sizeof buf)
        return H5I_INVALID_HID;
    strcpy(buf, path);
    hid_t g = H5Gopen2(file, "/", H5P_DEFAULT);
    for (char *part = buf, *slash; g >= 0; part = slash + 1) {
        slash = strchr(part, '/');
        if (slash)
            *slash = '\0';
        hid_t next = slash && H5Lexists(g, part, H5P_DEFAULT) > 0
                         ? H5Gopen2(g, part, H5P_DEFAULT)
                         : H5Gcreate2(g, part, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        H5Gclose(g);
        g = next;
        if (!slash)
            break;
    }
    return g;
}

static hid_t table_ftype(apical_h5_type t)
{
    return t == APICAL_H5_U16 ? H5T_STD_U16LE : H5T_IEEE_F64LE;
}

static hid_t table_mtype(apical_h5_type t)
{
    return t == APICAL_H5_U16 ? H5T_NATIVE_UINT16 : H5T_NATIVE_DOUBLE;
}

static size_t table_elem(apical_h5_type t)
{
    return t == APICAL_H5_U16 ? sizeof(uint16_t) : sizeof(double);
}

/* The table's group and datasets in the file. */
static apical_status table_create(apical_h5 *h, table *tb, const char *path,
                                  const char *description, const apical_h5_column *cols,
                                  size_t chunk_rows, apical_error *err)
{
    if ((tb->grp = table_group(h->file, path)) < 0)
        return h5_fail(h, err, "cannot create /%s", path);
    for (size_t k = 0; k < tb->n_col; k++) {
        const size_t w = cols[k].width;
        hsize_t chunk[2] = {chunk_rows, w ? w : 1};
        if ((tb->ds[k] = dset_extendible_opt(tb->grp, cols[k].name, table_ftype(cols[k].type),
                                             w ? 2 : 1, w, chunk, cols[k].raw)) < 0 ||
            (cols[k].units && attr_str(tb->ds[k], "units", cols[k].units) < 0))
            return h5_fail(h, err, "cannot create /%s", path);
    }
    if (description && attr_str(tb->grp, "description", description) < 0)
        return h5_fail(h, err, "cannot create /%s", path);
    return APICAL_OK;
}

/* The table's pending rows (table_append) into its datasets. */
static herr_t table_write_block(table *tb)
{
    if (!tb->n_blk || tb->deferred)
        return 0;
    for (size_t k = 0; k < tb->n_col; k++) {
        const size_t w = tb->col[k].width;
        hsize_t count[2] = {tb->n_blk, w};
        if (tb->ds[k] < 0 || dset_append(tb->ds[k], table_mtype(tb->col[k].type), w ? 2 : 1,
                                         tb->rows, count, w, tb->blk + tb->blk_off[k]) < 0)
            return -1;
    }
    tb->rows += tb->n_blk;
    tb->n_blk = 0;
    return 0;
}

static herr_t tables_write_blocks(apical_h5 *h)
{
    herr_t rc = 0;
    for (size_t i = 0; i < h->n_tab; i++)
        if (table_write_block(&h->tab[i]) < 0)
            rc = -1;
    return rc;
}

apical_status apical_h5_table_add(apical_h5 *h, const char *path, const char *description,
                                  const apical_h5_column *cols, size_t n_cols, size_t chunk_rows,
                                  int *id, apical_error *err)
{
    apical_status st = check_usable(h, err);
    if (st)
        return st;
    table *grown = realloc(h->tab, (h->n_tab + 1) * sizeof *grown);
    if (!grown)
        return apical_error_set(err, APICAL_E_NOMEM, NULL, "out of memory");
    h->tab = grown;
    table *tb = &h->tab[h->n_tab];
    *tb = (table){.grp = H5I_INVALID_HID, .ds = calloc(n_cols + 1, sizeof(hid_t)),
                  .col = calloc(n_cols + 1, sizeof(apical_h5_column)), .n_col = n_cols,
                  .deferred = h->swmr, .chunk_rows = chunk_rows};
    h->n_tab++;
    if (!tb->ds || !tb->col)
        return apical_error_set(err, APICAL_E_NOMEM, NULL, "out of memory");
    for (size_t k = 0; k < n_cols; k++) {
        tb->ds[k] = H5I_INVALID_HID;
        tb->col[k] = (apical_h5_column){NULL, cols[k].type, cols[k].width, NULL, cols[k].raw};
        tb->row_bytes += (cols[k].width ? cols[k].width : 1) * table_elem(cols[k].type);
    }
    if (tb->deferred) {
        /* The file is live: nothing can be created in it until the run
         * ends. Kept in memory (protocols should create their tables in
         * their `output` hook, before the run; include/apical/protocol.h). */
        tb->path = dup_str(path);
        tb->desc = description ? dup_str(description) : NULL;
        if (!tb->path || (description && !tb->desc))
            return apical_error_set(err, APICAL_E_NOMEM, NULL, "out of memory");
        for (size_t k = 0; k < n_cols; k++) {
            tb->col[k].name = dup_str(cols[k].name);
            tb->col[k].units = cols[k].units ? dup_str(cols[k].units) : NULL;
            if (!tb->col[k].name || (cols[k].units && !tb->col[k].units))
                return apical_error_set(err, APICAL_E_NOMEM, NULL, "out of memory");
        }
    } else if ((st = table_create(h, tb, path, description, cols, chunk_rows, err))) {
        return st;
    }
    *id = (int)(h->n_tab - 1);
    return APICAL_OK;
}

apical_status apical_h5_table_append(apical_h5 *h, int id, const void *const *row,
                                     apical_error *err)
{
    apical_status st = check_usable(h, err);
    if (st)
        return st;
    table *tb = &h->tab[id];
    if (tb->deferred) {
        if (tb->n_pend == tb->cap_pend) {
            size_t cap = tb->cap_pend ? 2 * tb->cap_pend : 64;
            unsigned char *p = realloc(tb->pend, cap * tb->row_bytes + 1);
            if (!p)
                return apical_error_set(err, APICAL_E_NOMEM, NULL, "out of memory");
            tb->pend = p;
            tb->cap_pend = cap;
        }
        unsigned char *at = tb->pend + tb->n_pend * tb->row_bytes;
        for (size_t k = 0; k < tb->n_col; k++) {
            size_t b = (tb->col[k].width ? tb->col[k].width : 1) * table_elem(tb->col[k].type);
            memcpy(at, row[k], b);
            at += b;
        }
        tb->n_pend++;
        return APICAL_OK;
    }
    if (!tb->blk) { /* the block: chunk_rows rows of every column */
        const size_t rows = tb->chunk_rows ? tb->chunk_rows : 1;
        if (!(tb->blk_off = calloc(tb->n_col + 1, sizeof *tb->blk_off)) ||
            !(tb->blk = malloc(rows * tb->row_bytes + 1)))
            return apical_error_set(err, APICAL_E_NOMEM, NULL, "out of memory");
        for (size_t k = 0, off = 0; k < tb->n_col; k++) {
            tb->blk_off[k] = off;
            off += rows * (tb->col[k].width ? tb->col[k].width : 1) * table_elem(tb->col[k].type);
        }
    }
    for (size_t k = 0; k < tb->n_col; k++) {
        const size_t b = (tb->col[k].width ? tb->col[k].width : 1) * table_elem(tb->col[k].type);
        memcpy(tb->blk + tb->blk_off[k] + tb->n_blk * b, row[k], b);
    }
    if (++tb->n_blk >= (tb->chunk_rows ? tb->chunk_rows : 1) && table_write_block(tb) < 0)
        return h5_fail(h, err, "cannot append to a table");
    return APICAL_OK;
}

/* ---- live writing (SWMR) ------------------------------------------------ */

apical_status apical_h5_start_swmr(apical_h5 *h, apical_error *err)
{
    apical_status st = check_creatable(h, "the live file", err);
    if (st)
        return st;
    /* The one value updated in place at every flush: how far the data on
     * disk go. A dataset, since no attribute can be added once live. */
    double zero = 0.0;
    if ((st = prov_scalar(h, "t_reached", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &zero, "ms", err)))
        return st;
    if ((h->ds_reached = H5Dopen2(h->g_prov, "t_reached", H5P_DEFAULT)) < 0)
        return h5_fail(h, err, "cannot open /provenance/t_reached");
    if (H5Fflush(h->file, H5F_SCOPE_LOCAL) < 0 || H5Fstart_swmr_write(h->file) < 0)
        return h5_fail(h, err, "cannot start SWMR writing");
    h->swmr = 1;
    return APICAL_OK;
}

apical_status apical_h5_flush(apical_h5 *h, double t_reached, apical_error *err)
{
    apical_status st = check_usable(h, err);
    if (st)
        return st;
    for (size_t i = 0; i < h->n_spk; i++)
        if ((st = spikes_flush(h, &h->spk[i], err)))
            return st;
    for (size_t i = 0; i < h->n_rep; i++)
        if ((st = report_flush(h, &h->rep[i], err)))
            return st;
    if (tables_write_blocks(h) < 0)
        return h5_fail(h, err, "cannot append to a table");
    /* after the data it vouches for */
    if (h->ds_reached >= 0) {
        if (H5Dwrite(h->ds_reached, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT,
                     &t_reached) < 0)
            return h5_fail(h, err, "cannot write /provenance/t_reached");
        h->t_reached = t_reached;
    }
    if (H5Fflush(h->file, H5F_SCOPE_LOCAL) < 0)
        return h5_fail(h, err, "cannot flush");
    return APICAL_OK;
}

apical_status apical_h5_end_swmr(apical_h5 *h, double t_reached, apical_error *err)
{
    apical_status st = apical_h5_flush(h, t_reached, err);
    if (st || !h->swmr)
        return st;
    /* Leave SWMR mode by closing, then reopen for what is only known at
     * the end (edges, wall times, deferred tables, `complete`). */
    if (close_all(h) < 0)
        return h5_fail(h, err, "cannot close");
    for (size_t i = 0; i < h->n_spk; i++)
        h->spk[i].ds_t = h->spk[i].ds_node = h->spk[i].grp = H5I_INVALID_HID;
    h->swmr = 0;
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0 || H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG) < 0 ||
        (h->file = H5Fopen(h->part, H5F_ACC_RDWR, fapl)) < 0) {
        st = h5_fail(h, err, "cannot reopen");
        if (fapl >= 0)
            H5Pclose(fapl);
        return st;
    }
    H5Pclose(fapl);
    if ((h->ds_reached = H5Dopen2(h->file, "/provenance/t_reached", H5P_DEFAULT)) < 0)
        return h5_fail(h, err, "cannot reopen /provenance/t_reached");
    for (size_t i = 0; i < h->n_tab; i++) {
        table *tb = &h->tab[i];
        if (!tb->deferred)
            continue;
        tb->deferred = 0;
        if ((st = table_create(h, tb, tb->path, tb->desc, tb->col, tb->chunk_rows, err)))
            return st;
        const void *row[64];
        for (size_t r = 0; r < tb->n_pend; r++) {
            const unsigned char *at = tb->pend + r * tb->row_bytes;
            for (size_t k = 0; k < tb->n_col && k < 64; k++) {
                row[k] = at;
                at += (tb->col[k].width ? tb->col[k].width : 1) * table_elem(tb->col[k].type);
            }
            if ((st = apical_h5_table_append(h, (int)i, row, err)))
                return st;
        }
        free(tb->pend);
        tb->pend = NULL;
        tb->n_pend = tb->cap_pend = 0;
    }
    return APICAL_OK;
}

apical_status apical_h5_keep(apical_h5 *h, const char *why, double t_reached, apical_error *err)
{
    apical_status st = check_usable(h, err);
    if (st == APICAL_OK)
        st = apical_h5_end_swmr(h, t_reached, err);
    if (st == APICAL_OK && why)
        st = apical_h5_provenance_string(h, "stopped", why, err);
    /* the overview of what was run, as at the end of a finished run (best
     * effort: the data matter more) */
    if (st == APICAL_OK) {
        int overview = write_overview(h);
        if (write_default(h, overview) < 0)
            H5Eclear2(H5E_DEFAULT);
    }
    if (st == APICAL_OK && tables_write_blocks(h) < 0)
        st = h5_fail(h, err, "cannot append to a table");
    if (st == APICAL_OK && H5Fflush(h->file, H5F_SCOPE_LOCAL) < 0)
        st = h5_fail(h, err, "cannot flush");
    /* complete stays 0; the file keeps its .part name */
    if (close_all(h) < 0 && st == APICAL_OK)
        st = h5_fail(h, err, "cannot close");
    int fd = open(h->part, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0) {
        struct stat fb;
        if (fstat(fd, &fb) == 0 && fb.st_dev == h->part_dev && fb.st_ino == h->part_ino)
            fsync(fd);
        close(fd);
    }
    free_handle(h);
    return st;
}

void apical_h5_leave(apical_h5 *h)
{
    if (!h)
        return;
    /* After a write error (a full disk): no more writes. What the last
     * flush put on disk stays readable (SWMR orders its metadata writes so
     * that a reader never sees a dataset extended before its data). */
    close_all(h);
    H5Eclear2(H5E_DEFAULT);
    free_handle(h);
}

double apical_h5_reached(const apical_h5 *h)
{
    return h ? h->t_reached : 0.0;
}
