/*
 * test_jwt.c - the JWT shape check, claim decoding, and Conjur's reading
 * of xms_mirid for every shape of reference §10.3 and conjur.md §3.2.
 */
#include <string.h>

#include <lauxlib.h>

#include "jwt.h"
#include "runtime.h"
#include "tap.h"

#define SUB "/subscriptions/662a4fee-0000-4000-8000-000000000001"

static az_mirid m;

static int accepts(const char *mirid)
{
    return az_mirid_parse(mirid, &m) == 0 && m.acceptable;
}

static int refuses(const char *mirid, const char *conjur_error,
                   const char *reason_part)
{
    if (az_mirid_parse(mirid, &m) == 0 || m.acceptable)
        return 0;
    if (conjur_error &&
        (!m.conjur_error || strcmp(m.conjur_error, conjur_error) != 0))
        return 0;
    return strstr(m.reason, reason_part) != NULL;
}

static void mirid_accepted(void)
{
    CHECK(accepts(SUB "/resourcegroups/Default-RG/providers/"
                      "Microsoft.Compute/virtualMachines/it-vm"),
          "mirid: VM system identity accepted");
    CHECK(strcmp(m.subscription, "662a4fee-0000-4000-8000-000000000001") == 0 &&
              strcmp(m.resource_group, "Default-RG") == 0 &&
              strcmp(m.provider_namespace, "Microsoft.Compute") == 0 &&
              strcmp(m.provider_type, "virtualMachines") == 0 &&
              strcmp(m.name, "it-vm") == 0 && !m.user_assigned &&
              m.provider_count == 3,
          "mirid: VM fields, group keeps its case");

    CHECK(accepts(SUB "/resourcegroups/rg/providers/"
                      "Microsoft.ManagedIdentity/userAssignedIdentities/"
                      "uami1"),
          "mirid: user-assigned accepted");
    CHECK(m.user_assigned && strcmp(m.name, "uami1") == 0,
          "mirid: user-assigned name is the last element");

    CHECK(accepts(SUB "/resourcegroups/rg/providers/Microsoft.Web/sites/app"),
          "mirid: App Service site accepted");
    CHECK(accepts(SUB "/resourcegroups/rg/providers/"
                      "Microsoft.ContainerInstance/containerGroups/cg"),
          "mirid: container group accepted");
    CHECK(accepts(SUB "/resourcegroups/rg/providers/"
                      "Microsoft.Compute/virtualMachineScaleSets/ss"),
          "mirid: scale set accepted");
    CHECK(accepts(SUB "/resourcegroups/OnPrem-RG/providers/"
                      "Microsoft.HybridCompute/machines/arc1"),
          "mirid: Arc machine accepted");
    CHECK(accepts(SUB "/resourcegroups/rg/providers/"
                      "Microsoft.ContainerService/managedClusters/aks"),
          "mirid: AKS cluster accepted");
    CHECK(accepts(SUB "/resourcegroups/rg/providers/Microsoft.App/"
                      "containerApps/app"),
          "mirid: container app accepted");
    CHECK(accepts("subscriptions/s/resourcegroups/rg/providers/A/b/c"),
          "mirid: leading slash optional");
    CHECK(accepts(SUB "/resourcegroups/rg/providers/A/b/c/"),
          "mirid: trailing slash dropped like Ruby's split");
}

static void mirid_refused(void)
{
    CHECK(refuses(SUB "/resourcegroups/rg/providers/Microsoft.Web/sites/app/"
                      "slots/staging",
                  "CONJ00054E", "5 elements"),
          "mirid: App Service slot refused (five provider elements)");
    CHECK(strcmp(m.name, "staging") == 0 && m.provider_count == 5,
          "mirid: slot fields still filled");
    CHECK(refuses(SUB "/resourcegroups/rg/providers/"
                      "Microsoft.ManagedIdentity/uami",
                  "CONJ00054E", "2 elements"),
          "mirid: two provider elements refused");
    CHECK(refuses(SUB "/resourceGroups/rg/providers/A/b/c", "CONJ00053E",
                  "'resourcegroups'"),
          "mirid: camel-case resourceGroups refused (case-sensitive)");
    CHECK(refuses("/resourcegroups/rg/providers/A/b/c", "CONJ00053E",
                  "'subscriptions'"),
          "mirid: missing subscriptions refused");
    CHECK(refuses(SUB "/resourcegroups/rg", "CONJ00053E", "'providers'"),
          "mirid: missing providers refused");
    CHECK(refuses(SUB "/resourcegroups/my-providers-rg/providers/A/b/c", NULL,
                  "'my-providers-rg'"),
          "mirid: a group name holding a keyword breaks the parse");
    CHECK(refuses(SUB "/resourcegroups/rg/providers/A/b/subscriptionsvm", NULL,
                  "'subscriptionsvm'"),
          "mirid: a resource name holding a keyword breaks the parse");
    CHECK(refuses("", "CONJ00053E", "empty"), "mirid: empty refused");
    CHECK(refuses("not a mirid", "CONJ00053E", "'subscriptions'"),
          "mirid: junk refused");
}

static const char *const good_jwt =
    /* {"alg":"none"} . {"exp":1796406227,"iat":"1796319827","oid":"o1"} */
    "eyJhbGciOiJub25lIn0."
    "eyJleHAiOjE3OTY0MDYyMjcsImlhdCI6IjE3OTYzMTk4MjciLCJvaWQiOiJvMSJ9.sig";

static int shape_ok(const char *t)
{
    az_error err;
    return az_jwt_check_shape(t, strlen(t), "the token", &err) == 0;
}

static void jwt_shape(void)
{
    az_error err;

    CHECK(shape_ok(good_jwt), "jwt: three parts accepted");
    CHECK(shape_ok("a.b."), "jwt: empty signature accepted");
    CHECK(!shape_ok("a.b"), "jwt: two parts refused");
    CHECK(!shape_ok("a.b.c.d"), "jwt: four parts refused");
    CHECK(!shape_ok(".b.c"), "jwt: empty header refused");
    CHECK(!shape_ok("a b.c.d"), "jwt: space refused");
    CHECK(az_jwt_check_shape("a+b.c.d", 7, "CONJUR_AUTHN_JWT_TOKEN", &err) <
                  0 &&
              strstr(err.message, "CONJUR_AUTHN_JWT_TOKEN") &&
              strstr(err.message, "byte 2") && !strstr(err.message, "a+b"),
          "jwt: message names the variable and offset, not the token");
}

static void jwt_claims(void)
{
    az_runtime rt;
    az_error err;
    lua_State *L = az_runtime_open(&rt, 0, &err);
    int isint = 0;

    CHECK(az_jwt_push_claims(L, good_jwt, strlen(good_jwt), "t", 4, &err) == 0,
          "jwt: claims decoded");
    lua_getfield(L, -1, "exp");
    CHECK(lua_isinteger(L, -1) && lua_tointeger(L, -1) == 1796406227,
          "jwt: exp is an integer");
    lua_getfield(L, -2, "iat");
    isint = lua_isinteger(L, -1);
    CHECK(isint && lua_tointeger(L, -1) == 1796319827,
          "jwt: iat as a string becomes an integer");
    lua_settop(L, 0);

    const char *bad = "eyJhbGciOiJub25lIn0.bm90IGpzb24.sig"; /* "not json" */
    CHECK(az_jwt_push_claims(L, bad, strlen(bad), "t", 4, &err) < 0 &&
              lua_gettop(L) == 0 && err.exit_code == 4,
          "jwt: non-JSON payload refused, stack clean");
    const char *arr = "eyJhbGciOiJub25lIn0.WzFd.sig"; /* [1] */
    CHECK(az_jwt_push_claims(L, arr, strlen(arr), "t", 4, &err) < 0 &&
              lua_gettop(L) == 0,
          "jwt: non-object payload refused");
    az_runtime_close(&rt);
}

void suite_jwt(void)
{
    mirid_accepted();
    mirid_refused();
    jwt_shape();
    jwt_claims();
}
