#include <string.h>

#include "tap.h"
#include "utf8.h"

static int valid(const char *s)
{
    return az_utf8_valid((const unsigned char *)s, strlen(s));
}

void suite_utf8(void)
{
    unsigned long cp = 0;

    CHECK(valid("plain ascii") && valid(""),
          "utf8 accepts ASCII and empty text");
    CHECK(valid("p\xc3\xa4ssw\xc3\xb6rd \xe2\x98\x83 \xf0\x9f\x94\x91"),
          "utf8 accepts 2, 3 and 4 byte sequences");
    CHECK(az_utf8_next((const unsigned char *)"\xe2\x98\x83", 3, 0, &cp) == 3 &&
              cp == 0x2603,
          "utf8 decodes the code point");
    CHECK(!valid("\xc0\xaf"), "utf8 refuses an overlong form");
    CHECK(!valid("\xed\xa0\x80"), "utf8 refuses a surrogate");
    CHECK(!valid("\xf4\x90\x80\x80"),
          "utf8 refuses a code point past U+10FFFF");
    CHECK(!valid("\x80"), "utf8 refuses a stray continuation byte");
    CHECK(!valid("\xff"), "utf8 refuses 0xff");
    CHECK(az_utf8_next((const unsigned char *)"\xe2\x98", 2, 0, &cp) == 0,
          "utf8 refuses a sequence cut short");
}
