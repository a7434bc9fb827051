/*
 * authn.c - the Conjur access token: obtaining it, caching it, refreshing it.
 *
 * Three ways in (DESIGN §2): authn-azure (the platform token from the
 * identity layer, POSTed as jwt=...), authn with an API key, or a token
 * file some other process keeps fresh.  We ask authenticate for the token
 * JSON, not for base64 (conjur.md §1.3), and encode it ourselves.
 *
 * Cache rule: a token is used until 80 % of its life (exp - iat) has
 * passed, measured on the monotonic clock from when it arrived, so a
 * skewed wall clock on either side does no harm.  A token file is read
 * again whenever its identity, size or modification time changes.
 *
 * Every form of a token (raw JSON, base64, signature) and every platform
 * token is registered with the logger's mask the moment it arrives.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <lauxlib.h>

#include "base64.h"
#include "conjur.h"
#include "log.h"
#include "runtime.h"

#define MAX_TOKEN_FILE (64 * 1024)
#define FILE_POLL_MS   100

void az_token_free(az_token *t)
{
    az_buf_free(&t->json);
    az_buf_free(&t->b64);
    t->have = 0;
    t->iat = t->exp = t->refresh_at = 0;
}

void az_authn_forget(az_conjur *c)
{
    az_token_free(&c->token);
    c->file_mtime_ns = -1; /* makes the token file count as changed */
}

/* ---- parsing ------------------------------------------------------------- */

/* An integer claim of the payload table on top, or -1.  */
static int64_t int_claim(lua_State *L, const char *name)
{
    int isnum = 0;
    lua_getfield(L, -1, name);
    lua_Number n = lua_tonumberx(L, -1, &isnum);
    lua_pop(L, 1);
    if (!isnum || n < 0 || n > 1e12)
        return -1;
    return (int64_t)n;
}

/*
 * Decode the payload part (URL-safe base64 of JSON) and read iat and exp
 * into t.  The token table is on top.  MAY_LJMP
 */
static int read_claims(lua_State *L, az_token *t, const char *what,
                       az_error *err)
{
    const char *payload;
    size_t n, bad;

    if (az_json_get_string(L, -1, "payload", &payload, &n) < 0)
        return az_fail(err, AZ_EXIT_CONJUR, "network", 0,
                       "the access token from %s has no payload", what);

    unsigned char *raw = lua_newuserdatauv(L, n / 4 * 3 + 3, 0); /* tok box */
    long len = az_b64_decode(payload, n, raw, &bad);
    if (len < 0 ||
        az_json_decode(L, raw, (size_t)len, what, AZ_EXIT_CONJUR, err) < 0) {
        lua_pop(L, 1);
        return az_fail(err, AZ_EXIT_CONJUR, "network", 0,
                       "the access token from %s has a payload that is not "
                       "base64 JSON",
                       what);
    }
    if (!lua_istable(L, -1)) { /* tok box claims */
        lua_pop(L, 2);
        return az_fail(err, AZ_EXIT_CONJUR, "network", 0,
                       "the access token from %s has a payload that is not "
                       "a JSON object",
                       what);
    }

    int64_t now = (int64_t)time(NULL);
    t->iat = int_claim(L, "iat");
    t->exp = int_claim(L, "exp");
    lua_pop(L, 2); /* tok */
    if (t->iat < 0)
        t->iat = now;
    if (t->exp < 0)
        t->exp = t->iat + AZ_TOKEN_DEFAULT_TTL;
    return 0;
}

/* Mask the token in every form a log line could show it. */
static void mask_token(lua_State *L, az_token *t)
{
    const char *sig;
    size_t n;

    az_mask_add(t->json.data, t->json.len);
    az_mask_add(t->b64.data, t->b64.len);
    if (az_json_get_string(L, -1, "signature", &sig, &n) == 0)
        az_mask_add(sig, n);
}

/* Keep JSON text (not base64) as the token.  MAY_LJMP */
static int adopt_json(lua_State *L, az_token *t, const void *json, size_t len,
                      const char *what, az_error *err)
{
    const char *part;
    size_t plen;

    if (az_json_decode(L, json, len, what, AZ_EXIT_CONJUR, err) < 0)
        return -1; /* tok */
    if (!lua_istable(L, -1) ||
        az_json_get_string(L, -1, "protected", &part, &plen) < 0 ||
        az_json_get_string(L, -1, "signature", &part, &plen) < 0) {
        lua_pop(L, 1);
        return az_fail(err, AZ_EXIT_CONJUR, "network", 0,
                       "%s did not give an access token (expected protected, "
                       "payload and signature)",
                       what);
    }
    if (read_claims(L, t, what, err) < 0) {
        lua_pop(L, 1);
        return -1;
    }

    az_buf_reset(&t->json);
    az_buf_reset(&t->b64);
    if (az_buf_append(&t->json, json, len) < 0 ||
        az_buf_reserve(&t->b64, az_b64_encoded_len(len) + 1) < 0) {
        lua_pop(L, 1);
        return az_fail(err, AZ_EXIT_RUNTIME, "memory", 0, "out of memory");
    }
    az_b64_encode(t->json.data, len, (char *)t->b64.data);
    t->b64.len = az_b64_encoded_len(len);
    az_buf_terminate(&t->b64);
    mask_token(L, t);
    lua_pop(L, 1); /* - */

    int64_t life_ms = (t->exp - t->iat) * 1000;
    if (life_ms < 0)
        life_ms = 0;
    t->refresh_at = az_monotonic_ms() + life_ms * 8 / 10;
    t->have = 1;
    return 0;
}

static int is_space(unsigned char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f' ||
           ch == '\v';
}

int az_token_parse(lua_State *L, az_token *t, const void *text, size_t len,
                   const char *what, az_error *err)
{
    const char *s = text;
    size_t bad;

    while (len && is_space((unsigned char)*s))
        s++, len--;
    while (len && is_space((unsigned char)s[len - 1]))
        len--;
    if (len == 0)
        return az_fail(err, AZ_EXIT_AUTHN, "unauthenticated", 0, "%s is empty",
                       what);
    if (s[0] == '{')
        return adopt_json(L, t, s, len, what, err);

    /* base64 of the JSON, as `Accept-Encoding: base64` would give it */
    unsigned char *raw = lua_newuserdatauv(L, len / 4 * 3 + 3, 0); /* box */
    long n = az_b64_decode(s, len, raw, &bad);
    if (n <= 0 || raw[0] != '{') {
        lua_pop(L, 1);
        return az_fail(err, AZ_EXIT_AUTHN, "unauthenticated", 0,
                       "%s holds neither an access token's JSON nor its "
                       "base64",
                       what);
    }
    int rc = adopt_json(L, t, raw, (size_t)n, what, err);
    lua_pop(L, 1); /* - */
    return rc;
}

/* ---- authn-azure --------------------------------------------------------- */

static int enc_segment(az_conjur *c, const char *s, az_error *err)
{
    if (az_url_encode(&c->authn_url, s, strlen(s)) < 0 ||
        az_buf_append_str(&c->authn_url, "/") < 0)
        return az_fail(err, AZ_EXIT_RUNTIME, "memory", 0, "out of memory");
    return 0;
}

/* <base>/<authenticator>/[<svc>/]<account>/<login>/authenticate */
static int authn_url(az_conjur *c, const char *authenticator, az_error *err)
{
    const az_config *cfg = &c->cfg;

    az_buf_reset(&c->authn_url);
    if (az_buf_append_str(&c->authn_url, cfg->value[AZ_CFG_URL]) < 0 ||
        az_buf_append_str(&c->authn_url, authenticator) < 0)
        return az_fail(err, AZ_EXIT_RUNTIME, "memory", 0, "out of memory");
    if (cfg->authn == AZ_AUTHN_AZURE &&
        enc_segment(c, cfg->value[AZ_CFG_SERVICE_ID], err) < 0)
        return -1;
    if (enc_segment(c, cfg->value[AZ_CFG_ACCOUNT], err) < 0 ||
        enc_segment(c, cfg->login, err) < 0)
        return -1;
    if (az_buf_append_str(&c->authn_url, "authenticate") < 0 ||
        az_buf_terminate(&c->authn_url) < 0)
        return az_fail(err, AZ_EXIT_RUNTIME, "memory", 0, "out of memory");
    return 0;
}

/*
 * A JWT travels unencoded in the form body (as Conjur's clients send it),
 * so it may hold only the characters of compact JWS; anything else could
 * add form fields.
 */
static int jwt_shaped(const char *jwt)
{
    size_t n =
        strspn(jwt, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                    "0123456789-_.=");
    return n > 0 && jwt[n] == '\0';
}

/* The platform token: the JWT given as an option, or the identity layer. */
static int platform_token(lua_State *L, az_conjur *c, int force,
                          const char **jwt, az_error *err)
{
    const az_platform_token *pt;

    if (c->cfg.value[AZ_CFG_JWT]) {
        *jwt = c->cfg.value[AZ_CFG_JWT];
        if (!jwt_shaped(*jwt))
            return az_fail(err, AZ_EXIT_CONFIG, "config", 0,
                           "option 'identity' is not a JWT");
        return 0;
    }
    c->idreq.force_refresh = force;
    int rc = az_identity_get(L, &c->idreq, &pt, err);
    c->idreq.force_refresh = 0;
    if (rc < 0)
        return -1;
    az_mask_add(pt->jwt, pt->jwt_len);
    az_debug("platform token from %s (%s)", pt->source, pt->endpoint);
    *jwt = pt->jwt;
    if (!jwt_shaped(*jwt))
        return az_fail(err, AZ_EXIT_IDENTITY, "identity", 0,
                       "the platform token from %s is not a JWT", pt->endpoint);
    return 0;
}

static int says_token_expired(const az_conjur *c)
{
    const az_buf *b = &c->resp.body;
    return c->resp.status == 401 && b->data && b->len < 4096 &&
           memmem(b->data, b->len, "CONJ00016E", 10) != NULL;
}

/* POST the platform token; one fresh token if Conjur says it expired. */
static int login_azure(lua_State *L, az_conjur *c, az_error *err)
{
    static const char *const headers[] = {
        "Content-Type: application/x-www-form-urlencoded",
        "Accept: application/json", NULL};
    const char *jwt;

    for (int fresh = 0;; fresh++) {
        if (platform_token(L, c, fresh, &jwt, err) < 0 ||
            authn_url(c, "/authn-azure/", err) < 0)
            return -1;
        az_buf_reset(&c->body);
        if (az_buf_append_str(&c->body, "jwt=") < 0 ||
            az_buf_append_str(&c->body, jwt) < 0)
            return az_fail(err, AZ_EXIT_RUNTIME, "memory", 0, "out of memory");

        int rc = az_conjur_send(c, "POST", (const char *)c->authn_url.data,
                                headers, c->body.data, c->body.len,
                                "Conjur's authn-azure authenticate", err);
        az_buf_reset(&c->body);
        if (rc < 0)
            return -1;
        if (fresh || c->cfg.value[AZ_CFG_JWT] || !says_token_expired(c))
            return 0;
        az_info("Conjur says the platform token expired (CONJ00016E); "
                "getting a fresh one once");
    }
}

static int login_api_key(az_conjur *c, az_error *err)
{
    static const char *const headers[] = {"Content-Type: text/plain",
                                          "Accept: application/json", NULL};
    const char *key = c->cfg.value[AZ_CFG_API_KEY];

    if (authn_url(c, "/authn/", err) < 0)
        return -1;
    return az_conjur_send(c, "POST", (const char *)c->authn_url.data, headers,
                          key, strlen(key), "Conjur's authn authenticate", err);
}

/*
 * A token that does not parse is a malformed Conjur answer (exit 7) when it
 * came from authenticate, and an unusable token (exit 5) when it came from
 * CONJUR_AUTHN_TOKEN_FILE, whatever step of the parse found it.
 */
static void set_parse_failure(az_error *err, int exit_code, const char *code)
{
    if (err->exit_code == AZ_EXIT_RUNTIME)
        return; /* out of memory stays what it is */
    err->exit_code = exit_code;
    err->code = code;
}

/* Authenticate and keep the new token.  MAY_LJMP */
static int login(lua_State *L, az_conjur *c, az_error *err)
{
    int azure = c->cfg.authn == AZ_AUTHN_AZURE;
    int rc = azure ? login_azure(L, c, err) : login_api_key(c, err);
    if (rc < 0)
        return -1;

    if (c->resp.status != 200) {
        char doing[300];
        snprintf(doing, sizeof doing, "authenticating as '%s' with %s%s",
                 c->cfg.login, azure ? "authn-azure/" : "authn",
                 azure ? c->cfg.value[AZ_CFG_SERVICE_ID] : "");
        rc = az_conjur_status_error(L, c, doing, 1, err);
        az_conjur_drop_response(c);
        return rc;
    }
    rc = az_token_parse(L, &c->token, c->resp.body.data, c->resp.body.len,
                        "Conjur's authenticate", err);
    az_conjur_drop_response(c);
    if (rc < 0) {
        /* Conjur said yes (200) but sent no token: a malformed answer */
        set_parse_failure(err, AZ_EXIT_CONJUR, "bad_response");
        return -1;
    }
    az_info("authenticated to Conjur as '%s'", c->cfg.login);
    return 0;
}

/* ---- token file ---------------------------------------------------------- */

/*
 * Wait (bounded by the HTTP timeout) for the file to appear, as a sidecar
 * may not have written it yet.  0 when it exists, -1 otherwise.
 */
static int stat_token_file(az_conjur *c, struct stat *st, az_error *err)
{
    const char *path = c->cfg.value[AZ_CFG_TOKEN_FILE];
    int64_t deadline = az_monotonic_ms() + c->cfg.timeout_s * 1000;

    while (stat(path, st) != 0) {
        if (errno != ENOENT || az_monotonic_ms() >= deadline)
            return az_fail(err, AZ_EXIT_AUTHN, "unauthenticated", 0,
                           "cannot read the token file %s "
                           "(CONJUR_AUTHN_TOKEN_FILE): %s",
                           path, strerror(errno));
        az_sleep_ms(FILE_POLL_MS);
    }
    return 0;
}

static int file_changed(const az_conjur *c, const struct stat *st)
{
    int64_t mtime =
        (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
    return !c->token.have || st->st_dev != c->file_dev ||
           st->st_ino != c->file_ino || st->st_size != c->file_size ||
           mtime != c->file_mtime_ns;
}

/* Read the token file when it changed since the last read.  MAY_LJMP */
static int read_token_file(lua_State *L, az_conjur *c, az_error *err)
{
    const char *path = c->cfg.value[AZ_CFG_TOKEN_FILE];
    struct stat st;

    if (stat_token_file(c, &st, err) < 0)
        return -1;
    if (!file_changed(c, &st))
        return 0;

    char *box = lua_newuserdatauv(L, MAX_TOKEN_FILE + 1, 0); /* box */
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    size_t n = 0;
    ssize_t got = -1;
    if (fd >= 0) {
        while ((got = read(fd, box + n, MAX_TOKEN_FILE + 1 - n)) > 0)
            n += (size_t)got;
        close(fd);
    }
    if (fd < 0 || got < 0 || n > MAX_TOKEN_FILE) {
        lua_pop(L, 1);
        return az_fail(err, AZ_EXIT_AUTHN, "unauthenticated", 0,
                       "cannot read the token file %s: %s", path,
                       n > MAX_TOKEN_FILE ? "larger than 64 KiB"
                                          : strerror(errno));
    }

    char what[4200];
    snprintf(what, sizeof what, "the token file %s", path);
    int rc = az_token_parse(L, &c->token, box, n, what, err);
    lua_pop(L, 1); /* - */
    if (rc < 0) {
        set_parse_failure(err, AZ_EXIT_AUTHN, "unauthenticated");
        return -1;
    }
    c->file_dev = st.st_dev;
    c->file_ino = st.st_ino;
    c->file_size = st.st_size;
    c->file_mtime_ns =
        (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
    az_debug("read an access token from %s", path);
    return 0;
}

/* ---- entry point --------------------------------------------------------- */

int az_authn_ensure(lua_State *L, az_conjur *c, az_error *err)
{
    if (c->cfg.authn == AZ_AUTHN_TOKEN_FILE)
        return read_token_file(L, c, err);

    if (c->token.have && az_monotonic_ms() < c->token.refresh_at)
        return 0;
    if (c->token.have)
        az_debug("access token is at 80%% of its life; authenticating again");
    az_token_free(&c->token);
    return login(L, c, err);
}
