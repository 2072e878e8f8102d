"""Fixtures of the Grafana object modules (test_grafana_<group>.py): a fresh sub-tenant's
admin, and grafana-client as its users build it (a URL and that person's bearer token)."""

from __future__ import annotations

import pytest
from grafana_client import GrafanaApi

from tests.e2e.clients import Person, new_tenant_admin


@pytest.fixture
def person(server, admin_token) -> Person:
    """An admin of a fresh sub-tenant: listings hold only what the test made."""
    return new_tenant_admin(server.url, admin_token)


@pytest.fixture
def grafana(server, person) -> GrafanaApi:
    """grafana-client for that person."""
    return GrafanaApi.from_url(server.url, credential=person.token, timeout=30)
