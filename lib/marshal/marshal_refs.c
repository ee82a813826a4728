/*
 * References: 'r' tokens resolved against the reference table (a scalar is
 * re-read where it was first met, a container handed over as a REF token)
 * and Python 2's interned-string references 'R'.
 */
#include <string.h>

#include "marshal_reader_int.h"

/* -------------------------------------------------------- references */

/* The item count a REF token announces for the object at `off`. */
static size_t target_count(const pymarshal_reader *r, uint64_t e)
{
    size_t off = PM_SLOT_OFFSET(e);
    switch (r->data[off] & 0x7f) {
    case ')': return r->data[off + 1];
    case '(': case '[': case '<': case '>': case '}':
        return (size_t)cm_i32(r->data + off + 1);
    case ':': return 3;
    case 'c': return strlen(pm_code_fields(PM_SLOT_LAYOUT(e)));
    }
    return 0;
}

static int resolve_ref(pymarshal_reader *r, pymarshal_token *tok)
{
    size_t off = tok->offset;
    int32_t idx;
    if (pm_read_i32(r, off, "reference", &idx) < 0)
        return -1;
    const pm_slots *t = r->slots;
    size_t known = r->mode == PM_MODE_REPLAY && (uint64_t)r->vslot < t->n
                       ? (size_t)r->vslot : t->n;
    if (idx < 0 || (size_t)idx >= known)
        return pm_fail(r, PYMARSHAL_EREF, off,
                       "reference to slot %d, but only %zu objects have slots", (int)idx,
                       known);
    uint64_t e = t->e[idx];
    pymarshal_kind kind = PM_SLOT_KIND(e);
    if (!(e & PM_SLOT_FILLED))
        return pm_fail(r, PYMARSHAL_EREF, off,
                       "reference to slot %d, a %s not yet complete", (int)idx,
                       pymarshal_kind_name(kind));
    tok->ref_target = idx;
    if (pm_is_scalar(kind)) {
        tok->via_ref = 'r';
        if (pm_ref_scalar_fast(r, tok, PM_SLOT_OFFSET(e), kind))
            return 0;
        return pm_reread(r, tok, PM_SLOT_OFFSET(e));
    }
    tok->kind = PYMARSHAL_REF;
    tok->target_kind = kind;
    tok->target_offset = PM_SLOT_OFFSET(e);
    tok->count = target_count(r, e);
    if (kind == PYMARSHAL_CODE)
        tok->code_layout = (uint8_t)PM_SLOT_LAYOUT(e);
    return 0;
}

/* A reference; PyPy gives a flagged one a slot of its own, which names the
 * same object (CPython ignores the flag). */
int pm_read_ref(pymarshal_reader *r, pymarshal_token *tok, int flag)
{
    if (resolve_ref(r, tok) < 0)
        return -1;
    if (flag && pm_dialect(r) == PM_PYPY && r->mode == PM_MODE_MAIN) {
        pm_slots *t = r->slots;
        if (cm_reserve(r->alloc, (void **)&t->e, &t->cap, t->n + 1, sizeof *t->e) < 0)
            return pm_fail(r, PYMARSHAL_ENOMEM, tok->offset,
                           "out of memory for the reference table");
        t->e[t->n] = t->e[tok->ref_target];
        tok->ref_slot = (int64_t)t->n++;
    } else if (flag && pm_dialect(r) == PM_PYPY) {
        tok->ref_slot = r->vslot++;
    }
    return 0;
}

int pm_read_interned_ref(pymarshal_reader *r, pymarshal_token *tok)
{
    size_t off = tok->offset;
    int32_t idx;
    if (pm_read_i32(r, off, "string reference", &idx) < 0)
        return -1;
    if (idx < 0 || (size_t)idx >= r->interned->n)
        return pm_fail(r, PYMARSHAL_EREF, off,
                       "string reference %d, but only %zu interned strings precede it",
                       (int)idx, r->interned->n);
    tok->ref_target = idx;
    tok->via_ref = 'R';
    return pm_reread(r, tok, r->interned->e[idx]);
}
