/*
 * The library's two-thread paths on a mid-size profile, for
 * ThreadSanitizer (-DPSTATS_TSAN=ON; ctest: threads_mid_size). Any build
 * runs it as a plain test; under TSan a data race fails it.
 *
 *   threads_check FIXTURES_DIR
 *
 * - load a generated profile of 70000 functions (~15 MB): the loader's pipe
 *   (from 4 MB) and the key permutation in a second thread (from 65536
 *   keys), with and without edges;
 * - write it as callgrind: names, cost plan, rows and the summary in two
 *   halves, the formatting pipeline with its helper thread;
 * - sort it (two threads from 65536 functions) and print the three reports
 *   (rows formatted by two threads from 8192);
 * - the same with an allocator that is not thread-safe (the library must
 *   call it under its lock), and on a fixture with every two-thread path
 *   forced (PS_LOAD_PIPE_ALWAYS, PS_THREADS_ALWAYS: chunks of a few
 *   items), whose reports must be what one thread prints;
 * - each output twice: the same bytes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profile_gen.h"
#include "pstats/pstats.h"
#include "pstats_internal.h" /* PS_LOAD_PIPE_ALWAYS, PS_THREADS_ALWAYS */

#define CHECK(cond)                                                                   \
    do {                                                                              \
        if (!(cond)) {                                                                \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);  \
            exit(1);                                                                  \
        }                                                                             \
    } while (0)

typedef struct buf {
    char *p;
    size_t len, cap;
} buf;

static int put(void *ctx, const void *p, size_t n)
{
    buf *b = ctx;
    if (b->len + n > b->cap) {
        size_t cap = (b->len + n) * 2;
        char *q = realloc(b->p, cap);
        if (!q)
            return -1;
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
    return 0;
}

/* Not thread-safe on purpose: a plain counter, as a caller's allocator
 * may be. */
typedef struct counting {
    size_t calls, live;
} counting;

static void *c_malloc(void *ctx, size_t n)
{
    counting *c = ctx;
    c->calls++;
    c->live++;
    return malloc(n);
}

static void *c_realloc(void *ctx, void *p, size_t n)
{
    counting *c = ctx;
    c->calls++;
    c->live += p == NULL;
    return realloc(p, n);
}

static void c_free(void *ctx, void *p)
{
    counting *c = ctx;
    c->live -= p != NULL;
    free(p);
}

static pstats_stats *load(const void *data, size_t len, unsigned flags,
                          const pymarshal_allocator *a)
{
    pstats_stats *s = pstats_new(a);
    pstats_error err;
    CHECK(s != NULL);
    pstats_set_load_flags(s, flags);
    if (pstats_load_buffer(s, data, len, "threads", -1, &err) != 0) {
        fprintf(stderr, "load: %s\n", err.msg);
        exit(1);
    }
    return s;
}

/* Writes s as callgrind twice (with allocator a): the same bytes. */
static void callgrind_twice(const pstats_stats *s, const pymarshal_allocator *a)
{
    buf x = {0}, y = {0};
    pstats_callgrind_options o = {PSTATS_UNIT_NS, "threads", 1, a};
    pstats_error err;
    CHECK(pstats_write_callgrind(&s, 1, &o, put, &x, &err) == 0);
    CHECK(pstats_write_callgrind(&s, 1, &o, put, &y, &err) == 0);
    CHECK(x.len > 0 && x.len == y.len && memcmp(x.p, y.p, x.len) == 0);
    free(x.p);
    free(y.p);
}

/* Sorts s three ways and prints the three reports after each into out. */
static void reports(pstats_stats *s, buf *out)
{
    static const char *const keys[][2] = {{"cumulative", NULL}, {"stdname", NULL},
                                          {"calls", "name"}};
    pstats_error err;
    for (size_t k = 0; k < 3; k++) {
        CHECK(pstats_sort(s, keys[k], keys[k][1] ? 2 : 1, &err) == 0);
        CHECK(pstats_print_stats(s, NULL, 0, put, out, &err) == 0);
        CHECK(pstats_print_callers(s, NULL, 0, put, out, &err) == 0);
        CHECK(pstats_print_callees(s, NULL, 0, put, out, &err) == 0);
    }
}

static void reports_twice(pstats_stats *s)
{
    buf x = {0}, y = {0};
    reports(s, &x);
    reports(s, &y);
    CHECK(x.len > 0 && x.len == y.len && memcmp(x.p, y.p, x.len) == 0);
    free(x.p);
    free(y.p);
}

static void big_profile(void)
{
    size_t len;
    unsigned char *data = profile_gen(70000, &len);
    CHECK(data != NULL && len >= ((size_t)4 << 20));
    pstats_stats *s = load(data, len, 0, NULL);
    CHECK(pstats_nfuncs(s) == 70000);
    callgrind_twice(s, NULL);
    reports_twice(s);
    pstats_free(s);
    counting c = {0, 0};
    pymarshal_allocator a = {c_malloc, c_realloc, c_free, &c};
    s = load(data, len, 0, &a);
    callgrind_twice(s, &a);
    pstats_free(s);
    CHECK(c.live == 0 && c.calls > 0);
    s = load(data, len, PSTATS_LOAD_NO_EDGES, &a);
    CHECK(pstats_nfuncs(s) == 70000 && !pstats_has_edges(s));
    pstats_free(s);
    free(data);
}

static void forced(const char *dir, const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/profiles/%s", dir, name);
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL);
    buf data = {0};
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        CHECK(put(&data, chunk, n) == 0);
    fclose(f);
    counting c = {0, 0};
    pymarshal_allocator a = {c_malloc, c_realloc, c_free, &c};
    pstats_stats *s = load(data.p, data.len, PS_LOAD_PIPE_ALWAYS, &a);
    pstats_set_load_flags(s, PS_THREADS_ALWAYS);
    callgrind_twice(s, NULL);
    callgrind_twice(s, &a);
    reports_twice(s);
    buf forced = {0}, one = {0};
    reports(s, &forced);
    pstats_free(s);
    s = load(data.p, data.len, 0, NULL);
    reports(s, &one);
    CHECK(forced.len == one.len && memcmp(forced.p, one.p, one.len) == 0);
    free(forced.p);
    free(one.p);
    pstats_free(s);
    CHECK(c.live == 0);
    free(data.p);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: threads_check FIXTURES_DIR\n");
        return 2;
    }
    big_profile();
    forced(argv[1], "mix-cpython3.11-cprofile.prof");
    forced(argv[1], "mix-cpython3.12-cprofile.prof");
    printf("two-thread paths: no difference between runs\n");
    return 0;
}
