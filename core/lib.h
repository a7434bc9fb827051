/*
 * lib.h - the built-in Lua modules and where they are registered.
 *
 * Each module's luaopen function lives beside the C code it exposes; this
 * header lists them so the runtime can put them in package.preload.
 */
#ifndef AZ_LIB_H
#define AZ_LIB_H

#include <lua.h>

int az_luaopen_azure(lua_State *L);
int az_luaopen_base64(lua_State *L);
int az_luaopen_conjur(lua_State *L);
int az_luaopen_deliver(lua_State *L);
int az_luaopen_diag(lua_State *L);  /* internal: azconjur.diag */
int az_luaopen_stdin(lua_State *L); /* internal: azconjur.stdin */
int az_luaopen_env(lua_State *L);
int az_luaopen_json(lua_State *L);
int az_luaopen_log(lua_State *L);

/* Register every built-in C module in package.preload. */
void az_open_builtin_libs(lua_State *L);

#endif
