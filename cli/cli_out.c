/*
 * Where the programs' output goes, and how it is written (cli.h):
 *
 *   "-"                          standard output, as it is
 *   /dev/stdout, /dev/fd/N,      that descriptor of ours, as it is (the
 *   /proc/self/fd/N              shell's redirection: offset, append mode)
 *   a symbolic link              followed to its final target: chains and
 *                                relative links resolved here, a dangling
 *                                link creates its target; never replaced
 *   a regular file, or nothing   a temporary file beside it (the final
 *                                target's directory), renamed over it at
 *                                the end: readers see the old or the new
 *                                file, never half of one; the permission
 *                                bits are kept (the owner and group too
 *                                when we are root)
 *   a device or FIFO             opened and written in place
 *   a socket                     connected to (a stream socket) and written
 *   a directory                  an error
 *
 * A failed write, close or rename removes the temporary file; the old
 * target is untouched. SIGINT, SIGTERM, SIGHUP and SIGQUIT remove the
 * temporary file (and the programs' other temporary files, cli_cleanup_add)
 * before the program dies of the signal; SIGPIPE and SIGXFSZ are ignored,
 * so that EPIPE and EFBIG come back as write errors with the path.
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* ------------------------------------------------------------- signals */

/* Paths removed when a signal ends the program. The handler reads these
 * and nothing else; they change only with the signals blocked. */
#define CLEANUP_SLOTS 4
#define CLEANUP_PATH 4200

typedef struct cleanup_slot {
    volatile sig_atomic_t used;
    int is_dir;
    char path[CLEANUP_PATH];
} cleanup_slot;

static cleanup_slot cleanup[CLEANUP_SLOTS];

static void on_fatal_signal(int sig)
{
    int saved = errno;
    for (int i = CLEANUP_SLOTS - 1; i >= 0; i--) /* last in, first out: a file
                                                  * before its directory */
        if (cleanup[i].used) {
            if (cleanup[i].is_dir)
                (void)rmdir(cleanup[i].path);
            else
                (void)unlink(cleanup[i].path);
        }
    errno = saved;
    signal(sig, SIG_DFL); /* die of it: the parent sees the signal */
    raise(sig);
}

static const int fatal_signals[] = {SIGHUP, SIGINT, SIGQUIT, SIGTERM};
#define NFATAL (sizeof fatal_signals / sizeof fatal_signals[0])

static void block_fatal(sigset_t *old)
{
    sigset_t set;
    sigemptyset(&set);
    for (size_t i = 0; i < NFATAL; i++)
        sigaddset(&set, fatal_signals[i]);
    sigprocmask(SIG_BLOCK, &set, old);
}

static void unblock(const sigset_t *old) { sigprocmask(SIG_SETMASK, old, NULL); }

int cli_cleanup_add(const char *path, int is_dir)
{
    size_t len = strlen(path);
    if (len >= CLEANUP_PATH)
        return -1;
    sigset_t old;
    block_fatal(&old);
    int slot = -1;
    for (int i = 0; i < CLEANUP_SLOTS && slot < 0; i++)
        if (!cleanup[i].used) {
            memcpy(cleanup[i].path, path, len + 1);
            cleanup[i].is_dir = is_dir;
            cleanup[i].used = 1;
            slot = i;
        }
    unblock(&old);
    return slot;
}

void cli_cleanup_remove(int slot)
{
    if (slot >= 0 && slot < CLEANUP_SLOTS)
        cleanup[slot].used = 0;
}

/* A descriptor the shell closed (./prog >&-) is taken by /dev/null opened
 * read-only: no file we open later can become "standard output", and a
 * write to it fails with EBADF, as it would have. */
static void hold_closed_fd(int fd)
{
    if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
        return;
    int n = open("/dev/null", O_RDONLY);
    if (n >= 0 && n != fd) {
        dup2(n, fd);
        close(n);
    }
}

void cli_init(void)
{
    hold_closed_fd(STDOUT_FILENO);
    hold_closed_fd(STDERR_FILENO);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGXFSZ, SIG_IGN);
    for (size_t i = 0; i < NFATAL; i++) {
        struct sigaction sa, old;
        if (sigaction(fatal_signals[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN)
            continue; /* nohup: keep ignoring */
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_fatal_signal;
        sigemptyset(&sa.sa_mask);
        sigaction(fatal_signals[i], &sa, NULL);
    }
}

/* ------------------------------------------------------------- buffer */

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

const char *cli_out_name(const cli_out *o)
{
    return o->path ? o->path : "standard output";
}

/* ------------------------------------------------------ the target */

/* N when `path` names descriptor N of this process (its directory is
 * /proc/<our pid>/fd or /proc/<our pid>/task/<tid>/fd, however it is
 * spelled: /dev/fd/N, /proc/self/fd/N), else -1. */
static int own_fd_path(const char *path)
{
    const char *base = cli_basename(path);
    size_t blen = strlen(base);
    if (blen == 0 || blen > 9 || strspn(base, "0123456789") != blen)
        return -1;
    char dir[PATH_MAX], real[PATH_MAX], mine[64];
    size_t dlen = (size_t)(base - path);
    if (dlen == 0 || dlen >= sizeof dir)
        return -1;
    memcpy(dir, path, dlen);
    dir[dlen] = 0;
    if (!realpath(dir, real))
        return -1;
    int n = snprintf(mine, sizeof mine, "/proc/%ld/", (long)getpid());
    size_t rlen = strlen(real);
    if (strncmp(real, mine, (size_t)n) != 0 || rlen < 3 ||
        strcmp(real + rlen - 3, "/fd") != 0)
        return -1;
    const char *mid = real + n; /* "fd" or "task/<tid>/fd" */
    if (strcmp(mid, "fd") != 0 && strncmp(mid, "task/", 5) != 0)
        return -1;
    return atoi(base);
}

/* 1 when path lies in /proc (its links are not text to follow). */
static int in_proc(const char *path)
{
    char dir[PATH_MAX], real[PATH_MAX];
    size_t dlen = (size_t)(cli_basename(path) - path);
    if (dlen >= sizeof dir)
        return 0;
    memcpy(dir, path, dlen);
    strcpy(dir + dlen, dlen ? "" : ".");
    return realpath(dir, real) && strncmp(real, "/proc/", 6) == 0;
}

/* The next path of a link at `cur` whose text is `to` (malloc'd). */
static char *link_next(const char *cur, const char *to)
{
    if (to[0] == '/')
        return strdup(to);
    size_t dlen = (size_t)(cli_basename(cur) - cur), tlen = strlen(to);
    char *next = malloc(dlen + tlen + 1);
    if (next) {
        memcpy(next, cur, dlen);
        memcpy(next + dlen, to, tlen + 1);
    }
    return next;
}

typedef struct out_target {
    char *final;      /* the end of the link chain (malloc'd) */
    int fdnum;        /* >= 0: our descriptor fdnum */
    int proc_link;    /* a /proc link: opened, not followed */
    int exists;
    struct stat st;   /* lstat of final, when it exists */
} out_target;

/* Follows path's symbolic links to what it names. 0 or an errno value. */
static int resolve(const char *path, out_target *t)
{
    memset(t, 0, sizeof *t);
    t->fdnum = -1;
    char *cur = strdup(path);
    for (int hops = 0; cur; hops++) {
        char to[PATH_MAX + 1];
        if (hops > 40) {
            free(cur);
            return ELOOP;
        }
        if ((t->fdnum = own_fd_path(cur)) >= 0)
            break;
        if (lstat(cur, &t->st) != 0) {
            if (errno != ENOENT) {
                int e = errno;
                free(cur);
                return e;
            }
            break; /* a new file (through a dangling link, maybe) */
        }
        t->exists = 1;
        if (!S_ISLNK(t->st.st_mode))
            break;
        if (in_proc(cur)) {
            t->proc_link = 1;
            break;
        }
        ssize_t n = readlink(cur, to, sizeof to - 1);
        if (n < 0) {
            int e = errno;
            free(cur);
            return e;
        }
        to[n] = 0;
        t->exists = 0;
        char *next = link_next(cur, to);
        free(cur);
        cur = next;
    }
    if (!cur)
        return ENOMEM;
    t->final = cur;
    return 0;
}

/* ------------------------------------------------------------- opening */

static void out_free(cli_out *o)
{
    free(o->path);
    free(o->target);
    free(o->tmp);
    free(o);
}

static cli_out *fail_open(cli_out *o, char *msg, size_t msgsize, int e, const char *what)
{
    snprintf(msg, msgsize, "%s: %s%s", o->path ? o->path : "standard output", what,
             strerror(e));
    if (o->fd >= 0 && o->own_fd)
        close(o->fd);
    out_free(o);
    return NULL;
}

/* Descriptor n of ours, duplicated: written where it stands. */
static int open_own_fd(cli_out *o, int n)
{
    int fl = fcntl(n, F_GETFL);
    if (fl < 0)
        return errno;
    if ((fl & O_ACCMODE) == O_RDONLY)
        return EBADF;
    o->fd = fcntl(n, F_DUPFD_CLOEXEC, 3);
    return o->fd < 0 ? errno : 0;
}

/* A stream socket at path: connected to. */
static int open_socket(cli_out *o, const char *path)
{
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof sa.sun_path)
        return ENAMETOOLONG;
    strcpy(sa.sun_path, path);
    o->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (o->fd < 0)
        return errno;
    if (connect(o->fd, (struct sockaddr *)&sa, sizeof sa) != 0)
        return errno;
    return 0;
}

/* A device or FIFO (or a /proc link): opened where it is. Not followed if
 * it became a link meanwhile, and refused if it became a regular file. */
static int open_in_place(cli_out *o, const out_target *t)
{
    int nofollow = t->proc_link ? 0 : O_NOFOLLOW;
    o->fd = open(t->final, O_WRONLY | O_NOCTTY | O_CLOEXEC | nofollow);
    if (o->fd < 0)
        return errno;
    struct stat st;
    if (fstat(o->fd, &st) != 0)
        return errno;
    if (S_ISREG(st.st_mode) && !t->proc_link)
        return EAGAIN; /* replaced by a file while we looked */
    return 0;
}

/* The temporary file beside t->final; it gets the mode the target has (or
 * that a new file would get) and, as root, the target's owner and group. */
static int open_temporary(cli_out *o, const out_target *t)
{
    const char *base = cli_basename(t->final);
    size_t dlen = (size_t)(base - t->final), blen = strlen(base);
    if (blen > 200) /* ".pstats2callgrind." + base + ".XXXXXX" within NAME_MAX */
        blen = 200;
    o->tmp = malloc(dlen + blen + 32);
    o->target = strdup(t->final);
    if (!o->tmp || !o->target)
        return ENOMEM;
    snprintf(o->tmp, dlen + blen + 32, "%.*s.pstats2callgrind.%.*s.XXXXXX", (int)dlen,
             t->final, (int)blen, base);
    sigset_t old;
    block_fatal(&old);
    o->fd = mkstemp(o->tmp);
    int e = errno;
    if (o->fd >= 0)
        o->cleanup = cli_cleanup_add(o->tmp, 0);
    unblock(&old);
    if (o->fd < 0) {
        free(o->tmp);
        o->tmp = NULL;
        return e;
    }
    (void)fcntl(o->fd, F_SETFD, FD_CLOEXEC); /* kcachegrind need not inherit it */
    if (t->exists) {
        /* root may give the file away; others keep the group if theirs */
        if (geteuid() == 0)
            (void)!fchown(o->fd, t->st.st_uid, t->st.st_gid);
        else
            (void)!fchown(o->fd, (uid_t)-1, t->st.st_gid);
        (void)fchmod(o->fd, t->st.st_mode & 0777);
    } else {
        mode_t mask = umask(0);
        umask(mask);
        (void)fchmod(o->fd, 0666 & ~mask);
    }
    return 0;
}

cli_out *cli_out_open(const char *path, char *msg, size_t msgsize)
{
    cli_out *o = calloc(1, sizeof *o);
    if (!o) {
        snprintf(msg, msgsize, "out of memory");
        return NULL;
    }
    o->fd = -1;
    o->cleanup = -1;
    if (strcmp(path, "-") == 0) {
        o->to_stdout = 1;
        o->fd = STDOUT_FILENO;
        return o;
    }
    o->own_fd = 1;
    if (!(o->path = strdup(path)))
        return fail_open(o, msg, msgsize, ENOMEM, "");
    out_target t;
    int e = resolve(path, &t);
    if (e != 0)
        return fail_open(o, msg, msgsize, e, "");
    const char *what = "";
    if (t.fdnum >= 0) {
        e = open_own_fd(o, t.fdnum);
    } else if (t.proc_link) {
        e = open_in_place(o, &t);
    } else if (*cli_basename(t.final) == '\0') { /* "dir/" */
        e = EISDIR;
    } else if (t.exists && S_ISREG(t.st.st_mode) && access(t.final, W_OK) != 0) {
        e = errno; /* a file we may not write is not ours to replace */
    } else if (!t.exists || S_ISREG(t.st.st_mode)) {
        e = open_temporary(o, &t);
        what = "cannot create a temporary file beside it (the output is replaced "
               "atomically; its directory must be writable): ";
    } else if (S_ISDIR(t.st.st_mode)) {
        e = EISDIR;
    } else if (S_ISSOCK(t.st.st_mode)) {
        e = open_socket(o, t.final);
    } else {
        e = open_in_place(o, &t);
    }
    free(t.final);
    if (e == EAGAIN && !o->tmp)
        what = "changed while it was opened: ";
    if (e != 0)
        return fail_open(o, msg, msgsize, e, what);
    o->in_place = o->tmp == NULL;
    return o;
}

/* ------------------------------------------------------------- closing */

static void drop_temporary(cli_out *o)
{
    sigset_t old;
    block_fatal(&old);
    if (o->tmp)
        unlink(o->tmp);
    cli_cleanup_remove(o->cleanup);
    o->cleanup = -1;
    unblock(&old);
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
     * pyprof2calltree do not sync either). A failing close (NFS, quotas)
     * is a failed write. */
    if (close(o->fd) != 0 && rc == 0) {
        rc = -1;
        o->err_no = errno;
    }
    o->fd = -1;
    if (rc == 0 && o->tmp) {
        sigset_t old;
        block_fatal(&old);
        if (rename(o->tmp, o->target) != 0) {
            rc = -1;
            o->err_no = errno;
        } else {
            cli_cleanup_remove(o->cleanup);
            o->cleanup = -1;
        }
        unblock(&old);
    }
    if (rc != 0) {
        snprintf(msg, msgsize, "%s: %s", o->path, strerror(o->err_no));
        drop_temporary(o);
    }
    out_free(o);
    return rc;
}

void cli_out_abort(cli_out *o)
{
    if (!o)
        return;
    if (o->to_stdout) {
        (void)out_flush(o);
    } else {
        if (o->fd >= 0)
            close(o->fd);
        drop_temporary(o);
    }
    out_free(o);
}
