/*
 * runtime.c - the Lua state: allocator, curated libraries, module loading,
 * error values and JSON.
 *
 * Scripts are the operator's own code and run with the process's rights, so
 * they get the standard libraries except `debug`.  What we do guard against
 * is accidents: binary chunks (refused everywhere), modules picked up from
 * the current directory (relative search paths are removed), and runaway
 * memory (a cap, reported as a clear error rather than the OOM killer).
 */
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lualib.h>
#include <lua-cjson.h>
#include <openssl/crypto.h>

#include "lib.h"
#include "log.h"
#include "runtime.h"
#include "secret.h"

#define ERROR_TYPE     "azconjur.error"
#define JSON_MAX_DEPTH 64

/* Generated at build time from lua/ (see scripts/embed-lua). */
struct az_embedded_module {
    const char *name;
    const char *source;
    size_t len;
};
extern const struct az_embedded_module az_embedded_modules[];

static int json_decode_ref = LUA_NOREF;
static int json_encode_ref = LUA_NOREF;

/* ---- allocator ----------------------------------------------------------- */

/*
 * Every block is wiped before it goes back to libc, so values that reached
 * Lua strings or tables do not linger in freed memory.  Resizing always
 * moves through a fresh block for the same reason: realloc() may copy and
 * free the old block without clearing it.
 */
static void release_block(az_runtime *rt, void *block, size_t size)
{
    OPENSSL_cleanse(block, size);
    if (rt->release)
        rt->release(block, size);
    else
        free(block);
}

static void *wiping_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    az_runtime *rt = ud;

    if (!ptr)
        osize = 0; /* osize then encodes the object type, not a size */

    if (nsize == 0) {
        if (ptr) {
            release_block(rt, ptr, osize);
            rt->mem_used -= osize;
        }
        return NULL;
    }

    if (nsize > osize && rt->mem_used + (nsize - osize) > rt->mem_limit)
        return NULL; /* Lua collects and retries, then raises LUA_ERRMEM */

    void *block = malloc(nsize);
    if (!block)
        return NULL;
    if (ptr) {
        memcpy(block, ptr, osize < nsize ? osize : nsize);
        release_block(rt, ptr, osize);
    }

    rt->mem_used += nsize - osize;
    if (rt->mem_used > rt->mem_peak)
        rt->mem_peak = rt->mem_used;
    return block;
}

az_runtime *az_runtime_of(lua_State *L)
{
    void *ud = NULL;
    lua_getallocf(L, &ud);
    return ud;
}

/* ---- text-only loading ------------------------------------------------- */

/* load(chunk [, chunkname [, mode [, env]]]) with mode forced to "t". */
static int safe_load(lua_State *L)
{
    if (lua_gettop(L) < 3)
        lua_settop(L, 3); /* an absent env must stay absent, so stop at 3 */
    lua_pushliteral(L, "t");
    lua_replace(L, 3); /* chunk name "t" [env] */

    int nargs = lua_gettop(L);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1); /* load chunk name "t" [env] */
    lua_call(L, nargs, LUA_MULTRET);
    return lua_gettop(L);
}

/* loadfile([filename [, mode [, env]]]) with mode forced to "t". */
static int safe_loadfile(lua_State *L)
{
    const char *path = luaL_optstring(L, 1, NULL);
    int env = lua_isnone(L, 3) ? 0 : 3;

    if (luaL_loadfilex(L, path, "t") != LUA_OK) {
        luaL_pushfail(L);
        lua_insert(L, -2);
        return 2;
    }
    if (env) {
        lua_pushvalue(L, env);
        if (!lua_setupvalue(L, -2, 1))
            lua_pop(L, 1);
    }
    return 1;
}

static int safe_dofile(lua_State *L)
{
    const char *path = luaL_optstring(L, 1, NULL);

    lua_settop(L, 1);
    if (luaL_loadfilex(L, path, "t") != LUA_OK)
        return lua_error(L);
    lua_call(L, 0, LUA_MULTRET);
    return lua_gettop(L) - 1;
}

/* package.searchers[2], loading text chunks only. */
static int search_lua_text(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);

    lua_getglobal(L, "package"); /* name package */
    lua_getfield(L, -1, "searchpath");
    lua_pushvalue(L, 1);
    lua_getfield(L, -3, "path"); /* ... searchpath name path */
    lua_call(L, 2, 2);           /* ... filename|nil msg */
    if (lua_isnil(L, -2))
        return 1; /* the message */

    const char *filename = lua_tostring(L, -2);
    if (luaL_loadfilex(L, filename, "t") != LUA_OK)
        return luaL_error(L, "error loading module '%s' from file '%s':\n\t%s",
                          name, filename, lua_tostring(L, -1));
    lua_pushstring(L, filename); /* ... loader filename */
    return 2;
}

/* Keep only absolute templates in a ';'-separated search path. */
static void strip_relative(lua_State *L, const char *field)
{
    luaL_Buffer b;

    lua_getglobal(L, "package");
    const char *path = (lua_getfield(L, -1, field), lua_tostring(L, -1));
    luaL_buffinit(L, &b);

    int first = 1;
    for (const char *p = path ? path : ""; *p;) {
        const char *end = strchr(p, ';');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n > 0 && p[0] == '/') {
            if (!first)
                luaL_addchar(&b, ';');
            luaL_addlstring(&b, p, n);
            first = 0;
        }
        p += n + (end ? 1 : 0);
    }
    luaL_pushresult(&b); /* package path new */
    lua_setfield(L, -3, field);
    lua_pop(L, 2); /* - */
}

/*
 * os.exit(code) that always closes the state first, so the allocator gets
 * to wipe every block before the process ends.
 */
static int closing_exit(lua_State *L)
{
    lua_settop(L, 1);
    lua_pushboolean(L, 1); /* code true */
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1); /* exit code true */
    lua_call(L, 2, 0);
    return 0;
}

static void guard_standard_functions(lua_State *L)
{
    lua_getglobal(L, "load");
    lua_pushcclosure(L, safe_load, 1);
    lua_setglobal(L, "load");
    lua_register(L, "loadfile", safe_loadfile);
    lua_register(L, "dofile", safe_dofile);

    lua_getglobal(L, "os");
    lua_getfield(L, -1, "exit");
    lua_pushcclosure(L, closing_exit, 1);
    lua_setfield(L, -2, "exit");
    lua_pop(L, 1);

    lua_getglobal(L, "package");
    lua_getfield(L, -1, "searchers"); /* package searchers */
    lua_pushcfunction(L, search_lua_text);
    lua_rawseti(L, -2, 2);
    lua_pop(L, 2); /* - */
}

/* ---- built-in modules -------------------------------------------------- */

void az_preload(lua_State *L, const char *name, lua_CFunction open)
{
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
    lua_pushcfunction(L, open);
    lua_setfield(L, -2, name);
    lua_pop(L, 1);
}

static int load_embedded(lua_State *L)
{
    const struct az_embedded_module *m = lua_touserdata(L, lua_upvalueindex(1));
    char chunkname[128];

    snprintf(chunkname, sizeof chunkname, "@lua/%s.lua", m->name);
    if (luaL_loadbufferx(L, m->source, m->len, chunkname, "t") != LUA_OK)
        return lua_error(L);
    lua_pushvalue(L, 1); /* name chunk name */
    lua_call(L, 1, 1);
    return 1;
}

static void preload_embedded(lua_State *L)
{
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
    for (const struct az_embedded_module *m = az_embedded_modules; m->name;
         m++) {
        lua_pushlightuserdata(L, (void *)m);
        lua_pushcclosure(L, load_embedded, 1);
        lua_setfield(L, -2, m->name);
    }
    lua_pop(L, 1);
}

static const luaL_Reg standard_libs[] = {
    {LUA_GNAME,       luaopen_base     },
    {LUA_LOADLIBNAME, luaopen_package  },
    {LUA_COLIBNAME,   luaopen_coroutine},
    {LUA_TABLIBNAME,  luaopen_table    },
    {LUA_IOLIBNAME,   luaopen_io       },
    {LUA_OSLIBNAME,   luaopen_os       },
    {LUA_STRLIBNAME,  luaopen_string   },
    {LUA_MATHLIBNAME, luaopen_math     },
    {LUA_UTF8LIBNAME, luaopen_utf8     },
    {NULL,            NULL             },
};

/* A private cjson instance for the core, configured strictly. MAY_LJMP */
static void open_core_json(lua_State *L)
{
    luaopen_cjson(L); /* cjson */

    lua_getfield(L, -1, "decode_invalid_numbers");
    lua_pushboolean(L, 0);
    lua_call(L, 1, 0);
    lua_getfield(L, -1, "decode_max_depth");
    lua_pushinteger(L, JSON_MAX_DEPTH);
    lua_call(L, 1, 0);
    lua_getfield(L, -1, "encode_invalid_numbers");
    lua_pushboolean(L, 0);
    lua_call(L, 1, 0);

    lua_getfield(L, -1, "decode");
    json_decode_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_getfield(L, -1, "encode");
    json_encode_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_pop(L, 1); /* - */
}

static int error_tostring(lua_State *L)
{
    lua_getfield(L, 1, "message");
    if (!lua_isstring(L, -1))
        lua_pushliteral(L, "error");
    return 1;
}

static void open_error_type(lua_State *L)
{
    luaL_newmetatable(L, ERROR_TYPE); /* mt */
    lua_pushcfunction(L, error_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pop(L, 1);
}

/* Everything that can raise while the state is built. MAY_LJMP */
static int open_everything(lua_State *L)
{
    luaL_checkversion(L);
    for (const luaL_Reg *lib = standard_libs; lib->func; lib++) {
        luaL_requiref(L, lib->name, lib->func, 1);
        lua_pop(L, 1);
    }

    strip_relative(L, "path");
    strip_relative(L, "cpath");
    guard_standard_functions(L);

    open_error_type(L);
    az_secret_open(L);
    open_core_json(L);
    az_open_builtin_libs(L);
    preload_embedded(L);
    return 0;
}

lua_State *az_runtime_open(az_runtime *rt, size_t mem_limit, az_error *err)
{
    memset(rt, 0, sizeof *rt);
    rt->mem_limit = mem_limit ? mem_limit : AZ_DEFAULT_MEMORY_LIMIT;

    lua_State *L = lua_newstate(wiping_alloc, rt);
    if (!L) {
        az_fail(err, AZ_EXIT_RUNTIME, "memory", 0,
                "cannot create the Lua state");
        return NULL;
    }
    rt->L = L;

    lua_pushcfunction(L, open_everything);
    if (lua_pcall(L, 0, 0, 0) != LUA_OK) {
        az_fail(err, AZ_EXIT_RUNTIME, "runtime", 0,
                "starting the Lua runtime: %s", lua_tostring(L, -1));
        lua_close(L);
        rt->L = NULL;
        return NULL;
    }
    return L;
}

void az_runtime_close(az_runtime *rt)
{
    if (rt->L)
        lua_close(rt->L);
    rt->L = NULL;
}

/* ---- calling and errors -------------------------------------------------- */

const char *az_error_text(lua_State *L, int idx)
{
    idx = lua_absindex(L, idx);
    if (lua_type(L, idx) == LUA_TSTRING)
        return lua_tostring(L, idx);
    if (luaL_callmeta(L, idx, "__tostring") && lua_type(L, -1) == LUA_TSTRING) {
        lua_replace(L, idx);
        return lua_tostring(L, idx);
    }
    return lua_pushfstring(L, "(error object is a %s value)",
                           luaL_typename(L, idx));
}

static int message_handler(lua_State *L)
{
    const char *msg = az_error_text(L, 1);
    luaL_traceback(L, L, msg, 1);
    return 1;
}

int az_docall(lua_State *L, int nargs, int nresults)
{
    int base = lua_gettop(L) - nargs;

    lua_pushcfunction(L, message_handler);
    lua_insert(L, base);
    int status = lua_pcall(L, nargs, nresults, base);
    lua_remove(L, base);
    return status;
}

int az_loadfile(lua_State *L, const char *path)
{
    const char *name = strcmp(path, "-") == 0 ? NULL : path;
    return luaL_loadfilex(L, name, "t");
}

void az_push_error(lua_State *L, const az_error *err)
{
    lua_createtable(L, 0, 3); /* e */
    lua_pushstring(L, err->code ? err->code : "error");
    lua_setfield(L, -2, "code");
    lua_pushstring(L, err->message);
    lua_setfield(L, -2, "message");
    if (err->status) {
        lua_pushinteger(L, err->status);
        lua_setfield(L, -2, "status");
    }
    lua_pushinteger(L, err->exit_code);
    lua_setfield(L, -2, "exit_code");
    luaL_setmetatable(L, ERROR_TYPE); /* e */
}

int az_raise(lua_State *L, const az_error *err)
{
    az_push_error(L, err);
    return lua_error(L);
}

/* ---- JSON --------------------------------------------------------------- */

int az_json_decode(lua_State *L, const void *text, size_t len, const char *what,
                   int exit_code, az_error *err)
{
    lua_rawgeti(L, LUA_REGISTRYINDEX, json_decode_ref); /* decode */
    lua_pushlstring(L, text, len);                      /* decode text */
    if (lua_pcall(L, 1, 1, 0) == LUA_OK)
        return 0; /* value */

    az_fail(err, exit_code, "bad_response", 0, "malformed JSON from %s: %s",
            what, lua_isstring(L, -1) ? lua_tostring(L, -1) : "decode failed");
    lua_pop(L, 1); /* - */
    return -1;
}

int az_json_encode(lua_State *L, int idx, az_error *err)
{
    idx = lua_absindex(L, idx);
    lua_rawgeti(L, LUA_REGISTRYINDEX, json_encode_ref); /* encode */
    lua_pushvalue(L, idx);
    if (lua_pcall(L, 1, 1, 0) == LUA_OK)
        return 0; /* text */

    az_fail(err, AZ_EXIT_RUNTIME, "json", 0, "cannot encode JSON: %s",
            lua_isstring(L, -1) ? lua_tostring(L, -1) : "encode failed");
    lua_pop(L, 1);
    return -1;
}

int az_json_get_string(lua_State *L, int obj, const char *key, const char **out,
                       size_t *len)
{
    int type = lua_getfield(L, obj, key);
    if (type != LUA_TSTRING) {
        lua_pop(L, 1);
        return -1;
    }
    *out = lua_tolstring(L, -1, len);
    lua_pop(L, 1); /* the string stays alive: the table still holds it */
    return 0;
}
