/*
 * lib_azure.c - the `azure` Lua module (DESIGN §4): the platform token as
 * an object that never shows the token, the source that would be used,
 * and Conjur's reading of an xms_mirid.
 *
 * The token object holds its own copy of the JWT inside the userdata, so
 * the runtime's wiping allocator clears it when it is collected, and
 * :close()/<close> clear it at once.
 */
#include <stdio.h>
#include <string.h>

#include <lauxlib.h>
#include <openssl/crypto.h>

#include "azure_time.h"
#include "identity.h"
#include "jwt.h"
#include "lib.h"
#include "runtime.h"
#include "secret.h"

#define TOKEN_TYPE "azconjur.azure_token"

typedef struct azure_token {
    int64_t expires_on;
    char source[24];
    char endpoint[256];
    int wiped;
    size_t len;
    char jwt[]; /* len bytes and a NUL */
} azure_token;

static azure_token *check_token(lua_State *L, int idx)
{
    return luaL_checkudata(L, idx, TOKEN_TYPE);
}

/* The token itself; raises when it was closed.  MAY_LJMP */
static azure_token *open_token(lua_State *L, int idx)
{
    azure_token *t = check_token(L, idx);
    if (t->wiped)
        luaL_error(L, "the Azure token was closed");
    return t;
}

/* ---- options --------------------------------------------------------------
 */

typedef struct selector_opt {
    const char *key;
    az_selector_kind kind;
} selector_opt;

static const selector_opt selector_opts[] = {
    {"client_id",   AZ_SELECT_CLIENT_ID  },
    {"object_id",   AZ_SELECT_OBJECT_ID  },
    {"resource_id", AZ_SELECT_RESOURCE_ID},
    {NULL,          AZ_SELECT_NONE       },
};

/* Strings stay owned by the options table at index 1.  MAY_LJMP */
static void read_option(lua_State *L, az_identity_request *req, const char *key)
{
    if (strcmp(key, "resource") == 0) {
        req->resource = luaL_checkstring(L, -1);
        return;
    }
    if (strcmp(key, "timeout") == 0) {
        lua_Integer s = luaL_checkinteger(L, -1);
        luaL_argcheck(L, s >= 1 && s <= 3600, 1,
                      "'timeout' must be 1 to 3600 seconds");
        req->timeout_s = (long)s;
        return;
    }
    if (strcmp(key, "refresh") == 0) {
        req->force_refresh = lua_toboolean(L, -1);
        return;
    }
    for (const selector_opt *o = selector_opts; o->key; o++) {
        if (strcmp(key, o->key) != 0)
            continue;
        if (req->selector != AZ_SELECT_NONE) {
            az_error err;
            az_fail(&err, AZ_EXIT_CONFIG, "config", 0,
                    "give at most one of client_id, object_id and "
                    "resource_id");
            az_raise(L, &err);
        }
        req->selector = o->kind;
        req->selector_value = luaL_checkstring(L, -1);
        return;
    }
    luaL_argerror(L, 1, lua_pushfstring(L, "unknown option '%s'", key));
}

/* MAY_LJMP */
static void read_options(lua_State *L, az_identity_request *req)
{
    memset(req, 0, sizeof *req);
    if (lua_isnoneornil(L, 1))
        return;
    luaL_checktype(L, 1, LUA_TTABLE);

    lua_pushnil(L);          /* opts nil */
    while (lua_next(L, 1)) { /* opts key value */
        luaL_argcheck(L, lua_type(L, -2) == LUA_TSTRING, 1,
                      "option names must be strings");
        read_option(L, req, lua_tostring(L, -2));
        lua_pop(L, 1); /* opts key */
    }
}

/* ---- azure.token ----------------------------------------------------------
 */

/* MAY_LJMP */
static int azure_token_new(lua_State *L)
{
    az_identity_request req;
    const az_platform_token *tok;
    az_error err;

    read_options(L, &req);
    if (az_identity_request_from_env(&req, &err) < 0 ||
        az_identity_get(L, &req, &tok, &err) < 0)
        return az_raise(L, &err);

    azure_token *t =
        lua_newuserdatauv(L, sizeof *t + tok->jwt_len + 1, 0); /* t */
    t->expires_on = tok->expires_on;
    t->wiped = 0;
    t->len = tok->jwt_len;
    snprintf(t->source, sizeof t->source, "%s", tok->source);
    snprintf(t->endpoint, sizeof t->endpoint, "%s", tok->endpoint);
    memcpy(t->jwt, tok->jwt, tok->jwt_len + 1);
    luaL_setmetatable(L, TOKEN_TYPE);
    return 1;
}

static int token_index(lua_State *L)
{
    azure_token *t = check_token(L, 1);
    const char *key = luaL_checkstring(L, 2);

    if (strcmp(key, "source") == 0)
        lua_pushstring(L, t->source);
    else if (strcmp(key, "expires_on") == 0)
        lua_pushinteger(L, (lua_Integer)t->expires_on);
    else if (strcmp(key, "endpoint") == 0)
        lua_pushstring(L, t->endpoint);
    else
        lua_getfield(L, lua_upvalueindex(1), key); /* a method, or nil */
    return 1;
}

static int token_tostring(lua_State *L)
{
    azure_token *t = check_token(L, 1);
    char when[32];

    az_format_utc(t->expires_on, when, sizeof when);
    lua_pushfstring(L, "azure-token(%s, %s %s)", t->source,
                    t->wiped ? "closed, expired" : "expires", when);
    return 1;
}

/* MAY_LJMP */
static int token_claims(lua_State *L)
{
    azure_token *t = open_token(L, 1);
    az_error err;

    if (az_jwt_push_claims(L, t->jwt, t->len, "the Azure token",
                           AZ_EXIT_IDENTITY, &err) < 0)
        return az_raise(L, &err);
    return 1;
}

/* The token as a secret value, for scripts that call Azure APIs. */
static int token_secret(lua_State *L)
{
    azure_token *t = open_token(L, 1);
    az_secret_push(L, "azure-token", t->jwt, t->len, 1);
    return 1;
}

static int token_close(lua_State *L)
{
    azure_token *t = check_token(L, 1);
    if (!t->wiped) {
        OPENSSL_cleanse(t->jwt, t->len);
        t->wiped = 1;
    }
    return 0;
}

static const luaL_Reg token_methods[] = {
    {"claims", token_claims},
    {"close",  token_close },
    {"secret", token_secret},
    {NULL,     NULL        },
};

static const luaL_Reg token_meta[] = {
    {"__close",    token_close   },
    {"__gc",       token_close   },
    {"__tostring", token_tostring},
    {NULL,         NULL          },
};

static void token_open_type(lua_State *L)
{
    if (!luaL_newmetatable(L, TOKEN_TYPE)) { /* mt */
        lua_pop(L, 1);
        return;
    }
    luaL_setfuncs(L, token_meta, 0);
    luaL_newlib(L, token_methods);       /* mt methods */
    lua_pushcclosure(L, token_index, 1); /* mt index */
    lua_setfield(L, -2, "__index");      /* mt */
    lua_pushliteral(L, "azure token");
    lua_setfield(L, -2, "__metatable");
    lua_pop(L, 1); /* - */
}

/* ---- azure.source, azure.mirid ------------------------------------------- */

static int azure_source(lua_State *L)
{
    lua_pushstring(L, az_identity_source_name());
    return 1;
}

static void set_string(lua_State *L, const char *key, const char *value)
{
    if (value && *value) {
        lua_pushstring(L, value);
        lua_setfield(L, -2, key);
    }
}

/* azure.mirid(text) -> table: Conjur's reading of an xms_mirid. */
static int azure_mirid(lua_State *L)
{
    az_mirid m;
    int ok = az_mirid_parse(luaL_checkstring(L, 1), &m) == 0;

    lua_createtable(L, 0, 10); /* t */
    lua_pushboolean(L, ok);
    lua_setfield(L, -2, "acceptable");
    set_string(L, "reason", ok ? NULL : m.reason);
    set_string(L, "conjur_error", m.conjur_error);
    set_string(L, "subscription", m.subscription);
    set_string(L, "resource_group", m.resource_group);
    set_string(L, "provider_namespace", m.provider_namespace);
    set_string(L, "provider_type", m.provider_type);
    set_string(L, "name", m.name);
    lua_pushinteger(L, m.provider_count);
    lua_setfield(L, -2, "provider_count");
    lua_pushstring(L, m.user_assigned ? "user-assigned" : "system-assigned");
    lua_setfield(L, -2, "identity_kind");
    return 1;
}

static const luaL_Reg azure_funcs[] = {
    {"mirid",  azure_mirid    },
    {"source", azure_source   },
    {"token",  azure_token_new},
    {NULL,     NULL           },
};

int az_luaopen_azure(lua_State *L)
{
    token_open_type(L);
    luaL_newlib(L, azure_funcs);
    return 1;
}
