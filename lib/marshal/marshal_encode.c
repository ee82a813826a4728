/*
 * pymarshal_encode: a whole value tree through the writer.
 *
 * Version 3/4: a first pass counts how often each node is referenced; only
 * nodes met more than once get FLAG_REF, and later meetings become 'r'.
 * Slots are numbered in pre-order, as readers number them, so the output
 * decodes to a graph of the same shape (cycles included).
 * Version 2: shared nodes are written at each meeting; a node met again
 * while it is still open (a cycle) is an error.
 * Both passes use explicit stacks: no C recursion per nesting level.
 * Per-node bookkeeping is indexed by the node's dense id.
 */
#include <string.h>

#include "marshal_internal.h"
#include "marshal_tree_int.h"
#include "marshal_writer_int.h"

typedef struct pm_info {
    int64_t slot;   /* slot given when written with FLAG_REF, else -1 */
    uint32_t refs;  /* meetings, saturated at 2 */
    uint8_t open;   /* version 2: on the current path */
} pm_info;

typedef struct pm_wframe {
    const pymarshal_value *v;
    size_t next; /* next child index */
} pm_wframe;

typedef struct pm_enc {
    const pymarshal_allocator *alloc;
    pymarshal_writer *w;
    int version;
    pm_info *info;
    size_t ninfo;
    pm_wframe *stack;
    size_t sp, scap;
    pymarshal_error err;
} pm_enc;

static int enc_fail(pm_enc *e, pymarshal_errcode code, size_t off, const char *msg)
{
    if (!e->err.code)
        pm_set_error(&e->err, code, off, "%s", msg);
    return -1;
}

static pm_info *info_of(pm_enc *e, const pymarshal_value *v)
{
    if (v->id >= e->ninfo) {
        size_t old = e->ninfo;
        if (cm_reserve(e->alloc, (void **)&e->info, &e->ninfo, (size_t)v->id + 1,
                       sizeof *e->info) < 0)
            return NULL;
        for (size_t k = old; k < e->ninfo; k++) {
            e->info[k].slot = -1;
            e->info[k].refs = 0;
            e->info[k].open = 0;
        }
    }
    return &e->info[v->id];
}

/* Children of a node: items, key/value pairs, or code fields. */
static size_t nchildren(const pymarshal_value *v)
{
    if (v->kind < PYMARSHAL_TUPLE || v->kind > PYMARSHAL_FROZENDICT)
        return 0;
    if (v->kind == PYMARSHAL_DICT || v->kind == PYMARSHAL_FROZENDICT)
        return 2 * v->u.seq.n;
    return v->u.seq.n;
}

static int push(pm_enc *e, const pymarshal_value *v)
{
    if (cm_reserve(e->alloc, (void **)&e->stack, &e->scap, e->sp + 1, sizeof *e->stack) < 0)
        return enc_fail(e, PYMARSHAL_ENOMEM, v->offset, "out of memory for the encoder stack");
    e->stack[e->sp].v = v;
    e->stack[e->sp].next = 0;
    e->sp++;
    return 0;
}

/* Pass 1: count meetings of every node reachable from root. */
static int count_refs(pm_enc *e, const pymarshal_value *root)
{
    if (push(e, root) < 0)
        return -1;
    while (e->sp) {
        const pymarshal_value *v = e->stack[--e->sp].v;
        pm_info *in = info_of(e, v);
        if (!in)
            return enc_fail(e, PYMARSHAL_ENOMEM, v->offset, "out of memory for the encoder");
        if (in->refs++)
            continue;
        size_t n = nchildren(v);
        for (size_t k = n; k-- > 0;)
            if (push(e, v->u.seq.items[k]) < 0)
                return -1;
    }
    return 0;
}

static int is_simple(pymarshal_kind k)
{
    return k <= PYMARSHAL_ELLIPSIS;
}

/* Write one node's header (or the whole node when it has no children). */
static int64_t write_head(pm_enc *e, const pymarshal_value *v, unsigned flags)
{
    pymarshal_writer *w = e->w;
    switch ((pymarshal_kind)v->kind) {
    case PYMARSHAL_INT:
        if (v->layout)
            return pymarshal_priv_write_long(w, v->u.i, flags);
        return pymarshal_write_int(w, v->u.i, flags);
    case PYMARSHAL_BIGINT:
        return pymarshal_write_bigint(w, v->u.big.d, v->u.big.n, v->u.big.neg, flags);
    case PYMARSHAL_FLOAT: return pymarshal_write_float(w, v->u.f[0], flags);
    case PYMARSHAL_COMPLEX: return pymarshal_write_complex(w, v->u.f[0], v->u.f[1], flags);
    case PYMARSHAL_BYTES: return pymarshal_write_bytes(w, v->u.s.p, v->u.s.len, flags);
    case PYMARSHAL_STR:
        if (v->interned)
            flags |= PYMARSHAL_W_INTERNED;
        if (v->text == PYMARSHAL_LATIN1)
            return pymarshal_priv_write_latin1(w, v->u.s.p, v->u.s.len, flags);
        return pymarshal_write_str(w, v->u.s.p, v->u.s.len, flags);
    case PYMARSHAL_DICT: return pymarshal_write_dict(w, flags);
    case PYMARSHAL_CODE:
        return pymarshal_write_code(w, (pymarshal_code_layout)v->layout, flags);
    case PYMARSHAL_TUPLE:
    case PYMARSHAL_LIST:
    case PYMARSHAL_SET:
    case PYMARSHAL_FROZENSET:
    case PYMARSHAL_SLICE:
    case PYMARSHAL_FROZENDICT:
        return pymarshal_write_seq(w, (pymarshal_kind)v->kind, v->u.seq.n, flags);
    default:
        pymarshal_priv_writer_fail(w, PYMARSHAL_ETYPE, "a value of no known kind");
        return -1;
    }
}

/* Meet node v: write it (or a reference to it); push it when it has
 * children to write. */
static int emit(pm_enc *e, const pymarshal_value *v)
{
    if (is_simple((pymarshal_kind)v->kind)) {
        pymarshal_write_simple(e->w, (pymarshal_kind)v->kind);
        return 0;
    }
    pm_info *in = info_of(e, v);
    if (!in)
        return enc_fail(e, PYMARSHAL_ENOMEM, v->offset, "out of memory for the encoder");
    unsigned flags = 0;
    if (e->version >= 3) {
        if (in->slot >= 0) {
            pymarshal_write_ref(e->w, in->slot);
            return 0;
        }
        if (in->refs > 1)
            flags = PYMARSHAL_W_REF;
    } else if (in->open) {
        return enc_fail(e, PYMARSHAL_EVALUE, v->offset,
                        "a container holds itself: version 2 has no references");
    }
    int64_t slot = write_head(e, v, flags);
    if (slot >= 0)
        in->slot = slot;
    if (pymarshal_priv_writer_failed(e->w))
        return -1;
    if (nchildren(v) == 0) {
        if (v->kind == PYMARSHAL_DICT)
            pymarshal_write_dict_end(e->w);
        return 0;
    }
    in->open = 1;
    return push(e, v);
}

/* Pass 2: pre-order walk, writing as it goes. */
static int write_all(pm_enc *e, const pymarshal_value *root)
{
    if (emit(e, root) < 0)
        return -1;
    while (e->sp) {
        pm_wframe *f = &e->stack[e->sp - 1];
        const pymarshal_value *v = f->v;
        if (f->next == nchildren(v)) {
            if (v->kind == PYMARSHAL_DICT)
                pymarshal_write_dict_end(e->w);
            info_of(e, v)->open = 0;
            e->sp--;
            continue;
        }
        size_t k = f->next++;
        const pymarshal_value *c = v->u.seq.items[k];
        if (v->kind == PYMARSHAL_CODE) {
            const char *fields = pm_code_fields((pymarshal_code_layout)v->layout);
            if (!fields || strlen(fields) != nchildren(v))
                return enc_fail(e, PYMARSHAL_EVALUE, v->offset,
                                "code object whose fields do not match its layout");
            if (fields[k] == 'i') {
                pymarshal_write_raw_i32(e->w, (int32_t)c->u.i);
                continue;
            }
        }
        if (emit(e, c) < 0)
            return -1;
    }
    return 0;
}

int pymarshal_encode(const pymarshal_value *v, int version, const pymarshal_allocator *alloc,
                     pymarshal_write_fn write, void *ctx, pymarshal_error *err)
{
    pm_enc e;
    memset(&e, 0, sizeof e);
    e.alloc = alloc;
    e.version = version ? version : PYMARSHAL_VERSION_DEFAULT;
    if (err)
        memset(err, 0, sizeof *err);
    if (!v) {
        pm_set_error(err, PYMARSHAL_EVALUE, 0, "pymarshal_encode: no value");
        return -1;
    }
    e.w = pymarshal_writer_new(e.version, alloc, write, ctx, err);
    if (!e.w)
        return -1;
    int rc = e.version >= 3 ? count_refs(&e, v) : 0;
    if (rc == 0)
        rc = write_all(&e, v);
    pymarshal_error werr;
    int wrc = pymarshal_writer_finish(e.w, &werr);
    cm_free(alloc, e.info);
    cm_free(alloc, e.stack);
    if (err) {
        if (werr.code)
            *err = werr;
        else if (e.err.code)
            *err = e.err;
    }
    return rc < 0 || wrc < 0 ? -1 : 0;
}
