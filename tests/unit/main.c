/*
 * Unit test driver: runs every suite, prints TAP lines and a plan, exits
 * non-zero when a check failed.
 */
#include <stdio.h>

#include "tap.h"

static int count, failed;

void tap_check(int ok, const char *name, const char *file, int line,
               const char *expr)
{
    count++;
    if (ok) {
        printf("ok %d - unit: %s\n", count, name);
        return;
    }
    failed++;
    printf("not ok %d - unit: %s\n#   %s:%d: %s\n", count, name, file, line,
           expr);
}

int main(void)
{
    suite_azure_time();
    suite_base64();
    suite_buf();
    suite_config();
    suite_error();
    suite_harden();
    suite_http();
    suite_jwt();
    suite_log();
    suite_runtime();
    suite_utf8();

    printf("1..%d\n", count);
    return failed ? 1 : 0;
}
