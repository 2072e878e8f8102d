"""Prepare an AWS account for `chalice deploy --stage <stage>`: the tables, the signing-key
secret and the first admin. Production uses infra/ (CDK) instead.

    AWS_PROFILE=... AWS_REGION=eu-west-1 .venv/bin/python scripts/provision.py --stage sandbox

Idempotent: what exists is kept (an existing secret is never replaced, so sessions survive).
The admin password is printed once, when the admin is created.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from scripts.run_local import stage_environment  # noqa: E402


def ensure_secret(client: Any, name: str) -> bool:
    """Create the key ring secret if missing. Returns True when created."""
    from chalicelib.auth.keys import KeyRing, new_key

    try:
        client.describe_secret(SecretId=name)
        return False
    except client.exceptions.ResourceNotFoundException:
        pass
    ring = KeyRing(keys=[new_key()], cursor_secret=os.urandom(32))
    client.create_secret(
        Name=name, SecretString=ring.to_json(), Description="opsplane signing keys (ES256) and cursor secret"
    )
    return True


def provision(stage: str, admin_password: str | None) -> dict[str, Any]:
    """Tables, secret and admin for the stage; returns what was done."""
    import boto3

    from chalicelib.auth.keys import forget_cached_keys
    from chalicelib.identity.bootstrap import bootstrap
    from chalicelib.settings import get_settings, reset_settings
    from chalicelib.store import models

    os.environ.update(stage_environment(stage))
    reset_settings()
    forget_cached_keys()
    settings = get_settings()
    if not settings.signing_keys_secret:
        raise SystemExit(f"stage {stage} names no OPSPLANE_SIGNING_KEYS_SECRET in .chalice/config.json")
    models.bind(settings)
    models.create_tables()
    created_secret = ensure_secret(
        boto3.client("secretsmanager", region_name=settings.region), settings.signing_keys_secret
    )
    installation = bootstrap(admin_password)
    return {
        "tables": [settings.entities_table, settings.tokens_table, settings.usage_table],
        "secret": settings.signing_keys_secret,
        "secret_created": created_secret,
        "root_tenant": installation.root_tenant,
        "admin_password": installation.admin_password,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description="Prepare an AWS account for chalice deploy")
    parser.add_argument("--stage", default="sandbox", help="a stage of .chalice/config.json (default: sandbox)")
    parser.add_argument("--admin-password", default=os.environ.get("OPSPLANE_ADMIN_PASSWORD"))
    args = parser.parse_args()
    done = provision(args.stage, args.admin_password)
    print(f"tables:      {', '.join(done['tables'])}")
    print(f"secret:      {done['secret']} ({'created' if done['secret_created'] else 'kept'})")
    print(f"root tenant: {done['root_tenant']}")
    if done["admin_password"]:
        print(f"admin:       password {done['admin_password']}  (shown only this once)")
    else:
        print("admin:       already there (password unchanged)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
