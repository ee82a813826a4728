/*
 * What every libpymarshal source shares: error text, names of codes and
 * kinds, and float text parsing (allocation and UTF-8 validation are in
 * lib/common/, shared with libpstats).
 */
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "marshal_internal.h"
#include "pstats/version.h"

/* ---------------------------------------------------------------- errors */

void pm_set_error(pymarshal_error *e, pymarshal_errcode code, size_t offset,
                  const char *fmt, ...)
{
    if (!e)
        return;
    e->code = code;
    e->offset = offset;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
}

const char *pymarshal_errcode_name(pymarshal_errcode code)
{
    switch (code) {
    case PYMARSHAL_OK: return "ok";
    case PYMARSHAL_ETRUNCATED: return "truncated";
    case PYMARSHAL_ETYPE: return "bad type";
    case PYMARSHAL_ELENGTH: return "bad length";
    case PYMARSHAL_EREF: return "bad reference";
    case PYMARSHAL_EDEPTH: return "too deep";
    case PYMARSHAL_EUTF8: return "bad UTF-8";
    case PYMARSHAL_EVALUE: return "bad value";
    case PYMARSHAL_ENOMEM: return "out of memory";
    case PYMARSHAL_ELIMIT: return "limit reached";
    case PYMARSHAL_EIO: return "write failed";
    }
    return "unknown error";
}

const char *pymarshal_kind_name(pymarshal_kind kind)
{
    switch (kind) {
    case PYMARSHAL_NULL: return "NULL";
    case PYMARSHAL_NONE: return "NoneType";
    case PYMARSHAL_FALSE:
    case PYMARSHAL_TRUE: return "bool";
    case PYMARSHAL_STOPITER: return "StopIteration";
    case PYMARSHAL_ELLIPSIS: return "ellipsis";
    case PYMARSHAL_INT:
    case PYMARSHAL_BIGINT: return "int";
    case PYMARSHAL_FLOAT: return "float";
    case PYMARSHAL_COMPLEX: return "complex";
    case PYMARSHAL_BYTES: return "bytes";
    case PYMARSHAL_STR: return "str";
    case PYMARSHAL_TUPLE: return "tuple";
    case PYMARSHAL_LIST: return "list";
    case PYMARSHAL_DICT: return "dict";
    case PYMARSHAL_SET: return "set";
    case PYMARSHAL_FROZENSET: return "frozenset";
    case PYMARSHAL_CODE: return "code";
    case PYMARSHAL_SLICE: return "slice";
    case PYMARSHAL_FROZENDICT: return "frozendict";
    case PYMARSHAL_REF: return "reference";
    }
    return "unknown";
}

const char *pymarshal_version(void)
{
    return PSTATS_VERSION_STRING;
}

/* ------------------------------------------------------------ code layouts */

const char *pm_code_fields(pymarshal_code_layout layout)
{
    switch (layout) {
    case PYMARSHAL_CODE_PY27: return "iiiiooooooooio";
    case PYMARSHAL_CODE_PY30: return "iiiiiooooooooio";
    case PYMARSHAL_CODE_PY38: return "iiiiiiooooooooio";
    case PYMARSHAL_CODE_PY311: return "iiiiiooooooooioo";
    }
    return NULL;
}

/* ------------------------------------------------------------------ text */

static int ieq(const uint8_t *s, size_t n, const char *word)
{
    size_t k = strlen(word);
    if (n != k)
        return 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = s[i];
        if (c >= 'A' && c <= 'Z')
            c = (uint8_t)(c - 'A' + 'a');
        if (c != (uint8_t)word[i])
            return 0;
    }
    return 1;
}

static size_t digits(const uint8_t *s, size_t n, size_t i)
{
    size_t k = i;
    while (k < n && s[k] >= '0' && s[k] <= '9')
        k++;
    return k - i;
}

int pm_parse_float_text(const uint8_t *s, size_t n, double *out)
{
    size_t i = 0;
    int neg = 0;
    if (i < n && (s[i] == '+' || s[i] == '-'))
        neg = s[i++] == '-';
    if (ieq(s + i, n - i, "inf") || ieq(s + i, n - i, "infinity")) {
        *out = neg ? -HUGE_VAL : HUGE_VAL;
        return 0;
    }
    if (ieq(s + i, n - i, "nan")) {
        *out = neg ? -NAN : NAN;
        return 0;
    }
    /* Check the grammar, then copy with the locale's decimal point. */
    size_t intd = digits(s, n, i), fracd = 0, dot = SIZE_MAX;
    size_t k = i + intd;
    if (k < n && s[k] == '.') {
        dot = k;
        fracd = digits(s, n, k + 1);
        k += 1 + fracd;
    }
    if (intd + fracd == 0)
        return -1;
    if (k < n && (s[k] == 'e' || s[k] == 'E')) {
        size_t e = k + 1;
        if (e < n && (s[e] == '+' || s[e] == '-'))
            e++;
        size_t ed = digits(s, n, e);
        if (ed == 0)
            return -1;
        k = e + ed;
    }
    if (k != n)
        return -1;
    char buf[300];
    const char *point = localeconv()->decimal_point;
    size_t plen = point && *point ? strlen(point) : 1;
    if (n + plen >= sizeof buf)
        return -1;
    size_t o = 0;
    for (size_t j = 0; j < n; j++) {
        if (j == dot && point && *point) {
            memcpy(buf + o, point, plen);
            o += plen;
        } else {
            buf[o++] = (char)s[j];
        }
    }
    buf[o] = 0;
    *out = strtod(buf, NULL);
    return 0;
}
