/*
 * A synthetic cProfile-like profile of n functions as marshal bytes, for
 * tests that need big models (two threads, radix sort, the loader's pipe):
 * function i is called by i - 1, by 7i mod n and, every 100th, by itself;
 * i and i + 5000 share a short name in different directories; every key
 * is different.
 */
#ifndef PSTATS_TEST_PROFILE_GEN_H
#define PSTATS_TEST_PROFILE_GEN_H

#include <stddef.h>

/* A malloc'd buffer of *len bytes (free() it). */
unsigned char *profile_gen(int n, size_t *len);

#endif
