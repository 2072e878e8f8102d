"""Alert targets and their webhook view: recipients checked per method, Mustache templates
checked on save, the test route's rendering, delete refused while alerts name the target
and unlink in the same transaction, the WEBHOOK-only view, search facets. The real
NotificantApi and WebhookApi are driven in process; answers are read by the client's
deserializer."""

from __future__ import annotations

import re
from typing import Any

import pytest
import wavefront_api_client as wf
from wavefront_api_client.rest import ApiException

from chalicelib.domain.notifications import DELIVER_QUEUE
from chalicelib.store import queues
from tests.functional.test_alert import client_reads, new_alert, wavefront

TARGETS = "/api/v2/notificant"
WEBHOOKS = "/api/v2/webhook"
SEARCH = "/api/v2/search"
HOOK = {
    "title": "ops hook",
    "description": "pages the ops channel",
    "method": "WEBHOOK",
    "recipient": "https://hooks.example.com/ops",
    "template": '{"text": "{{name}}: {{reason}}"}',
    "triggers": ["ALERT_OPENED", "ALERT_RESOLVED"],
    "contentType": "application/json",
    "customHttpHeaders": {"X-Team": "ops"},
}
MAIL = {
    "title": "ops mail",
    "description": "mails the on-call",
    "method": "EMAIL",
    "recipient": "oncall@example.com, lead@example.com",
    "template": "<p>{{name}}</p>",
    "triggers": ["ALERT_OPENED"],
    "emailSubject": "[{{severity}}] {{name}}",
    "isHtmlContent": True,
}
PAGER = {
    "title": "ops pager",
    "description": "pages the on-call",
    "method": "PAGERDUTY",
    "recipient": "0123456789abcdef0123456789ABCDEF",
    "template": "{{subject}}",
    "triggers": ["ALERT_OPENED"],
}


def new_target(api, body: dict[str, Any] = HOOK, path: str = TARGETS, **fields: Any) -> dict[str, Any]:
    status, answer = api.json("POST", path, {**body, **fields})
    assert status == 200, answer
    client_reads(answer, "ResponseContainerNotificant")
    return answer["response"]


def total(api, path: str = TARGETS) -> int:
    status, answer = api.json("GET", path)
    assert status == 200, answer
    return answer["response"]["totalItems"]


def refused(api, method: str, path: str, body: Any = None, code: int = 400) -> str:
    status, answer = api.json(method, path, body)
    assert status == code, answer
    assert answer["status"]["result"] == "ERROR"
    return answer["status"]["message"]


# ---- the real client ------------------------------------------------------------------------


def test_can_serve_the_real_client_through_every_notificant_operation(api):
    targets = wf.NotificantApi(wavefront(api))
    created = targets.create_notificant(body=wf.Notificant(**{_snake(k): v for k, v in HOOK.items()})).response
    assert created.id and created.method == "WEBHOOK" and created.custom_http_headers == {"X-Team": "ops"}
    assert targets.get_notificant(created.id).response.title == "ops hook"
    body = wf.Notificant(**{_snake(k): v for k, v in MAIL.items()})
    updated = targets.update_notificant(created.id, body=body).response
    assert updated.method == "EMAIL" and updated.email_subject == "[{{severity}}] {{name}}"
    page = targets.get_all_notificants(offset=0, limit=10).response
    assert [t.id for t in page.items] == [created.id] and page.total_items == 1
    tested = targets.test_notificant(created.id).response
    assert tested.template == "<p>Sample alert: cpu.load high</p>" and tested.email_subject.startswith("[WARN] ")
    assert targets.delete_notificant(created.id, unlink=True).response.id == created.id
    with pytest.raises(ApiException) as gone:
        targets.get_notificant(created.id)
    assert gone.value.status == 404


def test_can_serve_the_real_client_through_every_webhook_operation(api):
    hooks = wf.WebhookApi(wavefront(api))
    created = hooks.create_webhook(body=wf.Notificant(**{_snake(k): v for k, v in HOOK.items()})).response
    assert created.method == "WEBHOOK"
    assert hooks.get_webhook(created.id).response.recipient == HOOK["recipient"]
    changed = wf.Notificant(**{_snake(k): v for k, v in {**HOOK, "title": "renamed"}.items()})
    assert hooks.update_webhook(created.id, body=changed).response.title == "renamed"
    assert [h.id for h in hooks.get_all_webhooks(offset=0, limit=10).response.items] == [created.id]
    assert hooks.delete_webhook(created.id).response.id == created.id
    assert hooks.get_all_webhooks().response.items == []


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


# ---- bodies ---------------------------------------------------------------------------------


def test_can_create_a_target_of_each_method(api):
    for body in (HOOK, MAIL, PAGER):
        target = new_target(api, body)
        assert target["method"] == body["method"] and target["recipient"] == body["recipient"]
        assert target["version"] == 1 and target["creatorId"] == "admin"
        assert "tags" not in target and "acl" not in target
    assert total(api) == 3


@pytest.mark.parametrize(
    ("fields", "where"),
    [
        ({"recipient": "hooks.example.com/ops"}, "recipient"),
        ({"recipient": "ftp://hooks.example.com/ops"}, "recipient"),
        ({"recipient": "https://hooks.example.com/a b"}, "recipient"),
        ({"method": "EMAIL", "recipient": "oncall@example.com, not-an-address"}, "recipient"),
        ({"method": "EMAIL", "recipient": ",".join(["a@example.com"] * 51)}, "recipient"),
        ({"method": "PAGERDUTY", "recipient": "short-key"}, "recipient"),
        ({"method": "SLACK"}, "method"),
        ({"triggers": []}, "triggers"),
        ({"triggers": ["ALERT_OPENED", "ALERT_EXPLODED"]}, "triggers"),
        ({"contentType": "application/xml"}, "contentType"),
        ({"title": " "}, "title"),
        ({"title": "t" * 257}, "title"),
        ({"description": None}, "description"),
        ({"customHttpHeaders": {"Bad Header": "x"}}, "customHttpHeaders"),
        ({"customHttpHeaders": {"X-Ok": "a\r\nX-Injected: b"}}, "customHttpHeaders"),
        ({"emailSubject": "two\nlines"}, "emailSubject"),
        ({"routes": [{"method": "EMAIL", "target": "nobody", "filter": "env prod*"}]}, "routes.0.target"),
        ({"routes": [{"method": "WEBHOOK", "target": "https://x.example.com", "filter": "env"}]}, "routes.0.filter"),
    ],
)
def test_can_refuse_a_bad_target_naming_the_field_and_write_nothing(api, fields, where):
    message = refused(api, "POST", TARGETS, {**HOOK, **fields})
    assert message.startswith(where), message
    assert total(api) == 0


def test_can_refuse_an_unparsable_template_saying_where(api):
    # WHEN a template leaves a section open, or closes one that is not open
    unclosed = refused(api, "POST", TARGETS, {**HOOK, "template": "line one\n{{#failingAlertSeries}}{{host}}"})
    stray = refused(api, "POST", TARGETS, {**HOOK, "template": "{{name}}\n\n{{/name}}"})
    # THEN 400 naming the field and what the parser says (with a line for the stray close)
    assert unclosed.startswith("template") and "Mustache" in unclosed
    assert stray.startswith("template") and re.search(r"not opened\. line \d+", stray), stray
    # AND a subject that does not parse is refused the same way
    assert refused(api, "POST", TARGETS, {**MAIL, "emailSubject": "{{name"}).startswith("emailSubject")
    # AND an update with a bad template changes nothing
    target = new_target(api)
    refused(api, "PUT", f"{TARGETS}/{target['id']}", {**HOOK, "template": "{{#x}}"})
    assert api.json("GET", f"{TARGETS}/{target['id']}")[1]["response"]["version"] == 1


def test_can_refuse_a_template_over_its_bound(api):
    message = refused(api, "POST", TARGETS, {**HOOK, "template": "x" * 65_537})
    assert message.startswith("template") and "65536" in message
    assert total(api) == 0


def test_can_store_routes_and_drop_an_empty_content_type(api):
    routes = [{"method": "WEBHOOK", "target": "https://prod.example.com/hook", "filter": "env prod*"}]
    target = new_target(api, routes=routes, contentType="", triggers=["ALERT_OPENED", "ALERT_OPENED"])
    assert target["routes"] == routes and "contentType" not in target
    assert target["triggers"] == ["ALERT_OPENED"]


# ---- test: a real ALERT_TESTING notification (delivered: tests/functional/test_delivery.py) ------


def test_can_queue_a_test_notification_and_answer_it_rendered(api):
    # GIVEN a webhook whose template walks the failing series
    template = (
        '{"alert": "{{name}}", "why": "{{reason}}", "severity": "{{severity}}", '
        '"series": [{{#failingAlertSeries}}"{{host}} {{label}} {{stats.last}}"{{/failingAlertSeries}}]}'
    )
    target = new_target(api, template=template, triggers=["ALERT_RESOLVED"])
    # WHEN it is tested
    status, answer = api.json("POST", f"{TARGETS}/test/{target['id']}")
    # THEN the answer is the target, its template rendered as the queued ALERT_TESTING notification
    assert status == 200, answer
    client_reads(answer, "ResponseContainerNotificant")
    tested = answer["response"]
    assert tested["id"] == target["id"] and tested["version"] == 1
    assert tested["template"] == (
        '{"alert": "Sample alert: cpu.load high", "why": "ALERT_TESTING", "severity": "WARN", '
        '"series": ["web-1 cpu.load 3.4"]}'
    )
    assert tested["notificationId"].startswith(f"test-{target['id']}-")
    assert queues.depth(DELIVER_QUEUE) == 1
    # AND the stored template is unchanged
    assert api.json("GET", f"{TARGETS}/{target['id']}")[1]["response"]["template"] == template
    assert refused(api, "POST", f"{TARGETS}/test/1234", code=404)


# ---- delete and unlink ---------------------------------------------------------------------------


def alert_naming(api, target_id: str, **fields: Any) -> dict[str, Any]:
    """A CLASSIC alert whose target list names the alert target beside an email address."""
    return new_alert(api, target=f"oncall@example.com,target:{target_id}", **fields)


def threshold_alert(api, warn: str, severe: str) -> dict[str, Any]:
    """A THRESHOLD alert with these target lists for its warn and severe conditions."""
    return new_alert(
        api,
        name="threshold",
        alertType="THRESHOLD",
        conditions={"warn": "ts(cpu) > 2", "severe": "ts(cpu) > 5"},
        targets={"warn": warn, "severe": severe},
    )


def test_can_refuse_to_delete_a_target_that_alerts_name(api):
    # GIVEN a target named by a CLASSIC alert's target and by a THRESHOLD alert's warn targets
    target = new_target(api)
    classic = alert_naming(api, target["id"], name="classic")
    threshold = threshold_alert(api, f"target:{target['id']}", "pd:0123")
    # WHEN it is deleted without unlink
    message = refused(api, "DELETE", f"{TARGETS}/{target['id']}")
    # THEN 400 naming both alerts, and nothing changed
    assert classic["id"] in message and threshold["id"] in message and "unlink" in message
    assert api.json("GET", f"{TARGETS}/{target['id']}")[0] == 200
    assert api.json("GET", f"/api/v2/alert/{classic['id']}")[1]["response"]["version"] == 1


def test_can_unlink_a_target_from_its_alerts_in_the_delete(api):
    # GIVEN a target named by two alerts (one in the trash), and another target they keep
    target, other = new_target(api), new_target(api, title="other")
    classic = alert_naming(api, target["id"], name="classic")
    threshold = threshold_alert(api, f"target:{target['id']}", f"target:{target['id']}, target:{other['id']}")
    assert api.json("DELETE", f"/api/v2/alert/{threshold['id']}")[0] == 200  # to the trash
    untouched = new_alert(api, name="untouched", target=f"target:{other['id']}")
    # WHEN it is deleted with unlink (as the client sends it)
    status, answer = api.json("DELETE", f"{TARGETS}/{target['id']}?unlink=True")
    # THEN it is gone, and the alerts no longer name it (lists left empty are dropped)
    assert status == 200, answer
    assert answer["response"]["id"] == target["id"]
    assert api.json("GET", f"{TARGETS}/{target['id']}")[0] == 404
    classic_now = api.json("GET", f"/api/v2/alert/{classic['id']}")[1]["response"]
    assert classic_now["target"] == "oncall@example.com" and classic_now["version"] == 2
    threshold_now = api.json("GET", f"/api/v2/alert/{threshold['id']}")[1]["response"]
    assert threshold_now["targets"] == {"severe": f"target:{other['id']}"} and threshold_now["inTrash"] is True
    # AND the alerts' history says what changed; the others are untouched
    history = api.json("GET", f"/api/v2/alert/{classic['id']}/history")[1]["response"]["items"]
    assert history[0]["changeDescription"] == ["Changed target"]
    assert api.json("GET", f"/api/v2/alert/{untouched['id']}")[1]["response"]["version"] == 1
    assert api.json("GET", f"{TARGETS}/{other['id']}")[0] == 200


def test_can_refuse_an_unlink_past_the_transaction_bound(api):
    from chalicelib.categories.notificant import MAX_UNLINKED_ALERTS

    # GIVEN a target named by one alert more than one delete may unlink
    target = new_target(api)
    alerts = [alert_naming(api, target["id"], name=f"a{n}") for n in range(MAX_UNLINKED_ALERTS + 1)]
    # WHEN it is deleted with unlink THEN 400 saying the bound, and nothing was written
    message = refused(api, "DELETE", f"{TARGETS}/{target['id']}?unlink=true")
    assert str(MAX_UNLINKED_ALERTS) in message
    assert api.json("GET", f"{TARGETS}/{target['id']}")[0] == 200
    assert all(api.json("GET", f"/api/v2/alert/{a['id']}")[1]["response"]["version"] == 1 for a in alerts)
    # AND once one alert lets it go, the bound holds and the delete goes through
    body = {"name": "a0", "condition": "ts(cpu.load) > 2", "minutes": 5}
    assert api.json("PUT", f"/api/v2/alert/{alerts[0]['id']}", body)[0] == 200
    assert api.json("DELETE", f"{TARGETS}/{target['id']}?unlink=true")[0] == 200
    after = [api.json("GET", f"/api/v2/alert/{a['id']}")[1]["response"] for a in alerts]
    assert [a.get("target") for a in after] == [None] + ["oncall@example.com"] * MAX_UNLINKED_ALERTS


def test_can_refuse_the_whole_unlink_when_an_alert_changes_meanwhile(api):
    from chalicelib.categories.notificant import NOTIFICANT, alerts_naming, unlinking
    from chalicelib.domain import entities
    from chalicelib.errors import VersionMismatch
    from chalicelib.store.repository import chain

    # GIVEN a target named by two alerts, and the unlink's writes staged
    target = new_target(api)
    first, second = alert_naming(api, target["id"], name="first"), alert_naming(api, target["id"], name="second")
    ctx = api.context()
    staged = chain(*unlinking(ctx, target["id"], alerts_naming(ctx, target["id"])))
    # WHEN another writer changes the second alert before the transaction runs
    body = {"name": "second, edited", "condition": "ts(cpu.load) > 2", "minutes": 5, "target": f"target:{target['id']}"}
    assert api.json("PUT", f"/api/v2/alert/{second['id']}", body)[0] == 200
    # THEN the delete with its unlink is refused as a whole
    with pytest.raises(VersionMismatch) as lost:
        entities.repo(ctx, NOTIFICANT).purge(target["id"], extra=staged)
    assert lost.value.status == 409
    assert api.json("GET", f"{TARGETS}/{target['id']}")[0] == 200
    first_now = api.json("GET", f"/api/v2/alert/{first['id']}")[1]["response"]
    assert first_now["version"] == 1 and target["id"] in first_now["target"]


def test_can_refuse_to_unlink_an_alert_kept_in_s3(api):
    import secrets

    # GIVEN a target named by an alert whose document is too large for its item (kept in S3)
    target = new_target(api)
    alert = alert_naming(api, target["id"], additionalInformation=secrets.token_hex(150_000))
    # WHEN the target is deleted with unlink THEN 400 naming that alert, and nothing was written
    message = refused(api, "DELETE", f"{TARGETS}/{target['id']}?unlink=true")
    assert alert["id"] in message and "too large" in message
    assert api.json("GET", f"{TARGETS}/{target['id']}")[0] == 200
    assert api.json("GET", f"/api/v2/alert/{alert['id']}")[1]["response"]["version"] == 1


def test_can_refuse_an_unlink_of_an_alert_the_caller_may_not_change(api, make_user):
    # GIVEN a target named by an alert, and a user who manages targets but not alerts
    target = new_target(api)
    alert = alert_naming(api, target["id"])
    targets_only = make_user(["notificant.#"])
    # WHEN that user deletes it with unlink THEN 403, and nothing was written
    status, answer = api.json("DELETE", f"{TARGETS}/{target['id']}?unlink=true", token=targets_only.token)
    assert status == 403 and f"alert.{alert['id']}.update" in answer["status"]["message"], answer
    assert api.json("GET", f"{TARGETS}/{target['id']}")[0] == 200
    assert api.json("GET", f"/api/v2/alert/{alert['id']}")[1]["response"]["version"] == 1


def test_can_delete_a_target_no_alert_names(api):
    target = new_target(api, PAGER)
    new_alert(api, target="pd:0123456789abcdef0123456789ABCDEF")  # a PagerDuty key, not the target
    status, answer = api.json("DELETE", f"{TARGETS}/{target['id']}")
    assert status == 200, answer
    client_reads(answer, "ResponseContainerNotificant")
    assert total(api) == 0
    assert refused(api, "DELETE", f"{TARGETS}/{target['id']}", code=404)


# ---- the webhook view --------------------------------------------------------------------------------


def test_can_show_only_webhooks_through_the_webhook_view(api):
    # GIVEN one target of each method
    hook, mail = new_target(api, HOOK), new_target(api, MAIL)
    new_target(api, PAGER)
    # THEN /webhook lists and finds only the webhook
    status, answer = api.json("GET", f"{WEBHOOKS}?offset=0&limit=10")
    assert status == 200 and [h["id"] for h in answer["response"]["items"]] == [hook["id"]]
    assert answer["response"]["totalItems"] == 1 and answer["response"]["moreItems"] is False
    assert api.json("GET", f"{WEBHOOKS}/{hook['id']}")[1]["response"]["title"] == "ops hook"
    # AND answers 404 for the others, on every route, changing nothing
    for method, body in (("GET", None), ("PUT", HOOK), ("DELETE", None)):
        refused(api, method, f"{WEBHOOKS}/{mail['id']}", body, code=404)
    assert api.json("GET", f"{TARGETS}/{mail['id']}")[1]["response"]["version"] == 1
    # AND /notificant still lists all three
    assert total(api) == 3


def test_can_create_only_webhooks_through_the_webhook_view(api):
    # WHEN the method is left out THEN it is WEBHOOK; the same object shows under /notificant
    hook = new_target(api, {k: v for k, v in HOOK.items() if k != "method"}, path=WEBHOOKS)
    assert hook["method"] == "WEBHOOK"
    assert api.json("GET", f"{TARGETS}/{hook['id']}")[1]["response"] == hook
    # WHEN another method is asked for THEN 400 naming it, nothing written
    assert refused(api, "POST", WEBHOOKS, MAIL).startswith("method")
    assert refused(api, "PUT", f"{WEBHOOKS}/{hook['id']}", MAIL).startswith("method")
    assert total(api) == 1 and total(api, WEBHOOKS) == 1


def test_can_page_webhooks(api):
    ids = {new_target(api)["id"] for _ in range(3)}
    new_target(api, MAIL)
    first = api.json("GET", f"{WEBHOOKS}?offset=0&limit=2")[1]["response"]
    rest = api.json("GET", f"{WEBHOOKS}?offset=2&limit=2")[1]["response"]
    assert (first["totalItems"], first["moreItems"], rest["moreItems"]) == (3, True, False)
    assert {h["id"] for h in first["items"] + rest["items"]} == ids


def test_can_unlink_through_the_webhook_view(api):
    hook = new_target(api)
    alert = alert_naming(api, hook["id"])
    refused(api, "DELETE", f"{WEBHOOKS}/{hook['id']}")
    assert api.json("DELETE", f"{WEBHOOKS}/{hook['id']}?unlink=true")[0] == 200
    assert api.json("GET", f"/api/v2/alert/{alert['id']}")[1]["response"]["target"] == "oncall@example.com"


# ---- search ----------------------------------------------------------------------------------------------


def search(api, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    status, answer = api.json("POST", f"{SEARCH}/{path}", body or {})
    assert status == 200, answer
    return answer["response"]


def test_can_search_targets_and_webhooks_with_facets(api):
    hook, mail = new_target(api, HOOK), new_target(api, MAIL)
    new_target(api, PAGER)
    # search: by method, by freetext
    found = search(api, "notificant", {"query": [{"key": "method", "value": "EMAIL", "matchingMethod": "EXACT"}]})
    assert [t["id"] for t in found["items"]] == [mail["id"]]
    client_reads({"status": {"result": "OK", "code": 200}, "response": found}, "ResponseContainerPagedNotificant")
    assert search(api, "notificant", {"query": [{"key": "freetext", "value": "on-call"}]})["totalItems"] == 2
    # facets: every method; the webhook view only its own
    facets = search(api, "notificant/facets", {"facets": ["method", "triggers"]})
    assert sorted(facets["facets"]["method"]) == ["EMAIL", "PAGERDUTY", "WEBHOOK"]
    assert search(api, "webhook/facets", {"facets": ["method"]})["facets"] == {"method": ["WEBHOOK"]}
    assert search(api, "notificant/method")["counts"] == {"WEBHOOK": 1, "EMAIL": 1, "PAGERDUTY": 1}
    assert search(api, "webhook/triggers")["items"] == ["ALERT_OPENED", "ALERT_RESOLVED"]
    # the webhook search holds only webhooks, whatever the query
    assert [t["id"] for t in search(api, "webhook")["items"]] == [hook["id"]]
    assert search(api, "webhook", {"query": [{"key": "title", "value": "mail"}]})["items"] == []


def test_can_hide_targets_from_another_tenant(api, make_tenant, make_user):
    target = new_target(api)
    stranger = make_user(["#"], tenant=make_tenant("elsewhere"))
    for method, path in (
        ("GET", f"{TARGETS}/{target['id']}"),
        ("DELETE", f"{TARGETS}/{target['id']}?unlink=true"),
        ("POST", f"{TARGETS}/test/{target['id']}"),
        ("GET", f"{WEBHOOKS}/{target['id']}"),
        ("DELETE", f"{WEBHOOKS}/{target['id']}"),
    ):
        status, _ = api.json(method, path, token=stranger.token)
        assert status == 404, (method, path)
    status, answer = api.json("POST", f"{SEARCH}/webhook", {}, token=stranger.token)
    assert status == 200 and answer["response"]["items"] == []
    assert api.json("GET", f"{TARGETS}/{target['id']}")[1]["response"]["version"] == 1
