"""The parser's LALR tables, saved for the Lambda asset, load back to the same parser;
a stale or damaged file is never used."""

from __future__ import annotations

from chalicelib.query import lalr

QUERY = 'ts(cpu.load.*, source="web-1" and not env=dev) > 2 and rate(ts(req)) < mavg(5m, ts(req))'


def test_can_load_saved_tables_into_the_same_parser(tmp_path):
    saved = tmp_path / "tables"
    lalr.save(saved)
    with saved.open("rb") as stream:
        loaded = lalr._load(stream)
    assert loaded is not None
    assert loaded.parse(QUERY) == lalr._build().parse(QUERY)


def test_can_ignore_tables_saved_for_another_grammar_or_lark(tmp_path):
    saved = tmp_path / "tables"
    lalr.save(saved)
    saved.write_bytes(b"0" * 64 + saved.read_bytes()[64:])  # another key
    with saved.open("rb") as stream:
        assert lalr._load(stream) is None
