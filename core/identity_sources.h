/*
 * identity_sources.h - what differs between the platform token endpoints:
 * how the environment names them, how a request is spelled, how answers
 * and errors read, and Arc's key-file challenge.  The shared policy
 * (selection order, retries, deadline, cache) lives in identity.c.
 *
 * Internal to the identity step; other steps use identity.h.
 */
#ifndef AZ_IDENTITY_SOURCES_H
#define AZ_IDENTITY_SOURCES_H

#include <stdint.h>

#include <lua.h>

#include "buf.h"
#include "error.h"
#include "http.h"
#include "identity.h"

#define AZ_ENDPOINT_MAX      2048
#define AZ_IDENTITY_BODY_MAX (64 * 1024)
#define AZ_ARC_KEY_MAX       4096
#define AZ_ARC_TOKEN_DIR     "/var/opt/azcmagent/tokens"
#define AZ_IMDS_DEFAULT_HOST "http://169.254.169.254"
#define AZ_TOKEN_PATH        "/metadata/identity/oauth2/token"

enum az_source_kind {
    AZ_SOURCE_STATIC,
    AZ_SOURCE_APP_SERVICE,
    AZ_SOURCE_ARC,
    AZ_SOURCE_APP_SERVICE_2017,
    AZ_SOURCE_IMDS,
};

typedef struct az_source {
    enum az_source_kind kind;
    const char *name;               /* "imds", "app_service", ... */
    const char *what;               /* "the IMDS token endpoint" */
    const char *endpoint_var;       /* variable the endpoint came from */
    char endpoint[AZ_ENDPOINT_MAX]; /* token URL without our query */
    const char *secret;             /* IDENTITY_HEADER or MSI_SECRET */
} az_source;

/* A token answer, read. */
typedef struct az_token_answer {
    az_buf jwt; /* NUL-terminated; wiped when freed */
    int64_t expires_on;
    char client_id[128]; /* the identity the platform used, if it said */
} az_token_answer;

/* A platform error answer, read as far as it goes. */
typedef struct az_error_answer {
    char code[128];    /* "invalid_request", "UnsupportedApiVersion" */
    char message[512]; /* description, control characters removed */
    char correlation[64];
} az_error_answer;

/*
 * Pick the source from the environment (DESIGN §2); no I/O.  Secrets read
 * from the environment are registered with the mask.  A malformed
 * endpoint variable is a configuration error (exit 3).
 */
int az_source_detect(az_source *src, az_error *err);

/*
 * The token URL for req: endpoint, api-version, resource and the
 * selector spelled as this endpoint expects it.  A selector the endpoint
 * cannot take is a configuration error (exit 3).
 */
int az_source_url(const az_source *src, const az_identity_request *req,
                  az_buf *url, az_error *err);

/*
 * Header lines for one request into lines[] (NULL-terminated, at most 3
 * plus NULL), their text in storage (wiped by the caller); arc_key is the
 * Arc key for the second leg of the challenge, or NULL.
 */
int az_source_headers(const az_source *src, const char *arc_key,
                      az_buf *storage, const char *lines[4], az_error *err);

/*
 * Read a 2xx body.  Runs the JSON decoder in protected mode, so it never
 * raises.  On failure out->jwt may hold bytes: free it with
 * az_token_answer_free() either way.
 */
int az_source_parse_token(lua_State *L, const az_source *src, const char *body,
                          size_t len, int64_t now, az_token_answer *out,
                          az_error *err);
void az_token_answer_free(az_token_answer *a);

/* Read an error body of any of the platforms' shapes; never fails. */
void az_source_parse_error(lua_State *L, const char *body, size_t len,
                           az_error_answer *out);

/*
 * Arc's challenge: validate the key-file path named by a WWW-Authenticate
 * value ("Basic realm=<path>") and read the key into key (masked).
 */
int az_arc_read_key(const char *www_authenticate, az_buf *key, az_error *err);

#endif
