"""Password reset and address confirmation by e-mail (Wazo's routes, docs/auth.md), on
moto's SES: the mail is sent, its token works once, a used or expired token is refused, and
a reset request answers the same whether or not the account exists."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.functional.test_wazo_client_calls import token_of
from tests.functional.test_wazo_tokens import W
from tests.functional.test_wazo_users import new_user

RESET = f"{W}/users/password/reset"


@pytest.fixture(autouse=True)
def sender(api) -> str:
    from chalicelib.settings import get_settings
    from chalicelib.store import mail

    mail.verify_sender(get_settings().email_sender)
    return get_settings().email_sender


def sent_to(address: str) -> list[Any]:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    sent = ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages
    return [m for m in sent if address in m.destinations["ToAddresses"]]


def token_in(message: Any) -> str:
    found = re.search(r"X-Auth-Token: (\S+)", message.body)
    assert found, message.body
    return found.group(1)


def ask_reset(api, **query: str) -> int:
    params = "&".join(f"{k}={v}" for k, v in query.items())
    return int(api.call("GET", f"{RESET}?{params}", token="").status_code)


def reset(api, user_uuid: str, secret: str, password: str) -> int:
    headers = {"X-Auth-Token": secret}
    return int(
        api.call(
            "POST", f"{RESET}?user_uuid={user_uuid}", {"password": password}, token="", headers=headers
        ).status_code
    )


def test_can_reset_a_password_once_with_the_mailed_token(api):
    # GIVEN a user with an address
    user = new_user(api, "forgetful", email_address="forgetful@example.com")
    # WHEN a reset is asked by address THEN a mail with a token goes to it
    assert ask_reset(api, email="Forgetful@example.com") == 204
    (message,) = sent_to("forgetful@example.com")
    secret = token_in(message)
    # AND the token refuses a password the rules refuse, without being used up
    assert reset(api, user["uuid"], secret, "x") == 400
    # AND it refuses another user
    other = new_user(api, "bystander")
    assert reset(api, other["uuid"], secret, "another-long-one-2") == 401
    # WHEN it sets a new password THEN the user logs in with it
    assert reset(api, user["uuid"], secret, "brand-new-pass-3") == 204
    assert token_of(api, "forgetful", "brand-new-pass-3")
    # AND the token works once
    assert reset(api, user["uuid"], secret, "brand-new-pass-4") == 401


def test_can_find_the_user_by_username_or_login(api):
    new_user(api, "named", email_address="named@example.com")
    assert ask_reset(api, username="named") == 204
    assert ask_reset(api, login="named@example.com") == 204
    assert len(sent_to("named@example.com")) == 2


def test_can_answer_the_same_for_unknown_users(api):
    # An unknown username or address, or a user without an address: 204 and no mail
    before = len(sent_to("nobody@example.com"))
    new_user(api, "mailless")
    assert ask_reset(api, username="nobody") == 204
    assert ask_reset(api, email="nobody@example.com") == 204
    assert ask_reset(api, login="mailless") == 204
    assert len(sent_to("nobody@example.com")) == before
    # Naming nobody at all is a bad request
    assert ask_reset(api) == 400


def test_can_refuse_an_expired_or_unknown_reset_token(api, monkeypatch):
    from chalicelib.identity import mailtokens

    user = new_user(api, "late", email_address="late@example.com")
    monkeypatch.setitem(mailtokens.TTL, mailtokens.RESET, -1)  # expired on issue; TTL deletes late
    assert ask_reset(api, username="late") == 204
    secret = token_in(sent_to("late@example.com")[-1])
    assert reset(api, user["uuid"], secret, "brand-new-pass-3") == 401
    assert reset(api, user["uuid"], "made-up", "brand-new-pass-3") == 401
    assert (
        api.call("POST", f"{RESET}?user_uuid={user['uuid']}", {"password": "brand-new-pass-3"}, token="").status_code
        == 401
    )
    assert token_of(api, "late", "long-enough-1")  # the password did not change


def test_can_find_an_address_set_later_but_not_one_removed(api, make_user):
    user = make_user([])
    emails = f"{W}/users/{user.uuid}/emails"
    body = {"emails": [{"address": "moved@example.com", "main": True}]}
    assert api.json("PUT", emails, body, token=user.token)[0] == 200
    assert ask_reset(api, email="moved@example.com") == 204
    assert len(sent_to("moved@example.com")) == 1
    # The address removed: its index row is stale and finds nobody
    assert api.json("PUT", emails, {"emails": []}, token=user.token)[0] == 200
    assert ask_reset(api, email="moved@example.com") == 204
    assert len(sent_to("moved@example.com")) == 1


def test_can_confirm_an_address_once_with_the_mailed_token(api, make_user):
    # GIVEN a user's new, unconfirmed address
    user = make_user([])
    body = {"emails": [{"address": "confirm-me@example.com", "main": True}]}
    (email,) = api.json("PUT", f"{W}/users/{user.uuid}/emails", body, token=user.token)[1]
    assert email["confirmed"] is False
    # WHEN the user asks for a confirmation mail THEN one goes to that address
    path = f"{W}/users/{user.uuid}/emails/{email['uuid']}/confirm"
    assert api.call("GET", path, token=user.token).status_code == 204
    secret = token_in(sent_to("confirm-me@example.com")[-1])
    # WHEN the token confirms it THEN the address is confirmed, once
    confirm = f"{W}/emails/{email['uuid']}/confirm"
    assert (
        api.call("PUT", f"{W}/emails/{user.uuid}/confirm", token="", headers={"X-Auth-Token": secret}).status_code
        == 401
    )
    assert api.call("PUT", confirm, token="", headers={"X-Auth-Token": secret}).status_code == 204
    assert api.json("GET", f"{W}/users/{user.uuid}")[1]["emails"][0]["confirmed"] is True
    assert api.call("PUT", confirm, token="", headers={"X-Auth-Token": secret}).status_code == 401
    assert api.call("PUT", confirm, token="").status_code == 401


def test_can_refuse_confirmation_mail_for_an_unknown_address_or_another_user(api, make_user):
    user = make_user([])
    other = make_user([])
    unknown = "00000000-0000-4000-8000-000000000000"
    assert api.call("GET", f"{W}/users/{user.uuid}/emails/{unknown}/confirm", token=user.token).status_code == 404
    assert api.call("GET", f"{W}/users/{other.uuid}/emails/{unknown}/confirm", token=user.token).status_code == 403
