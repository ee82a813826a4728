/*
 * lib/graph: pictures of a profile's call graph - the dot writer (the call
 * graph as gprof2dot draws pstats data, graph_dot.c), the flame graph
 * reconstructed from the caller graph (graph_flame.c) and its two writers,
 * an interactive SVG (graph_svg.c) and folded stacks (graph_collapsed.c).
 *
 * This layer may include only the public headers (pstats/pstats.h) and
 * lib/common/common.h; it reads the model through the public accessors,
 * never through lib/pstats' internals, and nothing below it includes it.
 */
#ifndef PSTATS_GRAPH_INT_H
#define PSTATS_GRAPH_INT_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "pstats/pstats.h"

/* ------------------------------------------------------------- output */

/* A buffered sink over a pstats_write_fn. Errors are sticky: `failed` is
 * set by the first failing write, later writes do nothing. */
#define GR_OUT_SIZE 65536
typedef struct gr_out {
    pstats_write_fn write;
    void *ctx;
    const pymarshal_allocator *alloc;
    int failed;
    size_t len;
    char *buf;      /* GR_OUT_SIZE bytes */
} gr_out;

/* 0, or -1 when out of memory; gr_flush frees the buffer. */
int gr_out_init(gr_out *o, pstats_write_fn write, void *ctx, const pymarshal_allocator *a);
void gr_put(gr_out *o, const void *p, size_t n);
void gr_puts(gr_out *o, const char *z);
void gr_printf(gr_out *o, const char *fmt, ...) CM_PRINTF(2, 3);
/* Flushes and frees the buffer; 0, or -1 when any write failed. */
int gr_flush(gr_out *o);

/* How text from the profile is escaped. Whatever the mode, the bytes
 * written are valid UTF-8: a byte that does not start a valid sequence is
 * read as Latin-1 (as the callgrind writer does), a lone surrogate becomes
 * U+FFFD. */
typedef enum gr_esc {
    GR_ESC_NONE = 0,  /* control characters as U+FFFD, nothing else */
    GR_ESC_DOT,       /* inside "...": \ " LF TAB as gprof2dot escapes them */
    GR_ESC_XML,       /* & < > " and control characters */
    GR_ESC_FOLDED     /* a folded-stack frame: ';' becomes ':', controls U+FFFD */
} gr_esc;

/* Writes p[0..n) escaped; returns the number of code points written. */
size_t gr_put_text(gr_out *o, const char *p, size_t n, gr_esc mode);
/* The number of code points gr_put_text would write for p[0..n). */
size_t gr_text_width(const char *p, size_t n);
/* The byte length of the first `cps` code points of p[0..n) as
 * gr_put_text reads them. */
size_t gr_text_prefix(const char *p, size_t n, size_t cps);

/* --------------------------------------------------------------- model */

/* A count as Python's float(int) gives it: exact text when the count does
 * not fit int64 (which: 0 cc, 1 nc); NaN when the model's allocator has no
 * memory for that text. */
double gr_count(const pstats_stats *s, uint32_t id, const pstats_func *f, int which);
double gr_edge_count(const pstats_stats *s, const pstats_edge *e, uint32_t callee, size_t k,
                     int which);

/* gprof2dot's ratio(): a / b clamped to [0, 1]; b == 0 gives 1. */
double gr_ratio(double a, double b);

/* ---------------------------------------------------------- flame tree */

/* One frame of the reconstructed call tree (graph_flame.c). */
#define GR_OTHER UINT32_MAX   /* func of an "[other]" frame */
#define GR_NONE UINT32_MAX    /* parent of a root */
typedef struct gr_frame {
    uint32_t func, parent, depth;
    double value, other;      /* seconds: this path's time; what was folded */
    double self_v;            /* value less its children's */
    int64_t self, total;      /* integer units (total = self + children's) */
    int64_t x;                /* units before it on its level */
} gr_frame;

typedef struct gr_flame {
    gr_frame *f;
    size_t n, cap;
    uint32_t *order;          /* frames with total > 0 in output order: depth
                                 first, heaviest child first */
    size_t norder;
    int64_t total;            /* sum of the roots' totals */
    size_t max_depth;         /* deepest frame written */
    double scale;             /* units per second */
    const char *unit;         /* "ns", "us", "ms", "samples" */
} gr_flame;

/* Builds the tree of s with the options' bounds (defaults filled in).
 * 0, or -1 when out of memory (the tree is then freed). */
int gr_flame_build(const pstats_stats *s, const pstats_flame_options *o, gr_flame *t);
void gr_flame_free(gr_flame *t, const pymarshal_allocator *a);
/* The options with their defaults; PSTATS_EUSAGE for bad values (samples
 * for a model that is not sampled with one interval). */
int gr_flame_options(const pstats_stats *s, const pstats_flame_options *in,
                     pstats_flame_options *out, pstats_error *err);

/* The error helpers every writer shares. */
int gr_fail(pstats_error *err, pstats_errcode code, const char *msg);
int gr_finish(gr_out *o, int oom, pstats_error *err, const char *what);

#endif
