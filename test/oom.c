/* See oom.h. */
#include "oom.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OOM_HEAD 16 /* the block's size, kept in front of it */

static void *oom_malloc(void *ctx, size_t n)
{
    oom_alloc *f = ctx;
    if (f->armed && ++f->calls == f->fail_at)
        return NULL;
    size_t *p = malloc(n + OOM_HEAD);
    if (!p)
        return NULL;
    f->live++;
    p[0] = n;
    return (char *)p + OOM_HEAD;
}

static void *oom_realloc(void *ctx, void *q, size_t n)
{
    oom_alloc *f = ctx;
    if (!q)
        return oom_malloc(ctx, n);
    size_t *p = (size_t *)((char *)q - OOM_HEAD);
    if (n > p[0] && f->armed && ++f->calls == f->fail_at)
        return NULL;
    p = realloc(p, n + OOM_HEAD);
    if (!p)
        return NULL;
    p[0] = n;
    return (char *)p + OOM_HEAD;
}

static void oom_free(void *ctx, void *q)
{
    oom_alloc *f = ctx;
    if (!q)
        return;
    f->live--;
    free((char *)q - OOM_HEAD);
}

void oom_alloc_init(oom_alloc *f, size_t fail_at, int armed)
{
    memset(f, 0, sizeof *f);
    f->fail_at = fail_at;
    f->armed = armed;
    f->hook.malloc = oom_malloc;
    f->hook.realloc = oom_realloc;
    f->hook.free = oom_free;
    f->hook.ctx = f;
}

size_t oom_loop(oom_op op, void *ctx, size_t stride)
{
    size_t failing = 0;
    if (stride == 0)
        stride = 1;
    for (size_t n = 1;; n += stride) {
        oom_alloc f;
        char why[1024] = "";
        oom_alloc_init(&f, n, 1);
        oom_result r = op(&f, ctx, why, sizeof why);
        ck_assert_msg(f.live == 0, "allocation %zu failing: %zu blocks leaked", n, f.live);
        ck_assert_msg(r != OOM_WRONG, "allocation %zu failing: %s", n, why);
        if (r == OOM_DONE && f.calls < n)
            return failing;
        ck_assert_msg(r == OOM_NOMEM || f.verified,
                      "allocation %zu failed, yet the operation succeeded", n);
        failing += r == OOM_NOMEM;
        ck_assert_msg(n < 10000000, "no success after ten million allocations");
    }
}

oom_result oom_verdict(int rc, const pstats_error *err, char *why, size_t whysize)
{
    if (rc == 0)
        return OOM_DONE;
    if (err->code == PSTATS_ENOMEM)
        return OOM_NOMEM;
    snprintf(why, whysize, "code %d: %s", (int)err->code, err->msg);
    return OOM_WRONG;
}
