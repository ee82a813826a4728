/*
 * The formatting pipeline of the callgrind writer: a part's function blocks
 * are cut into chunks of a few hundred KB of text, which the calling thread
 * and one helper thread format into a small ring of buffers; the calling
 * thread alone marks the chunks (which references carry names) just ahead
 * of them and writes them, in order, through the caller's write function.
 * Formatting is most of the writer's time and the machine that matters has
 * two cores; a chunk can be formatted in any thread once
 * pstats_cg_part_mark() has decided where its names go.
 *
 * Memory stays bounded: at most CG_SLOTS chunks exist at once. A failure
 * (out of memory in either thread, or the sink) stops both threads; the
 * caller reports it and nothing after the failed chunk is written.
 *
 * Also here: pstats_cg_halves(), which runs the other passes (names, plan,
 * rows, totals) on two halves of their range, and the lock that makes the
 * caller's allocator safe to call from both threads.
 */
#include <pthread.h>
#include <string.h>

#include "callgrind_int.h"
#include "pstats_internal.h"

#define CG_SLOTS 4
/* A chunk holds about this many functions plus planned calls (each about
 * 50 bytes of text): ~200 KB, small enough for the caches' sake, large
 * enough that the lock is taken rarely. Tests (ps_threads_forced) use tiny
 * chunks, so that a small model goes round the ring of slots many times. */
#define CG_CHUNK 4096
#define CG_CHUNK_FORCED 3

enum { SLOT_FREE, SLOT_BUSY, SLOT_READY };

typedef struct cg_slot {
    cg_bytes buf;
    int state;
} cg_slot;

typedef struct cg_pipe {
    cg_part *cp;
    const pymarshal_allocator *a; /* what the formatters allocate with */
    pstats_write_fn write;
    void *ctx;
    pthread_mutex_t mu;           /* guards everything below */
    pthread_cond_t cv;            /* a chunk was claimed, finished or written */
    cg_slot slot[CG_SLOTS];       /* chunk c lives in slot c % CG_SLOTS */
    uint32_t next, nfuncs;        /* the first function not yet claimed */
    uint32_t marked;              /* functions 0..marked-1 are marked */
    uint32_t chunk;               /* CG_CHUNK, or CG_CHUNK_FORCED */
    size_t claimed, written;      /* chunks */
    int err;                      /* 0, -1 out of memory, -2 write failed */
} cg_pipe;

/* The end of the chunk that starts at `from`: the first f where functions
 * plus planned calls since `from` reach CG_CHUNK (off[f] + f grows with f). */
static uint32_t chunk_end(const cg_part *cp, uint32_t from, uint32_t n, uint32_t chunk)
{
    const uint32_t *off = cp->pl.off;
    uint64_t goal = (uint64_t)off[from] + from + chunk;
    uint32_t lo = from + 1, hi = n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if ((uint64_t)off[mid] + mid >= goal)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

/* With the lock held: claims and formats one chunk (the lock released
 * meanwhile); 0 when there is none to claim now. */
static int work_one(cg_pipe *pp, cg_bytes *label)
{
    /* marking goes by the same chunks: `next` < `marked` says this one is */
    if (pp->err || pp->next >= pp->marked || pp->claimed >= pp->written + CG_SLOTS)
        return 0;
    cg_slot *sl = &pp->slot[pp->claimed % CG_SLOTS];
    uint32_t from = pp->next, to = chunk_end(pp->cp, from, pp->nfuncs, pp->chunk);
    pp->next = to;
    pp->claimed++;
    sl->state = SLOT_BUSY;
    /* the buffers are formatted as local copies: the slots and the two
     * threads' scratch share cache lines, which would bounce between the
     * cores at every byte appended */
    cg_bytes buf = sl->buf, lab = *label;
    pthread_mutex_unlock(&pp->mu);
    int rc = pstats_cg_part_format(pp->cp, from, to, &buf, &lab, pp->a);
    pthread_mutex_lock(&pp->mu);
    sl->buf = buf;
    *label = lab;
    if (rc != 0)
        pp->err = -1;
    sl->state = SLOT_READY;
    pthread_cond_broadcast(&pp->cv);
    return 1;
}

/* The calling thread: writes the chunks in order, formats when it can. */
static void run_main(cg_pipe *pp, cg_bytes *label)
{
    pthread_mutex_lock(&pp->mu);
    while (!pp->err) {
        cg_slot *sl = &pp->slot[pp->written % CG_SLOTS];
        if (pp->written < pp->claimed && sl->state == SLOT_READY) {
            pthread_mutex_unlock(&pp->mu);
            int rc = sl->buf.len ? pp->write(pp->ctx, sl->buf.p, sl->buf.len) : 0;
            pthread_mutex_lock(&pp->mu);
            sl->buf.len = 0;
            sl->state = SLOT_FREE;
            pp->written++;
            if (rc != 0)
                pp->err = -2;
            pthread_cond_broadcast(&pp->cv);
            continue;
        }
        if (pp->marked < pp->nfuncs) { /* the next chunk's marks: quick, and
                                        * formatting waits for them */
            uint32_t from = pp->marked, to = chunk_end(pp->cp, from, pp->nfuncs, pp->chunk);
            pthread_mutex_unlock(&pp->mu);
            pstats_cg_part_mark(pp->cp, from, to);
            pthread_mutex_lock(&pp->mu);
            pp->marked = to;
            pthread_cond_broadcast(&pp->cv);
            continue;
        }
        if (pp->written == pp->claimed && pp->next >= pp->nfuncs)
            break; /* all written */
        if (!work_one(pp, label))
            pthread_cond_wait(&pp->cv, &pp->mu);
    }
    pthread_mutex_unlock(&pp->mu);
}

typedef struct worker_arg {
    cg_pipe *pp;
    cg_bytes label;
} worker_arg;

/* The helper thread: formats chunks while there are any. */
static void *run_worker(void *arg)
{
    worker_arg *wa = arg;
    cg_pipe *pp = wa->pp;
    pthread_mutex_lock(&pp->mu);
    while (!pp->err && pp->next < pp->nfuncs)
        if (!work_one(pp, &wa->label))
            pthread_cond_wait(&pp->cv, &pp->mu);
    pthread_mutex_unlock(&pp->mu);
    return NULL;
}

/* A helper thread pays off from a few chunks up. */
static int want_helper(const cg_part *cp)
{
    size_t n = cp->pl.nkeys;
    return ps_threads_forced(cp->s) || (uint64_t)cp->pl.off[n] + n >= 4 * (uint64_t)CG_CHUNK;
}

int pstats_cg_pipe_run(cg_part *cp, const pymarshal_allocator *a, pstats_write_fn write,
                       void *ctx)
{
    cg_pipe pp;
    memset(&pp, 0, sizeof pp);
    pp.cp = cp;
    pp.a = a;
    pp.write = write;
    pp.ctx = ctx;
    pp.nfuncs = (uint32_t)cp->pl.nkeys;
    pp.chunk = ps_threads_forced(cp->s) ? CG_CHUNK_FORCED : CG_CHUNK;
    if (pthread_mutex_init(&pp.mu, NULL) != 0)
        return -1;
    if (pthread_cond_init(&pp.cv, NULL) != 0) {
        pthread_mutex_destroy(&pp.mu);
        return -1;
    }
    cm_locked_alloc la; /* when both threads allocate: one lock */
    worker_arg wa;
    memset(&wa, 0, sizeof wa);
    wa.pp = &pp;
    pthread_t th;
    int helper = want_helper(cp);
    if (helper && a) {
        helper = cm_locked_alloc_init(&la, a) == 0;
        pp.a = helper ? &la.view : a;
    }
    if (helper && pthread_create(&th, NULL, run_worker, &wa) != 0) {
        if (a)
            cm_locked_alloc_destroy(&la);
        pp.a = a;
        helper = 0; /* no thread: the calling thread does it all */
    }
    cg_bytes label = {NULL, 0, 0};
    run_main(&pp, &label);
    if (helper) {
        pthread_mutex_lock(&pp.mu);
        if (pp.err) /* wake the helper if it waits for room */
            pthread_cond_broadcast(&pp.cv);
        pthread_mutex_unlock(&pp.mu);
        pthread_join(th, NULL);
        if (a)
            cm_locked_alloc_destroy(&la);
    }
    for (size_t i = 0; i < CG_SLOTS; i++)
        cm_free(a, pp.slot[i].buf.p);
    cm_free(a, label.p);
    cm_free(a, wa.label.p);
    pthread_cond_destroy(&pp.cv);
    pthread_mutex_destroy(&pp.mu);
    return pp.err;
}

/* ---------------------------------------------------------- two halves */

typedef struct half_arg {
    cg_half_fn fn;
    void *ctx;
    size_t from, to;
    const pymarshal_allocator *a;
    int rc;
} half_arg;

static void *run_half(void *arg)
{
    half_arg *h = arg;
    h->rc = h->fn(h->ctx, 0, h->from, h->to, h->a);
    return NULL;
}

int pstats_cg_halves(cg_half_fn fn, void *ctx, size_t n, size_t mid, int threads,
                     const pymarshal_allocator *a)
{
    half_arg h = {fn, ctx, 0, mid, a, 0};
    cm_locked_alloc la; /* when both threads allocate: one lock */
    pthread_t th;
    if (threads && a) {
        threads = cm_locked_alloc_init(&la, a) == 0;
        h.a = threads ? &la.view : a;
    }
    if (threads && pthread_create(&th, NULL, run_half, &h) != 0) {
        if (a)
            cm_locked_alloc_destroy(&la);
        h.a = a;
        threads = 0;
    }
    if (!threads) /* one thread: the halves in order */
        h.rc = fn(ctx, 0, 0, mid, a);
    int rc = fn(ctx, 1, mid, n, threads ? h.a : a);
    if (threads) {
        pthread_join(th, NULL);
        if (a)
            cm_locked_alloc_destroy(&la);
    }
    return h.rc != 0 || rc != 0 ? -1 : 0;
}
