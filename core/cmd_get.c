/*
 * cmd_get.c - `azconjur get [--version N] [--base64] ID...` and
 * `azconjur token [--header]`.
 *
 * Both are thin: they open a client exactly as conjur.connect() does and
 * call the same read and token functions.  Nothing reaches stdout until
 * every value has been read, so a failure never leaves half an answer.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "base64.h"
#include "cli.h"
#include "conjur.h"
#include "log.h"
#include "runtime.h"
#include "secret.h"
#include "utf8.h"

typedef struct get_options {
    long version;
    int base64;
    int first_id; /* index in argv */
} get_options;

static int parse_version(const char *v, long *out)
{
    char *end;

    errno = 0;
    long n = v ? strtol(v, &end, 10) : 0;
    if (!v || errno || end == v || *end || n < 1)
        return az_usage_error("--version takes a positive whole number");
    *out = n;
    return 0;
}

static int parse_get_args(int argc, char **argv, get_options *o)
{
    int i = 1;

    memset(o, 0, sizeof *o);
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        } else if (strcmp(a, "--base64") == 0) {
            o->base64 = 1;
        } else if (strcmp(a, "--version") == 0) {
            if (parse_version(i + 1 < argc ? argv[++i] : NULL, &o->version))
                return AZ_EXIT_USAGE;
        } else if (strncmp(a, "--version=", 10) == 0) {
            if (parse_version(a + 10, &o->version))
                return AZ_EXIT_USAGE;
        } else {
            return az_usage_error("get: unknown option '%s'", a);
        }
    }
    if (i >= argc)
        return az_usage_error("get needs at least one variable id");
    for (int k = i; k < argc; k++) {
        if (!argv[k][0])
            return az_usage_error("get: a variable id is empty");
    }
    o->first_id = i;
    return 0;
}

/* A client opened from the environment and files, left on the stack. */
static az_conjur *open_client(lua_State *L, az_error *err)
{
    az_conjur_open_types(L);
    az_conjur *c = az_conjur_push(L); /* c */
    if (az_conjur_open(L, c, err) < 0)
        return NULL;
    return c;
}

static int report(const az_error *err)
{
    az_error_log("%s", err->message);
    return err->exit_code ? err->exit_code : AZ_EXIT_RUNTIME;
}

/* ---- output -------------------------------------------------------------- */

static int write_out(const void *data, size_t len)
{
    if (len && fwrite(data, 1, len, stdout) != len)
        return -1;
    return fflush(stdout) == 0 ? 0 : -1;
}

/* Append s as a JSON string literal, quotes included. */
static int json_string(az_buf *b, const unsigned char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";

    if (az_buf_append(b, "\"", 1) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = s[i];
        char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
        int rc;
        if (c == '"' || c == '\\') {
            char two[2] = {'\\', (char)c};
            rc = az_buf_append(b, two, 2);
        } else if (c == '\n') {
            rc = az_buf_append(b, "\\n", 2);
        } else if (c < 0x20 || c == 0x7f) {
            rc = az_buf_append(b, esc, 6);
        } else {
            rc = az_buf_append(b, &s[i], 1);
        }
        if (rc < 0)
            return -1;
    }
    return az_buf_append(b, "\"", 1);
}

/* Append a value: base64 text, or the bytes themselves. */
static int append_value(az_buf *b, const az_secret *s, int base64, int json)
{
    if (!base64)
        return json ? json_string(b, s->bytes, s->len)
                    : az_buf_append(b, s->bytes, s->len);

    size_t n = az_b64_encoded_len(s->len);
    if (az_buf_reserve(b, n + 2) < 0)
        return -1;
    if (json)
        b->data[b->len++] = '"';
    az_b64_encode(s->bytes, s->len, (char *)b->data + b->len);
    b->len += n;
    if (json)
        b->data[b->len++] = '"';
    return 0;
}

/*
 * Build the whole answer in out: one raw value, or a JSON object in the
 * order the ids were given (each id once).  The table of values is on
 * top.  MAY_LJMP
 */
static int render(lua_State *L, int argc, char **argv, const get_options *o,
                  az_buf *out, az_error *err)
{
    int single = argc - o->first_id == 1;
    int values = lua_gettop(L);
    int rc = single ? 0 : az_buf_append(out, "{", 1);

    for (int i = o->first_id; i < argc && rc == 0; i++) {
        const char *id = argv[i];
        int dup = 0;
        for (int k = o->first_id; k < i && !dup; k++)
            dup = strcmp(argv[k], id) == 0;
        if (dup)
            continue;

        lua_getfield(L, values, id);
        const az_secret *s = az_secret_check(L, -1);
        lua_pop(L, 1); /* the table still holds it */
        if (!single && !o->base64 && !az_utf8_valid(s->bytes, s->len)) {
            return az_fail(err, AZ_EXIT_RUNTIME, "encoding", 0,
                           "the value of '%s' is not valid UTF-8 and cannot "
                           "go into JSON; add --base64",
                           id);
        }
        if (!single && i > o->first_id)
            rc = az_buf_append(out, ",", 1);
        if (!single && rc == 0)
            rc = json_string(out, (const unsigned char *)id, strlen(id));
        if (!single && rc == 0)
            rc = az_buf_append(out, ":", 1);
        if (rc == 0)
            rc = append_value(out, s, o->base64, !single);
    }
    if (rc == 0 && !single)
        rc = az_buf_append(out, "}\n", 2);
    if (rc < 0)
        return az_fail(err, AZ_EXIT_RUNTIME, "memory", 0, "out of memory");
    return 0;
}

int az_cmd_get(lua_State *L, int argc, char **argv)
{
    get_options o;
    az_error err;

    int usage = parse_get_args(argc, argv, &o);
    if (usage)
        return usage;

    az_conjur *c = open_client(L, &err); /* c */
    if (!c)
        return report(&err);

    lua_createtable(L, argc - o.first_id, 0); /* c ids */
    for (int i = o.first_id; i < argc; i++) {
        lua_pushstring(L, argv[i]);
        lua_rawseti(L, -2, i - o.first_id + 1);
    }
    if (az_conjur_read_many(L, c, -1, o.version, &err) < 0)
        return report(&err); /* c ids values */

    /* the buffer lives in the client so a memory error cannot leak it */
    az_buf *out = &c->body;
    az_buf_reset(out);
    int rc = render(L, argc, argv, &o, out, &err);
    if (rc == 0 && write_out(out->data, out->len) < 0)
        rc = az_fail(&err, AZ_EXIT_RUNTIME, "io", 0,
                     "cannot write to stdout: %s", strerror(errno));
    az_buf_reset(out);
    return rc < 0 ? report(&err) : AZ_EXIT_OK;
}

/* ---- token --------------------------------------------------------------- */

int az_cmd_token(lua_State *L, int argc, char **argv)
{
    int header = 0;
    az_error err;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--header") == 0)
            header = 1;
        else
            return az_usage_error("token: unexpected argument '%s'", argv[i]);
    }

    az_conjur *c = open_client(L, &err); /* c */
    const az_token *t;
    if (!c || az_conjur_token(L, c, &t, &err) < 0)
        return report(&err);

    az_buf *out = &c->body;
    az_buf_reset(out);
    int rc = 0;
    if (header)
        rc = az_buf_append_str(out, "Token token=\"");
    if (rc == 0)
        rc = az_buf_append(out, t->b64.data, t->b64.len);
    if (rc == 0)
        rc = az_buf_append_str(out, header ? "\"\n" : "\n");
    if (rc < 0)
        rc = az_fail(&err, AZ_EXIT_RUNTIME, "memory", 0, "out of memory");
    else if (write_out(out->data, out->len) < 0)
        rc = az_fail(&err, AZ_EXIT_RUNTIME, "io", 0,
                     "cannot write to stdout: %s", strerror(errno));
    az_buf_reset(out);
    return rc < 0 ? report(&err) : AZ_EXIT_OK;
}
