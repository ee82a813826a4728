/*
 * pstats_diff: two models side by side, function by function. Functions are
 * paired by their key as Python's dict pairs them ((file, line, name) equal;
 * code-object keys by co_name, co_filename and co_firstlineno, as
 * pstats_add merges them). Rows: before's functions in its dict order,
 * then those only after has, in its order. The sort keys are Python's
 * (with its prefixes) read as changes (docs/user-guide.md, "Comparing two
 * runs"): a measure sorts by the size of its change, KEY% by the relative
 * change, +KEY / -KEY by the signed change (largest increase / decrease
 * first); names sort as in Python.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "pstats_diff.h"

/* ------------------------------------------------------------- building */

static uint32_t import_str(pstats_stats *u, const pstats_stats *src, uint32_t id)
{
    return ps_intern(u, src->strs[id].p, src->strs[id].len, 0, 0);
}

/* The key of src's function id in u (added when new). */
static uint32_t import_key(pstats_stats *u, const pstats_stats *src, uint32_t id, int *isnew)
{
    const pkey *k = &src->keys[id];
    uint32_t file = import_str(u, src, k->file), name;
    if (file == UINT32_MAX)
        return UINT32_MAX;
    if (k->kkind == PSTATS_KEY_CODE) {
        const pcode *c = &src->codes[k->name];
        uint32_t cn = import_str(u, src, c->name), cf = import_str(u, src, c->filename);
        if (cn == UINT32_MAX || cf == UINT32_MAX)
            return UINT32_MAX;
        /* A diff pairs code objects by name, file and first line (two runs
         * may come from different Pythons, whose code objects never compare
         * equal): the digest stands for that triple here. */
        pcode nc = *c;
        uint64_t x = ((uint64_t)cn << 32 | cf) * 0x9E3779B97F4A7C15ull ^ (uint64_t)c->firstlineno;
        x ^= x >> 31;
        x *= 0xBF58476D1CE4E5B9ull;
        nc.digest = x ^ x >> 29 ^ (uint64_t)c->firstlineno << 1;
        nc.name = cn;
        nc.filename = cf;
        nc.identity = 0;
        name = ps_code(u, &nc);
    } else {
        name = import_str(u, src, k->name);
    }
    if (name == UINT32_MAX)
        return UINT32_MAX;
    return ps_key(u, file, k->line, name, k->kkind, isnew);
}

static int grow_rows(pstats_diff *d, size_t need, size_t *cap)
{
    size_t c1 = *cap;
    if (ps_grow(d->u, (void **)&d->bid, &c1, need, sizeof(uint32_t)))
        return -1;
    size_t c2 = *cap;
    if (ps_grow(d->u, (void **)&d->aid, &c2, c1, sizeof(uint32_t)))
        return -1;
    *cap = c1 < c2 ? c1 : c2;
    return 0;
}

static int build_rows(pstats_diff *d)
{
    size_t cap = 0;
    const pstats_stats *side[2] = {d->before, d->after};
    for (int sd = 0; sd < 2; sd++) {
        const pstats_stats *src = side[sd];
        for (size_t i = 0; i < src->nstats; i++) {
            int isnew;
            uint32_t k = import_key(d->u, src, (uint32_t)i, &isnew);
            if (k == UINT32_MAX || grow_rows(d, d->u->nkeys, &cap))
                return -1;
            if (isnew) {
                d->bid[k] = d->aid[k] = UINT32_MAX;
                d->u->keys[k].flags |= KF_STATS;
            }
            (sd ? d->aid : d->bid)[k] = (uint32_t)i;
        }
    }
    d->nrows = d->u->nkeys;
    d->u->nstats = d->nrows;
    d->order = ps_malloc(d->u, (d->nrows ? d->nrows : 1) * sizeof(uint32_t));
    if (!d->order)
        return -1;
    for (size_t r = 0; r < d->nrows; r++)
        d->order[r] = (uint32_t)r;
    return 0;
}

pstats_diff *pstats_diff_new(const pstats_stats *before, const pstats_stats *after,
                             pstats_error *err)
{
    pstats_error local;
    if (!err)
        err = &local;
    memset(err, 0, sizeof *err);
    if (!before || !after) {
        ps_seterr(err, PSTATS_EUSAGE, NULL, 0, 0, "pstats_diff_new: a model is NULL");
        return NULL;
    }
    pstats_stats *u = pstats_new(&before->alc);
    pstats_diff *d = u ? ps_malloc(u, sizeof *d) : NULL;
    if (!d) {
        pstats_free(u);
        ps_seterr(err, PSTATS_ENOMEM, NULL, 0, 0, "out of memory");
        return NULL;
    }
    memset(d, 0, sizeof *d);
    d->before = before;
    d->after = after;
    d->u = u;
    u->py2 = before->py2 || after->py2;
    u->pypy = before->pypy || after->pypy;
    if (build_rows(d)) {
        pstats_diff_free(d);
        ps_seterr(err, PSTATS_ENOMEM, NULL, 0, 0, "out of memory");
        return NULL;
    }
    snprintf(d->sort_type, sizeof d->sort_type, "%s", "file order (before's, then after's)");
    return d;
}

void pstats_diff_free(pstats_diff *d)
{
    if (!d)
        return;
    pstats_stats *u = d->u;
    ps_free(u, d->bid);
    ps_free(u, d->aid);
    ps_free(u, d->order);
    ps_free(u, d);
    pstats_free(u);
}

/* ---------------------------------------------------------------- values */

pnum pd_value(const pstats_diff *d, size_t r, int side, int field)
{
    const pstats_stats *s = side ? d->after : d->before;
    uint32_t id = side ? d->aid[r] : d->bid[r];
    if (id == UINT32_MAX)
        return pn_int(0);
    const pkey *k = &s->keys[id];
    return pn_get(k->v, k->kinds, field);
}

double pd_delta(const pstats_diff *d, size_t r, int field)
{
    int64_t i;
    if (pd_delta_int(d, r, field, &i))
        return (double)i;
    return pn_double(d->after, pd_value(d, r, 1, field)) -
           pn_double(d->before, pd_value(d, r, 0, field));
}

double pd_percent(const pstats_diff *d, size_t r, int field)
{
    double b = pn_double(d->before, pd_value(d, r, 0, field)), x = pd_delta(d, r, field);
    if (b == 0)
        return x == 0 ? NAN : (x > 0 ? INFINITY : -INFINITY);
    return 100.0 * x / fabs(b);
}

int pd_delta_int(const pstats_diff *d, size_t r, int field, int64_t *out)
{
    pnum a = pd_value(d, r, 1, field), b = pd_value(d, r, 0, field);
    if (a.kind != PN_INT || b.kind != PN_INT)
        return 0;
    return !__builtin_sub_overflow(a.u.i, b.u.i, out);
}

int pd_delta_num(pstats_diff *d, size_t r, int field, pnum *out)
{
    pnum a = pd_value(d, r, 1, field), b = pd_value(d, r, 0, field), ai, bi;
    int64_t i;
    if (pd_delta_int(d, r, field, &i)) {
        *out = pn_int(i);
        return 0;
    }
    if (a.kind == PN_FLOAT || b.kind == PN_FLOAT) {
        *out = pn_float(pd_delta(d, r, field));
        return 0;
    }
    if (pn_import(d->u, d->after, a, &ai) || pn_import(d->u, d->before, b, &bi))
        return -1;
    if (bi.kind == PN_BIG) { /* a fresh copy in u: negated in place */
        d->u->bigs[bi.u.big].neg ^= 1;
    } else if (bi.u.i == INT64_MIN) { /* a - INT64_MIN = a + INT64_MAX + 1 */
        if (pn_add(d->u, ai, pn_int(INT64_MAX), &ai))
            return -1;
        bi = pn_int(1);
    } else {
        bi.u.i = -bi.u.i;
    }
    return pn_add(d->u, ai, bi, out);
}

pstats_diff_status pd_status(const pstats_diff *d, size_t r)
{
    if (d->bid[r] == UINT32_MAX)
        return PSTATS_DIFF_ADDED;
    if (d->aid[r] == UINT32_MAX)
        return PSTATS_DIFF_REMOVED;
    for (int f = 0; f < 4; f++) {
        pnum a = pd_value(d, r, 1, f), b = pd_value(d, r, 0, f);
        if (a.kind != b.kind || (a.kind == PN_BIG ? pn_cmp(d->after, a, b) != 0
                                                  : a.u.i != b.u.i))
            return PSTATS_DIFF_CHANGED;
    }
    return PSTATS_DIFF_SAME;
}

size_t pstats_diff_nrows(const pstats_diff *d) { return d->nrows; }

void pstats_diff_row_get(const pstats_diff *d, size_t k, pstats_diff_row *out)
{
    memset(out, 0, sizeof *out);
    if (k >= d->nrows)
        return;
    size_t r = d->order[k];
    out->status = pd_status(d, r);
    out->before = d->bid[r];
    out->after = d->aid[r];
    for (int f = 0; f < 4; f++) {
        out->delta[f] = pd_delta(d, r, f);
        out->percent[f] = pd_percent(d, r, f);
    }
}

size_t pstats_diff_label(const pstats_diff *d, size_t k, char *buf, size_t size)
{
    if (k >= d->nrows) {
        if (size)
            buf[0] = 0;
        return 0;
    }
    return ps_label(d->u, d->order[k], buf, size);
}

int pd_list(pstats_diff *d, const pstats_restriction *r, size_t nr, uint32_t **list,
            size_t *n, psb *msg)
{
    *n = d->nrows;
    *list = ps_malloc(d->u, (*n ? *n : 1) * sizeof(uint32_t));
    if (!*list)
        return -1;
    memcpy(*list, d->order, *n * sizeof(uint32_t));
    psb_puts(msg, "   Ordered by: ");
    psb_puts(msg, d->sort_type);
    psb_puts(msg, "\n");
    if (ps_restrict(d->u, r, nr, *list, n, msg)) {
        ps_free(d->u, *list);
        *list = NULL;
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ sort */

enum { MODE_ABS, MODE_UP, MODE_DOWN };
enum { F_CC, F_NC, F_TT, F_CT, F_FILE, F_LINE, F_NAME, F_STD };

typedef struct dkey {
    int field, dir;       /* Python's field and direction (names) */
    int mode, rel;        /* measures: how the change is read */
} dkey;

typedef struct dsort {
    const pstats_diff *d;
    dkey k[32];
    int nk;
    double *val[32];      /* measures: the value sorted on, per row (descending) */
    char *lab;            /* stdname: labels */
    size_t *loff;
} dsort;

static const char *const old_keys[][2] = {
    {"-1", "stdname"}, {"0", "calls"}, {"1", "time"}, {"2", "cumulative"}};
static const char *const sample_words[][2] = {
    {"samples", "calls"}, {"nsamples", "calls"}, {"psamples", "pcalls"}};

/* One word into keys; its description appended to type. */
static int parse_word(const char *word, int alone, dsort *c, char *type, size_t tsize,
                      pstats_error *err)
{
    char w[128];
    int mode = MODE_ABS, rel = 0;
    const char *p = word;
    for (size_t k = 0; alone && k < 4; k++)
        if (strcmp(p, old_keys[k][0]) == 0)
            p = old_keys[k][1];
    if ((p[0] == '+' || p[0] == '-') && p[1] && !(p[1] >= '0' && p[1] <= '9')) {
        mode = p[0] == '+' ? MODE_UP : MODE_DOWN;
        p++;
    }
    snprintf(w, sizeof w, "%s", p);
    size_t wl = strlen(w);
    if (wl > 1 && w[wl - 1] == '%') {
        rel = 1;
        w[--wl] = 0;
    }
    for (size_t k = 0; k < 3; k++)
        if (strcmp(w, sample_words[k][0]) == 0)
            snprintf(w, sizeof w, "%s", sample_words[k][1]);
    int fields[3][2], nf, amb;
    const char *desc;
    if (!ps_sort_word(w, fields, &nf, &desc, &amb)) {
        ps_seterr(err, PSTATS_EUSAGE, NULL, 0, 0,
                  amb ? "ambiguous sort key '%s' (Python's pstats raises KeyError); use a "
                        "longer prefix"
                      : "unknown sort key '%s' for a diff (calls, pcalls, time, cumulative "
                        "and their prefixes, each as KEY, KEY%%, +KEY, -KEY; or filename, "
                        "line, name, nfl, stdname)",
                  word);
        return -1;
    }
    int measure = nf == 1 && fields[0][0] <= F_CT;
    if (!measure && (mode != MODE_ABS || rel)) {
        ps_seterr(err, PSTATS_EUSAGE, NULL, 0, 0,
                  "sort key '%s': +, - and %% apply to calls, pcalls, time and cumulative",
                  word);
        return -1;
    }
    for (int f = 0; f < nf && c->nk < 32; f++) {
        dkey *k = &c->k[c->nk++];
        k->field = fields[f][0];
        k->dir = fields[f][1];
        k->mode = mode;
        k->rel = rel;
    }
    static const char *const how[2][3] = {
        {"change of ", "increase of ", "decrease of "},
        {"relative change of ", "relative increase of ", "relative decrease of "}};
    if (c->d->before->sampled || c->d->after->sampled)
        desc = strcmp(desc, "call count") == 0 ? "sample count" : desc; /* as 3.15 says */
    size_t tl = strlen(type);
    snprintf(type + tl, tsize - tl, "%s%s%s", tl ? ", " : "", measure ? how[rel][mode] : "",
             desc);
    return 0;
}

/* The value a measure key sorts on, descending; NaN sorts last. */
static double sort_value(const pstats_diff *d, size_t r, const dkey *k)
{
    double x = k->rel ? pd_percent(d, r, k->field) : pd_delta(d, r, k->field);
    if (isnan(x))
        return k->mode == MODE_ABS ? 0 : -INFINITY;
    if (k->mode == MODE_ABS)
        return fabs(x);
    return k->mode == MODE_UP ? x : -x;
}

static int name_cmp(const dsort *c, uint32_t a, uint32_t b, int field)
{
    const pstats_stats *u = c->d->u;
    const pkey *x = &u->keys[a], *y = &u->keys[b];
    if (field == F_FILE)
        return ps_strcmp(u, x->file, y->file);
    if (field == F_LINE)
        return x->line < y->line ? -1 : (x->line > y->line);
    if (field == F_NAME) {
        uint32_t nx = x->kkind == PSTATS_KEY_CODE ? u->codes[x->name].name : x->name;
        uint32_t ny = y->kkind == PSTATS_KEY_CODE ? u->codes[y->name].name : y->name;
        return ps_strcmp(u, nx, ny);
    }
    size_t la = c->loff[a + 1] - c->loff[a], lb = c->loff[b + 1] - c->loff[b];
    int r = memcmp(c->lab + c->loff[a], c->lab + c->loff[b], la < lb ? la : lb);
    if (r)
        return r < 0 ? -1 : 1;
    return la < lb ? -1 : (la > lb);
}

static int dsort_cmp(const void *ctx, uint32_t a, uint32_t b)
{
    const dsort *c = ctx;
    for (int i = 0; i < c->nk; i++) {
        const dkey *k = &c->k[i];
        int r;
        if (c->val[i]) {
            double p = c->val[i][a], q = c->val[i][b];
            r = p > q ? -1 : (p < q);
        } else {
            r = name_cmp(c, a, b, k->field) * k->dir;
        }
        if (r)
            return r;
    }
    return 0;
}

static int labels(dsort *c, pstats_stats *u)
{
    psb buf;
    psb_init(&buf, u);
    c->loff = ps_malloc(u, (u->nstats + 1) * sizeof(size_t));
    char *tmp = NULL;
    size_t cap = 0, len;
    int rc = c->loff ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < u->nstats; i++) {
        c->loff[i] = buf.len;
        rc = ps_label_dyn(u, (uint32_t)i, &tmp, &cap, &len);
        if (rc == 0)
            psb_put(&buf, tmp, len);
    }
    if (c->loff)
        c->loff[u->nstats] = buf.len;
    ps_free(u, tmp);
    c->lab = buf.p;
    return rc || buf.oom ? -1 : 0;
}

int pstats_diff_sort(pstats_diff *d, const char *const *keys, size_t nkeys, pstats_error *err)
{
    static const char *const dflt[] = {"cumulative"};
    pstats_error local;
    if (!err)
        err = &local;
    memset(err, 0, sizeof *err);
    if (nkeys == 0) {
        keys = dflt;
        nkeys = 1;
    }
    dsort c;
    memset(&c, 0, sizeof c);
    c.d = d;
    char type[sizeof d->sort_type] = "";
    for (size_t i = 0; i < nkeys; i++)
        if (parse_word(keys[i], nkeys == 1, &c, type, sizeof type, err))
            return -1;
    pstats_stats *u = d->u;
    size_t n = d->nrows;
    uint32_t *tmp = ps_malloc(u, (n ? n : 1) * sizeof(uint32_t));
    int rc = tmp ? 0 : -1;
    for (int i = 0; rc == 0 && i < c.nk; i++) {
        if (c.k[i].field > F_CT) {
            if (c.k[i].field == F_STD && !c.lab && labels(&c, u))
                rc = -1;
            continue;
        }
        if (!(c.val[i] = ps_malloc(u, (n ? n : 1) * sizeof(double))))
            rc = -1;
        for (size_t r = 0; rc == 0 && r < n; r++)
            c.val[i][r] = sort_value(d, r, &c.k[i]);
    }
    if (rc == 0) {
        for (size_t r = 0; r < n; r++)
            d->order[r] = (uint32_t)r;
        ps_merge_sort(d->order, tmp, n, dsort_cmp, &c);
        memcpy(d->sort_type, type, sizeof type);
    }
    for (int i = 0; i < c.nk; i++)
        ps_free(u, c.val[i]);
    ps_free(u, c.lab);
    ps_free(u, c.loff);
    ps_free(u, tmp);
    if (rc)
        ps_seterr(err, PSTATS_ENOMEM, NULL, 0, 0, "out of memory");
    return rc;
}
