/*
 * yamldoc.h - YAML documents into Lua values, through libyaml.
 *
 * Used for configuration files (~/.conjurrc, /etc/conjur.conf) and for
 * summon's secrets.yml.  Mappings become tables keyed by strings,
 * sequences become arrays, scalars stay strings (no implicit typing: a
 * Conjur id such as "1e3" or "yes" must not turn into a number or a
 * boolean).  Anchors and aliases are refused: nothing we read needs them,
 * and they are how small files turn into huge trees.
 */
#ifndef AZ_YAMLDOC_H
#define AZ_YAMLDOC_H

#include <stddef.h>

#include <lua.h>

#include "error.h"

/*
 * With keep_tags, a scalar carrying an application tag (summon's "!var",
 * "!file", "!var:file", ...) becomes {tag = "!var", value = "..."}; tags
 * of the YAML core schema ("!!str") are dropped.  An empty document gives
 * an empty table.
 *
 * On success pushes the value and returns 0; otherwise fills err with
 * exit_code, naming `what` and the line, and returns -1.
 */
int az_yaml_load(lua_State *L, const char *text, size_t len, const char *what,
                 int keep_tags, int exit_code, az_error *err);

/* The `yaml` Lua module: yaml.decode(text [, {tags = true}]). */
int az_luaopen_yaml(lua_State *L);

#endif
