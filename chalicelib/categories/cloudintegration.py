"""Cloud integrations (Wavefront /api/v2/cloudintegration): AWS CloudWatch, CloudTrail and
EC2 configurations, each naming an IAM role opsplane is to assume and the external id the
role's trust policy demands. The shared CRUD routes as the client has them (list, create,
get, update, trash / undelete / permanent delete, search with /deleted), enable / disable,
and the tenant's external ids (/cloudintegration/awsExternalId).

External ids guard against the confused deputy: opsplane issues them (random), each to
one tenant, and an integration may only name an external id issued to its own tenant and
not deleted, so one tenant cannot have opsplane assume a role set up for another. Every
id ever issued keeps its record (a delete retires it), so none is ever issued twice.

CloudWatch integrations are pulled (chalicelib/workers/cloudwatch.py): every write of an
integration keeps its row in the registry of what is pulled (store/cloudpulls.py) in the
same transaction (enabled and live: listed; disabled, trashed or deleted: not), and the
pull records how it went on the integration (PULL: lastProcessingTimestamp,
lastReceivedDataPointMs, lastMetricCount, lastError...). CloudTrail and EC2 integrations
are stored and not pulled: their pull fields stay absent rather than invented.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import (
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    StringConstraints,
    field_validator,
    model_validator,
)

from chalicelib.categories import crud
from chalicelib.categories.crud_views import EntityFields, not_blank
from chalicelib.domain import entities, templates
from chalicelib.domain.context import Context
from chalicelib.domain.entities import Kind
from chalicelib.domain.searching import Fields
from chalicelib.errors import Conflict, Invalid, NotFound
from chalicelib.http.request import Request
from chalicelib.http.router import Category, Router
from chalicelib.store import cloudpulls
from chalicelib.store.repository import Entity, Repository, Writes
from chalicelib.wire import Model

router = Router("cloudintegration")

BASE = "/api/v2/cloudintegration"
EXTERNAL_IDS = f"{BASE}/awsExternalId"
# The client has no history, tags, clone or entity ACL routes for cloud integrations.
FEATURES = frozenset({"list", "create", "get", "update", "delete", "trash", "undelete", "search"})

MAX_NAME = 256
MAX_TEXT = 2048  # selection expressions, CloudTrail filter rules and prefixes
MAX_LIST = 100  # namespaces, host name tags
MAX_TAGS = 50  # additional tags, selection tags
MAX_TAG_TEXT = 256
MAX_REFRESH_MINUTES = 24 * 60

# IAM role ARNs (partitions aws, aws-cn, aws-us-gov): a 12-digit account, an optional
# path of segments, and a role name of at most 64 characters of IAM's set.
ROLE_ARN = re.compile(r"arn:aws(?:-cn|-us-gov)?:iam::\d{12}:role/(?:[\x21-\x2e\x30-\x7e]+/){0,32}[\w+=,.@-]{1,64}\Z")
MAX_ARN = 2048
# What opsplane issues: 128 random bits, hex. Anything else was never issued.
EXTERNAL_ID = re.compile(r"[0-9a-f]{32}\Z")
EXTERNAL_ID_KIND = "awsexternalid"
ID_ATTEMPTS = 3
# S3 bucket names and AWS regions (us-east-1, us-gov-west-1, cn-north-1, ap-southeast-2).
BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\Z")
REGION = re.compile(r"[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}\Z")

Service = Literal["CLOUDWATCH", "CLOUDTRAIL", "EC2"]
# The body field holding each service's configuration.
CONFIG_OF: dict[str, str] = {"CLOUDWATCH": "cloudWatch", "CLOUDTRAIL": "cloudTrail", "EC2": "ec2"}

Text = Annotated[StrictStr, StringConstraints(max_length=MAX_TEXT)]
Regex = Annotated[StrictStr, StringConstraints(max_length=templates.MAX_REGEX_CHARS)]
TagText = Annotated[StrictStr, StringConstraints(min_length=1, max_length=MAX_TAG_TEXT)]


# ---- body and answers --------------------------------------------------------------------


class _Part(Model):
    model_config = ConfigDict(extra="ignore")


class AWSBaseCredentials(_Part):
    """The client's AWSBaseCredentials: the role to assume and the external id it demands."""

    roleArn: StrictStr = Field(max_length=MAX_ARN, description="arn:aws:iam::<account>:role/<name>")
    externalId: StrictStr = Field(max_length=64, description="One issued by POST /cloudintegration/awsExternalId")

    @field_validator("roleArn")
    @classmethod
    def _role_arn(cls, value: str) -> str:
        if not ROLE_ARN.match(value):
            raise ValueError("must be an IAM role ARN: arn:aws:iam::<12-digit account id>:role/<role name>")
        return value


def _regexes(config: Model, *fields: str) -> None:
    """400 naming the field for a filter that is not a regular expression."""
    for field in fields:
        pattern = getattr(config, field)
        if pattern is not None:
            templates.check_regex(pattern, field=field)


class CloudWatchConfiguration(_Part):
    """The client's CloudWatchConfiguration."""

    baseCredentials: AWSBaseCredentials
    namespaces: list[Annotated[StrictStr, StringConstraints(min_length=1, max_length=MAX_TAG_TEXT)]] | None = Field(
        default=None, max_length=MAX_LIST
    )
    metricFilterRegex: Regex | None = None
    pointTagFilterRegex: Regex | None = None
    s3BucketNameFilterRegex: Regex | None = None
    instanceSelectionTags: dict[TagText, TagText] | None = Field(default=None, max_length=MAX_TAGS)
    instanceSelectionTagsExpr: Text | None = None
    volumeSelectionTags: dict[TagText, TagText] | None = Field(default=None, max_length=MAX_TAGS)
    volumeSelectionTagsExpr: Text | None = None
    threadDistributionInMins: StrictInt | None = Field(default=None, ge=1, le=60)

    @model_validator(mode="after")
    def _checked(self) -> CloudWatchConfiguration:
        _regexes(self, "metricFilterRegex", "pointTagFilterRegex", "s3BucketNameFilterRegex")
        return self


class CloudTrailConfiguration(_Part):
    """The client's CloudTrailConfiguration."""

    baseCredentials: AWSBaseCredentials
    bucketName: StrictStr = Field(max_length=63, description="The S3 bucket CloudTrail writes to")
    region: StrictStr = Field(max_length=32, description="The bucket's AWS region, e.g. us-east-1")
    prefix: Text | None = None
    filterRule: Text | None = None

    @field_validator("bucketName")
    @classmethod
    def _bucket(cls, value: str) -> str:
        if not BUCKET.match(value) or ".." in value:
            raise ValueError("must be an S3 bucket name: 3 to 63 lower-case letters, digits, '.' and '-'")
        return value

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        if not REGION.match(value):
            raise ValueError("must be an AWS region, e.g. us-east-1")
        return value


class EC2Configuration(_Part):
    """The client's EC2Configuration."""

    baseCredentials: AWSBaseCredentials
    hostNameTags: list[TagText] | None = Field(default=None, max_length=MAX_LIST)
    metricFilterRegex: Regex | None = None
    pointTagFilterRegex: Regex | None = None
    instanceSelectionTagsExpr: Text | None = None
    volumeSelectionTagsExpr: Text | None = None

    @model_validator(mode="after")
    def _checked(self) -> EC2Configuration:
        _regexes(self, "metricFilterRegex", "pointTagFilterRegex")
        return self


class CloudIntegrationBody(_Part):
    """The writable part of the client's CloudIntegration for the AWS services; other
    fields are ignored. The configuration of the body's service is required."""

    name: StrictStr = Field(min_length=1, max_length=MAX_NAME)
    service: Service
    cloudWatch: CloudWatchConfiguration | None = None
    cloudTrail: CloudTrailConfiguration | None = None
    ec2: EC2Configuration | None = None
    additionalTags: dict[TagText, TagText] | None = Field(
        default=None, max_length=MAX_TAGS, description="Point tags added to everything pulled"
    )
    serviceRefreshRateInMins: StrictInt | None = Field(default=None, ge=1, le=MAX_REFRESH_MINUTES)
    forceSave: StrictBool | None = Field(default=None, description="Accepted; nothing checks the role with AWS yet")
    reuseExternalIdCredential: StrictStr | None = Field(default=None, description="Not supported: send baseCredentials")
    version: StrictInt | None = Field(default=None, ge=1)  # the version the writer last read

    _named = field_validator("name")(not_blank)

    @model_validator(mode="after")
    def _one_configuration(self) -> CloudIntegrationBody:
        if self.reuseExternalIdCredential is not None:
            raise Invalid("reuseExternalIdCredential is not supported: send the service's baseCredentials")
        wanted = CONFIG_OF[self.service]
        if getattr(self, wanted) is None:
            raise Invalid(f"{wanted} is required for service {self.service}")
        others = [f for f in CONFIG_OF.values() if f != wanted and getattr(self, f) is not None]
        if others:
            raise Invalid(f"{others[0]} does not belong to service {self.service} (send {wanted} only)")
        return self

    def credentials(self) -> tuple[str, AWSBaseCredentials]:
        """(field path, credentials) of the service's configuration."""
        field = CONFIG_OF[self.service]
        return f"{field}.baseCredentials", getattr(self, field).baseCredentials


class PullErrorEvent(Model):
    """A failed pull as the client's Event (the fields a pull failure fills)."""

    name: str
    startTime: int
    endTime: int
    annotations: dict[str, str] = Field(description="severity, type, details (the error)")
    creatorType: list[Literal["USER", "ALERT", "SYSTEM"]] | None = None
    isUserEvent: bool | None = None
    runningState: Literal["ONGOING", "PENDING", "ENDED"] | None = None


class CloudIntegration(CloudIntegrationBody, EntityFields):
    """The client's CloudIntegration as answered: the stored body, bookkeeping, whether it
    is disabled, and how its last pull went (absent until a pull has run: CloudWatch only)."""

    version: int
    disabled: bool
    lastProcessingTimestamp: int | None = Field(default=None, description="When the last pull ran (epoch ms)")
    lastReceivedDataPointMs: int | None = Field(default=None, description="Newest point pulled so far (epoch ms)")
    lastMetricCount: int | None = Field(default=None, description="Metrics the last pull read")
    lastProcessorId: str | None = Field(default=None, description="What ran the last pull")
    lastError: str | None = Field(default=None, description="Why the last pull failed (absent after a success)")
    lastErrorMs: int | None = Field(default=None, description="When the last pull failed (epoch ms)")
    lastErrorEvent: PullErrorEvent | None = Field(default=None, description="The last failure as an event")


# ---- external ids ---------------------------------------------------------------------------


def _external_ids(ctx: Context) -> Repository:
    # Never purged: a retired id keeps its record, so create() of it again is a Conflict.
    return ctx.repo(EXTERNAL_ID_KIND)


def draw_external_id() -> str:
    """128 random bits, hex."""
    return secrets.token_hex(16)


def issue_external_id(ctx: Context, draw: Callable[[], str] = draw_external_id) -> str:
    """A new external id for the tenant: random, and never issued before."""
    for attempt in range(ID_ATTEMPTS):
        candidate = draw()
        try:
            _external_ids(ctx).create(candidate, {}, by=ctx.actor)
            return candidate
        except Conflict:  # drawn before (2**-128 odds): draw again
            if attempt == ID_ATTEMPTS - 1:
                raise
    raise Conflict("Could not issue an external id")


def live_external_id(ctx: Context, external_id: str) -> str:
    """An external id issued to the tenant and not deleted; 404 otherwise."""
    if not EXTERNAL_ID.match(external_id):
        raise NotFound(f"External id {external_id} not found")
    try:
        _external_ids(ctx).get(external_id)
    except NotFound:
        raise NotFound(f"External id {external_id} not found") from None
    return external_id


def retire_external_id(ctx: Context, external_id: str) -> str:
    """Delete an external id: it is refused on save from now on and never issued again.
    Integrations that name it keep it until they are next saved."""
    live_external_id(ctx, external_id)
    _external_ids(ctx).soft_delete(external_id, by=ctx.actor)
    return external_id


def check_credentials(ctx: Context, body: CloudIntegrationBody) -> None:
    """Kind.check: the body's external id is one issued to this tenant and not deleted."""
    field, credentials = body.credentials()
    try:
        live_external_id(ctx, credentials.externalId)
    except NotFound:
        raise Invalid(
            f"{field}.externalId: {credentials.externalId!r} is not an external id of this tenant "
            f"(create one with POST {EXTERNAL_IDS})"
        ) from None


# ---- entity -> wire ------------------------------------------------------------------------

DISABLED = "_disabled"
# How the last pull went (the client's last* fields), written by the pull only.
PULL = "_pull"
PULL_FIELDS = (
    "lastProcessingTimestamp",
    "lastReceivedDataPointMs",
    "lastMetricCount",
    "lastProcessorId",
    "lastError",
    "lastErrorMs",
    "lastErrorEvent",
)
# The services a schedule pulls (store/cloudpulls.py lists their enabled integrations).
PULLED: frozenset[str] = frozenset({"CLOUDWATCH"})


def to_doc(body: CloudIntegrationBody) -> tuple[dict[str, Any], list[str] | None]:
    """Body -> stored document (forceSave is a request, not a property; no tags)."""
    return body.model_dump(exclude_none=True, exclude={"version", "forceSave"}), None


def to_wire(entity: Entity) -> dict[str, Any]:
    """The client's CloudIntegration: the stored body, bookkeeping, disabled."""
    doc = {k: v for k, v in entity.doc.items() if not k.startswith("_")}
    out: dict[str, Any] = {**doc, **entities.standard_fields(entity)}
    out["disabled"] = bool(entity.doc.get(DISABLED, False))
    pull = entity.doc.get(PULL) or {}
    out.update({k: pull[k] for k in PULL_FIELDS if pull.get(k) is not None})
    return out


def pulled(doc: dict[str, Any] | None) -> bool:
    """Whether a schedule pulls the integration: live, enabled, of a pulled service."""
    return doc is not None and not doc.get(DISABLED) and doc.get("service") in PULLED


def follow_pulls(ctx: Context, integration_id: str, doc: dict[str, Any] | None) -> Writes:
    """Kind.follow: the integration's row in the registry of pulls, in step with it."""
    return cloudpulls.follow(ctx.tenant, integration_id, enlisted=pulled(doc), now=ctx.now())


SEARCH_FIELDS = Fields.of(
    *entities.STANDARD_KEYS,
    "name",
    "service",
    "disabled",
    "serviceRefreshRateInMins",
    facets=("name", "service", "disabled", "creatorId", "updaterId"),
    freetext=("name", "service", "id"),
    default_sort="name",
)

CLOUD_INTEGRATION = Kind(
    name="cloudintegration",
    label="Cloud integration",
    schema=CloudIntegrationBody,
    to_doc=to_doc,
    to_wire=to_wire,
    wire=CloudIntegration,
    history=False,
    entity_acl=False,
    search=SEARCH_FIELDS,
    change_labels={DISABLED: "Enabled or disabled"},
    check=check_credentials,
    follow=follow_pulls,
)

crud.declare(router, CLOUD_INTEGRATION, BASE, features=FEATURES)


def set_disabled(ctx: Context, integration_id: str, disabled: bool) -> Entity:
    """Enable or disable an integration (a disabled one is kept but not to be pulled)."""

    def edit(e: Entity) -> None:
        if disabled:
            e.doc[DISABLED] = True
        else:
            e.doc.pop(DISABLED, None)

    return entities.change(ctx, CLOUD_INTEGRATION, integration_id, edit)


# ---- routes particular to cloud integrations ---------------------------------------------------


def _answer(req: Request, entity: Entity) -> dict[str, Any]:
    return entities.wire(req.ctx, CLOUD_INTEGRATION, entity)


@router.post(f"{BASE}/{{id}}/enable", acl="cloudintegration.{id}.update", response=CloudIntegration)
def enable_integration(req: Request) -> dict[str, Any]:
    """Enable a cloud integration."""
    return _answer(req, set_disabled(req.ctx, req.params["id"], False))


@router.post(f"{BASE}/{{id}}/disable", acl="cloudintegration.{id}.update", response=CloudIntegration)
def disable_integration(req: Request) -> dict[str, Any]:
    """Disable a cloud integration (kept, not pulled)."""
    return _answer(req, set_disabled(req.ctx, req.params["id"], True))


EXTERNAL_ID_ANSWER = {"type": "string", "description": "The external id"}


@router.post(EXTERNAL_IDS, acl="cloudintegration.externalid.create", response=EXTERNAL_ID_ANSWER)
def create_external_id(req: Request) -> str:
    """Issue a new external id to the tenant (for a role's trust policy)."""
    return issue_external_id(req.ctx)


@router.get(f"{EXTERNAL_IDS}/{{id}}", acl="cloudintegration.externalid.read", response=EXTERNAL_ID_ANSWER)
def get_external_id(req: Request) -> str:
    """An external id of the tenant (404 when not issued to it, or deleted)."""
    return live_external_id(req.ctx, req.params["id"])


@router.delete(f"{EXTERNAL_IDS}/{{id}}", acl="cloudintegration.externalid.delete", response=EXTERNAL_ID_ANSWER)
def delete_external_id(req: Request) -> str:
    """Delete an external id: refused on save from now on, never issued again."""
    return retire_external_id(req.ctx, req.params["id"])


CATEGORY = Category(router, permission="agent_management")
