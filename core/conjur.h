/*
 * conjur.h - the Conjur client: one configuration, one keep-alive HTTP
 * connection, one access token, and the reads built on them.
 *
 * The client lives in a Lua full userdata (AZ_CONJUR_TYPE) whose __gc
 * releases everything it owns, so C code may hold the client's buffers
 * across calls that can raise.  Every buffer that carries a token or a
 * value is wiped when reset or freed.  The built-in commands and the
 * `conjur` Lua module call the same functions declared here.
 *
 * Steps, in order: config.c (settings) -> identity (platform token) ->
 * authn.c (access token) -> conjur.c (requests, retries, status mapping)
 * -> secrets_read.c (single and batch reads).
 */
#ifndef AZ_CONJUR_H
#define AZ_CONJUR_H

#include <stdint.h>
#include <sys/types.h>

#include <lua.h>

#include "buf.h"
#include "config.h"
#include "error.h"
#include "http.h"
#include "identity.h"

#define AZ_CONJUR_TYPE "azconjur.conjur"

/* Batches are split so that a request URL stays under this many bytes. */
#define AZ_BATCH_URL_MAX (6 * 1024)

/* Attempts for a request that meets a 5xx or a dropped connection. */
#define AZ_CONJUR_ATTEMPTS 3

/* Default ttl Conjur assumes when a token carries no exp. */
#define AZ_TOKEN_DEFAULT_TTL 480

typedef struct az_token {
    int have;
    az_buf json;        /* the token JSON as Conjur issued it */
    az_buf b64;         /* standard base64 of json, NUL-terminated */
    int64_t iat, exp;   /* epoch seconds from the payload */
    int64_t refresh_at; /* monotonic ms after which a new one is fetched */
} az_token;

typedef struct az_conjur {
    int open;
    az_config cfg;
    az_http *http;
    az_token token;
    az_identity_request idreq;

    /* what the token file looked like when it was last read */
    dev_t file_dev;
    ino_t file_ino;
    off_t file_size;
    int64_t file_mtime_ns;

    /* scratch owned by the client so nothing leaks if Lua raises */
    az_buf url;       /* data calls */
    az_buf authn_url; /* authenticate (built while a data call waits) */
    az_buf body;
    az_buf authz;
    az_http_response resp;
    int resp_live;
    const char *method; /* of the last request, for messages */
    const char *last_url;
} az_conjur;

/*
 * Push a new, closed client with an empty configuration.  Fill c->cfg
 * with az_config_set() if the caller has options, then az_conjur_open().
 * MAY_LJMP
 */
az_conjur *az_conjur_push(lua_State *L);

/* Load the rest of the configuration and create the HTTP handle. */
int az_conjur_open(lua_State *L, az_conjur *c, az_error *err);

/* Release everything; safe to call twice. */
void az_conjur_close(az_conjur *c);

/* The open client at idx; raises for anything else.  MAY_LJMP */
az_conjur *az_conjur_check(lua_State *L, int idx);

/* Create the metatables; called by the `conjur` module's opener. */
void az_conjur_open_types(lua_State *L);

/*
 * A valid access token: the cached one while it is fresh, else a new one
 * (authenticate, or the token file).  *tok points into the client.
 */
int az_conjur_token(lua_State *L, az_conjur *c, const az_token **tok,
                    az_error *err);

/*
 * Push one secret value (a secret userdata labelled with `id` as given);
 * version 0 means the latest.
 */
int az_conjur_read(lua_State *L, az_conjur *c, const char *id, long version,
                   az_error *err);

/*
 * Read every id of the array at `ids` and push a table {[id] = secret}.
 * Batches when version is 0; single reads otherwise.
 */
int az_conjur_read_many(lua_State *L, az_conjur *c, int ids, long version,
                        az_error *err);

/* Push the decoded answer of GET /whoami. */
int az_conjur_whoami(lua_State *L, az_conjur *c, az_error *err);

/* ---- shared by conjur.c, authn.c and secrets_read.c --------------------- */

/* Start c->url as base URL + path; returns 0 or -1 (memory). */
int az_conjur_url(az_conjur *c, const char *path);

/* Append one percent-encoded path segment or query value to c->url. */
int az_conjur_url_segment(az_conjur *c, const char *s, size_t len);

/*
 * Send one request to url with retries for 5xx and dropped
 * connections.  The answer is in c->resp (any status: the caller judges).
 */
int az_conjur_send(az_conjur *c, const char *method, const char *url,
                   const char *const *headers, const void *body, size_t len,
                   const char *what, az_error *err);

/*
 * A request that needs the access token: a 401 makes one new token and
 * one more try.  MAY_LJMP
 */
int az_conjur_data_call(lua_State *L, az_conjur *c, const char *const *headers,
                        const char *what, az_error *err);

/* Free c->resp (wiping its body). */
void az_conjur_drop_response(az_conjur *c);

/*
 * Fill err for a status the caller did not expect.  `doing` says what was
 * attempted ("reading variable 'x'"); the request is the last one sent.
 * `at_authn` selects the mapping of authenticate (401/403/404 -> 5) rather than
 * of data calls (401 -> 5, 403/404 -> 6).  The message names the request path,
 * the status and the Conjur error code and message from the body when it has
 * one.  MAY_LJMP
 */
int az_conjur_status_error(lua_State *L, az_conjur *c, const char *doing,
                           int at_authn, az_error *err);

/* authn.c */
int az_authn_ensure(lua_State *L, az_conjur *c, az_error *err);
void az_authn_forget(az_conjur *c);
void az_token_free(az_token *t);

/* Parse token JSON (or its base64) into t; exposed for unit tests. */
int az_token_parse(lua_State *L, az_token *t, const void *text, size_t len,
                   const char *what, az_error *err);

#endif
