"""Request bodies as sent: plain, gzip or deflate, inflated lazily and bounded.

A body is never inflated whole unless it is small (`inflate`, for JSON routes under their
body limit): `lines` yields the lines of a body of any size while holding one compressed
slice, one inflated chunk and one line at a time. More than `limit` inflated bytes is
PayloadTooLarge (413) as soon as it is seen, so a gzip bomb costs at most limit + CHUNK
bytes of output, and never all of it at once.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator

from chalicelib.errors import Invalid, PayloadTooLarge, UnsupportedMedia

GZIP_MAGIC = b"\x1f\x8b"
# Largest piece of inflated output produced at once (zlib's max_length).
CHUNK = 64 * 1024
# Compressed input is fed in slices of this size, so zlib's unconsumed tail stays small.
SLICE = 16 * 1024
# A line longer than this is cut to MAX_LINE_BYTES + 1 bytes (the parsers reject it) and
# its rest skipped: an endless line never sits in memory.
MAX_LINE_BYTES = 1024 * 1024

_IDENTITY = {"", "identity"}
_GZIP = {"gzip", "x-gzip"}
_DEFLATE = {"deflate"}


def coding(header: str | None) -> str:
    """The one content coding a Content-Encoding header names: "", "gzip" or "deflate"
    (415 for any other, or for more than one)."""
    names = [n.strip().lower() for n in (header or "").split(",")]
    names = [n for n in names if n not in _IDENTITY]
    if not names:
        return ""
    if len(names) > 1:
        raise UnsupportedMedia(f"Content-Encoding: only one coding is accepted, got {header!r}")
    if names[0] in _GZIP:
        return "gzip"
    if names[0] in _DEFLATE:
        return "deflate"
    raise UnsupportedMedia(f"Content-Encoding {names[0]!r} is not supported (gzip, deflate or identity)")


def chunks(body: bytes, encoding: str | None, limit: int, *, chunk: int = CHUNK) -> Iterator[bytes]:
    """The body decoded by its Content-Encoding, in pieces of at most `chunk` bytes.

    A body labelled gzip that does not start with gzip's magic bytes is read as it is
    (wavefront-sdk-python's send_event labels plain JSON gzip). PayloadTooLarge once more
    than `limit` bytes have come out; Invalid for a corrupt or truncated stream."""
    name = coding(encoding)
    if name == "gzip" and body[:2] == GZIP_MAGIC:
        pieces = _inflate(body, 16 + zlib.MAX_WBITS, chunk, members=True)
    elif name == "deflate" and body:
        # RFC 9110's deflate is zlib-wrapped; some clients send the raw stream.
        wbits = zlib.MAX_WBITS if _zlib_header(body) else -zlib.MAX_WBITS
        pieces = _inflate(body, wbits, chunk, members=False)
    else:
        if len(body) > limit:
            raise PayloadTooLarge(f"Request body exceeds {limit} bytes")
        pieces = (body[i : i + chunk] for i in range(0, len(body), chunk))
    produced = 0
    for piece in pieces:
        produced += len(piece)
        if produced > limit:
            raise PayloadTooLarge(f"Request body exceeds {limit} bytes once decompressed")
        yield piece


def inflate(body: bytes, encoding: str | None, limit: int) -> bytes:
    """The whole decoded body (for small bodies: JSON routes under their body limit)."""
    if not coding(encoding):
        return body
    return b"".join(chunks(body, encoding, limit))


def lines(
    body: bytes, encoding: str | None, limit: int, *, max_line: int = MAX_LINE_BYTES, chunk: int = CHUNK
) -> Iterator[bytes]:
    """Every line of the decoded body (blank ones too, so callers can number them), without
    its line ending ("\\n" or "\\r\\n"), lazily. A line longer than max_line comes out cut to
    max_line + 1 bytes. Raises as `chunks` does, possibly after some lines came out: a
    caller keeps nothing until the iterator is exhausted."""
    carry = b""
    skipping = False  # inside a line already cut
    for piece in chunks(body, encoding, limit, chunk=chunk):
        parts = piece.split(b"\n")
        parts[0] = carry + parts[0]
        carry = parts.pop()
        for part in parts:
            if skipping:
                skipping = False
                continue
            yield _line(part, max_line)
        if len(carry) > max_line:
            if not skipping:
                yield carry[: max_line + 1]
            skipping, carry = True, b""
    if carry and not skipping:
        yield _line(carry, max_line)


def _line(raw: bytes, max_line: int) -> bytes:
    if raw.endswith(b"\r"):
        raw = raw[:-1]
    return raw if len(raw) <= max_line else raw[: max_line + 1]


def _zlib_header(body: bytes) -> bool:
    """Whether body starts with a zlib header (RFC 1950: method 8, check bits)."""
    return len(body) >= 2 and body[0] & 0x0F == 8 and (body[0] << 8 | body[1]) % 31 == 0


def _inflate(body: bytes, wbits: int, chunk: int, *, members: bool) -> Iterator[bytes]:
    """Inflate body, at most `chunk` bytes per piece. members: a gzip body may hold several
    members one after another (RFC 1952 2.2); each is inflated in turn."""
    view = memoryview(body)
    position = 0
    inflater = zlib.decompressobj(wbits)
    try:
        while True:
            if inflater.eof:
                # What follows the stream starts inside the slice fed last: no copy.
                position -= len(inflater.unused_data)
                if members and view[position : position + 2] == GZIP_MAGIC:
                    inflater = zlib.decompressobj(wbits)
                    continue
                if bytes(view[position:]).strip(b"\x00"):
                    raise Invalid("Malformed compressed body: bytes after the end of the stream")
                return
            pending: bytes | memoryview = inflater.unconsumed_tail
            if not pending:
                if position >= len(view):
                    out = inflater.decompress(b"", chunk)
                    if out:
                        yield out
                        continue
                    if not inflater.eof:
                        raise Invalid("Malformed compressed body: the stream is truncated")
                    continue
                pending = view[position : position + SLICE]
                position += len(pending)
            out = inflater.decompress(pending, chunk)
            if out:
                yield out
    except zlib.error as exc:
        raise Invalid(f"Malformed compressed body: {exc}") from exc
