"""`make run` as a user meets it: scripts/run_local.py with its embedded DynamoDB and chalice's local server.

GIVEN a real launcher process (tests/e2e/conftest.py), WHEN it is started, stopped, restarted or
pointed at another DynamoDB, THEN it serves, prints what a user needs, keeps its state and leaves
nothing running.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
import wavefront_api_client
from moto.server import ThreadedMotoServer

from tests.e2e.clients import login, new_person, new_tenant, ok, unique, wavefront, wazo
from tests.e2e.conftest import ROOT, RUN_LOCAL, LocalServer, _server_env, free_port, port_is_free

pytestmark = pytest.mark.e2e

SNAPSHOT = "dynamodb-snapshot.json"


def _children_of(pid: int) -> list[int]:
    """Live processes whose parent is pid (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name may hold spaces and parentheses: fields resume after the last ')'.
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_can_answer_health_without_credentials(server: LocalServer) -> None:
    # GIVEN the shared server WHEN health is asked without any credentials
    resp = requests.get(server.url + "/api/health", timeout=10)

    # THEN it answers 200 and says it is fine
    assert resp.status_code == 200
    assert resp.json()["status"] == "ok"


def test_can_answer_the_root_with_the_way_to_the_docs(server: LocalServer) -> None:
    # GIVEN the shared server WHEN a new user opens its address, as the banner prints it
    resp = requests.get(server.url + "/", timeout=10)

    # THEN it is not a 404 but an index whose Swagger UI and health links answer
    assert resp.status_code == 200, resp.text
    index = resp.json()
    assert index["name"] == "opsplane API"
    assert requests.get(server.url + index["docs"], timeout=10).status_code == 200
    assert requests.get(server.url + index["health"], timeout=10).json()["status"] == "ok"


def test_can_print_the_url_the_swagger_ui_and_how_to_get_a_token(server: LocalServer) -> None:
    # GIVEN the shared server WHEN its output is read
    out = server.output()

    # THEN it names the API, the Swagger UI and the token request a user can paste
    assert f"API:         {server.url}" in out
    assert f"{server.url}/api-docs/ui" in out
    assert f"-X POST {server.url}/api/auth/0.1/token" in out
    assert "curl -s -u 'admin:$OPSPLANE_ADMIN_PASSWORD'" in out


def test_can_print_a_generated_admin_password_once(spawn_server) -> None:
    # GIVEN a server started without OPSPLANE_ADMIN_PASSWORD on a fresh state dir
    srv: LocalServer = spawn_server(env={"OPSPLANE_ADMIN_PASSWORD": ""})
    first = srv.output()
    line = next(x for x in first.splitlines() if "Admin:" in x)
    password = line.split("password ", 1)[1].split()[0]

    # WHEN it is restarted on the same state dir
    srv.restart()
    second = srv.output()[len(first) :]

    # THEN the printed password logs in, and the second start does not print it again
    assert login(srv.url, "admin", password)["token"]
    assert password not in second
    assert "password as printed on first start" in second


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_can_stop_everything_it_started(spawn_server, sig: int) -> None:
    # GIVEN a running server and its chalice child
    srv: LocalServer = spawn_server()
    assert srv.process is not None
    children = _children_of(srv.process.pid)
    assert children, "run_local.py should have started chalice local"

    # WHEN the launcher gets the signal
    code = srv.stop(sig)

    # THEN it exits cleanly, its child is gone and both ports are free again
    assert code == 0, srv.output()
    assert not [pid for pid in children if _alive(pid)]
    assert port_is_free(srv.port)
    assert port_is_free(srv.moto_port)
    assert "[run_local] stopped" in srv.output()


def test_can_stop_everything_when_the_process_that_started_it_dies(tmp_path) -> None:
    # GIVEN a launcher started (as the e2e fixtures do, OPSPLANE_STOP_WITH_PARENT=1) by a parent process
    port, moto_port = free_port(), free_port()
    env = _server_env(str(tmp_path / "state"), port, moto_port, "pw-parent-test", {})
    log = tmp_path / "server.log"
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, str(RUN_LOCAL), str(log)],
        cwd=str(ROOT),
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        launcher = int(parent.stdout.readline())
        _wait_for(lambda: "Stop with Ctrl-C." in log.read_text(), f"the launcher to serve:\n{log.read_text()}")
        chalice = _children_of(launcher)

        # WHEN the parent is killed without a chance to clean up
        parent.kill()
        parent.wait()

        # THEN the launcher notices, stops its child and frees both ports
        _wait_for(lambda: not _alive(launcher), f"the launcher to stop:\n{log.read_text()}")
        _wait_for(lambda: not [pid for pid in chalice if _alive(pid)], "chalice local to stop")
        assert port_is_free(port)
        assert port_is_free(moto_port)
        assert "the process that started me is gone" in log.read_text()
    finally:
        if parent.poll() is None:
            parent.kill()


PARENT = """
import subprocess, sys, time
with open(sys.argv[2], "ab") as log:
    child = subprocess.Popen([sys.executable, sys.argv[1]], stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
print(child.pid, flush=True)
time.sleep(300)
"""


def _wait_for(condition, what: str, attempts: int = 300) -> None:
    """Poll condition every 0.2 s (bounded); fail naming what never happened."""
    for _ in range(attempts):
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"gave up waiting for {what}")


def _bind_store_to(endpoint: str) -> None:
    """Point this process's repository at a local server's embedded moto (stage dev)."""
    from chalicelib.settings import Settings
    from chalicelib.store import models

    models.bind(
        Settings(
            stage="dev",
            entities_table="opsplane-dev-entities",
            tokens_table="opsplane-dev-tokens",
            usage_table="opsplane-dev-usage",
            blobs_bucket="opsplane-dev-blobs",
            dynamodb_endpoint=endpoint,
            s3_endpoint=endpoint,
        )
    )


def test_can_keep_tenants_users_alerts_sessions_and_large_documents_across_a_restart(spawn_server) -> None:
    # GIVEN a server holding a tenant, a user, an alert, a session token, and a document
    # too large for its item (written through the repository: S3)
    from chalicelib.settings import get_settings
    from chalicelib.store import models
    from chalicelib.store.repository import Repository

    srv: LocalServer = spawn_server()
    admin = srv.token()
    moto = f"http://127.0.0.1:{srv.moto_port}"
    big = {"name": "big", "chunks": [secrets.token_urlsafe(3000) for _ in range(1000)]}
    documents = Repository("e2e-blobs", "dashboard", cursor_secret=b"e" * 32, history=True)
    try:
        _bind_store_to(moto)
        documents.create("big", big)
    finally:
        models.bind(get_settings())
    tenant = new_tenant(srv.url, admin)
    person = new_person(srv.url, admin, ["alert.#"])
    created = wavefront_api_client.AlertApi(wavefront(srv.url, admin)).create_alert(
        body=wavefront_api_client.Alert(name=unique("alert"), condition="ts(cpu.load) > 4", minutes=5, severity="WARN")
    )
    alert_id = created.response.id

    # WHEN the server is stopped (Ctrl-C) and started again on the same state dir
    srv.restart()
    assert "1 blobs restored" in srv.output()

    # THEN the session issued before still authenticates, and everything is still there
    assert ok(wazo(srv.url, "GET", f"/token/{admin}", token=admin))["data"]["token"] == admin
    assert ok(wazo(srv.url, "GET", f"/tenants/{tenant['uuid']}", token=admin))["uuid"] == tenant["uuid"]
    assert login(srv.url, person.username, person.password)["token"]
    assert ok(wazo(srv.url, "GET", f"/users/{person.uuid}", token=admin))["username"] == person.username
    fetched = wavefront_api_client.AlertApi(wavefront(srv.url, person.token)).get_alert(alert_id)
    assert fetched.response.name == created.response.name
    assert (Path(srv.state_dir) / SNAPSHOT).exists()
    assert (Path(srv.state_dir) / "signing-keys.json").exists()
    try:
        _bind_store_to(moto)
        assert documents.get("big").doc == big
        assert documents.version("big", 1).doc == big
    finally:
        models.bind(get_settings())
    assert len(list((Path(srv.state_dir) / "blobs").iterdir())) == 1


def test_can_pass_a_multi_megabyte_body_to_the_edge(server: LocalServer, admin_token: str) -> None:
    # GIVEN chalice local in front of the app WHEN a 4 MB body is posted
    body = b'{"name":"' + b"x" * (4 * 1024 * 1024) + b'"}'
    resp = requests.post(
        server.url + "/api/v2/alert",
        data=body,
        headers={"Authorization": f"Bearer {admin_token}", "Content-Type": "application/json"},
        timeout=60,
    )

    # THEN it reaches the edge whole, which measures it against the limit (413 naming the bytes)
    assert resp.status_code == 413, resp.text
    assert str(1024 * 1024) in resp.json()["status"]["message"]


@pytest.mark.parametrize("s3_too", [False, True], ids=["dynamodb", "dynamodb-and-s3"])
def test_can_use_an_already_running_dynamodb(spawn_server, tmp_path, s3_too: bool) -> None:
    # GIVEN a DynamoDB and S3 (moto) that is already running on loopback
    external = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
    external.start()
    try:
        host, port = external.get_host_and_port()
        endpoint = f"http://{host}:{port}"

        # WHEN the server is started with OPSPLANE_DYNAMODB_ENDPOINT (and OPSPLANE_S3_ENDPOINT and
        # OPSPLANE_SQS_ENDPOINT) pointing at it
        env = {"OPSPLANE_DYNAMODB_ENDPOINT": endpoint}
        if s3_too:
            env["OPSPLANE_S3_ENDPOINT"] = endpoint
            env["OPSPLANE_SQS_ENDPOINT"] = endpoint
        srv: LocalServer = spawn_server(state_dir=str(tmp_path), env=env)
        token = srv.token()

        # THEN it serves from that DynamoDB (its tables and admin are there) and snapshots no table
        import boto3

        client = boto3.client(
            "dynamodb",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )
        assert "opsplane-dev-entities" in client.list_tables()["TableNames"]
        assert token
        assert f"DynamoDB:    {endpoint} (OPSPLANE_DYNAMODB_ENDPOINT)" in srv.output()
        if s3_too:
            # AND with both given, the bucket is there too and nothing is embedded
            s3 = boto3.client(
                "s3",
                endpoint_url=endpoint,
                region_name="us-east-1",
                aws_access_key_id="local",
                aws_secret_access_key="local",
            )
            assert "opsplane-dev-blobs" in {b["Name"] for b in s3.list_buckets()["Buckets"]}
            assert f"S3:          {endpoint} (OPSPLANE_S3_ENDPOINT)" in srv.output()
            assert port_is_free(srv.moto_port)
        else:
            # AND without an S3, moto is embedded for the blobs alone
            assert f"S3:          http://127.0.0.1:{srv.moto_port} (embedded moto" in srv.output()
        srv.stop()
        assert port_is_free(srv.moto_port)
        assert not (tmp_path / SNAPSHOT).exists()
    finally:
        # moto's state lives in this process, shared by every server it starts: leave none
        host, port = external.get_host_and_port()
        requests.post(f"http://{host}:{port}/moto-api/reset", timeout=10)
        external.stop()


def test_can_refuse_a_second_launcher_on_the_same_state_dir(server: LocalServer) -> None:
    # GIVEN the shared server holding its state dir
    env = dict(server.env, PORT=str(free_port()), OPSPLANE_MOTO_PORT=str(free_port()))

    # WHEN a second launcher is started on the same state dir
    second = subprocess.run(
        [sys.executable, str(RUN_LOCAL)],
        cwd=str(ROOT),
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )

    # THEN it refuses at once, naming the state dir, and the first one keeps serving
    assert second.returncode != 0
    assert f"another run_local.py is using {server.state_dir}" in second.stderr
    assert requests.get(server.url + "/api/health", timeout=10).status_code == 200


def test_can_find_the_browser_the_browser_tests_need() -> None:
    # GIVEN `make test` (OPSPLANE_REQUIRE_BROWSER=1), which installs Debian's chromium first
    if os.environ.get("OPSPLANE_REQUIRE_BROWSER") != "1":
        pytest.skip("only enforced under make test / CI (OPSPLANE_REQUIRE_BROWSER=1)")

    # THEN chromium, chromedriver and selenium are there, so the browser tests run instead of skipping
    assert os.access("/usr/bin/chromium", os.X_OK)
    assert os.access("/usr/bin/chromedriver", os.X_OK)
    import selenium.webdriver  # noqa: F401


def test_can_refuse_a_port_in_use_before_making_any_credential(tmp_path: Path) -> None:
    # GIVEN another program listening on the port (a plain socket, which answers nothing)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as other:
        other.bind(("127.0.0.1", 0))
        other.listen(1)
        port = other.getsockname()[1]
        moto_port = free_port()
        state_dir = tmp_path / "state"
        env = _server_env(str(state_dir), port, moto_port, "", {"OPSPLANE_ADMIN_PASSWORD": ""})

        # WHEN the launcher is started on that port (as `make run` with PORT=...)
        done = subprocess.run(
            [sys.executable, str(RUN_LOCAL)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
        )

    # THEN it exits non-zero at once, saying what to do, and made no admin and printed no password
    out = done.stdout + done.stderr
    assert done.returncode != 0, out
    assert f"port {port} is in use: stop the other server or set PORT=" in out
    assert "password" not in out.lower() and "Admin:" not in out
    assert "Traceback" not in out
    assert not (state_dir / SNAPSHOT).exists()
    assert sorted(p.name for p in state_dir.iterdir()) == [".run_local.lock"]
    assert port_is_free(moto_port)


def test_can_refuse_to_start_on_a_bad_setting_naming_the_variable(tmp_path: Path) -> None:
    # GIVEN an environment holding values the service cannot run with
    port, moto_port = free_port(), free_port()
    env = _server_env(
        str(tmp_path),
        port,
        moto_port,
        "unused",
        {"OPSPLANE_SESSION_TTL": "abc", "OPSPLANE_RATE_LIMIT_ENABLED": "maybe"},
    )

    # WHEN the launcher is started
    done = subprocess.run(
        [sys.executable, str(RUN_LOCAL)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )

    # THEN it exits 2 at once, one line per bad variable and no traceback, nothing started
    assert done.returncode == 2, done.stdout + done.stderr
    assert "OPSPLANE_SESSION_TTL: Input should be a valid integer" in done.stderr
    assert "OPSPLANE_RATE_LIMIT_ENABLED: Input should be a valid boolean" in done.stderr
    assert "Traceback" not in done.stderr
    assert port_is_free(port) and port_is_free(moto_port)
    assert not (tmp_path / SNAPSHOT).exists()
