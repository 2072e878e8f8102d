"""Dashboards through the unmodified Wavefront client (DashboardApi, SearchApi) against the live
server: create with a client-chosen id, get, update, tags, favorites, history, entity ACLs,
trash / search deleted / undelete, skip_trash, and search.

Tests work in a sub-tenant as a user who may do anything there: one shared by the module, or a
fresh one (`fresh`) when a test counts what a listing or a search holds."""

from __future__ import annotations

import pytest
import wavefront_api_client as wf

from tests.e2e.clients import new_person, new_tenant_admin, raw_json, refused_status, unique, wavefront

pytestmark = pytest.mark.e2e


@pytest.fixture
def api(server, boss) -> wf.DashboardApi:
    return wf.DashboardApi(wavefront(server.url, boss.token))


def _dashboard(uid: str | None = None, name: str | None = None, *, tags: list[str] | None = None) -> wf.Dashboard:
    uid = uid or unique("dash")
    chart = wf.Chart(
        name="CPU",
        units="%",
        sources=[wf.ChartSourceQuery(name="A", query="ts(cpu.load)", query_type="WQL")],
        chart_settings=wf.ChartSettings(type="stacked-area", stack_type="zero"),
    )
    notes = wf.Chart(name="Notes", sources=[], chart_settings=wf.ChartSettings(type="markdown-widget"))
    return wf.Dashboard(
        id=uid,
        name=name or unique("Dashboard"),
        url=uid,
        description="made by the e2e tests",
        sections=[
            wf.DashboardSection(name="Overview", rows=[wf.DashboardSectionRow(charts=[chart, notes], height_factor=50)])
        ],
        parameters={"env": "prod"},
        event_filter_type="BYCHART",
        tags=wf.WFTags(customer_tags=tags) if tags is not None else None,
    )


def test_can_create_get_and_update_a_dashboard_with_its_own_id(api):
    # WHEN a dashboard is created under an id the client chose
    posted = _dashboard(tags=["team-a"])
    created = api.create_dashboard(body=posted)
    # THEN the envelope carries it as posted, with bookkeeping
    assert created.status.result == "OK" and created.status.code == 200
    dash = created.response
    assert dash.id == posted.id and dash.name == posted.name and dash.url == posted.url
    assert dash.sections == posted.sections and dash.parameters == {"env": "prod"}
    assert dash.tags.customer_tags == ["team-a"] and dash.num_charts == 2 and dash.favorite is False
    assert isinstance(dash.created_epoch_millis, int) and dash.created_epoch_millis > 1_600_000_000_000
    # WHEN it is read, changed and PUT back (the client's own object, bookkeeping included)
    got = api.get_dashboard(posted.id).response
    got.description = "changed"
    got.sections[0].rows[0].charts[0].chart_settings.type = "line"
    updated = api.update_dashboard(posted.id, body=got).response
    # THEN the change is kept, tags too, and it reads back
    assert updated.description == "changed" and updated.tags.customer_tags == ["team-a"]
    again = api.get_dashboard(posted.id).response
    assert again.sections[0].rows[0].charts[0].chart_settings.type == "line"
    assert raw_json(lambda **kw: api.get_dashboard(posted.id, **kw))["response"]["version"] == 2


def test_can_refuse_a_duplicate_id_a_taken_name_and_a_bad_body(api):
    first = api.create_dashboard(body=_dashboard()).response
    assert refused_status(lambda: api.create_dashboard(body=_dashboard(first.id))) == 409
    assert refused_status(lambda: api.create_dashboard(body=_dashboard(name=first.name))) == 409
    bad_type = {"id": unique("bad"), "name": unique("bad"), "sections": [
        {"name": "S", "rows": [{"charts": [{"name": "c", "sources": [], "chartSettings": {"type": "bars"}}]}]}
    ]}  # fmt: skip
    assert refused_status(lambda: api.create_dashboard(body=bad_type)) == 400
    assert refused_status(lambda: api.create_dashboard(body={"id": unique("x"), "name": "no sections"})) == 400
    assert refused_status(lambda: api.get_dashboard(bad_type["id"])) == 404


def test_can_refuse_a_stale_update_with_409(api):
    dash = api.create_dashboard(body=_dashboard()).response
    fresh_body = {"name": dash.name, "sections": [], "version": 1}
    api.update_dashboard(dash.id, body=fresh_body)
    assert refused_status(lambda: api.update_dashboard(dash.id, body={**fresh_body, "description": "stale"})) == 409
    assert api.get_dashboard(dash.id).response.description is None


def test_can_add_set_remove_and_list_tags(api):
    dash = api.create_dashboard(body=_dashboard()).response
    api.add_dashboard_tag(dash.id, "env.prod")
    api.set_dashboard_tags(dash.id, body=["env.prod", "team-b", "x"])
    api.remove_dashboard_tag(dash.id, "x")
    assert api.get_dashboard_tags(dash.id).response.items == ["env.prod", "team-b"]
    assert api.get_dashboard(dash.id).response.tags.customer_tags == ["env.prod", "team-b"]


def test_can_favorite_and_unfavorite_for_the_caller_only(server, admin_token, boss, api):
    dash = api.create_dashboard(body=_dashboard()).response
    api.favorite_dashboard(dash.id)
    assert api.get_dashboard(dash.id).response.favorite is True
    other = new_person(server.url, admin_token, ["dashboard.#"], tenant=boss.tenant)
    assert wf.DashboardApi(wavefront(server.url, other.token)).get_dashboard(dash.id).response.favorite is False
    api.unfavorite_dashboard(dash.id)
    assert api.get_dashboard(dash.id).response.favorite is False


def test_can_keep_the_history_of_a_dashboard(api):
    dash = api.create_dashboard(body=_dashboard()).response
    api.update_dashboard(dash.id, body={"name": dash.name, "sections": [], "description": "v2"})
    api.add_dashboard_tag(dash.id, "team-c")
    history = api.get_dashboard_history(dash.id, offset=0, limit=10).response
    assert [h.version for h in history.items] == [3, 2, 1] and history.more_items is False
    assert history.items[0].change_description == ["Added tags: team-c"]
    first = api.get_dashboard_version(dash.id, 1).response
    assert first.description == "made by the e2e tests" and first.num_charts == 2
    assert api.get_dashboard_version(dash.id, 2).response.sections == []
    assert refused_status(lambda: api.get_dashboard_version(dash.id, 9)) == 404


def test_can_set_get_and_enforce_a_dashboards_acl(server, admin_token, boss, api):
    # GIVEN a dashboard and a viewer and an editor of the tenant
    dash = api.create_dashboard(body=_dashboard()).response
    viewer = new_person(server.url, admin_token, ["dashboard.#"], tenant=boss.tenant)
    editor = new_person(server.url, admin_token, ["dashboard.#"], tenant=boss.tenant)
    # WHEN the ACL is set
    api.set_dashboard_acl(
        body=[wf.AccessControlListWriteDTO(entity_id=dash.id, view_acl=[viewer.uuid], modify_acl=[editor.uuid])]
    )
    acl = api.get_dashboard_access_control_list(id=[dash.id]).response
    # THEN it names them and is enforced
    assert [e.id for e in acl[0].view_acl] == [viewer.uuid] and [e.id for e in acl[0].modify_acl] == [editor.uuid]
    as_viewer = wf.DashboardApi(wavefront(server.url, viewer.token))
    as_editor = wf.DashboardApi(wavefront(server.url, editor.token))
    assert as_viewer.get_dashboard(dash.id).response.modify_acl_access is False
    assert refused_status(lambda: as_viewer.update_dashboard(dash.id, body={"name": dash.name, "sections": []})) == 403
    assert as_editor.update_dashboard(dash.id, body={"name": dash.name, "sections": []}).response.num_charts == 0
    # AND add / remove adjust it
    api.remove_dashboard_access(body=[wf.AccessControlListWriteDTO(entity_id=dash.id, view_acl=[viewer.uuid])])
    api.add_dashboard_access(body=[wf.AccessControlListWriteDTO(entity_id=dash.id, modify_acl=[boss.uuid])])
    acl = api.get_dashboard_access_control_list(id=[dash.id]).response
    assert (acl[0].view_acl or []) == [] and {e.id for e in acl[0].modify_acl} == {editor.uuid, boss.uuid}
    assert refused_status(lambda: as_viewer.get_dashboard(dash.id)) == 403


def test_can_move_to_trash_search_deleted_restore_and_delete_for_good(server, fresh):
    client = wavefront(server.url, fresh.token)
    api, search = wf.DashboardApi(client), wf.SearchApi(client)
    kept, doomed = api.create_dashboard(body=_dashboard()).response, api.create_dashboard(body=_dashboard()).response
    # WHEN one is moved to the trash THEN it leaves the listing and shows in the deleted search
    assert api.delete_dashboard(kept.id).response.deleted is True
    assert [d.id for d in api.get_all_dashboard(offset=0, limit=100).response.items] == [doomed.id]
    deleted = search.search_dashboard_deleted_entities(body=wf.SortableSearchRequest(limit=100)).response
    assert [d.id for d in deleted.items] == [kept.id]
    # WHEN it is restored THEN the trash is empty
    assert api.undelete_dashboard(kept.id).response.deleted is False
    assert search.search_dashboard_deleted_entities(body=wf.SortableSearchRequest(limit=100)).response.items == []
    # WHEN the other is deleted with skip_trash THEN it is gone for good
    api.delete_dashboard(doomed.id, skip_trash=True)
    assert refused_status(lambda: api.get_dashboard(doomed.id)) == 404
    assert search.search_dashboard_deleted_entities(body=wf.SortableSearchRequest(limit=100)).response.items == []


def test_can_search_dashboards_and_their_facets(server, fresh):
    client = wavefront(server.url, fresh.token)
    api, search = wf.DashboardApi(client), wf.SearchApi(client)
    for name, tags in (("web-latency", ["team-web"]), ("web-errors", ["team-web"]), ("db-load", ["team-db"])):
        api.create_dashboard(body=_dashboard(unique(name), name, tags=tags))
    found = search.search_dashboard_entities(
        body=wf.SortableSearchRequest(
            query=[wf.SearchQuery(key="name", value="web", matching_method="STARTSWITH")],
            sort=wf.Sorting(field="name", ascending=False),
        )
    ).response
    assert [d.name for d in found.items] == ["web-latency", "web-errors"] and found.total_items == 2
    tagged = search.search_dashboard_entities(
        body=wf.SortableSearchRequest(query=[wf.SearchQuery(key="tags", value="team-db", matching_method="EXACT")])
    ).response
    assert [d.name for d in tagged.items] == ["db-load"]
    facet = search.search_dashboard_for_facet("tags", body=wf.FacetSearchRequestContainer()).response
    assert facet.items == ["team-web", "team-db"]
    facets = search.search_dashboard_for_facets(body=wf.FacetsSearchRequestContainer(facets=["tags"])).response
    assert facets.facets["tags"] == ["team-web", "team-db"]


def test_can_hide_a_dashboard_from_another_tenant(server, admin_token, api):
    dash = api.create_dashboard(body=_dashboard()).response
    outsider = new_tenant_admin(server.url, admin_token)
    theirs = wf.DashboardApi(wavefront(server.url, outsider.token))
    assert refused_status(lambda: theirs.get_dashboard(dash.id)) == 404
    assert theirs.get_all_dashboard(offset=0, limit=100).response.items == []
