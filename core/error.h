/*
 * error.h - how a failure travels from the core to the command line or Lua.
 *
 * Every core function that can fail fills an az_error and returns -1.  The
 * record carries three views of the same failure: the process exit code of
 * DESIGN §3, a short word for Lua scripts (`code`), and one line of text
 * that names what failed.  Messages never contain a secret: they are built
 * from URLs, ids and statuses, and the logger masks them once more.
 */
#ifndef AZ_ERROR_H
#define AZ_ERROR_H

#include <stdarg.h>

enum az_exit {
    AZ_EXIT_OK = 0,
    AZ_EXIT_RUNTIME = 1,
    AZ_EXIT_USAGE = 2,
    AZ_EXIT_CONFIG = 3,
    AZ_EXIT_IDENTITY = 4,
    AZ_EXIT_AUTHN = 5,
    AZ_EXIT_SECRET = 6,
    AZ_EXIT_CONJUR = 7,
    AZ_EXIT_NOEXEC = 126,
    AZ_EXIT_NOTFOUND = 127
};

#define AZ_ERROR_MESSAGE_MAX 1024

typedef struct az_error {
    int exit_code;    /* one of enum az_exit */
    const char *code; /* static word: "config", "not_found", ... */
    long status;      /* HTTP status when one was received, else 0 */
    char message[AZ_ERROR_MESSAGE_MAX];
} az_error;

/* Reset to "no error". */
void az_error_clear(az_error *err);

/* Fill err and return -1, so callers can write `return az_fail(...)`. */
int az_fail(az_error *err, int exit_code, const char *code, long status,
            const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Put a short context in front of an existing message ("reading X: ..."). */
void az_error_prefix(az_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
