/*
 * Accessors of the value tree (nodes are built by marshal_tree.c). Every
 * accessor takes any node and answers 0/NULL for a kind it does not apply
 * to, so callers need no check before asking.
 */
#include <string.h>

#include "marshal_internal.h"
#include "marshal_tree_int.h"

pymarshal_kind pymarshal_value_kind(const pymarshal_value *v)
{
    return v ? (pymarshal_kind)v->kind : PYMARSHAL_NULL;
}

size_t pymarshal_value_offset(const pymarshal_value *v)
{
    return v ? v->offset : 0;
}

int64_t pymarshal_value_int(const pymarshal_value *v)
{
    if (v && (v->kind == PYMARSHAL_INT || v->kind == PYMARSHAL_TRUE))
        return v->u.i;
    return 0;
}

double pymarshal_value_float(const pymarshal_value *v)
{
    if (v && (v->kind == PYMARSHAL_FLOAT || v->kind == PYMARSHAL_COMPLEX))
        return v->u.f[0];
    return 0.0;
}

double pymarshal_value_imag(const pymarshal_value *v)
{
    if (v && v->kind == PYMARSHAL_COMPLEX)
        return v->u.f[1];
    return 0.0;
}

const uint16_t *pymarshal_value_bigint(const pymarshal_value *v, size_t *ndigits,
                                       int *negative)
{
    int big = v && v->kind == PYMARSHAL_BIGINT;
    if (ndigits)
        *ndigits = big ? v->u.big.n : 0;
    if (negative)
        *negative = big ? v->u.big.neg : 0;
    return big ? v->u.big.d : NULL;
}

const uint8_t *pymarshal_value_bytes(const pymarshal_value *v, size_t *len,
                                     pymarshal_text *text)
{
    int ok = v && (v->kind == PYMARSHAL_BYTES || v->kind == PYMARSHAL_STR);
    if (len)
        *len = ok ? v->u.s.len : 0;
    if (text)
        *text = ok && v->kind == PYMARSHAL_STR ? (pymarshal_text)v->text : PYMARSHAL_UTF8;
    return ok ? v->u.s.p : NULL;
}

int pymarshal_value_interned(const pymarshal_value *v)
{
    return v ? v->interned : 0;
}

static int has_items(const pymarshal_value *v)
{
    return v && ((v->kind >= PYMARSHAL_TUPLE && v->kind <= PYMARSHAL_FROZENDICT));
}

static int is_mapping(const pymarshal_value *v)
{
    return v && (v->kind == PYMARSHAL_DICT || v->kind == PYMARSHAL_FROZENDICT);
}

size_t pymarshal_value_len(const pymarshal_value *v)
{
    return has_items(v) ? v->u.seq.n : 0;
}

const pymarshal_value *pymarshal_value_item(const pymarshal_value *v, size_t i)
{
    if (!has_items(v) || is_mapping(v) || i >= v->u.seq.n)
        return NULL;
    return v->u.seq.items[i];
}

const pymarshal_value *pymarshal_value_key(const pymarshal_value *v, size_t i)
{
    if (!is_mapping(v) || i >= v->u.seq.n)
        return NULL;
    return v->u.seq.items[2 * i];
}

const pymarshal_value *pymarshal_value_val(const pymarshal_value *v, size_t i)
{
    if (!is_mapping(v) || i >= v->u.seq.n)
        return NULL;
    return v->u.seq.items[2 * i + 1];
}

/* Field names of each layout in file order, one letter per field:
 *   a argcount  p posonlyargcount  k kwonlyargcount  n nlocals  s stacksize
 *   f flags  C code  K consts  N names  V varnames  F freevars  L cellvars
 *   P localsplusnames  Q localspluskinds  I filename  M name  U qualname
 *   l firstlineno  T linetable (lnotab before 3.10)  E exceptiontable */
static const char *field_names(pymarshal_code_layout layout)
{
    switch (layout) {
    case PYMARSHAL_CODE_PY27: return "ansfCKNVFLIMlT";
    case PYMARSHAL_CODE_PY30: return "aknsfCKNVFLIMlT";
    case PYMARSHAL_CODE_PY38: return "apknsfCKNVFLIMlT";
    case PYMARSHAL_CODE_PY311: return "apksfCKNPQIMUlTE";
    }
    return NULL;
}

static void set_code_field(pymarshal_code_info *out, char name, const pymarshal_value *f)
{
    int64_t i = pymarshal_value_int(f);
    switch (name) {
    case 'a': out->argcount = i; break;
    case 'p': out->posonlyargcount = i; break;
    case 'k': out->kwonlyargcount = i; break;
    case 'n': out->nlocals = i; break;
    case 's': out->stacksize = i; break;
    case 'f': out->flags = i; break;
    case 'l': out->firstlineno = i; break;
    case 'C': out->code = f; break;
    case 'K': out->consts = f; break;
    case 'N': out->names = f; break;
    case 'V': out->varnames = f; break;
    case 'F': out->freevars = f; break;
    case 'L': out->cellvars = f; break;
    case 'P': out->localsplusnames = f; break;
    case 'Q': out->localspluskinds = f; break;
    case 'I': out->filename = f; break;
    case 'M': out->name = f; break;
    case 'U': out->qualname = f; break;
    case 'T': out->linetable = f; break;
    case 'E': out->exceptiontable = f; break;
    }
}

int pymarshal_value_code(const pymarshal_value *v, pymarshal_code_info *out)
{
    if (!out)
        return -1;
    memset(out, 0, sizeof *out);
    if (!v || v->kind != PYMARSHAL_CODE)
        return -1;
    const char *names = field_names((pymarshal_code_layout)v->layout);
    if (!names || strlen(names) != v->u.seq.n)
        return -1;
    out->layout = (pymarshal_code_layout)v->layout;
    for (size_t k = 0; k < v->u.seq.n; k++)
        set_code_field(out, names[k], v->u.seq.items[k]);
    return 0;
}
