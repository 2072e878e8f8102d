"""JWT sessions: signed with a kid, verified, expiry and tampering detected, rotation."""

from __future__ import annotations

import json
import os
import tempfile

import jwt
import pytest

from chalicelib.auth import keys, sessions
from chalicelib.errors import TokenExpired, Unauthenticated
from chalicelib.settings import reset_settings


@pytest.fixture(autouse=True)
def fresh_keys(monkeypatch):
    monkeypatch.setenv("OPSPLANE_SIGNING_KEYS_FILE", os.path.join(tempfile.mkdtemp(), "keys.json"))
    reset_settings()
    keys.forget_cached_keys()
    yield
    reset_settings()
    keys.forget_cached_keys()


def _issue(ttl=60):
    return sessions.issue(sub="u1", tenant="t1", name="bob", kind="user", method="jwt", ttl=ttl)


def test_can_issue_and_verify_a_token_with_kid():
    token, claims = _issue()
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "ES256"
    assert header["kid"] == keys.keyring().active.kid
    verified = sessions.verify(token)
    assert verified.sub == "u1" and verified.tenant == "t1" and verified.jti == claims.jti


def test_can_tell_an_expired_token():
    token, _ = _issue(ttl=-30)
    with pytest.raises(TokenExpired):
        sessions.verify(token)


def test_can_refuse_tampered_and_foreign_tokens():
    token, _ = _issue()
    head, body, sig = token.split(".")
    payload = json.loads(jwt.utils.base64url_decode(body))
    payload["tid"] = "t2"
    forged_body = jwt.utils.base64url_encode(json.dumps(payload).encode()).decode()
    for bad in (f"{head}.{forged_body}.{sig}", token[:-3] + "abc", "eyJ.x.y"):
        with pytest.raises(Unauthenticated):
            sessions.verify(bad)
    foreign = jwt.encode({"sub": "u1", "exp": 9999999999, "iat": 1, "jti": "j"}, "k" * 32, algorithm="HS256")
    with pytest.raises(Unauthenticated):
        sessions.verify(foreign)


def test_can_keep_old_tokens_valid_after_rotation():
    old, _ = _issue()
    old_kid = keys.keyring().active.kid
    new_key = keys.rotate()
    assert new_key.kid != old_kid
    new, _ = _issue()
    assert jwt.get_unverified_header(new)["kid"] == new_key.kid
    assert sessions.verify(old).sub == "u1"
    assert sessions.verify(new).sub == "u1"
    kids = {k["kid"] for k in keys.keyring().jwks()["keys"]}
    assert kids == {old_kid, new_key.kid}
    assert all("d" not in k for k in keys.keyring().jwks()["keys"])  # never the private part
