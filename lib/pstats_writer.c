/*
 * dump_stats(): the model as a marshal file that Python's pstats loads.
 * Python 3 models: marshal version 4, every string and key tuple written
 * once (FLAG_REF) and referenced ('r') after. Python 2 models: version 2
 * with byte strings, which Python 2.7 loads (it knows no references).
 * Code-object keys are written with the code's name as a str.
 */
#include <string.h>

#include "pstats_internal.h"

#define FLAG_REF 0x80u

typedef struct wctx {
    const pstats_stats *s;
    pstats_write_fn write;
    void *ctx;
    psb b;
    int64_t *str_slot, *key_slot;
    int64_t next_slot;
    int v4, failed;
} wctx;

static void flush(wctx *c)
{
    if (c->b.len && !c->failed && c->write(c->ctx, c->b.p, c->b.len) != 0)
        c->failed = 1;
    c->b.len = 0;
}

static void byte(wctx *c, unsigned v)
{
    uint8_t x = (uint8_t)v;
    psb_put(&c->b, &x, 1);
}

static void i32(wctx *c, int32_t v)
{
    uint32_t u = (uint32_t)v;
    uint8_t x[4] = {(uint8_t)u, (uint8_t)(u >> 8), (uint8_t)(u >> 16), (uint8_t)(u >> 24)};
    psb_put(&c->b, x, 4);
}

static void w_long(wctx *c, pnum n)
{
    size_t nd = pn_ndigits15(c->s, n);
    uint16_t *d = ps_malloc((pstats_stats *)c->s, (nd ? nd : 1) * sizeof(uint16_t));
    if (!d || nd > INT32_MAX) {
        ps_free((pstats_stats *)c->s, d);
        c->b.oom = 1;
        return;
    }
    int neg;
    pn_to_digits(c->s, n, d, &neg);
    byte(c, 'l');
    i32(c, neg ? -(int32_t)nd : (int32_t)nd);
    for (size_t i = 0; i < nd; i++) {
        uint8_t x[2] = {(uint8_t)d[i], (uint8_t)(d[i] >> 8)};
        psb_put(&c->b, x, 2);
    }
    ps_free((pstats_stats *)c->s, d);
}

static void w_num(wctx *c, pnum n)
{
    if (n.kind == PN_FLOAT) {
        uint64_t u;
        memcpy(&u, &n.u.f, 8);
        byte(c, 'g');
        for (int i = 0; i < 8; i++)
            byte(c, (unsigned)(u >> (8 * i)) & 0xffu);
    } else if (n.kind == PN_INT && n.u.i >= INT32_MIN && n.u.i <= INT32_MAX) {
        byte(c, 'i');
        i32(c, (int32_t)n.u.i);
    } else {
        w_long(c, n); /* as Python writes ints beyond 32 bits */
    }
}

static int is_ascii(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] >= 0x80)
            return 0;
    return 1;
}

static void w_text(wctx *c, const uint8_t *p, size_t len, int ref)
{
    unsigned fl = ref ? FLAG_REF : 0;
    if (!c->v4) {
        byte(c, 's');
        i32(c, (int32_t)len);
    } else if (is_ascii(p, len) && len < 256) {
        byte(c, 'z' | fl);
        byte(c, (unsigned)len);
    } else if (is_ascii(p, len)) {
        byte(c, 'a' | fl);
        i32(c, (int32_t)len);
    } else {
        byte(c, 'u' | fl);
        i32(c, (int32_t)len);
    }
    psb_put(&c->b, p, len);
}

static void w_str(wctx *c, uint32_t id)
{
    if (c->v4 && c->str_slot[id] >= 0) {
        byte(c, 'r');
        i32(c, (int32_t)c->str_slot[id]);
        return;
    }
    const pstr *p = &c->s->strs[id];
    w_text(c, p->p, p->len, c->v4);
    if (c->v4)
        c->str_slot[id] = c->next_slot++;
}

static void w_tuple(wctx *c, size_t n, int ref)
{
    if (c->v4) {
        byte(c, ')' | (ref ? FLAG_REF : 0));
        byte(c, (unsigned)n);
    } else {
        byte(c, '(');
        i32(c, (int32_t)n);
    }
}

static void w_key(wctx *c, uint32_t id)
{
    if (c->v4 && c->key_slot[id] >= 0) {
        byte(c, 'r');
        i32(c, (int32_t)c->key_slot[id]);
        return;
    }
    const pkey *k = &c->s->keys[id];
    w_tuple(c, 3, c->v4);
    if (c->v4)
        c->key_slot[id] = c->next_slot++;
    w_str(c, k->file);
    w_num(c, pn_int(k->line));
    w_str(c, k->kkind == PSTATS_KEY_CODE ? c->s->codes[k->name].name : k->name);
}

static void w_entry(wctx *c, uint32_t id)
{
    const pstats_stats *s = c->s;
    const pkey *k = &s->keys[id];
    w_key(c, id);
    w_tuple(c, 5, 0);
    for (int f = 0; f < 4; f++)
        w_num(c, pn_get(k->v, k->kinds, f));
    byte(c, '{');
    for (uint32_t e = k->edge_start; e < k->edge_start + k->nedges; e++) {
        const pedge *ed = &s->edges[e];
        w_key(c, ed->caller);
        if (ed->kind == PSTATS_EDGE_INT) {
            w_num(c, pn_get(ed->v, ed->kinds, 0));
            continue;
        }
        w_tuple(c, 4, 0);
        for (int f = 0; f < 4; f++)
            w_num(c, pn_get(ed->v, ed->kinds, f));
    }
    byte(c, '0');
    if (c->b.len >= 65536)
        flush(c);
}

int pstats_write_pstats(const pstats_stats *s, pstats_write_fn write, void *ctx,
                        pstats_error *err)
{
    pstats_stats *ms = (pstats_stats *)s;
    wctx c;
    memset(&c, 0, sizeof c);
    c.s = s;
    c.write = write;
    c.ctx = ctx;
    c.v4 = !s->py2;
    psb_init(&c.b, ms);
    if (err)
        memset(err, 0, sizeof *err);
    size_t ns = s->nstrs ? s->nstrs : 1, nk = s->nkeys ? s->nkeys : 1;
    c.str_slot = ps_malloc(ms, ns * sizeof(int64_t));
    c.key_slot = ps_malloc(ms, nk * sizeof(int64_t));
    if (c.str_slot && c.key_slot) {
        memset(c.str_slot, 0xff, ns * sizeof(int64_t));
        memset(c.key_slot, 0xff, nk * sizeof(int64_t));
        byte(&c, '{');
        for (size_t i = 0; i < s->nstats && !c.failed && !c.b.oom; i++)
            w_entry(&c, (uint32_t)i);
        if (s->sampled) { /* Python 3.15's marker: ('__sampled__',): True */
            w_tuple(&c, 1, 0);
            w_text(&c, (const uint8_t *)"__sampled__", 11, 0);
            byte(&c, 'T');
        }
        byte(&c, '0');
        if (!c.b.oom)
            flush(&c);
    }
    int oom = !c.str_slot || !c.key_slot || c.b.oom;
    ps_free(ms, c.str_slot);
    ps_free(ms, c.key_slot);
    psb_free(&c.b);
    if (oom || c.failed) {
        ps_seterr(err, oom ? PSTATS_ENOMEM : PSTATS_EIO, NULL, 0, 0, "%s",
                  oom ? "out of memory" : "writing the pstats file failed");
        return -1;
    }
    return 0;
}
