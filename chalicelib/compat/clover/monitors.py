"""CloverDX dashboards and their monitors (/clover/api/rest/v1/dashboards/{id}/monitors).

A monitor is an opsplane alert attached to a dashboard: one alert whose
`alertTriageDashboards` names the dashboard. It is stored, listed, versioned and trashed as
an alert (the Wavefront dialect sees and changes the same object); this dialect shows it in
CloverDX's shape and maps its fields:

    name -> name            description -> additionalInformation   condition -> condition
    minutes -> minutes      severity -> severity                   enabled=false -> snoozed
    alertTargetIds -> `target:<id>` entries of `target` (the alert targets it notifies)

Every route needs the Monitoring permission (`monitor.#`), as in CloverDX; a dashboard and
an alert keep their own entity ACLs (a monitor on a dashboard the caller may not view is a
403, as the dashboard itself would be).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from chalicelib.categories import notificant
from chalicelib.categories.alert import ALERT, FOREVER, snoozed_until
from chalicelib.categories.alert import to_wire as alert_wire
from chalicelib.compat.clover.views import (
    CloverDashboard,
    CloverDashboardList,
    CloverMonitor,
    CloverMonitorBody,
    CloverMonitorList,
)
from chalicelib.dashboards import store as dashboards
from chalicelib.domain import entities, entity_acl
from chalicelib.domain.context import Context
from chalicelib.errors import Invalid, NotFound
from chalicelib.http.reply import Reply, bare
from chalicelib.http.request import Request
from chalicelib.http.router import Router
from chalicelib.store.repository import Entity

router = Router("clover")

BASE = "/clover/api/rest/v1"
DASHBOARDS = f"{BASE}/dashboards"
DASHBOARD = f"{DASHBOARDS}/{{dashboardId}}"
MONITORS = f"{DASHBOARD}/monitors"
MONITOR = f"{MONITORS}/{{monitorId}}"
ATTACHED = "alertTriageDashboards"
TARGET_PREFIX = "target:"


# ---- the mapping ----------------------------------------------------------------------------


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def dashboard_of(doc: dict[str, Any]) -> str | None:
    """The dashboard an alert document is attached to as a monitor (the first it names)."""
    for entry in doc.get(ATTACHED) or []:
        if isinstance(entry, dict) and entry.get("dashboardId"):
            return str(entry["dashboardId"])
    return None


def target_ids(doc: dict[str, Any]) -> list[str]:
    """The alert targets an alert notifies (its `target:<id>` entries)."""
    refs = notificant.references(doc.get("target"))
    return [r[len(TARGET_PREFIX) :] for r in refs if r.startswith(TARGET_PREFIX)]


def to_monitor(alert: Entity) -> dict[str, Any]:
    """An alert attached to a dashboard, in CloverDX's shape."""
    doc, wire = alert.doc, alert_wire(alert)
    return {
        "id": alert.id,
        "dashboardId": dashboard_of(doc) or "",
        "name": doc.get("name", ""),
        "description": doc.get("additionalInformation"),
        "condition": wire["condition"],
        "minutes": doc.get("minutes", 1),
        "severity": doc.get("severity", "WARN"),
        "enabled": snoozed_until(alert) != FOREVER,
        "alertTargetIds": target_ids(doc),
        "state": wire["status"][0],
        "version": alert.version,
        "createdBy": alert.created_by,
        "created": _iso(alert.created),
        "modifiedBy": alert.updated_by,
        "modified": _iso(alert.updated),
    }


def _check_targets(ctx: Context, ids: list[str]) -> None:
    """Every alert target named exists in the tenant (400 naming the field otherwise)."""
    store = entities.repo(ctx, notificant.NOTIFICANT)
    for target_id in ids:
        try:
            store.get(target_id)
        except (NotFound, Invalid) as exc:
            raise Invalid(f"alertTargetIds: no alert target {target_id}") from exc


def apply(doc: dict[str, Any], body: CloverMonitorBody, dashboard_id: str) -> None:
    """Write a monitor body onto an alert document (its other fields are kept: the
    notification entries that are not alert targets, native-only settings, other dashboards)."""
    doc.update(name=body.name, condition=body.condition, minutes=body.minutes, severity=body.severity)
    if body.description is None:
        doc.pop("additionalInformation", None)
    else:
        doc["additionalInformation"] = body.description
    others = [r for r in notificant.references(doc.get("target")) if not r.startswith(TARGET_PREFIX)]
    refs = [*others, *(TARGET_PREFIX + t for t in body.alertTargetIds)]
    if refs:
        doc["target"] = ",".join(refs)
    else:
        doc.pop("target", None)
    attached = [
        e for e in doc.get(ATTACHED) or [] if not (isinstance(e, dict) and e.get("dashboardId") == dashboard_id)
    ]
    doc[ATTACHED] = [{"dashboardId": dashboard_id}, *attached]
    if body.enabled:
        doc.pop("_snoozed", None)
    else:
        doc["_snoozed"] = FOREVER


# ---- domain operations ----------------------------------------------------------------------


def dashboard(ctx: Context, dashboard_id: str) -> Entity:
    """The dashboard's head row (404 "Dashboard not found", 403 when its ACL hides it)."""
    return dashboards.load(ctx, dashboard_id, head_only=True)


def monitors(ctx: Context, dashboard_id: str) -> list[Entity]:
    """The live alerts attached to a dashboard that the principal may view (one Query)."""
    dashboard(ctx, dashboard_id)
    return [a for a in entities.visible(ctx, ALERT) if dashboard_of(a.doc) == dashboard_id]


def monitor(ctx: Context, dashboard_id: str, monitor_id: str, *, modify: bool = False) -> Entity:
    """One monitor of a dashboard: 404 when the alert is absent or attached elsewhere."""
    dashboard(ctx, dashboard_id)
    try:
        alert = entities.load(ctx, ALERT, monitor_id, modify=modify)
    except Invalid as exc:  # an id the store refuses is no monitor of ours
        raise NotFound(f"Monitor {monitor_id} not found") from exc
    if dashboard_of(alert.doc) != dashboard_id:
        raise NotFound(f"Monitor {monitor_id} not found on dashboard {dashboard_id}")
    return alert


def create(ctx: Context, dashboard_id: str, body: CloverMonitorBody) -> Entity:
    """A new alert attached to the dashboard."""
    dashboard(ctx, dashboard_id)
    _check_targets(ctx, body.alertTargetIds)
    doc: dict[str, Any] = {}
    apply(doc, body, dashboard_id)
    return entities.create_from(ctx, ALERT, doc, None)


def update(ctx: Context, dashboard_id: str, monitor_id: str, body: CloverMonitorBody) -> Entity:
    """Change a monitor's fields (409 when body.version is stale)."""
    current = monitor(ctx, dashboard_id, monitor_id, modify=True)
    if current.doc.get("alertType") == "THRESHOLD":
        raise Invalid(f"Monitor {monitor_id} is a THRESHOLD alert: change its conditions through /api/v2/alert")
    _check_targets(ctx, body.alertTargetIds)

    def edit(alert: Entity) -> None:
        if dashboard_of(alert.doc) != dashboard_id:  # moved meanwhile
            raise NotFound(f"Monitor {monitor_id} not found on dashboard {dashboard_id}")
        apply(alert.doc, body, dashboard_id)

    return entities.change(ctx, ALERT, monitor_id, edit, expected_version=body.version)


def delete(ctx: Context, dashboard_id: str, monitor_id: str) -> None:
    """Move the monitor's alert to the trash (the alerts API can restore it)."""
    monitor(ctx, dashboard_id, monitor_id, modify=True)
    entities.delete(ctx, ALERT, monitor_id)


def dashboard_view(head: Entity) -> dict[str, Any]:
    """A dashboard's head row in CloverDX's shape."""
    return {"id": head.id, "name": dashboards.title_of(head.doc), "description": head.doc.get("description")}


# ---- routes -----------------------------------------------------------------------------


@router.get(DASHBOARDS, acl="monitor.read", response=CloverDashboardList)
def list_dashboards(req: Request) -> Reply:
    """The dashboards monitors can be attached to (those the caller may view)."""
    ctx = req.ctx
    heads = [h for h in dashboards.dashboards(ctx).summaries() if entity_acl.may_view(ctx.principal, h)]
    return bare({"dashboards": [dashboard_view(h) for h in heads]})


@router.get(DASHBOARD, acl="monitor.read", response=CloverDashboard)
def get_dashboard(req: Request) -> Reply:
    """One dashboard."""
    return bare(dashboard_view(dashboard(req.ctx, req.params["dashboardId"])))


@router.get(MONITORS, acl="monitor.read", response=CloverMonitorList)
def list_monitors(req: Request) -> Reply:
    """The monitors of a dashboard."""
    found = monitors(req.ctx, req.params["dashboardId"])
    return bare({"monitors": [to_monitor(a) for a in found]})


@router.post(MONITORS, acl="monitor.create", body=CloverMonitorBody, response=CloverMonitor, status=201)
def create_monitor(req: Request) -> Reply:
    """Create a monitor on a dashboard (an alert that notifies the alert targets named)."""
    body = req.model(CloverMonitorBody)
    dashboard_id = req.params["dashboardId"]
    alert = create(req.ctx, dashboard_id, body)
    return Reply(
        to_monitor(alert),
        status=201,
        raw=True,
        headers={"Location": f"{DASHBOARDS}/{dashboard_id}/monitors/{alert.id}"},
    )


@router.get(MONITOR, acl="monitor.{monitorId}.read", response=CloverMonitor)
def get_monitor(req: Request) -> Reply:
    """One monitor."""
    return bare(to_monitor(monitor(req.ctx, req.params["dashboardId"], req.params["monitorId"])))


@router.put(MONITOR, acl="monitor.{monitorId}.update", body=CloverMonitorBody, response=CloverMonitor)
def update_monitor(req: Request) -> Reply:
    """Replace a monitor's fields (send `version` to refuse a stale write with 409)."""
    body = req.model(CloverMonitorBody)
    return bare(to_monitor(update(req.ctx, req.params["dashboardId"], req.params["monitorId"], body)))


@router.delete(MONITOR, acl="monitor.{monitorId}.delete", status=204)
def delete_monitor(req: Request) -> Reply:
    """Delete a monitor (its alert goes to the trash)."""
    delete(req.ctx, req.params["dashboardId"], req.params["monitorId"])
    return Reply("", status=204, raw=True)
