"""Export / import of the identity and policy kinds: roles (policies), user groups, the
access policy, ingestion policies, saved searches (per owner), cloud integrations (never
their external id), and accounts as references mapped by username."""

from __future__ import annotations

import json

from tests.functional.conftest import mint
from tests.functional.test_export import EVERYONE, export, import_, in_tenant, ok, own_ids

ROLE_ARN = "arn:aws:iam::123456789012:role/opsplane"


def seed_identity(api, tenant: str, user) -> dict[str, str]:
    """A role held by a user, a group with the user and the role, an access policy, two
    ingestion policies (of the user, of the group), the user's saved search, a cloud
    integration, an alert whose ACL names the user and the group."""
    h = in_tenant(tenant)
    role = ok(api.json("POST", "/api/v2/role", {"name": "Alerting", "permissions": ["alerts_management"]}, headers=h))
    ok(api.json("POST", f"/api/v2/role/{role['id']}/addAssignees", [user.uuid], headers=h))
    group = ok(api.json("POST", "/api/v2/usergroup", {"name": "Ops", "roleIDs": [role["id"]]}, headers=h))
    ok(api.json("POST", f"/api/v2/usergroup/{group['id']}/addUsers", [user.uuid], headers=h))
    rules = {"policyRules": [{"action": "ALLOW", "subnet": "0.0.0.0/0", "name": "all"}]}
    ok(api.json("PUT", "/api/v2/accesspolicy", rules, headers=h))
    base = "/api/v2/usage/ingestionpolicy"
    mine = ok(api.json("POST", base, {"name": "mine", "scope": "ACCOUNT", "accounts": [user.uuid]}, headers=h))
    ours = ok(api.json("POST", base, {"name": "ours", "scope": "GROUP", "groups": [group["id"]]}, headers=h))
    search = {"entityType": "ALERT", "query": {"name": "cpu"}}
    saved = ok(api.json("POST", "/api/v2/savedsearch", search, token=user.token))
    external = ok(api.json("POST", "/api/v2/cloudintegration/awsExternalId", headers=h))
    cloud = {
        "name": "aws",
        "service": "CLOUDWATCH",
        "cloudWatch": {"baseCredentials": {"roleArn": ROLE_ARN, "externalId": external}, "namespaces": ["AWS/EC2"]},
    }
    integration = ok(api.json("POST", "/api/v2/cloudintegration", cloud, headers=h))
    alert = ok(api.json("POST", "/api/v2/alert", {"name": "cpu", "condition": "ts(cpu)", "minutes": 1}, headers=h))
    acl = [{"entityId": alert["id"], "viewAcl": [group["id"]], "modifyAcl": [user.uuid]}]
    status, body = api.json("PUT", "/api/v2/alert/acl/set", acl, headers=h)
    assert status == 200, body
    return {
        "role": role["id"],
        "group": group["id"],
        "mine": mine["id"],
        "ours": ours["id"],
        "saved": saved["id"],
        "external": external,
        "integration": integration["id"],
        "alert": alert["id"],
    }


def move_account(api, user, tenant: str):
    """The same person in another tenant: the account leaves its tenant (usernames are
    unique per installation) and is made again, same id and username, in tenant."""
    from chalicelib.identity import accounts, directory

    directory.delete_account(user.tenant, user.uuid)
    accounts.create_account(
        tenant,
        username=user.username,
        password=user.password,
        account_uuid=user.uuid,
        by="test",
        fields={"acl": ["savedsearch.#"]},
    )
    return type(user)(user.uuid, user.username, user.password, mint(user.uuid, tenant, user.username), tenant)


def test_can_export_identity_kinds_with_accounts_as_references_and_no_secrets(api, make_tenant, make_user):
    # GIVEN a tenant with a user holding a role, a group, policies, a saved search, an integration
    tenant = make_tenant("a")
    user = make_user(["savedsearch.#"], tenant=tenant, username="erin", password="very-secret-password")
    made = seed_identity(api, tenant, user)
    # WHEN it is exported
    doc = export(api, tenant)
    kinds = doc["kinds"]
    # THEN accounts are references only: id, username, type
    assert doc["accounts"] == [{"id": user.uuid, "name": "erin", "type": "user"}]
    # (Everyone's role and group first, named alike in every tenant's document)
    everyone_role, role = kinds["policy"]
    assert everyone_role["id"] == EVERYONE["policy"] and everyone_role["doc"]["name"] == "Everyone"
    assert role["id"] == made["role"] and role["doc"]["_accounts"] == [user.uuid]
    assert "tenant_uuid" not in role["doc"] and "uuid" not in role["doc"]
    everyone, group = kinds["group"]
    assert everyone["id"] == EVERYONE["group"] and everyone["doc"]["policies"] == [EVERYONE["policy"]]
    assert everyone["doc"]["users"] == []
    assert group["doc"]["users"] == [user.uuid] and group["doc"]["policies"] == [made["role"]]
    assert kinds["accesspolicy"][0]["doc"]["policyRules"][0]["subnet"] == "0.0.0.0/0"
    assert {e["id"] for e in kinds["ingestionpolicy"]} == {made["mine"], made["ours"]}
    (saved,) = kinds["savedsearch"]
    assert saved["id"] == made["saved"] and saved["doc"]["_owner"] == user.uuid
    (integration,) = kinds["cloudintegration"]
    assert integration["doc"]["cloudWatch"]["baseCredentials"] == {"roleArn": ROLE_ARN}
    # ... and no secret: not the password, its hash, nor the external id
    text = json.dumps(doc)
    assert "very-secret-password" not in text and "hash" not in text.lower() and made["external"] not in text


def test_can_round_trip_identity_kinds_into_a_tenant_with_the_same_accounts(api, make_tenant, make_user):
    # GIVEN a tenant's export, and its user moved to another tenant
    first, second = make_tenant("a"), make_tenant("b")
    user = make_user(["savedsearch.#"], tenant=first, username="frank")
    made = seed_identity(api, first, user)
    exported = export(api, first)
    moved = move_account(api, user, second)
    # WHEN the export is imported there, ids kept
    result = ok(import_(api, second, exported))
    # THEN the second tenant exports the same document, nothing dropped
    assert result["dropped"] == {} and result["ids"]["account"] == {user.uuid: user.uuid}
    assert export(api, second) == exported
    h = in_tenant(second)
    # ... the user holds the role directly and through the group, and sees its saved search
    got = ok(api.json("GET", f"/api/v2/usergroup/{made['group']}", headers=h))
    assert got["users"] == ["frank"] and [r["id"] for r in got["roles"]] == [made["role"]]
    assert ok(api.json("GET", "/api/v2/savedsearch", token=moved.token))["items"][0]["id"] == made["saved"]
    # ... and the integration names a new external id of the second tenant
    integration = ok(api.json("GET", f"/api/v2/cloudintegration/{made['integration']}", headers=h))
    issued = integration["cloudWatch"]["baseCredentials"]["externalId"]
    assert issued != made["external"]
    assert ok(api.json("GET", f"/api/v2/cloudintegration/awsExternalId/{issued}", headers=h)) == issued


def test_can_refuse_a_missing_account_with_ids_kept_and_drop_it_when_remapped(api, make_tenant, make_user):
    # GIVEN a tenant's export, and an empty tenant without its user
    first, second = make_tenant("a"), make_tenant("b")
    user = make_user(["savedsearch.#"], tenant=first, username="grace")
    made = seed_identity(api, first, user)
    exported = export(api, first)
    # WHEN it is imported with ids kept
    status, error = import_(api, second, exported)
    # THEN 400 naming the entity and the account, and nothing written
    assert status == 400 and error["status"]["message"].startswith(f"policy[{made['role']}].doc: no account grace")
    assert all(not ids for ids in own_ids(export(api, second)).values())
    # WHEN it is imported with ids remapped
    result = ok(import_(api, second, exported, ids="remap"))
    # THEN the references to the user are dropped and listed; its saved search and the
    # policy scoped to it alone are not imported
    dropped = result["dropped"]
    assert dropped[f"group[{made['group']}]"] == ["grace"] and dropped[f"savedsearch[{made['saved']}]"] == ["grace"]
    assert dropped[f"ingestionpolicy[{made['mine']}]"] == ["grace"] and dropped[f"alert[{made['alert']}]"] == ["grace"]
    assert made["saved"] not in result["ids"]["savedsearch"] and made["mine"] not in result["ids"]["ingestionpolicy"]
    assert result["written"]["ingestionpolicy"] == 1 and "savedsearch" not in result["written"]
    # ... and the rest names the new ids: the group its new role, the policy and the ACL the new group
    ids = result["ids"]
    h = in_tenant(second)
    group = ok(api.json("GET", f"/api/v2/usergroup/{ids['group'][made['group']]}", headers=h))
    assert [r["id"] for r in group["roles"]] == [ids["policy"][made["role"]]] and group["users"] == []
    ours = ok(api.json("GET", f"/api/v2/usage/ingestionpolicy/{ids['ingestionpolicy'][made['ours']]}", headers=h))
    assert [g["id"] for g in ours["groups"]] == [ids["group"][made["group"]]]
    acl = api.json("GET", f"/api/v2/alert/acl?id={ids['alert'][made['alert']]}", headers=h)[1]
    assert [e["id"] for e in acl["response"][0]["viewAcl"]] == [ids["group"][made["group"]]], acl


def test_can_refuse_identity_imports_that_break_their_rules(api, make_tenant, make_user):
    # GIVEN a tenant's export
    first, second = make_tenant("a"), make_tenant("b")
    user = make_user(["savedsearch.#"], tenant=first, username="heidi")
    made = seed_identity(api, first, user)
    exported = export(api, first)
    move_account(api, user, second)
    # WHEN an importer without the ACL a role grants imports it: 403, nothing written
    weak = make_user(["export.#"], tenant=second)
    status, error = api.json("POST", "/api/v2/import", exported, token=weak.token)
    assert status == 403, error
    # ... a document with an external id in it, or a role that grants a bad ACL entry: 400
    leaked = json.loads(json.dumps(exported))
    leaked["kinds"]["cloudintegration"][0]["doc"]["cloudWatch"]["baseCredentials"]["externalId"] = made["external"]
    bad_acl = json.loads(json.dumps(exported))
    (role,) = [p for p in bad_acl["kinds"]["policy"] if p["id"] == made["role"]]
    role["doc"]["acl"] = ["not an acl entry"]
    for doc, where in (
        (leaked, f"cloudintegration[{made['integration']}].doc: cloudWatch"),
        (bad_acl, f"policy[{made['role']}].doc: Invalid ACL"),
    ):
        status, error = import_(api, second, doc)
        assert status == 400 and error["status"]["message"].startswith(where), error
    assert all(not ids for ids in own_ids(export(api, second)).values())
    # ... and into the tenant it came from, remapped: its one access policy is there
    # already, and (without it) the role's slug is taken: 409
    status, error = import_(api, first, exported, ids="remap")
    assert status == 409 and error["status"]["message"].startswith("accesspolicy["), error
    del exported["kinds"]["accesspolicy"]
    status, error = import_(api, first, exported, ids="remap")
    assert status == 409 and error["status"]["message"].startswith("policy["), error
