#!/usr/bin/python3
"""Brunel 2000's mean-field rate of the sparse E-I network (model A).

Usage: /usr/bin/python3 analysis/brunel_meanfield.py --g 5 --eta 2
           [--J 0.1] [--CE 1000] [--gamma 0.25] [--tau 20] [--theta 20]
           [--Vr 10] [--tref 2]

Every neuron receives C_E excitatory and C_I = gamma C_E inhibitory inputs
(jumps J and -g J, mV) from neurons firing at rate nu, and C_E external
Poisson inputs (jumps J) at nu_ext = eta nu_thr, nu_thr = theta / (J C_E tau)
(the external rate that brings the mean input to threshold). In the
diffusion approximation (Brunel 2000, eqs. 4-6; J small against theta - V_r)
the input has mean and variance

    mu      = C_E J tau (nu_ext + nu (1 - g gamma))
    sigma^2 = C_E J^2 tau (nu_ext + nu (1 + g^2 gamma))

and a LIF neuron fires at the Siegert rate

    1/nu = tau_rp + tau sqrt(pi) int_{(V_r - mu)/sigma}^{(theta - mu)/sigma} e^{u^2} (1 + erf u) du.

The stationary (AI) state is the self-consistent nu = phi(nu), solved here
by bracketing. e^{u^2}(1 + erf u) = erfcx(-u) (scaled complementary error
function), which stays finite where e^{u^2} and erfc overflow or underflow.
The CV of the interspike intervals at that rate: cv_isi() (Brunel's
appendix A). Prints nu (Hz), mu and sigma (mV), CV. Importable: siegert(),
cv_isi(), self_consistent().
"""
import argparse
import math
import sys

import numpy as np
from scipy import integrate, optimize, special


def siegert(mu, sigma, tau=20.0, theta=20.0, vr=10.0, tref=2.0):
    """Stationary rate (Hz) of a LIF neuron (tau, tref in ms; mV) under
    white-noise input of mean mu and standard deviation sigma (mV)."""
    if sigma <= 0.0:
        if mu <= theta:
            return 0.0
        return 1000.0 / (tref + tau * math.log((mu - vr) / (mu - theta)))
    lo, hi = (vr - mu) / sigma, (theta - mu) / sigma
    if hi > 26.0:  # threshold > 26 sigma above the mean: e^{-676}, no firing
        return 0.0
    val, _ = integrate.quad(lambda u: special.erfcx(-u), lo, hi, epsabs=0.0, epsrel=1e-10,
                            limit=200)
    return 1000.0 / (tref + tau * math.sqrt(math.pi) * val)


def cv_isi(mu, sigma, tau=20.0, theta=20.0, vr=10.0, tref=2.0):
    """CV of the interspike intervals of the same neuron (Brunel 2000,
    appendix A; the first-passage time's second moment):

        CV^2 = 2 pi (nu tau)^2 int_{y_r}^{y_theta} e^{x^2} dx
                               int_{-inf}^{x} e^{y^2} (1 + erf y)^2 dy

    with nu the Siegert rate; e^{y^2}(1 + erf y)^2 = erfcx(-y)^2 e^{-y^2}."""
    nu = siegert(mu, sigma, tau, theta, vr, tref) * 1e-3  # per ms
    if nu <= 0.0 or sigma <= 0.0:
        return float('nan')
    lo, hi = (vr - mu) / sigma, (theta - mu) / sigma

    def inner(x):
        v, _ = integrate.quad(lambda y: special.erfcx(-y) ** 2 * math.exp(-y * y), -np.inf, x,
                              limit=200)
        return v

    outer, _ = integrate.quad(lambda x: math.exp(x * x) * inner(x), lo, hi, limit=200)
    return math.sqrt(2.0 * math.pi * (nu * tau) ** 2 * outer)


def moments(nu, g, eta, J=0.1, CE=1000, gamma=0.25, tau=20.0, theta=20.0):
    """Mean and standard deviation (mV) of the input at rate nu (Hz)."""
    t = tau * 1e-3  # s, rates in Hz
    nu_thr = theta / (J * CE * t)
    nu_ext = eta * nu_thr
    mu = CE * J * t * (nu_ext + nu * (1.0 - g * gamma))
    var = CE * J * J * t * (nu_ext + nu * (1.0 + g * g * gamma))
    return mu, math.sqrt(var)


def self_consistent(g, eta, J=0.1, CE=1000, gamma=0.25, tau=20.0, theta=20.0, vr=10.0,
                    tref=2.0):
    """The self-consistent rate nu (Hz) with mu and sigma (mV).

    f(nu) = phi(nu) - nu is positive at nu = 0 (unless phi(0) = 0) and
    negative at the refractory ceiling 1/tref; the lowest root is returned
    (for g gamma > 1 phi decreases with nu and the root is unique)."""
    def phi(nu):
        mu, sg = moments(nu, g, eta, J, CE, gamma, tau, theta)
        return siegert(mu, sg, tau, theta, vr, tref)

    top = 1000.0 / tref
    if phi(0.0) <= 0.0:
        return 0.0, moments(0.0, g, eta, J, CE, gamma, tau, theta)
    grid = np.linspace(0.0, top, 2001)
    f = np.array([phi(x) - x for x in grid])
    k = int(np.flatnonzero(f <= 0.0)[0])
    nu = optimize.brentq(lambda x: phi(x) - x, grid[k - 1], grid[k], xtol=1e-10, rtol=1e-12)
    mu, sg = moments(nu, g, eta, J, CE, gamma, tau, theta)
    return nu, (mu, sg)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--g', type=float, required=True)
    ap.add_argument('--eta', type=float, required=True, help='nu_ext / nu_thr')
    ap.add_argument('--J', type=float, default=0.1)
    ap.add_argument('--CE', type=float, default=1000)
    ap.add_argument('--gamma', type=float, default=0.25)
    ap.add_argument('--tau', type=float, default=20.0)
    ap.add_argument('--theta', type=float, default=20.0)
    ap.add_argument('--Vr', type=float, default=10.0)
    ap.add_argument('--tref', type=float, default=2.0)
    a = ap.parse_args(argv)
    nu, (mu, sg) = self_consistent(a.g, a.eta, a.J, a.CE, a.gamma, a.tau, a.theta, a.Vr, a.tref)
    cv = cv_isi(mu, sg, a.tau, a.theta, a.Vr, a.tref)
    print('g %g  eta %g  J %g mV  C_E %g: nu = %.3f Hz  mu = %.3f mV  sigma = %.3f mV  CV = %.3f'
          % (a.g, a.eta, a.J, a.CE, nu, mu, sg, cv))
    return 0


if __name__ == '__main__':
    sys.exit(main())
