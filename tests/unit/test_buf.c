#include <string.h>

#include "buf.h"
#include "tap.h"

void suite_buf(void)
{
    az_buf b = AZ_BUF_INIT;
    int ok = 1;

    for (int i = 0; i < 1000; i++)
        ok &= az_buf_append(&b, "0123456789", 10) == 0;
    CHECK(ok && b.len == 10000, "buf grows across many appends");
    CHECK(memcmp(b.data + 9990, "0123456789", 10) == 0,
          "buf keeps its contents when growing");

    CHECK(az_buf_terminate(&b) == 0 && b.data[b.len] == '\0' && b.len == 10000,
          "buf terminate adds a NUL without counting it");

    az_buf_reset(&b);
    int zero = 1;
    for (size_t i = 0; i < b.cap; i++)
        zero &= b.data[i] == 0;
    CHECK(b.len == 0 && zero, "buf reset wipes the whole block");

    az_buf_free(&b);
    CHECK(b.data == NULL && b.cap == 0, "buf free releases the block");
}
