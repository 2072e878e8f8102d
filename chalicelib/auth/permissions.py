"""Wavefront permission names <-> ACL patterns.

A Wavefront permission (`alerts_management`, `user_management`, ...) is a named set of
ACL patterns (Wazo matching rules, see acl.py). Granting a permission adds its patterns to
an ACL; revoking removes them; an ACL *holds* a permission when every one of its patterns
is covered by the ACL and no negation cuts into it (so `#` holds them all, and `user_management`'s `apitoken.#` also
holds `api_tokens` and `token_management`). docs/permissions.md documents the table.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, lru_cache

from chalicelib.auth.acl import may_grant
from chalicelib.errors import Invalid


@dataclass(frozen=True)
class Permission:
    """One Wavefront permission: its name, the UI title and what it grants."""

    name: str
    title: str
    patterns: tuple[str, ...]
    functions: tuple[str, ...] = ()  # Wavefront business functions it enables


_VIEW_FUNCTIONS = (
    "VIEW_MONITORED_APPLICATION_SERVICE",
    "VIEW_MONITORED_CLUSTER",
    "VIEW_MONITORED_CLUSTER_TAGS",
    "VIEW_DASHBOARDS",
    "VIEW_DASHBOARDS_TAGS",
    "VIEW_METRIC_TIMESERIES",
    "VIEW_HOSTS",
    "VIEW_HOST_TAGS",
    "VIEW_AGENT_TAGS",
    "VIEW_EVENTS",
    "VIEW_EVENT_TAGS",
    "VIEW_ALERTS",
    "VIEW_ALERT_TAGS",
    "VIEW_REGISTERED_QUERIES",
    "VIEW_REGISTERED_QUERY_TAGS",
    "VIEW_MAINTENANCE_WINDOWS",
    "VIEW_NOTIFICANTS",
    "VIEW_CUSTOM_METRICS",
    "VIEW_TARGETS",
    "VIEW_AGENTS",
    "VIEW_EXTERNAL_SERVICES",
    "VIEW_EXTERNAL_SERVICES_TAGS",
    "VIEW_EXTERNAL_LINKS",
    "VIEW_EXTERNAL_LINK_TAGS",
    "VIEW_SAVED_SEARCHES",
    "VIEW_APPLICATIONS",
    "VIEW_INGESTION_POLICY",
)

_ALL: tuple[Permission, ...] = (
    Permission(
        "agent_management",
        "Proxies",
        ("proxy.#", "cloudintegration.#"),
        ("MODIFY_AGENTS", "MODIFY_AGENT_TAGS", "MODIFY_EXTERNAL_SERVICES", "MODIFY_EXTERNAL_SERVICES_TAGS"),
    ),
    Permission(
        "alerts_management",
        "Alerts",
        ("alert.#", "maintenancewindow.#", "notificant.#", "webhook.#"),
        ("MODIFY_ALERTS", "MODIFY_ALERT_TAGS", "MODIFY_MAINTENANCE_WINDOWS", "MODIFY_NOTIFICANTS", "MODIFY_TARGETS"),
    ),
    Permission(
        "api_tokens",
        "API Tokens",
        ("apitoken.read", "apitoken.create", "apitoken.*.update", "apitoken.*.delete"),
        ("CREATE_TOKEN", "GET_TOKENS", "REVOKE_TOKEN"),
    ),
    Permission("application_management", "Applications", ("application.#",), ("MODIFY_APPLICATIONS",)),
    # Reading the tenant's audit log (not a Wavefront permission; `#` holds it: docs/audit.md).
    Permission("audit_log", "Audit Log", ("audit.#",)),
    Permission("batch_query_priority", "Batch Query Priority", ("query.batch",)),
    Permission("browse", "Browse", ("*.read", "*.*.read"), _VIEW_FUNCTIONS),
    Permission(
        "dashboard_management",
        "Dashboards",
        ("dashboard.#", "folder.#", "snapshot.#", "libraryelement.#", "datasource.#"),
        ("MODIFY_DASHBOARDS", "MODIFY_DASHBOARD_TAGS"),
    ),
    Permission(
        "derived_metrics_management",
        "Derived Metrics",
        ("derivedmetric.#",),
        ("MODIFY_REGISTERED_QUERIES", "MODIFY_REGISTERED_QUERY_TAGS"),
    ),
    Permission("embedded_charts", "Embedded Charts", ("embeddedchart.#",), ("CREATE_EMBEDDED_CHARTS",)),
    Permission("events_management", "Events", ("event.#", "inboundwebhook.#"), ("MODIFY_EVENTS", "MODIFY_EVENT_TAGS")),
    Permission(
        "external_links_management",
        "External Links",
        ("extlink.#",),
        ("MODIFY_EXTERNAL_LINKS", "MODIFY_EXTERNAL_LINK_TAGS"),
    ),
    Permission("host_tag_management", "Source Tag Management", ("source.#",), ("MODIFY_HOSTS", "MODIFY_HOST_TAGS")),
    Permission(
        "ingestion",
        "Direct Data Ingestion",
        ("ingestion.#", "report.#", "ingestionpolicy.#"),
        ("METRIC_INGESTION", "METRIC_INGESTION_LISTENER", "INGESTION_POLICY_MANAGEMENT"),
    ),
    Permission("log_management", "Logs", ("log.#",), ("VIEW_LOGS",)),
    # CloverDX's "Monitoring" section: its monitors are alerts (chalicelib/compat/clover).
    Permission("monitoring", "Monitoring", ("monitor.#",)),
    Permission(
        "metrics_management",
        "Metrics",
        ("metric.#", "metricspolicy.#"),
        ("MODIFY_METRIC_VISIBILITY", "METRICS_POLICY_MANAGEMENT", "MODIFY_CUSTOM_METRICS"),
    ),
    Permission(
        "monitored_application_service_management",
        "Integrations",
        ("integration.#", "monitoredapplication.#", "monitoredservice.#", "monitoredcluster.#"),
        ("MODIFY_MONITORED_APPLICATION_SERVICE", "MODIFY_MONITORED_CLUSTER", "MODIFY_MONITORED_CLUSTER_TAGS"),
    ),
    Permission(
        "saml_sso_management",
        "SAML IdP Admin",
        ("saml.#",),
        ("VIEW_SAML_SSO_SETTINGS", "MODIFY_SAML_SSO_SETTINGS"),
    ),
    Permission(
        "saved_searches",
        "Saved Searches",
        ("savedsearch.#",),
        ("MODIFY_SAVED_SEARCHES", "MODIFY_SAVED_TRACES_SEARCH"),
    ),
    Permission(
        "token_management",
        "Token Management",
        ("apitoken.#",),
        ("ADMINISTER_ALL_TOKENS", "REVOKE_ALL_TOKENS", "GET_TOKENS", "REVOKE_TOKEN"),
    ),
    Permission(
        "user_management",
        "Accounts",
        (
            "account.#",
            "usergroup.#",
            "role.#",
            "apitoken.#",
            "user.#",
            "group.#",
            "policy.#",
            "tenant.#",
            "accesspolicy.#",  # who may reach the tenant at all is account administration
            "session.#",
            "export.#",  # a tenant's whole configuration out and in: the tenant admin's
        ),
        (
            "GET_ALL_ACCOUNTS",
            "GET_ALL_USERS",
            "GET_ALL_SERVICE_ACCOUNTS",
            "ADMINISTER_GROUPS",
            "ADMINISTER_USER_GROUPS",
            "ADMINISTER_SERVICE_ACCOUNTS",
            "ADMINISTER_ALL_TOKENS",
            "DELETE_ACCOUNT",
            "INVITE_USER",
            "ROLES_MANAGEMENT",
        ),
    ),
)

PERMISSIONS: dict[str, Permission] = {p.name: p for p in _ALL}

# Other spellings Wavefront clients use for the same permission.
ALIASES = {"accounts": "user_management"}

# What every account may do whatever it holds; users also log in and out.
_BASE_FUNCTIONS = ("VIEW_MY_MESSAGES",)
_USER_FUNCTIONS = ("LOGIN", "LOGOUT", "CHANGE_PASSWORD", "CHANGE_USER_PREFERENCE", "MODIFY_OWN_ONBOARDING_STATE")


def names() -> list[str]:
    """Every canonical permission name, sorted."""
    return sorted(PERMISSIONS)


def canonical(name: str) -> str:
    """The canonical name of a permission (aliases resolved); unknown names are Invalid."""
    if not isinstance(name, str):
        raise Invalid("A permission name must be a string")
    key = name.strip().lower()
    key = ALIASES.get(key, key)
    if key not in PERMISSIONS:
        raise Invalid(f"Unknown permission {name!r}; known permissions: {', '.join(names())}")
    return key


def canonical_all(permission_names: Iterable[str]) -> list[str]:
    """Canonical names of a list (deduplicated, order kept); any unknown one is Invalid."""
    return list(dict.fromkeys(canonical(n) for n in permission_names))


def patterns(name: str) -> list[str]:
    """The ACL patterns a permission grants."""
    return list(PERMISSIONS[canonical(name)].patterns)


def patterns_of(permission_names: Iterable[str]) -> list[str]:
    """The ACL patterns of several permissions, deduplicated."""
    found: list[str] = []
    for name in permission_names:
        found.extend(patterns(name))
    return list(dict.fromkeys(found))


@lru_cache(maxsize=4096)
def overlap(a: str, b: str) -> bool:
    """Is there an access string both patterns match? (`*`: within a segment, `#`: anything)"""

    @cache
    def meet(i: int, j: int) -> bool:
        if i == len(a) and j == len(b):
            return True
        x = a[i] if i < len(a) else None
        y = b[j] if j < len(b) else None
        if x in ("*", "#") and meet(i + 1, j):  # a's wildcard stops here
            return True
        if y in ("*", "#") and meet(i, j + 1):  # b's wildcard stops here
            return True
        if y is not None and (x == "#" or (x == "*" and y not in (".", "#"))):
            return meet(i, j + 1)  # a's wildcard takes what b's next token yields
        if x is not None and (y == "#" or (y == "*" and x not in (".", "#"))):
            return meet(i + 1, j)
        return x is not None and x == y and x not in ("*", "#") and meet(i + 1, j + 1)

    return meet(0, 0)


def _fully_holds(entries: list[str], perm: Permission) -> bool:
    if may_grant(entries, perm.patterns):
        return False
    # A negation that bites into any of the patterns leaves the permission only partly held.
    negations = [e[1:] for e in entries if e.startswith("!")]
    return not any(overlap(n, p) for n in negations for p in perm.patterns)


def holds(acl: Iterable[str], name: str) -> bool:
    """Does the ACL cover every pattern of the permission, with no negation cutting into it?"""
    return _fully_holds(list(acl), PERMISSIONS[canonical(name)])


def held(acl: Iterable[str]) -> list[str]:
    """The permission names an ACL fully holds, sorted."""
    entries = list(acl)
    if not entries:
        return []
    return [name for name in names() if _fully_holds(entries, PERMISSIONS[name])]


def grant(acl: Iterable[str], permission_names: Iterable[str]) -> list[str]:
    """The ACL with the permissions' patterns added (idempotent)."""
    return list(dict.fromkeys([*acl, *patterns_of(permission_names)]))


def revoke(acl: Iterable[str], permission_names: Iterable[str]) -> list[str]:
    """The ACL without the permissions' patterns. A broader entry that still covers them
    (`#`, or `apitoken.#` for `api_tokens`) is kept: the permission then stays held.
    An ACL does not record which permission brought an entry, so a pattern two
    permissions share (`apitoken.#` of `user_management` and `token_management`) goes
    with either: revoking never leaves access behind that it was asked to take away."""
    removed = set(patterns_of(permission_names))
    return [entry for entry in acl if entry not in removed]


def replace(acl: Iterable[str], permission_names: Iterable[str]) -> list[str]:
    """The ACL whose permission patterns are exactly those of permission_names; entries
    that belong to no permission (custom Wazo ACL) are kept."""
    wanted = canonical_all(permission_names)
    return grant(revoke(acl, names()), wanted)


def business_functions(acl: Iterable[str], *, user: bool) -> list[str]:
    """The Wavefront business functions an ACL enables (sorted, no duplicates)."""
    found = set(_BASE_FUNCTIONS)
    if user:
        found.update(_USER_FUNCTIONS)
    for name in held(acl):
        found.update(PERMISSIONS[name].functions)
    return sorted(found)
