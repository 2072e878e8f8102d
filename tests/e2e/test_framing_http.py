"""HTTP framing against the live local server, on raw kept-alive connections: HEAD answers
carry no body (success and error) and leave the connection usable, unknown methods answer 405
in the dialect, and nothing the server prints holds a credential it was sent."""

from __future__ import annotations

import base64
import http.client
import json
import socket
from urllib.parse import urlsplit

import pytest
import requests
import wavefront_api_client as wf

from tests.e2e.clients import TIMEOUT, wavefront

pytestmark = pytest.mark.e2e

UNKNOWN_JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJub2JvZHkifQ.bm90LWEtcmVhbC1zaWduYXR1cmU"


def _connect(server) -> socket.socket:
    parts = urlsplit(server.url)
    return socket.create_connection((parts.hostname, parts.port), timeout=TIMEOUT)


def _read_answer(stream, head: bool) -> tuple[int, dict[str, str], bytes]:
    """One HTTP/1.1 answer read by hand: status, headers (lower-case), the body Content-Length announces
    (none for a HEAD)."""
    status_line = stream.readline().decode("latin-1")
    assert status_line.startswith("HTTP/1.1 "), f"not a status line: {status_line!r}"
    status = int(status_line.split()[1])
    headers: dict[str, str] = {}
    while True:
        line = stream.readline().decode("latin-1")
        if line in ("\r\n", "\n", ""):
            break
        name, _, value = line.partition(":")
        assert name.lower() not in headers, f"header {name} twice"
        headers[name.lower()] = value.strip()
    if head or status in (204, 304):
        return status, headers, b""
    return status, headers, stream.read(int(headers.get("content-length", "0")))


def _exchange(server, requests_: list[tuple[str, str, dict[str, str]]]) -> list[tuple[int, dict[str, str], bytes]]:
    """Send requests one after the other on one kept-alive connection; their answers."""
    with _connect(server) as sock, sock.makefile("rb") as stream:
        answers = []
        for method, path, headers in requests_:
            lines = [f"{method} {path} HTTP/1.1", f"Host: {urlsplit(server.url).netloc}"]
            lines += [f"{k}: {v}" for k, v in headers.items()]
            sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
            answers.append(_read_answer(stream, head=method == "HEAD"))
        # Nothing more may follow: a stray body would be read as the start of another answer.
        sock.settimeout(0.5)
        try:
            extra = sock.recv(1)
        except TimeoutError:
            extra = b""
        assert extra == b"", "bytes after the last answer"
        return answers


def test_can_answer_head_errors_without_a_body_and_keep_the_connection(server, admin_token):
    # GIVEN a HEAD for an unknown token, an unknown path, a known route, then a GET, on one connection
    token_path = f"/api/auth/0.1/token/{UNKNOWN_JWT}"
    answers = _exchange(
        server,
        [
            ("HEAD", token_path, {}),
            ("GET", token_path, {}),
            ("HEAD", "/api/v2/no/such/thing", {"X-AUTH-TOKEN": admin_token}),
            ("HEAD", "/api/v2/alert", {"X-AUTH-TOKEN": admin_token}),
            ("GET", "/api/v2/alert", {"X-AUTH-TOKEN": admin_token}),
        ],
    )
    (head_status, head_headers, _), (get_status, get_headers, get_body) = answers[:2]

    # THEN the HEAD answers the GET's status, announces the GET's length, sends nothing more
    assert head_status == get_status and head_status >= 400
    # (an error body holds a request id and a timestamp: its length may vary by a digit or two)
    assert abs(int(head_headers.get("content-length", len(get_body))) - len(get_body)) <= 4
    assert json.loads(get_body)["status_code"] == get_status
    # ... and the following answers on the same connection are whole and valid
    assert answers[2][0] == 404
    assert answers[3][0] == answers[4][0] == 200
    assert answers[3][1]["content-length"] == answers[4][1]["content-length"] == str(len(answers[4][2]))
    assert json.loads(answers[4][2])["status"]["result"] == "OK"


def test_can_keep_the_connection_through_head_with_http_client(server, admin_token):
    parts = urlsplit(server.url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=TIMEOUT)
    try:
        conn.request("HEAD", f"/api/auth/0.1/token/{UNKNOWN_JWT}")
        head = conn.getresponse()
        assert head.read() == b"" and head.status >= 400
        conn.request("GET", "/api/health")
        get = conn.getresponse()
        assert get.status == 200 and json.loads(get.read())
    finally:
        conn.close()


@pytest.mark.parametrize("method", ["TRACE", "PROPFIND", "FOO"])
def test_can_answer_unknown_methods_with_405_in_the_dialect(server, admin_token, method):
    (native, wazo, after) = _exchange(
        server,
        [
            (method, "/api/v2/alert", {"X-AUTH-TOKEN": admin_token}),
            (method, "/api/auth/0.1/token", {}),
            ("GET", "/api/health", {}),
        ],
    )
    status, headers, body = native
    assert status == 405 and headers["content-type"].startswith("application/json")
    assert json.loads(body)["status"]["code"] == 405
    assert set(headers["allow"].split(", ")) == {"GET", "HEAD", "POST"}
    status, headers, body = wazo
    assert status == 405 and json.loads(body)["status_code"] == 405
    assert "POST" in headers["allow"]
    assert after[0] == 200


def test_can_keep_every_credential_out_of_the_server_output(server, admin_token):
    # GIVEN a Basic login, a session token, an API token and an OAuth-style secret sent every way
    basic = base64.b64encode(f"admin:{server.admin_password}".encode()).decode()
    session = requests.post(
        server.url + "/api/auth/0.1/token", headers={"Authorization": f"Basic {basic}"}, json={}, timeout=TIMEOUT
    ).json()["data"]["token"]
    api = wf.ApiTokenApi(wavefront(server.url, session))
    before = {t.token_id for t in api.get_all_tokens().response}
    fresh = [t.token_id for t in api.create_token().response if t.token_id not in before]
    assert len(fresh) == 1
    api_token = fresh[0]
    secrets_sent = [session, api_token, basic, server.admin_password, admin_token]

    calls = [
        ("GET", f"/api/auth/0.1/token/{session}", {}),
        ("HEAD", f"/api/auth/0.1/token/{session}", {}),
        ("GET", f"/api/auth/0.1/token/{api_token}", {}),
        ("GET", f"/api/v2/alert?token={api_token}", {}),
        ("GET", f"/api/v2/alert?access_token={session}", {}),
        ("GET", "/api/v2/alert", {"Authorization": f"Bearer {api_token}"}),
        ("GET", "/api/v2/alert", {"X-AUTH-TOKEN": api_token}),
        ("GET", "/api/v2/alert", {"X-Auth-Token": session, "Cookie": f"session={session}"}),
        ("TRACE", f"/api/auth/0.1/token/{session}", {}),
    ]
    # WHEN they travel in paths, queries and headers
    for method, path, headers in calls:
        requests.request(method, server.url + path, headers=headers, timeout=TIMEOUT)
    requests.post(
        server.url + "/auth/oauth/token",
        data={"grant_type": "client_credentials", "client_id": "nobody", "client_secret": api_token},
        timeout=TIMEOUT,
    )
    requests.get(server.url + "/api/health", timeout=TIMEOUT)  # the access log's line of the last call is out

    # THEN the server printed the requests, and none of the secrets
    output = server.output()
    assert "/api/auth/0.1/token/<redacted>" in output
    for secret in secrets_sent:
        assert secret not in output
