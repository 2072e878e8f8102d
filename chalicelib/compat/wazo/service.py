"""What wazo-auth says about itself and lets anyone do: its status, its backends, and user
self-registration (when the installation names a tenant for it)."""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field, StrictStr

from chalicelib.compat.wazo.common import PREFIX, user_view
from chalicelib.compat.wazo.users import User
from chalicelib.errors import Invalid, NotFound, TenantGone
from chalicelib.http.reply import Reply, bare
from chalicelib.http.request import Request
from chalicelib.http.router import PUBLIC, Router
from chalicelib.identity import tenants, users
from chalicelib.settings import get_settings
from chalicelib.store import tokens
from chalicelib.wire import Model

router = Router("wazo")

BACKEND = "wazo_user"  # opsplane's own accounts: the one backend (no LDAP, SAML or external OAuth)
# A row never written: reading it proves the store answers (a failure is a 503, Unavailable).
PROBE = ("status#probe", "probe")


class ComponentStatus(Model):
    status: Literal["ok"]


class Status(Model):
    """GET /status: each component, "ok" (a failing store answers 503 instead)."""

    rest_api: ComponentStatus
    store: ComponentStatus


class Backends(Model):
    """GET /backends."""

    data: list[Literal["wazo_user"]]


class Registration(Model):
    """POST /users/register body (Wazo's: the e-mail address is required)."""

    model_config = ConfigDict(extra="ignore")

    username: StrictStr = Field(min_length=1, max_length=users.MAX_USERNAME)
    password: StrictStr = Field(min_length=1, max_length=1024)
    email_address: StrictStr = Field(min_length=3, max_length=320)
    firstname: StrictStr | None = Field(default=None, max_length=128)
    lastname: StrictStr | None = Field(default=None, max_length=128)


@router.get(f"{PREFIX}/status", acl=PUBLIC, response=Status)
def status(req: Request) -> Reply:
    """Is the service up: 200 (HEAD too, as wazo-auth-client's status.check() asks), or 503
    when the store does not answer."""
    tokens.get(PROBE)
    return bare({"rest_api": {"status": "ok"}, "store": {"status": "ok"}})


@router.get(f"{PREFIX}/backends", acl=PUBLIC, response=Backends)
def backends(req: Request) -> Reply:
    """The authentication backends a token can be asked of."""
    return bare({"data": [BACKEND]})


@router.post(f"{PREFIX}/users/register", acl=PUBLIC, body=Registration, response=User)
def register(req: Request) -> Reply:
    """Create one's own user, with no ACL, in the tenant the installation names for it
    (OPSPLANE_REGISTRATION_TENANT); 404 when it names none or that tenant is deactivated,
    as wazo-auth answers when its registration plugin is not enabled."""
    body = req.model(Registration)
    try:
        tenant = tenants.require_active(get_settings().registration_tenant or "")["uuid"]
    except (NotFound, Invalid, TenantGone) as exc:
        raise NotFound("User registration is disabled on this installation") from exc
    fields = {
        "username": body.username,
        "password": body.password,
        "email": body.email_address,
        "firstname": body.firstname,
        "lastname": body.lastname,
        "purpose": "user",
    }
    user = users.create_user(tenant, {k: v for k, v in fields.items() if v is not None}, by="registration")
    return bare(user_view(user))
