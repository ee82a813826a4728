/*
 * Code-object keys compared as Python compares them: a digest of the fields
 * that the writer's code_richcompare looks at, computed while the loader
 * reads the code object (docs/pstats.md, "Code-object keys").
 *
 *   2.7        co_name argcount nlocals flags firstlineno code consts names
 *              varnames freevars cellvars
 *   3.0-3.7    the same and kwonlyargcount
 *   3.8-3.10   the same and posonlyargcount (PyPy 3.9 likewise)
 *   3.11-3.13  co_name argcount posonlyargcount kwonlyargcount flags
 *              firstlineno code consts names localsplusnames linetable
 *              exceptiontable
 *
 * (never co_filename, co_stacksize, co_lnotab, co_qualname: checked on
 * every interpreter by changing one field at a time.) Constants compare as
 * _PyCode_ConstantKey makes them: by type and value (1, 1.0 and True
 * differ, so do 0.0 and -0.0 and str and bytes; 2.7's int and long do
 * not), tuples item by item, frozensets as sets, nested code objects by the
 * same rule; a NaN, a list, dict or set only equals itself (CPython
 * compares them by identity; PyPy compares a NaN by value).
 *
 * The digest is a tree hash: each container's digest is made of its items'
 * digests, so a constant shared through a marshal reference is digested
 * once (its digest is remembered by reference slot) and the walk stays
 * linear in the input however the references nest.
 */
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "pstats_internal.h"

/* Which fields code_richcompare compares, by layout (bit i: field i). */
static uint32_t compared(pymarshal_code_layout layout)
{
    switch (layout) {
    case PYMARSHAL_CODE_PY27: return 0x1BFB;  /* 0 1 3 4-9 11 12 */
    case PYMARSHAL_CODE_PY30: return 0x37F7;  /* 0 1 2 4-10 12 13 */
    case PYMARSHAL_CODE_PY38: return 0x6FEF;  /* 0-3 5-11 13 14 */
    default: return 0xE9F7;                   /* 0-2 4-8 11 13-15 */
    }
}

static uint64_t mix(uint64_t h, uint64_t x)
{
    return XXH3_64bits_withSeed(&x, sizeof x, h);
}

static uint64_t leaf(uint64_t tag, const void *p, size_t n)
{
    return XXH3_64bits_withSeed(p, n, tag);
}

void psd_init(ps_digest *d, pstats_stats *s, int py2, int nan_by_value)
{
    memset(d, 0, sizeof *d);
    d->s = s;
    d->py2 = py2;
    d->nan_by_value = nan_by_value;
}

void psd_free(ps_digest *d)
{
    ps_free(d->s, d->f);
    ps_free(d->s, d->set);
    ps_free(d->s, d->memo);
    memset(d, 0, sizeof *d);
}

/* The digests of containers met with a reference slot, by slot: an open
 * addressing table (slot + 1, digest), so memory follows the number of
 * containers inside code objects, not the file's slot numbers. */
static size_t memo_home(int64_t slot, size_t mask)
{
    return (size_t)(((uint64_t)slot * 0x9E3779B97F4A7C15ull) >> 20) & mask;
}

static int memo_get(const ps_digest *d, int64_t slot, uint64_t *out)
{
    if (slot < 0 || !d->cap_memo)
        return 0;
    size_t mask = d->cap_memo - 1;
    for (size_t j = memo_home(slot, mask); d->memo[j].slot; j = (j + 1) & mask)
        if (d->memo[j].slot == (uint64_t)slot + 1) {
            *out = d->memo[j].h;
            return 1;
        }
    return 0;
}

static void memo_set(ps_digest *d, int64_t slot, uint64_t h)
{
    size_t mask = d->cap_memo - 1, j = memo_home(slot, mask);
    while (d->memo[j].slot && d->memo[j].slot != (uint64_t)slot + 1)
        j = (j + 1) & mask;
    d->nmemo += !d->memo[j].slot;
    d->memo[j].slot = (uint64_t)slot + 1;
    d->memo[j].h = h;
}

static int memo_put(ps_digest *d, int64_t slot, uint64_t h)
{
    if (slot < 0)
        return 0;
    if (2 * (d->nmemo + 1) > d->cap_memo) {
        size_t cap = d->cap_memo ? 2 * d->cap_memo : 64, old = d->cap_memo;
        struct psd_memo *t = ps_malloc(d->s, cap * sizeof *t), *o = d->memo;
        if (!t)
            return -1;
        memset(t, 0, cap * sizeof *t);
        d->memo = t;
        d->cap_memo = cap;
        d->nmemo = 0;
        for (size_t i = 0; i < old; i++)
            if (o[i].slot)
                memo_set(d, (int64_t)o[i].slot - 1, o[i].h);
        ps_free(d->s, o);
    }
    memo_set(d, slot, h);
    return 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* An item's digest goes to the innermost frame; frames it completes close. */
static int give(ps_digest *d, uint64_t h)
{
    while (d->n) {
        psd_frame *f = &d->f[d->n - 1];
        if (f->kind == PYMARSHAL_FROZENSET) {
            if (ps_grow(d->s, (void **)&d->set, &d->cap_set, d->nset + 1, sizeof *d->set))
                return -1;
            d->set[d->nset++] = h;
        } else if (f->kind != PYMARSHAL_CODE || (compared(f->layout) >> f->field & 1)) {
            f->h = mix(f->h, h);
        }
        f->field++;
        if (--f->left)
            return 0;
        if (f->kind == PYMARSHAL_FROZENSET) { /* as a set: sorted, equal items once */
            uint64_t *v = d->set + f->set_start;
            size_t n = d->nset - f->set_start, m = 0;
            qsort(v, n, sizeof *v, cmp_u64);
            for (size_t i = 0; i < n; i++)
                if (!m || v[m - 1] != v[i])
                    v[m++] = v[i];
            for (size_t i = 0; i < m; i++)
                f->h = mix(f->h, v[i]);
            d->nset = f->set_start;
        }
        h = f->h;
        if (memo_put(d, f->slot, h))
            return -1;
        d->n--;
    }
    d->result = h;
    d->done = 1;
    return 0;
}

/* The digest of a scalar, as _PyCode_ConstantKey tells it apart. */
static uint64_t scalar(ps_digest *d, const pymarshal_token *t)
{
    switch (t->kind) {
    case PYMARSHAL_INT: {
        int64_t v = t->i;
        return leaf('I', &v, sizeof v);
    }
    case PYMARSHAL_BIGINT: {
        uint64_t h = leaf(t->negative ? 'N' : 'P', t->data, 2 * t->len);
        return t->len <= 5 ? mix(h, 'L') : h; /* never equals an int64 */
    }
    case PYMARSHAL_TRUE: case PYMARSHAL_FALSE: case PYMARSHAL_NONE:
    case PYMARSHAL_ELLIPSIS: case PYMARSHAL_STOPITER:
        return leaf('K', &t->kind, sizeof t->kind);
    case PYMARSHAL_FLOAT:
        if (t->f != t->f && !d->nan_by_value) { /* NaN: only itself */
            d->identity = 1;
            return mix('n', t->via_ref ? (uint64_t)t->ref_target << 1
                                       : (uint64_t)t->offset << 1 | 1);
        }
        return leaf('F', &t->f, sizeof t->f);
    case PYMARSHAL_COMPLEX: {
        double c[2] = {t->f, t->imag};
        return leaf('X', c, sizeof c);
    }
    case PYMARSHAL_BYTES: case PYMARSHAL_STR: {
        /* Python 2: str ('s' 't' 'R') and unicode ('u') differ; Python 3:
         * str and bytes. Python 3 text compares by code points, whatever
         * its marshal form (Latin-1 or UTF-8). */
        if (d->py2 || t->kind == PYMARSHAL_BYTES)
            return leaf(d->py2 && t->code == 'u' ? 'u' : t->kind == PYMARSHAL_STR && !d->py2
                                                              ? 'S' : 'B', t->data, t->len);
        uint64_t h = 'S';
        for (size_t i = 0; i < t->len;) {
            uint32_t c = t->data[i++];
            if (t->text == PYMARSHAL_UTF8 && c >= 0x80) {
                int n = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : 1;
                c &= 0x3Fu >> n;
                while (n-- > 0 && i < t->len)
                    c = c << 6 | (t->data[i++] & 0x3Fu);
            }
            h = mix(h, c);
        }
        return h;
    }
    default:
        return 0;
    }
}

int psd_muted(const ps_digest *d)
{
    return d->n && d->f[d->n - 1].kind == PYMARSHAL_CODE &&
           !(compared(d->f[d->n - 1].layout) >> d->f[d->n - 1].field & 1);
}

int psd_begin(ps_digest *d, const pymarshal_token *code)
{
    d->n = 0;
    d->nset = 0;
    d->done = 0;
    d->identity = 0;
    return psd_token(d, code);
}

int psd_token(ps_digest *d, const pymarshal_token *t)
{
    uint64_t h;
    int muted = d->n && d->f[d->n - 1].kind == PYMARSHAL_CODE &&
                !(compared(d->f[d->n - 1].layout) >> d->f[d->n - 1].field & 1);
    if (t->kind == PYMARSHAL_REF) {
        if (muted)
            return give(d, 0) ? -1 : PSD_LEAF;
        if (memo_get(d, t->ref_target, &h))
            return give(d, h) ? -1 : PSD_LEAF;
        return PSD_EXPAND;
    }
    switch (t->kind) {
    case PYMARSHAL_TUPLE: case PYMARSHAL_FROZENSET: case PYMARSHAL_CODE:
        if (muted)
            return give(d, 0) ? -1 : PSD_SKIP;
        if (t->count == 0) {
            h = leaf(t->kind == PYMARSHAL_TUPLE ? 'U' : t->kind == PYMARSHAL_CODE ? 'C' : 'Z',
                     "", 0);
            if (memo_put(d, t->ref_slot, h))
                return -1;
            return give(d, h) ? -1 : PSD_LEAF;
        }
        if (ps_grow(d->s, (void **)&d->f, &d->cap_f, d->n + 1, sizeof *d->f))
            return -1;
        psd_frame *f = &d->f[d->n++];
        f->kind = (uint8_t)t->kind;
        f->layout = t->code_layout;
        f->field = 0;
        f->left = t->count;
        f->slot = t->ref_slot;
        f->set_start = d->nset;
        f->h = t->kind == PYMARSHAL_CODE ? mix('C', t->code_layout)
                                          : mix(t->kind == PYMARSHAL_TUPLE ? 'U' : 'Z', t->count);
        return PSD_DESCEND;
    case PYMARSHAL_LIST: case PYMARSHAL_DICT: case PYMARSHAL_SET: case PYMARSHAL_SLICE:
    case PYMARSHAL_FROZENDICT:
        /* compared by identity in every Python (or never met in code) */
        if (muted)
            return give(d, 0) ? -1 : PSD_SKIP;
        d->identity = 1;
        h = mix('O', t->offset);
        if (memo_put(d, t->ref_slot, h))
            return -1;
        return give(d, h) ? -1 : PSD_SKIP;
    default:
        if (muted)
            return give(d, 0) ? -1 : PSD_LEAF;
        h = scalar(d, t);
        return give(d, h) ? -1 : PSD_LEAF;
    }
}
