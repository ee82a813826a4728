/*
 * The input of a load (see pstats_input.h): a leaf of the load's steps;
 * everything that reads the input may call it, it calls none of them.
 *
 * Why read and not mmap: a file mapping whose file shrinks raises SIGBUS
 * on the next touch of a page past the new end, and a library must not
 * install a signal handler in the program that links it. read() and
 * pread() return what is there, and each read of a regular file is
 * checked against the file's size and modification time when the load
 * began, so a file that is truncated, appended to or rewritten while it
 * is read is an error at the offset where it was noticed. (A file renamed
 * over the path, or removed, is not a change: the descriptor still reads
 * the file that was opened, whole.)
 *
 * Why one linear buffer: the parsers keep pointers into the input (the
 * fast path's builder thread reads strings a few batches behind the
 * parser) and the general path reads anywhere behind itself (marshal
 * references). A reservation of the input's size gives every byte a fixed
 * address; only the pages the window needs are ever touched. Pages behind
 * a forward reader are moved ahead with mremap (no fault, no zeroing for
 * the next bytes: reading 100 MB costs ~15 ms instead of ~30 ms with
 * fresh pages), or dropped where the kernel cannot move them.
 */
#define _GNU_SOURCE /* mremap */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pstats_input.h"
#include "pstats_unzip.h"

#define READ_CHUNK ((size_t)256 << 10)    /* bytes asked of the source at a time */
#define ZIN_SIZE ((size_t)128 << 10)      /* compressed bytes buffered */
#define HEAD 6                            /* bytes that tell a compressed format */

static int fail(ps_input *in, pstats_errcode code, int has_offset, size_t offset,
                const char *fmt, ...) CM_PRINTF(5, 6);

static int fail(ps_input *in, pstats_errcode code, int has_offset, size_t offset,
                const char *fmt, ...)
{
    if (in->failed)
        return -1;
    char msg[sizeof in->err.msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ps_seterr(&in->err, code, in->name, has_offset, offset, "%s", msg);
    in->fail_pos = in->avail + in->probed;
    in->failed = 1;
    in->eof = 1;
    return -1;
}

void ps_in_error(const ps_input *in, pstats_error *err) { *err = in->err; }

/* ------------------------------------------------------------- memory */

/* The buffer: `size` bytes of address space, or, for an input of unknown
 * size, as much as the process may reserve (64 GiB down to 64 MiB). */
static int reserve(ps_input *in, size_t size)
{
    size_t want = size ? size : (size_t)1 << (sizeof(size_t) > 4 ? 36 : 29);
    for (;;) {
        void *p = mmap(NULL, want, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p != MAP_FAILED) {
            in->buf = p;
            in->cap = want;
            in->data = p;
            return 0;
        }
        if (size || want <= ((size_t)64 << 20))
            return fail(in, PSTATS_ENOMEM, 0, 0, "out of memory (%zu MB of address space for "
                        "the input)", want >> 20);
        want /= 2;
    }
}

/* Slabs wholly before pos are given up: moved to the next place the input
 * will be read into, or dropped. */
void ps_in_release_slow(ps_input *in, size_t pos)
{
    if (pos > in->avail)
        pos = in->avail;
    size_t upto = pos / PS_IN_SLAB * PS_IN_SLAB;
    for (size_t k = in->next_spare; k + PS_IN_SLAB <= upto; k += PS_IN_SLAB) {
        size_t dest = (in->avail + PS_IN_SLAB - 1) / PS_IN_SLAB * PS_IN_SLAB;
        if (dest < in->recycled)
            dest = in->recycled;
        int moved = 0;
#if defined(MREMAP_DONTUNMAP) && defined(MREMAP_FIXED)
        if (!in->no_move && dest + PS_IN_SLAB <= in->cap) {
            moved = mremap(in->buf + k, PS_IN_SLAB, PS_IN_SLAB,
                           MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP,
                           in->buf + dest) != MAP_FAILED;
            in->no_move = !moved;
            if (moved)
                in->recycled = dest + PS_IN_SLAB;
        }
#endif
        if (!moved)
            (void)madvise(in->buf + k, PS_IN_SLAB, MADV_DONTNEED);
        in->next_spare = k + PS_IN_SLAB;
    }
    in->released = upto;
}

/* -------------------------------------------------------- raw reading */

/* Has the regular file changed since the load began? -1 (failed) if so. */
static int check_file(ps_input *in)
{
    struct stat st;
    if (fstat(in->fd, &st) != 0)
        return fail(in, PSTATS_EIO, 1, in->raw_pos, "cannot read: %s", strerror(errno));
    /* not the ctime: it moves when the file is renamed or removed, which
     * leaves what the descriptor reads as it was */
    if (st.st_dev != in->dev || st.st_ino != in->ino || st.st_size != in->start + in->size ||
        st.st_mtim.tv_sec != in->mtime.tv_sec || st.st_mtim.tv_nsec != in->mtime.tv_nsec) {
        long long was = (long long)(in->start + in->size), now = (long long)st.st_size;
        if (now < was)
            return fail(in, PSTATS_EIO, 1, in->raw_pos, "the file was truncated while it was "
                        "read (%lld bytes when the load began, %lld now)", was, now);
        if (now > was)
            return fail(in, PSTATS_EIO, 1, in->raw_pos, "the file grew while it was read "
                        "(%lld bytes when the load began, %lld now): is it still being "
                        "written?", was, now);
        return fail(in, PSTATS_EIO, 1, in->raw_pos, "the file was changed while it was read "
                    "(its modification time moved): is it still being written?");
    }
    return 0;
}

/* Wait until a non-blocking descriptor has something to read. */
static int wait_readable(int fd)
{
    struct pollfd p = {fd, POLLIN, 0};
    while (poll(&p, 1, -1) < 0)
        if (errno != EINTR)
            return -1;
    return 0;
}

/* Up to n bytes of the source into dst; 0 at its end, -1 (failed). */
static ssize_t raw_read(ps_input *in, uint8_t *dst, size_t n)
{
    if (in->raw_eof || n == 0)
        return 0;
    ssize_t r;
    if (in->fd < 0) {
        size_t left = in->mem_len - (size_t)in->raw_pos;
        r = (ssize_t)(n < left ? n : left);
        memcpy(dst, in->mem + in->raw_pos, (size_t)r);
    } else if (in->regular) {
        uint64_t left = (uint64_t)in->size - in->raw_pos;
        if (n > left)
            n = (size_t)left;
        do
            r = n ? pread(in->fd, dst, n, in->start + (off_t)in->raw_pos) : 0;
        while (r < 0 && errno == EINTR);
        if (r < 0)
            return fail(in, PSTATS_EIO, 1, in->raw_pos, "cannot read: %s", strerror(errno));
        if (in->after_read)
            in->after_read(in->hook_ctx, in->raw_pos);
        if (check_file(in))
            return -1;
        if (r == 0 && n > 0) /* a size unchanged, yet nothing there */
            return fail(in, PSTATS_EIO, 1, in->raw_pos, "the file ended early while it was "
                        "read: was it truncated?");
    } else {
        for (;;) {
            r = read(in->fd, dst, n);
            if (r >= 0)
                break;
            if (errno == EINTR)
                continue;
            if ((errno == EAGAIN || errno == EWOULDBLOCK) && wait_readable(in->fd) == 0)
                continue;
            return fail(in, PSTATS_EIO, 1, in->raw_pos, "cannot read: %s", strerror(errno));
        }
    }
    if (r == 0)
        in->raw_eof = 1;
    in->raw_pos += (uint64_t)r;
    return r;
}

/* ---------------------------------------------------------- decompressing */

/* Compressed bytes into zin until at least `want` wait there (or the
 * source ends). 0, or -1. */
static int zin_fill(ps_input *in, size_t want)
{
    if (in->zpos > 0 && in->zlen - in->zpos < want) {
        memmove(in->zin, in->zin + in->zpos, in->zlen - in->zpos);
        in->zseen += in->zpos;
        in->zlen -= in->zpos;
        in->zpos = 0;
    }
    while (in->zlen - in->zpos < want && !in->raw_eof) {
        ssize_t r = raw_read(in, in->zin + in->zlen, ZIN_SIZE - in->zlen);
        if (r < 0)
            return -1;
        in->zlen += (size_t)r;
    }
    return 0;
}

static int zfail(ps_input *in, size_t at, const char *what)
{
    return fail(in, PSTATS_EFORMAT, 1, (size_t)(in->zseen + at),
                "broken %s data: %s (the offset is in the compressed file; %zu bytes "
                "were decompressed before)", in->zname, what, in->avail + in->probed);
}

/* A stream ended: start the next one if its magic follows, else the
 * decompressed data ends here (what follows is ignored). 0, or -1. */
static int next_stream(ps_input *in)
{
    if (zin_fill(in, HEAD))
        return -1;
    int kind = ps_unzip_kind(in->zin + in->zpos, in->zlen - in->zpos);
    if (kind == PS_Z_NONE || strcmp(ps_unzip_name(kind), in->zname) != 0) {
        in->zdone = 1;
        return 0;
    }
    if (ps_unzip_reset(in->z))
        return fail(in, PSTATS_ENOMEM, 0, 0, "out of memory");
    return 0;
}

/* Decompress into out[0..cap): *made bytes (0 only at the end of the
 * data, zdone). 0, or -1. */
static int z_step(ps_input *in, uint8_t *out, size_t cap, size_t *made)
{
    *made = 0;
    while (*made == 0 && !in->zdone) {
        if (in->zpos == in->zlen && zin_fill(in, 1))
            return -1;
        char msg[200];
        ps_zio io = {in->zin + in->zpos, in->zlen - in->zpos, 0, out, cap, 0, in->raw_eof};
        int rc = ps_unzip_run(in->z, &io, msg, sizeof msg);
        in->zpos += io.consumed;
        *made = io.produced;
        if (rc == PS_Z_NOMEM)
            return fail(in, PSTATS_ENOMEM, 0, 0, "out of memory");
        if (rc == PS_Z_ERR)
            return zfail(in, in->zpos, msg);
        if (rc == PS_Z_END) {
            if (next_stream(in))
                return -1;
        } else if (io.produced == 0 && io.consumed == 0 && in->zpos == in->zlen && in->raw_eof) {
            return zfail(in, in->zpos, "the data ends early (a truncated file?)");
        }
    }
    return 0;
}

/* ------------------------------------------------------------ reading */

int ps_in_need_slow(ps_input *in, size_t end)
{
    while (in->avail < end && !in->eof) {
        if (in->avail == in->cap && in->regular && !in->z) {
            in->eof = 1; /* the file's size when the load began */
            break;
        }
        if (in->avail == in->cap)
            return fail(in, PSTATS_ENOMEM, 1, in->avail, "the input is larger than the %zu MB "
                        "of address space this process could reserve for it", in->cap >> 20);
        size_t room = in->cap - in->avail, want = end - in->avail;
        if (want < READ_CHUNK)
            want = READ_CHUNK;
        size_t n = want < room ? want : room;
        size_t got;
        if (in->z) {
            if (z_step(in, in->buf + in->avail, n, &got))
                return -1;
        } else {
            ssize_t r = raw_read(in, in->buf + in->avail, n);
            if (r < 0)
                return -1;
            got = (size_t)r;
        }
        in->avail += got;
        if (got == 0)
            in->eof = 1;
    }
    return in->failed ? -1 : 0;
}

/* --------------------------------------------------------- opening */

static void init(ps_input *in, pstats_stats *s, const char *name)
{
    memset(in, 0, sizeof *in);
    in->s = s;
    in->name = name;
    in->fd = -1;
    in->mtime_sec = -1;
}

/* Decompress what starts with magic `head`: the reservation, the buffer
 * of compressed bytes and the decoder. 0, or -1. */
static int start_unzip(ps_input *in, int kind)
{
    in->zname = ps_unzip_name(kind);
    if (reserve(in, 0))
        return -1;
    in->zin = ps_malloc(in->s, ZIN_SIZE);
    in->z = in->zin ? ps_unzip_new(in->s, kind) : NULL;
    if (!in->z)
        return fail(in, PSTATS_ENOMEM, 0, 0, "out of memory");
    return 0;
}

int ps_in_open_mem(ps_input *in, pstats_stats *s, const void *data, size_t len,
                   const char *name, pstats_error *err)
{
    init(in, s, name);
    in->mem = data;
    in->mem_len = len;
    in->restartable = 1;
    int kind = ps_unzip_kind(in->mem, len);
    if (kind == PS_Z_NONE) { /* read in place; never released: it is not ours */
        in->data = in->mem;
        in->avail = len;
        in->eof = 1;
        in->keep = 1;
        in->size_hint = len;
        return 0;
    }
    in->size_hint = ps_unzip_size_hint(kind, in->mem, len, len >= 4 ? in->mem + len - 4 : NULL,
                                       len);
    if (start_unzip(in, kind)) {
        ps_in_error(in, err);
        ps_in_close(in);
        return -1;
    }
    return 0;
}

/* A regular file from its current offset: its size and times noted. */
static int open_regular(ps_input *in, const struct stat *st)
{
    off_t at = lseek(in->fd, 0, SEEK_CUR);
    in->regular = 1;
    in->restartable = 1;
    in->start = at > 0 && at <= st->st_size ? at : 0;
    in->size = st->st_size - in->start;
    in->dev = st->st_dev;
    in->ino = st->st_ino;
    in->mtime = st->st_mtim;
    in->mtime_sec = st->st_mtime;
    uint8_t head[32], tail[4];
    ssize_t r, t = 0;
    do
        r = pread(in->fd, head, (size_t)(in->size < 32 ? in->size : 32), in->start);
    while (r < 0 && errno == EINTR);
    if (r < 0)
        return fail(in, PSTATS_EIO, 0, 0, "cannot read: %s", strerror(errno));
    int kind = ps_unzip_kind(head, (size_t)r);
    if (kind != PS_Z_NONE) {
        if (in->size >= 4)
            t = pread(in->fd, tail, 4, in->start + in->size - 4);
        in->size_hint = ps_unzip_size_hint(kind, head, (size_t)r, t == 4 ? tail : NULL,
                                           (uint64_t)in->size);
        return start_unzip(in, kind);
    }
    in->size_hint = (size_t)in->size;
    if (in->size == 0) { /* read from its end */
        static const uint8_t none[1];
        in->data = none;
        in->eof = 1;
        return check_file(in);
    }
    if ((uint64_t)in->size > SIZE_MAX)
        return fail(in, PSTATS_ENOMEM, 0, 0, "the file is too large for this process");
    return reserve(in, (size_t)in->size);
}

/* A pipe, FIFO, terminal, socket or device: read once, all kept. */
static int open_stream(ps_input *in)
{
    in->keep = 1;
    if (reserve(in, 0))
        return -1;
    while (in->avail < HEAD && !in->raw_eof) { /* the head tells the format */
        ssize_t r = raw_read(in, in->buf + in->avail, HEAD - in->avail);
        if (r < 0)
            return -1;
        in->avail += (size_t)r;
    }
    int kind = ps_unzip_kind(in->buf, in->avail);
    if (kind == PS_Z_NONE) {
        in->eof = in->raw_eof;
        return 0;
    }
    /* no size to go by: the tables grow as the profile comes */
    in->zname = ps_unzip_name(kind);
    in->zin = ps_malloc(in->s, ZIN_SIZE);
    in->z = in->zin ? ps_unzip_new(in->s, kind) : NULL;
    if (!in->z)
        return fail(in, PSTATS_ENOMEM, 0, 0, "out of memory");
    memcpy(in->zin, in->buf, in->avail);
    in->zlen = in->avail;
    in->avail = 0;
    return 0;
}

int ps_in_open_fd(ps_input *in, pstats_stats *s, int fd, const char *name, pstats_error *err)
{
    init(in, s, name);
    struct stat st;
    if (fstat(fd, &st) != 0) {
        fail(in, PSTATS_EIO, 0, 0, "cannot open: %s", strerror(errno));
    } else if (S_ISDIR(st.st_mode)) {
        fail(in, PSTATS_EIO, 0, 0, "cannot read: %s", strerror(EISDIR));
    } else {
        in->fd = fd;
        /* a regular file of size 0 may still have bytes (/proc): a stream */
        if (S_ISREG(st.st_mode) && st.st_size > 0 ? open_regular(in, &st) == 0
                                                  : open_stream(in) == 0)
            return 0;
    }
    ps_in_error(in, err);
    ps_in_close(in);
    return -1;
}

void ps_in_close(ps_input *in)
{
    if (in->buf)
        munmap(in->buf, in->cap);
    ps_unzip_free(in->z);
    ps_free(in->s, in->zin);
    in->buf = NULL;
    in->z = NULL;
    in->zin = NULL;
    in->data = NULL;
}

/* ------------------------------------------------- again, and the end */

int ps_in_rewind(ps_input *in)
{
    if (in->failed)
        return -1;
    in->keep = 1;
    if (in->released == 0)
        return 0;
    /* only a restartable input gives pages up */
    in->avail = in->released = in->recycled = in->next_spare = 0;
    in->eof = in->raw_eof = 0;
    in->raw_pos = 0;
    if (in->z) {
        in->zpos = in->zlen = 0;
        in->zseen = 0;
        in->zdone = 0;
        if (ps_unzip_reset(in->z))
            return fail(in, PSTATS_ENOMEM, 0, 0, "out of memory");
    }
    return 0;
}

int ps_in_probe(ps_input *in, size_t upto)
{
    if (!in->z || in->failed || in->zdone || in->avail + in->probed >= upto)
        return in->failed;
    uint8_t *scratch = ps_malloc(in->s, READ_CHUNK);
    if (!scratch)
        return 0; /* nothing learnt; the load's own error stands */
    size_t made;
    while (!in->zdone && in->avail + in->probed < upto && z_step(in, scratch, READ_CHUNK,
                                                                &made) == 0)
        in->probed += made;
    ps_free(in->s, scratch);
    in->eof = 1; /* what was dropped cannot be read */
    return in->failed;
}

/* Compressed data past what was read: decompressed and dropped, so that a
 * damaged end (a wrong CRC) is noticed - up to as many bytes again as
 * were read, or 1 MB: more than that after the profile is left unread, as
 * Python leaves bytes after the dict. */
static int drain(ps_input *in)
{
    size_t limit = in->avail > PS_IN_SLAB ? in->avail : PS_IN_SLAB;
    return ps_in_probe(in, in->avail + limit) ? -1 : 0;
}

int ps_in_check(ps_input *in)
{
    return in->failed ? -1 : in->regular ? check_file(in) : 0;
}

int ps_in_finish(ps_input *in)
{
    if (in->failed)
        return -1;
    if (in->z && !in->eof && drain(in))
        return -1;
    if (in->regular && check_file(in))
        return -1;
    return 0;
}
