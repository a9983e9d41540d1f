"""Best-fit-decreasing packing of segments into rows of exactly the bucket length.

Best-fit keeps every document whole inside its row (no needless truncation, Ding et al.
2024) and wastes less of a row than first-fit or concatenate-and-chunk.
"""

from __future__ import annotations

import bisect
from collections.abc import Hashable, Iterator, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Protocol

import numpy as np

from longweave.schemas.packed import PAD_DOC_ID, PAD_SOURCE, PackedSequence
from longweave.schemas.seeded import seeded_int


def best_fit_decreasing(lengths: Sequence[int], capacity: int,
                        keys: Sequence[Hashable] | None = None) -> list[list[int]]:
    """Bins (lists of item indices) of total length <= capacity.

    Items go longest first (ties by index, so the result is deterministic) into the open bin
    with the least room that still fits; a new bin opens when none fits. O(n log n).
    With `keys`, a bin never takes two items of one key: up-sampled copies of a segment are
    equal in length, so best-fit alone often puts them in one row. A copy refused by every
    bin that fits it first tries `_free_by_moving`, so the rule rarely costs a row.
    """
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    bins: list[list[int]] = []
    held: list[set[Hashable]] = []  # the keys each bin holds (empty sets without `keys`)
    # open bins as a sorted list of (room, bin index)
    rooms: list[tuple[int, int]] = []
    for item in order:
        size = lengths[item]
        if size > capacity:
            raise ValueError(f"item of {size} tokens does not fit capacity {capacity}")
        position = bisect.bisect_left(rooms, (size, -1))
        blocked: list[tuple[int, int]] = []  # fitting bins refused: they hold the key
        if keys is not None:
            # skips only bins holding this key: at most its copies already placed
            while position < len(rooms) and keys[item] in held[rooms[position][1]]:
                blocked.append(rooms[position])
                position += 1
        if position < len(rooms):
            room, index = rooms.pop(position)
        elif blocked and keys is not None and (freed := _free_by_moving(
                size, keys[item], blocked, rooms, bins, held, lengths, keys)) is not None:
            room, index = freed
        else:
            index, room = len(bins), capacity
            bins.append([])
            held.append(set())
        bins[index].append(item)
        if keys is not None:
            held[index].add(keys[item])
        room -= size
        if room > 0:
            bisect.insort(rooms, (room, index))
    return bins


MOVE_CANDIDATES = 64  # open bins `_free_by_moving` looks into, to bound its cost


def _free_by_moving(size: int, key: Hashable, blocked: list[tuple[int, int]],
                    rooms: list[tuple[int, int]], bins: list[list[int]],
                    held: list[set[Hashable]], lengths: Sequence[int],
                    keys: Sequence[Hashable]) -> tuple[int, int] | None:
    """Room for an item whose only fitting bins (`blocked`) hold its key: move one item y
    from another open bin g into a blocked bin f, when that frees enough of g. Returns
    (room, g) with g taken out of `rooms` as the caller expects, or None (a new row opens).

    Runs only when the key refused a fit; g is looked for among the open bins with at least
    size - room(f) free (y must fill the rest), the first MOVE_CANDIDATES of them."""
    for room_f, f in blocked:
        start = bisect.bisect_left(rooms, (size - room_f, -1))
        for room_g, g in rooms[start:start + MOVE_CANDIDATES]:
            if key in held[g]:
                continue
            for y in bins[g]:
                if size - room_g <= lengths[y] <= room_f and keys[y] not in held[f]:
                    bins[g].remove(y)
                    held[g].discard(keys[y])
                    bins[f].append(y)
                    held[f].add(keys[y])
                    rooms.remove((room_f, f))
                    rooms.remove((room_g, g))
                    if room_f - lengths[y] > 0:
                        bisect.insort(rooms, (room_f - lengths[y], f))
                    return room_g + lengths[y], g
    return None


@dataclass(frozen=True)
class PackOptions:
    bucket: int
    pad_id: int
    loss_mask: bool
    position_ids: bool


class RowMember(Protocol):
    """What a row is built from: a Segment, or a piece read back by a shard worker."""

    segment_id: str
    source: str
    input_ids: np.ndarray
    loss_mask: np.ndarray | None

    @property
    def tokens(self) -> int: ...


class Sized(Protocol):
    """What best-fit plans with: an id and a length (a Segment, or lengths alone)."""

    segment_id: str

    @property
    def tokens(self) -> int: ...


def build_row(segments: Sequence[RowMember], options: PackOptions) -> PackedSequence:
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


Member = tuple[Sized, int]  # (segment, copy number)


def plan_rows(members: Sequence[Member], capacity: int) -> list[list[Member]]:
    """One group's rows as member lists, no row holding two copies of one segment.

    The input order does not matter: members are first put in a canonical order, and each
    row keeps that order of documents inside it. The order is copy-major (all first copies,
    then all second ones): equal-length copies of a segment are then not neighbours in
    best-fit's order, so refusing a copy's bin rarely costs fill.
    """
    items = sorted(members, key=lambda pair: (pair[1], pair[0].segment_id))
    bins = best_fit_decreasing([s.tokens for s, _ in items], capacity,
                               keys=[s.segment_id for s, _ in items])
    return [[items[i] for i in sorted(b)] for b in bins]


def iter_packed_rows(members: Sequence[Member], options: PackOptions
                     ) -> Iterator[tuple[str, PackedSequence]]:
    """(copy key, row) of one group, built one at a time: the plan needs only lengths, and a
    built row (a Python list of `bucket` ints, ~36 bytes a token) need not wait for the others.
    """
    for row in plan_rows(members, options.bucket):
        yield copy_key(row), build_row([s for s, _ in row], options)


def pack_segments(segments: list[Member], options: PackOptions) -> list[PackedSequence]:
    """Pack `(segment, copy number)` pairs of one group into rows, deterministically."""
    return [row for _, row in iter_packed_rows(segments, options)]


def copy_key(members: Sequence[Member]) -> str:
    """A row's identity with copy numbers: unique in the output even when two rows hold the
    same segments (other copies of each), so such rows are shuffled apart, not side by side."""
    return "|".join(f"{s.segment_id}@{c}" for s, c in members)


def row_key(row: PackedSequence) -> str:
    """An identity for a row, independent of where or when it was packed."""
    return "|".join(row.doc_ids)


def shuffle_rank(seed: int, key: str) -> int:
    """A row's place in the seeded shuffle of its shard, from its `copy_key`."""
    return seeded_int(seed, "row:" + key)
