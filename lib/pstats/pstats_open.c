/*
 * The entry points of a load: pstats_load_path, pstats_load_fd and
 * pstats_load_buffer make the input (pstats_input.c) and hand it, with a
 * fresh model, to the load's driver (pstats_load.c); on success the
 * caller's empty model takes the fresh one's place. The model copies the
 * strings it keeps, so nothing of the input outlives the load.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pstats_input.h"
#include "pstats_internal.h"

/* A fresh model for a load into s (which must be empty), or NULL with
 * err set. */
static pstats_stats *start(pstats_stats *s, const char *name, pstats_error *err)
{
    if (s->nkeys || s->ninputs) {
        ps_seterr(err, PSTATS_EUSAGE, name, 0, 0,
                  "pstats_load_*: the model is not empty (use pstats_add to merge)");
        return NULL;
    }
    pstats_stats *t = pstats_new(&s->alc);
    if (!t) {
        ps_seterr(err, PSTATS_ENOMEM, name, 0, 0, "out of memory");
        return NULL;
    }
    t->load_flags = s->load_flags;
    return t;
}

/* Load the open input into t, then t into s; the input closed. */
static int finish(pstats_stats *s, pstats_stats *t, ps_input *in, const char *name,
                  time_t mtime, int has_mtime, pstats_error *err)
{
    int rc = ps_load_input(t, in, name, err, 1);
    ps_in_close(in); /* the model copied what it keeps */
    if (rc || ps_add_input(t, name, mtime, has_mtime)) {
        if (!err->code)
            ps_seterr(err, PSTATS_ENOMEM, name, 0, 0, "out of memory");
        pstats_free(t);
        return -1;
    }
    ps_replace(s, t);
    return 0;
}

int pstats_load_buffer(pstats_stats *s, const void *data, size_t len,
                       const char *name, time_t mtime, pstats_error *err)
{
    pstats_error local;
    if (!err)
        err = &local;
    memset(err, 0, sizeof *err);
    if (!name)
        name = "<buffer>";
    pstats_stats *t = start(s, name, err);
    ps_input in;
    if (!t)
        return -1;
    if (ps_in_open_mem(&in, t, data, len, name, err)) {
        pstats_free(t);
        return -1;
    }
    return finish(s, t, &in, name, mtime, mtime >= 0, err);
}

int pstats_load_fd(pstats_stats *s, int fd, const char *name, pstats_error *err)
{
    pstats_error local;
    if (!err)
        err = &local;
    memset(err, 0, sizeof *err);
    if (!name)
        name = "<fd>";
    pstats_stats *t = start(s, name, err);
    ps_input in;
    if (!t)
        return -1;
    if (ps_in_open_fd(&in, t, fd, name, err)) {
        pstats_free(t);
        return -1;
    }
    time_t mtime = in.mtime_sec;
    return finish(s, t, &in, name, mtime, mtime >= 0, err);
}

int pstats_load_path(pstats_stats *s, const char *path, pstats_error *err)
{
    pstats_error local;
    if (!err)
        err = &local;
    memset(err, 0, sizeof *err);
    pstats_stats *t = start(s, path, err);
    ps_input in;
    if (!t)
        return -1;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        ps_seterr(err, PSTATS_EIO, path, 0, 0, "cannot open: %s", strerror(errno));
        pstats_free(t);
        return -1;
    }
    if (ps_in_open_fd(&in, t, fd, path, err)) {
        close(fd);
        pstats_free(t);
        return -1;
    }
    struct stat st;
    time_t mtime = in.mtime_sec >= 0 ? in.mtime_sec : fstat(fd, &st) == 0 ? st.st_mtime : 0;
    int rc = finish(s, t, &in, path, mtime, 1, err);
    close(fd);
    return rc;
}
