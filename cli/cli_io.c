/*
 * Paths, input mapping and stdin loading, error printing (the output sink
 * is cli_out.c).
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
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

/* Reads all of fd into a malloc'd buffer. 0 or an errno value. */
static int read_fd_all(int fd, unsigned char **data, size_t *len)
{
    size_t cap = 1 << 16, n = 0;
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

int cli_input_open(const char *path, cli_input *in)
{
    struct stat st;
    int fd, e = 0;
    memset(in, 0, sizeof *in);
    if (strcmp(path, "-") == 0)
        return read_fd_all(STDIN_FILENO, &in->data, &in->len);
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
            in->len = 0;
            e = errno;
        } else {
            in->mapped = 1;
        }
    } else if (!S_ISREG(st.st_mode)) {
        e = read_fd_all(fd, &in->data, &in->len);
    }
    close(fd);
    return e;
}

void cli_input_close(cli_input *in)
{
    if (in->mapped)
        munmap(in->data, in->len);
    else
        free(in->data);
    memset(in, 0, sizeof *in);
}

int cli_load(pstats_stats *s, const char *path, pstats_error *err)
{
    if (strcmp(path, "-") != 0)
        return pstats_load_path(s, path, err);
    unsigned char *data = NULL;
    size_t len = 0;
    int e = read_fd_all(STDIN_FILENO, &data, &len);
    if (e != 0) {
        memset(err, 0, sizeof *err);
        err->code = e == ENOMEM ? PSTATS_ENOMEM : PSTATS_EIO;
        snprintf(err->file, sizeof err->file, "<stdin>");
        snprintf(err->msg, sizeof err->msg, "cannot read: %s", strerror(e));
        return -1;
    }
    /* A redirected regular file has an mtime for the report header. */
    struct stat st;
    time_t mtime = -1;
    if (fstat(STDIN_FILENO, &st) == 0 && S_ISREG(st.st_mode))
        mtime = st.st_mtime;
    int rc = pstats_load_buffer(s, data, len, "<stdin>", mtime, err);
    free(data);
    return rc;
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
