/*
 * dump_stats(): the model as a marshal file that Python's pstats loads.
 * Python 3 models: marshal version 4 with every string and key tuple
 * written once and referenced after. Python 2 models: version 2 with byte
 * strings, which Python 2.7 loads (it knows no references). Code-object
 * keys are written as code objects that print as the originals and compare
 * as the model compared them (put_code).
 *
 * The bytes are exactly what libpymarshal's writer makes of the same calls
 * (test/pstats_writer_tests.c compares the two), formatted here straight into
 * buffers: the entries are cut into chunks that two threads format and the
 * calling thread writes in order (lib/common's cm_ordered_run). Which
 * occurrence of a string or key is its first, and so which reference
 * number it takes, depends on everything written before it: a walk just
 * ahead of the formatting (prepare_chunk, in the writing thread, in order)
 * numbers each string and key where it first occurs, and the formatter of
 * a chunk, counting from the chunk's first number, knows an occurrence is
 * the first when its number is the next one.
 */
#include <string.h>

#include "pstats_internal.h"

#define NONE UINT32_MAX
#define FLAG_REF 0x80
/* A chunk ends after about this many edges and entries (64-160 KB). */
#define CHUNK_UNITS 4096u
/* Below this many units one thread formats and writes. */
#define THREADS_FROM (16u * CHUNK_UNITS)

enum { W_OK = 0, W_NOMEM, W_UTF8, W_LENGTH };

typedef struct wbuf {
    uint8_t *p;
    size_t len, cap;
} wbuf;

typedef struct wjob {
    const pstats_stats *s;
    const pymarshal_allocator *a; /* locked while two threads format */
    int refs;                     /* version 4 with references; else 2, bytes */
    uint32_t *str_slot, *key_slot;/* refs: reference numbers, NONE until met */
    uint32_t next_slot;           /* the walk's next reference number */
    size_t *cuts, ncuts;          /* chunk i: entries cuts[i] .. cuts[i+1] */
    uint32_t *first_slot;         /* chunk i's first reference number */
    wbuf buf[CM_SLOTS];
    int fail[2];                  /* per worker: W_* */
} wjob;

/* Formatting one chunk. */
typedef struct wcur {
    const wjob *j;
    const pstats_stats *s;
    wbuf *b;
    uint32_t slot;                /* the next reference number */
    int fail;
} wcur;

/* ------------------------------------------------------------ bytes */

/* Room for n more bytes; 0 when there is none (out of memory). */
static int room(wcur *c, size_t n)
{
    wbuf *b = c->b;
    if (b->cap - b->len >= n)
        return 1;
    if (c->fail)
        return 0;
    size_t cap = b->cap ? b->cap : 65536;
    while (cap - b->len < n) {
        if (cap > SIZE_MAX / 2) {
            c->fail = W_NOMEM;
            return 0;
        }
        cap *= 2;
    }
    uint8_t *p = cm_realloc(c->j->a, b->p, cap);
    if (!p) {
        c->fail = W_NOMEM;
        return 0;
    }
    b->p = p;
    b->cap = cap;
    return 1;
}

static inline uint8_t *at(wcur *c) { return c->b->p + c->b->len; }

static inline void le32(uint8_t *p, uint32_t u)
{
    p[0] = (uint8_t)u;
    p[1] = (uint8_t)(u >> 8);
    p[2] = (uint8_t)(u >> 16);
    p[3] = (uint8_t)(u >> 24);
}

static inline void le64(uint8_t *p, uint64_t u)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(p, &u, 8);
#else
    le32(p, (uint32_t)u);
    le32(p + 4, (uint32_t)(u >> 32));
#endif
}

/* A code byte and a 32-bit field. */
static inline void put5(wcur *c, uint8_t code, uint32_t v)
{
    if (!room(c, 5))
        return;
    uint8_t *p = at(c);
    p[0] = code;
    le32(p + 1, v);
    c->b->len += 5;
}

static inline void put1(wcur *c, uint8_t code)
{
    if (!room(c, 1))
        return;
    *at(c) = code;
    c->b->len++;
}

/* A tuple header of n items (n < 256): ')' in version 4, '(' in 2. */
static inline void put_tuple(wcur *c, uint32_t n, uint8_t flag)
{
    if (!c->j->refs) {
        put5(c, '(', n);
    } else if (room(c, 2)) {
        uint8_t *p = at(c);
        p[0] = (uint8_t)(')' | flag);
        p[1] = (uint8_t)n;
        c->b->len += 2;
    }
}

static inline void put_float(wcur *c, uint64_t bits)
{
    if (!room(c, 9))
        return;
    uint8_t *p = at(c);
    p[0] = 'g';
    le64(p + 1, bits);
    c->b->len += 9;
}

/* 'l': a big int's 15-bit digits, least significant first. */
static void put_digits(wcur *c, const uint16_t *d, size_t nd, int neg)
{
    if (nd > INT32_MAX) {
        c->fail = W_LENGTH;
        return;
    }
    if (!room(c, 5 + 2 * nd))
        return;
    uint8_t *p = at(c);
    p[0] = 'l';
    le32(p + 1, neg ? (uint32_t)-(int32_t)nd : (uint32_t)nd);
    for (size_t k = 0; k < nd; k++) {
        p[5 + 2 * k] = (uint8_t)d[k];
        p[6 + 2 * k] = (uint8_t)(d[k] >> 8);
    }
    c->b->len += 5 + 2 * nd;
}

/* An int as Python writes it: 'i' in 32 bits; beyond, 'I' (version 2,
 * Python 2's int) or a long. */
static void put_int(wcur *c, int64_t v)
{
    if (v >= INT32_MIN && v <= INT32_MAX) {
        put5(c, 'i', (uint32_t)(int32_t)v);
    } else if (!c->j->refs) {
        if (!room(c, 9))
            return;
        uint8_t *p = at(c);
        p[0] = 'I';
        le64(p + 1, (uint64_t)v);
        c->b->len += 9;
    } else {
        uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
        uint16_t d[5];
        size_t n = 0;
        for (; u; u >>= 15)
            d[n++] = (uint16_t)(u & 0x7fff);
        put_digits(c, d, n, v < 0);
    }
}

/* Any number as a 'l' long (a big int, or a Python 2 long). */
static void put_long(wcur *c, pnum n)
{
    uint16_t small[64], *d = small;
    size_t nd = pn_ndigits15(c->s, n);
    if (nd > 64 && !(d = cm_malloc(c->j->a, nd * sizeof *d))) {
        c->fail = W_NOMEM;
        return;
    }
    int neg;
    pn_to_digits(c->s, n, d, &neg);
    put_digits(c, d, nd, neg);
    if (d != small)
        cm_free(c->j->a, d);
}

static void put_num(wcur *c, pnum n)
{
    if (n.kind == PN_INT)
        put_int(c, n.u.i);
    else if (n.kind == PN_FLOAT)
        put_float(c, (uint64_t)n.u.i);
    else
        put_long(c, n);
}

/* A string's type byte and length field (flag: FLAG_REF or 0), as
 * libpymarshal's writer picks them; 0 when it refuses the text. */
static size_t str_header(wcur *c, const uint8_t *s, size_t len, uint8_t flag, uint8_t *h)
{
    if (len > INT32_MAX) {
        c->fail = W_LENGTH;
        return 0;
    }
    if (!c->j->refs) { /* Python 2: byte strings */
        h[0] = 's';
    } else if (cm_ascii(s, len)) {
        if (len < 256) {
            h[0] = (uint8_t)('z' | flag);
            h[1] = (uint8_t)len;
            return 2;
        }
        h[0] = (uint8_t)('a' | flag);
    } else {
        size_t bad;
        if (!cm_utf8_valid(s, len, &bad)) {
            c->fail = W_UTF8;
            return 0;
        }
        h[0] = (uint8_t)('u' | flag);
    }
    le32(h + 1, (uint32_t)len);
    return 5;
}

static void put_bytes(wcur *c, const uint8_t *s, size_t len, uint8_t flag)
{
    uint8_t h[5];
    size_t hn = str_header(c, s, len, flag, h);
    if (!hn || !room(c, hn + len))
        return;
    uint8_t *p = at(c);
    memcpy(p, h, hn);
    if (len)
        memcpy(p + hn, s, len);
    c->b->len += hn + len;
}

/* A string object of type `code` ('s': bytes, 'u': text) in full, with
 * no reference number: the type, the length, the bytes. */
static void put_counted(wcur *c, uint8_t code, const uint8_t *s, size_t len)
{
    if (len > INT32_MAX) {
        c->fail = W_LENGTH;
        return;
    }
    put5(c, code, (uint32_t)len);
    if (len && room(c, len)) {
        memcpy(at(c), s, len);
        c->b->len += len;
    }
}

/* A model string: its first occurrence in full (version 4: with a
 * reference number), a reference after. */
static void put_str(wcur *c, uint32_t id)
{
    const pstr *p = &c->s->strs[id];
    if (!c->j->refs) {
        put_counted(c, 's', p->p, p->len);
        return;
    }
    uint32_t slot = c->j->str_slot[id];
    if (slot != c->slot) {
        put5(c, 'r', slot);
        return;
    }
    c->slot++;
    put_bytes(c, p->p, p->len, FLAG_REF);
}

static pymarshal_code_layout code_layout(const pcode *co)
{
    return co->layout ? (pymarshal_code_layout)co->layout : PYMARSHAL_CODE_PY38;
}

/* Whether a code object's name and file are written as the file's other
 * strings are: Python 2.7's layout wants byte strings, the others text,
 * whatever the file (a file that mixes them loads in libpymarshal only,
 * but must come back as it was read). */
static int code_text_shared(const wjob *j, const pcode *co)
{
    return !j->refs == (code_layout(co) == PYMARSHAL_CODE_PY27);
}

/* A code object's name or file: a model string, or written in full in the
 * kind its layout wants (no reference) where the file's strings differ. */
static void put_code_text(wcur *c, const pcode *co, uint32_t id)
{
    if (code_text_shared(c->j, co)) {
        put_str(c, id);
        return;
    }
    const pstr *p = &c->s->strs[id];
    int py27 = code_layout(co) == PYMARSHAL_CODE_PY27;
    size_t bad;
    if (!py27 && !cm_utf8_valid(p->p, p->len, &bad)) {
        c->fail = W_UTF8;
        return;
    }
    put_counted(c, py27 ? 's' : 'u', p->p, p->len);
}

/* A code object that prints as the one read (name, file, first line) and
 * that Python finds equal to another written here exactly when the model
 * does: its constants hold the digest of what Python compared (the model
 * keeps no more of the original). Every Python loads it in the layout it
 * was read in: no bytecode, no names, nothing to run. */
static void put_code(wcur *c, const pcode *co)
{
    pymarshal_code_layout layout = code_layout(co);
    uint8_t id[12];
    for (int i = 0; i < 8; i++)
        id[i] = (uint8_t)(co->digest >> (8 * i));
    for (int i = 0; i < 4; i++)
        id[8 + i] = (uint8_t)(co->identity >> (8 * i));
    int nints = layout == PYMARSHAL_CODE_PY27 ? 4 : layout == PYMARSHAL_CODE_PY38 ? 6 : 5;
    put1(c, 'c');
    for (int i = 0; i < nints; i++)       /* counts, flags */
        if (room(c, 4)) {
            le32(at(c), 0);
            c->b->len += 4;
        }
    put_counted(c, 's', NULL, 0);         /* code */
    put_tuple(c, 1, 0);                   /* consts */
    put_counted(c, 's', id, sizeof id);
    if (layout == PYMARSHAL_CODE_PY311) {
        put_tuple(c, 0, 0);               /* names */
        put_tuple(c, 0, 0);               /* localsplusnames */
        put_counted(c, 's', NULL, 0);     /* localspluskinds */
        put_code_text(c, co, co->filename);
        put_code_text(c, co, co->name);
        put_code_text(c, co, co->name);   /* qualname */
    } else {
        for (int i = 0; i < 4; i++)       /* names ... cellvars */
            put_tuple(c, 0, 0);
        put_code_text(c, co, co->filename);
        put_code_text(c, co, co->name);
    }
    if (room(c, 4)) {
        le32(at(c), (uint32_t)(int32_t)co->firstlineno);
        c->b->len += 4;
    }
    put_counted(c, 's', NULL, 0);         /* lnotab, linetable */
    if (layout == PYMARSHAL_CODE_PY311)
        put_counted(c, 's', NULL, 0);     /* exceptiontable */
}

/* A key tuple (file, line, name), or (file, line, code object). */
static void put_key(wcur *c, uint32_t id)
{
    if (c->j->refs) {
        uint32_t slot = c->j->key_slot[id];
        if (slot != c->slot) {
            put5(c, 'r', slot);
            return;
        }
        c->slot++;
    }
    const pkey *k = &c->s->keys[id];
    put_tuple(c, 3, FLAG_REF);
    put_str(c, k->file);
    put_int(c, k->line);
    if (k->kkind == PSTATS_KEY_CODE)
        put_code(c, &c->s->codes[k->name]);
    else
        put_str(c, k->name);
}

static void put_edge(wcur *c, const pedge_s *e)
{
    put_key(c, e->caller);
    if (e->w & EW_WIDE) {
        const pedge *w = &c->s->wedges[e->w & ~EW_WIDE];
        if (w->kind == PSTATS_EDGE_INT) {
            pnum n = pn_get(w->v, w->kinds, 0);
            if (!c->j->refs && (w->kinds & PK_PY2LONG) && n.kind != PN_FLOAT)
                put_long(c, n); /* a Python 2 long stays a long */
            else
                put_num(c, n);
            return;
        }
        put_tuple(c, 4, 0);
        for (int f = 0; f < 4; f++)
            put_num(c, pn_get(w->v, w->kinds, f));
    } else if (e->w & EW_INT) {
        put5(c, 'i', e->w & ~EW_INT);
    } else {
        put_tuple(c, 4, 0);
        put5(c, 'i', e->w);
        put5(c, 'i', e->w);
        put_float(c, e->a);
        put_float(c, e->b);
    }
}

static void put_entry(wcur *c, uint32_t id)
{
    const pstats_stats *s = c->s;
    const pkey *k = &s->keys[id];
    put_key(c, id);
    put_tuple(c, 5, 0);
    for (int f = 0; f < 4; f++)
        put_num(c, pn_get(k->v, k->kinds, f));
    put1(c, '{');
    for (uint32_t x = 0; x < k->nedges && !c->fail; x++)
        put_edge(c, &s->edges[k->edge_start + x]);
    put1(c, '0');
}

/* ------------------------------------------------------------ chunks */

static void mark_str(wjob *j, uint32_t id)
{
    if (j->str_slot[id] == NONE)
        j->str_slot[id] = j->next_slot++;
}

static void mark_key(wjob *j, uint32_t id)
{
    if (j->key_slot[id] != NONE)
        return;
    const pkey *k = &j->s->keys[id];
    j->key_slot[id] = j->next_slot++;
    mark_str(j, k->file);
    if (k->kkind == PSTATS_KEY_CODE) {
        const pcode *co = &j->s->codes[k->name];
        if (code_text_shared(j, co)) {
            mark_str(j, co->filename);
            mark_str(j, co->name);
        }
    } else {
        mark_str(j, k->name);
    }
}

static size_t chunk_index(const wjob *j, size_t from)
{
    size_t lo = 0, hi = j->ncuts - 1; /* cuts[lo] <= from < cuts[hi] */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (j->cuts[mid] <= from)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

static size_t chunk_end(void *ctx, size_t from, size_t n)
{
    (void)n;
    const wjob *j = ctx;
    return j->cuts[chunk_index(j, from) + 1];
}

/* The writing thread, in order, just ahead of the formatting: number the
 * strings and keys of entries [from, to) where they first occur. */
static void prepare_chunk(void *ctx, size_t from, size_t to)
{
    wjob *j = ctx;
    const pstats_stats *s = j->s;
    j->first_slot[chunk_index(j, from)] = j->next_slot;
    if (!j->refs)
        return;
    for (size_t i = from; i < to; i++) {
        const pkey *k = &s->keys[i];
        mark_key(j, (uint32_t)i);
        for (uint32_t x = 0; x < k->nedges; x++) {
            uint32_t caller = s->edges[k->edge_start + x].caller;
            if (j->key_slot[caller] == NONE)
                mark_key(j, caller);
        }
    }
}

static int format_chunk(void *ctx, int worker, size_t k, size_t from, size_t to,
                        const void **data, size_t *len)
{
    wjob *j = ctx;
    wcur c = {j, j->s, &j->buf[k], j->first_slot[chunk_index(j, from)], W_OK};
    c.b->len = 0;
    for (size_t i = from; i < to && !c.fail; i++)
        put_entry(&c, (uint32_t)i);
    *data = c.b->p;
    *len = c.b->len;
    if (c.fail)
        j->fail[worker] = c.fail;
    return c.fail ? -1 : 0;
}

/* Chunks of about CHUNK_UNITS edges and entries; the total in *units. */
static int cut_chunks(wjob *j, size_t *units)
{
    const pstats_stats *s = j->s;
    size_t n = s->nstats, count = 2, acc = 0;
    *units = 0;
    for (size_t i = 0; i < n; i++) {
        acc += 1 + s->keys[i].nedges;
        if (acc >= CHUNK_UNITS && i + 1 < n) {
            count++;
            *units += acc;
            acc = 0;
        }
    }
    *units += acc;
    j->cuts = cm_malloc(j->a, count * sizeof *j->cuts);
    j->first_slot = cm_malloc(j->a, count * sizeof *j->first_slot);
    if (!j->cuts || !j->first_slot)
        return -1;
    j->ncuts = 0;
    j->cuts[j->ncuts++] = 0;
    acc = 0;
    for (size_t i = 0; i < n; i++) {
        acc += 1 + s->keys[i].nedges;
        if (acc >= CHUNK_UNITS && i + 1 < n) {
            j->cuts[j->ncuts++] = i + 1;
            acc = 0;
        }
    }
    j->cuts[j->ncuts++] = n;
    return 0;
}

/* --------------------------------------------------------------- entry */

/* The dict's head or tail, formatted alone. */
static int put_small(wjob *j, int tail, pstats_write_fn write, void *ctx)
{
    wcur c = {j, j->s, &j->buf[0], 0, W_OK};
    c.b->len = 0;
    if (!tail) {
        put1(&c, '{');
    } else {
        if (j->s->sampled) {
            static const uint8_t marker[] = "__sampled__";
            put_tuple(&c, 1, 0);
            put_bytes(&c, marker, 11, 0);
            put1(&c, 'T');
        }
        put1(&c, '0');
    }
    if (c.fail) {
        j->fail[0] = c.fail;
        return -1;
    }
    return write(ctx, c.b->p, c.b->len) ? -2 : 0;
}

static int write_all(wjob *j, pstats_write_fn write, void *ctx)
{
    size_t units;
    if (cut_chunks(j, &units)) {
        j->fail[0] = W_NOMEM;
        return -1;
    }
    if (j->refs) {
        size_t ns = j->s->nstrs ? j->s->nstrs : 1, nk = j->s->nkeys ? j->s->nkeys : 1;
        j->str_slot = cm_malloc(j->a, ns * sizeof *j->str_slot);
        j->key_slot = cm_malloc(j->a, nk * sizeof *j->key_slot);
        if (!j->str_slot || !j->key_slot) {
            j->fail[0] = W_NOMEM;
            return -1;
        }
        memset(j->str_slot, 0xff, ns * sizeof *j->str_slot);
        memset(j->key_slot, 0xff, nk * sizeof *j->key_slot);
    }
    int rc = put_small(j, 0, write, ctx);
    if (rc)
        return rc;
    int threads = units >= THREADS_FROM;
    const pymarshal_allocator *saved = j->a;
    cm_locked_alloc lk;
    if (threads && cm_locked_alloc_init(&lk, saved) != 0)
        threads = 0;
    if (threads)
        j->a = &lk.view;
    cm_ordered_job job = {j->s->nstats, 0, chunk_end, prepare_chunk, format_chunk, j,
                          write, ctx};
    rc = cm_ordered_run(&job, threads);
    if (threads) {
        j->a = saved;
        cm_locked_alloc_destroy(&lk);
    }
    return rc ? rc : put_small(j, 1, write, ctx);
}

int pstats_write_pstats(const pstats_stats *s, pstats_write_fn write, void *ctx,
                        pstats_error *err)
{
    if (err)
        memset(err, 0, sizeof *err);
    if (ps_need_edges(s, "pstats_write_pstats", err))
        return -1;
    wjob j;
    memset(&j, 0, sizeof j);
    j.s = s;
    j.a = &s->alc;
    j.refs = !s->py2;
    int rc = write_all(&j, write, ctx);
    for (int k = 0; k < CM_SLOTS; k++)
        cm_free(j.a, j.buf[k].p);
    cm_free(j.a, j.str_slot);
    cm_free(j.a, j.key_slot);
    cm_free(j.a, j.cuts);
    cm_free(j.a, j.first_slot);
    if (rc == 0)
        return 0;
    int why = j.fail[0] ? j.fail[0] : j.fail[1];
    if (rc == -2)
        ps_seterr(err, PSTATS_EIO, NULL, 0, 0, "the output sink failed");
    else if (why == W_UTF8)
        ps_seterr(err, PSTATS_EIO, NULL, 0, 0, "pymarshal_write_str: text is not UTF-8");
    else if (why == W_LENGTH)
        ps_seterr(err, PSTATS_EIO, NULL, 0, 0, "length or count beyond 2**31-1");
    else
        ps_seterr(err, PSTATS_ENOMEM, NULL, 0, 0, "out of memory");
    return -1;
}
