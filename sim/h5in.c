/* Reading one SONATA edge population back (include/apical/h5in.h). The file
 * is opened read-only with HDF5's own error printing switched off; every
 * failure becomes one message naming the file and the HDF5 path. */
#include "apical/h5in.h"
#include "apical/paths.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <hdf5.h>

typedef struct rd {
    const char *path;
    const char *name;
    apical_error *err;
} rd;

static apical_status bad(const rd *r, apical_status code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
static apical_status bad(const rd *r, apical_status code, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    H5Eclear2(H5E_DEFAULT);
    return apical_error_set(r->err, code, NULL, "%s: %s", r->path, msg);
}

/* A dataset or attribute open with its datatype and dataspace: what every
 * read below starts with. An id that could not be had is H5I_INVALID_HID. */
typedef struct typed_obj {
    hid_t id, type, space;
    herr_t (*close)(hid_t);
} typed_obj;

static typed_obj open_dataset(hid_t loc, const char *name)
{
    typed_obj o = {H5Dopen2(loc, name, H5P_DEFAULT), H5I_INVALID_HID, H5I_INVALID_HID, H5Dclose};
    if (o.id >= 0) {
        o.type = H5Dget_type(o.id);
        o.space = H5Dget_space(o.id);
    }
    return o;
}

static typed_obj open_attribute(hid_t obj, const char *name)
{
    typed_obj o = {H5Aopen(obj, name, H5P_DEFAULT), H5I_INVALID_HID, H5I_INVALID_HID, H5Aclose};
    if (o.id >= 0) {
        o.type = H5Aget_type(o.id);
        o.space = H5Aget_space(o.id);
    }
    return o;
}

static int typed_ok(const typed_obj *o)
{
    return o->id >= 0 && o->type >= 0 && o->space >= 0;
}

/* Close what was opened; NULL-safe in the sense of H5I_INVALID_HID ids. */
static void typed_close(typed_obj *o)
{
    if (o->space >= 0)
        H5Sclose(o->space);
    if (o->type >= 0)
        H5Tclose(o->type);
    if (o->id >= 0)
        o->close(o->id);
    o->id = o->type = o->space = H5I_INVALID_HID;
}

/* path opened read-only, its objects closed with it (H5F_CLOSE_STRONG), once
 * apical_check_input has refused a FIFO (it would block H5Fopen), a
 * directory or a device (`kind` names the file in that message). *f is
 * H5I_INVALID_HID when HDF5 cannot open it; close *f and *fapl with
 * close_input either way. */
static apical_status open_input(const char *path, const char *kind, hid_t *f, hid_t *fapl,
                                apical_error *err)
{
    *f = *fapl = H5I_INVALID_HID;
    apical_status st = apical_check_input(path, kind, err);
    if (st != APICAL_OK)
        return st;
    *fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (*fapl >= 0)
        H5Pset_fclose_degree(*fapl, H5F_CLOSE_STRONG);
    *f = H5Fopen(path, H5F_ACC_RDONLY, *fapl);
    return APICAL_OK;
}

static void close_input(hid_t f, hid_t fapl)
{
    if (f >= 0)
        H5Fclose(f);
    if (fapl >= 0)
        H5Pclose(fapl);
}

/* A string attribute (fixed or variable length) into buf; "" if absent. */
static void attr_text(hid_t obj, const char *name, char *buf, size_t len)
{
    buf[0] = '\0';
    if (H5Aexists(obj, name) <= 0)
        return;
    typed_obj a = open_attribute(obj, name);
    const hid_t t = a.type;
    if (typed_ok(&a) && H5Tget_class(t) == H5T_STRING &&
        H5Sget_simple_extent_npoints(a.space) == 1) {
        if (H5Tis_variable_str(t) > 0) {
            char *s = NULL;
            hid_t mt = H5Tcopy(H5T_C_S1);
            H5Tset_size(mt, H5T_VARIABLE);
            H5Tset_cset(mt, H5Tget_cset(t));
            if (H5Aread(a.id, mt, &s) >= 0 && s) {
                snprintf(buf, len, "%s", s);
                H5free_memory(s);
            }
            H5Tclose(mt);
        } else {
            size_t n = H5Tget_size(t);
            char *s = calloc(n + 1, 1);
            hid_t mt = H5Tcopy(t);
            if (s && mt >= 0 && H5Aread(a.id, mt, s) >= 0)
                snprintf(buf, len, "%s", s);
            if (mt >= 0)
                H5Tclose(mt);
            free(s);
        }
    }
    typed_close(&a);
    H5Eclear2(H5E_DEFAULT);
}

/* An unsigned integer attribute; 0 if absent or not an integer scalar. */
static uint64_t attr_u64(hid_t obj, const char *name)
{
    uint64_t v = 0;
    if (H5Aexists(obj, name) <= 0)
        return 0;
    typed_obj a = open_attribute(obj, name);
    if (typed_ok(&a) && H5Tget_class(a.type) == H5T_INTEGER &&
        H5Sget_simple_extent_npoints(a.space) == 1 &&
        H5Aread(a.id, H5T_NATIVE_UINT64, &v) < 0)
        v = 0;
    typed_close(&a);
    H5Eclear2(H5E_DEFAULT);
    return v;
}

/* Read the 1-D dataset grp/ds of numeric class `cls` (H5T_INTEGER or
 * H5T_FLOAT) as `mtype` into a new array of *n elements (*n == SIZE_MAX:
 * any length, set on return; otherwise the length must match). *out stays
 * NULL if the dataset does not exist and `optional` is set. */
static apical_status read_column(const rd *r, hid_t grp, const char *where, const char *ds,
                                 H5T_class_t cls, hid_t mtype, size_t elem, size_t *n,
                                 void **out, int optional)
{
    *out = NULL;
    htri_t ex = H5Lexists(grp, ds, H5P_DEFAULT);
    if (ex <= 0) {
        H5Eclear2(H5E_DEFAULT);
        if (optional)
            return APICAL_OK;
        return bad(r, APICAL_E_DATA, "%s/%s is missing (not an apical/SONATA edges group?)",
                   where, ds);
    }
    apical_status st = APICAL_OK;
    typed_obj d = open_dataset(grp, ds);
    if (!typed_ok(&d)) {
        st = bad(r, APICAL_E_DATA, "%s/%s is not a readable dataset", where, ds);
        goto out;
    }
    if (H5Tget_class(d.type) != cls || H5Sget_simple_extent_ndims(d.space) != 1) {
        st = bad(r, APICAL_E_DATA, "%s/%s is not a 1-D %s dataset", where, ds,
                 cls == H5T_INTEGER ? "integer" : "floating-point");
        goto out;
    }
    hsize_t len = 0;
    H5Sget_simple_extent_dims(d.space, &len, NULL);
    if (*n != SIZE_MAX && len != *n) {
        st = bad(r, APICAL_E_DATA, "%s/%s has %llu values, expected %zu (one per edge)", where,
                 ds, (unsigned long long)len, *n);
        goto out;
    }
    /* The header's count against the bytes the file holds for it, before
     * allocating: a 31 KB file can declare 2^40 edges (unwritten chunks
     * read as the fill value). Deflate compresses at most 1032:1. */
    const double stored = (double)H5Dget_storage_size(d.id);
    if ((double)len * (double)elem > 1100.0 * stored && len > 0) {
        st = bad(r, APICAL_E_DATA,
                 "%s/%s declares %llu values but the file holds %.0f bytes of them (corrupt or "
                 "truncated file)",
                 where, ds, (unsigned long long)len, stored);
        goto out;
    }
    void *buf = malloc(((size_t)len + 1) * elem);
    if (!buf) {
        st = apical_error_set(r->err, APICAL_E_NOMEM, NULL, "out of memory reading %s", r->path);
        goto out;
    }
    if (len && H5Dread(d.id, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) {
        free(buf);
        st = bad(r, APICAL_E_DATA, "%s/%s cannot be read (corrupt file?)", where, ds);
        goto out;
    }
    *n = (size_t)len;
    *out = buf;
out:
    typed_close(&d);
    H5Eclear2(H5E_DEFAULT);
    return st;
}

/* Names of the edge populations in the file, for "did you mean" messages. */
static herr_t list_name(hid_t g, const char *name, const H5L_info_t *info, void *data)
{
    (void)g;
    (void)info;
    char *buf = data;
    size_t used = strlen(buf);
    if (used < 300)
        snprintf(buf + used, 400 - used, "%s%s", used ? ", " : "", name);
    return 0;
}

apical_status apical_h5_edges_read(const char *path, const char *name, apical_edge_data *out,
                                   apical_error *err)
{
    memset(out, 0, sizeof *out);
    rd r = {path, name, err};
    apical_status st = APICAL_OK;
    hid_t f = H5I_INVALID_HID, fapl = H5I_INVALID_HID, g = H5I_INVALID_HID,
          g0 = H5I_INVALID_HID, d = H5I_INVALID_HID;
    uint32_t *gid = NULL;
    uint64_t *gidx = NULL;
    double *w0 = NULL, *d0 = NULL;
    char where[600];
    snprintf(where, sizeof where, "/edges/%s", name);

    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    if ((st = open_input(path, "edges file", &f, &fapl, err)) != APICAL_OK)
        return st;
    if (f < 0) {
        st = bad(&r, APICAL_E_DATA,
                 "not a readable HDF5 file (corrupt, or locked by a run still writing it?)");
        goto out;
    }
    if (H5Lexists(f, "edges", H5P_DEFAULT) <= 0 ||
        H5Lexists(f, where, H5P_DEFAULT) <= 0) {
        char names[400] = "";
        if (H5Lexists(f, "edges", H5P_DEFAULT) > 0) {
            hid_t ge = H5Gopen2(f, "edges", H5P_DEFAULT);
            if (ge >= 0) {
                H5Literate(ge, H5_INDEX_NAME, H5_ITER_INC, NULL, list_name, names);
                H5Gclose(ge);
            }
        }
        H5Eclear2(H5E_DEFAULT);
        st = bad(&r, APICAL_E_REFERENCE, "no edge population %s; the file has %s%s", where,
                 names[0] ? "/edges/: " : "no /edges group (only runs with plastic projections or "
                                          "--save-edges write one)",
                 names);
        goto out;
    }
    g = H5Gopen2(f, where, H5P_DEFAULT);
    if (g < 0) {
        st = bad(&r, APICAL_E_DATA, "%s is not a group", where);
        goto out;
    }
    size_t n = SIZE_MAX;
    if ((st = read_column(&r, g, where, "source_node_id", H5T_INTEGER, H5T_NATIVE_UINT64,
                          sizeof(uint64_t), &n, (void **)&out->src, 0)) ||
        (st = read_column(&r, g, where, "target_node_id", H5T_INTEGER, H5T_NATIVE_UINT64,
                          sizeof(uint64_t), &n, (void **)&out->tgt, 0)) ||
        (st = read_column(&r, g, where, "edge_group_id", H5T_INTEGER, H5T_NATIVE_UINT32,
                          sizeof(uint32_t), &n, (void **)&gid, 1)) ||
        (st = read_column(&r, g, where, "edge_group_index", H5T_INTEGER, H5T_NATIVE_UINT64,
                          sizeof(uint64_t), &n, (void **)&gidx, 1)))
        goto out;
    out->n = n;
    if ((d = H5Dopen2(g, "source_node_id", H5P_DEFAULT)) >= 0) {
        attr_text(d, "node_population", out->src_pop, sizeof out->src_pop);
        out->n_src = attr_u64(d, "n_nodes");
        H5Dclose(d);
    }
    if ((d = H5Dopen2(g, "target_node_id", H5P_DEFAULT)) >= 0) {
        attr_text(d, "node_population", out->tgt_pop, sizeof out->tgt_pop);
        out->n_tgt = attr_u64(d, "n_nodes");
        H5Dclose(d);
    }
    d = H5I_INVALID_HID;
    for (size_t k = 0; gid && k < n; k++)
        if (gid[k] != 0) {
            st = bad(&r, APICAL_E_DATA,
                     "%s/edge_group_id[%zu] = %u: only edge group 0 is supported", where, k,
                     gid[k]);
            goto out;
        }
    /* group 0: syn_weight (or weight) and delay, indexed by edge_group_index */
    char w0where[700];
    snprintf(w0where, sizeof w0where, "%s/0", where);
    size_t m_w = SIZE_MAX, m_d = SIZE_MAX;
    if (H5Lexists(g, "0", H5P_DEFAULT) > 0 && (g0 = H5Gopen2(g, "0", H5P_DEFAULT)) >= 0) {
        const char *wname = H5Lexists(g0, "syn_weight", H5P_DEFAULT) > 0 ? "syn_weight" : "weight";
        H5Eclear2(H5E_DEFAULT);
        if ((st = read_column(&r, g0, w0where, wname, H5T_FLOAT, H5T_NATIVE_DOUBLE,
                              sizeof(double), &m_w, (void **)&w0, 1)) ||
            (st = read_column(&r, g0, w0where, "delay", H5T_FLOAT, H5T_NATIVE_DOUBLE,
                              sizeof(double), &m_d, (void **)&d0, 1)))
            goto out;
        if (w0 && (d = H5Dopen2(g0, wname, H5P_DEFAULT)) >= 0) {
            attr_text(d, "units", out->weight_unit, sizeof out->weight_unit);
            H5Dclose(d);
        }
        d = H5I_INVALID_HID;
        if (d0 && (d = H5Dopen2(g0, "delay", H5P_DEFAULT)) >= 0) {
            char du[64];
            attr_text(d, "units", du, sizeof du);
            H5Dclose(d);
            if (du[0] && strcmp(du, "ms") != 0) {
                d = H5I_INVALID_HID;
                st = bad(&r, APICAL_E_DATA, "%s/delay has units '%s'; apical reads delays in ms",
                         w0where, du);
                goto out;
            }
        }
        d = H5I_INVALID_HID;
    }
    H5Eclear2(H5E_DEFAULT);
    out->w = w0 ? malloc((n + 1) * sizeof *out->w) : NULL;
    out->d = d0 ? malloc((n + 1) * sizeof *out->d) : NULL;
    if ((w0 && !out->w) || (d0 && !out->d)) {
        st = apical_error_set(err, APICAL_E_NOMEM, NULL, "out of memory reading %s", path);
        goto out;
    }
    for (size_t k = 0; k < n; k++) {
        uint64_t i = gidx ? gidx[k] : k;
        if ((w0 && i >= m_w) || (d0 && i >= m_d)) {
            st = bad(&r, APICAL_E_DATA,
                     "%s/edge_group_index[%zu] = %llu is past the end of group 0 (%zu edges)",
                     where, k, (unsigned long long)i, w0 ? m_w : m_d);
            goto out;
        }
        if (w0) {
            out->w[k] = w0[i];
            if (!isfinite(out->w[k])) {
                st = bad(&r, APICAL_E_DATA, "%s/0/%s of edge %zu is not finite", where,
                         "syn_weight", k);
                goto out;
            }
        }
        if (d0) {
            out->d[k] = d0[i];
            if (!isfinite(out->d[k]) || !(out->d[k] > 0)) {
                st = bad(&r, APICAL_E_DATA, "%s/0/delay of edge %zu is %g ms; delays must be > 0",
                         where, k, out->d[k]);
                goto out;
            }
        }
    }
out:
    free(gid);
    free(gidx);
    free(w0);
    free(d0);
    if (g0 >= 0)
        H5Gclose(g0);
    if (g >= 0)
        H5Gclose(g);
    close_input(f, fapl);
    H5Eclear2(H5E_DEFAULT);
    if (st)
        apical_edge_data_free(out);
    return st;
}

void apical_edge_data_free(apical_edge_data *e)
{
    if (!e)
        return;
    free(e->src);
    free(e->tgt);
    free(e->w);
    free(e->d);
    e->src = e->tgt = NULL;
    e->w = e->d = NULL;
    e->n = 0;
}

apical_status apical_h5_array_read(const char *path, const char *dataset, double **data,
                                   size_t *rows, size_t *cols, apical_error *err)
{
    *data = NULL;
    *rows = *cols = 0;
    rd r = {path, dataset, err};
    apical_status st = APICAL_OK;
    hid_t f, fapl;
    typed_obj d = {H5I_INVALID_HID, H5I_INVALID_HID, H5I_INVALID_HID, H5Dclose};
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    if ((st = open_input(path, "data file", &f, &fapl, err)) != APICAL_OK)
        return st;
    if (f < 0) {
        st = bad(&r, APICAL_E_DATA, "not a readable HDF5 file");
        goto out;
    }
    if (H5Lexists(f, dataset, H5P_DEFAULT) <= 0) {
        st = bad(&r, APICAL_E_REFERENCE, "no dataset '%s'", dataset);
        goto out;
    }
    d = open_dataset(f, dataset);
    if (!typed_ok(&d)) {
        st = bad(&r, APICAL_E_DATA, "'%s' is not a readable dataset", dataset);
        goto out;
    }
    const int nd = H5Sget_simple_extent_ndims(d.space);
    const H5T_class_t cls = H5Tget_class(d.type);
    if ((cls != H5T_INTEGER && cls != H5T_FLOAT) || nd < 1 || nd > 2) {
        st = bad(&r, APICAL_E_DATA, "'%s' is not a 1-D or 2-D numeric dataset", dataset);
        goto out;
    }
    hsize_t dims[2] = {0, 1};
    H5Sget_simple_extent_dims(d.space, dims, NULL);
    const double len = (double)dims[0] * (double)dims[1];
    /* the header's size against what the file stores (as read_column) */
    if (len * 8.0 > 1100.0 * (double)H5Dget_storage_size(d.id) + 8.0 * 1024.0 || len > 1e9) {
        st = bad(&r, APICAL_E_DATA, "'%s' declares %.0f values that the file does not hold",
                 dataset, len);
        goto out;
    }
    double *buf = malloc(((size_t)len + 1) * sizeof *buf);
    if (!buf) {
        st = apical_error_set(err, APICAL_E_NOMEM, NULL, "out of memory reading %s", path);
        goto out;
    }
    if (len > 0 && H5Dread(d.id, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) {
        free(buf);
        st = bad(&r, APICAL_E_DATA, "'%s' cannot be read (corrupt file?)", dataset);
        goto out;
    }
    for (size_t k = 0; k < (size_t)len; k++)
        if (!isfinite(buf[k])) {
            free(buf);
            st = bad(&r, APICAL_E_DATA, "'%s'[%zu] is not finite", dataset, k);
            goto out;
        }
    *data = buf;
    *rows = nd == 2 ? (size_t)dims[0] : 1;
    *cols = nd == 2 ? (size_t)dims[1] : (size_t)dims[0];
out:
    typed_close(&d);
    close_input(f, fapl);
    H5Eclear2(H5E_DEFAULT);
    return st;
}
