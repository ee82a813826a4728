/*
 * A producer and a consumer on two cores: the loader's parser fills
 * batches of events, a second thread builds them into the model.
 *
 * A ring of PIPE_RING batch buffers: the producer hands a full buffer over
 * and takes the next empty one (waiting only when the consumer is a whole
 * ring behind); the consumer takes full buffers in order. The first error
 * of the consumer is kept and stops the producer at its next hand-over.
 * While the pipe runs, the model's allocator is called under a lock, so
 * that a caller's allocator need not be thread-safe (cm_locked_alloc,
 * lib/common/).
 */
#include <pthread.h>
#include <string.h>

#include "common.h"
#include "pstats_internal.h"

#define PIPE_RING 4

struct ps_pipe {
    pstats_stats *s;
    pymarshal_allocator saved;     /* the model's own allocator */
    cm_locked_alloc lk;            /* ... called under a lock meanwhile */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t thread;
    ps_pipe_consume fn;
    void *ctx;
    void *buf[PIPE_RING];
    size_t count[PIPE_RING], tag[PIPE_RING];
    size_t produced, consumed;     /* batches handed over, built */
    size_t done_tag;               /* tag of the last batch built */
    int closed;                    /* no more batches */
    int rc;                        /* the consumer's first error */
};

static void *consumer(void *arg)
{
    ps_pipe *p = arg;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (p->consumed == p->produced && !p->closed)
            pthread_cond_wait(&p->cv, &p->mu);
        if (p->consumed == p->produced)
            break;
        size_t k = p->consumed % PIPE_RING;
        int failed = p->rc != 0;
        pthread_mutex_unlock(&p->mu);
        int rc = failed ? 0 : p->fn(p->ctx, p->buf[k], p->count[k]);
        pthread_mutex_lock(&p->mu);
        if (rc && !p->rc)
            p->rc = rc;
        __atomic_store_n(&p->done_tag, p->tag[k], __ATOMIC_RELEASE);
        p->consumed++;
        pthread_cond_broadcast(&p->cv);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

ps_pipe *ps_pipe_start(pstats_stats *s, size_t bytes, ps_pipe_consume fn, void *ctx)
{
    ps_pipe *p = ps_malloc(s, sizeof *p);
    if (!p)
        return NULL;
    memset(p, 0, sizeof *p);
    p->s = s;
    p->fn = fn;
    p->ctx = ctx;
    for (int i = 0; i < PIPE_RING; i++)
        if (!(p->buf[i] = ps_malloc(s, bytes)))
            goto fail;
    p->saved = s->alc;
    if (cm_locked_alloc_init(&p->lk, &p->saved))
        goto fail;
    if (pthread_mutex_init(&p->mu, NULL)) {
        cm_locked_alloc_destroy(&p->lk);
        goto fail;
    }
    if (pthread_cond_init(&p->cv, NULL)) {
        pthread_mutex_destroy(&p->mu);
        cm_locked_alloc_destroy(&p->lk);
        goto fail;
    }
    s->alc = p->lk.view;
    if (pthread_create(&p->thread, NULL, consumer, p) == 0)
        return p;
    s->alc = p->saved;
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    cm_locked_alloc_destroy(&p->lk);
fail:
    for (int i = 0; i < PIPE_RING; i++)
        ps_free(s, p->buf[i]);
    ps_free(s, p);
    return NULL;
}

void *ps_pipe_first(ps_pipe *p) { return p->buf[0]; }

void *ps_pipe_swap(ps_pipe *p, size_t n, size_t tag, int *rc)
{
    pthread_mutex_lock(&p->mu);
    size_t k = p->produced % PIPE_RING;
    p->count[k] = n;
    p->tag[k] = tag;
    p->produced++;
    pthread_cond_broadcast(&p->cv);
    while (p->produced - p->consumed == PIPE_RING && !p->rc)
        pthread_cond_wait(&p->cv, &p->mu);
    *rc = p->rc;
    pthread_mutex_unlock(&p->mu);
    return p->buf[p->produced % PIPE_RING];
}

size_t ps_pipe_done_tag(ps_pipe *p) { return __atomic_load_n(&p->done_tag, __ATOMIC_ACQUIRE); }

int ps_pipe_finish(ps_pipe *p, size_t n, int produced_ok)
{
    pthread_mutex_lock(&p->mu);
    if (produced_ok && n) {
        size_t k = p->produced % PIPE_RING;
        p->count[k] = n;
        p->tag[k] = 0;
        p->produced++;
    }
    p->closed = 1;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    pthread_join(p->thread, NULL);
    int rc = p->rc;
    pstats_stats *s = p->s;
    s->alc = p->saved;
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    cm_locked_alloc_destroy(&p->lk);
    for (int i = 0; i < PIPE_RING; i++)
        ps_free(s, p->buf[i]);
    ps_free(s, p);
    return rc;
}
