/*
 * cli.c - helpers shared by the command implementations.
 */
#include <stdarg.h>
#include <stdio.h>

#include "cli.h"
#include "error.h"
#include "log.h"

int az_usage_error(const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    az_logf(AZ_LOG_ERROR, "%s (see 'azconjur help')", msg);
    return AZ_EXIT_USAGE;
}
