/*
 * deliver.c - the `deliver` Lua module: template, format, file, exec,
 * stdout, and tempdir for files that must vanish with the command.
 *
 * Values stay secrets from Conjur to their destination: bytes are read
 * straight from the secret's buffer, rendered into an az_buf owned by a
 * Lua userdata (so an error half-way frees and wipes it), and handed back
 * as a new secret.  An encoded form of a secret (its base64, its quoted
 * form) is registered with the log mask like the value itself.
 */
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>

#include "deliver.h"
#include "lib.h"
#include "log.h"
#include "runtime.h"
#include "secret.h"

#define BOX_TYPE     "azconjur.deliver.buf"
#define TEMPDIR_TYPE "azconjur.tempdir"
#define NAME_MAX_LEN 256

/* ---- a wiped buffer whose life Lua manages ------------------------------ */

typedef struct box {
    az_buf b[3];
} box;

static int box_gc(lua_State *L)
{
    box *x = luaL_checkudata(L, 1, BOX_TYPE);
    for (int i = 0; i < 3; i++)
        az_buf_free(&x->b[i]);
    return 0;
}

/* Push a box of three empty buffers.  MAY_LJMP */
static box *push_box(lua_State *L)
{
    box *x = lua_newuserdatauv(L, sizeof *x, 0);
    for (int i = 0; i < 3; i++)
        x->b[i] = (az_buf)AZ_BUF_INIT;
    luaL_setmetatable(L, BOX_TYPE);
    return x;
}

static int raise_err(lua_State *L, const az_error *err)
{
    return az_raise(L, err);
}

static int raise_bad(lua_State *L, const char *fmt, const char *a, long n)
{
    az_error err;
    az_fail(&err, AZ_EXIT_RUNTIME, "bad_input", 0, fmt, a, n);
    return az_raise(L, &err);
}

/*
 * Mask the encoded form of a secret, without the quotes around it: a log
 * line may quote it differently.
 */
static void mask_encoded(const unsigned char *p, size_t n)
{
    if (n >= 2 && (p[0] == '"' || p[0] == '\'') && p[n - 1] == p[0]) {
        p++;
        n -= 2;
    }
    if (n > 0)
        az_mask_add(p, n);
}

/* Bytes of a value that may be a string, a number or a secret.  MAY_LJMP */
static const unsigned char *value_bytes(lua_State *L, int idx, size_t *n)
{
    if (lua_type(L, idx) == LUA_TNUMBER)
        return (const unsigned char *)lua_tolstring(L, idx, n);
    return az_value_bytes(L, idx, n);
}

/* ---- template ----------------------------------------------------------- */

typedef int (*filter_fn)(az_buf *, const unsigned char *, size_t, az_error *);

static const struct {
    const char *name;
    filter_fn fn;
} filters[] = {
    {"base64",    az_enc_base64   },
    {"json",      az_enc_json     },
    {"shell",     az_enc_shell    },
    {"urlencode", az_enc_urlencode},
};

static filter_fn find_filter(const char *name, size_t n)
{
    for (size_t i = 0; i < sizeof filters / sizeof *filters; i++) {
        if (strlen(filters[i].name) == n &&
            memcmp(filters[i].name, name, n) == 0)
            return filters[i].fn;
    }
    return NULL;
}

static int name_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.' ||
           c == '/';
}

static const char *skip_blanks(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    return p;
}

static long line_of(const char *start, const char *at)
{
    long line = 1;
    for (const char *p = start; p < at; p++)
        line += *p == '\n';
    return line;
}

typedef struct tpl {
    lua_State *L;
    box *x;
    const char *start, *end;
    int values; /* stack index of the values table */
} tpl;

/* Raise "template line N: <msg>".  MAY_LJMP */
static int tpl_error(tpl *t, const char *at, const char *msg, const char *arg)
{
    az_error err;
    char text[512];

    snprintf(text, sizeof text, msg, arg);
    az_fail(&err, AZ_EXIT_RUNTIME, "bad_input", 0, "template line %ld: %s",
            line_of(t->start, at), text);
    return az_raise(t->L, &err);
}

/*
 * Push the value a placeholder names, or the text of a "literal"; p is
 * just after "{{" and blanks.  Returns the position after it.  MAY_LJMP
 */
static const char *tpl_value(tpl *t, const char *p)
{
    const char *at = p;

    if (p < t->end && *p == '"') {
        const char *close = memchr(p + 1, '"', (size_t)(t->end - p - 1));
        if (!close) {
            tpl_error(t, at, "unterminated \"literal\"%s", "");
            return t->end; /* not reached: tpl_error raises */
        }
        lua_pushlstring(t->L, p + 1, (size_t)(close - p - 1));
        return close + 1;
    }

    while (p < t->end && name_char(*p))
        p++;
    if (p == at || p - at >= NAME_MAX_LEN)
        tpl_error(t, at, "expected a name after '{{'%s", "");

    char name[NAME_MAX_LEN];
    memcpy(name, at, (size_t)(p - at));
    name[p - at] = '\0';
    lua_getfield(t->L, t->values, name); /* ... value */
    int type = lua_type(t->L, -1);
    if (type == LUA_TNIL)
        tpl_error(t, at, "no value named '%s'", name);
    if (type != LUA_TSTRING && type != LUA_TNUMBER && !az_is_secret(t->L, -1))
        tpl_error(t, at, "value '%s' is not a string or secret", name);
    return p;
}

/*
 * Render one placeholder; p is just after "{{".  The value and each
 * filter's output alternate between buffers 1 and 2.  MAY_LJMP
 */
static const char *tpl_placeholder(tpl *t, const char *p)
{
    az_error err;
    size_t n;

    p = tpl_value(t, skip_blanks(p, t->end)); /* ... value */
    int secret = az_is_secret(t->L, -1);
    const unsigned char *v = value_bytes(t->L, -1, &n);
    int cur = 0; /* 0: the value itself, else the buffer holding it */

    for (p = skip_blanks(p, t->end); p < t->end && *p == '|';) {
        const char *f = p = skip_blanks(p + 1, t->end);
        while (p < t->end &&
               ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')))
            p++;
        filter_fn fn = find_filter(f, (size_t)(p - f));
        if (!fn) {
            char fname[32];
            snprintf(fname, sizeof fname, "%.*s", (int)(p - f), f);
            tpl_error(t, f,
                      "unknown filter '%s' (base64, json, shell, "
                      "urlencode)",
                      fname);
        }
        az_buf *next = &t->x->b[cur == 1 ? 2 : 1];
        az_buf_reset(next);
        next->len = 0;
        if (fn(next, v, n, &err) != 0) {
            az_error_prefix(&err, "template line %ld: filter '%.*s'",
                            line_of(t->start, f), (int)(p - f), f);
            raise_err(t->L, &err);
        }
        v = next->data, n = next->len, cur = cur == 1 ? 2 : 1;
        if (secret)
            mask_encoded(v, n);
        p = skip_blanks(p, t->end);
    }

    if (t->end - p < 2 || p[0] != '}' || p[1] != '}')
        tpl_error(t, p, "expected '}}'%s", "");
    if (n && az_buf_append(&t->x->b[0], v, n) != 0)
        luaL_error(t->L, "out of memory");
    lua_pop(t->L, 1); /* ... */
    return p + 2;
}

/* deliver.template(text, values) -> secret.  MAY_LJMP */
static int deliver_template(lua_State *L)
{
    size_t len;
    const char *text = (const char *)az_value_bytes(L, 1, &len);
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_settop(L, 2);
    tpl t = {L, push_box(L), text, text + len, 2}; /* text values box */

    const char *p = text;
    while (p < t.end) {
        const char *open = p;
        while (open + 1 < t.end && !(open[0] == '{' && open[1] == '{'))
            open++;
        if (open + 1 >= t.end)
            open = t.end;
        if (az_buf_append(&t.x->b[0], p, (size_t)(open - p)) != 0)
            return luaL_error(L, "out of memory");
        if (open == t.end)
            break;
        p = tpl_placeholder(&t, open + 2);
    }

    az_secret_push(L, "template", t.x->b[0].data, t.x->b[0].len, 0);
    return 1; /* text values box secret */
}

/* ---- format ------------------------------------------------------------- */

typedef struct name_ref {
    const char *s;
    size_t n;
} name_ref;

static int cmp_names(const void *a, const void *b)
{
    const name_ref *x = a, *y = b;
    int c = memcmp(x->s, y->s, x->n < y->n ? x->n : y->n);
    if (c)
        return c;
    return (x->n > y->n) - (x->n < y->n);
}

/* The string keys of the table at idx, sorted bytewise.  MAY_LJMP */
static name_ref *sorted_names(lua_State *L, int idx, size_t *count)
{
    size_t n = 0;

    lua_pushnil(L);
    while (lua_next(L, idx)) {
        if (lua_type(L, -2) != LUA_TSTRING)
            luaL_argerror(L, idx, "names must be strings");
        n++;
        lua_pop(L, 1);
    }

    name_ref *names = lua_newuserdatauv(L, (n ? n : 1) * sizeof *names, 0);
    size_t i = 0;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        names[i].s = lua_tolstring(L, -2, &names[i].n); /* anchored as key */
        i++;
        lua_pop(L, 1);
    }
    qsort(names, n, sizeof *names, cmp_names);
    *count = n;
    return names;
}

/*
 * Mask how a secret looks once quoted for `format`: encode it once more
 * into a scratch buffer (the entry itself also holds the name).
 */
static void mask_formatted(int format, const unsigned char *v, size_t n)
{
    az_buf tmp = AZ_BUF_INIT;
    az_error err;
    int rc;

    if (format == AZ_FORMAT_PROPERTIES)
        rc = az_enc_properties(&tmp, v, n, 0, &err);
    else if (format == AZ_FORMAT_DOTENV)
        rc = az_enc_dotenv(&tmp, v, n, &err);
    else if (format == AZ_FORMAT_SHELL)
        rc = az_enc_shell(&tmp, v, n, &err);
    else if (format == AZ_FORMAT_JSON)
        rc = az_enc_json(&tmp, v, n, &err);
    else
        rc = az_enc_yaml(&tmp, v, n, &err);
    if (rc == 0)
        mask_encoded(tmp.data, tmp.len);
    az_buf_free(&tmp);
}

/* deliver.format(values, kind) -> secret.  MAY_LJMP */
static int deliver_format(lua_State *L)
{
    az_error err;
    size_t count;

    luaL_checktype(L, 1, LUA_TTABLE);
    const char *kind = luaL_checkstring(L, 2);
    int format = az_format_from_name(kind);
    if (format < 0)
        return luaL_argerror(L, 2,
                             lua_pushfstring(L, "unknown format '%s' (%s)",
                                             kind, AZ_FORMAT_NAMES));
    lua_settop(L, 2);
    name_ref *names = sorted_names(L, 1, &count); /* values kind names */
    az_buf *out = &push_box(L)->b[0];             /* values kind names box */

    if (az_format_begin(out, format, &err) != 0)
        return raise_err(L, &err);
    for (size_t i = 0; i < count; i++) {
        size_t n;
        lua_pushlstring(L, names[i].s, names[i].n);
        lua_rawget(L, 1); /* values kind names box value */
        if (lua_type(L, -1) != LUA_TSTRING && lua_type(L, -1) != LUA_TNUMBER &&
            !az_is_secret(L, -1))
            return raise_bad(L, "value of '%s' is not a string or secret",
                             names[i].s, 0);
        const unsigned char *v = value_bytes(L, -1, &n);

        if (az_format_entry(out, format, i == 0, names[i].s, names[i].n, v, n,
                            &err) != 0)
            return raise_err(L, &err);
        if (az_is_secret(L, -1))
            mask_formatted(format, v, n);
        lua_pop(L, 1); /* values kind names box */
    }
    if (az_format_end(out, format, count == 0, &err) != 0)
        return raise_err(L, &err);

    az_secret_push(L, kind, out->data, out->len, 0);
    return 1;
}

/* ---- file --------------------------------------------------------------- */

/* An integer, or a string of octal digits ("0640").  MAY_LJMP */
static int opt_mode(lua_State *L, int idx)
{
    lua_Integer mode = -1;

    if (lua_type(L, idx) == LUA_TSTRING) {
        const char *s = lua_tostring(L, idx);
        char *end;
        errno = 0;
        long v = strtol(s, &end, 8);
        if (*s && !*end && !errno)
            mode = v;
    } else if (lua_isinteger(L, idx)) {
        mode = lua_tointeger(L, idx);
    }
    if (mode < 0 || mode > 07777)
        luaL_error(L, "bad option 'mode' (an integer or an octal string "
                      "such as \"0640\", at most 07777)");
    return (int)mode;
}

/* A uid or gid given as a number or a name.  MAY_LJMP */
static long opt_id(lua_State *L, int idx, int is_group)
{
    const char *what = is_group ? "group" : "owner";

    if (lua_isinteger(L, idx) && lua_tointeger(L, idx) >= 0)
        return (long)lua_tointeger(L, idx);
    if (lua_type(L, idx) != LUA_TSTRING)
        luaL_error(L, "bad option '%s' (a name or a number)", what);

    const char *name = lua_tostring(L, idx);
    if (is_group) {
        const struct group *g = getgrnam(name);
        if (g)
            return (long)g->gr_gid;
    } else {
        const struct passwd *pw = getpwnam(name);
        if (pw)
            return (long)pw->pw_uid;
    }
    az_error err;
    az_fail(&err, AZ_EXIT_RUNTIME, "bad_input", 0, "no such %s: '%s'",
            is_group ? "group" : "user", name);
    return az_raise(L, &err);
}

/* Refuse option names we do not know: a typo must not pass.  MAY_LJMP */
static void check_options(lua_State *L, int idx, const char *const known[])
{
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        int ok = 0;
        if (lua_type(L, -2) == LUA_TSTRING) {
            for (int i = 0; known[i] && !ok; i++)
                ok = strcmp(lua_tostring(L, -2), known[i]) == 0;
        }
        if (!ok)
            luaL_error(L, "unknown option '%s'", luaL_tolstring(L, -2, NULL));
        lua_pop(L, 1);
    }
}

static void file_options(lua_State *L, int idx, az_file_opts *o)
{
    static const char *const known[] = {"mode", "owner", "group", NULL};

    o->mode = -1;
    o->owner = (uid_t)-1;
    o->group = (gid_t)-1;
    if (lua_isnoneornil(L, idx))
        return;
    luaL_checktype(L, idx, LUA_TTABLE);
    check_options(L, idx, known);

    if (lua_getfield(L, idx, "mode") != LUA_TNIL)
        o->mode = opt_mode(L, -1);
    if (lua_getfield(L, idx, "owner") != LUA_TNIL)
        o->owner = (uid_t)opt_id(L, -1, 0);
    if (lua_getfield(L, idx, "group") != LUA_TNIL)
        o->group = (gid_t)opt_id(L, -1, 1);
    lua_pop(L, 3);
}

/* A string argument for a C API: one with a NUL inside is refused.  MAY_LJMP */
static const char *check_cstring(lua_State *L, int idx)
{
    size_t n;
    const char *s = luaL_checklstring(L, idx, &n);
    luaL_argcheck(L, strlen(s) == n, idx, "holds a NUL byte");
    return s;
}

/* deliver.file(path, content[, opts]) -> wrote.  MAY_LJMP */
static int deliver_file(lua_State *L)
{
    const char *path = check_cstring(L, 1);
    size_t len;
    const unsigned char *data = az_value_bytes(L, 2, &len);
    az_file_opts o;
    az_error err;
    int wrote;

    file_options(L, 3, &o);
    if (az_file_write(path, data, len, &o, &wrote, &err) != 0)
        return raise_err(L, &err);
    lua_pushboolean(L, wrote);
    return 1;
}

/* ---- exec --------------------------------------------------------------- */

/* Revealed values this long or longer are refused in argv (see log.h). */
#define ARGV_SECRET_MIN 6

/*
 * The argv array, strings only, in a userdata the collector frees.  A
 * secret is refused: every local user can read a command line.  MAY_LJMP
 */
static char **build_argv(lua_State *L, int idx)
{
    luaL_checktype(L, idx, LUA_TTABLE);
    lua_Integer n = luaL_len(L, idx);
    luaL_argcheck(L, n >= 1, idx, "the command is empty");
    luaL_argcheck(L, n < 65536, idx, "too many arguments");

    char **argv = lua_newuserdatauv(L, (size_t)(n + 1) * sizeof *argv, 0);
    for (lua_Integer i = 1; i <= n; i++) {
        lua_geti(L, idx, i);
        if (az_is_secret(L, -1))
            luaL_error(L,
                       "argument %d of the command is a secret: a command "
                       "line is visible to every local user, pass it "
                       "in env instead",
                       (int)i);
        if (lua_type(L, -1) != LUA_TSTRING)
            luaL_error(L, "argument %d of the command is not a string", (int)i);
        if (strlen(lua_tostring(L, -1)) != lua_rawlen(L, -1))
            luaL_error(L, "argument %d of the command holds a NUL byte",
                       (int)i);
        if (az_mask_found(lua_tostring(L, -1), lua_rawlen(L, -1),
                          ARGV_SECRET_MIN))
            luaL_error(L,
                       "argument %d of the command contains the value of a "
                       "secret read in this run (revealed?): a command line "
                       "is visible to every local user, pass it in env "
                       "instead",
                       (int)i);
        argv[i - 1] = (char *)lua_tostring(L, -1); /* anchored by the table */
        lua_pop(L, 1);
    }
    argv[n] = NULL;
    return argv;
}

/* Append "NAME=value\0" to env, refusing what an environment cannot hold. */
static int env_add(lua_State *L, az_buf *env, const char *name, size_t nlen,
                   const unsigned char *v, size_t vlen)
{
    az_error err;

    if (memchr(v, 0, vlen)) {
        az_fail(&err, AZ_EXIT_RUNTIME, "bad_input", 0,
                "value of environment variable '%.*s' holds a NUL byte, "
                "which an environment cannot carry",
                (int)nlen, name);
        return az_raise(L, &err);
    }
    if (az_buf_append(env, name, nlen) || az_buf_append(env, "=", 1) ||
        az_buf_append(env, v, vlen) || az_buf_append(env, "", 1))
        return luaL_error(L, "out of memory");
    return 0;
}

/* The entries of the env option, checked and appended.  MAY_LJMP */
static void env_from_table(lua_State *L, int idx, az_buf *env)
{
    lua_pushnil(L);
    while (lua_next(L, idx)) { /* ... key value */
        size_t nlen, vlen;
        if (lua_type(L, -2) != LUA_TSTRING)
            luaL_error(L, "bad option 'env' (names must be strings)");
        const char *name = lua_tolstring(L, -2, &nlen);
        if (nlen == 0 || memchr(name, '=', nlen) || memchr(name, 0, nlen))
            luaL_error(L, "bad option 'env' (invalid variable name '%s')",
                       name);
        if (lua_toboolean(L, -1)) {
            if (lua_type(L, -1) != LUA_TSTRING &&
                lua_type(L, -1) != LUA_TNUMBER && !az_is_secret(L, -1))
                luaL_error(L,
                           "bad option 'env' (value of '%s' must be a "
                           "string, a secret or false)",
                           name);
            const unsigned char *v = value_bytes(L, -1, &vlen);
            env_add(L, env, name, nlen, v, vlen);
        }
        lua_pop(L, 1);
    }
}

/*
 * The child's environment: ours unless clear_env, minus the variables a
 * child must never inherit and those the env option names, plus the env
 * option.  Strings in env->data, pointers in the returned array; both are
 * userdata or box-owned.  MAY_LJMP
 */
static char **build_env(lua_State *L, int envidx, int clear, az_buf *env,
                        size_t *count)
{
    size_t n = 0;

    for (char **e = clear ? NULL : environ; e && *e; e++) {
        const char *eq = strchr(*e, '=');
        size_t nlen = eq ? (size_t)(eq - *e) : strlen(*e);
        if (!eq || az_env_scrubbed(*e, nlen))
            continue;
        if (envidx) {
            lua_pushlstring(L, *e, nlen);
            int named = lua_rawget(L, envidx) != LUA_TNIL;
            lua_pop(L, 1);
            if (named)
                continue;
        }
        if (az_buf_append(env, *e, strlen(*e) + 1))
            luaL_error(L, "out of memory");
    }
    if (envidx)
        env_from_table(L, envidx, env);

    for (size_t off = 0; off < env->len;
         off += strlen((char *)env->data + off) + 1)
        n++;
    char **envp = lua_newuserdatauv(L, (n + 1) * sizeof *envp, 0);
    size_t i = 0;
    for (size_t off = 0; off < env->len;
         off += strlen((char *)env->data + off) + 1)
        envp[i++] = (char *)env->data + off;
    envp[n] = NULL;
    *count = n;
    return envp;
}

/* PATH as the child will see it, for the lookup (as env(1) does). */
static const char *child_path(char **envp)
{
    for (; *envp; envp++) {
        if (strncmp(*envp, "PATH=", 5) == 0)
            return *envp + 5;
    }
    return NULL;
}

/* deliver.exec(argv[, {env=, clear_env=, supervise=}]).  MAY_LJMP */
static int deliver_exec(lua_State *L)
{
    static const char *const known[] = {"env", "clear_env", "supervise", NULL};
    int clear = 0, supervise = 0, envidx = 0;
    char path[PATH_MAX];
    az_error err;
    size_t n;

    lua_settop(L, 2);
    if (!lua_isnil(L, 2)) {
        luaL_checktype(L, 2, LUA_TTABLE);
        check_options(L, 2, known);
        clear =
            lua_getfield(L, 2, "clear_env") != LUA_TNIL && lua_toboolean(L, -1);
        supervise =
            lua_getfield(L, 2, "supervise") != LUA_TNIL && lua_toboolean(L, -1);
        if (lua_getfield(L, 2, "env") != LUA_TNIL) {
            luaL_argcheck(L, lua_istable(L, -1), 2, "'env' must be a table");
            envidx = lua_gettop(L);
        }
    }
    char **argv = build_argv(L, 1);
    az_buf *env = &push_box(L)->b[0];
    char **envp = build_env(L, envidx, clear, env, &n);

    if (az_exec_resolve(argv[0], child_path(envp), path, sizeof path, &err))
        return raise_err(L, &err);

    int status = 0;
    int rc = supervise ? az_exec_supervise(path, argv, envp, &status, &err)
                       : az_exec_replace(path, argv, envp, &err);
    az_buf_free(env);
    if (rc != 0)
        return raise_err(L, &err);
    lua_pushinteger(L, status);
    return 1;
}

/* ---- stdout ------------------------------------------------------------- */

/* deliver.stdout(value): the bytes as they are, no newline.  MAY_LJMP */
static int deliver_stdout(lua_State *L)
{
    size_t n;
    const unsigned char *v = value_bytes(L, 1, &n);

    if ((n && fwrite(v, 1, n, stdout) != n) || fflush(stdout) != 0) {
        az_error err;
        az_fail(&err, AZ_EXIT_RUNTIME, "io", 0, "cannot write to stdout: %s",
                strerror(errno));
        return az_raise(L, &err);
    }
    return 0;
}

/* ---- tempdir: files that live as long as the command -------------------- */

typedef struct tempdir {
    int live;
    char path[PATH_MAX];
} tempdir;

static tempdir *check_tempdir(lua_State *L)
{
    tempdir *d = luaL_checkudata(L, 1, TEMPDIR_TYPE);
    if (!d->live)
        luaL_error(L, "temporary directory already removed");
    return d;
}

/* deliver.tempdir() -> object; removed by :remove(), <close> or gc. */
static int deliver_tempdir(lua_State *L)
{
    az_error err;
    tempdir *d = lua_newuserdatauv(L, sizeof *d, 0);

    d->live = 0;
    luaL_setmetatable(L, TEMPDIR_TYPE);
    if (az_memdir_create(d->path, sizeof d->path, &err) != 0)
        return raise_err(L, &err);
    d->live = 1;
    return 1;
}

/* d:file(name, content[, opts]) -> path of a 0600 file in the directory. */
static int tempdir_file(lua_State *L)
{
    tempdir *d = check_tempdir(L);
    const char *name = check_cstring(L, 2);
    size_t len;
    const unsigned char *data = az_value_bytes(L, 3, &len);
    char path[PATH_MAX];
    az_file_opts o;
    az_error err;
    int wrote;

    luaL_argcheck(L,
                  *name && !strchr(name, '/') && strcmp(name, ".") &&
                      strcmp(name, ".."),
                  2, "a plain file name");
    file_options(L, 4, &o);
    if (snprintf(path, sizeof path, "%s/%s", d->path, name) >= (int)sizeof path)
        return luaL_argerror(L, 2, "name too long");
    if (az_file_write(path, data, len, &o, &wrote, &err) != 0)
        return raise_err(L, &err);
    lua_pushstring(L, path);
    return 1;
}

static int tempdir_path(lua_State *L)
{
    lua_pushstring(L, check_tempdir(L)->path);
    return 1;
}

static int tempdir_remove(lua_State *L)
{
    tempdir *d = luaL_checkudata(L, 1, TEMPDIR_TYPE);
    if (d->live) {
        az_memdir_remove(d->path);
        d->live = 0;
    }
    return 0;
}

static int tempdir_tostring(lua_State *L)
{
    tempdir *d = luaL_checkudata(L, 1, TEMPDIR_TYPE);
    lua_pushfstring(L, "tempdir(%s%s)", d->path, d->live ? "" : ", removed");
    return 1;
}

/* ---- registration ------------------------------------------------------- */

static const luaL_Reg tempdir_methods[] = {
    {"file",   tempdir_file  },
    {"path",   tempdir_path  },
    {"remove", tempdir_remove},
    {NULL,     NULL          },
};

static const luaL_Reg tempdir_meta[] = {
    {"__close",    tempdir_remove  },
    {"__gc",       tempdir_remove  },
    {"__tostring", tempdir_tostring},
    {"__index",    NULL            },
    {NULL,         NULL            },
};

static const luaL_Reg deliver_funcs[] = {
    {"exec",     deliver_exec    },
    {"file",     deliver_file    },
    {"format",   deliver_format  },
    {"stdout",   deliver_stdout  },
    {"template", deliver_template},
    {"tempdir",  deliver_tempdir },
    {NULL,       NULL            },
};

int az_luaopen_deliver(lua_State *L)
{
    if (luaL_newmetatable(L, BOX_TYPE)) { /* mt */
        lua_pushcfunction(L, box_gc);
        lua_setfield(L, -2, "__gc");
        lua_pushcfunction(L, box_gc);
        lua_setfield(L, -2, "__close");
    }
    lua_pop(L, 1); /* - */

    if (luaL_newmetatable(L, TEMPDIR_TYPE)) { /* mt */
        luaL_setfuncs(L, tempdir_meta, 0);
        luaL_newlib(L, tempdir_methods); /* mt methods */
        lua_setfield(L, -2, "__index");  /* mt */
    }
    lua_pop(L, 1); /* - */

    luaL_newlib(L, deliver_funcs);
    return 1;
}
