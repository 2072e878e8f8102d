"""`make run`: the whole service on this machine.

1. DynamoDB and S3: an embedded moto server on loopback ($OPSPLANE_MOTO_PORT or a free port)
   serves both, its tables and blobs restored from the state dir. $OPSPLANE_DYNAMODB_ENDPOINT
   names another DynamoDB (its tables are not snapshotted), $OPSPLANE_S3_ENDPOINT another S3
   (its blobs are not snapshotted); moto is embedded unless both are given.
2. Tables and the blobs bucket created, the installation bootstrapped (root tenant + `admin`;
   a generated password is printed once, on first start; $OPSPLANE_ADMIN_PASSWORD chooses it
   instead).
3. Chalice's local server for stage dev (scripts/chalice_local.py: what `chalice local` runs, with a
   listen backlog of 128 instead of 5) as a child in its own process group, serving on
   127.0.0.1:$PORT. The launcher binds that port before anything else: a port in use stops it at
   once, before any credential is made or printed.

SIGINT (Ctrl-C) and SIGTERM stop the child's process group, write a last snapshot and stop
the embedded moto: nothing is left running or listening.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from scripts.chalice_local import BACKLOG  # noqa: E402
from scripts.local_dynamodb import BLOBS_DIR, SNAPSHOT_FILE, EmbeddedDynamoDB  # noqa: E402

STAGE = "dev"
HOST = "127.0.0.1"
START_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0
# Set by this launcher only: the stage's config must not override them in the child.
LAUNCHER_VARIABLES = (
    "OPSPLANE_DYNAMODB_ENDPOINT",
    "OPSPLANE_S3_ENDPOINT",
    "OPSPLANE_SQS_ENDPOINT",
    "OPSPLANE_SES_ENDPOINT",
    "OPSPLANE_STATE_DIR",
)


def say(message: str = "") -> None:
    print(message, flush=True)


def stage_environment(stage: str = STAGE) -> dict[str, str]:
    """The environment variables .chalice/config.json gives the stage (as chalice applies them)."""
    config = json.loads((ROOT / ".chalice" / "config.json").read_text(encoding="utf-8"))
    env = dict(config.get("environment_variables", {}))
    env.update(config.get("stages", {}).get(stage, {}).get("environment_variables", {}))
    clash = sorted(set(env) & set(LAUNCHER_VARIABLES))
    if clash:
        raise SystemExit(f"[run_local] .chalice/config.json must not set {', '.join(clash)} for stage {stage}")
    return {k: str(v) for k, v in env.items()}


# The local budget: a developer's scripts loop over the API, and the MSP platform's budgets
# (500 / 50 / 50 a minute, the settings' defaults) throttle them within seconds. A variable
# the user set wins (docs/development.md).
LOCAL_RATE_LIMITS = {
    "OPSPLANE_RATE_LIMIT_GET": "10000",
    "OPSPLANE_RATE_LIMIT_GET_PAGED": "10000",
    "OPSPLANE_RATE_LIMIT_WRITE": "10000",
}


def child_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """The environment of the `chalice local` child: environ plus the local budget."""
    env = dict(environ)
    for name, value in LOCAL_RATE_LIMITS.items():
        if not env.get(name):
            env[name] = value
    return env


def lock_state_dir(state_dir: str) -> TextIO:
    """Hold an exclusive lock on the state dir for the life of this process."""
    handle = open(os.path.join(state_dir, ".run_local.lock"), "a+")  # noqa: SIM115 - held until exit
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        raise SystemExit(f"[run_local] another run_local.py is using {state_dir}; stop it first") from None
    return handle


def configure_environment(state_dir: str, external_endpoint: str | None, external_s3: str | None = None) -> None:
    """Settings for this process and the chalice child (config first, launcher values last)."""
    os.environ.update(stage_environment())
    os.environ["OPSPLANE_STATE_DIR"] = state_dir
    # Webhook receivers on this machine are the point of a local run (docs/notifications.md).
    os.environ.setdefault("OPSPLANE_WEBHOOK_ALLOW_LOOPBACK", "true")
    os.environ.setdefault("AWS_DEFAULT_REGION", os.environ.get("AWS_REGION", "us-east-1"))
    os.environ.setdefault("AWS_REGION", os.environ["AWS_DEFAULT_REGION"])
    if external_endpoint is None and external_s3 is None:
        # Everything embedded: dummy credentials, so that no real account is ever touched.
        for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE"):
            os.environ.pop(name, None)
        os.environ["AWS_ACCESS_KEY_ID"] = "local"
        os.environ["AWS_SECRET_ACCESS_KEY"] = "local"
    elif "AWS_ACCESS_KEY_ID" not in os.environ and "AWS_PROFILE" not in os.environ:
        os.environ["AWS_ACCESS_KEY_ID"] = "local"
        os.environ["AWS_SECRET_ACCESS_KEY"] = "local"


def prepare_store(embedded: EmbeddedDynamoDB | None) -> tuple[Any, int]:
    """Create the tables and the bucket, restore the snapshot (blobs, tables), bootstrap.
    Returns (installation, restored items)."""
    from chalicelib.identity.bootstrap import bootstrap
    from chalicelib.settings import get_settings, reset_settings
    from chalicelib.store import models

    reset_settings()
    models.bind(get_settings())
    models.create_tables()
    from chalicelib.workers.local import create_queues

    create_queues()
    if embedded is not None:
        from chalicelib.store import mail

        # moto's SES sends only from a verified sender; the sent mail is read from
        # <moto endpoint>/moto-api/data.json (docs/notifications.md).
        mail.verify_sender(get_settings().email_sender)
    try:
        restored = embedded.restore() if embedded is not None else 0
    except ValueError as exc:  # unreadable JSON or an unknown format
        path = embedded.snapshot_path if embedded is not None else ""
        raise SystemExit(f"[run_local] cannot read {path}: {exc}; move it away to start empty") from exc
    return bootstrap(os.environ.get("OPSPLANE_ADMIN_PASSWORD") or None), restored


def settings_problems() -> str | None:
    """What is wrong with the settings this environment gives the service, or None."""
    from chalicelib.settings import SettingsError, get_settings, reset_settings

    reset_settings()
    try:
        get_settings()
    except SettingsError as exc:
        return str(exc)
    return None


def blobs_bucket() -> str:
    """The bucket the service will use (the stage's config and the environment decide)."""
    from chalicelib.settings import get_settings, reset_settings

    reset_settings()
    return get_settings().blobs_bucket


def api_port() -> int:
    """$PORT (default 8000); a value that is not a port stops the start."""
    raw = os.environ.get("PORT") or "8000"
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise SystemExit(f"[run_local] PORT={raw} is not a TCP port number")
    return int(raw)


def listen_on(port: int) -> socket.socket:
    """Bind and listen on HOST:port for the server (it inherits the socket), or stop at once
    when the port is taken: before any credential is generated or printed."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # As http.server does: a connection of a previous run in TIME_WAIT does not block the port.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((HOST, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise SystemExit(
                f"[run_local] port {port} is in use: stop the other server or set PORT=<another port>"
            ) from None
        raise SystemExit(f"[run_local] cannot listen on {HOST}:{port}: {exc.strerror}") from None
    sock.listen(BACKLOG)
    return sock


def start_moto(embedded: EmbeddedDynamoDB, port: int) -> None:
    """Start the embedded moto server, or stop at once when its fixed port is taken."""
    try:
        embedded.start()
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise SystemExit(
                f"[run_local] port {port} (OPSPLANE_MOTO_PORT) is in use: stop the other server or unset it"
            ) from None
        raise


def start_chalice(sock: socket.socket) -> subprocess.Popen[bytes]:
    """Chalice's local server on sock, in its own process group (on Linux, dying with this process)."""
    try:
        return subprocess.Popen(
            [sys.executable, str(ROOT / "scripts" / "chalice_local.py"), str(os.getpid()), str(sock.fileno()), STAGE],
            cwd=str(ROOT),
            env=child_environment(os.environ),
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            pass_fds=(sock.fileno(),),
        )
    finally:
        sock.close()  # the child holds it now: the port is free again once the child is gone


def start_workers() -> Any:
    """The workers (chalicelib/workers), in this process: a thread per queue, long-polling it."""
    from chalicelib.settings import get_settings
    from chalicelib.workers.local import Runner

    runner = Runner(region=get_settings().region)
    runner.start()
    return runner


def stop_group(proc: subprocess.Popen[bytes] | None) -> None:
    """Stop a child and everything in its process group."""
    if proc is None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    try:
        proc.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # stragglers of the group, if any
    except ProcessLookupError:
        pass
    proc.wait()


def wait_healthy(url: str, proc: subprocess.Popen[bytes], stop: threading.Event) -> bool:
    """Poll /api/health until 200; False when the child died or a stop was asked."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline and not stop.is_set():
        if proc.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(f"{url}/api/health", timeout=2) as resp:
                if resp.status == 200:
                    return True
        except (urllib.error.URLError, OSError):
            pass
        stop.wait(0.2)
    return False


def banner(
    url: str, endpoint: str, state_dir: str, embedded: EmbeddedDynamoDB | None, installation: Any, restored: int
) -> None:
    """What to open and how to log in."""
    from_env = bool(os.environ.get("OPSPLANE_ADMIN_PASSWORD"))
    if installation.admin_password and not from_env:
        password = installation.admin_password
        note = f"password {password}  (generated now and shown only this once: note it)"
    elif installation.admin_password:
        password = "$OPSPLANE_ADMIN_PASSWORD"
        note = "password from $OPSPLANE_ADMIN_PASSWORD"
    else:
        password = "<admin password>"
        note = "password as printed on first start (this state dir already has an admin)"
    storage = f"{endpoint} (embedded moto" + (f", {restored} items restored" if restored else "") + ")"
    if embedded is None or not embedded.tables:
        storage = f"{endpoint} (OPSPLANE_DYNAMODB_ENDPOINT)"
    s3_endpoint = os.environ["OPSPLANE_S3_ENDPOINT"]
    if embedded is not None and embedded.bucket is not None:
        count = embedded.restored_blobs
        blobs = f"{s3_endpoint} (embedded moto, bucket {embedded.bucket}" + (
            f", {count} blobs restored)" if count else ")"
        )
    else:
        blobs = f"{s3_endpoint} (OPSPLANE_S3_ENDPOINT)"
    say()
    say(f"opsplane is running (stage {STAGE})")
    say(f"  API:         {url}")
    say(f"  Swagger UI:  {url}/api-docs/ui")
    say(f"  Health:      {url}/api/health")
    say(f"  DynamoDB:    {storage}")
    say(f"  S3:          {blobs}")
    say(f"  SQS:         {os.environ['OPSPLANE_SQS_ENDPOINT']} (workers: {', '.join(worker_names()) or 'none'})")
    if embedded is not None:
        say(f"  Sent mail:   {embedded.endpoint}/moto-api/data.json (moto's SES: .ses.Message)")
    say(f"  State dir:   {state_dir}")
    say(f"  Admin:       user admin, {note}")
    say(f"  Rate limits: {rate_limits_line()}")
    say()
    say("Get a session token:")
    say(
        f"  curl -s -u 'admin:{password}' -X POST {url}/api/auth/0.1/token "
        "-H 'Content-Type: application/json' -d '{}'"
    )
    say("then call the API with -H 'Authorization: Bearer <token>' (or X-AUTH-TOKEN: <token>).")
    say("Stop with Ctrl-C.")
    say()


def worker_names() -> tuple[str, ...]:
    from chalicelib.workers import queues

    return queues()


def rate_limits_line() -> str:
    """The budget the child runs with, for the banner."""
    env = child_environment(os.environ)
    get, paged, write = (env[name] for name in LOCAL_RATE_LIMITS)
    local = all(not os.environ.get(name) for name in LOCAL_RATE_LIMITS)
    source = "the local budget (deployed default: 500 / 50 / 50)" if local else "OPSPLANE_RATE_LIMIT_*"
    return f"{get} GETs, {paged} paged GETs, {write} writes a minute per tenant and category, {source}"


def main() -> int:
    """Run until SIGINT/SIGTERM; 0 on a requested stop, 1 when the server failed, 2 on bad settings."""
    stop = threading.Event()

    def on_signal(signum: int, _frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    # Test harnesses set this so that a crashed test run leaves no server behind.
    parent = os.getppid() if os.environ.get("OPSPLANE_STOP_WITH_PARENT") == "1" else None
    port = api_port()
    url = f"http://{HOST}:{port}"
    state_dir = os.path.abspath(os.environ.get("OPSPLANE_STATE_DIR") or str(ROOT / ".local"))
    os.makedirs(state_dir, mode=0o700, exist_ok=True)
    lock = lock_state_dir(state_dir)
    try:
        listener = listen_on(port)
    except SystemExit:
        lock.close()
        raise
    external = os.environ.get("OPSPLANE_DYNAMODB_ENDPOINT") or None
    external_s3 = os.environ.get("OPSPLANE_S3_ENDPOINT") or None
    external_sqs = os.environ.get("OPSPLANE_SQS_ENDPOINT") or None
    configure_environment(state_dir, external, external_s3)
    problems = settings_problems()
    if problems is not None:
        listener.close()
        lock.close()
        print(f"[run_local] cannot start, {problems}", file=sys.stderr, flush=True)
        return 2

    embedded: EmbeddedDynamoDB | None = None
    chalice: subprocess.Popen[bytes] | None = None
    runner: Any = None
    code = 0
    try:
        if external is None or external_s3 is None or external_sqs is None:
            moto_port = int(os.environ.get("OPSPLANE_MOTO_PORT") or 0)
            embedded = EmbeddedDynamoDB(
                os.path.join(state_dir, SNAPSHOT_FILE),
                host=HOST,
                port=moto_port,
                tables=external is None,
                bucket=blobs_bucket() if external_s3 is None else None,
                blobs_dir=os.path.join(state_dir, BLOBS_DIR),
            )
            start_moto(embedded, moto_port)
        endpoint = external or (embedded.endpoint if embedded is not None else "")
        os.environ["OPSPLANE_DYNAMODB_ENDPOINT"] = endpoint
        os.environ["OPSPLANE_S3_ENDPOINT"] = external_s3 or (embedded.endpoint if embedded is not None else "")
        os.environ["OPSPLANE_SQS_ENDPOINT"] = external_sqs or (embedded.endpoint if embedded is not None else "")
        os.environ["OPSPLANE_SES_ENDPOINT"] = embedded.endpoint if embedded is not None else ""
        if embedded is not None and not os.environ.get("OPSPLANE_CLOUDWATCH_ENDPOINT"):
            # The CloudWatch pull reads the embedded moto's STS and CloudWatch, never AWS.
            os.environ["OPSPLANE_CLOUDWATCH_ENDPOINT"] = embedded.endpoint
        installation, restored = prepare_store(embedded)
        if embedded is not None:
            embedded.start_snapshots()
        if stop.is_set():
            return 0
        chalice = start_chalice(listener)
        if not wait_healthy(url, chalice, stop):
            if stop.is_set():
                return 0
            say(f"[run_local] the server did not become healthy on {url} (see its output above)")
            return 1
        runner = start_workers()
        banner(url, endpoint, state_dir, embedded, installation, restored)
        while not stop.wait(0.5):
            if chalice.poll() is not None:
                say(f"[run_local] the server exited with {chalice.returncode}")
                code = 1
                break
            if parent is not None and os.getppid() != parent:
                say("[run_local] the process that started me is gone; stopping")
                break
    finally:
        listener.close()  # unless the child has it already
        stop_group(chalice)
        if runner is not None:
            runner.stop()
        if embedded is not None:
            embedded.stop()
            if embedded.armed:
                say(f"[run_local] state saved in {state_dir}")
        lock.close()
    say("[run_local] stopped")
    return code


if __name__ == "__main__":
    sys.exit(main())
