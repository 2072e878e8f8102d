"""Wazo sessions and refresh tokens: list and end the sessions of a tenant or a user, list
and delete a user's refresh tokens (chalicelib/auth/sessionlist.py, refreshtokens.py).

A user may list and end its own sessions and refresh tokens (self_param); anyone else needs
`session.read` / `session.{uuid}.delete` for the tenant-wide routes, and
`user.{uuid}.read` / `user.{uuid}.update` for a user's.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from chalicelib.auth import refreshtokens, sessionlist
from chalicelib.compat.wazo.common import LIST_QUERY, PREFIX, WazoList, listing, no_content, scope
from chalicelib.http.reply import Reply, bare
from chalicelib.http.request import Request
from chalicelib.http.router import Router
from chalicelib.identity import accounts

router = Router("wazo")

SESSION_SORT = ("created_at", "expires_at", "user_uuid", "uuid", "mobile")
SESSION_SEARCH = ("uuid", "user_uuid", "tenant_uuid", "user_agent", "refresh_token_client_id")
TOKEN_SORT = ("created_at", "client_id", "mobile")
TOKEN_SEARCH = ("client_id", "user_uuid", "tenant_uuid")
USER_SESSIONS = f"{PREFIX}/users/{{user_uuid}}/sessions"
USER_TOKENS = f"{PREFIX}/users/{{user_uuid}}/tokens"


def _iso(epoch_seconds: int) -> str:
    return datetime.fromtimestamp(epoch_seconds, UTC).isoformat()


def session_view(session: sessionlist.Session) -> dict[str, Any]:
    """A session as Wazo shows it (never its token)."""
    return {
        "uuid": session.uuid,
        "user_uuid": session.user_uuid,
        "tenant_uuid": session.tenant_uuid,
        "mobile": session.mobile,
        "user_agent": session.user_agent,
        "created_at": _iso(session.created_at),
        "expires_at": _iso(session.expires_at),
        "refresh_token_client_id": session.refresh_token_client_id,
    }


def refresh_token_view(token: refreshtokens.RefreshToken) -> dict[str, Any]:
    """A refresh token as Wazo shows it (never its secret)."""
    return {
        "client_id": token.client_id,
        "created_at": _iso(token.created_at),
        "mobile": token.mobile,
        "user_uuid": token.user_uuid,
        "tenant_uuid": token.tenant_uuid,
        "metadata": {},
    }


def _user(req: Request) -> tuple[str, str]:
    """(tenant, user uuid) of a user of the acting tenant named by the path (404 otherwise)."""
    tenant = req.need_tenant()
    return tenant, accounts.require_account(tenant, req.params["user_uuid"]).id


def _sessions(req: Request, found: list[sessionlist.Session]) -> Reply:
    return bare(listing(req, (session_view(s) for s in found), sort=SESSION_SORT, search=SESSION_SEARCH))


def _tokens(req: Request, found: list[refreshtokens.RefreshToken]) -> Reply:
    return bare(listing(req, (refresh_token_view(t) for t in found), sort=TOKEN_SORT, search=TOKEN_SEARCH))


@router.get(f"{PREFIX}/sessions", acl="session.read", query=LIST_QUERY, response=WazoList)
def list_sessions(req: Request) -> Reply:
    """The live sessions of the acting tenant (and its sub-tenants with recurse=true)."""
    return _sessions(req, [s for tenant in scope(req) for s in sessionlist.listed(tenant)])


@router.delete(f"{PREFIX}/sessions/{{session_uuid}}", acl="session.{session_uuid}.delete", status=204)
def delete_session(req: Request) -> Reply:
    """End a session of the acting tenant: its token stops working at once."""
    sessionlist.end(sessionlist.find(req.need_tenant(), req.params["session_uuid"]))
    return no_content()


@router.get(USER_SESSIONS, acl="user.{user_uuid}.read", self_param="user_uuid", query=LIST_QUERY[:5], response=WazoList)
def list_user_sessions(req: Request) -> Reply:
    """The live sessions of a user (one's own without any ACL)."""
    tenant, user = _user(req)
    return _sessions(req, sessionlist.listed(tenant, user))


@router.delete(f"{USER_SESSIONS}/{{session_uuid}}", acl="user.{user_uuid}.update", self_param="user_uuid", status=204)
def delete_user_session(req: Request) -> Reply:
    """End a session of a user (one's own without any ACL)."""
    tenant, user = _user(req)
    sessionlist.end(sessionlist.find(tenant, req.params["session_uuid"], user))
    return no_content()


@router.get(f"{PREFIX}/tokens", acl="session.read", query=LIST_QUERY, response=WazoList)
def list_refresh_tokens(req: Request) -> Reply:
    """The refresh tokens of the acting tenant's users (and its sub-tenants' with recurse=true)."""
    return _tokens(req, [t for tenant in scope(req) for t in refreshtokens.listed(tenant)])


@router.get(USER_TOKENS, acl="user.{user_uuid}.read", self_param="user_uuid", query=LIST_QUERY[:5], response=WazoList)
def list_user_refresh_tokens(req: Request) -> Reply:
    """A user's refresh tokens (one's own without any ACL)."""
    tenant, user = _user(req)
    return _tokens(req, refreshtokens.listed(tenant, user))


@router.delete(f"{USER_TOKENS}/{{client_id}}", acl="user.{user_uuid}.update", self_param="user_uuid", status=204)
def delete_user_refresh_token(req: Request) -> Reply:
    """Delete a user's refresh token of a client: it makes no new sessions (those it made
    run until they expire or are ended)."""
    tenant, user = _user(req)
    refreshtokens.revoke(tenant, user, req.params["client_id"])
    return no_content()
