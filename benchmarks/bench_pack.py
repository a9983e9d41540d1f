"""Best-fit packing against concatenate-and-chunk and first-fit-decreasing, at 64K.

Peers (implemented here, measured in the same run on the same segments):
  - concat-chunk: segments laid end to end and cut every `capacity` tokens (the common
    "concatenate and chunk" recipe); a segment that crosses a row edge is truncated although
    it would have fit whole in a row: a needless truncation.
  - first-fit-decreasing: longest first into the first row with room.
Ours: `longweave.pipeline.packing.bestfit.best_fit_decreasing` (plans) and `pack_segments` (builds the rows).

Segments: the demo run's `tokenize/segments/*.parquet` when a run exists (--run DIR),
otherwise built here from real code and books with `longweave.pipeline.packing.segments`. A second corpus of
one document per source file shows fill when short documents are plentiful.
Memory: tracemalloc peak of packing, group by group as the Pack transform does
(`pack_group_rows` rows' worth of segments per group), at 1x and 4x the input.

Run: python benchmarks/bench_pack.py [--run WORKDIR]   (WORKDIR of a `longweave run`, e.g. longweave-work/demo)
"""

from __future__ import annotations

import argparse
import glob
import math
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass

import pyarrow.parquet as pq
from bench_common import (
    build_segments,
    file_documents,
    measure,
    peak_rss_mb,
    repo_corpus,
    timed,
)

from longweave.pipeline.packing.bestfit import PackOptions, best_fit_decreasing, pack_segments
from longweave.pipeline.packing.copies import spread_groups
from longweave.pipeline.packing.segments import Segment

CAPACITY = 65536
BUCKETS = [8192, 32768, 65536]
SEED = 17


@dataclass
class Layout:
    """How a packer laid out the items: row count, fill, and needless truncations."""

    rows: int
    tokens: int
    truncated: int

    def fill(self, capacity: int) -> float:
        return self.tokens / (self.rows * capacity) if self.rows else 0.0


def concat_chunk(lengths: Sequence[int], capacity: int) -> Layout:
    """Rows cut every `capacity` tokens of the concatenation; count segments cut in two."""
    position = truncated = 0
    for size in lengths:
        start, end = position, position + size
        if size <= capacity and start // capacity != (end - 1) // capacity:
            truncated += 1
        position = end
    return Layout(math.ceil(position / capacity), position, truncated)


def first_fit_decreasing(lengths: Sequence[int], capacity: int) -> list[list[int]]:
    """Longest first, each into the first open row with room (ties by index)."""
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    rooms: list[int] = []
    bins: list[list[int]] = []
    for item in order:
        size = lengths[item]
        for index, room in enumerate(rooms):
            if room >= size:
                rooms[index] -= size
                bins[index].append(item)
                break
        else:
            rooms.append(capacity - size)
            bins.append([item])
    return bins


def layout_of(bins: list[list[int]], lengths: Sequence[int]) -> Layout:
    return Layout(len(bins), sum(lengths[i] for b in bins for i in b), 0)


def load_segments(run: str | None) -> tuple[list[Segment], str]:
    """The run's tokenized segments, or segments built here from the benchmark corpus."""
    paths = sorted(glob.glob(os.path.join(run, "tokenize", "segments", "*.parquet"))) if run else []
    if paths:
        rows = pq.read_table(paths).to_pylist()
        return [Segment.from_row(r) for r in rows], f"demo run {run}"
    with timed("tokenizing the package corpus"):
        return build_segments(repo_corpus(3_000_000), BUCKETS), "packages + books (built here)"


def compare_packers(name: str, lengths: list[int], capacity: int) -> None:
    """Fill and truncations of the three packers on one list of segment lengths."""
    over = sum(1 for n in lengths if n > capacity)
    lengths = [n for n in lengths if n <= capacity]
    print(f"\n{name}: {len(lengths)} segments, {sum(lengths):,} tokens into {capacity:,}-token "
          f"rows" + (f" ({over} longer than a row left out)" if over else ""))
    lower = math.ceil(sum(lengths) / capacity)
    half = sum(1 for n in lengths if 2 * n > capacity)
    print(f"  lower bound: {max(lower, half)} rows ({half} segments over half a row each need "
          f"their own) -> best possible fill {sum(lengths) / (max(lower, half) * capacity):.2%}")
    chunk = concat_chunk(lengths, capacity)
    ffd = layout_of(first_fit_decreasing(lengths, capacity), lengths)
    bfd = layout_of(best_fit_decreasing(lengths, capacity), lengths)
    for label, found in (("concat-chunk", chunk), ("first-fit-decr.", ffd),
                         ("best-fit-decr.", bfd)):
        print(f"  {label:16s} rows {found.rows:5d}  fill {found.fill(capacity):7.2%}  "
              f"needless truncations {found.truncated}")


def fillers_variant(segments: list[Segment], capacity: int) -> None:
    """What bucket 65536 would reach if smaller buckets' segments could fill its rows' tails.

    Best-fit over both sets places the long segments first (decreasing order), so short ones
    land in the leftover room; rows holding a long segment are the bucket's rows.
    """
    ordered = sorted(segments, key=lambda s: s.segment_id)
    lengths = [s.tokens for s in ordered]
    is_long = [s.bucket == capacity for s in ordered]
    rows = [b for b in best_fit_decreasing(lengths, capacity) if any(is_long[i] for i in b)]
    used = sum(lengths[i] for b in rows for i in b)
    fillers = sum(1 for b in rows for i in b if not is_long[i])
    print(f"  proposal, shorter buckets' segments as fillers: {len(rows)} rows of {capacity:,}, "
          f"fill {used / (len(rows) * capacity):.2%}, {fillers} short segments moved up")


def grouped_items(segments: list[Segment], copies: int, rows_per_group: int
                  ) -> list[list[tuple[Segment, int]]]:
    """(segment, copy) pairs spread over groups as the Pack transform spreads them (one
    shard per group here, so copies go to distinct groups)."""
    tokens = sum(s.tokens for s in segments) * copies
    groups = max(1, math.ceil(tokens / (CAPACITY * rows_per_group)))
    out: list[list[tuple[Segment, int]]] = [[] for _ in range(groups)]
    for segment in segments:
        for copy, group in enumerate(spread_groups(SEED, segment.segment_id, copies, groups,
                                                   groups)):
            out[group].append((segment, copy))
    return out


def pack_groups(groups: list[list[tuple[Segment, int]]]) -> tuple[int, int]:
    """Pack group after group, keeping only counts (rows leave for the writer in Beam)."""
    options = PackOptions(CAPACITY, pad_id=0, loss_mask=True, position_ids=False)
    rows = pad = 0
    for members in groups:
        for row in pack_segments(members, options):
            rows += 1
            if row.doc_ids[-1] == "<pad>":
                pad += row.cu_seqlens[-1] - row.cu_seqlens[-2]
    return rows, pad


def packer_speed_and_memory(segments: list[Segment]) -> None:
    fitting = [s for s in segments if s.tokens <= CAPACITY]
    print(f"\npack_segments at {CAPACITY:,} (rows built: input_ids, cu_seqlens, loss_mask), "
          f"tracemalloc peak while packing:")
    print(f"  {'input':6s} {'group rows':>10s} {'groups':>6s} {'rows':>5s} {'fill':>7s} "
          f"{'segments/s':>10s} {'Mtokens/s':>9s} {'peak MB':>8s}")
    for copies in (1, 4):
        for rows_per_group in (4, 16, 64, 256):
            groups = grouped_items(fitting, copies, rows_per_group)
            timing = measure(lambda g=groups: pack_groups(g), trace_memory=False)
            memory = measure(lambda g=groups: pack_groups(g), trace_memory=True)
            rows, pad = timing.result
            items = sum(len(g) for g in groups)
            tokens = rows * CAPACITY - pad
            print(f"  {copies}x{'':4s} {rows_per_group:10d} {len(groups):6d} {rows:5d} "
                  f"{tokens / (rows * CAPACITY):7.2%} {items / timing.seconds:10.0f} "
                  f"{tokens / timing.seconds / 1e6:9.1f} {memory.peak_mb:8.1f}")
    print(f"  one row holds {CAPACITY * 4 / 2**20:.2f} MB of int32 ids; a group of G rows "
          f"needs ~G x that for its rows plus the segments' own arrays")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", default=None,
                        help="workdir of a `longweave run` (default: longweave-work/demo if it has segments)")
    args = parser.parse_args()
    default = "longweave-work/demo"
    run = args.run or (default if glob.glob(f"{default}/tokenize/segments/*.parquet") else None)
    segments, origin = load_segments(run)
    lengths = [s.tokens for s in sorted(segments, key=lambda s: s.segment_id)]
    compare_packers(f"all segments ({origin}), ProLong-style single 64K length", lengths,
                    CAPACITY)
    in_bucket = [s.tokens for s in sorted(segments, key=lambda s: s.segment_id)
                 if s.bucket == CAPACITY]
    compare_packers("only the segments the pipeline assigns to bucket 65536", in_bucket,
                    CAPACITY)
    fillers_variant(segments, CAPACITY)
    with timed("tokenizing one document per source file"):
        files = build_segments(file_documents(), BUCKETS)
    compare_packers("one document per source file (many short documents)",
                    [s.tokens for s in sorted(files, key=lambda s: s.segment_id)], CAPACITY)
    packer_speed_and_memory(segments)
    print(f"\npeak RSS of the whole run: {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    sys.exit(main())
