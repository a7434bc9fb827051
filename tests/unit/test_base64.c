#include <string.h>

#include "base64.h"
#include "tap.h"

/* Decode text and compare with the expected bytes; -1 expects failure. */
static int decodes_to(const char *text, const char *want, long want_len)
{
    unsigned char out[256];
    size_t bad = 0;
    long n = az_b64_decode(text, strlen(text), out, &bad);

    if (want_len < 0)
        return n < 0;
    return n == want_len && memcmp(out, want, (size_t)n) == 0;
}

static int encodes_to(const char *in, size_t n, const char *want)
{
    char out[256];
    size_t len = az_b64_encoded_len(n);

    az_b64_encode((const unsigned char *)in, n, out);
    return len == strlen(want) && memcmp(out, want, len) == 0;
}

void suite_base64(void)
{
    CHECK(encodes_to("", 0, ""), "base64 encodes empty input");
    CHECK(encodes_to("f", 1, "Zg=="), "base64 pads one byte");
    CHECK(encodes_to("fo", 2, "Zm8="), "base64 pads two bytes");
    CHECK(encodes_to("foo", 3, "Zm9v"), "base64 encodes three bytes");
    CHECK(encodes_to("\xff\xfe\x00", 3, "//4A"), "base64 encodes binary bytes");

    CHECK(decodes_to("Zm9vYmFy", "foobar", 6), "base64 decodes a plain string");
    CHECK(decodes_to("Zm8=", "fo", 2), "base64 decodes padding");
    CHECK(decodes_to("Zm8", "fo", 2), "base64 accepts missing padding");
    CHECK(decodes_to("Zm9v\nYmFy\n", "foobar", 6),
          "base64 skips Ruby line breaks");
    CHECK(decodes_to("__4A", "\xff\xfe\x00", 3),
          "base64 accepts the URL-safe alphabet");
    CHECK(decodes_to("Zm9v!", NULL, -1), "base64 rejects a foreign character");
    CHECK(decodes_to("Zg==Zg==", NULL, -1),
          "base64 rejects data after padding");
    CHECK(decodes_to("Z", NULL, -1), "base64 rejects a dangling character");
    CHECK(decodes_to("=Zg", NULL, -1), "base64 rejects leading padding");

    size_t bad = 0;
    unsigned char out[16];
    CHECK(az_b64_decode("Zm9v*", 5, out, &bad) < 0 && bad == 4,
          "base64 reports the offset of the bad byte");
}
