/*
 * cli.h - the command table and what every command receives.
 *
 * main() strips the global options (-v, -q, --log-format) wherever they
 * stand before a command's operands, then calls the command with argv[0]
 * set to the command's name.  A command returns the process exit code.
 */
#ifndef AZ_CLI_H
#define AZ_CLI_H

#include <lua.h>

typedef int (*az_command_fn)(lua_State *L, int argc, char **argv);

typedef struct az_command {
    const char *name;
    az_command_fn run;
    const char *synopsis;     /* shown by `help` */
    int default_level;        /* log level before -v/-q */
    int operands_end_options; /* 1: global options stop at the first operand */
    const char *details; /* `CMD --help` text; NULL: the command prints it */
} az_command;

/* Print one usage error line and return AZ_EXIT_USAGE. */
int az_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The commands, each defined in its own file. */
int az_cmd_run(lua_State *L, int argc, char **argv);
int az_cmd_identity(lua_State *L, int argc, char **argv);
int az_cmd_exec(lua_State *L, int argc, char **argv);
int az_cmd_doctor(lua_State *L, int argc, char **argv);
int az_cmd_provider(lua_State *L, int argc, char **argv);
int az_cmd_get(lua_State *L, int argc, char **argv);
int az_cmd_token(lua_State *L, int argc, char **argv);

#endif
