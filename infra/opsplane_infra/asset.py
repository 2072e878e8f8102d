"""The Lambda code asset: app.py, chalicelib/ and every runtime dependency, built for the
platform the functions run on.

`build()` pip-installs requirements.txt (runtime dependencies only: no dev, test or CDK
package) as wheels for Lambda's platform, copies app.py and chalicelib/, saves the query
parser's tables and compiles everything to bytecode. The result is cached: a directory
whose fingerprint (requirements.txt, the builder and the application sources) matches is
reused as it is. No AWS and no CDK here: scripts/build_lambda_asset.py runs it alone.
"""

from __future__ import annotations

import compileall
import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DIR = REPO_ROOT / "build" / "lambda"

# What the functions run on (stack.py declares the same; tests/infra checks they agree).
PYTHON_VERSION = "3.11"
ARCHITECTURE = "x86_64"
PLATFORM = "manylinux2014_x86_64"

# Installed without their own dependencies: chalice's serve its CLI and deployer (pip,
# setuptools, click, jinja2, inquirer, ...); what app.py imports (chalice.app) is stdlib only.
WITHOUT_DEPENDENCIES = ("chalice",)
SOURCES = ("app.py", "chalicelib")
FINGERPRINT = ".opsplane-asset"
# Never part of the package: caches, entry-point scripts of the installed wheels.
PRUNE = ("bin", "__pycache__")


def _source_files(root: Path) -> Iterator[Path]:
    for name in SOURCES:
        path = root / name
        if path.is_file():
            yield path
        else:
            # Code and the data files shipped with it (the integration catalog).
            found = (p for p in path.rglob("*") if p.suffix in (".py", ".json") and "__pycache__" not in p.parts)
            yield from sorted(found)


def fingerprint(root: Path = REPO_ROOT) -> str:
    """What the asset is built from: requirements.txt, this builder, the sources, the target."""
    digest = hashlib.sha256(f"{PLATFORM} cp{PYTHON_VERSION}\0".encode())
    for path in [root / "requirements.txt", Path(__file__), *_source_files(root)]:
        digest.update(str(path.relative_to(root) if path.is_relative_to(root) else path.name).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def requirements(root: Path = REPO_ROOT) -> tuple[list[str], list[str]]:
    """The pinned runtime requirements: (installed with dependencies, installed without)."""
    plain, alone = [], []
    for line in (root / "requirements.txt").read_text().splitlines():
        spec = line.split("#", 1)[0].strip()
        if not spec:
            continue
        name = spec.split("==", 1)[0].split("[", 1)[0].strip().lower()
        (alone if name in WITHOUT_DEPENDENCIES else plain).append(spec)
    return plain, alone


def _pip(target: Path, specs: list[str], *, dependencies: bool) -> None:
    if not specs:
        return
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-input",
        "--platform",
        PLATFORM,
        "--implementation",
        "cp",
        "--python-version",
        PYTHON_VERSION,
        "--only-binary=:all:",
        "--upgrade",
        "--target",
        str(target),
    ]
    if not dependencies:
        command.append("--no-deps")
    done = subprocess.run([*command, *specs], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"pip could not install {' '.join(specs)} for {PLATFORM}:\n{done.stderr[-4000:]}")


def _save_parser_tables(target: Path) -> None:
    """The query parser's LALR tables, so a cold start loads them instead of building them."""
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    from chalicelib.query import lalr

    lalr.save(target / "chalicelib" / "query" / lalr.CACHE.name)


def _assemble(target: Path, root: Path) -> None:
    plain, alone = requirements(root)
    _pip(target, plain, dependencies=True)
    _pip(target, alone, dependencies=False)
    for name in PRUNE:
        for found in list(target.rglob(name)) if name == "__pycache__" else [target / name]:
            shutil.rmtree(found, ignore_errors=True)
    for path in target.glob("*.pth"):  # site hooks: Lambda never processes them
        path.unlink()
    shutil.copy2(root / "app.py", target / "app.py")
    shutil.copytree(root / "chalicelib", target / "chalicelib", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    _save_parser_tables(target)
    # Bytecode that is used without checking the source's mtime (zip archives round it).
    import py_compile

    compiled = compileall.compile_dir(
        str(target),
        quiet=1,
        workers=1,
        invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
    )
    if not compiled:
        raise RuntimeError(f"compileall failed in {target}")


@contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """One builder at a time per directory (pytest workers build the same asset)."""
    directory.parent.mkdir(parents=True, exist_ok=True)
    with open(directory.parent / f".{directory.name}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def is_current(directory: Path, root: Path = REPO_ROOT) -> bool:
    """Was directory built from the present sources and requirements?"""
    marker = directory / FINGERPRINT
    return marker.is_file() and marker.read_text().strip() == fingerprint(root)


def build(directory: Path = DEFAULT_DIR, *, root: Path = REPO_ROOT, force: bool = False) -> Path:
    """The asset directory, built unless already current; returns it."""
    directory = Path(directory).resolve()
    with _locked(directory):
        if not force and is_current(directory, root):
            return directory
        staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}-", dir=directory.parent))
        try:
            _assemble(staging, root)
            (staging / FINGERPRINT).write_text(fingerprint(root) + "\n")
            if directory.exists():
                shutil.rmtree(directory)
            os.replace(staging, directory)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return directory


def size(directory: Path) -> int:
    """Bytes of every file under directory."""
    return sum(p.stat().st_size for p in directory.rglob("*") if p.is_file())
