/* The protocol registry: every protocol, listed once. Adding a protocol
 * means writing models/<name>.c and adding one line here. The calls
 * below dispatch through the vtable, but for the opening of a protocol's
 * parse that all protocols share (apical_protocol_parse_open). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apical/protocol.h"

extern const apical_protocol_type apical_segregated_dendrites;
extern const apical_protocol_type apical_node_perturbation;
extern const apical_protocol_type apical_krotov_hopfield;

static const apical_protocol_type *const registry[] = {
    &apical_segregated_dendrites,
    &apical_node_perturbation,
    &apical_krotov_hopfield,
};

size_t apical_protocol_count(void)
{
    return sizeof registry / sizeof registry[0];
}

const apical_protocol_type *apical_protocol_at(size_t i)
{
    return i < apical_protocol_count() ? registry[i] : NULL;
}

const apical_protocol_type *apical_protocol_find(const char *name)
{
    for (size_t i = 0; i < apical_protocol_count(); i++)
        if (strcmp(registry[i]->name, name) == 0)
            return registry[i];
    return NULL;
}

void apical_protocol_names(char *buf, size_t n)
{
    size_t used = 0;
    if (n)
        buf[0] = '\0';
    for (size_t i = 0; i < apical_protocol_count() && used < n; i++) {
        int w = snprintf(buf + used, n - used, "%s%s", i ? ", " : "", registry[i]->name);
        if (w < 0)
            break;
        used += (size_t)w;
    }
}

apical_status apical_protocol_parse_open(apical_ld *ld, const apical_ynode *n,
                                         const char *const *keys, size_t spec_size,
                                         size_t pos_offset, void **spec)
{
    apical_status st;
    if ((st = apical_ld_need_kind(ld, n, APICAL_Y_MAP, "protocol")) != APICAL_OK ||
        (st = apical_ld_check_keys(ld, n, keys, "protocol")) != APICAL_OK)
        return st;
    void *p = calloc(1, spec_size);
    if (!p)
        return apical_ld_oom(ld);
    *spec = p;
    const apical_srcpos pos = apical_ld_pos(ld, n);
    memcpy((char *)p + pos_offset, &pos, sizeof pos);
    return APICAL_OK;
}

struct apical_protocol {
    const apical_protocol_type *type;
    void *rt;
};

static void hook_spikes(void *user, const apical_spike *sp, size_t n)
{
    apical_protocol *p = user;
    p->type->spikes(p->rt, sp, n);
}

static apical_status hook_between(void *user, apical_sim *sim, apical_error *err)
{
    apical_protocol *p = user;
    return p->type->step(p->rt, sim, err);
}

static void hook_during(void *user, unsigned slice, unsigned n_slices)
{
    apical_protocol *p = user;
    p->type->during(p->rt, slice, n_slices);
}

apical_status apical_protocol_new(const apical_net_spec *spec, apical_sim *sim,
                                  apical_protocol **out, apical_error *err)
{
    *out = NULL;
    if (!spec->protocol_type)
        return APICAL_OK;
    apical_protocol *p = calloc(1, sizeof *p);
    if (!p)
        return apical_error_set(err, APICAL_E_NOMEM, NULL, "out of memory");
    p->type = spec->protocol_type;
    apical_status st = p->type->build(spec, sim, &p->rt, err);
    if (st) {
        apical_protocol_free(p);
        return st;
    }
    apical_engine_set_hooks(sim, &(apical_engine_hooks){
                                     .spikes = p->type->spikes ? hook_spikes : NULL,
                                     .between = hook_between,
                                     .during = p->type->during ? hook_during : NULL,
                                     .user = p,
                                 });
    *out = p;
    return APICAL_OK;
}

void apical_protocol_free(apical_protocol *p)
{
    if (!p)
        return;
    p->type->free_rt(p->rt);
    free(p);
}

apical_status apical_protocol_output(apical_protocol *p, apical_h5 *h5, apical_error *err)
{
    return p && p->type->output ? p->type->output(p->rt, h5, err) : APICAL_OK;
}

const apical_protocol_type *apical_protocol_type_of(const apical_protocol *p)
{
    return p ? p->type : NULL;
}

void *apical_protocol_state(apical_protocol *p)
{
    return p ? p->rt : NULL;
}

apical_status apical_protocol_fit(apical_net_spec *spec, apical_error *err)
{
    const apical_protocol_type *t = spec->protocol_type;
    return t && t->fit ? t->fit(spec, err) : APICAL_OK;
}

int apical_protocol_learns(const apical_net_spec *spec, size_t j)
{
    const apical_protocol_type *t = spec->protocol_type;
    return t && t->learns ? t->learns(spec->protocol, j) : 0;
}
