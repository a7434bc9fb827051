/*
 * harden.c - turn off core dumps and ptrace-style inspection.
 */
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
