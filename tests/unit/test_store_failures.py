"""Which botocore / PynamoDB errors the store turns into Unavailable, and how each dialect
answers it (503 with Retry-After)."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError
from pynamodb.exceptions import (
    CancellationReason,
    GetError,
    PutError,
    TransactWriteError,
    UpdateError,
    VerboseClientError,
)

from chalicelib.errors import Unavailable
from chalicelib.http import dialects
from chalicelib.http.edge import render_error
from chalicelib.store import failures


def client_error(code: str, operation: str = "PutItem") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "x"}}, operation)


@pytest.mark.parametrize(
    "code",
    [
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
        "SlowDown",
        "InternalError",
    ],
)
def test_can_map_throttling_and_service_trouble_to_unavailable(code):
    # WHEN botocore's error (as S3 raises it) or PynamoDB's wrapping of it is mapped
    # THEN both mean Unavailable, naming the code
    for exc in (client_error(code), PutError("Failed to put item", client_error(code))):
        mapped = failures.unavailable(exc)
        assert isinstance(mapped, Unavailable)
        assert mapped.context["error"] == code


def test_can_map_a_service_that_cannot_be_reached_to_unavailable():
    unreachable = EndpointConnectionError(endpoint_url="https://dynamodb.example")
    timeout = ReadTimeoutError(endpoint_url="https://dynamodb.example")
    assert isinstance(failures.unavailable(unreachable), Unavailable)
    assert isinstance(failures.unavailable(GetError("Failed to get item", timeout)), Unavailable)


def _cancelled(*codes: str | None) -> TransactWriteError:
    cause = VerboseClientError(
        {"Error": {"Code": "TransactionCanceledException", "Message": "cancelled"}},
        "TransactWriteItems",
        cancellation_reasons=[CancellationReason(code=c) if c else None for c in codes],
    )
    return TransactWriteError("Failed to write transaction items", cause)


def test_can_map_a_transaction_cancelled_for_throttling_but_not_for_a_condition():
    assert isinstance(failures.unavailable(_cancelled(None, "ThrottlingError")), Unavailable)
    assert isinstance(failures.unavailable(_cancelled("ProvisionedThroughputExceeded")), Unavailable)
    assert failures.unavailable(_cancelled("ConditionalCheckFailed", None)) is None
    assert failures.unavailable(_cancelled("TransactionConflict")) is None


def test_can_leave_other_errors_to_the_module_that_knows_them():
    conditional = UpdateError("Failed to update item", client_error("ConditionalCheckFailedException"))
    # GIVEN errors that are not throttling WHEN raised inside translated() THEN they pass unchanged
    for exc in (conditional, client_error("ValidationException"), client_error("NoSuchKey", "GetObject")):
        with pytest.raises(type(exc)), failures.translated():
            raise exc


def test_can_translate_inside_a_generator_while_it_is_consumed():
    @failures.guarded
    def rows():
        yield 1
        raise client_error("ThrottlingException", "Query")

    it = rows()
    assert next(it) == 1
    with pytest.raises(Unavailable):
        next(it)


@pytest.mark.parametrize("dialect", [dialects.NATIVE, dialects.WAZO, dialects.GRAFANA, dialects.OAUTH])
def test_can_render_unavailable_as_503_with_retry_after_in_every_dialect(dialect):
    # WHEN Unavailable is rendered in a dialect
    response = render_error(dialect, Unavailable(retry_after=2))
    body = json.loads(response.body)
    # THEN 503 with Retry-After, in the dialect's own shape and no other's
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "2"
    if dialect == dialects.NATIVE:
        assert set(body) == {"status"} and body["status"]["code"] == 503
    if dialect == dialects.WAZO:
        assert (body["error_id"], body["status_code"]) == ("unavailable", 503) and "status" not in body
    if dialect == dialects.GRAFANA:
        assert set(body) == {"message"}
    if dialect == dialects.OAUTH:
        assert body == {"error": "temporarily_unavailable", "error_description": body["error_description"]}
