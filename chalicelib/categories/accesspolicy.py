"""Wavefront's access policy (AccessPolicyApi): a tenant's allow / deny list of client
address ranges, enforced on every authenticated request (identity/network.py says how).

One policy per tenant, stored in the tenant's record: GET answers it (no rules until one is
saved), PUT replaces its rules, `validate?ip=` answers what it decides for an address.
A policy that would deny the address saving it is refused (400): the caller would lock
itself out.
"""

from __future__ import annotations

from typing import Any

from chalicelib.categories.accesspolicy_views import AccessPolicyBody
from chalicelib.errors import Invalid
from chalicelib.http.request import Request
from chalicelib.http.router import Category, Router
from chalicelib.identity import network
from chalicelib.wire.wavefront import AccessPolicy

router = Router("accesspolicy")

ACTION = {"type": "string", "enum": list(network.ACTIONS)}


def _answer(policy: network.Policy) -> dict[str, Any]:
    rules = [{k: v for k, v in vars(r).items() if v is not None} for r in policy.rules]
    answer: dict[str, Any] = {"customer": policy.tenant, "policyRules": rules}
    if policy.updated is not None:
        answer["lastUpdatedMs"] = policy.updated
    return answer


@router.get("/api/v2/accesspolicy", acl="accesspolicy.read", response=AccessPolicy)
def get_access_policy(req: Request) -> Any:
    """Get the tenant's access policy."""
    return _answer(network.policy_of(req.need_tenant()))


@router.put("/api/v2/accesspolicy", acl="accesspolicy.update", body=AccessPolicyBody, response=AccessPolicy)
def update_access_policy(req: Request) -> Any:
    """Replace the tenant's access policy rules (400 when they would deny this request's address)."""
    body = req.model(AccessPolicyBody)
    saved = network.save(req.need_tenant(), [r.rule() for r in body.policyRules], source=req.source, by=req.actor)
    return _answer(saved)


@router.get(
    "/api/v2/accesspolicy/validate",
    acl="accesspolicy.read",
    query=(("ip", "string", "An IPv4 or IPv6 address"),),
    response=ACTION,
)
def validate_url(req: Request) -> Any:
    """What the tenant's access policy decides for an address: ALLOW or DENY."""
    ip = req.arg("ip")
    if not ip:
        raise Invalid("ip: an IPv4 or IPv6 address is required")
    if len(ip) > 64:
        raise Invalid("ip: at most 64 characters")
    try:
        client = network.address(ip)
    except Invalid as exc:
        raise Invalid(f"ip: {exc.message}") from exc
    policy = network.policy_of(req.need_tenant())
    return network.verdict([r.line for r in policy.rules], client)


CATEGORY = Category(router, tables=("entities",), permission="user_management")
