/*
 * identity_static_stub.c - TEMPORARY stand-in for the identity layer.
 *
 * Only the static source (CONJUR_AUTHN_JWT_TOKEN) of core/identity.h, so
 * the Conjur client links and can be tested before the real identity
 * branch is merged.  Drop this file when `identity` lands: its functions
 * clash with the real ones on purpose, so the link tells you.
 */
#include <stdlib.h>
#include <string.h>

#include "identity.h"
#include "log.h"

static az_platform_token cached;

int az_identity_request_from_env(az_identity_request *req, az_error *err)
{
    (void)err;
    if (!req->resource)
        req->resource = getenv("CONJUR_AUTHN_AZURE_RESOURCE");
    if (!req->timeout_s)
        req->timeout_s = AZ_DEFAULT_IDENTITY_TIMEOUT_S;
    return 0;
}

const char *az_identity_source_name(void)
{
    return getenv("CONJUR_AUTHN_JWT_TOKEN") ? "static" : "imds";
}

int az_identity_get(lua_State *L, const az_identity_request *req,
                    const az_platform_token **tok, az_error *err)
{
    const char *jwt = getenv("CONJUR_AUTHN_JWT_TOKEN");

    (void)L, (void)req;
    if (!jwt || !*jwt)
        return az_fail(err, AZ_EXIT_IDENTITY, "identity", 0,
                       "no platform token: this build only reads "
                       "CONJUR_AUTHN_JWT_TOKEN (identity layer not merged)");

    az_mask_add(jwt, strlen(jwt));
    cached.source = "static";
    cached.jwt = jwt;
    cached.jwt_len = strlen(jwt);
    cached.expires_on = 0;
    cached.endpoint = "CONJUR_AUTHN_JWT_TOKEN";
    *tok = &cached;
    return 0;
}

void az_identity_cache_clear(void) {}
