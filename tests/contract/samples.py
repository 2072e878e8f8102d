"""What the contract suite needs to know about a kind that its declaration does not say:
a valid body (per kind name, below) and where the kind is created and updated when it
keeps those routes to itself. Everything else (required fields, bad bodies, how unknown
fields are treated) is derived from the kind's pydantic schema.

A new kind declared with crud.declare() fails the suite until it has an entry in SAMPLES.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from pydantic import BaseModel

Body = dict[str, Any]
# A call as the user a body is for: (method, path) -> (status, answer).
Call = Callable[[str, str], tuple[int, Any]]
# A call as one user with everything said: (method, path, body, raw=, headers=) -> (status, answer).
Send = Callable[..., tuple[int, Any]]


def customer_tags(wire: Body) -> list[str]:
    """The tags of a wire object that carries them as the client's WFTags."""
    return list(wire["tags"]["customerTags"])


def with_customer_tags(body: Body, tags: list[str]) -> Body:
    """A body naming tags as the client's WFTags."""
    return {**body, "tags": {"customerTags": tags}}


def tag_map(wire: Body) -> list[str]:
    """The tags of a wire object that carries them as {tag: true} (the client's Source)."""
    return sorted(t for t, on in wire["tags"].items() if on)


def plain_tags(wire: Body) -> list[str]:
    """The tags of a wire object that carries them as a plain list (the client's Event)."""
    return list(wire["tags"])


@dataclass(frozen=True)
class Sample:
    """A kind's valid body and its create / update routes ("{base}" and "{id}" are filled in),
    and how its bodies and answers carry tags when not as WFTags."""

    body: Callable[[str], Body]  # a valid body; the argument makes its names (and client ids) unique
    create: str = "{base}"  # POST; the shared route unless the kind has its own
    update: str = "{base}/{id}"  # PUT
    tags_of: Callable[[Body], list[str]] = customer_tags  # the tags of a wire object
    tagged: Callable[[Body, list[str]], Body] = with_customer_tags  # a body naming these tags
    # Where a free-text name is in a body and an answer when the kind's name_key holds none
    # (a saved search's entityType is an enum: its name is one of its search terms).
    name: tuple[str, ...] = ()
    # The body made ready for the tenant of the user it is for, when it names something the
    # tenant must own first (a cloud integration's external id, issued by the API).
    prepare: Callable[[Body, Call], Body] | None = None
    # How an entity is created when not by a POST of its body to `create` (a proxy registers
    # by checking in): given a call, the body (or a raw body), it answers as a create would.
    create_call: Callable[[Send, Body | None, bytes | None], tuple[int, Any]] | None = None
    # Whether the wire's `version` is the record's write count, with 409 on a stale one
    # (a proxy's version is its build, and its updates are last-writer-wins).
    revision: bool = True


SAMPLES: dict[str, Sample] = {
    "alert": Sample(body=lambda n: {"name": f"contract {n}", "condition": "ts(cpu.load) > 2", "minutes": 5}),
    # A window far ahead: its runningState (PENDING) does not move while a test runs.
    "maintenancewindow": Sample(
        body=lambda n: {
            "title": f"contract {n}",
            "reason": "contract suite",
            "startTimeInSeconds": 4_000_000_000,
            "endTimeInSeconds": 4_000_003_600,
            "relevantCustomerTags": ["contract"],
        }
    ),
    "notificant": Sample(
        body=lambda n: {
            "title": f"contract {n}",
            "description": "contract suite",
            "method": "WEBHOOK",
            "recipient": "https://hooks.example.com/contract",
            "template": "{{name}} is {{reason}}",
            "triggers": ["ALERT_OPENED"],
        }
    ),
    # Dashboards are created and updated by their own routes (client-chosen id), at the same paths.
    "dashboard": Sample(
        body=lambda n: {
            "id": f"contract-{n}",
            "name": f"Contract {n}",
            "sections": [{"name": "Overview", "rows": [{"charts": []}]}],
        }
    ),
    # Sources are named by the client (id == sourceName) and carry tags as {tag: true}; the
    # shared contract edits their description (Kind.name_key). Listing is by cursor, not offset.
    "source": Sample(
        body=lambda n: {"id": f"host-{n}", "sourceName": f"host-{n}", "description": f"contract {n}"},
        tags_of=tag_map,
        tagged=lambda body, tags: {**body, "tags": dict.fromkeys(tags, True)},
    ),
    # An ongoing event (no endTime) that started at a fixed time in the past; created by the
    # event's own route (ids <startTime>:<name>) at the shared path. Tags are a plain list.
    "event": Sample(
        body=lambda n: {
            "name": f"contract {n}",
            "startTime": 1_700_000_000_000,
            "annotations": {"severity": "info", "type": "deploy", "details": f"contract {n}"},
        },
        tags_of=plain_tags,
        tagged=lambda body, tags: {**body, "tags": tags},
    ),
    # Create and update are the kind's own routes (the secret is generated and kept), at the
    # shared paths; tags are a plain list, as for events.
    "inboundwebhook": Sample(
        body=lambda n: {
            "name": f"contract {n}",
            "kind": "github",
            "secret": "contract-secret-0123",
            "events": ["push"],
        },
        tags_of=plain_tags,
        tagged=lambda body, tags: {**body, "tags": tags},
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
    # Its external id is issued to the tenant first (prepare): a body naming another
    # tenant's external id is refused.
    "cloudintegration": Sample(
        body=lambda n: {
            "name": f"contract {n}",
            "service": "CLOUDWATCH",
            "cloudWatch": {
                "baseCredentials": {"roleArn": "arn:aws:iam::123456789012:role/contract", "externalId": "unissued"},
                "namespaces": ["AWS/EC2"],
            },
        },
        prepare=lambda body, call: with_external_id(body, call),
    ),
    # Proxies register by checking in (id = the proxy's UUID); their version is their build.
    "proxy": Sample(
        body=lambda n: {"id": str(uuid.uuid5(uuid.NAMESPACE_URL, n)), "name": f"contract {n}"},
        create="/api/v2/wfproxy/checkin",
        create_call=lambda send, body, raw: proxy_check_in(send, body, raw),
        revision=False,
    ),
    "ingestionpolicy": Sample(
        body=lambda n: {"name": f"contract {n}", "scope": "SOURCE", "sources": [f"web-{n}"], "limitPPS": 1000}
    ),
}


def with_external_id(body: Body, call: Call) -> Body:
    """A cloud integration body naming an external id newly issued to the caller's tenant."""
    status, answer = call("POST", "/api/v2/cloudintegration/awsExternalId")
    assert status == 200, answer
    ready = json.loads(json.dumps(body))
    ready["cloudWatch"]["baseCredentials"]["externalId"] = answer["response"]
    return ready


def proxy_check_in(send: Send, body: Body | None, raw: bytes | None) -> tuple[int, Any]:
    """A proxy's check-in with the body as its metrics (named by the body's name, its UUID
    the body's id), answered as a create would be: the record it made."""
    ident = (body or {}).get("id") or str(uuid.uuid4())
    name = quote(str((body or {}).get("name", "contract")))
    path = f"/api/v2/wfproxy/checkin?hostname=contract-host&proxyname={name}"
    status, answer = send("POST", path, body, raw=raw, headers={"X-WF-PROXY-ID": ident})
    if status != 200:
        return status, answer
    return send("GET", f"/api/v2/proxy/{ident}")


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
