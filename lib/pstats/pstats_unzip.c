/*
 * Compressed inputs: gzip (zlib), zstd (libzstd), xz (liblzma) and bzip2
 * (libbz2), told by their magic bytes and decompressed as a stream, one
 * stream (a gzip member, a zstd frame, an xz stream, a bzip2 stream) at a
 * time: pstats_input.c starts the next one when the bytes after a stream
 * begin with the same magic, and ignores anything else after it, as gzip,
 * zstd, xz and bzip2 -d do with trailing garbage (they warn).
 *
 * Memory is bounded per format and through the model's allocator: zlib's
 * 32 KB window, bzip2's ~3.6 MB at most (level 9), zstd's window up to
 * 2^27 bytes (zstd's own default limit; larger windows, from zstd --long,
 * are refused with a message), xz's decoder up to PS_XZ_MEMLIMIT.
 */
#include <bzlib.h>
#include <lzma.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>
#define ZSTD_STATIC_LINKING_ONLY /* ZSTD_createDStream_advanced: our allocator */
#include <zstd.h>
#include <zstd_errors.h>

#include "pstats_unzip.h"

#define PS_XZ_MEMLIMIT ((uint64_t)256 << 20)

struct ps_unzip {
    pstats_stats *s;
    int kind;
    int live;               /* the decoder of this kind is initialised */
    z_stream gz;
    ZSTD_DStream *zs;
    lzma_stream xz;
    lzma_allocator xa;
    bz_stream bz;
};

int ps_unzip_kind(const uint8_t *p, size_t n)
{
    if (n >= 2 && p[0] == 0x1f && p[1] == 0x8b)
        return PS_Z_GZIP;
    if (n >= 4 && p[0] == 0x28 && p[1] == 0xb5 && p[2] == 0x2f && p[3] == 0xfd)
        return PS_Z_ZSTD;
    if (n >= 4 && (p[0] & 0xf0) == 0x50 && p[1] == 0x2a && p[2] == 0x4d && p[3] == 0x18)
        return PS_Z_ZSTD; /* a skippable frame, then (usually) zstd frames */
    if (n >= 6 && memcmp(p, "\xfd" "7zXZ\0", 6) == 0)
        return PS_Z_XZ;
    if (n >= 4 && p[0] == 'B' && p[1] == 'Z' && p[2] == 'h' && p[3] >= '1' && p[3] <= '9')
        return PS_Z_BZIP2;
    return PS_Z_NONE;
}

const char *ps_unzip_name(int kind)
{
    static const char *const names[] = {"", "gzip", "zstd", "xz", "bzip2"};
    return kind > 0 && kind < (int)(sizeof names / sizeof names[0]) ? names[kind] : "";
}

size_t ps_unzip_size_hint(int kind, const uint8_t *head, size_t nhead, const uint8_t *tail4,
                          uint64_t csize)
{
    if (kind == PS_Z_GZIP && tail4 && csize < ((uint64_t)1 << 32)) { /* ISIZE */
        uint32_t isize = (uint32_t)tail4[0] | (uint32_t)tail4[1] << 8 |
                         (uint32_t)tail4[2] << 16 | (uint32_t)tail4[3] << 24;
        if (isize >= csize / 2)
            return isize;
    }
    if (kind == PS_Z_ZSTD) {
        unsigned long long n = ZSTD_getFrameContentSize(head, nhead);
        if (n != ZSTD_CONTENTSIZE_UNKNOWN && n != ZSTD_CONTENTSIZE_ERROR && n <= SIZE_MAX)
            return (size_t)n;
    }
    uint64_t guess = csize * 3; /* pstats files compress 2.3x (gzip) to 3.7x (xz) */
    return guess > SIZE_MAX ? SIZE_MAX : (size_t)guess;
}

/* ------------------------------------------------- the model's allocator */

static void *z_alloc(void *ctx, size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        return NULL;
    return ps_malloc(ctx, n * size);
}

static voidpf gz_alloc(voidpf ctx, uInt n, uInt size) { return z_alloc(ctx, n, size); }
static void gz_free(voidpf ctx, voidpf p) { ps_free(ctx, p); }
static void *bz_alloc(void *ctx, int n, int size)
{
    return n < 0 || size < 0 ? NULL : z_alloc(ctx, (size_t)n, (size_t)size);
}
static void bz_free(void *ctx, void *p) { ps_free(ctx, p); }
static void *zs_alloc(void *ctx, size_t n) { return ps_malloc(ctx, n); }
static void zs_free(void *ctx, void *p) { ps_free(ctx, p); }
static void *xz_alloc(void *ctx, size_t n, size_t size) { return z_alloc(ctx, n, size); }
static void xz_free(void *ctx, void *p) { ps_free(ctx, p); }

/* ------------------------------------------------------------- set-up */

/* The decoder of z->kind, fresh. PS_Z_MORE, or PS_Z_NOMEM. */
static int start(ps_unzip *z)
{
    switch (z->kind) {
    case PS_Z_GZIP:
        memset(&z->gz, 0, sizeof z->gz);
        z->gz.zalloc = gz_alloc;
        z->gz.zfree = gz_free;
        z->gz.opaque = z->s;
        if (inflateInit2(&z->gz, 16 + MAX_WBITS) != Z_OK)
            return PS_Z_NOMEM;
        break;
    case PS_Z_ZSTD:
        if (!z->zs) {
            ZSTD_customMem mem = {zs_alloc, zs_free, z->s};
            if (!(z->zs = ZSTD_createDStream_advanced(mem)))
                return PS_Z_NOMEM;
        }
        if (ZSTD_isError(ZSTD_DCtx_reset(z->zs, ZSTD_reset_session_only)))
            return PS_Z_NOMEM;
        break;
    case PS_Z_XZ: {
        lzma_stream init = LZMA_STREAM_INIT;
        z->xz = init;
        z->xa.alloc = xz_alloc;
        z->xa.free = xz_free;
        z->xa.opaque = z->s;
        z->xz.allocator = &z->xa;
        if (lzma_stream_decoder(&z->xz, PS_XZ_MEMLIMIT, 0) != LZMA_OK)
            return PS_Z_NOMEM;
        break;
    }
    default:
        memset(&z->bz, 0, sizeof z->bz);
        z->bz.bzalloc = bz_alloc;
        z->bz.bzfree = bz_free;
        z->bz.opaque = z->s;
        if (BZ2_bzDecompressInit(&z->bz, 0, 0) != BZ_OK)
            return PS_Z_NOMEM;
        break;
    }
    z->live = 1;
    return PS_Z_MORE;
}

static void stop(ps_unzip *z)
{
    if (!z->live)
        return;
    switch (z->kind) {
    case PS_Z_GZIP: inflateEnd(&z->gz); break;
    case PS_Z_ZSTD: break; /* kept for the next frame; freed by ps_unzip_free */
    case PS_Z_XZ: lzma_end(&z->xz); break;
    default: BZ2_bzDecompressEnd(&z->bz); break;
    }
    z->live = 0;
}

ps_unzip *ps_unzip_new(pstats_stats *s, int kind)
{
    ps_unzip *z = ps_malloc(s, sizeof *z);
    if (!z)
        return NULL;
    memset(z, 0, sizeof *z);
    z->s = s;
    z->kind = kind;
    if (start(z) != PS_Z_MORE) {
        ps_unzip_free(z);
        return NULL;
    }
    return z;
}

int ps_unzip_reset(ps_unzip *z)
{
    stop(z);
    return start(z) == PS_Z_MORE ? 0 : -1;
}

void ps_unzip_free(ps_unzip *z)
{
    if (!z)
        return;
    stop(z);
    if (z->zs)
        ZSTD_freeDStream(z->zs);
    ps_free(z->s, z);
}

/* ------------------------------------------------------------ decoding */

static int run_gzip(ps_unzip *z, ps_zio *io, char *msg, size_t size)
{
    z->gz.next_in = (Bytef *)(uintptr_t)io->in;
    z->gz.avail_in = (uInt)(io->in_len > UINT32_MAX ? UINT32_MAX : io->in_len);
    z->gz.next_out = io->out;
    z->gz.avail_out = (uInt)(io->out_cap > UINT32_MAX ? UINT32_MAX : io->out_cap);
    int rc = inflate(&z->gz, Z_NO_FLUSH);
    io->consumed = (size_t)(z->gz.next_in - io->in);
    io->produced = (size_t)(z->gz.next_out - io->out);
    switch (rc) {
    case Z_STREAM_END: return PS_Z_END;
    case Z_OK: case Z_BUF_ERROR: return PS_Z_MORE;
    case Z_MEM_ERROR: return PS_Z_NOMEM;
    default:
        snprintf(msg, size, "%s", z->gz.msg ? z->gz.msg : "invalid data");
        return PS_Z_ERR;
    }
}

static int run_zstd(ps_unzip *z, ps_zio *io, char *msg, size_t size)
{
    ZSTD_inBuffer in = {io->in, io->in_len, 0};
    ZSTD_outBuffer out = {io->out, io->out_cap, 0};
    size_t rc = ZSTD_decompressStream(z->zs, &out, &in);
    io->consumed = in.pos;
    io->produced = out.pos;
    if (!ZSTD_isError(rc))
        return rc == 0 ? PS_Z_END : PS_Z_MORE;
    ZSTD_ErrorCode e = ZSTD_getErrorCode(rc);
    if (e == ZSTD_error_memory_allocation)
        return PS_Z_NOMEM;
    if (e == ZSTD_error_frameParameter_windowTooLarge)
        snprintf(msg, size, "its window is larger than 128 MiB (written by zstd --long?): "
                 "decompress it with zstd -d --long=31 first");
    else
        snprintf(msg, size, "%s", ZSTD_getErrorName(rc));
    return PS_Z_ERR;
}

static int run_xz(ps_unzip *z, ps_zio *io, char *msg, size_t size)
{
    z->xz.next_in = io->in;
    z->xz.avail_in = io->in_len;
    z->xz.next_out = io->out;
    z->xz.avail_out = io->out_cap;
    lzma_ret rc = lzma_code(&z->xz, io->last ? LZMA_FINISH : LZMA_RUN);
    io->consumed = (size_t)(z->xz.next_in - io->in);
    io->produced = (size_t)(z->xz.next_out - io->out);
    switch (rc) {
    case LZMA_STREAM_END: return PS_Z_END;
    case LZMA_OK: case LZMA_BUF_ERROR: return PS_Z_MORE;
    case LZMA_MEM_ERROR: return PS_Z_NOMEM;
    case LZMA_MEMLIMIT_ERROR:
        snprintf(msg, size, "it needs %llu MiB of memory to decompress, above the limit of %llu MiB",
                 (unsigned long long)(lzma_memusage(&z->xz) >> 20),
                 (unsigned long long)(PS_XZ_MEMLIMIT >> 20));
        return PS_Z_ERR;
    case LZMA_FORMAT_ERROR: snprintf(msg, size, "not xz data"); return PS_Z_ERR;
    case LZMA_OPTIONS_ERROR: snprintf(msg, size, "unsupported options"); return PS_Z_ERR;
    case LZMA_DATA_ERROR: snprintf(msg, size, "corrupt data"); return PS_Z_ERR;
    default: snprintf(msg, size, "liblzma error %d", (int)rc); return PS_Z_ERR;
    }
}

static int run_bzip2(ps_unzip *z, ps_zio *io, char *msg, size_t size)
{
    z->bz.next_in = (char *)(uintptr_t)io->in;
    z->bz.avail_in = (unsigned)(io->in_len > UINT32_MAX ? UINT32_MAX : io->in_len);
    z->bz.next_out = (char *)io->out;
    z->bz.avail_out = (unsigned)(io->out_cap > UINT32_MAX ? UINT32_MAX : io->out_cap);
    int rc = BZ2_bzDecompress(&z->bz);
    io->consumed = (size_t)((const uint8_t *)z->bz.next_in - io->in);
    io->produced = (size_t)((uint8_t *)z->bz.next_out - io->out);
    switch (rc) {
    case BZ_STREAM_END: return PS_Z_END;
    case BZ_OK: return PS_Z_MORE;
    case BZ_MEM_ERROR: return PS_Z_NOMEM;
    case BZ_DATA_ERROR: snprintf(msg, size, "corrupt data (a CRC or a block is wrong)"); return PS_Z_ERR;
    case BZ_DATA_ERROR_MAGIC: snprintf(msg, size, "not bzip2 data"); return PS_Z_ERR;
    default: snprintf(msg, size, "libbz2 error %d", rc); return PS_Z_ERR;
    }
}

int ps_unzip_run(ps_unzip *z, ps_zio *io, char *msg, size_t msgsize)
{
    io->consumed = io->produced = 0;
    if (!z->live)
        return PS_Z_END;
    switch (z->kind) {
    case PS_Z_GZIP: return run_gzip(z, io, msg, msgsize);
    case PS_Z_ZSTD: return run_zstd(z, io, msg, msgsize);
    case PS_Z_XZ: return run_xz(z, io, msg, msgsize);
    default: return run_bzip2(z, io, msg, msgsize);
    }
}
