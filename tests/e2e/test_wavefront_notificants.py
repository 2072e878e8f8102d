"""Alert targets through the unmodified Wavefront client (NotificantApi and the SearchApi's
notificant operations) against the live server: every operation, the client's model checks
on every answer, recipients and templates checked on save, the test route answering the test
notification it sends, delete refused while alerts name the target and unlink, tenant isolation."""

from __future__ import annotations

import pytest
import wavefront_api_client as wf

from tests.e2e.clients import new_tenant_admin, raw_json, refused_status, unique, wavefront

pytestmark = pytest.mark.e2e


@pytest.fixture
def client(server, fresh) -> wf.ApiClient:
    return wavefront(server.url, fresh.token)


@pytest.fixture
def targets(client) -> wf.NotificantApi:
    return wf.NotificantApi(client)


def _email(title: str | None = None, **fields) -> wf.Notificant:
    values = {
        "title": title or unique("mail"),
        "description": "mails the on-call",
        "method": "EMAIL",
        "recipient": "oncall@example.com",
        "template": "{{name}} is {{reason}}",
        "triggers": ["ALERT_OPENED", "ALERT_RESOLVED"],
        "email_subject": "[{{severity}}] {{name}}",
        "is_html_content": False,
        **fields,
    }
    return wf.Notificant(**values)


def _pager(**fields) -> wf.Notificant:
    pager = {"method": "PAGERDUTY", "recipient": "0123456789abcdef0123456789abcdef", "email_subject": None}
    return _email(**{**pager, **fields})


def test_can_drive_every_notificant_operation(targets):
    # create
    created = targets.create_notificant(body=_email("on-call")).response
    assert created.id and created.method == "EMAIL" and created.triggers == ["ALERT_OPENED", "ALERT_RESOLVED"]
    # get
    assert targets.get_notificant(created.id).response.title == "on-call"
    # update
    updated = targets.update_notificant(created.id, body=_pager(title="pager")).response
    assert updated.method == "PAGERDUTY" and updated.title == "pager"
    # list
    page = targets.get_all_notificants(offset=0, limit=10).response
    assert [t.id for t in page.items] == [created.id] and page.total_items == 1 and page.more_items is False
    # test: an ALERT_TESTING notification about a sample alert, sent (tests/e2e/test_notification_delivery.py)
    tested = targets.test_notificant(created.id).response
    assert tested.id == created.id and tested.template == "Sample alert: cpu.load high is ALERT_TESTING"
    assert targets.get_notificant(created.id).response.template == "{{name}} is {{reason}}"
    # delete
    assert targets.delete_notificant(created.id).response.id == created.id
    assert refused_status(lambda: targets.get_notificant(created.id)) == 404


def test_can_refuse_bad_targets_and_stale_updates(targets):
    # a recipient that does not fit the method, an unparsable template, an unknown trigger
    bad_email = refused_status(lambda: targets.create_notificant(body=_email(recipient="not an address")))
    bad_key = refused_status(lambda: targets.create_notificant(body=_pager(recipient="short")))
    bad_template = refused_status(lambda: targets.create_notificant(body=_email(template="{{#open}}never closed")))
    body = targets.api_client.sanitize_for_serialization(_email())
    bad_trigger = refused_status(lambda: targets.create_notificant(body={**body, "triggers": ["ALERT_EXPLODED"]}))
    assert (bad_email, bad_key, bad_template, bad_trigger) == (400, 400, 400, 400)
    assert targets.get_all_notificants().response.total_items == 0
    # a stale version: 409
    target = targets.create_notificant(body=_email()).response
    targets.update_notificant(target.id, body={**body, "version": 1})
    assert refused_status(lambda: targets.update_notificant(target.id, body={**body, "version": 1})) == 409
    assert raw_json(lambda **kw: targets.get_notificant(target.id, **kw))["response"]["version"] == 2
    # unknown ids: 404
    for call in (
        lambda: targets.get_notificant("1700000000000000000"),
        lambda: targets.update_notificant("1700000000000000000", body=_email()),
        lambda: targets.delete_notificant("1700000000000000000"),
        lambda: targets.test_notificant("1700000000000000000"),
    ):
        assert refused_status(call) == 404


def test_can_unlink_a_target_from_its_alerts_on_delete(client, targets):
    alerts = wf.AlertApi(client)
    target = targets.create_notificant(body=_email()).response
    alert = alerts.create_alert(
        body=wf.Alert(
            name=unique("alert"),
            condition="ts(cpu.load) > 2",
            minutes=5,
            severity="WARN",
            target=f"oncall@example.com,target:{target.id}",
        )
    ).response

    # WHEN the target is deleted while the alert names it THEN 400, nothing changes
    assert refused_status(lambda: targets.delete_notificant(target.id)) == 400
    assert targets.get_notificant(target.id).response.id == target.id

    # WHEN it is deleted with unlink THEN it is gone and the alert no longer names it
    assert targets.delete_notificant(target.id, unlink=True).response.id == target.id
    assert refused_status(lambda: targets.get_notificant(target.id)) == 404
    assert alerts.get_alert(alert.id).response.target == "oncall@example.com"


def test_can_search_targets_with_facets(client, targets):
    search = wf.SearchApi(client)
    mail = targets.create_notificant(body=_email("mail")).response
    targets.create_notificant(body=_pager(title="pager"))

    query = wf.SearchQuery(key="method", value="EMAIL", matching_method="EXACT")
    found = search.search_notificant_entities(body=wf.SortableSearchRequest(query=[query])).response
    assert [t.id for t in found.items] == [mail.id]

    methods = search.search_notificant_for_facet("method", body=wf.FacetSearchRequestContainer()).response
    assert sorted(methods.items) == ["EMAIL", "PAGERDUTY"]
    both = search.search_notficant_for_facets(
        body=wf.FacetsSearchRequestContainer(facets=["method", "triggers"])
    ).response
    assert sorted(both.facets["triggers"]) == ["ALERT_OPENED", "ALERT_RESOLVED"]


def test_can_hide_targets_from_another_tenant(server, admin_token, targets):
    target = targets.create_notificant(body=_email()).response
    other = new_tenant_admin(server.url, admin_token)
    theirs = wf.NotificantApi(wavefront(server.url, other.token))
    assert refused_status(lambda: theirs.get_notificant(target.id)) == 404
    assert refused_status(lambda: theirs.update_notificant(target.id, body=_email())) == 404
    assert refused_status(lambda: theirs.test_notificant(target.id)) == 404
    assert refused_status(lambda: theirs.delete_notificant(target.id, unlink=True)) == 404
    assert theirs.get_all_notificants().response.items == []
    assert targets.get_notificant(target.id).response.title == target.title
