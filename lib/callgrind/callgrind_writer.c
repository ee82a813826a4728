/*
 * lib/callgrind/: the callgrind writer (pstats_write_callgrind), which
 * streams one pstats model, or several as parts, in callgrind format
 * version 1. What the numbers mean, and every reader's rules, are in
 * docs/callgrind.md.
 *
 * The files, in pipeline order. Each calls only the files listed after it,
 * never one before it, so a reader following a profile through the writer
 * never walks back:
 *   callgrind_writer.c  this entry: checks, the header and the part lines;
 *                       per part, runs the steps below
 *   callgrind_fmt.c     a part's function blocks: plans them (costs), marks
 *                       where names are given, formats any range of them;
 *                       runs them through lib/common's cm_ordered_run (two
 *                       threads, written in order)
 *   callgrind_costs.c   the call-cost plan: cycles, columns, spontaneous
 *                       calls, fit, rows; the functions that cannot be exact
 *   callgrind_fit.c     the fit: estimates out of cycles, calls inside them
 *   callgrind_names.c   every function's one callgrind name; byte buffers
 *                       and the interning table
 *   callgrind_model.h   lean, read-only access to the model's numbers (inline)
 * callgrind_int.h is their one private header of types and prototypes.
 *
 * What these files may include: the C library and pthreads; lib/common/
 * (common.h: allocation through the caller's hook, the locked allocator,
 * cm_halves and cm_ordered_run for two threads);
 * the public headers (include/pstats/); lib/pstats/'s pstats_internal.h,
 * to read the model's flat arrays (never to change them); xxhash. Nothing
 * of lib/marshal/'s internals and nothing of the CLI (cli/).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "pstats/version.h"
#include "callgrind_int.h"
#include "callgrind_model.h"
#include "pstats_internal.h"

/* The header and the part lines are small: put in a byte buffer
 * (`oom` sticky), written before each part's blocks. */
typedef struct cg_ctx {
    const pymarshal_allocator *a;
    pstats_write_fn write;
    void *ctx;
    cg_bytes out;
    cg_names nm;
    double scale;
    int call_events, sampled;
    uint8_t *fn_defined, *fl_defined; /* per part: name already given */
    int oom, failed;
} cg_ctx;

static void put(cg_ctx *c, const void *s, size_t n)
{
    if (pstats_cg_bytes_put(c->a, &c->out, s, n) != 0)
        c->oom = 1;
}

static void put_str(cg_ctx *c, const char *s)
{
    put(c, s, strlen(s));
}

static void put_u64(cg_ctx *c, uint64_t v)
{
    char tmp[24];
    put(c, tmp, (size_t)(pstats_cg_put_u64(tmp, v) - tmp));
}

static void flush(cg_ctx *c)
{
    if (!c->oom && !c->failed && c->out.len && c->write(c->ctx, c->out.p, c->out.len) != 0)
        c->failed = 1;
    c->out.len = 0;
}

/* ------------------------------------------------------------- numbers */

static uint64_t sat_add(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static uint64_t clamp_count(int64_t v)
{
    return v > 0 ? (uint64_t)v : 0;
}

/* -------------------------------------------------------------- output */

/* The summary's totals for one part, half of its functions per thread
 * (saturating sums of non-negative numbers: the halves add up the same). */
typedef struct sum_job {
    const pstats_stats *s;
    double scale;
    uint64_t sum[2], calls[2];
} sum_job;

static int sum_half(void *ctx, int half, size_t from, size_t to, const pymarshal_allocator *a)
{
    (void)a;
    sum_job *j = ctx;
    for (size_t i = from; i < to; i++) {
        pstats_func f;
        pstats_cg_func(j->s, (uint32_t)i, &f);
        j->sum[half] = sat_add(j->sum[half], pstats_cg_units(f.tt, j->scale));
        j->calls[half] = sat_add(j->calls[half], clamp_count(f.nc));
    }
    return 0;
}

/* Two threads pay off from this many functions up. */
#define CG_PAR_SUM 65536

static void write_header(cg_ctx *c, const pstats_stats *const *parts, size_t nparts,
                         const char *cmd, const char *unit, const char *unit_long)
{
    uint64_t sum = 0, calls = 0;
    for (size_t p = 0; p < nparts; p++) {
        size_t n = pstats_nkeys(parts[p]);
        sum_job j = {parts[p], c->scale, {0, 0}, {0, 0}};
        cm_halves(sum_half, &j, n, n / 2, n >= CG_PAR_SUM || ps_threads_forced(parts[p]), NULL);
        sum = sat_add(sum, sat_add(j.sum[0], j.sum[1]));
        calls = sat_add(calls, sat_add(j.calls[0], j.calls[1]));
    }
    put_str(c, "# callgrind format\nversion: 1\ncreator: pstats2callgrind "
               PSTATS_VERSION_STRING "\n");
    if (cmd) {
        cg_bytes b = {NULL, 0, 0};
        put_str(c, "cmd: ");
        if (pstats_cg_bytes_put_name(c->a, &b, cmd, strlen(cmd)) == 0)
            put(c, b.p, b.len);
        else
            c->oom = 1;
        cm_free(c->a, b.p);
        put(c, "\n", 1);
    }
    put_str(c, "part: 1\npositions: line\nevent: ");
    put_str(c, unit);
    put_str(c, " : ");
    put_str(c, unit_long);
    if (c->call_events)
        put_str(c, c->sampled ? "\nevent: calls : Samples on the stack" : "\nevent: calls : Calls");
    put_str(c, "\nevents: ");
    put_str(c, unit);
    if (c->call_events)
        put_str(c, " calls");
    /* callgrind_annotate takes the last summary: as the total and
     * KCachegrind recomputes each part's, so one summary for all parts. */
    put_str(c, "\nsummary: ");
    put_u64(c, sum);
    if (c->call_events) {
        put(c, " ", 1);
        put_u64(c, calls);
    }
    put(c, "\n", 1);
}

/* Comment lines before a part's blocks naming the functions outside
 * cycles that cannot show their cumtime (docs/callgrind.md). */
static int put_inexact(cg_ctx *c, const cg_part *cp)
{
    const cg_plan *pl = &cp->pl;
    if (pl->ninexact == 0)
        return 0;
    put_str(c, "# Not exact: a caller of each function below recorded more time in its calls\n"
               "# than it had (its cumtime - tottime), so those calls were scaled down to what\n"
               "# it had and the function's inclusive cost is less than its cumtime.\n");
    cg_bytes label = {NULL, 0, 0};
    int rc = 0;
    for (size_t i = 0; i < pl->ninexact && rc == 0; i++) {
        rc = pstats_cg_label(&c->nm, pstats_cg_global(&c->nm, cp->p, pl->inexact[i]), &label,
                             c->a);
        if (rc == 0) {
            put_str(c, "# not exact: ");
            put(c, label.p, label.len);
            put(c, "\n", 1);
        }
    }
    cm_free(c->a, label.p);
    return rc;
}

static int write_part(cg_ctx *c, const pstats_stats *s, size_t p, const char *unit,
                      cg_plan *planned)
{
    if (p > 0) { /* KCachegrind forgets names and events at a new part */
        put_str(c, "\npart: ");
        put_u64(c, (uint64_t)p + 1);
        put_str(c, "\npositions: line\nevents: ");
        put_str(c, unit);
        put_str(c, c->call_events ? " calls\n" : "\n");
    }
    flush(c);
    memset(c->fn_defined, 0, c->nm.nfuncs + 3); /* labels 0 .. root + 1 */
    memset(c->fl_defined, 0, c->nm.files.n);
    cg_part cp;
    int rc = pstats_cg_part_prepare(&cp, s, p, &c->nm, c->scale, c->call_events, planned,
                                    c->fn_defined, c->fl_defined, c->a);
    if (rc == 0 && (rc = put_inexact(c, &cp)) == 0)
        flush(c);
    if (rc == 0 && !c->oom && !c->failed) {
        rc = pstats_cg_part_run(&cp, c->a, c->write, c->ctx);
        if (rc == -2) {
            c->failed = 1;
            rc = 0;
        }
    }
    if (rc == 0 && !c->failed) {
        cg_bytes label = {NULL, 0, 0};
        rc = pstats_cg_part_tail(&cp, &c->out, &label, c->a);
        cm_free(c->a, label.p);
    }
    pstats_cg_part_free(&cp, c->a);
    return rc == 0 && !c->oom ? 0 : -1;
}

static int fail(pstats_error *err, pstats_errcode code, const char *msg)
{
    memset(err, 0, sizeof *err);
    err->code = code;
    strncpy(err->msg, msg, sizeof err->msg - 1);
    return -1;
}

/* Samples per second for PSTATS_UNIT_SAMPLES (every part sampled at one
 * interval), and the event's description; 0 when there is none. */
static double sample_scale(const pstats_stats *const *parts, size_t nparts, char *desc,
                           size_t size)
{
    double first = 0, interval;
    for (size_t p = 0; p < nparts; p++) {
        if (!pstats_sample_interval(parts[p], &interval))
            return 0;
        if (p == 0)
            first = interval;
        else if (fabs(interval - first) > first * 1e-9)
            return 0;
    }
    snprintf(desc, size, "Samples (one every %.6g us)", first * 1e6);
    return 1 / first;
}

int pstats_write_callgrind(const pstats_stats *const *parts, size_t nparts,
                           const pstats_callgrind_options *opts,
                           pstats_write_fn write, void *ctx, pstats_error *err)
{
    static const char *const units[] = {"ns", "us", "ms", "samples"};
    const char *unit_names[] = {"Nanoseconds", "Microseconds", "Milliseconds", NULL};
    double scales[] = {1e9, 1e6, 1e3, 0};
    char sample_desc[96];
    pstats_callgrind_options none;
    memset(&none, 0, sizeof none);
    if (!opts)
        opts = &none;
    if (!parts || nparts == 0 || !write || (unsigned)opts->unit > PSTATS_UNIT_SAMPLES)
        return fail(err, PSTATS_EUSAGE, "pstats_write_callgrind: no model, no sink or bad unit");
    for (size_t p = 0; p < nparts; p++)
        if (!parts[p])
            return fail(err, PSTATS_EUSAGE, "pstats_write_callgrind: a part is NULL");
        else if (ps_need_edges(parts[p], "pstats_write_callgrind", err))
            return -1;
    if (opts->unit == PSTATS_UNIT_SAMPLES) {
        scales[PSTATS_UNIT_SAMPLES] = sample_scale(parts, nparts, sample_desc,
                                                   sizeof sample_desc);
        unit_names[PSTATS_UNIT_SAMPLES] = sample_desc;
        if (scales[PSTATS_UNIT_SAMPLES] == 0)
            return fail(err, PSTATS_EUSAGE,
                        "cost unit 'samples' needs sampled profiles (Python 3.15's "
                        "profiling.sampling) of one sampling interval; use a time unit");
    }
    cg_ctx c;
    memset(&c, 0, sizeof c);
    c.a = opts->alloc;
    c.write = write;
    c.ctx = ctx;
    c.scale = scales[opts->unit];
    c.call_events = opts->call_events != 0;
    for (size_t p = 0; p < nparts; p++)
        c.sampled |= pstats_is_sampled(parts[p]);
    /* The first part's plan before the names: the plan's peak (the fit)
     * then never meets the names' memory (a one-part profile's peak). */
    cg_plan first;
    if (pstats_cg_plan_build(&first, parts[0], c.scale, c.a) != 0) {
        pstats_cg_plan_free(&first, c.a);
        return fail(err, PSTATS_ENOMEM, "out of memory while writing callgrind");
    }
    if (pstats_cg_names_build(&c.nm, parts, nparts, c.a, err) != 0) {
        pstats_cg_plan_free(&first, c.a);
        return -1;
    }
    c.fn_defined = cm_malloc(c.a, c.nm.nfuncs + 3);
    c.fl_defined = cm_malloc(c.a, c.nm.files.n + 1);
    int rc = c.fn_defined && c.fl_defined ? 0 : -1;
    if (rc == 0)
        write_header(&c, parts, nparts, opts->cmd, units[opts->unit], unit_names[opts->unit]);
    for (size_t p = 0; p < nparts && rc == 0 && !c.failed; p++)
        rc = write_part(&c, parts[p], p, units[opts->unit], p == 0 ? &first : NULL);
    pstats_cg_plan_free(&first, c.a); /* when the first part was not written */
    if (rc == 0)
        flush(&c);
    cm_free(c.a, c.out.p);
    cm_free(c.a, c.fn_defined);
    cm_free(c.a, c.fl_defined);
    if (c.oom)
        rc = -1;
    pstats_cg_names_free(&c.nm, c.a);
    if (rc != 0)
        return fail(err, PSTATS_ENOMEM, "out of memory while writing callgrind");
    if (c.failed)
        return fail(err, PSTATS_EIO, "writing the callgrind output failed");
    return 0;
}
