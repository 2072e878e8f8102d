"""Grafana's alert rules and rule groups (/api/v1/provisioning/alert-rules,
/api/v1/provisioning/folder/{folderUid}/rule-groups/{group}): a view over alerts
(categories/alert.py).

An alert rule IS an alert: the uid is the alert's id, the title its name. A rule's data
is one query of opsplane's data source (Wavefront's language) and, optionally, a reduce
and a threshold expression; together they are the alert's condition:

    A: ts(cpu)                 ->  condition  ts(cpu) > 80
    B: reduce(A, last)
    C: threshold(B, gt 80)         (mean/max/min/sum/count over A's range: mavg(10m, ts(cpu)) > 80, ...)

A condition that is the query itself fires where it is non-zero (Wavefront's rule). Read
back, an alert's condition is split the same way when it has that shape (a comparison of
a query, or of mavg/mmax/mmin/msum/mcount over one, with a number), else it is shown as
one query that is the condition. Anything else Grafana can say (math, classic conditions,
other data sources, ranges, a query window that does not end now) is a 400 naming it.

The rule's folder and group are alert tags (`grafana-folder:<uid>`, `grafana-group:<name>`),
its labels are tags `key:value`, `for` is the alert's minutes, the group's interval its
checking frequency (processRateMinutes), isPaused a snooze until unsnoozed, the
description and runbook_url annotations its additional information and runbook link, and
notification_settings.receiver (a contact point's name) its alert target.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from chalicelib import query
from chalicelib.categories.alert import ALERT, FOREVER, snoozed_until
from chalicelib.categories.alert_views import AlertBody
from chalicelib.categories.notificant import NOTIFICANT
from chalicelib.compat.grafana_alerting.rule_views import (
    AlertQuery,
    AlertRule,
    AlertRuleBody,
    RuleGroup,
    RuleGroupBody,
)
from chalicelib.dashboards import store as dashboards
from chalicelib.domain import entities
from chalicelib.domain.context import Context
from chalicelib.errors import Forbidden, Invalid, NotFound
from chalicelib.http.reply import Reply, bare
from chalicelib.http.request import Request, validation_message
from chalicelib.http.router import Router
from chalicelib.query import ast
from chalicelib.store.repository import Entity

router = Router("grafana_alerting")

RULES = "/api/v1/provisioning/alert-rules"
BY_UID = f"{RULES}/{{uid}}"
GROUP = "/api/v1/provisioning/folder/{folderUid}/rule-groups/{group}"
OPSPLANE, EXPRESSIONS = "opsplane", "__expr__"
FOLDER_TAG, GROUP_TAG = "grafana-folder:", "grafana-group:"
REDUCERS = {"mean": "mavg", "max": "mmax", "min": "mmin", "sum": "msum", "count": "mcount"}
REDUCED = {fn: reducer for reducer, fn in REDUCERS.items()}
THRESHOLDS = {"gt": ">", "lt": "<"}
COMPARED = {op: kind for kind, op in THRESHOLDS.items()}
DURATION = re.compile(r"(?:(\d{1,4})h)?(?:(\d{1,6})m)?(?:(\d{1,7})s)?\Z")
UNIT_SECONDS = {"w": 604_800, "d": 86_400, "h": 3600, "m": 60, "s": 1}
DEFAULT_RANGE = 600  # seconds a query reads when the condition does not say (Grafana's default)
DEFAULT_SEVERITY = "WARN"
DEFAULT_INTERVAL = 60  # Wavefront checks an alert every minute unless told otherwise
ANNOTATIONS = ("description", "runbook_url")


# ---- data and condition -> the alert's condition ------------------------------------------


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _window(seconds: int) -> str:
    """Seconds as Wavefront's duration (the largest unit that divides them)."""
    unit = next(u for u, size in UNIT_SECONDS.items() if u != "w" and seconds % size == 0)
    return f"{seconds // UNIT_SECONDS[unit]}{unit}"


def _operand(text: str, where: str) -> str:
    """A query as the operand of a comparison (parenthesized when it is an operation)."""
    try:
        tree = query.parse(text).tree
    except Invalid as exc:
        raise Invalid(f"{where}: {exc.message}") from exc
    return f"({text.strip()})" if isinstance(tree, (ast.Binary, ast.Not)) else text.strip()


def _query_text(item: AlertQuery, where: str) -> str:
    if item.datasourceUid != OPSPLANE:
        raise Invalid(f"{where}.datasourceUid: a rule queries opsplane's metric store ({OPSPLANE!r}) only")
    text = item.model.expr if item.model.expr is not None else item.model.query
    if not text or not text.strip():
        raise Invalid(f"{where}.model.expr: the query is required (Wavefront's language)")
    if item.relativeTimeRange.to != 0:
        raise Invalid(f"{where}.relativeTimeRange.to: a rule's query reads up to now (0)")
    return text


def condition_of(body: AlertRuleBody) -> tuple[str, str]:
    """The alert's condition and display expression from a rule's data (400 naming what
    opsplane cannot say)."""
    items = {item.refId: (n, item) for n, item in enumerate(body.data)}
    if len(items) != len(body.data):
        raise Invalid("data: each refId must be unique")
    if body.condition not in items:
        raise Invalid(f"condition: no data item has refId {body.condition!r}")
    used: list[str] = []

    def node(ref: str | None, where: str) -> tuple[int, AlertQuery]:
        if ref not in items:
            raise Invalid(f"{where}.model.expression: no data item has refId {ref!r}")
        used.append(str(ref))
        return items[str(ref)]

    n, top = node(body.condition, "condition")
    where = f"data.{n}"
    if top.datasourceUid != EXPRESSIONS:
        text = _query_text(top, where)
        _operand(text, where)
        condition, display = text.strip(), text.strip()
    else:
        if top.model.type != "threshold":
            raise Invalid(
                f"{where}.model.type: the condition must be a threshold (or the query), not {top.model.type!r}"
            )
        evaluator = top.model.conditions[0] if top.model.conditions else None
        if evaluator is None or evaluator.evaluator.type not in THRESHOLDS or len(evaluator.evaluator.params) != 1:
            raise Invalid(f"{where}.model.conditions: one evaluator, gt or lt with one parameter")
        op, limit = THRESHOLDS[evaluator.evaluator.type], evaluator.evaluator.params[0]
        m, below = node(top.model.expression, where)
        reducer, window = "last", 0
        if below.datasourceUid == EXPRESSIONS:
            if below.model.type != "reduce" or below.model.reducer not in ("last", *REDUCERS):
                raise Invalid(
                    f"data.{m}.model: a threshold reads a reduce (last, mean, max, min, sum, count) or the query"
                )
            reducer = below.model.reducer
            m, below = node(below.model.expression, f"data.{m}")
            if below.datasourceUid == EXPRESSIONS:
                raise Invalid(f"data.{m}: a reduce reads the query")
        text = _query_text(below, f"data.{m}")
        operand = _operand(text, f"data.{m}")
        if reducer != "last":
            window = below.relativeTimeRange.from_
            if window < 1:
                raise Invalid(f"data.{m}.relativeTimeRange.from: a {reducer} needs a range of at least 1 second")
            operand = f"{REDUCERS[reducer]}({_window(window)}, {text.strip()})"
        condition, display = f"{operand} {op} {_number(limit)}", text.strip()
    unused = sorted(set(items) - set(used))
    if unused:
        raise Invalid(f"data: {', '.join(unused)} not used by the condition (opsplane keeps only its chain)")
    return condition, display


# ---- the alert's condition -> data ---------------------------------------------------------


def _item(ref: str, model: dict[str, Any], *, source: str = EXPRESSIONS, seconds: int = 0) -> dict[str, Any]:
    return {
        "refId": ref,
        "queryType": "",
        "relativeTimeRange": {"from": seconds, "to": 0},
        "datasourceUid": source,
        "model": {"refId": ref, **model},
    }


def _limit(node: ast.Node) -> float | None:
    if isinstance(node, ast.Number):
        return float(node.text)
    if isinstance(node, ast.Negate) and isinstance(node.operand, ast.Number):
        return -float(node.operand.text)
    return None


def _seconds(duration: ast.Node) -> int | None:
    if not isinstance(duration, ast.Duration):
        return None
    return int(duration.text[:-1]) * UNIT_SECONDS[duration.text[-1]]


def data_of(condition: str) -> tuple[list[dict[str, Any]], str]:
    """A rule's data and condition refId from an alert's condition (module doc)."""
    whole = ([_item("A", {"expr": condition}, source=OPSPLANE, seconds=DEFAULT_RANGE)], "A")
    found = query.parsed(condition)
    tree = found.tree if found is not None else None
    if not isinstance(tree, ast.Binary) or tree.op not in COMPARED or _limit(tree.right) is None:
        return whole
    limit = _limit(tree.right)
    inner, reducer, seconds = tree.left, "last", DEFAULT_RANGE
    if isinstance(tree.left, ast.Call) and tree.left.name in REDUCED and len(tree.left.args) == 2:
        window = _seconds(tree.left.args[0])
        if window is not None:
            inner, reducer, seconds = tree.left.args[1], REDUCED[tree.left.name], window
    text = inner.render()
    threshold = {"type": COMPARED[tree.op], "params": [limit]}
    return [
        _item("A", {"expr": text}, source=OPSPLANE, seconds=seconds),
        _item("B", {"type": "reduce", "expression": "A", "reducer": reducer}),
        _item("C", {"type": "threshold", "expression": "B", "conditions": [{"evaluator": threshold}]}),
    ], "C"


# ---- alert <-> rule ---------------------------------------------------------------------


def _tagged(entity: Entity, prefix: str) -> str:
    return next((t[len(prefix) :] for t in entity.tags if t.startswith(prefix)), "")


def _labels(entity: Entity) -> dict[str, str]:
    pairs = (t.split(":", 1) for t in entity.tags if ":" in t and not t.startswith("grafana-"))
    return {k: v for k, v in pairs}


def iso_time(ms: int) -> str:
    """Epoch ms as Grafana's ISO 8601 time (UTC)."""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def rule(entity: Entity, receivers: dict[str, str]) -> dict[str, Any]:
    """An alert as Grafana's alert rule (receivers: alert target id -> contact point name)."""
    doc = entity.doc
    data, condition = data_of(str(doc.get("condition", "")))
    annotations = {}
    if doc.get("additionalInformation"):
        annotations["description"] = doc["additionalInformation"]
    if doc.get("runbookLinks"):
        annotations["runbook_url"] = doc["runbookLinks"][0]
    out: dict[str, Any] = {
        "uid": entity.id,
        "orgID": 1,
        "folderUID": _tagged(entity, FOLDER_TAG),
        "ruleGroup": _tagged(entity, GROUP_TAG),
        "title": doc.get("name", ""),
        "condition": condition,
        "data": data,
        "updated": iso_time(entity.updated),
        "noDataState": "NoData",
        "execErrState": "Error",
        "for": f"{int(doc.get('minutes', 1))}m",
        "labels": _labels(entity),
        "annotations": annotations,
        "isPaused": snoozed_until(entity) is not None,
        "provenance": "",
    }
    target = str(doc.get("target") or "")
    if target.startswith("target:") and target[len("target:") :] in receivers:
        out["notification_settings"] = {"receiver": receivers[target[len("target:") :]]}
    return out


def receivers(ctx: Context) -> dict[str, str]:
    """Alert target id -> its title (the contact point's name), of the targets visible."""
    return {e.id: str(e.doc.get("title", "")) for e in entities.visible(ctx, NOTIFICANT)}


def _minutes(text: str) -> int:
    """Grafana's `for` ("5m", "1h30m", "0s") as whole minutes, at least 1 (Wavefront checks
    once a minute: a rule pending no time fires at the first check that finds it true)."""
    found = DURATION.match(text)
    if not text or not found:
        raise Invalid(f"for: a duration such as 5m or 1h30m, not {text!r}")
    hours, minutes, seconds = (int(x or 0) for x in found.groups())
    total = hours * 3600 + minutes * 60 + seconds
    if total % 60:
        raise Invalid("for: whole minutes (an alert's condition is checked once a minute)")
    return max(1, total // 60)


def _tags(body: AlertRuleBody, kept: list[str]) -> list[str]:
    """The alert's tags: its plain tags kept, the folder, group and labels set."""
    for key, value in body.labels.items():
        if ":" in key or key.startswith("grafana-") or not value:
            raise Invalid(f"labels.{key}: a label is an alert tag key:value (no ':' in the key, a value)")
    tags = [t for t in kept if ":" not in t]
    tags += [f"{FOLDER_TAG}{body.folderUID}", f"{GROUP_TAG}{body.ruleGroup}"]
    tags += [f"{k}:{v}" for k, v in sorted(body.labels.items())]
    for tag in tags:
        try:
            entities.valid_tag(tag)
        except Invalid as exc:
            raise Invalid(f"ruleGroup, folderUID, labels: {exc.message}") from exc
    return tags


def _target(body: AlertRuleBody, names: dict[str, str], doc: dict[str, Any]) -> dict[str, Any]:
    """The alert's target: the receiver's alert target; without one, what it had."""
    if body.notification_settings is None:
        return {k: doc[k] for k in ("target", "targets") if k in doc}
    wanted = body.notification_settings.receiver
    found = [i for i, name in names.items() if name == wanted]
    if not found:
        raise Invalid(f"notification_settings.receiver: no contact point named {wanted!r}")
    return {"target": f"target:{found[0]}"}


def alert_body(ctx: Context, body: AlertRuleBody, doc: dict[str, Any], interval: int | None) -> AlertBody:
    """The alert's body: the rule over what the alert keeps (doc), validated as an alert."""
    if doc.get("alertType") == "THRESHOLD":
        raise Invalid("This alert has a condition per severity (THRESHOLD): change it through /api/v2/alert")
    unknown = sorted(set(body.annotations) - set(ANNOTATIONS))
    if unknown:
        raise Invalid(f"annotations.{unknown[0]}: only {', '.join(ANNOTATIONS)} are kept")
    try:
        dashboards.folders(ctx).get(body.folderUID)
    except (NotFound, Invalid) as exc:
        raise Invalid(f"folderUID: no folder {body.folderUID!r}") from exc
    condition, display = condition_of(body)
    kept = {k: v for k, v in doc.items() if not k.startswith("_") and k not in ("target", "targets")}
    for key in ("additionalInformation", "runbookLinks", "conditions", "displayExpression"):
        kept.pop(key, None)
    mapped: dict[str, Any] = {
        "severity": DEFAULT_SEVERITY,
        **kept,
        **_target(body, receivers(ctx), doc),
        "name": body.title,
        "alertType": "CLASSIC",
        "conditionQueryType": "WQL",
        "condition": condition,
        "displayExpression": display,
        "minutes": _minutes(body.for_),
    }
    if interval is not None:
        mapped["processRateMinutes"] = interval // 60
    if "description" in body.annotations:
        mapped["additionalInformation"] = body.annotations["description"]
    if "runbook_url" in body.annotations:
        mapped["runbookLinks"] = [body.annotations["runbook_url"]]
    try:
        return AlertBody.model_validate(mapped)
    except ValidationError as exc:
        raise Invalid(validation_message(exc)) from exc


# ---- reading and writing alerts -----------------------------------------------------------


def group_members(ctx: Context, folder: str, group: str) -> list[Entity]:
    """The alerts of one rule group (tagged with its folder and name)."""
    tags = {f"{FOLDER_TAG}{folder}", f"{GROUP_TAG}{group}"}
    return [e for e in entities.visible(ctx, ALERT) if tags <= set(e.tags)]


def _group_interval(ctx: Context, folder: str, group: str) -> int | None:
    """The checking frequency (seconds) of a group's alerts, None when it has none."""
    members = group_members(ctx, folder, group)
    return int(members[0].doc.get("processRateMinutes", 1)) * 60 if members else None


def _snooze(doc: dict[str, Any], current: dict[str, Any], paused: bool) -> None:
    """isPaused: a snooze until unsnoozed; a running snooze stays while paused."""
    if paused:
        doc["_snoozed"] = current.get("_snoozed", FOREVER)
    else:
        doc.pop("_snoozed", None)


def _require(ctx: Context, access: str) -> None:
    if not ctx.can(access):
        raise Forbidden(f"Missing permission {access}")


def create(ctx: Context, body: AlertRuleBody, interval: int | None = None) -> Entity:
    """A new alert from a rule (in its group: the group's checking frequency)."""
    if body.uid:
        raise Invalid("uid: opsplane names alerts itself; leave uid out of a new rule")
    if interval is None:
        interval = _group_interval(ctx, body.folderUID, body.ruleGroup)
    alert = alert_body(ctx, body, {}, interval)
    return _create(ctx, body, alert)


def _create(ctx: Context, body: AlertRuleBody, alert: AlertBody) -> Entity:
    doc, _ = ALERT.to_doc(alert)
    _snooze(doc, {}, body.isPaused)
    return entities.create_from(ctx, ALERT, doc, _tags(body, []))


def prepared(ctx: Context, uid: str, body: AlertRuleBody, interval: int | None) -> tuple[AlertBody, list[str]]:
    """What an update writes (checked before anything is written)."""
    if body.uid not in (None, "", uid):
        raise Invalid("uid: a rule's uid cannot change")
    _require(ctx, ALERT.access("update", uid))
    current = entities.load(ctx, ALERT, uid, modify=True)
    return alert_body(ctx, body, current.doc, interval), _tags(body, list(current.tags))


def _write(ctx: Context, uid: str, body: AlertRuleBody, alert: AlertBody, tags: list[str]) -> Entity:
    doc, _ = ALERT.to_doc(alert)

    def edit(entity: Entity) -> None:
        managed = {k: v for k, v in entity.doc.items() if k.startswith("_")}
        new = {**doc, **managed}
        _snooze(new, entity.doc, body.isPaused)
        entity.doc = new
        entity.tags = sorted(set(tags))

    return entities.change(ctx, ALERT, uid, edit)


def update(ctx: Context, uid: str, body: AlertRuleBody) -> Entity:
    """Change the alert a rule is (its group's checking frequency when it moves group)."""
    interval = _group_interval(ctx, body.folderUID, body.ruleGroup)
    alert, tags = prepared(ctx, uid, body, interval)
    return _write(ctx, uid, body, alert, tags)


def replace_group(ctx: Context, folder: str, group: str, body: RuleGroupBody) -> list[Entity]:
    """The group becomes exactly the rules sent: each with a uid changes that alert, each
    without one is a new alert, the group's other alerts go to the trash. Every rule is
    checked before anything is written."""
    if body.interval % 60:
        raise Invalid("interval: whole minutes (the alerts' checking frequency)")
    _require(ctx, ALERT.access("create"))
    plans: list[tuple[str | None, AlertRuleBody, AlertBody, list[str]]] = []
    for n, sent in enumerate(body.rules):
        if (sent.folderUID, sent.ruleGroup) != (folder, group):
            raise Invalid(f"rules.{n}: folderUID and ruleGroup must be the group's ({folder!r}, {group!r})")
        if sent.uid:
            plans.append((sent.uid, sent, *prepared(ctx, sent.uid, sent, body.interval)))
        else:
            plans.append((None, sent, alert_body(ctx, sent, {}, body.interval), []))
    kept = {uid for uid, *_ in plans if uid}
    leaving = [e for e in group_members(ctx, folder, group) if e.id not in kept]
    for entity in leaving:
        _require(ctx, ALERT.access("delete", entity.id))
    written = [
        _write(ctx, uid, sent, alert, tags) if uid else _create(ctx, sent, alert) for uid, sent, alert, tags in plans
    ]
    for entity in leaving:
        entities.delete(ctx, ALERT, entity.id)
    return written


def group_view(ctx: Context, folder: str, group: str) -> dict[str, Any]:
    members = group_members(ctx, folder, group)
    if not members:
        raise NotFound(f"Rule group {group!r} not found in folder {folder!r}")
    names = receivers(ctx)
    interval = int(members[0].doc.get("processRateMinutes", 1)) * 60
    return {"title": group, "folderUid": folder, "interval": interval, "rules": [rule(e, names) for e in members]}


# ---- routes ---------------------------------------------------------------------------------


@router.get(RULES, acl="alert.read", response=list[AlertRule])
def get_alert_rules(req: Request) -> Reply:
    """Every alert, as Grafana's alert rules."""
    names = receivers(req.ctx)
    return bare([rule(e, names) for e in entities.visible(req.ctx, ALERT)])


@router.get(BY_UID, acl="alert.{uid}.read", response=AlertRule)
def get_alert_rule(req: Request) -> Reply:
    """One alert, as a Grafana alert rule."""
    entity = entities.load(req.ctx, ALERT, req.params["uid"])
    return bare(rule(entity, receivers(req.ctx)))


@router.post(RULES, acl="alert.create", body=AlertRuleBody, response=AlertRule, status=201)
def create_alert_rule(req: Request) -> Reply:
    """Create an alert from a Grafana alert rule."""
    entity = create(req.ctx, req.model(AlertRuleBody))
    return bare(rule(entity, receivers(req.ctx)), status=201)


@router.put(BY_UID, acl="alert.{uid}.update", body=AlertRuleBody, response=AlertRule)
def update_alert_rule(req: Request) -> Reply:
    """Change an alert through its Grafana alert rule."""
    entity = update(req.ctx, req.params["uid"], req.model(AlertRuleBody))
    return bare(rule(entity, receivers(req.ctx)))


@router.delete(BY_UID, acl="alert.{uid}.delete", status=204)
def delete_alert_rule(req: Request) -> Reply:
    """Delete an alert rule (the alert goes to the trash, as Wavefront's delete)."""
    entities.delete(req.ctx, ALERT, req.params["uid"])
    return Reply("", status=204, raw=True)


@router.get(GROUP, acl="alert.read", response=RuleGroup)
def get_rule_group(req: Request) -> Reply:
    """A rule group: the alerts tagged with its folder and name."""
    return bare(group_view(req.ctx, req.params["folderUid"], req.params["group"]))


@router.put(GROUP, acl="alert.read", body=RuleGroupBody, response=RuleGroup)
def update_rule_group(req: Request) -> Reply:
    """Replace a rule group's rules and interval; needs alert.create and each alert's ACL."""
    folder, group = req.params["folderUid"], req.params["group"]
    body = req.model(RuleGroupBody)
    if not replace_group(req.ctx, folder, group, body):
        return bare({"title": group, "folderUid": folder, "interval": body.interval, "rules": []})
    return bare(group_view(req.ctx, folder, group))
