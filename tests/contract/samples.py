"""What the contract suite needs to know about a kind that its declaration does not say:
a valid body (per kind name, below) and where the kind is created and updated when it
keeps those routes to itself. Everything else (required fields, bad bodies, how unknown
fields are treated) is derived from the kind's pydantic schema.

A new kind declared with crud.declare() fails the suite until it has an entry in SAMPLES.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

Body = dict[str, Any]


@dataclass(frozen=True)
class Sample:
    """A kind's valid body and its create / update routes ("{base}" and "{id}" are filled in)."""

    body: Callable[[str], Body]  # a valid body; the argument makes its names (and client ids) unique
    create: str = "{base}"  # POST; the shared route unless the kind has its own
    update: str = "{base}/{id}"  # PUT
    # Where a free-text name is in a body and an answer when the kind's name_key holds none
    # (a saved search's entityType is an enum: its name is one of its search terms).
    name: tuple[str, ...] = ()


SAMPLES: dict[str, Sample] = {
    "alert": Sample(body=lambda n: {"name": f"contract {n}", "condition": "ts(cpu.load) > 2", "minutes": 5}),
    # Dashboards are created and updated by their own routes (client-chosen id), at the same paths.
    "dashboard": Sample(
        body=lambda n: {
            "id": f"contract-{n}",
            "name": f"Contract {n}",
            "sections": [{"name": "Overview", "rows": [{"charts": []}]}],
        }
    ),
    "derivedmetric": Sample(body=lambda n: {"name": f"contract {n}", "query": "ts(cpu.load, env=prod)", "minutes": 5}),
    "extlink": Sample(
        body=lambda n: {
            "name": f"contract {n}",
            "description": "Logs of the source",
            "template": "https://logs.example.com/?source={{source}}&metric={{metric}}",
            "sourceFilterRegex": "web-.*",
        }
    ),
    "savedsearch": Sample(
        body=lambda n: {"entityType": "ALERT", "query": {"name": f"contract {n}"}}, name=("query", "name")
    ),
}


def sample_for(kind: str) -> Sample:
    """The kind's Sample; a clear failure for a kind that has none yet."""
    try:
        return SAMPLES[kind]
    except KeyError:
        raise LookupError(
            f"declare a sample body for kind {kind!r} in tests/contract/samples.py (SAMPLES[{kind!r}])"
        ) from None


# ---- derived from the schema ------------------------------------------------------------------


def required_fields(schema: type[BaseModel]) -> list[str]:
    """The body fields the schema cannot do without."""
    return [name for name, info in schema.model_fields.items() if info.is_required()]


def unknown_fields(schema: type[BaseModel]) -> str:
    """What the schema does with fields it does not declare: 'ignore', 'allow' or 'forbid'."""
    return str(schema.model_config.get("extra") or "ignore")


def wrong_value(schema: type[BaseModel], field: str) -> Any:
    """A value of the wrong JSON type for field, or None when any value would do."""
    prop = schema.model_json_schema()["properties"][field]
    types = {p.get("type") for p in prop.get("anyOf", [prop])} - {None}
    if not types and not ("$ref" in prop or "allOf" in prop):
        return None  # Any: nothing is the wrong type
    return 7 if "string" in types else "not-a-" + (sorted(types)[0] if types else "object")


@dataclass(frozen=True)
class Refusal:
    """A body the create and update routes must refuse with 400, made from a valid one."""

    name: str
    make: Callable[[Body], bytes]


def refusals(schema: type[BaseModel]) -> list[Refusal]:
    """Bodies every kind refuses: not JSON, no body, not an object, a required field
    missing or of the wrong type."""

    def dumps(value: Any) -> bytes:
        return json.dumps(value).encode()

    found = [
        Refusal("not-json", lambda body: b'{"name": '),
        Refusal("empty", lambda body: b""),
        Refusal("json-array", lambda body: dumps([body])),
        Refusal("json-string", lambda body: dumps("a string")),
        Refusal("json-null", lambda body: b"null"),
        Refusal("not-utf8", lambda body: dumps(body)[:-1] + b', "x": "\xff\xfe"}'),
        Refusal("deeply-nested", lambda body: b"[" * 100_000 + b"]" * 100_000),
    ]
    for field in required_fields(schema):
        found.append(
            Refusal(f"missing-{field}", lambda body, f=field: dumps({k: v for k, v in body.items() if k != f}))
        )
        wrong = wrong_value(schema, field)
        if wrong is not None:
            found.append(Refusal(f"wrong-type-{field}", lambda body, f=field, w=wrong: dumps({**body, f: w})))
    if "version" in schema.model_fields:  # the version the writer last read (409 when stale)
        found.append(Refusal("wrong-type-version", lambda body: dumps({**body, "version": "1"})))
        found.append(Refusal("version-zero", lambda body: dumps({**body, "version": 0})))
    return found
