/*
 * The input of a load, a leaf of the load's steps: everything that reads
 * the input may call it, it calls none of them.
 */
#include <sys/mman.h>
#include <unistd.h>

#include "pstats_internal.h"

#define RELEASE_STEP ((size_t)1 << 20)

/* Every RELEASE_STEP bytes of a loader's progress, drop the pages of a
 * file mapping that it has passed: the model holds copies of what it
 * keeps. Pages read
 * again since (references to earlier objects re-fault them from the page
 * cache, unchanged: the mapping is private and read-only) go too, which is
 * why the range always starts at 0. Best effort: errors are ignored. */
void ps_release_behind(const uint8_t *data, size_t pos, size_t *released)
{
    if (pos - *released < RELEASE_STEP)
        return;
    long page = sysconf(_SC_PAGESIZE);
    size_t end = page > 0 ? pos & ~((size_t)page - 1) : 0;
    if (end)
        (void)madvise((void *)(uintptr_t)data, end, MADV_DONTNEED);
    *released = pos;
}
