"""Outbound HTTP for alert notifications (webhooks, PagerDuty), guarded against SSRF.

A request resolves its host once, refuses it when any address is private, loopback,
link-local (the cloud metadata addresses are link-local or private), multicast, reserved,
unspecified or otherwise not global, and then connects to the address it checked (never resolving again, so a
DNS answer that changes between check and connect cannot slip through); TLS still verifies
the certificate against the host name. Redirects are not followed. `allow_loopback` (the
setting OPSPLANE_WEBHOOK_ALLOW_LOOPBACK: local runs and tests) lets loopback through.

The answer is a `Response`, or `Refused` (the address is not allowed: permanent) or
`Unreachable` (connection failed or timed out: worth a retry). Only the standard library:
what every Lambda has.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

TIMEOUT_SECONDS = 10.0
MAX_READ_BYTES = 64 * 1024  # of an answer's body; the rest is not read


class OutboundError(Exception):
    """A request that got no HTTP answer."""


class Refused(OutboundError):
    """The URL's host resolves to an address outbound requests may not reach."""


class Unreachable(OutboundError):
    """No answer: the connection failed, or the answer did not come within the timeout."""


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)
    latency_ms: int = 0


Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def forbidden(address: Address, *, allow_loopback: bool) -> str | None:
    """Why an outbound request may not reach address, or None."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_loopback:
        return None if allow_loopback else "loopback"
    for reason, hit in (
        ("link-local", address.is_link_local),
        ("private", address.is_private),
        ("multicast", address.is_multicast),
        ("reserved", address.is_reserved),
        ("unspecified", address.is_unspecified),
        ("non-global", not address.is_global),  # shared (100.64/10), documentation, benchmark ranges
    ):
        if hit:
            return reason
    return None


def resolve(host: str, port: int, *, allow_loopback: bool) -> str:
    """The address to connect to: every address of host checked (Refused when any is
    forbidden), the first one returned."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise Unreachable(f"cannot resolve {host}: {exc}") from exc
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in found]
    if not addresses:
        raise Unreachable(f"{host} has no address")
    for address in addresses:
        reason = forbidden(address, allow_loopback=allow_loopback)
        if reason:
            raise Refused(f"{host} resolves to {address}, a {reason} address: outbound requests may not reach it")
    return str(addresses[0])


class _PinnedHTTPS(http.client.HTTPSConnection):
    """HTTPS to a checked address, with SNI and certificate checks for the host name."""

    def __init__(self, host: str, address: str, port: int, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


class _PinnedHTTP(http.client.HTTPConnection):
    """HTTP to a checked address (the Host header still names the host)."""

    def __init__(self, host: str, address: str, port: int, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


def post(
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    allow_loopback: bool,
    timeout: float = TIMEOUT_SECONDS,
) -> Response:
    """POST body to url (see the module): the answer, or Refused / Unreachable."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Refused(f"not an http(s) URL with a host: {url[:200]}")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    address = resolve(parts.hostname, port, allow_loopback=allow_loopback)
    kind = _PinnedHTTPS if parts.scheme == "https" else _PinnedHTTP
    connection = kind(parts.hostname, address, port, timeout)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    started = time.monotonic()
    try:
        connection.request("POST", path, body=body, headers=dict(headers))
        answer = connection.getresponse()
        data = answer.read(MAX_READ_BYTES)
        return Response(
            status=answer.status,
            body=data,
            headers={k.lower(): v for k, v in answer.getheaders()},
            latency_ms=int((time.monotonic() - started) * 1000),
        )
    except (OSError, http.client.HTTPException) as exc:  # timeouts, resets, TLS failures, bad answers
        raise Unreachable(f"{type(exc).__name__}: {exc}"[:300]) from exc
    finally:
        connection.close()
