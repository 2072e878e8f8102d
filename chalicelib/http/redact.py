"""Credentials out of log text: one function for every line opsplane or its local server writes.

What counts as a credential, wherever it appears in a line (a request line, a JSON log record,
a traceback):
- a JWT (session tokens; the Wazo token check puts one in the path);
- the value after `Bearer` / `Basic` (an API token is a bare UUID: known by its place only);
- the value of a credential-named field, in a query string (`?token=`), a header dump
  (`X-Auth-Token: ...`, `'authorization': '...'`) or a JSON body (`"client_secret": "..."`);
- the path segment after `/token/` (GET/HEAD/DELETE /api/auth/0.1/token/<token>);
- an opsplane secret (`opsat_...`, `opsoc_...`: auth/secretformat.py), wherever it is.

Only the secret goes, the rest of the line stays readable.
"""

from __future__ import annotations

import logging
import re

from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

REDACTED = "<redacted>"

# Names whose value is a secret, as a field, header or query parameter (case-insensitive):
# these, and any name ending in token, secret or password (session_token, new_password).
SECRET_NAMES = ("authorization", "cookie", "set-cookie", "tokenid", "api_key", "x-api-key", "passwd")
_SECRET_SUFFIXES = ("token", "secret", "password")

_JWT = re.compile(r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[^.\s/?&\"'\\,;]+")
_SCHEME = re.compile(r"\b(Bearer|Basic)(\s+|%20|\+)[A-Za-z0-9._~+/=-]+", re.IGNORECASE)
_NAMES = "|".join([re.escape(n) for n in SECRET_NAMES] + [rf"[A-Za-z0-9_-]*{re.escape(s)}" for s in _SECRET_SUFFIXES])
# name=value (query strings, forms), "name": "value" (JSON, or JSON inside a JSON string),
# 'name': 'value' (a repr), Name: value (headers).
_FIELD = re.compile(
    rf"(?<![A-Za-z0-9_-])((?:{_NAMES})\\?[\"']?\s*[=:]\s*\\?[\"']?)(?!{re.escape(REDACTED)})(?!(?:Bearer|Basic)\s)([^\"'&\s,;}}\]\\]+)",
    re.IGNORECASE,
)
_OURS = re.compile(r"\bops(?:at|oc)_[A-Za-z0-9]{32}_[0-9a-f]{8}\b")  # auth/secretformat.py's shape
_TOKEN_SEGMENT = re.compile(r"(/tokens?/)(?!{)([^/?#\s\"']+)")  # not a route template's {token}
# A Cookie header holds several name=value pairs: all of it goes.
_COOKIE = re.compile(r"((?<![A-Za-z0-9_-])(?:set-)?cookie[\"']?\s*:\s*[\"']?)[^\"'\r\n\\]+", re.IGNORECASE)


def redact(text: str) -> str:
    """text with every credential in it replaced by REDACTED."""
    text = _JWT.sub(REDACTED, text)
    text = _OURS.sub(REDACTED, text)
    text = _SCHEME.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
    text = _TOKEN_SEGMENT.sub(lambda m: m.group(1) + REDACTED, text)
    text = _COOKIE.sub(lambda m: m.group(1) + REDACTED, text)
    return _FIELD.sub(lambda m: m.group(1) + REDACTED, text)


class RedactingPowertoolsFormatter(LambdaPowertoolsFormatter):
    """Powertools' JSON log line, redacted (the Logger's `logger_formatter`)."""

    def format(self, record: logging.LogRecord) -> str:  # noqa: A003 - logging's name
        return redact(super().format(record))


class RedactingFormatter(logging.Formatter):
    """Wraps a formatter: the formatted line, redacted (the record itself is left alone)."""

    def __init__(self, inner: logging.Formatter | None = None) -> None:
        super().__init__()
        self.inner = inner or logging.Formatter()

    def format(self, record: logging.LogRecord) -> str:
        return redact(self.inner.format(record))


def redact_handlers(logger: logging.Logger) -> None:
    """Make every handler of logger write redacted lines (idempotent)."""
    for handler in logger.handlers:
        if not isinstance(handler.formatter, RedactingFormatter):
            handler.setFormatter(RedactingFormatter(handler.formatter))
