/*
 * The low-level marshal writer: the caller states each object, the writer
 * picks the type code for the version and buffers the bytes to a sink.
 *
 *   version 2: what Python 2.5-3.3 write: no FLAG_REF, no 'r', no short
 *              forms; str as 'u' (interned: 't'). Python 2.7 loads it.
 *   version 3: adds FLAG_REF and 'r'.
 *   version 4: adds 'z' 'Z' 'a' 'A' for ASCII str and ')' for tuples of
 *              fewer than 256 items (what 3.4-3.13 write by default).
 *
 * Ints outside the 32-bit range become 'l' (15-bit digits), as Python 3
 * writes them, except in version 2, where an int64 is 'I' as Python 2
 * writes it (so Python 2 reads an int, not a long; Python 3 reads 'I'
 * too). Floats are always binary ('g', 'y').
 * Errors are sticky: the first one is kept, later calls do nothing, and
 * pymarshal_writer_finish reports it. Error offsets are output offsets.
 */
#include <string.h>

#include "marshal_internal.h"
#include "marshal_writer_int.h"

#define PM_WBUF (64u << 10)

struct pymarshal_writer {
    pymarshal_allocator alloc_copy;
    const pymarshal_allocator *alloc;
    pymarshal_write_fn write;
    void *ctx;
    int version;
    int failed;
    uint8_t *buf;
    size_t n;
    size_t flushed; /* bytes handed to the sink so far */
    int64_t next_slot;
    pymarshal_error err;
};

static int64_t wfail(pymarshal_writer *w, pymarshal_errcode code, const char *what)
{
    if (!w->failed) {
        w->failed = 1;
        pm_set_error(&w->err, code, w->flushed + w->n, "%s", what);
    }
    return -1;
}

static void flush(pymarshal_writer *w)
{
    if (w->failed || !w->n)
        return;
    if (w->write(w->ctx, w->buf, w->n) != 0) {
        wfail(w, PYMARSHAL_EIO, "the output sink failed");
        return;
    }
    w->flushed += w->n;
    w->n = 0;
}

static void put(pymarshal_writer *w, const void *p, size_t len)
{
    if (w->failed)
        return;
    if (len > PM_WBUF - w->n) {
        flush(w);
        if (w->failed)
            return;
        if (len >= PM_WBUF) {
            if (w->write(w->ctx, p, len) != 0)
                wfail(w, PYMARSHAL_EIO, "the output sink failed");
            else
                w->flushed += len;
            return;
        }
    }
    memcpy(w->buf + w->n, p, len);
    w->n += len;
}

static void put_byte(pymarshal_writer *w, uint8_t b)
{
    put(w, &b, 1);
}

static void put_i32(pymarshal_writer *w, int32_t v)
{
    uint32_t u = (uint32_t)v;
    uint8_t b[4] = {(uint8_t)u, (uint8_t)(u >> 8), (uint8_t)(u >> 16), (uint8_t)(u >> 24)};
    put(w, b, 4);
}

static void put_double(pymarshal_writer *w, double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(u >> (8 * i));
    put(w, b, 8);
}

/* The type byte, with FLAG_REF and a new slot when asked. */
static int64_t begin(pymarshal_writer *w, uint8_t code, unsigned flags)
{
    if (w->failed)
        return -1;
    if (!(flags & PYMARSHAL_W_REF)) {
        put_byte(w, code);
        return -1;
    }
    if (w->version < 3)
        return wfail(w, PYMARSHAL_EVALUE, "FLAG_REF needs marshal version 3 or later");
    put_byte(w, (uint8_t)(code | PM_FLAG_REF));
    return w->failed ? -1 : w->next_slot++;
}

static int length_ok(pymarshal_writer *w, size_t len)
{
    if (len > INT32_MAX) {
        wfail(w, PYMARSHAL_ELENGTH, "length or count beyond 2**31-1");
        return 0;
    }
    return 1;
}

pymarshal_writer *pymarshal_writer_new(int version, const pymarshal_allocator *alloc,
                                       pymarshal_write_fn write, void *ctx,
                                       pymarshal_error *err)
{
    if (err)
        memset(err, 0, sizeof *err);
    if (version == 0)
        version = PYMARSHAL_VERSION_DEFAULT;
    if (version < 2 || version > 4 || !write) {
        pm_set_error(err, PYMARSHAL_EVALUE, 0,
                     "marshal writer: version %d not supported (0 = 4, 2, 3 or 4)%s", version,
                     write ? "" : ", and no sink");
        return NULL;
    }
    pymarshal_writer *w = cm_malloc(alloc, sizeof *w);
    uint8_t *buf = w ? cm_malloc(alloc, PM_WBUF) : NULL;
    if (!buf) {
        cm_free(alloc, w);
        pm_set_error(err, PYMARSHAL_ENOMEM, 0, "out of memory for a marshal writer");
        return NULL;
    }
    memset(w, 0, sizeof *w);
    if (alloc) {
        w->alloc_copy = *alloc;
        w->alloc = &w->alloc_copy;
    }
    w->write = write;
    w->ctx = ctx;
    w->version = version;
    w->buf = buf;
    return w;
}

int pymarshal_writer_finish(pymarshal_writer *w, pymarshal_error *err)
{
    if (!w)
        return -1;
    flush(w);
    int rc = w->failed ? -1 : 0;
    if (err)
        *err = w->err;
    const pymarshal_allocator *a = w->alloc;
    cm_free(a, w->buf);
    cm_free(a, w);
    return rc;
}

int pymarshal_priv_writer_failed(const pymarshal_writer *w)
{
    return w->failed;
}

void pymarshal_priv_writer_fail(pymarshal_writer *w, pymarshal_errcode code,
                                const char *what)
{
    wfail(w, code, what);
}

int64_t pymarshal_write_simple(pymarshal_writer *w, pymarshal_kind kind)
{
    static const char codes[] = {[PYMARSHAL_NULL] = '0',  [PYMARSHAL_NONE] = 'N',
                                 [PYMARSHAL_FALSE] = 'F', [PYMARSHAL_TRUE] = 'T',
                                 [PYMARSHAL_STOPITER] = 'S', [PYMARSHAL_ELLIPSIS] = '.'};
    if ((unsigned)kind >= sizeof codes)
        return wfail(w, PYMARSHAL_ETYPE, "pymarshal_write_simple: not a simple kind");
    return begin(w, (uint8_t)codes[kind], 0);
}

int64_t pymarshal_write_int(pymarshal_writer *w, int64_t v, unsigned flags)
{
    if (v >= INT32_MIN && v <= INT32_MAX) {
        int64_t slot = begin(w, 'i', flags);
        put_i32(w, (int32_t)v);
        return slot;
    }
    if (w->version == 2) {
        /* What Python 2 writes for an int beyond 32 bits; Python 3 reads it. */
        int64_t slot = begin(w, 'I', flags);
        put_i32(w, (int32_t)(uint32_t)((uint64_t)v & 0xFFFFFFFFu));
        put_i32(w, (int32_t)(uint32_t)((uint64_t)v >> 32));
        return slot;
    }
    return pymarshal_priv_write_long(w, v, flags);
}

int64_t pymarshal_priv_write_long(pymarshal_writer *w, int64_t v, unsigned flags)
{
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    uint16_t d[5];
    size_t n = 0;
    while (u) {
        d[n++] = (uint16_t)(u & 0x7fff);
        u >>= 15;
    }
    return pymarshal_write_bigint(w, d, n, v < 0, flags);
}

int64_t pymarshal_write_bigint(pymarshal_writer *w, const uint16_t *digits, size_t ndigits,
                               int negative, unsigned flags)
{
    if (ndigits > INT32_MAX)
        return wfail(w, PYMARSHAL_ELENGTH, "big int of more than 2**31-1 digits");
    for (size_t k = 0; k < ndigits; k++)
        if (digits[k] >= 0x8000)
            return wfail(w, PYMARSHAL_EVALUE, "big int digit beyond 15 bits");
    if (ndigits && digits[ndigits - 1] == 0)
        return wfail(w, PYMARSHAL_EVALUE, "big int not normalized (top digit 0)");
    int64_t slot = begin(w, 'l', flags);
    put_i32(w, negative ? -(int32_t)ndigits : (int32_t)ndigits);
    for (size_t k = 0; k < ndigits; k++) {
        uint8_t b[2] = {(uint8_t)digits[k], (uint8_t)(digits[k] >> 8)};
        put(w, b, 2);
    }
    return slot;
}

int64_t pymarshal_write_float(pymarshal_writer *w, double v, unsigned flags)
{
    int64_t slot = begin(w, 'g', flags);
    put_double(w, v);
    return slot;
}

int64_t pymarshal_write_complex(pymarshal_writer *w, double re, double im, unsigned flags)
{
    int64_t slot = begin(w, 'y', flags);
    put_double(w, re);
    put_double(w, im);
    return slot;
}

int64_t pymarshal_write_bytes(pymarshal_writer *w, const void *s, size_t len, unsigned flags)
{
    if (!length_ok(w, len))
        return -1;
    int64_t slot = begin(w, 's', flags);
    put_i32(w, (int32_t)len);
    put(w, s, len);
    return slot;
}

static int is_ascii(const uint8_t *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] >= 0x80)
            return 0;
    return 1;
}

/* ASCII text: 'z'/'Z' or 'a'/'A' in version 4, else 'u'/'t'. */
static int64_t write_ascii(pymarshal_writer *w, const uint8_t *s, size_t len, unsigned flags)
{
    int interned = (flags & PYMARSHAL_W_INTERNED) != 0;
    int64_t slot;
    if (w->version >= 4 && len < 256) {
        slot = begin(w, interned ? 'Z' : 'z', flags);
        put_byte(w, (uint8_t)len);
    } else {
        slot = begin(w, w->version >= 4 ? (interned ? 'A' : 'a') : (interned ? 't' : 'u'),
                     flags);
        put_i32(w, (int32_t)len);
    }
    put(w, s, len);
    return slot;
}

int64_t pymarshal_write_str(pymarshal_writer *w, const void *utf8, size_t len, unsigned flags)
{
    const uint8_t *s = utf8;
    if (!length_ok(w, len))
        return -1;
    if (is_ascii(s, len))
        return write_ascii(w, s, len, flags);
    size_t bad;
    if (!cm_utf8_valid(s, len, &bad))
        return wfail(w, PYMARSHAL_EUTF8, "pymarshal_write_str: text is not UTF-8");
    int64_t slot = begin(w, (flags & PYMARSHAL_W_INTERNED) ? 't' : 'u', flags);
    put_i32(w, (int32_t)len);
    put(w, s, len);
    return slot;
}

int64_t pymarshal_priv_write_latin1(pymarshal_writer *w, const uint8_t *s, size_t len,
                                    unsigned flags)
{
    if (!length_ok(w, len))
        return -1;
    size_t high = 0;
    for (size_t i = 0; i < len; i++)
        high += s[i] >= 0x80;
    if (!high)
        return write_ascii(w, s, len, flags);
    if (!length_ok(w, len + high))
        return -1;
    int64_t slot = begin(w, (flags & PYMARSHAL_W_INTERNED) ? 't' : 'u', flags);
    put_i32(w, (int32_t)(len + high));
    for (size_t i = 0; i < len; i++) {
        if (s[i] < 0x80) {
            put_byte(w, s[i]);
        } else {
            uint8_t b[2] = {(uint8_t)(0xC0 | s[i] >> 6), (uint8_t)(0x80 | (s[i] & 0x3F))};
            put(w, b, 2);
        }
    }
    return slot;
}

int64_t pymarshal_write_seq(pymarshal_writer *w, pymarshal_kind kind, size_t count,
                            unsigned flags)
{
    if (!length_ok(w, count))
        return -1;
    int64_t slot;
    switch (kind) {
    case PYMARSHAL_TUPLE:
        if (w->version >= 4 && count < 256) {
            slot = begin(w, ')', flags);
            put_byte(w, (uint8_t)count);
            return slot;
        }
        slot = begin(w, '(', flags);
        break;
    case PYMARSHAL_LIST: slot = begin(w, '[', flags); break;
    case PYMARSHAL_SET: slot = begin(w, '<', flags); break;
    case PYMARSHAL_FROZENSET: slot = begin(w, '>', flags); break;
    case PYMARSHAL_FROZENDICT: slot = begin(w, '}', flags); break;
    case PYMARSHAL_SLICE:
        if (count != 3)
            return wfail(w, PYMARSHAL_ELENGTH, "a slice has 3 items");
        return begin(w, ':', flags);
    default:
        return wfail(w, PYMARSHAL_ETYPE, "pymarshal_write_seq: not a sequence kind");
    }
    put_i32(w, (int32_t)count);
    return slot;
}

int64_t pymarshal_write_dict(pymarshal_writer *w, unsigned flags)
{
    return begin(w, '{', flags);
}

void pymarshal_write_dict_end(pymarshal_writer *w)
{
    begin(w, '0', 0);
}

void pymarshal_write_ref(pymarshal_writer *w, int64_t slot)
{
    if (w->failed)
        return;
    if (w->version < 3) {
        wfail(w, PYMARSHAL_EVALUE, "references need marshal version 3 or later");
        return;
    }
    if (slot < 0 || slot >= w->next_slot) {
        wfail(w, PYMARSHAL_EREF, "reference to a slot not yet written");
        return;
    }
    put_byte(w, 'r');
    put_i32(w, (int32_t)slot);
}

int64_t pymarshal_write_code(pymarshal_writer *w, pymarshal_code_layout layout,
                             unsigned flags)
{
    if (!pm_code_fields(layout))
        return wfail(w, PYMARSHAL_EVALUE, "unknown code object layout");
    return begin(w, 'c', flags);
}

void pymarshal_write_raw_i32(pymarshal_writer *w, int32_t v)
{
    put_i32(w, v);
}
