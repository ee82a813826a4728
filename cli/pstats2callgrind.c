/*
 * pstats2callgrind: convert Python pstats profiles to callgrind files for
 * KCachegrind/QCacheGrind, merge them, and print pstats' own reports.
 * Option parsing and library calls only; formats live in libpstats.
 */
#include <errno.h>
#include <math.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "pstats/version.h"

#define PROG "pstats2callgrind"

enum {
    OPT_OUTPUT = 1, OPT_INFILE, OPT_KCACHEGRIND, OPT_RUN, OPT_UNIT, OPT_PARTS,
    OPT_STRIP, OPT_STATS, OPT_CALLERS, OPT_CALLEES, OPT_SORT, OPT_LIMIT,
    OPT_MATCH, OPT_FORMAT, OPT_CALLS, OPT_HELP, OPT_VERSION, OPT_MAP_PATH, OPT_DIFF,
    OPT_NODE_THRES, OPT_EDGE_THRES
};

static const cli_option options[] = {
    {OPT_OUTPUT, 'o', "output", 1},      {OPT_OUTPUT, 0, "outfile", 1},
    {OPT_INFILE, 'i', "infile", 1},      {OPT_KCACHEGRIND, 'k', "kcachegrind", 0},
    {OPT_RUN, 'r', "run-script", 1},     {OPT_UNIT, 'u', "unit", 1},
    {OPT_PARTS, 0, "parts", 0},          {OPT_STRIP, 0, "strip-dirs", 0},
    {OPT_STATS, 0, "stats", 0},          {OPT_CALLERS, 0, "callers", 0},
    {OPT_CALLEES, 0, "callees", 0},      {OPT_SORT, 's', "sort", 1},
    {OPT_LIMIT, 'l', "limit", 1},        {OPT_MATCH, 'm', "match", 1},
    {OPT_FORMAT, 'f', "format", 1},      {OPT_CALLS, 0, "call-events", 0},
    {OPT_HELP, 'h', "help", 0},          {OPT_VERSION, 'V', "version", 0},
    {OPT_MAP_PATH, 0, "map-path", 1},    {OPT_DIFF, 0, "diff", 1},
    {OPT_NODE_THRES, 0, "node-thres", 1}, {OPT_EDGE_THRES, 0, "edge-thres", 1},
};

typedef enum { REPORT_STATS, REPORT_CALLERS, REPORT_CALLEES } report_kind;
typedef enum {
    FORMAT_CALLGRIND, FORMAT_PSTATS, FORMAT_JSON, FORMAT_DOT, FORMAT_SVG, FORMAT_COLLAPSED
} out_format;
static const char *const format_names[] = {"callgrind", "pstats", "json", "dot", "svg",
                                           "collapsed"};
/* The suffix of a picture's default output file, by format. */
static const char *const format_suffix[] = {NULL, NULL, NULL, ".dot", ".svg", ".folded"};

typedef struct config {
    const char **inputs; size_t ninputs;
    const char *first_infile;        /* the first -i input */
    const char *output;              /* -o */
    int kcachegrind, parts, strip_dirs, call_events, format_given, unit_given;
    out_format format;
    pstats_time_unit unit;
    pstats_path_map *maps; size_t nmaps;  /* --map-path FROM=TO */
    const char *diff_base;           /* --diff BASE[,BASE...] */
    char **script; size_t nscript;   /* -r SCRIPT ARGS... */
    report_kind *reports; size_t nreports;
    const char **sort_keys; size_t nsort;
    char *cmd;                       /* the callgrind `cmd:` line */
    pstats_restriction *restr; size_t nrestr;
    double node_thres, edge_thres;   /* --node-thres, --edge-thres; < 0: not given */
} config;

static const char usage_text[] =
    "Usage: " PROG " [OPTION]... FILE...\n"
    "       " PROG " [OPTION]... -r SCRIPT [ARG]...\n"
    "Convert Python pstats profiles (cProfile, profile, yappi; Python 2.7 to\n"
    "3.15, PyPy) to a callgrind file for KCachegrind/QCacheGrind, or print\n"
    "pstats reports. FILE '-' is standard input. Several FILEs are merged as\n"
    "pstats.Stats(FILE, ...) merges them.\n"
    "\n"
    "Output:\n"
    "  -o, --output=FILE     write to FILE ('-': standard output); default\n"
    "                        callgrind.out.<input name> beside the first input\n"
    "  -i, --infile=FILE     an input; without -o, write <FILE's name>.log in\n"
    "                        the current directory (as pyprof2calltree)\n"
    "  -k, --kcachegrind     open the result in kcachegrind (else qcachegrind)\n"
    "  -r, --run-script SCRIPT [ARG]...\n"
    "                        profile 'python3 -m cProfile SCRIPT ARG...' and\n"
    "                        convert; all later arguments go to the script\n"
    "  -f, --format=FORMAT   callgrind (default), pstats (merged profile), json\n"
    "                        (the whole model, docs/json.md), dot (call graph\n"
    "                        as gprof2dot draws it), svg (flame graph) or\n"
    "                        collapsed (folded stacks)\n"
    "  -u, --unit=UNIT       unit of callgrind costs and flame graph stacks: ns\n"
    "                        (default), us, ms, or samples (the default for\n"
    "                        sampled profiles)\n"
    "      --node-thres=PCT  fold functions below PCT % of the total time into one\n"
    "                        '[other]' function per caller (totals stay exact)\n"
    "      --edge-thres=PCT  fold calls below PCT % of the total time the same way\n"
    "      --map-path=FROM=TO  rewrite file names starting with FROM (whole\n"
    "                        components; Windows names: '\\' or '/', any case)\n"
    "                        to start with TO; repeatable, longest FROM wins\n"
    "      --parts           one callgrind part per input instead of a merge\n"
    "      --call-events     also write call counts as a second event\n"
    "      --strip-dirs      drop directories from file names (strip_dirs())\n"
    "\n"
    "Comparing two runs:\n"
    "      --diff=BASE NEW   the functions whose times and counts changed most\n"
    "                        from BASE to NEW (each a FILE or FILE,FILE,...\n"
    "                        merged); --sort KEY, KEY%, +KEY, -KEY; --format json\n"
    "\n"
    "Reports (printed as Python's pstats prints them):\n"
    "      --stats           print_stats()\n"
    "      --callers         print_callers()\n"
    "      --callees         print_callees()\n"
    "  -s, --sort=KEY        sort_stats(KEY, ...): calls, cumulative, time,\n"
    "                        filename, line, name, nfl, pcalls, stdname, ...\n"
    "  -l, --limit=N|F       keep the first N lines, or a fraction F (has a '.')\n"
    "  -m, --match=REGEX     keep lines whose name matches REGEX (Python re)\n"
    "\n"
    "  -h, --help            this text\n"
    "  -V, --version         the version\n"
    "\n"
    "Exit status: 0 success, 1 bad input or output file, 2 bad usage.\n";

static int parse_limit(const char *text, pstats_restriction *r)
{
    char *end;
    errno = 0;
    if (strpbrk(text, ".eE")) {
        r->kind = PSTATS_LIMIT_FRACTION;
        r->fraction = strtod(text, &end);
    } else {
        r->kind = PSTATS_LIMIT_COUNT;
        r->count = strtoll(text, &end, 10);
    }
    return (end == text || *end || errno) ? -1 : 0;
}

static int parse_percent(const char *text, double *out)
{
    char *end;
    errno = 0;
    *out = strtod(text, &end);
    return end == text || *end || errno || !(*out >= 0.0 && *out <= 100.0) ? -1 : 0;
}

static int parse_unit(const char *text, pstats_time_unit *unit)
{
    static const char *const names[] = {"ns", "us", "ms", "samples"};
    static const pstats_time_unit units[] = {PSTATS_UNIT_NS, PSTATS_UNIT_US,
                                             PSTATS_UNIT_MS, PSTATS_UNIT_SAMPLES};
    for (size_t i = 0; i < 4; i++)
        if (strcmp(text, names[i]) == 0) {
            *unit = units[i];
            return 0;
        }
    return -1;
}

/* One option into the config; returns -1 to go on, else an exit code. */
static int apply_option(config *c, cli_parser *p, int id, const char *arg)
{
    switch (id) {
    case OPT_OUTPUT: c->output = arg; break;
    case OPT_INFILE:
        if (!c->first_infile)
            c->first_infile = arg;
        c->inputs[c->ninputs++] = arg;
        break;
    case CLI_OPT_POSITIONAL: c->inputs[c->ninputs++] = arg; break;
    case OPT_KCACHEGRIND: c->kcachegrind = 1; break;
    case OPT_RUN: /* SCRIPT is arg; everything after it goes to the script */
        c->script = p->argv + p->next - 1;
        c->nscript = (size_t)(p->argc - p->next + 1);
        p->next = p->argc;
        break;
    case OPT_UNIT:
        if (parse_unit(arg, &c->unit) != 0)
            return cli_usage_error(PROG, "unknown unit '%s' (ns, us, ms or samples)", arg);
        c->unit_given = 1;
        break;
    case OPT_MAP_PATH:
        if (cli_parse_map((char *)arg, &c->maps[c->nmaps]) != 0)
            return cli_usage_error(PROG, "--map-path: '%s' is not FROM=TO", arg);
        c->nmaps++;
        break;
    case OPT_DIFF: c->diff_base = arg; break;
    case OPT_PARTS: c->parts = 1; break;
    case OPT_STRIP: c->strip_dirs = 1; break;
    case OPT_CALLS: c->call_events = 1; break;
    case OPT_STATS: c->reports[c->nreports++] = REPORT_STATS; break;
    case OPT_CALLERS: c->reports[c->nreports++] = REPORT_CALLERS; break;
    case OPT_CALLEES: c->reports[c->nreports++] = REPORT_CALLEES; break;
    case OPT_SORT: c->sort_keys[c->nsort++] = arg; break;
    case OPT_LIMIT:
        if (parse_limit(arg, &c->restr[c->nrestr]) != 0)
            return cli_usage_error(PROG, "--limit: '%s' is neither a count nor a fraction", arg);
        c->nrestr++;
        break;
    case OPT_MATCH:
        c->restr[c->nrestr].kind = PSTATS_LIMIT_REGEX;
        c->restr[c->nrestr++].regex = arg;
        break;
    case OPT_FORMAT:
        c->format_given = 1;
        for (c->format = 0; c->format <= FORMAT_COLLAPSED; c->format++)
            if (strcmp(arg, format_names[c->format]) == 0)
                break;
        if (c->format > FORMAT_COLLAPSED)
            return cli_usage_error(PROG, "unknown format '%s' (callgrind, pstats, json, dot, svg "
                                   "or collapsed)", arg);
        break;
    case OPT_NODE_THRES:
    case OPT_EDGE_THRES:
        if (parse_percent(arg, id == OPT_NODE_THRES ? &c->node_thres : &c->edge_thres) != 0)
            return cli_usage_error(PROG, "--%s: '%s' is not a percentage from 0 to 100",
                                   id == OPT_NODE_THRES ? "node-thres" : "edge-thres", arg);
        break;
    case OPT_HELP: fputs(usage_text, stdout); return CLI_EXIT_OK;
    case OPT_VERSION: printf(PROG " %s\n", PSTATS_VERSION_STRING); return CLI_EXIT_OK;
    default: return CLI_EXIT_USAGE;
    }
    return -1;
}

static int parse_args(config *c, int argc, char **argv)
{
    size_t n = (size_t)argc + 1;
    c->inputs = calloc(n, sizeof *c->inputs);
    c->reports = calloc(n, sizeof *c->reports);
    c->sort_keys = calloc(n, sizeof *c->sort_keys);
    c->restr = calloc(n, sizeof *c->restr);
    c->maps = calloc(n, sizeof *c->maps);
    if (!c->inputs || !c->reports || !c->sort_keys || !c->restr || !c->maps) {
        fprintf(stderr, PROG ": out of memory\n");
        return CLI_EXIT_INPUT;
    }
    cli_parser p;
    cli_parser_init(&p, argc, argv, options, sizeof options / sizeof options[0]);
    for (;;) {
        const char *arg;
        char msg[256];
        int id = cli_next(&p, &arg, msg, sizeof msg);
        if (id == CLI_OPT_END)
            break;
        if (id == CLI_OPT_ERROR)
            return cli_usage_error(PROG, "%s", msg);
        int rc = apply_option(c, &p, id, arg);
        if (rc >= 0)
            return rc;
    }
    return -1;
}

/* Checks that the options make sense together. */
static int check_config(const config *c)
{
    int reporting = c->nreports > 0;
    if (c->diff_base && c->ninputs != 1)
        return cli_usage_error(PROG, "%s", "--diff BASE NEW: give NEW (one argument; "
                                           "several profiles as a,b,c)");
    if (c->ninputs == 0 && !c->script)
        return cli_usage_error(PROG, "%s", "no input file (give FILE, -i FILE, '-' or -r SCRIPT)");
    if (c->script && c->ninputs > 0)
        return cli_usage_error(PROG, "%s", "-r SCRIPT cannot be combined with input files");
    if (c->diff_base && (reporting || c->script || c->parts || c->kcachegrind || c->unit_given ||
                         c->call_events || (c->format_given && c->format != FORMAT_JSON) ||
                         c->node_thres >= 0 || c->edge_thres >= 0))
        return cli_usage_error(PROG, "%s", "--diff BASE NEW takes --format json, --sort, --limit, "
                                           "--match, --strip-dirs, --map-path and -o only");
    if (!reporting && !c->diff_base && (c->nsort || c->nrestr))
        return cli_usage_error(PROG, "%s", "--sort, --limit and --match need --stats, --callers, --callees or --diff");
    if (reporting && (c->format_given || c->kcachegrind || c->parts))
        return cli_usage_error(PROG, "%s", "reports cannot be combined with --format, -k or --parts");
    if (c->format == FORMAT_PSTATS && !c->output)
        return cli_usage_error(PROG, "%s", "--format pstats needs -o FILE (or -o -)");
    if (c->format != FORMAT_CALLGRIND && (c->kcachegrind || c->parts))
        return cli_usage_error(PROG, "--format %s cannot be combined with -k or --parts",
                               format_names[c->format]);
    if (c->kcachegrind && c->output && strcmp(c->output, "-") == 0)
        return cli_usage_error(PROG, "%s", "-k needs a file, not -o -");
    size_t nstdin = 0;
    for (size_t i = 0; i < c->ninputs; i++)
        nstdin += strcmp(c->inputs[i], "-") == 0;
    if (nstdin > 1)
        return cli_usage_error(PROG, "%s", "standard input ('-') given more than once");
    return -1;
}

/* ------------------------------------------------------------ loading */

typedef struct models {
    pstats_stats **m;
    size_t n;
} models;

static void models_free(models *ms)
{
    for (size_t i = 0; i < ms->n; i++)
        pstats_free(ms->m[i]);
    free(ms->m);
    ms->m = NULL;
    ms->n = 0;
}

/* Only --stats reports (no --callers, --callees, no output file). */
static int stats_only(const config *c)
{
    if (c->node_thres >= 0 || c->edge_thres >= 0) /* pruning needs the calls */
        return 0;
    for (size_t i = 0; i < c->nreports; i++)
        if (c->reports[i] != REPORT_STATS)
            return 0;
    return c->nreports > 0;
}

/* Loads input i into a new model. Returns -1 on success, else an exit code. */
static int load_one(const config *c, size_t i, pstats_stats **out)
{
    pstats_error err;
    memset(&err, 0, sizeof err);
    *out = pstats_new(NULL);
    if (!*out) {
        fprintf(stderr, PROG ": out of memory\n");
        return CLI_EXIT_INPUT;
    }
    if (stats_only(c)) /* print_stats needs no caller edges: skip them */
        pstats_set_load_flags(*out, PSTATS_LOAD_NO_EDGES);
    if (cli_load(*out, c->inputs[i], &err) != 0) {
        cli_print_error(PROG, c->inputs[i], &err);
        pstats_free(*out);
        *out = NULL;
        return cli_exit_code(&err);
    }
    return -1;
}

/* With --parts: every input in its own model, all kept. Otherwise
 * pstats.Stats(a, b, c): load a, then add(b, c), which walks c, b; each
 * input is loaded, added and freed in turn, so that only the merged model
 * and one input are in memory at a time. The result is ms->m[0]. */
static int load_all(const config *c, models *ms)
{
    ms->m = calloc(c->ninputs, sizeof *ms->m);
    if (!ms->m) {
        fprintf(stderr, PROG ": out of memory\n");
        return CLI_EXIT_INPUT;
    }
    size_t nkeep = c->parts ? c->ninputs : 1;
    for (size_t i = 0; i < nkeep; i++) {
        int rc = load_one(c, i, &ms->m[i]);
        if (rc >= 0)
            return rc;
        ms->n++;
    }
    for (size_t i = c->ninputs; i-- > nkeep;) {
        pstats_stats *t;
        int rc = load_one(c, i, &t);
        if (rc >= 0)
            return rc;
        pstats_error err;
        memset(&err, 0, sizeof err);
        rc = pstats_add(ms->m[0], &t, 1, &err);
        pstats_free(t);
        if (rc != 0) {
            cli_print_error(PROG, c->inputs[0], &err);
            return cli_exit_code(&err);
        }
    }
    return -1;
}

/* --map-path, then .strip_dirs() after the merge, then --node-thres and
 * --edge-thres; with --parts each model on its own. */
static int merge_all(const config *c, models *ms)
{
    pstats_error err;
    memset(&err, 0, sizeof err);
    for (size_t i = 0; i < (c->nmaps ? ms->n : 0); i++) {
        int rc = cli_apply_maps(PROG, ms->m[i], c->maps, c->nmaps);
        if (rc >= 0)
            return rc;
    }
    size_t nstrip = c->strip_dirs ? ms->n : 0;
    for (size_t i = 0; i < nstrip; i++)
        if (pstats_strip_dirs(ms->m[i], &err) != 0) {
            cli_print_error(PROG, c->inputs[i], &err);
            return cli_exit_code(&err);
        }
    size_t nprune = c->node_thres >= 0 || c->edge_thres >= 0 ? ms->n : 0;
    for (size_t i = 0; i < nprune; i++)
        if (pstats_prune(ms->m[i], c->node_thres > 0 ? c->node_thres : 0,
                         c->edge_thres > 0 ? c->edge_thres : 0, &err) != 0) {
            cli_print_error(PROG, c->inputs[i], &err);
            return cli_exit_code(&err);
        }
    return -1;
}

/* ------------------------------------------------------------- output */

/* --unit, or for sampled profiles of one interval samples unless --unit
 * says otherwise. */
static pstats_time_unit time_unit(const config *c, const models *ms)
{
    double first = 0, interval;
    size_t same = 0;
    for (size_t i = 0; i < ms->n; i++)
        if (pstats_sample_interval(ms->m[i], &interval) &&
            (i == 0 ? (first = interval, 1) : fabs(interval - first) <= first * 1e-9))
            same++;
    return !c->unit_given && same == ms->n ? PSTATS_UNIT_SAMPLES : c->unit;
}

/* --format dot, svg, collapsed. */
static int write_picture(const config *c, models *ms, cli_out *out, pstats_error *err)
{
    if (c->format == FORMAT_DOT) { /* gprof2dot's thresholds, unless pruned already */
        int pruned = c->node_thres >= 0 || c->edge_thres >= 0;
        pstats_dot_options o = {pruned ? 0 : PSTATS_DOT_NODE_THRES,
                                pruned ? 0 : PSTATS_DOT_EDGE_THRES, NULL};
        return pstats_write_dot(ms->m[0], &o, cli_out_write, out, err);
    }
    pstats_flame_options o;
    memset(&o, 0, sizeof o);
    o.unit = time_unit(c, ms);
    o.title = c->cmd;
    return (c->format == FORMAT_SVG ? pstats_write_flame_svg : pstats_write_collapsed)(
        ms->m[0], &o, cli_out_write, out, err);
}

static int write_result(const config *c, models *ms, cli_out *out)
{
    pstats_error err;
    memset(&err, 0, sizeof err);
    int rc = 0;
    if (c->nreports > 0) {
        if (c->nsort && pstats_sort(ms->m[0], c->sort_keys, c->nsort, &err) != 0) {
            cli_print_error(PROG, NULL, &err);
            return cli_exit_code(&err);
        }
        for (size_t i = 0; i < c->nreports && rc == 0; i++) {
            if (c->reports[i] == REPORT_STATS)
                rc = pstats_print_stats(ms->m[0], c->restr, c->nrestr, cli_out_write, out, &err);
            else if (c->reports[i] == REPORT_CALLERS)
                rc = pstats_print_callers(ms->m[0], c->restr, c->nrestr, cli_out_write, out, &err);
            else
                rc = pstats_print_callees(ms->m[0], c->restr, c->nrestr, cli_out_write, out, &err);
        }
    } else if (c->format == FORMAT_PSTATS) {
        rc = pstats_write_pstats(ms->m[0], cli_out_write, out, &err);
    } else if (c->format == FORMAT_JSON) {
        rc = pstats_write_json(ms->m[0], cli_out_write, out, &err);
    } else if (format_suffix[c->format]) {
        rc = write_picture(c, ms, out, &err);
    } else {
        pstats_callgrind_options o;
        memset(&o, 0, sizeof o);
        o.unit = time_unit(c, ms);
        o.call_events = c->call_events;
        o.cmd = c->cmd;
        rc = pstats_write_callgrind((const pstats_stats *const *)ms->m,
                                    c->parts ? ms->n : 1, &o, cli_out_write, out, &err);
    }
    if (rc != 0) {
        if (out->failed)
            fprintf(stderr, PROG ": %s: %s\n", cli_out_name(out), strerror(out->err_no));
        else /* out of memory while writing: the output is what failed */
            cli_print_error(PROG, err.code == PSTATS_ENOMEM ? cli_out_name(out) : NULL, &err);
        return err.code == PSTATS_EUSAGE ? CLI_EXIT_USAGE : CLI_EXIT_INPUT;
    }
    return -1;
}

/* Where the result goes (malloc'd), or NULL when out of memory. */
static char *output_path(const config *c, const char *kc_dir)
{
    if (c->output)
        return strdup(c->output);
    if (c->nreports > 0 || c->format == FORMAT_JSON)
        return strdup("-");
    const char *first = c->script ? c->script[0] : c->inputs[0];
    size_t blen = strlen(cli_basename(first));
    char *out;
    if (c->kcachegrind) { /* a fresh directory: nothing else looks like a part */
        out = malloc(strlen(kc_dir) + blen + 32);
        if (out)
            sprintf(out, "%s/callgrind.out.%s", kc_dir, cli_basename(first));
        return out;
    }
    if (c->script || c->first_infile) { /* pyprof2calltree: NAME.log in cwd */
        if (c->first_infile)
            first = c->first_infile;
        const char *suffix = format_suffix[c->format] ? format_suffix[c->format] : ".log";
        out = malloc(strlen(cli_basename(first)) + 2 * strlen(suffix) + 1);
        if (!out)
            return NULL;
        sprintf(out, "%s%s", cli_basename(first), suffix);
        if (strcmp(out, first) == 0)
            strcat(out, suffix);
        return out;
    }
    if (strcmp(first, "-") == 0)
        return strdup("-");
    if (format_suffix[c->format]) { /* a picture: FIRST.svg beside the input */
        out = malloc(strlen(first) + 8);
        if (out)
            sprintf(out, "%s%s", first, format_suffix[c->format]);
        return out;
    }
    return cli_sibling(first, "callgrind.out.");
}

/* Runs `python3 -m cProfile -o PROF SCRIPT ARGS...` (PSTATS2CALLGRIND_PYTHON
 * overrides python3). Returns -1 when a profile was written to prof. */
static int run_script(const config *c, const char *prof)
{
    const char *python = getenv("PSTATS2CALLGRIND_PYTHON");
    if (!python || !*python)
        python = "python3";
    char **argv = calloc(c->nscript + 6, sizeof *argv);
    if (!argv) {
        fprintf(stderr, PROG ": out of memory\n");
        return CLI_EXIT_INPUT;
    }
    argv[0] = (char *)python;
    argv[1] = (char *)"-m";
    argv[2] = (char *)"cProfile";
    argv[3] = (char *)"-o";
    argv[4] = (char *)prof;
    memcpy(argv + 5, c->script, c->nscript * sizeof *argv);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        execvp(python, argv);
        fprintf(stderr, PROG ": cannot run %s: %s\n", python, strerror(errno));
        _exit(127);
    }
    free(argv);
    int status = 0;
    while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    struct stat st;
    if (pid < 0 || stat(prof, &st) != 0 || st.st_size == 0) {
        fprintf(stderr, PROG ": %s: the script wrote no profile\n", c->script[0]);
        return CLI_EXIT_INPUT;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fprintf(stderr, PROG ": %s: the script failed (status %d); converting its profile\n",
                c->script[0], WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    return -1;
}

/* Replaces this process by kcachegrind (else qcachegrind) on path. */
static int exec_viewer(const char *path)
{
    static const char *const viewers[] = {"kcachegrind", "qcachegrind"};
    fflush(NULL);
    for (size_t i = 0; i < 2; i++) {
        char *argv[] = {(char *)viewers[i], (char *)path, NULL};
        execvp(viewers[i], argv);
    }
    fprintf(stderr, PROG ": cannot run kcachegrind or qcachegrind: %s; the callgrind file is %s\n",
            strerror(errno), path);
    return CLI_EXIT_INPUT;
}

/* Loads, merges and writes; returns the exit code. */
/* Long work (big inputs) is announced when stderr is a terminal. */
static void announce(const config *c)
{
    if (!isatty(STDERR_FILENO))
        return;
    double mb = 0;
    struct stat st;
    for (size_t i = 0; i < c->ninputs; i++)
        if (strcmp(c->inputs[i], "-") != 0 && stat(c->inputs[i], &st) == 0)
            mb += (double)st.st_size / (1024.0 * 1024.0);
    if (mb >= 32)
        fprintf(stderr, PROG ": reading %.0f MB of profile%s...\n", mb,
                c->ninputs > 1 ? "s" : "");
}

static int convert(config *c, const char *outpath)
{
    models ms = {NULL, 0};
    announce(c);
    int rc = load_all(c, &ms);
    if (rc < 0)
        rc = merge_all(c, &ms);
    if (rc >= 0) {
        models_free(&ms);
        return rc;
    }
    char msg[600];
    cli_out *out = cli_out_open(outpath, msg, sizeof msg);
    if (!out) {
        fprintf(stderr, PROG ": %s\n", msg);
        models_free(&ms);
        return CLI_EXIT_INPUT;
    }
    rc = write_result(c, &ms, out);
    models_free(&ms);
    if (rc >= 0) {
        cli_out_abort(out);
        return rc;
    }
    if (cli_out_commit(out, msg, sizeof msg) != 0) {
        fprintf(stderr, PROG ": %s\n", msg);
        return CLI_EXIT_INPUT;
    }
    if (c->nreports == 0 && c->format != FORMAT_JSON && strcmp(outpath, "-") != 0 &&
        !c->kcachegrind)
        fprintf(stderr, PROG ": wrote %s\n", outpath);
    return CLI_EXIT_OK;
}

static void config_free(config *c)
{
    free(c->inputs);
    free(c->reports);
    free(c->sort_keys);
    free(c->restr);
    free(c->maps);
    free(c->cmd);
}

/* The `cmd:` line: the script and its arguments, or the input names. */
static int make_cmd(config *c)
{
    char **words = c->script ? c->script : (char **)c->inputs;
    size_t n = c->script ? c->nscript : c->ninputs, len = 1;
    for (size_t i = 0; i < n; i++)
        len += strlen(words[i]) + 1;
    c->cmd = malloc(len);
    if (!c->cmd)
        return -1;
    c->cmd[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (i)
            strcat(c->cmd, " ");
        strcat(c->cmd, words[i]);
    }
    return 0;
}

/* The model is a few big arrays that grow by realloc. glibc raises its
 * mmap threshold each time such a block is freed (up to 32 MB), after
 * which big arrays live in the heap, where growing them leaves touched
 * holes behind: a fixed threshold keeps every big array of one input in
 * its own mapping (grown by mremap, returned whole when freed). Peak RSS
 * of a 30 MB conversion: 45.3 -> 41.6 MiB; of 100 MB: 144.8 -> 130.5 MiB.
 * Not when merging: there each input's model is loaded and freed in turn,
 * and fresh mappings for every one cost more time (page faults) than the
 * reused heap, whose peak is small anyway. */
static void memory_policy(const config *c)
{
#ifdef __GLIBC__
    if (c->ninputs + (c->script != NULL) == 1)
        (void)mallopt(M_MMAP_THRESHOLD, 128 * 1024);
#else
    (void)c;
#endif
}

int main(int argc, char **argv)
{
    config c;
    memset(&c, 0, sizeof c);
    cli_init();
    c.node_thres = c.edge_thres = -1.0;
    int rc = parse_args(&c, argc, argv);
    if (rc < 0)
        rc = check_config(&c);
    if (rc >= 0) {
        config_free(&c);
        return rc;
    }
    if (c.diff_base) {
        cli_diff_args a = {PROG, c.diff_base, c.inputs[0], c.maps, c.nmaps, c.strip_dirs,
                           c.format == FORMAT_JSON, c.sort_keys, c.nsort, c.restr, c.nrestr,
                           c.output};
        rc = cli_diff_run(&a);
        config_free(&c);
        return rc;
    }
    memory_policy(&c);
    if (make_cmd(&c) != 0) {
        fprintf(stderr, PROG ": out of memory\n");
        config_free(&c);
        return CLI_EXIT_INPUT;
    }
    char *prof = cli_temp_name("pstats2callgrind"), *kc_dir = cli_temp_name("pstats2callgrind");
    if (!prof || !kc_dir) {
        fprintf(stderr, PROG ": out of memory\n");
        rc = CLI_EXIT_INPUT;
    }
    int have_prof = 0, have_dir = 0, prof_slot = -1, dir_slot = -1;
    if (rc < 0 && c.script) {
        int fd = mkstemp(prof);
        prof_slot = fd >= 0 ? cli_cleanup_add(prof, 0) : -1;
        if (fd < 0 || close(fd) != 0) {
            fprintf(stderr, PROG ": cannot create a temporary file: %s\n", strerror(errno));
            rc = CLI_EXIT_INPUT;
        } else {
            have_prof = 1;
            rc = run_script(&c, prof);
            c.inputs[0] = prof;
            c.ninputs = 1;
        }
    }
    if (rc < 0 && c.kcachegrind && !c.output) {
        have_dir = mkdtemp(kc_dir) != NULL;
        dir_slot = have_dir ? cli_cleanup_add(kc_dir, 1) : -1;
        if (!have_dir) {
            fprintf(stderr, PROG ": cannot create a temporary directory: %s\n", strerror(errno));
            rc = CLI_EXIT_INPUT;
        }
    }
    char *outpath = rc < 0 ? output_path(&c, kc_dir) : NULL;
    if (rc < 0 && !outpath) {
        fprintf(stderr, PROG ": out of memory\n");
        rc = CLI_EXIT_INPUT;
    }
    if (rc < 0)
        rc = convert(&c, outpath);
    if (have_prof)
        unlink(prof);
    if (have_dir && rc != CLI_EXIT_OK)
        rmdir(kc_dir);
    cli_cleanup_remove(prof_slot);
    cli_cleanup_remove(dir_slot);
    config_free(&c);
    free(prof);
    free(kc_dir);
    if (rc == CLI_EXIT_OK && c.kcachegrind)
        rc = exec_viewer(outpath);
    free(outpath);
    return rc;
}
