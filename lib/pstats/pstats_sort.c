/*
 * sort_stats(): key names and their unique prefixes resolved exactly as
 * Python's get_sort_arg_defs() does, then a stable sort of the dict's keys
 * with Python's comparison semantics (NaN compares neither less nor
 * greater; ints and floats compare exactly).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pstats_internal.h"

/* Fields of Python's sort tuple: (cc, nc, tt, ct, file, line, name, stdname). */
enum { F_CC, F_NC, F_TT, F_CT, F_FILE, F_LINE, F_NAME, F_STD };

typedef struct sortdef {
    const char *word;
    int nfields;
    signed char fields[3][2];   /* field, direction */
    const char *desc;
} sortdef;

/* Python 3.7+'s sort_arg_dict_default, in its dict order. */
static const sortdef defs[] = {
    {"calls", 1, {{F_NC, -1}}, "call count"},
    {"ncalls", 1, {{F_NC, -1}}, "call count"},
    {"cumtime", 1, {{F_CT, -1}}, "cumulative time"},
    {"cumulative", 1, {{F_CT, -1}}, "cumulative time"},
    {"filename", 1, {{F_FILE, 1}}, "file name"},
    {"line", 1, {{F_LINE, 1}}, "line number"},
    {"module", 1, {{F_FILE, 1}}, "file name"},
    {"name", 1, {{F_NAME, 1}}, "function name"},
    {"nfl", 3, {{F_NAME, 1}, {F_FILE, 1}, {F_LINE, 1}}, "name/file/line"},
    {"pcalls", 1, {{F_CC, -1}}, "primitive call count"},
    {"stdname", 1, {{F_STD, 1}}, "standard name"},
    {"time", 1, {{F_TT, -1}}, "internal time"},
    {"tottime", 1, {{F_TT, -1}}, "internal time"},
};
#define NDEFS (sizeof defs / sizeof defs[0])

/* Python 3.15's SampledStats (pstats.py) for sampled models: its own
 * table, set whole, so that only these words are accepted (no prefixes). */
static const sortdef sampled_defs[] = {
    {"samples", 1, {{F_NC, -1}}, "sample count"},
    {"nsamples", 1, {{F_NC, -1}}, "sample count"},
    {"cumtime", 1, {{F_CT, -1}}, "cumulative time"},
    {"cumulative", 1, {{F_CT, -1}}, "cumulative time"},
    {"filename", 1, {{F_FILE, 1}}, "file name"},
    {"line", 1, {{F_LINE, 1}}, "line number"},
    {"module", 1, {{F_FILE, 1}}, "file name"},
    {"name", 1, {{F_NAME, 1}}, "function name"},
    {"nfl", 3, {{F_NAME, 1}, {F_FILE, 1}, {F_LINE, 1}}, "name/file/line"},
    {"psamples", 1, {{F_CC, -1}}, "primitive call count"},
    {"stdname", 1, {{F_STD, 1}}, "standard name"},
    {"time", 1, {{F_TT, -1}}, "internal time"},
    {"tottime", 1, {{F_TT, -1}}, "internal time"},
};

static const sortdef *lookup_sampled(const char *w)
{
    for (size_t d = 0; d < sizeof sampled_defs / sizeof sampled_defs[0]; d++)
        if (strcmp(sampled_defs[d].word, w) == 0)
            return &sampled_defs[d];
    return NULL;
}

/* Python's table of abbreviations: each word adds its prefixes, longest
 * first, until one is already present; that one is ambiguous and removed.
 * Returns the def of `w`, NULL when unknown or ambiguous. */
static const sortdef *lookup(const char *w, int *ambiguous)
{
    enum { MAXF = 128 };
    const char *fw[MAXF];
    size_t fl[MAXF], nf = 0;
    int fd[MAXF];
    size_t wl = strlen(w);
    int bad = 0;
    const sortdef *found = NULL;
    *ambiguous = 0;
    for (size_t d = 0; d < NDEFS; d++) {
        size_t len = strlen(defs[d].word);
        for (size_t l = len; l > 0; l--) {
            int present = 0;
            for (size_t i = 0; i < nf && !present; i++)
                present = fl[i] == l && memcmp(fw[i], defs[d].word, l) == 0;
            if (present) {
                if (l == wl && memcmp(defs[d].word, w, wl) == 0)
                    bad = 1;
                break;
            }
            if (nf < MAXF) {
                fw[nf] = defs[d].word;
                fl[nf] = l;
                fd[nf++] = (int)d;
            }
        }
    }
    for (size_t i = 0; i < nf && !found; i++)
        if (fl[i] == wl && memcmp(fw[i], w, wl) == 0)
            found = &defs[fd[i]];
    if (bad) {
        *ambiguous = 1;
        return NULL;
    }
    return found;
}

int ps_sort_word(const char *w, int fields[3][2], int *nfields, const char **desc,
                 int *ambiguous)
{
    const sortdef *d = lookup(w, ambiguous);
    if (!d)
        return 0;
    for (int f = 0; f < d->nfields; f++) {
        fields[f][0] = d->fields[f][0];
        fields[f][1] = d->fields[f][1];
    }
    *nfields = d->nfields;
    *desc = d->desc;
    return 1;
}

typedef struct sortctx {
    const pstats_stats *s;
    int nf;
    signed char f[32][2];
    const char *lab;      /* stdname labels, one buffer */
    const size_t *loff;   /* nstats + 1 offsets */
    const double *fd[4];  /* a numeric field that holds only floats */
    const int64_t *fi[4]; /* ... or only int64 ints */
} sortctx;

static uint32_t name_str(const pstats_stats *s, const pkey *k)
{
    return k->kkind == PSTATS_KEY_CODE ? s->codes[k->name].name : k->name;
}

static int cmp_field(const sortctx *c, uint32_t a, uint32_t b, int field)
{
    const pstats_stats *s = c->s;
    const pkey *x = &s->keys[a], *y = &s->keys[b];
    switch (field) {
    case F_CC: case F_NC: case F_TT: case F_CT: {
        if (c->fd[field]) {
            double p = c->fd[field][a], q = c->fd[field][b];
            return p < q ? -1 : (p > q ? 1 : 0);
        }
        if (c->fi[field]) {
            int64_t p = c->fi[field][a], q = c->fi[field][b];
            return p < q ? -1 : (p > q);
        }
        int r = pn_cmp(s, pn_get(x->v, x->kinds, field), pn_get(y->v, y->kinds, field));
        return r == 2 ? 0 : r;
    }
    case F_FILE:
        return ps_strcmp(s, x->file, y->file);
    case F_LINE:
        return x->line < y->line ? -1 : (x->line > y->line);
    case F_NAME:
        /* 2.7 compares a code object with a str by type name ('code' <
         * 'str'); Python 3 cannot compare them (TypeError): we take
         * co_name there. */
        if (x->kkind != y->kkind && s->py2)
            return x->kkind == PSTATS_KEY_CODE ? -1 : 1;
        return ps_strcmp(s, name_str(s, x), name_str(s, y));
    default: {
        size_t la = c->loff[a + 1] - c->loff[a], lb = c->loff[b + 1] - c->loff[b];
        size_t n = la < lb ? la : lb;
        int r = n ? memcmp(c->lab + c->loff[a], c->lab + c->loff[b], n) : 0;
        if (r)
            return r < 0 ? -1 : 1;
        return la < lb ? -1 : (la > lb);
    }
    }
}

static int sort_cmp(const void *ctx, uint32_t a, uint32_t b)
{
    const sortctx *c = ctx;
    for (int i = 0; i < c->nf; i++) {
        int r = cmp_field(c, a, b, c->f[i][0]);
        if (r)
            return r * c->f[i][1];
    }
    return 0;
}

static int build_labels(pstats_stats *s, psb *buf, size_t **loff)
{
    *loff = ps_malloc(s, (s->nstats + 1) * sizeof(size_t));
    if (!*loff)
        return -1;
    char *tmp = NULL;
    size_t cap = 0, len;
    for (size_t i = 0; i < s->nstats; i++) {
        (*loff)[i] = buf->len;
        if (ps_label_dyn(s, (uint32_t)i, &tmp, &cap, &len)) {
            ps_free(s, tmp);
            return -1;
        }
        psb_put(buf, tmp, len);
    }
    (*loff)[s->nstats] = buf->len;
    ps_free(s, tmp);
    return buf->oom ? -1 : 0;
}

/* Plain arrays for numeric sort fields of one kind: no generic compare. */
static int fast_fields(sortctx *c, pstats_stats *s, void **bufs)
{
    for (int i = 0; i < c->nf; i++) {
        int f = c->f[i][0];
        if (f > F_CT || c->fd[f] || c->fi[f])
            continue;
        unsigned kinds = 0;
        for (size_t k = 0; k < s->nstats; k++)
            kinds |= 1u << ((s->keys[k].kinds >> (2 * f)) & 3u);
        if (kinds != 1u << PN_FLOAT && kinds != 1u << PN_INT)
            continue;
        void *arr = ps_malloc(s, (s->nstats ? s->nstats : 1) * 8);
        if (!arr)
            return -1;
        bufs[f] = arr;
        for (size_t k = 0; k < s->nstats; k++)
            memcpy((char *)arr + 8 * k, &s->keys[k].v[f], 8);
        if (kinds == 1u << PN_FLOAT)
            c->fd[f] = arr;
        else
            c->fi[f] = arr;
    }
    return 0;
}

/* One numeric key: (value, id) pairs sorted with the comparison inline.
 * Values are exact as doubles (floats, ints below 2^53), negated for a
 * descending key, and kept as unsigned integers in the same order (zeros
 * made one); NaN or big ints make it decline (the generic sort then keeps
 * its own order for values that compare neither way). */
typedef struct vpair {
    uint64_t key;
    uint32_t id;
} vpair;

static uint64_t order_key(double v)
{
    uint64_t u;
    if (v == 0)
        v = 0.0; /* -0.0 == 0.0 */
    memcpy(&u, &v, sizeof u);
    return u >> 63 ? ~u : u | (UINT64_C(1) << 63);
}

/* Stable merge sort of a[0..n) (tmp: room for n); returns a or tmp,
 * whichever holds the result. */
static vpair *vpair_merge_sort(vpair *a, vpair *tmp, size_t n)
{
    const size_t run = 16;
    for (size_t lo = 0; lo < n; lo += run) { /* stable insertion sort of runs */
        size_t hi = lo + run < n ? lo + run : n;
        for (size_t i = lo + 1; i < hi; i++) {
            vpair x = a[i];
            size_t j = i;
            for (; j > lo && a[j - 1].key > x.key; j--)
                a[j] = a[j - 1];
            a[j] = x;
        }
    }
    for (size_t w = run; w < n; w *= 2) { /* stable merges, left first on ties */
        for (size_t lo = 0; lo < n; lo += 2 * w) {
            size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi)
                tmp[k++] = a[j].key < a[i].key ? a[j++] : a[i++];
            while (i < mid)
                tmp[k++] = a[i++];
            while (j < hi)
                tmp[k++] = a[j++];
        }
        vpair *t = a;
        a = tmp;
        tmp = t;
    }
    return a;
}

#define RADIX_BITS 16
#define RADIX_SIZE ((size_t)1 << RADIX_BITS)

/* Stable LSD radix sort, 16 bits a pass, passes where all keys share the
 * digit skipped; hist: 4 * RADIX_SIZE counters. Returns a or tmp. */
static vpair *vpair_radix_sort(vpair *a, vpair *tmp, size_t n, uint32_t *hist)
{
    memset(hist, 0, 4 * RADIX_SIZE * sizeof *hist);
    for (size_t i = 0; i < n; i++)
        for (int d = 0; d < 4; d++)
            hist[(size_t)d * RADIX_SIZE + ((a[i].key >> (RADIX_BITS * d)) & (RADIX_SIZE - 1))]++;
    for (int d = 0; d < 4; d++) {
        uint32_t *h = hist + (size_t)d * RADIX_SIZE;
        unsigned sh = (unsigned)(RADIX_BITS * d);
        if (h[(a[0].key >> sh) & (RADIX_SIZE - 1)] == n)
            continue;
        uint32_t sum = 0;
        for (size_t b = 0; b < RADIX_SIZE; b++) {
            uint32_t c = h[b];
            h[b] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++)
            tmp[h[(a[i].key >> sh) & (RADIX_SIZE - 1)]++] = a[i];
        vpair *t = a;
        a = tmp;
        tmp = t;
    }
    return a;
}

/* Sorting uses both cores from this many functions up: each thread sorts
 * half, then each merges half of the result (the front from the front, the
 * back from the back). */
#define SORT_THREADS_FROM 65536

/* One half of a pair sort: a[from..to) sorted into place (tmp: the same
 * range of scratch; hist: its own counters). */
typedef struct pair_job {
    vpair *a, *tmp;
    uint32_t *hist[2];
    size_t mid, n;
    uint32_t *idx;
} pair_job;

static int pair_half(void *ctx, int half, size_t from, size_t to, const pymarshal_allocator *al)
{
    (void)al;
    pair_job *j = ctx;
    size_t n = to - from;
    vpair *a = j->a + from, *tmp = j->tmp + from;
    const vpair *sorted = j->hist[half] && n >= RADIX_SIZE
                              ? vpair_radix_sort(a, tmp, n, j->hist[half])
                              : vpair_merge_sort(a, tmp, n);
    if (sorted != a)
        memcpy(a, sorted, n * sizeof *a);
    return 0;
}

/* The two sorted halves a[0..mid) and a[mid..n) merged into idx, stably:
 * half 0 writes idx[0..mid) from the front (the left run first on ties),
 * half 1 writes idx[mid..n) from the back (the right run first on ties).
 * The keys are a total order, so the two meet exactly. */
static int pair_merge(void *ctx, int half, size_t from, size_t to, const pymarshal_allocator *al)
{
    (void)al;
    pair_job *j = ctx;
    const vpair *l = j->a, *r = j->a + j->mid;
    size_t nl = j->mid, nr = j->n - j->mid;
    if (half == 0) {
        size_t i = 0, k = 0;
        for (size_t out = from; out < to; out++)
            j->idx[out] = k < nr && (i == nl || r[k].key < l[i].key) ? r[k++].id : l[i++].id;
    } else {
        size_t i = nl, k = nr;
        for (size_t out = to; out > from; out--)
            j->idx[out - 1] =
                i > 0 && (k == 0 || l[i - 1].key > r[k - 1].key) ? l[--i].id : r[--k].id;
    }
    return 0;
}

/* 1: idx holds the order; 0: not a case for pairs; -1: out of memory. */
static int pair_sort(pstats_stats *s, int field, int dir, uint32_t *idx)
{
    size_t n = s->nstats;
    for (size_t k = 0; k < n; k++) {
        pnum x = pn_get(s->keys[k].v, s->keys[k].kinds, field);
        if (x.kind == PN_BIG || (x.kind == PN_FLOAT && isnan(x.u.f)) ||
            (x.kind == PN_INT && (x.u.i > (INT64_C(1) << 53) || x.u.i < -(INT64_C(1) << 53))))
            return 0;
    }
    int threads = n >= SORT_THREADS_FROM || ps_threads_forced(s);
    int radix = n >= RADIX_SIZE; /* below, clearing the counters costs more */
    pair_job j;
    memset(&j, 0, sizeof j);
    j.a = ps_malloc(s, (n ? n : 1) * 2 * sizeof *j.a);
    for (int h = 0; h < (threads ? 2 : 1) && radix; h++)
        j.hist[h] = ps_malloc(s, 4 * RADIX_SIZE * sizeof *j.hist[h]);
    if (!j.a || (radix && (!j.hist[0] || (threads && !j.hist[1])))) {
        ps_free(s, j.a);
        ps_free(s, j.hist[0]);
        ps_free(s, j.hist[1]);
        return -1;
    }
    vpair *a = j.a;
    j.tmp = a + n;
    for (size_t k = 0; k < n; k++) {
        pnum x = pn_get(s->keys[k].v, s->keys[k].kinds, field);
        double v = x.kind == PN_FLOAT ? x.u.f : (double)x.u.i;
        a[k].key = order_key(dir < 0 ? -v : v);
        a[k].id = (uint32_t)k;
    }
    if (threads) {
        j.n = n;
        j.mid = n / 2;
        j.idx = idx;
        cm_halves(pair_half, &j, n, j.mid, 1, NULL);
        cm_halves(pair_merge, &j, n, j.mid, 1, NULL);
    } else {
        const vpair *sorted = radix ? vpair_radix_sort(a, a + n, n, j.hist[0])
                                    : vpair_merge_sort(a, a + n, n);
        for (size_t k = 0; k < n; k++)
            idx[k] = sorted[k].id;
    }
    ps_free(s, j.a);
    ps_free(s, j.hist[0]);
    ps_free(s, j.hist[1]);
    return 1;
}

/* The general sort (any keys, Python's comparisons, which are not a total
 * order when NaNs are involved): the same merges as one ps_merge_sort of
 * the whole (runs of 16, then widths 16, 32, ...), so the result is the
 * same whatever the comparison. With W the last width, [0, W/2) and
 * [W/2, W) + [W, n) are sorted by two threads, then merged as the whole
 * sort's last two levels merge them. */
typedef struct ids_job {
    uint32_t *idx, *tmp;
    size_t w;
    const sortctx *c;
} ids_job;

static int ids_half(void *ctx, int half, size_t from, size_t to, const pymarshal_allocator *al)
{
    (void)al;
    ids_job *j = ctx;
    if (half == 0) {
        ps_merge_sort(j->idx, j->tmp, to, sort_cmp, j->c);
    } else {
        ps_merge_sort(j->idx + from, j->tmp + from, j->w - from, sort_cmp, j->c);
        ps_merge_sort(j->idx + j->w, j->tmp + j->w, to - j->w, sort_cmp, j->c);
    }
    return 0;
}

/* Stable merge of l[0..nl) and r[0..nr) into out, left first unless
 * right < left. out may be r - nl (the right run is never overtaken). */
static void merge_ids(uint32_t *out, const uint32_t *l, size_t nl, const uint32_t *r, size_t nr,
                      const sortctx *c)
{
    size_t i = 0, k = 0, o = 0;
    while (i < nl && k < nr)
        out[o++] = sort_cmp(c, r[k], l[i]) < 0 ? r[k++] : l[i++];
    while (i < nl)
        out[o++] = l[i++];
    while (k < nr)
        out[o++] = r[k++];
}

static void sort_ids(uint32_t *idx, uint32_t *tmp, size_t n, const sortctx *c)
{
    for (size_t i = 0; i < n; i++)
        idx[i] = (uint32_t)i;
    /* (forced for tests from 32 up: the halves need two runs of 16) */
    if (n < SORT_THREADS_FROM && !(n >= 32 && ps_threads_forced(c->s))) {
        ps_merge_sort(idx, tmp, n, sort_cmp, c);
        return;
    }
    size_t w = 16;
    while (2 * w < n)
        w *= 2;
    ids_job j = {idx, tmp, w, c};
    cm_halves(ids_half, &j, n, w / 2, 1, NULL);
    merge_ids(tmp, idx, w / 2, idx + w / 2, w - w / 2, c);
    merge_ids(idx, tmp, w, idx + w, n - w, c);
}

static int nomem(pstats_error *err)
{
    ps_seterr(err, PSTATS_ENOMEM, NULL, 0, 0, "out of memory");
    return -1;
}

static const char *const old_keys[][2] = {
    {"-1", "stdname"}, {"0", "calls"}, {"1", "time"}, {"2", "cumulative"}};

/* Resolve the key words into the comparison fields and the description. */
static int parse_keys(const char *const *keys, size_t nkeys, int sampled, sortctx *c,
                      char *type, size_t tsize, pstats_error *err)
{
    size_t tl = 0;
    type[0] = 0;
    for (size_t i = 0; i < nkeys; i++) {
        const char *w = keys[i];
        if (nkeys == 1)
            for (size_t k = 0; k < 4; k++)
                if (strcmp(w, old_keys[k][0]) == 0)
                    w = old_keys[k][1];
        int amb = 0;
        const sortdef *d = sampled ? lookup_sampled(w) : lookup(w, &amb);
        if (!d && sampled) {
            ps_seterr(err, PSTATS_EUSAGE, NULL, 0, 0,
                      "sort key '%s' is not one of Python 3.15's SampledStats keys for "
                      "sampled data (samples, nsamples, psamples, cumtime, cumulative, "
                      "filename, line, module, name, nfl, stdname, time, tottime; whole "
                      "words, or -1 1 2 alone)",
                      keys[i]);
            return -1;
        }
        if (!d) {
            ps_seterr(err, PSTATS_EUSAGE, NULL, 0, 0,
                      amb ? "ambiguous sort key '%s' (Python's pstats raises KeyError); "
                            "use a longer prefix"
                          : "unknown sort key '%s' (calls, cumulative, cumtime, filename, "
                            "line, module, name, ncalls, nfl, pcalls, stdname, time, "
                            "tottime, a unique prefix, or -1 0 1 2 alone)",
                      keys[i]);
            return -1;
        }
        for (int f = 0; f < d->nfields && c->nf < 32; f++) {
            c->f[c->nf][0] = d->fields[f][0];
            c->f[c->nf++][1] = d->fields[f][1];
        }
        int n = snprintf(type + tl, tsize - tl, "%s%s", i ? ", " : "", d->desc);
        if (n > 0)
            tl = tl + (size_t)n < tsize ? tl + (size_t)n : tsize - 1;
    }
    return 0;
}

int pstats_sort(pstats_stats *s, const char *const *keys, size_t nkeys, pstats_error *err)
{
    pstats_error local;
    if (!err)
        err = &local;
    memset(err, 0, sizeof *err);
    if (nkeys == 0) {
        ps_free(s, s->fcn_list);
        s->fcn_list = NULL;
        return 0;
    }
    sortctx c;
    memset(&c, 0, sizeof c);
    c.s = s;
    char type[sizeof s->sort_type];
    if (parse_keys(keys, nkeys, s->sampled, &c, type, sizeof type, err))
        return -1;
    int need_labels = 0;
    for (int i = 0; i < c.nf; i++)
        need_labels |= c.f[i][0] == F_STD;
    size_t n = s->nstats;
    uint32_t *idx = ps_malloc(s, (n ? n : 1) * sizeof(uint32_t));
    uint32_t *tmp = ps_malloc(s, (n ? n : 1) * sizeof(uint32_t));
    psb lab;
    psb_init(&lab, s);
    size_t *loff = NULL;
    void *bufs[4] = {NULL, NULL, NULL, NULL};
    int rc = (!idx || !tmp || (need_labels && build_labels(s, &lab, &loff))) ? -1 : 0;
    int done = 0;
    if (rc == 0 && c.nf == 1 && c.f[0][0] <= F_CT) {
        done = pair_sort(s, c.f[0][0], c.f[0][1], idx);
        rc = done < 0 ? -1 : 0;
    }
    if (rc == 0 && !done) {
        c.lab = lab.p;
        c.loff = loff;
        rc = fast_fields(&c, s, bufs);
    }
    if (rc == 0 && !done)
        sort_ids(idx, tmp, n, &c);
    if (rc == 0) { /* only now: a failed sort keeps the order there was */
        ps_free(s, s->fcn_list);
        s->fcn_list = idx;
        idx = NULL;
        memcpy(s->sort_type, type, sizeof type);
    }
    for (int i = 0; i < 4; i++)
        ps_free(s, bufs[i]);
    ps_free(s, idx);
    ps_free(s, tmp);
    ps_free(s, loff);
    psb_free(&lab);
    return rc ? nomem(err) : 0;
}
