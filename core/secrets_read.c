/*
 * secrets_read.c - reading variables: one at a time, or in batches.
 *
 * Ids arrive as written in policy ("data/app/db/password") or fully
 * qualified ("conjur:variable:data/app/db/password"); results are keyed
 * by the id as given.  Batches (conjur.md §4.2) use fully qualified ids,
 * ask for base64 values, and are split so that no URL reaches
 * AZ_BATCH_URL_MAX.  A batch is all or nothing, so on 403 or 404 its ids
 * are read one by one to name the variable at fault.  Ids that contain a
 * comma cannot travel in a batch and are read singly.
 *
 * Batch values briefly exist as base64 Lua strings inside the decoded
 * JSON; the runtime's allocator wipes them when they are collected.
 */
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "base64.h"
#include "conjur.h"
#include "log.h"
#include "runtime.h"
#include "secret.h"

#define BATCH_PATH "/secrets?variable_ids="

typedef struct var_id {
    const char *account;
    size_t account_len;
    const char *name; /* the variable id inside the account */
} var_id;

/* Split "acct:variable:rest"; anything else is an id in the default account */
static var_id split_id(const az_conjur *c, const char *given)
{
    var_id v = {c->cfg.value[AZ_CFG_ACCOUNT], 0, given};
    const char *colon = strchr(given, ':');

    v.account_len = strlen(v.account);
    if (colon && colon > given && strncmp(colon, ":variable:", 10) == 0 &&
        colon[10] && memchr(given, '/', (size_t)(colon - given)) == NULL) {
        v.account = given;
        v.account_len = (size_t)(colon - given);
        v.name = colon + 10;
    }
    return v;
}

static int oom(az_error *err)
{
    return az_fail(err, AZ_EXIT_RUNTIME, "memory", 0, "out of memory");
}

/* ---- single reads -------------------------------------------------------- */

static int single_url(az_conjur *c, const var_id *v, long version)
{
    char q[40];

    if (az_conjur_url(c, "/secrets/") < 0 ||
        az_conjur_url_segment(c, v->account, v->account_len) < 0 ||
        az_buf_append_str(&c->url, "/variable/") < 0 ||
        az_conjur_url_segment(c, v->name, strlen(v->name)) < 0)
        return -1;
    if (version > 0) {
        snprintf(q, sizeof q, "?version=%ld", version);
        if (az_buf_append_str(&c->url, q) < 0)
            return -1;
    }
    return az_buf_terminate(&c->url);
}

int az_conjur_read(lua_State *L, az_conjur *c, const char *id, long version,
                   az_error *err)
{
    static const char *const accept[] = {"Accept: */*", NULL};
    var_id v = split_id(c, id);
    char doing[300];

    if (single_url(c, &v, version) < 0)
        return oom(err);
    if (az_conjur_data_call(L, c, accept, "Conjur's secrets endpoint", err) < 0)
        return -1;

    if (c->resp.status != 200) {
        if (version > 0)
            snprintf(doing, sizeof doing,
                     "reading variable '%.200s' version %ld", id, version);
        else
            snprintf(doing, sizeof doing, "reading variable '%.200s'", id);
        int rc = az_conjur_status_error(L, c, doing, 0, err);
        az_conjur_drop_response(c);
        return rc;
    }
    az_secret_push(L, id, c->resp.body.data, c->resp.body.len, 1);
    az_conjur_drop_response(c);
    return 0;
}

/* ---- batches ------------------------------------------------------------- */

/* Append "acct:variable:name", query-encoded, to b. */
static int append_full_id(az_buf *b, const var_id *v)
{
    if (az_url_encode(b, v->account, v->account_len) < 0 ||
        az_buf_append_str(b, "%3Avariable%3A") < 0 ||
        az_url_encode(b, v->name, strlen(v->name)) < 0)
        return -1;
    return 0;
}

/* Push the fully qualified id as a Lua string.  MAY_LJMP */
static void push_full_id(lua_State *L, const var_id *v)
{
    lua_pushlstring(L, v->account, v->account_len);
    lua_pushfstring(L, "%s:variable:%s", lua_tostring(L, -1), v->name);
    lua_remove(L, -2);
}

/* Read the ids of the chunk (array at `chunk`) singly into `out`. */
static int read_singly(lua_State *L, az_conjur *c, int chunk, int out,
                       long version, az_error *err)
{
    lua_Integer n = luaL_len(L, chunk);

    for (lua_Integer i = 1; i <= n; i++) {
        lua_rawgeti(L, chunk, i); /* id */
        const char *id = lua_tostring(L, -1);
        if (az_conjur_read(L, c, id, version, err) < 0) {
            lua_pop(L, 1);
            return -1;
        }
        lua_setfield(L, out, id); /* id */
        lua_pop(L, 1);            /* - */
    }
    return 0;
}

/* Decode one base64 value of the answer and store it as out[id]. */
static int store_value(lua_State *L, int answer, int out, const char *id,
                       const var_id *v, az_error *err)
{
    size_t len, bad;

    push_full_id(L, v);    /* full */
    lua_rawget(L, answer); /* text */
    /* the type first: lua_tolstring would turn a number into a string */
    const char *text =
        lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &len) : NULL;
    if (!text) {
        lua_pop(L, 1);
        return az_fail(err, AZ_EXIT_CONJUR, "network", 200,
                       "Conjur's batch answer has no value for '%s'", id);
    }

    unsigned char *raw =
        lua_newuserdatauv(L, len / 4 * 3 + 3, 0); /* text raw */
    long n = az_b64_decode(text, len, raw, &bad);
    if (n < 0) {
        lua_pop(L, 2);
        return az_fail(err, AZ_EXIT_CONJUR, "network", 200,
                       "Conjur's batch answer holds invalid base64 for '%s'",
                       id);
    }
    az_secret_push(L, id, raw, (size_t)n, 1); /* text raw secret */
    lua_setfield(L, out, id);
    lua_pop(L, 2); /* - */
    return 0;
}

/* Check and decode a batch answer for the chunk.  MAY_LJMP */
static int take_batch(lua_State *L, az_conjur *c, int chunk, int out,
                      az_error *err)
{
    if (strcasecmp(c->resp.content_encoding, "base64") != 0) {
        az_conjur_drop_response(c);
        return az_fail(err, AZ_EXIT_CONJUR, "network", 200,
                       "Conjur's batch answer is not marked "
                       "'Content-Encoding: base64' although base64 was asked "
                       "for; a proxy may have changed it");
    }
    int rc =
        az_json_decode(L, c->resp.body.data, c->resp.body.len,
                       "Conjur's batch secrets endpoint", AZ_EXIT_CONJUR, err);
    az_conjur_drop_response(c);
    if (rc < 0)
        return -1;
    if (!lua_istable(L, -1)) {
        lua_pop(L, 1);
        return az_fail(err, AZ_EXIT_CONJUR, "network", 200,
                       "Conjur's batch answer is not a JSON object");
    }

    int answer = lua_gettop(L);
    lua_Integer n = luaL_len(L, chunk);
    for (lua_Integer i = 1; i <= n && rc == 0; i++) {
        lua_rawgeti(L, chunk, i); /* answer id */
        const char *id = lua_tostring(L, -1);
        var_id v = split_id(c, id);
        rc = store_value(L, answer, out, id, &v, err);
        lua_pop(L, 1);
    }
    lua_pop(L, 1); /* - */
    return rc;
}

/* One batch request for the chunk, with the 403/404 fall-back.  MAY_LJMP */
static int read_batch(lua_State *L, az_conjur *c, int chunk, int out,
                      az_error *err)
{
    static const char *const headers[] = {"Accept: application/json",
                                          "Accept-Encoding: base64", NULL};
    lua_Integer n = luaL_len(L, chunk);

    if (n == 1)
        return read_singly(L, c, chunk, out, 0, err);

    if (az_conjur_url(c, BATCH_PATH) < 0)
        return oom(err);
    for (lua_Integer i = 1; i <= n; i++) {
        lua_rawgeti(L, chunk, i);
        var_id v = split_id(c, lua_tostring(L, -1));
        lua_pop(L, 1);
        if ((i > 1 && az_buf_append_str(&c->url, "%2C") < 0) ||
            append_full_id(&c->url, &v) < 0)
            return oom(err);
    }
    if (az_buf_terminate(&c->url) < 0)
        return oom(err);

    az_debug("batch read of %lld variables", (long long)n);
    if (az_conjur_data_call(L, c, headers, "Conjur's batch secrets endpoint",
                            err) < 0)
        return -1;
    long status = c->resp.status;
    if (status == 200) {
        int rc = take_batch(L, c, chunk, out, err);
        /*
         * The decoded answer is garbage now.  Collecting it before the next
         * batch keeps the peak heap near one batch's worth instead of
         * letting every batch's answer pile up until Lua's next cycle.
         */
        lua_gc(L, LUA_GCCOLLECT);
        return rc;
    }
    if (status == 403 || status == 404) {
        az_debug("batch answered %ld; reading its %lld variables one by one "
                 "to name the one at fault",
                 status, (long long)n);
        az_conjur_drop_response(c);
        return read_singly(L, c, chunk, out, 0, err);
    }

    char doing[100];
    snprintf(doing, sizeof doing, "reading %lld variables in a batch",
             (long long)n);
    int rc = az_conjur_status_error(L, c, doing, 0, err);
    az_conjur_drop_response(c);
    return rc;
}

/* Bytes an id adds to a batch URL (query-encoded, plus the separator). */
static size_t batch_cost(const az_conjur *c, const char *id)
{
    var_id v = split_id(c, id);
    az_buf b = AZ_BUF_INIT;
    size_t cost = (size_t)-1;

    if (append_full_id(&b, &v) == 0)
        cost = b.len + 3;
    az_buf_free(&b);
    return cost;
}

int az_conjur_read_many(lua_State *L, az_conjur *c, int ids, long version,
                        az_error *err)
{
    ids = lua_absindex(L, ids);
    lua_Integer n = luaL_len(L, ids);
    size_t base = strlen(c->cfg.value[AZ_CFG_URL]) + strlen(BATCH_PATH);
    size_t budget = AZ_BATCH_URL_MAX > base ? AZ_BATCH_URL_MAX - base : 0;

    lua_newtable(L); /* out */
    int out = lua_gettop(L);
    lua_newtable(L); /* out seen */
    lua_newtable(L); /* out seen chunk */
    int seen = out + 1, chunk = out + 2;
    lua_Integer in_chunk = 0;
    size_t used = 0;
    int rc = 0;

    for (lua_Integer i = 1; i <= n && rc == 0; i++) {
        lua_rawgeti(L, ids, i); /* ... id */
        const char *id = lua_tostring(L, -1);
        if (lua_getfield(L, seen, id) != LUA_TNIL) { /* ... id true */
            lua_pop(L, 2);
            continue;
        }
        lua_pop(L, 1);
        lua_pushboolean(L, 1);
        lua_setfield(L, seen, id);

        size_t cost = batch_cost(c, id);
        if (version > 0 || strchr(id, ',') || cost > budget) {
            if (az_conjur_read(L, c, id, version, err) < 0)
                rc = -1;
            else
                lua_setfield(L, out, id);
            lua_pop(L, 1);
            continue;
        }
        if (used + cost > budget) {
            rc = read_batch(L, c, chunk, out, err);
            lua_newtable(L);
            lua_replace(L, chunk);
            in_chunk = 0;
            used = 0;
        }
        lua_rawseti(L, chunk, ++in_chunk); /* ... */
        used += cost;
    }
    if (rc == 0 && in_chunk > 0)
        rc = read_batch(L, c, chunk, out, err);

    lua_settop(L, rc == 0 ? out : out - 1); /* out, or nothing */
    return rc;
}
