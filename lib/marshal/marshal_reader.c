/*
 * The token reader: walks one marshalled object, header by header, with an
 * explicit stack of open containers (no C recursion per nesting level).
 *
 * Memory: the reader keeps only its stack, the reference table (8 bytes per
 * FLAG_REF'd object: offset, kind, filled) and Python 2's interned-string
 * list (one offset per 't'). Strings and digits are never copied: tokens
 * point into the input. A reference to a scalar re-reads the scalar where it
 * was first met (ints, floats and strings straight from their bytes, which
 * were checked then); a reference to a container is handed to the caller as
 * a REF token (pymarshal_reader_replay can walk it again).
 *
 * Every count is checked against the bytes left before anything is pushed:
 * each item still announced by an open container needs at least one byte,
 * so the items announced at any time never exceed the input's size.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "marshal_reader_int.h"

int pm_fail(pymarshal_reader *r, pymarshal_errcode code, size_t offset,
            const char *fmt, ...)
{
    if (r->failed)
        return -1;
    r->failed = 1;
    char msg[sizeof r->err.msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    pm_set_error(&r->err, code, offset, "%s", msg);
    return -1;
}

/* Cleared in two memsets: gcc makes one memset of the whole token a string
 * instruction (23 instructions a token, a sixth of the reader's), two of at
 * most 64 bytes a few vector stores. The token stays fully zeroed, padding
 * included, as before. */
static inline void tok_init(pymarshal_token *tok, size_t off, uint8_t code)
{
    enum { HALF = sizeof *tok > 64 ? 64 : sizeof *tok };
    memset(tok, 0, HALF);
    memset((char *)tok + HALF, 0, sizeof *tok - HALF);
    tok->offset = off;
    tok->code = code;
    tok->ref_slot = -1;
    tok->ref_target = -1;
}

/* Are `n` more bytes there after r->pos? */
static int need(pymarshal_reader *r, size_t n, size_t off, const char *what)
{
    size_t left = r->len - r->pos;
    if (n <= left)
        return 0;
    return pm_fail(r, PYMARSHAL_ETRUNCATED, off,
                   "truncated: %s needs %zu bytes, %zu left", what, n, left);
}

static int is_scalar(pymarshal_kind k)
{
    return k <= PYMARSHAL_STR;
}

/* ------------------------------------------------------------ the table */

/* Give the object at `off` a reference slot. Returns the slot or -1. */
static int64_t take_slot(pymarshal_reader *r, size_t off, pymarshal_kind kind, int filled,
                         int layout)
{
    if (r->mode == PM_MODE_REPLAY)
        return r->vslot++;
    pm_slots *t = r->slots;
    if (cm_reserve(r->alloc, (void **)&t->e, &t->cap, t->n + 1, sizeof *t->e) < 0)
        return pm_fail(r, PYMARSHAL_ENOMEM, off, "out of memory for the reference table");
    t->e[t->n] = PM_SLOT(off, kind, filled, layout);
    return (int64_t)t->n++;
}

static void fill_slot(pymarshal_reader *r, const pm_frame *f)
{
    if (f->fill_slot >= 0 && r->mode == PM_MODE_MAIN)
        r->slots->e[f->fill_slot] =
            PM_SLOT(f->offset, (pymarshal_kind)f->kind, 1, f->layout);
}

/* ----------------------------------------------------------- scalars */

static int read_i32(pymarshal_reader *r, size_t off, const char *what, int32_t *out)
{
    if (need(r, 4, off, what) < 0)
        return -1;
    *out = cm_i32(r->data + r->pos);
    r->pos += 4;
    return 0;
}

/* A length-prefixed byte string: u8 length when `short_len`, else i32. */
static int read_str(pymarshal_reader *r, pymarshal_token *tok, int short_len)
{
    size_t off = tok->offset, n;
    if (short_len) {
        if (need(r, 1, off, "string length") < 0)
            return -1;
        n = r->data[r->pos++];
    } else {
        int32_t len;
        if (read_i32(r, off, "string length", &len) < 0)
            return -1;
        if (len < 0)
            return pm_fail(r, PYMARSHAL_ELENGTH, off, "negative string length %d",
                           (int)len);
        n = (size_t)len;
    }
    if (n > r->len - r->pos)
        return pm_fail(r, PYMARSHAL_ETRUNCATED, off,
                       "truncated: string of %zu bytes needs %zu bytes, %zu left", n, n,
                       r->len - r->pos);
    tok->data = r->data + r->pos;
    tok->len = n;
    r->pos += n;
    return 0;
}

static int read_text_float(pymarshal_reader *r, size_t off, double *out)
{
    if (need(r, 1, off, "float text length") < 0)
        return -1;
    size_t n = r->data[r->pos++];
    if (n > r->len - r->pos)
        return pm_fail(r, PYMARSHAL_ETRUNCATED, off,
                       "truncated: float text of %zu bytes needs %zu bytes, %zu left", n,
                       n, r->len - r->pos);
    /* CPython parses the text as a C string: it ends at a NUL byte. */
    const uint8_t *nul = memchr(r->data + r->pos, 0, n);
    size_t text = nul ? (size_t)(nul - (r->data + r->pos)) : n;
    if (pm_parse_float_text(r->data + r->pos, text, out) < 0)
        return pm_fail(r, PYMARSHAL_EVALUE, off, "bad float text '%.*s'",
                       (int)(n > 40 ? 40 : n), (const char *)r->data + r->pos);
    r->pos += n;
    return 0;
}

static double bin_double(const uint8_t *p)
{
    uint64_t u = cm_le64(p);
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

static int read_long(pymarshal_reader *r, pymarshal_token *tok)
{
    size_t off = tok->offset;
    int32_t n;
    if (read_i32(r, off, "long digit count", &n) < 0)
        return -1;
    if (n == INT32_MIN)
        return pm_fail(r, PYMARSHAL_ELENGTH, off, "long digit count %d out of range",
                       (int)n);
    size_t nd = (size_t)(n < 0 ? -n : n);
    if (nd > (r->len - r->pos) / 2)
        return pm_fail(r, PYMARSHAL_ETRUNCATED, off,
                       "truncated: long of %zu digits needs %zu bytes, %zu left", nd,
                       nd * 2, r->len - r->pos);
    const uint8_t *d = r->data + r->pos;
    for (size_t k = 0; k < nd; k++) {
        unsigned dig = (unsigned)d[2 * k] | (unsigned)d[2 * k + 1] << 8;
        if (dig >= 0x8000)
            return pm_fail(r, PYMARSHAL_EVALUE, off + 5 + 2 * k,
                           "long digit 0x%04x out of range (digits are 15 bits)", dig);
        if (k == nd - 1 && dig == 0)
            return pm_fail(r, PYMARSHAL_EVALUE, off,
                           "unnormalized long: most significant digit is 0");
    }
    r->pos += nd * 2;
    /* Up to 4 digits (60 bits) always fit; 5 digits fit below 2**63. */
    unsigned top = nd == 5 ? ((unsigned)d[8] | (unsigned)d[9] << 8) : 0;
    int low_zero = nd == 5 && !memcmp(d, "\0\0\0\0\0\0\0\0", 8);
    if (nd <= 4 || (nd == 5 && (top < 8 || (top == 8 && low_zero && n < 0)))) {
        uint64_t u = 0;
        for (size_t k = nd; k-- > 0;)
            u = u << 15 | ((unsigned)d[2 * k] | (unsigned)d[2 * k + 1] << 8);
        tok->kind = PYMARSHAL_INT;
        if (n >= 0)
            tok->i = (int64_t)u;
        else
            tok->i = u == (UINT64_C(1) << 63) ? INT64_MIN : -(int64_t)u;
        return 0;
    }
    tok->kind = PYMARSHAL_BIGINT;
    tok->data = d;
    tok->len = nd;
    tok->negative = n < 0;
    return 0;
}

/* Read the payload of scalar type `code` at r->pos into tok. 1 when `code`
 * is a scalar, 0 when it is not, -1 on error. No slots are taken. */
static int read_scalar(pymarshal_reader *r, pymarshal_token *tok, uint8_t code)
{
    size_t off = tok->offset;
    int32_t i;
    switch (code) {
    case 'N': tok->kind = PYMARSHAL_NONE; return 1;
    case 'F': tok->kind = PYMARSHAL_FALSE; return 1;
    case 'T': tok->kind = PYMARSHAL_TRUE; tok->i = 1; return 1;
    case 'S': tok->kind = PYMARSHAL_STOPITER; return 1;
    case '.': tok->kind = PYMARSHAL_ELLIPSIS; return 1;
    case 'i':
        if (read_i32(r, off, "int", &i) < 0)
            return -1;
        tok->kind = PYMARSHAL_INT;
        tok->i = i;
        return 1;
    case 'I':
        if (need(r, 8, off, "int64") < 0)
            return -1;
        tok->kind = PYMARSHAL_INT;
        tok->i = (int64_t)cm_le64(r->data + r->pos);
        r->pos += 8;
        return 1;
    case 'l':
        return read_long(r, tok) < 0 ? -1 : 1;
    case 'f':
        tok->kind = PYMARSHAL_FLOAT;
        return read_text_float(r, off, &tok->f) < 0 ? -1 : 1;
    case 'x':
        tok->kind = PYMARSHAL_COMPLEX;
        if (read_text_float(r, off, &tok->f) < 0 || read_text_float(r, off, &tok->imag) < 0)
            return -1;
        return 1;
    case 'g':
    case 'y':
        if (need(r, code == 'g' ? 8 : 16, off, code == 'g' ? "float" : "complex") < 0)
            return -1;
        tok->kind = code == 'g' ? PYMARSHAL_FLOAT : PYMARSHAL_COMPLEX;
        tok->f = bin_double(r->data + r->pos);
        if (code == 'y')
            tok->imag = bin_double(r->data + r->pos + 8);
        r->pos += code == 'g' ? 8 : 16;
        return 1;
    case 's':
        tok->kind = PYMARSHAL_BYTES;
        return read_str(r, tok, 0) < 0 ? -1 : 1;
    case 't': {
        /* Python 3: interned UTF-8 text. Python 2: an interned byte string,
         * which is often not UTF-8; such a string is delivered as BYTES
         * (what it is in Python 2) rather than rejected. */
        if (read_str(r, tok, 0) < 0)
            return -1;
        size_t bad;
        tok->interned = 1;
        tok->kind = cm_utf8_valid(tok->data, tok->len, &bad) ? PYMARSHAL_STR
                                                             : PYMARSHAL_BYTES;
        tok->text = PYMARSHAL_UTF8;
        return 1;
    }
    case 'u': {
        if (read_str(r, tok, 0) < 0)
            return -1;
        size_t bad;
        if (!cm_utf8_valid(tok->data, tok->len, &bad))
            return pm_fail(r, PYMARSHAL_EUTF8, (size_t)(tok->data - r->data) + bad,
                           "invalid UTF-8 in str (byte 0x%02x)", tok->data[bad]);
        tok->kind = PYMARSHAL_STR;
        tok->text = PYMARSHAL_UTF8;
        return 1;
    }
    case 'a':
    case 'A':
    case 'z':
    case 'Z':
        /* "ASCII" forms are decoded as Latin-1 by CPython: bytes >= 0x80 pass. */
        if (read_str(r, tok, code == 'z' || code == 'Z') < 0)
            return -1;
        tok->kind = PYMARSHAL_STR;
        tok->text = PYMARSHAL_LATIN1;
        tok->interned = code == 'A' || code == 'Z';
        return 1;
    }
    return 0;
}

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

/* A reference to a scalar of the common kinds, decoded straight from the
 * bytes at `target`: they were fully checked (bounds, UTF-8) when the slot
 * was taken, and the slot's kind tells whether a 't' was UTF-8. 1 done, 0
 * not one of these codes. */
static int ref_scalar_fast(const pymarshal_reader *r, pymarshal_token *tok, size_t target,
                           pymarshal_kind kind)
{
    const uint8_t *p = r->data + target;
    switch (p[0] & 0x7f) {
    case 'i':
        tok->kind = PYMARSHAL_INT;
        tok->i = cm_i32(p + 1);
        return 1;
    case 'g':
        tok->kind = PYMARSHAL_FLOAT;
        tok->f = bin_double(p + 1);
        return 1;
    case 'z':
    case 'Z':
        tok->kind = PYMARSHAL_STR;
        tok->text = PYMARSHAL_LATIN1;
        tok->interned = (p[0] & 0x7f) == 'Z';
        tok->len = p[1];
        tok->data = p + 2;
        return 1;
    case 'a':
    case 'A':
    case 'u':
    case 't':
    case 's': {
        uint8_t c = p[0] & 0x7f;
        tok->kind = kind;
        tok->text = c == 'a' || c == 'A' ? PYMARSHAL_LATIN1 : PYMARSHAL_UTF8;
        tok->interned = c == 'A' || c == 't';
        tok->len = (size_t)cm_i32(p + 1);
        tok->data = p + 5;
        return 1;
    }
    }
    return 0;
}

static int reread(pymarshal_reader *r, pymarshal_token *tok, size_t target)
{
    size_t save = r->pos, off = tok->offset;
    tok->offset = target;
    r->pos = target + 1;
    int rc = read_scalar(r, tok, r->data[target] & 0x7f);
    r->pos = save;
    tok->offset = off;
    return rc == 1 ? 0 : -1;
}

static int read_ref(pymarshal_reader *r, pymarshal_token *tok)
{
    size_t off = tok->offset;
    int32_t idx;
    if (read_i32(r, off, "reference", &idx) < 0)
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
    if (is_scalar(kind)) {
        tok->via_ref = 'r';
        if (ref_scalar_fast(r, tok, PM_SLOT_OFFSET(e), kind))
            return 0;
        return reread(r, tok, PM_SLOT_OFFSET(e));
    }
    tok->kind = PYMARSHAL_REF;
    tok->target_kind = kind;
    tok->target_offset = PM_SLOT_OFFSET(e);
    tok->count = target_count(r, e);
    if (kind == PYMARSHAL_CODE)
        tok->code_layout = (uint8_t)PM_SLOT_LAYOUT(e);
    return 0;
}

static int read_interned_ref(pymarshal_reader *r, pymarshal_token *tok)
{
    size_t off = tok->offset;
    int32_t idx;
    if (read_i32(r, off, "string reference", &idx) < 0)
        return -1;
    if (idx < 0 || (size_t)idx >= r->interned->n)
        return pm_fail(r, PYMARSHAL_EREF, off,
                       "string reference %d, but only %zu interned strings precede it",
                       (int)idx, r->interned->n);
    tok->ref_target = idx;
    tok->via_ref = 'R';
    return reread(r, tok, r->interned->e[idx]);
}

/* -------------------------------------------------------- containers */

static int push(pymarshal_reader *r, pymarshal_token *tok, size_t items, int flag)
{
    size_t off = tok->offset;
    pymarshal_kind kind = tok->kind;
    /* Every item announced and not yet begun needs at least one byte. Each
     * open frame counts one item in progress (the frame above it, or for
     * the top frame this container), which these bytes belong to. */
    size_t others = r->promised - r->sp;
    size_t left = r->len - r->pos;
    if (items > left || others > left - items)
        return pm_fail(r, PYMARSHAL_ETRUNCATED, off,
                       "truncated: %s of %zu items needs at least %zu more bytes, %zu left",
                       pymarshal_kind_name(kind), tok->count, items + others, left);
    int reserve = kind == PYMARSHAL_FROZENSET || kind == PYMARSHAL_CODE ||
                  kind == PYMARSHAL_SLICE || kind == PYMARSHAL_FROZENDICT;
    int64_t slot = -1;
    if (flag) {
        slot = take_slot(r, off, kind, !reserve, tok->code_layout);
        if (slot < 0)
            return -1;
        tok->ref_slot = slot;
    }
    if (items == 0 && kind != PYMARSHAL_DICT) {
        pm_frame f = {0, off, reserve ? slot : -1, (uint8_t)kind, 0, 0, 0};
        fill_slot(r, &f);
        return 0;
    }
    if (cm_reserve(r->alloc, (void **)&r->stack, &r->scap, r->sp + 1, sizeof *r->stack) < 0)
        return pm_fail(r, PYMARSHAL_ENOMEM, off, "out of memory for the reader stack");
    pm_frame *f = &r->stack[r->sp++];
    f->remaining = kind == PYMARSHAL_DICT ? 1 : items;
    f->offset = off;
    f->fill_slot = reserve ? slot : -1;
    f->kind = (uint8_t)kind;
    f->layout = tok->code_layout;
    f->field = 0;
    f->want_value = 0;
    r->promised += f->remaining;
    r->last_push = r->sp;
    if (r->dry && r->sp == 1 && kind == PYMARSHAL_CODE && f->layout)
        r->decided = f->layout;
    return 0;
}

static int read_container(pymarshal_reader *r, pymarshal_token *tok, uint8_t code, int flag)
{
    size_t off = tok->offset, items;
    int32_t n = 0;
    switch (code) {
    case '(': tok->kind = PYMARSHAL_TUPLE; break;
    case ')': tok->kind = PYMARSHAL_TUPLE; break;
    case '[': tok->kind = PYMARSHAL_LIST; break;
    case '<': tok->kind = PYMARSHAL_SET; break;
    case '>': tok->kind = PYMARSHAL_FROZENSET; break;
    case '}': tok->kind = PYMARSHAL_FROZENDICT; break;
    case '{': tok->kind = PYMARSHAL_DICT; break;
    case ':': tok->kind = PYMARSHAL_SLICE; break;
    case 'c': tok->kind = PYMARSHAL_CODE; break;
    }
    if (code == ')') {
        if (need(r, 1, off, "tuple size") < 0)
            return -1;
        n = r->data[r->pos++];
    } else if (code != '{' && code != ':' && code != 'c') {
        if (read_i32(r, off, "container size", &n) < 0)
            return -1;
        if (n < 0)
            return pm_fail(r, PYMARSHAL_ELENGTH, off, "negative %s size %d",
                           pymarshal_kind_name(tok->kind), (int)n);
    }
    tok->count = (size_t)n;
    items = tok->count;
    if (code == '}')
        items = tok->count * 2;
    else if (code == ':')
        items = tok->count = 3;
    else if (code == 'c') {
        int layout = pm_code_layout(r, off);
        if (layout < 0)
            return -1;
        tok->code_layout = (uint8_t)layout;
        /* A layout not yet decided (look-ahead only) counts as 3.0-3.7 until
         * its 10th field tells: the two agree up to there. */
        items = tok->count = strlen(pm_code_fields(layout ? (pymarshal_code_layout)layout
                                                          : PYMARSHAL_CODE_PY30));
    }
    return push(r, tok, items, flag);
}

/* ------------------------------------------------------------ objects */

static int read_object(pymarshal_reader *r, pymarshal_token *tok)
{
    size_t off = r->pos;
    if (off >= r->len)
        return pm_fail(r, PYMARSHAL_ETRUNCATED, off,
                       "truncated: an object is expected, the input ends");
    uint8_t b = r->data[off], code = b & 0x7f;
    int flag = (b & PM_FLAG_REF) != 0;
    tok_init(tok, off, code);
    r->pos = off + 1;
    switch (code) {
    case '0':
        tok->kind = PYMARSHAL_NULL;
        return 0;
    case 'r':
        return read_ref(r, tok);
    case 'R':
        return read_interned_ref(r, tok);
    case '(': case ')': case '[': case '<': case '>': case '{': case '}': case ':': case 'c':
        return read_container(r, tok, code, flag);
    case 'i': /* the two commonest scalars, without read_scalar's switch */
        if (need(r, 4, off, "int") < 0)
            return -1;
        tok->kind = PYMARSHAL_INT;
        tok->i = cm_i32(r->data + off + 1);
        r->pos = off + 5;
        break;
    case 'g':
        if (need(r, 8, off, "float") < 0)
            return -1;
        tok->kind = PYMARSHAL_FLOAT;
        tok->f = bin_double(r->data + off + 1);
        r->pos = off + 9;
        break;
    default: {
        int rc = read_scalar(r, tok, code);
        if (rc < 0)
            return -1;
        if (rc == 0)
            return pm_fail(r, PYMARSHAL_ETYPE, off, "unknown type code 0x%02x", b);
    }
    }
    if (code == 't' && r->mode == PM_MODE_MAIN) {
        pm_offsets *in = r->interned;
        if (cm_reserve(r->alloc, (void **)&in->e, &in->cap, in->n + 1, sizeof *in->e) < 0)
            return pm_fail(r, PYMARSHAL_ENOMEM, off, "out of memory for interned strings");
        in->e[in->n++] = off;
    }
    if (flag && tok->kind >= PYMARSHAL_INT) {
        int64_t slot = take_slot(r, off, tok->kind, 1, 0);
        if (slot < 0)
            return -1;
        tok->ref_slot = slot;
    }
    return 0;
}

/* The item just read is complete: count it in its container, closing every
 * container it completes. */
static void item_done(pymarshal_reader *r)
{
    while (r->sp) {
        pm_frame *f = &r->stack[r->sp - 1];
        if (f->kind == PYMARSHAL_DICT) {
            f->want_value ^= 1;
            return;
        }
        f->remaining--;
        r->promised--;
        if (f->remaining)
            return;
        fill_slot(r, f);
        r->sp--;
    }
    r->done = 1;
}

static const char *expected_here(const pymarshal_reader *r)
{
    if (!r->sp)
        return "an object";
    const pm_frame *f = &r->stack[r->sp - 1];
    if (f->kind == PYMARSHAL_DICT)
        return "a dict value";
    if (f->kind == PYMARSHAL_CODE)
        return "a code object field";
    switch ((pymarshal_kind)f->kind) {
    case PYMARSHAL_TUPLE: return "a tuple item";
    case PYMARSHAL_LIST: return "a list item";
    case PYMARSHAL_SET: return "a set item";
    case PYMARSHAL_FROZENSET: return "a frozenset item";
    case PYMARSHAL_SLICE: return "a slice field";
    case PYMARSHAL_FROZENDICT: return "a frozendict key or value";
    default: return "an object";
    }
}

static int raw_field(pymarshal_reader *r, pymarshal_token *tok)
{
    pm_frame *f = &r->stack[r->sp - 1];
    tok_init(tok, r->pos, 'i');
    int32_t v;
    if (read_i32(r, f->offset, "code object int field", &v) < 0)
        return -1;
    tok->kind = PYMARSHAL_INT;
    tok->raw_field = 1;
    tok->i = v;
    f->field++;
    item_done(r);
    return 1;
}

/* The token path of the commonest items of a tuple, list or dict: 'i', 'g'
 * and 'r' to a scalar without FLAG_REF, whole in the input. Makes the token
 * exactly as read_object would, and returns 1; returns 0 having consumed
 * nothing for everything else, which takes the generic path (so every check
 * and every error stays there). The caller checked the depth. */
static inline int next_fast(pymarshal_reader *r, pymarshal_token *tok, pm_frame *top)
{
    size_t off = r->pos;
    if (r->len - off < 9)
        return 0;
    const uint8_t *p = r->data + off;
    switch (p[0]) {
    case 'i':
        tok_init(tok, off, 'i');
        tok->kind = PYMARSHAL_INT;
        tok->i = cm_i32(p + 1);
        break;
    case 'g':
        tok_init(tok, off, 'g');
        tok->kind = PYMARSHAL_FLOAT;
        tok->f = bin_double(p + 1);
        break;
    case 'r': {
        int32_t idx = cm_i32(p + 1);
        const pm_slots *t = r->slots;
        size_t known = r->mode == PM_MODE_REPLAY && (uint64_t)r->vslot < t->n
                           ? (size_t)r->vslot : t->n;
        if (idx < 0 || (size_t)idx >= known)
            return 0;
        uint64_t e = t->e[idx];
        if (!(e & PM_SLOT_FILLED) || !is_scalar(PM_SLOT_KIND(e)))
            return 0;
        tok_init(tok, off, 'r');
        tok->via_ref = 'r';
        tok->ref_target = idx;
        if (!ref_scalar_fast(r, tok, PM_SLOT_OFFSET(e), PM_SLOT_KIND(e)))
            return 0;
        break;
    }
    default:
        return 0;
    }
    r->pos = off + (p[0] == 'g' ? 9 : 5);
    if (top->kind == PYMARSHAL_DICT)
        top->want_value ^= 1;
    else if (top->remaining > 1) {
        top->remaining--;
        r->promised--;
    } else {
        item_done(r);
    }
    return 1;
}

int pymarshal_reader_next(pymarshal_reader *r, pymarshal_token *tok)
{
    if (r->failed)
        return -1;
    if (r->done)
        return 0;
    r->last_push = 0;
    size_t sp = r->sp;
    pm_frame *top = sp ? &r->stack[sp - 1] : NULL;
    if (top && top->kind == PYMARSHAL_CODE) {
        const char *fields =
            pm_code_fields(top->layout ? (pymarshal_code_layout)top->layout
                                       : PYMARSHAL_CODE_PY30);
        if (fields[top->field] == 'i')
            return raw_field(r, tok);
    }
    if (sp >= r->max_depth)
        return pm_fail(r, PYMARSHAL_EDEPTH, r->pos,
                       "nesting deeper than %u levels (recursion limit exceeded)",
                       r->max_depth);
    if (top && top->kind != PYMARSHAL_CODE && next_fast(r, tok, top))
        return 1;
    if (read_object(r, tok) < 0)
        return -1;
    top = sp ? &r->stack[sp - 1] : NULL; /* a push may have moved the stack */
    if (tok->kind == PYMARSHAL_NULL) {
        if (!top || top->kind != PYMARSHAL_DICT || top->want_value)
            return pm_fail(r, PYMARSHAL_ETYPE, tok->offset, "NULL object where %s is expected",
                           expected_here(r));
        r->promised--;
        r->sp--;
        item_done(r);
        return 1;
    }
    if (top && top->kind == PYMARSHAL_CODE) {
        top->field++;
        if (top->layout == 0 && top->field == 10) {
            pymarshal_kind k = tok->kind == PYMARSHAL_REF ? tok->target_kind : tok->kind;
            if (pm_code_decide(r, top, k) < 0)
                return -1;
        }
    }
    if (r->sp == sp) {
        /* The common case inline: an item of a tuple/list that is not its last. */
        pm_frame *f = sp ? &r->stack[sp - 1] : NULL;
        if (f && f->kind != PYMARSHAL_DICT && f->remaining > 1) {
            f->remaining--;
            r->promised--;
        } else {
            item_done(r);
        }
    }
    return 1;
}

int pymarshal_reader_skip(pymarshal_reader *r)
{
    if (r->failed)
        return -1;
    size_t depth = r->last_push;
    pymarshal_token tok;
    while (depth && r->sp >= depth) {
        if (pymarshal_reader_next(r, &tok) < 0)
            return -1;
    }
    r->last_push = 0;
    return 0;
}

int pm_reader_run(pymarshal_reader *r, int until_decided)
{
    pymarshal_token tok;
    for (;;) {
        if (until_decided && r->decided)
            return 0;
        int rc = pymarshal_reader_next(r, &tok);
        if (rc <= 0)
            return rc;
    }
}

unsigned pymarshal_reader_depth(const pymarshal_reader *r)
{
    return (unsigned)r->sp;
}

size_t pymarshal_reader_offset(const pymarshal_reader *r)
{
    return r->pos;
}

const pymarshal_error *pymarshal_reader_error(const pymarshal_reader *r)
{
    return &r->err;
}

/* ----------------------------------------------------------- lifetime */

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
    pymarshal_reader *r =
        reader_alloc(opts ? opts->alloc : NULL, opts ? opts->max_depth : 0, err);
    if (!r)
        return NULL;
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
    cm_free(a, r);
}

int pm_reader_init_sub(pymarshal_reader *sub, const pymarshal_reader *r, size_t start)
{
    sub->data = r->data;
    sub->len = r->len;
    sub->pos = start;
    sub->max_depth = r->max_depth - (unsigned)r->sp;
    sub->sp = 0;
    sub->promised = 0;
    sub->last_push = 0;
    sub->slots = r->slots;
    sub->interned = r->interned;
    sub->vslot = r->vslot;
    sub->mode = r->mode;
    sub->dry = 1;
    sub->done = sub->failed = 0;
    sub->force_nints = 0;
    sub->decided = 0;
    memset(&sub->err, 0, sizeof sub->err);
    return 0;
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
    if (err)
        memset(err, 0, sizeof *err);
    return r;
}
