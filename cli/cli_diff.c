/*
 * pstats2callgrind's --diff and --map-path: option arguments into library
 * calls (pstats_map_paths, pstats_diff_*); no logic the library lacks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cli_parse_map(char *arg, pstats_path_map *m)
{
    char *eq = strchr(arg, '=');
    if (!eq || eq == arg)
        return -1;
    *eq = '\0';
    m->from = arg;
    m->to = eq + 1;
    return 0;
}

int cli_apply_maps(const char *prog, pstats_stats *s, const pstats_path_map *maps, size_t n)
{
    if (n == 0)
        return -1;
    size_t *matched = calloc(n, sizeof *matched);
    pstats_error err;
    memset(&err, 0, sizeof err);
    if (!matched) {
        fprintf(stderr, "%s: out of memory\n", prog);
        return CLI_EXIT_INPUT;
    }
    int rc = pstats_map_paths(s, maps, n, matched, &err);
    if (rc != 0) {
        cli_print_error(prog, NULL, &err);
        free(matched);
        return cli_exit_code(&err);
    }
    for (size_t i = 0; i < n; i++)
        if (matched[i] == 0)
            fprintf(stderr, "%s: --map-path %s=%s: no file name starts with %s\n", prog,
                    maps[i].from, maps[i].to, maps[i].from);
    free(matched);
    return -1;
}

/* The names of a comma-separated list, in place. */
static size_t split_commas(char *list, char **names, size_t max)
{
    size_t n = 0;
    for (char *p = list; n < max;) {
        names[n++] = p;
        char *comma = strchr(p, ',');
        if (!comma)
            break;
        *comma = '\0';
        p = comma + 1;
    }
    return n;
}

/* pstats.Stats(names[0], names[1], ...) without edges (a diff needs none);
 * -1 with *out set, else an exit code. */
static int load_merged(const char *prog, char **names, size_t n, pstats_stats **out)
{
    pstats_error err;
    memset(&err, 0, sizeof err);
    *out = NULL;
    pstats_stats *first = NULL;
    for (size_t k = 0; k < n; k++) {
        size_t i = k == 0 ? 0 : n - k; /* the first, then add() walks the rest reversed */
        pstats_stats *t = pstats_new(NULL);
        if (!t) {
            fprintf(stderr, "%s: out of memory\n", prog);
            pstats_free(first);
            return CLI_EXIT_INPUT;
        }
        pstats_set_load_flags(t, PSTATS_LOAD_NO_EDGES);
        int rc = cli_load(t, names[i], &err);
        if (rc == 0 && first) {
            rc = pstats_add(first, &t, 1, &err);
            pstats_free(t);
        } else if (rc == 0) {
            first = t;
        } else {
            pstats_free(t);
        }
        if (rc != 0) {
            cli_print_error(prog, names[i], &err);
            pstats_free(first);
            return cli_exit_code(&err);
        }
    }
    *out = first;
    return -1;
}

/* Loads one side, maps and strips it as the options say. */
static int load_side(const cli_diff_args *a, char *list, pstats_stats **out)
{
    size_t max = strlen(list) + 1;
    char **names = calloc(max, sizeof *names);
    if (!names) {
        fprintf(stderr, "%s: out of memory\n", a->prog);
        return CLI_EXIT_INPUT;
    }
    size_t n = split_commas(list, names, max);
    int rc = load_merged(a->prog, names, n, out);
    free(names);
    if (rc < 0)
        rc = cli_apply_maps(a->prog, *out, a->maps, a->nmaps);
    pstats_error err;
    memset(&err, 0, sizeof err);
    if (rc < 0 && a->strip_dirs && pstats_strip_dirs(*out, &err) != 0) {
        cli_print_error(a->prog, NULL, &err);
        rc = cli_exit_code(&err);
    }
    return rc;
}

static int write_diff(const cli_diff_args *a, pstats_diff *d)
{
    pstats_error err;
    memset(&err, 0, sizeof err);
    if (pstats_diff_sort(d, a->sort_keys, a->nsort, &err) != 0) {
        cli_print_error(a->prog, NULL, &err);
        return cli_exit_code(&err);
    }
    char msg[600];
    cli_out *out = cli_out_open(a->output ? a->output : "-", msg, sizeof msg);
    if (!out) {
        fprintf(stderr, "%s: %s\n", a->prog, msg);
        return CLI_EXIT_INPUT;
    }
    int rc = a->json ? pstats_write_diff_json(d, a->restr, a->nrestr, cli_out_write, out, &err)
                     : pstats_print_diff(d, a->restr, a->nrestr, cli_out_write, out, &err);
    if (rc != 0) {
        if (out->failed)
            fprintf(stderr, "%s: %s: %s\n", a->prog, cli_out_name(out), strerror(out->err_no));
        else
            cli_print_error(a->prog, NULL, &err);
        cli_out_abort(out);
        return cli_exit_code(&err);
    }
    if (cli_out_commit(out, msg, sizeof msg) != 0) {
        fprintf(stderr, "%s: %s\n", a->prog, msg);
        return CLI_EXIT_INPUT;
    }
    return CLI_EXIT_OK;
}

int cli_diff_run(const cli_diff_args *a)
{
    pstats_stats *before = NULL, *after = NULL;
    char *base = strdup(a->base), *next = strdup(a->next);
    int rc = base && next ? -1 : CLI_EXIT_INPUT;
    if (rc >= 0)
        fprintf(stderr, "%s: out of memory\n", a->prog);
    if (rc < 0)
        rc = load_side(a, base, &before);
    if (rc < 0)
        rc = load_side(a, next, &after);
    if (rc < 0) {
        pstats_error err;
        memset(&err, 0, sizeof err);
        pstats_diff *d = pstats_diff_new(before, after, &err);
        if (!d) {
            cli_print_error(a->prog, NULL, &err);
            rc = cli_exit_code(&err);
        } else {
            rc = write_diff(a, d);
            pstats_diff_free(d);
        }
    }
    pstats_free(before);
    pstats_free(after);
    free(base);
    free(next);
    return rc;
}
