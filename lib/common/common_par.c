/*
 * lib/common: work split over two threads (the machine that matters has two
 * cores).
 *
 * cm_halves: one range cut in two, each half run by its own thread.
 *
 * cm_ordered_run: items cut into chunks that the calling thread and one
 * helper thread format into a small ring of slots; the calling thread
 * alone prepares the chunks (in order, just ahead of formatting) and writes
 * them, in order, through the caller's write function. Memory stays
 * bounded: at most CM_SLOTS chunks exist at once. A failure (formatting,
 * or the sink) stops both threads; nothing after the failed chunk is
 * written.
 */
#include <pthread.h>
#include <string.h>

#include "common.h"

/* ---------------------------------------------------------- two halves */

typedef struct half_arg {
    cm_half_fn fn;
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

int cm_halves(cm_half_fn fn, void *ctx, size_t n, size_t mid, int threads,
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

/* ------------------------------------------------------ ordered chunks */

enum { SLOT_FREE, SLOT_BUSY, SLOT_READY };

typedef struct slot {
    const void *data;
    size_t len;
    int state;
} slot;

typedef struct run {
    const cm_ordered_job *job;
    pthread_mutex_t mu;           /* guards everything below */
    pthread_cond_t cv;            /* a chunk was claimed, finished or written */
    slot sl[CM_SLOTS];            /* chunk c lives in slot c % CM_SLOTS */
    size_t next;                  /* the first item not yet claimed */
    size_t prepared;              /* items 0..prepared-1 are prepared */
    size_t claimed, written;      /* chunks */
    int err;                      /* 0, -1 formatting failed, -2 write failed */
} run;

static size_t chunk_end(const cm_ordered_job *j, size_t from)
{
    if (j->chunk_end)
        return j->chunk_end(j->ctx, from, j->n);
    return j->n - from > j->chunk ? from + j->chunk : j->n;
}

/* With the lock held: claims and formats one chunk (the lock released
 * meanwhile); 0 when there is none to claim now. */
static int work_one(run *r, int worker)
{
    const cm_ordered_job *j = r->job;
    if (r->err || r->next >= r->prepared || r->claimed >= r->written + CM_SLOTS)
        return 0;
    size_t k = r->claimed % CM_SLOTS;
    size_t from = r->next, to = chunk_end(j, from);
    r->next = to;
    r->claimed++;
    r->sl[k].state = SLOT_BUSY;
    pthread_mutex_unlock(&r->mu);
    const void *data = NULL;
    size_t len = 0;
    int rc = j->format(j->ctx, worker, k, from, to, &data, &len);
    pthread_mutex_lock(&r->mu);
    r->sl[k].data = data;
    r->sl[k].len = len;
    if (rc != 0)
        r->err = -1;
    r->sl[k].state = SLOT_READY;
    pthread_cond_broadcast(&r->cv);
    return 1;
}

/* The calling thread: prepares and writes the chunks in order, formats
 * when it can. */
static void run_main(run *r)
{
    const cm_ordered_job *j = r->job;
    pthread_mutex_lock(&r->mu);
    while (!r->err) {
        slot *sl = &r->sl[r->written % CM_SLOTS];
        if (r->written < r->claimed && sl->state == SLOT_READY) {
            pthread_mutex_unlock(&r->mu);
            int rc = sl->len ? j->write(j->wctx, sl->data, sl->len) : 0;
            pthread_mutex_lock(&r->mu);
            sl->state = SLOT_FREE;
            r->written++;
            if (rc != 0)
                r->err = -2;
            pthread_cond_broadcast(&r->cv);
            continue;
        }
        if (r->prepared < j->n) { /* quick, and formatting waits for it */
            size_t from = r->prepared, to = chunk_end(j, from);
            if (j->prepare) {
                pthread_mutex_unlock(&r->mu);
                j->prepare(j->ctx, from, to);
                pthread_mutex_lock(&r->mu);
            }
            r->prepared = to;
            pthread_cond_broadcast(&r->cv);
            continue;
        }
        if (r->written == r->claimed && r->next >= j->n)
            break; /* all written */
        if (!work_one(r, 0))
            pthread_cond_wait(&r->cv, &r->mu);
    }
    pthread_mutex_unlock(&r->mu);
}

/* The helper thread: formats chunks while there are any. */
static void *run_helper(void *arg)
{
    run *r = arg;
    pthread_mutex_lock(&r->mu);
    while (!r->err && r->next < r->job->n)
        if (!work_one(r, 1))
            pthread_cond_wait(&r->cv, &r->mu);
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

int cm_ordered_run(const cm_ordered_job *job, int threads)
{
    run r;
    memset(&r, 0, sizeof r);
    r.job = job;
    if (!threads) { /* no lock needed: prepare, format, write in turn */
        for (size_t from = 0; from < job->n;) {
            size_t to = chunk_end(job, from);
            if (job->prepare)
                job->prepare(job->ctx, from, to);
            const void *data = NULL;
            size_t len = 0;
            if (job->format(job->ctx, 0, 0, from, to, &data, &len))
                return -1;
            if (len && job->write(job->wctx, data, len))
                return -2;
            from = to;
        }
        return 0;
    }
    if (pthread_mutex_init(&r.mu, NULL) != 0)
        return -1;
    if (pthread_cond_init(&r.cv, NULL) != 0) {
        pthread_mutex_destroy(&r.mu);
        return -1;
    }
    pthread_t th;
    int helper = pthread_create(&th, NULL, run_helper, &r) == 0;
    run_main(&r); /* without a helper, the calling thread does it all */
    if (helper) {
        pthread_mutex_lock(&r.mu);
        if (r.err) /* wake the helper if it waits for room */
            pthread_cond_broadcast(&r.cv);
        pthread_mutex_unlock(&r.mu);
        pthread_join(th, NULL);
    }
    pthread_cond_destroy(&r.cv);
    pthread_mutex_destroy(&r.mu);
    return r.err;
}
