"""Secrets Manager: the deployed signing-key ring (auth/keys.py decides what it holds).

boto3 is imported on first use only: local runs and tests keep their keys in a file.
Throttling and outages leave as Unavailable (store/failures.py).
"""

from __future__ import annotations

from chalicelib.store.failures import guarded


@guarded
def read(secret_id: str) -> str:
    """The current string value of a secret."""
    import boto3  # deployed only; kept out of module import for cold starts

    client = boto3.client("secretsmanager")
    return str(client.get_secret_value(SecretId=secret_id)["SecretString"])
