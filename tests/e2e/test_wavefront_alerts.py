"""Alerts through the unmodified Wavefront client (AlertApi, SearchApi) against the live server:
CRUD with optimistic locking, paging, clone, history, tags, snooze, trash, install, summary,
query checks, entity ACLs, search and facets, and tenant isolation.

Tests work in sub-tenants as a user who may do anything there: one shared by the module, or a
fresh one (`fresh`) when a test counts what a listing or a search holds."""

from __future__ import annotations

import pytest
import wavefront_api_client as wf

from tests.e2e.clients import Person, new_person, new_tenant_admin, raw_json, refused_status, unique, wavefront

pytestmark = pytest.mark.e2e

CONDITION = "ts(cpu.load, env=prod) > 2"
HOUR_MS = 3_600_000


@pytest.fixture
def api(server, boss) -> wf.AlertApi:
    return wf.AlertApi(wavefront(server.url, boss.token))


@pytest.fixture
def fresh_api(server, fresh) -> wf.AlertApi:
    return wf.AlertApi(wavefront(server.url, fresh.token))


def _alert(
    name: str | None = None,
    *,
    tags: list[str] | None = None,
    severity: str = "WARN",
    condition: str = CONDITION,
    minutes: int = 5,
) -> wf.Alert:
    return wf.Alert(
        name=name or unique("alert"),
        condition=condition,
        minutes=minutes,
        severity=severity,
        display_expression="ts(cpu.load)",
        tags=wf.WFTags(customer_tags=tags) if tags is not None else None,
    )


def _ids(page) -> list[str]:
    return [a.id for a in page.items]


def _query(key: str, value: str, method: str = "CONTAINS", negated: bool = False) -> wf.SearchQuery:
    return wf.SearchQuery(key=key, value=value, matching_method=method, negated=negated)


# ---- create / read / update ----------------------------------------------------------------------


def test_can_create_get_and_update_an_alert(api):
    # WHEN an alert is created
    name = unique("cpu-high")
    created = api.create_alert(body=_alert(name, tags=["team-a"]))

    # THEN the envelope carries the alert with a server id and epoch-millisecond timestamps
    assert created.status.result == "OK" and created.status.code == 200
    alert = created.response
    assert alert.id and alert.name == name and alert.condition == CONDITION
    assert alert.minutes == 5 and alert.severity == "WARN"
    assert alert.tags.customer_tags == ["team-a"]
    assert isinstance(alert.created_epoch_millis, int) and alert.created_epoch_millis > 1_600_000_000_000

    # WHEN it is read and updated
    assert api.get_alert(alert.id).response.name == name
    updated = api.update_alert(alert.id, body=_alert(name + "-v2", minutes=10, severity="SEVERE")).response

    # THEN the change is kept, and it reads back
    assert updated.id == alert.id and updated.name == name + "-v2"
    assert updated.minutes == 10 and updated.severity == "SEVERE"
    assert api.get_alert(alert.id).response.severity == "SEVERE"


def test_can_refuse_a_stale_update_with_409(api):
    # GIVEN an alert at version 1, which a first writer updates naming version 1
    alert = api.create_alert(body=_alert()).response
    assert raw_json(lambda **kw: api.get_alert(alert.id, **kw))["response"]["version"] == 1
    body = {"name": unique("first"), "condition": CONDITION, "minutes": 5, "severity": "INFO", "version": 1}
    assert api.update_alert(alert.id, body=body).response.name == body["name"]

    # WHEN a second writer also names version 1
    stale = {"name": unique("second"), "condition": CONDITION, "minutes": 5, "severity": "INFO", "version": 1}
    status = refused_status(lambda: api.update_alert(alert.id, body=stale))

    # THEN 409, and the first writer's change stands
    assert status == 409
    assert api.get_alert(alert.id).response.name == body["name"]


def test_can_refuse_an_invalid_alert_and_write_nothing(fresh_api):
    # WHEN a required field is missing, the severity is unknown, the name is blank, or the body is no alert
    no_minutes = refused_status(lambda: fresh_api.create_alert(body={"name": unique("x"), "condition": CONDITION}))
    no_condition = refused_status(lambda: fresh_api.create_alert(body={"name": unique("x"), "minutes": 1}))
    bad_severity = refused_status(
        lambda: fresh_api.create_alert(body={"name": "x", "condition": CONDITION, "minutes": 1, "severity": "LOUD"})
    )
    blank_name = refused_status(
        lambda: fresh_api.create_alert(body={"name": " ", "condition": CONDITION, "minutes": 1})
    )
    not_an_object = refused_status(lambda: fresh_api.create_alert(body=["name", "condition"]))

    # THEN 400 each time and the tenant still has no alert
    assert (no_minutes, no_condition, bad_severity, blank_name, not_an_object) == (400, 400, 400, 400, 400)
    assert fresh_api.get_all_alert(offset=0, limit=100).response.total_items == 0


def test_can_keep_an_alert_whose_condition_does_not_parse_as_invalid(api):
    before = api.get_alerts_summary().response["invalid"]

    # WHEN the condition is not valid WQL
    alert = api.create_alert(body=_alert(condition="ts(cpu.load >")).response

    # THEN the alert is stored in the INVALID state, saying why (as Wavefront's model does)
    assert "INVALID" in alert.status
    assert alert.query_syntax_error is True
    assert alert.last_error_message
    assert api.get_alerts_summary().response["invalid"] == before + 1


def test_can_answer_404_for_an_unknown_alert(api):
    assert refused_status(lambda: api.get_alert("1700000000000000000")) == 404
    assert refused_status(lambda: api.update_alert("1700000000000000000", body=_alert())) == 404
    assert refused_status(lambda: api.delete_alert("1700000000000000000")) == 404


def test_can_page_alerts_with_offset_and_limit(fresh_api):
    made = [fresh_api.create_alert(body=_alert()).response.id for _ in range(5)]

    first = fresh_api.get_all_alert(offset=0, limit=2).response
    second = fresh_api.get_all_alert(offset=2, limit=2).response
    last = fresh_api.get_all_alert(offset=4, limit=2).response

    assert first.total_items == 5 and first.more_items is True
    assert (len(first.items), len(second.items), len(last.items)) == (2, 2, 1)
    assert last.more_items is False
    assert (first.offset, first.limit, last.offset) == (0, 2, 4)
    seen = _ids(first) + _ids(second) + _ids(last)
    assert sorted(seen) == sorted(made)


# ---- clone / history ----------------------------------------------------------------------------------


def test_can_clone_an_alert_and_an_older_version_of_it(api):
    original = api.create_alert(body=_alert(tags=["cloned"])).response
    api.update_alert(original.id, body=_alert(original.name, condition="ts(mem.used) > 90"))

    copy = api.clone_alert(original.id, name="copy-of-latest").response
    old = api.clone_alert(original.id, name="copy-of-v1", v=1).response

    assert copy.id not in (original.id, old.id)
    assert copy.name == "copy-of-latest" and copy.condition == "ts(mem.used) > 90"
    assert old.name == "copy-of-v1" and old.condition == CONDITION
    assert api.get_alert(original.id).response.condition == "ts(mem.used) > 90"
    assert api.get_alert(copy.id).response.name == "copy-of-latest"
    assert api.get_alert(old.id).response.tags.customer_tags == ["cloned"]


def test_can_keep_the_history_of_an_alert(api):
    # GIVEN an alert created, updated, and tagged
    name = unique("history")
    alert = api.create_alert(body=_alert(name)).response
    api.update_alert(alert.id, body=_alert(name + "-v2"))
    api.add_alert_tag(alert.id, "tagged")

    # WHEN its history is read, whole and paged
    history = api.get_alert_history(alert.id).response
    newest = api.get_alert_history(alert.id, offset=0, limit=1).response

    # THEN three versions, newest first, each described; one version reads back as it was
    assert [e.version for e in history.items] == [3, 2, 1]
    assert history.total_items == 3
    assert all(e.change_description and isinstance(e.update_time, int) for e in history.items)
    assert [e.version for e in newest.items] == [3] and newest.more_items is True
    assert api.get_alert_version(alert.id, 1).response.name == name
    assert api.get_alert_version(alert.id, 2).response.name == name + "-v2"
    assert refused_status(lambda: api.get_alert_version(alert.id, 9)) == 404


# ---- tags -------------------------------------------------------------------------------------------------


def test_can_add_set_remove_and_list_tags(api):
    alert = api.create_alert(body=_alert()).response

    api.add_alert_tag(alert.id, "team:ops")  # ":" travels percent-encoded in the path
    assert api.get_alert_tags(alert.id).response.items == ["team:ops"]

    api.set_alert_tags(alert.id, body=["env.prod", "tier-1"])
    assert sorted(api.get_alert_tags(alert.id).response.items) == ["env.prod", "tier-1"]

    api.remove_alert_tag(alert.id, "tier-1")
    assert api.get_alert_tags(alert.id).response.items == ["env.prod"]
    assert api.get_alert(alert.id).response.tags.customer_tags == ["env.prod"]

    assert refused_status(lambda: api.add_alert_tag(alert.id, "bad tag with spaces")) == 400


# ---- snooze / trash / install / summary ---------------------------------------------------------------


def test_can_snooze_for_some_seconds_forever_and_unsnooze(api):
    alert = api.create_alert(body=_alert()).response

    # WHEN snoozed for an hour THEN it is snoozed until about an hour after it was created (epoch ms)
    snoozed = api.snooze_alert(alert.id, seconds=3600).response
    assert snoozed.snoozed >= alert.created_epoch_millis + HOUR_MS
    assert snoozed.snoozed < alert.created_epoch_millis + 2 * HOUR_MS
    assert "SNOOZED" in (snoozed.status or [])

    # WHEN snoozed without seconds THEN forever (-1)
    assert api.snooze_alert(alert.id).response.snoozed == -1
    assert api.get_alert(alert.id).response.snoozed == -1

    # WHEN unsnoozed THEN no longer snoozed
    awake = api.unsnooze_alert(alert.id).response
    assert awake.snoozed in (None, 0)
    assert "SNOOZED" not in (awake.status or [])


def test_can_move_to_trash_restore_and_delete_for_good(server, fresh):
    client = wavefront(server.url, fresh.token)
    api, search = wf.AlertApi(client), wf.SearchApi(client)
    kept, doomed = api.create_alert(body=_alert()).response, api.create_alert(body=_alert()).response

    # WHEN one alert is moved to the trash
    trashed = api.delete_alert(kept.id).response

    # THEN it leaves the listing and shows in the deleted search
    assert trashed.in_trash is True
    assert kept.id not in _ids(api.get_all_alert(offset=0, limit=100).response)
    deleted = search.search_alert_deleted_entities(body=wf.SortableSearchRequest(limit=100)).response
    assert _ids(deleted) == [kept.id]

    # WHEN it is restored THEN it is listed again and the trash is empty
    assert api.undelete_alert(kept.id).response.in_trash is False
    assert kept.id in _ids(api.get_all_alert(offset=0, limit=100).response)
    assert search.search_alert_deleted_entities(body=wf.SortableSearchRequest(limit=100)).response.items == []
    assert refused_status(lambda: api.undelete_alert(kept.id)) == 400

    # WHEN the other is deleted with skip_trash THEN it is gone for good
    api.delete_alert(doomed.id, skip_trash=True)
    assert refused_status(lambda: api.get_alert(doomed.id)) == 404
    assert search.search_alert_deleted_entities(body=wf.SortableSearchRequest(limit=100)).response.items == []


def test_can_uninstall_and_install_an_alert(api):
    alert = api.create_alert(body=_alert()).response

    hidden = api.hide_alert(alert.id).response
    assert hidden.hidden is True
    assert api.get_alert(alert.id).response.hidden is True

    shown = api.unhide_alert(alert.id).response
    assert not shown.hidden


def test_can_summarize_the_alerts_of_a_tenant(api):
    before = api.get_alerts_summary().response
    assert before and all(isinstance(v, int) for v in before.values())
    snoozed_key = next(k for k in before if k.lower() == "snoozed")

    alert = api.create_alert(body=_alert()).response
    api.snooze_alert(alert.id)

    after = api.get_alerts_summary().response
    assert after[snoozed_key] == before[snoozed_key] + 1


# ---- query checks ---------------------------------------------------------------------------------------


def test_can_check_a_valid_and_an_invalid_query(api):
    checked = api.check_query_type(body=wf.QueryTypeDTO(input_query=CONDITION, query_type="WQL")).response
    assert checked.query_type == "WQL"
    assert checked.input_query == CONDITION

    status = refused_status(
        lambda: api.check_query_type(body=wf.QueryTypeDTO(input_query="ts(cpu.load >", query_type="WQL"))
    )
    assert status == 400


# ---- entity ACLs --------------------------------------------------------------------------------------------


def test_can_add_remove_set_and_get_an_alerts_acl(server, admin_token, boss, api):
    # GIVEN an alert and two users of the tenant who may work with alerts
    alert = api.create_alert(body=_alert()).response
    viewer = new_person(server.url, admin_token, ["alert.#"], tenant=boss.tenant)
    editor = new_person(server.url, admin_token, ["alert.#"], tenant=boss.tenant)

    # WHEN the viewer is added to view and the editor to modify (the ids travel as repeated ?id= keys)
    api.add_alert_access(
        body=[wf.AccessControlListWriteDTO(entity_id=alert.id, view_acl=[viewer.uuid], modify_acl=[editor.uuid])]
    )
    acl = api.get_alert_access_control_list(id=[alert.id]).response

    # THEN the ACL names them
    assert [a.entity_id for a in acl] == [alert.id]
    assert [e.id for e in acl[0].view_acl] == [viewer.uuid]
    assert [e.id for e in acl[0].modify_acl] == [editor.uuid]
    assert acl[0].view_acl[0].name == viewer.username

    # ... and enforces them: the viewer reads but may not change, the editor may
    as_viewer = wf.AlertApi(wavefront(server.url, viewer.token))
    as_editor = wf.AlertApi(wavefront(server.url, editor.token))
    assert as_viewer.get_alert(alert.id).response.id == alert.id
    assert refused_status(lambda: as_viewer.update_alert(alert.id, body=_alert("by-viewer"))) == 403
    assert as_editor.update_alert(alert.id, body=_alert("by-editor")).response.name == "by-editor"

    # WHEN the viewer is removed THEN only the editor is left
    api.remove_alert_access(body=[wf.AccessControlListWriteDTO(entity_id=alert.id, view_acl=[viewer.uuid])])
    acl = api.get_alert_access_control_list(id=[alert.id]).response
    assert acl[0].view_acl in (None, []) and [e.id for e in acl[0].modify_acl] == [editor.uuid]

    # WHEN the ACL is set to the viewer alone THEN the editor loses access
    api.set_alert_acl(body=[wf.AccessControlListWriteDTO(entity_id=alert.id, view_acl=[], modify_acl=[viewer.uuid])])
    acl = api.get_alert_access_control_list(id=[alert.id]).response
    assert [e.id for e in acl[0].modify_acl] == [viewer.uuid]
    assert refused_status(lambda: as_editor.update_alert(alert.id, body=_alert("again"))) == 403
    assert refused_status(lambda: as_editor.get_alert(alert.id)) in (403, 404)


def test_can_refuse_an_acl_naming_an_unknown_account(api):
    alert = api.create_alert(body=_alert()).response

    status = refused_status(
        lambda: api.add_alert_access(
            body=[wf.AccessControlListWriteDTO(entity_id=alert.id, view_acl=["no-such-account"], modify_acl=[])]
        )
    )

    assert status == 400
    assert (api.get_alert_access_control_list(id=[alert.id]).response[0].view_acl or []) == []


# ---- search ---------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def searcher(server, admin_token) -> Person:
    """The administrator of the tenant the read-only search tests share."""
    return new_tenant_admin(server.url, admin_token)


@pytest.fixture(scope="module")
def searchable(server, searcher) -> dict[str, str]:
    """Three alerts with known names, tags and severities: name -> id."""
    return _make_searchable(wf.AlertApi(wavefront(server.url, searcher.token)))


@pytest.fixture
def search(server, searcher, searchable) -> wf.SearchApi:
    return wf.SearchApi(wavefront(server.url, searcher.token))


def _make_searchable(api: wf.AlertApi) -> dict[str, str]:
    made = {}
    for name, tags, severity in (
        ("disk-full", ["env.prod.eu", "team-storage"], "SEVERE"),
        ("disk-slow", ["env.prodx", "team-storage"], "WARN"),
        ("cpu-high", ["env.prod", "team-compute"], "WARN"),
    ):
        made[name] = api.create_alert(body=_alert(name, tags=tags, severity=severity)).response.id
    return made


def _names(search: wf.SearchApi, *queries: wf.SearchQuery, **request) -> list[str]:
    body = wf.SortableSearchRequest(query=list(queries), sort=wf.Sorting(field="name", ascending=True), **request)
    return [a.name for a in search.search_alert_entities(body=body).response.items]


def test_can_search_alerts_by_each_matching_method(search):
    assert _names(search, _query("name", "slow")) == ["disk-slow"]
    assert _names(search, _query("name", "DISK", "STARTSWITH")) == ["disk-full", "disk-slow"]
    assert _names(search, _query("name", "cpu-high", "EXACT")) == ["cpu-high"]
    assert _names(search, _query("name", "cpu", "EXACT")) == []
    assert _names(search, _query("tags", "env.prod", "TAGPATH")) == ["cpu-high", "disk-full"]
    assert _names(search, _query("tags", "team-storage", "EXACT"), _query("severity", "WARN", "EXACT")) == ["disk-slow"]


def test_can_search_alerts_negated_sorted_and_paged(search):
    # negated
    assert _names(search, _query("name", "disk", "STARTSWITH", negated=True)) == ["cpu-high"]

    # sorted descending
    body = wf.SortableSearchRequest(query=[], sort=wf.Sorting(field="name", ascending=False))
    assert [a.name for a in search.search_alert_entities(body=body).response.items] == [
        "disk-slow",
        "disk-full",
        "cpu-high",
    ]

    # paged: a short last page, never padded
    first = search.search_alert_entities(
        body=wf.SortableSearchRequest(offset=0, limit=2, sort=wf.Sorting(field="name", ascending=True))
    ).response
    rest = search.search_alert_entities(
        body=wf.SortableSearchRequest(offset=2, limit=2, sort=wf.Sorting(field="name", ascending=True))
    ).response
    assert [a.name for a in first.items] == ["cpu-high", "disk-full"]
    assert first.more_items is True and first.total_items == 3
    assert [a.name for a in rest.items] == ["disk-slow"] and rest.more_items is False


def test_can_refuse_a_malformed_search(search):
    too_big = refused_status(lambda: search.search_alert_entities(body={"limit": 1001}))
    bad_method = refused_status(
        lambda: search.search_alert_entities(body={"query": [{"key": "name", "value": "x", "matchingMethod": "LIKE"}]})
    )

    assert (too_big, bad_method) == (400, 400)


def test_can_search_the_deleted_alerts(server, fresh, fresh_api):
    search = wf.SearchApi(wavefront(server.url, fresh.token))
    fresh_api.delete_alert(_make_searchable(fresh_api)["disk-slow"])

    live = _names(search)
    trash = search.search_alert_deleted_entities(
        body=wf.SortableSearchRequest(query=[_query("name", "disk", "STARTSWITH")])
    ).response

    assert live == ["cpu-high", "disk-full"]
    assert [a.name for a in trash.items] == ["disk-slow"]
    assert trash.items[0].in_trash is True


def test_can_answer_facets_of_alerts(search):
    # WHEN one facet is asked for, with and without a facet query
    severities = search.search_alert_for_facet("severity", body=wf.FacetSearchRequestContainer(limit=100)).response
    tags = search.search_alert_for_facet(
        "tags",
        body=wf.FacetSearchRequestContainer(limit=100, facet_query="team", facet_query_matching_method="STARTSWITH"),
    ).response

    # THEN the distinct values
    assert sorted(severities.items) == ["SEVERE", "WARN"]
    assert sorted(tags.items) == ["team-compute", "team-storage"]

    # WHEN several facets are asked for over a query THEN each has its values
    both = search.search_alert_for_facets(
        body=wf.FacetsSearchRequestContainer(facets=["severity", "tags"], query=[_query("name", "disk", "STARTSWITH")])
    ).response
    assert sorted(both.facets["severity"]) == ["SEVERE", "WARN"]
    assert "team-compute" not in both.facets["tags"]
    assert (
        refused_status(lambda: search.search_alert_for_facet("nonsense", body=wf.FacetSearchRequestContainer())) == 400
    )


# ---- tenants -------------------------------------------------------------------------------------------------


def test_can_hide_an_alert_from_another_tenant(server, admin_token, api):
    # GIVEN an alert of tenant A and a user of tenant B who may do anything in B
    alert = api.create_alert(body=_alert(unique("tenant-a"))).response
    other = new_tenant_admin(server.url, admin_token)
    theirs = wf.AlertApi(wavefront(server.url, other.token))
    their_search = wf.SearchApi(wavefront(server.url, other.token))

    # THEN B sees nothing of it: 404 for every operation, absent from lists and searches
    assert refused_status(lambda: theirs.get_alert(alert.id)) == 404
    assert refused_status(lambda: theirs.update_alert(alert.id, body=_alert())) == 404
    assert refused_status(lambda: theirs.snooze_alert(alert.id)) == 404
    assert refused_status(lambda: theirs.get_alert_history(alert.id)) == 404
    assert refused_status(lambda: theirs.delete_alert(alert.id)) == 404
    assert alert.id not in _ids(theirs.get_all_alert(offset=0, limit=100).response)
    found = their_search.search_alert_entities(
        body=wf.SortableSearchRequest(query=[_query("name", alert.name, "EXACT")])
    )
    assert found.response.items == []

    # ... and the other way round
    mine = theirs.create_alert(body=_alert()).response
    assert refused_status(lambda: api.get_alert(mine.id)) == 404
    # A's alert is untouched
    assert api.get_alert(alert.id).response.name == alert.name


def test_can_use_a_users_session_token_in_both_header_styles(server, boss):
    for client in (wavefront(server.url, boss.token), wavefront(server.url, boss.token, bearer=True)):
        created = wf.AlertApi(client).create_alert(body=_alert()).response
        assert wf.AlertApi(client).get_alert(created.id).response.id == created.id
