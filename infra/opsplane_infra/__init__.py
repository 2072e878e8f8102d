"""opsplane's production infrastructure (AWS CDK): see infra/README.md.

The stack is read from the application itself (category registry, routers, models), so
the repository root must be importable wherever this package is used from.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.append(str(REPO_ROOT))
