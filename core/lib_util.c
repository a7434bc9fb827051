/*
 * lib_util.c - the small built-in modules: json, base64, env, log.
 */
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua-cjson.h>

#include "base64.h"
#include "error.h"
#include "lib.h"
#include "log.h"
#include "runtime.h"
#include "secret.h"
#include "yamldoc.h"

/* ---- json: lua-cjson as shipped by Debian -------------------------------- */

int az_luaopen_json(lua_State *L)
{
    return luaopen_cjson(L);
}

/* ---- base64 ------------------------------------------------------------- */

/*
 * Push the result of a codec as the same kind of value as its input: a
 * secret in gives a masked secret out, a string gives a string.  MAY_LJMP
 */
static void push_like_input(lua_State *L, int input, const char *id,
                            const void *bytes, size_t len)
{
    if (az_is_secret(L, input))
        az_secret_push(L, id, bytes, len, 1);
    else
        lua_pushlstring(L, bytes, len);
}

/*
 * The output goes through a Lua userdata box rather than malloc so that a
 * memory error while pushing cannot leak it; the allocator wipes it later.
 */
static int base64_encode(lua_State *L)
{
    size_t n;
    const unsigned char *in = az_value_bytes(L, 1, &n);

    if (n > ((size_t)-1) / 2)
        return luaL_error(L, "input too large");
    size_t outlen = az_b64_encoded_len(n);
    char *out = lua_newuserdatauv(L, outlen + 1, 0); /* in box */
    az_b64_encode(in, n, out);

    push_like_input(L, 1, "base64", out, outlen); /* in box out */
    return 1;
}

static int base64_decode(lua_State *L)
{
    size_t n, bad = 0;
    const char *in = (const char *)az_value_bytes(L, 1, &n);

    unsigned char *out = lua_newuserdatauv(L, n / 4 * 3 + 3, 0);
    long outlen = az_b64_decode(in, n, out, &bad);
    if (outlen < 0) {
        az_error err;
        az_fail(&err, AZ_EXIT_RUNTIME, "bad_input", 0,
                "invalid base64 at byte %zu", bad + 1);
        return az_raise(L, &err);
    }

    push_like_input(L, 1, "base64", out, (size_t)outlen);
    return 1;
}

static const luaL_Reg base64_funcs[] = {
    {"decode", base64_decode},
    {"encode", base64_encode},
    {NULL,     NULL         },
};

int az_luaopen_base64(lua_State *L)
{
    luaL_newlib(L, base64_funcs);
    return 1;
}

/* ---- env ---------------------------------------------------------------- */

static int env_get(lua_State *L)
{
    const char *value = getenv(luaL_checkstring(L, 1));

    if (value)
        lua_pushstring(L, value);
    else
        luaL_pushfail(L);
    return 1;
}

static const luaL_Reg env_funcs[] = {
    {"get", env_get},
    {NULL,  NULL   },
};

int az_luaopen_env(lua_State *L)
{
    luaL_newlib(L, env_funcs);
    return 1;
}

/* ---- log ---------------------------------------------------------------- */

/*
 * log.<level>(fmt, ...): string.format when there are arguments, the text
 * as it is otherwise.  The origin is the calling chunk and line.  MAY_LJMP
 */
static int log_at(lua_State *L, int level)
{
    if (!az_log_enabled(level))
        return 0;

    if (lua_gettop(L) > 1) {
        lua_getglobal(L, "string");
        lua_getfield(L, -1, "format");
        lua_insert(L, 1);
        lua_pop(L, 1);                     /* format fmt args */
        lua_call(L, lua_gettop(L) - 1, 1); /* text */
    }
    const char *text = luaL_tolstring(L, 1, NULL);

    lua_Debug ar;
    char origin[128] = "";
    if (lua_getstack(L, 1, &ar) && lua_getinfo(L, "Sl", &ar) &&
        ar.currentline > 0)
        snprintf(origin, sizeof origin, "%s:%d", ar.short_src, ar.currentline);

    az_log_line(level, origin[0] ? origin : NULL, text);
    return 0;
}

static int log_error(lua_State *L)
{
    return log_at(L, AZ_LOG_ERROR);
}
static int log_warn(lua_State *L)
{
    return log_at(L, AZ_LOG_WARN);
}
static int log_info(lua_State *L)
{
    return log_at(L, AZ_LOG_INFO);
}
static int log_debug(lua_State *L)
{
    return log_at(L, AZ_LOG_DEBUG);
}

static int log_level(lua_State *L)
{
    lua_pushstring(L, az_log_level_name(az_log_level()));
    return 1;
}

static const luaL_Reg log_funcs[] = {
    {"debug", log_debug},
    {"error", log_error},
    {"info",  log_info },
    {"level", log_level},
    {"warn",  log_warn },
    {NULL,    NULL     },
};

int az_luaopen_log(lua_State *L)
{
    luaL_newlib(L, log_funcs);
    return 1;
}

/* ---- registration ------------------------------------------------------- */

void az_open_builtin_libs(lua_State *L)
{
    az_preload(L, "azure", az_luaopen_azure);
    az_preload(L, "base64", az_luaopen_base64);
    az_preload(L, "conjur", az_luaopen_conjur);
    az_preload(L, "deliver", az_luaopen_deliver);
    az_preload(L, "azconjur.diag", az_luaopen_diag);
    az_preload(L, "azconjur.stdin", az_luaopen_stdin);
    az_preload(L, "env", az_luaopen_env);
    az_preload(L, "json", az_luaopen_json);
    az_preload(L, "log", az_luaopen_log);
    az_preload(L, "yaml", az_luaopen_yaml);
}
