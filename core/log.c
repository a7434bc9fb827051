/*
 * log.c - leveled, masked log lines to stderr, as text or JSON.
 *
 * The logger owns the mask registry because masking is only useful if
 * nothing can be written around it: every line, from C or Lua, is formatted
 * first and masked second, and only the masked copy reaches the descriptor.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "log.h"
#include "utf8.h"

#define LINE_MAX_BYTES 8192

static int current_level = AZ_LOG_WARN;
static enum az_log_format current_format = AZ_LOG_TEXT;
static int log_fd = 2;

static const char *const level_names[] = {"error", "warn", "info", "debug"};

typedef struct mask_entry {
    unsigned char *bytes;
    size_t len;
} mask_entry;

static mask_entry *masks;
static size_t mask_len, mask_cap;

void az_log_set_level(int level)
{
    if (level < AZ_LOG_ERROR)
        level = AZ_LOG_ERROR;
    if (level > AZ_LOG_DEBUG)
        level = AZ_LOG_DEBUG;
    current_level = level;
}

int az_log_level(void)
{
    return current_level;
}

void az_log_set_format(enum az_log_format format)
{
    current_format = format;
}

void az_log_set_fd(int fd)
{
    log_fd = fd;
}

int az_log_enabled(int level)
{
    return level <= current_level;
}

int az_log_level_from_name(const char *name)
{
    for (int i = 0; i <= AZ_LOG_DEBUG; i++) {
        if (strcmp(name, level_names[i]) == 0)
            return i;
    }
    return -1;
}

const char *az_log_level_name(int level)
{
    if (level < 0 || level > AZ_LOG_DEBUG)
        return "?";
    return level_names[level];
}

/* ---- mask registry ---------------------------------------------------- */

static int mask_contains(const void *value, size_t len)
{
    for (size_t i = 0; i < mask_len; i++) {
        if (masks[i].len == len && memcmp(masks[i].bytes, value, len) == 0)
            return 1;
    }
    return 0;
}

void az_mask_add(const void *value, size_t len)
{
    if (len == 0 || mask_contains(value, len))
        return;

    if (mask_len == mask_cap) {
        size_t cap = mask_cap ? mask_cap * 2 : 16;
        mask_entry *grown = realloc(masks, cap * sizeof *grown);
        if (!grown)
            abort(); /* cannot promise masking any more: stop here */
        masks = grown;
        mask_cap = cap;
    }

    unsigned char *copy = malloc(len);
    if (!copy)
        abort();
    memcpy(copy, value, len);
    masks[mask_len].bytes = copy;
    masks[mask_len].len = len;
    mask_len++;
}

void az_mask_clear(void)
{
    for (size_t i = 0; i < mask_len; i++)
        OPENSSL_clear_free(masks[i].bytes, masks[i].len);
    free(masks);
    masks = NULL;
    mask_len = mask_cap = 0;
}

size_t az_mask_count(void)
{
    return mask_len;
}

int az_mask_found(const char *s, size_t len, size_t min_len)
{
    for (size_t i = 0; i < mask_len; i++) {
        if (masks[i].len >= min_len &&
            memmem(s, len, masks[i].bytes, masks[i].len))
            return 1;
    }
    return 0;
}

/* Length of the longest registered value that starts at `p`, or 0. */
static size_t longest_mask_at(const char *p, size_t left)
{
    size_t best = 0;

    for (size_t i = 0; i < mask_len; i++) {
        const mask_entry *m = &masks[i];
        if (m->len > left || m->len <= best)
            continue;
        if ((unsigned char)p[0] == m->bytes[0] &&
            memcmp(p, m->bytes, m->len) == 0)
            best = m->len;
    }
    return best;
}

size_t az_mask_apply(const char *in, size_t inlen, char *out, size_t outcap)
{
    size_t o = 0;
    const size_t mark = sizeof AZ_MASK - 1;

    if (outcap == 0)
        return 0;

    for (size_t i = 0; i < inlen && o + 1 < outcap;) {
        size_t hit = mask_len ? longest_mask_at(in + i, inlen - i) : 0;
        if (hit) {
            size_t n = mark < outcap - 1 - o ? mark : outcap - 1 - o;
            memcpy(out + o, AZ_MASK, n);
            o += n;
            i += hit;
        } else {
            out[o++] = in[i++];
        }
    }
    out[o] = '\0';
    return o;
}

/* ---- output ------------------------------------------------------------- */

static void write_all(const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(log_fd, buf, len);
        if (n <= 0)
            return; /* stderr is gone; nothing sensible is left to do */
        buf += n;
        len -= (size_t)n;
    }
}

/*
 * Append `s` as the body of a JSON string (no quotes) to out.  Bytes that
 * are not UTF-8 (a script may log binary text) become U+FFFD, so every
 * line stays valid JSON.
 */
static size_t json_escape(const char *s, char *out, size_t cap)
{
    size_t o = 0;
    const char *end = s + strlen(s);
    unsigned long cp;

    while (*s && o + 7 < cap) {
        unsigned char c = (unsigned char)*s;
        size_t seq =
            az_utf8_next((const unsigned char *)s, (size_t)(end - s), 0, &cp);
        if (c == '"' || c == '\\') {
            out[o++] = '\\';
            out[o++] = (char)c;
        } else if (c == '\n') {
            out[o++] = '\\';
            out[o++] = 'n';
        } else if (c == '\t') {
            out[o++] = '\\';
            out[o++] = 't';
        } else if (c < 0x20) {
            o += (size_t)snprintf(out + o, cap - o, "\\u%04x", c);
        } else if (seq == 0) {
            o += (size_t)snprintf(out + o, cap - o, "\\ufffd");
            seq = 1;
        } else {
            memcpy(out + o, s, seq);
            o += seq;
        }
        s += seq ? seq : 1;
    }
    out[o] = '\0';
    return o;
}

static void format_time(char *buf, size_t cap)
{
    struct timespec ts;
    struct tm tm;

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(buf, cap, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, cap - n, ".%03ldZ", ts.tv_nsec / 1000000);
}

static void write_text_line(int level, const char *origin, const char *msg)
{
    char line[LINE_MAX_BYTES + 128];
    int n;

    if (origin)
        n = snprintf(line, sizeof line, "azconjur: %s: %s: %s\n",
                     level_names[level], origin, msg);
    else
        n = snprintf(line, sizeof line, "azconjur: %s: %s\n",
                     level_names[level], msg);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof line) {
        n = sizeof line - 1;
        line[n - 1] = '\n';
    }
    write_all(line, (size_t)n);
}

static void write_json_line(int level, const char *origin, const char *msg)
{
    char when[40];
    char esc_msg[LINE_MAX_BYTES * 2];
    char esc_origin[512];
    char line[sizeof esc_msg + sizeof esc_origin + 128];
    int n;

    format_time(when, sizeof when);
    json_escape(msg, esc_msg, sizeof esc_msg);
    if (origin) {
        json_escape(origin, esc_origin, sizeof esc_origin);
        n = snprintf(line, sizeof line,
                     "{\"time\":\"%s\",\"level\":\"%s\",\"msg\":\"%s\","
                     "\"script\":\"%s\"}\n",
                     when, level_names[level], esc_msg, esc_origin);
    } else {
        n = snprintf(line, sizeof line,
                     "{\"time\":\"%s\",\"level\":\"%s\",\"msg\":\"%s\"}\n",
                     when, level_names[level], esc_msg);
    }
    if (n > 0 && (size_t)n < sizeof line)
        write_all(line, (size_t)n);
}

void az_log_line(int level, const char *origin, const char *msg)
{
    char masked[LINE_MAX_BYTES];
    char masked_origin[256];

    if (!az_log_enabled(level))
        return;

    az_mask_apply(msg, strlen(msg), masked, sizeof masked);
    if (origin)
        az_mask_apply(origin, strlen(origin), masked_origin,
                      sizeof masked_origin);

    if (current_format == AZ_LOG_JSON)
        write_json_line(level, origin ? masked_origin : NULL, masked);
    else
        write_text_line(level, origin ? masked_origin : NULL, masked);

    OPENSSL_cleanse(masked, sizeof masked);
}

void az_logf(int level, const char *fmt, ...)
{
    char msg[LINE_MAX_BYTES];
    va_list ap;

    if (!az_log_enabled(level))
        return;

    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;

    /*
     * Mask the whole message, then cut: a value cut in two by the line
     * limit would no longer match its mask and half of it would show.
     */
    if ((size_t)n >= sizeof msg) {
        char *full = malloc((size_t)n + 1);
        if (full) {
            va_start(ap, fmt);
            vsnprintf(full, (size_t)n + 1, fmt, ap);
            va_end(ap);
            az_log_line(level, NULL, full);
            OPENSSL_clear_free(full, (size_t)n + 1);
            OPENSSL_cleanse(msg, sizeof msg);
            return;
        }
        msg[0] = '\0'; /* no memory: better no line than a half-masked one */
        snprintf(msg, sizeof msg,
                 "(a %d-byte log line was dropped: out of "
                 "memory)",
                 n);
    }

    az_log_line(level, NULL, msg);
    OPENSSL_cleanse(msg, sizeof msg);
}
