/*
 * test_azure_time.c - every expiry shape of reference §8.2, the bounds of
 * §8.3, and junk that must be refused.
 */
#include <string.h>

#include "azure_time.h"
#include "tap.h"

#define NOW INT64_C(1700000000)

static int parses_to(const char *text, int64_t want)
{
    int64_t got = -12345;
    return az_expiry_parse(text, strlen(text), NOW, &got) == 0 && got == want;
}

static int refused(const char *text)
{
    int64_t got;
    return az_expiry_parse(text, strlen(text), NOW, &got) < 0;
}

static int lifetime_is(const char *text, int64_t want)
{
    int64_t got = -1;
    return az_lifetime_parse(text, strlen(text), &got) == 0 && got == want;
}

static int lifetime_refused(const char *text)
{
    int64_t got;
    return az_lifetime_parse(text, strlen(text), &got) < 0;
}

static void epoch_shapes(void)
{
    CHECK(parses_to("1643312761", 1643312761), "expires_on epoch string");
    CHECK(parses_to("1234567890", 1234567890), "expires_on Azure ML number");
    CHECK(parses_to("  1643312761\n", 1643312761), "expires_on trimmed");
    CHECK(parses_to("1000000000", 1000000000), "expires_on 10^9 is epoch");
    CHECK(parses_to("999999999", NOW + 999999999),
          "expires_on below 10^9 is a lifetime");
    CHECK(parses_to("3600", NOW + 3600), "expires_on 3600 is relative");
    CHECK(parses_to("253402300799", INT64_C(253402300799)),
          "expires_on 9999-12-31T23:59:59Z accepted");
    CHECK(refused("253402300800"), "expires_on past 9999-12-31 refused");
    CHECK(refused("43040261106000"), "expires_on far future refused");
    CHECK(refused("-1"), "expires_on negative refused");
    CHECK(refused("12345678901234567890"), "expires_on overflow refused");
}

static void rfc3339_shapes(void)
{
    CHECK(parses_to("3333-11-22T04:05:06.000Z", INT64_C(43040261106)),
          "RFC 3339 with Z and millis");
    CHECK(parses_to("2024-10-18T19:51:37.0000000+00:00", INT64_C(1729281097)),
          "ISO 8601 with 7-digit fraction and +00:00");
    CHECK(parses_to("2024-10-18T21:51:37+02:00", INT64_C(1729281097)),
          "ISO 8601 with +02:00 offset");
    CHECK(parses_to("2024-10-18T14:51:37-0500", INT64_C(1729281097)),
          "ISO 8601 with -0500 offset");
    CHECK(parses_to("2024-12-31 23:59:59", INT64_C(1735689599)),
          "ISO 8601 with space, no zone, read as UTC");
    CHECK(parses_to("2024-02-29T00:00:00Z", INT64_C(1709164800)),
          "leap day 2024");
    CHECK(parses_to("9999-12-31T23:59:59Z", INT64_C(253402300799)),
          "last accepted instant");
    CHECK(refused("9999-12-31T23:59:59-01:00"),
          "instant past 9999-12-31 via offset refused");
    CHECK(refused("2023-02-29T00:00:00Z"), "29 Feb of a common year refused");
    CHECK(refused("2024-13-01T00:00:00Z"), "month 13 refused");
    CHECK(refused("2024-01-01T24:00:00Z"), "hour 24 refused");
    CHECK(refused("2024-01-01T00:00:00."), "empty fraction refused");
    CHECK(refused("2024-01-01T00:00:00Zjunk"), "trailing junk refused");
    CHECK(refused("2024-01-01"), "date alone refused");
}

static void app_service_shapes(void)
{
    CHECK(parses_to("01/01/1970 00:00:42 +00:00", 42),
          "App Service 2017 Linux form");
    CHECK(parses_to("1/1/1970 12:00:42 AM +00:00", 42),
          "App Service 2017 Windows form, 12 AM is midnight");
    CHECK(parses_to("1/16/2020 5:24:12 AM +00:00", INT64_C(1579152252)),
          "App Service 2017 Windows AM");
    CHECK(parses_to("1/16/2020 5:24:12 PM +00:00", INT64_C(1579195452)),
          "App Service 2017 Windows PM");
    CHECK(parses_to("1/16/2020 12:24:12 PM +00:00", INT64_C(1579177452)),
          "12 PM is noon");
    CHECK(parses_to("06/20/2019 02:57:58 +00:00", INT64_C(1560999478)),
          "App Service 2017 zero-padded 24-hour");
    CHECK(parses_to("12/31/2024 23:59:59", INT64_C(1735689599)),
          "M/D/YYYY without zone read as UTC");
    CHECK(parses_to("09/14/2017 00:00:00 PM +00:00", INT64_C(1505390400)),
          "the old docs' 00:00:00 PM reads as noon");
    CHECK(refused("1/16/2020 13:24:12 PM +00:00"), "13 PM refused");
    CHECK(refused("2/30/2020 1:00:00 +00:00"), "30 February refused");
    CHECK(refused("1/16/20 5:24:12 AM +00:00"), "two-digit year refused");
}

static void rfc1123_and_junk(void)
{
    CHECK(parses_to("Sun, 22 Nov 3333 04:05:06 GMT", INT64_C(43040261106)),
          "RFC 1123");
    CHECK(parses_to("22 Nov 3333 04:05:06 GMT", INT64_C(43040261106)),
          "RFC 1123 without day name");
    CHECK(refused("Sun, 22 Foo 3333 04:05:06 GMT"), "RFC 1123 bad month");
    CHECK(refused(""), "empty refused");
    CHECK(refused("   "), "blank refused");
    CHECK(refused("unknown format"), "words refused");
    CHECK(refused("invalid-date-format"), "MSAL-GO junk refused");
    CHECK(refused("12.5"), "fraction refused");
    CHECK(refused("0x10"), "hex refused");
}

static void lifetimes(void)
{
    CHECK(lifetime_is("3600", 3600), "expires_in 3600");
    CHECK(lifetime_is("0", 0), "expires_in 0");
    CHECK(lifetime_is("2147483647", INT64_C(2147483647)), "expires_in max");
    CHECK(lifetime_refused("2147483648"), "expires_in past max refused");
    CHECK(lifetime_refused("-1"), "expires_in negative refused");
    CHECK(lifetime_refused(""), "expires_in empty refused");
    CHECK(lifetime_refused("1h"), "expires_in with unit refused");
}

static void formatting(void)
{
    char out[32];
    az_format_utc(INT64_C(1796406227), out, sizeof out);
    CHECK(strcmp(out, "2026-12-04T17:43:47Z") == 0, "format_utc");
    CHECK(az_epoch_from_utc(1970, 1, 1, 0, 0, 0) == 0, "epoch of 1970");
    CHECK(az_epoch_from_utc(2000, 3, 1, 0, 0, 0) == INT64_C(951868800),
          "epoch of 2000-03-01");
}

void suite_azure_time(void)
{
    epoch_shapes();
    rfc3339_shapes();
    app_service_shapes();
    rfc1123_and_junk();
    lifetimes();
    formatting();
}
