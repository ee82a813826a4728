/*
 * Python's == and hash() on value-tree nodes, where a dict or set needs
 * them: Python builds a dict keeping the first position of equal keys and
 * the last value, and a set keeping the first of equal items, so the tree
 * does the same (pm_dedupe). Numbers compare across int, bool and float
 * (1 == 1.0 == True), text by code points whatever its marshal form, and a
 * NaN equals only itself (the same shared object), as in CPython, whose
 * dicts and tuples check identity before ==.
 *
 * A step of the pipeline after marshal_equal.c (which it calls for frozensets
 * and code objects) and before marshal_tree.c (marshal_internal.h); it reads
 * nodes through marshal_tree_int.h.
 */
#include <math.h>
#include <string.h>

#include "marshal_internal.h"
#include "marshal_tree_int.h"

/* ------------------------------------------------------------ numbers */

#define HASH_BITS 61
#define HASH_MOD ((UINT64_C(1) << HASH_BITS) - 1)
#define HASH_INF UINT64_C(314159)

static uint64_t hash_sign(uint64_t x, int negative)
{
    if (negative)
        x = (uint64_t)0 - x;
    return x == UINT64_MAX ? UINT64_MAX - 1 : x;
}

static uint64_t hash_double(double v)
{
    int e, negative = v < 0;
    double m = frexp(fabs(v), &e);
    uint64_t x = 0, y;
    if (isnan(v)) /* callers hash NaNs by identity; never loop on one */
        return 0;
    if (isinf(v))
        return hash_sign(HASH_INF, negative);
    while (m != 0.0) {
        x = ((x << 28) & HASH_MOD) | x >> (HASH_BITS - 28);
        m *= 268435456.0; /* 2^28 */
        e -= 28;
        y = (uint64_t)m;
        m -= (double)y;
        x += y;
        if (x >= HASH_MOD)
            x -= HASH_MOD;
    }
    e = e >= 0 ? e % HASH_BITS : HASH_BITS - 1 - ((-1 - e) % HASH_BITS);
    x = ((x << e) & HASH_MOD) | x >> (HASH_BITS - e);
    return hash_sign(x, negative);
}

int pm_num_hash(const pymarshal_value *v, uint64_t *h)
{
    uint64_t x = 0;
    switch ((pymarshal_kind)v->kind) {
    case PYMARSHAL_FALSE: *h = 0; return 0;
    case PYMARSHAL_TRUE: *h = 1; return 0;
    case PYMARSHAL_INT: {
        int64_t i = v->u.i;
        x = i < 0 ? (uint64_t)0 - (uint64_t)i : (uint64_t)i;
        *h = hash_sign(x % HASH_MOD, i < 0);
        return 0;
    }
    case PYMARSHAL_BIGINT:
        for (size_t k = v->u.big.n; k-- > 0;) {
            x = ((x << 15) & HASH_MOD) | x >> (HASH_BITS - 15);
            x += v->u.big.d[k];
            if (x >= HASH_MOD)
                x -= HASH_MOD;
        }
        *h = hash_sign(x, v->u.big.neg);
        return 0;
    case PYMARSHAL_FLOAT:
        if (isnan(v->u.f[0]))
            return -1;
        *h = hash_double(v->u.f[0]);
        return 0;
    default: return -1;
    }
}

/* Whether the float f equals the int of 15-bit digits d[0..nd) (beyond
 * int64, so |f| >= 2^63 when equal): f's 53-bit significand shifted into
 * place, digit by digit. */
static int bigint_equals_double(const uint16_t *d, size_t nd, int negative, double f)
{
    int e, k;
    uint64_t m;
    if (!isfinite(f) || f != floor(f) || (f < 0) != negative || nd == 0)
        return 0;
    m = (uint64_t)ldexp(frexp(fabs(f), &e), 53); /* |f| = m * 2^(e - 53) */
    e -= 53;
    if (e < 0 || (size_t)(e + 53 + 14) / 15 != nd)
        return 0;
    for (k = 0; (size_t)k < nd; k++) {
        int b = 15 * k - e;
        uint64_t digit = b >= 64 ? 0 : b >= 0 ? m >> b : b > -15 ? m << -b : 0;
        if ((digit & 0x7fff) != d[k])
            return 0;
    }
    return 1;
}

static int is_intlike(pymarshal_kind k)
{
    return k == PYMARSHAL_INT || k == PYMARSHAL_TRUE || k == PYMARSHAL_FALSE;
}

int pm_num_equal(const pymarshal_value *a, const pymarshal_value *b)
{
    pymarshal_kind ka = (pymarshal_kind)a->kind, kb = (pymarshal_kind)b->kind;
    int ia = is_intlike(ka), ib = is_intlike(kb);
    if (ia && ib)
        return a->u.i == b->u.i;
    if (ka == PYMARSHAL_FLOAT && kb == PYMARSHAL_FLOAT)
        return a->u.f[0] == b->u.f[0];
    if (ka == PYMARSHAL_BIGINT && kb == PYMARSHAL_BIGINT)
        return a->u.big.n == b->u.big.n && a->u.big.neg == b->u.big.neg &&
               memcmp(a->u.big.d, b->u.big.d, a->u.big.n * sizeof *a->u.big.d) == 0;
    if ((ia && kb == PYMARSHAL_FLOAT) || (ka == PYMARSHAL_FLOAT && ib)) {
        double f = (ia ? b : a)->u.f[0];
        int64_t i = (ia ? a : b)->u.i;
        return f >= -0x1p63 && f < 0x1p63 && f == (double)(int64_t)f && (int64_t)f == i;
    }
    if (ka == PYMARSHAL_BIGINT && kb == PYMARSHAL_FLOAT)
        return bigint_equals_double(a->u.big.d, a->u.big.n, a->u.big.neg, b->u.f[0]);
    if (kb == PYMARSHAL_BIGINT && ka == PYMARSHAL_FLOAT)
        return bigint_equals_double(b->u.big.d, b->u.big.n, b->u.big.neg, a->u.f[0]);
    return 0; /* an int beyond int64 never equals one within */
}

/* ---------------------------------------------------------------- text */

/* The next code point of a STR's bytes (UTF-8, surrogates allowed, or
 * Latin-1) from *i on. */
static uint32_t next_cp(const pymarshal_value *v, size_t *i)
{
    const uint8_t *p = v->u.s.p;
    uint32_t c = p[(*i)++];
    if (v->text == PYMARSHAL_LATIN1 || c < 0x80)
        return c;
    int n = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : 1;
    c &= 0x3fu >> n;
    while (n-- > 0 && *i < v->u.s.len)
        c = c << 6 | (p[(*i)++] & 0x3fu);
    return c;
}

static int text_equal(const pymarshal_value *a, const pymarshal_value *b)
{
    if (a->text == b->text)
        return a->u.s.len == b->u.s.len && memcmp(a->u.s.p, b->u.s.p, a->u.s.len) == 0;
    size_t i = 0, j = 0;
    while (i < a->u.s.len && j < b->u.s.len)
        if (next_cp(a, &i) != next_cp(b, &j))
            return 0;
    return i == a->u.s.len && j == b->u.s.len;
}

/* ---------------------------------------------------------------- hash */

static uint64_t mix(uint64_t h, uint64_t x)
{
    h ^= x + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    return h * 0xff51afd7ed558ccdull;
}

/* The hash of a str's code points, whatever its marshal form: ASCII text
 * (the common case) by 8-byte words of its bytes, anything else code point
 * by code point (Latin-1 and UTF-8 forms of one text then hash alike). */
static uint64_t text_hash(const pymarshal_value *v)
{
    const uint8_t *p = v->u.s.p;
    size_t n = v->u.s.len, i = 0;
    uint64_t h = mix(0x5354, n), high = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w = cm_le64(p + i);
        high |= w;
        h = mix(h, w);
    }
    uint64_t tail = 0;
    for (size_t k = 0; i + k < n; k++)
        tail |= (uint64_t)p[i + k] << (8 * k);
    high |= tail;
    if (!(high & 0x8080808080808080ull))
        return mix(h, tail);
    h = 0x5355;
    for (i = 0; i < n;)
        h = mix(h, next_cp(v, &i));
    return h;
}

/* A hash consistent with Python's ==: equal values hash alike. Containers
 * hash their kind, size and their scalar items only (no recursion). */
static uint64_t shallow_hash(const pymarshal_value *v, int depth)
{
    uint64_t h;
    switch ((pymarshal_kind)v->kind) {
    case PYMARSHAL_FALSE: case PYMARSHAL_TRUE: case PYMARSHAL_INT:
    case PYMARSHAL_BIGINT: case PYMARSHAL_FLOAT:
        if (pm_num_hash(v, &h) == 0)
            return h;
        return (uint64_t)(uintptr_t)v; /* a NaN is equal to itself only */
    case PYMARSHAL_STR:
        return text_hash(v);
    case PYMARSHAL_BYTES:
        h = 0x4259;
        for (size_t i = 0; i < v->u.s.len; i++)
            h = mix(h, v->u.s.p[i]);
        return h;
    case PYMARSHAL_COMPLEX:
        if (isnan(v->u.f[0]) || isnan(v->u.f[1]))
            return (uint64_t)(uintptr_t)v; /* equal to itself only */
        return mix(v->u.f[0] == 0 ? 0 : hash_double(v->u.f[0]),
                   v->u.f[1] == 0 ? 0 : hash_double(v->u.f[1]));
    case PYMARSHAL_TUPLE:
        h = mix(0x5455, v->u.seq.n);
        if (depth == 0)
            for (size_t i = 0; i < v->u.seq.n; i++)
                h = mix(h, shallow_hash(v->u.seq.items[i], 1));
        return h;
    case PYMARSHAL_FROZENSET:
    case PYMARSHAL_CODE:
        return mix(v->kind, 0); /* sizes may differ between equal ones */
    default:
        return mix(v->kind, 1);
    }
}

/* ------------------------------------------------------------ equality */

typedef struct pairstack {
    const pymarshal_value **p; /* a0 b0 a1 b1 ... */
    size_t n, cap;
} pairstack;

static int push_pair(pairstack *s, const pymarshal_value *a, const pymarshal_value *b,
                     const pymarshal_allocator *al)
{
    if (cm_reserve(al, (void **)&s->p, &s->cap, s->n + 2, sizeof *s->p) < 0)
        return -1;
    s->p[s->n++] = a;
    s->p[s->n++] = b;
    return 0;
}

/* One pair: 1 equal, 0 not, 2 when its items were pushed to compare. */
static int pair_step(pairstack *s, const pymarshal_value *a, const pymarshal_value *b,
                     const pymarshal_allocator *al)
{
    if (a == b)
        return 1;
    pymarshal_kind ka = (pymarshal_kind)a->kind, kb = (pymarshal_kind)b->kind;
    uint64_t h;
    if (pm_num_hash(a, &h) == 0 || pm_num_hash(b, &h) == 0 || ka == PYMARSHAL_FLOAT ||
        kb == PYMARSHAL_FLOAT)
        return pm_num_equal(a, b);
    if (ka != kb)
        return 0;
    switch (ka) {
    case PYMARSHAL_STR: return text_equal(a, b);
    case PYMARSHAL_BYTES:
        return a->u.s.len == b->u.s.len && memcmp(a->u.s.p, b->u.s.p, a->u.s.len) == 0;
    case PYMARSHAL_COMPLEX: return a->u.f[0] == b->u.f[0] && a->u.f[1] == b->u.f[1];
    case PYMARSHAL_TUPLE:
        if (a->u.seq.n != b->u.seq.n)
            return 0;
        for (size_t i = 0; i < a->u.seq.n; i++)
            if (push_pair(s, a->u.seq.items[i], b->u.seq.items[i], al) < 0)
                return -1;
        return 2;
    case PYMARSHAL_FROZENSET:
    case PYMARSHAL_CODE: {
        int eq = pymarshal_value_equal(a, b, al);
        return eq < 0 ? -1 : eq;
    }
    default:
        return 1; /* None, Ellipsis, StopIteration */
    }
}

/* Python's a == b on two keys: 1, 0, or -1 out of memory. */
static int py_equal(const pymarshal_value *a, const pymarshal_value *b,
                    const pymarshal_allocator *al)
{
    pairstack s = {NULL, 0, 0};
    int rc = push_pair(&s, a, b, al) < 0 ? -1 : 1;
    while (rc == 1 && s.n) {
        const pymarshal_value *y = s.p[--s.n], *x = s.p[--s.n];
        int r = pair_step(&s, x, y, al);
        rc = r == 2 ? 1 : r;
    }
    cm_free(al, s.p);
    return rc;
}

/* ------------------------------------------------------------- dedupe */

int pm_dedupe(const pymarshal_value **items, size_t *n, int pairs,
              const pymarshal_allocator *al)
{
    size_t count = *n, step = pairs ? 2 : 1, cap = 16;
    if (count < 2)
        return 0;
    while (cap < count * 2)
        cap *= 2;
    size_t *slot = cm_malloc(al, cap * sizeof *slot); /* index + 1 into kept */
    size_t *kept = cm_malloc(al, count * sizeof *kept);
    if (!slot || !kept) {
        cm_free(al, slot);
        cm_free(al, kept);
        return -1;
    }
    memset(slot, 0, cap * sizeof *slot);
    size_t nkept = 0, dup = 0;
    for (size_t i = 0; i < count; i++) {
        const pymarshal_value *k = items[i * step];
        size_t j = (size_t)shallow_hash(k, 0) & (cap - 1);
        int found = 0;
        for (; slot[j]; j = (j + 1) & (cap - 1)) {
            int eq = py_equal(items[kept[slot[j] - 1] * step], k, al);
            if (eq < 0) {
                cm_free(al, slot);
                cm_free(al, kept);
                return -1;
            }
            if (eq) {
                found = 1;
                break;
            }
        }
        if (found) { /* a dict keeps the first key and the last value */
            if (pairs)
                items[kept[slot[j] - 1] * 2 + 1] = items[i * 2 + 1];
            dup = 1;
            continue;
        }
        kept[nkept] = i;
        slot[j] = ++nkept;
    }
    if (dup) {
        for (size_t i = 0; i < nkept; i++) {
            items[i * step] = items[kept[i] * step];
            if (pairs)
                items[i * 2 + 1] = items[kept[i] * 2 + 1];
        }
        *n = nkept;
    }
    cm_free(al, slot);
    cm_free(al, kept);
    return 0;
}
