/*
 * config.c - settings from options, environment and Conjur's YAML files.
 *
 * Caveats:
 *  - CONJUR_AUTHN_API_KEY, CONJUR_AUTHN_TOKEN_FILE and
 *    CONJUR_SSL_CERTIFICATE come from the environment (or options) only:
 *    Conjur's own clients keep no such keys in ~/.conjurrc.
 *  - Keys of the files that azconjur does not use (netrc_path, proxy,
 *    credential_storage, environment, plugins, ...) are ignored, so one
 *    file can serve every Conjur client on the host.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lauxlib.h>
#include <openssl/crypto.h>

#include "config.h"
#include "http.h"
#include "log.h"
#include "yamldoc.h"

#define MAX_CONFIG_FILE (64 * 1024)
#define SYSTEM_CONFIG   "/etc/conjur.conf"

typedef struct setting_info {
    const char *env;   /* environment variable */
    const char *key;   /* YAML key, or NULL when files cannot set it */
    const char *alias; /* a second YAML key (Python CLI spelling), or NULL */
    int secret;        /* register the value with the logger's mask */
} setting_info;

static const setting_info settings[AZ_CFG_COUNT] = {
    [AZ_CFG_URL] = {"CONJUR_APPLIANCE_URL",           "appliance_url",   "conjur_url",     0},
    [AZ_CFG_ACCOUNT] = {"CONJUR_ACCOUNT",                 "account",         "conjur_account", 0},
    [AZ_CFG_AUTHN_TYPE] = {"CONJUR_AUTHN_TYPE",              "authn_type",      NULL,             0},
    [AZ_CFG_SERVICE_ID] = {"CONJUR_SERVICE_ID",              "service_id",      NULL,             0},
    [AZ_CFG_HOST_ID] = {"CONJUR_AUTHN_JWT_HOST_ID",       "jwt_host_id",     NULL,             0},
    [AZ_CFG_LOGIN] = {"CONJUR_AUTHN_LOGIN",             NULL,              NULL,             0},
    [AZ_CFG_API_KEY] = {"CONJUR_AUTHN_API_KEY",           NULL,              NULL,             1},
    [AZ_CFG_TOKEN_FILE] = {"CONJUR_AUTHN_TOKEN_FILE",        NULL,              NULL,             0},
 /* the identity layer reads CONJUR_AUTHN_JWT_TOKEN itself */
    [AZ_CFG_JWT] = {NULL,                             NULL,              NULL,             1},
    [AZ_CFG_CLIENT_ID] = {"CONJUR_AUTHN_AZURE_CLIENT_ID",   "azure_client_id",
                    NULL,                                                                  0},
    [AZ_CFG_OBJECT_ID] = {"CONJUR_AUTHN_AZURE_OBJECT_ID",   NULL,              NULL,             0},
    [AZ_CFG_RESOURCE_ID] = {"CONJUR_AUTHN_AZURE_RESOURCE_ID", NULL,              NULL,             0},
    [AZ_CFG_RESOURCE] = {"CONJUR_AUTHN_AZURE_RESOURCE",    NULL,              NULL,             0},
    [AZ_CFG_CERT_FILE] = {"CONJUR_CERT_FILE",               "cert_file",       NULL,             0},
    [AZ_CFG_SSL_CERTIFICATE] = {"CONJUR_SSL_CERTIFICATE",         NULL,              NULL,             0},
    [AZ_CFG_HTTP_TIMEOUT] = {"CONJUR_HTTP_TIMEOUT",            "http_timeout",    NULL,             0},
};

void az_config_init(az_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
}

static void wipe_string(char *s)
{
    if (s) {
        OPENSSL_cleanse(s, strlen(s));
        free(s);
    }
}

void az_config_free(az_config *cfg)
{
    for (int i = 0; i < AZ_CFG_COUNT; i++) {
        wipe_string(cfg->value[i]);
        cfg->value[i] = NULL;
    }
    wipe_string(cfg->login);
    cfg->login = NULL;
}

const char *az_config_get(const az_config *cfg, enum az_setting s)
{
    return cfg->value[s];
}

const char *az_setting_env(enum az_setting s)
{
    return settings[s].env ? settings[s].env : "option";
}

static int store(az_config *cfg, enum az_setting s, const char *value,
                 size_t len, const char *origin, az_error *err)
{
    char *copy = malloc(len + 1);
    if (!copy)
        return az_fail(err, AZ_EXIT_RUNTIME, "memory", 0, "out of memory");
    memcpy(copy, value, len);
    copy[len] = '\0';

    if (settings[s].secret)
        az_mask_add(copy, len);
    wipe_string(cfg->value[s]);
    cfg->value[s] = copy;
    cfg->origin[s] = origin;
    return 0;
}

int az_config_set(az_config *cfg, enum az_setting s, const char *value,
                  size_t len, const char *origin, az_error *err)
{
    return store(cfg, s, value, len, origin, err);
}

/* "CONJUR_X", "option 'url'" or "appliance_url in /etc/conjur.conf". */
static void describe(const az_config *cfg, enum az_setting s, char *out,
                     size_t cap)
{
    const char *origin = cfg->origin[s];

    if (origin == cfg->rc_path || origin == cfg->sys_path)
        snprintf(out, cap, "%s in %s", settings[s].key, origin);
    else
        snprintf(out, cap, "%s", origin ? origin : az_setting_env(s));
}

void az_config_origin(const az_config *cfg, enum az_setting s, char *out,
                      size_t cap)
{
    describe(cfg, s, out, cap);
}

/* What to write in a message telling the user where to set s. */
static void how_to_set(enum az_setting s, char *out, size_t cap)
{
    if (settings[s].key)
        snprintf(out, cap, "set %s (or %s in ~/.conjurrc)", settings[s].env,
                 settings[s].key);
    else
        snprintf(out, cap, "set %s", settings[s].env);
}

/* ---- environment ------------------------------------------------------- */

static int load_env(az_config *cfg, az_error *err)
{
    for (int i = 0; i < AZ_CFG_COUNT; i++) {
        const char *name = settings[i].env;
        const char *v = name ? getenv(name) : NULL;
        if (cfg->value[i] || !v || !*v)
            continue;
        if (store(cfg, (enum az_setting)i, v, strlen(v), name, err) < 0)
            return -1;
    }
    return 0;
}

/* ---- files ----------------------------------------------------------------
 */

/*
 * Read a whole file into a userdata box pushed on the stack (so a memory
 * error cannot leak it).  Returns 1 with the box pushed and *len set, 0
 * when the file does not exist (nothing pushed), -1 on error.  MAY_LJMP
 */
static int read_file_boxed(lua_State *L, const char *path, size_t *len,
                           az_error *err)
{
    char *box = lua_newuserdatauv(L, MAX_CONFIG_FILE + 1, 0); /* box */
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        lua_pop(L, 1);
        if (e == ENOENT)
            return 0;
        return az_fail(err, AZ_EXIT_CONFIG, "config", 0,
                       "cannot read configuration file %s: %s", path,
                       strerror(e));
    }

    size_t n = 0;
    ssize_t got;
    while ((got = read(fd, box + n, MAX_CONFIG_FILE + 1 - n)) > 0)
        n += (size_t)got;
    int e = errno;
    close(fd);

    if (got < 0 || n > MAX_CONFIG_FILE) {
        lua_pop(L, 1);
        if (got < 0)
            return az_fail(err, AZ_EXIT_CONFIG, "config", 0,
                           "cannot read configuration file %s: %s", path,
                           strerror(e));
        return az_fail(err, AZ_EXIT_CONFIG, "config", 0,
                       "configuration file %s is larger than %d KiB", path,
                       MAX_CONFIG_FILE / 1024);
    }
    *len = n;
    return 1;
}

/* Take the string at key (or alias) of the table on top.  MAY_LJMP */
static int take_key(lua_State *L, az_config *cfg, enum az_setting s,
                    const char *key, const char *path, az_error *err)
{
    int type = lua_getfield(L, -1, key); /* doc value */
    if (type == LUA_TNIL) {
        lua_pop(L, 1);
        return 0;
    }
    if (type != LUA_TSTRING) {
        lua_pop(L, 1);
        return az_fail(err, AZ_EXIT_CONFIG, "config", 0,
                       "%s in %s must be a plain value, not a list or a map",
                       key, path);
    }
    size_t len;
    const char *v = lua_tolstring(L, -1, &len);
    int rc = 0;
    if (!cfg->value[s] && len > 0)
        rc = store(cfg, s, v, len, path, err);
    lua_pop(L, 1); /* doc */
    return rc;
}

/* Fill unset values from one YAML file; `path` lives in cfg.  MAY_LJMP */
static int load_file(lua_State *L, az_config *cfg, const char *path,
                     az_error *err)
{
    size_t len = 0;
    int found = read_file_boxed(L, path, &len, err); /* box */
    if (found <= 0)
        return found;

    const char *text = lua_touserdata(L, -1);
    if (az_yaml_load(L, text, len, path, 0, AZ_EXIT_CONFIG, err) < 0) {
        lua_pop(L, 1);
        return -1;
    }
    lua_remove(L, -2); /* doc */
    if (!lua_istable(L, -1) || lua_rawlen(L, -1) > 0) {
        lua_pop(L, 1);
        return az_fail(err, AZ_EXIT_CONFIG, "config", 0,
                       "configuration file %s must hold a mapping of keys "
                       "such as appliance_url and account",
                       path);
    }

    for (int i = 0; i < AZ_CFG_COUNT; i++) {
        const setting_info *si = &settings[i];
        if (si->key &&
            take_key(L, cfg, (enum az_setting)i, si->key, path, err) < 0) {
            lua_pop(L, 1);
            return -1;
        }
        if (si->alias &&
            take_key(L, cfg, (enum az_setting)i, si->alias, path, err) < 0) {
            lua_pop(L, 1);
            return -1;
        }
    }
    lua_pop(L, 1); /* - */
    az_debug("read configuration from %s", path);
    return 0;
}

static void choose_paths(az_config *cfg)
{
    const char *rc = getenv("CONJURRC");
    const char *home = getenv("HOME");
    const char *sys = getenv("AZCONJUR_SYSTEM_CONFIG"); /* tests */

    if (rc && *rc)
        snprintf(cfg->rc_path, sizeof cfg->rc_path, "%s", rc);
    else if (home && *home)
        snprintf(cfg->rc_path, sizeof cfg->rc_path, "%s/.conjurrc", home);
    else
        cfg->rc_path[0] = '\0';
    snprintf(cfg->sys_path, sizeof cfg->sys_path, "%s",
             sys && *sys ? sys : SYSTEM_CONFIG);
}

int az_config_load(lua_State *L, az_config *cfg, az_error *err)
{
    choose_paths(cfg);

    if (load_env(cfg, err) < 0)
        return -1;
    if (cfg->rc_path[0] && load_file(L, cfg, cfg->rc_path, err) < 0)
        return -1;
    if (load_file(L, cfg, cfg->sys_path, err) < 0)
        return -1;
    return az_config_finish(cfg, err);
}

/* ---- normalisation and validation ----------------------------------------
 */

static int ends_with(const char *s, size_t n, const char *suffix)
{
    size_t k = strlen(suffix);
    return n >= k && strncasecmp(s + n - k, suffix, k) == 0;
}

/* 1 when the URL's host is a Conjur Cloud tenant. */
static int is_cloud_host(const char *url)
{
    const char *p = strstr(url, "://");
    p = p ? p + 3 : url;
    size_t n = strcspn(p, ":/?#");
    return ends_with(p, n, ".secretsmgr.cyberark.cloud") ||
           ends_with(p, n, "-secretsmanager.cyberark.cloud");
}

char *az_config_normalise_url(const char *url)
{
    size_t n = strlen(url);
    while (n > 0 && url[n - 1] == '/')
        n--;

    int add_api = is_cloud_host(url) && !ends_with(url, n, "/api");

    char *out = malloc(n + 5);
    if (!out)
        return NULL;
    memcpy(out, url, n);
    strcpy(out + n, add_api ? "/api" : "");
    return out;
}

static int check_url(az_config *cfg, az_error *err)
{
    char where[4200], how[200];
    const char *url = cfg->value[AZ_CFG_URL];

    how_to_set(AZ_CFG_URL, how, sizeof how);
    if (!url)
        return az_fail(err, AZ_EXIT_CONFIG, "config", 0,
                       "no Conjur URL is configured: %s", how);
    describe(cfg, AZ_CFG_URL, where, sizeof where);

    for (const char *p = url; *p; p++) {
        if (isspace((unsigned char)*p) || iscntrl((unsigned char)*p) ||
            *p == '?' || *p == '#')
            return az_fail(err, AZ_EXIT_CONFIG, "config", 0,
                           "%s '%s' is not a base URL: it holds a space, a "
                           "query or a fragment",
                           where, url);
    }
    int https = strncasecmp(url, "https://", 8) == 0;
    int http = strncasecmp(url, "http://", 7) == 0;
    const char *host = url + (https ? 8 : 7);
    if ((!https && !http) || !*host || *host == '/')
        return az_fail(err, AZ_EXIT_CONFIG, "config", 0,
                       "%s '%s' must start with https:// and name a host",
                       where, url);
    if (http && !az_url_host_is_loopback(url))
        return az_fail(err, AZ_EXIT_CONFIG, "config", 0,
                       "%s '%s' uses plain http to a host that is not "
                       "loopback; use https://",
                       where, url);

    char *normal = az_config_normalise_url(url);
    if (!normal)
        return az_fail(err, AZ_EXIT_RUNTIME, "memory", 0, "out of memory");
    free(cfg->value[AZ_CFG_URL]);
    cfg->value[AZ_CFG_URL] = normal;
    return 0;
}

static int parse_authn_type(az_config *cfg, az_error *err)
{
    const char *t = cfg->value[AZ_CFG_AUTHN_TYPE];

    if (!t) {
        if (cfg->value[AZ_CFG_TOKEN_FILE])
            cfg->authn = AZ_AUTHN_TOKEN_FILE;
        else if (cfg->value[AZ_CFG_API_KEY])
            cfg->authn = AZ_AUTHN_API_KEY;
        else
            cfg->authn = AZ_AUTHN_AZURE;
        return 0;
    }
    if (strcmp(t, "azure") == 0 || strcmp(t, "authn-azure") == 0) {
        cfg->authn = AZ_AUTHN_AZURE;
    } else if (strcmp(t, "api-key") == 0 || strcmp(t, "authn") == 0) {
        cfg->authn = AZ_AUTHN_API_KEY;
    } else if (strcmp(t, "token-file") == 0) {
        cfg->authn = AZ_AUTHN_TOKEN_FILE;
    } else {
        char where[4200];
        describe(cfg, AZ_CFG_AUTHN_TYPE, where, sizeof where);
        return az_fail(err, AZ_EXIT_CONFIG, "config", 0,
                       "%s '%s' is not an authentication type: use azure, "
                       "api-key or token-file",
                       where, t);
    }
    return 0;
}

static int require(const az_config *cfg, enum az_setting s, const char *why,
                   az_error *err)
{
    char how[200];

    if (cfg->value[s])
        return 0;
    how_to_set(s, how, sizeof how);
    return az_fail(err, AZ_EXIT_CONFIG, "config", 0, "%s: %s", why, how);
}

/* The azure login: "host/" + host id unless the id already has it. */
static int derive_login(az_config *cfg, az_error *err)
{
    const char *id = cfg->value[AZ_CFG_HOST_ID];
    char *login;

    if (cfg->authn == AZ_AUTHN_AZURE) {
        if (!id)
            id = cfg->value[AZ_CFG_LOGIN];
        if (!id || !*id || strcmp(id, "host/") == 0)
            return require(cfg, AZ_CFG_HOST_ID,
                           "authn-azure needs the Conjur host id", err);
        int prefixed = strncmp(id, "host/", 5) == 0;
        size_t n = strlen(id);
        login = malloc(n + 6);
        if (login)
            snprintf(login, n + 6, "%s%s", prefixed ? "" : "host/", id);
    } else if (cfg->authn == AZ_AUTHN_API_KEY) {
        if (require(cfg, AZ_CFG_LOGIN, "api-key authentication needs a login",
                    err) < 0 ||
            require(cfg, AZ_CFG_API_KEY,
                    "api-key authentication needs an API key", err) < 0)
            return -1;
        login = strdup(cfg->value[AZ_CFG_LOGIN]);
    } else {
        return require(cfg, AZ_CFG_TOKEN_FILE,
                       "token-file authentication needs the file", err);
    }
    if (!login)
        return az_fail(err, AZ_EXIT_RUNTIME, "memory", 0, "out of memory");
    wipe_string(cfg->login);
    cfg->login = login;
    return 0;
}

static int check_timeout(az_config *cfg, az_error *err)
{
    const char *v = cfg->value[AZ_CFG_HTTP_TIMEOUT];
    char *end;

    cfg->timeout_s = AZ_DEFAULT_HTTP_TIMEOUT;
    if (!v)
        return 0;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || end == v || *end || n < 1 || n > AZ_MAX_HTTP_TIMEOUT) {
        char where[4200];
        describe(cfg, AZ_CFG_HTTP_TIMEOUT, where, sizeof where);
        return az_fail(err, AZ_EXIT_CONFIG, "config", 0,
                       "%s '%s' must be a whole number of seconds from 1 to "
                       "%d",
                       where, v, AZ_MAX_HTTP_TIMEOUT);
    }
    cfg->timeout_s = n;
    return 0;
}

static int check_selectors(const az_config *cfg, az_error *err)
{
    static const enum az_setting sel[] = {AZ_CFG_CLIENT_ID, AZ_CFG_OBJECT_ID,
                                          AZ_CFG_RESOURCE_ID};
    int first = -1;

    for (int i = 0; i < 3; i++) {
        if (!cfg->value[sel[i]])
            continue;
        if (first < 0) {
            first = i;
            continue;
        }
        char a[4200], b[4200];
        describe(cfg, sel[first], a, sizeof a);
        describe(cfg, sel[i], b, sizeof b);
        return az_fail(err, AZ_EXIT_CONFIG, "config", 0,
                       "%s and %s both select a user-assigned identity; "
                       "keep only one",
                       a, b);
    }
    return 0;
}

static int check_cert_file(const az_config *cfg, az_error *err)
{
    const char *path = cfg->value[AZ_CFG_CERT_FILE];

    if (!path || cfg->value[AZ_CFG_SSL_CERTIFICATE])
        return 0;
    if (access(path, R_OK) != 0) {
        char where[4200];
        describe(cfg, AZ_CFG_CERT_FILE, where, sizeof where);
        return az_fail(err, AZ_EXIT_CONFIG, "config", 0,
                       "%s '%s' cannot be read: %s", where, path,
                       strerror(errno));
    }
    return 0;
}

int az_config_finish(az_config *cfg, az_error *err)
{
    if (!cfg->value[AZ_CFG_ACCOUNT] &&
        store(cfg, AZ_CFG_ACCOUNT, AZ_DEFAULT_ACCOUNT,
              strlen(AZ_DEFAULT_ACCOUNT), "default", err) < 0)
        return -1;

    if (check_url(cfg, err) < 0 || parse_authn_type(cfg, err) < 0)
        return -1;
    if (cfg->authn == AZ_AUTHN_AZURE &&
        require(cfg, AZ_CFG_SERVICE_ID,
                "authn-azure needs the authenticator's service id", err) < 0)
        return -1;
    if (derive_login(cfg, err) < 0 || check_timeout(cfg, err) < 0)
        return -1;
    if (check_selectors(cfg, err) < 0 || check_cert_file(cfg, err) < 0)
        return -1;
    return 0;
}
