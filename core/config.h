/*
 * config.h - the configuration step: every setting of DESIGN §2, where it
 * came from, and whether the whole makes sense.
 *
 * Sources, highest first: options given by the caller (command line or
 * conjur.connect), environment variables (a non-empty one counts),
 * $CONJURRC or ~/.conjurrc, then /etc/conjur.conf.  Each source only
 * fills settings that are still unset, so loading them in that order
 * gives the precedence.  Every value remembers its origin, and messages
 * name it ("CONJUR_APPLIANCE_URL", "appliance_url in /etc/conjur.conf").
 */
#ifndef AZ_CONFIG_H
#define AZ_CONFIG_H

#include <stddef.h>

#include <lua.h>

#include "error.h"

#define AZ_DEFAULT_ACCOUNT      "conjur"
#define AZ_DEFAULT_HTTP_TIMEOUT 30
#define AZ_MAX_HTTP_TIMEOUT     600

enum az_setting {
    AZ_CFG_URL,
    AZ_CFG_ACCOUNT,
    AZ_CFG_AUTHN_TYPE,
    AZ_CFG_SERVICE_ID,
    AZ_CFG_HOST_ID,
    AZ_CFG_LOGIN,
    AZ_CFG_API_KEY,
    AZ_CFG_TOKEN_FILE,
    AZ_CFG_JWT,
    AZ_CFG_CLIENT_ID,
    AZ_CFG_OBJECT_ID,
    AZ_CFG_RESOURCE_ID,
    AZ_CFG_RESOURCE,
    AZ_CFG_CERT_FILE,
    AZ_CFG_SSL_CERTIFICATE,
    AZ_CFG_HTTP_TIMEOUT,
    AZ_CFG_COUNT
};

typedef enum az_authn_kind {
    AZ_AUTHN_AZURE,
    AZ_AUTHN_API_KEY,
    AZ_AUTHN_TOKEN_FILE
} az_authn_kind;

typedef struct az_config {
    char *value[AZ_CFG_COUNT];        /* malloc'd copies; NULL when unset */
    const char *origin[AZ_CFG_COUNT]; /* env name, "option", or a path */
    char rc_path[4096];               /* the user file that was consulted */
    char sys_path[4096];              /* the system file that was consulted */

    /* Filled by az_config_finish(): */
    az_authn_kind authn;
    char *login;    /* "host/<id>" for azure; as given for api-key */
    long timeout_s; /* per request */
} az_config;

/* Zero everything (no allocation). */
void az_config_init(az_config *cfg);

/* Wipe and free every value. */
void az_config_free(az_config *cfg);

/*
 * Set a value from a caller's option, overriding nothing already set by
 * another option.  `origin` is a static string such as "option 'url'".
 * Returns 0, or -1 when memory runs out.
 */
int az_config_set(az_config *cfg, enum az_setting s, const char *value,
                  size_t len, const char *origin, az_error *err);

/* The value of a setting, or NULL. */
const char *az_config_get(const az_config *cfg, enum az_setting s);

/* The environment variable behind a setting. */
const char *az_setting_env(enum az_setting s);

/*
 * Where a loaded value came from, for people: "CONJUR_ACCOUNT",
 * "option 'url'", "appliance_url in /etc/conjur.conf" or "default".
 * Used by `doctor` to show the effective settings.
 */
void az_config_origin(const az_config *cfg, enum az_setting s, char *out,
                      size_t cap);

/*
 * Fill unset values from the environment and the two files, then check
 * and derive (az_config_finish).  Errors carry exit code 3.  The state is
 * used to parse YAML.  MAY_LJMP (memory errors only)
 */
int az_config_load(lua_State *L, az_config *cfg, az_error *err);

/* Defaults, normalisation and validation; part of az_config_load. */
int az_config_finish(az_config *cfg, az_error *err);

/*
 * Normalise a Conjur base URL in place: trailing slashes removed, "/api"
 * appended for Conjur Cloud hosts (*.secretsmgr.cyberark.cloud and
 * *-secretsmanager.cyberark.cloud).  Returns a new malloc'd string, or
 * NULL when memory runs out.  Exposed for unit tests.
 */
char *az_config_normalise_url(const char *url);

#endif
