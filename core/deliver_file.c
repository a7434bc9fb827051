/*
 * deliver_file.c - secret files: atomic replacement and private
 * directories on a memory file system.
 *
 * A secret file is never written in place.  A reader sees the old content
 * or the new one, never half of each, and a crash leaves at worst a
 * temporary ".NAME.XXXXXX" beside the target, created 0600.
 *
 * Caveats:
 *  - The unchanged check compares against the current content, so the
 *    old bytes are read into memory for a moment (then wiped).
 *  - Refusing a symbolic link at the destination does not guard the
 *    directories above it: they belong to whoever chose the path.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "deliver.h"

static int io_fail(az_error *err, const char *what, const char *path, int e)
{
    return az_fail(err, AZ_EXIT_RUNTIME, "io", 0, "cannot %s '%s': %s", what,
                   path, strerror(e));
}

static int write_all(int fd, const unsigned char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/*
 * 1 when the open file fd holds exactly data[0..len).  The file is read
 * in chunks and compared with CRYPTO_memcmp so the time taken does not
 * depend on where the first difference is.
 */
static int same_content(int fd, const struct stat *st,
                        const unsigned char *data, size_t len)
{
    unsigned char chunk[4096];
    size_t off = 0;
    int same = 1;

    if ((size_t)st->st_size != len)
        return 0;
    for (;;) {
        ssize_t r = read(fd, chunk, sizeof chunk);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 || (size_t)r > len - off) {
            same = 0;
            break;
        }
        if (r == 0)
            break;
        same &= CRYPTO_memcmp(chunk, data + off, (size_t)r) == 0;
        off += (size_t)r;
    }
    OPENSSL_cleanse(chunk, sizeof chunk);
    return same && off == len;
}

/*
 * Look at what is at path now.  Returns -1 (err filled) for something we
 * must not replace, 1 when it is a regular file holding the content with
 * the asked metadata, 0 otherwise (absent or different).
 */
static int check_existing(const char *path, const unsigned char *data,
                          size_t len, const az_file_opts *o, az_error *err)
{
    struct stat st;

    if (lstat(path, &st) != 0) {
        if (errno == ENOENT)
            return 0;
        return io_fail(err, "inspect", path, errno);
    }
    if (S_ISLNK(st.st_mode))
        return az_fail(err, AZ_EXIT_RUNTIME, "io", 0,
                       "refusing to write '%s': it is a symbolic link; "
                       "remove it or name the file it points to",
                       path);
    if (!S_ISREG(st.st_mode))
        return az_fail(err, AZ_EXIT_RUNTIME, "io", 0,
                       "refusing to write '%s': it is not a regular file",
                       path);

    int mode = o->mode < 0 ? 0600 : o->mode;
    if ((int)(st.st_mode & 07777) != mode ||
        (o->owner != (uid_t)-1 && st.st_uid != o->owner) ||
        (o->group != (gid_t)-1 && st.st_gid != o->group))
        return 0;

    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return 0; /* unreadable (write-only file): just replace it */
    int same = same_content(fd, &st, data, len);
    close(fd);
    return same;
}

/* Split path into its directory (in dir, "." when none) and base name. */
static int split_path(const char *path, char *dir, size_t cap,
                      const char **base, az_error *err)
{
    const char *slash = strrchr(path, '/');

    if (!slash) {
        snprintf(dir, cap, ".");
        *base = path;
    } else {
        size_t n = slash == path ? 1 : (size_t)(slash - path);
        if (n >= cap)
            return az_fail(err, AZ_EXIT_RUNTIME, "io", 0, "path too long: '%s'",
                           path);
        memcpy(dir, path, n);
        dir[n] = '\0';
        *base = slash + 1;
    }
    if (!**base || strcmp(*base, ".") == 0 || strcmp(*base, "..") == 0)
        return az_fail(err, AZ_EXIT_RUNTIME, "io", 0,
                       "'%s' does not name a file", path);
    return 0;
}

/* Create "<dir>/.<base>.<random>" exclusively; the name goes to tmp. */
static int create_temp(const char *dir, const char *base, char *tmp, size_t cap,
                       az_error *err)
{
    for (int attempt = 0; attempt < 16; attempt++) {
        unsigned char rnd[6];
        if (RAND_bytes(rnd, sizeof rnd) != 1)
            return az_fail(err, AZ_EXIT_RUNTIME, "io", 0,
                           "no random bytes for a temporary file name");
        int n = snprintf(tmp, cap, "%s/.%s.%02x%02x%02x%02x%02x%02x", dir, base,
                         rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5]);
        if (n < 0 || (size_t)n >= cap)
            return az_fail(err, AZ_EXIT_RUNTIME, "io", 0,
                           "path too long in '%s'", dir);

        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                      0600);
        if (fd >= 0)
            return fd;
        if (errno != EEXIST)
            return io_fail(err, "create a temporary file in", dir, errno);
    }
    return az_fail(err, AZ_EXIT_RUNTIME, "io", 0,
                   "cannot create a temporary file in '%s'", dir);
}

/* Content, owner and mode into the open temporary file, then fsync. */
static int fill_temp(int fd, const char *path, const unsigned char *data,
                     size_t len, const az_file_opts *o, az_error *err)
{
    if (write_all(fd, data, len) != 0)
        return io_fail(err, "write", path, errno);
    if ((o->owner != (uid_t)-1 || o->group != (gid_t)-1) &&
        fchown(fd, o->owner, o->group) != 0)
        return io_fail(err, "set the owner of", path, errno);
    /* after fchown, which may clear set-id bits; fchmod ignores the umask */
    if (fchmod(fd, (mode_t)(o->mode < 0 ? 0600 : o->mode)) != 0)
        return io_fail(err, "set the mode of", path, errno);
    if (fsync(fd) != 0)
        return io_fail(err, "sync", path, errno);
    return 0;
}

static void sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd); /* best effort: some file systems refuse it */
        close(fd);
    }
}

int az_file_write(const char *path, const unsigned char *data, size_t len,
                  const az_file_opts *opts, int *wrote, az_error *err)
{
    char dir[PATH_MAX], tmp[PATH_MAX];
    const char *base = NULL;

    *wrote = 0;
    if (split_path(path, dir, sizeof dir, &base, err) != 0)
        return -1;
    int existing = check_existing(path, data, len, opts, err);
    if (existing != 0)
        return existing < 0 ? -1 : 0;

    int fd = create_temp(dir, base, tmp, sizeof tmp, err);
    if (fd < 0)
        return -1;
    if (fill_temp(fd, path, data, len, opts, err) != 0) {
        close(fd);
        unlink(tmp);
        return -1;
    }
    close(fd);

    /* a symlink planted after the check is replaced, never followed */
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return io_fail(err, "replace", path, e);
    }
    sync_dir(dir);
    *wrote = 1;
    return 0;
}

/* ---- private directories for !file values ------------------------------- */

/* 1 when dir exists, is a directory and we may create files in it. */
static int usable_dir(const char *dir)
{
    struct stat st;
    return dir && dir[0] == '/' && stat(dir, &st) == 0 && S_ISDIR(st.st_mode) &&
           access(dir, W_OK | X_OK) == 0;
}

int az_memdir_create(char *out, size_t cap, az_error *err)
{
    const char *candidates[] = {"/dev/shm", getenv("XDG_RUNTIME_DIR"),
                                getenv("TMPDIR"), "/tmp"};
    const char *base = NULL;

    for (size_t i = 0; i < sizeof candidates / sizeof *candidates; i++) {
        if (usable_dir(candidates[i])) {
            base = candidates[i];
            break;
        }
    }
    if (!base)
        return az_fail(err, AZ_EXIT_RUNTIME, "io", 0,
                       "no writable directory for temporary secret files "
                       "(tried /dev/shm, $XDG_RUNTIME_DIR, $TMPDIR, /tmp)");

    int n = snprintf(out, cap, "%s/azconjur.XXXXXX", base);
    if (n < 0 || (size_t)n >= cap)
        return az_fail(err, AZ_EXIT_RUNTIME, "io", 0, "path too long: '%s'",
                       base);
    if (!mkdtemp(out)) /* mkdtemp creates it 0700 */
        return io_fail(err, "create a private directory in", base, errno);
    return 0;
}

void az_memdir_remove(const char *dir)
{
    DIR *d = opendir(dir);

    if (d) {
        int dfd = dirfd(d);
        const struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
                unlinkat(dfd, e->d_name, 0);
        }
        closedir(d);
    }
    rmdir(dir);
}
