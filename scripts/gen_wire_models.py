"""Write chalicelib/wire/wavefront.py: pydantic v2 models of the pinned wavefront-api-client's
models, from the client's own metadata.

Each client model class carries `swagger_types` (attribute -> type string: 'str', 'int',
'list[str]', 'dict(str, int)', 'WFTags', 'datetime', ...) and `attribute_map` (attribute ->
wire name); a setter that checks `allowed_values = [...]` gives the field's enum (read with
`ast` from the setter's source). Every field is optional (None), named by its wire name, and
strict (the wire says str: a number is refused). Models refer to each other by name.

Not all ~300 of them: ROOTS (what the categories serve now and the next ones will) and every
model they refer to, ~45 classes. All of them in one module cost ~80 ms of import (class
creation alone, even with `defer_build`), paid at every cold start; the subset costs ~10 ms.
Add a root when a category needs one and run `make wire`. Classes are created with
`defer_build=True`: a model's validator is built the first time it is used.

Usage: python scripts/gen_wire_models.py [OUTPUT]   (make wire)
"""

from __future__ import annotations

import ast
import importlib.metadata
import inspect
import json
import keyword
import pathlib
import re
import subprocess
import sys
import textwrap
from typing import Any

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "chalicelib" / "wire" / "wavefront.py"
SCALARS = {
    "str": "pydantic.StrictStr",
    "int": "pydantic.StrictInt",
    "float": "pydantic.StrictFloat",
    "bool": "pydantic.StrictBool",
    "datetime": "datetime.datetime",
    "date": "datetime.date",
    "object": "typing.Any",
}
# Names the generated module itself uses (the client has a model named Field, so modules
# are imported whole): a model or field named so would shadow them.
ROOTS = (
    # served now
    "Alert",
    "Dashboard",
    "PagedAlertWithStats",
    "QueryTypeDTO",
    "HistoryEntry",
    "AccessControlListReadDTO",
    "SortableSearchRequest",
    "FacetsSearchRequestContainer",
    "UserModel",
    "ServiceAccount",
    "UserGroupModel",
    "RoleDTO",
    "UserApiToken",
    # the next categories (ARCHITECTURE.md: events, maintenance windows, alert targets, ...)
    "Event",
    "MaintenanceWindow",
    "Notificant",
    "DerivedMetricDefinition",
    "IngestionPolicyReadModel",
    "IngestionPolicyWriteModel",
    "Source",
    "ExternalLink",
    "SavedSearch",
    "AccessPolicy",
    "Message",
    "Integration",
    "IntegrationStatus",
    "IntegrationManifestGroup",
    "InstallAlerts",
    "CloudIntegration",
    "Proxy",
    "MetricDetailsResponse",
    "QueryResult",
    "RawTimeseries",
)
RESERVED = {"datetime", "typing", "pydantic", "WireModel", "CLIENT_VERSION"}


def python_type(swagger: str, models: set[str], allowed: list[Any] | None) -> str:
    """A swagger type string as a pydantic annotation (allowed values as a Literal)."""
    swagger = swagger.strip()
    if swagger.startswith("list[") and swagger.endswith("]"):
        return f"list[{python_type(swagger[5:-1], models, allowed)}]"
    found = re.fullmatch(r"dict\(\s*(\w+)\s*,\s*(.+)\)", swagger)
    if found:
        key = (
            "typing.Literal[" + ", ".join(map(json.dumps, allowed)) + "]"
            if allowed
            else python_type(found[1], models, None)
        )
        return f"dict[{key}, {python_type(found[2], models, None)}]"
    if allowed:
        return "typing.Literal[" + ", ".join(map(json.dumps, allowed)) + "]"
    if swagger in SCALARS:
        return SCALARS[swagger]
    if swagger in models:
        return swagger
    raise SystemExit(f"unknown swagger type {swagger!r}")


def allowed_values(cls: type, attribute: str) -> list[Any] | None:
    """The `allowed_values` list the client's setter of attribute checks, if any."""
    prop = getattr(cls, attribute, None)
    if not isinstance(prop, property) or prop.fset is None:
        return None
    tree = ast.parse(textwrap.dedent(inspect.getsource(prop.fset)))
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "allowed_values" for t in node.targets
        ):
            return list(ast.literal_eval(node.value))
    return None


def client_models() -> dict[str, type]:
    """Every model class of wavefront_api_client.models, by name."""
    import wavefront_api_client.models as package

    return {
        name: cls
        for name, cls in sorted(vars(package).items())
        if inspect.isclass(cls) and isinstance(getattr(cls, "swagger_types", None), dict)
    }


def referenced(models: dict[str, type], roots: tuple[str, ...]) -> dict[str, type]:
    """roots and every model they refer to, transitively, in name order."""
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        if name not in models:
            raise SystemExit(f"the client has no model {name}")
        seen.add(name)
        for swagger in models[name].swagger_types.values():
            todo += [word for word in re.findall(r"\w+", swagger) if word in models]
    return {name: models[name] for name in sorted(seen)}


def render_model(name: str, cls: type, models: set[str]) -> list[str]:
    if name in RESERVED:
        raise SystemExit(f"model {name} shadows a name the generated module uses")
    lines = [f"class {name}(WireModel):", f'    """Wavefront\'s {name}."""', ""]
    if not cls.swagger_types:
        lines.append("    pass")
    for attribute, swagger in cls.swagger_types.items():
        wire = cls.attribute_map[attribute]
        kind = python_type(swagger, models, allowed_values(cls, attribute))
        if wire.isidentifier() and not keyword.iskeyword(wire) and wire not in RESERVED:
            lines.append(f"    {wire}: {kind} | None = None")
        else:
            safe = re.sub(r"\W", "_", wire) + "_"
            lines.append(f"    {safe}: {kind} | None = pydantic.Field(default=None, alias={wire!r})")
    return lines


def render(models: dict[str, type], version: str) -> str:
    """The generated module's source."""
    names = set(models)
    out = [
        f'"""Wavefront\'s wire models, from wavefront-api-client {version}. Generated by',
        "scripts/gen_wire_models.py (make wire): do not edit. Every field is optional; the",
        "categories subclass these and add their rules (required fields, bounds, open enums).",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        "import datetime",
        "import typing",
        "",
        "import pydantic",
        "",
        f'CLIENT_VERSION = "{version}"',
        "",
        "",
        "class WireModel(pydantic.BaseModel):",
        '    """A client model: unknown keys are kept; validators are built on first use."""',
        "",
        '    model_config = pydantic.ConfigDict(extra="allow", defer_build=True, populate_by_name=True)',
    ]
    for name, cls in models.items():
        out += ["", "", *render_model(name, cls, names)]
    if not any("datetime." in line for line in out):
        out.remove("import datetime")  # no model of the subset has a date
    return "\n".join(out) + "\n"


def main() -> int:
    source = render(referenced(client_models(), ROOTS), importlib.metadata.version("wavefront-api-client"))
    output = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else OUTPUT
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(source, encoding="utf-8")
    # The project's formatter, so the committed file and a fresh one compare byte for byte.
    subprocess.run(
        [sys.executable, "-m", "ruff", "format", "-q", "--config", str(ROOT / "pyproject.toml"), str(output)],
        check=True,
    )
    print(f"wrote {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
