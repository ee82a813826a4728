/*
 * The loader's fast path: the shapes cProfile, profile and pstats' own
 * dump_stats write (Python 2.7-3.15, PyPy), read straight from the bytes
 * into the model, without libpymarshal's token stream.
 *
 * It accepts a strict subset of what the general loader (pstats_load.c)
 * accepts: a dict of (file, line, name) tuples to (cc, nc, tt, ct, callers)
 * tuples, strings in the common codes, numbers as 'i' and 'g', and 'r'/'R'
 * references to what it has already read; (file, line, code object) keys
 * as CPython 3's profile module writes them (pstats_fast_code.c). At
 * anything else (a long, a truncated or hostile file, a reference it cannot
 * resolve, a code object whose digest it cannot make as the general loader
 * would) it stops and says so; the caller then clears the model and loads the file
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
 *
 * Files: this one reads numbers, tuples, keys and entries and runs the
 * load; pstats_fast_str.c reads strings and keeps the reference table;
 * pstats_fast_code.c reads code objects; pstats_fast_build.c is the
 * builder; pstats_fast.h what they share.
 */
#include <string.h>

#include "common.h"
#include "pstats_fast.h"

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
        uint32_t *w = ps_fast_ref_at(F);
        if (!w || tag_of(*w) != T_NUM)
            return FAST_GIVE_UP;
        n = F->nums[*w & VAL_MASK];
        break;
    }
    default:
        return FAST_GIVE_UP;
    }
    if (first & 0x80) {
        int rc = ps_fast_add_num_ref(F, n);
        if (rc)
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
    return (first & 0x80) ? ps_fast_add_ref(F, 0, slot) : FAST_DONE;
}

/* ---------------------------------------------------------------- keys */

/* The items of a (file, line, name) key tuple, read (the strings interned
 * or only looked at, as read_str says). */
typedef struct kfields {
    size_t slot;              /* the tuple's FLAG_REF slot, or SIZE_MAX */
    uint32_t file, name;      /* string occurrences (code: name is a code occurrence) */
    uint64_t line;
    int top;                  /* ('jprofile', 0, 'profiler')? */
    int code;                 /* (file, line, code object): the profile module's */
} kfields;

/* A key's third item: a name, or a code object (pstats_fast_code.c) or a
 * reference to one read before. */
static int read_key_name(fast *F, int intern, kfields *k, uint32_t *nf)
{
    k->code = 0;
    if (left(F, 1) && (F->p[0] & 0x7f) == 'c') {
        k->code = 1;
        *nf = 0;
        return intern ? ps_fast_read_code(F, &k->name) : FAST_GIVE_UP;
    }
    if (left(F, 5) && F->p[0] == 'r') {
        int32_t idx = cm_i32(F->p + 1);
        if (idx >= 0 && (size_t)idx < F->nrefs && tag_of(F->refs[idx]) == T_CODE) {
            k->code = 1;
            *nf = 0;
            k->name = F->refs[idx] & VAL_MASK;
            F->p += 5;
            return FAST_DONE;
        }
    }
    return ps_fast_read_str(F, intern, &k->name, nf);
}

static int read_key_fields(fast *F, int intern, kfields *k)
{
    uint32_t ff, nf;
    uint8_t kinds = 0;
    int rc;
    k->line = 0;
    if ((rc = tuple_of(F, 3, &k->slot)))
        return rc;
    if (k->slot != SIZE_MAX) /* CPython 3.4+ flags shared tuples, PyPy does not */
        F->seen_cpy = 1;
    if ((rc = ps_fast_read_str(F, intern, &k->file, &ff)) ||
        (rc = read_num(F, &k->line, &kinds, 0)) || (rc = read_key_name(F, intern, k, &nf)))
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
    if (left(F, 5) && F->p[0] == 'r') { /* a key met before (most callers): ps_fast_ref_at, inline */
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
    if ((rc = ps_fast_emit(F, EV_KEY, &e)))
        return rc;
    *kocc = (uint32_t)F->nkocc++;
    *top = k.top;
    F->ktop[*kocc] = (uint8_t)k.top;
    e->a = *kocc;
    e->b = k.file;
    e->c = k.name;
    e->u = k.line;
    e->kinds = k.code ? PSTATS_KEY_CODE : PSTATS_KEY_FUNC;
    e->h = k.code ? F->occ[k.file].hash /* the builder hashes in the code's id */
                  : ps_key_hash(F->occ[k.file].hash, (int64_t)k.line, F->occ[k.name].hash,
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
    return (first & 0x80) ? ps_fast_add_ref(F, 0, &at) : FAST_DONE;
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
            if (top && (rc = ps_fast_emit(F, EV_TOP, &e)))
                return rc;
            continue;
        }
        /* the edge's event after its caller's key events, its numbers
         * decoded straight into it */
        if ((rc = read_key(F, &kocc, &top)) || (rc = ps_fast_emit(F, EV_EDGE, &e)))
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
    if ((rc = ps_fast_emit(F, EV_ENTRY, &e)))
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
    ps_free(s, F->seqs);
    ps_free(s, F->bytes);
    ps_free(s, F->code_of);
    ps_free(s, F->look);
    psd_free(&F->dig);
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
    psd_init(&F.dig, t, 0, 0);
    (void)ps_in_need(in, PIPE_MIN_BYTES); /* small inputs: no thread */
    F.base = F.p = in->data;
    F.end = in->data + in->avail;
    if (in->avail >= PIPE_MIN_BYTES || (t->load_flags & PS_LOAD_PIPE_ALWAYS))
        F.pipe = ps_pipe_start(t, BATCH * sizeof(fev), ps_fast_build_batch, &F);
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
            rc = ps_fast_flush(&F);
        ps_free(t, F.ev);
    }
    fast_free(&F);
    out->order = F.order;
    out->norder = F.norder;
    out->py2_keys = F.py2_keys;
    return rc;
}
