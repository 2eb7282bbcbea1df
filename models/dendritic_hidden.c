/* dendritic_hidden: the hidden-layer neuron of the segregated-dendrite model
 * (Guergiev, Lillicrap & Richards 2017, eLife 6:e22901): basal and apical
 * dendrites and a soma, voltages dimensionless.
 *
 *   B = bias + (u_L - u_s)/(tau_L - tau_s)          basal potential
 *   A = apical_bias + (v_L - v_s)/(tau_L - tau_s)   apical potential
 *   dC/dt = -g_L C + g_B (B - C) + g_A (A - C)      soma (g_A = 0: segregated)
 *   du_L/dt = -u_L/tau_L, du_s/dt = -u_s/tau_s (likewise v_L, v_s)
 *   dH/dt = lambda_max sigma(C); spike when H reaches theta ~ Exp(1)
 *
 * Receptors: basal and apical start a kernel (dendritic_common.h), basal_end
 * and apical_end end one t_trunc after it started. bias and apical_bias are
 * constant in the ODE: the learning rule and the protocol set them. int_C,
 * int_A and int_lambda integrate C, A and the hazard, so that a protocol
 * gets window averages by differencing. C is not reset at spikes. */
#include "dendritic_common.h"

enum { P_G_L, P_G_B, P_G_A, P_TAU_L, P_TAU_S, P_T_TRUNC, P_LAMBDA_MAX, P_T_REF, P__N };
enum { S_C, S_U_L, S_U_S, S_V_L, S_V_S, S_BIAS, S_ABIAS, S_H, S_THETA, S_INT_C, S_INT_A,
       S_INT_LAMBDA, S__N };
enum { R_BASAL, R_APICAL, R_BASAL_END, R_APICAL_END };

static const apical_field param_fields[P__N] = {
    [P_G_L] = {"g_L", "1/ms", 0.1, 0.0, 1e6, "leak conductance (per unit capacitance)"},
    [P_G_B] = {"g_B", "1/ms", 0.6, 0.0, 1e6, "basal dendrite to soma conductance"},
    [P_G_A] = {"g_A", "1/ms", 0.0, 0.0, 1e6,
               "apical dendrite to soma conductance (0: segregated)"},
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
    [S_V_L] = {"v_L", "1", 0.0, -HUGE_VAL, HUGE_VAL, "apical kernel trace, slow (tau_L)"},
    [S_V_S] = {"v_s", "1", 0.0, -HUGE_VAL, HUGE_VAL, "apical kernel trace, fast (tau_s)"},
    [S_BIAS] = {"bias", "1", 0.0, -HUGE_VAL, HUGE_VAL, "basal bias b (constant; learned)"},
    [S_ABIAS] = {"apical_bias", "1", 0.0, -HUGE_VAL, HUGE_VAL,
                 "constant apical drive (protocols impose plateaus with it)"},
    [S_H] = {"H", "1", 0.0, 0.0, HUGE_VAL, "integrated hazard since the last spike (init: 0)"},
    [S_THETA] = {"theta", "1", 1.0, 0.0, HUGE_VAL,
                 "spike threshold of H, Exp(1) (init and each spike: a new draw)"},
    [S_INT_C] = {"int_C", "ms", 0.0, -HUGE_VAL, HUGE_VAL, "integral of C over time"},
    [S_INT_A] = {"int_A", "ms", 0.0, -HUGE_VAL, HUGE_VAL, "integral of A over time"},
    [S_INT_LAMBDA] = {"int_lambda", "1", 0.0, -HUGE_VAL, HUGE_VAL,
                      "integral of the hazard (expected spike count)"},
};

static const char *const receptors[] = {"basal", "apical", "basal_end", "apical_end"};

static void derive(const double *p, double *d)
{
    dend_derive_common(p[P_TAU_L], p[P_TAU_S], p[P_T_TRUNC], p[P_LAMBDA_MAX],
                       p[P_G_L] + p[P_G_B] + p[P_G_A], d);
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
    const double A = y[S_ABIAS] + dend_psp(y[S_V_L], y[S_V_S], d);
    const double C = y[S_C];
    const double lam = dend_hazard(C, c, NULL);
    f[S_C] = -p[P_G_L] * C + p[P_G_B] * (B - C) + p[P_G_A] * (A - C);
    f[S_U_L] = -y[S_U_L] * d[DEND_D_INV_TAU_L];
    f[S_U_S] = -y[S_U_S] * d[DEND_D_INV_TAU_S];
    f[S_V_L] = -y[S_V_L] * d[DEND_D_INV_TAU_L];
    f[S_V_S] = -y[S_V_S] * d[DEND_D_INV_TAU_S];
    f[S_BIAS] = f[S_ABIAS] = f[S_THETA] = 0.0;
    f[S_H] = lam;
    f[S_INT_C] = C;
    f[S_INT_A] = A;
    f[S_INT_LAMBDA] = lam;
    return isfinite(f[S_C]) && isfinite(f[S_INT_A]) ? GSL_SUCCESS : GSL_EBADFUNC;
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
    r[S_C] = -d[DEND_D_G_TOT];
    r[S_U_L] = p[P_G_B] * k;
    r[S_U_S] = -p[P_G_B] * k;
    r[S_BIAS] = p[P_G_B];
    r[S_V_L] = p[P_G_A] * k;
    r[S_V_S] = -p[P_G_A] * k;
    r[S_ABIAS] = p[P_G_A];
    J[S_U_L * n + S_U_L] = -d[DEND_D_INV_TAU_L];
    J[S_U_S * n + S_U_S] = -d[DEND_D_INV_TAU_S];
    J[S_V_L * n + S_V_L] = -d[DEND_D_INV_TAU_L];
    J[S_V_S * n + S_V_S] = -d[DEND_D_INV_TAU_S];
    J[S_H * n + S_C] = dh;
    J[S_INT_C * n + S_C] = 1.0;
    r = J + S_INT_A * n;
    r[S_V_L] = k;
    r[S_V_S] = -k;
    r[S_ABIAS] = 1.0;
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
    switch (receptor) {
    case R_BASAL:
        dend_kernel_start(&y[S_U_L], &y[S_U_S], w);
        break;
    case R_APICAL:
        dend_kernel_start(&y[S_V_L], &y[S_V_S], w);
        break;
    case R_BASAL_END:
        dend_kernel_end(&y[S_U_L], &y[S_U_S], w, c->derived);
        break;
    case R_APICAL_END:
        dend_kernel_end(&y[S_V_L], &y[S_V_S], w, c->derived);
        break;
    default:
        break;
    }
}

static double quiet_horizon(const double y[], const apical_model_ctx *c)
{
    return dend_quiet_horizon(y, S_H, c);
}

/* --- exact window integration (dendritic_common.h) ---------------------- */

static void sites(const apical_model_ctx *c, dend_site st[2])
{
    st[0] = (dend_site){S_U_L, S_U_S, c->param[P_G_B]};
    st[1] = (dend_site){S_V_L, S_V_S, c->param[P_G_A]};
}

static double drive(const double y[], const apical_model_ctx *c)
{
    return c->param[P_G_B] * y[S_BIAS] + c->param[P_G_A] * y[S_ABIAS];
}

static double exact_rate(const double y[], const apical_model_ctx *c)
{
    (void)y;
    return dend_exact_rate(c->derived[DEND_D_G_TOT], c->derived);
}

static void exact_basis(double s, double g, const apical_model_ctx *c, double b[])
{
    dend_exact_basis(s, g, c->derived, b);
}

static void exact_input(size_t receptor, double s, double g, const apical_model_ctx *c,
                        double coef[])
{
    const size_t site = receptor == R_APICAL || receptor == R_APICAL_END;
    const int end = receptor == R_BASAL_END || receptor == R_APICAL_END;
    dend_exact_input(site, 2, site ? c->param[P_G_A] : c->param[P_G_B], end, s, g, c->derived,
                     coef);
}

static double exact_soma(const double y0[], const double acc[], const double b[], double g,
                         const apical_model_ctx *c)
{
    (void)g;
    dend_site st[2];
    sites(c, st);
    return dend_exact_soma(y0, S_C, acc, st, 2, drive(y0, c), b, c->derived);
}

static void exact_state(const double y0[], const double acc[], const double b[], double g,
                        const apical_model_ctx *c, double y[])
{
    dend_site st[2];
    double psp[2];
    sites(c, st);
    dend_exact_state(y0, S_C, S_INT_C, acc, st, 2, drive(y0, c), g, b, c->derived, y, psp);
    y[S_INT_A] = y0[S_INT_A] + y0[S_ABIAS] * b[DEND_B_S] + psp[1];
}

/* one vector loop over the neurons (dend_exact_end_n), a clone per
 * instruction set */
__attribute__((target_clones("avx512f", "avx2", "default"))) static int
exact_end_n(size_t n, double *y, double *ys, double *acc, const double b[], double g,
            const apical_model_ctx *c)
{
    dend_site st[2];
    sites(c, st);
    const size_t id[2] = {S_BIAS, S_ABIAS};
    const double kd[2] = {c->param[P_G_B], c->param[P_G_A]};
    return dend_exact_end_n(n, y, ys, acc, b, g, c->derived, st, 2, S__N, S_C, S_INT_C, S_INT_A, S_ABIAS,
                     id, kd, 2);
}

__attribute__((target_clones("avx512f", "avx2", "default"))) static void
exact_input_n(size_t receptor, size_t m, const double *s, double g, const apical_model_ctx *c,
              double *coef, size_t stride)
{
    const size_t site = receptor == R_APICAL || receptor == R_APICAL_END;
    const int end = receptor == R_BASAL_END || receptor == R_APICAL_END;
    dend_exact_input_n(site, 2, site ? c->param[P_G_A] : c->param[P_G_B], end, m, s, g,
                       c->derived, coef, stride);
}

__attribute__((target_clones("avx512f", "avx2", "default"))) static void
exact_hazard_n(size_t m, const double *s, const uint32_t *j, const double *acc, size_t stride,
               const double *ys, size_t n, double g, const apical_model_ctx *c, double *hz)
{
    dend_site st[2];
    sites(c, st);
    const size_t id[2] = {S_BIAS, S_ABIAS};
    const double kd[2] = {c->param[P_G_B], c->param[P_G_A]};
    dend_exact_hazard_n(m, s, j, acc, stride, ys, n, g, c->derived, st, 2, S_C, id, kd, 2, hz);
}

static const apical_exact_ops exact_ops = {
    .n_acc = 7, .n_basis = DEND_B__N,
    .rate = exact_rate, .basis = exact_basis, .input = exact_input,
    .soma = exact_soma, .state_at = exact_state,
    .hazard = dend_exact_hazard, .hazard_bound = dend_exact_hazard_bound,
    .growth = dend_exact_growth,
    .int_hazard = S_INT_LAMBDA,
    .state_end_n = exact_end_n,
    .input_n = exact_input_n,
    .hazard_n = exact_hazard_n,
};

const apical_model_type apical_dendritic_hidden = {
    .name = "dendritic_hidden",
    .doc = "Segregated-dendrite hidden neuron (Guergiev et al. 2017): basal and apical "
           "dendrites with difference-of-exponentials kernels (receptors basal, apical; "
           "*_end truncate a kernel), soma dC/dt = -g_L C + g_B (B - C) + g_A (A - C), "
           "dimensionless voltages; Poisson spiking at lambda_max sigma(C), exact "
           "(hazard integrated to an Exp(1) threshold).",
    .n_params = P__N, .params = param_fields,
    .n_state = S__N, .state = state_fields,
    .n_receptors = 4, .receptors = receptors, .weight_unit = "1",
    .n_derived = DEND_D__N, .derive = derive, .check = check,
    .derivs = derivs, .jacobian = jacobian,
    .spike_distance = spike_distance, .reset = reset,
    .refractory_period = refractory_period, .receive = receive,
    .quiet_horizon = quiet_horizon,
    .uses_rng = 1, .init = init,
    .exact = &exact_ops,
    .default_stepper = "rkf45", .default_abs_tol = 1e-7, .default_rel_tol = 1e-7,
};
