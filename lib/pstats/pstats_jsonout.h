/*
 * A streaming JSON sink for the model's JSON outputs (pstats_json.c, and
 * the diff's in pstats_diff_json.c): a 64 KB buffer flushed through the
 * caller's write function, sticky errors, and the value writers both
 * share (Python numbers exact, strings as docs/json.md says).
 */
#ifndef PSTATS_JSONOUT_H
#define PSTATS_JSONOUT_H

#include "pstats_internal.h"

#define JO_BUFSIZE 65536

typedef struct jout {
    pstats_write_fn write;
    void *ctx;
    int failed;          /* write returned non-zero */
    int oom;
    size_t len;
    char buf[JO_BUFSIZE];
} jout;

void jo_init(jout *o, pstats_write_fn write, void *ctx);
void jo_flush(jout *o);
void jo_put_slow(jout *o, const void *p, size_t n);
static inline void jo_put(jout *o, const void *p, size_t n)
{
    if (n <= JO_BUFSIZE - o->len) {
        memcpy(o->buf + o->len, p, n);
        o->len += n;
        return;
    }
    jo_put_slow(o, p, n);
}
static inline void jo_lit(jout *o, const char *z) { jo_put(o, z, strlen(z)); }
void jo_i64(jout *o, int64_t v);
/* A float as Python's repr (exact round trip); NaN and the infinities,
 * which JSON lacks, as the strings "NaN", "Infinity", "-Infinity". */
void jo_double(jout *o, double v);
/* A model number: an int (any size, exact), or a float as jo_double. */
void jo_num(jout *o, const pstats_stats *s, pnum a);
/* A JSON string of bytes that are UTF-8 as Python's surrogatepass takes
 * it (lone surrogates escaped \udXXX); any other byte is read as Latin-1.
 * Returns 1 when the bytes were not such UTF-8 (the caller then adds the
 * exact bytes with jo_hex). */
int jo_str(jout *o, const uint8_t *p, size_t n);
/* The bytes as a JSON string of lowercase hex digits. */
void jo_hex(jout *o, const uint8_t *p, size_t n);
/* `"key": ` then the string, and `, "key_bytes": "hex"` when needed. */
void jo_str_field(jout *o, const char *key, const uint8_t *p, size_t n);
/* The label (func_std_string) of key id as a JSON string. */
void jo_label(jout *o, const pstats_stats *s, uint32_t id, char **lab, size_t *labcap);
/* 0, or -1 with err set: ENOMEM or EIO (what `what` was writing). */
int jo_finish(jout *o, pstats_error *err, const char *what);

#endif
