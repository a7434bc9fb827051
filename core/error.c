/*
 * error.c - filling and decorating az_error records.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "error.h"
#include "log.h"

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
    int n = vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);

    /*
     * A message too long for the record is masked before it is cut: a
     * value cut in two would no longer match its mask when printed.
     */
    if (n >= (int)sizeof err->message) {
        char *full = malloc((size_t)n + 1);
        if (!full) {
            snprintf(err->message, sizeof err->message,
                     "(message dropped: out of memory)");
            return -1;
        }
        va_start(ap, fmt);
        vsnprintf(full, (size_t)n + 1, fmt, ap);
        va_end(ap);
        az_mask_apply(full, (size_t)n, err->message, sizeof err->message);
        OPENSSL_clear_free(full, (size_t)n + 1);
    }
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

    /* prefix, ": ", old message; masked as it is cut to fit (see az_fail) */
    char joined[sizeof prefix + 2 + sizeof old];
    int n = snprintf(joined, sizeof joined, "%s: %s", prefix, old);
    if (n < 0)
        n = 0;
    if ((size_t)n >= sizeof joined)
        n = (int)sizeof joined - 1;
    az_mask_apply(joined, (size_t)n, err->message, sizeof err->message);
    OPENSSL_cleanse(joined, sizeof joined);
    OPENSSL_cleanse(old, sizeof old);
}
