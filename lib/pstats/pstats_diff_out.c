/*
 * A diff's report (pstats_print_diff) and its JSON (pstats_write_diff_json);
 * the layout of both is in docs/user-guide.md ("Comparing two runs") and
 * docs/json.md. Columns follow print_stats': counts as pstats prints them,
 * times with "%8.3f", changes signed; where the data are samples (Python
 * 3.15's sampling profiler) the words say samples.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "pstats_diff.h"
#include "pstats_jsonout.h"

static const char *const side_name[2] = {"base", "new"};

static int sampled(const pstats_diff *d)
{
    return d->before->sampled || d->after->sampled;
}

/* ------------------------------------------------------------------ text */

static void put_ctime(psb *b, time_t t)
{
    static const char days[] = "SunMonTueWedThuFriSat";
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    struct tm tm;
    char tmp[96];
    if (!localtime_r(&t, &tm)) {
        memset(&tm, 0, sizeof tm);
        tm.tm_mday = 1;
        tm.tm_year = 70;
    }
    int n = snprintf(tmp, sizeof tmp, "%.3s %.3s%3d %.2d:%.2d:%.2d %d",
                     days + 3 * (tm.tm_wday % 7), months + 3 * (tm.tm_mon % 12), tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec, tm.tm_year + 1900);
    psb_put(b, tmp, (size_t)n);
}

static void put_totals(psb *b, const pstats_stats *s, int samples)
{
    char tmp[96];
    if (samples) {
        pn_str(s, s->prim_calls, b);
        psb_puts(b, " samples ");
    } else {
        pn_str(s, s->total_calls, b);
        psb_puts(b, " function calls ");
        if (pn_cmp(s, s->total_calls, s->prim_calls) != 0) {
            psb_puts(b, "(");
            pn_fmt_d(s, s->prim_calls, b);
            psb_puts(b, " primitive calls) ");
        }
    }
    snprintf(tmp, sizeof tmp, "in %.3f seconds\n", pn_double(s, s->total_tt));
    psb_puts(b, tmp);
}

static void put_header(psb *b, const pstats_diff *d, int samples)
{
    char tmp[160];
    const pstats_stats *side[2] = {d->before, d->after};
    for (int sd = 0; sd < 2; sd++)
        for (size_t i = 0; i < side[sd]->ninputs; i++) {
            const pinput *in = &side[sd]->inputs[i];
            psb_puts(b, sd ? "New:  " : "Base: ");
            if (in->has_mtime) {
                put_ctime(b, in->mtime);
                psb_puts(b, "    ");
            }
            psb_puts(b, in->name);
            psb_puts(b, "\n");
        }
    psb_puts(b, "\n");
    for (int sd = 0; sd < 2; sd++) {
        psb_puts(b, sd ? "         new:  " : "         base: ");
        put_totals(b, side[sd], samples);
    }
    double tb = pn_double(d->before, d->before->total_tt);
    double ta = pn_double(d->after, d->after->total_tt);
    snprintf(tmp, sizeof tmp, "         change: %+.3f seconds", ta - tb);
    psb_puts(b, tmp);
    if (tb != 0) {
        snprintf(tmp, sizeof tmp, " (%+.1f%%)", 100.0 * (ta - tb) / fabs(tb));
        psb_puts(b, tmp);
    }
    size_t count[4] = {0, 0, 0, 0};
    for (size_t r = 0; r < d->nrows; r++)
        count[pd_status(d, r)]++;
    snprintf(tmp, sizeof tmp, "\n         functions: %zu changed, %zu unchanged, %zu new, %zu gone\n\n",
             count[PSTATS_DIFF_CHANGED], count[PSTATS_DIFF_SAME], count[PSTATS_DIFF_ADDED],
             count[PSTATS_DIFF_REMOVED]);
    psb_puts(b, tmp);
}

static void rjust(psb *b, const char *z, size_t width)
{
    size_t n = strlen(z);
    if (n < width)
        psb_pad(b, width - n);
    psb_put(b, z, n);
}

/* pstats' "nc/cc" of the side that has the function (new, else base). */
static void put_count(psb *b, const pstats_diff *d, size_t r)
{
    int sd = d->aid[r] != UINT32_MAX;
    const pstats_stats *s = sd ? d->after : d->before;
    psb t;
    psb_init(&t, b->s);
    pnum nc = pd_value(d, r, sd, 1), cc = pd_value(d, r, sd, 0);
    pn_str(s, nc, &t);
    if (pn_cmp(s, nc, cc) != 0) {
        psb_puts(&t, "/");
        pn_str(s, cc, &t);
    }
    psb_puts(&t, "");
    if (!t.oom)
        rjust(b, t.p, 9);
    b->oom |= t.oom;
    psb_free(&t);
}

static void put_change(psb *b, pstats_diff *d, size_t r, int field)
{
    char tmp[64];
    pnum x;
    if (field < 2 && pd_delta_num(d, r, field, &x) != 0) {
        b->oom = 1;
        return;
    }
    if (field < 2 && x.kind != PN_FLOAT) {
        psb t;
        psb_init(&t, b->s);
        if (pn_cmp(d->u, x, pn_int(0)) >= 0)
            psb_puts(&t, "+");
        pn_str(d->u, x, &t);
        psb_puts(&t, "");
        if (!t.oom)
            rjust(b, t.p, 9);
        b->oom |= t.oom;
        psb_free(&t);
        return;
    }
    if (field < 2)
        snprintf(tmp, sizeof tmp, "%+.0f", pd_delta(d, r, field));
    else
        snprintf(tmp, sizeof tmp, "%+.3f", pd_delta(d, r, field));
    rjust(b, tmp, 9);
}

static void put_percent(psb *b, const pstats_diff *d, size_t r, int field)
{
    char tmp[64];
    pstats_diff_status st = pd_status(d, r);
    double p = pd_percent(d, r, field);
    if (st == PSTATS_DIFF_ADDED)
        snprintf(tmp, sizeof tmp, "new");
    else if (st == PSTATS_DIFF_REMOVED)
        snprintf(tmp, sizeof tmp, "gone");
    else if (isnan(p))
        snprintf(tmp, sizeof tmp, "0.0");
    else if (isinf(p))
        snprintf(tmp, sizeof tmp, "%s", p > 0 ? "+inf" : "-inf");
    else
        snprintf(tmp, sizeof tmp, "%+.1f", p);
    rjust(b, tmp, 8);
}

static void put_row(psb *b, pstats_diff *d, size_t r, char **lab, size_t *cap)
{
    int sd = d->aid[r] != UINT32_MAX;
    const pstats_stats *s = sd ? d->after : d->before;
    put_count(b, d, r);
    psb_puts(b, " ");
    put_change(b, d, r, 1);
    for (int f = 2; f < 4; f++) {
        psb_puts(b, " ");
        ps_f8(b, pn_double(s, pd_value(d, r, sd, f)));
        psb_puts(b, " ");
        put_change(b, d, r, f);
        put_percent(b, d, r, f);
    }
    size_t len;
    psb_puts(b, "  ");
    if (ps_label_dyn(d->u, (uint32_t)r, lab, cap, &len))
        b->oom = 1;
    else
        psb_put(b, *lab, len);
    psb_puts(b, "\n");
}

static int flush(psb *b, pstats_write_fn write, void *ctx, int *failed)
{
    if (b->len && !*failed && !b->oom && write(ctx, b->p, b->len) != 0)
        *failed = 1;
    b->len = 0;
    return *failed;
}

int pstats_print_diff(pstats_diff *d, const pstats_restriction *r, size_t nr,
                      pstats_write_fn write, void *ctx, pstats_error *err)
{
    pstats_error local;
    if (!err)
        err = &local;
    memset(err, 0, sizeof *err);
    int samples = sampled(d), failed = 0;
    psb b;
    psb_init(&b, d->u);
    put_header(&b, d, samples);
    uint32_t *list = NULL;
    size_t n = 0;
    int rc = pd_list(d, r, nr, &list, &n, &b);
    char *lab = NULL;
    size_t cap = 0;
    if (rc == 0 && n > 0) {
        char tmp[160];
        snprintf(tmp, sizeof tmp, "\n%9s %9s %8s %9s %7s %8s %9s %7s  %s\n",
                 samples ? "nsamples" : "ncalls", samples ? "dsamples" : "dcalls", "tottime",
                 "dtottime", "%", "cumtime", "dcumtime", "%", "filename:lineno(function)");
        psb_puts(&b, tmp);
        for (size_t i = 0; i < n && !failed && !b.oom; i++) {
            put_row(&b, d, list[i], &lab, &cap);
            if (b.len >= 65536)
                flush(&b, write, ctx, &failed);
        }
        psb_puts(&b, "\n\n");
    }
    if (rc == 0)
        flush(&b, write, ctx, &failed);
    rc |= b.oom;
    ps_free(d->u, list);
    ps_free(d->u, lab);
    psb_free(&b);
    if (rc) {
        ps_seterr(err, PSTATS_ENOMEM, NULL, 0, 0, "out of memory");
        return -1;
    }
    if (failed) {
        ps_seterr(err, PSTATS_EIO, NULL, 0, 0, "writing the diff failed");
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ JSON */

static const char *const field_name[4] = {"cc", "nc", "tt", "ct"};

static void json_side(jout *o, const pstats_stats *s)
{
    jo_lit(o, "{\"inputs\": [");
    for (size_t i = 0; i < s->ninputs; i++) {
        const pinput *in = &s->inputs[i];
        jo_lit(o, i ? ", {" : "{");
        jo_str_field(o, "name", (const uint8_t *)in->name, strlen(in->name));
        jo_lit(o, ", \"mtime\": ");
        if (in->has_mtime)
            jo_i64(o, (int64_t)in->mtime);
        else
            jo_lit(o, "null");
        jo_lit(o, "}");
    }
    jo_lit(o, "], \"totals\": {\"total_calls\": ");
    jo_num(o, s, s->total_calls);
    jo_lit(o, ", \"prim_calls\": ");
    jo_num(o, s, s->prim_calls);
    jo_lit(o, ", \"total_tt\": ");
    jo_num(o, s, s->total_tt);
    jo_lit(o, "}}");
}

static void json_numbers(jout *o, const pstats_diff *d, size_t r, int sd)
{
    if ((sd ? d->aid[r] : d->bid[r]) == UINT32_MAX) {
        jo_lit(o, "null");
        return;
    }
    const pstats_stats *s = sd ? d->after : d->before;
    for (int f = 0; f < 4; f++) {
        jo_lit(o, f ? ", \"" : "{\"");
        jo_lit(o, field_name[f]);
        jo_lit(o, "\": ");
        jo_num(o, s, pd_value(d, r, sd, f));
    }
    jo_lit(o, "}");
}

static void json_row(jout *o, pstats_diff *d, size_t r, int first, char **lab,
                     size_t *cap)
{
    static const char *const status[4] = {"same", "changed", "new", "gone"};
    pstats_stats *u = d->u;
    const pkey *k = &u->keys[r];
    jo_lit(o, first ? "\n  {\"status\": \"" : ",\n  {\"status\": \"");
    jo_lit(o, status[pd_status(d, r)]);
    jo_lit(o, "\", ");
    jo_str_field(o, "file", u->strs[k->file].p, u->strs[k->file].len);
    jo_lit(o, ", \"line\": ");
    jo_i64(o, k->line);
    jo_lit(o, ", ");
    uint32_t nm = k->kkind == PSTATS_KEY_CODE ? u->codes[k->name].name : k->name;
    jo_str_field(o, "name", u->strs[nm].p, u->strs[nm].len);
    if (k->kkind == PSTATS_KEY_CODE) {
        const pcode *c = &u->codes[k->name];
        jo_lit(o, ", \"code\": {");
        jo_str_field(o, "filename", u->strs[c->filename].p, u->strs[c->filename].len);
        jo_lit(o, ", \"firstlineno\": ");
        jo_i64(o, c->firstlineno);
        jo_lit(o, "}");
    }
    jo_lit(o, ", \"label\": ");
    jo_label(o, u, (uint32_t)r, lab, cap);
    for (int sd = 0; sd < 2; sd++) {
        jo_lit(o, sd ? ", \"new\": " : ", \"base\": ");
        json_numbers(o, d, r, sd);
    }
    jo_lit(o, ", \"delta\": {");
    for (int f = 0; f < 4; f++) {
        pnum x;
        jo_lit(o, f ? ", \"" : "\"");
        jo_lit(o, field_name[f]);
        jo_lit(o, "\": ");
        if (pd_delta_num(d, r, f, &x))
            o->oom = 1;
        else
            jo_num(o, u, x);
    }
    jo_lit(o, "}, \"percent\": {");
    for (int f = 0; f < 4; f++) {
        double p = pd_percent(d, r, f);
        jo_lit(o, f ? ", \"" : "\"");
        jo_lit(o, field_name[f]);
        jo_lit(o, "\": ");
        if (isfinite(p))
            jo_double(o, p);
        else if (isnan(p))
            jo_double(o, 0.0);
        else
            jo_lit(o, "null");
    }
    jo_lit(o, "}}");
}

int pstats_write_diff_json(pstats_diff *d, const pstats_restriction *r, size_t nr,
                           pstats_write_fn write, void *ctx, pstats_error *err)
{
    pstats_error local;
    if (!err)
        err = &local;
    memset(err, 0, sizeof *err);
    psb msg;
    psb_init(&msg, d->u);
    uint32_t *list = NULL;
    size_t n = 0;
    jout *o = ps_malloc(d->u, sizeof *o);
    if (!o || pd_list(d, r, nr, &list, &n, &msg)) {
        ps_free(d->u, o);
        psb_free(&msg);
        ps_seterr(err, PSTATS_ENOMEM, NULL, 0, 0, "out of memory");
        return -1;
    }
    jo_init(o, write, ctx);
    jo_lit(o, "{\"format\": \"pstats-diff-json\", \"version\": ");
    jo_i64(o, PSTATS_JSON_VERSION);
    jo_lit(o, ", \"counts\": ");
    jo_lit(o, sampled(d) ? "\"samples\"" : "\"calls\"");
    for (int sd = 0; sd < 2; sd++) {
        jo_lit(o, ",\n \"");
        jo_lit(o, side_name[sd]);
        jo_lit(o, "\": ");
        json_side(o, sd ? d->after : d->before);
    }
    jo_lit(o, ",\n \"order\": ");
    jo_str(o, (const uint8_t *)d->sort_type, strlen(d->sort_type));
    jo_lit(o, ", \"nfunctions\": ");
    jo_i64(o, (int64_t)d->nrows);
    jo_lit(o, ",\n \"functions\": [");
    char *lab = NULL;
    size_t cap = 0;
    for (size_t i = 0; i < n && !o->failed && !o->oom; i++)
        json_row(o, d, list[i], i == 0, &lab, &cap);
    jo_lit(o, "]}\n");
    ps_free(d->u, lab);
    ps_free(d->u, list);
    psb_free(&msg);
    int rc = jo_finish(o, err, "the diff's JSON");
    ps_free(d->u, o);
    return rc;
}
