/* dendritic_output: the output-layer neuron of the segregated-dendrite model
 * (Guergiev, Lillicrap & Richards 2017, eLife 6:e22901): a basal dendrite
 * and a soma with teaching conductances, voltages dimensionless.
 *
 *   B = bias + (u_L - u_s)/(tau_L - tau_s)
 *   dC/dt = -g_L C + g_D (B - C) + g_E (E_E - C) + g_I (E_I - C)
 *   dH/dt = lambda_max sigma(C); spike when H reaches theta ~ Exp(1)
 *
 * g_E and g_I are state, constant in the ODE: zero in the forward phase, set
 * by a protocol in the target phase (reference: g_E = one-hot label,
 * g_I = 1 - g_E). Receptors basal and basal_end as in dendritic_hidden. */
#include "dendritic_common.h"

enum { P_G_L, P_G_D, P_E_E, P_E_I, P_TAU_L, P_TAU_S, P_T_TRUNC, P_LAMBDA_MAX, P_T_REF, P__N };
enum { S_C, S_U_L, S_U_S, S_BIAS, S_G_E, S_G_I, S_H, S_THETA, S_INT_C, S_INT_LAMBDA, S__N };
enum { R_BASAL, R_BASAL_END };

static const apical_field param_fields[P__N] = {
    [P_G_L] = {"g_L", "1/ms", 0.1, 0.0, 1e6, "leak conductance (per unit capacitance)"},
    [P_G_D] = {"g_D", "1/ms", 0.6, 0.0, 1e6, "basal dendrite to soma conductance"},
    [P_E_E] = {"E_E", "1", 8.0, -1e6, 1e6, "excitatory teaching reversal potential"},
    [P_E_I] = {"E_I", "1", -8.0, -1e6, 1e6, "inhibitory teaching reversal potential"},
    [P_TAU_L] = DEND_FIELD_TAU_L,
    [P_TAU_S] = DEND_FIELD_TAU_S,
    [P_T_TRUNC] = DEND_FIELD_T_TRUNC,
    [P_LAMBDA_MAX] = DEND_FIELD_LAMBDA_MAX,
    [P_T_REF] = DEND_FIELD_T_REF,
};

static const apical_field state_fields[S__N] = {
    [S_C] = {"C", "1", 0.0, -HUGE_VAL, HUGE_VAL, "somatic potential"},
    [S_U_L] = {"u_L", "1", 0.0, -HUGE_VAL, HUGE_VAL, "basal kernel trace, slow (tau_L)"},
    [S_U_S] = {"u_s", "1", 0.0, -HUGE_VAL, HUGE_VAL, "basal kernel trace, fast (tau_s)"},
    [S_BIAS] = {"bias", "1", 0.0, -HUGE_VAL, HUGE_VAL, "basal bias b (constant; learned)"},
    [S_G_E] = {"g_E", "1/ms", 0.0, 0.0, HUGE_VAL, "excitatory teaching conductance (constant)"},
    [S_G_I] = {"g_I", "1/ms", 0.0, 0.0, HUGE_VAL, "inhibitory teaching conductance (constant)"},
    [S_H] = {"H", "1", 0.0, 0.0, HUGE_VAL, "integrated hazard since the last spike (init: 0)"},
    [S_THETA] = {"theta", "1", 1.0, 0.0, HUGE_VAL,
                 "spike threshold of H, Exp(1) (init and each spike: a new draw)"},
    [S_INT_C] = {"int_C", "ms", 0.0, -HUGE_VAL, HUGE_VAL, "integral of C over time"},
    [S_INT_LAMBDA] = {"int_lambda", "1", 0.0, -HUGE_VAL, HUGE_VAL,
                      "integral of the hazard (expected spike count)"},
};

static const char *const receptors[] = {"basal", "basal_end"};

static void derive(const double *p, double *d)
{
    dend_derive_common(p[P_TAU_L], p[P_TAU_S], p[P_T_TRUNC], p[P_LAMBDA_MAX],
                       p[P_G_L] + p[P_G_D], d);
}

static size_t check(const double *p, char *why, size_t n)
{
    return dend_check_taus(p[P_TAU_L], p[P_TAU_S], P_TAU_S, why, n);
}

static int derivs(double t, const double y[], double f[], void *params)
{
    (void)t;
    const apical_model_ctx *c = params;
    const double *p = c->param, *d = c->derived;
    const double B = y[S_BIAS] + dend_psp(y[S_U_L], y[S_U_S], d);
    const double C = y[S_C];
    const double lam = dend_hazard(C, c, NULL);
    f[S_C] = -p[P_G_L] * C + p[P_G_D] * (B - C) + y[S_G_E] * (p[P_E_E] - C) +
             y[S_G_I] * (p[P_E_I] - C);
    f[S_U_L] = -y[S_U_L] * d[DEND_D_INV_TAU_L];
    f[S_U_S] = -y[S_U_S] * d[DEND_D_INV_TAU_S];
    f[S_BIAS] = f[S_G_E] = f[S_G_I] = f[S_THETA] = 0.0;
    f[S_H] = lam;
    f[S_INT_C] = C;
    f[S_INT_LAMBDA] = lam;
    return isfinite(f[S_C]) ? GSL_SUCCESS : GSL_EBADFUNC;
}

static int jacobian(double t, const double y[], double *J, double dfdt[], void *params)
{
    (void)t;
    const apical_model_ctx *c = params;
    const double *p = c->param, *d = c->derived;
    const size_t n = S__N;
    for (size_t k = 0; k < n * n; k++)
        J[k] = 0.0;
    for (size_t k = 0; k < n; k++)
        dfdt[k] = 0.0;
    double dh;
    dend_hazard(y[S_C], c, &dh);
    const double k = d[DEND_D_INV_DTAU];
    double *r = J + S_C * n;
    r[S_C] = -(d[DEND_D_G_TOT] + y[S_G_E] + y[S_G_I]);
    r[S_U_L] = p[P_G_D] * k;
    r[S_U_S] = -p[P_G_D] * k;
    r[S_BIAS] = p[P_G_D];
    r[S_G_E] = p[P_E_E] - y[S_C];
    r[S_G_I] = p[P_E_I] - y[S_C];
    J[S_U_L * n + S_U_L] = -d[DEND_D_INV_TAU_L];
    J[S_U_S * n + S_U_S] = -d[DEND_D_INV_TAU_S];
    J[S_H * n + S_C] = dh;
    J[S_INT_C * n + S_C] = 1.0;
    J[S_INT_LAMBDA * n + S_C] = dh;
    return GSL_SUCCESS;
}

static double spike_distance(const double y[], const apical_model_ctx *c)
{
    (void)c;
    return dend_spike_distance(y, S_H);
}

static void reset(double y[], const apical_model_ctx *c)
{
    dend_new_threshold(y, S_H, c);
}

static void init(double y[], const apical_model_ctx *c)
{
    dend_new_threshold(y, S_H, c);
}

static double refractory_period(const apical_model_ctx *c)
{
    return c->param[P_T_REF];
}

static void receive(double y[], size_t receptor, double w, const apical_model_ctx *c)
{
    if (receptor == R_BASAL)
        dend_kernel_start(&y[S_U_L], &y[S_U_S], w);
    else if (receptor == R_BASAL_END)
        dend_kernel_end(&y[S_U_L], &y[S_U_S], w, c->derived);
}

static double quiet_horizon(const double y[], const apical_model_ctx *c)
{
    return dend_quiet_horizon(y, S_H, c);
}

/* --- exact window integration (dendritic_common.h) ---------------------- */

static double drive(const double y[], const apical_model_ctx *c)
{
    const double *p = c->param;
    return p[P_G_D] * y[S_BIAS] + y[S_G_E] * p[P_E_E] + y[S_G_I] * p[P_E_I];
}

static double exact_rate(const double y[], const apical_model_ctx *c)
{
    return dend_exact_rate(c->derived[DEND_D_G_TOT] + y[S_G_E] + y[S_G_I], c->derived);
}

static void exact_basis(double s, double g, const apical_model_ctx *c, double b[])
{
    dend_exact_basis(s, g, c->derived, b);
}

static void exact_input(size_t receptor, double s, double g, const apical_model_ctx *c,
                        double coef[])
{
    dend_exact_input(0, 1, c->param[P_G_D], receptor == R_BASAL_END, s, g, c->derived, coef);
}

static double exact_soma(const double y0[], const double acc[], const double b[], double g,
                         const apical_model_ctx *c)
{
    (void)g;
    const dend_site st = {S_U_L, S_U_S, c->param[P_G_D]};
    return dend_exact_soma(y0, S_C, acc, &st, 1, drive(y0, c), b, c->derived);
}

static void exact_state(const double y0[], const double acc[], const double b[], double g,
                        const apical_model_ctx *c, double y[])
{
    const dend_site st = {S_U_L, S_U_S, c->param[P_G_D]};
    double psp[1];
    dend_exact_state(y0, S_C, S_INT_C, acc, &st, 1, drive(y0, c), g, b, c->derived, y, psp);
}

/* one vector loop over the neurons (dend_exact_end_n), a clone per
 * instruction set */
__attribute__((target_clones("avx512f", "avx2", "default"))) static int
exact_end_n(size_t n, double *y, double *ys, double *acc, const double b[], double g,
            const apical_model_ctx *c)
{
    const dend_site st = {S_U_L, S_U_S, c->param[P_G_D]};
    const size_t id[3] = {S_BIAS, S_G_E, S_G_I};
    const double kd[3] = {c->param[P_G_D], c->param[P_E_E], c->param[P_E_I]};
    return dend_exact_end_n(n, y, ys, acc, b, g, c->derived, &st, 1, S__N, S_C, S_INT_C, (size_t)-1, 0, id,
                     kd, 3);
}

__attribute__((target_clones("avx512f", "avx2", "default"))) static void
exact_input_n(size_t receptor, size_t m, const double *s, double g, const apical_model_ctx *c,
              double *coef, size_t stride)
{
    dend_exact_input_n(0, 1, c->param[P_G_D], receptor == R_BASAL_END, m, s, g, c->derived, coef,
                       stride);
}

__attribute__((target_clones("avx512f", "avx2", "default"))) static void
exact_hazard_n(size_t m, const double *s, const uint32_t *j, const double *acc, size_t stride,
               const double *ys, size_t n, double g, const apical_model_ctx *c, double *hz)
{
    const dend_site st = {S_U_L, S_U_S, c->param[P_G_D]};
    const size_t id[3] = {S_BIAS, S_G_E, S_G_I};
    const double kd[3] = {c->param[P_G_D], c->param[P_E_E], c->param[P_E_I]};
    dend_exact_hazard_n(m, s, j, acc, stride, ys, n, g, c->derived, &st, 1, S_C, id, kd, 3, hz);
}

static const apical_exact_ops exact_ops = {
    .n_acc = 4, .n_basis = DEND_B__N,
    .rate = exact_rate, .basis = exact_basis, .input = exact_input,
    .soma = exact_soma, .state_at = exact_state,
    .hazard = dend_exact_hazard, .hazard_bound = dend_exact_hazard_bound,
    .growth = dend_exact_growth,
    .int_hazard = S_INT_LAMBDA,
    .state_end_n = exact_end_n,
    .input_n = exact_input_n,
    .hazard_n = exact_hazard_n,
};

const apical_model_type apical_dendritic_output = {
    .name = "dendritic_output",
    .doc = "Segregated-dendrite output neuron (Guergiev et al. 2017): basal dendrite with "
           "a difference-of-exponentials kernel (receptor basal; basal_end truncates), soma "
           "dC/dt = -g_L C + g_D (B - C) + g_E (E_E - C) + g_I (E_I - C) with teaching "
           "conductances g_E, g_I as state; Poisson spiking at lambda_max sigma(C), exact.",
    .n_params = P__N, .params = param_fields,
    .n_state = S__N, .state = state_fields,
    .n_receptors = 2, .receptors = receptors, .weight_unit = "1",
    .n_derived = DEND_D__N, .derive = derive, .check = check,
    .derivs = derivs, .jacobian = jacobian,
    .spike_distance = spike_distance, .reset = reset,
    .refractory_period = refractory_period, .receive = receive,
    .quiet_horizon = quiet_horizon,
    .uses_rng = 1, .init = init,
    .exact = &exact_ops,
    .default_stepper = "rkf45", .default_abs_tol = 1e-7, .default_rel_tol = 1e-7,
};
