/* apical command-line front end: the only place that prints errors and
 * chooses exit codes (0 ok, 1 runtime failure, 2 bad input). */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "apical/comm.h"
#include "apical/error.h"
#include "apical/h5out.h"
#include "apical/limits.h"
#include "apical/paths.h"
#include "apical/model.h"
#include "apical/protocol.h"
#include "apical/plasticity.h"
#include "apical/sim.h"
#include "apical/spec.h"
#include "apical/units.h"
#include "comm_mpi.h"

#ifndef APICAL_VERSION
#define APICAL_VERSION "0.1.0"
#endif

enum { EXIT_OK = 0, EXIT_RUNTIME = 1, EXIT_USAGE = 2 };

/* `apical check` and `apical run` list at most this many errors of a
 * network file. */
#define MAX_LOAD_ERRORS 20

static const char usage_main[] =
    "usage: apical <command> [options]\n"
    "\n"
    "An event-driven spiking neural network simulator.\n"
    "\n"
    "commands:\n"
    "  run NET.yaml     simulate a network file and write an HDF5 (SONATA) file\n"
    "  check NET.yaml   validate a network file without running it\n"
    "  models [NAME]    list neuron models and plasticity rules with parameters,\n"
    "                   units, defaults, bounds\n"
    "\n"
    "options:\n"
    "  -h, --help       this help; `apical <command> --help` for a command\n"
    "  --version        print the version\n"
    "\n"
    "exit codes: 0 success, 1 runtime failure (solver, I/O during the run,\n"
    "interrupted), 2 bad input (command line, network file, output path).\n"
    "Network file format: docs/network-format.md. Output: docs/output-format.md.\n";

static const char usage_run[] =
    "usage: apical run NET.yaml [-o OUT.h5] [--set PATH=VALUE]... [--seed N]\n"
    "                  [--duration T] [--threads N] [--quiet] [--no-progress]\n"
    "                  [--stats-json FILE] [--save-edges] [--flush-every S]\n"
    "                  [--discard-partial]\n"
    "\n"
    "Simulate NET.yaml and write spikes, state traces and provenance to OUT.h5\n"
    "(default: the network file's name with .h5, in the current directory).\n"
    "While running, the file is OUT.h5.part, written live (HDF5 SWMR: h5py\n"
    "with swmr=True, silx and h5web can read it as it grows); it is renamed\n"
    "to OUT.h5 only when the run completes. Interrupted (Ctrl-C, SIGTERM),\n"
    "the run flushes and keeps OUT.h5.part (complete = 0, with how far it\n"
    "got in /provenance/t_reached) and exits 1; killed, it leaves the .part\n"
    "as of its last flush.\n"
    "\n"
    "  -o, --output OUT.h5   output file\n"
    "  --set PATH=VALUE      change one value of the network file before it is\n"
    "                        read, checked as if the file held it (repeatable,\n"
    "                        applied in order): PATH is keys joined by '.', [N]\n"
    "                        for item N (from 0) of a list, e.g.\n"
    "                        --set populations.exc.parameters.tau_exc=5ms\n"
    "                        --set 'projections[0].weight=7 nS'; the last key\n"
    "                        may be new. VALUE is YAML. Recorded in\n"
    "                        /provenance/set\n"
    "  --seed N              override simulation.seed (unsigned integer)\n"
    "  --duration T          override simulation.duration: a time such as\n"
    "                        '500 ms' or '2 s' (a bare number means ms)\n"
    "  --threads N           worker threads (default: simulation.threads);\n"
    "                        results do not depend on it\n"
    "  --quiet               no progress bar and no summary\n"
    "  --no-progress         no progress bar (the summary is still printed)\n"
    "  --stats-json FILE     also write the run summary as JSON to FILE (- for\n"
    "                        stdout, the summary table then goes to stderr)\n"
    "  --flush-every S       write buffered spikes and frames to the file at\n"
    "                        least every S seconds of wall time (default 1)\n"
    "  --discard-partial     on an interrupt, remove OUT.h5.part instead of\n"
    "                        keeping it\n"
    "  --save-edges          write the final synapses (source, target, weight,\n"
    "                        delay) of every projection to /edges; without it\n"
    "                        only plastic projections are written. A later\n"
    "                        network file loads them with connectivity\n"
    "                        {rule: from_file, path: OUT.h5, edges: NAME}\n"
    "\n"
    "A network file with errors is refused before anything runs, with every\n"
    "error listed as by 'apical check'.\n"
    "\n"
    "On a terminal a progress bar shows simulated time, wall time, ETA and\n"
    "spikes per second. At the end a summary gives spikes and mean rate per\n"
    "population, wall time, simulated/wall ratio and events processed.\n";

static const char usage_check[] =
    "usage: apical check NET.yaml [--set PATH=VALUE]...\n"
    "\n"
    "Parse and validate NET.yaml (syntax, keys, models, units, ranges,\n"
    "references) without building or running it. Prints 'NET.yaml: ok' and a\n"
    "one-line description, or every error (up to 20), one line each as\n"
    "file:line:col: error: message, in file order, then 'N errors'.\n"
    "After an error in one population or list item the next is checked;\n"
    "checks that depend on a failed item are skipped.\n"
    "\n"
    "  --set PATH=VALUE   as for 'apical run': check the file as changed\n";

static const char usage_models[] =
    "usage: apical models [NAME]\n"
    "\n"
    "List the neuron models with their parameters and state variables, and the\n"
    "plasticity rules with their parameters: name, unit, default and allowed\n"
    "range (unit 'w': the projection's weight unit). With NAME, only that model\n"
    "or rule. Rules: docs/plasticity.md.\n";

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* `ranks`, passed down from main: under mpirun the ranks, NULL in one
 * process. Every rank runs the same steps and reaches the same outcome
 * (apical_comm_agree); only rank 0 prints and writes files, so a failure is
 * one message. */
static int is_root(apical_comm *ranks)
{
    return apical_comm_rank(ranks) == 0;
}

static int report(apical_comm *ranks, const apical_error *err)
{
    if (!is_root(ranks))
        return apical_exit_code(err->code);
    char buf[2048];
    apical_error_format(err, buf, sizeof buf);
    fprintf(stderr, "%s\n", buf);
    return apical_exit_code(err->code);
}

/* The errors a load found: every one (one line each, in file order), then
 * "N errors" when there are several, as compilers do. A load that failed otherwise (no file, out
 * of memory, interrupted) has no list: its one error. */
static int report_load(apical_comm *ranks, const apical_error *err, const apical_error *errs, size_t n,
                       size_t max)
{
    if (n == 0 || apical_exit_code(err->code) != 2 || !is_root(ranks))
        return report(ranks, err);
    for (size_t i = 0; i < n && i < max; i++)
        report(ranks, &errs[i]);
    if (n > max)
        fprintf(stderr, "more than %zu errors; the first %zu are shown\n", max, max);
    else if (n > 1) /* one error is its own line, as before lists */
        fprintf(stderr, "%zu errors\n", n);
    return apical_exit_code(err->code);
}

/* A usage error is one line and a hint, as compilers do; the whole help
 * would push the line that matters off the screen. `cmd` names the command
 * whose --help to suggest ("" for apical's own). */
static int usage_error(apical_comm *ranks, const char *cmd, const char *fmt, const char *arg)
{
    if (!is_root(ranks))
        return EXIT_USAGE;
    fprintf(stderr, "apical: error: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\napical: see 'apical %s%s--help'\n", cmd, cmd[0] ? " " : "");
    return EXIT_USAGE;
}

/* "1 population", "2 populations" */
static const char *plural(uint64_t n, const char *one, const char *many)
{
    return n == 1 ? one : many;
}

static int wants_help(int argc, char **argv)
{
    for (int i = 0; i < argc; i++)
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
            return 1;
    return 0;
}

/* --- models ----------------------------------------------------------- */

static void print_range(const apical_field *f)
{
    if (isinf(f->lo) && isinf(f->hi))
        printf("%-14s", "any");
    else {
        char buf[64];
        snprintf(buf, sizeof buf, "[%g, %g]", f->lo, f->hi);
        printf("%-14s", buf);
    }
}

static void print_fields(const char *title, const apical_field *fs, size_t n)
{
    printf("  %s:\n", title);
    for (size_t i = 0; i < n; i++) {
        printf("    %-12s %-6s default %-9g range ", fs[i].name, fs[i].unit, fs[i].def);
        print_range(&fs[i]);
        printf(" %s\n", fs[i].doc);
    }
}

static int cmd_models(int argc, char **argv)
{
    if (wants_help(argc, argv)) {
        fputs(usage_models, stdout);
        return EXIT_OK;
    }
    if (argc > 1)
        return usage_error(NULL, "models", "unexpected argument '%s'", argv[1]);
    const char *only = argc == 1 ? argv[0] : NULL;
    if (only && !apical_model_find(only) && !apical_plasticity_find(only)) {
        char names[512], rules[512];
        apical_model_names(names, sizeof names);
        apical_plasticity_names(rules, sizeof rules);
        fprintf(stderr, "apical: error: unknown model '%s' (models: %s; plasticity rules: %s)\n",
                only, names, rules);
        return EXIT_USAGE;
    }
    for (size_t i = 0; i < apical_model_count(); i++) {
        const apical_model_type *m = apical_model_at(i);
        if (only && strcmp(only, m->name))
            continue;
        printf("%s\n  %s\n", m->name, m->doc);
        print_fields("parameters", m->params, m->n_params);
        print_fields("state (default initial value)", m->state, m->n_state);
        printf("  receptors:");
        for (size_t r = 0; r < m->n_receptors; r++)
            printf(" %s", m->receptors[r]);
        printf(" (weights in %s)\n", m->weight_unit);
        printf("  solver default: %s, abs_tol %g, rel_tol %g%s%s\n\n", m->default_stepper,
               m->default_abs_tol, m->default_rel_tol,
               m->jacobian ? "; Jacobian provided (implicit steppers allowed)" : "",
               m->exact ? "; closed form available (stepper exact)" : "");
    }
    for (size_t i = 0; i < apical_plasticity_count(); i++) {
        const apical_plasticity_type *r = apical_plasticity_at(i);
        if (only && strcmp(only, r->name))
            continue;
        printf("%s (plasticity rule)\n  %s\n", r->name, r->doc);
        print_fields("parameters", r->params, r->n_params);
        printf("\n");
    }
    return EXIT_OK;
}

/* --- memory ----------------------------------------------------------- */

/* The memory budget: APICAL_MEMORY (bytes, or with K, M, G, T: binary
 * multiples, "iB"/"B" optional; e.g. 512M, 2GiB) when set, so a user can
 * raise or lower it and tests can pin it; else what the machine and the
 * cgroup leave this process. Returns -1 for a malformed APICAL_MEMORY. */
static double memory_budget(void)
{
    const char *s = getenv("APICAL_MEMORY");
    if (!s || !*s)
        return apical_memory_available();
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno || !(v > 0) || !isfinite(v))
        return -1.0;
    static const char units[] = "KMGT";
    const char *u = *end ? strchr(units, *end) : NULL;
    if (*end && !u)
        return -1.0;
    if (u) {
        v *= pow(1024.0, (double)(u - units + 1));
        end++;
        if (!strcmp(end, "iB") || !strcmp(end, "B"))
            end += strlen(end);
    }
    return *end ? -1.0 : v;
}

/* Refuse a network that would not fit, before anything is allocated for
 * it. */
static int check_memory(apical_comm *ranks, const apical_net_spec *spec, apical_error *err)
{
    double budget = memory_budget();
    if (budget < 0) {
        apical_error_set(err, APICAL_E_INVALID, NULL,
                         "APICAL_MEMORY must be a number of bytes such as 2G or 512MiB, got '%s'",
                         getenv("APICAL_MEMORY"));
        return 1;
    }
    /* Ranks: each holds about 1/R of the network, and the ranks on one
     * machine (Open MPI's OMPI_COMM_WORLD_LOCAL_SIZE) share its memory, so
     * the whole network may need up to R / local ranks times this
     * machine's memory. */
    const int R = apical_comm_size(ranks);
    const char *ls = getenv("OMPI_COMM_WORLD_LOCAL_SIZE");
    const int local = ls && atoi(ls) > 0 && atoi(ls) <= R ? atoi(ls) : R;
    if (R > 1 && budget > 0)
        budget *= (double)R / (double)local;
    return apical_spec_check_memory(spec, budget, err) != APICAL_OK;
}

/* Set by SIGINT and SIGTERM; every long loop of loading, building and
 * running polls it (passed down as a pointer: the library keeps no global
 * state). A second signal ends the process at once, with the default
 * action, for a loop that does not poll. */
static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    if (interrupted) {
        signal(sig, SIG_DFL);
        raise(sig);
        return;
    }
    interrupted = sig;
}

/* Without SA_RESTART, so that a blocking read returns EINTR instead of
 * resuming. */
static void catch_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/* --- check ------------------------------------------------------------ */

static int cmd_check(int argc, char **argv)
{
    if (wants_help(argc, argv)) {
        fputs(usage_check, stdout);
        return EXIT_OK;
    }
    const char *net = NULL;
    const char **sets = calloc((size_t)argc + 1, sizeof *sets);
    size_t n_sets = 0;
    if (!sets)
        return report(NULL, &(apical_error){.code = APICAL_E_NOMEM, .msg = "out of memory"});
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        int rc = EXIT_OK;
        if (!strcmp(a, "--set")) {
            if (i + 1 >= argc)
                rc = usage_error(NULL, "check", "option '%s' needs a value", a);
            else if (!strchr(argv[i + 1], '=') || argv[i + 1][0] == '=')
                rc = usage_error(NULL, "check", "--set needs PATH=VALUE, got '%s'", argv[i + 1]);
            else
                sets[n_sets++] = argv[++i];
        } else if (a[0] == '-' && a[1]) {
            rc = usage_error(NULL, "check", "unknown option '%s'", a);
        } else if (net) {
            rc = usage_error(NULL, "check", "%s", "expected exactly one network file");
        } else {
            net = a;
        }
        if (rc != EXIT_OK) {
            free(sets);
            return rc;
        }
    }
    if (!net) {
        free(sets);
        return usage_error(NULL, "check", "%s", "missing network file");
    }
    apical_net_spec *spec = NULL;
    apical_error err = {0}, errs[MAX_LOAD_ERRORS];
    size_t n_errs = 0;
    catch_signals();
    const apical_load_opts lopts = {.stop = &interrupted, .sets = sets, .n_sets = n_sets,
                                    .errors = errs, .max_errors = MAX_LOAD_ERRORS,
                                    .n_errors = &n_errs};
    apical_status lst = apical_spec_load_opts(net, &lopts, &spec, &err);
    free(sets);
    if (lst)
        return report_load(NULL, &err, errs, n_errs, MAX_LOAD_ERRORS);
    if (check_memory(NULL, spec, &err)) {
        apical_spec_free(spec);
        return report(NULL, &err);
    }
    /* at most 65536 populations of 2^32 - 1 neurons: no wrap */
    uint64_t neurons = 0;
    for (size_t i = 0; i < spec->n_pops; i++)
        neurons += spec->pops[i].size;
    printf("%s: ok: %zu %s (%llu %s), %zu %s, %zu %s, %zu %s, %g ms\n", net, spec->n_pops,
           plural(spec->n_pops, "population", "populations"), (unsigned long long)neurons,
           plural(neurons, "neuron", "neurons"), spec->n_projs,
           plural(spec->n_projs, "projection", "projections"), spec->n_inputs,
           plural(spec->n_inputs, "input", "inputs"), spec->n_recorders,
           plural(spec->n_recorders, "recorder", "recorders"), spec->sim.duration);
    if (!spec->n_recorders)
        fprintf(stderr, "%s: warning: nothing is recorded (no recorders): a run writes only "
                        "provenance and the summary\n", net);
    apical_spec_free(spec);
    return EXIT_OK;
}

/* --- run -------------------------------------------------------------- */

/* Every output, before anything is simulated: a bad path costs nothing but
 * the message, and no output replaces a file the run reads. */
static int check_outputs(const apical_net_spec *spec, const char *out, const char *stats_json,
                         apical_error *err)
{
    const char **inputs = malloc((spec->n_files + 1) * sizeof *inputs);
    if (!inputs) {
        apical_error_set(err, APICAL_E_NOMEM, NULL, "out of memory");
        return 1;
    }
    inputs[0] = spec->path;
    for (size_t i = 0; i < spec->n_files; i++)
        inputs[i + 1] = spec->files[i];
    size_t n = spec->n_files + 1;
    apical_status st = apical_output_check(out, APICAL_OUT_RENAMED, inputs, n, err);
    if (!st && stats_json && strcmp(stats_json, "-")) {
        if (apical_same_output(stats_json, out))
            st = apical_error_set(err, APICAL_E_IO, NULL,
                                  "--stats-json '%s' is the HDF5 output file '%s'", stats_json, out);
        else
            st = apical_output_check(stats_json, 0, inputs, n, err);
    }
    free(inputs);
    return st != APICAL_OK;
}


typedef struct run_ctx {
    apical_h5 *h5;
    const apical_net_spec *spec;
    int *spike_id;  /* per population, -1 = not recorded */
    int *report_id; /* per recorder, -1 = not a state recorder */
    apical_status st;
    apical_error err;
    /* progress */
    int progress;
    double wall0, last_draw, duration;
    const apical_sim *sim;
    /* live file: flushed every flush_every s of wall time, and every 1000
     * ms of simulated time (at most 20 times a wall second) */
    double flush_every, last_flush_wall, last_flush_t;
} run_ctx;

static void on_spike(void *user, size_t pop, uint64_t node, double t)
{
    run_ctx *c = user;
    if (c->st || c->spike_id[pop] < 0)
        return;
    c->st = apical_h5_spikes_append(c->h5, c->spike_id[pop], &t, &node, 1, &c->err);
}

static void on_frame(void *user, size_t rec, double t, const float *values, size_t n)
{
    (void)t;
    (void)n;
    run_ctx *c = user;
    if (c->st || c->report_id[rec] < 0)
        return;
    c->st = apical_h5_report_append(c->h5, c->report_id[rec], values, 1, &c->err);
}

/* The terminal's width (stderr's), else $COLUMNS, else 80. */
static int term_columns(void)
{
    struct winsize ws;
    if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col;
    const char *c = getenv("COLUMNS");
    int n = c ? atoi(c) : 0;
    return n > 0 ? n : 80;
}

/* One line that fits the terminal: a line longer than the terminal wraps,
 * and every \r redraw then scrolls a new line. The parts go in order of
 * importance (simulated time, ETA, wall time, spike rate) and the bar
 * shrinks, then the least important parts go, until it fits. */
static void draw_progress(run_ctx *c, double t, int final)
{
    double now = wall_now();
    if (!final && now - c->last_draw < 0.1)
        return;
    c->last_draw = now;
    double wall = now - c->wall0, frac = c->duration > 0 ? t / c->duration : 1.0;
    double eta = frac > 0 ? wall * (1.0 - frac) / frac : 0.0;
    const apical_run_stats *s = apical_sim_stats(c->sim);
    uint64_t spikes = 0;
    for (size_t i = 0; i < c->spec->n_pops; i++)
        spikes += s->pop_spikes[i];
    char part[4][64];
    snprintf(part[0], sizeof part[0], " %.1f / %.1f ms", t, c->duration);
    snprintf(part[1], sizeof part[1], "  ETA %.1f s", eta);
    snprintf(part[2], sizeof part[2], "  wall %.1f s", wall);
    snprintf(part[3], sizeof part[3], "  %.3g spikes/s", wall > 0 ? (double)spikes / wall : 0.0);
    const int room = term_columns() - 1; /* the last column would wrap on some terminals */
    int n_parts = 4, len = 0;
    for (;;) {
        len = 0;
        for (int k = 0; k < n_parts; k++)
            len += (int)strlen(part[k]);
        if (len + 12 <= room || n_parts == 1) /* a bar of at least 10 */
            break;
        n_parts--;
    }
    int width = room - len - 2;
    width = width > 30 ? 30 : width;
    char line[256];
    int used = 0;
    if (width >= 10) {
        const int filled = (int)(frac * width + 0.5);
        line[used++] = '[';
        for (int i = 0; i < width; i++)
            line[used++] = i < filled ? '#' : '.';
        line[used++] = ']';
    }
    line[used] = '\0';
    for (int k = 0; k < n_parts; k++)
        snprintf(line + strlen(line), sizeof line - strlen(line), "%s", part[k]);
    if ((int)strlen(line) > room)
        line[room > 0 ? room : 0] = '\0';
    /* \033[K clears what a longer previous line left */
    fprintf(stderr, "\r%s\033[K%s", line, final ? "\n" : "");
    fflush(stderr);
}

static void on_window(void *user, double t)
{
    run_ctx *c = user;
    if (c->progress)
        draw_progress(c, t, 0);
    double now = wall_now();
    /* Not at the run's last window: apical_h5_end_swmr flushes right after
     * the run. Flushing here too put the last second's output (deflate of
     * every buffered spike and frame: ~10 ms for COBA's 73 k spikes a
     * second with the cores to itself, 25-28 ms under load, on the main
     * thread while the other threads wait) inside the simulation's wall
     * time, 6% of COBA's on 2 threads (14% under load); Brian2's run timer,
     * which bench.py compares it with, excludes writing results. */
    if (!c->st && t < c->duration &&
        (now - c->last_flush_wall >= c->flush_every ||
                   (t - c->last_flush_t >= 1000.0 && now - c->last_flush_wall >= 0.05))) {
        c->st = apical_h5_flush(c->h5, t, &c->err);
        c->last_flush_wall = now;
        c->last_flush_t = t;
    }
    if (c->st)
        interrupted = interrupted ? interrupted : -1;
}

static apical_status write_provenance(apical_comm *ranks, apical_h5 *h5, const apical_net_spec *spec, int argc,
                                      char **argv, const char *const *sets, size_t n_sets,
                                      apical_error *err)
{
    apical_status st;
    /* the --set items, one a line, in the order applied; network_text
     * stays the file as read */
    size_t len = 1;
    for (size_t k = 0; k < n_sets; k++)
        len += strlen(sets[k]) + 1;
    char *set_text = malloc(len);
    if (!set_text)
        return apical_error_set(err, APICAL_E_NOMEM, NULL, "out of memory");
    set_text[0] = '\0';
    for (size_t k = 0, used = 0; k < n_sets; k++)
        used += (size_t)snprintf(set_text + used, len - used, "%s\n", sets[k]);
    st = apical_h5_provenance_string(h5, "set", set_text, err);
    free(set_text);
    if (st)
        return st;
    char cmd[4096] = "apical run";
    for (int i = 0; i < argc; i++) {
        size_t used = strlen(cmd);
        snprintf(cmd + used, sizeof cmd - used, " %s", argv[i]);
    }
    if ((st = apical_h5_provenance_string(h5, "network_file", spec->path, err)) ||
        (st = apical_h5_provenance_string(h5, "network_text", spec->text, err)) ||
        (st = apical_h5_provenance_string(h5, "network_name", spec->name ? spec->name : "", err)) ||
        (st = apical_h5_provenance_string(h5, "command_line", cmd, err)) ||
        (st = apical_h5_provenance_string(h5, "apical_version", APICAL_VERSION, err)) ||
        (st = apical_h5_provenance_u64(h5, "seed", spec->sim.seed, err)) ||
        (st = apical_h5_provenance_u64(h5, "partitions", spec->sim.partitions, err)) ||
        (st = apical_h5_provenance_double(h5, "duration", spec->sim.duration, "ms", err)))
        return st;
    /* under mpirun: how many ranks (the results are those of one process) */
    if (apical_comm_size(ranks) > 1 &&
        (st = apical_h5_provenance_u64(h5, "ranks", (uint64_t)apical_comm_size(ranks), err)))
        return st;
    /* plasticity/<projection>/rule and one value per rule parameter */
    for (size_t j = 0; j < spec->n_projs; j++) {
        const apical_proj_spec *pj = &spec->projs[j];
        if (!pj->rule)
            continue;
        char key[700];
        snprintf(key, sizeof key, "plasticity/%s/rule", pj->name);
        if ((st = apical_h5_provenance_string(h5, key, pj->rule->name, err)))
            return st;
        for (size_t k = 0; k < pj->rule->n_params; k++) {
            const apical_field *f = &pj->rule->params[k];
            const char *unit = strcmp(f->unit, "w") ? f->unit
                                                    : spec->pops[pj->target].model->weight_unit;
            snprintf(key, sizeof key, "plasticity/%s/%s", pj->name, f->name);
            if ((st = apical_h5_provenance_double(h5, key, pj->rule_param[k], unit, err)))
                return st;
        }
    }
    for (size_t i = 0; i < spec->n_pops; i++) {
        const apical_pop_spec *p = &spec->pops[i];
        const apical_model_type *m = p->model;
        size_t n = m->n_params + 2;
        const char **names = calloc(n, sizeof *names), **units = calloc(n, sizeof *units);
        double *vals = calloc(n, sizeof *vals);
        if (!names || !units || !vals) {
            free(names), free(units), free(vals);
            return apical_error_set(err, APICAL_E_NOMEM, NULL, "out of memory");
        }
        for (size_t k = 0; k < m->n_params; k++) {
            names[k] = m->params[k].name;
            units[k] = m->params[k].unit;
            vals[k] = p->param[k];
        }
        names[m->n_params] = "solver_abs_tol", units[m->n_params] = "1";
        vals[m->n_params] = p->abs_tol;
        names[m->n_params + 1] = "solver_rel_tol", units[m->n_params + 1] = "1";
        vals[m->n_params + 1] = p->rel_tol;
        st = apical_h5_provenance_params(h5, p->name, m->name, names, units, vals, n, err);
        free(names), free(units), free(vals);
        if (st)
            return st;
        char key[256];
        snprintf(key, sizeof key, "solver_%s", p->name);
        if ((st = apical_h5_provenance_string(h5, key, p->stepper, err)))
            return st;
    }
    return APICAL_OK;
}

static int parse_uint(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    if (!*s || *s == '-')
        return -1;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end)
        return -1;
    *out = v;
    return 0;
}

static void default_output(const char *net, char *out, size_t n)
{
    const char *base = strrchr(net, '/');
    base = base ? base + 1 : net;
    size_t len = strlen(base);
    const char *dot = strrchr(base, '.');
    if (dot && (!strcmp(dot, ".yaml") || !strcmp(dot, ".yml")))
        len = (size_t)(dot - base);
    snprintf(out, n, "%.*s.h5", (int)len, base);
}

static void write_stats_json(FILE *f, const apical_net_spec *spec, const apical_run_stats *s,
                             double wall_build, double wall_run, double wall_total)
{
    fprintf(f, "{\n  \"network\": \"%s\",\n", spec->name ? spec->name : "");
    fprintf(f, "  \"duration_ms\": %.17g,\n  \"seed\": %llu,\n", s->t,
            (unsigned long long)spec->sim.seed);
    fprintf(f, "  \"wall_build_s\": %.6f,\n  \"wall_run_s\": %.6f,\n  \"wall_total_s\": %.6f,\n",
            wall_build, wall_run, wall_total);
    fprintf(f, "  \"populations\": {");
    for (size_t i = 0; i < spec->n_pops; i++) {
        const apical_pop_spec *p = &spec->pops[i];
        double rate = s->t > 0 ? (double)s->pop_spikes[i] / ((double)p->size * s->t * 1e-3) : 0;
        fprintf(f, "%s\n    \"%s\": {\"n\": %llu, \"spikes\": %llu, \"rate_hz\": %.6f}", i ? "," : "",
                p->name, (unsigned long long)p->size, (unsigned long long)s->pop_spikes[i], rate);
    }
    fprintf(f, "\n  },\n  \"spikes\": %llu,\n  \"events\": %llu,\n  \"synaptic_events\": %llu,\n",
            (unsigned long long)s->spikes, (unsigned long long)s->events,
            (unsigned long long)s->synaptic_events);
    fprintf(f, "  \"integrations\": %llu,\n  \"gsl_steps\": %llu,\n  \"windows\": %llu,\n",
            (unsigned long long)s->integrations, (unsigned long long)s->steps,
            (unsigned long long)s->windows);
    fprintf(f, "  \"min_delay_ms\": %.17g,\n", s->min_delay);
    fprintf(f, "  \"synapse_bytes\": %llu,\n", (unsigned long long)s->synapse_bytes);
    /* the first population that integrates anything (relays do not) */
    const apical_pop_spec *p0 = NULL;
    for (size_t i = 0; i < spec->n_pops && !p0; i++)
        if (!spec->pops[i].model->relay_receptor)
            p0 = &spec->pops[i];
    fprintf(f, "  \"stepper\": \"%s\",\n  \"abs_tol\": %g,\n  \"rel_tol\": %g\n}\n",
            p0 ? p0->stepper : "", p0 ? p0->abs_tol : 0.0, p0 ? p0->rel_tol : 0.0);
}

static void print_summary(apical_comm *ranks, FILE *f, const apical_net_spec *spec, const apical_run_stats *s, double wall_build,
                          double wall_run, const char *out)
{
    double wall = wall_build + wall_run;
    fprintf(f, "apical: %s: %.1f ms simulated in %.3f s wall (build %.3f s, run %.3f s; "
           "%.3gx real time)\n",
           spec->name ? spec->name : spec->path, s->t, wall, wall_build, wall_run,
           wall_run > 0 ? s->t * 1e-3 / wall_run : 0.0);
    fprintf(f, "  %-16s %10s %12s %10s\n", "population", "neurons", "spikes", "rate (Hz)");
    for (size_t i = 0; i < spec->n_pops; i++) {
        const apical_pop_spec *p = &spec->pops[i];
        double rate = s->t > 0 ? (double)s->pop_spikes[i] / ((double)p->size * s->t * 1e-3) : 0;
        fprintf(f, "  %-16s %10llu %12llu %10.3f\n", p->name, (unsigned long long)p->size,
               (unsigned long long)s->pop_spikes[i], rate);
    }
    fprintf(f, "  events: %llu queued, %llu synaptic (%.3g per wall second); %llu integrations, "
           "%llu GSL steps\n",
           (unsigned long long)s->events, (unsigned long long)s->synaptic_events,
           wall_run > 0 ? (double)s->synaptic_events / wall_run : 0.0,
           (unsigned long long)s->integrations, (unsigned long long)s->steps);
    /* One solver line per distinct setting, naming the populations using it
     * (relay neurons have no dynamics worth naming). */
    for (size_t i = 0; i < spec->n_pops; i++) {
        const apical_pop_spec *p = &spec->pops[i];
        int seen = p->model->relay_receptor != NULL;
        for (size_t j = 0; j < i && !seen; j++) {
            const apical_pop_spec *q = &spec->pops[j];
            seen = !q->model->relay_receptor && !strcmp(q->stepper, p->stepper) &&
                   q->abs_tol == p->abs_tol && q->rel_tol == p->rel_tol;
        }
        if (seen)
            continue;
        fprintf(f, "  solver: %s, abs_tol %g, rel_tol %g:", p->stepper, p->abs_tol, p->rel_tol);
        for (size_t j = i; j < spec->n_pops; j++) {
            const apical_pop_spec *q = &spec->pops[j];
            if (!q->model->relay_receptor && !strcmp(q->stepper, p->stepper) &&
                q->abs_tol == p->abs_tol && q->rel_tol == p->rel_tol)
                fprintf(f, " %s", q->name);
        }
        fprintf(f, "\n");
    }
    fprintf(f, "  window (min delay): %g ms\n", s->min_delay);
    if (apical_comm_size(ranks) > 1)
        fprintf(f, "  ranks: %d (MPI; each runs its share of the partitions)\n",
                apical_comm_size(ranks));
    fprintf(f, "  output: %s\n", out);
}

/* Ranks: every rank's edges in rank order into rank 0's list (the others'
 * lists are emptied). Each column is gathered separately: rank 0 holds one
 * projection at a time, as a one-process run does. */
static apical_status gather_edges(apical_comm *ranks, apical_h5_edge_list *b, apical_error *err)
{
    void *col[4] = {b->src, b->tgt, b->w, b->d}, *got[4] = {0};
    size_t n_bytes[4] = {0};
    apical_status st = APICAL_OK;
    for (int k = 0; k < 4 && !st; k++)
        st = apical_comm_collect(ranks, 0, col[k], b->n * 8, &got[k], &n_bytes[k], err);
    if (st) {
        for (int k = 0; k < 4; k++)
            free(got[k]);
        return st;
    }
    free(b->src), free(b->tgt), free(b->w), free(b->d);
    b->src = got[0], b->tgt = got[1], b->w = got[2], b->d = got[3];
    b->n = b->cap = n_bytes[0] / 8;
    return APICAL_OK;
}

/* Ranks: counts that each rank has only for its own partitions, summed. */
static apical_status sum_stats(apical_comm *ranks, apical_run_stats *s, apical_error *err)
{
    if (apical_comm_size(ranks) <= 1)
        return APICAL_OK;
    uint64_t v[5] = {s->events, s->synaptic_events, s->integrations, s->steps, s->synapse_bytes};
    if (ranks->ops->allreduce_u64(ranks->impl, v, 5, APICAL_COMM_SUM))
        return apical_error_set(err, APICAL_E_COMM, NULL, "summing run statistics failed");
    s->events = v[0], s->synaptic_events = v[1], s->integrations = v[2], s->steps = v[3];
    s->synapse_bytes = v[4];
    return APICAL_OK;
}

/* /edges/<projection> for every plastic projection and every projection a
 * protocol learns (all with `all`): the weights as they are at the end of
 * the run. */
static apical_status write_edges(apical_comm *ranks, apical_h5 *h5, const apical_sim *sim, const apical_net_spec *spec,
                                 int all, apical_error *err)
{
    apical_status st = APICAL_OK;
    apical_h5_edge_list b = {0};
    char by_protocol[160] = "";
    if (spec->protocol_type)
        snprintf(by_protocol, sizeof by_protocol, "%s protocol", spec->protocol_type->name);
    for (size_t j = 0; j < spec->n_projs && !st; j++) {
        const apical_proj_spec *pj = &spec->projs[j];
        if (!pj->rule && !all && !apical_protocol_learns(spec, j))
            continue;
        b.n = 0;
        if (apical_sim_synapses(sim, j, apical_h5_edge_list_add, &b)) {
            st = apical_error_set(err, APICAL_E_NOMEM, NULL, "out of memory writing edges");
            break;
        }
        if (apical_comm_size(ranks) > 1) {
            /* each rank's partitions in rank order: the one-process order */
            if ((st = gather_edges(ranks, &b, err)))
                break;
            if (!is_root(ranks))
                continue;
        }
        const apical_pop_spec *ps = &spec->pops[pj->source], *pt = &spec->pops[pj->target];
        apical_h5_edges e = {
            .name = pj->name, .src_pop = ps->name, .tgt_pop = pt->name,
            .n_src = ps->size, .n_tgt = pt->size,
            .weight_unit = pt->model->weight_unit,
            .rule = pj->rule ? pj->rule->name
                             : apical_protocol_learns(spec, j) ? by_protocol : NULL,
            .receptor = pt->model->receptors[pj->receptor],
            .n = b.n, .src = b.src, .tgt = b.tgt, .w = b.w, .d = b.d,
        };
        st = apical_h5_edges_write(h5, &e, err);
    }
    apical_h5_edge_list_free(&b);
    return apical_comm_agree(ranks, st, err);
}

/* sets: room for argc items, filled with the --set values */
static int run_network(apical_comm *ranks, int argc, char **argv, const char **sets)
{
    size_t n_sets = 0;
    const char *net = NULL, *out = NULL, *stats_json = NULL, *seed_s = NULL, *dur_s = NULL;
    const char *threads_s = NULL, *flush_s = NULL;
    int quiet = 0, no_progress = 0, save_edges = 0, discard = 0, running = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        const char **val = NULL;
        if (!strcmp(a, "-o") || !strcmp(a, "--output"))
            val = &out;
        else if (!strcmp(a, "--seed"))
            val = &seed_s;
        else if (!strcmp(a, "--duration"))
            val = &dur_s;
        else if (!strcmp(a, "--threads"))
            val = &threads_s;
        else if (!strcmp(a, "--stats-json"))
            val = &stats_json;
        else if (!strcmp(a, "--quiet"))
            quiet = 1;
        else if (!strcmp(a, "--no-progress"))
            no_progress = 1;
        else if (!strcmp(a, "--save-edges"))
            save_edges = 1;
        else if (!strcmp(a, "--discard-partial"))
            discard = 1;
        else if (!strcmp(a, "--flush-every"))
            val = &flush_s;
        else if (!strcmp(a, "--set"))
            val = &sets[n_sets++];
        else if (a[0] == '-' && a[1])
            return usage_error(ranks, "run", "unknown option '%s'", a);
        else if (!net)
            net = a;
        else
            return usage_error(ranks, "run", "unexpected argument '%s'", a);
        if (val) {
            if (i + 1 >= argc)
                return usage_error(ranks, "run", "option '%s' needs a value", a);
            *val = argv[++i];
        }
    }
    if (!net)
        return usage_error(ranks, "run", "%s", "missing network file");
    for (size_t k = 0; k < n_sets; k++)
        if (!strchr(sets[k], '=') || sets[k][0] == '=')
            return usage_error(ranks, "run", "--set needs PATH=VALUE, got '%s'", sets[k]);

    uint64_t seed = 0, threads = 0;
    double duration = 0;
    if (seed_s && parse_uint(seed_s, &seed))
        return usage_error(ranks, "run", "--seed needs an unsigned integer, got '%s'", seed_s);
    if (threads_s && (parse_uint(threads_s, &threads) || threads > APICAL_MAX_THREADS)) {
        char what[64];
        snprintf(what, sizeof what, "--threads needs an integer in [0, %u], got '%%s'",
                 APICAL_MAX_THREADS);
        return usage_error(ranks, "run", what, threads_s);
    }
    double flush_every = 1.0;
    if (flush_s) {
        char *end;
        flush_every = strtod(flush_s, &end);
        if (end == flush_s || *end || !(flush_every >= 0.01) || !(flush_every <= 3600))
            return usage_error(ranks, "run", "--flush-every needs seconds in [0.01, 3600], got '%s'",
                               flush_s);
    }
    if (dur_s) {
        char why[256], *end;
        double v = strtod(dur_s, &end);
        if (end != dur_s && !*end)
            duration = v; /* bare number: ms */
        else if (apical_quantity_parse(dur_s, "ms", &duration, why, sizeof why))
            return usage_error(ranks, "run", "--duration: %s", why);
        if (!(duration > 0) || !(duration <= APICAL_MAX_TIME))
            return usage_error(ranks, "run", "--duration must be a time in (0, 1e9 ms], got '%s'",
                               dur_s);
    }

    /* From here on an interrupt, even during loading or building, ends in
     * an orderly exit 1. */
    catch_signals();
    double wall0 = wall_now();
    apical_error err = {0};
    apical_net_spec *spec = NULL;
    apical_error errs[MAX_LOAD_ERRORS];
    size_t n_errs = 0;
    const apical_load_opts lopts = {.stop = &interrupted, .sets = sets, .n_sets = n_sets,
                                    .errors = errs, .max_errors = MAX_LOAD_ERRORS,
                                    .n_errors = &n_errs};
    /* Every rank parses the file: the same file gives the same errors, and
     * a rank that cannot read it stops them all before anything runs. */
    apical_status lst = apical_spec_load_opts(net, &lopts, &spec, &err);
    if (lst || apical_comm_size(ranks) > 1) {
        apical_error mine = err;
        apical_status ast = apical_comm_agree(ranks, lst, &err);
        if (ast) {
            apical_spec_free(spec);
            if (lst && is_root(ranks))
                return report_load(ranks, &mine, errs, n_errs, MAX_LOAD_ERRORS);
            return report(ranks, &err);
        }
    }
    if (seed_s)
        spec->sim.seed = seed;
    if (dur_s) {
        spec->sim.duration = duration;
        spec->sim.duration_auto = 0;
        spec->sim.duration_pos = (apical_srcpos){0};
    }
    /* a protocol's Wald-distributed phases depend on the seed */
    if ((seed_s || dur_s) && apical_protocol_fit(spec, &err)) {
        apical_spec_free(spec);
        return report(ranks, &err);
    }
    if (apical_comm_agree(ranks, check_memory(ranks, spec, &err) ? err.code : APICAL_OK, &err)) {
        apical_spec_free(spec);
        return report(ranks, &err);
    }
    if (!spec->n_recorders && !quiet && is_root(ranks))
        fprintf(stderr, "apical: warning: %s records nothing (no recorders): the output holds "
                        "only provenance and the summary\n", net);

    char out_buf[4096];
    if (!out) {
        default_output(net, out_buf, sizeof out_buf);
        out = out_buf;
    }
    /* rank 0 writes the one output file */
    if (apical_comm_agree(ranks, is_root(ranks) && check_outputs(spec, out, stats_json, &err)
                                     ? err.code : APICAL_OK, &err)) {
        apical_spec_free(spec);
        return report(ranks, &err);
    }
    int rc = EXIT_OK;
    apical_sim *sim = NULL;
    apical_protocol *proto = NULL;
    apical_h5 *h5 = NULL;
    run_ctx c = {.spec = spec, .wall0 = wall0, .duration = spec->sim.duration,
                 .flush_every = flush_every};
    c.spike_id = calloc(spec->n_pops + 1, sizeof *c.spike_id);
    c.report_id = calloc(spec->n_recorders + 1, sizeof *c.report_id);
    if (!c.spike_id || !c.report_id) {
        apical_error_set(&err, APICAL_E_NOMEM, NULL, "out of memory");
        goto fail;
    }
    if (apical_comm_agree(ranks, is_root(ranks) ? apical_h5_create(out, &h5, &err) : APICAL_OK, &err))
        goto fail;
    c.h5 = h5;
    if (!threads && !spec->sim.threads && apical_comm_size(ranks) > 1) {
        /* automatic threads under mpirun: this machine's cores shared by
         * the ranks on it (workers spin between windows) */
        const char *ls = getenv("OMPI_COMM_WORLD_LOCAL_SIZE");
        const long cores = sysconf(_SC_NPROCESSORS_ONLN), local = ls ? atol(ls) : 0;
        threads = cores > 0 && local > 0 && cores / local > 1 ? (uint64_t)(cores / local) : 1;
    }
    const apical_sim_opts sopts = {.threads = (unsigned)threads, .stop = &interrupted,
                                   .comm = ranks};
    if (apical_sim_new_opts(spec, &sopts, &sim, &err) ||
        apical_protocol_new(spec, sim, &proto, &err))
        goto fail;
    if (!is_root(ranks)) /* the others only simulate (and send rank 0 what it writes) */
        goto setup_done;
    c.sim = sim;
    for (size_t i = 0; i < spec->n_pops; i++)
        c.spike_id[i] = -1;
    for (size_t r = 0; r < spec->n_recorders; r++) {
        const apical_recorder_spec *rs = &spec->recorders[r];
        const apical_pop_spec *p = &spec->pops[rs->pop];
        c.report_id[r] = -1;
        if (rs->kind == APICAL_REC_WEIGHTS) {
            const apical_proj_spec *pj = &spec->projs[rs->proj];
            const uint64_t *src, *tgt;
            size_t n = apical_sim_weight_sample(sim, r, &src, &tgt);
            if (apical_h5_weights_add(h5, pj->name, spec->pops[pj->source].name,
                                      spec->pops[pj->target].name, src, tgt, n,
                                      p->model->weight_unit, 0.0, rs->interval, &c.report_id[r],
                                      &err))
                goto setup_failed;
            continue;
        }
        if (rs->kind == APICAL_REC_SPIKES) {
            if (c.spike_id[rs->pop] < 0 &&
                apical_h5_spikes_add(h5, p->name, p->size, &c.spike_id[rs->pop], &err))
                goto setup_failed;
            continue;
        }
        size_t nn = rs->nodes ? rs->n_nodes : p->size;
        uint64_t *ids = malloc((nn + 1) * sizeof *ids);
        const char **names = malloc((rs->n_vars + 1) * sizeof *names);
        const char **units = malloc((rs->n_vars + 1) * sizeof *units);
        if (!ids || !names || !units) {
            free(ids), free(names), free(units);
            apical_error_set(&err, APICAL_E_NOMEM, NULL, "out of memory");
            goto setup_failed;
        }
        for (size_t k = 0; k < nn; k++)
            ids[k] = rs->nodes ? rs->nodes[k] : k;
        for (size_t v = 0; v < rs->n_vars; v++) {
            names[v] = p->model->state[rs->vars[v]].name;
            units[v] = p->model->state[rs->vars[v]].unit;
        }
        apical_status st = apical_h5_report_add(h5, p->name, ids, nn, names, units, rs->n_vars, 0.0,
                                                rs->interval, &c.report_id[r], &err);
        free(ids), free(names), free(units);
        if (st)
            goto setup_failed;
    }
    if (write_provenance(ranks, h5, spec, argc, argv, sets, n_sets, &err))
        goto setup_failed;

    c.progress = !quiet && !no_progress && isatty(STDERR_FILENO);
    apical_sim_set_observer(sim, &(apical_sim_observer){on_spike, on_frame, on_window, &c});
    if (apical_protocol_output(proto, h5, &err))
        goto setup_failed;
    /* Everything is created: from here on readers may watch the file
     * grow, and a kill leaves what the last flush wrote. */
    if (apical_h5_start_swmr(h5, &err))
        goto setup_failed;
setup_done:
    if (apical_comm_agree(ranks, APICAL_OK, &err))
        goto fail;
    running = 1;
    double wall1 = wall_now();
    c.last_flush_wall = wall1;
    apical_status st = apical_sim_run(sim, spec->sim.duration, &interrupted, &err);
    if (c.st) {
        err = c.err;
        st = c.st;
    }
    /* a write that failed in the last window is rank 0's alone */
    if (apical_comm_agree(ranks, st, &err))
        goto fail;
    double wall2 = wall_now();
    if (apical_comm_agree(ranks, is_root(ranks) ? apical_h5_end_swmr(h5, apical_sim_time(sim), &err)
                                           : APICAL_OK, &err))
        goto fail;
    if (c.progress)
        draw_progress(&c, apical_sim_time(sim), 1);
    apical_run_stats sum = *apical_sim_stats(sim);
    if (sum_stats(ranks, &sum, &err))
        goto fail;
    const apical_run_stats *s = &sum;
    if (write_edges(ranks, h5, sim, spec, save_edges, &err))
        goto fail;
    if (is_root(ranks)) {
        if (apical_h5_provenance_double(h5, "wall_time_build", wall1 - wall0, "s", &err) ||
            apical_h5_provenance_double(h5, "wall_time_run", wall2 - wall1, "s", &err) ||
            apical_h5_provenance_u64(h5, "synaptic_events", s->synaptic_events, &err))
            st = err.code;
        else {
            h5 = NULL; /* finish frees it whatever happens */
            st = apical_h5_finish(c.h5, &err);
        }
    }
    if (apical_comm_agree(ranks, st, &err))
        goto fail;
    if (!is_root(ranks))
        goto done;
    double wall3 = wall_now();
    if (stats_json) {
        const int to_stdout = !strcmp(stats_json, "-");
        FILE *f = to_stdout ? stdout : fopen(stats_json, "w");
        if (!f) {
            apical_error_set(&err, APICAL_E_IO, NULL, "cannot write '%s': %s", stats_json,
                             strerror(errno));
            goto fail;
        }
        write_stats_json(f, spec, s, wall1 - wall0, wall2 - wall1, wall3 - wall0);
        if (to_stdout)
            fflush(f);
        else
            fclose(f);
    }
    /* with --stats-json -, stdout carries the JSON alone */
    if (!quiet)
        print_summary(ranks, stats_json && !strcmp(stats_json, "-") ? stderr : stdout, spec, s,
                      wall1 - wall0, wall2 - wall1, out);
    goto done;
setup_failed: /* rank 0 alone: the others wait at setup_done's agreement */
    apical_comm_agree(ranks, err.code ? err.code : APICAL_E_IO, &err);
fail:
    if (c.progress)
        fputc('\n', stderr);
    if (h5 && running && err.code == APICAL_E_INTERRUPTED && !discard) {
        /* Keep what was simulated: flushed, marked incomplete, still
         * named .part (docs/output-format.md). */
        double t = sim ? apical_sim_time(sim) : 0.0;
        char why[160];
        snprintf(why, sizeof why, "interrupted by %s at %g ms",
                 interrupted == SIGTERM ? "SIGTERM" : "SIGINT", t);
        apical_error e2 = {0};
        if (apical_h5_keep(h5, why, t, &e2) == APICAL_OK) {
            size_t u = strlen(err.msg);
            snprintf(err.msg + u, sizeof err.msg - u,
                     "; the results so far are kept in '%s.part' (complete = 0; "
                     "--discard-partial removes it)",
                     out);
        } else {
            size_t u = strlen(err.msg);
            snprintf(err.msg + u, sizeof err.msg - u, "; and then: %.300s", e2.msg);
        }
        h5 = NULL;
    } else if (h5 && running && err.code == APICAL_E_HDF5) {
        /* A write failed (a full disk): the file as the last flush left it
         * is readable; keep it rather than lose the run. */
        size_t u = strlen(err.msg);
        snprintf(err.msg + u, sizeof err.msg - u,
                 "; the results up to %g ms are kept in '%s.part' (complete = 0)",
                 apical_h5_reached(h5), out);
        apical_h5_leave(h5);
        h5 = NULL;
    }
    rc = report(ranks, &err);
    if (err.code == APICAL_E_INTERRUPTED && h5)
        fprintf(stderr, "apical: no output kept (%s)\n",
                running ? "--discard-partial" : "nothing was simulated yet");
    apical_h5_abort(h5);
done:
    apical_protocol_free(proto);
    apical_sim_free(sim);
    free(c.spike_id);
    free(c.report_id);
    apical_spec_free(spec);
    return rc;
}

static int cmd_run(apical_comm *ranks, int argc, char **argv)
{
    if (wants_help(argc, argv)) {
        fputs(usage_run, stdout);
        return EXIT_OK;
    }
    const char **sets = calloc((size_t)argc + 1, sizeof *sets);
    if (!sets)
        return report(ranks, &(apical_error){.code = APICAL_E_NOMEM, .msg = "out of memory"});
    int rc = run_network(ranks, argc, argv, sets);
    free(sets);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage_main, stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
        fputs(usage_main, stdout);
        return EXIT_OK;
    }
    if (!strcmp(cmd, "--version") || !strcmp(cmd, "version")) {
        printf("apical %s\n", APICAL_VERSION);
        return EXIT_OK;
    }
    if (!strcmp(cmd, "run")) {
        /* under mpirun: one rank of a distributed run (MPI only then, so a
         * plain run, valgrind and sanitizers see no MPI at all) */
        apical_error err = {0};
        apical_comm *ranks = NULL;
        if (apical_comm_mpi_start(NULL, NULL, &ranks, &err))
            return report(ranks, &err);
        int rc = cmd_run(ranks, argc - 2, argv + 2);
        apical_comm_mpi_end(ranks);
        return rc;
    }
    if (!strcmp(cmd, "check"))
        return cmd_check(argc - 2, argv + 2);
    if (!strcmp(cmd, "models"))
        return cmd_models(argc - 2, argv + 2);
    return usage_error(NULL, "", "unknown command '%s'", cmd);
}
