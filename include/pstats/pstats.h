/*
 * libpstats: Python's pstats data model in C - load, merge, strip_dirs, sort,
 * restrict, callers/callees, reports byte-identical to Python's pstats, and
 * writers (pstats, callgrind). Built on libpymarshal's token reader, but the
 * API speaks of functions, calls and edges, not marshal objects. Link with
 * `pkg-config --libs libpstats` or CMake's pstats::pstats; docs/library.md
 * and libpstats(3) are the guide, this header the reference.
 *
 * Ownership: a pstats_stats is created by pstats_new and freed by
 * pstats_free, by the caller. Strings that functions return point into the
 * model (which keeps its own copy of every name; nothing of the input
 * outlives a load) and live until the model is freed or changed (loaded,
 * merged, stripped): the caller never frees them. Buffers the caller passes
 * stay the caller's.
 *
 * Errors: functions that can fail return 0 on success and -1 on failure
 * and then fill the pstats_error the caller passes (`err`, never NULL):
 * a code, a one-line message, and the file and byte offset where they
 * apply. Its content after a success is unspecified. The library never
 * prints, aborts or exits, and leaves no half-made result: a model whose
 * load or merge failed is empty (see Out of memory for the exceptions).
 *
 * Out of memory (the allocator of pstats_new, or of the callgrind
 * options, returning NULL): every function that allocates returns -1 with
 * PSTATS_ENOMEM, frees what it took, and leaves the model as it was,
 * except that a failed pstats_load_* leaves it empty and a failed
 * pstats_add leaves s empty (a half-merged model would be wrong) unless s
 * is among the others (then s is unchanged). A failed pstats_sort keeps
 * the order there was; a failed report or writer may have written part
 * of its output. The model is usable afterwards. Where a second thread
 * would need memory it cannot get, the work is done in one thread
 * instead. The accessors allocate nothing, except pstats_format_count and
 * pstats_format_edge_count for counts beyond int64 (0 when out of memory)
 * and the callees index (built on first use). test/pstats_oom_tests.c and
 * test/callgrind_tests.c fail every allocation of every entry point in
 * turn to check this.
 *
 * Threads: no global state; different models may be used in different
 * threads at once. One model must not be used by two threads at once, not
 * even through the functions taking a const model (the callees index is
 * built on first use through its allocator).
 * Loading, sorting, the reports and pstats_write_callgrind may run part
 * of their work in a second thread of their own, joined before they
 * return; when no thread can be started they do all the work in the
 * calling thread. A sink is always called from the calling thread.
 *
 * Memory: all of it comes from the model's allocator (pstats_new's
 * `alloc`, NULL for malloc; see pymarshal_allocator). The library's own
 * threads call it too, under a lock, so it need not be thread-safe but
 * may be called from a thread other than the caller's.
 */
#ifndef PSTATS_PSTATS_H
#define PSTATS_PSTATS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "pstats/export.h"
#include "pstats/marshal.h"

#ifdef __cplusplus
extern "C" {
#endif

/* "MAJOR.MINOR.PATCH", the library's version (PSTATS_VERSION_STRING of
 * pstats/version.h is the version of the headers compiled against). A
 * static string: never freed. */
PSTATS_API const char *pstats_version(void);

/* ---------------------------------------------------------------- errors */

typedef enum pstats_errcode {
    PSTATS_OK = 0,
    PSTATS_EMARSHAL,   /* the marshal data is broken (see offset, msg) */
    PSTATS_EFORMAT,    /* valid marshal, or another format, but not a pstats dict */
    PSTATS_EIO,        /* open/read/write failed (errno text in msg), or the input
                          changed while it was read */
    PSTATS_ENOMEM,     /* the allocator failed */
    PSTATS_EUSAGE,     /* bad argument: unknown sort key, a model without
                          edges where edges are needed, ... */
    PSTATS_EMERGE      /* inputs that cannot be merged (not returned by this
                          version: every pair of models merges) */
} pstats_errcode;

/* Filled by a function that fails; the caller owns it (usually on the stack). */
typedef struct pstats_error {
    pstats_errcode code;
    size_t offset;   /* byte offset in the input, when has_offset */
    int has_offset;
    char file[512];  /* the input's name as given, when it applies ("" if not) */
    char msg[512];   /* one line: what was found, what was expected, and who
                        probably wrote the file ("written by Python 2.7",
                        "a marshalled code object - is this a .pyc?") */
} pstats_error;

/* ----------------------------------------------------------------- model */

/* A profile: functions, their numbers and the calls between them. Opaque. */
typedef struct pstats_stats pstats_stats;

/* A new, empty model whose memory all comes from `alloc` (copied; its
 * functions and ctx must stay valid until pstats_free), or from malloc when
 * `alloc` is NULL. Returns NULL when the allocator fails. The caller owns
 * the model and frees it with pstats_free. */
PSTATS_API pstats_stats *pstats_new(const pymarshal_allocator *alloc);
/* Frees s and everything it owns, including every string its functions
 * returned. NULL is allowed (nothing happens). */
PSTATS_API void pstats_free(pstats_stats *s);

/* Load one pstats file into an empty model (like pstats.Stats(path)).
 * The file is read (never mapped: a file that changes while it is read is
 * an error, never a signal) into memory that the loader gives up behind
 * itself as it goes, so that a load of the common shapes keeps only a
 * window of the input; the model copies the names it keeps. gzip, zstd,
 * xz and bzip2 files are told by their magic bytes and decompressed as
 * they are read (docs/pstats.md, "Inputs"). `path` "-" is not special
 * here (see pstats_load_fd). A FIFO or device path is read as a stream.
 * Returns 0, or -1 with err filled and the model left empty: err says
 * what the file is when it is not a pstats profile (PSTATS_EFORMAT: a
 * .pyc, a callgrind file, a Go pprof profile, ... or broken compressed
 * data, whose offset is then in the compressed file), where the marshal
 * data breaks (PSTATS_EMARSHAL, with offset), or that the file could not
 * be read, or was truncated, grew or changed while it was read
 * (PSTATS_EIO, with the offset read so far). Bytes after the dict are
 * ignored, as Python does. A profile whose dict is empty is
 * PSTATS_EFORMAT (Python refuses it too). Loading into a model that is not
 * empty is PSTATS_EUSAGE: load each file into a model of its own and merge
 * them with pstats_add. */
PSTATS_API int pstats_load_path(pstats_stats *s, const char *path, pstats_error *err);
/* Load from an open file descriptor, which stays the caller's (never
 * closed) and need not be seekable; `name` (copied) is used in the report
 * header and in errors (NULL: "<fd>"). A regular file is read with pread
 * from the descriptor's current offset to its end, the offset left
 * unchanged, and its mtime goes to the report header. Anything else (a
 * pipe, a socket, a terminal, a device; blocking or not) is read with
 * read(2) as far as the profile needs, maybe a little past its end; as it
 * cannot be read twice, all of it that was read stays in memory until the
 * load ends, and the report header has no time line for it. Returns and
 * errors as pstats_load_path. */
PSTATS_API int pstats_load_fd(pstats_stats *s, int fd, const char *name, pstats_error *err);
/* pstats_load_path for a profile in memory: data[0..len) (the caller's; it
 * may be compressed as a file may, is read in place or decompressed as it
 * is read, during the call only, and need not outlive it). `name` (copied)
 * names the input in the report header and in errors; `mtime` is the time
 * printed in the header's line for it (< 0: no line). Returns 0, or -1 with
 * err filled and the model left empty. */
PSTATS_API int pstats_load_buffer(pstats_stats *s, const void *data, size_t len,
                                  const char *name, time_t mtime, pstats_error *err);

/* Options of the next pstats_load_* on s (a bitmask; 0 by default; kept
 * until changed). PSTATS_LOAD_NO_EDGES: the callers dicts are read and
 * checked as usual but not stored, except that a caller
 * ('jprofile', 0, 'profiler') still marks its function top-level; keys that
 * appear only as callers get no id (pstats_nkeys() == pstats_nfuncs()).
 * Enough for pstats_print_stats, pstats_get_totals, sort, strip_dirs and
 * merges; loads faster and uses less memory. Such a model has no edges
 * (pstats_has_edges 0; pstats_ncallers/ncallees return 0), and
 * pstats_print_callers, pstats_print_callees, pstats_write_pstats and
 * pstats_write_callgrind refuse it with PSTATS_EUSAGE rather than write a
 * profile without calls. pstats_add and pstats_strip_dirs work: a model
 * merged with one that has no edges has no edges. */
#define PSTATS_LOAD_NO_EDGES 1u
PSTATS_API void pstats_set_load_flags(pstats_stats *s, unsigned flags);
/* 0 when s was loaded with PSTATS_LOAD_NO_EDGES (or merged with such a
 * model), else 1. */
PSTATS_API int pstats_has_edges(const pstats_stats *s);

/* Merge the n models others[0..n) into s as Python's Stats.add(*others)
 * does: walking them in reverse order (which decides the order of new keys
 * and of header lines). pstats.Stats(a, b, c) == load a, then
 * pstats_add(s, {b, c}, 2). The others are only read: they stay the
 * caller's, unchanged, and may be freed right after the call; s may be
 * among them (s.add(s)). Callers of different kinds (tuple vs int count)
 * merge as documented in docs/pstats.md where Python raises TypeError.
 * Returns 0, or -1 (PSTATS_ENOMEM) with s left empty (unchanged when it
 * was among the others). */
PSTATS_API int pstats_add(pstats_stats *s, pstats_stats *const *others, size_t n,
                          pstats_error *err);

/* Python's strip_dirs(): basenames everywhere, colliding keys merged, the
 * sort order dropped. As in Python, two callers of one function that
 * collide replace each other (the last wins); see docs/pstats.md. Returns
 * 0, or -1 (PSTATS_ENOMEM) with s unchanged. */
PSTATS_API int pstats_strip_dirs(pstats_stats *s, pstats_error *err);

/* File names rewritten by prefixes, for profiles taken elsewhere: each
 * map's `from` (a leading part of a path, whole components only) becomes
 * `to`. Windows names (a drive "C:", "\\server", or any backslash)
 * match with '\\' and '/' alike and ASCII case ignored; the rest of a
 * name takes TO's separators; the longest matching `from` wins; the
 * built-ins' "~" is never mapped. Rules in docs/pstats.md ("Path
 * mapping"). Applies to every key's file and every code object's
 * co_filename; keys that become equal are merged as pstats_add merges
 * them; the sort order is dropped. The maps maps[0..n) are the caller's
 * and only read; matched (the caller's n counts, may be NULL) gets, per
 * map, how many file names it rewrote. Returns 0, or -1 with err filled:
 * PSTATS_EUSAGE for an empty `from`, PSTATS_ENOMEM. */
typedef struct pstats_path_map {
    const char *from, *to;  /* bytes as the profile has them (UTF-8 for Python 3) */
} pstats_path_map;
PSTATS_API int pstats_map_paths(pstats_stats *s, const pstats_path_map *maps, size_t n,
                                size_t *matched, pstats_error *err);

/* Python's sort_stats(*keys): keys[0..nkeys) are names or the prefixes
 * Python accepts ("cumulative", "cumu", "tot", "stdname", ...; "cum" is
 * ambiguous in Python too) or old integer keys as "-1" "0" "1" "2" (given
 * alone). No keys: unsorted ("Random listing order"). Stable: ties keep
 * the file order. The order is kept in s for the reports. Returns 0, or -1
 * with PSTATS_EUSAGE for an unknown or ambiguous key, PSTATS_ENOMEM (the
 * previous order is dropped then). */
PSTATS_API int pstats_sort(pstats_stats *s, const char *const *keys, size_t nkeys,
                           pstats_error *err);

/* --------------------------------------------------------------- reading */

typedef enum pstats_key_kind {
    PSTATS_KEY_FUNC = 0,  /* (filename, lineno, funcname) */
    PSTATS_KEY_CODE       /* (filename, lineno, <code object>): name is co_name */
} pstats_key_kind;

/* One function, filled by pstats_func_get. The strings point into the
 * model (not NUL-terminated: use the lengths) and live as long as it. */
typedef struct pstats_func {
    const char *file; size_t file_len; /* bytes as the profile has them */
    const char *name; size_t name_len;
    int64_t line;
    pstats_key_kind key_kind;
    int64_t cc, nc;        /* primitive and total calls (saturated when big) */
    int cc_big, nc_big;    /* the exact value exceeds int64: see pstats_format_count */
    double tt, ct;         /* tottime, cumtime in seconds */
    int in_stats;          /* 1: a key of the profile's dict (id < pstats_nfuncs);
                              0: named only as a caller (all numbers 0) */
} pstats_func;

typedef enum pstats_edge_kind {
    PSTATS_EDGE_TUPLE = 0, /* (nc, cc, tt, ct) as cProfile writes */
    PSTATS_EDGE_INT        /* a call count only (profile module) */
} pstats_edge_kind;

/* One call edge, filled by pstats_caller_get and pstats_callee_get. */
typedef struct pstats_edge {
    uint32_t caller, callee; /* function ids */
    pstats_edge_kind kind;
    int64_t nc, cc;          /* INT edges: nc = cc = the count */
    int nc_big, cc_big;
    double tt, ct;           /* INT edges: 0 */
} pstats_edge;

/* Functions in file (dict) order, ids 0..pstats_nfuncs()-1. Python 3.15's
 * ('__sampled__',) marker is not a function (see pstats_is_sampled).
 * Keys that appear only as callers (not as keys of the dict) get the ids
 * pstats_nfuncs()..pstats_nkeys()-1; pstats_func_get and pstats_func_label
 * accept them too (their numbers are 0, in_stats 0). Edges name callers by
 * these ids. An id stays valid until the model changes. */
PSTATS_API size_t pstats_nfuncs(const pstats_stats *s);
PSTATS_API size_t pstats_nkeys(const pstats_stats *s);
/* Fills *out (the caller's) with function `id`; an id >= pstats_nkeys()
 * gives all zeros and NULL strings. */
PSTATS_API void pstats_func_get(const pstats_stats *s, uint32_t id, pstats_func *out);
/* Python's func_std_string: "{built-in method x}", "file:line(name)", into
 * the caller's buf: at most size-1 bytes plus a NUL (nothing when size is
 * 0). Returns the label's full byte length (larger than size-1 when cut:
 * call again with a bigger buffer); 0 for an id >= pstats_nkeys().
 * Allocates nothing (buf NULL with size 0 asks for the length only). */
PSTATS_API size_t pstats_func_label(const pstats_stats *s, uint32_t id, char *buf,
                                    size_t size);
/* Exact decimal text of a function's count (which: 0 cc, 1 nc) as Python
 * prints it, even beyond int64 (cc_big/nc_big); into buf as
 * pstats_func_label does, and returns the full length (0: bad id). */
PSTATS_API size_t pstats_format_count(const pstats_stats *s, uint32_t id, int which,
                                      char *buf, size_t size);

/* Exact decimal text of an edge's count (which: 0 cc, 1 nc) for the k-th
 * caller (callees 0) or k-th callee (callees 1) of f; into buf as
 * pstats_func_label does, and returns the full length (0: no such edge). */
PSTATS_API size_t pstats_format_edge_count(const pstats_stats *s, uint32_t f, size_t k,
                                           int callees, int which, char *buf,
                                           size_t size);

/* Callers of f (from f's own callers dict, in file order) and callees of f
 * (the inverse, in Python's order: callees sorted by their dict order; the
 * index is built on the first call, so the first may allocate and return 0
 * when the allocator fails). The counts are 0 for an id out of range and
 * for a model without edges; *out (the caller's) gets all zeros for a k
 * out of range. */
PSTATS_API size_t pstats_ncallers(const pstats_stats *s, uint32_t f);
PSTATS_API void pstats_caller_get(const pstats_stats *s, uint32_t f, size_t k,
                                  pstats_edge *out);
PSTATS_API size_t pstats_ncallees(const pstats_stats *s, uint32_t f);
PSTATS_API void pstats_callee_get(const pstats_stats *s, uint32_t f, size_t k,
                                  pstats_edge *out);

typedef struct pstats_totals {
    int64_t total_calls, prim_calls; /* saturated; exact text via reports */
    double total_tt;                 /* summed in dict order, as Python */
    size_t ntop;                     /* top-level functions (called by
                                        ('jprofile', 0, 'profiler')) */
} pstats_totals;
/* The report header's totals, into *out (the caller's). */
PSTATS_API void pstats_get_totals(const pstats_stats *s, pstats_totals *out);
/* 1 when the profile held Python 3.15's ('__sampled__',) marker, else 0:
 * it was written by the sampling profiler (Tachyon, `python -m
 * profiling.sampling`; pstats_write_pstats writes the marker back), and
 * counts are samples, not calls: cc the samples with the function on top
 * of the stack, nc those with it anywhere on the stack, tt and ct those
 * counts times the sampling interval, and callers map to int sample
 * counts (docs/pstats.md, "Sampled profiles"). */
PSTATS_API int pstats_is_sampled(const pstats_stats *s);
/* The sampling interval in seconds of a sampled model, found back from its
 * numbers (Tachyon does not write it): 1 when every function's tt and ct
 * are its integer counts times one interval (*seconds set, may be NULL),
 * 0 when s is not sampled or holds no such single interval (merged
 * profiles of different intervals, say). */
PSTATS_API int pstats_sample_interval(const pstats_stats *s, double *seconds);
/* 1 when the data was written by Python 2 (strings are bytes; reports
 * follow Python 2.7's pstats: widths in bytes, no space after an arrow
 * with no entries). Decided from the marshal codes ('s', 'R'). */
PSTATS_API int pstats_is_py2(const pstats_stats *s);

/* Number of inputs loaded or merged into s, and the name of input i as it
 * was given (owned by the model; NULL for i >= pstats_ninputs()) with its
 * mtime in *mtime when mtime is not NULL (-1 when it has none). */
PSTATS_API size_t pstats_ninputs(const pstats_stats *s);
PSTATS_API const char *pstats_input_name(const pstats_stats *s, size_t i, time_t *mtime);

/* -------------------------------------------------------------- reports */

typedef enum pstats_restriction_kind {
    PSTATS_LIMIT_COUNT = 0, /* print_stats(20) */
    PSTATS_LIMIT_FRACTION,  /* print_stats(0.5) */
    PSTATS_LIMIT_REGEX      /* print_stats('foo'), re.search semantics */
} pstats_restriction_kind;

/* One argument of print_stats(...): the kind says which field counts. */
typedef struct pstats_restriction {
    pstats_restriction_kind kind;
    int64_t count;
    double fraction;
    const char *regex;      /* UTF-8, Python `re` syntax (PCRE2) */
} pstats_restriction;

/* A sink (pymarshal_write_fn): returns 0 when it took all len bytes, non-zero
 * to stop the writer, which then fails with PSTATS_EIO. */
typedef pymarshal_write_fn pstats_write_fn;

/* print_stats / print_callers / print_callees with the restrictions
 * r[0..nr) applied in order, byte for byte as Python's pstats prints them
 * for the same model state (sort order included; an invalid regular
 * expression is printed as Python prints it, not an error). The text goes
 * to write(ctx, ...) in pieces. Returns 0, or -1 with err filled
 * (PSTATS_EIO when write failed, PSTATS_ENOMEM; PSTATS_EUSAGE for callers
 * and callees of a model without edges). */
PSTATS_API int pstats_print_stats(pstats_stats *s, const pstats_restriction *r, size_t nr,
                                  pstats_write_fn write, void *ctx, pstats_error *err);
PSTATS_API int pstats_print_callers(pstats_stats *s, const pstats_restriction *r, size_t nr,
                                    pstats_write_fn write, void *ctx, pstats_error *err);
PSTATS_API int pstats_print_callees(pstats_stats *s, const pstats_restriction *r, size_t nr,
                                    pstats_write_fn write, void *ctx, pstats_error *err);

/* ----------------------------------------------------------------- diff */

/* Two runs compared function by function (docs/user-guide.md, "Comparing
 * two runs"). Functions are paired by their key as Python's dict pairs
 * them: (file, line, name) equal (Python 2 byte strings equal to the same
 * UTF-8); code-object keys by co_name, co_filename and co_firstlineno (as
 * pstats_add merges them; Python compares whole code objects, which the
 * model does not keep). Apply pstats_strip_dirs / pstats_map_paths to
 * both models first to pair functions across machines. Rows: before's
 * functions in its dict order, then those only after has. The diff reads
 * both models, which must outlive it unchanged; free it with
 * pstats_diff_free. */
typedef struct pstats_diff pstats_diff;

typedef enum pstats_diff_status {
    PSTATS_DIFF_SAME = 0,   /* in both, every number equal */
    PSTATS_DIFF_CHANGED,    /* in both, some number differs */
    PSTATS_DIFF_ADDED,      /* only in after ("new") */
    PSTATS_DIFF_REMOVED     /* only in before ("gone") */
} pstats_diff_status;

typedef struct pstats_diff_row {
    pstats_diff_status status;
    uint32_t before, after; /* the function's id in each model; UINT32_MAX: absent */
    double delta[4];        /* after - before of cc, nc, tt, ct (absent: 0) */
    double percent[4];      /* 100 * delta / |before|; NaN when both are 0,
                               +-infinity when only before is 0 */
} pstats_diff_row;

/* A new diff of the two models, which the caller frees with
 * pstats_diff_free; NULL with err set (PSTATS_ENOMEM, PSTATS_EUSAGE) on
 * failure. */
PSTATS_API pstats_diff *pstats_diff_new(const pstats_stats *before,
                                        const pstats_stats *after, pstats_error *err);
/* Frees d (NULL is allowed); the models stay the caller's. */
PSTATS_API void pstats_diff_free(pstats_diff *d);
PSTATS_API size_t pstats_diff_nrows(const pstats_diff *d);
/* Row k in the current order, into *out (the caller's; all zeros for a k
 * out of range). */
PSTATS_API void pstats_diff_row_get(const pstats_diff *d, size_t k, pstats_diff_row *out);
/* Row k's func_std_string into the caller's buf, as pstats_func_label. */
PSTATS_API size_t pstats_diff_label(const pstats_diff *d, size_t k, char *buf, size_t size);
/* Order the rows. Keys are sort_stats' words and prefixes, read as changes:
 * a measure (calls, ncalls, pcalls, time, tottime, cumulative, cumtime;
 * samples, nsamples, psamples alike) sorts by the size of its change,
 * KEY% by the size of the relative change (new functions first), +KEY by
 * the largest increase, -KEY by the largest decrease (both also with %);
 * filename, line, name, nfl, stdname sort as in Python. Later keys break
 * ties; equal rows keep their order. No keys: "cumulative". Returns 0, or
 * -1 with PSTATS_EUSAGE for an unknown or ambiguous key, PSTATS_ENOMEM. */
PSTATS_API int pstats_diff_sort(pstats_diff *d, const char *const *keys, size_t nkeys,
                                pstats_error *err);
/* The report: both sides' inputs and totals, then a line per row kept by
 * the restrictions (as print_stats applies them, to the rows' labels), to
 * write(ctx, ...). Returns 0, or -1 with err filled (PSTATS_EIO when
 * write failed, PSTATS_ENOMEM). */
PSTATS_API int pstats_print_diff(pstats_diff *d, const pstats_restriction *r, size_t nr,
                                 pstats_write_fn write, void *ctx, pstats_error *err);
/* The same rows as JSON (docs/json.md, format "pstats-diff-json"); returns
 * as pstats_print_diff. */
PSTATS_API int pstats_write_diff_json(pstats_diff *d, const pstats_restriction *r,
                                      size_t nr, pstats_write_fn write, void *ctx,
                                      pstats_error *err);

/* -------------------------------------------------------------- writers */

/* The model as a pstats file (marshal version 4) that Python's
 * pstats.Stats loads and reports identically, to write(ctx, ...). Returns
 * 0, or -1 with err filled (PSTATS_EIO when write failed, PSTATS_ENOMEM,
 * PSTATS_EUSAGE for a model without edges). */
PSTATS_API int pstats_write_pstats(const pstats_stats *s, pstats_write_fn write, void *ctx,
                                   pstats_error *err);

/* The model as JSON (docs/json.md; JSON Schema docs/pstats.schema.json):
 * format "pstats-json", version PSTATS_JSON_VERSION; every function of the
 * dict in file order with its numbers and callers, the keys named only as
 * callers, the totals and the inputs. Ints are exact (any size), floats are
 * Python's repr (they read back to the same double), NaN and infinities
 * the strings "NaN", "Infinity", "-Infinity"; names that are not UTF-8
 * (Python 2 bytes) are read as Latin-1 and given exactly in a *_bytes hex
 * field. Streamed through `write` with a 64 KB buffer (memory does not
 * grow with the profile). Returns 0, or -1 with err filled (PSTATS_EIO
 * when write failed, PSTATS_ENOMEM, PSTATS_EUSAGE for a model without
 * edges). */
#define PSTATS_JSON_VERSION 1
PSTATS_API int pstats_write_json(const pstats_stats *s, pstats_write_fn write, void *ctx,
                                 pstats_error *err);

/* Unit of the callgrind cost lines (event "ns", "us" or "ms"). Seconds
 * are rounded to the nearest unit, never truncated. PSTATS_UNIT_SAMPLES
 * (event "samples"), for sampled models (pstats_sample_interval): costs in
 * samples, times divided by the interval (self cost = cc, inclusive = nc);
 * all parts must share one interval, else PSTATS_EUSAGE. */
typedef enum pstats_time_unit {
    PSTATS_UNIT_NS = 0,
    PSTATS_UNIT_US,
    PSTATS_UNIT_MS,
    PSTATS_UNIT_SAMPLES
} pstats_time_unit;

typedef struct pstats_callgrind_options {
    pstats_time_unit unit;
    const char *cmd;          /* the `cmd:` line (input names), may be NULL */
    int call_events;          /* also write a "calls" event: each function's
                                 self cost is its total call count (nc; for
                                 a sampled model, its samples on the stack) */
    const pymarshal_allocator *alloc; /* the writer's own memory; NULL: malloc */
} pstats_callgrind_options;

/* One callgrind file (format version 1) that KCachegrind/QCacheGrind,
 * callgrind_annotate, gprof2dot and speedscope read, to write(ctx, ...):
 * name compression, one block per function, function names unique per
 * pstats key (pstats style, "file.py:12(name)", qualified with the full
 * path where basenames collide). Self cost = tottime; call costs are
 * planned so that what KCachegrind shows as inclusive is cumtime (incoming
 * calls share the callee's cumtime), and a function's outgoing calls never
 * exceed max(tottime, cumtime) - tottime (docs/callgrind.md). The models
 * parts[0..nparts) are only read; nparts > 1 writes one `part:` per model
 * (KCachegrind and gprof2dot read those; not callgrind_annotate or
 * speedscope); functions keep one name across parts. `opts` may be NULL
 * (ns, no cmd). Returns 0, or -1 with err filled (PSTATS_EIO when `write`
 * failed, PSTATS_ENOMEM, PSTATS_EUSAGE). */
PSTATS_API int pstats_write_callgrind(const pstats_stats *const *parts, size_t nparts,
                                      const pstats_callgrind_options *opts,
                                      pstats_write_fn write, void *ctx, pstats_error *err);


/* -------------------------------------------------------------- pictures */

/* The call graph in graphviz's dot language, as gprof2dot draws a pstats
 * profile (`gprof2dot -f pstats -n NODE -e EDGE`): same nodes, calls,
 * labels (total and self share, call counts) and colours; rules and the
 * few departures in docs/graphs.md. Thresholds are percent of the total
 * time: functions whose cumulative share is below node_thres are left out,
 * then calls below edge_thres or to a left-out function. `opts` NULL:
 * gprof2dot's defaults. Returns 0, or -1 with err set (PSTATS_EUSAGE for a
 * negative threshold or a model loaded without its calls, PSTATS_ENOMEM,
 * PSTATS_EIO when `write` failed). */
#define PSTATS_DOT_NODE_THRES 0.5
#define PSTATS_DOT_EDGE_THRES 0.1
typedef struct pstats_dot_options {
    double node_thres, edge_thres;    /* percent, >= 0 */
    const pymarshal_allocator *alloc; /* NULL: malloc */
} pstats_dot_options;
PSTATS_API int pstats_write_dot(const pstats_stats *s, const pstats_dot_options *opts,
                                pstats_write_fn write, void *ctx, pstats_error *err);

/* A flame graph reconstructed from the caller graph (pstats records no
 * stacks; docs/graphs.md says how and where it is approximate): the call
 * tree is expanded from the functions nobody calls, each call's share of
 * the caller's time on that path taken from the recorded call times
 * (callee time over caller time), calls back into a function already on
 * the path not expanded again, heaviest paths first. Frames narrower than
 * min_share of the total, deeper than max_depth or beyond max_frames go,
 * summed, into one "[other]" frame under their parent, so every frame's
 * total stays exact. Times are integers in `unit` (PSTATS_UNIT_SAMPLES:
 * samples, for a sampled model of one interval, pstats_sample_interval);
 * the SVG and the folded stacks of one model and options hold the same
 * numbers. Both writers return 0, or -1 with err set (PSTATS_EUSAGE for a
 * bad unit or min_share, samples without a sampled profile of one
 * interval, or a model loaded without its calls; PSTATS_ENOMEM;
 * PSTATS_EIO when `write` failed). */
typedef struct pstats_flame_options {
    pstats_time_unit unit;
    double min_share;          /* 0: 1e-4 (0.01 % of the total) */
    size_t max_depth;          /* 0: 256 */
    size_t max_frames;         /* 0: 10000 */
    const char *title;         /* the SVG's title (UTF-8), NULL: "Flame graph" */
    const pymarshal_allocator *alloc; /* NULL: malloc */
} pstats_flame_options;
/* One self-contained, interactive SVG (click to zoom, Ctrl-F or the
 * Search button to highlight a regular expression; plain JavaScript, no
 * external resource); readable without scripts as a static picture. */
PSTATS_API int pstats_write_flame_svg(const pstats_stats *s,
                                      const pstats_flame_options *opts,
                                      pstats_write_fn write, void *ctx, pstats_error *err);
/* The same stacks folded, one "caller;callee;... N" line per frame with
 * self time (flamegraph.pl, speedscope, inferno). Frame names are pstats'
 * labels ("file.py:12(name)", "{built-in method ...}") with ';' written
 * as ':'. */
PSTATS_API int pstats_write_collapsed(const pstats_stats *s,
                                      const pstats_flame_options *opts,
                                      pstats_write_fn write, void *ctx, pstats_error *err);

/* The time spent in call e (an edge from pstats_caller_get or
 * pstats_callee_get), in seconds, never negative: a tuple's cumtime; for a
 * bare count (the profile module records no call times) the callee's
 * cumtime times this caller's share of the calls from its other callers
 * (calls of a function to itself are not counted: a recursive function's
 * cumtime covers its outermost calls only). O(1) for tuples, O(callers of
 * the callee) for counts. */
PSTATS_API double pstats_call_time(const pstats_stats *s, const pstats_edge *e);

/* The call graph's strongly connected components (gprof's "cycles":
 * functions that call each other, directly or through others): comp[f]
 * (the caller's array, room for pstats_nkeys) receives f's component,
 * numbered so that a component comes after every component it calls; a
 * function alone is a component of its own. `only` (NULL: every key)
 * restricts the graph to the keys f with only[f] != 0 and the calls
 * between them; the others get PSTATS_NO_COMPONENT. Not recursive (any
 * depth). Returns the number of components, or -1 with err (PSTATS_ENOMEM;
 * PSTATS_EUSAGE for a model loaded without its calls). */
#define PSTATS_NO_COMPONENT UINT32_MAX
PSTATS_API int64_t pstats_components(const pstats_stats *s, const unsigned char *only,
                                     uint32_t *comp, pstats_error *err);

/* ----------------------------------------------------------- transforms */

/* Leaves negligible functions out of s while keeping every total exact
 * (docs/graphs.md): functions whose cumulative time is below node_pct
 * percent of the total time T (T = max(total tottime, every cumtime), as
 * gprof2dot) and calls below edge_pct percent of T (calls of a function to
 * itself excepted) are folded, per calling function, into one function
 * "[other] NAME" (at the caller's file and line, NAME the caller's name)
 * that the caller calls instead, the folded calls summed into that call.
 * The left-out functions' tottime and call counts are handed up to their
 * callers in proportion to the calls' times until they reach a kept
 * caller, whose "[other]" takes them; what reaches none goes to one
 * "[other]" function nobody calls. Kept functions and the calls between
 * them keep their numbers; the sums of tottime, of calls and of primitive
 * calls are unchanged. Like strip_dirs, the sort order is dropped. 0, or
 * -1 with err (PSTATS_EUSAGE: negative threshold or a model without its
 * calls, PSTATS_ENOMEM; the model is then unchanged). */
PSTATS_API int pstats_prune(pstats_stats *s, double node_pct, double edge_pct,
                            pstats_error *err);

#ifdef __cplusplus
}
#endif
#endif
