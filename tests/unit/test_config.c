/*
 * test_config.c - configuration precedence and validation, URL rules,
 * access-token parsing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conjur.h"
#include "log.h"
#include "runtime.h"
#include "tap.h"

static const char *const conjur_vars[] = {
    "CONJUR_APPLIANCE_URL",
    "CONJUR_ACCOUNT",
    "CONJUR_AUTHN_TYPE",
    "CONJUR_SERVICE_ID",
    "CONJUR_AUTHN_JWT_HOST_ID",
    "CONJUR_AUTHN_LOGIN",
    "CONJUR_AUTHN_API_KEY",
    "CONJUR_AUTHN_TOKEN_FILE",
    "CONJUR_AUTHN_AZURE_CLIENT_ID",
    "CONJUR_AUTHN_AZURE_OBJECT_ID",
    "CONJUR_AUTHN_AZURE_RESOURCE_ID",
    "CONJUR_AUTHN_AZURE_RESOURCE",
    "CONJUR_CERT_FILE",
    "CONJUR_SSL_CERTIFICATE",
    "CONJUR_HTTP_TIMEOUT",
    "CONJURRC",
    "AZCONJUR_SYSTEM_CONFIG",
    NULL,
};

static void clear_env(void)
{
    for (const char *const *v = conjur_vars; *v; v++)
        unsetenv(*v);
    setenv("HOME", "/nonexistent-home", 1);
    setenv("AZCONJUR_SYSTEM_CONFIG", "/nonexistent/conjur.conf", 1);
}

static int url_is(const char *in, const char *want)
{
    char *out = az_config_normalise_url(in);
    int ok = out && strcmp(out, want) == 0;
    free(out);
    return ok;
}

static void test_urls(void)
{
    CHECK(url_is("https://conjur.example.com/", "https://conjur.example.com"),
          "trailing slash removed");
    CHECK(url_is("https://acme.secretsmgr.cyberark.cloud",
                 "https://acme.secretsmgr.cyberark.cloud/api"),
          "cloud host gets /api");
    CHECK(url_is("https://acme.secretsmgr.cyberark.cloud/api/",
                 "https://acme.secretsmgr.cyberark.cloud/api"),
          "cloud /api kept once");
    CHECK(url_is("https://acme-secretsmanager.cyberark.cloud:443",
                 "https://acme-secretsmanager.cyberark.cloud:443/api"),
          "second cloud spelling with a port");
    CHECK(url_is("https://cyberark.cloud.example.com",
                 "https://cyberark.cloud.example.com"),
          "look-alike host untouched");
}

/* Write text to a temporary file; returns its path (static buffer). */
static const char *temp_file(const char *name, const char *text)
{
    static char path[2][256];
    static int which;
    char *p = path[which++ % 2];

    snprintf(p, 256, "/tmp/azconjur-unit-%d-%s", (int)getpid(), name);
    FILE *f = fopen(p, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
    return p;
}

static int load(lua_State *L, az_config *cfg, az_error *err)
{
    az_config_init(cfg);
    return az_config_load(L, cfg, err);
}

static void test_precedence(lua_State *L)
{
    az_config cfg;
    az_error err;

    clear_env();
    const char *sys = temp_file("sys", "appliance_url: https://sys.example\n"
                                       "account: sysacct\nservice_id: svc\n"
                                       "jwt_host_id: apps/one\n");
    const char *rc = temp_file("rc", "conjur_account: rcacct\n"
                                     "credential_storage: none\n");
    setenv("AZCONJUR_SYSTEM_CONFIG", sys, 1);
    setenv("CONJURRC", rc, 1);

    CHECK(load(L, &cfg, &err) == 0, "files alone configure azure");
    CHECK(strcmp(az_config_get(&cfg, AZ_CFG_ACCOUNT), "rcacct") == 0,
          "conjurrc beats /etc/conjur.conf");
    CHECK(strcmp(cfg.login, "host/apps/one") == 0, "host/ prefix added");
    CHECK(cfg.authn == AZ_AUTHN_AZURE && cfg.timeout_s == 30,
          "azure and 30 s by default");
    az_config_free(&cfg);

    setenv("CONJUR_ACCOUNT", "envacct", 1);
    az_config_init(&cfg);
    az_config_set(&cfg, AZ_CFG_URL, "https://opt.example/", 20, "option 'url'",
                  &err);
    CHECK(az_config_load(L, &cfg, &err) == 0, "option and env load");
    CHECK(strcmp(az_config_get(&cfg, AZ_CFG_ACCOUNT), "envacct") == 0,
          "environment beats conjurrc");
    CHECK(strcmp(az_config_get(&cfg, AZ_CFG_URL), "https://opt.example") == 0,
          "option beats files");
    az_config_free(&cfg);

    setenv("CONJUR_AUTHN_API_KEY", "k3y", 1);
    setenv("CONJUR_AUTHN_LOGIN", "alice", 1);
    CHECK(load(L, &cfg, &err) == 0 && cfg.authn == AZ_AUTHN_API_KEY &&
              strcmp(cfg.login, "alice") == 0,
          "api key picks api-key; user login kept as given");
    az_config_free(&cfg);
    setenv("CONJUR_AUTHN_TOKEN_FILE", "/run/conjur/access-token", 1);
    CHECK(load(L, &cfg, &err) == 0 && cfg.authn == AZ_AUTHN_TOKEN_FILE,
          "token file wins the default");
    az_config_free(&cfg);

    unlink(sys);
    unlink(rc);
}

static int fails_with(lua_State *L, const char *needle)
{
    az_config cfg;
    az_error err;
    int rc = load(L, &cfg, &err);
    az_config_free(&cfg);
    if (rc == 0 || err.exit_code != AZ_EXIT_CONFIG ||
        !strstr(err.message, needle)) {
        printf("# got: %s\n", rc == 0 ? "success" : err.message);
        return 0;
    }
    return 1;
}

static void test_validation(lua_State *L)
{
    clear_env();
    CHECK(fails_with(L, "set CONJUR_APPLIANCE_URL"), "missing URL named");

    setenv("CONJUR_APPLIANCE_URL", "http://conjur.example.com", 1);
    CHECK(fails_with(L, "not loopback"), "plain http to a remote host");
    setenv("CONJUR_APPLIANCE_URL", "ftp://x", 1);
    CHECK(fails_with(L, "must start with https://"), "other schemes");
    setenv("CONJUR_APPLIANCE_URL", "http://127.0.0.1:8080", 1);
    CHECK(fails_with(L, "set CONJUR_SERVICE_ID"), "loopback http allowed");

    setenv("CONJUR_SERVICE_ID", "prod", 1);
    CHECK(fails_with(L, "CONJUR_AUTHN_JWT_HOST_ID"), "missing host id named");
    setenv("CONJUR_AUTHN_JWT_HOST_ID", "apps/x", 1);
    setenv("CONJUR_HTTP_TIMEOUT", "601", 1);
    CHECK(fails_with(L, "CONJUR_HTTP_TIMEOUT '601'"), "timeout range");
    unsetenv("CONJUR_HTTP_TIMEOUT");
    setenv("CONJUR_AUTHN_TYPE", "oidc", 1);
    CHECK(fails_with(L, "CONJUR_AUTHN_TYPE 'oidc'"), "unknown authn type");
    setenv("CONJUR_AUTHN_TYPE", "api-key", 1);
    CHECK(fails_with(L, "set CONJUR_AUTHN_LOGIN"), "api-key needs a login");
    unsetenv("CONJUR_AUTHN_TYPE");

    const char *bad = temp_file("bad", "- a list\n- not a map\n");
    setenv("CONJURRC", bad, 1);
    CHECK(fails_with(L, bad), "a file that is not a mapping is named");
    unlink(bad);
    clear_env();
}

static void test_token_parse(lua_State *L)
{
    /* {"iat":1000,"sub":"host/x","exp":1480} as URL-safe base64 */
    static const char json[] =
        "{\"protected\":\"eyJhbGciOiJ4In0=\",\"payload\":"
        "\"eyJpYXQiOjEwMDAsInN1YiI6Imhvc3QveCIsImV4cCI6MTQ4MH0=\","
        "\"signature\":\"c2ln\"}";
    az_token t = {0};
    az_error err;

    CHECK(az_token_parse(L, &t, json, strlen(json), "test", &err) == 0 &&
              t.iat == 1000 && t.exp == 1480,
          "token claims read");
    CHECK(t.b64.len > 0 && strncmp((char *)t.b64.data, "eyJwcm90", 8) == 0,
          "token base64 built");
    int64_t left = t.refresh_at - az_monotonic_ms();
    CHECK(left > 383000 && left <= 384000,
          "refresh at 80% of exp - iat on the monotonic clock");
    az_token_free(&t);

    CHECK(az_token_parse(L, &t, "  \n", 3, "test", &err) < 0 &&
              err.exit_code == AZ_EXIT_AUTHN,
          "empty token refused");
    CHECK(az_token_parse(L, &t, "{\"payload\":\"x\"}", 15, "test", &err) < 0,
          "token without signature refused");
    az_token_free(&t);
}

void suite_config(void)
{
    az_runtime rt;
    az_error err;
    lua_State *L = az_runtime_open(&rt, 0, &err);

    test_urls();
    test_precedence(L);
    test_validation(L);
    test_token_parse(L);
    CHECK(lua_gettop(L) == 0, "config leaves the stack clean");
    az_runtime_close(&rt);
    az_mask_clear(); /* the API key above went into the mask */
}
