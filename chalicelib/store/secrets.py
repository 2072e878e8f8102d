"""Secrets Manager: the deployed signing-key ring (auth/keys.py decides what it holds).

The client is made on first use, from the process's botocore session (store/aws.py): local
runs and tests keep their keys in a file and never make one.
Throttling and outages leave as Unavailable (store/failures.py).
"""

from __future__ import annotations

from chalicelib.store import aws
from chalicelib.store.failures import guarded


@guarded
def read(secret_id: str) -> str:
    """The current string value of a secret."""
    client = aws.create(lambda session: session.create_client("secretsmanager"))
    return str(client.get_secret_value(SecretId=secret_id)["SecretString"])
