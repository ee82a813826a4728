/*
 * profile_gen N FILE: writes test/profile_gen.h's synthetic profile of N
 * functions to FILE (for the CLI tests that need a big input).
 */
#include <stdio.h>
#include <stdlib.h>

#include "profile_gen.h"

int main(int argc, char **argv)
{
    if (argc != 3 || atoi(argv[1]) <= 0) {
        fprintf(stderr, "usage: profile_gen N FILE\n");
        return 2;
    }
    size_t len;
    unsigned char *data = profile_gen(atoi(argv[1]), &len);
    FILE *f = fopen(argv[2], "wb");
    int ok = data && f && fwrite(data, 1, len, f) == len;
    if (f && fclose(f) != 0)
        ok = 0;
    free(data);
    if (!ok) {
        perror(argv[2]);
        return 1;
    }
    return 0;
}
