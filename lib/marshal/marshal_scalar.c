/*
 * Scalars: the payload of every marshal type that is not a container, read
 * at the reader's position (ints, longs, floats, complex, strings), and the
 * reader's sticky error. The second step of the pipeline (marshal_common.c,
 * then this file, marshal_code.c, marshal_reader.c): it calls only
 * marshal_common.c and lib/common/.
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

int pm_need_fail(pymarshal_reader *r, size_t n, size_t off, const char *what)
{
    size_t left = r->len - r->pos;
    return pm_fail(r, PYMARSHAL_ETRUNCATED, off,
                   "truncated: %s needs %zu bytes, %zu left", what, n, left);
}

/* ----------------------------------------------------------- scalars */

static uint8_t *scratch(pymarshal_reader *r, size_t n, size_t off)
{
    if (cm_reserve(r->alloc, (void **)&r->scratch, &r->cap_scratch, n ? n : 1, 1) < 0) {
        pm_fail(r, PYMARSHAL_ENOMEM, off, "out of memory for a rewritten value");
        return NULL;
    }
    return r->scratch;
}


/* Bytes 1.. of the longest valid start of a UTF-8 sequence at p[0..n) (lone
 * surrogates allowed): at least 1. */
static size_t bad_run(const uint8_t *p, size_t n)
{
    uint8_t c = p[0];
    size_t want = c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3
                  : c >= 0xF0 && c <= 0xF4 ? 4 : 1;
    size_t k = 1;
    while (k < want && k < n) {
        uint8_t lo = 0x80, hi = 0xBF;
        if (k == 1 && c == 0xE0) lo = 0xA0;
        if (k == 1 && c == 0xF0) lo = 0x90;
        if (k == 1 && c == 0xF4) hi = 0x8F;
        if (p[k] < lo || p[k] > hi)
            break;
        k++;
    }
    return k;
}

/* PyPy's reading of a 'u' or 't' that is not UTF-8: the valid text before
 * the first bad sequence, then each byte of that sequence as the five
 * characters \uxHH, and nothing after it (checked on PyPy 7.3.11). */
static int pypy_text(pymarshal_reader *r, pymarshal_token *tok, size_t bad)
{
    size_t run = bad_run(tok->data + bad, tok->len - bad);
    uint8_t *out = scratch(r, bad + 5 * run, tok->offset);
    if (!out)
        return -1;
    memcpy(out, tok->data, bad);
    for (size_t k = 0; k < run; k++) {
        static const char hex[] = "0123456789ABCDEF";
        uint8_t b = tok->data[bad + k];
        uint8_t *q = out + bad + 5 * k;
        q[0] = '\\';
        q[1] = 'u';
        q[2] = 'x';
        q[3] = (uint8_t)hex[b >> 4];
        q[4] = (uint8_t)hex[b & 15];
    }
    tok->data = out;
    tok->len = bad + 5 * run;
    tok->kind = PYMARSHAL_STR;
    tok->text = PYMARSHAL_UTF8;
    return 0;
}

/* Python 2.7 reads a 32-bit field byte by byte and takes a missing byte as
 * EOF (-1): an 'i' or 'I' cut by the end of the input loads, its missing
 * bytes read as 0xff. */
static int truncated_int(pymarshal_reader *r, pymarshal_token *tok, size_t width)
{
    uint8_t b[8];
    size_t have = r->len - r->pos;
    memset(b, 0xff, sizeof b);
    memcpy(b, r->data + r->pos, have);
    r->pos = r->len;
    tok->kind = PYMARSHAL_INT;
    tok->i = width == 4 ? (int64_t)cm_i32(b) : (int64_t)cm_le64(b);
    return 1;
}

int pm_read_i32(pymarshal_reader *r, size_t off, const char *what, int32_t *out)
{
    if (pm_need(r, 4, off, what) < 0)
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
        if (pm_need(r, 1, off, "string length") < 0)
            return -1;
        n = r->data[r->pos++];
    } else {
        int32_t len;
        if (pm_read_i32(r, off, "string length", &len) < 0)
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

/* The text PyPy's float() parses: blanks stripped, each '_' that stands
 * between two digits dropped; SIZE_MAX-safe: a NUL or a misplaced '_'
 * gives text that no parser accepts. Returns its length in out[]. */
static size_t pypy_float_text(const uint8_t *s, size_t n, uint8_t *out)
{
    static const char blanks[] = " \t\n\v\f\r\x1c\x1d\x1e\x1f";
    while (n && s[0] && strchr(blanks, s[0]))
        s++, n--;
    while (n && s[n - 1] && strchr(blanks, s[n - 1]))
        n--;
    size_t m = 0;
    for (size_t k = 0; k < n; k++) {
        if (s[k] == '_' && k > 0 && k + 1 < n && s[k - 1] >= '0' && s[k - 1] <= '9' &&
            s[k + 1] >= '0' && s[k + 1] <= '9')
            continue;
        out[m++] = s[k] ? s[k] : '?';
    }
    return m;
}

static int read_text_float(pymarshal_reader *r, size_t off, double *out)
{
    if (pm_need(r, 1, off, "float text length") < 0)
        return -1;
    size_t n = r->data[r->pos++];
    if (n > r->len - r->pos)
        return pm_fail(r, PYMARSHAL_ETRUNCATED, off,
                       "truncated: float text of %zu bytes needs %zu bytes, %zu left", n,
                       n, r->len - r->pos);
    /* CPython parses the text as a C string: it ends at a NUL byte. PyPy
     * calls float() on it: blanks around it and '_' between digits pass,
     * a NUL does not. */
    const uint8_t *p = r->data + r->pos;
    const uint8_t *nul = memchr(p, 0, n);
    size_t text = nul ? (size_t)(nul - p) : n;
    uint8_t tidy[256];
    if (pm_dialect(r) == PM_PYPY) {
        text = pypy_float_text(p, n, tidy);
        p = tidy;
    }
    if (pm_parse_float_text(p, text, out) < 0)
        return pm_fail(r, PYMARSHAL_EVALUE, off, "bad float text '%.*s'",
                       (int)(n > 40 ? 40 : n), (const char *)r->data + r->pos);
    r->pos += n;
    return 0;
}

static int read_long(pymarshal_reader *r, pymarshal_token *tok)
{
    size_t off = tok->offset;
    int32_t n;
    if (pm_read_i32(r, off, "long digit count", &n) < 0)
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
    int pypy = pm_dialect(r) == PM_PYPY;
    for (size_t k = 0; k < nd; k++) {
        unsigned dig = (unsigned)d[2 * k] | (unsigned)d[2 * k + 1] << 8;
        if (dig >= 0x8000) /* PyPy loads it, as a value we do not reproduce */
            return pm_fail(r, PYMARSHAL_EVALUE, off + 5 + 2 * k,
                           "long digit 0x%04x out of range (digits are 15 bits)%s", dig,
                           pypy ? "; PyPy accepts it with a value of its own" : "");
        if (k == nd - 1 && dig == 0 && !pypy)
            return pm_fail(r, PYMARSHAL_EVALUE, off,
                           "unnormalized long: most significant digit is 0");
    }
    r->pos += nd * 2;
    size_t given = nd;
    while (nd && !d[2 * nd - 1] && !d[2 * nd - 2]) /* PyPy: leading zeros pass, */
        nd--;
    if (given && !nd) /* but not a value of 0 written with digits */
        return pm_fail(r, PYMARSHAL_EVALUE, off, "bad marshal data (a long of value 0 "
                                                 "written with digits: PyPy refuses it)");
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

/* The text kinds: 't' (interned), 'u', and the "ASCII" forms 'a' 'A' 'z'
 * 'Z'. 1, or -1 on error. */
static int read_text(pymarshal_reader *r, pymarshal_token *tok, uint8_t code)
{
    switch (code) {
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
        if (tok->kind == PYMARSHAL_BYTES && r->impl == PYMARSHAL_PY_PYPY) {
            tok->kind = PYMARSHAL_STR;
            return pypy_text(r, tok, bad) < 0 ? -1 : 1;
        }
        if (tok->kind == PYMARSHAL_BYTES && r->impl != PYMARSHAL_PY_AUTO &&
            pm_dialect(r) != PM_CPY2)
            return pm_fail(r, PYMARSHAL_EUTF8, (size_t)(tok->data - r->data) + bad,
                           "invalid UTF-8 in str (byte 0x%02x)", tok->data[bad]);
        return 1;
    }
    case 'u': {
        if (read_str(r, tok, 0) < 0)
            return -1;
        size_t bad;
        if (!cm_utf8_valid(tok->data, tok->len, &bad) && pm_dialect(r) == PM_PYPY)
            return pypy_text(r, tok, bad) < 0 ? -1 : 1;
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
        if (pm_dialect(r) == PM_PYPY) /* PyPy: ASCII only */
            for (size_t k = 0; k < tok->len; k++)
                if (tok->data[k] >= 0x80)
                    return pm_fail(r, PYMARSHAL_EVALUE, (size_t)(tok->data - r->data) + k,
                                   "string is not ascii (byte 0x%02x; PyPy refuses it)",
                                   tok->data[k]);
        tok->kind = PYMARSHAL_STR;
        tok->text = PYMARSHAL_LATIN1;
        tok->interned = code == 'A' || code == 'Z';
        return 1;
    }
    return 1;
}

/* Read the payload of scalar type `code` at r->pos into tok. 1 when `code`
 * is a scalar, 0 when it is not, -1 on error. No slots are taken. */
int pm_read_scalar(pymarshal_reader *r, pymarshal_token *tok, uint8_t code)
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
        if (r->len - r->pos < 4 && pm_dialect(r) == PM_CPY2)
            return truncated_int(r, tok, 4);
        if (pm_read_i32(r, off, "int", &i) < 0)
            return -1;
        tok->kind = PYMARSHAL_INT;
        tok->i = i;
        return 1;
    case 'I':
        if (r->len - r->pos < 8 && pm_dialect(r) == PM_CPY2)
            return truncated_int(r, tok, 8);
        if (pm_need(r, 8, off, "int64") < 0)
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
        if (pm_need(r, code == 'g' ? 8 : 16, off, code == 'g' ? "float" : "complex") < 0)
            return -1;
        tok->kind = code == 'g' ? PYMARSHAL_FLOAT : PYMARSHAL_COMPLEX;
        tok->f = pm_bin_double(r->data + r->pos);
        if (code == 'y')
            tok->imag = pm_bin_double(r->data + r->pos + 8);
        r->pos += code == 'g' ? 8 : 16;
        return 1;
    case 's':
        tok->kind = PYMARSHAL_BYTES;
        return read_str(r, tok, 0) < 0 ? -1 : 1;
    case 't':
    case 'u':
    case 'a':
    case 'A':
    case 'z':
    case 'Z':
        return read_text(r, tok, code);
    }
    return 0;
}

/* A reference to a scalar of the common kinds, decoded straight from the
 * bytes at `target`: they were fully checked (bounds, UTF-8) when the slot
 * was taken, and the slot's kind tells whether a 't' was UTF-8. 1 done, 0
 * not one of these codes. */
int pm_ref_scalar_fast(const pymarshal_reader *r, pymarshal_token *tok, size_t target,
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
        tok->f = pm_bin_double(p + 1);
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
        if ((c == 'u' || c == 't') && r->impl == PYMARSHAL_PY_PYPY)
            return 0; /* its text may be rewritten: read it again */
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

int pm_reread(pymarshal_reader *r, pymarshal_token *tok, size_t target)
{
    size_t save = r->pos, off = tok->offset;
    tok->offset = target;
    r->pos = target + 1;
    int rc = pm_read_scalar(r, tok, r->data[target] & 0x7f);
    r->pos = save;
    tok->offset = off;
    return rc == 1 ? 0 : -1;
}

