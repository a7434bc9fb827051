/*
 * cmd_deliver.c - `azconjur exec`, `azconjur provider` and `azconjur
 * doctor`: thin C entry points for commands whose policy lives in embedded
 * Lua (lua/cmd/).
 *
 * Why Lua: both commands are policy over primitives that already exist
 * for scripts - conjur's batch and single reads, deliver's files, execve
 * and supervision.  Writing them against those same functions keeps each
 * behaviour in one place (DESIGN §9) and makes `exec` a worked example of
 * what a script can do.  C here only turns argv into a table and the
 * result or error value into an exit code and one line on stderr.
 */
#include <string.h>

#include <lauxlib.h>

#include "cli.h"
#include "log.h"
#include "runtime.h"

#ifndef AZCONJUR_VERSION
#define AZCONJUR_VERSION "0.0.0-dev"
#endif

/* The exit code an error value asks for; 1 for anything else. */
static int exit_code_of(lua_State *L, int idx)
{
    int code = AZ_EXIT_RUNTIME;

    if (lua_type(L, idx) == LUA_TTABLE) {
        lua_getfield(L, idx, "exit_code");
        if (lua_isinteger(L, -1) && lua_tointeger(L, -1) > 0 &&
            lua_tointeger(L, -1) < 256)
            code = (int)lua_tointeger(L, -1);
        lua_pop(L, 1);
    }
    return code;
}

/*
 * require(module).main(args, version) in protected mode.  Error values
 * keep their exit code; their message is written (masked) as one line.
 */
static int run_module(lua_State *L, const char *module, int argc, char **argv)
{
    lua_getglobal(L, "require"); /* require */
    lua_pushstring(L, module);
    if (lua_pcall(L, 1, 1, 0) != LUA_OK) { /* mod | msg */
        az_error_log("%s", az_error_text(L, -1));
        return AZ_EXIT_RUNTIME;
    }
    lua_getfield(L, -1, "main"); /* mod main */
    lua_createtable(L, argc, 0); /* mod main args */
    for (int i = 0; i < argc; i++) {
        lua_pushstring(L, argv[i]);
        lua_rawseti(L, -2, i + 1);
    }
    lua_pushliteral(L, "azconjur " AZCONJUR_VERSION); /* mod main args v */

    if (lua_pcall(L, 2, 1, 0) != LUA_OK) { /* mod err */
        int code = exit_code_of(L, -1);
        az_error_log("%s", az_error_text(L, -1));
        return code;
    }
    int code = (int)luaL_optinteger(L, -1, 0); /* mod status */
    return code >= 0 && code < 256 ? code : AZ_EXIT_RUNTIME;
}

int az_cmd_exec(lua_State *L, int argc, char **argv)
{
    return run_module(L, "cmd.exec", argc, argv);
}

int az_cmd_provider(lua_State *L, int argc, char **argv)
{
    return run_module(L, "cmd.provider", argc, argv);
}

int az_cmd_doctor(lua_State *L, int argc, char **argv)
{
    return run_module(L, "cmd.doctor", argc, argv);
}
