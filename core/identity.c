/*
 * identity.c - step 1 of the flow: the platform token, whatever the host.
 *
 * This file owns the policy shared by every source: reading the request
 * from the environment, the static token, the retry loop with its one
 * overall deadline (DESIGN §5), the hints that turn platform messages
 * into advice, and the per-process cache.  What differs per platform is
 * in identity_sources.c.
 *
 * Retry schedule: 404, 408, 429, 5xx, timeouts, refused connections and
 * cut-short answers are retried with jittered back-off (1, 2, 4, 8, 16 s)
 * at most five times, or after Retry-After when the endpoint names it;
 * 410 is retried every 10 s until 70 s have passed since the first one,
 * outside that budget.  Every delay is scaled by AZCONJUR_RETRY_SCALE.
 * Each attempt gets 2 s to connect and at most 30 s in all, never more
 * than what is left of the deadline.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lauxlib.h>
#include <openssl/crypto.h>

#include "azure_time.h"
#include "http.h"
#include "identity.h"
#include "identity_sources.h"
#include "jwt.h"
#include "log.h"
#include "runtime.h"

#define ATTEMPT_TIMEOUT_MS 30000
#define CONNECT_TIMEOUT_MS 2000
#define MAX_RETRIES        5
#define BACKOFF_BASE_MS    1000
#define BACKOFF_CAP_MS     16000
#define RETRY_AFTER_CAP_S  60
#define GONE_INTERVAL_MS   10000
#define GONE_WINDOW_MS     70000
#define TWO_HOURS          7200
#define EARLY_REFRESH_S    300
#define CACHE_SLOTS        8
#define MAX_TIMEOUT_S      3600

/* ---- the request from the environment ----------------------------------- */

static const char *env_nonempty(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

static int selector_from_env(az_identity_request *req, az_error *err)
{
    static const struct {
        const char *var;
        az_selector_kind kind;
    } vars[] = {
        {"CONJUR_AUTHN_AZURE_CLIENT_ID",   AZ_SELECT_CLIENT_ID  },
        {"CONJUR_AUTHN_AZURE_OBJECT_ID",   AZ_SELECT_OBJECT_ID  },
        {"CONJUR_AUTHN_AZURE_RESOURCE_ID", AZ_SELECT_RESOURCE_ID},
    };
    const char *chosen = NULL;

    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *v = env_nonempty(vars[i].var);
        if (!v)
            continue;
        if (chosen)
            return az_fail(err, AZ_EXIT_CONFIG, "config", 0,
                           "%s and %s are both set; choose one user-assigned "
                           "identity selector",
                           chosen, vars[i].var);
        chosen = vars[i].var;
        req->selector = vars[i].kind;
        req->selector_value = v;
    }
    return 0;
}

static int timeout_from_env(long *out, az_error *err)
{
    const char *v = env_nonempty("AZCONJUR_IDENTITY_TIMEOUT");
    char *end;

    if (!v) {
        *out = AZ_DEFAULT_IDENTITY_TIMEOUT_S;
        return 0;
    }
    errno = 0;
    long s = strtol(v, &end, 10);
    if (errno || end == v || *end || s < 1 || s > MAX_TIMEOUT_S)
        return az_fail(err, AZ_EXIT_CONFIG, "config", 0,
                       "AZCONJUR_IDENTITY_TIMEOUT must be a whole number of "
                       "seconds from 1 to %d, not '%s'",
                       MAX_TIMEOUT_S, v);
    *out = s;
    return 0;
}

int az_identity_request_from_env(az_identity_request *req, az_error *err)
{
    if (!req->resource)
        req->resource = env_nonempty("CONJUR_AUTHN_AZURE_RESOURCE");
    if (!req->resource)
        req->resource = AZ_DEFAULT_RESOURCE;
    if (req->selector == AZ_SELECT_NONE && selector_from_env(req, err) < 0)
        return -1;
    if (req->timeout_s == 0 && timeout_from_env(&req->timeout_s, err) < 0)
        return -1;
    return 0;
}

const char *az_identity_source_name(void)
{
    az_source src;
    az_error err;

    if (az_source_detect(&src, &err) < 0)
        return "invalid";
    return src.name;
}

/* ---- the cache ----------------------------------------------------------- */

typedef struct cache_entry {
    int used;
    const char *source; /* static string */
    az_selector_kind selector;
    char *selector_value;
    char *resource;
    char *jwt; /* wiped when freed */
    size_t jwt_len;
    char endpoint[AZ_ENDPOINT_MAX];
    int64_t expires_on;
    int64_t refresh_at_ms; /* monotonic */
    int64_t stored_at_ms;
    az_platform_token tok;
} cache_entry;

static cache_entry cache[CACHE_SLOTS];

static void entry_free(cache_entry *e)
{
    if (e->jwt) {
        OPENSSL_cleanse(e->jwt, e->jwt_len);
        free(e->jwt);
    }
    free(e->selector_value);
    free(e->resource);
    memset(e, 0, sizeof *e);
}

void az_identity_cache_clear(void)
{
    for (int i = 0; i < CACHE_SLOTS; i++)
        entry_free(&cache[i]);
}

static int same_text(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static cache_entry *cache_find(const char *source,
                               const az_identity_request *req)
{
    for (int i = 0; i < CACHE_SLOTS; i++) {
        cache_entry *e = &cache[i];
        if (e->used && strcmp(e->source, source) == 0 &&
            e->selector == req->selector &&
            same_text(e->selector_value,
                      req->selector ? req->selector_value : NULL) &&
            same_text(e->resource, req->resource))
            return e;
    }
    return NULL;
}

/* The slot for a key: its old entry, a free one, or the oldest. */
static cache_entry *cache_slot(const char *source,
                               const az_identity_request *req)
{
    cache_entry *e = cache_find(source, req);
    cache_entry *oldest = &cache[0];

    for (int i = 0; !e && i < CACHE_SLOTS; i++) {
        if (!cache[i].used)
            e = &cache[i];
        else if (cache[i].stored_at_ms < oldest->stored_at_ms)
            oldest = &cache[i];
    }
    return e ? e : oldest;
}

/*
 * When to ask again (DESIGN §5): at half the life when it is 2 h or more,
 * else 5 minutes before expiry; measured from now on the monotonic clock.
 */
static int64_t refresh_delay_ms(int64_t now, int64_t expires_on)
{
    int64_t life = expires_on - now;

    if (life >= TWO_HOURS)
        return life / 2 * 1000;
    return life > EARLY_REFRESH_S ? (life - EARLY_REFRESH_S) * 1000 : 0;
}

static int cache_store(cache_entry *e, const char *source,
                       const az_identity_request *req, const char *endpoint,
                       const char *jwt, size_t jwt_len, int64_t expires_on,
                       az_error *err)
{
    entry_free(e);
    e->jwt = malloc(jwt_len + 1);
    e->resource = strdup(req->resource);
    if (req->selector)
        e->selector_value = strdup(req->selector_value);
    if (!e->jwt || !e->resource || (req->selector && !e->selector_value)) {
        entry_free(e);
        return az_fail(err, AZ_EXIT_RUNTIME, "memory", 0, "out of memory");
    }

    memcpy(e->jwt, jwt, jwt_len);
    e->jwt[jwt_len] = '\0';
    e->jwt_len = jwt_len;
    e->used = 1;
    e->source = source;
    e->selector = req->selector;
    snprintf(e->endpoint, sizeof e->endpoint, "%s", endpoint);
    e->expires_on = expires_on;
    e->stored_at_ms = az_monotonic_ms();
    e->refresh_at_ms =
        e->stored_at_ms + refresh_delay_ms((int64_t)time(NULL), expires_on);
    e->tok.source = source;
    e->tok.jwt = e->jwt;
    e->tok.jwt_len = jwt_len;
    e->tok.expires_on = expires_on;
    e->tok.endpoint = e->endpoint;
    return 0;
}

/* ---- the static token ---------------------------------------------------- */

static int static_token(lua_State *L, const az_identity_request *req,
                        const az_platform_token **tok, az_error *err)
{
    const char *raw = getenv("CONJUR_AUTHN_JWT_TOKEN");
    size_t n = strlen(raw);
    const char *what = "CONJUR_AUTHN_JWT_TOKEN";

    while (n && strchr(" \t\r\n", *raw))
        raw++, n--;
    while (n && strchr(" \t\r\n", raw[n - 1]))
        n--;
    az_mask_add(raw, n);

    if (az_jwt_push_claims(L, raw, n, what, AZ_EXIT_IDENTITY, err) < 0)
        return -1;
    lua_getfield(L, -1, "exp"); /* claims exp */
    int ok;
    lua_Integer exp = lua_tointegerx(L, -1, &ok);
    lua_pop(L, 2); /* - */
    if (!ok || exp <= 0 || exp > AZ_EPOCH_MAX)
        return az_fail(err, AZ_EXIT_IDENTITY, "identity", 0,
                       "%s has no usable 'exp' claim", what);

    int64_t now = (int64_t)time(NULL);
    if (exp <= now) {
        char when[32];
        az_format_utc(exp, when, sizeof when);
        return az_fail(err, AZ_EXIT_IDENTITY, "identity", 0,
                       "%s expired at %s; give it a fresh token or unset it "
                       "to use the managed identity",
                       what, when);
    }

    cache_entry *e = cache_slot("static", req);
    if (cache_store(e, "static", req, what, raw, n, exp, err) < 0)
        return -1;
    *tok = &e->tok;
    return 0;
}

/* ---- one attempt --------------------------------------------------------- */

/* What one attempt ended with. */
typedef struct outcome {
    long status;                          /* HTTP status, 0 when none */
    enum az_http_failure failure;         /* transport failure */
    long retry_after_s;                   /* -1 when absent */
    az_error_answer answer;               /* parsed error body */
    char transport[AZ_ERROR_MESSAGE_MAX]; /* the HTTP layer's message */
} outcome;

typedef struct attempt_ctx {
    lua_State *L;
    az_http *http;
    const az_source *src;
    const char *url;
    long timeout_ms;
} attempt_ctx;

/* One GET; 0 when a status arrived (in *resp), -1 on transport failure. */
static int get_once(attempt_ctx *a, const char *arc_key, az_http_response *resp,
                    outcome *o, az_error *err)
{
    az_buf storage = AZ_BUF_INIT;
    const char *lines[4];

    if (az_source_headers(a->src, arc_key, &storage, lines, err) < 0)
        return -2;

    az_http_request hr = {
        .method = "GET",
        .url = a->url,
        .headers = lines,
        .what = a->src->what,
        .timeout_ms = a->timeout_ms,
        .connect_timeout_ms = CONNECT_TIMEOUT_MS,
    };
    int rc = az_http_perform(a->http, &hr, resp, err);
    az_buf_free(&storage);

    o->status = resp->status;
    o->failure = resp->failure;
    o->retry_after_s = resp->retry_after_s;
    if (rc < 0)
        snprintf(o->transport, sizeof o->transport, "%s", err->message);
    return rc;
}

/* The two legs of Arc's challenge; the first must be a 401 with a realm. */
static int arc_challenge(attempt_ctx *a, az_http_response *resp, outcome *o,
                         az_error *err)
{
    int rc = get_once(a, NULL, resp, o, err);
    if (rc < 0 || resp->status != 401)
        return rc;

    az_buf key = AZ_BUF_INIT;
    if (az_arc_read_key(resp->www_authenticate, &key, err) < 0) {
        az_buf_free(&key);
        return -2;
    }
    az_http_response_free(resp);
    rc = get_once(a, (const char *)key.data, resp, o, err);
    az_buf_free(&key);
    return rc;
}

/* ---- judging answers and building messages ------------------------------- */

static int retryable_status(long s)
{
    return s == 404 || s == 408 || s == 429 || (s >= 500 && s <= 599);
}

static int retryable_failure(enum az_http_failure f)
{
    return f == AZ_HTTP_CONNECT || f == AZ_HTTP_TIMEOUT ||
           f == AZ_HTTP_TRUNCATED;
}

static const char *selector_var(az_selector_kind k)
{
    switch (k) {
    case AZ_SELECT_CLIENT_ID:
        return "CONJUR_AUTHN_AZURE_CLIENT_ID";
    case AZ_SELECT_OBJECT_ID:
        return "CONJUR_AUTHN_AZURE_OBJECT_ID";
    case AZ_SELECT_RESOURCE_ID:
        return "CONJUR_AUTHN_AZURE_RESOURCE_ID";
    case AZ_SELECT_NONE:
        break;
    }
    return "none";
}

static const char *selector_word(az_selector_kind k)
{
    static const char *const words[] = {"none", "client_id", "object_id",
                                        "resource_id"};
    return words[k];
}

/* Advice for a platform message we recognise; "" when there is none. */
static void hint_for(const az_source *src, const az_identity_request *req,
                     const outcome *o, char *out, size_t cap)
{
    const char *msg = o->answer.message;
    const char *code = o->answer.code;

    out[0] = '\0';
    if (strstr(msg, "Identity not found")) {
        if (req->selector)
            snprintf(out, cap,
                     "the identity %s=%s is not assigned to this resource; "
                     "check %s",
                     selector_word(req->selector), req->selector_value,
                     selector_var(req->selector));
        else
            snprintf(out, cap,
                     "no managed identity is assigned to this resource; "
                     "enable its system-assigned identity or assign a "
                     "user-assigned one");
    } else if (strstr(msg, "Multiple user assigned identities")) {
        snprintf(out, cap,
                 "this resource has several user-assigned identities; set "
                 "CONJUR_AUTHN_AZURE_CLIENT_ID (or _OBJECT_ID or "
                 "_RESOURCE_ID) to the one azconjur should use");
    } else if (strstr(msg, "Unable to load the proper Managed Identity")) {
        if (req->selector)
            snprintf(out, cap,
                     "the identity %s=%s is not assigned to this app; check "
                     "%s and the app's Identity settings",
                     selector_word(req->selector), req->selector_value,
                     selector_var(req->selector));
        else
            snprintf(out, cap,
                     "the app has no system-assigned identity; enable it, or "
                     "set CONJUR_AUTHN_AZURE_CLIENT_ID to a user-assigned "
                     "one");
    } else if (strcmp(code, "UnsupportedApiVersion") == 0 ||
               strstr(msg, "does not support the API version")) {
        snprintf(out, cap,
                 "this platform does not offer the 2019-08-01 protocol; "
                 "unset IDENTITY_ENDPOINT and IDENTITY_HEADER so azconjur "
                 "uses MSI_ENDPOINT and MSI_SECRET (2017-09-01)");
    } else if (strstr(msg, "unreachable network")) {
        snprintf(out, cap,
                 "this looks like Docker Desktop, which has no managed "
                 "identity; set CONJUR_AUTHN_JWT_TOKEN for local use");
    } else if (src->kind == AZ_SOURCE_APP_SERVICE && o->status == 401) {
        snprintf(out, cap,
                 "IDENTITY_HEADER was refused; it rotates, so take it from "
                 "the process environment the platform set");
    }
}

/* "<what> (<url>) answered 400 invalid_request: Identity not found; hint" */
static int fail_status(const az_source *src, const outcome *o,
                       const char *prefix, az_error *err)
{
    const az_error_answer *a = &o->answer;

    return az_fail(err, AZ_EXIT_IDENTITY, "identity", o->status,
                   "%s%s (%s) answered %ld%s%s%s%s%s%s%s", prefix, src->what,
                   src->endpoint, o->status, a->code[0] ? " " : "", a->code,
                   a->message[0] ? ": " : "", a->message,
                   a->correlation[0] ? " (correlation id " : "", a->correlation,
                   a->correlation[0] ? ")" : "");
}

static int fail_answer(const az_source *src, const az_identity_request *req,
                       const outcome *o, const char *prefix, az_error *err)
{
    char hint[512];

    fail_status(src, o, prefix, err);
    hint_for(src, req, o, hint, sizeof hint);
    if (hint[0]) {
        size_t n = strlen(err->message);
        snprintf(err->message + n, sizeof err->message - n, "; %s", hint);
    }
    return -1;
}

/* The last word when the loop gives up on a retryable outcome. */
static int give_up(const az_source *src, const az_identity_request *req,
                   const outcome *o, int attempts, int deadline_hit,
                   az_error *err)
{
    char prefix[160];

    if (deadline_hit)
        snprintf(prefix, sizeof prefix,
                 "no token within the %ld s deadline "
                 "(AZCONJUR_IDENTITY_TIMEOUT) after %d attempt%s: ",
                 req->timeout_s, attempts, attempts == 1 ? "" : "s");
    else
        snprintf(prefix, sizeof prefix,
                 "no token after %d attempts: ", attempts);

    if (o->status)
        return fail_answer(src, req, o, prefix, err);

    if (src->kind == AZ_SOURCE_IMDS && o->failure != AZ_HTTP_TRUNCATED)
        return az_fail(err, AZ_EXIT_IDENTITY, "identity", 0,
                       "%sno managed identity endpoint answered at %s (%s); "
                       "outside Azure VMs, scale sets and container groups "
                       "set CONJUR_AUTHN_JWT_TOKEN, or the variables of your "
                       "platform",
                       prefix, src->endpoint, az_http_failure_text(o->failure));
    return az_fail(err, AZ_EXIT_IDENTITY, "identity", 0, "%s%s", prefix,
                   o->transport);
}

/* ---- the retry loop ------------------------------------------------------ */

typedef struct loop_state {
    int64_t deadline_ms;
    int64_t first_gone_ms; /* first 410, or -1 */
    int retries;           /* ordinary retries used */
    int attempts;
} loop_state;

/*
 * How long to wait before the next attempt after outcome o, or -1 when
 * the policy says stop.
 */
static long next_delay(loop_state *ls, const outcome *o, int64_t now)
{
    double scale = az_retry_scale();

    if (o->status == 410) {
        if (ls->first_gone_ms < 0)
            ls->first_gone_ms = now;
        if (now - ls->first_gone_ms >= (int64_t)(GONE_WINDOW_MS * scale))
            return -1;
        return (long)(GONE_INTERVAL_MS * scale);
    }
    if (!(o->status ? retryable_status(o->status)
                    : retryable_failure(o->failure)))
        return -1;
    if (ls->retries >= MAX_RETRIES)
        return -1;
    ls->retries++;

    long delay = az_backoff_ms(ls->retries, BACKOFF_BASE_MS, BACKOFF_CAP_MS);
    if (o->retry_after_s >= 0) {
        long s = o->retry_after_s > RETRY_AFTER_CAP_S ? RETRY_AFTER_CAP_S
                                                      : o->retry_after_s;
        delay = (long)((double)s * 1000.0 * scale);
    }
    return delay;
}

static void log_retry(const az_source *src, const outcome *o, long delay,
                      int attempts)
{
    char what[64];

    if (o->status)
        snprintf(what, sizeof what, "answered %ld", o->status);
    else
        snprintf(what, sizeof what, "%s", az_http_failure_text(o->failure));

    /* the first silent wait off Azure deserves a word at the default level */
    int level = attempts == 1 && !o->status ? AZ_LOG_WARN : AZ_LOG_INFO;
    az_logf(level, "%s (%s) %s; retrying in %.1f s", src->what, src->endpoint,
            what, (double)delay / 1000.0);
}

/* Judge a 2xx answer: a token, or a definite failure. */
static int take_answer(lua_State *L, const az_source *src,
                       const az_http_response *resp, az_token_answer *ans,
                       az_error *err)
{
    int64_t now = (int64_t)time(NULL);

    if (az_source_parse_token(L, src, (const char *)resp->body.data,
                              resp->body.len, now, ans, err) < 0) {
        size_t n = strlen(err->message);
        snprintf(err->message + n, sizeof err->message - n, " (%s)",
                 src->endpoint);
        err->exit_code = AZ_EXIT_IDENTITY;
        return -1;
    }
    if (ans->expires_on <= now) {
        char when[32];
        az_format_utc(ans->expires_on, when, sizeof when);
        return az_fail(err, AZ_EXIT_IDENTITY, "identity", 0,
                       "%s (%s) sent a token that expired at %s; check the "
                       "host's clock",
                       src->what, src->endpoint, when);
    }
    return 0;
}

/*
 * Ask the platform until a token comes, the policy stops or the deadline
 * passes.  0 with *ans filled, or -1.
 */
static int fetch(lua_State *L, const az_source *src,
                 const az_identity_request *req, const char *url,
                 az_token_answer *ans, az_error *err)
{
    az_http_options opts = {.plain_http_ok = 1,
                            .no_proxy = 1,
                            .timeout_ms = ATTEMPT_TIMEOUT_MS,
                            .max_body = AZ_IDENTITY_BODY_MAX,
                            .exit_code = AZ_EXIT_IDENTITY};
    az_http *http = az_http_new(&opts, err);
    if (!http)
        return -1;

    loop_state ls = {az_monotonic_ms() + req->timeout_s * 1000, -1, 0, 0};
    attempt_ctx a = {L, http, src, url, 0};
    int rc = -1;

    for (;;) {
        outcome o;
        az_http_response resp;
        memset(&o, 0, sizeof o);

        a.timeout_ms = (long)(ls.deadline_ms - az_monotonic_ms());
        if (a.timeout_ms > ATTEMPT_TIMEOUT_MS)
            a.timeout_ms = ATTEMPT_TIMEOUT_MS;
        ls.attempts++;
        int got = src->kind == AZ_SOURCE_ARC
                      ? arc_challenge(&a, &resp, &o, err)
                      : get_once(&a, NULL, &resp, &o, err);
        if (got == -2 || (got < 0 && !retryable_failure(o.failure)))
            break; /* err says why: configuration, Arc key, size limit */

        if (got == 0 && resp.status >= 200 && resp.status < 300) {
            rc = take_answer(L, src, &resp, ans, err);
            az_http_response_free(&resp);
            break;
        }
        if (got == 0)
            az_source_parse_error(L, (const char *)resp.body.data,
                                  resp.body.len, &o.answer);
        az_http_response_free(&resp);

        int64_t now = az_monotonic_ms();
        long delay = next_delay(&ls, &o, now);
        if (delay < 0) {
            if (o.status && !retryable_status(o.status) && o.status != 410)
                fail_answer(src, req, &o, "", err);
            else
                give_up(src, req, &o, ls.attempts, 0, err);
            break;
        }
        if (now + delay >= ls.deadline_ms) {
            give_up(src, req, &o, ls.attempts, 1, err);
            break;
        }
        log_retry(src, &o, delay, ls.attempts);
        az_sleep_ms(delay);
    }

    az_http_free(http);
    return rc;
}

/* ---- the entry point ----------------------------------------------------- */

static int cached_or_fetch(lua_State *L, const az_source *src,
                           const az_identity_request *req,
                           const az_platform_token **tok, az_error *err)
{
    cache_entry *e = cache_find(src->name, req);
    int64_t now_ms = az_monotonic_ms();

    if (e && !req->force_refresh && now_ms < e->refresh_at_ms) {
        az_debug("using the cached %s token (expires %lld)", src->name,
                 (long long)e->expires_on);
        *tok = &e->tok;
        return 0;
    }

    az_buf url = AZ_BUF_INIT;
    az_token_answer ans;
    memset(&ans, 0, sizeof ans);
    int rc = az_source_url(src, req, &url, err);
    if (rc == 0)
        rc = fetch(L, src, req, (const char *)url.data, &ans, err);
    az_buf_free(&url);

    if (rc < 0 && e && !req->force_refresh &&
        e->expires_on - (int64_t)time(NULL) > 60) {
        /* between refresh time and expiry a failed refresh is not fatal */
        az_warn("refreshing the platform token failed, using the cached one "
                "until it expires: %s",
                err->message);
        *tok = &e->tok;
        az_token_answer_free(&ans);
        return 0;
    }
    if (rc == 0) {
        e = cache_slot(src->name, req);
        rc = cache_store(e, src->name, req, src->endpoint,
                         (const char *)ans.jwt.data, ans.jwt.len,
                         ans.expires_on, err);
        if (rc == 0) {
            az_info("platform token from %s (%s), expires in %lld s", src->name,
                    src->endpoint,
                    (long long)(ans.expires_on - (int64_t)time(NULL)));
            *tok = &e->tok;
        }
    }
    az_token_answer_free(&ans);
    return rc;
}

int az_identity_get(lua_State *L, const az_identity_request *req_in,
                    const az_platform_token **tok, az_error *err)
{
    az_identity_request req = *req_in;
    az_source src;

    *tok = NULL;
    if (!req.resource)
        req.resource = AZ_DEFAULT_RESOURCE;
    if (req.timeout_s <= 0)
        req.timeout_s = AZ_DEFAULT_IDENTITY_TIMEOUT_S;
    if (req.selector == AZ_SELECT_NONE)
        req.selector_value = NULL;
    if (az_source_detect(&src, err) < 0)
        return -1;

    if (src.kind == AZ_SOURCE_STATIC)
        return static_token(L, &req, tok, err);
    return cached_or_fetch(L, &src, &req, tok, err);
}
