/*
 * The reconstructed call tree (graph_flame.c) as a self-contained,
 * interactive flame graph in SVG, in the manner of flamegraph.pl: the
 * roots at the bottom, each frame as wide as its time, drawn statically
 * (any SVG viewer shows it) with a script for zoom and search
 * (graph_svg_js.h). Nothing is loaded from elsewhere.
 */
#include <math.h>
#include <string.h>

#include "graph_int.h"
#include "graph_svg_js.h"

#define SVG_W 1200
#define SVG_PAD 10
#define SVG_FH 16
#define SVG_TOP 64
#define SVG_BOTTOM 40
#define SVG_CH 7.3 /* width of a character of the 12px monospace font */

typedef struct svg_ctx {
    const pstats_stats *s;
    const pymarshal_allocator *a;
    const gr_flame *t;
    gr_out out;
    char *label; size_t label_cap;
    int oom;
} svg_ctx;

/* The frame's pstats label in c->label; returns its length. */
static size_t frame_label(svg_ctx *c, uint32_t func)
{
    if (func == GR_OTHER) {
        static const char other[] = "[other]";
        if (c->label_cap < sizeof other &&
            cm_reserve(c->a, (void **)&c->label, &c->label_cap, sizeof other, 1) != 0) {
            c->oom = 1;
            return 0;
        }
        memcpy(c->label, other, sizeof other);
        return sizeof other - 1;
    }
    size_t n = pstats_func_label(c->s, func, c->label, c->label_cap);
    if (n + 1 > c->label_cap) {
        if (cm_reserve(c->a, (void **)&c->label, &c->label_cap, n + 1, 1) != 0) {
            c->oom = 1;
            return 0;
        }
        n = pstats_func_label(c->s, func, c->label, c->label_cap);
    }
    return n;
}

/* flamegraph.pl's palettes, chosen by a hash of the label: warm for Python
 * code, aqua for built-ins, grey for [other]. */
static void frame_color(const svg_ctx *c, uint32_t func, const char *label, size_t n, int rgb[3])
{
    if (func == GR_OTHER) {
        rgb[0] = rgb[1] = rgb[2] = 190;
        return;
    }
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)label[i]) * 16777619u;
    double v1 = (h & 0xFF) / 255.0, v2 = (h >> 8 & 0xFF) / 255.0, v3 = (h >> 16 & 0xFF) / 255.0;
    pstats_func f;
    pstats_func_get(c->s, func, &f);
    if (f.file_len == 1 && f.file[0] == '~') {
        rgb[0] = 50 + (int)(60 * v1);
        rgb[1] = 165 + (int)(55 * v2);
        rgb[2] = 165 + (int)(55 * v3);
    } else {
        rgb[0] = 205 + (int)(50 * v3);
        rgb[1] = (int)(230 * v1);
        rgb[2] = (int)(55 * v2);
    }
}

/* A time as seconds, or as samples for a sampled profile. */
static void put_seconds(svg_ctx *c, int64_t units)
{
    if (strcmp(c->t->unit, "samples") == 0)
        gr_printf(&c->out, "%lld samples", (long long)units);
    else
        gr_printf(&c->out, "%.6g s", (double)units / c->t->scale);
}

/* The text drawn in a box w pixels wide, as the script's fit() makes it. */
static void put_fitted(svg_ctx *c, const char *name, size_t n, double w)
{
    double fit = floor((w - 6) / SVG_CH);
    if (fit < 3)
        return;
    size_t cps = gr_text_width(name, n);
    if ((double)cps <= fit) {
        gr_put_text(&c->out, name, n, GR_ESC_XML);
        return;
    }
    gr_put_text(&c->out, name, gr_text_prefix(name, n, (size_t)fit - 2), GR_ESC_XML);
    gr_puts(&c->out, "..");
}

static void write_frame(svg_ctx *c, uint32_t i, double height)
{
    const gr_frame *fr = &c->t->f[i];
    size_t n = frame_label(c, fr->func);
    if (c->oom)
        return;
    const char *name = c->label;
    size_t nlen = n;
    pstats_func f;
    if (fr->func != GR_OTHER) {
        pstats_func_get(c->s, fr->func, &f);
        name = f.name;
        nlen = f.name_len;
    }
    int rgb[3];
    frame_color(c, fr->func, c->label, n, rgb);
    double span = SVG_W - 2 * SVG_PAD, total = (double)c->t->total;
    double x = SVG_PAD + (double)fr->x / total * span, w = (double)fr->total / total * span;
    double y = height - SVG_BOTTOM - (fr->depth + 1) * SVG_FH;
    gr_printf(&c->out, "<g data-x=\"%lld\" data-t=\"%lld\" data-d=\"%u\" data-n=\"",
              (long long)fr->x, (long long)fr->total, fr->depth);
    gr_put_text(&c->out, name, nlen, GR_ESC_XML);
    gr_puts(&c->out, "\"><title>");
    gr_put_text(&c->out, c->label, n, GR_ESC_XML);
    gr_puts(&c->out, "\n");
    put_seconds(c, fr->total);
    gr_printf(&c->out, " (%.2f%%), self ", total > 0 ? 100.0 * (double)fr->total / total : 0.0);
    put_seconds(c, fr->self);
    gr_printf(&c->out, "</title><rect x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" height=\"%d\" "
              "fill=\"rgb(%d,%d,%d)\" rx=\"2\" ry=\"2\"/><text x=\"%.2f\" y=\"%.1f\">",
              x, y, w, SVG_FH - 1, rgb[0], rgb[1], rgb[2], x + 3, y + 11.5);
    put_fitted(c, name, nlen, w);
    gr_puts(&c->out, "</text></g>\n");
}

static void write_head(svg_ctx *c, const pstats_flame_options *o, double height)
{
    gr_printf(&c->out,
              "<?xml version=\"1.0\" standalone=\"no\"?>\n"
              "<svg version=\"1.1\" width=\"%d\" height=\"%.0f\" viewBox=\"0 0 %d %.0f\" "
              "xmlns=\"http://www.w3.org/2000/svg\" onload=\"init(evt)\" "
              "data-total=\"%lld\" data-scale=\"%.17g\" data-unit=\"%s\">\n",
              SVG_W, height, SVG_W, height, (long long)c->t->total, c->t->scale, c->t->unit);
    gr_puts(&c->out, gr_svg_style);
    gr_puts(&c->out, gr_svg_script);
    gr_printf(&c->out, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%.0f\" fill=\"#f8f8f0\"/>\n",
              SVG_W, height);
    gr_printf(&c->out, "<text id=\"title\" x=\"%d\" y=\"24\">", SVG_W / 2);
    const char *title = o->title ? o->title : "Flame graph";
    gr_put_text(&c->out, title, strlen(title), GR_ESC_XML);
    gr_printf(&c->out, "</text>\n<text id=\"subtitle\" x=\"%d\" y=\"42\">", SVG_W / 2);
    gr_puts(&c->out, "reconstructed from pstats' caller graph (no stacks recorded); total ");
    put_seconds(c, c->t->total);
    gr_printf(&c->out, ", %zu frames</text>\n", c->t->norder);
    gr_printf(&c->out,
              "<text id=\"unzoom\" class=\"button hide\" x=\"%d\" y=\"24\">Reset Zoom</text>\n"
              "<text id=\"search\" class=\"button\" x=\"%d\" y=\"24\">Search</text>\n"
              "<text id=\"matched\" x=\"%d\" y=\"%.0f\"> </text>\n"
              "<text id=\"details\" x=\"%d\" y=\"%.0f\"> </text>\n",
              SVG_PAD, SVG_W - SVG_PAD, SVG_W - SVG_PAD, height - 14, SVG_PAD,
              height - 14);
}

int pstats_write_flame_svg(const pstats_stats *s, const pstats_flame_options *opts,
                           pstats_write_fn write, void *ctx, pstats_error *err)
{
    pstats_flame_options o;
    if (!s || !write)
        return gr_fail(err, PSTATS_EUSAGE, "pstats_write_flame_svg: no model or no sink");
    if (gr_flame_options(s, opts, &o, err) != 0)
        return -1;
    if (!pstats_has_edges(s))
        return gr_fail(err, PSTATS_EUSAGE,
                       "pstats_write_flame_svg: the model was loaded without its calls");
    gr_flame t;
    svg_ctx c;
    memset(&t, 0, sizeof t);
    memset(&c, 0, sizeof c);
    c.s = s;
    c.a = o.alloc;
    c.t = &t;
    int oom = gr_out_init(&c.out, write, ctx, o.alloc) != 0;
    oom = oom || gr_flame_build(s, &o, &t) != 0;
    if (!oom) {
        double height = SVG_TOP + (double)(t.max_depth + 1) * SVG_FH + SVG_BOTTOM;
        write_head(&c, &o, height);
        gr_puts(&c.out, "<g id=\"frames\">\n");
        for (size_t k = 0; k < t.norder && !c.oom && !c.out.failed; k++)
            write_frame(&c, t.order[k], height);
        if (!c.oom) /* what was written before a failure is the start */
            gr_puts(&c.out, "</g>\n</svg>\n");
    }
    gr_flame_free(&t, o.alloc);
    cm_free(o.alloc, c.label);
    return gr_finish(&c.out, oom || c.oom, err, "flame graph");
}
