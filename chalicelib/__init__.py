"""opsplane: everything that runs inside Lambda."""
