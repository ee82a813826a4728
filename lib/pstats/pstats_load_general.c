/*
 * The loader's general path: one pass over libpymarshal's token stream
 * straight into the model's flat arrays. It reads every shape of pstats
 * file and writes every error message; the driver (pstats_load.c) sends
 * it what the fast path (pstats_load_fast.c) does not read. Key tuples met again through marshal
 * references cost a table lookup; references to objects not interpreted at
 * first sight are replayed by a sub-reader (an explicit stack, no C
 * recursion).
 */
#include <stdio.h>
#include <string.h>

#include "pstats_internal.h"

#define MAX_REPLAY 64
enum { SEEN_PY2 = 1, SEEN_V4 = 2, SEEN_REF = 4, SEEN_FLAG_CPY = 8, SEEN_FLAG_PYPY = 16 };
enum { TAG_STR = 1u << 30, TAG_KEY = 2u << 30, TAG_CODE = 3u << 30, TAG_MASK = 3u << 30 };

typedef struct loader {
    pstats_stats *s;
    pstats_error *err;
    const char *name;
    pymarshal_reader *stack[MAX_REPLAY];
    int top;
    uint32_t *slots; size_t cap_slots;
    uint32_t *order; size_t norder, cap_order;
    uint32_t *last; size_t cap_last;  /* key id -> its latest edge as a caller */
    unsigned seen;  /* SEEN_*: what the codes so far say about the writer */
    int py2_keys;   /* key strings written as Python 2 byte strings */
    int skip_edges; /* PSTATS_LOAD_NO_EDGES */
    uint8_t *conv; size_t cap_conv;   /* Latin-1 to UTF-8 scratch */
    ps_digest dig;  /* code-object keys: what Python compares */
    int truncated;  /* the error is that the data ended */
} loader;

/* ------------------------------------------------------------- errors */

static const char *writer_guess(const loader *L)
{
    if (L->seen & SEEN_PY2)
        return "; the data looks written by Python 2 (marshal 's'/'R' string codes)";
    if (L->seen & SEEN_V4)
        return "; the data looks written by Python 3.4+ (marshal v4 short forms)";
    if (L->seen & SEEN_REF)
        return "; the data looks written by Python 3.4+ (marshal v3+ references)";
    return "";
}

static int fail_nomem(loader *L)
{
    ps_seterr(L->err, PSTATS_ENOMEM, L->name, 0, 0, "out of memory");
    return -1;
}

static int fail_marshal(loader *L, pymarshal_reader *r)
{
    const pymarshal_error *e = pymarshal_reader_error(r);
    if (e->code == PYMARSHAL_ENOMEM)
        return fail_nomem(L);
    L->truncated = e->code == PYMARSHAL_ETRUNCATED;
    ps_seterr(L->err, PSTATS_EMARSHAL, L->name, 1, e->offset,
              "broken marshal data: %s%s", e->msg, writer_guess(L));
    return -1;
}

/* "an int", "a tuple", "None", as one would say what a value is. */
static void describe(pymarshal_kind kind, char *buf, size_t size)
{
    const char *k = pymarshal_kind_name(kind);
    if (kind == PYMARSHAL_NONE)
        snprintf(buf, size, "None");
    else if (kind == PYMARSHAL_NULL)
        snprintf(buf, size, "the end of a dict (marshal NULL)");
    else if (kind == PYMARSHAL_TRUE || kind == PYMARSHAL_FALSE)
        snprintf(buf, size, "a bool");
    else
        snprintf(buf, size, "a%s %s", (k[0] == 'i' || k[0] == 'e') ? "n" : "", k);
}

static int fail_shape(loader *L, const pymarshal_token *t, const char *want)
{
    char what[64];
    describe(t->kind, what, sizeof what);
    ps_seterr(L->err, PSTATS_EFORMAT, L->name, 1, t->offset,
              "not a pstats profile: expected %s, found %s", want, what);
    return -1;
}

/* A NULL where a dict value was due: the key is dropped, and the dict ends
 * there (CPython 3: 2) or goes on (2.7: 3); 0 for any other token. PyPy's
 * refusal is the reader's error. */
static int dropped(const pymarshal_token *t)
{
    return t->kind == PYMARSHAL_NULL && t->drops_key ? (t->closes ? 2 : 3) : 0;
}

/* -------------------------------------------------------------- tokens */

/* Codes only some writers use: Python 2's strings, marshal v4's short forms. */
static const uint8_t code_seen[256] = {
    ['s'] = SEEN_PY2, ['R'] = SEEN_PY2,
    ['z'] = SEEN_V4, ['Z'] = SEEN_V4, ['a'] = SEEN_V4, ['A'] = SEEN_V4, [')'] = SEEN_V4,
};

static void note_code(loader *L, const pymarshal_token *t)
{
    L->seen |= code_seen[t->code];
    if (t->ref_slot >= 0 || (t->via_ref && t->code != 'R') || t->kind == PYMARSHAL_REF)
        L->seen |= SEEN_REF;
    /* CPython 3.4+ flags every shared object, small ints and key tuples
     * included; PyPy flags strings and mutable containers only. */
    if (t->ref_slot >= 0 && !t->via_ref)
        L->seen |= t->kind == PYMARSHAL_INT || t->kind == PYMARSHAL_FLOAT ||
                           t->kind == PYMARSHAL_TUPLE || t->kind == PYMARSHAL_CODE
                       ? SEEN_FLAG_CPY : SEEN_FLAG_PYPY;
}

/* Written by PyPy, as far as the data read so far tells (see note_code). */
static int pypy_so_far(const loader *L)
{
    return (L->seen & SEEN_FLAG_PYPY) && !(L->seen & SEEN_FLAG_CPY) && !L->py2_keys;
}

static int next_tok(loader *L, pymarshal_token *t)
{
    for (;;) {
        int rc = pymarshal_reader_next(L->stack[L->top], t);
        if (rc > 0) {
            note_code(L, t);
            return 0;
        }
        if (rc < 0)
            return fail_marshal(L, L->stack[L->top]);
        if (L->top == 0) {
            L->truncated = 1;
            ps_seterr(L->err, PSTATS_EMARSHAL, L->name, 1,
                      pymarshal_reader_offset(L->stack[0]), "the marshal data ends early");
            return -1;
        }
        pymarshal_reader_free(L->stack[L->top--]);
    }
}

/* Replace a REF token by the first token of the object it names. */
static int expand_ref(loader *L, pymarshal_token *t)
{
    while (t->kind == PYMARSHAL_REF) {
        if (L->top + 1 >= MAX_REPLAY) {
            ps_seterr(L->err, PSTATS_EMARSHAL, L->name, 1, t->offset,
                      "references nested too deeply");
            return -1;
        }
        pymarshal_error me;
        pymarshal_reader *r = pymarshal_reader_replay(L->stack[0], t->ref_target, &me);
        if (!r) {
            if (me.code == PYMARSHAL_ENOMEM)
                return fail_nomem(L);
            ps_seterr(L->err, PSTATS_EMARSHAL, L->name, 1, t->offset,
                      "broken marshal data: %s", me.msg);
            return -1;
        }
        L->stack[++L->top] = r;
        if (next_tok(L, t))
            return -1;
    }
    return 0;
}

static int skip_tok(loader *L, const pymarshal_token *t)
{
    switch (t->kind) {
    case PYMARSHAL_TUPLE: case PYMARSHAL_LIST: case PYMARSHAL_DICT: case PYMARSHAL_SET:
    case PYMARSHAL_FROZENSET: case PYMARSHAL_CODE: case PYMARSHAL_SLICE:
    case PYMARSHAL_FROZENDICT:
        if (pymarshal_reader_skip(L->stack[L->top]))
            return fail_marshal(L, L->stack[L->top]);
        return 0;
    default:
        return 0;
    }
}

static int map_slot(loader *L, int64_t slot, uint32_t tagged)
{
    if (slot < 0 || slot >= (int64_t)UINT32_MAX)
        return 0;
    size_t need = (size_t)slot + 1, old = L->cap_slots;
    if (need > old) {
        if (ps_grow(L->s, (void **)&L->slots, &L->cap_slots, need, sizeof(uint32_t)))
            return fail_nomem(L);
        memset(L->slots + old, 0, (L->cap_slots - old) * sizeof(uint32_t));
    }
    L->slots[slot] = tagged;
    return 0;
}

static uint32_t slot_get(const loader *L, int64_t slot, uint32_t tag)
{
    if (slot < 0 || (size_t)slot >= L->cap_slots)
        return UINT32_MAX;
    uint32_t v = L->slots[slot];
    if (!v || (v & TAG_MASK) != tag)
        return UINT32_MAX;
    return (v & ~TAG_MASK) - 1;
}

/* ------------------------------------------------------------- values */

static int get_str(loader *L, const pymarshal_token *t, uint32_t *id)
{
    if (t->kind != PYMARSHAL_STR && t->kind != PYMARSHAL_BYTES)
        return fail_shape(L, t, "a str");
    if (t->via_ref == 'r' && (*id = slot_get(L, t->ref_target, TAG_STR)) != UINT32_MAX)
        return 0;
    const uint8_t *p = t->data;
    size_t len = t->len;
    if (t->kind == PYMARSHAL_STR && t->text == PYMARSHAL_LATIN1) {
        size_t hi = 0;
        for (size_t i = 0; i < len; i++)
            hi += p[i] >= 0x80;
        if (hi) {
            if (ps_grow(L->s, (void **)&L->conv, &L->cap_conv, len + hi, 1))
                return fail_nomem(L);
            size_t k = 0;
            for (size_t i = 0; i < len; i++) {
                if (p[i] < 0x80)
                    L->conv[k++] = p[i];
                else {
                    L->conv[k++] = (uint8_t)(0xC0 | p[i] >> 6);
                    L->conv[k++] = (uint8_t)(0x80 | (p[i] & 0x3F));
                }
            }
            p = L->conv;
            len = k;
        }
    }
    int is_bytes = t->kind == PYMARSHAL_BYTES;
    if (is_bytes || t->code == 's' || t->code == 'R')
        L->py2_keys = 1;
    *id = ps_intern(L->s, p, len, is_bytes, 0); /* copied: the input may go */
    if (*id == UINT32_MAX)
        return fail_nomem(L);
    if (t->ref_slot >= 0)
        return map_slot(L, t->ref_slot, TAG_STR | (*id + 1));
    return 0;
}

/* The next number into field f of v (all fields 0 and kinds 0 before). */
static int get_num(loader *L, uint64_t *v, uint8_t *kinds, int f)
{
    pymarshal_token t;
    if (next_tok(L, &t))
        return -1;
    pnum n;
    switch (t.kind) {
    case PYMARSHAL_INT:
        memcpy(&v[f], &t.i, sizeof t.i);
        return 0; /* PN_INT is 0 */
    case PYMARSHAL_FLOAT:
        memcpy(&v[f], &t.f, sizeof t.f);
        *kinds = (uint8_t)(*kinds | PN_FLOAT << (2 * f));
        return 0;
    case PYMARSHAL_TRUE: n = pn_int(1); break;
    case PYMARSHAL_FALSE: n = pn_int(0); break;
    case PYMARSHAL_BIGINT:
        if (pn_from_digits(L->s, t.data, t.len, t.negative, &n))
            return fail_nomem(L);
        break;
    default:
        return fail_shape(L, &t, "a number");
    }
    pn_set(v, kinds, f, n);
    return 0;
}

/* Feed one token to the code digest, doing what it asks (skip the
 * container's items, or replay a reference and feed its first token). */
static int digest_tok(loader *L, pymarshal_token *t)
{
    for (;;) {
        int a = psd_token(&L->dig, t);
        if (a < 0)
            return fail_nomem(L);
        if (a == PSD_SKIP)
            return skip_tok(L, t);
        if (a != PSD_EXPAND)
            return 0;
        if (expand_ref(L, t))
            return -1;
    }
}

/* A code object as a key's name: co_name, co_filename, co_firstlineno, and
 * the digest of what Python compares (pstats_code.c). */
static int get_code(loader *L, const pymarshal_token *ct, uint32_t *id)
{
    int fn, nm, ln;
    switch (ct->code_layout) {
    case PYMARSHAL_CODE_PY27: fn = 10; nm = 11; ln = 12; break;
    case PYMARSHAL_CODE_PY30: fn = 11; nm = 12; ln = 13; break;
    case PYMARSHAL_CODE_PY38: fn = 12; nm = 13; ln = 14; break;
    default: fn = 10; nm = 11; ln = 13; break;
    }
    pcode c;
    memset(&c, 0, sizeof c);
    c.name = c.filename = UINT32_MAX;
    c.layout = ct->code_layout;
    L->dig.py2 = ct->code_layout == PYMARSHAL_CODE_PY27;
    L->dig.nan_by_value = pypy_so_far(L);
    if (psd_begin(&L->dig, ct) < 0)
        return fail_nomem(L);
    while (!L->dig.done) {
        pymarshal_token t;
        if (next_tok(L, &t))
            return -1;
        int i = L->dig.n == 1 ? L->dig.f[0].field : -1;
        if ((i == fn || i == nm) && (t.kind == PYMARSHAL_STR || t.kind == PYMARSHAL_BYTES)) {
            if (get_str(L, &t, i == fn ? &c.filename : &c.name))
                return -1;
        } else if (i == ln && t.kind == PYMARSHAL_INT) {
            c.firstlineno = t.i;
        }
        if (digest_tok(L, &t))
            return -1;
    }
    c.digest = L->dig.result;
    c.identity = L->dig.identity ? 1 : 0; /* this input: the model's first */
    static const uint8_t q[] = "?";
    if (c.name == UINT32_MAX)
        c.name = ps_intern(L->s, q, 1, 0, 1);
    if (c.filename == UINT32_MAX)
        c.filename = ps_intern(L->s, q, 1, 0, 1);
    if (c.name == UINT32_MAX || c.filename == UINT32_MAX)
        return fail_nomem(L);
    *id = ps_code(L->s, &c);
    if (*id == UINT32_MAX)
        return fail_nomem(L);
    if (ct->ref_slot >= 0)
        return map_slot(L, ct->ref_slot, TAG_CODE | (*id + 1));
    return 0;
}

static int is_marker(const loader *L, uint32_t sid)
{
    const pstr *p = &L->s->strs[sid];
    return p->len == 11 && memcmp(p->p, "__sampled__", 11) == 0;
}

/* The rest of a 1-tuple key: 1 when it is ('__sampled__',). */
static int key_marker(loader *L, const pymarshal_token *tup)
{
    pymarshal_token t;
    uint32_t sid;
    if (next_tok(L, &t))
        return -1;
    if ((t.kind != PYMARSHAL_STR && t.kind != PYMARSHAL_BYTES) || get_str(L, &t, &sid) ||
        !is_marker(L, sid))
        return L->err->code ? -1 : fail_shape(L, tup, "a (file, line, name) key");
    return 1;
}

/* A key tuple starting at token t: its key id in *id; 1 for the marker. */
static int parse_key(loader *L, pymarshal_token *t, uint32_t *id)
{
    while (t->kind == PYMARSHAL_REF) {
        if ((*id = slot_get(L, t->ref_target, TAG_KEY)) != UINT32_MAX)
            return 0;
        if (expand_ref(L, t))
            return -1;
    }
    if (t->kind != PYMARSHAL_TUPLE)
        return fail_shape(L, t, "a (file, line, name) key");
    pymarshal_token tup = *t, it;
    if (tup.count == 1)
        return key_marker(L, &tup);
    if (tup.count != 3)
        return fail_shape(L, &tup, "a (file, line, name) key of 3 items");
    uint32_t file, name;
    uint8_t kkind = PSTATS_KEY_FUNC;
    if (next_tok(L, &it) || get_str(L, &it, &file) || next_tok(L, &it))
        return -1;
    if (it.kind != PYMARSHAL_INT)
        return fail_shape(L, &it, "a line number (int)");
    int64_t line = it.i;
    if (next_tok(L, &it))
        return -1;
    for (;;) {
        if (it.kind == PYMARSHAL_REF) {
            if ((name = slot_get(L, it.ref_target, TAG_CODE)) != UINT32_MAX) {
                kkind = PSTATS_KEY_CODE;
                break;
            }
            if (expand_ref(L, &it))
                return -1;
            continue;
        }
        if (it.kind == PYMARSHAL_CODE) {
            if (get_code(L, &it, &name))
                return -1;
            kkind = PSTATS_KEY_CODE;
        } else if (get_str(L, &it, &name)) {
            return -1;
        }
        break;
    }
    int isnew;
    *id = ps_key(L->s, file, line, name, kkind, &isnew);
    if (*id == UINT32_MAX)
        return fail_nomem(L);
    if (L->s->nkeys > L->cap_last &&
        ps_grow(L->s, (void **)&L->last, &L->cap_last, L->s->nkeys, sizeof(uint32_t)))
        return fail_nomem(L);
    if (isnew)
        L->last[*id] = UINT32_MAX;
    if (tup.ref_slot >= 0)
        return map_slot(L, tup.ref_slot, TAG_KEY | (*id + 1));
    return 0;
}

/* One caller entry's value: a 4-tuple (nc, cc, tt, ct) or a count; 2 or
 * 3 for a NULL instead (dropped()). */
static int parse_edge_value(loader *L, pedge *e)
{
    pymarshal_token t;
    if (next_tok(L, &t) || expand_ref(L, &t))
        return -1;
    if (dropped(&t))
        return dropped(&t);
    e->kinds = 0;
    memset(e->v, 0, sizeof e->v);
    pnum n;
    if (t.kind == PYMARSHAL_TUPLE) {
        if (t.count != 4)
            return fail_shape(L, &t, "a caller's (nc, cc, tt, ct) tuple of 4 items");
        e->kind = PSTATS_EDGE_TUPLE;
        for (int f = 0; f < 4; f++)
            if (get_num(L, e->v, &e->kinds, f))
                return -1;
        return 0;
    }
    e->kind = PSTATS_EDGE_INT;
    switch (t.kind) {
    case PYMARSHAL_INT: n = pn_int(t.i); break;
    case PYMARSHAL_TRUE: n = pn_int(1); break;
    case PYMARSHAL_FALSE: n = pn_int(0); break;
    case PYMARSHAL_FLOAT: n = pn_float(t.f); break;
    case PYMARSHAL_BIGINT:
        if (pn_from_digits(L->s, t.data, t.len, t.negative, &n))
            return fail_nomem(L);
        break;
    default:
        return fail_shape(L, &t, "a caller's (nc, cc, tt, ct) tuple or call count");
    }
    pn_set(e->v, &e->kinds, 0, n);
    if (t.code == 'l')
        e->kinds |= PK_PY2LONG;
    return 0;
}

/* The callers dict's header: *left its items (a frozendict's count; a
 * dict: SIZE_MAX, until its NULL). */
static int open_callers(loader *L, size_t *left)
{
    pymarshal_token t;
    if (next_tok(L, &t) || expand_ref(L, &t))
        return -1;
    if (t.kind != PYMARSHAL_DICT && t.kind != PYMARSHAL_FROZENDICT)
        return fail_shape(L, &t, "a callers dict");
    *left = t.kind == PYMARSHAL_FROZENDICT ? t.count : SIZE_MAX;
    return 0;
}

static int parse_callers(loader *L, uint32_t callee)
{
    pstats_stats *s = L->s;
    pymarshal_token t;
    size_t left = 0;
    if (open_callers(L, &left))
        return -1;
    uint32_t start = (uint32_t)s->nedges;
    s->keys[callee].edge_start = start;
    s->keys[callee].nedges = 0;
    for (; left > 0; left--) {
        uint32_t caller;
        if (next_tok(L, &t))
            return -1;
        if (t.kind == PYMARSHAL_NULL)
            break;
        int rc = parse_key(L, &t, &caller);
        if (rc < 0)
            return -1;
        if (rc == 1) { /* a marker among callers: not a function, skip it */
            if (next_tok(L, &t) || skip_tok(L, &t))
                return -1;
            if (dropped(&t) == 2)
                break;
            continue;
        }
        pedge e;
        e.caller = caller;
        rc = parse_edge_value(L, &e);
        if (rc < 0)
            return -1;
        if (rc == 2)
            break;
        if (rc == 3)
            continue;
        if (ps_is_jprofile(s, caller))
            s->keys[callee].flags |= KF_TOP;
        uint32_t prev = L->last[caller];
        if (prev != UINT32_MAX && prev >= start) { /* repeated key: Python keeps the last value */
            if (pe_put(s, &s->edges[prev], &e, 1))
                return fail_nomem(L);
            continue;
        }
        if (s->nedges >= UINT32_MAX - 1 ||
            ps_grow(s, (void **)&s->edges, &s->cap_edges, s->nedges + 1, sizeof(pedge_s)) ||
            pe_put(s, &s->edges[s->nedges], &e, 0))
            return fail_nomem(L);
        L->last[caller] = (uint32_t)s->nedges++;
        s->keys[callee].nedges++;
    }
    return 0;
}

/* ---------------------------------------------- callers without edges */

static int str_is(loader *L, const pymarshal_token *t, const char *z, size_t n)
{
    if (t->kind != PYMARSHAL_STR && t->kind != PYMARSHAL_BYTES)
        return fail_shape(L, t, "a str");
    if (t->kind == PYMARSHAL_BYTES || t->code == 's' || t->code == 'R')
        L->py2_keys = 1;
    return t->len == n && memcmp(t->data, z, n) == 0; /* ASCII: any text encoding */
}

/* A caller key checked as parse_key checks it; a tuple that marshal may
 * name again by reference is interned as usual (replaying it later would
 * cost more), any other is neither interned nor looked up: 1 when it is
 * ('jprofile', 0, 'profiler'), 2 for the ('__sampled__',) marker, else 0. */
static int caller_key(loader *L, pymarshal_token *t)
{
    while (t->kind == PYMARSHAL_REF) {
        uint32_t id = slot_get(L, t->ref_target, TAG_KEY);
        if (id != UINT32_MAX)
            return ps_is_jprofile(L->s, id);
        if (expand_ref(L, t))
            return -1;
    }
    if (t->kind != PYMARSHAL_TUPLE)
        return fail_shape(L, t, "a (file, line, name) key");
    if (t->ref_slot >= 0 && t->count == 3) { /* named again later: keep it */
        uint32_t id;
        return parse_key(L, t, &id) < 0 ? -1 : ps_is_jprofile(L->s, id);
    }
    pymarshal_token tup = *t, it;
    if (tup.count == 1)
        return key_marker(L, &tup) < 0 ? -1 : 2;
    if (tup.count != 3)
        return fail_shape(L, &tup, "a (file, line, name) key of 3 items");
    if (next_tok(L, &it))
        return -1;
    int top = str_is(L, &it, "jprofile", 8);
    if (top < 0 || next_tok(L, &it))
        return -1;
    if (it.kind != PYMARSHAL_INT)
        return fail_shape(L, &it, "a line number (int)");
    top = top && it.i == 0;
    if (next_tok(L, &it))
        return -1;
    for (;;) {
        if (it.kind == PYMARSHAL_REF) {
            if (slot_get(L, it.ref_target, TAG_CODE) != UINT32_MAX)
                return 0;
            if (expand_ref(L, &it))
                return -1;
            continue;
        }
        if (it.kind == PYMARSHAL_CODE)
            return skip_tok(L, &it);
        int name = str_is(L, &it, "profiler", 8);
        return name < 0 ? -1 : top && name;
    }
}

/* A caller's value, its shape checked but its numbers only read as marshal
 * data: Python's print_stats never looks at them. */
static int skip_edge_value(loader *L)
{
    pymarshal_token t;
    if (next_tok(L, &t))
        return -1;
    if (dropped(&t))
        return dropped(&t);
    switch (t.kind) {
    case PYMARSHAL_TUPLE:
        if (t.count != 4)
            return fail_shape(L, &t, "a caller's (nc, cc, tt, ct) tuple of 4 items");
        return skip_tok(L, &t);
    case PYMARSHAL_REF: case PYMARSHAL_INT: case PYMARSHAL_TRUE: case PYMARSHAL_FALSE:
    case PYMARSHAL_FLOAT: case PYMARSHAL_BIGINT:
        return 0;
    default:
        return fail_shape(L, &t, "a caller's (nc, cc, tt, ct) tuple or call count");
    }
}

/* PSTATS_LOAD_NO_EDGES: a callers dict read and checked, nothing stored
 * but the top-level flag of its function. */
static int skip_callers(loader *L, uint32_t callee)
{
    pymarshal_token t;
    size_t left = 0;
    if (open_callers(L, &left))
        return -1;
    L->s->keys[callee].edge_start = 0;
    L->s->keys[callee].nedges = 0;
    for (; left > 0; left--) {
        if (next_tok(L, &t))
            return -1;
        if (t.kind == PYMARSHAL_NULL)
            break;
        int rc = caller_key(L, &t);
        if (rc < 0)
            return -1;
        if (rc == 2) {
            if (next_tok(L, &t) || skip_tok(L, &t))
                return -1;
            if (dropped(&t) == 2)
                break;
            continue;
        }
        int vr = skip_edge_value(L);
        if (vr < 0)
            return -1;
        if (vr == 2)
            break;
        if (vr == 3)
            continue;
        if (rc == 1)
            L->s->keys[callee].flags |= KF_TOP;
    }
    return 0;
}

/* A function's (cc, nc, tt, ct, callers); 2 or 3 for a NULL instead
 * (dropped()). */
static int parse_entry(loader *L, uint32_t id)
{
    pstats_stats *s = L->s;
    pymarshal_token t;
    if (next_tok(L, &t) || expand_ref(L, &t))
        return -1;
    if (dropped(&t))
        return dropped(&t);
    if (t.kind != PYMARSHAL_TUPLE || t.count != 5)
        return fail_shape(L, &t, "a (cc, nc, tt, ct, callers) tuple");
    pkey *k = &s->keys[id];
    if (!(k->flags & KF_STATS)) {
        if (ps_grow(s, (void **)&L->order, &L->cap_order, L->norder + 1, sizeof(uint32_t)))
            return fail_nomem(L);
        L->order[L->norder++] = id;
    }
    uint64_t v[4] = {0, 0, 0, 0};
    uint8_t kinds = 0;
    for (int f = 0; f < 4; f++)
        if (get_num(L, v, &kinds, f))
            return -1;
    k = &s->keys[id];
    memcpy(k->v, v, sizeof v);
    k->kinds = kinds;
    k->flags = (uint8_t)((k->flags & ~KF_TOP) | KF_STATS);
    return L->skip_edges ? skip_callers(L, id) : parse_callers(L, id);
}

static int parse_profile(loader *L)
{
    pymarshal_token t;
    if (next_tok(L, &t))
        return -1;
    if (t.kind != PYMARSHAL_DICT && t.kind != PYMARSHAL_FROZENDICT) {
        char what[64];
        describe(t.kind, what, sizeof what);
        if (t.kind == PYMARSHAL_CODE)
            ps_seterr(L->err, PSTATS_EFORMAT, L->name, 1, t.offset,
                      "not a pstats profile: a marshalled code object - a .pyc?");
        else
            ps_seterr(L->err, PSTATS_EFORMAT, L->name, 1, t.offset,
                      "not a pstats profile: %s, not a pstats dict", what);
        return -1;
    }
    size_t left = t.kind == PYMARSHAL_FROZENDICT ? t.count : SIZE_MAX;
    for (; left > 0; left--) {
        uint32_t id;
        if (next_tok(L, &t))
            return -1;
        if (t.kind == PYMARSHAL_NULL)
            break;
        int rc = parse_key(L, &t, &id);
        if (rc < 0)
            return -1;
        if (rc == 1) {
            if (next_tok(L, &t) || skip_tok(L, &t))
                return -1;
            if (dropped(&t) == 2)
                break;
            if (!dropped(&t))
                L->s->sampled = 1;
            continue;
        }
        rc = parse_entry(L, id);
        if (rc < 0)
            return -1;
        if (rc == 2)
            break;
    }
    return 0;
}

/* ------------------------------------------------------------- entry */

/* Everything the loader needed to read, freed before the model is put in
 * order (the peak of the load is at the end of parsing). */
static void loader_free(loader *L)
{
    pstats_stats *t = L->s;
    while (L->top > 0)
        pymarshal_reader_free(L->stack[L->top--]);
    if (L->stack[0])
        pymarshal_reader_free(L->stack[0]);
    L->stack[0] = NULL;
    ps_free(t, L->slots);
    ps_free(t, L->last);
    ps_free(t, L->conv);
    psd_free(&L->dig);
    L->slots = L->last = NULL;
    L->conv = NULL;
}

int ps_load_general(pstats_stats *t, const uint8_t *data, size_t len, const char *name,
                    pstats_error *err, ps_loaded *out)
{
    loader L;
    memset(&L, 0, sizeof L);
    L.s = t;
    L.err = err;
    L.name = name;
    psd_init(&L.dig, t, 0, 0);
    L.skip_edges = (t->load_flags & PSTATS_LOAD_NO_EDGES) != 0;
    pymarshal_options o;
    memset(&o, 0, sizeof o);
    o.alloc = &t->alc;
    pymarshal_error me;
    L.stack[0] = pymarshal_reader_new(data, len, &o, &me);
    int rc = L.stack[0] ? parse_profile(&L) : fail_nomem(&L);
    loader_free(&L);
    /* PyPy prints code objects' addresses with 16 hex digits */
    t->pypy = rc == 0 && t->ncodes && pypy_so_far(&L);
    out->order = L.order;
    out->norder = L.norder;
    out->py2_keys = L.py2_keys;
    out->truncated = rc != 0 && L.truncated;
    return rc;
}
