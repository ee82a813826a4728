/*
 * The call graph's strongly connected components (functions that call each
 * other, directly or through others): Tarjan's algorithm without recursion,
 * so that a profile's depth never meets the stack's. Used by pstats_prune
 * and by the flame graph, and public for tools that want gprof's cycles.
 */
#include <string.h>

#include "pstats_internal.h"

typedef struct tarjan {
    const pstats_stats *s;
    const unsigned char *only;
    uint32_t *comp;           /* the result; during the walk NONE = unfinished */
    uint32_t *index, *low;
    uint32_t *stack; size_t nstack;
    uint32_t *cs_node, *cs_pos; size_t ncs;
    uint32_t next_index, ncomp;
} tarjan;

#define NONE PSTATS_NO_COMPONENT

static int in_graph(const tarjan *tj, uint32_t f)
{
    return !tj->only || tj->only[f];
}

static void enter(tarjan *tj, uint32_t v)
{
    tj->index[v] = tj->low[v] = tj->next_index++;
    tj->stack[tj->nstack++] = v;
    tj->cs_node[tj->ncs] = v;
    tj->cs_pos[tj->ncs++] = tj->s->callee_off[v];
}

/* Pops the component whose root is u off the stack. */
static void finish(tarjan *tj, uint32_t u)
{
    size_t start = tj->nstack;
    do
        start--;
    while (tj->stack[start] != u);
    for (size_t i = start; i < tj->nstack; i++)
        tj->comp[tj->stack[i]] = tj->ncomp;
    tj->ncomp++;
    tj->nstack = start;
}

static void visit(tarjan *tj, uint32_t v)
{
    const pstats_stats *s = tj->s;
    enter(tj, v);
    while (tj->ncs) {
        uint32_t u = tj->cs_node[tj->ncs - 1], pos = tj->cs_pos[tj->ncs - 1];
        if (pos < s->callee_off[u + 1]) {
            tj->cs_pos[tj->ncs - 1]++;
            uint32_t w = s->callee_src[pos];
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
    tarjan tj;
    memset(&tj, 0, sizeof tj);
    tj.s = s;
    tj.only = only;
    tj.comp = comp;
    size_t n = s->nkeys, n1 = n ? n : 1;
    int rc = ps_build_callees(m);
    tj.index = ps_malloc(m, n1 * sizeof(uint32_t));
    tj.low = ps_malloc(m, n1 * sizeof(uint32_t));
    tj.stack = ps_malloc(m, n1 * sizeof(uint32_t));
    tj.cs_node = ps_malloc(m, n1 * sizeof(uint32_t));
    tj.cs_pos = ps_malloc(m, n1 * sizeof(uint32_t));
    if (rc == 0 && tj.index && tj.low && tj.stack && tj.cs_node && tj.cs_pos) {
        for (size_t i = 0; i < n; i++)
            tj.index[i] = comp[i] = NONE;
        for (uint32_t v = 0; v < n; v++)
            if (in_graph(&tj, v) && tj.index[v] == NONE)
                visit(&tj, v);
    } else {
        rc = -1;
    }
    ps_free(m, tj.index);
    ps_free(m, tj.low);
    ps_free(m, tj.stack);
    ps_free(m, tj.cs_node);
    ps_free(m, tj.cs_pos);
    if (rc) {
        ps_seterr(err, PSTATS_ENOMEM, NULL, 0, 0, "out of memory");
        return -1;
    }
    return tj.ncomp;
}
