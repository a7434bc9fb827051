/*
 * identity.h - step 1 of the flow: an Entra ID token for the workload's
 * managed identity, from whichever platform endpoint this host has.
 *
 * Sources, in the order they are chosen (DESIGN §2):
 *   static            CONJUR_AUTHN_JWT_TOKEN
 *   app_service       IDENTITY_ENDPOINT + IDENTITY_HEADER (2019-08-01)
 *   arc               IDENTITY_ENDPOINT + IMDS_ENDPOINT (challenge flow)
 *   app_service_2017  MSI_ENDPOINT + MSI_SECRET (2017-09-01, Azure ML)
 *   imds              everything else: VM, VMSS, Container Instances
 *
 * Tokens are cached per process, keyed by source, selector and resource,
 * and refreshed by the rule of DESIGN §5.  Every token is registered with
 * the logger's mask the moment it arrives.
 */
#ifndef AZ_IDENTITY_H
#define AZ_IDENTITY_H

#include <stdint.h>

#include <lua.h>

#include "error.h"

#define AZ_DEFAULT_RESOURCE           "https://management.azure.com/"
#define AZ_DEFAULT_IDENTITY_TIMEOUT_S 90

/* How a user-assigned identity is chosen; NONE means system-assigned. */
typedef enum az_selector_kind {
    AZ_SELECT_NONE = 0,
    AZ_SELECT_CLIENT_ID,
    AZ_SELECT_OBJECT_ID,
    AZ_SELECT_RESOURCE_ID,
} az_selector_kind;

typedef struct az_identity_request {
    const char *resource; /* audience; NULL: AZ_DEFAULT_RESOURCE */
    az_selector_kind selector;
    const char *selector_value; /* with a selector other than NONE */
    long timeout_s;             /* overall deadline, retries included */
    int force_refresh;          /* bypass the cache (token was refused) */
} az_identity_request;

typedef struct az_platform_token {
    const char *source; /* "imds", "app_service", ... (static) */
    const char *jwt;    /* NUL-terminated; owned by the cache */
    size_t jwt_len;
    int64_t expires_on;   /* epoch seconds */
    const char *endpoint; /* URL asked, or "CONJUR_AUTHN_JWT_TOKEN" */
} az_platform_token;

/*
 * Fill req from the environment: CONJUR_AUTHN_AZURE_RESOURCE,
 * CONJUR_AUTHN_AZURE_CLIENT_ID / _OBJECT_ID / _RESOURCE_ID (at most one,
 * else a configuration error, exit 3) and AZCONJUR_IDENTITY_TIMEOUT.
 * Fields already set by the caller (non-NULL / non-zero) are kept, so
 * command-line options and configuration files win.  0 or -1.
 */
int az_identity_request_from_env(az_identity_request *req, az_error *err);

/* The source that would be used, from the environment alone (no I/O). */
const char *az_identity_source_name(void);

/*
 * Obtain a token, from the cache when it is still fresh.  On success *tok
 * points into the cache and stays valid until the next call.  Failures
 * carry exit code 4 ("identity"), or 3 for a configuration mistake.  The
 * Lua state is used for JSON parsing only.
 */
int az_identity_get(lua_State *L, const az_identity_request *req,
                    const az_platform_token **tok, az_error *err);

/* Forget every cached token, wiping it (main calls this at exit). */
void az_identity_cache_clear(void);

#endif
