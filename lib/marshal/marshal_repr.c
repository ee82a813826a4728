/*
 * Python 3's repr() of decoded marshal values: what
 * `print(repr(marshal.loads(data)))` shows, byte for byte, for the values a
 * marshal file can hold. Containers are walked with an explicit stack (no C
 * recursion per nesting level); containers being printed are kept in a
 * pointer set so that self-references print as Python's `[...]`.
 *
 * Floats use the shortest string that reads back as the same double, laid
 * out as Python's float_repr_style "short" does; str escapes follow
 * str.isprintable() of the Unicode table in marshal_unicode_table.c.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "marshal_internal.h"
#include "marshal_repr_int.h"

/* ------------------------------------------------------------- output */

/* A buffered sink with an optional byte limit. `status` is sticky: once a
 * write fails or the limit is reached, later output is dropped. */
typedef struct out {
    pymarshal_write_fn write;
    void *ctx;
    size_t limit; /* 0: none */
    size_t total; /* bytes accepted so far */
    size_t n;     /* bytes waiting in buf */
    pymarshal_errcode status;
    char buf[8192];
} out;

static void out_init(out *o, pymarshal_write_fn write, void *ctx, size_t limit)
{
    o->write = write;
    o->ctx = ctx;
    o->limit = limit;
    o->total = 0;
    o->n = 0;
    o->status = PYMARSHAL_OK;
}

static void out_flush(out *o)
{
    if (o->n && o->status != PYMARSHAL_EIO && o->write(o->ctx, o->buf, o->n) != 0)
        o->status = PYMARSHAL_EIO;
    o->n = 0;
}

static void out_put(out *o, const void *s, size_t len)
{
    const char *p = s;
    if (o->status != PYMARSHAL_OK)
        return;
    if (o->limit && len > o->limit - o->total) {
        len = o->limit - o->total;
        o->status = PYMARSHAL_ELIMIT;
    }
    o->total += len;
    while (len) {
        size_t room = sizeof o->buf - o->n;
        size_t k = len < room ? len : room;
        memcpy(o->buf + o->n, p, k);
        o->n += k;
        p += k;
        len -= k;
        if (o->n == sizeof o->buf)
            out_flush(o);
    }
}

static void out_str(out *o, const char *s)
{
    out_put(o, s, strlen(s));
}

static void out_byte(out *o, char c)
{
    if (o->status == PYMARSHAL_OK && o->n + 1 < sizeof o->buf &&
        (!o->limit || o->total < o->limit)) {
        o->buf[o->n++] = c;
        o->total++;
    } else {
        out_put(o, &c, 1);
    }
}

/* complex.__repr__: "(re+imj)", or "imj" alone when re is +0.0. */
static void complex_repr(out *o, double re, double im)
{
    char buf[40];
    if (re == 0.0 && !signbit(re)) {
        out_put(o, buf, pm_format_double(im, buf, 0, 0));
        out_byte(o, 'j');
        return;
    }
    out_byte(o, '(');
    out_put(o, buf, pm_format_double(re, buf, 0, 0));
    out_put(o, buf, pm_format_double(im, buf, 0, 1));
    out_put(o, "j)", 2);
}

/* ------------------------------------------------------------- strings */

static int is_printable(uint32_t cp)
{
    size_t lo = 0, hi = pm_nprintable;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cp < pm_printable[mid][0])
            hi = mid;
        else if (cp > pm_printable[mid][1])
            lo = mid + 1;
        else
            return 1;
    }
    return 0;
}

static int is_cont(uint8_t c)
{
    return (c & 0xC0) == 0x80;
}

/* One code point of UTF-8 that may encode surrogates (as Python's
 * surrogatepass writes them). A byte that starts no valid sequence comes
 * back as U+DC80..U+DCFF (surrogateescape) so that it shows as \udcXX.
 * *len gets the byte count used. */
static uint32_t utf8_decode(const uint8_t *s, size_t left, size_t *len)
{
    uint8_t c = s[0];
    uint32_t cp;
    *len = 1;
    if (c < 0x80)
        return c;
    if (c >= 0xC2 && c <= 0xDF && left >= 2 && is_cont(s[1])) {
        *len = 2;
        return (uint32_t)(c & 0x1F) << 6 | (s[1] & 0x3F);
    }
    if (c >= 0xE0 && c <= 0xEF && left >= 3 && is_cont(s[1]) && is_cont(s[2])) {
        cp = (uint32_t)(c & 0x0F) << 12 | (uint32_t)(s[1] & 0x3F) << 6 | (s[2] & 0x3F);
        if (cp >= 0x800) {
            *len = 3;
            return cp;
        }
    }
    if (c >= 0xF0 && c <= 0xF4 && left >= 4 && is_cont(s[1]) && is_cont(s[2]) &&
        is_cont(s[3])) {
        cp = (uint32_t)(c & 0x07) << 18 | (uint32_t)(s[1] & 0x3F) << 12 |
             (uint32_t)(s[2] & 0x3F) << 6 | (s[3] & 0x3F);
        if (cp >= 0x10000 && cp <= 0x10FFFF) {
            *len = 4;
            return cp;
        }
    }
    return 0xDC00 + c;
}

static size_t utf8_encode(uint32_t cp, char *b)
{
    if (cp < 0x80) {
        b[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        b[0] = (char)(0xC0 | cp >> 6);
        b[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        b[0] = (char)(0xE0 | cp >> 12);
        b[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        b[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    b[0] = (char)(0xF0 | cp >> 18);
    b[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    b[2] = (char)(0x80 | (cp >> 6 & 0x3F));
    b[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Python picks double quotes only for text with ' and no ". */
static char pick_quote(const uint8_t *s, size_t len)
{
    int sq = len && memchr(s, '\'', len) != NULL;
    int dq = len && memchr(s, '"', len) != NULL;
    return sq && !dq ? '"' : '\'';
}

/* Escapes shared by str and bytes; 1 when cp was handled. */
static int ascii_escape(out *o, uint32_t cp, char quote)
{
    char b[8];
    if (cp == (uint32_t)quote || cp == '\\') {
        b[0] = '\\';
        b[1] = (char)cp;
        out_put(o, b, 2);
    } else if (cp == '\t') {
        out_put(o, "\\t", 2);
    } else if (cp == '\n') {
        out_put(o, "\\n", 2);
    } else if (cp == '\r') {
        out_put(o, "\\r", 2);
    } else if (cp < 0x20 || cp == 0x7F) {
        out_put(o, b, (size_t)snprintf(b, sizeof b, "\\x%02x", (unsigned)cp));
    } else if (cp < 0x7F) {
        out_byte(o, (char)cp);
    } else {
        return 0;
    }
    return 1;
}

static void bytes_repr(out *o, const uint8_t *s, size_t len)
{
    char b[8];
    char quote = pick_quote(s, len);
    size_t i;
    out_byte(o, 'b');
    out_byte(o, quote);
    for (i = 0; i < len && o->status == PYMARSHAL_OK; i++)
        if (!ascii_escape(o, s[i], quote))
            out_put(o, b, (size_t)snprintf(b, sizeof b, "\\x%02x", s[i]));
    out_byte(o, quote);
}

/* The text of a str as Python stores it, without quotes or escapes (for
 * code object names), as UTF-8. */
static void text_raw(out *o, const uint8_t *s, size_t len, pymarshal_text text)
{
    char b[4];
    size_t i;
    if (text != PYMARSHAL_LATIN1) {
        out_put(o, s, len);
        return;
    }
    for (i = 0; i < len; i++)
        out_put(o, b, utf8_encode(s[i], b));
}

static void text_repr(out *o, const uint8_t *s, size_t len, pymarshal_text text)
{
    char b[16];
    char quote = pick_quote(s, len);
    size_t i = 0, k;
    uint32_t cp;
    out_byte(o, quote);
    while (i < len && o->status == PYMARSHAL_OK) {
        if (text == PYMARSHAL_LATIN1) {
            cp = s[i];
            k = 1;
        } else {
            cp = utf8_decode(s + i, len - i, &k);
        }
        if (!ascii_escape(o, cp, quote)) {
            if (is_printable(cp))
                out_put(o, b, utf8_encode(cp, b));
            else if (cp <= 0xFF)
                out_put(o, b, (size_t)snprintf(b, sizeof b, "\\x%02" PRIx32, cp));
            else if (cp <= 0xFFFF)
                out_put(o, b, (size_t)snprintf(b, sizeof b, "\\u%04" PRIx32, cp));
            else
                out_put(o, b, (size_t)snprintf(b, sizeof b, "\\U%08" PRIx32, cp));
        }
        i += k;
    }
    out_byte(o, quote);
}

int pymarshal_str_repr(const void *s, size_t len, pymarshal_kind kind,
                       pymarshal_text text, pymarshal_write_fn write, void *ctx)
{
    out o;
    out_init(&o, write, ctx, 0);
    if (kind == PYMARSHAL_BYTES)
        bytes_repr(&o, s, len);
    else
        text_repr(&o, s, len, text);
    out_flush(&o);
    return o.status == PYMARSHAL_OK ? 0 : -1;
}

/* ---------------------------------------------------------------- ints */

/* An int of 15-bit digits d[0..nd) in decimal. 0 ok, -1 out of memory. */
static int bigint_repr(out *o, const uint16_t *d, size_t nd, int negative,
                       const pymarshal_allocator *alloc)
{
    uint32_t *limb;
    size_t n, j;
    char b[16];
    /* A number far longer than the output budget left is not converted:
     * at least (nd - 1) * 15 * log10(2) digits would follow. */
    if (o->limit && nd > 4096 && nd - 1 > (o->limit - o->total) / 4) {
        o->status = PYMARSHAL_ELIMIT;
        return 0;
    }
    if (nd == 0) {
        out_byte(o, '0');
        return 0;
    }
    limb = pm_bigint_base1e9(d, nd, alloc, &n);
    if (!limb)
        return -1;
    if (negative)
        out_byte(o, '-');
    out_put(o, b, (size_t)snprintf(b, sizeof b, "%" PRIu32, limb[n - 1]));
    for (j = n - 1; j-- > 0 && o->status == PYMARSHAL_OK;)
        out_put(o, b, (size_t)snprintf(b, sizeof b, "%09" PRIu32, limb[j]));
    cm_free(alloc, limb);
    return 0;
}

/* ---------------------------------------------- containers in progress */

/* Open-addressing set of the containers being printed (Python's
 * Py_ReprEnter list), so that a container met inside itself prints as
 * `[...]`. Linear probing, backward-shift deletion. */
typedef struct ptrset {
    const void **slot;
    size_t cap, count; /* cap: a power of two, or 0 */
} ptrset;

static size_t ptr_hash(const void *p, size_t cap)
{
    uint64_t h = (uint64_t)(uintptr_t)p * UINT64_C(0x9E3779B97F4A7C15);
    return (size_t)(h >> 32) & (cap - 1);
}

static int ptrset_has(const ptrset *s, const void *p)
{
    size_t i;
    if (!s->count)
        return 0;
    for (i = ptr_hash(p, s->cap); s->slot[i]; i = (i + 1) & (s->cap - 1))
        if (s->slot[i] == p)
            return 1;
    return 0;
}

static void ptrset_put(ptrset *s, const void *p)
{
    size_t i = ptr_hash(p, s->cap);
    while (s->slot[i])
        i = (i + 1) & (s->cap - 1);
    s->slot[i] = p;
    s->count++;
}

static int ptrset_add(ptrset *s, const void *p, const pymarshal_allocator *a)
{
    if ((s->count + 1) * 2 > s->cap) {
        ptrset old = *s;
        size_t i, cap = s->cap ? s->cap * 2 : 64;
        if (cap > SIZE_MAX / sizeof *s->slot)
            return -1;
        s->slot = cm_malloc(a, cap * sizeof *s->slot);
        if (!s->slot) {
            *s = old;
            return -1;
        }
        memset(s->slot, 0, cap * sizeof *s->slot);
        s->cap = cap;
        s->count = 0;
        for (i = 0; i < old.cap; i++)
            if (old.slot[i])
                ptrset_put(s, old.slot[i]);
        cm_free(a, old.slot);
    }
    ptrset_put(s, p);
    return 0;
}

static void ptrset_del(ptrset *s, const void *p)
{
    size_t mask = s->cap - 1, i = ptr_hash(p, s->cap), j;
    while (s->slot[i] != p)
        i = (i + 1) & mask;
    s->slot[i] = NULL;
    s->count--;
    /* Move later entries of the run back into the hole where needed. */
    for (j = (i + 1) & mask; s->slot[j]; j = (j + 1) & mask) {
        size_t home = ptr_hash(s->slot[j], s->cap);
        if (((j - home) & mask) >= ((j - i) & mask)) {
            s->slot[i] = s->slot[j];
            s->slot[j] = NULL;
            i = j;
        }
    }
}

/* ---------------------------------------------------------- the walker */

typedef struct frame {
    const pymarshal_value *v;
    pymarshal_kind kind;
    size_t i, n;   /* next item, item count (dicts: 2 per pair) */
    size_t *order; /* sets: CPython's item order (NULL: file order) */
} frame;

typedef struct walker {
    out o;
    const pymarshal_allocator *alloc;
    frame *stack;
    size_t depth, cap;
    ptrset busy;
    int nomem;
    const pymarshal_value *at; /* value being printed, for error offsets */
} walker;

/* How each container kind opens and closes, and what it shows when met
 * inside itself (Python's reprs; see docs/marshal.md for the choices made
 * where Python cannot produce the case). Slices never contain themselves. */
typedef struct shape {
    const char *open, *empty, *close, *again;
} shape;

static const shape *shape_of(pymarshal_kind k)
{
#define T(kind) [PYMARSHAL_##kind - PYMARSHAL_TUPLE]
    static const shape shapes[] = {
        T(TUPLE) = {"(", "()", ")", "(...)"},
        T(LIST) = {"[", "[]", "]", "[...]"},
        T(DICT) = {"{", "{}", "}", "{...}"},
        T(SET) = {"{", "set()", "}", "set(...)"},
        T(FROZENSET) = {"frozenset({", "frozenset()", "})", "frozenset(...)"},
        T(CODE) = {"", "", "", ""}, /* printed as a scalar */
        T(SLICE) = {"slice(", "slice()", ")", "slice(...)"},
        T(FROZENDICT) = {"frozendict({", "frozendict()", "})", "frozendict(...)"},
    };
#undef T
    return &shapes[k - PYMARSHAL_TUPLE];
}

static void code_name_part(walker *w, const pymarshal_value *v);
static void scalar_repr(walker *w, const pymarshal_value *v);

/* <code object NAME at 0x..., file "FILE", line N>. Python's address is
 * the object's; ours is made up from the input offset, stable per file. */
static void code_repr(walker *w, const pymarshal_value *v)
{
    pymarshal_code_info ci;
    char b[80];
    uint64_t addr = UINT64_C(0x7f0000000000) +
                    (((uint64_t)pymarshal_value_offset(v) << 4) & UINT64_C(0xffffffffff));
    memset(&ci, 0, sizeof ci);
    pymarshal_value_code(v, &ci);
    out_str(&w->o, "<code object ");
    code_name_part(w, ci.name);
    out_put(&w->o, b, (size_t)snprintf(b, sizeof b, " at 0x%012" PRIx64 ", file \"", addr));
    code_name_part(w, ci.filename);
    /* code_repr prints a first line number of 0 as -1, in every Python */
    out_put(&w->o, b, (size_t)snprintf(b, sizeof b, "\", line %" PRId64 ">",
                                       ci.firstlineno ? ci.firstlineno : -1));
}

/* A code object's name or file name: the text itself for a str (as
 * Python's %U), the repr of any other scalar, `?` for anything else. */
static void code_name_part(walker *w, const pymarshal_value *v)
{
    size_t len;
    pymarshal_text text;
    const uint8_t *s;
    pymarshal_kind k = v ? pymarshal_value_kind(v) : PYMARSHAL_NULL;
    if (k == PYMARSHAL_STR) {
        s = pymarshal_value_bytes(v, &len, &text);
        text_raw(&w->o, s, len, text);
    } else if (k == PYMARSHAL_NULL || k == PYMARSHAL_CODE || k >= PYMARSHAL_TUPLE) {
        out_byte(&w->o, '?');
    } else {
        scalar_repr(w, v);
    }
}

static void scalar_repr(walker *w, const pymarshal_value *v)
{
    char b[48];
    size_t len, nd;
    int neg;
    pymarshal_text text;
    const uint8_t *s;
    const uint16_t *dig;
    switch (pymarshal_value_kind(v)) {
    case PYMARSHAL_NONE: out_str(&w->o, "None"); break;
    case PYMARSHAL_FALSE: out_str(&w->o, "False"); break;
    case PYMARSHAL_TRUE: out_str(&w->o, "True"); break;
    case PYMARSHAL_STOPITER: out_str(&w->o, "<class 'StopIteration'>"); break;
    case PYMARSHAL_ELLIPSIS: out_str(&w->o, "Ellipsis"); break;
    case PYMARSHAL_INT:
        out_put(&w->o, b,
                (size_t)snprintf(b, sizeof b, "%" PRId64, pymarshal_value_int(v)));
        break;
    case PYMARSHAL_BIGINT:
        dig = pymarshal_value_bigint(v, &nd, &neg);
        if (bigint_repr(&w->o, dig, nd, neg, w->alloc) != 0)
            w->nomem = 1;
        break;
    case PYMARSHAL_FLOAT:
        out_put(&w->o, b, pymarshal_float_repr(pymarshal_value_float(v), b));
        break;
    case PYMARSHAL_COMPLEX:
        complex_repr(&w->o, pymarshal_value_float(v), pymarshal_value_imag(v));
        break;
    case PYMARSHAL_BYTES:
        s = pymarshal_value_bytes(v, &len, &text);
        bytes_repr(&w->o, s, len);
        break;
    case PYMARSHAL_STR:
        s = pymarshal_value_bytes(v, &len, &text);
        text_repr(&w->o, s, len, text);
        break;
    case PYMARSHAL_CODE: code_repr(w, v); break;
    default: out_str(&w->o, "<NULL>"); break;
    }
}

/* Print a value: scalars at once, containers by opening them and pushing a
 * frame whose items the main loop prints. 0 ok, -1 out of memory. */
static int value_begin(walker *w, const pymarshal_value *v)
{
    pymarshal_kind k = pymarshal_value_kind(v);
    const shape *sh;
    size_t n, count, *order = NULL;
    int nomem;
    w->at = v;
    if (k < PYMARSHAL_TUPLE || k == PYMARSHAL_CODE || k == PYMARSHAL_REF) {
        scalar_repr(w, v);
        return w->nomem ? -1 : 0;
    }
    sh = shape_of(k);
    n = pymarshal_value_len(v);
    if (n == 0 && k != PYMARSHAL_SLICE) {
        out_str(&w->o, sh->empty);
        return 0;
    }
    if (ptrset_has(&w->busy, v)) {
        out_str(&w->o, sh->again);
        return 0;
    }
    if (w->depth == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 32;
        frame *st = cap <= SIZE_MAX / sizeof *st
                        ? cm_realloc(w->alloc, w->stack, cap * sizeof *st) : NULL;
        if (!st)
            return -1;
        w->stack = st;
        w->cap = cap;
    }
    if (k == PYMARSHAL_SET || k == PYMARSHAL_FROZENSET) {
        order = pm_set_order(v, w->alloc, &count, &nomem);
        if (nomem)
            return -1;
        n = order ? count : n;
    }
    if (ptrset_add(&w->busy, v, w->alloc) != 0) {
        cm_free(w->alloc, order);
        return -1;
    }
    if (k == PYMARSHAL_DICT || k == PYMARSHAL_FROZENDICT)
        n *= 2;
    w->stack[w->depth++] = (frame){v, k, 0, n, order};
    out_str(&w->o, sh->open);
    return 0;
}

/* The next thing the top frame prints: a separator and item, or its close. */
static int frame_step(walker *w)
{
    frame *f = &w->stack[w->depth - 1];
    const pymarshal_value *child;
    if (f->i == f->n) {
        out_str(&w->o, f->kind == PYMARSHAL_TUPLE && f->n == 1 ? ",)" : shape_of(f->kind)->close);
        ptrset_del(&w->busy, f->v);
        cm_free(w->alloc, f->order);
        w->depth--;
        return 0;
    }
    if (f->kind == PYMARSHAL_DICT || f->kind == PYMARSHAL_FROZENDICT) {
        if (f->i % 2) {
            out_put(&w->o, ": ", 2);
            child = pymarshal_value_val(f->v, f->i / 2);
        } else {
            if (f->i)
                out_put(&w->o, ", ", 2);
            child = pymarshal_value_key(f->v, f->i / 2);
        }
    } else {
        if (f->i)
            out_put(&w->o, ", ", 2);
        child = pymarshal_value_item(f->v, f->order ? f->order[f->i] : f->i);
    }
    f->i++;
    return value_begin(w, child);
}

static void set_error(pymarshal_error *err, pymarshal_errcode code, size_t offset,
                      const char *msg, size_t limit)
{
    if (!err)
        return;
    err->code = code;
    err->offset = offset;
    if (code == PYMARSHAL_ELIMIT)
        snprintf(err->msg, sizeof err->msg, "repr longer than the limit of %zu bytes",
                 limit);
    else
        snprintf(err->msg, sizeof err->msg, "%s", msg);
}

int pymarshal_repr(const pymarshal_value *v, size_t max_output,
                   const pymarshal_allocator *alloc, pymarshal_write_fn write,
                   void *ctx, pymarshal_error *err)
{
    walker *w = cm_malloc(alloc, sizeof *w);
    int rc = 0;
    pymarshal_errcode code;
    size_t offset;
    if (!w) {
        set_error(err, PYMARSHAL_ENOMEM, v ? pymarshal_value_offset(v) : 0,
                  "out of memory", 0);
        return -1;
    }
    memset(w, 0, sizeof *w);
    out_init(&w->o, write, ctx, max_output);
    w->alloc = alloc;
    if (v)
        rc = value_begin(w, v);
    while (rc == 0 && w->depth > 0 && w->o.status == PYMARSHAL_OK)
        rc = frame_step(w);
    out_flush(&w->o);
    code = rc != 0 ? PYMARSHAL_ENOMEM : w->o.status;
    offset = w->at ? pymarshal_value_offset(w->at) : 0;
    while (w->depth > 0)
        cm_free(alloc, w->stack[--w->depth].order);
    cm_free(alloc, w->stack);
    cm_free(alloc, w->busy.slot);
    cm_free(alloc, w);
    if (code == PYMARSHAL_OK) {
        if (err)
            memset(err, 0, sizeof *err);
        return 0;
    }
    set_error(err, code, offset,
              code == PYMARSHAL_ENOMEM ? "out of memory while printing the repr"
                                       : "the output sink failed",
              max_output);
    return -1;
}
