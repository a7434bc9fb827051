/*
 * azure_time.h - the expiry values Azure identity endpoints send, read
 * into epoch seconds; and the one way we print an instant.
 *
 * Accepted shapes (reference azure-identity.md §8.2, §8.4):
 *   digits                 >= 10^9: epoch seconds; below: seconds from now
 *   YYYY-MM-DD[T ]hh:mm:ss[.frac][Z|+hh:mm|-hh:mm]       (no zone: UTC)
 *   M/D/YYYY h:mm:ss[ AM|PM][ +hh:mm]                    (App Service 2017)
 *   [Day, ]DD Mon YYYY hh:mm:ss GMT                      (RFC 1123)
 * Surrounding whitespace is ignored.  Instants before 1970 or after
 * 9999-12-31T23:59:59Z, impossible dates and anything else are refused.
 */
#ifndef AZ_AZURE_TIME_H
#define AZ_AZURE_TIME_H

#include <stddef.h>
#include <stdint.h>

/* 9999-12-31T23:59:59Z, the last instant we accept. */
#define AZ_EPOCH_MAX INT64_C(253402300799)

/* Below this a bare number is a lifetime, not an instant (2001-09-09). */
#define AZ_EPOCH_RELATIVE_BELOW INT64_C(1000000000)

/*
 * Read an `expires_on` value.  `now` (epoch seconds) resolves relative
 * lifetimes.  0 and *epoch set, or -1.
 */
int az_expiry_parse(const char *text, size_t len, int64_t now, int64_t *epoch);

/*
 * Read an `expires_in` value: a decimal count of seconds, 0 to
 * 2147483647, nothing else.  0 and *seconds set, or -1.
 */
int az_lifetime_parse(const char *text, size_t len, int64_t *seconds);

/* Epoch seconds of a UTC calendar time; -1 for an impossible date. */
int64_t az_epoch_from_utc(int year, int month, int day, int hour, int minute,
                          int second);

/* "2026-12-03T18:00:00Z" into out (at least 21 bytes). */
void az_format_utc(int64_t epoch, char *out, size_t cap);

#endif
