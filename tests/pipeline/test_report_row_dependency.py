"""Row-level dependency distances: only links whose two ends lie in one packed row count.

A split document's pieces all carry the whole document's links (source-level); the report's
row-level measure keeps a link only when one piece's token range holds both of its ends.
"""

from __future__ import annotations

import json

import polars as pl
import pytest
from report_fixture import SPLIT_BUCKETS, build_split_output

from longweave.pipeline.packing.shards import shard_paths
from longweave.pipeline.report.build import build_summary
from longweave.pipeline.report.dependency import distances_in_piece, row_level
from longweave.pipeline.report.inputs import read_segment_index
from longweave.pipeline.report.lengths import document_lengths
from longweave.pipeline.report.stats import shard_stats
from longweave.schemas.document import dump_meta
from longweave.schemas.meta import token_distances, token_pairs


@pytest.fixture(scope="module")
def split_run(tmp_path_factory):
    out, segments = build_split_output(tmp_path_factory.mktemp("split"))
    index = read_segment_index(str(out))
    lengths = document_lengths(index)
    stats = {p: shard_stats(str(out), p, index, lengths, None).stats
             for p in shard_paths(str(out))}
    return str(out), segments, stats


def test_pieces_record_their_token_range_in_the_document(split_run):
    _, segments, _ = split_run
    for doc_id in ("repo", "session"):
        pieces = sorted((s for s in segments if s.doc_id == doc_id), key=lambda s: s.piece)
        assert len(pieces) > 1 and pieces[0].token_start == 0
        # contiguous, and each piece's tokens are its range plus BOS (and EOS on the last)
        for before, after in zip(pieces, pieces[1:], strict=False):
            assert before.token_end == after.token_start
        for piece in pieces:
            last = piece.piece == piece.pieces - 1
            assert piece.tokens == piece.token_end - piece.token_start + 1 + last


def test_every_row_level_distance_is_shorter_than_its_row(split_run):
    _, segments, stats = split_run
    source_max = max(b["max"] for s in stats.values()
                     for b in s["length"]["dependency_distance"].values())
    assert source_max > max(SPLIT_BUCKETS)  # the source reaches farther than any row
    for shard in stats.values():
        for source, block in shard["length"]["row_dependency_distance"].items():
            assert block["n"] > 0 and block["max"] < shard["bucket"], source
            assert block["scope"].startswith("one packed row")
            assert block["unmeasured_segments"] == 0
        for block in shard["length"]["dependency_distance"].values():
            assert block["scope"].startswith("source document")
    for segment in segments:  # and segment by segment, against the segment's own length
        meta = json.loads(segment.meta)
        found = distances_in_piece(token_distances(meta), token_pairs(meta), segment.piece,
                                   segment.pieces, segment.token_start, segment.token_end)
        assert found is not None and all(0 <= d < segment.tokens for d in found)


def test_row_level_counts_the_links_inside_each_piece(split_run):
    _, _, stats = split_run
    rows = stats["256/shard-00000.arrow"]["length"]["row_dependency_distance"]
    # repo: 4 pieces of 3 files (240 tokens); a file imports the one before it and file 0.
    # Inside a piece: 2 next-door imports each, plus file 2 -> file 0 in the first piece;
    # an import whose importer starts the next piece is not in the row.
    assert (rows["code"]["n"], rows["code"]["max"], rows["code"]["total"]) == (9, 160, 800)
    # session: only the last turn's link to the turn before it shares its piece
    assert (rows["agents"]["n"], rows["agents"]["max"]) == (1, 90)
    source = stats["256/shard-00000.arrow"]["length"]["dependency_distance"]
    assert (source["code"]["n"], source["code"]["max"]) == (21, 880)
    # a whole document keeps every link
    small = stats["64/shard-00000.arrow"]["length"]
    assert small["row_dependency_distance"]["synth"]["n"] == small["dependency_distance"][
        "synth"]["n"] == 1


def test_summary_carries_both_levels(split_run):
    out, _, stats = split_run
    summary = build_summary(list(stats.values()), None, out)
    length = summary["length"]
    assert length["row_dependency_distance"]["code"]["n"] == 9
    assert length["dependency_distance"]["code"]["n"] == 21
    assert length["rows_with_long_dependency"]["rows"] == sum(
        s["counts"]["rows"] for s in stats.values())
    assert "row_dependency_distance" in summary["definitions"]


def _segment(row: int, sid: str, doc: str, meta: dict, piece: int = 0, pieces: int = 1,
             start: int | None = None, end: int | None = None) -> dict:
    return {"row": row, "segment_id": sid, "doc_id": doc, "source": "s", "meta": dump_meta(meta),
            "piece": piece, "pieces": pieces, "token_start": start, "token_end": end}


def _links(*pairs: tuple[int, int]) -> dict:
    return {"tokenize": {"dependency_distances": {
        "chars": [b - a for a, b in pairs], "tokens": [b - a for a, b in pairs],
        "token_pairs": [list(p) for p in pairs]}}}


def test_share_of_rows_with_a_long_dependency_by_hand():
    split = _links((100, 10_100), (5_000, 38_000), (21_000, 21_500), (20_000, 40_000))
    whole = _links((0, 40_000))
    twin = _links((50, 150))  # crosses its two pieces, which share one row
    content = pl.DataFrame([
        # row 0: D's first piece holds a 10K link (the 33K one crosses into D#1)
        _segment(0, "D#0", "D", split, 0, 2, 0, 20_000),
        _segment(0, "N", "N", {}),
        # row 1: D's last piece holds 500 and 20K (its later end is the document's end)
        _segment(1, "D#1", "D", split, 1, 2, 20_000, 40_000),
        # row 2: a whole document with a 40K link
        _segment(2, "W", "W", whole),
        # row 3: nothing linked
        _segment(3, "N2", "N2", {}),
        # row 4: a split piece without a recorded range: unmeasured, never guessed
        _segment(4, "U#0", "U", split, 0, 2),
        # row 5: two pieces of one document in one row; cu_seqlens separates them
        _segment(5, "E#0", "E", twin, 0, 2, 0, 100),
        _segment(5, "E#1", "E", twin, 1, 2, 100, 200),
    ])
    found = row_level(content, rows=6)
    rows = found["rows_with_long_dependency"]
    assert rows["rows"] == 6 and rows["unmeasured_rows"] == 1
    assert rows["at_least"]["8K"] == {"threshold": 8192, "rows": 3, "share": 0.5}
    assert rows["at_least"]["32K"] == {"threshold": 32768, "rows": 1, "share": round(1 / 6, 6)}
    block = found["row_dependency_distance"]["s"]
    assert block["n"] == 4 and block["total"] == 10_000 + 500 + 20_000 + 40_000
    assert block["unmeasured_segments"] == 1
