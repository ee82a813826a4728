/* See value_equal.h. */
#include "value_equal.h"

#include <stdlib.h>
#include <string.h>

/* Next code point of a STR's bytes, as Python sees it. */
static uint32_t next_cp(const uint8_t *s, size_t len, pymarshal_text text, size_t *i)
{
    uint8_t c = s[*i];
    if (text == PYMARSHAL_LATIN1 || c < 0x80) {
        (*i)++;
        return c;
    }
    size_t n = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : 1;
    uint32_t cp = c & (0x3Fu >> n);
    for (size_t k = 1; k <= n && *i + k < len; k++)
        cp = cp << 6 | (s[*i + k] & 0x3Fu);
    *i += n + 1;
    return cp;
}

static int str_equal(const pymarshal_value *a, const pymarshal_value *b)
{
    size_t la, lb, i = 0, j = 0;
    pymarshal_text ta, tb;
    const uint8_t *sa = pymarshal_value_bytes(a, &la, &ta);
    const uint8_t *sb = pymarshal_value_bytes(b, &lb, &tb);
    while (i < la && j < lb)
        if (next_cp(sa, la, ta, &i) != next_cp(sb, lb, tb, &j))
            return 0;
    return i >= la && j >= lb;
}

static int scalar_equal(const pymarshal_value *a, const pymarshal_value *b)
{
    size_t la, lb;
    int na, nb;
    double fa, fb;
    switch (pymarshal_value_kind(a)) {
    case PYMARSHAL_INT:
        return pymarshal_value_int(a) == pymarshal_value_int(b);
    case PYMARSHAL_BIGINT: {
        const uint16_t *da = pymarshal_value_bigint(a, &la, &na);
        const uint16_t *db = pymarshal_value_bigint(b, &lb, &nb);
        return la == lb && na == nb && !memcmp(da, db, la * sizeof *da);
    }
    case PYMARSHAL_COMPLEX:
        fa = pymarshal_value_imag(a);
        fb = pymarshal_value_imag(b);
        if (memcmp(&fa, &fb, sizeof fa))
            return 0;
        /* fall through */
    case PYMARSHAL_FLOAT:
        fa = pymarshal_value_float(a);
        fb = pymarshal_value_float(b);
        return !memcmp(&fa, &fb, sizeof fa);
    case PYMARSHAL_BYTES: {
        const uint8_t *sa = pymarshal_value_bytes(a, &la, NULL);
        const uint8_t *sb = pymarshal_value_bytes(b, &lb, NULL);
        return la == lb && !memcmp(sa, sb, la);
    }
    case PYMARSHAL_STR:
        return str_equal(a, b);
    default:
        return 1;
    }
}

typedef struct pair {
    const pymarshal_value *a, *b;
} pair;

typedef struct seen {
    const pymarshal_value **key, **val;
    size_t cap, n;
} seen;

static size_t hash_ptr(const void *p, size_t cap)
{
    uintptr_t u = (uintptr_t)p;
    u ^= u >> 17;
    u *= (uintptr_t)0x9E3779B97F4A7C15ull;
    return (size_t)(u ^ (u >> 29)) & (cap - 1);
}

/* Record a -> b; 1 new, 0 already a -> b, -2 a paired with another. */
static int seen_put(seen *s, const pymarshal_value *a, const pymarshal_value *b)
{
    if (2 * (s->n + 1) > s->cap) {
        seen t = {NULL, NULL, s->cap ? 2 * s->cap : 64, 0};
        t.key = calloc(t.cap, sizeof *t.key);
        t.val = calloc(t.cap, sizeof *t.val);
        if (!t.key || !t.val) {
            free(t.key);
            free(t.val);
            return -1;
        }
        for (size_t k = 0; k < s->cap; k++)
            if (s->key[k])
                seen_put(&t, s->key[k], s->val[k]);
        free(s->key);
        free(s->val);
        *s = t;
    }
    size_t h = hash_ptr(a, s->cap);
    while (s->key[h]) {
        if (s->key[h] == a)
            return s->val[h] == b ? 0 : -2;
        h = (h + 1) & (s->cap - 1);
    }
    s->key[h] = a;
    s->val[h] = b;
    s->n++;
    return 1;
}

static size_t nchildren(const pymarshal_value *v)
{
    pymarshal_kind k = pymarshal_value_kind(v);
    size_t n = pymarshal_value_len(v);
    return k == PYMARSHAL_DICT || k == PYMARSHAL_FROZENDICT ? 2 * n : n;
}

static const pymarshal_value *child(const pymarshal_value *v, size_t i)
{
    pymarshal_kind k = pymarshal_value_kind(v);
    if (k == PYMARSHAL_DICT || k == PYMARSHAL_FROZENDICT)
        return i % 2 ? pymarshal_value_val(v, i / 2) : pymarshal_value_key(v, i / 2);
    return pymarshal_value_item(v, i);
}

static int node_equal(const pymarshal_value *a, const pymarshal_value *b)
{
    if (pymarshal_value_kind(a) != pymarshal_value_kind(b))
        return 0;
    if (pymarshal_value_kind(a) == PYMARSHAL_CODE) {
        pymarshal_code_info ca, cb;
        pymarshal_value_code(a, &ca);
        pymarshal_value_code(b, &cb);
        if (ca.layout != cb.layout)
            return 0;
    }
    return nchildren(a) == nchildren(b) && scalar_equal(a, b);
}

int value_equal(const pymarshal_value *a, const pymarshal_value *b, int same_sharing)
{
    pair *stack = NULL;
    size_t sp = 0, cap = 0;
    seen s = {NULL, NULL, 0, 0};
    int result = 1;
    pair first = {a, b};
    stack = malloc(sizeof *stack);
    if (!stack)
        return -1;
    cap = 1;
    stack[sp++] = first;
    while (sp && result == 1) {
        pair p = stack[--sp];
        if (!p.a || !p.b) {
            result = p.a == p.b;
            break;
        }
        if (same_sharing) {
            int r = seen_put(&s, p.a, p.b);
            if (r == -1 || r == -2) {
                result = r == -1 ? -1 : 0;
                break;
            }
            if (r == 0)
                continue;
        }
        if (!node_equal(p.a, p.b)) {
            result = 0;
            break;
        }
        size_t n = nchildren(p.a);
        if (sp + n > cap) {
            size_t ncap = 2 * (sp + n);
            pair *t = realloc(stack, ncap * sizeof *t);
            if (!t) {
                result = -1;
                break;
            }
            stack = t;
            cap = ncap;
        }
        for (size_t k = n; k-- > 0;) {
            stack[sp].a = child(p.a, k);
            stack[sp].b = child(p.b, k);
            sp++;
        }
    }
    free(stack);
    free(s.key);
    free(s.val);
    return result;
}
