/* Tests of the HDF5 writer (sim/h5out.c): a full round trip read back with
 * the HDF5 C API and compared exactly, the independent h5py reader
 * tests/h5_readback.py on the same file, and the failure paths (abort,
 * missing directory, a run that dies before finishing). */
#include <check.h>
#include <dirent.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "apical/h5out.h"

Suite *h5out_suite(void);

/* ---- helpers ------------------------------------------------------------ */

static void tmpdir_make(char *buf, size_t n)
{
    const char *base = getenv("TMPDIR");
    snprintf(buf, n, "%s/apical_h5_XXXXXX", base && base[0] ? base : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(buf));
}

/* The writer only ever makes flat directories of files. */
static void tmpdir_remove(const char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        char p[1024];
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            unlink(p);
        }
        closedir(d);
    }
    rmdir(dir);
}

static int dir_entries(const char *dir)
{
    int n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

static int exists(const char *p)
{
    struct stat sb;
    return stat(p, &sb) == 0;
}

static hid_t vstr(void)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    return t;
}

/* Compare a scalar string attribute. */
static void check_attr_str(hid_t loc, const char *obj, const char *name,
                           const char *want)
{
    hid_t a = H5Aopen_by_name(loc, obj, name, H5P_DEFAULT, H5P_DEFAULT);
    ck_assert_msg(a >= 0, "attribute %s of %s missing", name, obj);
    hid_t t = vstr();
    char *v = NULL;
    ck_assert_int_ge(H5Aread(a, t, &v), 0);
    ck_assert_msg(v && strcmp(v, want) == 0, "%s@%s = '%s', want '%s'", obj,
                  name, v ? v : "(null)", want);
    H5free_memory(v);
    H5Tclose(t);
    H5Aclose(a);
}

static void check_attr_strv(hid_t loc, const char *obj, const char *name,
                            const char *const *want, size_t n)
{
    hid_t a = H5Aopen_by_name(loc, obj, name, H5P_DEFAULT, H5P_DEFAULT);
    ck_assert_int_ge(a, 0);
    hid_t sp = H5Aget_space(a);
    hsize_t dim = 0;
    ck_assert_int_eq(H5Sget_simple_extent_ndims(sp), 1);
    H5Sget_simple_extent_dims(sp, &dim, NULL);
    ck_assert_uint_eq(dim, n);
    char **v = calloc(n, sizeof *v);
    hid_t t = vstr();
    ck_assert_int_ge(H5Aread(a, t, v), 0);
    for (size_t i = 0; i < n; i++) {
        ck_assert_str_eq(v[i], want[i]);
        H5free_memory(v[i]);
    }
    free(v);
    H5Tclose(t);
    H5Sclose(sp);
    H5Aclose(a);
}

static uint64_t read_attr_u64(hid_t loc, const char *obj, const char *name)
{
    uint64_t v = 0;
    hid_t a = H5Aopen_by_name(loc, obj, name, H5P_DEFAULT, H5P_DEFAULT);
    ck_assert_msg(a >= 0, "attribute %s of %s missing", name, obj);
    ck_assert_int_ge(H5Aread(a, H5T_NATIVE_UINT64, &v), 0);
    H5Aclose(a);
    return v;
}

static double read_attr_f64(hid_t loc, const char *obj, const char *name)
{
    double v = NAN;
    hid_t a = H5Aopen_by_name(loc, obj, name, H5P_DEFAULT, H5P_DEFAULT);
    ck_assert_msg(a >= 0, "attribute %s of %s missing", name, obj);
    ck_assert_int_ge(H5Aread(a, H5T_NATIVE_DOUBLE, &v), 0);
    H5Aclose(a);
    return v;
}

/* Check the stored type of a dataset or attribute equals `want`. */
static void check_dset_type(hid_t f, const char *path, hid_t want)
{
    hid_t d = H5Dopen2(f, path, H5P_DEFAULT);
    ck_assert_msg(d >= 0, "dataset %s missing", path);
    hid_t t = H5Dget_type(d);
    ck_assert_msg(H5Tequal(t, want) > 0, "dataset %s has the wrong type",
                  path);
    H5Tclose(t);
    H5Dclose(d);
}

/* Read a whole dataset (any rank) as mtype; returns the element count. */
static size_t read_dset(hid_t f, const char *path, hid_t mtype, void **out,
                        hsize_t *dims)
{
    hid_t d = H5Dopen2(f, path, H5P_DEFAULT);
    ck_assert_msg(d >= 0, "dataset %s missing", path);
    hid_t sp = H5Dget_space(d);
    int rank = H5Sget_simple_extent_ndims(sp);
    hsize_t dd[2] = {0, 0};
    ck_assert_int_le(rank, 2);
    H5Sget_simple_extent_dims(sp, dd, NULL);
    size_t n = 1;
    for (int i = 0; i < rank; i++) {
        n *= dd[i];
        if (dims)
            dims[i] = dd[i];
    }
    *out = malloc((n ? n : 1) * H5Tget_size(mtype));
    ck_assert_ptr_nonnull(*out);
    if (n)
        ck_assert_int_ge(H5Dread(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, *out),
                         0);
    H5Sclose(sp);
    H5Dclose(d);
    return n;
}

static char *read_str_dset(hid_t f, const char *path)
{
    hid_t d = H5Dopen2(f, path, H5P_DEFAULT);
    ck_assert_msg(d >= 0, "dataset %s missing", path);
    hid_t t = vstr();
    char *v = NULL;
    ck_assert_int_ge(H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, &v), 0);
    H5Tclose(t);
    H5Dclose(d);
    return v;
}

static int python_with_h5py(void)
{
    return access("/usr/bin/python3", X_OK) == 0 &&
           system("/usr/bin/python3 -c 'import h5py, numpy' "
                  ">/dev/null 2>&1") == 0;
}

/* ---- the round trip ------------------------------------------------------ */

enum { N_EXC = 150001, N_INH = 5000, N_EXC_NODES = 1000, N_INH_NODES = 250 };

/* Exc spike k: ties in time on purpose (three spikes per time). */
static double exc_t(size_t k) { return (double)(k / 3) * 0.01; }
static uint64_t exc_node(size_t k) { return (k * 7919u) % N_EXC_NODES; }
static double inh_t(size_t k) { return 0.125 + (double)k * 0.3; }
static uint64_t inh_node(size_t k) { return (k * 31u) % N_INH_NODES; }
static float rep_val(size_t frame, size_t col)
{
    return (float)(frame * 100 + col) + 0.25f;
}

static void append_exc(apical_h5 *h, int id, const double *t,
                       const uint64_t *n, size_t from, size_t count)
{
    apical_error err;
    ck_assert_int_eq(
        apical_h5_spikes_append(h, id, t + from, n + from, count, &err),
        APICAL_OK);
}

START_TEST(test_round_trip)
{
    char dir[512], path[600], part[640];
    tmpdir_make(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/out.h5", dir);
    snprintf(part, sizeof part, "%s.part", path);

    double *et = malloc(N_EXC * sizeof *et), *it = malloc(N_INH * sizeof *it);
    uint64_t *en = malloc(N_EXC * sizeof *en), *in = malloc(N_INH * sizeof *in);
    ck_assert(et && it && en && in);
    for (size_t k = 0; k < N_EXC; k++) {
        et[k] = exc_t(k);
        en[k] = exc_node(k);
    }
    for (size_t k = 0; k < N_INH; k++) {
        it[k] = inh_t(k);
        in[k] = inh_node(k);
    }

    apical_error err;
    apical_h5 *h = NULL;
    ck_assert_int_eq(apical_h5_create(path, &h, &err), APICAL_OK);
    ck_assert(exists(part));
    ck_assert(!exists(path));

    int ie, ii, is, r1, r2;
    ck_assert_int_eq(apical_h5_spikes_add(h, "exc", N_EXC_NODES, &ie, &err),
                     APICAL_OK);
    ck_assert_int_eq(apical_h5_spikes_add(h, "inh", N_INH_NODES, &ii, &err),
                     APICAL_OK);
    ck_assert_int_eq(apical_h5_spikes_add(h, "silent", 10, &is, &err),
                     APICAL_OK);

    /* Appends straddling the 65536-spike buffer boundary, including an empty
     * one and one larger than a whole buffer. */
    static const size_t pieces[] = {1, 70000, 0, 30000, 49999};
    size_t done = 0, idone = 0;
    for (size_t p = 0; p < sizeof pieces / sizeof pieces[0]; p++) {
        append_exc(h, ie, et, en, done, pieces[p]);
        done += pieces[p];
        ck_assert_int_eq(
            apical_h5_spikes_append(h, ii, it + idone, in + idone, 1000, &err),
            APICAL_OK);
        idone += 1000;
    }
    append_exc(h, ie, et, en, done, N_EXC - done);
    ck_assert_uint_eq(idone, N_INH);

    /* Report: 3 nodes x 2 variables of different units. */
    const uint64_t rn[3] = {0, 5, 999};
    const char *const vn[2] = {"V_m", "g_exc"};
    const char *const vu[2] = {"mV", "nS"};
    ck_assert_int_eq(apical_h5_report_add(h, "exc", rn, 3, vn, vu, 2, 0.5, 0.1,
                                          &r1, &err),
                     APICAL_OK);
    /* A second recorder on the same population gets /report/exc_2. */
    const uint64_t rn2[2] = {1, 2};
    ck_assert_int_eq(apical_h5_report_add(h, "exc", rn2, 2, vn, vu, 1, 0.0,
                                          0.25, &r2, &err),
                     APICAL_OK);
    float fr[12 * 6];
    for (size_t f = 0; f < 12; f++)
        for (size_t c = 0; c < 6; c++)
            fr[f * 6 + c] = rep_val(f, c);
    ck_assert_int_eq(apical_h5_report_append(h, r1, fr, 5, &err), APICAL_OK);
    ck_assert_int_eq(apical_h5_report_append(h, r1, fr + 5 * 6, 7, &err),
                     APICAL_OK);
    float fr2[3 * 2] = {-65.f, -64.5f, -64.f, -63.5f, -63.f, -62.5f};
    ck_assert_int_eq(apical_h5_report_append(h, r2, fr2, 3, &err), APICAL_OK);

    /* Provenance, with a string longer than the 64 KiB attribute limit. */
    size_t big_n = 100000;
    char *big = malloc(big_n + 1);
    ck_assert_ptr_nonnull(big);
    for (size_t i = 0; i < big_n; i++)
        big[i] = (i % 61 == 60) ? '\n' : (char)('a' + i % 26);
    big[big_n] = '\0';
    const char *net = "populations:\n  exc: {size: 1000}\n";
    ck_assert_int_eq(apical_h5_provenance_string(h, "network", net, &err),
                     APICAL_OK);
    ck_assert_int_eq(apical_h5_provenance_string(h, "big", big, &err),
                     APICAL_OK);
    ck_assert_int_eq(
        apical_h5_provenance_string(h, "solver/stepper", "rkf45", &err),
        APICAL_OK);
    ck_assert_int_eq(apical_h5_provenance_double(h, "wall_time", 1.5, "s", &err),
                     APICAL_OK);
    ck_assert_int_eq(apical_h5_provenance_u64(h, "seed", 42, &err), APICAL_OK);
    const char *const pn[2] = {"C_m", "g_L"};
    const char *const pu[2] = {"pF", "nS"};
    const double pv[2] = {200.0, 10.0 / 3.0};
    ck_assert_int_eq(apical_h5_provenance_params(h, "exc", "lif_cond_exp", pn,
                                                 pu, pv, 2, &err),
                     APICAL_OK);

    ck_assert_int_eq(apical_h5_finish(h, &err), APICAL_OK);
    ck_assert(exists(path));
    ck_assert(!exists(part));

    /* ---- read back with the C API ---- */
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    ck_assert_int_ge(f, 0);
    uint32_t u32[2] = {0, 0};
    hid_t a = H5Aopen(f, "magic", H5P_DEFAULT);
    hid_t at = H5Aget_type(a);
    ck_assert(H5Tequal(at, H5T_STD_U32LE) > 0);
    H5Tclose(at);
    ck_assert_int_ge(H5Aread(a, H5T_NATIVE_UINT32, u32), 0);
    ck_assert_uint_eq(u32[0], 0x0A7A);
    H5Aclose(a);
    a = H5Aopen(f, "version", H5P_DEFAULT);
    ck_assert_int_ge(H5Aread(a, H5T_NATIVE_UINT32, u32), 0);
    ck_assert_uint_eq(u32[0], 0);
    ck_assert_uint_eq(u32[1], 1);
    H5Aclose(a);
    uint8_t complete = 0;
    a = H5Aopen(f, "complete", H5P_DEFAULT);
    at = H5Aget_type(a);
    ck_assert(H5Tequal(at, H5T_STD_U8LE) > 0);
    H5Tclose(at);
    ck_assert_int_ge(H5Aread(a, H5T_NATIVE_UINT8, &complete), 0);
    ck_assert_uint_eq(complete, 1);
    H5Aclose(a);
    check_attr_str(f, ".", "default", "overview");
    check_attr_str(f, "overview", "NX_class", "NXentry");
    check_attr_str(f, "overview", "default", "rates");
    ck_assert(H5Aexists(f, "apical_version") > 0);

    /* spikes */
    static const char *const pops[3] = {"exc", "inh", "silent"};
    static const uint64_t nn[3] = {N_EXC_NODES, N_INH_NODES, 10};
    static const size_t ns[3] = {N_EXC, N_INH, 0};
    for (int p = 0; p < 3; p++) {
        char g[64], dt[96], dn[96];
        snprintf(g, sizeof g, "/spikes/%s", pops[p]);
        snprintf(dt, sizeof dt, "%s/timestamps", g);
        snprintf(dn, sizeof dn, "%s/node_ids", g);
        check_dset_type(f, dt, H5T_IEEE_F64LE);
        check_dset_type(f, dn, H5T_STD_U64LE);
        check_attr_str(f, dt, "units", "ms");
        check_attr_str(f, g, "NX_class", "NXdata");
        check_attr_str(f, g, "signal", "node_ids");
        const char *const axes[2] = {"timestamps", "node_ids"};
        check_attr_strv(f, g, "axes", axes, 2);
        ck_assert_uint_eq(read_attr_u64(f, g, "n_nodes"), nn[p]);

        /* sorting: an enum over uint8 with exactly SONATA's names. */
        a = H5Aopen_by_name(f, g, "sorting", H5P_DEFAULT, H5P_DEFAULT);
        ck_assert_int_ge(a, 0);
        at = H5Aget_type(a);
        ck_assert_int_eq(H5Tget_class(at), H5T_ENUM);
        ck_assert_int_eq(H5Tget_nmembers(at), 3);
        hid_t base = H5Tget_super(at);
        ck_assert(H5Tequal(base, H5T_STD_U8LE) > 0);
        H5Tclose(base);
        static const char *const sn[3] = {"none", "by_id", "by_time"};
        for (uint8_t v = 0; v < 3; v++) {
            char nm[16];
            ck_assert_int_ge(H5Tenum_nameof(at, &v, nm, sizeof nm), 0);
            ck_assert_str_eq(nm, sn[v]);
        }
        uint8_t sv = 255;
        ck_assert_int_ge(H5Aread(a, at, &sv), 0);
        ck_assert_uint_eq(sv, 2);
        H5Tclose(at);
        H5Aclose(a);

        double *t;
        uint64_t *n;
        ck_assert_uint_eq(read_dset(f, dt, H5T_NATIVE_DOUBLE, (void **)&t,
                                    NULL),
                          ns[p]);
        ck_assert_uint_eq(read_dset(f, dn, H5T_NATIVE_UINT64, (void **)&n,
                                    NULL),
                          ns[p]);
        for (size_t k = 0; k < ns[p]; k++) {
            double wt = p == 0 ? exc_t(k) : inh_t(k);
            uint64_t wn = p == 0 ? exc_node(k) : inh_node(k);
            if (t[k] != wt || n[k] != wn)
                ck_abort_msg("%s spike %zu: (%g, %llu), want (%g, %llu)",
                             pops[p], k, t[k], (unsigned long long)n[k], wt,
                             (unsigned long long)wn);
        }
        free(t);
        free(n);
    }

    /* report */
    check_dset_type(f, "/report/exc/data", H5T_IEEE_F32LE);
    check_attr_str(f, "/report/exc/data", "units", "mixed");
    check_attr_strv(f, "/report/exc/data", "variables", vn, 2);
    check_attr_strv(f, "/report/exc/data", "variable_units", vu, 2);
    check_attr_str(f, "/report/exc", "NX_class", "NXdata");
    check_attr_str(f, "/report/exc", "signal", "data");
    check_attr_str(f, "/report/exc", "population", "exc");
    check_attr_str(f, "/report/exc/mapping/time", "units", "ms");
    hsize_t dims[2];
    float *data;
    ck_assert_uint_eq(read_dset(f, "/report/exc/data", H5T_NATIVE_FLOAT,
                                (void **)&data, dims),
                      72);
    ck_assert_uint_eq(dims[0], 12);
    ck_assert_uint_eq(dims[1], 6);
    for (size_t i = 0; i < 72; i++)
        ck_assert(data[i] == fr[i]);
    free(data);
    uint64_t *u64;
    ck_assert_uint_eq(read_dset(f, "/report/exc/mapping/node_ids",
                                H5T_NATIVE_UINT64, (void **)&u64, NULL),
                      3);
    for (int i = 0; i < 3; i++)
        ck_assert_uint_eq(u64[i], rn[i]);
    free(u64);
    check_dset_type(f, "/report/exc/mapping/index_pointers", H5T_STD_U64LE);
    ck_assert_uint_eq(read_dset(f, "/report/exc/mapping/index_pointers",
                                H5T_NATIVE_UINT64, (void **)&u64, NULL),
                      4);
    for (int i = 0; i < 4; i++)
        ck_assert_uint_eq(u64[i], (uint64_t)(2 * i));
    free(u64);
    check_dset_type(f, "/report/exc/mapping/element_ids", H5T_STD_U32LE);
    uint32_t *el;
    ck_assert_uint_eq(read_dset(f, "/report/exc/mapping/element_ids",
                                H5T_NATIVE_UINT32, (void **)&el, NULL),
                      6);
    for (int i = 0; i < 6; i++)
        ck_assert_uint_eq(el[i], (uint32_t)(i % 2));
    free(el);
    double *tm;
    ck_assert_uint_eq(read_dset(f, "/report/exc/mapping/time",
                                H5T_NATIVE_DOUBLE, (void **)&tm, NULL),
                      3);
    ck_assert(tm[0] == 0.5);
    ck_assert(tm[1] == 0.5 + 12.0 * 0.1);
    ck_assert(tm[2] == 0.1);
    free(tm);

    check_attr_str(f, "/report/exc_2/data", "units", "mV");
    check_attr_str(f, "/report/exc_2", "population", "exc");
    ck_assert_uint_eq(read_dset(f, "/report/exc_2/data", H5T_NATIVE_FLOAT,
                                (void **)&data, dims),
                      6);
    ck_assert_uint_eq(dims[0], 3);
    ck_assert_uint_eq(dims[1], 2);
    for (int i = 0; i < 6; i++)
        ck_assert(data[i] == fr2[i]);
    free(data);
    ck_assert_uint_eq(read_dset(f, "/report/exc_2/mapping/time",
                                H5T_NATIVE_DOUBLE, (void **)&tm, NULL),
                      3);
    ck_assert(tm[0] == 0.0 && tm[1] == 0.75 && tm[2] == 0.25);
    free(tm);

    /* provenance */
    char *s = read_str_dset(f, "/provenance/network");
    ck_assert_str_eq(s, net);
    H5free_memory(s);
    s = read_str_dset(f, "/provenance/big");
    ck_assert_str_eq(s, big);
    H5free_memory(s);
    s = read_str_dset(f, "/provenance/solver/stepper");
    ck_assert_str_eq(s, "rkf45");
    H5free_memory(s);
    double *dv;
    ck_assert_uint_eq(read_dset(f, "/provenance/wall_time", H5T_NATIVE_DOUBLE,
                                (void **)&dv, NULL),
                      1);
    ck_assert(dv[0] == 1.5);
    free(dv);
    check_attr_str(f, "/provenance/wall_time", "units", "s");
    ck_assert_uint_eq(read_dset(f, "/provenance/seed", H5T_NATIVE_UINT64,
                                (void **)&u64, NULL),
                      1);
    ck_assert_uint_eq(u64[0], 42);
    free(u64);
    const char *pp = "/provenance/populations/exc";
    check_attr_str(f, pp, "model", "lif_cond_exp");
    ck_assert(read_attr_f64(f, pp, "C_m") == 200.0);
    ck_assert(read_attr_f64(f, pp, "g_L") == 10.0 / 3.0);
    check_attr_str(f, pp, "C_m_unit", "pF");
    check_attr_str(f, pp, "g_L_unit", "nS");
    ck_assert_int_ge(H5Fclose(f), 0);

    /* The independent reader agrees (skipped without h5py). */
    if (python_with_h5py()) {
        char cmd[1024];
        snprintf(cmd, sizeof cmd,
                 "/usr/bin/python3 tests/h5_readback.py '%s' --expect-pop exc "
                 "--expect-pop inh --expect-pop silent >/dev/null",
                 path);
        ck_assert_int_eq(system(cmd), 0);
    }

    free(big);
    free(et);
    free(it);
    free(en);
    free(in);
    tmpdir_remove(dir);
}
END_TEST

/* ---- failure paths ------------------------------------------------------- */

START_TEST(test_abort_leaves_nothing)
{
    char dir[512], path[600];
    tmpdir_make(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/out.h5", dir);
    apical_error err;
    apical_h5 *h = NULL;
    ck_assert_int_eq(apical_h5_create(path, &h, &err), APICAL_OK);
    int id;
    ck_assert_int_eq(apical_h5_spikes_add(h, "exc", 4, &id, &err), APICAL_OK);
    const double t[3] = {0.1, 0.2, 0.2};
    const uint64_t n[3] = {0, 3, 1};
    ck_assert_int_eq(apical_h5_spikes_append(h, id, t, n, 3, &err), APICAL_OK);
    apical_h5_abort(h);
    apical_h5_abort(NULL);
    ck_assert_int_eq(dir_entries(dir), 0);
    tmpdir_remove(dir);
}
END_TEST

START_TEST(test_create_missing_dir)
{
    char dir[512], path[600];
    tmpdir_make(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/no/such/dir/out.h5", dir);
    apical_error err;
    apical_h5 *h = (apical_h5 *)&err; /* must be reset to NULL */
    ck_assert_int_eq(apical_h5_create(path, &h, &err), APICAL_E_IO);
    ck_assert_ptr_null(h);
    ck_assert_int_eq(err.code, APICAL_E_IO);
    ck_assert_msg(strstr(err.msg, path) != NULL, "message lacks the path: %s",
                  err.msg);
    ck_assert_msg(strstr(err.msg, "No such file or directory") != NULL,
                  "message lacks the reason: %s", err.msg);
    ck_assert_int_eq(dir_entries(dir), 0);

    /* A directory as the output path fails at once, not after the run. */
    ck_assert_int_eq(apical_h5_create(dir, &h, &err), APICAL_E_IO);
    ck_assert_ptr_null(h);
    ck_assert_int_eq(dir_entries(dir), 0);

    /* An unwritable directory (root may write anywhere: skip then). */
    if (geteuid() != 0) {
        ck_assert_int_eq(chmod(dir, 0500), 0);
        snprintf(path, sizeof path, "%s/out.h5", dir);
        ck_assert_int_eq(apical_h5_create(path, &h, &err), APICAL_E_IO);
        ck_assert_ptr_null(h);
        ck_assert(strstr(err.msg, "not writable") != NULL);
        chmod(dir, 0700);
        ck_assert_int_eq(dir_entries(dir), 0);
    }
    tmpdir_remove(dir);
}
END_TEST

/* A run that dies before finish: only the .part exists, it says
 * complete = 0 and holds what was flushed. The writer runs in a child that
 * exits without finishing, like a crash. */
START_TEST(test_unfinished_is_part)
{
    char dir[512], path[600], part[640];
    tmpdir_make(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/out.h5", dir);
    snprintf(part, sizeof part, "%s.part", path);

    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        enum { N = 70000 };
        static double t[N];
        static uint64_t n[N];
        for (size_t k = 0; k < N; k++) {
            t[k] = (double)k;
            n[k] = k % 7;
        }
        apical_error err;
        apical_h5 *h = NULL;
        int id;
        /* live (SWMR): 70000 spikes, a flush at 69999 ms, 1000 more */
        if (apical_h5_create(path, &h, &err) != APICAL_OK ||
            apical_h5_spikes_add(h, "exc", 7, &id, &err) != APICAL_OK ||
            apical_h5_start_swmr(h, &err) != APICAL_OK ||
            apical_h5_spikes_append(h, id, t, n, N - 1000, &err) != APICAL_OK ||
            apical_h5_flush(h, t[N - 1001], &err) != APICAL_OK ||
            apical_h5_spikes_append(h, id, t + N - 1000, n, 1000, &err) != APICAL_OK)
            _exit(1);
        _exit(0); /* no finish, no abort: a crash */
    }
    int status = 0;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);

    ck_assert(!exists(path));
    ck_assert(exists(part));
    ck_assert_int_eq(dir_entries(dir), 1);
    /* HDF5 marks the file open for writing: readers open it as SWMR
     * readers (h5py: swmr=True) */
    hid_t f = H5Fopen(part, H5F_ACC_RDONLY | H5F_ACC_SWMR_READ, H5P_DEFAULT);
    ck_assert_int_ge(f, 0);
    uint8_t complete = 1;
    hid_t a = H5Aopen(f, "complete", H5P_DEFAULT);
    ck_assert_int_ge(H5Aread(a, H5T_NATIVE_UINT8, &complete), 0);
    H5Aclose(a);
    ck_assert_uint_eq(complete, 0);
    /* Everything up to the flush is there, and says how far it goes; the
     * last 1000 spikes died with the process. */
    double *t, *reached;
    ck_assert_uint_eq(read_dset(f, "/spikes/exc/timestamps", H5T_NATIVE_DOUBLE,
                                (void **)&t, NULL),
                      69000);
    ck_assert(t[68999] == 68999.0);
    free(t);
    read_dset(f, "/provenance/t_reached", H5T_NATIVE_DOUBLE, (void **)&reached, NULL);
    ck_assert(reached[0] == 68999.0);
    free(reached);
    H5Fclose(f);

    if (python_with_h5py()) {
        char cmd[1024];
        snprintf(cmd, sizeof cmd,
                 "/usr/bin/python3 tests/h5_readback.py '%s' >/dev/null 2>&1",
                 part);
        ck_assert_int_ne(system(cmd), 0); /* complete = 0 is a violation */
    }
    tmpdir_remove(dir);
}
END_TEST

/* Bad calls are rejected without changing the file or poisoning the handle. */
START_TEST(test_rejects_bad_input)
{
    char dir[512], path[600];
    tmpdir_make(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/out.h5", dir);
    apical_error err;
    apical_h5 *h = NULL;
    ck_assert_int_eq(apical_h5_create(path, &h, &err), APICAL_OK);
    int id, id2;
    ck_assert_int_eq(apical_h5_spikes_add(h, "exc", 4, &id, &err), APICAL_OK);
    ck_assert_int_eq(apical_h5_spikes_add(h, "exc", 4, &id2, &err),
                     APICAL_E_INVALID);
    ck_assert_int_eq(apical_h5_spikes_add(h, "a/b", 4, &id2, &err),
                     APICAL_E_INVALID);
    ck_assert_int_eq(apical_h5_spikes_add(h, "", 4, &id2, &err),
                     APICAL_E_INVALID);

    const double t[3] = {1.0, 2.0, 1.5};
    const uint64_t n[3] = {0, 1, 2};
    const uint64_t bad[1] = {4};
    const double nan_t[1] = {NAN};
    ck_assert_int_eq(apical_h5_spikes_append(h, id, t, n, 3, &err),
                     APICAL_E_INVALID); /* time goes back */
    ck_assert_int_eq(apical_h5_spikes_append(h, id, t, bad, 1, &err),
                     APICAL_E_INVALID); /* node out of range */
    ck_assert_int_eq(apical_h5_spikes_append(h, id, nan_t, n, 1, &err),
                     APICAL_E_INVALID);
    ck_assert_int_eq(apical_h5_spikes_append(h, 7, t, n, 1, &err),
                     APICAL_E_INVALID);
    ck_assert_int_eq(apical_h5_spikes_append(h, id, t, n, 2, &err), APICAL_OK);
    /* Earlier than the last accepted spike, across calls. */
    ck_assert_int_eq(apical_h5_spikes_append(h, id, t + 2, n, 1, &err),
                     APICAL_E_INVALID);

    const uint64_t rn[1] = {0};
    const char *const vn[1] = {"V_m"};
    int r;
    ck_assert_int_eq(apical_h5_report_add(h, "exc", rn, 1, vn, NULL, 1, 0.0,
                                          0.0, &r, &err),
                     APICAL_E_INVALID); /* dt = 0 */
    ck_assert_int_eq(apical_h5_report_add(h, "exc", rn, 0, vn, NULL, 1, 0.0,
                                          0.1, &r, &err),
                     APICAL_E_INVALID); /* no nodes */
    ck_assert_int_eq(apical_h5_report_append(h, 0, NULL, 1, &err),
                     APICAL_E_INVALID); /* no report 0 */

    ck_assert_int_eq(apical_h5_provenance_u64(h, "seed", 1, &err), APICAL_OK);
    ck_assert_int_eq(apical_h5_provenance_u64(h, "seed", 2, &err),
                     APICAL_E_INVALID);
    ck_assert_int_eq(apical_h5_provenance_string(h, "/abs", "x", &err),
                     APICAL_E_INVALID);
    const char *const pn[2] = {"x", "x_unit"};
    const double pv[2] = {1, 2};
    ck_assert_int_eq(apical_h5_provenance_params(h, "exc", "m", pn, NULL, pv,
                                                 1, &err),
                     APICAL_OK);
    ck_assert_int_eq(apical_h5_provenance_params(h, "exc", "m", pn, NULL, pv,
                                                 1, &err),
                     APICAL_E_INVALID);

    ck_assert_int_eq(apical_h5_finish(h, &err), APICAL_OK);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    ck_assert_int_ge(f, 0);
    double *tt;
    ck_assert_uint_eq(read_dset(f, "/spikes/exc/timestamps", H5T_NATIVE_DOUBLE,
                                (void **)&tt, NULL),
                      2);
    ck_assert(tt[0] == 1.0 && tt[1] == 2.0);
    free(tt);
    H5Fclose(f);
    tmpdir_remove(dir);
}
END_TEST

/* A clash between parameter names poisons the handle (an HDF5 failure);
 * finish then fails and removes the .part. */
START_TEST(test_failed_handle_finish_removes_part)
{
    char dir[512], path[600];
    tmpdir_make(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/out.h5", dir);
    apical_error err;
    apical_h5 *h = NULL;
    ck_assert_int_eq(apical_h5_create(path, &h, &err), APICAL_OK);
    const char *const pn[2] = {"x", "x_unit"};
    const double pv[2] = {1, 2};
    ck_assert_int_eq(apical_h5_provenance_params(h, "exc", "m", pn, NULL, pv,
                                                 2, &err),
                     APICAL_E_HDF5);
    ck_assert(strstr(err.msg, "x_unit") != NULL || strstr(err.msg, "x") != NULL);
    int id;
    ck_assert_int_eq(apical_h5_spikes_add(h, "exc", 4, &id, &err),
                     APICAL_E_HDF5);
    ck_assert_int_eq(apical_h5_finish(h, &err), APICAL_E_HDF5);
    ck_assert_int_eq(dir_entries(dir), 0);
    tmpdir_remove(dir);
}
END_TEST

Suite *h5out_suite(void)
{
    Suite *s = suite_create("h5out");
    TCase *tc = tcase_create("h5out");
    /* The round trip writes 155k spikes and may start Python: more than
     * Check's default 4 s under sanitizers. */
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_round_trip);
    tcase_add_test(tc, test_abort_leaves_nothing);
    tcase_add_test(tc, test_create_missing_dir);
    tcase_add_test(tc, test_unfinished_is_part);
    tcase_add_test(tc, test_rejects_bad_input);
    tcase_add_test(tc, test_failed_handle_finish_removes_part);
    suite_add_tcase(s, tc);
    return s;
}
