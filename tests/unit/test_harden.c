#include <sys/prctl.h>
#include <sys/resource.h>

#include "harden.h"
#include "tap.h"

void suite_harden(void)
{
    struct rlimit rl;

    CHECK(az_harden_process() == 0, "harden succeeds");
    CHECK(getrlimit(RLIMIT_CORE, &rl) == 0 && rl.rlim_cur == 0 &&
              rl.rlim_max == 0,
          "harden sets RLIMIT_CORE to zero");
    CHECK(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 0,
          "harden makes the process non-dumpable");
}
