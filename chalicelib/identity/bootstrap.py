"""First start: a root tenant, an admin policy (`#`) and the `admin` user."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from chalicelib.errors import Conflict, NotFound
from chalicelib.identity import accounts, policies, tenants

ROOT_MARKER = ("_global", "installation")


@dataclass
class Installation:
    root_tenant: str
    admin_uuid: str
    admin_password: str | None  # set only when this call created the admin


def bootstrap(admin_password: str | None = None, *, root_name: str = "root") -> Installation:
    """Create the root tenant and admin once; later calls return what exists."""
    marker = accounts.repo(*ROOT_MARKER).find("root")
    if marker is not None:
        return Installation(marker.doc["tenant"], marker.doc["admin"], None)
    password = admin_password or secrets.token_urlsafe(18)
    tenant = tenants.create_tenant(name=root_name, slug=root_name, parent_uuid=None, by="bootstrap")
    root = tenant["uuid"]
    policy = policies.create_policy(
        root,
        name="admin",
        slug="admin",
        description="Everything (#)",
        acl=["#"],
        held=None,
        by="bootstrap",
        policy_uuid="admin-" + root[:8],
    )
    admin = accounts.create_account(
        root,
        username="admin",
        password=password,
        fields={"policies": [policy.id], "firstname": "Admin", "purpose": "user"},
        by="bootstrap",
    )
    try:
        accounts.repo(*ROOT_MARKER).create("root", {"tenant": root, "admin": admin.id}, by="bootstrap")
    except Conflict:  # a concurrent first start won; use its installation
        marker = accounts.repo(*ROOT_MARKER).get("root")
        return Installation(marker.doc["tenant"], marker.doc["admin"], None)
    return Installation(root, admin.id, password)


def installation() -> Installation:
    """The existing installation (NotFound before bootstrap)."""
    marker = accounts.repo(*ROOT_MARKER).find("root")
    if marker is None:
        raise NotFound("Not bootstrapped")
    return Installation(marker.doc["tenant"], marker.doc["admin"], None)
