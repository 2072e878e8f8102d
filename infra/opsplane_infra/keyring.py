"""Seed and rotate the signing-key secret of a deployed stage.

CloudFormation cannot generate an ES256 key, so the stack creates the secret with a random
placeholder value and this tool writes the real key ring once after the first deploy
(`seed`, idempotent), and later adds a new active key (`rotate`: earlier keys stay
published and accepted, nobody is logged out; functions pick it up on their next cold start).

    python -m opsplane_infra.keyring seed --secret opsplane/prod/signing-keys
    python -m opsplane_infra.keyring rotate --secret opsplane/prod/signing-keys
"""

from __future__ import annotations

import argparse
import secrets
from typing import Any

from chalicelib.auth.keys import KeyRing, new_key


def _current(client: Any, secret_id: str) -> KeyRing | None:
    """The key ring stored in the secret, or None while it holds the placeholder."""
    text = client.get_secret_value(SecretId=secret_id).get("SecretString") or ""
    try:
        return KeyRing.from_json(text)
    except (ValueError, KeyError, TypeError):
        return None


def seed(client: Any, secret_id: str) -> bool:
    """Write a fresh key ring unless the secret already holds one. True when written."""
    if _current(client, secret_id) is not None:
        return False
    ring = KeyRing(keys=[new_key()], cursor_secret=secrets.token_bytes(32))
    client.put_secret_value(SecretId=secret_id, SecretString=ring.to_json())
    return True


def rotate(client: Any, secret_id: str) -> str:
    """Add a new active key to the stored ring; returns its kid."""
    ring = _current(client, secret_id)
    if ring is None:
        raise SystemExit(f"{secret_id} holds no key ring yet: run `seed` first")
    key = new_key()
    rotated = KeyRing(keys=[*ring.keys, key], cursor_secret=ring.cursor_secret)
    client.put_secret_value(SecretId=secret_id, SecretString=rotated.to_json())
    return key.kid


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(prog="python -m opsplane_infra.keyring", description=__doc__.split("\n")[0])
    parser.add_argument("action", choices=("seed", "rotate"))
    parser.add_argument("--secret", required=True, help="secret name or ARN (stack output SigningKeysSecret)")
    parser.add_argument("--region", default=None)
    args = parser.parse_args(argv)

    import boto3

    client = boto3.client("secretsmanager", region_name=args.region)
    if args.action == "seed":
        print("seeded" if seed(client, args.secret) else "already seeded: unchanged")
    else:
        print(f"rotated: new active kid {rotate(client, args.secret)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
