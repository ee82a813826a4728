/*
 * Writer internals the encoder (marshal_encode.c) needs beyond the public
 * writer API.
 */
#ifndef PSTATS_MARSHAL_WRITER_INT_H
#define PSTATS_MARSHAL_WRITER_INT_H

#include <stddef.h>
#include <stdint.h>

#include "pstats/marshal.h"

/* A str given as Latin-1 (one byte per code point, as 'a'/'z' hold it):
 * ASCII is written like pymarshal_write_str, other text as UTF-8 'u'/'t'. */
int64_t pymarshal_priv_write_latin1(pymarshal_writer *w, const uint8_t *s, size_t len,
                                    unsigned flags);

/* An int as 'l' whatever its size (a Python 2 long stays a long). */
int64_t pymarshal_priv_write_long(pymarshal_writer *w, int64_t v, unsigned flags);

/* Whether the writer holds an error; record one (the first sticks). */
int pymarshal_priv_writer_failed(const pymarshal_writer *w);
void pymarshal_priv_writer_fail(pymarshal_writer *w, pymarshal_errcode code,
                                const char *what);

#endif
