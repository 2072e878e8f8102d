"""Grafana's service accounts (/api/serviceaccounts) and API keys (/api/auth/keys).

A Grafana service account IS an opsplane service account (an account of type "service",
username "sa::<name>") and its tokens ARE opsplane API tokens (auth/apitokens.py): made
here, they are listed, renamed and revoked through Wavefront's apitoken API too, and the
other way round. Grafana's `id` is the account's uuid (a string, not Grafana's integer),
a token's `id` its public id.

A Grafana role is a set of Wavefront permissions (ROLE_PERMISSIONS); the role an account
shows is read back from the permissions it holds, so a change made through the Wavefront
dialect shows here. An API key is what Grafana itself turns its legacy keys into: a
service account (`sa::key-<name>`, marked as a key) holding the role, with one token.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field, StrictBool, StrictInt, StrictStr

from chalicelib.auth import apitokens, permissions
from chalicelib.categories.identity_views import require_grantable, require_liftable
from chalicelib.domain.context import Context
from chalicelib.errors import Conflict, Invalid, NotFound
from chalicelib.http.reply import Reply, bare
from chalicelib.http.request import Request
from chalicelib.http.router import Router
from chalicelib.identity import accounts, directory
from chalicelib.store.repository import Entity
from chalicelib.wire import Model

router = Router("grafana_access")

Role = Literal["None", "Viewer", "Editor", "Admin"]
# What each Grafana org role is in Wavefront permissions (each includes the one before).
ROLE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    "None": (),
    "Viewer": ("browse",),
    "Editor": ("browse", "dashboard_management", "alerts_management", "events_management"),
    "Admin": ("browse", "dashboard_management", "alerts_management", "events_management", "user_management"),
}
ROLE_NAMES = tuple(ROLE_PERMISSIONS)
SA_PREFIX = "sa::"
KEY_PREFIX = "key-"
API_KEY = "grafana_api_key"  # account doc flag: made through /api/auth/keys
MAX_NAME = 190
SEARCH_PERPAGE = 1000
BASE = "/api/serviceaccounts"
ITEM = f"{BASE}/{{id}}"
TOKENS = f"{ITEM}/tokens"


class ServiceAccountBody(Model):
    """POST /api/serviceaccounts."""

    model_config = ConfigDict(extra="ignore")

    name: StrictStr = Field(min_length=1, max_length=MAX_NAME, description="The name (its username is sa::<name>)")
    role: Role = Field(default="Viewer", description="Grafana org role: its Wavefront permissions are granted")
    isDisabled: StrictBool = Field(default=False, description="Created deactivated")


class ServiceAccountChange(Model):
    """PATCH /api/serviceaccounts/{id}."""

    model_config = ConfigDict(extra="ignore")

    name: StrictStr | None = Field(default=None, max_length=MAX_NAME, description="Must be the current name")
    role: Role | None = Field(default=None, description="The new role")
    isDisabled: StrictBool | None = Field(default=None, description="Deactivate (true) or activate (false)")


class TokenBody(Model):
    """POST /api/serviceaccounts/{id}/tokens."""

    model_config = ConfigDict(extra="ignore")

    name: StrictStr = Field(min_length=1, max_length=apitokens.MAX_NAME_LENGTH, description="The token's name")
    secondsToLive: StrictInt | None = Field(
        default=None, ge=0, le=0, description="0 or absent only: opsplane API tokens do not expire"
    )


class KeyBody(Model):
    """POST /api/auth/keys."""

    model_config = ConfigDict(extra="ignore")

    name: StrictStr = Field(min_length=1, max_length=MAX_NAME - len(KEY_PREFIX), description="The key's name")
    role: Role = Field(default="Viewer", description="Grafana org role of the key")
    secondsToLive: StrictInt | None = Field(
        default=None, ge=0, le=0, description="0 or absent only: opsplane API tokens do not expire"
    )


class GrafanaServiceAccount(Model):
    """A service account as Grafana answers it."""

    model_config = ConfigDict(extra="allow")

    id: str
    name: str
    login: str
    orgId: str
    isDisabled: bool
    role: str
    tokens: int
    avatarUrl: str


class GrafanaServiceAccountPage(Model):
    """GET /api/serviceaccounts/search."""

    totalCount: int
    serviceAccounts: list[GrafanaServiceAccount]
    page: int
    perPage: int


class GrafanaToken(Model):
    """A service account's token as listed (never its secret)."""

    model_config = ConfigDict(extra="allow")

    id: str
    name: str
    created: str
    lastUsedAt: str | None
    expiration: str | None
    secondsUntilExpiration: int
    hasExpired: bool
    isRevoked: bool


class GrafanaNewToken(Model):
    """A new token or key: `key` is the secret, shown this once."""

    id: str
    name: str
    key: str


class GrafanaKey(Model):
    """An API key as listed."""

    id: str
    name: str
    role: str
    expiration: str | None


class GrafanaMessage(Model):
    """A plain Grafana answer."""

    message: str


# ---- the mapping ------------------------------------------------------------------------


def role_of(account: Entity) -> str:
    """The highest Grafana role whose permissions the account holds."""
    holds = set(permissions.held(account.doc.get("acl", [])))
    found = "None"
    for role, needs in ROLE_PERMISSIONS.items():
        if set(needs) <= holds:
            found = role
    return found


def name_of(account: Entity) -> str:
    """Grafana's name of a service account: its username without "sa::"."""
    username = str(account.doc.get("username", ""))
    return username[len(SA_PREFIX) :] if username.startswith(SA_PREFIX) else username


def view(tenant: str, account: Entity, tokens: int | None = None) -> dict[str, Any]:
    """A service account in Grafana's shape."""
    name = name_of(account)
    count = len(apitokens.list_tokens(tenant, account.id)) if tokens is None else tokens
    return {
        "id": account.id,
        "uid": account.id,
        "name": name,
        "login": f"sa-{name}",
        "orgId": tenant,
        "isDisabled": not account.doc.get("enabled", True),
        "role": role_of(account),
        "tokens": count,
        "avatarUrl": "",
    }


def grant_role(ctx: Context, role: str, current: Entity | None) -> list[str]:
    """The account's new ACL for a role; the caller must hold what it hands out (403)."""
    acl = list(current.doc.get("acl", [])) if current else []
    new = permissions.replace(acl, ROLE_PERMISSIONS[role])
    require_grantable(ctx, [e for e in new if e not in acl])
    require_liftable(ctx, [e for e in acl if e not in new])
    return new


def create_account(ctx: Context, username: str, role: str, *, enabled: bool, key: bool = False) -> Entity:
    """A new service account holding a Grafana role (409 when the name is taken)."""
    if accounts.find_by_username(username) is not None:
        raise Conflict("service account already exists")
    fields: dict[str, Any] = {"acl": grant_role(ctx, role, None), "enabled": enabled, "purpose": "external_api"}
    if key:
        fields[API_KEY] = True
    return accounts.create_account(
        ctx.tenant, username=username, password=None, kind=accounts.SERVICE, fields=fields, by=ctx.actor
    )


def service_account(ctx: Context, ref: str) -> Entity:
    """A service account of the acting tenant by uuid; 404 in Grafana's words."""
    try:
        return directory.require_account(ctx.tenant, ref, kind=accounts.SERVICE)
    except (NotFound, Invalid) as exc:
        raise NotFound("service account not found") from exc


def _username(name: str) -> str:
    if any(ord(c) < 32 for c in name) or not name.strip():
        raise Invalid("name must be printable and not blank")
    return name if name.startswith(SA_PREFIX) else f"{SA_PREFIX}{name}"


def _token_view(token: apitokens.ApiToken) -> dict[str, Any]:
    from chalicelib.compat.grafana.views import iso

    return {
        "id": token.public_id,
        "name": token.name,
        "created": iso(token.created),
        "lastUsedAt": iso(token.last_used) if token.last_used else None,
        "expiration": None,
        "secondsUntilExpiration": 0,
        "hasExpired": False,
        "isRevoked": False,
    }


# ---- service accounts -------------------------------------------------------------------


@router.post(BASE, acl="account.create", body=ServiceAccountBody, response=GrafanaServiceAccount, status=201)
def create(req: Request) -> Reply:
    """Create a service account holding a Grafana role."""
    body = req.model(ServiceAccountBody)
    account = create_account(req.ctx, _username(body.name), body.role, enabled=not body.isDisabled)
    return bare(view(req.ctx.tenant, account, 0), 201)


SEARCH_QUERY = (
    ("query", "string", "Case-insensitive part of the name"),
    ("page", "integer", "Page, from 1"),
    ("perpage", "integer", f"Per page (default and max {SEARCH_PERPAGE})"),
    ("disabled", "boolean", "Only the deactivated ones"),
)


@router.get(f"{BASE}/search", acl="account.read", query=SEARCH_QUERY, response=GrafanaServiceAccountPage)
def search(req: Request) -> Reply:
    """The tenant's service accounts whose name holds query, by name."""
    tenant = req.need_tenant()
    query = (req.arg("query") or "").lower()
    page = req.int_arg("page", 1, low=1, high=1_000_000)
    per = req.int_arg("perpage", SEARCH_PERPAGE, low=1, high=SEARCH_PERPAGE)
    only_disabled = req.flag("disabled")
    counts: dict[str, int] = {}
    for token in apitokens.list_tokens(tenant):
        counts[token.account] = counts.get(token.account, 0) + 1
    found = sorted(
        (
            a
            for a in req.ctx.repo(accounts.ACCOUNT).iterate()
            if a.doc.get("type") == accounts.SERVICE
            and query in name_of(a).lower()
            and (not only_disabled or not a.doc.get("enabled", True))
        ),
        key=lambda a: name_of(a).lower(),
    )
    chosen = found[(page - 1) * per : page * per]
    return bare(
        {
            "totalCount": len(found),
            "serviceAccounts": [view(tenant, a, counts.get(a.id, 0)) for a in chosen],
            "page": page,
            "perPage": per,
        }
    )


@router.get(
    ITEM, acl="account.{id}.read", query=(("accesscontrol", "boolean", "Ignored"),), response=GrafanaServiceAccount
)
def get(req: Request) -> Reply:
    """One service account."""
    return bare(view(req.ctx.tenant, service_account(req.ctx, req.params["id"])))


@router.route("PATCH", ITEM, acl="account.{id}.update", body=ServiceAccountChange, response=GrafanaServiceAccount)
def update(req: Request) -> Reply:
    """Change a service account's role or state (its name stays: it is its username)."""
    body = req.model(ServiceAccountChange, default={})
    account = service_account(req.ctx, req.params["id"])
    if body.name is not None and _username(body.name) != account.doc.get("username"):
        raise Invalid("name: a service account cannot be renamed here (its name is its opsplane username)")
    acl = grant_role(req.ctx, body.role, account) if body.role is not None else None

    def change(entity: Entity) -> None:
        if acl is not None:
            entity.doc["acl"] = acl
        if body.isDisabled is not None:
            entity.doc["enabled"] = not body.isDisabled

    updated = directory.update(req.ctx.tenant, accounts.ACCOUNT, account.id, change, by=req.actor)
    return bare(view(req.ctx.tenant, updated))


@router.delete(ITEM, acl="account.{id}.delete", response=GrafanaMessage)
def delete(req: Request) -> Reply:
    """Delete a service account: its tokens are revoked."""
    account = service_account(req.ctx, req.params["id"])
    directory.delete_account(req.ctx.tenant, account.id, guard=True)
    return bare({"message": "Service account deleted"})


# ---- their tokens (= API tokens) ------------------------------------------------------------


@router.get(TOKENS, acl="account.{id}.read", response=list[GrafanaToken])
def tokens(req: Request) -> Reply:
    """A service account's tokens (never their secrets)."""
    account = service_account(req.ctx, req.params["id"])
    return bare([_token_view(t) for t in apitokens.list_tokens(req.ctx.tenant, account.id)])


@router.post(TOKENS, acl="account.{id}.update", body=TokenBody, response=GrafanaNewToken)
def create_token(req: Request) -> Reply:
    """A new token of the service account: `key` is its secret, shown this once."""
    body = req.model(TokenBody)
    account = service_account(req.ctx, req.params["id"])
    secret, token = apitokens.create(req.ctx.tenant, account.id, accounts.SERVICE, name=body.name)
    return bare({"id": token.public_id, "name": token.name, "key": secret})


@router.delete(f"{TOKENS}/{{token}}", acl="account.{id}.update", response=GrafanaMessage)
def delete_token(req: Request) -> Reply:
    """Revoke a service account's token (it stops working at once)."""
    account = service_account(req.ctx, req.params["id"])
    try:
        apitokens.revoke(req.ctx.tenant, req.params["token"], account.id)
    except NotFound as exc:
        raise NotFound("service account token not found") from exc
    return bare({"message": "Service account token deleted"})


# ---- API keys (= a service account with one token) ----------------------------------------------


KEYS = "/api/auth/keys"


@router.get(KEYS, acl="account.read", response=list[GrafanaKey])
def keys(req: Request) -> Reply:
    """The tenant's API keys."""
    found = (a for a in req.ctx.repo(accounts.ACCOUNT).iterate() if a.doc.get(API_KEY))
    return bare(
        [
            {"id": a.id, "name": name_of(a)[len(KEY_PREFIX) :], "role": role_of(a), "expiration": None}
            for a in sorted(found, key=lambda a: name_of(a))
        ]
    )


@router.post(KEYS, acl="account.create", body=KeyBody, response=GrafanaNewToken)
def create_key(req: Request) -> Reply:
    """A new API key: `key` is its secret, shown this once."""
    body = req.model(KeyBody)
    account = create_account(req.ctx, _username(KEY_PREFIX + body.name), body.role, enabled=True, key=True)
    secret, _token = apitokens.create(req.ctx.tenant, account.id, accounts.SERVICE, name=body.name)
    return bare({"id": account.id, "name": body.name, "key": secret})


@router.delete(f"{KEYS}/{{id}}", acl="account.{id}.delete", response=GrafanaMessage)
def delete_key(req: Request) -> Reply:
    """Delete an API key (its service account and token)."""
    account = service_account(req.ctx, req.params["id"])
    if not account.doc.get(API_KEY):
        raise NotFound("API key not found")
    directory.delete_account(req.ctx.tenant, account.id, guard=True)
    return bare({"message": "API key deleted"})
