/*
 * The call graph's strongly connected components (functions that call each
 * other, directly or through others): Tarjan's algorithm without recursion,
 * so that a profile's depth never meets the stack's (profiles reach 500 000
 * functions and call chains as deep), in time linear in functions + calls,
 * on flat arrays.
 *
 * One walk, two directions: pstats_components (public; used by
 * pstats_prune and the flame graph) follows each function's callees, from
 * the callees view it builds as a cache inside the model, so that
 * components come out callees first; the callgrind writer's cost plan
 * follows the callers lists the model has (the reversed graph: the same
 * components), with its own allocator and no cache, since it leaves the
 * model it is given untouched, and tags the components of one function.
 */
#include <string.h>

#include "pstats_internal.h"

typedef struct tarjan {
    const pstats_stats *s;
    int by_callers;           /* neighbours: callers (1) or callees (0) */
    const unsigned char *only;
    uint32_t alone;           /* tag of a component of one function */
    uint32_t *comp;           /* the result; during the walk NONE = unfinished */
    uint32_t *index, *low;
    uint32_t *stack; size_t nstack;
    uint32_t *cs_node, *cs_pos; size_t ncs;
    uint32_t next_index, ncomp;
} tarjan;

#define NONE PSTATS_NO_COMPONENT

static int in_graph(const tarjan *tj, uint32_t f)
{
    return f < tj->s->nkeys && (!tj->only || tj->only[f]);
}

/* v's neighbours are at positions first(v) .. last(v) - 1. */
static inline uint32_t first(const tarjan *tj, uint32_t v)
{
    if (!tj->by_callers)
        return tj->s->callee_off[v];
    return v < tj->s->nstats ? tj->s->keys[v].edge_start : 0;
}

static inline uint32_t last(const tarjan *tj, uint32_t v)
{
    if (!tj->by_callers)
        return tj->s->callee_off[v + 1];
    return v < tj->s->nstats ? tj->s->keys[v].edge_start + tj->s->keys[v].nedges : 0;
}

static inline uint32_t neighbour(const tarjan *tj, uint32_t pos)
{
    return tj->by_callers ? tj->s->edges[pos].caller : tj->s->callee_src[pos];
}

static void enter(tarjan *tj, uint32_t v)
{
    tj->index[v] = tj->low[v] = tj->next_index++;
    tj->stack[tj->nstack++] = v;
    tj->cs_node[tj->ncs] = v;
    tj->cs_pos[tj->ncs++] = first(tj, v);
}

/* Pops the component whose root is u off the stack. */
static void finish(tarjan *tj, uint32_t u)
{
    size_t start = tj->nstack;
    do
        start--;
    while (tj->stack[start] != u);
    uint32_t id = tj->ncomp++ | (tj->nstack - start == 1 ? tj->alone : 0);
    for (size_t i = start; i < tj->nstack; i++)
        tj->comp[tj->stack[i]] = id;
    tj->nstack = start;
}

static void visit(tarjan *tj, uint32_t v)
{
    enter(tj, v);
    while (tj->ncs) {
        uint32_t u = tj->cs_node[tj->ncs - 1], pos = tj->cs_pos[tj->ncs - 1];
        if (pos < last(tj, u)) {
            tj->cs_pos[tj->ncs - 1]++;
            uint32_t w = neighbour(tj, pos);
            if (!in_graph(tj, w))
                continue;
            if (tj->index[w] == NONE)
                enter(tj, w);
            else if (tj->comp[w] == NONE && tj->index[w] < tj->low[u])
                tj->low[u] = tj->index[w]; /* w is on the stack */
            continue;
        }
        tj->ncs--;
        if (tj->ncs) {
            uint32_t parent = tj->cs_node[tj->ncs - 1];
            if (tj->low[u] < tj->low[parent])
                tj->low[parent] = tj->low[u];
        }
        if (tj->low[u] == tj->index[u])
            finish(tj, u);
    }
}

int64_t ps_components(const pstats_stats *s, int by_callers, const unsigned char *only,
                      uint32_t alone, uint32_t *comp, const pymarshal_allocator *a)
{
    size_t n = s->nkeys, n1 = n ? n : 1;
    if (n >= NONE)
        return -1;
    tarjan tj;
    memset(&tj, 0, sizeof tj);
    tj.s = s;
    tj.by_callers = by_callers;
    tj.only = only;
    tj.alone = alone;
    tj.comp = comp;
    tj.index = cm_malloc(a, n1 * sizeof(uint32_t));
    tj.low = cm_malloc(a, n1 * sizeof(uint32_t));
    tj.stack = cm_malloc(a, n1 * sizeof(uint32_t));
    tj.cs_node = cm_malloc(a, n1 * sizeof(uint32_t));
    tj.cs_pos = cm_malloc(a, n1 * sizeof(uint32_t));
    int rc = tj.index && tj.low && tj.stack && tj.cs_node && tj.cs_pos ? 0 : -1;
    if (rc == 0) {
        for (size_t i = 0; i < n; i++)
            tj.index[i] = comp[i] = NONE;
        for (uint32_t v = 0; v < n; v++)
            if (in_graph(&tj, v) && tj.index[v] == NONE)
                visit(&tj, v);
    }
    cm_free(a, tj.index);
    cm_free(a, tj.low);
    cm_free(a, tj.stack);
    cm_free(a, tj.cs_node);
    cm_free(a, tj.cs_pos);
    return rc == 0 ? (int64_t)tj.ncomp : -1;
}

int64_t pstats_components(const pstats_stats *s, const unsigned char *only, uint32_t *comp,
                          pstats_error *err)
{
    pstats_error local;
    if (!err)
        err = &local;
    memset(err, 0, sizeof *err);
    if (!s || !comp) {
        ps_seterr(err, PSTATS_EUSAGE, NULL, 0, 0, "pstats_components: no model or no output");
        return -1;
    }
    if (ps_need_edges(s, "pstats_components", err))
        return -1;
    pstats_stats *m = (pstats_stats *)s; /* the callees view is a cache */
    int64_t ncomp = ps_build_callees(m) == 0 ? ps_components(s, 0, only, 0, comp, &m->alc) : -1;
    if (ncomp < 0)
        ps_seterr(err, PSTATS_ENOMEM, NULL, 0, 0, "out of memory");
    return ncomp;
}
