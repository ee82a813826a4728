/*
 * The cycles of a part's call graph, for the call-cost plan
 * (callgrind_costs.c): strongly connected components by Tarjan's algorithm
 * without recursion (profiles reach 500 000 functions and call chains as
 * deep), in time linear in functions + calls, on flat arrays. It walks the
 * model's callers lists (callee -> callers: the reversed graph, which has
 * the same components), so the plan can use them from its first step.
 *
 * Why the plan needs them: pstats records, per caller -> callee pair, the
 * callee's time counting only the outermost call while the pair is active.
 * A call that leaves a component can never be nested in another call of
 * the same pair (the callee cannot reach its caller again), so its time is
 * counted once; only calls inside a component of several functions overlap
 * with each other. Reads the model (pstats_internal.h) and calls nothing
 * of lib/callgrind/. (lib/pstats's pstats_components does the same walk
 * over the callees view, which it builds as a cache inside the model, with
 * the model's allocator; the writer leaves the model it is given untouched,
 * allocates through its own hook and needs the one-function tag, so it
 * walks the callers lists the model has.)
 */
#include <string.h>

#include "callgrind_int.h"
#include "pstats_internal.h"

#define UNSET UINT32_MAX

typedef struct tarjan {
    const pstats_stats *s;        /* function f's neighbours: its callers */
    uint32_t nk;
    uint32_t *comp;               /* result; UNSET while not assigned */
    uint32_t *order, *low;        /* visit order + 1 (0: unvisited), lowlink */
    uint32_t *stack;              /* Tarjan's stack of open functions */
    uint32_t *frame_f, *frame_k;  /* the explicit call stack: function, next edge */
    size_t sp, top;
    uint32_t visited, ncomp;
} tarjan;

static void open_function(tarjan *t, uint32_t f)
{
    t->order[f] = t->low[f] = ++t->visited;
    t->stack[t->sp++] = f;
    t->frame_f[t->top] = f;
    t->frame_k[t->top++] = f < t->s->nstats ? t->s->keys[f].edge_start : 0;
}

/* f is a component's root: its members are f and those above it on the
 * stack. A component of one function is tagged CG_ALONE. */
static void close_component(tarjan *t, uint32_t f)
{
    size_t from = t->sp;
    do
        from--;
    while (t->stack[from] != f);
    uint32_t id = t->ncomp++ | (t->sp - from == 1 ? CG_ALONE : 0);
    for (size_t i = from; i < t->sp; i++)
        t->comp[t->stack[i]] = id;
    t->sp = from;
}

static void visit(tarjan *t, uint32_t root)
{
    open_function(t, root);
    while (t->top) {
        uint32_t f = t->frame_f[t->top - 1];
        uint32_t k = t->frame_k[t->top - 1];
        const pkey *key = &t->s->keys[f];
        if (f < t->s->nstats && k < key->edge_start + key->nedges) {
            t->frame_k[t->top - 1] = k + 1;
            uint32_t g = t->s->edges[k].caller;
            if (g >= t->nk || g == f)
                continue;
            if (t->order[g] == 0)
                open_function(t, g);
            else if (t->comp[g] == UNSET && t->order[g] < t->low[f])
                t->low[f] = t->order[g]; /* g is still open: a cycle */
            continue;
        }
        t->top--; /* all of f's callers seen */
        if (t->top) {
            uint32_t caller = t->frame_f[t->top - 1];
            if (t->low[f] < t->low[caller])
                t->low[caller] = t->low[f];
        }
        if (t->low[f] == t->order[f])
            close_component(t, f);
    }
}

int pstats_cg_cycles(const pstats_stats *s, uint32_t *comp, const pymarshal_allocator *a)
{
    size_t n = pstats_nkeys(s);
    if (n >= CG_ALONE) /* ids and the tag share 32 bits */
        return -1;
    tarjan t;
    memset(&t, 0, sizeof t);
    t.s = s;
    t.nk = (uint32_t)n;
    t.comp = comp;
    size_t bytes = (n ? n : 1) * sizeof(uint32_t);
    t.order = cm_malloc(a, bytes);
    t.low = cm_malloc(a, bytes);
    t.stack = cm_malloc(a, bytes);
    t.frame_f = cm_malloc(a, bytes);
    t.frame_k = cm_malloc(a, bytes);
    int rc = t.order && t.low && t.stack && t.frame_f && t.frame_k ? 0 : -1;
    if (rc == 0) {
        memset(t.order, 0, n * sizeof *t.order);
        memset(comp, 0xff, n * sizeof *comp);
        for (size_t f = 0; f < n; f++)
            if (t.order[f] == 0)
                visit(&t, (uint32_t)f);
    }
    cm_free(a, t.order);
    cm_free(a, t.low);
    cm_free(a, t.stack);
    cm_free(a, t.frame_f);
    cm_free(a, t.frame_k);
    return rc;
}
