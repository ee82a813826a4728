/* See marshal_test_util.h. */
#include "marshal_test_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int buf_sink(void *ctx, const void *p, size_t n)
{
    buf *b = ctx;
    if (b->fail_after && b->len + n > b->fail_after)
        return -1;
    if (b->len + n + 1 > b->cap) {
        size_t cap = 2 * (b->len + n) + 64;
        unsigned char *q = realloc(b->p, cap);
        if (!q)
            return -1;
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
    b->p[b->len] = 0;
    return 0;
}

char *repr_of(const pymarshal_value *v)
{
    buf b = {0};
    pymarshal_error err;
    int rc = pymarshal_repr(v, 0, NULL, buf_sink, &b, &err);
    ck_assert_msg(rc == 0, "repr failed: %s", err.msg);
    if (!b.p)
        b.p = calloc(1, 1);
    return (char *)b.p;
}

char *text_of(const pymarshal_value *v)
{
    size_t len;
    const uint8_t *p = pymarshal_value_bytes(v, &len, NULL);
    ck_assert_ptr_nonnull(p);
    char *s = malloc(len + 1);
    ck_assert_ptr_nonnull(s);
    memcpy(s, p, len);
    s[len] = 0;
    return s;
}

uint8_t *read_fixture(const char *name, size_t *len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/fixtures/profiles/%s", MARSHAL_SOURCE_DIR, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    buf b = {0};
    unsigned char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        ck_assert_int_eq(buf_sink(&b, chunk, n), 0);
    fclose(f);
    *len = b.len;
    return b.p;
}

static void *f_malloc(void *ctx, size_t n)
{
    failing_alloc *f = ctx;
    if (f->left-- <= 0)
        return NULL;
    void *p = malloc(n);
    f->live += p != NULL;
    return p;
}

static void *f_realloc(void *ctx, void *p, size_t n)
{
    failing_alloc *f = ctx;
    if (f->left-- <= 0)
        return NULL;
    void *q = realloc(p, n);
    f->live += q != NULL && p == NULL;
    return q;
}

static void f_free(void *ctx, void *p)
{
    failing_alloc *f = ctx;
    f->live -= p != NULL;
    free(p);
}

void failing_alloc_init(failing_alloc *f, long n)
{
    f->left = n;
    f->live = 0;
    f->hook.malloc = f_malloc;
    f->hook.realloc = f_realloc;
    f->hook.free = f_free;
    f->hook.ctx = f;
}

long oom_loop(oom_op op, void *ctx)
{
    for (long n = 0;; n++) {
        failing_alloc f;
        pymarshal_error err;
        memset(&err, 0, sizeof err);
        failing_alloc_init(&f, n);
        int rc = op(&f.hook, ctx, &err);
        ck_assert_msg(f.live == 0, "allocation %ld failing: %ld blocks leaked", n, f.live);
        if (rc == 0)
            return n;
        ck_assert_msg(rc == -1 && err.code == PYMARSHAL_ENOMEM,
                      "allocation %ld failing: rc %d, %s", n, rc, err.msg);
        ck_assert_msg(n < 1000000, "no success after a million allocations");
    }
}
