/*
 * Shared helpers of the command-line programs: a buffered output sink that
 * replaces regular files atomically and writes everything else in place
 * (cli_out.c), loading inputs (read by the library, "-" is standard
 * input), and error messages in one format:
 *     PROG: FILE: offset N: message
 * These helpers may print and decide exit codes; the libraries never do.
 */
#ifndef PSTATS_CLI_H
#define PSTATS_CLI_H

#include <stddef.h>

#include "pstats/pstats.h"

/* Exit codes shared by the programs. */
enum { CLI_EXIT_OK = 0, CLI_EXIT_INPUT = 1, CLI_EXIT_USAGE = 2 };

/* ------------------------------------------------------------- output */

#define CLI_OUT_BUFSIZE 65536

typedef struct cli_out {
    int fd;
    int to_stdout;   /* "-": write to standard output, no rename */
    int in_place;    /* written where it is (device, FIFO, socket, our own
                        descriptor): no temporary file, no rename */
    int own_fd;      /* fd is ours to close */
    char *path;      /* the name given (malloc'd), NULL for stdout */
    char *target;    /* the end of its links, replaced (malloc'd) */
    char *tmp;       /* the temporary file beside it (malloc'd), NULL when
                        written in place */
    int cleanup;     /* its cli_cleanup_add slot, -1 */
    int failed;      /* a write failed: errno saved in err_no */
    int err_no;
    size_t len;
    unsigned char buf[CLI_OUT_BUFSIZE];
} cli_out;

/* Call first in main: a closed standard output or error is held by
 * /dev/null read-only (writes to it fail with EBADF, no file we open takes
 * its number), SIGPIPE and SIGXFSZ are ignored (EPIPE and EFBIG become
 * write errors), and SIGHUP, SIGINT, SIGQUIT and SIGTERM remove the
 * temporary files (cli_cleanup_add) before the program dies of them. */
void cli_init(void);
/* Removes `path` (rmdir when is_dir) if a signal ends the program. Returns
 * a slot for cli_cleanup_remove, or -1 (no room; the path is too long). */
int cli_cleanup_add(const char *path, int is_dir);
void cli_cleanup_remove(int slot);

/* Opens `path` for writing ("-": standard output), as cli_out.c explains:
 * a regular file (or a new one) through a temporary file renamed over it
 * at the end, anything else in place, symbolic links followed. Returns a
 * new sink, or NULL with "PATH: why" in msg. */
cli_out *cli_out_open(const char *path, char *msg, size_t msgsize);
/* A pstats_write_fn over a cli_out (ctx). Returns 0 or -1. */
int cli_out_write(void *ctx, const void *buf, size_t len);
/* "standard output" or the path given: what messages call the output. */
const char *cli_out_name(const cli_out *o);
/* Flushes, closes and renames the temporary file onto the target, then
 * frees the sink. Returns 0, or -1 with "PATH: why" in msg (the temporary
 * file removed and any existing target untouched). */
int cli_out_commit(cli_out *o, char *msg, size_t msgsize);
/* Removes the temporary file and frees the sink; the target is untouched. */
void cli_out_abort(cli_out *o);

/* -------------------------------------------------------------- input */

/* Loads one input into an empty model: a path, or "-" (standard input,
 * named "<stdin>"), both read by the library (pstats_load_path,
 * pstats_load_fd), compressed or not. */
int cli_load(pstats_stats *s, const char *path, pstats_error *err);

/* The bytes of one input ("-": standard input), read into memory. */
typedef struct cli_input {
    unsigned char *data;
    size_t len;
} cli_input;

/* 0, or -1 with a message (the input is then empty): cannot open or read
 * it, or a regular file changed while it was read. */
int cli_input_open(const char *path, cli_input *in, char *msg, size_t msgsize);
void cli_input_close(cli_input *in);

/* ------------------------------------------------------------- errors */

/* Prints "PROG: FILE: offset N: message" (FILE and offset when known;
 * `file` is used when err->file is empty) on stderr. */
void cli_print_error(const char *prog, const char *file, const pstats_error *err);
/* Prints "PROG: message" and a hint to --help on stderr; returns
 * CLI_EXIT_USAGE. */
__attribute__((format(printf, 2, 3)))
int cli_usage_error(const char *prog, const char *fmt, ...);
/* The exit code for a library error: 2 for PSTATS_EUSAGE, else 1. */
int cli_exit_code(const pstats_error *err);

/* ------------------------------------------------------------- paths */

/* The last path component of `path` ("a/b/c.prof" -> "c.prof"), pointing
 * into `path`; "" for a path ending in '/'. */
const char *cli_basename(const char *path);
/* A malloc'd "DIR/PREFIXBASE" where DIR is the directory part of `path`
 * (nothing when `path` has no '/'), or NULL when out of memory. */
char *cli_sibling(const char *path, const char *prefix);

/* A malloc'd mkstemp/mkdtemp template "$TMPDIR/NAME.XXXXXX" (/tmp when
 * TMPDIR is unset or empty), or NULL when out of memory. */
char *cli_temp_name(const char *name);

/* ------------------------------------------------------------ options */

/* GNU-style option parsing: short options (clustered, "-ovalue" or "-o
 * value"), long options ("--name=value", "--name value", any unique prefix),
 * "--" ends the options, "-" is a positional argument. Options and
 * positional arguments may be mixed. */
typedef struct cli_option {
    int id;                /* > 0, returned by cli_next */
    char short_name;       /* 0: none */
    const char *long_name; /* NULL: none */
    int has_arg;
} cli_option;

typedef struct cli_parser {
    int argc;
    char **argv;
    int next;              /* index of the next argv element */
    const char *cluster;   /* rest of a short-option cluster */
    int only_positional;   /* after "--" */
    const cli_option *opts;
    size_t nopts;
} cli_parser;

enum { CLI_OPT_END = 0, CLI_OPT_POSITIONAL = -1, CLI_OPT_ERROR = -2 };

void cli_parser_init(cli_parser *p, int argc, char **argv,
                     const cli_option *opts, size_t nopts);
/* The next option's id (its argument in *arg), CLI_OPT_POSITIONAL (the
 * argument in *arg), CLI_OPT_END, or CLI_OPT_ERROR (message in msg). After
 * an option, argv[p->next..] are the arguments not yet seen. */
int cli_next(cli_parser *p, const char **arg, char *msg, size_t msgsize);

/* ------------------------------------------------- --map-path, --diff */

/* "FROM=TO" split in place at the first '=' into m; -1 when there is no
 * '=' or FROM is empty. */
int cli_parse_map(char *arg, pstats_path_map *m);
/* pstats_map_paths on s, a warning on stderr for each map that matched
 * nothing. -1 on success (or n == 0), else an exit code. */
int cli_apply_maps(const char *prog, pstats_stats *s, const pstats_path_map *maps, size_t n);

typedef struct cli_diff_args {
    const char *prog;
    const char *base, *next;        /* comma-separated lists of inputs */
    const pstats_path_map *maps; size_t nmaps;
    int strip_dirs, json;
    const char *const *sort_keys; size_t nsort;
    const pstats_restriction *restr; size_t nrestr;
    const char *output;             /* NULL or "-": standard output */
} cli_diff_args;

/* Loads both sides (each list merged as pstats.Stats(a, b, ...) merges
 * it, then mapped and stripped), and writes their diff (a report, or
 * JSON). Returns the exit code. */
int cli_diff_run(const cli_diff_args *a);

#endif
