/*
 * Stats.add() and Stats.strip_dirs(), merging keys that are equal (after
 * stripping directories) the way Python's add_func_stats / add_callers do,
 * in Python's order. add() works in place: numbers of functions and callers
 * both sides have are summed where they are stored, new ones appended, and
 * the ids put back in dict order only when something new came in.
 * strip_dirs() rebuilds the model (every key may change).
 */
#include <string.h>

#include "pstats_internal.h"

typedef struct merger {
    pstats_stats *t;          /* the model being built */
    uint32_t *order; size_t norder, cap_order;
    uint32_t *ecallee; size_t cap_ecallee;
    uint32_t *pair; size_t pair_mask;  /* (callee, caller) -> edge id + 1 */
    uint32_t *map; size_t cap_map;     /* source key id -> t key id */
    uint32_t *smap; size_t cap_smap;   /* source string id -> t string id + 1 */
    uint32_t *stamp, *stamp_pos; size_t cap_stamp;
    uint32_t *local; size_t cap_local; /* one function's deduplicated callers */
    uint32_t seq;
    size_t input_base;        /* where the source's first input goes in t */
    int strip;
    ps_rename_fn rename;      /* file names (and code objects' co_filename) */
    void *rename_ctx;
    size_t nedges0;           /* in place: edges of s before this source */
    int regroup;              /* in place: an old function gained callers */
} merger;

static uint32_t pair_hash(uint32_t a, uint32_t b)
{
    uint64_t x = ((uint64_t)a << 32 | b) * UINT64_C(0x9E3779B97F4A7C15);
    return (uint32_t)(x >> 32);
}

static int pair_rehash(merger *m)
{
    pstats_stats *t = m->t;
    size_t n = m->pair ? (m->pair_mask + 1) * 2 : 1024;
    uint32_t *p = ps_malloc(t, n * sizeof(uint32_t));
    if (!p)
        return -1;
    memset(p, 0, n * sizeof(uint32_t));
    for (size_t e = 0; e < t->nedges; e++) {
        size_t i = pair_hash(m->ecallee[e], t->edges[e].caller) & (n - 1);
        while (p[i])
            i = (i + 1) & (n - 1);
        p[i] = (uint32_t)e + 1;
    }
    ps_free(t, m->pair);
    m->pair = p;
    m->pair_mask = n - 1;
    return 0;
}

static const uint8_t *basename_of(const pstr *p, size_t *len)
{
    size_t i = p->len;
    while (i > 0 && p->p[i - 1] != '/')
        i--;
    *len = p->len - i;
    return p->p + i;
}

/* A string of src in t: a file name stripped or renamed (`file`), any
 * other string as it is. */
static uint32_t import_str(merger *m, const pstats_stats *src, uint32_t id, int file)
{
    int change = file && (m->strip || m->rename);
    if (!change && m->smap[id]) /* met before in this source */
        return m->smap[id] - 1;
    const pstr *p = &src->strs[id];
    size_t len = p->len;
    const uint8_t *q = p->p;
    if (change && m->strip)
        q = basename_of(p, &len);
    else if (change && !(q = m->rename(m->rename_ctx, p->p, p->len, &len)))
        return UINT32_MAX;
    uint32_t r = ps_intern(m->t, q, len, 0, 0);
    if (!change && r != UINT32_MAX)
        m->smap[id] = r + 1;
    return r;
}

/* Map every key of src to a key of t. */
static int map_keys(merger *m, const pstats_stats *src)
{
    pstats_stats *t = m->t;
    if (ps_grow(t, (void **)&m->map, &m->cap_map, src->nkeys + 1, sizeof(uint32_t)) ||
        ps_grow(t, (void **)&m->smap, &m->cap_smap, src->nstrs + 1, sizeof(uint32_t)))
        return -1;
    memset(m->smap, 0, (src->nstrs + 1) * sizeof(uint32_t));
    for (size_t i = 0; i < src->nkeys; i++) {
        const pkey *k = &src->keys[i];
        uint32_t file = import_str(m, src, k->file, 1), name;
        if (file == UINT32_MAX)
            return -1;
        if (k->kkind == PSTATS_KEY_CODE) {
            const pcode *c = &src->codes[k->name];
            uint32_t cn = import_str(m, src, c->name, 0);
            uint32_t cf = import_str(m, src, c->filename, m->rename != NULL);
            if (cn == UINT32_MAX || cf == UINT32_MAX)
                return -1;
            pcode nc = *c;
            nc.name = cn;
            nc.filename = cf;
            if (nc.identity) /* its objects stay those of its own input */
                nc.identity += (uint32_t)m->input_base;
            name = ps_code(t, &nc);
        } else {
            name = import_str(m, src, k->name, 0);
        }
        if (name == UINT32_MAX)
            return -1;
        int isnew;
        m->map[i] = ps_key(t, file, k->line, name, k->kkind, &isnew);
        if (m->map[i] == UINT32_MAX)
            return -1;
    }
    size_t old = m->cap_stamp;
    if (t->nkeys > old) {
        if (ps_grow(t, (void **)&m->stamp, &m->cap_stamp, t->nkeys, sizeof(uint32_t)))
            return -1;
        size_t c2 = old;
        if (ps_grow(t, (void **)&m->stamp_pos, &c2, m->cap_stamp, sizeof(uint32_t)))
            return -1;
        memset(m->stamp + old, 0, (m->cap_stamp - old) * sizeof(uint32_t));
    }
    return 0;
}

/* Python's a + b on numbers of t. */
static int add4(pstats_stats *t, uint64_t *v, uint8_t *kinds, const uint64_t *w,
                uint8_t wkinds, int nf)
{
    for (int f = 0; f < nf; f++) {
        pnum r;
        if (pn_add(t, pn_get(v, *kinds, f), pn_get(w, wkinds, f), &r))
            return -1;
        pn_set(v, kinds, f, r);
    }
    return 0;
}

/* Numbers of src copied into t (big ints re-homed); `plus0` adds them to
 * the int 0 as Python's add() does for a key new to the target. */
static int import_nums(merger *m, const pstats_stats *src, const uint64_t *v, uint8_t kinds,
                       int nf, int plus0, uint64_t *out, uint8_t *okinds)
{
    *okinds = 0;
    memset(out, 0, 4 * sizeof(uint64_t));
    for (int f = 0; f < nf; f++) {
        pnum n;
        if (pn_import(m->t, src, pn_get(v, kinds, f), &n))
            return -1;
        if (plus0 && pn_add(m->t, pn_int(0), n, &n))
            return -1;
        pn_set(out, okinds, f, n);
    }
    return 0;
}

/* An int caller count as a tuple: (n, n, 0.0, 0.0). Python raises
 * TypeError when it must add an int caller to a tuple caller. */
static void as_tuple(pedge *e)
{
    if (e->kind == PSTATS_EDGE_TUPLE)
        return;
    pnum n = pn_get(e->v, e->kinds, 0);
    pn_set(e->v, &e->kinds, 1, n);
    pn_set(e->v, &e->kinds, 2, pn_float(0.0));
    pn_set(e->v, &e->kinds, 3, pn_float(0.0));
    e->kind = PSTATS_EDGE_TUPLE;
}

/* The stored edge dst of t += e, as add_callers adds two callers' values. */
static int sum_edge(pstats_stats *t, pedge_s *dst, pedge *e)
{
    pedge x;
    pe_get(t, dst, &x);
    if (x.kind != e->kind) {
        as_tuple(&x);
        as_tuple(e);
    } else if (x.kind == PSTATS_EDGE_INT) {
        x.kinds |= e->kinds & PK_PY2LONG; /* int + long is a long */
    }
    if (add4(t, x.v, &x.kinds, e->v, e->kinds, x.kind == PSTATS_EDGE_INT ? 1 : 4))
        return -1;
    return pe_put(t, dst, &x, 1);
}

static int merge_edge(merger *m, uint32_t callee, pedge *e)
{
    pstats_stats *t = m->t;
    if (!m->pair || (t->nedges + 1) * 2 > m->pair_mask + 1)
        if (pair_rehash(m))
            return -1;
    size_t i = pair_hash(callee, e->caller) & m->pair_mask;
    for (uint32_t v; (v = m->pair[i]) != 0; i = (i + 1) & m->pair_mask) {
        if (m->ecallee[v - 1] == callee && t->edges[v - 1].caller == e->caller)
            return sum_edge(t, &t->edges[v - 1], e);
    }
    if (t->nedges >= UINT32_MAX - 1 ||
        ps_grow(t, (void **)&t->edges, &t->cap_edges, t->nedges + 1, sizeof(pedge_s)) ||
        ps_grow(t, (void **)&m->ecallee, &m->cap_ecallee, t->nedges + 1, sizeof(uint32_t)) ||
        pe_put(t, &t->edges[t->nedges], e, 0))
        return -1;
    m->ecallee[t->nedges] = callee;
    m->pair[i] = (uint32_t)++t->nedges;
    return 0;
}

static int grow_local(merger *m, size_t need)
{
    return ps_grow(m->t, (void **)&m->local, &m->cap_local, need * (sizeof(pedge) / sizeof(uint32_t)),
                   sizeof(uint32_t));
}

static int import_edge(merger *m, const pstats_stats *src, const pedge_s *es, pedge *out)
{
    pedge full;
    const pedge *e = &full;
    pe_get(src, es, &full);
    out->caller = m->map[e->caller];
    out->kind = e->kind;
    return import_nums(m, src, e->v, e->kinds, e->kind == PSTATS_EDGE_INT ? 1 : 4, 0, out->v,
                       &out->kinds);
}

/* One function's callers as strip_dirs builds `newcallers`: a caller
 * key met again (after stripping) replaces the earlier value in place. */
static int merge_callers_strip(merger *m, const pstats_stats *src, const pkey *sk, uint32_t tk)
{
    if (grow_local(m, sk->nedges + 1))
        return -1;
    pedge *loc = (pedge *)(void *)m->local;
    size_t nl = 0;
    uint32_t seq = ++m->seq;
    for (uint32_t e = sk->edge_start; e < sk->edge_start + sk->nedges; e++) {
        pedge ne;
        if (import_edge(m, src, &src->edges[e], &ne))
            return -1;
        if (m->stamp[ne.caller] == seq) {
            loc[m->stamp_pos[ne.caller]] = ne;
            continue;
        }
        m->stamp[ne.caller] = seq;
        m->stamp_pos[ne.caller] = (uint32_t)nl;
        loc[nl++] = ne;
    }
    for (size_t i = 0; i < nl; i++)
        if (merge_edge(m, tk, &loc[i]))
            return -1;
    return 0;
}

static int merge_source(merger *m, const pstats_stats *src, int plus0)
{
    pstats_stats *t = m->t;
    if (map_keys(m, src))
        return -1;
    for (size_t i = 0; i < src->nstats; i++) {
        const pkey *sk = &src->keys[i];
        uint32_t tk = m->map[i];
        int isnew = !(t->keys[tk].flags & KF_STATS);
        uint64_t v[4];
        uint8_t kinds;
        if (import_nums(m, src, sk->v, sk->kinds, 4, plus0 && isnew, v, &kinds))
            return -1;
        pkey *k = &t->keys[tk];
        if (isnew) {
            if (ps_grow(t, (void **)&m->order, &m->cap_order, m->norder + 1, sizeof(uint32_t)))
                return -1;
            m->order[m->norder++] = tk;
            memcpy(k->v, v, sizeof v);
            k->kinds = kinds;
            k->flags |= KF_STATS;
        } else if (add4(t, k->v, &k->kinds, v, kinds, 4)) {
            return -1;
        }
        k->flags |= sk->flags & KF_TOP;
        if (m->strip) {
            if (merge_callers_strip(m, src, sk, tk))
                return -1;
            continue;
        }
        for (uint32_t e = sk->edge_start; e < sk->edge_start + sk->nedges; e++) {
            pedge ne;
            if (import_edge(m, src, &src->edges[e], &ne) || merge_edge(m, tk, &ne))
                return -1;
        }
    }
    return 0;
}

static void merger_free(merger *m)
{
    pstats_stats *t = m->t;
    ps_free(t, m->order);
    ps_free(t, m->ecallee);
    ps_free(t, m->pair);
    ps_free(t, m->map);
    ps_free(t, m->smap);
    ps_free(t, m->stamp);
    ps_free(t, m->stamp_pos);
    ps_free(t, m->local);
}

static int copy_inputs(pstats_stats *t, const pstats_stats *src)
{
    for (size_t i = 0; i < src->ninputs; i++)
        if (ps_add_input(t, src->inputs[i].name, src->inputs[i].mtime, src->inputs[i].has_mtime))
            return -1;
    return 0;
}

/* ------------------------------------------------------------ in place */

/* Appends the edge e of callee to s (its callee noted for a regroup). */
static int append_edge(merger *m, uint32_t callee, const pedge *e)
{
    pstats_stats *s = m->t;
    size_t k = s->nedges - m->nedges0;
    if (s->nedges >= UINT32_MAX - 1 ||
        ps_grow(s, (void **)&s->edges, &s->cap_edges, s->nedges + 1, sizeof(pedge_s)) ||
        ps_grow(s, (void **)&m->ecallee, &m->cap_ecallee, k + 1, sizeof(uint32_t)) ||
        pe_put(s, &s->edges[s->nedges], e, 0))
        return -1;
    m->ecallee[k] = callee;
    s->nedges++;
    return 0;
}

/* dst += src when both are stored packed and the sum packs too (the
 * common case: int counts, float times): 1 when done, 0 to take the
 * general path. Same arithmetic as sum_edge (target + source). */
static int sum_packed(pedge_s *dst, const pedge_s *src)
{
    if ((dst->w | src->w) & EW_WIDE)
        return 0;
    if ((dst->w & EW_INT) != (src->w & EW_INT))
        return 0;
    if (dst->w & EW_INT) {
        uint32_t n = (dst->w & ~EW_INT) + (src->w & ~EW_INT);
        if (n >= EW_INT)
            return 0;
        dst->w = EW_INT | n;
        return 1;
    }
    uint32_t n = dst->w + src->w;
    if (n >= EW_INT >> 1)
        return 0;
    double x, y;
    memcpy(&x, &dst->a, sizeof x);
    memcpy(&y, &src->a, sizeof y);
    x += y;
    memcpy(&dst->a, &x, sizeof x);
    memcpy(&x, &dst->b, sizeof x);
    memcpy(&y, &src->b, sizeof y);
    x += y;
    memcpy(&dst->b, &x, sizeof x);
    dst->w = n;
    return 1;
}

/* add_callers(target's callers of tk, source's callers of sk): the
 * target's stay in place (summed when the source has them too), the
 * source's others follow in the source's order. */
static int add_callers_here(merger *m, const pstats_stats *src, const pkey *sk, uint32_t tk,
                            int isnew)
{
    pstats_stats *s = m->t;
    uint32_t seq = ++m->seq;
    if (!isnew) {
        const pkey *k = &s->keys[tk];
        for (uint32_t e = k->edge_start; e < k->edge_start + k->nedges; e++) {
            m->stamp[s->edges[e].caller] = seq;
            m->stamp_pos[s->edges[e].caller] = e;
        }
    }
    for (uint32_t e = sk->edge_start; e < sk->edge_start + sk->nedges; e++) {
        const pedge_s *es = &src->edges[e];
        uint32_t caller = m->map[es->caller];
        int have = !isnew && m->stamp[caller] == seq;
        if (have && sum_packed(&s->edges[m->stamp_pos[caller]], es))
            continue;
        pedge ne;
        if (import_edge(m, src, es, &ne))
            return -1;
        if (have) {
            if (sum_edge(s, &s->edges[m->stamp_pos[caller]], &ne))
                return -1;
            continue;
        }
        if (append_edge(m, tk, &ne))
            return -1;
        if (isnew)
            s->keys[tk].nedges++;
        else
            m->regroup = 1;
    }
    return 0;
}

/* New functions (m->order) after the old ones, edges grouped by callee. */
static int put_in_order(merger *m, size_t nstats0, pstats_error *err)
{
    pstats_stats *s = m->t;
    size_t norder = nstats0 + m->norder;
    uint32_t *order = ps_malloc(s, (norder ? norder : 1) * sizeof(uint32_t));
    uint32_t *callee = m->regroup ? ps_malloc(s, (s->nedges ? s->nedges : 1) * sizeof(uint32_t))
                                  : NULL;
    int rc = -1;
    if (order && (callee || !m->regroup)) {
        for (size_t i = 0; i < nstats0; i++)
            order[i] = (uint32_t)i;
        if (m->norder)
            memcpy(order + nstats0, m->order, m->norder * sizeof(uint32_t));
        for (size_t i = 0; callee && i < nstats0; i++) {
            const pkey *k = &s->keys[i];
            for (uint32_t e = k->edge_start; e < k->edge_start + k->nedges; e++)
                callee[e] = (uint32_t)i;
        }
        for (size_t e = m->nedges0; callee && e < s->nedges; e++)
            callee[e] = m->ecallee[e - m->nedges0];
        rc = ps_finalize(s, order, norder, callee, err);
    }
    ps_free(s, order);
    ps_free(s, callee);
    return rc;
}

/* Python's running totals and the rest of add()'s bookkeeping. */
static int add_totals(pstats_stats *s, const pstats_stats *o)
{
    pnum a, b, c;
    if (pn_import(s, o, o->total_calls, &a) || pn_import(s, o, o->prim_calls, &b) ||
        pn_import(s, o, o->total_tt, &c) || pn_add(s, s->total_calls, a, &s->total_calls) ||
        pn_add(s, s->prim_calls, b, &s->prim_calls) || pn_add(s, s->total_tt, c, &s->total_tt))
        return -1;
    if (o->max_name_len > s->max_name_len)
        s->max_name_len = o->max_name_len;
    s->sampled |= o->sampled;
    return copy_inputs(s, o);
}

/* One item of add(*arg_list) into s (m->t), in place. */
static int add_in_place(merger *m, const pstats_stats *src, pstats_error *err)
{
    pstats_stats *s = m->t;
    size_t nstats0 = s->nstats;
    m->nedges0 = s->nedges;
    m->norder = 0;
    m->regroup = 0;
    m->input_base = s->ninputs;
    if (map_keys(m, src))
        return -1;
    for (size_t i = 0; i < src->nstats; i++) {
        const pkey *sk = &src->keys[i];
        uint32_t tk = m->map[i];
        int isnew = !(s->keys[tk].flags & KF_STATS);
        uint64_t v[4];
        uint8_t kinds;
        if (import_nums(m, src, sk->v, sk->kinds, 4, isnew, v, &kinds))
            return -1;
        pkey *k = &s->keys[tk];
        if (isnew) {
            if (ps_grow(s, (void **)&m->order, &m->cap_order, m->norder + 1, sizeof(uint32_t)))
                return -1;
            m->order[m->norder++] = tk;
            memcpy(k->v, v, sizeof v);
            k->kinds = kinds;
            k->flags |= KF_STATS;
            k->edge_start = (uint32_t)s->nedges;
            k->nedges = 0;
        } else if (add4(s, k->v, &k->kinds, v, kinds, 4)) {
            return -1;
        }
        k->flags |= sk->flags & KF_TOP;
        if (add_callers_here(m, src, sk, tk, isnew))
            return -1;
    }
    if (add_totals(s, src))
        return -1;
    ps_drop_views(s);
    if (!m->norder && s->nedges == m->nedges0)
        return 0;
    return put_in_order(m, nstats0, err);
}

/* Build t from sources[0..n) (the first is the target itself); with
 * `strip` or `rename`, its file names changed (one source). */
static int rebuild(pstats_stats *s, pstats_stats *const *srcs, size_t n, int strip,
                   ps_rename_fn rename, void *rename_ctx, pstats_error *err)
{
    pstats_stats *t = pstats_new(&s->alc);
    if (!t) {
        ps_seterr(err, PSTATS_ENOMEM, NULL, 0, 0, "out of memory");
        return -1;
    }
    merger m;
    memset(&m, 0, sizeof m);
    m.t = t;
    m.strip = strip;
    m.rename = rename;
    m.rename_ctx = rename_ctx;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        rc = merge_source(&m, srcs[i], i > 0);
        m.input_base += srcs[i]->ninputs;
    }
    if (rc && (!err || err->code == PSTATS_OK))
        ps_seterr(err, PSTATS_ENOMEM, NULL, 0, 0, "out of memory");
    else if (rc == 0)
        rc = ps_finalize(t, m.order, m.norder, m.ecallee, err);
    merger_free(&m);
    /* Python's running totals: the target's plus each added item's */
    pnum tc = s->total_calls, pc = s->prim_calls, tt = s->total_tt;
    if (rc == 0 && (pn_import(t, s, tc, &tc) || pn_import(t, s, pc, &pc) ||
                    pn_import(t, s, tt, &tt)))
        rc = -1;
    t->max_name_len = s->max_name_len;
    t->py2 = s->py2;
    t->pypy = s->pypy;
    t->sampled = s->sampled;
    for (size_t i = 1; rc == 0 && i < n; i++) {
        const pstats_stats *o = srcs[i];
        pnum a, b, c;
        if (pn_import(t, o, o->total_calls, &a) || pn_import(t, o, o->prim_calls, &b) ||
            pn_import(t, o, o->total_tt, &c) || pn_add(t, tc, a, &tc) ||
            pn_add(t, pc, b, &pc) || pn_add(t, tt, c, &tt))
            rc = -1;
        if (o->max_name_len > t->max_name_len)
            t->max_name_len = o->max_name_len;
        t->sampled |= o->sampled;
    }
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (copy_inputs(t, srcs[i]))
            rc = -1;
    if (rc) {
        if (!err || err->code == PSTATS_OK)
            ps_seterr(err, PSTATS_ENOMEM, NULL, 0, 0, "out of memory");
        pstats_free(t);
        return -1;
    }
    t->total_calls = tc;
    t->prim_calls = pc;
    t->total_tt = tt;
    if (strip || rename)
        ps_compute_max_name(t);
    ps_replace(s, t);
    return 0;
}

/* add() by building a new model from s and the others (for s.add(s)). */
static int add_rebuild(pstats_stats *s, pstats_stats *const *others, size_t n,
                       pstats_error *err)
{
    pstats_stats *stackbuf[16];
    pstats_stats **srcs = n + 1 <= 16 ? stackbuf : ps_malloc(s, (n + 1) * sizeof *srcs);
    if (!srcs) {
        ps_seterr(err, PSTATS_ENOMEM, NULL, 0, 0, "out of memory");
        return -1;
    }
    srcs[0] = s;
    for (size_t i = 0; i < n; i++)
        srcs[1 + i] = others[n - 1 - i]; /* Python walks reversed(arg_list) */
    int rc = rebuild(s, srcs, n + 1, 0, NULL, NULL, err);
    if (srcs != stackbuf)
        ps_free(s, srcs);
    return rc;
}

int pstats_add(pstats_stats *s, pstats_stats *const *others, size_t n, pstats_error *err)
{
    pstats_error local;
    if (!err)
        err = &local;
    memset(err, 0, sizeof *err);
    if (n == 0)
        return 0;
    int no_edges = s->no_edges; /* a model without edges makes one without */
    for (size_t i = 0; i < n; i++)
        no_edges |= others[i]->no_edges;
    for (size_t i = 0; i < n; i++)
        if (others[i] == s) { /* s.add(s): read s while it changes: build anew */
            int rc = add_rebuild(s, others, n, err);
            if (rc == 0)
                s->no_edges = no_edges;
            return rc;
        }
    merger m;
    memset(&m, 0, sizeof m);
    m.t = s;
    int rc = 0;
    for (size_t i = n; rc == 0 && i > 0; i--) /* Python walks reversed(arg_list) */
        rc = add_in_place(&m, others[i - 1], err);
    merger_free(&m);
    if (rc) {
        /* the model may be half merged: leave it empty rather than wrong */
        ps_clear(s);
        if (err->code == PSTATS_OK)
            ps_seterr(err, PSTATS_ENOMEM, NULL, 0, 0, "out of memory");
        return -1;
    }
    s->no_edges = no_edges;
    return 0;
}

int pstats_strip_dirs(pstats_stats *s, pstats_error *err)
{
    pstats_error local;
    if (!err)
        err = &local;
    memset(err, 0, sizeof *err);
    pstats_stats *srcs[1] = {s};
    return rebuild(s, srcs, 1, 1, NULL, NULL, err);
}

int ps_rename_files(pstats_stats *s, ps_rename_fn rename, void *ctx, pstats_error *err)
{
    pstats_error local;
    if (!err)
        err = &local;
    memset(err, 0, sizeof *err);
    pstats_stats *srcs[1] = {s};
    int no_edges = s->no_edges;
    int rc = rebuild(s, srcs, 1, 0, rename, ctx, err);
    if (rc == 0)
        s->no_edges = no_edges;
    return rc;
}
