/*
 * Function blocks of the callgrind output, formatted independently of each
 * other: pstats_cg_part_prepare() plans a part's call costs and, in one
 * serial pass over the planned rows, decides which "fl=", "fn=", "cfl=" and
 * "cfn=" lines carry the name (the first reference in the part); after
 * that, any range of blocks can be formatted in any thread, and the text is
 * the same as if the whole part had been written in order, which
 * pstats_cg_part_run() does with lib/common's cm_ordered_run: the calling
 * thread marks each chunk just ahead of it and writes the chunks in order,
 * a second thread helps format them.
 */
#include <string.h>

#include "callgrind_int.h"
#include "callgrind_model.h"
#include "pstats_internal.h"

static uint64_t clamp_count(int64_t v)
{
    return v > 0 ? (uint64_t)v : 0;
}

/* 1 the first time idx is referred to (the reference carries the name). */
static inline unsigned take(uint8_t *defined, uint32_t idx)
{
    if (defined[idx])
        return 0;
    defined[idx] = 1;
    return 1;
}

static inline unsigned edge_marks(const cg_part *cp, size_t k)
{
    return cp->emarks[k];
}

/* A 0-call edge without cost is not written: nothing to show. */
static inline int edge_shown(const cg_edge *e)
{
    return e->count != 0 || e->cost != 0;
}

/* The marks of f's references (serial: the first reference names). */
static void mark_row(cg_part *cp, uint32_t f)
{
    const cg_names *nm = cp->nm;
    uint8_t *fn_defined = cp->fn_defined, *fl_defined = cp->fl_defined;
    uint32_t g = pstats_cg_global(nm, cp->p, f);
    unsigned m = take(fl_defined, nm->func_file[g]) * CG_M_FL | take(fn_defined, g + 1) * CG_M_FN;
    for (size_t k = cp->pl.off[f]; k < cp->pl.off[f + 1]; k++) {
        const cg_edge *e = &cp->pl.e[k];
        if (!edge_shown(e))
            continue;
        uint32_t c = pstats_cg_global(nm, cp->p, e->callee);
        cp->emarks[k] = (uint8_t)(take(fl_defined, nm->func_file[c]) * CG_M_FL |
                                  take(fn_defined, c + 1) * CG_M_FN);
    }
    cg_gap *gap = cp->next_gap < cp->pl.ngaps ? cp->pl.gaps + cp->next_gap : NULL;
    if (gap && gap->f == f) {
        gap->marks = (uint8_t)(take(fl_defined, nm->func_file[nm->pseudo]) * CG_M_FL |
                               take(fn_defined, 0) * CG_M_FN);
        cp->next_gap++;
        m |= CG_M_GAP;
        cp->pseudo_used = 1;
    }
    cp->fmarks[f] = (uint8_t)m;
}

void pstats_cg_part_mark(cg_part *cp, uint32_t from, uint32_t to)
{
    for (uint32_t f = from; f < to; f++)
        mark_row(cp, f);
}

int pstats_cg_part_prepare(cg_part *cp, const pstats_stats *s, size_t p, const cg_names *nm,
                           double scale, int call_events, cg_plan *planned,
                           uint8_t *fn_defined, uint8_t *fl_defined,
                           const pymarshal_allocator *a)
{
    memset(cp, 0, sizeof *cp);
    cp->s = s;
    cp->nm = nm;
    cp->p = p;
    cp->scale = scale;
    cp->call_events = call_events;
    if (planned) {
        cp->pl = *planned;
        memset(planned, 0, sizeof *planned);
    } else if (pstats_cg_plan_build(&cp->pl, s, scale, a) != 0) {
        return -1;
    }
    cp->fn_defined = fn_defined;
    cp->fl_defined = fl_defined;
    size_t nk = cp->pl.nkeys, ne = cp->pl.n;
    cp->fmarks = cm_malloc(a, nk ? nk : 1);
    cp->emarks = cm_malloc(a, ne ? ne : 1); /* every shown edge's is set */
    if (!cp->fmarks || !cp->emarks)
        return -1;
    return 0;
}

void pstats_cg_part_free(cg_part *cp, const pymarshal_allocator *a)
{
    pstats_cg_plan_free(&cp->pl, a);
    cm_free(a, cp->fmarks);
    cm_free(a, cp->emarks);
    memset(cp, 0, sizeof *cp);
}

/* ---------------------------------------------------------- formatting */

/* Room for k more bytes at out's end; NULL when out of memory. */
static inline char *room(cg_bytes *out, size_t k, const pymarshal_allocator *a)
{
    if (k > out->cap - out->len &&
        (k > SIZE_MAX - out->len || cm_reserve(a, (void **)&out->p, &out->cap, out->len + k, 1)))
        return NULL;
    return out->p + out->len;
}

static inline void done(cg_bytes *out, const char *p)
{
    out->len = (size_t)(p - out->p);
}

/* "fl=(N)", "cfn=(N)", ...: key, "=(", idx + 1, ")" at p (26 bytes). */
static inline char *put_ref(char *p, const char *key, size_t klen, uint32_t idx)
{
    memcpy(p, key, klen);
    p += klen;
    *p++ = '=';
    *p++ = '(';
    p = pstats_cg_put_u64(p, (uint64_t)idx + 1);
    *p++ = ')';
    return p;
}

/* "<line> <cost>[ <calls>]\n" at p (63 bytes). */
static inline char *put_cost(char *p, int call_events, int64_t line, uint64_t cost,
                             uint64_t calls)
{
    p = pstats_cg_put_u64(p, clamp_count(line));
    *p++ = ' ';
    p = pstats_cg_put_u64(p, cost);
    if (call_events) {
        *p++ = ' ';
        p = pstats_cg_put_u64(p, calls);
    }
    *p++ = '\n';
    return p;
}

/* "fl=(N)[ name]\nfn=(N)[ name]\n" for function g (called: "cfl", "cfn"),
 * with the names `marks` asks for; g's label is g + 1, the pseudo's 0. */
static int put_refs(const cg_part *cp, cg_bytes *out, cg_bytes *label, int called, uint32_t g,
                    unsigned marks, const pymarshal_allocator *a)
{
    const cg_names *nm = cp->nm;
    uint32_t fid = nm->func_file[g], lid = g == nm->pseudo ? 0 : g + 1; /* root: root + 1 */
    size_t flen = 0, llen = 0;
    const char *fname = NULL;
    if (marks & CG_M_FL)
        fname = pstats_cg_strtab_str(&nm->files, fid, &flen);
    if (marks & CG_M_FN) {
        if (pstats_cg_label(nm, g, label, a) != 0)
            return -1;
        llen = label->len;
    }
    char *p = room(out, 60 + flen + llen, a);
    if (!p)
        return -1;
    p = put_ref(p, called ? "cfl" : "fl", called ? 3 : 2, fid);
    if (fname) {
        *p++ = ' ';
        memcpy(p, fname, flen);
        p += flen;
    }
    *p++ = '\n';
    p = put_ref(p, called ? "cfn" : "fn", called ? 3 : 2, lid);
    if (marks & CG_M_FN) {
        *p++ = ' ';
        if (llen)
            memcpy(p, label->p, llen);
        p += llen;
    }
    *p++ = '\n';
    done(out, p);
    return 0;
}

/* A call: the callee's references, "calls=<count> <target line>" and the
 * cost line. */
static int put_call(const cg_part *cp, cg_bytes *out, cg_bytes *label, uint32_t g,
                    unsigned marks, uint64_t count, int64_t target_line, int64_t line,
                    uint64_t cost, const pymarshal_allocator *a)
{
    if (put_refs(cp, out, label, 1, g, marks, a) != 0)
        return -1;
    char *p = room(out, 48 + 64, a);
    if (!p)
        return -1;
    memcpy(p, "calls=", 6);
    p = pstats_cg_put_u64(p + 6, count);
    *p++ = ' ';
    p = pstats_cg_put_u64(p, clamp_count(target_line));
    *p++ = '\n';
    done(out, put_cost(p, cp->call_events, line, cost, 0));
    return 0;
}

/* Function f's block; *gap: the next pseudo-call of the part. */
static int format_block(const cg_part *cp, uint32_t f, const cg_gap **gap, cg_bytes *out,
                        cg_bytes *label, const pymarshal_allocator *a)
{
    const pstats_stats *s = cp->s;
    pstats_func fn;
    pstats_cg_func(s, f, &fn);
    unsigned m = cp->fmarks[f];
    char *p = room(out, 1, a);
    if (!p)
        return -1;
    *p = '\n';
    out->len++;
    if (put_refs(cp, out, label, 0, pstats_cg_global(cp->nm, cp->p, f), m, a) != 0 ||
        !(p = room(out, 64, a)))
        return -1;
    /* self cost: tottime, as the plan took it */
    done(out, put_cost(p, cp->call_events, fn.line, pstats_cg_units(fn.tt, cp->scale),
                       clamp_count(fn.nc)));
    for (size_t k = cp->pl.off[f]; k < cp->pl.off[f + 1]; k++) {
        const cg_edge *e = &cp->pl.e[k];
        if (!edge_shown(e))
            continue;
        uint64_t count = pstats_cg_edge_count(s, f, e);
        if (put_call(cp, out, label, pstats_cg_global(cp->nm, cp->p, e->callee),
                     edge_marks(cp, k), count ? count : 1, s->keys[e->callee].line, fn.line,
                     e->cost, a) != 0)
            return -1;
    }
    if (m & CG_M_GAP) {
        const cg_gap *g = (*gap)++;
        return put_call(cp, out, label, cp->nm->pseudo, g->marks, 1, 0, fn.line, g->cost, a);
    }
    return 0;
}

int pstats_cg_part_format(const cg_part *cp, uint32_t from, uint32_t to, cg_bytes *out,
                          cg_bytes *label, const pymarshal_allocator *a)
{
    size_t lo = 0, hi = cp->pl.ngaps; /* the first pseudo-call at or after `from` */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cp->pl.gaps[mid].f < from)
            lo = mid + 1;
        else
            hi = mid;
    }
    const cg_gap *gap = cp->pl.ngaps ? cp->pl.gaps + lo : NULL; /* read only past a gap mark */
    for (uint32_t f = from; f < to; f++)
        if (format_block(cp, f, &gap, out, label, a) != 0)
            return -1;
    return 0;
}

/* The block of a pseudo-function g (no cost of its own) and its calls,
 * if any: calls[0 .. n) to their f. */
static int pseudo_block(cg_part *cp, uint32_t g, const cg_gap *calls, size_t n, cg_bytes *out,
                        cg_bytes *label, const pymarshal_allocator *a)
{
    const cg_names *nm = cp->nm;
    uint32_t lid = g == nm->pseudo ? 0 : g + 1;
    unsigned m = take(cp->fl_defined, nm->func_file[g]) * CG_M_FL | take(cp->fn_defined, lid) * CG_M_FN;
    char *p = room(out, 1, a);
    if (!p)
        return -1;
    *p = '\n';
    out->len++;
    if (put_refs(cp, out, label, 0, g, m, a) != 0 || !(p = room(out, 64, a)))
        return -1;
    done(out, put_cost(p, cp->call_events, 0, 0, 0));
    for (size_t i = 0; i < n; i++) {
        uint32_t c = pstats_cg_global(nm, cp->p, calls[i].f);
        unsigned cm = take(cp->fl_defined, nm->func_file[c]) * CG_M_FL |
                      take(cp->fn_defined, c + 1) * CG_M_FN;
        if (put_call(cp, out, label, c, cm, 1, cp->s->keys[calls[i].f].line, 0, calls[i].cost,
                     a) != 0)
            return -1;
    }
    return 0;
}

int pstats_cg_part_tail(cg_part *cp, cg_bytes *out, cg_bytes *label,
                        const pymarshal_allocator *a)
{
    if (cp->pseudo_used && pseudo_block(cp, cp->nm->pseudo, NULL, 0, out, label, a) != 0)
        return -1;
    if (cp->pl.nroots &&
        pseudo_block(cp, cp->nm->root, cp->pl.roots, cp->pl.nroots, out, label, a) != 0)
        return -1;
    return 0;
}

/* ------------------------------------------------- in two threads */

/* A chunk holds about this many functions plus planned calls (each about
 * 50 bytes of text): ~200 KB, small enough for the caches' sake, large
 * enough that cm_ordered_run's lock is taken rarely. Tests (ps_threads_forced)
 * use tiny chunks, so that a small model goes round the ring of slots many
 * times. */
#define CG_CHUNK 4096
#define CG_CHUNK_FORCED 3

/* The end of the chunk that starts at `from`: the first f where functions
 * plus planned calls since `from` reach CG_CHUNK (off[f] + f grows with f). */
static uint32_t chunk_end(const cg_part *cp, uint32_t from)
{
    const uint32_t *off = cp->pl.off;
    uint64_t goal = (uint64_t)off[from] + from +
                    (ps_threads_forced(cp->s) ? CG_CHUNK_FORCED : CG_CHUNK);
    uint32_t lo = from + 1, hi = (uint32_t)cp->pl.nkeys;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if ((uint64_t)off[mid] + mid >= goal)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

/* cm_ordered_run's job: the chunks' text in one buffer per slot, label
 * scratch per worker. */
typedef struct part_run {
    cg_part *cp;
    const pymarshal_allocator *a; /* what the formatters allocate with */
    cg_bytes slot[CM_SLOTS];
    cg_bytes label[2];
} part_run;

static size_t run_chunk_end(void *ctx, size_t from, size_t n)
{
    (void)n;
    const part_run *r = ctx;
    return chunk_end(r->cp, (uint32_t)from);
}

static void run_prepare(void *ctx, size_t from, size_t to)
{
    part_run *r = ctx;
    pstats_cg_part_mark(r->cp, (uint32_t)from, (uint32_t)to);
}

static int run_format(void *ctx, int worker, size_t k, size_t from, size_t to,
                      const void **data, size_t *len)
{
    part_run *r = ctx;
    /* formatted as local copies: the slots and the two workers' scratch
     * share cache lines, which would bounce between the cores at every
     * byte appended */
    cg_bytes out = r->slot[k], label = r->label[worker];
    out.len = 0;
    int rc = pstats_cg_part_format(r->cp, (uint32_t)from, (uint32_t)to, &out, &label, r->a);
    r->slot[k] = out;
    r->label[worker] = label;
    *data = out.p;
    *len = out.len;
    return rc;
}

int pstats_cg_part_run(cg_part *cp, const pymarshal_allocator *a, pstats_write_fn write,
                       void *ctx)
{
    size_t n = cp->pl.nkeys;
    part_run r;
    memset(&r, 0, sizeof r);
    r.cp = cp;
    r.a = a;
    /* A helper thread pays off from a few chunks up (every name is built
     * with the writer's allocator: pstats_func_label allocates nothing),
     * which is then called under a lock. */
    int threads = ps_threads_forced(cp->s) || (uint64_t)cp->pl.off[n] + n >= 4 * (uint64_t)CG_CHUNK;
    cm_locked_alloc la;
    if (threads && a) {
        threads = cm_locked_alloc_init(&la, a) == 0;
        r.a = threads ? &la.view : a;
    }
    cm_ordered_job job = {n, CG_CHUNK, run_chunk_end, run_prepare, run_format, &r, write, ctx};
    int rc = cm_ordered_run(&job, threads);
    if (threads && a)
        cm_locked_alloc_destroy(&la);
    for (size_t k = 0; k < CM_SLOTS; k++)
        cm_free(a, r.slot[k].p);
    cm_free(a, r.label[0].p);
    cm_free(a, r.label[1].p);
    return rc;
}
