"""Persistence: PynamoDB models, the tenant-scoped repository, signed cursors."""

# Before any botocore session exists: every session created afterwards counts its calls.
from chalicelib.store import calls as calls
