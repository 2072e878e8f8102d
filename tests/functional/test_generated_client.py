"""A client generated from our own OpenAPI document (openapi-python-client, pinned in
requirements-dev.txt) keeps every operation and drives the app.

The generator warns, and leaves pieces out, for what it cannot parse: an endpoint it skips,
an answer it cannot read, two models with one name. Any warning fails here. The generated
client speaks httpx; its transport hands each request to chalice.test.Client in-process.
"""

from __future__ import annotations

import importlib
import json
import pathlib
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.functional.conftest import Api

PACKAGE = "opsplane_generated_client"
BASE_URL = "http://opsplane.test"


class ChaliceTransport(httpx.BaseTransport):
    """httpx requests answered by the app through chalice.test.Client, no sockets."""

    def __init__(self, api: Api) -> None:
        self.api = api

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.raw_path.decode("ascii")
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in request.headers.raw}
        answer = self.api.client.http.request(request.method, path, headers=headers, body=request.read())
        return httpx.Response(answer.status_code, headers=answer.headers, content=answer.body)


def operations(doc: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """operationId -> (METHOD, path) for every operation of the document."""
    return {op["operationId"]: (m.upper(), p) for p, ops in doc["paths"].items() for m, op in ops.items()}


def snake(name: str) -> str:
    """openapi-python-client's module name of an operationId (`getAllAlert` -> `get_all_alert`)."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[pathlib.Path, dict[str, Any], str]]:
    """The client generated from the document the app serves: (package dir, document, generator output)."""
    from chalicelib.api import routers
    from chalicelib.http.openapi import document

    doc = document([route for router in routers() for route in router.routes])
    root = tmp_path_factory.mktemp("generated")
    (root / "openapi.json").write_text(json.dumps(doc))
    (root / "config.yaml").write_text("post_hooks: []\n")  # no formatter run: faster, and ruff may not be on PATH
    generator = shutil.which("openapi-python-client", path=str(pathlib.Path(sys.executable).parent))
    assert generator, "openapi-python-client is not installed (requirements-dev.txt)"
    run = subprocess.run(
        [
            generator,
            "generate",
            "--path",
            str(root / "openapi.json"),
            "--meta",
            "none",
            "--output-path",
            str(root / PACKAGE),
            "--config",
            str(root / "config.yaml"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    sys.path.insert(0, str(root))
    try:
        yield root / PACKAGE, doc, output
    finally:
        sys.path.remove(str(root))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def test_can_generate_a_client_without_warnings(generated):
    # GIVEN the client generated from the document
    _, _, output = generated
    # THEN the generator skipped nothing: no endpoint, answer or model left out
    assert "Warning" not in output and "WARNING" not in output, output


def test_can_generate_every_operation_of_the_document(generated):
    # GIVEN the generated package and the document
    package, doc, _ = generated
    expected = operations(doc)
    modules = {p.stem for p in (package / "api").rglob("*.py") if p.stem != "__init__"}
    # THEN each operation has its module, and there is none other
    squashed = {m.replace("_", "") for m in modules}  # its snake_case of `v2Id` differs from ours
    missing = sorted(op for op in expected if op.replace("_", "").lower() not in squashed)
    assert not missing, f"dropped: {[(op, expected[op]) for op in missing]}"
    assert len(modules) == len(expected)


def client_for(api: Api) -> Any:
    client_module = importlib.import_module(f"{PACKAGE}.client")
    client = client_module.AuthenticatedClient(base_url=BASE_URL, token=api.token)
    client.set_httpx_client(
        httpx.Client(
            base_url=BASE_URL,
            transport=ChaliceTransport(api),
            headers={"Authorization": f"Bearer {api.token}"},
        )
    )
    return client


def operation(tag: str, operation_id: str) -> Any:
    return importlib.import_module(f"{PACKAGE}.api.{tag}.{snake(operation_id)}")


def model(name: str) -> Any:
    return getattr(importlib.import_module(f"{PACKAGE}.models"), name)


def test_can_drive_alerts_with_the_generated_client(generated, api):
    # GIVEN the generated client on the app
    client = client_for(api)
    body = model("AlertBody").from_dict({"name": "cpu high", "condition": "ts(cpu) > 2", "minutes": 5})
    # WHEN an alert is created, read and listed through it
    created = operation("alert", "createAlert").sync_detailed(client=client, body=body)
    assert created.status_code == 200, created.content
    alert = created.parsed.response
    assert alert.name == "cpu high" and alert.minutes == 5 and alert.alert_type == "CLASSIC"
    got = operation("alert", "getAlert").sync_detailed(id=alert.id, client=client)
    # THEN every answer parses into the generated models
    assert got.status_code == 200 and got.parsed.response.condition == "ts(cpu) > 2"
    listed = operation("alert", "getAllAlert").sync_detailed(client=client)
    assert listed.status_code == 200
    assert [a.id for a in listed.parsed.response.items] == [alert.id]
    missing = operation("alert", "getAlert").sync_detailed(id="404404", client=client)
    assert missing.status_code == 404 and missing.parsed.status.code == 404


def test_can_drive_dashboards_with_the_generated_client(generated, api):
    # GIVEN the generated client on the app
    client = client_for(api)
    sections = [
        {
            "name": "Overview",
            "rows": [{"charts": [{"name": "CPU", "sources": [{"name": "A", "query": "ts(cpu)"}]}]}],
        }
    ]
    body = model("DashboardBody").from_dict({"id": "ops-overview", "name": "Ops", "sections": sections})
    # WHEN a dashboard is created, read and updated through it
    created = operation("dashboard", "createDashboard").sync_detailed(client=client, body=body)
    assert created.status_code == 200, created.content
    assert created.parsed.response.id == "ops-overview"
    got = operation("dashboard", "getDashboard").sync_detailed(id="ops-overview", client=client)
    assert got.status_code == 200 and got.parsed.response.sections[0].rows[0].charts[0].name == "CPU"
    change = model("DashboardUpdate").from_dict({"name": "Ops 2", "sections": sections, "version": 1})
    updated = operation("dashboard", "updateDashboard").sync_detailed(id="ops-overview", client=client, body=change)
    # THEN each answer parses into the generated Dashboard
    assert updated.status_code == 200, updated.content
    assert updated.parsed.response.name == "Ops 2" and updated.parsed.response.version == 2
