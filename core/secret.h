/*
 * secret.h - the secret value type shared by every step that touches one.
 *
 * A secret lives in a Lua full userdata, so the runtime's wiping allocator
 * clears it when it is collected; :wipe() and <close> clear it at once.
 * Its bytes never become a Lua string unless a script calls :reveal().
 * The id it was read under is kept as the userdata's user value and shows
 * in tostring(): "secret(data/app/db/password)".
 */
#ifndef AZ_SECRET_H
#define AZ_SECRET_H

#include <stddef.h>

#include <lua.h>

#define AZ_SECRET_TYPE "azconjur.secret"

typedef struct az_secret {
    size_t len;
    int wiped;
    unsigned char bytes[];
} az_secret;

/* Create the metatable; call once per state. */
void az_secret_open(lua_State *L);

/* Push a new secret of len bytes for the caller to fill.  MAY_LJMP */
az_secret *az_secret_new(lua_State *L, const char *id, size_t len);

/*
 * Push a new secret holding a copy of bytes.  With `mask` set the value is
 * also registered with the logger's mask.  MAY_LJMP (out of memory).
 */
az_secret *az_secret_push(lua_State *L, const char *id, const void *bytes,
                          size_t len, int mask);

/* The secret at idx, or NULL when it is something else. */
az_secret *az_secret_test(lua_State *L, int idx);

/* The secret at idx; raises "bad argument" otherwise.  MAY_LJMP */
az_secret *az_secret_check(lua_State *L, int idx);

/*
 * Bytes of a value that may be a string or a secret, for delivery
 * functions that accept both.  Raises for other types and for a wiped
 * secret.  MAY_LJMP
 */
const unsigned char *az_value_bytes(lua_State *L, int idx, size_t *len);

/* 1 when the value at idx is a secret, 0 otherwise. */
int az_is_secret(lua_State *L, int idx);

#endif
