/*
 * A small GNU-style option parser that, unlike getopt_long, lets the caller
 * stop at any option and take the rest of argv untouched (for -r SCRIPT
 * ARGS...), without argv being permuted behind its back.
 */
#include "cli.h"

#include <stdio.h>
#include <string.h>

void cli_parser_init(cli_parser *p, int argc, char **argv,
                     const cli_option *opts, size_t nopts)
{
    memset(p, 0, sizeof *p);
    p->argc = argc;
    p->argv = argv;
    p->next = 1;
    p->opts = opts;
    p->nopts = nopts;
}

static int take_arg(cli_parser *p, const cli_option *o, const char *inline_arg,
                    const char **arg, const char *shown, char *msg, size_t msgsize)
{
    if (!o->has_arg) {
        if (inline_arg) {
            snprintf(msg, msgsize, "option '%s' takes no argument", shown);
            return CLI_OPT_ERROR;
        }
        *arg = NULL;
        return o->id;
    }
    if (inline_arg) {
        *arg = inline_arg;
        return o->id;
    }
    if (p->next >= p->argc) {
        snprintf(msg, msgsize, "option '%s' needs an argument", shown);
        return CLI_OPT_ERROR;
    }
    *arg = p->argv[p->next++];
    return o->id;
}

static int parse_long(cli_parser *p, const char *text, const char **arg,
                      char *msg, size_t msgsize)
{
    const char *eq = strchr(text, '=');
    size_t len = eq ? (size_t)(eq - text) : strlen(text);
    const cli_option *found = NULL;
    int ambiguous = 0;
    for (size_t i = 0; i < p->nopts; i++) {
        const char *name = p->opts[i].long_name;
        if (!name || strncmp(name, text, len) != 0)
            continue;
        if (name[len] == '\0') { /* exact match wins */
            found = &p->opts[i];
            ambiguous = 0;
            break;
        }
        if (found)
            ambiguous = 1;
        found = &p->opts[i];
    }
    if (!found || ambiguous) {
        snprintf(msg, msgsize, "%s option '--%.*s'",
                 ambiguous ? "ambiguous" : "unknown", (int)len, text);
        return CLI_OPT_ERROR;
    }
    char shown[128];
    snprintf(shown, sizeof shown, "--%s", found->long_name);
    return take_arg(p, found, eq ? eq + 1 : NULL, arg, shown, msg, msgsize);
}

static int parse_short(cli_parser *p, const char **arg, char *msg, size_t msgsize)
{
    char c = *p->cluster++;
    for (size_t i = 0; i < p->nopts; i++) {
        const cli_option *o = &p->opts[i];
        if (o->short_name != c)
            continue;
        char shown[3] = {'-', c, '\0'};
        const char *inline_arg = NULL;
        if (o->has_arg && *p->cluster)
            inline_arg = p->cluster;
        if (o->has_arg)
            p->cluster = NULL;
        else if (!*p->cluster)
            p->cluster = NULL;
        return take_arg(p, o, inline_arg, arg, shown, msg, msgsize);
    }
    snprintf(msg, msgsize, "unknown option '-%c'", c);
    p->cluster = NULL;
    return CLI_OPT_ERROR;
}

int cli_next(cli_parser *p, const char **arg, char *msg, size_t msgsize)
{
    *arg = NULL;
    if (p->cluster)
        return parse_short(p, arg, msg, msgsize);
    if (p->next >= p->argc)
        return CLI_OPT_END;
    const char *a = p->argv[p->next++];
    if (p->only_positional || a[0] != '-' || a[1] == '\0') {
        *arg = a;
        return CLI_OPT_POSITIONAL;
    }
    if (a[1] == '-') {
        if (a[2] == '\0') {
            p->only_positional = 1;
            return cli_next(p, arg, msg, msgsize);
        }
        return parse_long(p, a + 2, arg, msg, msgsize);
    }
    p->cluster = a + 1;
    return parse_short(p, arg, msg, msgsize);
}
