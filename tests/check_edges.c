/* Final weights as SONATA edges and loading them back: the writer
 * (apical_h5_edges_write) against the reader (apical_h5_edges_read) bit for
 * bit, weight reports, corrupt files, and the `from_file` connectivity rule
 * through the loader and a built simulation (save, load, same synapses with
 * the same weights and delays, whatever the partition count). */
#include <check.h>
#include <dirent.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apical/h5in.h"
#include "apical/h5out.h"
#include "apical/sim.h"
#include "apical/spec.h"

static char dir[512];

static void setup(void)
{
    const char *base = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/apical_edges_XXXXXX", base && base[0] ? base : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        char p[1024];
        while ((e = readdir(d)) != NULL) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            unlink(p);
        }
        closedir(d);
    }
    rmdir(dir);
}

/* Write edge populations into dir/name; finish the file. */
static void write_file(const char *name, const apical_h5_edges *e, size_t n_e)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    apical_h5 *h = NULL;
    apical_error err = {0};
    ck_assert_msg(apical_h5_create(path, &h, &err) == APICAL_OK, "%s", err.msg);
    for (size_t i = 0; i < n_e; i++)
        ck_assert_msg(apical_h5_edges_write(h, &e[i], &err) == APICAL_OK, "%s", err.msg);
    ck_assert_msg(apical_h5_finish(h, &err) == APICAL_OK, "%s", err.msg);
}

START_TEST(test_edges_roundtrip)
{
    enum { N = 10000 };
    uint64_t *src = malloc(N * sizeof *src), *tgt = malloc(N * sizeof *tgt);
    double *w = malloc(N * sizeof *w), *d = malloc(N * sizeof *d);
    uint64_t x = 88172645463325252ull;
    for (size_t k = 0; k < N; k++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        src[k] = x % 977;
        tgt[k] = (x >> 20) % 501;
        /* arbitrary bit patterns of finite positive doubles */
        double v;
        uint64_t bits = (x >> 2) & 0x7fefffffffffffffull;
        memcpy(&v, &bits, sizeof v);
        w[k] = k % 3 == 0 ? v : (double)k / 3.0;
        d[k] = 0.1 + (double)(x % 1000) * 1e-3 / 7.0;
    }
    apical_h5_edges e[2] = {
        {.name = "a->b", .src_pop = "a", .tgt_pop = "b", .n_src = 977, .n_tgt = 501,
         .weight_unit = "nS", .rule = "stdp", .receptor = "exc", .n = N, .src = src, .tgt = tgt,
         .w = w, .d = d},
        {.name = "empty", .src_pop = "a", .tgt_pop = "a", .n_src = 977, .n_tgt = 977,
         .weight_unit = "pA", .n = 0},
    };
    write_file("e.h5", e, 2);
    char path[1024];
    snprintf(path, sizeof path, "%s/e.h5", dir);
    apical_edge_data r;
    apical_error err = {0};
    ck_assert_msg(apical_h5_edges_read(path, "a->b", &r, &err) == APICAL_OK, "%s", err.msg);
    ck_assert_uint_eq(r.n, N);
    ck_assert_int_eq(memcmp(r.src, src, N * sizeof *src), 0);
    ck_assert_int_eq(memcmp(r.tgt, tgt, N * sizeof *tgt), 0);
    ck_assert_int_eq(memcmp(r.w, w, N * sizeof *w), 0);
    ck_assert_int_eq(memcmp(r.d, d, N * sizeof *d), 0);
    ck_assert_uint_eq(r.n_src, 977);
    ck_assert_uint_eq(r.n_tgt, 501);
    ck_assert_str_eq(r.src_pop, "a");
    ck_assert_str_eq(r.tgt_pop, "b");
    ck_assert_str_eq(r.weight_unit, "nS");
    apical_edge_data_free(&r);
    ck_assert_msg(apical_h5_edges_read(path, "empty", &r, &err) == APICAL_OK, "%s", err.msg);
    ck_assert_uint_eq(r.n, 0);
    ck_assert_str_eq(r.weight_unit, "pA");
    apical_edge_data_free(&r);

    /* failures: missing population, file, not HDF5 */
    ck_assert_int_eq(apical_h5_edges_read(path, "nope", &r, &err), APICAL_E_REFERENCE);
    ck_assert_msg(strstr(err.msg, "/edges/nope") && strstr(err.msg, "a->b"), "%s", err.msg);
    snprintf(path, sizeof path, "%s/missing.h5", dir);
    ck_assert_int_eq(apical_h5_edges_read(path, "a->b", &r, &err), APICAL_E_IO);
    snprintf(path, sizeof path, "%s/text.h5", dir);
    FILE *f = fopen(path, "w");
    fputs("not hdf5\n", f);
    fclose(f);
    ck_assert_int_eq(apical_h5_edges_read(path, "a->b", &r, &err), APICAL_E_DATA);
    free(src), free(tgt), free(w), free(d);
}
END_TEST

/* Hand-made files with something wrong in them. */
static void write_bad(const char *name, int which)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    ck_assert_int_ge(f, 0);
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    uint64_t ids[4] = {0, 1, 2, 3};
    uint32_t grp[4] = {0, 0, which == 2 ? 1 : 0, 0};
    double w[4] = {1, 2, which == 3 ? NAN : 3, 4}, d[4] = {1, 1, 1, which == 4 ? 0 : 1};
    hsize_t n4 = 4, n3 = 3;
    hid_t s4 = H5Screate_simple(1, &n4, NULL), s3 = H5Screate_simple(1, &n3, NULL);
#define DS(p, ft, mt, sp, buf)                                                                  \
    do {                                                                                       \
        hid_t ds_ = H5Dcreate2(f, p, ft, sp, lcpl, H5P_DEFAULT, H5P_DEFAULT);                   \
        H5Dwrite(ds_, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);                                 \
        H5Dclose(ds_);                                                                         \
    } while (0)
    DS("/edges/x/source_node_id", H5T_STD_U64LE, H5T_NATIVE_UINT64, s4, ids);
    DS("/edges/x/target_node_id", H5T_STD_U64LE, H5T_NATIVE_UINT64, which == 1 ? s3 : s4, ids);
    DS("/edges/x/edge_group_id", H5T_STD_U32LE, H5T_NATIVE_UINT32, s4, grp);
    DS("/edges/x/edge_group_index", H5T_STD_U64LE, H5T_NATIVE_UINT64, s4, ids);
    if (which != 5)
        DS("/edges/x/0/syn_weight", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, s4, w);
    DS("/edges/x/0/delay", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, s4, d);
#undef DS
    H5Sclose(s4), H5Sclose(s3), H5Pclose(lcpl);
    H5Fclose(f);
}

START_TEST(test_edges_corrupt)
{
    static const char *const want[] = {NULL, "target_node_id has 3 values", "edge_group_id[2]",
                                       "not finite", "delays must be > 0"};
    char path[1024];
    apical_edge_data r;
    apical_error err = {0};
    for (int which = 1; which <= 4; which++) {
        write_bad("bad.h5", which);
        snprintf(path, sizeof path, "%s/bad.h5", dir);
        ck_assert_int_eq(apical_h5_edges_read(path, "x", &r, &err), APICAL_E_DATA);
        ck_assert_msg(strstr(err.msg, want[which]) && strstr(err.msg, "bad.h5"), "case %d: %s",
                      which, err.msg);
    }
    /* no weights: allowed, w is NULL (the network file must give them) */
    write_bad("now.h5", 5);
    snprintf(path, sizeof path, "%s/now.h5", dir);
    ck_assert_msg(apical_h5_edges_read(path, "x", &r, &err) == APICAL_OK, "%s", err.msg);
    ck_assert_ptr_null(r.w);
    ck_assert_ptr_nonnull(r.d);
    apical_edge_data_free(&r);
}
END_TEST

START_TEST(test_weights_report)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/w.h5", dir);
    apical_h5 *h = NULL;
    apical_error err = {0};
    ck_assert_int_eq(apical_h5_create(path, &h, &err), APICAL_OK);
    const uint64_t src[3] = {0, 0, 4}, tgt[3] = {1, 2, 0};
    int id = -1, id0 = -1;
    ck_assert_msg(apical_h5_weights_add(h, "p", "a", "b", src, tgt, 3, "nS", 0.0, 10.0, &id,
                                        &err) == APICAL_OK,
                  "%s", err.msg);
    ck_assert_msg(apical_h5_weights_add(h, "p", "a", "b", NULL, NULL, 0, "nS", 0.0, 5.0, &id0,
                                        &err) == APICAL_OK,
                  "%s", err.msg);
    float fr[6] = {1, 2, 3, 4, 5, 6};
    ck_assert_int_eq(apical_h5_report_append(h, id, fr, 2, &err), APICAL_OK);
    ck_assert_int_eq(apical_h5_report_append(h, id0, NULL, 4, &err), APICAL_OK);
    ck_assert_msg(apical_h5_finish(h, &err) == APICAL_OK, "%s", err.msg);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    ck_assert_int_ge(f, 0);
    hid_t d = H5Dopen2(f, "/report/p/data", H5P_DEFAULT);
    hid_t sp = H5Dget_space(d);
    hsize_t dims[2];
    H5Sget_simple_extent_dims(sp, dims, NULL);
    ck_assert_uint_eq(dims[0], 2);
    ck_assert_uint_eq(dims[1], 3);
    float back[6];
    H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, back);
    ck_assert_int_eq(memcmp(back, fr, sizeof fr), 0);
    H5Sclose(sp), H5Dclose(d);
    uint64_t ids[3];
    d = H5Dopen2(f, "/report/p/mapping/target_node_ids", H5P_DEFAULT);
    H5Dread(d, H5T_NATIVE_UINT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, ids);
    ck_assert_int_eq(memcmp(ids, tgt, sizeof ids), 0);
    H5Dclose(d);
    double tm[3];
    d = H5Dopen2(f, "/report/p/mapping/time", H5P_DEFAULT);
    H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, tm);
    ck_assert(tm[0] == 0.0 && tm[1] == 20.0 && tm[2] == 10.0);
    H5Dclose(d);
    /* the second report on p is p_2, over no synapses, 4 frames */
    d = H5Dopen2(f, "/report/p_2/data", H5P_DEFAULT);
    ck_assert_int_ge(d, 0);
    sp = H5Dget_space(d);
    H5Sget_simple_extent_dims(sp, dims, NULL);
    ck_assert_uint_eq(dims[0], 4);
    ck_assert_uint_eq(dims[1], 0);
    H5Sclose(sp), H5Dclose(d);
    H5Fclose(f);
}
END_TEST

/* ---- from_file through the loader and the engine ----------------------- */

typedef struct syn {
    uint64_t s, t;
    double w, d;
} syn;

typedef struct syn_list {
    syn *v;
    size_t n, cap;
} syn_list;

static int grab(void *user, uint64_t s, uint64_t t, double w, double d)
{
    syn_list *l = user;
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 1024;
        l->v = realloc(l->v, l->cap * sizeof *l->v);
    }
    l->v[l->n++] = (syn){s, t, w, d};
    return 0;
}

static int cmp_syn(const void *a, const void *b)
{
    const syn *x = a, *y = b;
    if (x->s != y->s)
        return x->s < y->s ? -1 : 1;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    return memcmp(&x->w, &y->w, sizeof x->w);
}

static apical_net_spec *load(const char *yaml, apical_error *err)
{
    apical_net_spec *spec = NULL;
    char name[1024];
    snprintf(name, sizeof name, "%s/net.yaml", dir);
    apical_spec_load_string(name, yaml, &spec, err);
    return spec;
}

/* Build (and optionally run) a network, return projection 0's synapses. */
static syn_list synapses_of(const char *yaml, double run_ms)
{
    apical_error err = {0};
    apical_net_spec *spec = load(yaml, &err);
    ck_assert_msg(spec != NULL, "%s", err.msg);
    apical_sim *sim = NULL;
    ck_assert_msg(apical_sim_new(spec, 1, &sim, &err) == APICAL_OK, "%s", err.msg);
    if (run_ms > 0)
        ck_assert_msg(apical_sim_run(sim, run_ms, NULL, &err) == APICAL_OK, "%s", err.msg);
    syn_list l = {0};
    ck_assert_int_eq(apical_sim_synapses(sim, 0, grab, &l), APICAL_OK);
    apical_sim_free(sim);
    apical_spec_free(spec);
    return l;
}

static const char *plastic_net =
    "simulation: {duration: 800 ms, seed: 7, partitions: 2}\n"
    "populations:\n"
    "  pre: {size: 60, model: parrot}\n"
    "  post: {size: 7, model: lif_cond_exp, parameters: {E_L: -70 mV, V_th: -54 mV}}\n"
    "projections:\n"
    "  - {source: pre, target: post, connectivity: {rule: bernoulli, p: 0.5}, receptor: exc,\n"
    "     weight: {uniform: {low: 0 nS, high: 4 nS}}, delay: {uniform: {low: 0.5 ms, high: 3 ms}},\n"
    "     plasticity: {rule: stdp, lambda: 0.05, alpha: 1.05, mu_plus: 0, mu_minus: 0, W_max: 4 nS}}\n"
    "inputs: [{type: poisson, target: pre, rate: 30 Hz, receptor: relay, weight: 1}]\n";

START_TEST(test_save_load)
{
    syn_list a = synapses_of(plastic_net, 800.0);
    ck_assert_uint_gt(a.n, 100);
    /* save as apical run does */
    uint64_t *s = malloc(a.n * sizeof *s), *t = malloc(a.n * sizeof *t);
    double *w = malloc(a.n * sizeof *w), *d = malloc(a.n * sizeof *d);
    /* plasticity changed most weights (so loading them proves something) */
    syn_list a0 = synapses_of(plastic_net, 0.0);
    ck_assert_uint_eq(a0.n, a.n);
    size_t changed = 0;
    for (size_t k = 0; k < a.n; k++) {
        s[k] = a.v[k].s, t[k] = a.v[k].t, w[k] = a.v[k].w, d[k] = a.v[k].d;
        changed += w[k] != a0.v[k].w;
    }
    ck_assert_msg(changed > a.n / 2, "only %zu of %zu weights changed", changed, a.n);
    free(a0.v);
    apical_h5_edges e = {.name = "pre->post", .src_pop = "pre", .tgt_pop = "post", .n_src = 60,
                         .n_tgt = 7, .weight_unit = "nS", .n = a.n, .src = s, .tgt = t, .w = w,
                         .d = d};
    write_file("saved.h5", &e, 1);
    /* load it, in 1 and 3 partitions, static and plastic */
    static const char *const variants[] = {
        "partitions: 1", "partitions: 3",
    };
    for (size_t v = 0; v < 2; v++) {
        char yaml[2048];
        snprintf(yaml, sizeof yaml,
                 "simulation: {duration: 10 ms, %s}\n"
                 "populations:\n"
                 "  pre: {size: 60, model: parrot}\n"
                 "  post: {size: 7, model: lif_cond_exp}\n"
                 "projections:\n"
                 "  - {source: pre, target: post, receptor: exc,\n"
                 "     connectivity: {rule: from_file, path: saved.h5, edges: pre->post}}\n",
                 variants[v]);
        syn_list b = synapses_of(yaml, 0.0);
        ck_assert_uint_eq(b.n, a.n);
        qsort(a.v, a.n, sizeof *a.v, cmp_syn);
        qsort(b.v, b.n, sizeof *b.v, cmp_syn);
        for (size_t k = 0; k < a.n; k++) {
            ck_assert(b.v[k].s == a.v[k].s && b.v[k].t == a.v[k].t);
            ck_assert_msg(memcmp(&b.v[k].w, &a.v[k].w, sizeof(double)) == 0 &&
                              memcmp(&b.v[k].d, &a.v[k].d, sizeof(double)) == 0,
                          "synapse %zu: %.17g/%.17g vs %.17g/%.17g", k, b.v[k].w, b.v[k].d,
                          a.v[k].w, a.v[k].d);
        }
        free(b.v);
    }
    /* weight given in the network file: replaces the file's */
    syn_list c = synapses_of("simulation: {duration: 10 ms}\n"
                             "populations: {pre: {size: 60, model: parrot}, post: {size: 7, model: lif_cond_exp}}\n"
                             "projections:\n"
                             "  - {source: pre, target: post, receptor: exc, weight: 2 nS,\n"
                             "     connectivity: {rule: from_file, path: saved.h5, edges: pre->post}}\n",
                             0.0);
    ck_assert_uint_eq(c.n, a.n);
    for (size_t k = 0; k < c.n; k++)
        ck_assert(c.v[k].w == 2.0);
    free(c.v);
    free(a.v);
    free(s), free(t), free(w), free(d);
}
END_TEST

/* Loader errors: positioned at the YAML node, naming the file and the
 * HDF5 path, with input-error codes. */
START_TEST(test_from_file_errors)
{
    uint64_t s[3] = {0, 1, 9}, t[3] = {0, 1, 2};
    double w[3] = {1, 2, 3}, d[3] = {1, 1, 1};
    apical_h5_edges e[2] = {
        {.name = "ok", .src_pop = "pre", .tgt_pop = "post", .n_src = 10, .n_tgt = 3,
         .weight_unit = "nS", .n = 3, .src = s, .tgt = t, .w = w, .d = d},
        {.name = "unsized", .src_pop = "pre", .tgt_pop = "post", .weight_unit = "uS", .n = 3,
         .src = s, .tgt = t, .w = w, .d = d},
    };
    write_file("x.h5", e, 2);
    static const struct {
        const char *conn;
        int pre;
        apical_status code;
        const char *msg;
    } cases[] = {
        {"{rule: from_file, path: missing.h5, edges: ok}", 10, APICAL_E_IO, "missing.h5"},
        {"{rule: from_file, path: x.h5, edges: nope}", 10, APICAL_E_REFERENCE, "/edges/nope"},
        {"{rule: from_file, path: x.h5, edges: ok}", 12, APICAL_E_RANGE, "10 and 3 neurons"},
        {"{rule: from_file, path: x.h5, edges: unsized}", 5, APICAL_E_RANGE,
         "/edges/unsized/source_node_id[2] = 9"},
        {"{rule: from_file, path: x.h5, p: 0.1}", 10, APICAL_E_UNKNOWN_KEY, "'p'"},
        {"{rule: bernoulli, p: 0.1, path: x.h5}", 10, APICAL_E_UNKNOWN_KEY, "'path'"},
        {"{rule: from_file, edges: ok}", 10, APICAL_E_MISSING_KEY, "path"},
        {"from_file", 10, APICAL_E_MISSING_KEY, "path"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char yaml[1024];
        snprintf(yaml, sizeof yaml,
                 "simulation: {duration: 10 ms}\n"
                 "populations: {pre: {size: %d, model: parrot}, post: {size: 3, model: lif_cond_exp}}\n"
                 "projections:\n"
                 "  - {source: pre, target: post, receptor: exc, connectivity: %s}\n",
                 cases[i].pre, cases[i].conn);
        apical_error err = {0};
        apical_net_spec *spec = load(yaml, &err);
        ck_assert_msg(spec == NULL, "case %zu accepted", i);
        ck_assert_msg(err.code == cases[i].code && strstr(err.msg, cases[i].msg),
                      "case %zu: code %d: %s", i, err.code, err.msg);
        ck_assert_msg(err.pos.line == 4 && err.pos.col > 1, "case %zu at %d:%d", i, err.pos.line,
                      err.pos.col);
    }
    /* weights in uS in the file are converted to nS */
    apical_error err = {0};
    apical_net_spec *spec = load("simulation: {duration: 10 ms}\n"
                                 "populations: {pre: {size: 10, model: parrot}, post: {size: 3, model: lif_cond_exp}}\n"
                                 "projections:\n"
                                 "  - {source: pre, target: post, receptor: exc,\n"
                                 "     connectivity: {rule: from_file, path: x.h5, edges: unsized}}\n",
                                 &err);
    ck_assert_msg(spec != NULL, "%s", err.msg);
    ck_assert_uint_eq(spec->projs[0].n_edges, 3);
    ck_assert(spec->projs[0].edge_w[2] == 3000.0);
    apical_spec_free(spec);
}
END_TEST

Suite *edges_suite(void)
{
    Suite *s = suite_create("edges");
    TCase *tc = tcase_create("edges");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_edges_roundtrip);
    tcase_add_test(tc, test_edges_corrupt);
    tcase_add_test(tc, test_weights_report);
    tcase_add_test(tc, test_save_load);
    tcase_add_test(tc, test_from_file_errors);
    suite_add_tcase(s, tc);
    return s;
}
