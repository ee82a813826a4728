/*
 * The fast path's builder (pstats_fast.h): a batch of the parser's events
 * into the model, in the order the general loader would build it, so that
 * the ids are the same; in the pipe's thread for big inputs.
 */
#include <string.h>

#include "pstats_fast.h"

static int store_edge(fast *F, const fev *e)
{
    pstats_stats *s = F->s;
    pedge pe;
    pe.caller = F->key_of[e->a];
    pe.kind = e->ekind;
    pe.kinds = e->kinds;
    memcpy(pe.v, e->v, sizeof pe.v);
    if (e->top)
        s->keys[F->callee].flags |= KF_TOP;
    uint32_t prev = F->last[pe.caller];
    if (prev != UINT32_MAX && prev >= F->start) /* a repeated key: the last value counts */
        return pe_put(s, &s->edges[prev], &pe, 1) ? FAST_NOMEM : FAST_DONE;
    if (s->nedges >= UINT32_MAX - 1)
        return FAST_GIVE_UP;
    if (s->nedges == s->cap_edges &&
        ps_grow(s, (void **)&s->edges, &s->cap_edges, s->nedges + 1, sizeof(pedge_s)))
        return FAST_NOMEM;
    if (pe_put(s, &s->edges[s->nedges], &pe, 0))
        return FAST_NOMEM;
    F->last[pe.caller] = (uint32_t)s->nedges++;
    s->keys[F->callee].nedges++;
    return FAST_DONE;
}

static int build_entry(fast *F, const fev *e)
{
    pstats_stats *s = F->s;
    uint32_t id = F->key_of[e->a];
    if (!(s->keys[id].flags & KF_STATS)) {
        if (F->norder == F->cap_order &&
            ps_grow(s, (void **)&F->order, &F->cap_order, F->norder + 1, sizeof(uint32_t)))
            return FAST_NOMEM;
        F->order[F->norder++] = id;
    }
    pkey *k = &s->keys[id];
    memcpy(k->v, e->v, sizeof k->v);
    k->kinds = e->kinds;
    k->flags = (uint8_t)((k->flags & ~KF_TOP) | KF_STATS);
    k->edge_start = F->skip_edges ? 0 : (uint32_t)s->nedges;
    k->nedges = 0;
    F->callee = id;
    F->start = (uint32_t)s->nedges;
    return FAST_DONE;
}

static int build_str(fast *F, const fev *e)
{
    pstats_stats *s = F->s;
    const uint8_t *bytes = (const uint8_t *)(uintptr_t)e->u;
    uint32_t id = ps_intern_h(s, bytes, e->b, 0, 0, e->h); /* copied: the input goes */
    if (id == UINT32_MAX)
        return FAST_NOMEM;
    if (e->a >= F->cap_str_of &&
        ps_grow(s, (void **)&F->str_of, &F->cap_str_of, (size_t)e->a + 1, sizeof(uint32_t)))
        return FAST_NOMEM;
    F->str_of[e->a] = id;
    return FAST_DONE;
}

static int build_key(fast *F, const fev *e)
{
    pstats_stats *s = F->s;
    int isnew;
    uint32_t id;
    if (e->kinds == PSTATS_KEY_CODE) {
        uint32_t code = F->code_of[e->c];
        id = ps_key_h(s, F->str_of[e->b], (int64_t)e->u, code, PSTATS_KEY_CODE,
                      ps_key_hash(e->h, (int64_t)e->u, code, PSTATS_KEY_CODE), &isnew);
    } else {
        id = ps_key_h(s, F->str_of[e->b], (int64_t)e->u, F->str_of[e->c], PSTATS_KEY_FUNC,
                      e->h, &isnew);
    }
    if (id == UINT32_MAX)
        return FAST_NOMEM;
    if (s->nkeys > F->cap_last &&
        ps_grow(s, (void **)&F->last, &F->cap_last, s->nkeys, sizeof(uint32_t)))
        return FAST_NOMEM;
    if (isnew)
        F->last[id] = UINT32_MAX;
    if (e->a >= F->cap_key_of &&
        ps_grow(s, (void **)&F->key_of, &F->cap_key_of, (size_t)e->a + 1, sizeof(uint32_t)))
        return FAST_NOMEM;
    F->key_of[e->a] = id;
    return FAST_DONE;
}

/* A code object of a key, as the general loader's get_code makes it. */
static int build_code(fast *F, const fev *e)
{
    pstats_stats *s = F->s;
    pcode c;
    memset(&c, 0, sizeof c);
    c.name = F->str_of[e->c];
    c.filename = F->str_of[e->b];
    c.firstlineno = (int64_t)e->u;
    c.digest = e->v[1];
    c.layout = (uint8_t)e->v[2];
    uint32_t id = ps_code(s, &c);
    if (id == UINT32_MAX)
        return FAST_NOMEM;
    if (e->a >= F->cap_code_of &&
        ps_grow(s, (void **)&F->code_of, &F->cap_code_of, (size_t)e->a + 1, sizeof(uint32_t)))
        return FAST_NOMEM;
    F->code_of[e->a] = id;
    return FAST_DONE;
}

/* Read, in two tight loops before the batch is built, the hash slots its
 * string and key lookups will read and the keys those slots name: the
 * loads do not depend on each other, so the processor has many cache
 * misses in flight at once instead of one per lookup (software
 * prefetches, tried first, made no difference on this VM). Returns what it
 * read, to keep it. */
static uint64_t touch_keys(const fast *F, const fev *ev, size_t n)
{
    const pstats_stats *s = F->s;
    uint64_t acc = 0;
    if (!s->key_slots)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (ev[i].op == EV_KEY)
            acc += s->key_slots[ev[i].h & s->key_mask];
        else if (ev[i].op == EV_STR && s->str_slots)
            acc += s->str_slots[ev[i].h & s->str_mask];
    }
    for (size_t i = 0; i < n; i++) {
        if (ev[i].op != EV_KEY)
            continue;
        uint64_t v = s->key_slots[ev[i].h & s->key_mask];
        if (v && (uint32_t)(v >> 32) == ev[i].h && (uint32_t)v - 1 < s->nkeys)
            acc += (uint64_t)s->keys[(uint32_t)v - 1].line;
    }
    return acc;
}

/* Build a batch of events into the model, in order (in the pipe's
 * thread when there is one). */
int ps_fast_build_batch(void *ctx, const void *batch, size_t n)
{
    fast *F = ctx;
    const fev *ev = batch;
    int rc = FAST_DONE;
    ps_keep(touch_keys(F, ev, n));
    for (size_t i = 0; i < n && rc == FAST_DONE; i++) {
        const fev *e = &ev[i];
        switch (e->op) {
        case EV_STR: rc = build_str(F, e); break;
        case EV_KEY: rc = build_key(F, e); break;
        case EV_ENTRY: rc = build_entry(F, e); break;
        case EV_EDGE: rc = store_edge(F, e); break;
        case EV_CODE: rc = build_code(F, e); break;
        default: F->s->keys[F->callee].flags |= KF_TOP; break;
        }
    }
    return rc;
}

/* Hand the full batch to the builder: to the pipe's thread, or inline. */
int ps_fast_flush(fast *F)
{
    int rc;
    if (F->pipe) {
        F->ev = ps_pipe_swap(F->pipe, F->nev, (size_t)(F->p - F->base), &rc);
    } else {
        rc = ps_fast_build_batch(F, F->ev, F->nev);
        F->flushed = (size_t)(F->p - F->base);
    }
    F->nev = 0;
    return rc;
}

/* A fresh event of kind op at the end of the batch (handed over first if
 * full). */
int ps_fast_emit(fast *F, uint8_t op, fev **out)
{
    int rc;
    if (F->nev == BATCH && (rc = ps_fast_flush(F)))
        return rc;
    *out = &F->ev[F->nev++];
    (*out)->op = op;
    return FAST_DONE;
}
