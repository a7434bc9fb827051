/*
 * conjur.c - the client object, its requests, retries and the mapping of
 * Conjur's answers to our errors and exit codes.
 *
 * Retry rules (DESIGN §5): a 5xx, a refused connection or a connection
 * that drops mid-answer is tried again, AZ_CONJUR_ATTEMPTS times in all,
 * with jittered exponential back-off.  TLS failures, timeouts and
 * oversized answers are not retried: another try would fail the same way
 * (or wait as long again).  A 401 on a data call gets one new token and
 * one more try.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <lauxlib.h>

#include "conjur.h"
#include "log.h"
#include "runtime.h"

#define MAX_DATA_BODY  (16u << 20) /* the largest answer we accept */
#define RETRY_BASE_MS  500
#define RETRY_CAP_MS   4000
#define MAX_CONJUR_MSG 200

/* ---- life cycle ---------------------------------------------------------- */

az_conjur *az_conjur_push(lua_State *L)
{
    az_conjur *c = lua_newuserdatauv(L, sizeof *c, 0); /* c */
    memset(c, 0, sizeof *c);
    az_config_init(&c->cfg);
    luaL_setmetatable(L, AZ_CONJUR_TYPE);
    return c;
}

void az_conjur_drop_response(az_conjur *c)
{
    if (c->resp_live)
        az_http_response_free(&c->resp);
    c->resp_live = 0;
}

void az_conjur_close(az_conjur *c)
{
    az_conjur_drop_response(c);
    az_http_free(c->http);
    c->http = NULL;
    az_token_free(&c->token);
    az_buf_free(&c->url);
    az_buf_free(&c->authn_url);
    az_buf_free(&c->body);
    az_buf_free(&c->authz);
    az_config_free(&c->cfg);
    c->open = 0;
}

static int selector_from_config(az_conjur *c)
{
    const az_config *cfg = &c->cfg;

    if (cfg->value[AZ_CFG_CLIENT_ID]) {
        c->idreq.selector = AZ_SELECT_CLIENT_ID;
        c->idreq.selector_value = cfg->value[AZ_CFG_CLIENT_ID];
    } else if (cfg->value[AZ_CFG_OBJECT_ID]) {
        c->idreq.selector = AZ_SELECT_OBJECT_ID;
        c->idreq.selector_value = cfg->value[AZ_CFG_OBJECT_ID];
    } else if (cfg->value[AZ_CFG_RESOURCE_ID]) {
        c->idreq.selector = AZ_SELECT_RESOURCE_ID;
        c->idreq.selector_value = cfg->value[AZ_CFG_RESOURCE_ID];
    }
    return 0;
}

int az_conjur_open(lua_State *L, az_conjur *c, az_error *err)
{
    if (az_config_load(L, &c->cfg, err) < 0)
        return -1;

    const az_config *cfg = &c->cfg;
    az_http_options o = {
        .plain_http_ok = strncasecmp(cfg->value[AZ_CFG_URL], "http://", 7) == 0,
        .no_proxy = 0,
        .ca_file = cfg->value[AZ_CFG_CERT_FILE],
        .ca_pem = cfg->value[AZ_CFG_SSL_CERTIFICATE],
        .timeout_ms = cfg->timeout_s * 1000,
        .max_body = MAX_DATA_BODY,
        .exit_code = AZ_EXIT_CONJUR,
    };
    c->http = az_http_new(&o, err);
    if (!c->http)
        return -1;

    memset(&c->idreq, 0, sizeof c->idreq);
    c->idreq.resource = cfg->value[AZ_CFG_RESOURCE];
    selector_from_config(c);
    if (cfg->authn == AZ_AUTHN_AZURE && !cfg->value[AZ_CFG_JWT] &&
        az_identity_request_from_env(&c->idreq, err) < 0)
        return -1;

    c->open = 1;
    az_debug("conjur client for %s, account '%s', login '%s'",
             cfg->value[AZ_CFG_URL], cfg->value[AZ_CFG_ACCOUNT],
             cfg->login ? cfg->login : "(token file)");
    return 0;
}

az_conjur *az_conjur_check(lua_State *L, int idx)
{
    az_conjur *c = luaL_checkudata(L, idx, AZ_CONJUR_TYPE);
    if (!c->open)
        luaL_argerror(L, idx, "conjur client is closed");
    return c;
}

/* ---- URLs ---------------------------------------------------------------- */

int az_conjur_url(az_conjur *c, const char *path)
{
    az_buf_reset(&c->url);
    if (az_buf_append_str(&c->url, c->cfg.value[AZ_CFG_URL]) < 0 ||
        az_buf_append_str(&c->url, path) < 0 || az_buf_terminate(&c->url) < 0)
        return -1;
    return 0;
}

int az_conjur_url_segment(az_conjur *c, const char *s, size_t len)
{
    if (az_url_encode(&c->url, s, len) < 0 || az_buf_terminate(&c->url) < 0)
        return -1;
    return 0;
}

/* ---- sending ------------------------------------------------------------- */

static int retryable_failure(enum az_http_failure f)
{
    return f == AZ_HTTP_CONNECT || f == AZ_HTTP_TRUNCATED;
}

int az_conjur_send(az_conjur *c, const char *method, const char *url,
                   const char *const *headers, const void *body, size_t len,
                   const char *what, az_error *err)
{
    az_http_request req = {
        .method = method,
        .url = url,
        .headers = headers,
        .body = body,
        .body_len = len,
        .what = what,
    };

    c->method = method;
    c->last_url = url;
    for (int attempt = 1;; attempt++) {
        az_conjur_drop_response(c);
        int rc = az_http_perform(c->http, &req, &c->resp, err);
        c->resp_live = 1;

        int again =
            rc < 0 ? retryable_failure(c->resp.failure) : c->resp.status >= 500;
        if (!again || attempt >= AZ_CONJUR_ATTEMPTS)
            return rc;

        long delay = az_backoff_ms(attempt, RETRY_BASE_MS, RETRY_CAP_MS);
        if (rc < 0)
            az_warn("%s; trying again in %ld ms", err->message, delay);
        else
            az_warn("%s answered %ld; trying again in %ld ms", what,
                    c->resp.status, delay);
        az_sleep_ms(delay);
    }
}

/* "Authorization: Token token="<base64>"" in c->authz. */
static int build_authz(az_conjur *c, const az_token *t, az_error *err)
{
    az_buf_reset(&c->authz);
    if (az_buf_append_str(&c->authz, "Authorization: Token token=\"") < 0 ||
        az_buf_append(&c->authz, t->b64.data, t->b64.len) < 0 ||
        az_buf_append_str(&c->authz, "\"") < 0 ||
        az_buf_terminate(&c->authz) < 0)
        return az_fail(err, AZ_EXIT_RUNTIME, "memory", 0, "out of memory");
    return 0;
}

int az_conjur_data_call(lua_State *L, az_conjur *c, const char *const *headers,
                        const char *what, az_error *err)
{
    const char *all[8];

    for (int tries = 0;; tries++) {
        const az_token *t;
        if (az_conjur_token(L, c, &t, err) < 0 || build_authz(c, t, err) < 0)
            return -1;

        int n = 0;
        all[n++] = (const char *)c->authz.data;
        for (const char *const *h = headers; h && *h && n < 7; h++)
            all[n++] = *h;
        all[n] = NULL;

        int rc = az_conjur_send(c, "GET", (const char *)c->url.data, all, NULL,
                                0, what, err);
        az_buf_reset(&c->authz);
        if (rc < 0 || c->resp.status != 401 || tries > 0)
            return rc;

        az_info("%s answered 401; authenticating again once", what);
        az_authn_forget(c);
    }
}

/* ---- status mapping ------------------------------------------------------ */

/*
 * Copy printable ASCII of s (at most cap-1 bytes), collapsing the rest.
 * Registered values are masked before the cut, so none shows in part.
 */
static void clean_copy(char *out, size_t cap, const char *s, size_t len)
{
    size_t o = az_mask_apply(s, len, out, cap);

    for (size_t i = 0; i < o; i++) {
        unsigned char ch = (unsigned char)out[i];
        if (ch < 0x20 || ch >= 0x7f)
            out[i] = ' ';
    }
    while (o > 0 && (out[o - 1] == ' ' || out[o - 1] == '.'))
        o--;
    out[o] = '\0';
}

/*
 * The Conjur explanation in an error body: error.message of a JSON body
 * (which starts with the CONJ code when there is one), or a short text
 * body such as "Unauthorized: Invalid token".  MAY_LJMP
 */
static void conjur_message(lua_State *L, const az_http_response *r, char *out,
                           size_t cap)
{
    const char *body = (const char *)r->body.data;
    size_t len = r->body.len;
    az_error ignored;
    const char *msg;
    size_t n;

    out[0] = '\0';
    if (!body || len == 0 || len > 4096)
        return;

    if (body[0] == '{') {
        int top = lua_gettop(L);
        if (az_json_decode(L, body, len, "error", 0, &ignored) == 0 &&
            lua_istable(L, -1) &&
            lua_getfield(L, -1, "error") == LUA_TTABLE && /* doc error */
            az_json_get_string(L, -1, "message", &msg, &n) == 0)
            clean_copy(out, cap, msg, n);
        lua_settop(L, top);
        return;
    }
    if (strncasecmp(r->content_type, "text/plain", 10) == 0 && len < cap)
        clean_copy(out, cap, body, len);
}

/* "GET /secrets/..." from c->url, shortened when long. */
static void request_path(const az_conjur *c, char *out, size_t cap)
{
    const char *url = c->last_url ? c->last_url : "";
    const char *p = strstr(url, "://");
    p = p ? strchr(p + 3, '/') : NULL;
    if (!p)
        p = "/";
    int n = (int)strlen(p);
    if (n > 160)
        snprintf(out, cap, "%s %.150s...", c->method, p);
    else
        snprintf(out, cap, "%s %s", c->method, p);
}

static const char *status_hint(long status, int at_authn, az_authn_kind k)
{
    if (at_authn && status == 401 && k == AZ_AUTHN_AZURE)
        return "; Conjur logs the reason: check the host id, its "
               "authn-azure annotations, that it may authenticate with the "
               "webservice, and that the authenticator is enabled";
    if (at_authn && status == 401)
        return "; check CONJUR_AUTHN_LOGIN and CONJUR_AUTHN_API_KEY";
    if (at_authn && status == 403)
        return "; the host is not permitted to authenticate with this "
               "authenticator: grant it into the authenticator's apps group";
    if (at_authn && status == 404)
        return "; check CONJUR_APPLIANCE_URL, CONJUR_ACCOUNT and "
               "CONJUR_SERVICE_ID";
    if (!at_authn && status == 401)
        return "; the access token was refused even after authenticating "
               "again";
    if (status == 403)
        return "; the host needs 'execute' on the variable";
    if (status == 404)
        return "; check the id, that the variable has a value, and that the "
               "host may see it (Conjur answers 404 in all three cases)";
    return "";
}

int az_conjur_status_error(lua_State *L, az_conjur *c, const char *doing,
                           int at_authn, az_error *err)
{
    long status = c->resp.status;
    char msg[MAX_CONJUR_MSG + 1], path[200], retried[32] = "";
    int exit_code = AZ_EXIT_CONJUR;
    const char *code = "network";

    conjur_message(L, &c->resp, msg, sizeof msg);
    request_path(c, path, sizeof path);
    if (status == 401 || (at_authn && (status == 403 || status == 404))) {
        exit_code = AZ_EXIT_AUTHN;
        code = status == 403 ? "forbidden" : "unauthenticated";
    } else if (status == 403 || status == 404) {
        exit_code = AZ_EXIT_SECRET;
        code = status == 403 ? "forbidden" : "not_found";
    } else if (status >= 500) {
        snprintf(retried, sizeof retried, " after %d attempts",
                 AZ_CONJUR_ATTEMPTS);
    }

    return az_fail(err, exit_code, code, status, "%s (%s): status %ld%s%s%s%s",
                   doing, path, status, retried, msg[0] ? ": " : "", msg,
                   status_hint(status, at_authn, c->cfg.authn));
}

/* ---- token and whoami ---------------------------------------------------- */

int az_conjur_token(lua_State *L, az_conjur *c, const az_token **tok,
                    az_error *err)
{
    if (az_authn_ensure(L, c, err) < 0)
        return -1;
    *tok = &c->token;
    return 0;
}

int az_conjur_whoami(lua_State *L, az_conjur *c, az_error *err)
{
    if (az_conjur_url(c, "/whoami") < 0)
        return az_fail(err, AZ_EXIT_RUNTIME, "memory", 0, "out of memory");
    static const char *const accept[] = {"Accept: application/json", NULL};
    if (az_conjur_data_call(L, c, accept, "Conjur's /whoami", err) < 0)
        return -1;
    if (c->resp.status != 200) {
        int rc = az_conjur_status_error(L, c, "asking who we are", 0, err);
        az_conjur_drop_response(c);
        return rc;
    }

    int rc = az_json_decode(L, c->resp.body.data, c->resp.body.len,
                            "Conjur's /whoami", AZ_EXIT_CONJUR, err);
    az_conjur_drop_response(c);
    if (rc == 0 && !lua_istable(L, -1)) {
        lua_pop(L, 1);
        return az_fail(err, AZ_EXIT_CONJUR, "network", 200,
                       "Conjur's /whoami answered something other than a "
                       "JSON object");
    }
    return rc;
}
