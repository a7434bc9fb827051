#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "tap.h"

static int encodes(const char *in, const char *want)
{
    az_buf b = AZ_BUF_INIT;
    int ok = az_url_encode(&b, in, strlen(in)) == 0 && b.len == strlen(want) &&
             memcmp(b.data, want, b.len) == 0;
    az_buf_free(&b);
    return ok;
}

void suite_http(void)
{
    CHECK(encodes("host/azure-apps/vm1", "host%2Fazure-apps%2Fvm1"),
          "url encode turns / into %2F");
    CHECK(encodes("a b+c&d@e", "a%20b%2Bc%26d%40e"),
          "url encode escapes space, plus, ampersand and at");
    CHECK(encodes("A-z_0.9~", "A-z_0.9~"), "url encode keeps unreserved bytes");
    CHECK(encodes("\xc3\xa9", "%C3%A9"), "url encode escapes UTF-8 bytes");

    CHECK(az_url_host_is_loopback("http://127.0.0.1:8080/x"),
          "127.0.0.1 is loopback");
    CHECK(az_url_host_is_loopback("http://localhost/"),
          "localhost is loopback");
    CHECK(az_url_host_is_loopback("http://[::1]:99"), "[::1] is loopback");
    CHECK(az_url_host_is_loopback("http://127.8.9.1"), "127.8.9.1 is loopback");
    CHECK(!az_url_host_is_loopback("http://127.0.0.1.evil.example/"),
          "a name that starts with 127. is not loopback");
    CHECK(!az_url_host_is_loopback("http://localhost.evil.example/"),
          "localhost.example is not loopback");
    CHECK(!az_url_host_is_loopback("http://conjur.example.com/"),
          "a remote host is not loopback");
    CHECK(!az_url_host_is_loopback("http://127.0.0.1@evil.example/"),
          "user info does not make a host loopback");

    CHECK(az_http_header_is_sensitive("Authorization: Token token=\"x\""),
          "authorization header is sensitive");
    CHECK(az_http_header_is_sensitive("X-IDENTITY-HEADER: abc"),
          "identity header is sensitive");
    CHECK(az_http_header_is_sensitive("secret: abc"),
          "2017 secret header is sensitive");
    CHECK(!az_http_header_is_sensitive("Metadata: true"),
          "metadata header is not sensitive");

    setenv("AZCONJUR_RETRY_SCALE", "1", 1);
    long d1 = az_backoff_ms(1, 1000, 60000);
    long d3 = az_backoff_ms(3, 1000, 60000);
    long d9 = az_backoff_ms(9, 1000, 8000);
    CHECK(d1 >= 750 && d1 <= 1250, "first back-off is about the base");
    CHECK(d3 >= 3000 && d3 <= 5000,
          "third back-off is about four times the base");
    CHECK(d9 >= 6000 && d9 <= 10000, "back-off stops growing at the cap");
}
