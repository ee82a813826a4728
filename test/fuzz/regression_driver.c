/*
 * Replays corpus files through LLVMFuzzerTestOneInput without libFuzzer, so
 * that every plain and sanitizer build runs the fuzz corpus as a test.
 * usage: regression_driver FILE-OR-DIRECTORY...   (directories: every file)
 * Prints how many inputs ran; exits 1 if a path cannot be read. When an
 * input crashes (a failed FUZZ_ASSERT, a signal, a sanitizer report), its
 * path is printed on stderr.
 */
#include <dirent.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The sanitizers' hook, when a sanitizer is linked in. */
void __sanitizer_set_death_callback(void (*callback)(void)) __attribute__((weak));

/* The input being replayed, for the crash report (a signal handler reads
 * it: a fixed buffer, set before the input runs). */
static char current[4096];

static void say_current(void)
{
    static const char head[] = "regression_driver: crashed on ";
    if (!current[0])
        return;
    (void)!write(STDERR_FILENO, head, sizeof head - 1);
    (void)!write(STDERR_FILENO, current, strlen(current));
    (void)!write(STDERR_FILENO, "\n", 1);
}

static void on_signal(int sig)
{
    say_current();
    signal(sig, SIG_DFL);
    raise(sig);
}

static void report_crashes(void)
{
    static const int sigs[] = {SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        signal(sigs[i], on_signal);
    if (__sanitizer_set_death_callback)
        __sanitizer_set_death_callback(say_current);
}

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    size_t cap = 4096, len = 0, n;
    uint8_t *buf = malloc(cap);
    while (buf && (n = fread(buf + len, 1, cap - len, f)) > 0) {
        len += n;
        if (len == cap) {
            uint8_t *p = realloc(buf, cap *= 2);
            if (!p) {
                free(buf);
                buf = NULL;
            }
            buf = p;
        }
    }
    fclose(f);
    if (!buf)
        return -1;
    snprintf(current, sizeof current, "%s", path);
    LLVMFuzzerTestOneInput(buf, len);
    current[0] = 0;
    free(buf);
    return 0;
}

static int run_path(const char *path, size_t *count)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return -1;
    if (!S_ISDIR(st.st_mode)) {
        ++*count;
        return run_file(path);
    }
    DIR *d = opendir(path);
    if (!d)
        return -1;
    struct dirent *e;
    int rc = 0;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char sub[4096];
        snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
        if (stat(sub, &st) == 0 && S_ISREG(st.st_mode)) {
            ++*count;
            if (run_file(sub) < 0)
                rc = -1;
        }
    }
    closedir(d);
    return rc;
}

int main(int argc, char **argv)
{
    size_t count = 0;
    int rc = 0;
    report_crashes();
    for (int i = 1; i < argc; i++) {
        if (run_path(argv[i], &count) < 0) {
            fprintf(stderr, "%s: cannot read\n", argv[i]);
            rc = 1;
        }
    }
    printf("%zu inputs replayed\n", count);
    return rc;
}
