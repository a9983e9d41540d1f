"""Up-sampled copies are spread apart: never two copies of a segment in one row, copies in
distinct groups and shards where there are enough, the same bytes whatever the arrival
order; and the report's copy-spacing measure."""

from __future__ import annotations

import json
import random
from collections import Counter

import numpy as np
import pytest
from report_fixture import build_output

from longweave.pipeline.packing.bestfit import (
    PackOptions,
    best_fit_decreasing,
    build_row,
    pack_segments,
)
from longweave.pipeline.packing.copies import copy_groups
from longweave.pipeline.packing.mixture import ANY_BUCKET, EntryPlan, MixturePlan
from longweave.pipeline.packing.rowplan import plan_pack_rows
from longweave.pipeline.packing.segments import Segment
from longweave.pipeline.packing.shards import encode_shard
from longweave.pipeline.report.build import build_report
from longweave.pipeline.report.stats import copy_spacing
from longweave.schemas.packed import PAD_DOC_ID, PackedSequence

BUCKET = 1024


def segment(seg_id: str, length: int) -> Segment:
    return Segment(seg_id, seg_id, "s", "text", BUCKET, np.arange(length, dtype=np.int32) + 10,
                   None, length * 4, 0, 1, "none")


def equal_length_segments(n: int = 40) -> list[Segment]:
    """Many segments of a few lengths: copies of one are equal, so best-fit meets them in a
    row unless it refuses."""
    return [segment(f"d{i:03d}", (100, 250, 340)[i % 3]) for i in range(n)]


def plan(copies: int, groups: int, shards: int) -> MixturePlan:
    entry = EntryPlan("s", ANY_BUCKET, 1.0, available=1, target=copies, full_copies=copies,
                      threshold=-1.0, planned=copies)
    return MixturePlan(seed=11, entries={("s", ANY_BUCKET): entry},
                       groups={BUCKET: groups}, shards={BUCKET: shards})


def pack_all(segments: list[Segment], mixture: MixturePlan
             ) -> dict[tuple[int, int], list[PackedSequence]]:
    """What the pack stage does, in process: the driver's row plan from lengths, then each
    shard's rows built from the planned pieces in the planned order."""
    rows = plan_pack_rows(mixture, [s.segment_id for s in segments], ["s"] * len(segments),
                          [BUCKET] * len(segments), [s.tokens for s in segments],
                          shuffle=True)
    by_id = {s.segment_id: s for s in segments}
    options = PackOptions(BUCKET, 0, loss_mask=False, position_ids=False)
    return {shard: [build_row([by_id[i] for i, _ in row], options) for row in planned]
            for shard, planned in rows.rows.items()}


def content_ids(row: PackedSequence) -> list[str]:
    return [d for d in row.doc_ids if d != PAD_DOC_ID]


def test_best_fit_never_puts_two_items_of_one_key_in_a_bin() -> None:
    lengths = [30] * 12 + [40] * 6
    keys = [i // 4 for i in range(12)] + [100 + i // 3 for i in range(6)]
    bins = best_fit_decreasing(lengths, 100, keys=keys)
    assert sorted(i for b in bins for i in b) == list(range(18))
    assert all(sum(lengths[i] for i in b) <= 100 for b in bins)
    assert all(len({keys[i] for i in b}) == len(b) for b in bins)
    # without keys the same items share bins with their own copies
    assert any(len({keys[i] for i in b}) < len(b) for b in best_fit_decreasing(lengths, 100))


def test_a_refused_copy_gets_room_by_moving_another_item_not_a_new_row() -> None:
    # 45+40 and 45+40 fill two bins to 85; the first 31 opens a third, where its twin
    # alone would fit: a 45 moves over to it and the twin takes the 45's place (3, not 4)
    lengths, keys = [31, 31, 40, 40, 45, 45, 16], [0, 0, 1, 1, 2, 2, 3]
    bins = best_fit_decreasing(lengths, 100, keys=keys)
    assert len(bins) == 3
    assert all(len({keys[i] for i in b}) == len(b) for b in bins)
    assert all(sum(lengths[i] for i in b) <= 100 for b in bins)


def test_one_group_packs_no_row_with_two_copies_and_keeps_fill() -> None:
    segments = equal_length_segments()
    items = [(s, copy) for s in segments for copy in range(4)]
    rows = pack_segments(items, PackOptions(BUCKET, 0, loss_mask=False, position_ids=False))
    assert all(len(set(content_ids(r))) == len(content_ids(r)) for r in rows)
    assert Counter(d for r in rows for d in content_ids(r)) == {s.segment_id: 4
                                                                for s in segments}
    tokens = sum(s.tokens for s, _ in items)
    assert len(rows) <= -(-tokens // BUCKET) + 1  # at most one row above the lower bound


@pytest.mark.parametrize(("copies", "groups", "shards"), [(3, 1, 1), (3, 4, 1), (3, 4, 2),
                                                          (3, 6, 4), (5, 2, 2)])
def test_copies_take_distinct_groups_and_shards_and_never_share_a_row(
        copies: int, groups: int, shards: int) -> None:
    mixture = plan(copies, groups, shards)
    segments = equal_length_segments()
    packed = pack_all(segments, mixture)
    for s in segments:
        chosen = copy_groups(s.segment_id, copies, mixture, BUCKET)
        assert len(chosen) == copies
        if copies <= groups:
            assert len(set(chosen)) == copies
        if copies <= shards:
            assert len({group % shards for group in chosen}) == copies
    rows = [r for shard_rows in packed.values() for r in shard_rows]
    assert all(len(set(content_ids(r))) == len(content_ids(r)) for r in rows)
    assert sum(len(content_ids(r)) for r in rows) == copies * 40
    assert {index for _, index in packed} <= set(range(shards))


def test_shards_do_not_depend_on_arrival_order() -> None:
    mixture = plan(3, 4, 2)
    segments = equal_length_segments()
    shuffled = segments[:]
    random.Random(5).shuffle(shuffled)

    def shard_bytes(items: list[Segment]) -> dict:
        packed = pack_all(items, mixture)
        return {shard: encode_shard(rows, False, False, "zstd")
                for shard, rows in packed.items()}

    assert shard_bytes(segments) == shard_bytes(shuffled)


def test_copy_spacing_counts_same_row_copies_and_distances() -> None:
    spacing = copy_spacing({
        "a": {"x": [(0, 2), (0, 2), (1, 9)], "y": [(1, 7), (0, 4)], "once": [(0, 1)]},
        "b": {"z": [(0, 0)]}})
    assert spacing["a"] == {"repeated_segments": 2, "copies": 5, "rows_with_two_copies": 1,
                            "pairs": 3, "pairs_across_shards": 2, "min_distance": 0,
                            "median_distance": 3.0}
    assert spacing["b"] == {"repeated_segments": 0, "copies": 0, "rows_with_two_copies": 0,
                            "pairs": 0, "pairs_across_shards": 0, "min_distance": None,
                            "median_distance": None}


def test_report_measures_copy_spacing_over_the_output(tmp_path) -> None:
    # the fixture packs A (2 copies) at 8/shard-00000 row 0 and 8/shard-00001 row 1
    out = build_output(tmp_path)
    report_dir = build_report(str(out))
    summary = json.loads((out / "report" / "summary.json").read_text())
    assert summary["copy_spacing"]["books"] == {
        "repeated_segments": 1, "copies": 2, "rows_with_two_copies": 0, "pairs": 1,
        "pairs_across_shards": 1, "min_distance": 4, "median_distance": 4.0}
    shard = json.loads((out / "report" / "shards" / "8-shard-00001.json").read_text())
    assert shard["copy_spacing"]["rows"] == {"books": {"A": [1]}}
    assert shard["copy_spacing"]["by_source"]["books"]["repeated_segments"] == 0
    html = (tmp_path / "report" / "report.html").read_text()
    assert 'id="copies"' in html and "rows with two copies" in html
    assert report_dir.endswith("report")


def test_route_segment_drops_what_the_plan_leaves_out_and_routes_the_rest() -> None:
    """The pack job's per-segment decision, without Beam: kept segments go to every shard
    the row plan puts a copy in; a segment the plan takes no copy of is a ledger drop."""
    from longweave.pipeline.packing.rowplan import Routed, route_segment
    from longweave.schemas.ledger import Drop

    mixture = plan(3, 4, 2)
    segments = equal_length_segments()
    rows = plan_pack_rows(mixture, [s.segment_id for s in segments], ["s"] * 40,
                          [BUCKET] * 40, [s.tokens for s in segments], shuffle=True)
    routed = route_segment(segments[0], mixture, rows.routes)
    assert isinstance(routed, Routed) and routed.index_row["copies"] == 3
    assert routed.shards == rows.routes[segments[0].segment_id]
    assert routed.packed == (("s", BUCKET), segments[0].tokens * 3)
    none = plan(0, 4, 2)
    dropped = route_segment(segments[0], none, {})
    assert isinstance(dropped, Drop) and dropped.reason == "sampled-out"
