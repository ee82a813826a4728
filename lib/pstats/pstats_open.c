/*
 * pstats_load_path / pstats_load_buffer: mapping or reading the input, and
 * handing a fresh model to the loader (lib/pstats/pstats_load.c); on success the
 * caller's empty model takes its place. The model copies the strings it
 * keeps, so the input is unmapped (or freed) as soon as it is loaded.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pstats_internal.h"

static int check_empty(pstats_stats *s, const char *name, pstats_error *err)
{
    if (s->nkeys || s->ninputs) {
        ps_seterr(err, PSTATS_EUSAGE, name, 0, 0,
                  "pstats_load_*: the model is not empty (use pstats_add to merge)");
        return -1;
    }
    return 0;
}

int pstats_load_buffer(pstats_stats *s, const void *data, size_t len,
                       const char *name, time_t mtime, pstats_error *err)
{
    pstats_error local;
    if (!err)
        err = &local;
    memset(err, 0, sizeof *err);
    if (!name)
        name = "<buffer>";
    if (check_empty(s, name, err))
        return -1;
    pstats_stats *t = pstats_new(&s->alc);
    if (!t) {
        ps_seterr(err, PSTATS_ENOMEM, name, 0, 0, "out of memory");
        return -1;
    }
    t->load_flags = s->load_flags;
    if (ps_load_into(t, data, len, 0, name, err) || ps_add_input(t, name, mtime, mtime >= 0)) {
        if (!err->code)
            ps_seterr(err, PSTATS_ENOMEM, name, 0, 0, "out of memory");
        pstats_free(t);
        return -1;
    }
    ps_replace(s, t);
    return 0;
}

static int read_all(pstats_stats *t, int fd, uint8_t **out, size_t *len)
{
    size_t cap = 0, n = 0;
    uint8_t *buf = NULL;
    for (;;) {
        if (ps_grow(t, (void **)&buf, &cap, n + 65536, 1)) {
            ps_free(t, buf);
            errno = ENOMEM;
            return -1;
        }
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            ps_free(t, buf);
            errno = e;
            return -1;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    *out = buf;
    *len = n;
    return 0;
}

/* The input of one load: a file mapping or a buffer read into memory. */
typedef struct input_bytes {
    const uint8_t *data;
    size_t len;
    int is_mmap;
} input_bytes;

static void input_release(pstats_stats *t, input_bytes *in)
{
    if (in->is_mmap)
        munmap((void *)(uintptr_t)in->data, in->len);
    else
        ps_free(t, (void *)(uintptr_t)in->data);
    in->data = NULL;
}

static int map_file(pstats_stats *t, const char *path, time_t *mtime, input_bytes *in,
                    pstats_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        ps_seterr(err, PSTATS_EIO, path, 0, 0, "cannot open: %s", strerror(e));
        return -1;
    }
    *mtime = st.st_mtime;
    if (S_ISREG(st.st_mode) && st.st_size > 0) {
        void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p != MAP_FAILED) {
            close(fd);
            in->data = p;
            in->len = (size_t)st.st_size;
            in->is_mmap = 1;
            return 0;
        }
    }
    uint8_t *buf;
    size_t n;
    if (read_all(t, fd, &buf, &n)) {
        int e = errno;
        close(fd);
        ps_seterr(err, e == ENOMEM ? PSTATS_ENOMEM : PSTATS_EIO, path, 0, 0,
                  "cannot read: %s", strerror(e));
        return -1;
    }
    close(fd);
    in->data = buf;
    in->len = n;
    in->is_mmap = 0;
    return 0;
}

int pstats_load_path(pstats_stats *s, const char *path, pstats_error *err)
{
    pstats_error local;
    if (!err)
        err = &local;
    memset(err, 0, sizeof *err);
    if (check_empty(s, path, err))
        return -1;
    pstats_stats *t = pstats_new(&s->alc);
    if (!t) {
        ps_seterr(err, PSTATS_ENOMEM, path, 0, 0, "out of memory");
        return -1;
    }
    t->load_flags = s->load_flags;
    input_bytes in;
    time_t mtime;
    if (map_file(t, path, &mtime, &in, err)) {
        pstats_free(t);
        return -1;
    }
    /* the model copies what it keeps: the input goes as soon as it is read */
    int rc = ps_load_into(t, in.data, in.len, in.is_mmap, path, err);
    input_release(t, &in);
    if (rc || ps_add_input(t, path, mtime, 1)) {
        if (!err->code)
            ps_seterr(err, PSTATS_ENOMEM, path, 0, 0, "out of memory");
        pstats_free(t);
        return -1;
    }
    ps_replace(s, t);
    return 0;
}
