/* See marshal_test_util.h. */
#include "marshal_test_util.h"
#include "oom.h"

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

typedef struct marshal_oom {
    marshal_oom_op op;
    void *ctx;
} marshal_oom;

static oom_result marshal_oom_run(oom_alloc *f, void *ctx, char *why, size_t whysize)
{
    marshal_oom *m = ctx;
    pymarshal_error err;
    memset(&err, 0, sizeof err);
    int rc = m->op(&f->hook, m->ctx, &err);
    if (rc == 0)
        return OOM_DONE;
    if (rc == -1 && err.code == PYMARSHAL_ENOMEM)
        return OOM_NOMEM;
    snprintf(why, whysize, "rc %d, code %d: %s", rc, (int)err.code, err.msg);
    return OOM_WRONG;
}

long marshal_oom_loop(marshal_oom_op op, void *ctx)
{
    marshal_oom m = {op, ctx};
    return (long)oom_loop(marshal_oom_run, &m, 1);
}
