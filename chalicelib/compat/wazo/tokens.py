"""Wazo session tokens (POST / GET / HEAD / DELETE /token) and the JWKS that verifies them.

The token routes are public: POST authenticates its Basic credentials itself (a throttled
login), and for the others the token in the path is the credential.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, StrictInt, StrictStr, model_validator

from chalicelib.auth import records, refreshtokens, sessionlist, sessions
from chalicelib.auth.keys import keyring
from chalicelib.auth.principal import Principal
from chalicelib.auth.sessions import SessionClaims
from chalicelib.compat.wazo.common import PREFIX, no_content
from chalicelib.errors import Forbidden, NotFound, TenantGone, TokenExpired, Unauthenticated
from chalicelib.http.reply import Reply, bare
from chalicelib.http.request import Request
from chalicelib.http.router import PUBLIC, Router
from chalicelib.identity import accounts, authorize, tenants
from chalicelib.settings import get_settings
from chalicelib.wire import Model

router = Router("wazo")

MAX_EXPIRATION = 315360000  # ten years, Wazo's bound
TOKEN = f"{PREFIX}/token/{{token}}"
JWKS_MAX_AGE = 300


class TokenRequest(Model):
    """POST /token body (at least `{}`)."""

    model_config = ConfigDict(extra="ignore")

    expiration: StrictInt | None = Field(default=None, ge=1, le=MAX_EXPIRATION)
    backend: Literal["wazo_user"] = Field(default="wazo_user", description="The one backend (GET /backends)")
    access_type: Literal["online", "offline"] | None = Field(
        default=None, description="offline: also create a refresh token for client_id"
    )
    client_id: StrictStr | None = Field(default=None, min_length=1, max_length=refreshtokens.MAX_CLIENT_ID)
    refresh_token: StrictStr | None = Field(default=None, min_length=1, max_length=128)

    @model_validator(mode="after")
    def _offline(self) -> TokenRequest:
        # Wazo's rules: a refresh token (and an offline login) names its client; an offline
        # login is by password, never by a refresh token.
        if self.access_type == "offline" and self.refresh_token:
            raise ValueError('cannot use the "access_type" "offline" with a refresh token')
        if (self.access_type == "offline" or self.refresh_token) and not self.client_id:
            raise ValueError('"client_id" must be specified with "access_type" "offline" or a "refresh_token"')
        return self


class TokenMetadata(Model):
    uuid: str
    tenant_uuid: str
    auth_id: str
    pbx_user_uuid: str | None
    purpose: str


class TokenData(Model):
    """A session as wazo-auth shows it (times: ISO 8601 with microseconds, local and UTC)."""

    token: str
    auth_id: str
    xivo_user_uuid: str | None
    acl: list[str]
    issued_at: str
    expires_at: str
    utc_issued_at: str
    utc_expires_at: str
    session_uuid: str
    metadata: TokenMetadata
    user_agent: str | None
    remote_addr: str | None
    refresh_token: str | None = Field(default=None, description="access_type offline: shown once")


class TokenAnswer(Model):
    data: TokenData


class RevokedData(Model):
    message: str = Field(examples=["success"])


class Revoked(Model):
    """DELETE /token's answer."""

    data: RevokedData


class Jwk(Model):
    """One public key (RFC 7517), P-256 for ES256."""

    kty: str = Field(examples=["EC"])
    crv: str = Field(examples=["P-256"])
    x: str
    y: str
    kid: str
    use: str = Field(examples=["sig"])
    alg: str = Field(examples=["ES256"])


class Jwks(Model):
    """A JSON Web Key Set."""

    keys: list[Jwk]


def _local(ts: int) -> str:
    return datetime.fromtimestamp(ts).isoformat(timespec="microseconds")


def _utc(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).replace(tzinfo=None).isoformat(timespec="microseconds")


def token_data(
    token: str, claims: SessionClaims, principal: Principal, *, user_agent: str | None, remote_addr: str | None
) -> dict[str, Any]:
    """The `data` of a token answer."""
    account = accounts.get_account(principal.tenant, principal.id).doc
    return {
        "token": token,
        "auth_id": principal.id,
        "xivo_user_uuid": None,
        "acl": list(principal.acl),
        "issued_at": _local(claims.issued_at),
        "expires_at": _local(claims.expires_at),
        "utc_issued_at": _utc(claims.issued_at),
        "utc_expires_at": _utc(claims.expires_at),
        "session_uuid": claims.jti,
        "metadata": {
            "uuid": principal.id,
            "tenant_uuid": principal.tenant,
            "auth_id": principal.id,
            "pbx_user_uuid": None,
            "purpose": account.get("purpose") or "user",
        },
        "user_agent": user_agent,
        "remote_addr": remote_addr,
    }


def _remote_addr(req: Request) -> str:
    return req.headers.get("x-forwarded-for", "").split(",")[0].strip()


def _login(req: Request, body: TokenRequest) -> Principal:
    """Who asks for a token: the owner of the refresh token given, else of the Basic credentials."""
    if body.refresh_token:
        found = refreshtokens.find(body.refresh_token, body.client_id or "")
        if found is None:
            raise Unauthenticated("Authentication Failed")
        return authorize.principal_of(found.tenant_uuid, found.user_uuid, "jwt")
    credentials = authorize.extract(req.headers)
    if credentials is None or credentials.scheme != "basic":
        raise Unauthenticated("Basic credentials are required to create a token")
    return authorize.authorize(req.headers, req.method, source=req.source)


@router.post(f"{PREFIX}/token", acl=PUBLIC, body=TokenRequest, response=TokenAnswer)
def create_token(req: Request) -> Reply:
    """Log in with Basic credentials or a refresh token and get a session token (expiration
    in seconds); access_type offline also creates a refresh token for client_id."""
    body = req.model(TokenRequest)
    principal = _login(req, body)
    # A request may name a tenant too: only the principal's own or a descendant.
    tenants.resolve_acting_tenant(principal.tenant, req.headers.get("wazo-tenant") or req.headers.get("x-tenant-id"))
    token, claims = sessions.issue(
        sub=principal.id,
        tenant=principal.tenant,
        name=principal.name,
        kind=principal.kind,
        method="jwt",
        ttl=body.expiration or get_settings().session_ttl_seconds,
    )
    mobile = req.headers.get("wazo-session-type", "").lower() == "mobile"
    user_agent = req.headers.get("user-agent", "")
    sessionlist.record(
        claims, mobile=mobile, user_agent=user_agent, client_id=body.client_id if body.refresh_token else None
    )
    data = token_data(token, claims, principal, user_agent=user_agent, remote_addr=_remote_addr(req))
    if body.access_type == "offline" and body.client_id:
        data["refresh_token"] = refreshtokens.issue(principal.tenant, principal.id, body.client_id, mobile=mobile)
    return bare({"data": data})


def _session(token: str) -> tuple[Principal, SessionClaims]:
    """The principal and claims of a live session token; NotFound for anything else."""
    if not sessions.looks_like_jwt(token):
        raise NotFound("Unknown token")
    try:
        principal = authorize.authenticate_token(token)
        claims = sessions.verify(token)
    except (Unauthenticated, TenantGone, NotFound) as exc:
        raise NotFound("Unknown, expired or revoked token") from exc
    return principal, claims


def _checked(req: Request) -> tuple[Principal, SessionClaims]:
    """_session, then Forbidden when ?scope= is not granted or ?tenant= is out of reach."""
    principal, claims = _session(req.params["token"])
    scope = req.arg("scope")
    if scope is not None and not principal.can(scope):
        raise Forbidden(f"The token does not grant {scope}")
    tenant = req.arg("tenant")
    if tenant:
        tenants.resolve_acting_tenant(principal.tenant, tenant)
    return principal, claims


CHECK_QUERY = (
    ("scope", "string", "An ACL the token must grant (403 otherwise)"),
    ("tenant", "string", "A tenant the token must reach (403 otherwise)"),
)


@router.get(TOKEN, acl=PUBLIC, query=CHECK_QUERY, response=TokenAnswer)
def get_token(req: Request) -> Reply:
    """Validate a token: 404 when unknown, expired or revoked; 403 when scope is not granted."""
    principal, claims = _checked(req)
    return bare({"data": token_data(req.params["token"], claims, principal, user_agent=None, remote_addr=None)})


@router.head(TOKEN, acl=PUBLIC, query=CHECK_QUERY, status=204)
def check_token(req: Request) -> Reply:
    """Validate a token without a body: 204, or 404 / 403 as GET."""
    _checked(req)
    return no_content()


MAX_SCOPES = 100


class ScopesCheck(Model):
    """POST /token/{token}/scopes/check body."""

    model_config = ConfigDict(extra="ignore")

    scopes: list[Annotated[StrictStr, Field(min_length=1, max_length=512)]] = Field(max_length=MAX_SCOPES)
    tenant_uuid: StrictStr | None = Field(default=None, max_length=64)


class ScopesChecked(Model):
    """Each scope asked, and whether the token grants it."""

    scopes: dict[str, bool]


@router.post(f"{TOKEN}/scopes/check", acl=PUBLIC, body=ScopesCheck, response=ScopesChecked)
def check_scopes(req: Request) -> Reply:
    """Which of the scopes a token grants (404 when the token is unknown, expired or revoked;
    403 when tenant_uuid is out of its reach), as wazo-auth answers it."""
    body = req.model(ScopesCheck)
    principal, _ = _session(req.params["token"])
    if body.tenant_uuid:
        tenants.resolve_acting_tenant(principal.tenant, body.tenant_uuid)
    return bare({"scopes": {scope: principal.can(scope) for scope in dict.fromkeys(body.scopes)}})


@router.delete(TOKEN, acl=PUBLIC, response=Revoked)
def revoke_token(req: Request) -> Reply:
    """Revoke a token (an expired one needs nothing more)."""
    token = req.params["token"]
    if not sessions.looks_like_jwt(token):
        raise NotFound("Unknown token")
    try:
        claims = sessions.verify(token)
    except TokenExpired:
        return bare({"data": {"message": "success"}})
    except Unauthenticated as exc:
        raise NotFound("Unknown token") from exc
    records.revoke_session(claims.jti, claims.expires_at)
    sessionlist.forget(claims)
    return bare({"data": {"message": "success"}})


@router.get("/.well-known/jwks.json", acl=PUBLIC, tag="jwks", response=Jwks, envelope=False)
def jwks(req: Request) -> Reply:
    """The public keys that verify session tokens (every key still accepted, by kid)."""
    return Reply(keyring().jwks(), raw=True, headers={"Cache-Control": f"public, max-age={JWKS_MAX_AGE}"})
