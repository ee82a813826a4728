/*
 * Private declarations shared by the libpymarshal sources in lib/marshal/.
 * Not installed; nothing outside lib/ includes it.
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
