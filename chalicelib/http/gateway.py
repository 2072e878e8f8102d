"""The API Gateway Lambda authorizer (REQUEST type) around authorize()."""

from __future__ import annotations

from typing import Any

from chalicelib.errors import OpsplaneError, Unavailable
from chalicelib.http.edge import source_address
from chalicelib.identity import tenant_keys
from chalicelib.identity.authorize import active_tenant, authorize


def authorizer_response(event: dict[str, Any]) -> dict[str, Any]:
    """Allow with the principal in the context and the home tenant's API key as
    usageIdentifierKey (identity/tenant_keys.py: usage plans per tier, a key per tenant), or
    raise 'Unauthorized' (401)."""
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    method = str(event.get("httpMethod", "GET"))
    try:
        principal = authorize(headers, method, source=source_address(event.get("requestContext")))
        tenant = active_tenant(principal.tenant)  # kept with the principal (auth/cache.py)
    except OpsplaneError as exc:
        if isinstance(exc, Unavailable):
            # Not a Deny, which API Gateway would cache for the token: a failing authorizer
            # is a 500 for this request only, as before the store mapped its errors.
            raise
        if exc.status in (401,):
            raise Exception("Unauthorized") from exc  # API Gateway's 401 convention
        return _deny(event, exc.message)
    arn = str(event.get("methodArn", "*"))
    api_any = arn.split("/")[0] + "/*" if "/" in arn else arn
    return {
        "principalId": principal.id,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": api_any}],
        },
        "context": principal.to_context(),
        # The tenant's own key once it is on its tier's plan, else the tier's shared one.
        "usageIdentifierKey": tenant_keys.usage_key(tenant),
    }


def _deny(event: dict[str, Any], reason: str) -> dict[str, Any]:
    return {
        "principalId": "anonymous",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": "Deny", "Resource": event.get("methodArn", "*")}],
        },
        "context": {"reason": reason},
    }
