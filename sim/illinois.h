/* Private to the engine (sim/engine.c, sim/sweep.c): the root of a
 * function that goes from negative to non-negative across a bracket. */
#ifndef APICAL_ILLINOIS_H
#define APICAL_ILLINOIS_H

/* Regula falsi with the Illinois modification on th in [a, b], g(a) = ga < 0
 * <= g(b) = gb, evaluated as g(th, user): a crossing located on a step's
 * interpolant. Stops when g is exactly 0, when the bracket times H (the step,
 * to compare in time) is at most tol, or after max_it evaluations; returns
 * the last evaluated th (b if none). */
static inline double apical_illinois(double a, double b, double ga, double gb, double H,
                                     double tol, int max_it, double (*g)(double th, void *user),
                                     void *user)
{
    double th = b;
    int side = 0;
    for (int it = 0; it < max_it && (b - a) * H > tol; it++) {
        th = (a * gb - b * ga) / (gb - ga);
        if (!(th > a && th < b))
            th = 0.5 * (a + b);
        const double v = g(th, user);
        if (v == 0.0)
            break;
        if (v < 0.0) {
            a = th, ga = v;
            if (side == -1)
                gb *= 0.5;
            side = -1;
        } else {
            b = th, gb = v;
            if (side == 1)
                ga *= 0.5;
            side = 1;
        }
    }
    return th;
}

#endif
