/*
 * The two-thread machinery of the callgrind writer, the last file of its
 * pipeline (it calls nothing else of lib/callgrind/): the output pipe and
 * pstats_cg_halves().
 *
 * The pipe: a job's items (a part's function blocks) are cut into chunks
 * of a few hundred KB of text, which the calling thread and one helper
 * thread format into a small ring of buffers; the calling thread alone
 * prepares the chunks (the writer: which references carry names) just
 * ahead of them and writes them, in order, through the caller's write
 * function. Formatting is most of the writer's time and the machine that
 * matters has two cores; a chunk can be formatted in any thread once it
 * has been prepared. What the items are, where a chunk ends and how it is
 * prepared and formatted, the job says (cg_pipe_job).
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

#define CG_SLOTS 4

enum { SLOT_FREE, SLOT_BUSY, SLOT_READY };

typedef struct cg_slot {
    cg_bytes buf;
    int state;
} cg_slot;

typedef struct cg_pipe {
    const cg_pipe_job *job;
    const pymarshal_allocator *a; /* what the formatters allocate with */
    pstats_write_fn write;
    void *ctx;
    pthread_mutex_t mu;           /* guards everything below */
    pthread_cond_t cv;            /* a chunk was claimed, finished or written */
    cg_slot slot[CG_SLOTS];       /* chunk c lives in slot c % CG_SLOTS */
    uint32_t next, nitems;        /* the first item not yet claimed */
    uint32_t marked;              /* items 0..marked-1 are prepared */
    size_t claimed, written;      /* chunks */
    int err;                      /* 0, -1 out of memory, -2 write failed */
} cg_pipe;

/* With the lock held: claims and formats one chunk (the lock released
 * meanwhile); 0 when there is none to claim now. */
static int work_one(cg_pipe *pp, cg_bytes *label)
{
    /* marking goes by the same chunks: `next` < `marked` says this one is */
    if (pp->err || pp->next >= pp->marked || pp->claimed >= pp->written + CG_SLOTS)
        return 0;
    cg_slot *sl = &pp->slot[pp->claimed % CG_SLOTS];
    uint32_t from = pp->next, to = pp->job->chunk_end(pp->job->ctx, from);
    pp->next = to;
    pp->claimed++;
    sl->state = SLOT_BUSY;
    /* the buffers are formatted as local copies: the slots and the two
     * threads' scratch share cache lines, which would bounce between the
     * cores at every byte appended */
    cg_bytes buf = sl->buf, lab = *label;
    pthread_mutex_unlock(&pp->mu);
    int rc = pp->job->format(pp->job->ctx, from, to, &buf, &lab, pp->a);
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
        if (pp->marked < pp->nitems) { /* the next chunk's preparation: quick,
                                        * and formatting waits for it */
            uint32_t from = pp->marked, to = pp->job->chunk_end(pp->job->ctx, from);
            pthread_mutex_unlock(&pp->mu);
            pp->job->prepare(pp->job->ctx, from, to);
            pthread_mutex_lock(&pp->mu);
            pp->marked = to;
            pthread_cond_broadcast(&pp->cv);
            continue;
        }
        if (pp->written == pp->claimed && pp->next >= pp->nitems)
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
    while (!pp->err && pp->next < pp->nitems)
        if (!work_one(pp, &wa->label))
            pthread_cond_wait(&pp->cv, &pp->mu);
    pthread_mutex_unlock(&pp->mu);
    return NULL;
}

int pstats_cg_pipe_run(const cg_pipe_job *job, const pymarshal_allocator *a,
                       pstats_write_fn write, void *ctx)
{
    cg_pipe pp;
    memset(&pp, 0, sizeof pp);
    pp.job = job;
    pp.a = a;
    pp.write = write;
    pp.ctx = ctx;
    pp.nitems = job->nitems;
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
    int helper = job->helper;
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
