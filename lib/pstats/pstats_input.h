/*
 * The input of one load (pstats_input.c; the decompressors in
 * pstats_unzip.c): its bytes, read forward from a source into one linear
 * buffer, so that byte o of the input is data[o] for as long as the load
 * runs. Nothing is mapped from a file: a file that shrinks, grows or
 * changes while it is read is an error of the load, never a signal.
 *
 * Sources: a file descriptor (a regular file, read with pread from where
 * the load started; anything else - a pipe, a FIFO, a terminal, a socket,
 * a device - read with read), or a caller's buffer; either may hold gzip,
 * zstd, xz or bzip2 data (told by its magic bytes), decompressed as the
 * loader asks for more.
 *
 * Memory: the buffer is an anonymous mapping as large as the input (a
 * regular file's size; a reservation for inputs of unknown size), whose
 * pages are only touched as the input is read. A loader that reads
 * forward tells where it is (ps_in_release); the pages behind are moved
 * ahead to take the next bytes, so a forward load keeps only a window of
 * the input in memory. What must be read again is read again: a
 * "restartable" input (a regular file, a buffer, either decompressed) is
 * read from its start once more by ps_in_rewind; a stream (a pipe...) can
 * be read only once, so all of it is kept.
 */
#ifndef PSTATS_INPUT_H
#define PSTATS_INPUT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "pstats_internal.h"

typedef struct ps_unzip ps_unzip;

typedef struct ps_input {
    /* what the loaders read */
    const uint8_t *data;   /* the input's byte o is data[o], o < avail */
    size_t avail;          /* bytes read so far */
    int eof;               /* avail is the whole input */
    int failed;            /* a read failed: err says why; nothing more comes */
    size_t fail_pos;       /* bytes of the input (decompressed) read before it failed */
    size_t size_hint;      /* the expected size (0: unknown), for tables */
    const char *zname;     /* "gzip", "zstd", "xz", "bzip2", or NULL */
    /* the rest belongs to pstats_input.c */
    pstats_stats *s;       /* allocation (the model being loaded) */
    const char *name;      /* for errors */
    pstats_error err;
    int fd;                /* -1: a buffer */
    int regular;           /* fd is a regular file: pread, stat checks */
    off_t start;           /* where the input starts in that file */
    off_t size;            /* its size then (regular files) */
    struct timespec mtime;
    dev_t dev;
    ino_t ino;
    time_t mtime_sec;      /* for the report header; -1: none */
    const uint8_t *mem;    /* a buffer source */
    size_t mem_len;
    uint64_t raw_pos;      /* bytes of the source read (compressed, if so) */
    int raw_eof;
    int restartable;       /* can be read from its start again */
    int keep;              /* every byte stays (stream, rewound, or a buffer) */
    uint8_t *buf;          /* our mapping (NULL: data is the caller's) */
    size_t cap;            /* its size */
    size_t released;       /* bytes before this were given up */
    size_t recycled;       /* pages moved ahead of avail: [avail.., recycled) */
    size_t next_spare;     /* the next slab to move ahead */
    int no_move;           /* the kernel cannot move pages: drop them */
    ps_unzip *z;           /* the decompressor, when zname */
    uint8_t *zin;          /* compressed bytes waiting: zin[zpos..zlen) */
    size_t zpos, zlen;
    uint64_t zseen;        /* compressed bytes read before zin[0] */
    int zdone;             /* the compressed data has ended */
    size_t probed;         /* decompressed bytes past avail, dropped (ps_in_probe) */
    /* tests: called after each read of a file descriptor, before the file
     * is checked for changes (test/pstats_input_tests.c changes it there) */
    void (*after_read)(void *ctx, uint64_t raw_pos);
    void *hook_ctx;
} ps_input;

/* An input over the file descriptor fd (not closed; for a regular file,
 * from its current offset, which stays where it is). 0, or -1 with err
 * set (the input then needs no ps_in_close). */
int ps_in_open_fd(ps_input *in, pstats_stats *s, int fd, const char *name, pstats_error *err);
/* An input over a caller's buffer, which must outlive the input. */
int ps_in_open_mem(ps_input *in, pstats_stats *s, const void *data, size_t len,
                   const char *name, pstats_error *err);
void ps_in_close(ps_input *in);

/* Read until data[0..end) is there or the input ends (then avail < end,
 * eof set). 0; -1 when a read failed (failed set, err says why). */
int ps_in_need_slow(ps_input *in, size_t end);
static inline int ps_in_need(ps_input *in, size_t end)
{
    return in->avail >= end || in->eof ? 0 : ps_in_need_slow(in, end);
}
/* The loader will read nothing before `pos` again (until ps_in_rewind):
 * the pages behind it may be reused. Ignored for inputs that keep
 * everything. */
void ps_in_release_slow(ps_input *in, size_t pos);
#define PS_IN_SLAB ((size_t)1 << 20)
static inline void ps_in_release(ps_input *in, size_t pos)
{
    if (!in->keep && pos >= in->released + 2 * PS_IN_SLAB)
        ps_in_release_slow(in, pos);
}
/* From now on every byte stays; bytes given up are read again (a
 * restartable input) - the general loader reads anywhere behind it. 0, or
 * -1 (err set). */
int ps_in_rewind(ps_input *in);
/* After a successful load: the input did not change while it was read,
 * and compressed data ends well (a bounded look past what was read). 0,
 * or -1 with err set. */
int ps_in_finish(ps_input *in);
/* Compressed inputs: decode (and drop) what follows until the data ends,
 * fails, or `upto` decompressed bytes were seen. 1 when the input has
 * failed (fail_pos: where), else 0. Other inputs: 0 (nothing is read). */
int ps_in_probe(ps_input *in, size_t upto);
/* Has the file changed since the load began? 0 when not (or not a
 * regular file), else -1 with err set (failed). */
int ps_in_check(ps_input *in);
/* The input's error (valid when failed) into err. */
void ps_in_error(const ps_input *in, pstats_error *err);

#endif
