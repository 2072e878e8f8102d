"""Chalice's local server on a socket run_local.py already listens on, tied to the launcher's life.

`chalice local` (the CLI) binds its own socket with http.server's backlog of 5: a burst of a
few dozen clients (Grafana saving dashboards, a load test) gets "connection reset by peer".
This module builds the same server the CLI builds (the stage's config and environment, the
same route validation and API Gateway emulation, chalice's LocalDevServer) but serves on the
socket it inherits from run_local.py, with a listen backlog of BACKLOG and daemon threads.
Holding the socket in the launcher also means a port already in use is reported before
anything else is done (run_local.py). There is no reloader: restart `make run` after edits.

run_local.py starts this in its own process group. On Linux the kernel sends it SIGTERM
when its parent dies (PR_SET_PDEATHSIG), so even a launcher killed with SIGKILL leaves no
server listening. Usage: chalice_local.py <parent pid> <listening socket fd> <stage>
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import socket
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # chalicelib (http/redact.py) before chalice loads the app
    sys.path.insert(0, str(ROOT))
PR_SET_PDEATHSIG = 1
# Connections the kernel queues while every handler thread is busy starting (http.server: 5).
BACKLOG = 128


def die_with_parent(parent: int) -> bool:
    """Arm the parent-death signal (Linux); False when the parent is already gone."""
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        except (OSError, AttributeError):
            pass
    return os.getppid() == parent


def server_class(sock: socket.socket) -> Any:
    """chalice's ThreadedHTTPServer, serving on sock (already bound) with a deep backlog."""
    from chalice.local import ThreadedHTTPServer

    class InheritedSocketServer(ThreadedHTTPServer):
        request_queue_size = BACKLOG
        daemon_threads = True

        def __init__(self, server_address: Any, handler: Any) -> None:
            super().__init__(server_address, handler, bind_and_activate=False)
            self.socket.close()
            self.socket = sock
            self.server_address = sock.getsockname()
            self.server_name, self.server_port = self.server_address[:2]
            self.server_activate()  # listen(BACKLOG) again: harmless, and sets our depth

    return InheritedSocketServer


def handler_class() -> Any:
    """chalice's request handler, with three fixes for a server clients keep connections to.

    - Any method reaches the app (http.server answers a method it has no do_<METHOD> for
      with its own HTML 501): TRACE, PROPFIND, FOO get the edge's 405 in the caller's dialect.
    - A HEAD answer never carries a body, whatever the app or the emulated gateway put in
      it; Content-Length is the GET's (the edge's header), else the length of the unsent body.
      A body after a HEAD's headers would be read as the next answer on a kept-alive connection.
    - The request context's `identity.sourceIp` is the peer's address, as API Gateway's is
      (chalice puts 127.0.0.1 for every client): per-address login throttling and, later,
      access policies see who is calling.
    - The access log has every credential redacted (chalicelib/http/redact.py): the Wazo
      token check puts a session token in the path.
    """
    from chalice.local import ChaliceRequestHandler

    from chalicelib.http.redact import redact

    class RequestHandler(ChaliceRequestHandler):
        def __getattr__(self, name: str) -> Any:
            if name.startswith("do_"):
                return self._generic_handle
            raise AttributeError(name)

        def _generic_handle(self) -> None:
            # The converter is this connection's own (one LocalGateway per handler).
            self.local_gateway.event_converter.LOCAL_SOURCE_IP = self.client_address[0]
            super()._generic_handle()

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = _generic_handle

        def _send_http_response(self, code: int, headers: Any, body: str | bytes | None) -> None:
            if self.command != "HEAD":
                super()._send_http_response(code, headers, body)
                return
            raw = body.encode("utf-8") if isinstance(body, str) else (body or b"")
            headers = dict(headers)
            lengths = [k for k in headers if k.lower() == "content-length"]
            length = headers[lengths[0]] if lengths else str(len(raw))
            for key in lengths:
                del headers[key]
            self.send_response(code)
            if code not in (204, 304):
                self.send_header("Content-Length", str(length))
            self.send_header("Content-Type", headers.pop("Content-Type", "application/json"))
            self._send_headers(headers)  # ends the headers; no body follows

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's name
            sys.stderr.write(redact(f"{self.address_string()} - - [{self.log_date_time_string()}] {format % args}\n"))

    return RequestHandler


def local_server(sock: socket.socket, stage: str) -> Any:
    """The server `chalice local --stage stage` would run, on sock."""
    from chalice import local
    from chalice.cli.factory import CLIFactory
    from chalice.deploy.validate import validate_routes

    from chalicelib.http.redact import redact_handlers

    # What the CLI does first: mark the process, log to stdout as Lambda would.
    os.environ["AWS_CHALICE_CLI_MODE"] = "true"
    logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(message)s")
    redact_handlers(logging.getLogger())  # chalice's own log lines (an app's traceback) too
    os.chdir(ROOT)
    factory = CLIFactory(str(ROOT), environ=os.environ)
    config = factory.create_config_obj(chalice_stage_name=stage)
    app = config.chalice_app  # loads app.py with the stage's environment variables
    validate_routes(app.routes)
    # chalice.local.create_local_server, with our server class.
    local.CustomLocalChalice.__bases__ = (local.LocalChalice, app.__class__)
    app.__class__ = local.CustomLocalChalice
    host, port = sock.getsockname()[:2]
    return local.LocalDevServer(app, config, host, port, handler_cls=handler_class(), server_cls=server_class(sock))


def main() -> int:
    """Serve until SIGTERM (or the launcher's death)."""
    parent, fd, stage = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    if not die_with_parent(parent):
        return 0
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    sock = socket.socket(fileno=fd)
    server = local_server(sock, stage)
    try:
        server.serve_forever()
    finally:
        server.server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
