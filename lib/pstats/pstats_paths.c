/*
 * pstats_map_paths(): file names rewritten by FROM=TO prefixes, so that a
 * profile taken on another machine (often Windows: C:\Users\x\proj\a.py)
 * names files where they are here (docs/user-guide.md, "Foreign paths").
 *
 * Rules (docs/pstats.md, "Path mapping"):
 * - A name is Windows-style when it starts with a drive ("C:"), with two
 *   backslashes (UNC), or holds a backslash. Such names compare with FROM
 *   after both have '\' made '/' and ASCII letters lowered (Windows file
 *   systems ignore case); other names compare byte for byte.
 * - FROM matches whole leading components only: /a/b matches /a/b and
 *   /a/b/c.py, never /a/bc.py. Trailing separators of FROM and TO are
 *   ignored (a root like "/" or "C:\" keeps its own).
 * - The longest matching FROM wins (the first given among equals); a name
 *   is mapped once. The rest of the name follows TO, its separators made
 *   TO's ('\' when TO has backslashes and no '/', else '/'); an empty
 *   TO leaves the rest as a relative name.
 * - The built-in functions' file "~" is never mapped.
 */
#include <string.h>

#include "pstats_internal.h"

typedef struct mapper {
    pstats_stats *s;
    const pstats_path_map *maps;
    size_t n;
    size_t *matched;      /* per map: names it changed (may be NULL) */
    psb out;              /* the name being built */
} mapper;

static int is_sep(uint8_t c) { return c == '/' || c == '\\'; }

static int windows_style(const uint8_t *p, size_t n)
{
    if (n >= 2 && p[1] == ':' && ((p[0] | 0x20) >= 'a' && (p[0] | 0x20) <= 'z'))
        return 1;
    return memchr(p, '\\', n) != NULL;
}

static uint8_t fold(uint8_t c, int win)
{
    if (!win)
        return c;
    if (c == '\\')
        return '/';
    return c >= 'A' && c <= 'Z' ? (uint8_t)(c | 0x20) : c;
}

/* FROM's length without trailing separators (a root keeps its own). */
static size_t trimmed(const char *z)
{
    size_t n = strlen(z);
    while (n > 1 && is_sep((uint8_t)z[n - 1]) && !(n == 3 && z[1] == ':'))
        n--;
    return n;
}

/* The length of the name's prefix that `from` matches, or 0. */
static size_t match(const char *from, const uint8_t *p, size_t n)
{
    size_t fl = trimmed(from);
    int win = windows_style(p, n);
    if (fl == 0 || fl > n)
        return 0;
    for (size_t i = 0; i < fl; i++)
        if (fold((uint8_t)from[i], win) != fold(p[i], win))
            return 0;
    if (fl == n || is_sep((uint8_t)from[fl - 1]))
        return fl;
    return (win ? (p[fl] == '/' || p[fl] == '\\') : p[fl] == '/') ? fl : 0;
}

static const uint8_t *map_one(void *ctx, const uint8_t *p, size_t n, size_t *out_len)
{
    mapper *m = ctx;
    size_t best = 0, at = 0;
    *out_len = n;
    if (n == 1 && p[0] == '~')
        return p;
    for (size_t i = 0; i < m->n; i++) {
        size_t l = match(m->maps[i].from, p, n);
        if (l > best) {
            best = l;
            at = i;
        }
    }
    if (best == 0)
        return p;
    const char *to = m->maps[at].to ? m->maps[at].to : "";
    size_t tl = trimmed(to);
    uint8_t sep = memchr(to, '\\', tl) && !memchr(to, '/', tl) ? '\\' : '/';
    const uint8_t *rest = p + best;
    size_t rl = n - best;
    while (rl > 0 && is_sep(rest[0])) {
        rest++;
        rl--;
    }
    m->out.len = 0;
    psb_put(&m->out, to, tl);
    if (rl > 0 && tl > 0 && !is_sep((uint8_t)to[tl - 1]))
        psb_put(&m->out, &sep, 1);
    for (size_t i = 0; i < rl; i++) {
        uint8_t c = is_sep(rest[i]) ? sep : rest[i];
        psb_put(&m->out, &c, 1);
    }
    if (m->out.oom)
        return NULL;
    if (m->matched)
        m->matched[at]++;
    *out_len = m->out.len;
    return (const uint8_t *)m->out.p;
}

int pstats_map_paths(pstats_stats *s, const pstats_path_map *maps, size_t n, size_t *matched,
                     pstats_error *err)
{
    pstats_error local;
    if (!err)
        err = &local;
    memset(err, 0, sizeof *err);
    for (size_t i = 0; i < n; i++) {
        if (!maps[i].from || trimmed(maps[i].from) == 0) {
            ps_seterr(err, PSTATS_EUSAGE, NULL, 0, 0, "a path map needs a FROM prefix");
            return -1;
        }
        if (matched)
            matched[i] = 0;
    }
    if (n == 0)
        return 0;
    mapper m;
    memset(&m, 0, sizeof m);
    m.s = s;
    m.maps = maps;
    m.n = n;
    m.matched = matched;
    psb_init(&m.out, s);
    int rc = ps_rename_files(s, map_one, &m, err);
    psb_free(&m.out);
    return rc;
}
