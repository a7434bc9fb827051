/*
 * buf.c - wiping byte buffers.
 */
#include <string.h>

#include <openssl/crypto.h>

#include "buf.h"

int az_buf_reserve(az_buf *b, size_t extra)
{
    if (extra > ((size_t)-1) / 2 - b->len)
        return -1;
    if (b->len + extra <= b->cap)
        return 0;

    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra)
        cap *= 2;

    /* realloc could leave a copy behind in freed memory: copy by hand */
    unsigned char *grown = OPENSSL_malloc(cap);
    if (!grown)
        return -1;
    if (b->data) {
        memcpy(grown, b->data, b->len);
        OPENSSL_clear_free(b->data, b->cap);
    }
    b->data = grown;
    b->cap = cap;
    return 0;
}

int az_buf_append(az_buf *b, const void *data, size_t len)
{
    if (az_buf_reserve(b, len) < 0)
        return -1;
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    return 0;
}

int az_buf_append_str(az_buf *b, const char *s)
{
    return az_buf_append(b, s, strlen(s));
}

int az_buf_terminate(az_buf *b)
{
    if (az_buf_reserve(b, 1) < 0)
        return -1;
    b->data[b->len] = '\0';
    return 0;
}

void az_buf_reset(az_buf *b)
{
    if (b->data)
        OPENSSL_cleanse(b->data, b->cap);
    b->len = 0;
}

void az_buf_free(az_buf *b)
{
    if (b->data)
        OPENSSL_clear_free(b->data, b->cap);
    b->data = NULL;
    b->len = b->cap = 0;
}
