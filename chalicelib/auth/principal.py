"""Who is calling."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from chalicelib.auth.acl import allows


@dataclass
class Principal:
    """An authenticated account acting in a tenant."""

    id: str  # account uuid
    name: str  # username / identifier
    tenant: str  # home tenant
    kind: str = "user"  # user | service
    acl: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    method: str = "jwt"  # jwt | apitoken | basic | oauth
    session: str | None = None  # JWT id, or API token public id
    # Its home tenant's access policy as "ACTION CIDR" lines (identity/network.py): read
    # with the tenant, so checking a request's address costs no call.
    network: tuple[str, ...] = ()

    def can(self, access: str) -> bool:
        """Does this principal's ACL grant access?"""
        return allows(self.acl, access)

    def to_context(self) -> dict[str, Any]:
        """Flat string map for the API Gateway authorizer context."""
        return {
            "principal_id": self.id,
            "principal_name": self.name,
            "principal_tenant": self.tenant,
            "principal_kind": self.kind,
            "principal_method": self.method,
            "principal_session": self.session or "",
            "principal_acl": "\n".join(self.acl),
            "principal_groups": ",".join(self.groups),
            "principal_network": "\n".join(self.network),
        }

    @classmethod
    def from_context(cls, ctx: dict[str, Any]) -> Principal:
        return cls(
            id=ctx["principal_id"],
            name=ctx.get("principal_name", ""),
            tenant=ctx["principal_tenant"],
            kind=ctx.get("principal_kind", "user"),
            acl=[a for a in str(ctx.get("principal_acl", "")).split("\n") if a],
            groups=[g for g in str(ctx.get("principal_groups", "")).split(",") if g],
            method=ctx.get("principal_method", "jwt"),
            session=ctx.get("principal_session") or None,
            network=tuple(n for n in str(ctx.get("principal_network", "")).split("\n") if n),
        )
