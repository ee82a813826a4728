/*
 * The loader's fast path: the shapes cProfile, profile and pstats' own
 * dump_stats write (Python 2.7-3.15, PyPy), read straight from the bytes
 * into the model, without libpymarshal's token stream.
 *
 * It accepts a strict subset of what the general loader (pstats_load.c)
 * accepts: a dict of (file, line, name) tuples to (cc, nc, tt, ct, callers)
 * tuples, strings in the common codes, numbers as 'i' and 'g', and 'r'/'R'
 * references to what it has already read. At anything else (a code object,
 * a long, a truncated or hostile file, a reference it cannot resolve) it
 * stops and says so; the caller then clears the model and loads the file
 * again with the general loader, which reads every shape and reports every
 * error. Where both succeed they build the same model: the same strings and
 * keys in the same order, the same edges (test/fuzz/fuzz_pstats_paths.c
 * checks that on every input).
 *
 * Two stages, which run on two cores for inputs of PIPE_MIN_BYTES and
 * more (at 100 MB the string and key tables are far larger than the
 * caches, and every lookup waits for memory):
 *  - the parser reads the bytes and writes events (a string to intern, a
 *    key to find, an entry, an edge) into a batch. It never needs a model
 *    id: strings and keys are known by their occurrence number, and a key's
 *    hash is computed from its strings' hashes;
 *  - the builder turns a batch into the model in the order the general
 *    loader would, so that the ids are the same.
 *
 * The reference table holds one 32-bit word per FLAG_REF'd object, in
 * marshal's pre-order: what the object was (a string or key occurrence, a
 * number) or 0 when it was nothing a later reference may use here.
 *
 * It reads the input forward only (pstats_input.h): it asks for bytes as
 * it needs them and says how far it, and the builder, have got, so that
 * the pages behind can be given up. The one thing a reference may need
 * again, the bytes of a string that was not interned when it was read,
 * is copied aside then (few: only --stats' callers have such strings).
 */
#include <string.h>

#include "common.h"
#include "pstats_input.h"
#include "pstats_internal.h"

enum { FAST_DONE = 0, FAST_GIVE_UP = 1, FAST_NOMEM = -1 };

/* Reference table words: a 3-bit tag over a 29-bit value. */
#define TAG_SHIFT 29
#define VAL_MASK ((1u << TAG_SHIFT) - 1)
enum { T_NONE = 0, T_STR = 1, T_KEY = 2, T_NUM = 3 };

/* What the parser knows of a string occurrence. */
enum { OF_INTERNED = 1, OF_JPROFILE = 2, OF_PROFILER = 4 };
typedef struct socc {
    const uint8_t *copy; /* not interned yet: its length (4 bytes), bytes */
    uint32_t hash;    /* ps_str_hash of its bytes */
    uint32_t flags;   /* OF_* */
} socc;

enum { EV_STR, EV_KEY, EV_ENTRY, EV_EDGE, EV_TOP };
typedef struct fev {
    uint8_t op, kinds, ekind, top;
    uint32_t a;       /* STR: string occurrence; the others: key occurrence */
    uint32_t b, c;    /* STR: length; KEY: file and name string occurrences */
    uint32_t h;       /* STR, KEY: hash */
    uint64_t u;       /* STR: the address of the bytes; KEY: the line (int64) */
    uint64_t v[4];    /* ENTRY, EDGE: numbers */
} fev;

#define BATCH 2048
#define PIPE_MIN_BYTES ((size_t)4 << 20) /* smaller files: no thread */

/* A block of string bytes copied aside (their addresses never change:
 * the builder reads them from its thread). */
typedef struct side_blk {
    struct side_blk *next;
    size_t used, cap;
    /* bytes follow */
} side_blk;

typedef struct fast {
    pstats_stats *s;
    ps_input *in;
    const uint8_t *base, *p, *end;  /* in->data, the parser, in->data + in->avail */
    int skip_edges, py2_keys;
    size_t flushed;                 /* where the parser was when the builder last had
                                       everything (inline builder) */
    side_blk *side;
    /* parser */
    uint32_t *refs; size_t nrefs, cap_refs;              /* FLAG_REF objects */
    uint32_t *interned; size_t ninterned, cap_interned;  /* Python 2's 't' list */
    pnum *nums; size_t nnums, cap_nums;                  /* numbers named by refs */
    socc *occ; size_t nocc, cap_occ;                     /* string occurrences */
    uint8_t *ktop; size_t nkocc, cap_ktop;               /* key occurrences */
    fev *ev; size_t nev;                                 /* the batch being filled */
    ps_pipe *pipe;                                       /* the builder's thread */
    /* builder */
    uint32_t *str_of; size_t cap_str_of;                 /* string occurrence -> id */
    uint32_t *key_of; size_t cap_key_of;                 /* key occurrence -> id */
    uint32_t *order; size_t norder, cap_order;           /* the dict's keys, in order */
    uint32_t *last; size_t cap_last;                     /* key -> its latest edge */
    uint32_t callee, start;                              /* the entry being built */
} fast;

/* A string object as read: where its bytes are and what code wrote it. */
typedef struct sview {
    const uint8_t *p;
    size_t len;
    uint8_t code;
} sview;

static inline uint32_t word(unsigned tag, uint32_t v) { return (uint32_t)tag << TAG_SHIFT | v; }
static inline unsigned tag_of(uint32_t w) { return w >> TAG_SHIFT; }
/* Are n bytes there at F->p? Read more of the input if it has them. */
static int more(fast *F, size_t n)
{
    (void)ps_in_need(F->in, (size_t)(F->p - F->base) + n);
    F->end = F->base + F->in->avail;
    return (size_t)(F->end - F->p) >= n;
}

static inline int left(fast *F, size_t n)
{
    return (size_t)(F->end - F->p) >= n || more(F, n);
}

static int is_ascii(const uint8_t *p, size_t n)
{
    uint64_t acc = 0;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        acc |= w;
    }
    for (; i < n; i++)
        acc |= p[i];
    return (acc & 0x8080808080808080ull) == 0;
}

/* ============================================================= builder */

static int store_edge(fast *F, const fev *e)
{
    pstats_stats *s = F->s;
    pedge pe;
    pe.caller = F->key_of[e->a];
    pe.kind = e->ekind;
    pe.kinds = e->kinds;
    memcpy(pe.v, e->v, sizeof pe.v);
    if (e->top)
        s->keys[F->callee].flags |= KF_TOP;
    uint32_t prev = F->last[pe.caller];
    if (prev != UINT32_MAX && prev >= F->start) /* a repeated key: the last value counts */
        return pe_put(s, &s->edges[prev], &pe, 1) ? FAST_NOMEM : FAST_DONE;
    if (s->nedges >= UINT32_MAX - 1)
        return FAST_GIVE_UP;
    if (s->nedges == s->cap_edges &&
        ps_grow(s, (void **)&s->edges, &s->cap_edges, s->nedges + 1, sizeof(pedge_s)))
        return FAST_NOMEM;
    if (pe_put(s, &s->edges[s->nedges], &pe, 0))
        return FAST_NOMEM;
    F->last[pe.caller] = (uint32_t)s->nedges++;
    s->keys[F->callee].nedges++;
    return FAST_DONE;
}

static int build_entry(fast *F, const fev *e)
{
    pstats_stats *s = F->s;
    uint32_t id = F->key_of[e->a];
    if (!(s->keys[id].flags & KF_STATS)) {
        if (F->norder == F->cap_order &&
            ps_grow(s, (void **)&F->order, &F->cap_order, F->norder + 1, sizeof(uint32_t)))
            return FAST_NOMEM;
        F->order[F->norder++] = id;
    }
    pkey *k = &s->keys[id];
    memcpy(k->v, e->v, sizeof k->v);
    k->kinds = e->kinds;
    k->flags = (uint8_t)((k->flags & ~KF_TOP) | KF_STATS);
    k->edge_start = F->skip_edges ? 0 : (uint32_t)s->nedges;
    k->nedges = 0;
    F->callee = id;
    F->start = (uint32_t)s->nedges;
    return FAST_DONE;
}

static int build_str(fast *F, const fev *e)
{
    pstats_stats *s = F->s;
    const uint8_t *bytes = (const uint8_t *)(uintptr_t)e->u;
    uint32_t id = ps_intern_h(s, bytes, e->b, 0, 0, e->h); /* copied: the input goes */
    if (id == UINT32_MAX)
        return FAST_NOMEM;
    if (e->a >= F->cap_str_of &&
        ps_grow(s, (void **)&F->str_of, &F->cap_str_of, (size_t)e->a + 1, sizeof(uint32_t)))
        return FAST_NOMEM;
    F->str_of[e->a] = id;
    return FAST_DONE;
}

static int build_key(fast *F, const fev *e)
{
    pstats_stats *s = F->s;
    int isnew;
    uint32_t id = ps_key_h(s, F->str_of[e->b], (int64_t)e->u, F->str_of[e->c],
                           PSTATS_KEY_FUNC, e->h, &isnew);
    if (id == UINT32_MAX)
        return FAST_NOMEM;
    if (s->nkeys > F->cap_last &&
        ps_grow(s, (void **)&F->last, &F->cap_last, s->nkeys, sizeof(uint32_t)))
        return FAST_NOMEM;
    if (isnew)
        F->last[id] = UINT32_MAX;
    if (e->a >= F->cap_key_of &&
        ps_grow(s, (void **)&F->key_of, &F->cap_key_of, (size_t)e->a + 1, sizeof(uint32_t)))
        return FAST_NOMEM;
    F->key_of[e->a] = id;
    return FAST_DONE;
}

/* Read, in two tight loops before the batch is built, the hash slots its
 * string and key lookups will read and the keys those slots name: the
 * loads do not depend on each other, so the processor has many cache
 * misses in flight at once instead of one per lookup (software
 * prefetches, tried first, made no difference on this VM). Returns what it
 * read, to keep it. */
static uint64_t touch_keys(const fast *F, const fev *ev, size_t n)
{
    const pstats_stats *s = F->s;
    uint64_t acc = 0;
    if (!s->key_slots)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (ev[i].op == EV_KEY)
            acc += s->key_slots[ev[i].h & s->key_mask];
        else if (ev[i].op == EV_STR && s->str_slots)
            acc += s->str_slots[ev[i].h & s->str_mask];
    }
    for (size_t i = 0; i < n; i++) {
        if (ev[i].op != EV_KEY)
            continue;
        uint64_t v = s->key_slots[ev[i].h & s->key_mask];
        if (v && (uint32_t)(v >> 32) == ev[i].h && (uint32_t)v - 1 < s->nkeys)
            acc += (uint64_t)s->keys[(uint32_t)v - 1].line;
    }
    return acc;
}

/* Build a batch of events into the model, in order (in the pipe's
 * thread when there is one). */
static int build_batch(void *ctx, const void *batch, size_t n)
{
    fast *F = ctx;
    const fev *ev = batch;
    int rc = FAST_DONE;
    ps_keep(touch_keys(F, ev, n));
    for (size_t i = 0; i < n && rc == FAST_DONE; i++) {
        const fev *e = &ev[i];
        switch (e->op) {
        case EV_STR: rc = build_str(F, e); break;
        case EV_KEY: rc = build_key(F, e); break;
        case EV_ENTRY: rc = build_entry(F, e); break;
        case EV_EDGE: rc = store_edge(F, e); break;
        default: F->s->keys[F->callee].flags |= KF_TOP; break;
        }
    }
    return rc;
}

/* Hand the full batch to the builder: to the pipe's thread, or inline. */
static int flush(fast *F)
{
    int rc;
    if (F->pipe) {
        F->ev = ps_pipe_swap(F->pipe, F->nev, (size_t)(F->p - F->base), &rc);
    } else {
        rc = build_batch(F, F->ev, F->nev);
        F->flushed = (size_t)(F->p - F->base);
    }
    F->nev = 0;
    return rc;
}

/* A fresh event of kind op at the end of the batch (handed over first if
 * full). */
static int emit(fast *F, uint8_t op, fev **out)
{
    int rc;
    if (F->nev == BATCH && (rc = flush(F)))
        return rc;
    *out = &F->ev[F->nev++];
    (*out)->op = op;
    return FAST_DONE;
}

/* ============================================================== parser */

/* A new FLAG_REF slot holding w; its index in *at. */
static int add_ref(fast *F, uint32_t w, size_t *at)
{
    if (F->nrefs >= INT32_MAX)
        return FAST_GIVE_UP;
    if (F->nrefs == F->cap_refs &&
        ps_grow(F->s, (void **)&F->refs, &F->cap_refs, F->nrefs + 1, sizeof(uint32_t)))
        return FAST_NOMEM;
    *at = F->nrefs;
    F->refs[F->nrefs++] = w;
    return FAST_DONE;
}

/* The word of table[0..n) that the 4-byte index after F->p's code names,
 * consumed; NULL when there is no such word. */
static uint32_t *indexed(fast *F, uint32_t *table, size_t n)
{
    if (!left(F, 5))
        return NULL;
    int32_t idx = cm_i32(F->p + 1);
    if (idx < 0 || (size_t)idx >= n)
        return NULL;
    F->p += 5;
    return &table[idx];
}

/* The slot an 'r' at F->p names. */
static uint32_t *ref_at(fast *F) { return indexed(F, F->refs, F->nrefs); }

/* The Python 2 interned-list word an 'R' at F->p names. */
static uint32_t *interned_at(fast *F)
{
    uint32_t *w = indexed(F, F->interned, F->ninterned);
    if (w)
        F->py2_keys = 1;
    return w;
}

/* ------------------------------------------------------------- strings */

/* The string object at F->p (not a reference): its bytes, checked as the
 * general reader checks them; F->p stays. 0, or FAST_GIVE_UP. */
static int view_at(fast *F, sview *v)
{
    if (!left(F, 2))
        return FAST_GIVE_UP;
    size_t hdr;
    v->code = F->p[0] & 0x7f;
    switch (v->code) {
    case 'z': case 'Z':
        v->len = F->p[1];
        hdr = 2;
        break;
    case 'a': case 'A': case 'u': case 't': case 's': {
        if (!left(F, 5))
            return FAST_GIVE_UP;
        int32_t n = cm_i32(F->p + 1);
        if (n < 0)
            return FAST_GIVE_UP;
        v->len = (size_t)n;
        hdr = 5;
        break;
    }
    default:
        return FAST_GIVE_UP;
    }
    if (!left(F, hdr + v->len))
        return FAST_GIVE_UP;
    v->p = F->p + hdr;
    if (is_ascii(v->p, v->len))
        return FAST_DONE;
    size_t bad;
    switch (v->code) {
    case 'u': /* invalid: the general reader's error */
        return cm_utf8_valid(v->p, v->len, &bad) ? FAST_DONE : FAST_GIVE_UP;
    case 'a': case 'A': case 'z': case 'Z': /* Latin-1: converted by the general loader */
        return FAST_GIVE_UP;
    case 't': /* Python 2: a byte string that is not UTF-8 */
        if (!cm_utf8_valid(v->p, v->len, &bad))
            v->code = 's';
        return FAST_DONE;
    default:
        return FAST_DONE;
    }
}

/* OF_JPROFILE or OF_PROFILER when the string is one of the two names of
 * cProfile's top-level caller ('jprofile', 0, 'profiler'), else 0. */
static uint32_t top_flags(const sview *v)
{
    if (v->len != 8)
        return 0;
    return memcmp(v->p, "jprofile", 8) == 0 ? OF_JPROFILE
           : memcmp(v->p, "profiler", 8) == 0 ? OF_PROFILER : 0;
}

/* len, then the bytes, copied aside; NULL out of memory. */
static const uint8_t *side_copy(fast *F, const uint8_t *p, size_t len)
{
    size_t need = 4 + len;
    side_blk *b = F->side;
    if (!b || b->cap - b->used < need) {
        size_t cap = need > 65536 ? need : 65536;
        if (!(b = ps_malloc(F->s, sizeof *b + cap)))
            return NULL;
        b->next = F->side;
        b->used = 0;
        b->cap = cap;
        F->side = b;
    }
    uint8_t *dst = (uint8_t *)(b + 1) + b->used;
    uint32_t n = (uint32_t)len;
    memcpy(dst, &n, 4);
    memcpy(dst + 4, p, len);
    b->used += need;
    return dst;
}

/* A new string occurrence for the view v; one not interned now keeps a
 * copy of its bytes, for a reference that may intern it later. */
static int new_occ(fast *F, const sview *v, int intern, uint32_t *occ)
{
    if (F->nocc > VAL_MASK || v->len > UINT32_MAX)
        return FAST_GIVE_UP;
    if (F->nocc == F->cap_occ &&
        ps_grow(F->s, (void **)&F->occ, &F->cap_occ, F->nocc + 1, sizeof(socc)))
        return FAST_NOMEM;
    if (v->code == 's')
        F->py2_keys = 1;
    socc *o = &F->occ[F->nocc];
    o->copy = NULL;
    if (!intern && !(o->copy = side_copy(F, v->p, v->len)))
        return FAST_NOMEM;
    o->hash = ps_str_hash(v->p, v->len);
    o->flags = top_flags(v);
    *occ = (uint32_t)F->nocc++;
    return FAST_DONE;
}

/* Have the builder intern occurrence occ (whose bytes v shows) at this
 * point of the order: where the general loader would intern it. */
static int intern_occ(fast *F, uint32_t occ, const sview *v)
{
    fev *e;
    int rc;
    if (v->len > UINT32_MAX)
        return FAST_GIVE_UP;
    if ((rc = emit(F, EV_STR, &e)))
        return rc;
    socc *o = &F->occ[occ];
    o->flags |= OF_INTERNED;
    e->a = occ;
    e->b = (uint32_t)v->len;
    e->h = o->hash;
    e->u = (uint64_t)(uintptr_t)v->p;
    return FAST_DONE;
}

/* The same for an occurrence met again through a reference (once). */
static int need_str(fast *F, uint32_t occ)
{
    const socc *o = &F->occ[occ];
    if (o->flags & OF_INTERNED)
        return FAST_DONE;
    uint32_t n;
    memcpy(&n, o->copy, 4);
    sview v = {o->copy + 4, n, 0};
    return intern_occ(F, occ, &v);
}

/* Record a string object just read: its FLAG_REF slot and, for 't', its
 * place in Python 2's interned list. */
static int note_str(fast *F, uint8_t first, uint32_t w)
{
    size_t at;
    if ((first & 0x7f) == 't') {
        if (F->ninterned == F->cap_interned &&
            ps_grow(F->s, (void **)&F->interned, &F->cap_interned, F->ninterned + 1,
                    sizeof(uint32_t)))
            return FAST_NOMEM;
        F->interned[F->ninterned++] = w;
    }
    return (first & 0x80) ? add_ref(F, w, &at) : FAST_DONE;
}

/* A string item: its occurrence in *occ. `intern`: the builder interns it
 * now (a key's string); else it is only looked at (the callers of
 * --stats), and interned later if a reference needs it. An item neither
 * interned nor nameable again gets no occurrence: *occ is UINT32_MAX and
 * *flags says what it is. */
static int read_str(fast *F, int intern, uint32_t *occ, uint32_t *flags)
{
    if (!left(F, 1))
        return FAST_GIVE_UP;
    uint8_t first = F->p[0];
    if (first == 'r' || first == 'R') {
        uint32_t *w = first == 'r' ? ref_at(F) : interned_at(F);
        if (!w || tag_of(*w) != T_STR)
            return FAST_GIVE_UP;
        *occ = *w & VAL_MASK;
        *flags = F->occ[*occ].flags;
        return intern ? need_str(F, *occ) : FAST_DONE;
    }
    sview v;
    int rc = view_at(F, &v);
    if (rc)
        return rc;
    *occ = UINT32_MAX;
    if (intern || (first & 0x80) || (first & 0x7f) == 't') {
        if ((rc = new_occ(F, &v, intern, occ)) || (intern && (rc = intern_occ(F, *occ, &v))) ||
            (rc = note_str(F, first, word(T_STR, *occ))))
            return rc;
        *flags = F->occ[*occ].flags;
    } else {
        if (v.code == 's')
            F->py2_keys = 1;
        *flags = top_flags(&v);
    }
    F->p = v.p + v.len;
    return FAST_DONE;
}

/* ------------------------------------------------------------- numbers */

/* A number item into v[f] and kinds: the general case (FLAG_REF'd
 * numbers, the end of the input). */
static int read_num_slow(fast *F, uint64_t *v, uint8_t *kinds, int f)
{
    if (!left(F, 5))
        return FAST_GIVE_UP;
    uint8_t first = F->p[0];
    pnum n;
    switch (first) {
    case 'i': case 'i' | 0x80:
        n = pn_int(cm_i32(F->p + 1));
        F->p += 5;
        break;
    case 'g': case 'g' | 0x80: {
        if (!left(F, 9))
            return FAST_GIVE_UP;
        uint64_t bits = cm_le64(F->p + 1);
        n.kind = PN_FLOAT;
        memcpy(&n.u.f, &bits, 8);
        F->p += 9;
        break;
    }
    case 'r': {
        uint32_t *w = ref_at(F);
        if (!w || tag_of(*w) != T_NUM)
            return FAST_GIVE_UP;
        n = F->nums[*w & VAL_MASK];
        break;
    }
    default:
        return FAST_GIVE_UP;
    }
    if (first & 0x80) {
        size_t at;
        int rc;
        if (F->nnums > VAL_MASK)
            return FAST_GIVE_UP;
        if (F->nnums == F->cap_nums &&
            ps_grow(F->s, (void **)&F->nums, &F->cap_nums, F->nnums + 1, sizeof(pnum)))
            return FAST_NOMEM;
        F->nums[F->nnums] = n;
        if ((rc = add_ref(F, word(T_NUM, (uint32_t)F->nnums++), &at)))
            return rc;
    }
    pn_set(v, kinds, f, n);
    return FAST_DONE;
}

/* A number item ('i', 'g', or a reference to one) into v[f] and kinds,
 * whose field f is 0 (PN_INT) before. The three unflagged codes that make
 * nearly all of a profile's numbers are decoded here, inline. */
static inline int read_num(fast *F, uint64_t *v, uint8_t *kinds, int f)
{
    const uint8_t *p = F->p;
    if ((size_t)(F->end - p) >= 9) {
        switch (p[0]) {
        case 'g':
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
            memcpy(&v[f], p + 1, 8); /* the model keeps a double's bits */
#else
            v[f] = cm_le64(p + 1);
#endif
            *kinds = (uint8_t)(*kinds | PN_FLOAT << (2 * f));
            F->p = p + 9;
            return FAST_DONE;
        case 'i':
            v[f] = (uint64_t)(int64_t)cm_i32(p + 1);
            F->p = p + 5;
            return FAST_DONE;
        case 'r': { /* ref_at's work, the bounds already known */
            int32_t idx = cm_i32(p + 1);
            if (idx < 0 || (size_t)idx >= F->nrefs || tag_of(F->refs[idx]) != T_NUM)
                return FAST_GIVE_UP;
            const pnum *n = &F->nums[F->refs[idx] & VAL_MASK];
            memcpy(&v[f], &n->u, 8); /* INT or FLOAT: never PN_BIG here */
            *kinds = (uint8_t)(*kinds | n->kind << (2 * f));
            F->p = p + 5;
            return FAST_DONE;
        }
        default:
            break;
        }
    }
    return read_num_slow(F, v, kinds, f);
}

/* A tuple header of exactly n items at F->p, consumed; a FLAG_REF'd tuple
 * takes its slot now (marshal numbers containers before their items), in
 * *slot (SIZE_MAX when it has none). */
static int tuple_of(fast *F, size_t n, size_t *slot)
{
    if (!left(F, 2))
        return FAST_GIVE_UP;
    uint8_t first = F->p[0];
    size_t count;
    if ((first & 0x7f) == ')') {
        count = F->p[1];
        F->p += 2;
    } else if ((first & 0x7f) == '(' && left(F, 5)) {
        count = (size_t)(uint32_t)cm_i32(F->p + 1);
        F->p += 5;
    } else {
        return FAST_GIVE_UP;
    }
    if (count != n)
        return FAST_GIVE_UP;
    *slot = SIZE_MAX;
    return (first & 0x80) ? add_ref(F, 0, slot) : FAST_DONE;
}

/* ---------------------------------------------------------------- keys */

/* The items of a (file, line, name) key tuple, read (the strings interned
 * or only looked at, as read_str says). */
typedef struct kfields {
    size_t slot;              /* the tuple's FLAG_REF slot, or SIZE_MAX */
    uint32_t file, name;      /* string occurrences */
    uint64_t line;
    int top;                  /* ('jprofile', 0, 'profiler')? */
} kfields;

static int read_key_fields(fast *F, int intern, kfields *k)
{
    uint32_t ff, nf;
    uint8_t kinds = 0;
    int rc;
    k->line = 0;
    if ((rc = tuple_of(F, 3, &k->slot)) || (rc = read_str(F, intern, &k->file, &ff)) ||
        (rc = read_num(F, &k->line, &kinds, 0)) || (rc = read_str(F, intern, &k->name, &nf)))
        return rc;
    if (kinds != PN_INT)
        return FAST_GIVE_UP;
    k->top = k->line == 0 && (ff & OF_JPROFILE) && (nf & OF_PROFILER);
    return FAST_DONE;
}

/* A (file, line, name) key item, or a reference to one: its key
 * occurrence in *kocc (the builder finds or adds the key), and whether it
 * is ('jprofile', 0, 'profiler'), the caller cProfile gives the functions
 * it was started in. */
static int read_key_tuple(fast *F, uint32_t *kocc, int *top);

static inline int read_key(fast *F, uint32_t *kocc, int *top)
{
    if (left(F, 5) && F->p[0] == 'r') { /* a key met before (most callers): ref_at, inline */
        int32_t idx = cm_i32(F->p + 1);
        if (idx < 0 || (size_t)idx >= F->nrefs || tag_of(F->refs[idx]) != T_KEY)
            return FAST_GIVE_UP;
        *kocc = F->refs[idx] & VAL_MASK;
        *top = F->ktop[*kocc];
        F->p += 5;
        return FAST_DONE;
    }
    return read_key_tuple(F, kocc, top);
}

static int read_key_tuple(fast *F, uint32_t *kocc, int *top)
{
    kfields k;
    fev *e;
    int rc;
    if ((rc = read_key_fields(F, 1, &k)))
        return rc;
    if (F->nkocc > VAL_MASK)
        return FAST_GIVE_UP;
    if (F->nkocc == F->cap_ktop &&
        ps_grow(F->s, (void **)&F->ktop, &F->cap_ktop, F->nkocc + 1, 1))
        return FAST_NOMEM;
    if ((rc = emit(F, EV_KEY, &e)))
        return rc;
    *kocc = (uint32_t)F->nkocc++;
    *top = k.top;
    F->ktop[*kocc] = (uint8_t)k.top;
    e->a = *kocc;
    e->b = k.file;
    e->c = k.name;
    e->u = k.line;
    e->h = ps_key_hash(F->occ[k.file].hash, (int64_t)k.line, F->occ[k.name].hash,
                       PSTATS_KEY_FUNC);
    if (k.slot != SIZE_MAX)
        F->refs[k.slot] = word(T_KEY, *kocc);
    return FAST_DONE;
}

/* A caller key of --stats (PSTATS_LOAD_NO_EDGES): checked, but added as a
 * key only when marshal may name it again. */
static int peek_key(fast *F, int *top)
{
    uint32_t kocc;
    if (left(F, 1) && (F->p[0] == 'r' || F->p[0] == (')' | 0x80) || F->p[0] == ('(' | 0x80)))
        return read_key(F, &kocc, top);
    kfields k;
    int rc = read_key_fields(F, 0, &k);
    if (rc == FAST_DONE)
        *top = k.top;
    return rc;
}

/* ------------------------------------------------------------ entries */

/* A dict's header, consumed ('{', FLAG_REF'd or not). */
static int dict_start(fast *F)
{
    size_t at;
    if (!left(F, 1) || (F->p[0] & 0x7f) != '{')
        return FAST_GIVE_UP;
    uint8_t first = *F->p++;
    return (first & 0x80) ? add_ref(F, 0, &at) : FAST_DONE;
}

/* The end of a dict (marshal NULL): 1 and consumed, or 0. */
static int dict_end(fast *F)
{
    if (left(F, 1) && F->p[0] == '0') {
        F->p++;
        return 1;
    }
    return 0;
}

/* A caller's value: (nc, cc, tt, ct), or a bare call count. */
static int read_edge_value(fast *F, uint64_t v[4], uint8_t *kinds, uint8_t *ekind)
{
    size_t slot;
    int rc;
    *kinds = 0;
    memset(v, 0, 4 * sizeof *v);
    if (left(F, 2) && F->p[0] == ')' && F->p[1] == 4) { /* what cProfile writes */
        F->p += 2;
    } else if (left(F, 1) && ((F->p[0] & 0x7f) == ')' || (F->p[0] & 0x7f) == '(')) {
        if ((rc = tuple_of(F, 4, &slot)))
            return rc;
    } else {
        *ekind = PSTATS_EDGE_INT;
        return read_num(F, v, kinds, 0);
    }
    *ekind = PSTATS_EDGE_TUPLE;
    for (int f = 0; f < 4; f++)
        if ((rc = read_num(F, v, kinds, f)))
            return rc;
    return FAST_DONE;
}

/* The callers dict of the entry just emitted. */
static int read_callers(fast *F)
{
    int rc, top;
    if ((rc = dict_start(F)))
        return rc;
    while (!dict_end(F)) {
        uint32_t kocc;
        uint64_t v[4];
        uint8_t kinds, ekind;
        fev *e;
        if (F->skip_edges) {
            if ((rc = peek_key(F, &top)) || (rc = read_edge_value(F, v, &kinds, &ekind)))
                return rc;
            if (top && (rc = emit(F, EV_TOP, &e)))
                return rc;
            continue;
        }
        /* the edge's event after its caller's key events, its numbers
         * decoded straight into it */
        if ((rc = read_key(F, &kocc, &top)) || (rc = emit(F, EV_EDGE, &e)))
            return rc;
        e->a = kocc;
        e->top = (uint8_t)top;
        if ((rc = read_edge_value(F, e->v, &e->kinds, &e->ekind)))
            return rc;
    }
    return FAST_DONE;
}

/* The (cc, nc, tt, ct, callers) value of the dict's key occurrence kocc. */
static int read_entry(fast *F, uint32_t kocc)
{
    size_t slot;
    uint64_t v[4] = {0, 0, 0, 0};
    uint8_t kinds = 0;
    fev *e;
    int rc;
    if ((rc = tuple_of(F, 5, &slot)))
        return rc;
    for (int f = 0; f < 4; f++)
        if ((rc = read_num(F, v, &kinds, f)))
            return rc;
    if ((rc = emit(F, EV_ENTRY, &e)))
        return rc;
    e->a = kocc;
    e->kinds = kinds;
    memcpy(e->v, v, sizeof e->v);
    return read_callers(F);
}

static int read_profile(fast *F)
{
    int rc, top;
    if ((rc = dict_start(F)))
        return rc;
    while (!dict_end(F)) {
        uint32_t kocc;
        if ((rc = read_key(F, &kocc, &top)) || (rc = read_entry(F, kocc)))
            return rc;
        /* behind what the builder has read */
        ps_in_release(F->in, F->pipe ? ps_pipe_done_tag(F->pipe) : F->flushed);
    }
    return FAST_DONE;
}

static void fast_free(fast *F)
{
    pstats_stats *s = F->s;
    ps_free(s, F->refs);
    ps_free(s, F->interned);
    ps_free(s, F->nums);
    ps_free(s, F->occ);
    ps_free(s, F->ktop);
    ps_free(s, F->str_of);
    ps_free(s, F->key_of);
    ps_free(s, F->last);
    while (F->side) {
        side_blk *next = F->side->next;
        ps_free(s, F->side);
        F->side = next;
    }
}

int ps_load_fast(pstats_stats *t, ps_input *in, ps_loaded *out)
{
    fast F;
    memset(&F, 0, sizeof F);
    F.s = t;
    F.in = in;
    F.skip_edges = (t->load_flags & PSTATS_LOAD_NO_EDGES) != 0;
    (void)ps_in_need(in, PIPE_MIN_BYTES); /* small inputs: no thread */
    F.base = F.p = in->data;
    F.end = in->data + in->avail;
    if (in->avail >= PIPE_MIN_BYTES || (t->load_flags & PS_LOAD_PIPE_ALWAYS))
        F.pipe = ps_pipe_start(t, BATCH * sizeof(fev), build_batch, &F);
    int rc;
    if (F.pipe) {
        F.ev = ps_pipe_first(F.pipe);
        rc = read_profile(&F);
        int brc = ps_pipe_finish(F.pipe, F.nev, rc == FAST_DONE);
        rc = rc ? rc : brc;
    } else {
        F.ev = ps_malloc(t, BATCH * sizeof(fev));
        rc = F.ev ? read_profile(&F) : FAST_NOMEM;
        if (rc == FAST_DONE)
            rc = flush(&F);
        ps_free(t, F.ev);
    }
    fast_free(&F);
    out->order = F.order;
    out->norder = F.norder;
    out->py2_keys = F.py2_keys;
    return rc;
}
