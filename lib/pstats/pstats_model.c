/*
 * The model's storage: allocator hook, arena, string interning (XXH3 open
 * addressing), the key table, and the public read-only accessors.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <xxhash.h>

#include "pstats_internal.h"
#include "pstats/version.h"

const char *pstats_version(void) { return PSTATS_VERSION_STRING; }

static void *def_malloc(void *ctx, size_t n) { (void)ctx; return malloc(n); }
static void *def_realloc(void *ctx, void *p, size_t n) { (void)ctx; return realloc(p, n); }
static void def_free(void *ctx, void *p) { (void)ctx; free(p); }

void *ps_malloc(pstats_stats *s, size_t n) { return s->alc.malloc(s->alc.ctx, n ? n : 1); }
void *ps_realloc(pstats_stats *s, void *p, size_t n) { return s->alc.realloc(s->alc.ctx, p, n ? n : 1); }
void ps_free(pstats_stats *s, void *p) { if (p) s->alc.free(s->alc.ctx, p); }

int ps_grow(pstats_stats *s, void **arr, size_t *cap, size_t need, size_t elsize)
{
    if (need <= *cap)
        return 0;
    size_t nc = *cap ? *cap : 16;
    while (nc < need) {
        if (nc > SIZE_MAX / 2)
            return -1;
        nc = nc < 65536 ? nc * 2 : nc + nc / 2; /* big arrays grow by half */
    }
    if (nc > SIZE_MAX / elsize)
        return -1;
    void *p = ps_realloc(s, *arr, nc * elsize);
    if (!p)
        return -1;
    *arr = p;
    *cap = nc;
    return 0;
}

void ps_shrink(pstats_stats *s, void **arr, size_t *cap, size_t n, size_t elsize)
{
    if (n == 0 || n >= *cap)
        return;
    void *p = ps_realloc(s, *arr, n * elsize);
    if (p) { /* a failed shrink keeps the larger block */
        *arr = p;
        *cap = n;
    }
}

/* n bytes from the arena, at a multiple of `align` (a power of 2). */
static void *arena_take(pstats_stats *s, size_t n, size_t align)
{
    pchunk *c = s->arena;
    size_t at = c ? (c->used + align - 1) & ~(align - 1) : 0;
    if (!c || at > c->cap || c->cap - at < n) {
        size_t cap = n > 65536 ? n : 65536;
        c = ps_malloc(s, sizeof(pchunk) + cap);
        if (!c)
            return NULL;
        c->next = s->arena;
        c->used = 0;
        c->cap = cap;
        s->arena = c;
        at = 0;
    }
    c->used = at + n;
    return (char *)(c + 1) + at;
}

void *ps_arena(pstats_stats *s, size_t n) { return arena_take(s, n, 8); }

pstats_stats *pstats_new(const pymarshal_allocator *alloc)
{
    pymarshal_allocator a;
    if (alloc)
        a = *alloc;
    else {
        a.malloc = def_malloc;
        a.realloc = def_realloc;
        a.free = def_free;
        a.ctx = NULL;
    }
    pstats_stats *s = a.malloc(a.ctx, sizeof *s);
    if (!s)
        return NULL;
    memset(s, 0, sizeof *s);
    s->alc = a;
    s->total_calls = s->prim_calls = s->total_tt = pn_int(0);
    return s;
}

void ps_drop_views(pstats_stats *s)
{
    ps_free(s, s->fcn_list);
    ps_free(s, s->callee_off);
    ps_free(s, s->callee_edge);
    ps_free(s, s->callee_src);
    ps_free(s, s->rank);
    s->fcn_list = s->callee_off = s->callee_edge = s->callee_src = s->rank = NULL;
}

void pstats_free(pstats_stats *s)
{
    if (!s)
        return;
    ps_clear(s);
    s->alc.free(s->alc.ctx, s);
}

void ps_replace(pstats_stats *s, pstats_stats *t)
{
    pymarshal_allocator a = s->alc;
    unsigned flags = s->load_flags;
    int no_edges = s->no_edges | t->no_edges; /* t may be rebuilt from s */
    ps_clear(s);
    void (*fr)(void *, void *) = t->alc.free;
    void *ctx = t->alc.ctx;
    *s = *t;
    s->alc = a;
    s->load_flags = flags;
    s->no_edges = no_edges;
    fr(ctx, t);
}

void ps_clear(pstats_stats *s)
{
    ps_drop_views(s);
    ps_free(s, s->strs);
    ps_free(s, s->str_slots);
    ps_free(s, s->keys);
    ps_free(s, s->key_slots);
    ps_free(s, s->edges);
    ps_free(s, s->wedges);
    ps_free(s, s->codes);
    ps_free(s, s->code_slots);
    ps_free(s, s->limbs);
    ps_free(s, s->bigs);
    while (s->arena) {
        pchunk *n = s->arena->next;
        ps_free(s, s->arena);
        s->arena = n;
    }
    for (size_t i = 0; i < s->nmaps; i++) {
        if (s->maps[i].is_mmap)
            munmap(s->maps[i].addr, s->maps[i].len);
        else
            ps_free(s, s->maps[i].addr);
    }
    ps_free(s, s->maps);
    for (size_t i = 0; i < s->ninputs; i++)
        ps_free(s, s->inputs[i].name);
    ps_free(s, s->inputs);
    pymarshal_allocator a = s->alc;
    unsigned flags = s->load_flags;
    memset(s, 0, sizeof *s);
    s->alc = a;
    s->load_flags = flags;
    s->total_calls = s->prim_calls = s->total_tt = pn_int(0);
}

void ps_seterr(pstats_error *err, pstats_errcode code, const char *file,
               int has_offset, size_t offset, const char *fmt, ...)
{
    if (!err)
        return;
    err->code = code;
    err->has_offset = has_offset;
    err->offset = offset;
    snprintf(err->file, sizeof err->file, "%s", file ? file : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
}

void pstats_set_load_flags(pstats_stats *s, unsigned flags) { s->load_flags = flags; }

int pstats_has_edges(const pstats_stats *s) { return !s->no_edges; }

int ps_need_edges(const pstats_stats *s, const char *what, pstats_error *err)
{
    if (!s->no_edges)
        return 0;
    if (err)
        memset(err, 0, sizeof *err);
    ps_seterr(err, PSTATS_EUSAGE, NULL, 0, 0,
              "%s: the model was loaded without its call edges (PSTATS_LOAD_NO_EDGES)", what);
    return -1;
}

int ps_add_input(pstats_stats *s, const char *name, time_t mtime, int has_mtime)
{
    if (ps_grow(s, (void **)&s->inputs, &s->cap_inputs, s->ninputs + 1, sizeof(pinput)))
        return -1;
    size_t n = strlen(name);
    char *c = ps_malloc(s, n + 1);
    if (!c)
        return -1;
    memcpy(c, name, n + 1);
    pinput *in = &s->inputs[s->ninputs++];
    in->name = c;
    in->mtime = mtime;
    in->has_mtime = has_mtime;
    return 0;
}

/* ------------------------------------------------------------ string table */

/* Lookups in a big hash table touch a random page each: ask for
 * transparent huge pages over the block's 2 MB-aligned interior, so that
 * they miss the TLB less (best effort; where THP is "madvise" or
 * "always"). */
static void huge_pages(void *p, size_t n)
{
    const uintptr_t huge = (uintptr_t)2 << 20;
    uintptr_t a = ((uintptr_t)p + huge - 1) & ~(huge - 1);
    uintptr_t b = ((uintptr_t)p + n) & ~(huge - 1);
    if (b > a)
        (void)madvise((void *)a, b - a, MADV_HUGEPAGE);
}

static int rehash(pstats_stats *s, uint64_t **slots, size_t *mask, size_t count, size_t want,
                  uint32_t (*hash_of)(const pstats_stats *, uint32_t))
{
    size_t n = *slots ? (*mask + 1) * 2 : 1024;
    while (n / 4 * 3 < count || n / 4 * 3 < want) /* load factor <= 3/4 */
        n *= 2;
    uint64_t *t = ps_malloc(s, n * sizeof(uint64_t));
    if (!t)
        return -1;
    huge_pages(t, n * sizeof(uint64_t));
    memset(t, 0, n * sizeof(uint64_t));
    for (size_t id = 0; id < count; id++) {
        uint32_t h = hash_of(s, (uint32_t)id);
        size_t i = h & (n - 1);
        while (t[i])
            i = (i + 1) & (n - 1);
        t[i] = (uint64_t)h << 32 | ((uint32_t)id + 1);
    }
    ps_free(s, *slots);
    *slots = t;
    *mask = n - 1;
    return 0;
}

static uint32_t str_hash_of(const pstats_stats *s, uint32_t id) { return s->strs[id].hash; }

uint32_t ps_str_hash(const uint8_t *p, size_t len) { return (uint32_t)XXH3_64bits(p, len); }

uint32_t ps_intern(pstats_stats *s, const uint8_t *p, size_t len, int is_bytes, int keep)
{
    return ps_intern_h(s, p, len, is_bytes, keep, ps_str_hash(p, len));
}

uint32_t ps_intern_h(pstats_stats *s, const uint8_t *p, size_t len, int is_bytes, int keep,
                     uint32_t h)
{
    (void)is_bytes; /* Python 2 str and unicode of the same bytes are one key */
    if (len > UINT32_MAX)
        return UINT32_MAX;
    if (!s->str_slots || s->nstrs + 1 > (s->str_mask + 1) / 4 * 3)
        if (rehash(s, &s->str_slots, &s->str_mask, s->nstrs, 0, str_hash_of))
            return UINT32_MAX;
    size_t i = h & s->str_mask;
    for (uint64_t v; (v = s->str_slots[i]) != 0; i = (i + 1) & s->str_mask) {
        if ((uint32_t)(v >> 32) != h)
            continue;
        const pstr *e = &s->strs[(uint32_t)v - 1];
        if (e->len == len && (len == 0 || memcmp(e->p, p, len) == 0))
            return (uint32_t)v - 1;
    }
    if (s->nstrs >= UINT32_MAX - 1 ||
        ps_grow(s, (void **)&s->strs, &s->cap_strs, s->nstrs + 1, sizeof(pstr)))
        return UINT32_MAX;
    const uint8_t *q = p;
    if (!keep) {
        uint8_t *c = arena_take(s, len + 1, 1); /* bytes: no alignment */
        if (!c)
            return UINT32_MAX;
        if (len)
            memcpy(c, p, len);
        c[len] = 0;
        q = c;
    }
    pstr *e = &s->strs[s->nstrs];
    e->p = q;
    e->len = (uint32_t)len;
    e->hash = h;
    s->str_slots[i] = (uint64_t)h << 32 | (uint32_t)++s->nstrs;
    return (uint32_t)(s->nstrs - 1);
}

/* ---------------------------------------------------------------- keys */

/* A key's hash comes from its strings' hashes, not their ids, so that the
 * fast loader can compute it before the strings are interned. */
static uint32_t key_hash3(const pstats_stats *s, uint32_t file, int64_t line, uint32_t name,
                          uint8_t kkind)
{
    uint32_t nh = kkind == PSTATS_KEY_FUNC ? s->strs[name].hash : name;
    return ps_key_hash(s->strs[file].hash, line, nh, kkind);
}

static uint32_t key_hash_of(const pstats_stats *s, uint32_t id) { return s->keys[id].hash; }

uint32_t ps_key(pstats_stats *s, uint32_t file, int64_t line, uint32_t name,
                uint8_t kkind, int *isnew)
{
    return ps_key_h(s, file, line, name, kkind, key_hash3(s, file, line, name, kkind), isnew);
}

uint32_t ps_key_h(pstats_stats *s, uint32_t file, int64_t line, uint32_t name,
                  uint8_t kkind, uint32_t h, int *isnew)
{
    *isnew = 0;
    if (!s->key_slots || s->nkeys + 1 > (s->key_mask + 1) / 4 * 3)
        if (rehash(s, &s->key_slots, &s->key_mask, s->nkeys, 0, key_hash_of))
            return UINT32_MAX;
    size_t i = h & s->key_mask;
    for (uint64_t v; (v = s->key_slots[i]) != 0; i = (i + 1) & s->key_mask) {
        if ((uint32_t)(v >> 32) != h)
            continue;
        const pkey *k = &s->keys[(uint32_t)v - 1];
        if (k->file == file && k->line == line && k->name == name && k->kkind == kkind)
            return (uint32_t)v - 1;
    }
    if (s->nkeys >= UINT32_MAX - 2 ||
        ps_grow(s, (void **)&s->keys, &s->cap_keys, s->nkeys + 1, sizeof(pkey)))
        return UINT32_MAX;
    pkey *k = &s->keys[s->nkeys];
    memset(k, 0, sizeof *k);
    k->file = file;
    k->line = line;
    k->name = name;
    k->kkind = kkind;
    k->hash = h;
    s->key_slots[i] = (uint64_t)h << 32 | (uint32_t)++s->nkeys;
    *isnew = 1;
    return (uint32_t)(s->nkeys - 1);
}

/* Rebuild the key hash after the key array was permuted. */
int ps_rehash_keys(pstats_stats *s)
{
    ps_free(s, s->key_slots);
    s->key_slots = NULL;
    s->key_mask = 0;
    return rehash(s, &s->key_slots, &s->key_mask, s->nkeys, 0, key_hash_of);
}

int ps_reserve(pstats_stats *s, size_t nstrs, size_t nkeys)
{
    if (nstrs > s->nstrs * 2 &&
        rehash(s, &s->str_slots, &s->str_mask, s->nstrs, nstrs, str_hash_of))
        return -1;
    if (nkeys > s->nkeys * 2 &&
        rehash(s, &s->key_slots, &s->key_mask, s->nkeys, nkeys, key_hash_of))
        return -1;
    return 0;
}

static size_t code_home(const pcode *c, size_t mask)
{
    return (size_t)((c->digest ^ (uint64_t)c->identity * 0x9E3779B97F4A7C15ull) & mask);
}

/* Rebuild the code table with room for twice the codes. */
static int code_rehash(pstats_stats *s)
{
    size_t cap = 16;
    while (cap < 2 * (s->ncodes + 1))
        cap *= 2;
    uint32_t *t = ps_malloc(s, cap * sizeof *t);
    if (!t)
        return -1;
    memset(t, 0, cap * sizeof *t);
    for (size_t i = 0; i < s->ncodes; i++) {
        size_t j = code_home(&s->codes[i], cap - 1);
        while (t[j])
            j = (j + 1) & (cap - 1);
        t[j] = (uint32_t)i + 1;
    }
    ps_free(s, s->code_slots);
    s->code_slots = t;
    s->code_mask = cap - 1;
    return 0;
}

uint32_t ps_code(pstats_stats *s, const pcode *c)
{
    if ((!s->code_slots || 2 * (s->ncodes + 1) > s->code_mask) && code_rehash(s))
        return UINT32_MAX;
    size_t j = code_home(c, s->code_mask);
    for (; s->code_slots[j]; j = (j + 1) & s->code_mask) {
        const pcode *o = &s->codes[s->code_slots[j] - 1];
        if (o->digest == c->digest && o->identity == c->identity)
            return s->code_slots[j] - 1;
    }
    if (s->ncodes >= UINT32_MAX - 1 ||
        ps_grow(s, (void **)&s->codes, &s->cap_codes, s->ncodes + 1, sizeof(pcode)))
        return UINT32_MAX;
    s->codes[s->ncodes] = *c;
    s->code_slots[j] = (uint32_t)++s->ncodes;
    return (uint32_t)(s->ncodes - 1);
}

int ps_strcmp(const pstats_stats *s, uint32_t a, uint32_t b)
{
    if (a == b)
        return 0;
    const pstr *x = &s->strs[a], *y = &s->strs[b];
    size_t n = x->len < y->len ? x->len : y->len;
    int c = n ? memcmp(x->p, y->p, n) : 0;
    if (c)
        return c < 0 ? -1 : 1;
    return x->len < y->len ? -1 : (x->len > y->len ? 1 : 0);
}

/* ------------------------------------------------------------- psb */

void psb_init(psb *b, pstats_stats *s) { memset(b, 0, sizeof *b); b->s = s; }
void psb_free(psb *b) { ps_free(b->s, b->p); b->p = NULL; b->len = b->cap = 0; }

void psb_init_fixed(psb *b, char *buf, size_t size)
{
    memset(b, 0, sizeof *b);
    b->fixed = 1;
    b->p = buf;
    b->cap = size;
    if (size)
        buf[0] = 0;
}

/* A fixed buffer: the bytes that fit before the NUL, all of them counted. */
static void psb_put_fixed(psb *b, const void *p, size_t n)
{
    size_t room = b->cap > b->len + 1 ? b->cap - b->len - 1 : 0;
    size_t k = n < room ? n : room;
    if (k) {
        memcpy(b->p + b->len, p, k);
        b->p[b->len + k] = 0;
    }
    b->len += n;
}

void psb_put(psb *b, const void *p, size_t n)
{
    if (b->fixed) {
        psb_put_fixed(b, p, n);
        return;
    }
    if (b->oom)
        return;
    if (ps_grow(b->s, (void **)&b->p, &b->cap, b->len + n + 1, 1)) {
        b->oom = 1;
        return;
    }
    if (n)
        memcpy(b->p + b->len, p, n);
    b->len += n;
    b->p[b->len] = 0;
}

void psb_puts(psb *b, const char *z) { psb_put(b, z, strlen(z)); }

void psb_pad(psb *b, size_t n)
{
    static const char sp[] = "                                ";
    while (n > 0) {
        size_t k = n < 32 ? n : 32;
        psb_put(b, sp, k);
        n -= k;
    }
}
