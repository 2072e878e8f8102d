"""Users as people manage them: profile, username (unique across the installation),
password, attached policies. Accounts themselves live in accounts.py."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from chalicelib.auth.passwords import hash_password, password_problem
from chalicelib.errors import Conflict, Invalid, NotFound, VersionMismatch
from chalicelib.identity import accounts, authorize, directory, policies
from chalicelib.store import tokens
from chalicelib.store.repository import Entity

PURPOSES = ("user", "internal", "external_api")
_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+\Z")
MAX_USERNAME = 256
MAX_EMAILS = 10
RENAME_ATTEMPTS = 5


def check_username(username: str) -> str:
    """A username is 1-256 printable characters without spaces."""
    if not isinstance(username, str) or not 1 <= len(username) <= MAX_USERNAME:
        raise Invalid(f"username must have 1 to {MAX_USERNAME} characters")
    if any(c.isspace() or ord(c) < 32 for c in username):
        raise Invalid("username must not contain spaces or control characters")
    return username


def check_email(address: str) -> str:
    """A plausible e-mail address (something@domain.tld), at most 320 characters."""
    if not isinstance(address, str) or len(address) > 320 or not _EMAIL.match(address):
        raise Invalid(f"Invalid e-mail address {address!r}")
    return address


def check_password(password: str) -> str:
    """A password the installation's rules accept (Invalid naming the rule otherwise)."""
    problem = password_problem(password)
    if problem:
        raise Invalid(problem)
    return password


def _check_profile(fields: dict[str, Any]) -> None:
    if fields.get("email") is not None:
        check_email(fields["email"])
    if "purpose" in fields and fields["purpose"] not in PURPOSES:
        raise Invalid(f"purpose must be one of {', '.join(PURPOSES)}")


def create_user(tenant: str, fields: dict[str, Any], *, by: str | None, user_uuid: str | None = None) -> Entity:
    """A new user; the username is reserved installation-wide in the same transaction."""
    fields = dict(fields)
    _check_profile(fields)
    username = check_username(fields.pop("username"))
    password = fields.pop("password", None)
    if password is not None:
        check_password(password)
    user = accounts.create_account(
        tenant, username=username, password=password, kind=accounts.USER, fields=fields, by=by, account_uuid=user_uuid
    )
    index_addresses(tenant, user)
    return user


def _taken_by_other(username: str, user_uuid: str) -> bool:
    found = accounts.find_by_username(username)
    return found is not None and found[1] != user_uuid


def update_user(tenant: str, user_uuid: str, changes: dict[str, Any], *, by: str | None) -> Entity:
    """Change profile fields; a new username moves the global index in the same transaction."""
    _check_profile(changes)
    new_name = changes.get("username")
    if new_name is not None:
        check_username(new_name)
    repo = accounts.repo(tenant, accounts.ACCOUNT)

    def apply(entity: Entity) -> None:
        entity.doc.update(changes)

    for _ in range(RENAME_ATTEMPTS):
        current = repo.get(user_uuid)
        extra = None
        if new_name is not None:
            extra = accounts.rename_extra(current.doc["username"], new_name, tenant, user_uuid)
        if extra is not None and _taken_by_other(new_name or "", user_uuid):
            raise Conflict(f"Username {new_name} is already taken")
        try:
            user = repo.update(user_uuid, apply, by=by, expected_version=current.version, extra=extra)
            if "email" in changes:
                index_addresses(tenant, user)
            return user
        except VersionMismatch:
            # Either the account changed meanwhile (try again) or the new name was taken.
            if extra is not None and _taken_by_other(new_name or "", user_uuid):
                raise Conflict(f"Username {new_name} is already taken") from None
    raise VersionMismatch(f"User {user_uuid} keeps changing; try again")


def change_password(
    tenant: str,
    user_uuid: str,
    *,
    new_password: str,
    old_password: str | None,
    self_service: bool,
    by: str | None,
) -> Entity:
    """Set a new password. Users changing their own prove the old one (a throttled login,
    so this route cannot be used to guess passwords); others were authorized by ACL."""
    check_password(new_password)
    account = accounts.require_account(tenant, user_uuid)
    if self_service:
        if not old_password:
            raise Invalid("old_password is required to change your own password")
        authorize.login(account.doc["username"], old_password)
    return set_password(tenant, user_uuid, new_password, by=by)


def set_password(tenant: str, user_uuid: str, new_password: str, *, by: str | None) -> Entity:
    """Store a new password (the caller proved the right to: an ACL, the old password, or
    a reset token); audited as every account change."""
    check_password(new_password)
    digest = hash_password(new_password)

    def apply(entity: Entity) -> None:
        entity.doc["password_hash"] = digest

    return accounts.repo(tenant, accounts.ACCOUNT).update(user_uuid, apply, by=by, retries=3)


def delete_user(tenant: str, user_uuid: str) -> Entity:
    """Delete the account: its username is freed, its API tokens revoked, its groups left."""
    return directory.delete_account(tenant, user_uuid)


def attach_policy(tenant: str, user_uuid: str, policy_uuid: str, *, held: list[str], by: str | None) -> Entity:
    """Give a policy of the tenant to a user (idempotent); the actor must hold its ACL."""
    accounts.require_account(tenant, user_uuid)
    policy = policies.get_policy(tenant, policy_uuid)
    policies.require_grantable(held, policy.doc.get("acl", []))
    return directory.edit_links(tenant, accounts.ACCOUNT, user_uuid, "policies", add=[policy_uuid], by=by)


def detach_policy(tenant: str, user_uuid: str, policy_uuid: str, *, held: list[str], by: str | None) -> Entity:
    """Take a policy away from a user (idempotent; lifting its negations is a grant)."""
    policies.require_grantable(held, policies.lifted(policies.acl_of(tenant, [policy_uuid])))
    return directory.edit_links(tenant, accounts.ACCOUNT, user_uuid, "policies", remove=[policy_uuid], by=by)


def user_policies(tenant: str, user_uuid: str) -> list[Entity]:
    """The policies attached directly to a user (deleted ones skipped)."""
    ids = accounts.require_account(tenant, user_uuid).doc.get("policies", [])
    return accounts.repo(tenant, policies.POLICY).get_many(ids) if ids else []


def email_uuid(user_uuid: str, address: str) -> str:
    """The uuid Wazo names an address of a user by: derived from the user and the address
    (any casing), so it is stable without storing it, and the same after a re-upload."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"opsplane:user:{user_uuid}:email:{address.lower()}"))


def emails_of(user: Entity) -> list[dict[str, Any]]:
    """A user's addresses, {uuid, address, main, confirmed}, the main one first. The main
    address is `email` (what every dialect reads and writes); the list set by set_emails
    holds the others, and is dropped when `email` was changed elsewhere."""
    main = user.doc.get("email")
    stored = user.doc.get("emails") or []
    if not any(e["main"] and e["address"] == main for e in stored):
        # Set by another route (or before addresses had a list): an administrator's word.
        stored = [{"address": main, "main": True, "confirmed": True}] if main else []
    ordered = sorted(stored, key=lambda e: not e["main"])
    return [{"uuid": email_uuid(user.id, e["address"]), **e} for e in ordered]


def set_emails(tenant: str, user_uuid: str, entries: list[dict[str, Any]], *, by: str | None) -> Entity:
    """Replace a user's addresses. Each entry is {address, main, confirmed}: confirmed None
    keeps an address's current state (False for a new one). One address is main when there
    are any; an address appears once (any casing)."""
    if len(entries) > MAX_EMAILS:
        raise Invalid(f"emails: at most {MAX_EMAILS} addresses")
    for entry in entries:
        check_email(entry["address"])
    if len({e["address"].lower() for e in entries}) != len(entries):
        raise Invalid("emails: an address is listed twice")
    if entries and sum(1 for e in entries if e["main"]) != 1:
        raise Invalid("emails: exactly one address must be main")

    def apply(entity: Entity) -> None:
        was = {e["address"].lower(): e["confirmed"] for e in emails_of(entity)}
        kept = [
            {
                "address": e["address"],
                "main": e["main"],
                "confirmed": was.get(e["address"].lower(), False) if e["confirmed"] is None else e["confirmed"],
            }
            for e in entries
        ]
        entity.doc["emails"] = kept
        entity.doc["email"] = next((e["address"] for e in kept if e["main"]), None)

    accounts.require_account(tenant, user_uuid)
    user = accounts.repo(tenant, accounts.ACCOUNT).update(user_uuid, apply, by=by, retries=3)
    index_addresses(tenant, user)
    return user


def confirm_email(tenant: str, user_uuid: str, email_uuid_: str, *, by: str | None) -> Entity:
    """Mark one address of a user confirmed (NotFound when the user no longer has it)."""
    entries = [dict(e) for e in emails_of(accounts.require_account(tenant, user_uuid))]
    if not any(e["uuid"] == email_uuid_ for e in entries):
        raise NotFound(f"Email {email_uuid_} not found")
    for entry in entries:
        entry["confirmed"] = True if entry["uuid"] == email_uuid_ else entry["confirmed"]
    return set_emails(tenant, user_uuid, entries, by=by)


# The address index: rows "email#<address, lower case>" / "<tenant>#<user>" in the tokens
# table, one per address a user was given, so a user is found by address with a Query. A row
# is written when addresses are set and never trusted alone: find_by_address checks the user
# still has the address (a removed address leaves a stale row, not a false match).


def _index_pk(address: str) -> str:
    return f"email#{address.lower()}"


def index_addresses(tenant: str, user: Entity) -> None:
    """Record a user's current addresses in the address index."""
    doc = json.dumps({"tenant": tenant, "user": user.id})
    rows = [tokens.NewRow((_index_pk(e["address"]), f"{tenant}#{user.id}"), tenant, doc) for e in emails_of(user)]
    if rows:
        tokens.write_rows(rows)


def find_by_address(address: str) -> list[tuple[str, Entity]]:
    """(tenant, user) of every user that has this address now (any casing)."""
    found = []
    for row in tokens.query(_index_pk(address)):
        doc = json.loads(row.doc or "{}")
        try:
            user = accounts.require_account(doc["tenant"], doc["user"])
        except NotFound:
            continue  # a deleted user's row
        if any(e["address"].lower() == address.lower() for e in emails_of(user)):
            found.append((doc["tenant"], user))
    return found
