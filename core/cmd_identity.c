/*
 * cmd_identity.c - `azconjur identity [--resource R] [--json]`: obtain the
 * platform token and describe the identity it carries, with the Conjur
 * host annotations that would match it.  Never prints the token.
 *
 * The command is thin: the token comes from az_identity_get, the claims
 * from az_jwt_push_claims and the reading of xms_mirid from
 * az_mirid_parse, the same calls the `azure` module and `doctor` make.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <lauxlib.h>

#include "azure_time.h"
#include "cli.h"
#include "identity.h"
#include "jwt.h"
#include "log.h"
#include "runtime.h"

#define V1_ISSUER    "https://sts.windows.net/"
#define MAX_WARNINGS 6

typedef struct report {
    const az_platform_token *tok;
    const char *resource;
    const char *iss, *tid, *oid, *appid, *mirid; /* owned by the claims */
    az_mirid m;
    int have_mirid;
    const char *warnings[MAX_WARNINGS];
    char warning_text[MAX_WARNINGS][512];
    int nwarnings;
} report;

static void warn_report(report *r, const char *fmt, const char *a)
{
    if (r->nwarnings == MAX_WARNINGS)
        return;
    snprintf(r->warning_text[r->nwarnings], sizeof r->warning_text[0], fmt, a);
    r->warnings[r->nwarnings] = r->warning_text[r->nwarnings];
    r->nwarnings++;
}

static const char *claim(lua_State *L, int t, const char *key)
{
    const char *s = NULL;
    size_t n;
    return az_json_get_string(L, t, key, &s, &n) == 0 && n ? s : NULL;
}

/* The claims table stays on the stack while r is used.  MAY_LJMP */
static void read_claims(lua_State *L, int t, report *r)
{
    r->iss = claim(L, t, "iss");
    r->tid = claim(L, t, "tid");
    r->oid = claim(L, t, "oid");
    r->appid = claim(L, t, "appid");
    r->mirid = claim(L, t, "xms_mirid");

    if (!r->iss || strncmp(r->iss, V1_ISSUER, strlen(V1_ISSUER)) != 0)
        warn_report(r,
                    "the issuer is '%s'; Conjur authn-azure accepts only v1 "
                    "tokens from https://sts.windows.net/<tenant>/",
                    r->iss ? r->iss : "(none)");
    if (!r->oid)
        warn_report(r, "%s", "the token has no 'oid' claim; Conjur refuses it");
    if (!r->mirid) {
        warn_report(r, "%s",
                    "the token has no 'xms_mirid' claim; Conjur refuses it "
                    "(is this a managed identity?)");
        return;
    }
    r->have_mirid = 1;
    if (az_mirid_parse(r->mirid, &r->m) < 0)
        warn_report(r, "Conjur will refuse this xms_mirid: %s", r->m.reason);
}

/* ---- text output ----------------------------------------------------------
 */

/* A YAML scalar: plain when safe, else single-quoted. */
static void print_scalar(const char *s)
{
    int plain = *s != '\0';
    for (const char *p = s; *p && plain; p++) {
        unsigned char c = (unsigned char)*p;
        plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                (c >= '0' && c <= '9') || strchr("-_.()", c);
    }
    if (plain && strchr("-.", *s) == NULL) {
        fputs(s, stdout);
        return;
    }
    putchar('\'');
    for (const char *p = s; *p; p++) {
        if (*p == '\'')
            putchar('\'');
        putchar(*p);
    }
    putchar('\'');
}

static void print_remaining(int64_t seconds)
{
    if (seconds < 0)
        printf("expired");
    else if (seconds >= 3600)
        printf("in %lldh %02lldm", (long long)(seconds / 3600),
               (long long)(seconds % 3600 / 60));
    else
        printf("in %lldm %02llds", (long long)(seconds / 60),
               (long long)(seconds % 60));
}

static void print_field(const char *name, const char *value)
{
    printf("%-16s%s\n", name, value && *value ? value : "(none)");
}

static void print_identity_kind(const report *r)
{
    const az_mirid *m = &r->m;

    if (!r->have_mirid) {
        print_field("identity", "unknown (no xms_mirid)");
        return;
    }
    if (m->user_assigned)
        printf("%-16suser-assigned '%s'\n", "identity", m->name);
    else
        printf("%-16ssystem-assigned, of %s/%s '%s'\n", "identity",
               m->provider_namespace, m->provider_type, m->name);
}

static void print_policy(const report *r)
{
    const az_mirid *m = &r->m;

    if (!r->have_mirid || !m->acceptable || !r->oid) {
        printf("\nNo Conjur host policy: authn-azure would refuse this "
               "token (see the warnings).\n");
        return;
    }
    printf("\nConjur host policy (choose the id; add the host to the group "
           "allowed to\nauthenticate with your authn-azure service):\n\n");
    printf("- !host\n  id: <choose-a-name>\n  annotations:\n");
    printf("    authn-azure/subscription-id: ");
    print_scalar(m->subscription);
    printf("\n    authn-azure/resource-group: ");
    print_scalar(m->resource_group);
    if (m->user_assigned) {
        printf("\n    authn-azure/user-assigned-identity: ");
        print_scalar(m->name);
    } else {
        printf("\n    authn-azure/system-assigned-identity: ");
        print_scalar(r->oid);
    }
    printf("\n");
}

static void print_text(const report *r)
{
    const az_platform_token *tok = r->tok;
    char when[32];

    print_field("source", tok->source);
    print_field("endpoint", tok->endpoint);
    print_field("resource", r->resource);
    az_format_utc(tok->expires_on, when, sizeof when);
    printf("%-16s%s (", "expires", when);
    print_remaining(tok->expires_on - (int64_t)time(NULL));
    printf(")\n");
    print_field("issuer", r->iss);
    print_field("tenant", r->tid);
    print_field("client id", r->appid);
    print_field("object id", r->oid);
    print_field("xms_mirid", r->mirid);
    print_field("subscription", r->m.subscription);
    print_field("resource group", r->m.resource_group);
    print_identity_kind(r);
    print_policy(r);
    if (r->nwarnings)
        putchar('\n');
    for (int i = 0; i < r->nwarnings; i++)
        printf("warning: %s\n", r->warnings[i]);
}

/* ---- JSON output ----------------------------------------------------------
 */

static void set_str(lua_State *L, const char *key, const char *value)
{
    if (value && *value) {
        lua_pushstring(L, value);
        lua_setfield(L, -2, key);
    }
}

/* MAY_LJMP */
static int print_json(lua_State *L, const report *r)
{
    const az_mirid *m = &r->m;
    char when[32];
    az_error err;

    lua_createtable(L, 0, 16); /* o */
    set_str(L, "source", r->tok->source);
    set_str(L, "endpoint", r->tok->endpoint);
    set_str(L, "resource", r->resource);
    lua_pushinteger(L, (lua_Integer)r->tok->expires_on);
    lua_setfield(L, -2, "expires_on");
    az_format_utc(r->tok->expires_on, when, sizeof when);
    set_str(L, "expires_at", when);
    set_str(L, "issuer", r->iss);
    set_str(L, "tenant", r->tid);
    set_str(L, "client_id", r->appid);
    set_str(L, "object_id", r->oid);
    set_str(L, "xms_mirid", r->mirid);
    set_str(L, "subscription", m->subscription);
    set_str(L, "resource_group", m->resource_group);
    if (r->have_mirid) {
        set_str(L, "identity_kind",
                m->user_assigned ? "user-assigned" : "system-assigned");
        set_str(L, "identity_name", m->name);
        lua_pushboolean(L, m->acceptable);
        lua_setfield(L, -2, "conjur_accepts_xms_mirid");
    }

    if (r->have_mirid && m->acceptable && r->oid) {
        lua_createtable(L, 0, 3); /* o ann */
        set_str(L, "authn-azure/subscription-id", m->subscription);
        set_str(L, "authn-azure/resource-group", m->resource_group);
        if (m->user_assigned)
            set_str(L, "authn-azure/user-assigned-identity", m->name);
        else
            set_str(L, "authn-azure/system-assigned-identity", r->oid);
        lua_setfield(L, -2, "annotations"); /* o */
    }

    /* only when there are any: lua-cjson writes an empty table as {} */
    if (r->nwarnings) {
        lua_createtable(L, r->nwarnings, 0); /* o w */
        for (int i = 0; i < r->nwarnings; i++) {
            lua_pushstring(L, r->warnings[i]);
            lua_rawseti(L, -2, i + 1);
        }
        lua_setfield(L, -2, "warnings"); /* o */
    }

    if (az_json_encode(L, -1, &err) < 0) {
        az_error_log("%s", err.message);
        return AZ_EXIT_RUNTIME;
    }
    printf("%s\n", lua_tostring(L, -1));
    lua_pop(L, 2); /* - */
    return AZ_EXIT_OK;
}

/* ---- the command ----------------------------------------------------------
 */

static int parse_args(int argc, char **argv, const char **resource, int *json)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--json") == 0) {
            *json = 1;
        } else if (strcmp(a, "--resource") == 0) {
            if (i + 1 >= argc || !argv[i + 1][0])
                return az_usage_error("--resource needs a value");
            *resource = argv[++i];
        } else if (strncmp(a, "--resource=", 11) == 0 && a[11]) {
            *resource = a + 11;
        } else {
            return az_usage_error("identity: unexpected argument '%s' "
                                  "(usage: identity [--resource R] [--json])",
                                  a);
        }
    }
    return 0;
}

/* MAY_LJMP (memory errors only; nothing is held across them) */
int az_cmd_identity(lua_State *L, int argc, char **argv)
{
    az_identity_request req;
    report r;
    az_error err;
    int json = 0;

    memset(&req, 0, sizeof req);
    memset(&r, 0, sizeof r);
    int rc = parse_args(argc, argv, &req.resource, &json);
    if (rc)
        return rc;

    if (az_identity_request_from_env(&req, &err) < 0 ||
        az_identity_get(L, &req, &r.tok, &err) < 0) {
        az_error_log("%s", err.message);
        return err.exit_code;
    }
    r.resource = req.resource;

    if (az_jwt_push_claims(L, r.tok->jwt, r.tok->jwt_len, "the platform token",
                           AZ_EXIT_IDENTITY, &err) < 0) {
        az_error_log("%s", err.message);
        return err.exit_code;
    }
    read_claims(L, lua_gettop(L), &r); /* claims */

    rc = AZ_EXIT_OK;
    if (json)
        rc = print_json(L, &r);
    else
        print_text(&r);
    lua_pop(L, 1); /* - */
    if (fflush(stdout) != 0) {
        az_error_log("cannot write to stdout");
        return AZ_EXIT_RUNTIME;
    }
    return rc;
}
