/*
 * The reader's lifetime: the options naming a Python, creating a reader,
 * replaying a referenced container, freeing.
 */
#include <stdio.h>
#include <string.h>

#include "marshal_reader_int.h"

/* ----------------------------------------------------------- lifetime */

/* PyPy 7.3 loads 4 900 nested containers around a leaf, not 4 901. */
#define PM_PYPY_MAX_DEPTH 4901u

int pymarshal_options_set_python(pymarshal_options *opts, const char *name)
{
    if (!opts || !name)
        return -1;
    if (strcmp(name, "pypy") == 0 || strcmp(name, "pypy3") == 0) {
        opts->python = PYMARSHAL_PY_PYPY;
        opts->python_version = 309;
        return 0;
    }
    if (strcmp(name, "auto") == 0) {
        opts->python = PYMARSHAL_PY_AUTO;
        opts->python_version = 0;
        return 0;
    }
    unsigned major = 0, minor = 0;
    int n = 0;
    if (sscanf(name, "%u%n", &major, &n) != 1 || (major != 2 && major != 3))
        return -1;
    if (name[n] == '.') {
        int m = 0;
        if (sscanf(name + n + 1, "%u%n", &minor, &m) != 1 || name[n + 1 + m] != 0 ||
            name[n + 1] < '0' || name[n + 1] > '9' || minor > 99)
            return -1;
    } else if (name[n] != 0 || major != 3) {
        return -1;
    }
    if ((major == 2 && minor != 7) || (major == 3 && name[n] == '.' && minor > 15))
        return -1;
    opts->python = PYMARSHAL_PY_CPYTHON;
    opts->python_version = name[n] == '.' ? 100 * major + minor : 0;
    return 0;
}

static pymarshal_reader *reader_alloc(const pymarshal_allocator *alloc, unsigned max_depth,
                                      pymarshal_error *err)
{
    pymarshal_reader *r = cm_malloc(alloc, sizeof *r);
    if (!r) {
        pm_set_error(err, PYMARSHAL_ENOMEM, 0, "out of memory for a reader");
        return NULL;
    }
    memset(r, 0, sizeof *r);
    if (alloc) {
        r->alloc_copy = *alloc;
        r->alloc = &r->alloc_copy;
    }
    r->max_depth = max_depth ? max_depth : PYMARSHAL_MAX_DEPTH_DEFAULT;
    r->slots = &r->own_slots;
    r->interned = &r->own_interned;
    return r;
}

pymarshal_reader *pymarshal_reader_new(const void *data, size_t len,
                                       const pymarshal_options *opts,
                                       pymarshal_error *err)
{
    unsigned depth = opts ? opts->max_depth : 0;
    if (!depth && opts && opts->python == PYMARSHAL_PY_PYPY)
        depth = PM_PYPY_MAX_DEPTH;
    pymarshal_reader *r = reader_alloc(opts ? opts->alloc : NULL, depth, err);
    if (!r)
        return NULL;
    if (opts && (opts->python == PYMARSHAL_PY_CPYTHON || opts->python == PYMARSHAL_PY_PYPY)) {
        r->impl = (uint8_t)opts->python;
        r->version = (uint16_t)(opts->python == PYMARSHAL_PY_CPYTHON ? opts->python_version : 309);
    }
    r->data = data;
    r->len = data ? len : 0;
    if (err)
        memset(err, 0, sizeof *err);
    return r;
}

void pymarshal_reader_free(pymarshal_reader *r)
{
    if (!r)
        return;
    const pymarshal_allocator *a = r->alloc;
    if (r->sub)
        pymarshal_reader_free(r->sub);
    cm_free(a, r->stack);
    cm_free(a, r->own_slots.e);
    cm_free(a, r->own_interned.e);
    cm_free(a, r->codes);
    cm_free(a, r->scratch);
    cm_free(a, r);
}

pymarshal_reader *pymarshal_reader_replay(pymarshal_reader *parent, int64_t slot,
                                          pymarshal_error *err)
{
    const pm_slots *t = parent->slots;
    if (slot < 0 || (uint64_t)slot >= t->n || !(t->e[slot] & PM_SLOT_FILLED)) {
        pm_set_error(err, PYMARSHAL_EREF, 0, "replay of slot %lld, which is %s",
                     (long long)slot,
                     slot < 0 || (uint64_t)slot >= t->n ? "missing" : "not yet complete");
        return NULL;
    }
    pymarshal_reader *r = reader_alloc(parent->alloc, parent->max_depth, err);
    if (!r)
        return NULL;
    r->data = parent->data;
    r->len = parent->len;
    r->pos = PM_SLOT_OFFSET(t->e[slot]);
    r->slots = parent->slots;
    r->interned = parent->interned;
    r->mode = PM_MODE_REPLAY;
    r->vslot = slot;
    r->impl = parent->impl;
    r->version = parent->version;
    r->seen = parent->seen;
    if (err)
        memset(err, 0, sizeof *err);
    return r;
}
