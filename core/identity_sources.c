/*
 * identity_sources.c - the per-platform half of the identity step:
 * detection from the environment, request URLs and headers, reading the
 * answers (tokens and errors), and Arc's key-file challenge.
 *
 * Caveats:
 *  - Service Fabric, Cloud Shell and AKS workload identity are not
 *    sources (see KNOWN_ISSUES.md); Conjur authn-azure needs xms_mirid,
 *    which Cloud Shell tokens lack.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lauxlib.h>
#include <openssl/crypto.h>

#include "azure_time.h"
#include "identity_sources.h"
#include "log.h"
#include "runtime.h"

/* ---- detection ------------------------------------------------------------
 */

static const char *env_nonempty(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

/* An endpoint variable: http(s) URL, printable, bounded. */
static int take_endpoint(az_source *src, const char *var, const char *value,
                         const char *suffix, az_error *err)
{
    size_t n = strlen(value);

    if (strncmp(value, "http://", 7) != 0 && strncmp(value, "https://", 8) != 0)
        return az_fail(err, AZ_EXIT_CONFIG, "config", 0,
                       "%s must be an http:// or https:// URL", var);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)value[i];
        if (c <= ' ' || c == 0x7f)
            return az_fail(err, AZ_EXIT_CONFIG, "config", 0,
                           "%s contains a space or control character", var);
    }

    while (suffix && n > 0 && value[n - 1] == '/')
        n--; /* a base URL: the path comes next */
    if (n + (suffix ? strlen(suffix) : 0) >= sizeof src->endpoint)
        return az_fail(err, AZ_EXIT_CONFIG, "config", 0, "%s is too long", var);
    snprintf(src->endpoint, sizeof src->endpoint, "%.*s%s", (int)n, value,
             suffix ? suffix : "");
    src->endpoint_var = var;
    return 0;
}

static int take_secret(az_source *src, const char *var, const char *value,
                       az_error *err)
{
    size_t n = strlen(value);

    az_mask_add(value, n);
    if (n > 1024)
        return az_fail(err, AZ_EXIT_CONFIG, "config", 0,
                       "%s is longer than 1024 bytes", var);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)value[i];
        if (c < ' ' || c == 0x7f)
            return az_fail(err, AZ_EXIT_CONFIG, "config", 0,
                           "%s contains a control character", var);
    }
    src->secret = value;
    return 0;
}

static void set_kind(az_source *src, enum az_source_kind kind)
{
    static const char *const names[] = {"static", "app_service", "arc",
                                        "app_service_2017", "imds"};
    static const char *const whats[] = {
        "CONJUR_AUTHN_JWT_TOKEN", "the App Service identity endpoint",
        "the Azure Arc identity endpoint",
        "the App Service 2017 (MSI_ENDPOINT) identity endpoint",
        "the IMDS token endpoint"};

    src->kind = kind;
    src->name = names[kind];
    src->what = whats[kind];
}

int az_source_detect(az_source *src, az_error *err)
{
    const char *identity = env_nonempty("IDENTITY_ENDPOINT");
    const char *header = env_nonempty("IDENTITY_HEADER");
    const char *imds = env_nonempty("IMDS_ENDPOINT");
    const char *msi = env_nonempty("MSI_ENDPOINT");
    const char *msi_secret = env_nonempty("MSI_SECRET");

    memset(src, 0, sizeof *src);
    if (header)
        az_mask_add(header, strlen(header));
    if (msi_secret)
        az_mask_add(msi_secret, strlen(msi_secret));

    if (env_nonempty("CONJUR_AUTHN_JWT_TOKEN")) {
        set_kind(src, AZ_SOURCE_STATIC);
        snprintf(src->endpoint, sizeof src->endpoint, "%s",
                 "CONJUR_AUTHN_JWT_TOKEN");
        src->endpoint_var = "CONJUR_AUTHN_JWT_TOKEN";
        return 0;
    }
    if (identity && header) {
        set_kind(src, AZ_SOURCE_APP_SERVICE);
        if (take_endpoint(src, "IDENTITY_ENDPOINT", identity, NULL, err) < 0)
            return -1;
        return take_secret(src, "IDENTITY_HEADER", header, err);
    }
    if (identity && imds) {
        set_kind(src, AZ_SOURCE_ARC);
        return take_endpoint(src, "IDENTITY_ENDPOINT", identity, NULL, err);
    }
    if (msi && msi_secret) {
        set_kind(src, AZ_SOURCE_APP_SERVICE_2017);
        if (take_endpoint(src, "MSI_ENDPOINT", msi, NULL, err) < 0)
            return -1;
        return take_secret(src, "MSI_SECRET", msi_secret, err);
    }

    if (identity || msi)
        az_warn("%s is set without %s; ignoring it and asking IMDS",
                identity ? "IDENTITY_ENDPOINT" : "MSI_ENDPOINT",
                identity ? "IDENTITY_HEADER or IMDS_ENDPOINT" : "MSI_SECRET");
    set_kind(src, AZ_SOURCE_IMDS);
    const char *host = env_nonempty("AZURE_POD_IDENTITY_AUTHORITY_HOST");
    if (host)
        return take_endpoint(src, "AZURE_POD_IDENTITY_AUTHORITY_HOST", host,
                             AZ_TOKEN_PATH, err);
    snprintf(src->endpoint, sizeof src->endpoint, "%s",
             AZ_IMDS_DEFAULT_HOST AZ_TOKEN_PATH);
    return 0;
}

/* ---- requests ------------------------------------------------------------ */

static const char *selector_env(az_selector_kind k)
{
    switch (k) {
    case AZ_SELECT_CLIENT_ID:
        return "client_id";
    case AZ_SELECT_OBJECT_ID:
        return "object_id";
    case AZ_SELECT_RESOURCE_ID:
        return "resource_id";
    case AZ_SELECT_NONE:
        break;
    }
    return "none";
}

/* The query parameter for a selector at this endpoint, or NULL. */
static const char *selector_param(const az_source *src, az_selector_kind k)
{
    static const char *const imds[] = {NULL, "client_id", "object_id",
                                       "msi_res_id"};
    static const char *const app[] = {NULL, "client_id", "principal_id",
                                      "mi_res_id"};
    static const char *const v2017[] = {NULL, "clientid", NULL, NULL};

    switch (src->kind) {
    case AZ_SOURCE_IMDS:
        return imds[k];
    case AZ_SOURCE_APP_SERVICE:
        return app[k];
    case AZ_SOURCE_APP_SERVICE_2017:
        return v2017[k];
    case AZ_SOURCE_ARC:
    case AZ_SOURCE_STATIC:
        break;
    }
    return NULL;
}

static int add_param(az_buf *url, const char *name, const char *value,
                     size_t vlen)
{
    if (az_buf_append_str(url, "&") < 0 || az_buf_append_str(url, name) < 0 ||
        az_buf_append_str(url, "=") < 0)
        return -1;
    return az_url_encode(url, value, vlen);
}

static int check_value(const char *what, const char *v, az_error *err)
{
    size_t n = strlen(v);

    if (n == 0 || n > 1024)
        return az_fail(err, AZ_EXIT_CONFIG, "config", 0,
                       "the %s must be 1 to 1024 characters", what);
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)v[i] < ' ' || v[i] == 0x7f)
            return az_fail(err, AZ_EXIT_CONFIG, "config", 0,
                           "the %s contains a control character", what);
    }
    return 0;
}

int az_source_url(const az_source *src, const az_identity_request *req,
                  az_buf *url, az_error *err)
{
    static const char *const versions[] = {NULL, "2019-08-01", "2020-06-01",
                                           "2017-09-01", "2018-02-01"};
    const char *resource = req->resource ? req->resource : AZ_DEFAULT_RESOURCE;
    const char *value = req->selector_value;
    const char *param = selector_param(src, req->selector);

    if (check_value("resource", resource, err) < 0)
        return -1;
    if (req->selector != AZ_SELECT_NONE) {
        if (!value || check_value(selector_env(req->selector), value, err) < 0)
            return value ? -1
                         : az_fail(err, AZ_EXIT_CONFIG, "config", 0,
                                   "a %s selector needs a value",
                                   selector_env(req->selector));
        if (!param)
            return az_fail(
                err, AZ_EXIT_CONFIG, "config", 0,
                "%s cannot select a user-assigned identity by %s%s", src->what,
                selector_env(req->selector),
                src->kind == AZ_SOURCE_ARC
                    ? ": Azure Arc servers have only their system identity; "
                      "unset CONJUR_AUTHN_AZURE_CLIENT_ID, _OBJECT_ID and "
                      "_RESOURCE_ID"
                    : "; the 2017 protocol takes only a client id "
                      "(CONJUR_AUTHN_AZURE_CLIENT_ID)");
    }

    /* a scope "X/.default" names resource X */
    size_t rlen = strlen(resource);
    if (rlen > 9 && strcmp(resource + rlen - 9, "/.default") == 0)
        rlen -= 9;

    int bad =
        az_buf_append_str(url, src->endpoint) < 0 ||
        az_buf_append_str(url, strchr(src->endpoint, '?') ? "&" : "?") < 0 ||
        az_buf_append_str(url, "api-version=") < 0 ||
        az_buf_append_str(url, versions[src->kind]) < 0 ||
        add_param(url, "resource", resource, rlen) < 0;

    /* Azure ML wants a client id even for its default identity */
    const char *ml = env_nonempty("DEFAULT_IDENTITY_CLIENT_ID");
    if (!bad && param)
        bad = add_param(url, param, value, strlen(value)) < 0;
    else if (!bad && src->kind == AZ_SOURCE_APP_SERVICE_2017 && ml)
        bad = add_param(url, "clientid", ml, strlen(ml)) < 0;
    if (bad || az_buf_terminate(url) < 0)
        return az_fail(err, AZ_EXIT_RUNTIME, "memory", 0, "out of memory");
    return 0;
}

int az_source_headers(const az_source *src, const char *arc_key,
                      az_buf *storage, const char *lines[4], az_error *err)
{
    size_t offsets[3];
    int n = 0;
    int bad = 0;

    /* record offsets first: the buffer may move while it grows */
    if (src->kind == AZ_SOURCE_IMDS || src->kind == AZ_SOURCE_ARC) {
        offsets[n++] = storage->len;
        bad |= az_buf_append(storage, "Metadata: true", 15) < 0;
    }
    if (src->kind == AZ_SOURCE_APP_SERVICE ||
        src->kind == AZ_SOURCE_APP_SERVICE_2017) {
        offsets[n++] = storage->len;
        bad |= az_buf_append_str(storage, src->kind == AZ_SOURCE_APP_SERVICE
                                              ? "X-IDENTITY-HEADER: "
                                              : "secret: ") < 0;
        bad |= az_buf_append(storage, src->secret, strlen(src->secret) + 1) < 0;
    }
    if (arc_key) {
        offsets[n++] = storage->len;
        bad |= az_buf_append_str(storage, "Authorization: Basic ") < 0;
        bad |= az_buf_append(storage, arc_key, strlen(arc_key) + 1) < 0;
    }
    if (bad)
        return az_fail(err, AZ_EXIT_RUNTIME, "memory", 0, "out of memory");

    for (int i = 0; i < n; i++)
        lines[i] = (const char *)storage->data + offsets[i];
    lines[n] = NULL;
    return 0;
}

/* ---- reading answers ----------------------------------------------------- */

typedef struct parse_job {
    const az_source *src;
    const char *body;
    size_t len;
    int64_t now;
    az_token_answer *out;
    az_error *err;
    az_error_answer *error_out;
    int status; /* 0 ok, -1 err filled */
} parse_job;

/* A field as text: strings as they are, integral numbers in decimal. */
static const char *field_text(lua_State *L, int t, const char *key, char *num,
                              size_t numcap, size_t *len)
{
    int type = lua_getfield(L, t, key); /* ... v */
    const char *s = NULL;

    if (type == LUA_TSTRING) {
        s = lua_tolstring(L, -1, len); /* the table keeps it alive */
    } else if (type == LUA_TNUMBER) {
        lua_Number d = lua_tonumber(L, -1);
        if (d >= 0 && d <= 1e15 && (lua_Number)(long long)d == d) {
            *len = (size_t)snprintf(num, numcap, "%lld", (long long)d);
            s = num;
        } else {
            *len = 0;
            s = ""; /* negative or fractional: present but unusable */
        }
    }
    lua_pop(L, 1); /* ... */
    return s;
}

/* MAY_LJMP: runs inside lua_pcall. */
static int parse_token_body(lua_State *L)
{
    parse_job *job = lua_touserdata(L, 1);
    az_error *err = job->err;
    char num[32];
    size_t n;

    if (az_json_decode(L, job->body, job->len, job->src->what, AZ_EXIT_IDENTITY,
                       err) < 0) {
        job->status = -1;
        return 0;
    }
    if (!lua_istable(L, -1)) {
        job->status = az_fail(err, AZ_EXIT_IDENTITY, "bad_response", 0,
                              "%s answered with JSON that is not an object",
                              job->src->what);
        return 0;
    }
    int t = lua_gettop(L);

    const char *jwt = field_text(L, t, "access_token", num, sizeof num, &n);
    if (!jwt || n == 0 || jwt == num) {
        job->status =
            az_fail(err, AZ_EXIT_IDENTITY, "bad_response", 0,
                    "%s answered without an access_token", job->src->what);
        return 0;
    }
    az_mask_add(jwt, n);
    if (az_buf_append(&job->out->jwt, jwt, n) < 0 ||
        az_buf_terminate(&job->out->jwt) < 0) {
        job->status =
            az_fail(err, AZ_EXIT_RUNTIME, "memory", 0, "out of memory");
        return 0;
    }

    const char *on = field_text(L, t, "expires_on", num, sizeof num, &n);
    int64_t v;
    if (on && az_expiry_parse(on, n, job->now, &v) == 0) {
        job->out->expires_on = v;
    } else {
        const char *in = field_text(L, t, "expires_in", num, sizeof num, &n);
        if (!in || az_lifetime_parse(in, n, &v) < 0) {
            job->status =
                az_fail(err, AZ_EXIT_IDENTITY, "bad_response", 0,
                        "%s answered without a usable expiry (expires_on %s, "
                        "expires_in %s)",
                        job->src->what, on ? "unreadable" : "absent",
                        in ? "unreadable" : "absent");
            return 0;
        }
        job->out->expires_on = job->now + v;
    }

    const char *client = field_text(L, t, "client_id", num, sizeof num, &n);
    if (client && n < sizeof job->out->client_id && client != num)
        snprintf(job->out->client_id, sizeof job->out->client_id, "%s", client);
    job->status = 0;
    return 0;
}

/* Run f(job) in protected mode; a raised error becomes err. */
static int protected_call(lua_State *L, lua_CFunction f, parse_job *job)
{
    int top = lua_gettop(L);

    lua_pushcfunction(L, f);
    lua_pushlightuserdata(L, job);
    int rc = lua_pcall(L, 1, 0, 0);
    if (rc != LUA_OK) {
        job->status =
            az_fail(job->err, AZ_EXIT_RUNTIME, "memory", 0,
                    "reading the answer of %s: %s", job->src->what,
                    rc == LUA_ERRMEM ? "out of memory" : "internal error");
    }
    lua_settop(L, top);
    return job->status;
}

int az_source_parse_token(lua_State *L, const az_source *src, const char *body,
                          size_t len, int64_t now, az_token_answer *out,
                          az_error *err)
{
    parse_job job = {src, body, len, now, out, err, NULL, -1};

    memset(out, 0, sizeof *out);
    return protected_call(L, parse_token_body, &job);
}

void az_token_answer_free(az_token_answer *a)
{
    az_buf_free(&a->jwt);
}

/*
 * Copy text, masked, control characters dropped, cut to fit.  Masking comes
 * first: an endpoint that echoes IDENTITY_HEADER back would otherwise show
 * its first bytes when the cut falls inside it.
 */
static void copy_clean(char *dst, size_t cap, const char *s, size_t n)
{
    size_t len = az_mask_apply(s, n, dst, cap);

    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)dst[i];
        if (c < ' ' || c == 0x7f)
            dst[i] = ' ';
    }
}

static void copy_field(lua_State *L, int t, const char *key, char *dst,
                       size_t cap)
{
    char num[32];
    size_t n;
    const char *s = field_text(L, t, key, num, sizeof num, &n);
    if (s && !dst[0])
        copy_clean(dst, cap, s, n);
}

/* MAY_LJMP: runs inside lua_pcall. */
static int parse_error_body(lua_State *L)
{
    parse_job *job = lua_touserdata(L, 1);
    az_error_answer *out = job->error_out;
    az_error scratch;

    job->status = 0;
    if (az_json_decode(L, job->body, job->len, "error", 0, &scratch) < 0 ||
        !lua_istable(L, -1)) {
        copy_clean(out->message, 200, job->body, job->len);
        return 0;
    }
    int t = lua_gettop(L);

    /* {"error": {"code": ..., "message": ...}} (UnsupportedApiVersion) */
    if (lua_getfield(L, t, "error") == LUA_TTABLE) {
        copy_field(L, t + 1, "code", out->code, sizeof out->code);
        copy_field(L, t + 1, "message", out->message, sizeof out->message);
        copy_field(L, t + 1, "correlationId", out->correlation,
                   sizeof out->correlation);
    }
    lua_pop(L, 1);

    /* IMDS and Arc: error, error_description; App Service: message */
    copy_field(L, t, "error", out->code, sizeof out->code);
    copy_field(L, t, "error_description", out->message, sizeof out->message);
    copy_field(L, t, "message", out->message, sizeof out->message);
    copy_field(L, t, "Message", out->message, sizeof out->message);
    copy_field(L, t, "correlationId", out->correlation,
               sizeof out->correlation);
    return 0;
}

void az_source_parse_error(lua_State *L, const char *body, size_t len,
                           az_error_answer *out)
{
    static const az_source nobody = {.what = "the identity endpoint"};
    az_error scratch;
    parse_job job = {&nobody, body, len, 0, NULL, &scratch, out, 0};

    memset(out, 0, sizeof *out);
    if (len == 0)
        return;
    protected_call(L, parse_error_body, &job);
}

/* ---- Arc key files ------------------------------------------------------- */

static const char *arc_token_dir(void)
{
    const char *dir = env_nonempty("AZCONJUR_ARC_TOKEN_DIR");
    return dir ? dir : AZ_ARC_TOKEN_DIR;
}

/* The path in "Basic realm=<path>"; refuses anything else. */
static int realm_path(const char *header, char *path, size_t cap, az_error *err)
{
    const char *eq = strchr(header, '=');

    if (!header[0])
        return az_fail(err, AZ_EXIT_IDENTITY, "identity", 401,
                       "the Azure Arc identity endpoint answered 401 without "
                       "a WWW-Authenticate challenge");
    if (!eq || strchr(eq + 1, '=') ||
        strncasecmp(header, "Basic realm", 11) != 0 ||
        (size_t)(eq - header) != 11 || !eq[1])
        return az_fail(err, AZ_EXIT_IDENTITY, "identity", 401,
                       "the Azure Arc identity endpoint sent a challenge "
                       "that is not 'Basic realm=<key file>'");
    for (const char *p = eq + 1; *p; p++) {
        /* refused unquoted: a hostile endpoint's bytes stay off terminals */
        if ((unsigned char)*p < ' ' || *p == 0x7f)
            return az_fail(err, AZ_EXIT_IDENTITY, "identity", 401,
                           "the Azure Arc identity endpoint sent a challenge "
                           "that is not 'Basic realm=<key file>' (control "
                           "characters in the path)");
    }
    if (strlen(eq + 1) >= cap)
        return az_fail(err, AZ_EXIT_IDENTITY, "identity", 401,
                       "the Azure Arc key-file path is too long");
    snprintf(path, cap, "%s", eq + 1);
    return 0;
}

/* The key-file rules of reference §6, checked before anything is read. */
static int check_key_path(const char *path, az_error *err)
{
    const char *dir = arc_token_dir();
    char want[PATH_MAX], parent[PATH_MAX], copy[PATH_MAX];
    struct stat st;
    size_t n = strlen(path);

    if (path[0] != '/' || n < 5 || strcmp(path + n - 4, ".key") != 0)
        return az_fail(err, AZ_EXIT_IDENTITY, "identity", 401,
                       "refusing the Azure Arc key file '%s': it must be a "
                       "'.key' file in %s",
                       path, dir);
    if (lstat(path, &st) < 0)
        return az_fail(err, AZ_EXIT_IDENTITY, "identity", 401,
                       "cannot read the Azure Arc key file '%s': %s%s", path,
                       strerror(errno),
                       errno == EACCES ? " (the user must be in group 'himds')"
                                       : "");
    if (!S_ISREG(st.st_mode))
        return az_fail(err, AZ_EXIT_IDENTITY, "identity", 401,
                       "refusing the Azure Arc key file '%s': not a regular "
                       "file%s",
                       path, S_ISLNK(st.st_mode) ? " (a symbolic link)" : "");
    if (st.st_size > AZ_ARC_KEY_MAX)
        return az_fail(err, AZ_EXIT_IDENTITY, "identity", 401,
                       "refusing the Azure Arc key file '%s': %lld bytes, "
                       "more than %d",
                       path, (long long)st.st_size, AZ_ARC_KEY_MAX);

    snprintf(copy, sizeof copy, "%s", path);
    if (!realpath(dir, want) || !realpath(dirname(copy), parent) ||
        strcmp(want, parent) != 0)
        return az_fail(err, AZ_EXIT_IDENTITY, "identity", 401,
                       "refusing the Azure Arc key file '%s': it is not in "
                       "the agent's tokens directory %s",
                       path, dir);
    return 0;
}

/* Read at most AZ_ARC_KEY_MAX bytes of an already checked key file. */
static int read_key(const char *path, az_buf *key, az_error *err)
{
    char buf[AZ_ARC_KEY_MAX + 1];
    struct stat st;
    ssize_t got = 0;

    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
    if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return az_fail(err, AZ_EXIT_IDENTITY, "identity", 401,
                       "cannot read the Azure Arc key file '%s': %s", path,
                       fd < 0 ? strerror(e) : "not a regular file");
    }
    for (;;) {
        ssize_t r = read(fd, buf + got, sizeof buf - (size_t)got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += r;
        if ((size_t)got == sizeof buf)
            break;
    }
    close(fd);

    size_t n = got > 0 ? (size_t)got : 0;
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
        n--;
    az_mask_add(buf, n);

    int bad = got < 0 || (size_t)got > AZ_ARC_KEY_MAX || n == 0;
    for (size_t i = 0; !bad && i < n; i++)
        bad = (unsigned char)buf[i] < ' ' || buf[i] == 0x7f;
    if (!bad)
        bad = az_buf_append(key, buf, n) < 0 || az_buf_terminate(key) < 0;
    OPENSSL_cleanse(buf, sizeof buf);
    if (bad)
        return az_fail(err, AZ_EXIT_IDENTITY, "identity", 401,
                       "the Azure Arc key file '%s' is empty, too large or "
                       "not text",
                       path);
    return 0;
}

int az_arc_read_key(const char *www_authenticate, az_buf *key, az_error *err)
{
    char path[PATH_MAX];

    if (realm_path(www_authenticate, path, sizeof path, err) < 0 ||
        check_key_path(path, err) < 0)
        return -1;
    return read_key(path, key, err);
}
