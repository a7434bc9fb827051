/*
 * deliver_format.c - quoting a value for one target syntax.
 *
 * Every encoder takes any byte string and either writes a form its reader
 * turns back into exactly those bytes, or refuses: no silent truncation at
 * a NUL, no replacement of bad UTF-8.  Error messages never contain the
 * value, only what is wrong with it and where.
 *
 * Caveats:
 *  - dotenv has no standard.  We write NAME="..." with \\, \", \$, \`, \n
 *    and \r escaped and every other byte as it is (so a shell that sources
 *    the file runs nothing); readers that honour those
 *    escapes (docker compose, python-dotenv, Node's dotenv for \n and \r)
 *    get the value back.  See docs/lua-api.md.
 *  - properties files are written in ASCII with \uXXXX escapes, the form
 *    java.util.Properties.load reads in both its byte and character modes.
 */
#include <stdio.h>
#include <string.h>

#include "base64.h"
#include "deliver.h"
#include "http.h"
#include "utf8.h"

static int oom(az_error *err)
{
    return az_fail(err, AZ_EXIT_RUNTIME, "memory", 0, "out of memory");
}

static int put(az_buf *out, const void *p, size_t n, az_error *err)
{
    return az_buf_append(out, p, n) == 0 ? 0 : oom(err);
}

static int puts_(az_buf *out, const char *s, az_error *err)
{
    return put(out, s, strlen(s), err);
}

static int putc_(az_buf *out, unsigned char c, az_error *err)
{
    return put(out, &c, 1, err);
}

static int no_nul(const unsigned char *v, size_t n, const char *what,
                  az_error *err)
{
    const unsigned char *nul = memchr(v, 0, n);
    if (!nul)
        return 0;
    return az_fail(err, AZ_EXIT_RUNTIME, "bad_input", 0,
                   "holds a NUL byte at offset %zu, which %s cannot carry",
                   (size_t)(nul - v), what);
}

static int bad_utf8(size_t offset, const char *what, az_error *err)
{
    return az_fail(err, AZ_EXIT_RUNTIME, "bad_input", 0,
                   "is not valid UTF-8 at byte offset %zu, which %s cannot "
                   "carry (encode it with base64 first)",
                   offset, what);
}

/* ---- filters ------------------------------------------------------------ */

int az_enc_base64(az_buf *out, const unsigned char *v, size_t n, az_error *err)
{
    size_t need = az_b64_encoded_len(n);

    if (az_buf_reserve(out, need + 1) != 0)
        return oom(err);
    az_b64_encode(v, n, (char *)out->data + out->len);
    out->len += need;
    return 0;
}

/* "\uXXXX" for one UTF-16 unit. */
static int put_u16(az_buf *out, unsigned long u, az_error *err)
{
    char hex[8];
    snprintf(hex, sizeof hex, "\\u%04lx", u & 0xffff);
    return puts_(out, hex, err);
}

/* "\n", "\r" or "\t" for the three escapes every text format shares. */
static const char *line_escape(unsigned long cp)
{
    switch (cp) {
    case '\n':
        return "\\n";
    case '\r':
        return "\\r";
    case '\t':
        return "\\t";
    default:
        return NULL;
    }
}

int az_enc_json(az_buf *out, const unsigned char *v, size_t n, az_error *err)
{
    if (putc_(out, '"', err) != 0)
        return -1;

    for (size_t i = 0; i < n;) {
        unsigned long cp;
        size_t len = az_utf8_next(v, n, i, &cp);
        int rc = 0;

        if (!len)
            return bad_utf8(i, "JSON", err);
        if (cp == '"' || cp == '\\') {
            rc = putc_(out, '\\', err) || putc_(out, (unsigned char)cp, err);
        } else if (line_escape(cp)) {
            rc = puts_(out, line_escape(cp), err);
        } else if (cp < 0x20 || cp == 0x7f) {
            rc = put_u16(out, cp, err);
        } else {
            rc = put(out, v + i, len, err);
        }
        if (rc)
            return -1;
        i += len;
    }
    return putc_(out, '"', err);
}

int az_enc_urlencode(az_buf *out, const unsigned char *v, size_t n,
                     az_error *err)
{
    /* the same RFC 3986 rule the HTTP layer uses for URLs */
    if (az_url_encode(out, (const char *)v, n) != 0)
        return oom(err);
    return 0;
}

/* One single-quoted POSIX word; a quote inside becomes '\''. */
int az_enc_shell(az_buf *out, const unsigned char *v, size_t n, az_error *err)
{
    if (no_nul(v, n, "a shell word", err) != 0)
        return -1;
    if (putc_(out, '\'', err) != 0)
        return -1;

    for (size_t i = 0; i < n; i++) {
        int rc =
            v[i] == '\'' ? puts_(out, "'\\''", err) : putc_(out, v[i], err);
        if (rc)
            return -1;
    }
    return putc_(out, '\'', err);
}

int az_enc_dotenv(az_buf *out, const unsigned char *v, size_t n, az_error *err)
{
    if (no_nul(v, n, "a dotenv file", err) != 0)
        return -1;
    if (putc_(out, '"', err) != 0)
        return -1;

    for (size_t i = 0; i < n; i++) {
        unsigned char c = v[i];
        int rc;
        /* the backtick too: a shell that sources the file would run it */
        if (c == '\\' || c == '"' || c == '$' || c == '`')
            rc = putc_(out, '\\', err) || putc_(out, c, err);
        else if (c == '\n')
            rc = puts_(out, "\\n", err);
        else if (c == '\r')
            rc = puts_(out, "\\r", err);
        else
            rc = putc_(out, c, err);
        if (rc)
            return -1;
    }
    return putc_(out, '"', err);
}

/*
 * A YAML double-quoted scalar.  Characters outside YAML's printable set
 * (C0 and C1 controls, DEL, the BOM) and the two Unicode line separators
 * are escaped, so no reader folds or drops them.
 */
int az_enc_yaml(az_buf *out, const unsigned char *v, size_t n, az_error *err)
{
    if (putc_(out, '"', err) != 0)
        return -1;

    for (size_t i = 0; i < n;) {
        unsigned long cp;
        size_t len = az_utf8_next(v, n, i, &cp);
        char esc[12];
        int rc;

        if (!len)
            return bad_utf8(i, "YAML", err);
        if (cp == '"' || cp == '\\') {
            rc = putc_(out, '\\', err) || putc_(out, (unsigned char)cp, err);
        } else if (cp == 0) {
            rc = puts_(out, "\\0", err);
        } else if (line_escape(cp)) {
            rc = puts_(out, line_escape(cp), err);
        } else if (cp < 0x20 || cp == 0x7f) {
            snprintf(esc, sizeof esc, "\\x%02x", (unsigned)(cp & 0xff));
            rc = puts_(out, esc, err);
        } else if ((cp >= 0x80 && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029 ||
                   cp == 0xfeff) {
            snprintf(esc, sizeof esc, "\\u%04lx", cp);
            rc = puts_(out, esc, err);
        } else {
            rc = put(out, v + i, len, err);
        }
        if (rc)
            return -1;
        i += len;
    }
    return putc_(out, '"', err);
}

/*
 * java.util.Properties: backslash escapes for the characters the parser
 * treats specially, \uXXXX (UTF-16) for everything outside printable
 * ASCII.  In a key, separators and comment starters are escaped too; in a
 * value only a leading space needs it, but escaping every space and
 * separator costs nothing and is easier to check.
 */
int az_enc_properties(az_buf *out, const unsigned char *v, size_t n, int is_key,
                      az_error *err)
{
    for (size_t i = 0; i < n;) {
        unsigned long cp;
        size_t len = az_utf8_next(v, n, i, &cp);
        int rc;

        if (!len)
            return bad_utf8(i, "a properties file", err);
        if (cp == '\\') {
            rc = puts_(out, "\\\\", err);
        } else if (line_escape(cp)) {
            rc = puts_(out, line_escape(cp), err);
        } else if (cp == '\f') {
            rc = puts_(out, "\\f", err);
        } else if (cp == '=' || cp == ':' || cp == '#' || cp == '!' ||
                   (cp == ' ' && (is_key || i == 0))) {
            rc = putc_(out, '\\', err) || putc_(out, (unsigned char)cp, err);
        } else if (cp < 0x20 || cp >= 0x7f) {
            if (cp >= 0x10000) {
                unsigned long u = cp - 0x10000;
                rc = put_u16(out, 0xd800 | (u >> 10), err) ||
                     put_u16(out, 0xdc00 | (u & 0x3ff), err);
            } else {
                rc = put_u16(out, cp, err);
            }
        } else {
            rc = putc_(out, (unsigned char)cp, err);
        }
        if (rc)
            return -1;
        i += len;
    }
    return 0;
}

/* ---- whole documents ---------------------------------------------------- */

static const char *const format_names[] = {"dotenv", "json", "yaml",
                                           "properties", "shell"};

int az_format_from_name(const char *name)
{
    for (int i = 0; i < (int)(sizeof format_names / sizeof *format_names);
         i++) {
        if (strcmp(name, format_names[i]) == 0)
            return i;
    }
    return -1;
}

int az_env_name_ok(const char *s, size_t n)
{
    if (n == 0 || (s[0] >= '0' && s[0] <= '9'))
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
              (c >= '0' && c <= '9') || c == '_'))
            return 0;
    }
    return 1;
}

int az_format_begin(az_buf *out, int format, az_error *err)
{
    return format == AZ_FORMAT_JSON ? putc_(out, '{', err) : 0;
}

static int check_name(int format, const char *name, size_t namelen,
                      az_error *err)
{
    if (namelen == 0)
        return az_fail(err, AZ_EXIT_RUNTIME, "bad_input", 0,
                       "an empty name cannot be written as %s",
                       format_names[format]);
    if ((format == AZ_FORMAT_DOTENV || format == AZ_FORMAT_SHELL) &&
        !az_env_name_ok(name, namelen))
        return az_fail(err, AZ_EXIT_RUNTIME, "bad_input", 0,
                       "name '%.*s' is not a valid variable name for %s "
                       "(letters, digits and '_', not starting with a digit)",
                       (int)(namelen > 64 ? 64 : namelen), name,
                       format_names[format]);
    return 0;
}

/* Encode one value, naming the entry when it cannot be written. */
static int entry_value(az_buf *out, int format, const char *name,
                       size_t namelen, const unsigned char *v, size_t n,
                       az_error *err)
{
    int rc = 0;

    switch (format) {
    case AZ_FORMAT_DOTENV:
        rc = az_enc_dotenv(out, v, n, err);
        break;
    case AZ_FORMAT_JSON:
        rc = az_enc_json(out, v, n, err);
        break;
    case AZ_FORMAT_YAML:
        rc = az_enc_yaml(out, v, n, err);
        break;
    case AZ_FORMAT_PROPERTIES:
        rc = az_enc_properties(out, v, n, 0, err);
        break;
    default:
        rc = az_enc_shell(out, v, n, err);
        break;
    }
    if (rc && strcmp(err->code, "memory") != 0) /* not "out of memory" */
        az_error_prefix(err, "value of '%.*s'",
                        (int)(namelen > 64 ? 64 : namelen), name);
    return rc;
}

/* Write the name part of an entry, up to and including the separator. */
static int entry_name(az_buf *out, int format, int first, const char *name,
                      size_t namelen, az_error *err)
{
    const unsigned char *nm = (const unsigned char *)name;
    int rc;

    switch (format) {
    case AZ_FORMAT_DOTENV:
        return put(out, name, namelen, err) || putc_(out, '=', err);
    case AZ_FORMAT_SHELL:
        return puts_(out, "export ", err) || put(out, name, namelen, err) ||
               putc_(out, '=', err);
    case AZ_FORMAT_JSON:
        rc = puts_(out, first ? "\n  " : ",\n  ", err) ||
             az_enc_json(out, nm, namelen, err) || puts_(out, ": ", err);
        break;
    case AZ_FORMAT_YAML:
        rc = az_enc_yaml(out, nm, namelen, err) || puts_(out, ": ", err);
        break;
    default:
        rc =
            az_enc_properties(out, nm, namelen, 1, err) || putc_(out, '=', err);
        break;
    }
    if (rc && strcmp(err->code, "memory") != 0)
        az_error_prefix(err, "a name");
    return rc;
}

int az_format_entry(az_buf *out, int format, int first, const char *name,
                    size_t namelen, const unsigned char *v, size_t n,
                    az_error *err)
{
    if (check_name(format, name, namelen, err) != 0)
        return -1;
    if (entry_name(out, format, first, name, namelen, err) != 0)
        return -1;
    if (entry_value(out, format, name, namelen, v, n, err) != 0)
        return -1;
    return format == AZ_FORMAT_JSON ? 0 : putc_(out, '\n', err);
}

int az_format_end(az_buf *out, int format, int empty, az_error *err)
{
    if (format == AZ_FORMAT_JSON)
        return puts_(out, empty ? "}\n" : "\n}\n", err);
    if (format == AZ_FORMAT_YAML && empty)
        return puts_(out, "{}\n", err);
    return 0;
}
