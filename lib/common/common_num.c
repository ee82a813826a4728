/*
 * lib/common: the shortest decimal digits that read back as a double (what
 * Python's repr() prints), fast for the doubles profiles are made of.
 *
 * A double v = m * 2^q lies in the interval of reals that read back as it:
 * (2m - 1) * 2^(q-1) .. (2m + 1) * 2^(q-1), ends included when m is even
 * (round half to even). Scaled by 10^K so that v * 10^K lies in
 * [10^16, 10^17), every candidate of at most 17 significant digits is an
 * integer there; the shortest one is the multiple of the largest power of
 * ten 10^j that the interval holds, and of those the nearest to v (the
 * digits Python's dtoa mode 0 gives). With K in 0..27 (5^K fits 64 bits)
 * and at most 70 fraction bits, all of it is exact in 128-bit integers:
 * about 1e-11 <= v < 1e16 with a full 53-bit significand. Anything else
 * (zero, subnormals, powers of two, where the gap below is half the gap
 * above, and the far ranges) is left to the caller's exact slow path.
 */
#include <math.h>
#include <string.h>

#include "common.h"

typedef unsigned __int128 u128;

/* v * 10^K split at 2^d: integer part, and whether a fraction remains /
 * how it compares with one half (for the nearest-candidate choice). */
typedef struct scaled {
    uint64_t ip;   /* floor */
    u128 frac;     /* the fraction's numerator over 2^d */
} scaled;

static scaled split(u128 num, int d)
{
    scaled s;
    s.ip = (uint64_t)(num >> d);
    s.frac = num & (((u128)1 << d) - 1);
    return s;
}

/* The smallest multiple of p inside the interval, or 0 when none. */
static uint64_t first_multiple(scaled lo, scaled hi, int inclusive, uint64_t p)
{
    uint64_t c = lo.ip / p * p;
    if (c < lo.ip || (c == lo.ip && (lo.frac != 0 || !inclusive)))
        c += p;
    if (c < hi.ip || (c == hi.ip && (hi.frac != 0 || inclusive)))
        return c;
    return 0;
}

static int in_interval(uint64_t c, scaled lo, scaled hi, int inclusive)
{
    int above = c > lo.ip || (c == lo.ip && lo.frac == 0 && inclusive);
    int below = c < hi.ip || (c == hi.ip && (hi.frac != 0 || inclusive));
    return above && below;
}

static const uint64_t pow5[28] = {
    UINT64_C(1), UINT64_C(5), UINT64_C(25), UINT64_C(125), UINT64_C(625), UINT64_C(3125),
    UINT64_C(15625), UINT64_C(78125), UINT64_C(390625), UINT64_C(1953125),
    UINT64_C(9765625), UINT64_C(48828125), UINT64_C(244140625), UINT64_C(1220703125),
    UINT64_C(6103515625), UINT64_C(30517578125), UINT64_C(152587890625),
    UINT64_C(762939453125), UINT64_C(3814697265625), UINT64_C(19073486328125),
    UINT64_C(95367431640625), UINT64_C(476837158203125), UINT64_C(2384185791015625),
    UINT64_C(11920928955078125), UINT64_C(59604644775390625),
    UINT64_C(298023223876953125), UINT64_C(1490116119384765625),
    UINT64_C(7450580596923828125)};

/* The decimal digits of v > 0 without trailing zeros into dig; *n gets
 * the count with them. Returns the count without. */
static int put_digits(uint64_t v, char *dig, int *n)
{
    char tmp[24];
    int k = 0;
    do {
        tmp[k++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (int i = 0; i < k; i++)
        dig[i] = tmp[k - 1 - i];
    int len = k;
    while (len > 1 && dig[len - 1] == '0')
        len--;
    dig[len] = '\0';
    *n = k;
    return len;
}

int cm_shortest_digits(double v, char *dig, int *exp10)
{
    static const uint64_t pow10[18] = {
        UINT64_C(1), UINT64_C(10), UINT64_C(100), UINT64_C(1000), UINT64_C(10000),
        UINT64_C(100000), UINT64_C(1000000), UINT64_C(10000000), UINT64_C(100000000),
        UINT64_C(1000000000), UINT64_C(10000000000), UINT64_C(100000000000),
        UINT64_C(1000000000000), UINT64_C(10000000000000), UINT64_C(100000000000000),
        UINT64_C(1000000000000000), UINT64_C(10000000000000000),
        UINT64_C(100000000000000000)};
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    int e = (int)((bits >> 52) & 0x7ff);
    uint64_t frac = bits & ((UINT64_C(1) << 52) - 1);
    if ((bits >> 63) || e == 0 || e == 0x7ff || frac == 0)
        return 0;
    uint64_t m = frac | (UINT64_C(1) << 52);
    int q = e - 1075;
    int k = 16 - (int)floor(log10(v));
    for (int tries = 0; tries < 3; tries++) {
        if (k < 0 || k > 27)
            return 0;
        uint64_t a = pow5[k];
        int t = q + k;          /* v * 10^k = m * a * 2^t */
        int d = t >= 1 ? 0 : 1 - t;
        if (d > 70)
            return 0;
        int up = t - 1 + d;     /* >= 0: the bounds' own power of two */
        if (up > 10)
            return 0;
        u128 base = (u128)a << up;
        u128 vn = (u128)(2 * m) * base, lon = (u128)(2 * m - 1) * base,
             hin = (u128)(2 * m + 1) * base;
        if ((hin >> d) >= pow10[17]) {
            k--;
            continue;
        }
        scaled sv = split(vn, d);
        if (sv.ip < pow10[16]) {
            k++;
            continue;
        }
        scaled lo = split(lon, d), hi = split(hin, d);
        int inclusive = (m & 1) == 0;
        /* the largest j whose 10^j has a multiple inside: monotonic in j */
        int jlo = 0, jhi = 16;
        while (jlo < jhi) {
            int mid = (jlo + jhi + 1) / 2;
            if (first_multiple(lo, hi, inclusive, pow10[mid]))
                jlo = mid;
            else
                jhi = mid - 1;
        }
        uint64_t p = pow10[jlo];
        if (!first_multiple(lo, hi, inclusive, p))
            return 0;
        /* the multiple of p nearest to v: down, or up, or (a tie) even */
        uint64_t cdown = sv.ip / p * p, r = sv.ip - cdown;
        u128 twice = ((u128)(2 * r) << d) + 2 * sv.frac, whole = (u128)p << d;
        uint64_t near = cdown, other = cdown + p;
        if (twice > whole || (twice == whole && ((cdown / p) & 1))) {
            near = cdown + p;
            other = cdown;
        }
        uint64_t c = in_interval(near, lo, hi, inclusive) ? near : other;
        int n, len = put_digits(c / p, dig, &n);
        *exp10 = n + jlo - 1 - k;
        return len;
    }
    return 0;
}
