/*
 * Python numbers in the model: int64, float, and exact big ints (sign and
 * base-2^32 magnitude) with Python's mixed arithmetic and comparisons.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "pstats_internal.h"

pnum pn_get(const uint64_t *v, uint8_t kinds, int field)
{
    pnum n;
    n.kind = (uint8_t)((kinds >> (2 * field)) & 3u);
    memcpy(&n.u, &v[field], sizeof(uint64_t));
    return n;
}

void pn_set(uint64_t *v, uint8_t *kinds, int field, pnum n)
{
    uint64_t raw = 0;
    if (n.kind == PN_BIG)
        raw = n.u.big;
    else
        memcpy(&raw, &n.u, sizeof raw);
    v[field] = raw;
    *kinds = (uint8_t)((*kinds & ~(3u << (2 * field))) | ((unsigned)n.kind << (2 * field)));
}

int pn_is_zero(pnum a)
{
    if (a.kind == PN_INT)
        return a.u.i == 0;
    if (a.kind == PN_FLOAT)
        return a.u.f == 0.0;
    return 0; /* big ints are never zero */
}

/* Magnitude view of any int: limbs (LE) in *lp, count returned. */
typedef struct mag {
    const uint32_t *p;
    size_t n;
    int neg;
    uint32_t small[2];
} mag;

static void mag_of(const pstats_stats *s, pnum a, mag *m)
{
    if (a.kind == PN_BIG) {
        const pbig *b = &s->bigs[a.u.big];
        m->p = s->limbs + b->off;
        m->n = b->nlimbs;
        m->neg = b->neg;
        return;
    }
    uint64_t u = a.u.i < 0 ? (uint64_t)0 - (uint64_t)a.u.i : (uint64_t)a.u.i;
    m->neg = a.u.i < 0;
    m->small[0] = (uint32_t)u;
    m->small[1] = (uint32_t)(u >> 32);
    m->n = u == 0 ? 0 : (m->small[1] ? 2 : 1);
    m->p = m->small;
}

static int mag_cmp(const uint32_t *a, size_t na, const uint32_t *b, size_t nb)
{
    if (na != nb)
        return na < nb ? -1 : 1;
    for (size_t i = na; i-- > 0;)
        if (a[i] != b[i])
            return a[i] < b[i] ? -1 : 1;
    return 0;
}

/* Store a normalized sign+magnitude as an int64 or a new big. */
static int make_int(pstats_stats *s, int neg, uint32_t *l, size_t n, pnum *out)
{
    while (n > 0 && l[n - 1] == 0)
        n--;
    if (n <= 2) {
        uint64_t u = n == 0 ? 0 : (n == 1 ? l[0] : ((uint64_t)l[1] << 32 | l[0]));
        if (!neg && u <= (uint64_t)INT64_MAX) {
            *out = pn_int((int64_t)u);
            return 0;
        }
        if (neg && u <= (uint64_t)INT64_MAX + 1u) {
            *out = pn_int(u == (uint64_t)INT64_MAX + 1u ? INT64_MIN : -(int64_t)u);
            return 0;
        }
    }
    if (ps_grow(s, (void **)&s->limbs, &s->cap_limbs, s->nlimbs + n, sizeof(uint32_t)) ||
        ps_grow(s, (void **)&s->bigs, &s->cap_bigs, s->nbigs + 1, sizeof(pbig)))
        return -1;
    memcpy(s->limbs + s->nlimbs, l, n * sizeof(uint32_t));
    pbig *b = &s->bigs[s->nbigs];
    b->off = (uint32_t)s->nlimbs;
    b->nlimbs = (uint32_t)n;
    b->neg = (uint8_t)neg;
    s->nlimbs += n;
    out->kind = PN_BIG;
    out->u.big = (uint32_t)s->nbigs++;
    return 0;
}

static int int_add(pstats_stats *s, pnum a, pnum b, pnum *out)
{
    if (a.kind == PN_INT && b.kind == PN_INT) {
        int64_t r;
        if (!__builtin_add_overflow(a.u.i, b.u.i, &r)) {
            *out = pn_int(r);
            return 0;
        }
    }
    mag x, y;
    mag_of(s, a, &x);
    mag_of(s, b, &y);
    size_t n = (x.n > y.n ? x.n : y.n) + 1;
    uint32_t stackbuf[16];
    uint32_t *r = n <= 16 ? stackbuf : ps_malloc(s, n * sizeof(uint32_t));
    if (!r)
        return -1;
    int neg;
    if (x.neg == y.neg) {
        uint64_t carry = 0;
        for (size_t i = 0; i < n; i++) {
            uint64_t t = carry + (i < x.n ? x.p[i] : 0) + (i < y.n ? y.p[i] : 0);
            r[i] = (uint32_t)t;
            carry = t >> 32;
        }
        neg = x.neg;
    } else {
        int c = mag_cmp(x.p, x.n, y.p, y.n);
        const mag *big = c >= 0 ? &x : &y, *small = c >= 0 ? &y : &x;
        int64_t borrow = 0;
        for (size_t i = 0; i < n; i++) {
            int64_t t = (int64_t)(i < big->n ? big->p[i] : 0) -
                        (int64_t)(i < small->n ? small->p[i] : 0) - borrow;
            borrow = t < 0;
            r[i] = (uint32_t)(t + (borrow ? ((int64_t)1 << 32) : 0));
        }
        neg = c == 0 ? 0 : big->neg;
    }
    int rc = make_int(s, neg, r, n, out);
    if (r != stackbuf)
        ps_free(s, r);
    return rc;
}

static double mag_double(const uint32_t *l, size_t n)
{
    if (n == 0)
        return 0.0;
    int top = 31 - __builtin_clz(l[n - 1]);
    size_t bits = (n - 1) * 32 + (size_t)top + 1;
    if (bits <= 64) {
        uint64_t u = n == 1 ? l[0] : ((uint64_t)l[1] << 32 | l[0]);
        return (double)u; /* rounds to nearest, ties to even */
    }
    /* the top 64 bits, and whether any bit below them is set */
    size_t shift = bits - 64;
    uint64_t hi = 0;
    for (int k = 0; k < 64; k++) {
        size_t bit = shift + (size_t)k;
        if (bit < bits && (l[bit / 32] >> (bit % 32)) & 1u)
            hi |= (uint64_t)1 << k;
    }
    int sticky = 0;
    for (size_t bit = 0; bit < shift && !sticky; bit++)
        if ((l[bit / 32] >> (bit % 32)) & 1u)
            sticky = 1;
    uint64_t m = hi >> 11, rem = hi & 0x7ff;
    if (rem > 0x400 || (rem == 0x400 && (sticky || (m & 1))))
        m++;
    return ldexp((double)m, (int)(shift + 11));
}

double pn_double(const pstats_stats *s, pnum a)
{
    if (a.kind == PN_FLOAT)
        return a.u.f;
    if (a.kind == PN_INT)
        return (double)a.u.i;
    mag m;
    mag_of(s, a, &m);
    double d = mag_double(m.p, m.n);
    return m.neg ? -d : d;
}

int pn_add(pstats_stats *s, pnum a, pnum b, pnum *out)
{
    if (a.kind == PN_FLOAT || b.kind == PN_FLOAT) {
        *out = pn_float(pn_double(s, a) + pn_double(s, b));
        return 0;
    }
    return int_add(s, a, b, out);
}

/* Exact comparison of an int (any size) with a finite double. */
static int cmp_int_double(const pstats_stats *s, pnum a, double d)
{
    if (a.kind == PN_INT && fabs(d) < 9.2e18) {
        double t = trunc(d);
        int64_t ti = (int64_t)t;
        if (a.u.i != ti)
            return a.u.i < ti ? -1 : 1;
        double frac = d - t;
        return frac > 0 ? -1 : (frac < 0 ? 1 : 0);
    }
    mag m;
    mag_of(s, a, &m);
    if (fabs(d) < 9.2e18) /* a is big: its magnitude exceeds |d| */
        return m.neg ? -1 : 1;
    /* |d| >= 2^63: an integer; compare signs, then magnitudes exactly */
    int dneg = d < 0;
    if (m.n == 0)
        return dneg ? 1 : -1;
    if (m.neg != dneg)
        return m.neg ? -1 : 1;
    int e;
    double fr = frexp(fabs(d), &e);               /* |d| = fr * 2^e */
    uint64_t mant = (uint64_t)ldexp(fr, 53);      /* 53 bits */
    int sh = e - 53;                              /* >= 10 */
    size_t nl = (size_t)(sh / 32) + 3;
    uint32_t dl[40];
    if (nl > 40)
        return m.neg ? 1 : -1; /* cannot happen for finite doubles */
    memset(dl, 0, sizeof dl);
    for (int k = 0; k < 53; k++)
        if ((mant >> k) & 1u) {
            int bit = sh + k;
            dl[bit / 32] |= 1u << (bit % 32);
        }
    while (nl > 0 && dl[nl - 1] == 0)
        nl--;
    int c = mag_cmp(m.p, m.n, dl, nl);
    return m.neg ? -c : c;
}

int pn_cmp(const pstats_stats *s, pnum a, pnum b)
{
    if (a.kind == PN_FLOAT && b.kind == PN_FLOAT) {
        if (a.u.f < b.u.f) return -1;
        if (a.u.f > b.u.f) return 1;
        return a.u.f == b.u.f ? 0 : 2;
    }
    if (a.kind == PN_FLOAT || b.kind == PN_FLOAT) {
        int swap = a.kind == PN_FLOAT;
        pnum i = swap ? b : a;
        double d = swap ? a.u.f : b.u.f;
        int c;
        if (isnan(d))
            return 2;
        if (isinf(d))
            c = d > 0 ? -1 : 1;
        else
            c = cmp_int_double(s, i, d);
        return swap ? -c : c;
    }
    if (a.kind == PN_INT && b.kind == PN_INT)
        return a.u.i < b.u.i ? -1 : (a.u.i > b.u.i ? 1 : 0);
    mag x, y;
    mag_of(s, a, &x);
    mag_of(s, b, &y);
    if (x.n == 0) x.neg = 0;
    if (y.n == 0) y.neg = 0;
    if (x.neg != y.neg)
        return x.neg ? -1 : 1;
    int c = mag_cmp(x.p, x.n, y.p, y.n);
    return x.neg ? -c : c;
}

static void big_decimal(const pstats_stats *s, pnum a, psb *b)
{
    mag m;
    mag_of(s, a, &m);
    pstats_stats *ms = b->s;
    uint32_t *t = ps_malloc(ms, (m.n ? m.n : 1) * sizeof(uint32_t));
    size_t nchunks = m.n * 32 / 29 + 2;
    uint32_t *chunks = ps_malloc(ms, nchunks * sizeof(uint32_t));
    if (!t || !chunks) {
        ps_free(ms, t);
        ps_free(ms, chunks);
        b->oom = 1;
        return;
    }
    memcpy(t, m.p, m.n * sizeof(uint32_t));
    size_t n = m.n, nc = 0;
    while (n > 0) {
        uint64_t rem = 0;
        for (size_t i = n; i-- > 0;) {
            uint64_t cur = rem << 32 | t[i];
            t[i] = (uint32_t)(cur / 1000000000u);
            rem = cur % 1000000000u;
        }
        chunks[nc++] = (uint32_t)rem;
        while (n > 0 && t[n - 1] == 0)
            n--;
    }
    char tmp[16];
    if (m.neg)
        psb_put(b, "-", 1);
    if (nc == 0)
        psb_put(b, "0", 1);
    for (size_t i = nc; i-- > 0;) {
        int k = snprintf(tmp, sizeof tmp, i == nc - 1 ? "%u" : "%09u", (unsigned)chunks[i]);
        psb_put(b, tmp, (size_t)k);
    }
    ps_free(ms, t);
    ps_free(ms, chunks);
}

void pn_str(const pstats_stats *s, pnum a, psb *b)
{
    char tmp[64];
    if (a.kind == PN_FLOAT) {
        size_t n = pymarshal_float_repr(a.u.f, tmp);
        psb_put(b, tmp, n);
    } else if (a.kind == PN_INT) {
        int n = snprintf(tmp, sizeof tmp, "%lld", (long long)a.u.i);
        psb_put(b, tmp, (size_t)n);
    } else {
        big_decimal(s, a, b);
    }
}

void pn_fmt_d(const pstats_stats *s, pnum a, psb *b)
{
    if (a.kind != PN_FLOAT) {
        pn_str(s, a, b);
        return;
    }
    char tmp[400];
    double f = trunc(a.u.f);
    int n;
    if (isnan(f))
        n = snprintf(tmp, sizeof tmp, "nan");
    else if (isinf(f))
        n = snprintf(tmp, sizeof tmp, f > 0 ? "inf" : "-inf");
    else
        n = snprintf(tmp, sizeof tmp, "%.0f", f == 0 ? 0.0 : f);
    psb_put(b, tmp, (size_t)n);
}

int pn_from_digits(pstats_stats *s, const uint8_t *le16, size_t ndigits, int neg, pnum *out)
{
    size_t nl = (ndigits * 15 + 31) / 32 + 1;
    uint32_t *l = ps_malloc(s, nl * sizeof(uint32_t));
    if (!l)
        return -1;
    memset(l, 0, nl * sizeof(uint32_t));
    for (size_t i = 0; i < ndigits; i++) {
        uint32_t d = (uint32_t)(le16[2 * i] | le16[2 * i + 1] << 8) & 0x7fffu;
        size_t bit = i * 15;
        uint64_t v = (uint64_t)d << (bit % 32);
        l[bit / 32] |= (uint32_t)v;
        if (v >> 32)
            l[bit / 32 + 1] |= (uint32_t)(v >> 32);
    }
    int rc = make_int(s, neg, l, nl, out);
    ps_free(s, l);
    return rc;
}

size_t pn_ndigits15(const pstats_stats *s, pnum a)
{
    mag m;
    mag_of(s, a, &m);
    if (m.n == 0)
        return 0;
    size_t bits = (m.n - 1) * 32 + (size_t)(32 - __builtin_clz(m.p[m.n - 1]));
    return (bits + 14) / 15;
}

void pn_to_digits(const pstats_stats *s, pnum a, uint16_t *digits, int *neg)
{
    mag m;
    mag_of(s, a, &m);
    size_t nd = pn_ndigits15(s, a);
    for (size_t i = 0; i < nd; i++) {
        uint32_t d = 0;
        for (int k = 0; k < 15; k++) {
            size_t bit = i * 15 + (size_t)k;
            if (bit / 32 < m.n && (m.p[bit / 32] >> (bit % 32)) & 1u)
                d |= 1u << k;
        }
        digits[i] = (uint16_t)d;
    }
    *neg = m.neg;
}

int pn_import(pstats_stats *s, const pstats_stats *from, pnum a, pnum *out)
{
    if (a.kind != PN_BIG) {
        *out = a;
        return 0;
    }
    const pbig *b = &from->bigs[a.u.big];
    uint32_t *l = ps_malloc(s, b->nlimbs * sizeof(uint32_t));
    if (!l)
        return -1;
    memcpy(l, from->limbs + b->off, b->nlimbs * sizeof(uint32_t));
    int rc = make_int(s, b->neg, l, b->nlimbs, out);
    ps_free(s, l);
    return rc;
}

/* ------------------------------------------------------------- edges */

void pe_get(const pstats_stats *s, const pedge_s *e, pedge *out)
{
    if (e->w & EW_WIDE) {
        *out = s->wedges[e->w & ~EW_WIDE];
        out->caller = e->caller;
        return;
    }
    memset(out, 0, sizeof *out);
    out->caller = e->caller;
    if (e->w & EW_INT) {
        out->kind = PSTATS_EDGE_INT;
        pn_set(out->v, &out->kinds, 0, pn_int(e->w & ~EW_INT));
        return;
    }
    out->kind = PSTATS_EDGE_TUPLE;
    pn_set(out->v, &out->kinds, 0, pn_int(e->w));
    pn_set(out->v, &out->kinds, 1, pn_int(e->w));
    out->v[2] = e->a;
    out->v[3] = e->b;
    out->kinds = (uint8_t)(out->kinds | PN_FLOAT << 4 | PN_FLOAT << 6);
}

int pe_kind(const pedge_s *e, const pstats_stats *s)
{
    if (e->w & EW_WIDE)
        return s->wedges[e->w & ~EW_WIDE].kind;
    return (e->w & EW_INT) ? PSTATS_EDGE_INT : PSTATS_EDGE_TUPLE;
}

int pe_put(pstats_stats *s, pedge_s *dst, const pedge *in, int reuse)
{
    pnum nc = pn_get(in->v, in->kinds, 0);
    dst->caller = in->caller;
    if (in->kind == PSTATS_EDGE_INT) {
        if (in->kinds == PN_INT && nc.u.i >= 0 && nc.u.i < (int64_t)EW_INT) {
            dst->w = EW_INT | (uint32_t)nc.u.i;
            dst->a = dst->b = 0;
            return 0;
        }
    } else if (in->kinds == (PN_INT | PN_INT << 2 | PN_FLOAT << 4 | PN_FLOAT << 6) &&
               in->v[0] == in->v[1] && nc.u.i >= 0 && nc.u.i < (int64_t)(EW_INT >> 1)) {
        dst->w = (uint32_t)nc.u.i;
        dst->a = in->v[2];
        dst->b = in->v[3];
        return 0;
    }
    if (reuse && (dst->w & EW_WIDE)) {
        s->wedges[dst->w & ~EW_WIDE] = *in;
        return 0;
    }
    if (s->nwedges >= EW_WIDE - 1 ||
        ps_grow(s, (void **)&s->wedges, &s->cap_wedges, s->nwedges + 1, sizeof(pedge)))
        return -1;
    s->wedges[s->nwedges] = *in;
    dst->w = EW_WIDE | (uint32_t)s->nwedges++;
    dst->a = dst->b = 0;
    return 0;
}
