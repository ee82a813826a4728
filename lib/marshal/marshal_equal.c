/*
 * pymarshal_value_equal: do two value graphs describe the same Python value,
 * sharing and cycles included?
 *
 * Graphs are compared as a bisimulation: a pair of nodes already under
 * comparison counts as equal (that is what makes cycles and shared
 * sub-trees terminate, each pair compared once), and an explicit stack holds
 * the pairs still to look at. Scalars compare by value: text by code points
 * (Latin-1 'a'/'z' against UTF-8 'u' is the same str), floats by their bits
 * (so a NaN equals itself and -0.0 differs from 0.0), interning ignored as
 * Python's == ignores it. Containers compare item by item in file order.
 */
#include <string.h>

#include "marshal_internal.h"
#include "marshal_tree_int.h"

typedef struct pm_pairset {
    uint64_t *keys; /* (id_a + 1) << 32 | (id_b + 1); 0 = empty */
    size_t cap, n;
} pm_pairset;

static size_t mix(uint64_t k)
{
    k ^= k >> 33;
    k *= UINT64_C(0xff51afd7ed558ccd);
    k ^= k >> 33;
    return (size_t)k;
}

/* 1 inserted, 0 already there, -1 out of memory. */
static int pairset_add(pm_pairset *s, const pymarshal_allocator *a, uint64_t key)
{
    if (2 * (s->n + 1) > s->cap) {
        size_t ncap = s->cap ? 2 * s->cap : 64;
        uint64_t *nk = cm_malloc(a, ncap * sizeof *nk);
        if (!nk)
            return -1;
        memset(nk, 0, ncap * sizeof *nk);
        for (size_t i = 0; i < s->cap; i++) {
            if (!s->keys[i])
                continue;
            size_t j = mix(s->keys[i]) & (ncap - 1);
            while (nk[j])
                j = (j + 1) & (ncap - 1);
            nk[j] = s->keys[i];
        }
        cm_free(a, s->keys);
        s->keys = nk;
        s->cap = ncap;
    }
    size_t j = mix(key) & (s->cap - 1);
    while (s->keys[j]) {
        if (s->keys[j] == key)
            return 0;
        j = (j + 1) & (s->cap - 1);
    }
    s->keys[j] = key;
    s->n++;
    return 1;
}

/* Next code point of text s[*i..n) (validated UTF-8 or Latin-1). */
static uint32_t next_cp(const uint8_t *s, size_t n, size_t *i, uint8_t text)
{
    uint8_t c = s[(*i)++];
    if (text == PYMARSHAL_LATIN1 || c < 0x80)
        return c;
    int more = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : 1;
    uint32_t cp = c & (0x3F >> more);
    while (more-- && *i < n)
        cp = cp << 6 | (s[(*i)++] & 0x3F);
    return cp;
}

static int text_equal(const pymarshal_value *a, const pymarshal_value *b)
{
    if (a->text == b->text)
        return a->u.s.len == b->u.s.len && !memcmp(a->u.s.p, b->u.s.p, a->u.s.len);
    size_t i = 0, j = 0;
    while (i < a->u.s.len && j < b->u.s.len)
        if (next_cp(a->u.s.p, a->u.s.len, &i, a->text) !=
            next_cp(b->u.s.p, b->u.s.len, &j, b->text))
            return 0;
    return i == a->u.s.len && j == b->u.s.len;
}

static int same_bits(double x, double y)
{
    return !memcmp(&x, &y, sizeof x);
}

/* Compare what two nodes hold themselves (not their items). */
static int shallow_equal(const pymarshal_value *a, const pymarshal_value *b)
{
    if (a->kind != b->kind)
        return 0;
    switch ((pymarshal_kind)a->kind) {
    case PYMARSHAL_INT:
        return a->u.i == b->u.i;
    case PYMARSHAL_BIGINT:
        return a->u.big.neg == b->u.big.neg && a->u.big.n == b->u.big.n &&
               !memcmp(a->u.big.d, b->u.big.d, a->u.big.n * sizeof *a->u.big.d);
    case PYMARSHAL_FLOAT:
        return same_bits(a->u.f[0], b->u.f[0]);
    case PYMARSHAL_COMPLEX:
        return same_bits(a->u.f[0], b->u.f[0]) && same_bits(a->u.f[1], b->u.f[1]);
    case PYMARSHAL_BYTES:
        return a->u.s.len == b->u.s.len && !memcmp(a->u.s.p, b->u.s.p, a->u.s.len);
    case PYMARSHAL_STR:
        return text_equal(a, b);
    case PYMARSHAL_CODE:
        return a->layout == b->layout && a->u.seq.n == b->u.seq.n;
    case PYMARSHAL_TUPLE: case PYMARSHAL_LIST: case PYMARSHAL_DICT: case PYMARSHAL_SET:
    case PYMARSHAL_FROZENSET: case PYMARSHAL_SLICE: case PYMARSHAL_FROZENDICT:
        return a->u.seq.n == b->u.seq.n;
    default:
        return 1;
    }
}

static size_t items_of(const pymarshal_value *v)
{
    if (v->kind < PYMARSHAL_TUPLE || v->kind > PYMARSHAL_FROZENDICT)
        return 0;
    return v->kind == PYMARSHAL_DICT || v->kind == PYMARSHAL_FROZENDICT ? 2 * v->u.seq.n
                                                                        : v->u.seq.n;
}

int pymarshal_value_equal(const pymarshal_value *a, const pymarshal_value *b,
                          const pymarshal_allocator *alloc)
{
    pm_pairset seen = {NULL, 0, 0};
    const pymarshal_value **stack = NULL;
    size_t sp = 0, cap = 0;
    int result = 1;
    if (cm_reserve(alloc, (void **)&stack, &cap, 2, sizeof *stack) < 0)
        return -1;
    stack[sp++] = a;
    stack[sp++] = b;
    while (sp && result == 1) {
        const pymarshal_value *y = stack[--sp], *x = stack[--sp];
        if (x == y)
            continue;
        if (!x || !y || !shallow_equal(x, y)) {
            result = 0;
            break;
        }
        size_t n = items_of(x);
        if (!n)
            continue;
        int added = pairset_add(&seen, alloc, ((uint64_t)x->id + 1) << 32 | ((uint64_t)y->id + 1));
        if (added <= 0) {
            result = added < 0 ? -1 : 1;
            continue;
        }
        if (cm_reserve(alloc, (void **)&stack, &cap, sp + 2 * n, sizeof *stack) < 0) {
            result = -1;
            break;
        }
        for (size_t i = n; i-- > 0;) {
            stack[sp++] = x->u.seq.items[i];
            stack[sp++] = y->u.seq.items[i];
        }
    }
    cm_free(alloc, seen.keys);
    cm_free(alloc, stack);
    return result;
}
