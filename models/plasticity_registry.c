/* The plasticity rule registry: every rule, listed once. */
#include <stdio.h>
#include <string.h>

#include "apical/plasticity.h"

extern const apical_plasticity_type apical_stdp;
extern const apical_plasticity_type apical_stdp_nearest;
extern const apical_plasticity_type apical_stdp_triplet;
extern const apical_plasticity_type apical_stdp_triplet_nearest;
extern const apical_plasticity_type apical_oja;

static const apical_plasticity_type *const registry[] = {
    &apical_stdp,
    &apical_stdp_nearest,
    &apical_stdp_triplet,
    &apical_stdp_triplet_nearest,
    &apical_oja,
};

size_t apical_plasticity_count(void)
{
    return sizeof registry / sizeof registry[0];
}

const apical_plasticity_type *apical_plasticity_at(size_t i)
{
    return i < apical_plasticity_count() ? registry[i] : NULL;
}

const apical_plasticity_type *apical_plasticity_find(const char *name)
{
    for (size_t i = 0; i < apical_plasticity_count(); i++)
        if (strcmp(registry[i]->name, name) == 0)
            return registry[i];
    return NULL;
}

void apical_plasticity_names(char *buf, size_t n)
{
    size_t used = 0;
    if (n)
        buf[0] = '\0';
    for (size_t i = 0; i < apical_plasticity_count() && used < n; i++) {
        int w = snprintf(buf + used, n - used, "%s%s", i ? ", " : "", registry[i]->name);
        if (w < 0)
            break;
        used += (size_t)w;
    }
}
