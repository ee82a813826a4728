/*
 * Profiles of Python 3.15's sampling profiler (Tachyon, profiling.sampling):
 * its pstats files carry a ('__sampled__',) marker and count samples where
 * cProfile counts calls (docs/pstats.md, "Sampled profiles"):
 *   cc = samples with the function on top of the stack ("direct"),
 *   nc = samples with it anywhere on the stack (once per sample),
 *   tt = cc * interval, ct = nc * interval (seconds),
 *   callers: {caller: samples in which caller called it directly} (ints).
 * The interval is not written; it is found back from the numbers here.
 */
#include <math.h>

#include "pstats_internal.h"

/* |x - y| within a few units in the last place of the larger. */
static int close_to(double x, double y)
{
    double m = fmax(fabs(x), fabs(y));
    return fabs(x - y) <= m * 1e-9;
}

int pstats_sample_interval(const pstats_stats *s, double *seconds)
{
    double best = -1;
    size_t at = SIZE_MAX;
    if (!s->sampled)
        return 0;
    for (size_t i = 0; i < s->nstats; i++) { /* the most samples: the finest ratio */
        const pkey *k = &s->keys[i];
        pnum nc = pn_get(k->v, k->kinds, 1);
        double n = pn_double(s, nc);
        if (nc.kind != PN_INT || !(n > best))
            continue;
        best = n;
        at = i;
    }
    if (at == SIZE_MAX || best <= 0)
        return 0;
    const pkey *k = &s->keys[at];
    double interval = pn_double(s, pn_get(k->v, k->kinds, 3)) / best;
    if (!(interval > 0) || isinf(interval))
        return 0;
    for (size_t i = 0; i < s->nstats; i++) {
        k = &s->keys[i];
        for (int f = 0; f < 2; f++) {
            pnum n = pn_get(k->v, k->kinds, f);
            if (n.kind != PN_INT)
                return 0;
            double t = pn_double(s, pn_get(k->v, k->kinds, f + 2));
            if (!close_to(t, (double)n.u.i * interval))
                return 0;
        }
    }
    if (seconds)
        *seconds = interval;
    return 1;
}
