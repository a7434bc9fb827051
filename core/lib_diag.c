/*
 * lib_diag.c - `azconjur.diag`, the internal module behind `doctor`.
 *
 * Internal: not part of the DESIGN §4 API, and free to change.  It gives
 * lua/cmd/doctor.lua the few primitives the public modules lack:
 *
 *   diag.config()              the effective settings and where each came
 *                              from, without connecting; secrets (API key,
 *                              inline PEM, JWT) appear only as `true`
 *   diag.get(c, segs[, opts])  GET <base>/<seg>/<seg>... on a client's
 *                              connection, each segment percent-encoded;
 *                              opts.auth = true sends the access token.
 *                              Returns status, decoded JSON (or nil) and
 *                              the content type.  The raw body is never
 *                              handed out.
 *   diag.path(c, segs)         the path diag.get would request (from the
 *                              host on, base path included), for messages
 *
 * Transport failures raise the usual error value (code "tls", "network").
 */
#include <string.h>
#include <strings.h>

#include <lauxlib.h>

#include "conjur.h"
#include "lib.h"
#include "runtime.h"

#define MAX_DIAG_JSON (256 * 1024)

/* ---- diag.config --------------------------------------------------------- */

typedef struct setting_name {
    const char *name;
    enum az_setting setting;
    int secret; /* reported as `true`, never as text */
} setting_name;

static const setting_name setting_names[] = {
    {"account",         AZ_CFG_ACCOUNT,         0},
    {"api_key",         AZ_CFG_API_KEY,         1},
    {"authn_type",      AZ_CFG_AUTHN_TYPE,      0},
    {"cert_file",       AZ_CFG_CERT_FILE,       0},
    {"client_id",       AZ_CFG_CLIENT_ID,       0},
    {"host_id",         AZ_CFG_HOST_ID,         0},
    {"http_timeout",    AZ_CFG_HTTP_TIMEOUT,    0},
    {"jwt",             AZ_CFG_JWT,             1},
    {"login",           AZ_CFG_LOGIN,           0},
    {"object_id",       AZ_CFG_OBJECT_ID,       0},
    {"resource",        AZ_CFG_RESOURCE,        0},
    {"resource_id",     AZ_CFG_RESOURCE_ID,     0},
    {"service_id",      AZ_CFG_SERVICE_ID,      0},
    {"ssl_certificate", AZ_CFG_SSL_CERTIFICATE, 1},
    {"token_file",      AZ_CFG_TOKEN_FILE,      0},
    {"url",             AZ_CFG_URL,             0},
    {NULL,              0,                      0},
};

static const char *authn_name(az_authn_kind k)
{
    switch (k) {
    case AZ_AUTHN_API_KEY:
        return "api-key";
    case AZ_AUTHN_TOKEN_FILE:
        return "token-file";
    default:
        return "azure";
    }
}

/* Push {values = {...}, origins = {...}, authn, login, timeout}.  MAY_LJMP */
static void push_settings(lua_State *L, const az_config *cfg)
{
    char origin[4200];

    lua_createtable(L, 0, 6); /* t */
    lua_newtable(L);          /* t values */
    lua_newtable(L);          /* t values origins */
    for (const setting_name *s = setting_names; s->name; s++) {
        const char *v = cfg->value[s->setting];
        if (!v)
            continue;
        if (s->secret)
            lua_pushboolean(L, 1);
        else
            lua_pushstring(L, v);
        lua_setfield(L, -3, s->name);
        az_config_origin(cfg, s->setting, origin, sizeof origin);
        lua_pushstring(L, origin);
        lua_setfield(L, -2, s->name);
    }
    lua_setfield(L, -3, "origins"); /* t values */
    lua_setfield(L, -2, "values");  /* t */

    lua_pushstring(L, authn_name(cfg->authn));
    lua_setfield(L, -2, "authn");
    if (cfg->login) {
        lua_pushstring(L, cfg->login);
        lua_setfield(L, -2, "login");
    }
    lua_pushinteger(L, cfg->timeout_s);
    lua_setfield(L, -2, "timeout");
    lua_pushstring(L, cfg->rc_path);
    lua_setfield(L, -2, "rc_path");
    lua_pushstring(L, cfg->sys_path);
    lua_setfield(L, -2, "sys_path");
}

/*
 * The configuration lives in a closed client userdata while it loads, so
 * its __gc frees every value even if a memory error interrupts us.
 */
static int diag_config(lua_State *L)
{
    az_error err;

    az_conjur *c = az_conjur_push(L); /* c */
    if (az_config_load(L, &c->cfg, &err) < 0)
        return az_raise(L, &err);
    push_settings(L, &c->cfg); /* c t */
    az_config_free(&c->cfg);
    return 1;
}

/* ---- diag.get ------------------------------------------------------------ */

/* c->url = base URL + "/" + each segment of the table at idx, encoded. */
static int build_url(lua_State *L, az_conjur *c, int idx)
{
    lua_Integer n = (lua_Integer)lua_rawlen(L, idx);

    if (az_conjur_url(c, n == 0 ? "/" : "") < 0)
        return -1;
    for (lua_Integer i = 1; i <= n; i++) {
        size_t len;
        lua_rawgeti(L, idx, i); /* ... seg */
        const char *s = lua_tolstring(L, -1, &len);
        if (!s)
            luaL_argerror(L, 2, "path segments must be strings");
        int rc = az_buf_append_str(&c->url, "/") < 0 ||
                 az_conjur_url_segment(c, s, len) < 0;
        lua_pop(L, 1); /* ... */
        if (rc)
            return -1;
    }
    return 0;
}

/* Push the decoded JSON body, or nil when it is not JSON.  MAY_LJMP */
static void push_json_body(lua_State *L, const az_http_response *r)
{
    az_error ignored;

    if (strncasecmp(r->content_type, "application/json", 16) != 0 ||
        !r->body.data || r->body.len == 0 || r->body.len > MAX_DIAG_JSON ||
        az_json_decode(L, r->body.data, r->body.len, "Conjur's answer", 0,
                       &ignored) < 0)
        lua_pushnil(L);
}

/* MAY_LJMP */
static int diag_get(lua_State *L)
{
    static const char *const accept[] = {"Accept: application/json", NULL};
    az_conjur *c = az_conjur_check(L, 1);
    int auth = 0;
    az_error err;

    luaL_checktype(L, 2, LUA_TTABLE);
    if (!lua_isnoneornil(L, 3)) {
        luaL_checktype(L, 3, LUA_TTABLE);
        lua_getfield(L, 3, "auth");
        auth = lua_toboolean(L, -1);
        lua_pop(L, 1);
    }
    lua_settop(L, 3);

    if (build_url(L, c, 2) < 0) {
        az_fail(&err, AZ_EXIT_RUNTIME, "memory", 0, "out of memory");
        return az_raise(L, &err);
    }
    const char *path =
        (const char *)c->url.data + strlen(c->cfg.value[AZ_CFG_URL]);
    const char *what = lua_pushfstring(L, "Conjur's %s", path); /* .. what */

    int rc = auth ? az_conjur_data_call(L, c, accept, what, &err)
                  : az_conjur_send(c, "GET", (const char *)c->url.data, accept,
                                   NULL, 0, what, &err);
    if (rc < 0) {
        az_conjur_drop_response(c);
        return az_raise(L, &err);
    }

    lua_pushinteger(L, c->resp.status); /* .. what status */
    push_json_body(L, &c->resp);        /* .. what status doc */
    lua_pushstring(L, c->resp.content_type);
    az_conjur_drop_response(c);
    return 3;
}

/* ---- diag.path ----------------------------------------------------------- */

/*
 * The path diag.get would ask for (after the base URL's own path), for
 * messages.  Built in the client's buffer, which the client owns.
 */
static int diag_path(lua_State *L)
{
    az_conjur *c = az_conjur_check(L, 1);

    luaL_checktype(L, 2, LUA_TTABLE);
    if (build_url(L, c, 2) < 0)
        return luaL_error(L, "out of memory");
    const char *url = (const char *)c->url.data;
    const char *p = strstr(url, "://");
    p = p ? strchr(p + 3, '/') : NULL;
    lua_pushstring(L, p ? p : "/");
    return 1;
}

static const luaL_Reg diag_funcs[] = {
    {"config", diag_config},
    {"get",    diag_get   },
    {"path",   diag_path  },
    {NULL,     NULL       },
};

int az_luaopen_diag(lua_State *L)
{
    az_conjur_open_types(L);
    luaL_newlib(L, diag_funcs);
    return 1;
}
