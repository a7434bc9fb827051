-- cmd/doctor.lua - `azconjur doctor [ID]`: walk every step and say what is
-- wrong.
--
-- Conjur refuses an Azure login with a bare 401 and keeps the reason in its
-- own log, so this command repeats what it can of the server's checks on
-- this side: the configuration, the identity source and the platform
-- token's claims (issuer, expiry, xms_mirid, oid), Conjur's reachability
-- and TLS, whether the authenticator is enabled, authentication itself,
-- the authenticator's health, the host's annotations against the token,
-- and optionally one secret.  One line per step, hints under a failure.
--
-- The host's annotations can be read only with a Conjur token: the host's
-- own (after it authenticated), or one given with --reader-token-file.
-- Without either, a refused login gets the annotations the host must carry.
--
-- Never printed: platform token, Conjur token, API key, secret values.

local azure = require "azure"
local conjur = require "conjur"
local diag = require "azconjur.diag"
local env = require "env"
local json = require "json"
local rules = require "doctor_rules"

local M = {}

M.usage = [[
usage: azconjur doctor [--json] [--reader-token-file FILE] [ID]

Check configuration, Azure identity, platform token, Conjur reachability and
TLS, the authenticator, authentication and (with ID) one secret; explain
what fails and what to change.  Exit 0 when every step passes, else the
exit code of the first failing step.

  --json                    one JSON object instead of text
  --reader-token-file FILE  a Conjur access token (as for
                            CONJUR_AUTHN_TOKEN_FILE) of a role that may read
                            the host, to compare its annotations with the
                            token when the host itself cannot log in
  -h, --help                this help
]]

-- Doctor should answer quickly off Azure: a shorter identity deadline
-- unless the user chose one.
M.IDENTITY_TIMEOUT = 15

local V1_ISSUER = "^https://sts%.windows%.net/[^/]+/$"

local function usage_error(fmt, ...)
  error(setmetatable({ code = "usage", exit_code = 2, message = fmt:format(...) },
    { __tostring = function(e) return e.message end }), 0)
end

function M.parse_args(args)
  local opts = {}
  local i = 2
  while args[i] do
    local a = args[i]
    if a == "--json" then
      opts.json = true
    elseif a == "--reader-token-file" then
      i = i + 1
      opts.reader = args[i] or usage_error("doctor: --reader-token-file needs a file")
    elseif a:match("^%-%-reader%-token%-file=") then
      opts.reader = a:match("=(.*)$")
    elseif a == "-h" or a == "--help" then
      opts.help = true
    elseif a == "--" then
      opts.id = args[i + 1]
      if args[i + 2] then usage_error("doctor: at most one ID") end
      break
    elseif a:sub(1, 1) == "-" then
      usage_error("doctor: unknown option '%s' (see azconjur doctor --help)", a)
    elseif opts.id then
      usage_error("doctor: at most one ID")
    else
      opts.id = a
    end
    i = i + 1
  end
  return opts
end

-- ---- the report ------------------------------------------------------------

local Report = {}
Report.__index = Report

local function new_report()
  return setmetatable({ steps = {}, exit_code = 0 }, Report)
end

function Report:add(name, status, detail, hints, code)
  local step = { name = name, status = status, detail = detail or "", hints = hints or {} }
  self.steps[#self.steps + 1] = step
  if status == "fail" and self.exit_code == 0 then
    self.exit_code = code or 1
  end
  return step
end

function Report:ok(name, detail, notes) return self:add(name, "ok", detail, notes) end
function Report:skip(name, why) return self:add(name, "skip", why) end
function Report:fail(name, code, detail, hints)
  return self:add(name, "fail", detail, hints, code)
end

function Report:text()
  local out = {}
  for _, s in ipairs(self.steps) do
    out[#out + 1] = ("%-5s %-20s %s"):format(s.status, s.name, s.detail)
    local label = s.status == "fail" and "hint: " or "note: "
    for _, h in ipairs(s.hints) do
      out[#out + 1] = "      " .. label .. h
    end
  end
  return table.concat(out, "\n") .. "\n"
end

-- lua-cjson writes an empty table as {}, so the arrays are joined here;
-- every string still goes through json.encode.
function Report:json()
  local steps = {}
  for _, s in ipairs(self.steps) do
    local hints = {}
    for i, h in ipairs(s.hints) do hints[i] = json.encode(h) end
    steps[#steps + 1] = ('{"name":%s,"status":%s,"detail":%s,"hints":[%s]}'):format(
      json.encode(s.name), json.encode(s.status), json.encode(s.detail),
      table.concat(hints, ","))
  end
  return ('{"ok":%s,"exit_code":%d,"steps":[%s]}\n'):format(
    tostring(self.exit_code == 0), self.exit_code, table.concat(steps, ","))
end

-- ---- helpers ---------------------------------------------------------------

local function message(e)
  return type(e) == "table" and tostring(e.message) or tostring(e)
end

local function exit_code(e, default)
  return type(e) == "table" and math.tointeger(e.exit_code) or default
end

local function utc(epoch)
  return os.date("!%Y-%m-%dT%H:%M:%SZ", epoch)
end

local function span(seconds)
  if seconds >= 3600 then
    return ("%dh %02dm"):format(seconds // 3600, seconds % 3600 // 60)
  end
  return ("%dm %02ds"):format(seconds // 60, seconds % 60)
end

local function is_cloud(url)
  local host = url:match("^https?://([^/:]+)") or ""
  return host:match("%.secretsmgr%.cyberark%.cloud$") ~= nil
    or host:match("%-secretsmanager%.cyberark%.cloud$") ~= nil
end

-- ---- configuration ---------------------------------------------------------

local function check_config(r, ctx)
  local ok, cfg = pcall(diag.config)
  if not ok then
    r:fail("configuration", exit_code(cfg, 3), message(cfg), {
      "settings come from the command line, the environment, $CONJURRC or "
        .. "~/.conjurrc, then /etc/conjur.conf (docs/configuration.md)" })
    return
  end
  ctx.cfg = cfg
  local v, o = cfg.values, cfg.origins
  local notes = {}
  for _, name in ipairs({ "url", "account", "service_id", "host_id", "login",
    "authn_type", "client_id", "object_id", "resource_id", "resource", "cert_file",
    "ssl_certificate", "token_file" }) do
    if v[name] ~= nil and not (name == "login" and v.host_id) then
      local shown = v[name] == true and "(set)" or v[name]
      notes[#notes + 1] = ("%s = %s (from %s)"):format(name, shown, o[name])
    end
  end

  local detail = ("%s account=%s authn=%s"):format(v.url, v.account, cfg.authn)
  if cfg.authn == "azure" then
    detail = detail .. (" service=%s host=%s"):format(v.service_id, cfg.login)
  elseif cfg.login then
    detail = detail .. " login=" .. cfg.login
  end
  if cfg.authn == "azure" and is_cloud(v.url) and not cfg.login:match("^host/data/") then
    notes[#notes + 1] = "Conjur Cloud keeps workloads under data/: the host id is "
      .. "usually data/<branch>/<name>; '" .. cfg.login .. "' is not under data/"
  end
  if cfg.authn == "azure" and cfg.login:match("^host/host/") then
    notes[#notes + 1] = "the login '" .. cfg.login .. "' has 'host/' twice; give the host id "
      .. "with at most one 'host/' prefix"
  end
  r:ok("configuration", detail, notes)
end

-- ---- identity source and platform token ------------------------------------

local SOURCE_VARS = {
  static = "CONJUR_AUTHN_JWT_TOKEN is set: the token is taken from it as is",
  app_service = "IDENTITY_ENDPOINT and IDENTITY_HEADER are set (App Service, Functions)",
  arc = "IDENTITY_ENDPOINT and IMDS_ENDPOINT are set (Azure Arc)",
  app_service_2017 = "MSI_ENDPOINT and MSI_SECRET are set (legacy App Service, Azure ML)",
}

local function check_source(r, ctx)
  local name = azure.source()
  if name == "invalid" then
    local _, e = pcall(azure.token, { timeout = 1 })
    r:fail("identity source", exit_code(e, 4), message(e), {
      "fix or unset the platform variables named above (IDENTITY_ENDPOINT, "
        .. "IDENTITY_HEADER, IMDS_ENDPOINT, MSI_ENDPOINT, MSI_SECRET)" })
    return
  end
  ctx.source = name
  local why = SOURCE_VARS[name]
  if not why then
    why = "none of CONJUR_AUTHN_JWT_TOKEN, IDENTITY_ENDPOINT, MSI_ENDPOINT is set: "
      .. "asking IMDS at " .. (env.get("AZURE_POD_IDENTITY_AUTHORITY_HOST")
      or "http://169.254.169.254")
  end
  r:ok("identity source", name, { why })
end

local function token_options(ctx)
  local v = ctx.cfg and ctx.cfg.values or {}
  local opts = { client_id = v.client_id, object_id = v.object_id,
    resource_id = v.resource_id, resource = v.resource }
  if not env.get("AZCONJUR_IDENTITY_TIMEOUT") then
    opts.timeout = M.IDENTITY_TIMEOUT
  end
  return opts
end

local function selector_note(ctx)
  local v = ctx.cfg and ctx.cfg.values or {}
  for _, k in ipairs({ "client_id", "object_id", "resource_id" }) do
    if v[k] then
      return ("the user-assigned identity is selected by %s = %s (from %s)"):format(
        k, v[k], ctx.cfg.origins[k])
    end
  end
  return "no selector is set, so the platform's default (system-assigned) identity is used"
end

local function token_failure_hints(ctx, e)
  local text = message(e)
  local hints = {}
  if text:find("Identity not found", 1, true) then
    hints[#hints + 1] = "the platform has no managed identity to give: enable the "
      .. "system-assigned identity of this resource, or assign the user-assigned one"
    hints[#hints + 1] = selector_note(ctx)
  elseif text:find("expired at", 1, true) then
    hints[#hints + 1] = "Conjur would refuse an expired token too (CONJ00016E): check this "
      .. "host's clock (date -u); if CONJUR_AUTHN_JWT_TOKEN is set, get a fresh token"
  end
  if text:find("no managed identity endpoint answered", 1, true) then
    hints[#hints + 1] = "off Azure there is no IMDS: set CONJUR_AUTHN_JWT_TOKEN to a "
      .. "token obtained elsewhere, or the variables of your platform"
  end
  if text:find("^no token") then
    hints[#hints + 1] = ("doctor waits %s s for a platform token (set "
      .. "AZCONJUR_IDENTITY_TIMEOUT to wait longer)"):format(
      env.get("AZCONJUR_IDENTITY_TIMEOUT") or M.IDENTITY_TIMEOUT)
  end
  return hints
end

-- Conjur's claim checks (reference: conjur.md §3.1 step 8), locally.
local NBF_LEEWAY = 30

function M.judge_claims(claims, now)
  local problems = {}
  local iss = claims.iss
  if type(iss) ~= "string" or not iss:match(V1_ISSUER) then
    problems[#problems + 1] = ("the issuer is '%s', not a v1 issuer "
      .. "https://sts.windows.net/<tenant>/; Conjur compares it with its provider-uri "
      .. "and refuses the token (CONJ00035E): request a v1 token, e.g. for resource "
      .. "https://management.azure.com/ (CONJUR_AUTHN_AZURE_RESOURCE)"):format(tostring(iss))
  end
  local exp = math.tointeger(claims.exp)
  if exp and exp <= now then
    problems[#problems + 1] = ("the token expired at %s (exp), %s ago; Conjur refuses "
      .. "it (CONJ00016E): if CONJUR_AUTHN_JWT_TOKEN is set, get a fresh token, else "
      .. "check this host's clock (date -u)"):format(utc(exp), span(now - exp))
  end
  -- A few seconds between this host's clock and the issuer's are normal
  -- (time() even lags the precise clock by a tick); flag real skew only.
  local nbf = math.tointeger(claims.nbf)
  if nbf and nbf > now + NBF_LEEWAY then
    problems[#problems + 1] = ("the token is not valid before %s (nbf); check this "
      .. "host's clock"):format(utc(nbf))
  end
  if type(claims.oid) ~= "string" or claims.oid == "" then
    problems[#problems + 1] = "the token has no 'oid' claim; Conjur requires it (CONJ00051E)"
  end
  local mirid
  if type(claims.xms_mirid) ~= "string" or claims.xms_mirid == "" then
    problems[#problems + 1] = "the token has no 'xms_mirid' claim; Conjur requires it "
      .. "(CONJ00051E): only managed-identity tokens carry it (not a user's or an app "
      .. "registration's token)"
  else
    mirid = azure.mirid(claims.xms_mirid)
    if not mirid.acceptable then
      local text = ("Conjur cannot read xms_mirid '%s': %s (%s)"):format(
        claims.xms_mirid, mirid.reason, mirid.conjur_error or "401")
      if claims.xms_mirid:find("/slots/", 1, true) then
        text = text .. "; App Service deployment slots have five provider segments "
          .. "and Conjur accepts three: give the slot a user-assigned identity and "
          .. "select it (CONJUR_AUTHN_AZURE_CLIENT_ID)"
      end
      problems[#problems + 1] = text
    end
  end
  return problems, mirid
end

local function check_token(r, ctx)
  local ok, tok = pcall(azure.token, token_options(ctx))
  if not ok then
    r:fail("platform token", exit_code(tok, 4), message(tok), token_failure_hints(ctx, tok))
    return
  end
  local claims = tok:claims()
  tok:close()
  local now = os.time()
  local problems, mirid = M.judge_claims(claims, now)
  ctx.claims = claims
  if mirid and mirid.acceptable and type(claims.oid) == "string" then
    ctx.facts = rules.token_facts({ subscription = mirid.subscription,
      resource_group = mirid.resource_group, name = mirid.name,
      user_assigned = mirid.identity_kind == "user-assigned" }, claims.oid)
    ctx.mirid = mirid
  end

  local who = "no xms_mirid"
  if mirid then
    who = mirid.identity_kind == "user-assigned"
      and ("user-assigned '%s'"):format(mirid.name or "?")
      or ("system-assigned (oid %s)"):format(tostring(claims.oid))
    who = who .. (" subscription=%s group=%s"):format(tostring(mirid.subscription),
      tostring(mirid.resource_group))
  end
  local exp = math.tointeger(claims.exp) or tok.expires_on
  local when = exp > now and ("expires in " .. span(exp - now)) or "expired"
  local detail = ("from %s, %s, %s"):format(tok.source, when, who)
  if #problems > 0 then
    ctx.token_refused = true
    r:fail("platform token", 4, detail .. "; Conjur will refuse it", problems)
  else
    ctx.token_ok = true
    r:ok("platform token", detail, { "issuer " .. claims.iss, "xms_mirid " .. claims.xms_mirid })
  end
end

-- ---- Conjur ----------------------------------------------------------------

local function transport_hints(e)
  local text = message(e)
  if type(e) == "table" and e.code == "tls" then
    return { "TLS verification is always on: give the CA that issued Conjur's certificate "
      .. "with CONJUR_CERT_FILE (a PEM file) or CONJUR_SSL_CERTIFICATE (the PEM text)" }
  elseif text:find("timed out", 1, true) then
    return { "no answer in time: check the network path and CONJUR_HTTP_TIMEOUT" }
  end
  return { "check CONJUR_APPLIANCE_URL, DNS, firewalls, and HTTPS_PROXY / NO_PROXY" }
end

local function check_reach(r, ctx)
  local ok, c = pcall(conjur.connect)
  if not ok then
    r:fail("conjur", exit_code(c, 7), message(c), transport_hints(c))
    return
  end
  ctx.client = c
  local okget, status, doc = pcall(diag.get, c, {}, { auth = false })
  if not okget then
    r:fail("conjur", exit_code(status, 7), message(status), transport_hints(status))
    return
  end
  local v = ctx.cfg.values
  local trust = v.cert_file and ("CA from " .. v.cert_file)
    or v.ssl_certificate and "CA from CONJUR_SSL_CERTIFICATE" or "system CAs"
  local tls = v.url:match("^https://") and ("TLS verified (%s)"):format(trust) or "plain http"
  if status >= 500 then
    r:fail("conjur", 7, ("GET %s answered %d"):format(diag.path(c, {}), status),
      { "Conjur is up but failing; its own log says why" })
    return
  end
  local version = type(doc) == "table" and type(doc.version) == "string"
    and (", version " .. doc.version) or ""
  r:ok("conjur", ("%s reachable, %s, GET / answered %d%s"):format(v.url, tls, status, version))
  ctx.reachable = true
end

local function check_authenticator(r, ctx)
  local c, v = ctx.client, ctx.cfg.values
  local name = "authn-azure/" .. v.service_id
  local ok, status, doc = pcall(diag.get, c, { "authenticators" })
  if not ok then
    r:fail("authenticator", exit_code(status, 7), message(status), transport_hints(status))
    return
  end
  if status ~= 200 or type(doc) ~= "table" or type(doc.enabled) ~= "table" then
    r:skip("authenticator", ("GET /authenticators answered %d (Conjur Cloud has no such "
      .. "list); checked by the status step instead"):format(status))
    return
  end
  local function has(list)
    for _, x in ipairs(type(list) == "table" and list or {}) do
      if x == name then return true end
    end
    return false
  end
  if has(doc.enabled) then
    r:ok("authenticator", name .. " is enabled")
    return
  end
  local hints = {
    ("enable it on the Conjur server: add %s to CONJUR_AUTHENTICATORS (a comma list, "
      .. "e.g. authn,%s) and restart, or PATCH /%s/%s with body enabled=true"):format(
      name, name, name, v.account),
  }
  if not has(doc.configured) then
    hints[#hints + 1] = ("no webservice conjur/%s is defined either: load the "
      .. "authenticator's policy (webservice, provider-uri, apps group) and check "
      .. "CONJUR_SERVICE_ID"):format(name)
  end
  ctx.authenticator_off = true
  r:fail("authenticator", 5, name .. " is not enabled", hints)
end

-- The annotations of the host, as {name = value}, read with client rc.
-- Returns the table, or nil and a reason.
local function read_annotations(rc, ctx)
  local id = ctx.cfg.login:gsub("^host/", "")
  local ok, status, doc = pcall(diag.get, rc, { "resources", ctx.cfg.values.account,
    "host", id }, { auth = true })
  if not ok then
    return nil, message(status)
  end
  if status ~= 200 or type(doc) ~= "table" or type(doc.annotations) ~= "table" then
    return nil, ("GET /resources/%s/host/... answered %d"):format(ctx.cfg.values.account,
      status), status
  end
  local out = {}
  for _, a in ipairs(doc.annotations) do
    if type(a) == "table" and type(a.name) == "string" and type(a.value) == "string" then
      out[a.name] = a.value
    end
  end
  return out
end

local function matching_lines(ctx, hints, lead)
  if not ctx.facts then return end
  hints[#hints + 1] = lead
  local lines = rules.matching_annotations(ctx.facts)
  for _, line in ipairs(lines) do
    hints[#hints + 1] = "  " .. line
  end
  if #lines > 2 then
    hints[#hints + 1] = "  (subscription and group are required; the identity line is "
      .. "optional and pins the identity)"
  end
end

-- Follow-up hints when an annotation about the identity is at fault.
local function identity_advice(ctx, problems, hints)
  for _, p in ipairs(problems) do
    if p.annotation:find("assigned%-identity$") then
      hints[#hints + 1] = selector_note(ctx) .. "; if the annotation names the intended "
        .. "identity, select that identity instead (CONJUR_AUTHN_AZURE_CLIENT_ID, "
        .. "_OBJECT_ID or _RESOURCE_ID; none for the system-assigned one)"
      return
    end
  end
end

-- Why a 401 from authn-azure: compare annotations when they can be read.
local function explain_401(ctx, hints, opts)
  local svc, account = ctx.cfg.values.service_id, ctx.cfg.values.account
  if ctx.token_refused then
    hints[#hints + 1] = "the platform token has the problems shown above; Conjur refuses "
      .. "it before looking at the host"
    return
  end
  local annotations, why, status
  if opts.reader then
    local ok, rc = pcall(conjur.connect, { authn = "token-file", token_file = opts.reader })
    if ok then
      annotations, why, status = read_annotations(rc, ctx)
      rc:close()
    else
      why = message(rc)
    end
  end
  if annotations and ctx.facts then
    local problems = rules.compare(annotations, ctx.facts, svc)
    for _, p in ipairs(problems) do
      hints[#hints + 1] = p.text .. "; fix: " .. p.fix
    end
    identity_advice(ctx, problems, hints)
    if #problems == 0 then
      hints[#hints + 1] = "the host's annotations match the token; Conjur's log names "
        .. "the refusal: check conjur/authn-azure/" .. svc .. "/provider-uri holds "
        .. "https://sts.windows.net/" .. tostring(ctx.claims.tid) .. "/ and that the "
        .. "host's restricted_to allows this address"
    end
    matching_lines(ctx, hints, "the host's annotations must read:")
    return
  end

  if opts.reader then
    hints[#hints + 1] = "could not read the host with --reader-token-file: " .. tostring(why)
    if status == 404 then
      hints[#hints + 1] = ("host '%s' does not exist in account '%s' or the reader may not "
        .. "see it: the host id is its full id, policy branch included "
        .. "(CONJUR_AUTHN_JWT_HOST_ID, without 'host/')"):format(
        ctx.cfg.login:gsub("^host/", ""), account)
    end
  else
    hints[#hints + 1] = "Conjur does not say why; its log does.  In the order Conjur checks:"
    hints[#hints + 1] = ("- the account '%s' must exist (CONJUR_ACCOUNT)"):format(account)
    hints[#hints + 1] = ("- the host '%s' must exist in account '%s' (its full id, policy "
      .. "branch included, in CONJUR_AUTHN_JWT_HOST_ID)"):format(ctx.cfg.login, account)
  end
  matching_lines(ctx, hints, "- its annotations must match the token exactly, letter case "
    .. "included:")
  hints[#hints + 1] = ("- conjur/authn-azure/%s/provider-uri must hold "
    .. "https://sts.windows.net/%s/"):format(svc, tostring(ctx.claims and ctx.claims.tid))
  if not opts.reader then
    hints[#hints + 1] = "to compare the host's annotations with the token, run doctor with "
      .. "--reader-token-file holding a Conjur token of a role that may read the host"
  end
end

local function check_authentication(r, ctx, opts)
  local name = "authentication"
  local cfg = ctx.cfg
  if not ctx.reachable then
    r:skip(name, "Conjur is not reachable")
    return
  end
  if cfg.authn == "azure" and not (ctx.token_ok or ctx.token_refused) then
    r:skip(name, "no platform token")
    return
  end
  if ctx.authenticator_off then
    r:skip(name, "the authenticator is not enabled (see above)")
    return
  end
  local c = ctx.client
  local ok, tok = pcall(c.token, c)
  if ok then
    ctx.authenticated = true
    r:ok(name, ("authenticated as %s; access token valid until %s"):format(
      cfg.login or "(token file)", utc(tok.expires_at)))
    return
  end

  local e = tok
  local status = type(e) == "table" and math.tointeger(e.status) or 0
  local detail = message(e)
  local hints = {}
  if cfg.authn == "azure" then
    local path = diag.path(c, { "authn-azure", cfg.values.service_id, cfg.values.account,
      cfg.login, "authenticate" })
    if status > 0 then
      detail = ("%d from POST %s"):format(status, path)
    end
    if status == 401 and message(e):find("CONJ00016E", 1, true) then
      hints[#hints + 1] = "Conjur says the platform token expired (CONJ00016E), even after "
        .. "a fresh one: check the clock of this host and of the Conjur server"
    elseif status == 401 then
      explain_401(ctx, hints, opts)
    elseif status == 403 then
      hints[#hints + 1] = ("the host is not permitted to authenticate: grant it "
        .. "membership of the group that has 'authenticate' on conjur/authn-azure/%s "
        .. "(e.g. !grant role: !group conjur/authn-azure/%s/apps, member: !host %s)"):format(
        cfg.values.service_id, cfg.values.service_id, (cfg.login:gsub("^host/", "")))
    elseif status == 404 then
      hints[#hints + 1] = "Conjur has no such route: check CONJUR_APPLIANCE_URL (Conjur "
        .. "Cloud ends in /api), CONJUR_ACCOUNT and CONJUR_SERVICE_ID"
    elseif status == 0 then
      hints = transport_hints(e)
    end
  elseif status == 401 and cfg.authn == "token-file" then
    hints[#hints + 1] = "the token in CONJUR_AUTHN_TOKEN_FILE was refused: is it fresh and "
      .. "for this server?"
  end
  r:fail(name, exit_code(e, 5), detail, hints)
end

local function check_status(r, ctx)
  local name = "authenticator status"
  local v = ctx.cfg.values
  local ok, status, doc = pcall(diag.get, ctx.client, { "authn-azure", v.service_id,
    v.account, "status" }, { auth = true })
  if not ok then
    r:fail(name, exit_code(status, 7), message(status), transport_hints(status))
    return
  end
  if status == 200 then
    r:ok(name, "authn-azure/" .. v.service_id .. " reports ok")
  elseif status == 403 then
    r:skip(name, ("the host may not read conjur/authn-azure/%s/status (grant it 'read' "
      .. "there to let doctor check the authenticator's health)"):format(v.service_id))
  elseif status == 404 or status == 501 then
    r:skip(name, ("GET .../status answered %d: no status for this authenticator"):format(
      status))
  else
    local text = type(doc) == "table" and type(doc.error) == "string" and doc.error or ""
    local code = text:match("CONJ%d+E") or ""
    r:fail(name, 5, ("authn-azure/%s is unhealthy: status %d %s"):format(v.service_id,
      status, text:match("(CONJ%d+E[^>]*)") or code), {
      "Conjur's log has the details; CONJ00011E: Conjur cannot reach the provider-uri, "
        .. "CONJ00036E/37E: conjur/authn-azure/" .. v.service_id .. "/provider-uri is "
        .. "missing or empty, CONJ00004E: not enabled" })
  end
end

-- After a successful login: are the annotations still what the token needs?
local function check_annotations(r, ctx)
  local name = "host annotations"
  local annotations, why = read_annotations(ctx.client, ctx)
  if not annotations then
    r:skip(name, "the host cannot read its own resource (" .. why .. ")")
    return
  end
  if not ctx.facts then
    r:skip(name, "no token facts to compare with")
    return
  end
  local problems = rules.compare(annotations, ctx.facts, ctx.cfg.values.service_id)
  local notes = {}
  for _, p in ipairs(problems) do notes[#notes + 1] = p.text end
  -- a plain annotation hidden by a service-scoped one is a trap for later
  local svc = ctx.cfg.values.service_id
  for key, value in pairs(annotations) do
    local plain = key:match("^authn%-azure/([^/]+)$")
    local scoped = plain and annotations["authn-azure/" .. svc .. "/" .. plain]
    if scoped and scoped ~= value then
      notes[#notes + 1] = ("'%s' ('%s') is overridden by 'authn-azure/%s/%s'; other "
        .. "services would use the stale value"):format(key, value, svc, plain)
    end
  end
  table.sort(notes)
  r:ok(name, "match the token", notes)
end

local function check_secret(r, ctx, id)
  local name = "secret"
  if not ctx.authenticated then
    r:skip(name, "not authenticated")
    return
  end
  local c = ctx.client
  local ok, s = pcall(c.secret, c, id)
  if ok then
    r:ok(name, ("'%s' readable, %d bytes"):format(id, #s))
    return
  end
  local status = type(s) == "table" and math.tointeger(s.status) or 0
  local hints = {}
  if status == 404 then
    hints[#hints + 1] = "Conjur answers 404 when the variable does not exist, has no value "
      .. "yet, or the host has no privilege on it: check the id (policy branch included), "
      .. "that a value was set, and that the host may read it"
  elseif status == 403 then
    hints[#hints + 1] = "the host can see the variable but may not fetch it: permit "
      .. "'execute' on it to the host (or a group it belongs to)"
  end
  r:fail(name, exit_code(s, 6), message(s), hints)
end

-- ---- the walk --------------------------------------------------------------

function M.walk(opts)
  local r, ctx = new_report(), {}
  check_config(r, ctx)
  local azure_authn = not ctx.cfg or ctx.cfg.authn == "azure"

  if azure_authn then
    check_source(r, ctx)
    if ctx.source then
      check_token(r, ctx)
    else
      r:skip("platform token", "no identity source")
    end
  else
    r:skip("identity source", "authn=" .. ctx.cfg.authn .. " does not use an Azure identity")
  end

  if not ctx.cfg then
    r:skip("conjur", "no usable configuration")
    return r
  end
  check_reach(r, ctx)
  if azure_authn and ctx.reachable then
    check_authenticator(r, ctx)
  end
  check_authentication(r, ctx, opts)
  if azure_authn and ctx.authenticated then
    check_status(r, ctx)
    check_annotations(r, ctx)
  end
  if opts.id then
    check_secret(r, ctx, opts.id)
  end
  if ctx.client then ctx.client:close() end
  return r
end

function M.main(args)
  local opts = M.parse_args(args)
  if opts.help then
    io.stdout:write(M.usage)
    return 0
  end
  local r = M.walk(opts)
  io.stdout:write(opts.json and r:json() or r:text())
  io.stdout:flush()
  return r.exit_code
end

return M
