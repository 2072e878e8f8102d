"""Seeding and rotating the signing-key secret of a deployed stage (on moto)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from chalicelib.auth.keys import KeyRing
from infra.opsplane_infra import keyring

pytestmark = pytest.mark.infra

SECRET = "opsplane/prod/signing-keys"


@pytest.fixture
def secrets(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        client = boto3.client("secretsmanager", region_name="us-east-1")
        # as the stack creates it: a random placeholder, not a key ring
        client.create_secret(Name=SECRET, SecretString="x7#placeholder-from-cloudformation")
        yield client


def _ring(client: Any) -> KeyRing:
    return KeyRing.from_json(client.get_secret_value(SecretId=SECRET)["SecretString"])


def test_can_seed_a_key_ring_once(secrets: Any) -> None:
    # GIVEN the placeholder secret WHEN it is seeded twice
    assert keyring.seed(secrets, SECRET) is True
    first = _ring(secrets)
    assert keyring.seed(secrets, SECRET) is False
    # THEN it holds one ES256 key and a cursor secret, unchanged by the second seed
    assert len(first.keys) == 1 and len(first.cursor_secret) == 32
    assert _ring(secrets).to_json() == first.to_json()


def test_can_rotate_keeping_earlier_keys_and_the_cursor_secret(secrets: Any) -> None:
    # GIVEN a seeded secret WHEN it is rotated
    keyring.seed(secrets, SECRET)
    before = _ring(secrets)
    kid = keyring.rotate(secrets, SECRET)
    after = _ring(secrets)
    # THEN the new key is active and the earlier key still verifies old tokens
    assert after.active.kid == kid != before.active.kid
    assert after.by_kid(before.active.kid) is not None
    assert after.cursor_secret == before.cursor_secret


def test_can_refuse_to_rotate_an_unseeded_secret(secrets: Any) -> None:
    with pytest.raises(SystemExit):
        keyring.rotate(secrets, SECRET)
    assert keyring.seed(secrets, SECRET) is True
