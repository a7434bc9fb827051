/*
 * secret.c - the `azconjur.secret` userdata: redacted, wipeable values.
 *
 * Caveats:
 *  - :reveal() returns an ordinary Lua string.  It is wiped only when the
 *    collector frees it (the runtime's allocator clears every freed block),
 *    not when the script stops using it.
 *  - Concatenation makes a new secret; both operands stay as they were.
 */
#include <string.h>

#include <lauxlib.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "log.h"
#include "secret.h"

az_secret *az_secret_new(lua_State *L, const char *id, size_t len)
{
    az_secret *s = lua_newuserdatauv(L, sizeof *s + len, 1); /* secret */
    s->len = len;
    s->wiped = 0;

    lua_pushstring(L, id ? id : "?"); /* secret id */
    lua_setiuservalue(L, -2, 1);      /* secret */
    luaL_setmetatable(L, AZ_SECRET_TYPE);
    return s;
}

az_secret *az_secret_push(lua_State *L, const char *id, const void *bytes,
                          size_t len, int mask)
{
    az_secret *s = az_secret_new(L, id, len); /* secret */

    if (len)
        memcpy(s->bytes, bytes, len);
    if (mask)
        az_mask_add(bytes, len);
    return s;
}

az_secret *az_secret_test(lua_State *L, int idx)
{
    return luaL_testudata(L, idx, AZ_SECRET_TYPE);
}

int az_is_secret(lua_State *L, int idx)
{
    return az_secret_test(L, idx) != NULL;
}

az_secret *az_secret_check(lua_State *L, int idx)
{
    return luaL_checkudata(L, idx, AZ_SECRET_TYPE);
}

/* A secret that may still be read; raises for a wiped one.  MAY_LJMP */
static az_secret *check_live(lua_State *L, int idx)
{
    az_secret *s = az_secret_check(L, idx);
    if (s->wiped)
        luaL_argerror(L, idx, "secret has been wiped");
    return s;
}

const unsigned char *az_value_bytes(lua_State *L, int idx, size_t *len)
{
    az_secret *s = az_secret_test(L, idx);

    if (s) {
        if (s->wiped)
            luaL_argerror(L, idx, "secret has been wiped");
        *len = s->len;
        return s->bytes;
    }
    if (lua_type(L, idx) == LUA_TSTRING)
        return (const unsigned char *)lua_tolstring(L, idx, len);

    luaL_typeerror(L, idx, "string or secret");
    return NULL;
}

static int secret_tostring(lua_State *L)
{
    az_secret *s = az_secret_check(L, 1);

    lua_getiuservalue(L, 1, 1); /* s id */
    if (s->wiped)
        lua_pushfstring(L, "secret(%s, wiped)", lua_tostring(L, -1));
    else
        lua_pushfstring(L, "secret(%s)", lua_tostring(L, -1));
    return 1;
}

static int secret_len(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)check_live(L, 1)->len);
    return 1;
}

static int secret_reveal(lua_State *L)
{
    az_secret *s = check_live(L, 1);
    lua_pushlstring(L, (const char *)s->bytes, s->len);
    return 1;
}

static int secret_sha256(lua_State *L)
{
    az_secret *s = check_live(L, 1);
    unsigned char digest[32];
    char hex[65];

    if (!EVP_Digest(s->bytes, s->len, digest, NULL, EVP_sha256(), NULL))
        return luaL_error(L, "sha256 failed");
    for (int i = 0; i < 32; i++) {
        static const char digits[] = "0123456789abcdef";
        hex[2 * i] = digits[digest[i] >> 4];
        hex[2 * i + 1] = digits[digest[i] & 15];
    }
    lua_pushlstring(L, hex, 64);
    return 1;
}

/*
 * Constant time in the contents; the lengths are compared first, and a
 * length difference is allowed to show.
 */
static int secret_equals(lua_State *L)
{
    az_secret *s = check_live(L, 1);
    size_t other_len;
    const unsigned char *other = az_value_bytes(L, 2, &other_len);

    int same =
        other_len == s->len && CRYPTO_memcmp(s->bytes, other, s->len) == 0;
    lua_pushboolean(L, same);
    return 1;
}

static int secret_wipe(lua_State *L)
{
    az_secret *s = az_secret_check(L, 1);

    OPENSSL_cleanse(s->bytes, s->len);
    s->wiped = 1;
    return 0;
}

static int secret_id(lua_State *L)
{
    az_secret_check(L, 1);
    lua_getiuservalue(L, 1, 1);
    return 1;
}

/* a .. b where at least one side is a secret: a new, masked secret. MAY_LJMP */
static int secret_concat(lua_State *L)
{
    size_t alen, blen;
    const unsigned char *a = az_value_bytes(L, 1, &alen);
    const unsigned char *b = az_value_bytes(L, 2, &blen);

    if (alen > ((size_t)-1) / 2 || blen > ((size_t)-1) / 2)
        return luaL_error(L, "secret too large");

    az_secret *out = az_secret_new(L, "concat", alen + blen); /* a b out */
    memcpy(out->bytes, a, alen);
    memcpy(out->bytes + alen, b, blen);

    az_mask_add(out->bytes, out->len);
    return 1;
}

static const luaL_Reg secret_methods[] = {
    {"equals", secret_equals},
    {"id",     secret_id    },
    {"reveal", secret_reveal},
    {"sha256", secret_sha256},
    {"wipe",   secret_wipe  },
    {NULL,     NULL         },
};

static const luaL_Reg secret_metamethods[] = {
    {"__close",    secret_wipe    },
    {"__concat",   secret_concat  },
    {"__gc",       secret_wipe    },
    {"__len",      secret_len     },
    {"__tostring", secret_tostring},
    {"__index",    NULL           },
    {NULL,         NULL           },
};

void az_secret_open(lua_State *L)
{
    luaL_newmetatable(L, AZ_SECRET_TYPE); /* mt */
    luaL_setfuncs(L, secret_metamethods, 0);
    luaL_newlib(L, secret_methods); /* mt methods */
    lua_setfield(L, -2, "__index"); /* mt */
    lua_pop(L, 1);                  /* - */
}
