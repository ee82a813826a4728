/*
 * Paths, reading inputs (read, never mapped: a file truncated while it is
 * read must not kill us with SIGBUS), error printing (the output sink is
 * cli_out.c).
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------- paths */

const char *cli_basename(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

char *cli_sibling(const char *path, const char *prefix)
{
    const char *base = cli_basename(path);
    size_t dirlen = (size_t)(base - path);
    size_t plen = strlen(prefix), blen = strlen(base);
    char *out = malloc(dirlen + plen + blen + 1);
    if (!out)
        return NULL;
    memcpy(out, path, dirlen);
    memcpy(out + dirlen, prefix, plen);
    memcpy(out + dirlen + plen, base, blen + 1);
    return out;
}

char *cli_temp_name(const char *name)
{
    const char *dir = getenv("TMPDIR");
    if (!dir || !*dir)
        dir = "/tmp";
    size_t len = strlen(dir) + strlen(name) + 16;
    char *out = malloc(len);
    if (out)
        snprintf(out, len, "%s/%s.XXXXXX", dir, name);
    return out;
}

/* -------------------------------------------------------------- input */

/* Reads all of fd into a malloc'd buffer (`hint`: the expected size, 0
 * when unknown). 0 or an errno value. */
static int read_fd_all(int fd, size_t hint, unsigned char **data, size_t *len)
{
    size_t cap = hint + 1 > (1 << 16) ? hint + 1 : 1 << 16, n = 0;
    unsigned char *buf = malloc(cap);
    if (!buf)
        return ENOMEM;
    for (;;) {
        if (n == cap) {
            unsigned char *nb = cap > SIZE_MAX / 2 ? NULL : realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                return ENOMEM;
            }
            buf = nb;
            cap *= 2;
        }
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            free(buf);
            return e;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    *data = buf;
    *len = n;
    return 0;
}

/* Did the regular file change between st0 and now? */
static int changed(int fd, const struct stat *st0)
{
    struct stat st;
    return fstat(fd, &st) != 0 || st.st_size != st0->st_size ||
           st.st_mtim.tv_sec != st0->st_mtim.tv_sec || st.st_mtim.tv_nsec != st0->st_mtim.tv_nsec ||
           st.st_ctim.tv_sec != st0->st_ctim.tv_sec || st.st_ctim.tv_nsec != st0->st_ctim.tv_nsec;
}

int cli_input_open(const char *path, cli_input *in, char *msg, size_t msgsize)
{
    struct stat st;
    int fd, e = 0;
    memset(in, 0, sizeof *in);
    if (strcmp(path, "-") == 0)
        fd = STDIN_FILENO;
    else if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        e = errno;
    if (e == 0 && fstat(fd, &st) != 0)
        e = errno;
    else if (e == 0 && S_ISDIR(st.st_mode))
        e = EISDIR;
    int regular = e == 0 && S_ISREG(st.st_mode);
    if (e == 0)
        e = read_fd_all(fd, regular ? (size_t)st.st_size : 0, &in->data, &in->len);
    if (e == 0 && regular && (in->len != (size_t)st.st_size || changed(fd, &st))) {
        snprintf(msg, msgsize, "the file changed while it was read (%lld bytes when opened, "
                 "%zu read)", (long long)st.st_size, in->len);
        cli_input_close(in);
        e = -1;
    } else if (e != 0) {
        snprintf(msg, msgsize, "%s", strerror(e));
    }
    if (fd >= 0 && fd != STDIN_FILENO)
        close(fd);
    return e == 0 ? 0 : -1;
}

void cli_input_close(cli_input *in)
{
    free(in->data);
    memset(in, 0, sizeof *in);
}

int cli_load(pstats_stats *s, const char *path, pstats_error *err)
{
    if (strcmp(path, "-") == 0)
        return pstats_load_fd(s, STDIN_FILENO, "<stdin>", err);
    return pstats_load_path(s, path, err);
}

/* ------------------------------------------------------------- errors */

void cli_print_error(const char *prog, const char *file, const pstats_error *err)
{
    const char *f = err->file[0] ? err->file : file;
    if (f && strcmp(f, "-") == 0)
        f = "<stdin>";
    if (f && err->has_offset)
        fprintf(stderr, "%s: %s: offset %zu: %s\n", prog, f, err->offset, err->msg);
    else if (f)
        fprintf(stderr, "%s: %s: %s\n", prog, f, err->msg);
    else
        fprintf(stderr, "%s: %s\n", prog, err->msg);
}

int cli_usage_error(const char *prog, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", prog);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry '%s --help' for more information.\n", prog);
    return CLI_EXIT_USAGE;
}

int cli_exit_code(const pstats_error *err)
{
    return err->code == PSTATS_EUSAGE ? CLI_EXIT_USAGE : CLI_EXIT_INPUT;
}
