/*
 * utf8.h - strict UTF-8 decoding, shared by every place that must know
 * whether bytes are text: JSON output, YAML and properties files, `get`
 * with several ids, JSON log lines.
 */
#ifndef AZ_UTF8_H
#define AZ_UTF8_H

#include <stddef.h>

/*
 * Decode the sequence at v[i] (i < n) into *cp and return its length (1
 * to 4), or 0 when it is not well-formed UTF-8: a stray continuation byte,
 * an overlong form, a surrogate, a code point past U+10FFFF, or a
 * sequence cut short by the end of the buffer.
 */
size_t az_utf8_next(const unsigned char *v, size_t n, size_t i,
                    unsigned long *cp);

/* 1 when all n bytes are well-formed UTF-8. */
int az_utf8_valid(const unsigned char *v, size_t n);

#endif
