"""The domain stands without HTTP: a worker or a script acts as a service principal of a
tenant through a Context, with no request at all, and sees what the API shows."""

from __future__ import annotations

import pytest

from chalicelib.categories.alert import ALERT, snooze
from chalicelib.categories.alert_views import AlertBody
from chalicelib.domain import entities
from chalicelib.domain.context import Context
from chalicelib.errors import Forbidden, NotFound
from tests.functional.test_alert import ALERT as ALERT_PATH


def nightly_alert_job(ctx: Context) -> dict:
    """A worker-style function: create an alert, tag it, read it back as its wire object."""
    created = entities.create(
        ctx, ALERT, AlertBody(name="Nightly", condition="ts(cpu) > 1", minutes=5, severity="WARN")
    )
    entities.add_tag(ctx, ALERT, created.id, "nightly")
    return entities.wire(ctx, ALERT, entities.load(ctx, ALERT, created.id))


def test_can_create_and_read_an_alert_as_a_service_principal_without_a_request(api):
    # GIVEN a context acting as a service principal of the tenant (no HTTP request anywhere)
    ctx = Context.service(api.root, "nightly-job")
    # WHEN a worker-style function creates and reads an alert
    alert = nightly_alert_job(ctx)
    # THEN the alert is stored with the worker as its author
    assert alert["creatorId"] == "nightly-job" and alert["tags"]["customerTags"] == ["nightly"]
    # AND the API shows the same alert to the tenant's admin
    status, answer = api.json("GET", f"{ALERT_PATH}/{alert['id']}")
    assert status == 200 and answer["response"]["name"] == "Nightly"


def test_can_hold_a_service_principal_to_its_acl(api):
    # GIVEN a service principal that may only read alerts
    ctx = Context.service(api.root, "reader", acl=("alert.read", "alert.*.read"))
    # WHEN it tries to clone one (which needs alert.create)
    alert_id = nightly_alert_job(Context.service(api.root, "writer"))["id"]
    # THEN the domain refuses, as the API would
    with pytest.raises(Forbidden):
        entities.clone(ctx, ALERT, alert_id)


def test_can_keep_a_context_inside_its_tenant(api):
    # GIVEN an alert of the root tenant and a context of another tenant
    alert_id = nightly_alert_job(Context.service(api.root))["id"]
    other = Context.service("another-tenant")
    # THEN the other tenant cannot see it
    with pytest.raises(NotFound):
        entities.load(other, ALERT, alert_id)


def test_can_use_an_injected_clock(api):
    # GIVEN a context whose clock is fixed
    ctx = Context.service(api.root, clock=lambda: 1_700_000_000_000)
    # WHEN an alert is snoozed for an hour through the domain
    alert_id = nightly_alert_job(ctx)["id"]
    snoozed = snooze(ctx, alert_id, 3600)
    # THEN the snooze ends an hour after the context's time
    assert snoozed.doc["_snoozed"] == 1_700_000_000_000 + 3_600_000
