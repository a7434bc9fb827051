/*
 * utf8.c - one strict UTF-8 decoder for the whole core.
 */
#include "utf8.h"

size_t az_utf8_next(const unsigned char *v, size_t n, size_t i,
                    unsigned long *cp)
{
    unsigned char c = v[i];
    size_t len;
    unsigned long min;

    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2, min = 0x80, *cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3, min = 0x800, *cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4, min = 0x10000, *cp = c & 0x07;
    } else {
        return 0;
    }

    if (n - i < len)
        return 0;
    for (size_t k = 1; k < len; k++) {
        if ((v[i + k] & 0xc0) != 0x80)
            return 0;
        *cp = (*cp << 6) | (v[i + k] & 0x3f);
    }
    if (*cp < min || *cp > 0x10ffff || (*cp >= 0xd800 && *cp <= 0xdfff))
        return 0;
    return len;
}

int az_utf8_valid(const unsigned char *v, size_t n)
{
    unsigned long cp;

    for (size_t i = 0; i < n;) {
        size_t len = az_utf8_next(v, n, i, &cp);
        if (!len)
            return 0;
        i += len;
    }
    return 1;
}
