"""Grafana's service accounts, tokens and API keys are opsplane's service accounts and API
tokens: written in one dialect, read, used and revoked in the other."""

from __future__ import annotations

SA = "/api/serviceaccounts"


def create(api, name: str = "bot", role: str = "Editor", **kw) -> dict:
    status, body = api.json("POST", f"{SA}/", {"name": name, "role": role, **kw})
    assert status == 201, body
    return body


def test_can_create_a_service_account_and_see_it_in_the_wavefront_dialect(api):
    # WHEN Grafana makes a service account with the Editor role
    body = create(api)
    assert body["name"] == "bot" and body["login"] == "sa-bot" and body["role"] == "Editor"
    assert body["isDisabled"] is False and body["tokens"] == 0
    # THEN Wavefront sees sa::bot holding the role's permissions
    status, wf = api.json("GET", "/api/v2/account/serviceaccount/sa::bot")
    assert status == 200, wf
    assert {"browse", "dashboard_management", "alerts_management"} <= set(wf["response"]["groups"])
    assert "user_management" not in wf["response"]["groups"]
    # AND a permission granted there changes the role Grafana reads
    status, _ = api.json("POST", f"/api/v2/account/{body['id']}/grant/user_management")
    assert status == 200
    assert api.json("GET", f"{SA}/{body['id']}?accesscontrol=true")[1]["role"] == "Admin"


def test_can_issue_a_token_usable_as_bearer_and_listed_as_an_api_token(api):
    account = create(api, role="Viewer")
    status, new = api.json("POST", f"{SA}/{account['id']}/tokens", {"name": "ci"})
    assert status == 200, new
    assert new["key"].startswith("opsat_") and new["name"] == "ci"
    # the key works as Authorization: Bearer, with the role's rights only
    assert api.json("GET", "/api/search", token=new["key"])[0] == 200
    assert api.json("POST", "/api/folders", {"title": "x"}, token=new["key"])[0] == 403
    # Wavefront lists the same token by its public id
    wf = api.json("GET", "/api/v2/apitoken/serviceaccount/sa::bot")[1]["response"]
    assert [(t["tokenID"], t["tokenName"]) for t in wf] == [(new["id"], "ci")]
    listed = api.json("GET", f"{SA}/{account['id']}/tokens")[1]
    assert [(t["id"], t["name"], t["hasExpired"]) for t in listed] == [(new["id"], "ci", False)]
    assert new["key"] not in str(listed)
    # revoked through Wavefront, it stops working and leaves Grafana's list
    status, _ = api.json("DELETE", f"/api/v2/apitoken/serviceaccount/sa::bot/{new['id']}")
    assert status == 200
    assert api.json("GET", "/api/search", token=new["key"])[0] == 401
    assert api.json("GET", f"{SA}/{account['id']}/tokens")[1] == []


def test_can_revoke_a_token_and_delete_a_service_account(api):
    account = create(api)
    key = api.json("POST", f"{SA}/{account['id']}/tokens", {"name": "t"})[1]
    assert api.json("DELETE", f"{SA}/{account['id']}/tokens/{key['id']}")[0] == 200
    assert api.json("DELETE", f"{SA}/{account['id']}/tokens/{key['id']}")[0] == 404
    key = api.json("POST", f"{SA}/{account['id']}/tokens", {"name": "t2"})[1]
    assert api.json("DELETE", f"{SA}/{account['id']}")[1] == {"message": "Service account deleted"}
    assert api.json("GET", "/api/search", token=key["key"])[0] == 401
    assert api.json("GET", f"{SA}/{account['id']}")[0] == 404
    assert api.json("GET", "/api/v2/account/serviceaccount/sa::bot")[0] == 404


def test_can_update_role_and_state_and_search(api):
    account = create(api, name="alpha")
    create(api, name="beta", role="Viewer")
    status, body = api.json("PATCH", f"{SA}/{account['id']}", {"role": "Viewer", "isDisabled": True})
    assert status == 200, body
    assert (body["role"], body["isDisabled"]) == ("Viewer", True)
    page = api.json("GET", f"{SA}/search?query=AL&perpage=10&page=1")[1]
    assert page["totalCount"] == 1 and [a["name"] for a in page["serviceAccounts"]] == ["alpha"]
    assert api.json("GET", f"{SA}/search?disabled=true")[1]["totalCount"] == 1
    assert api.json("GET", f"{SA}/search")[1]["totalCount"] == 2
    # the name is the username: renaming is refused, nothing changes
    status, body = api.json("PATCH", f"{SA}/{account['id']}", {"name": "other", "isDisabled": False})
    assert status == 400 and "name" in body["message"]
    assert api.json("GET", f"{SA}/{account['id']}")[1]["isDisabled"] is True


def test_can_refuse_bad_bodies_and_grants_beyond_the_callers_own(api, make_user):
    for body, field in (
        ({"name": ""}, "name"),
        ({"name": "x", "role": "Owner"}, "role"),
        ({"name": "x", "isDisabled": "yes"}, "isDisabled"),
    ):
        status, answer = api.json("POST", SA, body)
        assert status == 400 and field in answer["message"], answer
    create(api, name="taken")
    assert api.json("POST", SA, {"name": "taken"})[0] == 409
    account = create(api, name="ttl")
    status, answer = api.json("POST", f"{SA}/{account['id']}/tokens", {"name": "x", "secondsToLive": 60})
    assert status == 400 and "secondsToLive" in answer["message"]
    # a user manager without the dashboards permission cannot hand out Editor
    manager = make_user(["account.#", "apitoken.#", "*.read", "*.*.read"])
    status, _ = api.json("POST", SA, {"name": "esc", "role": "Editor"}, token=manager.token)
    assert status == 403
    assert api.json("GET", f"{SA}/search?query=esc")[1]["totalCount"] == 0


def test_can_manage_api_keys_as_service_accounts_with_one_token(api):
    status, key = api.json("POST", "/api/auth/keys", {"name": "deploy", "role": "Viewer"})
    assert status == 200, key
    assert key["name"] == "deploy" and key["key"].startswith("opsat_")
    assert api.json("GET", "/api/dashboards/tags", token=key["key"])[0] == 200
    assert api.json("GET", "/api/auth/keys")[1] == [
        {"id": key["id"], "name": "deploy", "role": "Viewer", "expiration": None}
    ]
    # it is a service account with one token, in both dialects
    assert api.json("GET", f"{SA}/{key['id']}")[1]["tokens"] == 1
    assert api.json("GET", "/api/v2/account/serviceaccount/sa::key-deploy")[0] == 200
    assert api.json("DELETE", f"/api/auth/keys/{key['id']}")[1] == {"message": "API key deleted"}
    assert api.json("GET", "/api/dashboards/tags", token=key["key"])[0] == 401
    assert api.json("GET", "/api/auth/keys")[1] == []
    # a plain service account is not a key
    other = create(api, name="plain")
    assert api.json("DELETE", f"/api/auth/keys/{other['id']}")[0] == 404


def test_can_keep_another_tenants_service_accounts_out(api, make_tenant, make_user):
    account = create(api)
    outsider = make_user(["#"], tenant=make_tenant("other-co"))
    assert api.json("GET", f"{SA}/{account['id']}", token=outsider.token)[0] == 404
    assert api.json("DELETE", f"{SA}/{account['id']}", token=outsider.token)[0] == 404
    assert api.json("GET", f"{SA}/search", token=outsider.token)[1]["totalCount"] == 0
