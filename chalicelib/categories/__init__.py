"""The category registry: every REST category, its module and the tables it touches.

app.py registers them all for local runs and tests; deployed, each category runs as its
own Lambda function (OPSPLANE_CATEGORIES names the ones a function registers) and infra/
reads this same list, so a new category needs no infra edit.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from chalicelib.http.router import Router


@dataclass(frozen=True)
class Category:
    name: str
    module: str
    tables: tuple[str, ...] = ("entities",)
    memory_mb: int = 512


ENTITIES_TOKENS = ("entities", "tokens")

CATEGORIES: tuple[Category, ...] = (
    Category("health", "chalicelib.categories.health", ()),
    Category("docs", "chalicelib.http.docs", ()),
    Category("alert", "chalicelib.categories.alert"),
    Category("dashboard", "chalicelib.categories.dashboard"),
    Category("grafana", "chalicelib.compat.grafana"),
    Category("search", "chalicelib.categories.search"),
    Category("account", "chalicelib.categories.account", ENTITIES_TOKENS),
    Category("usergroup", "chalicelib.categories.usergroup"),
    Category("role", "chalicelib.categories.role"),
    Category("apitoken", "chalicelib.categories.apitoken", ENTITIES_TOKENS),
    Category("wazo", "chalicelib.compat.wazo", ENTITIES_TOKENS),
    Category("oauth", "chalicelib.compat.oauth", ENTITIES_TOKENS),
)


def selected(names: tuple[str, ...] = ()) -> list[Category]:
    """The categories a function serves (all when names is empty)."""
    if not names:
        return list(CATEGORIES)
    unknown = set(names) - {c.name for c in CATEGORIES}
    if unknown:
        raise ValueError(f"Unknown categories: {sorted(unknown)}")
    return [c for c in CATEGORIES if c.name in names]


def routers(names: tuple[str, ...] = ()) -> list[Router]:
    """The routers of the selected categories (modules imported on demand)."""
    found = []
    for category in selected(names):
        try:
            module = importlib.import_module(category.module)
        except ModuleNotFoundError as exc:
            if exc.name == category.module:
                continue  # not built yet
            raise
        found.append(module.router)
    return found
