/*
 * lib_conjur.c - the `conjur` Lua module: connect, read, token, whoami.
 *
 * A thin layer over conjur.h: it turns an options table into settings,
 * checks arguments, and raises the DESIGN §4 error value when a core
 * function fails.  The built-in commands call the same core functions.
 */
#include <string.h>

#include <lauxlib.h>

#include "conjur.h"
#include "lib.h"
#include "runtime.h"
#include "secret.h"

#define TOKEN_TYPE "azconjur.conjur.token"

typedef struct token_box {
    int64_t iat, exp;
} token_box;

/* ---- conjur.connect ------------------------------------------------------ */

typedef struct option_map {
    const char *name;
    enum az_setting setting;
    const char *origin;
} option_map;

static const option_map string_options[] = {
    {"account",    AZ_CFG_ACCOUNT,         "option 'account'"   },
    {"api_key",    AZ_CFG_API_KEY,         "option 'api_key'"   },
    {"authn",      AZ_CFG_AUTHN_TYPE,      "option 'authn'"     },
    {"ca_file",    AZ_CFG_CERT_FILE,       "option 'ca_file'"   },
    {"ca_pem",     AZ_CFG_SSL_CERTIFICATE, "option 'ca_pem'"    },
    {"host_id",    AZ_CFG_HOST_ID,         "option 'host_id'"   },
    {"login",      AZ_CFG_LOGIN,           "option 'login'"     },
    {"resource",   AZ_CFG_RESOURCE,        "option 'resource'"  },
    {"service_id", AZ_CFG_SERVICE_ID,      "option 'service_id'"},
    {"token_file", AZ_CFG_TOKEN_FILE,      "option 'token_file'"},
    {"url",        AZ_CFG_URL,             "option 'url'"       },
    {NULL,         0,                      NULL                 },
};

static const option_map identity_options[] = {
    {"client_id",   AZ_CFG_CLIENT_ID,   "option 'identity.client_id'"  },
    {"object_id",   AZ_CFG_OBJECT_ID,   "option 'identity.object_id'"  },
    {"resource_id", AZ_CFG_RESOURCE_ID, "option 'identity.resource_id'"},
    {NULL,          0,                  NULL                           },
};

static const option_map *find_option(const option_map *map, const char *name)
{
    for (; map->name; map++) {
        if (strcmp(map->name, name) == 0)
            return map;
    }
    return NULL;
}

/* Store the string on top under setting s; raises on failure.  MAY_LJMP */
static void set_from_top(lua_State *L, az_conjur *c, const option_map *o)
{
    az_error err;
    size_t len;
    const char *v = lua_tolstring(L, -1, &len);

    if (az_config_set(&c->cfg, o->setting, v, len, o->origin, &err) < 0)
        az_raise(L, &err);
}

/* identity = "<jwt>" or {client_id=|object_id=|resource_id=}.  MAY_LJMP */
static void identity_option(lua_State *L, az_conjur *c, int arg)
{
    static const option_map jwt = {"identity", AZ_CFG_JWT, "option 'identity'"};

    if (lua_type(L, -1) == LUA_TSTRING) {
        set_from_top(L, c, &jwt);
        return;
    }
    if (!lua_istable(L, -1))
        luaL_argerror(L, arg, "'identity' must be a JWT string or a table");

    lua_pushnil(L); /* ... ident key */
    while (lua_next(L, -2)) {
        const char *k =
            lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
        const option_map *o = k ? find_option(identity_options, k) : NULL;
        if (!o)
            luaL_argerror(L, arg,
                          lua_pushfstring(L,
                                          "unknown identity selector '%s' "
                                          "(use client_id, object_id or "
                                          "resource_id)",
                                          k ? k : "?"));
        if (lua_type(L, -1) != LUA_TSTRING)
            luaL_argerror(
                L, arg, lua_pushfstring(L, "identity.%s must be a string", k));
        set_from_top(L, c, o);
        lua_pop(L, 1); /* ... ident key */
    }
}

/* timeout = seconds (integer).  MAY_LJMP */
static void timeout_option(lua_State *L, az_conjur *c, int arg)
{
    static const option_map o = {"timeout", AZ_CFG_HTTP_TIMEOUT,
                                 "option 'timeout'"};
    int isint = 0;
    lua_Integer n = lua_tointegerx(L, -1, &isint);

    if (!isint)
        luaL_argerror(L, arg, "'timeout' must be a whole number of seconds");
    lua_pushfstring(L, "%I", n);
    set_from_top(L, c, &o);
    lua_pop(L, 1);
}

/* Copy the options table at arg into the client's settings.  MAY_LJMP */
static void apply_options(lua_State *L, az_conjur *c, int arg)
{
    lua_pushnil(L); /* key */
    while (lua_next(L, arg)) {
        if (lua_type(L, -2) != LUA_TSTRING)
            luaL_argerror(L, arg, "option names must be strings");
        const char *k = lua_tostring(L, -2);
        const option_map *o = find_option(string_options, k);

        if (strcmp(k, "identity") == 0) {
            identity_option(L, c, arg);
        } else if (strcmp(k, "timeout") == 0) {
            timeout_option(L, c, arg);
        } else if (!o) {
            luaL_argerror(L, arg, lua_pushfstring(L, "unknown option '%s'", k));
        } else if (lua_type(L, -1) != LUA_TSTRING) {
            luaL_argerror(
                L, arg, lua_pushfstring(L, "option '%s' must be a string", k));
        } else {
            set_from_top(L, c, o);
        }
        lua_pop(L, 1); /* key */
    }
}

static int conjur_connect(lua_State *L)
{
    az_error err;

    if (!lua_isnoneornil(L, 1))
        luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);

    az_conjur *c = az_conjur_push(L); /* opts c */
    if (lua_istable(L, 1))
        apply_options(L, c, 1);
    if (az_conjur_open(L, c, &err) < 0)
        return az_raise(L, &err);
    return 1;
}

/* ---- client methods ------------------------------------------------------ */

static int client_secret(lua_State *L)
{
    az_conjur *c = az_conjur_check(L, 1);
    size_t len;
    const char *id = luaL_checklstring(L, 2, &len);
    lua_Integer version = 0;
    az_error err;

    luaL_argcheck(L, len > 0, 2, "empty variable id");
    /* the C side reads ids up to a NUL: "a\0b" would read variable "a" */
    luaL_argcheck(L, strlen(id) == len, 2, "variable id holds a NUL byte");
    if (!lua_isnoneornil(L, 3)) {
        luaL_checktype(L, 3, LUA_TTABLE);
        lua_getfield(L, 3, "version");
        if (!lua_isnil(L, -1)) {
            int isint = 0;
            version = lua_tointegerx(L, -1, &isint);
            luaL_argcheck(L, isint && version > 0, 3,
                          "'version' must be a positive integer");
        }
        lua_pop(L, 1);
    }
    if (az_conjur_read(L, c, id, (long)version, &err) < 0)
        return az_raise(L, &err);
    return 1;
}

/*
 * Collect the ids of the table at 2 into a new array (pushed).  Returns 1
 * when the table is a map {name = id}, 0 when it is an array.  MAY_LJMP
 */
static int collect_ids(lua_State *L)
{
    lua_Integer n = (lua_Integer)lua_rawlen(L, 2);
    int is_map = 0;

    lua_newtable(L); /* ids */
    lua_Integer count = 0;
    lua_pushnil(L);
    while (lua_next(L, 2)) { /* ids key value */
        int array_key = lua_isinteger(L, -2) && lua_tointeger(L, -2) >= 1 &&
                        lua_tointeger(L, -2) <= n;
        if (!array_key && lua_type(L, -2) != LUA_TSTRING)
            luaL_argerror(L, 2, "keys must be array indices or names");
        if (!array_key)
            is_map = 1;
        if (lua_type(L, -1) != LUA_TSTRING || lua_rawlen(L, -1) == 0)
            luaL_argerror(L, 2, "every variable id must be a non-empty string");
        if (strlen(lua_tostring(L, -1)) != lua_rawlen(L, -1))
            luaL_argerror(L, 2, "a variable id holds a NUL byte");
        lua_rawseti(L, -3, ++count); /* ids key */
    }
    if (is_map && n > 0)
        luaL_argerror(L, 2,
                      "give either an array of ids or a map of names "
                      "to ids, not both");
    return is_map;
}

static int client_secrets(lua_State *L)
{
    az_conjur *c = az_conjur_check(L, 1);
    az_error err;

    luaL_checktype(L, 2, LUA_TTABLE);
    lua_settop(L, 2);
    int is_map = collect_ids(L); /* c t ids */
    if (az_conjur_read_many(L, c, 3, 0, &err) < 0)
        return az_raise(L, &err); /* c t ids byid */
    if (!is_map)
        return 1;

    lua_newtable(L); /* c t ids byid out */
    lua_pushnil(L);
    while (lua_next(L, 2)) {  /* ... out name id */
        lua_gettable(L, 4);   /* ... out name secret */
        lua_pushvalue(L, -2); /* ... out name secret name */
        lua_insert(L, -2);    /* ... out name name secret */
        lua_settable(L, 5);   /* ... out name */
    }
    return 1;
}

static int client_token(lua_State *L)
{
    az_conjur *c = az_conjur_check(L, 1);
    const az_token *t;
    az_error err;

    if (az_conjur_token(L, c, &t, &err) < 0)
        return az_raise(L, &err);

    token_box *box = lua_newuserdatauv(L, sizeof *box, 1); /* c box */
    box->iat = t->iat;
    box->exp = t->exp;
    luaL_setmetatable(L, TOKEN_TYPE);
    az_secret_push(L, "conjur token", t->b64.data, t->b64.len, 1);
    lua_setiuservalue(L, -2, 1); /* c box */
    return 1;
}

static int client_whoami(lua_State *L)
{
    az_conjur *c = az_conjur_check(L, 1);
    az_error err;

    if (az_conjur_whoami(L, c, &err) < 0)
        return az_raise(L, &err);
    return 1;
}

static int client_close(lua_State *L)
{
    az_conjur *c = luaL_checkudata(L, 1, AZ_CONJUR_TYPE);
    az_conjur_close(c);
    return 0;
}

static int client_tostring(lua_State *L)
{
    az_conjur *c = luaL_checkudata(L, 1, AZ_CONJUR_TYPE);

    if (!c->open)
        lua_pushliteral(L, "conjur.client (closed)");
    else
        lua_pushfstring(L, "conjur.client(%s, %s)", c->cfg.value[AZ_CFG_URL],
                        c->cfg.login ? c->cfg.login : "token file");
    return 1;
}

/* ---- token objects ------------------------------------------------------- */

static int token_header(lua_State *L)
{
    luaL_checkudata(L, 1, TOKEN_TYPE);
    lua_getiuservalue(L, 1, 1); /* tok b64 */
    size_t len;
    const unsigned char *b64 = az_value_bytes(L, -1, &len);

    luaL_Buffer b;
    unsigned char *out =
        (unsigned char *)luaL_buffinitsize(L, &b, len + 16); /* ... b */
    memcpy(out, "Token token=\"", 13);
    memcpy(out + 13, b64, len);
    out[13 + len] = '"';
    az_secret_push(L, "conjur token header", out, len + 14, 1);
    memset(out, 0, len + 14); /* the box is wiped again when collected */
    return 1;
}

static int token_secret(lua_State *L)
{
    luaL_checkudata(L, 1, TOKEN_TYPE);
    lua_getiuservalue(L, 1, 1);
    return 1;
}

static int token_index(lua_State *L)
{
    token_box *box = luaL_checkudata(L, 1, TOKEN_TYPE);
    const char *k = luaL_checkstring(L, 2);

    if (strcmp(k, "expires_at") == 0) {
        lua_pushinteger(L, (lua_Integer)box->exp);
    } else if (strcmp(k, "issued_at") == 0) {
        lua_pushinteger(L, (lua_Integer)box->iat);
    } else if (strcmp(k, "header") == 0) {
        lua_pushcfunction(L, token_header);
    } else if (strcmp(k, "secret") == 0) {
        lua_pushcfunction(L, token_secret);
    } else {
        lua_pushnil(L);
    }
    return 1;
}

static int token_tostring(lua_State *L)
{
    token_box *box = luaL_checkudata(L, 1, TOKEN_TYPE);
    lua_pushfstring(L, "conjur.token(expires_at=%I)", (lua_Integer)box->exp);
    return 1;
}

/* ---- registration -------------------------------------------------------- */

static const luaL_Reg client_methods[] = {
    {"close",   client_close  },
    {"secret",  client_secret },
    {"secrets", client_secrets},
    {"token",   client_token  },
    {"whoami",  client_whoami },
    {NULL,      NULL          },
};

static const luaL_Reg client_meta[] = {
    {"__close",    client_close   },
    {"__gc",       client_close   },
    {"__tostring", client_tostring},
    {NULL,         NULL           },
};

static const luaL_Reg token_meta[] = {
    {"__index",    token_index   },
    {"__tostring", token_tostring},
    {NULL,         NULL          },
};

void az_conjur_open_types(lua_State *L)
{
    if (luaL_newmetatable(L, AZ_CONJUR_TYPE)) { /* mt */
        luaL_setfuncs(L, client_meta, 0);
        luaL_newlib(L, client_methods); /* mt methods */
        lua_setfield(L, -2, "__index");
    }
    lua_pop(L, 1);
    if (luaL_newmetatable(L, TOKEN_TYPE))
        luaL_setfuncs(L, token_meta, 0);
    lua_pop(L, 1); /* - */
}

static const luaL_Reg conjur_funcs[] = {
    {"connect", conjur_connect},
    {NULL,      NULL          },
};

int az_luaopen_conjur(lua_State *L)
{
    az_conjur_open_types(L);
    luaL_newlib(L, conjur_funcs);
    return 1;
}
