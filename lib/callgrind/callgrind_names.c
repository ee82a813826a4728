/*
 * Names for the callgrind writer: interning tables and the naming pass.
 *
 * Readers merge functions by name: KCachegrind by (name, file basename),
 * callgrind_annotate by (file, name), gprof2dot by name alone. So every
 * distinct pstats key gets a name of its own: pstats' "file.py:12(name)"
 * with the file's basename, the full path where two keys share that short
 * form (every package's "__init__.py:1(<module>)"), and a "'2" suffix where
 * even that is not enough; built-ins keep pstats' "{built-in method ...}".
 * Names are not copied: hash tables of function ids whose names are built
 * from the model's interned strings when they are compared or written.
 */
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "callgrind_int.h"
#include "pstats_internal.h"

/* --------------------------------------------------------------- bytes */

int pstats_cg_bytes_put_grow(const pymarshal_allocator *a, cg_bytes *b, const void *s,
                             size_t n)
{
    if (n > SIZE_MAX - b->len)
        return -1;
    if (cm_reserve(a, (void **)&b->p, &b->cap, b->len + n, 1) != 0)
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

/* s as a callgrind name at dst, which has room for 2n bytes (every
 * escape or Latin-1 byte takes 2); returns the end. */
static char *put_name_at(char *dst, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    const uint64_t ones = UINT64_C(0x0101010101010101), highs = UINT64_C(0x8080808080808080);
    while (i < n) {
        size_t run = i;
        for (; run + 8 <= n; run += 8) { /* eight printable ASCII bytes at a time */
            uint64_t x;
            memcpy(&x, u + run, 8);
            if ((x | ((x - 0x20 * ones) & ~x)) & highs) /* a byte >= 0x80 or < 0x20 */
                break;
        }
        while (run < n && u[run] >= 0x20 && u[run] < 0x80)
            run++;
        memcpy(dst, s + i, run - i);
        dst += run - i;
        i = run;
        if (i >= n)
            break;
        unsigned c = u[i];
        size_t len = utf8_seq(u + i, n - i);
        if (c == '\n' || c == '\r' || c == '\0') {
            *dst++ = '\\';
            *dst++ = c == '\n' ? 'n' : c == '\r' ? 'r' : '0';
            len = 1;
        } else if (len == 0) { /* not UTF-8: the byte as Latin-1 */
            *dst++ = (char)(0xC0 | (c >> 6));
            *dst++ = (char)(0x80 | (c & 0x3F));
            len = 1;
        } else {
            memcpy(dst, s + i, len);
            dst += len;
        }
        i += len;
    }
    return dst;
}

/* Room for k more bytes in b; NULL when out of memory. */
static char *room(const pymarshal_allocator *a, cg_bytes *b, size_t k)
{
    if (k > b->cap - b->len &&
        (k > SIZE_MAX - b->len || cm_reserve(a, (void **)&b->p, &b->cap, b->len + k, 1) != 0))
        return NULL;
    return b->p + b->len;
}

int pstats_cg_bytes_put_name(const pymarshal_allocator *a, cg_bytes *b, const char *s, size_t n)
{
    char *p = n > SIZE_MAX / 2 ? NULL : room(a, b, 2 * n);
    if (!p)
        return -1;
    b->len = (size_t)(put_name_at(p, s, n) - b->p);
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
    uint32_t *slots = cm_malloc(a, nslots * sizeof *slots);
    if (!slots)
        return -1;
    memset(slots, 0, nslots * sizeof *slots);
    for (size_t i = 0; i < t->n; i++) {
        size_t j = (size_t)t->items[i].hash & (nslots - 1);
        while (slots[j])
            j = (j + 1) & (nslots - 1);
        slots[j] = (uint32_t)(i + 1);
    }
    cm_free(a, t->slots);
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
    if (cm_reserve(a, (void **)&t->items, &t->cap, t->n + 1, sizeof *t->items) != 0)
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
    cm_free(a, t->text.p);
    cm_free(a, t->items);
    cm_free(a, t->slots);
    memset(t, 0, sizeof *t);
}

/* --------------------------------------------------------------- names */

/* A function's key as the model holds it: no copies. A code-object key's
 * name is the code's co_name; `code` (else NULL) tells the rest of it. */
typedef struct fpieces {
    const pstats_stats *s;
    uint32_t id;
    const pkey *k;
    const pstr *file, *name;
    const pcode *code;
} fpieces;

static void pieces_of(const pstats_stats *s, uint32_t id, fpieces *fp)
{
    fp->s = s;
    fp->id = id;
    fp->k = &s->keys[id];
    fp->file = &s->strs[fp->k->file];
    fp->code = fp->k->kkind == PSTATS_KEY_CODE ? &s->codes[fp->k->name] : NULL;
    fp->name = &s->strs[fp->code ? fp->code->name : fp->k->name];
}

static uint32_t part_of(const cg_names *nm, uint32_t g)
{
    return nm->first ? nm->first[g].part : 0;
}

static void pieces(const cg_names *nm, uint32_t g, fpieces *fp)
{
    pieces_of(nm->parts[part_of(nm, g)], nm->first ? nm->first[g].id : g, fp);
}

static int is_builtin(const fpieces *fp)
{
    return fp->file->len == 1 && fp->file->p[0] == '~' && fp->k->line == 0;
}

/* Whether one of the eight bytes of x is c (x ^ c*ones has a zero byte). */
static inline int has_byte(uint64_t x, unsigned char c)
{
    const uint64_t ones = UINT64_C(0x0101010101010101), highs = UINT64_C(0x8080808080808080);
    uint64_t y = x ^ (ones * c);
    return ((y - ones) & ~y & highs) != 0;
}

/* After the last '/' or '\\': paths are long, so eight bytes at a time
 * from the end until a word holds a separator. */
static const char *base_name(const char *file, size_t len, size_t *blen)
{
    size_t i = len;
    while (i >= 8) {
        uint64_t x;
        memcpy(&x, file + i - 8, 8);
        if (has_byte(x, '/') || has_byte(x, '\\'))
            break;
        i -= 8;
    }
    while (i > 0 && file[i - 1] != '/' && file[i - 1] != '\\')
        i--;
    *blen = len - i;
    return file + i;
}

/* A built-in's label: pstats' "{method 'x' of 'y' objects}" or its name. */
static int builtin_label(const pymarshal_allocator *a, const fpieces *fp, cg_bytes *b)
{
    const char *n = (const char *)fp->name->p;
    size_t len = fp->name->len;
    if (fp->k->kkind != PSTATS_KEY_CODE) {
        if (len == 0)
            return pstats_cg_bytes_put(a, b, "???", 3);
        if (len < 2 || n[0] != '<' || n[len - 1] != '>')
            return pstats_cg_bytes_put_name(a, b, n, len);
        return pstats_cg_bytes_put(a, b, "{", 1) |
               pstats_cg_bytes_put_name(a, b, n + 1, len - 2) |
               pstats_cg_bytes_put(a, b, "}", 1);
    }
    /* "~:0(<code object ...>)": the model's own label (which allocates
     * nothing: safe in two threads, and no allocator but ours is called) */
    size_t ln = pstats_func_label(fp->s, fp->id, NULL, 0);
    char *big = cm_malloc(a, ln + 1);
    if (!big)
        return -1;
    pstats_func_label(fp->s, fp->id, big, ln + 1);
    int rc = ln ? pstats_cg_bytes_put_name(a, b, big, ln) : pstats_cg_bytes_put(a, b, "???", 3);
    cm_free(a, big);
    return rc;
}

/* Function g's callgrind name with `tag` (CG_FULL: the whole path instead
 * of the basename; low bits: the "'k" suffix, 0 for none) in b. */
static int label_build(const cg_names *nm, const pymarshal_allocator *a, uint32_t g,
                       uint32_t tag, cg_bytes *b)
{
    b->len = 0;
    if (g == nm->pseudo)
        return pstats_cg_bytes_put(a, b, CG_PSEUDO_NAME, sizeof CG_PSEUDO_NAME - 1);
    if (g == nm->root)
        return pstats_cg_bytes_put(a, b, CG_ROOT_NAME, sizeof CG_ROOT_NAME - 1);
    fpieces fp;
    pieces(nm, g, &fp);
    int rc;
    if (is_builtin(&fp)) {
        rc = builtin_label(a, &fp, b);
    } else { /* "file:line(name)", written in place: the hot case */
        size_t flen = fp.file->len, nlen = fp.name->len;
        const char *file = (const char *)fp.file->p;
        if (!(tag & CG_FULL))
            file = base_name(file, flen, &flen);
        char *p = flen > SIZE_MAX / 4 || nlen > SIZE_MAX / 4 ? NULL
                                                             : room(a, b, 2 * (flen + nlen) + 32);
        if (!p)
            return -1;
        p = put_name_at(p, file, flen);
        *p++ = ':';
        if (fp.k->line < 0)
            *p++ = '-';
        p = pstats_cg_put_u64(p, fp.k->line < 0 ? (uint64_t)0 - (uint64_t)fp.k->line
                                                : (uint64_t)fp.k->line);
        *p++ = '(';
        if (nlen == 0) {
            memcpy(p, "???", 3);
            p += 3;
        } else {
            p = put_name_at(p, (const char *)fp.name->p, nlen);
        }
        *p++ = ')';
        b->len = (size_t)(p - b->p);
        rc = 0;
    }
    if ((tag & ~CG_FULL) && rc == 0)
        rc = pstats_cg_bytes_put(a, b, "'", 1) |
             pstats_cg_bytes_put_i64(a, b, (int64_t)(tag & ~CG_FULL));
    return rc;
}

int pstats_cg_label(const cg_names *nm, uint32_t g, cg_bytes *b, const pymarshal_allocator *a)
{
    return label_build(nm, a, g, nm->tag[g], b);
}

/* The naming pass: hash tables of global ids whose keys are computed from
 * the model on demand; hash[] holds each id's current hash. A slot holds
 * the id + 1 and the high half of its hash, so that a probe reads one
 * cache line, not also hash[] (0: empty). */
typedef struct name_pass {
    cg_names *nm;
    const pymarshal_allocator *a;
    uint64_t *hash;
    uint64_t *slots;
    size_t mask;
    cg_bytes sc1, sc2;
} name_pass;

static inline uint64_t slot_make(uint64_t h, uint32_t id)
{
    return (h & ~UINT64_C(0xffffffff)) | ((uint64_t)id + 1);
}

static inline int slot_match(uint64_t slot, uint64_t h)
{
    return (slot ^ h) >> 32 == 0;
}

static inline uint32_t slot_id(uint64_t slot)
{
    return (uint32_t)slot - 1;
}

/* An empty table for up to n ids (at most 3/4 full: probes are
 * prefetched, and the slots are 8 bytes). */
static int table_init(name_pass *np, size_t n)
{
    size_t ns = 16;
    while (ns - ns / 4 < n) {
        if (ns > SIZE_MAX / 2 / sizeof *np->slots)
            return -1;
        ns *= 2;
    }
    if (!np->slots || np->mask + 1 != ns) { /* else the same size again: reused,
                                              * its pages already mapped */
        cm_free(np->a, np->slots);
        np->slots = cm_malloc(np->a, ns * sizeof *np->slots);
        if (!np->slots)
            return -1;
    }
    memset(np->slots, 0, ns * sizeof *np->slots);
    np->mask = ns - 1;
    return 0;
}

static uint64_t key_hash(const fpieces *fp)
{
    uint64_t seed = (uint64_t)fp->k->line * UINT64_C(0x9E3779B97F4A7C15) ^ fp->k->kkind;
    seed = XXH3_64bits_withSeed(fp->file->p, fp->file->len, seed);
    return XXH3_64bits_withSeed(fp->name->p, fp->name->len, seed);
}

static int same_str(const pstr *x, const pstr *y)
{
    return x->len == y->len && (x->len == 0 || memcmp(x->p, y->p, x->len) == 0);
}

/* Same pstats key: kind, line, file and name bytes; for a code object also
 * what the model tells its code objects apart by (digest and identity) and
 * its file and first line, so that no two keys of one part ever share a
 * global id. */
static int same_key(const fpieces *x, const fpieces *y)
{
    if (x->k->kkind != y->k->kkind || x->k->line != y->k->line ||
        !same_str(x->file, y->file) || !same_str(x->name, y->name))
        return 0;
    return !x->code || (x->code->digest == y->code->digest &&
                        x->code->identity == y->code->identity &&
                        x->code->firstlineno == y->code->firstlineno &&
                        same_str(&x->s->strs[x->code->filename],
                                 &y->s->strs[y->code->filename]));
}

/* Pass 1 (several parts): global ids for the union of all parts' keys, in
 * first-seen order. */
static int collect_funcs(name_pass *np)
{
    cg_names *nm = np->nm;
    size_t total = 0;
    for (size_t p = 0; p < nm->nparts; p++)
        total += pstats_nkeys(nm->parts[p]); /* callers-only keys too */
    if (total >= UINT32_MAX - 3)
        return -1;
    nm->local = cm_malloc(np->a, nm->nparts * sizeof *nm->local);
    if (!nm->local)
        return -1;
    memset(nm->local, 0, nm->nparts * sizeof *nm->local);
    nm->first = cm_malloc(np->a, (total + 1) * sizeof *nm->first);
    np->hash = cm_malloc(np->a, (total + 2) * sizeof *np->hash);
    if (!nm->first || !np->hash || table_init(np, total) != 0)
        return -1;
    for (size_t p = 0; p < nm->nparts; p++) {
        size_t n = pstats_nkeys(nm->parts[p]);
        nm->local[p] = cm_malloc(np->a, (n ? n : 1) * sizeof(uint32_t));
        if (!nm->local[p])
            return -1;
        for (uint32_t i = 0; i < n; i++) {
            fpieces fp, fq;
            pieces_of(nm->parts[p], i, &fp);
            uint64_t h = key_hash(&fp);
            size_t j = (size_t)h & np->mask;
            uint32_t g = UINT32_MAX;
            for (; np->slots[j]; j = (j + 1) & np->mask) {
                if (!slot_match(np->slots[j], h))
                    continue;
                uint32_t r = slot_id(np->slots[j]);
                pieces(nm, r, &fq);
                if (same_key(&fp, &fq)) {
                    g = r;
                    break;
                }
            }
            if (g == UINT32_MAX) {
                g = (uint32_t)nm->nfuncs++;
                nm->first[g].part = (uint32_t)p;
                nm->first[g].id = i;
                np->hash[g] = h;
                np->slots[j] = slot_make(h, g);
            }
            nm->local[p][i] = g;
        }
    }
    return 0;
}

/* Pass 2: each function's file id; the file names are escaped and interned
 * once per model string. */
static int assign_files(name_pass *np, const pymarshal_allocator *a)
{
    cg_names *nm = np->nm;
    uint32_t *memo = NULL, cur = UINT32_MAX;
    int rc = 0;
    for (uint32_t g = 0; rc == 0 && g < nm->nfuncs; g++) {
        fpieces fp;
        pieces(nm, g, &fp);
        if (part_of(nm, g) != cur) { /* ids grow part by part */
            cur = part_of(nm, g);
            cm_free(a, memo);
            memo = cm_malloc(a, (fp.s->nstrs ? fp.s->nstrs : 1) * sizeof *memo);
            if (!memo)
                return -1;
            memset(memo, 0xff, fp.s->nstrs * sizeof *memo);
        }
        uint32_t sid = fp.k->file;
        if (memo[sid] == UINT32_MAX) {
            int added;
            np->sc1.len = 0;
            rc = fp.file->len == 0
                     ? pstats_cg_bytes_put(a, &np->sc1, "~", 1)
                     : pstats_cg_bytes_put_name(a, &np->sc1, (const char *)fp.file->p,
                                                fp.file->len);
            int64_t fid = rc ? -1 : pstats_cg_strtab_intern(a, &nm->files, np->sc1.p,
                                                            np->sc1.len, &added);
            rc = fid < 0 ? -1 : 0;
            memo[sid] = (uint32_t)fid;
        }
        nm->func_file[g] = memo[sid];
    }
    cm_free(a, memo);
    int added;
    int64_t fid = rc ? -1 : pstats_cg_strtab_intern(a, &nm->files, "~", 1, &added);
    if (fid < 0)
        return -1;
    nm->func_file[nm->pseudo] = nm->func_file[nm->root] = (uint32_t)fid;
    return 0;
}

static int same_bytes(const cg_bytes *x, const cg_bytes *y)
{
    return x->len == y->len && (x->len == 0 || memcmp(x->p, y->p, x->len) == 0);
}

/* Looks up g's name with `tag` (hash h; in np->sc1 once *built) among the
 * ids in the table, whose names have tags tags[r]. Returns 1 and the id in
 * *found when present, 0 and the free slot in *slot when not, -1 on OOM. */
static int find_label(name_pass *np, uint32_t g, uint32_t tag, uint64_t h, int *built,
                      const uint32_t *tags, uint32_t *found, size_t *slot)
{
    size_t j = (size_t)h & np->mask;
    for (; np->slots[j]; j = (j + 1) & np->mask) {
        if (!slot_match(np->slots[j], h))
            continue;
        uint32_t r = slot_id(np->slots[j]);
        if (!*built && label_build(np->nm, np->a, g, tag, &np->sc1) != 0)
            return -1;
        *built = 1;
        if (label_build(np->nm, np->a, r, tags ? tags[r] : 0, &np->sc2) != 0)
            return -1;
        if (same_bytes(&np->sc1, &np->sc2)) {
            *found = r;
            return 1;
        }
    }
    *slot = j;
    return 0;
}

/* The tables are far larger than the caches at scale: the first slot of
 * a later id's probe is fetched while this one's is looked at. */
#define CG_AHEAD 16

static inline void prefetch_slot(const name_pass *np, size_t g, size_t n)
{
    if (g < n)
        __builtin_prefetch(&np->slots[np->hash[g] & np->mask]);
}

/* Passes 2 and 3a in two threads: the helper (half 0) assigns the file ids
 * (serial by nature) and hashes the short names (label_build with tag 0)
 * of the first functions into np->hash, the caller hashes the rest
 * (label_build only reads the models; each half has its own scratch). */
typedef struct first_job {
    name_pass *np;
    cg_bytes sc[2];
} first_job;

static int first_half(void *ctx, int half, size_t from, size_t to, const pymarshal_allocator *a)
{
    first_job *j = ctx;
    cg_bytes *b = &j->sc[half];
    if (half == 0 && assign_files(j->np, a) != 0)
        return -1;
    for (size_t g = from; g < to; g++) {
        if (label_build(j->np->nm, a, (uint32_t)g, 0, b) != 0)
            return -1;
        j->np->hash[g] = XXH3_64bits(b->p, b->len);
    }
    return 0;
}

/* Building and hashing names is most of the naming pass: two threads from
 * this many functions up. */
#define CG_PAR_NAMES 16384

static int files_and_hashes(name_pass *np)
{
    size_t n = np->nm->nfuncs;
    first_job j;
    memset(&j, 0, sizeof j);
    j.np = np;
    int threads = n >= CG_PAR_NAMES || np->nm->forced;
    /* the helper's share is smaller: it assigns the files first */
    int rc = cm_halves(first_half, &j, n, n / 5 * 2, threads, np->a);
    cm_free(np->a, j.sc[0].p);
    cm_free(np->a, j.sc[1].p);
    return rc;
}

/* Pass 3b: which short names ("file.py:12(name)", hashed in np->hash)
 * more than one function has; those functions get the whole path (nm->tag[g] = CG_FULL): the
 * first one with a name and every later one that finds it taken. */
static int mark_shared_shorts(name_pass *np)
{
    cg_names *nm = np->nm;
    size_t n = nm->nfuncs;
    int rc = table_init(np, n);
    memset(nm->tag, 0, n * sizeof *nm->tag);
    for (uint32_t g = 0; rc == 0 && g < n; g++) {
        uint32_t rep;
        size_t slot;
        int built = 0;
        prefetch_slot(np, g + CG_AHEAD, n);
        int hit = find_label(np, g, 0, np->hash[g], &built, NULL, &rep, &slot);
        if (hit < 0)
            rc = -1;
        else if (hit == 0)
            np->slots[slot] = slot_make(np->hash[g], g);
        else
            nm->tag[g] = nm->tag[rep] = CG_FULL;
    }
    return rc;
}

/* Pass 4: every name unique, "'2", "'3", ... added in id order where a
 * name is taken already (the pseudo-functions' first). */
static int assign_labels(name_pass *np)
{
    cg_names *nm = np->nm;
    size_t slot;
    uint32_t r;
    int built = 1;
    if (table_init(np, nm->nfuncs + 2) != 0)
        return -1;
    for (uint32_t g = nm->pseudo; g <= nm->root; g++) {
        nm->tag[g] = 0;
        if (label_build(nm, np->a, g, 0, &np->sc1) != 0)
            return -1;
        np->hash[g] = XXH3_64bits(np->sc1.p, np->sc1.len);
        built = 0;
        if (find_label(np, g, 0, np->hash[g], &built, nm->tag, &r, &slot) < 0)
            return -1;
        np->slots[slot] = slot_make(np->hash[g], g);
    }
    for (uint32_t g = 0; g < nm->nfuncs; g++) { /* hash[g]: the short name's */
        if (!(nm->tag[g] & CG_FULL))
            continue;
        if (label_build(nm, np->a, g, nm->tag[g], &np->sc1) != 0)
            return -1;
        np->hash[g] = XXH3_64bits(np->sc1.p, np->sc1.len);
    }
    for (uint32_t g = 0; g < nm->nfuncs; g++) {
        uint32_t tag = nm->tag[g];
        uint64_t h = np->hash[g];
        built = 0;
        prefetch_slot(np, g + CG_AHEAD, nm->nfuncs);
        for (uint32_t k = 2;; k++) {
            int hit = find_label(np, g, tag, h, &built, nm->tag, &r, &slot);
            if (hit < 0)
                return -1;
            if (hit == 0)
                break;
            tag = (tag & CG_FULL) | k;
            if (label_build(nm, np->a, g, tag, &np->sc1) != 0)
                return -1;
            h = XXH3_64bits(np->sc1.p, np->sc1.len);
        }
        nm->tag[g] = tag;
        np->hash[g] = h;
        np->slots[slot] = slot_make(h, g);
    }
    return 0;
}

static int names_build(name_pass *np)
{
    cg_names *nm = np->nm;
    if (nm->nparts > 1) {
        if (collect_funcs(np) != 0)
            return -1;
    } else {
        nm->nfuncs = pstats_nkeys(nm->parts[0]);
        if (nm->nfuncs >= UINT32_MAX - 3)
            return -1;
        np->hash = cm_malloc(np->a, (nm->nfuncs + 2) * sizeof *np->hash);
        if (!np->hash)
            return -1;
    }
    nm->pseudo = (uint32_t)nm->nfuncs;
    nm->root = nm->pseudo + 1;
    nm->func_file = cm_malloc(np->a, (nm->nfuncs + 2) * sizeof *nm->func_file);
    nm->tag = cm_malloc(np->a, (nm->nfuncs + 2) * sizeof *nm->tag);
    if (!nm->func_file || !nm->tag)
        return -1;
    if (files_and_hashes(np) != 0 || mark_shared_shorts(np) != 0)
        return -1;
    return assign_labels(np);
}

int pstats_cg_names_build(cg_names *nm, const pstats_stats *const *parts, size_t nparts,
                   const pymarshal_allocator *a, pstats_error *err)
{
    memset(nm, 0, sizeof *nm);
    name_pass np;
    memset(&np, 0, sizeof np);
    np.nm = nm;
    np.a = a;
    nm->parts = parts;
    nm->nparts = nparts;
    for (size_t p = 0; p < nparts; p++)
        nm->forced |= ps_threads_forced(parts[p]);
    int rc = names_build(&np);
    cm_free(a, np.hash);
    cm_free(a, np.slots);
    cm_free(a, np.sc1.p);
    cm_free(a, np.sc2.p);
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
            cm_free(a, nm->local[p]);
    cm_free(a, nm->local);
    cm_free(a, nm->first);
    cm_free(a, nm->func_file);
    cm_free(a, nm->tag);
    pstats_cg_strtab_free(a, &nm->files);
    memset(nm, 0, sizeof *nm);
}
