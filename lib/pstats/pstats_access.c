/*
 * Printed names (func_std_string), widths, and the public read-only view
 * of the model: functions, callers, callees, totals, inputs.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "pstats_internal.h"

static void put_str(psb *b, const pstats_stats *s, uint32_t id)
{
    psb_put(b, s->strs[id].p, s->strs[id].len);
}

/* The third item of a key as Python's %s prints it. */
static void put_name(psb *b, const pstats_stats *s, const pkey *k)
{
    if (k->kkind != PSTATS_KEY_CODE) {
        put_str(b, s, k->name);
        return;
    }
    const pcode *c = &s->codes[k->name];
    char tmp[96];
    /* Python prints where the object lives, different every run; ours is
     * made up from what the object is (the digest Python's comparison sees,
     * and its input when it only equals itself), so that every way of
     * loading and merging prints the same - with or without the callers,
     * which may hold the first copy of it - and keys Python keeps apart
     * print apart */
    uint64_t h = c->digest ^ (uint64_t)c->identity * UINT64_C(0x9E3779B97F4A7C15);
    h ^= h >> 29;
    uint64_t addr = UINT64_C(0x7f0000000000) + ((h << 4) & UINT64_C(0xffffffffff));
    psb_puts(b, "<code object ");
    put_str(b, s, c->name);
    /* CPython prints 12 hex digits here (x86-64), PyPy 16 (0x00007f...) */
    snprintf(tmp, sizeof tmp, s->pypy ? " at 0x%016" PRIx64 ", file \"" : " at 0x%012" PRIx64
             ", file \"", addr);
    psb_puts(b, tmp);
    put_str(b, s, c->filename);
    /* code_repr prints a first line number of 0 as -1, in every Python */
    snprintf(tmp, sizeof tmp, "\", line %" PRId64 ">", c->firstlineno ? c->firstlineno : -1);
    psb_puts(b, tmp);
}

void ps_put_name(psb *b, const pstats_stats *s, uint32_t id)
{
    put_name(b, s, &s->keys[id]);
}

static void label_into(const pstats_stats *s, uint32_t id, psb *b)
{
    const pkey *k = &s->keys[id];
    const pstr *f = &s->strs[k->file];
    if (k->kkind != PSTATS_KEY_CODE && k->line == 0 && f->len == 1 && f->p[0] == '~') {
        const pstr *n = &s->strs[k->name];
        if (n->len >= 2 && n->p[0] == '<' && n->p[n->len - 1] == '>') {
            psb_put(b, "{", 1);
            psb_put(b, n->p + 1, n->len - 2);
            psb_put(b, "}", 1);
        } else {
            psb_put(b, n->p, n->len);
        }
        return;
    }
    char tmp[32];
    size_t i = sizeof tmp;
    uint64_t u = k->line < 0 ? (uint64_t)0 - (uint64_t)k->line : (uint64_t)k->line;
    tmp[--i] = '(';
    do {
        tmp[--i] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (k->line < 0)
        tmp[--i] = '-';
    tmp[--i] = ':';
    psb_put(b, f->p, f->len);
    psb_put(b, tmp + i, sizeof tmp - i); /* ":%d(" */
    put_name(b, s, k);
    psb_put(b, ")", 1);
}

int ps_label_dyn(const pstats_stats *s, uint32_t id, char **buf, size_t *cap, size_t *len)
{
    psb b;
    psb_init(&b, (pstats_stats *)s);
    b.p = *buf;
    b.cap = *cap;
    label_into(s, id, &b);
    *buf = b.p;
    *cap = b.cap;
    *len = b.len;
    return b.oom ? -1 : 0;
}

size_t ps_width(const pstats_stats *s, const char *p, size_t len)
{
    if (s->py2)
        return len;
    /* code points: bytes that are not UTF-8 continuations (10xxxxxx),
     * eight at a time */
    size_t n = len, i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t x;
        memcpy(&x, p + i, 8);
        uint64_t c = (x & ~(x << 1) & UINT64_C(0x8080808080808080)) >> 7;
        n -= (size_t)((c * UINT64_C(0x0101010101010101)) >> 56);
    }
    for (; i < len; i++)
        n -= ((unsigned char)p[i] & 0xC0) == 0x80;
    return n;
}

/* Characters of "%d" % line. */
static size_t line_width(int64_t line)
{
    uint64_t u = line < 0 ? (uint64_t)0 - (uint64_t)line : (uint64_t)line;
    size_t n = line < 0 ? 2 : 1;
    while (u >= 10) {
        u /= 10;
        n++;
    }
    return n;
}

size_t ps_label_width(const pstats_stats *s, uint32_t id)
{
    const pkey *k = &s->keys[id];
    const pstr *f = &s->strs[k->file];
    if (k->kkind != PSTATS_KEY_CODE) {
        const pstr *n = &s->strs[k->name];
        size_t wn = ps_width(s, (const char *)n->p, n->len);
        if (k->line == 0 && f->len == 1 && f->p[0] == '~')
            return wn; /* braces replace the angle brackets */
        return ps_width(s, (const char *)f->p, f->len) + line_width(k->line) + 2 + wn + 1;
    }
    /* file:line(<code object NAME at 0x..., file "FILE", line N>) */
    const pcode *c = &s->codes[k->name];
    char tmp[96];
    size_t w = ps_width(s, (const char *)f->p, f->len);
    w += (size_t)snprintf(tmp, sizeof tmp, ":%" PRId64 "(", k->line);
    w += strlen("<code object ") + ps_width(s, (const char *)s->strs[c->name].p, s->strs[c->name].len);
    w += strlen(" at 0x000000000000, file \"") + (s->pypy ? 4 : 0);
    w += ps_width(s, (const char *)s->strs[c->filename].p, s->strs[c->filename].len);
    w += (size_t)snprintf(tmp, sizeof tmp, "\", line %" PRId64 ">",
                          c->firstlineno ? c->firstlineno : -1) + 1;
    return w;
}

size_t ps_label(const pstats_stats *s, uint32_t id, char *out, size_t size)
{
    psb b; /* straight into out: nothing to allocate, nothing to fail */
    psb_init_fixed(&b, out, size);
    label_into(s, id, &b);
    return b.len;
}

/* Widths of the labels (Python's len(func_std_string(f))) over the dict's
 * keys; the last file's width is remembered (a module's functions tend to
 * follow each other). */
void ps_compute_max_name(pstats_stats *s)
{
    size_t m = 0, last_w = 0;
    uint32_t last = UINT32_MAX;
    for (size_t i = 0; i < s->nstats; i++) {
        const pkey *k = &s->keys[i];
        const pstr *f = &s->strs[k->file];
        size_t w;
        if (k->kkind == PSTATS_KEY_CODE || (k->line == 0 && f->len == 1 && f->p[0] == '~')) {
            w = ps_label_width(s, (uint32_t)i);
        } else {
            if (k->file != last) {
                last = k->file;
                last_w = ps_width(s, (const char *)f->p, f->len);
            }
            const pstr *n = &s->strs[k->name];
            w = last_w + line_width(k->line) + 2 + ps_width(s, (const char *)n->p, n->len) + 1;
        }
        if (w > m)
            m = w;
    }
    s->max_name_len = m;
}

/* ----------------------------------------------------------- public view */

size_t pstats_nfuncs(const pstats_stats *s) { return s->nstats; }
size_t pstats_nkeys(const pstats_stats *s) { return s->nkeys; }
int pstats_is_sampled(const pstats_stats *s) { return s->sampled; }
int pstats_is_py2(const pstats_stats *s) { return s->py2; }

static int64_t sat(const pstats_stats *s, pnum n, int *big)
{
    *big = 0;
    if (n.kind == PN_INT)
        return n.u.i;
    if (n.kind == PN_FLOAT) { /* a float count: truncated, saturated, NaN as 0 */
        double f = n.u.f;
        if (f != f)
            return 0;
        if (f > -9223372036854775808.0 && f < 9223372036854775808.0)
            return (int64_t)f;
        *big = 1;
        return f < 0 ? INT64_MIN : INT64_MAX;
    }
    *big = 1;
    return s->bigs[n.u.big].neg ? INT64_MIN : INT64_MAX;
}

void pstats_func_get(const pstats_stats *s, uint32_t id, pstats_func *out)
{
    memset(out, 0, sizeof *out);
    if (id >= s->nkeys)
        return;
    const pkey *k = &s->keys[id];
    out->file = (const char *)s->strs[k->file].p;
    out->file_len = s->strs[k->file].len;
    uint32_t nm = k->kkind == PSTATS_KEY_CODE ? s->codes[k->name].name : k->name;
    out->name = (const char *)s->strs[nm].p;
    out->name_len = s->strs[nm].len;
    out->line = k->line;
    out->key_kind = (pstats_key_kind)k->kkind;
    out->cc = sat(s, pn_get(k->v, k->kinds, 0), &out->cc_big);
    out->nc = sat(s, pn_get(k->v, k->kinds, 1), &out->nc_big);
    out->tt = pn_double(s, pn_get(k->v, k->kinds, 2));
    out->ct = pn_double(s, pn_get(k->v, k->kinds, 3));
    out->in_stats = id < s->nstats;
}

size_t pstats_func_label(const pstats_stats *s, uint32_t id, char *buf, size_t size)
{
    if (id >= s->nkeys) {
        if (size)
            buf[0] = 0;
        return 0;
    }
    return ps_label(s, id, buf, size);
}

static size_t fmt_num(const pstats_stats *s, pnum n, char *buf, size_t size)
{
    psb b;
    psb_init(&b, (pstats_stats *)s);
    pn_str(s, n, &b);
    size_t len = b.oom ? 0 : b.len;
    if (size) {
        size_t k = len < size - 1 ? len : size - 1;
        if (k)
            memcpy(buf, b.p, k);
        buf[k] = 0;
    }
    psb_free(&b);
    return len;
}

size_t pstats_format_count(const pstats_stats *s, uint32_t id, int which,
                           char *buf, size_t size)
{
    if (id >= s->nkeys) {
        if (size)
            buf[0] = 0;
        return 0;
    }
    const pkey *k = &s->keys[id];
    return fmt_num(s, pn_get(k->v, k->kinds, which ? 1 : 0), buf, size);
}

size_t pstats_format_edge_count(const pstats_stats *s, uint32_t f, size_t k, int callees,
                                int which, char *buf, size_t size)
{
    pedge full;
    const pedge *e = &full;
    if (callees) {
        if (ps_build_callees((pstats_stats *)s) || f >= s->nkeys ||
            k >= (size_t)(s->callee_off[f + 1] - s->callee_off[f]))
            return 0;
        pe_get(s, &s->edges[s->callee_edge[s->callee_off[f] + k]], &full);
    } else {
        if (f >= s->nstats || k >= s->keys[f].nedges)
            return 0;
        pe_get(s, &s->edges[s->keys[f].edge_start + k], &full);
    }
    int field = e->kind == PSTATS_EDGE_INT ? 0 : (which ? 0 : 1);
    return fmt_num(s, pn_get(e->v, e->kinds, field), buf, size);
}

size_t pstats_ncallers(const pstats_stats *s, uint32_t f)
{
    return f < s->nstats ? s->keys[f].nedges : 0;
}

static void edge_out(const pstats_stats *s, const pedge_s *es, uint32_t callee,
                     pstats_edge *out)
{
    pedge full;
    const pedge *e = &full;
    pe_get(s, es, &full);
    memset(out, 0, sizeof *out);
    out->caller = e->caller;
    out->callee = callee;
    out->kind = (pstats_edge_kind)e->kind;
    if (e->kind == PSTATS_EDGE_INT) {
        out->nc = out->cc = sat(s, pn_get(e->v, e->kinds, 0), &out->nc_big);
        out->cc_big = out->nc_big;
        return;
    }
    out->nc = sat(s, pn_get(e->v, e->kinds, 0), &out->nc_big);
    out->cc = sat(s, pn_get(e->v, e->kinds, 1), &out->cc_big);
    out->tt = pn_double(s, pn_get(e->v, e->kinds, 2));
    out->ct = pn_double(s, pn_get(e->v, e->kinds, 3));
}

void pstats_caller_get(const pstats_stats *s, uint32_t f, size_t k, pstats_edge *out)
{
    if (f >= s->nstats || k >= s->keys[f].nedges) {
        memset(out, 0, sizeof *out);
        return;
    }
    edge_out(s, &s->edges[s->keys[f].edge_start + k], f, out);
}

size_t pstats_ncallees(const pstats_stats *s, uint32_t f)
{
    if (ps_build_callees((pstats_stats *)s) || f >= s->nkeys)
        return 0;
    return s->callee_off[f + 1] - s->callee_off[f];
}

void pstats_callee_get(const pstats_stats *s, uint32_t f, size_t k, pstats_edge *out)
{
    if (ps_build_callees((pstats_stats *)s) || f >= s->nkeys ||
        k >= (size_t)(s->callee_off[f + 1] - s->callee_off[f])) {
        memset(out, 0, sizeof *out);
        return;
    }
    size_t pos = s->callee_off[f] + k;
    edge_out(s, &s->edges[s->callee_edge[pos]], s->callee_src[pos], out);
}

void pstats_get_totals(const pstats_stats *s, pstats_totals *out)
{
    int big;
    memset(out, 0, sizeof *out);
    out->total_calls = sat(s, s->total_calls, &big);
    out->prim_calls = sat(s, s->prim_calls, &big);
    out->total_tt = pn_double(s, s->total_tt);
    for (size_t i = 0; i < s->nstats; i++)
        out->ntop += (s->keys[i].flags & KF_TOP) != 0;
}

size_t pstats_ninputs(const pstats_stats *s) { return s->ninputs; }

const char *pstats_input_name(const pstats_stats *s, size_t i, time_t *mtime)
{
    if (i >= s->ninputs)
        return NULL;
    if (mtime)
        *mtime = s->inputs[i].has_mtime ? s->inputs[i].mtime : (time_t)-1;
    return s->inputs[i].name;
}
