"""The scannable secret shape (auth/secretformat.py): prefix, random part, CRC32 checksum."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from chalicelib.auth import secretformat
from chalicelib.http.redact import REDACTED, redact

SHAPE = re.compile(r"(opsat|opsoc)_[A-Za-z0-9]{32}_[0-9a-f]{8}\Z")


def test_can_issue_secrets_a_scanner_recognises():
    for prefix in secretformat.PREFIXES:
        secret = secretformat.issue(prefix)
        assert SHAPE.match(secret) and secret.startswith(prefix + "_")
        assert secretformat.valid(secret) and secretformat.plausible(secret)
    assert secretformat.issue(secretformat.API_TOKEN) != secretformat.issue(secretformat.API_TOKEN)


def test_can_check_the_checksum_against_the_crc32_of_what_precedes_it():
    body = "opsat_" + "a" * 32
    import zlib

    assert secretformat.valid(f"{body}_{zlib.crc32(body.encode()):08x}")
    assert not secretformat.valid(f"{body}_{(zlib.crc32(body.encode()) ^ 1):08x}")


@given(st.integers(min_value=6, max_value=37), st.sampled_from("abcXYZ019"))
def test_can_refuse_any_one_character_change(position, replacement):
    secret = secretformat.issue(secretformat.API_TOKEN)
    changed = secret[:position] + replacement + secret[position + 1 :]
    if changed != secret:
        assert not secretformat.valid(changed)
        assert not secretformat.plausible(changed)  # claims the format: refused without a lookup


def test_can_let_older_secrets_through_to_their_lookup():
    assert secretformat.plausible("0b6f2f1e-7c8a-4c55-9d2e-3f1b2a4c5d6e")  # a Wavefront-shaped UUID
    assert secretformat.plausible("Zm9vYmFyYmF6cXV4LXVybC1zYWZlLXNlY3JldA")  # url-safe base64
    assert not secretformat.valid("0b6f2f1e-7c8a-4c55-9d2e-3f1b2a4c5d6e")


def test_can_redact_our_secrets_anywhere_in_a_log_line():
    secret = secretformat.issue(secretformat.OAUTH_CLIENT_SECRET)
    line = f"while parsing {secret} from the config file"
    assert redact(line) == f"while parsing {REDACTED} from the config file"
