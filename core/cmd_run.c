/*
 * cmd_run.c - `azconjur run SCRIPT [ARG...]`: run a user's Lua script.
 *
 * The script gets `arg` and `...` as under lua(1).  Its own directory is
 * searched first by require, then the absolute entries of the default path.
 */
#include <stdio.h>
#include <string.h>

#include <lauxlib.h>

#include "cli.h"
#include "log.h"
#include "runtime.h"

/* Put "<dir>/?.lua;<dir>/?/init.lua" in front of package.path. MAY_LJMP */
static void search_script_dir_first(lua_State *L, const char *script)
{
    const char *slash = strrchr(script, '/');
    if (strcmp(script, "-") == 0 || !slash)
        return; /* relative "./" entries are deliberately not added */

    lua_getglobal(L, "package");                          /* package */
    lua_pushlstring(L, script, (size_t)(slash - script)); /* package dir */
    const char *dir = lua_tostring(L, -1);
    lua_getfield(L, -2, "path"); /* package dir path */
    lua_pushfstring(L, "%s/?.lua;%s/?/init.lua;%s", dir, dir,
                    lua_tostring(L, -1));
    lua_setfield(L, -4, "path");
    lua_pop(L, 3); /* - */
}

/* The global `arg` table of lua(1): script at 0, its arguments from 1. */
static void set_arg_table(lua_State *L, int argc, char **argv)
{
    lua_createtable(L, argc - 2, 2); /* arg */
    lua_pushliteral(L, "azconjur");
    lua_rawseti(L, -2, -1);
    for (int i = 1; i < argc; i++) {
        lua_pushstring(L, argv[i]);
        lua_rawseti(L, -2, i - 1);
    }
    lua_setglobal(L, "arg"); /* - */
}

static int report_load_error(lua_State *L, const char *script, int status)
{
    const char *msg = lua_tostring(L, -1);

    if (status == LUA_ERRMEM)
        az_error_log("cannot load script '%s': out of memory", script);
    else
        az_error_log("cannot load script: %s", msg ? msg : "unknown error");
    return AZ_EXIT_RUNTIME;
}

static int report_run_error(lua_State *L, int status)
{
    if (status == LUA_ERRMEM) {
        az_runtime *rt = az_runtime_of(L);
        az_error_log(
            "script ran out of memory: the Lua heap is capped at %zu MiB "
            "(set AZCONJUR_MEMORY_LIMIT to change it)",
            rt->mem_limit >> 20);
    } else {
        az_error_log("%s", az_error_text(L, -1));
    }
    return AZ_EXIT_RUNTIME;
}

int az_cmd_run(lua_State *L, int argc, char **argv)
{
    if (argc < 2)
        return az_usage_error("run needs a script file, or '-' to read stdin");
    const char *script = argv[1];

    search_script_dir_first(L, script);
    set_arg_table(L, argc, argv);

    int status = az_loadfile(L, script); /* chunk */
    if (status != LUA_OK)
        return report_load_error(L, script, status);

    for (int i = 2; i < argc; i++)
        lua_pushstring(L, argv[i]);     /* chunk args */
    status = az_docall(L, argc - 2, 0); /* - */
    if (status != LUA_OK)
        return report_run_error(L, status);
    return AZ_EXIT_OK;
}
