/*
 * The callgrind writer tests' shared helpers (callgrind_test_util.h).
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "callgrind_test_util.h"

/* ------------------------------------------------------ marshal builder */

void b_byte(mb *b, int c)
{
    ck_assert_uint_lt(b->n, sizeof b->buf);
    b->buf[b->n++] = (unsigned char)c;
}

void b_i32(mb *b, int32_t v)
{
    uint32_t u = (uint32_t)v;
    for (int i = 0; i < 4; i++)
        b_byte(b, (int)((u >> (8 * i)) & 0xFF));
}

void b_int(mb *b, int32_t v)
{
    b_byte(b, 'i');
    b_i32(b, v);
}

void b_float(mb *b, double d)
{
    uint64_t u;
    memcpy(&u, &d, 8);
    b_byte(b, 'g');
    for (int i = 0; i < 8; i++)
        b_byte(b, (int)((u >> (8 * i)) & 0xFF));
}

/* Python 3 str ('u') when utf8, else Python 2 bytes ('s'). */
void b_str(mb *b, const char *s, size_t len, int utf8)
{
    b_byte(b, utf8 ? 'u' : 's');
    b_i32(b, (int32_t)len);
    for (size_t i = 0; i < len; i++)
        b_byte(b, (unsigned char)s[i]);
}

void b_key(mb *b, const tfunc *f, int utf8)
{
    b_byte(b, ')');
    b_byte(b, 3);
    b_str(b, f->file, f->file_len ? f->file_len : strlen(f->file), utf8);
    b_int(b, f->line);
    b_str(b, f->name, f->name_len ? f->name_len : strlen(f->name), utf8);
}

pstats_stats *model(const tfunc *fs, size_t n, int utf8)
{
    static mb b;
    b.n = 0;
    b_byte(&b, '{');
    for (size_t i = 0; i < n; i++) {
        const tfunc *f = &fs[i];
        b_key(&b, f, utf8);
        b_byte(&b, ')');
        b_byte(&b, 5);
        b_int(&b, f->cc);
        b_int(&b, f->nc);
        b_float(&b, f->tt);
        b_float(&b, f->ct);
        b_byte(&b, '{');
        for (int k = 0; k < f->ncalls; k++) {
            const tcall *c = &f->calls[k];
            b_key(&b, &fs[c->from], utf8);
            if (c->is_int) {
                b_int(&b, c->nc);
                continue;
            }
            b_byte(&b, ')');
            b_byte(&b, 4);
            b_int(&b, c->nc);
            b_int(&b, c->cc);
            b_float(&b, c->tt);
            b_float(&b, c->ct);
        }
        b_byte(&b, '0');
    }
    b_byte(&b, '0');
    pstats_stats *s = pstats_new(NULL);
    pstats_error err;
    ck_assert_ptr_nonnull(s);
    ck_assert_msg(pstats_load_buffer(s, b.buf, b.n, "test", -1, &err) == 0, "load: %s", err.msg);
    return s;
}

/* ------------------------------------------------------ output and parse */

int sink_write(void *ctx, const void *buf, size_t len)
{
    sink *s = ctx;
    if (s->fail_after > 0 && --s->fail_after == 0)
        return -1;
    if (s->len + len + 1 > s->cap) {
        s->cap = (s->len + len + 1) * 2;
        s->p = realloc(s->p, s->cap);
        ck_assert_ptr_nonnull(s->p);
    }
    memcpy(s->p + s->len, buf, len);
    s->len += len;
    s->p[s->len] = '\0';
    return 0;
}

char *convert_opts(pstats_stats *const *parts, size_t n, const pstats_callgrind_options *o)
{
    sink s = {NULL, 0, 0, 0};
    pstats_error err;
    int rc = pstats_write_callgrind((const pstats_stats *const *)parts, n, o, sink_write, &s, &err);
    ck_assert_msg(rc == 0, "write_callgrind: %s", err.msg);
    return s.p;
}

char *convert(pstats_stats *s)
{
    return convert_opts(&s, 1, NULL);
}

const char *name_ref(const char *v, char table[][160], int max)
{
    int id = atoi(v + 1);
    ck_assert_int_gt(id, 0);
    ck_assert_int_lt(id, max);
    const char *sp = strchr(v, ' ');
    if (sp) {
        ck_assert_msg(table[id][0] == '\0', "id %d defined twice", id);
        snprintf(table[id], 160, "%s", sp + 1);
    }
    ck_assert_msg(table[id][0] != '\0', "id %d used before its definition", id);
    return table[id];
}

void parse(const char *text, parsed *p)
{
    static char fl[256][160], fn[256][160];
    memset(p, 0, sizeof *p);
    char cfn[160] = "", *copy = strdup(text), *save = NULL, *line;
    uint64_t count = 0;
    int in_call = 0, part = 0;
    ck_assert_msg(text[strlen(text) - 1] == '\n', "no final LF");
    const char *curfl = "";
    for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        ck_assert_msg(line[strlen(line) - 1] != ' ', "trailing space: %s", line);
        if (strncmp(line, "part: ", 6) == 0) {
            part = atoi(line + 6);
            memset(fl, 0, sizeof fl);
            memset(fn, 0, sizeof fn);
        } else if (strncmp(line, "summary: ", 9) == 0) {
            p->summary = strtoull(line + 9, NULL, 10);
        } else if (strncmp(line, "fl=", 3) == 0) {
            curfl = name_ref(line + 3, fl, 256);
        } else if (strncmp(line, "fn=", 3) == 0) {
            ck_assert_int_lt(p->n, MAXF);
            pfunc *f = &p->f[p->n++];
            snprintf(f->fl, sizeof f->fl, "%s", curfl);
            snprintf(f->fn, sizeof f->fn, "%s", name_ref(line + 3, fn, 256));
            f->part = part;
        } else if (strncmp(line, "cfl=", 4) == 0) {
            name_ref(line + 4, fl, 256);
        } else if (strncmp(line, "cfn=", 4) == 0) {
            snprintf(cfn, sizeof cfn, "%s", name_ref(line + 4, fn, 256));
        } else if (strncmp(line, "calls=", 6) == 0) {
            count = strtoull(line + 6, NULL, 10);
            ck_assert_msg(count > 0, "calls=0");
            in_call = 1;
        } else if (line[0] >= '0' && line[0] <= '9' && p->n > 0) {
            pfunc *f = &p->f[p->n - 1];
            char *end;
            uint64_t pos = strtoull(line, &end, 10), cost = strtoull(end, &end, 10);
            if (in_call) {
                ck_assert_int_lt(f->ncalls, MAXC);
                pcall *c = &f->calls[f->ncalls++];
                snprintf(c->callee, sizeof c->callee, "%s", cfn);
                c->count = count;
                c->cost = cost;
                in_call = 0;
            } else {
                f->line = pos;
                f->self = cost;
                f->calls_event = *end ? strtoull(end, NULL, 10) : 0;
                p->self_sum += cost;
            }
        }
    }
    ck_assert_msg(!in_call, "calls= at the end without its cost line");
    free(copy);
}

const pfunc *find(const parsed *p, const char *fn, int part)
{
    for (int i = 0; i < p->n; i++)
        if (strcmp(p->f[i].fn, fn) == 0 && p->f[i].part == part)
            return &p->f[i];
    ck_abort_msg("no function %s in part %d", fn, part);
    return NULL;
}

uint64_t out_sum(const pfunc *f)
{
    uint64_t s = 0;
    for (int k = 0; k < f->ncalls; k++)
        s += f->calls[k].cost;
    return s;
}

uint64_t in_sum(const parsed *p, const char *fn)
{
    uint64_t s = 0;
    for (int i = 0; i < p->n; i++)
        for (int k = 0; k < p->f[i].ncalls; k++)
            if (strcmp(p->f[i].calls[k].callee, fn) == 0 && strcmp(p->f[i].fn, fn) != 0)
                s += p->f[i].calls[k].cost;
    return s;
}

const pcall *call_to(const pfunc *f, const char *callee)
{
    for (int k = 0; k < f->ncalls; k++)
        if (strcmp(f->calls[k].callee, callee) == 0)
            return &f->calls[k];
    return NULL;
}

pstats_stats *load_fixture(const char *rel)
{
    char path[1024];
    pstats_error err;
    snprintf(path, sizeof path, "%s/%s", CALLGRIND_FIXTURES, rel);
    pstats_stats *s = pstats_new(NULL);
    ck_assert_msg(pstats_load_path(s, path, &err) == 0, "%s: %s", path, err.msg);
    return s;
}

uint64_t ns(double seconds)
{
    return (uint64_t)(seconds * 1e9 + 0.5);
}
