/*
 * What the callgrind writer's unit tests share: a builder of marshal
 * bytes for small profiles (each case states the keys, numbers and edges
 * it needs), a sink, and a parser of the callgrind text the writer made.
 * The graph writers' tests use its fixtures and sink too.
 */
#ifndef CALLGRIND_TEST_UTIL_H
#define CALLGRIND_TEST_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "pstats/pstats.h"

/* ------------------------------------------------------ marshal builder */

typedef struct mb {
    unsigned char buf[16384];
    size_t n;
} mb;

typedef struct tcall {
    int from;          /* index of the caller in the tfunc array */
    int nc, cc;
    double tt, ct;
    int is_int;        /* profile-module int count */
} tcall;

typedef struct tfunc {
    const char *file; size_t file_len;  /* 0: strlen */
    int line;
    const char *name; size_t name_len;
    int cc, nc;
    double tt, ct;
    tcall calls[4];    /* who calls this function */
    int ncalls;
} tfunc;

void b_byte(mb *b, int c);
void b_i32(mb *b, int32_t v);
void b_int(mb *b, int32_t v);
void b_float(mb *b, double d);
/* Python 3 str ('u') when utf8, else Python 2 bytes ('s'). */
void b_str(mb *b, const char *s, size_t len, int utf8);
void b_key(mb *b, const tfunc *f, int utf8);
/* The model of the functions fs[0..n) (loaded from the bytes built). */
pstats_stats *model(const tfunc *fs, size_t n, int utf8);
/* A fixture below test/../fixtures. */
pstats_stats *load_fixture(const char *rel);
/* Seconds as whole nanoseconds, rounded. */
uint64_t ns(double seconds);

/* ------------------------------------------------------ output and parse */

typedef struct sink {
    char *p;
    size_t len, cap;
    int fail_after;    /* > 0: the n-th write fails */
} sink;

#define MAXF 64
#define MAXC 16
typedef struct pcall { char callee[160]; uint64_t count, cost; } pcall;
typedef struct pfunc {
    char fl[160], fn[160];
    uint64_t line, self, calls_event;
    pcall calls[MAXC];
    int ncalls, part;
} pfunc;

typedef struct parsed {
    pfunc f[MAXF];
    int n;
    uint64_t summary, self_sum;
} parsed;

#define PSEUDO "[callee time not recorded in calls]"

/* A pstats_write_fn into a growing string (sink). */
int sink_write(void *ctx, const void *buf, size_t len);
/* The callgrind text of parts[0..n) with options o (malloc'd). */
char *convert_opts(pstats_stats *const *parts, size_t n, const pstats_callgrind_options *o);
char *convert(pstats_stats *s);
/* "fl=(N) name" / "fl=(N)": the name, learning it when given. */
const char *name_ref(const char *v, char table[][160], int max);
void parse(const char *text, parsed *p);
/* The function named fn in part `part` (0: any), or NULL. */
const pfunc *find(const parsed *p, const char *fn, int part);
/* Its outgoing calls' costs; the costs of the calls to fn, all callers. */
uint64_t out_sum(const pfunc *f);
uint64_t in_sum(const parsed *p, const char *fn);
const pcall *call_to(const pfunc *f, const char *callee);

#endif
