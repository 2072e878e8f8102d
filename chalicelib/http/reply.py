"""What handlers may return besides a plain payload."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Reply:
    """A full answer: payload (wrapped per dialect unless raw), status and headers."""

    payload: Any = None
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    raw: bool = False  # True: payload is sent as is (JSON-encoded unless str/bytes)
    content_type: str = "application/json"


def bare(payload: Any, status: int = 200) -> Reply:
    """A JSON answer without the native envelope (UserModel answers, Wazo, Grafana)."""
    return Reply(payload=payload, status=status, raw=True)
