/*
 * An LD_PRELOAD library for test/cli_output_tests.sh: makes one system
 * call of the program fail on the files whose path holds a given text,
 * the way a full disk, a dying NFS server or a signal would, so that every
 * failure path of the output sink runs for real.
 *
 *   IO_FAIL_CALL   write | close | rename | signal
 *   IO_FAIL_MATCH  a part of the path (of the descriptor for write/close,
 *                  of the source for rename)
 *   IO_FAIL_ERRNO  the errno to fail with (a number; default EIO)
 *   IO_FAIL_SIGNAL with "signal": the signal raised at the first write to
 *                  such a file (default SIGTERM)
 * Unset: every call goes straight through.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

ssize_t write(int fd, const void *buf, size_t n);
int close(int fd);
int rename(const char *from, const char *to);

static int wants(const char *call)
{
    const char *c = getenv("IO_FAIL_CALL");
    return c && strcmp(c, call) == 0;
}

static int matches(const char *path)
{
    const char *m = getenv("IO_FAIL_MATCH");
    return m && *m && strstr(path, m) != NULL;
}

static int fd_matches(int fd)
{
    char link[64], path[4096];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof path - 1);
    if (n < 0)
        return 0;
    path[n] = 0;
    return matches(path);
}

static int fail_errno(void)
{
    const char *e = getenv("IO_FAIL_ERRNO");
    return e && *e ? atoi(e) : EIO;
}

ssize_t write(int fd, const void *buf, size_t n)
{
    ssize_t (*next)(int, const void *, size_t) =
        (ssize_t(*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
    if ((wants("write") || wants("signal")) && fd_matches(fd)) {
        if (wants("signal")) {
            const char *s = getenv("IO_FAIL_SIGNAL");
            raise(s && *s ? atoi(s) : SIGTERM);
        } else {
            errno = fail_errno();
            return -1;
        }
    }
    return next(fd, buf, n);
}

int close(int fd)
{
    int (*next)(int) = (int (*)(int))dlsym(RTLD_NEXT, "close");
    if (wants("close") && fd_matches(fd)) {
        next(fd); /* closed all the same, as the kernel does */
        errno = fail_errno();
        return -1;
    }
    return next(fd);
}

int rename(const char *from, const char *to)
{
    int (*next)(const char *, const char *) =
        (int (*)(const char *, const char *))dlsym(RTLD_NEXT, "rename");
    if (wants("rename") && matches(from)) {
        errno = fail_errno();
        return -1;
    }
    return next(from, to);
}
