/*
 * jwt.c - the unverified view of an access token: its shape, its claims,
 * and the xms_mirid claim split the way Conjur splits it.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <lauxlib.h>

#include "base64.h"
#include "jwt.h"
#include "runtime.h"

/* ---- shape and claims ---------------------------------------------------- */

static int is_b64url(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '=';
}

int az_jwt_check_shape(const char *jwt, size_t len, const char *what,
                       az_error *err)
{
    size_t part_len[3] = {0, 0, 0};
    int part = 0;

    if (len == 0)
        return az_fail(err, AZ_EXIT_IDENTITY, "bad_token", 0, "%s is empty",
                       what);
    if (len > AZ_JWT_MAX)
        return az_fail(err, AZ_EXIT_IDENTITY, "bad_token", 0,
                       "%s is longer than %d bytes", what, AZ_JWT_MAX);

    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)jwt[i];
        if (c == '.' && part < 2) {
            part++;
        } else if (is_b64url(c)) {
            part_len[part]++;
        } else {
            return az_fail(err, AZ_EXIT_IDENTITY, "bad_token", 0,
                           "%s is not a JWT: unexpected character at byte "
                           "%zu",
                           what, i + 1);
        }
    }
    if (part != 2 || !part_len[0] || !part_len[1])
        return az_fail(err, AZ_EXIT_IDENTITY, "bad_token", 0,
                       "%s is not a JWT: it needs three dot-separated parts",
                       what);
    return 0;
}

/* Replace t[key] by an integer when it is an integral number or digits. */
static void integer_claim(lua_State *L, int t, const char *key)
{
    lua_getfield(L, t, key); /* ... v */
    if (lua_type(L, -1) == LUA_TNUMBER && !lua_isinteger(L, -1)) {
        double d = lua_tonumber(L, -1);
        lua_Integer i;
        if (floor(d) == d && lua_numbertointeger(d, &i)) {
            lua_pushinteger(L, i); /* ... v i */
            lua_setfield(L, t, key);
        }
    } else if (lua_type(L, -1) == LUA_TSTRING) {
        size_t n;
        const char *s = lua_tolstring(L, -1, &n);
        lua_Integer v = 0;
        size_t i = 0;
        while (i < n && i < 15 && s[i] >= '0' && s[i] <= '9')
            v = v * 10 + (s[i++] - '0');
        if (n > 0 && i == n) {
            lua_pushinteger(L, v); /* ... v i */
            lua_setfield(L, t, key);
        }
    }
    lua_pop(L, 1); /* ... */
}

int az_jwt_push_claims(lua_State *L, const char *jwt, size_t len,
                       const char *what, int exit_code, az_error *err)
{
    if (az_jwt_check_shape(jwt, len, what, err) < 0) {
        err->exit_code = exit_code;
        return -1;
    }

    const char *dot1 = memchr(jwt, '.', len);
    const char *payload = dot1 + 1;
    const char *dot2 = memchr(payload, '.', len - (size_t)(payload - jwt));
    size_t plen = (size_t)(dot2 - payload);

    /* decode into a Lua box so nothing leaks if a memory error unwinds */
    unsigned char *box = lua_newuserdatauv(L, plen / 4 * 3 + 3, 0); /* box */
    size_t bad = 0;
    long n = az_b64_decode(payload, plen, box, &bad);
    if (n < 0) {
        lua_pop(L, 1);
        return az_fail(err, exit_code, "bad_token", 0,
                       "%s: the payload is not base64url", what);
    }

    char label[160];
    snprintf(label, sizeof label, "the payload of %s", what);
    if (az_json_decode(L, box, (size_t)n, label, exit_code, err) < 0) {
        lua_pop(L, 1);
        err->code = "bad_token";
        return -1;
    }
    lua_remove(L, -2); /* claims */
    if (!lua_istable(L, -1)) {
        lua_pop(L, 1);
        return az_fail(err, exit_code, "bad_token", 0,
                       "%s: the payload is not a JSON object", what);
    }

    int t = lua_gettop(L);
    integer_claim(L, t, "exp");
    integer_claim(L, t, "iat");
    integer_claim(L, t, "nbf");
    return 0;
}

/* ---- xms_mirid ----------------------------------------------------------- */

#define MIRID_MAX      2048
#define MIRID_PARTS    64
#define MIRID_KEYWORDS 3

typedef struct span {
    const char *p;
    size_t n;
} span;

static const char *const keywords[MIRID_KEYWORDS] = {
    "subscriptions", "resourcegroups", "providers"};

static int span_is(span s, const char *word)
{
    return s.n == strlen(word) && memcmp(s.p, word, s.n) == 0;
}

/* Conjur's unanchored regex: the element contains one of the keywords. */
static const char *starts_run(span s)
{
    for (int k = 0; k < MIRID_KEYWORDS; k++) {
        size_t kn = strlen(keywords[k]);
        for (size_t i = 0; i + kn <= s.n; i++) {
            if (memcmp(s.p + i, keywords[k], kn) == 0)
                return keywords[k];
        }
    }
    return NULL;
}

/* Split like Ruby's String#split('/'): trailing empty elements dropped. */
static int split_mirid(const char *text, span *parts)
{
    int count = 0;
    const char *p = text;

    for (;;) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        if (count == MIRID_PARTS)
            return -1;
        parts[count].p = p;
        parts[count].n = n;
        count++;
        if (!slash)
            break;
        p = slash + 1;
    }
    while (count > 0 && parts[count - 1].n == 0)
        count--;
    return count;
}

static int copy_field(char *dst, span s)
{
    if (s.n >= AZ_MIRID_FIELD)
        return -1;
    memcpy(dst, s.p, s.n);
    dst[s.n] = '\0';
    return 0;
}

static int refuse(az_mirid *out, const char *conjur_error, const char *fmt,
                  const char *a, const char *b)
{
    out->acceptable = 0;
    out->conjur_error = conjur_error;
    snprintf(out->reason, sizeof out->reason, fmt, a, b);
    return -1;
}

typedef struct runs {
    int start[MIRID_KEYWORDS]; /* index of the keyword element, or -1 */
    int len[MIRID_KEYWORDS];   /* elements after the keyword */
    span odd;                  /* an element holding a keyword inside it */
} runs;

static void find_runs(const span *parts, int count, runs *r)
{
    int current = -1, current_start = 0;

    memset(&r->odd, 0, sizeof r->odd);
    for (int k = 0; k < MIRID_KEYWORDS; k++)
        r->start[k] = -1, r->len[k] = 0;

    for (int i = 0; i <= count; i++) {
        int boundary = i == count || starts_run(parts[i]);
        if (!boundary)
            continue;
        if (current >= 0) {
            r->start[current] = current_start; /* the last run of a key wins */
            r->len[current] = i - current_start - 1;
        }
        if (i == count)
            break;
        current = -1;
        current_start = i;
        for (int k = 0; k < MIRID_KEYWORDS; k++) {
            if (span_is(parts[i], keywords[k]))
                current = k;
        }
        if (current < 0 && !r->odd.p)
            r->odd = parts[i];
    }
}

static void fill_providers(az_mirid *out, const span *parts, const runs *r)
{
    int s = r->start[2], n = r->len[2];

    out->provider_count = n;
    for (int i = 1; i <= n; i++) {
        if (span_is(parts[s + i], "Microsoft.ManagedIdentity"))
            out->user_assigned = 1;
    }
    if (n >= 1)
        copy_field(out->provider_namespace, parts[s + 1]);
    if (n >= 2)
        copy_field(out->provider_type, parts[s + 2]);
    if (n >= 3)
        copy_field(out->name, parts[s + n]);
}

int az_mirid_parse(const char *mirid, az_mirid *out)
{
    span parts[MIRID_PARTS];
    runs r;

    memset(out, 0, sizeof *out);
    if (!mirid || !*mirid)
        return refuse(out, "CONJ00053E", "xms_mirid is empty%s%s", "", "");
    if (strlen(mirid) > MIRID_MAX)
        return refuse(out, NULL, "xms_mirid is longer than 2048 bytes%s%s", "",
                      "");

    int count = split_mirid(mirid, parts);
    if (count < 0)
        return refuse(out, NULL, "xms_mirid has more than 64 elements%s%s", "",
                      "");
    span *el = parts;
    if (count > 0 && el[0].n == 0)
        el++, count--; /* the leading slash */

    find_runs(el, count, &r);
    if (r.start[0] >= 0 && r.len[0] > 0)
        copy_field(out->subscription, el[r.start[0] + 1]);
    if (r.start[1] >= 0 && r.len[1] > 0)
        copy_field(out->resource_group, el[r.start[1] + 1]);
    if (r.start[2] >= 0)
        fill_providers(out, el, &r);

    char odd[AZ_MIRID_FIELD] = "";
    if (r.odd.p)
        snprintf(odd, sizeof odd, "%.*s", (int)r.odd.n, r.odd.p);

    int missing = -1;
    for (int k = MIRID_KEYWORDS - 1; k >= 0; k--) {
        if (r.start[k] < 0 || r.len[k] == 0)
            missing = k;
    }
    if (missing < 0 && r.len[2] == 3) {
        out->acceptable = 1;
        return 0;
    }

    if (odd[0])
        return refuse(out, NULL,
                      "the element '%s' contains one of Conjur's keywords "
                      "(subscriptions, resourcegroups, providers), so "
                      "Conjur's parser starts a new section there and "
                      "refuses the token%s",
                      odd, "");
    if (missing >= 0)
        return refuse(out, "CONJ00053E",
                      "xms_mirid has no '%s' element followed by a value%s",
                      keywords[missing], "");

    char n[16];
    snprintf(n, sizeof n, "%d", r.len[2]);
    return refuse(out, "CONJ00054E",
                  "the providers part has %s elements; Conjur accepts "
                  "exactly three (namespace/type/name), so slots and "
                  "nested resources cannot authenticate%s",
                  n, "");
}
