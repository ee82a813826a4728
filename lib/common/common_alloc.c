/*
 * lib/common: what every layer may use and what uses no layer. Allocation
 * through the caller's hook, and that hook called under a lock for work
 * split over two threads.
 */
#include <pthread.h>
#include <stdlib.h>

#include "common.h"

void *cm_malloc(const pymarshal_allocator *a, size_t n)
{
    if (n == 0)
        n = 1;
    return a ? a->malloc(a->ctx, n) : malloc(n);
}

void *cm_realloc(const pymarshal_allocator *a, void *p, size_t n)
{
    if (n == 0)
        n = 1;
    return a ? a->realloc(a->ctx, p, n) : realloc(p, n);
}

void cm_free(const pymarshal_allocator *a, void *p)
{
    if (!p)
        return;
    if (a)
        a->free(a->ctx, p);
    else
        free(p);
}

int cm_reserve(const pymarshal_allocator *a, void **arr, size_t *cap, size_t need,
               size_t elsize)
{
    if (need <= *cap)
        return 0;
    size_t ncap = *cap ? *cap : 16;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2)
            return -1;
        ncap *= 2;
    }
    if (ncap > SIZE_MAX / elsize)
        return -1;
    void *p = cm_realloc(a, *arr, ncap * elsize);
    if (!p)
        return -1;
    *arr = p;
    *cap = ncap;
    return 0;
}

/* ------------------------------------------------------ locked allocator */

static void *lk_malloc(void *ctx, size_t n)
{
    cm_locked_alloc *l = ctx;
    pthread_mutex_lock(&l->mu);
    void *r = cm_malloc(l->a, n);
    pthread_mutex_unlock(&l->mu);
    return r;
}

static void *lk_realloc(void *ctx, void *q, size_t n)
{
    cm_locked_alloc *l = ctx;
    pthread_mutex_lock(&l->mu);
    void *r = cm_realloc(l->a, q, n);
    pthread_mutex_unlock(&l->mu);
    return r;
}

static void lk_free(void *ctx, void *q)
{
    cm_locked_alloc *l = ctx;
    pthread_mutex_lock(&l->mu);
    cm_free(l->a, q);
    pthread_mutex_unlock(&l->mu);
}

int cm_locked_alloc_init(cm_locked_alloc *l, const pymarshal_allocator *a)
{
    l->a = a;
    l->view.malloc = lk_malloc;
    l->view.realloc = lk_realloc;
    l->view.free = lk_free;
    l->view.ctx = l;
    return pthread_mutex_init(&l->mu, NULL) == 0 ? 0 : -1;
}

void cm_locked_alloc_destroy(cm_locked_alloc *l) { pthread_mutex_destroy(&l->mu); }
