/*
 * main.c - process start: hardening, the Lua runtime, global options and
 * dispatch to a command.
 *
 * Everything after hardening runs inside a protected call (pmain), so even
 * a memory error while parsing arguments ends in a message, not an abort.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <lauxlib.h>
#include <openssl/crypto.h>
#include <openssl/opensslv.h>

#include "cli.h"
#include "harden.h"
#include "identity.h"
#include "log.h"
#include "runtime.h"

#ifndef AZCONJUR_VERSION
#define AZCONJUR_VERSION "0.0.0-dev"
#endif

static int cmd_help(lua_State *L, int argc, char **argv);
static int cmd_version(lua_State *L, int argc, char **argv);

/* clang-format off */
static const char run_details[] =
    "usage: azconjur run SCRIPT [ARG...]\n\n"
    "Run a Lua 5.4 script with azconjur's modules (azure, conjur, deliver,\n"
    "json, yaml, base64, env, log).  SCRIPT '-' reads it from stdin.  The\n"
    "script gets `arg` and `...` as under lua(1); options after SCRIPT are\n"
    "the script's.  An uncaught error prints a traceback and exits 1.\n"
    "API: docs/lua-api.md\n";
static const char get_details[] =
    "usage: azconjur get [--version N] [--base64] ID...\n\n"
    "Print secret values.  One ID: its raw bytes, no newline added.  Several:\n"
    "one JSON object keyed by the ids as given (read in batches); a value\n"
    "that is not UTF-8 needs --base64, which base64-encodes every value.\n"
    "IDs as written in policy (data/app/db/password) or fully qualified\n"
    "(conjur:variable:data/app/db/password).  --version N reads version N\n"
    "(absolute, as Conjur numbers them).\n"
    "Exit: 3 configuration, 4 no Azure token, 5 refused, 6 missing or not\n"
    "permitted, 7 Conjur unreachable or TLS.\n";
static const char token_details[] =
    "usage: azconjur token [--header]\n\n"
    "Print a Conjur access token, base64, ready for\n"
    "  Authorization: Token token=\"...\"\n"
    "--header prints that whole header value.  The token is a credential:\n"
    "keep it out of logs and command lines.\n";
static const char identity_details[] =
    "usage: azconjur identity [--resource R] [--json]\n\n"
    "Get the Azure token this host would present and show, never the token\n"
    "itself: its source and expiry, the identity (oid, xms_mirid,\n"
    "subscription, resource group, kind) and the Conjur host annotations\n"
    "that would match it, ready to paste into policy.\n";
static const char help_details[] =
    "usage: azconjur help [COMMAND]\n";
static const char version_details[] =
    "usage: azconjur version\n";

static const az_command commands[] = {
    {"run", az_cmd_run,
     "run SCRIPT [ARG...]      run a Lua script (- reads stdin)",
     AZ_LOG_INFO, 1, run_details},
    {"exec", az_cmd_exec,
     "exec [OPTS] CMD [ARG...] run CMD with the secrets of secrets.yml",
     AZ_LOG_WARN, 1, NULL},
    {"get", az_cmd_get,
     "get [--version N] ID...  print secret values (--base64)",
     AZ_LOG_WARN, 0, get_details},
    {"token", az_cmd_token,
     "token [--header]         print a Conjur access token",
     AZ_LOG_WARN, 0, token_details},
    {"identity", az_cmd_identity,
     "identity [--resource R]  show the Azure identity this host presents",
     AZ_LOG_WARN, 0, identity_details},
    {"doctor", az_cmd_doctor,
     "doctor [--json] [ID]     check every step, explain what is wrong",
     AZ_LOG_ERROR, 0, NULL},
    {"provider", az_cmd_provider,
     "provider [ID]            act as a summon provider",
     AZ_LOG_ERROR, 1, NULL},
    {"help", cmd_help,
     "help [COMMAND]           show this help, or a command's",
     AZ_LOG_WARN, 0, help_details},
    {"version", cmd_version,
     "version                  show version and libraries",
     AZ_LOG_WARN, 0, version_details},
    {NULL, NULL, NULL, 0, 0, NULL},
};
/* clang-format on */

typedef struct global_options {
    int verbose; /* count of -v */
    int quiet;
    int format_json;
} global_options;

static void print_usage(FILE *out)
{
    fputs(
        "usage: azconjur [OPTIONS] COMMAND [ARGS...]\n\n"
        "Fetch secrets from CyberArk Conjur with an Azure managed identity.\n\n"
        "commands:\n",
        out);
    for (const az_command *c = commands; c->name; c++)
        fprintf(out, "  %s\n", c->synopsis);
    fputs(
        "\noptions (before or after the command):\n"
        "  -v, --verbose            more log output (repeat for debug)\n"
        "  -q, --quiet              errors only\n"
        "  --log-format text|json   log line format (default text)\n"
        "  -h, --help               this help;  -V, --version  the version\n\n"
        "Documentation: README.md and docs/ in the source tree.\n",
        out);
}

static const az_command *find_command(const char *name);

static int is_help_flag(const char *arg)
{
    return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0;
}

/* `help` alone, or `help COMMAND` for one command's text. */
static int cmd_help(lua_State *L, int argc, char **argv)
{
    if (argc < 2) {
        print_usage(stdout);
        return AZ_EXIT_OK;
    }

    const az_command *cmd = find_command(argv[1]);
    if (!cmd)
        return az_usage_error("help: unknown command '%s'", argv[1]);
    if (cmd->details) {
        fputs(cmd->details, stdout);
        return AZ_EXIT_OK;
    }

    /* commands written in Lua print their own usage for --help */
    char flag[] = "--help";
    char *args[] = {argv[1], flag, NULL};
    return cmd->run(L, 2, args);
}

static int cmd_version(lua_State *L, int argc, char **argv)
{
    (void)L, (void)argc, (void)argv;
    curl_version_info_data *curl = curl_version_info(CURLVERSION_NOW);
    printf("azconjur %s (%s, libcurl %s, %s)\n", AZCONJUR_VERSION, LUA_RELEASE,
           curl->version, OpenSSL_version(OPENSSL_VERSION));
    return AZ_EXIT_OK;
}

static const az_command *find_command(const char *name)
{
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0)
        name = "help";
    else if (strcmp(name, "--version") == 0 || strcmp(name, "-V") == 0)
        name = "version";

    for (const az_command *c = commands; c->name; c++) {
        if (strcmp(c->name, name) == 0)
            return c;
    }
    return NULL;
}

/*
 * Consume a global option at argv[*i].  Returns 1 if it was one, 0 if not,
 * -1 on a malformed one (message printed).
 */
static int take_global(global_options *g, int argc, char **argv, int *i)
{
    const char *a = argv[*i];

    if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
        g->verbose++;
    } else if (strcmp(a, "-vv") == 0) {
        g->verbose += 2;
    } else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
        g->quiet = 1;
    } else if (strcmp(a, "--log-format") == 0 ||
               strncmp(a, "--log-format=", 13) == 0) {
        const char *v =
            a[12] == '=' ? a + 13 : (*i + 1 < argc ? argv[++*i] : NULL);
        if (!v || (strcmp(v, "text") != 0 && strcmp(v, "json") != 0)) {
            az_usage_error("--log-format takes 'text' or 'json'");
            return -1;
        }
        g->format_json = strcmp(v, "json") == 0;
        az_log_set_format(g->format_json ? AZ_LOG_JSON : AZ_LOG_TEXT);
    } else {
        return 0;
    }
    return 1;
}

/*
 * Remove global options from argv in place (up to the command's operand
 * boundary) and return the new argc.  -1 on a malformed option.
 */
static int strip_globals(global_options *g, const az_command *cmd, int argc,
                         char **argv)
{
    int out = 1;
    int done = 0;

    for (int i = 1; i < argc; i++) {
        if (!done && strcmp(argv[i], "--") == 0)
            done = 1;
        if (!done) {
            int taken = take_global(g, argc, argv, &i);
            if (taken < 0)
                return -1;
            if (taken)
                continue;
            if (cmd->operands_end_options && argv[i][0] != '-')
                done = 1;
        }
        argv[out++] = argv[i];
    }
    argv[out] = NULL;
    return out;
}

static void apply_log_level(const global_options *g, const az_command *cmd)
{
    int level = cmd->default_level + g->verbose;
    if (g->quiet)
        level = AZ_LOG_ERROR;
    az_log_set_level(level);
}

/* The protected main: argv parsing and dispatch.  MAY_LJMP */
static int pmain(lua_State *L)
{
    int argc = (int)lua_tointeger(L, 1);
    char **argv = lua_touserdata(L, 2);
    global_options g = {0, 0, 0};
    int i = 1;

    /* installed as summon's provider: the link name selects `provider` */
    const char *base = strrchr(argv[0], '/');
    if (strcmp(base ? base + 1 : argv[0], "summon-azconjur") == 0) {
        az_log_set_level(AZ_LOG_ERROR);
        lua_pushinteger(L, az_cmd_provider(L, argc, argv));
        return 1;
    }

    for (; i < argc; i++) {
        int taken = take_global(&g, argc, argv, &i);
        if (taken < 0) {
            lua_pushinteger(L, AZ_EXIT_USAGE);
            return 1;
        }
        if (!taken)
            break;
    }

    if (i >= argc) {
        print_usage(stderr);
        lua_pushinteger(L, AZ_EXIT_USAGE);
        return 1;
    }

    const az_command *cmd = find_command(argv[i]);
    if (!cmd) {
        lua_pushinteger(L, az_usage_error("unknown command '%s'", argv[i]));
        return 1;
    }

    int cargc = strip_globals(&g, cmd, argc - i, argv + i);
    if (cargc < 0) {
        lua_pushinteger(L, AZ_EXIT_USAGE);
        return 1;
    }
    apply_log_level(&g, cmd);

    if (cargc >= 2 && cmd->details && is_help_flag(argv[i + 1])) {
        fputs(cmd->details, stdout);
        lua_pushinteger(L, AZ_EXIT_OK);
        return 1;
    }
    lua_pushinteger(L, cmd->run(L, cargc, argv + i));
    return 1;
}

/* AZCONJUR_MEMORY_LIMIT: bytes with an optional K, M or G suffix. */
static size_t memory_limit_from_env(void)
{
    const char *v = getenv("AZCONJUR_MEMORY_LIMIT");
    char *end;

    if (!v || !*v)
        return AZ_DEFAULT_MEMORY_LIMIT;

    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    int shift = 0;
    if (*end == 'K' || *end == 'k')
        shift = 10;
    else if (*end == 'M' || *end == 'm')
        shift = 20;
    else if (*end == 'G' || *end == 'g')
        shift = 30;
    if (shift)
        end++;

    if (errno || *end || n == 0 || n > (1ULL << 40) >> shift) {
        az_warn("ignoring AZCONJUR_MEMORY_LIMIT='%s': expected a size such as "
                "512M",
                v);
        return AZ_DEFAULT_MEMORY_LIMIT;
    }
    return (size_t)(n << shift);
}

int main(int argc, char **argv)
{
    az_runtime rt;
    az_error err;
    int code;

    az_fd_note_inherited();
    /* wipe tokens and the mask at every exit, os.exit() from a script too */
    atexit(az_mask_clear);
    atexit(az_identity_cache_clear);

    if (az_harden_process() != 0)
        az_warn("could not disable core dumps; continuing");

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        az_error_log("cannot initialise libcurl");
        return AZ_EXIT_RUNTIME;
    }

    lua_State *L = az_runtime_open(&rt, memory_limit_from_env(), &err);
    if (!L) {
        az_error_log("%s", err.message);
        return AZ_EXIT_RUNTIME;
    }

    lua_pushcfunction(L, pmain);
    lua_pushinteger(L, argc);
    lua_pushlightuserdata(L, argv);
    if (az_docall(L, 2, 1) == LUA_OK) {
        code = (int)lua_tointeger(L, -1);
    } else {
        az_error_log("%s", az_error_text(L, -1));
        code = AZ_EXIT_RUNTIME;
    }

    fflush(stdout);
    az_runtime_close(&rt);
    az_mask_clear();
    curl_global_cleanup();
    return code;
}
