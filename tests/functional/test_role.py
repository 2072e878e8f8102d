"""Wavefront roles over the identity policies: CRUD, permissions <-> ACL, assignees,
the grant rule, concurrent permission edits, tenancy, bad input."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

from wavefront_api_client import ApiClient

from chalicelib.auth import permissions
from chalicelib.identity import accounts, directory, groups, policies

BOB = "bob@example.com"


def shape(data, klass):
    """Deserialize like the client does (ValueError on a missing required field or bad enum)."""
    return ApiClient()._ApiClient__deserialize(data, klass)


def create_role(api, name, perms, **fields):
    status, body = api.json("POST", "/api/v2/role", {"name": name, "permissions": perms, **fields})
    assert status == 200, body
    return shape(body, "ResponseContainerRoleDTO").response


def acl_of(api, role_id):
    return policies.get_policy(api.root, role_id).doc["acl"]


def role_count(api):
    """The tenant's roles: the bootstrap's administrator role and Everyone's included."""
    return accounts.repo(api.root, accounts.POLICY).count()


def test_can_create_read_list_update_and_delete_a_role(api):
    # WHEN a role is created with two permissions (one by its alias)
    role = create_role(api, "ops", ["alerts_management", "accounts"], description="on call")
    # THEN it holds their ACL patterns and reads back in every shape
    assert (role.name, role.description) == ("ops", "on call")
    assert role.permissions == ["alerts_management", "api_tokens", "token_management", "user_management"]
    assert set(acl_of(api, role.id)) == set(permissions.patterns_of(["alerts_management", "user_management"]))
    status, body = api.json("GET", f"/api/v2/role/{role.id}")
    assert status == 200 and shape(body, "ResponseContainerRoleDTO").response.linked_accounts_count == 0
    status, body = api.json("GET", "/api/v2/role?offset=0&limit=1")
    paged = shape(body, "ResponseContainerPagedRoleDTO").response
    assert (len(paged.items), paged.total_items, paged.more_items) == (1, 3, True)  # admin's, Everyone's, ops
    # AND an update replaces the permissions
    status, body = api.json(
        "PUT", f"/api/v2/role/{role.id}", {"id": role.id, "name": "ops2", "permissions": ["events_management"]}
    )
    updated = shape(body, "ResponseContainerRoleDTO").response
    assert status == 200 and (updated.name, updated.permissions) == ("ops2", ["events_management"])
    assert acl_of(api, role.id) == ["event.#", "inboundwebhook.#"]  # events_management holds both
    # AND delete answers the role and removes it
    status, body = api.json("DELETE", f"/api/v2/role/{role.id}")
    assert status == 200 and shape(body, "ResponseContainerRoleDTO").response.name == "ops2"
    assert api.json("GET", f"/api/v2/role/{role.id}")[0] == 404


def test_can_keep_custom_acl_entries_when_permissions_change(api):
    # GIVEN a policy written through the Wazo side with a custom entry
    policy = policies.create_policy(
        api.root, name="mixed", slug=None, description=None, acl=["confd.users.read", "alert.#"], held=None, by="t"
    )
    # WHEN its Wavefront permissions are replaced
    status, body = api.json("PUT", f"/api/v2/role/{policy.id}", {"permissions": ["dashboard_management"]})
    # THEN the custom entry stays and only the permission patterns change
    assert status == 200 and body["response"]["permissions"] == ["dashboard_management"]
    assert acl_of(api, policy.id) == [
        "confd.users.read",
        "dashboard.#",
        "folder.#",
        "snapshot.#",
        "libraryelement.#",
        "datasource.#",
    ]


def test_can_grant_and_revoke_a_permission_for_many_roles(api):
    one, two = create_role(api, "one", []), create_role(api, "two", ["browse"])
    status, body = api.json("POST", "/api/v2/role/grant/host_tag_management", [one.id, two.id])
    assert status == 200 and shape(body, "ResponseContainerRoleDTO").response.id == one.id
    assert api.json("GET", f"/api/v2/role/{two.id}")[1]["response"]["permissions"] == ["browse", "host_tag_management"]
    status, body = api.json("POST", "/api/v2/role/revoke/host_tag_management", [one.id, two.id])
    assert status == 200 and shape(body, "ResponseContainerRoleDTO").response.permissions == []
    assert acl_of(api, two.id) == ["*.read", "*.*.read"]


def test_can_assign_a_role_to_accounts_and_groups_and_take_it_back(api):
    # GIVEN a user, a group and a role
    api.json("POST", "/api/v2/account/user", {"emailAddress": BOB})
    group = groups.create_group(api.root, name="team", slug=None, description=None, by="t")
    role = create_role(api, "ops", ["alerts_management"])
    # WHEN both are assigned the role
    status, body = api.json("POST", f"/api/v2/role/{role.id}/addAssignees", [BOB, group.id])
    # THEN the role counts them and the user holds the permission
    dto = shape(body, "ResponseContainerRoleDTO").response
    assert status == 200 and (dto.linked_accounts_count, dto.linked_groups_count) == (1, 1)
    assert dto.sample_linked_accounts == [BOB] and [g.id for g in dto.sample_linked_groups] == [group.id]
    account = api.json("GET", f"/api/v2/account/{quote(BOB, safe='')}")[1]["response"]
    assert account["roles"] == [role.id] and account["unitedPermissions"] == ["alerts_management"]
    # AND removing them takes it back
    status, body = api.json("POST", f"/api/v2/role/{role.id}/removeAssignees", [BOB, group.id])
    dto = shape(body, "ResponseContainerRoleDTO").response
    assert status == 200 and (dto.linked_accounts_count, dto.linked_groups_count) == (0, 0)


def test_can_detach_a_deleted_role_from_everyone(api):
    api.json("POST", "/api/v2/account/user", {"emailAddress": BOB})
    group = groups.create_group(api.root, name="team", slug=None, description=None, by="t")
    role = create_role(api, "ops", ["alerts_management"])
    api.json("POST", f"/api/v2/role/{role.id}/addAssignees", [BOB, group.id])
    assert api.json("DELETE", f"/api/v2/role/{role.id}")[0] == 200
    account = api.json("GET", f"/api/v2/account/{quote(BOB, safe='')}")[1]["response"]
    assert account["roles"] == [] and account["unitedPermissions"] == []
    assert groups.get_group(api.root, group.id).doc["policies"] == []


def test_can_refuse_to_grant_what_the_caller_does_not_hold(api, make_user):
    # GIVEN a manager holding only the Accounts permission
    manager = make_user(permissions.patterns("user_management"))
    api.json("POST", "/api/v2/account/user", {"emailAddress": BOB})
    mine = create_role(api, "mine", ["user_management"])
    theirs = create_role(api, "theirs", ["alerts_management"])
    attempts = [
        ("POST", "/api/v2/role", {"name": "x", "permissions": ["alerts_management"]}),
        ("PUT", f"/api/v2/role/{mine.id}", {"permissions": ["user_management", "alerts_management"]}),
        ("POST", "/api/v2/role/grant/alerts_management", [mine.id]),
        ("POST", f"/api/v2/role/{theirs.id}/addAssignees", [BOB]),
    ]
    for method, path, body in attempts:
        status, answer = api.json(method, path, body, token=manager.token)
        # THEN every attempt is refused and nothing changed
        assert status == 403, (path, answer)
    assert role_count(api) == 4  # admin's, Everyone's, mine, theirs
    assert set(acl_of(api, mine.id)) == set(permissions.patterns("user_management"))
    assert api.json("GET", f"/api/v2/role/{theirs.id}")[1]["response"]["linkedAccountsCount"] == 0
    # AND what it holds it may hand out
    status, body = api.json("POST", "/api/v2/role", {"name": "y", "permissions": ["api_tokens"]}, token=manager.token)
    assert status == 200 and body["response"]["permissions"] == ["api_tokens"]


def test_can_keep_every_concurrent_permission_grant(api):
    # GIVEN one empty role and eight independent permissions
    role = create_role(api, "busy", [])
    names = [
        "agent_management",
        "alerts_management",
        "dashboard_management",
        "derived_metrics_management",
        "events_management",
        "external_links_management",
        "host_tag_management",
        "log_management",
    ]
    # WHEN eight writers grant one each at the same time
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(
            pool.map(
                lambda name: directory.edit_acl(
                    api.root, accounts.POLICY, role.id, lambda acl: permissions.grant(acl, [name]), by="t"
                ),
                names,
            )
        )
    # THEN the role holds all of them
    assert api.json("GET", f"/api/v2/role/{role.id}")[1]["response"]["permissions"] == sorted(names)


def test_can_refuse_bad_input_with_400_and_write_nothing(api):
    role = create_role(api, "ops", ["browse"])
    cases = [
        ("POST", "/api/v2/role", None, b"[broken"),
        ("POST", "/api/v2/role", {"permissions": ["browse"]}, None),
        ("POST", "/api/v2/role", {"name": "x", "permissions": ["no_such_permission"]}, None),
        ("POST", "/api/v2/role", {"name": "x", "permissions": "browse"}, None),
        ("PUT", f"/api/v2/role/{role.id}", {"id": "another"}, None),
        ("PUT", f"/api/v2/role/{role.id}", {"permissions": ["browse", "nope"]}, None),
        ("POST", "/api/v2/role/grant/nope", [role.id], None),
        ("POST", "/api/v2/role/grant/browse", ["no-such-role"], None),
        ("POST", "/api/v2/role/grant/browse", [], None),
        ("POST", f"/api/v2/role/{role.id}/addAssignees", ["ghost@example.com"], None),
        ("POST", f"/api/v2/role/{role.id}/addAssignees", [], None),
    ]
    for method, path, body, raw in cases:
        status, answer = api.json(method, path, body, raw=raw)
        assert status == 400, (method, path, body, answer)
        assert answer["status"]["code"] == 400
    assert role_count(api) == 3  # admin's, Everyone's, ops
    assert acl_of(api, role.id) == ["*.read", "*.*.read"]
    assert api.json("GET", "/api/v2/role/no-such-role")[0] == 404


def test_can_hide_other_tenants_roles(api, make_tenant, make_user):
    other = make_tenant("other")
    theirs = policies.create_policy(other, name="theirs", slug=None, description=None, acl=["x.#"], held=None, by="t")
    for method, suffix, body in (
        ("GET", "", None),
        ("PUT", "", {"name": "stolen"}),
        ("DELETE", "", None),
        ("POST", "/addAssignees", ["admin"]),
    ):
        assert api.json(method, f"/api/v2/role/{theirs.id}{suffix}", body)[0] == 404
    assert api.json("POST", "/api/v2/role/grant/browse", [theirs.id])[0] == 400
    assert theirs.id not in [r["id"] for r in api.json("GET", "/api/v2/role")[1]["response"]["items"]]
    assert policies.get_policy(other, theirs.id).doc["acl"] == ["x.#"]
    # AND a foreign account cannot be made an assignee
    stranger = make_user([], tenant=other)
    mine = create_role(api, "mine", [])
    assert api.json("POST", f"/api/v2/role/{mine.id}/addAssignees", [stranger.username])[0] == 400
