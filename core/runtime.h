/*
 * runtime.h - the embedded Lua 5.4 state and the helpers every module uses.
 *
 * The runtime owns the allocator (wipes each freed block, enforces a cap),
 * the curated standard library, the built-in modules in package.preload,
 * the error value of DESIGN §4 and JSON decoding through lua-cjson.
 *
 * Functions marked MAY_LJMP can raise a Lua error (longjmp): no heap memory
 * may be live across them unless something else will free it.
 */
#ifndef AZ_RUNTIME_H
#define AZ_RUNTIME_H

#include <stddef.h>

#include <lua.h>

#include "error.h"

#define MAY_LJMP /* this function can raise a Lua error */

#define AZ_DEFAULT_MEMORY_LIMIT ((size_t)256 << 20)

typedef struct az_runtime {
    lua_State *L;
    size_t mem_used;
    size_t mem_peak;
    size_t mem_limit;
    /* gives a wiped block back to libc; NULL means free() (tests hook it) */
    void (*release)(void *block, size_t size);
} az_runtime;

/*
 * Create the state: allocator, libraries, built-in modules.  Returns NULL
 * (with err filled) when even that fails.
 */
lua_State *az_runtime_open(az_runtime *rt, size_t mem_limit, az_error *err);
void az_runtime_close(az_runtime *rt);

/* The runtime a state belongs to. */
az_runtime *az_runtime_of(lua_State *L);

/*
 * Call the function below nargs arguments in protected mode with a message
 * handler that adds a traceback.  Returns the lua_pcall status; on error
 * the message (a string) is on the stack.
 */
int az_docall(lua_State *L, int nargs, int nresults);

/* Load a file or "-" (stdin) as a text chunk; a binary chunk is refused. */
int az_loadfile(lua_State *L, const char *path);

/* Push the error value of DESIGN §4 built from err. */
void az_push_error(lua_State *L, const az_error *err);

/* Raise err as a Lua error value.  MAY_LJMP */
int az_raise(lua_State *L, const az_error *err);

/* Text of any error value: string, table with __tostring, or other. */
const char *az_error_text(lua_State *L, int idx);

/*
 * Decode JSON text with the runtime's own lua-cjson instance (strict:
 * no NaN/Infinity/hex, bounded depth).  On success pushes the value and
 * returns 0; otherwise fills err naming `what`, with exit_code and the
 * code "bad_response", and returns -1.
 */
int az_json_decode(lua_State *L, const void *text, size_t len, const char *what,
                   int exit_code, az_error *err);

/*
 * Encode the value at idx as JSON, push the string, return 0; or fill err
 * and return -1.
 */
int az_json_encode(lua_State *L, int idx, az_error *err);

/* Field accessors for decoded JSON objects; 0 on success, -1 if absent. */
int az_json_get_string(lua_State *L, int obj, const char *key, const char **out,
                       size_t *len);

/* Register a C module under `name` in package.preload. */
void az_preload(lua_State *L, const char *name, lua_CFunction open);

#endif
