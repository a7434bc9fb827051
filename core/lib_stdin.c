/*
 * lib_stdin.c - `azconjur.stdin` (internal): standard input as batches of
 * lines, for the provider's stream mode.
 *
 * summon writes every variable path at once and reads the answers as they
 * come, keeping stdin open.  Reading line by line would cost one Conjur
 * request per path; instead :next() blocks until at least one whole line
 * is there, then takes every further line that can be read without
 * waiting, so paths that arrived together are read in one batch.
 *
 * The reader works on the raw descriptor: nothing else may read stdin
 * through stdio in the same process.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>

#include "buf.h"
#include "lib.h"
#include "runtime.h"

#define READER_TYPE     "azconjur.stdinreader"
#define LINE_MAX_BYTES  (64 * 1024)
#define BATCH_MAX_LINES 1000

typedef struct reader {
    az_buf pending; /* bytes read but not yet returned */
    int eof;
    lua_Integer line_no; /* lines returned so far */
} reader;

static reader *check_reader(lua_State *L)
{
    return luaL_checkudata(L, 1, READER_TYPE);
}

static int reader_gc(lua_State *L)
{
    az_buf_free(&check_reader(L)->pending);
    return 0;
}

/* Read what is there (waiting first if `wait`); 1 if bytes came. */
static int fill(lua_State *L, reader *r, int wait)
{
    struct pollfd p = {0, POLLIN, 0};
    unsigned char chunk[4096];

    if (r->eof)
        return 0;
    if (!wait && poll(&p, 1, 0) <= 0)
        return 0;

    ssize_t n;
    do {
        n = read(0, chunk, sizeof chunk);
    } while (n < 0 && errno == EINTR);
    if (n < 0)
        return luaL_error(L, "reading stdin: %s", strerror(errno));
    if (n == 0) {
        r->eof = 1;
        return 0;
    }
    if (az_buf_append(&r->pending, chunk, (size_t)n) < 0)
        return luaL_error(L, "out of memory");
    return 1;
}

/* Move the complete lines of r->pending into the table on top. */
static lua_Integer take_lines(lua_State *L, reader *r, lua_Integer have)
{
    size_t start = 0;

    if (r->pending.len == 0)
        return have; /* also: no block allocated yet */

    while (have < BATCH_MAX_LINES) {
        unsigned char *nl =
            memchr(r->pending.data + start, '\n', r->pending.len - start);
        if (!nl)
            break;
        size_t len = (size_t)(nl - (r->pending.data + start));
        if (len && r->pending.data[start + len - 1] == '\r')
            len--; /* a line written on Windows */
        lua_pushlstring(L, (const char *)r->pending.data + start, len);
        lua_rawseti(L, -2, ++have);
        start = (size_t)(nl - r->pending.data) + 1;
    }

    memmove(r->pending.data, r->pending.data + start, r->pending.len - start);
    r->pending.len -= start;
    return have;
}

/*
 * reader:next() -> array of lines and the number of the first one, or nil
 * at the end of input.  A last line without a newline counts as a line.
 * MAY_LJMP
 */
static int reader_next(lua_State *L)
{
    reader *r = check_reader(L);

    lua_newtable(L); /* r lines */
    lua_Integer have = take_lines(L, r, 0);
    while (have == 0 && !r->eof) {
        if (r->pending.len > LINE_MAX_BYTES)
            return luaL_error(L, "stdin line %d is longer than %d bytes",
                              (int)r->line_no + 1, LINE_MAX_BYTES);
        fill(L, r, 1);
        have = take_lines(L, r, have);
    }
    while (have < BATCH_MAX_LINES && fill(L, r, 0))
        have = take_lines(L, r, have);

    if (have == 0 && r->eof && r->pending.len > 0) {
        lua_pushlstring(L, (const char *)r->pending.data, r->pending.len);
        lua_rawseti(L, -2, ++have);
        az_buf_reset(&r->pending);
    }
    if (have == 0)
        return 0; /* end of input: nothing */

    lua_pushinteger(L, r->line_no + 1); /* r lines first */
    r->line_no += have;
    return 2;
}

/* stdin.reader() -> a reader of standard input.  MAY_LJMP */
static int stdin_reader(lua_State *L)
{
    reader *r = lua_newuserdatauv(L, sizeof *r, 0);
    memset(r, 0, sizeof *r);
    if (luaL_newmetatable(L, READER_TYPE)) {
        static const luaL_Reg methods[] = {
            {"next", reader_next},
            {NULL,   NULL       },
        };
        lua_pushcfunction(L, reader_gc);
        lua_setfield(L, -2, "__gc");
        luaL_newlib(L, methods);
        lua_setfield(L, -2, "__index");
    }
    lua_setmetatable(L, -2);
    return 1;
}

int az_luaopen_stdin(lua_State *L)
{
    static const luaL_Reg funcs[] = {
        {"reader", stdin_reader},
        {NULL,     NULL        },
    };
    luaL_newlib(L, funcs);
    return 1;
}
