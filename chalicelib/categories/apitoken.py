"""API tokens (Wavefront ApiTokenApi): one's own tokens, service accounts' tokens, and the
admin's view of every token of the tenant.

A token's secret appears once, as the `tokenID` of the answer that created it; every other
answer names a token by its public id. Own tokens live in the caller's home tenant; the
service-account and customer-token routes act in the request's (acting) tenant.
"""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict

from chalicelib.auth import apitokens
from chalicelib.auth.apitokens import ApiToken
from chalicelib.domain import messages
from chalicelib.domain.context import Context
from chalicelib.errors import Invalid, Unauthenticated
from chalicelib.http.request import Request
from chalicelib.http.router import Category, Router
from chalicelib.identity import accounts, directory
from chalicelib.wire import Model

router = Router("apitoken")

# The ACL of the service-account and admin routes has four segments on purpose: with Wazo
# matching, a three-segment name such as `apitoken.customertokens.update` would be granted
# by `apitoken.*.update` (the API Tokens permission, meant for one's own tokens) and
# `apitoken.customertokens.read` by `*.*.read` (Browse). `apitoken.#` and `#` hold them all.
SERVICE_ACCOUNT_READ = "apitoken.serviceaccount.{id}.read"
SERVICE_ACCOUNT_UPDATE = "apitoken.serviceaccount.{id}.update"
CUSTOMER_TOKENS_READ = "apitoken.customertokens.all.read"
CUSTOMER_TOKENS_UPDATE = "apitoken.customertokens.all.update"

USER_ACCOUNT = "USER_ACCOUNT"
SERVICE_ACCOUNT = "SERVICE_ACCOUNT"
INACTIVE_SERVICE_ACCOUNT = "INACTIVE_SERVICE_ACCOUNT"


class ApiTokenBody(Model):
    """UserApiToken as clients send it (only the name can change)."""

    model_config = ConfigDict(extra="ignore")

    tokenID: str | None = None
    tokenName: str | None = None


class RevokeBody(Model):
    """ApiTokenModel (or UserApiToken) naming the token to revoke."""

    model_config = ConfigDict(extra="ignore")

    id: str | None = None
    tokenID: str | None = None


_ACCOUNT_TYPES = [USER_ACCOUNT, SERVICE_ACCOUNT, INACTIVE_SERVICE_ACCOUNT]
USER_API_TOKEN: dict[str, Any] = {
    "type": "object",
    "required": ["tokenID"],
    "properties": {
        "tokenID": {"type": "string", "description": "The secret when just created, else the public id"},
        "tokenName": {"type": "string"},
        "account": {"type": "string"},
        "accountType": {"type": "string", "enum": _ACCOUNT_TYPES},
        "dateGenerated": {"type": "integer", "format": "int64"},
        "lastUsed": {"type": "integer", "format": "int64"},
    },
}
USER_API_TOKENS: dict[str, Any] = {"type": "array", "items": USER_API_TOKEN}
API_TOKEN_MODEL: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "name": {"type": "string"},
        "account": {"type": "string"},
        "accountType": {"type": "string", "enum": _ACCOUNT_TYPES},
        "customer": {"type": "string"},
        "dateGenerated": {"type": "integer", "format": "int64"},
        "createdEpochMillis": {"type": "integer", "format": "int64"},
        "lastUsed": {"type": "integer", "format": "int64"},
    },
}
API_TOKEN_MODELS: dict[str, Any] = {"type": "array", "items": API_TOKEN_MODEL}


# ---- shapes -------------------------------------------------------------------------------


def _owners(tenant: str, tokens: list[ApiToken]) -> dict[str, dict[str, Any]]:
    """The accounts owning the tokens (current username and state), by uuid."""
    ids = sorted({t.account for t in tokens})
    if not ids:
        return {}
    return {e.id: e.doc for e in accounts.repo(tenant, accounts.ACCOUNT).get_many(ids)}


def _account_type(token: ApiToken, owner: dict[str, Any] | None) -> str:
    kind = owner.get("type", token.account_type) if owner else token.account_type
    if kind != accounts.SERVICE:
        return USER_ACCOUNT
    return SERVICE_ACCOUNT if (owner or {}).get("enabled", True) else INACTIVE_SERVICE_ACCOUNT


def user_api_token(token: ApiToken, owner: dict[str, Any] | None, secret: str | None = None) -> dict[str, Any]:
    """UserApiToken: tokenID is the secret only in the answer that created the token."""
    body: dict[str, Any] = {
        "tokenID": secret or token.public_id,
        "tokenName": token.name,
        "account": (owner or {}).get("username") or token.account,
        "accountType": _account_type(token, owner),
        "dateGenerated": token.created,
    }
    if token.last_used is not None:
        body["lastUsed"] = token.last_used
    return body


def api_token_model(token: ApiToken, owner: dict[str, Any] | None) -> dict[str, Any]:
    """ApiTokenModel, the admin's view of a token."""
    body: dict[str, Any] = {
        "id": token.public_id,
        "name": token.name,
        "account": (owner or {}).get("username") or token.account,
        "accountType": _account_type(token, owner),
        "customer": token.tenant,
        "dateGenerated": token.created,
        "createdEpochMillis": token.created,
    }
    if token.last_used is not None:
        body["lastUsed"] = token.last_used
    return body


def _listing(tenant: str, tokens: list[ApiToken], new: tuple[str, ApiToken] | None = None) -> list[dict[str, Any]]:
    owners = _owners(tenant, tokens)
    new_id = new[1].public_id if new else None
    return [user_api_token(t, owners.get(t.account), new[0] if new and t.public_id == new_id else None) for t in tokens]


def _one(tenant: str, token: ApiToken) -> dict[str, Any]:
    return user_api_token(token, _owners(tenant, [token]).get(token.account))


def _tokens_of(tenant: str, account: str) -> list[dict[str, Any]]:
    """The account's tokens as listed (public ids, never secrets)."""
    return _listing(tenant, apitokens.list_tokens(tenant, account))


def _rename(req: Request, tenant: str, account: str, token_id: str) -> dict[str, Any]:
    """Rename one of the account's tokens to the body's tokenName."""
    return _one(tenant, apitokens.rename(tenant, token_id, _new_name(req, token_id), account))


def _new_name(req: Request, token_id: str) -> str:
    """The tokenName of a rename body (whose tokenID, when given, must name the token)."""
    body = req.model(ApiTokenBody)
    if body.tokenID not in (None, "", token_id):
        raise Invalid(f"tokenID {body.tokenID} in the body does not match {token_id} in the path")
    if body.tokenName is None:
        raise Invalid("tokenName is required")
    return apitokens.check_name(body.tokenName)


def _optional_name(req: Request) -> str:
    """The tokenName of an optional creation body."""
    return apitokens.check_name(req.model(ApiTokenBody, default={}).tokenName or "")


def service_account(tenant: str, identifier: str) -> dict[str, Any]:
    """The service account of the tenant named by its identifier ("sa::...") or uuid."""
    return directory.require_account(tenant, identifier, kind=accounts.SERVICE).doc


def path_service_account(req: Request) -> tuple[str, str]:
    """(acting tenant, account uuid) of the service account named by the path's {id}."""
    tenant = req.need_tenant()
    return tenant, service_account(tenant, req.params["id"])["uuid"]


def _own(ctx: Context) -> tuple[str, str, str]:
    """(home tenant, account uuid, account type) of the caller: own tokens belong to the account."""
    principal = ctx.principal
    if principal is None:
        raise Unauthenticated("No credentials")
    return principal.tenant, principal.id, principal.kind


# ---- one's own tokens --------------------------------------------------------------------


@router.get("/api/v2/apitoken", acl="apitoken.read", response=USER_API_TOKENS)
def get_all_tokens(req: Request) -> Any:
    """Get all api tokens for a user (public ids, never secrets)."""
    tenant, account, _ = _own(req.ctx)
    return _tokens_of(tenant, account)


@router.post("/api/v2/apitoken", acl="apitoken.create", body=ApiTokenBody, response=USER_API_TOKENS)
def create_token(req: Request) -> Any:
    """Create a new api token: the answer's tokenID is the secret, shown this once."""
    tenant, account, kind = _own(req.ctx)
    secret, token = apitokens.create(tenant, account, kind, name=_optional_name(req))
    messages.api_token_created(tenant, account, token.public_id, service=kind == accounts.SERVICE)
    return _listing(tenant, [token], (secret, token))


@router.put("/api/v2/apitoken/{id}", acl="apitoken.{id}.update", body=ApiTokenBody, response=USER_API_TOKEN)
def update_token_name(req: Request) -> Any:
    """Update the name of one of the caller's api tokens."""
    tenant, account, _ = _own(req.ctx)
    return _rename(req, tenant, account, req.params["id"])


@router.delete("/api/v2/apitoken/{id}", acl="apitoken.{id}.delete", response=USER_API_TOKENS)
def delete_token(req: Request) -> Any:
    """Revoke one of the caller's api tokens; answers the remaining ones."""
    tenant, account, _ = _own(req.ctx)
    apitokens.revoke(tenant, req.params["id"], account)
    return _tokens_of(tenant, account)


# ---- service accounts' tokens ------------------------------------------------------------


@router.get("/api/v2/apitoken/serviceaccount/{id}", acl=SERVICE_ACCOUNT_READ, response=USER_API_TOKENS)
def get_tokens_service_account(req: Request) -> Any:
    """Get all api tokens of a service account."""
    tenant, account = path_service_account(req)
    return _tokens_of(tenant, account)


@router.post(
    "/api/v2/apitoken/serviceaccount/{id}",
    acl=SERVICE_ACCOUNT_UPDATE,
    body=ApiTokenBody,
    response=USER_API_TOKENS,
)
def generate_token_service_account(req: Request) -> Any:
    """Create an api token for a service account: answers all its tokens, the new one
    last, with its secret as tokenID."""
    tenant, account = path_service_account(req)
    secret, token = apitokens.create(tenant, account, accounts.SERVICE, name=_optional_name(req))
    messages.api_token_created(tenant, account, token.public_id, service=True)
    others = [t for t in apitokens.list_tokens(tenant, account) if t.public_id != token.public_id]
    return _listing(tenant, [*others, token], (secret, token))


@router.put(
    "/api/v2/apitoken/serviceaccount/{id}/{token}",
    acl=SERVICE_ACCOUNT_UPDATE,
    body=ApiTokenBody,
    response=USER_API_TOKEN,
)
def update_token_name_service_account(req: Request) -> Any:
    """Update the name of a service account's api token."""
    tenant, account = path_service_account(req)
    return _rename(req, tenant, account, req.params["token"])


@router.delete("/api/v2/apitoken/serviceaccount/{id}/{token}", acl=SERVICE_ACCOUNT_UPDATE, response=USER_API_TOKENS)
def delete_token_service_account(req: Request) -> Any:
    """Revoke a service account's api token; answers its remaining ones."""
    tenant, account = path_service_account(req)
    apitokens.revoke(tenant, req.params["token"], account)
    messages.credential_revoked(tenant, account, req.params["token"], "API token", by=req.actor)
    return _tokens_of(tenant, account)


# ---- the admin's view of every token of the tenant ---------------------------------------


@router.get("/api/v2/apitoken/customertokens", acl=CUSTOMER_TOKENS_READ, response=API_TOKEN_MODELS)
def get_customer_tokens(req: Request) -> Any:
    """Get every api token of the tenant."""
    tenant = req.need_tenant()
    tokens = apitokens.list_tokens(tenant)
    owners = _owners(tenant, tokens)
    return [api_token_model(t, owners.get(t.account)) for t in tokens]


@router.get("/api/v2/apitoken/customertokens/{id}", acl=CUSTOMER_TOKENS_READ, response=API_TOKEN_MODEL)
def get_customer_token(req: Request) -> Any:
    """Get one api token of the tenant."""
    tenant = req.need_tenant()
    token = apitokens.get_token(tenant, req.params["id"])
    return api_token_model(token, _owners(tenant, [token]).get(token.account))


@router.put(
    "/api/v2/apitoken/customertokens/revoke",
    acl=CUSTOMER_TOKENS_UPDATE,
    body=RevokeBody,
    response=USER_API_TOKEN,
)
def delete_customer_token(req: Request) -> Any:
    """Revoke any api token of the tenant (body: the token's id)."""
    tenant = req.need_tenant()
    body = req.model(RevokeBody)
    token_id = body.id or body.tokenID
    if not token_id:
        raise Invalid('The body must name the token: {"id": "..."}')
    token = apitokens.revoke(tenant, token_id)
    if token.account_type == accounts.SERVICE:
        messages.credential_revoked(tenant, token.account, token.public_id, "API token", by=req.actor)
    return _one(tenant, token)


CATEGORY = Category(router, tables=("entities", "tokens"), permission="token_management")
