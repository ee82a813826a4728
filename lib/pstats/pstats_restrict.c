/*
 * The reports' restrictions, as Python's pstats applies them in turn:
 * a count keeps the first n rows, a fraction the first share of them, and
 * a regular expression the rows whose label it finds (Python's `re`
 * syntax, run by PCRE2).
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>
#include <string.h>

#include "pstats_internal.h"

static int repr_sink(void *ctx, const void *buf, size_t len)
{
    psb_put(ctx, buf, len);
    return 0;
}

/* The restriction as Python prints it in "due to restriction <...>". */
static void put_repr(psb *b, const pstats_stats *s, const pstats_restriction *r)
{
    char tmp[64];
    if (r->kind == PSTATS_LIMIT_COUNT) {
        int n = snprintf(tmp, sizeof tmp, "%lld", (long long)r->count);
        psb_put(b, tmp, (size_t)n);
    } else if (r->kind == PSTATS_LIMIT_FRACTION) {
        size_t n = pymarshal_float_repr(r->fraction, tmp);
        psb_put(b, tmp, n);
    } else if (s->py2) {
        psb t;
        psb_init(&t, b->s);
        pymarshal_str_repr(r->regex, strlen(r->regex), PYMARSHAL_BYTES, PYMARSHAL_UTF8,
                           repr_sink, &t);
        if (t.len > 1)
            psb_put(b, t.p + 1, t.len - 1); /* Python 2: no b prefix */
        b->oom |= t.oom;
        psb_free(&t);
    } else {
        pymarshal_str_repr(r->regex, strlen(r->regex), PYMARSHAL_STR, PYMARSHAL_UTF8,
                           repr_sink, b);
    }
}

static void *re_malloc(PCRE2_SIZE n, void *ctx) { return ps_malloc(ctx, n); }
static void re_free(void *p, void *ctx) { ps_free(ctx, p); }

/* Python's `re` reads `{,n}` as `{0,n}`; PCRE2 10.42 takes it literally. */
static void python_pattern(const char *pat, psb *dst)
{
    int in_class = 0;
    for (const char *p = pat; *p; p++) {
        if (*p == '\\' && p[1]) {
            psb_put(dst, p, 2);
            p++;
            continue;
        }
        if (in_class) {
            in_class = *p != ']';
        } else if (*p == '[') {
            in_class = 1;
            if (p[1] == '^')
                psb_put(dst, p++, 1);
            if (p[1] == ']')
                psb_put(dst, p++, 1);
        } else if (*p == '{' && p[1] == ',') {
            const char *q = p + 2;
            while (*q >= '0' && *q <= '9')
                q++;
            if (*q == '}' && q > p + 2) {
                psb_put(dst, "{0", 2);
                continue;
            }
        }
        psb_put(dst, p, 1);
    }
    psb_put(dst, "", 0);
}

/* Python's re.search over the printed names; *invalid when the pattern
 * does not compile (Python then prints a note and keeps the list). */
static int regex_filter(pstats_stats *s, const char *pat, uint32_t *list, size_t *n,
                        int *invalid)
{
    int ecode;
    PCRE2_SIZE eoff;
    uint32_t opts = s->py2 ? 0 : (PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF);
    *invalid = 0;
    pcre2_general_context *gc = pcre2_general_context_create(re_malloc, re_free, s);
    if (!gc)
        return -1;
    pcre2_compile_context *cc = pcre2_compile_context_create(gc);
    if (!cc) {
        pcre2_general_context_free(gc);
        return -1;
    }
    psb tp;
    psb_init(&tp, s);
    python_pattern(pat, &tp);
    pcre2_code *re = tp.oom ? NULL
                            : pcre2_compile((PCRE2_SPTR)(tp.p ? tp.p : ""), tp.len, opts,
                                            &ecode, &eoff, cc);
    if (tp.oom)
        ecode = PCRE2_ERROR_NOMEMORY;
    psb_free(&tp);
    pcre2_compile_context_free(cc);
    if (!re) {
        pcre2_general_context_free(gc);
        if (ecode == PCRE2_ERROR_NOMEMORY || ecode == PCRE2_ERROR_HEAP_FAILED)
            return -1;
        *invalid = 1;
        return 0;
    }
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, gc);
    pcre2_match_context *mc = pcre2_match_context_create(gc);
    if (!md || !mc) {
        pcre2_match_data_free(md);
        pcre2_match_context_free(mc);
        pcre2_code_free(re);
        pcre2_general_context_free(gc);
        return -1;
    }
    char *buf = NULL;
    size_t cap = 0, len, k = 0;
    int rc = 0;
    for (size_t i = 0; i < *n; i++) {
        if (ps_label_dyn(s, list[i], &buf, &cap, &len)) {
            rc = -1;
            break;
        }
        int m = pcre2_match(re, (PCRE2_SPTR)buf, len, 0, 0, md, mc);
        if (m == PCRE2_ERROR_NOMEMORY) {
            rc = -1;
            break;
        }
        if (m >= 0)
            list[k++] = list[i];
    }
    if (rc == 0)
        *n = k;
    ps_free(s, buf);
    pcre2_match_data_free(md);
    pcre2_match_context_free(mc);
    pcre2_code_free(re);
    pcre2_general_context_free(gc);
    return rc;
}

static int apply_restriction(pstats_stats *s, const pstats_restriction *r, uint32_t *list,
                             size_t *n, psb *msg)
{
    size_t before = *n;
    if (r->kind == PSTATS_LIMIT_REGEX) {
        int invalid;
        if (regex_filter(s, r->regex ? r->regex : "", list, n, &invalid))
            return -1;
        if (invalid) {
            psb_puts(msg, "   <Invalid regular expression ");
            put_repr(msg, s, r);
            psb_puts(msg, ">\n");
            return 0;
        }
    } else if (r->kind == PSTATS_LIMIT_FRACTION) {
        if (r->fraction >= 0.0 && r->fraction < 1.0)
            *n = (size_t)(int64_t)((double)*n * r->fraction + 0.5);
    } else if (r->count >= 0 && (uint64_t)r->count < *n) {
        *n = (size_t)r->count;
    }
    if (*n != before) {
        char tmp[96];
        snprintf(tmp, sizeof tmp, "   List reduced from %zu to %zu due to restriction <", before,
                 *n);
        psb_puts(msg, tmp);
        put_repr(msg, s, r);
        psb_puts(msg, ">\n");
    }
    return 0;
}

int ps_restrict(pstats_stats *s, const pstats_restriction *r, size_t nr, uint32_t *list,
                size_t *n, psb *msg)
{
    int rc = 0;
    for (size_t i = 0; i < nr && rc == 0; i++)
        rc = apply_restriction(s, &r[i], list, n, msg);
    return rc || msg->oom ? -1 : 0;
}

/* get_print_list: the listed ids and, when need_width, the name column
 * width (0: empty). */
