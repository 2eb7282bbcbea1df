/* Network-file loader: resolved values of valid files, and one test per kind
 * of mistake asserting the error code, line, column and the key words of the
 * message. */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apical/limits.h"
#include "apical/spec.h"

/* Shared head of most error cases: lines 1-9. */
#define SIM "simulation:\n  duration: 100 ms\n"           /* lines 1-2 */
#define POPS                                              \
    "populations:\n"              /* 3 */                 \
    "  exc:\n"                    /* 4 */                 \
    "    size: 10\n"              /* 5 */                 \
    "    model: lif_cond_exp\n"   /* 6 */                 \
    "  inh:\n"                    /* 7 */                 \
    "    size: 5\n"               /* 8 */                 \
    "    model: lif_cond_exp\n"   /* 9 */
#define HEAD SIM POPS

/* A projection starting at line 11 (line 10 is "projections:"). */
#define PROJ_HEAD HEAD "projections:\n  - source: exc\n    target: inh\n"

/* Load text expecting failure: code, position and up to two words of the
 * formatted message. A macro so that a failure names the test's line. */
#define EXPECT_ERR(text, code_, line_, col_, w1, w2)                                        \
    do {                                                                                    \
        apical_net_spec *spec_ = (apical_net_spec *)&spec_;                                 \
        apical_error e_;                                                                    \
        memset(&e_, 0, sizeof e_);                                                          \
        apical_status st_ = apical_spec_load_string("net.yaml", (text), &spec_, &e_);       \
        char buf_[2048];                                                                    \
        apical_error_format(&e_, buf_, sizeof buf_);                                        \
        ck_assert_msg(st_ == (code_), "status %d (%s), expected %d; message: %s", (int)st_, \
                      apical_strerror(st_), (int)(code_), buf_);                            \
        ck_assert_int_eq(e_.code, (code_));                                                 \
        ck_assert_ptr_null(spec_);                                                          \
        ck_assert_msg(e_.pos.line == (line_) && e_.pos.col == (col_),                       \
                      "position %d:%d, expected %d:%d; message: %s", e_.pos.line,          \
                      e_.pos.col, (line_), (col_), buf_);                                   \
        ck_assert_msg(strncmp(buf_, "net.yaml:", 9) == 0, "no file in: %s", buf_);          \
        ck_assert_msg(strstr(buf_, ": error: ") != NULL, "not an error line: %s", buf_);    \
        has_words(buf_, (w1), (w2));                                                        \
    } while (0)

static void has_words(const char *msg, const char *w1, const char *w2)
{
    ck_assert_msg(w1 == NULL || strstr(msg, w1), "'%s' not in: %s", w1, msg);
    ck_assert_msg(w2 == NULL || strstr(msg, w2), "'%s' not in: %s", w2, msg);
}

static apical_net_spec *load_ok(const char *text)
{
    apical_net_spec *spec = NULL;
    apical_error e;
    apical_status st = apical_spec_load_string("net.yaml", text, &spec, &e);
    if (st != APICAL_OK) {
        char buf[2048];
        apical_error_format(&e, buf, sizeof buf);
        ck_abort_msg("load failed: %s", buf);
    }
    ck_assert_ptr_nonnull(spec);
    return spec;
}

#define CK_CLOSE(a, b) ck_assert_double_eq_tol((a), (b), 1e-12 * fmax(1.0, fabs(b)))

/* ------------------------------------------------------------------------ */
/* Valid files                                                               */

static const char full_net[] =
    "name: coba_small\n"
    "simulation:\n"
    "  duration: 1 s\n"
    "  seed: 42\n"
    "  solver: {stepper: rk4, abs_tol: 1e-7}\n"
    "  partitions: 4\n"
    "  threads: 0\n"
    "populations:\n"
    "  exc:\n"
    "    size: 80\n"
    "    model: lif_cond_exp\n"
    "    parameters:\n"
    "      C_m: 0.2 nF\n"
    "      g_L: 0.01 uS\n"
    "      V_th: -0.05 V\n"
    "      tau_exc: 5000 us\n"
    "    initial:\n"
    "      V_m: {uniform: {low: -60 mV, high: -50 mV}}\n"
    "      g_exc: {normal: {mean: 4 nS, sd: 1.5 nS, low: 0 nS}}\n"
    "    solver: {stepper: rk8pd, rel_tol: 1e-9}\n"
    "  inh:\n"
    "    size: 20\n"
    "    model: lif_curr_exp\n"
    "projections:\n"
    "  - source: exc\n"
    "    target: exc\n"
    "    connectivity: {rule: bernoulli, p: 0.02, autapses: false}\n"
    "    receptor: exc\n"
    "    weight: 0.006 uS\n"
    "    delay: 0.1 ms\n"
    "  - name: ei\n"
    "    source: exc\n"
    "    target: inh\n"
    "    connectivity: {rule: fixed_indegree, k: 80}\n"
    "    receptor: inh\n"
    "    weight: {normal: {mean: -50 pA, sd: 5 pA}}\n"
    "    delay: {uniform: {low: 1 ms, high: 2 ms}}\n"
    "  - source: inh\n"
    "    target: exc\n"
    "    connectivity: all_to_all\n"
    "    receptor: inh\n"
    "    weight: 67 nS\n"
    "    delay: {normal: {mean: 1.5 ms, sd: 0.2 ms, low: 0.1 ms}}\n"
    "inputs:\n"
    "  - type: poisson\n"
    "    target: exc\n"
    "    rate: 2 kHz\n"
    "    receptor: exc\n"
    "    weight: 1 nS\n"
    "  - name: kick\n"
    "    type: spike_times\n"
    "    target: inh\n"
    "    nodes: [3, 0, 19]\n"
    "    times: [10 ms, 0.0125 s, 12.5 ms, 30 ms]\n"
    "    receptor: exc\n"
    "    weight: 0.1 nA\n"
    "  - type: poisson\n"
    "    target: exc\n"
    "    rate: 0.5 1/ms\n"
    "    start: 100 ms\n"
    "    stop: 0.5 s\n"
    "    receptor: inh\n"
    "    weight: 2 nS\n"
    "recorders:\n"
    "  - type: spikes\n"
    "    population: exc\n"
    "  - type: state\n"
    "    name: vtrace\n"
    "    population: inh\n"
    "    nodes: [1, 2]\n"
    "    variables: [I_exc, V_m]\n"
    "    interval: 0.1 ms\n";

START_TEST(test_full_network)
{
    apical_net_spec *s = load_ok(full_net);
    ck_assert_str_eq(s->path, "net.yaml");
    ck_assert_str_eq(s->text, full_net);
    ck_assert_str_eq(s->name, "coba_small");

    CK_CLOSE(s->sim.duration, 1000.0);
    ck_assert_uint_eq(s->sim.seed, 42);
    ck_assert_str_eq(s->sim.stepper, "rk4");
    CK_CLOSE(s->sim.abs_tol, 1e-7);
    ck_assert_uint_eq(s->sim.partitions, 4);
    ck_assert_uint_eq(s->sim.threads, 0);
    ck_assert_int_eq(s->sim.pos.line, 3);
    ck_assert_int_eq(s->sim.pos.col, 3);

    ck_assert_uint_eq(s->n_pops, 2);
    const apical_pop_spec *exc = &s->pops[0], *inh = &s->pops[1];
    ck_assert_str_eq(exc->name, "exc");
    ck_assert_ptr_eq(exc->pos.file, s->path);
    ck_assert_int_eq(exc->pos.line, 9);
    ck_assert_int_eq(exc->pos.col, 3);
    ck_assert_uint_eq(exc->size, 80);
    ck_assert_str_eq(exc->model->name, "lif_cond_exp");
    const apical_model_type *m = exc->model;
    size_t k_cm = apical_field_index(m->params, m->n_params, "C_m");
    size_t k_gl = apical_field_index(m->params, m->n_params, "g_L");
    size_t k_th = apical_field_index(m->params, m->n_params, "V_th");
    size_t k_te = apical_field_index(m->params, m->n_params, "tau_exc");
    size_t k_el = apical_field_index(m->params, m->n_params, "E_L");
    CK_CLOSE(exc->param[k_cm], 200.0);
    CK_CLOSE(exc->param[k_gl], 10.0);
    CK_CLOSE(exc->param[k_th], -50.0);
    CK_CLOSE(exc->param[k_te], 5.0);
    CK_CLOSE(exc->param[k_el], m->params[k_el].def); /* default */

    size_t s_v = apical_field_index(m->state, m->n_state, "V_m");
    size_t s_ge = apical_field_index(m->state, m->n_state, "g_exc");
    size_t s_gi = apical_field_index(m->state, m->n_state, "g_inh");
    ck_assert_int_eq(exc->init[s_v].kind, APICAL_DIST_UNIFORM);
    CK_CLOSE(exc->init[s_v].a, -60.0);
    CK_CLOSE(exc->init[s_v].b, -50.0);
    ck_assert_int_eq(exc->init[s_v].pos.line, 18);
    ck_assert_int_eq(exc->init[s_v].pos.col, 12);
    ck_assert_int_eq(exc->init[s_ge].kind, APICAL_DIST_NORMAL);
    CK_CLOSE(exc->init[s_ge].a, 4.0);
    CK_CLOSE(exc->init[s_ge].b, 1.5);
    CK_CLOSE(exc->init[s_ge].lo, 0.0);
    ck_assert(isinf(exc->init[s_ge].hi) && exc->init[s_ge].hi > 0);
    ck_assert_int_eq(exc->init[s_gi].kind, APICAL_DIST_CONSTANT); /* default */
    CK_CLOSE(exc->init[s_gi].a, m->state[s_gi].def);

    /* solver: population > simulation > model, value by value */
    ck_assert_str_eq(exc->stepper, "rk8pd");
    CK_CLOSE(exc->abs_tol, 1e-7);
    CK_CLOSE(exc->rel_tol, 1e-9);
    ck_assert_str_eq(inh->stepper, "rk4");
    CK_CLOSE(inh->abs_tol, 1e-7);
    CK_CLOSE(inh->rel_tol, inh->model->default_rel_tol);

    ck_assert_uint_eq(s->n_projs, 3);
    const apical_proj_spec *p0 = &s->projs[0], *p1 = &s->projs[1], *p2 = &s->projs[2];
    ck_assert_str_eq(p0->name, "exc->exc");
    ck_assert_uint_eq(p0->source, 0);
    ck_assert_uint_eq(p0->target, 0);
    ck_assert_int_eq(p0->conn, APICAL_CONN_BERNOULLI);
    CK_CLOSE(p0->p, 0.02);
    ck_assert_int_eq(p0->autapses, 0);
    ck_assert_uint_eq(p0->receptor, 0);
    ck_assert_int_eq(p0->weight.kind, APICAL_DIST_CONSTANT);
    CK_CLOSE(p0->weight.a, 6.0);
    ck_assert_int_eq(p0->weight.pos.line, 29);
    ck_assert_int_eq(p0->weight.pos.col, 13);
    CK_CLOSE(p0->delay.a, 0.1);
    ck_assert_int_eq(p0->pos.line, 25);
    ck_assert_int_eq(p0->pos.col, 5);
    ck_assert_str_eq(p1->name, "ei");
    ck_assert_int_eq(p1->conn, APICAL_CONN_FIXED_INDEGREE);
    ck_assert_uint_eq(p1->k, 80);
    ck_assert_int_eq(p1->autapses, 1); /* default */
    ck_assert_uint_eq(p1->receptor, 1);
    ck_assert_int_eq(p1->weight.kind, APICAL_DIST_NORMAL); /* pA: negative allowed */
    CK_CLOSE(p1->weight.a, -50.0);
    /* draws kept within the weight limit, either sign */
    ck_assert(p1->weight.lo == -APICAL_MAX_WEIGHT && p1->weight.hi == APICAL_MAX_WEIGHT);
    ck_assert_int_eq(p1->delay.kind, APICAL_DIST_UNIFORM);
    CK_CLOSE(p1->delay.a, 1.0);
    CK_CLOSE(p1->delay.b, 2.0);
    ck_assert_str_eq(p2->name, "inh->exc");
    ck_assert_int_eq(p2->conn, APICAL_CONN_ALL_TO_ALL);
    ck_assert_int_eq(p2->delay.kind, APICAL_DIST_NORMAL);
    CK_CLOSE(p2->delay.lo, 0.1);

    ck_assert_uint_eq(s->n_inputs, 3);
    const apical_input_spec *i0 = &s->inputs[0], *i1 = &s->inputs[1], *i2 = &s->inputs[2];
    ck_assert_str_eq(i0->name, "input0");
    ck_assert_int_eq(i0->kind, APICAL_INPUT_POISSON);
    ck_assert_ptr_null(i0->nodes);
    CK_CLOSE(i0->rate, 2000.0);
    CK_CLOSE(i0->start, 0.0);
    ck_assert(isinf(i0->stop) && i0->stop > 0);
    CK_CLOSE(i0->weight, 1.0);
    ck_assert_str_eq(i1->name, "kick");
    ck_assert_int_eq(i1->kind, APICAL_INPUT_SPIKE_TIMES);
    ck_assert_uint_eq(i1->target, 1);
    ck_assert_uint_eq(i1->n_nodes, 3);
    ck_assert_uint_eq(i1->nodes[0], 3);
    ck_assert_uint_eq(i1->nodes[2], 19);
    ck_assert_uint_eq(i1->n_times, 4);
    CK_CLOSE(i1->times[1], 12.5);
    CK_CLOSE(i1->times[2], 12.5); /* equal times are fine */
    CK_CLOSE(i1->weight, 100.0);
    CK_CLOSE(i2->rate, 500.0);
    CK_CLOSE(i2->start, 100.0);
    CK_CLOSE(i2->stop, 500.0);
    ck_assert_uint_eq(i2->receptor, 1);

    ck_assert_uint_eq(s->n_recorders, 2);
    ck_assert_str_eq(s->recorders[0].name, "spikes0");
    ck_assert_int_eq(s->recorders[0].kind, APICAL_REC_SPIKES);
    ck_assert_ptr_null(s->recorders[0].nodes);
    const apical_recorder_spec *r1 = &s->recorders[1];
    ck_assert_str_eq(r1->name, "vtrace");
    ck_assert_uint_eq(r1->pop, 1);
    ck_assert_uint_eq(r1->n_nodes, 2);
    ck_assert_uint_eq(r1->n_vars, 2);
    ck_assert_uint_eq(r1->vars[0], 1);
    ck_assert_uint_eq(r1->vars[1], 0);
    CK_CLOSE(r1->interval, 0.1);

    ck_assert_uint_eq(apical_spec_pop_index(s, "inh"), 1);
    ck_assert_uint_eq(apical_spec_pop_index(s, "nope"), (size_t)-1);
    apical_spec_free(s);
}
END_TEST

START_TEST(test_defaults)
{
    apical_net_spec *s = load_ok("simulation: {duration: 50 ms}\n"
                                 "populations:\n"
                                 "  a: {size: 1, model: lif_cond_exp}\n");
    ck_assert_ptr_null(s->name);
    ck_assert_uint_eq(s->sim.seed, 1);
    ck_assert_uint_eq(s->sim.partitions, 1);
    ck_assert_uint_eq(s->sim.threads, 1);
    ck_assert_ptr_null(s->sim.stepper);
    const apical_pop_spec *a = &s->pops[0];
    const apical_model_type *m = a->model;
    ck_assert_str_eq(a->stepper, m->default_stepper);
    CK_CLOSE(a->abs_tol, m->default_abs_tol);
    CK_CLOSE(a->rel_tol, m->default_rel_tol);
    for (size_t k = 0; k < m->n_params; k++)
        CK_CLOSE(a->param[k], m->params[k].def);
    for (size_t k = 0; k < m->n_state; k++) {
        ck_assert_int_eq(a->init[k].kind, APICAL_DIST_CONSTANT);
        CK_CLOSE(a->init[k].a, m->state[k].def);
    }
    ck_assert_uint_eq(s->n_projs, 0);
    ck_assert_uint_eq(s->n_inputs, 0);
    ck_assert_uint_eq(s->n_recorders, 0);
    apical_spec_free(s);
}
END_TEST

START_TEST(test_yaml_features)
{
    /* anchors and aliases, quoted values, empty optional sections, an
     * implicit stepper on a model that has a Jacobian */
    apical_net_spec *s = load_ok("simulation:\n"
                                 "  duration: \"20 ms\"\n"
                                 "  solver: {stepper: bsimp}\n"
                                 "populations:\n"
                                 "  a: &neuron {size: 3, model: lif_cond_exp}\n"
                                 "  b: *neuron\n"
                                 "  c:\n"
                                 "    size: 2\n"
                                 "    model: 'lif_cond_exp'\n"
                                 "    parameters:\n"
                                 "    initial: ~\n"
                                 "projections:\n"
                                 "inputs: []\n");
    ck_assert_uint_eq(s->n_pops, 3);
    ck_assert_uint_eq(s->pops[1].size, 3);
    ck_assert_str_eq(s->pops[2].stepper, "bsimp");
    CK_CLOSE(s->sim.duration, 20.0);
    ck_assert_uint_eq(s->n_projs, 0);
    apical_spec_free(s);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Files                                                                     */

START_TEST(test_real_file)
{
    char dir[] = "/tmp/apical_loader_XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/net.yaml", dir);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(full_net, f);
    fclose(f);

    apical_net_spec *s = NULL;
    apical_error e;
    ck_assert_int_eq(apical_spec_load(path, &s, &e), APICAL_OK);
    ck_assert_str_eq(s->path, path);
    ck_assert_str_eq(s->text, full_net);
    ck_assert_ptr_eq(s->pops[0].pos.file, s->path);
    CK_CLOSE(s->sim.duration, 1000.0);
    apical_spec_free(s);

    /* An error in a real file names that file. */
    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs("simulation:\n  duration: 1 s\npopulations:\n  a: {size: 1, model: hh}\n", f);
    fclose(f);
    s = (apical_net_spec *)&s;
    ck_assert_int_eq(apical_spec_load(path, &s, &e), APICAL_E_UNKNOWN_MODEL);
    ck_assert_ptr_null(s);
    char buf[2048], want[400];
    apical_error_format(&e, buf, sizeof buf);
    snprintf(want, sizeof want, "%s:4:23: error: unknown model 'hh'", path);
    ck_assert_msg(strncmp(buf, want, strlen(want)) == 0, "got: %s", buf);

    /* The error record outlives the spec and the path buffer. */
    ck_assert_str_eq(e.pos.file, path);

    unlink(path);
    rmdir(dir);
}
END_TEST

START_TEST(test_missing_file)
{
    apical_net_spec *s = (apical_net_spec *)&s;
    apical_error e;
    const char *path = "/nonexistent/dir/network.yaml";
    ck_assert_int_eq(apical_spec_load(path, &s, &e), APICAL_E_IO);
    ck_assert_ptr_null(s);
    char buf[2048];
    apical_error_format(&e, buf, sizeof buf);
    ck_assert_msg(strstr(buf, path) != NULL, "path missing: %s", buf);
    ck_assert_msg(strstr(buf, strerror(ENOENT)) != NULL, "strerror missing: %s", buf);
    ck_assert_msg(strstr(buf, "error") != NULL, "got: %s", buf);

    /* a directory opens but cannot be read */
    ck_assert_int_eq(apical_spec_load("/tmp", &s, &e), APICAL_E_IO);
    ck_assert_ptr_null(s);
    ck_assert_msg(strstr(e.msg, "/tmp") != NULL, "got: %s", e.msg);
}
END_TEST

START_TEST(test_empty)
{
    EXPECT_ERR("", APICAL_E_MISSING_KEY, 1, 1, "empty", "populations");
    EXPECT_ERR("# nothing here\n\n", APICAL_E_MISSING_KEY, 1, 1, "empty", "simulation");
    EXPECT_ERR("---\n", APICAL_E_MISSING_KEY, 1, 1, "empty", NULL);
}
END_TEST

START_TEST(test_null_args)
{
    apical_net_spec *s = (apical_net_spec *)&s;
    apical_error e;
    ck_assert_int_eq(apical_spec_load_string("x", NULL, &s, &e), APICAL_E_INVALID);
    ck_assert_int_eq(apical_spec_load_string("x", "a: 1", NULL, &e), APICAL_E_INVALID);
    ck_assert_int_eq(apical_spec_load(NULL, &s, NULL), APICAL_E_INVALID);
    /* a NULL error record is allowed */
    s = (apical_net_spec *)&s;
    ck_assert_int_eq(apical_spec_load_string("x", "a: [", &s, NULL), APICAL_E_SYNTAX);
    ck_assert_ptr_null(s);
    apical_spec_free(NULL);
    ck_assert_uint_eq(apical_spec_pop_index(NULL, "a"), (size_t)-1);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* YAML level                                                                */

enum { SIZE_DEEP = sizeof(SIM "populations: ") + 1000 };

START_TEST(test_syntax)
{
    EXPECT_ERR(SIM "populations:\n  a: b: c\n", APICAL_E_SYNTAX, 4, 7, "malformed YAML",
               NULL);
    EXPECT_ERR(SIM "populations: {a: 1\n", APICAL_E_SYNTAX, 4, 1, "malformed YAML",
               "flow mapping");
    EXPECT_ERR(SIM "populations:\n  a: \"unterminated\n", APICAL_E_SYNTAX, 4, 7,
               "malformed YAML", "quote");
    EXPECT_ERR(HEAD "\t\n  x: 1\n", APICAL_E_SYNTAX, 10, 2, "malformed YAML", NULL);
    EXPECT_ERR(HEAD "---\nsimulation: {}\n", APICAL_E_SYNTAX, 10, 1, "one YAML document",
               NULL);
    EXPECT_ERR(SIM "populations:\n  a: *nowhere\n", APICAL_E_SYNTAX, 4, 6, "alias",
               "nowhere");
    EXPECT_ERR(SIM "populations:\n  ? [a]\n  : 1\n", APICAL_E_TYPE, 4, 5, "key", "list");
    /* libfyaml prints this one instead of collecting it; the loader still
     * captures it and places it at the last node that parsed */
    EXPECT_ERR(SIM "populations:\n  a:\n    size: |0 3\n", APICAL_E_SYNTAX, 5, 5,
               "malformed YAML", "indentation indicator");
    /* an empty key has no mark of its own: its value gives the place */
    EXPECT_ERR(HEAD ": 3\n", APICAL_E_UNKNOWN_KEY, 10, 3, "unknown key ''", NULL);
    /* absurd nesting stops early: the 64th '[' under the root mapping */
    char deep[SIZE_DEEP];
    snprintf(deep, sizeof deep, "%s", SIM "populations: ");
    memset(deep + strlen(deep), '[', 1000);
    deep[sizeof deep - 1] = '\0';
    EXPECT_ERR(deep, APICAL_E_SYNTAX, 3, 77, "nested more than 64 levels", NULL);
}
END_TEST

/* libfyaml must not print: every diagnostic ends up in the apical_error. */
START_TEST(test_quiet)
{
    static const char *const bad[] = {
        "a: [1, 2\n", "a: 1\na: 2\n", "a: b: c\n", "a: |0 x\n", "a: \"x\n", "a: *x\n",
        "\t- x\n",   "---\n---\n",  "%YAML 9.9\n---\na: 1\n",
    };
    char path[] = "/tmp/apical_stderr_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    fflush(stderr);
    int saved = dup(2);
    ck_assert_int_ge(saved, 0);
    dup2(fd, 2);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        apical_net_spec *s = NULL;
        apical_error e;
        apical_status st = apical_spec_load_string("q.yaml", bad[i], &s, &e);
        ck_assert_int_ne(st, APICAL_OK);
        ck_assert_ptr_null(s);
        ck_assert_int_gt(e.pos.line, 0);
    }
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    off_t size = lseek(fd, 0, SEEK_END);
    close(fd);
    unlink(path);
    ck_assert_msg(size == 0, "the loader wrote %lld bytes to stderr", (long long)size);
}
END_TEST

/* Issue 14: hostile text. */
START_TEST(test_hostile_text)
{
    /* 12 single quotes: libfyaml 0.7.12 leaked 512 B (check-asan) and
     * decoded runs of '' wrongly; the loader decodes them itself */
    EXPECT_ERR("''''''''''''", APICAL_E_TYPE, 1, 2, "got '''''''", NULL);
    EXPECT_ERR("a: 'x''y''''z'", APICAL_E_UNKNOWN_KEY, 1, 1, "unknown key 'a'", NULL);
    EXPECT_ERR("'a\n  b\n\n  c  '", APICAL_E_TYPE, 1, 2, "got 'a b\nc  '", NULL);
    /* "%\xff" hung libfyaml's directive scanner: not UTF-8, refused first */
    EXPECT_ERR("%\xff", APICAL_E_SYNTAX, 1, 2, "byte 0xFF is not valid UTF-8", NULL);
    EXPECT_ERR("a: 1\nb: \xc3\xa9\xc0\x80", APICAL_E_SYNTAX, 2, 5, "0xC0", NULL); /* overlong */
    EXPECT_ERR("a: \xed\xa0\x80", APICAL_E_SYNTAX, 1, 4, "0xED", NULL);            /* surrogate */
    EXPECT_ERR("a: \xf4\x90\x80\x80", APICAL_E_SYNTAX, 1, 4, "0xF4", NULL);        /* > U+10FFFF */
    EXPECT_ERR("a: \xe2\x82", APICAL_E_SYNTAX, 1, 4, "0xE2", NULL);                /* truncated */
}
END_TEST

/* Aliases of aliases: 10^9 nodes from 9 lines, refused at the alias. */
START_TEST(test_alias_bomb)
{
    char text[2048] = "x0: &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n";
    for (int i = 1; i < 9; i++) {
        size_t u = strlen(text);
        snprintf(text + u, sizeof text - u, "x%d: &a%d [", i, i);
        for (int k = 0; k < 10; k++) {
            u = strlen(text);
            snprintf(text + u, sizeof text - u, "%s*a%d", k ? ", " : "", i - 1);
        }
        u = strlen(text);
        snprintf(text + u, sizeof text - u, "]\n");
    }
    EXPECT_ERR(text, APICAL_E_RANGE, 6, 45, "alias '*a4' expands the file past", NULL);
    apical_net_spec *spec = load_ok(HEAD);
    apical_spec_free(spec);
}
END_TEST

/* A stop flag already set: the load gives up, with no spec. */
START_TEST(test_load_interrupted)
{
    volatile sig_atomic_t stop = 1;
    apical_load_opts o = {.stop = &stop};
    apical_net_spec *spec = NULL;
    apical_error e;
    ck_assert_int_eq(apical_spec_load_string_opts("net.yaml", HEAD, &o, &spec, &e),
                     APICAL_E_INTERRUPTED);
    ck_assert_ptr_null(spec);
    stop = 0;
    ck_assert_int_eq(apical_spec_load_string_opts("net.yaml", HEAD, &o, &spec, &e), APICAL_OK);
    apical_spec_free(spec);
}
END_TEST

START_TEST(test_duplicate_key)
{
    EXPECT_ERR(SIM "populations:\n  exc: {size: 1, model: lif_cond_exp}\n"
                   "  exc: {size: 2, model: lif_cond_exp}\n",
               APICAL_E_SYNTAX, 5, 3, "duplicate key 'exc'", "line 4, column 3");
    EXPECT_ERR("simulation:\n  duration: 1 ms\n  duration: 2 ms\n" POPS, APICAL_E_SYNTAX, 3,
               3, "duplicate key 'duration'", NULL);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Keys and types                                                            */

START_TEST(test_unknown_keys)
{
    EXPECT_ERR(HEAD "projectons: []\n", APICAL_E_UNKNOWN_KEY, 10, 1, "unknown key 'projectons'",
               "projections, inputs, recorders");
    EXPECT_ERR("simulation:\n  duration: 1 ms\n  sed: 3\n" POPS, APICAL_E_UNKNOWN_KEY, 3, 3,
               "'sed'", "seed, solver");
    EXPECT_ERR("simulation:\n  duration: 1 ms\n  solver: {steper: rk4}\n" POPS,
               APICAL_E_UNKNOWN_KEY, 3, 12, "'steper'", "stepper, abs_tol, rel_tol");
    EXPECT_ERR(SIM "populations:\n  a: {size: 1, model: lif_cond_exp, sise: 3}\n",
               APICAL_E_UNKNOWN_KEY, 4, 37, "population 'a'", "size, model, parameters");
    EXPECT_ERR(PROJ_HEAD "    connectivity: {rule: bernoulli, p: 0.1, q: 1}\n",
               APICAL_E_UNKNOWN_KEY, 13, 45, "'q'", "rule, p, k, autapses");
    EXPECT_ERR(PROJ_HEAD "    connectivity: {rule: bernoulli, p: 0.1, k: 1}\n",
               APICAL_E_UNKNOWN_KEY, 13, 45, "'k' does not apply to rule 'bernoulli'", NULL);
    EXPECT_ERR(PROJ_HEAD "    plastcity: stdp\n", APICAL_E_UNKNOWN_KEY, 13, 5,
               "'plastcity'", "connectivity, receptor, weight, delay, plasticity");
    EXPECT_ERR(HEAD "inputs:\n  - {type: poisson, target: exc, times: [1 ms]}\n",
               APICAL_E_UNKNOWN_KEY, 11, 34, "'times'", "rate, start, stop");
    EXPECT_ERR(HEAD "recorders:\n  - {type: spikes, population: exc, interval: 1 ms}\n",
               APICAL_E_UNKNOWN_KEY, 11, 37, "'interval'", "name, type, population, nodes");
    EXPECT_ERR(SIM "populations:\n  a:\n    size: 1\n    model: lif_cond_exp\n"
                   "    initial: {V_m: {gauss: {mean: 1 mV}}}\n",
               APICAL_E_UNKNOWN_KEY, 7, 21, "'gauss'", "normal, uniform");
    EXPECT_ERR(SIM "populations:\n  a:\n    size: 1\n    model: lif_cond_exp\n"
                   "    initial: {V_m: {normal: {mean: 1 mV, sd: 1 mV, lo: 0 mV}}}\n",
               APICAL_E_UNKNOWN_KEY, 7, 52, "'lo'", "mean, sd, low, high");
}
END_TEST

START_TEST(test_missing_keys)
{
    EXPECT_ERR(POPS, APICAL_E_MISSING_KEY, 1, 1, "'simulation'", NULL);
    EXPECT_ERR(SIM, APICAL_E_MISSING_KEY, 1, 1, "'populations'", NULL);
    EXPECT_ERR("simulation:\n  seed: 3\n" POPS, APICAL_E_MISSING_KEY, 2, 3, "simulation",
               "'duration'");
    EXPECT_ERR(SIM "populations:\n  a:\n    size: 3\n", APICAL_E_MISSING_KEY, 5, 5,
               "population 'a'", "'model'");
    EXPECT_ERR(SIM "populations:\n  a: {model: lif_cond_exp}\n", APICAL_E_MISSING_KEY, 4, 6,
               "population 'a'", "'size'");
    EXPECT_ERR(HEAD "projections:\n  - source: exc\n    connectivity: all_to_all\n",
               APICAL_E_MISSING_KEY, 11, 5, "projections[0]", "'target'");
    EXPECT_ERR(PROJ_HEAD "    connectivity: all_to_all\n    receptor: exc\n    delay: 1 ms\n",
               APICAL_E_MISSING_KEY, 11, 5, "'weight'", NULL);
    EXPECT_ERR(PROJ_HEAD "    connectivity: {rule: fixed_outdegree}\n", APICAL_E_MISSING_KEY,
               13, 19, "connectivity", "'k'");
    EXPECT_ERR(PROJ_HEAD "    connectivity: bernoulli\n", APICAL_E_MISSING_KEY, 13, 19,
               "needs 'p'", NULL);
    EXPECT_ERR(HEAD "inputs:\n  - {target: exc}\n", APICAL_E_MISSING_KEY, 11, 5, "input 'input0'",
               "'type'");
    EXPECT_ERR(HEAD "recorders:\n  - {type: state, population: exc, interval: 1 ms}\n",
               APICAL_E_MISSING_KEY, 11, 5, "'variables'", NULL);
    EXPECT_ERR(SIM "populations:\n  a:\n    size: 1\n    model: lif_cond_exp\n"
                   "    initial: {V_m: {normal: {mean: 1 mV}}}\n",
               APICAL_E_MISSING_KEY, 7, 29, "normal V_m", "'sd'");
}
END_TEST

START_TEST(test_wrong_types)
{
    EXPECT_ERR("simulation: [1, 2]\n" POPS, APICAL_E_TYPE, 1, 13, "simulation must be a mapping",
               "a list");
    EXPECT_ERR(SIM "populations:\n  - exc\n", APICAL_E_TYPE, 4, 3, "populations must be a mapping",
               "a list");
    EXPECT_ERR(SIM "populations:\n  a: {size: {n: 1}, model: lif_cond_exp}\n", APICAL_E_TYPE, 4,
               13, "size must be an integer", "a mapping");
    EXPECT_ERR(SIM "populations:\n  a: {size: 3, model: [lif_cond_exp]}\n", APICAL_E_TYPE, 4,
               23, "model must be a name", "a list");
    EXPECT_ERR(SIM "populations:\n  a:\n", APICAL_E_TYPE, 4, 3, "population 'a' must be a mapping",
               "an empty value");
    EXPECT_ERR(SIM "populations:\n  a:\n    size: 1\n    model: lif_cond_exp\n"
                   "    parameters: [C_m]\n",
               APICAL_E_TYPE, 7, 17, "parameters of population 'a'", "a mapping");
    EXPECT_ERR(SIM "populations:\n  a:\n    size: 1\n    model: lif_cond_exp\n"
                   "    parameters: {C_m: {value: 1 pF}}\n",
               APICAL_E_TYPE, 7, 23, "C_m: expected a capacitance", "a mapping");
    EXPECT_ERR(HEAD "projections: {a: 1}\n", APICAL_E_TYPE, 10, 14, "projections must be a list",
               NULL);
    EXPECT_ERR(PROJ_HEAD "    connectivity: {rule: bernoulli, p: 0.1, autapses: maybe}\n",
               APICAL_E_TYPE, 13, 55, "autapses must be true or false", "'maybe'");
    EXPECT_ERR(PROJ_HEAD "    connectivity: [all_to_all]\n", APICAL_E_TYPE, 13, 19,
               "connectivity must be a rule name", NULL);
    EXPECT_ERR(HEAD "inputs:\n  - {type: spike_times, target: exc, receptor: exc, weight: 1 nS, "
                    "times: 1 ms}\n",
               APICAL_E_TYPE, 11, 74, "times must be a list", NULL);
    EXPECT_ERR(PROJ_HEAD "    connectivity: all_to_all\n    receptor: exc\n    weight: [1 nS]\n",
               APICAL_E_TYPE, 15, 13, "weight must be a quantity such as '1 nS'", "a list");
    EXPECT_ERR(PROJ_HEAD "    connectivity: all_to_all\n    receptor: exc\n"
                         "    weight: {normal: {mean: 1 nS, sd: 1 nS}, uniform: {}}\n",
               APICAL_E_TYPE, 15, 13, "one distribution", "a mapping");
    EXPECT_ERR("simulation:\n  duration:\n" POPS, APICAL_E_TYPE, 2, 3,
               "duration: expected a time", "an empty value");
    EXPECT_ERR("simulation:\n  duration: long\n" POPS, APICAL_E_TYPE, 2, 13,
               "duration: expected a time such as '0.1 ms'", "'long'");
}
END_TEST

START_TEST(test_integers)
{
    EXPECT_ERR(SIM "populations:\n  a: {size: 3.5, model: lif_cond_exp}\n", APICAL_E_TYPE, 4, 13,
               "size must be an integer", "'3.5'");
    EXPECT_ERR(SIM "populations:\n  a: {size: many, model: lif_cond_exp}\n", APICAL_E_TYPE, 4,
               13, "size must be an integer", "'many'");
    EXPECT_ERR(SIM "populations:\n  a: {size: 1e3, model: lif_cond_exp}\n", APICAL_E_TYPE, 4, 13,
               "integer", NULL);
    EXPECT_ERR(SIM "populations:\n  a: {size: 0, model: lif_cond_exp}\n", APICAL_E_RANGE, 4, 13,
               "size must be an integer in [1, 4294967295]", "got 0");
    EXPECT_ERR(SIM "populations:\n  a: {size: -3, model: lif_cond_exp}\n", APICAL_E_RANGE, 4, 13,
               "size must be an integer in [1, 4294967295]", "got -3");
    EXPECT_ERR(SIM "populations:\n  a: {size: 99999999999999999999999, model: lif_cond_exp}\n",
               APICAL_E_RANGE, 4, 13, "size", NULL);
    EXPECT_ERR("simulation:\n  duration: 1 ms\n  partitions: 0\n" POPS, APICAL_E_RANGE, 3, 15,
               "partitions", "[1, 1024]");
    EXPECT_ERR("simulation:\n  duration: 1 ms\n  seed: -1\n" POPS, APICAL_E_RANGE, 3, 9,
               "seed", NULL);
    EXPECT_ERR("simulation:\n  duration: 1 ms\n  threads: two\n" POPS, APICAL_E_TYPE, 3, 12,
               "threads must be an integer", NULL);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Names and references                                                      */

START_TEST(test_unknown_model)
{
    EXPECT_ERR(SIM "populations:\n  a: {size: 3, model: lif_cond_expo}\n",
               APICAL_E_UNKNOWN_MODEL, 4, 23, "unknown model 'lif_cond_expo'",
               "lif_cond_exp, lif_curr_exp");
}
END_TEST

START_TEST(test_unknown_receptor)
{
    EXPECT_ERR(PROJ_HEAD "    connectivity: all_to_all\n    receptor: ampa\n    weight: 1 nS\n"
                         "    delay: 1 ms\n",
               APICAL_E_UNKNOWN_NAME, 14, 15, "no receptor 'ampa'", "exc, inh");
    EXPECT_ERR(HEAD "inputs:\n  - {type: poisson, target: inh, rate: 1 Hz, receptor: gaba, "
                    "weight: 1 nS}\n",
               APICAL_E_UNKNOWN_NAME, 11, 56, "no receptor 'gaba'", "exc, inh");
}
END_TEST

START_TEST(test_unknown_field_names)
{
    EXPECT_ERR(SIM "populations:\n  a:\n    size: 1\n    model: lif_cond_exp\n"
                   "    parameters: {C_m: 100 pF, tau_m: 10 ms}\n",
               APICAL_E_UNKNOWN_NAME, 7, 31, "no parameter 'tau_m'", "C_m, g_L, E_L");
    EXPECT_ERR(SIM "populations:\n  a:\n    size: 1\n    model: lif_cond_exp\n"
                   "    initial: {V: -60 mV}\n",
               APICAL_E_UNKNOWN_NAME, 7, 15, "no state variable 'V'", "V_m, g_exc, g_inh");
    EXPECT_ERR(HEAD "recorders:\n  - type: state\n    population: inh\n"
                    "    variables: [V_m, v]\n    interval: 1 ms\n",
               APICAL_E_UNKNOWN_NAME, 13, 22, "no state variable 'v'", "V_m, g_exc");
    EXPECT_ERR(HEAD "recorders:\n  - type: state\n    population: inh\n"
                    "    variables: [V_m, V_m]\n    interval: 1 ms\n",
               APICAL_E_INVALID, 13, 22, "'V_m' is listed twice", NULL);
    EXPECT_ERR(HEAD "recorders:\n  - {type: voltmeter, population: inh}\n",
               APICAL_E_UNKNOWN_NAME, 11, 12, "unknown recorder type 'voltmeter'",
               "spikes, state");
    EXPECT_ERR(HEAD "inputs:\n  - {type: mnist, target: inh}\n", APICAL_E_UNKNOWN_NAME, 11, 12,
               "unknown input type 'mnist'", "poisson, spike_times");
    EXPECT_ERR(PROJ_HEAD "    connectivity: random\n", APICAL_E_UNKNOWN_NAME, 13, 19,
               "unknown connectivity rule 'random'", "all_to_all, one_to_one, bernoulli");
}
END_TEST

START_TEST(test_undefined_population)
{
    EXPECT_ERR(HEAD "projections:\n  - source: exc\n    target: inhib\n", APICAL_E_REFERENCE,
               12, 13, "target 'inhib' is not a defined population", "exc, inh");
    EXPECT_ERR(HEAD "inputs:\n  - {type: poisson, target: ex}\n", APICAL_E_REFERENCE, 11, 29,
               "'ex'", "defined: exc, inh");
    EXPECT_ERR(HEAD "recorders:\n  - {type: spikes, population: all}\n", APICAL_E_REFERENCE,
               11, 32, "population 'all' is not a defined population", NULL);
}
END_TEST

START_TEST(test_names)
{
    EXPECT_ERR(SIM "populations:\n  a/b: {size: 1, model: lif_cond_exp}\n", APICAL_E_INVALID, 4,
               3, "'a/b'", "'/'");
    EXPECT_ERR(HEAD "projections:\n"
                    "  - {source: exc, target: inh, connectivity: all_to_all, receptor: exc,\n"
                    "     weight: 1 nS, delay: 1 ms}\n"
                    "  - {source: exc, target: inh, connectivity: all_to_all, receptor: inh,\n"
                    "     weight: 1 nS, delay: 1 ms}\n",
               APICAL_E_INVALID, 13, 5, "'exc->inh' is already used", "line 11");
    EXPECT_ERR(HEAD "recorders:\n  - {type: spikes, population: exc, name: r}\n"
                    "  - {type: spikes, population: inh, name: r}\n",
               APICAL_E_INVALID, 12, 43, "recorder name 'r' is already used", NULL);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Units and ranges                                                          */

START_TEST(test_wrong_unit)
{
    EXPECT_ERR(SIM "populations:\n  a:\n    size: 1\n    model: lif_cond_exp\n"
                   "    parameters:\n      g_L: 6 mV\n",
               APICAL_E_UNIT, 8, 12, "g_L: expected a conductance such as '6 nS'",
               "'mV' which is a voltage");
    EXPECT_ERR(PROJ_HEAD "    connectivity: all_to_all\n    receptor: exc\n    weight: 6 mV\n",
               APICAL_E_UNIT, 15, 13, "weight: expected a conductance", "voltage");
    EXPECT_ERR("simulation:\n  duration: 100 Hz\n" POPS, APICAL_E_UNIT, 2, 13,
               "expected a time", "rate");
    EXPECT_ERR("simulation:\n  duration: 100 mss\n" POPS, APICAL_E_UNIT, 2, 13,
               "unknown unit 'mss'", "s, ms, us");
    EXPECT_ERR("simulation:\n  duration: 1 ms\n  solver: {abs_tol: 1e-6 mV}\n" POPS,
               APICAL_E_UNIT, 3, 21, "abs_tol", "dimensionless");
    EXPECT_ERR("simulation:\n  duration: 1e999 ms\n" POPS, APICAL_E_RANGE, 2, 13, "duration",
               "too large");
}
END_TEST

START_TEST(test_missing_unit)
{
    EXPECT_ERR(SIM "populations:\n  a:\n    size: 1\n    model: lif_cond_exp\n"
                   "    parameters:\n      C_m: 250\n",
               APICAL_E_UNIT, 8, 12, "C_m: missing unit", "'200 pF'");
    EXPECT_ERR("simulation:\n  duration: 100\n" POPS, APICAL_E_UNIT, 2, 13, "missing unit",
               "'0.1 ms'");
    /* a bare number is fine where the field is dimensionless */
    apical_net_spec *s = load_ok("simulation:\n  duration: 1 ms\n"
                                 "  solver: {abs_tol: 1e-8, rel_tol: 0.001}\n" POPS
                                 "projections:\n  - source: exc\n    target: inh\n"
                                 "    connectivity: {rule: bernoulli, p: 1}\n"
                                 "    receptor: exc\n    weight: 0 nS\n    delay: 1 ms\n");
    CK_CLOSE(s->sim.abs_tol, 1e-8);
    CK_CLOSE(s->projs[0].p, 1.0);
    apical_spec_free(s);
}
END_TEST

START_TEST(test_out_of_range)
{
    EXPECT_ERR(SIM "populations:\n  a:\n    size: 1\n    model: lif_cond_exp\n"
                   "    parameters:\n      C_m: -5 pF\n",
               APICAL_E_RANGE, 8, 12, "C_m must be in [0.001, 1e+09] pF", "got -5 pF");
    EXPECT_ERR(SIM "populations:\n  a:\n    size: 1\n    model: lif_cond_exp\n"
                   "    parameters:\n      E_L: 1 V\n",
               APICAL_E_RANGE, 8, 12, "E_L must be in [-200, 200] mV", "got 1000 mV");
    EXPECT_ERR(SIM "populations:\n  a:\n    size: 1\n    model: lif_cond_exp\n"
                   "    parameters:\n      t_ref: -1 ms\n",
               APICAL_E_RANGE, 8, 14, "t_ref must be in [0, 1e+06] ms", NULL);
    /* conductance weights cannot be negative */
    EXPECT_ERR(PROJ_HEAD "    connectivity: all_to_all\n    receptor: inh\n    weight: -1 nS\n",
               APICAL_E_RANGE, 15, 13, "weight must be in [0, 1e+09] nS", NULL);
    EXPECT_ERR(HEAD "inputs:\n  - {type: poisson, target: inh, rate: -1 Hz, receptor: exc, "
                    "weight: 1 nS}\n",
               APICAL_E_RANGE, 11, 40, "rate must be in [0, 1e+06] Hz", NULL);
    EXPECT_ERR(HEAD "inputs:\n  - {type: poisson, target: inh, rate: 1 Hz, receptor: exc, "
                    "weight: 1 nS, start: 5 ms, stop: 5 ms}\n",
               APICAL_E_RANGE, 11, 94, "stop (5 ms) must be after start (5 ms)", NULL);
    EXPECT_ERR(HEAD "recorders:\n  - {type: state, population: exc, variables: [V_m], "
                    "interval: 0 ms}\n",
               APICAL_E_RANGE, 11, 64, "interval must be in [1e-06, 1e+09] ms", NULL);
    /* distributions: bounds of uniform, sd, clip interval, mean inside it */
    EXPECT_ERR(SIM "populations:\n  a:\n    size: 1\n    model: lif_cond_exp\n"
                   "    initial: {V_m: {uniform: {low: -50 mV, high: -60 mV}}}\n",
               APICAL_E_RANGE, 7, 50, "high (-60 mV) must be above low (-50 mV)", NULL);
    EXPECT_ERR(SIM "populations:\n  a:\n    size: 1\n    model: lif_cond_exp\n"
                   "    initial: {V_m: {normal: {mean: -60 mV, sd: -1 mV}}}\n",
               APICAL_E_RANGE, 7, 48, "sd of V_m must be >= 0 mV", NULL);
    EXPECT_ERR(SIM "populations:\n  a:\n    size: 1\n    model: lif_cond_exp\n"
                   "    initial: {V_m: {normal: {mean: -90 mV, sd: 1 mV, low: -80 mV}}}\n",
               APICAL_E_RANGE, 7, 36, "mean of V_m (-90 mV) must lie in [-80, inf] mV", NULL);
}
END_TEST

START_TEST(test_model_check)
{
    /* lif_cond_exp requires V_reset < V_th; the error points at V_reset */
    EXPECT_ERR(SIM "populations:\n  a:\n    size: 1\n    model: lif_cond_exp\n"
                   "    parameters:\n      V_th: -55 mV\n      V_reset: -40 mV\n",
               APICAL_E_RANGE, 9, 16, "population 'a'", "V_reset (-40 mV) must be below V_th");
    /* the offending parameter left at its default: point at the parameters */
    EXPECT_ERR(SIM "populations:\n  a:\n    size: 1\n    model: lif_cond_exp\n"
                   "    parameters:\n      V_th: -70 mV\n",
               APICAL_E_RANGE, 8, 7, "V_reset", "below V_th");
}
END_TEST

START_TEST(test_connectivity_ranges)
{
    EXPECT_ERR(PROJ_HEAD "    connectivity: {rule: bernoulli, p: 1.5}\n", APICAL_E_RANGE, 13,
               40, "p must be in [0, 1]", "got 1.5");
    EXPECT_ERR(PROJ_HEAD "    connectivity: {rule: bernoulli, p: -0.1}\n", APICAL_E_RANGE, 13,
               40, "p must be in [0, 1]", NULL);
    /* exc has 10 neurons, inh 5 */
    EXPECT_ERR(PROJ_HEAD "    connectivity: {rule: fixed_indegree, k: 11}\n", APICAL_E_RANGE,
               13, 45, "k = 11 is more than the 10 source neurons available in 'exc'", NULL);
    EXPECT_ERR(PROJ_HEAD "    connectivity: {rule: fixed_outdegree, k: 6}\n", APICAL_E_RANGE,
               13, 46, "6 is more than the 5 target neurons", "'inh'");
    EXPECT_ERR(HEAD "projections:\n  - source: exc\n    target: exc\n"
                    "    connectivity: {rule: fixed_indegree, k: 10, autapses: false}\n",
               APICAL_E_RANGE, 13, 45, "9 source neurons", "without autapses");
    EXPECT_ERR(PROJ_HEAD "    connectivity: one_to_one\n", APICAL_E_RANGE, 13, 19,
               "one_to_one needs populations of equal size", "'exc' has 10");
    /* k equal to the pool, with autapses, is fine */
    apical_net_spec *s = load_ok(HEAD "projections:\n  - source: exc\n    target: exc\n"
                                      "    connectivity: {rule: fixed_indegree, k: 10}\n"
                                      "    receptor: exc\n    weight: 1 nS\n    delay: 1 ms\n");
    ck_assert_uint_eq(s->projs[0].k, 10);
    apical_spec_free(s);
}
END_TEST

START_TEST(test_delay)
{
    EXPECT_ERR(PROJ_HEAD "    connectivity: all_to_all\n    receptor: exc\n    weight: 1 nS\n"
                         "    delay: 0 ms\n",
               APICAL_E_RANGE, 16, 12, "delay must be in [1e-06, 1e+09] ms", "got 0 ms");
    EXPECT_ERR(PROJ_HEAD "    connectivity: all_to_all\n    receptor: exc\n    weight: 1 nS\n"
                         "    delay: -0.5 ms\n",
               APICAL_E_RANGE, 16, 12, "delay must be in [1e-06, 1e+09] ms", NULL);
    EXPECT_ERR(PROJ_HEAD "    connectivity: all_to_all\n    receptor: exc\n    weight: 1 nS\n"
                         "    delay: {uniform: {low: 0 ms, high: 1 ms}}\n",
               APICAL_E_RANGE, 16, 28, "low of delay must be in [1e-06, 1e+09] ms", NULL);
    EXPECT_ERR(PROJ_HEAD "    connectivity: all_to_all\n    receptor: exc\n    weight: 1 nS\n"
                         "    delay: {normal: {mean: 1 ms, sd: 0.1 ms}}\n",
               APICAL_E_MISSING_KEY, 16, 21, "needs 'low'", ">= 1e-06 ms");
}
END_TEST

START_TEST(test_spike_times_and_nodes)
{
    EXPECT_ERR(HEAD "inputs:\n  - type: spike_times\n    target: inh\n"
                    "    times: [1 ms, 5 ms, 3 ms]\n    receptor: exc\n    weight: 1 nS\n",
               APICAL_E_RANGE, 13, 25, "sorted ascending", "3 ms comes after 5 ms");
    EXPECT_ERR(HEAD "inputs:\n  - type: spike_times\n    target: inh\n"
                    "    times: [-1 ms]\n    receptor: exc\n    weight: 1 nS\n",
               APICAL_E_RANGE, 13, 13, "spike time must be >= 0 ms", NULL);
    EXPECT_ERR(HEAD "inputs:\n  - type: spike_times\n    target: inh\n    nodes: [0, 5]\n",
               APICAL_E_RANGE, 13, 16, "node id 5 is out of range", "has 5 neurons (ids 0 to 4)");
    EXPECT_ERR(HEAD "recorders:\n  - {type: spikes, population: exc, nodes: [2, 7, 2]}\n",
               APICAL_E_INVALID, 11, 51, "node id 2 is listed twice", NULL);
    EXPECT_ERR(HEAD "recorders:\n  - {type: spikes, population: exc, nodes: []}\n",
               APICAL_E_INVALID, 11, 44, "nodes is an empty list", NULL);
    EXPECT_ERR(HEAD "recorders:\n  - {type: spikes, population: exc, nodes: [1, x]}\n",
               APICAL_E_TYPE, 11, 48, "node id must be an integer", "'x'");
}
END_TEST

START_TEST(test_duration)
{
    EXPECT_ERR("simulation:\n  duration: 0 ms\n" POPS, APICAL_E_RANGE, 2, 13,
               "duration must be in (0, 1e+09] ms", "got 0 ms");
    EXPECT_ERR("simulation:\n  duration: -1 s\n" POPS, APICAL_E_RANGE, 2, 13,
               "duration must be in (0, 1e+09] ms", "got -1000 ms");
}
END_TEST

START_TEST(test_solver)
{
    EXPECT_ERR("simulation:\n  duration: 1 ms\n  solver:\n    stepper: rk45\n" POPS,
               APICAL_E_UNKNOWN_NAME, 4, 14, "unknown stepper 'rk45'",
               "rk2, rk4, rkf45, rkck, rk8pd, msadams");
    EXPECT_ERR(SIM "populations:\n  a:\n    size: 1\n    model: lif_cond_exp\n"
                   "    solver: {stepper: euler}\n",
               APICAL_E_UNKNOWN_NAME, 7, 23, "unknown stepper 'euler'", "bsimp");
    EXPECT_ERR("simulation:\n  duration: 1 ms\n  solver:\n    rel_tol: 0\n" POPS,
               APICAL_E_RANGE, 4, 14, "rel_tol must be > 0", "got 0");
    EXPECT_ERR(SIM "populations:\n  a:\n    size: 1\n    model: lif_cond_exp\n"
                   "    solver: {abs_tol: -1e-6}\n",
               APICAL_E_RANGE, 7, 23, "abs_tol must be > 0", NULL);
    /* implicit steppers are accepted for models with a Jacobian */
    apical_net_spec *s = load_ok(SIM "populations:\n  a:\n    size: 1\n    model: lif_curr_exp\n"
                                     "    solver: {stepper: msbdf}\n");
    ck_assert_ptr_nonnull(s->pops[0].model->jacobian);
    ck_assert_str_eq(s->pops[0].stepper, "msbdf");
    apical_spec_free(s);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Limits (include/apical/limits.h): sizes the engine stores in narrower    */
/* integers, and times and rates it can represent and process.              */

#define ONE_POP(size) SIM "populations:\n  a: {size: " size ", model: lif_cond_exp}\n"

START_TEST(test_size_limits)
{
    /* 2^64 - 1 used to pass and wrap in sums and in 32-bit indices */
    EXPECT_ERR(ONE_POP("18446744073709551615"), APICAL_E_RANGE, 4, 13, "size",
               "[1, 4294967295]");
    EXPECT_ERR(ONE_POP("4294967296"), APICAL_E_RANGE, 4, 13, "size", "[1, 4294967295]");
    apical_net_spec *s = load_ok(ONE_POP("4294967295"));
    ck_assert_uint_eq(s->pops[0].size, 4294967295u);
    apical_spec_free(s);
    /* one limit for partitions and threads, the same as --threads */
    EXPECT_ERR("simulation:\n  duration: 1 ms\n  partitions: 65536\n" POPS, APICAL_E_RANGE, 3, 15,
               "partitions", "[1, 1024]");
    EXPECT_ERR("simulation:\n  duration: 1 ms\n  threads: 1025\n" POPS, APICAL_E_RANGE, 3, 12,
               "threads", "[0, 1024]");
    s = load_ok("simulation:\n  duration: 1 ms\n  partitions: 1024\n  threads: 1024\n" POPS);
    ck_assert_uint_eq(s->sim.partitions, 1024);
    apical_spec_free(s);
    /* a state recorder's frame has at most 2^32 - 1 values (32-bit columns) */
    EXPECT_ERR(ONE_POP("4294967295") "recorders:\n"
                                     "  - {type: state, population: a, variables: [V_m, g_exc], "
                                     "interval: 1 ms}\n",
               APICAL_E_RANGE, 6, 45, "8589934590 values", "4294967295");
    /* weights sample: 32-bit columns too */
    EXPECT_ERR(PROJ_HEAD "    connectivity: all_to_all\n    receptor: exc\n    weight: 1 nS\n"
                         "    delay: 1 ms\n"
                         "recorders:\n  - {type: weights, projection: exc->inh, interval: 1 ms, "
                         "sample: 4294967296}\n",
               APICAL_E_RANGE, 18, 67, "sample", "4294967295");
    /* synapses of one partition are indexed with 32 bits: all_to_all of
     * 70000 x 70000 = 4.9e9 in one partition is refused at the rule, and
     * fits in two */
    static const char big[] =
        "simulation: {duration: 1 ms, partitions: %d}\n"
        "populations:\n"
        "  a: {size: 70000, model: lif_cond_exp}\n"
        "projections:\n"
        "  - {source: a, target: a, connectivity: all_to_all, receptor: exc, weight: 1 nS,\n"
        "     delay: 1 ms}\n";
    char text[512];
    snprintf(text, sizeof text, big, 1);
    EXPECT_ERR(text, APICAL_E_RANGE, 5, 42, "4900000000 synapses", "partitions");
    snprintf(text, sizeof text, big, 2);
    s = load_ok(text);
    apical_spec_free(s);
}
END_TEST

/* More populations than a synapse's 16-bit population index can name. */
START_TEST(test_population_count_limit)
{
    size_t n = 65537, cap = 64 + n * 48;
    char *text = malloc(cap), *p = text;
    ck_assert_ptr_nonnull(text);
    p += sprintf(p, "simulation: {duration: 1 ms}\npopulations:\n");
    for (size_t i = 0; i < n; i++)
        p += sprintf(p, "  p%zu: {size: 1, model: lif_cond_exp}\n", i);
    EXPECT_ERR(text, APICAL_E_RANGE, 65539, 3, "population 65537", "at most 65536");
    /* duplicates in a mapping this large are found when it ends, by
     * sorting; the first one in file order is reported */
    p = text + sprintf(text, "simulation: {duration: 1 ms}\npopulations:\n");
    for (size_t i = 0; i < 200; i++)
        p += sprintf(p, "  p%zu: {size: 1, model: lif_cond_exp}\n", i == 150 ? 70 : i == 120 ? 99 : i);
    EXPECT_ERR(text, APICAL_E_SYNTAX, 123, 3, "duplicate key 'p99'", "line 102, column 3");
    free(text);
}
END_TEST

START_TEST(test_time_limits)
{
    /* delays: 1e300 ms overflowed the recorder buffer size in the build,
     * 1e-300 ms made windows that do not advance time */
    EXPECT_ERR(PROJ_HEAD "    connectivity: all_to_all\n    receptor: exc\n    weight: 1 nS\n"
                         "    delay: 1e300 ms\n",
               APICAL_E_RANGE, 16, 12, "delay must be in [1e-06, 1e+09] ms", "got 1e+300 ms");
    EXPECT_ERR(PROJ_HEAD "    connectivity: all_to_all\n    receptor: exc\n    weight: 1 nS\n"
                         "    delay: 1e-300 ms\n",
               APICAL_E_RANGE, 16, 12, "delay must be in [1e-06, 1e+09] ms", NULL);
    EXPECT_ERR(PROJ_HEAD "    connectivity: all_to_all\n    receptor: exc\n    weight: 1 nS\n"
                         "    delay: {uniform: {low: 1 ms, high: 1e300 ms}}\n",
               APICAL_E_RANGE, 16, 40, "high of delay must be in [1e-06, 1e+09] ms", NULL);
    /* the duration: windows of the smallest delay must still advance time */
    EXPECT_ERR("simulation:\n  duration: 1e10 ms\n" POPS, APICAL_E_RANGE, 2, 13,
               "duration must be in (0, 1e+09] ms", NULL);
    /* sampling intervals and OU steps */
    EXPECT_ERR(HEAD "recorders:\n  - {type: state, population: exc, variables: [V_m], "
                    "interval: 1e-300 ms}\n",
               APICAL_E_RANGE, 11, 64, "interval must be in [1e-06, 1e+09] ms", NULL);
    EXPECT_ERR(HEAD "inputs:\n  - {type: ou_current, target: exc, mean: 0 pA, sd: 1 pA, "
                    "tau: 1 ms, dt: 1e-300 ms}\n",
               APICAL_E_RANGE, 11, 74, "dt must be in [1e-06, 1e+09] ms", NULL);
    /* rates: 1e300 Hz livelocked a window */
    EXPECT_ERR(HEAD "inputs:\n  - {type: poisson, target: inh, rate: 1e300 Hz, receptor: exc, "
                    "weight: 1 nS}\n",
               APICAL_E_RANGE, 11, 40, "rate must be in [0, 1e+06] Hz", "got 1e+300 Hz");
    EXPECT_ERR(HEAD "inputs:\n  - {type: inhomogeneous_poisson, target: inh, times: [0 ms], "
                    "rates: [1e7 Hz], receptor: exc, weight: 1 nS}\n",
               APICAL_E_RANGE, 11, 71, "rate must be in [0, 1e+06] Hz", NULL);
    EXPECT_ERR(HEAD "inputs:\n  - {type: sinusoidal_current, target: inh, amplitude: 1 pA, "
                    "frequency: 1e300 Hz}\n",
               APICAL_E_RANGE, 11, 73, "frequency must be in [0, 1e+06] Hz", NULL);
    /* the bounds themselves are accepted */
    apical_net_spec *s = load_ok(
        "simulation: {duration: 1e9 ms}\n" POPS
        "projections:\n  - {source: exc, target: inh, connectivity: all_to_all, receptor: exc,\n"
        "     weight: 1 nS, delay: {uniform: {low: 1e-6 ms, high: 1e9 ms}}}\n"
        "inputs:\n  - {type: poisson, target: inh, rate: 1000 kHz, receptor: exc, weight: 1 nS}\n");
    apical_spec_free(s);
}
END_TEST

/* The memory estimate: a network that cannot fit is refused at its
 * costliest item, with the estimate and the memory available. */
START_TEST(test_memory_estimate)
{
    apical_net_spec *s = load_ok("simulation: {duration: 100 ms, partitions: 4}\n"
                                 "populations:\n"
                                 "  a: {size: 100000, model: lif_cond_exp}\n"
                                 "projections:\n"
                                 "  - {source: a, target: a, connectivity: all_to_all, "
                                 "receptor: exc,\n"
                                 "     weight: 1 nS, delay: 1 ms}\n");
    apical_mem_estimate e;
    apical_spec_memory(s, &e);
    /* 1e10 synapses of at least 19 bytes */
    ck_assert_msg(e.total > 19e10 && e.total < 2e12, "estimate %g", e.total);
    ck_assert_str_eq(e.what, "projection");
    apical_error err;
    memset(&err, 0, sizeof err);
    ck_assert_int_eq(apical_spec_check_memory(s, 16.0 * 1073741824.0, &err), APICAL_E_TOO_LARGE);
    ck_assert_int_eq(err.pos.line, 5);
    ck_assert_int_eq(err.pos.col, 5);
    char buf[2048];
    apical_error_format(&err, buf, sizeof buf);
    has_words(buf, "needs ~", "16 GiB available");
    has_words(buf, "projection 'a->a'", "1e+10 synapses");
    ck_assert_int_eq(apical_exit_code(err.code), 2);
    ck_assert_int_eq(apical_spec_check_memory(s, 1e15, &err), APICAL_OK);
    ck_assert_int_eq(apical_spec_check_memory(s, 0, &err), APICAL_OK); /* unknown: no check */
    apical_spec_free(s);

    /* the largest populations: counts far beyond 2^64 stay ordered */
    s = load_ok("simulation: {duration: 100 ms, partitions: 1024}\n"
                "populations:\n"
                "  a: {size: 4294967295, model: lif_cond_exp}\n"
                "  b: {size: 4294967295, model: lif_cond_exp}\n"
                "projections:\n"
                "  - {source: a, target: b, connectivity: {rule: bernoulli, p: 1e-12},\n"
                "     receptor: exc, weight: 1 nS, delay: 1 ms}\n"
                "recorders:\n"
                "  - {type: state, population: a, variables: [V_m], interval: 1e-6 ms}\n");
    apical_spec_memory(s, &e);
    ck_assert_msg(e.total > 1e15 && isfinite(e.total), "estimate %g", e.total);
    ck_assert_int_eq(apical_spec_check_memory(s, 1e12, &err), APICAL_E_TOO_LARGE);
    /* the recorder's frames per window: 1 ms / 1e-6 ms x 2^32 values */
    ck_assert_str_eq(e.what, "recorder");
    ck_assert_int_eq(err.pos.line, 9);
    apical_spec_free(s);

    /* a small network fits in little */
    s = load_ok(HEAD);
    apical_spec_memory(s, &e);
    ck_assert_msg(e.total < 128.0 * 1048576, "estimate %g", e.total);
    apical_spec_free(s);
    ck_assert(apical_memory_available() > 0);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* --set, the error list, item names                                         */

static const char set_net[] =
    "simulation: {duration: 100 ms}\n"                                    /* 1 */
    "populations:\n"                                                      /* 2 */
    "  exc: {size: 10, model: lif_cond_exp, parameters: &p {tau_exc: 5 ms}}\n" /* 3 */
    "  inh: {size: 5, model: lif_cond_exp, parameters: *p}\n"             /* 4 */
    "projections:\n"                                                      /* 5 */
    "  - {source: exc, target: inh, connectivity: all_to_all, receptor: exc,\n"
    "     weight: 1 nS, delay: 1 ms}\n";

/* Load set_net with the given --set items; status, spec, the error. */
static apical_status load_set(const char *const *sets, size_t n, apical_net_spec **spec,
                              char *msg, size_t len)
{
    apical_error e;
    memset(&e, 0, sizeof e);
    const apical_load_opts o = {.sets = sets, .n_sets = n};
    apical_status st = apical_spec_load_string_opts("net.yaml", set_net, &o, spec, &e);
    apical_error_format(&e, msg, len);
    return st;
}

START_TEST(test_set)
{
    apical_net_spec *s = NULL;
    char msg[2048];
    /* a mapping key, a list item, a new key; applied in order */
    const char *ok[] = {"populations.exc.parameters.tau_exc=2 ms", "projections[0].weight=7nS",
                        "simulation.seed=3", "simulation.seed=4",
                        "populations.inh.initial={V_m: {uniform: {low: -70 mV, high: -60 mV}}}"};
    ck_assert_int_eq(load_set(ok, 5, &s, msg, sizeof msg), APICAL_OK);
    const apical_model_type *m = s->pops[0].model;
    size_t k = apical_field_index(m->params, m->n_params, "tau_exc");
    CK_CLOSE(s->pops[0].param[k], 2.0);
    CK_CLOSE(s->pops[1].param[k], 5.0); /* the alias elsewhere is unchanged */
    CK_CLOSE(s->projs[0].weight.a, 7.0);
    ck_assert_uint_eq(s->sim.seed, 4);
    ck_assert_int_eq(s->pops[1].init[0].kind, APICAL_DIST_UNIFORM);
    ck_assert_ptr_nonnull(strstr(s->text, "tau_exc: 5 ms")); /* the text is the file's */
    apical_spec_free(s);

    /* a value is checked as in the file: unit, bounds, keys */
    const char *unit[] = {"populations.exc.parameters.tau_exc=5 mV"};
    ck_assert_int_eq(load_set(unit, 1, &s, msg, sizeof msg), APICAL_E_UNIT);
    ck_assert_ptr_null(s);
    has_words(msg, "apical: error: --set 'populations.exc.parameters.tau_exc=5 mV': tau_exc",
              "a time");
    const char *range[] = {"projections[0].weight=-1 nS"};
    ck_assert_int_eq(load_set(range, 1, &s, msg, sizeof msg), APICAL_E_RANGE);
    has_words(msg, "--set 'projections[0].weight=-1 nS'", "in [0, 1e+09] nS");
    const char *key[] = {"simulation.bogus=1"};
    ck_assert_int_eq(load_set(key, 1, &s, msg, sizeof msg), APICAL_E_UNKNOWN_KEY);
    has_words(msg, "--set 'simulation.bogus=1'", "unknown key 'bogus' in simulation");
    const char *lim[] = {"populations.exc.size=5000000000"};
    ck_assert_int_eq(load_set(lim, 1, &s, msg, sizeof msg), APICAL_E_RANGE);
    has_words(msg, "--set", "size must be an integer in [1, ");

    /* paths that do not exist: which part, and what is there */
    const char *miss[] = {"populations.exx.size=3"};
    ck_assert_int_eq(load_set(miss, 1, &s, msg, sizeof msg), APICAL_E_UNKNOWN_KEY);
    has_words(msg, "populations has no key 'exx'", "its keys: exc, inh");
    const char *item[] = {"projections[2].weight=1 nS"};
    ck_assert_int_eq(load_set(item, 1, &s, msg, sizeof msg), APICAL_E_INVALID);
    has_words(msg, "projections has 1 item", "no item [2]");
    const char *kind[] = {"simulation[0]=1"};
    ck_assert_int_eq(load_set(kind, 1, &s, msg, sizeof msg), APICAL_E_INVALID);
    has_words(msg, "simulation is a mapping, not a list", NULL);
    const char *syn[] = {"simulation.seed=[1"};
    ck_assert_int_eq(load_set(syn, 1, &s, msg, sizeof msg), APICAL_E_SYNTAX);
    has_words(msg, "--set 'simulation.seed=[1': the value", "malformed YAML");
}
END_TEST

/* Three independent mistakes in three sections, listed in file order. */
static const char three_bad[] =
    "simulation: {duration: 100 ms}\n"                                     /* 1 */
    "populations:\n"                                                       /* 2 */
    "  exc: {size: 10, model: lif_cond_exp, parameters: {tau_exc: 5 mV}}\n" /* 3 */
    "  inh: {size: 5, model: lif_cond_exp}\n"                              /* 4 */
    "projections:\n"                                                       /* 5 */
    "  - {source: exc, target: inh, connectivity: all_to_all, receptor: exc,\n" /* 6 */
    "     weight: 1 nS, delay: 1 ms}\n"                                    /* 7 */
    "  - {source: inh, target: inh, connectivity: all_to_all, receptor: nope,\n" /* 8 */
    "     weight: 1 nS, delay: 1 ms}\n"                                    /* 9 */
    "inputs:\n"                                                            /* 10 */
    "  - {type: poisson, target: exc, rate: 5 Hz, receptor: exc, weight: 1 nS}\n" /* 11 */
    "recorders:\n"                                                         /* 12 */
    "  - {type: state, population: inh, variables: [V_m], interval: 0 ms}\n"; /* 13 */

START_TEST(test_error_list)
{
    apical_net_spec *s = (apical_net_spec *)&s;
    apical_error e, errs[20];
    size_t n = 0;
    const apical_load_opts o = {.errors = errs, .max_errors = 20, .n_errors = &n};
    apical_status st = apical_spec_load_string_opts("net.yaml", three_bad, &o, &s, &e);
    ck_assert_int_eq(st, APICAL_E_UNIT);
    ck_assert_ptr_null(s);
    /* the projection and the input that name exc follow from its error */
    ck_assert_uint_eq(n, 3);
    ck_assert_int_eq(errs[0].pos.line, 3);
    ck_assert_int_eq(errs[0].pos.col, 62);
    ck_assert_int_eq(errs[0].code, APICAL_E_UNIT);
    ck_assert_int_eq(errs[1].pos.line, 8);
    ck_assert_int_eq(errs[1].code, APICAL_E_UNKNOWN_NAME);
    ck_assert_int_eq(errs[2].pos.line, 13);
    ck_assert_int_eq(errs[2].code, APICAL_E_RANGE);
    char buf[2048];
    apical_error_format(&errs[2], buf, sizeof buf);
    has_words(buf, "net.yaml:13:", "interval");
    /* err is the first one */
    ck_assert_int_eq(e.pos.line, 3);
    ck_assert_str_eq(e.pos.file, "net.yaml");

    /* without a list: the first error, exactly as before */
    EXPECT_ERR(three_bad, APICAL_E_UNIT, 3, 62, "tau_exc", "a time");

    /* a limit: the load stops after max + 1 */
    size_t n2 = 0;
    const apical_load_opts o2 = {.errors = errs, .max_errors = 2, .n_errors = &n2};
    ck_assert_int_ne(apical_spec_load_string_opts("net.yaml", three_bad, &o2, &s, &e), APICAL_OK);
    ck_assert_uint_eq(n2, 3);

    /* errors in sections read in another order than written: file order */
    const char *swapped = "populations:\n  a: {size: 0, model: lif_cond_exp}\n"
                          "simulation: {duration: -1 ms}\n";
    n = 0;
    ck_assert_int_ne(apical_spec_load_string_opts("net.yaml", swapped, &o, &s, &e), APICAL_OK);
    ck_assert_uint_eq(n, 2);
    ck_assert_int_eq(errs[0].pos.line, 2);
    ck_assert_int_eq(errs[1].pos.line, 3);

    /* a syntax error is the only one */
    n = 0;
    ck_assert_int_eq(apical_spec_load_string_opts("net.yaml", "a: [1\n", &o, &s, &e),
                     APICAL_E_SYNTAX);
    ck_assert_uint_eq(n, 1);

    /* --set errors first, and with a list every --set path is checked */
    const char *sets[] = {"simulation.nope.x=1", "projections[5].weight=1 nS"};
    const apical_load_opts o3 = {.sets = sets, .n_sets = 2, .errors = errs, .max_errors = 20,
                                 .n_errors = &n};
    n = 0;
    ck_assert_int_ne(apical_spec_load_string_opts("net.yaml", three_bad, &o3, &s, &e), APICAL_OK);
    ck_assert_uint_eq(n, 2);
    ck_assert_ptr_nonnull(strstr(errs[0].msg, "--set 'simulation.nope.x=1'"));
    ck_assert_ptr_nonnull(strstr(errs[1].msg, "--set 'projections[5]"));
}
END_TEST

/* Errors name inputs and recorders as their default names do: from 0, the
 * index --set paths use (inputs[1] is 'input1'). */
START_TEST(test_item_names)
{
    EXPECT_ERR(HEAD "inputs:\n  - {type: poisson, target: exc, rate: 1 Hz, receptor: exc, "
                    "weight: 1 nS}\n  - {type: poisson, target: exc, receptor: exc, weight: 1 nS}\n",
               APICAL_E_MISSING_KEY, 12, 5, "poisson input 'input1'", "'rate'");
    EXPECT_ERR(HEAD "inputs:\n  - {name: kick, type: dc, target: exc}\n", APICAL_E_MISSING_KEY,
               11, 5, "dc input 'kick'", "'amplitude'");
    EXPECT_ERR(HEAD "recorders:\n  - {type: spikes, population: exc}\n"
                    "  - {type: state, population: exc, interval: 1 ms}\n",
               APICAL_E_MISSING_KEY, 12, 5, "state recorder 'state1'", "'variables'");
    EXPECT_ERR(HEAD "recorders:\n  - {type: spikes, population: exc}\n  - {population: exc}\n",
               APICAL_E_MISSING_KEY, 12, 5, "recorders[1]", "'type'");
    EXPECT_ERR(HEAD "projections:\n  - {source: exc, target: inh}\n", APICAL_E_MISSING_KEY, 11,
               5, "projection 'exc->inh'", "'connectivity'");
    apical_net_spec *s = load_ok(HEAD "inputs:\n  - {type: poisson, target: exc, rate: 1 Hz, "
                                      "receptor: exc, weight: 1 nS}\n"
                                      "  - {type: poisson, target: exc, rate: 1 Hz, "
                                      "receptor: exc, weight: 1 nS}\n"
                                      "recorders:\n  - {type: spikes, population: exc}\n"
                                      "  - {type: spikes, population: inh}\n");
    ck_assert_str_eq(s->inputs[1].name, "input1");
    ck_assert_str_eq(s->recorders[1].name, "spikes1");
    apical_spec_free(s);
}
END_TEST

Suite *loader_suite(void); /* called by the generated runner */

Suite *loader_suite(void)
{
    Suite *s = suite_create("loader");
    TCase *tc = tcase_create("valid");
    tcase_add_test(tc, test_full_network);
    tcase_add_test(tc, test_defaults);
    tcase_add_test(tc, test_yaml_features);
    tcase_add_test(tc, test_real_file);
    suite_add_tcase(s, tc);

    tc = tcase_create("errors");
    tcase_add_test(tc, test_missing_file);
    tcase_add_test(tc, test_empty);
    tcase_add_test(tc, test_null_args);
    tcase_add_test(tc, test_syntax);
    tcase_add_test(tc, test_quiet);
    tcase_add_test(tc, test_duplicate_key);
    tcase_add_test(tc, test_hostile_text);
    tcase_add_test(tc, test_alias_bomb);
    tcase_add_test(tc, test_load_interrupted);
    tcase_add_test(tc, test_unknown_keys);
    tcase_add_test(tc, test_missing_keys);
    tcase_add_test(tc, test_set);
    tcase_add_test(tc, test_error_list);
    tcase_add_test(tc, test_item_names);
    tcase_add_test(tc, test_wrong_types);
    tcase_add_test(tc, test_integers);
    tcase_add_test(tc, test_unknown_model);
    tcase_add_test(tc, test_unknown_receptor);
    tcase_add_test(tc, test_unknown_field_names);
    tcase_add_test(tc, test_undefined_population);
    tcase_add_test(tc, test_names);
    tcase_add_test(tc, test_wrong_unit);
    tcase_add_test(tc, test_missing_unit);
    tcase_add_test(tc, test_out_of_range);
    tcase_add_test(tc, test_model_check);
    tcase_add_test(tc, test_connectivity_ranges);
    tcase_add_test(tc, test_delay);
    tcase_add_test(tc, test_spike_times_and_nodes);
    tcase_add_test(tc, test_duration);
    tcase_add_test(tc, test_solver);
    suite_add_tcase(s, tc);

    tc = tcase_create("limits");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_size_limits);
    tcase_add_test(tc, test_population_count_limit);
    tcase_add_test(tc, test_time_limits);
    tcase_add_test(tc, test_memory_estimate);
    suite_add_tcase(s, tc);
    return s;
}
