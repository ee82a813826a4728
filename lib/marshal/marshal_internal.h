/*
 * lib/marshal/: libpymarshal, Python's marshal format without libpython.
 *
 * What lives here, as a pipeline; each file calls only the files above it
 * (and lib/common/), never one below:
 *
 *   marshal_common.c         error text, names of codes and kinds, float text
 *   marshal_scalar.c         the reader's sticky error; scalar payloads
 *   marshal_code.c           which code object layouts the bytes allow
 *   marshal_reader.c         the token reader: stack, reference table, layout
 *                            look-ahead (pymarshal_reader_*)
 *   marshal_value.c          the tree's accessors (pymarshal_value_*)
 *   marshal_equal.c          pymarshal_value_equal
 *   marshal_pyeq.c           Python's == and hash() on tree nodes (dict keys)
 *   marshal_tree.c           the value tree built from tokens (pymarshal_load)
 *   marshal_unicode_table.c  str.isprintable() of Python 3.13
 *   marshal_repr_num.c       repr of floats and ints
 *   marshal_repr.c           repr of a tree (pymarshal_repr)
 *   marshal_writer.c         the low-level writer (pymarshal_writer_*)
 *   marshal_encode.c         a tree through the writer (pymarshal_encode)
 *
 * Private headers: this one (everything), marshal_reader_int.h (scalar,
 * code, reader), marshal_tree_int.h (value, equal, pyeq, tree, repr,
 * encode), marshal_repr_int.h, marshal_writer_int.h.
 * What this layer may include: lib/common/ (common.h) and the public
 * headers (include/pstats/marshal.h, version.h) only; nothing of
 * lib/pstats/ or lib/callgrind/, which sit above it. Not installed.
 */
#ifndef PSTATS_MARSHAL_INTERNAL_H
#define PSTATS_MARSHAL_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "common.h" /* allocation, byte access, UTF-8 (lib/common/) */
#include "pstats/marshal.h"

#define PM_FLAG_REF 0x80u

/* ---------------------------------------------------------------- errors */

/* Fill *e (if non-NULL) with code, offset and the formatted message, to
 * which " at offset N" is appended. */
void pm_set_error(pymarshal_error *e, pymarshal_errcode code, size_t offset,
                  const char *fmt, ...) CM_PRINTF(4, 5);

/* ------------------------------------------------------------ code layout */

/* The fields of a code layout in file order: 'i' a raw 32-bit int, 'o' an
 * object. NULL for an unknown layout. One table for reader, tree, writer. */
const char *pm_code_fields(pymarshal_code_layout layout);

/* ------------------------------------------------------------------ text */

/* Parse the text of a 'f'/'x' float as PyOS_string_to_double does (sign,
 * digits, '.', exponent, inf/infinity/nan in any case; nothing else, no
 * blanks). 0 ok, -1 when it is not a float. */
int pm_parse_float_text(const uint8_t *s, size_t n, double *out);

#endif
