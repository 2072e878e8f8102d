"""Proxies (Wavefront /api/v2/proxy): the records of the Wavefront proxies that check in
with this service, and the proxy's own check-in (`POST /api/v2/wfproxy/checkin`).

A proxy registers itself: its first check-in makes the record (id = the proxy's UUID, sent
as X-WF-PROXY-ID), every later one refreshes hostname, build version, clock drift and
last check-in time, and each is answered with the proxy's configuration (the limits,
switches and preprocessor rules set through the API). The API lists, reads, renames and
configures proxies, trashes / restores / deletes them, and serves their configuration.

The record's document holds what the API sets; what the proxy reports is kept under
server-managed keys ("_hostname", ...) so that a PUT never erases it. A proxy's `version`
on the wire is its build (the client's model says so): updates are last-writer-wins.
`status` is derived on read: STOPPED_BY_SERVER when shut down, ACTIVE while check-ins
arrive (within ACTIVE_MS), else STOPPED_UNKNOWN.
"""

from __future__ import annotations

import uuid
from typing import Any

from chalicelib.categories import crud
from chalicelib.categories.proxy_views import AgentConfiguration, AgentMetrics, Proxy, ProxyBody, parse_rules
from chalicelib.domain import entities
from chalicelib.domain.context import Context
from chalicelib.domain.entities import Kind
from chalicelib.domain.searching import Fields
from chalicelib.errors import Conflict, Invalid, NotFound
from chalicelib.http.request import Request
from chalicelib.http.router import Category, Router
from chalicelib.store.repository import Entity

router = Router("proxy")

BASE = "/api/v2/proxy"
CHECKIN = "/api/v2/wfproxy/checkin"
# A proxy checks in every minute: five missed check-ins and it counts as stopped.
ACTIVE_MS = 5 * 60 * 1000
MAX_REPORTED = 256  # hostname, proxyname and version as the proxy reports them
RATE_KEYS = (
    "collectorRateLimit",
    "histogramRateLimit",
    "spanRateLimit",
    "spanLogsRateLimit",
    "eventsRateLimit",
    "sourceTagsRateLimit",
)
# What the proxy reports at check-in: document key -> wire field.
REPORTED = {
    "_hostname": "hostname",
    "_proxyname": "proxyname",
    "_version": "version",
    "_lastCheckInTime": "lastCheckInTime",
    "_timeDrift": "timeDrift",
    "_ephemeral": "ephemeral",
}


# ---- wire ------------------------------------------------------------------------------------


def to_wire(entity: Entity) -> dict[str, Any]:
    """The client's Proxy: what the API set, what the proxy reported, bookkeeping."""
    out: dict[str, Any] = {k: v for k, v in entity.doc.items() if not k.startswith("_")}
    out.update(entities.standard_fields(entity))
    out.pop("version")  # the record's write count: the wire's version is the proxy's build
    for key, name in REPORTED.items():
        if key in entity.doc:
            out[name] = entity.doc[key]
    return out


def status(ctx: Context, entity: Entity) -> str:
    """STOPPED_BY_SERVER, ACTIVE or STOPPED_UNKNOWN (see the module docstring)."""
    if entity.doc.get("shutdown"):
        return "STOPPED_BY_SERVER"
    last = entity.doc.get("_lastCheckInTime", 0)
    return "ACTIVE" if ctx.now() - last <= ACTIVE_MS else "STOPPED_UNKNOWN"


def personal(ctx: Context, entity: Entity, out: dict[str, Any]) -> None:
    """The clock-dependent part of the wire object: status."""
    out["status"] = status(ctx, entity)


SEARCH_FIELDS = Fields.of(
    *entities.STANDARD_KEYS,
    "name",
    "hostname",
    "proxyname",
    "version",
    "status",
    "lastCheckInTime",
    "ephemeral",
    "shutdown",
    facets=("hostname", "version", "status", "ephemeral"),
    freetext=("name", "hostname", "proxyname", "id"),
    default_sort="name",
)

PROXY = Kind(
    name="proxy",
    label="Proxy",
    schema=ProxyBody,
    to_doc=entities.body_doc,
    to_wire=to_wire,
    wire=Proxy,
    history=False,
    entity_acl=False,
    search=SEARCH_FIELDS,
    personal=personal,
)

crud.declare(
    router, PROXY, BASE, features=frozenset({"list", "get", "update", "delete", "trash", "undelete", "search"})
)


# ---- check-in and configuration --------------------------------------------------------------


def reported(value: str | None, what: str) -> str | None:
    """A string the proxy reports, bounded."""
    if value is not None and len(value) > MAX_REPORTED:
        raise Invalid(f"{what}: at most {MAX_REPORTED} characters")
    return value


def check_in(
    ctx: Context,
    proxy_id: str,
    *,
    hostname: str,
    version: str | None = None,
    proxyname: str | None = None,
    current_millis: int | None = None,
    ephemeral: bool = False,
) -> Entity:
    """Record a proxy's check-in: its record is made on the first one (named after its
    host), refreshed on every one, and brought back from the trash (a running proxy is
    not deleted by trashing its record)."""
    now = ctx.now()
    fresh: dict[str, Any] = {"_hostname": hostname, "_lastCheckInTime": now, "_ephemeral": ephemeral}
    if version is not None:
        fresh["_version"] = version
    if proxyname is not None:
        fresh["_proxyname"] = proxyname
    if current_millis is not None:
        fresh["_timeDrift"] = current_millis - now
    store = entities.repo(ctx, PROXY)

    def refresh(e: Entity) -> None:
        e.doc.update(fresh)
        e.deleted = False

    try:
        return store.update(proxy_id, refresh, by=ctx.actor, include_deleted=True, retries=10)
    except NotFound:
        pass
    try:
        return store.create(proxy_id, {"name": proxyname or hostname, **fresh}, by=ctx.actor)
    except Conflict:  # a second check-in of the same proxy made it first
        return store.update(proxy_id, refresh, by=ctx.actor, include_deleted=True, retries=10)


def configuration(ctx: Context, entity: Entity) -> dict[str, Any]:
    """The proxy's AgentConfiguration: limits and switches set through the API, the
    preprocessor rules, the server's time."""
    doc = entity.doc
    config: dict[str, Any] = {
        "currentTime": ctx.now(),
        "name": doc.get("name"),
        "shutOffAgents": bool(doc.get("shutdown", False)),
        "collectorSetsRateLimit": bool(doc.get("collectorSetsRateLimit", False)),
        "histogramDisabled": bool(doc.get("histoDisabled", False)),
        "traceDisabled": bool(doc.get("traceDisabled", False)),
        "spanLogsDisabled": bool(doc.get("spanLogsDisabled", False)),
    }
    config.update({k: doc[k] for k in RATE_KEYS if k in doc})
    if doc.get("preprocessorRules"):
        config["preprocessorRules"] = doc["preprocessorRules"]
    return config


def proxy_id_of(req: Request) -> str:
    """The X-WF-PROXY-ID header: the proxy's UUID (400 when absent or not a UUID)."""
    raw = req.headers.get("x-wf-proxy-id", "")
    try:
        return str(uuid.UUID(raw))
    except ValueError as exc:
        raise Invalid("X-WF-PROXY-ID: the proxy's UUID is required") from exc


# ---- routes particular to proxies ------------------------------------------------------------


@router.post(
    CHECKIN,
    acl="proxy.checkin",
    body=AgentMetrics,
    query=(
        ("hostname", "string", "the proxy's host (required)"),
        ("proxyname", "string", "the proxy's name"),
        ("version", "string", "the proxy's build"),
        ("currentMillis", "integer", "the proxy's clock, epoch ms"),
        ("ephemeral", "boolean", "the proxy is ephemeral"),
    ),
    response=AgentConfiguration,
    envelope=False,
    summary="A Wavefront proxy checks in (X-WF-PROXY-ID: its UUID) and reads its configuration",
)
def proxy_checkin(req: Request) -> dict[str, Any]:
    """Register or refresh the calling proxy; answer its configuration."""
    req.model(AgentMetrics)  # the proxy's metrics: a JSON object, not kept
    hostname = reported(req.arg("hostname"), "hostname")
    if not hostname:
        raise Invalid("hostname: the proxy's host name is required")
    proxy = check_in(
        req.ctx,
        proxy_id_of(req),
        hostname=hostname,
        version=reported(req.arg("version"), "version"),
        proxyname=reported(req.arg("proxyname"), "proxyname"),
        current_millis=req.int_arg("currentMillis", 0, low=0) if req.arg("currentMillis") else None,
        ephemeral=req.flag("ephemeral"),
    )
    return configuration(req.ctx, proxy)


@router.get(f"{BASE}/{{id}}/config", acl="proxy.{id}.read", response={"type": "object"})
def proxy_config(req: Request) -> dict[str, Any]:
    """The configuration the proxy receives at its next check-in."""
    return configuration(req.ctx, entities.load(req.ctx, PROXY, req.params["id"]))


@router.get(f"{BASE}/{{id}}/preprocessorRules", acl="proxy.{id}.read", response={"type": "object"})
def proxy_preprocessor_rules(req: Request) -> dict[str, Any]:
    """The proxy's preprocessor rules set through the API, by port ({} when none)."""
    text = entities.load(req.ctx, PROXY, req.params["id"]).doc.get("preprocessorRules")
    return parse_rules(text) if text else {}


CATEGORY = Category(router, permission="agent_management")
