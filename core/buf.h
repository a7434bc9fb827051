/*
 * buf.h - a growable byte buffer that wipes what it held.
 *
 * Used for anything that may carry a secret on its way through the core:
 * HTTP response bodies, request bodies, token text.  Growing copies into a
 * new block and wipes the old one; az_buf_free() wipes before freeing.
 */
#ifndef AZ_BUF_H
#define AZ_BUF_H

#include <stddef.h>

typedef struct az_buf {
    unsigned char *data;
    size_t len;
    size_t cap;
} az_buf;

#define AZ_BUF_INIT                                                            \
    {                                                                          \
        NULL, 0, 0                                                             \
    }

/* Both return 0, or -1 when memory runs out (the buffer is unchanged). */
int az_buf_reserve(az_buf *b, size_t extra);
int az_buf_append(az_buf *b, const void *data, size_t len);
int az_buf_append_str(az_buf *b, const char *s);

/* Keep a NUL after the data without counting it, so it reads as a string. */
int az_buf_terminate(az_buf *b);

void az_buf_reset(az_buf *b); /* wipe the contents, keep the block */
void az_buf_free(az_buf *b);  /* wipe and release */

#endif
