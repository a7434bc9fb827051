/*
 * error.c - filling and decorating az_error records.
 */
#include <stdio.h>
#include <string.h>

#include "error.h"

void az_error_clear(az_error *err)
{
    err->exit_code = AZ_EXIT_OK;
    err->code = NULL;
    err->status = 0;
    err->message[0] = '\0';
}

int az_fail(az_error *err, int exit_code, const char *code, long status,
            const char *fmt, ...)
{
    va_list ap;

    err->exit_code = exit_code;
    err->code = code;
    err->status = status;

    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    return -1;
}

void az_error_prefix(az_error *err, const char *fmt, ...)
{
    char prefix[256];
    char old[AZ_ERROR_MESSAGE_MAX];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, err->message, sizeof old);

    /* prefix, ": ", then as much of the old message as fits */
    size_t room = sizeof err->message;
    size_t plen = strlen(prefix);
    size_t olen = strnlen(old, sizeof old - 1);
    if (plen + 2 >= room)
        plen = room - 3;
    if (plen + 2 + olen >= room)
        olen = room - plen - 3;

    memcpy(err->message, prefix, plen);
    memcpy(err->message + plen, ": ", 2);
    memcpy(err->message + plen + 2, old, olen);
    err->message[plen + 2 + olen] = '\0';
}
