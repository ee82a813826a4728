/*
 * A flame graph from pstats data, which records no stacks: only, for each
 * function, its totals and, for each (caller, callee) pair, the calls and
 * their time. The call tree is rebuilt top-down (docs/graphs.md):
 *   - roots: for each strongly connected component of the call graph (a
 *     function alone, or functions that call each other: cProfile's `exec`
 *     is also called by the import machinery it runs), its heaviest member,
 *     worth its I (below) less the time of the calls into the component
 *     from outside, when that is positive; heaviest first, together no more
 *     than the profile's total T = max(total tottime, every cumtime);
 *   - a function's time on a path is split over its callees in proportion
 *     to the recorded call times: a callee g of f gets
 *     value(path) * time(f -> g) / I(f), where I(f) is f's cumtime (the
 *     sum of its call times for a function that records none, such as the
 *     profile module's "profiler") and time(f -> g) is pstats_call_time
 *     (the callers entry's cumtime; for a bare count of the profile module,
 *     the callee's cumtime times the caller's share of its calls); when
 *     the callees add up to more than the path's value (recursion through
 *     other functions counts nested calls twice), they share that value in
 *     proportion; what is left is the frame's self time;
 *   - a call to a function already on the path (recursion) is not expanded
 *     again: its time stays in the frame that makes it, since pstats counts
 *     a recursive function's inner calls in its own numbers already;
 *   - frames are expanded heaviest first; one below min_share of the
 *     total, deeper than max_depth or beyond max_frames is not drawn, and
 *     its time goes to one "[other]" frame under its parent.
 * Times become integer units once, bottom up (a frame's total is its self
 * plus its children's), so every writer shows the same numbers.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "graph_int.h"

typedef struct cand {
    double value;
    uint32_t func, parent, depth;
    uint64_t seq;
} cand;

typedef struct flame_ctx {
    const pstats_stats *s;
    const pstats_flame_options *o;
    const pymarshal_allocator *a;
    gr_flame *t;
    size_t n;
    double *incl;             /* I(f) */
    unsigned char *mark;      /* on the path being expanded */
    cand *heap;
    size_t nheap, cap_heap;
    double *kid;              /* the children's values of the frame expanded */
    size_t cap_kid;
    uint64_t seq;
    double min_value, root_other;
    int oom;
} flame_ctx;

int gr_flame_options(const pstats_stats *s, const pstats_flame_options *in,
                     pstats_flame_options *out, pstats_error *err)
{
    memset(out, 0, sizeof *out);
    if (in)
        *out = *in;
    double interval;
    if ((unsigned)out->unit > PSTATS_UNIT_SAMPLES || !(out->min_share >= 0.0 && out->min_share < 1.0))
        return gr_fail(err, PSTATS_EUSAGE, "flame graph: bad unit or min_share (0 <= x < 1)");
    if (out->unit == PSTATS_UNIT_SAMPLES && !pstats_sample_interval(s, &interval))
        return gr_fail(err, PSTATS_EUSAGE,
                       "flame graph: samples as the unit need a sampled profile of one interval");
    if (out->min_share == 0.0)
        out->min_share = 1e-4;
    if (out->max_depth == 0)
        out->max_depth = 256;
    if (out->max_frames == 0)
        out->max_frames = 10000;
    if (out->max_frames > (size_t)1 << 30)
        out->max_frames = (size_t)1 << 30;
    return 0;
}

static double func_ct(const pstats_stats *s, uint32_t id)
{
    pstats_func f;
    pstats_func_get(s, id, &f);
    return f.ct > 0.0 ? f.ct : 0.0;
}

/* I(f): cumtime, or for a function that records none (the profile
 * module's "profiler" entry) the sum of its call times. */
static void compute_incl(flame_ctx *c)
{
    for (uint32_t f = 0; f < c->n; f++) {
        double ct = func_ct(c->s, f), sum = 0.0;
        size_t nc = ct > 0.0 ? 0 : pstats_ncallees(c->s, f);
        for (size_t k = 0; k < nc; k++) {
            pstats_edge e;
            pstats_callee_get(c->s, f, k, &e);
            if (e.callee != f)
                sum += pstats_call_time(c->s, &e);
        }
        c->incl[f] = ct > 0.0 ? ct : sum;
    }
}

/* -------------------------------------------------------------- the heap */

static int before(const cand *x, const cand *y)
{
    return x->value > y->value || (x->value == y->value && x->seq < y->seq);
}

static void push(flame_ctx *c, double value, uint32_t func, uint32_t parent, uint32_t depth)
{
    if (c->nheap == c->cap_heap &&
        cm_reserve(c->a, (void **)&c->heap, &c->cap_heap, c->nheap + 1, sizeof *c->heap) != 0) {
        c->oom = 1;
        return;
    }
    cand x = {value, func, parent, depth, c->seq++};
    size_t i = c->nheap++;
    while (i > 0 && before(&x, &c->heap[(i - 1) / 2])) {
        c->heap[i] = c->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    c->heap[i] = x;
}

static cand pop(flame_ctx *c)
{
    cand top = c->heap[0], last = c->heap[--c->nheap];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, best = l;
        if (l >= c->nheap)
            break;
        if (l + 1 < c->nheap && before(&c->heap[l + 1], &c->heap[l]))
            best = l + 1;
        if (!before(&c->heap[best], &last))
            break;
        c->heap[i] = c->heap[best];
        i = best;
    }
    if (c->nheap)
        c->heap[i] = last;
    return top;
}

/* ----------------------------------------------------------------- roots */

typedef struct ranked {
    double value;
    uint32_t id;
} ranked;

static int ranked_cmp(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    if (x->value != y->value)
        return x->value > y->value ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

/* For each component of the call graph (pstats_components), its heaviest
 * member by I, worth I less the time of the calls into the component from
 * outside: r[comp] (value 0 and id UINT32_MAX for none). */
static int component_roots(flame_ctx *c, const uint32_t *comp, ranked *r, size_t ncomp)
{
    for (size_t k = 0; k < ncomp; k++) {
        r[k].value = -1.0;
        r[k].id = UINT32_MAX;
    }
    for (uint32_t f = 0; f < c->n; f++) {
        ranked *x = &r[comp[f]];
        if (c->incl[f] > x->value) {
            x->value = c->incl[f];
            x->id = f;
        }
    }
    for (uint32_t f = 0; f < c->n; f++) {
        size_t nc = pstats_ncallers(c->s, f);
        for (size_t k = 0; k < nc; k++) {
            pstats_edge e;
            pstats_caller_get(c->s, f, k, &e);
            if (comp[e.caller] != comp[f])
                r[comp[f]].value -= pstats_call_time(c->s, &e);
        }
    }
    return 0;
}

/* Pushes the roots: for every component of the call graph whose time the
 * calls from outside do not account for, its heaviest member, worth what
 * is not accounted for; heaviest first, together never more than T =
 * max(total tottime, every cumtime). */
static int push_roots(flame_ctx *c)
{
    uint32_t *comp = cm_malloc(c->a, (c->n ? c->n : 1) * sizeof *comp);
    ranked *r = cm_malloc(c->a, (c->n ? c->n : 1) * sizeof *r);
    int64_t ncomp = comp && r ? pstats_components(c->s, NULL, comp, NULL) : -1;
    if (ncomp < 0) {
        cm_free(c->a, comp);
        cm_free(c->a, r);
        return -1;
    }
    component_roots(c, comp, r, (size_t)ncomp);
    pstats_totals tot;
    pstats_get_totals(c->s, &tot);
    double left = tot.total_tt > 0.0 ? tot.total_tt : 0.0;
    for (uint32_t f = 0; f < pstats_nfuncs(c->s); f++)
        if (func_ct(c->s, f) > left)
            left = func_ct(c->s, f);
    if (ncomp > 1)
        qsort(r, (size_t)ncomp, sizeof *r, ranked_cmp);
    for (size_t i = 0; i < (size_t)ncomp && left > 0.0 && r[i].value > 0.0; i++) {
        double v = r[i].value < left ? r[i].value : left;
        push(c, v, r[i].id, GR_NONE, 0);
        left -= v;
    }
    cm_free(c->a, comp);
    cm_free(c->a, r);
    return c->oom ? -1 : 0;
}

/* ------------------------------------------------------------- expansion */

static uint32_t new_frame(flame_ctx *c, uint32_t func, uint32_t parent, uint32_t depth,
                          double value)
{
    gr_flame *t = c->t;
    if (t->n == t->cap && cm_reserve(c->a, (void **)&t->f, &t->cap, t->n + 1, sizeof *t->f)) {
        c->oom = 1;
        return GR_NONE;
    }
    gr_frame *fr = &t->f[t->n];
    memset(fr, 0, sizeof *fr);
    fr->func = func;
    fr->parent = parent;
    fr->depth = depth;
    fr->value = fr->self_v = value;
    return (uint32_t)t->n++;
}

static void fold(flame_ctx *c, const cand *x)
{
    if (x->parent == GR_NONE)
        c->root_other += x->value;
    else
        c->t->f[x->parent].other += x->value;
}

static void mark_path(flame_ctx *c, uint32_t i, int on)
{
    for (uint32_t p = i; p != GR_NONE; p = c->t->f[p].parent) {
        uint32_t f = c->t->f[p].func;
        c->mark[f] = (unsigned char)(on ? c->mark[f] | 1 : c->mark[f] & ~1);
    }
}

/* The value of each callee of f on a path worth `value`, into c->kid
 * (0: a recursive call, or none): value * time(f -> g) / I(f), scaled down
 * together when they add up to more than value. Returns their sum. */
static double child_values(flame_ctx *c, uint32_t f, double value, size_t nc)
{
    double sum = 0.0, scale = c->incl[f] > 0.0 ? value / c->incl[f] : 0.0;
    for (size_t k = 0; k < nc; k++) {
        pstats_edge e;
        pstats_callee_get(c->s, f, k, &e);
        double v = c->mark[e.callee] & 1 ? 0.0 : pstats_call_time(c->s, &e) * scale;
        c->kid[k] = v > 0.0 ? v : 0.0;
        sum += c->kid[k];
    }
    if (sum > value) {
        double shrink = value / sum;
        sum = 0.0;
        for (size_t k = 0; k < nc; k++)
            sum += c->kid[k] *= shrink;
    }
    return sum;
}

/* Draws candidate x as a frame and offers its children. */
static void expand(flame_ctx *c, const cand *x)
{
    size_t nc = pstats_ncallees(c->s, x->func);
    if (nc > c->cap_kid &&
        cm_reserve(c->a, (void **)&c->kid, &c->cap_kid, nc, sizeof *c->kid) != 0) {
        c->oom = 1;
        return;
    }
    uint32_t i = new_frame(c, x->func, x->parent, x->depth, x->value);
    if (i == GR_NONE)
        return;
    mark_path(c, i, 1); /* recursion: a call stays in the frame that makes it */
    double used = child_values(c, x->func, x->value, nc);
    mark_path(c, i, 0);
    for (size_t k = 0; k < nc && !c->oom; k++) {
        double v = c->kid[k];
        if (!(v > 0.0))
            continue;
        if (v >= c->min_value && x->depth + 1 < c->o->max_depth) {
            pstats_edge e;
            pstats_callee_get(c->s, x->func, k, &e);
            push(c, v, e.callee, i, x->depth + 1);
        } else {
            c->t->f[i].other += v;
        }
    }
    gr_frame *fr = &c->t->f[i];
    fr->self_v = fr->value > used ? fr->value - used : 0.0;
}

/* One "[other]" frame under each frame that folded children, and one at
 * the root for folded roots. */
static void add_others(flame_ctx *c)
{
    size_t n = c->t->n;
    for (size_t i = 0; i < n && !c->oom; i++)
        if (c->t->f[i].other > 0.0)
            new_frame(c, GR_OTHER, (uint32_t)i, c->t->f[i].depth + 1, c->t->f[i].other);
    if (c->root_other > 0.0)
        new_frame(c, GR_OTHER, GR_NONE, 0, c->root_other);
}

/* --------------------------------------------------------------- layout */

static void integerize(gr_flame *t)
{
    for (size_t i = 0; i < t->n; i++) {
        double u = t->f[i].self_v * t->scale;
        t->f[i].self = u > 0.0 ? (u < 4e18 ? llround(u) : (int64_t)4e18) : 0;
        t->f[i].total = 0;
    }
    t->total = 0;
    for (size_t i = t->n; i-- > 0;) { /* children come after their parent */
        gr_frame *fr = &t->f[i];
        fr->total += fr->self;
        if (fr->parent != GR_NONE)
            t->f[fr->parent].total += fr->total;
        else
            t->total += fr->total;
    }
}

typedef struct okey {
    int64_t total;
    uint32_t func, id;
} okey;

static int okey_cmp(const void *a, const void *b)
{
    const okey *x = a, *y = b;
    if (x->total != y->total)
        return x->total > y->total ? -1 : 1;
    if (x->func != y->func)
        return x->func < y->func ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

/* Pushes group g's frames (heaviest last, so popped first) with their x. */
static void push_group(gr_flame *t, const okey *keys, const size_t *start, size_t g,
                       int64_t x, uint32_t *stack, size_t *nstack)
{
    for (size_t k = start[g]; k < start[g + 1]; k++) {
        gr_frame *fr = &t->f[keys[k].id];
        fr->x = x;
        x += fr->total;
    }
    for (size_t k = start[g + 1]; k-- > start[g];)
        if (keys[k].total > 0)
            stack[(*nstack)++] = keys[k].id;
}

/* Children grouped by parent (group 0: the roots), heaviest first; then a
 * depth-first walk gives the output order and the x positions. */
static int layout(flame_ctx *c)
{
    gr_flame *t = c->t;
    size_t n = t->n, ng = n + 1;
    size_t *start = cm_malloc(c->a, (ng + 1) * sizeof *start);
    size_t *pos = cm_malloc(c->a, ng * sizeof *pos);
    okey *keys = cm_malloc(c->a, (n ? n : 1) * sizeof *keys);
    uint32_t *stack = cm_malloc(c->a, (n ? n : 1) * sizeof *stack);
    t->order = cm_malloc(c->a, (n ? n : 1) * sizeof *t->order);
    int rc = start && pos && keys && stack && t->order ? 0 : -1;
    if (rc == 0) {
        memset(start, 0, (ng + 1) * sizeof *start);
        for (size_t i = 0; i < n; i++)
            start[(t->f[i].parent == GR_NONE ? 0 : t->f[i].parent + 1) + 1]++;
        for (size_t g = 1; g <= ng; g++)
            start[g] += start[g - 1];
        memcpy(pos, start, ng * sizeof *pos);
        for (size_t i = 0; i < n; i++) {
            size_t g = t->f[i].parent == GR_NONE ? 0 : t->f[i].parent + 1;
            okey k = {t->f[i].total, t->f[i].func, (uint32_t)i};
            keys[pos[g]++] = k;
        }
        for (size_t g = 0; g < ng; g++)
            if (start[g + 1] - start[g] > 1)
                qsort(keys + start[g], start[g + 1] - start[g], sizeof *keys, okey_cmp);
        size_t nstack = 0;
        push_group(t, keys, start, 0, 0, stack, &nstack);
        while (nstack) {
            uint32_t i = stack[--nstack];
            t->order[t->norder++] = i;
            if (t->f[i].depth > t->max_depth)
                t->max_depth = t->f[i].depth;
            push_group(t, keys, start, (size_t)i + 1, t->f[i].x, stack, &nstack);
        }
    }
    cm_free(c->a, start);
    cm_free(c->a, pos);
    cm_free(c->a, keys);
    cm_free(c->a, stack);
    return rc;
}

void gr_flame_free(gr_flame *t, const pymarshal_allocator *a)
{
    cm_free(a, t->f);
    cm_free(a, t->order);
    memset(t, 0, sizeof *t);
}

int gr_flame_build(const pstats_stats *s, const pstats_flame_options *o, gr_flame *t)
{
    static const double scales[] = {1e9, 1e6, 1e3};
    static const char *const units[] = {"ns", "us", "ms", "samples"};
    flame_ctx c;
    memset(&c, 0, sizeof c);
    memset(t, 0, sizeof *t);
    c.s = s;
    c.o = o;
    c.a = o->alloc;
    c.t = t;
    c.n = pstats_nkeys(s);
    double interval = 1.0;
    if (o->unit == PSTATS_UNIT_SAMPLES) /* checked by gr_flame_options */
        (void)pstats_sample_interval(s, &interval);
    t->scale = o->unit == PSTATS_UNIT_SAMPLES ? 1.0 / interval : scales[o->unit];
    t->unit = units[o->unit];
    c.incl = cm_malloc(c.a, (c.n ? c.n : 1) * sizeof *c.incl);
    c.mark = cm_malloc(c.a, c.n ? c.n : 1);
    int rc = c.incl && c.mark ? 0 : -1;
    if (rc == 0) {
        memset(c.mark, 0, c.n);
        compute_incl(&c);
        rc = push_roots(&c);
    }
    double total = 0.0;
    for (size_t i = 0; i < c.nheap; i++)
        total += c.heap[i].value;
    c.min_value = o->min_share * total;
    while (rc == 0 && c.nheap && !c.oom) {
        cand x = pop(&c);
        if (x.value < c.min_value || t->n >= o->max_frames)
            fold(&c, &x);
        else
            expand(&c, &x);
    }
    if (rc == 0 && !c.oom)
        add_others(&c);
    if (rc == 0 && !c.oom) {
        integerize(t);
        rc = layout(&c);
    }
    if (c.oom)
        rc = -1;
    cm_free(c.a, c.incl);
    cm_free(c.a, c.mark);
    cm_free(c.a, c.heap);
    cm_free(c.a, c.kid);
    if (rc != 0)
        gr_flame_free(t, c.a);
    return rc;
}
