/*
 * Numbers for repr(): Python's shortest round-trip float text, and big
 * integers to decimal (base 10^9 limbs), the latter subquadratic for huge
 * values (Karatsuba products over a bottom-up split of the digits).
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "marshal_internal.h"
#include "marshal_repr_int.h"
#include "marshal_tree_int.h"

/* -------------------------------------------------------------- floats */

/* The 17 significant digits of v > 0 that printf's %.16e gives (glibc
 * rounds correctly), without the dot; *exp10 gets the exponent of the
 * first digit. Shorter roundings are derived from these (round_digits). */
typedef struct digits17 {
    double v;
    char d[18];
    int exp10;
} digits17;

static void sci_digits(double v, int ndig, char *dig, int *exp10)
{
    char tmp[48];
    int n = 0;
    const char *p = tmp;
    snprintf(tmp, sizeof tmp, "%.*e", ndig - 1, v);
    for (; *p && *p != 'e'; p++)
        if (*p >= '0' && *p <= '9')
            dig[n++] = *p;
    dig[n] = '\0';
    *exp10 = *p == 'e' ? atoi(p + 1) : 0;
}

/* Add one unit in the last of n digits; 9...9 becomes 10...0 one decade up. */
static void digits_up(char *dig, int n, int *exp10)
{
    int i;
    for (i = n - 1; i >= 0 && dig[i] == '9'; i--)
        dig[i] = '0';
    if (i < 0) {
        dig[0] = '1';
        (*exp10)++;
    } else {
        dig[i]++;
    }
}

/* v correctly rounded to n < 17 significant digits. Rounding the 17 digits
 * again gives the same result unless they end in an exact tie (5 then
 * zeros), where printf is asked directly. */
static void round_digits(const digits17 *s, int n, char *dig, int *exp10)
{
    int i = n + 1;
    while (i < 17 && s->d[i] == '0')
        i++;
    if (s->d[n] == '5' && i == 17) {
        sci_digits(s->v, n, dig, exp10);
        return;
    }
    memcpy(dig, s->d, (size_t)n);
    dig[n] = '\0';
    *exp10 = s->exp10;
    if (s->d[n] >= '5')
        digits_up(dig, n, exp10);
}

/* Whether the decimal dig[0..n) * 10^(exp10 - n + 1) reads back as v.
 * Clinger's fast path when the significand and the power of ten are both
 * exact doubles (one correctly rounded operation); strtod otherwise. */
static int digits_round_trip(const char *dig, int n, int exp10, double v)
{
    static const double pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                   1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                   1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    char tmp[48];
    uint64_t m = 0;
    int i, e = exp10 - n + 1;
    for (i = 0; i < n; i++)
        m = m * 10 + (uint64_t)(dig[i] - '0');
    if (FLT_EVAL_METHOD == 0 && m <= (UINT64_C(1) << 53) && e >= -22 && e <= 22)
        return (e >= 0 ? (double)m * pow10[e] : (double)m / pow10[-e]) == v;
    snprintf(tmp, sizeof tmp, "%c.%se%d", dig[0], n > 1 ? dig + 1 : "", exp10);
    return strtod(tmp, NULL) == v;
}

/* n digits that read back as v: the correctly rounded ones, or, when those
 * fall below v at a power of two (where the gap below is half the gap
 * above), the next decimal up. */
static int digits_fit(const digits17 *s, int n, char *dig, int *exp10)
{
    char up[24];
    int e;
    round_digits(s, n, dig, exp10);
    if (digits_round_trip(dig, n, *exp10, s->v))
        return 1;
    memcpy(up, dig, (size_t)n + 1);
    e = *exp10;
    digits_up(up, n, &e);
    if (!digits_round_trip(up, n, e, s->v))
        return 0;
    memcpy(dig, up, (size_t)n + 1);
    *exp10 = e;
    return 1;
}

/* Shortest digit string that round-trips, trailing zeros removed. Whether
 * n digits fit is monotonic in n (n + 1 correctly rounded digits are at
 * least as close as n, and the step up covers the narrow side), so a
 * search finds the shortest; 17 digits always fit. Most doubles met in
 * profiles need 16 or 17, which are tried first. */
static int shortest_digits(double v, char *dig, int *exp10)
{
    digits17 s;
    char best[24];
    int lo = 1, hi = 17, best_exp;
    int fast = cm_shortest_digits(v, dig, exp10); /* lib/common: exact, common cases */
    if (fast)
        return fast;
    s.v = v;
    sci_digits(v, 17, s.d, &s.exp10);
    memcpy(best, s.d, sizeof s.d);
    best_exp = s.exp10;
    while (lo < hi) {
        int mid = hi >= 16 ? hi - 1 : (lo + hi) / 2;
        if (digits_fit(&s, mid, dig, exp10)) {
            hi = mid;
            memcpy(best, dig, (size_t)mid + 1);
            best_exp = *exp10;
        } else {
            lo = mid + 1;
        }
    }
    memcpy(dig, best, (size_t)hi + 1);
    *exp10 = best_exp;
    while (hi > 1 && dig[hi - 1] == '0')
        dig[--hi] = '\0';
    return hi;
}

/* Python's PyOS_double_to_string(v, 'r', 0, flags): `dot0` adds ".0" to
 * integral fixed-point output (float repr), `sign` writes '+' for
 * non-negative values and nans (complex imaginary part). */
size_t pm_format_double(double v, char *buf, int dot0, int sign)
{
    char dig[24];
    char *p = buf;
    int n, e, decpt, i;
    if (isnan(v)) /* the sign bit of a nan never shows; `sign` still adds '+' */
        return (size_t)(stpcpy(buf, sign ? "+nan" : "nan") - buf);
    if (signbit(v))
        *p++ = '-';
    else if (sign)
        *p++ = '+';
    if (isinf(v))
        return (size_t)(stpcpy(p, "inf") - buf);
    if (v == 0.0) {
        p = stpcpy(p, dot0 ? "0.0" : "0");
        return (size_t)(p - buf);
    }
    n = shortest_digits(fabs(v), dig, &e);
    decpt = e + 1;
    if (decpt <= -4 || decpt > 16) {
        *p++ = dig[0];
        if (n > 1) {
            *p++ = '.';
            p = stpcpy(p, dig + 1);
        }
        int ae = e < 0 ? -e : e; /* "e%+03d" without printf */
        *p++ = 'e';
        *p++ = e < 0 ? '-' : '+';
        if (ae >= 100)
            *p++ = (char)('0' + ae / 100);
        *p++ = (char)('0' + ae / 10 % 10);
        *p++ = (char)('0' + ae % 10);
    } else if (decpt <= 0) {
        p = stpcpy(p, "0.");
        for (i = decpt; i < 0; i++)
            *p++ = '0';
        p = stpcpy(p, dig);
    } else if (decpt >= n) {
        p = stpcpy(p, dig);
        for (i = n; i < decpt; i++)
            *p++ = '0';
        if (dot0)
            p = stpcpy(p, ".0");
    } else {
        memcpy(p, dig, (size_t)decpt);
        p += decpt;
        *p++ = '.';
        p = stpcpy(p, dig + decpt);
    }
    *p = '\0';
    return (size_t)(p - buf);
}

size_t pymarshal_float_repr(double v, char *buf)
{
    return pm_format_double(v, buf, 1, 0);
}

/* ---------------------------------------------------------------- ints */

#define BASE 1000000000u
#define KARATSUBA_MIN 48 /* limbs: below this, schoolbook products */
#define BLOCK 256        /* 15-bit digits converted directly per block */

/* Limbs enough for nd 15-bit digits: 15 * log10(2) / 9 = 0.5017 < 151/300. */
static size_t limbs_for(size_t nd)
{
    return nd / 300 * 151 + (nd % 300) * 151 / 300 + 2;
}

static size_t trim(const uint32_t *r, size_t n)
{
    while (n > 1 && r[n - 1] == 0)
        n--;
    return n;
}

/* d[0..nd) to base 10^9 into limb (limbs_for(nd) room), two input digits
 * per pass: quadratic, for blocks and small numbers. Returns the count. */
static size_t to_limbs_direct(const uint16_t *d, size_t nd, uint32_t *limb)
{
    size_t used = 0, k = nd, j;
    while (k > 0) {
        unsigned shift = k % 2 ? 15 : 30;
        uint64_t carry = k % 2 ? d[k - 1] : (uint64_t)d[k - 1] << 15 | d[k - 2];
        k -= shift / 15;
        for (j = 0; j < used; j++) {
            uint64_t t = (uint64_t)limb[j] << shift | carry;
            limb[j] = (uint32_t)(t % BASE);
            carry = t / BASE;
        }
        while (carry) {
            limb[used++] = (uint32_t)(carry % BASE);
            carry /= BASE;
        }
    }
    if (used == 0)
        limb[used++] = 0;
    return used;
}

/* r[0..nr) += a[0..na), na <= nr; the carry out of r is dropped (callers
 * size r for the true sum). */
static void add_into(uint32_t *r, size_t nr, const uint32_t *a, size_t na)
{
    uint32_t carry = 0;
    size_t i;
    for (i = 0; i < nr && (i < na || carry); i++) {
        uint32_t t = r[i] + (i < na ? a[i] : 0) + carry;
        carry = t >= BASE;
        r[i] = carry ? t - BASE : t;
    }
}

/* r[0..nr) -= a[0..na), r >= a. */
static void sub_into(uint32_t *r, size_t nr, const uint32_t *a, size_t na)
{
    uint32_t borrow = 0;
    size_t i;
    for (i = 0; i < nr && (i < na || borrow); i++) {
        uint32_t s = (i < na ? a[i] : 0) + borrow;
        borrow = r[i] < s;
        r[i] = borrow ? r[i] + BASE - s : r[i] - s;
    }
}

static void mul_basecase(const uint32_t *a, size_t na, const uint32_t *b, size_t nb,
                         uint32_t *r)
{
    size_t i, j;
    memset(r, 0, (na + nb) * sizeof *r);
    for (i = 0; i < na; i++) {
        uint64_t carry = 0;
        for (j = 0; j < nb; j++) {
            uint64_t t = (uint64_t)a[i] * b[j] + r[i + j] + carry;
            r[i + j] = (uint32_t)(t % BASE);
            carry = t / BASE;
        }
        r[i + nb] = (uint32_t)carry;
    }
}

/* r[0..na+nb) = a * b. Karatsuba; recursion depth is log2 of the operand
 * size (not of any input nesting). 0 ok, -1 out of memory. */
static int mul(const uint32_t *a, size_t na, const uint32_t *b, size_t nb, uint32_t *r,
               const pymarshal_allocator *al)
{
    size_t k, n0, n2, nz;
    uint32_t *t;
    int rc = 0;
    if (na < nb)
        return mul(b, nb, a, na, r, al);
    if (nb < KARATSUBA_MIN) {
        mul_basecase(a, na, b, nb, r);
        return 0;
    }
    k = (na + 1) / 2;
    if (nb <= k) { /* a0*b + (a1*b) 10^(9k) */
        t = cm_malloc(al, (na - k + nb) * sizeof *t);
        if (!t || mul(a, k, b, nb, r, al) || mul(a + k, na - k, b, nb, t, al)) {
            cm_free(al, t);
            return -1;
        }
        memset(r + k + nb, 0, (na - k) * sizeof *r);
        add_into(r + k, na + nb - k, t, na - k + nb);
        cm_free(al, t);
        return 0;
    }
    /* z0 = a0 b0 in r[0..2k), z2 = a1 b1 in r[2k..), z1 = (a0+a1)(b0+b1) - z0 - z2 */
    t = cm_malloc(al, (4 * k + 4) * sizeof *t);
    if (!t)
        return -1;
    memcpy(t, a, k * sizeof *t);
    t[k] = 0;
    add_into(t, k + 1, a + k, na - k);
    memcpy(t + k + 1, b, k * sizeof *t);
    t[2 * k + 1] = 0;
    add_into(t + k + 1, k + 1, b + k, nb - k);
    if (mul(a, k, b, k, r, al) || mul(a + k, na - k, b + k, nb - k, r + 2 * k, al) ||
        mul(t, k + 1, t + k + 1, k + 1, t + 2 * k + 2, al)) {
        rc = -1;
    } else {
        n0 = trim(r, 2 * k);
        n2 = trim(r + 2 * k, na + nb - 2 * k);
        sub_into(t + 2 * k + 2, 2 * k + 2, r, n0);
        sub_into(t + 2 * k + 2, 2 * k + 2, r + 2 * k, n2);
        nz = trim(t + 2 * k + 2, 2 * k + 2);
        add_into(r + k, na + nb - k, t + 2 * k + 2, nz);
    }
    cm_free(al, t);
    return rc;
}

typedef struct limbs {
    uint32_t *p;
    size_t n;
} limbs;

/* hi * pow + lo as a new array; hi and lo are freed. */
static int combine(limbs *hi, const limbs *pow, limbs *lo, const pymarshal_allocator *al)
{
    size_t n = hi->n + pow->n + 1;
    uint32_t *r = cm_malloc(al, n * sizeof *r);
    if (!r || mul(hi->p, hi->n, pow->p, pow->n, r, al)) {
        cm_free(al, r);
        return -1;
    }
    r[n - 1] = 0;
    add_into(r, n, lo->p, lo->n);
    cm_free(al, hi->p);
    cm_free(al, lo->p);
    hi->p = r;
    hi->n = trim(r, n);
    lo->p = NULL;
    return 0;
}

/* Bottom-up: BLOCK-digit pieces converted directly, then neighbours merged
 * (hi * 2^(15 * size) + lo) with the power squared at each level. */
static int to_limbs_split(const uint16_t *d, size_t nd, limbs *out,
                          const pymarshal_allocator *al)
{
    size_t m = (nd + BLOCK - 1) / BLOCK, i, j;
    limbs *part = cm_malloc(al, m * sizeof *part), pow = {NULL, 0}, sq;
    uint16_t one[BLOCK + 1] = {0};
    int rc = -1;
    if (!part)
        return -1;
    memset(part, 0, m * sizeof *part);
    one[BLOCK] = 1;
    pow.p = cm_malloc(al, limbs_for(BLOCK + 1) * sizeof *pow.p);
    if (!pow.p)
        goto done;
    pow.n = to_limbs_direct(one, BLOCK + 1, pow.p);
    for (i = 0; i < m; i++) {
        size_t n = i + 1 < m ? BLOCK : nd - i * BLOCK;
        part[i].p = cm_malloc(al, limbs_for(n) * sizeof *part[i].p);
        if (!part[i].p)
            goto done;
        part[i].n = to_limbs_direct(d + i * BLOCK, n, part[i].p);
    }
    while (m > 1) {
        for (i = 0, j = 0; i + 1 < m; i += 2, j++) {
            if (combine(&part[i + 1], &pow, &part[i], al))
                goto done;
            part[j] = part[i + 1];
            part[i + 1].p = NULL;
        }
        if (i < m) {
            part[j++] = part[i];
            part[i].p = NULL;
        }
        m = j;
        if (m > 1) {
            sq.p = cm_malloc(al, 2 * pow.n * sizeof *sq.p);
            if (!sq.p || mul(pow.p, pow.n, pow.p, pow.n, sq.p, al)) {
                cm_free(al, sq.p);
                goto done;
            }
            sq.n = trim(sq.p, 2 * pow.n);
            cm_free(al, pow.p);
            pow = sq;
        }
    }
    *out = part[0];
    part[0].p = NULL;
    rc = 0;
done:
    for (i = 0; i < (nd + BLOCK - 1) / BLOCK; i++)
        cm_free(al, part[i].p);
    cm_free(al, part);
    cm_free(al, pow.p);
    return rc;
}

uint32_t *pm_bigint_base1e9(const uint16_t *d, size_t nd, const pymarshal_allocator *al,
                            size_t *nlimbs)
{
    limbs r = {NULL, 0};
    if (nd > (SIZE_MAX / sizeof *r.p - 2) / 151 * 300 - BLOCK)
        return NULL;
    if (nd <= 4 * BLOCK) {
        r.p = cm_malloc(al, limbs_for(nd) * sizeof *r.p);
        if (r.p)
            r.n = to_limbs_direct(d, nd, r.p);
    } else if (to_limbs_split(d, nd, &r, al) != 0) {
        r.p = NULL;
    }
    *nlimbs = r.n;
    return r.p;
}

/* ------------------------------------------------------ CPython's sets */

typedef struct slot {
    size_t item; /* SIZE_MAX: empty */
    uint64_t hash;
} slot;

#define LINEAR_PROBES 9
#define PERTURB_SHIFT 5

/* Where set_insert_clean / set_add_entry (Objects/setobject.c, 3.7+) put
 * item `item` of v with hash h: *at = the first free slot of the probe
 * sequence. With `dup`, an equal item met first sets *dup = 1 instead. */
static void probe(const pymarshal_value *v, size_t item, const slot *t, size_t mask,
                  uint64_t h, size_t *at, int *dup)
{
    size_t i = (size_t)h & mask, perturb = (size_t)h, j;
    for (;;) {
        size_t probes = i + LINEAR_PROBES <= mask ? LINEAR_PROBES : 0;
        for (j = i; j <= i + probes; j++) {
            if (t[j].item == SIZE_MAX) {
                *at = j;
                return;
            }
            if (dup && t[j].hash == h &&
                pm_num_equal(pymarshal_value_item(v, t[j].item), pymarshal_value_item(v, item))) {
                *dup = 1;
                return;
            }
        }
        perturb >>= PERTURB_SHIFT;
        i = (i * 5 + 1 + perturb) & mask;
    }
}

/* The table grown as set_table_resize does: the smallest power of two
 * above `minused`, items re-inserted in old table order. The old table is
 * freed on success only. */
static slot *regrow(slot *t, size_t mask, size_t minused, size_t *newmask,
                    const pymarshal_allocator *al)
{
    size_t size = 8, i, at;
    slot *n;
    while (size <= minused)
        size <<= 1;
    n = size <= SIZE_MAX / sizeof *n ? cm_malloc(al, size * sizeof *n) : NULL;
    if (!n)
        return NULL;
    for (i = 0; i < size; i++)
        n[i].item = SIZE_MAX;
    for (i = 0; i <= mask; i++) {
        if (t[i].item == SIZE_MAX)
            continue;
        probe(NULL, 0, n, size - 1, t[i].hash, &at, NULL);
        n[at] = t[i];
    }
    cm_free(al, t);
    *newmask = size - 1;
    return n;
}

/* Adds the items in file order as set_add_entry does (3.7+), then reads
 * the table in slot order. */
static size_t *order_of(const pymarshal_value *v, size_t n, slot *t, size_t mask,
                        const pymarshal_allocator *al, size_t *count, int *nomem)
{
    size_t used = 0, k, at;
    size_t *order;
    for (k = 0; k < n; k++) {
        uint64_t h;
        int dup = 0;
        if (pm_num_hash(pymarshal_value_item(v, k), &h) != 0)
            goto fail;
        probe(v, k, t, mask, h, &at, &dup);
        if (dup)
            continue;
        t[at].item = k;
        t[at].hash = h;
        if (++used * 5 >= mask * 3) {
            slot *grown = regrow(t, mask, used > 50000 ? used * 2 : used * 4, &mask, al);
            if (!grown) {
                *nomem = 1;
                goto fail;
            }
            t = grown;
        }
    }
    order = cm_malloc(al, (used ? used : 1) * sizeof *order);
    if (!order) {
        *nomem = 1;
        goto fail;
    }
    for (k = 0, *count = 0; k <= mask; k++)
        if (t[k].item != SIZE_MAX)
            order[(*count)++] = t[k].item;
    cm_free(al, t);
    return order;
fail:
    cm_free(al, t);
    return NULL;
}

size_t *pm_set_order(const pymarshal_value *v, const pymarshal_allocator *al, size_t *count,
                     int *nomem)
{
    size_t n = pymarshal_value_len(v), i;
    slot *t = cm_malloc(al, 8 * sizeof *t);
    *count = 0;
    *nomem = 0;
    if (!t) {
        *nomem = 1;
        return NULL;
    }
    for (i = 0; i < 8; i++)
        t[i].item = SIZE_MAX;
    return order_of(v, n, t, 7, al, count, nomem);
}
