/*
 * pymarshal FILE|-: print Python 3's repr() of the marshalled object in
 * FILE, as `print(repr(marshal.load(open(FILE, 'rb'))))` would, using
 * libpymarshal only. Option parsing and calls; the library does the work.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "pstats/marshal.h"

#define PROG "pymarshal"

enum { OPT_HELP = 1, OPT_VERSION, OPT_MAX_OUTPUT };

static const cli_option options[] = {
    {OPT_HELP, 'h', "help", 0},
    {OPT_VERSION, 'V', "version", 0},
    {OPT_MAX_OUTPUT, 'm', "max-output", 1},
};

static const char usage_text[] =
    "Usage: " PROG " [OPTION]... FILE\n"
    "Print Python 3's repr() of the marshalled object in FILE ('-': standard\n"
    "input), as print(repr(marshal.load(f))) does, without Python.\n"
    "\n"
    "  -m, --max-output=BYTES  stop with an error after BYTES bytes of output\n"
    "  -h, --help              this help\n"
    "  -V, --version           the version\n"
    "\n"
    "Exit status: 0 success, 1 bad input file or output failure, 2 bad usage.\n";

/* The input: a private mapping of a file, or standard input in memory. */
typedef struct input {
    unsigned char *data;
    size_t len;
    int mapped;
} input;

__attribute__((format(printf, 1, 2)))
static int usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, PROG ": ");
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry '" PROG " --help' for more information.\n");
    return CLI_EXIT_USAGE;
}

static int read_all(int fd, input *in)
{
    size_t cap = 1 << 16;
    in->len = 0;
    in->data = malloc(cap);
    while (in->data) {
        ssize_t r;
        if (in->len == cap) {
            unsigned char *nd = cap > SIZE_MAX / 2 ? NULL : realloc(in->data, cap * 2);
            if (!nd)
                break;
            in->data = nd;
            cap *= 2;
        }
        r = read(fd, in->data + in->len, cap - in->len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return errno;
        if (r == 0)
            return 0;
        in->len += (size_t)r;
    }
    return ENOMEM;
}

/* 0, or an errno value. Regular files are mapped, anything else read. */
static int input_open(const char *path, input *in)
{
    struct stat st;
    int fd, e = 0;
    memset(in, 0, sizeof *in);
    if (strcmp(path, "-") == 0)
        return read_all(STDIN_FILENO, in);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno;
    if (fstat(fd, &st) != 0) {
        e = errno;
    } else if (S_ISDIR(st.st_mode)) {
        e = EISDIR;
    } else if (S_ISREG(st.st_mode) && st.st_size > 0) {
        in->len = (size_t)st.st_size;
        in->data = mmap(NULL, in->len, PROT_READ, MAP_PRIVATE, fd, 0);
        if (in->data == MAP_FAILED) {
            in->data = NULL;
            e = errno;
        } else {
            in->mapped = 1;
        }
    } else if (!S_ISREG(st.st_mode)) {
        e = read_all(fd, in);
    }
    close(fd);
    return e;
}

static void input_close(input *in)
{
    if (in->mapped)
        munmap(in->data, in->len);
    else
        free(in->data);
}

static void print_error(const char *file, const pymarshal_error *err)
{
    fprintf(stderr, PROG ": %s: offset %zu: %s\n", file, err->offset, err->msg);
}

static int dump(const char *path, size_t max_output)
{
    const char *name = strcmp(path, "-") == 0 ? "<stdin>" : path;
    char msg[512];
    pymarshal_error err;
    pymarshal_doc *doc;
    cli_out *out;
    input in;
    int e = input_open(path, &in), rc = CLI_EXIT_OK;
    if (e != 0) {
        fprintf(stderr, PROG ": %s: %s\n", name, strerror(e));
        input_close(&in);
        return CLI_EXIT_INPUT;
    }
    doc = pymarshal_load(in.data ? (const void *)in.data : "", in.len, NULL, &err);
    if (!doc) {
        print_error(name, &err);
        input_close(&in);
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
    input_close(&in);
    return rc;
}

int main(int argc, char **argv)
{
    const char *file = NULL, *arg;
    size_t max_output = 0;
    char msg[256], *end;
    cli_parser p;
    int id;
    cli_parser_init(&p, argc, argv, options, sizeof options / sizeof options[0]);
    while ((id = cli_next(&p, &arg, msg, sizeof msg)) != CLI_OPT_END) {
        switch (id) {
        case OPT_HELP: fputs(usage_text, stdout); return CLI_EXIT_OK;
        case OPT_VERSION: printf(PROG " %s\n", pymarshal_version()); return CLI_EXIT_OK;
        case OPT_MAX_OUTPUT:
            errno = 0;
            max_output = (size_t)strtoull(arg, &end, 10);
            if (errno || end == arg || *end || arg[0] == '-' || max_output == 0)
                return usage_error("--max-output: '%s' is not a positive byte count", arg);
            break;
        case CLI_OPT_POSITIONAL:
            if (file)
                return usage_error("one FILE only (got '%s' and '%s')", file, arg);
            file = arg;
            break;
        default: return usage_error("%s", msg);
        }
    }
    if (!file)
        return usage_error("%s", "no input file (give FILE or '-')");
    return dump(file, max_output);
}
