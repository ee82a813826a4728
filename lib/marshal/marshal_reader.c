/*
 * The token reader: walks one marshalled object, header by header, with an
 * explicit stack of open containers (no C recursion per nesting level).
 *
 * Memory: the reader keeps only its stack, the reference table (8 bytes per
 * FLAG_REF'd object: offset, kind, filled) and Python 2's interned-string
 * list (one offset per 't'). Strings and digits are never copied: tokens
 * point into the input. A reference to a scalar re-reads the scalar where it
 * was first met (ints, floats and strings straight from their bytes, which
 * were checked then); a reference to a container is handed to the caller as
 * a REF token (pymarshal_reader_replay can walk it again).
 *
 * Every count is checked against the bytes left before anything is pushed:
 * each item still announced by an open container needs at least one byte,
 * so the items announced at any time never exceed the input's size.
 */
#include <string.h>

#include "marshal_reader_int.h"

/* ------------------------------------------------------------ the table */

/* Give the object at `off` a reference slot. Returns the slot or -1. */
static int64_t take_slot(pymarshal_reader *r, size_t off, pymarshal_kind kind, int filled,
                         int layout)
{
    if (r->mode == PM_MODE_REPLAY)
        return r->vslot++;
    pm_slots *t = r->slots;
    if (cm_reserve(r->alloc, (void **)&t->e, &t->cap, t->n + 1, sizeof *t->e) < 0)
        return pm_fail(r, PYMARSHAL_ENOMEM, off, "out of memory for the reference table");
    t->e[t->n] = PM_SLOT(off, kind, filled, layout) | (pm_is_scalar(kind) ? PM_SLOT_CLOSED : 0u);
    return (int64_t)t->n++;
}

/* The object of frame f is complete: its slot is filled and says whether
 * Python could hash it. */
static void close_slot(pymarshal_reader *r, const pm_frame *f, unsigned unhash)
{
    if (f->slot < 0 || r->mode != PM_MODE_MAIN)
        return;
    r->slots->e[f->slot] = PM_SLOT(f->offset, (pymarshal_kind)f->kind, 1, f->layout) |
                           PM_SLOT_CLOSED | (unhash ? PM_SLOT_UNHASHABLE : 0u) |
                           (f->kind == PYMARSHAL_TUPLE && !f->nonstr ? PM_SLOT_STRS : 0u) |
                           (f->kind == PYMARSHAL_TUPLE && !f->nontext ? PM_SLOT_TEXTS : 0u);
}

/* What makes an object unhashable by itself (0: nothing). */
static unsigned own_unhash(pymarshal_kind k)
{
    return k == PYMARSHAL_LIST || k == PYMARSHAL_DICT || k == PYMARSHAL_SET ? (unsigned)k : 0;
}

/* Python's name of what could not be hashed. */
static const char *unhash_name(unsigned u)
{
    return u == PM_UNHASH_OPEN ? "a tuple that contains itself (recursion)"
                               : pymarshal_kind_name((pymarshal_kind)u);
}

/* ------------------------------------------------------ code layouts */

/* Which layout a 'c' has: marshal_code.c says which int counts are
 * plausible; when that does not settle it, look-ahead ("dry") readers walk
 * the object under each candidate (see marshal_code.c's comment). */

static const unsigned trial_order[3] = {5, 6, 4};
static void init_sub(pymarshal_reader *sub, const pymarshal_reader *r, size_t start);
static int run_reader(pymarshal_reader *r, int until_decided);

static pymarshal_reader *get_sub(pymarshal_reader *r, size_t off)
{
    if (!r->sub) {
        r->sub = cm_malloc(r->alloc, sizeof *r->sub);
        if (!r->sub) {
            pm_fail(r, PYMARSHAL_ENOMEM, off, "out of memory for a look-ahead reader");
            return NULL;
        }
        memset(r->sub, 0, sizeof *r->sub);
        r->sub->alloc_copy = r->alloc_copy;
        r->sub->impl = r->impl;
        r->sub->version = r->version;
        r->sub->alloc = r->alloc ? &r->sub->alloc_copy : NULL;
    }
    return r->sub;
}

/* Walk the code object at `off` with k ints in a dry reader. Returns the
 * layout, or -1 with the dry reader's error in *err. */
static int trial(pymarshal_reader *r, size_t off, unsigned k, int full,
                 pymarshal_error *err)
{
    pymarshal_reader *sub = get_sub(r, off);
    if (!sub)
        return -1;
    size_t nslots = r->slots->n, ninterned = r->interned->n;
    init_sub(sub, r, off);
    sub->force_nints = (uint8_t)k;
    int rc = run_reader(sub, !full);
    r->slots->n = nslots;
    r->interned->n = ninterned;
    if (rc < 0) {
        *err = sub->err;
        return -1;
    }
    return sub->decided;
}

/* The layout a named Python reads ('c' is read by its own layout only). */
static pymarshal_code_layout fixed_layout(const pymarshal_reader *r)
{
    if (r->impl == PYMARSHAL_PY_PYPY)
        return PYMARSHAL_CODE_PY38;
    if (r->impl != PYMARSHAL_PY_CPYTHON || r->version == 0)
        return 0;
    return r->version < 300   ? PYMARSHAL_CODE_PY27
           : r->version < 308 ? PYMARSHAL_CODE_PY30
           : r->version < 311 ? PYMARSHAL_CODE_PY38
                              : PYMARSHAL_CODE_PY311;
}

static int code_layout(pymarshal_reader *r, size_t off)
{
    pymarshal_code_layout fixed = fixed_layout(r);
    if (fixed)
        return (int)fixed;
    unsigned mask;
    int trunc;
    unsigned ncand = pm_code_candidates(r, off, &mask, &trunc);
    if (r->dry && r->sp == 0 && r->force_nints) {
        mask = 1u << r->force_nints;
        ncand = 1;
    }
    if (ncand == 0) {
        if (trunc)
            return pm_fail(r, PYMARSHAL_ETRUNCATED, off,
                           "truncated: code object ends before its code bytes");
        return pm_fail(r, PYMARSHAL_EVALUE, off,
                       "code object of no known layout: no bytes object followed by a "
                       "tuple after 4, 5 or 6 int fields");
    }
    unsigned first = 0;
    for (int i = 0; i < 3 && !first; i++)
        if (mask & (1u << trial_order[i]))
            first = trial_order[i];
    if (r->dry || ncand == 1) {
        if (first != 5)
            return (int)pm_code_layout_of(first);
        if (r->dry)
            return 0;
        pymarshal_error e;
        int layout = trial(r, off, 5, 0, &e);
        if (layout < 0) {
            if (!r->failed) {
                r->failed = 1;
                r->err = e;
            }
            return -1;
        }
        return layout;
    }
    /* Several counts fit: the first whose whole object parses wins. */
    pymarshal_error best = {PYMARSHAL_OK, 0, ""};
    for (int i = 0; i < 3; i++) {
        if (!(mask & (1u << trial_order[i])))
            continue;
        pymarshal_error e = {PYMARSHAL_EVALUE, off, "code object of no known layout"};
        int layout = trial(r, off, trial_order[i], 1, &e);
        if (layout > 0)
            return layout;
        if (layout < 0 && e.code == PYMARSHAL_ENOMEM)
            return pm_fail(r, PYMARSHAL_ENOMEM, e.offset, "%s", "out of memory");
        if (best.code == PYMARSHAL_OK || e.offset > best.offset)
            best = e;
    }
    if (!r->failed) {
        r->failed = 1;
        r->err = best;
    }
    return -1;
}


/* -------------------------------------------------------- containers */

static int push(pymarshal_reader *r, pymarshal_token *tok, size_t items, int flag)
{
    size_t off = tok->offset;
    pymarshal_kind kind = tok->kind;
    /* Every item announced and not yet begun needs at least one byte. Each
     * open frame counts one item in progress (the frame above it, or for
     * the top frame this container), which these bytes belong to. */
    size_t others = r->promised - r->sp;
    size_t left = r->len - r->pos;
    if (items > left || others > left - items)
        return pm_fail(r, PYMARSHAL_ETRUNCATED, off,
                       "truncated: %s of %zu items needs at least %zu more bytes, %zu left",
                       pymarshal_kind_name(kind), tok->count, items + others, left);
    /* PyPy fills a tuple's slot only when it is complete. */
    int reserve = kind == PYMARSHAL_FROZENSET || kind == PYMARSHAL_CODE ||
                  kind == PYMARSHAL_SLICE || kind == PYMARSHAL_FROZENDICT ||
                  (kind == PYMARSHAL_TUPLE && pm_dialect(r) == PM_PYPY);
    int64_t slot = -1;
    if (flag) {
        slot = take_slot(r, off, kind, !reserve, tok->code_layout);
        if (slot < 0)
            return -1;
        tok->ref_slot = slot;
    }
    if (items == 0 && kind != PYMARSHAL_DICT) {
        pm_frame f = {0, off, (uint8_t)kind, tok->code_layout, 0, 0, 0, 0, 0, 0, slot};
        close_slot(r, &f, own_unhash(kind));
        return 0;
    }
    if (cm_reserve(r->alloc, (void **)&r->stack, &r->scap, r->sp + 1, sizeof *r->stack) < 0)
        return pm_fail(r, PYMARSHAL_ENOMEM, off, "out of memory for the reader stack");
    pm_frame *f = &r->stack[r->sp++];
    f->remaining = kind == PYMARSHAL_DICT ? 1 : items;
    f->offset = off;
    f->kind = (uint8_t)kind;
    f->layout = tok->code_layout;
    f->field = 0;
    f->want_value = 0;
    f->unhash = 0;
    f->key_unhash = 0;
    f->nonstr = 0;
    f->nontext = 0;
    f->slot = slot;
    if (kind == PYMARSHAL_CODE) {
        if (cm_reserve(r->alloc, (void **)&r->codes, &r->cap_codes, r->ncodes + 1,
                       sizeof *r->codes) < 0)
            return pm_fail(r, PYMARSHAL_ENOMEM, off, "out of memory for the reader stack");
        pm_codesum *cs = &r->codes[r->ncodes++];
        memset(cs, 0, sizeof *cs);
        cs->off = off;
        cs->layout = f->layout;
    }
    r->promised += f->remaining;
    r->last_push = r->sp;
    if (r->dry && r->sp == 1 && kind == PYMARSHAL_CODE && f->layout)
        r->decided = f->layout;
    return 0;
}

static int read_container(pymarshal_reader *r, pymarshal_token *tok, uint8_t code, int flag)
{
    size_t off = tok->offset, items;
    int32_t n = 0;
    switch (code) {
    case '(': tok->kind = PYMARSHAL_TUPLE; break;
    case ')': tok->kind = PYMARSHAL_TUPLE; break;
    case '[': tok->kind = PYMARSHAL_LIST; break;
    case '<': tok->kind = PYMARSHAL_SET; break;
    case '>': tok->kind = PYMARSHAL_FROZENSET; break;
    case '}': tok->kind = PYMARSHAL_FROZENDICT; break;
    case '{': tok->kind = PYMARSHAL_DICT; break;
    case ':': tok->kind = PYMARSHAL_SLICE; break;
    case 'c': tok->kind = PYMARSHAL_CODE; break;
    }
    if (code == ')') {
        if (pm_need(r, 1, off, "tuple size") < 0)
            return -1;
        n = r->data[r->pos++];
    } else if (code != '{' && code != ':' && code != 'c') {
        if (pm_read_i32(r, off, "container size", &n) < 0)
            return -1;
        if (n < 0)
            return pm_fail(r, PYMARSHAL_ELENGTH, off, "negative %s size %d",
                           pymarshal_kind_name(tok->kind), (int)n);
    }
    tok->count = (size_t)n;
    items = tok->count;
    if (code == '}')
        items = tok->count * 2;
    else if (code == ':')
        items = tok->count = 3;
    else if (code == 'c') {
        int layout = code_layout(r, off);
        if (layout < 0)
            return -1;
        tok->code_layout = (uint8_t)layout;
        if (layout == PYMARSHAL_CODE_PY27)
            r->seen |= PM_SEEN_PY2;
        /* A layout not yet decided (look-ahead only) counts as 3.0-3.7 until
         * its 10th field tells: the two agree up to there. */
        items = tok->count = strlen(pm_code_fields(layout ? (pymarshal_code_layout)layout
                                                          : PYMARSHAL_CODE_PY30));
    }
    return push(r, tok, items, flag);
}

/* ------------------------------------------------------------ objects */

/* FLAG_REF on these kinds: CPython 3.4+ sets it on any object referred to
 * more than once, small ints and shared tuples included; PyPy only on
 * strings, bytes, longs and mutable containers. */
static const uint8_t flag_evidence[128] = {
    ['i'] = PM_SEEN_FLAG_CPY, ['I'] = PM_SEEN_FLAG_CPY, ['g'] = PM_SEEN_FLAG_CPY,
    ['f'] = PM_SEEN_FLAG_CPY, ['y'] = PM_SEEN_FLAG_CPY, ['x'] = PM_SEEN_FLAG_CPY,
    ['('] = PM_SEEN_FLAG_CPY, [')'] = PM_SEEN_FLAG_CPY, ['c'] = PM_SEEN_FLAG_CPY,
    ['z'] = PM_SEEN_FLAG_PYPY, ['Z'] = PM_SEEN_FLAG_PYPY, ['a'] = PM_SEEN_FLAG_PYPY,
    ['A'] = PM_SEEN_FLAG_PYPY, ['u'] = PM_SEEN_FLAG_PYPY, ['t'] = PM_SEEN_FLAG_PYPY,
    ['s'] = PM_SEEN_FLAG_PYPY, ['['] = PM_SEEN_FLAG_PYPY, ['{'] = PM_SEEN_FLAG_PYPY,
    ['<'] = PM_SEEN_FLAG_PYPY, ['>'] = PM_SEEN_FLAG_PYPY, ['l'] = PM_SEEN_FLAG_PYPY,
};

static const uint8_t seen_code[128] = {
    ['r'] = PM_SEEN_V3, ['z'] = PM_SEEN_V3, ['Z'] = PM_SEEN_V3, ['a'] = PM_SEEN_V3,
    ['A'] = PM_SEEN_V3, [')'] = PM_SEEN_V3, ['s'] = PM_SEEN_S, ['t'] = PM_SEEN_S,
};

static const char *writer_name(const pymarshal_reader *r)
{
    static const char *const names[] = {"CPython 3", "CPython 2.7", "PyPy"};
    return names[pm_dialect(r)];
}

/* Does the named Python know type byte b? (Under AUTO every code exists.) */
static int code_exists(const pymarshal_reader *r, uint8_t b)
{
    uint8_t code = b & 0x7f;
    switch (pm_dialect(r)) {
    case PM_CPY2: /* no FLAG_REF, no references, no short forms */
        return !(b & PM_FLAG_REF) && code != 'r' && code != 'a' && code != 'A' &&
               code != 'z' && code != 'Z' && code != ')' && code != ':' && code != '}';
    case PM_PYPY:
        return code != 'R' && code != ':' && code != '}';
    default:
        if (code == 'R')
            return 0;
        if (code == ':' || code == '}')
            return r->version == 0 || r->version >= (code == ':' ? 314u : 315u);
        return 1;
    }
}

static int read_object(pymarshal_reader *r, pymarshal_token *tok)
{
    size_t off = r->pos;
    if (off >= r->len)
        return pm_fail(r, PYMARSHAL_ETRUNCATED, off,
                       "truncated: an object is expected, the input ends");
    uint8_t b = r->data[off], code = b & 0x7f;
    int flag = (b & PM_FLAG_REF) != 0;
    pm_tok_init(tok, off, code);
    r->pos = off + 1;
    if (r->impl != PYMARSHAL_PY_AUTO && !code_exists(r, b))
        return pm_fail(r, PYMARSHAL_ETYPE, off, "unknown type code 0x%02x (for %s)", b,
                       writer_name(r));
    if (flag)
        r->seen |= flag_evidence[code] | PM_SEEN_V3;
    else if (r->sp == 0 && r->mode == PM_MODE_MAIN && !r->dry && !r->seen)
        r->seen |= PM_SEEN_TOP_PLAIN;
    r->seen |= seen_code[code];
    switch (code) {
    case '0':
        tok->kind = PYMARSHAL_NULL;
        /* PyPy gives a flagged NULL a slot that holds nothing: references
         * to it are invalid, and later slots are numbered one further. */
        if (flag && pm_dialect(r) == PM_PYPY && take_slot(r, off, PYMARSHAL_NULL, 0, 0) < 0)
            return -1;
        return 0;
    case 'r':
        return pm_read_ref(r, tok, flag);
    case 'R':
        return pm_read_interned_ref(r, tok);
    case '(': case ')': case '[': case '<': case '>': case '{': case '}': case ':': case 'c':
        return read_container(r, tok, code, flag);
    case 'i': /* the two commonest scalars, without read_scalar's switch */
        if (r->len - r->pos < 4) {
            if (pm_read_scalar(r, tok, code) < 0)
                return -1;
            break;
        }
        tok->kind = PYMARSHAL_INT;
        tok->i = cm_i32(r->data + off + 1);
        r->pos = off + 5;
        break;
    case 'g':
        if (pm_need(r, 8, off, "float") < 0)
            return -1;
        tok->kind = PYMARSHAL_FLOAT;
        tok->f = pm_bin_double(r->data + off + 1);
        r->pos = off + 9;
        break;
    default: {
        int rc = pm_read_scalar(r, tok, code);
        if (rc < 0)
            return -1;
        if (rc == 0)
            return pm_fail(r, PYMARSHAL_ETYPE, off, "unknown type code 0x%02x", b);
    }
    }
    if (code == 't' && r->mode == PM_MODE_MAIN) {
        pm_offsets *in = r->interned;
        if (cm_reserve(r->alloc, (void **)&in->e, &in->cap, in->n + 1, sizeof *in->e) < 0)
            return pm_fail(r, PYMARSHAL_ENOMEM, off, "out of memory for interned strings");
        in->e[in->n++] = off;
    }
    if (code == 'R' || (code == 't' && tok->kind == PYMARSHAL_BYTES))
        r->seen |= PM_SEEN_PY2;
    /* PyPy gives N F T S . a slot too; CPython takes none for them. */
    if (flag && (tok->kind >= PYMARSHAL_INT || pm_dialect(r) == PM_PYPY)) {
        int64_t slot = take_slot(r, off, tok->kind, 1, 0);
        if (slot < 0)
            return -1;
        tok->ref_slot = slot;
    }
    return 0;
}

/* Record a completed field of the innermost code object. */
static void code_field(pymarshal_reader *r, const pm_frame *f, const pm_item *it)
{
    pm_codesum *cs = &r->codes[r->ncodes - 1];
    cs->layout = f->layout;
    if (cs->nobj < sizeof cs->obj / sizeof cs->obj[0])
        cs->obj[cs->nobj++] = *it;
}

/* The container of frame f is complete: what its parent learns of it. */
static void closed_item(const pymarshal_reader *r, const pm_frame *f, pm_item *it)
{
    it->off = f->offset;
    it->kind = f->kind;
    it->unhash = (uint8_t)(f->unhash ? f->unhash : own_unhash((pymarshal_kind)f->kind));
    it->strs = f->kind == PYMARSHAL_TUPLE && !f->nonstr;
    it->texts = f->kind == PYMARSHAL_TUPLE && !f->nontext;
    it->py2str = 0;
    uint8_t c = r->data[f->offset] & 0x7f;
    it->n = c == ')' ? r->data[f->offset + 1]
            : c == '(' ? (size_t)cm_i32(r->data + f->offset + 1) : 0;
}

/* The item `it` is complete: count it in its container, closing every
 * container it completes. Sets and frozensets hash their items, dicts their
 * keys; a tuple, frozenset, code object, slice or frozendict cannot be
 * hashed when a part cannot; a code object is checked as its Python's
 * constructor checks it. 0, or -1 (TypeError in Python: unhashable type). */
static int item_done(pymarshal_reader *r, pm_item *it)
{
    while (r->sp) {
        pm_frame *f = &r->stack[r->sp - 1];
        if (f->kind == PYMARSHAL_DICT) {
            if (!f->want_value)
                f->key_unhash = it->unhash;
            f->want_value ^= 1;
            return 0;
        }
        if (it->unhash) {
            int hashes_items = f->kind == PYMARSHAL_SET || f->kind == PYMARSHAL_FROZENSET ||
                               (f->kind == PYMARSHAL_FROZENDICT && !(f->remaining & 1));
            if (hashes_items)
                return pm_fail(r, PYMARSHAL_ETYPE, it->off,
                               "unhashable %s as a %s item (TypeError in Python)",
                               unhash_name(it->unhash),
                               pymarshal_kind_name((pymarshal_kind)f->kind));
            if (!f->unhash)
                f->unhash = it->unhash;
        }
        f->nonstr |= it->kind != PYMARSHAL_STR;
        f->nontext |= it->kind != PYMARSHAL_STR && it->kind != PYMARSHAL_BYTES;
        if (f->kind == PYMARSHAL_CODE)
            code_field(r, f, it);
        f->remaining--;
        r->promised--;
        if (f->remaining)
            return 0;
        if (f->kind == PYMARSHAL_CODE) {
            if (pm_code_check(r, &r->codes[r->ncodes - 1]) < 0)
                return -1;
            r->ncodes--;
        }
        closed_item(r, f, it);
        close_slot(r, f, it->unhash);
        r->sp--;
    }
    r->done = 1;
    return 0;
}

/* A token that is complete at once (a scalar, an empty container, a
 * reference) as an item. */
static void token_item(const pymarshal_reader *r, const pymarshal_token *tok, pm_item *it)
{
    it->off = tok->offset;
    it->kind = tok->kind;
    it->n = tok->len;
    it->strs = 0;
    it->texts = 0;
    it->py2str = tok->code == 's' || tok->code == 't' || tok->via_ref == 'R';
    it->unhash = (uint8_t)own_unhash(tok->kind);
    if (tok->kind == PYMARSHAL_REF) {
        uint64_t e = r->slots->e[tok->ref_target];
        it->kind = tok->target_kind;
        it->n = tok->count;
        it->strs = (e & PM_SLOT_STRS) != 0;
        it->texts = (e & PM_SLOT_TEXTS) != 0;
        it->unhash = !(e & PM_SLOT_CLOSED) ? PM_UNHASH_OPEN
                     : e & PM_SLOT_UNHASHABLE ? (uint8_t)PM_SLOT_KIND(e) : 0;
    } else if (tok->kind == PYMARSHAL_TUPLE) {
        it->n = 0;
        it->strs = it->texts = 1; /* () */
    }
}

static const char *expected_here(const pymarshal_reader *r)
{
    if (!r->sp)
        return "an object";
    const pm_frame *f = &r->stack[r->sp - 1];
    if (f->kind == PYMARSHAL_DICT)
        return "a dict value";
    if (f->kind == PYMARSHAL_CODE)
        return "a code object field";
    switch ((pymarshal_kind)f->kind) {
    case PYMARSHAL_TUPLE: return "a tuple item";
    case PYMARSHAL_LIST: return "a list item";
    case PYMARSHAL_SET: return "a set item";
    case PYMARSHAL_FROZENSET: return "a frozenset item";
    case PYMARSHAL_SLICE: return "a slice field";
    case PYMARSHAL_FROZENDICT: return "a frozendict key or value";
    default: return "an object";
    }
}

static int raw_field(pymarshal_reader *r, pymarshal_token *tok)
{
    pm_frame *f = &r->stack[r->sp - 1];
    pm_tok_init(tok, r->pos, 'i');
    int32_t v;
    if (pm_read_i32(r, f->offset, "code object int field", &v) < 0)
        return -1;
    tok->kind = PYMARSHAL_INT;
    tok->raw_field = 1;
    tok->i = v;
    f->field++;
    pm_codesum *cs = &r->codes[r->ncodes - 1];
    if (cs->nints < sizeof cs->ints / sizeof cs->ints[0])
        cs->ints[cs->nints++] = v;
    /* Every layout ends with an object field: a raw int never completes
     * its code object. */
    f->remaining--;
    r->promised--;
    return 1;
}

/* The token path of the commonest items of a tuple, list or dict: 'i', 'g'
 * and 'r' to a scalar without FLAG_REF, whole in the input. Makes the token
 * exactly as read_object would, and returns 1; returns 0 having consumed
 * nothing for everything else, which takes the generic path (so every check
 * and every error stays there); -1 when the item completes a container
 * Python could not hash where it must. The caller checked the depth. */
static inline int next_fast(pymarshal_reader *r, pymarshal_token *tok, pm_frame *top)
{
    size_t off = r->pos;
    if (r->len - off < 9 || top->key_unhash)
        return 0;
    const uint8_t *p = r->data + off;
    switch (p[0]) {
    case 'i':
        pm_tok_init(tok, off, 'i');
        tok->kind = PYMARSHAL_INT;
        tok->i = cm_i32(p + 1);
        break;
    case 'g':
        pm_tok_init(tok, off, 'g');
        tok->kind = PYMARSHAL_FLOAT;
        tok->f = pm_bin_double(p + 1);
        break;
    case 'r': {
        int32_t idx = cm_i32(p + 1);
        const pm_slots *t = r->slots;
        size_t known = r->mode == PM_MODE_REPLAY && (uint64_t)r->vslot < t->n
                           ? (size_t)r->vslot : t->n;
        if (idx < 0 || (size_t)idx >= known)
            return 0;
        uint64_t e = t->e[idx];
        if (!(e & PM_SLOT_FILLED) || !pm_is_scalar(PM_SLOT_KIND(e)))
            return 0;
        pm_tok_init(tok, off, 'r');
        tok->via_ref = 'r';
        tok->ref_target = idx;
        if (!pm_ref_scalar_fast(r, tok, PM_SLOT_OFFSET(e), PM_SLOT_KIND(e)))
            return 0;
        break;
    }
    default:
        return 0;
    }
    r->pos = off + (p[0] == 'g' ? 9 : 5);
    top->nonstr |= tok->kind != PYMARSHAL_STR;
    top->nontext |= tok->kind != PYMARSHAL_STR && tok->kind != PYMARSHAL_BYTES;
    if (top->kind == PYMARSHAL_DICT) {
        top->key_unhash = 0; /* a scalar key; or a value after a hashable key */
        top->want_value ^= 1;
    } else if (top->remaining > 1) {
        top->remaining--;
        r->promised--;
    } else {
        pm_item it;
        token_item(r, tok, &it);
        if (item_done(r, &it) < 0)
            return -1;
    }
    return 1;
}

/* A NULL: a dict's end where a key is due; where a value is due, CPython 3
 * ends the dict there (the key is dropped), 2.7 drops the pair and reads
 * on, PyPy refuses it; anywhere else it is an error in every Python. */
static int null_token(pymarshal_reader *r, pymarshal_token *tok, pm_frame *top)
{
    if (!top || top->kind != PYMARSHAL_DICT)
        return pm_fail(r, PYMARSHAL_ETYPE, tok->offset, "NULL object where %s is expected",
                       expected_here(r));
    if (top->want_value) {
        int d = pm_dialect(r);
        if (d == PM_PYPY)
            return pm_fail(r, PYMARSHAL_ETYPE, tok->offset,
                           "NULL object where a dict value is expected (PyPy refuses it)");
        tok->drops_key = 1;
        top->key_unhash = 0;
        if (d == PM_CPY2) {
            top->want_value = 0;
            return 1;
        }
    }
    tok->closes = 1;
    r->promised--;
    close_slot(r, top, PYMARSHAL_DICT);
    r->sp--;
    pm_item it;
    closed_item(r, top, &it);
    return item_done(r, &it) < 0 ? -1 : 1;
}

int pymarshal_reader_next(pymarshal_reader *r, pymarshal_token *tok)
{
    if (r->failed)
        return -1;
    if (r->done)
        return 0;
    r->last_push = 0;
    size_t sp = r->sp;
    pm_frame *top = sp ? &r->stack[sp - 1] : NULL;
    if (top && top->kind == PYMARSHAL_CODE) {
        const char *fields =
            pm_code_fields(top->layout ? (pymarshal_code_layout)top->layout
                                       : PYMARSHAL_CODE_PY30);
        if (fields[top->field] == 'i')
            return raw_field(r, tok);
    }
    if (sp >= r->max_depth)
        return pm_fail(r, PYMARSHAL_EDEPTH, r->pos,
                       "nesting deeper than %u levels (recursion limit exceeded)",
                       r->max_depth);
    if (top && top->kind != PYMARSHAL_CODE) {
        int rc = next_fast(r, tok, top);
        if (rc)
            return rc;
    }
    if (read_object(r, tok) < 0)
        return -1;
    top = sp ? &r->stack[sp - 1] : NULL; /* a push may have moved the stack */
    if (tok->kind == PYMARSHAL_NULL)
        return null_token(r, tok, top);
    if (top && top->kind == PYMARSHAL_DICT && top->want_value && top->key_unhash)
        return pm_fail(r, PYMARSHAL_ETYPE, tok->offset,
                       "unhashable %s as a dict key (TypeError in Python)",
                       unhash_name(top->key_unhash));
    if (top && top->kind == PYMARSHAL_CODE) {
        top->field++;
        if (top->layout == 0 && top->field == 10) {
            pymarshal_kind k = tok->kind == PYMARSHAL_REF ? tok->target_kind : tok->kind;
            if (pm_code_decide(r, top, k) < 0)
                return -1;
        }
    }
    if (r->sp == sp) {
        /* The common case inline: an item of a tuple/list that is not its last. */
        pm_frame *f = sp ? &r->stack[sp - 1] : NULL;
        pm_item it;
        token_item(r, tok, &it);
        if (f && (f->kind == PYMARSHAL_TUPLE || f->kind == PYMARSHAL_LIST) &&
            f->remaining > 1 && !it.unhash) {
            f->nonstr |= it.kind != PYMARSHAL_STR;
            f->nontext |= it.kind != PYMARSHAL_STR && it.kind != PYMARSHAL_BYTES;
            f->remaining--;
            r->promised--;
        } else if (item_done(r, &it) < 0) {
            return -1;
        }
    }
    return 1;
}

int pymarshal_reader_skip(pymarshal_reader *r)
{
    if (r->failed)
        return -1;
    size_t depth = r->last_push;
    pymarshal_token tok;
    while (depth && r->sp >= depth) {
        if (pymarshal_reader_next(r, &tok) < 0)
            return -1;
    }
    r->last_push = 0;
    return 0;
}

static int run_reader(pymarshal_reader *r, int until_decided)
{
    pymarshal_token tok;
    for (;;) {
        if (until_decided && r->decided)
            return 0;
        int rc = pymarshal_reader_next(r, &tok);
        if (rc <= 0)
            return rc;
    }
}

unsigned pymarshal_reader_depth(const pymarshal_reader *r)
{
    return (unsigned)r->sp;
}

size_t pymarshal_reader_offset(const pymarshal_reader *r)
{
    return r->pos;
}

const pymarshal_error *pymarshal_reader_error(const pymarshal_reader *r)
{
    return &r->err;
}

static void init_sub(pymarshal_reader *sub, const pymarshal_reader *r, size_t start)
{
    sub->data = r->data;
    sub->len = r->len;
    sub->pos = start;
    sub->max_depth = r->max_depth - (unsigned)r->sp;
    sub->sp = 0;
    sub->promised = 0;
    sub->last_push = 0;
    sub->slots = r->slots;
    sub->interned = r->interned;
    sub->vslot = r->vslot;
    sub->mode = r->mode;
    sub->dry = 1;
    sub->done = sub->failed = 0;
    sub->force_nints = 0;
    sub->decided = 0;
    sub->ncodes = 0;
    sub->seen = r->seen;
    memset(&sub->err, 0, sizeof sub->err);
}
