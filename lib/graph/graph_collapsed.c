/*
 * The reconstructed call tree (graph_flame.c) as folded stacks, the input
 * of flamegraph.pl, speedscope and inferno: one line per frame that has
 * self time, "root;caller;...;frame N", N in the options' unit. The frames
 * are the same, with the same numbers, as in the SVG.
 */
#include <string.h>

#include "graph_int.h"

typedef struct label_buf {
    char *p;
    size_t cap;
} label_buf;

/* pstats' label of a frame's function ("[other]" for a folded frame),
 * written as a folded-stack frame. */
static int put_frame(gr_out *o, const pstats_stats *s, uint32_t func, label_buf *b,
                     const pymarshal_allocator *a)
{
    if (func == GR_OTHER) {
        gr_puts(o, "[other]");
        return 0;
    }
    size_t n = pstats_func_label(s, func, b->p, b->cap);
    if (n + 1 > b->cap) {
        if (cm_reserve(a, (void **)&b->p, &b->cap, n + 1, 1) != 0)
            return -1;
        n = pstats_func_label(s, func, b->p, b->cap);
    }
    gr_put_text(o, b->p, n, GR_ESC_FOLDED);
    return 0;
}

int pstats_write_collapsed(const pstats_stats *s, const pstats_flame_options *opts,
                           pstats_write_fn write, void *ctx, pstats_error *err)
{
    pstats_flame_options o;
    if (!s || !write)
        return gr_fail(err, PSTATS_EUSAGE, "pstats_write_collapsed: no model or no sink");
    if (gr_flame_options(s, opts, &o, err) != 0)
        return -1;
    if (!pstats_has_edges(s))
        return gr_fail(err, PSTATS_EUSAGE,
                       "pstats_write_collapsed: the model was loaded without its calls");
    gr_flame t;
    gr_out out;
    label_buf b = {NULL, 0};
    memset(&t, 0, sizeof t);
    int oom = gr_out_init(&out, write, ctx, o.alloc) != 0;
    oom = oom || gr_flame_build(s, &o, &t) != 0;
    uint32_t *path = oom ? NULL : cm_malloc(o.alloc, (t.max_depth + 1) * sizeof *path);
    oom = oom || !path;
    for (size_t k = 0; !oom && k < t.norder && !out.failed; k++) {
        const gr_frame *fr = &t.f[t.order[k]];
        path[fr->depth] = t.order[k];
        if (fr->self <= 0)
            continue;
        for (uint32_t d = 0; d <= fr->depth && !oom; d++) {
            if (d)
                gr_put(&out, ";", 1);
            oom = put_frame(&out, s, t.f[path[d]].func, &b, o.alloc) != 0;
        }
        if (!oom)
            gr_printf(&out, " %lld\n", (long long)fr->self);
    }
    gr_flame_free(&t, o.alloc);
    cm_free(o.alloc, path);
    cm_free(o.alloc, b.p);
    return gr_finish(&out, oom, err, "collapsed stacks");
}
