"""OAuth2 client credentials (RFC 6749 §4.4), the MSP platform dialect (CONTRACTS.md §4).

Service accounts get OAuth clients through the native API; a client trades its id and
secret at POST /auth/oauth/token for a short-lived JWT that the edge authorizes like any
session, with the service account's ACL at the time of each request.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote_plus

from chalicelib.auth import oauthclients, records, sessions
from chalicelib.auth.acl import may_grant
from chalicelib.auth.oauthclients import OAuthClient
from chalicelib.categories.apitoken import path_service_account
from chalicelib.domain import messages
from chalicelib.errors import Invalid, NotFound, OpsplaneError, Unauthenticated
from chalicelib.http.reply import Reply
from chalicelib.http.request import Request
from chalicelib.http.router import PUBLIC, Category, Router
from chalicelib.identity import accounts, network, tenants
from chalicelib.identity.authorize import split_basic
from chalicelib.settings import get_settings

router = Router("oauth")

FORM = "application/x-www-form-urlencoded"
GRANT = "client_credentials"
# RFC 6749 §5.1: token answers (and their errors) must never be cached.
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
BASIC_CHALLENGE = 'Basic realm="opsplane", charset="UTF-8"'

TOKEN_ANSWER: dict[str, Any] = {
    "type": "object",
    "required": ["access_token", "token_type", "expires_in"],
    "properties": {
        "access_token": {"type": "string"},
        "token_type": {"type": "string", "enum": ["bearer"]},
        "expires_in": {"type": "integer"},
        "scope": {"type": "string", "description": "The service account's ACL, space-separated"},
    },
}
TOKEN_REQUEST: dict[str, Any] = {
    "contentMediaType": FORM,
    "type": "object",
    "required": ["grant_type"],
    "properties": {
        "grant_type": {"type": "string", "enum": [GRANT]},
        "client_id": {"type": "string"},
        "client_secret": {"type": "string"},
        "scope": {"type": "string"},
    },
}
CREDENTIALS: dict[str, Any] = {
    "type": "object",
    "required": ["clientId", "clientSecret", "tenantId"],
    "properties": {"clientId": {"type": "string"}, "clientSecret": {"type": "string"}, "tenantId": {"type": "string"}},
}
CLIENTS: dict[str, Any] = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {
            "clientId": {"type": "string"},
            "tenantId": {"type": "string"},
            "createdEpochMillis": {"type": "integer", "format": "int64"},
            "lastUsed": {"type": "integer", "format": "int64"},
        },
    },
}


def _invalid_client(message: str) -> Unauthenticated:
    return Unauthenticated(message, oauth_error="invalid_client")


# ---- the token endpoint -------------------------------------------------------------------


def form_parameters(req: Request) -> dict[str, str]:
    """The single-valued parameters of a form-encoded token request (RFC 6749 §3.2)."""
    if req.content_type != FORM:
        raise Invalid(f"The token request must be {FORM}", oauth_error="invalid_request")
    params: dict[str, str] = {}
    for key, values in req.form().items():
        if len(values) > 1:  # §3.1: parameters must not be repeated
            raise Invalid(f"Parameter {key} is repeated", oauth_error="invalid_request")
        params[key] = values[0]
    return params


def client_credentials(headers: Mapping[str, str], params: Mapping[str, str]) -> tuple[str, str]:
    """(client id, secret) from HTTP Basic (client_secret_basic: id and
    secret form-urlencoded before base64, §2.3.1) or from the form (client_secret_post)."""
    auth = headers.get("authorization", "").strip()
    form_id, form_secret = params.get("client_id"), params.get("client_secret")
    if not auth:
        if not form_id or form_secret is None:
            raise _invalid_client("Client authentication is required")
        return form_id, form_secret
    scheme, _, value = auth.partition(" ")
    if scheme.lower() != "basic":
        raise _invalid_client(f"Unsupported client authentication scheme {scheme}")
    if form_secret is not None:  # §2.3: one authentication method per request
        raise Invalid("Use either HTTP Basic or client_secret in the body, not both", oauth_error="invalid_request")
    pair = split_basic(value)
    if pair is None:
        raise _invalid_client("Malformed Basic credentials")
    client_id, secret = unquote_plus(pair[0]), unquote_plus(pair[1])
    if form_id is not None and form_id != client_id:
        raise Invalid("client_id in the body differs from the Basic credentials", oauth_error="invalid_request")
    return client_id, secret


def client_account(client: OAuthClient, source: str | None) -> dict[str, Any]:
    """The enabled service account behind a client, in an active tenant whose access policy
    admits the address asking (Forbidden otherwise: identity/network.py)."""
    try:
        tenant = tenants.require_active(client.tenant)
        account = accounts.get_account(client.tenant, client.account).doc
    except NotFound as exc:
        raise _invalid_client("Client authentication failed") from exc
    if account.get("type") != accounts.SERVICE or not account.get("enabled", True):
        raise _invalid_client("Client authentication failed")
    network.check(network.lines_of(tenant), client.tenant, source)
    return account


def granted_scope(requested: str | None, acl: list[str]) -> str:
    """The scope of the token: the account's whole ACL; a requested entry the account
    does not hold is invalid_scope."""
    if requested:
        refused = may_grant(acl, requested.split())
        if refused:
            raise Invalid(f"Scope not granted: {' '.join(refused)}", oauth_error="invalid_scope")
    return " ".join(acl)


def _issue(req: Request) -> Reply:
    params = form_parameters(req)
    grant = params.get("grant_type")
    if not grant:
        raise Invalid("grant_type is required", oauth_error="invalid_request")
    if grant != GRANT:
        raise Invalid(f"Grant type {grant} is not supported", oauth_error="unsupported_grant_type")
    client_id, secret = client_credentials(req.headers, params)
    # The secret is checked only after taking a slot, per client id and per address, as
    # a password is (auth/records.py): a wrong one keeps its slot for the window.
    taken = records.take_attempts(records.client_attempts(client_id), source=req.source, name=f"client {client_id}")
    client = oauthclients.verify(client_id, secret)
    if client is None:
        raise _invalid_client("Client authentication failed")
    records.give_back(*taken)
    account = client_account(client, req.source)
    scope = granted_scope(params.get("scope"), accounts.effective_acl(client.tenant, account))
    ttl = get_settings().oauth_token_ttl_seconds
    token, _ = sessions.issue(
        sub=account["uuid"],
        tenant=client.tenant,
        name=account.get("username", ""),
        kind="service",
        method="oauth",
        ttl=ttl,
    )
    oauthclients.touch(client)
    answer = {"access_token": token, "token_type": "bearer", "expires_in": ttl, "scope": scope}
    return Reply(answer, raw=True, headers=dict(NO_STORE))


@router.post("/auth/oauth/token", acl=PUBLIC, body=TOKEN_REQUEST, response=TOKEN_ANSWER)
def token(req: Request) -> Reply:
    """Issue an access token for a client's credentials (client_credentials grant)."""
    try:
        return _issue(req)
    except OpsplaneError as error:
        headers = error.context.setdefault("headers", {})
        headers.update(NO_STORE)
        if error.status == 401:  # §5.2: the challenge names the scheme the endpoint accepts
            headers["WWW-Authenticate"] = BASIC_CHALLENGE
        raise


# ---- a service account's clients (native API) -------------------------------------------


def _client_view(client: OAuthClient) -> dict[str, Any]:
    view: dict[str, Any] = {
        "clientId": client.client_id,
        "tenantId": client.tenant,
        "createdEpochMillis": client.created,
    }
    if client.last_used is not None:
        view["lastUsed"] = client.last_used
    return view


def _clients_of(tenant: str, account: str) -> list[dict[str, Any]]:
    return [_client_view(c) for c in oauthclients.list_clients(tenant, account)]


@router.post(
    "/api/v2/account/serviceaccount/{id}/credentials", acl="account.{id}.update", tag="account", response=CREDENTIALS
)
def create_credentials(req: Request) -> Any:
    """Create OAuth2 client credentials for a service account (the secret is shown once)."""
    tenant, account = path_service_account(req)
    secret, client = oauthclients.create(tenant, account)
    return {"clientId": client.client_id, "clientSecret": secret, "tenantId": tenant}


# Four segments: Browse's `*.*.read` must not list a service account's clients.
@router.get(
    "/api/v2/account/serviceaccount/{id}/credentials",
    acl="account.{id}.credentials.read",
    tag="account",
    response=CLIENTS,
)
def list_credentials(req: Request) -> Any:
    """List a service account's OAuth2 clients (ids only, never secrets)."""
    tenant, account = path_service_account(req)
    return _clients_of(tenant, account)


@router.delete(
    "/api/v2/account/serviceaccount/{id}/credentials/{clientId}",
    acl="account.{id}.update",
    tag="account",
    response=CLIENTS,
)
def revoke_credentials(req: Request) -> Any:
    """Revoke one OAuth2 client of a service account; answers the remaining ones."""
    tenant, account = path_service_account(req)
    oauthclients.revoke(tenant, account, req.params["clientId"])
    messages.credential_revoked(tenant, account, req.params["clientId"], "OAuth client", by=req.actor)
    return _clients_of(tenant, account)


CATEGORY = Category(router, tables=("entities", "tokens"))
