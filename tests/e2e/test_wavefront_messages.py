"""Messages through the unmodified Wavefront client (MessageApi) against the live server:
both operations of message_api.py over messages the system wrote (API tokens at 18 of 20,
a service account deactivated), each account's own."""

from __future__ import annotations

import pytest
import wavefront_api_client as wf

from tests.e2e.clients import new_person, refused_status, unique, wavefront

pytestmark = pytest.mark.e2e


def test_can_drive_every_message_operation(server, fresh):
    client = wavefront(server.url, fresh.token)
    messages = wf.MessageApi(client)
    assert messages.user_get_messages().response.items == []
    # GIVEN the system told the administrator that a service account was deactivated
    accounts = wf.AccountUserAndServiceAccountApi(client)
    identifier = f"sa::{unique('bot')}"
    accounts.create_service_account(body=wf.ServiceAccountWrite(identifier=identifier, active=True))
    accounts.deactivate_account(identifier)
    # WHEN the client lists the unread messages
    (told,) = messages.user_get_messages(offset=0, limit=10, unread_only=True).response.items
    assert told.scope == "CUSTOMER" and identifier in told.title and told.read is False
    assert told.attributes["event"] == "deactivated"
    # AND marks it read
    assert messages.user_read_message(told.id).response.read is True
    # THEN it is read, and listed only when read ones are asked for
    assert messages.user_get_messages(unread_only=True).response.items == []
    (again,) = messages.user_get_messages(unread_only=False).response.items
    assert again.id == told.id and again.read is True
    assert refused_status(lambda: messages.user_read_message("unknown")) == 404


def test_can_tell_an_account_its_tokens_reached_18_of_20(server, admin_token, fresh):
    user = new_person(server.url, admin_token, ["apitoken.#", "message.read", "message.*.read"], tenant=fresh.tenant)
    client = wavefront(server.url, user.token)
    tokens = wf.ApiTokenApi(client)
    for _ in range(18):
        tokens.create_token()
    (told,) = wf.MessageApi(client).user_get_messages().response.items
    assert told.scope == "USER" and told.target == user.uuid and told.attributes["tokens"] == "18"
    tokens.create_token()
    assert len(wf.MessageApi(client).user_get_messages(unread_only=False).response.items) == 1
    # AND the administrator of the tenant was not told (and cannot read it)
    admin = wf.MessageApi(wavefront(server.url, fresh.token))
    assert admin.user_get_messages(unread_only=False).response.items == []
    assert refused_status(lambda: admin.user_read_message(told.id)) == 404
