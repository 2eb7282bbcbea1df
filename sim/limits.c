/* The memory a network needs, estimated from its spec before anything is
 * built, and the memory this process can use. Counts are doubles: a count
 * of 2^32 x 2^32 pairs would wrap a uint64, a double only rounds.
 *
 * Byte counts follow sim/build.c and sim/sim_state.h; keep them in
 * step when those layouts change (the estimate aims at within a factor of
 * two, which is what matters for refusing a network that cannot fit). */
#include "apical/limits.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "apical/rng.h"
#include "apical/spec.h"

/* Per synapse, kept for the run: target index (4), population (2),
 * receptor (1), weight (8), index within its projection (4). */
enum { SYN_BYTES = 19 };
/* A delay group (syn_group, 24) and its FIFO index (1). */
enum { GROUP_BYTES = 25 };
/* While a partition is built every synapse is first a raw_syn (48 bytes),
 * and qsort may take a second copy to merge. */
enum { RAW_BYTES = 96 };
/* Per neuron, whatever the model: t_last, h, ref_until, wake, i_ext. */
enum { NEURON_BYTES = 40 };

static double pop_size(const apical_net_spec *spec, size_t i)
{
    return (double)spec->pops[i].size;
}

/* Expected synapses of one projection, and in the fullest partition:
 * partitions split the target population into ceil(n / partitions)-sized
 * ranges at most. */
double apical_proj_synapses(const apical_net_spec *spec, const apical_proj_spec *pj,
                            double *per_part)
{
    const double ns = pop_size(spec, pj->source), nt = pop_size(spec, pj->target);
    const int no_self = pj->source == pj->target && !pj->autapses;
    const double parts = spec->sim.partitions ? spec->sim.partitions : 1;
    double n = 0.0;
    switch (pj->conn) {
    case APICAL_CONN_ALL_TO_ALL:
        n = ns * nt - (no_self ? nt : 0.0);
        break;
    case APICAL_CONN_ONE_TO_ONE:
        n = nt;
        break;
    case APICAL_CONN_BERNOULLI:
        n = pj->p * (ns * nt - (no_self ? nt : 0.0));
        break;
    case APICAL_CONN_FIXED_INDEGREE:
        n = (double)pj->k * nt;
        break;
    case APICAL_CONN_FIXED_OUTDEGREE:
        n = (double)pj->k * ns;
        break;
    case APICAL_CONN_FROM_FILE:
        n = (double)pj->n_edges;
        if (per_part && pj->edge_ptr) {
            /* exact: the edges are grouped by target */
            const uint64_t t_n = spec->pops[pj->target].size;
            const unsigned P = spec->sim.partitions ? spec->sim.partitions : 1;
            double most = 0.0;
            for (unsigned p = 0; p < P; p++) {
                uint64_t lo = t_n * p / P, hi = t_n * (p + 1) / P;
                most = fmax(most, (double)(pj->edge_ptr[hi + 1] - pj->edge_ptr[lo + 1]));
            }
            *per_part = most;
            return n;
        }
        break;
    }
    if (per_part)
        *per_part = nt > 0 ? n * ceil(nt / parts) / nt : 0.0;
    return n;
}

double apical_proj_memory(const apical_net_spec *spec, const apical_proj_spec *pj)
{
    const double parts = spec->sim.partitions ? spec->sim.partitions : 1;
    double per_part = 0.0;
    double n = apical_proj_synapses(spec, pj, &per_part);
    double per = SYN_BYTES;
    /* a delay drawn per synapse makes (nearly) every synapse a group */
    int drawn = pj->delay.kind != APICAL_DIST_CONSTANT ||
                (pj->conn == APICAL_CONN_FROM_FILE && pj->edge_d);
    if (drawn)
        per += GROUP_BYTES;
    if (pj->rule)
        per += 8.0 * (1.0 + (double)pj->rule->n_pre);
    double bytes = per * n + RAW_BYTES * per_part;
    if (!drawn) /* one group per source and partition */
        bytes += GROUP_BYTES * pop_size(spec, pj->source) * fmin(parts, pop_size(spec, pj->target));
    if (pj->rule) /* a spike archive per target neuron */
        bytes += 32.0 * pop_size(spec, pj->target);
    return bytes;
}

/* The smallest delay the network can have: the window length. */
static double min_delay(const apical_net_spec *spec)
{
    double d = HUGE_VAL;
    for (size_t j = 0; j < spec->n_projs; j++) {
        const apical_proj_spec *pj = &spec->projs[j];
        if (pj->conn == APICAL_CONN_FROM_FILE && pj->edge_d) {
            for (uint64_t k = 0; k < pj->n_edges; k++)
                d = fmin(d, pj->edge_d[k]);
            continue;
        }
        const apical_dist *dl = &pj->delay;
        d = fmin(d, dl->kind == APICAL_DIST_NORMAL ? dl->lo : dl->a);
    }
    if (d == HUGE_VAL)
        d = 1.0;
    return fmin(d, spec->sim.duration);
}

static void add(apical_mem_estimate *e, double bytes, const char *what, const char *name,
                apical_srcpos pos, double synapses)
{
    e->total += bytes;
    if (bytes > e->largest) {
        e->largest = bytes;
        e->what = what;
        e->name = name;
        e->line = pos.line;
        e->col = pos.col;
        e->synapses = synapses;
    }
}

void apical_spec_memory(const apical_net_spec *spec, apical_mem_estimate *e)
{
    memset(e, 0, sizeof *e);
    const double parts = spec->sim.partitions ? spec->sim.partitions : 1;
    const double window = min_delay(spec);
    /* Fixed costs: the code, HDF5, the thread stacks and pool. */
    e->total = 64.0 * 1024 * 1024;
    for (size_t i = 0; i < spec->n_pops; i++) {
        const apical_pop_spec *p = &spec->pops[i];
        const apical_model_type *m = p->model;
        double per = NEURON_BYTES + 8.0 * (double)m->n_state;
        if (m->uses_rng)
            per += sizeof(apical_rng);
        if (m->exact && p->stepper && strcmp(p->stepper, "exact") == 0)
            per += 8.0 * ((double)m->exact->n_acc + 2);
        for (size_t j = 0; j < spec->n_inputs; j++)
            if (spec->inputs[j].target == i && spec->inputs[j].kind == APICAL_INPUT_SINUSOIDAL) {
                per += 24.0;
                break;
            }
        /* every partition has a CSR row pointer per neuron of the network */
        per += 8.0 * parts;
        add(e, per * pop_size(spec, i), "population", p->name, p->pos, 0.0);
    }
    for (size_t j = 0; j < spec->n_projs; j++) {
        const apical_proj_spec *pj = &spec->projs[j];
        double n = apical_proj_synapses(spec, pj, NULL);
        add(e, apical_proj_memory(spec, pj), "projection", pj->name, pj->pos, n);
    }
    for (size_t j = 0; j < spec->n_inputs; j++) {
        const apical_input_spec *in = &spec->inputs[j];
        double nodes = in->nodes ? (double)in->n_nodes : pop_size(spec, in->target);
        /* node id, random stream, value, rate and epoch, a queued event */
        add(e, nodes * (8.0 + sizeof(apical_rng) + 8.0 + 12.0 + 32.0), "input", in->name, in->pos,
            0.0);
    }
    for (size_t r = 0; r < spec->n_recorders; r++) {
        const apical_recorder_spec *rs = &spec->recorders[r];
        if (rs->kind == APICAL_REC_SPIKES) {
            add(e, 1024.0 * 1024, "recorder", rs->name, rs->pos, 0.0); /* HDF5 buffers */
            continue;
        }
        double width, bytes = 0.0;
        if (rs->kind == APICAL_REC_STATE) {
            double nodes = rs->nodes ? (double)rs->n_nodes : pop_size(spec, rs->pop);
            width = nodes * (double)rs->n_vars;
            bytes += nodes * (16.0 + 8.0); /* owned nodes, ids for the writer */
        } else {
            double m = apical_proj_synapses(spec, &spec->projs[rs->proj], NULL);
            width = rs->sample ? fmin((double)rs->sample, m) : m;
            bytes += 25.0 * m + 32.0 * width; /* the sort of all, then the sample */
        }
        /* frames of one window, and the writer's chunk */
        double frames = ceil(window / rs->interval) + 2.0;
        bytes += 4.0 * width * frames + fmax(256.0 * 1024, 4.0 * width);
        add(e, bytes, "recorder", rs->name, rs->pos, 0.0);
    }
}

/* A number of kB from a "Key:   N kB" line of /proc/meminfo, or -1. */
static double meminfo(const char *key)
{
    FILE *f = fopen("/proc/meminfo", "r");
    if (!f)
        return -1.0;
    char line[256];
    double v = -1.0;
    size_t kl = strlen(key);
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, key, kl) && line[kl] == ':') {
            v = strtod(line + kl + 1, NULL) * 1024.0;
            break;
        }
    fclose(f);
    return v;
}

/* The first number in a file, or -1 ("max" and missing files included). */
static double file_number(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1.0;
    char buf[64] = "";
    double v = -1.0;
    if (fgets(buf, sizeof buf, f) && buf[0] >= '0' && buf[0] <= '9')
        v = strtod(buf, NULL);
    fclose(f);
    return v;
}

/* memory.max - memory.current of this process's cgroup (v2), or -1: the OOM
 * killer acts at the cgroup's limit, whatever the machine has free. */
static double cgroup_available(void)
{
    FILE *f = fopen("/proc/self/cgroup", "r");
    if (!f)
        return -1.0;
    char line[512], path[700];
    double v = -1.0;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "0::", 3))
            continue;
        line[strcspn(line, "\n")] = '\0';
        const char *rel = line + 3;
        if (!strcmp(rel, "/"))
            rel = "";
        snprintf(path, sizeof path, "/sys/fs/cgroup%s/memory.max", rel);
        double max = file_number(path);
        snprintf(path, sizeof path, "/sys/fs/cgroup%s/memory.current", rel);
        double cur = file_number(path);
        if (max >= 0 && cur >= 0)
            v = fmax(0.0, max - cur);
        break;
    }
    fclose(f);
    return v;
}

double apical_memory_available(void)
{
    double avail = meminfo("MemAvailable");
    if (avail < 0) {
        long pages = sysconf(_SC_AVPHYS_PAGES), size = sysconf(_SC_PAGESIZE);
        avail = pages > 0 && size > 0 ? (double)pages * (double)size : -1.0;
    }
    double cg = cgroup_available();
    if (cg >= 0 && (avail < 0 || cg < avail))
        avail = cg;
    struct rlimit rl;
    if (getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
        double used = -1.0;
        FILE *f = fopen("/proc/self/statm", "r");
        if (f) {
            unsigned long long pages;
            if (fscanf(f, "%llu", &pages) == 1)
                used = (double)pages * (double)sysconf(_SC_PAGESIZE);
            fclose(f);
        }
        double left = (double)rl.rlim_cur - (used > 0 ? used : 0.0);
        if (avail < 0 || left < avail)
            avail = fmax(0.0, left);
    }
    return avail > 0 ? avail : 0.0;
}

apical_status apical_spec_check_memory(const apical_net_spec *spec, double available,
                                       apical_error *err)
{
    if (!(available > 0))
        return APICAL_OK;
    apical_mem_estimate e;
    apical_spec_memory(spec, &e);
    if (e.total <= available)
        return APICAL_OK;
    const double gib = 1024.0 * 1024.0 * 1024.0;
    char count[64] = "";
    if (e.what && !strcmp(e.what, "projection"))
        snprintf(count, sizeof count, "%.3g synapses, ", e.synapses);
    apical_srcpos pos = {spec->path, e.line, e.col};
    return apical_error_set(err, APICAL_E_TOO_LARGE, e.what ? &pos : NULL,
                            "the network needs ~%.3g GiB, %.3g GiB available; the largest part "
                            "is %s '%s' (%s~%.3g GiB)",
                            e.total / gib, available / gib, e.what ? e.what : "?",
                            e.name ? e.name : "?", count, e.largest / gib);
}
