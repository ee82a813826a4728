/*
 * The input of a load (lib/pstats/pstats_input.c): files that change while
 * they are read, pipes, FIFOs, non-blocking descriptors, compressed data
 * (gzip, zstd, xz, bzip2: the same model as the plain file, bounded
 * decompression, errors for broken streams) and the foreign formats of
 * fixtures/foreign/, named.
 *
 * Changes are made at known points of a load: the input calls a test hook
 * after each read of the file, before it checks the file, and the hook
 * truncates, appends to, rewrites, replaces or removes the file there.
 */
#include <bzlib.h>
#include <errno.h>
#include <fcntl.h>
#include <lzma.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "pstats_input.h"
#include "pstats_internal.h"
#include "pstats_test_util.h"

/* ------------------------------------------------- a synthetic profile */

typedef struct mbuf {
    uint8_t *p;
    size_t n, cap;
} mbuf;

static void put(mbuf *b, const void *p, size_t n)
{
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2;
        b->p = realloc(b->p, b->cap);
        ck_assert_ptr_nonnull(b->p);
    }
    memcpy(b->p + b->n, p, n);
    b->n += n;
}

static void put_byte(mbuf *b, int c)
{
    uint8_t x = (uint8_t)c;
    put(b, &x, 1);
}

static void put_int(mbuf *b, int32_t v)
{
    uint8_t x[5] = {'i', (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    put(b, x, 5);
}

static void put_float(mbuf *b, double d)
{
    uint64_t u;
    memcpy(&u, &d, 8);
    put_byte(b, 'g');
    for (int i = 0; i < 8; i++)
        put_byte(b, (int)(u >> (8 * i) & 0xff));
}

static void put_str(mbuf *b, const char *z)
{
    put_byte(b, 'z');
    put_byte(b, (int)strlen(z));
    put(b, z, strlen(z));
}

static void put_key(mbuf *b, int f)
{
    char file[64], name[64];
    snprintf(file, sizeof file, "/srv/app/pkg%03d/module%d.py", f % 997, f);
    snprintf(name, sizeof name, "handler_%d", f);
    put_byte(b, ')');
    put_byte(b, 3);
    put_str(b, file);
    put_int(b, 10 + f % 500);
    put_str(b, name);
}

/* A cProfile-shaped profile of n functions, each with two callers (about
 * 230 bytes a function). long_at >= 0: that function's call count is a
 * marshal long, which only the general loader reads: the fast path gives
 * up there, and the load starts again from the beginning. */
static mbuf make_profile(int n, int long_at)
{
    mbuf b = {0};
    put_byte(&b, '{');
    for (int f = 0; f < n; f++) {
        put_key(&b, f);
        put_byte(&b, ')');
        put_byte(&b, 5);
        if (f == long_at) {
            static const uint8_t l[] = {'l', 1, 0, 0, 0, 7, 0};
            put(&b, l, sizeof l);
        } else {
            put_int(&b, 7 + f % 3);
        }
        put_int(&b, 7 + f % 3);
        put_float(&b, 0.001 * (f % 17));
        put_float(&b, 0.002 * (f % 29));
        put_byte(&b, '{');
        for (int c = 1; c <= 2; c++) {
            put_key(&b, (f + c * 7) % n);
            put_byte(&b, ')');
            put_byte(&b, 4);
            put_int(&b, c);
            put_int(&b, c);
            put_float(&b, 0.0005 * c);
            put_float(&b, 0.001 * c);
        }
        put_byte(&b, '0');
    }
    put_byte(&b, '0');
    return b;
}

/* print_stats (by stdname) and, with edges, print_callers of a model. */
static char *report(pstats_stats *s)
{
    const char *k = "stdname";
    sink out = {0};
    s->inputs[0].has_mtime = 0; /* the header line names the input */
    ck_assert_int_eq(pstats_sort(s, &k, 1, NULL), 0);
    ck_assert_int_eq(pstats_print_stats(s, NULL, 0, sink_write, &out, NULL), 0);
    if (pstats_has_edges(s))
        ck_assert_int_eq(pstats_print_callers(s, NULL, 0, sink_write, &out, NULL), 0);
    sink_write(&out, "", 1);
    return out.p;
}

static char *report_of_buffer(const void *data, size_t len, unsigned flags)
{
    pstats_stats *s = pstats_new(NULL);
    pstats_error err;
    pstats_set_load_flags(s, flags);
    ck_assert_msg(pstats_load_buffer(s, data, len, "in", -1, &err) == 0, "%s", err.msg);
    char *r = report(s);
    pstats_free(s);
    return r;
}

static char *tmp_dir(void)
{
    const char *t = getenv("TMPDIR");
    char *d = malloc(512);
    snprintf(d, 512, "%s/pstats_input.XXXXXX", t && *t ? t : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(d));
    return d;
}

static void write_file(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(p, 1, n, f), n);
    ck_assert_int_eq(fclose(f), 0);
}

/* ------------------------------------------- files that change while read */

enum { ACT_TRUNC_HALF, ACT_TRUNC_SMALL, ACT_APPEND, ACT_REWRITE, ACT_RENAME, ACT_UNLINK,
       NACTS };

typedef struct hook {
    int action, at_call, calls, fired;
    uint64_t fired_at;     /* the read position when it fired */
    uint64_t last_pos;
    int reread;            /* the position went back: the input was read again */
    const char *path, *other;
    size_t size;
} hook;

static void fire(void *ctx, uint64_t pos)
{
    hook *h = ctx;
    if (pos < h->last_pos)
        h->reread = 1;
    h->last_pos = pos;
    if (h->calls++ != h->at_call)
        return;
    h->fired = 1;
    h->fired_at = pos;
    switch (h->action) {
    case ACT_TRUNC_HALF: ck_assert_int_eq(truncate(h->path, (off_t)h->size / 2), 0); break;
    case ACT_TRUNC_SMALL: ck_assert_int_eq(truncate(h->path, 100), 0); break;
    case ACT_APPEND: {
        int fd = open(h->path, O_WRONLY | O_APPEND);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(write(fd, "0123456789", 10), 10);
        close(fd);
        break;
    }
    case ACT_REWRITE: { /* the same byte written again: the times move */
        int fd = open(h->path, O_RDWR);
        uint8_t c;
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(pread(fd, &c, 1, (off_t)h->size - 10), 1);
        ck_assert_int_eq(pwrite(fd, &c, 1, (off_t)h->size - 10), 1);
        close(fd);
        break;
    }
    case ACT_RENAME: ck_assert_int_eq(rename(h->other, h->path), 0); break;
    default: ck_assert_int_eq(unlink(h->path), 0); break;
    }
}

/* Load path with the hook; 0 or -1 (err set). */
static int load_hooked(const char *path, unsigned flags, hook *h, pstats_error *err,
                       char **rep)
{
    pstats_stats *t = pstats_new(NULL);
    pstats_set_load_flags(t, flags);
    int fd = open(path, O_RDONLY);
    ck_assert_int_ge(fd, 0);
    ps_input in;
    ck_assert_int_eq(ps_in_open_fd(&in, t, fd, path, err), 0);
    in.after_read = fire;
    in.hook_ctx = h;
    int rc = ps_load_input(t, &in, path, err, 1);
    ps_in_close(&in);
    close(fd);
    if (rc == 0) {
        ck_assert_int_eq(ps_add_input(t, path, 0, 0), 0);
        *rep = report(t);
    }
    pstats_free(t);
    return rc;
}

static void check_change(const mbuf *prof, const char *want, unsigned flags, int action,
                         int at_call, const char *dir)
{
    char path[600], other[600];
    snprintf(path, sizeof path, "%s/p.prof", dir);
    snprintf(other, sizeof other, "%s/other.prof", dir);
    write_file(path, prof->p, prof->n);
    static const uint8_t small[] = "{0";
    write_file(other, small, sizeof small - 1);
    hook h = {action, at_call, 0, 0, 0, 0, 0, path, other, prof->n};
    pstats_error err;
    char *rep = NULL;
    int rc = load_hooked(path, flags, &h, &err, &rep);
    if (!h.fired) { /* fewer reads than at_call: loaded as it was */
        ck_assert_int_eq(rc, 0);
        ck_assert_str_eq(rep, want);
    } else if (action == ACT_RENAME || action == ACT_UNLINK) {
        /* the descriptor still reads the file that was opened */
        ck_assert_msg(rc == 0, "action %d at read %d: %s", action, at_call, err.msg);
        ck_assert_str_eq(rep, want);
    } else {
        static const char *const says[] = {"truncated", "truncated", "grew", "changed"};
        ck_assert_msg(rc != 0, "action %d at read %d loaded", action, at_call);
        ck_assert_int_eq(err.code, PSTATS_EIO);
        ck_assert_str_eq(err.file, path);
        ck_assert_msg(strstr(err.msg, says[action]), "action %d: %s", action, err.msg);
        ck_assert_int_eq(err.has_offset, 1);
        ck_assert_uint_eq(err.offset, h.fired_at);
    }
    free(rep);
}

/* Every change at the reads of a 6 MB load (4 MB, then 256 KB at a time:
 * 9 reads; 12 is past the last, so the change is noticed at the end), the
 * fast path in two threads, its pages moved ahead as it goes; with and
 * without edges. */
START_TEST(file_changed_while_read)
{
    mbuf prof = make_profile(26000, -1);
    ck_assert_uint_gt(prof.n, (size_t)5 << 20);
    char *dir = tmp_dir();
    for (unsigned flags = 0; flags <= PSTATS_LOAD_NO_EDGES; flags += PSTATS_LOAD_NO_EDGES) {
        char *want = report_of_buffer(prof.p, prof.n, flags);
        static const int points[] = {0, 1, 4, 8, 12};
        for (int action = 0; action < NACTS; action++)
            for (size_t i = 0; i < NELEM(points); i++)
                if (action < ACT_RENAME || i % 2 == 0)
                    check_change(&prof, want, flags, action, points[i], dir);
        free(want);
    }
    char path[600];
    snprintf(path, sizeof path, "%s/p.prof", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/other.prof", dir);
    unlink(path);
    rmdir(dir);
    free(dir);
    free(prof.p);
}
END_TEST

/* A profile the fast path gives up on near its end: the input, whose
 * pages behind the fast path were given up, is read again from the start
 * for the general loader - and a truncation during either read is
 * noticed. */
START_TEST(fallback_reads_the_file_again)
{
    mbuf prof = make_profile(26000, 25990);
    char *dir = tmp_dir(), path[600];
    snprintf(path, sizeof path, "%s/p.prof", dir);
    write_file(path, prof.p, prof.n);
    pstats_stats *g = pstats_new(NULL);
    pstats_error err;
    ck_assert_int_eq(ps_load_with(g, prof.p, prof.n, "in", &err, 0), 0);
    ck_assert_int_eq(ps_add_input(g, "in", 0, 0), 0);
    char *want = report(g);
    pstats_free(g);
    hook h = {ACT_TRUNC_HALF, 1000, 0, 0, 0, 0, 0, path, NULL, prof.n};
    char *rep = NULL;
    ck_assert_msg(load_hooked(path, 0, &h, &err, &rep) == 0, "%s", err.msg);
    ck_assert_int_eq(h.reread, 1);
    ck_assert_str_eq(rep, want);
    free(rep);
    int reads = h.calls; /* the fast path's reads, then the general path's */
    for (int at = 0; at < reads; at += 2) {
        check_change(&prof, want, 0, ACT_TRUNC_HALF, at, dir);
        check_change(&prof, want, 0, ACT_REWRITE, at, dir);
    }
    free(want);
    unlink(path);
    rmdir(dir);
    free(dir);
    free(prof.p);
}
END_TEST

/* ------------------------------------------------------ pipes and FIFOs */

typedef struct feeder {
    int fd;
    const uint8_t *p;
    size_t n, cut;   /* bytes to write (cut < n: stop there) */
    size_t piece;
} feeder;

static void *feed(void *arg)
{
    feeder *f = arg;
    size_t end = f->cut < f->n ? f->cut : f->n;
    for (size_t at = 0; at < end;) {
        size_t k = end - at < f->piece ? end - at : f->piece;
        ssize_t w = write(f->fd, f->p + at, k);
        if (w < 0 && errno == EAGAIN) {
            usleep(100);
            continue;
        }
        if (w <= 0)
            break;
        at += (size_t)w;
    }
    close(f->fd);
    return NULL;
}

typedef struct fifo_writer {
    const char *path;
    feeder f;
} fifo_writer;

static void *open_and_feed(void *arg)
{
    fifo_writer *w = arg;
    w->f.fd = open(w->path, O_WRONLY);
    return w->f.fd < 0 ? NULL : feed(&w->f);
}

/* Load what a thread writes into a pipe (in pieces of `piece` bytes). */
static int load_pipe(const mbuf *b, size_t cut, size_t piece, int nonblock, unsigned flags,
                     pstats_error *err, char **rep)
{
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    if (nonblock)
        ck_assert_int_eq(fcntl(fds[0], F_SETFL, O_NONBLOCK), 0);
    feeder f = {fds[1], b->p, b->n, cut, piece};
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, feed, &f), 0);
    pstats_stats *s = pstats_new(NULL);
    pstats_set_load_flags(s, flags);
    int rc = pstats_load_fd(s, fds[0], "<pipe>", err);
    close(fds[0]); /* the writer, if still writing, gets EPIPE */
    pthread_join(th, NULL);
    if (rc == 0)
        *rep = report(s);
    pstats_free(s);
    return rc;
}

START_TEST(pipes_and_fifos)
{
    signal(SIGPIPE, SIG_IGN);
    mbuf prof = make_profile(26000, -1), mixed = make_profile(3000, 2990);
    for (unsigned flags = 0; flags <= PSTATS_LOAD_NO_EDGES; flags += PSTATS_LOAD_NO_EDGES) {
        const mbuf *bs[] = {&prof, &mixed};
        for (int k = 0; k < 2; k++) {
            char *want = report_of_buffer(bs[k]->p, bs[k]->n, flags), *rep = NULL;
            pstats_error err;
            for (int nb = 0; nb < 2; nb++) {
                ck_assert_msg(load_pipe(bs[k], SIZE_MAX, nb ? 777 : 65536, nb, flags, &err,
                                        &rep) == 0, "%s", err.msg);
                ck_assert_str_eq(rep, want);
                free(rep);
            }
            /* the writer stops early: the data ends where it stopped */
            size_t cut = bs[k]->n / 3;
            ck_assert_int_ne(load_pipe(bs[k], cut, 4096, 0, flags, &err, &rep), 0);
            ck_assert_int_eq(err.code, PSTATS_EMARSHAL);
            ck_assert_str_eq(err.file, "<pipe>");
            ck_assert_msg(strstr(err.msg, "ends early") || strstr(err.msg, "truncated") ||
                          strstr(err.msg, "needs"), "%s", err.msg);
            free(want);
        }
    }
    /* a FIFO by its path: the writer thread opens it, then writes */
    char *dir = tmp_dir(), path[600];
    snprintf(path, sizeof path, "%s/fifo", dir);
    ck_assert_int_eq(mkfifo(path, 0600), 0);
    char *want = report_of_buffer(mixed.p, mixed.n, 0), *rep;
    fifo_writer w = {path, {-1, mixed.p, mixed.n, SIZE_MAX, 5000}};
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, open_and_feed, &w), 0);
    pstats_stats *s = pstats_new(NULL);
    pstats_error err;
    ck_assert_msg(pstats_load_path(s, path, &err) == 0, "%s", err.msg);
    pthread_join(th, NULL);
    rep = report(s);
    ck_assert_str_eq(rep, want);
    free(rep);
    pstats_free(s);
    unlink(path);
    rmdir(dir);
    free(dir);
    free(want);
    free(prof.p);
    free(mixed.p);
}
END_TEST

/* ------------------------------------------------------------ compressed */

enum { Z_GZ, Z_ZST, Z_XZ, Z_BZ2, NZ };
static const char *const znames[] = {"gzip", "zstd", "xz", "bzip2"};

static mbuf compress_as(int kind, const uint8_t *p, size_t n)
{
    mbuf out = {0};
    size_t cap = n + n / 2 + 1024;
    out.p = malloc(cap);
    out.cap = cap;
    ck_assert_ptr_nonnull(out.p);
    if (kind == Z_GZ) {
        z_stream z;
        memset(&z, 0, sizeof z);
        ck_assert_int_eq(deflateInit2(&z, 6, Z_DEFLATED, 16 + 15, 8, Z_DEFAULT_STRATEGY), Z_OK);
        z.next_in = (Bytef *)(uintptr_t)p;
        z.avail_in = (uInt)n;
        z.next_out = out.p;
        z.avail_out = (uInt)cap;
        ck_assert_int_eq(deflate(&z, Z_FINISH), Z_STREAM_END);
        out.n = z.total_out;
        deflateEnd(&z);
    } else if (kind == Z_ZST) { /* with a checksum, as the zstd program writes */
        ZSTD_CCtx *cc = ZSTD_createCCtx();
        ck_assert_ptr_nonnull(cc);
        ck_assert(!ZSTD_isError(ZSTD_CCtx_setParameter(cc, ZSTD_c_checksumFlag, 1)));
        size_t r = ZSTD_compress2(cc, out.p, cap, p, n);
        ck_assert(!ZSTD_isError(r));
        out.n = r;
        ZSTD_freeCCtx(cc);
    } else if (kind == Z_XZ) {
        size_t pos = 0;
        ck_assert_int_eq(lzma_easy_buffer_encode(1, LZMA_CHECK_CRC64, NULL, p, n, out.p, &pos,
                                                 cap), LZMA_OK);
        out.n = pos;
    } else {
        unsigned len = (unsigned)cap;
        ck_assert_int_eq(BZ2_bzBuffToBuffCompress((char *)out.p, &len, (char *)(uintptr_t)p,
                                                  (unsigned)n, 9, 0, 0), BZ_OK);
        out.n = len;
    }
    return out;
}

static const char *const fixtures[] = {
    "fib-cpython3.11-cprofile.prof", "mix-cpython3.12-profile.prof", "synth-py2-big.prof",
    "mix-cpython2.7-profile.prof", "fib-pypy3.9-cprofile.prof", "mix-yappi-cpython3.11.prof",
    "synth-bigcounts.prof",
};

/* Every fixture shape and the big synthetic ones, compressed every way,
 * from memory, a file and a pipe: the same reports as the plain bytes. */
START_TEST(compressed_same_as_plain)
{
    char *dir = tmp_dir(), path[600];
    snprintf(path, sizeof path, "%s/c.prof", dir);
    for (size_t i = 0; i < NELEM(fixtures) + 2; i++) {
        mbuf plain = {0};
        if (i < NELEM(fixtures)) {
            char fx[600];
            snprintf(fx, sizeof fx, PSTATS_FIXTURES "/profiles/%s", fixtures[i]);
            plain.p = read_file(fx, &plain.n);
            ck_assert_ptr_nonnull(plain.p);
        } else {
            plain = make_profile(26000, i == NELEM(fixtures) ? -1 : 25990);
        }
        for (unsigned flags = 0; flags <= PSTATS_LOAD_NO_EDGES; flags += PSTATS_LOAD_NO_EDGES) {
            char *want = report_of_buffer(plain.p, plain.n, flags);
            for (int z = 0; z < NZ; z++) {
                mbuf c = compress_as(z, plain.p, plain.n);
                char *got = report_of_buffer(c.p, c.n, flags);
                ck_assert_msg(strcmp(got, want) == 0, "%s %s", znames[z],
                              i < NELEM(fixtures) ? fixtures[i] : "synthetic");
                free(got);
                write_file(path, c.p, c.n);
                pstats_stats *s = pstats_new(NULL);
                pstats_error err;
                pstats_set_load_flags(s, flags);
                ck_assert_msg(pstats_load_path(s, path, &err) == 0, "%s", err.msg);
                got = report(s);
                ck_assert_str_eq(got, want);
                free(got);
                pstats_free(s);
                if (i >= NELEM(fixtures) - 1) { /* and through a pipe */
                    ck_assert_int_eq(load_pipe(&c, SIZE_MAX, 3000, 0, flags, &err, &got), 0);
                    ck_assert_str_eq(got, want);
                    free(got);
                }
                free(c.p);
            }
            free(want);
        }
        free(plain.p);
    }
    unlink(path);
    rmdir(dir);
    free(dir);
}
END_TEST

static void expect_load_error(const void *p, size_t n, pstats_errcode code, const char *needle)
{
    pstats_stats *s = pstats_new(NULL);
    pstats_error err;
    ck_assert_int_ne(pstats_load_buffer(s, p, n, "z", -1, &err), 0);
    ck_assert_msg(err.code == code, "code %d: %s", err.code, err.msg);
    ck_assert_msg(strstr(err.msg, needle) != NULL, "'%s' not in '%s'", needle, err.msg);
    ck_assert_uint_eq(pstats_nfuncs(s), 0);
    pstats_free(s);
}

/* Broken streams: truncated, a byte changed, a wrong CRC; each named. */
START_TEST(compressed_broken)
{
    size_t n;
    uint8_t *plain = read_file(PROF("fib-cpython3.11-cprofile.prof"), &n);
    for (int z = 0; z < NZ; z++) {
        mbuf c = compress_as(z, plain, n);
        char want[64];
        snprintf(want, sizeof want, "broken %s data", znames[z]);
        for (size_t cut = 6; cut < c.n; cut += 1 + c.n / 40)
            expect_load_error(c.p, cut, PSTATS_EFORMAT, want);
        expect_load_error(c.p, c.n - 1, PSTATS_EFORMAT, "ends early");
        uint8_t *bad = malloc(c.n);
        memcpy(bad, c.p, c.n);
        bad[c.n / 2] ^= 0x55;
        pstats_stats *s = pstats_new(NULL);
        pstats_error err;
        int rc = pstats_load_buffer(s, bad, c.n, "z", -1, &err);
        ck_assert_msg(rc != 0, "%s: a changed byte went unnoticed", znames[z]);
        pstats_free(s);
        free(bad);
        free(c.p);
    }
    /* the gzip trailer's CRC: every byte decompressed, then the check */
    mbuf c = compress_as(Z_GZ, plain, n);
    c.p[c.n - 8] ^= 1;
    expect_load_error(c.p, c.n, PSTATS_EFORMAT, "incorrect data check");
    free(c.p);
    free(plain);
}
END_TEST

/* Several gzip members or zstd frames make one stream; bytes after the
 * last are ignored, as gzip -d does. */
START_TEST(compressed_members)
{
    size_t n;
    uint8_t *plain = read_file(PROF("mix-cpython3.11-cprofile.prof"), &n);
    char *want = report_of_buffer(plain, n, 0);
    for (int z = 0; z < NZ; z++) {
        mbuf a = compress_as(z, plain, n / 3), b = compress_as(z, plain + n / 3, n - n / 3);
        put(&a, b.p, b.n);
        char *got = report_of_buffer(a.p, a.n, 0);
        ck_assert_msg(strcmp(got, want) == 0, "%s members", znames[z]);
        free(got);
        put(&a, "trailing garbage", 16);
        got = report_of_buffer(a.p, a.n, 0);
        ck_assert_str_eq(got, want);
        free(got);
        free(a.p);
        free(b.p);
    }
    free(want);
    free(plain);
}
END_TEST

/* Decompression bombs: what is decompressed is what the loader needs
 * (plus a bounded look at what follows), never the whole stream. */
START_TEST(compressed_bombs_bounded)
{
    size_t big = (size_t)128 << 20, n;
    uint8_t *zeros = calloc(1, big);
    uint8_t *plain = read_file(PROF("fib-cpython3.11-cprofile.prof"), &n);
    ck_assert_ptr_nonnull(zeros);
    for (int z = 0; z < NZ; z++) {
        if (z == Z_BZ2 || z == Z_XZ)
            continue; /* slow to make at this size; gzip and zstd show it */
        mbuf bomb = compress_as(z, zeros, big);
        pstats_stats *t = pstats_new(NULL);
        pstats_error err;
        ps_input in;
        ck_assert_int_eq(ps_in_open_mem(&in, t, bomb.p, bomb.n, "bomb", &err), 0);
        ck_assert_int_ne(ps_load_input(t, &in, "bomb", &err, 1), 0);
        ck_assert_msg(strstr(err.msg, "unknown type code 0x00"), "%s", err.msg);
        ck_assert_uint_le(in.avail, (size_t)8 << 20);
        ps_in_close(&in);
        pstats_free(t);
        /* a real profile, then 128 MB of zeros: it loads, reading little */
        memcpy(zeros, plain, n);
        mbuf tail = compress_as(z, zeros, big);
        memset(zeros, 0, n);
        t = pstats_new(NULL);
        ck_assert_int_eq(ps_in_open_mem(&in, t, tail.p, tail.n, "tail", &err), 0);
        ck_assert_msg(ps_load_input(t, &in, "tail", &err, 1) == 0, "%s", err.msg);
        ck_assert_uint_le(in.avail, (size_t)8 << 20);
        ps_in_close(&in);
        pstats_free(t);
        free(tail.p);
        free(bomb.p);
    }
    free(zeros);
    free(plain);
}
END_TEST

/* ---------------------------------------------------- allocation failures */

static mbuf oom_input; /* the compressed profile of sc_load_compressed */

static int sc_load_compressed(const pymarshal_allocator *a, pstats_error *err)
{
    pstats_stats *s = pstats_new(a);
    if (!s) {
        err->code = PSTATS_ENOMEM;
        return -1;
    }
    int rc = pstats_load_buffer(s, oom_input.p, oom_input.n, "z", -1, err);
    pstats_free(s);
    return rc;
}

/* Every allocation of a compressed load (the decoders allocate through the
 * model's allocator too) fails in turn: a clean ENOMEM, nothing left
 * (pstats_oom_check, the one loop of test/oom.h). */
START_TEST(compressed_allocation_failures)
{
    size_t n;
    uint8_t *plain = read_file(PROF("fib-cpython3.11-cprofile.prof"), &n);
    for (int z = 0; z < NZ; z++) {
        oom_input = compress_as(z, plain, n);
        pstats_oom_check(sc_load_compressed);
        free(oom_input.p);
    }
    free(plain);
}
END_TEST

/* ------------------------------------------------------ foreign formats */

static const struct {
    const char *file, *names, *tool;
} foreign[] = {
    {"go-cpu.pb.gz", "pprof profile", "go tool pprof"},
    {"go-pprof.txt", "pprof text report", "pprof -callgrind"},
    {"gperftools-pprof.txt", "pprof text report", "pprof -callgrind"},
    {"Rprof.out", "R's Rprof output", "summaryRprof"},
    {"mprofile_sample.dat", "memory_profiler", "mprof plot"},
    {"perf-script.txt", "perf script output", "stackcollapse-perf.pl"},
    {"perf.data.head", "perf.data", "perf report"},
    {"folded.txt", "folded stacks", "flamegraph.pl"},
    {"node.cpuprofile", "Chrome DevTools CPU profile", "speedscope"},
    {"node-trace.json", "Chrome trace", "Perfetto"},
    {"speedscope.json", "speedscope profile", "speedscope"},
};

START_TEST(foreign_formats_named)
{
    for (size_t i = 0; i < NELEM(foreign); i++) {
        char path[600];
        snprintf(path, sizeof path, PSTATS_FIXTURES "/foreign/%s", foreign[i].file);
        size_t n;
        uint8_t *p = read_file(path, &n);
        ck_assert_ptr_nonnull(p);
        int gz = strstr(foreign[i].file, ".gz") != NULL;
        for (int z = -1; z < (gz ? 0 : NZ); z++) { /* plain, and compressed every way */
            mbuf c = {0};
            if (z >= 0)
                c = compress_as(z, p, n);
            pstats_stats *s = pstats_new(NULL);
            pstats_error err;
            ck_assert_int_ne(pstats_load_buffer(s, z < 0 ? p : c.p, z < 0 ? n : c.n, "f", -1,
                                                &err), 0);
            ck_assert_int_eq(err.code, PSTATS_EFORMAT);
            ck_assert_msg(strstr(err.msg, foreign[i].names) && strstr(err.msg, foreign[i].tool),
                          "%s: %s", foreign[i].file, err.msg);
            if (z >= 0)
                ck_assert_msg(strstr(err.msg, znames[z]), "%s", err.msg);
            pstats_free(s);
            free(c.p);
        }
        free(p);
    }
}
END_TEST

Suite *pstats_input_suite(void)
{
    Suite *s = suite_create("pstats_input");
    TCase *t = tcase_create("input");
    tcase_set_timeout(t, 600);
    tcase_add_test(t, file_changed_while_read);
    tcase_add_test(t, fallback_reads_the_file_again);
    tcase_add_test(t, pipes_and_fifos);
    tcase_add_test(t, compressed_same_as_plain);
    tcase_add_test(t, compressed_broken);
    tcase_add_test(t, compressed_members);
    tcase_add_test(t, compressed_bombs_bounded);
    tcase_add_test(t, compressed_allocation_failures);
    tcase_add_test(t, foreign_formats_named);
    suite_add_tcase(s, t);
    return s;
}
