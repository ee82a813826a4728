/*
 * lib/pstats: the pstats data model (half of libpstats; the other half is
 * the callgrind writer in lib/callgrind/). This header is the layer's
 * private view of the model, shared by all its files; not installed (the
 * public view is include/pstats/pstats.h).
 *
 *   pstats_open.c          pstats_load_path / _fd / _buffer: a load's entry
 *   pstats_load.c          the load's driver: names foreign files
 *                          (pstats_sniff.c), chooses the path, finishes
 *   pstats_load_fast.c     the fast path (pstats_pipe.c: its two threads;
 *                          pstats_fast_str.c its strings, pstats_fast_code.c
 *                          its code objects, pstats_fast_build.c its
 *                          builder, pstats_fast.h what they share)
 *   pstats_load_general.c  the general path, over libpymarshal's tokens
 *   pstats_input.c/.h      the input's bytes, read as the loaders ask, and
 *                          decompressed (pstats_unzip.c/.h): a leaf every
 *                          step may call
 *   pstats_build.c         ids in dict order, edges by callee, views
 *   pstats_model.c         storage: strings, keys, edges, the allocator
 *   pstats_num.c           Python's numbers (int64, float, big ints)
 *   pstats_code.c          code-object keys compared as Python compares them
 *   pstats_merge.c         Stats.add, strip_dirs
 *   pstats_paths.c         pstats_map_paths (file names of another machine)
 *   pstats_sort.c          sort_stats
 *   pstats_sampled.c       Python 3.15's sampling profiler's files
 *   pstats_access.c        labels and the public read-only accessors
 *   pstats_report.c        print_stats / print_callers / print_callees
 *   pstats_cycles.c        the call graph's strongly connected components
 *   pstats_prune.c         negligible functions folded into [other]
 *   pstats_diff.c          two models side by side (pstats_diff_out.c: the
 *                          report and JSON of it)
 *   pstats_json.c          the model as JSON (pstats_jsonout.c/.h: the sink)
 *   pstats_writer.c        dump_stats (a marshal file)
 *
 * A load runs forward: open -> load (driver) -> fast or general path ->
 * build; no step calls back into an earlier one.
 *
 * May include: lib/common/ (common.h), the public headers (pstats/pstats.h and
 * pstats/marshal.h, libpymarshal's API), the C library and POSIX, and the
 * distribution's libraries it links (xxhash, pcre2; zlib, libzstd, liblzma
 * and libbz2 in pstats_unzip.c alone). Not
 * libpymarshal's private headers, nor lib/callgrind/'s or lib/graph/'s;
 * lib/callgrind/ may include this header (it reads the model; lib/graph/
 * needs only the public API), never the other way round.
 */
#ifndef PSTATS_INTERNAL_H
#define PSTATS_INTERNAL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "common.h" /* allocation, byte access, UTF-8 (lib/common/) */
#include "pstats/pstats.h"

/* ------------------------------------------------------------- numbers */

/* A Python number as the model keeps it: an int that fits int64, a float,
 * or an index into the model's table of big ints. Stored as 8 raw bytes
 * plus a 2-bit kind. */
enum { PN_INT = 0, PN_FLOAT = 1, PN_BIG = 2 };

typedef struct pnum {
    uint8_t kind;
    union { int64_t i; double f; uint32_t big; } u;
} pnum;

typedef struct pbig {       /* sign and magnitude, base 2^32 limbs */
    uint32_t off, nlimbs;   /* into pstats_stats.limbs */
    uint8_t neg;
} pbig;

/* ----------------------------------------------------------------- model */

typedef struct pstr {         /* 16 bytes: str and bytes are one key (Python 2) */
    const uint8_t *p;
    uint32_t len, hash;
} pstr;

typedef struct pcode {        /* a code object used as a key's third item */
    uint32_t name, filename;  /* string ids */
    int64_t firstlineno;
    uint64_t digest;          /* of what code_richcompare compares (pstats_code.c);
                               * with identity, its made-up printed address */
    uint32_t identity;        /* 0, or the input (+1) whose objects it holds that
                                 only equal themselves (a NaN, a list) */
    uint8_t layout;           /* pymarshal_code_layout: the writer writes it back */
} pcode;

enum { KF_STATS = 1, KF_TOP = 2 };

typedef struct pkey {
    uint32_t file, name;      /* string ids; name is a pcode index for CODE keys */
    int64_t line;
    uint64_t v[4];            /* cc nc tt ct, raw pnum payloads */
    uint32_t edge_start, nedges;
    uint8_t kinds;            /* 2 bits per field of v */
    uint8_t kkind;            /* pstats_key_kind */
    uint8_t flags;            /* KF_* */
    uint32_t hash;            /* its hash (ps_key_hash): rehashing reads no strings */
} pkey;

/* An edge with all its numbers: the working form. */
typedef struct pedge {
    uint32_t caller;          /* key id */
    uint8_t kinds;
    uint8_t kind;             /* pstats_edge_kind */
    uint64_t v[4];            /* nc cc tt ct (INT edges: v[0] only) */
} pedge;

/* An edge as stored: 24 bytes. The common shapes are packed in `w`: an int
 * count below 2^30 (EW_INT), or a tuple whose nc == cc < 2^29 and whose
 * times are floats (tt, ct in a, b). Anything else is EW_WIDE: w's low 31
 * bits index the model's table of full edges. */
typedef struct pedge_s {
    uint32_t caller;
    uint32_t w;
    uint64_t a, b;
} pedge_s;
#define EW_WIDE 0x80000000u
/* INT edges use only field 0's kind bits; this one says the count was a
 * Python 2 long (marshal 'l'), which 2.7 prints with an L. */
#define PK_PY2LONG 0x04u
#define EW_INT 0x40000000u

typedef struct pinput {
    char *name;
    time_t mtime;
    int has_mtime;
} pinput;

typedef struct pmap {         /* input bytes the model's strings point into */
    void *addr;
    size_t len;
    int is_mmap;
} pmap;

typedef struct pchunk {
    struct pchunk *next;
    size_t used, cap;
    /* bytes follow */
} pchunk;

struct pstats_stats {
    pymarshal_allocator alc;

    pstr *strs; size_t nstrs, cap_strs;
    uint64_t *str_slots; size_t str_mask;   /* open addressing: hash << 32 | id+1 */

    pkey *keys; size_t nkeys, cap_keys;
    size_t nstats;                          /* keys 0..nstats-1 are the dict */
    uint64_t *key_slots; size_t key_mask;

    pedge_s *edges; size_t nedges, cap_edges;
    pedge *wedges; size_t nwedges, cap_wedges;   /* edges that do not pack */
    pcode *codes; size_t ncodes, cap_codes;
    uint32_t *code_slots; size_t code_mask;      /* codes by digest: index + 1 */

    uint32_t *limbs; size_t nlimbs, cap_limbs;
    pbig *bigs; size_t nbigs, cap_bigs;

    pchunk *arena;
    pmap *maps; size_t nmaps, cap_maps;
    pinput *inputs; size_t ninputs, cap_inputs;

    pnum total_calls, prim_calls, total_tt;
    size_t max_name_len;  /* PS_WIDTH_UNKNOWN until a report needs it */
    int py2;        /* written by Python 2: strings are bytes, 2.7 layout */
    int pypy;       /* code objects print as PyPy prints them (16 hex digits) */
    int sampled;    /* held Python 3.15's ('__sampled__',) marker */
    unsigned load_flags; /* PSTATS_LOAD_*: a setting of the handle, kept by ps_clear */
    int no_edges;   /* loaded (or merged with a model loaded) without edges */

    uint32_t *fcn_list;  /* sorted stats ids, NULL: not sorted */
    char sort_type[256];

    uint32_t *callee_off, *callee_edge; /* callees view, built on demand */
    uint32_t *callee_src;               /* the callee of each callee_edge entry */
    uint32_t *rank;                     /* key order by (file, line, name) */
};

/* ---------------------------------------------------------------- memory */

void *ps_malloc(pstats_stats *s, size_t n);
void *ps_realloc(pstats_stats *s, void *p, size_t n);
void ps_free(pstats_stats *s, void *p);
/* Grow *arr (of elsize-byte items, capacity *cap) to hold `need` items. */
int ps_grow(pstats_stats *s, void **arr, size_t *cap, size_t need, size_t elsize);
/* Give back unused capacity (best effort). */
void ps_shrink(pstats_stats *s, void **arr, size_t *cap, size_t n, size_t elsize);
/* Bytes that live as long as the model. */
void *ps_arena(pstats_stats *s, size_t n);
void ps_drop_views(pstats_stats *s);   /* sort, callees, rank caches */
void ps_clear(pstats_stats *s);        /* free all contents, keep the handle */
void ps_replace(pstats_stats *s, pstats_stats *t); /* s := t; t's handle freed */

/* Strings: intern bytes (copied into the arena unless `keep` says they
 * already live as long as the model). UINT32_MAX on allocation failure. */
uint32_t ps_intern(pstats_stats *s, const uint8_t *p, size_t len, int is_bytes, int keep);
/* The same with the hash of the bytes already computed (ps_str_hash). */
uint32_t ps_intern_h(pstats_stats *s, const uint8_t *p, size_t len, int is_bytes, int keep,
                     uint32_t h);
uint32_t ps_str_hash(const uint8_t *p, size_t len);
/* Keys: find or add (file, line, name, kind); *isnew tells. */
uint32_t ps_key(pstats_stats *s, uint32_t file, int64_t line, uint32_t name,
                uint8_t kkind, int *isnew);
/* The same with its hash computed: ps_key_hash of the file string's hash,
 * the line, and the name string's hash (a CODE key: its pcode index). */
uint32_t ps_key_h(pstats_stats *s, uint32_t file, int64_t line, uint32_t name,
                  uint8_t kkind, uint32_t h, int *isnew);
static inline uint32_t ps_key_hash(uint32_t fh, int64_t line, uint32_t nh, uint8_t kkind)
{
    uint64_t x = ((uint64_t)fh << 32 | nh) ^ (uint64_t)line * 0x9E3779B97F4A7C15ull ^ kkind;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    return (uint32_t)(x ^ x >> 33);
}
/* The code-object key equal to *c (same digest and identity) as Python
 * compares code objects, added when new: its index, UINT32_MAX when out of
 * memory. The first one's name, file and line stay, as a dict keeps its
 * first key. */
uint32_t ps_code(pstats_stats *s, const pcode *c);

/* pstats_code.c: the digest of a code object, fed the tokens the loader
 * reads from its type byte on. psd_begin / psd_token return what the
 * loader must do with the token: */
enum { PSD_LEAF = 0, PSD_DESCEND, PSD_SKIP, PSD_EXPAND };
/* LEAF: digested; DESCEND: its items follow, feed them; SKIP: skip its
 * items (pymarshal_reader_skip); EXPAND: a reference not yet digested:
 * replay it and feed its first token. -1: out of memory. d->done is set
 * when the code object is complete, its digest in d->result. */
typedef struct psd_frame {
    uint64_t h;
    size_t left, set_start;
    int64_t slot;
    uint8_t kind, layout, field;
} psd_frame;
typedef struct ps_digest {
    pstats_stats *s;
    psd_frame *f; size_t n, cap_f;
    uint64_t *set; size_t nset, cap_set;         /* frozenset items' digests */
    struct psd_memo { uint64_t slot, h; } *memo; /* by reference slot + 1 */
    size_t cap_memo, nmemo;
    uint64_t result;
    int done, identity, py2, nan_by_value;
} ps_digest;
void psd_init(ps_digest *d, pstats_stats *s, int py2, int nan_by_value);
void psd_free(ps_digest *d);
int psd_begin(ps_digest *d, const pymarshal_token *code);
int psd_token(ps_digest *d, const pymarshal_token *t);
/* Is the next token a field of a code object that Python does not compare
 * (its digest is 0, whatever it is)? */
int psd_muted(const ps_digest *d);
int ps_rehash_keys(pstats_stats *s);
/* Size the hash tables for about n strings and keys. */
int ps_reserve(pstats_stats *s, size_t nstrs, size_t nkeys);

/* Edges: unpack a stored edge; store one (reuse: dst holds an edge being
 * replaced, whose wide slot may be reused). -1 on allocation failure. */
void pe_get(const pstats_stats *s, const pedge_s *e, pedge *out);
int pe_put(pstats_stats *s, pedge_s *dst, const pedge *in, int reuse);
int pe_kind(const pedge_s *e, const pstats_stats *s);

/* ---------------------------------------------------------------- numbers */

static inline pnum pn_int(int64_t i) { pnum n; n.kind = PN_INT; n.u.i = i; return n; }
static inline pnum pn_float(double f) { pnum n; n.kind = PN_FLOAT; n.u.f = f; return n; }
pnum pn_get(const uint64_t *v, uint8_t kinds, int field);
void pn_set(uint64_t *v, uint8_t *kinds, int field, pnum n);
/* a + b with Python's semantics (int + int exact). -1 on allocation failure. */
int pn_add(pstats_stats *s, pnum a, pnum b, pnum *out);
/* -1, 0, 1, or 2 when unordered (NaN). */
int pn_cmp(const pstats_stats *s, pnum a, pnum b);
double pn_double(const pstats_stats *s, pnum a);
int pn_is_zero(pnum a);
/* A growing byte buffer that owns its memory through the model's
 * allocator; `oom` is sticky. A fixed one (psb_init_fixed) writes into the
 * caller's buffer instead: what fits, NUL-terminated, and counts the rest
 * in len; it never allocates. */
typedef struct psb {
    pstats_stats *s;
    char *p;
    size_t len, cap;
    int oom;
    int fixed;
} psb;
void psb_init(psb *b, pstats_stats *s);
void psb_init_fixed(psb *b, char *buf, size_t size);
void psb_free(psb *b);
void psb_put(psb *b, const void *p, size_t n);
void psb_puts(psb *b, const char *z);
void psb_pad(psb *b, size_t n);   /* n spaces */
/* Python's '%8.3f' % x, appended. */
void ps_f8(psb *b, double x);
/* Python's str(n) and '%d' % n, appended. */
void pn_str(const pstats_stats *s, pnum a, psb *b);
void pn_fmt_d(const pstats_stats *s, pnum a, psb *b);
/* Big ints from marshal's 15-bit digits; and back. */
int pn_from_digits(pstats_stats *s, const uint8_t *le16, size_t ndigits, int neg, pnum *out);
size_t pn_ndigits15(const pstats_stats *s, pnum a);
void pn_to_digits(const pstats_stats *s, pnum a, uint16_t *digits, int *neg);
/* Copy a number of another model into s. */
int pn_import(pstats_stats *s, const pstats_stats *from, pnum a, pnum *out);

/* ----------------------------------------------------------------- labels */

/* func_std_string of a key, byte length; writes at most size-1 + NUL.
 * Allocates nothing. */
size_t ps_label(const pstats_stats *s, uint32_t id, char *buf, size_t size);
/* Width as Python's len(): code points (bytes for Python 2 models). */
size_t ps_width(const pstats_stats *s, const char *p, size_t len);
size_t ps_label_width(const pstats_stats *s, uint32_t id);
/* func[2] as Python's %s prints it (a code object's repr). */
void ps_put_name(psb *b, const pstats_stats *s, uint32_t id);
int ps_label_dyn(const pstats_stats *s, uint32_t id, char **buf, size_t *cap, size_t *len);

/* ----------------------------------------------------------------- builder */

/* Put keys 0..nstats-1 in `order`, caller-only keys after them, and edges
 * grouped by callee (stable). `edge_callee` gives each edge's callee (NULL:
 * edges already grouped via keys' edge_start/nedges). */
int ps_finalize(pstats_stats *s, const uint32_t *order, size_t norder,
                const uint32_t *edge_callee, pstats_error *err);
/* The key tuple order rank (sorted by file, line, name). */
int ps_build_rank(pstats_stats *s);
int ps_build_callees(pstats_stats *s);
/* The call graph's strongly connected components into comp (pstats_cycles.c,
 * pstats_components' walk): following the callees view (by_callers 0;
 * ps_build_callees first) or the callers lists (1: the same components,
 * nothing built, the model untouched). `only` (NULL: every key) as
 * pstats_components; a component of one function has `alone` ORed into its
 * id. Scratch from `a` (NULL: malloc). The number of components, or -1
 * when out of memory. */
int64_t ps_components(const pstats_stats *s, int by_callers, const unsigned char *only,
                      uint32_t alone, uint32_t *comp, const pymarshal_allocator *a);
/* Stable sort of ids; cmp returns <0, 0, >0 (anything but <0 keeps order). */
typedef int (*ps_cmp_fn)(const void *ctx, uint32_t a, uint32_t b);
void ps_merge_sort(uint32_t *a, uint32_t *tmp, size_t n, ps_cmp_fn cmp, const void *ctx);

/* 0 when s has its edges; else PSTATS_EUSAGE in err naming `what`, -1. */
int ps_need_edges(const pstats_stats *s, const char *what, pstats_error *err);
void ps_seterr(pstats_error *err, pstats_errcode code, const char *file,
               int has_offset, size_t offset, const char *fmt, ...)
    CM_PRINTF(6, 7);
int ps_add_input(pstats_stats *s, const char *name, time_t mtime, int has_mtime);
/* Recompute max_name_len: Python's widest label over the dict's keys. A
 * load leaves it PS_WIDTH_UNKNOWN (merges keep the maximum, so unknown
 * stays unknown); the reports compute it when they need it, which gives
 * Python's running maximum, since the keys only ever grow (strip_dirs
 * recomputes, as Python does). */
#define PS_WIDTH_UNKNOWN SIZE_MAX
void ps_compute_max_name(pstats_stats *s);
/* Compare two strings as Python compares str (code points) or bytes. */
int ps_strcmp(const pstats_stats *s, uint32_t a, uint32_t b);
/* The input of a load (pstats_input.h). */
typedef struct ps_input ps_input;
/* Load the input into the fresh model t, which copies what it keeps;
 * try_fast 0 reads with the general loader only (tests compare the two
 * paths with it). 0, or -1 with err set. */
int ps_load_input(pstats_stats *t, ps_input *in, const char *name, pstats_error *err,
                  int try_fast);
/* The same over a buffer (which may hold compressed data). */
int ps_load_with(pstats_stats *t, const uint8_t *data, size_t len, const char *name,
                 pstats_error *err, int try_fast);
/* What a path of the loader found: the dict's key ids in dict order
 * (ps_load_input finishes the model from it and frees it). */
typedef struct ps_loaded {
    uint32_t *order;   /* the dict's key ids in dict order */
    size_t norder;
    int py2_keys;      /* key strings were Python 2 byte strings */
    int truncated;     /* the general path failed where the data ended */
} ps_loaded;
/* The loader's fast path (pstats_load_fast.c): 0 when it loaded the input,
 * 1 when the input has a shape it leaves to the general loader (or could
 * not be read: see in->failed; t must then be cleared), -1 out of memory. */
int ps_load_fast(pstats_stats *t, ps_input *in, ps_loaded *out);
/* The loader's general path (pstats_load_general.c) over data[0..len):
 * every shape, every error. 0, or -1 with err set (out->truncated: the
 * error is that the data ended; more data may change it). */
int ps_load_general(pstats_stats *t, const uint8_t *data, size_t len, const char *name,
                    pstats_error *err, ps_loaded *out);
/* Two threads (pstats_pipe.c): a producer hands batches of `bytes` bytes
 * to a consumer thread that runs fn on each, in order. ps_pipe_start: NULL
 * when no thread could be started (then do the work inline). The producer
 * fills ps_pipe_first, then ps_pipe_swap hands over n records of it (tag:
 * any number the consumer makes known through ps_pipe_done_tag when it has
 * built them) and returns the next buffer to fill; *rc is the consumer's
 * first error (non-zero: stop). ps_pipe_finish hands over the last n
 * records (unless produced_ok is 0), waits for the consumer, frees the
 * pipe and returns the consumer's first error. While the pipe runs, the
 * model's allocator is called under a lock. */
/* An internal load flag: use the pipe whatever the input's size (tests). */
#define PS_LOAD_PIPE_ALWAYS 0x80000000u
/* An internal flag of a model (tests): every two-thread path that works
 * on it - the callgrind writer's, the reports' rows, the sort - is taken
 * whatever its size, in chunks of a few items (ps_threads_forced). */
#define PS_THREADS_ALWAYS 0x40000000u
typedef struct ps_pipe ps_pipe;
typedef int (*ps_pipe_consume)(void *ctx, const void *batch, size_t n);
ps_pipe *ps_pipe_start(pstats_stats *s, size_t bytes, ps_pipe_consume fn, void *ctx);
void *ps_pipe_first(ps_pipe *p);
void *ps_pipe_swap(ps_pipe *p, size_t n, size_t tag, int *rc);
size_t ps_pipe_done_tag(ps_pipe *p);
int ps_pipe_finish(ps_pipe *p, size_t n, int produced_ok);
/* Is key id ('jprofile', 0, 'profiler'), the caller cProfile gives the
 * functions it was started in? */
static inline int ps_is_jprofile(const pstats_stats *s, uint32_t id)
{
    const pkey *k = &s->keys[id];
    if (k->line != 0 || k->kkind != PSTATS_KEY_FUNC)
        return 0;
    const pstr *f = &s->strs[k->file], *n = &s->strs[k->name];
    return f->len == 8 && memcmp(f->p, "jprofile", 8) == 0 && n->len == 8 &&
           memcmp(n->p, "profiler", 8) == 0;
}
/* Keep a value the compiler would otherwise drop, with the loads that made
 * it (the "touch" loops that read ahead what a later loop will need). */
static inline void ps_keep(uint64_t v)
{
#if defined(__GNUC__) || defined(__clang__)
    __asm__ volatile("" : : "r"(v));
#else
    static volatile uint64_t sink;
    sink = v;
#endif
}
/* A new name for a file name (len bytes at p): its bytes and *out_len,
 * valid until the next call; NULL when out of memory. */
typedef const uint8_t *(*ps_rename_fn)(void *ctx, const uint8_t *p, size_t len,
                                       size_t *out_len);
/* Rename every key's file (and every code object's co_filename) through
 * fn; keys that become equal are merged as pstats_add merges them (their
 * callers summed), in the first one's place (pstats_merge.c). */
int ps_rename_files(pstats_stats *s, ps_rename_fn fn, void *ctx, pstats_error *err);
/* Apply print_stats' restrictions (counts, fractions, regexes on the
 * labels of s) to list[0..*n), in order, appending Python's "List
 * reduced ..." lines to msg (pstats_restrict.c). -1 when out of memory. */
int ps_restrict(pstats_stats *s, const pstats_restriction *r, size_t nr, uint32_t *list,
                size_t *n, psb *msg);
/* Python's sort_stats word w (any accepted prefix) as fields of the sort
 * tuple (0 cc, 1 nc, 2 tt, 3 ct, 4 file, 5 line, 6 name, 7 stdname) with
 * their directions, and its description; 0 when unknown or ambiguous
 * (*ambiguous tells) (pstats_sort.c). */
int ps_sort_word(const char *w, int fields[3][2], int *nfields, const char **desc,
                 int *ambiguous);

/* Describe a non-pstats input by its first bytes; NULL when unknown. */
const char *ps_sniff(const uint8_t *p, size_t len);

/* The model asks for its two-thread paths whatever its size (tests). */
static inline int ps_threads_forced(const pstats_stats *s)
{
    return (s->load_flags & PS_THREADS_ALWAYS) != 0;
}

#endif
