"""Persistence: PynamoDB models, the tenant-scoped repository, signed cursors."""
