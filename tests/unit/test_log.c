#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "tap.h"

/* Run one log call with output captured through a pipe. */
static size_t capture(int json, const char *msg, char *out, size_t cap)
{
    int fds[2];
    size_t n = 0;

    if (pipe(fds) != 0)
        return 0;
    az_log_set_fd(fds[1]);
    az_log_set_format(json ? AZ_LOG_JSON : AZ_LOG_TEXT);
    az_logf(AZ_LOG_ERROR, "%s", msg);
    close(fds[1]);

    ssize_t r;
    while (n + 1 < cap && (r = read(fds[0], out + n, cap - 1 - n)) > 0)
        n += (size_t)r;
    out[n] = '\0';
    close(fds[0]);

    az_log_set_fd(2);
    az_log_set_format(AZ_LOG_TEXT);
    return n;
}

static void test_masking(void)
{
    char out[1024];
    const char *secret = "s3cr3t-V@lue";
    const char *longer = "s3cr3t-V@lue-and-more";

    az_mask_add(secret, strlen(secret));
    az_mask_add(longer, strlen(longer));
    az_mask_add("", 0);
    CHECK(az_mask_count() == 2, "mask ignores empty values");

    capture(0, "password is s3cr3t-V@lue, twice: s3cr3t-V@lue!", out,
            sizeof out);
    CHECK(strstr(out, "s3cr3t") == NULL,
          "text log line never shows a masked value");
    CHECK(strcmp(out, "azconjur: error: password is *****, twice: *****!\n") ==
              0,
          "text log line shows the mask in place of each value");

    capture(1, "value=s3cr3t-V@lue-and-more end", out, sizeof out);
    CHECK(strstr(out, "s3cr3t") == NULL && strstr(out, "-and-more") == NULL,
          "json log line masks the longest matching value");
    CHECK(strstr(out, "\"msg\":\"value=***** end\"") != NULL,
          "json log line carries the masked msg");
    CHECK(strstr(out, "\"level\":\"error\"") && strstr(out, "\"time\":\""),
          "json log line has time and level");

    capture(1, "bin \xff\xc3 ok \xc3\xa9 \xed\xa0\x80 \xf0\x9f\x94\x91", out,
            sizeof out);
    CHECK(strstr(out, "\"msg\":\"bin \\ufffd\\ufffd ok \xc3\xa9 "
                      "\\ufffd\\ufffd\\ufffd \xf0\x9f\x94\x91\"") != NULL,
          "json log line replaces bytes that are not UTF-8");

    capture(1, "quote \" and\nnewline", out, sizeof out);
    CHECK(strstr(out, "quote \\\" and\\nnewline") != NULL,
          "json log line escapes quotes and newlines");

    char small[5];
    size_t n = az_mask_apply("xs3cr3t-V@luey", 14, small, sizeof small);
    CHECK(n == 4 && strcmp(small, "x***") == 0,
          "mask_apply cuts short output safely");

    CHECK(az_mask_found("x=s3cr3t-V@lue;", 15, 6),
          "mask_found sees a registered value");
    CHECK(!az_mask_found("x=s3cr3t-V@lu", 13, 6),
          "mask_found needs the whole value");
    CHECK(!az_mask_found("x=s3cr3t-V@lue;", 15, 40),
          "mask_found ignores values under the floor");

    az_mask_clear();
    CHECK(az_mask_count() == 0, "mask clear empties the registry");
}

static void test_levels(void)
{
    char out[256];

    az_log_set_level(AZ_LOG_WARN);
    CHECK(az_log_enabled(AZ_LOG_WARN) && !az_log_enabled(AZ_LOG_INFO),
          "warn level hides info");
    az_log_set_level(99);
    CHECK(az_log_level() == AZ_LOG_DEBUG, "levels above debug are clamped");
    CHECK(az_log_level_from_name("info") == AZ_LOG_INFO &&
              az_log_level_from_name("x") == -1,
          "level names parse");

    az_log_set_level(AZ_LOG_ERROR);
    capture(0, "shown", out, sizeof out);
    CHECK(strstr(out, "shown") != NULL, "error lines show at error level");
}

/* A value longer than the line limit is masked before the line is cut. */
static void test_long_value_is_masked_before_the_cut(void)
{
    static char secret[10001], msg[10101], out[20000];

    memset(secret, 'Q', 5000);
    memset(secret + 5000, 'R', 5000);
    secret[10000] = '\0';
    az_mask_add(secret, strlen(secret));
    snprintf(msg, sizeof msg, "script.lua:3: %s", secret);

    capture(0, msg, out, sizeof out);
    CHECK(strchr(out, 'Q') == NULL && strchr(out, 'R') == NULL,
          "no part of a value longer than a log line shows");
    CHECK(strcmp(out, "azconjur: error: script.lua:3: *****\n") == 0,
          "a long value shows as the mask");

    memset(msg, 'x', 8180);
    snprintf(msg + 8180, sizeof msg - 8180, "%s", "s3cr3t-V@lue");
    az_mask_add("s3cr3t-V@lue", 12);
    capture(0, msg, out, sizeof out);
    CHECK(strstr(out, "s3cr") == NULL,
          "a value across the line limit shows no prefix");
    az_mask_clear();
}

void suite_log(void)
{
    test_masking();
    test_long_value_is_masked_before_the_cut();
    test_levels();
}
