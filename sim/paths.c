#include "apical/paths.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The directory part of path ("." for a bare name), in buf. */
static void dir_of(const char *path, char *buf, size_t n)
{
    snprintf(buf, n, "%s", path);
    char *slash = strrchr(buf, '/');
    if (!slash)
        snprintf(buf, n, ".");
    else if (slash == buf)
        buf[1] = '\0';
    else
        *slash = '\0';
}

static const char *base_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

static const char *kind_of(mode_t m)
{
    return S_ISCHR(m)    ? "a character device"
           : S_ISBLK(m)  ? "a block device"
           : S_ISFIFO(m) ? "a FIFO"
           : S_ISSOCK(m) ? "a socket"
           : S_ISDIR(m)  ? "a directory"
                         : "not a regular file";
}

apical_status apical_output_check(const char *path, int flags, const char *const *inputs,
                                  size_t n_inputs, apical_error *err)
{
    if (!path || !path[0])
        return apical_error_set(err, APICAL_E_IO, NULL, "empty output path");
    char dir[4096];
    dir_of(path, dir, sizeof dir);
    struct stat sb;
    if (stat(dir, &sb) != 0)
        return apical_error_set(err, APICAL_E_IO, NULL,
                                "cannot create output file '%s': directory '%s': %s", path, dir,
                                strerror(errno));
    if (!S_ISDIR(sb.st_mode))
        return apical_error_set(err, APICAL_E_IO, NULL,
                                "cannot create output file '%s': '%s' is not a directory", path,
                                dir);
    if (access(dir, W_OK | X_OK) != 0)
        return apical_error_set(err, APICAL_E_IO, NULL,
                                "cannot create output file '%s': directory '%s' is not writable: %s",
                                path, dir, strerror(errno));
    if (stat(path, &sb) != 0) {
        if (errno != ENOENT)
            return apical_error_set(err, APICAL_E_IO, NULL, "cannot write output file '%s': %s",
                                    path, strerror(errno));
        struct stat lb;
        /* a dangling symbolic link: fopen would create its target, somewhere
         * else; rename replaces the link itself, which is harmless */
        if (!(flags & APICAL_OUT_RENAMED) && lstat(path, &lb) == 0)
            return apical_error_set(err, APICAL_E_IO, NULL,
                                    "output file '%s' is a symbolic link to a file that does not "
                                    "exist; refusing to create its target",
                                    path);
        return APICAL_OK;
    }
    if (S_ISDIR(sb.st_mode))
        return apical_error_set(err, APICAL_E_IO, NULL,
                                "cannot create output file '%s': it is a directory", path);
    for (size_t i = 0; i < n_inputs; i++) {
        struct stat ib;
        if (inputs[i] && stat(inputs[i], &ib) == 0 && ib.st_dev == sb.st_dev &&
            ib.st_ino == sb.st_ino)
            return apical_error_set(err, APICAL_E_IO, NULL,
                                    "output file '%s' is '%s', which this run reads; choose "
                                    "another output",
                                    path, inputs[i]);
    }
    if ((flags & APICAL_OUT_RENAMED) && !S_ISREG(sb.st_mode))
        return apical_error_set(err, APICAL_E_IO, NULL,
                                "output file '%s' exists and is %s; apical writes '%s.part' and "
                                "renames it over the output, which would replace it: choose "
                                "another output",
                                path, kind_of(sb.st_mode), path);
    if (access(path, W_OK) != 0)
        return apical_error_set(err, APICAL_E_IO, NULL, "output file '%s' is not writable: %s",
                                path, strerror(errno));
    return APICAL_OK;
}

int apical_same_output(const char *a, const char *b)
{
    struct stat sa, sb;
    if (stat(a, &sa) == 0 && stat(b, &sb) == 0)
        return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
    if (strcmp(base_of(a), base_of(b)) != 0)
        return 0;
    char da[4096], db[4096];
    dir_of(a, da, sizeof da);
    dir_of(b, db, sizeof db);
    return stat(da, &sa) == 0 && stat(db, &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

int apical_fsync_dir(const char *path)
{
    char dir[4096];
    dir_of(path, dir, sizeof dir);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    /* some file systems cannot sync a directory (EINVAL): nothing to do */
    int rc = fsync(fd) != 0 && errno != EINVAL ? -1 : 0;
    close(fd);
    return rc;
}

FILE *apical_open_input(const char *path, const char *what, apical_error *err)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        apical_error_set(err, APICAL_E_IO, NULL, "cannot open %s '%s': %s", what, path,
                         strerror(errno));
        return NULL;
    }
    struct stat sb;
    const char *why = fstat(fd, &sb) != 0 ? strerror(errno) : NULL;
    if (why || !S_ISREG(sb.st_mode)) {
        if (why)
            apical_error_set(err, APICAL_E_IO, NULL, "cannot open %s '%s': %s", what, path, why);
        else
            apical_error_set(err, APICAL_E_IO, NULL, "%s '%s' is %s, not a regular file", what,
                             path, kind_of(sb.st_mode));
        close(fd);
        return NULL;
    }
    int fl = fcntl(fd, F_GETFL);
    FILE *f = fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0 ? NULL : fdopen(fd, "rb");
    if (!f) {
        apical_error_set(err, APICAL_E_IO, NULL, "cannot open %s '%s': %s", what, path,
                         strerror(errno));
        close(fd);
    }
    return f;
}

apical_status apical_check_input(const char *path, const char *what, apical_error *err)
{
    FILE *f = apical_open_input(path, what, err);
    if (!f)
        return APICAL_E_IO;
    fclose(f);
    return APICAL_OK;
}
