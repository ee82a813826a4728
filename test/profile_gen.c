/* See profile_gen.h. */
#include "profile_gen.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct gb {
    unsigned char *p;
    size_t n, cap;
    int oom;
} gb;

static void g_put(gb *b, const void *s, size_t n)
{
    if (b->oom)
        return;
    if (b->n + n > b->cap) {
        size_t cap = (b->n + n) * 2;
        unsigned char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
}

static void g_i32(gb *b, int c, int32_t v)
{
    unsigned char t[5] = {(unsigned char)c, (unsigned char)(v & 0xFF),
                          (unsigned char)((v >> 8) & 0xFF), (unsigned char)((v >> 16) & 0xFF),
                          (unsigned char)(((uint32_t)v >> 24) & 0xFF)};
    g_put(b, t, 5);
}

static void g_float(gb *b, double d)
{
    g_put(b, "g", 1);
    g_put(b, &d, 8); /* little-endian machines only, as the marshal format */
}

static void g_key(gb *b, int i)
{
    char file[64], name[32];
    snprintf(file, sizeof file, "/src/dir%d/mod%d.py", i % 7, i % 1000);
    snprintf(name, sizeof name, "f%d", i % 5000);
    g_put(b, ")\x03", 2);
    g_i32(b, 'u', (int32_t)strlen(file));
    g_put(b, file, strlen(file));
    g_i32(b, 'i', i % 50 + 1 + 100 * (i / 35000)); /* unique from 35000 on too */
    g_i32(b, 'u', (int32_t)strlen(name));
    g_put(b, name, strlen(name));
}

unsigned char *profile_gen(int n, size_t *len)
{
    gb b = {NULL, 0, 0, 0};
    g_put(&b, "{", 1);
    for (int i = 0; i < n; i++) {
        int callers[3] = {i - 1, (int)((7LL * i) % n), i % 100 == 0 ? i : -1};
        g_key(&b, i);
        g_put(&b, ")\x05", 2);
        g_i32(&b, 'i', 3);
        g_i32(&b, 'i', 3);
        g_float(&b, 0.001 * (i % 13));
        g_float(&b, 0.01 * (i % 17));
        g_put(&b, "{", 1);
        for (int k = 0; k < 3; k++) {
            if (callers[k] < 0 || (k == 1 && (callers[1] == i - 1 || callers[1] == i)))
                continue;
            g_key(&b, callers[k]);
            g_put(&b, ")\x04", 2);
            g_i32(&b, 'i', 1 + k);
            g_i32(&b, 'i', 1 + k);
            g_float(&b, 0.0005 * k);
            g_float(&b, 0.002 * (i % 5));
        }
        g_put(&b, "0", 1);
    }
    g_put(&b, "0", 1);
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    *len = b.n;
    return b.p;
}
