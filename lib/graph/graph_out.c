/*
 * The graph writers' output: a buffered sink over the caller's write
 * function, text from the profile written as valid UTF-8 with the escapes
 * each format needs, counts read as Python reads them, and the errors.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph_int.h"

int gr_out_init(gr_out *o, pstats_write_fn write, void *ctx, const pymarshal_allocator *a)
{
    memset(o, 0, sizeof *o);
    o->write = write;
    o->ctx = ctx;
    o->alloc = a;
    o->buf = cm_malloc(a, GR_OUT_SIZE);
    return o->buf ? 0 : -1;
}

static void drain(gr_out *o)
{
    if (o->len && !o->failed && o->write(o->ctx, o->buf, o->len) != 0)
        o->failed = 1;
    o->len = 0;
}

void gr_put(gr_out *o, const void *p, size_t n)
{
    if (o->failed || n == 0)
        return;
    if (n > GR_OUT_SIZE - o->len) {
        drain(o);
        if (n > GR_OUT_SIZE) {
            if (!o->failed && o->write(o->ctx, p, n) != 0)
                o->failed = 1;
            return;
        }
    }
    memcpy(o->buf + o->len, p, n);
    o->len += n;
}

void gr_puts(gr_out *o, const char *z)
{
    gr_put(o, z, strlen(z));
}

void gr_printf(gr_out *o, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0)
        gr_put(o, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

int gr_flush(gr_out *o)
{
    drain(o);
    cm_free(o->alloc, o->buf);
    o->buf = NULL;
    return o->failed ? -1 : 0;
}

/* ---------------------------------------------------------------- text */

/* The code point at p[0..n) and its length (>= 1): a valid UTF-8 sequence
 * (surrogates included, as Python's surrogatepass wrote them), else the
 * first byte read as Latin-1. */
static uint32_t next_cp(const unsigned char *p, size_t n, size_t *len)
{
    uint32_t c = p[0];
    size_t need = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 1;
    *len = 1;
    if (c < 0x80 || need == 1 || need > n)
        return c;
    size_t bad;
    if (!cm_utf8_valid(p, need, &bad))
        return c;
    uint32_t cp = c & (0x7F >> need);
    for (size_t i = 1; i < need; i++)
        cp = cp << 6 | (p[i] & 0x3F);
    *len = need;
    return cp;
}

static void put_cp(gr_out *o, uint32_t cp)
{
    char b[4];
    size_t n;
    if (cp < 0x80) {
        b[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        b[0] = (char)(0xC0 | cp >> 6);
        b[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        b[0] = (char)(0xE0 | cp >> 12);
        b[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        b[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        b[0] = (char)(0xF0 | cp >> 18);
        b[1] = (char)(0x80 | (cp >> 12 & 0x3F));
        b[2] = (char)(0x80 | (cp >> 6 & 0x3F));
        b[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    gr_put(o, b, n);
}

/* One code point, escaped as `mode` wants it. */
static void put_escaped(gr_out *o, uint32_t cp, gr_esc mode)
{
    if (cp >= 0xD800 && cp <= 0xDFFF)
        cp = 0xFFFD;
    switch (mode) {
    case GR_ESC_DOT:
        if (cp == '\\' || cp == '"')
            gr_put(o, cp == '\\' ? "\\\\" : "\\\"", 2);
        else if (cp == '\n' || cp == '\t')
            gr_put(o, cp == '\n' ? "\\n" : "\\t", 2);
        else
            put_cp(o, cp);
        return;
    case GR_ESC_XML:
        if (cp == '&')
            gr_puts(o, "&amp;");
        else if (cp == '<')
            gr_puts(o, "&lt;");
        else if (cp == '>')
            gr_puts(o, "&gt;");
        else if (cp == '"')
            gr_puts(o, "&quot;");
        else
            put_cp(o, cp < 0x20 || cp == 0x7F || cp == 0xFFFE || cp == 0xFFFF ? 0xFFFD : cp);
        return;
    case GR_ESC_FOLDED:
        put_cp(o, cp == ';' ? ':' : cp < 0x20 || cp == 0x7F ? 0xFFFD : cp);
        return;
    default:
        put_cp(o, cp < 0x20 || cp == 0x7F ? 0xFFFD : cp);
    }
}

size_t gr_put_text(gr_out *o, const char *p, size_t n, gr_esc mode)
{
    const unsigned char *u = (const unsigned char *)p;
    size_t cps = 0;
    for (size_t i = 0; i < n; cps++) {
        size_t len;
        uint32_t cp = next_cp(u + i, n - i, &len);
        put_escaped(o, cp, mode);
        i += len;
    }
    return cps;
}

size_t gr_text_width(const char *p, size_t n)
{
    size_t cps = 0, len;
    for (size_t i = 0; i < n; i += len, cps++)
        (void)next_cp((const unsigned char *)p + i, n - i, &len);
    return cps;
}

size_t gr_text_prefix(const char *p, size_t n, size_t cps)
{
    size_t i = 0, len;
    for (size_t k = 0; k < cps && i < n; k++, i += len)
        (void)next_cp((const unsigned char *)p + i, n - i, &len);
    return i;
}

/* -------------------------------------------------------------- numbers */

double gr_count(const pstats_stats *s, uint32_t id, const pstats_func *f, int which)
{
    int big = which ? f->nc_big : f->cc_big;
    if (!big)
        return (double)(which ? f->nc : f->cc);
    char buf[1024];
    if (pstats_format_count(s, id, which, buf, sizeof buf) == 0)
        return NAN; /* no memory for the digits */
    return strtod(buf, NULL);
}

double gr_edge_count(const pstats_stats *s, const pstats_edge *e, uint32_t callee, size_t k,
                     int which)
{
    int big = which ? e->nc_big : e->cc_big;
    if (!big)
        return (double)(which ? e->nc : e->cc);
    char buf[1024];
    if (pstats_format_edge_count(s, callee, k, 0, which, buf, sizeof buf) == 0)
        return NAN;
    return strtod(buf, NULL);
}

double gr_ratio(double a, double b)
{
    if (b == 0.0)
        return 1.0;
    double r = a / b;
    if (r < 0.0)
        return 0.0;
    if (r > 1.0)
        return 1.0;
    return r;
}

/* ---------------------------------------------------------------- errors */

int gr_fail(pstats_error *err, pstats_errcode code, const char *msg)
{
    if (err) {
        memset(err, 0, sizeof *err);
        err->code = code;
        snprintf(err->msg, sizeof err->msg, "%s", msg);
    }
    return -1;
}

int gr_finish(gr_out *o, int oom, pstats_error *err, const char *what)
{
    char msg[128];
    int rc = gr_flush(o);
    if (oom) {
        snprintf(msg, sizeof msg, "out of memory while writing %s", what);
        return gr_fail(err, PSTATS_ENOMEM, msg);
    }
    if (rc != 0) {
        snprintf(msg, sizeof msg, "writing the %s output failed", what);
        return gr_fail(err, PSTATS_EIO, msg);
    }
    return 0;
}
