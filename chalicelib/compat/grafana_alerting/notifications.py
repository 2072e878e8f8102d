"""Grafana's message templates (/api/v1/provisioning/templates) and notification policy
tree (/api/v1/provisioning/policies), stored per tenant.

Both are STORED, not used: opsplane's alert targets render their own Mustache templates
(docs/notificant.md), and an alert notifies the alert targets it names (a rule's
notification_settings.receiver, rules.py), not those a policy routes its labels to.
Grafana's templates are Go templates, which opsplane does not evaluate, so only their
name and size are checked. The tree is checked against what exists: every receiver is a
contact point (an alert target's title) and every mute time interval a mute timing (a
maintenance window's title), so that a tree read back names only real objects.

Templates are entities of kind "alerttemplate" (id: the name); the tree is the entity
"tree" of kind "notificationpolicy". ACLs: `notificant.template.*` and
`notificant.policy.*` (alerts_management's `notificant.#` grants them).
"""

from __future__ import annotations

from typing import Any

from chalicelib.categories.maintenancewindow import MAINTENANCE_WINDOW
from chalicelib.categories.notificant import NOTIFICANT
from chalicelib.compat.grafana_alerting.rule_views import (
    MAX_DEPTH,
    MAX_ROUTES,
    PolicyRoute,
    PolicyTree,
    Template,
    TemplateBody,
)
from chalicelib.compat.grafana_alerting.views import GrafanaMessage
from chalicelib.domain import entities
from chalicelib.domain.context import Context
from chalicelib.errors import Invalid, NotFound
from chalicelib.http.reply import Reply, bare
from chalicelib.http.request import Request
from chalicelib.http.router import Router
from chalicelib.store.repository import Entity, Repository

router = Router("grafana_alerting")

TEMPLATES = "/api/v1/provisioning/templates"
BY_NAME = f"{TEMPLATES}/{{name}}"
POLICIES = "/api/v1/provisioning/policies"
TEMPLATE_KIND, POLICY_KIND, TREE = "alerttemplate", "notificationpolicy", "tree"
MATCH_TYPES = ("=", "!=", "=~", "!~")
# Grafana's own default tree: everything to one receiver, grouped by folder and rule name.
DEFAULT_TREE: dict[str, Any] = {"receiver": "", "group_by": ["grafana_folder", "alertname"]}


# ---- templates ------------------------------------------------------------------------------


def templates(ctx: Context) -> Repository:
    return ctx.repo(TEMPLATE_KIND)


def template_view(entity: Entity) -> dict[str, Any]:
    return {"name": entity.id, "template": entity.doc.get("template", ""), "provenance": ""}


def template_named(ctx: Context, name: str) -> Entity:
    try:
        return templates(ctx).get(name)
    except (NotFound, Invalid) as exc:
        raise NotFound(f"Template {name!r} not found") from exc


def put_template(ctx: Context, name: str, body: TemplateBody) -> Entity:
    """Create or replace a template by name."""
    if not name.strip() or len(name) > 190:
        raise Invalid("name: 1 to 190 characters")
    if body.name not in (None, name):
        raise Invalid("name: must be the path's name")
    store = templates(ctx)
    try:
        return store.update(name, lambda e: e.doc.update(template=body.template), by=ctx.actor, retries=3)
    except NotFound:
        return store.create(name, {"template": body.template}, by=ctx.actor)


# ---- the policy tree ------------------------------------------------------------------------


def policies(ctx: Context) -> Repository:
    return ctx.repo(POLICY_KIND)


def tree_of(ctx: Context) -> dict[str, Any]:
    """The stored tree, or Grafana's default one."""
    try:
        doc = policies(ctx).get(TREE).doc
    except NotFound:
        doc = DEFAULT_TREE
    return {**doc, "provenance": ""}


def check_tree(ctx: Context, root: PolicyRoute) -> None:
    """Every receiver a contact point, every mute time interval a mute timing, every
    matcher a known match type; bounded (400 naming the route)."""
    if not root.receiver:
        raise Invalid("receiver: the root policy needs a receiver (a contact point's name)")
    points = {str(e.doc.get("title", "")) for e in entities.visible(ctx, NOTIFICANT)}
    timings = {str(e.doc.get("title", "")) for e in entities.visible(ctx, MAINTENANCE_WINDOW)}
    count = 0

    def walk(route: PolicyRoute, where: str, depth: int) -> None:
        nonlocal count
        count += 1
        if count > MAX_ROUTES or depth > MAX_DEPTH:
            raise Invalid(f"routes: at most {MAX_ROUTES} routes, {MAX_DEPTH} levels deep")
        if route.receiver and route.receiver not in points:
            raise Invalid(f"{where}receiver: no contact point named {route.receiver!r}")
        for name in route.mute_time_intervals or []:
            if name not in timings:
                raise Invalid(f"{where}mute_time_intervals: no mute timing named {name!r}")
        for n, (_, op, _) in enumerate(route.object_matchers or []):
            if op not in MATCH_TYPES:
                raise Invalid(f"{where}object_matchers.{n}: the match type is one of {', '.join(MATCH_TYPES)}")
        for n, child in enumerate(route.routes or []):
            walk(child, f"{where}routes.{n}.", depth + 1)

    walk(root, "", 1)


def set_tree(ctx: Context, root: PolicyRoute) -> None:
    check_tree(ctx, root)
    doc = root.model_dump(by_alias=True, exclude_none=True)
    store = policies(ctx)
    try:
        store.update(TREE, lambda e: setattr(e, "doc", doc), by=ctx.actor, retries=3)
    except NotFound:
        store.create(TREE, doc, by=ctx.actor)


def reset_tree(ctx: Context) -> None:
    try:
        policies(ctx).purge(TREE)
    except NotFound:
        pass


# ---- routes ---------------------------------------------------------------------------------


@router.get(TEMPLATES, acl="notificant.template.read", response=list[Template])
def get_templates(req: Request) -> Reply:
    """Every message template (stored; opsplane does not render them)."""
    return bare([template_view(e) for e in templates(req.ctx).iterate()])


@router.get(BY_NAME, acl="notificant.template.read", response=Template)
def get_template(req: Request) -> Reply:
    """One message template."""
    return bare(template_view(template_named(req.ctx, req.params["name"])))


@router.put(BY_NAME, acl="notificant.template.update", body=TemplateBody, response=Template, status=202)
def put_template_route(req: Request) -> Reply:
    """Create or replace a message template."""
    return bare(template_view(put_template(req.ctx, req.params["name"], req.model(TemplateBody))), status=202)


@router.delete(BY_NAME, acl="notificant.template.update", status=204)
def delete_template(req: Request) -> Reply:
    """Delete a message template."""
    template_named(req.ctx, req.params["name"])
    templates(req.ctx).purge(req.params["name"])
    return Reply("", status=204, raw=True)


@router.get(POLICIES, acl="notificant.policy.read", response=PolicyTree)
def get_policy_tree(req: Request) -> Reply:
    """The notification policy tree (stored; Grafana's default until one is set)."""
    return bare(tree_of(req.ctx))


@router.put(POLICIES, acl="notificant.policy.update", body=PolicyRoute, response=GrafanaMessage, status=202)
def set_policy_tree(req: Request) -> Reply:
    """Replace the notification policy tree."""
    set_tree(req.ctx, req.model(PolicyRoute))
    return bare({"message": "policies updated"}, status=202)


@router.delete(POLICIES, acl="notificant.policy.update", response=PolicyTree, status=202)
def delete_policy_tree(req: Request) -> Reply:
    """Reset the notification policy tree to Grafana's default."""
    reset_tree(req.ctx)
    return bare(tree_of(req.ctx), status=202)
