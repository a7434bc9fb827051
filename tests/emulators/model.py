"""The live fixture and the questions both emulators ask of it.

The fixture is plain JSON (see fixture.json and README.md). It is kept as a
dict so a JSON merge patch can change anything at run time; this module
turns it into answers: which identity a selector names, whether a role
exists, which groups it belongs to, whether it holds a privilege, and which
versions a variable has.

Variables are normalised so that each one holds `versions` (a list of
{"b64": ...} items, oldest first) and `first_version` (the absolute number
of the oldest kept one). A `value` or `value_b64` key, in the file or in a
patch, is turned into a new version, the way Conjur adds a secret.
"""

import base64
import copy
import json

from .common import merge_patch

KEEP_VERSIONS = 20


def load(path, overrides=None):
    """Read a fixture file, apply an optional merge patch, expand and normalise it."""
    with open(path, "r", encoding="utf-8") as handle:
        data = json.load(handle)
    if overrides:
        data = merge_patch(data, copy.deepcopy(overrides))
    expand_generators(data)
    normalise(data)
    return data


def expand_generators(data):
    """Turn each account's `generate_variables` entries into real variables."""
    for account in data.get("conjur", {}).get("accounts", {}).values():
        variables = account.setdefault("variables", {})
        for spec in account.get("generate_variables", []):
            prefix = spec["prefix"]
            value_prefix = spec.get("value_prefix", "value-of-" + prefix)
            for number in range(1, int(spec["count"]) + 1):
                variables.setdefault(prefix + str(number), {"value": value_prefix + str(number)})


def normalise(data):
    for account in data.get("conjur", {}).get("accounts", {}).values():
        for entry in (account.get("variables") or {}).values():
            normalise_variable(entry)


def normalise_variable(entry):
    """Fold `value`/`value_b64` into `versions`, keeping only the last 20."""
    versions = entry.setdefault("versions", [])
    entry.setdefault("first_version", 1)
    for index, item in enumerate(versions):
        if isinstance(item, str):
            versions[index] = {"b64": _b64(item.encode("utf-8"))}
    if "value" in entry:
        versions.append({"b64": _b64(entry.pop("value").encode("utf-8"))})
    if "value_b64" in entry:
        raw = base64.b64decode(entry.pop("value_b64"), validate=True)
        versions.append({"b64": _b64(raw)})
    excess = len(versions) - KEEP_VERSIONS
    if excess > 0:
        del versions[:excess]
        entry["first_version"] += excess


def _b64(raw):
    return base64.b64encode(raw).decode("ascii")


def variable_versions(entry):
    """[(absolute version number, bytes)] for a normalised variable, oldest first."""
    first = entry.get("first_version", 1)
    return [(first + i, base64.b64decode(v["b64"])) for i, v in enumerate(entry["versions"])]


# ---- Azure side ---------------------------------------------------------------

def system_mirid(azure, platform):
    mirid = "/subscriptions/%s/resourcegroups/%s/providers/%s/%s" % (
        azure["subscription_id"], platform["resource_group"], platform["resource_type"],
        platform["name"])
    slot = azure.get("app_service", {}).get("slot")
    if slot and platform["resource_type"] == "Microsoft.Web/sites":
        mirid += "/slots/" + slot
    return mirid


def user_assigned_arm_id(azure, name, ua):
    """The identity's ARM id as users write it (camel-case resourceGroups)."""
    return ("/subscriptions/%s/resourceGroups/%s/providers/"
            "Microsoft.ManagedIdentity/userAssignedIdentities/%s") % (
        azure["subscription_id"], ua["resource_group"], name)


def identities_of(azure, platform_name):
    """(system identity or None, [user-assigned identities]) of a platform resource.

    Each identity is a dict with kind, name, client_id, object_id, mirid and
    arm_id (user-assigned only).
    """
    platform = azure["platforms"][platform_name]
    system = None
    if platform.get("system_identity"):
        system = dict(platform["system_identity"], kind="system", name=platform["name"],
                      mirid=system_mirid(azure, platform), arm_id=None)
    users = []
    for name in platform.get("user_assigned") or []:
        ua = azure["user_assigned_identities"][name]
        mirid = "/subscriptions/%s/resourcegroups/%s/providers/%s/%s" % (
            azure["subscription_id"], ua["resource_group"],
            "Microsoft.ManagedIdentity/userAssignedIdentities", name)
        users.append(dict(ua, kind="user", name=name, mirid=mirid,
                          arm_id=user_assigned_arm_id(azure, name, ua)))
    return system, users


def find_identity(azure, platform_name, selector, value):
    """The identity that `selector` (client_id, object_id or resource_id) names, or None."""
    system, users = identities_of(azure, platform_name)
    candidates = ([system] if system else []) + users
    value = value.strip().lower().rstrip("/")
    for identity in candidates:
        if selector == "client_id" and identity["client_id"].lower() == value:
            return identity
        if selector == "object_id" and identity["object_id"].lower() == value:
            return identity
        if selector == "resource_id" and identity["arm_id"] and \
                identity["arm_id"].lower() == value:
            return identity
    return None


def default_identity(azure, platform_name):
    """(identity, None) for a request without selector, or (None, reason).

    reason is "none" when the resource has no identity and "multiple" when it
    has several user-assigned ones and no system identity. A single
    user-assigned identity answers for the system one, as IMDS really does.
    """
    system, users = identities_of(azure, platform_name)
    if system:
        return system, None
    if len(users) == 1:
        return users[0], None
    return None, ("multiple" if users else "none")


# ---- Conjur side --------------------------------------------------------------

ROLE_KINDS = {"user": "users", "host": "hosts", "group": "groups"}


def role_of_login(login):
    """(kind, id) for a login: `host/x/y` -> host x/y, `alice` -> user alice."""
    if "/" not in login:
        return "user", login
    kind, _, ident = login.partition("/")
    return kind, ident


def role_exists(account, kind, ident):
    table = ROLE_KINDS.get(kind)
    return table is not None and ident in (account.get(table) or {})


def memberships(account, role_ref):
    """Every role `role_ref` acts as: itself plus all groups it belongs to, transitively."""
    held = {role_ref}
    groups = account.get("groups") or {}
    changed = True
    while changed:
        changed = False
        for group, members in groups.items():
            ref = "group:" + group
            if ref not in held and held.intersection(members or []):
                held.add(ref)
                changed = True
    return held


def permitted(account, role_ref, grantees):
    """True when the role, or a group it belongs to, is among `grantees`."""
    return bool(memberships(account, role_ref).intersection(grantees or []))


def variable_permit(account, entry, privilege):
    """Grantees of `privilege` on a variable, falling back to the account's defaults."""
    if privilege in entry:
        return entry[privilege]
    return (account.get("variable_defaults") or {}).get(privilege, [])
