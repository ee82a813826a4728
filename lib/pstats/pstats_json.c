/*
 * The model as JSON (docs/json.md; schema docs/pstats.schema.json):
 * streamed function by function through a 64 KB buffer, so that memory
 * stays bounded whatever the profile's size. Numbers are Python's: ints
 * exact (any size), floats as repr() prints them.
 */
#include <string.h>

#include "pstats_jsonout.h"

static void put_field_num(jout *o, const char *key, const pstats_stats *s, pnum a)
{
    jo_lit(o, ", \"");
    jo_lit(o, key);
    jo_lit(o, "\": ");
    jo_num(o, s, a);
}

static void put_header(jout *o, const pstats_stats *s)
{
    double interval;
    int has_interval = pstats_sample_interval(s, &interval);
    jo_lit(o, "{\"format\": \"pstats-json\", \"version\": ");
    jo_i64(o, PSTATS_JSON_VERSION);
    jo_lit(o, ",\n \"counts\": ");
    jo_lit(o, s->sampled ? "\"samples\"" : "\"calls\"");
    jo_lit(o, ", \"sample_interval\": ");
    if (has_interval)
        jo_double(o, interval);
    else
        jo_lit(o, "null");
    jo_lit(o, s->py2 ? ", \"python2\": true" : ", \"python2\": false");
    jo_lit(o, ",\n \"inputs\": [");
    for (size_t i = 0; i < s->ninputs; i++) {
        const pinput *in = &s->inputs[i];
        jo_lit(o, i ? ", {" : "{");
        jo_str_field(o, "name", (const uint8_t *)in->name, strlen(in->name));
        jo_lit(o, ", \"mtime\": ");
        if (in->has_mtime)
            jo_i64(o, (int64_t)in->mtime);
        else
            jo_lit(o, "null");
        jo_lit(o, "}");
    }
    jo_lit(o, "],\n \"totals\": {\"total_calls\": ");
    jo_num(o, s, s->total_calls);
    put_field_num(o, "prim_calls", s, s->prim_calls);
    put_field_num(o, "total_tt", s, s->total_tt);
    jo_lit(o, "},\n");
}

/* A key's identity: file, line, name (and a code object's fields). */
static void put_key(jout *o, const pstats_stats *s, uint32_t id, char **lab, size_t *cap)
{
    const pkey *k = &s->keys[id];
    const pstr *f = &s->strs[k->file];
    jo_lit(o, "{\"id\": ");
    jo_i64(o, id);
    jo_lit(o, ", ");
    jo_str_field(o, "file", f->p, f->len);
    jo_lit(o, ", \"line\": ");
    jo_i64(o, k->line);
    jo_lit(o, ", ");
    if (k->kkind == PSTATS_KEY_CODE) {
        const pcode *c = &s->codes[k->name];
        const pstr *n = &s->strs[c->name], *cf = &s->strs[c->filename];
        jo_str_field(o, "name", n->p, n->len);
        jo_lit(o, ", \"code\": {");
        jo_str_field(o, "filename", cf->p, cf->len);
        jo_lit(o, ", \"firstlineno\": ");
        jo_i64(o, c->firstlineno);
        jo_lit(o, "}");
    } else {
        const pstr *n = &s->strs[k->name];
        jo_str_field(o, "name", n->p, n->len);
    }
    jo_lit(o, ", \"label\": ");
    jo_label(o, s, id, lab, cap);
}

static void put_caller(jout *o, const pstats_stats *s, const pedge_s *es, int first)
{
    pedge e;
    pe_get(s, es, &e);
    jo_lit(o, first ? "{\"id\": " : ", {\"id\": ");
    jo_i64(o, e.caller);
    if (e.kind == PSTATS_EDGE_INT) {
        put_field_num(o, "count", s, pn_get(e.v, e.kinds, 0));
    } else {
        put_field_num(o, "nc", s, pn_get(e.v, e.kinds, 0));
        put_field_num(o, "cc", s, pn_get(e.v, e.kinds, 1));
        put_field_num(o, "tt", s, pn_get(e.v, e.kinds, 2));
        put_field_num(o, "ct", s, pn_get(e.v, e.kinds, 3));
    }
    jo_lit(o, "}");
}

static void put_function(jout *o, const pstats_stats *s, uint32_t id, char **lab, size_t *cap)
{
    const pkey *k = &s->keys[id];
    jo_lit(o, id ? ",\n  " : "\n  ");
    put_key(o, s, id, lab, cap);
    put_field_num(o, "cc", s, pn_get(k->v, k->kinds, 0));
    put_field_num(o, "nc", s, pn_get(k->v, k->kinds, 1));
    put_field_num(o, "tt", s, pn_get(k->v, k->kinds, 2));
    put_field_num(o, "ct", s, pn_get(k->v, k->kinds, 3));
    jo_lit(o, (k->flags & KF_TOP) ? ", \"top\": true, \"callers\": [" : ", \"callers\": [");
    for (uint32_t e = 0; e < k->nedges; e++)
        put_caller(o, s, &s->edges[k->edge_start + e], e == 0);
    jo_lit(o, "]}");
}

int pstats_write_json(const pstats_stats *s, pstats_write_fn write, void *ctx,
                      pstats_error *err)
{
    if (err)
        memset(err, 0, sizeof *err);
    if (!s || !write) {
        ps_seterr(err, PSTATS_EUSAGE, NULL, 0, 0, "pstats_write_json: no model or no sink");
        return -1;
    }
    if (ps_need_edges(s, "pstats_write_json", err))
        return -1;
    jout *o = ps_malloc((pstats_stats *)s, sizeof *o);
    if (!o) {
        ps_seterr(err, PSTATS_ENOMEM, NULL, 0, 0, "out of memory");
        return -1;
    }
    jo_init(o, write, ctx);
    char *lab = NULL;
    size_t cap = 0;
    put_header(o, s);
    jo_lit(o, " \"functions\": [");
    for (size_t i = 0; i < s->nstats && !o->failed && !o->oom; i++)
        put_function(o, s, (uint32_t)i, &lab, &cap);
    jo_lit(o, "],\n \"callers_only\": [");
    for (size_t i = s->nstats; i < s->nkeys && !o->failed && !o->oom; i++) {
        jo_lit(o, i > s->nstats ? ",\n  " : "\n  ");
        put_key(o, s, (uint32_t)i, &lab, &cap);
        jo_lit(o, "}");
    }
    jo_lit(o, "]}\n");
    ps_free((pstats_stats *)s, lab);
    int rc = jo_finish(o, err, "the JSON output");
    ps_free((pstats_stats *)s, o);
    return rc;
}
