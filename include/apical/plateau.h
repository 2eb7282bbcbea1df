/* The learning rules of the segregated-dendrite model (Guergiev, Lillicrap &
 * Richards, eLife 2017; REFERENCES.md §3), as pure functions of the window
 * averages a phase protocol measures. Units follow the reference: voltages
 * dimensionless, times in ms, rates per ms (lambda_max = 0.2 /ms).
 *
 * Hidden neuron i (plateau rule), once per example after the target phase:
 *   alpha = sigma(mean apical voltage over the phase's averaging window)
 *   E_i   = -(alpha_t - alpha_f) k_B lambda_max sigma'(Cbar_f)
 *   dW_ij = -eta P_hid E_i PSPbar_j,   db_i = -eta P_hid E_i,
 *   k_B = g_B / (g_L + g_B + g_A),     P_hid = 20 / lambda_max,
 * so active synapses (PSPbar_j > 0) potentiate when the target-phase plateau
 * is higher than the forward-phase one, depress when it is lower, and do not
 * change when it is equal or when the synapse was silent.
 * Output neuron i:
 *   E_i   = -(lambdabar_t - lambda_max sigma(Cbar_f)) k_D lambda_max sigma'(Cbar_f)
 *   dW_ij = -eta P_out E_i PSPbar_j,   db_i = -eta P_out E_i,
 *   k_D = g_D / (g_L + g_D),           P_out = 20 / lambda_max^2. */
#ifndef APICAL_PLATEAU_H
#define APICAL_PLATEAU_H

#include <stddef.h>

/* Logistic function and its derivative. */
double apical_sigma(double x);
double apical_sigma_prime(double x);

/* Mean over [a, b] (a < b) of the postsynaptic potential of a spike train
 * through kappa(s) = (e^(-s/tau_L) - e^(-s/tau_s)) / (tau_L - tau_s),
 * truncated after t_trunc (HUGE_VAL: never). Spikes at or after b do not
 * count. Closed form: each spike contributes F(min(b - t, T)) -
 * F(clamp(a - t, 0, T)), F(s) the integral of kappa from 0 to s. */
double apical_psp_window_mean(const double *spike_times, size_t n, double a, double b,
                              double tau_L, double tau_s, double t_trunc);

/* Error terms E_i of the two rules (see above). */
double apical_plateau_error(double alpha_f, double alpha_t, double cbar_f, double k_B,
                            double lambda_max);
double apical_output_error(double lambdabar_t, double cbar_f, double k_D, double lambda_max);

/* Apply dW_ij = -eta P E_i psp_j to a dense row-major weight matrix
 * w[n_post][n_pre] and db_i = -eta P E_i to bias[n_post] (bias may be
 * NULL). */
void apical_plateau_apply(double *w, double *bias, size_t n_post, size_t n_pre, const double *E,
                          const double *psp, double eta, double P);

#endif
