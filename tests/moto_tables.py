"""Empty tables for an in-process test, made once per test process and copied for each test
(with moto fixed for long runs: scripts/moto_patches.py).

Creating the tables in moto (four tables, their indexes, the blobs bucket) costs about half a
second; a copy of moto's empty tables costs about a millisecond. `fresh_tables()` runs inside
an active `mock_aws()`: the first call creates the tables and keeps a copy, later calls put a
copy of that into moto's (reset) DynamoDB backend. The copy is of empty tables only: every
test still bootstraps its own installation, whose uuids are new, so nothing a process caches
about a tenant (auth verdicts, the series index it has written) carries over to another test.
"""

from __future__ import annotations

import copy
from typing import Any

from moto.core import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models import dynamodb_backends

from scripts import moto_patches

# moto's empty tables, by the names and region the settings gave them
_empty: dict[tuple[str, ...], dict[str, Any]] = {}
_session: list[Any] = []


def _backend() -> Any:
    from chalicelib.settings import get_settings

    return dynamodb_backends[DEFAULT_ACCOUNT_ID][get_settings().region]


def fresh_tables() -> None:
    """Bind the store to moto and give it empty tables and the blobs bucket."""
    from chalicelib.settings import get_settings
    from chalicelib.store import aws, blobs, models

    moto_patches.install()
    settings = get_settings()
    models.bind(settings)
    # One botocore session for all the tests of the process: a new one loads each service's
    # model again (~0.1 s a client). Its credentials are the tests' fixed ones.
    if _session:
        aws.adopt(_session[0])
    else:
        _session.append(aws.session())
    tables = _backend().tables
    if tables:
        raise RuntimeError("fresh_tables() expects moto's DynamoDB to be empty (a new mock_aws())")
    key = (settings.region, *(model.Meta.table_name for model in models.MODELS))
    if key not in _empty:
        models.create_tables()
        _empty[key] = copy.deepcopy(dict(tables))
        return
    tables.update(copy.deepcopy(_empty[key]))
    blobs.create_bucket()
