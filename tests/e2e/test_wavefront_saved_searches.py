"""Saved searches through the unmodified Wavefront client (SavedSearchApi) against the live
server: every operation of saved_search_api.py, each user's own even within a tenant, the
listing by entity type, bad bodies."""

from __future__ import annotations

import pytest
import wavefront_api_client as wf

from tests.e2e.clients import new_person, refused_status, wavefront

pytestmark = pytest.mark.e2e


@pytest.fixture
def api(server, fresh) -> wf.SavedSearchApi:
    return wf.SavedSearchApi(wavefront(server.url, fresh.token))


def test_can_drive_every_saved_search_operation(api, fresh):
    created = api.create_saved_search(body=wf.SavedSearch(entity_type="ALERT", query={"name": "cpu"})).response
    assert created.entity_type == "ALERT" and created.query == {"name": "cpu"} and created.user_id == fresh.username
    dashboards = api.create_saved_search(body=wf.SavedSearch(entity_type="DASHBOARD", query={"q": "k8s"})).response
    assert api.get_saved_search(created.id).response.query == {"name": "cpu"}
    updated = api.update_saved_search(created.id, body=wf.SavedSearch(entity_type="ALERT", query={"name": "mem"}))
    assert updated.response.query == {"name": "mem"}
    every = api.get_all_saved_searches(offset=0, limit=10).response
    assert [s.id for s in every.items] == [created.id, dashboards.id]
    alerts = api.get_all_entity_type_saved_searches("ALERT", offset=0, limit=10).response
    assert [s.id for s in alerts.items] == [created.id] and alerts.total_items == 1
    assert api.delete_saved_search(created.id).response.id == created.id
    assert refused_status(lambda: api.get_saved_search(created.id)) == 404


def test_can_keep_a_users_saved_searches_from_the_other_users_of_the_tenant(server, admin_token, fresh, api):
    mine = api.create_saved_search(body=wf.SavedSearch(entity_type="EVENT", query={"q": "deploy"})).response
    colleague = new_person(server.url, admin_token, ["savedsearch.#"], tenant=fresh.tenant)
    theirs = wf.SavedSearchApi(wavefront(server.url, colleague.token))
    assert refused_status(lambda: theirs.get_saved_search(mine.id)) == 404
    body = wf.SavedSearch(entity_type="EVENT", query={"q": "x"})
    assert refused_status(lambda: theirs.update_saved_search(mine.id, body=body)) == 404
    assert refused_status(lambda: theirs.delete_saved_search(mine.id)) == 404
    assert theirs.get_all_saved_searches().response.total_items == 0
    assert theirs.get_all_entity_type_saved_searches("EVENT").response.items == []
    assert api.get_saved_search(mine.id).response.query == {"q": "deploy"}


def test_can_refuse_a_bad_saved_search(api):
    assert refused_status(lambda: api.create_saved_search(body={"entityType": "WIDGET", "query": {}})) == 400
    assert refused_status(lambda: api.create_saved_search(body={"entityType": "ALERT"})) == 400
    assert refused_status(lambda: api.get_all_entity_type_saved_searches("WIDGET")) == 400
    assert api.get_all_saved_searches().response.total_items == 0
