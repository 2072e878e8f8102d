"""Integrations (Wavefront IntegrationApi, /api/v2/integration): the catalog that ships with
the product (integration_views.py), and per tenant what was installed from it.

`install` creates the integration's dashboards through the dashboard store (ordinary,
versioned dashboards, tagged `integration.<id>`), `install-all-alerts` its alerts through
the alert kind (notifying the targets the body names); `uninstall` and
`uninstall-all-alerts` remove what they made and nothing else. The tenant's record of one
integration (kind "integration", id = the integration's) lists what was made; each object
is added to it (or taken from it) in the same transaction as its own create (or purge), so
the record never names something that was not made, nor misses something that was. An
object is also marked as made by the integration in its own first version (its note), so
an object deleted and made again by someone else under the same id is not removed.
Installing twice is idempotent: what is there is kept, what is missing is made again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalicelib.categories import crud, notificant, notificant_views
from chalicelib.categories.alert import ALERT
from chalicelib.categories.crud import PAGING
from chalicelib.categories.integration_views import (
    MAX_TARGETS,
    CatalogIntegration,
    InstallAlerts,
    Integration,
    IntegrationManifestGroup,
    IntegrationStatus,
    PagedIntegration,
    catalog,
    groups,
    spec,
)
from chalicelib.dashboards import store
from chalicelib.domain import entities
from chalicelib.domain.context import Context
from chalicelib.domain.entities import Listing
from chalicelib.errors import Conflict, Forbidden, Invalid, NotFound
from chalicelib.http.request import Request
from chalicelib.http.router import Category, Router
from chalicelib.store.repository import Entity, Repository, Writes

router = Router("integration")

BASE = "/api/v2/integration"
KIND = "integration"  # the tenant's record of one integration
DASHBOARDS, ALERTS, INSTALL = "dashboards", "alerts", "installStatus"
INSTALLED, UNINSTALLED, UNDECIDED = "INSTALLED", "UNINSTALLED", "UNDECIDED"
VISIBLE, INVALID, NOT_LOADED = "VISIBLE", "INVALID", "NOT_LOADED"


# ---- the tenant's records ---------------------------------------------------------------------


def records(ctx: Context) -> Repository:
    """The tenant's record of each integration it touched."""
    return ctx.repo(KIND)


def record_of(ctx: Context, integration_id: str) -> Entity:
    """The tenant's record of an integration, made empty the first time."""
    repo = records(ctx)
    found = repo.find(integration_id)
    if found is not None:
        return found
    try:
        return repo.create(integration_id, {DASHBOARDS: [], ALERTS: {}, INSTALL: UNDECIDED}, by=ctx.actor)
    except Conflict:  # made meanwhile
        return repo.get(integration_id)


def note(integration: CatalogIntegration, what: str) -> str:
    """The first-version note of an object an integration made."""
    return f"Installed by the {integration.name} integration ({integration.id}: {what})"


def made_by(repo: Repository, object_id: str, expected: str) -> Entity | None:
    """The object (live or in the trash) when the integration made it, else None."""
    try:
        entity = repo.get(object_id, include_deleted=True)
        first = repo.version(object_id, 1)
    except (NotFound, Invalid):
        return None
    return entity if first.note == expected else None


def exists(repo: Repository, object_id: str) -> bool:
    """Is the id taken (by a live object or one in the trash)?"""
    try:
        repo.get(object_id, include_deleted=True)
    except NotFound:
        return False
    return True


def need(ctx: Context, access: str) -> None:
    """Forbidden unless the caller's ACL holds access (install writes other kinds)."""
    if not ctx.can(access):
        raise Forbidden(f"Missing permission {access}")


def noting(ctx: Context, integration_id: str, edit: Callable[[dict[str, Any]], None]) -> Writes:
    """The writes that change the record inside another write's transaction."""
    _, writes = records(ctx).staged_update(integration_id, lambda e: edit(e.doc), by=ctx.actor)
    return writes


def change_record(ctx: Context, integration_id: str, edit: Callable[[dict[str, Any]], None]) -> Entity:
    """Change the record alone."""
    return records(ctx).update(integration_id, lambda e: edit(e.doc), by=ctx.actor, retries=5)


def with_dashboard(uid: str, present: bool) -> Callable[[dict[str, Any]], None]:
    """A record edit that adds (or drops) a dashboard id."""

    def edit(doc: dict[str, Any]) -> None:
        ids = set(doc.get(DASHBOARDS, []))
        doc[DASHBOARDS] = sorted(ids | {uid} if present else ids - {uid})

    return edit


def with_alert(key: str, alert_id: str | None) -> Callable[[dict[str, Any]], None]:
    """A record edit that names (or, with None, forgets) the alert made for a catalog key."""

    def edit(doc: dict[str, Any]) -> None:
        alerts = dict(doc.get(ALERTS, {}))
        if alert_id is None:
            alerts.pop(key, None)
        else:
            alerts[key] = alert_id
        doc[ALERTS] = alerts

    return edit


# ---- dashboards -------------------------------------------------------------------------------


def install(ctx: Context, integration: CatalogIntegration) -> None:
    """Create the integration's dashboards that are not there. Another dashboard holding
    one's id is a 409 before anything is made; one holding a name is a 409 too, and what
    this call made is removed again."""
    need(ctx, "dashboard.create")
    made = set(record_of(ctx, integration.id).doc.get(DASHBOARDS, []))
    repo = store.dashboards(ctx)
    missing = [
        d
        for d in integration.dashboards
        if d.dashboard.id not in made or made_by(repo, d.dashboard.id, note(integration, d.dashboard.id)) is None
    ]
    for item in missing:
        if exists(repo, item.dashboard.id):
            raise Conflict(
                f"Dashboard {item.dashboard.id} exists and was not made by the {integration.name} integration"
            )
    created: list[str] = []
    try:
        for item in missing:
            uid = item.dashboard.id
            doc = item.dashboard.model_dump(exclude_none=True, exclude={"tags", "version"})
            tags = [f"integration.{integration.id}"]
            record = noting(ctx, integration.id, with_dashboard(uid, True))
            store.create_wavefront(ctx, uid, doc, tags, note=note(integration, uid), extra=record)
            created.append(uid)
    except Conflict:
        remove_dashboards(ctx, integration, created)
        raise
    change_record(ctx, integration.id, lambda doc: doc.update({INSTALL: INSTALLED}))


def remove_dashboards(ctx: Context, integration: CatalogIntegration, uids: list[str]) -> None:
    """Purge the named dashboards the integration made, each taken from the record in its
    purge's transaction (every purge is checked before the first one); ids whose dashboard
    is gone, or was made again by someone else, are only taken from the record."""
    repo = store.dashboards(ctx)
    ours = {uid: made_by(repo, uid, note(integration, uid)) for uid in uids}
    for uid, entity in ours.items():
        if entity is not None:
            need(ctx, f"dashboard.{uid}.delete")
            store.require_entity(ctx.principal, entity, modify=True)
    for uid, entity in ours.items():
        if entity is not None:
            repo.purge(uid, extra=noting(ctx, integration.id, with_dashboard(uid, False)))
        else:
            change_record(ctx, integration.id, with_dashboard(uid, False))


def uninstall(ctx: Context, integration: CatalogIntegration) -> None:
    """Remove the dashboards install made (and nothing else)."""
    record = record_of(ctx, integration.id)
    remove_dashboards(ctx, integration, list(record.doc.get(DASHBOARDS, [])))
    change_record(ctx, integration.id, lambda doc: doc.update({INSTALL: UNINSTALLED}))


# ---- alerts -----------------------------------------------------------------------------------


def check_targets(ctx: Context, target: str | None) -> str | None:
    """The alerts' target list as given, each entry checked: an email address, pd:<key>,
    or target:<id> of an alert target of the tenant (400 naming the entry otherwise)."""
    if target is None or not target.strip():
        return None
    entries = notificant.references(target)
    if len(entries) > MAX_TARGETS:
        raise Invalid(f"target: at most {MAX_TARGETS} entries")
    targets = entities.repo(ctx, notificant.NOTIFICANT)
    for entry in entries:
        kind, _, rest = entry.partition(":")
        if kind == "target" and rest:
            if targets.find(rest) is None:
                raise Invalid(f"target: alert target {rest} not found")
        elif kind == "pd" and rest:
            continue
        elif not notificant_views.EMAIL.match(entry):
            raise Invalid(f"target: {entry!r} is not an email address, pd:<key> or target:<alert target id>")
    return ",".join(entries)


def install_alerts(ctx: Context, integration: CatalogIntegration, target: str | None) -> None:
    """Create the integration's alerts that are not there, notifying target; the ones
    there already get target (a second call with the same body changes nothing)."""
    need(ctx, "alert.create")
    target = check_targets(ctx, target)
    made = dict(record_of(ctx, integration.id).doc.get(ALERTS, {}))
    repo = entities.repo(ctx, ALERT)
    for item in integration.alerts:
        alert_id = made.get(item.key)
        existing = made_by(repo, alert_id, note(integration, item.key)) if alert_id else None
        if existing is not None:
            if existing.doc.get("target") != target:
                entities.change(ctx, ALERT, existing.id, lambda e: retarget(e.doc, target), include_deleted=True)
            continue
        body = item.alert.model_copy(update={"target": target})
        doc, _ = entities.body_doc(body)
        new = entities.new_id(ctx)
        record = noting(ctx, integration.id, with_alert(item.key, new))
        repo.create(
            new,
            doc,
            by=ctx.actor,
            tags=[f"integration.{integration.id}"],
            extra=record,
            note=note(integration, item.key),
        )


def retarget(doc: dict[str, Any], target: str | None) -> None:
    """Set (or with None, clear) an alert's target."""
    if target is None:
        doc.pop("target", None)
    else:
        doc["target"] = target


def uninstall_alerts(ctx: Context, integration: CatalogIntegration) -> None:
    """Remove the alerts install-all-alerts made (and nothing else), each checked first."""
    made = dict(record_of(ctx, integration.id).doc.get(ALERTS, {}))
    repo = entities.repo(ctx, ALERT)
    ours = {key: made_by(repo, alert_id, note(integration, key)) for key, alert_id in made.items()}
    for alert in ours.values():
        if alert is not None:
            need(ctx, ALERT.access("delete", alert.id))
            entities.require(ctx.principal, ALERT, alert, modify=True)
    for key, alert in ours.items():
        if alert is not None:
            repo.purge(alert.id, extra=noting(ctx, integration.id, with_alert(key, None)))
        else:
            change_record(ctx, integration.id, with_alert(key, None))


# ---- what the tenant has ---------------------------------------------------------------------


def status(ctx: Context, record: Entity | None) -> dict[str, Any]:
    """The client's IntegrationStatus: installStatus from the record; contentStatus VISIBLE
    when every dashboard install made is there, INVALID when some were deleted since,
    NOT_LOADED when none was installed."""
    if record is None:
        return {"installStatus": UNDECIDED, "contentStatus": NOT_LOADED}
    made = list(record.doc.get(DASHBOARDS, []))
    present = store.dashboards(ctx).get_many(made) if made else []
    content = NOT_LOADED if not made else VISIBLE if len(present) == len(made) else INVALID
    return {"installStatus": record.doc.get(INSTALL, UNDECIDED), "contentStatus": content}


def wire(
    ctx: Context, integration: CatalogIntegration, record: Entity | None, *, dashboards: bool = True
) -> dict[str, Any]:
    """The client's Integration: the catalog's, with the tenant's status and the ids of the
    alerts it installed (dashboards: with each dashboard's body)."""
    alerts = record.doc.get(ALERTS, {}) if record is not None else {}
    out: dict[str, Any] = {
        "id": integration.id,
        "name": integration.name,
        "version": integration.version,
        "icon": integration.icon,
        "description": integration.description,
        "overview": integration.overview,
        "setup": integration.setup,
        "hidden": False,
        "deleted": False,
        "haveMetricDropdown": False,
        "metrics": {**integration.metrics.model_dump(), "charts": []},
        "dashboards": [
            {
                "name": d.name,
                "description": d.description,
                "url": f"/dashboards/{d.dashboard.id}",
                "dashboardMinObj": {"id": d.dashboard.id, "name": d.name, "description": d.description},
                **({"dashboardObj": d.dashboard.model_dump(exclude_none=True)} if dashboards else {}),
            }
            for d in integration.dashboards
        ],
        "alerts": [
            alert_wire(integration, a.key, a.alert.name, a.description, alerts.get(a.key)) for a in integration.alerts
        ],
        "status": status(ctx, record),
    }
    return out


def alert_wire(
    integration: CatalogIntegration, key: str, name: str, description: str, alert_id: str | None
) -> dict[str, Any]:
    """The client's IntegrationAlert (alertMinObj: the installed alert)."""
    out: dict[str, Any] = {"name": name, "description": description}
    if alert_id:
        out["url"] = f"/alerts/{alert_id}"
        out["alertMinObj"] = {"id": alert_id, "name": name}
    else:
        out["url"] = f"/integration/{integration.id}/alerts/{key}"
    return out


def tenant_records(ctx: Context) -> dict[str, Entity]:
    """The tenant's records, by integration id (one Query)."""
    return {e.id: e for e in records(ctx).iterate()}


def is_installed(record: Entity | None) -> bool:
    """Did the tenant install the integration's dashboards or alerts (and not remove them)?"""
    return record is not None and (record.doc.get(INSTALL) == INSTALLED or bool(record.doc.get(ALERTS)))


def has_content(ctx: Context, record: Entity) -> bool:
    """Is anything the integration made still there?"""
    made = list(record.doc.get(DASHBOARDS, []))
    return bool(record.doc.get(ALERTS)) or bool(made and store.dashboards(ctx).get_many(made))


# ---- routes ------------------------------------------------------------------------------------


def _status_of(req: Request, integration_id: str) -> dict[str, Any]:
    return status(req.ctx, records(req.ctx).find(integration_id))


@router.get(
    BASE,
    acl="integration.read",
    query=(*PAGING, ("excludeDashboard", "boolean", "leave the dashboards' bodies out")),
    paged=True,
    response=PagedIntegration,
)
def get_all_integration(req: Request) -> dict[str, Any]:
    """Every integration of the catalog, with the tenant's status, by name."""
    offset, limit = req.paging()
    with_bodies = not req.flag("excludeDashboard")
    found = list(catalog().values())
    states = tenant_records(req.ctx)
    listing = Listing.of(found, offset, limit, lambda i: wire(req.ctx, i, states.get(i.id), dashboards=with_bodies))
    return crud.page(listing)


def _manifests(req: Request, *, full: bool) -> list[dict[str, Any]]:
    states = tenant_records(req.ctx)
    every = catalog()
    out = []
    for group in groups():
        objs = [wire(req.ctx, every[i], states.get(i), dashboards=full) for i in group.integrations]
        if not full:
            for obj in objs:
                for key in ("overview", "setup", "metrics", "dashboards", "alerts"):
                    obj.pop(key, None)
        out.append(
            {
                "title": group.title,
                "subtitle": group.subtitle,
                "integrations": group.integrations,
                "integrationObjs": objs,
            }
        )
    return out


@router.get(f"{BASE}/manifests", acl="integration.read", response=list[IntegrationManifestGroup])
def get_all_integration_in_manifests(req: Request) -> list[dict[str, Any]]:
    """The catalog in its groups, each integration whole."""
    return _manifests(req, full=True)


@router.get(f"{BASE}/manifests/min", acl="integration.read", response=list[IntegrationManifestGroup])
def get_all_integration_in_manifests_min(req: Request) -> list[dict[str, Any]]:
    """The catalog in its groups, each integration without its content."""
    return _manifests(req, full=False)


@router.get(f"{BASE}/status", acl="integration.read", response=dict[str, IntegrationStatus])
def get_all_integration_statuses(req: Request) -> dict[str, Any]:
    """The tenant's status of every integration, by id."""
    states = tenant_records(req.ctx)
    return {i: status(req.ctx, states.get(i)) for i in catalog()}


@router.get(
    f"{BASE}/installed",
    acl="integration.read",
    query=(
        ("hasContent", "boolean", "only those whose dashboards or alerts are still there"),
        ("returnContent", "boolean", "with the dashboards' bodies"),
    ),
    response=list[Integration],
)
def get_installed_integration(req: Request) -> list[dict[str, Any]]:
    """The integrations the tenant installed (dashboards or alerts)."""
    states = tenant_records(req.ctx)
    chosen = [i for i in catalog().values() if is_installed(states.get(i.id))]
    if req.flag("hasContent"):
        chosen = [i for i in chosen if has_content(req.ctx, states[i.id])]
    with_bodies = req.flag("returnContent")
    return [wire(req.ctx, i, states.get(i.id), dashboards=with_bodies) for i in chosen]


@router.get(
    f"{BASE}/{{id}}",
    acl="integration.{id}.read",
    query=(("refresh", "boolean", "accepted; the catalog ships with the code, every read is current"),),
    response=Integration,
)
def get_integration(req: Request) -> dict[str, Any]:
    """One integration of the catalog, with the tenant's status."""
    req.flag("refresh")  # checked (a boolean), nothing to refresh
    integration = spec(req.params["id"])
    return wire(req.ctx, integration, records(req.ctx).find(integration.id))


@router.get(f"{BASE}/{{id}}/status", acl="integration.{id}.read", response=IntegrationStatus)
def get_integration_status(req: Request) -> dict[str, Any]:
    """The tenant's status of one integration."""
    return _status_of(req, spec(req.params["id"]).id)


@router.post(f"{BASE}/{{id}}/install", acl="integration.{id}.update", response=IntegrationStatus)
def install_integration(req: Request) -> dict[str, Any]:
    """Create the integration's dashboards (also needs dashboard.create)."""
    integration = spec(req.params["id"])
    install(req.ctx, integration)
    return _status_of(req, integration.id)


@router.post(f"{BASE}/{{id}}/uninstall", acl="integration.{id}.update", response=IntegrationStatus)
def uninstall_integration(req: Request) -> dict[str, Any]:
    """Remove the dashboards install made (also needs dashboard.<id>.delete for each)."""
    integration = spec(req.params["id"])
    uninstall(req.ctx, integration)
    return _status_of(req, integration.id)


@router.post(
    f"{BASE}/{{id}}/install-all-alerts", acl="integration.{id}.update", body=InstallAlerts, response=IntegrationStatus
)
def install_all_integration_alerts(req: Request) -> dict[str, Any]:
    """Create the integration's alerts, notifying the body's target (also needs alert.create)."""
    integration = spec(req.params["id"])
    body = req.model(InstallAlerts, default={})
    install_alerts(req.ctx, integration, body.target)
    return _status_of(req, integration.id)


@router.post(f"{BASE}/{{id}}/uninstall-all-alerts", acl="integration.{id}.update", response=IntegrationStatus)
def uninstall_all_integration_alerts(req: Request) -> dict[str, Any]:
    """Remove the alerts install-all-alerts made (also needs alert.<id>.delete for each)."""
    integration = spec(req.params["id"])
    uninstall_alerts(req.ctx, integration)
    return _status_of(req, integration.id)


CATEGORY = Category(router, permission="monitored_application_service_management")
