"""A tenant's access policy: which client addresses may use its credentials.

The policy is an ordered list of rules, each an action (ALLOW or DENY) on a CIDR range,
IPv4 or IPv6. An address matched by a DENY rule is denied; otherwise, when the policy has
ALLOW rules, only an address one of them matches is allowed (they form an allow list);
a policy without rules allows every address.

The rules live in the tenant's own record (`access_policy`), so authorizing reads them with
the tenant it reads anyway: they travel with the principal (`Principal.network`, as
"ACTION CIDR" lines), are cached with it (auth/cache.py) and cost no extra AWS call.
Saving them goes through the tenant's invalidating repository, so this container's cached
principals pick the new rules up at once (others within auth_cache_seconds).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from chalicelib.auth.principal import Principal
from chalicelib.errors import Forbidden, Invalid
from chalicelib.identity import tenants
from chalicelib.store.repository import now_ms

ALLOW = "ALLOW"
DENY = "DENY"
ACTIONS = (ALLOW, DENY)
FIELD = "access_policy"  # of the tenant record

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class Rule:
    """One rule of an access policy."""

    action: str
    subnet: str  # canonical CIDR (host bits cleared)
    name: str | None = None
    description: str | None = None

    @property
    def line(self) -> str:
        """The rule as the principal carries it: "ACTION CIDR"."""
        return f"{self.action} {self.subnet}"


def subnet(text: str) -> str:
    """The canonical CIDR of a range ("10.1.2.3/8" -> "10.0.0.0/8"; a bare address is /32 or
    /128); Invalid when it is none."""
    try:
        return str(ipaddress.ip_network(text.strip(), strict=False))
    except ValueError as exc:
        raise Invalid(f"{text!r} is not an IPv4 or IPv6 address or CIDR range") from exc


def address(text: str) -> Address:
    """A client address; an IPv4 address written as IPv6 (::ffff:a.b.c.d, what a dual-stack
    socket reports) is the IPv4 address, and an IPv6 zone (%eth0) is dropped."""
    try:
        found = ipaddress.ip_address(text.strip().split("%", 1)[0])
    except ValueError as exc:
        raise Invalid(f"{text!r} is not an IPv4 or IPv6 address") from exc
    if isinstance(found, ipaddress.IPv6Address) and found.ipv4_mapped is not None:
        return found.ipv4_mapped
    return found


def _client(source: str | None) -> Address | None:
    """The request's address, or None when unknown or unreadable."""
    try:
        return address(source) if source else None
    except Invalid:
        return None


@lru_cache(maxsize=4096)
def _network(cidr: str) -> Network:
    return ipaddress.ip_network(cidr, strict=False)


def _split(line: str) -> tuple[str, Network]:
    action, _, cidr = line.partition(" ")
    return action, _network(cidr)


def verdict(lines: Sequence[str], client: Address) -> str:
    """ALLOW or DENY for a client address under rules given as "ACTION CIDR" lines."""
    allows = False
    allowed = False
    for line in lines:
        action, network = _split(line)
        matches = client.version == network.version and client in network
        if action == DENY and matches:
            return DENY
        if action == ALLOW:
            allows = True
            allowed = allowed or matches
    return ALLOW if allowed or not allows else DENY


def admit(principal: Principal, source: str | None) -> None:
    """Forbidden when the principal's home tenant's policy denies the address the request
    comes from."""
    check(principal.network, principal.tenant, source)


def check(lines: Sequence[str], tenant: str, source: str | None) -> None:
    """Forbidden when rules ("ACTION CIDR" lines) of tenant deny source. An unknown or
    unreadable address is denied under any rule (fail closed)."""
    if not lines:
        return
    client = _client(source)
    if client is None or verdict(lines, client) == DENY:
        raise Forbidden(f"The access policy of tenant {tenant} denies requests from {source or 'an unknown address'}")


def lines_of(tenant_doc: dict[str, Any]) -> tuple[str, ...]:
    """The rules of a tenant record, as the principal carries them."""
    return tuple(f"{r['action']} {r['subnet']}" for r in (tenant_doc.get(FIELD) or {}).get("rules", []))


# ---- reading and saving -------------------------------------------------------------------


@dataclass(frozen=True)
class Policy:
    """A tenant's access policy."""

    tenant: str
    rules: tuple[Rule, ...]
    updated: int | None = None
    updated_by: str | None = None


def _policy(tenant_doc: dict[str, Any]) -> Policy:
    stored = tenant_doc.get(FIELD) or {}
    return Policy(
        tenant=tenant_doc["uuid"],
        rules=tuple(Rule(**rule) for rule in stored.get("rules", [])),
        updated=stored.get("updated"),
        updated_by=stored.get("updated_by"),
    )


def policy_of(tenant: str) -> Policy:
    """The access policy of a tenant (no rules until one is saved)."""
    return _policy(tenants.get_tenant(tenant))


def save(tenant: str, rules: Iterable[Rule], *, source: str | None, by: str | None) -> Policy:
    """Replace a tenant's access policy. Refused (Invalid) when it would deny the address
    saving it: the caller would be locked out by its own change."""
    rules = tuple(rules)
    lines = [r.line for r in rules]
    client = _client(source)
    if lines and client is None:
        raise Invalid(
            "The address of this request is unknown: an access policy with rules cannot be checked against it"
        )
    if client is not None and verdict(lines, client) == DENY:
        raise Invalid(
            f"Refused: this policy would deny {client}, the address saving it, and lock you out. "
            "Add a rule that allows it first."
        )
    stored = {
        "rules": [{k: v for k, v in vars(r).items() if v is not None} for r in rules],
        "updated": now_ms(),
        "updated_by": by,
    }
    return _policy(tenants.update_tenant(tenant, {FIELD: stored}, by=by))
