/*
 * yamldoc.c - a small, strict YAML-to-Lua loader on libyaml's event API.
 *
 * The loader runs inside lua_pcall (load_protected) so that a memory error
 * while building tables cannot leak the parser: the parser lives in a
 * userdata whose __gc deletes it.
 */
#include <string.h>

#include <lauxlib.h>
#include <yaml.h>

#include "runtime.h"
#include "yamldoc.h"

#define MAX_DEPTH   64
#define PARSER_TYPE "azconjur.yamlparser"

typedef struct parser_box {
    yaml_parser_t parser;
    int live;
} parser_box;

typedef struct load_state {
    parser_box *box;
    int keep_tags;
    const char *what;
    char problem[256];
    size_t line;
} load_state;

static int box_gc(lua_State *L)
{
    parser_box *box = luaL_checkudata(L, 1, PARSER_TYPE);
    if (box->live)
        yaml_parser_delete(&box->parser);
    box->live = 0;
    return 0;
}

/* Fetch the next event, or record the parser's complaint.  0 / -1 */
static int next_event(load_state *st, yaml_event_t *ev)
{
    if (yaml_parser_parse(&st->box->parser, ev))
        return 0;
    snprintf(st->problem, sizeof st->problem, "%s",
             st->box->parser.problem ? st->box->parser.problem
                                     : "syntax error");
    st->line = st->box->parser.problem_mark.line + 1;
    return -1;
}

static int fail_at(load_state *st, const yaml_event_t *ev, const char *msg)
{
    snprintf(st->problem, sizeof st->problem, "%s", msg);
    st->line = ev->start_mark.line + 1;
    return -1;
}

static int load_node(lua_State *L, load_state *st, yaml_event_t *ev, int depth);

static void push_scalar(lua_State *L, load_state *st, const yaml_event_t *ev)
{
    const char *tag = (const char *)ev->data.scalar.tag;

    lua_pushlstring(L, (const char *)ev->data.scalar.value,
                    ev->data.scalar.length);
    if (!st->keep_tags || !tag || strncmp(tag, "tag:yaml.org,2002:", 18) == 0)
        return;

    lua_createtable(L, 0, 2); /* value t */
    lua_pushstring(L, tag);
    lua_setfield(L, -2, "tag");
    lua_insert(L, -2);            /* t value */
    lua_setfield(L, -2, "value"); /* t */
}

/* Events up to the mapping's end; the table is on the stack.  MAY_LJMP */
static int load_mapping(lua_State *L, load_state *st, int depth)
{
    yaml_event_t ev;

    lua_newtable(L); /* t */
    for (;;) {
        if (next_event(st, &ev) < 0)
            return -1;
        if (ev.type == YAML_MAPPING_END_EVENT) {
            yaml_event_delete(&ev);
            return 0;
        }
        if (ev.type != YAML_SCALAR_EVENT) {
            int rc = fail_at(st, &ev, "mapping keys must be plain scalars");
            yaml_event_delete(&ev);
            return rc;
        }
        lua_pushlstring(L, (const char *)ev.data.scalar.value,
                        ev.data.scalar.length); /* t key */
        yaml_event_delete(&ev);

        if (next_event(st, &ev) < 0)
            return -1;
        int rc = load_node(L, st, &ev, depth + 1); /* t key value */
        yaml_event_delete(&ev);
        if (rc < 0)
            return -1;
        lua_rawset(L, -3); /* t */
    }
}

static int load_sequence(lua_State *L, load_state *st, int depth)
{
    yaml_event_t ev;
    lua_Integer n = 0;

    lua_newtable(L); /* t */
    for (;;) {
        if (next_event(st, &ev) < 0)
            return -1;
        if (ev.type == YAML_SEQUENCE_END_EVENT) {
            yaml_event_delete(&ev);
            return 0;
        }
        int rc = load_node(L, st, &ev, depth + 1); /* t value */
        yaml_event_delete(&ev);
        if (rc < 0)
            return -1;
        lua_rawseti(L, -2, ++n); /* t */
    }
}

/* Push the node that starts with ev.  MAY_LJMP */
static int load_node(lua_State *L, load_state *st, yaml_event_t *ev, int depth)
{
    if (depth > MAX_DEPTH)
        return fail_at(st, ev, "nesting too deep");
    luaL_checkstack(L, 4, "YAML nesting");

    switch (ev->type) {
    case YAML_SCALAR_EVENT:
        push_scalar(L, st, ev);
        return 0;
    case YAML_MAPPING_START_EVENT:
        return load_mapping(L, st, depth);
    case YAML_SEQUENCE_START_EVENT:
        return load_sequence(L, st, depth);
    case YAML_ALIAS_EVENT:
        return fail_at(st, ev, "aliases are not supported");
    default:
        return fail_at(st, ev, "unexpected YAML event");
    }
}

/* Refuse anchors anywhere: aliases are refused, so anchors are pointless. */
static int document(lua_State *L, load_state *st)
{
    yaml_event_t ev;
    int have_doc = 0;

    for (;;) {
        if (next_event(st, &ev) < 0)
            return -1;
        yaml_event_type_t type = ev.type;

        if (type == YAML_STREAM_END_EVENT) {
            yaml_event_delete(&ev);
            break;
        }
        if (type == YAML_STREAM_START_EVENT ||
            type == YAML_DOCUMENT_END_EVENT) {
            yaml_event_delete(&ev);
            continue;
        }
        if (type == YAML_DOCUMENT_START_EVENT) {
            int second = have_doc;
            have_doc = 1;
            if (second) {
                int rc = fail_at(st, &ev, "only one YAML document is allowed");
                yaml_event_delete(&ev);
                return rc;
            }
            yaml_event_delete(&ev);
            if (next_event(st, &ev) < 0)
                return -1;
            if (ev.type == YAML_DOCUMENT_END_EVENT) { /* empty document */
                lua_newtable(L);
                yaml_event_delete(&ev);
                continue;
            }
            int rc = load_node(L, st, &ev, 0);
            yaml_event_delete(&ev);
            if (rc < 0)
                return -1;
            if (lua_type(L, -1) == LUA_TSTRING && lua_rawlen(L, -1) == 0) {
                lua_pop(L, 1); /* "---" alone: an empty document */
                lua_newtable(L);
            }
            continue;
        }
        yaml_event_delete(&ev);
    }
    if (!have_doc)
        lua_newtable(L);
    return 0;
}

static int load_protected(lua_State *L)
{
    load_state *st = lua_touserdata(L, 1);
    size_t len;
    const char *text = lua_tolstring(L, 2, &len);

    parser_box *box = lua_newuserdatauv(L, sizeof *box, 0); /* st text box */
    box->live = 0;
    if (luaL_newmetatable(L, PARSER_TYPE)) {
        lua_pushcfunction(L, box_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_setmetatable(L, -2);

    if (!yaml_parser_initialize(&box->parser))
        return luaL_error(L, "cannot initialise the YAML parser");
    box->live = 1;
    yaml_parser_set_input_string(&box->parser, (const unsigned char *)text,
                                 len);
    st->box = box;

    int rc = document(L, st); /* st text box value? */
    yaml_parser_delete(&box->parser);
    box->live = 0;
    lua_pushboolean(L, rc == 0); /* ... value? ok */
    return rc == 0 ? 2 : 1;
}

int az_yaml_load(lua_State *L, const char *text, size_t len, const char *what,
                 int keep_tags, int exit_code, az_error *err)
{
    load_state st = {NULL, keep_tags, what, "", 0};

    lua_pushcfunction(L, load_protected);
    lua_pushlightuserdata(L, &st);
    lua_pushlstring(L, text, len);
    if (lua_pcall(L, 2, 2, 0) != LUA_OK) {
        az_fail(err, exit_code, "config", 0, "reading %s: %s", what,
                lua_tostring(L, -1));
        lua_pop(L, 1);
        return -1;
    } /* value ok | ok nil */
    if (!lua_toboolean(L, -1) && !lua_toboolean(L, -2)) {
        lua_pop(L, 2);
        return az_fail(err, exit_code, "config", 0,
                       "%s is not valid YAML: %s at line %zu", what, st.problem,
                       st.line);
    }
    lua_pop(L, 1); /* value */
    return 0;
}

/* yaml.decode(text [, {tags = true}])  MAY_LJMP */
static int yaml_decode(lua_State *L)
{
    size_t len;
    const char *text = luaL_checklstring(L, 1, &len);
    int keep_tags = 0;
    az_error err;

    if (!lua_isnoneornil(L, 2)) {
        luaL_checktype(L, 2, LUA_TTABLE);
        lua_getfield(L, 2, "tags");
        keep_tags = lua_toboolean(L, -1);
        lua_pop(L, 1);
    }
    if (az_yaml_load(L, text, len, "YAML text", keep_tags, AZ_EXIT_RUNTIME,
                     &err) < 0) {
        err.code = "bad_input";
        return az_raise(L, &err);
    }
    return 1;
}

int az_luaopen_yaml(lua_State *L)
{
    static const luaL_Reg funcs[] = {
        {"decode", yaml_decode},
        {NULL,     NULL       },
    };
    luaL_newlib(L, funcs);
    return 1;
}
