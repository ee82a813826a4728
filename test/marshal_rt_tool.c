/*
 * marshal_rt_tool VERSION SUFFIX IN...: decode each IN with pymarshal_load,
 * encode it with pymarshal_encode(VERSION) into IN+SUFFIX, decode that
 * again and check that both trees are equal (pymarshal_value_equal).
 * Used by marshal_roundtrip.py, which then asks real Pythons whether they
 * load the output to a value equal to the one IN gives them.
 * Exit status: 0 ok, 1 any mismatch or error (each on stderr), 2 usage.
 */
#include <stdio.h>
#include <stdlib.h>

#include "pstats/marshal.h"

typedef struct buf {
    unsigned char *p;
    size_t len, cap;
} buf;

static int sink(void *ctx, const void *p, size_t n)
{
    buf *b = ctx;
    if (b->len + n > b->cap) {
        size_t cap = 2 * (b->len + n) + 64;
        unsigned char *q = realloc(b->p, cap);
        if (!q)
            return -1;
        b->p = q;
        b->cap = cap;
    }
    for (size_t i = 0; i < n; i++)
        b->p[b->len + i] = ((const unsigned char *)p)[i];
    b->len += n;
    return 0;
}

static int slurp(const char *path, buf *b)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    unsigned char chunk[65536];
    size_t n;
    int rc = 0;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (sink(b, chunk, n) < 0)
            rc = -1;
    fclose(f);
    return rc;
}

/* One file: 0 ok, 1 failure (reported on stderr). */
static int round_trip(int version, const char *in_path, const char *suffix)
{
    buf in = {0}, out = {0};
    pymarshal_error err;
    int rc = 1;
    pymarshal_doc *a = NULL, *b = NULL;
    char out_path[4096];
    snprintf(out_path, sizeof out_path, "%s%s", in_path, suffix);
    if (slurp(in_path, &in) < 0) {
        fprintf(stderr, "%s: cannot read\n", in_path);
        goto done;
    }
    a = pymarshal_load(in.p, in.len, NULL, &err);
    if (!a) {
        fprintf(stderr, "%s: load: %s\n", in_path, err.msg);
        goto done;
    }
    if (pymarshal_encode(pymarshal_doc_root(a), version, NULL, sink, &out, &err) < 0) {
        fprintf(stderr, "%s: encode v%d: %s\n", in_path, version, err.msg);
        goto done;
    }
    FILE *f = fopen(out_path, "wb");
    if (!f || fwrite(out.p, 1, out.len, f) != out.len || fclose(f) != 0) {
        fprintf(stderr, "%s: cannot write\n", out_path);
        goto done;
    }
    b = pymarshal_load(out.p, out.len, NULL, &err);
    if (!b) {
        fprintf(stderr, "%s: reload: %s\n", out_path, err.msg);
        goto done;
    }
    if (pymarshal_value_equal(pymarshal_doc_root(a), pymarshal_doc_root(b), NULL) != 1) {
        fprintf(stderr, "%s: decode-encode-decode changed the value\n", in_path);
        goto done;
    }
    rc = 0;
done:
    pymarshal_doc_free(a);
    pymarshal_doc_free(b);
    free(in.p);
    free(out.p);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: marshal_rt_tool VERSION SUFFIX IN...\n");
        return 2;
    }
    int version = atoi(argv[1]), failures = 0;
    for (int i = 3; i < argc; i++)
        failures += round_trip(version, argv[i], argv[2]);
    return failures ? 1 : 0;
}
