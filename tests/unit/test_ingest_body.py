"""Request bodies decoded lazily: gzip (one member or several), deflate (zlib or raw), plain,
gzip-labelled plain JSON, bombs stopped at the limit, and memory while streaming 50 MB."""

from __future__ import annotations

import gzip
import itertools
import tracemalloc
import zlib

import pytest

from chalicelib.errors import Invalid, PayloadTooLarge, UnsupportedMedia
from chalicelib.ingest import body
from chalicelib.ingest.lines import Point, points

LINES = [b"metric.%d %d source=host-%d env=prod" % (i, i, i % 7) for i in range(5000)]
TEXT = b"\n".join(LINES) + b"\n"


def raw_deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()


@pytest.mark.parametrize(
    ("encoded", "encoding"),
    [
        (TEXT, None),
        (TEXT, "identity"),
        (gzip.compress(TEXT, mtime=0), "gzip"),
        (gzip.compress(TEXT, mtime=0), "x-gzip, identity"),
        (gzip.compress(TEXT[:1000], mtime=0) + gzip.compress(TEXT[1000:], mtime=0), "gzip"),  # two members
        (zlib.compress(TEXT), "deflate"),
        (raw_deflate(TEXT), "Deflate"),
        (TEXT, "gzip"),  # labelled gzip, sent plain (wavefront-sdk-python's send_event)
    ],
)
def test_can_decode_every_accepted_coding(encoded, encoding):
    assert list(body.lines(encoded, encoding, len(TEXT))) == LINES
    assert body.inflate(encoded, encoding, len(TEXT)) == TEXT


def test_can_split_lines_across_chunks_and_endings():
    data = b"a\r\nbb\n\nccc"
    for chunk in (1, 2, 3, 64):
        assert list(body.lines(gzip.compress(data, mtime=0), "gzip", 100, chunk=chunk)) == [b"a", b"bb", b"", b"ccc"]


def test_can_cut_an_overlong_line_and_skip_its_rest():
    data = b"short\n" + b"x" * 100 + b"\nnext\n" + b"y" * 100
    assert list(body.lines(data, None, 1000, max_line=10, chunk=7)) == [b"short", b"x" * 11, b"next", b"y" * 11]


def test_can_refuse_unsupported_codings():
    with pytest.raises(UnsupportedMedia, match="'br' is not supported"):
        body.inflate(b"x", "br", 10)
    with pytest.raises(UnsupportedMedia, match="only one coding"):
        body.inflate(b"x", "gzip, deflate", 10)


@pytest.mark.parametrize(
    ("encoded", "encoding"),
    [
        (gzip.compress(TEXT, mtime=0)[:-30], "gzip"),  # truncated
        (gzip.compress(TEXT, mtime=0)[:20] + b"garbage" * 10, "gzip"),  # corrupt
        (gzip.compress(TEXT, mtime=0) + b"trailing", "gzip"),
        (b"\x78\x9cnot deflate", "deflate"),
    ],
)
def test_can_refuse_corrupt_streams(encoded, encoding):
    with pytest.raises(Invalid, match="Malformed compressed body"):
        list(body.lines(encoded, encoding, 10**8))


def test_can_stop_a_bomb_before_limit_plus_one_chunk_is_produced():
    # GIVEN 64 MB of zeros gzipped to about 64 KB, and a 1 MiB limit
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros = bytes(1024 * 1024)
    bomb = b"".join(packer.compress(zeros) for _ in range(64)) + packer.flush()
    limit = 1024 * 1024
    produced = 0

    # WHEN it is read THEN it is refused (413) before limit + one chunk bytes come out
    with pytest.raises(PayloadTooLarge, match=f"exceeds {limit} bytes once decompressed"):
        for piece in body.chunks(bomb, "gzip", limit):
            produced += len(piece)
    assert produced <= limit < produced + body.CHUNK + 1


def test_can_refuse_a_plain_body_over_the_limit_at_once():
    with pytest.raises(PayloadTooLarge, match="exceeds 10 bytes"):
        next(body.chunks(b"x" * 11, None, 10))


def test_can_stream_a_50_mb_batch_in_little_memory():
    # GIVEN a 50 MB (uncompressed) batch of points, gzipped as the SDK sends it
    line = (
        b'"service.request.latency.p99" 123.456 1533531013 source="web-server-01" env="production" region="us-west-2"\n'
    )
    packer = zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = line * 1000
    blocks = 50 * 1024 * 1024 // len(block) + 1
    encoded = b"".join(packer.compress(block) for _ in range(blocks)) + packer.flush()
    total = blocks * 1000

    # WHEN it is streamed line by line, its first 10,000 lines parsed on the way (parsing
    # all of it is the benchmark's job: bench/), under tracemalloc
    tracemalloc.start()
    try:
        stream = body.lines(encoded, "gzip", 64 * 1024 * 1024)
        parsed = list(points(itertools.islice(stream, 10_000), now_ms=0, default_source="d"))
        rest = sum(1 for _ in stream)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    # THEN every line came out, the parsed ones kept, and the peak (the parsed records
    # included) stays far below the batch's size
    assert total * len(line) > 50 * 1024 * 1024
    assert rest + len(parsed) == total
    assert all(isinstance(p, Point) for p in parsed)
    assert peak < 10 * 1024 * 1024, peak
