/*
 * The fast path's parser (pstats_fast.h): strings and the reference
 * table. A string read is an occurrence; the builder interns those a key
 * needs, at the point of the order where the general loader would.
 */
#include <string.h>

#include "common.h"
#include "pstats_fast.h"

/* Are n bytes there at F->p? Read more of the input if it has them. */
int ps_fast_more(fast *F, size_t n)
{
    (void)ps_in_need(F->in, (size_t)(F->p - F->base) + n);
    F->end = F->base + F->in->avail;
    return (size_t)(F->end - F->p) >= n;
}

/* A new FLAG_REF slot holding w; its index in *at. */
int ps_fast_add_ref(fast *F, uint32_t w, size_t *at)
{
    if (F->nrefs >= INT32_MAX)
        return FAST_GIVE_UP;
    if (F->nrefs == F->cap_refs &&
        ps_grow(F->s, (void **)&F->refs, &F->cap_refs, F->nrefs + 1, sizeof(uint32_t)))
        return FAST_NOMEM;
    *at = F->nrefs;
    F->refs[F->nrefs++] = w;
    return FAST_DONE;
}

int ps_fast_add_num_ref(fast *F, pnum n)
{
    size_t at;
    if (F->nnums > VAL_MASK)
        return FAST_GIVE_UP;
    if (F->nnums == F->cap_nums &&
        ps_grow(F->s, (void **)&F->nums, &F->cap_nums, F->nnums + 1, sizeof(pnum)))
        return FAST_NOMEM;
    F->nums[F->nnums] = n;
    return ps_fast_add_ref(F, word(T_NUM, (uint32_t)F->nnums++), &at);
}

/* The word of table[0..n) that the 4-byte index after F->p's code names,
 * consumed; NULL when there is no such word. */
static uint32_t *indexed(fast *F, uint32_t *table, size_t n)
{
    if (!left(F, 5))
        return NULL;
    int32_t idx = cm_i32(F->p + 1);
    if (idx < 0 || (size_t)idx >= n)
        return NULL;
    F->p += 5;
    return &table[idx];
}

/* The slot an 'r' at F->p names. */
uint32_t *ps_fast_ref_at(fast *F) { return indexed(F, F->refs, F->nrefs); }

/* The Python 2 interned-list word an 'R' at F->p names. */
static uint32_t *interned_at(fast *F)
{
    uint32_t *w = indexed(F, F->interned, F->ninterned);
    if (w)
        F->py2_keys = 1;
    return w;
}

/* ------------------------------------------------------------- strings */

/* The string object at F->p (not a reference): its bytes, checked as the
 * general reader checks them; F->p stays. 0, or FAST_GIVE_UP. */
int ps_fast_view_at(fast *F, sview *v)
{
    if (!left(F, 2))
        return FAST_GIVE_UP;
    size_t hdr;
    v->code = F->p[0] & 0x7f;
    switch (v->code) {
    case 'z': case 'Z':
        v->len = F->p[1];
        hdr = 2;
        break;
    case 'a': case 'A': case 'u': case 't': case 's': {
        if (!left(F, 5))
            return FAST_GIVE_UP;
        int32_t n = cm_i32(F->p + 1);
        if (n < 0)
            return FAST_GIVE_UP;
        v->len = (size_t)n;
        hdr = 5;
        break;
    }
    default:
        return FAST_GIVE_UP;
    }
    if (!left(F, hdr + v->len))
        return FAST_GIVE_UP;
    v->p = F->p + hdr;
    if (cm_ascii(v->p, v->len))
        return FAST_DONE;
    size_t bad;
    switch (v->code) {
    case 'u': /* invalid: the general reader's error */
        return cm_utf8_valid(v->p, v->len, &bad) ? FAST_DONE : FAST_GIVE_UP;
    case 'a': case 'A': case 'z': case 'Z': /* Latin-1: converted by the general loader */
        return FAST_GIVE_UP;
    case 't': /* Python 2: a byte string that is not UTF-8 */
        if (!cm_utf8_valid(v->p, v->len, &bad))
            v->code = 's';
        return FAST_DONE;
    default:
        return FAST_DONE;
    }
}

/* OF_JPROFILE or OF_PROFILER when the string is one of the two names of
 * cProfile's top-level caller ('jprofile', 0, 'profiler'), else 0. */
static uint32_t top_flags(const sview *v)
{
    if (v->len != 8)
        return 0;
    return memcmp(v->p, "jprofile", 8) == 0 ? OF_JPROFILE
           : memcmp(v->p, "profiler", 8) == 0 ? OF_PROFILER : 0;
}

/* len, then the bytes, copied aside; NULL out of memory. */
const uint8_t *ps_fast_side_copy(fast *F, const uint8_t *p, size_t len)
{
    size_t need = 4 + len;
    side_blk *b = F->side;
    if (!b || b->cap - b->used < need) {
        size_t cap = need > 65536 ? need : 65536;
        if (!(b = ps_malloc(F->s, sizeof *b + cap)))
            return NULL;
        b->next = F->side;
        b->used = 0;
        b->cap = cap;
        F->side = b;
    }
    uint8_t *dst = (uint8_t *)(b + 1) + b->used;
    uint32_t n = (uint32_t)len;
    memcpy(dst, &n, 4);
    memcpy(dst + 4, p, len);
    b->used += need;
    return dst;
}

/* A new string occurrence for the view v; one not interned now keeps a
 * copy of its bytes, for a reference that may intern it later. */
int ps_fast_new_occ(fast *F, const sview *v, int intern, uint32_t *occ)
{
    if (F->nocc > VAL_MASK || v->len > UINT32_MAX)
        return FAST_GIVE_UP;
    if (F->nocc == F->cap_occ &&
        ps_grow(F->s, (void **)&F->occ, &F->cap_occ, F->nocc + 1, sizeof(socc)))
        return FAST_NOMEM;
    if (v->code == 's')
        F->py2_keys = 1;
    socc *o = &F->occ[F->nocc];
    o->copy = NULL;
    if (!intern && !(o->copy = ps_fast_side_copy(F, v->p, v->len)))
        return FAST_NOMEM;
    o->hash = ps_str_hash(v->p, v->len);
    o->flags = top_flags(v);
    *occ = (uint32_t)F->nocc++;
    return FAST_DONE;
}

/* Have the builder intern occurrence occ (whose bytes v shows) at this
 * point of the order: where the general loader would intern it. */
int ps_fast_intern_occ(fast *F, uint32_t occ, const sview *v)
{
    fev *e;
    int rc;
    if (v->len > UINT32_MAX)
        return FAST_GIVE_UP;
    if ((rc = ps_fast_emit(F, EV_STR, &e)))
        return rc;
    socc *o = &F->occ[occ];
    o->flags |= OF_INTERNED;
    e->a = occ;
    e->b = (uint32_t)v->len;
    e->h = o->hash;
    e->u = (uint64_t)(uintptr_t)v->p;
    return FAST_DONE;
}

/* The same for an occurrence met again through a reference (once). */
int ps_fast_need_str(fast *F, uint32_t occ)
{
    const socc *o = &F->occ[occ];
    if (o->flags & OF_INTERNED)
        return FAST_DONE;
    uint32_t n;
    memcpy(&n, o->copy, 4);
    sview v = {o->copy + 4, n, 0};
    return ps_fast_intern_occ(F, occ, &v);
}

/* Record a string object just read: its FLAG_REF slot and, for 't', its
 * place in Python 2's interned list. */
int ps_fast_note_str(fast *F, uint8_t first, uint32_t w)
{
    size_t at;
    if ((first & 0x7f) == 't') {
        if (F->ninterned == F->cap_interned &&
            ps_grow(F->s, (void **)&F->interned, &F->cap_interned, F->ninterned + 1,
                    sizeof(uint32_t)))
            return FAST_NOMEM;
        F->interned[F->ninterned++] = w;
    }
    return (first & 0x80) ? ps_fast_add_ref(F, w, &at) : FAST_DONE;
}

/* A string item: its occurrence in *occ. `intern`: the builder interns it
 * now (a key's string); else it is only looked at (the callers of
 * --stats), and interned later if a reference needs it. An item neither
 * interned nor nameable again gets no occurrence: *occ is UINT32_MAX and
 * *flags says what it is. */
int ps_fast_read_str(fast *F, int intern, uint32_t *occ, uint32_t *flags)
{
    if (!left(F, 1))
        return FAST_GIVE_UP;
    uint8_t first = F->p[0];
    if (first == 'r' || first == 'R') {
        uint32_t *w = first == 'r' ? ps_fast_ref_at(F) : interned_at(F);
        if (!w || tag_of(*w) != T_STR)
            return FAST_GIVE_UP;
        *occ = *w & VAL_MASK;
        *flags = F->occ[*occ].flags;
        return intern ? ps_fast_need_str(F, *occ) : FAST_DONE;
    }
    sview v;
    int rc = ps_fast_view_at(F, &v);
    if (rc)
        return rc;
    *occ = UINT32_MAX;
    if (intern || (first & 0x80) || (first & 0x7f) == 't') {
        if ((rc = ps_fast_new_occ(F, &v, intern, occ)) || (intern && (rc = ps_fast_intern_occ(F, *occ, &v))) ||
            (rc = ps_fast_note_str(F, first, word(T_STR, *occ))))
            return rc;
        *flags = F->occ[*occ].flags;
    } else {
        if (v.code == 's')
            F->py2_keys = 1;
        *flags = top_flags(&v);
    }
    F->p = v.p + v.len;
    return FAST_DONE;
}
