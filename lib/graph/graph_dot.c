/*
 * The call graph in graphviz's dot language, drawn as gprof2dot draws a
 * pstats profile (jrfonseca/gprof2dot: PstatsParser, Profile.prune, Theme,
 * DotWriter), so that `pstats2callgrind --format dot` and `gprof2dot -f
 * pstats` give the same nodes, edges, labels and colours. The rules, as
 * gprof2dot applies them to pstats data (docs/graphs.md says more):
 *   - nodes are numbered in first-seen order: each key of the dict in turn,
 *     then its callers in their dict's order;
 *   - a function's share is cumtime / T, T = max(total_tt, every cumtime);
 *     its self share tottime / (the sum of every tottime); shares are
 *     clamped to [0, 1] and x / 0 is 1;
 *   - a call's time is the callers entry's cumtime, or for a bare count
 *     (profile module) count / nc * cumtime of the callee, where nc and
 *     cumtime are the last tuple entry's when the same dict had one before
 *     (gprof2dot reuses those variables); its count is the primitive count;
 *   - nodes below the node threshold are dropped, then calls below the edge
 *     threshold or to dropped nodes; no cycle detection or propagation:
 *     pstats already has cumulative times, and recursion is a self-loop;
 *   - colours come from the "color" theme (HSL from dark blue to red,
 *     by the share), pen widths and arrow sizes from the same weight.
 * Departures: a code object key is named by its co_name (gprof2dot prints
 * its repr with a memory address); keys named only as callers (gprof2dot
 * fails on them) count as functions with no time; text that is not valid
 * UTF-8 is read as Latin-1; only ASCII identifiers are written unquoted.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "graph_int.h"

typedef struct dot_call {
    uint32_t caller, callee;   /* gprof2dot ids */
    uint32_t callee_key;       /* model id of the callee, and the k-th caller */
    uint32_t k;
    double time;
} dot_call;

typedef struct dot_ctx {
    const pstats_stats *s;
    const pymarshal_allocator *a;
    size_t n;                  /* keys */
    uint32_t *gid, *order;     /* model id -> gprof2dot id, and back */
    double *share, *self;      /* TOTAL_TIME_RATIO, TIME_RATIO */
    unsigned char *kept;
    dot_call *calls;
    size_t ncalls, cap_calls;
    double total, total_self;  /* T and the sum of tottime */
    char *name; size_t name_cap;
    gr_out out;
    int oom;
} dot_ctx;

/* ------------------------------------------------------------ the model */

static void number_nodes(dot_ctx *c)
{
    size_t next = 0, nf = pstats_nfuncs(c->s);
    for (size_t i = 0; i < c->n; i++)
        c->gid[i] = UINT32_MAX;
    for (uint32_t f = 0; f < nf; f++) {
        if (c->gid[f] == UINT32_MAX)
            c->gid[f] = (uint32_t)next++;
        size_t nc = pstats_ncallers(c->s, f);
        for (size_t k = 0; k < nc; k++) {
            pstats_edge e;
            pstats_caller_get(c->s, f, k, &e);
            if (c->gid[e.caller] == UINT32_MAX)
                c->gid[e.caller] = (uint32_t)next++;
        }
    }
    for (size_t i = 0; i < c->n; i++) /* keys no edge names (none in practice) */
        if (c->gid[i] == UINT32_MAX)
            c->gid[i] = (uint32_t)next++;
    for (size_t i = 0; i < c->n; i++)
        c->order[c->gid[i]] = (uint32_t)i;
}

static void node_shares(dot_ctx *c, double node_thres)
{
    pstats_totals t;
    pstats_get_totals(c->s, &t);
    double total = t.total_tt, self = 0.0;
    size_t nf = pstats_nfuncs(c->s);
    for (uint32_t f = 0; f < nf; f++) {
        pstats_func fn;
        pstats_func_get(c->s, f, &fn);
        self += fn.tt;
        if (fn.ct > total)
            total = fn.ct;
    }
    c->total = total;
    c->total_self = self;
    for (uint32_t i = 0; i < c->n; i++) {
        pstats_func fn;
        pstats_func_get(c->s, i, &fn);
        c->share[i] = gr_ratio(fn.ct, total);
        c->self[i] = gr_ratio(fn.tt, self);
        c->kept[i] = !(c->share[i] < node_thres);
    }
}

static int add_call(dot_ctx *c, const dot_call *d)
{
    if (c->ncalls == c->cap_calls &&
        cm_reserve(c->a, (void **)&c->calls, &c->cap_calls, c->ncalls + 1, sizeof *d) != 0)
        return -1;
    c->calls[c->ncalls++] = *d;
    return 0;
}

/* The calls gprof2dot keeps: both ends kept, share >= edge_thres. */
static int collect_calls(dot_ctx *c, double edge_thres)
{
    size_t nf = pstats_nfuncs(c->s);
    for (uint32_t f = 0; f < nf; f++) {
        pstats_func fn;
        pstats_func_get(c->s, f, &fn);
        double nc = gr_count(c->s, f, &fn, 1), ct = fn.ct; /* its parser's variables */
        size_t ncallers = pstats_ncallers(c->s, f);
        for (size_t k = 0; k < ncallers; k++) {
            pstats_edge e;
            pstats_caller_get(c->s, f, k, &e);
            double time;
            if (e.kind == PSTATS_EDGE_TUPLE) {
                time = e.ct;
                nc = gr_edge_count(c->s, &e, f, k, 1);
                ct = e.ct;
            } else {
                time = gr_ratio(gr_edge_count(c->s, &e, f, k, 0), nc) * ct;
            }
            if (isnan(nc) || isnan(time)) /* a big count without memory for its digits */
                return -1;
            if (!c->kept[f] || !c->kept[e.caller] || gr_ratio(time, c->total) < edge_thres)
                continue;
            dot_call d = {c->gid[e.caller], c->gid[f], f, (uint32_t)k, time};
            if (add_call(c, &d) != 0)
                return -1;
        }
    }
    return 0;
}

static int call_cmp(const void *a, const void *b)
{
    const dot_call *x = a, *y = b;
    if (x->caller != y->caller)
        return x->caller < y->caller ? -1 : 1;
    return x->callee < y->callee ? -1 : x->callee > y->callee;
}

/* -------------------------------------------------------------- drawing */

/* gprof2dot's "color" theme: HSL from (2/3, 0.8, 0.25) to (0, 1, 0.5),
 * gamma 1, as #rrggbb. */
static double hue_to_rgb(double m1, double m2, double h)
{
    if (h < 0.0)
        h += 1.0;
    else if (h > 1.0)
        h -= 1.0;
    if (h * 6 < 1.0)
        return m1 + (m2 - m1) * h * 6.0;
    if (h * 2 < 1.0)
        return m2;
    if (h * 3 < 2.0)
        return m1 + (m2 - m1) * (2.0 / 3.0 - h) * 6.0;
    return m1;
}

static int to_byte(double f)
{
    if (f <= 0.0)
        return 0;
    if (f >= 1.0)
        return 255;
    return (int)(255.0 * f + 0.5);
}

static void theme_color(double weight, char out[8])
{
    static const char hex[] = "0123456789abcdef";
    if (!(weight >= 0.0)) /* NaN too */
        weight = 0.0;
    if (weight > 1.0)
        weight = 1.0;
    const double hmin = 2.0 / 3.0, smin = 0.80, lmin = 0.25;
    const double hmax = 0.0, smax = 1.0, lmax = 0.5;
    double h = hmin + weight * (hmax - hmin);
    double s = smin + weight * (smax - smin);
    double l = lmin + weight * (lmax - lmin);
    h = fmod(h, 1.0);
    double m2 = l <= 0.5 ? l * (s + 1.0) : l + s - l * s;
    double m1 = l * 2.0 - m2;
    int rgb[3] = {to_byte(hue_to_rgb(m1, m2, h + 1.0 / 3.0)), to_byte(hue_to_rgb(m1, m2, h)),
                  to_byte(hue_to_rgb(m1, m2, h - 1.0 / 3.0))};
    out[0] = '#';
    for (int i = 0; i < 3; i++) {
        out[1 + 2 * i] = hex[rgb[i] >> 4];
        out[2 + 2 * i] = hex[rgb[i] & 15];
    }
    out[7] = '\0';
}

/* A string attribute as gprof2dot's DotWriter.id writes it: bare when it
 * is an (ASCII) identifier that is no keyword and does not start with 0x,
 * else quoted and escaped. */
static void put_id(dot_ctx *c, const char *p, size_t n)
{
    static const char *const kw[] = {"node", "edge", "graph", "digraph", "subgraph", "strict"};
    int bare = n > 0 && !(n >= 2 && p[0] == '0' && p[1] == 'x');
    for (size_t i = 0; i < n && bare; i++)
        bare = (p[i] >= '0' && p[i] <= '9') || ((p[i] | 0x20) >= 'a' && (p[i] | 0x20) <= 'z');
    for (size_t i = 0; i < 6 && bare; i++)
        bare = !(strlen(kw[i]) == n && strncasecmp(kw[i], p, n) == 0);
    if (bare) {
        gr_put(&c->out, p, n);
        return;
    }
    gr_put(&c->out, "\"", 1);
    gr_put_text(&c->out, p, n, GR_ESC_DOT);
    gr_put(&c->out, "\"", 1);
}

/* gprof2dot's pstats name "module:line:name", module being the file's
 * basename without its extension (posixpath rules), in c->name. */
static size_t make_name(dot_ctx *c, const pstats_func *fn)
{
    const char *f = fn->file;
    size_t n = fn->file_len, sep = 0, dot = SIZE_MAX;
    for (size_t i = 0; i < n; i++) {
        if (f[i] == '/')
            sep = i + 1;
        else if (f[i] == '.')
            dot = i;
    }
    size_t end = n;
    if (dot != SIZE_MAX && dot >= sep)
        for (size_t i = sep; i < dot; i++)
            if (f[i] != '.') { /* leading dots do not start an extension */
                end = dot;
                break;
            }
    char line[32];
    int ll = snprintf(line, sizeof line, ":%lld:", (long long)fn->line);
    size_t need = (end - sep) + (size_t)ll + fn->name_len;
    if (need > c->name_cap &&
        cm_reserve(c->a, (void **)&c->name, &c->name_cap, need, 1) != 0) {
        c->oom = 1;
        return 0;
    }
    memcpy(c->name, f + sep, end - sep);
    memcpy(c->name + (end - sep), line, (size_t)ll);
    memcpy(c->name + (end - sep) + (size_t)ll, fn->name, fn->name_len);
    return need;
}

#define MAX_FUNCTION_NAME 4096

static void put_label_name(dot_ctx *c, size_t len)
{
    size_t w = gr_text_width(c->name, len);
    if (w < MAX_FUNCTION_NAME) {
        gr_put_text(&c->out, c->name, len, GR_ESC_DOT);
        return;
    }
    gr_put_text(&c->out, c->name, gr_text_prefix(c->name, len, MAX_FUNCTION_NAME - 1),
                GR_ESC_DOT);
    gr_puts(&c->out, "\xe2\x80\xa6");
}

static void put_count(dot_ctx *c, const char *text)
{
    gr_puts(&c->out, "\\n");
    gr_puts(&c->out, text);
    gr_puts(&c->out, "\xc3\x97"); /* U+00D7 MULTIPLICATION SIGN */
}

static void write_node(dot_ctx *c, uint32_t id)
{
    pstats_func fn;
    pstats_func_get(c->s, id, &fn);
    size_t len = make_name(c, &fn);
    if (c->oom)
        return;
    char color[8], num[1100];
    theme_color(c->share[id], color);
    gr_printf(&c->out, "\t%u [color=\"%s\", fontcolor=\"#ffffff\", fontsize=\"10.00\", label=\"",
              c->gid[id], color);
    put_label_name(c, len);
    gr_printf(&c->out, "\\n%.2f%%\\n(%.2f%%)", c->share[id] * 100.0, c->self[id] * 100.0);
    if (fn.in_stats) {
        if (pstats_format_count(c->s, id, 1, num, sizeof num) == 0) {
            c->oom = 1; /* a count beyond int64 and no memory for its digits */
            return;
        }
        put_count(c, num);
    }
    gr_puts(&c->out, "\", tooltip=");
    put_id(c, fn.file, fn.file_len);
    gr_puts(&c->out, "];\n");
}

static void write_call(dot_ctx *c, const dot_call *d)
{
    double w = gr_ratio(d->time, c->total);
    double pen = w * 4.0 > 0.5 ? w * 4.0 : 0.5;
    char color[8], num[1100];
    theme_color(w, color);
    if (pstats_format_edge_count(c->s, d->callee_key, d->k, 0, 0, num, sizeof num) == 0) {
        c->oom = 1;
        return;
    }
    gr_printf(&c->out,
              "\t%u -> %u [arrowsize=\"%.2f\", color=\"%s\", fontcolor=\"%s\", "
              "fontsize=\"10.00\", label=\"%.2f%%",
              d->caller, d->callee, 0.5 * sqrt(pen), color, color, w * 100.0);
    put_count(c, num);
    gr_printf(&c->out, "\", labeldistance=\"%.2f\", penwidth=\"%.2f\"];\n", pen, pen);
}

static void write_graph(dot_ctx *c)
{
    gr_puts(&c->out, "digraph {\n\ttooltip=\" \"\n"
                     "\tgraph [fontname=Arial, nodesep=0.125, ranksep=0.25];\n"
                     "\tnode [fontcolor=white, fontname=Arial, height=0, shape=box, "
                     "style=filled, width=0];\n"
                     "\tedge [fontname=Arial];\n");
    size_t next = 0;
    for (size_t g = 0; g < c->n && !c->oom && !c->out.failed; g++) {
        uint32_t id = c->order[g];
        if (!c->kept[id])
            continue;
        write_node(c, id);
        while (next < c->ncalls && c->calls[next].caller < g)
            next++;
        for (; next < c->ncalls && c->calls[next].caller == g && !c->oom; next++)
            write_call(c, &c->calls[next]);
    }
    if (!c->oom) /* what was written before a failure is the start of the graph */
        gr_puts(&c->out, "}\n");
}

int pstats_write_dot(const pstats_stats *s, const pstats_dot_options *opts,
                     pstats_write_fn write, void *ctx, pstats_error *err)
{
    pstats_dot_options def = {PSTATS_DOT_NODE_THRES, PSTATS_DOT_EDGE_THRES, NULL};
    if (!opts)
        opts = &def;
    if (!s || !write || !(opts->node_thres >= 0.0) || !(opts->edge_thres >= 0.0))
        return gr_fail(err, PSTATS_EUSAGE, "pstats_write_dot: no model, no sink or a bad threshold");
    if (!pstats_has_edges(s))
        return gr_fail(err, PSTATS_EUSAGE,
                       "pstats_write_dot: the model was loaded without its calls");
    dot_ctx c;
    memset(&c, 0, sizeof c);
    c.s = s;
    c.a = opts->alloc;
    c.n = pstats_nkeys(s);
    size_t n1 = c.n ? c.n : 1;
    c.gid = cm_malloc(c.a, n1 * sizeof *c.gid);
    c.order = cm_malloc(c.a, n1 * sizeof *c.order);
    c.share = cm_malloc(c.a, n1 * sizeof *c.share);
    c.self = cm_malloc(c.a, n1 * sizeof *c.self);
    c.kept = cm_malloc(c.a, n1);
    int oom = !c.gid || !c.order || !c.share || !c.self || !c.kept;
    int rc = gr_out_init(&c.out, write, ctx, c.a);
    if (!oom && rc == 0) {
        number_nodes(&c);
        node_shares(&c, opts->node_thres / 100.0);
        oom = collect_calls(&c, opts->edge_thres / 100.0) != 0;
        if (!oom) {
            if (c.ncalls > 1)
                qsort(c.calls, c.ncalls, sizeof *c.calls, call_cmp);
            write_graph(&c);
        }
    }
    oom = oom || rc != 0 || c.oom;
    cm_free(c.a, c.gid);
    cm_free(c.a, c.order);
    cm_free(c.a, c.share);
    cm_free(c.a, c.self);
    cm_free(c.a, c.kept);
    cm_free(c.a, c.calls);
    cm_free(c.a, c.name);
    return gr_finish(&c.out, oom, err, "dot");
}
