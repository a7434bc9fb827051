#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "runtime.h"
#include "secret.h"
#include "tap.h"

static size_t freed_blocks, dirty_blocks;

/* Stands in for free(): counts blocks that reach it not fully wiped. */
static void checking_release(void *block, size_t size)
{
    const unsigned char *p = block;
    int dirty = 0;

    for (size_t i = 0; i < size; i++)
        dirty |= p[i];
    freed_blocks++;
    dirty_blocks += dirty != 0;
    free(block);
}

static int run_chunk(lua_State *L, const char *code)
{
    if (luaL_loadstring(L, code) != LUA_OK)
        return -1;
    return az_docall(L, 0, 0) == LUA_OK ? 0 : -1;
}

static void test_allocator_wipes(void)
{
    az_runtime rt;
    az_error err;
    lua_State *L = az_runtime_open(&rt, 0, &err);

    CHECK(L != NULL, "runtime opens");
    rt.release = checking_release;
    run_chunk(L, "local t = {} for i = 1, 2000 do t[i] = 'secret-' .. i end "
                 "t = nil collectgarbage() collectgarbage()");
    CHECK(freed_blocks > 2000,
          "the workload freed blocks through the allocator");
    CHECK(dirty_blocks == 0, "every freed block was wiped before release");

    az_runtime_close(&rt);
    CHECK(dirty_blocks == 0, "closing the state wipes every block too");
}

static void test_memory_cap(void)
{
    az_runtime rt;
    az_error err;
    lua_State *L = az_runtime_open(&rt, (size_t)4 << 20, &err);

    luaL_loadstring(
        L, "local t = {} for i = 1, 1e7 do t[i] = ('x'):rep(100) .. i end");
    int status = az_docall(L, 0, 0);
    CHECK(status == LUA_ERRMEM, "a script past the memory cap gets LUA_ERRMEM");
    CHECK(rt.mem_used <= rt.mem_limit, "usage never passes the cap");
    lua_pop(L, 1);
    CHECK(run_chunk(L, "local x = ('y'):rep(1000)") == 0,
          "the state stays usable after the error");
    az_runtime_close(&rt);
}

static void test_json(void)
{
    az_runtime rt;
    az_error err;
    lua_State *L = az_runtime_open(&rt, 0, &err);

    CHECK(az_json_decode(L, "{\"a\":\"b\"}", 9, "test", 7, &err) == 0 &&
              lua_istable(L, -1),
          "json decodes an object");
    const char *s = NULL;
    size_t n = 0;
    CHECK(az_json_get_string(L, -1, "a", &s, &n) == 0 && n == 1 && s[0] == 'b',
          "json string field is readable");
    lua_pop(L, 1);

    CHECK(az_json_decode(L, "{\"a\":", 5, "the endpoint", 7, &err) < 0 &&
              err.exit_code == 7 &&
              strstr(err.message, "malformed JSON from the endpoint") != NULL,
          "truncated json gives an error naming the source");
    CHECK(az_json_decode(L, "[NaN]", 5, "x", 7, &err) < 0, "json refuses NaN");
    CHECK(az_json_decode(L, "{\"a\":1} x", 9, "x", 7, &err) < 0,
          "json refuses trailing data");

    char deep[300];
    memset(deep, '[', sizeof deep);
    CHECK(az_json_decode(L, deep, sizeof deep, "x", 7, &err) < 0,
          "json refuses deep nesting");
    CHECK(lua_gettop(L) == 0, "json leaves the stack balanced");
    az_runtime_close(&rt);
}

static void test_guards(void)
{
    az_runtime rt;
    az_error err;
    lua_State *L = az_runtime_open(&rt, 0, &err);

    CHECK(run_chunk(L, "local f = string.dump(function() end) "
                       "local ok, msg = load(f) "
                       "assert(ok == nil and msg:find('binary'))") == 0,
          "load refuses a binary chunk");
    CHECK(run_chunk(L, "assert(not package.path:find('%./'))") == 0,
          "package.path has no relative entry");
    CHECK(run_chunk(L, "assert(debug == nil)") == 0,
          "the debug library is not opened");
    CHECK(
        run_chunk(
            L, "local s = require('base64').encode('x') assert(s == 'eA==')") ==
            0,
        "built-in modules load through require");

    az_fail(&err, 6, "not_found", 404, "variable 'x' not found");
    az_push_error(L, &err);
    lua_setglobal(L, "E");
    CHECK(run_chunk(L, "assert(tostring(E) == \"variable 'x' not found\" and "
                       "E.code == 'not_found' and E.status == 404)") == 0,
          "error values carry code, status and a message tostring shows");
    az_runtime_close(&rt);
}

static void test_secret(void)
{
    az_runtime rt;
    az_error err;
    lua_State *L = az_runtime_open(&rt, 0, &err);

    az_secret_push(L, "db/pw", "hunter2", 7, 0);
    lua_setglobal(L, "S");
    CHECK(run_chunk(L, "assert(tostring(S) == 'secret(db/pw)')") == 0,
          "secret tostring hides the value");
    CHECK(run_chunk(L, "assert(#S == 7 and S:reveal() == 'hunter2')") == 0,
          "secret reveals on request");
    CHECK(run_chunk(
              L, "assert(S:equals('hunter2') and not S:equals('hunter3'))") ==
              0,
          "secret equals compares contents");
    CHECK(run_chunk(L, "assert(S:sha256() == "
                       "'f52fbd32b2b3b86ff88ef6c490628285f482af15ddcb29541f94bc"
                       "f526a3f6c7')") == 0,
          "secret sha256 is the hex digest");
    CHECK(run_chunk(
              L, "local c = 'pre-' .. S assert(tostring(c) == 'secret(concat)' "
                 "and c:reveal() == 'pre-hunter2')") == 0,
          "concatenation gives a secret");
    CHECK(run_chunk(
              L,
              "S:wipe() assert(not pcall(function() return S:reveal() end))") ==
              0,
          "a wiped secret cannot be revealed");
    az_runtime_close(&rt);
}

void suite_runtime(void)
{
    test_allocator_wipes();
    test_memory_cap();
    test_json();
    test_guards();
    test_secret();
}
