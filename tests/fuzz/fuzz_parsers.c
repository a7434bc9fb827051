/*
 * fuzz_parsers.c - one libFuzzer harness for the parsers that read
 * untrusted bytes: base64, Azure expiry and lifetime texts, xms_mirid, JWT
 * shape and claims, the YAML loader, secrets.yml and templates.
 *
 * The first input byte picks the parser, the rest is its input.  Run with
 * `make fuzz` (not part of `make check`); crashes found here are replayed
 * as unit tests.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "azure_time.h"
#include "base64.h"
#include "jwt.h"
#include "runtime.h"
#include "yamldoc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static az_runtime rt;
static lua_State *L;

static lua_State *state(void)
{
    az_error err;

    if (!L) {
        L = az_runtime_open(&rt, (size_t)64 << 20, &err);
        if (!L)
            abort();
    }
    lua_settop(L, 0);
    return L;
}

/* Call a Lua snippet with the input as its one argument, errors ignored. */
static void run_lua(const char *code, const char *text, size_t len)
{
    lua_State *S = state();

    if (luaL_loadstring(S, code) != LUA_OK)
        abort();
    lua_pushlstring(S, text, len);
    lua_pcall(S, 1, 0, 0);
    lua_settop(S, 0);
    lua_gc(S, LUA_GCCOLLECT);
}

static int protected_claims(lua_State *S)
{
    size_t len;
    const char *text = lua_tolstring(S, 1, &len);
    az_error err;
    if (az_jwt_push_claims(S, text, len, "fuzz", 4, &err) < 0)
        return az_raise(S, &err);
    return 1;
}

static int protected_yaml(lua_State *S)
{
    size_t len;
    const char *text = lua_tolstring(S, 1, &len);
    az_error err;
    if (az_yaml_load(S, text, len, "fuzz", 1, 3, &err) < 0)
        return az_raise(S, &err);
    return 1;
}

static void call_protected(lua_CFunction fn, const char *text, size_t len)
{
    lua_State *S = state();

    lua_pushcfunction(S, fn);
    lua_pushlstring(S, text, len);
    lua_pcall(S, 1, 0, 0);
    lua_settop(S, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    char *copy = malloc(len + 1); /* NUL-terminated for the C-string APIs */
    if (!copy)
        return 0;
    memcpy(copy, text, len);
    copy[len] = '\0';

    switch (data[0] % 8) {
    case 0: {
        unsigned char *out = malloc(len + 1);
        size_t bad;
        if (out)
            az_b64_decode(copy, len, out, &bad);
        free(out);
        break;
    }
    case 1: {
        int64_t epoch;
        az_expiry_parse(copy, len, 1700000000, &epoch);
        az_lifetime_parse(copy, len, &epoch);
        break;
    }
    case 2: {
        az_mirid m;
        az_mirid_parse(copy, &m);
        break;
    }
    case 3: {
        az_error err;
        az_jwt_check_shape(copy, len, "fuzz", &err);
        call_protected(protected_claims, copy, len);
        break;
    }
    case 4:
        call_protected(protected_yaml, copy, len);
        break;
    case 5:
        run_lua("local t = ...; require('secretsyml').parse(t, "
                "{defines = {a = 'x'}, environment = 'e'})",
                copy, len);
        break;
    case 6:
        run_lua("local t = ...; require('deliver').template(t, "
                "{a = 'v', b = 'w\\0x'})",
                copy, len);
        break;
    default:
        run_lua("local t = ...; require('json').decode(t)", copy, len);
        break;
    }
    free(copy);
    return 0;
}
