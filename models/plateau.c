#include "apical/plateau.h"

#include <math.h>

double apical_sigma(double x)
{
    if (x >= 0.0)
        return 1.0 / (1.0 + exp(-x));
    double e = exp(x);
    return e / (1.0 + e);
}

double apical_sigma_prime(double x)
{
    double s = apical_sigma(x);
    return s * (1.0 - s);
}

/* Integral of kappa from 0 to s (s >= 0). */
static double kappa_integral(double s, double tau_L, double tau_s)
{
    return (tau_L * -expm1(-s / tau_L) - tau_s * -expm1(-s / tau_s)) / (tau_L - tau_s);
}

double apical_psp_window_mean(const double *spike_times, size_t n, double a, double b,
                              double tau_L, double tau_s, double t_trunc)
{
    if (!(b > a))
        return 0.0;
    double sum = 0.0;
    for (size_t k = 0; k < n; k++) {
        double t = spike_times[k];
        if (t >= b)
            continue;
        double hi = fmin(b - t, t_trunc), lo = fmin(fmax(a - t, 0.0), t_trunc);
        if (hi > lo)
            sum += kappa_integral(hi, tau_L, tau_s) - kappa_integral(lo, tau_L, tau_s);
    }
    return sum / (b - a);
}

double apical_plateau_error(double alpha_f, double alpha_t, double cbar_f, double k_B,
                            double lambda_max)
{
    return -(alpha_t - alpha_f) * k_B * lambda_max * apical_sigma_prime(cbar_f);
}

double apical_output_error(double lambdabar_t, double cbar_f, double k_D, double lambda_max)
{
    return -(lambdabar_t - lambda_max * apical_sigma(cbar_f)) * k_D * lambda_max *
           apical_sigma_prime(cbar_f);
}

void apical_plateau_apply(double *w, double *bias, size_t n_post, size_t n_pre, const double *E,
                          const double *psp, double eta, double P)
{
    for (size_t i = 0; i < n_post; i++) {
        const double g = -eta * P * E[i];
        double *row = w + i * n_pre;
        for (size_t j = 0; j < n_pre; j++)
            row[j] += g * psp[j];
        if (bias)
            bias[i] += g;
    }
}
