"""The one domain exception tree.

    OpsplaneError
      Invalid            400  bad input (schema, syntax, limits)
        Unprocessable    422  well-formed but refused (Grafana: search limit above 5000)
      Unauthenticated    401  no / bad / revoked credentials
        TokenExpired     401  credentials were good but have expired
          ProxyTokenExpired 407  the same, in the MSP dialect ("Token expired.", seed 003)
      Forbidden          403  authenticated, but the ACL does not allow it
        CsrfRefused      403  state-changing browser request without X-Requested-By
      NotFound           404  absent, or another tenant's (never say which)
      MethodNotAllowed   405
      Conflict           409  uniqueness clash (duplicate id, username taken)
        VersionMismatch  409/412 a stale write lost the conditional check
        NameExists       412  Grafana: same title in the same folder
      TenantGone         410  the tenant is deactivated
      PayloadTooLarge    413
      UnsupportedMedia   415
      Throttled          429  rate limit or login throttling (carries retry_after)
      StoreError         500  the document store failed (an S3 blob could not be read or written)
      Unavailable        503  DynamoDB or S3 throttled or failed after botocore's retries (carries retry_after)

botocore / PynamoDB errors become these inside store/; these become the caller's
dialect inside http/ and compat/.
"""

from __future__ import annotations

from typing import Any


class OpsplaneError(Exception):
    """Base of every error a route may raise."""

    status = 500
    code = "internal"

    def __init__(self, message: str = "", **context: Any) -> None:
        super().__init__(message or self.__class__.__name__)
        self.message = message or self.default_message()
        self.context = context

    def default_message(self) -> str:
        return "Internal server error"


class Invalid(OpsplaneError):
    status = 400
    code = "invalid"

    def default_message(self) -> str:
        return "Invalid request"


class Unprocessable(Invalid):
    status = 422
    code = "unprocessable"

    def default_message(self) -> str:
        return "Unprocessable request"


class Unauthenticated(OpsplaneError):
    status = 401
    code = "unauthenticated"

    def default_message(self) -> str:
        return "Authentication required"


class TokenExpired(Unauthenticated):
    code = "token_expired"

    def default_message(self) -> str:
        return "The token has expired"


class ProxyTokenExpired(TokenExpired):
    """An expired token on the MSP platform's routes, which answer 407 (http/dialects.on_msp)."""

    status = 407

    def default_message(self) -> str:
        return "Token expired."


class Forbidden(OpsplaneError):
    status = 403
    code = "forbidden"

    def default_message(self) -> str:
        return "Permission denied"


class CsrfRefused(Forbidden):
    code = "csrf"

    def default_message(self) -> str:
        return "Missing X-Requested-By header: state-changing requests from a browser or a cookie session must carry it"


class NotFound(OpsplaneError):
    status = 404
    code = "not_found"

    def default_message(self) -> str:
        return "Not found"


class MethodNotAllowed(OpsplaneError):
    status = 405
    code = "method_not_allowed"

    def default_message(self) -> str:
        return "Method not allowed"


class Conflict(OpsplaneError):
    status = 409
    code = "conflict"

    def default_message(self) -> str:
        return "Conflict"


class VersionMismatch(Conflict):
    code = "version-mismatch"

    def default_message(self) -> str:
        return "The object has been changed by someone else"


class NameExists(Conflict):
    code = "name-exists"

    def default_message(self) -> str:
        return "An object with the same name already exists"


class TenantGone(OpsplaneError):
    status = 410
    code = "tenant_gone"

    def default_message(self) -> str:
        return "The tenant is deactivated"


class PayloadTooLarge(OpsplaneError):
    status = 413
    code = "payload_too_large"

    def default_message(self) -> str:
        return "Request body too large"


class UnsupportedMedia(OpsplaneError):
    status = 415
    code = "unsupported_media_type"

    def default_message(self) -> str:
        return "Unsupported media type"


class Throttled(OpsplaneError):
    status = 429
    code = "throttled"

    def __init__(self, message: str = "", retry_after: int = 60, **context: Any) -> None:
        super().__init__(message, **context)
        self.retry_after = retry_after

    def default_message(self) -> str:
        return "Too Many Requests"


class StoreError(OpsplaneError):
    """A storage backend failed: the caller can do nothing about it (context names the blob)."""

    status = 500
    code = "store_error"

    def default_message(self) -> str:
        return "Document storage failed"


class Unavailable(OpsplaneError):
    """DynamoDB or S3 is throttling or failing, still after botocore's own retries: the
    caller may repeat the request after retry_after seconds (store/failures.py says which
    botocore / PynamoDB errors mean this)."""

    status = 503
    code = "unavailable"

    def __init__(self, message: str = "", retry_after: int = 2, **context: Any) -> None:
        super().__init__(message, **context)
        self.retry_after = retry_after

    def default_message(self) -> str:
        return "Service temporarily unavailable; try again shortly"
