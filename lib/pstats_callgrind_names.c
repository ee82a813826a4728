/*
 * Names for the callgrind writer: interning tables and the naming pass.
 *
 * Readers merge functions by name: KCachegrind by (name, file basename),
 * callgrind_annotate by (file, name), gprof2dot by name alone. So every
 * distinct pstats key gets a name of its own: pstats' "file.py:12(name)"
 * with the file's basename, the full path where two keys share that short
 * form (every package's "__init__.py:1(<module>)"), and a "'2" suffix where
 * even that is not enough; built-ins keep pstats' "{built-in method ...}".
 */
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "pstats_callgrind_int.h"

/* ---------------------------------------------------------- allocation */

void *pstats_cg_alloc(const pymarshal_allocator *a, size_t n)
{
    return a ? a->malloc(a->ctx, n) : malloc(n);
}

void *pstats_cg_realloc(const pymarshal_allocator *a, void *p, size_t n)
{
    return a ? a->realloc(a->ctx, p, n) : realloc(p, n);
}

void pstats_cg_free(const pymarshal_allocator *a, void *p)
{
    if (!p)
        return;
    if (a)
        a->free(a->ctx, p);
    else
        free(p);
}

int pstats_cg_grow(const pymarshal_allocator *a, void **arr, size_t *cap, size_t need,
            size_t size)
{
    if (need <= *cap)
        return 0;
    size_t ncap = *cap ? *cap : 16;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2)
            return -1;
        ncap *= 2;
    }
    if (ncap > SIZE_MAX / size)
        return -1;
    void *p = pstats_cg_realloc(a, *arr, ncap * size);
    if (!p)
        return -1;
    *arr = p;
    *cap = ncap;
    return 0;
}

/* --------------------------------------------------------------- bytes */

int pstats_cg_bytes_put(const pymarshal_allocator *a, cg_bytes *b, const void *s, size_t n)
{
    if (n > SIZE_MAX - b->len)
        return -1;
    if (pstats_cg_grow(a, (void **)&b->p, &b->cap, b->len + n, 1) != 0)
        return -1;
    if (n)
        memcpy(b->p + b->len, s, n);
    b->len += n;
    return 0;
}

/* Length of the valid UTF-8 sequence at s (RFC 3629: no overlong forms, no
 * surrogates, at most U+10FFFF), or 0. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t len;
    unsigned lo = 0x80, hi = 0xBF;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        len = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0) lo = 0xA0;
        if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F;
    } else
        return 0;
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    return len;
}

int pstats_cg_bytes_put_name(const pymarshal_allocator *a, cg_bytes *b, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        size_t run = i;
        while (run < n && u[run] >= 0x20 && u[run] < 0x80)
            run++;
        if (run > i && pstats_cg_bytes_put(a, b, s + i, run - i) != 0)
            return -1;
        i = run;
        if (i >= n)
            break;
        unsigned c = u[i];
        size_t len = utf8_seq(u + i, n - i);
        char esc[4];
        if (c == '\n' || c == '\r' || c == '\0') {
            esc[0] = '\\';
            esc[1] = c == '\n' ? 'n' : c == '\r' ? 'r' : '0';
            len = 1;
            if (pstats_cg_bytes_put(a, b, esc, 2) != 0)
                return -1;
        } else if (len == 0) { /* not UTF-8: the byte as Latin-1 */
            esc[0] = (char)(0xC0 | (c >> 6));
            esc[1] = (char)(0x80 | (c & 0x3F));
            len = 1;
            if (pstats_cg_bytes_put(a, b, esc, 2) != 0)
                return -1;
        } else if (pstats_cg_bytes_put(a, b, s + i, len) != 0) {
            return -1;
        }
        i += len;
    }
    return 0;
}

int pstats_cg_bytes_put_i64(const pymarshal_allocator *a, cg_bytes *b, int64_t v)
{
    char tmp[24];
    size_t k = sizeof tmp;
    uint64_t m = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        tmp[--k] = (char)('0' + m % 10);
        m /= 10;
    } while (m);
    if (v < 0)
        tmp[--k] = '-';
    return pstats_cg_bytes_put(a, b, tmp + k, sizeof tmp - k);
}

/* -------------------------------------------------------------- strtab */

static int strtab_rehash(const pymarshal_allocator *a, cg_strtab *t)
{
    size_t nslots = t->nslots ? t->nslots * 2 : 64;
    if (nslots > SIZE_MAX / sizeof(uint32_t))
        return -1;
    uint32_t *slots = pstats_cg_alloc(a, nslots * sizeof *slots);
    if (!slots)
        return -1;
    memset(slots, 0, nslots * sizeof *slots);
    for (size_t i = 0; i < t->n; i++) {
        size_t j = (size_t)t->items[i].hash & (nslots - 1);
        while (slots[j])
            j = (j + 1) & (nslots - 1);
        slots[j] = (uint32_t)(i + 1);
    }
    pstats_cg_free(a, t->slots);
    t->slots = slots;
    t->nslots = nslots;
    return 0;
}

int64_t pstats_cg_strtab_intern(const pymarshal_allocator *a, cg_strtab *t,
                         const char *s, size_t n, int *added)
{
    uint64_t h = XXH3_64bits(s, n);
    *added = 0;
    if (t->nslots) {
        size_t j = (size_t)h & (t->nslots - 1);
        for (; t->slots[j]; j = (j + 1) & (t->nslots - 1)) {
            const cg_strtab_item *it = &t->items[t->slots[j] - 1];
            if (it->hash == h && it->len == n && memcmp(t->text.p + it->off, s, n) == 0)
                return (int64_t)(t->slots[j] - 1);
        }
    }
    if (t->n >= UINT32_MAX - 1)
        return -1;
    if ((t->n + 1) * 2 > t->nslots && strtab_rehash(a, t) != 0)
        return -1;
    if (pstats_cg_grow(a, (void **)&t->items, &t->cap, t->n + 1, sizeof *t->items) != 0)
        return -1;
    size_t off = t->text.len;
    if (pstats_cg_bytes_put(a, &t->text, s, n) != 0)
        return -1;
    cg_strtab_item *it = &t->items[t->n];
    it->off = off;
    it->len = n;
    it->hash = h;
    it->value = 0;
    size_t j = (size_t)h & (t->nslots - 1);
    while (t->slots[j])
        j = (j + 1) & (t->nslots - 1);
    t->slots[j] = (uint32_t)(t->n + 1);
    *added = 1;
    return (int64_t)t->n++;
}

const char *pstats_cg_strtab_str(const cg_strtab *t, size_t i, size_t *len)
{
    *len = t->items[i].len;
    return t->text.p + t->items[i].off;
}

void pstats_cg_strtab_free(const pymarshal_allocator *a, cg_strtab *t)
{
    pstats_cg_free(a, t->text.p);
    pstats_cg_free(a, t->items);
    pstats_cg_free(a, t->slots);
    memset(t, 0, sizeof *t);
}

/* --------------------------------------------------------------- names */

typedef struct name_pass {
    const pymarshal_allocator *a;
    const pstats_stats *const *parts;
    cg_strtab keys;           /* function keys -> global id (their index) */
    struct first_seen { uint32_t part, id; } *first; /* where each global id was met first */
    size_t cap_first;
    cg_bytes scratch;
} name_pass;

/* A function's pstats key as bytes, in np->scratch. */
static int key_bytes(name_pass *np, const pstats_func *f)
{
    cg_bytes *b = &np->scratch;
    char kind = (char)('0' + (int)f->key_kind);
    b->len = 0;
    return pstats_cg_bytes_put(np->a, b, &kind, 1) | pstats_cg_bytes_put_i64(np->a, b, f->line) |
           pstats_cg_bytes_put(np->a, b, "\0", 1) |
           pstats_cg_bytes_put(np->a, b, &f->file_len, sizeof f->file_len) |
           pstats_cg_bytes_put(np->a, b, f->file, f->file_len) |
           pstats_cg_bytes_put(np->a, b, f->name, f->name_len);
}

/* Pass 1: global ids for the union of all parts' functions. */
static int collect_funcs(cg_names *nm, name_pass *np)
{
    for (size_t p = 0; p < nm->nparts; p++) {
        size_t n = pstats_nkeys(np->parts[p]); /* callers-only keys too */
        nm->local[p] = pstats_cg_alloc(np->a, (n ? n : 1) * sizeof(uint32_t));
        if (!nm->local[p])
            return -1;
        if (nm->nparts == 1) { /* one model: its keys are distinct already */
            if (pstats_cg_grow(np->a, (void **)&np->first, &np->cap_first, n ? n : 1,
                               sizeof *np->first) != 0)
                return -1;
            for (size_t i = 0; i < n; i++) {
                nm->local[0][i] = (uint32_t)i;
                np->first[i].part = 0;
                np->first[i].id = (uint32_t)i;
            }
            nm->nfuncs = n;
            return 0;
        }
        for (size_t i = 0; i < n; i++) {
            pstats_func f;
            int added;
            pstats_func_get(np->parts[p], (uint32_t)i, &f);
            if (key_bytes(np, &f) != 0)
                return -1;
            int64_t g = pstats_cg_strtab_intern(np->a, &np->keys, np->scratch.p, np->scratch.len, &added);
            if (g < 0)
                return -1;
            nm->local[p][i] = (uint32_t)g;
            if (!added)
                continue;
            if (pstats_cg_grow(np->a, (void **)&np->first, &np->cap_first, (size_t)g + 1,
                        sizeof *np->first) != 0)
                return -1;
            np->first[g].part = (uint32_t)p;
            np->first[g].id = (uint32_t)i;
        }
    }
    nm->nfuncs = np->keys.n;
    return 0;
}

static const char *base_name(const char *file, size_t len, size_t *blen)
{
    size_t i = len;
    while (i > 0 && file[i - 1] != '/' && file[i - 1] != '\\')
        i--;
    *blen = len - i;
    return file + i;
}

static int is_builtin(const pstats_func *f)
{
    return f->file_len == 1 && f->file[0] == '~' && f->line == 0;
}

/* Function g's name in np->scratch: pstats' label with the file's basename
 * (full == 0) or its whole path (full == 1). */
static int label_bytes(name_pass *np, uint32_t g, int full)
{
    const pstats_stats *s = np->parts[np->first[g].part];
    uint32_t id = np->first[g].id;
    pstats_func f;
    pstats_func_get(s, id, &f);
    cg_bytes *b = &np->scratch;
    b->len = 0;
    if (is_builtin(&f)) {
        char small[256];
        size_t n = pstats_func_label(s, id, small, sizeof small);
        if (n == 0)
            return pstats_cg_bytes_put(np->a, b, "???", 3);
        if (n < sizeof small)
            return pstats_cg_bytes_put_name(np->a, b, small, n);
        char *big = pstats_cg_alloc(np->a, n + 1);
        if (!big)
            return -1;
        pstats_func_label(s, id, big, n + 1);
        int rc = pstats_cg_bytes_put_name(np->a, b, big, n);
        pstats_cg_free(np->a, big);
        return rc;
    }
    size_t flen = f.file_len;
    const char *file = full ? f.file : base_name(f.file, f.file_len, &flen);
    int rc = pstats_cg_bytes_put_name(np->a, b, file, flen) | pstats_cg_bytes_put(np->a, b, ":", 1) |
             pstats_cg_bytes_put_i64(np->a, b, f.line) | pstats_cg_bytes_put(np->a, b, "(", 1);
    if (f.name_len == 0)
        rc |= pstats_cg_bytes_put(np->a, b, "???", 3);
    else
        rc |= pstats_cg_bytes_put_name(np->a, b, f.name, f.name_len);
    return rc | pstats_cg_bytes_put(np->a, b, ")", 1);
}

/* Pass 2: each function's file id. */
static int assign_files(cg_names *nm, name_pass *np)
{
    for (uint32_t g = 0; g < nm->nfuncs; g++) {
        pstats_func f;
        int added;
        pstats_func_get(np->parts[np->first[g].part], np->first[g].id, &f);
        np->scratch.len = 0;
        if (f.file_len == 0 || is_builtin(&f)) {
            if (pstats_cg_bytes_put(np->a, &np->scratch, "~", 1) != 0)
                return -1;
        } else if (pstats_cg_bytes_put_name(np->a, &np->scratch, f.file, f.file_len) != 0) {
            return -1;
        }
        int64_t fid = pstats_cg_strtab_intern(np->a, &nm->files, np->scratch.p, np->scratch.len, &added);
        if (fid < 0)
            return -1;
        nm->func_file[g] = (uint32_t)fid;
    }
    int added;
    int64_t fid = pstats_cg_strtab_intern(np->a, &nm->files, "~", 1, &added);
    if (fid < 0)
        return -1;
    nm->func_file[nm->pseudo] = (uint32_t)fid;
    return 0;
}

/* Interns np->scratch as a new label, adding "'2", "'3", ... until no
 * other function has it. */
static int64_t unique_label(name_pass *np, cg_names *nm)
{
    size_t base = np->scratch.len;
    for (int64_t k = 2;; k++) {
        int added;
        int64_t li = pstats_cg_strtab_intern(np->a, &nm->labels, np->scratch.p, np->scratch.len, &added);
        if (li < 0 || added)
            return li;
        np->scratch.len = base;
        if (pstats_cg_bytes_put(np->a, &np->scratch, "'", 1) != 0 ||
            pstats_cg_bytes_put_i64(np->a, &np->scratch, k) != 0)
            return -1;
    }
}

/* Pass 3: labels, short where the short form is unique. */
static int assign_labels(cg_names *nm, name_pass *np)
{
    cg_strtab shorts;
    memset(&shorts, 0, sizeof shorts);
    uint32_t *short_of = pstats_cg_alloc(np->a, (nm->nfuncs + 1) * sizeof *short_of);
    int rc = short_of ? 0 : -1;
    for (uint32_t g = 0; rc == 0 && g < nm->nfuncs; g++) {
        int added;
        int64_t si = -1;
        if (label_bytes(np, g, 0) == 0)
            si = pstats_cg_strtab_intern(np->a, &shorts, np->scratch.p, np->scratch.len, &added);
        if (si < 0)
            rc = -1;
        else {
            short_of[g] = (uint32_t)si;
            shorts.items[si].value++;
        }
    }
    int added;
    if (rc == 0 && pstats_cg_strtab_intern(np->a, &nm->labels, CG_PSEUDO_NAME,
                                    sizeof CG_PSEUDO_NAME - 1, &added) < 0)
        rc = -1;
    for (uint32_t g = 0; rc == 0 && g < nm->nfuncs; g++) {
        int full = shorts.items[short_of[g]].value > 1;
        int64_t li = label_bytes(np, g, full) == 0 ? unique_label(np, nm) : -1;
        if (li < 0)
            rc = -1;
        else
            nm->func_label[g] = (uint32_t)li;
    }
    nm->func_label[nm->pseudo] = 0;
    pstats_cg_free(np->a, short_of);
    pstats_cg_strtab_free(np->a, &shorts);
    return rc;
}

int pstats_cg_names_build(cg_names *nm, const pstats_stats *const *parts, size_t nparts,
                   const pymarshal_allocator *a, pstats_error *err)
{
    memset(nm, 0, sizeof *nm);
    name_pass np;
    memset(&np, 0, sizeof np);
    np.a = a;
    np.parts = parts;
    nm->nparts = nparts;
    nm->local = pstats_cg_alloc(a, nparts * sizeof *nm->local);
    int rc = nm->local ? 0 : -1;
    if (rc == 0) {
        memset(nm->local, 0, nparts * sizeof *nm->local);
        rc = collect_funcs(nm, &np);
    }
    if (rc == 0) {
        nm->pseudo = (uint32_t)nm->nfuncs;
        nm->func_file = pstats_cg_alloc(a, (nm->nfuncs + 1) * sizeof *nm->func_file);
        nm->func_label = pstats_cg_alloc(a, (nm->nfuncs + 1) * sizeof *nm->func_label);
        rc = nm->func_file && nm->func_label ? 0 : -1;
    }
    if (rc == 0)
        rc = assign_files(nm, &np);
    if (rc == 0)
        rc = assign_labels(nm, &np);
    pstats_cg_strtab_free(a, &np.keys);
    pstats_cg_free(a, np.first);
    pstats_cg_free(a, np.scratch.p);
    if (rc != 0) {
        pstats_cg_names_free(nm, a);
        memset(err, 0, sizeof *err);
        err->code = PSTATS_ENOMEM;
        strcpy(err->msg, "out of memory while naming functions for callgrind");
        return -1;
    }
    return 0;
}

void pstats_cg_names_free(cg_names *nm, const pymarshal_allocator *a)
{
    if (nm->local)
        for (size_t p = 0; p < nm->nparts; p++)
            pstats_cg_free(a, nm->local[p]);
    pstats_cg_free(a, nm->local);
    pstats_cg_free(a, nm->func_file);
    pstats_cg_free(a, nm->func_label);
    pstats_cg_strtab_free(a, &nm->files);
    pstats_cg_strtab_free(a, &nm->labels);
    memset(nm, 0, sizeof *nm);
}
