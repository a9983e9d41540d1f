"""Best-fit-decreasing packing of segments into rows of exactly the bucket length.

Best-fit keeps every document whole inside its row (no needless truncation, Ding et al.
2024) and wastes less of a row than first-fit or concatenate-and-chunk.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from longweave.pipeline.packing.segments import Segment
from longweave.schemas.packed import PAD_DOC_ID, PAD_SOURCE, PackedSequence
from longweave.schemas.seeded import seeded_int


def best_fit_decreasing(lengths: Sequence[int], capacity: int) -> list[list[int]]:
    """Bins (lists of item indices) of total length <= capacity.

    Items go longest first (ties by index, so the result is deterministic) into the open bin
    with the least room that still fits; a new bin opens when none fits. O(n log n).
    """
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    bins: list[list[int]] = []
    # open bins as a sorted list of (room, bin index)
    rooms: list[tuple[int, int]] = []
    for item in order:
        size = lengths[item]
        if size > capacity:
            raise ValueError(f"item of {size} tokens does not fit capacity {capacity}")
        position = bisect.bisect_left(rooms, (size, -1))
        if position < len(rooms):
            room, index = rooms.pop(position)
        else:
            index, room = len(bins), capacity
            bins.append([])
        bins[index].append(item)
        room -= size
        if room > 0:
            bisect.insort(rooms, (room, index))
    return bins


@dataclass(frozen=True)
class PackOptions:
    bucket: int
    pad_id: int
    loss_mask: bool
    position_ids: bool


def build_row(segments: list[Segment], options: PackOptions) -> PackedSequence:
    """Concatenate segments into one row, padded to the bucket length with a pad segment."""
    ids = [s.input_ids for s in segments]
    cu = [0]
    for s in segments:
        cu.append(cu[-1] + s.tokens)
    used = cu[-1]
    doc_ids = [s.segment_id for s in segments]
    sources = [s.source for s in segments]
    pad = options.bucket - used
    if pad < 0:
        raise ValueError(f"row of {used} tokens overflows bucket {options.bucket}")
    if pad:
        ids.append(np.full(pad, options.pad_id, dtype=np.int32))
        cu.append(options.bucket)
        doc_ids.append(PAD_DOC_ID)
        sources.append(PAD_SOURCE)
    # token columns stay int32 arrays (4 bytes a token, not a Python int's ~36) until the
    # shard writer hands them to Arrow
    row = PackedSequence(
        input_ids=np.concatenate(ids).astype(np.int32), cu_seqlens=cu,
        doc_ids=doc_ids, doc_sources=sources, bucket=options.bucket)
    if options.loss_mask:
        masks = [s.loss_mask if s.loss_mask is not None else np.ones(s.tokens, np.int8)
                 for s in segments]
        if pad:
            masks.append(np.zeros(pad, dtype=np.int8))
        row.loss_mask = np.concatenate(masks).astype(np.int8)
    if options.position_ids:
        row.position_ids = position_ids(cu)
    return row


def position_ids(cu_seqlens: list[int]) -> np.ndarray:
    """Positions that restart at 0 at every document boundary."""
    return np.concatenate([np.arange(end - start, dtype=np.int32)
                           for start, end in pairwise(cu_seqlens)])


def iter_packed_rows(segments: list[tuple[Segment, int]], options: PackOptions
                     ) -> Iterator[PackedSequence]:
    """Rows of one group, built one at a time: the plan needs only lengths, and a built row
    (a Python list of `bucket` ints, ~36 bytes a token) need not wait for the others.

    The input order does not matter: items are first put in a canonical order.
    """
    items = sorted(segments, key=lambda pair: (pair[0].segment_id, pair[1]))
    bins = best_fit_decreasing([s.tokens for s, _ in items], options.bucket)
    for members in bins:
        ordered = sorted(members)  # keep a canonical order of documents inside the row
        yield build_row([items[i][0] for i in ordered], options)


def pack_segments(segments: list[tuple[Segment, int]], options: PackOptions
                  ) -> list[PackedSequence]:
    """Pack `(segment, copy number)` pairs of one group into rows, deterministically."""
    return list(iter_packed_rows(segments, options))


def row_key(row: PackedSequence) -> str:
    """An identity for a row, independent of where or when it was packed."""
    return "|".join(row.doc_ids)


def shuffle_rank(seed: int, row: PackedSequence) -> int:
    return seeded_int(seed, "row:" + row_key(row))
