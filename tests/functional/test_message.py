"""Messages: the real MessageApi over the caller's own messages, and every event that
writes one (API tokens at 18 of 20, a service account deactivated, one of its credentials
revoked, a rate-limit window past 80%), each exactly once per event."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote

import pytest
import wavefront_api_client as wf
from wavefront_api_client.rest import ApiException

from tests.functional import test_limits
from tests.functional.test_alert import client_reads, wavefront
from tests.functional.test_limits import Clock

BASE = "/api/v2/message"
# The rate-limited API of test_limits (with this module's clock).
budget, limited = test_limits.budget, test_limits.limited

READER = ["message.read", "message.*.read"]
TOKEN_USER = [*READER, "apitoken.read", "apitoken.create", "apitoken.*.delete"]
BOT = "sa::builder"


def inbox(api, token: str | None = None, *, unread_only: bool = False) -> list[dict[str, Any]]:
    status, body = api.json("GET", f"{BASE}?unreadOnly={unread_only}&limit=1000", token=token)
    assert status == 200, body
    client_reads(body, "ResponseContainerPagedMessage")
    return body["response"]["items"]


def about(messages: list[dict[str, Any]], event: str) -> list[dict[str, Any]]:
    return [m for m in messages if m["attributes"]["event"] == event]


def new_token(api, token: str) -> str:
    status, body = api.json("POST", "/api/v2/apitoken", {}, token=token)
    assert status == 200, body
    return body["response"][0]["tokenID"]


def own_tokens(api, token: str) -> list[str]:
    return [t["tokenID"] for t in api.json("GET", "/api/v2/apitoken", token=token)[1]["response"]]


def new_service_account(api) -> str:
    status, body = api.json("POST", "/api/v2/account/serviceaccount", {"identifier": BOT, "active": True})
    assert status == 200, body
    return quote(BOT, safe="")


# ---- the routes ----------------------------------------------------------------------------


def test_can_serve_the_real_client_through_every_message_operation(api, make_user):
    # GIVEN a user whose tokens reached the warning level (a message of the system's)
    user = make_user(TOKEN_USER)
    for _ in range(18):
        new_token(api, user.token)
    messages = wf.MessageApi(wavefront(api, user.token))
    # WHEN the real client lists the unread messages
    page = messages.user_get_messages(offset=0, limit=10, unread_only=True).response
    assert [m.attributes["event"] for m in page.items] == ["apitokens"]
    message = page.items[0]
    assert (message.scope, message.severity, message.read, message.target) == ("USER", "WARN", False, user.uuid)
    assert message.start_epoch_millis < message.end_epoch_millis
    # AND marks it read
    assert messages.user_read_message(message.id).response.read is True
    # THEN it is no longer unread, and still listed with unreadOnly=false
    assert messages.user_get_messages(unread_only=True).response.items == []
    everything = messages.user_get_messages(unread_only=False).response
    assert [m.id for m in everything.items] == [message.id] and everything.items[0].read is True
    # AND marking it again is harmless
    assert messages.user_read_message(message.id).response.read is True


def test_can_default_to_unread_messages_and_page_them(api, make_user):
    user = make_user(TOKEN_USER)
    for _ in range(18):
        new_token(api, user.token)
    (only,) = inbox(api, user.token)
    api.json("POST", f"{BASE}/{only['id']}/read", {}, token=user.token)
    # the default is unreadOnly=true, as in Wavefront
    status, body = api.json("GET", BASE, token=user.token)
    assert status == 200 and body["response"]["items"] == [] and body["response"]["totalItems"] == 0
    status, body = api.json("GET", f"{BASE}?unreadOnly=false&offset=1&limit=1", token=user.token)
    assert status == 200 and body["response"]["items"] == [] and body["response"]["moreItems"] is False
    assert api.json("GET", f"{BASE}?limit=0", token=user.token)[0] == 400


def test_can_keep_each_accounts_messages_to_itself(api, make_user, make_tenant):
    # GIVEN a user with a message
    user = make_user(TOKEN_USER)
    for _ in range(18):
        new_token(api, user.token)
    (mine,) = inbox(api, user.token)
    # THEN neither another user of the tenant, nor the administrator, nor a user of another
    # tenant sees it or can mark it read
    other = make_user(READER)
    stranger = make_user(READER, tenant=make_tenant("other"))
    for token in (other.token, api.token, stranger.token):
        assert all(m["id"] != mine["id"] for m in inbox(api, token))
        assert api.json("POST", f"{BASE}/{mine['id']}/read", {}, token=token)[0] == 404
    assert inbox(api, user.token, unread_only=True) == [mine]


def test_can_refuse_to_let_a_client_post_a_message(api, make_user):
    user = make_user(READER)
    body = {"title": "t", "content": "c", "scope": "USER", "severity": "INFO", "display": "BANNER"}
    assert api.json("POST", BASE, body)[0] == 405
    assert api.json("PUT", f"{BASE}/x/read", {}, token=user.token)[0] == 405
    assert api.json("POST", f"{BASE}/unknown/read", {}, token=user.token)[0] == 404
    # AND reading one's messages needs message.read (Browse holds it)
    nobody = make_user([])
    assert api.json("GET", BASE, token=nobody.token)[0] == 403
    browser = make_user(["*.read", "*.*.read"])
    assert api.json("GET", BASE, token=browser.token)[0] == 200


# ---- API tokens at 18 of 20 --------------------------------------------------------------


def test_can_tell_an_account_once_per_crossing_of_18_of_its_20_tokens(api, make_user):
    # GIVEN a user with 17 tokens: nothing to say yet
    user = make_user(TOKEN_USER)
    for _ in range(17):
        new_token(api, user.token)
    assert inbox(api, user.token) == []
    # WHEN the 18th is created THEN one message; the 19th and 20th add none
    new_token(api, user.token)
    first = about(inbox(api, user.token), "apitokens")
    assert len(first) == 1 and first[0]["attributes"]["tokens"] == "18"
    assert "18 of 20" in first[0]["title"]
    new_token(api, user.token)
    new_token(api, user.token)
    assert len(about(inbox(api, user.token), "apitokens")) == 1
    # WHEN it goes down to 18 (no crossing upwards) and back up to 19: still one
    tokens = own_tokens(api, user.token)
    for token_id in tokens[:2]:
        assert api.json("DELETE", f"/api/v2/apitoken/{token_id}", token=user.token)[0] == 200
    new_token(api, user.token)
    assert len(about(inbox(api, user.token), "apitokens")) == 1
    # WHEN it falls below 18 and crosses again THEN a second message
    for token_id in own_tokens(api, user.token)[:2]:
        api.json("DELETE", f"/api/v2/apitoken/{token_id}", token=user.token)
    assert len(own_tokens(api, user.token)) == 17
    new_token(api, user.token)
    assert len(about(inbox(api, user.token), "apitokens")) == 2
    # AND nobody else was told (a user's tokens are the user's business)
    assert about(inbox(api), "apitokens") == []


def test_can_tell_the_administrators_when_a_service_accounts_tokens_reach_18(api):
    bot = new_service_account(api)
    for _ in range(18):
        status, body = api.json("POST", f"/api/v2/apitoken/serviceaccount/{bot}", {})
        assert status == 200, body
    (told,) = about(inbox(api), "apitokens")
    assert told["attributes"]["tokens"] == "18"


# ---- service accounts and their credentials ----------------------------------------------


def test_can_tell_the_administrators_once_when_a_service_account_is_deactivated(api):
    bot = new_service_account(api)
    # WHEN it is deactivated twice THEN one message (the second write changed nothing)
    for _ in range(2):
        assert api.json("POST", f"/api/v2/account/serviceaccount/{bot}/deactivate", {})[0] == 200
    (told,) = about(inbox(api), "deactivated")
    assert told["scope"] == "CUSTOMER" and BOT in told["title"] and told["target"] == api.admin
    client_reads({"status": {"result": "OK", "code": 200}, "response": told}, "ResponseContainerMessage")
    # WHEN it is activated and deactivated again, by an update this time THEN a second one
    assert api.json("POST", f"/api/v2/account/serviceaccount/{bot}/activate", {})[0] == 200
    assert about(inbox(api), "deactivated") == [told]
    status, body = api.json("PUT", f"/api/v2/account/serviceaccount/{bot}", {"identifier": BOT, "active": False})
    assert status == 200 and body["response"]["active"] is False
    assert len(about(inbox(api), "deactivated")) == 2


def test_can_tell_the_administrators_when_a_credential_of_a_service_account_is_revoked(api):
    bot = new_service_account(api)
    tokens = [api.json("POST", f"/api/v2/apitoken/serviceaccount/{bot}", {})[1]["response"] for _ in range(3)]
    public = [t["tokenID"] for t in api.json("GET", f"/api/v2/apitoken/serviceaccount/{bot}")[1]["response"]]
    assert len(tokens) == 3 and len(public) == 3
    # WHEN one token is revoked by its route, one by the admin's revoke, one by an update
    assert api.json("DELETE", f"/api/v2/apitoken/serviceaccount/{bot}/{public[0]}")[0] == 200
    assert api.json("PUT", "/api/v2/apitoken/customertokens/revoke", {"id": public[1]})[0] == 200
    assert api.json("PUT", f"/api/v2/account/serviceaccount/{bot}", {"identifier": BOT, "tokens": []})[0] == 200
    # AND an OAuth client is revoked
    status, created = api.json("POST", f"/api/v2/account/serviceaccount/{bot}/credentials", {})
    assert status == 200, created
    client_id = created["response"]["clientId"]
    assert api.json("DELETE", f"/api/v2/account/serviceaccount/{bot}/credentials/{client_id}")[0] == 200
    # THEN one message per credential
    revoked = about(inbox(api), "revoked")
    assert sorted(m["attributes"]["credential"] for m in revoked) == sorted([*public, client_id])
    assert all(m["severity"] == "INFO" for m in revoked)


def test_can_leave_a_users_own_revocations_unreported(api, make_user):
    user = make_user(TOKEN_USER)
    new_token(api, user.token)
    (token_id,) = own_tokens(api, user.token)
    assert api.json("DELETE", f"/api/v2/apitoken/{token_id}", token=user.token)[0] == 200
    assert about(inbox(api), "revoked") == []


# ---- rate-limit budgets ------------------------------------------------------------------


@pytest.fixture
def clock() -> Clock:
    """The limiter's clock, stopped at the start of the last minute (a message is shown
    from its window's start, which must not be in the future of the real clock)."""
    return Clock(float(int(time.time()) // 60 * 60 - 60))


def test_can_tell_the_administrators_once_a_window_passes_80_percent_of_a_budget(limited, budget, clock):
    # GIVEN a budget of 10 GETs a minute, flushed at every hit (so the crossing is exact)
    budget(get=10, get_paged=1000, write=1000, flush_hits=1)
    # WHEN 7 GETs arrive THEN nothing is said
    for _ in range(7):
        assert limited.call("GET", "/api/v2/alert/summary").status_code == 200
    assert about(inbox(limited), "ratelimit") == []
    # WHEN the 8th (80%) and more arrive THEN one message, however many follow in the window
    for _ in range(5):
        limited.call("GET", "/api/v2/alert/summary")
    (told,) = about(inbox(limited), "ratelimit")
    assert told["attributes"] == {
        "event": "ratelimit",
        "category": "alert",
        "budget": "get",
        "count": "8",
        "limit": "10",
    }
    # AND the next window that passes 80% is told again
    clock.now += 60
    for _ in range(8):
        limited.call("GET", "/api/v2/alert/summary")
    assert len(about(inbox(limited), "ratelimit")) == 2


@pytest.mark.parametrize("unread", ["maybe", "2"])
def test_can_refuse_a_bad_unread_only(api, unread):
    assert api.json("GET", f"{BASE}?unreadOnly={unread}")[0] == 400


def test_can_answer_a_message_the_client_reads(api, make_user):
    user = make_user(TOKEN_USER)
    for _ in range(18):
        new_token(api, user.token)
    with pytest.raises(ApiException) as missing:
        wf.MessageApi(wavefront(api, user.token)).user_read_message("nope")
    assert missing.value.status == 404
