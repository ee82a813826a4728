/*
 * A complete libpstats program: load Python profiles, merge them as
 * pstats.Stats(a, b, ...) does, print the ten functions of largest
 * cumulative time as Python's print_stats(10) prints them, and write the
 * merged profile as a callgrind file for KCachegrind.
 *
 *     profile_summary OUT.callgrind PROFILE...
 *
 * Its output is what `pstats2callgrind --stats --sort cumulative --limit 10
 * PROFILE...` prints and what `pstats2callgrind -o OUT.callgrind PROFILE...`
 * writes (the test suite compares them). Build it against an installed
 * libpstats (docs/library.md):
 *
 *     cc profile_summary.c -o profile_summary $(pkg-config --cflags --libs libpstats)
 *
 * or with CMake: find_package(pstats) and the target pstats::pstats
 * (docs/examples/CMakeLists.txt).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pstats/pstats.h>

/* The library writes through a callback (a pstats_write_fn); here, stdio. */
static int write_to_file(void *ctx, const void *buf, size_t len)
{
    return fwrite(buf, 1, len, (FILE *)ctx) == len ? 0 : -1;
}

/* "profile_summary: FILE: offset N: message", as the project's programs say it. */
static void print_error(const char *what, const pstats_error *err)
{
    fprintf(stderr, "profile_summary: %s", err->file[0] ? err->file : what);
    if (err->has_offset)
        fprintf(stderr, ": offset %zu", err->offset);
    fprintf(stderr, ": %s\n", err->msg);
}

/* One file in a model of its own; NULL (after saying why) on error. */
static pstats_stats *load(const char *path)
{
    pstats_stats *s = pstats_new(NULL); /* NULL: the C library's malloc */
    if (!s) {
        fprintf(stderr, "profile_summary: out of memory\n");
        return NULL;
    }
    pstats_error err;
    if (pstats_load_path(s, path, &err) != 0) {
        print_error(path, &err);
        pstats_free(s);
        return NULL;
    }
    return s;
}

/* The inputs' names joined by spaces, for the callgrind file's `cmd:` line. */
static char *command_line(char **inputs, size_t n)
{
    size_t len = 1;
    for (size_t i = 0; i < n; i++)
        len += strlen(inputs[i]) + 1;
    char *cmd = malloc(len);
    if (!cmd)
        return NULL;
    cmd[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            strcat(cmd, " ");
        strcat(cmd, inputs[i]);
    }
    return cmd;
}

/* The model as a callgrind file at `path`; nothing is left there on error. */
static int write_callgrind(const pstats_stats *s, const char *path, const char *cmd)
{
    FILE *f = fopen(path, "wb");
    if (!f) {
        perror(path);
        return -1;
    }
    pstats_callgrind_options opts = {.unit = PSTATS_UNIT_NS, .cmd = cmd};
    pstats_error err;
    int rc = pstats_write_callgrind(&s, 1, &opts, write_to_file, f, &err);
    if (rc != 0)
        print_error(path, &err);
    if (fclose(f) != 0 && rc == 0) {
        perror(path);
        rc = -1;
    }
    if (rc != 0)
        remove(path);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: profile_summary OUT.callgrind PROFILE...\n");
        return 2;
    }
    const char *out = argv[1];
    char **inputs = argv + 2;
    size_t n = (size_t)argc - 2;
    int status = 1;
    pstats_error err;
    char *cmd = NULL;
    pstats_stats **models = calloc(n, sizeof *models);
    if (!models) {
        fprintf(stderr, "profile_summary: out of memory\n");
        goto done;
    }
    for (size_t i = 0; i < n; i++)
        if (!(models[i] = load(inputs[i])))
            goto done;

    /* pstats.Stats(a, b, c): a, then add(b, c). The others stay unchanged. */
    if (n > 1 && pstats_add(models[0], models + 1, n - 1, &err) != 0) {
        print_error(inputs[0], &err);
        goto done;
    }
    const char *keys[] = {"cumulative"};
    if (pstats_sort(models[0], keys, 1, &err) != 0) {
        print_error("sort", &err);
        goto done;
    }
    pstats_restriction top10 = {.kind = PSTATS_LIMIT_COUNT, .count = 10};
    if (pstats_print_stats(models[0], &top10, 1, write_to_file, stdout, &err) != 0) {
        print_error("standard output", &err);
        goto done;
    }
    if (fflush(stdout) != 0) {
        perror("standard output");
        goto done;
    }
    cmd = command_line(inputs, n);
    if (!cmd) {
        fprintf(stderr, "profile_summary: out of memory\n");
        goto done;
    }
    if (write_callgrind(models[0], out, cmd) != 0)
        goto done;
    status = 0;
done:
    if (models)
        for (size_t i = 0; i < n; i++)
            pstats_free(models[i]); /* NULL is allowed */
    free(models);
    free(cmd);
    return status;
}
