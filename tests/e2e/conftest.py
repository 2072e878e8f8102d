"""The live local server for end-to-end tests: `scripts/run_local.py`, exactly as `make run` starts it.

Fixtures and helpers:
- `server` (session): a LocalServer(url, admin_password, state_dir, port) shared by the e2e tests of one
  pytest worker (under xdist every worker starts its own server on its own free ports and state dir).
  It runs with very high rate-limit budgets so that tests do not throttle each other; a test that
  needs the real budgets (or any other setting) starts its own server with `spawn_server(env=...)`.
- `admin_token` (session): a Wazo session token of the `admin` user of `server`.
- `spawn_server` (function): a factory `spawn_server(state_dir=None, env=None) -> LocalServer` for tests
  that stop or restart a server; everything it started is stopped at the end of the test.
- `LocalServer.restart()` stops the server (SIGINT) and starts it again on the same state dir and ports.

pytest does not inherit `pytestmark` from a conftest: every e2e test module sets
`pytestmark = pytest.mark.e2e` itself. Failed-login tests should use their own user: five failures
throttle a username for five minutes, and `admin` is shared.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from tests.e2e.clients import Person, new_tenant_admin
from tests.e2e.receivers import receiver  # noqa: F401 - a fixture of every e2e module

ROOT = Path(__file__).resolve().parents[2]
RUN_LOCAL = ROOT / "scripts" / "run_local.py"
START_TIMEOUT = 60.0
STOP_TIMEOUT = 20.0
READY_LINE = "Stop with Ctrl-C."
# Budgets high enough that the tests of one worker never throttle each other.
GENEROUS_LIMITS = {
    "OPSPLANE_RATE_LIMIT_GET": "1000000",
    "OPSPLANE_RATE_LIMIT_GET_PAGED": "1000000",
    "OPSPLANE_RATE_LIMIT_WRITE": "1000000",
    # Every test of a worker calls from 127.0.0.1: one address for all of them.
    "OPSPLANE_LOGIN_FAILURES_PER_ADDRESS": "1000000",
}


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_is_free(port: int) -> bool:
    """Is nothing listening on this loopback port? (Connections in TIME_WAIT do not count.)"""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _server_env(state_dir: str, port: int, moto_port: int, password: str, extra: dict[str, str]) -> dict[str, str]:
    # Start from a clean slate: the unit/functional conftest sets OPSPLANE_* for in-process tests.
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPSPLANE_")}
    env.update(
        {
            "PORT": str(port),
            "OPSPLANE_STATE_DIR": state_dir,
            "OPSPLANE_ADMIN_PASSWORD": password,
            "OPSPLANE_MOTO_PORT": str(moto_port),
            "OPSPLANE_STOP_WITH_PARENT": "1",
            "PYTHONUNBUFFERED": "1",
            "POWERTOOLS_LOG_LEVEL": os.environ.get("POWERTOOLS_LOG_LEVEL", "WARNING"),
        }
    )
    env.update(extra)
    return env


@dataclass
class LocalServer:
    """A running `scripts/run_local.py` (its own process group)."""

    url: str
    admin_password: str
    state_dir: str
    port: int
    moto_port: int = 0
    env: dict[str, str] = field(default_factory=dict, repr=False)
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    log_path: str = ""

    def output(self) -> str:
        """Everything the server printed so far (stdout and stderr)."""
        try:
            return Path(self.log_path).read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, sig: int = signal.SIGINT) -> int | None:
        """Send sig to the launcher, wait for it; kill its process group if it hangs. Returns the exit code."""
        proc = self.process
        if proc is None:
            return None
        if proc.poll() is None:
            try:
                os.kill(proc.pid, sig)
            except ProcessLookupError:
                pass
            try:
                proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.wait(timeout=STOP_TIMEOUT)
        return proc.returncode

    def restart(self) -> LocalServer:
        """Stop (SIGINT) and start again on the same state dir and ports; returns self."""
        self.stop()
        _launch(self)
        return self

    def get(self, path: str, **kw: object) -> requests.Response:
        return requests.get(self.url + path, timeout=30, **kw)  # type: ignore[arg-type]

    def token(self, username: str = "admin", password: str | None = None) -> str:
        """A Wazo session token for username (admin by default)."""
        resp = requests.post(
            self.url + "/api/auth/0.1/token",
            auth=(username, password if password is not None else self.admin_password),
            json={},
            timeout=30,
        )
        assert resp.status_code == 200, f"login as {username} failed: {resp.status_code} {resp.text}"
        return str(resp.json()["data"]["token"])


def _launch(server: LocalServer) -> None:
    """Start run_local.py for server and wait until it says it is ready and /api/health answers 200."""
    offset = len(server.output())
    log = open(server.log_path, "ab")  # noqa: SIM115 - the child owns it; closed below
    try:
        server.process = subprocess.Popen(
            [sys.executable, str(RUN_LOCAL)],
            cwd=str(ROOT),
            env=server.env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    finally:
        log.close()
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"run_local.py exited with {server.process.returncode} before serving:\n{server.output()}"
            )
        # The launcher prints its banner once it has seen the server healthy itself.
        if READY_LINE in server.output()[offset:]:
            try:
                if requests.get(server.url + "/api/health", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
        time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"run_local.py did not answer /api/health within {START_TIMEOUT:.0f}s:\n{server.output()}")


def start_server(
    state_dir: str | None = None,
    env: dict[str, str] | None = None,
    password: str | None = None,
    base_dir: Path | None = None,
) -> LocalServer:
    """Start a fresh local server on free ports (retried when a port was taken in between).

    Its state dir (unless given) and its output log go to base_dir (a new temporary dir by default).
    """
    base = base_dir or Path(tempfile.mkdtemp(prefix="opsplane-e2e-"))
    state_dir = state_dir or str(base / "state")
    password = password or "pw-" + secrets.token_urlsafe(12)
    last_error: Exception | None = None
    for _attempt in range(3):
        port, moto_port = free_port(), free_port()
        server = LocalServer(
            url=f"http://127.0.0.1:{port}",
            admin_password=password,
            state_dir=state_dir,
            port=port,
            moto_port=moto_port,
            env=_server_env(state_dir, port, moto_port, password, env or {}),
            log_path=str(base / f"server-{port}.log"),
        )
        try:
            _launch(server)
            return server
        except RuntimeError as exc:
            last_error = exc
            # Another process took a free port in between: run_local.py says so at once.
            if "is in use" not in server.output() and "Address already in use" not in server.output():
                raise
    assert last_error is not None
    raise last_error


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    """The shared live server of this worker."""
    srv = start_server(env=dict(GENEROUS_LIMITS), base_dir=tmp_path_factory.mktemp("server"))
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="session")
def admin_token(server: LocalServer) -> str:
    """A session token of the shared server's admin."""
    return server.token()


@pytest.fixture
def spawn_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., LocalServer]]:
    """Factory for private servers (stopped at the end of the test)."""
    started: list[LocalServer] = []

    def spawn(
        state_dir: str | None = None, env: dict[str, str] | None = None, password: str | None = None
    ) -> LocalServer:
        srv = start_server(state_dir=state_dir, env=env, password=password, base_dir=tmp_path_factory.mktemp("spawned"))
        started.append(srv)
        return srv

    yield spawn
    for srv in started:
        srv.stop()


@pytest.fixture(scope="module")
def boss(server: LocalServer, admin_token: str) -> Person:
    """The administrator of a sub-tenant one test module's tests share."""
    return new_tenant_admin(server.url, admin_token)


@pytest.fixture
def fresh(server: LocalServer, admin_token: str) -> Person:
    """The administrator of a tenant of this test's own (its listings hold only what it made)."""
    return new_tenant_admin(server.url, admin_token)
