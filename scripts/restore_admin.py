"""Break-glass: give a tenant an administrator again, straight through the tables.

    AWS_PROFILE=... AWS_REGION=eu-west-1 .venv/bin/python scripts/restore_admin.py \\
        --stage prod --tenant <tenant uuid> [--account <uuid or username>]

The API refuses changes that leave a tenant without an administrator (an enabled account
holding user_management), but two concurrent changes, or writes that bypass the API, can
still do it. This grants the tenant's admin policy (`admin-<first 8 of the tenant uuid>`,
ACL `#`; recreated when deleted, reset to `#` when stripped) to the account (default: the
tenant's oldest enabled user), enabling the account if it was disabled, and prints what
it did. Without --stage it reads the environment as the service does (for `make run`,
run it with the same OPSPLANE_* / AWS endpoint variables).
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

BY = "restore_admin"


def admin_policy_id(tenant: str) -> str:
    """The id bootstrap gives a tenant's admin policy."""
    return "admin-" + tenant[:8]


def _admin_policy(tenant: str, done: list[str]) -> str:
    """The tenant's admin policy, made to hold `#` (created when absent); its id."""
    from chalicelib.errors import Conflict
    from chalicelib.identity import accounts, directory, policies

    policy_id = admin_policy_id(tenant)
    found = accounts.repo(tenant, accounts.POLICY).find(policy_id)
    if found is None:
        try:
            policies.create_policy(
                tenant,
                name="admin",
                slug=None,
                description="Everything (#)",
                acl=["#"],
                held=None,
                by=BY,
                policy_uuid=policy_id,
            )
        except Conflict:  # the id is still held by a trashed record
            policy_id = policies.create_policy(
                tenant, name="admin", slug=None, description="Everything (#)", acl=["#"], held=None, by=BY
            ).id
        done.append(f"created admin policy {policy_id} (acl #)")
    elif not directory.administers(found.doc.get("acl", [])):
        directory.edit_acl(tenant, accounts.POLICY, policy_id, lambda acl: ["#"], by=BY)
        done.append(f"reset the ACL of admin policy {policy_id} to # (was {found.doc.get('acl')})")
    else:
        done.append(f"admin policy {policy_id} already gives administration")
    return policy_id


def _account(tenant: str, ref: str | None) -> Any:
    from chalicelib.identity import accounts, directory

    if ref:
        account = directory.find_account(tenant, ref)
        if account is None:
            raise SystemExit(f"restore_admin: no account {ref} in tenant {tenant}")
        return account
    users = [
        a
        for a in directory.Directory(tenant).accounts.values()
        if a.doc.get("type") == accounts.USER and a.doc.get("enabled", True)
    ]
    if not users:
        raise SystemExit(f"restore_admin: tenant {tenant} has no enabled user; name one with --account")
    return min(users, key=lambda a: (a.created, a.id))


def restore_admin(tenant: str, account_ref: str | None = None) -> list[str]:
    """Make an account of the tenant an administrator again; what was done, in words."""
    from chalicelib.errors import NotFound
    from chalicelib.identity import accounts, directory, tenants

    try:
        tenants.get_tenant(tenant)
    except NotFound as exc:
        raise SystemExit(f"restore_admin: tenant {tenant} not found") from exc
    done: list[str] = []
    account = _account(tenant, account_ref)
    name = f"{account.doc.get('username')} ({account.id})"
    policy_id = _admin_policy(tenant, done)
    if not account.doc.get("enabled", True):
        directory.set_enabled(tenant, account.id, True, by=BY)
        done.append(f"enabled account {name}")
    if policy_id in account.doc.get("policies", []):
        done.append(f"account {name} already has policy {policy_id}")
    else:
        directory.edit_links(tenant, accounts.ACCOUNT, account.id, "policies", add=[policy_id], by=BY)
        done.append(f"gave policy {policy_id} to account {name}")
    admins = directory.Directory(tenant).administrators()
    if all(a.id != account.id for a in admins):
        raise SystemExit(f"restore_admin: {name} still is no administrator (negations in its own ACL?): {done}")
    done.append(f"administrators of tenant {tenant} now: {', '.join(a.doc.get('username', a.id) for a in admins)}")
    return done


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Give a locked-out tenant an administrator again")
    parser.add_argument("--tenant", required=True, help="the tenant's uuid")
    parser.add_argument("--account", help="uuid or username (default: the tenant's oldest enabled user)")
    parser.add_argument("--stage", help="a stage of .chalice/config.json (default: the environment as it is)")
    args = parser.parse_args(argv)

    from chalicelib.settings import get_settings, reset_settings
    from chalicelib.store import models

    if args.stage:
        from scripts.run_local import stage_environment

        os.environ.update(stage_environment(args.stage))
        reset_settings()
    models.bind(get_settings())
    for line in restore_admin(args.tenant, args.account):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
