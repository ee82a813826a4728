/*
 * The streaming JSON sink shared by the JSON outputs (pstats_jsonout.h).
 */
#include <math.h>
#include <string.h>

#include "pstats_jsonout.h"

void jo_init(jout *o, pstats_write_fn write, void *ctx)
{
    o->write = write;
    o->ctx = ctx;
    o->failed = o->oom = 0;
    o->len = 0;
}

void jo_flush(jout *o)
{
    if (o->len && !o->failed && o->write(o->ctx, o->buf, o->len) != 0)
        o->failed = 1;
    o->len = 0;
}

void jo_put_slow(jout *o, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        if (o->len == JO_BUFSIZE)
            jo_flush(o);
        size_t k = JO_BUFSIZE - o->len < n ? JO_BUFSIZE - o->len : n;
        memcpy(o->buf + o->len, c, k);
        o->len += k;
        c += k;
        n -= k;
    }
}

void jo_i64(jout *o, int64_t v)
{
    char tmp[24], *p = tmp + sizeof tmp;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--p = '-';
    jo_put(o, p, (size_t)(tmp + sizeof tmp - p));
}

void jo_double(jout *o, double v)
{
    char tmp[40];
    if (isnan(v)) {
        jo_lit(o, "\"NaN\"");
        return;
    }
    if (isinf(v)) {
        jo_lit(o, v < 0 ? "\"-Infinity\"" : "\"Infinity\"");
        return;
    }
    jo_put(o, tmp, pymarshal_float_repr(v, tmp));
}

void jo_num(jout *o, const pstats_stats *s, pnum a)
{
    if (a.kind == PN_INT) {
        jo_i64(o, a.u.i);
    } else if (a.kind == PN_FLOAT) {
        jo_double(o, a.u.f);
    } else {
        psb b;
        psb_init(&b, (pstats_stats *)s);
        pn_str(s, a, &b);
        o->oom |= b.oom;
        if (!b.oom)
            jo_put(o, b.p, b.len);
        psb_free(&b);
    }
}

/* One code point at p (UTF-8 with surrogates, as cm_utf8_valid takes it)
 * or -1 when the bytes there are not such UTF-8; *len gets its size. */
static int32_t decode(const uint8_t *p, size_t n, size_t *len)
{
    size_t bad;
    uint8_t c = p[0];
    size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    if (need > n || !cm_utf8_valid(p, need, &bad))
        return -1;
    *len = need;
    if (need == 2)
        return (int32_t)((c & 0x1F) << 6 | (p[1] & 0x3F));
    if (need == 3)
        return (int32_t)((c & 0x0F) << 12 | (p[1] & 0x3F) << 6 | (p[2] & 0x3F));
    return (int32_t)((c & 0x07) << 18 | (p[1] & 0x3F) << 12 | (p[2] & 0x3F) << 6 |
                     (p[3] & 0x3F));
}

static void put_u_escape(jout *o, unsigned cp)
{
    static const char hex[] = "0123456789abcdef";
    char e[6] = {'\\', 'u', hex[(cp >> 12) & 15], hex[(cp >> 8) & 15], hex[(cp >> 4) & 15],
                 hex[cp & 15]};
    jo_put(o, e, 6);
}

int jo_str(jout *o, const uint8_t *p, size_t n)
{
    int latin = 0;
    size_t i = 0, run = 0;
    jo_put(o, "\"", 1);
    while (i < n) {
        while (i + 8 <= n) { /* eight plain bytes at a time: none < 0x20, >= 0x80, '"', '\\' */
            uint64_t x;
            memcpy(&x, p + i, 8);
            const uint64_t ones = UINT64_C(0x0101010101010101), high = ones * 0x80;
            uint64_t q = x ^ (ones * '"'), b = x ^ (ones * '\\');
            uint64_t special = ((x - ones * 0x20) | (q - ones) | (b - ones) | x) & high;
            if (special)
                break;
            i += 8;
            run += 8;
        }
        if (i >= n)
            break;
        uint8_t c = p[i];
        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
            i++;
            run++;
            continue;
        }
        jo_put(o, p + i - run, run);
        run = 0;
        if (c < 0x80) {
            static const char esc[] = "btnvfr";
            if (c == '"' || c == '\\') {
                char e[2] = {'\\', (char)c};
                jo_put(o, e, 2);
            } else if (c >= 8 && c <= 13 && c != 11) {
                char e[2] = {'\\', esc[c - 8]};
                jo_put(o, e, 2);
            } else {
                put_u_escape(o, c);
            }
            i++;
            continue;
        }
        size_t len;
        int32_t cp = decode(p + i, n - i, &len);
        if (cp < 0) { /* not UTF-8: the byte as Latin-1 */
            char u[2] = {(char)(0xC0 | c >> 6), (char)(0x80 | (c & 0x3F))};
            jo_put(o, u, 2);
            latin = 1;
            i++;
        } else if (cp >= 0xD800 && cp <= 0xDFFF) { /* a lone surrogate */
            put_u_escape(o, (unsigned)cp);
            i += len;
        } else {
            jo_put(o, p + i, len);
            i += len;
        }
    }
    jo_put(o, p + i - run, run);
    jo_put(o, "\"", 1);
    return latin;
}

void jo_hex(jout *o, const uint8_t *p, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    jo_put(o, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        char h[2] = {hex[p[i] >> 4], hex[p[i] & 15]};
        jo_put(o, h, 2);
    }
    jo_put(o, "\"", 1);
}

void jo_str_field(jout *o, const char *key, const uint8_t *p, size_t n)
{
    jo_put(o, "\"", 1);
    jo_lit(o, key);
    jo_lit(o, "\": ");
    if (jo_str(o, p, n)) {
        jo_lit(o, ", \"");
        jo_lit(o, key);
        jo_lit(o, "_bytes\": ");
        jo_hex(o, p, n);
    }
}

void jo_label(jout *o, const pstats_stats *s, uint32_t id, char **lab, size_t *labcap)
{
    size_t len;
    if (ps_label_dyn(s, id, lab, labcap, &len)) {
        o->oom = 1;
        return;
    }
    jo_str(o, (const uint8_t *)*lab, len);
}

int jo_finish(jout *o, pstats_error *err, const char *what)
{
    if (!o->oom)
        jo_flush(o);
    if (o->oom) {
        ps_seterr(err, PSTATS_ENOMEM, NULL, 0, 0, "out of memory while writing %s", what);
        return -1;
    }
    if (o->failed) {
        ps_seterr(err, PSTATS_EIO, NULL, 0, 0, "writing %s failed", what);
        return -1;
    }
    return 0;
}
