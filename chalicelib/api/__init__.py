"""The API as a whole: its categories, found rather than listed.

A category is a module (or package) of chalicelib/categories, chalicelib/compat or
chalicelib/api that ends with `CATEGORY = Category(router, ...)` (chalicelib/http/router.py):
its routes, the tables it touches, its Wavefront permission. app.py registers them all for
local runs and tests; deployed, each category runs as its own Lambda function
(OPSPLANE_CATEGORIES names the ones a function registers, and only those modules are
imported), and infra/ reads this same list, so a new category is one new module: nothing
else is edited.
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
from functools import cache

from chalicelib.http.router import Category, Router

# Where categories live, in registry order (infra's light edge-only function is the first
# category that touches no table).
PACKAGES = ("chalicelib.categories", "chalicelib.compat", "chalicelib.api")


def _module_of(name: str) -> str | None:
    """The module that would declare category `name` (category name = module name)."""
    for package in PACKAGES:
        candidate = f"{package}.{name}"
        if importlib.util.find_spec(candidate) is not None:
            return candidate
    return None


def category(name: str) -> Category:
    """The declaration of one category (only its module is imported)."""
    module_name = _module_of(name)
    declared = getattr(importlib.import_module(module_name), "CATEGORY", None) if module_name else None
    if not isinstance(declared, Category) or declared.name != name:
        raise ValueError(f"Unknown category {name!r}")
    return declared


@cache
def every() -> tuple[Category, ...]:
    """Every category, in registry order (imports every module of the packages)."""
    found: list[Category] = []
    for package in PACKAGES:
        path = importlib.import_module(package).__path__
        for info in sorted(pkgutil.iter_modules(path), key=lambda i: i.name):
            declared = getattr(importlib.import_module(f"{package}.{info.name}"), "CATEGORY", None)
            if isinstance(declared, Category):
                if declared.name != info.name:
                    raise ValueError(
                        f"{package}.{info.name} declares category {declared.name!r}: name it after its module"
                    )
                found.append(declared)
    return tuple(found)


def selected(names: tuple[str, ...] = ()) -> list[Category]:
    """The categories a function serves (all when names is empty)."""
    if not names:
        return list(every())
    return [category(n) for n in dict.fromkeys(names)]


def routers(names: tuple[str, ...] = ()) -> list[Router]:
    """The routers of the selected categories."""
    return [c.router for c in selected(names)]


def load_router(name: str) -> Router:
    """The router of one category, its module imported now (the lazy edge's loader)."""
    return category(name).router
