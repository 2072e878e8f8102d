"""Principals, passwords, API tokens, JWT sessions, ACL matching and authorize()."""
