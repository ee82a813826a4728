/*
 * The value tree: pymarshal_load builds it from the token reader into one
 * arena owned by the doc (a few large blocks, never one malloc per node).
 *
 * - Shared objects stay shared: every object that took a reference slot is
 *   remembered by slot, and a reference ('r' to a container or a scalar)
 *   hands back that same node. Containers are registered when their header
 *   is met, so cycles through lists, dicts, sets and tuples come out as
 *   cycles in the graph.
 * - Strings and bytes point into the input buffer; big-int digits are
 *   copied (the input's are unaligned little-endian).
 * - No recursion: the items of open containers wait on one pending vector
 *   and are moved into an exact-size arena array when the container closes.
 * - A dict or set holds what Python's would: of equal keys (Python's ==)
 *   the first, with the last value (marshal_pyeq.c).
 */
#include <string.h>

#include "marshal_internal.h"
#include "marshal_tree_int.h"

/* ----------------------------------------------------------------- arena */

typedef struct pm_chunk {
    struct pm_chunk *next;
    size_t size, used;
    /* data follows, aligned for any value */
} pm_chunk;

#define PM_CHUNK_HEAD ((sizeof(pm_chunk) + 15u) & ~(size_t)15u)
#define PM_CHUNK_MIN ((size_t)16 << 10)
#define PM_CHUNK_MAX ((size_t)4 << 20)

struct pymarshal_doc {
    pymarshal_allocator alloc_copy;
    const pymarshal_allocator *alloc;
    pm_chunk *chunks;
    size_t next_chunk;
    const pymarshal_value *root;
    size_t end;
    uint32_t nnodes;
};

static void *arena_alloc(pymarshal_doc *d, size_t n)
{
    n = (n + 15u) & ~(size_t)15u;
    pm_chunk *c = d->chunks;
    if (!c || c->size - c->used < n) {
        size_t size = d->next_chunk;
        if (size < n)
            size = n;
        if (size > SIZE_MAX - PM_CHUNK_HEAD)
            return NULL;
        c = cm_malloc(d->alloc, PM_CHUNK_HEAD + size);
        if (!c)
            return NULL;
        c->size = size;
        c->used = 0;
        c->next = d->chunks;
        d->chunks = c;
        if (d->next_chunk < PM_CHUNK_MAX)
            d->next_chunk *= 2;
    }
    void *p = (char *)c + PM_CHUNK_HEAD + c->used;
    c->used += n;
    return p;
}

void pymarshal_doc_free(pymarshal_doc *d)
{
    if (!d)
        return;
    pm_chunk *c = d->chunks;
    while (c) {
        pm_chunk *next = c->next;
        cm_free(d->alloc, c);
        c = next;
    }
    cm_free(d->alloc, d);
}

/* ----------------------------------------------------------------- build */

typedef struct pm_open {
    pymarshal_value *v;
    size_t first; /* index of its first item on the pending vector */
} pm_open;

typedef struct pm_build {
    pymarshal_doc *doc;
    pymarshal_reader *r;
    const pymarshal_allocator *alloc;
    pm_open *open;
    size_t nopen, open_cap;
    pymarshal_value **pending;
    size_t npending, pending_cap;
    pymarshal_value **slots; /* slot -> node */
    size_t slots_cap;
    const uint8_t *in;       /* the input: strings outside it are copied */
    size_t in_len;
    pymarshal_error *err;
} pm_build;

static int oom(pm_build *b, size_t off)
{
    pm_set_error(b->err, PYMARSHAL_ENOMEM, off, "out of memory building the value tree");
    return -1;
}

static pymarshal_value *new_node(pm_build *b, const pymarshal_token *t)
{
    if (b->doc->nnodes == UINT32_MAX)
        return NULL; /* ids are 32-bit: over 4 billion objects */
    pymarshal_value *v = arena_alloc(b->doc, sizeof *v);
    if (!v)
        return NULL;
    memset(v, 0, sizeof *v);
    v->kind = (uint8_t)t->kind;
    v->offset = t->offset;
    v->id = b->doc->nnodes++;
    v->text = t->text;
    v->interned = t->interned;
    v->layout = t->code_layout;
    switch (t->kind) {
    case PYMARSHAL_TRUE:
        v->u.i = 1;
        break;
    case PYMARSHAL_INT:
        v->u.i = t->i;
        v->layout = t->code == 'l';
        break;
    case PYMARSHAL_FLOAT:
    case PYMARSHAL_COMPLEX:
        v->u.f[0] = t->f;
        v->u.f[1] = t->imag;
        break;
    case PYMARSHAL_BYTES:
    case PYMARSHAL_STR:
        v->u.s.p = t->data;
        v->u.s.len = t->len;
        if (t->len && (t->data < b->in || t->data >= b->in + b->in_len)) {
            /* text the reader rewrote (PyPy's reading of bad UTF-8) */
            uint8_t *copy = arena_alloc(b->doc, t->len);
            if (!copy)
                return NULL;
            memcpy(copy, t->data, t->len);
            v->u.s.p = copy;
        }
        break;
    case PYMARSHAL_BIGINT: {
        uint16_t *dig = arena_alloc(b->doc, t->len * sizeof *dig);
        if (!dig)
            return NULL;
        for (size_t k = 0; k < t->len; k++)
            dig[k] = cm_u16(t->data + 2 * k);
        v->u.big.d = dig;
        v->u.big.n = t->len;
        v->u.big.neg = t->negative;
        break;
    }
    default:
        break;
    }
    return v;
}

static int remember(pm_build *b, int64_t slot, pymarshal_value *v, size_t off)
{
    if (slot < 0)
        return 0;
    if (cm_reserve(b->alloc, (void **)&b->slots, &b->slots_cap, (size_t)slot + 1,
                   sizeof *b->slots) < 0)
        return oom(b, off);
    b->slots[slot] = v;
    return 0;
}

static int add_pending(pm_build *b, pymarshal_value *v, size_t off)
{
    if (!b->nopen) {
        b->doc->root = v;
        return 0;
    }
    if (cm_reserve(b->alloc, (void **)&b->pending, &b->pending_cap, b->npending + 1,
                   sizeof *b->pending) < 0)
        return oom(b, off);
    b->pending[b->npending++] = v;
    return 0;
}

/* Close the innermost open container: move its items into the arena. */
static int close_top(pm_build *b)
{
    pm_open *o = &b->open[--b->nopen];
    size_t n = b->npending - o->first;
    pymarshal_value *v = o->v;
    int pairs = v->kind == PYMARSHAL_DICT || v->kind == PYMARSHAL_FROZENDICT;
    if (n && (pairs || v->kind == PYMARSHAL_SET || v->kind == PYMARSHAL_FROZENSET)) {
        /* what Python builds: equal keys (items) once (an empty container
         * may have no pending array at all) */
        size_t m = pairs ? n / 2 : n;
        if (pm_dedupe((const pymarshal_value **)b->pending + o->first, &m, pairs, b->alloc) < 0)
            return oom(b, v->offset);
        n = pairs ? 2 * m : m;
    }
    if (n) {
        const pymarshal_value **items = arena_alloc(b->doc, n * sizeof *items);
        if (!items)
            return oom(b, v->offset);
        memcpy(items, b->pending + o->first, n * sizeof *items);
        v->u.seq.items = items;
    }
    v->u.seq.n = (v->kind == PYMARSHAL_DICT || v->kind == PYMARSHAL_FROZENDICT) ? n / 2 : n;
    b->npending = o->first;
    return 0;
}

/* The node a token stands for: a new one, or the shared one it refers to. */
static pymarshal_value *node_for(pm_build *b, const pymarshal_token *t)
{
    if (t->kind == PYMARSHAL_REF || (t->via_ref && t->via_ref != 'R')) {
        int64_t s = t->ref_target;
        if (s >= 0 && (size_t)s < b->slots_cap && b->slots[s]) {
            /* PyPy: a flagged reference names its target in a slot too */
            if (t->ref_slot >= 0 && remember(b, t->ref_slot, b->slots[s], t->offset) < 0)
                return NULL;
            return b->slots[s];
        }
        pm_set_error(b->err, PYMARSHAL_EREF, t->offset,
                     "reference to slot %lld, which the tree has not seen", (long long)s);
        return NULL;
    }
    pymarshal_value *v = new_node(b, t);
    if (!v) {
        oom(b, t->offset);
        return NULL;
    }
    if (remember(b, t->ref_slot, v, t->offset) < 0)
        return NULL;
    return v;
}

static int is_container(pymarshal_kind k)
{
    return k >= PYMARSHAL_TUPLE && k <= PYMARSHAL_FROZENDICT;
}

static int build_step(pm_build *b, const pymarshal_token *t, unsigned depth_after)
{
    if (t->kind == PYMARSHAL_NULL && t->drops_key) {
        b->npending--; /* a NULL value: the key just read is not in the dict */
    } else if (t->kind != PYMARSHAL_NULL) {
        pymarshal_value *v = node_for(b, t);
        if (!v || add_pending(b, v, t->offset) < 0)
            return -1;
        if (is_container(t->kind) && !t->via_ref && depth_after > b->nopen) {
            if (cm_reserve(b->alloc, (void **)&b->open, &b->open_cap, b->nopen + 1,
                           sizeof *b->open) < 0)
                return oom(b, t->offset);
            b->open[b->nopen].v = v;
            b->open[b->nopen].first = b->npending;
            b->nopen++;
            return 0;
        }
    }
    while (b->nopen > depth_after)
        if (close_top(b) < 0)
            return -1;
    return 0;
}

static int build(pm_build *b)
{
    pymarshal_token t;
    int rc;
    while ((rc = pymarshal_reader_next(b->r, &t)) == 1) {
        if (build_step(b, &t, pymarshal_reader_depth(b->r)) < 0)
            return -1;
    }
    if (rc < 0) {
        *b->err = *pymarshal_reader_error(b->r);
        return -1;
    }
    while (b->nopen)
        if (close_top(b) < 0)
            return -1;
    b->doc->end = pymarshal_reader_offset(b->r);
    return 0;
}

pymarshal_doc *pymarshal_load(const void *data, size_t len, const pymarshal_options *opts,
                              pymarshal_error *err)
{
    pymarshal_error local;
    if (!err)
        err = &local;
    memset(err, 0, sizeof *err);
    const pymarshal_allocator *alloc = opts ? opts->alloc : NULL;
    pymarshal_doc *doc = cm_malloc(alloc, sizeof *doc);
    if (!doc) {
        pm_set_error(err, PYMARSHAL_ENOMEM, 0, "out of memory for a document");
        return NULL;
    }
    memset(doc, 0, sizeof *doc);
    if (alloc) {
        doc->alloc_copy = *alloc;
        doc->alloc = &doc->alloc_copy;
    }
    doc->next_chunk = len / 2 < PM_CHUNK_MIN ? PM_CHUNK_MIN : len / 2;
    if (doc->next_chunk > PM_CHUNK_MAX)
        doc->next_chunk = PM_CHUNK_MAX;
    pm_build b;
    memset(&b, 0, sizeof b);
    b.doc = doc;
    b.alloc = doc->alloc;
    b.err = err;
    b.in = data;
    b.in_len = data ? len : 0;
    b.r = pymarshal_reader_new(data, len, opts, err);
    int rc = b.r ? build(&b) : -1;
    pymarshal_reader_free(b.r);
    cm_free(b.alloc, b.open);
    cm_free(b.alloc, b.pending);
    cm_free(b.alloc, b.slots);
    if (rc < 0) {
        pymarshal_doc_free(doc);
        return NULL;
    }
    return doc;
}

const pymarshal_value *pymarshal_doc_root(const pymarshal_doc *doc)
{
    return doc ? doc->root : NULL;
}

size_t pymarshal_doc_end(const pymarshal_doc *doc)
{
    return doc ? doc->end : 0;
}
