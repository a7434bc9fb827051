/*
 * jwt.h - looking inside an Azure access token without verifying it, and
 * reading its `xms_mirid` claim the way Conjur's authn-azure does.
 *
 * Conjur checks the signature; azconjur decodes the payload only for
 * expiry, caching and diagnostics (`identity`, `doctor`).
 */
#ifndef AZ_JWT_H
#define AZ_JWT_H

#include <stddef.h>
#include <stdint.h>

#include <lua.h>

#include "error.h"

/* Largest token we look at; Azure's are about 1.7 KB. */
#define AZ_JWT_MAX (32 * 1024)

/*
 * 0 when text looks like a compact JWS: three non-empty dot-separated
 * parts of base64url characters (the signature may be empty), no longer
 * than AZ_JWT_MAX.  Otherwise -1 with err naming `what` (never the token).
 */
int az_jwt_check_shape(const char *jwt, size_t len, const char *what,
                       az_error *err);

/*
 * Decode the payload into a Lua table (via the runtime's JSON decoder)
 * and push it; `exp`, `iat` and `nbf` become integers when they are
 * integral numbers or decimal strings.  0, or -1 with nothing pushed.
 * Failures use exit_code and code "bad_token".  MAY_LJMP (memory only)
 */
int az_jwt_push_claims(lua_State *L, const char *jwt, size_t len,
                       const char *what, int exit_code, az_error *err);

/* ---- xms_mirid ----------------------------------------------------------- */

#define AZ_MIRID_FIELD 256

typedef struct az_mirid {
    int acceptable;           /* 1 when Conjur's parser accepts the shape */
    const char *conjur_error; /* "CONJ00053E" / "CONJ00054E" when not */
    char reason[256];         /* why not, for people */
    char subscription[AZ_MIRID_FIELD];
    char resource_group[AZ_MIRID_FIELD];
    char provider_namespace[AZ_MIRID_FIELD]; /* "Microsoft.Compute" */
    char provider_type[AZ_MIRID_FIELD];      /* "virtualMachines" */
    char name[AZ_MIRID_FIELD];               /* last provider element */
    int provider_count;                      /* elements after "providers" */
    int user_assigned; /* the provider run holds Microsoft.ManagedIdentity */
} az_mirid;

/*
 * Parse an xms_mirid with Conjur's rules (conjur.md §3.2): split on '/',
 * one leading empty element dropped; runs start at any element that
 * contains "subscriptions", "resourcegroups" or "providers"
 * (case-sensitive, unanchored) and are keyed by that element, the last
 * run of a key winning; all three keys must exist (else CONJ00053E) and
 * the providers run must hold exactly three elements (else CONJ00054E).
 * Fields are filled as far as the text allows, even when Conjur would
 * refuse it.  Returns 0 when acceptable, -1 otherwise (out->reason says
 * why).
 */
int az_mirid_parse(const char *mirid, az_mirid *out);

#endif
