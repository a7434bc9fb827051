/*
 * harden.c - turn off core dumps and ptrace-style inspection.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include "harden.h"

int az_harden_process(void)
{
    struct rlimit none = {0, 0};
    int rc = 0;

    if (setrlimit(RLIMIT_CORE, &none) != 0)
        rc = -1;
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
        rc = -1;
    return rc;
}

/* Descriptors 3..FD_TRACKED-1 we were started with; higher ones are kept. */
#define FD_TRACKED 1024

static unsigned char inherited[FD_TRACKED];

/* Call fn for every open descriptor above stderr but the listing's own. */
static void each_open_fd(void (*fn)(int fd))
{
    DIR *dir = opendir("/proc/self/fd");
    if (!dir)
        return; /* no /proc: leave descriptors as they are */

    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        int fd = atoi(e->d_name);
        if (fd > 2 && fd != dirfd(dir))
            fn(fd);
    }
    closedir(dir);
}

static void mark_inherited(int fd)
{
    if (fd < FD_TRACKED)
        inherited[fd] = 1;
}

static void set_cloexec_if_ours(int fd)
{
    if (fd >= FD_TRACKED || inherited[fd])
        return;
    int flags = fcntl(fd, F_GETFD);
    if (flags >= 0)
        fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
}

void az_fd_note_inherited(void)
{
    each_open_fd(mark_inherited);
}

void az_fd_cloexec_ours(void)
{
    each_open_fd(set_cloexec_if_ours);
}
