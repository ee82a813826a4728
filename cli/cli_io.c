/*
 * Output sink with atomic replace, reading inputs (read, never mapped: a
 * file truncated while it is read must not kill us with SIGBUS), error
 * printing.
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

/* ------------------------------------------------------------- output */

static int write_all(int fd, const unsigned char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static int out_flush(cli_out *o)
{
    if (o->failed)
        return -1;
    if (o->len > 0 && write_all(o->fd, o->buf, o->len) != 0) {
        o->failed = 1;
        o->err_no = errno;
        return -1;
    }
    o->len = 0;
    return 0;
}

int cli_out_write(void *ctx, const void *buf, size_t len)
{
    cli_out *o = ctx;
    const unsigned char *p = buf;
    if (o->failed)
        return -1;
    if (len >= CLI_OUT_BUFSIZE) {
        if (out_flush(o) != 0)
            return -1;
        if (write_all(o->fd, p, len) != 0) {
            o->failed = 1;
            o->err_no = errno;
            return -1;
        }
        return 0;
    }
    if (o->len + len > CLI_OUT_BUFSIZE && out_flush(o) != 0)
        return -1;
    memcpy(o->buf + o->len, p, len);
    o->len += len;
    return 0;
}

static void out_free(cli_out *o)
{
    free(o->path);
    free(o->tmp);
    free(o);
}

cli_out *cli_out_open(const char *path, char *msg, size_t msgsize)
{
    cli_out *o = calloc(1, sizeof *o);
    if (!o) {
        snprintf(msg, msgsize, "out of memory");
        return NULL;
    }
    if (strcmp(path, "-") == 0) {
        o->to_stdout = 1;
        o->fd = STDOUT_FILENO;
        return o;
    }
    o->path = strdup(path);
    o->tmp = cli_sibling(path, ".pstats2callgrind.");
    size_t tlen = o->tmp ? strlen(o->tmp) : 0;
    char *t = o->tmp ? realloc(o->tmp, tlen + 8) : NULL;
    if (!o->path || !t) {
        snprintf(msg, msgsize, "out of memory");
        free(t ? t : o->tmp);
        o->tmp = NULL;
        out_free(o);
        return NULL;
    }
    o->tmp = t;
    memcpy(o->tmp + tlen, ".XXXXXX", 8);
    o->fd = mkstemp(o->tmp);
    if (o->fd < 0) {
        snprintf(msg, msgsize, "%s: cannot create a temporary file: %s", path,
                 strerror(errno));
        out_free(o);
        return NULL;
    }
    /* mkstemp makes 0600; give the file the mode a plain creat() would. */
    mode_t mask = umask(0);
    umask(mask);
    (void)fchmod(o->fd, 0666 & ~mask);
    return o;
}

int cli_out_commit(cli_out *o, char *msg, size_t msgsize)
{
    int rc = out_flush(o);
    if (o->to_stdout) {
        if (rc != 0)
            snprintf(msg, msgsize, "standard output: %s", strerror(o->err_no));
        out_free(o);
        return rc;
    }
    /* No fsync: the rename makes the replacement atomic for every reader
     * and on every failure of ours; durability across a power cut is not
     * worth its cost for a file the input can always make again (syncing
     * 100 MB added 50-100 ms to a 0.5 s conversion; compilers, gzip and
     * pyprof2calltree do not sync either). */
    if (close(o->fd) != 0 && rc == 0) {
        rc = -1;
        o->err_no = errno;
    }
    o->fd = -1;
    if (rc == 0 && rename(o->tmp, o->path) != 0) {
        rc = -1;
        o->err_no = errno;
    }
    if (rc != 0) {
        snprintf(msg, msgsize, "%s: %s", o->path, strerror(o->err_no));
        unlink(o->tmp);
    }
    out_free(o);
    return rc;
}

void cli_out_abort(cli_out *o)
{
    if (!o)
        return;
    if (!o->to_stdout) {
        if (o->fd >= 0)
            close(o->fd);
        unlink(o->tmp);
    } else {
        (void)out_flush(o);
    }
    out_free(o);
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
