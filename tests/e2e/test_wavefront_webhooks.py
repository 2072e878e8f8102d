"""Webhooks through the unmodified Wavefront client (WebhookApi and the SearchApi's webhook
operations) against the live server: every operation, the client's model checks on every
answer, and the view itself: only WEBHOOK alert targets, the same objects as NotificantApi's."""

from __future__ import annotations

import pytest
import wavefront_api_client as wf

from tests.e2e.clients import refused_status, unique, wavefront

pytestmark = pytest.mark.e2e


@pytest.fixture
def client(server, fresh) -> wf.ApiClient:
    return wavefront(server.url, fresh.token)


@pytest.fixture
def hooks(client) -> wf.WebhookApi:
    return wf.WebhookApi(client)


def _hook(title: str | None = None, **fields) -> wf.Notificant:
    values = {
        "title": title or unique("hook"),
        "description": "posts to the ops channel",
        "method": "WEBHOOK",
        "recipient": "https://hooks.example.com/ops",
        "template": '{"text": "{{name}}"}',
        "triggers": ["ALERT_OPENED"],
        "content_type": "application/json",
        "custom_http_headers": {"X-Team": "ops"},
        **fields,
    }
    return wf.Notificant(**values)


def test_can_drive_every_webhook_operation(hooks):
    # create
    created = hooks.create_webhook(body=_hook("ops")).response
    assert created.id and created.method == "WEBHOOK" and created.custom_http_headers == {"X-Team": "ops"}
    # get
    assert hooks.get_webhook(created.id).response.recipient == "https://hooks.example.com/ops"
    # update
    updated = hooks.update_webhook(created.id, body=_hook("ops, renamed", content_type="text/plain")).response
    assert updated.title == "ops, renamed" and updated.content_type == "text/plain"
    # list
    page = hooks.get_all_webhooks(offset=0, limit=10).response
    assert [h.id for h in page.items] == [created.id] and page.total_items == 1
    # delete
    assert hooks.delete_webhook(created.id, unlink=True).response.id == created.id
    assert refused_status(lambda: hooks.get_webhook(created.id)) == 404


def test_can_show_only_webhooks_and_share_them_with_notificants(client, hooks):
    targets = wf.NotificantApi(client)
    hook = hooks.create_webhook(body=_hook()).response
    mail = targets.create_notificant(
        body=wf.Notificant(
            title=unique("mail"),
            description="mail",
            method="EMAIL",
            recipient="oncall@example.com",
            template="{{name}}",
            triggers=["ALERT_OPENED"],
        )
    ).response

    # the webhook is the same object under both paths
    assert targets.get_notificant(hook.id).response.title == hook.title
    # the email target is not a webhook: listed under /notificant only, 404 under /webhook
    assert [h.id for h in hooks.get_all_webhooks().response.items] == [hook.id]
    assert targets.get_all_notificants().response.total_items == 2
    assert refused_status(lambda: hooks.get_webhook(mail.id)) == 404
    assert refused_status(lambda: hooks.update_webhook(mail.id, body=_hook())) == 404
    assert refused_status(lambda: hooks.delete_webhook(mail.id)) == 404
    # a webhook cannot be created with another method through /webhook
    assert refused_status(lambda: hooks.create_webhook(body=_hook(method="EMAIL", recipient="a@example.com"))) == 400
    assert targets.get_notificant(mail.id).response.method == "EMAIL"


def test_can_search_webhooks_with_facets(client, hooks):
    search = wf.SearchApi(client)
    hook = hooks.create_webhook(body=_hook("ops")).response
    wf.NotificantApi(client).create_notificant(
        body=wf.Notificant(
            title="ops mail",
            description="mail",
            method="EMAIL",
            recipient="oncall@example.com",
            template="{{name}}",
            triggers=["ALERT_RESOLVED"],
        )
    )

    query = wf.SearchQuery(key="title", value="ops", matching_method="STARTSWITH")
    found = search.search_web_hook_entities(body=wf.SortableSearchRequest(query=[query])).response
    assert [h.id for h in found.items] == [hook.id]

    triggers = search.search_web_hook_for_facet("triggers", body=wf.FacetSearchRequestContainer()).response
    assert triggers.items == ["ALERT_OPENED"]
    both = search.search_webhook_for_facets(body=wf.FacetsSearchRequestContainer(facets=["method"])).response
    assert both.facets["method"] == ["WEBHOOK"]
