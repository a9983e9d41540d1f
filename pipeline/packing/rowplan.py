"""The pack stage's row plan, made on the driver from segment lengths alone.

Which copy of which segment goes into which row of which shard, in the shard's final row
order, is decided here before the Beam job starts: copies to packing groups
(`copies.copy_groups`, spread apart), best-fit rows per group (`bestfit.plan_rows`, never
two copies of one segment in a row), each group's rows to its shard, and the shard's
seeded row order. The job then only moves tokens: each segment file is read once and its
pieces are written to the shards that need them (`routes`), and each shard is assembled
from those pieces by this plan. No token list crosses a shuffle, and the bytes do not
depend on the worker count or on the order files are read in.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from longweave.pipeline.packing.bestfit import copy_key, plan_rows, shuffle_rank
from longweave.pipeline.packing.copies import GroupKey, ShardKey, copy_groups, index_row
from longweave.pipeline.packing.mixture import MixturePlan
from longweave.pipeline.packing.segments import Segment
from longweave.schemas.ledger import Drop
from longweave.schemas.packed import PAD_DOC_ID

PlannedRow = list[tuple[str, int]]  # (segment id, copy number) in row order


@dataclass(frozen=True)
class SegmentLength:
    """What best-fit needs of a segment: its id and its length."""

    segment_id: str
    tokens: int


@dataclass
class RowPiece:
    """A segment's tokens as a shard worker reads them back from its spill files: all
    `bestfit.build_row` needs to lay it into a row."""

    segment_id: str
    source: str
    input_ids: np.ndarray
    loss_mask: np.ndarray | None

    @property
    def tokens(self) -> int:
        return int(len(self.input_ids))


@dataclass
class RowPlan:
    """Every shard's rows in final order, and the shards each kept segment feeds."""

    bucket_of: dict[ShardKey, int] = field(default_factory=dict)
    rows: dict[ShardKey, list[PlannedRow]] = field(default_factory=dict)
    routes: dict[str, list[ShardKey]] = field(default_factory=dict)

    def shard_rows_json(self, shard: ShardKey) -> list[list[list]]:
        return [[[segment_id, copy] for segment_id, copy in row] for row in self.rows[shard]]


def plan_pack_rows(plan: MixturePlan, segment_ids: list[str], sources: list[str],
                   buckets: list[int], tokens: list[int], shuffle: bool) -> RowPlan:
    """The row plan for segments given as parallel lists (the columns `segment_lengths`
    reads); segments the mixture plan leaves out get no route."""
    groups: dict[GroupKey, list[tuple[SegmentLength, int]]] = defaultdict(list)
    routes: dict[str, set[ShardKey]] = {}
    for segment_id, source, bucket, length in zip(segment_ids, sources, buckets, tokens,
                                                  strict=True):
        copies = plan.copies(segment_id, source, bucket, length)
        if not copies:
            continue
        member = SegmentLength(segment_id, length)
        for copy, group in enumerate(copy_groups(segment_id, copies, plan, bucket)):
            groups[(bucket, group)].append((member, copy))
            routes.setdefault(segment_id, set()).add(group_shard(plan, (bucket, group)))
    result = RowPlan(routes={s: sorted(shards) for s, shards in routes.items()})
    by_shard: dict[ShardKey, list[tuple[str, PlannedRow, int]]] = defaultdict(list)
    for group in sorted(groups):
        bucket = group[0]
        for row in plan_rows(groups[group], bucket):
            used = sum(member.tokens for member, _ in row)
            by_shard[group_shard(plan, group)].append(
                (copy_key(row), [(member.segment_id, copy) for member, copy in row], used))
    for shard, rows in sorted(by_shard.items()):
        result.bucket_of[shard] = shard[0]
        result.rows[shard] = [planned for _, planned, _ in
                              sorted(rows, key=lambda r: _order_key(r, shard[0], plan.seed,
                                                                    shuffle))]
    return result


@dataclass(frozen=True)
class Routed:
    """A kept segment: its index row, the tokens it adds to its (source, bucket), and the
    shards its pieces must reach."""

    index_row: dict
    packed: tuple[tuple[str, int], int]
    shards: list[ShardKey]


def route_segment(segment: Segment, plan: MixturePlan, routes: dict[str, list[ShardKey]]
                  ) -> Routed | Drop:
    """What the pack job does with one segment it reads: a sampled-out drop, or where it
    goes (the shard workers then place its copies by the row plan)."""
    key = (segment.segment_id, segment.source, segment.bucket, segment.tokens)
    copies = plan.copies(*key)
    if copies == 0:
        return Drop(segment.segment_id, segment.source, plan.drop_reason(*key),
                    f"bucket {segment.bucket}, {segment.tokens} tokens")
    return Routed(index_row(segment, copies),
                  ((segment.source, segment.bucket), segment.tokens * copies),
                  routes[segment.segment_id])


def group_shard(plan: MixturePlan, group: GroupKey) -> ShardKey:
    """A group's rows all go to one shard: group index modulo the bucket's shards."""
    bucket, index = group
    return bucket, index % plan.shards[bucket]


def _order_key(row: tuple[str, PlannedRow, int], bucket: int, seed: int, shuffle: bool
               ) -> tuple:
    """A row's place in its shard: the seeded shuffle rank of its copy key or, unshuffled,
    its document ids as the row will hold them (a padded row ends with the pad id)."""
    key, planned, used = row
    if shuffle:
        return shuffle_rank(seed, key), key
    doc_ids = [segment_id for segment_id, _ in planned] + ([PAD_DOC_ID] if used < bucket
                                                            else [])
    return "|".join(doc_ids), key
