/* The model registry: every neuron model, listed once. Adding a model means
 * writing models/<name>.c and adding one line here. */
#include <stdio.h>
#include <string.h>

#include "apical/model.h"

extern const apical_model_type apical_lif_cond_exp;
extern const apical_model_type apical_lif_curr_exp;
extern const apical_model_type apical_lif_psc_delta;
extern const apical_model_type apical_lif_cond_alpha;
extern const apical_model_type apical_adex_cond_exp;
extern const apical_model_type apical_adex_cond_alpha;
extern const apical_model_type apical_hh_cond_exp_traub;
extern const apical_model_type apical_parrot;
extern const apical_model_type apical_dendritic_hidden;
extern const apical_model_type apical_dendritic_output;
extern const apical_model_type apical_poisson_linear;
extern const apical_model_type apical_hopfield;
extern const apical_model_type apical_rectified_power;

static const apical_model_type *const registry[] = {
    &apical_lif_cond_exp,
    &apical_lif_curr_exp,
    &apical_lif_psc_delta,
    &apical_lif_cond_alpha,
    &apical_adex_cond_exp,
    &apical_adex_cond_alpha,
    &apical_hh_cond_exp_traub,
    &apical_parrot,
    &apical_dendritic_hidden,
    &apical_dendritic_output,
    &apical_poisson_linear,
    &apical_hopfield,
    &apical_rectified_power,
};

size_t apical_model_count(void)
{
    return sizeof registry / sizeof registry[0];
}

const apical_model_type *apical_model_at(size_t i)
{
    return i < apical_model_count() ? registry[i] : NULL;
}

const apical_model_type *apical_model_find(const char *name)
{
    for (size_t i = 0; i < apical_model_count(); i++)
        if (strcmp(registry[i]->name, name) == 0)
            return registry[i];
    return NULL;
}

void apical_model_names(char *buf, size_t n)
{
    size_t used = 0;
    if (n)
        buf[0] = '\0';
    for (size_t i = 0; i < apical_model_count() && used < n; i++) {
        int w = snprintf(buf + used, n - used, "%s%s", i ? ", " : "", registry[i]->name);
        if (w < 0)
            break;
        used += (size_t)w;
    }
}

size_t apical_field_index(const apical_field *fields, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(fields[i].name, name) == 0)
            return i;
    return (size_t)-1;
}

size_t apical_receptor_index(const apical_model_type *m, const char *name)
{
    for (size_t i = 0; i < m->n_receptors; i++)
        if (strcmp(m->receptors[i], name) == 0)
            return i;
    return (size_t)-1;
}
