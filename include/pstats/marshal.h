/*
 * libpymarshal: a decoder and encoder for Python's marshal format, as written
 * by CPython 2.5-3.15 and PyPy (format versions 0-6), with no libpython.
 *
 * Two faces share one reader:
 *   - a token reader (pymarshal_reader_*) that walks the input object by
 *     object, for consumers that build their own compact model (libpstats);
 *   - a value tree (pymarshal_load / pymarshal_value_*) built from those
 *     tokens into one arena: shared objects stay shared, strings point into
 *     the input buffer, for tools, pymarshal(1), the encoder and the fuzzer.
 *
 * Link with `pkg-config --libs libpymarshal` or CMake's pstats::pymarshal;
 * docs/library.md and libpstats(3) are the guide, this header the reference.
 *
 * Ownership: what a _new or _load function returns belongs to the caller,
 * who frees it with the matching _free (pymarshal_writer_finish for a
 * writer). Values, tokens and strings point into their doc, reader or
 * input and are never freed by the caller. The input bytes stay the
 * caller's and must outlive every reader and doc made from them.
 *
 * Errors are values (pymarshal_error, filled on failure where a function
 * takes one); the library never prints, aborts or exits. All memory comes
 * from one allocator hook (pymarshal_allocator). No C recursion per nesting
 * level: depth is bounded by an explicit limit. No global state: readers,
 * docs and writers may be used in different threads, each by one thread at
 * a time; a doc may be read by many threads at once.
 */
#ifndef PSTATS_MARSHAL_H
#define PSTATS_MARSHAL_H

#include <stddef.h>
#include <stdint.h>

#include "pstats/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- memory */

/* Every allocation of both libraries goes through one of these. A NULL
 * allocator pointer anywhere in the API means the C library's malloc. The
 * libraries copy the struct; its functions and ctx must stay valid while
 * anything made with it lives. malloc and realloc return NULL on failure
 * (the libraries then fail with an ENOMEM code, never crash); sizes are
 * never 0; realloc may be given NULL (then it allocates, as realloc(3)
 * does); free is never given NULL. Work split over two threads calls the
 * hook under a lock, so it need not be thread-safe, but it may be called
 * from a thread the library started. */
typedef struct pymarshal_allocator {
    void *(*malloc)(void *ctx, size_t size);
    void *(*realloc)(void *ctx, void *ptr, size_t size);
    void (*free)(void *ctx, void *ptr);
    void *ctx;
} pymarshal_allocator;

/* ---------------------------------------------------------------- errors */

typedef enum pymarshal_errcode {
    PYMARSHAL_OK = 0,
    PYMARSHAL_ETRUNCATED, /* the input ends inside an object */
    PYMARSHAL_ETYPE,      /* unknown type code, or NULL where an object is due */
    PYMARSHAL_ELENGTH,    /* negative or implausible length or count */
    PYMARSHAL_EREF,       /* reference to a missing or unfilled slot */
    PYMARSHAL_EDEPTH,     /* nesting deeper than the limit */
    PYMARSHAL_EUTF8,      /* invalid UTF-8 where UTF-8 is required */
    PYMARSHAL_EVALUE,     /* corrupt value: unnormalized long, bad float text,
                             code object of no known layout */
    PYMARSHAL_ENOMEM,     /* the allocator failed */
    PYMARSHAL_ELIMIT,     /* a caller-set output limit was reached */
    PYMARSHAL_EIO         /* a write callback failed */
} pymarshal_errcode;

/* Filled by a function that fails; the caller owns it. */
typedef struct pymarshal_error {
    pymarshal_errcode code;
    size_t offset;  /* byte offset in the input where the problem is */
    char msg[224];  /* what was found and what was expected, one line (the
                       offset is in `offset`, not repeated here) */
} pymarshal_error;

/* A short stable name for a code ("truncated", "bad type", ...): a static
 * string, never freed. */
PYMARSHAL_API const char *pymarshal_errcode_name(pymarshal_errcode code);

/* ------------------------------------------------------------------ kinds */

typedef enum pymarshal_kind {
    PYMARSHAL_NULL = 0,   /* '0': dict terminator / absent code field (token only) */
    PYMARSHAL_NONE,       /* 'N' */
    PYMARSHAL_FALSE,      /* 'F' */
    PYMARSHAL_TRUE,       /* 'T' */
    PYMARSHAL_STOPITER,   /* 'S' */
    PYMARSHAL_ELLIPSIS,   /* '.' */
    PYMARSHAL_INT,        /* 'i' 'I', and 'l' that fits in int64 */
    PYMARSHAL_BIGINT,     /* 'l' beyond int64: 15-bit digits */
    PYMARSHAL_FLOAT,      /* 'f' 'g' */
    PYMARSHAL_COMPLEX,    /* 'x' 'y' */
    PYMARSHAL_BYTES,      /* 's' (and Python 2 't'/'R' that are not UTF-8) */
    PYMARSHAL_STR,        /* 'u' 't' 'a' 'A' 'z' 'Z' (and Python 2 'R') */
    PYMARSHAL_TUPLE,      /* '(' ')' */
    PYMARSHAL_LIST,       /* '[' */
    PYMARSHAL_DICT,       /* '{' */
    PYMARSHAL_SET,        /* '<' */
    PYMARSHAL_FROZENSET,  /* '>' */
    PYMARSHAL_CODE,       /* 'c' */
    PYMARSHAL_SLICE,      /* ':' (version 5) */
    PYMARSHAL_FROZENDICT, /* '}' (version 6) */
    PYMARSHAL_REF         /* 'r' to a container/code: token only, never a value */
} pymarshal_kind;

/* Python's name of a kind ("int", "tuple", "code", ...): a static string. */
PYMARSHAL_API const char *pymarshal_kind_name(pymarshal_kind kind);

/* How the bytes of a STR are encoded. */
typedef enum pymarshal_text {
    PYMARSHAL_UTF8 = 0,   /* 'u' 't' (may hold surrogates, as surrogatepass) */
    PYMARSHAL_LATIN1 = 1  /* 'a' 'A' 'z' 'Z': one byte per code point */
} pymarshal_text;

/* Code object layouts, decided from the data. */
typedef enum pymarshal_code_layout {
    PYMARSHAL_CODE_PY27 = 1, /* 4 ints ... lnotab */
    PYMARSHAL_CODE_PY30,     /* 3.0-3.7: 5 ints ... lnotab */
    PYMARSHAL_CODE_PY38,     /* 3.8-3.10: 6 ints ... lnotab */
    PYMARSHAL_CODE_PY311     /* 3.11-3.14: 5 ints ... qualname, linetable, exceptiontable */
} pymarshal_code_layout;

/* ---------------------------------------------------------------- options */

#define PYMARSHAL_MAX_DEPTH_DEFAULT 2000 /* CPython's; PyPy's is 4901 */

/* Whose marshal.loads the reader imitates where interpreters disagree
 * (docs/marshal-decoder.md has the table): which type codes exist, what a
 * NULL where a dict value is due does (CPython 3 ends the dict, 2.7 drops
 * the pair, PyPy refuses), Latin-1 in 'a'/'z' strings, long digits, float
 * text, invalid UTF-8, which code layout a 'c' has, the depth limit.
 * PYMARSHAL_PY_AUTO guesses the writer from the data read so far: Python 2
 * forms ('R', a 't' that is not UTF-8, a 2.7 code layout) make it 2.7,
 * FLAG_REF on strings and containers but never on ints, floats, tuples or
 * code objects makes it PyPy, anything else CPython 3, with every type
 * code of every version accepted and code layouts decided from the data. */
typedef enum pymarshal_impl {
    PYMARSHAL_PY_AUTO = 0,
    PYMARSHAL_PY_CPYTHON, /* with `python_version`: 207, 306 ... 315 */
    PYMARSHAL_PY_PYPY     /* PyPy 7.3 (Python 3.9) */
} pymarshal_impl;

typedef struct pymarshal_options {
    const pymarshal_allocator *alloc; /* NULL: malloc */
    unsigned max_depth;               /* 0: the writer's (2000, PyPy 4901) */
    pymarshal_impl python;            /* whose rules; AUTO: guessed */
    unsigned python_version;          /* CPYTHON: 100 * major + minor, e.g.
                                         207, 312; 0: any Python 3 */
} pymarshal_options;

/* Parse "2.7", "3.12", "3" or "pypy" into the python fields of *opts (the
 * caller's; the other fields are left alone). Returns 0, or -1 when it
 * names no Python this library knows (*opts unchanged). */
PYMARSHAL_API int pymarshal_options_set_python(pymarshal_options *opts, const char *name);

/* ----------------------------------------------------------- token reader */

/* What the reader accepts, checked against CPython 2.7, 3.6-3.13 and PyPy
 * (docs/marshal-decoder.md; test/marshal_differential.py compares every
 * verdict with the real interpreters): under AUTO every type code of every
 * format version, since nothing in the stream names its version; under a
 * named Python, its own codes only. FLAG_REF slots are numbered in
 * pre-order when the type byte is read; frozenset, code, slice and
 * frozendict (and PyPy's tuples) reserve theirs and fill it when complete,
 * and a reference to a reserved slot is PYMARSHAL_EREF; N F T S . 0 and r
 * take no slot (PyPy gives N F T S . one). 'a' 'A' 'z' 'Z' are Latin-1
 * (bytes >= 0x80 pass, as in CPython; PyPy refuses them); 'u' and 't' are
 * UTF-8 with lone surrogates allowed; a 't' that is not UTF-8 is a Python 2
 * str and comes out as BYTES. 'f' text ends at a NUL byte, as in CPython.
 * Depth: an object at depth max_depth (0-based) is PYMARSHAL_EDEPTH, so
 * 1999 containers around a leaf load and 2000 do not, exactly as CPython.
 * NULL ('0') ends a dict where a key is due; where a value is due it ends
 * the dict (CPython 3), drops the pair (2.7) or is refused (PyPy), and the
 * NULL token says which (drops_key, closes). A dict key, set or frozenset
 * item that Python cannot hash (a list, dict or set, or a tuple, frozenset
 * or code object holding one, or a reference to a tuple still being read)
 * is PYMARSHAL_ETYPE, as Python's TypeError, unless a NULL value follows
 * the key. Code objects: the layout is the named Python's, or under AUTO
 * decided from the data (int field count, then a bytes object or a
 * reference to one, then the consts tuple or a reference to one; 3.0-3.7
 * against 3.11+ by the kind of the 10th field). Every count and length is
 * checked against the bytes left before anything is pushed; memory is the
 * reference table (8 bytes per FLAG_REF object), Python 2's interned list
 * (8 bytes per 't') and the stack: never one allocation per object. */

/* One object header as the reader meets it. Scalars are complete in the
 * token; containers announce their item count and their items follow as
 * tokens of their own:
 *   TUPLE/LIST/SET/FROZENSET: `count` items;  DICT: key, value, ... then a
 *   NULL token;  FROZENDICT: `count` key/value pairs (2*count tokens);
 *   SLICE: 3 items;  CODE: `count` fields in the order of its layout, the raw
 *   32-bit fields delivered as INT tokens (`raw_field` set).
 * A reference 'r' to a scalar is delivered as that scalar (`via_ref` set);
 * a reference to a container or code object as a REF token naming the slot
 * (`ref_target`) and the target's kind/offset (`count` as the target's).
 * Python 2's 'R' is delivered as the string it names (`via_ref` set).
 * `via_ref` holds the reference's own type code, 'r' or 'R' (0: direct),
 * and `offset` is then the offset of that 'r'/'R' byte; `data` still
 * points at the referenced object's bytes. */
typedef struct pymarshal_token {
    pymarshal_kind kind;
    size_t offset;          /* offset of the type byte */
    int64_t ref_slot;       /* slot this object took (FLAG_REF), else -1 */
    int64_t ref_target;     /* REF and via_ref tokens: the slot referred to, else -1 */
    uint8_t code;           /* the type byte without FLAG_REF */
    uint8_t via_ref;        /* delivered through 'r' or 'R' */
    uint8_t raw_field;      /* a raw 32-bit field of a code object */
    uint8_t text;           /* STR: pymarshal_text */
    uint8_t interned;       /* 't' 'A' 'Z' or Python 2 'R' */
    uint8_t code_layout;    /* CODE: pymarshal_code_layout */
    uint8_t drops_key;      /* NULL: it stands where a dict value was due, and
                               the key just delivered is not in the dict */
    uint8_t closes;         /* NULL: the dict ends here (its terminator, or
                               CPython 3's NULL value); 2.7's NULL value
                               drops the pair and the dict goes on */
    int64_t i;              /* INT */
    double f, imag;         /* FLOAT; COMPLEX: f + imag*j */
    const uint8_t *data;    /* BYTES/STR: bytes inside the input; BIGINT:
                               2*len bytes of little-endian u16 digits */
    size_t len;             /* BYTES/STR: byte count; BIGINT: digit count */
    int negative;           /* BIGINT sign */
    size_t count;           /* containers: items (see above); DICT: 0 */
    size_t target_offset;   /* REF: offset of the referenced object's type byte */
    pymarshal_kind target_kind; /* REF: the referenced object's kind */
} pymarshal_token;

typedef struct pymarshal_reader pymarshal_reader;

/* A reader over data[0..len). The data must stay valid and unchanged while
 * the reader and any token or value made from it live (mmap it). `opts`
 * may be NULL (malloc, the default depth). Returns a reader the caller
 * frees with pymarshal_reader_free, or NULL when the allocator failed
 * (err says so). */
PYMARSHAL_API pymarshal_reader *pymarshal_reader_new(const void *data, size_t len,
                                                     const pymarshal_options *opts,
                                                     pymarshal_error *err);
/* Frees r (NULL is allowed). Tokens it delivered die with it. */
PYMARSHAL_API void pymarshal_reader_free(pymarshal_reader *r);

/* The next token of the top-level object into *tok (the caller's; its
 * pointers point into the input). Returns 1 with *tok filled, 0 when the
 * top-level object is complete, -1 on error (sticky: every later call
 * returns -1; pymarshal_reader_error tells what). */
PYMARSHAL_API int pymarshal_reader_next(pymarshal_reader *r, pymarshal_token *tok);

/* Skip all items of the container (or code object) whose header token was
 * just returned, still validating them and taking their ref slots; no-op
 * after a scalar or REF token. 0 ok, -1 error. */
PYMARSHAL_API int pymarshal_reader_skip(pymarshal_reader *r);

/* Nesting depth of the next token (0 = the top-level object). */
PYMARSHAL_API unsigned pymarshal_reader_depth(const pymarshal_reader *r);

/* Bytes consumed so far; after the top-level object, where it ended
 * (bytes after it are ignored by Python: callers may warn). */
PYMARSHAL_API size_t pymarshal_reader_offset(const pymarshal_reader *r);

/* A new reader that replays the object in reference slot `slot` (as met by
 * a REF token) without taking new slots: references inside it resolve
 * against `parent`'s table. Free it with pymarshal_reader_free before the
 * parent. NULL with err set when the slot is missing or not yet filled. */
PYMARSHAL_API pymarshal_reader *pymarshal_reader_replay(pymarshal_reader *parent,
                                                        int64_t slot, pymarshal_error *err);

/* The reader's error (code PYMARSHAL_OK while there is none), owned by the
 * reader and valid while it lives. */
PYMARSHAL_API const pymarshal_error *pymarshal_reader_error(const pymarshal_reader *r);

/* ------------------------------------------------------------- value tree */

typedef struct pymarshal_doc pymarshal_doc;
typedef struct pymarshal_value pymarshal_value;

/* Decode the first object of data[0..len) into a tree owned by the doc.
 * `opts` may be NULL. Returns a doc the caller frees with
 * pymarshal_doc_free, or NULL on error with *err filled. `data` must
 * outlive the doc (strings point into it). */
PYMARSHAL_API pymarshal_doc *pymarshal_load(const void *data, size_t len,
                                            const pymarshal_options *opts,
                                            pymarshal_error *err);
/* Frees the doc and every value in it (NULL is allowed). */
PYMARSHAL_API void pymarshal_doc_free(pymarshal_doc *doc);
/* The decoded object, owned by the doc. */
PYMARSHAL_API const pymarshal_value *pymarshal_doc_root(const pymarshal_doc *doc);
/* Where the first object ended; < len means trailing bytes. */
PYMARSHAL_API size_t pymarshal_doc_end(const pymarshal_doc *doc);

/* The accessors below take any value, and NULL: asked for what a value is
 * not (the int of a tuple, item 5 of a pair), they return 0 or NULL and set
 * their out-parameters to 0. Pointers they return point into the doc or
 * into the input, and live as long as both. */
PYMARSHAL_API pymarshal_kind pymarshal_value_kind(const pymarshal_value *v);
/* Offset of the object's type byte in the input. */
PYMARSHAL_API size_t pymarshal_value_offset(const pymarshal_value *v);
/* INT's value; TRUE is 1. */
PYMARSHAL_API int64_t pymarshal_value_int(const pymarshal_value *v);
/* FLOAT's value; COMPLEX's real part. */
PYMARSHAL_API double pymarshal_value_float(const pymarshal_value *v);
/* COMPLEX's imaginary part. */
PYMARSHAL_API double pymarshal_value_imag(const pymarshal_value *v);
/* BIGINT: digits (15 bits each, least significant first) and sign. */
PYMARSHAL_API const uint16_t *pymarshal_value_bigint(const pymarshal_value *v,
                                                     size_t *ndigits, int *negative);
/* BYTES/STR: pointer and byte length; *text gets pymarshal_text for STR. */
PYMARSHAL_API const uint8_t *pymarshal_value_bytes(const pymarshal_value *v, size_t *len,
                                                   pymarshal_text *text);
/* 1 for a STR written interned ('t' 'A' 'Z', Python 2 'R'), else 0. */
PYMARSHAL_API int pymarshal_value_interned(const pymarshal_value *v);
/* Length: TUPLE LIST SET FROZENSET: items; DICT FROZENDICT: pairs; SLICE:
 * 3; CODE: fields. pymarshal_value_item(v, i) gets item i of a non-mapping,
 * pymarshal_value_key/val(v, i) the i-th pair of a mapping (file order). */
PYMARSHAL_API size_t pymarshal_value_len(const pymarshal_value *v);
PYMARSHAL_API const pymarshal_value *pymarshal_value_item(const pymarshal_value *v,
                                                          size_t i);
PYMARSHAL_API const pymarshal_value *pymarshal_value_key(const pymarshal_value *v,
                                                         size_t i);
PYMARSHAL_API const pymarshal_value *pymarshal_value_val(const pymarshal_value *v,
                                                         size_t i);

/* The fields of a code object that tools need, NULL/0 where the layout has
 * none (posonlyargcount before 3.8, nlocals in 3.11+, ...). `linetable` is
 * co_lnotab for the layouts before 3.11. pymarshal_value_len/item on a CODE
 * value give every field in file order, raw ints as INT values.
 * Returns 0, or -1 (and *out zeroed) when v is not a code object. */
typedef struct pymarshal_code_info {
    pymarshal_code_layout layout;
    int64_t argcount, posonlyargcount, kwonlyargcount, nlocals, stacksize, flags;
    int64_t firstlineno;
    const pymarshal_value *code, *consts, *names, *varnames, *freevars,
        *cellvars, *localsplusnames, *localspluskinds, *filename, *name,
        *qualname, *linetable, *exceptiontable;
} pymarshal_code_info;
PYMARSHAL_API int pymarshal_value_code(const pymarshal_value *v,
                                       pymarshal_code_info *out);

/* ------------------------------------------------------------------ output */

/* A sink: returns 0 when all `len` bytes were taken, non-zero on failure
 * (the caller of the sink then stops and fails with an EIO code). The
 * bytes are only valid during the call. */
typedef int (*pymarshal_write_fn)(void *ctx, const void *buf, size_t len);

/* Python 3's repr(v), as `repr(marshal.loads(data))` prints it, without a
 * newline. Self-references print as `[...]`/`{...}`/`(...)` as Python does;
 * code objects as `<code object NAME at 0x..., file "FILE", line N>` with a
 * stable made-up address. Stops with PYMARSHAL_ELIMIT after max_output
 * bytes (0: no limit): shared objects are printed at each use, as Python
 * does, so a small input can describe a huge repr. Returns 0, or -1 with
 * err filled (PYMARSHAL_ELIMIT, PYMARSHAL_EIO when write failed,
 * PYMARSHAL_ENOMEM). */
PYMARSHAL_API int pymarshal_repr(const pymarshal_value *v, size_t max_output,
                                 const pymarshal_allocator *alloc, pymarshal_write_fn write,
                                 void *ctx, pymarshal_error *err);

/* ----------------------------------------------------------------- writer */

/* Low-level writer: the caller states each object; FLAG_REF only where the
 * caller asks for a slot (PYMARSHAL_W_REF), references by slot number.
 * version 0: the default, 4.
 * version 2: no refs, no short forms (Python 2.5+ loads it); an int beyond
 *   32 bits is 'I' there, as Python 2 writes it (Python 3 reads it too);
 * version 3/4: refs, and for 4 the short forms ('z' 'Z' 'a' 'A' ')') too;
 *   an int beyond 32 bits is 'l', as Python 3 writes it.
 * Floats are binary ('g' 'y'). A str is ASCII ('z' 'a' in v4) or UTF-8
 * ('u', interned 't'). Slots are numbered in the order they are asked for,
 * which must be the pre-order of the objects (as readers number them).
 * pymarshal_writer_new returns a writer the caller ends with
 * pymarshal_writer_finish (which frees it), or NULL with err filled for a
 * version other than 0, 2, 3, 4, a NULL write, or when the allocator
 * failed. */
typedef struct pymarshal_writer pymarshal_writer;
#define PYMARSHAL_VERSION_DEFAULT 4 /* what version 0 means to the writer */
#define PYMARSHAL_W_REF 1u      /* give this object the next ref slot */
#define PYMARSHAL_W_INTERNED 2u /* STR: write as interned ('t'/'Z'/'A') */

PYMARSHAL_API pymarshal_writer *pymarshal_writer_new(int version,
                                                     const pymarshal_allocator *alloc,
                                                     pymarshal_write_fn write, void *ctx,
                                                     pymarshal_error *err);
/* Flushes and frees w, whatever happened; returns 0, or -1 when any write
 * or any call before failed (err, when not NULL, says what). */
PYMARSHAL_API int pymarshal_writer_finish(pymarshal_writer *w, pymarshal_error *err);
/* Each pymarshal_write_* below returns the ref slot taken (>= 0), -1 when
 * none was asked, and records errors stickily (checked by
 * pymarshal_writer_finish); the data passed in is copied out at once. */
/* NONE FALSE TRUE STOPITER ELLIPSIS, or NULL (a dict's terminator). */
PYMARSHAL_API int64_t pymarshal_write_simple(pymarshal_writer *w, pymarshal_kind kind);
PYMARSHAL_API int64_t pymarshal_write_int(pymarshal_writer *w, int64_t v, unsigned flags);
/* An int of ndigits 15-bit digits, least significant first. */
PYMARSHAL_API int64_t pymarshal_write_bigint(pymarshal_writer *w, const uint16_t *digits,
                                             size_t ndigits, int negative, unsigned flags);
PYMARSHAL_API int64_t pymarshal_write_float(pymarshal_writer *w, double v, unsigned flags);
PYMARSHAL_API int64_t pymarshal_write_complex(pymarshal_writer *w, double re, double im,
                                              unsigned flags);
PYMARSHAL_API int64_t pymarshal_write_bytes(pymarshal_writer *w, const void *s, size_t len,
                                            unsigned flags);
/* STR from UTF-8 (surrogates allowed); ASCII text uses 'a'/'z' forms in v4. */
PYMARSHAL_API int64_t pymarshal_write_str(pymarshal_writer *w, const void *utf8, size_t len,
                                          unsigned flags);
/* Container headers (TUPLE LIST SET FROZENSET with their item count, or a
 * DICT): then write the items. Dicts end with pymarshal_write_dict_end. */
PYMARSHAL_API int64_t pymarshal_write_seq(pymarshal_writer *w, pymarshal_kind kind,
                                          size_t count, unsigned flags);
PYMARSHAL_API int64_t pymarshal_write_dict(pymarshal_writer *w, unsigned flags);
PYMARSHAL_API void pymarshal_write_dict_end(pymarshal_writer *w);
/* A reference 'r' to a slot an earlier write returned. */
PYMARSHAL_API void pymarshal_write_ref(pymarshal_writer *w, int64_t slot);
/* Code object header in one of the layouts; then write its fields in the
 * layout's order, the raw 32-bit ones with pymarshal_write_raw_i32. */
PYMARSHAL_API int64_t pymarshal_write_code(pymarshal_writer *w,
                                           pymarshal_code_layout layout, unsigned flags);
PYMARSHAL_API void pymarshal_write_raw_i32(pymarshal_writer *w, int32_t v);

/* Python's repr of a float (shortest round trip: 0.1, 1e-05, inf, nan,
 * -0.0, 1e+16) into the caller's buf (at least 32 bytes), NUL-terminated;
 * returns the length. */
PYMARSHAL_API size_t pymarshal_float_repr(double v, char *buf);
/* Python 3's repr of a str given as UTF-8 (kind PYMARSHAL_STR; quotes and
 * escapes chosen as Python chooses them) or of bytes (PYMARSHAL_BYTES,
 * b'...'), through a sink. Returns 0, or -1 when the sink failed. */
PYMARSHAL_API int pymarshal_str_repr(const void *s, size_t len, pymarshal_kind kind,
                                     pymarshal_text text, pymarshal_write_fn write,
                                     void *ctx);

/* Encode a whole tree: objects referenced more than once (and only those)
 * get FLAG_REF (version >= 3); in version 2 shared objects are written at
 * each use (a cycle is PYMARSHAL_EVALUE there; beware that a small shared
 * DAG can expand to a huge output: a sink may stop it by failing). Code
 * objects are written in the layout they were read in; Latin-1 text as
 * ASCII forms or UTF-8; an int read from 'l' stays 'l' (a Python 2 long
 * keeps its type). decode(encode(v)) equals v (pymarshal_value_equal).
 * version 0 means PYMARSHAL_VERSION_DEFAULT (4). Returns 0, or -1 with
 * err filled (PYMARSHAL_EIO when write failed, PYMARSHAL_EVALUE,
 * PYMARSHAL_ENOMEM). */
PYMARSHAL_API int pymarshal_encode(const pymarshal_value *v, int version,
                                   const pymarshal_allocator *alloc,
                                   pymarshal_write_fn write, void *ctx,
                                   pymarshal_error *err);

/* Do a and b (from one doc or two) describe the same Python value, with
 * the same sharing-insensitive structure? Cycles are followed; text
 * compares by code points (Latin-1 and UTF-8 forms alike), floats by bits
 * (a NaN equals itself), interning is ignored. 1 equal, 0 not, -1 when
 * the allocator failed. */
PYMARSHAL_API int pymarshal_value_equal(const pymarshal_value *a, const pymarshal_value *b,
                                        const pymarshal_allocator *alloc);

/* Library version, e.g. "0.1.0" (same as pstats_version): a static string. */
PYMARSHAL_API const char *pymarshal_version(void);

#ifdef __cplusplus
}
#endif
#endif
