"""Malformed or unbounded input answers 4xx in the caller's dialect and writes nothing:
strings UTF-8 cannot hold or holding NUL, NaN / Infinity, numbers past the bounds, JSON
nested or wide past the bounds, oversized headers and Basic usernames, too many tags; and
answers keep their own schema (Dashboard.url, User.enabled)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from chalicelib.settings import get_settings

# One create route per dialect; BAD stands for the value under test, in an extra field "x".
CREATES = {
    "wavefront": ("/api/v2/alert", '{"name":"n","condition":"ts(x)","minutes":1,"severity":"WARN","x":BAD}'),
    "grafana": ("/api/dashboards/db", '{"dashboard":{"title":"t","panels":[],"x":BAD}}'),
    "wazo": ("/api/auth/0.1/users", '{"username":"bob","password":"secret-password-1","x":BAD}'),
}

BAD_VALUES = {
    "lone surrogate": ('"a\\ud800b"', "x: a lone surrogate"),
    "low surrogate in a key": ('{"\\udc00":1}', "x: a lone surrogate"),
    "NUL": ('"a\\u0000b"', "x: NUL characters are not allowed"),
    "NaN": ("NaN", "NaN is not a JSON number"),
    "Infinity": ("Infinity", "Infinity is not a JSON number"),
    "-Infinity": ("-Infinity", "-Infinity is not a JSON number"),
    "float overflow": ("1e400", "out of range"),
    "39-digit integer": ("1" + "0" * 38, "more than 38 digits (OPSPLANE_MAX_NUMBER_DIGITS)"),
    "5000-digit integer": ("-" + "9" * 5000, "more than 38 digits"),
    "65 levels": ("[" * 64 + "]" * 64, "nested deeper than 64 levels (OPSPLANE_MAX_JSON_DEPTH)"),
    "10000 levels": ("[" * 10000 + "]" * 10000, "nested deeper than 64 levels"),
    "1001 entries": ("[" + ",".join(["0"] * 1001) + "]", "x: more than 1000 entries (OPSPLANE_MAX_JSON_ITEMS)"),
}


def message(dialect: str, body: Any) -> str:
    """The error message of an answer in the dialect's shape."""
    if dialect == "wavefront":
        assert body["status"]["result"] == "ERROR"
        return str(body["status"]["message"])
    if dialect == "wazo":
        assert body["reason"] == [body["message"]]
    return str(body["message"])


def stored() -> int:
    """Every row of the entities and tokens tables (writes of any kind show here)."""
    from chalicelib.store.models import EntityItem, TokenItem

    return sum(1 for _ in EntityItem.scan()) + sum(1 for _ in TokenItem.scan())


@pytest.mark.parametrize("dialect", sorted(CREATES))
@pytest.mark.parametrize("case", sorted(BAD_VALUES))
def test_can_refuse_a_bad_json_value_and_write_nothing(api, dialect, case):
    # GIVEN a create body holding the bad value
    path, template = CREATES[dialect]
    bad, expected = BAD_VALUES[case]
    before = stored()
    # WHEN it is posted
    status, body = api.json("POST", path, raw=template.replace("BAD", bad))
    # THEN 400 in the dialect, naming the field or the bound, and nothing was written
    assert status == 400, body
    assert expected in message(dialect, body)
    assert stored() == before


@pytest.mark.parametrize("where", ["value", "key"])
def test_can_refuse_a_string_past_the_bound_in_a_document_and_write_nothing(api, where):
    # GIVEN a Grafana dashboard (a document route: bodies up to 5 MiB) holding one string
    # of OPSPLANE_MAX_STRING_CHARS + 1 characters
    limit = get_settings().max_string_chars
    text = "a" * (limit + 1)
    field = f'"x":"{text}"' if where == "value" else f'"{text}":1'
    before = stored()
    # WHEN it is saved THEN 400 naming the field and the bound, and nothing was written
    status, body = api.json("POST", "/api/dashboards/db", raw=f'{{"dashboard":{{"title":"t","panels":[],{field}}}}}')
    assert status == 400, body
    assert f"a string of {limit + 1} characters, at most {limit} (OPSPLANE_MAX_STRING_CHARS)" in body["message"]
    assert stored() == before


def test_can_accept_json_at_the_bounds_and_read_it_back(api):
    # GIVEN a Grafana dashboard exactly at the depth, entry and digit bounds
    settings = get_settings()
    deep = "[" * (settings.max_json_depth - 2) + "]" * (settings.max_json_depth - 2)
    wide = "[" + ",".join(["0"] * settings.max_json_items) + "]"
    raw = f'{{"dashboard":{{"title":"edge","panels":[],"deep":{deep},"wide":{wide},"n":-{"9" * 38}}}}}'
    status, saved = api.json("POST", "/api/dashboards/db", raw=raw)
    assert status == 200, saved
    # WHEN it is read in both dialects and the tenant's dashboards are searched
    status, got = api.json("GET", f"/api/dashboards/uid/{saved['uid']}")
    searched, found = api.json("POST", "/api/v2/search/dashboard", {})
    # THEN it reads back as it was saved, and the search answers
    assert status == 200 and got["dashboard"]["n"] == -int("9" * 38) and len(got["dashboard"]["wide"]) == 1000
    assert json.dumps(got["dashboard"]["deep"]) == deep.replace("][", "], [")
    assert searched == 200 and found["response"]["totalItems"] == 1


# ---- headers and credentials ---------------------------------------------------------------

READS = {"wavefront": "/api/v2/alert", "grafana": "/api/search", "wazo": "/api/auth/0.1/users"}


def basic(username: str, password: str = "pw") -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


@pytest.mark.parametrize("dialect", sorted(READS))
@pytest.mark.parametrize(
    "headers, status, expected",
    [
        ({"Authorization": basic("u" * 3000)}, 401, "Basic username exceeds 256 bytes"),
        ({"Authorization": basic("é" * 129)}, 401, "Basic username exceeds 256 bytes"),
        ({"Authorization": "Bearer " + "x" * 9000}, 400, "Header authorization exceeds 8192 bytes"),
        ({"Authorization": basic("admin", "p" * 9000)}, 400, "Header authorization exceeds 8192 bytes"),
        ({"X-Anything": "v" * 9000}, 400, "Header x-anything exceeds 8192 bytes (OPSPLANE_MAX_HEADER_BYTES)"),
    ],
    ids=["basic-3000", "basic-258-bytes", "bearer-9000", "password-9000", "other-header"],
)
def test_can_refuse_oversized_credentials_before_any_lookup(api, dialect, headers, status, expected):
    before = stored()
    answered, body = api.json("GET", READS[dialect], token="", headers=headers)
    assert answered == status, body
    assert expected in message(dialect, body)
    assert stored() == before  # not even a login failure is counted


def test_can_still_answer_a_basic_username_at_the_bound(api):
    # A 256-byte username is looked up (and unknown): 401 as any wrong credential
    status, body = api.json("GET", "/api/v2/alert", token="", headers={"Authorization": basic("u" * 256)})
    assert status == 401 and "exceeds" not in body["status"]["message"]


def test_can_refuse_a_nul_in_a_form_body(api):
    raw = "grant_type=client_credentials&client_id=a%00b&client_secret=x"
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    status, body = api.json("POST", "/auth/oauth/token", token="", headers=headers, raw=raw)
    assert status == 400 and "client_id: NUL" in body["error_description"]


# ---- tags ----------------------------------------------------------------------------------


def alert(tags: list[str]) -> dict[str, Any]:
    return {"name": "a", "condition": "ts(x)", "minutes": 1, "severity": "WARN", "tags": {"customerTags": tags}}


def test_can_bound_the_tags_of_an_object_in_every_write(api):
    limit = get_settings().max_tags
    tags = [f"t{i}" for i in range(limit + 1)]
    # GIVEN an alert holding exactly the limit
    status, body = api.json("POST", "/api/v2/alert", alert(tags[:limit]))
    assert status == 200, body
    alert_id = body["response"]["id"]
    before = stored()
    # WHEN a create, a replacement of the tags and one more tag go past it
    created, c = api.json("POST", "/api/v2/alert", alert(tags))
    replaced, r = api.json("POST", f"/api/v2/alert/{alert_id}/tag", tags)
    added, a = api.json("PUT", f"/api/v2/alert/{alert_id}/tag/extra")
    grafana, g = api.json("POST", "/api/dashboards/db", {"dashboard": {"title": "t", "tags": tags}})
    # THEN each is a 400 naming the bound, and nothing was written
    for status, body in ((created, c), (replaced, r), (added, a)):
        assert status == 400 and f"At most {limit} tags per object (OPSPLANE_MAX_TAGS)" in message("wavefront", body)
    assert grafana == 400 and "OPSPLANE_MAX_TAGS" in g["message"]
    assert stored() == before
    # AND the alert can still shed a tag
    assert api.json("DELETE", f"/api/v2/alert/{alert_id}/tag/t0")[0] == 200


# ---- answers keep their schema -------------------------------------------------------------


def test_can_answer_a_dashboard_url_when_the_client_sent_null(api):
    body = {"id": "nullurl", "url": None, "name": "n", "sections": []}
    status, created = api.json("POST", "/api/v2/dashboard", body)
    assert status == 200 and created["response"]["url"] == "nullurl"
    _, got = api.json("GET", "/api/v2/dashboard/nullurl")
    assert got["response"]["url"] == "nullurl"


def test_can_keep_a_wazo_user_enabled_when_a_put_sends_null(api):
    status, user = api.json("POST", "/api/auth/0.1/users", {"username": "bob", "password": "secret-password-1"})
    assert status == 200, user
    path = f"/api/auth/0.1/users/{user['uuid']}"
    status, changed = api.json("PUT", path, {"username": "bob", "enabled": None, "purpose": None})
    assert status == 200 and changed["enabled"] is True and changed["purpose"] == "user"
    assert api.json("GET", path)[1]["enabled"] is True
