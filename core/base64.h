/*
 * base64.h - base64 in both alphabets, as Conjur and Azure use it.
 *
 * Conjur sends standard base64 with line breaks (Ruby's encode64) for batch
 * values and URL-safe base64 with padding for token parts; JWTs use
 * URL-safe base64 without padding.  One decoder accepts all of these.
 */
#ifndef AZ_BASE64_H
#define AZ_BASE64_H

#include <stddef.h>

/* Characters needed for the padded standard encoding of n bytes. */
size_t az_b64_encoded_len(size_t n);

/* Standard alphabet, padded; writes az_b64_encoded_len(n) chars, no NUL. */
void az_b64_encode(const unsigned char *in, size_t n, char *out);

/*
 * Decode `in` into `out` (room for at least n * 3 / 4 + 3 bytes).  Both
 * alphabets are accepted, padding is optional, ASCII whitespace is skipped.
 * Returns the decoded length, or -1 on a character outside the alphabets,
 * misplaced padding or a dangling single character; *bad then holds the
 * offset of the offending input byte.
 */
long az_b64_decode(const char *in, size_t n, unsigned char *out, size_t *bad);

#endif
