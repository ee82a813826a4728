/*
 * dump_stats(): the model as a marshal file that Python's pstats loads.
 * Python 3 models: marshal version 4 with every string and key tuple
 * written once and referenced after. Python 2 models: version 2 with byte
 * strings, which Python 2.7 loads (it knows no references). Code-object
 * keys are written as code objects that print as the originals and compare
 * as the model compared them (w_code).
 */
#include <string.h>

#include "pstats_internal.h"

typedef struct wctx {
    const pstats_stats *s;
    pymarshal_writer *w;
    int64_t *str_slot, *key_slot;
    int refs, bytes;
    int oom;
} wctx;

/* A number; as_long writes an int as marshal 'l' (a Python 2 long). */
static void w_numl(wctx *c, pnum n, int as_long)
{
    if (n.kind == PN_INT && !as_long) {
        pymarshal_write_int(c->w, n.u.i, 0);
    } else if (n.kind == PN_FLOAT) {
        pymarshal_write_float(c->w, n.u.f, 0);
    } else {
        size_t nd = pn_ndigits15(c->s, n);
        uint16_t *d = ps_malloc((pstats_stats *)c->s, (nd ? nd : 1) * sizeof(uint16_t));
        if (!d) {
            c->oom = 1;
            pymarshal_write_int(c->w, 0, 0);
            return;
        }
        int neg;
        pn_to_digits(c->s, n, d, &neg);
        pymarshal_write_bigint(c->w, d, nd, neg, 0);
        ps_free((pstats_stats *)c->s, d);
    }
}

static void w_num(wctx *c, pnum n)
{
    w_numl(c, n, 0);
}

static void w_str(wctx *c, uint32_t id)
{
    if (c->refs && c->str_slot[id] >= 0) {
        pymarshal_write_ref(c->w, c->str_slot[id]);
        return;
    }
    const pstr *p = &c->s->strs[id];
    unsigned fl = c->refs ? PYMARSHAL_W_REF : 0;
    int64_t slot = c->bytes ? pymarshal_write_bytes(c->w, p->p, p->len, fl)
                            : pymarshal_write_str(c->w, p->p, p->len, fl);
    if (c->refs)
        c->str_slot[id] = slot;
}

/* A code object that prints as the one read (name, file, first line) and
 * that Python finds equal to another written here exactly when the model
 * does: its constants hold the digest of what Python compared (the model
 * keeps no more of the original). Every Python loads it in the layout it
 * was read in: no bytecode, no names, nothing to run. */
static void w_code(wctx *c, const pcode *co)
{
    pymarshal_code_layout layout = co->layout ? (pymarshal_code_layout)co->layout
                                              : PYMARSHAL_CODE_PY38;
    uint8_t id[12];
    for (int i = 0; i < 8; i++)
        id[i] = (uint8_t)(co->digest >> (8 * i));
    for (int i = 0; i < 4; i++)
        id[8 + i] = (uint8_t)(co->identity >> (8 * i));
    int nints = layout == PYMARSHAL_CODE_PY27 ? 4 : layout == PYMARSHAL_CODE_PY38 ? 6 : 5;
    pymarshal_write_code(c->w, layout, 0);
    for (int i = 0; i < nints; i++)
        pymarshal_write_raw_i32(c->w, 0);                 /* counts, flags */
    pymarshal_write_bytes(c->w, "", 0, 0);                /* code */
    pymarshal_write_seq(c->w, PYMARSHAL_TUPLE, 1, 0);     /* consts */
    pymarshal_write_bytes(c->w, id, sizeof id, 0);
    if (layout == PYMARSHAL_CODE_PY311) {
        pymarshal_write_seq(c->w, PYMARSHAL_TUPLE, 0, 0); /* names */
        pymarshal_write_seq(c->w, PYMARSHAL_TUPLE, 0, 0); /* localsplusnames */
        pymarshal_write_bytes(c->w, "", 0, 0);            /* localspluskinds */
        w_str(c, co->filename);
        w_str(c, co->name);
        w_str(c, co->name);                               /* qualname */
    } else {
        for (int i = 0; i < 4; i++)                       /* names ... cellvars */
            pymarshal_write_seq(c->w, PYMARSHAL_TUPLE, 0, 0);
        w_str(c, co->filename);
        w_str(c, co->name);
    }
    pymarshal_write_raw_i32(c->w, (int32_t)co->firstlineno);
    pymarshal_write_bytes(c->w, "", 0, 0);                /* lnotab, linetable */
    if (layout == PYMARSHAL_CODE_PY311)
        pymarshal_write_bytes(c->w, "", 0, 0);            /* exceptiontable */
}

/* A key tuple (file, line, name), or (file, line, code object). */
static void w_key(wctx *c, uint32_t id)
{
    if (c->refs && c->key_slot[id] >= 0) {
        pymarshal_write_ref(c->w, c->key_slot[id]);
        return;
    }
    const pkey *k = &c->s->keys[id];
    int64_t slot = pymarshal_write_seq(c->w, PYMARSHAL_TUPLE, 3, c->refs ? PYMARSHAL_W_REF : 0);
    w_str(c, k->file);
    pymarshal_write_int(c->w, k->line, 0);
    if (k->kkind == PSTATS_KEY_CODE)
        w_code(c, &c->s->codes[k->name]);
    else
        w_str(c, k->name);
    if (c->refs)
        c->key_slot[id] = slot;
}

static void w_entry(wctx *c, uint32_t id)
{
    const pstats_stats *s = c->s;
    const pkey *k = &s->keys[id];
    w_key(c, id);
    pymarshal_write_seq(c->w, PYMARSHAL_TUPLE, 5, 0);
    for (int f = 0; f < 4; f++)
        w_num(c, pn_get(k->v, k->kinds, f));
    pymarshal_write_dict(c->w, 0);
    for (uint32_t e = k->edge_start; e < k->edge_start + k->nedges; e++) {
        pedge full;
        const pedge *ed = &full;
        pe_get(s, &s->edges[e], &full);
        w_key(c, ed->caller);
        if (ed->kind == PSTATS_EDGE_INT) {
            w_numl(c, pn_get(ed->v, ed->kinds, 0), c->bytes && (ed->kinds & PK_PY2LONG));
            continue;
        }
        pymarshal_write_seq(c->w, PYMARSHAL_TUPLE, 4, 0);
        for (int f = 0; f < 4; f++)
            w_num(c, pn_get(ed->v, ed->kinds, f));
    }
    pymarshal_write_dict_end(c->w);
}

int pstats_write_pstats(const pstats_stats *s, pstats_write_fn write, void *ctx,
                        pstats_error *err)
{
    pstats_stats *ms = (pstats_stats *)s;
    wctx c;
    memset(&c, 0, sizeof c);
    c.s = s;
    c.refs = !s->py2;
    c.bytes = s->py2;
    if (err)
        memset(err, 0, sizeof *err);
    if (ps_need_edges(s, "pstats_write_pstats", err))
        return -1;
    if (c.refs) {
        c.str_slot = ps_malloc(ms, (s->nstrs ? s->nstrs : 1) * sizeof(int64_t));
        c.key_slot = ps_malloc(ms, (s->nkeys ? s->nkeys : 1) * sizeof(int64_t));
        if (!c.str_slot || !c.key_slot) {
            ps_free(ms, c.str_slot);
            ps_free(ms, c.key_slot);
            ps_seterr(err, PSTATS_ENOMEM, NULL, 0, 0, "out of memory");
            return -1;
        }
        memset(c.str_slot, 0xff, (s->nstrs ? s->nstrs : 1) * sizeof(int64_t));
        memset(c.key_slot, 0xff, (s->nkeys ? s->nkeys : 1) * sizeof(int64_t));
    }
    pymarshal_error me;
    memset(&me, 0, sizeof me);
    c.w = pymarshal_writer_new(c.refs ? 4 : 2, &ms->alc, write, ctx, &me);
    int rc = 0;
    if (!c.w) {
        rc = -1;
    } else {
        pymarshal_write_dict(c.w, 0);
        for (size_t i = 0; i < s->nstats; i++)
            w_entry(&c, (uint32_t)i);
        if (s->sampled) {
            pymarshal_write_seq(c.w, PYMARSHAL_TUPLE, 1, 0);
            static const char marker[] = "__sampled__";
            if (c.bytes)
                pymarshal_write_bytes(c.w, marker, 11, 0);
            else
                pymarshal_write_str(c.w, marker, 11, 0);
            pymarshal_write_simple(c.w, PYMARSHAL_TRUE);
        }
        pymarshal_write_dict_end(c.w);
        rc = pymarshal_writer_finish(c.w, &me);
    }
    ps_free(ms, c.str_slot);
    ps_free(ms, c.key_slot);
    if (rc || c.oom) {
        int nm = c.oom || me.code == PYMARSHAL_ENOMEM;
        ps_seterr(err, nm ? PSTATS_ENOMEM : PSTATS_EIO, NULL, 0, 0, "%s",
                  nm ? "out of memory" : me.msg);
        return -1;
    }
    return 0;
}
