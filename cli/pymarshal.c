/*
 * pymarshal FILE|-: print Python 3's repr() of the marshalled object in
 * FILE, as `print(repr(marshal.load(open(FILE, 'rb'))))` would, using
 * libpymarshal only. Option parsing and calls; the library does the work.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "pstats/marshal.h"

#define PROG "pymarshal"

enum { OPT_HELP = 1, OPT_VERSION, OPT_MAX_OUTPUT, OPT_PYTHON };

static const cli_option options[] = {
    {OPT_HELP, 'h', "help", 0},
    {OPT_VERSION, 'V', "version", 0},
    {OPT_MAX_OUTPUT, 'm', "max-output", 1},
    {OPT_PYTHON, 'p', "python", 1},
};

static const char usage_text[] =
    "Usage: " PROG " [OPTION]... FILE\n"
    "Print Python 3's repr() of the marshalled object in FILE ('-': standard\n"
    "input), as print(repr(marshal.load(f))) does, without Python.\n"
    "\n"
    "  -m, --max-output=BYTES  stop with an error after BYTES bytes of output\n"
    "  -p, --python=VERSION    load as that Python's marshal.loads does: 2.7,\n"
    "                          3.6 ... 3.15, 3 (any CPython 3), pypy; default:\n"
    "                          guessed from the data\n"
    "  -h, --help              this help\n"
    "  -V, --version           the version\n"
    "\n"
    "Exit status: 0 success, 1 bad input file or output failure, 2 bad usage.\n";

static void print_error(const char *file, const pymarshal_error *err)
{
    fprintf(stderr, PROG ": %s: offset %zu: %s\n", file, err->offset, err->msg);
}

static int dump(const char *path, size_t max_output, const pymarshal_options *opts)
{
    const char *name = strcmp(path, "-") == 0 ? "<stdin>" : path;
    char msg[512];
    pymarshal_error err;
    pymarshal_doc *doc;
    cli_out *out;
    cli_input in;
    int rc = CLI_EXIT_OK;
    if (cli_input_open(path, &in, msg, sizeof msg) != 0) {
        fprintf(stderr, PROG ": %s: %s\n", name, msg);
        return CLI_EXIT_INPUT;
    }
    doc = pymarshal_load(in.data ? (const void *)in.data : "", in.len, opts, &err);
    if (!doc) {
        print_error(name, &err);
        cli_input_close(&in);
        return CLI_EXIT_INPUT;
    }
    if (pymarshal_doc_end(doc) < in.len)
        fprintf(stderr, PROG ": %s: offset %zu: warning: %zu bytes after the object "
                "(ignored, as Python does)\n", name, pymarshal_doc_end(doc),
                in.len - pymarshal_doc_end(doc));
    out = cli_out_open("-", msg, sizeof msg);
    if (!out) {
        fprintf(stderr, PROG ": %s\n", msg);
        rc = CLI_EXIT_INPUT;
    } else {
        if (pymarshal_repr(pymarshal_doc_root(doc), max_output, NULL, cli_out_write, out,
                           &err) != 0) {
            if (out->failed) /* the output's error, with its cause */
                fprintf(stderr, PROG ": %s: %s\n", cli_out_name(out), strerror(out->err_no));
            else
                print_error(name, &err);
            rc = CLI_EXIT_INPUT;
        } else {
            cli_out_write(out, "\n", 1);
        }
        if (cli_out_commit(out, msg, sizeof msg) != 0 && rc == CLI_EXIT_OK) {
            fprintf(stderr, PROG ": %s\n", msg);
            rc = CLI_EXIT_INPUT;
        }
    }
    pymarshal_doc_free(doc);
    cli_input_close(&in);
    return rc;
}

int main(int argc, char **argv)
{
    const char *file = NULL, *arg;
    size_t max_output = 0;
    pymarshal_options opts;
    char msg[256], *end;
    memset(&opts, 0, sizeof opts);
    cli_parser p;
    int id;
    cli_init();
    cli_parser_init(&p, argc, argv, options, sizeof options / sizeof options[0]);
    while ((id = cli_next(&p, &arg, msg, sizeof msg)) != CLI_OPT_END) {
        switch (id) {
        case OPT_HELP: fputs(usage_text, stdout); return CLI_EXIT_OK;
        case OPT_VERSION: printf(PROG " %s\n", pymarshal_version()); return CLI_EXIT_OK;
        case OPT_MAX_OUTPUT:
            errno = 0;
            max_output = (size_t)strtoull(arg, &end, 10);
            if (errno || end == arg || *end || arg[0] == '-' || max_output == 0)
                return cli_usage_error(PROG, "--max-output: '%s' is not a positive byte count", arg);
            break;
        case OPT_PYTHON:
            if (pymarshal_options_set_python(&opts, arg) != 0)
                return cli_usage_error(PROG, "--python: '%s' is not 2.7, 3, 3.N or pypy", arg);
            break;
        case CLI_OPT_POSITIONAL:
            if (file)
                return cli_usage_error(PROG, "one FILE only (got '%s' and '%s')", file, arg);
            file = arg;
            break;
        default: return cli_usage_error(PROG, "%s", msg);
        }
    }
    if (!file)
        return cli_usage_error(PROG, "%s", "no input file (give FILE or '-')");
    return dump(file, max_output, &opts);
}
