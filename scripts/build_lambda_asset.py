"""Build the Lambda code asset (`make asset`): runtime dependencies for Lambda's platform,
app.py and chalicelib/, compiled. See infra/README.md.

    .venv/bin/python scripts/build_lambda_asset.py [--dir build/lambda] [--force]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "infra"))

from opsplane_infra import asset  # noqa: E402  (after the path it lives on)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dir", type=Path, default=asset.DEFAULT_DIR, help="where to build it (default: build/lambda)")
    parser.add_argument("--force", action="store_true", help="rebuild even when the directory is current")
    args = parser.parse_args()
    built = asset.build(args.dir, force=args.force)
    print(f"{built}: {asset.size(built) / 1e6:.1f} MB, python {asset.PYTHON_VERSION} {asset.PLATFORM}")


if __name__ == "__main__":
    main()
