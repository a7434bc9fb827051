/*
 * log.h - the one logger shared by the C core and Lua scripts.
 *
 * Levels, and what belongs in each:
 *   error  the operation failed; the line says what and, where it can, why
 *   warn   something is off but the run goes on (a retry, a fallback)
 *   info   milestones an operator wants in a normal run (token obtained)
 *   debug  each request and decision, for troubleshooting; never a body
 *          that may hold a secret, and headers only after redaction
 *
 * Every line passes through the mask: any byte string registered with
 * az_mask_add() is replaced by "*****" before the line is written.
 */
#ifndef AZ_LOG_H
#define AZ_LOG_H

#include <stddef.h>

enum az_log_level {
    AZ_LOG_ERROR = 0,
    AZ_LOG_WARN = 1,
    AZ_LOG_INFO = 2,
    AZ_LOG_DEBUG = 3
};

enum az_log_format { AZ_LOG_TEXT, AZ_LOG_JSON };

#define AZ_MASK "*****"

void az_log_set_level(int level);
int az_log_level(void);
void az_log_set_format(enum az_log_format format);
int az_log_enabled(int level);

/* Redirect output (tests); fd 2 by default. */
void az_log_set_fd(int fd);

/* Write one line at `level`; `origin` names a script, or NULL for the core. */
void az_log_line(int level, const char *origin, const char *msg);
void az_logf(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define az_error_log(...) az_logf(AZ_LOG_ERROR, __VA_ARGS__)
#define az_warn(...)      az_logf(AZ_LOG_WARN, __VA_ARGS__)
#define az_info(...)      az_logf(AZ_LOG_INFO, __VA_ARGS__)
#define az_debug(...)                                                          \
    do {                                                                       \
        if (az_log_enabled(AZ_LOG_DEBUG))                                      \
            az_logf(AZ_LOG_DEBUG, __VA_ARGS__);                                \
    } while (0)

/* Parse "error", "warn", ... ; -1 when unknown. */
int az_log_level_from_name(const char *name);
const char *az_log_level_name(int level);

/*
 * The mask registry.  Values are copied into memory that is wiped when the
 * registry is cleared.  Empty values are ignored.
 */
void az_mask_add(const void *value, size_t len);
void az_mask_clear(void);
size_t az_mask_count(void);

/*
 * 1 when `s` contains a registered value of at least min_len bytes.  The
 * floor keeps very short values (which also occur by chance) from
 * raising false alarms.
 */
int az_mask_found(const char *s, size_t len, size_t min_len);

/*
 * Copy `in` to `out` (capacity `outcap`, always NUL-terminated) with every
 * registered value replaced by AZ_MASK.  Returns the length written; a
 * result that does not fit is cut short.
 */
size_t az_mask_apply(const char *in, size_t inlen, char *out, size_t outcap);

#endif
