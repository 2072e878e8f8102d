"""Schema fuzzing: schemathesis generates requests for every operation of
/api/v2/swagger.json and checks each answer against the document (no 5xx, a declared status,
the declared media type, a body that matches its schema). In-process: each generated request
is served by chalice.test.Client on moto, as the admin.

Three runs: valid inputs with a fixed seed (a finding reproduces exactly) and with one that
changes every day (new inputs over time, still reproducible on the day: the seed is in the
failure message), and invalid inputs (schemathesis' negative mode: wrong types, missing
fields, out-of-range values), which must be 4xx, never 5xx. Bounded by EXAMPLES per operation
so `make test` stays within minutes on 2 cores.
"""

from __future__ import annotations

import datetime
import json
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import checks
from schemathesis.core.transport import Response
from schemathesis.generation.modes import GenerationMode

from tests.functional.conftest import Api

EXAMPLES = 4
FIXED_SEED = 20261129
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]
BASE = "http://opsplane.test"


def serve(api: Api, case: Any) -> Response:
    """One generated request through the app in-process, as schemathesis reads answers."""
    kwargs = case.as_transport_kwargs(base_url=BASE)
    prepared = requests.Request(
        method=kwargs["method"],
        url=kwargs["url"],
        headers=kwargs.get("headers"),
        params=kwargs.get("params"),
        data=kwargs.get("data"),
        json=kwargs.get("json"),
        files=kwargs.get("files"),
        cookies=kwargs.get("cookies"),
    ).prepare()
    url = urlsplit(prepared.url or "")
    path = url.path + (f"?{url.query}" if url.query else "")
    body = prepared.body.encode("utf-8", "surrogatepass") if isinstance(prepared.body, str) else prepared.body
    answer = api.client.http.request(prepared.method or "GET", path, headers=dict(prepared.headers), body=body or b"")
    content = answer.body if isinstance(answer.body, bytes) else (answer.body or "").encode()
    return Response(
        status_code=answer.status_code,
        headers={name.lower(): [value] for name, value in answer.headers.items()},
        content=content,
        request=prepared,
        elapsed=0.0,
        message="",
        encoding="utf-8",
        http_version="1.1",
        verify=False,
    )


def findings(api: Api, run_seed: int, mode: GenerationMode) -> list[str]:
    """Every check that failed, one line each (operation, check, message)."""
    schema = schemathesis.openapi.from_dict(json.loads(api.client.http.get("/api/v2/swagger.json").body))
    found: list[str] = []
    literal = frozenset(path for path in schema.raw_schema["paths"] if "{" not in path)
    for result in schema.get_all_operations():
        exercise_operation(api, result.ok(), run_seed, mode, found, literal)
    return sorted(set(found))


def exercise_operation(
    api: Api,
    operation: Any,
    run_seed: int,
    mode: GenerationMode,
    found: list[str],
    literal: frozenset[str] = frozenset(),
) -> None:
    """EXAMPLES generated requests of one operation; failed checks appended to found."""

    @seed(run_seed)
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(mode))
    def exercise(case: Any) -> None:
        # An id generated equal to a literal route beside the {id} route ("user" for
        # /account/{id}) is that literal route's request (literal routes win, CONTRACTS.md).
        if case.formatted_path in literal and case.formatted_path != operation.path:
            return
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {api.token}"}
        try:
            case.validate_response(serve(api, case), checks=CHECKS)
        except BaseExceptionGroup as group:  # schemathesis reports a FailureGroup
            for failure in group.exceptions:
                first = str(failure).splitlines()[0]
                found.append(f"{operation.method.upper()} {operation.path}: {type(failure).__name__}: {first}")

    try:
        exercise()
    except Unsatisfiable:  # negative mode: an operation without inputs has nothing to get wrong
        if mode is GenerationMode.POSITIVE:
            raise


DAILY_SEED = int(datetime.date.today().strftime("%Y%m%d")) * 7 + 1


@pytest.mark.parametrize(
    ("run_seed", "mode"),
    [
        (FIXED_SEED, GenerationMode.POSITIVE),
        (DAILY_SEED, GenerationMode.POSITIVE),
        (FIXED_SEED, GenerationMode.NEGATIVE),
    ],
    ids=["valid-fixed-seed", "valid-seed-of-the-day", "invalid-fixed-seed"],
)
def test_can_answer_every_generated_request_as_the_document_says(api: Api, run_seed: int, mode: GenerationMode) -> None:
    # GIVEN requests generated from the document for every operation (valid, or invalid)
    # WHEN the app answers them
    found = findings(api, run_seed, mode)
    # THEN no answer is a 5xx, an undeclared status, an undeclared media type or off its schema
    assert not found, f"seed {run_seed}: {len(found)} findings\n" + "\n".join(found[:50])
