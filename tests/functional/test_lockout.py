"""No tenant locks itself out: a change that would leave it without an administrator (an
enabled account holding user_management) is a 400 in the caller's dialect and writes
nothing; scripts/restore_admin.py repairs a tenant locked out behind the API's back."""

from __future__ import annotations

from chalicelib.auth import permissions

W = "/api/auth/0.1"
ADMIN_ROLE_PREFIX = "admin-"


def admin_role(api) -> str:
    return ADMIN_ROLE_PREFIX + api.root[:8]


def still_admin(api, token: str | None = None) -> None:
    assert api.json("GET", "/api/v2/role", token=token)[0] == 200
    assert api.json("GET", "/api/v2/account", token=token)[0] == 200


def test_can_refuse_deleting_the_admin_role_in_the_wavefront_envelope(api):
    # WHEN the tenant's only admin deletes the role that makes it one
    status, answer = api.json("DELETE", f"/api/v2/role/{admin_role(api)}")

    # THEN 400 in the envelope, saying why, and the role is still there
    assert status == 400, answer
    assert answer["status"]["code"] == 400
    assert "without an administrator" in answer["status"]["message"]
    assert api.json("GET", f"/api/v2/role/{admin_role(api)}")[0] == 200
    still_admin(api)


def test_can_refuse_deleting_or_stripping_the_admin_policy_in_wazo_body(api):
    pid = admin_role(api)

    status, error = api.json("DELETE", f"{W}/policies/{pid}")
    assert status == 400, error
    assert error["status_code"] == 400 and "without an administrator" in error["message"]

    # Stripping `#` from it, one entry or the whole ACL, is the same change
    assert api.json("DELETE", f"{W}/policies/{pid}/acl/%23")[0] == 400
    assert api.json("PUT", f"{W}/policies/{pid}", {"acl": ["alert.#"]})[0] == 400
    # (replacing permissions or revoking user_management keeps `#`, which still holds it:
    # allowed, nothing lost)
    assert api.json("PUT", f"/api/v2/role/{pid}", {"permissions": ["browse"]})[0] == 200
    assert api.json("POST", "/api/v2/role/revoke/user_management", [pid])[0] == 200
    assert "#" in api.json("GET", f"{W}/policies/{pid}")[1]["acl"]
    still_admin(api)


def test_can_refuse_taking_the_admin_role_from_the_last_admin(api):
    pid = admin_role(api)
    assert api.json("POST", f"/api/v2/account/{api.admin}/removeRoles", [pid])[0] == 400
    assert api.json("POST", f"/api/v2/role/{pid}/removeAssignees", [api.admin])[0] == 400
    assert api.json("DELETE", f"{W}/users/{api.admin}/policies/{pid}")[0] == 400
    assert api.json("PUT", f"/api/v2/account/user/{api.admin}", {"roles": []})[0] == 400
    still_admin(api)


def test_can_refuse_removing_the_last_admin_from_the_admin_group(api):
    # GIVEN the admin is an admin only through a group
    group = api.json("POST", "/api/v2/usergroup", {"name": "admins", "roleIDs": [admin_role(api)]})[1]["response"]
    assert api.json("POST", f"/api/v2/usergroup/{group['id']}/addUsers", [api.admin])[0] == 200
    assert api.json("POST", f"/api/v2/account/{api.admin}/removeRoles", [admin_role(api)])[0] == 200

    # WHEN it leaves the group, the group loses the role, or goes: THEN all are refused
    assert api.json("POST", f"/api/v2/usergroup/{group['id']}/removeUsers", ["admin"])[0] == 400
    assert api.json("POST", f"/api/v2/account/{api.admin}/removeUserGroups", [group["id"]])[0] == 400
    assert api.json("DELETE", f"{W}/groups/{group['id']}/users/{api.admin}")[0] == 400
    assert api.json("POST", f"/api/v2/usergroup/{group['id']}/removeRoles", [admin_role(api)])[0] == 400
    assert api.json("DELETE", f"{W}/groups/{group['id']}/policies/{admin_role(api)}")[0] == 400
    assert api.json("DELETE", f"/api/v2/usergroup/{group['id']}")[0] == 400
    assert api.json("DELETE", f"{W}/groups/{group['id']}")[0] == 400
    assert api.json("GET", f"/api/v2/usergroup/{group['id']}")[1]["response"]["users"] == ["admin"]
    still_admin(api)


def test_can_refuse_revoking_user_management_from_oneself_as_last_admin(api, make_tenant, make_user):
    # GIVEN a tenant whose only admin holds user_management in its own ACL
    tenant = make_tenant("acme")
    boss = make_user(permissions.patterns("user_management"), tenant=tenant, username="boss")

    # WHEN it revokes it from itself: THEN 400, and it still manages accounts
    status, answer = api.json("POST", f"/api/v2/account/{boss.uuid}/revoke/user_management", token=boss.token)
    assert status == 400, answer
    assert answer["status"]["code"] == 400 and "without an administrator" in answer["status"]["message"]
    status, _ = api.json("POST", "/api/v2/account/revoke/user_management", ["boss"], token=boss.token)
    assert status == 400
    still_admin(api, boss.token)


def test_can_refuse_deactivating_or_deleting_the_last_admin(api, make_user):
    # GIVEN a second admin, a service account, and a helper managing accounts without
    # user_management
    robot = api.json("POST", "/api/v2/account/serviceaccount", {"identifier": "sa::robot", "roles": [admin_role(api)]})
    assert robot[0] == 200, robot
    helper = make_user(["account.#", "user.#"], username="helper")
    # The bootstrap admin and the robot are both admins: the bootstrap admin can go
    assert api.json("DELETE", f"{W}/users/{api.admin}", token=helper.token)[0] == 204

    # WHEN the robot, now the last admin, is deactivated or deleted: THEN refused
    status, answer = api.json("POST", "/api/v2/account/serviceaccount/sa::robot/deactivate", token=helper.token)
    assert status == 400, answer
    assert api.json("DELETE", "/api/v2/account/sa::robot", token=helper.token)[0] == 400
    assert api.json("POST", "/api/v2/account/deleteAccounts", ["sa::robot"], token=helper.token)[0] == 400
    robot_view = api.json("GET", "/api/v2/account/serviceaccount/sa::robot", token=helper.token)[1]["response"]
    assert robot_view["active"] is True and [r["id"] for r in robot_view["roles"]] == [admin_role(api)]


def test_can_refuse_disabling_or_deleting_the_last_admin_through_wazo(api, make_user):
    helper = make_user(["user.#"], username="helper")
    status, error = api.json("PUT", f"{W}/users/{api.admin}", {"enabled": False}, token=helper.token)
    assert status == 400, error
    assert "without an administrator" in error["message"]
    assert api.json("DELETE", f"{W}/users/{api.admin}", token=helper.token)[0] == 400
    still_admin(api)


def test_can_remove_one_of_two_admins(api):
    # GIVEN a second admin
    second = api.json("POST", "/api/v2/account/user", {"emailAddress": "two@example.com", "roles": [admin_role(api)]})
    assert second[0] == 200, second

    # WHEN the first one gives up the admin role: THEN that is fine
    assert api.json("POST", f"/api/v2/account/{api.admin}/removeRoles", [admin_role(api)])[0] == 200

    # and the second is now the last one
    from chalicelib.identity.directory import Directory

    assert [a.doc["username"] for a in Directory(api.root).administrators()] == ["two@example.com"]


def test_can_restore_a_tenant_locked_out_behind_the_apis_back(api, capsys):
    from chalicelib.identity import accounts
    from chalicelib.identity.directory import Directory
    from scripts.restore_admin import main

    # GIVEN the admin policy purged and unlinked by direct store writes
    pid = admin_role(api)
    accounts.repo(api.root, accounts.POLICY).purge(pid)
    accounts.repo(api.root, accounts.ACCOUNT).update(api.admin, lambda e: e.doc.update(policies=[]))
    assert Directory(api.root).administrators() == []
    assert api.json("GET", "/api/v2/role")[0] == 403

    # WHEN the operator runs the break-glass command
    assert main(["--tenant", api.root]) == 0

    # THEN the oldest user is an admin again, through a recreated admin policy
    out = capsys.readouterr().out
    assert f"created admin policy {pid}" in out and "admin" in out
    still_admin(api)
    assert api.json("GET", f"{W}/policies/{pid}")[1]["acl"] == ["#"]


def test_can_restore_a_named_disabled_account_and_a_stripped_policy(api, capsys):
    from chalicelib.identity import accounts
    from scripts.restore_admin import main

    pid = admin_role(api)
    accounts.repo(api.root, accounts.POLICY).update(pid, lambda e: e.doc.update(acl=["alert.#"]))
    accounts.repo(api.root, accounts.ACCOUNT).update(api.admin, lambda e: e.doc.update(enabled=False))

    assert main(["--tenant", api.root, "--account", "admin"]) == 0

    out = capsys.readouterr().out
    assert "reset the ACL" in out and "enabled account admin" in out
    still_admin(api)


# ---- concurrent changes of different records ------------------------------------------------

ADMINS = 6


def _admins(make_tenant, make_user) -> tuple[str, list[str]]:
    tenant = make_tenant("race")
    ids = [
        make_user(permissions.patterns("user_management"), tenant=tenant, username=f"a{i}").uuid for i in range(ADMINS)
    ]
    return tenant, ids


def _all_at_once(work) -> list[BaseException | None]:
    """Run work(i) for every admin in its own thread, released together."""
    import threading

    barrier = threading.Barrier(ADMINS)
    outcomes: list[BaseException | None] = [None] * ADMINS

    def run(i: int) -> None:
        barrier.wait()
        try:
            work(i)
        except BaseException as exc:  # noqa: BLE001 - the outcome is what the test reads
            outcomes[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(ADMINS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


def test_can_keep_one_admin_when_every_admin_is_deactivated_at_once(api, make_tenant, make_user):
    from chalicelib.errors import Invalid
    from chalicelib.identity import directory

    # GIVEN a tenant with six admins
    tenant, ids = _admins(make_tenant, make_user)

    # WHEN each of six writers deactivates a different one, all at the same moment
    outcomes = _all_at_once(lambda i: directory.set_enabled(tenant, ids[i], False, by="test"))

    # THEN five land and the last one is refused: the tenant keeps exactly one admin
    refused = [o for o in outcomes if o is not None]
    assert len(refused) == 1 and isinstance(refused[0], Invalid), outcomes
    assert len(directory.Directory(tenant).administrators()) == 1


def test_can_keep_one_admin_when_every_admin_is_deleted_at_once(api, make_tenant, make_user):
    from chalicelib.errors import Invalid
    from chalicelib.identity import directory

    tenant, ids = _admins(make_tenant, make_user)

    outcomes = _all_at_once(lambda i: directory.delete_account(tenant, ids[i], guard=True))

    refused = [o for o in outcomes if o is not None]
    assert len(refused) == 1 and isinstance(refused[0], Invalid), outcomes
    assert len(directory.Directory(tenant).administrators()) == 1


def test_can_hold_the_administration_lease_one_holder_at_a_time(aws):
    from chalicelib.store import tokens

    key = ("lease#t1", "administration")
    # One holder at a time; the holder may take it again; giving it back frees it
    assert tokens.take_lease(key, "one", seconds=15)
    assert not tokens.take_lease(key, "two", seconds=15)
    assert tokens.take_lease(key, "one", seconds=15)
    tokens.end_lease(key, "two")  # not the holder: nothing happens
    assert not tokens.take_lease(key, "two", seconds=15)
    tokens.end_lease(key, "one")
    assert tokens.take_lease(key, "two", seconds=15)
    # A lease that ran out (its holder died) is free
    assert tokens.take_lease(("lease#t2", "administration"), "dead", seconds=-1)
    assert tokens.take_lease(("lease#t2", "administration"), "alive", seconds=15)
