"""The shared CRUD's access contract, for every declared kind: entity ACLs (403 for a user
of the tenant the ACL leaves out, nothing written) and tenant isolation (404, never 403).
"""

from __future__ import annotations

from typing import Any

from tests.contract.conftest import KindApi, User, refused


def entity_calls(kind: KindApi, eid: str, body: dict[str, Any], caller: User) -> list[tuple[str, str, Any]]:
    """A call to every route of the kind that names the entity (method, path, body)."""
    calls = [("GET", kind.item(eid), None), ("PUT", kind.update_path(eid), body)]
    if kind.has("delete"):
        calls += [("DELETE", kind.item(eid), None), ("DELETE", kind.item(eid, "?skipTrash=true"), None)]
    if kind.has("undelete"):
        calls.append(("POST", kind.item(eid, "/undelete"), None))
    if kind.has("history"):
        calls += [("GET", kind.item(eid, "/history"), None), ("GET", kind.item(eid, "/history/1"), None)]
    if kind.has("tags"):
        calls += [("GET", kind.item(eid, "/tag"), None), ("PUT", kind.item(eid, "/tag/x"), None)]
        calls += [("POST", kind.item(eid, "/tag"), ["x"]), ("DELETE", kind.item(eid, "/tag/x"), None)]
    if kind.has("clone"):
        calls.append(("POST", kind.item(eid, "/clone"), None))
    if kind.has("acl"):
        calls += [
            ("GET", f"{kind.base}/acl?id={eid}", None),
            ("PUT", f"{kind.base}/acl/set", [{"entityId": eid, "viewAcl": [caller.uuid]}]),
            ("POST", f"{kind.base}/acl/add", [{"entityId": eid, "modifyAcl": [caller.uuid]}]),
            ("POST", f"{kind.base}/acl/remove", [{"entityId": eid, "viewAcl": [caller.uuid]}]),
        ]
    return calls


def test_can_restrict_an_entity_with_its_acl(kind: KindApi):
    kind.needs("acl")
    # GIVEN an entity, and two more users of the tenant with every permission of the kind
    body = kind.body()
    eid = kind.create(body)["id"]
    viewer, outsider = kind.user(), kind.user()
    key = kind.declared.kind.name_key
    assert kind.call("PUT", kind.update_path(eid), {**body, key: "seen by all"}, as_=outsider)[0] == 200
    # WHEN its ACL lets the viewer view and the owner modify
    status, answer = kind.call(
        "PUT", f"{kind.base}/acl/set", [{"entityId": eid, "viewAcl": [viewer.uuid], "modifyAcl": [kind.owner.uuid]}]
    )
    assert status == 200, answer
    status, answer = kind.call("GET", f"{kind.base}/acl?id={eid}")
    assert status == 200
    [acl] = answer["response"]
    assert [p["id"] for p in acl["viewAcl"]] == [viewer.uuid]
    assert [p["id"] for p in acl["modifyAcl"]] == [kind.owner.uuid]
    version = kind.get(eid)["version"]
    # THEN the outsider may neither read nor change it through any route, nor see it listed
    for method, path, payload in entity_calls(kind, eid, {**body, key: "outsider"}, outsider):
        status, answer = kind.call(method, path, payload, as_=outsider)
        assert status == 403, (method, path, answer)
        refused(status, answer, 403)
    assert kind.total(as_=outsider) == 0
    # AND the viewer may read only
    assert kind.get(eid, as_=viewer)["modifyAclAccess"] is False
    refused(*kind.call("PUT", kind.update_path(eid), {**body, key: "viewer"}, as_=viewer), 403)
    if kind.has("tags"):
        refused(*kind.call("PUT", kind.item(eid, "/tag/x"), as_=viewer), 403)
    if kind.has("delete"):
        refused(*kind.call("DELETE", kind.item(eid), as_=viewer), 403)
    # AND nothing the refused users tried was written
    after = kind.get(eid)
    assert after["version"] == version and after[key] == "seen by all" and after["inTrash"] is False
    # AND when the viewer is removed and added as a modifier, the viewer may change it
    assert kind.call("POST", f"{kind.base}/acl/remove", [{"entityId": eid, "viewAcl": [viewer.uuid]}])[0] == 200
    assert kind.call("POST", f"{kind.base}/acl/add", [{"entityId": eid, "modifyAcl": [viewer.uuid]}])[0] == 200
    assert kind.call("PUT", kind.update_path(eid), {**body, key: "viewer"}, as_=viewer)[0] == 200


def test_can_answer_404_never_403_for_another_tenants_entity(kind: KindApi):
    # GIVEN an entity, and a user of another tenant with every permission of the kind
    body = kind.body()
    created = kind.create(body)
    eid = created["id"]
    stranger = kind.stranger()
    # THEN every route on the entity answers 404 to the stranger
    for method, path, payload in entity_calls(kind, eid, body, stranger):
        status, answer = kind.call(method, path, payload, as_=stranger)
        assert status == 404, (method, path, answer)
        refused(status, answer, 404)
    # AND the stranger lists nothing, and the entity is untouched
    assert kind.total(as_=stranger) == 0
    after = kind.get(eid)
    assert after == created and after["inTrash"] is False
    if kind.has("tags"):
        assert kind.sample.tags_of(after) == []
    # AND the stranger may create the same body (name, client id) in its own tenant
    # (made ready for it: what the body names that a tenant must own, it owns)
    status, answer = kind.post_create(kind.own(body, stranger), as_=stranger)
    assert status == 200, answer
    assert kind.total(as_=stranger) == 1 and kind.total() == 1
