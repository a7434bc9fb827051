/*
 * azure_time.c - reading Azure's many spellings of an expiry instant.
 *
 * Each shape has its own small matcher over a cursor; a matcher either
 * consumes the whole text and yields a calendar time, or fails without
 * side effects.  No locale, no strptime: the App Service forms are not
 * what any C library expects, and the result must not depend on the host.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "azure_time.h"

typedef struct cursor {
    const char *p;
    const char *end;
} cursor;

typedef struct civil {
    int year, month, day, hour, minute, second;
    int offset_s; /* local time minus UTC */
} civil;

/* ---- calendar ------------------------------------------------------------ */

static int is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* Days since 1970-01-01 of a proleptic Gregorian date (year >= 1). */
static int64_t days_since_epoch(int y, int m, int d)
{
    /* count years from March so the leap day is the year's last day */
    int64_t yy = m <= 2 ? y - 1 : y;
    int64_t mm = m <= 2 ? m + 9 : m - 3;
    int64_t days = yy * 365 + yy / 4 - yy / 100 + yy / 400;
    days += (153 * mm + 2) / 5 + d - 1;
    return days - 719468; /* the same count for 1970-03-01 minus Jan+Feb */
}

int64_t az_epoch_from_utc(int year, int month, int day, int hour, int minute,
                          int second)
{
    if (year < 1 || year > 9999 || month < 1 || month > 12 || day < 1 ||
        day > days_in_month(year, month) || hour < 0 || hour > 23 ||
        minute < 0 || minute > 59 || second < 0 || second > 59)
        return -1;
    return days_since_epoch(year, month, day) * 86400 + hour * 3600 +
           minute * 60 + second;
}

void az_format_utc(int64_t epoch, char *out, size_t cap)
{
    time_t t = (time_t)epoch;
    struct tm tm;

    if (!gmtime_r(&t, &tm) || !strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm))
        snprintf(out, cap, "@%lld", (long long)epoch);
}

/* ---- cursor helpers ------------------------------------------------------ */

static int at_end(const cursor *c)
{
    return c->p == c->end;
}

static int peek(const cursor *c)
{
    return at_end(c) ? -1 : (unsigned char)*c->p;
}

static int take(cursor *c, char ch)
{
    if (peek(c) != (unsigned char)ch)
        return 0;
    c->p++;
    return 1;
}

static int is_digit(int ch)
{
    return ch >= '0' && ch <= '9';
}

/* Between min and max digits into *out. */
static int digits(cursor *c, int min, int max, int *out)
{
    int n = 0, v = 0;

    while (n < max && is_digit(peek(c))) {
        v = v * 10 + (*c->p - '0');
        c->p++;
        n++;
    }
    *out = v;
    return n >= min;
}

static void skip_spaces(cursor *c)
{
    while (peek(c) == ' ')
        c->p++;
}

/* "Z", "+hh:mm", "-hh:mm", "+hhmm" or "+hh"; 0 when none matches. */
static int zone(cursor *c, int *offset_s)
{
    if (take(c, 'Z') || take(c, 'z')) {
        *offset_s = 0;
        return 1;
    }

    int sign = peek(c) == '+' ? 1 : peek(c) == '-' ? -1 : 0;
    int hh, mm = 0;
    if (!sign)
        return 0;
    c->p++;
    if (!digits(c, 2, 2, &hh) || hh > 23)
        return 0;
    if (take(c, ':') && !digits(c, 2, 2, &mm))
        return 0;
    if (is_digit(peek(c)) && !digits(c, 2, 2, &mm))
        return 0;
    if (mm > 59)
        return 0;
    *offset_s = sign * (hh * 3600 + mm * 60);
    return 1;
}

/* hh:mm:ss with one- or two-digit fields. */
static int clock_time(cursor *c, civil *t, int min_hour_digits)
{
    return digits(c, min_hour_digits, 2, &t->hour) && take(c, ':') &&
           digits(c, 1, 2, &t->minute) && take(c, ':') &&
           digits(c, 1, 2, &t->second);
}

/* ---- the shapes ---------------------------------------------------------- */

/* YYYY-MM-DD[T ]hh:mm:ss[.fraction][zone] */
static int match_rfc3339(cursor c, civil *t)
{
    if (!digits(&c, 4, 4, &t->year) || !take(&c, '-') ||
        !digits(&c, 2, 2, &t->month) || !take(&c, '-') ||
        !digits(&c, 2, 2, &t->day))
        return 0;
    if (!take(&c, 'T') && !take(&c, 't') && !take(&c, ' '))
        return 0;
    if (!clock_time(&c, t, 2))
        return 0;

    if (take(&c, '.')) {
        int ignored;
        if (!digits(&c, 1, 1, &ignored))
            return 0;
        while (is_digit(peek(&c)))
            c.p++; /* sub-second precision does not matter for expiry */
    }
    t->offset_s = 0;
    if (!at_end(&c) && !zone(&c, &t->offset_s))
        return 0;
    return at_end(&c);
}

/* M/D/YYYY h:mm:ss[ AM|PM][ zone], as App Service 2017 writes it */
static int match_app_service(cursor c, civil *t)
{
    if (!digits(&c, 1, 2, &t->month) || !take(&c, '/') ||
        !digits(&c, 1, 2, &t->day) || !take(&c, '/') ||
        !digits(&c, 4, 4, &t->year) || !take(&c, ' '))
        return 0;
    if (!clock_time(&c, t, 1))
        return 0;

    skip_spaces(&c);
    int pm = -1;
    if (c.end - c.p >= 2 && strncasecmp(c.p, "AM", 2) == 0)
        pm = 0;
    else if (c.end - c.p >= 2 && strncasecmp(c.p, "PM", 2) == 0)
        pm = 1;
    if (pm >= 0) {
        /* 12-hour clock; an old docs sample wrote "00:00:00 PM" for noon */
        if (t->hour > 12)
            return 0;
        t->hour = t->hour % 12 + (pm ? 12 : 0);
        c.p += 2;
        skip_spaces(&c);
    }

    t->offset_s = 0;
    if (!at_end(&c) && !zone(&c, &t->offset_s))
        return 0;
    return at_end(&c);
}

static int month_from_name(const char *p)
{
    static const char names[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    for (int m = 0; m < 12; m++) {
        if (strncasecmp(p, names + 3 * m, 3) == 0)
            return m + 1;
    }
    return 0;
}

/* [Day, ]DD Mon YYYY hh:mm:ss GMT|UTC|zone */
static int match_rfc1123(cursor c, civil *t)
{
    if (c.end - c.p >= 5 && c.p[3] == ',' && !is_digit(peek(&c))) {
        c.p += 4; /* the day name is redundant; skip it */
        skip_spaces(&c);
    }
    if (!digits(&c, 1, 2, &t->day) || !take(&c, ' ') || c.end - c.p < 4)
        return 0;
    t->month = month_from_name(c.p);
    if (!t->month || c.p[3] != ' ')
        return 0;
    c.p += 4;
    if (!digits(&c, 4, 4, &t->year) || !take(&c, ' ') ||
        !clock_time(&c, t, 2) || !take(&c, ' '))
        return 0;

    t->offset_s = 0;
    size_t rest = (size_t)(c.end - c.p);
    if (rest == 3 &&
        (strncasecmp(c.p, "GMT", 3) == 0 || strncasecmp(c.p, "UTC", 3) == 0))
        return 1;
    return zone(&c, &t->offset_s) && at_end(&c);
}

/* ---- entry points -------------------------------------------------------- */

static void trim(const char **p, size_t *len)
{
    while (*len && (**p == ' ' || **p == '\t' || **p == '\n' || **p == '\r'))
        (*p)++, (*len)--;
    while (*len && ((*p)[*len - 1] == ' ' || (*p)[*len - 1] == '\t' ||
                    (*p)[*len - 1] == '\n' || (*p)[*len - 1] == '\r'))
        (*len)--;
}

/* All digits, at most 15 of them (bigger is past any bound we accept). */
static int parse_digits(const char *p, size_t len, int64_t *out)
{
    int64_t v = 0;

    if (len == 0 || len > 15)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (!is_digit((unsigned char)p[i]))
            return -1;
        v = v * 10 + (p[i] - '0');
    }
    *out = v;
    return 0;
}

int az_lifetime_parse(const char *text, size_t len, int64_t *seconds)
{
    int64_t v;

    trim(&text, &len);
    if (parse_digits(text, len, &v) < 0 || v > INT64_C(2147483647))
        return -1;
    *seconds = v;
    return 0;
}

int az_expiry_parse(const char *text, size_t len, int64_t now, int64_t *epoch)
{
    int64_t v;
    civil t;

    trim(&text, &len);
    if (parse_digits(text, len, &v) == 0) {
        if (v < AZ_EPOCH_RELATIVE_BELOW)
            v += now;
        if (v > AZ_EPOCH_MAX)
            return -1;
        *epoch = v;
        return 0;
    }

    cursor c = {text, text + len};
    memset(&t, 0, sizeof t);
    if (!match_rfc3339(c, &t) && !match_app_service(c, &t) &&
        !match_rfc1123(c, &t))
        return -1;

    v = az_epoch_from_utc(t.year, t.month, t.day, t.hour, t.minute, t.second);
    if (v < 0)
        return -1;
    v -= t.offset_s;
    if (v < 0 || v > AZ_EPOCH_MAX)
        return -1;
    *epoch = v;
    return 0;
}
