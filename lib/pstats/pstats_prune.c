/*
 * pstats_prune(): leave the negligible functions of a huge profile out
 * while keeping every total exact (docs/graphs.md, "Pruning").
 *   - T = max(total tottime, every cumtime), as gprof2dot; a function is
 *     kept when cumtime / T >= the node threshold, a call from a kept
 *     function to a kept function when its time / T >= the edge threshold
 *     or when it calls itself (recursion is no other function)
 *     (a call's time: its cumtime; for the profile module's bare counts,
 *     the callee's cumtime times the caller's share of its calls);
 *   - each kept function C whose calls were folded (to left-out functions,
 *     or below the edge threshold) calls one new function "[other] NAME"
 *     (C's file and line, NAME its name) instead, the folded calls summed
 *     into that one call;
 *   - the left-out functions' tottime and call counts are handed up to
 *     their callers in proportion to the calls' times (a recursive group of
 *     left-out functions as one), through left-out callers, until they
 *     reach a kept caller, whose "[other]" gets them as its own tottime and
 *     counts (counts rounded so that they add up); what reaches no kept
 *     caller goes to one "[other]" function that nobody calls;
 *   - kept functions keep their numbers and the calls between them theirs;
 *     the profile's totals stay; so does the sum of all tottimes.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pstats_internal.h"

#define NONE UINT32_MAX

typedef struct pruner {
    const pstats_stats *s;
    pstats_stats *t;
    size_t n;
    double total, node_thres, edge_thres;
    unsigned char *kept;
    double *mass;             /* left out: tottime handed up to it; kept: its [other]'s */
    double *mcalls;           /* the same for nc and cc (2 per key) */
    int64_t *ocalls;          /* kept: its [other]'s nc and cc, rounded (2 per key + root) */
    double *otime;            /* kept: the time of its folded calls */
    pedge *acc;               /* kept: its folded calls summed (numbers of t) */
    unsigned char *has_acc;
    double root_mass, root_calls[2];
    uint32_t *map;            /* s key -> t key */
    uint32_t *order; size_t norder, cap_order;
    uint32_t *ecallee; size_t cap_ecallee;
} pruner;

static double num(const pstats_stats *s, const pkey *k, int field)
{
    return pn_double(s, pn_get(k->v, k->kinds, field));
}

static double share(double a, double b)
{
    if (b == 0.0)
        return 1.0;
    double r = a / b;
    return r < 0.0 ? 0.0 : r > 1.0 ? 1.0 : r;
}

/* The calls of f's callers other than f itself (doubles: Python's float()). */
static double outer_calls(const pstats_stats *s, uint32_t f)
{
    const pkey *k = &s->keys[f];
    double sum = 0.0;
    for (uint32_t i = k->edge_start; i < k->edge_start + k->nedges; i++) {
        pedge e;
        pe_get(s, &s->edges[i], &e);
        if (e.caller != f)
            sum += pn_double(s, pn_get(e.v, e.kinds, 0));
    }
    return sum;
}

/* The time of the stored edge e into callee f, and its call count. */
static double call_time(const pstats_stats *s, const pedge *e, uint32_t f, double *count)
{
    double t;
    *count = pn_double(s, pn_get(e->v, e->kinds, 0));
    if (e->kind == PSTATS_EDGE_TUPLE)
        t = pn_double(s, pn_get(e->v, e->kinds, 3));
    else if (e->caller == f || f >= s->nstats)
        t = 0.0;
    else
        t = share(*count, outer_calls(s, f)) * num(s, &s->keys[f], 3);
    if (!(*count > 0.0))
        *count = 0.0;
    return t > 0.0 ? t : 0.0;
}

double pstats_call_time(const pstats_stats *s, const pstats_edge *e)
{
    if (!s || !e || e->callee >= s->nkeys)
        return 0.0;
    double t;
    if (e->kind == PSTATS_EDGE_TUPLE)
        t = e->ct;
    else if (e->caller == e->callee || e->callee >= s->nstats)
        t = 0.0;
    else
        t = share((double)e->cc, outer_calls(s, e->callee)) * num(s, &s->keys[e->callee], 3);
    return t > 0.0 ? t : 0.0;
}

/* ------------------------------------------------------- what is kept */

static void choose(pruner *p)
{
    const pstats_stats *s = p->s;
    double total = pn_double(s, s->total_tt);
    for (size_t i = 0; i < s->nstats; i++) {
        double ct = num(s, &s->keys[i], 3);
        if (ct > total)
            total = ct;
    }
    p->total = total;
    for (size_t i = 0; i < p->n; i++)
        p->kept[i] = !(share(i < s->nstats ? num(s, &s->keys[i], 3) : 0.0, total) < p->node_thres);
}

static int import_edge(pruner *p, const pedge *e, pedge *out)
{
    *out = *e;
    for (int f = 0; f < (e->kind == PSTATS_EDGE_INT ? 1 : 4); f++) {
        pnum a;
        if (pn_import(p->t, p->s, pn_get(e->v, e->kinds, f), &a))
            return -1;
        pn_set(out->v, &out->kinds, f, a);
    }
    return 0;
}

static void to_tuple(pedge *e)
{
    if (e->kind == PSTATS_EDGE_TUPLE)
        return;
    pnum n = pn_get(e->v, e->kinds, 0);
    pn_set(e->v, &e->kinds, 1, n);
    pn_set(e->v, &e->kinds, 2, pn_float(0.0));
    pn_set(e->v, &e->kinds, 3, pn_float(0.0));
    e->kind = PSTATS_EDGE_TUPLE;
}

/* acc[c] += e (numbers of t). */
static int fold_call(pruner *p, uint32_t c, const pedge *e, double time)
{
    pedge x;
    if (import_edge(p, e, &x))
        return -1;
    p->otime[c] += time;
    if (!p->has_acc[c]) {
        p->acc[c] = x;
        p->has_acc[c] = 1;
        return 0;
    }
    pedge *a = &p->acc[c];
    if (a->kind != x.kind) {
        to_tuple(a);
        to_tuple(&x);
    }
    for (int f = 0; f < (a->kind == PSTATS_EDGE_INT ? 1 : 4); f++) {
        pnum r;
        if (pn_add(p->t, pn_get(a->v, a->kinds, f), pn_get(x.v, x.kinds, f), &r))
            return -1;
        pn_set(a->v, &a->kinds, f, r);
    }
    return 0;
}

/* Every call from a kept function that is not kept goes to acc. */
static int fold_calls(pruner *p)
{
    const pstats_stats *s = p->s;
    for (uint32_t f = 0; f < s->nstats; f++) {
        const pkey *k = &s->keys[f];
        for (uint32_t i = k->edge_start; i < k->edge_start + k->nedges; i++) {
            pedge e;
            double count;
            pe_get(s, &s->edges[i], &e);
            if (!p->kept[e.caller])
                continue;
            double time = call_time(s, &e, f, &count);
            if (p->kept[f] && (e.caller == f || !(share(time, p->total) < p->edge_thres)))
                continue;
            if (fold_call(p, e.caller, &e, time))
                return -1;
        }
    }
    return 0;
}

/* ------------------------------------------ handing tottime up to callers */

/* The weight of the call e into an SCC member: kind 0 time, 1 count, 2 one. */
static double weight(const pstats_stats *s, const pedge *e, uint32_t m, int kind)
{
    double count, time = call_time(s, e, m, &count);
    return kind == 0 ? time : kind == 1 ? count : 1.0;
}

/* Hands the tottime and counts of the component members[0..n) (and what
 * they received) to its callers outside it. */
static void hand_up(pruner *p, const uint32_t *comp, const uint32_t *members, size_t n)
{
    const pstats_stats *s = p->s;
    uint32_t cm = comp[members[0]];
    double m = 0.0, calls[2] = {0, 0}, w[3] = {0, 0, 0};
    for (size_t i = 0; i < n; i++) {
        uint32_t f = members[i];
        const pkey *k = &s->keys[f];
        if (f < s->nstats) {
            double tt = num(s, k, 2);
            m += tt > 0.0 ? tt : 0.0;
            for (int j = 0; j < 2; j++) {
                double x = num(s, k, 1 - j); /* nc, cc */
                calls[j] += x > 0.0 ? x : 0.0;
            }
        }
        m += p->mass[f];
        calls[0] += p->mcalls[2 * f];
        calls[1] += p->mcalls[2 * f + 1];
        for (uint32_t j = k->edge_start; j < k->edge_start + k->nedges; j++) {
            pedge e;
            pe_get(s, &s->edges[j], &e);
            if (comp[e.caller] != cm)
                for (int kind = 0; kind < 3; kind++)
                    w[kind] += weight(s, &e, f, kind);
        }
    }
    int kind = w[0] > 0.0 ? 0 : w[1] > 0.0 ? 1 : w[2] > 0.0 ? 2 : -1;
    if (kind < 0) {
        p->root_mass += m;
        p->root_calls[0] += calls[0];
        p->root_calls[1] += calls[1];
        return;
    }
    for (size_t i = 0; i < n; i++) {
        uint32_t f = members[i];
        const pkey *k = &s->keys[f];
        for (uint32_t j = k->edge_start; j < k->edge_start + k->nedges; j++) {
            pedge e;
            pe_get(s, &s->edges[j], &e);
            if (comp[e.caller] != cm) {
                double part = weight(s, &e, f, kind) / w[kind];
                p->mass[e.caller] += m * part;
                p->mcalls[2 * e.caller] += calls[0] * part;
                p->mcalls[2 * e.caller + 1] += calls[1] * part;
            }
        }
    }
}

/* The left-out functions' components (pstats_components: callees first, so
 * a component has received everything before it hands up), in order. */
static int hand_up_all(pruner *p)
{
    size_t n1 = p->n ? p->n : 1;
    unsigned char *out = ps_malloc(p->t, n1);
    uint32_t *comp = ps_malloc(p->t, n1 * sizeof(uint32_t));
    uint32_t *members = ps_malloc(p->t, n1 * sizeof(uint32_t));
    size_t *start = NULL;
    int64_t ncomp = -1;
    if (out && comp && members) {
        for (size_t i = 0; i < p->n; i++)
            out[i] = !p->kept[i];
        ncomp = pstats_components(p->s, out, comp, NULL);
    }
    if (ncomp >= 0)
        start = ps_malloc(p->t, ((size_t)ncomp + 2) * sizeof(size_t));
    if (start) {
        memset(start, 0, ((size_t)ncomp + 2) * sizeof(size_t));
        for (size_t i = 0; i < p->n; i++)
            if (comp[i] != PSTATS_NO_COMPONENT)
                start[comp[i] + 2]++;
        for (size_t c = 2; c < (size_t)ncomp + 2; c++)
            start[c] += start[c - 1];
        for (uint32_t i = 0; i < p->n; i++) /* start[c + 1] runs as c's cursor */
            if (comp[i] != PSTATS_NO_COMPONENT)
                members[start[comp[i] + 1]++] = i;
        for (size_t c = 0; c < (size_t)ncomp; c++)
            hand_up(p, comp, members + start[c], start[c + 1] - start[c]);
    }
    int rc = start ? 0 : -1;
    ps_free(p->t, out);
    ps_free(p->t, comp);
    ps_free(p->t, members);
    ps_free(p->t, start);
    return rc;
}

/* The [other] functions' call counts as integers that add up to the
 * rounded sum of what they received (largest remainders round up). */
typedef struct frac {
    double rest;
    uint32_t slot;
} frac;

static int frac_cmp(const void *a, const void *b)
{
    const frac *x = a, *y = b;
    if (x->rest != y->rest)
        return x->rest > y->rest ? -1 : 1;
    return x->slot < y->slot ? -1 : x->slot > y->slot;
}

static int round_calls(pruner *p)
{
    size_t n = p->n + 1; /* slot n: the root [other] */
    frac *fr = ps_malloc(p->t, n * sizeof *fr);
    if (!fr)
        return -1;
    for (int j = 0; j < 2; j++) {
        double sum = 0.0, floors = 0.0;
        size_t nf = 0;
        for (size_t i = 0; i < n; i++) {
            double x = i < p->n ? (p->has_acc[i] ? p->mcalls[2 * i + j] : 0.0) : p->root_calls[j];
            double fl = floor(x);
            sum += x;
            floors += fl;
            p->ocalls[2 * i + j] = (int64_t)fl;
            if (x > fl) {
                fr[nf].rest = x - fl;
                fr[nf++].slot = (uint32_t)i;
            }
        }
        if (nf > 1)
            qsort(fr, nf, sizeof *fr, frac_cmp);
        double extra = floor(sum + 0.5) - floors;
        for (size_t k = 0; k < nf && extra >= 1.0; k++, extra -= 1.0)
            p->ocalls[2 * fr[k].slot + j]++;
    }
    ps_free(p->t, fr);
    return 0;
}

/* ------------------------------------------------------ the new model */

static uint32_t import_string(pruner *p, uint32_t id)
{
    const pstr *q = &p->s->strs[id];
    return ps_intern(p->t, q->p, q->len, 0, 0);
}

/* The key f of s in t (its numbers and flags copied once). */
static uint32_t import_key(pruner *p, uint32_t f)
{
    if (p->map[f] != NONE)
        return p->map[f];
    const pstats_stats *s = p->s;
    const pkey *k = &s->keys[f];
    uint32_t file = import_string(p, k->file), name;
    if (file == NONE)
        return NONE;
    if (k->kkind == PSTATS_KEY_CODE) {
        const pcode *c = &s->codes[k->name];
        uint32_t cn = import_string(p, c->name), cf = import_string(p, c->filename);
        if (cn == NONE || cf == NONE)
            return NONE;
        pcode nc = *c; /* the same model's inputs: digest and identity stay */
        nc.name = cn;
        nc.filename = cf;
        name = ps_code(p->t, &nc);
    } else {
        name = import_string(p, k->name);
    }
    int isnew;
    uint32_t id = name == NONE ? NONE : ps_key(p->t, file, k->line, name, k->kkind, &isnew);
    if (id == NONE)
        return NONE;
    pkey *tk = &p->t->keys[id];
    tk->flags = k->flags & KF_TOP;
    for (int i = 0; i < 4; i++) {
        pnum a;
        if (pn_import(p->t, s, pn_get(k->v, k->kinds, i), &a))
            return NONE;
        pn_set(tk->v, &tk->kinds, i, a);
    }
    return p->map[f] = id;
}

/* A new key "[other] NAME" at (file, line) of c (c NONE: "[other]" at
 * ('~', 0)), made unique with " (2)", " (3)"... should the profile have
 * such a name already. */
static uint32_t other_key(pruner *p, uint32_t c)
{
    const pstats_stats *s = p->s;
    psb b;
    psb_init(&b, p->t);
    uint32_t file;
    int64_t line = 0;
    if (c == NONE) {
        file = ps_intern(p->t, (const uint8_t *)"~", 1, 0, 0);
        psb_puts(&b, "[other]");
    } else {
        const pkey *k = &s->keys[c];
        const pstr *n = &s->strs[k->kkind == PSTATS_KEY_CODE ? s->codes[k->name].name : k->name];
        file = import_string(p, k->file);
        line = k->line;
        psb_puts(&b, "[other] ");
        psb_put(&b, n->p, n->len);
    }
    size_t base = b.len;
    uint32_t id = NONE;
    for (int i = 1; i < 100 && !b.oom && file != NONE; i++) {
        char suffix[16];
        b.len = base;
        if (i > 1) {
            snprintf(suffix, sizeof suffix, " (%d)", i);
            psb_puts(&b, suffix);
        }
        uint32_t name = b.oom ? NONE : ps_intern(p->t, (const uint8_t *)b.p, b.len, 0, 0);
        int isnew = 0;
        id = name == NONE ? NONE : ps_key(p->t, file, line, name, PSTATS_KEY_FUNC, &isnew);
        if (id == NONE || isnew)
            break;
        id = NONE;
    }
    psb_free(&b);
    return id;
}

static int add_order(pruner *p, uint32_t id)
{
    if (ps_grow(p->t, (void **)&p->order, &p->cap_order, p->norder + 1, sizeof(uint32_t)))
        return -1;
    p->order[p->norder++] = id;
    return 0;
}

static int add_edge(pruner *p, uint32_t callee, const pedge *e)
{
    pstats_stats *t = p->t;
    if (t->nedges >= UINT32_MAX - 1 ||
        ps_grow(t, (void **)&t->edges, &t->cap_edges, t->nedges + 1, sizeof(pedge_s)) ||
        ps_grow(t, (void **)&p->ecallee, &p->cap_ecallee, t->nedges + 1, sizeof(uint32_t)) ||
        pe_put(t, &t->edges[t->nedges], e, 0))
        return -1;
    p->ecallee[t->nedges++] = callee;
    return 0;
}

/* The [other] function of kept c: its numbers and the one call to it. */
static int add_other(pruner *p, uint32_t c)
{
    uint32_t o = other_key(p, c);
    if (o == NONE || add_order(p, o))
        return -1;
    pkey *k = &p->t->keys[o];
    double tt = c == NONE ? p->root_mass : p->mass[c];
    double ct = c == NONE ? tt : p->otime[c] > tt ? p->otime[c] : tt;
    size_t slot = c == NONE ? p->n : c;
    pn_set(k->v, &k->kinds, 0, pn_int(p->ocalls[2 * slot + 1])); /* cc */
    pn_set(k->v, &k->kinds, 1, pn_int(p->ocalls[2 * slot]));     /* nc */
    pn_set(k->v, &k->kinds, 2, pn_float(tt));
    pn_set(k->v, &k->kinds, 3, pn_float(ct));
    if (c == NONE)
        return 0;
    pedge e = p->acc[c];
    e.caller = p->map[c];
    return add_edge(p, o, &e);
}

/* The kept keys in dict order, each [other] right after its caller; the
 * kept calls in their order; the totals, inputs and flags of s. */
static int build(pruner *p)
{
    const pstats_stats *s = p->s;
    pstats_stats *t = p->t;
    for (uint32_t f = 0; f < s->nstats; f++) {
        if (!p->kept[f])
            continue;
        if (import_key(p, f) == NONE || add_order(p, p->map[f]))
            return -1;
        const pkey *k = &s->keys[f];
        for (uint32_t i = k->edge_start; i < k->edge_start + k->nedges; i++) {
            pedge e, x;
            double count;
            pe_get(s, &s->edges[i], &e);
            if (!p->kept[e.caller] ||
                (e.caller != f && share(call_time(s, &e, f, &count), p->total) < p->edge_thres))
                continue;
            if (import_key(p, e.caller) == NONE || import_edge(p, &e, &x))
                return -1;
            x.caller = p->map[e.caller];
            if (add_edge(p, p->map[f], &x))
                return -1;
        }
        if (p->has_acc[f] && add_other(p, f))
            return -1;
    }
    for (uint32_t c = (uint32_t)s->nstats; c < p->n; c++) /* callers only */
        if (p->has_acc[c] && (import_key(p, c) == NONE || add_other(p, c)))
            return -1;
    if ((p->root_mass > 0.0 || p->ocalls[2 * p->n] || p->ocalls[2 * p->n + 1]) &&
        add_other(p, NONE))
        return -1;
    if (pn_import(t, s, s->total_calls, &t->total_calls) ||
        pn_import(t, s, s->prim_calls, &t->prim_calls) ||
        pn_import(t, s, s->total_tt, &t->total_tt))
        return -1;
    for (size_t i = 0; i < s->ninputs; i++)
        if (ps_add_input(t, s->inputs[i].name, s->inputs[i].mtime, s->inputs[i].has_mtime))
            return -1;
    t->py2 = s->py2;
    t->pypy = s->pypy;
    t->sampled = s->sampled;
    return 0;
}

static void pruner_free(pruner *p)
{
    pstats_stats *t = p->t;
    ps_free(t, p->kept);
    ps_free(t, p->mass);
    ps_free(t, p->mcalls);
    ps_free(t, p->ocalls);
    ps_free(t, p->otime);
    ps_free(t, p->acc);
    ps_free(t, p->has_acc);
    ps_free(t, p->map);
    ps_free(t, p->order);
    ps_free(t, p->ecallee);
}

int pstats_prune(pstats_stats *s, double node_pct, double edge_pct, pstats_error *err)
{
    pstats_error local;
    if (!err)
        err = &local;
    memset(err, 0, sizeof *err);
    if (!s || !(node_pct >= 0.0) || !(edge_pct >= 0.0)) {
        ps_seterr(err, PSTATS_EUSAGE, NULL, 0, 0, "pstats_prune: no model or a bad threshold");
        return -1;
    }
    if (ps_need_edges(s, "pstats_prune", err))
        return -1;
    pruner p;
    memset(&p, 0, sizeof p);
    p.s = s;
    p.n = s->nkeys;
    p.node_thres = node_pct / 100.0;
    p.edge_thres = edge_pct / 100.0;
    p.t = pstats_new(&s->alc);
    if (!p.t) {
        ps_seterr(err, PSTATS_ENOMEM, NULL, 0, 0, "out of memory");
        return -1;
    }
    size_t n1 = p.n ? p.n : 1;
    p.kept = ps_malloc(p.t, n1);
    p.mass = ps_malloc(p.t, n1 * sizeof(double));
    p.mcalls = ps_malloc(p.t, 2 * n1 * sizeof(double));
    p.ocalls = ps_malloc(p.t, 2 * (n1 + 1) * sizeof(int64_t));
    p.otime = ps_malloc(p.t, n1 * sizeof(double));
    p.acc = ps_malloc(p.t, n1 * sizeof(pedge));
    p.has_acc = ps_malloc(p.t, n1);
    p.map = ps_malloc(p.t, n1 * sizeof(uint32_t));
    int rc = p.kept && p.mass && p.mcalls && p.ocalls && p.otime && p.acc && p.has_acc && p.map ? 0 : -1;
    if (rc == 0) {
        memset(p.mass, 0, n1 * sizeof(double));
        memset(p.mcalls, 0, 2 * n1 * sizeof(double));
        memset(p.otime, 0, n1 * sizeof(double));
        memset(p.has_acc, 0, n1);
        for (size_t i = 0; i < p.n; i++)
            p.map[i] = NONE;
        choose(&p);
        rc = fold_calls(&p);
    }
    if (rc == 0)
        rc = hand_up_all(&p);
    if (rc == 0)
        rc = round_calls(&p);
    if (rc == 0)
        rc = build(&p);
    if (rc == 0)
        rc = ps_finalize(p.t, p.order, p.norder, p.ecallee, err);
    pruner_free(&p);
    if (rc != 0) {
        pstats_free(p.t);
        if (err->code == PSTATS_OK)
            ps_seterr(err, PSTATS_ENOMEM, NULL, 0, 0, "out of memory");
        return -1;
    }
    ps_compute_max_name(p.t);
    ps_replace(s, p.t);
    return 0;
}
